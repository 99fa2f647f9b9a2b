/*
 * store.c — picks the backend from the database URL and forwards every call
 * of store.h to that backend's table of operations.
 */
#include <string.h>

#include "store/store_int.h"
#include "util/util.h"

enum cc_err cc_store_open(const struct cc_store_config *cfg, struct cc_store **out,
                          struct cc_error *err)
{
    const char *url = cfg->url;
    struct cc_store *s = cc_calloc(1, sizeof *s);
    enum cc_err rc;
    if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0) {
        rc = cc_error_set(err, CC_ERR_CONFIG, NULL,
                          "PostgreSQL is not supported by this build yet; use sqlite:PATH");
    } else {
        const char *path = strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
        rc = cc_sqlite_open(cfg, path, s, err);
    }
    if (rc) {
        cc_free(s);
        return rc;
    }
    *out = s;
    return CC_OK;
}

void cc_store_close(struct cc_store *s)
{
    if (!s)
        return;
    s->ops->close(s->impl);
    cc_free(s);
}

enum cc_err cc_store_migrate(struct cc_store *s, struct cc_error *err)
{
    return s->ops->migrate(s->impl, err);
}

enum cc_err cc_store_ping(struct cc_store *s, struct cc_error *err)
{
    return s->ops->ping(s->impl, err);
}

enum cc_err cc_store_write(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err)
{
    return s->ops->write(s, fn, arg, err);
}

void cc_store_thread_done(struct cc_store *s)
{
    s->ops->thread_done(s->impl);
}

enum cc_err cc_store_data_version(struct cc_store *s, int64_t *v, struct cc_error *err)
{
    return s->ops->data_version(s->impl, v, err);
}

enum cc_err cc_store_account_get(struct cc_store *s, int64_t id, char *name, size_t namesz,
                                 struct cc_error *err)
{
    return s->ops->account_get(s->impl, id, name, namesz, err);
}

enum cc_err cc_store_key_get(struct cc_store *s, const char *key_id, struct cc_access_key *out,
                             struct cc_error *err)
{
    return s->ops->key_get(s->impl, key_id, out, err);
}

enum cc_err cc_store_key_list(struct cc_store *s, int64_t account_id,
                              struct cc_access_key **out, size_t *n, struct cc_error *err)
{
    return s->ops->key_list(s->impl, account_id, out, n, err);
}

enum cc_err cc_store_contact_get(struct cc_store *s, int64_t account_id, int64_t id,
                                 struct cc_contact *out, struct cc_error *err)
{
    return s->ops->contact_get(s->impl, account_id, id, out, err);
}

enum cc_err cc_store_contact_list(struct cc_store *s, const struct cc_contact_query *q,
                                  struct cc_contact_page *out, struct cc_error *err)
{
    return s->ops->contact_list(s->impl, q, out, err);
}

enum cc_err cc_tx_account_insert(struct cc_tx *tx, const char *name, int64_t now,
                                 int64_t *id, struct cc_error *err)
{
    return tx->ops->tx_account_insert(tx->impl, name, now, id, err);
}

enum cc_err cc_tx_account_exists(struct cc_tx *tx, int64_t id, struct cc_error *err)
{
    return tx->ops->tx_account_exists(tx->impl, id, err);
}

enum cc_err cc_tx_key_insert(struct cc_tx *tx, const struct cc_access_key *k,
                             struct cc_error *err)
{
    return tx->ops->tx_key_insert(tx->impl, k, err);
}

enum cc_err cc_tx_key_disable(struct cc_tx *tx, int64_t account_id, const char *key_id,
                              int64_t now, struct cc_error *err)
{
    return tx->ops->tx_key_disable(tx->impl, account_id, key_id, now, err);
}

enum cc_err cc_tx_contact_get(struct cc_tx *tx, int64_t account_id, int64_t id,
                              struct cc_contact *out, struct cc_error *err)
{
    return tx->ops->tx_contact_get(tx->impl, account_id, id, out, err);
}

enum cc_err cc_tx_contact_count(struct cc_tx *tx, int64_t account_id, int64_t *n,
                                struct cc_error *err)
{
    return tx->ops->tx_contact_count(tx->impl, account_id, n, err);
}

