/*
 * sqlite_writer.c — the SQLite backend's one writer thread (group commit).
 *
 * cc_sq_write queues a write and sleeps until it is durable;
 * cc_sq_write_queued queues one without a waiter, whose tell the writer
 * calls instead of waking anyone. The writer
 * takes every write waiting in the queue (up to max_batch), runs each inside
 * its own SAVEPOINT of one transaction on its own connection, and commits
 * them together: one fsync for the batch with synchronous=FULL. A write that
 * fails rolls back to its savepoint and leaves the others alone; a commit
 * that fails fails them all. A write that checks first
 * (cc_store_write_checks_first: a contact's create) runs without a
 * savepoint; refused before any change it leaves nothing to undo, failed
 * after one it undoes the batch's transaction and fails the batch.
 *
 * A batch made only of relaxed writes (cc_store_write_relaxed: the
 * dispatcher's leases and outcomes) commits with synchronous=NORMAL: in WAL
 * mode that commit appends to the WAL without an fsync. The next FULL
 * commit (or checkpoint) fsyncs the WAL up to its own end, so a power cut
 * can only lose a suffix of relaxed commits, never a durable one or
 * anything before it; a process crash loses nothing (the WAL is in the OS).
 * The durable writes taken together commit first, in a batch of their own
 * (FULL, as every write did before), then the relaxed ones (writer_main).
 *
 * While it waits for work, the writer holds a read transaction on a
 * connection of its own (the read pin, pin_take). Every read transaction
 * takes a shared lock on one of the WAL's read marks; SQLite takes that
 * lock from the kernel (fcntl) only when no other connection of the process
 * holds it, and it does so holding the process's lock of the WAL index, so
 * that readers on other threads queue behind the system call. With the pin
 * holding the newest snapshot's mark, the readers that start after it find
 * the mark held and take it in memory. The pin is let go before each batch
 * (pin_drop in run_batch): a write that starts with no reader on the WAL
 * restarts it from the beginning, and a checkpoint copies every frame no
 * reader still needs, so neither waits for the pin. It is let go too when
 * nothing reads, and when another process writes (PIN_CHECK_MS), whose
 * WAL it would keep from restarting. A pin that cannot be taken costs only
 * that gain.
 *
 * Once the file is known to be damaged no write is queued any more (the
 * damage would only spread); after a full disk, the first batch that
 * commits tells the process's health that the store works again.
 */
#include <pthread.h>

#include "store/sqlite_int.h"
#include "store/store_int.h"
#include "util/util.h"


/* The writer connection's commit hook. When SQLite rolls a batch's
 * transaction back by itself (out of memory, an I/O error) in the middle of
 * a write, the write's next statements would run in autocommit mode and
 * each commit on its own: a failed write would leave part of itself
 * behind. During a batch only the writer's own COMMIT may commit; any other
 * commit is turned into a rollback. */
static int commit_hook(void *arg)
{
    struct sq *q = arg;
    return q->in_batch && !q->committing;
}

/* A batch's statements, prepared once (cc_sq_run): compiling them costs
 * more than running them, several times a write. */
static const char sql_begin[] = "BEGIN IMMEDIATE", sql_commit[] = "COMMIT",
                  sql_savepoint[] = "SAVEPOINT w", sql_release[] = "RELEASE w",
                  sql_rollback_to[] = "ROLLBACK TO w";

static int batch_commit(struct sq *q, struct conn *c)
{
    q->committing = 1;
    int rc = cc_sq_run(c, sql_commit);
    q->committing = 0;
    return rc;
}

