/*
 * pg_conn.c — the PostgreSQL backend's statements on a connection: the
 * parameters, each connection's prepared statements (found by the address
 * of their static SQL text), result columns, and the mapping of
 * PostgreSQL's errors (by SQLSTATE) to the store's codes.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store/pg_int.h"
#include "util/util.h"

/* ---- parameters ------------------------------------------------------------ */
void cc_pg_params(struct pgp *p)
{
    p->n = 0;
}

static int slot(struct pgp *p)
{
    /* A statement with more parameters than the array is a programming
     * error caught by the first test that runs it. */
    if (p->n >= CC_PG_PARAMS_MAX)
        abort();
    int i = p->n++;
    p->len[i] = 0;
    p->fmt[i] = 0;
    p->v[i] = NULL;
    return i;
}

void cc_pg_i64(struct pgp *p, int64_t v)
{
    int i = slot(p);
    snprintf(p->num[i], sizeof p->num[i], "%" PRId64, v);
    p->v[i] = p->num[i];
}

void cc_pg_opt_i64(struct pgp *p, int64_t v)
{
    if (v)
        cc_pg_i64(p, v);
    else
        cc_pg_null(p);
}

void cc_pg_text(struct pgp *p, const char *s)
{
    int i = slot(p);
    p->v[i] = s;
}

void cc_pg_blob(struct pgp *p, const void *data, size_t len)
{
    int i = slot(p);
    /* An empty bytea is not NULL: libpq needs a non-NULL pointer for it. */
    p->v[i] = data ? (const char *)data : (len ? NULL : "");
    p->len[i] = (int)len;
    p->fmt[i] = 1;
}

void cc_pg_null(struct pgp *p)
{
    slot(p);
}

/* ---- errors ------------------------------------------------------------------- */
static int state_is(const struct pgc *c, const char *state)
{
    return strcmp(c->sqlstate, state) == 0;
}

int cc_pg_unique_violation(const struct pgc *c, const char **constraint)
{
    if (constraint)
        *constraint = c->constraint;
    return state_is(c, "23505");
}

enum cc_err cc_pg_error(struct cc_error *err, struct pgc *c, const PGresult *r, const char *what)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!msg)
        msg = PQerrorMessage(c->conn);
    cc_strlcpy(c->sqlstate, state ? state : "", sizeof c->sqlstate);
    cc_strlcpy(c->constraint, cons ? cons : "", sizeof c->constraint);
    cc_strlcpy(c->message, msg ? msg : "", sizeof c->message);
    c->message[strcspn(c->message, "\n")] = '\0';
    if (PQstatus(c->conn) != CONNECTION_OK || !state || !strncmp(c->sqlstate, "08", 2) ||
        !strncmp(c->sqlstate, "57P", 3)) {
        c->broken = 1;
        c->retry = 0;
        return cc_error_set(err, CC_ERR_UNAVAILABLE, NULL,
                            "The database cannot be reached; try again shortly.");
    }
    if (state_is(c, "40001") || state_is(c, "40P01")) {
        c->retry = 1;
        return cc_error_set(err, CC_ERR_UNAVAILABLE, NULL,
                            "database error in %s: %s", what, c->message);
    }
    if (state_is(c, "53100") || state_is(c, "53200")) {
        cc_health_set("store", 0, "the database server is out of disk space or memory");
        return cc_error_set(err, CC_ERR_STORAGE_FULL, NULL,
                            "The server's disk is full; changes fail until its operator frees "
                            "space.");
    }
    if (state_is(c, "XX001") || state_is(c, "XX002"))
        return cc_error_set(err, CC_ERR_STORAGE_CORRUPT, NULL,
                            "The database is damaged; the server accepts no changes until its "
                            "operator repairs it.");
    /* Text that is not UTF-8 (a header, a query parameter) cannot match any
     * stored value, and PostgreSQL refuses it outright. */
    if (state_is(c, "22021"))
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, NULL, "A value is not valid UTF-8.");
    if (state_is(c, "55P03") || state_is(c, "57014"))
        return cc_error_set(err, CC_ERR_UNAVAILABLE, NULL, "database error in %s: %s", what,
                            c->message);
    return cc_error_set(err, CC_ERR_STORE, NULL, "database error in %s: %s", what, c->message);
}

