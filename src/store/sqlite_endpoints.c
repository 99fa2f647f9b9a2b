/*
 * sqlite_endpoints.c — the SQLite side of watched endpoints (tables
 * endpoints and endpoint_contacts; migration 0022): save, read, page, count
 * and delete them, set their contacts, the due ones by the index on
 * next_check_at, each check's result, and the newest known certificate for
 * the names an endpoint serves (through certificate_domains). Writes run
 * inside the writer's transactions (sqlite_writer.c); reads on the calling
 * thread's read connection.
 */
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

#define COLS                                                                               \
    "id, account_id, host, port, sni, created_at, updated_at, next_check_at, alerts, "    \
    "checked_at, handshake_ok, error, tls_version, fingerprint, names, issuer, not_after, " \
    "chain_verified, chain_complete, names_match, ifnull(certificate_id, 0), "             \
    "ifnull(newer_certificate_id, 0)"

static const char sql_insert[] =
    "INSERT INTO endpoints(account_id, host, port, sni, created_at, updated_at, next_check_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)";
static const char sql_get[] = "SELECT " COLS " FROM endpoints WHERE account_id = ?1 AND id = ?2";
static const char sql_contacts[] =
    "SELECT contact_id FROM endpoint_contacts WHERE endpoint_id = ?1 ORDER BY contact_id";
static const char sql_contacts_clear[] = "DELETE FROM endpoint_contacts WHERE endpoint_id = ?1";
static const char sql_contacts_add[] =
    "INSERT OR IGNORE INTO endpoint_contacts(endpoint_id, contact_id) VALUES (?1, ?2)";
static const char sql_touch[] = "UPDATE endpoints SET updated_at = ?2 WHERE id = ?1";
static const char sql_count[] = "SELECT count(*) FROM endpoints WHERE account_id = ?1";
static const char sql_delete[] = "DELETE FROM endpoints WHERE account_id = ?1 AND id = ?2";
static const char sql_page[] = "SELECT " COLS " FROM endpoints WHERE account_id = ?1 "
                               "ORDER BY id LIMIT ?2 OFFSET ?3";
static const char sql_due[] = "SELECT id, account_id FROM endpoints WHERE next_check_at <= ?1 "
                              "ORDER BY next_check_at LIMIT ?2";
static const char sql_schedule[] = "UPDATE endpoints SET next_check_at = ?2 WHERE id = ?1";
static const char sql_next[] = "SELECT next_check_at FROM endpoints ORDER BY next_check_at LIMIT 1";
static const char sql_result[] =
    "UPDATE endpoints SET next_check_at = ?2, alerts = ?3, checked_at = ?4, handshake_ok = ?5, "
    "error = ?6, tls_version = ?7, fingerprint = ?8, names = ?9, issuer = ?10, "
    "not_after = ?11, chain_verified = ?12, chain_complete = ?13, names_match = ?14, "
    "certificate_id = ?15, newer_certificate_id = ?16 WHERE id = ?1";
/* Every served name must be among the candidate's names (exact names, as
 * certificate renewal matches them). */
static const char sql_newer[] =
    "SELECT c.id FROM certificates c WHERE c.account_id = ?1 AND c.state = 'active' "
    "AND c.not_after > ?3 AND (c.fingerprint IS NULL OR c.fingerprint <> ?4) "
    "AND json_array_length(?2) > 0 AND NOT EXISTS (SELECT 1 FROM json_each(?2) j "
    "WHERE NOT EXISTS (SELECT 1 FROM certificate_domains d WHERE d.certificate_id = c.id "
    "AND d.domain = j.value)) ORDER BY c.not_after DESC, c.id DESC LIMIT 1";

