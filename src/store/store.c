/*
 * store.c — picks the backend from the database URL and forwards every call
 * of store.h to that backend's tables of operations: the store's own
 * lifecycle by hand, every aggregate's operations generated from its list.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "store/store_int.h"
#include "util/util.h"

static int is_postgres(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

/* The SQLite path of url. */
static const char *sqlite_path(const char *url)
{
    return strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
}

enum cc_err cc_store_open(const struct cc_store_config *cfg, struct cc_store **out,
                          struct cc_error *err)
{
    struct cc_store *s = cc_calloc(1, sizeof *s);
    enum cc_err rc = is_postgres(cfg->url) ? cc_pg_open(cfg, s, err)
                                           : cc_sqlite_open(cfg, sqlite_path(cfg->url), s, err);
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

enum cc_err cc_store_check(const struct cc_store_config *cfg,
                           void (*line)(void *arg, const char *text), void *arg,
                           struct cc_error *err)
{
    if (is_postgres(cfg->url))
        return cc_pg_check(cfg, line, arg, err);
    return cc_sqlite_check(sqlite_path(cfg->url), line, arg, err);
}

enum cc_err cc_store_backup(const char *url, const char *dest,
                            const struct cc_backup_progress *pr, int64_t *bytes,
                            struct cc_error *err)
{
    if (is_postgres(url))
        return cc_error_set(err, CC_ERR_CONFIG, NULL,
                            "the database is PostgreSQL: back it up with pg_dump and restore "
                            "it with pg_restore (see docs/operations.md)");
    return cc_sqlite_backup(sqlite_path(url), dest, pr, bytes, err);
}

enum cc_err cc_store_meta_get(struct cc_store *s, const char *name, char *out, size_t outsz,
                              struct cc_error *err)
{
    return s->ops->meta_get(s->impl, name, out, outsz, err);
}

enum cc_err cc_store_meta_set(struct cc_store *s, const char *name, const char *value,
                              struct cc_error *err)
{
    return s->ops->meta_set(s, name, value, err);
}

enum cc_err cc_store_lead(struct cc_store *s, const char *job, int *leader,
                          struct cc_error *err)
{
    return s->ops->lead(s->impl, job, leader, err);
}

int cc_store_shared(const struct cc_store *s)
{
    return s->ops->shared;
}

/* The limits of the state and nonce calls, checked once for both backends. */
static enum cc_err shared_args(const char *a, size_t amax, const char *b, size_t bmax,
                               struct cc_error *err)
{
    if (!a || !a[0] || strlen(a) > amax || (b && (!b[0] || strlen(b) > bmax)))
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "The name of a shared limit is not valid.");
    return CC_OK;
}

enum cc_err cc_store_state_update(struct cc_store *s, const char *name, int64_t now_ms,
                                  cc_state_fn fn, void *ctx, struct cc_error *err)
{
    if (shared_args(name, 128, NULL, 0, err))
        return CC_ERR_INTERNAL;
    return s->ops->state_update(s, name, now_ms, fn, ctx, err);
}

enum cc_err cc_store_nonce_take(struct cc_store *s, const char *scope, const char *nonce,
                                int64_t expires_ms, int64_t now_ms, int64_t per_key,
                                int *verdict, int64_t *retry_ms, struct cc_error *err)
{
    *verdict = CC_NONCE_REPLAY;
    *retry_ms = 0;
    if (shared_args(scope, 64, nonce, 128, err))
        return CC_ERR_INTERNAL;
    return s->ops->nonce_take(s, scope, nonce, expires_ms, now_ms, per_key > 0 ? per_key : 1,
                              verdict, retry_ms, err);
}

const char *cc_store_backend(const struct cc_store *s)
{
    return s->ops->name;
}

enum cc_err cc_store_ping(struct cc_store *s, struct cc_error *err)
{
    return s->ops->ping(s->impl, err);
}

enum cc_err cc_store_write(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err)
{
    return s->ops->write(s, fn, arg, 0, err);
}

enum cc_err cc_store_write_relaxed(struct cc_store *s, cc_tx_fn fn, void *arg,
                                   struct cc_error *err)
{
    return s->ops->write(s, fn, arg, CC_STORE_WRITE_RELAXED, err);
}

enum cc_err cc_store_write_checks_first(struct cc_store *s, cc_tx_fn fn, void *arg,
                                        struct cc_error *err)
{
    return s->ops->write(s, fn, arg, CC_STORE_WRITE_CHECKS_FIRST, err);
}

int cc_store_queues_writes(const struct cc_store *s)
{
    return s->ops->write_queued != NULL;
}

