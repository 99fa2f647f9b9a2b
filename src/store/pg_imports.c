/*
 * pg_imports.c — the PostgreSQL side of contact import jobs (tables
 * contact_imports and contact_import_rows; migration 0028), as
 * sqlite_imports.c does it for SQLite.
 */
#include <string.h>

#include "store/pg_int.h"
#include "store/store_int.h"
#include "util/util.h"

#define COLS                                                                               \
    "id, account_id, actor, state, dry_run, mode, trust_verified, encoding, "             \
    "ignored_columns, total, processed, created, updated, unchanged, refused, error_code, " \
    "error_message, created_at, finished_at, heartbeat_at, checked"

static const char sql_forget_rows[] =
    "DELETE FROM contact_import_rows WHERE import_id IN (SELECT id FROM contact_imports "
    "WHERE account_id = $1 AND created_at < $2)";
static const char sql_forget[] =
    "DELETE FROM contact_imports WHERE account_id = $1 AND created_at < $2";
static const char sql_insert[] =
    "INSERT INTO contact_imports(account_id, actor, state, dry_run, mode, trust_verified, "
    "encoding, ignored_columns, total, created_at, heartbeat_at, owner) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11) RETURNING id";
static const char sql_get[] =
    "SELECT " COLS " FROM contact_imports WHERE account_id = $1 AND id = $2";
static const char sql_update[] =
    "UPDATE contact_imports SET state = $2, processed = $3, created = $4, updated = $5, "
    "unchanged = $6, refused = $7, error_code = $8, error_message = $9, finished_at = $10, "
    "heartbeat_at = $11, checked = $12 WHERE id = $1";
static const char sql_row_add[] =
    "INSERT INTO contact_import_rows(import_id, row_no, action, contact_id, name, email, "
    "mobile, code, field, message, message_zh) "
    "SELECT $1, r.row_no, r.action, r.contact_id, r.name, r.email, r.mobile, r.code, r.field, "
    "r.message, r.message_zh FROM unnest($2::bigint[], $3::text[], $4::bigint[], $5::text[], "
    "$6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[]) AS "
    "r(row_no, action, contact_id, name, email, mobile, code, field, message, message_zh) "
    "ON CONFLICT (import_id, row_no) DO UPDATE SET action = excluded.action, "
    "contact_id = excluded.contact_id, name = excluded.name, email = excluded.email, "
    "mobile = excluded.mobile, code = excluded.code, field = excluded.field, "
    "message = excluded.message, message_zh = excluded.message_zh";
static const char sql_rows_count[] =
    "SELECT count(*) FROM contact_import_rows WHERE import_id = $1 AND ($2 = '' OR action = $2)";
static const char sql_rows[] =
    "SELECT row_no, action, contact_id, name, email, mobile, code, field, message, message_zh "
    "FROM contact_import_rows WHERE import_id = $1 AND ($2 = '' OR action = $2) "
    "ORDER BY row_no LIMIT $3 OFFSET $4";
static const char sql_fail_stale[] =
    "UPDATE contact_imports SET state = 'failed', error_code = $3, error_message = $4, "
    "finished_at = $2 WHERE state IN ('queued', 'running') AND (heartbeat_at < $1 OR owner = $5)";

static enum cc_import_state state_parse(const char *s)
{
    for (int i = CC_IMPORT_QUEUED; i <= CC_IMPORT_FAILED; i++)
        if (!strcmp(s, cc_import_state_name((enum cc_import_state)i)))
            return (enum cc_import_state)i;
    return CC_IMPORT_FAILED;
}

