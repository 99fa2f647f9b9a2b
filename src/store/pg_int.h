/*
 * pg_int.h — shared by the files of the PostgreSQL backend (libpq): the
 * store's state and its pool of connections, a connection with its cache
 * of prepared statements, statement parameters, result columns, and the
 * mapping of PostgreSQL's errors to the store's codes.
 *
 * A pg_<aggregate>.c file implements one aggregate's operations the way its
 * sqlite_<aggregate>.c does, statement for statement:
 *
 *     static const char sql_get[] = "SELECT title FROM templates WHERE id = $1";
 *
 *     struct pgc *c = cc_pg_acquire(impl, err);     (a read operation)
 *     if (!c)
 *         return CC_ERR_STORE;
 *     struct pgp p;
 *     cc_pg_params(&p);
 *     cc_pg_i64(&p, id);
 *     PGresult *r = cc_pg_exec(c, sql_get, &p, "reading a template", err);
 *     if (r && PQntuples(r) == 1)
 *         cc_pg_get_text(r, 0, 0, out, outsz);
 *     ...
 *     PQclear(r);
 *     cc_pg_release(c);
 *
 * A tx operation gets its connection as the transaction (struct pgc *c = tx)
 * and never acquires or releases it. Inside a transaction (cc_store_write or
 * cc_store_read) the calling thread's acquire returns that transaction's
 * connection, so a read operation called from a write function sees the
 * write's own rows and never waits for a second connection.
 */
#ifndef CC_PG_INT_H
#define CC_PG_INT_H

#include <pthread.h>

#include <libpq-fe.h>

#include "store/store_int.h"

/* Statements a connection keeps prepared, at the most (by the address of
 * their static SQL text, as the SQLite backend does). */
#define CC_PG_STMT_SLOTS 512
/* Parameters of one statement, at the most. */
#define CC_PG_PARAMS_MAX 32
/* A write function is run this many times at the most when PostgreSQL
 * reports a serialization failure or a deadlock (40001, 40P01). */
#define CC_PG_WRITE_TRIES 12

struct pg;
struct pg_job;

/* One connection of the pool. */
struct pgc {
    PGconn *conn;
    struct pg *owner;
    struct pgc *next_free;
    int depth;                  /* acquisitions by its thread that are not released yet */
    int in_tx;                  /* inside cc_store_write / cc_store_read */
    int retry;                  /* the transaction hit 40001 / 40P01: run it again */
    int broken;                 /* the connection failed: reset before its next use */
    int hold;                   /* taken by a held read (cc_store_read_hold): kept to its end */
    int hold_tx;                /* the held read's snapshot is open (in_tx is 1 with it) */
    struct {
        const char *sql;        /* the key: the statement's static SQL text */
        char name[12];
    } st[CC_PG_STMT_SLOTS];
    /* The last error: its SQLSTATE, constraint and message. */
    char sqlstate[6];
    char constraint[64];
    char message[256];
    /* The key generation this connection last read (pg_accounts.c). */
    int64_t key_generation;
    int key_generation_known;
};

/* Singleton jobs this instance may lead, at the most. */
#define CC_PG_LEADS_MAX 8

/* A singleton job's advisory lock: held on a connection of its own, outside
 * the pool, for as long as this instance leads the job. */
struct pg_lead {
    char job[32];
    PGconn *conn;
    int held;
};

/* The PostgreSQL store: behind struct cc_store's impl. */
struct pg {
    char *conninfo;             /* the URL, as libpq takes it */
    char *shown;                /* the URL without its password, for messages */
    int size;                   /* connections at the most */
    int acquire_ms;             /* waiting for a free connection, at the most */
    pthread_mutex_t mu;
    pthread_cond_t freed;
    struct pgc **all;           /* size slots; NULL until opened */
    int nopen;
    struct pgc *free;
    pthread_key_t held;         /* the calling thread's acquired connection */
    pthread_key_t hold;         /* non-NULL while the calling thread holds its reads */
    pthread_mutex_t lead_mu;
    struct pg_lead leads[CC_PG_LEADS_MAX];
    /* The batching writer of the writes that queue (pg.c): started on first
     * use, stopped by close. */
    pthread_mutex_t wmu;
    pthread_cond_t wwork, wdone;
    struct pg_job *whead, *wtail;
    pthread_t writer;
    int writer_state;           /* 0 not started, 1 running, -1 could not start */
    int wstopping;
};

