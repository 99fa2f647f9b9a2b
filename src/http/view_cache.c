/*
 * view_cache.c — the contact details each HTTP thread rendered last, kept
 * with the read mark they were read under (cc_contact_view_mark). A GET of
 * the same contact in the same account whose mark is still equal gets the
 * same bytes without reading or rendering them again; any commit to the
 * database changes the mark, so an entry never outlives what it shows.
 * Only views that write nothing are kept (masked addresses, no audit
 * entry). Each thread has its own cache, so no lock; a mark names the
 * thread's own read connection besides. /metrics counts the views sent
 * again and those read (certcontacts_http_contact_views_total).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

/* Slots a thread keeps (direct-mapped), and the largest body kept: at most
 * 64 × 8 KB a thread. A contact with five robots and no applications
 * renders in ~1.5 KB. */
#define VIEW_SLOTS 64
#define VIEW_BODY_MAX 8192

struct view_entry {
    int64_t account_id, contact_id;
    struct cc_read_mark mark;
    int64_t version; /* the contact's (its ETag) */
    char *body;      /* NULL: the slot is empty */
    size_t len;
};

static __thread struct view_entry *slots;
/* Views looked for: found kept and sent again, or not (read and rendered). */
static atomic_uint_least64_t sent_again, rendered;
static pthread_key_t slots_key;
static pthread_once_t slots_once = PTHREAD_ONCE_INIT;

/* pthread key destructor: a thread that ends frees its entries. */
static void slots_free(void *arg)
{
    struct view_entry *e = arg;
    for (size_t i = 0; i < VIEW_SLOTS; i++)
        free(e[i].body);
    cc_free(e);
}

static void slots_key_make(void)
{
    pthread_key_create(&slots_key, slots_free);
}

static struct view_entry *slot_of(int64_t account_id, int64_t contact_id)
{
    uint64_t h = ((uint64_t)contact_id * 0x9E3779B97F4A7C15ull) ^ (uint64_t)account_id;
    return &slots[(h >> 32) % VIEW_SLOTS];
}

const char *cc_view_cache_get(int64_t account_id, int64_t contact_id,
                              const struct cc_read_mark *mark, int64_t *version, size_t *len)
{
    const struct view_entry *e = slots ? slot_of(account_id, contact_id) : NULL;
    if (!e || !e->body || e->account_id != account_id || e->contact_id != contact_id ||
        e->mark.source != mark->source || e->mark.version != mark->version) {
        atomic_fetch_add_explicit(&rendered, 1, memory_order_relaxed);
        return NULL;
    }
    atomic_fetch_add_explicit(&sent_again, 1, memory_order_relaxed);
    *version = e->version;
    *len = e->len;
    return e->body;
}

void cc_view_cache_put(int64_t account_id, int64_t contact_id, const struct cc_read_mark *mark,
                       int64_t version, const char *body, size_t len)
{
    if (len > VIEW_BODY_MAX)
        return;
    if (!slots) {
        pthread_once(&slots_once, slots_key_make);
        slots = cc_calloc(VIEW_SLOTS, sizeof *slots);
        pthread_setspecific(slots_key, slots);
    }
    struct view_entry *e = slot_of(account_id, contact_id);
    char *copy = malloc(len + 1);
    if (!copy)
        return;
    memcpy(copy, body, len);
    copy[len] = '\0';
    free(e->body);
    e->account_id = account_id;
    e->contact_id = contact_id;
    e->mark = *mark;
    e->version = version;
    e->body = copy;
    e->len = len;
}

void cc_view_cache_counts(uint64_t *hits, uint64_t *misses)
{
    *hits = atomic_load_explicit(&sent_again, memory_order_relaxed);
    *misses = atomic_load_explicit(&rendered, memory_order_relaxed);
}
