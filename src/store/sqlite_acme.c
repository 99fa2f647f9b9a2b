/*
 * sqlite_acme.c — the SQLite side of store/acme.h (migration 0023): ACME
 * accounts, the orders of applications fulfilled through ACME and their
 * challenges. Writes run inside the writer's transactions; reads on the
 * calling thread's read connection.
 */
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_account_get[] =
    "SELECT id, key_enc, kid FROM acme_accounts WHERE directory_url = ?1";
static const char sql_account_create[] =
    "INSERT OR IGNORE INTO acme_accounts(directory_url, key_enc, created_at) VALUES (?1, ?2, ?3)";
static const char sql_account_kid[] = "UPDATE acme_accounts SET kid = ?2 WHERE directory_url = ?1";
static const char sql_order_get[] =
    "SELECT application_id, account_id, order_url, status, finalize_url, certificate_url, "
    "key_enc, next_at, errors, last_error, updated_at, certificate_id, renew_at, renew_failures, "
    "renewal_of FROM acme_orders WHERE application_id = ?1";
static const char sql_order_of_cert[] =
    "SELECT application_id FROM acme_orders WHERE account_id = ?1 AND certificate_id = ?2";
static const char sql_order_put[] =
    "INSERT INTO acme_orders(application_id, account_id, order_url, status, finalize_url, "
    "certificate_url, key_enc, next_at, errors, last_error, updated_at, certificate_id, renew_at, "
    "renew_failures, renewal_of) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
    "?14, ?15) ON CONFLICT(application_id) DO UPDATE SET "
    "order_url = ?3, status = ?4, finalize_url = ?5, certificate_url = ?6, "
    "key_enc = coalesce(?7, key_enc), next_at = ?8, errors = ?9, last_error = ?10, "
    "updated_at = ?11, certificate_id = ?12, renew_at = ?13, renew_failures = ?14, "
    "renewal_of = ?15";
static const char sql_challenges[] =
    "SELECT authz_url, identifier, type, url, token, key_authorization, status, published_at, "
    "dns_record_id FROM "
    "acme_challenges WHERE application_id = ?1 ORDER BY authz_url LIMIT 1000";
static const char sql_challenge_put[] =
    "INSERT OR REPLACE INTO acme_challenges(application_id, authz_url, identifier, type, url, "
    "token, key_authorization, status, published_at, dns_record_id) VALUES (?1, ?2, ?3, ?4, ?5, "
    "?6, ?7, ?8, ?9, ?10)";
static const char sql_renewals_due[] =
    "SELECT o.application_id, o.account_id FROM acme_orders o JOIN certificates c ON "
    "c.id = o.certificate_id WHERE o.renew_at > 0 AND o.renew_at <= ?1 AND c.state = 'active' "
    "ORDER BY o.renew_at LIMIT ?2";
static const char sql_in_flight[] =
    "SELECT count(*) FROM acme_orders o JOIN applications a ON a.id = o.application_id WHERE "
    "o.order_url <> '' AND a.state IN ('submitted', 'pending_validation', 'approved')";
static const char sql_token[] =
    "SELECT ch.key_authorization FROM acme_challenges ch JOIN applications a ON "
    "a.id = ch.application_id WHERE ch.token = ?1 AND ch.type = 'http-01' AND a.state IN "
    "('submitted', 'pending_validation', 'approved') LIMIT 1";
static const char sql_due[] =
    "SELECT a.id, a.account_id FROM applications a LEFT JOIN acme_orders o ON "
    "o.application_id = a.id WHERE a.product IN (SELECT value FROM json_each(?1)) AND "
    "a.state IN ('submitted', 'pending_validation', 'approved') AND "
    "(o.next_at IS NULL OR o.next_at <= ?2) ORDER BY a.id LIMIT ?3";

void cc_acme_order_clear(struct cc_acme_order *o)
{
    if (o->key_enc)
        memset(o->key_enc, 0, o->key_len);
    cc_free(o->key_enc);
    o->key_enc = NULL;
    o->key_len = 0;
}

