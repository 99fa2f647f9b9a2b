/*
 * sqlite_applications.c — the SQLite side of certificate applications
 * (migration 0011): the applications, one row per name for the domain
 * filter, the history of state changes, the open applications of a
 * contact and their reassignment, and the idempotency keys of submission
 * (migration 0014), and the validation type an application names
 * (migration 0019). Writes run inside the writer's
 * transactions (sqlite_writer.c); reads on the calling thread's read
 * connection (sqlite_conn.c).
 */
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_insert[] =
    "INSERT INTO applications(account_id, contact_id, product, state, domains, csr, "
    "certificate_pem, version, created_at, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
static const char sql_insert_domains[] =
    "INSERT INTO application_domains(application_id, account_id, ascii) "
    "SELECT DISTINCT ?1, ?2, json_extract(value, '$.ascii') FROM json_each(?3)";
static const char sql_insert_validation[] =
    "INSERT INTO application_validation(application_id, validate_type) VALUES (?1, ?2)";
static const char sql_get[] =
    "SELECT " CC_APP_COLS_V " FROM applications WHERE account_id = ?1 AND id = ?2";
static const char sql_update_state[] =
    "UPDATE applications SET state = ?3, certificate_pem = ?4, version = ?5, updated_at = ?6 "
    "WHERE account_id = ?1 AND id = ?2 AND version = ?5 - 1";
static const char sql_transition_add[] =
    "INSERT INTO application_transitions(application_id, at, actor, from_state, to_state, "
    "reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
#define FILTER                                                                             \
    " FROM applications WHERE account_id = ?1 AND (?2 IS NULL OR state = ?2) "            \
    "AND (?3 = 0 OR contact_id = ?3) AND (?4 IS NULL OR product = ?4) "                   \
    "AND (?5 IS NULL OR id IN (SELECT application_id FROM application_domains "            \
    "WHERE account_id = ?1 AND ascii = ?5))"
static const char sql_count[] = "SELECT count(*)" FILTER;
static const char sql_list[] =
    "SELECT " CC_APP_COLS_V FILTER " ORDER BY id DESC LIMIT ?6 OFFSET ?7";
static const char sql_history[] =
    "SELECT id, application_id, at, actor, from_state, to_state, reason "
    "FROM application_transitions WHERE application_id = ?1 ORDER BY id LIMIT ?2";

/* One statement, so one snapshot: the page and, beside each row, how many
 * match in all (the window counts before LIMIT). No CSR or PEM: a contact's
 * list shows names and states only. */
static const char sql_open_list[] =
    "SELECT id, account_id, contact_id, product, state, domains, NULL, NULL, version, "
    "created_at, updated_at, count(*) OVER () FROM applications WHERE account_id = ?1 "
    "AND contact_id = ?2 AND state IN " CC_OPEN_STATES " ORDER BY id DESC LIMIT ?3";
/* Most contacts have no application: one seek of applications_account_contact
 * says so, where sql_open_list builds three temporary tables (its IN list,
 * its order and its window) on every call, rows or none. */
static const char sql_any_for_contact[] =
    "SELECT 1 FROM applications WHERE account_id = ?1 AND contact_id = ?2 LIMIT 1";
/* The history first, while the rows still name `from`. */
static const char sql_reassign_history[] =
    "INSERT INTO application_transitions(application_id, at, actor, from_state, to_state, "
    "reason) SELECT id, ?4, ?5, state, state, ?6 FROM applications "
    "WHERE account_id = ?1 AND contact_id = ?2 AND state IN " CC_OPEN_STATES " ORDER BY id";
static const char sql_reassign[] =
    "UPDATE applications SET contact_id = ?3, version = version + 1, updated_at = ?4 "
    "WHERE account_id = ?1 AND contact_id = ?2 AND state IN " CC_OPEN_STATES;
static const char sql_idem_get[] =
    "SELECT request_hash, application_id FROM application_idempotency_keys "
    "WHERE account_id = ?1 AND key = ?2";
static const char sql_idem_put[] =
    "INSERT INTO application_idempotency_keys(account_id, key, request_hash, application_id, "
    "created_at) VALUES (?1, ?2, ?3, ?4, ?5)";

/* A text column as an owned string, or NULL for SQL NULL. */
static char *col_dup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? cc_strdup((const char *)t) : NULL;
}

static void read_row(sqlite3_stmt *s, struct cc_application *a)
{
    memset(a, 0, sizeof *a);
    char state[24];
    a->id = sqlite3_column_int64(s, 0);
    a->account_id = sqlite3_column_int64(s, 1);
    a->contact_id = sqlite3_column_int64(s, 2);
    cc_sq_col_text(s, 3, a->product, sizeof a->product);
    cc_sq_col_text(s, 4, state, sizeof state);
    a->state = cc_app_state_parse(state);
    a->domains = col_dup(s, 5);
    a->csr = col_dup(s, 6);
    a->certificate_pem = col_dup(s, 7);
    a->version = sqlite3_column_int64(s, 8);
    a->created_at = sqlite3_column_int64(s, 9);
    a->updated_at = sqlite3_column_int64(s, 10);
}