/* ---- statements ------------------------------------------------------------- */
/* The name of c's prepared statement for sql, preparing it on first use;
 * NULL (with *err set) when it does not prepare. */
static const char *prepared(struct pgc *c, const char *sql, int nparams, struct cc_error *err)
{
    size_t h = ((uintptr_t)sql >> 4) % CC_PG_STMT_SLOTS;
    for (size_t k = 0; k < CC_PG_STMT_SLOTS; k++) {
        size_t i = (h + k) % CC_PG_STMT_SLOTS;
        if (c->st[i].sql == sql)
            return c->st[i].name;
        if (c->st[i].sql)
            continue;
        char name[12];
        snprintf(name, sizeof name, "s%zu", i);
        PGresult *r = PQprepare(c->conn, name, sql, nparams, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            cc_pg_error(err, c, r, "preparing a statement");
            PQclear(r);
            return NULL;
        }
        PQclear(r);
        c->st[i].sql = sql;
        memcpy(c->st[i].name, name, sizeof name);
        return c->st[i].name;
    }
    cc_error_set(err, CC_ERR_INTERNAL, NULL, "too many prepared statements");
    return NULL;
}

PGresult *cc_pg_exec(struct pgc *c, const char *sql, const struct pgp *p, const char *what,
                     struct cc_error *err)
{
    if (c->hold) { /* a held read (pg_int.h) */
        if (strncmp(sql, "SELECT", 6) != 0)
            cc_pg_hold_end(c);
        else if (cc_pg_hold_begin(c, err))
            return NULL;
    }
    int n = p ? p->n : 0;
    const char *name = prepared(c, sql, n, err);
    if (!name)
        return NULL;
    PGresult *r = PQexecPrepared(c->conn, name, n, p ? p->v : NULL, p ? p->len : NULL,
                                 p ? p->fmt : NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    cc_pg_error(err, c, r, what);
    PQclear(r);
    if (c->hold_tx) { /* the held snapshot failed with it: the next read begins another */
        c->in_tx = c->hold_tx = 0;
        if (!c->broken)
            PQclear(PQexec(c->conn, "ROLLBACK"));
    }
    return NULL;
}

enum cc_err cc_pg_do(struct pgc *c, const char *sql, const struct pgp *p, const char *what,
                     struct cc_error *err)
{
    PGresult *r = cc_pg_exec(c, sql, p, what, err);
    if (!r)
        return err ? err->code : CC_ERR_STORE;
    PQclear(r);
    return CC_OK;
}

enum cc_err cc_pg_do_n(struct pgc *c, const char *sql, const struct pgp *p, int64_t *changed,
                       const char *what, struct cc_error *err)
{
    *changed = 0;
    PGresult *r = cc_pg_exec(c, sql, p, what, err);
    if (!r)
        return err ? err->code : CC_ERR_STORE;
    *changed = cc_pg_changes(r);
    PQclear(r);
    return CC_OK;
}

enum cc_err cc_pg_one_i64(struct pgc *c, const char *sql, const struct pgp *p, int64_t *out,
                          const char *what, struct cc_error *err)
{
    PGresult *r = cc_pg_exec(c, sql, p, what, err);
    if (!r)
        return err ? err->code : CC_ERR_STORE;
    enum cc_err rc = PQntuples(r) > 0 ? CC_OK : CC_ERR_NOT_FOUND;
    *out = rc ? 0 : cc_pg_get_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

enum cc_err cc_pg_simple(struct pgc *c, const char *sql, const char *what, struct cc_error *err)
{
    PGresult *r = PQexec(c->conn, sql);
    ExecStatusType st = PQresultStatus(r);
    enum cc_err rc = CC_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = cc_pg_error(err, c, r, what);
    PQclear(r);
    return rc;
}

int64_t cc_pg_changes(PGresult *r)
{
    const char *t = PQcmdTuples(r);
    return t && *t ? strtoll(t, NULL, 10) : 0;
}

/* ---- result columns ------------------------------------------------------- */
int cc_pg_isnull(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col);
}

int64_t cc_pg_get_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    const char *t = PQgetvalue(r, row, col);
    /* Booleans read as integers too (t/f). */
    if (t[0] == 't' && !t[1])
        return 1;
    if (t[0] == 'f' && !t[1])
        return 0;
    return strtoll(t, NULL, 10);
}

