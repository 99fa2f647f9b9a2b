/*
 * copy.c — `certcontacts db copy`: every row of one database into another,
 * SQLite to PostgreSQL or back, then proved equal table by table by row
 * counts and SHA-256 checksums.
 *
 * Both databases are first brought to this release's schema (the store's
 * own migrations), so their tables and columns are the same. Tables are
 * copied parents first (by their foreign keys), each in batches taken in
 * primary-key order from one snapshot of the source; a batch is one
 * transaction on the target, written as upserts with the target's own
 * triggers off (they would count contacts twice, seal the audit log, bump
 * the key generation: the copied rows already say what they say). A mark in
 * the target's meta table (copy_from) says a copy is under way: run again
 * after an interruption, the copy goes on after the last batch that
 * committed; a target holding other data is refused. Identity sequences
 * (PostgreSQL) move past the copied ids and SQLite's full-text indexes are
 * rebuilt. The mark is removed only once every table checks out.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpq-fe.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "store/sqlite_int.h"
#include "store/store_int.h"
#include "util/util.h"

#define TABLES_MAX 80
#define COLS_MAX 48
#define BATCH_ROWS 1000
#define CP_NAME 64

struct col {
    char name[CP_NAME];
    int blob;                     /* BLOB / bytea */
    int text;                     /* TEXT: compared byte by byte */
};

struct table {
    char name[CP_NAME];
    struct col cols[COLS_MAX];
    int ncols;
    int pk[COLS_MAX];             /* column indexes of the primary key, in order */
    int npk;
    char parents[8][CP_NAME];
    int nparents;
    int done;
};

/* One side of the copy: a raw connection to either kind of database. */
struct side {
    int pg;
    sqlite3 *db;
    PGconn *pc;
    const char *url;
};

/* One value read from a row, borrowed from the driver until the next row. */
struct val {
    int null;
    const char *p;                /* text (NUL-terminated) or blob bytes */
    size_t len;
    int blob;
    unsigned char *owned;         /* PQunescapeBytea's, freed by the reader */
};

static int is_pg_url(const char *url)
{
    return !strncmp(url, "postgres://", 11) || !strncmp(url, "postgresql://", 13);
}

static enum cc_err side_error(struct side *s, struct cc_error *err, const char *what)
{
    return cc_error_set(err, CC_ERR_STORE, NULL, "%s: %s", what,
                        s->pg ? PQerrorMessage(s->pc) : sqlite3_errmsg(s->db));
}

static enum cc_err side_open(struct side *s, const char *url, struct cc_error *err)
{
    memset(s, 0, sizeof *s);
    s->url = url;
    s->pg = is_pg_url(url);
    if (s->pg) {
        const char *keys[] = {"dbname", "options", NULL};
        const char *vals[] = {url, "-c client_min_messages=warning", NULL};
        s->pc = PQconnectdbParams(keys, vals, 1);
        if (PQstatus(s->pc) != CONNECTION_OK)
            return side_error(s, err, "cannot connect to the database");
        return CC_OK;
    }
    const char *path = !strncmp(url, "sqlite:", 7) ? url + 7 : url;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return side_error(s, err, "cannot open the database");
    sqlite3_busy_timeout(s->db, 10000);
    return CC_OK;
}

static void side_close(struct side *s)
{
    if (s->pc)
        PQfinish(s->pc);
    if (s->db)
        sqlite3_close(s->db);
}

/* Runs sql (no rows wanted). */
static enum cc_err side_exec(struct side *s, const char *sql, struct cc_error *err)
{
    if (s->pg) {
        PGresult *r = PQexec(s->pc, sql);
        ExecStatusType st = PQresultStatus(r);
        PQclear(r);
        return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? CC_OK
                                                                : side_error(s, err, sql);
    }
    return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? CC_OK
                                                                   : side_error(s, err, sql);
}

/* ---- a query returning rows, on either side ------------------------------------- */
struct rows {
    struct side *s;
    sqlite3_stmt *st;
    PGresult *r;
    int row, nrows, ncols;
    struct val v[COLS_MAX];
};

/* Starts sql with params (text; NULL entries are SQL NULL). blob_cols marks
 * the result's bytea columns (PostgreSQL returns them escaped). */