enum cc_err cc_tx_contact_insert(struct cc_tx *tx, struct cc_contact *c, struct cc_error *err)
{
    return tx->ops->tx_contact_insert(tx->impl, c, err);
}

enum cc_err cc_tx_contact_update(struct cc_tx *tx, struct cc_contact *c, struct cc_error *err)
{
    return tx->ops->tx_contact_update(tx->impl, c, err);
}

enum cc_err cc_tx_contact_delete(struct cc_tx *tx, int64_t account_id, int64_t id,
                                 struct cc_error *err)
{
    return tx->ops->tx_contact_delete(tx->impl, account_id, id, err);
}

enum cc_err cc_tx_idem_get(struct cc_tx *tx, int64_t account_id, const char *key,
                           char *hash, int64_t *contact_id, struct cc_error *err)
{
    return tx->ops->tx_idem_get(tx->impl, account_id, key, hash, contact_id, err);
}

enum cc_err cc_tx_idem_put(struct cc_tx *tx, int64_t account_id, const char *key,
                           const char *hash, int64_t contact_id, int64_t now,
                           struct cc_error *err)
{
    return tx->ops->tx_idem_put(tx->impl, account_id, key, hash, contact_id, now, err);
}

enum cc_err cc_tx_audit(struct cc_tx *tx, int64_t account_id, const char *actor,
                        const char *action, const char *object_type, int64_t object_id,
                        const char *detail, int64_t now, struct cc_error *err)
{
    return tx->ops->tx_audit(tx->impl, account_id, actor, action, object_type, object_id,
                             detail, now, err);
}

enum cc_err cc_tx_verif_insert(struct cc_tx *tx, struct cc_verification *v, struct cc_error *err)
{
    return tx->ops->tx_verif_insert(tx->impl, v, err);
}

enum cc_err cc_tx_verif_get(struct cc_tx *tx, int64_t account_id, int64_t id,
                            struct cc_verification *out, struct cc_error *err)
{
    return tx->ops->tx_verif_get(tx->impl, account_id, id, out, err);
}

enum cc_err cc_tx_verif_latest(struct cc_tx *tx, int64_t account_id, int64_t contact_id,
                               const char *channel, struct cc_verification *out,
                               struct cc_error *err)
{
    return tx->ops->tx_verif_latest(tx->impl, account_id, contact_id, channel, out, err);
}

enum cc_err cc_tx_verif_update(struct cc_tx *tx, const struct cc_verification *v,
                               const char *failure, struct cc_error *err)
{
    return tx->ops->tx_verif_update(tx->impl, v, failure, err);
}

enum cc_err cc_tx_verif_supersede(struct cc_tx *tx, int64_t account_id, int64_t contact_id,
                                  const char *channel, int64_t except_id, struct cc_error *err)
{
    return tx->ops->tx_verif_supersede(tx->impl, account_id, contact_id, channel, except_id, err);
}

enum cc_err cc_tx_verif_counts(struct cc_tx *tx, int64_t account_id, const char *channel,
                               const char *target, int64_t hour_since, int64_t day_since,
                               struct cc_verif_counts *out, struct cc_error *err)
{
    return tx->ops->tx_verif_counts(tx->impl, account_id, channel, target, hour_since, day_since,
                                    out, err);
}

enum cc_err cc_tx_verif_confirmed_since(struct cc_tx *tx, int64_t account_id,
                                        const char *channel, const char *target, int64_t since,
                                        int64_t *at, struct cc_error *err)
{
    return tx->ops->tx_verif_confirmed_since(tx->impl, account_id, channel, target, since, at, err);
}

enum cc_err cc_tx_contact_set_verified(struct cc_tx *tx, int64_t account_id, int64_t contact_id,
                                       const char *channel, const char *target, int64_t at,
                                       struct cc_error *err)
{
    return tx->ops->tx_contact_set_verified(tx->impl, account_id, contact_id, channel, target, at,
                                            err);
}

enum cc_err cc_tx_event_insert(struct cc_tx *tx, struct cc_event *e, struct cc_error *err)
{
    return tx->ops->tx_event_insert(tx->impl, e, err);
}