/* ---- parameters ------------------------------------------------------------ */
struct pgp {
    int n;
    const char *v[CC_PG_PARAMS_MAX];
    int len[CC_PG_PARAMS_MAX];
    int fmt[CC_PG_PARAMS_MAX];
    char num[CC_PG_PARAMS_MAX][24];
};
void cc_pg_params(struct pgp *p);
void cc_pg_i64(struct pgp *p, int64_t v);
/* text; NULL is SQL NULL. */
void cc_pg_text(struct pgp *p, const char *s);
/* bytea, sent in binary; NULL or len 0 with has == 0 is SQL NULL. */
void cc_pg_blob(struct pgp *p, const void *data, size_t len);
void cc_pg_null(struct pgp *p);
/* An optional integer: SQL NULL when v is 0 (the SQLite files' bind_opt_int). */
void cc_pg_opt_i64(struct pgp *p, int64_t v);

/* ---- statements ------------------------------------------------------------- */
/* Runs sql (a static string: its address is the key of the connection's
 * prepared statement) with p (NULL: none). The result (rows or a command's
 * status) is the caller's to PQclear; NULL, with *err set by cc_pg_error,
 * when the statement failed. */
PGresult *cc_pg_exec(struct pgc *c, const char *sql, const struct pgp *p, const char *what,
                     struct cc_error *err);
/* cc_pg_exec for a statement whose result is not needed. */
enum cc_err cc_pg_do(struct pgc *c, const char *sql, const struct pgp *p, const char *what,
                     struct cc_error *err);
/* Like cc_pg_do; *changed is the number of rows the statement changed. */
enum cc_err cc_pg_do_n(struct pgc *c, const char *sql, const struct pgp *p, int64_t *changed,
                       const char *what, struct cc_error *err);
/* The first column of the only row as an integer (a count, a RETURNING id)
 * into *out; CC_ERR_NOT_FOUND (err untouched) when there is no row. */
enum cc_err cc_pg_one_i64(struct pgc *c, const char *sql, const struct pgp *p, int64_t *out,
                          const char *what, struct cc_error *err);
/* Runs SQL text (several statements, no parameters, not prepared): the
 * migrations and the transaction statements. */
enum cc_err cc_pg_simple(struct pgc *c, const char *sql, const char *what, struct cc_error *err);
/* The rows a command changed (INSERT/UPDATE/DELETE). */
int64_t cc_pg_changes(PGresult *r);

/* ---- result columns ------------------------------------------------------- */
int cc_pg_isnull(const PGresult *r, int row, int col);
int64_t cc_pg_get_i64(const PGresult *r, int row, int col);
/* The text of a column (NULL: ""), valid until PQclear. */
const char *cc_pg_get_str(const PGresult *r, int row, int col);
void cc_pg_get_text(const PGresult *r, int row, int col, char *out, size_t outsz);
/* A bytea column into out (outsz bytes); *len 0 when it is NULL or too long. */
void cc_pg_get_blob(const PGresult *r, int row, int col, uint8_t *out, size_t outsz,
                    size_t *len);
/* A bytea column, allocated (cc_malloc: the caller's to cc_free); NULL and
 * *len 0 when it is NULL. */
uint8_t *cc_pg_get_blob_dup(const PGresult *r, int row, int col, size_t *len);

/* ---- errors ------------------------------------------------------------------- */
/* Sets *err from the failed result r (or the connection's error when r is
 * NULL), remembers its SQLSTATE and constraint on c and returns the code:
 * CC_ERR_UNAVAILABLE for a lost connection, a serialization failure or a
 * deadlock (which also mark the transaction to be run again),
 * CC_ERR_STORAGE_FULL for a full disk, CC_ERR_STORAGE_CORRUPT for damaged
 * data, CC_ERR_STORE otherwise. */
enum cc_err cc_pg_error(struct cc_error *err, struct pgc *c, const PGresult *r, const char *what);
/* Whether c's last error was a unique violation; *constraint (may be NULL)
 * is the name of the constraint or index it broke. */
int cc_pg_unique_violation(const struct pgc *c, const char **constraint);

/* ---- the pool (pg.c) ----------------------------------------------------------- */
/* A connection for the calling thread: its transaction's when it is inside
 * one, else one from the pool (opened on first use, waited for when all are
 * busy). NULL with *err set when none can be had. impl: struct pg. */
struct pgc *cc_pg_acquire(void *impl, struct cc_error *err);
/* Gives back what cc_pg_acquire gave (NULL is fine). */
void cc_pg_release(struct pgc *c);

/* A held read (cc_store_read_hold, a GET's reads): the first connection
 * the thread acquires in it stays the thread's to the hold's end, and its
 * reads share one REPEATABLE READ READ ONLY transaction, begun by the first
 * of them and committed at the end, instead of a transaction (and its two
 * round trips) each. A write ends that snapshot first, then runs as any
 * write does (queued for the writer; on this connection when it is called
 * inside a read); a statement other than a SELECT outside a transaction
 * ends it too, and runs as it ran before; a failed statement rolls it
 * back. The next read begins another.
 *
 * cc_pg_hold_begin begins c's held snapshot if c has one to begin (then
 * c->in_tx is 1): a read of several statements calls it before it looks at
 * c->in_tx to decide whether to begin its own. */
