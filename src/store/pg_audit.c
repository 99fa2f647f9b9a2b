/*
 * pg_audit.c — the PostgreSQL side of the audit log (schema 0024): an
 * append-only hash chain, statement for statement like sqlite_audit.c.
 * Appends run inside the change's own SERIALIZABLE transaction: two appends
 * that read the same chain end both insert the same next id, and the second
 * fails with a serialization failure (40001; PostgreSQL reports a
 * serializable transaction's duplicate key of a concurrent insert that way)
 * and is run again by cc_store_write, so the chain never forks. Triggers
 * refuse any update, and any delete but retention's, which moves the
 * anchor first (SQLSTATE 23000, the SQLite texts).
 *
 * cc_sq_audit_seal (moving and chaining the rows of the old audit_log table)
 * has no counterpart: a PostgreSQL database starts at schema 0024, with the
 * audit_log view and no entries of before the chain.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_last[] = "SELECT id, hash FROM audit_entries ORDER BY id DESC LIMIT 1";
static const char sql_anchor[] =
    "SELECT last_id, hash, removed FROM audit_anchor WHERE id = 1";
static const char sql_insert[] =
    "INSERT INTO audit_entries(" CC_ENTRY_COLS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
    "$10, $11)";
/* Filters: NULL / 0 match everything. */
#define FILTER                                                                          \
    "WHERE account_id = $1 AND ($2::text IS NULL OR actor = $2) "                       \
    "AND ($3::text IS NULL OR action = $3) "                                            \
    "AND ($4::text IS NULL OR target_type = $4) AND ($5::text IS NULL OR target_id = $5) " \
    "AND ($6::bigint = 0 OR created_at >= $6) AND ($7::bigint = 0 OR created_at < $7)"
static const char sql_list[] =
    "SELECT " CC_ENTRY_COLS " FROM audit_entries " FILTER " ORDER BY id DESC LIMIT $8 OFFSET $9";
static const char sql_count[] = "SELECT count(*) FROM audit_entries " FILTER;
static const char sql_chain[] =
    "SELECT " CC_ENTRY_COLS " FROM audit_entries WHERE id > $1 ORDER BY id LIMIT $2";
/* The front of the chain that is older than $1: up to the entry before the
 * first one that is not, at most $2 entries from the first. SQLite's scalar
 * min() is LEAST here; both arguments are NULL together (no entries). */
static const char sql_retain_through[] =
    "SELECT LEAST(coalesce((SELECT min(id) - 1 FROM audit_entries WHERE created_at >= $1), "
    "(SELECT max(id) FROM audit_entries)), (SELECT min(id) FROM audit_entries) + $2::bigint "
    "- 1)";
static const char sql_retain_counts[] =
    "SELECT account_id, count(*), min(created_at), max(created_at) FROM audit_entries "
    "WHERE id <= $1 GROUP BY account_id ORDER BY account_id";
static const char sql_hash_of[] = "SELECT hash FROM audit_entries WHERE id = $1";
static const char sql_anchor_set[] =
    "INSERT INTO audit_anchor(id, last_id, hash, removed, updated_at) VALUES (1, $1, $2, $3, $4) "
    "ON CONFLICT(id) DO UPDATE SET last_id = excluded.last_id, hash = excluded.hash, "
    "removed = audit_anchor.removed + excluded.removed, updated_at = excluded.updated_at";
static const char sql_retain_delete[] = "DELETE FROM audit_entries WHERE id <= $1";

static void bind_text_or_null(struct pgp *p, const char *v)
{
    cc_pg_text(p, v && v[0] ? v : NULL);
}

/* The chain's current end on c: the last entry's id and hash, else the
 * anchor's, else 0 and the genesis hash. */
