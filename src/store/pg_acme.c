/*
 * pg_acme.c — the PostgreSQL side of store/acme.h, statement for statement
 * as sqlite_acme.c: ACME accounts, the orders of applications fulfilled
 * through ACME and their challenges. Tx operations run on the write's
 * connection; reads on a pooled one. (cc_acme_order_clear is defined once,
 * in sqlite_acme.c.)
 */
#include <string.h>

#include "store/pg_int.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_account_get[] =
    "SELECT id, key_enc, kid FROM acme_accounts WHERE directory_url = $1";
/* INSERT OR IGNORE: the account another instance made first stays. */
static const char sql_account_create[] =
    "INSERT INTO acme_accounts(directory_url, key_enc, created_at) VALUES ($1, $2, $3) "
    "ON CONFLICT (directory_url) DO NOTHING";
static const char sql_account_kid[] = "UPDATE acme_accounts SET kid = $2 WHERE directory_url = $1";
static const char sql_order_get[] =
    "SELECT application_id, account_id, order_url, status, finalize_url, certificate_url, "
    "key_enc, next_at, errors, last_error, updated_at, coalesce(certificate_id, 0), renew_at, "
    "renew_failures, coalesce(renewal_of, 0) FROM acme_orders WHERE application_id = $1";
static const char sql_order_of_cert[] =
    "SELECT application_id FROM acme_orders WHERE account_id = $1 AND certificate_id = $2";
static const char sql_order_put[] =
    "INSERT INTO acme_orders(application_id, account_id, order_url, status, finalize_url, "
    "certificate_url, key_enc, next_at, errors, last_error, updated_at, certificate_id, renew_at, "
    "renew_failures, renewal_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
    "$14, $15) ON CONFLICT (application_id) DO UPDATE SET "
    "order_url = $3, status = $4, finalize_url = $5, certificate_url = $6, "
    "key_enc = coalesce($7, acme_orders.key_enc), next_at = $8, errors = $9, last_error = $10, "
    "updated_at = $11, certificate_id = $12, renew_at = $13, renew_failures = $14, "
    "renewal_of = $15";
/* COLLATE "C": SQLite's BINARY order of the URLs, whatever the database's
 * collation. */
static const char sql_challenges[] =
    "SELECT authz_url, identifier, type, url, token, key_authorization, status, published_at, "
    "dns_record_id FROM "
    "acme_challenges WHERE application_id = $1 ORDER BY authz_url COLLATE \"C\" LIMIT 1000";
/* INSERT OR REPLACE: the row of the primary key (application_id,
 * authz_url) takes every new value. */
static const char sql_challenge_put[] =
    "INSERT INTO acme_challenges(application_id, authz_url, identifier, type, url, "
    "token, key_authorization, status, published_at, dns_record_id) VALUES ($1, $2, $3, $4, $5, "
    "$6, $7, $8, $9, $10) ON CONFLICT (application_id, authz_url) DO UPDATE SET "
    "identifier = excluded.identifier, type = excluded.type, url = excluded.url, "
    "token = excluded.token, key_authorization = excluded.key_authorization, "
    "status = excluded.status, published_at = excluded.published_at, "
    "dns_record_id = excluded.dns_record_id";
static const char sql_renewals_due[] =
    "SELECT o.application_id, o.account_id FROM acme_orders o JOIN certificates c ON "
    "c.id = o.certificate_id WHERE o.renew_at > 0 AND o.renew_at <= $1 AND c.state = 'active' "
    "ORDER BY o.renew_at LIMIT $2";
static const char sql_in_flight[] =
    "SELECT count(*) FROM acme_orders o JOIN applications a ON a.id = o.application_id WHERE "
    "o.order_url <> '' AND a.state IN ('submitted', 'pending_validation', 'approved')";
static const char sql_token[] =
    "SELECT ch.key_authorization FROM acme_challenges ch JOIN applications a ON "
    "a.id = ch.application_id WHERE ch.token = $1 AND ch.type = 'http-01' AND a.state IN "
    "('submitted', 'pending_validation', 'approved') LIMIT 1";
/* SQLite's json_each over the products is jsonb_array_elements_text. */
static const char sql_due[] =
    "SELECT a.id, a.account_id FROM applications a LEFT JOIN acme_orders o ON "
    "o.application_id = a.id WHERE a.product IN (SELECT jsonb_array_elements_text($1::jsonb)) "
    "AND a.state IN ('submitted', 'pending_validation', 'approved') AND "
    "(o.next_at IS NULL OR o.next_at <= $2) ORDER BY a.id LIMIT $3";

/* PostgreSQL refuses text that is not UTF-8 (SQLite keeps any bytes): a
 * CA's error cut to size on a byte is stored with each byte of a broken
 * sequence as '?'. s into buf. */
