/*
 * sqlite_users.c — the SQLite side of console users (migration 0007): users,
 * their sessions and the wrong-password counts (per email, per address and
 * per email from one address; the service makes the keys). Writes run inside
 * the writer's transactions (sqlite_writer.c); reads on the calling thread's
 * read connection.
 */
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_int.h"
#include "util/util.h"

#define USER_COLS                                                                            \
    "u.id, u.account_id, u.email, u.email_norm, u.role, u.password_hash, u.language, "      \
    "COALESCE(u.disabled_at, 0), u.created_at, COALESCE(u.last_sign_in_at, 0), "            \
    "COALESCE((SELECT MAX(f.locked_until) FROM sign_in_failures f WHERE "                  \
    "f.email_norm >= u.email_norm || char(10) AND f.email_norm < u.email_norm || char(11)), 0)"
/* A user's lock is the latest of its email's locks from one address each: the
 * rows keyed "EMAIL\nADDRESS" (see service/users.c), found by key range. */
#define USER_FROM " FROM users u "

static const char sql_user_get[] = "SELECT " USER_COLS USER_FROM "WHERE u.id = ?1";
static const char sql_user_by_email[] =
    "SELECT " USER_COLS USER_FROM "WHERE u.email_norm = ?1 AND (?2 = 0 OR u.account_id = ?2) "
    "ORDER BY u.id LIMIT 2";
static const char sql_user_list[] =
    "SELECT " USER_COLS USER_FROM "WHERE u.account_id = ?1 ORDER BY u.id LIMIT ?2";
static const char sql_session_get[] =
    "SELECT s.token_hash, s.user_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, "
    USER_COLS " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1";
static const char sql_failures_get[] =
    "SELECT failures, first_failure_at, locked_until FROM sign_in_failures WHERE email_norm = ?1";
static const char sql_user_insert[] =
    "INSERT INTO users(account_id, email, email_norm, role, password_hash, language, "
    "disabled_at, created_at, last_sign_in_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULLIF(?7, 0), "
    "?8, NULLIF(?9, 0))";
static const char sql_user_update[] =
    "UPDATE users SET role = ?3, password_hash = ?4, language = ?5, disabled_at = NULLIF(?6, 0), "
    "last_sign_in_at = NULLIF(?7, 0) WHERE account_id = ?1 AND id = ?2";
static const char sql_user_delete[] = "DELETE FROM users WHERE account_id = ?1 AND id = ?2";
static const char sql_session_insert[] =
    "INSERT INTO sessions(token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_session_delete[] = "DELETE FROM sessions WHERE token_hash = ?1";
static const char sql_session_delete_user[] = "DELETE FROM sessions WHERE user_id = ?1";
static const char sql_session_touch[] =
    "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1";
static const char sql_failure_put[] =
    "INSERT INTO sign_in_failures(email_norm, failures, first_failure_at, locked_until) "
    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (email_norm) DO UPDATE SET failures = excluded.failures, "
    "first_failure_at = excluded.first_failure_at, locked_until = excluded.locked_until";
static const char sql_failure_clear[] = "DELETE FROM sign_in_failures WHERE email_norm = ?1";
static const char sql_failure_unlock[] =
    "DELETE FROM sign_in_failures WHERE email_norm = ?1 OR "
    "(email_norm >= ?1 || char(10) AND email_norm < ?1 || char(11))";

static void read_user(sqlite3_stmt *s, int i, struct cc_user *u)
{
    char role[16];
    memset(u, 0, sizeof *u);
    u->id = sqlite3_column_int64(s, i);
    u->account_id = sqlite3_column_int64(s, i + 1);
    cc_sq_col_text(s, i + 2, u->email, sizeof u->email);
    cc_sq_col_text(s, i + 3, u->email_norm, sizeof u->email_norm);
    cc_sq_col_text(s, i + 4, role, sizeof role);
    u->role = cc_role_parse(role);
    cc_sq_col_text(s, i + 5, u->password_hash, sizeof u->password_hash);
    cc_sq_col_text(s, i + 6, u->language, sizeof u->language);
    u->disabled_at = sqlite3_column_int64(s, i + 7);
    u->created_at = sqlite3_column_int64(s, i + 8);
    u->last_sign_in_at = sqlite3_column_int64(s, i + 9);
    u->locked_until = sqlite3_column_int64(s, i + 10);
}

