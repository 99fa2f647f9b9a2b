/*
 * test_reminders.c — unit tests of service/reminders.c: the due points of a
 * certificate (thresholds, the expiry day and the day after in the
 * account's time zone, a daylight saving change), the delivery window
 * (plain and wrapping midnight), merging the points that came due
 * together, the checks of the settings, and on a real database
 * (service_fixture.h) one merged reminder raised once, a renewal stopping
 * them, and the settings saved and rescheduling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "service_fixture.h"

#define DAY 86400000LL
#define HOUR 3600000LL

/* ms of an RFC 3339 time (the certificates' parser). */
static int64_t t(const char *s)
{
    int64_t ms = 0;
    assert_int_equal(cc_cert_parse_time(s, &ms), 0);
    return ms;
}

static void settings(struct cc_reminder_settings *s, const char *tz)
{
    static const int days[] = {30, 15, 7, 3, 1};
    memset(s, 0, sizeof *s);
    s->n_days = 5;
    memcpy(s->days, days, sizeof days);
    s->on_expiry_day = s->day_after = 1;
    cc_strlcpy(s->time_zone, tz, sizeof s->time_zone);
}

static void points_utc(void **state)
{
    (void)state;
    struct cc_reminder_settings s;
    settings(&s, "UTC");
    struct cc_reminder_point p[CC_REMINDER_POINTS_MAX];
    int64_t na = t("2026-12-09T10:00:00Z");
    size_t n = cc_reminder_points(&s, s.days, s.n_days, na, p);
    assert_int_equal(n, 7);
    static const int want[] = {30, 15, 7, 3, 1};
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(p[i].kind, CC_REMIND_BEFORE);
        assert_int_equal(p[i].days, want[i]);
        assert_int_equal(p[i].due, na - want[i] * DAY);
        assert_int_equal(p[i].at, p[i].due); /* no window */
    }
    assert_int_equal(p[5].kind, CC_REMIND_EXPIRY_DAY);
    assert_int_equal(p[5].due, t("2026-12-09T00:00:00Z"));
    assert_int_equal(p[6].kind, CC_REMIND_DAY_AFTER);
    assert_int_equal(p[6].due, t("2026-12-10T00:00:00Z"));

    /* a certificate's own thresholds, flags off */
    int own[] = {10};
    s.on_expiry_day = s.day_after = 0;
    n = cc_reminder_points(&s, own, 1, na, p);
    assert_int_equal(n, 1);
    assert_int_equal(p[0].due, na - 10 * DAY);
}

static void points_local_day(void **state)
{
    (void)state;
    struct cc_reminder_settings s;
    settings(&s, "Asia/Shanghai");
    struct cc_reminder_point p[CC_REMINDER_POINTS_MAX];
    /* 18:00 in Shanghai: its day began at 16:00 UTC the day before */
    size_t n = cc_reminder_points(&s, NULL, 0, t("2026-12-09T10:00:00Z"), p);
    assert_int_equal(n, 2);
    assert_int_equal(p[0].due, t("2026-12-08T16:00:00Z"));
    assert_int_equal(p[1].due, t("2026-12-09T16:00:00Z"));
    /* expiring at local midnight: the expiry-day point is not after not_after */
    n = cc_reminder_points(&s, NULL, 0, t("2026-12-08T16:00:00Z"), p);
    assert_int_equal(p[0].due, t("2026-12-08T16:00:00Z"));
    assert_int_equal(p[1].due, t("2026-12-09T16:00:00Z"));
    /* an unknown zone counts as UTC */
    settings(&s, "Nowhere/Atlantis");
    n = cc_reminder_points(&s, NULL, 0, t("2026-12-09T10:00:00Z"), p);
    assert_int_equal(p[0].due, t("2026-12-09T00:00:00Z"));
}