static enum cc_err rows_start(struct rows *q, struct side *s, const char *sql,
                              const char *const *params, int nparams, const struct table *t,
                              struct cc_error *err)
{
    memset(q, 0, sizeof *q);
    q->s = s;
    q->row = -1;
    if (s->pg) {
        q->r = PQexecParams(s->pc, sql, nparams, NULL, params, NULL, NULL, 0);
        if (PQresultStatus(q->r) != PGRES_TUPLES_OK) {
            enum cc_err rc = side_error(s, err, "reading rows");
            PQclear(q->r);
            q->r = NULL;
            return rc;
        }
        q->nrows = PQntuples(q->r);
        q->ncols = PQnfields(q->r);
    } else {
        if (sqlite3_prepare_v2(s->db, sql, -1, &q->st, NULL) != SQLITE_OK)
            return side_error(s, err, "reading rows");
        for (int i = 0; i < nparams; i++)
            if (params[i])
                sqlite3_bind_text(q->st, i + 1, params[i], -1, SQLITE_STATIC);
        q->ncols = sqlite3_column_count(q->st);
    }
    for (int i = 0; t && i < q->ncols && i < t->ncols; i++)
        q->v[i].blob = t->cols[i].blob;
    return CC_OK;
}

static void rows_free_owned(struct rows *q)
{
    for (int i = 0; i < q->ncols; i++)
        if (q->v[i].owned) {
            PQfreemem(q->v[i].owned);
            q->v[i].owned = NULL;
        }
}

/* The next row into q->v: 1, 0 at the end, -1 on an error (*err set). */
static int rows_next(struct rows *q, struct cc_error *err)
{
    rows_free_owned(q);
    if (q->s->pg) {
        if (++q->row >= q->nrows)
            return 0;
        for (int i = 0; i < q->ncols && i < COLS_MAX; i++) {
            struct val *v = &q->v[i];
            v->null = PQgetisnull(q->r, q->row, i);
            v->p = v->null ? NULL : PQgetvalue(q->r, q->row, i);
            v->len = v->null ? 0 : (size_t)PQgetlength(q->r, q->row, i);
            if (!v->null && v->blob) {
                v->owned = PQunescapeBytea((const unsigned char *)v->p, &v->len);
                v->p = (const char *)v->owned;
            }
        }
        return 1;
    }
    int rc = sqlite3_step(q->st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW) {
        side_error(q->s, err, "reading rows");
        return -1;
    }
    for (int i = 0; i < q->ncols && i < COLS_MAX; i++) {
        struct val *v = &q->v[i];
        int type = sqlite3_column_type(q->st, i);
        v->null = type == SQLITE_NULL;
        if (type == SQLITE_BLOB) {
            v->p = sqlite3_column_blob(q->st, i);
        } else {
            v->p = (const char *)sqlite3_column_text(q->st, i);
        }
        v->len = (size_t)sqlite3_column_bytes(q->st, i);
        if (v->null)
            v->p = NULL;
    }
    return 1;
}

static void rows_end(struct rows *q)
{
    rows_free_owned(q);
    PQclear(q->r);
    sqlite3_finalize(q->st);
    q->r = NULL;
    q->st = NULL;
}

/* The first column of sql's first row as an integer (0 when none). */
static enum cc_err side_int(struct side *s, const char *sql, int64_t *out, struct cc_error *err)
{
    struct rows q;
    enum cc_err rc = rows_start(&q, s, sql, NULL, 0, NULL, err);
    if (rc)
        return rc;
    int got = rows_next(&q, err);
    *out = got == 1 && !q.v[0].null ? strtoll(q.v[0].p, NULL, 10) : 0;
    rows_end(&q);
    return got < 0 ? CC_ERR_STORE : CC_OK;
}