enum cc_err cc_tx_event_set_skipped(struct cc_tx *tx, const struct cc_event *e,
                                    struct cc_error *err)
{
    return tx->ops->tx_event_set_skipped(tx->impl, e, err);
}

enum cc_err cc_tx_channel_health(struct cc_tx *tx, int64_t account_id, int64_t contact_id,
                                 const char *channel, int64_t webhook_id, const char *reason,
                                 int64_t at, struct cc_error *err)
{
    return tx->ops->tx_channel_health(tx->impl, account_id, contact_id, channel, webhook_id, reason,
                                      at, err);
}

enum cc_err cc_tx_notif_claim_dest(struct cc_tx *tx, int64_t account_id, const char *url,
                                   int64_t except_id, int64_t now, int64_t lease_ms, size_t max,
                                   struct cc_notification *out, size_t *n, struct cc_error *err)
{
    return tx->ops->tx_notif_claim_dest(tx->impl, account_id, url, except_id, now, lease_ms, max,
                                        out, n, err);
}

enum cc_err cc_tx_notif_insert(struct cc_tx *tx, struct cc_notification *n, struct cc_error *err)
{
    return tx->ops->tx_notif_insert(tx->impl, n, err);
}

enum cc_err cc_tx_notif_claim(struct cc_tx *tx, int64_t now, int64_t lease_ms, size_t max, struct cc_notification *out, size_t *n, struct cc_error *err)
{
    return tx->ops->tx_notif_claim(tx->impl, now, lease_ms, max, out, n, err);
}

enum cc_err cc_tx_notif_record(struct cc_tx *tx, const struct cc_notification *n, const struct cc_attempt *a, struct cc_error *err)
{
    return tx->ops->tx_notif_record(tx->impl, n, a, err);
}

enum cc_err cc_tx_notif_cancel_contact(struct cc_tx *tx, int64_t account_id, int64_t contact_id, int64_t now, struct cc_error *err)
{
    return tx->ops->tx_notif_cancel_contact(tx->impl, account_id, contact_id, now, err);
}

enum cc_err cc_tx_notif_resend(struct cc_tx *tx, int64_t account_id, int64_t id, int64_t now, struct cc_error *err)
{
    return tx->ops->tx_notif_resend(tx->impl, account_id, id, now, err);
}

enum cc_err cc_store_event_get(struct cc_store *s, int64_t account_id, int64_t id, struct cc_event *out, struct cc_error *err)
{
    return s->ops->event_get(s->impl, account_id, id, out, err);
}

enum cc_err cc_store_notif_list(struct cc_store *s, const struct cc_notif_filter *f, struct cc_notification **out, size_t *n, int64_t *total, struct cc_error *err)
{
    return s->ops->notif_list(s->impl, f, out, n, total, err);
}

enum cc_err cc_store_notif_get(struct cc_store *s, int64_t account_id, int64_t id, struct cc_notification *out, struct cc_error *err)
{
    return s->ops->notif_get(s->impl, account_id, id, out, err);
}

enum cc_err cc_store_attempts_list(struct cc_store *s, int64_t notification_id, struct cc_attempt **out, size_t *n, struct cc_error *err)
{
    return s->ops->attempts_list(s->impl, notification_id, out, n, err);
}

enum cc_err cc_store_notif_next_due(struct cc_store *s, int64_t *at, struct cc_error *err)
{
    return s->ops->notif_next_due(s->impl, at, err);
}

void cc_store_search_text(const struct cc_contact *c, char *out, size_t outsz)
{
    struct cc_buf b;
    cc_buf_init(&b, outsz ? outsz - 1 : 0);
    cc_buf_puts(&b, c->name);
    cc_buf_puts(&b, "\n");
    if (c->has_email)
        cc_buf_puts(&b, c->email_norm);
    cc_buf_puts(&b, "\n");
    cc_buf_puts(&b, c->mobile);
    cc_strlcpy(out, b.data ? b.data : "", outsz);
    cc_ascii_lower(out);
    cc_buf_free(&b);
}

