/*
 * pg_applications.c — the PostgreSQL side of certificate applications
 * (migration 0011): the applications, one row per name for the domain
 * filter, the history of state changes, the open applications of a
 * contact and their reassignment, and the idempotency keys of submission
 * (migration 0014), and the validation type an application names
 * (migration 0019). Statement for statement the same as
 * sqlite_applications.c. Tx operations run on the write's connection
 * (pg.c); reads on a connection of the pool (or the calling thread's
 * transaction).
 */
#include <string.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_insert[] =
    "INSERT INTO applications(account_id, contact_id, product, state, domains, csr, "
    "certificate_pem, version, created_at, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id";
/* SQLite's json_each / json_extract: json_array_elements and ->>. */
static const char sql_insert_domains[] =
    "INSERT INTO application_domains(application_id, account_id, ascii) "
    "SELECT DISTINCT $1::bigint, $2::bigint, value ->> 'ascii' "
    "FROM json_array_elements($3::json)";
static const char sql_insert_validation[] =
    "INSERT INTO application_validation(application_id, validate_type) VALUES ($1, $2)";
static const char sql_get[] =
    "SELECT " CC_APP_COLS_V " FROM applications WHERE account_id = $1 AND id = $2";
static const char sql_update_state[] =
    "UPDATE applications SET state = $3, certificate_pem = $4, version = $5, updated_at = $6 "
    "WHERE account_id = $1 AND id = $2 AND version = $5::bigint - 1";
static const char sql_transition_add[] =
    "INSERT INTO application_transitions(application_id, at, actor, from_state, to_state, "
    "reason) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
#define FILTER                                                                             \
    " FROM applications WHERE account_id = $1 AND ($2::text IS NULL OR state = $2) "      \
    "AND ($3::bigint = 0 OR contact_id = $3) AND ($4::text IS NULL OR product = $4) "     \
    "AND ($5::text IS NULL OR id IN (SELECT application_id FROM application_domains "      \
    "WHERE account_id = $1 AND ascii = $5))"
static const char sql_count[] = "SELECT count(*)" FILTER;
static const char sql_list[] =
    "SELECT " CC_APP_COLS_V FILTER " ORDER BY id DESC LIMIT $6 OFFSET $7";
static const char sql_history[] =
    "SELECT id, application_id, at, actor, from_state, to_state, reason "
    "FROM application_transitions WHERE application_id = $1 ORDER BY id LIMIT $2";

/* One statement, so one snapshot: the page and, beside each row, how many
 * match in all (the window counts before LIMIT). No CSR or PEM: a contact's
 * list shows names and states only. */
static const char sql_open_list[] =
    "SELECT id, account_id, contact_id, product, state, domains, NULL, NULL, version, "
    "created_at, updated_at, count(*) OVER () FROM applications WHERE account_id = $1 "
    "AND contact_id = $2 AND state IN " CC_OPEN_STATES " ORDER BY id DESC LIMIT $3";
/* The history first, while the rows still name `from`. */
static const char sql_reassign_history[] =
    "INSERT INTO application_transitions(application_id, at, actor, from_state, to_state, "
    "reason) SELECT id, $3::bigint, $4::text, state, state, $5::text FROM applications "
    "WHERE account_id = $1 AND contact_id = $2 AND state IN " CC_OPEN_STATES " ORDER BY id";
static const char sql_reassign[] =
    "UPDATE applications SET contact_id = $3, version = version + 1, updated_at = $4 "
    "WHERE account_id = $1 AND contact_id = $2 AND state IN " CC_OPEN_STATES;
static const char sql_idem_get[] =
    "SELECT request_hash, application_id FROM application_idempotency_keys "
    "WHERE account_id = $1 AND key = $2";
static const char sql_idem_put[] =
    "INSERT INTO application_idempotency_keys(account_id, key, request_hash, application_id, "
    "created_at) VALUES ($1, $2, $3, $4, $5)";

/* The code of a failed statement's error (cc_pg_exec set it). */
static enum cc_err code_of(const struct cc_error *err)
{
    return err ? err->code : CC_ERR_STORE;
}

/* A text column as an owned string, or NULL for SQL NULL. */
static char *col_dup(const PGresult *r, int row, int i)
{
    return cc_pg_isnull(r, row, i) ? NULL : cc_strdup(cc_pg_get_str(r, row, i));
}