/* The contacts' search indexes (the trigram index contacts_fts and the
 * short keyword index contacts_grams) learn the contacts' changes from
 * contacts_fts_queue (migration 0026): the triggers on contacts queue them,
 * in the same transaction as the change, where each write's SAVEPOINT can
 * roll them back with the rest of it (written inside the savepoints, an
 * FTS5 table would flush a new index segment at every one).
 *
 * The writer applies the queue in runs of INDEX_BATCH changes or more: an
 * FTS5 index pays for each commit that writes it (a new segment, the merges
 * that follow, their pages in the WAL), so a change written with 255 others
 * costs a fraction of one written with the 15 others of a group commit.
 * Nothing waits long for that: a batch that leaves INDEX_BATCH changes
 * queued applies them before its COMMIT; otherwise the writer applies them,
 * in a relaxed commit of their own, when no write has come for
 * INDEX_DELAY_MS after the first of them (writer_main); and a keyword
 * search that finds the queue not empty has them applied first and waits
 * (cc_sq_search_index_sync, sqlite_contacts.c), so every search sees every
 * write acknowledged before it began, as when each commit indexed its own.
 * The queue is durable with the contacts it describes: after a crash, the
 * writer applies what it holds shortly after start. */
#define INDEX_BATCH 256
#define INDEX_DELAY_MS 50
#define INDEX_RETRY_MS 1000 /* after an apply that failed (a full disk) */

static const char sql_queue_read[] =
    "SELECT op, rid, search_text FROM contacts_fts_queue ORDER BY seq";
static const char sql_index_add[] = "INSERT INTO contacts_fts(rowid, search_text) VALUES (?1, ?2)";
static const char sql_index_remove[] =
    "INSERT INTO contacts_fts(contacts_fts, rowid, search_text) VALUES ('delete', ?1, ?2)";
static const char sql_queue_empty[] = "DELETE FROM contacts_fts_queue";
/* seq only grows: the span is the number of changes queued, or more */
static const char sql_queue_span[] =
    "SELECT coalesce(max(seq) - min(seq) + 1, 0) FROM contacts_fts_queue";
static const char sql_queue_any[] = "SELECT 1 FROM contacts_fts_queue LIMIT 1";

/* One queued change (q's row) into contacts_fts and, when grams, contacts_grams. */
static enum cc_err apply_one(struct conn *c, sqlite3_stmt *q, int grams, struct cc_error *err)
{
    int add = sqlite3_column_int(q, 0);
    int64_t rid = sqlite3_column_int64(q, 1);
    const char *text = (const char *)sqlite3_column_text(q, 2);
    sqlite3_stmt *s = cc_sq_stmt(c, add ? sql_index_add : sql_index_remove, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, rid);
    sqlite3_bind_text(s, 2, text, -1, SQLITE_STATIC);
    enum cc_err rc = cc_sq_step_done(c, s, "updating the search index", err);
    return rc || !grams ? rc : cc_sq_grams_write(c, add, rid, text, err);
}

enum cc_err cc_sq_search_queue_apply(struct conn *c, int grams, struct cc_error *err)
{
    sqlite3_stmt *q = cc_sq_stmt(c, sql_queue_read, err);
    if (!q)
        return CC_ERR_STORE;
    int rc, n = 0;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        enum cc_err e = apply_one(c, q, grams, err);
        if (e) {
            cc_sq_done(q);
            return e;
        }
        n++;
    }
    cc_sq_done(q);
    if (rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading the search index queue");
    if (!n)
        return CC_OK;
    sqlite3_stmt *d = cc_sq_stmt(c, sql_queue_empty, err);
    if (!d)
        return CC_ERR_STORE;
    rc = sqlite3_step(d);
    cc_sq_done(d);
    return rc == SQLITE_DONE ? CC_OK : cc_sq_db_error(err, c->db, "emptying the search index queue");
}

/* How many changes the queue holds (at most), on c's open transaction; 0
 * when it cannot tell. */
static int64_t queue_span(struct conn *c)
{
    struct cc_error ignored;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_queue_span, &ignored);
    if (!s)
        return 0;
    int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    cc_sq_done(s);
    return n;
}

int cc_sq_search_queue_pending(struct conn *c)
{
    struct cc_error ignored;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_queue_any, &ignored);
    if (!s)
        return 0;
    int any = sqlite3_step(s) == SQLITE_ROW;
    cc_sq_done(s);
    return any;
}

