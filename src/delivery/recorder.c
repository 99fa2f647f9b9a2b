/*
 * recorder.c — the thread that writes the dispatcher's outcomes.
 *
 * A dispatcher thread hands a batch's outcomes over (cc_recorder_put: a
 * copy, its batch is reused by its next) and puts its next batch on the
 * wire instead of waiting for the writer. The recorder writes all that is
 * waiting in one relaxed write. Until an outcome is written its notification
 * stays leased to this instance: no claim takes it, so nothing is sent twice
 * for the wait.
 *
 * When the write fails the recorder keeps the outcomes, ahead of what came
 * meanwhile, and tries again after the wait its owner names; the dispatcher
 * threads send nothing meanwhile (cc_recorder_room). At the end it writes
 * what is left, once.
 */
#include <pthread.h>
#include <time.h>

#include "delivery/delivery_int.h"
#include "store/store.h"
#include "util/util.h"

/* A batch's outcomes: the records with copies of their notifications. */
struct outcome_set {
    struct outcome_set *next;
    uint64_t seq;                 /* its place in the queue */
    size_t n;
    struct cc_outcome *recs;      /* recs[i].n is &ns[i] */
    struct cc_notification *ns;
};

struct cc_recorder {
    struct cc_store *store;
    char instance[33];
    size_t room;                  /* sets that may wait before cc_recorder_room waits */
    int64_t (*wrote)(void *arg, const char *failure);
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t work;          /* the recorder waits here for outcomes */
    pthread_cond_t written;       /* dispatcher threads wait here for the recorder */
    struct outcome_set *head, *tail;
    size_t sets;                  /* queued or being written */
    uint64_t queued;              /* sets ever queued ... */
    uint64_t done;                /* ... and written, in order */
    int failing;                  /* the last write failed */
    int cancelled;                /* waits return at once */
    int stopping;                 /* write the rest, end */
    pthread_t thread;
};

/* The recorder's write: every outcome of the sets from arg on. */
struct record_op {
    const struct cc_recorder *r;
    const struct outcome_set *sets;
};

static enum cc_err record_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    const struct record_op *op = arg;
    for (const struct outcome_set *set = op->sets; set; set = set->next)
        for (size_t i = 0; i < set->n; i++) {
            const struct cc_outcome *o = &set->recs[i];
            enum cc_err rc = cc_tx_notif_record(tx, o->n, o->has_attempt ? &o->a : NULL,
                                                op->r->instance, err);
            if (!rc && o->health)
                rc = cc_tx_channel_health(tx, o->n->account_id, o->n->contact_id,
                                          o->n->channel, o->n->webhook_id,
                                          o->health == 1 ? o->n->last_error : NULL,
                                          o->n->updated_at, err);
            if (rc)
                return rc;
        }
    return CC_OK;
}

static void sets_free(struct outcome_set *set)
{
    while (set) {
        struct outcome_set *next = set->next;
        cc_free(set->recs);
        cc_free(set->ns);
        cc_free(set);
        set = next;
    }
}