static void read_row(const PGresult *r, int row, struct cc_application *a)
{
    memset(a, 0, sizeof *a);
    char state[24];
    a->id = cc_pg_get_i64(r, row, 0);
    a->account_id = cc_pg_get_i64(r, row, 1);
    a->contact_id = cc_pg_get_i64(r, row, 2);
    cc_pg_get_text(r, row, 3, a->product, sizeof a->product);
    cc_pg_get_text(r, row, 4, state, sizeof state);
    a->state = cc_app_state_parse(state);
    a->domains = col_dup(r, row, 5);
    a->csr = col_dup(r, row, 6);
    a->certificate_pem = col_dup(r, row, 7);
    a->version = cc_pg_get_i64(r, row, 8);
    a->created_at = cc_pg_get_i64(r, row, 9);
    a->updated_at = cc_pg_get_i64(r, row, 10);
}

/* The validation type of a row of sql_get or sql_list. */
static void read_validation(const PGresult *r, int row, struct cc_application *a)
{
    cc_pg_get_text(r, row, CC_VALIDATION_COL, a->validate_type, sizeof a->validate_type);
}

static enum cc_err tx_app_insert(void *tx, struct cc_application *a, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, a->account_id);
    cc_pg_i64(&p, a->contact_id);
    cc_pg_text(&p, a->product);
    cc_pg_text(&p, cc_app_state_name(a->state));
    cc_pg_text(&p, a->domains);
    cc_pg_text(&p, a->csr);
    cc_pg_text(&p, a->certificate_pem);
    cc_pg_i64(&p, a->version);
    cc_pg_i64(&p, a->created_at);
    cc_pg_i64(&p, a->updated_at);
    /* RETURNING id: SQLite's last_insert_rowid() */
    enum cc_err rc = cc_pg_one_i64(c, sql_insert, &p, &a->id, "saving an application", err);
    if (rc)
        return rc;
    cc_pg_params(&p);
    cc_pg_i64(&p, a->id);
    cc_pg_i64(&p, a->account_id);
    cc_pg_text(&p, a->domains);
    if ((rc = cc_pg_do(c, sql_insert_domains, &p, "saving an application's domains", err)) ||
        !a->validate_type[0])
        return rc;
    cc_pg_params(&p);
    cc_pg_i64(&p, a->id);
    cc_pg_text(&p, a->validate_type);
    return cc_pg_do(c, sql_insert_validation, &p, "saving an application's validation type",
                    err);
}

/* The application on connection c. */
static enum cc_err get_on(struct pgc *c, int64_t account_id, int64_t id,
                          struct cc_application *out, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    PGresult *r = cc_pg_exec(c, sql_get, &p, "reading an application", err);
    if (!r)
        return code_of(err);
    enum cc_err rc = CC_OK;
    if (PQntuples(r) > 0) {
        read_row(r, 0, out);
        read_validation(r, 0, out);
    } else {
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no application %lld.",
                          (long long)id);
    }
    PQclear(r);
    return rc;
}

static enum cc_err tx_app_get(void *tx, int64_t account_id, int64_t id,
                              struct cc_application *out, struct cc_error *err)
{
    return get_on(tx, account_id, id, out, err);
}

static enum cc_err read_app_get(void *impl, int64_t account_id, int64_t id,
                                struct cc_application *out, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = get_on(c, account_id, id, out, err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err tx_app_update_state(void *tx, const struct cc_application *a,
                                       struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, a->account_id);
    cc_pg_i64(&p, a->id);
    cc_pg_text(&p, cc_app_state_name(a->state));
    cc_pg_text(&p, a->certificate_pem);
    cc_pg_i64(&p, a->version);
    cc_pg_i64(&p, a->updated_at);
    int64_t changed = 0;
    enum cc_err rc =
        cc_pg_do_n(c, sql_update_state, &p, &changed, "changing an application's state", err);
    if (!rc && changed == 0)
        return cc_error_set(err, CC_ERR_UPDATE_CONFLICT, NULL,
                            "The application was changed by someone else: read it again.");
    return rc;
}

static enum cc_err tx_app_transition_add(void *tx, struct cc_app_transition *t,
                                         struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, t->application_id);
    cc_pg_i64(&p, t->at);
    cc_pg_text(&p, t->actor);
    cc_pg_text(&p, t->from_state);
    cc_pg_text(&p, t->to_state);
    cc_pg_text(&p, t->reason);
    return cc_pg_one_i64(c, sql_transition_add, &p, &t->id, "recording an application's history",
                         err);
}

static void bind_filter(struct pgp *p, const struct cc_app_query *q)
{
    cc_pg_params(p);
    cc_pg_i64(p, q->account_id);
    cc_pg_text(p, q->state);
    cc_pg_i64(p, q->contact_id);
    cc_pg_text(p, q->product);
    cc_pg_text(p, q->domain);
}