static enum cc_err chain_end(struct pgc *c, int64_t *id, char hash[65], struct cc_error *err)
{
    PGresult *r = cc_pg_exec(c, sql_last, NULL, "reading the audit chain", err);
    if (!r)
        return err->code;
    int found = PQntuples(r) > 0;
    if (found) {
        *id = cc_pg_get_i64(r, 0, 0);
        cc_pg_get_text(r, 0, 1, hash, 65);
    }
    PQclear(r);
    if (found)
        return CC_OK;
    *id = 0;
    cc_strlcpy(hash, CC_AUDIT_GENESIS, 65);
    if (!(r = cc_pg_exec(c, sql_anchor, NULL, "reading the audit anchor", err)))
        return err->code;
    if (PQntuples(r) > 0) {
        *id = cc_pg_get_i64(r, 0, 0);
        cc_pg_get_text(r, 0, 1, hash, 65);
    }
    PQclear(r);
    return CC_OK;
}

static enum cc_err insert_entry(struct pgc *c, const struct cc_audit_entry *e,
                                struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, e->id);
    cc_pg_i64(&p, e->created_at);
    cc_pg_i64(&p, e->account_id);
    cc_pg_text(&p, e->actor);
    cc_pg_text(&p, e->source);
    cc_pg_text(&p, e->request_id);
    cc_pg_text(&p, e->action);
    cc_pg_text(&p, e->target_type);
    cc_pg_text(&p, e->target_id);
    bind_text_or_null(&p, e->changes);
    cc_pg_text(&p, e->hash);
    return cc_pg_do(c, sql_insert, &p, "writing the audit log", err);
}

