/*
 * sqlite_certificates.c — the SQLite side of certificates (tables
 * certificates, certificate_domains, certificate_subscribers; migration
 * 0012): save one with its names and subscribers, find one by fingerprint,
 * read, list with filters, change, delete, and find those a new certificate
 * renews. Writes run inside the writer's transactions (sqlite_writer.c);
 * reads on the calling thread's read connection.
 */
#include <string.h>

#include <jansson.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_insert[] =
    "INSERT INTO certificates(account_id, name, common_name, domains, issuer, serial, key_type, "
    "key_bits, fingerprint, product, not_before, not_after, chain_len, pem, private_key_enc, "
    "state, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
    "?13, ?14, ?15, 'active', ?16, ?16)";
static const char sql_insert_domains[] =
    "INSERT OR IGNORE INTO certificate_domains(certificate_id, account_id, domain) "
    "SELECT ?1, ?2, value FROM json_each(?3)";
static const char sql_find_fp[] =
    "SELECT id FROM certificates WHERE account_id = ?1 AND fingerprint = ?2";
static const char sql_get[] =
    "SELECT " CC_CERT_COLS ", c.pem" CC_CERT_FROM "WHERE c.account_id = ?1 AND c.id = ?2";
static const char sql_key_get[] =
    "SELECT private_key_enc FROM certificates WHERE account_id = ?1 AND id = ?2 "
    "AND private_key_enc IS NOT NULL";
static const char sql_subscribers[] =
    "SELECT contact_id FROM certificate_subscribers WHERE certificate_id = ?1 "
    "ORDER BY contact_id LIMIT ?2";
static const char sql_update[] =
    "UPDATE certificates SET name = ?3, state = ?4, revoked_at = ?5, superseded_by = ?6, "
    "updated_at = ?7 WHERE account_id = ?1 AND id = ?2";
static const char sql_subs_clear[] = "DELETE FROM certificate_subscribers WHERE certificate_id = ?1";
static const char sql_subs_add[] =
    "INSERT OR IGNORE INTO certificate_subscribers(certificate_id, contact_id) VALUES (?1, ?2)";
static const char sql_subs_copy[] =
    "INSERT OR IGNORE INTO certificate_subscribers(certificate_id, contact_id) "
    "SELECT ?2, contact_id FROM certificate_subscribers WHERE certificate_id = ?1";
static const char sql_delete[] = "DELETE FROM certificates WHERE account_id = ?1 AND id = ?2";
/* Active, other than ?2, expiring before ?3, sharing a name with ?4, and with
 * no name outside ?4. */
static const char sql_renewed_by[] =
    "SELECT c.id FROM certificates c WHERE c.account_id = ?1 AND c.state = 'active' "
    "AND c.id <> ?2 AND c.not_after < ?3 AND c.id IN (SELECT d.certificate_id FROM "
    "certificate_domains d WHERE d.account_id = ?1 AND d.domain IN (SELECT value FROM "
    "json_each(?4))) AND NOT EXISTS (SELECT 1 FROM certificate_domains o WHERE "
    "o.certificate_id = c.id AND o.domain NOT IN (SELECT value FROM json_each(?4))) "
    "ORDER BY c.id LIMIT ?5";

/* The filter of a list: ?1 account, ?2 contact (0 any), ?3 domain (NULL any),
 * ?4 state (-1 any; 0 active, 1 expired, 2 revoked, 3 superseded), ?5
 * still valid and not_after before this (0 any), ?6 keyword (lower-case;
 * NULL any), ?7 now. */
#define LIST_WHERE                                                                         \
    CC_CERT_FROM "WHERE c.account_id = ?1 "                                        \
    "AND (?2 = 0 OR c.id IN (SELECT s.certificate_id FROM certificate_subscribers s "      \
    "WHERE s.contact_id = ?2)) "                                                           \
    "AND (?3 IS NULL OR c.id IN (SELECT d.certificate_id FROM certificate_domains d "      \
    "WHERE d.account_id = ?1 AND d.domain = ?3)) "                                         \
    "AND (?4 < 0 OR (?4 = 0 AND c.state = 'active' AND c.not_after > ?7) "                 \
    "OR (?4 = 1 AND c.state = 'active' AND c.not_after <= ?7) "                            \
    "OR (?4 = 2 AND c.state = 'revoked') OR (?4 = 3 AND c.state = 'superseded')) "         \
    "AND (?5 = 0 OR (c.not_after < ?5 AND c.not_after > ?7)) "                                                    \
    "AND (?6 IS NULL OR instr(lower(c.name || ' ' || c.common_name || ' ' || c.domains || " \
    "' ' || c.issuer || ' ' || c.product), ?6) > 0)"