/* ---- the schema, read from one side ---------------------------------------------- */
static enum cc_err read_columns(struct side *s, struct table *t, struct cc_error *err)
{
    char sql[512];
    const char *param[1] = {t->name};
    if (s->pg)
        snprintf(sql, sizeof sql,
                 "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
                 "coalesce(array_position(i.indkey::int2[], a.attnum), 0), "
                 "0 FROM pg_attribute a LEFT JOIN pg_index i ON "
                 "i.indrelid = a.attrelid AND i.indisprimary WHERE a.attrelid = $1::regclass "
                 "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum");
    else
        snprintf(sql, sizeof sql,
                 "SELECT name, upper(type), pk, 0 FROM pragma_table_info(?1) ORDER BY cid");
    struct rows q;
    enum cc_err rc = rows_start(&q, s, sql, param, 1, NULL, err);
    if (rc)
        return rc;
    int got, pkpos[COLS_MAX] = {0};
    t->ncols = 0;
    while ((got = rows_next(&q, err)) == 1 && t->ncols < COLS_MAX) {
        struct col *c = &t->cols[t->ncols];
        cc_strlcpy(c->name, q.v[0].p, sizeof c->name);
        c->blob = strstr(q.v[1].p, "BLOB") || strstr(q.v[1].p, "bytea");
        c->text = strstr(q.v[1].p, "TEXT") || strstr(q.v[1].p, "text");
        pkpos[t->ncols++] = (int)strtol(q.v[2].p, NULL, 10);
    }
    rows_end(&q);
    if (got < 0)
        return CC_ERR_STORE;
    t->npk = 0;
    for (int k = 1; k <= t->ncols; k++)
        for (int i = 0; i < t->ncols; i++)
            if (pkpos[i] == k)
                t->pk[t->npk++] = i;
    return CC_OK;
}

static enum cc_err read_parents(struct side *s, struct table *t, struct cc_error *err)
{
    const char *param[1] = {t->name};
    const char *sql = s->pg ? "SELECT DISTINCT confrelid::regclass::text FROM pg_constraint "
                              "WHERE conrelid = $1::regclass AND contype = 'f'"
                            : "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?1)";
    struct rows q;
    enum cc_err rc = rows_start(&q, s, sql, param, 1, NULL, err);
    if (rc)
        return rc;
    int got;
    while ((got = rows_next(&q, err)) == 1 && t->nparents < 8)
        if (strcmp(q.v[0].p, t->name))
            cc_strlcpy(t->parents[t->nparents++], q.v[0].p, CP_NAME);
    rows_end(&q);
    return got < 0 ? CC_ERR_STORE : CC_OK;
}

/* The tables of the source, parents before children. */
static enum cc_err read_tables(struct side *s, struct table *out, int *n, struct cc_error *err)
{
    const char *sql =
        s->pg ? "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema() AND "
                "c.relname <> 'schema_migrations' ORDER BY c.relname"
              : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                "'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'contacts\\_fts%' ESCAPE '\\' AND "
                "name NOT LIKE 'contacts\\_grams%' ESCAPE '\\' AND "
                "name <> 'schema_migrations' ORDER BY name";
    struct table *all = cc_calloc(TABLES_MAX, sizeof *all);
    int count = 0, got;
    struct rows q;
    enum cc_err rc = rows_start(&q, s, sql, NULL, 0, NULL, err);
    if (rc) {
        cc_free(all);
        return rc;
    }
    while ((got = rows_next(&q, err)) == 1 && count < TABLES_MAX)
        cc_strlcpy(all[count++].name, q.v[0].p, CP_NAME);
    rows_end(&q);
    for (int i = 0; !rc && i < count; i++)
        if (!(rc = read_columns(s, &all[i], err)))
            rc = read_parents(s, &all[i], err);
    /* parents first: repeatedly take a table whose parents are all taken */
    *n = 0;
    while (!rc && *n < count) {
        int progressed = 0;
        for (int i = 0; i < count; i++) {
            if (all[i].done)
                continue;
            int ready = 1;
            for (int p = 0; p < all[i].nparents && ready; p++)
                for (int j = 0; j < count; j++)
                    if (!strcmp(all[j].name, all[i].parents[p]) && !all[j].done)
                        ready = 0;
            if (ready) {
                all[i].done = 1;
                out[(*n)++] = all[i];
                progressed = 1;
            }
        }
        if (!progressed)
            rc = cc_error_set(err, CC_ERR_INTERNAL, NULL, "the tables' foreign keys form a cycle");
    }
    cc_free(all);
    return got < 0 ? CC_ERR_STORE : rc;
}

