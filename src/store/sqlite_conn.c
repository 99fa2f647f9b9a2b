/*
 * sqlite_conn.c — the SQLite backend's connections: opening one (WAL,
 * foreign keys, the synchronous level), the calling thread's own read
 * connection (opened on first use, closed when the thread ends or says it is
 * done), each connection's cache of prepared statements, and the small
 * helpers every aggregate's file uses to step statements and read columns.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "util/util.h"

enum cc_err cc_sq_damaged_error(struct cc_error *err)
{
    return cc_error_set(err, CC_ERR_STORAGE_CORRUPT, NULL,
                        "The database is damaged; the server accepts no changes until its "
                        "operator repairs it.");
}

/* Damage and a full disk are the operator's to fix, not a bug: they fail
 * the store's readiness with what to do, and the client is told what
 * happened in words that name no file. */
enum cc_err cc_sq_db_error(struct cc_error *err, sqlite3 *db, const char *what)
{
    int ext = sqlite3_extended_errcode(db);
    int primary = ext & 0xff;
    char reason[256];
    if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
        snprintf(reason, sizeof reason,
                 "the database file is damaged (%s, in %s): it accepts no writes; run "
                 "certcontacts check, then restore a backup (see docs/operations.md)",
                 sqlite3_errmsg(db), what);
        cc_sq_mark(db, CC_SQ_DAMAGED);
        cc_health_set("store", 0, reason);
        return cc_sq_damaged_error(err);
    }
    if (primary == SQLITE_FULL || (primary == SQLITE_IOERR && sqlite3_system_errno(db) == ENOSPC)) {
        snprintf(reason, sizeof reason,
                 "the disk is full: %s failed (%s); free space on the disk of the database "
                 "file, writes work again as soon as there is room", what, sqlite3_errmsg(db));
        cc_sq_mark(db, CC_SQ_FULL);
        cc_health_set("store", 0, reason);
        return cc_error_set(err, CC_ERR_STORAGE_FULL, NULL,
                            "The server's disk is full; changes fail until its operator frees "
                            "space.");
    }
    enum cc_err code = primary == SQLITE_BUSY ? CC_ERR_UNAVAILABLE : CC_ERR_STORE;
    return cc_error_set(err, code, NULL, "database error in %s: %s", what, sqlite3_errmsg(db));
}

void cc_sq_conn_close(struct conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < CC_SQ_STMT_SLOTS; i++)
        sqlite3_finalize(c->st[i].st);
    sqlite3_close(c->db);
    cc_free(c);
}

int cc_sq_exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* A deleted row's bytes are zeroed in the pages its delete writes anyway
 * (FAST), not also every page a delete frees written again as zeros (ON,
 * Debian's build default): the search queue, emptied every 256 contacts,
 * and FTS5's merged segments free pages all the time, and writing them
 * zeroed was ~6% of POSTs (docs/store.md). */
#define CC_SQ_SECURE_DELETE "FAST"

/* The last connection serial handed out (struct conn's serial). */
static uint64_t conn_serial;

enum cc_err cc_sq_conn_open(struct sq *q, int writer, struct conn **out, struct cc_error *err)
{
    struct conn *c = cc_calloc(1, sizeof *c);
    c->owner = q;
    c->serial = __atomic_add_fetch(&conn_serial, 1, __ATOMIC_RELAXED);
    /* Only a file that did not exist is created, by the writer that opens
     * first: one deleted under a running server is not replaced by an
     * empty database. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                (writer && q->create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(q->path, &c->db, flags, NULL) != SQLITE_OK) {
        cc_error_set(err, CC_ERR_STORE, NULL, "cannot open database %s: %s", q->path,
                     c->db ? sqlite3_errmsg(c->db) : "out of memory");
        cc_sq_conn_close(c);
        return CC_ERR_STORE;
    }
    sqlite3_busy_timeout(c->db, q->busy_ms);
    sqlite3_extended_result_codes(c->db, 1);
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=%s;"
             "PRAGMA temp_store=MEMORY; %s",
             q->sync_full ? "FULL" : "NORMAL",
             writer ? "PRAGMA wal_autocheckpoint=" CC_SQ_WAL_CHECKPOINT_PAGES ";"
                      "PRAGMA secure_delete=" CC_SQ_SECURE_DELETE ";"
                    : "PRAGMA query_only=1;");
    if (cc_sq_exec(c->db, pragmas) != SQLITE_OK) {
        cc_sq_db_error(err, c->db, "opening the database");
        cc_sq_conn_close(c);
        return CC_ERR_STORE;
    }
    *out = c;
    return CC_OK;
}

sqlite3_stmt *cc_sq_stmt(struct conn *c, const char *sql, struct cc_error *err)
{
    /* Open addressing on the address of the SQL text. */
    size_t i = (size_t)(((uintptr_t)sql >> 3) * 0x9E3779B97F4A7C15ull >> 32) % CC_SQ_STMT_SLOTS;
    for (size_t probes = 0; probes < CC_SQ_STMT_SLOTS; probes++) {
        if (c->st[i].sql == sql)
            return c->st[i].st;
        if (!c->st[i].sql) {
            sqlite3_stmt *s = NULL;
            if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
                SQLITE_OK) {
                cc_sq_db_error(err, c->db, "preparing a statement");
                return NULL;
            }
            c->st[i].sql = sql;
            c->st[i].st = s;
            return s;
        }
        i = (i + 1) % CC_SQ_STMT_SLOTS;
    }
    cc_error_set(err, CC_ERR_STORE, NULL, "more than %d prepared statements on one connection",
                 CC_SQ_STMT_SLOTS);
    return NULL;
}

