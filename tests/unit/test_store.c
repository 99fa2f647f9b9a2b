/*
 * test_store.c — the store's key generation: it stays put while nothing
 * touches an access key, and moves when a key is disabled by another store
 * on the same database (as the CLI does from another process), so the
 * service's key cache knows it is stale; read marks likewise. The limits of
 * a whole deployment (store.h's shared states and nonces), on either
 * backend: exact under threads and across two stores on one database, as
 * two instances are. And SQLite's writer: a batch wakes every write, writes
 * that check first, deleted rows zeroed, the search indexes' queue, the
 * read pin, a migration. Contacts and search: test_store_contacts.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sys/stat.h>
#include <sqlite3.h>

#include <cmocka.h>

#include "delivery/delivery_int.h"
#include "service_fixture.h"
#include "store/store.h"
#include "store/store_int.h"
#include "store/sqlite_int.h"

struct disable_arg {
    int64_t account_id;
    const char *key_id;
};

static enum cc_err disable_key(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct disable_arg *a = arg;
    return cc_tx_key_disable(tx, a->account_id, a->key_id, 2, err);
}

/* Another store on f's database (as another process) disables f's key. */
static void disable_from_other_store(struct svc_fixture *f)
{
    struct cc_error err;
    struct cc_store_config sc = {.url = f->url, .busy_timeout_ms = 5000, .max_batch = 256};
    struct cc_store *other;
    assert_int_equal(cc_store_open(&sc, &other, &err), CC_OK);
    struct disable_arg a = {f->first.account_id, f->first.key_id};
    assert_int_equal(cc_store_write(other, disable_key, &a, &err), CC_OK);
    cc_store_close(other);
}