static void points_dst(void **state)
{
    (void)state;
    struct cc_reminder_settings s;
    settings(&s, "America/New_York");
    struct cc_reminder_point p[CC_REMINDER_POINTS_MAX];
    /* New York leaves daylight saving at 02:00 on 2026-11-01: that day has
     * 25 hours, from 00:00 EDT (04:00Z) to 00:00 EST (05:00Z the next day) */
    size_t n = cc_reminder_points(&s, NULL, 0, t("2026-11-01T12:00:00Z"), p);
    assert_int_equal(n, 2);
    assert_int_equal(p[0].due, t("2026-11-01T04:00:00Z"));
    assert_int_equal(p[1].due, t("2026-11-02T05:00:00Z"));
    /* a window opening after the change is at 09:00 EST */
    s.has_window = 1;
    s.window_start = 9 * 60;
    s.window_end = 20 * 60;
    int d[] = {1};
    s.on_expiry_day = s.day_after = 0;
    n = cc_reminder_points(&s, d, 1, t("2026-11-02T03:00:00Z"), p); /* due 23:00 EDT Oct 31 */
    assert_int_equal(n, 1);
    assert_int_equal(p[0].due, t("2026-11-01T03:00:00Z"));
    assert_int_equal(p[0].at, t("2026-11-01T14:00:00Z"));
}

static void window_plain(void **state)
{
    (void)state;
    struct cc_reminder_settings s;
    settings(&s, "UTC");
    s.has_window = 1;
    s.window_start = 9 * 60;
    s.window_end = 20 * 60;
    s.on_expiry_day = s.day_after = 0;
    struct cc_reminder_point p[CC_REMINDER_POINTS_MAX];
    int d[] = {3, 2, 1};
    /* due 10:00 (inside), then 05:00 (before opening) and 22:00 (after closing) */
    cc_reminder_points(&s, d, 1, t("2026-12-09T10:00:00Z"), p);
    assert_int_equal(p[0].at, t("2026-12-06T10:00:00Z"));
    cc_reminder_points(&s, d, 1, t("2026-12-09T05:00:00Z"), p);
    assert_int_equal(p[0].at, t("2026-12-06T09:00:00Z"));
    cc_reminder_points(&s, d, 1, t("2026-12-09T22:00:00Z"), p);
    assert_int_equal(p[0].at, t("2026-12-07T09:00:00Z"));
    /* the end is outside, the start inside */
    cc_reminder_points(&s, d, 1, t("2026-12-09T20:00:00Z"), p);
    assert_int_equal(p[0].at, t("2026-12-07T09:00:00Z"));
    cc_reminder_points(&s, d, 1, t("2026-12-09T09:00:00Z"), p);
    assert_int_equal(p[0].at, t("2026-12-06T09:00:00Z"));
    /* in Shanghai: 22:00Z is 06:00 local, before the 09:00 opening (01:00Z) */
    cc_strlcpy(s.time_zone, "Asia/Shanghai", sizeof s.time_zone);
    cc_reminder_points(&s, d, 1, t("2026-12-09T22:00:00Z"), p);
    assert_int_equal(p[0].at, t("2026-12-07T01:00:00Z"));
}

static void window_wraps_midnight(void **state)
{
    (void)state;
    struct cc_reminder_settings s;
    settings(&s, "UTC");
    s.has_window = 1;
    s.window_start = 22 * 60;
    s.window_end = 6 * 60;
    s.on_expiry_day = s.day_after = 0;
    struct cc_reminder_point p[CC_REMINDER_POINTS_MAX];
    int d[] = {1};
    cc_reminder_points(&s, d, 1, t("2026-12-09T12:00:00Z"), p);
    assert_int_equal(p[0].at, t("2026-12-08T22:00:00Z"));
    cc_reminder_points(&s, d, 1, t("2026-12-09T23:00:00Z"), p);
    assert_int_equal(p[0].at, p[0].due);
    cc_reminder_points(&s, d, 1, t("2026-12-09T03:00:00Z"), p);
    assert_int_equal(p[0].at, p[0].due);
    cc_reminder_points(&s, d, 1, t("2026-12-09T06:00:00Z"), p);
    assert_int_equal(p[0].at, t("2026-12-08T22:00:00Z"));
}