/* The validation type of a row of sql_get or sql_list. */
static void read_validation(sqlite3_stmt *s, struct cc_application *a)
{
    cc_sq_col_text(s, CC_VALIDATION_COL, a->validate_type, sizeof a->validate_type);
}

static void bind_opt(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static enum cc_err tx_app_insert(void *tx, struct cc_application *a, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, a->account_id);
    sqlite3_bind_int64(s, 2, a->contact_id);
    sqlite3_bind_text(s, 3, a->product, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, cc_app_state_name(a->state), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, a->domains, -1, SQLITE_STATIC);
    bind_opt(s, 6, a->csr);
    bind_opt(s, 7, a->certificate_pem);
    sqlite3_bind_int64(s, 8, a->version);
    sqlite3_bind_int64(s, 9, a->created_at);
    sqlite3_bind_int64(s, 10, a->updated_at);
    enum cc_err rc = cc_sq_step_done(c, s, "saving an application", err);
    if (rc)
        return rc;
    a->id = sqlite3_last_insert_rowid(c->db);
    if (!(s = cc_sq_stmt(c, sql_insert_domains, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, a->id);
    sqlite3_bind_int64(s, 2, a->account_id);
    sqlite3_bind_text(s, 3, a->domains, -1, SQLITE_STATIC);
    if ((rc = cc_sq_step_done(c, s, "saving an application's domains", err)) ||
        !a->validate_type[0])
        return rc;
    if (!(s = cc_sq_stmt(c, sql_insert_validation, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, a->id);
    sqlite3_bind_text(s, 2, a->validate_type, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "saving an application's validation type", err);
}

/* The application on connection c. */
static enum cc_err get_on(struct conn *c, int64_t account_id, int64_t id,
                          struct cc_application *out, struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        read_row(s, out);
        read_validation(s, out);
    }
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no application %lld.",
                            (long long)id);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading an application");
}

static enum cc_err tx_app_get(void *tx, int64_t account_id, int64_t id,
                              struct cc_application *out, struct cc_error *err)
{
    return get_on(tx, account_id, id, out, err);
}

static enum cc_err read_app_get(void *impl, int64_t account_id, int64_t id,
                                struct cc_application *out, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    return c ? get_on(c, account_id, id, out, err) : CC_ERR_STORE;
}

static enum cc_err tx_app_update_state(void *tx, const struct cc_application *a,
                                       struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_update_state, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, a->account_id);
    sqlite3_bind_int64(s, 2, a->id);
    sqlite3_bind_text(s, 3, cc_app_state_name(a->state), -1, SQLITE_STATIC);
    bind_opt(s, 4, a->certificate_pem);
    sqlite3_bind_int64(s, 5, a->version);
    sqlite3_bind_int64(s, 6, a->updated_at);
    enum cc_err rc = cc_sq_step_done(c, s, "changing an application's state", err);
    if (!rc && sqlite3_changes(c->db) == 0)
        return cc_error_set(err, CC_ERR_UPDATE_CONFLICT, NULL,
                            "The application was changed by someone else: read it again.");
    return rc;
}

static enum cc_err tx_app_transition_add(void *tx, struct cc_app_transition *t,
                                         struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_transition_add, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, t->application_id);
    sqlite3_bind_int64(s, 2, t->at);
    sqlite3_bind_text(s, 3, t->actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, t->from_state, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, t->to_state, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, t->reason, -1, SQLITE_STATIC);
    enum cc_err rc = cc_sq_step_done(c, s, "recording an application's history", err);
    if (!rc)
        t->id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

static void bind_filter(sqlite3_stmt *s, const struct cc_app_query *q)
{
    sqlite3_bind_int64(s, 1, q->account_id);
    bind_opt(s, 2, q->state);
    sqlite3_bind_int64(s, 3, q->contact_id);
    bind_opt(s, 4, q->product);
    bind_opt(s, 5, q->domain);
}

static enum cc_err read_app_list(void *impl, const struct cc_app_query *q,
                                 struct cc_application **out, size_t *n, int64_t *total,
                                 struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_count, err);
    if (!s)
        return CC_ERR_STORE;
    bind_filter(s, q);
    enum cc_err counted = cc_sq_count(c, s, total, "counting applications", err);
    if (counted)
        return counted;
    if (!(s = cc_sq_stmt(c, sql_list, err)))
        return CC_ERR_STORE;
    bind_filter(s, q);
    sqlite3_bind_int64(s, 6, q->page_size);
    sqlite3_bind_int64(s, 7, (q->page - 1) * q->page_size);
    size_t cap = cc_store_page_rows(*total, q->page, q->page_size);
    struct cc_application *items = cap ? cc_calloc(cap, sizeof *items) : NULL;
    int rc = SQLITE_DONE;
    while (*n < cap && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        read_row(s, &items[*n]);
        read_validation(s, &items[(*n)++]);
    }
    cc_sq_done(s);
    if (*n < cap && rc != SQLITE_DONE) {
        for (size_t i = 0; i < *n; i++)
            cc_application_clear(&items[i]);
        cc_free(items);
        *n = 0;
        return cc_sq_db_error(err, c->db, "listing applications");
    }
    *out = items;
    return CC_OK;
}

