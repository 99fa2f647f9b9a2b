/*
 * sealed.h — every value sealed with the master key, whatever aggregate it
 * belongs to, seen as one list of (table, column) for the master key's
 * rotation (service/master_key.c): find the values not yet sealed under a
 * key, replace one, count what is left, and the database's settings (the
 * meta table) inside the same transaction. See store_ops.h for how the
 * list becomes functions.
 *
 * A sealed value says which key sealed it in its first bytes (core.h,
 * cc_aead_seal), so "not sealed under key K" is "does not start with K's
 * prefix" — no column of its own, and a value a server writes during a
 * rotation is found like any other.
 */
#ifndef CC_STORE_SEALED_H
#define CC_STORE_SEALED_H

#include "store/store_ops.h"

/* Each column that holds sealed values. A new sealed column is one more
 * entry here, its table and columns in CC_STORE_SEALED_COLUMN_LIST
 * (store_common.h), and its associated data in service/master_key.c. */
enum cc_sealed_column {
    CC_SEALED_ACCESS_KEY_SECRET, /* access_keys.secret_enc */
    CC_SEALED_ID_CARD,           /* contacts.id_card_enc */
    CC_SEALED_WEBHOOK_SECRET,    /* contact_webhooks.secret_enc */
    CC_SEALED_CERT_KEY,          /* certificates.private_key_enc */
    CC_SEALED_WEBHOOK_URL,       /* contact_webhook_urls.url_enc */
    CC_SEALED_ACME_ACCOUNT_KEY,  /* acme_accounts.key_enc */
    CC_SEALED_ACME_ORDER_KEY,    /* acme_orders.key_enc */
    CC_SEALED_COLUMNS
};

/* One sealed value and the key of its row (as text). blob is owned by the
 * array: cc_sealed_values_free(). */
struct cc_sealed_value {
    char row_key[48];
    uint8_t *blob;
    size_t len;
};

/* Wipes and frees n values of v (NULL is fine). */
void cc_sealed_values_free(struct cc_sealed_value *v, size_t n);

#define CC_STORE_SEALED_OPS(X)                                                             \
    /* Up to max values of column col that do not start with the prefix (prefix_len     \
     * bytes): values sealed under another key. *out is owned by the caller:             \
     * cc_sealed_values_free(*out, *n). */                                                 \
    X(tx, sealed_batch,                                                                    \
      (enum cc_sealed_column col, const uint8_t *prefix, size_t prefix_len, size_t max,    \
       struct cc_sealed_value **out, size_t *n, struct cc_error *err),                     \
      (col, prefix, prefix_len, max, out, n, err))                                         \
    /* Up to max values of col in the order of their row keys, those after the row key   \
     * after (NULL: from the first): every value, page by page (certcontacts check).     \
     * *out as for sealed_batch. */                                                       \
    X(tx, sealed_page,                                                                     \
      (enum cc_sealed_column col, const char *after, size_t max,                           \
       struct cc_sealed_value **out, size_t *n, struct cc_error *err),                     \
      (col, after, max, out, n, err))                                                      \
    /* Replaces the value v->blob of row v->row_key with blob (len bytes); does nothing   \
     * when the row no longer holds v->blob (it was changed or deleted meanwhile). */      \
    X(tx, sealed_replace,                                                                  \
      (enum cc_sealed_column col, const struct cc_sealed_value *v, const uint8_t *blob,    \
       size_t len, struct cc_error *err),                                                  \
      (col, v, blob, len, err))                                                            \
    /* Sets the keyed hash (contact_webhooks.url) of the robot whose sealed URL is       \
     * v->row_key's, when that row now holds blob (len bytes): the hash goes with the    \
     * sealed URL, under one key. */                                                      \
    X(tx, sealed_url_tag,                                                                  \
      (const struct cc_sealed_value *v, const uint8_t *blob, size_t len, const char *tag,  \
       struct cc_error *err),                                                              \
      (v, blob, len, tag, err))                                                            \
    /* How many values of col do not start with the prefix. */                            \
    X(tx, sealed_count,                                                                    \
      (enum cc_sealed_column col, const uint8_t *prefix, size_t prefix_len, int64_t *n,    \
       struct cc_error *err),                                                              \
      (col, prefix, prefix_len, n, err))                                                   \
    /* A safety net for a sealed column missing from enum cc_sealed_column: in any      \
     * other BLOB column named *_enc (how the schema names a sealed value), the values   \
     * that look sealed and do not start with the prefix, into *n, and one such column   \
     * as "table.column" into where. */                                                    \
    X(tx, sealed_unknown,                                                                  \
      (const uint8_t *prefix, size_t prefix_len, char *where, size_t wheresz, int64_t *n,  \
       struct cc_error *err),                                                              \
      (prefix, prefix_len, where, wheresz, n, err))                                        \
    /* The database's setting name (the meta table) into out; CC_ERR_NOT_FOUND when      \
     * it has none. */                                                                     \
    X(tx, setting_get,                                                                     \
      (const char *name, char *out, size_t outsz, struct cc_error *err),                   \
      (name, out, outsz, err))                                                             \
    /* Records the setting name; value NULL removes it. */                                \
    X(tx, setting_put,                                                                     \
      (const char *name, const char *value, struct cc_error *err),                         \
      (name, value, err))

CC_STORE_SEALED_OPS(CC_STORE_DECLARE)

#endif