/* A blob column copied into a new buffer (*out NULL when the column is NULL). */
static void col_blob_dup(sqlite3_stmt *s, int i, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (sqlite3_column_type(s, i) == SQLITE_NULL)
        return;
    size_t n = (size_t)sqlite3_column_bytes(s, i);
    *out = cc_malloc(n ? n : 1);
    if (n)
        memcpy(*out, sqlite3_column_blob(s, i), n);
    *len = n;
}

static enum cc_err read_acme_account_get(void *impl, const char *directory_url, int64_t *id,
                                         uint8_t **key_enc, size_t *key_len, char *kid,
                                         size_t kidsz, struct cc_error *err)
{
    *key_enc = NULL;
    *key_len = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_account_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, directory_url, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        col_blob_dup(s, 1, key_enc, key_len);
        cc_sq_col_text(s, 2, kid, kidsz);
    }
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "no ACME account for this directory");
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading the ACME account");
}

static enum cc_err tx_acme_account_create(void *tx, const char *directory_url,
                                          const uint8_t *key_enc, size_t key_len, int64_t now,
                                          struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_account_create, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, directory_url, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, key_enc, (int)key_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    return cc_sq_step_done(c, s, "saving the ACME account", err);
}

static enum cc_err tx_acme_account_kid(void *tx, const char *directory_url, const char *kid,
                                       struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_account_kid, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, directory_url, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, kid, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "saving the ACME account URL", err);
}

static enum cc_err read_acme_order_get(void *impl, int64_t application_id,
                                       struct cc_acme_order *o, struct cc_error *err)
{
    memset(o, 0, sizeof *o);
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_order_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, application_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        o->application_id = sqlite3_column_int64(s, 0);
        o->account_id = sqlite3_column_int64(s, 1);
        cc_sq_col_text(s, 2, o->order_url, sizeof o->order_url);
        cc_sq_col_text(s, 3, o->status, sizeof o->status);
        cc_sq_col_text(s, 4, o->finalize_url, sizeof o->finalize_url);
        cc_sq_col_text(s, 5, o->certificate_url, sizeof o->certificate_url);
        col_blob_dup(s, 6, &o->key_enc, &o->key_len);
        o->next_at = sqlite3_column_int64(s, 7);
        o->errors = sqlite3_column_int64(s, 8);
        cc_sq_col_text(s, 9, o->last_error, sizeof o->last_error);
        o->updated_at = sqlite3_column_int64(s, 10);
        o->certificate_id = sqlite3_column_int64(s, 11);
        o->renew_at = sqlite3_column_int64(s, 12);
        o->renew_failures = sqlite3_column_int64(s, 13);
        o->renewal_of = sqlite3_column_int64(s, 14);
    }
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "no ACME order for this application");
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading an ACME order");
}

static enum cc_err tx_acme_order_put(void *tx, const struct cc_acme_order *o,
                                     struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_order_put, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, o->application_id);
    sqlite3_bind_int64(s, 2, o->account_id);
    sqlite3_bind_text(s, 3, o->order_url, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, o->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, o->finalize_url, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, o->certificate_url, -1, SQLITE_STATIC);
    if (o->key_enc)
        sqlite3_bind_blob(s, 7, o->key_enc, (int)o->key_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, 7);
    sqlite3_bind_int64(s, 8, o->next_at);
    sqlite3_bind_int64(s, 9, o->errors);
    sqlite3_bind_text(s, 10, o->last_error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, o->updated_at);
    if (o->certificate_id)
        sqlite3_bind_int64(s, 12, o->certificate_id);
    else
        sqlite3_bind_null(s, 12);
    sqlite3_bind_int64(s, 13, o->renew_at);
    sqlite3_bind_int64(s, 14, o->renew_failures);
    if (o->renewal_of)
        sqlite3_bind_int64(s, 15, o->renewal_of);
    else
        sqlite3_bind_null(s, 15);
    return cc_sq_step_done(c, s, "saving an ACME order", err);
}

