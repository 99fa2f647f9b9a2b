/*
 * store_int.h — what the backends share inside store/: one table of
 * operations per aggregate, generated from the aggregate's list, the
 * backend's table that holds them with the store's own lifecycle, and the
 * two structs store.c hands out.
 */
#ifndef CC_STORE_INT_H
#define CC_STORE_INT_H

#include "store/store.h"

/* X for a list: the member of an aggregate's table for one operation. The
 * first argument is the backend's own state: its store (read) or its
 * transaction (tx). */
#define CC_STORE_OP_MEMBER(kind, name, params, args)                                       \
    enum cc_err (*kind##_##name)(void *h, CC_STORE_UNPAREN params);

/* X for a list, in a backend's file for the aggregate: fills the table with
 * the file's static functions read_<name> and tx_<name>. */
#define CC_STORE_OP_INIT(kind, name, params, args) .kind##_##name = kind##_##name,

struct cc_store_account_ops { CC_STORE_ACCOUNT_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_contact_ops { CC_STORE_CONTACT_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_verif_ops { CC_STORE_VERIF_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_outbox_ops { CC_STORE_OUTBOX_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_template_ops { CC_STORE_TEMPLATE_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_user_ops { CC_STORE_USER_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_audit_ops { CC_STORE_AUDIT_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_application_ops { CC_STORE_APPLICATION_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_certificate_ops { CC_STORE_CERTIFICATE_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_reminder_ops { CC_STORE_REMINDER_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_sealed_ops { CC_STORE_SEALED_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_endpoint_ops { CC_STORE_ENDPOINT_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_acme_ops { CC_STORE_ACME_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_stats_ops { CC_STORE_STATS_OPS(CC_STORE_OP_MEMBER) };
struct cc_store_import_ops { CC_STORE_IMPORT_OPS(CC_STORE_OP_MEMBER) };

struct cc_store_ops {
    const char *name;
    void (*close)(void *impl);
    enum cc_err (*migrate)(void *impl, struct cc_error *err);
    enum cc_err (*ping)(void *impl, struct cc_error *err);
    enum cc_err (*lead)(void *impl, const char *job, int *leader, struct cc_error *err);
    enum cc_err (*meta_get)(void *impl, const char *name, char *out, size_t outsz,
                            struct cc_error *err);
    enum cc_err (*meta_set)(struct cc_store *s, const char *name, const char *value,
                            struct cc_error *err);
    /* flags: CC_STORE_WRITE_* (store.h) */
    enum cc_err (*write)(struct cc_store *s, cc_tx_fn fn, void *arg, unsigned flags,
                         struct cc_error *err);
    /* NULL: no write queue (cc_store_write_queued answers CC_ERR_UNSUPPORTED_OPERATION) */
    enum cc_err (*write_queued)(struct cc_store *s, cc_tx_fn fn, void *arg, unsigned flags,
                                cc_write_done_fn done, void *done_arg, struct cc_error *err);
    enum cc_err (*read)(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err);
    void (*thread_done)(void *impl);
    void (*read_hold)(void *impl, int on); /* NULL: nothing to hold */
    /* NULL: no mark (cc_store_read_mark answers CC_ERR_UNSUPPORTED_OPERATION) */
    enum cc_err (*read_mark)(void *impl, struct cc_read_mark *mark, struct cc_error *err);
    int shared;
    enum cc_err (*state_update)(struct cc_store *s, const char *name, int64_t now_ms,
                                cc_state_fn fn, void *ctx, struct cc_error *err);
    enum cc_err (*nonce_take)(struct cc_store *s, const char *scope, const char *nonce,
                              int64_t expires_ms, int64_t now_ms, int64_t per_key,
                              int *verdict, int64_t *retry_ms, struct cc_error *err);

    const struct cc_store_account_ops *accounts;
    const struct cc_store_contact_ops *contacts;
    const struct cc_store_verif_ops *verifs;
    const struct cc_store_outbox_ops *outbox;
    const struct cc_store_template_ops *templates;
    const struct cc_store_user_ops *users;
    const struct cc_store_audit_ops *audit;
    const struct cc_store_application_ops *applications;
    const struct cc_store_certificate_ops *certificates;
    const struct cc_store_reminder_ops *reminders;
    const struct cc_store_sealed_ops *sealed;
    const struct cc_store_endpoint_ops *endpoints;
    const struct cc_store_acme_ops *acme;
    const struct cc_store_stats_ops *stats;
    const struct cc_store_import_ops *imports;
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
enum cc_err cc_sqlite_check(const char *path, void (*line)(void *arg, const char *text),
                            void *arg, struct cc_error *err);
enum cc_err cc_sqlite_backup(const char *path, const char *dest,
                             const struct cc_backup_progress *pr, int64_t *bytes,
                             struct cc_error *err);

enum cc_err cc_pg_open(const struct cc_store_config *cfg, struct cc_store *s,
                       struct cc_error *err);
enum cc_err cc_pg_check(const struct cc_store_config *cfg,
                        void (*line)(void *arg, const char *text), void *arg,
                        struct cc_error *err);

/* The search text of a contact: lower-cased name, email and mobile. */
void cc_store_search_text(const struct cc_contact *c, char *out, size_t outsz);

#endif