static enum cc_err read_app_history(void *impl, int64_t application_id,
                                    struct cc_app_transition **out, size_t *n,
                                    struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_history, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, application_id);
    sqlite3_bind_int(s, 2, CC_APP_HISTORY_MAX);
    struct cc_app_transition *items = cc_calloc(CC_APP_HISTORY_MAX, sizeof *items);
    int rc = SQLITE_DONE;
    while (*n < CC_APP_HISTORY_MAX && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct cc_app_transition *t = &items[(*n)++];
        t->id = sqlite3_column_int64(s, 0);
        t->application_id = sqlite3_column_int64(s, 1);
        t->at = sqlite3_column_int64(s, 2);
        cc_sq_col_text(s, 3, t->actor, sizeof t->actor);
        cc_sq_col_text(s, 4, t->from_state, sizeof t->from_state);
        cc_sq_col_text(s, 5, t->to_state, sizeof t->to_state);
        cc_sq_col_text(s, 6, t->reason, sizeof t->reason);
    }
    cc_sq_done(s);
    if (*n < CC_APP_HISTORY_MAX && rc != SQLITE_DONE) {
        cc_free(items);
        *n = 0;
        return cc_sq_db_error(err, c->db, "reading an application's history");
    }
    *out = items;
    return CC_OK;
}

/* The open applications naming a contact, on connection c. */
static enum cc_err open_for_contact(struct conn *c, int64_t account_id, int64_t contact_id,
                                    size_t max, struct cc_application **out, size_t *n,
                                    int64_t *total, struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_any_for_contact, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, contact_id);
    int any = sqlite3_step(s);
    cc_sq_done(s);
    if (any == SQLITE_DONE)
        return CC_OK;
    if (any != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "listing a contact's applications");
    if (!(s = cc_sq_stmt(c, sql_open_list, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, contact_id);
    /* max 0 still needs a row for the count */
    sqlite3_bind_int64(s, 3, max ? (int64_t)max : 1);
    /* allocated once the first row says how many there are (most contacts: none) */
    struct cc_application *items = NULL;
    size_t cap = 0;
    int rc = SQLITE_DONE;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        *total = sqlite3_column_int64(s, 11);
        if (!items && max) {
            cap = *total > 0 && (uint64_t)*total < max ? (size_t)*total : max;
            items = cc_calloc(cap, sizeof *items);
        }
        if (*n < cap)
            read_row(s, &items[(*n)++]);
    }
    cc_sq_done(s);
    if (rc != SQLITE_DONE) {
        for (size_t i = 0; i < *n; i++)
            cc_application_clear(&items[i]);
        cc_free(items);
        *n = 0;
        *total = 0;
        return cc_sq_db_error(err, c->db, "listing a contact's applications");
    }
    if (*n == 0) {
        cc_free(items);
        items = NULL;
    }
    *out = items;
    return CC_OK;
}

static enum cc_err tx_app_open_for_contact(void *tx, int64_t account_id, int64_t contact_id,
                                           size_t max, struct cc_application **out, size_t *n,
                                           int64_t *total, struct cc_error *err)
{
    return open_for_contact(tx, account_id, contact_id, max, out, n, total, err);
}

static enum cc_err read_app_open_for_contact(void *impl, int64_t account_id,
                                             int64_t contact_id, size_t max,
                                             struct cc_application **out, size_t *n,
                                             int64_t *total, struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    return c ? open_for_contact(c, account_id, contact_id, max, out, n, total, err)
             : CC_ERR_STORE;
}

static enum cc_err tx_app_reassign_open(void *tx, int64_t account_id, int64_t from, int64_t to,
                                        const char *actor, const char *reason, int64_t now,
                                        int64_t *n, struct cc_error *err)
{
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_reassign_history, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, from);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_text(s, 5, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, reason ? reason : "", -1, SQLITE_STATIC);
    enum cc_err rc = cc_sq_step_done(c, s, "recording a contact change in history", err);
    if (rc)
        return rc;
    if (!(s = cc_sq_stmt(c, sql_reassign, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, from);
    sqlite3_bind_int64(s, 3, to);
    sqlite3_bind_int64(s, 4, now);
    if ((rc = cc_sq_step_done(c, s, "reassigning applications", err)))
        return rc;
    *n = sqlite3_changes(c->db);
    return CC_OK;
}

static enum cc_err tx_app_idem_get(void *tx, int64_t account_id, const char *key, char *hash,
                                   int64_t *application_id, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_idem_get, err);
    return s ? cc_sq_idem_get(c, s, account_id, key, hash, application_id, err) : CC_ERR_STORE;
}

static enum cc_err tx_app_idem_put(void *tx, int64_t account_id, const char *key,
                                   const char *hash, int64_t application_id, int64_t now,
                                   struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_idem_put, err);
    return s ? cc_sq_idem_put(c, s, account_id, key, hash, application_id, now, err)
             : CC_ERR_STORE;
}

const struct cc_store_application_ops cc_sq_application_ops = {
    CC_STORE_APPLICATION_OPS(CC_STORE_OP_INIT)};