static enum cc_err read_acme_challenges(void *impl, int64_t application_id,
                                        struct cc_acme_challenge **out, size_t *n,
                                        struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_challenges, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, application_id);
    size_t cap = 0, k = 0;
    struct cc_acme_challenge *v = NULL;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (k == cap) {
            cap = cap ? cap * 2 : 4;
            v = cc_realloc(v, cap * sizeof *v);
        }
        struct cc_acme_challenge *ch = &v[k++];
        memset(ch, 0, sizeof *ch);
        cc_sq_col_text(s, 0, ch->authz_url, sizeof ch->authz_url);
        cc_sq_col_text(s, 1, ch->identifier, sizeof ch->identifier);
        cc_sq_col_text(s, 2, ch->type, sizeof ch->type);
        cc_sq_col_text(s, 3, ch->url, sizeof ch->url);
        cc_sq_col_text(s, 4, ch->token, sizeof ch->token);
        cc_sq_col_text(s, 5, ch->key_authorization, sizeof ch->key_authorization);
        cc_sq_col_text(s, 6, ch->status, sizeof ch->status);
        ch->published_at = sqlite3_column_int64(s, 7);
        cc_sq_col_text(s, 8, ch->dns_record_id, sizeof ch->dns_record_id);
    }
    cc_sq_done(s);
    if (rc != SQLITE_DONE) {
        cc_free(v);
        return cc_sq_db_error(err, c->db, "reading ACME challenges");
    }
    *out = v;
    *n = k;
    return CC_OK;
}

static enum cc_err tx_acme_challenge_put(void *tx, int64_t application_id,
                                         const struct cc_acme_challenge *ch,
                                         struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_challenge_put, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, application_id);
    sqlite3_bind_text(s, 2, ch->authz_url, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, ch->identifier, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, ch->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, ch->url, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, ch->token, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, ch->key_authorization, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, ch->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 9, ch->published_at);
    sqlite3_bind_text(s, 10, ch->dns_record_id, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "saving an ACME challenge", err);
}

static enum cc_err read_acme_token(void *impl, const char *token, char *key_authorization,
                                   size_t sz, struct cc_error *err)
{
    key_authorization[0] = '\0';
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_token, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, token, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        cc_sq_col_text(s, 0, key_authorization, sz);
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "no such challenge");
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading an ACME challenge");
}

static enum cc_err read_acme_due(void *impl, const char *products_json, int64_t now, size_t max,
                                 struct cc_acme_due **out, size_t *n, struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_due, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, products_json, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_int64(s, 3, (int64_t)max);
    struct cc_acme_due *v = cc_calloc(max ? max : 1, sizeof *v);
    size_t k = 0;
    int rc = SQLITE_DONE;
    while (k < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        v[k].application_id = sqlite3_column_int64(s, 0);
        v[k].account_id = sqlite3_column_int64(s, 1);
        k++;
    }
    if (k < max && rc != SQLITE_DONE) {
        cc_sq_done(s);
        cc_free(v);
        return cc_sq_db_error(err, c->db, "reading the due ACME orders");
    }
    cc_sq_done(s);
    *out = v;
    *n = k;
    return CC_OK;
}

static enum cc_err read_acme_renewals_due(void *impl, int64_t now, size_t max,
                                          struct cc_acme_due **out, size_t *n,
                                          struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_renewals_due, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    struct cc_acme_due *v = cc_calloc(max ? max : 1, sizeof *v);
    size_t k = 0;
    int rc = SQLITE_DONE;
    while (k < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        v[k].application_id = sqlite3_column_int64(s, 0);
        v[k].account_id = sqlite3_column_int64(s, 1);
        k++;
    }
    cc_sq_done(s);
    if (k < max && rc != SQLITE_DONE) {
        cc_free(v);
        return cc_sq_db_error(err, c->db, "reading the due ACME renewals");
    }
    *out = v;
    *n = k;
    return CC_OK;
}

static enum cc_err read_acme_in_flight(void *impl, int64_t *n, struct cc_error *err)
{
    *n = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_in_flight, err);
    if (!s)
        return CC_ERR_STORE;
    return cc_sq_count(c, s, n, "counting the ACME orders in flight", err);
}

static enum cc_err read_acme_order_of_cert(void *impl, int64_t account_id, int64_t cert_id,
                                           struct cc_acme_order *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_order_of_cert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, cert_id);
    int rc = sqlite3_step(s);
    int64_t app = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "not issued through ACME");
    if (rc != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "reading an ACME order");
    return read_acme_order_get(impl, app, out, err);
}

const struct cc_store_acme_ops cc_sq_acme_ops = {CC_STORE_ACME_OPS(CC_STORE_OP_INIT)};
