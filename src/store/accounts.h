/*
 * accounts.h — the store's accounts and their access keys (see store_ops.h
 * for how the list below becomes cc_store_* and cc_tx_* functions).
 */
#ifndef CC_STORE_ACCOUNTS_H
#define CC_STORE_ACCOUNTS_H

#include "store/store_ops.h"

#define CC_STORE_ACCOUNT_OPS(X)                                                            \
    /* The account's name, cut to namesz; CC_ERR_NOT_FOUND, field "Account". */            \
    X(read, account_get, (int64_t id, char *name, size_t namesz, struct cc_error *err),    \
      (id, name, namesz, err))                                                             \
    /* CC_ERR_NOT_FOUND when there is no key of that id (in any account). */               \
    X(read, key_get, (const char *key_id, struct cc_access_key *out, struct cc_error *err),\
      (key_id, out, err))                                                                  \
    /* The keys of an account, oldest first. *out is owned by the caller: cc_free(). */    \
    X(read, key_list,                                                                      \
      (int64_t account_id, struct cc_access_key **out, size_t *n, struct cc_error *err),  \
      (account_id, out, n, err))                                                           \
    /* A number that changes whenever an access key is created, disabled or otherwise     \
     * changed or removed, by this process or another one sharing the database, and        \
     * never comes back to an earlier value of the same database: a cache of keys read     \
     * under generation G is current while the generation is still G. Cheap enough to      \
     * ask on every request. */                                                            \
    X(read, key_generation, (int64_t *generation, struct cc_error *err), (generation, err)) \
    /* Sets *id to the new account's id. */                                                \
    X(tx, account_insert,                                                                  \
      (const char *name, int64_t now, int64_t *id, struct cc_error *err),                  \
      (name, now, id, err))                                                                \
    /* CC_OK when the account exists, else CC_ERR_NOT_FOUND, field "Account". */          \
    X(tx, account_exists, (int64_t id, struct cc_error *err), (id, err))                   \
    /* With k->expires_at (0: none). */                                                    \
    X(tx, key_insert, (const struct cc_access_key *k, struct cc_error *err), (k, err))     \
    /* The account's keys that are not disabled. */                                        \
    X(tx, key_count, (int64_t account_id, int64_t *n, struct cc_error *err),               \
      (account_id, n, err))                                                                \
    /* Records that the key was used at now, unless its recorded last use is less than    \
     * every_ms old. Does not move the key generation. */                                 \
    X(tx, key_touch,                                                                       \
      (const char *key_id, int64_t now, int64_t every_ms, struct cc_error *err),           \
      (key_id, now, every_ms, err))                                                        \
    /* CC_ERR_NOT_FOUND when the key is not in that account. */                           \
    X(tx, key_disable,                                                                     \
      (int64_t account_id, const char *key_id, int64_t now, struct cc_error *err),         \
      (account_id, key_id, now, err))

CC_STORE_ACCOUNT_OPS(CC_STORE_DECLARE)

#endif
