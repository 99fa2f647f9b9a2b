/*
 * pg_users.c — the PostgreSQL side of console users: users, their sessions
 * and the wrong-password counts (per email, per address and per email from
 * one address; the service makes the keys). Statement for statement the same
 * as sqlite_users.c. Writes run inside cc_store_write's transactions; reads
 * on a pooled connection (or the calling thread's transaction).
 */
#include <string.h>

#include "store/pg_int.h"
#include "store/store_int.h"
#include "util/util.h"

/* chr(10)/chr(11): SQLite's char(). sign_in_failures.email_norm is COLLATE
 * "C", and the bounds are compared in "C" too, so the range holds the same
 * keys as SQLite's BINARY order whatever the database's locale. */
#define USER_COLS                                                                            \
    "u.id, u.account_id, u.email, u.email_norm, u.role, u.password_hash, u.language, "      \
    "COALESCE(u.disabled_at, 0), u.created_at, COALESCE(u.last_sign_in_at, 0), "            \
    "COALESCE((SELECT MAX(f.locked_until) FROM sign_in_failures f WHERE "                  \
    "f.email_norm >= (u.email_norm || chr(10)) COLLATE \"C\" AND "                         \
    "f.email_norm < (u.email_norm || chr(11)) COLLATE \"C\"), 0)"
/* A user's lock is the latest of its email's locks from one address each: the
 * rows keyed "EMAIL\nADDRESS" (see service/users.c), found by key range. */
#define USER_FROM " FROM users u "

static const char sql_user_get[] = "SELECT " USER_COLS USER_FROM "WHERE u.id = $1";
static const char sql_user_by_email[] =
    "SELECT " USER_COLS USER_FROM "WHERE u.email_norm = $1 AND ($2::bigint = 0 OR "
    "u.account_id = $2::bigint) ORDER BY u.id LIMIT 2";
static const char sql_user_list[] =
    "SELECT " USER_COLS USER_FROM "WHERE u.account_id = $1 ORDER BY u.id LIMIT $2";
static const char sql_session_get[] =
    "SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, "
    USER_COLS " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1";
static const char sql_failures_get[] =
    "SELECT failures, first_failure_at, locked_until FROM sign_in_failures WHERE email_norm = $1";
static const char sql_user_insert[] =
    "INSERT INTO users(account_id, email, email_norm, role, password_hash, language, "
    "disabled_at, created_at, last_sign_in_at) VALUES ($1, $2, $3, $4, $5, $6, "
    "NULLIF($7::bigint, 0), $8, NULLIF($9::bigint, 0)) RETURNING id";
static const char sql_user_update[] =
    "UPDATE users SET role = $3, password_hash = $4, language = $5, "
    "disabled_at = NULLIF($6::bigint, 0), last_sign_in_at = NULLIF($7::bigint, 0) "
    "WHERE account_id = $1 AND id = $2";
static const char sql_user_delete[] = "DELETE FROM users WHERE account_id = $1 AND id = $2";
static const char sql_session_insert[] =
    "INSERT INTO sessions(token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) "
    "VALUES ($1, $2, $3, $4, $5, $6)";
static const char sql_session_delete[] = "DELETE FROM sessions WHERE token_hash = $1";
static const char sql_session_delete_user[] = "DELETE FROM sessions WHERE user_id = $1";
static const char sql_session_touch[] =
    "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1";
static const char sql_failure_put[] =
    "INSERT INTO sign_in_failures(email_norm, failures, first_failure_at, locked_until) "
    "VALUES ($1, $2, $3, $4) ON CONFLICT (email_norm) DO UPDATE SET failures = excluded.failures, "
    "first_failure_at = excluded.first_failure_at, locked_until = excluded.locked_until";
static const char sql_failure_clear[] = "DELETE FROM sign_in_failures WHERE email_norm = $1";
static const char sql_failure_unlock[] =
    "DELETE FROM sign_in_failures WHERE email_norm = $1 OR "
    "(email_norm >= ($1 || chr(10)) COLLATE \"C\" AND email_norm < ($1 || chr(11)) COLLATE \"C\")";