static void read_row(const PGresult *r, int row, struct cc_import *j)
{
    memset(j, 0, sizeof *j);
    j->id = cc_pg_get_i64(r, row, 0);
    j->account_id = cc_pg_get_i64(r, row, 1);
    cc_pg_get_text(r, row, 2, j->actor, sizeof j->actor);
    j->state = state_parse(cc_pg_get_str(r, row, 3));
    j->dry_run = (int)cc_pg_get_i64(r, row, 4);
    j->skip_bad = !strcmp(cc_pg_get_str(r, row, 5), "skip_bad");
    j->trust_verified = (int)cc_pg_get_i64(r, row, 6);
    cc_pg_get_text(r, row, 7, j->encoding, sizeof j->encoding);
    cc_pg_get_text(r, row, 8, j->ignored_columns, sizeof j->ignored_columns);
    j->total = cc_pg_get_i64(r, row, 9);
    j->processed = cc_pg_get_i64(r, row, 10);
    j->created = cc_pg_get_i64(r, row, 11);
    j->updated = cc_pg_get_i64(r, row, 12);
    j->unchanged = cc_pg_get_i64(r, row, 13);
    j->refused = cc_pg_get_i64(r, row, 14);
    cc_pg_get_text(r, row, 15, j->error_code, sizeof j->error_code);
    cc_pg_get_text(r, row, 16, j->error_message, sizeof j->error_message);
    j->created_at = cc_pg_get_i64(r, row, 17);
    j->finished_at = cc_pg_get_i64(r, row, 18);
    j->heartbeat_at = cc_pg_get_i64(r, row, 19);
    j->checked = cc_pg_get_i64(r, row, 20);
}

static enum cc_err tx_import_insert(void *tx, const struct cc_import *j, int64_t forget_before,
                                    int64_t *id, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    enum cc_err rc;
    const char *forget[] = {sql_forget_rows, sql_forget};
    for (int i = 0; i < 2; i++) {
        cc_pg_params(&p);
        cc_pg_i64(&p, j->account_id);
        cc_pg_i64(&p, forget_before);
        if ((rc = cc_pg_do(c, forget[i], &p, "forgetting old imports", err)))
            return rc;
    }
    cc_pg_params(&p);
    cc_pg_i64(&p, j->account_id);
    cc_pg_text(&p, j->actor);
    cc_pg_text(&p, cc_import_state_name(j->state));
    cc_pg_i64(&p, j->dry_run);
    cc_pg_text(&p, j->skip_bad ? "skip_bad" : "all");
    cc_pg_i64(&p, j->trust_verified);
    cc_pg_text(&p, j->encoding);
    cc_pg_text(&p, j->ignored_columns);
    cc_pg_i64(&p, j->total);
    cc_pg_i64(&p, j->created_at);
    cc_pg_text(&p, j->owner);
    rc = cc_pg_one_i64(c, sql_insert, &p, id, "saving an import", err);
    if (rc == CC_ERR_NOT_FOUND)
        rc = cc_error_set(err, CC_ERR_STORE, NULL, "database error in saving an import");
    return rc;
}

static enum cc_err tx_import_get(void *tx, int64_t account_id, int64_t id, struct cc_import *out,
                                 struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    PGresult *r = cc_pg_exec(c, sql_get, &p, "reading an import", err);
    if (!r)
        return err->code;
    int found = PQntuples(r) > 0;
    if (found)
        read_row(r, 0, out);
    PQclear(r);
    if (!found)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Import %lld does not exist.",
                            (long long)id);
    return CC_OK;
}

static enum cc_err tx_import_update(void *tx, const struct cc_import *j, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, j->id);
    cc_pg_text(&p, cc_import_state_name(j->state));
    cc_pg_i64(&p, j->processed);
    cc_pg_i64(&p, j->created);
    cc_pg_i64(&p, j->updated);
    cc_pg_i64(&p, j->unchanged);
    cc_pg_i64(&p, j->refused);
    cc_pg_text(&p, j->error_code);
    cc_pg_text(&p, j->error_message);
    cc_pg_i64(&p, j->finished_at);
    cc_pg_i64(&p, j->heartbeat_at);
    cc_pg_i64(&p, j->checked);
    return cc_pg_do(c, sql_update, &p, "writing an import's progress", err);
}

/* Appends s to the PostgreSQL array literal in b, quoted. */
static void arr_text(struct cc_buf *b, const char *s, int first)
{
    cc_buf_puts(b, first ? "{\"" : ",\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            cc_buf_append(b, "\\", 1);
        cc_buf_append(b, s, 1);
    }
    cc_buf_puts(b, "\"");
}

static void arr_i64(struct cc_buf *b, int64_t v, int first)
{
    cc_buf_printf(b, "%s%lld", first ? "{" : ",", (long long)v);
}

