/*
 * audit.h — the store's audit log: one row per change, written in the
 * transaction of the change. See store_ops.h for how the list becomes
 * functions.
 */
#ifndef CC_STORE_AUDIT_H
#define CC_STORE_AUDIT_H

#include "store/store_ops.h"

#define CC_STORE_AUDIT_OPS(X)                                                              \
    /* Records that actor did action to the object; detail may be NULL. */                \
    X(tx, audit,                                                                           \
      (int64_t account_id, const char *actor, const char *action, const char *object_type, \
       int64_t object_id, const char *detail, int64_t now, struct cc_error *err),          \
      (account_id, actor, action, object_type, object_id, detail, now, err))

CC_STORE_AUDIT_OPS(CC_STORE_DECLARE)

#endif