static void read_row(sqlite3_stmt *s, struct cc_endpoint *e)
{
    e->id = sqlite3_column_int64(s, 0);
    e->account_id = sqlite3_column_int64(s, 1);
    cc_sq_col_text(s, 2, e->host, sizeof e->host);
    e->port = sqlite3_column_int(s, 3);
    cc_sq_col_text(s, 4, e->sni, sizeof e->sni);
    e->created_at = sqlite3_column_int64(s, 5);
    e->updated_at = sqlite3_column_int64(s, 6);
    e->next_check_at = sqlite3_column_int64(s, 7);
    e->alerts = (unsigned)sqlite3_column_int(s, 8);
    struct cc_endpoint_check *k = &e->last;
    k->checked_at = sqlite3_column_int64(s, 9);
    k->handshake_ok = sqlite3_column_int(s, 10);
    cc_sq_col_text(s, 11, k->error, sizeof k->error);
    cc_sq_col_text(s, 12, k->tls_version, sizeof k->tls_version);
    cc_sq_col_text(s, 13, k->fingerprint, sizeof k->fingerprint);
    const char *names = (const char *)sqlite3_column_text(s, 14);
    k->names = cc_strdup(names ? names : "[]");
    cc_sq_col_text(s, 15, k->issuer, sizeof k->issuer);
    k->not_after = sqlite3_column_int64(s, 16);
    k->chain_verified = sqlite3_column_int(s, 17);
    k->chain_complete = sqlite3_column_int(s, 18);
    k->names_match = sqlite3_column_int(s, 19);
    k->certificate_id = sqlite3_column_int64(s, 20);
    k->newer_certificate_id = sqlite3_column_int64(s, 21);
}

static enum cc_err load_contacts(struct conn *c, struct cc_endpoint *e, struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_contacts, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, e->id);
    int rc;
    e->n_contacts = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && e->n_contacts < CC_ENDPOINT_CONTACTS_MAX)
        e->contacts[e->n_contacts++] = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading an endpoint's contacts");
    return CC_OK;
}

static enum cc_err contacts_add(struct conn *c, int64_t id, const int64_t *ids, size_t n,
                                struct cc_error *err)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *s = cc_sq_stmt(c, sql_contacts_add, err);
        if (!s)
            return CC_ERR_STORE;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, ids[i]);
        enum cc_err e = cc_sq_step_done(c, s, "adding a contact to an endpoint", err);
        if (e)
            return e;
    }
    return CC_OK;
}

static enum cc_err tx_endpoint_insert(void *tx, const struct cc_endpoint *e, int64_t *id,
                                      struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, e->account_id);
    sqlite3_bind_text(s, 2, e->host, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, e->port);
    sqlite3_bind_text(s, 4, e->sni, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, e->created_at);
    sqlite3_bind_int64(s, 6, e->next_check_at);
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    if (rc != SQLITE_DONE) {
        if (sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_UNIQUE)
            return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Host",
                                "The account watches this host, port and sni already.");
        return cc_sq_db_error(err, c->db, "saving an endpoint");
    }
    *id = sqlite3_last_insert_rowid(c->db);
    return contacts_add(c, *id, e->contacts, e->n_contacts, err);
}

static enum cc_err get(struct conn *c, int64_t account_id, int64_t id, struct cc_endpoint *out,
                       struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_row(s, out);
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Endpoint %lld does not exist.",
                            (long long)id);
    if (rc != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "reading an endpoint");
    return load_contacts(c, out, err);
}

static enum cc_err read_endpoint_get(void *impl, int64_t account_id, int64_t id,
                                     struct cc_endpoint *out, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    /* the row and its contacts from one snapshot */
    enum cc_err rc = cc_sq_read_begin(c, err);
    if (rc)
        return rc;
    rc = get(c, account_id, id, out, err);
    cc_sq_read_end(c);
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
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_count, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    return cc_sq_count(c, s, n, "counting endpoints", err);
}

