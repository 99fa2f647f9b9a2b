/*
 * certificates.h — the store's certificates: each with its parsed fields,
 * its PEM, its sealed private key, the names it covers and the contacts
 * subscribed to it. The service decides every rule (uniqueness, renewal,
 * states); the store keeps and finds. See store_ops.h for how the list
 * becomes functions.
 */
#ifndef CC_STORE_CERTIFICATES_H
#define CC_STORE_CERTIFICATES_H

#include "store/store_ops.h"

#define CC_STORE_CERTIFICATE_OPS(X)                                                        \
    /* Saves a new certificate c (c->domains a JSON array of names, c->key_enc the sealed  \
     * key or NULL) with its names and subscribers; *id is set. A fingerprint the account  \
     * has already is CC_ERR_ALREADY_EXISTS, field "Certificate". */                        \
    X(tx, cert_insert, (const struct cc_certificate *c, int64_t *id, struct cc_error *err), \
      (c, id, err))                                                                        \
    /* The id of the account's certificate with this fingerprint; CC_ERR_NOT_FOUND. */      \
    X(tx, cert_find_fingerprint,                                                           \
      (int64_t account_id, const char *fingerprint, int64_t *id, struct cc_error *err),   \
      (account_id, fingerprint, id, err))                                                  \
    /* The certificate with its PEM and subscribers, not its key (key_enc stays NULL;     \
     * has_private_key says whether it has one), state as stored. Owned members of *out: \
     * cc_certificate_clear(). CC_ERR_NOT_FOUND when the account has no such one. */       \
    X(read, cert_get,                                                                      \
      (int64_t account_id, int64_t id, struct cc_certificate *out, struct cc_error *err), \
      (account_id, id, out, err))                                                          \
    X(tx, cert_get,                                                                        \
      (int64_t account_id, int64_t id, struct cc_certificate *out, struct cc_error *err), \
      (account_id, id, out, err))                                                          \
    /* The sealed private key into *enc (owned by the caller: cc_free) and *len;          \
     * CC_ERR_NOT_FOUND when there is no such certificate or it has no key. */             \
    X(read, cert_key_get,                                                                  \
      (int64_t account_id, int64_t id, uint8_t **enc, size_t *len, struct cc_error *err), \
      (account_id, id, enc, len, err))                                                     \
    /* Writes c's name, state, revoked_at, superseded_by and updated_at. */                \
    X(tx, cert_update, (const struct cc_certificate *c, struct cc_error *err), (c, err))   \
    /* Replaces the certificate's subscribers with ids (n of them, contacts of the         \
     * account: the caller has checked). */                                                \
    X(tx, cert_subscribers_set,                                                            \
      (int64_t id, const int64_t *ids, size_t n, struct cc_error *err), (id, ids, n, err)) \
    /* Adds from's subscribers to to's (those it has already stay once). */                \
    X(tx, cert_subscribers_copy, (int64_t from, int64_t to, struct cc_error *err),         \
      (from, to, err))                                                                     \
    /* CC_ERR_NOT_FOUND when the account has no such certificate. */                       \
    X(tx, cert_delete, (int64_t account_id, int64_t id, struct cc_error *err),             \
      (account_id, id, err))                                                               \
    /* The account's active certificates other than id that expire before not_after and  \
     * whose every name is among domains (a JSON array): those a certificate for domains  \
     * renews. At most max ids into ids; *n is set. */                                     \
    X(tx, cert_renewed_by,                                                                 \
      (int64_t account_id, int64_t id, int64_t not_after, const char *domains,            \
       int64_t *ids, size_t max, size_t *n, struct cc_error *err),                         \
      (account_id, id, not_after, domains, ids, max, n, err))                              \
    /* One page of the account's certificates for f, by not_after then id, without PEM    \
     * or key; *total counts them all. *out is owned by the caller: cc_certificate_clear()\
     * each, then cc_free(). */                                                            \
    X(read, cert_list,                                                                     \
      (const struct cc_cert_filter *f, struct cc_certificate **out, size_t *n,             \
       int64_t *total, struct cc_error *err),                                              \
      (f, out, n, total, err))                                                             \
    /* For /metrics, across accounts: by_state[enum cc_cert_state] counts the             \
     * certificates (expired: active with not_after <= now); *nearest is the soonest      \
     * not_after (ms) of an active certificate not yet expired, 0 when there is none. */  \
    X(read, cert_gauges, (int64_t now, int64_t *by_state, int64_t *nearest,               \
                          struct cc_error *err), (now, by_state, nearest, err))

CC_STORE_CERTIFICATE_OPS(CC_STORE_DECLARE)

#endif