static const char sql_list_count[] = "SELECT count(*)" LIST_WHERE;
static const char sql_list_page[] =
    "SELECT " CC_CERT_COLS LIST_WHERE " ORDER BY c.not_after, c.id LIMIT ?8 OFFSET ?9";

/* A column's text as a new string (owned: cc_free); "" for NULL. */
static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return cc_strdup(t ? (const char *)t : "");
}

/* Fills every member of *c from the row: a caller's struct may come in
 * uninitialised, and its owned members are all set here. */
static void read_row(sqlite3_stmt *s, struct cc_certificate *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(s, 0);
    c->account_id = sqlite3_column_int64(s, 1);
    cc_sq_col_text(s, 2, c->name, sizeof c->name);
    cc_sq_col_text(s, 3, c->common_name, sizeof c->common_name);
    c->domains = col_dup(s, 4);
    cc_sq_col_text(s, 5, c->issuer, sizeof c->issuer);
    cc_sq_col_text(s, 6, c->serial, sizeof c->serial);
    cc_sq_col_text(s, 7, c->key_type, sizeof c->key_type);
    c->key_bits = sqlite3_column_int(s, 8);
    cc_sq_col_text(s, 9, c->fingerprint, sizeof c->fingerprint);
    cc_sq_col_text(s, 10, c->product, sizeof c->product);
    c->not_before = sqlite3_column_int64(s, 11);
    c->not_after = sqlite3_column_int64(s, 12);
    c->chain_len = sqlite3_column_int(s, 13);
    c->state = cc_store_cert_state_parse((const char *)sqlite3_column_text(s, 14));
    c->revoked_at = sqlite3_column_int64(s, 15);
    c->superseded_by = sqlite3_column_int64(s, 16);
    c->created_at = sqlite3_column_int64(s, 17);
    c->updated_at = sqlite3_column_int64(s, 18);
    c->has_private_key = sqlite3_column_int(s, 19);
    c->has_reminder_days = sqlite3_column_type(s, 20) != SQLITE_NULL;
    c->n_reminder_days = 0;
    json_t *days = c->has_reminder_days ? json_loads((const char *)sqlite3_column_text(s, 20), 0, NULL)
                                        : NULL;
    size_t i;
    json_t *v;
    json_array_foreach(days, i, v) if (json_is_integer(v) && c->n_reminder_days < CC_REMINDER_DAYS_MAX)
        c->reminder_days[c->n_reminder_days++] = (int)json_integer_value(v);
    json_decref(days);
    c->next_reminder_at = sqlite3_column_type(s, 21) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 21);
    c->reminder_raised = sqlite3_column_int64(s, 22);
}

static enum cc_err load_subscribers(struct conn *c, struct cc_certificate *cert,
                                    struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_subscribers, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, cert->id);
    sqlite3_bind_int(s, 2, CC_CERT_SUBSCRIBERS_MAX);
    int rc = SQLITE_DONE;
    cert->n_subscribers = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && cert->n_subscribers < CC_CERT_SUBSCRIBERS_MAX)
        cert->subscribers[cert->n_subscribers++] = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading a certificate's subscribers");
    return CC_OK;
}

/* c's statement for sql, whose ?1 is the account and ?2 the certificate,
 * with both bound; NULL (with *err set) when it does not prepare. */
static sqlite3_stmt *by_id(struct conn *c, const char *sql, int64_t account_id, int64_t id,
                           struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (s) {
        sqlite3_bind_int64(s, 1, account_id);
        sqlite3_bind_int64(s, 2, id);
    }
    return s;
}

static enum cc_err cert_get(struct conn *c, int64_t account_id, int64_t id,
                            struct cc_certificate *out, struct cc_error *err)
{
    sqlite3_stmt *s = by_id(c, sql_get, account_id, id, err);
    if (!s)
        return CC_ERR_STORE;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        read_row(s, out);
        out->pem = sqlite3_column_type(s, 23) == SQLITE_NULL ? NULL : col_dup(s, 23);
    }
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Certificate %lld does not exist.",
                            (long long)id);
    if (rc != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "reading a certificate");
    enum cc_err e = load_subscribers(c, out, err);
    if (e)
        cc_certificate_clear(out);
    return e;
}

static enum cc_err read_cert_get(void *impl, int64_t account_id, int64_t id,
                                 struct cc_certificate *out, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    return cert_get(c, account_id, id, out, err);
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
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = by_id(c, sql_key_get, account_id, id, err);
    if (!s)
        return CC_ERR_STORE;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *len = (size_t)sqlite3_column_bytes(s, 0);
        *enc = cc_malloc(*len ? *len : 1);
        if (*len)
            memcpy(*enc, sqlite3_column_blob(s, 0), *len);
    }
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL,
                            "Certificate %lld does not exist or has no private key.",
                            (long long)id);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading a private key");
}