/* ---- SQL for a table ---------------------------------------------------------------- */
/* The key column k as PostgreSQL must compare it to match SQLite's byte order. */
static void put_key_col(struct cc_buf *b, const struct side *s, const struct col *c)
{
    cc_buf_printf(b, "\"%s\"%s", c->name, s->pg && c->text ? " COLLATE \"C\"" : "");
}

static void put_param(struct cc_buf *b, const struct side *s, int i)
{
    cc_buf_printf(b, s->pg ? "$%d" : "?%d", i);
}

/* SELECT every column of t [after the key in params] in key order [, at most limit rows]. */
static void select_sql(struct cc_buf *b, const struct side *s, const struct table *t, int after,
                       int limit)
{
    cc_buf_puts(b, "SELECT ");
    for (int i = 0; i < t->ncols; i++)
        cc_buf_printf(b, "%s\"%s\"", i ? ", " : "", t->cols[i].name);
    cc_buf_printf(b, " FROM \"%s\"", t->name);
    if (after && t->npk) {
        cc_buf_puts(b, " WHERE (");
        for (int k = 0; k < t->npk; k++) {
            cc_buf_puts(b, k ? ", " : "");
            put_key_col(b, s, &t->cols[t->pk[k]]);
        }
        cc_buf_puts(b, ") > (");
        for (int k = 0; k < t->npk; k++) {
            cc_buf_puts(b, k ? ", " : "");
            put_param(b, s, k + 1);
        }
        cc_buf_puts(b, ")");
    }
    cc_buf_puts(b, " ORDER BY ");
    int nkey = t->npk ? t->npk : t->ncols;
    for (int k = 0; k < nkey; k++) {
        cc_buf_puts(b, k ? ", " : "");
        put_key_col(b, s, &t->cols[t->npk ? t->pk[k] : k]);
    }
    if (limit)
        cc_buf_printf(b, " LIMIT %d", limit);
}

static void upsert_sql(struct cc_buf *b, const struct side *s, const struct table *t)
{
    cc_buf_printf(b, "INSERT INTO \"%s\" (", t->name);
    for (int i = 0; i < t->ncols; i++)
        cc_buf_printf(b, "%s\"%s\"", i ? ", " : "", t->cols[i].name);
    cc_buf_puts(b, ") VALUES (");
    for (int i = 0; i < t->ncols; i++) {
        cc_buf_puts(b, i ? ", " : "");
        put_param(b, s, i + 1);
    }
    cc_buf_puts(b, ")");
    if (!t->npk)
        return;
    cc_buf_puts(b, " ON CONFLICT (");
    for (int k = 0; k < t->npk; k++)
        cc_buf_printf(b, "%s\"%s\"", k ? ", " : "", t->cols[t->pk[k]].name);
    int set = 0;
    for (int i = 0; i < t->ncols; i++) {
        int key = 0;
        for (int k = 0; k < t->npk; k++)
            key |= t->pk[k] == i;
        if (!key)
            cc_buf_printf(b, "%s\"%s\" = excluded.\"%s\"", set++ ? ", " : ") DO UPDATE SET ",
                          t->cols[i].name, t->cols[i].name);
    }
    if (!set)
        cc_buf_puts(b, ") DO NOTHING");
}

/* ---- the target's triggers, off for the length of a transaction ------------------ */
struct saved_triggers {
    char *sql[16];
    int n;
};

static enum cc_err triggers_off(struct side *s, const struct table *t, struct saved_triggers *sv,
                                struct cc_error *err)
{
    sv->n = 0;
    char sql[256];
    if (s->pg) {
        snprintf(sql, sizeof sql, "ALTER TABLE \"%s\" DISABLE TRIGGER USER", t->name);
        return side_exec(s, sql, err);
    }
    const char *param[1] = {t->name};
    struct rows q;
    enum cc_err rc = rows_start(&q, s,
                                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                                "tbl_name = ?1",
                                param, 1, NULL, err);
    if (rc)
        return rc;
    char names[16][CP_NAME];
    int got;
    while ((got = rows_next(&q, err)) == 1 && sv->n < 16) {
        cc_strlcpy(names[sv->n], q.v[0].p, CP_NAME);
        sv->sql[sv->n++] = cc_strdup(q.v[1].p);
    }
    rows_end(&q);
    for (int i = 0; !rc && i < sv->n; i++) {
        snprintf(sql, sizeof sql, "DROP TRIGGER \"%.63s\"", names[i]);
        rc = side_exec(s, sql, err);
    }
    return got < 0 ? CC_ERR_STORE : rc;
}

