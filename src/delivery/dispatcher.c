/*
 * dispatcher.c — turns the outbox into messages on the wire.
 *
 * Each dispatcher thread claims a batch of due notifications in one write
 * (a lease, held by this start's instance id), then asks the service's
 * resolver (struct cc_delivery_resolver) what to do with each: send this rendered message to this address or robot,
 * or cancel it (a contact deleted, an address no longer verified or a robot
 * removed since the event), fail it, or put it back. The dispatcher holds no
 * such rule itself, no key and no template: it prepares each message through
 * cc_notify_prepare, the path a test send takes too, merging the messages
 * for one robot and keeping to each platform's rate limit (the table of
 * robot platforms, delivery_int.h). The batch's messages then go on the
 * wire together (libcurl's multi interface, xfer.c), and every attempt and outcome is recorded as it
 * finishes (handed to the recorder thread, recorder.c, for what finished in each 100 ms;
 * a quick batch at its end; the recorder writes all that waits in one
 * write): delivered, failed for good (with the platform's
 * reason), or due again after the next wait of the retry schedule, until the schedule runs
 * out and it is dead. The outcome comes from the platform's answer, never
 * from the HTTP status alone (see the senders).
 *
 * Nothing is sent whose claim is not committed: when the claim (or the record
 * of outcomes) cannot be written, nothing more is sent, what is to be
 * recorded is kept, and the write is tried again after a wait that doubles
 * from 100 ms to 30 s; the process's health says "dispatcher" is failing (once, on the
 * change) until a write works again. Each lease names the instance that
 * holds it (a random id made at each start): the first claim of a new
 * instance makes the leases of a dead one due at once, so a crash costs
 * no wait, and what it can send twice is what was on the wire or answered
 * but not yet recorded (outcomes are written every 100 ms while a batch
 * runs). Those go again with the same idempotency keys; see
 * docs/delivery-guarantees.md.
 *
 * An event's notifications need no claim when the dispatcher has room for
 * them: POST /v1/events writes them born leased to this instance
 * (cc_dispatcher_handoff_begin / _end; hand.c holds them) and hands their ids over once the
 * write commits. A thread takes those first (the first of each event ahead
 * of the rest), reads them back — only those still pending and leased to it
 * — and sends them as a claimed batch, while it still claims from the outbox
 * every CC_DISPATCH_CLAIM_EVERY_MS so retries and other events keep their
 * turn. A crash leaves them leased, as it leaves a claimed batch.
 *
 * Claims and outcomes are relaxed writes (cc_store_write_relaxed): committed,
 * not fsynced each. What the promise rests on — the event and its
 * notifications, written when POST /v1/events answers — is durable before
 * that answer. A process crash loses no claim or outcome; a power cut may
 * lose the last of them (a suffix, never a durable write), and all that
 * causes is what a crash causes: a notification pending again, sent again
 * with its idempotency key. With several PostgreSQL instances a lost lease
 * may let another instance send it too: the same resend, the same key.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "core/core.h"
#include "delivery/delivery_int.h"
#include "store/store.h"
#include "util/util.h"


/* ---- when the store cannot be written ---------------------------------------------
 * A thread whose claim or record fails waits before it tries again, from
 * CC_DISPATCH_STORE_RETRY_MIN_MS doubling to CC_DISPATCH_STORE_RETRY_MAX_MS
 * (core/limits.h): a full disk must not turn into a loop of sends and log
 * lines. */

/* One thread's view of the store's writes. */
struct outage {
    int failing;                  /* its last write failed */
    int64_t wait_ms;              /* before the next try */
};

struct cc_dispatcher {
    /* Each robot's rate limit (ratelimit.c): a message that would pass it
     * waits its turn, and a robot the platform said it throttles waits out
     * the platform's window. */
    struct cc_limiter *limit;
    struct cc_store *store;
    const struct cc_delivery_config *dc;
    struct cc_delivery_resolver resolver;
    struct cc_dispatcher_config cfg;
    int64_t *schedule;
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    unsigned wakeups;
    int started;                  /* threads that took their index (wait_for_work) */
    int all_awake;                /* a claim found work: every thread takes part */
    int failing;                  /* threads whose last write failed */
    char instance[33];            /* this start's id, the holder of its leases */
    /* The last event whose first notification a claim has taken ahead of the
     * queue (claim_tx); -1 until the first claim reads the newest. Under mu. */
    int64_t fresh_after;
    struct cc_hand *hand;         /* notifications in hand (hand.c), under mu */
    int64_t last_claim_ms;        /* mono ms of the last claim from the outbox; under mu */
    struct cc_recorder *recorder; /* writes the outcomes (recorder.c) */
    struct outage rec_outage;     /* the recorder's writes; its thread's only */
};

/* A write of thread st failed with msg: the dispatcher is failing (the
 * health record logs the change once) and st waits longer next time. */
static void store_failed(struct cc_dispatcher *d, struct outage *st, const char *msg)
{
    char reason[256];
    snprintf(reason, sizeof reason, "cannot write the outbox: %s", msg);
    pthread_mutex_lock(&d->mu); /* the count and the health record change together */
    if (!st->failing)
        d->failing++;
    cc_health_set("dispatcher", 0, reason);
    pthread_mutex_unlock(&d->mu);
    st->wait_ms = !st->failing ? CC_DISPATCH_STORE_RETRY_MIN_MS
                  : st->wait_ms * 2 > CC_DISPATCH_STORE_RETRY_MAX_MS ? CC_DISPATCH_STORE_RETRY_MAX_MS
                                                         : st->wait_ms * 2;
    st->failing = 1;
}

