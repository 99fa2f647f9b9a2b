/*
 * templates.h — the store's notification templates of an account's own
 * (the built-in ones are in core). See store_ops.h for how the list becomes
 * functions.
 */
#ifndef CC_STORE_TEMPLATES_H
#define CC_STORE_TEMPLATES_H

#include "store/store_ops.h"

#define CC_STORE_TEMPLATE_OPS(X)                                                           \
    /* Saves t for the account, replacing the one with the same event type, channel and   \
     * language. The caller has checked it (cc_template_check). */                         \
    X(tx, template_put,                                                                    \
      (int64_t account_id, const struct cc_template *t, struct cc_error *err),             \
      (account_id, t, err))                                                                \
    /* CC_ERR_NOT_FOUND when the account has no such template of its own. */              \
    X(tx, template_delete,                                                                 \
      (int64_t account_id, const char *event_type, const char *channel,                    \
       const char *language, struct cc_error *err),                                        \
      (account_id, event_type, channel, language, err))                                    \
    /* The account's own title and body for one event type, channel and language, copied \
     * into title and body (cut to their sizes); CC_ERR_NOT_FOUND when the account has    \
     * none (the built-in text applies). */                                                \
    X(read, template_get,                                                                  \
      (int64_t account_id, const char *event_type, const char *channel,                    \
       const char *language, char *title, size_t titlesz, char *body, size_t bodysz,       \
       struct cc_error *err),                                                              \
      (account_id, event_type, channel, language, title, titlesz, body, bodysz, err))      \
    /* Every template of the account's own, ordered by event type, channel, language.     \
     * *out is owned by the caller: cc_free(). */                                          \
    X(read, template_list,                                                                 \
      (int64_t account_id, struct cc_template **out, size_t *n, struct cc_error *err),     \
      (account_id, out, n, err))

CC_STORE_TEMPLATE_OPS(CC_STORE_DECLARE)

#endif
