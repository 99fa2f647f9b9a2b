/*
 * pg_certificates.c — the PostgreSQL side of certificates (tables
 * certificates, certificate_domains, certificate_subscribers; migration
 * 0012): save one with its names and subscribers, find one by fingerprint,
 * read, list with filters, change, delete, and find those a new certificate
 * renews. Statement for statement the same as sqlite_certificates.c. Tx
 * operations run on the write's connection (pg.c); reads on a connection
 * of the pool (or the calling thread's transaction).
 */
#include <string.h>

#include <jansson.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_insert[] =
    "INSERT INTO certificates(account_id, name, common_name, domains, issuer, serial, key_type, "
    "key_bits, fingerprint, product, not_before, not_after, chain_len, pem, private_key_enc, "
    "state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
    "$13, $14, $15, 'active', $16, $16) RETURNING id";
/* SQLite's json_each: json_array_elements_text; INSERT OR IGNORE: ON
 * CONFLICT DO NOTHING, and the NOT NULL of a JSON null skipped as OR IGNORE
 * skips it. */
static const char sql_insert_domains[] =
    "INSERT INTO certificate_domains(certificate_id, account_id, domain) "
    "SELECT $1::bigint, $2::bigint, value FROM json_array_elements_text($3::json) "
    "WHERE value IS NOT NULL ON CONFLICT DO NOTHING";
static const char sql_find_fp[] =
    "SELECT id FROM certificates WHERE account_id = $1 AND fingerprint = $2";
static const char sql_get[] =
    "SELECT " CC_CERT_COLS ", c.pem" CC_CERT_FROM "WHERE c.account_id = $1 AND c.id = $2";
static const char sql_key_get[] =
    "SELECT private_key_enc FROM certificates WHERE account_id = $1 AND id = $2 "
    "AND private_key_enc IS NOT NULL";
static const char sql_subscribers[] =
    "SELECT contact_id FROM certificate_subscribers WHERE certificate_id = $1 "
    "ORDER BY contact_id LIMIT $2";
static const char sql_update[] =
    "UPDATE certificates SET name = $3, state = $4, revoked_at = $5, superseded_by = $6, "
    "updated_at = $7 WHERE account_id = $1 AND id = $2";
static const char sql_subs_clear[] = "DELETE FROM certificate_subscribers WHERE certificate_id = $1";
static const char sql_subs_add[] =
    "INSERT INTO certificate_subscribers(certificate_id, contact_id) VALUES ($1, $2) "
    "ON CONFLICT DO NOTHING";
static const char sql_subs_copy[] =
    "INSERT INTO certificate_subscribers(certificate_id, contact_id) "
    "SELECT $2::bigint, contact_id FROM certificate_subscribers WHERE certificate_id = $1 "
    "ON CONFLICT DO NOTHING";
static const char sql_delete[] = "DELETE FROM certificates WHERE account_id = $1 AND id = $2";
/* Active, other than $2, expiring before $3, sharing a name with $4, and with
 * no name outside $4. */
static const char sql_renewed_by[] =
    "SELECT c.id FROM certificates c WHERE c.account_id = $1 AND c.state = 'active' "
    "AND c.id <> $2 AND c.not_after < $3 AND c.id IN (SELECT d.certificate_id FROM "
    "certificate_domains d WHERE d.account_id = $1 AND d.domain IN (SELECT value FROM "
    "json_array_elements_text($4::json))) AND NOT EXISTS (SELECT 1 FROM certificate_domains o "
    "WHERE o.certificate_id = c.id AND o.domain NOT IN (SELECT value FROM "
    "json_array_elements_text($4::json))) ORDER BY c.id LIMIT $5";

/* SQLite's lower() folds ASCII letters only (the keyword is folded with
 * cc_ascii_lower); PostgreSQL's lower() folds by the locale, so translate(). */
#define ASCII_LOWER(x)                                                                     \
    "translate(" x ", 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
