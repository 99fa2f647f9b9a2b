/*
 * sqlite_audit.c — the SQLite side of the audit log: one row per change,
 * written inside the change's own transaction (sqlite_writer.c).
 */
#include <stdio.h>

#include "store/sqlite_int.h"
#include "store/store_int.h"

static const char sql_audit[] =
    "INSERT INTO audit_log(account_id, actor, action, object_type, object_id, "
    "detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

static enum cc_err tx_audit(void *tx, int64_t account_id, const char *actor, const char *action,
                            const char *object_type, int64_t object_id, const char *detail,
                            int64_t now, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_audit, err);
    if (!s)
        return CC_ERR_STORE;
    char oid[24];
    snprintf(oid, sizeof oid, "%lld", (long long)object_id);
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, object_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, oid, -1, SQLITE_TRANSIENT);
    if (detail)
        sqlite3_bind_text(s, 6, detail, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, now);
    return cc_sq_step_done(c, s, "writing the audit log", err);
}

const struct cc_store_audit_ops cc_sq_audit_ops = {CC_STORE_AUDIT_OPS(CC_STORE_OP_INIT)};
