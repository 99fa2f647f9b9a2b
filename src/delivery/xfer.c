/*
 * xfer.c — outbound transfers: every message leaves through here.
 *
 * A sender prepares a transfer (a libcurl easy handle with everything it
 * needs: URL, headers, a private copy of the body, a capped answer buffer)
 * and names the function that reads the platform's answer. The transfers of
 * one batch then run together on the calling thread's libcurl multi handle,
 * so a dispatcher thread has many messages on the wire at once, and the
 * multi handle keeps connections (and TLS sessions) open between batches. A
 * single synchronous send (a verification code, a test message) is a batch
 * of one through the same code.
 *
 * HTTP transfers are https only (http only to the loopback, for tests),
 * follow no redirects, never use a proxy for the loopback, stop after the
 * configured timeout (connect included) and read at most 64 KiB of answer.
 *
 * One recorded attempt is at most one request on the wire. libcurl, finding
 * that a reused connection died before any answer came, sends the request
 * again on another connection by itself (up to five times; only curl 8.16
 * can be told not to). For a POST to a robot or a gateway that died after
 * reading the whole request, that is the same message several times. So a
 * transfer's pre-request callback (CURLOPT_PREREQFUNCTION, called each time
 * libcurl is about to send the request) lets it go once only: the second
 * call aborts the transfer, the attempt is a retry, and the dispatcher's
 * schedule decides when to try again. Connections are still reused (the
 * normal case, and what keeps the cost of a message low). The body is sent
 * from memory, with the headers in one write.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

/* libcurl allocates through the util layer, so that a test can fail its
 * allocations (cc_alloc_fail_after). */
static void curl_init_once(void)
{
    curl_global_init_mem(CURL_GLOBAL_DEFAULT, cc_try_malloc, cc_free, cc_try_realloc,
                         cc_try_strdup, cc_try_calloc);
}

void cc_delivery_global_init(void)
{
    pthread_once(&curl_once, curl_init_once);
}

/* ---- per-thread state -------------------------------------------------------------
 * One libcurl multi handle per thread, kept for the thread's life: its
 * connection cache is what lets the next batch reuse this batch's
 * connections. Easy handles are kept too, reset between transfers, so a
 * batch does not pay for making them each time. */

struct thread_curl {
    CURLM *multi;
    CURL *idle[CC_XFER_IDLE_MAX];
    int nidle;
};

static pthread_key_t tc_key;
static pthread_once_t tc_once = PTHREAD_ONCE_INIT;

static void tc_destroy(void *p)
{
    struct thread_curl *tc = p;
    for (int i = 0; i < tc->nidle; i++)
        curl_easy_cleanup(tc->idle[i]);
    if (tc->multi)
        curl_multi_cleanup(tc->multi);
    cc_free(tc);
}

static void tc_key_init(void)
{
    pthread_key_create(&tc_key, tc_destroy);
}

static struct thread_curl *thread_curl(void)
{
    pthread_once(&tc_once, tc_key_init);
    struct thread_curl *tc = pthread_getspecific(tc_key);
    if (tc)
        return tc;
    tc = cc_calloc(1, sizeof *tc);
    if (pthread_setspecific(tc_key, tc)) {
        cc_free(tc);
        return NULL;
    }
    return tc;
}

static CURLM *thread_multi(void)
{
    struct thread_curl *tc = thread_curl();
    if (tc && !tc->multi && (tc->multi = curl_multi_init()))
        curl_multi_setopt(tc->multi, CURLMOPT_MAXCONNECTS, (long)CC_XFER_KEEP_CONNS);
    return tc ? tc->multi : NULL;
}

static CURL *easy_get(void)
{
    struct thread_curl *tc = thread_curl();
    if (tc && tc->nidle)
        return tc->idle[--tc->nidle];
    return curl_easy_init();
}

static void easy_put(CURL *h)
{
    struct thread_curl *tc = thread_curl();
    if (tc && tc->nidle < CC_XFER_IDLE_MAX) {
        curl_easy_reset(h); /* nothing of the last transfer stays */
        tc->idle[tc->nidle++] = h;
    } else {
        curl_easy_cleanup(h);
    }
}

/* ---- one transfer ------------------------------------------------------------------ */

/* libcurl's receive buffer (CURLOPT_BUFFERSIZE): 16 KiB by default, made
 * afresh for each transfer of a reset handle, which put a 16 KiB malloc, and
 * the page faults of the memory the allocator gave back meanwhile, on every
 * message. A platform's answer is a few hundred bytes; a longer one is read
 * in more pieces (the cap, CC_DELIVERY_MAX_ANSWER, is unchanged). */
#define XFER_READ_BUFFER 4096

