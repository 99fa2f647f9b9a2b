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

/* Prepared statements a connection keeps, at the most: each is found by the
 * address of its SQL text (a static string of the file that runs it), so a
 * new statement needs no registration outside its own file. */
#define CC_SQ_STMT_SLOTS 256

/* PRAGMA application_id of a certcontacts database ("CCnt"): stamped by the
 * migrations, checked before the file is opened for writing (sqlite.c). */
#define CC_SQ_APPLICATION_ID 0x43436e74

/* The writer checkpoints the WAL into the database once it holds this many
 * pages (16 MB), not SQLite's default 1 000: a page that a run of writes
 * changes again and again (an index's last leaf, the search index's
 * segments) is copied and fsynced into the database once per checkpoint,
 * and the checkpoint's own fsyncs come a quarter as often. */
#define CC_SQ_WAL_CHECKPOINT_PAGES "4000"

struct conn;

/* A write waiting for the writer thread. */
struct job {
    cc_tx_fn fn;
    void *arg;
    struct cc_error *err;
    enum cc_err rc;
    int done;
    int relaxed;                /* CC_STORE_WRITE_RELAXED: needs no fsync of its own */
    int checks_first;           /* CC_STORE_WRITE_CHECKS_FIRST: runs without a savepoint */
    pthread_cond_t cv;          /* its waiter sleeps here: woken alone */
    cc_write_done_fn tell;      /* a queued write (cc_sq_write_queued): no waiter, told by this */
    void *tell_arg;
    struct job *next;
    struct job *relay[2];       /* the writes of its batch its waiter wakes */
};

/* The SQLite store: behind struct cc_store's impl. */
struct sq {
    char *path;
    char *file;                 /* SQLite's full name of the file: the registry's key */
    struct sq *next_open;       /* in the registry of open stores (sqlite.c) */
    int create;                 /* the file did not exist: the writer creates it */
    int quick_check_s;          /* the start-up quick_check's bound; 0: skipped */
    int damaged;                /* corruption was seen: writes are refused (atomic) */
    int full;                   /* a write found the disk full (atomic) */
    int sync_full;
    int sync_now_normal;        /* the writer connection is at synchronous=NORMAL now */
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
    int in_batch;               /* the writer runs a batch: only its own COMMIT commits */
    int committing;
    /* cc_mono_ms() by which contacts_fts_queue is applied if no write or
     * search asks first; 0: nothing queued (the writer thread's own) */
    int64_t index_due;
    int index_failing;          /* the last index run failed (the writer thread's own) */
    /* The read pin (sqlite_writer.c): a connection of the writer thread's
     * own that holds a read transaction while the writer waits for work. */
    struct conn *pin;
    int pinned;                 /* the writer thread's; atomic for tests that wait for it */
    int pin_failed;             /* it could not be opened: not tried again */
    int read_seen;              /* a read began since the pin was last looked at (atomic) */
};