const char *cc_pg_get_str(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? "" : PQgetvalue(r, row, col);
}

void cc_pg_get_text(const PGresult *r, int row, int col, char *out, size_t outsz)
{
    cc_strlcpy(out, cc_pg_get_str(r, row, col), outsz);
}

/* bytea in the text format: libpq's own decoding. */
static unsigned char *unescape(const PGresult *r, int row, int col, size_t *len)
{
    *len = 0;
    if (PQgetisnull(r, row, col))
        return NULL;
    return PQunescapeBytea((const unsigned char *)PQgetvalue(r, row, col), len);
}

void cc_pg_get_blob(const PGresult *r, int row, int col, uint8_t *out, size_t outsz,
                    size_t *len)
{
    size_t n;
    unsigned char *b = unescape(r, row, col, &n);
    if (!b || n > outsz)
        n = 0;
    if (n)
        memcpy(out, b, n);
    if (b) {
        OPENSSL_cleanse(b, n);
        PQfreemem(b);
    }
    *len = n;
}

uint8_t *cc_pg_get_blob_dup(const PGresult *r, int row, int col, size_t *len)
{
    size_t n;
    unsigned char *b = unescape(r, row, col, &n);
    *len = 0;
    if (!b)
        return NULL;
    uint8_t *out = cc_malloc(n ? n : 1);
    memcpy(out, b, n);
    OPENSSL_cleanse(b, n);
    PQfreemem(b);
    *len = n;
    return out;
}

/* ---- small shared reads and writes ---------------------------------------------- */
static const char sql_meta_get[] = "SELECT value FROM meta WHERE name = $1";

enum cc_err cc_pg_meta_read(struct pgc *c, const char *name, char *out, size_t outsz,
                            struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, name);
    PGresult *r = cc_pg_exec(c, sql_meta_get, &p, "reading a setting", err);
    if (!r)
        return err->code;
    enum cc_err rc = PQntuples(r) ? CC_OK : CC_ERR_NOT_FOUND;
    if (!rc)
        cc_pg_get_text(r, 0, 0, out, outsz);
    PQclear(r);
    return rc;
}

enum cc_err cc_pg_idem_get(struct pgc *c, const char *sql, int64_t account_id, const char *key,
                           char *hash, int64_t *id, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, key);
    PGresult *r = cc_pg_exec(c, sql, &p, "reading an idempotency key", err);
    if (!r)
        return err->code;
    enum cc_err rc = PQntuples(r) ? CC_OK : CC_ERR_NOT_FOUND;
    if (!rc) {
        cc_pg_get_text(r, 0, 0, hash, 65);
        *id = cc_pg_get_i64(r, 0, 1);
    }
    PQclear(r);
    return rc;
}

enum cc_err cc_pg_idem_put(struct pgc *c, const char *sql, int64_t account_id, const char *key,
                           const char *hash, int64_t id, int64_t now, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, key);
    cc_pg_text(&p, hash);
    cc_pg_i64(&p, id);
    cc_pg_i64(&p, now);
    return cc_pg_do(c, sql, &p, "saving an idempotency key", err);
}