/* A write of thread st worked: once no thread fails, the dispatcher works. */
static void store_worked(struct cc_dispatcher *d, struct outage *st)
{
    if (!st->failing)
        return;
    st->failing = 0;
    st->wait_ms = 0;
    pthread_mutex_lock(&d->mu);
    if (--d->failing == 0)
        cc_health_set("dispatcher", 1, NULL);
    pthread_mutex_unlock(&d->mu);
}

/* The CLOCK_REALTIME time ms from now, for pthread_cond_timedwait. */
static struct timespec deadline_in(int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    return ts;
}

/* Sleeps ms, or less when the dispatcher stops (then returns 1). Wake-ups
 * for new work do not cut it short: the store is what it waits for. */
static int nap(struct cc_dispatcher *d, int64_t ms)
{
    struct timespec ts = deadline_in(ms);
    pthread_mutex_lock(&d->mu);
    while (!d->stopping)
        if (pthread_cond_timedwait(&d->cv, &d->mu, &ts))
            break;
    int stop = d->stopping;
    pthread_mutex_unlock(&d->mu);
    return stop;
}

/* ---- one batch -----------------------------------------------------------------------
 * A dispatcher thread works in batches: claim, have the resolver say what to
 * send for each notification, prepare every message, put them all on the
 * wire together (xfer.c: libcurl's multi interface), then record every
 * outcome in one write. */

/* A claimed notification and what the resolver said to send for it. */
struct item {
    struct cc_notification *n;    /* into the batch's claim */
    struct cc_outgoing *o;        /* into the thread's outgoing array */
};

/* One message prepared for the wire and the items it carries. */
struct send {
    struct item **items;          /* borrowed from the batch */
    size_t n;
    struct cc_xfer *x;            /* NULL: the outcome is already in res */
    struct cc_send_result res;
    int64_t started;
    int settled;                  /* its items' outcomes are queued for writing */
};

struct batch {
    struct cc_dispatcher *d;
    int64_t last_write;           /* when outcomes were last written (mono ms) */
    struct item **items;          /* owned */
    size_t nitems, capitems;
    struct send *sends;
    size_t nsends, capsends;
    struct cc_outcome *recs;
    size_t nrecs, caprecs;
};

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    *cap = c;
    return cc_realloc(p, c * size);
}

static struct item *batch_item(struct batch *b)
{
    b->items = grow(b->items, &b->capitems, b->nitems + 1, sizeof *b->items);
    struct item *it = cc_malloc(sizeof *it);
    it->n = NULL;
    it->o = NULL;
    b->items[b->nitems++] = it;
    return it;
}

static struct send *batch_send(struct batch *b, struct item **items, size_t n)
{
    b->sends = grow(b->sends, &b->capsends, b->nsends + 1, sizeof *b->sends);
    struct send *s = &b->sends[b->nsends++];
    memset(s, 0, sizeof *s);
    s->items = cc_malloc(n * sizeof *items);
    memcpy(s->items, items, n * sizeof *items);
    s->n = n;
    s->started = cc_now_ms();
    return s;
}

/* Hands every outcome queued so far to the recorder. */
static void batch_flush(struct batch *b)
{
    if (!b->nrecs)
        return;
    b->last_write = cc_mono_ms();
    cc_recorder_put(b->d->recorder, b->recs, b->nrecs);
    b->nrecs = 0;
}

/* What the recorder's write came to: the dispatcher's health, and the wait
 * before its next try. */
static int64_t recorder_wrote(void *arg, const char *failure)
{
    struct cc_dispatcher *d = arg;
    if (!failure) {
        store_worked(d, &d->rec_outage);
        return 0;
    }
    store_failed(d, &d->rec_outage, failure);
    return d->rec_outage.wait_ms;
}

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->nsends; i++) {
        cc_xfer_free(b->sends[i].x);
        cc_free(b->sends[i].items);
    }
    for (size_t i = 0; i < b->nitems; i++)
        cc_free(b->items[i]);
    cc_free(b->sends);
    cc_free(b->items);
    cc_free(b->recs);
    memset(b, 0, sizeof *b);
}

/* Waits before the next attempt, with up to 10% jitter so that retries of
 * many notifications do not arrive together. */
static int64_t backoff_ms(const struct cc_dispatcher *d, int64_t attempts)
{
    size_t i = attempts > 0 ? (size_t)(attempts - 1) : 0;
    if (i >= d->cfg.nschedule)
        i = d->cfg.nschedule - 1;
    int64_t base = d->schedule[i] * 1000;
    uint32_t r;
    cc_random_bytes(&r, sizeof r);
    return base + (int64_t)(r % (uint32_t)(base / 10 + 1));
}

/* Queues n's new state (and the attempt a, may be NULL) for the batch's
 * write. */
static void finish_health(struct batch *b, struct cc_notification *n, const char *status,
                          const char *why, const struct cc_attempt *a, int health)
{
    cc_strlcpy(n->status, status, sizeof n->status);
    if (why)
        cc_strlcpy(n->last_error, why, sizeof n->last_error);
    n->updated_at = cc_now_ms();
    n->target[0] = '\0'; /* keep the stored one */
    b->recs = grow(b->recs, &b->caprecs, b->nrecs + 1, sizeof *b->recs);
    struct cc_outcome *r = &b->recs[b->nrecs++];
    r->n = n;
    r->has_attempt = a != NULL;
    if (a)
        r->a = *a;
    r->health = health;
}