/* The write of an index run: the queue applied, on the batch's transaction. */
static enum cc_err index_run_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    (void)arg;
    return cc_sq_search_queue_apply(tx->impl, 1, err);
}

/* Sets the writer connection's synchronous level for the next batch: NORMAL
 * when every write of it is relaxed (and the store is FULL at all). Outside
 * a transaction: SQLite applies the level at each commit. SQLITE_OK, or the
 * failure to go back to FULL (then the batch must not commit). */
static int batch_sync_level(struct sq *q, struct conn *c, const struct job *batch)
{
    int relaxed = q->sync_full;
    for (const struct job *j = batch; j && relaxed; j = j->next)
        relaxed = j->relaxed;
    if (relaxed == q->sync_now_normal)
        return SQLITE_OK;
    int rc = cc_sq_exec(c->db, relaxed ? "PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL");
    if (rc == SQLITE_OK)
        q->sync_now_normal = relaxed;
    return relaxed ? SQLITE_OK : rc; /* still FULL when NORMAL failed: only slower */
}

/* How long the queue stays empty before the read pin is taken: under a
 * steady stream of writes it is not taken and let go between every two
 * batches. */
#define PIN_DELAY_MS 2
/* How often a held pin is looked at. With no reads since the last look it
 * is let go and its connection closed until the next write. Else it is
 * taken again at the newest snapshot; if that snapshot is newer than the
 * last, another process wrote (this one's writes let the pin go first), and
 * the pin stays away for PIN_AWAY_MS: a reader on the WAL keeps a writer
 * from starting it again from its beginning, so another process's run of
 * writes would grow the WAL for as long as the pin stayed. */
#define PIN_CHECK_MS 100
#define PIN_AWAY_MS 1000

static const char sql_pin_begin[] = "BEGIN", sql_pin_read[] = "PRAGMA schema_version",
                  sql_pin_end[] = "COMMIT", sql_pin_version[] = "PRAGMA data_version";

/* The pin's connection: read-only, and without the lookaside memory a
 * connection keeps for its statements (~120 KB): it runs three. */
