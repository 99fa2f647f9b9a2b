/*
 * users.h — the store's console users, their sessions and the
 * wrong-password counts of sign-in. See store_ops.h for how the list
 * becomes functions.
 */
#ifndef CC_STORE_USERS_H
#define CC_STORE_USERS_H

#include "store/store_ops.h"

#define CC_STORE_USER_OPS(X)                                                               \
    /* CC_ERR_NOT_FOUND when there is no such user (in any account). */                   \
    X(read, user_get, (int64_t id, struct cc_user *out, struct cc_error *err),             \
      (id, out, err))                                                                      \
    /* The user of email_norm in account_id (0: in any account; *many is set when more   \
     * than one account has a user of that email, *out being the oldest).                \
     * CC_ERR_NOT_FOUND when there is none. */                                             \
    X(read, user_by_email,                                                                 \
      (const char *email_norm, int64_t account_id, struct cc_user *out, int *many,         \
       struct cc_error *err),                                                              \
      (email_norm, account_id, out, many, err))                                            \
    /* The users of an account, oldest first, at most CC_USERS_MAX. *out: cc_free(). */   \
    X(read, user_list,                                                                     \
      (int64_t account_id, struct cc_user **out, size_t *n, struct cc_error *err),         \
      (account_id, out, n, err))                                                           \
    /* A session and its user; CC_ERR_NOT_FOUND when the token hash is unknown. */        \
    X(read, session_get,                                                                   \
      (const char *token_hash, struct cc_session *sess, struct cc_user *user,              \
       struct cc_error *err),                                                              \
      (token_hash, sess, user, err))                                                       \
    /* The wrong-password count kept under key (an email, an address, or an email from    \
     * one address as "EMAIL\nADDRESS"; zeros when none). */                              \
    X(read, sign_in_failures,                                                              \
      (const char *key, struct cc_sign_in_failures *out, struct cc_error *err),            \
      (key, out, err))                                                                     \
    /* Sets u->id. An email taken in the account is CC_ERR_ALREADY_EXISTS, field "Email". */               \
    X(tx, user_insert, (struct cc_user *u, struct cc_error *err), (u, err))                \
    /* Writes role, password_hash, language, disabled_at and last_sign_in_at of u         \
     * (matched by account and id); CC_ERR_NOT_FOUND when there is none. */               \
    X(tx, user_update, (const struct cc_user *u, struct cc_error *err), (u, err))          \
    X(tx, user_delete, (int64_t account_id, int64_t id, struct cc_error *err),             \
      (account_id, id, err))                                                               \
    X(tx, session_insert, (const struct cc_session *sess, struct cc_error *err),           \
      (sess, err))                                                                         \
    /* Deletes one session (token_hash) or, with token_hash NULL, every session of        \
     * user_id. */                                                                         \
    X(tx, session_delete, (const char *token_hash, int64_t user_id, struct cc_error *err), \
      (token_hash, user_id, err))                                                          \
    X(tx, session_touch, (const char *token_hash, int64_t now, struct cc_error *err),      \
      (token_hash, now, err))                                                              \
    /* Counts one wrong password under key at now: a count older than window_ms starts    \
     * again at 1; reaching max_failures sets locked_until to now + lock_ms. *out is the  \
     * new state. */                                                                       \
    X(tx, sign_in_failure,                                                                 \
      (const char *key, int64_t now, int64_t window_ms, int64_t max_failures,              \
       int64_t lock_ms, struct cc_sign_in_failures *out, struct cc_error *err),            \
      (key, now, window_ms, max_failures, lock_ms, out, err))                              \
    /* Forgets the count under key. */                                                     \
    X(tx, sign_in_clear, (const char *key, struct cc_error *err), (key, err))              \
    /* Forgets every count and lock of email_norm: its own and those from each address. */ \
    X(tx, sign_in_unlock, (const char *email_norm, struct cc_error *err), (email_norm, err))

CC_STORE_USER_OPS(CC_STORE_DECLARE)

#endif