/* The filter of a list: $1 account, $2 contact (0 any), $3 domain (NULL any),
 * $4 state (-1 any; 0 active, 1 expired, 2 revoked, 3 superseded), $5
 * still valid and not_after before this (0 any), $6 keyword (lower-case;
 * NULL any), $7 now. instr() is strpos(). */
#define LIST_WHERE                                                                         \
    CC_CERT_FROM "WHERE c.account_id = $1 "                                                   \
    "AND ($2::bigint = 0 OR c.id IN (SELECT s.certificate_id FROM certificate_subscribers s " \
    "WHERE s.contact_id = $2)) "                                                           \
    "AND ($3::text IS NULL OR c.id IN (SELECT d.certificate_id FROM certificate_domains d " \
    "WHERE d.account_id = $1 AND d.domain = $3)) "                                         \
    "AND ($4::bigint < 0 OR ($4 = 0 AND c.state = 'active' AND c.not_after > $7::bigint) " \
    "OR ($4 = 1 AND c.state = 'active' AND c.not_after <= $7) "                            \
    "OR ($4 = 2 AND c.state = 'revoked') OR ($4 = 3 AND c.state = 'superseded')) "         \
    "AND ($5::bigint = 0 OR (c.not_after < $5 AND c.not_after > $7)) "                     \
    "AND ($6::text IS NULL OR strpos(" ASCII_LOWER("c.name || ' ' || c.common_name || ' ' " \
    "|| c.domains || ' ' || c.issuer || ' ' || c.product") ", $6) > 0)"
static const char sql_list_count[] = "SELECT count(*)" LIST_WHERE;
static const char sql_list_page[] =
    "SELECT " CC_CERT_COLS LIST_WHERE " ORDER BY c.not_after, c.id LIMIT $8 OFFSET $9";

/* The code of a failed statement's error (cc_pg_exec set it). */
static enum cc_err code_of(const struct cc_error *err)
{
    return err ? err->code : CC_ERR_STORE;
}

/* A column's text as a new string (owned: cc_free); "" for NULL. */
static char *col_dup(const PGresult *r, int row, int i)
{
    return cc_strdup(cc_pg_get_str(r, row, i));
}

/* Fills every member of *c from the row: a caller's struct may come in
 * uninitialised, and its owned members are all set here. */
static void read_row(const PGresult *r, int row, struct cc_certificate *c)
{
    memset(c, 0, sizeof *c);
    c->id = cc_pg_get_i64(r, row, 0);
    c->account_id = cc_pg_get_i64(r, row, 1);
    cc_pg_get_text(r, row, 2, c->name, sizeof c->name);
    cc_pg_get_text(r, row, 3, c->common_name, sizeof c->common_name);
    c->domains = col_dup(r, row, 4);
    cc_pg_get_text(r, row, 5, c->issuer, sizeof c->issuer);
    cc_pg_get_text(r, row, 6, c->serial, sizeof c->serial);
    cc_pg_get_text(r, row, 7, c->key_type, sizeof c->key_type);
    c->key_bits = (int)cc_pg_get_i64(r, row, 8);
    cc_pg_get_text(r, row, 9, c->fingerprint, sizeof c->fingerprint);
    cc_pg_get_text(r, row, 10, c->product, sizeof c->product);
    c->not_before = cc_pg_get_i64(r, row, 11);
    c->not_after = cc_pg_get_i64(r, row, 12);
    c->chain_len = (int)cc_pg_get_i64(r, row, 13);
    c->state = cc_store_cert_state_parse(cc_pg_isnull(r, row, 14) ? NULL : cc_pg_get_str(r, row, 14));
    c->revoked_at = cc_pg_get_i64(r, row, 15);
    c->superseded_by = cc_pg_get_i64(r, row, 16);
    c->created_at = cc_pg_get_i64(r, row, 17);
    c->updated_at = cc_pg_get_i64(r, row, 18);
    c->has_private_key = (int)cc_pg_get_i64(r, row, 19);
    c->has_reminder_days = !cc_pg_isnull(r, row, 20);
    c->n_reminder_days = 0;
    json_t *days = c->has_reminder_days ? json_loads(cc_pg_get_str(r, row, 20), 0, NULL) : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(days, i, v) if (json_is_integer(v) && c->n_reminder_days < CC_REMINDER_DAYS_MAX)
        c->reminder_days[c->n_reminder_days++] = (int)json_integer_value(v);
    json_decref(days);
    c->next_reminder_at = cc_pg_get_i64(r, row, 21);   /* NULL: 0 */
    c->reminder_raised = cc_pg_get_i64(r, row, 22);
}

