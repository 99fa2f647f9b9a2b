/* test_hand.c — the notifications a dispatcher holds in hand (hand.c): room
 * promised to a write and never passed, the first of each event ahead of the
 * rest, ids whose lease has too little left let go, and the rings round
 * their ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "delivery/delivery_int.h"

/* Room is promised up to the capacity, counting what is in hand and what is
 * promised to writes not yet committed, and given back by the put. */
static void promised_room_is_kept(void **state)
{
    (void)state;
    struct cc_hand *h = cc_hand_new(10, 4);
    assert_int_equal(cc_hand_promise(h, 6), 6);
    assert_int_equal(cc_hand_promise(h, 6), 4); /* 6 promised already */
    assert_int_equal(cc_hand_promise(h, 1), 0);
    const int64_t a[] = {1, 2, 3};
    cc_hand_put(h, a, 3, 6, 1000); /* used 3 of its 6 */
    assert_int_equal(cc_hand_count(h), 3);
    /* 2 in the rest's ring (the first went ahead, in a ring of its own) and 4
     * promised: room for 4 */
    assert_int_equal(cc_hand_promise(h, 9), 4);
    /* writes that failed put nothing and give their room back */
    cc_hand_put(h, NULL, 0, 4, 1000);
    cc_hand_put(h, NULL, 0, 4, 1000);
    assert_int_equal(cc_hand_promise(h, 9), 8);
    cc_hand_put(h, NULL, 0, 8, 1000);
    assert_int_equal(cc_hand_count(h), 3);
    cc_hand_free(h);
}

/* The first of each event goes ahead of the rest, at most first_max a take;
 * the rest keep their order. */
static void first_of_each_event_ahead(void **state)
{
    (void)state;
    struct cc_hand *h = cc_hand_new(16, 4);
    const int64_t a[] = {1, 2, 3}, b[] = {4, 5, 6}, c[] = {7, 8};
    for (int i = 0; i < 3; i++)
        assert_int_equal(cc_hand_promise(h, 3), 3);
    cc_hand_put(h, a, 3, 3, 1000);
    cc_hand_put(h, b, 3, 3, 1000);
    cc_hand_put(h, c, 2, 3, 1000);
    int64_t out[8];
    assert_int_equal(cc_hand_take(h, out, 4, 2, 0), 4);
    const int64_t want1[] = {1, 4, 2, 3};
    assert_memory_equal(out, want1, sizeof want1);
    assert_int_equal(cc_hand_take(h, out, 8, 2, 0), 4);
    const int64_t want2[] = {7, 5, 6, 8};
    assert_memory_equal(out, want2, sizeof want2);
    assert_int_equal(cc_hand_count(h), 0);
    assert_int_equal(cc_hand_take(h, out, 8, 2, 0), 0);
    cc_hand_free(h);
}

/* With the ring of firsts full, an event's first waits with the rest. */
static void firsts_ring_full(void **state)
{
    (void)state;
    struct cc_hand *h = cc_hand_new(16, 1);
    const int64_t a[] = {1, 2}, b[] = {3, 4};
    assert_int_equal(cc_hand_promise(h, 4), 4);
    cc_hand_put(h, a, 2, 2, 1000);
    cc_hand_put(h, b, 2, 2, 1000);
    int64_t out[4];
    assert_int_equal(cc_hand_take(h, out, 4, 4, 0), 4);
    const int64_t want[] = {1, 2, 3, 4};
    assert_memory_equal(out, want, sizeof want);
    cc_hand_free(h);
}

/* An id whose lease ends at or before keep_until is let go, not taken: a
 * claim takes it once the lease has run out. */
static void short_lease_let_go(void **state)
{
    (void)state;
    struct cc_hand *h = cc_hand_new(16, 4);
    const int64_t a[] = {1, 2}, b[] = {3, 4};
    assert_int_equal(cc_hand_promise(h, 4), 4);
    cc_hand_put(h, a, 2, 2, 500);
    cc_hand_put(h, b, 2, 2, 2000);
    int64_t out[4];
    assert_int_equal(cc_hand_take(h, out, 4, 4, 500), 2);
    const int64_t want[] = {3, 4};
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(cc_hand_count(h), 0);
    cc_hand_free(h);
}

/* Round and round small rings: every id put is taken once, none twice. */
static void rings_wrap(void **state)
{
    (void)state;
    struct cc_hand *h = cc_hand_new(3, 2);
    int64_t next = 1;
    int seen[400] = {0};
    int64_t out[4];
    size_t got;
    for (int round = 0; round < 100; round++) {
        size_t room = cc_hand_promise(h, 3);
        int64_t ids[3];
        for (size_t i = 0; i < room; i++)
            ids[i] = next++;
        cc_hand_put(h, ids, room, room, 1000);
        got = cc_hand_take(h, out, 2, 1, 0);
        for (size_t i = 0; i < got; i++)
            seen[out[i]]++;
    }
    while ((got = cc_hand_take(h, out, 4, 1, 0)))
        for (size_t i = 0; i < got; i++)
            seen[out[i]]++;
    assert_true(next > 100 && next < 400);
    for (int64_t id = 1; id < next; id++)
        assert_int_equal(seen[id], 1);
    cc_hand_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(promised_room_is_kept),
        cmocka_unit_test(first_of_each_event_ahead),
        cmocka_unit_test(firsts_ring_full),
        cmocka_unit_test(short_lease_let_go),
        cmocka_unit_test(rings_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
