/*
 * sqlite_sealed.c — the SQLite side of store/sealed.h: the columns that hold
 * values sealed with the master key, for the key's rotation, and the meta
 * table's settings inside a transaction. Each column has its own static
 * statements (the statement cache is keyed by their addresses).
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

/* ?1 the prefix (a blob), ?2 its length, ?3 the most rows. */
#define SEALED_SQL(table, key, col)                                                        \
    {"SELECT CAST(" key " AS TEXT), " col " FROM " table " WHERE " col " IS NOT NULL "      \
     "AND substr(" col ", 1, ?2) <> ?1 LIMIT ?3",                                          \
     "UPDATE " table " SET " col " = ?3 WHERE " key " = ?1 AND " col " = ?2",               \
     "SELECT count(*) FROM " table " WHERE " col " IS NOT NULL "                            \
     "AND substr(" col ", 1, ?2) <> ?1",                                                   \
     "SELECT CAST(" key " AS TEXT), " col " FROM " table " WHERE " col " IS NOT NULL "      \
     "ORDER BY " key " LIMIT ?1",                                                          \
     "SELECT CAST(" key " AS TEXT), " col " FROM " table " WHERE " col " IS NOT NULL "      \
     "AND " key " > ?2 ORDER BY " key " LIMIT ?1"}

struct sealed_sql {
    const char *batch, *replace, *count;
    const char *page_first, *page_next; /* ?1 the most rows, ?2 the last row key seen */
};

static const struct sealed_sql sealed_sql[CC_SEALED_COLUMNS] = {
#define SEALED_ROW(id, table, key, col) [id] = SEALED_SQL(table, key, col),
    CC_STORE_SEALED_COLUMN_LIST(SEALED_ROW)
#undef SEALED_ROW
};

/* An integer key compared with the text of the row key: the column's
 * INTEGER affinity converts it, so one statement fits both kinds of key. */

/* Reads up to max (row key, value) rows of the bound statement s into
 * *out (*n of them). */
static enum cc_err read_values(struct conn *c, sqlite3_stmt *s, size_t max,
                               struct cc_sealed_value **out, size_t *n, struct cc_error *err)
{
    struct cc_sealed_value *v = cc_calloc(max ? max : 1, sizeof *v);
    size_t k = 0;
    int rc;
    while (k < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        cc_sq_col_text(s, 0, v[k].row_key, sizeof v[k].row_key);
        const void *b = sqlite3_column_blob(s, 1);
        size_t len = (size_t)sqlite3_column_bytes(s, 1);
        v[k].blob = cc_malloc(len ? len : 1);
        if (b && len)
            memcpy(v[k].blob, b, len);
        v[k].len = len;
        k++;
    }
    if (k < max && rc != SQLITE_DONE) {
        cc_sq_done(s);
        cc_sealed_values_free(v, k);
        return cc_sq_db_error(err, c->db, "reading sealed values");
    }
    cc_sq_done(s);
    *out = v;
    *n = k;
    return CC_OK;
}

static enum cc_err tx_sealed_batch(void *tx, enum cc_sealed_column col, const uint8_t *prefix,
                                   size_t prefix_len, size_t max, struct cc_sealed_value **out,
                                   size_t *n, struct cc_error *err)
{
    struct conn *c = tx;
    *out = NULL;
    *n = 0;
    if ((unsigned)col >= CC_SEALED_COLUMNS)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "no such sealed column");
    sqlite3_stmt *s = cc_sq_stmt(c, sealed_sql[col].batch, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_blob(s, 1, prefix, (int)prefix_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)prefix_len);
    sqlite3_bind_int64(s, 3, (int64_t)max);
    return read_values(c, s, max, out, n, err);
}

static enum cc_err tx_sealed_page(void *tx, enum cc_sealed_column col, const char *after,
                                  size_t max, struct cc_sealed_value **out, size_t *n,
                                  struct cc_error *err)
{
    struct conn *c = tx;
    *out = NULL;
    *n = 0;
    if ((unsigned)col >= CC_SEALED_COLUMNS)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "no such sealed column");
    sqlite3_stmt *s = cc_sq_stmt(c, after ? sealed_sql[col].page_next : sealed_sql[col].page_first,
                                 err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, (int64_t)max);
    if (after)
        sqlite3_bind_text(s, 2, after, -1, SQLITE_TRANSIENT);
    return read_values(c, s, max, out, n, err);
}

static enum cc_err tx_sealed_replace(void *tx, enum cc_sealed_column col,
                                     const struct cc_sealed_value *v, const uint8_t *blob,
                                     size_t len, struct cc_error *err)
{
    struct conn *c = tx;
    if ((unsigned)col >= CC_SEALED_COLUMNS)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "no such sealed column");
    sqlite3_stmt *s = cc_sq_stmt(c, sealed_sql[col].replace, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, v->row_key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, v->blob, (int)v->len, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, blob, (int)len, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "re-sealing a value", err);
}