static enum cc_err tx_cert_insert(void *tx, const struct cc_certificate *cert, int64_t *id,
                                  struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, cert->account_id);
    sqlite3_bind_text(s, 2, cert->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, cert->common_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, cert->domains ? cert->domains : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, cert->issuer, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, cert->serial, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, cert->key_type, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 8, cert->key_bits);
    if (cert->fingerprint[0])
        sqlite3_bind_text(s, 9, cert->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, cert->product, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, cert->not_before);
    sqlite3_bind_int64(s, 12, cert->not_after);
    sqlite3_bind_int(s, 13, cert->chain_len);
    if (cert->pem)
        sqlite3_bind_text(s, 14, cert->pem, -1, SQLITE_STATIC);
    if (cert->key_enc)
        sqlite3_bind_blob(s, 15, cert->key_enc, (int)cert->key_enc_len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 16, cert->created_at);
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    if (rc != SQLITE_DONE) {
        if (sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_UNIQUE)
            return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Certificate",
                                "The account has this certificate already.");
        return cc_sq_db_error(err, c->db, "saving a certificate");
    }
    *id = sqlite3_last_insert_rowid(c->db);
    if (!(s = cc_sq_stmt(c, sql_insert_domains, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, *id);
    sqlite3_bind_int64(s, 2, cert->account_id);
    sqlite3_bind_text(s, 3, cert->domains ? cert->domains : "[]", -1, SQLITE_STATIC);
    enum cc_err e = cc_sq_step_done(c, s, "saving a certificate's names", err);
    if (e)
        return e;
    for (size_t i = 0; i < cert->n_subscribers; i++) {
        if (!(s = cc_sq_stmt(c, sql_subs_add, err)))
            return CC_ERR_STORE;
        sqlite3_bind_int64(s, 1, *id);
        sqlite3_bind_int64(s, 2, cert->subscribers[i]);
        if ((e = cc_sq_step_done(c, s, "subscribing a contact", err)))
            return e;
    }
    return CC_OK;
}

static enum cc_err tx_cert_find_fingerprint(void *tx, int64_t account_id, const char *fingerprint,
                                            int64_t *id, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_find_fp, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, fingerprint, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "No certificate has this fingerprint.");
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "finding a certificate");
}

static enum cc_err tx_cert_update(void *tx, const struct cc_certificate *cert,
                                  struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = by_id(c, sql_update, cert->account_id, cert->id, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 3, cert->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, cc_store_cert_state_stored(cert->state), -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, cert->revoked_at);
    if (cert->superseded_by)
        sqlite3_bind_int64(s, 6, cert->superseded_by);
    sqlite3_bind_int64(s, 7, cert->updated_at);
    enum cc_err rc = cc_sq_step_done(c, s, "changing a certificate", err);
    if (!rc && sqlite3_changes(c->db) == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Certificate %lld does not exist.",
                            (long long)cert->id);
    return rc;
}

static enum cc_err tx_cert_subscribers_set(void *tx, int64_t id, const int64_t *ids, size_t n,
                                           struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_subs_clear, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    enum cc_err rc = cc_sq_step_done(c, s, "changing a certificate's subscribers", err);
    for (size_t i = 0; !rc && i < n; i++) {
        if (!(s = cc_sq_stmt(c, sql_subs_add, err)))
            return CC_ERR_STORE;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, ids[i]);
        rc = cc_sq_step_done(c, s, "subscribing a contact", err);
    }
    return rc;
}

static enum cc_err tx_cert_subscribers_copy(void *tx, int64_t from, int64_t to,
                                            struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_subs_copy, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, from);
    sqlite3_bind_int64(s, 2, to);
    return cc_sq_step_done(c, s, "carrying subscribers over", err);
}

static enum cc_err tx_cert_delete(void *tx, int64_t account_id, int64_t id, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = by_id(c, sql_delete, account_id, id, err);
    if (!s)
        return CC_ERR_STORE;
    enum cc_err rc = cc_sq_step_done(c, s, "deleting a certificate", err);
    if (!rc && sqlite3_changes(c->db) == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Certificate %lld does not exist.",
                            (long long)id);
    return rc;
}

static enum cc_err tx_cert_renewed_by(void *tx, int64_t account_id, int64_t id, int64_t not_after,
                                      const char *domains, int64_t *ids, size_t max, size_t *n,
                                      struct cc_error *err)
{
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_renewed_by, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    sqlite3_bind_int64(s, 3, not_after);
    sqlite3_bind_text(s, 4, domains, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, (int64_t)max);
    return cc_sq_ids(c, s, ids, max, n, "finding renewed certificates", err);
}