enum cc_err cc_store_write_queued(struct cc_store *s, cc_tx_fn fn, void *arg, unsigned flags,
                                  cc_write_done_fn done, void *done_arg, struct cc_error *err)
{
    if (!s->ops->write_queued)
        return cc_error_set(err, CC_ERR_UNSUPPORTED_OPERATION, NULL,
                            "this store does not queue writes");
    return s->ops->write_queued(s, fn, arg, flags, done, done_arg, err);
}

enum cc_err cc_store_read(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err)
{
    return s->ops->read(s, fn, arg, err);
}

void cc_store_read_hold(struct cc_store *s, int on)
{
    if (s->ops->read_hold)
        s->ops->read_hold(s->impl, on);
}

enum cc_err cc_store_read_mark(struct cc_store *s, struct cc_read_mark *mark,
                               struct cc_error *err)
{
    memset(mark, 0, sizeof *mark);
    if (!s->ops->read_mark)
        return cc_error_set(err, CC_ERR_UNSUPPORTED_OPERATION, NULL,
                            "this database gives no read mark");
    return s->ops->read_mark(s->impl, mark, err);
}

void cc_store_thread_done(struct cc_store *s)
{
    s->ops->thread_done(s->impl);
}

/* ---- the operations of every aggregate, forwarded to the backend --------- */
#define FORWARD(agg, kind, name, params, args)                                             \
    enum cc_err CC_STORE_PUBLIC(kind, name)(CC_STORE_HANDLE_##kind h,                      \
                                            CC_STORE_UNPAREN params)                       \
    {                                                                                      \
        return h->ops->agg->kind##_##name(h->impl, CC_STORE_UNPAREN args);                 \
    }
#define FORWARD_ACCOUNTS(kind, name, params, args) FORWARD(accounts, kind, name, params, args)
#define FORWARD_CONTACTS(kind, name, params, args) FORWARD(contacts, kind, name, params, args)
#define FORWARD_VERIFS(kind, name, params, args) FORWARD(verifs, kind, name, params, args)
#define FORWARD_OUTBOX(kind, name, params, args) FORWARD(outbox, kind, name, params, args)
#define FORWARD_TEMPLATES(kind, name, params, args) FORWARD(templates, kind, name, params, args)
#define FORWARD_USERS(kind, name, params, args) FORWARD(users, kind, name, params, args)
#define FORWARD_AUDIT(kind, name, params, args) FORWARD(audit, kind, name, params, args)
#define FORWARD_APPLICATIONS(kind, name, params, args) FORWARD(applications, kind, name, params, args)
#define FORWARD_CERTIFICATES(kind, name, params, args)                                    \
    FORWARD(certificates, kind, name, params, args)

CC_STORE_ACCOUNT_OPS(FORWARD_ACCOUNTS)
CC_STORE_CONTACT_OPS(FORWARD_CONTACTS)
CC_STORE_VERIF_OPS(FORWARD_VERIFS)
CC_STORE_OUTBOX_OPS(FORWARD_OUTBOX)
CC_STORE_TEMPLATE_OPS(FORWARD_TEMPLATES)
CC_STORE_USER_OPS(FORWARD_USERS)
CC_STORE_AUDIT_OPS(FORWARD_AUDIT)
CC_STORE_APPLICATION_OPS(FORWARD_APPLICATIONS)
CC_STORE_CERTIFICATE_OPS(FORWARD_CERTIFICATES)
#define FORWARD_REMINDERS(kind, name, params, args) FORWARD(reminders, kind, name, params, args)
CC_STORE_REMINDER_OPS(FORWARD_REMINDERS)
#define FORWARD_SEALED(kind, name, params, args) FORWARD(sealed, kind, name, params, args)
CC_STORE_SEALED_OPS(FORWARD_SEALED)
#define FORWARD_ENDPOINTS(kind, name, params, args) FORWARD(endpoints, kind, name, params, args)
CC_STORE_ENDPOINT_OPS(FORWARD_ENDPOINTS)
#define FORWARD_ACME(kind, name, params, args) FORWARD(acme, kind, name, params, args)
CC_STORE_ACME_OPS(FORWARD_ACME)
#define FORWARD_STATS(kind, name, params, args) FORWARD(stats, kind, name, params, args)
CC_STORE_STATS_OPS(FORWARD_STATS)
#define FORWARD_IMPORTS(kind, name, params, args) FORWARD(imports, kind, name, params, args)
CC_STORE_IMPORT_OPS(FORWARD_IMPORTS)

void cc_sealed_values_free(struct cc_sealed_value *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        if (v[i].blob)
            OPENSSL_cleanse(v[i].blob, v[i].len);
        cc_free(v[i].blob);
    }
    cc_free(v);
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