static enum cc_err triggers_on(struct side *s, const struct table *t, struct saved_triggers *sv,
                               struct cc_error *err)
{
    enum cc_err rc = CC_OK;
    if (s->pg) {
        char sql[256];
        snprintf(sql, sizeof sql, "ALTER TABLE \"%s\" ENABLE TRIGGER USER", t->name);
        rc = side_exec(s, sql, err);
    }
    for (int i = 0; i < sv->n; i++) {
        if (!rc)
            rc = side_exec(s, sv->sql[i], err);
        cc_free(sv->sql[i]);
    }
    sv->n = 0;
    return rc;
}

/* ---- writing rows --------------------------------------------------------------------- */
struct writer {
    struct side *s;
    sqlite3_stmt *st;
    char *sql;
    const struct table *t;
};

static enum cc_err writer_put(struct writer *w, const struct val *v, struct cc_error *err)
{
    int n = w->t->ncols;
    if (w->s->pg) {
        const char *vals[COLS_MAX];
        int lens[COLS_MAX], fmts[COLS_MAX];
        for (int i = 0; i < n; i++) {
            vals[i] = v[i].null ? NULL : v[i].p ? v[i].p : "";
            lens[i] = (int)v[i].len;
            fmts[i] = w->t->cols[i].blob ? 1 : 0;
        }
        PGresult *r = PQexecParams(w->s->pc, w->sql, n, NULL, vals, lens, fmts, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        return ok ? CC_OK : side_error(w->s, err, "writing a row");
    }
    if (!w->st && sqlite3_prepare_v2(w->s->db, w->sql, -1, &w->st, NULL) != SQLITE_OK)
        return side_error(w->s, err, "writing a row");
    for (int i = 0; i < n; i++) {
        const struct col *c = &w->t->cols[i];
        if (v[i].null)
            sqlite3_bind_null(w->st, i + 1);
        else if (c->blob)
            sqlite3_bind_blob(w->st, i + 1, v[i].p ? v[i].p : "", (int)v[i].len, SQLITE_STATIC);
        else if (!c->text)
            sqlite3_bind_int64(w->st, i + 1, strtoll(v[i].p, NULL, 10));
        else
            sqlite3_bind_text(w->st, i + 1, v[i].p, (int)v[i].len, SQLITE_STATIC);
    }
    int rc = sqlite3_step(w->st);
    sqlite3_reset(w->st);
    sqlite3_clear_bindings(w->st);
    return rc == SQLITE_DONE ? CC_OK : side_error(w->s, err, "writing a row");
}

/* Whether meta row name is a mark of the copy (left out of the checksums). */
static int is_mark(const char *name)
{
    return !strncmp(name, "copy_from", 9) || !strncmp(name, "copy_at:", 8);
}

/* ---- checksums -------------------------------------------------------------------------- */
/* Every row of t on s in key order: how many, and the SHA-256 of their
 * values, each tagged with its kind so that NULL, "" and 0 differ. */
static enum cc_err table_sum(struct side *s, const struct table *t, int64_t *rows,
                             unsigned char sum[32], struct cc_error *err)
{
    struct cc_buf b;
    cc_buf_init(&b, 1 << 16);
    select_sql(&b, s, t, 0, 0);
    struct rows q;
    enum cc_err rc = rows_start(&q, s, b.data, NULL, 0, t, err);
    cc_buf_free(&b);
    if (rc)
        return rc;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    int got;
    *rows = 0;
    int meta = !strcmp(t->name, "meta");
    while ((got = rows_next(&q, err)) == 1) {
        if (meta && q.v[0].p && is_mark(q.v[0].p))
            continue;
        ++*rows;
        for (int i = 0; i < t->ncols; i++) {
            uint64_t len = q.v[i].null ? UINT64_MAX : (uint64_t)q.v[i].len;
            EVP_DigestUpdate(md, &len, sizeof len);
            if (!q.v[i].null && q.v[i].len)
                EVP_DigestUpdate(md, q.v[i].p, q.v[i].len);
        }
    }
    rows_end(&q);
    unsigned int n = 32;
    EVP_DigestFinal_ex(md, sum, &n);
    EVP_MD_CTX_free(md);
    return got < 0 ? CC_ERR_STORE : CC_OK;
}

/* ---- the marks of a copy under way (meta rows copy_from, copy_at:TABLE) --------- */
/* Sets meta row name to value on s (inside the caller's transaction, if any). */
static enum cc_err mark(struct side *s, const char *name, const char *value,
                        struct cc_error *err)
{
    const char *sql = s->pg ? "INSERT INTO meta(name, value) VALUES ($1, $2) ON CONFLICT (name) "
                              "DO UPDATE SET value = excluded.value"
                            : "INSERT INTO meta(name, value) VALUES (?1, ?2) ON CONFLICT (name) "
                              "DO UPDATE SET value = excluded.value";
    if (s->pg) {
        const char *params[2] = {name, value};
        PGresult *r = PQexecParams(s->pc, sql, 2, NULL, params, NULL, NULL, 0);
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        return ok ? CC_OK : side_error(s, err, "marking the copy");
    }
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) == SQLITE_OK;
    if (ok) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        ok = sqlite3_step(st) == SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return ok ? CC_OK : side_error(s, err, "marking the copy");
}