static void step_merges(void **state)
{
    (void)state;
    struct cc_reminder_settings s;
    settings(&s, "UTC");
    struct cc_reminder_point p[CC_REMINDER_POINTS_MAX];
    int64_t na = t("2026-12-09T10:00:00Z");
    size_t n = cc_reminder_points(&s, s.days, s.n_days, na, p);
    struct cc_reminder_step st;
    /* before the first point: nothing, next is the 30-day one */
    cc_reminder_step(p, n, 0, na - 31 * DAY, &st);
    assert_false(st.fire);
    assert_int_equal(st.next_at, na - 30 * DAY);
    /* added at 5 days left: one reminder, the 7-day point, merging 30 and 15 */
    cc_reminder_step(p, n, 0, na - 5 * DAY, &st);
    assert_true(st.fire);
    assert_true(st.merged);
    assert_int_equal(st.point.days, 7);
    assert_int_equal(st.raised, na - 7 * DAY);
    assert_int_equal(st.next_at, na - 3 * DAY);
    /* again at the same time: nothing more (a restart repeats nothing) */
    cc_reminder_step(p, n, st.raised, na - 5 * DAY, &st);
    assert_false(st.fire);
    /* on time for the 3-day point: that one alone */
    cc_reminder_step(p, n, st.raised, na - 3 * DAY + 1000, &st);
    assert_true(st.fire);
    assert_false(st.merged);
    assert_int_equal(st.point.days, 3);
    /* downtime past 1 day, the expiry day and the day after: one, expired */
    cc_reminder_step(p, n, st.raised, na + 2 * DAY, &st);
    assert_true(st.fire);
    assert_true(st.merged);
    assert_int_equal(st.point.kind, CC_REMIND_DAY_AFTER);
    assert_int_equal(st.next_at, 0);
}

