/*
 * conn_guard.c — deadlines libmicrohttpd does not have: a connection must
 * deliver its request line and headers within header_timeout_s of opening
 * (of its request line, for a later request on a kept-alive connection), and
 * a kept-alive connection must start its next request within idle_timeout_s,
 * and a request's body must arrive within body_timeout_s of its headers.
 *
 * libmicrohttpd's own connection timeout is an idle timeout: any byte
 * renews it, so a client sending one byte every few seconds holds a
 * connection forever (issue 14, finding 5). Here every phase has an absolute
 * deadline. A watchdog thread shuts down (shutdown(2), not close) the socket
 * of a connection past its deadline; libmicrohttpd then sees the end of the
 * stream and closes the connection itself, through its usual path.
 *
 * A connection is registered when libmicrohttpd opens it and removed when
 * libmicrohttpd reports it closed, which libmicrohttpd does before it closes
 * the descriptor; both happen under the guard's mutex, so the watchdog never
 * shuts down a descriptor that has been reused by another connection.
 * Connections whose request is being handled (or suspended on the blocking
 * pool) have no deadline here: the idle timeout covers them.
 */
#include <errno.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#include "http/http_int.h"
#include "util/util.h"

enum phase {
    PHASE_HEADERS,  /* reading a request line and headers: deadline */
    PHASE_BODY,     /* headers complete, reading the body: deadline */
    PHASE_BUSY,     /* the request is being handled */
    PHASE_IDLE,     /* kept alive between requests: deadline */
    PHASE_SHUT,     /* shut down by the watchdog; libmicrohttpd closes it */
};

struct cc_conn_watch {
    int fd;
    enum phase phase;
    int requests;             /* requests begun on this connection */
    int64_t deadline_ms;      /* monotonic */
    struct cc_conn_watch *prev, *next;
};

struct cc_conn_guard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    int running, stopping;
    int64_t header_ms, idle_ms, body_ms;
    struct cc_conn_watch *head;
    size_t count;
    int64_t shut_total;       /* connections shut for missing a deadline */
};

static void *guard_main(void *arg);

struct cc_conn_guard *cc_conn_guard_new(int header_timeout_s, int body_timeout_s,
                                        int idle_timeout_s)
{
    struct cc_conn_guard *g = cc_calloc(1, sizeof *g);
    pthread_mutex_init(&g->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&g->cv, &ca);
    pthread_condattr_destroy(&ca);
    g->header_ms = (int64_t)header_timeout_s * 1000;
    g->idle_ms = (int64_t)idle_timeout_s * 1000;
    g->body_ms = (int64_t)body_timeout_s * 1000;
    if (pthread_create(&g->thread, NULL, guard_main, g) == 0)
        g->running = 1;
    return g;
}

/* After libmicrohttpd has stopped: every connection has been reported
 * closed, so the list is empty. */
void cc_conn_guard_free(struct cc_conn_guard *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stopping = 1;
    pthread_cond_signal(&g->cv);
    pthread_mutex_unlock(&g->mu);
    if (g->running)
        pthread_join(g->thread, NULL);
    while (g->head) { /* not expected; keeps the sanitizers quiet if it happens */
        struct cc_conn_watch *w = g->head;
        g->head = w->next;
        cc_free(w);
    }
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    cc_free(g);
}

/* Shuts every connection past its deadline; returns ms until the next
 * deadline (at most 1000). Called with the mutex held. */
static int64_t sweep(struct cc_conn_guard *g)
{
    int64_t now = cc_mono_ms(), next = now + 1000;
    for (struct cc_conn_watch *w = g->head; w; w = w->next) {
        if (w->phase == PHASE_BUSY || w->phase == PHASE_SHUT)
            continue;
        if (w->deadline_ms <= now) {
            shutdown(w->fd, SHUT_RDWR);
            w->phase = PHASE_SHUT;
            g->shut_total++;
        } else if (w->deadline_ms < next) {
            next = w->deadline_ms;
        }
    }
    return next - now;
}

static void *guard_main(void *arg)
{
    struct cc_conn_guard *g = arg;
    pthread_setname_np(pthread_self(), "cc-connguard");
    pthread_mutex_lock(&g->mu);
    while (!g->stopping) {
        int64_t wait_ms = sweep(g);
        if (wait_ms < 50)
            wait_ms = 50; /* deadlines are seconds; no need to be sharper */
        struct timespec ts;
        cc_mono_deadline(&ts, wait_ms);
        pthread_cond_timedwait(&g->cv, &g->mu, &ts);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

void *cc_conn_guard_opened(struct cc_conn_guard *g, int fd)
{
    struct cc_conn_watch *w = cc_calloc(1, sizeof *w);
    w->fd = fd;
    w->phase = PHASE_HEADERS;
    pthread_mutex_lock(&g->mu);
    w->deadline_ms = cc_mono_ms() + g->header_ms;
    w->next = g->head;
    if (g->head)
        g->head->prev = w;
    g->head = w;
    g->count++;
    pthread_mutex_unlock(&g->mu);
    return w;
}

void cc_conn_guard_closed(struct cc_conn_guard *g, void *watch)
{
    struct cc_conn_watch *w = watch;
    if (!w)
        return;
    pthread_mutex_lock(&g->mu);
    if (w->prev)
        w->prev->next = w->next;
    else
        g->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    g->count--;
    pthread_mutex_unlock(&g->mu);
    cc_free(w);
}

void cc_conn_guard_request_line(struct cc_conn_guard *g, void *watch)
{
    struct cc_conn_watch *w = watch;
    if (!w)
        return;
    pthread_mutex_lock(&g->mu);
    if (w->phase != PHASE_SHUT) {
        /* The first request's deadline counts from the opening. */
        if (w->requests > 0)
            w->deadline_ms = cc_mono_ms() + g->header_ms;
        w->phase = PHASE_HEADERS;
        w->requests++;
    }
    pthread_mutex_unlock(&g->mu);
}

void cc_conn_guard_headers_done(struct cc_conn_guard *g, void *watch)
{
    struct cc_conn_watch *w = watch;
    if (!w)
        return;
    pthread_mutex_lock(&g->mu);
    if (w->phase != PHASE_SHUT) {
        w->phase = PHASE_BODY;
        w->deadline_ms = cc_mono_ms() + g->body_ms;
    }
    pthread_mutex_unlock(&g->mu);
}

void cc_conn_guard_body_done(struct cc_conn_guard *g, void *watch)
{
    struct cc_conn_watch *w = watch;
    if (!w)
        return;
    pthread_mutex_lock(&g->mu);
    if (w->phase != PHASE_SHUT)
        w->phase = PHASE_BUSY;
    pthread_mutex_unlock(&g->mu);
}

void cc_conn_guard_request_done(struct cc_conn_guard *g, void *watch)
{
    struct cc_conn_watch *w = watch;
    if (!w)
        return;
    pthread_mutex_lock(&g->mu);
    if (w->phase != PHASE_SHUT) {
        w->phase = PHASE_IDLE;
        w->deadline_ms = cc_mono_ms() + g->idle_ms;
    }
    pthread_mutex_unlock(&g->mu);
}

void cc_conn_guard_stats(struct cc_conn_guard *g, size_t *open, int64_t *shut_total)
{
    pthread_mutex_lock(&g->mu);
    *open = g->count;
    *shut_total = g->shut_total;
    pthread_mutex_unlock(&g->mu);
}
