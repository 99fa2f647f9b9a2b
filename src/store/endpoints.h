/*
 * endpoints.h — the store's watched endpoints: each TLS server with the
 * contacts told of its alerts, what its last check saw, the alerts raised
 * now and when the next check falls due; the due ones the checker takes;
 * and the newest known certificate for the names an endpoint serves. The
 * service decides every rule (service/endpoints.c). See store_ops.h for how
 * the list becomes functions.
 */
#ifndef CC_STORE_ENDPOINTS_H
#define CC_STORE_ENDPOINTS_H

#include "store/store_ops.h"

#define CC_STORE_ENDPOINT_OPS(X)                                                           \
    /* Saves a new endpoint e (host, port, sni, contacts, times); *id is set. The same    \
     * host, port and sni twice in an account is CC_ERR_ALREADY_EXISTS, field "Host". */  \
    X(tx, endpoint_insert, (const struct cc_endpoint *e, int64_t *id, struct cc_error *err),\
      (e, id, err))                                                                        \
    /* The endpoint with its contacts and last check. Owned members of *out:              \
     * cc_endpoint_clear(). CC_ERR_NOT_FOUND when the account has no such one. */          \
    X(read, endpoint_get,                                                                  \
      (int64_t account_id, int64_t id, struct cc_endpoint *out, struct cc_error *err),    \
      (account_id, id, out, err))                                                          \
    X(tx, endpoint_get,                                                                    \
      (int64_t account_id, int64_t id, struct cc_endpoint *out, struct cc_error *err),    \
      (account_id, id, out, err))                                                          \
    /* How many endpoints the account has. */                                              \
    X(tx, endpoint_count, (int64_t account_id, int64_t *n, struct cc_error *err),          \
      (account_id, n, err))                                                                \
    /* Replaces the endpoint's contacts with ids (n, contacts of the account: the caller  \
     * has checked) and writes updated_at. */                                              \
    X(tx, endpoint_contacts_set,                                                           \
      (int64_t id, const int64_t *ids, size_t n, int64_t now, struct cc_error *err),       \
      (id, ids, n, now, err))                                                              \
    /* CC_ERR_NOT_FOUND when the account has no such endpoint. */                          \
    X(tx, endpoint_delete, (int64_t account_id, int64_t id, struct cc_error *err),         \
      (account_id, id, err))                                                               \
    /* One page of the account's endpoints by id; *total counts them all. *out is owned   \
     * by the caller: cc_endpoint_clear() each, then cc_free(). */                         \
    X(read, endpoint_list,                                                                 \
      (int64_t account_id, int64_t page, int64_t page_size, struct cc_endpoint **out,      \
       size_t *n, int64_t *total, struct cc_error *err),                                   \
      (account_id, page, page_size, out, n, total, err))                                   \
    /* Up to max endpoints due at now (ms), earliest first: ids and accounts; *n set. */  \
    X(tx, endpoint_due,                                                                    \
      (int64_t now, size_t max, int64_t *ids, int64_t *accounts, size_t *n,                \
       struct cc_error *err),                                                              \
      (now, max, ids, accounts, n, err))                                                   \
    /* Moves the endpoint's next check to next_at (ms). */                                 \
    X(tx, endpoint_schedule, (int64_t id, int64_t next_at, struct cc_error *err),          \
      (id, next_at, err))                                                                  \
    /* When the earliest check falls due (ms); 0 when there is no endpoint. */            \
    X(read, endpoint_next, (int64_t *at, struct cc_error *err), (at, err))                 \
    /* Writes e's last check, alerts and next check time. */                               \
    X(tx, endpoint_result_set, (const struct cc_endpoint *e, struct cc_error *err), (e, err))\
    /* The account's active certificate with the latest not_after after not_after that   \
     * covers every name of names (a JSON array) and has not this fingerprint: the one    \
     * that renews what is served. CC_ERR_NOT_FOUND when there is none. */                 \
    X(tx, endpoint_newer_cert,                                                             \
      (int64_t account_id, const char *names, int64_t not_after, const char *fingerprint,  \
       int64_t *id, struct cc_error *err),                                                 \
      (account_id, names, not_after, fingerprint, id, err))

CC_STORE_ENDPOINT_OPS(CC_STORE_DECLARE)

#endif
