/*
 * test_store.c — the store's key generation: it stays put while nothing
 * touches an access key, and moves when a key is disabled by another store
 * on the same database (as the CLI does from another process), so the
 * service's key cache knows it is stale. And the limits of a whole
 * deployment (store.h's shared states and nonces), on either backend: exact
 * under threads and across two stores on one database, as two instances are.
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

static enum cc_err insert_account(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    return cc_tx_account_insert(tx, "other", 1, arg, err);
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
    assert_int_equal(cc_store_write(f.store, insert_account, &id, &err), CC_OK);
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
    assert_int_equal(cc_store_write(f.store, insert_account, &id, &err), CC_OK);
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
    cc_limiter_block(a, CC_WEBHOOK_DINGTALK, url2, t0 + 600000, t0);
    assert_int_equal(cc_limiter_reserve(b, CC_WEBHOOK_DINGTALK, url2, t0 + 1), t0 + 600000);
    assert_int_equal(cc_limiter_reserve(b, CC_WEBHOOK_DINGTALK, url2, t0 + 600001), 0);
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

/* ---- writes that always meet ------------------------------------------------
 * Every contact create of one account counts it on the account's row and
 * appends to the audit chain: sixteen threads creating at once must all
 * succeed (on PostgreSQL they queue once they have met, never give up). */
#define CREATORS 16

struct creator {
    struct svc_fixture *f;
    int base, failed, dups;
};

static void *create_many(void *arg)
{
    struct creator *c = arg;
    struct cc_caller admin;
    svc_fixture_admin(c->f, &admin);
    for (int i = 0; i < 40; i++) {
        char mobile[32];
        snprintf(mobile, sizeof mobile, "+86 139%08d", c->base + i);
        if (svc_fixture_contact(c->f, &admin, mobile) < 0)
            c->failed++;
        /* every fifth time, a mobile taken already: refused alone, nothing
         * of it kept, the writes beside it untouched */
        if (i % 5 == 4) {
            snprintf(mobile, sizeof mobile, "+86 139%08d", c->base);
            c->dups += svc_fixture_contact(c->f, &admin, mobile) < 0;
        }
    }
    cc_store_thread_done(c->f->store);
    return NULL;
}

/* CREATORS threads run create_many at once, thread i from mobile number
 * base + i * step, and are joined. */
static void create_together(struct svc_fixture *f, struct creator *c, int base, int step)
{
    pthread_t t[CREATORS];
    for (int i = 0; i < CREATORS; i++) {
        c[i] = (struct creator){f, base + step * i, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, create_many, &c[i]), 0);
    }
    for (int i = 0; i < CREATORS; i++)
        pthread_join(t[i], NULL);
}