static void test_key_generation(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_error err;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    int64_t g0, g;
    assert_int_equal(cc_store_key_generation(f.store, &g0, &err), CC_OK);
    assert_int_equal(cc_store_key_generation(f.store, &g, &err), CC_OK);
    assert_true(g == g0);

    /* A write that touches no key leaves the generation alone. */
    int64_t id;
    assert_int_equal(cc_store_write(f.store, svc_fixture_other_account_tx, &id, &err), CC_OK);
    assert_int_equal(cc_store_key_generation(f.store, &g, &err), CC_OK);
    assert_true(g == g0);

    /* Another store on the same file disables the key: the generation moves. */
    disable_from_other_store(&f);
    assert_int_equal(cc_store_key_generation(f.store, &g, &err), CC_OK);
    assert_true(g != g0);

    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

static void *mark_on_thread(void *arg)
{
    struct cc_store *s = arg;
    static struct cc_read_mark m;
    struct cc_error err;
    enum cc_err rc = cc_store_read_mark(s, &m, &err);
    cc_store_thread_done(s);
    return rc ? NULL : &m;
}

/* A read mark stays equal while nothing is committed, and moves with a
 * commit of this store's writer or of another store on the file; another
 * thread's reads (another connection) are another source. */
static void test_read_mark(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_error err;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    struct cc_read_mark m0, m;
    if (strcmp(cc_store_backend(f.store), "sqlite")) {
        assert_int_equal(cc_store_read_mark(f.store, &m0, &err), CC_ERR_UNSUPPORTED_OPERATION);
        assert_int_equal(svc_fixture_close(&f), 0);
        return;
    }
    assert_int_equal(cc_store_read_mark(f.store, &m0, &err), CC_OK);
    assert_int_equal(cc_store_read_mark(f.store, &m, &err), CC_OK);
    assert_true(m.source == m0.source && m.version == m0.version);

    int64_t id;
    assert_int_equal(cc_store_write(f.store, svc_fixture_other_account_tx, &id, &err), CC_OK);
    assert_int_equal(cc_store_read_mark(f.store, &m, &err), CC_OK);
    assert_true(m.source == m0.source && m.version != m0.version);
    m0 = m;

    /* inside a held read the mark is the snapshot's, then the next one's */
    cc_store_read_hold(f.store, 1);
    assert_int_equal(cc_store_read_mark(f.store, &m, &err), CC_OK);
    assert_true(m.version == m0.version);
    disable_from_other_store(&f);
    assert_int_equal(cc_store_read_mark(f.store, &m, &err), CC_OK);
    assert_true(m.version == m0.version);
    cc_store_read_hold(f.store, 0);
    assert_int_equal(cc_store_read_mark(f.store, &m, &err), CC_OK);
    assert_true(m.source == m0.source && m.version != m0.version);

    pthread_t t;
    void *theirs = NULL;
    assert_int_equal(pthread_create(&t, NULL, mark_on_thread, f.store), 0);
    pthread_join(t, &theirs);
    assert_non_null(theirs);
    assert_true(((struct cc_read_mark *)theirs)->source != m0.source);
    /* a connection opened again is a new source */
    cc_store_thread_done(f.store);
    assert_int_equal(cc_store_read_mark(f.store, &m, &err), CC_OK);
    assert_true(m.source != m0.source);
    assert_true(m.source != ((struct cc_read_mark *)theirs)->source);

    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* A held read (a GET's reads) sees one snapshot, on either backend: another
 * store's commit is not seen inside it, and is after its end; a write
 * inside it commits, and ends the snapshot, so what is read next sees both.
 * A read that fails inside it leaves the next read working. */
static void test_held_read(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_error err;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    int64_t g0, g, id;
    struct cc_contact c;

    cc_store_read_hold(f.store, 1);
    assert_int_equal(cc_store_key_generation(f.store, &g0, &err), CC_OK);
    disable_from_other_store(&f);
    assert_int_equal(cc_store_key_generation(f.store, &g, &err), CC_OK);
    assert_true(g == g0);
    assert_int_equal(cc_store_contact_get(f.store, f.first.account_id, 999999, &c, &err),
                     CC_ERR_NOT_FOUND);
    assert_int_equal(cc_store_key_generation(f.store, &g, &err), CC_OK);
    assert_true(g == g0);
    /* a write inside: committed, and the reads after it see the other commit too */
    assert_int_equal(cc_store_write(f.store, svc_fixture_other_account_tx, &id, &err), CC_OK);
    assert_true(id > 0);
    assert_int_equal(cc_store_key_generation(f.store, &g, &err), CC_OK);
    assert_true(g != g0);
    cc_store_read_hold(f.store, 0);

    /* after the hold: the write is there for every reader */
    char name[64];
    assert_int_equal(cc_store_account_get(f.store, id, name, sizeof name, &err), CC_OK);
    assert_string_equal(name, "other");
    g0 = g;
    cc_store_read_hold(f.store, 1);
    assert_int_equal(cc_store_key_generation(f.store, &g, &err), CC_OK);
    assert_true(g == g0);
    cc_store_read_hold(f.store, 0);
    /* a hold with no read in it takes nothing and ends cleanly */
    cc_store_read_hold(f.store, 1);
    cc_store_read_hold(f.store, 0);

    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* The fixture, and a second store on its database (as another instance). */
static struct cc_store *open_two(struct svc_fixture *f)
{
    struct cc_error err;
    assert_int_equal(svc_fixture_open(f, 0), 0);
    struct cc_store_config sc = {.url = f->url, .busy_timeout_ms = 5000, .max_batch = 256};
    struct cc_store *other;
    assert_int_equal(cc_store_open(&sc, &other, &err), CC_OK);
    return other;
}

static void close_two(struct svc_fixture *f, struct cc_store *other)
{
    cc_store_close(other);
    cc_store_thread_done(f->store);
    assert_int_equal(svc_fixture_close(f), 0);
}

/* ---- shared states and nonces ---------------------------------------------- */
static void add_one(void *ctx, char *state, int64_t *forget_at)
{
    (void)ctx;
    int64_t n = 0; /* an unreadable state restarts the count: the total then fails */
    if (state[0] && cc_parse_i64(state, 0, 1000000, &n))
        n = 0;
    snprintf(state, CC_STORE_STATE_MAX, "%lld", (long long)n + 1);
    *forget_at = INT64_MAX / 2;
}

struct adder {
    struct cc_store *store;
    int failed;
};

static void *add_many(void *arg)
{
    struct adder *a = arg;
    struct cc_error err;
    for (int i = 0; i < 25; i++)
        if (cc_store_state_update(a->store, "counter", 1000, add_one, NULL, &err))
            a->failed++;
    cc_store_thread_done(a->store);
    return NULL;
}

static void read_state(void *ctx, char *state, int64_t *forget_at)
{
    cc_strlcpy(ctx, state, 32);
    *forget_at = INT64_MAX / 2;
}

/* Six threads over two stores on one database add 25 each: every one counts. */
static void test_state_update_exact(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_error err;
    struct cc_store *other = open_two(&f);
    pthread_t t[6];
    struct adder a[6];
    for (int i = 0; i < 6; i++) {
        a[i] = (struct adder){i % 2 ? other : f.store, 0};
        assert_int_equal(pthread_create(&t[i], NULL, add_many, &a[i]), 0);
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].failed, 0);
    }
    char got[32] = "";
    assert_int_equal(cc_store_state_update(f.store, "counter", 1000, read_state, got, &err),
                     CC_OK);
    assert_string_equal(got, "150");
    /* A name past its limit is refused, nothing written. */
    char longname[200];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_not_equal(cc_store_state_update(f.store, longname, 1000, add_one, NULL, &err),
                         CC_OK);
    close_two(&f, other);
}

static void test_nonce_take(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_error err;
    struct cc_store *other = open_two(&f);
    int fresh = -1;
    int64_t retry = -1;
    assert_int_equal(cc_store_nonce_take(f.store, "K1", "n-1", 5000, 1000, 100, &fresh, &retry, &err), CC_OK);
    assert_int_equal(fresh, CC_NONCE_NEW);
    /* the same nonce through the other store (another instance): a replay */
    assert_int_equal(cc_store_nonce_take(other, "K1", "n-1", 5000, 2000, 100, &fresh, &retry, &err), CC_OK);
    assert_int_equal(fresh, CC_NONCE_REPLAY);
    /* another key's nonce of the same text is its own */
    assert_int_equal(cc_store_nonce_take(other, "K2", "n-1", 5000, 2000, 100, &fresh, &retry, &err), CC_OK);
    assert_int_equal(fresh, CC_NONCE_NEW);
    /* once its time has passed it may be used again (the clock check guards it then) */
    assert_int_equal(cc_store_nonce_take(f.store, "K1", "n-1", 9000, 5000, 100, &fresh, &retry, &err), CC_OK);
    assert_int_equal(fresh, CC_NONCE_NEW);
    assert_int_equal(cc_store_nonce_take(f.store, "K1", "n-1", 9000, 6000, 100, &fresh, &retry, &err), CC_OK);
    assert_int_equal(fresh, CC_NONCE_REPLAY);
    /* a key holds per_key live nonces: then new ones wait for the first to pass */
    for (int i = 0; i < 3; i++) {
        char n[16];
        snprintf(n, sizeof n, "m-%d", i);
        assert_int_equal(cc_store_nonce_take(i % 2 ? other : f.store, "K3", n, 7000 + i, 6000, 3,
                                             &fresh, &retry, &err), CC_OK);
        assert_int_equal(fresh, CC_NONCE_NEW);
    }
    assert_int_equal(cc_store_nonce_take(other, "K3", "m-3", 9000, 6500, 3, &fresh, &retry, &err),
                     CC_OK);
    assert_int_equal(fresh, CC_NONCE_FULL);
    assert_int_equal(retry, 500);
    assert_int_equal(cc_store_nonce_take(other, "K3", "m-1", 9000, 6500, 3, &fresh, &retry, &err),
                     CC_OK);
    assert_int_equal(fresh, CC_NONCE_REPLAY);
    assert_int_equal(cc_store_nonce_take(other, "K3", "m-3", 9000, 7000, 3, &fresh, &retry, &err),
                     CC_OK);
    assert_int_equal(fresh, CC_NONCE_NEW);
    close_two(&f, other);
}

/* Two limiters on one database, as two instances: DingTalk's 20 a minute
 * holds for both together, and a block one of them learns holds for both. */
static void test_limiter_shared(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_error err;
    struct cc_store *other = open_two(&f);
    struct cc_limiter *a = cc_limiter_new(100), *b = cc_limiter_new(100);
    cc_limiter_share(a, f.store);
    cc_limiter_share(b, other);
    const char *url = "https://oapi.dingtalk.com/robot/send?access_token=shared";
    int64_t t0 = 1700000000000;
    int sent = 0;
    for (int i = 0; i < 30; i++)
        sent += cc_limiter_reserve(i % 2 ? b : a, CC_WEBHOOK_DINGTALK, url, t0 + i) == 0;
    assert_int_equal(sent, 20);
    /* the 21st may go a minute (and the margin) after the first */
    int64_t at = cc_limiter_reserve(a, CC_WEBHOOK_DINGTALK, url, t0 + 100);
    assert_true(at >= t0 + 60000 && at <= t0 + 62000);
    assert_int_equal(cc_limiter_reserve(b, CC_WEBHOOK_DINGTALK, url, at + 1), 0);
    /* the state is kept under the URL's hash: nothing of its token */
    char probe[64] = "";
    char name[80], hex[65];
    cc_sha256_hex(url, strlen(url), hex);
    snprintf(name, sizeof name, "robot:%s", hex);
    assert_int_equal(cc_store_state_update(f.store, name, t0, read_state, probe, &err), CC_OK);
    assert_non_null(strchr(probe, ';'));
    /* a block learnt by one holds for the other */
    const char *url2 = "https://oapi.dingtalk.com/robot/send?access_token=blocked";
    int64_t until = cc_limiter_throttled(a, CC_WEBHOOK_DINGTALK, url2, t0);
    assert_true(until >= t0 + 600000 && until <= t0 + 660000);
    assert_int_equal(cc_limiter_reserve(b, CC_WEBHOOK_DINGTALK, url2, t0 + 1), until);
    assert_int_equal(cc_limiter_reserve(b, CC_WEBHOOK_DINGTALK, url2, until + 1), 0);
    /* and a wait that grows: Lark throttling again right after the one
     * learnt by a waits twice as long for b */
    const char *lark = "https://open.feishu.cn/open-apis/bot/v2/hook/shared";
    until = cc_limiter_throttled(a, CC_WEBHOOK_FEISHU, lark, t0);
    assert_true(until >= t0 + 1000 && until <= t0 + 1100);
    assert_int_equal(cc_limiter_throttled(b, CC_WEBHOOK_FEISHU, lark, t0 + 1), until);
    int64_t again = cc_limiter_throttled(b, CC_WEBHOOK_FEISHU, lark, until + 1);
    assert_true(again >= until + 2001 && again <= until + 2201);
    cc_limiter_free(a);
    cc_limiter_free(b);
    close_two(&f, other);
}

/* The service's token bucket in the database: 60 a minute takes 10 at
 * once, then one a second. */
static void test_bucket(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_error err;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    int64_t t0 = 1700000000000, wait = -1;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(cc_service_bucket_take(f.svc, "acs-key:K", 60, t0, &wait, &err), CC_OK);
        assert_int_equal(wait, 0);
    }
    assert_int_equal(cc_service_bucket_take(f.svc, "acs-key:K", 60, t0, &wait, &err), CC_OK);
    assert_true(wait > 0 && wait <= 1001);
    assert_int_equal(cc_service_bucket_take(f.svc, "acs-key:K", 60, t0 + 1000, &wait, &err),
                     CC_OK);
    assert_int_equal(wait, 0);
    assert_int_equal(cc_service_bucket_take(f.svc, "acs-key:K", 60, t0 + 1000, &wait, &err),
                     CC_OK);
    assert_true(wait > 0);
    /* another bucket is its own; a long pause fills one up (to 10, not more) */
    assert_int_equal(cc_service_bucket_take(f.svc, "acs-key:L", 60, t0, &wait, &err), CC_OK);
    assert_int_equal(wait, 0);
    int taken = 0;
    for (int i = 0; i < 12; i++) {
        assert_int_equal(cc_service_bucket_take(f.svc, "acs-key:K", 60, t0 + 86400000, &wait,
                                                &err), CC_OK);
        taken += wait == 0;
    }
    assert_int_equal(taken, 10);
    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* A write held on the writer thread lets WAKERS writes queue behind it; they
 * then run as one batch, which the writer wakes by waking its first write
 * only (each woken write wakes two more): every one of them must return,
 * each with its own result. A write missed by the wake-ups would never
 * return and the test would not end. */
#define WAKERS 40
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered, open, ran;
};

static enum cc_err gate_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    (void)tx;
    (void)err;
    struct gate *g = arg;
    pthread_mutex_lock(&g->mu);
    g->entered = 1;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return CC_OK;
}

