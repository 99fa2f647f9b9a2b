/*
 * sqlite_audit.c — the SQLite side of the audit log (migration 0018): an
 * append-only hash chain. Appends run inside the change's own transaction
 * on the writer (sqlite_writer.c), which runs one write at a time, so
 * reading the last hash and inserting the next entry cannot interleave with
 * another append. Triggers refuse any update, and any delete but
 * retention's, which moves the anchor first.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_last[] = "SELECT id, hash FROM audit_entries ORDER BY id DESC LIMIT 1";
static const char sql_anchor[] =
    "SELECT last_id, hash, removed FROM audit_anchor WHERE id = 1";
static const char sql_insert[] =
    "INSERT INTO audit_entries(" CC_ENTRY_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
    "?10, ?11)";
/* Filters: NULL / 0 match everything. */
#define FILTER                                                                          \
    "WHERE account_id = ?1 AND (?2 IS NULL OR actor = ?2) AND (?3 IS NULL OR action = ?3) " \
    "AND (?4 IS NULL OR target_type = ?4) AND (?5 IS NULL OR target_id = ?5) "          \
    "AND (?6 = 0 OR created_at >= ?6) AND (?7 = 0 OR created_at < ?7)"
static const char sql_list[] =
    "SELECT " CC_ENTRY_COLS " FROM audit_entries " FILTER " ORDER BY id DESC LIMIT ?8 OFFSET ?9";
static const char sql_count[] = "SELECT count(*) FROM audit_entries " FILTER;
static const char sql_chain[] =
    "SELECT " CC_ENTRY_COLS " FROM audit_entries WHERE id > ?1 ORDER BY id LIMIT ?2";
/* The front of the chain that is older than ?1: up to the entry before the
 * first one that is not, at most ?2 entries from the first. */
static const char sql_retain_through[] =
    "SELECT min(coalesce((SELECT min(id) - 1 FROM audit_entries WHERE created_at >= ?1), "
    "(SELECT max(id) FROM audit_entries)), (SELECT min(id) FROM audit_entries) + ?2 - 1)";
static const char sql_retain_counts[] =
    "SELECT account_id, count(*), min(created_at), max(created_at) FROM audit_entries "
    "WHERE id <= ?1 GROUP BY account_id ORDER BY account_id";
static const char sql_hash_of[] = "SELECT hash FROM audit_entries WHERE id = ?1";
static const char sql_anchor_set[] =
    "INSERT INTO audit_anchor(id, last_id, hash, removed, updated_at) VALUES (1, ?1, ?2, ?3, ?4) "
    "ON CONFLICT(id) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash, "
    "removed = removed + excluded.removed, updated_at = excluded.updated_at";
static const char sql_retain_delete[] = "DELETE FROM audit_entries WHERE id <= ?1";

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
    if (v && v[0])
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* The chain's current end on c: the last entry's id and hash, else the
 * anchor's, else 0 and the genesis hash. */
static enum cc_err chain_end(struct conn *c, int64_t *id, char hash[65], struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_last, err);
    if (!s)
        return CC_ERR_STORE;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        cc_sq_col_text(s, 1, hash, 65);
    }
    cc_sq_done(s);
    if (rc == SQLITE_ROW)
        return CC_OK;
    if (rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading the audit chain");
    *id = 0;
    cc_strlcpy(hash, CC_AUDIT_GENESIS, 65);
    s = cc_sq_stmt(c, sql_anchor, err);
    if (!s)
        return CC_ERR_STORE;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        cc_sq_col_text(s, 1, hash, 65);
    }
    cc_sq_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? CC_OK
               : cc_sq_db_error(err, c->db, "reading the audit anchor");
}

static enum cc_err insert_entry(struct conn *c, const struct cc_audit_entry *e,
                                struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, e->id);
    sqlite3_bind_int64(s, 2, e->created_at);
    sqlite3_bind_int64(s, 3, e->account_id);
    sqlite3_bind_text(s, 4, e->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, e->source, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, e->request_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, e->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, e->target_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, e->target_id, -1, SQLITE_STATIC);
    bind_text_or_null(s, 10, e->changes);
    sqlite3_bind_text(s, 11, e->hash, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "writing the audit log", err);
}