static void test_hot_writes(void **state)
{
    (void)state;
    struct svc_fixture f;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    struct creator c[CREATORS];
    create_together(&f, c, 1000, 1000);
    for (int i = 0; i < CREATORS; i++) {
        assert_int_equal(c[i].failed, 0);
        assert_int_equal(c[i].dups, 8);
    }
    struct cc_caller admin;
    svc_fixture_admin(&f, &admin);
    struct cc_contact_page page;
    memset(&page, 0, sizeof page);
    struct cc_error lerr;
    assert_int_equal(cc_contact_list(f.svc, &admin, NULL, 1, 1, &page, &lerr), CC_OK);
    assert_int_equal(page.total, CREATORS * 40);
    cc_contact_page_free(&page);
    /* every create is in the chain, and the chain holds */
    struct cc_error err;
    struct cc_audit_report rep;
    memset(&rep, 0, sizeof rep);
    assert_int_equal(cc_audit_verify(f.svc, &rep, &err), CC_OK);
    assert_int_equal(rep.bad_id, 0);
    assert_true(rep.checked >= CREATORS * 40);
    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* One keyword search straight at the store: page 1 of page_size, counted up to count_max. */
static void search(struct svc_fixture *f, int64_t account, const char *kw, int64_t page_size,
                   int64_t count_max, struct cc_contact_page *out)
{
    struct cc_contact_query q = {.account_id = account, .keyword = kw, .page = 1,
                                 .page_size = page_size, .count_max = count_max};
    struct cc_error err;
    memset(out, 0, sizeof *out);
    assert_int_equal(cc_store_contact_list(f->store, &q, out, &err), CC_OK);
}

/* Contacts written together in batches are found by the trigram index (written
 * once per batch, migration 0026) newest first; a change of name moves them in
 * it, a deletion takes them out; and a keyword's count stops at count_max with
 * total_capped set, the page itself uncut. */
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

static void test_search_index_and_count(void **state)
{
    (void)state;
    struct svc_fixture f;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    struct creator c[CREATORS];
    create_together(&f, c, 5000, 100);
    struct cc_caller admin;
    svc_fixture_admin(&f, &admin);
    int64_t acct = admin.account_id;
    struct cc_contact_page p;
    /* "13900005" + one more digit: the first creator's 40 mobiles 13900005000..039 */
    search(&f, acct, "139000050", 100, 0, &p);
    assert_int_equal(p.total, 40);
    assert_int_equal(p.total_capped, 0);
    assert_int_equal(p.n, 40);
    int64_t all[40];
    for (size_t i = 0; i < p.n; i++) {
        all[i] = p.items[i].id;
        if (i)
            assert_true(p.items[i - 1].id > p.items[i].id); /* newest first */
    }
    int64_t first = p.items[p.n - 1].id, newest = p.items[0].id;
    cc_contact_page_free(&p);
    /* counted (the sole account's ids read oldest first and turned round, or
     * read again newest first when there are more than count_max): every
     * page is the same rows in the same order as the uncounted list */
    for (int64_t page = 1; page <= 4; page++)
        for (int64_t count_max = 12; count_max <= 50; count_max += 38) {
            struct cc_contact_query qp = {.account_id = acct, .keyword = "139000050",
                                          .page = page, .page_size = 10,
                                          .count_max = count_max};
            struct cc_error ep;
            memset(&p, 0, sizeof p);
            assert_int_equal(cc_store_contact_list(f.store, &qp, &p, &ep), CC_OK);
            assert_int_equal(p.total, count_max < 40 ? count_max : 40);
            assert_int_equal(p.total_capped, count_max < 40);
            assert_int_equal(p.n, 10);
            for (size_t i = 0; i < p.n; i++)
                assert_int_equal(p.items[i].id, all[(page - 1) * 10 + (int64_t)i]);
            cc_contact_page_free(&p);
        }
    /* counted up to 25: the total says "at least 25", the page is whole */
    search(&f, acct, "139000050", 10, 25, &p);
    assert_int_equal(p.total, 25);
    assert_int_equal(p.total_capped, 1);
    assert_int_equal(p.n, 10);
    assert_int_equal(p.items[0].id, newest);
    cc_contact_page_free(&p);
    /* page 3 lies past the 26 matches read to count them: read as usual, newest first */
    struct cc_contact_query q3 = {.account_id = acct, .keyword = "139000050", .page = 3,
                                  .page_size = 10, .count_max = 25};
    struct cc_error e3;
    memset(&p, 0, sizeof p);
    assert_int_equal(cc_store_contact_list(f.store, &q3, &p, &e3), CC_OK);
    assert_int_equal(p.total, 25);
    assert_int_equal(p.total_capped, 1);
    assert_int_equal(p.n, 10); /* past the count: "at least 25", and the pages go on */
    for (size_t i = 1; i < p.n; i++)
        assert_true(p.items[i - 1].id > p.items[i].id);
    cc_contact_page_free(&p);
    search(&f, acct, "139000050", 10, 40, &p); /* exactly count_max: exact */
    assert_int_equal(p.total, 40);
    assert_int_equal(p.total_capped, 0);
    cc_contact_page_free(&p);
    /* one and two characters go another way (contacts_grams): capped alike */
    search(&f, acct, "9", 5, 30, &p);
    assert_int_equal(p.total, 30);
    assert_int_equal(p.total_capped, 1);
    assert_int_equal(p.n, 5);
    cc_contact_page_free(&p);
    /* renamed: found by its new name, no longer by the old text */
    struct cc_contact_input in;
    memset(&in, 0, sizeof in);
    in.present = CC_F_NAME;
    in.name = "Quokka Renamed";
    struct cc_contact *ct = cc_malloc(sizeof *ct);
    struct cc_error err;
    assert_int_equal(cc_contact_update(f.svc, &admin, first, &in, -1, ct, &err), CC_OK);
    cc_free(ct);
    search(&f, acct, "quokka", 10, 0, &p);
    assert_int_equal(p.total, 1);
    assert_int_equal(p.items[0].id, first);
    cc_contact_page_free(&p);
    /* deleted: gone from the index */
    struct cc_contact_use use;
    assert_int_equal(cc_contact_delete(f.svc, &admin, first, &use, &err), CC_OK);
    cc_contact_use_free(&use);
    search(&f, acct, "quokka", 10, 0, &p);
    assert_int_equal(p.total, 0);
    cc_contact_page_free(&p);
    search(&f, acct, "139000050", 100, 0, &p);
    assert_int_equal(p.total, 39);
    cc_contact_page_free(&p);
    /* a second account with a contact that matches too: each account finds its own
     * (the account is no longer the only one, so each match is checked) */
    int64_t other = 0;
    assert_int_equal(cc_store_write(f.store, insert_account, &other, &err), CC_OK);
    struct cc_caller them = admin;
    them.account_id = other;
    int64_t theirs = svc_fixture_contact(&f, &them, "+86 13900005001");
    assert_true(theirs > 0);
    search(&f, acct, "139000050", 100, 0, &p);
    assert_int_equal(p.total, 39);
    for (size_t i = 0; i < p.n; i++)
        assert_true(p.items[i].id != theirs);
    cc_contact_page_free(&p);
    search(&f, acct, "139000050", 10, 20, &p);
    assert_int_equal(p.total, 20);
    assert_int_equal(p.total_capped, 1);
    cc_contact_page_free(&p);
    search(&f, other, "139000050", 100, 0, &p);
    assert_int_equal(p.total, 1);
    assert_int_equal(p.items[0].id, theirs);
    cc_contact_page_free(&p);
    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* ---- keywords of one and two characters ---------------------------------------
 * Found through the short keyword index (SQLite: contacts_grams, migration
 * 0027; PostgreSQL: pg_trgm) with the meaning they always had: the contacts
 * whose search_text (name, email, mobile lower-cased, a line each) contains
 * the keyword, newest first. The answer each search must give is worked out
 * here from every contact of the account with strstr. */
#define SHORT_MAX 1000

/* A contact with name, email (NULL: none) and mobile, made by caller. */
static int64_t short_contact(struct svc_fixture *f, const struct cc_caller *caller,
                             const char *name, const char *email, const char *mobile)
{
    struct cc_contact_input in;
    memset(&in, 0, sizeof in);
    in.present = CC_F_NAME | CC_F_MOBILE | (email ? CC_F_EMAIL : 0);
    in.name = name;
    in.email = email;
    in.mobile = mobile;
    struct cc_contact *c = cc_malloc(sizeof *c);
    struct cc_error err;
    int replayed;
    enum cc_err rc = cc_contact_create(f->svc, caller, &in, NULL, NULL, c, &replayed, &err);
    int64_t id = rc ? -1 : c->id;
    cc_free(c);
    assert_true(id > 0);
    return id;
}

/* The ids (newest first) of account's contacts whose search text holds kw. */
static size_t short_expected(struct svc_fixture *f, int64_t account, const char *kw,
                             int64_t *ids)
{
    char low[64], text[CC_NAME_MAX_BYTES + CC_EMAIL_MAX + CC_MOBILE_MAX + 8];
    cc_strlcpy(low, kw, sizeof low);
    cc_ascii_lower(low);
    struct cc_contact_page all;
    search(f, account, NULL, SHORT_MAX, 0, &all);
    assert_true(all.total < SHORT_MAX);
    size_t n = 0;
    for (size_t i = 0; i < all.n; i++) {
        if (i)
            assert_true(all.items[i - 1].id > all.items[i].id);
        cc_store_search_text(&all.items[i], text, sizeof text);
        if (strstr(text, low))
            ids[n++] = all.items[i].id;
    }
    cc_contact_page_free(&all);
    return n;
}

/* kw finds in account exactly what short_expected says (want: how many that
 * is, -1: any), whole and counted up to 3 with a page of 2; returns it. */
static size_t short_check(struct svc_fixture *f, int64_t account, const char *kw, long want)
{
    static int64_t ids[SHORT_MAX];
    size_t n = short_expected(f, account, kw, ids);
    if (want >= 0 && n != (size_t)want)
        print_error("keyword \"%s\": %zu contacts hold it, not %ld\n", kw, n, want);
    if (want >= 0)
        assert_int_equal(n, want);
    struct cc_contact_page p;
    search(f, account, kw, SHORT_MAX, 0, &p);
    assert_int_equal(p.total, n);
    assert_int_equal(p.total_capped, 0);
    assert_int_equal(p.n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p.items[i].id, ids[i]);
    cc_contact_page_free(&p);
    search(f, account, kw, 2, 3, &p);
    assert_int_equal(p.total, n > 3 ? 3 : n);
    assert_int_equal(p.total_capped, n > 3);
    assert_int_equal(p.n, n < 2 ? n : 2);
    for (size_t i = 0; i < p.n; i++)
        assert_int_equal(p.items[i].id, ids[i]);
    cc_contact_page_free(&p);
    return n;
}

static void test_search_short_keywords(void **state)
{
    (void)state;
    struct svc_fixture f;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    struct creator c[CREATORS];
    create_together(&f, c, 7000, 100); /* 640 named "A", mobiles +86139000070.. */
    struct cc_caller admin;
    svc_fixture_admin(&f, &admin);
    int64_t acct = admin.account_id;
    int64_t li = short_contact(&f, &admin, "Li Wei", "li.wei@example.com", "+86 13800000001");
    int64_t wang = short_contact(&f, &admin, "王伟", "wangwei@example.cn", "+86 13800000002");
    short_contact(&f, &admin, "张王", NULL, "+86 13812345678");
    short_contact(&f, &admin, "Qb", "xq@example.org", "+86 13855512399");
    short_contact(&f, &admin, "Élan ZOE", "zoe@example.net", "+86 13800000005");
    assert_true(short_check(&f, acct, "a", -1) > 640);   /* common: capped */
    assert_int_equal(short_check(&f, acct, "li", 1), 1); /* at a line's start */
    short_check(&f, acct, "LI", 1);                      /* ASCII is lowered */
    short_check(&f, acct, "王", 2);
    short_check(&f, acct, "王伟", 1);
    short_check(&f, acct, "张王", 1);
    short_check(&f, acct, "伟王", 0);
    short_check(&f, acct, "55", 1);                      /* a digit pair */
    short_check(&f, acct, "99", 1);                      /* at a line's end */
    short_check(&f, acct, "ei", 2);                      /* li wei, wangwei@ */
    short_check(&f, acct, "qb", 1);
    short_check(&f, acct, "bx", 0); /* "qb\nxq@…": only across the name/email line break */
    short_check(&f, acct, "g+", 0); /* "….org\n+86…": across the email/mobile one */
    short_check(&f, acct, "É", 1);
    short_check(&f, acct, "Él", 1);
    short_check(&f, acct, "él", 0); /* only ASCII is lowered: É stays É */
    short_check(&f, acct, "zo", 1);
    short_check(&f, acct, "+8", -1);
    short_check(&f, acct, "@", 4);
    short_check(&f, acct, " ", 2);
    short_check(&f, acct, "\"", 0);
    short_check(&f, acct, "#", 0);
    /* renamed: found by its new name only; deleted: found no more */
    struct cc_contact_input in;
    memset(&in, 0, sizeof in);
    in.present = CC_F_NAME;
    in.name = "王五";
    struct cc_contact *ct = cc_malloc(sizeof *ct);
    struct cc_error err;
    assert_int_equal(cc_contact_update(f.svc, &admin, wang, &in, -1, ct, &err), CC_OK);
    cc_free(ct);
    short_check(&f, acct, "王伟", 0);
    short_check(&f, acct, "伟", 0);
    short_check(&f, acct, "王五", 1);
    short_check(&f, acct, "王", 2);
    struct cc_contact_use use;
    assert_int_equal(cc_contact_delete(f.svc, &admin, li, &use, &err), CC_OK);
    cc_contact_use_free(&use);
    short_check(&f, acct, "li", 0);
    short_check(&f, acct, "ei", 1);
    /* a second account: each finds its own (each match checked for its account) */
    int64_t other = 0;
    assert_int_equal(cc_store_write(f.store, insert_account, &other, &err), CC_OK);
    struct cc_caller them = admin;
    them.account_id = other;
    int64_t theirs = short_contact(&f, &them, "王伟", NULL, "+86 13800000002");
    short_check(&f, acct, "王伟", 0);
    short_check(&f, acct, "王", 2);
    short_check(&f, acct, "a", -1);
    short_check(&f, other, "王", 1);
    assert_int_equal(short_check(&f, other, "王伟", 1), 1);
    struct cc_contact_page p;
    search(&f, other, "伟", 10, 0, &p);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.items[0].id, theirs);
    cc_contact_page_free(&p);
    short_check(&f, other, "a", 0);
    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* ---- the search index queue (SQLite) --------------------------------------------
 * The writer applies contacts_fts_queue in runs (sqlite_writer.c): without a
 * search, a moment after the last write; before a keyword search that finds
 * it not empty, at once; and after a start, what the last process left. A
 * change queued by another connection (by hand) is learnt the same ways. */
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
    int64_t id = short_contact(&f, &admin, "Queue Probe", NULL, "+86 13800000001");
    assert_true(queue_drains(db)); /* no search, no write: the writer's own run */
    assert_int_equal(queue_indexed(db, "queue probe"), 1);

    /* queued by hand: the writer does not know, a keyword search has it learnt */
    queue_rename(db, "queue probe", "zebra probe");
    struct cc_contact_page p;
    search(&f, admin.account_id, "zebra", 10, 0, &p);
    assert_int_equal(p.total, 1);
    assert_int_equal(p.items[0].id, id);
    cc_contact_page_free(&p);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM contacts_fts_queue"), 0);
    search(&f, admin.account_id, "queue", 10, 0, &p); /* the old text left the index */
    assert_int_equal(p.total, 0);
    cc_contact_page_free(&p);

    /* queued by hand, then any write: learnt a moment later without a search */
    queue_rename(db, "zebra probe", "queue probe");
    short_contact(&f, &admin, "Other", NULL, "+86 13800000002");
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

/* Migration 0031 (SQLite) copies notifications and delivery_attempts into
 * tables whose CHECK constraints say the same in other words: run again on a
 * database that holds some, it keeps every row, id and AUTOINCREMENT counter,
 * the cascade from a notification to its attempts, and the constraints. */
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
        "UPDATE sqlite_sequence SET seq = 1000 WHERE name = 'notifications';"
        "DELETE FROM schema_migrations WHERE version = 31;";
    assert_int_equal(sqlite3_exec(db, fill, NULL, NULL, NULL), SQLITE_OK);
    static const char indexes[] =
        "SELECT count(*) * 1000 + sum(sql LIKE '% WHERE %') FROM sqlite_master WHERE type = "
        "'index' AND tbl_name IN ('notifications', 'delivery_attempts')";
    int64_t before = queue_int(db, indexes);
    assert_int_equal(before, 8003); /* 7 made by 0024 and 0029, 1 for UNIQUE; 3 partial */
    struct cc_error err;
    assert_int_equal(cc_store_migrate(f.store, &err), CC_OK);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM schema_migrations WHERE version = 31"), 1);
    assert_int_equal(queue_int(db, "SELECT sum(id) FROM notifications"), 81);
    assert_int_equal(queue_int(db, "SELECT sum(id) FROM delivery_attempts"), 181);
    assert_int_equal(queue_int(db, "SELECT seq FROM sqlite_sequence WHERE name = 'notifications'"),
                     1000);
    assert_int_equal(queue_int(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE '%_v31'"),
                     0);
    assert_int_equal(queue_int(db, indexes), before); /* the same indexes, partial or not */
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
        cmocka_unit_test(test_hot_writes),
        cmocka_unit_test(test_batch_wakes_every_write),
        cmocka_unit_test(test_writes_that_check_first),
        cmocka_unit_test(test_deleted_row_zeroed),
        cmocka_unit_test(test_read_pin),
        cmocka_unit_test(test_read_mark),
        cmocka_unit_test(test_search_index_and_count),
        cmocka_unit_test(test_search_short_keywords),
        cmocka_unit_test(test_search_index_runs),
        cmocka_unit_test(test_notification_checks_migration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