static const char sql_url_tag[] =
    "UPDATE contact_webhooks SET url = ?3 WHERE id = ?1 AND EXISTS (SELECT 1 FROM "
    "contact_webhook_urls WHERE webhook_id = ?1 AND url_enc = ?2)";

static enum cc_err tx_sealed_url_tag(void *tx, const struct cc_sealed_value *v,
                                     const uint8_t *blob, size_t len, const char *tag,
                                     struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_url_tag, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, v->row_key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, blob, (int)len, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, tag, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "re-keying a robot URL's hash", err);
}

static enum cc_err tx_sealed_count(void *tx, enum cc_sealed_column col, const uint8_t *prefix,
                                   size_t prefix_len, int64_t *n, struct cc_error *err)
{
    struct conn *c = tx;
    if ((unsigned)col >= CC_SEALED_COLUMNS)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "no such sealed column");
    sqlite3_stmt *s = cc_sq_stmt(c, sealed_sql[col].count, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_blob(s, 1, prefix, (int)prefix_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)prefix_len);
    return cc_sq_count(c, s, n, "counting sealed values", err);
}

/* Columns named *_enc (the schema's name for a sealed value) of type BLOB. */
static const char sql_enc_columns[] =
    "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
    "WHERE m.type = 'table' AND upper(p.type) = 'BLOB' AND p.name LIKE '%\\_enc' ESCAPE '\\'";

/* Values of table.column that look sealed (version 1 or 2) and do not start
 * with the prefix, into *n. The names come from the schema itself and are
 * quoted; the statement is made for this one count. */
static enum cc_err count_unknown(struct conn *c, const char *table, const char *column,
                                 const uint8_t *prefix, size_t prefix_len, int64_t *n,
                                 struct cc_error *err)
{
    char sql[512];
    if (strchr(table, '"') || strchr(column, '"') ||
        (size_t)snprintf(sql, sizeof sql,
                         "SELECT count(*) FROM \"%s\" WHERE substr(\"%s\", 1, 1) IN (x'01', x'02') "
                         "AND substr(\"%s\", 1, ?2) <> ?1",
                         table, column, column) >= sizeof sql)
        return cc_error_set(err, CC_ERR_STORE, NULL, "cannot examine %s.%s", table, column);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
        return cc_sq_db_error(err, c->db, "examining a sealed column");
    sqlite3_bind_blob(s, 1, prefix, (int)prefix_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, (int64_t)prefix_len);
    int rc = sqlite3_step(s);
    *n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "examining a sealed column");
}

static enum cc_err tx_sealed_unknown(void *tx, const uint8_t *prefix, size_t prefix_len,
                                     char *where, size_t wheresz, int64_t *n,
                                     struct cc_error *err)
{
    struct conn *c = tx;
    *n = 0;
    if (wheresz)
        where[0] = '\0';
    sqlite3_stmt *s = cc_sq_stmt(c, sql_enc_columns, err);
    if (!s)
        return CC_ERR_STORE;
    enum cc_err rc = CC_OK;
    int step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW) {
        char table[128], column[128];
        cc_sq_col_text(s, 0, table, sizeof table);
        cc_sq_col_text(s, 1, column, sizeof column);
        int64_t k = 0;
        if (cc_store_sealed_known(table, column) ||
            (rc = count_unknown(c, table, column, prefix, prefix_len, &k, err)) || !k)
            continue;
        *n += k;
        if (wheresz)
            snprintf(where, wheresz, "%s.%s", table, column);
    }
    if (!rc && step != SQLITE_DONE)
        rc = cc_sq_db_error(err, c->db, "listing sealed columns");
    cc_sq_done(s);
    return rc;
}

static const char sql_setting_set[] =
    "INSERT INTO meta(name, value) VALUES (?1, ?2) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value";
static const char sql_setting_delete[] = "DELETE FROM meta WHERE name = ?1";

static enum cc_err tx_setting_get(void *tx, const char *name, char *out, size_t outsz,
                                  struct cc_error *err)
{
    return cc_sq_meta_read(tx, name, out, outsz, err);
}

static enum cc_err tx_setting_put(void *tx, const char *name, const char *value,
                                  struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, value ? sql_setting_set : sql_setting_delete, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "recording the database's settings", err);
}

const struct cc_store_sealed_ops cc_sq_sealed_ops = {CC_STORE_SEALED_OPS(CC_STORE_OP_INIT)};