/* The key of a table's last copied row, as a mark's value: each part as
 * LENGTH:TEXT. */
static void key_encode(const struct table *t, char key[][256], char *out, size_t outsz)
{
    struct cc_buf b;
    cc_buf_init(&b, outsz - 1);
    for (int k = 0; k < t->npk; k++)
        cc_buf_printf(&b, "%zu:%s", strlen(key[k]), key[k]);
    cc_strlcpy(out, b.data ? b.data : "", outsz);
    cc_buf_free(&b);
}

static int key_decode(const struct table *t, const char *in, char key[][256])
{
    for (int k = 0; k < t->npk; k++) {
        char *end;
        unsigned long len = strtoul(in, &end, 10);
        if (end == in || *end != ':' || len > 255 || strlen(end + 1) < len)
            return -1;
        memcpy(key[k], end + 1, len);
        key[k][len] = '\0';
        in = end + 1 + len;
    }
    return 0;
}

/* Where a resumed copy of t goes on: after the key its last committed batch
 * recorded (*have 0: from the start). */
static enum cc_err resume_key(struct side *to, const struct table *t, char key[][256], int *have,
                              struct cc_error *err)
{
    char name[96];
    snprintf(name, sizeof name, "copy_at:%s", t->name);
    const char *param[1] = {name};
    struct rows q;
    enum cc_err rc = rows_start(&q, to,
                                to->pg ? "SELECT value FROM meta WHERE name = $1"
                                       : "SELECT value FROM meta WHERE name = ?1",
                                param, 1, NULL, err);
    if (rc)
        return rc;
    int got = rows_next(&q, err);
    *have = got == 1 && q.v[0].p && key_decode(t, q.v[0].p, key) == 0;
    rows_end(&q);
    return got < 0 ? CC_ERR_STORE : CC_OK;
}