static enum cc_err tx_audit_append(void *tx, struct cc_audit_entry *e, struct cc_error *err)
{
    struct conn *c = tx;
    int64_t last;
    char prev[65];
    enum cc_err rc = cc_store_audit_check(e, err);
    if (!rc)
        rc = chain_end(c, &last, prev, err);
    if (rc)
        return rc;
    cc_store_audit_link(e, last, prev);
    return insert_entry(c, e, err);
}

static enum cc_err tx_audit(void *tx, int64_t account_id, const char *actor, const char *action,
                            const char *object_type, int64_t object_id, const char *detail,
                            int64_t now, struct cc_error *err)
{
    struct cc_audit_entry e;
    enum cc_err rc = cc_store_audit_entry_make(&e, account_id, actor, action, object_type,
                                               object_id, detail, now, err);
    if (!rc)
        rc = tx_audit_append(tx, &e, err);
    free(e.changes);
    return rc;
}

static void read_entry(sqlite3_stmt *s, struct cc_audit_entry *e)
{
    memset(e, 0, sizeof *e);
    e->id = sqlite3_column_int64(s, 0);
    e->created_at = sqlite3_column_int64(s, 1);
    e->account_id = sqlite3_column_int64(s, 2);
    cc_sq_col_text(s, 3, e->actor, sizeof e->actor);
    cc_sq_col_text(s, 4, e->source, sizeof e->source);
    cc_sq_col_text(s, 5, e->request_id, sizeof e->request_id);
    cc_sq_col_text(s, 6, e->action, sizeof e->action);
    cc_sq_col_text(s, 7, e->target_type, sizeof e->target_type);
    cc_sq_col_text(s, 8, e->target_id, sizeof e->target_id);
    const unsigned char *ch = sqlite3_column_text(s, 9);
    e->changes = ch ? cc_strdup((const char *)ch) : NULL;
    cc_sq_col_text(s, 10, e->hash, sizeof e->hash);
}

/* Steps s (bound) into a new array of at most max entries. */
static enum cc_err read_entries(struct conn *c, sqlite3_stmt *s, size_t max,
                                struct cc_audit_entry **out, size_t *n, struct cc_error *err)
{
    struct cc_audit_entry *items = cc_calloc(max ? max : 1, sizeof *items);
    size_t len = 0;
    int rc = SQLITE_DONE;
    while (len < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
        read_entry(s, &items[len++]);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cc_audit_entries_free(items, len);
        return cc_sq_db_error(err, c->db, "reading the audit log");
    }
    *out = items;
    *n = len;
    return CC_OK;
}

static void bind_filter(sqlite3_stmt *s, const struct cc_audit_filter *f)
{
    sqlite3_bind_int64(s, 1, f->account_id);
    bind_text_or_null(s, 2, f->actor);
    bind_text_or_null(s, 3, f->action);
    bind_text_or_null(s, 4, f->target_type);
    bind_text_or_null(s, 5, f->target_id);
    sqlite3_bind_int64(s, 6, f->since);
    sqlite3_bind_int64(s, 7, f->until);
}

static enum cc_err read_audit_list(void *impl, const struct cc_audit_filter *f,
                                   struct cc_audit_entry **out, size_t *n, int64_t *total,
                                   struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_count, err);
    if (!s)
        return CC_ERR_STORE;
    bind_filter(s, f);
    enum cc_err rc = cc_sq_count(c, s, total, "counting audit entries", err);
    if (rc)
        return rc;
    if (!(s = cc_sq_stmt(c, sql_list, err)))
        return CC_ERR_STORE;
    bind_filter(s, f);
    sqlite3_bind_int64(s, 8, f->page_size);
    sqlite3_bind_int64(s, 9, (f->page - 1) * f->page_size);
    return read_entries(c, s, (size_t)f->page_size, out, n, err);
}

