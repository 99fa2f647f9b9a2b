/*
 * sqlite_shared.c — the limits of the whole deployment (store.h's
 * cc_store_state_update and cc_store_nonce_take) in a SQLite database.
 *
 * One process owns a SQLite database, so the service keeps these limits in
 * its memory and never calls here (cc_store_shared is 0); they work all the
 * same, through the writer like any write, so that both backends answer the
 * same unit tests.
 */
#include <stdatomic.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "util/util.h"

/* Past states and nonces are dropped at most this often per process. */
#define PURGE_EVERY_MS 60000

static _Atomic int64_t purged_at;

static const char sql_state_get[] = "SELECT state FROM shared_states WHERE name = ?1";
static const char sql_state_put[] =
    "INSERT INTO shared_states(name, state, forget_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (name) DO UPDATE SET state = excluded.state, forget_at = excluded.forget_at";
static const char sql_state_purge[] = "DELETE FROM shared_states WHERE forget_at <= ?1";
/* Inserted only while the key holds fewer than $5 live nonces; a nonce
 * whose time has passed is taken again. */
static const char sql_nonce_take[] =
    "INSERT INTO acs_nonces(key_id, nonce, expires_at) "
    "SELECT ?1, ?2, ?3 WHERE (SELECT count(*) FROM "
    "(SELECT 1 FROM acs_nonces WHERE key_id = ?1 AND expires_at > ?4 LIMIT ?5) live) < ?5 "
    "ON CONFLICT (key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at "
    "WHERE acs_nonces.expires_at <= ?4";
/* Why not: the nonce is live (a replay), else the key is full until its
 * first live nonce passes. */
static const char sql_nonce_why[] =
    "SELECT (SELECT count(*) FROM acs_nonces WHERE key_id = ?1 AND nonce = ?2 AND expires_at > ?3), "
    "(SELECT coalesce(min(expires_at), 0) FROM acs_nonces WHERE key_id = ?1 AND expires_at > ?3)";
static const char sql_nonce_purge[] = "DELETE FROM acs_nonces WHERE expires_at <= ?1";

/* Whether this call should also drop what has passed (one caller a minute). */
static int purge_due(int64_t now_ms)
{
    int64_t last = atomic_load(&purged_at);
    return now_ms - last >= PURGE_EVERY_MS &&
           atomic_compare_exchange_strong(&purged_at, &last, now_ms);
}

static enum cc_err purge(struct conn *c, const char *sql, int64_t now_ms, struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, now_ms);
    return cc_sq_step_done(c, s, "dropping past limits", err);
}

struct state_op {
    const char *name;
    int64_t now_ms;
    int purge;
    cc_state_fn fn;
    void *ctx;
};

static enum cc_err tx_state_update(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct state_op *op = arg;
    struct conn *c = tx->impl;
    if (op->purge && purge(c, sql_state_purge, op->now_ms, err))
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_state_get, err);
    if (!s)
        return CC_ERR_STORE;
    char state[CC_STORE_STATE_MAX] = "";
    sqlite3_bind_text(s, 1, op->name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        cc_sq_col_text(s, 0, state, sizeof state);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading a shared limit");
    int64_t forget_at = op->now_ms;
    op->fn(op->ctx, state, &forget_at);
    if (!(s = cc_sq_stmt(c, sql_state_put, err)))
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, op->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, forget_at);
    return cc_sq_step_done(c, s, "saving a shared limit", err);
}

enum cc_err cc_sq_state_update(struct cc_store *st, const char *name, int64_t now_ms,
                               cc_state_fn fn, void *ctx, struct cc_error *err)
{
    struct state_op op = {name, now_ms, purge_due(now_ms), fn, ctx};
    return cc_sq_write(st, tx_state_update, &op, err);
}

struct nonce_op {
    const char *scope, *nonce;
    int64_t expires_ms, now_ms, per_key;
    int purge;
    int verdict;
    int64_t retry_ms;
};

/* After a nonce was not taken: why (op->verdict, op->retry_ms). */
static enum cc_err nonce_why(struct conn *c, struct nonce_op *op, struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_nonce_why, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, op->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, op->nonce, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, op->now_ms);
    int rc = sqlite3_step(s);
    int64_t live = sqlite3_column_int64(s, 0), first = sqlite3_column_int64(s, 1);
    cc_sq_done(s);
    if (rc != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "remembering a signature nonce");
    op->verdict = live || !first ? CC_NONCE_REPLAY : CC_NONCE_FULL;
    op->retry_ms = first > op->now_ms ? first - op->now_ms : 1;
    return CC_OK;
}

static enum cc_err tx_nonce_take(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct nonce_op *op = arg;
    struct conn *c = tx->impl;
    if (op->purge && purge(c, sql_nonce_purge, op->now_ms, err))
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_nonce_take, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, op->scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, op->nonce, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, op->expires_ms);
    sqlite3_bind_int64(s, 4, op->now_ms);
    sqlite3_bind_int64(s, 5, op->per_key);
    if (cc_sq_step_done(c, s, "remembering a signature nonce", err))
        return err->code;
    op->verdict = CC_NONCE_NEW;
    return sqlite3_changes(c->db) > 0 ? CC_OK : nonce_why(c, op, err);
}

enum cc_err cc_sq_nonce_take(struct cc_store *st, const char *scope, const char *nonce,
                             int64_t expires_ms, int64_t now_ms, int64_t per_key, int *verdict,
                             int64_t *retry_ms, struct cc_error *err)
{
    struct nonce_op op = {scope, nonce, expires_ms, now_ms, per_key, purge_due(now_ms),
                          CC_NONCE_REPLAY, 0};
    enum cc_err rc = cc_sq_write(st, tx_nonce_take, &op, err);
    *verdict = op.verdict;
    *retry_ms = op.retry_ms;
    return rc;
}
