/*
 * pg_shared.c — the limits of the whole deployment (store.h's
 * cc_store_state_update and cc_store_nonce_take) in PostgreSQL, where every
 * instance of a deployment meets.
 *
 * Both run in READ COMMITTED (cc_pg_write_committed): a state is read with
 * SELECT ... FOR UPDATE, so an instance changing the same state waits for
 * the other's commit and then reads what it wrote; a nonce is one
 * INSERT ... ON CONFLICT, which PostgreSQL decides atomically. Neither can
 * fail with a serialization error, so many instances sending to one robot
 * never wait on retries.
 */
#include <stdatomic.h>
#include <string.h>

#include "store/pg_int.h"
#include "util/util.h"

/* Past states and nonces are dropped at most this often per process. */
#define PURGE_EVERY_MS 60000

static _Atomic int64_t purged_at;

static const char sql_state_make[] =
    "INSERT INTO shared_states(name) VALUES ($1) ON CONFLICT (name) DO NOTHING";
static const char sql_state_lock[] = "SELECT state FROM shared_states WHERE name = $1 FOR UPDATE";
static const char sql_state_put[] =
    "UPDATE shared_states SET state = $2, forget_at = $3 WHERE name = $1";
static const char sql_state_purge[] = "DELETE FROM shared_states WHERE forget_at <= $1";
/* Inserted only while the key holds fewer than $5 live nonces; a nonce
 * whose time has passed is taken again. */
static const char sql_nonce_take[] =
    "INSERT INTO acs_nonces(key_id, nonce, expires_at) "
    "SELECT $1::text, $2::text, $3::bigint WHERE (SELECT count(*) FROM "
    "(SELECT 1 FROM acs_nonces WHERE key_id = $1 AND expires_at > $4 LIMIT $5) live) < $5 "
    "ON CONFLICT (key_id, nonce) DO UPDATE SET expires_at = excluded.expires_at "
    "WHERE acs_nonces.expires_at <= $4";
/* Why not: the nonce is live (a replay), else the key is full until its
 * first live nonce passes. */
static const char sql_nonce_why[] =
    "SELECT (SELECT count(*) FROM acs_nonces WHERE key_id = $1 AND nonce = $2 AND expires_at > $3), "
    "(SELECT coalesce(min(expires_at), 0) FROM acs_nonces WHERE key_id = $1 AND expires_at > $3)";
static const char sql_nonce_purge[] = "DELETE FROM acs_nonces WHERE expires_at <= $1";

/* Whether this call should also drop what has passed (one caller a minute). */
static int purge_due(int64_t now_ms)
{
    int64_t last = atomic_load(&purged_at);
    return now_ms - last >= PURGE_EVERY_MS &&
           atomic_compare_exchange_strong(&purged_at, &last, now_ms);
}

static enum cc_err purge(struct pgc *c, const char *sql, int64_t now_ms, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, now_ms);
    return cc_pg_do(c, sql, &p, "dropping past limits", err);
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
    struct pgc *c = tx->impl;
    if (op->purge && purge(c, sql_state_purge, op->now_ms, err))
        return err->code;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, op->name);
    if (cc_pg_do(c, sql_state_make, &p, "making a shared limit", err))
        return err->code;
    PGresult *r = cc_pg_exec(c, sql_state_lock, &p, "reading a shared limit", err);
    if (!r)
        return err->code;
    char state[CC_STORE_STATE_MAX] = "";
    if (PQntuples(r) == 1)
        cc_pg_get_text(r, 0, 0, state, sizeof state);
    PQclear(r);
    int64_t forget_at = op->now_ms;
    op->fn(op->ctx, state, &forget_at);
    cc_pg_text(&p, state);
    cc_pg_i64(&p, forget_at);
    return cc_pg_do(c, sql_state_put, &p, "saving a shared limit", err);
}

enum cc_err cc_pg_state_update(struct cc_store *st, const char *name, int64_t now_ms,
                               cc_state_fn fn, void *ctx, struct cc_error *err)
{
    struct state_op op = {name, now_ms, purge_due(now_ms), fn, ctx};
    return cc_pg_write_committed(st, tx_state_update, &op, err);
}

struct nonce_op {
    const char *scope, *nonce;
    int64_t expires_ms, now_ms, per_key;
    int purge;
    int verdict;
    int64_t retry_ms;
};

/* After a nonce was not taken: why (op->verdict, op->retry_ms). */
static enum cc_err nonce_why(struct pgc *c, struct nonce_op *op, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, op->scope);
    cc_pg_text(&p, op->nonce);
    cc_pg_i64(&p, op->now_ms);
    PGresult *r = cc_pg_exec(c, sql_nonce_why, &p, "remembering a signature nonce", err);
    if (!r)
        return err->code;
    int64_t live = cc_pg_get_i64(r, 0, 0), first = cc_pg_get_i64(r, 0, 1);
    PQclear(r);
    op->verdict = live || !first ? CC_NONCE_REPLAY : CC_NONCE_FULL;
    op->retry_ms = first > op->now_ms ? first - op->now_ms : 1;
    return CC_OK;
}

static enum cc_err tx_nonce_take(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct nonce_op *op = arg;
    struct pgc *c = tx->impl;
    if (op->purge && purge(c, sql_nonce_purge, op->now_ms, err))
        return err->code;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, op->scope);
    cc_pg_text(&p, op->nonce);
    cc_pg_i64(&p, op->expires_ms);
    cc_pg_i64(&p, op->now_ms);
    cc_pg_i64(&p, op->per_key);
    int64_t changed = 0;
    if (cc_pg_do_n(c, sql_nonce_take, &p, &changed, "remembering a signature nonce", err))
        return err->code;
    op->verdict = CC_NONCE_NEW;
    return changed > 0 ? CC_OK : nonce_why(c, op, err);
}

enum cc_err cc_pg_nonce_take(struct cc_store *st, const char *scope, const char *nonce,
                             int64_t expires_ms, int64_t now_ms, int64_t per_key, int *verdict,
                             int64_t *retry_ms, struct cc_error *err)
{
    struct nonce_op op = {scope, nonce, expires_ms, now_ms, per_key, purge_due(now_ms),
                          CC_NONCE_REPLAY, 0};
    enum cc_err rc = cc_pg_write_committed(st, tx_nonce_take, &op, err);
    *verdict = op.verdict;
    *retry_ms = op.retry_ms;
    return rc;
}