/* One user row from a prepared, bound statement. */
static enum cc_err one_user(struct conn *c, sqlite3_stmt *s, struct cc_user *out,
                            struct cc_error *err)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_user(s, 0, out);
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no such user.");
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading a user");
}

static enum cc_err read_user_get(void *impl, int64_t id, struct cc_user *out, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    sqlite3_stmt *s = c ? cc_sq_stmt(c, sql_user_get, err) : NULL;
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    return one_user(c, s, out, err);
}

static enum cc_err read_user_by_email(void *impl, const char *email_norm, int64_t account_id,
                                      struct cc_user *out, int *many, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    sqlite3_stmt *s = c ? cc_sq_stmt(c, sql_user_by_email, err) : NULL;
    *many = 0;
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, email_norm, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, account_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        read_user(s, 0, out);
        rc = sqlite3_step(s);
        *many = rc == SQLITE_ROW;
        rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_ROW : rc;
    }
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no such user.");
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading a user");
}

static enum cc_err read_user_list(void *impl, int64_t account_id, struct cc_user **out, size_t *n,
                                  struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    sqlite3_stmt *s = c ? cc_sq_stmt(c, sql_user_list, err) : NULL;
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int(s, 2, CC_USERS_MAX);
    size_t cap = 16;
    struct cc_user *items = cc_calloc(cap, sizeof *items);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap *= 2;
            items = cc_realloc(items, cap * sizeof *items);
        }
        read_user(s, 0, &items[(*n)++]);
    }
    cc_sq_done(s);
    if (rc != SQLITE_DONE) {
        cc_free(items);
        *n = 0;
        return cc_sq_db_error(err, c->db, "listing users");
    }
    *out = items;
    return CC_OK;
}

static enum cc_err read_session_get(void *impl, const char *token_hash, struct cc_session *sess,
                                    struct cc_user *user, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    sqlite3_stmt *s = c ? cc_sq_stmt(c, sql_session_get, err) : NULL;
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        memset(sess, 0, sizeof *sess);
        cc_sq_col_text(s, 0, sess->token_hash, sizeof sess->token_hash);
        sess->user_id = sqlite3_column_int64(s, 1);
        cc_sq_col_text(s, 2, sess->csrf_token, sizeof sess->csrf_token);
        sess->created_at = sqlite3_column_int64(s, 3);
        sess->last_seen_at = sqlite3_column_int64(s, 4);
        sess->expires_at = sqlite3_column_int64(s, 5);
        read_user(s, 6, user);
    }
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no such session.");
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading a session");
}

static enum cc_err read_sign_in_failures(void *impl, const char *email_norm,
                                         struct cc_sign_in_failures *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    struct conn *c = cc_sq_rconn(impl, err);
    sqlite3_stmt *s = c ? cc_sq_stmt(c, sql_failures_get, err) : NULL;
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, email_norm, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->failures = sqlite3_column_int64(s, 0);
        out->first_failure_at = sqlite3_column_int64(s, 1);
        out->locked_until = sqlite3_column_int64(s, 2);
    }
    cc_sq_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE
               ? CC_OK
               : cc_sq_db_error(err, c->db, "reading sign-in failures");
}

static enum cc_err tx_user_insert(void *tx, struct cc_user *u, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_user_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, u->account_id);
    sqlite3_bind_text(s, 2, u->email, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, u->email_norm, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, cc_role_name(u->role), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, u->password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, u->language, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, u->disabled_at);
    sqlite3_bind_int64(s, 8, u->created_at);
    sqlite3_bind_int64(s, 9, u->last_sign_in_at);
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    if (rc == SQLITE_DONE) {
        u->id = sqlite3_last_insert_rowid(c->db);
        return CC_OK;
    }
    if (sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_UNIQUE)
        return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Email",
                            "A console user with this email already exists in this account.");
    return cc_sq_db_error(err, c->db, "adding a user");
}

