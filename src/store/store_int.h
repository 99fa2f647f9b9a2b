/*
 * store_int.h — what the backends share inside store/: the table of
 * operations each backend fills in, and the two structs store.c hands out.
 */
#ifndef CC_STORE_INT_H
#define CC_STORE_INT_H

#include "store/store.h"

struct cc_store_ops {
    const char *name;
    void (*close)(void *impl);
    enum cc_err (*migrate)(void *impl, struct cc_error *err);
    enum cc_err (*ping)(void *impl, struct cc_error *err);
    enum cc_err (*write)(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err);
    void (*thread_done)(void *impl);

    enum cc_err (*data_version)(void *impl, int64_t *v, struct cc_error *err);
    enum cc_err (*account_get)(void *impl, int64_t id, char *name, size_t namesz,
                               struct cc_error *err);
    enum cc_err (*key_get)(void *impl, const char *key_id, struct cc_access_key *out,
                           struct cc_error *err);
    enum cc_err (*key_list)(void *impl, int64_t account_id, struct cc_access_key **out,
                            size_t *n, struct cc_error *err);
    enum cc_err (*contact_get)(void *impl, int64_t account_id, int64_t id,
                               struct cc_contact *out, struct cc_error *err);
    enum cc_err (*contact_list)(void *impl, const struct cc_contact_query *q,
                                struct cc_contact_page *out, struct cc_error *err);

