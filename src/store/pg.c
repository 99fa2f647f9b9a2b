/*
 * pg.c — the PostgreSQL backend (libpq): opening the database, the pool of
 * connections, transactions (a write runs in a SERIALIZABLE transaction on
 * a pooled connection and is run again after a serialization failure or a
 * deadlock; a read runs in one REPEATABLE READ snapshot), the database's
 * own settings, and the table of operations that store.c forwards to.
 *
 * Several certcontacts instances may share the database: everything that
 * must hold for all of them is in it, uniqueness comes from its
 * constraints, and the migrations run under an advisory lock.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "store/pg_int.h"
#include "util/util.h"

/* Waiting for a free connection, at the most, before a request is told the
 * server is busy. */
#define ACQUIRE_MS 10000

/* ---- connections ------------------------------------------------------------- */
/* libpq prints the server's notices on stderr; the process's log is JSON
 * lines, so they go there (warnings only: client_min_messages below). */
static void notice(void *arg, const char *message)
{
    (void)arg;
    char line[512];
    cc_strlcpy(line, message, sizeof line);
    line[strcspn(line, "\n")] = '\0';
    cc_log(CC_LOG_WARN, "database notice", "notice", line, NULL);
}

/* A new connection to g's database, with the settings every one has; NULL
 * only when out of memory (check PQstatus). */
static PGconn *connect_db(struct pg *g)
{
    const char *keys[] = {"dbname", "fallback_application_name", "connect_timeout", "options",
                          NULL};
    const char *vals[] = {g->conninfo, "certcontacts", "10", "-c client_min_messages=warning",
                          NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn)
        PQsetNoticeProcessor(conn, notice, NULL);
    return conn;
}
static void conn_forget_statements(struct pgc *c)
{
    memset(c->st, 0, sizeof c->st);
    c->key_generation_known = 0;
}

static struct pgc *conn_open(struct pg *g, struct cc_error *err)
{
    PGconn *conn = connect_db(g);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        char why[256];
        cc_strlcpy(why, conn ? PQerrorMessage(conn) : "out of memory", sizeof why);
        why[strcspn(why, "\n")] = '\0';
        PQfinish(conn);
        cc_error_set(err, CC_ERR_UNAVAILABLE, NULL, "cannot connect to the database %s: %s",
                     g->shown, why);
        return NULL;
    }
    struct pgc *c = cc_calloc(1, sizeof *c);
    c->conn = conn;
    c->owner = g;
    return c;
}

static void conn_close(struct pgc *c)
{
    if (!c)
        return;
    PQfinish(c->conn);
    cc_free(c);
}

/* Makes a connection that failed usable again (or says it is not). */
static enum cc_err conn_mend(struct pgc *c, struct cc_error *err)
{
    if (!c->broken && PQstatus(c->conn) == CONNECTION_OK)
        return CC_OK;
    PQreset(c->conn);
    conn_forget_statements(c);
    if (PQstatus(c->conn) != CONNECTION_OK)
        return cc_error_set(err, CC_ERR_UNAVAILABLE, NULL,
                            "The database cannot be reached; try again shortly.");
    c->broken = 0;
    return CC_OK;
}

/* A slot of the pool whose connection is being opened. */
static struct pgc opening;

