/*
 * pg_accounts.c — the PostgreSQL side of accounts and their access keys,
 * statement for statement the same as sqlite_accounts.c. Writes run inside
 * cc_store_write's transactions (their connection is tx); reads on a
 * connection of the pool (pg.c).
 */
#include <string.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_account_get[] = "SELECT name FROM accounts WHERE id = $1";
/* last_insert_rowid() -> RETURNING id. */
static const char sql_account_insert[] =
    "INSERT INTO accounts(name, created_at) VALUES ($1, $2) RETURNING id";
static const char sql_key_get[] = "SELECT " CC_KEY_COLS "WHERE k.id = $1";
/* k.id in the C collation: SQLite's BINARY order whatever the database's is. */
static const char sql_key_list[] =
    "SELECT " CC_KEY_COLS "WHERE k.account_id = $1 ORDER BY k.created_at, k.id COLLATE \"C\"";
static const char sql_key_life[] =
    "INSERT INTO access_key_life(key_id, expires_at) VALUES ($1, $2)";
/* Last use: written only when the stored one is a minute old or more, so
 * that instances sharing the database write it at most that often too.
 * The parameters of INSERT ... SELECT need their types; inside DO UPDATE
 * the table's own column must be named with its table (PostgreSQL finds
 * last_used_at in excluded too). */
static const char sql_key_touch[] =
    "INSERT INTO access_key_life(key_id, last_used_at) SELECT $1::text, $2::bigint "
    "WHERE EXISTS (SELECT 1 FROM access_keys WHERE id = $1::text) "
    "ON CONFLICT(key_id) DO UPDATE SET last_used_at = excluded.last_used_at "
    "WHERE access_key_life.last_used_at IS NULL "
    "OR access_key_life.last_used_at <= excluded.last_used_at - $3::bigint";
static const char sql_key_insert[] =
    "INSERT INTO access_keys(id, account_id, secret_enc, role, created_at) "
    "VALUES ($1, $2, $3, $4, $5)";
static const char sql_key_count[] =
    "SELECT count(*) FROM access_keys WHERE account_id = $1 AND disabled_at IS NULL";
static const char sql_key_disable[] =
    "UPDATE access_keys SET disabled_at = coalesce(disabled_at, $3) "
    "WHERE account_id = $1 AND id = $2";

static enum cc_err read_account_get(void *impl, int64_t id, char *name, size_t namesz,
                                    struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, id);
    enum cc_err out = CC_OK;
    PGresult *r = cc_pg_exec(c, sql_account_get, &p, "reading an account", err);
    if (!r)
        out = err->code;
    else if (PQntuples(r) == 1)
        cc_pg_get_text(r, 0, 0, name, namesz);
    else
        out = cc_error_set(err, CC_ERR_NOT_FOUND, "Account", "Account %lld does not exist.",
                           (long long)id);
    PQclear(r);
    cc_pg_release(c);
    return out;
}

/* The key generation is a counter row that triggers on access_keys move in
 * the transaction of every key write, whichever process writes. SQLite
 * reads it again only when PRAGMA data_version moved; PostgreSQL has no
 * such free signal (another server's commit tells this connection
 * nothing), so the row is read on every call: a primary-key read, and a key
 * disabled through any server is refused by every server at once. */
static const char sql_key_generation[] = "SELECT generation FROM key_generation WHERE id = 1";

static enum cc_err read_key_generation(void *impl, int64_t *generation, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc;
    if (cc_pg_hold_pending(c)) {
        /* the first read of a held read (a request's): with its BEGIN */
        PGresult *r = cc_pg_hold_begin_with(c, sql_key_generation,
                                            "reading the key generation", err);
        rc = !r ? err->code : PQntuples(r) > 0 ? CC_OK : CC_ERR_NOT_FOUND;
        *generation = rc ? 0 : cc_pg_get_i64(r, 0, 0);
        PQclear(r);
    } else {
        rc = cc_pg_one_i64(c, sql_key_generation, NULL, generation,
                           "reading the key generation", err);
    }
    if (rc == CC_ERR_NOT_FOUND)
        rc = cc_error_set(err, CC_ERR_STORE, NULL, "the key generation row is missing");
    if (!rc) {
        c->key_generation = *generation;
        c->key_generation_known = 1;
    }
    cc_pg_release(c);
    return rc;
}

