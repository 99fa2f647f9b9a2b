/*
 * dispatcher.c — turns the outbox into messages on the wire.
 *
 * Each dispatcher thread claims a few due notifications in one write (a
 * lease: if this process dies, the lease runs out and the work is claimed
 * again), then for each one re-reads the contact — a contact deleted, an
 * address no longer verified or a robot removed since the event is
 * cancelled, not sent — renders the event in the contact's language, sends
 * it through cc_notify_send, and records the attempt and the outcome in one
 * write: delivered, failed for good (with the platform's reason), or due
 * again after the next wait of the retry schedule, until the schedule runs
 * out and it is dead. The outcome comes from the platform's answer, never
 * from the HTTP status alone (see the senders).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/core.h"
#include "delivery/delivery.h"
#include "store/store.h"
#include "util/util.h"

#define CLAIM_MAX 8
/* DingTalk blocks a robot for 10 minutes after its rate limit. */
#define DINGTALK_BLOCK_MS (10 * 60 * 1000)

/* ---- per-robot rate limits ----------------------------------------------------------
 * DingTalk and WeCom take 20 messages a minute per robot, Lark 5 a second and
 * 100 a minute; past that they refuse (and DingTalk blocks the robot for 10
 * minutes). So a message that would pass the limit waits its turn instead. */
#define LIMIT_SLOTS 100           /* the most sends any rule looks back over */
#define LIMIT_DESTS 256

struct rate_rule {
    int max;
    int64_t window_ms;
};

struct dest {
    char url[CC_URL_MAX + 1];
    int64_t stamps[LIMIT_SLOTS];  /* send times, oldest first */
    int n;
    int64_t blocked_until;
    int64_t last_used;
};

struct limiter {
    pthread_mutex_t mu;
    struct dest *dests;           /* LIMIT_DESTS of them */
    int percent;
};

static int rules_for(int kind, int percent, struct rate_rule out[2])
{
    int64_t minute = 60000 * percent / 100, second = 1000 * percent / 100;
    switch (kind) {
    case CC_WEBHOOK_DINGTALK:
    case CC_WEBHOOK_WECOM:
        out[0] = (struct rate_rule){20, minute};
        return 1;
    case CC_WEBHOOK_LARK:
    case CC_WEBHOOK_FEISHU:
        out[0] = (struct rate_rule){5, second};
        out[1] = (struct rate_rule){100, minute};
        return 2;
    default:
        return 0;
    }
}

static struct dest *dest_find(struct limiter *l, const char *url, int64_t now)
{
    struct dest *free_slot = NULL;
    for (int i = 0; i < LIMIT_DESTS; i++) {
        struct dest *d = &l->dests[i];
        if (d->url[0] && !strcmp(d->url, url))
            return d;
        if (!free_slot || (!d->url[0] && free_slot->url[0]) ||
            (d->url[0] && free_slot->url[0] && d->last_used < free_slot->last_used))
            free_slot = d;
    }
    /* a free slot, or the one idle longest (it only forgets old sends) */
    memset(free_slot, 0, sizeof *free_slot);
    cc_strlcpy(free_slot->url, url, sizeof free_slot->url);
    free_slot->last_used = now;
    return free_slot;
}

/* 0 when a message to url may go now (the send is counted), else the time
 * (ms) it may go. */
static int64_t limiter_reserve(struct limiter *l, int kind, const char *url, int64_t now)
{
    struct rate_rule rules[2];
    int nr = rules_for(kind, l->percent, rules);
    if (!nr)
        return 0;
    pthread_mutex_lock(&l->mu);
    struct dest *d = dest_find(l, url, now);
    d->last_used = now;
    int64_t until = d->blocked_until > now ? d->blocked_until : 0;
    for (int r = 0; r < nr; r++) {
        int count = 0;
        for (int i = d->n - 1; i >= 0 && d->stamps[i] > now - rules[r].window_ms; i--)
            count++;
        if (count >= rules[r].max) {
            /* The platform counts arrivals, not our sends: leave a margin
             * (1 s at the real scale) for a message that was slow to arrive. */
            int64_t margin = 10 * l->percent;
            int64_t free_at = d->stamps[d->n - rules[r].max] + rules[r].window_ms + margin;
            if (free_at > until)
                until = free_at;
        }
    }
    if (!until) {
        if (d->n == LIMIT_SLOTS) {
            memmove(d->stamps, d->stamps + 1, (LIMIT_SLOTS - 1) * sizeof d->stamps[0]);
            d->n--;
        }
        d->stamps[d->n++] = now;
    }
    pthread_mutex_unlock(&l->mu);
    return until;
}

static void limiter_block(struct limiter *l, const char *url, int64_t until)
{
    pthread_mutex_lock(&l->mu);
    struct dest *d = dest_find(l, url, cc_now_ms());
    if (until > d->blocked_until)
        d->blocked_until = until;
    pthread_mutex_unlock(&l->mu);
}