enum cc_err cc_tx_template_put(struct cc_tx *tx, int64_t account_id, const struct cc_template *t,
                               struct cc_error *err)
{
    return tx->ops->tx_template_put(tx->impl, account_id, t, err);
}

enum cc_err cc_tx_template_delete(struct cc_tx *tx, int64_t account_id, const char *event_type,
                                  const char *channel, const char *language,
                                  struct cc_error *err)
{
    return tx->ops->tx_template_delete(tx->impl, account_id, event_type, channel, language, err);
}

enum cc_err cc_store_template_get(struct cc_store *s, int64_t account_id, const char *event_type,
                                  const char *channel, const char *language, char *title,
                                  size_t titlesz, char *body, size_t bodysz,
                                  struct cc_error *err)
{
    return s->ops->template_get(s->impl, account_id, event_type, channel, language, title,
                                titlesz, body, bodysz, err);
}

enum cc_err cc_store_template_list(struct cc_store *s, int64_t account_id,
                                   struct cc_template **out, size_t *n, struct cc_error *err)
{
    return s->ops->template_list(s->impl, account_id, out, n, err);
}

enum cc_err cc_store_user_get(struct cc_store *s, int64_t id, struct cc_user *out,
                              struct cc_error *err)
{
    return s->ops->user_get(s->impl, id, out, err);
}

enum cc_err cc_store_user_by_email(struct cc_store *s, const char *email_norm,
                                   struct cc_user *out, struct cc_error *err)
{
    return s->ops->user_by_email(s->impl, email_norm, out, err);
}

enum cc_err cc_store_user_list(struct cc_store *s, int64_t account_id, struct cc_user **out,
                               size_t *n, struct cc_error *err)
{
    return s->ops->user_list(s->impl, account_id, out, n, err);
}

enum cc_err cc_store_session_get(struct cc_store *s, const char *token_hash,
                                 struct cc_session *sess, struct cc_user *user,
                                 struct cc_error *err)
{
    return s->ops->session_get(s->impl, token_hash, sess, user, err);
}

enum cc_err cc_store_sign_in_failures(struct cc_store *s, const char *email_norm,
                                      struct cc_sign_in_failures *out, struct cc_error *err)
{
    return s->ops->sign_in_failures(s->impl, email_norm, out, err);
}

enum cc_err cc_tx_user_insert(struct cc_tx *tx, struct cc_user *u, struct cc_error *err)
{
    return tx->ops->tx_user_insert(tx->impl, u, err);
}

enum cc_err cc_tx_user_update(struct cc_tx *tx, const struct cc_user *u, struct cc_error *err)
{
    return tx->ops->tx_user_update(tx->impl, u, err);
}

enum cc_err cc_tx_user_delete(struct cc_tx *tx, int64_t account_id, int64_t id,
                              struct cc_error *err)
{
    return tx->ops->tx_user_delete(tx->impl, account_id, id, err);
}

enum cc_err cc_tx_session_insert(struct cc_tx *tx, const struct cc_session *sess,
                                 struct cc_error *err)
{
    return tx->ops->tx_session_insert(tx->impl, sess, err);
}

enum cc_err cc_tx_session_delete(struct cc_tx *tx, const char *token_hash, int64_t user_id,
                                 struct cc_error *err)
{
    return tx->ops->tx_session_delete(tx->impl, token_hash, user_id, err);
}

enum cc_err cc_tx_session_touch(struct cc_tx *tx, const char *token_hash, int64_t now,
                                struct cc_error *err)
{
    return tx->ops->tx_session_touch(tx->impl, token_hash, now, err);
}

enum cc_err cc_tx_sign_in_failure(struct cc_tx *tx, const char *email_norm, int64_t now,
                                  int64_t window_ms, int64_t max_failures, int64_t lock_ms,
                                  struct cc_sign_in_failures *out, struct cc_error *err)
{
    return tx->ops->tx_sign_in_failure(tx->impl, email_norm, now, window_ms, max_failures,
                                       lock_ms, out, err);
}

enum cc_err cc_tx_sign_in_clear(struct cc_tx *tx, const char *email_norm, struct cc_error *err)
{
    return tx->ops->tx_sign_in_clear(tx->impl, email_norm, err);
}