void cc_sq_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

struct conn *cc_sq_rconn(void *impl, struct cc_error *err)
{
    struct sq *q = impl;
    struct conn *c = pthread_getspecific(q->tls);
    if (c)
        return c;
    if (cc_sq_conn_open(q, 0, &c, err))
        return NULL;
    pthread_mutex_lock(&q->conns_mu);
    c->next = q->conns;
    if (q->conns)
        q->conns->prev = c;
    q->conns = c;
    pthread_mutex_unlock(&q->conns_mu);
    pthread_setspecific(q->tls, c);
    return c;
}

static void rconn_release(struct conn *c)
{
    struct sq *q = c->owner;
    pthread_mutex_lock(&q->conns_mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        q->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&q->conns_mu);
    cc_sq_conn_close(c);
}

/* pthread key destructor: a thread that ends closes its connection. */
static void tls_destructor(void *p)
{
    rconn_release(p);
}

void cc_sq_thread_done(void *impl)
{
    struct sq *q = impl;
    struct conn *c = pthread_getspecific(q->tls);
    if (c) {
        pthread_setspecific(q->tls, NULL);
        rconn_release(c);
    }
}

void cc_sq_conns_init(struct sq *q)
{
    pthread_key_create(&q->tls, tls_destructor);
    pthread_mutex_init(&q->conns_mu, NULL);
}

void cc_sq_conns_cleanup(struct sq *q)
{
    cc_sq_thread_done(q);
    pthread_mutex_lock(&q->conns_mu);
    struct conn *c = q->conns;
    q->conns = NULL;
    pthread_mutex_unlock(&q->conns_mu);
    while (c) {
        struct conn *next = c->next;
        cc_sq_conn_close(c);
        c = next;
    }
    pthread_key_delete(q->tls);
    pthread_mutex_destroy(&q->conns_mu);
}

/* ---- row decoding ----------------------------------------------------------- */
void cc_sq_col_text(sqlite3_stmt *s, int i, char *out, size_t outsz)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    cc_strlcpy(out, t ? (const char *)t : "", outsz);
}

void cc_sq_col_blob(sqlite3_stmt *s, int i, uint8_t *out, size_t outsz, size_t *len)
{
    const void *b = sqlite3_column_blob(s, i);
    size_t n = (size_t)sqlite3_column_bytes(s, i);
    if (!b || n > outsz)
        n = 0;
    if (n)
        memcpy(out, b, n);
    *len = n;
}

enum cc_err cc_sq_step_done(struct conn *c, sqlite3_stmt *s, const char *what,
                            struct cc_error *err)
{
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return CC_OK;
    return cc_sq_db_error(err, c->db, what);
}

