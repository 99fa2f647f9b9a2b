/*
 * sqlite_int.h — shared by the files of the SQLite backend: the store's
 * state, a connection with its cache of prepared statements, the helpers
 * around it, the writer, and each aggregate's table of operations.
 */
#ifndef CC_SQLITE_INT_H
#define CC_SQLITE_INT_H

#include <pthread.h>

#include <sqlite3.h>

#include "store/store_int.h"

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ACCOUNT_GET,
    ST_ACCOUNT_INSERT,
    ST_KEY_GET,
    ST_KEY_LIST,
    ST_KEY_INSERT,
    ST_KEY_DISABLE,
    ST_CONTACT_GET,
    ST_CONTACT_COUNT,
    ST_CONTACT_INSERT,
    ST_CONTACT_UPDATE,
    ST_CONTACT_DELETE,
    ST_WEBHOOKS_GET,
    ST_WEBHOOKS_DELETE,
    ST_WEBHOOK_INSERT,
    ST_LIST_ALL,
    ST_LIST_SHORT_COUNT,
    ST_LIST_SHORT,
    ST_LIST_FTS_COUNT,
    ST_LIST_FTS,
    ST_IDEM_GET,
    ST_IDEM_PUT,
    ST_AUDIT,
    ST_PING,
    /* sqlite_verifications.c */
    ST_VERIF_INSERT,
    ST_VERIF_GET,
    ST_VERIF_LATEST,
    ST_VERIF_UPDATE,
    ST_VERIF_SUPERSEDE,
    ST_VERIF_TARGET_COUNTS,
    ST_VERIF_ACCOUNT_COUNTS,
    ST_VERIF_CONFIRMED_SINCE,
    ST_CONTACT_VERIFIED_EMAIL,
    ST_CONTACT_VERIFIED_MOBILE,
    ST_EVENT_INSERT,
    ST_EVENT_GET,
    ST_EVENT_SKIPPED,
    ST_HEALTH_WEBHOOK,
    ST_HEALTH_EMAIL,
    ST_HEALTH_MOBILE,
    ST_NOTIF_INSERT,
    ST_NOTIF_CLAIM,
    ST_NOTIF_LEASE,
    ST_NOTIF_RECORD,
    ST_ATTEMPT_INSERT,
    ST_NOTIF_CANCEL_CONTACT,
    ST_NOTIF_RESEND,
    ST_NOTIF_GET,
    ST_NOTIF_LIST,
    ST_NOTIF_COUNT,
    ST_ATTEMPTS_LIST,
    ST_NOTIF_NEXT_DUE,
    /* sqlite_templates.c */
    ST_TEMPLATE_PUT,
    ST_TEMPLATE_DELETE,
    ST_TEMPLATE_GET,
    ST_TEMPLATE_LIST,
    ST_NOTIF_CLAIM_DEST,
    ST_NOTIF_ROBOT_URL,
    ST_DATA_VERSION,
    ST_KEY_GENERATION,
    /* sqlite_users.c */
    ST_USER_GET,
    ST_USER_BY_EMAIL,
    ST_USER_LIST,
    ST_SESSION_GET,
    ST_FAILURES_GET,
    ST_USER_INSERT,
    ST_USER_UPDATE,
    ST_USER_DELETE,
    ST_SESSION_INSERT,
    ST_SESSION_DELETE,
    ST_SESSION_DELETE_USER,
    ST_SESSION_TOUCH,
    ST_FAILURE_PUT,
    ST_FAILURE_CLEAR,
    ST_COUNT
};

struct conn;

/* A write waiting for the writer thread. */
struct job {
    cc_tx_fn fn;
    void *arg;
    struct cc_error *err;
    enum cc_err rc;
    int done;
    pthread_cond_t cv;          /* its waiter sleeps here: woken alone */
    struct job *next;
};

/* The SQLite store: behind struct cc_store's impl. */
struct sq {
    char *path;
    int sync_full;
    int busy_ms;
    int max_batch;
    pthread_key_t tls;          /* the calling thread's read connection */
    pthread_mutex_t conns_mu;
    struct conn *conns;         /* every open read connection */