/* Keeps the answer up to the cap; returning short past it makes libcurl stop
 * with CURLE_WRITE_ERROR instead of reading an unbounded body. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct cc_xfer *x = arg;
    size_t len = size * n;
    if (cc_buf_append(&x->answer, p, len)) {
        x->too_large = 1;
        return 0;
    }
    return len;
}

struct cc_xfer *cc_xfer_new(void)
{
    cc_delivery_global_init();
    struct cc_xfer *x = cc_calloc(1, sizeof *x);
    cc_buf_init(&x->answer, CC_DELIVERY_MAX_ANSWER);
    x->h = easy_get();
    if (!x->h) {
        cc_xfer_free(x);
        return NULL;
    }
    curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->h, CURLOPT_USERAGENT, "certcontacts");
    return x;
}

void cc_xfer_free(struct cc_xfer *x)
{
    if (!x)
        return;
    if (x->h)
        easy_put(x->h);
    curl_url_cleanup(x->u); /* after the reset: the handle pointed at it */
    curl_slist_free_all(x->hl);
    curl_slist_free_all(x->rcpt);
    curl_mime_free(x->mime);
    if (x->body) {
        OPENSSL_cleanse(x->body, x->len); /* may hold a verification code */
        cc_free(x->body);
    }
    cc_buf_free(&x->answer);
    if (x->ctx_free)
        x->ctx_free(x->ctx);
    cc_free(x);
}

const struct cc_send_result *cc_xfer_result(const struct cc_xfer *x, struct cc_robot_answer *ans)
{
    if (ans)
        *ans = x->ra;
    return &x->res;
}

/* Called by libcurl before it sends the request on a connection, new or
 * reused. A second call is libcurl about to send it again because a reused
 * connection closed without answering: the other side may have received
 * it whole (and posted the message), so it is not sent again; the
 * notification's own retry decides. */
static int on_prereq(void *arg, char *primary_ip, char *local_ip, int primary_port,
                     int local_port)
{
    struct cc_xfer *x = arg;
    (void)primary_ip;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    if (x->sent)
        return CURL_PREREQFUNC_ABORT;
    x->sent = 1;
    return CURL_PREREQFUNC_OK;
}

/* Builds the transport answer of a finished HTTP transfer and hands it to
 * the sender's reader; a transfer that got no answer is a retry, said in
 * the sender's words. */
static void http_complete(struct cc_xfer *x, int code)
{
    CURLcode cr = (CURLcode)code;
    struct cc_http_answer ans;
    long status = 0, oserr = 0;
    memset(&ans, 0, sizeof ans);
    curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(x->h, CURLINFO_OS_ERRNO, &oserr);
    ans.curl_code = (int)cr;
    ans.status = status;
    ans.too_large = x->too_large || cr == CURLE_FILESIZE_EXCEEDED;
    ans.timed_out = cr == CURLE_OPERATION_TIMEDOUT;
    ans.refused = cr == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED;
    ans.body = x->answer; /* borrowed for the call */
    cc_strlcpy(ans.where, x->where, sizeof ans.where);
    if (cr != CURLE_OK)
        snprintf(ans.error, sizeof ans.error, "%s",
                 x->errbuf[0] ? x->errbuf : curl_easy_strerror(cr));
    x->ra.http_status = status;
    /* An answer that arrived but was too long still has a status. */
    if (cr == CURLE_OK || (status && ans.too_large))
        x->http_done(x, &ans);
    else if (cr == CURLE_ABORTED_BY_CALLBACK) /* on_prereq refused to send it again */
        cc_delivery_set(&x->res, CC_SEND_RETRY, "curl:42", /* CURLE_ABORTED_BY_CALLBACK */
                        "%s %s closed the connection without answering; not sent again",
                        x->who, x->where);
    else
        cc_delivery_transport_failure(&ans, x->who, x->timeout_ms, &x->res);
}

