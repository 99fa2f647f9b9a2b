/*
 * test_stats.c — unit tests of the Overview's buckets (service/stats.c): the
 * last 24 local hours and the last 30 local dates of a time zone, across
 * America/New_York's daylight saving changes (a 25-hour and a 23-hour date,
 * the repeated 01:00 hour), a zone half an hour off UTC, an unknown zone,
 * and the per-hour counts of the store folded into both charts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "service/service.h"
#include "util/util.h"

#define HOUR 3600000LL

static int64_t t(const char *s)
{
    int64_t ms = 0;
    assert_int_equal(cc_cert_parse_time(s, &ms), 0);
    return ms;
}

/* The index of the hour labelled label, -1 when none is. */
static int hour_of(const struct cc_stats_grid *g, const char *label)
{
    for (int i = 0; i < CC_STATS_HOURS; i++)
        if (!strcmp(g->hour_label[i], label))
            return i;
    return -1;
}

static void fall_back(void **state)
{
    (void)state;
    static struct cc_stats_grid g;
    /* 2026-11-01 12:30 EST: the clocks went back from 02:00 EDT to 01:00 EST */
    int64_t now = t("2026-11-01T17:30:00Z");
    assert_int_equal(cc_stats_grid_make("America/New_York", now, &g), 0);
    assert_string_equal(g.day_date[CC_STATS_DAYS - 1], "2026-11-01");
    assert_string_equal(g.day_date[0], "2026-10-03");
    assert_int_equal(g.day_start[CC_STATS_DAYS - 1], t("2026-11-01T04:00:00Z"));
    assert_int_equal(g.day_start[CC_STATS_DAYS], t("2026-11-02T05:00:00Z"));
    assert_int_equal(g.day_start[CC_STATS_DAYS] - g.day_start[CC_STATS_DAYS - 1], 25 * HOUR);
    assert_int_equal(g.day_start[CC_STATS_DAYS - 1] - g.day_start[CC_STATS_DAYS - 2], 24 * HOUR);
    assert_int_equal(g.day_start[0], t("2026-10-03T04:00:00Z"));
    /* 24 hours of an hour each, the last one holding now */
    assert_int_equal(g.hour_start[CC_STATS_HOURS - 1], t("2026-11-01T17:00:00Z"));
    assert_string_equal(g.hour_label[CC_STATS_HOURS - 1], "2026-11-01T12:00:00-05:00");
    assert_string_equal(g.hour_label[0], "2026-10-31T14:00:00-04:00");
    int a = hour_of(&g, "2026-11-01T01:00:00-04:00"), b = hour_of(&g, "2026-11-01T01:00:00-05:00");
    assert_true(a >= 0);
    assert_int_equal(b, a + 1);
    assert_int_equal(hour_of(&g, "2026-11-01T02:00:00-05:00"), b + 1);

    /* one email delivered at 01:30 EST, one SMS failed at 23:59 EDT the day before */
    static struct cc_stats_counts c;
    static int64_t hours[CC_STATS_HOURS][CC_STATS_CHANNELS][CC_STATS_OUTCOMES];
    static int64_t days[CC_STATS_DAYS][CC_STATS_CHANNELS][CC_STATS_OUTCOMES];
    memset(&c, 0, sizeof c);
    c.since = g.day_start[0];
    c.n_hours = (size_t)((now - c.since) / HOUR) + 1;
    size_t h1 = (size_t)((t("2026-11-01T06:00:00Z") - c.since) / HOUR);
    size_t h2 = (size_t)((t("2026-11-01T03:00:00Z") - c.since) / HOUR);
    c.counts[(h1 * CC_STATS_CHANNELS + CC_STATS_EMAIL) * CC_STATS_OUTCOMES + CC_STATS_DELIVERED] = 1;
    c.counts[(h2 * CC_STATS_CHANNELS + CC_STATS_SMS) * CC_STATS_OUTCOMES + CC_STATS_FAILED] = 2;
    cc_stats_fold(&g, &c, hours, days);
    assert_int_equal(hours[b][CC_STATS_EMAIL][CC_STATS_DELIVERED], 1);
    assert_int_equal(days[CC_STATS_DAYS - 1][CC_STATS_EMAIL][CC_STATS_DELIVERED], 1);
    int late = hour_of(&g, "2026-10-31T23:00:00-04:00");
    assert_true(late >= 0);
    assert_int_equal(hours[late][CC_STATS_SMS][CC_STATS_FAILED], 2);
    assert_int_equal(days[CC_STATS_DAYS - 2][CC_STATS_SMS][CC_STATS_FAILED], 2);
    assert_int_equal(days[CC_STATS_DAYS - 1][CC_STATS_SMS][CC_STATS_FAILED], 0);
    int64_t total = 0;
    for (int i = 0; i < CC_STATS_HOURS; i++)
        for (int ch = 0; ch < CC_STATS_CHANNELS; ch++)
            for (int o = 0; o < CC_STATS_OUTCOMES; o++)
                total += hours[i][ch][o];
    assert_int_equal(total, 3);
}

static void spring_forward(void **state)
{
    (void)state;
    static struct cc_stats_grid g;
    /* 2026-03-08 12:00 EDT: 02:00 EST became 03:00 EDT */
    assert_int_equal(cc_stats_grid_make("America/New_York", t("2026-03-08T16:00:00Z"), &g), 0);
    assert_string_equal(g.day_date[CC_STATS_DAYS - 1], "2026-03-08");
    assert_int_equal(g.day_start[CC_STATS_DAYS] - g.day_start[CC_STATS_DAYS - 1], 23 * HOUR);
    assert_int_equal(hour_of(&g, "2026-03-08T01:00:00-05:00") + 1,
                     hour_of(&g, "2026-03-08T03:00:00-04:00"));
    assert_int_equal(hour_of(&g, "2026-03-08T02:00:00-05:00"), -1);
    assert_string_equal(g.hour_label[CC_STATS_HOURS - 1], "2026-03-08T12:00:00-04:00");
}

static void half_hour_zone(void **state)
{
    (void)state;
    static struct cc_stats_grid g;
    assert_int_equal(cc_stats_grid_make("Asia/Kolkata", t("2026-12-03T05:15:42Z"), &g), 0);
    assert_string_equal(g.hour_label[CC_STATS_HOURS - 1], "2026-12-03T10:00:00+05:30");
    assert_int_equal(g.hour_start[CC_STATS_HOURS - 1], t("2026-12-03T04:30:00Z"));
    assert_int_equal(g.day_start[CC_STATS_DAYS - 1], t("2026-12-02T18:30:00Z"));
}

static void unknown_zone_is_utc(void **state)
{
    (void)state;
    static struct cc_stats_grid g;
    assert_int_equal(cc_stats_grid_make("Not/AZone", t("2026-12-03T00:10:00Z"), &g), 0);
    assert_string_equal(g.day_date[CC_STATS_DAYS - 1], "2026-12-03");
    assert_int_equal(g.day_start[CC_STATS_DAYS - 1], t("2026-12-03T00:00:00Z"));
    assert_string_equal(g.hour_label[CC_STATS_HOURS - 1], "2026-12-03T00:00:00+00:00");
    assert_string_equal(g.hour_label[0], "2026-12-02T01:00:00+00:00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fall_back),
        cmocka_unit_test(spring_forward),
        cmocka_unit_test(half_hour_zone),
        cmocka_unit_test(unknown_zone_is_utc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