static void *recorder_main(void *arg)
{
    pthread_setname_np(pthread_self(), "cc-record"); /* for top -H, perf, gdb */
    struct cc_recorder *r = arg;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (!r->head && !r->stopping)
            pthread_cond_wait(&r->work, &r->mu);
        if (!r->head)
            break; /* stopping, and everything written */
        struct outcome_set *sets = r->head, *last = r->tail;
        size_t nsets = 0;
        for (const struct outcome_set *x = sets; x; x = x->next)
            nsets++;
        r->head = r->tail = NULL;
        pthread_mutex_unlock(&r->mu);
        struct record_op op = {r, sets};
        struct cc_error err;
        int failed = cc_store_write_relaxed(r->store, record_tx, &op, &err) != CC_OK;
        int64_t wait_ms = r->wrote(r->arg, failed ? err.message : NULL);
        pthread_mutex_lock(&r->mu);
        if (!failed) {
            r->done = last->seq;
            sets_free(sets);
            r->sets -= nsets;
            r->failing = 0;
            pthread_cond_broadcast(&r->written);
            continue;
        }
        /* kept, ahead of what came meanwhile */
        last->next = r->head;
        r->head = sets;
        if (!r->tail)
            r->tail = last;
        r->failing = 1;
        if (r->stopping) {
            cc_log(CC_LOG_WARN, "stopping with outcomes not recorded; their notifications go "
                                "again at the next start", NULL);
            break;
        }
        struct timespec ts;
        cc_mono_deadline(&ts, wait_ms);
        while (!r->stopping && !pthread_cond_timedwait(&r->work, &r->mu, &ts))
            ;
    }
    sets_free(r->head);
    r->head = r->tail = NULL;
    pthread_mutex_unlock(&r->mu);
    cc_store_thread_done(r->store);
    return NULL;
}

struct cc_recorder *cc_recorder_start(struct cc_store *store, const char *instance, size_t room,
                                      int64_t (*wrote)(void *arg, const char *failure),
                                      void *arg)
{
    struct cc_recorder *r = cc_calloc(1, sizeof *r);
    r->store = store;
    cc_strlcpy(r->instance, instance, sizeof r->instance);
    r->room = room;
    r->wrote = wrote;
    r->arg = arg;
    pthread_mutex_init(&r->mu, NULL);
    pthread_condattr_t ca; /* the retry's wait on the monotonic clock */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->work, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&r->written, NULL);
    if (pthread_create(&r->thread, NULL, recorder_main, r)) {
        pthread_mutex_destroy(&r->mu);
        pthread_cond_destroy(&r->work);
        pthread_cond_destroy(&r->written);
        cc_free(r);
        return NULL;
    }
    return r;
}

void cc_recorder_put(struct cc_recorder *r, const struct cc_outcome *outcomes, size_t n)
{
    if (!n)
        return;
    struct outcome_set *set = cc_malloc(sizeof *set);
    set->next = NULL;
    set->n = n;
    set->recs = cc_malloc(n * sizeof *set->recs);
    set->ns = cc_malloc(n * sizeof *set->ns);
    for (size_t i = 0; i < n; i++) {
        set->ns[i] = *outcomes[i].n;
        set->recs[i] = outcomes[i];
        set->recs[i].n = &set->ns[i];
    }
    pthread_mutex_lock(&r->mu);
    if (r->tail)
        r->tail->next = set;
    else
        r->head = set;
    r->tail = set;
    r->sets++;
    set->seq = ++r->queued;
    pthread_cond_signal(&r->work);
    pthread_mutex_unlock(&r->mu);
}

int cc_recorder_caught_up(struct cc_recorder *r)
{
    pthread_mutex_lock(&r->mu);
    uint64_t want = r->queued;
    while (!r->cancelled && r->done < want)
        pthread_cond_wait(&r->written, &r->mu);
    int cancelled = r->cancelled;
    pthread_mutex_unlock(&r->mu);
    return cancelled;
}

int cc_recorder_room(struct cc_recorder *r)
{
    pthread_mutex_lock(&r->mu);
    while (!r->cancelled && (r->failing || r->sets > r->room))
        pthread_cond_wait(&r->written, &r->mu);
    int cancelled = r->cancelled;
    pthread_mutex_unlock(&r->mu);
    return cancelled;
}

void cc_recorder_cancel(struct cc_recorder *r)
{
    pthread_mutex_lock(&r->mu);
    r->cancelled = 1;
    pthread_cond_broadcast(&r->written);
    pthread_mutex_unlock(&r->mu);
}

void cc_recorder_stop(struct cc_recorder *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->stopping = 1;
    pthread_cond_signal(&r->work);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->work);
    pthread_cond_destroy(&r->written);
    cc_free(r);
}
