/*
 * pg_endpoints.c — the PostgreSQL side of watched endpoints (tables
 * endpoints and endpoint_contacts), statement for statement as
 * sqlite_endpoints.c: save, read, page, count and delete them, set their
 * contacts, the due ones by the index on next_check_at, each check's result,
 * and the newest known certificate for the names an endpoint serves
 * (through certificate_domains). Tx operations run on the write's
 * connection; reads on a pooled one, in one snapshot where the SQLite side
 * takes one.
 */
#include <string.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

#define COLS                                                                               \
    "id, account_id, host, port, sni, created_at, updated_at, next_check_at, alerts, "    \
    "checked_at, handshake_ok, error, tls_version, fingerprint, names, issuer, not_after, " \
    "chain_verified, chain_complete, names_match, coalesce(certificate_id, 0), "           \
    "coalesce(newer_certificate_id, 0)"

/* RETURNING id: SQLite's last_insert_rowid(). */
static const char sql_insert[] =
    "INSERT INTO endpoints(account_id, host, port, sni, created_at, updated_at, next_check_at) "
    "VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id";
static const char sql_get[] = "SELECT " COLS " FROM endpoints WHERE account_id = $1 AND id = $2";
static const char sql_contacts[] =
    "SELECT contact_id FROM endpoint_contacts WHERE endpoint_id = $1 ORDER BY contact_id";
static const char sql_contacts_clear[] = "DELETE FROM endpoint_contacts WHERE endpoint_id = $1";
static const char sql_contacts_add[] =
    "INSERT INTO endpoint_contacts(endpoint_id, contact_id) VALUES ($1, $2) "
    "ON CONFLICT DO NOTHING";
static const char sql_touch[] = "UPDATE endpoints SET updated_at = $2 WHERE id = $1";
static const char sql_count[] = "SELECT count(*) FROM endpoints WHERE account_id = $1";
static const char sql_delete[] = "DELETE FROM endpoints WHERE account_id = $1 AND id = $2";
static const char sql_page[] = "SELECT " COLS " FROM endpoints WHERE account_id = $1 "
                               "ORDER BY id LIMIT $2 OFFSET $3";
static const char sql_due[] = "SELECT id, account_id FROM endpoints WHERE next_check_at <= $1 "
                              "ORDER BY next_check_at LIMIT $2";
static const char sql_schedule[] = "UPDATE endpoints SET next_check_at = $2 WHERE id = $1";
static const char sql_next[] = "SELECT next_check_at FROM endpoints ORDER BY next_check_at LIMIT 1";
static const char sql_result[] =
    "UPDATE endpoints SET next_check_at = $2, alerts = $3, checked_at = $4, handshake_ok = $5, "
    "error = $6, tls_version = $7, fingerprint = $8, names = $9, issuer = $10, "
    "not_after = $11, chain_verified = $12, chain_complete = $13, names_match = $14, "
    "certificate_id = $15, newer_certificate_id = $16 WHERE id = $1";
/* Every served name must be among the candidate's names (exact names, as
 * certificate renewal matches them). SQLite's json_array_length and
 * json_each over the text are jsonb_array_length and
 * jsonb_array_elements_text here (the names are a JSON array of strings). */
static const char sql_newer[] =
    "SELECT c.id FROM certificates c WHERE c.account_id = $1 AND c.state = 'active' "
    "AND c.not_after > $3 AND (c.fingerprint IS NULL OR c.fingerprint <> $4) "
    "AND jsonb_array_length($2::jsonb) > 0 AND NOT EXISTS (SELECT 1 FROM "
    "jsonb_array_elements_text($2::jsonb) j(value) "
    "WHERE NOT EXISTS (SELECT 1 FROM certificate_domains d WHERE d.certificate_id = c.id "
    "AND d.domain = j.value)) ORDER BY c.not_after DESC, c.id DESC LIMIT 1";

/* PostgreSQL refuses text that is not UTF-8 (SQLite keeps any bytes): what
 * a server sent (its certificate's issuer, an error cut to size on a byte)
 * is stored with each byte of a broken sequence as '?'. s into buf. */
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

static void read_row(const PGresult *r, int i, struct cc_endpoint *e)
{
    e->id = cc_pg_get_i64(r, i, 0);
    e->account_id = cc_pg_get_i64(r, i, 1);
    cc_pg_get_text(r, i, 2, e->host, sizeof e->host);
    e->port = (int)cc_pg_get_i64(r, i, 3);
    cc_pg_get_text(r, i, 4, e->sni, sizeof e->sni);
    e->created_at = cc_pg_get_i64(r, i, 5);
    e->updated_at = cc_pg_get_i64(r, i, 6);
    e->next_check_at = cc_pg_get_i64(r, i, 7);
    e->alerts = (unsigned)(int)cc_pg_get_i64(r, i, 8);
    struct cc_endpoint_check *k = &e->last;
    k->checked_at = cc_pg_get_i64(r, i, 9);
    k->handshake_ok = (int)cc_pg_get_i64(r, i, 10);
    cc_pg_get_text(r, i, 11, k->error, sizeof k->error);
    cc_pg_get_text(r, i, 12, k->tls_version, sizeof k->tls_version);
    cc_pg_get_text(r, i, 13, k->fingerprint, sizeof k->fingerprint);
    k->names = cc_strdup(cc_pg_isnull(r, i, 14) ? "[]" : cc_pg_get_str(r, i, 14));
    cc_pg_get_text(r, i, 15, k->issuer, sizeof k->issuer);
    k->not_after = cc_pg_get_i64(r, i, 16);
    k->chain_verified = (int)cc_pg_get_i64(r, i, 17);
    k->chain_complete = (int)cc_pg_get_i64(r, i, 18);
    k->names_match = (int)cc_pg_get_i64(r, i, 19);
    k->certificate_id = cc_pg_get_i64(r, i, 20);
    k->newer_certificate_id = cc_pg_get_i64(r, i, 21);
}