struct pgc *cc_pg_acquire(void *impl, struct cc_error *err)
{
    struct pg *g = impl;
    struct pgc *c = pthread_getspecific(g->held);
    if (c) {
        c->depth++;
        return c;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += g->acquire_ms / 1000;
    until.tv_nsec += (long)(g->acquire_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    int slot = -1;
    pthread_mutex_lock(&g->mu);
    while (!g->free && g->nopen >= g->size)
        if (pthread_cond_timedwait(&g->freed, &g->mu, &until) == ETIMEDOUT)
            break;
    if (g->free) {
        c = g->free;
        g->free = c->next_free;
    } else if (g->nopen < g->size) {
        for (slot = 0; g->all[slot]; slot++)
            ;
        g->all[slot] = &opening; /* reserved: opened below, outside the lock */
        g->nopen++;
    }
    pthread_mutex_unlock(&g->mu);
    if (!c && slot < 0) {
        cc_error_set(err, CC_ERR_UNAVAILABLE, NULL,
                     "The server is busy: every database connection is in use; try again.");
        return NULL;
    }
    if (!c) {
        c = conn_open(g, err);
        pthread_mutex_lock(&g->mu);
        g->all[slot] = c;
        if (!c)
            g->nopen--;
        pthread_mutex_unlock(&g->mu);
        if (!c)
            return NULL;
    } else if (conn_mend(c, err)) {
        c->broken = 1;
        pthread_mutex_lock(&g->mu);
        c->next_free = g->free;
        g->free = c;
        pthread_cond_signal(&g->freed);
        pthread_mutex_unlock(&g->mu);
        return NULL;
    }
    c->depth = 1;
    pthread_setspecific(g->held, c);
    if (pthread_getspecific(g->hold)) {
        c->hold = 1;
        c->depth = 2; /* the hold's own: given back at its end */
    }
    return c;
}

void cc_pg_release(struct pgc *c)
{
    if (!c || --c->depth > 0)
        return;
    struct pg *g = c->owner;
    /* A statement that failed outside a transaction leaves none open; one
     * left open by a mistake must not leak into the next user's work. */
    if (PQtransactionStatus(c->conn) != PQTRANS_IDLE && !c->broken) {
        PGresult *r = PQexec(c->conn, "ROLLBACK");
        PQclear(r);
    }
    pthread_setspecific(g->held, NULL);
    pthread_mutex_lock(&g->mu);
    c->next_free = g->free;
    g->free = c;
    pthread_cond_signal(&g->freed);
    pthread_mutex_unlock(&g->mu);
}

/* ---- transactions ---------------------------------------------------------------- */
/* COMMIT, told apart from the ROLLBACK PostgreSQL answers for a transaction
 * that an error aborted. */
static enum cc_err commit(struct pgc *c, struct cc_error *err)
{
    PGresult *r = PQexec(c->conn, "COMMIT");
    enum cc_err rc = CC_OK;
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        rc = cc_pg_error(err, c, r, "committing");
    else if (strcmp(PQcmdStatus(r), "COMMIT") != 0)
        rc = cc_error_set(err, CC_ERR_STORE, NULL,
                          "database error in committing: the transaction was rolled back");
    PQclear(r);
    return rc;
}

static void rollback(struct pgc *c)
{
    if (c->broken)
        return;
    PGresult *r = PQexec(c->conn, "ROLLBACK");
    PQclear(r);
}

/* ---- held reads ---------------------------------------------------------------- */
#define BEGIN_SNAPSHOT "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

int cc_pg_hold_pending(const struct pgc *c)
{
    return c->hold && !c->in_tx && !c->broken;
}

enum cc_err cc_pg_hold_begin(struct pgc *c, struct cc_error *err)
{
    if (!cc_pg_hold_pending(c))
        return CC_OK;
    enum cc_err rc = cc_pg_simple(c, BEGIN_SNAPSHOT, "starting a read", err);
    if (rc) {
        rollback(c);
        return rc;
    }
    c->in_tx = c->hold_tx = 1;
    return CC_OK;
}

PGresult *cc_pg_hold_begin_with(struct pgc *c, const char *select, const char *what,
                                struct cc_error *err)
{
    char sql[512];
    snprintf(sql, sizeof sql, "%s; %s", BEGIN_SNAPSHOT, select);
    PGresult *r = PQexec(c->conn, sql); /* the last statement's result */
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQtransactionStatus(c->conn) == PQTRANS_INTRANS) {
        c->in_tx = c->hold_tx = 1;
        return r;
    }
    cc_pg_error(err, c, r, what);
    PQclear(r);
    rollback(c);
    return NULL;
}

enum cc_err cc_pg_snapshot_begin(struct pgc *c, int *own, struct cc_error *err)
{
    *own = 0;
    enum cc_err rc = cc_pg_hold_begin(c, err);
    if (rc || c->in_tx)
        return rc;
    rc = cc_pg_simple(c, BEGIN_SNAPSHOT, "starting a read", err);
    *own = !rc;
    return rc;
}

void cc_pg_snapshot_end(struct pgc *c, int own)
{
    if (!own)
        return;
    struct cc_error ignored;
    /* COMMIT of a failed transaction rolls it back; a connection that
     * failed here is rolled back when it is given back. */
    cc_pg_simple(c, "COMMIT", "ending a read", &ignored);
}

void cc_pg_hold_end(struct pgc *c)
{
    if (!c->hold_tx)
        return;
    c->in_tx = c->hold_tx = 0;
    struct cc_error ignored;
    /* COMMIT of a failed transaction rolls it back */
    if (!c->broken)
        cc_pg_simple(c, "COMMIT", "ending a read", &ignored);
}

static void pg_read_hold(void *impl, int on)
{
    struct pg *g = impl;
    pthread_setspecific(g->hold, on ? g : NULL);
    if (on)
        return;
    struct pgc *c = pthread_getspecific(g->held);
    if (!c || !c->hold)
        return;
    cc_pg_hold_end(c);
    c->hold = 0;
    cc_pg_release(c);
}

/* Sleeps a little before a transaction is run again, longer each time. */
static void backoff(int attempt)
{
    unsigned r = 0;
    cc_random_bytes(&r, sizeof r);
    int64_t us = (int64_t)(1000 << (attempt < 6 ? attempt : 6)) + r % 2000;
    struct timespec ts = {0, (long)us * 1000L};
    nanosleep(&ts, NULL);
}

/* ---- write functions that meet each other ------------------------------------
 * Writes run optimistically in parallel; but some always meet (each appends to
 * the audit chain, or counts one account's contacts), and under load such a
 * write could fail a dozen times in a row as SERIALIZABLE aborts one of each
 * pair. So a write function that once failed with 40001/40P01 is remembered,
 * and from then on (and on every run again) its transaction first takes
 * WRITE_LOCK, before its snapshot: those writes queue one behind the other, as
 * on SQLite's single writer, instead of failing each other; other writes
 * still run beside them. PostgreSQL takes a REPEATABLE READ or SERIALIZABLE
 * snapshot at the first query, and LOCK TABLE is not one, so the queued
 * write sees everything committed before it got the lock. */
#define HOT_MAX 128
static const char WRITE_LOCK[] = "LOCK TABLE schema_migrations IN EXCLUSIVE MODE";
static _Atomic(cc_tx_fn) hot[HOT_MAX];

static int hot_known(cc_tx_fn fn)
{
    for (int i = 0; i < HOT_MAX; i++) {
        cc_tx_fn h = atomic_load(&hot[i]);
        if (h == fn)
            return 1;
        if (!h)
            return 0;
    }
    return 0;
}

static void hot_add(cc_tx_fn fn)
{
    for (int i = 0; i < HOT_MAX; i++) {
        cc_tx_fn none = NULL;
        if (atomic_compare_exchange_strong(&hot[i], &none, fn) || none == fn)
            return;
    }
}

/* fn in a transaction opened by begin, run again up to tries times on
 * 40001/40P01; write: it writes (then WRITE_LOCK may be taken). */
static enum cc_err run_tx(struct pgc *c, const char *begin, cc_tx_fn fn, void *arg,
                          int tries, int write, struct cc_error *err)
{
    struct cc_tx tx = {&cc_pg_ops, c};
    enum cc_err rc = CC_OK;
    int serial = write && hot_known(fn);
    for (int attempt = 0; attempt < tries; attempt++) {
        c->retry = 0;
        char sql[256]; /* the lock taken in the BEGIN's round trip */
        snprintf(sql, sizeof sql, "%s%s%s", begin, serial ? "; " : "", serial ? WRITE_LOCK : "");
        rc = cc_pg_simple(c, sql, "starting a transaction", err);
        if (rc) {
            rollback(c);
            break;
        }
        c->in_tx = 1;
        rc = fn(&tx, arg, err);
        c->in_tx = 0;
        if (!rc)
            rc = commit(c, err);
        else
            rollback(c);
        if (!rc || !c->retry || c->broken)
            break;
        if (write && !serial) {
            hot_add(fn);
            serial = 1;
        } else {
            backoff(attempt);
        }
    }
    if (rc && c->retry)
        cc_log(CC_LOG_WARN, "a write kept meeting concurrent writes and was given up",
               "reason", c->message, NULL);
    return rc;
}

/* ---- the batching writer -------------------------------------------------------
 * Writes that queue behind WRITE_LOCK anyway (hot_known) gain nothing from
 * their own transactions: each would hold the lock for its round trips and
 * its own commit. So they are handed to one writer thread per store, which
 * runs what has queued (up to BATCH_MAX) in one transaction under the lock,
 * each write within a savepoint: a write that fails (a duplicate email, say)
 * is rolled back to its savepoint alone and told its error, the others
 * commit together, with one flush of the WAL, as SQLite's writer does. Should
 * the batch as a whole fail (a serialization failure against a write that
 * does not queue, a lost connection), each of its writes is run again on
 * its own, as any write is. */
#define BATCH_MAX 64

/* A relaxed write (cc_store_write_relaxed) commits without waiting for the
 * WAL flush: synchronous_commit = off for its transaction alone. PostgreSQL
 * flushes the WAL in order, so a crash of the server's machine can lose
 * only the last relaxed commits, never a durable one or what came before. */
#define BEGIN_SERIAL "BEGIN ISOLATION LEVEL SERIALIZABLE"
#define BEGIN_SERIAL_RELAXED BEGIN_SERIAL "; SET LOCAL synchronous_commit = off"

struct pg_job {
    struct pg_job *next;
    cc_tx_fn fn;
    void *arg;
    int relaxed;
    enum cc_err rc;
    struct cc_error err;
    int done;
};

/* Runs the n jobs in one transaction; 0, or -1 when they must be run again
 * one by one (nothing of the batch was committed). */
static int batch_run(struct pgc *c, struct pg_job **jobs, int n)
{
    struct cc_tx tx = {&cc_pg_ops, c};
    struct cc_error err;
    int relaxed = 1;
    for (int i = 0; i < n; i++)
        relaxed &= jobs[i]->relaxed;
    c->retry = 0;
    /* One round trip begins the batch, takes the lock and the first job's
     * savepoint; one between two jobs ends the first's and begins the
     * next's (a savepoint rolled back to stays, and serves the next job as
     * it is); the last job's ends with the COMMIT. */
    char sql[256];
    snprintf(sql, sizeof sql, "%s; %s; SAVEPOINT job", relaxed ? BEGIN_SERIAL_RELAXED : BEGIN_SERIAL,
             WRITE_LOCK);
    if (cc_pg_simple(c, sql, "starting a transaction", &err)) {
        rollback(c);
        return -1;
    }
    c->in_tx = 1;
    int ok = 1;
    for (int i = 0; i < n && ok; i++) {
        struct pg_job *j = jobs[i];
        j->rc = j->fn(&tx, j->arg, &j->err);
        ok = !c->retry && !c->broken;
        if (ok && (j->rc || i + 1 < n))
            ok = !cc_pg_simple(c, j->rc ? "ROLLBACK TO SAVEPOINT job"
                                        : "RELEASE SAVEPOINT job; SAVEPOINT job",
                               "ending a write", &err);
    }
    c->in_tx = 0;
    if (ok && !commit(c, &err))
        return 0;
    rollback(c);
    return -1;
}

static void batch_do(struct pg *g, struct pg_job **jobs, int n)
{
    struct cc_error err;
    cc_error_clear(&err);
    struct pgc *c = cc_pg_acquire(g, &err);
    int64_t t0 = cc_mono_us();
    if (n > 1 && c && batch_run(c, jobs, n) == 0) {
        cc_metrics_store_batch((size_t)n, cc_mono_us() - t0);
        cc_pg_release(c);
        return;
    }
    for (int i = 0; i < n; i++) {
        cc_error_clear(&jobs[i]->err);
        if (!c) {
            jobs[i]->err = err;
            jobs[i]->rc = err.code;
        } else {
            t0 = cc_mono_us(); /* each on its own: a batch of one */
            jobs[i]->rc = run_tx(c, jobs[i]->relaxed ? BEGIN_SERIAL_RELAXED : BEGIN_SERIAL,
                                 jobs[i]->fn, jobs[i]->arg, CC_PG_WRITE_TRIES, 1, &jobs[i]->err);
            cc_metrics_store_batch(1, cc_mono_us() - t0);
        }
    }
    cc_pg_release(c);
}

static void *writer_main(void *arg)
{
    struct pg *g = arg;
    struct pg_job *jobs[BATCH_MAX];
    pthread_mutex_lock(&g->wmu);
    for (;;) {
        while (!g->whead && !g->wstopping)
            pthread_cond_wait(&g->wwork, &g->wmu);
        if (!g->whead)
            break;
        int n = 0;
        while (g->whead && n < BATCH_MAX) {
            jobs[n++] = g->whead;
            g->whead = g->whead->next;
        }
        if (!g->whead)
            g->wtail = NULL;
        pthread_mutex_unlock(&g->wmu);
        batch_do(g, jobs, n);
        pthread_mutex_lock(&g->wmu);
        for (int i = 0; i < n; i++)
            jobs[i]->done = 1;
        pthread_cond_broadcast(&g->wdone);
    }
    pthread_mutex_unlock(&g->wmu);
    return NULL;
}

/* Hands fn to the writer and waits for its outcome: 0, or -1 when there is
 * no writer (it could not start, or the store is closing). */
static int batch_write(struct pg *g, cc_tx_fn fn, void *arg, int relaxed, enum cc_err *rc,
                       struct cc_error *err)
{
    struct pg_job j = {NULL, fn, arg, relaxed, CC_OK, {0}, 0};
    cc_error_clear(&j.err);
    pthread_mutex_lock(&g->wmu);
    if (g->writer_state == 0)
        g->writer_state = pthread_create(&g->writer, NULL, writer_main, g) ? -1 : 1;
    if (g->writer_state != 1 || g->wstopping) {
        pthread_mutex_unlock(&g->wmu);
        return -1;
    }
    if (g->wtail)
        g->wtail->next = &j;
    else
        g->whead = &j;
    g->wtail = &j;
    pthread_cond_signal(&g->wwork);
    while (!j.done)
        pthread_cond_wait(&g->wdone, &g->wmu);
    pthread_mutex_unlock(&g->wmu);
    *rc = j.rc;
    *err = j.err;
    return 0;
}

static void writer_stop(struct pg *g)
{
    pthread_mutex_lock(&g->wmu);
    g->wstopping = 1;
    int running = g->writer_state == 1;
    pthread_cond_broadcast(&g->wwork);
    pthread_mutex_unlock(&g->wmu);
    if (running)
        pthread_join(g->writer, NULL);
}

static enum cc_err write_as(struct cc_store *s, const char *begin, cc_tx_fn fn, void *arg,
                            struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(s->impl, err);
    if (!c)
        return err->code;
    enum cc_err rc;
    cc_pg_hold_end(c); /* a held read's snapshot: the write sees what is committed */
    if (c->in_tx) {
        rc = cc_error_set(err, CC_ERR_INTERNAL, NULL, "a write started inside a transaction");
    } else {
        int64_t t0 = cc_mono_us();
        rc = run_tx(c, begin, fn, arg, CC_PG_WRITE_TRIES, 1, err);
        cc_metrics_store_batch(1, cc_mono_us() - t0); /* a write on its own: a batch of 1 */
    }
    cc_pg_release(c);
    return rc;
}

static enum cc_err pg_write(struct cc_store *s, cc_tx_fn fn, void *arg, unsigned flags,
                            struct cc_error *err)
{
    struct pg *g = s->impl;
    enum cc_err rc;
    int relaxed = (flags & CC_STORE_WRITE_RELAXED) != 0;
    /* A thread holding a connection (inside a read) runs its write itself;
     * one that holds it only for a held read, between reads, ends the
     * read's snapshot and queues the write as any thread does. */
    struct pgc *held = pthread_getspecific(g->held);
    int idle = held && held->hold && held->depth == 1;
    if (idle)
        cc_pg_hold_end(held);
    if (hot_known(fn) && (!held || idle) && batch_write(g, fn, arg, relaxed, &rc, err) == 0)
        return rc;
    return write_as(s, relaxed ? BEGIN_SERIAL_RELAXED : BEGIN_SERIAL, fn, arg, err);
}

enum cc_err cc_pg_write_committed(struct cc_store *s, cc_tx_fn fn, void *arg,
                                  struct cc_error *err)
{
    return write_as(s, "BEGIN ISOLATION LEVEL READ COMMITTED", fn, arg, err);
}

static enum cc_err pg_read(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(s->impl, err);
    if (!c)
        return err->code;
    enum cc_err rc = cc_pg_hold_begin(c, err);
    if (rc) {
        /* not begun: told */
    } else if (c->in_tx) {
        struct cc_tx tx = {&cc_pg_ops, c};
        rc = fn(&tx, arg, err);
    } else {
        rc = run_tx(c, BEGIN_SNAPSHOT, fn, arg, 3, 0, err);
    }
    cc_pg_release(c);
    return rc;
}

/* ---- the store's own operations ---------------------------------------------------- */
static const char sql_ping[] = "SELECT 1";

static enum cc_err pg_ping(void *impl, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_UNAVAILABLE;
    enum cc_err rc = cc_pg_do(c, sql_ping, NULL, "ping", err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err pg_meta_get(void *impl, const char *name, char *out, size_t outsz,
                               struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return err->code;
    enum cc_err rc = cc_pg_meta_read(c, name, out, outsz, err);
    cc_pg_release(c);
    return rc;
}

struct meta_set {
    const char *name, *value;
};

static const char sql_meta_set[] =
    "INSERT INTO meta(name, value) VALUES ($1, $2) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value";

static enum cc_err tx_meta_set(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct meta_set *m = arg;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, m->name);
    cc_pg_text(&p, m->value);
    return cc_pg_do(tx->impl, sql_meta_set, &p, "saving a setting", err);
}

static enum cc_err pg_meta_set(struct cc_store *s, const char *name, const char *value,
                               struct cc_error *err)
{
    struct meta_set m = {name, value};
    return pg_write(s, tx_meta_set, &m, 0, err);
}

/* ---- singleton jobs ------------------------------------------------------------------ */
/* The advisory lock's key of job: "CC" and the name's FNV-1a hash. */
static int64_t lead_key(const char *job)
{
    uint32_t h = 2166136261u;
    for (const char *p = job; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return ((int64_t)0x4343 << 32) | h;
}

/* Asks, on l's own connection, whether the lock is (still) this instance's. */
static int lead_ask(struct pg *g, struct pg_lead *l)
{
    if (!l->conn || PQstatus(l->conn) != CONNECTION_OK) {
        PQfinish(l->conn);
        l->conn = connect_db(g);
        l->held = 0;
        if (PQstatus(l->conn) != CONNECTION_OK)
            return 0;
    }
    char sql[96];
    if (l->held)
        snprintf(sql, sizeof sql, "SELECT 1");
    else
        snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%lld)", (long long)lead_key(l->job));
    PGresult *r = PQexec(l->conn, sql);
    int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    int got = ok && !strcmp(PQgetvalue(r, 0, 0), l->held ? "1" : "t");
    PQclear(r);
    return got;
}

static enum cc_err pg_lead(void *impl, const char *job, int *leader, struct cc_error *err)
{
    struct pg *g = impl;
    *leader = 0;
    pthread_mutex_lock(&g->lead_mu);
    struct pg_lead *l = NULL;
    for (int i = 0; i < CC_PG_LEADS_MAX && !l; i++)
        if (!g->leads[i].job[0] || !strcmp(g->leads[i].job, job))
            l = &g->leads[i];
    if (!l) {
        pthread_mutex_unlock(&g->lead_mu);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "too many singleton jobs");
    }
    cc_strlcpy(l->job, job, sizeof l->job);
    int was = l->held;
    l->held = lead_ask(g, l);
    *leader = l->held;
    pthread_mutex_unlock(&g->lead_mu);
    if (l->held != was)
        cc_log(CC_LOG_INFO, l->held ? "this instance now runs a singleton job"
                                    : "this instance no longer runs a singleton job",
               "job", job, NULL);
    return CC_OK;
}

static void pg_thread_done(void *impl)
{
    (void)impl; /* connections belong to the pool, not to threads */
}

static void pg_close(void *impl)
{
    struct pg *g = impl;
    if (!g)
        return;
    writer_stop(g);
    for (int i = 0; i < g->size; i++)
        if (g->all[i] != &opening)
            conn_close(g->all[i]);
    for (int i = 0; i < CC_PG_LEADS_MAX; i++)
        PQfinish(g->leads[i].conn);
    pthread_mutex_destroy(&g->lead_mu);
    pthread_mutex_destroy(&g->wmu);
    pthread_cond_destroy(&g->wwork);
    pthread_cond_destroy(&g->wdone);
    cc_free(g->all);
    pthread_key_delete(g->held);
    pthread_key_delete(g->hold);
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->freed);
    cc_free(g->conninfo);
    cc_free(g->shown);
    cc_free(g);
}