static void finish(struct batch *b, struct cc_notification *n, const char *status,
                   const char *why, const struct cc_attempt *a)
{
    finish_health(b, n, status, why, a, 0);
}

/* The platform label of a message on the wire: the robot's platform, else
 * the email or SMS path. */
static const char *metric_platform(const char *channel, int kind)
{
    if (!strcmp(channel, "email"))
        return "smtp";
    if (!strcmp(channel, "mobile"))
        return "sms";
    return cc_webhook_kind_name((enum cc_webhook_kind)kind);
}

/* Counts n's outcome for /metrics: "pending" again after an attempt is a
 * retry (or a wait for the platform's rate limit, throttled). */
static void count_outcome(const struct cc_notification *n, const char *platform, int throttled)
{
    const char *outcome = n->status;
    if (!strcmp(outcome, "pending"))
        outcome = throttled ? "throttled" : "retry";
    cc_metrics_notification(n->channel, platform, outcome);
}

/* Takes the resolver's word for it: 0 when there is a message to send,
 * else -1 with the notification finished (cancelled, failed, or put back
 * pending). */
static int take_decision(struct batch *b, struct item *it)
{
    struct cc_notification *n = it->n;
    const struct cc_outgoing *o = it->o;
    switch (o->action) {
    case CC_OUT_SEND:
        return 0;
    case CC_OUT_CANCEL:
        finish(b, n, "cancelled", o->why, NULL);
        count_outcome(n, "other", 0); /* not resolved to a platform */
        return -1;
    case CC_OUT_FAIL:
        finish(b, n, "failed", o->why, NULL);
        count_outcome(n, "other", 0);
        return -1;
    default:
        if (o->later_at)
            n->next_attempt_at = o->later_at;
        finish(b, n, "pending", o->why, NULL);
        return -1;
    }
}

/* Copies src into dst, cut (when it must be) on a UTF-8 character boundary. */
static void reason_copy(char *dst, size_t dstsz, const char *src)
{
    size_t len = cc_strlcpy(dst, src, dstsz);
    if (len < dstsz)
        return;
    size_t end = dstsz - 1;
    while (end > 0 && ((unsigned char)src[end] & 0xC0) == 0x80)
        end--;
    dst[end] = '\0';
}

/* The platform refused because of its rate limit: no attempt is spent. The
 * notification waits (the whole robot does: its other messages wait their
 * turn too) for the platform's block (DingTalk: 10 minutes) or a wait that
 * starts at its shortest window and grows while it keeps throttling
 * (cc_limiter_throttled); a gateway's for the retry schedule's next wait.
 * It is given up only when it has been waiting longer than the configured
 * maximum age. The answer is kept in the delivery log with the words
 * "waiting: rate limited by the platform". */
static void settle_throttled(struct batch *b, struct item *it, struct cc_attempt *a)
{
    struct cc_dispatcher *d = b->d;
    struct cc_notification *n = it->n;
    const struct cc_outgoing *o = it->o;
    int64_t now = cc_now_ms();
    int64_t max_age = d->cfg.throttle_max_age_ms > 0 ? d->cfg.throttle_max_age_ms
                                                     : 24LL * 3600 * 1000;
    char why[sizeof n->last_error];
    if (now - n->created_at >= max_age) {
        snprintf(why, sizeof why, N_("gave up after %lld s: rate limited by the platform (%s)"),
                 (long long)(max_age / 1000), a->reason);
        reason_copy(a->reason, sizeof a->reason, why);
        finish(b, n, "dead", why, a);
        return;
    }
    int64_t until = !strcmp(o->channel, "webhook")
                        ? cc_limiter_throttled(d->limit, o->kind, o->url, now)
                        : now + backoff_ms(d, n->attempts + 1);
    snprintf(why, sizeof why, N_("waiting: rate limited by the platform (%s)"), a->reason);
    reason_copy(a->reason, sizeof a->reason, why);
    n->next_attempt_at = until;
    finish(b, n, "pending", why, a);
}

/* Records one attempt of it with the platform's verdict and decides what
 * comes next: delivered, due again after a wait, dead, or failed for good
 * (the channel then marked broken). */
/* What a platform answered may echo the address, a robot's URL or the
 * mobile it @mentions: the delivery log keeps them masked. */
static void mask_echoes(char *s, size_t sz, const struct cc_outgoing *o)
{
    char masked[CC_URL_MAX + 1];
    cc_mask_address_in_text(s, sz, o->to);
    cc_mask_address_in_text(s, sz, o->mention_mobile);
    if (o->url[0] && strcasestr(s, o->url)) { /* as cc_mask_in_text finds it */
        cc_mask_webhook_url(o->url, masked, sizeof masked);
        cc_mask_in_text(s, sz, o->url, masked);
    }
}

