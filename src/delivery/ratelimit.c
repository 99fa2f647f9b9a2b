/*
 * ratelimit.c — the per-robot rate limiter the dispatcher keeps to.
 *
 * Each platform takes so many messages per robot in a window (the table of
 * robot platforms, delivery_int.h: DingTalk and WeCom 20 a minute, Lark 5 a
 * second and 100 a minute); past that they refuse, and DingTalk blocks the
 * robot for 10 minutes. So a message that would pass the limit waits its
 * turn instead, and a robot the platform said it throttles anyway (its count
 * knows sends this process does not: a crashed process's, another system's)
 * is left alone for a while (throttle()).
 *
 * The limit is exact for any number of robots: every robot with a send in
 * its longest window (or a block not yet over) has an entry in a hash table
 * that grows with them, keyed by the webhook URL. An entry holds its recent
 * send times in a ring as large as the platform's largest rule, so memory is
 * bounded per robot; it is dropped only once its whole window has passed
 * (swept when the table has doubled since the last sweep, so the cost is
 * constant per send). One mutex guards the table; it is held for a lookup
 * and a count, never while anything is sent.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "delivery/delivery_int.h"
#include "store/store.h"
#include "util/util.h"

struct dest {
    struct dest *next;            /* in its bucket */
    uint64_t hash;
    int64_t forget_at;            /* when nothing of it matters any more */
    int64_t blocked_until;
    int strikes;                  /* throttled again soon after the last wait */
    int kind;
    int cap, n, head;             /* the ring: n stamps from head, oldest first */
    int64_t *stamps;
    char url[];
};

struct cc_limiter {
    pthread_mutex_t mu;
    struct dest **buckets;
    size_t nbuckets;              /* a power of two */
    size_t count;
    size_t swept_at;              /* count after the last sweep */
    int percent;
    struct cc_store *store;       /* set: the limits live in the database */
};

#define MIN_BUCKETS 256

/* FNV-1a: URLs of one platform share a long prefix, so all bytes count. */
static uint64_t hash_url(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The platform's rules for kind with their windows at percent of the
 * platform's. Returns how many (0: no limit). */
static int rules_for(int kind, int percent, struct cc_rate_rule out[2])
{
    const struct cc_robot_platform *p = cc_robot_platform_of(kind);
    int n = 0;
    for (int i = 0; p && i < 2 && p->rules[i].max; i++, n++)
        out[i] = (struct cc_rate_rule){p->rules[i].max, p->rules[i].window_ms * percent / 100};
    return n;
}

struct cc_limiter *cc_limiter_new(int percent)
{
    struct cc_limiter *l = cc_calloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    l->nbuckets = MIN_BUCKETS;
    l->buckets = cc_calloc(l->nbuckets, sizeof *l->buckets);
    l->percent = percent > 0 ? percent : 100;
    return l;
}

static void dest_free(struct dest *d)
{
    cc_free(d->stamps);
    cc_free(d);
}

void cc_limiter_free(struct cc_limiter *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->nbuckets; i++)
        for (struct dest *d = l->buckets[i], *next; d; d = next) {
            next = d->next;
            dest_free(d);
        }
    cc_free(l->buckets);
    pthread_mutex_destroy(&l->mu);
    cc_free(l);
}

size_t cc_limiter_size(struct cc_limiter *l)
{
    pthread_mutex_lock(&l->mu);
    size_t n = l->count;
    pthread_mutex_unlock(&l->mu);
    return n;
}

/* Drops every entry whose window has passed by now. */
static void sweep(struct cc_limiter *l, int64_t now)
{
    for (size_t i = 0; i < l->nbuckets; i++)
        for (struct dest **pp = &l->buckets[i]; *pp;) {
            struct dest *d = *pp;
            if (d->forget_at <= now) {
                *pp = d->next;
                dest_free(d);
                l->count--;
            } else {
                pp = &d->next;
            }
        }
    l->swept_at = l->count;
}

/* Doubles the buckets (the chains stay short as robots are added). */
static void grow(struct cc_limiter *l)
{
    size_t nb = l->nbuckets * 2;
    struct dest **b = cc_calloc(nb, sizeof *b);
    for (size_t i = 0; i < l->nbuckets; i++)
        for (struct dest *d = l->buckets[i], *next; d; d = next) {
            next = d->next;
            d->next = b[d->hash & (nb - 1)];
            b[d->hash & (nb - 1)] = d;
        }
    cc_free(l->buckets);
    l->buckets = b;
    l->nbuckets = nb;
}

/* The entry of url, made when there is none (with room for the largest of
 * kind's rules). Called with l->mu held. */
