/*
 * audit.h — the store's audit log: an append-only hash chain of entries,
 * each written in the transaction of the change it records (migration
 * 0018). See store_ops.h for how the list becomes functions.
 */
#ifndef CC_STORE_AUDIT_H
#define CC_STORE_AUDIT_H

#include "store/store_ops.h"

#define CC_STORE_AUDIT_OPS(X)                                                              \
    /* Appends e to the chain: sets e->id (the next place) and e->hash (over e and the     \
     * hash of the entry before it, or of retention's anchor). The other fields are the   \
     * caller's; e->action must be a name of core/audit.h's list. */                      \
    X(tx, audit_append, (struct cc_audit_entry *e, struct cc_error *err), (e, err))       \
    /* The form of before the enumerated list, for calls not converted yet: action must   \
     * be a name of the list (else CC_ERR_INTERNAL); no source or request id; detail      \
     * (may be NULL) becomes {"detail":{"new":detail}}. Use svc_audit() instead. */        \
    X(tx, audit,                                                                           \
      (int64_t account_id, const char *actor, const char *action, const char *object_type, \
       int64_t object_id, const char *detail, int64_t now, struct cc_error *err),          \
      (account_id, actor, action, object_type, object_id, detail, now, err))               \
    /* One page of an account's entries matching f, newest first, and how many match.     \
     * *out: cc_audit_entries_free(). */                                                  \
    X(read, audit_list,                                                                    \
      (const struct cc_audit_filter *f, struct cc_audit_entry **out, size_t *n,            \
       int64_t *total, struct cc_error *err),                                              \
      (f, out, n, total, err))                                                             \
    /* Up to limit entries of every account after id after_id, oldest first: the chain    \
     * as stored. *out: cc_audit_entries_free(). */                                       \
    X(read, audit_chain,                                                                   \
      (int64_t after_id, size_t limit, struct cc_audit_entry **out, size_t *n,             \
       struct cc_error *err),                                                              \
      (after_id, limit, out, n, err))                                                      \
    /* Where the chain starts: the last entry retention removed (0 and CC_AUDIT_GENESIS   \
     * when none), and how many it has removed in all. */                                 \
    X(read, audit_anchor,                                                                  \
      (int64_t *last_id, char hash[CC_AUDIT_HASH_HEX + 1], int64_t *removed,               \
       struct cc_error *err),                                                              \
      (last_id, hash, removed, err))                                                       \
    /* Removes the oldest entries created before `before` (ms), at most max of them, from  \
     * the front of the chain only, after moving the anchor to the last one removed.       \
     * *out (cc_free; *n of them, by account) says what went; *through the last id         \
     * removed (0: none). */                                                              \
    X(tx, audit_retain,                                                                    \
      (int64_t before, int64_t max, int64_t now, struct cc_audit_removal **out, size_t *n, \
       int64_t *through, struct cc_error *err),                                            \
      (before, max, now, out, n, through, err))

CC_STORE_AUDIT_OPS(CC_STORE_DECLARE)

#endif