static void settle(struct batch *b, struct item *it, const struct cc_send_result *answer,
                   const struct cc_robot_answer *ans, int64_t started_at, int64_t latency_ms)
{
    struct cc_dispatcher *d = b->d;
    struct cc_send_result masked_res = *answer;
    const struct cc_send_result *res = &masked_res;
    mask_echoes(masked_res.reason, sizeof masked_res.reason, it->o);
    struct cc_notification *n = it->n;
    const struct cc_outgoing *o = it->o;
    struct cc_attempt a;
    memset(&a, 0, sizeof a);
    a.notification_id = n->id;
    a.started_at = started_at;
    a.latency_ms = latency_ms;
    cc_strlcpy(a.outcome, cc_send_status_name(res->status), sizeof a.outcome);
    a.http_status = ans->http_status;
    cc_strlcpy(a.platform_code, ans->platform_code[0] ? ans->platform_code : res->code,
               sizeof a.platform_code);
    cc_strlcpy(a.platform_message, ans->platform_msg, sizeof a.platform_message);
    mask_echoes(a.platform_message, sizeof a.platform_message, o);
    cc_strlcpy(a.reason, res->reason, sizeof a.reason);
    if (res->status != CC_SEND_THROTTLED)
        n->attempts++; /* waiting for the platform is not an attempt */
    switch (res->status) {
    case CC_SEND_OK: {
        n->last_error[0] = '\0';
        finish_health(b, n, "delivered", NULL, &a, o->was_broken ? 2 : 0);
        break;
    }
    case CC_SEND_RETRY:
        if ((size_t)n->attempts > d->cfg.nschedule) {
            finish(b, n, "dead", res->reason, &a);
        } else {
            n->next_attempt_at = cc_now_ms() + backoff_ms(d, n->attempts);
            finish(b, n, "pending", res->reason, &a);
        }
        break;
    case CC_SEND_THROTTLED:
        settle_throttled(b, it, &a);
        break;
    case CC_SEND_NOT_CONFIGURED:
        finish(b, n, "failed", res->reason, &a); /* our configuration, not the channel */
        break;
    default:
        /* Refused for good: the channel is marked broken until a message gets through. */
        finish_health(b, n, "failed", res->reason, &a, 1);
        break;
    }
    count_outcome(n, metric_platform(o->channel, o->kind), res->status == CC_SEND_THROTTLED);
}

/* Bytes an item adds to a merged message, as the platform measures it
 * (its entry in the table of robot platforms): the markdown or the text,
 * escaped as in a JSON body or as it is, and so much for each line. */
static size_t measure(int kind, int text_message, const char *markdown, const char *text)
{
    const struct cc_robot_platform *p = cc_robot_platform_of(kind);
    if (!p)
        return 0;
    const char *s = p->measures_markdown && !text_message ? markdown : text;
    /* each byte, one more for each byte JSON escapes, line_bytes more for
     * each line break: found by glibc's string search, not byte by byte */
    size_t n = strlen(s);
    for (const char *q = s; (q = strpbrk(q, p->measures_json ? "\"\\\n\t\r" : "\n")); q++)
        n += (p->measures_json ? 1 : 0) + (*q == '\n' ? p->line_bytes : 0);
    return n;
}

/* Cuts s so it measures at most budget, on a UTF-8 character boundary, and
 * marks the cut with "…". */
static void cut(char *s, size_t budget)
{
    size_t len = strlen(s);
    if (len <= budget || budget < 4)
        return;
    size_t end = budget - 3;
    while (end > 0 && ((unsigned char)s[end] & 0xC0) == 0x80)
        end--;
    memcpy(s + end, "\xe2\x80\xa6", 4); /* "…" and the NUL */
}

/* What a robot's messages may measure: its limit less room for the frame
 * (title, signature, mention, merged heading). */
static size_t robot_budget(int kind, int text_message)
{
    const struct cc_robot_platform *p = cc_robot_platform_of(kind);
    return p ? cc_robot_max_bytes(kind, text_message) - p->frame_bytes : 0;
}

/* Prepares the items (all to one robot) as few messages as the robot's size
 * limit allows, each message listing its items. A message past the first
 * needs a turn of its own; without one, the rest wait for theirs. */
static void prepare_merged(struct batch *b, struct item **items, size_t n)
{
    struct cc_dispatcher *d = b->d;
    const struct item *first = items[0];
    const struct cc_outgoing *w = first->o;
    const char *mention = w->mention_mobile[0] ? w->mention_mobile : NULL;
    const struct cc_robot_platform *p = cc_robot_platform_of(w->kind);
    int text_message = p && p->mention_as_text && mention;
    size_t budget = robot_budget(w->kind, text_message);
    int zh = !strcmp(w->lang, "zh-CN");
    size_t i = 0;
    while (i < n) {
        /* as many items as fit */
        size_t j = i, used = 0;
        while (j < n) {
            struct cc_rendered *r = &items[j]->o->r;
            size_t m = measure(w->kind, text_message, r->markdown, r->text) + 16;
            if (m > budget && j == i) { /* one item alone is too long: shorten it */
                cut(r->markdown, budget / 2);
                cut(r->text, budget / 2);
                m = measure(w->kind, text_message, r->markdown, r->text) + 16;
            }
            if (used + m > budget)
                break;
            used += m;
            j++;
        }
        size_t count = j - i;
        if (i > 0) { /* every further message needs a turn of its own */
            int64_t wait_until = cc_limiter_reserve(d->limit, w->kind, w->url, cc_now_ms());
            if (wait_until) {
                for (size_t k = i; k < n; k++) {
                    items[k]->n->next_attempt_at = wait_until;
                    finish(b, items[k]->n, "pending", NULL, NULL);
                }
                return;
            }
        }
        char title[128];
        if (count == 1)
            cc_strlcpy(title, items[i]->o->r.title, sizeof title);
        else if (zh)
            snprintf(title, sizeof title, "%zu 条证书通知", count);
        else
            snprintf(title, sizeof title, "%zu certificate notifications", count);
        struct cc_buf md, tx;
        cc_buf_init(&md, 64 * 1024);
        cc_buf_init(&tx, 64 * 1024);
        if (count > 1) {
            cc_buf_printf(&md, "### %s\n\n", title);
            cc_buf_printf(&tx, "%s\n\n", title);
        }
        for (size_t k = i; k < j; k++) {
            if (k > i) {
                cc_buf_puts(&md, "\n\n---\n\n");
                cc_buf_puts(&tx, "\n\n----------\n\n");
            }
            cc_buf_puts(&md, items[k]->o->r.markdown);
            cc_buf_puts(&tx, items[k]->o->r.text);
        }
        char uuid[sizeof first->n->key + 16];
        snprintf(uuid, sizeof uuid, "%s-m%zu", items[i]->n->key, count);
        struct cc_robot_message m = {
            .kind = w->kind,
            .url = w->url,
            .secret = w->secret[0] ? w->secret : NULL,
            .title = title,
            .markdown = md.data ? md.data : "",
            .text = tx.data ? tx.data : "",
            .mention_mobile = mention,
            .msg_uuid = count == 1 ? items[i]->n->key : uuid,
        };
        struct send *s = batch_send(b, items + i, count);
        cc_robot_prepare(d->dc, &m, &s->res, &s->x);
        cc_buf_free(&md);
        cc_buf_free(&tx);
        i = j;
    }
}