struct cc_dispatcher {
    struct limiter limit;
    struct cc_store *store;
    const struct cc_delivery_config *dc;
    uint8_t key[CC_KEY_LEN];
    struct cc_dispatcher_config cfg;
    int64_t *schedule;
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
    unsigned wakeups;
};

struct claim_op {
    int64_t now, lease_ms;
    struct cc_notification items[CLAIM_MAX];
    size_t n;
};

static enum cc_err claim_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct claim_op *op = arg;
    return cc_tx_notif_claim(tx, op->now, op->lease_ms, CLAIM_MAX, op->items, &op->n, err);
}

struct record_op {
    const struct cc_notification *n;
    const struct cc_attempt *a;
    int health;               /* 0 leave, 1 mark broken (n->last_error), 2 clear */
};

static enum cc_err record_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct record_op *op = arg;
    enum cc_err rc = cc_tx_notif_record(tx, op->n, op->a, err);
    if (rc || !op->health)
        return rc;
    const struct cc_notification *n = op->n;
    return cc_tx_channel_health(tx, n->account_id, n->contact_id, n->channel, n->webhook_id,
                                op->health == 1 ? n->last_error : NULL, n->updated_at, err);
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

static void finish_health(struct cc_dispatcher *d, struct cc_notification *n, const char *status,
                          const char *why, const struct cc_attempt *a, int health)
{
    struct cc_error err;
    cc_strlcpy(n->status, status, sizeof n->status);
    if (why)
        cc_strlcpy(n->last_error, why, sizeof n->last_error);
    n->updated_at = cc_now_ms();
    n->target[0] = '\0'; /* keep the stored one */
    struct record_op op = {n, a, health};
    if (cc_store_write(d->store, record_tx, &op, &err))
        cc_log(CC_LOG_ERROR, "cannot record a delivery", "error", err.message, NULL);
}

static void finish(struct cc_dispatcher *d, struct cc_notification *n, const char *status,
                   const char *why, const struct cc_attempt *a)
{
    finish_health(d, n, status, why, a, 0);
}

/* Sends one claimed notification and records what happened. */
static void process(struct cc_dispatcher *d, struct cc_notification *n)
{
    struct cc_error err;
    struct cc_event ev;
    struct cc_contact *c = cc_malloc(sizeof *c);
    memset(&ev, 0, sizeof ev);
    if (cc_store_event_get(d->store, n->account_id, n->event_id, &ev, &err)) {
        finish(d, n, err.code == CC_ERR_NOT_FOUND ? "cancelled" : "pending", err.message, NULL);
        goto out;
    }
    enum cc_err rc = cc_store_contact_get(d->store, n->account_id, n->contact_id, c, &err);
    if (rc == CC_ERR_NOT_FOUND) {
        finish(d, n, "cancelled", "the contact was deleted", NULL);
        goto out;
    }
    if (rc) {
        n->next_attempt_at = cc_now_ms() + 1000;
        finish(d, n, "pending", err.message, NULL);
        goto out;
    }
    const struct cc_webhook *w = NULL;
    const char *gone = NULL;
    if (!strcmp(n->channel, "email")) {
        if (!c->has_email || !c->email_verified_at)
            gone = "the contact's email address is no longer verified";
    } else if (!strcmp(n->channel, "mobile")) {
        if (!c->mobile_verified_at)
            gone = "the contact's mobile number is no longer verified";
    } else {
        for (int i = 0; i < c->n_webhooks; i++)
            if (c->webhooks[i].id == n->webhook_id)
                w = &c->webhooks[i];
        if (!w)
            gone = "the robot was removed from the contact";
    }
    if (gone) {
        finish(d, n, "cancelled", gone, NULL);
        goto out;
    }
    char secret[CC_ENC_MAX] = "";
    if (w && w->has_secret &&
        cc_aead_open(d->key, CC_AAD_WEBHOOK, w->secret_enc, w->secret_enc_len, secret,
                     sizeof secret, NULL)) {
        finish(d, n, "failed", "the robot's secret cannot be decrypted with this master key", NULL);
        goto out;
    }
    if (w) {
        int64_t wait_until = limiter_reserve(&d->limit, w->kind, w->url, cc_now_ms());
        if (wait_until) {
            /* Its turn has not come: due again then, no attempt spent. */
            OPENSSL_cleanse(secret, sizeof secret);
            n->next_attempt_at = wait_until;
            finish(d, n, "pending", NULL, NULL);
            goto out;
        }
    }
    json_t *data = json_loads(ev.data ? ev.data : "{}", 0, NULL);
    struct cc_rendered *r = cc_malloc(sizeof *r);
    cc_render_for_account(d->store, n->account_id, cc_event_type_parse(ev.type), n->channel,
                          c->language, data, c->name, 0, r);
    json_decref(data);

    struct cc_attempt a;
    struct cc_send_result res;
    struct cc_robot_answer ans;
    memset(&a, 0, sizeof a);
    a.notification_id = n->id;
    a.started_at = cc_now_ms();
    int64_t t0 = cc_mono_ms();
    cc_notify_send(d->dc, r, c, n->channel, w, secret[0] ? secret : NULL, n->key, &res, &ans);
    OPENSSL_cleanse(secret, sizeof secret);
    cc_free(r);
    a.latency_ms = ans.latency_ms ? ans.latency_ms : cc_mono_ms() - t0;
    cc_strlcpy(a.outcome, cc_send_status_name(res.status), sizeof a.outcome);
    a.http_status = ans.http_status;
    cc_strlcpy(a.platform_code, ans.platform_code[0] ? ans.platform_code : res.code,
               sizeof a.platform_code);
    cc_strlcpy(a.platform_message, ans.platform_msg, sizeof a.platform_message);
    cc_strlcpy(a.reason, res.reason, sizeof a.reason);

    n->attempts++;
    switch (res.status) {
    case CC_SEND_OK: {
        int was_broken = w ? w->broken[0] != '\0'
                           : !strcmp(n->channel, "email") ? c->email_broken[0] != '\0'
                                                          : c->mobile_broken[0] != '\0';
        n->last_error[0] = '\0';
        finish_health(d, n, "delivered", NULL, &a, was_broken ? 2 : 0);
        break;
    }
    case CC_SEND_RETRY:
    case CC_SEND_THROTTLED:
        if ((size_t)n->attempts > d->cfg.nschedule) {
            finish(d, n, "dead", res.reason, &a);
        } else {
            int64_t wait = backoff_ms(d, n->attempts);
            if (res.status == CC_SEND_THROTTLED && w && w->kind == CC_WEBHOOK_DINGTALK) {
                int64_t block = DINGTALK_BLOCK_MS * d->cfg.rate_window_percent / 100;
                if (wait < block)
                    wait = block;
                /* the whole robot is blocked, not just this message */
                limiter_block(&d->limit, w->url, cc_now_ms() + block);
            }
            n->next_attempt_at = cc_now_ms() + wait;
            finish(d, n, "pending", res.reason, &a);
        }
        break;
    case CC_SEND_NOT_CONFIGURED:
        finish(d, n, "failed", res.reason, &a); /* our configuration, not the channel */
        break;
    default:
        /* Refused for good: the channel is marked broken until a message gets through. */
        finish_health(d, n, "failed", res.reason, &a, 1);
        break;
    }
out:
    cc_event_free(&ev);
    cc_free(c);
}