static void read_user(const PGresult *r, int row, int i, struct cc_user *u)
{
    memset(u, 0, sizeof *u);
    u->id = cc_pg_get_i64(r, row, i);
    u->account_id = cc_pg_get_i64(r, row, i + 1);
    cc_pg_get_text(r, row, i + 2, u->email, sizeof u->email);
    cc_pg_get_text(r, row, i + 3, u->email_norm, sizeof u->email_norm);
    u->role = cc_role_parse(cc_pg_get_str(r, row, i + 4));
    cc_pg_get_text(r, row, i + 5, u->password_hash, sizeof u->password_hash);
    cc_pg_get_text(r, row, i + 6, u->language, sizeof u->language);
    u->disabled_at = cc_pg_get_i64(r, row, i + 7);
    u->created_at = cc_pg_get_i64(r, row, i + 8);
    u->last_sign_in_at = cc_pg_get_i64(r, row, i + 9);
    u->locked_until = cc_pg_get_i64(r, row, i + 10);
}

static enum cc_err no_user(struct cc_error *err)
{
    return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no such user.");
}

static enum cc_err read_user_get(void *impl, int64_t id, struct cc_user *out, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, id);
    enum cc_err rc;
    PGresult *r = cc_pg_exec(c, sql_user_get, &p, "reading a user", err);
    if (!r)
        rc = err->code;
    else if (PQntuples(r) == 0)
        rc = no_user(err);
    else {
        read_user(r, 0, 0, out);
        rc = CC_OK;
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_user_by_email(void *impl, const char *email_norm, int64_t account_id,
                                      struct cc_user *out, int *many, struct cc_error *err)
{
    *many = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, email_norm);
    cc_pg_i64(&p, account_id);
    enum cc_err rc;
    PGresult *r = cc_pg_exec(c, sql_user_by_email, &p, "reading a user", err);
    if (!r)
        rc = err->code;
    else if (PQntuples(r) == 0)
        rc = no_user(err);
    else {
        read_user(r, 0, 0, out);
        *many = PQntuples(r) > 1;
        rc = CC_OK;
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_user_list(void *impl, int64_t account_id, struct cc_user **out, size_t *n,
                                  struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, CC_USERS_MAX);
    enum cc_err rc = CC_OK;
    PGresult *r = cc_pg_exec(c, sql_user_list, &p, "listing users", err);
    if (!r)
        rc = err->code;
    else {
        size_t rows = (size_t)PQntuples(r);
        /* At least one item, as the SQLite side's list is never NULL on success. */
        struct cc_user *items = cc_calloc(rows ? rows : 1, sizeof *items);
        for (size_t i = 0; i < rows; i++)
            read_user(r, (int)i, 0, &items[i]);
        *out = items;
        *n = rows;
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_session_get(void *impl, const char *token_hash, struct cc_session *sess,
                                    struct cc_user *user, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, token_hash);
    enum cc_err rc = CC_OK;
    PGresult *r = cc_pg_exec(c, sql_session_get, &p, "reading a session", err);
    if (!r)
        rc = err->code;
    else if (PQntuples(r) == 0)
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no such session.");
    else {
        memset(sess, 0, sizeof *sess);
        cc_pg_get_text(r, 0, 0, sess->token_hash, sizeof sess->token_hash);
        sess->user_id = cc_pg_get_i64(r, 0, 1);
        cc_pg_get_text(r, 0, 2, sess->csrf_token, sizeof sess->csrf_token);
        sess->created_at = cc_pg_get_i64(r, 0, 3);
        sess->last_seen_at = cc_pg_get_i64(r, 0, 4);
        sess->expires_at = cc_pg_get_i64(r, 0, 5);
        read_user(r, 0, 6, user);
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

/* The count under key on c into *out (zeros when none). */
static enum cc_err failures_get(struct pgc *c, const char *key, struct cc_sign_in_failures *out,
                                struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, key);
    PGresult *r = cc_pg_exec(c, sql_failures_get, &p, "reading sign-in failures", err);
    if (!r)
        return err->code;
    if (PQntuples(r) > 0) {
        out->failures = cc_pg_get_i64(r, 0, 0);
        out->first_failure_at = cc_pg_get_i64(r, 0, 1);
        out->locked_until = cc_pg_get_i64(r, 0, 2);
    }
    PQclear(r);
    return CC_OK;
}

static enum cc_err read_sign_in_failures(void *impl, const char *email_norm,
                                         struct cc_sign_in_failures *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = failures_get(c, email_norm, out, err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err tx_user_insert(void *tx, struct cc_user *u, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, u->account_id);
    cc_pg_text(&p, u->email);
    cc_pg_text(&p, u->email_norm);
    cc_pg_text(&p, cc_role_name(u->role));
    cc_pg_text(&p, u->password_hash);
    cc_pg_text(&p, u->language);
    cc_pg_i64(&p, u->disabled_at);
    cc_pg_i64(&p, u->created_at);
    cc_pg_i64(&p, u->last_sign_in_at);
    enum cc_err rc = cc_pg_one_i64(c, sql_user_insert, &p, &u->id, "adding a user", err);
    /* users' only unique key besides its id is (account_id, email_norm). */
    if (rc && cc_pg_unique_violation(c, NULL))
        return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Email",
                            "A console user with this email already exists in this account.");
    return rc;
}

static enum cc_err tx_user_update(void *tx, const struct cc_user *u, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, u->account_id);
    cc_pg_i64(&p, u->id);
    cc_pg_text(&p, cc_role_name(u->role));
    cc_pg_text(&p, u->password_hash);
    cc_pg_text(&p, u->language);
    cc_pg_i64(&p, u->disabled_at);
    cc_pg_i64(&p, u->last_sign_in_at);
    int64_t changed;
    enum cc_err rc = cc_pg_do_n(c, sql_user_update, &p, &changed, "changing a user", err);
    if (!rc && changed == 0)
        return no_user(err);
    return rc;
}

static enum cc_err tx_user_delete(void *tx, int64_t account_id, int64_t id, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    int64_t changed;
    enum cc_err rc = cc_pg_do_n(c, sql_user_delete, &p, &changed, "deleting a user", err);
    if (!rc && changed == 0)
        return no_user(err);
    return rc;
}

static enum cc_err tx_session_insert(void *tx, const struct cc_session *sess, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, sess->token_hash);
    cc_pg_i64(&p, sess->user_id);
    cc_pg_text(&p, sess->csrf_token);
    cc_pg_i64(&p, sess->created_at);
    cc_pg_i64(&p, sess->last_seen_at);
    cc_pg_i64(&p, sess->expires_at);
    return cc_pg_do(c, sql_session_insert, &p, "adding a session", err);
}

static enum cc_err tx_session_delete(void *tx, const char *token_hash, int64_t user_id,
                                     struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    if (token_hash)
        cc_pg_text(&p, token_hash);
    else
        cc_pg_i64(&p, user_id);
    return cc_pg_do(c, token_hash ? sql_session_delete : sql_session_delete_user, &p,
                    "deleting sessions", err);
}

static enum cc_err tx_session_touch(void *tx, const char *token_hash, int64_t now,
                                    struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, token_hash);
    cc_pg_i64(&p, now);
    return cc_pg_do(c, sql_session_touch, &p, "touching a session", err);
}