/* The URL without its password, for messages and the log. */
static char *shown_url(const char *url)
{
    char *s = cc_strdup(url);
    char *scheme = strstr(s, "://");
    char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    char *colon = scheme ? strchr(scheme + 3, ':') : NULL;
    if (at && colon && colon < at)
        memmove(colon, at, strlen(at) + 1);
    char *q = strchr(s, '?');
    if (q)
        *q = '\0';
    return s;
}

const struct cc_store_ops cc_pg_ops = {
    .name = "postgres",
    .close = pg_close,
    .migrate = cc_pg_migrate,
    .ping = pg_ping,
    .lead = pg_lead,
    .meta_get = pg_meta_get,
    .meta_set = pg_meta_set,
    .write = pg_write,
    .read = pg_read,
    .read_hold = pg_read_hold,
    .shared = 1,
    .state_update = cc_pg_state_update,
    .nonce_take = cc_pg_nonce_take,
    .thread_done = pg_thread_done,
    .accounts = &cc_pg_account_ops,
    .contacts = &cc_pg_contact_ops,
    .verifs = &cc_pg_verif_ops,
    .outbox = &cc_pg_outbox_ops,
    .templates = &cc_pg_template_ops,
    .users = &cc_pg_user_ops,
    .audit = &cc_pg_audit_ops,
    .applications = &cc_pg_application_ops,
    .certificates = &cc_pg_certificate_ops,
    .reminders = &cc_pg_reminder_ops,
    .sealed = &cc_pg_sealed_ops,
    .endpoints = &cc_pg_endpoint_ops,
    .acme = &cc_pg_acme_ops,
    .stats = &cc_pg_stats_ops,
    .imports = &cc_pg_import_ops,
};