static enum cc_err load_subscribers(struct pgc *c, struct cc_certificate *cert,
                                    struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, cert->id);
    cc_pg_i64(&p, CC_CERT_SUBSCRIBERS_MAX);
    PGresult *r = cc_pg_exec(c, sql_subscribers, &p, "reading a certificate's subscribers", err);
    if (!r)
        return code_of(err);
    int rows = PQntuples(r);
    cert->n_subscribers = 0;
    for (int i = 0; i < rows && cert->n_subscribers < CC_CERT_SUBSCRIBERS_MAX; i++)
        cert->subscribers[cert->n_subscribers++] = cc_pg_get_i64(r, i, 0);
    PQclear(r);
    return CC_OK;
}

/* Parameters $1 the account and $2 the certificate (the SQLite file's
 * statements bound by_id()). */
static void by_id(struct pgp *p, int64_t account_id, int64_t id)
{
    cc_pg_params(p);
    cc_pg_i64(p, account_id);
    cc_pg_i64(p, id);
}

static enum cc_err cert_get(struct pgc *c, int64_t account_id, int64_t id,
                            struct cc_certificate *out, struct cc_error *err)
{
    struct pgp p;
    by_id(&p, account_id, id);
    PGresult *r = cc_pg_exec(c, sql_get, &p, "reading a certificate", err);
    if (!r)
        return code_of(err);
    int found = PQntuples(r) > 0;
    if (found) {
        read_row(r, 0, out);
        out->pem = cc_pg_isnull(r, 0, 23) ? NULL : col_dup(r, 0, 23);
    }
    PQclear(r);
    if (!found)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Certificate %lld does not exist.",
                            (long long)id);
    enum cc_err e = load_subscribers(c, out, err);
    if (e)
        cc_certificate_clear(out);
    return e;
}

static enum cc_err read_cert_get(void *impl, int64_t account_id, int64_t id,
                                 struct cc_certificate *out, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = cert_get(c, account_id, id, out, err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err tx_cert_get(void *tx, int64_t account_id, int64_t id,
                               struct cc_certificate *out, struct cc_error *err)
{
    return cert_get(tx, account_id, id, out, err);
}

static enum cc_err read_cert_key_get(void *impl, int64_t account_id, int64_t id, uint8_t **enc,
                                     size_t *len, struct cc_error *err)
{
    *enc = NULL;
    *len = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    by_id(&p, account_id, id);
    PGresult *r = cc_pg_exec(c, sql_key_get, &p, "reading a private key", err);
    enum cc_err rc = r ? CC_OK : code_of(err);
    if (r && PQntuples(r) > 0)
        *enc = cc_pg_get_blob_dup(r, 0, 0, len);
    else if (r)
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, NULL,
                          "Certificate %lld does not exist or has no private key.",
                          (long long)id);
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err tx_cert_insert(void *tx, const struct cc_certificate *cert, int64_t *id,
                                  struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, cert->account_id);
    cc_pg_text(&p, cert->name);
    cc_pg_text(&p, cert->common_name);
    cc_pg_text(&p, cert->domains ? cert->domains : "[]");
    cc_pg_text(&p, cert->issuer);
    cc_pg_text(&p, cert->serial);
    cc_pg_text(&p, cert->key_type);
    cc_pg_i64(&p, cert->key_bits);
    cc_pg_text(&p, cert->fingerprint[0] ? cert->fingerprint : NULL);
    cc_pg_text(&p, cert->product);
    cc_pg_i64(&p, cert->not_before);
    cc_pg_i64(&p, cert->not_after);
    cc_pg_i64(&p, cert->chain_len);
    cc_pg_text(&p, cert->pem);
    if (cert->key_enc)
        cc_pg_blob(&p, cert->key_enc, cert->key_enc_len);
    else
        cc_pg_null(&p);
    cc_pg_i64(&p, cert->created_at);
    /* RETURNING id: SQLite's last_insert_rowid() */
    enum cc_err e = cc_pg_one_i64(c, sql_insert, &p, id, "saving a certificate", err);
    if (e) {
        const char *constraint;
        if (cc_pg_unique_violation(c, &constraint) &&
            !strcmp(constraint, "certificates_fingerprint"))
            return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Certificate",
                                "The account has this certificate already.");
        return e;
    }
    cc_pg_params(&p);
    cc_pg_i64(&p, *id);
    cc_pg_i64(&p, cert->account_id);
    cc_pg_text(&p, cert->domains ? cert->domains : "[]");
    if ((e = cc_pg_do(c, sql_insert_domains, &p, "saving a certificate's names", err)))
        return e;
    for (size_t i = 0; i < cert->n_subscribers; i++) {
        by_id(&p, *id, cert->subscribers[i]);
        if ((e = cc_pg_do(c, sql_subs_add, &p, "subscribing a contact", err)))
            return e;
    }
    return CC_OK;
}

