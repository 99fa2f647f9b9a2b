/*
 * test_health.c — the process's record of its parts: a change of state is
 * reported once, the reason is kept while failing and cleared on recovery.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/util.h"

static const struct cc_health_entry *find(const struct cc_health_entry *e, size_t n,
                                          const char *component)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e[i].component, component))
            return &e[i];
    return NULL;
}

static void change_reported_once(void **state)
{
    (void)state;
    cc_health_reset();
    assert_int_equal(cc_health_set("store", 1, NULL), 0); /* new and fine: no change */
    assert_int_equal(cc_health_set("store", 0, "disk full"), 1);
    assert_int_equal(cc_health_set("store", 0, "disk still full"), 0);
    struct cc_health_entry e[CC_HEALTH_COMPONENTS_MAX];
    size_t n = cc_health_get(e, CC_HEALTH_COMPONENTS_MAX);
    const struct cc_health_entry *s = find(e, n, "store");
    assert_non_null(s);
    assert_int_equal(s->ok, 0);
    assert_string_equal(s->reason, "disk still full");
    assert_int_equal(s->changes, 1);
    assert_true(s->since_ms > 0);
    assert_int_equal(cc_health_set("store", 1, NULL), 1);
    n = cc_health_get(e, CC_HEALTH_COMPONENTS_MAX);
    s = find(e, n, "store");
    assert_int_equal(s->ok, 1);
    assert_string_equal(s->reason, "");
    assert_int_equal(s->changes, 2);
}

static void components_are_separate(void **state)
{
    (void)state;
    cc_health_reset();
    cc_health_set("store", 0, "corrupt");
    cc_health_set("dispatcher", 1, NULL);
    struct cc_health_entry e[CC_HEALTH_COMPONENTS_MAX];
    size_t n = cc_health_get(e, CC_HEALTH_COMPONENTS_MAX);
    assert_int_equal(n, 2);
    assert_int_equal(find(e, n, "store")->ok, 0);
    assert_int_equal(find(e, n, "dispatcher")->ok, 1);
    /* More components than the table holds are ignored, never overflow. */
    char name[32];
    for (int i = 0; i < CC_HEALTH_COMPONENTS_MAX + 4; i++) {
        snprintf(name, sizeof name, "c%d", i);
        cc_health_set(name, 0, "x");
    }
    assert_int_equal(cc_health_get(e, CC_HEALTH_COMPONENTS_MAX), CC_HEALTH_COMPONENTS_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(change_reported_once),
        cmocka_unit_test(components_are_separate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