/* The notifications of one robot in this batch. */
struct group {
    struct item **items;
    size_t n;
};

/* Prepares a robot's group as one message when there are several (split
 * when they pass the robot's size limit). */
static void prepare_group(struct batch *b, struct group *gr)
{
    struct cc_dispatcher *d = b->d;
    const struct cc_outgoing *one = gr->items[0]->o;
    const struct cc_robot_platform *p = cc_robot_platform_of(one->kind);
    int text_message = p && p->mention_as_text && one->mention_mobile[0];
    int fits = measure(one->kind, text_message, one->r.markdown, one->r.text) + 16 <=
               robot_budget(one->kind, text_message);
    if (gr->n == 1 && fits) { /* the message exactly as a test send renders and sends it */
        struct item *it = gr->items[0];
        struct send *s = batch_send(b, gr->items, 1);
        cc_notify_prepare(d->dc, it->o, it->n->key, &s->res, &s->x);
    } else {
        prepare_merged(b, gr->items, gr->n);
    }
}

/* The batch's claim, in one write: up to CC_DISPATCH_CLAIM_MAX due notifications, and
 * for each robot among them the others waiting their turn for it (up to
 * CC_DISPATCH_MERGE_MAX a robot, CC_DISPATCH_EXTRA_MAX in all), so they go out in one message. */
struct claim_op {
    const char *owner;             /* the instance id */
    int64_t now, lease_ms;
    int64_t fresh_from;            /* the dispatcher's fresh_after when the claim began */
    int64_t fresh_to;              /* ... and where this claim leaves it */
    struct cc_notification *items; /* CC_DISPATCH_CLAIM_MAX + CC_DISPATCH_EXTRA_MAX */
    size_t n;                      /* in all */
    size_t claimed;                /* due ones (the rest joined their robot's message) */
};

struct release_op {
    const char *owner;
    int64_t released;
};

static enum cc_err release_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct release_op *op = arg;
    return cc_tx_notif_release_leases(tx, op->owner, &op->released, err);
}

/* Before any thread claims: the leases this instance's previous run left
 * (it died, or it would hold the data directory) are due at once. When the
 * store fails now they run out by themselves after the lease. */
static void release_previous(struct cc_dispatcher *d)
{
    struct release_op op = {d->instance, 0};
    struct cc_error err;
    if (cc_store_write(d->store, release_tx, &op, &err)) {
        cc_log(CC_LOG_WARN, "cannot release the leases of a previous process; they run out "
               "by themselves", "error", err.message, NULL);
        return;
    }
    if (op.released) {
        char count[24];
        snprintf(count, sizeof count, "%lld", (long long)op.released);
        cc_log(CC_LOG_INFO, "notifications claimed by a previous process are due again",
               "count", count, NULL);
    }
}

/* A claim: the first notification of each event posted since the last
 * claim (so an event posted behind thousands of waiting notifications has
 * its first attempt now, not after them), then the queue in its order (due
 * time, then id: retries and the rest of every event keep their turn), then
 * what waits for the same robots. */
static enum cc_err claim_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct claim_op *op = arg;
    size_t fresh = 0, queued = 0;
    /* The time as the write runs, not as it was queued: an event written
     * just before it in the writer's queue is due already (its notifications
     * are due at its created_at), and the cursor must not pass it unstarted. */
    op->now = cc_now_ms();
    op->fresh_to = op->fresh_from;
    enum cc_err rc = cc_tx_notif_claim_fresh(tx, op->owner, &op->fresh_to, op->now, op->lease_ms,
                                             CC_DISPATCH_FRESH_MAX, op->items, &fresh, err);
    if (!rc)
        rc = cc_tx_notif_claim(tx, op->owner, op->now, op->lease_ms,
                               CC_DISPATCH_CLAIM_MAX - fresh, op->items + fresh, &queued, err);
    op->n = fresh + queued;
    size_t claimed = op->claimed = op->n;
    for (size_t i = 0; !rc && i < claimed && op->n < CC_DISPATCH_CLAIM_MAX + CC_DISPATCH_EXTRA_MAX; i++) {
        const struct cc_notification *one = &op->items[i];
        if (strcmp(one->channel, "webhook"))
            continue;
        int seen = 0; /* one query a robot */
        for (size_t j = 0; j < i && !seen; j++)
            seen = op->items[j].webhook_id == one->webhook_id;
        if (seen)
            continue;
        size_t room = CC_DISPATCH_CLAIM_MAX + CC_DISPATCH_EXTRA_MAX - op->n, got = 0;
        if (room > CC_DISPATCH_MERGE_MAX - 1)
            room = CC_DISPATCH_MERGE_MAX - 1;
        rc = cc_tx_notif_claim_dest(tx, op->owner, one->account_id, NULL, one->id, op->now,
                                    op->lease_ms, room, op->items + op->n, &got, err);
        op->n += got;
    }
    return rc;
}