static enum cc_err list_on(struct pgc *c, const struct cc_app_query *q,
                           struct cc_application **out, size_t *n, int64_t *total,
                           struct cc_error *err)
{
    struct pgp p;
    bind_filter(&p, q);
    enum cc_err counted = cc_pg_one_i64(c, sql_count, &p, total, "counting applications", err);
    if (counted)
        return counted == CC_ERR_NOT_FOUND ? CC_OK : counted;
    bind_filter(&p, q);
    cc_pg_i64(&p, q->page_size);
    cc_pg_i64(&p, (q->page - 1) * q->page_size);
    PGresult *r = cc_pg_exec(c, sql_list, &p, "listing applications", err);
    if (!r)
        return code_of(err);
    size_t cap = cc_store_page_rows(*total, q->page, q->page_size);
    struct cc_application *items = cap ? cc_calloc(cap, sizeof *items) : NULL;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < cap; i++) {
        read_row(r, i, &items[*n]);
        read_validation(r, i, &items[(*n)++]);
    }
    PQclear(r);
    *out = items;
    return CC_OK;
}

static enum cc_err read_app_list(void *impl, const struct cc_app_query *q,
                                 struct cc_application **out, size_t *n, int64_t *total,
                                 struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = list_on(c, q, out, n, total, err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_app_history(void *impl, int64_t application_id,
                                    struct cc_app_transition **out, size_t *n,
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
    cc_pg_i64(&p, CC_APP_HISTORY_MAX);
    PGresult *r = cc_pg_exec(c, sql_history, &p, "reading an application's history", err);
    enum cc_err rc = r ? CC_OK : code_of(err);
    if (r) {
        struct cc_app_transition *items = cc_calloc(CC_APP_HISTORY_MAX, sizeof *items);
        int rows = PQntuples(r);
        for (int i = 0; i < rows && *n < CC_APP_HISTORY_MAX; i++) {
            struct cc_app_transition *t = &items[(*n)++];
            t->id = cc_pg_get_i64(r, i, 0);
            t->application_id = cc_pg_get_i64(r, i, 1);
            t->at = cc_pg_get_i64(r, i, 2);
            cc_pg_get_text(r, i, 3, t->actor, sizeof t->actor);
            cc_pg_get_text(r, i, 4, t->from_state, sizeof t->from_state);
            cc_pg_get_text(r, i, 5, t->to_state, sizeof t->to_state);
            cc_pg_get_text(r, i, 6, t->reason, sizeof t->reason);
        }
        *out = items;
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

/* The open applications naming a contact, on connection c. */
static enum cc_err open_for_contact(struct pgc *c, int64_t account_id, int64_t contact_id,
                                    size_t max, struct cc_application **out, size_t *n,
                                    int64_t *total, struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, contact_id);
    /* max 0 still needs a row for the count */
    cc_pg_i64(&p, max ? (int64_t)max : 1);
    PGresult *r = cc_pg_exec(c, sql_open_list, &p, "listing a contact's applications", err);
    if (!r)
        return code_of(err);
    int rows = PQntuples(r);
    struct cc_application *items = max && rows ? cc_calloc(max, sizeof *items) : NULL;
    for (int i = 0; i < rows; i++) {
        *total = cc_pg_get_i64(r, i, 11);
        if (*n < max)
            read_row(r, i, &items[(*n)++]);
    }
    PQclear(r);
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
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = open_for_contact(c, account_id, contact_id, max, out, n, total, err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err tx_app_reassign_open(void *tx, int64_t account_id, int64_t from, int64_t to,
                                        const char *actor, const char *reason, int64_t now,
                                        int64_t *n, struct cc_error *err)
{
    struct pgc *c = tx;
    *n = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, from);
    cc_pg_i64(&p, now);
    cc_pg_text(&p, actor);
    cc_pg_text(&p, reason ? reason : "");
    enum cc_err rc =
        cc_pg_do(c, sql_reassign_history, &p, "recording a contact change in history", err);
    if (rc)
        return rc;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, from);
    cc_pg_i64(&p, to);
    cc_pg_i64(&p, now);
    /* the command's row count: SQLite's sqlite3_changes() */
    return cc_pg_do_n(c, sql_reassign, &p, n, "reassigning applications", err);
}

static enum cc_err tx_app_idem_get(void *tx, int64_t account_id, const char *key, char *hash,
                                   int64_t *application_id, struct cc_error *err)
{
    return cc_pg_idem_get(tx, sql_idem_get, account_id, key, hash, application_id, err);
}

static enum cc_err tx_app_idem_put(void *tx, int64_t account_id, const char *key,
                                   const char *hash, int64_t application_id, int64_t now,
                                   struct cc_error *err)
{
    return cc_pg_idem_put(tx, sql_idem_put, account_id, key, hash, application_id, now, err);
}

const struct cc_store_application_ops cc_pg_application_ops = {
    CC_STORE_APPLICATION_OPS(CC_STORE_OP_INIT)};