static const char *utf8_text(const char *s, char *buf, size_t bufsz)
{
    size_t n = strlen(s);
    if (cc_utf8_valid(s, n))
        return s;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < bufsz;) {
        size_t k = 1;
        while (k <= 4 && i + k <= n && !cc_utf8_valid(s + i, k))
            k++;
        if (k > 4 || i + k > n || o + k >= bufsz) {
            buf[o++] = '?';
            i++;
            continue;
        }
        memcpy(buf + o, s + i, k);
        o += k;
        i += k;
    }
    buf[o] = '\0';
    return buf;
}

static enum cc_err read_acme_account_get(void *impl, const char *directory_url, int64_t *id,
                                         uint8_t **key_enc, size_t *key_len, char *kid,
                                         size_t kidsz, struct cc_error *err)
{
    *key_enc = NULL;
    *key_len = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, directory_url);
    PGresult *r = cc_pg_exec(c, sql_account_get, &p, "reading the ACME account", err);
    enum cc_err rc = r ? CC_OK : err->code;
    if (r && PQntuples(r) > 0) {
        *id = cc_pg_get_i64(r, 0, 0);
        *key_enc = cc_pg_get_blob_dup(r, 0, 1, key_len);
        cc_pg_get_text(r, 0, 2, kid, kidsz);
    } else if (r) {
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "no ACME account for this directory");
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err tx_acme_account_create(void *tx, const char *directory_url,
                                          const uint8_t *key_enc, size_t key_len, int64_t now,
                                          struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, directory_url);
    cc_pg_blob(&p, key_enc, key_len);
    cc_pg_i64(&p, now);
    return cc_pg_do(c, sql_account_create, &p, "saving the ACME account", err);
}

static enum cc_err tx_acme_account_kid(void *tx, const char *directory_url, const char *kid,
                                       struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, directory_url);
    cc_pg_text(&p, kid);
    return cc_pg_do(c, sql_account_kid, &p, "saving the ACME account URL", err);
}

static void read_order(const PGresult *r, struct cc_acme_order *o)
{
    o->application_id = cc_pg_get_i64(r, 0, 0);
    o->account_id = cc_pg_get_i64(r, 0, 1);
    cc_pg_get_text(r, 0, 2, o->order_url, sizeof o->order_url);
    cc_pg_get_text(r, 0, 3, o->status, sizeof o->status);
    cc_pg_get_text(r, 0, 4, o->finalize_url, sizeof o->finalize_url);
    cc_pg_get_text(r, 0, 5, o->certificate_url, sizeof o->certificate_url);
    o->key_enc = cc_pg_get_blob_dup(r, 0, 6, &o->key_len);
    o->next_at = cc_pg_get_i64(r, 0, 7);
    o->errors = cc_pg_get_i64(r, 0, 8);
    cc_pg_get_text(r, 0, 9, o->last_error, sizeof o->last_error);
    o->updated_at = cc_pg_get_i64(r, 0, 10);
    o->certificate_id = cc_pg_get_i64(r, 0, 11);
    o->renew_at = cc_pg_get_i64(r, 0, 12);
    o->renew_failures = cc_pg_get_i64(r, 0, 13);
    o->renewal_of = cc_pg_get_i64(r, 0, 14);
}

static enum cc_err read_acme_order_get(void *impl, int64_t application_id,
                                       struct cc_acme_order *o, struct cc_error *err)
{
    memset(o, 0, sizeof *o);
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, application_id);
    PGresult *r = cc_pg_exec(c, sql_order_get, &p, "reading an ACME order", err);
    enum cc_err rc = r ? CC_OK : err->code;
    if (r && PQntuples(r) > 0)
        read_order(r, o);
    else if (r)
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "no ACME order for this application");
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err tx_acme_order_put(void *tx, const struct cc_acme_order *o,
                                     struct cc_error *err)
{
    struct pgc *c = tx;
    char last_error[sizeof o->last_error];
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, o->application_id);
    cc_pg_i64(&p, o->account_id);
    cc_pg_text(&p, o->order_url);
    cc_pg_text(&p, o->status);
    cc_pg_text(&p, o->finalize_url);
    cc_pg_text(&p, o->certificate_url);
    if (o->key_enc)
        cc_pg_blob(&p, o->key_enc, o->key_len);
    else
        cc_pg_null(&p);
    cc_pg_i64(&p, o->next_at);
    cc_pg_i64(&p, o->errors);
    cc_pg_text(&p, utf8_text(o->last_error, last_error, sizeof last_error));
    cc_pg_i64(&p, o->updated_at);
    cc_pg_opt_i64(&p, o->certificate_id);
    cc_pg_i64(&p, o->renew_at);
    cc_pg_i64(&p, o->renew_failures);
    cc_pg_opt_i64(&p, o->renewal_of);
    return cc_pg_do(c, sql_order_put, &p, "saving an ACME order", err);
}