enum cc_err cc_pg_hold_begin(struct pgc *c, struct cc_error *err);
/* Whether c is in a held read whose snapshot is not begun yet. */
int cc_pg_hold_pending(const struct pgc *c);
/* Begins c's held snapshot and runs select (a SELECT without parameters)
 * in the same round trip; its rows, or NULL with *err set. Only when
 * cc_pg_hold_pending(c). */
PGresult *cc_pg_hold_begin_with(struct pgc *c, const char *select, const char *what,
                                struct cc_error *err);
/* A read of several statements in one snapshot: the held one, the
 * caller's transaction, or else a REPEATABLE READ READ ONLY transaction
 * of its own (*own = 1), which cc_pg_snapshot_end commits. */
enum cc_err cc_pg_snapshot_begin(struct pgc *c, int *own, struct cc_error *err);
void cc_pg_snapshot_end(struct pgc *c, int own);
/* Commits c's held snapshot, if it is open. */
void cc_pg_hold_end(struct pgc *c);

/* The meta row name's value into out on connection c; CC_ERR_NOT_FOUND when
 * there is none. */
enum cc_err cc_pg_meta_read(struct pgc *c, const char *name, char *out, size_t outsz,
                            struct cc_error *err);
/* Idempotency records: cc_sq_idem_get / cc_sq_idem_put, with sql's $1 the
 * account and $2 the key (get: row (hash, id)); put: $1..$5 account, key,
 * hash, id, now. */
enum cc_err cc_pg_idem_get(struct pgc *c, const char *sql, int64_t account_id, const char *key,
                           char *hash, int64_t *id, struct cc_error *err);
enum cc_err cc_pg_idem_put(struct pgc *c, const char *sql, int64_t account_id, const char *key,
                           const char *hash, int64_t id, int64_t now, struct cc_error *err);

/* Like cc_store_write, in READ COMMITTED: for fn whose every statement
 * locks what it reads (SELECT ... FOR UPDATE, INSERT ... ON CONFLICT), so
 * that a concurrent writer is waited for instead of failing the transaction
 * (pg.c). */
enum cc_err cc_pg_write_committed(struct cc_store *s, cc_tx_fn fn, void *arg,
                                  struct cc_error *err);
/* pg_shared.c: store.h's cc_store_state_update and cc_store_nonce_take. */
enum cc_err cc_pg_state_update(struct cc_store *st, const char *name, int64_t now_ms,
                               cc_state_fn fn, void *ctx, struct cc_error *err);
enum cc_err cc_pg_nonce_take(struct cc_store *st, const char *scope, const char *nonce,
                             int64_t expires_ms, int64_t now_ms, int64_t per_key,
                             int *verdict, int64_t *retry_ms, struct cc_error *err);

/* ---- pg_migrate.c ---------------------------------------------------------------- */
enum cc_err cc_pg_migrate(void *impl, struct cc_error *err);
/* The schema version this binary knows for PostgreSQL. */
int cc_pg_schema_version(void);
/* Whether the database on c is certcontacts' own (or empty) and not newer
 * than this binary: CC_OK, else the refusal. */
enum cc_err cc_pg_identify(struct pgc *c, const char *shown, struct cc_error *err);

/* ---- the tables of operations ------------------------------------------------------ */
extern const struct cc_store_ops cc_pg_ops;
extern const struct cc_store_account_ops cc_pg_account_ops;
extern const struct cc_store_contact_ops cc_pg_contact_ops;
extern const struct cc_store_verif_ops cc_pg_verif_ops;
extern const struct cc_store_outbox_ops cc_pg_outbox_ops;
extern const struct cc_store_template_ops cc_pg_template_ops;
extern const struct cc_store_sealed_ops cc_pg_sealed_ops;
extern const struct cc_store_user_ops cc_pg_user_ops;
extern const struct cc_store_audit_ops cc_pg_audit_ops;
extern const struct cc_store_application_ops cc_pg_application_ops;
extern const struct cc_store_certificate_ops cc_pg_certificate_ops;
extern const struct cc_store_reminder_ops cc_pg_reminder_ops;
extern const struct cc_store_endpoint_ops cc_pg_endpoint_ops;
extern const struct cc_store_acme_ops cc_pg_acme_ops;
extern const struct cc_store_stats_ops cc_pg_stats_ops;
extern const struct cc_store_import_ops cc_pg_import_ops;

#endif