static enum cc_err load_contacts(struct pgc *c, struct cc_endpoint *e, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, e->id);
    e->n_contacts = 0;
    PGresult *r = cc_pg_exec(c, sql_contacts, &p, "reading an endpoint's contacts", err);
    if (!r)
        return err->code;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && e->n_contacts < CC_ENDPOINT_CONTACTS_MAX; i++)
        e->contacts[e->n_contacts++] = cc_pg_get_i64(r, i, 0);
    PQclear(r);
    return CC_OK;
}

static enum cc_err contacts_add(struct pgc *c, int64_t id, const int64_t *ids, size_t n,
                                struct cc_error *err)
{
    for (size_t i = 0; i < n; i++) {
        struct pgp p;
        cc_pg_params(&p);
        cc_pg_i64(&p, id);
        cc_pg_i64(&p, ids[i]);
        enum cc_err e = cc_pg_do(c, sql_contacts_add, &p, "adding a contact to an endpoint", err);
        if (e)
            return e;
    }
    return CC_OK;
}

static enum cc_err tx_endpoint_insert(void *tx, const struct cc_endpoint *e, int64_t *id,
                                      struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, e->account_id);
    cc_pg_text(&p, e->host);
    cc_pg_i64(&p, e->port);
    cc_pg_text(&p, e->sni);
    cc_pg_i64(&p, e->created_at);
    cc_pg_i64(&p, e->next_check_at);
    /* The failed insert aborts the transaction: the caller returns the error
     * at once, as it does on SQLite. */
    enum cc_err rc = cc_pg_one_i64(c, sql_insert, &p, id, "saving an endpoint", err);
    if (rc == CC_ERR_NOT_FOUND)
        rc = cc_error_set(err, CC_ERR_STORE, NULL, "database error in saving an endpoint");
    if (rc) {
        if (cc_pg_unique_violation(c, NULL))
            return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Host",
                                "The account watches this host, port and sni already.");
        return rc;
    }
    return contacts_add(c, *id, e->contacts, e->n_contacts, err);
}

static enum cc_err get(struct pgc *c, int64_t account_id, int64_t id, struct cc_endpoint *out,
                       struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    PGresult *r = cc_pg_exec(c, sql_get, &p, "reading an endpoint", err);
    if (!r)
        return err->code;
    int found = PQntuples(r) > 0;
    if (found)
        read_row(r, 0, out);
    PQclear(r);
    if (!found)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Endpoint %lld does not exist.",
                            (long long)id);
    return load_contacts(c, out, err);
}

static enum cc_err read_endpoint_get(void *impl, int64_t account_id, int64_t id,
                                     struct cc_endpoint *out, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    /* the row and its contacts from one snapshot */
    int own;
    enum cc_err rc = cc_pg_snapshot_begin(c, &own, err);
    if (!rc) {
        rc = get(c, account_id, id, out, err);
        cc_pg_snapshot_end(c, own);
    }
    cc_pg_release(c);
    return rc;
}

static enum cc_err tx_endpoint_get(void *tx, int64_t account_id, int64_t id,
                                   struct cc_endpoint *out, struct cc_error *err)
{
    return get(tx, account_id, id, out, err);
}

static enum cc_err tx_endpoint_count(void *tx, int64_t account_id, int64_t *n,
                                     struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    return cc_pg_one_i64(c, sql_count, &p, n, "counting endpoints", err);
}

static enum cc_err tx_endpoint_contacts_set(void *tx, int64_t id, const int64_t *ids, size_t n,
                                            int64_t now, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, id);
    enum cc_err rc = cc_pg_do(c, sql_contacts_clear, &p, "changing an endpoint's contacts", err);
    if (rc || (rc = contacts_add(c, id, ids, n, err)))
        return rc;
    cc_pg_params(&p);
    cc_pg_i64(&p, id);
    cc_pg_i64(&p, now);
    return cc_pg_do(c, sql_touch, &p, "changing an endpoint", err);
}

static enum cc_err tx_endpoint_delete(void *tx, int64_t account_id, int64_t id,
                                      struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    int64_t changed = 0;
    enum cc_err rc = cc_pg_do_n(c, sql_delete, &p, &changed, "deleting an endpoint", err);
    if (!rc && changed == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Endpoint %lld does not exist.",
                            (long long)id);
    return rc;
}