static enum cc_err copy_table(struct side *from, struct side *to, const struct table *t,
                              int resume, const struct cc_copy_report *rep, struct cc_error *err)
{
    char key[COLS_MAX][256];
    int have = 0;
    enum cc_err rc = CC_OK;
    if (resume && t->npk)
        rc = resume_key(to, t, key, &have, err);
    struct writer w = {to, NULL, NULL, t};
    struct cc_buf ub, sb;
    cc_buf_init(&ub, 1 << 16);
    upsert_sql(&ub, to, t);
    w.sql = ub.data;
    int64_t done = 0;
    for (int more = 1; !rc && more;) {
        cc_buf_init(&sb, 1 << 16);
        select_sql(&sb, from, t, have, t->npk ? BATCH_ROWS : 0);
        const char *params[COLS_MAX];
        for (int k = 0; k < t->npk; k++)
            params[k] = key[k];
        struct rows q;
        rc = rows_start(&q, from, sb.data, params, have ? t->npk : 0, t, err);
        cc_buf_free(&sb);
        if (rc)
            break;
        struct saved_triggers sv = {{0}, 0};
        rc = side_exec(to, "BEGIN", err);
        if (!rc)
            rc = triggers_off(to, t, &sv, err);
        if (!rc && !t->npk) {
            char del[128];
            snprintf(del, sizeof del, "DELETE FROM \"%s\"", t->name);
            rc = side_exec(to, del, err);
        }
        int got = 0, n = 0;
        while (!rc && (got = rows_next(&q, err)) == 1) {
            rc = writer_put(&w, q.v, err);
            for (int k = 0; !rc && k < t->npk; k++) {
                const struct val *v = &q.v[t->pk[k]];
                cc_strlcpy(key[k], v->p ? v->p : "", 256);
            }
            n++;
        }
        rows_end(&q);
        if (got < 0)
            rc = CC_ERR_STORE;
        if (!rc && t->npk && n) {
            char name[96], value[1100];
            snprintf(name, sizeof name, "copy_at:%s", t->name);
            key_encode(t, key, value, sizeof value);
            rc = mark(to, name, value, err);
        }
        if (!rc)
            rc = triggers_on(to, t, &sv, err);
        if (!rc)
            rc = side_exec(to, "COMMIT", err);
        if (rc) {
            triggers_on(to, t, &sv, &(struct cc_error){0});
            side_exec(to, "ROLLBACK", &(struct cc_error){0});
            break;
        }
        have = have || n > 0;
        done += n;
        more = t->npk && n == BATCH_ROWS;
        if (rep->progress)
            rep->progress(rep->arg, t->name, done, more);
    }
    sqlite3_finalize(w.st);
    cc_buf_free(&ub);
    return rc;
}

/* After the rows: identity sequences past the copied ids (PostgreSQL), the
 * full-text indexes rebuilt (SQLite). */
static enum cc_err table_after(struct side *to, const struct table *t, struct cc_error *err)
{
    char sql[1024];
    if (!to->pg) {
        if (strcmp(t->name, "contacts"))
            return CC_OK;
        enum cc_err rc =
            side_exec(to, "INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild')", err);
        return rc ? rc : cc_sq_grams_rebuild(to->db, err);
    }
    /* the target's own identity columns (the source may be SQLite, which has none) */
    const char *param[1] = {t->name};
    struct rows q;
    enum cc_err rc = rows_start(&q, to,
                                "SELECT attname FROM pg_attribute WHERE attrelid = "
                                "quote_ident($1)::regclass AND attidentity <> '' AND "
                                "NOT attisdropped",
                                param, 1, NULL, err);
    if (rc)
        return rc;
    char cols[4][CP_NAME];
    int n = 0, got;
    while ((got = rows_next(&q, err)) == 1 && n < 4)
        cc_strlcpy(cols[n++], q.v[0].p, CP_NAME);
    rows_end(&q);
    for (int i = 0; !rc && i < n; i++) {
        snprintf(sql, sizeof sql,
                 "SELECT setval(pg_get_serial_sequence('\"%s\"', '%s'), "
                 "coalesce((SELECT max(\"%s\") FROM \"%s\"), 0) + 1, false)",
                 t->name, cols[i], cols[i], t->name);
        rc = side_exec(to, sql, err);
    }
    return got < 0 && !rc ? CC_ERR_STORE : rc;
}

/* ---- the whole copy --------------------------------------------------------------------- */
static enum cc_err prepare_schema(const char *url, int must_exist, struct cc_error *err)
{
    if (must_exist && !is_pg_url(url)) {
        const char *path = !strncmp(url, "sqlite:", 7) ? url + 7 : url;
        struct stat st;
        if (stat(path, &st) != 0)
            return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "database %s does not exist", path);
    }
    struct cc_store_config cfg = {.url = url, .synchronous_full = 1, .busy_timeout_ms = 10000,
                                  .max_batch = 64, .pool_size = 2};
    struct cc_store *s;
    enum cc_err rc = cc_store_open(&cfg, &s, err);
    if (rc)
        return rc;
    rc = cc_store_migrate(s, err);
    cc_store_close(s);
    return rc;
}