static void read_key_row(const PGresult *r, int row, struct cc_access_key *k)
{
    memset(k, 0, sizeof *k);
    cc_pg_get_text(r, row, 0, k->id, sizeof k->id);
    k->account_id = cc_pg_get_i64(r, row, 1);
    cc_pg_get_blob(r, row, 2, k->secret_enc, sizeof k->secret_enc, &k->secret_enc_len);
    char role[16];
    cc_pg_get_text(r, row, 3, role, sizeof role);
    k->role = cc_role_parse(role);
    k->created_at = cc_pg_get_i64(r, row, 4);
    k->disabled_at = cc_pg_get_i64(r, row, 5);
    k->expires_at = cc_pg_get_i64(r, row, 6);
    k->last_used_at = cc_pg_get_i64(r, row, 7);
}

static enum cc_err read_key_get(void *impl, const char *key_id, struct cc_access_key *out,
                                struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, key_id);
    enum cc_err res = CC_OK;
    PGresult *r = cc_pg_exec(c, sql_key_get, &p, "reading an access key", err);
    if (!r)
        res = err->code;
    else if (PQntuples(r) >= 1)
        read_key_row(r, 0, out);
    else
        res = cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The access key does not exist.");
    PQclear(r);
    cc_pg_release(c);
    return res;
}

static enum cc_err read_key_list(void *impl, int64_t account_id, struct cc_access_key **out,
                                 size_t *n, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    PGresult *r = cc_pg_exec(c, sql_key_list, &p, "listing access keys", err);
    cc_pg_release(c);
    if (!r)
        return err->code;
    size_t len = (size_t)PQntuples(r);
    struct cc_access_key *keys = cc_calloc(len ? len : 1, sizeof *keys);
    for (size_t i = 0; i < len; i++)
        read_key_row(r, (int)i, &keys[i]);
    PQclear(r);
    *out = keys;
    *n = len;
    return CC_OK;
}

static enum cc_err tx_account_insert(void *tx, const char *name, int64_t now, int64_t *id,
                                     struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, name);
    cc_pg_i64(&p, now);
    return cc_pg_one_i64(c, sql_account_insert, &p, id, "creating an account", err);
}

static enum cc_err tx_account_exists(void *tx, int64_t id, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, id);
    PGresult *r = cc_pg_exec(c, sql_account_get, &p, "reading an account", err);
    if (!r)
        return err->code;
    int found = PQntuples(r) > 0;
    PQclear(r);
    if (found)
        return CC_OK;
    return cc_error_set(err, CC_ERR_NOT_FOUND, "Account", "Account %lld does not exist.",
                        (long long)id);
}

static enum cc_err tx_key_insert(void *tx, const struct cc_access_key *k, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, k->id);
    cc_pg_i64(&p, k->account_id);
    cc_pg_blob(&p, k->secret_enc, k->secret_enc_len);
    cc_pg_text(&p, cc_role_name(k->role));
    cc_pg_i64(&p, k->created_at);
    enum cc_err rc = cc_pg_do(c, sql_key_insert, &p, "creating an access key", err);
    if (rc || !k->expires_at)
        return rc;
    cc_pg_params(&p);
    cc_pg_text(&p, k->id);
    cc_pg_i64(&p, k->expires_at);
    return cc_pg_do(c, sql_key_life, &p, "setting an access key's expiry", err);
}

static enum cc_err tx_key_touch(void *tx, const char *key_id, int64_t now, int64_t every_ms,
                                struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, key_id);
    cc_pg_i64(&p, now);
    cc_pg_i64(&p, every_ms);
    return cc_pg_do(c, sql_key_touch, &p, "recording an access key's use", err);
}

static enum cc_err tx_key_count(void *tx, int64_t account_id, int64_t *n, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    enum cc_err rc = cc_pg_one_i64(c, sql_key_count, &p, n, "counting access keys", err);
    /* count(*) always has its row. */
    return rc == CC_ERR_NOT_FOUND ? CC_OK : rc;
}

static enum cc_err tx_key_disable(void *tx, int64_t account_id, const char *key_id,
                                  int64_t now, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, key_id);
    cc_pg_i64(&p, now);
    int64_t changed = 0;
    /* sqlite3_changes() -> the command's row count. */
    enum cc_err rc = cc_pg_do_n(c, sql_key_disable, &p, &changed, "disabling an access key", err);
    if (!rc && changed == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL,
                            "Access key %s does not exist in account %lld.", key_id,
                            (long long)account_id);
    return rc;
}

const struct cc_store_account_ops cc_pg_account_ops = {CC_STORE_ACCOUNT_OPS(CC_STORE_OP_INIT)};