static enum cc_err tx_cert_find_fingerprint(void *tx, int64_t account_id, const char *fingerprint,
                                            int64_t *id, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, fingerprint);
    int64_t found = 0;
    enum cc_err rc = cc_pg_one_i64(c, sql_find_fp, &p, &found, "finding a certificate", err);
    if (rc == CC_ERR_NOT_FOUND)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "No certificate has this fingerprint.");
    if (!rc)
        *id = found;
    return rc;
}

static enum cc_err tx_cert_update(void *tx, const struct cc_certificate *cert,
                                  struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    by_id(&p, cert->account_id, cert->id);
    cc_pg_text(&p, cert->name);
    cc_pg_text(&p, cc_store_cert_state_stored(cert->state));
    cc_pg_i64(&p, cert->revoked_at);
    cc_pg_opt_i64(&p, cert->superseded_by);
    cc_pg_i64(&p, cert->updated_at);
    int64_t changed = 0;
    enum cc_err rc = cc_pg_do_n(c, sql_update, &p, &changed, "changing a certificate", err);
    if (!rc && changed == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Certificate %lld does not exist.",
                            (long long)cert->id);
    return rc;
}

static enum cc_err tx_cert_subscribers_set(void *tx, int64_t id, const int64_t *ids, size_t n,
                                           struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, id);
    enum cc_err rc = cc_pg_do(c, sql_subs_clear, &p, "changing a certificate's subscribers", err);
    for (size_t i = 0; !rc && i < n; i++) {
        by_id(&p, id, ids[i]);
        rc = cc_pg_do(c, sql_subs_add, &p, "subscribing a contact", err);
    }
    return rc;
}

static enum cc_err tx_cert_subscribers_copy(void *tx, int64_t from, int64_t to,
                                            struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    by_id(&p, from, to);
    return cc_pg_do(c, sql_subs_copy, &p, "carrying subscribers over", err);
}

static enum cc_err tx_cert_delete(void *tx, int64_t account_id, int64_t id, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    by_id(&p, account_id, id);
    int64_t changed = 0;
    enum cc_err rc = cc_pg_do_n(c, sql_delete, &p, &changed, "deleting a certificate", err);
    if (!rc && changed == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Certificate %lld does not exist.",
                            (long long)id);
    return rc;
}

static enum cc_err tx_cert_renewed_by(void *tx, int64_t account_id, int64_t id, int64_t not_after,
                                      const char *domains, int64_t *ids, size_t max, size_t *n,
                                      struct cc_error *err)
{
    struct pgc *c = tx;
    *n = 0;
    struct pgp p;
    by_id(&p, account_id, id);
    cc_pg_i64(&p, not_after);
    cc_pg_text(&p, domains);
    cc_pg_i64(&p, (int64_t)max);
    PGresult *r = cc_pg_exec(c, sql_renewed_by, &p, "finding renewed certificates", err);
    if (!r)
        return code_of(err);
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < max; i++)
        ids[(*n)++] = cc_pg_get_i64(r, i, 0);
    PQclear(r);
    return CC_OK;
}