    struct conn *wconn;         /* the writer's connection */
    pthread_t writer;
    int writer_started;
    int writer_inited;          /* mu and work exist */
    pthread_mutex_t mu;
    pthread_cond_t work;        /* jobs were queued, or stopping */
    struct job *head, *tail;
    int stopping;
};

/* One connection and its statement cache. */
struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    struct sq *owner;
    struct conn *next, *prev; /* in owner->conns */
    /* The key generation this connection last read, and PRAGMA
     * data_version when it did (sqlite_accounts.c). */
    int64_t seen_data_version;
    int64_t key_generation;
    int key_generation_known;
};

/* ---- sqlite_conn.c: connections and their statements ---------------------- */
/* Opens a connection to q's file: the writer's (writer 1) or a read-only one.
 * *out is owned by the caller: cc_sq_conn_close(). */
enum cc_err cc_sq_conn_open(struct sq *q, int writer, struct conn **out, struct cc_error *err);
/* Finalizes c's statements and closes it; NULL is fine. */
void cc_sq_conn_close(struct conn *c);
/* Sets up q's per-thread read connections; cc_sq_conns_cleanup closes them all. */
void cc_sq_conns_init(struct sq *q);
void cc_sq_conns_cleanup(struct sq *q);
/* The calling thread's read connection, opened on first use and owned by q;
 * NULL (with *err set) when it does not open. impl: struct sq. */
struct conn *cc_sq_rconn(void *impl, struct cc_error *err);
/* Closes the calling thread's read connection, if it has one. */
void cc_sq_thread_done(void *impl);
/* sqlite3_exec without callback: SQLITE_OK or the error code. */
int cc_sq_exec(sqlite3 *db, const char *sql);
/* The statement id of connection c, prepared from sql on first use and
 * kept; NULL (with *err set) when it does not prepare. */
sqlite3_stmt *cc_sq_stmt(struct conn *c, enum stmt_id id, const char *sql, struct cc_error *err);
/* Resets s and clears its bindings, ready for the next use. */
void cc_sq_done(sqlite3_stmt *s);
/* Steps s to completion and resets it. */
enum cc_err cc_sq_step_done(struct conn *c, sqlite3_stmt *s, const char *what,
                            struct cc_error *err);
/* Sets *err from db's last error (CC_ERR_UNAVAILABLE when busy) and returns its code. */
enum cc_err cc_sq_db_error(struct cc_error *err, sqlite3 *db, const char *what);
void cc_sq_col_text(sqlite3_stmt *s, int i, char *out, size_t outsz);
/* A blob column into out (outsz bytes); *len 0 when it is NULL or too long. */
void cc_sq_col_blob(sqlite3_stmt *s, int i, uint8_t *out, size_t outsz, size_t *len);

/* ---- sqlite_writer.c: the one writer thread --------------------------------- */
/* Starts the writer on q->wconn; cc_sq_writer_stop runs what is queued and
 * stops it (fine when it never started). */
enum cc_err cc_sq_writer_start(struct sq *q, struct cc_error *err);
void cc_sq_writer_stop(struct sq *q);
/* The store's write: see cc_store_write. */
enum cc_err cc_sq_write(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err);

/* ---- sqlite_migrate.c -------------------------------------------------------- */
enum cc_err cc_sq_migrate(void *impl, struct cc_error *err);

/* ---- the tables of operations: sqlite.c, and one per aggregate's file ------- */
extern const struct cc_store_ops cc_sq_ops;
extern const struct cc_store_account_ops cc_sq_account_ops;
extern const struct cc_store_contact_ops cc_sq_contact_ops;
extern const struct cc_store_verif_ops cc_sq_verif_ops;
extern const struct cc_store_outbox_ops cc_sq_outbox_ops;
extern const struct cc_store_template_ops cc_sq_template_ops;
extern const struct cc_store_user_ops cc_sq_user_ops;
extern const struct cc_store_audit_ops cc_sq_audit_ops;

#endif