    enum cc_err (*tx_account_insert)(void *tx, const char *name, int64_t now, int64_t *id,
                                     struct cc_error *err);
    enum cc_err (*tx_account_exists)(void *tx, int64_t id, struct cc_error *err);
    enum cc_err (*tx_key_insert)(void *tx, const struct cc_access_key *k, struct cc_error *err);
    enum cc_err (*tx_key_disable)(void *tx, int64_t account_id, const char *key_id,
                                  int64_t now, struct cc_error *err);
    enum cc_err (*tx_contact_get)(void *tx, int64_t account_id, int64_t id,
                                  struct cc_contact *out, struct cc_error *err);
    enum cc_err (*tx_contact_count)(void *tx, int64_t account_id, int64_t *n,
                                    struct cc_error *err);
    enum cc_err (*tx_contact_insert)(void *tx, struct cc_contact *c, struct cc_error *err);
    enum cc_err (*tx_contact_update)(void *tx, struct cc_contact *c, struct cc_error *err);
    enum cc_err (*tx_contact_delete)(void *tx, int64_t account_id, int64_t id,
                                     struct cc_error *err);
    enum cc_err (*tx_idem_get)(void *tx, int64_t account_id, const char *key, char *hash,
                               int64_t *contact_id, struct cc_error *err);
    enum cc_err (*tx_idem_put)(void *tx, int64_t account_id, const char *key,
                               const char *hash, int64_t contact_id, int64_t now,
                               struct cc_error *err);
    enum cc_err (*tx_audit)(void *tx, int64_t account_id, const char *actor,
                            const char *action, const char *object_type, int64_t object_id,
                            const char *detail, int64_t now, struct cc_error *err);
    enum cc_err (*tx_verif_insert)(void *tx, struct cc_verification *v, struct cc_error *err);
    enum cc_err (*tx_verif_get)(void *tx, int64_t account_id, int64_t id,
                                struct cc_verification *out, struct cc_error *err);
    enum cc_err (*tx_verif_latest)(void *tx, int64_t account_id, int64_t contact_id,
                                   const char *channel, struct cc_verification *out,
                                   struct cc_error *err);
    enum cc_err (*tx_verif_update)(void *tx, const struct cc_verification *v,
                                   const char *failure, struct cc_error *err);
    enum cc_err (*tx_verif_supersede)(void *tx, int64_t account_id, int64_t contact_id,
                                      const char *channel, int64_t except_id,
                                      struct cc_error *err);
    enum cc_err (*tx_verif_counts)(void *tx, int64_t account_id, const char *channel,
                                   const char *target, int64_t hour_since, int64_t day_since,
                                   struct cc_verif_counts *out, struct cc_error *err);
    enum cc_err (*tx_verif_confirmed_since)(void *tx, int64_t account_id, const char *channel,
                                            const char *target, int64_t since, int64_t *at,
                                            struct cc_error *err);
    enum cc_err (*tx_contact_set_verified)(void *tx, int64_t account_id, int64_t contact_id,
                                           const char *channel, const char *target, int64_t at,
                                           struct cc_error *err);
    enum cc_err (*tx_event_insert)(void *tx, struct cc_event *e, struct cc_error *err);
    enum cc_err (*tx_event_set_skipped)(void *tx, const struct cc_event *e, struct cc_error *err);
    enum cc_err (*tx_channel_health)(void *tx, int64_t account_id, int64_t contact_id,
                                     const char *channel, int64_t webhook_id, const char *reason,
                                     int64_t at, struct cc_error *err);
    enum cc_err (*tx_notif_claim_dest)(void *tx, int64_t account_id, const char *url,
                                       int64_t except_id, int64_t now, int64_t lease_ms,
                                       size_t max, struct cc_notification *out, size_t *n,
                                       struct cc_error *err);
    enum cc_err (*tx_notif_insert)(void *tx, struct cc_notification *n, struct cc_error *err);
    enum cc_err (*tx_notif_claim)(void *tx, int64_t now, int64_t lease_ms, size_t max, struct cc_notification *out, size_t *n, struct cc_error *err);
    enum cc_err (*tx_notif_record)(void *tx, const struct cc_notification *n, const struct cc_attempt *a, struct cc_error *err);
    enum cc_err (*tx_notif_cancel_contact)(void *tx, int64_t account_id, int64_t contact_id, int64_t now, struct cc_error *err);
    enum cc_err (*tx_notif_resend)(void *tx, int64_t account_id, int64_t id, int64_t now, struct cc_error *err);
    enum cc_err (*event_get)(void *impl, int64_t account_id, int64_t id, struct cc_event *out, struct cc_error *err);
    enum cc_err (*notif_list)(void *impl, const struct cc_notif_filter *f, struct cc_notification **out, size_t *n, int64_t *total, struct cc_error *err);
    enum cc_err (*notif_get)(void *impl, int64_t account_id, int64_t id, struct cc_notification *out, struct cc_error *err);
    enum cc_err (*attempts_list)(void *impl, int64_t notification_id, struct cc_attempt **out, size_t *n, struct cc_error *err);
    enum cc_err (*notif_next_due)(void *impl, int64_t *at, struct cc_error *err);
    enum cc_err (*tx_template_put)(void *tx, int64_t account_id, const struct cc_template *t,
                                   struct cc_error *err);
    enum cc_err (*tx_template_delete)(void *tx, int64_t account_id, const char *event_type,
                                      const char *channel, const char *language,
                                      struct cc_error *err);
    enum cc_err (*template_get)(void *impl, int64_t account_id, const char *event_type,
                                const char *channel, const char *language, char *title,
                                size_t titlesz, char *body, size_t bodysz, struct cc_error *err);
    enum cc_err (*template_list)(void *impl, int64_t account_id, struct cc_template **out,
                                 size_t *n, struct cc_error *err);
    enum cc_err (*user_get)(void *impl, int64_t id, struct cc_user *out, struct cc_error *err);
    enum cc_err (*user_by_email)(void *impl, const char *email_norm, struct cc_user *out,
                                 struct cc_error *err);
    enum cc_err (*user_list)(void *impl, int64_t account_id, struct cc_user **out, size_t *n,
                             struct cc_error *err);
    enum cc_err (*session_get)(void *impl, const char *token_hash, struct cc_session *sess,
                               struct cc_user *user, struct cc_error *err);
    enum cc_err (*sign_in_failures)(void *impl, const char *email_norm,
                                    struct cc_sign_in_failures *out, struct cc_error *err);
    enum cc_err (*tx_user_insert)(void *tx, struct cc_user *u, struct cc_error *err);
    enum cc_err (*tx_user_update)(void *tx, const struct cc_user *u, struct cc_error *err);
    enum cc_err (*tx_user_delete)(void *tx, int64_t account_id, int64_t id, struct cc_error *err);
    enum cc_err (*tx_session_insert)(void *tx, const struct cc_session *sess,
                                     struct cc_error *err);
    enum cc_err (*tx_session_delete)(void *tx, const char *token_hash, int64_t user_id,
                                     struct cc_error *err);
    enum cc_err (*tx_session_touch)(void *tx, const char *token_hash, int64_t now,
                                    struct cc_error *err);
    enum cc_err (*tx_sign_in_failure)(void *tx, const char *email_norm, int64_t now,
                                      int64_t window_ms, int64_t max_failures, int64_t lock_ms,
                                      struct cc_sign_in_failures *out, struct cc_error *err);
    enum cc_err (*tx_sign_in_clear)(void *tx, const char *email_norm, struct cc_error *err);
};

struct cc_store {
    const struct cc_store_ops *ops;
    void *impl;
};

/* A transaction handed to a cc_tx_fn: the backend's own state behind impl. */
struct cc_tx {
    const struct cc_store_ops *ops;
    void *impl;
};

/* Backends. */
enum cc_err cc_sqlite_open(const struct cc_store_config *cfg, const char *path,
                           struct cc_store *s, struct cc_error *err);

/* The search text of a contact: lower-cased name, email and mobile. */
void cc_store_search_text(const struct cc_contact *c, char *out, size_t outsz);

#endif
