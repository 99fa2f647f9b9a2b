/*
 * pg_sealed.c — the PostgreSQL side of store/sealed.h, statement for
 * statement the same as sqlite_sealed.c: the columns that hold values
 * sealed with the master key, for the key's rotation, and the meta table's
 * settings inside a transaction. Each column has its own static statements
 * (the prepared statements are keyed by their addresses).
 */
#include <stdio.h>
#include <string.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

/* $1 the prefix (a bytea), $2 its length, $3 the most rows. The row key
 * ($1 of replace) is sent as text and PostgreSQL reads it as the key
 * column's type (bigint or text), so one statement fits both kinds of key,
 * as the INTEGER affinity does on SQLite. */
#define SEALED_SQL(table, key, col)                                                        \
    {"SELECT CAST(" key " AS TEXT), " col " FROM " table " WHERE " col " IS NOT NULL "      \
     "AND substr(" col ", 1, $2::integer) <> $1::bytea LIMIT $3",                          \
     "UPDATE " table " SET " col " = $3 WHERE " key " = $1 AND " col " = $2",               \
     "SELECT count(*) FROM " table " WHERE " col " IS NOT NULL "                            \
     "AND substr(" col ", 1, $2::integer) <> $1::bytea",                                   \
     "SELECT CAST(" key " AS TEXT), " col " FROM " table " WHERE " col " IS NOT NULL "      \
     "ORDER BY " key " LIMIT $1",                                                          \
     "SELECT CAST(" key " AS TEXT), " col " FROM " table " WHERE " col " IS NOT NULL "      \
     "AND " key " > $2 ORDER BY " key " LIMIT $1"}

struct sealed_sql {
    const char *batch, *replace, *count;
    const char *page_first, *page_next; /* $1 the most rows, $2 the last row key seen */
};

static const struct sealed_sql sealed_sql[CC_SEALED_COLUMNS] = {
#define SEALED_ROW(id, table, key, col) [id] = SEALED_SQL(table, key, col),
    CC_STORE_SEALED_COLUMN_LIST(SEALED_ROW)
#undef SEALED_ROW
};

/* Runs sql with p and reads up to max (row key, value) rows into *out (*n
 * of them). */
static enum cc_err read_values(struct pgc *c, const char *sql, struct pgp *p, size_t max,
                               struct cc_sealed_value **out, size_t *n, struct cc_error *err)
{
    PGresult *r = cc_pg_exec(c, sql, p, "reading sealed values", err);
    if (!r)
        return err->code;
    size_t rows = (size_t)PQntuples(r);
    struct cc_sealed_value *v = cc_calloc(max ? max : 1, sizeof *v);
    size_t k = 0;
    for (; k < max && k < rows; k++) {
        cc_pg_get_text(r, (int)k, 0, v[k].row_key, sizeof v[k].row_key);
        size_t len = 0;
        v[k].blob = cc_pg_get_blob_dup(r, (int)k, 1, &len);
        if (!v[k].blob)
            v[k].blob = cc_malloc(1);
        v[k].len = len;
    }
    PQclear(r);
    *out = v;
    *n = k;
    return CC_OK;
}

static enum cc_err tx_sealed_batch(void *tx, enum cc_sealed_column col, const uint8_t *prefix,
                                   size_t prefix_len, size_t max, struct cc_sealed_value **out,
                                   size_t *n, struct cc_error *err)
{
    struct pgc *c = tx;
    *out = NULL;
    *n = 0;
    if ((unsigned)col >= CC_SEALED_COLUMNS)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "no such sealed column");
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_blob(&p, prefix, prefix_len);
    cc_pg_i64(&p, (int64_t)prefix_len);
    cc_pg_i64(&p, (int64_t)max);
    return read_values(c, sealed_sql[col].batch, &p, max, out, n, err);
}

static enum cc_err tx_sealed_page(void *tx, enum cc_sealed_column col, const char *after,
                                  size_t max, struct cc_sealed_value **out, size_t *n,
                                  struct cc_error *err)
{
    struct pgc *c = tx;
    *out = NULL;
    *n = 0;
    if ((unsigned)col >= CC_SEALED_COLUMNS)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "no such sealed column");
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, (int64_t)max);
    if (after)
        cc_pg_text(&p, after);
    return read_values(c, after ? sealed_sql[col].page_next : sealed_sql[col].page_first, &p,
                       max, out, n, err);
}

static enum cc_err tx_sealed_replace(void *tx, enum cc_sealed_column col,
                                     const struct cc_sealed_value *v, const uint8_t *blob,
                                     size_t len, struct cc_error *err)
{
    struct pgc *c = tx;
    if ((unsigned)col >= CC_SEALED_COLUMNS)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "no such sealed column");
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, v->row_key);
    cc_pg_blob(&p, v->blob, v->len);
    cc_pg_blob(&p, blob, len);
    return cc_pg_do(c, sealed_sql[col].replace, &p, "re-sealing a value", err);
}

static const char sql_url_tag[] =
    "UPDATE contact_webhooks SET url = $3 WHERE id = $1 AND EXISTS (SELECT 1 FROM "
    "contact_webhook_urls WHERE webhook_id = $1 AND url_enc = $2)";