static void bind_filter(struct pgp *p, const struct cc_cert_filter *f, const char *kw)
{
    cc_pg_params(p);
    cc_pg_i64(p, f->account_id);
    cc_pg_i64(p, f->contact_id);
    cc_pg_text(p, f->domain);
    cc_pg_i64(p, f->state);
    cc_pg_i64(p, f->not_after_before);
    cc_pg_text(p, kw);
    cc_pg_i64(p, f->now);
}

/* Counts, then allocates *items for the rows the page can hold and reads them. */
static enum cc_err list_locked(struct pgc *c, const struct cc_cert_filter *f,
                               struct cc_certificate **itemsp, size_t *n, int64_t *total,
                               struct cc_error *err)
{
    char kw[4 * CC_KEYWORD_MAX_CHARS + 1];
    const char *kwp = cc_store_keyword(f->keyword, kw, sizeof kw);
    struct pgp p;
    bind_filter(&p, f, kwp);
    enum cc_err counted = cc_pg_one_i64(c, sql_list_count, &p, total, "counting certificates",
                                        err);
    if (counted)
        return counted;
    size_t cap = cc_store_page_rows(*total, f->page, f->page_size);
    if (!cap)
        return CC_OK;
    struct cc_certificate *items = *itemsp = cc_calloc(cap, sizeof *items);
    bind_filter(&p, f, kwp);
    cc_pg_i64(&p, f->page_size);
    cc_pg_i64(&p, (f->page - 1) * f->page_size);
    PGresult *r = cc_pg_exec(c, sql_list_page, &p, "listing certificates", err);
    if (!r)
        return code_of(err);
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < cap; i++)
        read_row(r, i, &items[(*n)++]);
    PQclear(r);
    for (size_t i = 0; i < *n; i++) {
        enum cc_err e = load_subscribers(c, &items[i], err);
        if (e)
            return e;
    }
    return CC_OK;
}

/* For /metrics, across accounts: a count per state and the nearest expiry. */
static enum cc_err read_cert_gauges(void *impl, int64_t now, int64_t *by_state, int64_t *nearest,
                                    struct cc_error *err)
{
    static const char *const sql[] = {
        "SELECT count(*) FROM certificates WHERE state = 'active' AND not_after > $1",
        "SELECT count(*) FROM certificates WHERE state = 'active' AND not_after <= $1",
        "SELECT count(*) FROM certificates WHERE state = 'revoked' AND $1::bigint = $1",
        "SELECT count(*) FROM certificates WHERE state = 'superseded' AND $1::bigint = $1",
        "SELECT coalesce(min(not_after), 0) FROM certificates WHERE state = 'active' "
        "AND not_after > $1"};
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, now);
    enum cc_err rc = CC_OK;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0] && rc == CC_OK; i++)
        rc = cc_pg_one_i64(c, sql[i], &p, i < 4 ? &by_state[i] : nearest,
                           "counting certificates", err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_cert_list(void *impl, const struct cc_cert_filter *f,
                                  struct cc_certificate **out, size_t *n, int64_t *total,
                                  struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct cc_certificate *items = NULL;
    /* the count and the page see one snapshot (inside a transaction, its own) */
    int own;
    enum cc_err rc = cc_pg_snapshot_begin(c, &own, err);
    if (!rc) {
        rc = list_locked(c, f, &items, n, total, err);
        cc_pg_snapshot_end(c, own);
    }
    cc_pg_release(c);
    if (rc) {
        for (size_t i = 0; i < *n; i++)
            cc_certificate_clear(&items[i]);
        cc_free(items);
        *n = 0;
        *total = 0;
        return rc;
    }
    *out = items;
    return CC_OK;
}

const struct cc_store_certificate_ops cc_pg_certificate_ops = {
    CC_STORE_CERTIFICATE_OPS(CC_STORE_OP_INIT)};
