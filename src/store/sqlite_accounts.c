/*
 * sqlite_accounts.c — the SQLite side of accounts and their access keys.
 * Writes run inside the writer's transactions (sqlite_writer.c); reads on
 * the calling thread's read connection (sqlite_conn.c).
 */
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_account_get[] = "SELECT name FROM accounts WHERE id = ?1";
static const char sql_account_insert[] =
    "INSERT INTO accounts(name, created_at) VALUES (?1, ?2)";
static const char sql_key_get[] = "SELECT " CC_KEY_COLS "WHERE k.id = ?1";
static const char sql_key_list[] =
    "SELECT " CC_KEY_COLS "WHERE k.account_id = ?1 ORDER BY k.created_at, k.id";
static const char sql_key_life[] =
    "INSERT INTO access_key_life(key_id, expires_at) VALUES (?1, ?2)";
/* Last use: written only when the stored one is a minute old or more, so
 * that instances sharing the database write it at most that often too. */
static const char sql_key_touch[] =
    "INSERT INTO access_key_life(key_id, last_used_at) SELECT ?1, ?2 "
    "WHERE EXISTS (SELECT 1 FROM access_keys WHERE id = ?1) "
    "ON CONFLICT(key_id) DO UPDATE SET last_used_at = excluded.last_used_at "
    "WHERE last_used_at IS NULL OR last_used_at <= excluded.last_used_at - ?3";
static const char sql_key_insert[] =
    "INSERT INTO access_keys(id, account_id, secret_enc, role, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_key_count[] =
    "SELECT count(*) FROM access_keys WHERE account_id = ?1 AND disabled_at IS NULL";
static const char sql_key_disable[] =
    "UPDATE access_keys SET disabled_at = coalesce(disabled_at, ?3) "
    "WHERE account_id = ?1 AND id = ?2";

static enum cc_err read_account_get(void *impl, int64_t id, char *name, size_t namesz,
                                    struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_account_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    enum cc_err out = CC_OK;
    if (rc == SQLITE_ROW)
        cc_sq_col_text(s, 0, name, namesz);
    else if (rc == SQLITE_DONE)
        out = cc_error_set(err, CC_ERR_NOT_FOUND, "Account", "Account %lld does not exist.",
                           (long long)id);
    else
        out = cc_sq_db_error(err, c->db, "reading an account");
    cc_sq_done(s);
    return out;
}

/* The key generation is a counter row that triggers on access_keys move in
 * the transaction of every key write (migration 0008), whichever process
 * writes. Reading it on every request would cost a query; PRAGMA
 * data_version costs no I/O and changes on this connection whenever any
 * other connection has committed, so the row is read again only then. The
 * data_version is taken before the counter: a commit in between makes the
 * next call read the counter again, never miss it. */
static const char sql_data_version[] = "PRAGMA data_version";
static const char sql_key_generation[] = "SELECT generation FROM key_generation WHERE id = 1";

static enum cc_err read_key_generation(void *impl, int64_t *generation, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_data_version, err);
    if (!s)
        return CC_ERR_STORE;
    int rc = sqlite3_step(s);
    int64_t dv = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    if (rc != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "reading data_version");
    if (c->key_generation_known && dv == c->seen_data_version) {
        *generation = c->key_generation;
        return CC_OK;
    }
    s = cc_sq_stmt(c, sql_key_generation, err);
    if (!s)
        return CC_ERR_STORE;
    rc = sqlite3_step(s);
    int64_t g = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? cc_error_set(err, CC_ERR_STORE, NULL,
                                                "the key generation row is missing")
                                 : cc_sq_db_error(err, c->db, "reading the key generation");
    c->seen_data_version = dv;
    c->key_generation = g;
    c->key_generation_known = 1;
    *generation = g;
    return CC_OK;
}

static void read_key_row(sqlite3_stmt *s, struct cc_access_key *k)
{
    memset(k, 0, sizeof *k);
    cc_sq_col_text(s, 0, k->id, sizeof k->id);
    k->account_id = sqlite3_column_int64(s, 1);
    cc_sq_col_blob(s, 2, k->secret_enc, sizeof k->secret_enc, &k->secret_enc_len);
    char role[16];
    cc_sq_col_text(s, 3, role, sizeof role);
    k->role = cc_role_parse(role);
    k->created_at = sqlite3_column_int64(s, 4);
    k->disabled_at = sqlite3_column_int64(s, 5);
    k->expires_at = sqlite3_column_int64(s, 6);
    k->last_used_at = sqlite3_column_int64(s, 7);
}

static enum cc_err read_key_get(void *impl, const char *key_id, struct cc_access_key *out,
                                struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_key_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    enum cc_err res = CC_OK;
    if (rc == SQLITE_ROW)
        read_key_row(s, out);
    else if (rc == SQLITE_DONE)
        res = cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The access key does not exist.");
    else
        res = cc_sq_db_error(err, c->db, "reading an access key");
    cc_sq_done(s);
    return res;
}

static enum cc_err read_key_list(void *impl, int64_t account_id, struct cc_access_key **out,
                                 size_t *n, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_key_list, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    size_t cap = 8, len = 0;
    struct cc_access_key *keys = cc_calloc(cap, sizeof *keys);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (len == cap) {
            cap *= 2;
            keys = cc_realloc(keys, cap * sizeof *keys);
        }
        read_key_row(s, &keys[len++]);
    }
    cc_sq_done(s);
    if (rc != SQLITE_DONE) {
        cc_free(keys);
        return cc_sq_db_error(err, c->db, "listing access keys");
    }
    *out = keys;
    *n = len;
    return CC_OK;
}

static enum cc_err tx_account_insert(void *tx, const char *name, int64_t now, int64_t *id,
                                     struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_account_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    enum cc_err rc = cc_sq_step_done(c, s, "creating an account", err);
    if (!rc)
        *id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

static enum cc_err tx_account_exists(void *tx, int64_t id, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_account_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    if (rc == SQLITE_ROW)
        return CC_OK;
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, "Account", "Account %lld does not exist.",
                            (long long)id);
    return cc_sq_db_error(err, c->db, "reading an account");
}

static enum cc_err tx_key_insert(void *tx, const struct cc_access_key *k, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_key_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, k->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, k->account_id);
    sqlite3_bind_blob(s, 3, k->secret_enc, (int)k->secret_enc_len, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, cc_role_name(k->role), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, k->created_at);
    enum cc_err rc = cc_sq_step_done(c, s, "creating an access key", err);
    if (rc || !k->expires_at)
        return rc;
    if (!(s = cc_sq_stmt(c, sql_key_life, err)))
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, k->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, k->expires_at);
    return cc_sq_step_done(c, s, "setting an access key's expiry", err);
}

static enum cc_err tx_key_touch(void *tx, const char *key_id, int64_t now, int64_t every_ms,
                                struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_key_touch, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, every_ms);
    return cc_sq_step_done(c, s, "recording an access key's use", err);
}

static enum cc_err tx_key_count(void *tx, int64_t account_id, int64_t *n, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_key_count, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *n = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    if (rc != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "counting access keys");
    return CC_OK;
}

static enum cc_err tx_key_disable(void *tx, int64_t account_id, const char *key_id,
                                  int64_t now, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_key_disable, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, key_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    enum cc_err rc = cc_sq_step_done(c, s, "disabling an access key", err);
    if (!rc && sqlite3_changes(c->db) == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL,
                            "Access key %s does not exist in account %lld.", key_id,
                            (long long)account_id);
    return rc;
}

const struct cc_store_account_ops cc_sq_account_ops = {CC_STORE_ACCOUNT_OPS(CC_STORE_OP_INIT)};