/* One connection and its statement cache. */
struct conn {
    sqlite3 *db;
    struct {
        const char *sql;          /* the key: the statement's static SQL text */
        sqlite3_stmt *st;
    } st[CC_SQ_STMT_SLOTS];
    struct sq *owner;
    uint64_t serial;          /* unique among the process's connections: a read mark's source */
    struct conn *next, *prev; /* in owner->conns */
    /* The key generation this connection last read, and PRAGMA
     * data_version when it did (sqlite_accounts.c). */
    int64_t seen_data_version;
    int64_t key_generation;
    int key_generation_known;
    /* 1 while the thread holds one read transaction for a whole request
     * (cc_store_read_hold): the reads inside it begin and end nothing. */
    int held;
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
/* A group of reads on c that must see one snapshot: BEGIN (unless the
 * thread holds a read transaction already: cc_sq_read_hold) and its end. */
enum cc_err cc_sq_read_begin(struct conn *c, struct cc_error *err);
void cc_sq_read_end(struct conn *c);
/* The store's read_hold: on, one read transaction on the calling thread's
 * read connection for the reads that follow; off, its end. impl: struct sq. */
void cc_sq_read_hold(void *impl, int on);
/* Ends the calling thread's held read transaction, if any, so that what it
 * reads after a write sees that write. impl: struct sq. */
void cc_sq_read_unhold(void *impl);
/* The store's read_mark: the calling thread's read connection's serial
 * and PRAGMA data_version. impl: struct sq. */
enum cc_err cc_sq_read_mark(void *impl, struct cc_read_mark *mark, struct cc_error *err);
/* sqlite3_exec without callback: SQLITE_OK or the error code. */
int cc_sq_exec(sqlite3 *db, const char *sql);
/* The statement of connection c for sql (a static string: its address is
 * the key), prepared on first use and kept; NULL (with *err set) when it
 * does not prepare. */
sqlite3_stmt *cc_sq_stmt(struct conn *c, const char *sql, struct cc_error *err);
/* Runs sql (static: the statement cache's key), a statement without rows or
 * parameters (BEGIN, SAVEPOINT…), prepared once per connection: SQLITE_OK
 * or SQLite's error code, the message on c->db. */
int cc_sq_run(struct conn *c, const char *sql);
/* Resets s and clears its bindings, ready for the next use. */
void cc_sq_done(sqlite3_stmt *s);
/* Steps s to completion and resets it. */
enum cc_err cc_sq_step_done(struct conn *c, sqlite3_stmt *s, const char *what,
                            struct cc_error *err);
/* Steps s (bound, one row of one integer: a count), writes it to *total and
 * resets s; what names the work for an error ("counting contacts"). */
enum cc_err cc_sq_count(struct conn *c, sqlite3_stmt *s, int64_t *total, const char *what,
                        struct cc_error *err);
/* Steps s (bound, rows of one integer: an id) into ids, at most max of them,
 * *n of them read, and resets s; what names the work for an error. */
enum cc_err cc_sq_ids(struct conn *c, sqlite3_stmt *s, int64_t *ids, size_t max, size_t *n,
                      const char *what, struct cc_error *err);
/* The meta row name's value into out (outsz bytes) through connection c (a
 * read connection or a write transaction's); CC_ERR_NOT_FOUND when there is
 * none. */
enum cc_err cc_sq_meta_read(struct conn *c, const char *name, char *out, size_t outsz,
                            struct cc_error *err);
/* An idempotency record through s, a statement whose ?1 is the account and
 * ?2 the key and whose row is (hash, id): the request's hash (65 bytes) and
 * the id it made; CC_ERR_NOT_FOUND when there is none. */
enum cc_err cc_sq_idem_get(struct conn *c, sqlite3_stmt *s, int64_t account_id, const char *key,
                           char *hash, int64_t *id, struct cc_error *err);
/* Saves one through s: ?1 account, ?2 key, ?3 hash, ?4 id, ?5 now. */
enum cc_err cc_sq_idem_put(struct conn *c, sqlite3_stmt *s, int64_t account_id, const char *key,
                           const char *hash, int64_t id, int64_t now, struct cc_error *err);
/* Sets *err from db's last error and returns its code: CC_ERR_UNAVAILABLE
 * when busy; CC_ERR_STORAGE_CORRUPT when the file is damaged and
 * CC_ERR_STORAGE_FULL when its disk is full, each of which also marks the
 * store (cc_sq_mark) and fails the "store" component of the process's
 * health; CC_ERR_STORE otherwise. */
enum cc_err cc_sq_db_error(struct cc_error *err, sqlite3 *db, const char *what);
/* CC_ERR_STORAGE_CORRUPT with what a client is told about it. */
enum cc_err cc_sq_damaged_error(struct cc_error *err);
void cc_sq_col_text(sqlite3_stmt *s, int i, char *out, size_t outsz);
/* A blob column into out (outsz bytes); *len 0 when it is NULL or too long. */
void cc_sq_col_blob(sqlite3_stmt *s, int i, uint8_t *out, size_t outsz, size_t *len);

/* ---- sqlite.c: the registry of open stores ---------------------------------- */
enum cc_sq_mark { CC_SQ_DAMAGED, CC_SQ_FULL };
/* Marks every open store on db's file: damaged (writes are refused from now
 * on) or full (until a write commits again). */
void cc_sq_mark(sqlite3 *db, enum cc_sq_mark what);

/* ---- sqlite_writer.c: the one writer thread --------------------------------- */
/* Starts the writer on q->wconn; cc_sq_writer_stop runs what is queued and
 * stops it (fine when it never started). */
enum cc_err cc_sq_writer_start(struct sq *q, struct cc_error *err);
void cc_sq_writer_stop(struct sq *q);
/* The store's write: see cc_store_write. */
enum cc_err cc_sq_write(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err);
/* The store's ops->write: cc_sq_write with CC_STORE_WRITE_* flags. */
enum cc_err cc_sq_write_flags(struct cc_store *s, cc_tx_fn fn, void *arg, unsigned flags,
                              struct cc_error *err);
/* The store's ops->write_queued (cc_store_write_queued). */
enum cc_err cc_sq_write_queued(struct cc_store *s, cc_tx_fn fn, void *arg, unsigned flags,
                               cc_write_done_fn done, void *done_arg, struct cc_error *err);
/* Applies contacts_fts_queue (migration 0026) to contacts_fts and, when grams
 * is 1, to contacts_grams, then empties it; on c's open transaction. */
enum cc_err cc_sq_search_queue_apply(struct conn *c, int grams, struct cc_error *err);
/* 1 when contacts_fts_queue holds a change the search indexes have not
 * learnt, in c's open (read) transaction. */
int cc_sq_search_queue_pending(struct conn *c);
/* Has the writer apply contacts_fts_queue now and waits for it: after it, a
 * new read transaction's search indexes hold every write committed before.
 * Not on the writer thread. */
enum cc_err cc_sq_search_index_sync(struct sq *q, struct cc_error *err);

/* ---- sqlite_grams.c: the index of one- and two-character keywords ----------- */
/* The tokens of search_text text for contacts_grams: each distinct character
 * and pair of adjacent characters of a line as the hex of its UTF-8 bytes,
 * separated by spaces. Freed with cc_free(). */
char *cc_sq_grams(const char *text);
/* The FTS5 phrase ("…") of a keyword of one or two characters (as lowered by
 * cc_store_keyword) in contacts_grams. */
void cc_sq_gram_phrase(const char *kw, char *out, size_t outsz);
/* Adds (add 1) or removes the tokens of text as contact rid's, on c's open
 * transaction. */
enum cc_err cc_sq_grams_write(struct conn *c, int add, int64_t rid, const char *text,
                              struct cc_error *err);
/* When migration 0027 asked for it (its mark in meta): contacts_grams built
 * again from contacts, the mark removed; on c's open transaction. */
enum cc_err cc_sq_grams_fill(struct conn *c, struct cc_error *err);
/* contacts_grams built again from contacts on db (`db copy`, whose rows
 * arrive with the triggers off): in one transaction of its own unless db is
 * in one. */
enum cc_err cc_sq_grams_rebuild(sqlite3 *db, struct cc_error *err);

/* ---- sqlite_migrate.c -------------------------------------------------------- */
/* Applies the migrations not yet applied, then stamps the file as a
 * certcontacts database (application_id) of the schema it now has
 * (user_version). */
enum cc_err cc_sq_migrate(void *impl, struct cc_error *err);
/* sqlite_shared.c: store.h's cc_store_state_update and cc_store_nonce_take. */
enum cc_err cc_sq_state_update(struct cc_store *st, const char *name, int64_t now_ms,
                               cc_state_fn fn, void *ctx, struct cc_error *err);
enum cc_err cc_sq_nonce_take(struct cc_store *st, const char *scope, const char *nonce,
                             int64_t expires_ms, int64_t now_ms, int64_t per_key,
                             int *verdict, int64_t *retry_ms, struct cc_error *err);
/* The schema version this binary knows: its newest migration's number. */
int cc_sq_schema_version(void);

/* ---- the tables of operations: sqlite.c, and one per aggregate's file ------- */
extern const struct cc_store_ops cc_sq_ops;
extern const struct cc_store_account_ops cc_sq_account_ops;
extern const struct cc_store_contact_ops cc_sq_contact_ops;
extern const struct cc_store_verif_ops cc_sq_verif_ops;
extern const struct cc_store_outbox_ops cc_sq_outbox_ops;
extern const struct cc_store_template_ops cc_sq_template_ops;
extern const struct cc_store_sealed_ops cc_sq_sealed_ops;
extern const struct cc_store_user_ops cc_sq_user_ops;
extern const struct cc_store_audit_ops cc_sq_audit_ops;
/* sqlite_audit.c: chains the audit entries copied from before 0018 (run by
 * cc_sq_migrate inside its transaction; nothing once any entry is chained). */
enum cc_err cc_sq_audit_seal(sqlite3 *db, struct cc_error *err);
extern const struct cc_store_application_ops cc_sq_application_ops;
extern const struct cc_store_certificate_ops cc_sq_certificate_ops;
extern const struct cc_store_reminder_ops cc_sq_reminder_ops;
extern const struct cc_store_endpoint_ops cc_sq_endpoint_ops;
extern const struct cc_store_acme_ops cc_sq_acme_ops;
extern const struct cc_store_stats_ops cc_sq_stats_ops;
extern const struct cc_store_import_ops cc_sq_import_ops;

#endif