struct waker {
    struct cc_store *store;
    struct gate *g;
    int n;
    enum cc_err rc;
};

static enum cc_err counted_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    (void)tx;
    struct waker *w = arg;
    w->g->ran++; /* the writer thread's alone */
    /* every third write fails: its own result, the others unaffected */
    return w->n % 3 == 2 ? cc_error_set(err, CC_ERR_ALREADY_EXISTS, NULL, "refused") : CC_OK;
}

static void *waker_main(void *arg)
{
    struct waker *w = arg;
    struct cc_error err;
    w->rc = cc_store_write(w->store, w->n < 0 ? gate_tx : counted_tx,
                           w->n < 0 ? (void *)w->g : (void *)w, &err);
    return NULL;
}

static int queued(struct sq *q)
{
    int n = 0;
    pthread_mutex_lock(&q->mu);
    for (struct job *j = q->head; j; j = j->next)
        n++;
    pthread_mutex_unlock(&q->mu);
    return n;
}

/* Starts gw's write (the gate) on *t and returns once the writer runs it:
 * the writes made now queue behind it until gate_open. */
static void gate_hold(struct svc_fixture *f, struct gate *g, struct waker *gw, pthread_t *t)
{
    *gw = (struct waker){f->store, g, -1, CC_ERR_INTERNAL};
    assert_int_equal(pthread_create(t, NULL, waker_main, gw), 0);
    pthread_mutex_lock(&g->mu);
    while (!g->entered)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Opens f for a test of the SQLite backend's own behaviour; on PostgreSQL
 * (CC_TEST_PG) the test is skipped. */
static void open_sqlite_fixture(struct svc_fixture *f)
{
    assert_int_equal(svc_fixture_open(f, 0), 0);
    if (f->pg_db[0]) {
        assert_int_equal(svc_fixture_close(f), 0);
        skip();
    }
}

static void test_batch_wakes_every_write(void **state)
{
    (void)state;
    struct svc_fixture f;
    open_sqlite_fixture(&f); /* PostgreSQL's batches are its own */
    struct sq *q = f.store->impl;
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    struct waker w[WAKERS + 1];
    pthread_t t[WAKERS + 1];
    gate_hold(&f, &g, &w[0], &t[0]);
    for (int i = 1; i <= WAKERS; i++) {
        w[i] = (struct waker){f.store, &g, i, CC_ERR_INTERNAL};
        assert_int_equal(pthread_create(&t[i], NULL, waker_main, &w[i]), 0);
    }
    while (queued(q) < WAKERS)
        sched_yield();
    gate_open(&g);
    for (int i = 0; i <= WAKERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(w[0].rc, CC_OK);
    for (int i = 1; i <= WAKERS; i++)
        assert_int_equal(w[i].rc, i % 3 == 2 ? CC_ERR_ALREADY_EXISTS : CC_OK);
    assert_int_equal(g.ran, WAKERS);
    svc_fixture_close(&f);
}

/* Writes that check first (cc_store_write_checks_first) run without a
 * savepoint. One refused before any change leaves the writes of its batch
 * as they were; one that fails after a change leaves nothing: its batch is
 * undone and every write in it fails with its error. Batches are formed as
 * in test_batch_wakes_every_write: the writer held, the writes queued
 * behind it in order. */
struct cf_write {
    struct cc_store *store;
    struct gate *g;
    const char *sql;    /* run on the writer's connection; NULL: none */
    int fail;           /* then return an error */
    int checks_first;
    enum cc_err rc;
    struct cc_error err;
};

static enum cc_err cf_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct cf_write *w = arg;
    struct conn *c = tx->impl;
    if (w->sql && sqlite3_exec(c->db, w->sql, NULL, NULL, NULL) != SQLITE_OK)
        return cc_error_set(err, CC_ERR_STORE, NULL, "%s", sqlite3_errmsg(c->db));
    return w->fail ? cc_error_set(err, CC_ERR_ALREADY_EXISTS, NULL, "refused %d", w->fail)
                   : CC_OK;
}

static void *cf_main(void *arg)
{
    struct cf_write *w = arg;
    w->rc = w->checks_first ? cc_store_write_checks_first(w->store, cf_tx, w, &w->err)
                            : cc_store_write(w->store, cf_tx, w, &w->err);
    return NULL;
}

/* Runs the writes of w as one batch, in order, behind a held writer. */
static void cf_batch(struct svc_fixture *f, struct cf_write *w, int n)
{
    struct sq *q = f->store->impl;
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    struct waker gw;
    pthread_t gt, t[8];
    assert_true(n <= 8);
    gate_hold(f, &g, &gw, &gt);
    for (int i = 0; i < n; i++) {
        w[i].store = f->store;
        assert_int_equal(pthread_create(&t[i], NULL, cf_main, &w[i]), 0);
        while (queued(q) < i + 1) /* in this order */
            sched_yield();
    }
    gate_open(&g);
    pthread_join(gt, NULL);
    for (int i = 0; i < n; i++)
        pthread_join(t[i], NULL);
}

static int64_t cf_rows(struct svc_fixture *f)
{
    sqlite3 *db;
    int64_t n = -1;
    struct sq *q = f->store->impl;
    if (sqlite3_open_v2(q->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
        sqlite3_stmt *s;
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM cf_rows", -1, &s, NULL) == SQLITE_OK) {
            if (sqlite3_step(s) == SQLITE_ROW)
                n = sqlite3_column_int64(s, 0);
            sqlite3_finalize(s);
        }
    }
    sqlite3_close(db);
    return n;
}

static void test_writes_that_check_first(void **state)
{
    (void)state;
    struct svc_fixture f;
    open_sqlite_fixture(&f); /* PostgreSQL runs every write in a savepoint */
    struct cf_write mk = {.sql = "CREATE TABLE cf_rows(x INTEGER UNIQUE)"};
    mk.store = f.store;
    cf_main(&mk);
    assert_int_equal(mk.rc, CC_OK);
    const char *ins1 = "INSERT INTO cf_rows VALUES (1)", *ins2 = "INSERT INTO cf_rows VALUES (2)",
               *ins3 = "INSERT INTO cf_rows VALUES (3)";

    /* refused before any change: the others are kept */
    struct cf_write a[3] = {{.sql = ins1}, {.fail = 1, .checks_first = 1},
                            {.sql = ins2, .checks_first = 1}};
    cf_batch(&f, a, 3);
    assert_int_equal(a[0].rc, CC_OK);
    assert_int_equal(a[1].rc, CC_ERR_ALREADY_EXISTS);
    assert_int_equal(a[2].rc, CC_OK);
    assert_int_equal(cf_rows(&f), 2);

    /* a statement of its refused (a UNIQUE clash), nothing changed: the
     * same */
    struct cf_write b[2] = {{.sql = ins1, .checks_first = 1}, {.sql = ins3}};
    cf_batch(&f, b, 2);
    assert_int_equal(b[0].rc, CC_ERR_STORE);
    assert_int_equal(b[1].rc, CC_OK);
    assert_int_equal(cf_rows(&f), 3);

    /* failed after a change: its batch undone, each write failing with its
     * error, the write after it too; nothing of them kept */
    struct cf_write c[4] = {{.sql = "INSERT INTO cf_rows VALUES (4)"},
                            {.sql = "INSERT INTO cf_rows VALUES (5)", .checks_first = 1},
                            {.sql = "INSERT INTO cf_rows VALUES (6)", .fail = 2,
                             .checks_first = 1},
                            {.sql = "INSERT INTO cf_rows VALUES (7)"}};
    cf_batch(&f, c, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(c[i].rc, CC_ERR_ALREADY_EXISTS);
        assert_string_equal(c[i].err.message, "refused 2");
    }
    assert_int_equal(cf_rows(&f), 3);

    /* and the writer goes on */
    struct cf_write d = {.sql = "INSERT INTO cf_rows VALUES (8)", .checks_first = 1};
    d.store = f.store;
    cf_main(&d);
    assert_int_equal(d.rc, CC_OK);
    assert_int_equal(cf_rows(&f), 4);
    svc_fixture_close(&f);
}

/* Writes queued without a waiter (cc_store_write_queued) share a batch with
 * the waited-for ones, in order: each queued write's done is called once,
 * on the writer thread, with its own outcome and error, after the batch's
 * commit; a refused one leaves the others as they were. A store that
 * closes runs the writes still queued and tells each first. */
struct told {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;             /* done's calls, all writes together */
    int n[4];              /* done's calls a write */
    enum cc_err rc[4];
    int on_caller;         /* a done ran on the thread that queued it */
    pthread_t caller;
    int64_t rows_seen[4];  /* the rows a fresh connection saw when done was called */
    struct svc_fixture *f;
};

struct told_arg {
    struct told *t;
    int i;
};

static int64_t cf_rows(struct svc_fixture *f);

static void told_done(void *arg, enum cc_err rc)
{
    struct told_arg *a = arg;
    struct told *t = a->t;
    int64_t rows = cf_rows(t->f);
    pthread_mutex_lock(&t->mu);
    t->n[a->i]++;
    t->rc[a->i] = rc;
    t->rows_seen[a->i] = rows;
    t->on_caller |= pthread_equal(pthread_self(), t->caller);
    t->calls++;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static void told_wait(struct told *t, int calls)
{
    pthread_mutex_lock(&t->mu);
    while (t->calls < calls)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static void test_queued_writes(void **state)
{
    (void)state;
    struct svc_fixture f;
    open_sqlite_fixture(&f); /* PostgreSQL queues no writes */
    assert_true(cc_store_queues_writes(f.store));
    struct sq *q = f.store->impl;
    struct cf_write mk = {.sql = "CREATE TABLE cf_rows(x INTEGER UNIQUE)"};
    mk.store = f.store;
    cf_main(&mk);
    assert_int_equal(mk.rc, CC_OK);

    struct told t = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, {0}, {0}, 0,
                     pthread_self(), {0}, &f};
    struct told_arg ta[4] = {{&t, 0}, {&t, 1}, {&t, 2}, {&t, 3}};
    /* one batch behind the held writer: waited for, queued, queued and
     * refused, waited for */
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0};
    struct waker gw;
    pthread_t gt, t0, t3;
    gate_hold(&f, &g, &gw, &gt);
    struct cf_write w[4] = {{.sql = "INSERT INTO cf_rows VALUES (1)"},
                            {.sql = "INSERT INTO cf_rows VALUES (2)", .checks_first = 1},
                            {.fail = 1, .checks_first = 1},
                            {.sql = "INSERT INTO cf_rows VALUES (3)"}};
    for (int i = 0; i < 4; i++)
        w[i].store = f.store;
    assert_int_equal(pthread_create(&t0, NULL, cf_main, &w[0]), 0);
    while (queued(q) < 1)
        sched_yield();
    for (int i = 1; i <= 2; i++)
        assert_int_equal(cc_store_write_queued(f.store, cf_tx, &w[i], CC_STORE_WRITE_CHECKS_FIRST,
                                               told_done, &ta[i], &w[i].err),
                         CC_OK);
    assert_int_equal(queued(q), 3);
    assert_int_equal(t.calls, 0); /* not before its batch runs */
    assert_int_equal(pthread_create(&t3, NULL, cf_main, &w[3]), 0);
    while (queued(q) < 4)
        sched_yield();
    gate_open(&g);
    pthread_join(gt, NULL);
    pthread_join(t0, NULL);
    pthread_join(t3, NULL);
    told_wait(&t, 2);
    assert_int_equal(w[0].rc, CC_OK);
    assert_int_equal(w[3].rc, CC_OK);
    assert_int_equal(t.n[1], 1);
    assert_int_equal(t.rc[1], CC_OK);
    assert_int_equal(t.rows_seen[1], 3); /* told after the commit: the batch is there */
    assert_int_equal(t.n[2], 1);
    assert_int_equal(t.rc[2], CC_ERR_ALREADY_EXISTS);
    assert_string_equal(w[2].err.message, "refused 1");
    assert_false(t.on_caller);
    assert_int_equal(cf_rows(&f), 3);

    /* queued, then the store closes: the writes run, and each is told */
    struct cf_write late[2] = {{.sql = "INSERT INTO cf_rows VALUES (4)"},
                               {.sql = "INSERT INTO cf_rows VALUES (5)"}};
    char path[512];
    snprintf(path, sizeof path, "%s", q->path);
    for (int i = 0; i < 2; i++)
        assert_int_equal(cc_store_write_queued(f.store, cf_tx, &late[i], 0, told_done,
                                               &ta[i == 0 ? 0 : 3], &late[i].err),
                         CC_OK);
    svc_fixture_stop(&f);
    assert_int_equal(t.calls, 4);
    assert_int_equal(t.n[0], 1);
    assert_int_equal(t.n[3], 1);
    assert_int_equal(t.rc[0], CC_OK);
    assert_int_equal(t.rc[3], CC_OK);
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM cf_rows", -1, &st, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(st, 0), 5);
    sqlite3_finalize(st);
    sqlite3_close(db);
    svc_fixture_remove(&f);
}

/* A deleted row's bytes do not stay in the database file: the writer zeroes
 * them in the page its delete writes (secure_delete=FAST). Checked in the
 * file after the store is closed (the last connection copies the WAL into
 * it); with secure_delete off the row's text stays in the page's free
 * space and the test fails. */
static void test_deleted_row_zeroed(void **state)
{
    (void)state;
    struct svc_fixture f;
    open_sqlite_fixture(&f);
    struct cf_write w = {.sql = "CREATE TABLE sd_rows(x TEXT);"
                                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                                "WHERE i < 40) INSERT INTO sd_rows SELECT 'kept-row-' || i FROM n;"
                                "INSERT INTO sd_rows VALUES ('forget-me-4f1c9a');"
                                "INSERT INTO sd_rows VALUES ('kept-row-last');"};
    w.store = f.store;
    cf_main(&w);
    assert_int_equal(w.rc, CC_OK);
    struct cf_write d = {.sql = "DELETE FROM sd_rows WHERE x = 'forget-me-4f1c9a'"};
    d.store = f.store;
    cf_main(&d);
    assert_int_equal(d.rc, CC_OK);
    svc_fixture_stop(&f);
    char path[sizeof f.dir + 8];
    snprintf(path, sizeof path, "%s/t.db", f.dir);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    static char data[1 << 20];
    size_t n = fread(data, 1, sizeof data, fp);
    fclose(fp);
    assert_non_null(memmem(data, n, "kept-row-last", 13)); /* the file holds the table */
    assert_null(memmem(data, n, "forget-me-4f1c9a", 16));
    assert_int_equal(svc_fixture_remove(&f), 0);
}

static sqlite3 *queue_db(const struct svc_fixture *f)
{
    char path[128];
    snprintf(path, sizeof path, "%s/t.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static int64_t queue_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
}

/* Waits (5 s at most) for the queue to be empty; 1 when it was. */
static int queue_drains(sqlite3 *db)
{
    for (int i = 0; i < 1000; i++) {
        if (queue_int(db, "SELECT count(*) FROM contacts_fts_queue") == 0)
            return 1;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

static const char rename_sql[] =
    "UPDATE contacts SET search_text = replace(search_text, '%s', '%s') WHERE name = 'Queue Probe'";

static void queue_rename(sqlite3 *db, const char *from, const char *to)
{
    char sql[256];
    snprintf(sql, sizeof sql, rename_sql, from, to);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_true(queue_int(db, "SELECT count(*) FROM contacts_fts_queue") > 0);
}

static int64_t queue_indexed(sqlite3 *db, const char *phrase)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM contacts_fts WHERE contacts_fts MATCH '\"%s\"'",
             phrase);
    return queue_int(db, sql);
}

static void test_search_index_runs(void **state)
{
    (void)state;
    struct svc_fixture f;
    open_sqlite_fixture(&f); /* PostgreSQL's indexes are its own */
    struct cc_caller admin;
    svc_fixture_admin(&f, &admin);
    sqlite3 *db = queue_db(&f);
    int64_t id = svc_fixture_contact_named(&f, &admin, "Queue Probe", NULL, "+86 13800000001");
    assert_true(id > 0);
    assert_true(queue_drains(db)); /* no search, no write: the writer's own run */
    assert_int_equal(queue_indexed(db, "queue probe"), 1);

    /* queued by hand: the writer does not know, a keyword search has it learnt */
    queue_rename(db, "queue probe", "zebra probe");
    struct cc_contact_page p;
    assert_int_equal(svc_fixture_search(&f, admin.account_id, "zebra", 10, 0, &p), CC_OK);
    assert_int_equal(p.total, 1);
    assert_int_equal(p.items[0].id, id);
    cc_contact_page_free(&p);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM contacts_fts_queue"), 0);
    assert_int_equal(svc_fixture_search(&f, admin.account_id, "queue", 10, 0, &p), CC_OK); /* the old text left the index */
    assert_int_equal(p.total, 0);
    cc_contact_page_free(&p);

    /* queued by hand, then any write: learnt a moment later without a search */
    queue_rename(db, "zebra probe", "queue probe");
    assert_true(svc_fixture_contact_named(&f, &admin, "Other", NULL, "+86 13800000002") > 0);
    assert_true(queue_drains(db));
    assert_int_equal(queue_indexed(db, "queue probe"), 1);
    assert_int_equal(queue_indexed(db, "zebra"), 0);

    /* left queued by a process that stopped: learnt after the next start */
    cc_service_free(f.svc);
    f.svc = NULL;
    cc_store_close(f.store);
    queue_rename(db, "queue probe", "yak probe");
    struct cc_store_config sc = {.url = f.url, .busy_timeout_ms = 5000, .max_batch = 256};
    struct cc_error err;
    assert_int_equal(cc_store_open(&sc, &f.store, &err), CC_OK);
    assert_true(queue_drains(db));
    assert_int_equal(queue_indexed(db, "yak probe"), 1);
    assert_int_equal(queue_indexed(db, "queue probe"), 0);
    sqlite3_close(db);
    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}


/* Waits (5 s at most) for the writer to take its read pin; 1 when it did. */
static int pin_taken(struct sq *q)
{
    for (int i = 0; i < 5000 && !__atomic_load_n(&q->pinned, __ATOMIC_ACQUIRE); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return __atomic_load_n(&q->pinned, __ATOMIC_ACQUIRE);
}

/* The writer's read pin (sqlite_writer.c) is let go before every write:
 * the WAL still starts again from the beginning after each checkpoint, so
 * it does not grow past the checkpoint's size, and the writer's connection,
 * the last to close, still removes it. With no reads, or when another
 * process writes, the pin goes by itself: it would keep that process from
 * starting the WAL again. */
static void test_read_pin(void **state)
{
    (void)state;
    struct svc_fixture f;
    open_sqlite_fixture(&f);
    struct sq *q = f.store->impl;
    struct cf_write w = {.sql = "CREATE TABLE pin_rows(x BLOB)", .store = f.store};
    cf_main(&w);
    assert_int_equal(w.rc, CC_OK);
    sqlite3 *db = queue_db(&f);
    int64_t page = queue_int(db, "PRAGMA page_size");
    sqlite3_close(db);
    int64_t ckpt = 0;
    assert_int_equal(cc_parse_i64(CC_SQ_WAL_CHECKPOINT_PAGES, 1, INT32_MAX, &ckpt), 0);
    char wal[sizeof f.dir + 16];
    snprintf(wal, sizeof wal, "%s/t.db-wal", f.dir);
    /* 64 KiB a write, with the pin taken before each: ~1.7 times the
     * checkpoint's size in all, which a WAL that never restarts holds */
    int writes = (int)(ckpt * 17 / 10 * page / 65536) + 1;
    for (int i = 0; i < writes; i++) {
        assert_true(pin_taken(q));
        struct cf_write r = {.sql = "INSERT INTO pin_rows VALUES (randomblob(65536))",
                             .store = f.store};
        cf_main(&r);
        assert_int_equal(r.rc, CC_OK);
    }
    assert_true(pin_taken(q));
    struct stat st;
    assert_int_equal(stat(wal, &st), 0);
    assert_true(st.st_size < (ckpt + ckpt / 4) * page);
    for (int i = 0; i < 5000 && __atomic_load_n(&q->pinned, __ATOMIC_ACQUIRE); i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_false(__atomic_load_n(&q->pinned, __ATOMIC_ACQUIRE)); /* nothing read: let go */
    /* reads go on and another process writes: the pin goes all the same */
    struct cf_write one = {.sql = "INSERT INTO pin_rows VALUES (1)", .store = f.store};
    cf_main(&one);
    assert_int_equal(one.rc, CC_OK);
    assert_true(pin_taken(q));
    db = queue_db(&f);
    assert_int_equal(sqlite3_exec(db, "INSERT INTO pin_rows VALUES (2)", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    struct cf_write none = {.store = f.store};
    int gone = 0;
    for (int i = 0; i < 3000 && !gone; i++) {
        assert_int_equal(cc_store_read(f.store, cf_tx, &none, &none.err), CC_OK);
        gone = !__atomic_load_n(&q->pinned, __ATOMIC_ACQUIRE);
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    assert_true(gone);
    db = queue_db(&f);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM pin_rows"), writes + 2);
    sqlite3_close(db);
    svc_fixture_stop(&f);
    assert_int_equal(stat(wal, &st), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(svc_fixture_remove(&f), 0);
}

/* Migrations 0031 and 0032 (SQLite) copy notifications and delivery_attempts
 * into tables whose CHECK constraints say the same in other words (0031) and
 * that number their rows without AUTOINCREMENT, index no event and keep the
 * idempotency key without a UNIQUE index, each event with its notifications'
 * range (0032): run again on a database that holds some, they keep every
 * row and id, the events' counter, the cascade from a notification to its
 * attempts, and the constraints; each event gets its notifications' range,
 * the next row takes the largest id plus one, and no sequence is kept for
 * either table. */
static void test_notification_checks_migration(void **state)
{
    (void)state;
    struct svc_fixture f;
    open_sqlite_fixture(&f); /* a SQLite migration */
    sqlite3 *db = queue_db(&f);
    static const char fill[] =
        "INSERT INTO events(id, account_id, type, data, created_at) VALUES (7, 1, 'issued', '{}', 1);"
        "INSERT INTO notifications(id, account_id, event_id, contact_id, channel, target, status, "
        "next_attempt_at, idempotency_key, created_at, updated_at) VALUES "
        "(40, 1, 7, 1, 'email', 'a***@example.com', 'delivered', 1, 'k40', 1, 2), "
        "(41, 1, 7, 1, 'webhook', 'https://x/***', 'pending', 1, 'k41', 1, 1);"
        "INSERT INTO delivery_attempts(id, notification_id, started_at, latency_ms, outcome) "
        "VALUES (90, 40, 1, 5, 'delivered'), (91, 41, 1, 5, 'retry');"
        "INSERT INTO events(id, account_id, type, data, created_at) VALUES (8, 1, 'issued', '{}', 1);"
        "DELETE FROM schema_migrations WHERE version IN (31, 32);";
    assert_int_equal(sqlite3_exec(db, fill, NULL, NULL, NULL), SQLITE_OK);
    static const char indexes[] =
        "SELECT count(*) * 1000 + sum(sql LIKE '% WHERE %') FROM sqlite_master WHERE type = "
        "'index' AND tbl_name IN ('notifications', 'delivery_attempts')";
    assert_int_equal(queue_int(db, indexes), 6003); /* 0032's: 6, 3 of them partial */
    struct cc_error err;
    assert_int_equal(cc_store_migrate(f.store, &err), CC_OK);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM schema_migrations WHERE version IN "
                                   "(31, 32)"), 2);
    assert_int_equal(queue_int(db, "SELECT sum(id) FROM notifications"), 81);
    assert_int_equal(queue_int(db, "SELECT sum(id) FROM delivery_attempts"), 181);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM sqlite_sequence WHERE name IN "
                                   "('notifications', 'delivery_attempts')"), 0);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM sqlite_master WHERE sql LIKE "
                                   "'%AUTOINCREMENT%' AND name IN ('notifications', "
                                   "'delivery_attempts')"), 0);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_v31' "
                                   "OR name LIKE '%_v32'"), 0);
    assert_int_equal(queue_int(db, indexes), 6003); /* the same indexes, partial or not */
    assert_int_equal(queue_int(db, "SELECT count(*) FROM sqlite_master WHERE sql LIKE "
                                   "'%UNIQUE%' AND tbl_name = 'notifications'"), 0);
    assert_int_equal(queue_int(db, "SELECT first_notification_id * 1000 + "
                                   "last_notification_id FROM events WHERE id = 7"), 40041);
    assert_int_equal(queue_int(db, "SELECT first_notification_id + last_notification_id FROM "
                                   "events WHERE id = 8"), 0); /* none */
    assert_int_equal(queue_int(db, "SELECT seq FROM sqlite_sequence WHERE name = 'events'"), 8);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM sqlite_master WHERE name = "
                                   "'events_account'"), 1);
    /* the constraints hold, in their new words */
    assert_int_not_equal(sqlite3_exec(db, "UPDATE notifications SET status = 'bogus' WHERE id = 41",
                                      NULL, NULL, NULL), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(db, "UPDATE notifications SET channel = 'fax' WHERE id = 41",
                                      NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE notifications SET status = 'skipped' WHERE id = 41",
                                  NULL, NULL, NULL), SQLITE_OK);
    /* a notification's attempts go with it */
    assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM notifications WHERE "
                                      "id = 40", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM delivery_attempts"), 1);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    /* the next rows take the largest id plus one */
    assert_int_equal(sqlite3_exec(db, "INSERT INTO notifications(account_id, event_id, "
                                      "contact_id, channel, target, status, next_attempt_at, "
                                      "idempotency_key, created_at, updated_at) VALUES (1, 7, 1, "
                                      "'email', 'x', 'pending', 1, 'k42', 1, 1); INSERT INTO "
                                      "delivery_attempts(notification_id, started_at, latency_ms, "
                                      "outcome) VALUES (41, 1, 5, 'retry')", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(queue_int(db, "SELECT max(id) FROM notifications"), 42);
    assert_int_equal(queue_int(db, "SELECT max(id) FROM delivery_attempts"), 92);
    sqlite3_close(db);
    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_generation),
        cmocka_unit_test(test_state_update_exact),
        cmocka_unit_test(test_nonce_take),
        cmocka_unit_test(test_limiter_shared),
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_batch_wakes_every_write),
        cmocka_unit_test(test_writes_that_check_first),
        cmocka_unit_test(test_queued_writes),
        cmocka_unit_test(test_deleted_row_zeroed),
        cmocka_unit_test(test_read_pin),
        cmocka_unit_test(test_read_mark),
        cmocka_unit_test(test_held_read),
        cmocka_unit_test(test_search_index_runs),
        cmocka_unit_test(test_notification_checks_migration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
