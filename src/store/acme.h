/*
 * acme.h — the store's side of ACME issuance (migration 0023): the ACME
 * account of each directory (its key sealed), the order of each application
 * fulfilled through ACME, and the challenge chosen for each of its
 * authorizations. See store_ops.h for how the list becomes functions.
 */
#ifndef CC_STORE_ACME_H
#define CC_STORE_ACME_H

#include "core/limits.h"
#include "store/store_ops.h"

/* One application's order as the CA named it. key_enc (owned, NULL: the
 * application's CSR is used) is the key made for it, sealed. */
struct cc_acme_order {
    int64_t application_id;
    int64_t account_id;
    char order_url[CC_ACME_URL_MAX + 1];
    char status[24];                      /* the order's last status; "" before newOrder */
    char finalize_url[CC_ACME_URL_MAX + 1];
    char certificate_url[CC_ACME_URL_MAX + 1];
    uint8_t *key_enc;
    size_t key_len;
    int64_t next_at;                      /* ms: when the worker looks at it next */
    int64_t errors;                       /* errors in a row */
    char last_error[512];
    int64_t updated_at;
    int64_t certificate_id;               /* the certificate it issued; 0 none yet */
    int64_t renew_at;                     /* ms: renew that certificate then; 0 not */
    int64_t renew_failures;               /* renewals that failed in a row */
    int64_t renewal_of;                   /* the application this one renews; 0 none */
};
/* Frees what o owns. */
void cc_acme_order_clear(struct cc_acme_order *o);

/* The challenge chosen for one authorization. */
struct cc_acme_challenge {
    char authz_url[CC_ACME_URL_MAX + 1];
    char identifier[256];                 /* the name, as the CA wrote it */
    char type[16];                        /* "http-01", "dns-01" */
    char url[CC_ACME_URL_MAX + 1];
    char token[CC_ACME_TOKEN_MAX + 1];
    char key_authorization[CC_ACME_TOKEN_MAX + 64];
    char status[24];                      /* ours: pending, published, processing, valid,
                                           * removed (migration 0023) */
    int64_t published_at;                 /* ms: when the DNS-01 record was added */
    char dns_record_id[64];               /* Alibaba Cloud DNS: the record's id */
};

/* An application the worker has to move on. */
struct cc_acme_due {
    int64_t application_id;
    int64_t account_id;
};

#define CC_STORE_ACME_OPS(X)                                                               \
    /* The account of directory_url: its row id, sealed key (*key_enc owned by the     \
     * caller: cc_free) and kid ("" until registered); CC_ERR_NOT_FOUND when none. */     \
    X(read, acme_account_get,                                                              \
      (const char *directory_url, int64_t *id, uint8_t **key_enc, size_t *key_len,        \
       char *kid, size_t kidsz, struct cc_error *err),                                     \
      (directory_url, id, key_enc, key_len, kid, kidsz, err))                              \
    /* Creates the account of directory_url with its sealed key when it has none;       \
     * leaves one that exists (another thread made it first) as it is. */                 \
    X(tx, acme_account_create,                                                             \
      (const char *directory_url, const uint8_t *key_enc, size_t key_len, int64_t now,     \
       struct cc_error *err),                                                              \
      (directory_url, key_enc, key_len, now, err))                                         \
    /* Records the account URL (kid) the CA gave the account of directory_url. */         \
    X(tx, acme_account_kid,                                                                \
      (const char *directory_url, const char *kid, struct cc_error *err),                  \
      (directory_url, kid, err))                                                           \
    /* The order of application id into *out (cc_acme_order_clear); CC_ERR_NOT_FOUND.  */ \
    X(read, acme_order_get, (int64_t application_id, struct cc_acme_order *out,            \
                             struct cc_error *err),                                        \
      (application_id, out, err))                                                          \
    /* Inserts or replaces o (its key_enc kept when o->key_enc is NULL). */               \
    X(tx, acme_order_put, (const struct cc_acme_order *o, struct cc_error *err), (o, err)) \
    /* The challenges of an application (*out owned by the caller: cc_free), by          \
     * authorization URL. */                                                               \
    X(read, acme_challenges,                                                               \
      (int64_t application_id, struct cc_acme_challenge **out, size_t *n,                  \
       struct cc_error *err),                                                              \
      (application_id, out, n, err))                                                       \
    /* Inserts or replaces the challenge of ch->authz_url of an application. */           \
    X(tx, acme_challenge_put,                                                              \
      (int64_t application_id, const struct cc_acme_challenge *ch, struct cc_error *err),  \
      (application_id, ch, err))                                                           \
    /* The key authorization of the HTTP-01 challenge with token, of an application     \
     * still waiting for its certificate; CC_ERR_NOT_FOUND otherwise. */                   \
    X(read, acme_token,                                                                    \
      (const char *token, char *key_authorization, size_t sz, struct cc_error *err),       \
      (token, key_authorization, sz, err))                                                 \
    /* Up to max applications of the products in products_json (a JSON array of codes)  \
     * that are submitted, pending_validation or approved and whose order (if any) is    \
     * due at now, oldest first. *out owned by the caller: cc_free. */                    \
    X(read, acme_due,                                                                      \
      (const char *products_json, int64_t now, size_t max, struct cc_acme_due **out,       \
       size_t *n, struct cc_error *err),                                                   \
      (products_json, now, max, out, n, err))                                             \
    /* Up to max applications whose certificate (still active) is due for renewal at   \
     * now, soonest first. *out owned by the caller: cc_free. */                          \
    X(read, acme_renewals_due,                                                             \
      (int64_t now, size_t max, struct cc_acme_due **out, size_t *n, struct cc_error *err), \
      (now, max, out, n, err))                                                           \
    /* How many orders are in flight: placed with the CA, their application not yet    \
     * issued, rejected or cancelled. */                                                 \
    X(read, acme_in_flight, (int64_t *n, struct cc_error *err), (n, err))                \
    /* The order that issued certificate cert_id of the account (its renewal state);     \
     * CC_ERR_NOT_FOUND when ACME did not issue it. */                                    \
    X(read, acme_order_of_cert,                                                            \
      (int64_t account_id, int64_t cert_id, struct cc_acme_order *out, struct cc_error *err), \
      (account_id, cert_id, out, err))

CC_STORE_ACME_OPS(CC_STORE_DECLARE)

#endif