/* Queues the outcome of every send that has one and is not settled yet. */
static int settle_finished(struct batch *b)
{
    int any = 0;
    for (size_t i = 0; i < b->nsends; i++) {
        struct send *s = &b->sends[i];
        if (s->settled || (s->x && !cc_xfer_done(s->x)))
            continue;
        struct cc_robot_answer ans;
        memset(&ans, 0, sizeof ans);
        const struct cc_send_result *res = s->x ? cc_xfer_result(s->x, &ans) : &s->res;
        for (size_t k = 0; k < s->n; k++)
            settle(b, s->items[k], res, &ans, s->started, ans.latency_ms);
        s->settled = 1;
        any = 1;
    }
    return any;
}

/* While a batch is on the wire, what has finished is written every
 * CC_DISPATCH_RECORD_EVERY_MS (core/limits.h) rather than when the slowest
 * transfer ends: an answer not yet recorded is what a crash sends twice. A
 * quick batch is written once, at its end (a write waits for its fsync and
 * holds up the batch's transfers meanwhile, so writing more often costs
 * throughput). While the store fails, the end of the batch tries again. */
static void watch_batch(void *arg)
{
    struct batch *b = arg;
    if (cc_mono_ms() - b->last_write >= CC_DISPATCH_RECORD_EVERY_MS && settle_finished(b))
        batch_flush(b);
}

/* Sends a claimed batch: every message prepared first (email and SMS one
 * each, robots grouped so the notifications for one robot go out together),
 * then all of them on the wire at once, then every outcome in one write. */
static void process_batch(struct cc_dispatcher *d, struct cc_notification *claimed, size_t n,
                          struct cc_outgoing *outs)
{
    struct batch b = {.d = d};
    struct item **ready = cc_malloc((n ? n : 1) * sizeof *ready);
    struct cc_notification **ns = cc_malloc((n ? n : 1) * sizeof *ns);
    size_t m = 0;
    for (size_t k = 0; k < n; k++)
        ns[k] = &claimed[k];
    if (n)
        d->resolver.resolve(d->resolver.ctx, ns, n, outs);
    cc_free(ns);
    for (size_t k = 0; k < n; k++) {
        struct item *it = batch_item(&b);
        it->n = &claimed[k];
        it->o = &outs[k];
        if (!take_decision(&b, it))
            ready[m++] = it;
    }
    struct group *groups = cc_calloc(m ? m : 1, sizeof *groups);
    size_t ngroups = 0;
    char *done = cc_calloc(m ? m : 1, 1);
    for (size_t k = 0; k < m; k++) {
        if (done[k])
            continue;
        done[k] = 1;
        struct item *it = ready[k];
        if (strcmp(it->o->channel, "webhook")) { /* email or SMS */
            struct send *s = batch_send(&b, &it, 1);
            cc_notify_prepare(d->dc, it->o, it->n->key, &s->res, &s->x);
            continue;
        }
        struct group *gr = &groups[ngroups++];
        gr->items = cc_malloc((m - k) * sizeof *gr->items);
        gr->items[gr->n++] = it;
        for (size_t o = k + 1; o < m; o++)
            if (!done[o] && !strcmp(ready[o]->o->channel, "webhook") &&
                ready[o]->n->account_id == it->n->account_id &&
                !strcmp(ready[o]->o->url, it->o->url)) {
                done[o] = 1;
                gr->items[gr->n++] = ready[o];
            }
        int64_t wait_until = cc_limiter_reserve(d->limit, it->o->kind, it->o->url, cc_now_ms());
        if (wait_until) {
            /* Their turn has not come: due again then, no attempt spent. */
            for (size_t g = 0; g < gr->n; g++) {
                gr->items[g]->n->next_attempt_at = wait_until;
                finish(&b, gr->items[g]->n, "pending", NULL, NULL);
            }
            continue;
        }
        prepare_group(&b, gr);
    }
    cc_free(done);
    cc_free(ready);
    /* On the wire, all together. */
    struct cc_xfer **xs = cc_malloc((b.nsends ? b.nsends : 1) * sizeof *xs);
    for (size_t i = 0; i < b.nsends; i++)
        xs[i] = b.sends[i].x;
    b.last_write = cc_mono_ms();
    cc_xfer_run_watched(xs, b.nsends, watch_batch, &b);
    cc_free(xs);
    settle_finished(&b);
    batch_flush(&b); /* the recorder writes them */
    for (size_t g = 0; g < ngroups; g++)
        cc_free(groups[g].items);
    cc_free(groups);
    /* The robots' signing secrets: the bytes written (each was copied in
     * with its NUL into a buffer left zero by the batch before). */
    for (size_t k = 0; k < n; k++)
        OPENSSL_cleanse(outs[k].secret, strnlen(outs[k].secret, sizeof outs[k].secret));
    batch_free(&b);
}