/* Whether the target may be written: empty, or marked as a copy of from. */
static enum cc_err target_state(struct side *to, const char *from_url, int *resume,
                                struct cc_error *err)
{
    int64_t accounts = 0, meta = 0, marked = 0;
    char sql[512];
    enum cc_err rc = side_int(to, "SELECT count(*) FROM accounts", &accounts, err);
    if (!rc)
        rc = side_int(to, "SELECT count(*) FROM meta WHERE name NOT LIKE 'copy%'", &meta, err);
    if (rc)
        return rc;
    const char *param[1] = {from_url};
    struct rows q;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM meta WHERE name = 'copy_from' AND value = %s",
             to->pg ? "$1" : "?1");
    if ((rc = rows_start(&q, to, sql, param, 1, NULL, err)))
        return rc;
    if (rows_next(&q, err) == 1)
        marked = strtoll(q.v[0].p, NULL, 10);
    rows_end(&q);
    *resume = marked > 0;
    if (!*resume && (accounts || meta))
        return cc_error_set(err, CC_ERR_CONFIG, NULL,
                            "database %s already holds data; nothing was changed. Copy into "
                            "an empty database (a copy that was interrupted goes on when run "
                            "again with the same --from)",
                            to->url);
    return mark(to, "copy_from", from_url, err);
}

/* Counts and checksums of every table on both sides; the mark goes once they agree. */
static enum cc_err verify(struct side *from, struct side *to, const struct table *t, int n,
                          const struct cc_copy_report *rep, struct cc_error *err)
{
    enum cc_err rc = CC_OK;
    for (int i = 0; !rc && i < n; i++) {
        int64_t a = 0, b = 0;
        unsigned char sa[32], sb[32];
        rc = table_sum(from, &t[i], &a, sa, err);
        if (!rc)
            rc = table_sum(to, &t[i], &b, sb, err);
        if (rc)
            break;
        char hex[65];
        for (int k = 0; k < 32; k++)
            snprintf(hex + 2 * k, 3, "%02x", sa[k]);
        if (rep->verified)
            rep->verified(rep->arg, t[i].name, a, b, hex, a == b && !memcmp(sa, sb, 32));
        if (a != b || memcmp(sa, sb, 32))
            rc = cc_error_set(err, CC_ERR_STORE, NULL,
                              "table %s differs after the copy (%lld rows in the source, %lld "
                              "in the copy)",
                              t[i].name, (long long)a, (long long)b);
    }
    /* the marks go only once every table checks out */
    if (!rc)
        rc = side_exec(to, "DELETE FROM meta WHERE name = 'copy_from' OR name LIKE 'copy_at:%'",
                       err);
    return rc;
}

enum cc_err cc_store_copy(const char *from_url, const char *to_url,
                          const struct cc_copy_report *rep, struct cc_error *err)
{
    if (!strcmp(from_url, to_url))
        return cc_error_set(err, CC_ERR_CONFIG, NULL,
                            "--from and --to name the same database");
    enum cc_err rc = prepare_schema(from_url, 1, err);
    if (!rc)
        rc = prepare_schema(to_url, 0, err);
    if (rc)
        return rc;
    struct side from, to;
    struct table *t = cc_calloc(TABLES_MAX, sizeof *t);
    int n = 0, resume = 0;
    rc = side_open(&from, from_url, err);
    if (!rc)
        rc = side_open(&to, to_url, err);
    if (!rc)
        rc = read_tables(&from, t, &n, err);
    if (!rc)
        rc = target_state(&to, from_url, &resume, err);
    /* one snapshot of the source for the whole copy */
    if (!rc)
        rc = side_exec(&from, from.pg ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                      : "BEGIN",
                       err);
    for (int i = 0; !rc && i < n; i++) {
        if (!strcmp(t[i].name, "meta"))
            continue; /* last: it holds the mark */
        rc = copy_table(&from, &to, &t[i], resume, rep, err);
        if (!rc)
            rc = table_after(&to, &t[i], err);
    }
    for (int i = 0; !rc && i < n; i++)
        if (!strcmp(t[i].name, "meta"))
            rc = copy_table(&from, &to, &t[i], 0, rep, err);
    if (!rc)
        rc = verify(&from, &to, t, n, rep, err);
    if (from.db || from.pc)
        side_exec(&from, "COMMIT", &(struct cc_error){0});
    side_close(&from);
    side_close(&to);
    cc_free(t);
    return rc;
}