static void checks(void **state)
{
    (void)state;
    struct cc_error err;
    int out[CC_REMINDER_DAYS_MAX];
    int64_t ok[] = {1, 30, 7, 365};
    assert_int_equal(cc_reminder_days_check(ok, 4, "DaysBefore", out, &err), CC_OK);
    assert_int_equal(out[0], 365);
    assert_int_equal(out[3], 1);
    int64_t zero[] = {0}, big[] = {366}, twice[] = {7, 7};
    assert_int_equal(cc_reminder_days_check(zero, 1, "DaysBefore", out, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "DaysBefore");
    assert_int_equal(cc_reminder_days_check(big, 1, "DaysBefore", out, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_int_equal(cc_reminder_days_check(twice, 2, "ReminderDays", out, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "ReminderDays");
    int64_t eleven[11] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    assert_int_equal(cc_reminder_days_check(eleven, 11, "DaysBefore", out, &err),
                     CC_ERR_LIMIT_EXCEEDED);
    assert_int_equal(cc_reminder_days_check(NULL, 0, "DaysBefore", out, &err), CC_OK);
    int m = 0;
    assert_int_equal(cc_reminder_parse_hhmm("09:30", &m), 0);
    assert_int_equal(m, 570);
    assert_int_equal(cc_reminder_parse_hhmm("23:59", &m), 0);
    assert_int_equal(cc_reminder_parse_hhmm("24:00", &m), -1);
    assert_int_equal(cc_reminder_parse_hhmm("9:30", &m), -1);
    assert_int_equal(cc_reminder_parse_hhmm("09:60", &m), -1);
    assert_int_equal(cc_reminder_parse_hhmm(NULL, &m), -1);
    assert_true(cc_time_zone_known("Asia/Shanghai"));
    assert_true(cc_time_zone_known("UTC"));
    assert_false(cc_time_zone_known("Mars/Olympus"));
    assert_false(cc_time_zone_known(""));
    assert_false(cc_time_zone_known("+08:00x"));
    /* GLib takes these, but they are no IANA zones */
    assert_false(cc_time_zone_known("+08:00"));
    assert_false(cc_time_zone_known("CST-8"));
    assert_false(cc_time_zone_known("EST5EDT,M3.2.0,M11.1.0"));
    assert_false(cc_time_zone_known("../../etc/passwd"));
    assert_false(cc_time_zone_known("Asia"));
    assert_true(cc_time_zone_known("America/Argentina/Buenos_Aires"));
    assert_true(cc_time_zone_known("Etc/GMT+8"));
}

/* ---- on a real database ---------------------------------------------------- */

struct fx {
    struct svc_fixture b;
    struct cc_caller op;
};

static int setup(void **state)
{
    struct fx *f = cc_calloc(1, sizeof *f);
    *state = f;
    if (svc_fixture_open(&f->b, 0))
        return -1;
    svc_fixture_admin(&f->b, &f->op);
    f->op.role = CC_ROLE_OPERATOR;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = svc_fixture_close(&f->b);
    cc_free(f);
    return rc;
}

static int64_t contact(struct fx *f)
{
    int64_t id = svc_fixture_contact(&f->b, &f->op, "13800138000");
    assert_true(id > 0);
    return id;
}

static int64_t cert(struct fx *f, int64_t contact_id, int64_t not_after, const char *domain)
{
    char na[40];
    cc_time_rfc3339(not_after, na, sizeof na);
    struct cc_cert_input in;
    memset(&in, 0, sizeof in);
    in.domains[0] = domain;
    in.n_domains = 1;
    in.not_after = na;
    in.n_contact_ids = 1;
    in.contact_ids[0] = contact_id;
    in.carry_subscribers = 1;
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    struct cc_error err;
    assert_int_equal(cc_certificate_create(f->b.svc, &f->op, &in, c, &err), CC_OK);
    int64_t id = c->id;
    assert_true(c->next_reminder_at > 0);
    cc_certificate_clear(c);
    cc_free(c);
    return id;
}

/* svc_fixture_count on either backend: sq on SQLite, pg (its $1 is arg) on
 * PostgreSQL, on a connection of its own. -1 when the query fails. */
static long long count(struct fx *f, const char *sq, const char *pg, const char *arg)
{
    if (!f->b.pg_db[0])
        return svc_fixture_count(&f->b, sq, arg);
    PGconn *c = PQconnectdb(f->b.url);
    const char *v[1] = {arg};
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexecParams(c, pg, arg ? 1 : 0, NULL, v,
                                                              NULL, NULL, 0)
                                               : NULL;
    long long n = -1;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    else
        fprintf(stderr, "%s: %s\n", pg, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return n;
}

static long long events(struct fx *f, const char *type)
{
    return count(f, "SELECT count(*) FROM events WHERE type = ?1",
                 "SELECT count(*) FROM events WHERE type = $1", type);
}

static void raised_once_and_stopped_by_renewal(void **state)
{
    struct fx *f = *state;
    int64_t now = cc_now_ms(), ct = contact(f);
    int64_t old = cert(f, ct, now + 5 * DAY + HOUR, "a.example.com");
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)old);
    struct cc_error err;
    size_t raised = 0;
    assert_int_equal(cc_reminders_run_due(f->b.svc, now, &raised, &err), CC_OK);
    assert_int_equal(raised, 1);
    assert_int_equal(events(f, "certificate.expiring"), 1);
    /* added at 5 days left: one reminder, "5 days left", linking to it */
    assert_int_equal(count(f,
                           "SELECT count(*) FROM events WHERE json_extract(data, "
                           "'$.days_left') = 5 AND json_extract(data, '$.url') "
                           "= '/#/certificates/' || ?1",
                           "SELECT count(*) FROM events WHERE data::jsonb -> 'days_left' = "
                           "'5'::jsonb AND data::jsonb ->> 'url' = '/#/certificates/' || $1",
                           idtext),
                     1);
    /* a restart (another run at the same time) repeats nothing */
    assert_int_equal(cc_reminders_run_due(f->b.svc, now, &raised, &err), CC_OK);
    assert_int_equal(raised, 0);
    /* the 3-day point */
    assert_int_equal(cc_reminders_run_due(f->b.svc, now + 2 * DAY + 2 * HOUR, &raised, &err),
                     CC_OK);
    assert_int_equal(raised, 1);
    assert_int_equal(events(f, "certificate.expiring"), 2);
    /* renewed: the old one has no next reminder, the new one has */
    int64_t renewed = cert(f, ct, now + 400 * DAY, "a.example.com");
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    assert_int_equal(cc_certificate_get(f->b.svc, &f->op, old, c, &err), CC_OK);
    assert_int_equal(c->state, CC_CERT_SUPERSEDED);
    assert_int_equal(c->next_reminder_at, 0);
    cc_certificate_clear(c);
    assert_int_equal(cc_reminders_run_due(f->b.svc, now + 10 * DAY, &raised, &err), CC_OK);
    assert_int_equal(raised, 0);
    assert_int_equal(events(f, "certificate.expired"), 0);
    (void)renewed;
    cc_free(c);
}

static void settings_saved_and_checked(void **state)
{
    struct fx *f = *state;
    struct cc_reminder_settings s;
    struct cc_error err;
    assert_int_equal(cc_reminder_settings_get(f->b.svc, &f->op, &s, &err), CC_OK);
    assert_int_equal(s.n_days, 5);
    assert_string_equal(s.time_zone, "UTC");
    int64_t now = cc_now_ms(), ct = contact(f);
    int64_t id = cert(f, ct, now + 20 * DAY, "b.example.com");
    struct cc_reminder_input in;
    memset(&in, 0, sizeof in);
    in.on_expiry_day = in.day_after = -1;
    in.has_days = 1;
    in.n_days = 1;
    in.days[0] = 10;
    in.time_zone = "Asia/Shanghai";
    in.has_window = 1;
    in.window_start = "09:00";
    in.window_end = "20:00";
    struct cc_caller ro = f->op;
    ro.role = CC_ROLE_READONLY;
    assert_int_equal(cc_reminder_settings_put(f->b.svc, &ro, &in, &s, &err), CC_ERR_FORBIDDEN);
    assert_int_equal(cc_reminder_settings_put(f->b.svc, &f->op, &in, &s, &err), CC_OK);
    assert_true(s.has_window);
    assert_int_equal(s.window_start, 540);
    /* the certificate was rescheduled: its next point is the 10-day one */
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    assert_int_equal(cc_certificate_get(f->b.svc, &f->op, id, c, &err), CC_OK);
    assert_true(c->next_reminder_at >= now + 10 * DAY - 1000);
    assert_true(c->next_reminder_at <= now + 11 * DAY);
    cc_certificate_clear(c);
    cc_free(c);
    in.time_zone = "Asia/Nowhere";
    assert_int_equal(cc_reminder_settings_put(f->b.svc, &f->op, &in, &s, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "TimeZone");
    in.time_zone = NULL;
    in.window_end = "09:00";
    assert_int_equal(cc_reminder_settings_put(f->b.svc, &f->op, &in, &s, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "Window");
    /* nothing of a refused change was kept */
    assert_int_equal(cc_reminder_settings_get(f->b.svc, &f->op, &s, &err), CC_OK);
    assert_string_equal(s.time_zone, "Asia/Shanghai");
    assert_int_equal(s.window_end, 20 * 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(points_utc),
        cmocka_unit_test(points_local_day),
        cmocka_unit_test(points_dst),
        cmocka_unit_test(window_plain),
        cmocka_unit_test(window_wraps_midnight),
        cmocka_unit_test(step_merges),
        cmocka_unit_test(checks),
        cmocka_unit_test_setup_teardown(raised_once_and_stopped_by_renewal, setup, teardown),
        cmocka_unit_test_setup_teardown(settings_saved_and_checked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