static void *dispatcher_main(void *arg)
{
    struct cc_dispatcher *d = arg;
    struct claim_op *op = cc_malloc(sizeof *op);
    for (;;) {
        pthread_mutex_lock(&d->mu);
        int stop = d->stopping;
        unsigned seen = d->wakeups;
        pthread_mutex_unlock(&d->mu);
        if (stop)
            break;
        struct cc_error err;
        op->now = cc_now_ms();
        op->lease_ms = d->cfg.lease_ms;
        op->n = 0;
        if (cc_store_write(d->store, claim_tx, op, &err))
            cc_log(CC_LOG_WARN, "cannot claim notifications", "error", err.message, NULL);
        for (size_t i = 0; i < op->n; i++)
            process(d, &op->items[i]);
        if (op->n == CLAIM_MAX)
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
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += sleep_ms / 1000;
        ts.tv_nsec += (sleep_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_mutex_lock(&d->mu);
        while (!d->stopping && d->wakeups == seen)
            if (pthread_cond_timedwait(&d->cv, &d->mu, &ts))
                break;
        pthread_mutex_unlock(&d->mu);
    }
    cc_free(op);
    cc_store_thread_done(d->store);
    return NULL;
}

int cc_dispatcher_start(struct cc_store *store, const struct cc_delivery_config *dc,
                        const uint8_t *master_key, const struct cc_dispatcher_config *cfg,
                        struct cc_dispatcher **out)
{
    if (cfg->nschedule == 0 || cfg->threads < 1)
        return -1;
    struct cc_dispatcher *d = cc_calloc(1, sizeof *d);
    d->store = store;
    d->dc = dc;
    memcpy(d->key, master_key, CC_KEY_LEN);
    d->cfg = *cfg;
    d->schedule = cc_calloc(cfg->nschedule, sizeof *d->schedule);
    memcpy(d->schedule, cfg->schedule_s, cfg->nschedule * sizeof *d->schedule);
    d->cfg.schedule_s = d->schedule;
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, NULL);
    pthread_mutex_init(&d->limit.mu, NULL);
    d->limit.dests = cc_calloc(LIMIT_DESTS, sizeof *d->limit.dests);
    d->limit.percent = cfg->rate_window_percent > 0 ? cfg->rate_window_percent : 100;
    d->threads = cc_calloc((size_t)cfg->threads, sizeof *d->threads);
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
    for (int i = 0; i < d->nthreads; i++)
        pthread_join(d->threads[i], NULL);
    pthread_mutex_destroy(&d->mu);
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->limit.mu);
    cc_free(d->limit.dests);
    OPENSSL_cleanse(d->key, sizeof d->key);
    cc_free(d->threads);
    cc_free(d->schedule);
    cc_free(d);
}
