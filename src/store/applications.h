/*
 * applications.h — the store's certificate applications, the history of
 * their state changes (migration 0011) and the idempotency keys of their
 * submission (migration 0014), and the validation type an application names
 * (migration 0019). See store_ops.h for how the list
 * becomes functions.
 */
#ifndef CC_STORE_APPLICATIONS_H
#define CC_STORE_APPLICATIONS_H

#include "store/store_ops.h"

/* A page of an account's applications; NULL filters match everything. */
struct cc_app_query {
    int64_t account_id;
    const char *state;        /* a state name */
    int64_t contact_id;       /* 0: any */
    const char *domain;       /* an A-label name the application holds */
    const char *product;      /* a product code */
    int64_t page;             /* from 1 */
    int64_t page_size;
};

#define CC_STORE_APPLICATION_OPS(X)                                                        \
    /* Inserts a (state, product, domains, csr, contact, validate_type); sets a->id. */   \
    X(tx, app_insert, (struct cc_application *a, struct cc_error *err), (a, err))          \
    /* The application; CC_ERR_NOT_FOUND when the account has no such id. *out owns its   \
     * strings: cc_application_clear(). */                                                 \
    X(tx, app_get,                                                                         \
      (int64_t account_id, int64_t id, struct cc_application *out, struct cc_error *err),  \
      (account_id, id, out, err))                                                          \
    /* Writes a's state, certificate_pem, version and updated_at, where the stored        \
     * version is a->version - 1 (else CC_ERR_UPDATE_CONFLICT). */                         \
    X(tx, app_update_state, (const struct cc_application *a, struct cc_error *err),        \
      (a, err))                                                                            \
    /* Appends t to its application's history; sets t->id. */                              \
    X(tx, app_transition_add, (struct cc_app_transition *t, struct cc_error *err), (t, err)) \
    X(read, app_get,                                                                       \
      (int64_t account_id, int64_t id, struct cc_application *out, struct cc_error *err),  \
      (account_id, id, out, err))                                                          \
    /* One page matching q, newest first, and the number matching. *out (n of them) is   \
     * owned by the caller: cc_application_clear() each, then cc_free(). */                \
    X(read, app_list,                                                                      \
      (const struct cc_app_query *q, struct cc_application **out, size_t *n,               \
       int64_t *total, struct cc_error *err),                                              \
      (q, out, n, total, err))                                                             \
    /* The history of application id, oldest first (at most CC_APP_HISTORY_MAX). *out is \
     * owned by the caller: cc_free(). */                                                  \
    X(read, app_history,                                                                   \
      (int64_t application_id, struct cc_app_transition **out, size_t *n,                  \
       struct cc_error *err),                                                              \
      (application_id, out, n, err))                                                       \
    /* The open applications (submitted, pending_validation, approved) of the account     \
     * that name contact_id, newest first: at most max into *out (id, contact_id, product,\
     * state, domains, version, times; no CSR or PEM), and *total, how many there are.   \
     * *out (n of them) is owned by the caller: cc_application_clear() each, cc_free(). */ \
    X(tx, app_open_for_contact,                                                            \
      (int64_t account_id, int64_t contact_id, size_t max, struct cc_application **out,   \
       size_t *n, int64_t *total, struct cc_error *err),                                   \
      (account_id, contact_id, max, out, n, total, err))                                   \
    X(read, app_open_for_contact,                                                          \
      (int64_t account_id, int64_t contact_id, size_t max, struct cc_application **out,   \
       size_t *n, int64_t *total, struct cc_error *err),                                   \
      (account_id, contact_id, max, out, n, total, err))                                   \
    /* Makes every open application of the account that names `from` name `to`: version  \
     * +1, updated_at now, and a history row each (its state to itself, by actor, with   \
     * reason). *n is how many moved. */                                                   \
    X(tx, app_reassign_open,                                                               \
      (int64_t account_id, int64_t from, int64_t to, const char *actor, const char *reason, \
       int64_t now, int64_t *n, struct cc_error *err),                                     \
      (account_id, from, to, actor, reason, now, n, err))                                  \
    /* The idempotency keys of application submission (migration 0014): CC_ERR_NOT_FOUND \
     * when the key was never used; hash: 65 bytes. */                                     \
    X(tx, app_idem_get,                                                                    \
      (int64_t account_id, const char *key, char *hash, int64_t *application_id,          \
       struct cc_error *err),                                                              \
      (account_id, key, hash, application_id, err))                                        \
    X(tx, app_idem_put,                                                                    \
      (int64_t account_id, const char *key, const char *hash, int64_t application_id,     \
       int64_t now, struct cc_error *err),                                                 \
      (account_id, key, hash, application_id, now, err))

/* An application changes state at most five times; the cap only bounds the read. */
#define CC_APP_HISTORY_MAX 32

CC_STORE_APPLICATION_OPS(CC_STORE_DECLARE)

#endif