static enum cc_err tx_user_update(void *tx, const struct cc_user *u, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_user_update, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, u->account_id);
    sqlite3_bind_int64(s, 2, u->id);
    sqlite3_bind_text(s, 3, cc_role_name(u->role), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, u->password_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, u->language, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, u->disabled_at);
    sqlite3_bind_int64(s, 7, u->last_sign_in_at);
    enum cc_err rc = cc_sq_step_done(c, s, "changing a user", err);
    if (!rc && sqlite3_changes(c->db) == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no such user.");
    return rc;
}

static enum cc_err tx_user_delete(void *tx, int64_t account_id, int64_t id, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_user_delete, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    enum cc_err rc = cc_sq_step_done(c, s, "deleting a user", err);
    if (!rc && sqlite3_changes(c->db) == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no such user.");
    return rc;
}

static enum cc_err tx_session_insert(void *tx, const struct cc_session *sess, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_session_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, sess->token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, sess->user_id);
    sqlite3_bind_text(s, 3, sess->csrf_token, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, sess->created_at);
    sqlite3_bind_int64(s, 5, sess->last_seen_at);
    sqlite3_bind_int64(s, 6, sess->expires_at);
    return cc_sq_step_done(c, s, "adding a session", err);
}

static enum cc_err tx_session_delete(void *tx, const char *token_hash, int64_t user_id,
                                     struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = token_hash
                          ? cc_sq_stmt(c, sql_session_delete, err)
                          : cc_sq_stmt(c, sql_session_delete_user, err);
    if (!s)
        return CC_ERR_STORE;
    if (token_hash)
        sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 1, user_id);
    return cc_sq_step_done(c, s, "deleting sessions", err);
}

static enum cc_err tx_session_touch(void *tx, const char *token_hash, int64_t now,
                                    struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_session_touch, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, token_hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    return cc_sq_step_done(c, s, "touching a session", err);
}

static enum cc_err tx_sign_in_failure(void *tx, const char *email_norm, int64_t now,
                                      int64_t window_ms, int64_t max_failures, int64_t lock_ms,
                                      struct cc_sign_in_failures *out, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_failures_get, err);
    if (!s)
        return CC_ERR_STORE;
    struct cc_sign_in_failures f = {0, 0, 0};
    sqlite3_bind_text(s, 1, email_norm, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        f.failures = sqlite3_column_int64(s, 0);
        f.first_failure_at = sqlite3_column_int64(s, 1);
        f.locked_until = sqlite3_column_int64(s, 2);
    }
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading sign-in failures");
    if (f.failures == 0 || now - f.first_failure_at > window_ms) {
        f.failures = 0;
        f.first_failure_at = now;
    }
    f.failures++;
    if (f.failures >= max_failures && f.locked_until < now + lock_ms)
        f.locked_until = now + lock_ms;
    s = cc_sq_stmt(c, sql_failure_put, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, email_norm, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, f.failures);
    sqlite3_bind_int64(s, 3, f.first_failure_at);
    sqlite3_bind_int64(s, 4, f.locked_until);
    enum cc_err e = cc_sq_step_done(c, s, "counting a sign-in failure", err);
    if (!e)
        *out = f;
    return e;
}

static enum cc_err tx_sign_in_clear(void *tx, const char *email_norm, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_failure_clear, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, email_norm, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "clearing sign-in failures", err);
}

static enum cc_err tx_sign_in_unlock(void *tx, const char *email_norm, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_failure_unlock, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, email_norm, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "unlocking sign-in", err);
}

const struct cc_store_user_ops cc_sq_user_ops = {CC_STORE_USER_OPS(CC_STORE_OP_INIT)};