static enum cc_err list_locked(struct pgc *c, int64_t account_id, int64_t page,
                               int64_t page_size, struct cc_endpoint *items, size_t *n,
                               int64_t *total, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    enum cc_err rc = cc_pg_one_i64(c, sql_count, &p, total, "counting endpoints", err);
    if (rc)
        return rc;
    cc_pg_i64(&p, page_size);
    cc_pg_i64(&p, (page - 1) * page_size);
    PGresult *r = cc_pg_exec(c, sql_page, &p, "listing endpoints", err);
    if (!r)
        return err->code;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < (size_t)page_size; i++)
        read_row(r, i, &items[(*n)++]);
    PQclear(r);
    for (size_t i = 0; i < *n && !rc; i++)
        rc = load_contacts(c, &items[i], err);
    return rc;
}

static enum cc_err read_endpoint_list(void *impl, int64_t account_id, int64_t page,
                                      int64_t page_size, struct cc_endpoint **out, size_t *n,
                                      int64_t *total, struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct cc_endpoint *items = cc_calloc((size_t)page_size, sizeof *items);
    /* the count and the page see one snapshot */
    int own;
    enum cc_err rc = cc_pg_snapshot_begin(c, &own, err);
    if (!rc) {
        rc = list_locked(c, account_id, page, page_size, items, n, total, err);
        cc_pg_snapshot_end(c, own);
    }
    cc_pg_release(c);
    return cc_store_endpoint_page_end(rc, items, out, n);
}

static enum cc_err tx_endpoint_due(void *tx, int64_t now, size_t max, int64_t *ids,
                                   int64_t *accounts, size_t *n, struct cc_error *err)
{
    struct pgc *c = tx;
    *n = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, now);
    cc_pg_i64(&p, (int64_t)max);
    PGresult *r = cc_pg_exec(c, sql_due, &p, "finding due endpoint checks", err);
    if (!r)
        return err->code;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < max; i++) {
        ids[*n] = cc_pg_get_i64(r, i, 0);
        accounts[(*n)++] = cc_pg_get_i64(r, i, 1);
    }
    PQclear(r);
    return CC_OK;
}

static enum cc_err tx_endpoint_schedule(void *tx, int64_t id, int64_t next_at,
                                        struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, id);
    cc_pg_i64(&p, next_at);
    return cc_pg_do(c, sql_schedule, &p, "scheduling an endpoint check", err);
}

static enum cc_err read_endpoint_next(void *impl, int64_t *at, struct cc_error *err)
{
    *at = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = cc_pg_one_i64(c, sql_next, NULL, at, "finding the next endpoint check", err);
    cc_pg_release(c);
    if (rc == CC_ERR_NOT_FOUND)
        return CC_OK;
    if (rc)
        return rc;
    if (*at <= 0)
        *at = 1; /* due at once, kept apart from none */
    return CC_OK;
}

static enum cc_err tx_endpoint_result_set(void *tx, const struct cc_endpoint *e,
                                          struct cc_error *err)
{
    struct pgc *c = tx;
    const struct cc_endpoint_check *k = &e->last;
    char error[sizeof k->error], issuer[sizeof k->issuer];
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, e->id);
    cc_pg_i64(&p, e->next_check_at);
    cc_pg_i64(&p, (int)e->alerts);
    cc_pg_i64(&p, k->checked_at);
    cc_pg_i64(&p, k->handshake_ok);
    cc_pg_text(&p, utf8_text(k->error, error, sizeof error));
    cc_pg_text(&p, k->tls_version);
    cc_pg_text(&p, k->fingerprint);
    cc_pg_text(&p, k->names ? k->names : "[]");
    cc_pg_text(&p, utf8_text(k->issuer, issuer, sizeof issuer));
    cc_pg_i64(&p, k->not_after);
    cc_pg_i64(&p, k->chain_verified);
    cc_pg_i64(&p, k->chain_complete);
    cc_pg_i64(&p, k->names_match);
    cc_pg_opt_i64(&p, k->certificate_id);
    cc_pg_opt_i64(&p, k->newer_certificate_id);
    return cc_pg_do(c, sql_result, &p, "saving an endpoint check", err);
}

static enum cc_err tx_endpoint_newer_cert(void *tx, int64_t account_id, const char *names,
                                          int64_t not_after, const char *fingerprint, int64_t *id,
                                          struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, names ? names : "[]");
    cc_pg_i64(&p, not_after);
    cc_pg_text(&p, fingerprint ? fingerprint : "");
    int64_t found = 0;
    enum cc_err rc = cc_pg_one_i64(c, sql_newer, &p, &found, "finding a newer certificate", err);
    if (rc == CC_ERR_NOT_FOUND)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "No newer certificate.");
    if (!rc)
        *id = found;
    return rc;
}

const struct cc_store_endpoint_ops cc_pg_endpoint_ops = {CC_STORE_ENDPOINT_OPS(CC_STORE_OP_INIT)};