static enum cc_err tx_sign_in_failure(void *tx, const char *email_norm, int64_t now,
                                      int64_t window_ms, int64_t max_failures, int64_t lock_ms,
                                      struct cc_sign_in_failures *out, struct cc_error *err)
{
    struct pgc *c = tx;
    struct cc_sign_in_failures f;
    enum cc_err e = failures_get(c, email_norm, &f, err);
    if (e)
        return e;
    if (f.failures == 0 || now - f.first_failure_at > window_ms) {
        f.failures = 0;
        f.first_failure_at = now;
    }
    f.failures++;
    if (f.failures >= max_failures && f.locked_until < now + lock_ms)
        f.locked_until = now + lock_ms;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, email_norm);
    cc_pg_i64(&p, f.failures);
    cc_pg_i64(&p, f.first_failure_at);
    cc_pg_i64(&p, f.locked_until);
    e = cc_pg_do(c, sql_failure_put, &p, "counting a sign-in failure", err);
    if (!e)
        *out = f;
    return e;
}

static enum cc_err tx_sign_in_clear(void *tx, const char *email_norm, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, email_norm);
    return cc_pg_do(c, sql_failure_clear, &p, "clearing sign-in failures", err);
}

static enum cc_err tx_sign_in_unlock(void *tx, const char *email_norm, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, email_norm);
    return cc_pg_do(c, sql_failure_unlock, &p, "unlocking sign-in", err);
}

const struct cc_store_user_ops cc_pg_user_ops = {CC_STORE_USER_OPS(CC_STORE_OP_INIT)};