static struct dest *dest_get(struct cc_limiter *l, int kind, const char *url, int64_t now)
{
    uint64_t h = hash_url(url);
    for (struct dest *d = l->buckets[h & (l->nbuckets - 1)]; d; d = d->next)
        if (d->hash == h && !strcmp(d->url, url))
            return d;
    if (l->count >= 2 * l->swept_at && l->count >= MIN_BUCKETS)
        sweep(l, now);
    if (l->count >= l->nbuckets)
        grow(l);
    struct cc_rate_rule rules[2];
    int nr = rules_for(kind, l->percent, rules), cap = 1;
    for (int r = 0; r < nr; r++)
        if (rules[r].max > cap)
            cap = rules[r].max;
    size_t len = strlen(url);
    struct dest *d = cc_calloc(1, sizeof *d + len + 1);
    memcpy(d->url, url, len + 1);
    d->hash = h;
    d->kind = kind;
    d->cap = cap;
    d->stamps = cc_calloc((size_t)cap, sizeof *d->stamps);
    d->next = l->buckets[h & (l->nbuckets - 1)];
    l->buckets[h & (l->nbuckets - 1)] = d;
    l->count++;
    return d;
}

/* The i-th newest send (0: the latest); i < d->n. */
static int64_t newest(const struct dest *d, int i)
{
    return d->stamps[(d->head + d->n - 1 - i) % d->cap];
}

/* The longest of the rules' windows. */
static int64_t longest_window(const struct cc_rate_rule *rules, int nr)
{
    int64_t longest = 0;
    for (int r = 0; r < nr; r++)
        if (rules[r].window_ms > longest)
            longest = rules[r].window_ms;
    return longest;
}

/* Counts a send to d at now when every rule allows one: 0; else the time
 * (ms) it may go, and nothing is counted. */
static int64_t take(struct dest *d, const struct cc_rate_rule *rules, int nr, int64_t now,
                    int64_t margin)
{
    int64_t until = d->blocked_until > now ? d->blocked_until : 0;
    int64_t longest = longest_window(rules, nr);
    for (int r = 0; r < nr; r++) {
        int count = 0;
        while (count < d->n && newest(d, count) > now - rules[r].window_ms)
            count++;
        if (count >= rules[r].max) {
            int64_t free_at = newest(d, rules[r].max - 1) + rules[r].window_ms + margin;
            if (free_at > until)
                until = free_at;
        }
    }
    if (!until) {
        if (d->n == d->cap) { /* the oldest no rule looks back to any more */
            d->head = (d->head + 1) % d->cap;
            d->n--;
        }
        d->stamps[(d->head + d->n) % d->cap] = now;
        d->n++;
        if (now + longest + margin > d->forget_at)
            d->forget_at = now + longest + margin;
    }
    return until;
}

#define MAX_STRIKES 30

/* The platform said it throttles d: until when nothing goes to it. A
 * platform that blocks a robot (DingTalk) blocks it for its time. One that
 * does not (Lark, WeCom) is left alone for its shortest window, doubled each
 * time it throttles again within its longest window of the last wait's end,
 * up to the longest: Lark 1, 2, 4 ... 60 s, WeCom a minute. Up to a tenth
 * more at random, so robots throttled together do not come back together.
 * An answer that comes while the robot waits already (to a message sent
 * before the wait began) changes nothing. d is remembered while the wait
 * could still count as the last one. */
static int64_t throttle(struct dest *d, int kind, int percent, const struct cc_rate_rule *rules,
                        int nr, int64_t now)
{
    if (d->blocked_until > now)
        return d->blocked_until;
    const struct cc_robot_platform *p = cc_robot_platform_of(kind);
    int64_t longest = longest_window(rules, nr), shortest = longest, wait;
    for (int r = 0; r < nr; r++)
        if (rules[r].window_ms < shortest)
            shortest = rules[r].window_ms;
    if (p && p->throttle_block_ms) {
        wait = p->throttle_block_ms * percent / 100;
    } else {
        if (!longest) /* a platform with no rules of its own: a minute */
            shortest = longest = 60000LL * percent / 100;
        if (d->blocked_until && now - d->blocked_until < longest)
            d->strikes += d->strikes < MAX_STRIKES;
        else
            d->strikes = 0;
        wait = shortest > 0 ? shortest : 1;
        for (int i = 0; i < d->strikes && wait < longest; i++)
            wait *= 2;
        if (wait > longest)
            wait = longest;
    }
    uint32_t r;
    cc_random_bytes(&r, sizeof r);
    d->blocked_until = now + wait + (int64_t)(r % (uint32_t)(wait / 10 + 1));
    if (d->blocked_until + longest > d->forget_at)
        d->forget_at = d->blocked_until + longest;
    return d->blocked_until;
}

/* ---- the limits in the database (instances sharing PostgreSQL) -----------
 * A robot's state is "BLOCKED_UNTIL;T1,T2,..." (ms, its recent sends oldest
 * first; "BLOCKED_UNTIL/STRIKES;..." once it was throttled again soon after
 * a wait) under the name "robot:" and the SHA-256 of its URL (a URL carries
 * the robot's token, so it is not kept), read and written with its row
 * locked (cc_store_state_update), so every instance counts every send. */
#define SHARED_STAMPS 128

struct shared_op {
    struct cc_rate_rule rules[2];
    int nr;
    int64_t now, margin;
    int kind, percent;
    int throttled;                /* the platform throttled: a wait, not a send */
    int64_t called_at;            /* cc_mono_ms() when the caller asked */
    int64_t until;                /* out: as cc_limiter_reserve */
};