static enum cc_err tx_endpoint_contacts_set(void *tx, int64_t id, const int64_t *ids, size_t n,
                                            int64_t now, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_contacts_clear, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    enum cc_err rc = cc_sq_step_done(c, s, "changing an endpoint's contacts", err);
    if (rc || (rc = contacts_add(c, id, ids, n, err)))
        return rc;
    if (!(s = cc_sq_stmt(c, sql_touch, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, now);
    return cc_sq_step_done(c, s, "changing an endpoint", err);
}

static enum cc_err tx_endpoint_delete(void *tx, int64_t account_id, int64_t id,
                                      struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_delete, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    enum cc_err rc = cc_sq_step_done(c, s, "deleting an endpoint", err);
    if (!rc && sqlite3_changes(c->db) == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "Endpoint %lld does not exist.",
                            (long long)id);
    return rc;
}

static enum cc_err list_locked(struct conn *c, int64_t account_id, int64_t page,
                               int64_t page_size, struct cc_endpoint *items, size_t *n,
                               int64_t *total, struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_count, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    enum cc_err rc = cc_sq_count(c, s, total, "counting endpoints", err);
    if (rc)
        return rc;
    if (!(s = cc_sq_stmt(c, sql_page, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, page_size);
    sqlite3_bind_int64(s, 3, (page - 1) * page_size);
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW && *n < (size_t)page_size)
        read_row(s, &items[(*n)++]);
    cc_sq_done(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "listing endpoints");
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
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct cc_endpoint *items = cc_calloc((size_t)page_size, sizeof *items);
    /* the count and the page see one snapshot */
    enum cc_err rc = cc_sq_read_begin(c, err);
    if (rc) {
        cc_free(items);
        return rc;
    }
    rc = list_locked(c, account_id, page, page_size, items, n, total, err);
    cc_sq_read_end(c);
    return cc_store_endpoint_page_end(rc, items, out, n);
}

static enum cc_err tx_endpoint_due(void *tx, int64_t now, size_t max, int64_t *ids,
                                   int64_t *accounts, size_t *n, struct cc_error *err)
{
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_due, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
        ids[*n] = sqlite3_column_int64(s, 0);
        accounts[(*n)++] = sqlite3_column_int64(s, 1);
    }
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "finding due endpoint checks");
    return CC_OK;
}

static enum cc_err tx_endpoint_schedule(void *tx, int64_t id, int64_t next_at,
                                        struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_schedule, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, next_at);
    return cc_sq_step_done(c, s, "scheduling an endpoint check", err);
}

static enum cc_err read_endpoint_next(void *impl, int64_t *at, struct cc_error *err)
{
    *at = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_next, err);
    if (!s)
        return CC_ERR_STORE;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *at = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "finding the next endpoint check");
    if (rc == SQLITE_ROW && *at <= 0)
        *at = 1; /* due at once, kept apart from none */
    return CC_OK;
}

static enum cc_err tx_endpoint_result_set(void *tx, const struct cc_endpoint *e,
                                          struct cc_error *err)
{
    struct conn *c = tx;
    const struct cc_endpoint_check *k = &e->last;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_result, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, e->id);
    sqlite3_bind_int64(s, 2, e->next_check_at);
    sqlite3_bind_int(s, 3, (int)e->alerts);
    sqlite3_bind_int64(s, 4, k->checked_at);
    sqlite3_bind_int(s, 5, k->handshake_ok);
    sqlite3_bind_text(s, 6, k->error, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, k->tls_version, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, k->fingerprint, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, k->names ? k->names : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 10, k->issuer, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, k->not_after);
    sqlite3_bind_int(s, 12, k->chain_verified);
    sqlite3_bind_int(s, 13, k->chain_complete);
    sqlite3_bind_int(s, 14, k->names_match);
    if (k->certificate_id)
        sqlite3_bind_int64(s, 15, k->certificate_id);
    if (k->newer_certificate_id)
        sqlite3_bind_int64(s, 16, k->newer_certificate_id);
    return cc_sq_step_done(c, s, "saving an endpoint check", err);
}

static enum cc_err tx_endpoint_newer_cert(void *tx, int64_t account_id, const char *names,
                                          int64_t not_after, const char *fingerprint, int64_t *id,
                                          struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_newer, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, names ? names : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, not_after);
    sqlite3_bind_text(s, 4, fingerprint ? fingerprint : "", -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *id = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "No newer certificate.");
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "finding a newer certificate");
}

const struct cc_store_endpoint_ops cc_sq_endpoint_ops = {CC_STORE_ENDPOINT_OPS(CC_STORE_OP_INIT)};