/* ---- notifications in hand ------------------------------------------------------------
 * An event's write can give its notifications to the dispatcher as it makes
 * them: born leased to this instance, they need no claim (a write, queued
 * behind the events' own) before they go on the wire. What the dispatcher
 * holds is only their ids; it reads each batch of them back (they may have
 * been cancelled since) on its own read connection. */

void cc_dispatcher_handoff_begin(struct cc_dispatcher *d, size_t want, struct cc_handoff *h)
{
    memset(h, 0, sizeof *h);
    if (!d || !want)
        return;
    size_t room = 0;
    pthread_mutex_lock(&d->mu);
    if (!d->stopping && !d->failing)
        room = cc_hand_promise(d->hand, want);
    pthread_mutex_unlock(&d->mu);
    if (!room)
        return;
    h->granted = room;
    h->ids = cc_malloc(room * sizeof *h->ids);
    cc_strlcpy(h->owner, d->instance, sizeof h->owner);
    h->lease_until = cc_now_ms() + d->cfg.lease_ms;
}

void cc_dispatcher_handoff_end(struct cc_dispatcher *d, struct cc_handoff *h, int committed)
{
    if (d && h->granted) {
        pthread_mutex_lock(&d->mu);
        /* Stopping, they stay leased: the next start makes them due. */
        cc_hand_put(d->hand, h->ids, committed && !d->stopping ? h->n : 0, h->granted,
                    h->lease_until);
        if (committed && h->n) {
            d->wakeups++;
            d->all_awake = 1;
            pthread_cond_broadcast(&d->cv);
        }
        pthread_mutex_unlock(&d->mu);
    }
    cc_free(h->ids);
    memset(h, 0, sizeof *h);
}

/* Takes up to CC_DISPATCH_CLAIM_MAX ids in hand into ids; 0 when there are
 * none, or when the outbox is due a claim of its own. One whose lease has
 * less than half left is let go: its lease runs out and a claim takes it,
 * never two senders at once. The outbox's turn goes to one thread: the
 * others keep sending from the hand meanwhile. (Every thread used to find it
 * due at once, and all of them waited for the recorder to catch up and for
 * their claims' writes, queued behind an event's insert: a 10-20 ms spell
 * in which nothing was sent, every 100 ms.) */
static size_t take_handed(struct cc_dispatcher *d, int64_t *ids)
{
    size_t k = 0;
    int64_t keep_until = cc_now_ms() + d->cfg.lease_ms / 2;
    pthread_mutex_lock(&d->mu);
    int64_t now = cc_mono_ms();
    if (now - d->last_claim_ms < CC_DISPATCH_CLAIM_EVERY_MS)
        k = cc_hand_take(d->hand, ids, CC_DISPATCH_CLAIM_MAX, CC_DISPATCH_FRESH_MAX, keep_until);
    else
        d->last_claim_ms = now; /* this thread's turn */
    pthread_mutex_unlock(&d->mu);
    return k;
}

static int has_handed(struct cc_dispatcher *d)
{
    pthread_mutex_lock(&d->mu);
    int any = cc_hand_count(d->hand) > 0;
    pthread_mutex_unlock(&d->mu);
    return any;
}

/* The next batch from the notifications in hand, read back into op (those
 * still pending and leased to this instance); 0 when there was none to take. */
static int handed_batch(struct cc_dispatcher *d, struct claim_op *op)
{
    int64_t ids[CC_DISPATCH_CLAIM_MAX];
    size_t k = take_handed(d, ids);
    if (!k)
        return 0;
    struct cc_error err;
    size_t got = 0;
    if (cc_store_notif_leased(d->store, d->instance, ids, k, cc_now_ms(), op->items, &got, &err))
        /* Not read, not sent: they stay leased, and a claim takes them when
         * the lease runs out. */
        cc_log(CC_LOG_WARN, "cannot read the notifications in hand; they go out when their "
                            "lease runs out", "error", err.message, NULL);
    op->n = op->claimed = got;
    return 1;
}

/* An idle server needs one thread watching the outbox: the others wait
 * here, holding no connection, no handles and no buffers (about 400 KB each),
 * until the first one finds work. Returns 0 when the dispatcher stops first. */
static int wait_for_work(struct cc_dispatcher *d)
{
    pthread_mutex_lock(&d->mu);
    int index = d->started++;
    while (index > 0 && !d->all_awake && !d->stopping)
        pthread_cond_wait(&d->cv, &d->mu);
    int go = !d->stopping;
    pthread_mutex_unlock(&d->mu);
    return go;
}