static int pin_open(struct sq *q)
{
    struct conn *c = cc_calloc(1, sizeof *c);
    c->owner = q;
    if (sqlite3_open_v2(q->path, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        cc_sq_conn_close(c);
        return -1;
    }
    sqlite3_db_config(c->db, SQLITE_DBCONFIG_LOOKASIDE, NULL, 0, 0);
    q->pin = c;
    return 0;
}

/* Takes the read pin (see the top of the file), on the writer thread with
 * q->mu not held, when the queue is empty. Never waits for a lock (the
 * connection has no busy timeout): a snapshot that cannot be read at once
 * is left alone. */
static void pin_take(struct sq *q)
{
    if (q->pinned || q->pin_failed || __atomic_load_n(&q->damaged, __ATOMIC_ACQUIRE))
        return;
    if (!q->pin && pin_open(q)) {
        q->pin_failed = 1;
        return;
    }
    if (cc_sq_run(q->pin, sql_pin_begin) != SQLITE_OK)
        return;
    int rc = cc_sq_run(q->pin, sql_pin_read);
    if (rc != SQLITE_ROW && rc != SQLITE_OK) {
        cc_sq_run(q->pin, sql_pin_end);
        return;
    }
    __atomic_store_n(&q->read_seen, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&q->pinned, 1, __ATOMIC_RELEASE);
}

/* The pin's snapshot's data version (changed by every commit it sees). */
static int64_t pin_version(struct sq *q)
{
    struct cc_error ignored;
    sqlite3_stmt *s = cc_sq_stmt(q->pin, sql_pin_version, &ignored);
    int64_t v = s && sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    if (s)
        cc_sq_done(s);
    return v;
}

static void pin_drop(struct sq *q)
{
    if (q->pinned)
        cc_sq_run(q->pin, sql_pin_end);
    __atomic_store_n(&q->pinned, 0, __ATOMIC_RELEASE);
}

/* Lets the pin go and closes its connection. */
static void pin_close(struct sq *q)
{
    pin_drop(q);
    cc_sq_conn_close(q->pin);
    q->pin = NULL;
}

/* The look at a held pin every PIN_CHECK_MS (see there), on the writer
 * thread with q->mu not held; *away is when a pin let go for another
 * process's writes may come back. */
static void pin_look(struct sq *q, int64_t now, int64_t *away)
{
    if (!__atomic_exchange_n(&q->read_seen, 0, __ATOMIC_RELAXED)) {
        pin_close(q);
        return;
    }
    int64_t seen = pin_version(q);
    pin_drop(q);
    pin_take(q);
    if (q->pinned && pin_version(q) != seen) {
        pin_close(q);
        *away = now + PIN_AWAY_MS;
    }
}

/* Runs one batch of jobs in one transaction. Called on the writer thread. */
static void run_batch(struct sq *q, struct job *batch)
{
    struct conn *c = q->wconn;
    pin_drop(q);
    struct cc_tx tx = {&cc_sq_ops, c};
    struct cc_error berr;
    cc_error_clear(&berr);
    int64_t t0 = cc_mono_us();
    sqlite3_commit_hook(c->db, commit_hook, q);
    q->in_batch = 1;
    int began = batch_sync_level(q, c, batch) == SQLITE_OK &&
                cc_sq_run(c, sql_begin) == SQLITE_OK;
    if (!began)
        cc_sq_db_error(&berr, c->db, "starting a write");
    for (struct job *j = batch; j; j = j->next) {
        if (!began) {
            j->rc = berr.code;
            if (j->err)
                *j->err = berr;
            continue;
        }
        /* A write that checks first (CC_STORE_WRITE_CHECKS_FIRST) runs without a
         * savepoint: SQLite copies each page a savepoint's write first changes
         * into its statement journal, most of a page's worth of work again
         * for every page of every write. One that fails having changed no
         * row leaves nothing to undo; one that fails after a change undoes
         * the whole transaction, below. */
        int undone = 0, sp = !j->checks_first;
        int64_t changes = sp ? 0 : sqlite3_total_changes64(c->db);
        if (sp && cc_sq_run(c, sql_savepoint) != SQLITE_OK) {
            j->rc = cc_sq_db_error(j->err, c->db, "starting a write");
            continue;
        }
        j->rc = j->fn(&tx, j->arg, j->err);
        if (!sp) {
            if (j->rc && sqlite3_total_changes64(c->db) != changes &&
                !sqlite3_get_autocommit(c->db)) {
                cc_sq_exec(c->db, "ROLLBACK");
                undone = 1;
            }
        } else if (j->rc) {
            cc_sq_run(c, sql_rollback_to);
            cc_sq_run(c, sql_release);
        } else {
            cc_sq_run(c, sql_release);
        }
        if (sqlite3_get_autocommit(c->db)) {
            /* SQLite rolled the whole transaction back (I/O error, disk
             * full), or a write that checks first failed after a change:
             * every write of the batch so far is lost with it. */
            if (undone && j->err)
                berr = *j->err;
            else
                cc_sq_db_error(&berr, c->db, "writing");
            for (struct job *k = batch; k != j->next; k = k->next)
                if (k->rc == CC_OK) {
                    k->rc = berr.code;
                    if (k->err)
                        *k->err = berr;
                }
            began = 0;
            if (berr.code == CC_OK)
                berr.code = CC_ERR_STORE;
        }
    }
    struct cc_error ierr;
    cc_error_clear(&ierr);
    int64_t queued = began ? queue_span(c) : 0;
    int run = queued >= INDEX_BATCH;
    int indexed = !run || cc_sq_search_queue_apply(c, 1, &ierr) == CC_OK;
    int committed = !began || (indexed && batch_commit(q, c) == SQLITE_OK);
    if (committed && began) {
        if (run || !queued)
            q->index_due = 0;
        else if (!q->index_due)
            q->index_due = cc_mono_ms() + INDEX_DELAY_MS;
    }
    q->in_batch = 0;
    if (!committed) {
        if (indexed)
            cc_sq_db_error(&berr, c->db, "committing");
        else
            berr = ierr;
        cc_sq_exec(c->db, "ROLLBACK");
        for (struct job *j = batch; j; j = j->next)
            if (j->rc == CC_OK) {
                j->rc = berr.code;
                if (j->err)
                    *j->err = berr;
            }
        return;
    }
    int wrote = 0;
    size_t writes = 0;
    for (struct job *j = batch; j && began; j = j->next) {
        wrote |= j->rc == CC_OK;
        writes++;
    }
    if (began)
        cc_metrics_store_batch(writes, cc_mono_us() - t0);
    if (wrote && __atomic_exchange_n(&q->full, 0, __ATOMIC_ACQ_REL) &&
        !__atomic_load_n(&q->damaged, __ATOMIC_ACQUIRE))
        cc_health_set("store", 1, NULL);
}

/* Wakes exactly the writes of batch; the ones still queued sleep on. The
 * writer wakes the first; each woken write wakes two more (a binary tree in
 * batch order: the write at place i wakes those at 2i+1 and 2i+2), so a
 * batch of n costs the writer one wake-up instead of n, and the others are
 * spread over the woken threads. Called with q->mu held; a write is marked
 * done only by whoever wakes it, so none can return (and free its job,
 * which lives on its stack) before its wake-up is sent. */
static void wake_batch(struct job *batch)
{
    struct job *child = batch ? batch->next : NULL;
    for (struct job *j = batch; j; j = j->next) {
        for (int k = 0; k < 2; k++) {
            j->relay[k] = child;
            child = child ? child->next : NULL;
        }
    }
    if (batch) {
        batch->done = 1;
        pthread_cond_signal(&batch->cv);
    }
}

/* Moves the writes of *batch that are relaxed (queued: 1, the writes
 * queued without a waiter), in order, to the list returned. */
static struct job *split_off(struct job **batch, int queued)
{
    struct job *rel = NULL, **rt = &rel, **dt = batch;
    for (struct job *j = *batch, *next; j; j = next) {
        next = j->next;
        j->next = NULL;
        if (queued ? j->tell != NULL : j->relaxed) {
            *rt = j;
            rt = &j->next;
        } else {
            *dt = j;
            dt = &j->next;
        }
    }
    *dt = NULL;
    return rel;
}

/* Tells the queued writes of list their outcomes, and frees them. Without
 * q->mu: a write's done may take locks of its own. */
static void tell_queued(struct job *list)
{
    for (struct job *j = list, *next; j; j = next) {
        next = j->next;
        j->tell(j->tell_arg, j->rc);
        cc_free(j);
    }
}

/* Applies the queue in a relaxed commit of its own (no fsync: the queue it
 * empties is durable already, and a power cut that lost the run would lose
 * its emptying with it). On the writer thread, between batches. */
static void index_run(struct sq *q)
{
    if (__atomic_load_n(&q->damaged, __ATOMIC_ACQUIRE)) {
        q->index_due = 0; /* no write goes to a damaged file; searches fail alike */
        return;
    }
    struct cc_error err;
    struct job j = {.fn = index_run_tx, .err = &err, .rc = CC_OK, .relaxed = 1};
    cc_error_clear(&err);
    run_batch(q, &j);
    if (j.rc == CC_OK) {
        q->index_due = 0;
        q->index_failing = 0;
        return;
    }
    q->index_due = cc_mono_ms() + INDEX_RETRY_MS;
    if (!q->index_failing) /* once a streak (a full disk would say so every second) */
        cc_log(CC_LOG_WARN, "applying the search index queue failed; trying again every second",
               "error", err.message, NULL);
    q->index_failing = 1;
}

/* With synchronous=FULL, the durable writes taken together run first, in a
 * batch of their own that commits (and fsyncs) before the relaxed ones run:
 * an API write does not wait for the dispatchers' claims and outcomes queued
 * beside it, and they commit without an fsync after it. Writes that were
 * all waiting at once have no order among them (each caller is still
 * waiting), so running them in two commits changes nothing they could see. */
static void *writer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "cc-writer"); /* for top -H, perf, gdb */
    struct sq *q = arg;
    pthread_mutex_lock(&q->mu);
    int64_t pin_at = 0;    /* when the read pin is taken if the queue stays empty; 0: not set */
    int64_t pin_check = 0; /* when the held pin is looked at (PIN_CHECK_MS) */
    int64_t pin_away = 0;  /* no pin before this (PIN_AWAY_MS) */
    int pin_tried = 1;     /* since the last batch (none yet: no pin before the first write) */
    for (;;) {
        while (!q->head && !q->stopping) {
            int64_t now = cc_mono_ms();
            if (!pin_at && !pin_tried && !q->pinned && !q->pin_failed)
                pin_at = now + PIN_DELAY_MS > pin_away ? now + PIN_DELAY_MS : pin_away;
            if (pin_at && now >= pin_at) {
                pin_at = 0;
                pin_tried = 1;
                pin_check = now + PIN_CHECK_MS;
                pthread_mutex_unlock(&q->mu);
                pin_take(q);
                pthread_mutex_lock(&q->mu);
                continue;
            }
            if (q->pinned && now >= pin_check) {
                pin_check = now + PIN_CHECK_MS;
                pthread_mutex_unlock(&q->mu);
                pin_look(q, now, &pin_away);
                pthread_mutex_lock(&q->mu);
                continue;
            }
            if (q->index_due && now >= q->index_due) {
                pthread_mutex_unlock(&q->mu);
                index_run(q); /* lets the pin go */
                pthread_mutex_lock(&q->mu);
                pin_tried = 0;
                continue;
            }
            int64_t until = pin_at ? pin_at : q->pinned ? pin_check : 0;
            if (q->index_due && (!until || q->index_due < until))
                until = q->index_due;
            if (!until) {
                pthread_cond_wait(&q->work, &q->mu);
                continue;
            }
            struct timespec ts;
            cc_mono_deadline(&ts, until - now);
            pthread_cond_timedwait(&q->work, &q->mu, &ts);
        }
        pin_at = 0;
        pin_tried = 0;
        if (!q->head && q->stopping) {
            /* what is queued is durable; applied now rather than after the next start */
            if (q->index_due) {
                pthread_mutex_unlock(&q->mu);
                index_run(q);
                pthread_mutex_lock(&q->mu);
            }
            break;
        }
        struct job *batch = q->head, *last = batch;
        int n = 1;
        while (last->next && n < q->max_batch) {
            last = last->next;
            n++;
        }
        q->head = last->next;
        if (!q->head)
            q->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&q->mu);

        struct job *relaxed = q->sync_full ? split_off(&batch, 0) : NULL;
        if (batch) {
            run_batch(q, batch);
            struct job *queued = split_off(&batch, 1);
            pthread_mutex_lock(&q->mu);
            wake_batch(batch);
            pthread_mutex_unlock(&q->mu);
            tell_queued(queued);
        }
        if (relaxed) {
            run_batch(q, relaxed);
            tell_queued(split_off(&relaxed, 1));
        }
        pthread_mutex_lock(&q->mu);
        wake_batch(relaxed);
    }
    pthread_mutex_unlock(&q->mu);
    /* closed before the writer's connection, which, the last to close,
     * checkpoints the WAL and removes it */
    pin_close(q);
    return NULL;
}