int cc_http_xfer_new(const char *url, const char *const *headers, size_t nheaders,
                     const char *body, size_t len, int64_t timeout_ms, const char *who,
                     void (*done)(struct cc_xfer *x, const struct cc_http_answer *ans),
                     struct cc_send_result *res, struct cc_xfer **out)
{
    int loopback = 0;
    char err[256], where[sizeof ((struct cc_xfer *)0)->where];
    *out = NULL;
    CURLU *u = cc_delivery_url_checked(url, "the gateway URL", &loopback, where, sizeof where,
                                       err, sizeof err);
    if (!u) {
        char code[32];
        snprintf(code, sizeof code, "curl:%d", (int)CURLE_UNSUPPORTED_PROTOCOL);
        cc_delivery_set(res, CC_SEND_NOT_CONFIGURED, code, "%s", err);
        return -1;
    }
    struct cc_xfer *x = cc_xfer_new();
    if (!x) {
        curl_url_cleanup(u);
        cc_delivery_set(res, CC_SEND_RETRY, "", "libcurl could not start a request");
        return -1;
    }
    x->u = u;
    for (size_t i = 0; i < nheaders; i++) {
        struct curl_slist *t = curl_slist_append(x->hl, headers[i]);
        if (!t)
            goto oom;
        x->hl = t;
    }
    /* No "Expect: 100-continue" round trip: gateways answer the whole POST. */
    struct curl_slist *t = curl_slist_append(x->hl, "Expect:");
    if (!t)
        goto oom;
    x->hl = t;
    x->body = cc_malloc(len + 1);
    memcpy(x->body, body, len);
    x->body[len] = '\0';
    x->len = len;
    x->timeout_ms = timeout_ms;
    x->complete = http_complete;
    x->http_done = done;
    cc_strlcpy(x->who, who, sizeof x->who);
    cc_strlcpy(x->where, where, sizeof x->where);
    const char *proto = loopback ? "http" : "https";
    CURL *h = x->h;
    curl_easy_setopt(h, CURLOPT_CURLU, u);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, proto);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, proto);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CC_DELIVERY_MAX_ANSWER);
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, (long)XFER_READ_BUFFER);
    if (loopback)
        curl_easy_setopt(h, CURLOPT_PROXY, ""); /* a test receiver is never behind a proxy */
    /* The body from memory, sent with the headers in one write (a body read
     * through a callback goes in a write, and a TCP segment, of its own). */
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(h, CURLOPT_PREREQDATA, x);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, x->hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    *out = x;
    return 0;
oom:
    cc_xfer_free(x);
    cc_delivery_set(res, CC_SEND_RETRY, "", "out of memory building the request");
    return -1;
}

/* ---- running transfers together -------------------------------------------------- */
/* How often the watcher hears from a run that is waiting on the network. */
#define WATCH_MS 100

static void finish_one(struct cc_xfer *x, CURLcode cr)
{
    x->ra.latency_ms = cc_mono_ms() - x->t0;
    x->complete(x, (int)cr);
    x->ran = 1;
}

void cc_xfer_run(struct cc_xfer *const *xs, size_t n)
{
    cc_xfer_run_watched(xs, n, NULL, NULL);
}

int cc_xfer_done(const struct cc_xfer *x)
{
    return x->ran;
}

void cc_xfer_run_watched(struct cc_xfer *const *xs, size_t n, void (*watch)(void *arg),
                         void *arg)
{
    CURLM *m = NULL;
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        struct cc_xfer *x = xs[i];
        if (!x || x->ran)
            continue;
        if (!m) /* made on the first transfer: an idle thread has none (nor libcurl set up) */
            m = thread_multi();
        x->t0 = cc_mono_ms();
        if (m && curl_multi_add_handle(m, x->h) == CURLM_OK) {
            added++;
            continue;
        }
        /* No multi handle: this one alone, still bounded by its timeout. */
        finish_one(x, curl_easy_perform(x->h));
    }
    int running = (int)added;
    while (added) {
        if (curl_multi_perform(m, &running) != CURLM_OK)
            break;
        CURLMsg *msg;
        int queued, got = 0;
        while ((msg = curl_multi_info_read(m, &queued))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            CURL *h = msg->easy_handle;
            CURLcode cr = msg->data.result;
            struct cc_xfer *x = NULL;
            curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&x);
            curl_multi_remove_handle(m, h);
            added--;
            got++;
            finish_one(x, cr);
        }
        if (added && !running && !got)
            break; /* libcurl has nothing left to drive: do not spin */
        if (watch)
            watch(arg);
        if (added && running &&
            curl_multi_poll(m, NULL, 0, WATCH_MS, NULL) != CURLM_OK)
            break;
    }
    /* Anything left (the multi handle failed): taken off, counted as not sent. */
    for (size_t i = 0; i < n; i++) {
        struct cc_xfer *x = xs[i];
        if (!x || x->ran)
            continue;
        if (m)
            curl_multi_remove_handle(m, x->h);
        snprintf(x->errbuf, sizeof x->errbuf, "the transfer could not be driven");
        finish_one(x, CURLE_FAILED_INIT);
    }
}

int cc_xfer_send_one(struct cc_xfer *x, struct cc_send_result *res, struct cc_robot_answer *ans)
{
    cc_xfer_run(&x, 1);
    *res = x->res;
    if (ans)
        *ans = x->ra;
    cc_xfer_free(x);
    return cc_delivery_rc(res);
}