static enum cc_err tx_audit_append(void *tx, struct cc_audit_entry *e, struct cc_error *err)
{
    struct pgc *c = tx;
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

static void read_entry(const PGresult *r, int row, struct cc_audit_entry *e)
{
    memset(e, 0, sizeof *e);
    e->id = cc_pg_get_i64(r, row, 0);
    e->created_at = cc_pg_get_i64(r, row, 1);
    e->account_id = cc_pg_get_i64(r, row, 2);
    cc_pg_get_text(r, row, 3, e->actor, sizeof e->actor);
    cc_pg_get_text(r, row, 4, e->source, sizeof e->source);
    cc_pg_get_text(r, row, 5, e->request_id, sizeof e->request_id);
    cc_pg_get_text(r, row, 6, e->action, sizeof e->action);
    cc_pg_get_text(r, row, 7, e->target_type, sizeof e->target_type);
    cc_pg_get_text(r, row, 8, e->target_id, sizeof e->target_id);
    e->changes = cc_pg_isnull(r, row, 9) ? NULL : cc_strdup(cc_pg_get_str(r, row, 9));
    cc_pg_get_text(r, row, 10, e->hash, sizeof e->hash);
}

/* Runs sql with p into a new array of at most max entries. */
static enum cc_err read_entries(struct pgc *c, const char *sql, const struct pgp *p, size_t max,
                                struct cc_audit_entry **out, size_t *n, struct cc_error *err)
{
    PGresult *r = cc_pg_exec(c, sql, p, "reading the audit log", err);
    if (!r)
        return err->code;
    struct cc_audit_entry *items = cc_calloc(max ? max : 1, sizeof *items);
    size_t len = 0;
    int rows = PQntuples(r);
    while (len < max && (int)len < rows) {
        read_entry(r, (int)len, &items[len]);
        len++;
    }
    PQclear(r);
    *out = items;
    *n = len;
    return CC_OK;
}

static void bind_filter(struct pgp *p, const struct cc_audit_filter *f)
{
    cc_pg_params(p);
    cc_pg_i64(p, f->account_id);
    bind_text_or_null(p, f->actor);
    bind_text_or_null(p, f->action);
    bind_text_or_null(p, f->target_type);
    bind_text_or_null(p, f->target_id);
    cc_pg_i64(p, f->since);
    cc_pg_i64(p, f->until);
}

static enum cc_err read_audit_list(void *impl, const struct cc_audit_filter *f,
                                   struct cc_audit_entry **out, size_t *n, int64_t *total,
                                   struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    bind_filter(&p, f);
    enum cc_err rc = cc_pg_one_i64(c, sql_count, &p, total, "counting audit entries", err);
    if (rc)
        goto out;
    bind_filter(&p, f);
    cc_pg_i64(&p, f->page_size);
    cc_pg_i64(&p, (f->page - 1) * f->page_size);
    rc = read_entries(c, sql_list, &p, (size_t)f->page_size, out, n, err);
out:
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_audit_chain(void *impl, int64_t after_id, size_t limit,
                                    struct cc_audit_entry **out, size_t *n,
                                    struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, after_id);
    cc_pg_i64(&p, (int64_t)limit);
    enum cc_err rc = read_entries(c, sql_chain, &p, limit, out, n, err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_audit_anchor(void *impl, int64_t *last_id, char hash[65],
                                     int64_t *removed, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    *last_id = 0;
    *removed = 0;
    cc_strlcpy(hash, CC_AUDIT_GENESIS, 65);
    enum cc_err rc = CC_OK;
    PGresult *r = cc_pg_exec(c, sql_anchor, NULL, "reading the audit anchor", err);
    if (!r)
        rc = err->code;
    else if (PQntuples(r) > 0) {
        *last_id = cc_pg_get_i64(r, 0, 0);
        cc_pg_get_text(r, 0, 1, hash, 65);
        *removed = cc_pg_get_i64(r, 0, 2);
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err retain_counts(struct pgc *c, int64_t through, struct cc_audit_removal **out,
                                 size_t *n, int64_t *total, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, through);
    PGresult *r = cc_pg_exec(c, sql_retain_counts, &p, "counting audit entries to remove", err);
    if (!r)
        return err->code;
    size_t len = (size_t)PQntuples(r);
    struct cc_audit_removal *rm = cc_calloc(len ? len : 1, sizeof *rm);
    *total = 0;
    for (size_t i = 0; i < len; i++) {
        rm[i].account_id = cc_pg_get_i64(r, (int)i, 0);
        rm[i].removed = cc_pg_get_i64(r, (int)i, 1);
        rm[i].first_at = cc_pg_get_i64(r, (int)i, 2);
        rm[i].last_at = cc_pg_get_i64(r, (int)i, 3);
        *total += rm[i].removed;
    }
    PQclear(r);
    *out = rm;
    *n = len;
    return CC_OK;
}

/* The hash of entry id into hash (65 bytes). */
static enum cc_err hash_of(struct pgc *c, int64_t id, char *hash, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, id);
    const char *what = "reading the last audit entry to remove";
    PGresult *r = cc_pg_exec(c, sql_hash_of, &p, what, err);
    if (!r)
        return err->code;
    int found = PQntuples(r) == 1;
    if (found)
        cc_pg_get_text(r, 0, 0, hash, 65);
    PQclear(r);
    /* SQLite's step answers DONE here, which cc_sq_db_error reports as a
     * database error with the connection's last message. */
    return found ? CC_OK
                 : cc_error_set(err, CC_ERR_STORE, NULL, "database error in %s: %s", what,
                                "not an error");
}

static enum cc_err tx_audit_retain(void *tx, int64_t before, int64_t max, int64_t now,
                                   struct cc_audit_removal **out, size_t *n, int64_t *through,
                                   struct cc_error *err)
{
    struct pgc *c = tx;
    *out = NULL;
    *n = 0;
    *through = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, before);
    cc_pg_i64(&p, max);
    int64_t last = 0;
    enum cc_err e =
        cc_pg_one_i64(c, sql_retain_through, &p, &last, "finding audit entries to remove", err);
    if (e)
        return e == CC_ERR_NOT_FOUND ? CC_OK : e;
    if (last <= 0)
        return CC_OK;
    int64_t total = 0;
    e = retain_counts(c, last, out, n, &total, err);
    if (e || total == 0)
        return e;
    char hash[65] = "";
    if ((e = hash_of(c, last, hash, err)))
        return e;
    cc_pg_params(&p);
    cc_pg_i64(&p, last);
    cc_pg_text(&p, hash);
    cc_pg_i64(&p, total);
    cc_pg_i64(&p, now);
    if ((e = cc_pg_do(c, sql_anchor_set, &p, "moving the audit anchor", err)))
        return e;
    cc_pg_params(&p);
    cc_pg_i64(&p, last);
    if ((e = cc_pg_do(c, sql_retain_delete, &p, "removing old audit entries", err)))
        return e;
    *through = last;
    return CC_OK;
}

const struct cc_store_audit_ops cc_pg_audit_ops = {CC_STORE_AUDIT_OPS(CC_STORE_OP_INIT)};