enum cc_err cc_sq_write(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err)
{
    return cc_sq_write_flags(s, fn, arg, 0, err);
}

/* Queues j for the writer. CC_OK with q->mu held, the writer told; else
 * why not, nothing queued and q->mu not held. */
static enum cc_err enqueue(struct sq *q, struct job *j, struct cc_error *err)
{
    cc_sq_read_unhold(q); /* what this thread reads next sees this write */
    if (__atomic_load_n(&q->damaged, __ATOMIC_ACQUIRE))
        return cc_sq_damaged_error(err);
    pthread_mutex_lock(&q->mu);
    if (q->stopping) {
        pthread_mutex_unlock(&q->mu);
        return cc_error_set(err, CC_ERR_UNAVAILABLE, NULL, "The server is shutting down.");
    }
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    pthread_cond_signal(&q->work);
    return CC_OK;
}

static enum cc_err sq_write(struct sq *q, cc_tx_fn fn, void *arg, unsigned flags,
                           struct cc_error *err)
{
    struct job j = {.fn = fn, .arg = arg, .err = err, .rc = CC_OK,
                    .relaxed = (flags & CC_STORE_WRITE_RELAXED) != 0,
                    .checks_first = (flags & CC_STORE_WRITE_CHECKS_FIRST) != 0};
    pthread_cond_init(&j.cv, NULL);
    enum cc_err rc = enqueue(q, &j, err);
    if (rc) {
        pthread_cond_destroy(&j.cv);
        return rc;
    }
    while (!j.done)
        pthread_cond_wait(&j.cv, &q->mu);
    for (int k = 0; k < 2; k++) /* this write's share of waking its batch (wake_batch) */
        if (j.relay[k]) {
            j.relay[k]->done = 1;
            pthread_cond_signal(&j.relay[k]->cv);
        }
    pthread_mutex_unlock(&q->mu);
    pthread_cond_destroy(&j.cv);
    return j.rc;
}