static enum cc_err read_acme_challenges(void *impl, int64_t application_id,
                                        struct cc_acme_challenge **out, size_t *n,
                                        struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, application_id);
    PGresult *r = cc_pg_exec(c, sql_challenges, &p, "reading ACME challenges", err);
    cc_pg_release(c);
    if (!r)
        return err->code;
    size_t k = (size_t)PQntuples(r);
    struct cc_acme_challenge *v = k ? cc_calloc(k, sizeof *v) : NULL;
    for (size_t i = 0; i < k; i++) {
        struct cc_acme_challenge *ch = &v[i];
        int row = (int)i;
        cc_pg_get_text(r, row, 0, ch->authz_url, sizeof ch->authz_url);
        cc_pg_get_text(r, row, 1, ch->identifier, sizeof ch->identifier);
        cc_pg_get_text(r, row, 2, ch->type, sizeof ch->type);
        cc_pg_get_text(r, row, 3, ch->url, sizeof ch->url);
        cc_pg_get_text(r, row, 4, ch->token, sizeof ch->token);
        cc_pg_get_text(r, row, 5, ch->key_authorization, sizeof ch->key_authorization);
        cc_pg_get_text(r, row, 6, ch->status, sizeof ch->status);
        ch->published_at = cc_pg_get_i64(r, row, 7);
        cc_pg_get_text(r, row, 8, ch->dns_record_id, sizeof ch->dns_record_id);
    }
    PQclear(r);
    *out = v;
    *n = k;
    return CC_OK;
}

static enum cc_err tx_acme_challenge_put(void *tx, int64_t application_id,
                                         const struct cc_acme_challenge *ch,
                                         struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, application_id);
    cc_pg_text(&p, ch->authz_url);
    cc_pg_text(&p, ch->identifier);
    cc_pg_text(&p, ch->type);
    cc_pg_text(&p, ch->url);
    cc_pg_text(&p, ch->token);
    cc_pg_text(&p, ch->key_authorization);
    cc_pg_text(&p, ch->status);
    cc_pg_i64(&p, ch->published_at);
    cc_pg_text(&p, ch->dns_record_id);
    return cc_pg_do(c, sql_challenge_put, &p, "saving an ACME challenge", err);
}

static enum cc_err read_acme_token(void *impl, const char *token, char *key_authorization,
                                   size_t sz, struct cc_error *err)
{
    key_authorization[0] = '\0';
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, token);
    PGresult *r = cc_pg_exec(c, sql_token, &p, "reading an ACME challenge", err);
    enum cc_err rc = r ? CC_OK : err->code;
    if (r && PQntuples(r) > 0)
        cc_pg_get_text(r, 0, 0, key_authorization, sz);
    else if (r)
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "no such challenge");
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

/* The (application, account) rows of r, at most max, into a new *out. */
static void due_rows(const PGresult *r, size_t max, struct cc_acme_due **out, size_t *n)
{
    struct cc_acme_due *v = cc_calloc(max ? max : 1, sizeof *v);
    size_t k = 0, rows = (size_t)PQntuples(r);
    for (; k < max && k < rows; k++) {
        v[k].application_id = cc_pg_get_i64(r, (int)k, 0);
        v[k].account_id = cc_pg_get_i64(r, (int)k, 1);
    }
    *out = v;
    *n = k;
}

static enum cc_err read_acme_due(void *impl, const char *products_json, int64_t now, size_t max,
                                 struct cc_acme_due **out, size_t *n, struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, products_json);
    cc_pg_i64(&p, now);
    cc_pg_i64(&p, (int64_t)max);
    PGresult *r = cc_pg_exec(c, sql_due, &p, "reading the due ACME orders", err);
    cc_pg_release(c);
    if (!r)
        return err->code;
    due_rows(r, max, out, n);
    PQclear(r);
    return CC_OK;
}

static enum cc_err read_acme_renewals_due(void *impl, int64_t now, size_t max,
                                          struct cc_acme_due **out, size_t *n,
                                          struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, now);
    cc_pg_i64(&p, (int64_t)max);
    PGresult *r = cc_pg_exec(c, sql_renewals_due, &p, "reading the due ACME renewals", err);
    cc_pg_release(c);
    if (!r)
        return err->code;
    due_rows(r, max, out, n);
    PQclear(r);
    return CC_OK;
}

static enum cc_err read_acme_in_flight(void *impl, int64_t *n, struct cc_error *err)
{
    *n = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc =
        cc_pg_one_i64(c, sql_in_flight, NULL, n, "counting the ACME orders in flight", err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_acme_order_of_cert(void *impl, int64_t account_id, int64_t cert_id,
                                           struct cc_acme_order *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, cert_id);
    int64_t app = 0;
    enum cc_err rc = cc_pg_one_i64(c, sql_order_of_cert, &p, &app, "reading an ACME order", err);
    cc_pg_release(c);
    if (rc == CC_ERR_NOT_FOUND)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "not issued through ACME");
    if (rc)
        return rc;
    return read_acme_order_get(impl, app, out, err);
}

const struct cc_store_acme_ops cc_pg_acme_ops = {CC_STORE_ACME_OPS(CC_STORE_OP_INIT)};