static void bind_filter(sqlite3_stmt *s, const struct cc_cert_filter *f, const char *kw)
{
    sqlite3_bind_int64(s, 1, f->account_id);
    sqlite3_bind_int64(s, 2, f->contact_id);
    if (f->domain)
        sqlite3_bind_text(s, 3, f->domain, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 4, f->state);
    sqlite3_bind_int64(s, 5, f->not_after_before);
    if (kw)
        sqlite3_bind_text(s, 6, kw, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, f->now);
}

/* Counts, then allocates *items for the rows the page can hold and reads them. */
static enum cc_err list_locked(struct conn *c, const struct cc_cert_filter *f,
                               struct cc_certificate **itemsp, size_t *n, int64_t *total,
                               struct cc_error *err)
{
    char kw[4 * CC_KEYWORD_MAX_CHARS + 1];
    const char *kwp = cc_store_keyword(f->keyword, kw, sizeof kw);
    sqlite3_stmt *s = cc_sq_stmt(c, sql_list_count, err);
    if (!s)
        return CC_ERR_STORE;
    bind_filter(s, f, kwp);
    enum cc_err counted = cc_sq_count(c, s, total, "counting certificates", err);
    if (counted)
        return counted;
    size_t cap = cc_store_page_rows(*total, f->page, f->page_size);
    if (!cap)
        return CC_OK;
    struct cc_certificate *items = *itemsp = cc_calloc(cap, sizeof *items);
    if (!(s = cc_sq_stmt(c, sql_list_page, err)))
        return CC_ERR_STORE;
    bind_filter(s, f, kwp);
    sqlite3_bind_int64(s, 8, f->page_size);
    sqlite3_bind_int64(s, 9, (f->page - 1) * f->page_size);
    int rc = SQLITE_DONE;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < cap)
        read_row(s, &items[(*n)++]);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "listing certificates");
    for (size_t i = 0; i < *n; i++) {
        enum cc_err e = load_subscribers(c, &items[i], err);
        if (e)
            return e;
    }
    return CC_OK;
}

static const char sql_g_active[] =
    "SELECT count(*) FROM certificates WHERE state = 'active' AND not_after > ?1";
static const char sql_g_expired[] =
    "SELECT count(*) FROM certificates WHERE state = 'active' AND not_after <= ?1";
static const char sql_g_revoked[] =
    "SELECT count(*) FROM certificates WHERE state = 'revoked' AND ?1 = ?1";
static const char sql_g_superseded[] =
    "SELECT count(*) FROM certificates WHERE state = 'superseded' AND ?1 = ?1";
static const char sql_g_nearest[] =
    "SELECT coalesce(min(not_after), 0) FROM certificates WHERE state = 'active' "
    "AND not_after > ?1";

/* For /metrics, across accounts: a count per state and the nearest expiry. */
static enum cc_err read_cert_gauges(void *impl, int64_t now, int64_t *by_state, int64_t *nearest,
                                    struct cc_error *err)
{
    static const char *const sql[] = {sql_g_active, sql_g_expired, sql_g_revoked,
                                      sql_g_superseded, sql_g_nearest};
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
        sqlite3_stmt *s = cc_sq_stmt(c, sql[i], err);
        if (!s)
            return CC_ERR_STORE;
        sqlite3_bind_int64(s, 1, now);
        int rc = sqlite3_step(s);
        int64_t v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
        cc_sq_done(s);
        if (rc != SQLITE_ROW)
            return cc_sq_db_error(err, c->db, "counting certificates");
        if (i < 4)
            by_state[i] = v;
        else
            *nearest = v;
    }
    return CC_OK;
}

static enum cc_err read_cert_list(void *impl, const struct cc_cert_filter *f,
                                  struct cc_certificate **out, size_t *n, int64_t *total,
                                  struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct cc_certificate *items = NULL;
    /* the count and the page see one snapshot */
    enum cc_err rc = cc_sq_read_begin(c, err);
    if (rc)
        return rc;
    rc = list_locked(c, f, &items, n, total, err);
    cc_sq_read_end(c);
    if (rc) {
        for (size_t i = 0; i < *n; i++)
            cc_certificate_clear(&items[i]);
        cc_free(items);
        *n = 0;
        return rc;
    }
    *out = items;
    return CC_OK;
}

const struct cc_store_certificate_ops cc_sq_certificate_ops = {
    CC_STORE_CERTIFICATE_OPS(CC_STORE_OP_INIT)};