static enum cc_err read_audit_chain(void *impl, int64_t after_id, size_t limit,
                                    struct cc_audit_entry **out, size_t *n,
                                    struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_chain, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, after_id);
    sqlite3_bind_int64(s, 2, (int64_t)limit);
    return read_entries(c, s, limit, out, n, err);
}

static enum cc_err read_audit_anchor(void *impl, int64_t *last_id, char hash[65],
                                     int64_t *removed, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_anchor, err);
    if (!s)
        return CC_ERR_STORE;
    *last_id = 0;
    *removed = 0;
    cc_strlcpy(hash, CC_AUDIT_GENESIS, 65);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *last_id = sqlite3_column_int64(s, 0);
        cc_sq_col_text(s, 1, hash, 65);
        *removed = sqlite3_column_int64(s, 2);
    }
    cc_sq_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? CC_OK
               : cc_sq_db_error(err, c->db, "reading the audit anchor");
}

static enum cc_err retain_counts(struct conn *c, int64_t through, struct cc_audit_removal **out,
                                 size_t *n, int64_t *total, struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_retain_counts, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, through);
    size_t cap = 8, len = 0;
    struct cc_audit_removal *r = cc_calloc(cap, sizeof *r);
    int rc;
    *total = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (len == cap)
            r = cc_realloc(r, (cap *= 2) * sizeof *r);
        r[len].account_id = sqlite3_column_int64(s, 0);
        r[len].removed = sqlite3_column_int64(s, 1);
        r[len].first_at = sqlite3_column_int64(s, 2);
        r[len].last_at = sqlite3_column_int64(s, 3);
        *total += r[len++].removed;
    }
    cc_sq_done(s);
    if (rc != SQLITE_DONE) {
        cc_free(r);
        return cc_sq_db_error(err, c->db, "counting audit entries to remove");
    }
    *out = r;
    *n = len;
    return CC_OK;
}

