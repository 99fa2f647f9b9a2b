/*
 * sqlite_imports.c — the SQLite side of contact import jobs (tables
 * contact_imports and contact_import_rows; migration 0028): save a job, read
 * it, write its progress, add to and page its report, and mark failed the
 * jobs a process left unfinished. Everything runs inside a transaction the
 * caller holds (the writer's, or a read transaction through cc_store_read).
 */
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

#define COLS                                                                               \
    "id, account_id, actor, state, dry_run, mode, trust_verified, encoding, "             \
    "ignored_columns, total, processed, created, updated, unchanged, refused, error_code, " \
    "error_message, created_at, finished_at, heartbeat_at, checked"

static const char sql_forget_rows[] =
    "DELETE FROM contact_import_rows WHERE import_id IN (SELECT id FROM contact_imports "
    "WHERE account_id = ?1 AND created_at < ?2)";
static const char sql_forget[] =
    "DELETE FROM contact_imports WHERE account_id = ?1 AND created_at < ?2";
static const char sql_insert[] =
    "INSERT INTO contact_imports(account_id, actor, state, dry_run, mode, trust_verified, "
    "encoding, ignored_columns, total, created_at, heartbeat_at, owner) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11)";
static const char sql_get[] =
    "SELECT " COLS " FROM contact_imports WHERE account_id = ?1 AND id = ?2";
static const char sql_update[] =
    "UPDATE contact_imports SET state = ?2, processed = ?3, created = ?4, updated = ?5, "
    "unchanged = ?6, refused = ?7, error_code = ?8, error_message = ?9, finished_at = ?10, "
    "heartbeat_at = ?11, checked = ?12 WHERE id = ?1";
static const char sql_row_add[] =
    "INSERT OR REPLACE INTO contact_import_rows(import_id, row_no, action, contact_id, name, "
    "email, mobile, code, field, message, message_zh) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char sql_rows_count[] =
    "SELECT count(*) FROM contact_import_rows WHERE import_id = ?1 AND (?2 = '' OR action = ?2)";
static const char sql_rows[] =
    "SELECT row_no, action, contact_id, name, email, mobile, code, field, message, message_zh "
    "FROM contact_import_rows WHERE import_id = ?1 AND (?2 = '' OR action = ?2) "
    "ORDER BY row_no LIMIT ?3 OFFSET ?4";
static const char sql_fail_stale[] =
    "UPDATE contact_imports SET state = 'failed', error_code = ?3, error_message = ?4, "
    "finished_at = ?2 WHERE state IN ('queued', 'running') AND (heartbeat_at < ?1 OR owner = ?5)";

static enum cc_import_state state_parse(const char *s)
{
    for (int i = CC_IMPORT_QUEUED; i <= CC_IMPORT_FAILED; i++)
        if (!strcmp(s, cc_import_state_name((enum cc_import_state)i)))
            return (enum cc_import_state)i;
    return CC_IMPORT_FAILED;
}

static void read_row(sqlite3_stmt *s, struct cc_import *j)
{
    char buf[16];
    memset(j, 0, sizeof *j);
    j->id = sqlite3_column_int64(s, 0);
    j->account_id = sqlite3_column_int64(s, 1);
    cc_sq_col_text(s, 2, j->actor, sizeof j->actor);
    cc_sq_col_text(s, 3, buf, sizeof buf);
    j->state = state_parse(buf);
    j->dry_run = sqlite3_column_int(s, 4);
    cc_sq_col_text(s, 5, buf, sizeof buf);
    j->skip_bad = !strcmp(buf, "skip_bad");
    j->trust_verified = sqlite3_column_int(s, 6);
    cc_sq_col_text(s, 7, j->encoding, sizeof j->encoding);
    cc_sq_col_text(s, 8, j->ignored_columns, sizeof j->ignored_columns);
    j->total = sqlite3_column_int64(s, 9);
    j->processed = sqlite3_column_int64(s, 10);
    j->created = sqlite3_column_int64(s, 11);
    j->updated = sqlite3_column_int64(s, 12);
    j->unchanged = sqlite3_column_int64(s, 13);
    j->refused = sqlite3_column_int64(s, 14);
    cc_sq_col_text(s, 15, j->error_code, sizeof j->error_code);
    cc_sq_col_text(s, 16, j->error_message, sizeof j->error_message);
    j->created_at = sqlite3_column_int64(s, 17);
    j->finished_at = sqlite3_column_int64(s, 18);
    j->heartbeat_at = sqlite3_column_int64(s, 19);
    j->checked = sqlite3_column_int64(s, 20);
}

