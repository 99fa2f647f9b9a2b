/*
 * imports.h — the store's contact import jobs (tables contact_imports and
 * contact_import_rows, migration 0028): the job with its counts, its
 * per-row report, and the jobs a process left unfinished. The rules are the
 * service's (service/imports.c). See store_ops.h for how the list becomes
 * functions.
 */
#ifndef CC_STORE_IMPORTS_H
#define CC_STORE_IMPORTS_H

#include "store/store_ops.h"

#define CC_STORE_IMPORT_OPS(X)                                                             \
    /* Saves a new job j (every field but id); *id is set. Jobs of the account created    \
     * before forget_before (ms) go, with their reports. */                                \
    X(tx, import_insert,                                                                   \
      (const struct cc_import *j, int64_t forget_before, int64_t *id, struct cc_error *err),\
      (j, forget_before, id, err))                                                         \
    /* The job; CC_ERR_NOT_FOUND when the account has no such one. */                     \
    X(tx, import_get,                                                                      \
      (int64_t account_id, int64_t id, struct cc_import *out, struct cc_error *err),       \
      (account_id, id, out, err))                                                          \
    /* Writes j's state, counts, error, finished_at and heartbeat_at (by id). */           \
    X(tx, import_update, (const struct cc_import *j, struct cc_error *err), (j, err))      \
    /* Adds n rows to job import_id's report. */                                           \
    X(tx, import_rows_add,                                                                 \
      (int64_t import_id, const struct cc_import_row *rows, size_t n, struct cc_error *err),\
      (import_id, rows, n, err))                                                           \
    /* Up to max rows of the report by line, from offset, of one action (< 0: all);       \
     * *total counts them all. out has room for max. */                                    \
    X(tx, import_rows_list,                                                                \
      (int64_t import_id, int action, int64_t offset, size_t max, struct cc_import_row *out,\
       size_t *n, int64_t *total, struct cc_error *err),                                   \
      (import_id, action, offset, max, out, n, total, err))                                \
    /* Marks failed, with code and message, every job queued or running whose heartbeat  \
     * is before before (ms) or whose owner is owner; *n is how many. */                   \
    X(tx, import_fail_stale,                                                               \
      (int64_t before, const char *owner, int64_t now, const char *code,                   \
       const char *message, int64_t *n, struct cc_error *err),                             \
      (before, owner, now, code, message, n, err))

CC_STORE_IMPORT_OPS(CC_STORE_DECLARE)

#endif