static enum cc_err tx_audit_retain(void *tx, int64_t before, int64_t max, int64_t now,
                                   struct cc_audit_removal **out, size_t *n, int64_t *through,
                                   struct cc_error *err)
{
    struct conn *c = tx;
    *out = NULL;
    *n = 0;
    *through = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_retain_through, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, before);
    sqlite3_bind_int64(s, 2, max);
    int rc = sqlite3_step(s);
    int64_t last = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    cc_sq_done(s);
    if (rc != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "finding audit entries to remove");
    if (last <= 0)
        return CC_OK;
    int64_t total = 0;
    enum cc_err e = retain_counts(c, last, out, n, &total, err);
    if (e || total == 0)
        return e;
    char hash[65] = "";
    if (!(s = cc_sq_stmt(c, sql_hash_of, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, last);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        cc_sq_col_text(s, 0, hash, sizeof hash);
    cc_sq_done(s);
    if (rc != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "reading the last audit entry to remove");
    if (!(s = cc_sq_stmt(c, sql_anchor_set, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, last);
    sqlite3_bind_text(s, 2, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, total);
    sqlite3_bind_int64(s, 4, now);
    if ((e = cc_sq_step_done(c, s, "moving the audit anchor", err)))
        return e;
    if (!(s = cc_sq_stmt(c, sql_retain_delete, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, last);
    if ((e = cc_sq_step_done(c, s, "removing old audit entries", err)))
        return e;
    *through = last;
    return CC_OK;
}

/* ---- sealing the entries of before the chain (migration 0018) -------------- */

/* Entries copied from the old audit_log have no hash. When no entry has one
 * yet, they are chained in id order, and a console user's email that the
 * old log kept in full is masked on the way. Once any entry has a hash
 * nothing is sealed again: an entry whose hash went missing later is
 * reported by `audit verify`, not made whole. */
static enum cc_err seal_one(sqlite3 *db, sqlite3_stmt *up, struct cc_audit_entry *e,
                            const char *prev, struct cc_error *err)
{
    if (e->changes && !strncmp(e->action, "user.", 5)) {
        json_t *o = json_loads(e->changes, 0, NULL);
        const char *v = json_string_value(json_object_get(json_object_get(o, "detail"), "new"));
        if (v && strchr(v, '@')) {
            char masked[CC_MASKED_MAX];
            cc_mask_email(v, masked, sizeof masked);
            json_t *n = json_pack("{s:{s:s}}", "email", "new", masked);
            char *t = n ? json_dumps(n, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
            json_decref(n);
            if (t) {
                cc_free(e->changes);
                e->changes = cc_strdup(t);
                free(t);
            }
        }
        json_decref(o);
    }
    cc_audit_hash(e, prev, e->hash);
    sqlite3_bind_text(up, 1, e->hash, -1, SQLITE_STATIC);
    bind_text_or_null(up, 2, e->changes);
    sqlite3_bind_int64(up, 3, e->id);
    int rc = sqlite3_step(up);
    sqlite3_reset(up);
    sqlite3_clear_bindings(up);
    return rc == SQLITE_DONE ? CC_OK : cc_sq_db_error(err, db, "sealing the audit log");
}

/* The old audit_log table, if it is still a table: its rows into
 * audit_entries (unchained), then a view in its place. */
static enum cc_err move_old_log(sqlite3 *db, struct cc_error *err)
{
    sqlite3_stmt *q = NULL;
    int is_table = 0;
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                               "name = 'audit_log'", -1, &q, NULL) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
        is_table = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    if (is_table &&
        cc_sq_exec(db, "INSERT OR IGNORE INTO audit_entries(id, created_at, account_id, actor, "
                       "action, target_type, target_id, changes) "
                       "SELECT id, created_at, account_id, actor, action, object_type, "
                       "object_id, CASE WHEN detail IS NULL THEN NULL ELSE "
                       "json_object('detail', json_object('new', detail)) END FROM audit_log; "
                       "DROP TABLE audit_log") != SQLITE_OK)
        return cc_sq_db_error(err, db, "moving the old audit log");
    if (cc_sq_exec(db, "CREATE VIEW IF NOT EXISTS audit_log AS SELECT id, account_id, actor, "
                       "action, target_type AS object_type, target_id AS object_id, changes AS "
                       "detail, created_at FROM audit_entries") != SQLITE_OK)
        return cc_sq_db_error(err, db, "making the audit_log view");
    return CC_OK;
}

enum cc_err cc_sq_audit_seal(sqlite3 *db, struct cc_error *err)
{
    sqlite3_stmt *q = NULL, *up = NULL;
    enum cc_err rc = move_old_log(db, err);
    int sealed = 0;
    if (rc)
        return rc;
    if (sqlite3_prepare_v2(db, "SELECT EXISTS (SELECT 1 FROM audit_entries WHERE hash IS NOT "
                               "NULL)", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        rc = cc_sq_db_error(err, db, "reading the audit log");
        goto out;
    }
    sealed = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    q = NULL;
    if (sealed)
        goto out;
    if (sqlite3_prepare_v2(db, "SELECT " CC_ENTRY_COLS " FROM audit_entries ORDER BY id", -1, &q,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "UPDATE audit_entries SET hash = ?1, changes = ?2 WHERE id = ?3",
                           -1, &up, NULL) != SQLITE_OK) {
        rc = cc_sq_db_error(err, db, "sealing the audit log");
        goto out;
    }
    char prev[65];
    cc_strlcpy(prev, CC_AUDIT_GENESIS, sizeof prev);
    int st = SQLITE_DONE;
    while (!rc && (st = sqlite3_step(q)) == SQLITE_ROW) {
        struct cc_audit_entry e;
        read_entry(q, &e);
        rc = seal_one(db, up, &e, prev, err);
        cc_strlcpy(prev, e.hash, sizeof prev);
        cc_free(e.changes);
    }
    if (!rc && st != SQLITE_DONE)
        rc = cc_sq_db_error(err, db, "sealing the audit log");
out:
    sqlite3_finalize(q);
    sqlite3_finalize(up);
    return rc;
}

const struct cc_store_audit_ops cc_sq_audit_ops = {CC_STORE_AUDIT_OPS(CC_STORE_OP_INIT)};