static enum cc_err tx_sealed_url_tag(void *tx, const struct cc_sealed_value *v,
                                     const uint8_t *blob, size_t len, const char *tag,
                                     struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, v->row_key);
    cc_pg_blob(&p, blob, len);
    cc_pg_text(&p, tag);
    return cc_pg_do(c, sql_url_tag, &p, "re-keying a robot URL's hash", err);
}

static enum cc_err tx_sealed_count(void *tx, enum cc_sealed_column col, const uint8_t *prefix,
                                   size_t prefix_len, int64_t *n, struct cc_error *err)
{
    struct pgc *c = tx;
    if ((unsigned)col >= CC_SEALED_COLUMNS)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "no such sealed column");
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_blob(&p, prefix, prefix_len);
    cc_pg_i64(&p, (int64_t)prefix_len);
    enum cc_err rc = cc_pg_one_i64(c, sealed_sql[col].count, &p, n, "counting sealed values",
                                   err);
    return rc == CC_ERR_NOT_FOUND ? CC_OK : rc;
}

/* Columns named *_enc (the schema's name for a sealed value) of type bytea
 * (BLOB on SQLite). sqlite_master + pragma_table_info -> the catalog's
 * information_schema.columns of the connection's schema. */
static const char sql_enc_columns[] =
    "SELECT table_name::text, column_name::text FROM information_schema.columns "
    "WHERE table_schema = current_schema() AND data_type = 'bytea' "
    "AND column_name LIKE '%\\_enc' ESCAPE '\\' ORDER BY table_name, column_name";

/* Values of table.column that look sealed (version 1 or 2) and do not start
 * with the prefix, into *n. The names come from the schema itself and are
 * quoted; the statement is made for this one count (not prepared). */
static enum cc_err count_unknown(struct pgc *c, const char *table, const char *column,
                                 const uint8_t *prefix, size_t prefix_len, int64_t *n,
                                 struct cc_error *err)
{
    char sql[512];
    *n = 0;
    if (strchr(table, '"') || strchr(column, '"') ||
        (size_t)snprintf(sql, sizeof sql,
                         "SELECT count(*) FROM \"%s\" WHERE substr(\"%s\", 1, 1) IN "
                         "('\\x01'::bytea, '\\x02'::bytea) "
                         "AND substr(\"%s\", 1, $2::integer) <> $1::bytea",
                         table, column, column) >= sizeof sql)
        return cc_error_set(err, CC_ERR_STORE, NULL, "cannot examine %s.%s", table, column);
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_blob(&p, prefix, prefix_len);
    cc_pg_i64(&p, (int64_t)prefix_len);
    PGresult *r = PQexecParams(c->conn, sql, p.n, NULL, p.v, p.len, p.fmt, 0);
    enum cc_err rc = CC_OK;
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        rc = cc_pg_error(err, c, r, "examining a sealed column");
    else if (PQntuples(r) > 0)
        *n = cc_pg_get_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

static enum cc_err tx_sealed_unknown(void *tx, const uint8_t *prefix, size_t prefix_len,
                                     char *where, size_t wheresz, int64_t *n,
                                     struct cc_error *err)
{
    struct pgc *c = tx;
    *n = 0;
    if (wheresz)
        where[0] = '\0';
    PGresult *r = cc_pg_exec(c, sql_enc_columns, NULL, "listing sealed columns", err);
    if (!r)
        return err->code;
    enum cc_err rc = CC_OK;
    for (int i = 0; !rc && i < PQntuples(r); i++) {
        char table[128], column[128];
        cc_pg_get_text(r, i, 0, table, sizeof table);
        cc_pg_get_text(r, i, 1, column, sizeof column);
        int64_t k = 0;
        if (cc_store_sealed_known(table, column) ||
            (rc = count_unknown(c, table, column, prefix, prefix_len, &k, err)) || !k)
            continue;
        *n += k;
        if (wheresz)
            snprintf(where, wheresz, "%s.%s", table, column);
    }
    PQclear(r);
    return rc;
}

static const char sql_setting_set[] =
    "INSERT INTO meta(name, value) VALUES ($1, $2) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value";
static const char sql_setting_delete[] = "DELETE FROM meta WHERE name = $1";

static enum cc_err tx_setting_get(void *tx, const char *name, char *out, size_t outsz,
                                  struct cc_error *err)
{
    enum cc_err rc = cc_pg_meta_read(tx, name, out, outsz, err);
    /* cc_sq_meta_read's message for a missing setting. */
    if (rc == CC_ERR_NOT_FOUND)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "no %s recorded", name);
    return rc;
}

static enum cc_err tx_setting_put(void *tx, const char *name, const char *value,
                                  struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, name);
    if (value)
        cc_pg_text(&p, value);
    return cc_pg_do(c, value ? sql_setting_set : sql_setting_delete, &p,
                    "recording the database's settings", err);
}

const struct cc_store_sealed_ops cc_pg_sealed_ops = {CC_STORE_SEALED_OPS(CC_STORE_OP_INIT)};