/* The rows go in one statement: each column an array. */
static enum cc_err tx_import_rows_add(void *tx, int64_t import_id,
                                      const struct cc_import_row *rows, size_t n,
                                      struct cc_error *err)
{
    struct pgc *c = tx;
    if (n == 0)
        return CC_OK;
    struct cc_buf cols[10];
    for (int k = 0; k < 10; k++)
        cc_buf_init(&cols[k], (size_t)1 << 30);
    for (size_t i = 0; i < n; i++) {
        const struct cc_import_row *r = &rows[i];
        int first = i == 0;
        arr_i64(&cols[0], r->row, first);
        arr_text(&cols[1], cc_import_action_name(r->action), first);
        arr_i64(&cols[2], r->contact_id, first);
        arr_text(&cols[3], r->name, first);
        arr_text(&cols[4], r->email, first);
        arr_text(&cols[5], r->mobile, first);
        arr_text(&cols[6], r->code, first);
        arr_text(&cols[7], r->field, first);
        arr_text(&cols[8], r->message, first);
        arr_text(&cols[9], r->message_zh, first);
    }
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, import_id);
    char *v[10];
    for (int k = 0; k < 10; k++) {
        cc_buf_puts(&cols[k], "}");
        v[k] = cc_buf_steal(&cols[k], NULL);
        cc_pg_text(&p, v[k]);
    }
    enum cc_err rc = cc_pg_do(c, sql_row_add, &p, "writing an import's report", err);
    for (int k = 0; k < 10; k++)
        cc_free(v[k]);
    return rc;
}

static enum cc_err tx_import_rows_list(void *tx, int64_t import_id, int action, int64_t offset,
                                       size_t max, struct cc_import_row *out, size_t *n,
                                       int64_t *total, struct cc_error *err)
{
    struct pgc *c = tx;
    const char *act = action < 0 ? "" : cc_import_action_name((enum cc_import_action)action);
    *n = 0;
    *total = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, import_id);
    cc_pg_text(&p, act);
    enum cc_err rc = cc_pg_one_i64(c, sql_rows_count, &p, total, "counting an import's report",
                                   err);
    if (rc)
        return rc;
    cc_pg_params(&p);
    cc_pg_i64(&p, import_id);
    cc_pg_text(&p, act);
    cc_pg_i64(&p, (int64_t)max);
    cc_pg_i64(&p, offset);
    PGresult *r = cc_pg_exec(c, sql_rows, &p, "reading an import's report", err);
    if (!r)
        return err->code;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < max; i++) {
        struct cc_import_row *o = &out[(*n)++];
        memset(o, 0, sizeof *o);
        o->row = cc_pg_get_i64(r, i, 0);
        int a = cc_import_action_parse(cc_pg_get_str(r, i, 1));
        o->action = a < 0 ? CC_IMPORT_REFUSE : (enum cc_import_action)a;
        o->contact_id = cc_pg_get_i64(r, i, 2);
        cc_pg_get_text(r, i, 3, o->name, sizeof o->name);
        cc_pg_get_text(r, i, 4, o->email, sizeof o->email);
        cc_pg_get_text(r, i, 5, o->mobile, sizeof o->mobile);
        cc_pg_get_text(r, i, 6, o->code, sizeof o->code);
        cc_pg_get_text(r, i, 7, o->field, sizeof o->field);
        cc_pg_get_text(r, i, 8, o->message, sizeof o->message);
        cc_pg_get_text(r, i, 9, o->message_zh, sizeof o->message_zh);
    }
    PQclear(r);
    return CC_OK;
}

static enum cc_err tx_import_fail_stale(void *tx, int64_t before, const char *owner, int64_t now,
                                        const char *code, const char *message, int64_t *n,
                                        struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, before);
    cc_pg_i64(&p, now);
    cc_pg_text(&p, code);
    cc_pg_text(&p, message);
    cc_pg_text(&p, owner);
    return cc_pg_do_n(c, sql_fail_stale, &p, n, "failing unfinished imports", err);
}

const struct cc_store_import_ops cc_pg_import_ops = {CC_STORE_IMPORT_OPS(CC_STORE_OP_INIT)};