static enum cc_err tx_import_insert(void *tx, const struct cc_import *j, int64_t forget_before,
                                    int64_t *id, struct cc_error *err)
{
    struct conn *c = tx;
    enum cc_err rc;
    const char *forget[] = {sql_forget_rows, sql_forget};
    for (int i = 0; i < 2; i++) {
        sqlite3_stmt *s = cc_sq_stmt(c, forget[i], err);
        if (!s)
            return CC_ERR_STORE;
        sqlite3_bind_int64(s, 1, j->account_id);
        sqlite3_bind_int64(s, 2, forget_before);
        if ((rc = cc_sq_step_done(c, s, "forgetting old imports", err)))
            return rc;
    }
    sqlite3_stmt *s = cc_sq_stmt(c, sql_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, j->account_id);
    sqlite3_bind_text(s, 2, j->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, cc_import_state_name(j->state), -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, j->dry_run);
    sqlite3_bind_text(s, 5, j->skip_bad ? "skip_bad" : "all", -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 6, j->trust_verified);
    sqlite3_bind_text(s, 7, j->encoding, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, j->ignored_columns, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, j->total);
    sqlite3_bind_int64(s, 10, j->created_at);
    sqlite3_bind_text(s, 11, j->owner, -1, SQLITE_STATIC);
    if ((rc = cc_sq_step_done(c, s, "saving an import", err)))
        return rc;
    *id = sqlite3_last_insert_rowid(c->db);
    return CC_OK;
}

static enum cc_err tx_import_get(void *tx, int64_t account_id, int64_t id, struct cc_import *out,
                                 struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_row(s, out);
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Import %lld does not exist.",
                            (long long)id);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading an import");
}

static enum cc_err tx_import_update(void *tx, const struct cc_import *j, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_update, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, j->id);
    sqlite3_bind_text(s, 2, cc_import_state_name(j->state), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, j->processed);
    sqlite3_bind_int64(s, 4, j->created);
    sqlite3_bind_int64(s, 5, j->updated);
    sqlite3_bind_int64(s, 6, j->unchanged);
    sqlite3_bind_int64(s, 7, j->refused);
    sqlite3_bind_text(s, 8, j->error_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, j->error_message, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 10, j->finished_at);
    sqlite3_bind_int64(s, 11, j->heartbeat_at);
    sqlite3_bind_int64(s, 12, j->checked);
    return cc_sq_step_done(c, s, "writing an import's progress", err);
}

static enum cc_err tx_import_rows_add(void *tx, int64_t import_id,
                                      const struct cc_import_row *rows, size_t n,
                                      struct cc_error *err)
{
    struct conn *c = tx;
    for (size_t i = 0; i < n; i++) {
        const struct cc_import_row *r = &rows[i];
        sqlite3_stmt *s = cc_sq_stmt(c, sql_row_add, err);
        if (!s)
            return CC_ERR_STORE;
        sqlite3_bind_int64(s, 1, import_id);
        sqlite3_bind_int64(s, 2, r->row);
        sqlite3_bind_text(s, 3, cc_import_action_name(r->action), -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, r->contact_id);
        sqlite3_bind_text(s, 5, r->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, r->email, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 7, r->mobile, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 8, r->code, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 9, r->field, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 10, r->message, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 11, r->message_zh, -1, SQLITE_STATIC);
        enum cc_err rc = cc_sq_step_done(c, s, "writing an import's report", err);
        if (rc)
            return rc;
    }
    return CC_OK;
}

static enum cc_err tx_import_rows_list(void *tx, int64_t import_id, int action, int64_t offset,
                                       size_t max, struct cc_import_row *out, size_t *n,
                                       int64_t *total, struct cc_error *err)
{
    struct conn *c = tx;
    const char *act = action < 0 ? "" : cc_import_action_name((enum cc_import_action)action);
    *n = 0;
    *total = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_rows_count, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, import_id);
    sqlite3_bind_text(s, 2, act, -1, SQLITE_STATIC);
    enum cc_err rc = cc_sq_count(c, s, total, "counting an import's report", err);
    if (rc)
        return rc;
    if (!(s = cc_sq_stmt(c, sql_rows, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, import_id);
    sqlite3_bind_text(s, 2, act, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, (int64_t)max);
    sqlite3_bind_int64(s, 4, offset);
    int step;
    char buf[16];
    while ((step = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
        struct cc_import_row *r = &out[(*n)++];
        memset(r, 0, sizeof *r);
        r->row = sqlite3_column_int64(s, 0);
        cc_sq_col_text(s, 1, buf, sizeof buf);
        int a = cc_import_action_parse(buf);
        r->action = a < 0 ? CC_IMPORT_REFUSE : (enum cc_import_action)a;
        r->contact_id = sqlite3_column_int64(s, 2);
        cc_sq_col_text(s, 3, r->name, sizeof r->name);
        cc_sq_col_text(s, 4, r->email, sizeof r->email);
        cc_sq_col_text(s, 5, r->mobile, sizeof r->mobile);
        cc_sq_col_text(s, 6, r->code, sizeof r->code);
        cc_sq_col_text(s, 7, r->field, sizeof r->field);
        cc_sq_col_text(s, 8, r->message, sizeof r->message);
        cc_sq_col_text(s, 9, r->message_zh, sizeof r->message_zh);
    }
    cc_sq_done(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading an import's report");
    return CC_OK;
}

static enum cc_err tx_import_fail_stale(void *tx, int64_t before, const char *owner, int64_t now,
                                        const char *code, const char *message, int64_t *n,
                                        struct cc_error *err)
{
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_fail_stale, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, before);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_text(s, 3, code, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, message, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, owner, -1, SQLITE_STATIC);
    enum cc_err rc = cc_sq_step_done(c, s, "failing unfinished imports", err);
    if (!rc)
        *n = sqlite3_changes(c->db);
    return rc;
}

const struct cc_store_import_ops cc_sq_import_ops = {CC_STORE_IMPORT_OPS(CC_STORE_OP_INIT)};