static struct pg *pool_new(const struct cc_store_config *cfg)
{
    struct pg *g = cc_calloc(1, sizeof *g);
    g->conninfo = cc_strdup(cfg->url);
    g->shown = shown_url(cfg->url);
    g->size = cfg->pool_size > 0 ? cfg->pool_size : 10;
    g->acquire_ms = ACQUIRE_MS;
    g->all = cc_calloc((size_t)g->size, sizeof *g->all);
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->freed, NULL);
    pthread_key_create(&g->held, NULL);
    pthread_key_create(&g->hold, NULL);
    pthread_mutex_init(&g->lead_mu, NULL);
    pthread_mutex_init(&g->wmu, NULL);
    pthread_cond_init(&g->wwork, NULL);
    pthread_cond_init(&g->wdone, NULL);
    return g;
}

enum cc_err cc_pg_open(const struct cc_store_config *cfg, struct cc_store *s,
                       struct cc_error *err)
{
    struct pg *g = pool_new(cfg);
    struct pgc *c = cc_pg_acquire(g, err);
    enum cc_err rc = c ? cc_pg_identify(c, g->shown, err) : err->code;
    cc_pg_release(c);
    if (rc) {
        pg_close(g);
        return rc;
    }
    s->ops = &cc_pg_ops;
    s->impl = g;
    return CC_OK;
}

enum cc_err cc_pg_check(const struct cc_store_config *cfg,
                        void (*line)(void *arg, const char *text), void *arg,
                        struct cc_error *err)
{
    (void)line;
    (void)arg;
    struct pg *g = pool_new(cfg);
    struct pgc *c = cc_pg_acquire(g, err);
    enum cc_err rc = c ? cc_pg_identify(c, g->shown, err) : err->code;
    cc_pg_release(c);
    pg_close(g);
    return rc;
}