enum cc_err cc_sq_write_queued(struct cc_store *s, cc_tx_fn fn, void *arg, unsigned flags,
                               cc_write_done_fn done, void *done_arg, struct cc_error *err)
{
    struct job *j = cc_malloc(sizeof *j);
    *j = (struct job){.fn = fn, .arg = arg, .err = err, .rc = CC_OK,
                      .relaxed = (flags & CC_STORE_WRITE_RELAXED) != 0,
                      .checks_first = (flags & CC_STORE_WRITE_CHECKS_FIRST) != 0,
                      .tell = done, .tell_arg = done_arg};
    enum cc_err rc = enqueue(s->impl, j, err);
    if (rc) {
        cc_free(j);
        return rc;
    }
    pthread_mutex_unlock(&((struct sq *)s->impl)->mu);
    return CC_OK;
}

enum cc_err cc_sq_write_flags(struct cc_store *s, cc_tx_fn fn, void *arg, unsigned flags,
                              struct cc_error *err)
{
    return sq_write(s->impl, fn, arg, flags, err);
}

enum cc_err cc_sq_search_index_sync(struct sq *q, struct cc_error *err)
{
    if (q->writer_started && pthread_equal(pthread_self(), q->writer))
        return CC_OK; /* inside a write: the writer cannot wait for itself */
    return sq_write(q, index_run_tx, NULL, CC_STORE_WRITE_RELAXED, err);
}

enum cc_err cc_sq_writer_start(struct sq *q, struct cc_error *err)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* writer_main's index deadline */
    pthread_cond_init(&q->work, &ca);
    pthread_condattr_destroy(&ca);
    q->writer_inited = 1;
    /* what the last process left queued (a crash) is applied soon after start */
    if (q->wconn && cc_sq_search_queue_pending(q->wconn))
        q->index_due = cc_mono_ms() + INDEX_DELAY_MS;
    if (pthread_create(&q->writer, NULL, writer_main, q) != 0)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "cannot start the writer thread");
    q->writer_started = 1;
    return CC_OK;
}

void cc_sq_writer_stop(struct sq *q)
{
    if (q->writer_started) {
        pthread_mutex_lock(&q->mu);
        q->stopping = 1;
        pthread_cond_broadcast(&q->work);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->writer, NULL);
        q->writer_started = 0;
    }
    if (q->writer_inited) {
        pthread_mutex_destroy(&q->mu);
        pthread_cond_destroy(&q->work);
        q->writer_inited = 0;
    }
}
