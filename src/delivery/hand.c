/*
 * hand.c — the notifications a dispatcher holds in hand: ids of
 * notifications born leased to it (an event's write makes them so), waiting
 * for a thread to send them. Two rings of ids with each one's lease: the
 * first notification of each event, which goes ahead as a claim's fresh
 * ones do, and the rest in the order they came. Room is promised to an
 * event's write before it runs, so that every id it notes finds a place.
 * The slots are made at the first put: an idle server holds none. The
 * dispatcher's lock guards it (delivery_int.h).
 */
#include <stdint.h>

#include "delivery/delivery_int.h"
#include "util/util.h"

struct handed {
    int64_t id, lease_until;
};

struct ring {
    struct handed *slot;
    size_t cap, head, n;
};

struct cc_hand {
    struct ring first, rest;
    size_t promised;              /* room in rest kept for writes not yet committed */
};

static int ring_push(struct ring *r, int64_t id, int64_t lease_until)
{
    if (r->n == r->cap)
        return -1;
    if (!r->slot)
        r->slot = cc_malloc(r->cap * sizeof *r->slot);
    struct handed *x = &r->slot[(r->head + r->n++) % r->cap];
    x->id = id;
    x->lease_until = lease_until;
    return 0;
}

static const struct handed *ring_pop(struct ring *r)
{
    if (!r->n)
        return NULL;
    const struct handed *x = &r->slot[r->head];
    r->head = (r->head + 1) % r->cap;
    r->n--;
    return x;
}

struct cc_hand *cc_hand_new(size_t cap, size_t first_cap)
{
    struct cc_hand *h = cc_calloc(1, sizeof *h);
    h->rest.cap = cap ? cap : 1;
    h->first.cap = first_cap ? first_cap : 1;
    return h;
}

void cc_hand_free(struct cc_hand *h)
{
    if (!h)
        return;
    cc_free(h->first.slot);
    cc_free(h->rest.slot);
    cc_free(h);
}

size_t cc_hand_promise(struct cc_hand *h, size_t want)
{
    size_t used = h->rest.n + h->promised;
    size_t room = used < h->rest.cap ? h->rest.cap - used : 0;
    if (room > want)
        room = want;
    h->promised += room;
    return room;
}

void cc_hand_put(struct cc_hand *h, const int64_t *ids, size_t n, size_t promised,
                 int64_t lease_until)
{
    h->promised -= promised;
    /* within the room promised; the first goes ahead when its ring has room */
    for (size_t i = 0; i < n && i < promised; i++)
        if (i > 0 || ring_push(&h->first, ids[i], lease_until))
            ring_push(&h->rest, ids[i], lease_until);
}

size_t cc_hand_take(struct cc_hand *h, int64_t *out, size_t max, size_t first_max,
                    int64_t keep_until)
{
    size_t k = 0;
    const struct handed *x;
    while (k < first_max && k < max && (x = ring_pop(&h->first)))
        if (x->lease_until > keep_until)
            out[k++] = x->id;
    while (k < max && (x = ring_pop(&h->rest)))
        if (x->lease_until > keep_until)
            out[k++] = x->id;
    return k;
}

size_t cc_hand_count(const struct cc_hand *h)
{
    return h->first.n + h->rest.n;
}