static void decode(const char *state, struct dest *d)
{
    const char *p = strchr(state, ';');
    const char *slash = p ? memchr(state, '/', (size_t)(p - state)) : NULL;
    int64_t strikes = 0;
    if (!p || cc_parse_i64n(state, (size_t)((slash ? slash : p) - state), 0, INT64_MAX,
                            &d->blocked_until) ||
        (slash && cc_parse_i64n(slash + 1, (size_t)(p - slash - 1), 0, MAX_STRIKES, &strikes))) {
        d->blocked_until = 0; /* new (or unreadable): nothing sent yet */
        return;
    }
    d->strikes = (int)strikes;
    for (p++; *p && d->n < d->cap;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (cc_parse_i64n(p, len, 0, INT64_MAX, &d->stamps[d->n]))
            break;
        d->n++;
        p += len + (comma != NULL);
    }
}

/* Fits: SHARED_STAMPS stamps of at most 20 digits and a comma each. */
_Static_assert(SHARED_STAMPS * 21 + 28 < CC_STORE_STATE_MAX, "a robot's state fits its row");

static void encode(const struct dest *d, char *state)
{
    int at = d->strikes ? snprintf(state, CC_STORE_STATE_MAX, "%lld/%d;",
                                   (long long)d->blocked_until, d->strikes)
                        : snprintf(state, CC_STORE_STATE_MAX, "%lld;", (long long)d->blocked_until);
    for (int i = d->n - 1; i >= 0; i--)
        at += snprintf(state + at, (size_t)(CC_STORE_STATE_MAX - at), i == d->n - 1 ? "%lld" : ",%lld",
                       (long long)newest(d, i));
}

static void shared_fn(void *ctx, char *state, int64_t *forget_at)
{
    struct shared_op *op = ctx;
    int64_t stamps[SHARED_STAMPS];
    struct dest d = {.cap = SHARED_STAMPS, .stamps = stamps};
    decode(state, &d);
    /* A send is counted when it goes, which is once the row is ours: waiting
     * for another instance's lock does not make it any earlier. */
    int64_t now = op->now + (cc_mono_ms() - op->called_at);
    if (op->throttled)
        op->until = throttle(&d, op->kind, op->percent, op->rules, op->nr, now);
    else
        op->until = take(&d, op->rules, op->nr, now, op->margin);
    int64_t longest = longest_window(op->rules, op->nr);
    /* Kept while a wait could still count as the last one (throttle()). */
    *forget_at = d.blocked_until ? d.blocked_until + longest : 0;
    if (d.n && newest(&d, 0) + longest + op->margin > *forget_at)
        *forget_at = newest(&d, 0) + longest + op->margin;
    encode(&d, state);
}

/* Runs op on url's state in the store: 0, or -1 when the store failed (the
 * caller then keeps to the limit in this process). */
static int shared_update(struct cc_limiter *l, const char *url, struct shared_op *op)
{
    char hex[65], name[80];
    cc_sha256_hex(url, strlen(url), hex);
    snprintf(name, sizeof name, "robot:%s", hex);
    struct cc_error err;
    cc_error_clear(&err);
    if (cc_store_state_update(l->store, name, op->now, shared_fn, op, &err) == CC_OK)
        return 0;
    cc_log(CC_LOG_WARN, "a robot's rate limit could not be read from the database; "
           "this instance keeps to it alone", "reason", err.message, NULL);
    return -1;
}

void cc_limiter_share(struct cc_limiter *l, struct cc_store *store)
{
    l->store = store;
}

int64_t cc_limiter_reserve(struct cc_limiter *l, int kind, const char *url, int64_t now)
{
    struct cc_rate_rule rules[2];
    int nr = rules_for(kind, l->percent, rules);
    if (!nr)
        return 0;
    /* The platform counts arrivals, not our sends: leave a margin (1 s at
     * the real scale) for a message that was slow to arrive. */
    int64_t margin = 10 * l->percent;
    if (l->store) {
        struct shared_op op = {{rules[0], rules[1]}, nr, now, margin, kind, l->percent, 0,
                               cc_mono_ms(), 0};
        if (shared_update(l, url, &op) == 0)
            return op.until;
    }
    pthread_mutex_lock(&l->mu);
    int64_t until = take(dest_get(l, kind, url, now), rules, nr, now, margin);
    pthread_mutex_unlock(&l->mu);
    return until;
}

int64_t cc_limiter_throttled(struct cc_limiter *l, int kind, const char *url, int64_t now)
{
    struct cc_rate_rule rules[2] = {{0}};
    int nr = rules_for(kind, l->percent, rules);
    if (l->store) {
        struct shared_op op = {{rules[0], rules[1]}, nr, now, 10 * l->percent, kind, l->percent,
                               1, cc_mono_ms(), 0};
        if (shared_update(l, url, &op) == 0)
            return op.until;
    }
    pthread_mutex_lock(&l->mu);
    struct dest *d = dest_get(l, kind, url, now);
    int64_t until = throttle(d, kind, l->percent, rules, nr, now);
    pthread_mutex_unlock(&l->mu);
    return until;
}