static void *dispatcher_main(void *arg)
{
    pthread_setname_np(pthread_self(), "cc-dispatch"); /* for top -H, perf, gdb */
    struct cc_dispatcher *d = arg;
    if (!wait_for_work(d))
        return NULL;
    struct outage st = {0, 0};
    struct claim_op *op = cc_malloc(sizeof *op);
    op->items = cc_calloc(CC_DISPATCH_CLAIM_MAX + CC_DISPATCH_EXTRA_MAX, sizeof *op->items);
    op->owner = d->instance;
    /* What the resolver says for each claimed notification; kept from batch
     * to batch (it is large: a rendered message each). */
    struct cc_outgoing *outs = cc_malloc((CC_DISPATCH_CLAIM_MAX + CC_DISPATCH_EXTRA_MAX) * sizeof *outs);
    for (;;) {
        pthread_mutex_lock(&d->mu);
        int stop = d->stopping;
        unsigned seen = d->wakeups;
        pthread_mutex_unlock(&d->mu);
        if (stop || cc_recorder_room(d->recorder))
            break;
        struct cc_error err;
        op->lease_ms = d->cfg.lease_ms;
        op->n = op->claimed = 0;
        if (handed_batch(d, op)) {
            process_batch(d, op->items, op->n, outs);
            continue;
        }
        if (cc_recorder_caught_up(d->recorder))
            break;
        pthread_mutex_lock(&d->mu);
        op->fresh_from = d->fresh_after;
        d->last_claim_ms = cc_mono_ms();
        pthread_mutex_unlock(&d->mu);
        if (cc_store_write_relaxed(d->store, claim_tx, op, &err)) {
            /* Not committed, so not claimed: nothing of it may be sent. */
            store_failed(d, &st, err.message);
            if (nap(d, st.wait_ms))
                break;
            continue;
        }
        store_worked(d, &st);
        pthread_mutex_lock(&d->mu);
        if (op->fresh_to > d->fresh_after)
            d->fresh_after = op->fresh_to;
        if (op->n && !d->all_awake) { /* the first work found: every thread takes part */
            d->all_awake = 1;
            pthread_cond_broadcast(&d->cv);
        }
        pthread_mutex_unlock(&d->mu);
        process_batch(d, op->items, op->n, outs);
        if (op->claimed == CC_DISPATCH_CLAIM_MAX || has_handed(d))
            continue; /* more may be due right away */
        /* Sleep until the next notification falls due, a wake-up, or the poll. */
        int64_t due = 0, now = cc_now_ms(), sleep_ms = d->cfg.idle_poll_ms;
        if (op->n == 0 && cc_store_notif_next_due(d->store, &due, &err) == CC_OK && due) {
            int64_t until = due - now;
            if (until < sleep_ms)
                sleep_ms = until < 10 ? 10 : until;
        } else if (op->n) {
            continue;
        }
        struct timespec ts = deadline_in(sleep_ms);
        pthread_mutex_lock(&d->mu);
        while (!d->stopping && d->wakeups == seen)
            if (pthread_cond_timedwait(&d->cv, &d->mu, &ts))
                break;
        pthread_mutex_unlock(&d->mu);
    }
    cc_free(outs);
    cc_free(op->items);
    cc_free(op);
    cc_store_thread_done(d->store);
    return NULL;
}

int cc_dispatcher_start(struct cc_store *store, const struct cc_delivery_config *dc,
                        const struct cc_delivery_resolver *resolver,
                        const struct cc_dispatcher_config *cfg, struct cc_dispatcher **out)
{
    if (cfg->nschedule == 0 || cfg->threads < 1)
        return -1;
    struct cc_dispatcher *d = cc_calloc(1, sizeof *d);
    d->store = store;
    d->dc = dc;
    d->resolver = *resolver;
    d->cfg = *cfg;
    d->schedule = cc_calloc(cfg->nschedule, sizeof *d->schedule);
    memcpy(d->schedule, cfg->schedule_s, cfg->nschedule * sizeof *d->schedule);
    d->cfg.schedule_s = d->schedule;
    d->fresh_after = -1;
    d->hand = cc_hand_new(CC_DISPATCH_HANDOFF_MAX, CC_DISPATCH_HANDOFF_FRESH_MAX);
    if (cfg->instance_id && cfg->instance_id[0]) {
        cc_strlcpy(d->instance, cfg->instance_id, sizeof d->instance);
    } else {
        uint8_t id[16];
        cc_random_bytes(id, sizeof id);
        for (size_t i = 0; i < sizeof id; i++)
            snprintf(d->instance + 2 * i, 3, "%02x", id[i]);
    }
    d->cfg.instance_id = NULL; /* borrowed: copied above */
    cc_health_set("dispatcher", 1, NULL); /* shown in /metrics from the start */
    release_previous(d);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    d->limit = cc_limiter_new(cfg->rate_window_percent);
    if (cc_store_shared(d->store))
        cc_limiter_share(d->limit, d->store);
    d->threads = cc_calloc((size_t)cfg->threads, sizeof *d->threads);
    /* The recorder lets more than eight batches a thread wait on it: while
     * the writer inserts an event (700 rows for 100 contacts, 5-20 ms beside
     * busy dispatchers) the threads keep sending the notifications in hand.
     * With room for two batches a thread they all stopped within a few
     * milliseconds and waited for that insert. An outcome waiting is one a
     * crash sends again (its notification stays leased to this instance). */
    d->recorder = cc_recorder_start(store, d->instance,
                                    (size_t)cfg->threads * CC_DISPATCH_RECORD_ROOM,
                                    recorder_wrote, d);
    if (!d->recorder) {
        cc_dispatcher_stop(d);
        return -1;
    }
    for (; d->nthreads < cfg->threads; d->nthreads++)
        if (pthread_create(&d->threads[d->nthreads], NULL, dispatcher_main, d))
            break;
    if (d->nthreads == 0) {
        cc_dispatcher_stop(d);
        return -1;
    }
    *out = d;
    return 0;
}

void cc_dispatcher_wake(struct cc_dispatcher *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->wakeups++;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

void cc_dispatcher_stop(struct cc_dispatcher *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stopping = 1;
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    if (d->recorder)
        cc_recorder_cancel(d->recorder);
    for (int i = 0; i < d->nthreads; i++)
        pthread_join(d->threads[i], NULL);
    /* the outcomes of the batches just finished, then the recorder ends */
    cc_recorder_stop(d->recorder);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    cc_hand_free(d->hand);
    cc_limiter_free(d->limit);
    cc_free(d->threads);
    cc_free(d->schedule);
    cc_free(d);
}