enum cc_err cc_sq_count(struct conn *c, sqlite3_stmt *s, int64_t *total, const char *what,
                        struct cc_error *err)
{
    int rc = sqlite3_step(s);
    *total = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    cc_sq_done(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, what);
}

enum cc_err cc_sq_ids(struct conn *c, sqlite3_stmt *s, int64_t *ids, size_t max, size_t *n,
                      const char *what, struct cc_error *err)
{
    int rc = SQLITE_DONE;
    *n = 0;
    while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
        ids[(*n)++] = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? CC_OK : cc_sq_db_error(err, c->db, what);
}

enum cc_err cc_sq_idem_get(struct conn *c, sqlite3_stmt *s, int64_t account_id, const char *key,
                           char *hash, int64_t *id, struct cc_error *err)
{
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    enum cc_err res = CC_OK;
    if (rc == SQLITE_ROW) {
        cc_sq_col_text(s, 0, hash, 65);
        *id = sqlite3_column_int64(s, 1);
    } else if (rc == SQLITE_DONE) {
        res = CC_ERR_NOT_FOUND;
    } else {
        res = cc_sq_db_error(err, c->db, "reading an idempotency key");
    }
    cc_sq_done(s);
    return res;
}

enum cc_err cc_sq_idem_put(struct conn *c, sqlite3_stmt *s, int64_t account_id, const char *key,
                           const char *hash, int64_t id, int64_t now, struct cc_error *err)
{
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, id);
    sqlite3_bind_int64(s, 5, now);
    return cc_sq_step_done(c, s, "saving an idempotency key", err);
}

/* Prepared once per connection, like every statement (sqlite3_exec would
 * compile them on every call). */
static const char sql_begin[] = "BEGIN", sql_commit[] = "COMMIT";

int cc_sq_run(struct conn *c, const char *sql)
{
    struct cc_error ignored;
    sqlite3_stmt *s = cc_sq_stmt(c, sql, &ignored);
    if (!s)
        return SQLITE_ERROR;
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Tells the writer's read pin that reads go on (sqlite_writer.c). Written
 * only when not already set: the flag's cache line is shared by every
 * reading thread. */
static void note_read(struct sq *q)
{
    if (!__atomic_load_n(&q->read_seen, __ATOMIC_RELAXED))
        __atomic_store_n(&q->read_seen, 1, __ATOMIC_RELAXED);
}

enum cc_err cc_sq_read_begin(struct conn *c, struct cc_error *err)
{
    if (c->held)
        return CC_OK;
    note_read(c->owner);
    if (cc_sq_run(c, sql_begin) != SQLITE_OK)
        return cc_sq_db_error(err, c->db, "starting a read");
    return CC_OK;
}

void cc_sq_read_end(struct conn *c)
{
    if (c->held)
        return;
    if (cc_sq_run(c, sql_commit) != SQLITE_OK && !sqlite3_get_autocommit(c->db))
        cc_sq_exec(c->db, "ROLLBACK");
}

/* data_version changes whenever another connection (the writer's, another
 * process's) committed since this connection's last read: the pager counts
 * each time a read transaction finds the WAL or the file changed. */
static const char sql_read_mark[] = "PRAGMA data_version";

enum cc_err cc_sq_read_mark(void *impl, struct cc_read_mark *mark, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_read_mark, err);
    if (!s)
        return CC_ERR_STORE;
    note_read(c->owner);
    int rc = sqlite3_step(s);
    mark->source = c->serial;
    mark->version = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading the data version");
}

void cc_sq_read_unhold(void *impl)
{
    struct sq *q = impl;
    struct conn *c = pthread_getspecific(q->tls);
    if (!c || !c->held)
        return;
    c->held = 0;
    cc_sq_read_end(c);
}

void cc_sq_read_hold(void *impl, int on)
{
    if (!on) {
        cc_sq_read_unhold(impl);
        return;
    }
    struct cc_error ignored;
    struct conn *c = cc_sq_rconn(impl, &ignored);
    if (!c || c->held)
        return;
    note_read(impl);
    /* a deferred BEGIN: the snapshot is taken by the first read */
    if (cc_sq_run(c, sql_begin) == SQLITE_OK)
        c->held = 1;
}
