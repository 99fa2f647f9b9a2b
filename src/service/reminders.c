/*
 * reminders.c — expiry reminders: an account's settings (thresholds in days
 * before not_after, the expiry day, the day after, a delivery window and a
 * time zone), the due points of each certificate computed from them, and
 * the scheduler thread that raises certificate.expiring and
 * certificate.expired through the outbox when a point comes due.
 *
 * Each certificate keeps its next reminder time and the due time of the
 * last point raised (store/reminders.h). The scheduler sleeps until the
 * earliest next time (one indexed query), or until a write pokes it, and
 * with a shared database at most CC_LEADER_POLL_MS (a write through another
 * instance pokes only that instance's thread); when
 * it wakes it takes the due certificates in batches and, for each, raises
 * one event for the latest point that has come (earlier ones not yet raised
 * are merged into it), records it and computes the next point, all in the
 * transaction that writes the event's outbox rows: a restart never repeats
 * a reminder and a crash never loses one. Local times (the expiry day, the
 * window) come from GLib's GTimeZone, which handles daylight saving; the
 * process's TZ is never touched.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <glib.h>
#include <jansson.h>

#include "core/products.h"
#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

#define DAY_MS 86400000LL

static const int default_days[] = {30, 15, 7, 3, 1};

int64_t cc_service_now(const struct cc_service *svc)
{
    return cc_now_ms() + (svc ? svc->cfg.clock_offset_ms : 0);
}

/* ---- checks -------------------------------------------------------------- */

/* 1 when name looks like an IANA zone name (a letter first, then letters,
 * digits and _ + - /, no ".." part) and the system's tz database has it.
 * GLib alone also takes offsets ("+08:00") and POSIX TZ rules ("CST-8"),
 * which are not zones: their days have no daylight saving history. */
static int iana_name(const char *name)
{
    if (!((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')) ||
        strstr(name, ".."))
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '+' || *p == '-' || *p == '/'))
            return 0;
    if (!strcmp(name, "UTC"))
        return 1;
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && dir[0] ? dir : "/usr/share/zoneinfo", name);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int cc_time_zone_known(const char *name)
{
    if (!name || !name[0] || strlen(name) > CC_TIME_ZONE_MAX || !iana_name(name))
        return 0;
    GTimeZone *tz = g_time_zone_new_identifier(name);
    if (!tz)
        return 0;
    g_time_zone_unref(tz);
    return 1;
}

int cc_reminder_parse_hhmm(const char *s, int *minutes)
{
    if (!s || strlen(s) != 5 || s[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (s[i] < '0' || s[i] > '9'))
            return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 23 || m > 59)
        return -1;
    *minutes = h * 60 + m;
    return 0;
}

enum cc_err cc_reminder_days_check(const int64_t *days, size_t n, const char *field, int *out,
                                   struct cc_error *err)
{
    if (n > CC_REMINDER_DAYS_MAX)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, field, "At most %d thresholds.",
                            CC_REMINDER_DAYS_MAX);
    for (size_t i = 0; i < n; i++) {
        if (days[i] < CC_REMINDER_DAY_MIN || days[i] > CC_REMINDER_DAY_MAX)
            return cc_error_set(err, CC_ERR_INVALID_PARAMETER, field,
                                "Each threshold is a whole number of days from %d to %d.",
                                CC_REMINDER_DAY_MIN, CC_REMINDER_DAY_MAX);
        for (size_t j = 0; j < i; j++)
            if (days[i] == days[j])
                return cc_error_set(err, CC_ERR_INVALID_PARAMETER, field,
                                    "%lld days is named twice.", (long long)days[i]);
    }
    /* insertion sort, largest first: at most ten */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && out[j - 1] < (int)days[i]) {
            out[j] = out[j - 1];
            j--;
        }
        out[j] = (int)days[i];
    }
    return CC_OK;
}

/* ---- due points ---------------------------------------------------------- */

/* The zone of s, or UTC when the system does not know it. Owned by the
 * caller: g_time_zone_unref(). */
static GTimeZone *zone(const struct cc_reminder_settings *s)
{
    GTimeZone *tz = s->time_zone[0] ? g_time_zone_new_identifier(s->time_zone) : NULL;
    return tz ? tz : g_time_zone_new_utc();
}

/* The local date of ms in tz, plus add_days, at hh:mm (ms). GLib moves a
 * time that a daylight saving change skips. */
static int64_t local_at(GTimeZone *tz, int64_t ms, int add_days, int minutes)
{
    GDateTime *u = g_date_time_new_from_unix_utc(ms / 1000);
    GDateTime *l = g_date_time_to_timezone(u, tz);
    int y, m, d;
    g_date_time_get_ymd(l, &y, &m, &d);
    GDate *date = g_date_new_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y);
    if (add_days)
        g_date_add_days(date, (guint)add_days);
    GDateTime *t = g_date_time_new(tz, g_date_get_year(date), g_date_get_month(date),
                                   g_date_get_day(date), minutes / 60, minutes % 60, 0);
    int64_t out = t ? g_date_time_to_unix(t) * 1000 : ms;
    if (t)
        g_date_time_unref(t);
    g_date_free(date);
    g_date_time_unref(l);
    g_date_time_unref(u);
    return out;
}

/* Minutes after local midnight of ms in tz. */
static int local_minutes(GTimeZone *tz, int64_t ms)
{
    GDateTime *u = g_date_time_new_from_unix_utc(ms / 1000);
    GDateTime *l = g_date_time_to_timezone(u, tz);
    int m = g_date_time_get_hour(l) * 60 + g_date_time_get_minute(l);
    g_date_time_unref(l);
    g_date_time_unref(u);
    return m;
}

/* ms moved to the next opening of s's delivery window when it falls outside
 * it. A window may wrap midnight (start after end). */
static int64_t in_window(const struct cc_reminder_settings *s, GTimeZone *tz, int64_t ms)
{
    if (!s->has_window || s->window_start == s->window_end)
        return ms;
    int m = local_minutes(tz, ms), a = s->window_start, b = s->window_end;
    int inside = a < b ? (m >= a && m < b) : (m >= a || m < b);
    if (inside)
        return ms;
    /* outside: before today's opening, or (a plain window) past its end */
    int64_t open = local_at(tz, ms, m < a ? 0 : 1, a);
    return open > ms ? open : ms;
}

static void add_point(struct cc_reminder_point *out, size_t *n, int64_t due,
                      enum cc_reminder_kind kind, int days)
{
    size_t i = (*n)++;
    /* by due time; equal times keep their order */
    while (i > 0 && out[i - 1].due > due) {
        out[i] = out[i - 1];
        i--;
    }
    out[i].due = due;
    out[i].kind = kind;
    out[i].days = days;
}

size_t cc_reminder_points(const struct cc_reminder_settings *s, const int *days, size_t n_days,
                          int64_t not_after, struct cc_reminder_point *out)
{
    GTimeZone *tz = zone(s);
    size_t n = 0;
    for (size_t i = 0; i < n_days && i < CC_REMINDER_DAYS_MAX; i++)
        add_point(out, &n, not_after - days[i] * DAY_MS, CC_REMIND_BEFORE, days[i]);
    if (s->on_expiry_day) {
        int64_t midnight = local_at(tz, not_after, 0, 0);
        add_point(out, &n, midnight < not_after ? midnight : not_after, CC_REMIND_EXPIRY_DAY, 0);
    }
    if (s->day_after)
        add_point(out, &n, local_at(tz, not_after, 1, 0), CC_REMIND_DAY_AFTER, 0);
    for (size_t i = 0; i < n; i++)
        out[i].at = in_window(s, tz, out[i].due);
    g_time_zone_unref(tz);
    return n;
}

void cc_reminder_step(const struct cc_reminder_point *p, size_t n, int64_t raised, int64_t now,
                      struct cc_reminder_step *out)
{
    memset(out, 0, sizeof *out);
    out->raised = raised;
    size_t passed = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].due > raised && p[i].at <= now) {
            passed++;
            out->fire = 1;
            out->point = p[i];
            out->raised = p[i].due;
        }
    out->merged = passed > 1;
    for (size_t i = 0; i < n && !out->next_at; i++)
        if (p[i].due > out->raised)
            out->next_at = p[i].at > 0 ? p[i].at : 1;
}

/* ---- settings ------------------------------------------------------------ */

static void defaults(struct cc_reminder_settings *s, int64_t account_id, const char *admin_lang)
{
    memset(s, 0, sizeof *s);
    s->account_id = account_id;
    s->n_days = sizeof default_days / sizeof default_days[0];
    memcpy(s->days, default_days, sizeof default_days);
    s->on_expiry_day = s->day_after = 1;
    cc_strlcpy(s->time_zone, !strcmp(admin_lang, "zh-CN") ? "Asia/Shanghai" : "UTC",
               sizeof s->time_zone);
}

enum cc_err svc_reminder_settings_tx(struct cc_tx *tx, int64_t account_id,
                                     struct cc_reminder_settings *out, struct cc_error *err)
{
    enum cc_err rc = cc_tx_reminder_settings_get(tx, account_id, out, err);
    if (rc != CC_ERR_NOT_FOUND)
        return rc;
    char lang[16];
    if ((rc = cc_tx_reminder_admin_language(tx, account_id, lang, sizeof lang, err)))
        return rc;
    defaults(out, account_id, lang);
    return CC_OK;
}

enum cc_err cc_reminder_settings_get(struct cc_service *svc, const struct cc_caller *caller,
                                     struct cc_reminder_settings *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    rc = cc_store_reminder_settings_get(svc->store, caller->account_id, out, err);
    if (rc != CC_ERR_NOT_FOUND)
        return rc;
    char lang[16];
    if ((rc = cc_store_reminder_admin_language(svc->store, caller->account_id, lang, sizeof lang,
                                               err)))
        return rc;
    defaults(out, caller->account_id, lang);
    return CC_OK;
}

/* in's changes onto s, each checked. */
static enum cc_err apply_input(const struct cc_reminder_input *in, struct cc_reminder_settings *s,
                               struct cc_error *err)
{
    enum cc_err rc;
    if (in->has_days) {
        if ((rc = cc_reminder_days_check(in->days, in->n_days, "DaysBefore", s->days, err)))
            return rc;
        s->n_days = in->n_days;
    }
    if (in->on_expiry_day >= 0)
        s->on_expiry_day = in->on_expiry_day;
    if (in->day_after >= 0)
        s->day_after = in->day_after;
    if (in->has_window && !in->window_start && !in->window_end) {
        s->has_window = 0;
        s->window_start = s->window_end = 0;
    } else if (in->has_window) {
        int a, b;
        if (cc_reminder_parse_hhmm(in->window_start, &a) ||
            cc_reminder_parse_hhmm(in->window_end, &b))
            return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Window",
                                "window is null or {\"start\": \"HH:MM\", \"end\": \"HH:MM\"} on "
                                "a 24-hour clock, such as 09:00 and 20:00.");
        if (a == b)
            return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Window",
                                "window start and end must differ (null: any time of day).");
        s->has_window = 1;
        s->window_start = a;
        s->window_end = b;
    }
    if (in->time_zone) {
        if (!cc_time_zone_known(in->time_zone))
            return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "TimeZone",
                                "time_zone must be an IANA time zone such as Asia/Shanghai or "
                                "UTC.");
        cc_strlcpy(s->time_zone, in->time_zone, sizeof s->time_zone);
    }
    return CC_OK;
}

struct settings_op {
    const struct cc_caller *caller;
    const struct cc_reminder_input *in;
    struct cc_reminder_settings *out;
};

/* Every active certificate of the account rescheduled under s. */
static enum cc_err reschedule_account(struct cc_tx *tx, const struct cc_reminder_settings *s,
                                      struct cc_error *err)
{
    enum { PAGE = 256 };
    int64_t ids[PAGE], after = 0;
    size_t n = PAGE;
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    enum cc_err rc = CC_OK;
    while (!rc && n == PAGE) {
        if ((rc = cc_tx_cert_reminder_account(tx, s->account_id, after, PAGE, ids, &n, err)))
            break;
        for (size_t i = 0; i < n && !rc; i++) {
            if (!(rc = cc_tx_cert_get(tx, s->account_id, ids[i], c, err)))
                rc = svc_reminder_schedule_tx(tx, c, s, err);
            cc_certificate_clear(c);
            after = ids[i];
        }
    }
    cc_free(c);
    return rc;
}

static enum cc_err settings_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct settings_op *op = arg;
    int64_t account = op->caller->account_id, now = cc_now_ms();
    enum cc_err rc = svc_reminder_settings_tx(tx, account, op->out, err);
    if (rc || (rc = apply_input(op->in, op->out, err)))
        return rc;
    op->out->updated_at = now;
    if ((rc = cc_tx_reminder_settings_put(tx, op->out, err)))
        return rc;
    if ((rc = reschedule_account(tx, op->out, err)))
        return rc;
    (void)now;
    json_t *ch = json_object();
    svc_change_str(ch, "time_zone", SVC_PII_NONE, NULL, op->out->time_zone);
    svc_change_int(ch, "on_expiry_day", 0, 0, 1, op->out->on_expiry_day);
    svc_change_int(ch, "day_after", 0, 0, 1, op->out->day_after);
    return svc_audit(tx, op->caller, CC_AUDIT_SETTINGS_REMINDERS_UPDATE, account, ch, err);
}

enum cc_err cc_reminder_settings_put(struct cc_service *svc, const struct cc_caller *caller,
                                     const struct cc_reminder_input *in,
                                     struct cc_reminder_settings *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    struct settings_op op = {caller, in, out};
    if ((rc = cc_store_write(svc->store, settings_tx, &op, err)))
        return rc;
    svc_reminders_poke(svc);
    return CC_OK;
}

/* ---- scheduling a certificate ---------------------------------------------- */

/* c's points under s into out; how many. */
static size_t cert_points(const struct cc_certificate *c, const struct cc_reminder_settings *s,
                          struct cc_reminder_point *out)
{
    if (c->has_reminder_days)
        return cc_reminder_points(s, c->reminder_days, c->n_reminder_days, c->not_after, out);
    return cc_reminder_points(s, s->days, s->n_days, c->not_after, out);
}

enum cc_err svc_reminder_schedule_tx(struct cc_tx *tx, const struct cc_certificate *c,
                                     const struct cc_reminder_settings *s, struct cc_error *err)
{
    if (c->state != CC_CERT_ACTIVE && c->state != CC_CERT_EXPIRED)
        return cc_tx_cert_reminder_set(tx, c->account_id, c->id, 0, c->reminder_raised, err);
    struct cc_reminder_settings own;
    enum cc_err rc;
    if (!s && (rc = svc_reminder_settings_tx(tx, c->account_id, &own, err)))
        return rc;
    struct cc_reminder_point p[CC_REMINDER_POINTS_MAX];
    size_t n = cert_points(c, s ? s : &own, p);
    int64_t next = 0;
    for (size_t i = 0; i < n && !next; i++)
        if (p[i].due > c->reminder_raised)
            next = p[i].at > 0 ? p[i].at : 1;
    return cc_tx_cert_reminder_set(tx, c->account_id, c->id, next, c->reminder_raised, err);
}

enum cc_err svc_reminder_stop_tx(struct cc_tx *tx, int64_t account_id, int64_t id, int64_t now,
                                 struct cc_error *err)
{
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    enum cc_err rc = cc_tx_cert_get(tx, account_id, id, c, err);
    int64_t raised = c->reminder_raised, cancelled = 0;
    cc_certificate_clear(c);
    cc_free(c);
    if (rc)
        return rc;
    if ((rc = cc_tx_cert_reminder_set(tx, account_id, id, 0, raised, err)))
        return rc;
    return cc_tx_reminder_cancel_pending(tx, account_id, id, now, &cancelled, err);
}

/* ---- raising ------------------------------------------------------------- */

/* The data of a reminder event for c at now. Owned by the caller:
 * json_decref(). */
static json_t *reminder_data(const struct cc_service *svc, const struct cc_certificate *c,
                             const struct cc_reminder_settings *s,
                             const struct cc_reminder_step *st, int64_t now)
{
    char id[24], when[96], url[640];
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    GTimeZone *tz = zone(s);
    GDateTime *u = g_date_time_new_from_unix_utc(c->not_after / 1000);
    GDateTime *l = g_date_time_to_timezone(u, tz);
    gchar *f = g_date_time_format(l, "%Y-%m-%d %H:%M");
    snprintf(when, sizeof when, "%s %s", f ? f : "", g_time_zone_get_identifier(tz));
    g_free(f);
    g_date_time_unref(l);
    g_date_time_unref(u);
    g_time_zone_unref(tz);
    /* on time: the threshold; merged or late: the whole days really left */
    int64_t left = st->point.days;
    if (st->point.kind == CC_REMIND_DAY_AFTER)
        left = 0;
    else if (st->merged || now - st->point.at > CC_REMINDER_LATE_MS)
        left = c->not_after > now ? (c->not_after - now) / DAY_MS : 0;
    json_t *domains = json_loads(c->domains ? c->domains : "[]", 0, NULL);
    json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:I}", "certificate_id", id, "domains",
                          domains ? domains : json_array(), "common_name", c->common_name,
                          "not_after", when, "days_left", (json_int_t)left);
    const struct cc_product *p = c->product[0] ? cc_product_find(c->product) : NULL;
    if (p) {
        json_object_set_new(o, "brand", json_string(p->brand));
        json_object_set_new(o, "type", json_string(cc_validation_name(p->validation)));
    }
    snprintf(url, sizeof url, "%s/#/certificates/%s", svc->public_url, id);
    json_object_set_new(o, "url", json_string(url));
    return o;
}

/* One due certificate: raise its latest point (when someone is subscribed)
 * and schedule the next. */
static enum cc_err remind_one(const struct cc_service *svc, struct cc_tx *tx,
                              const struct cc_certificate *c,
                              const struct cc_reminder_settings *s, int64_t now, size_t *raised,
                              struct cc_error *err)
{
    if (c->state != CC_CERT_ACTIVE && c->state != CC_CERT_EXPIRED)
        return cc_tx_cert_reminder_set(tx, c->account_id, c->id, 0, c->reminder_raised, err);
    struct cc_reminder_point p[CC_REMINDER_POINTS_MAX];
    size_t n = cert_points(c, s, p);
    struct cc_reminder_step st;
    cc_reminder_step(p, n, c->reminder_raised, now, &st);
    enum cc_err rc = CC_OK;
    if (st.fire && c->n_subscribers) {
        json_t *d = reminder_data(svc, c, s, &st, now);
        char *data = json_dumps(d, JSON_COMPACT);
        json_decref(d);
        struct cc_caller sched;
        memset(&sched, 0, sizeof sched);
        sched.account_id = c->account_id;
        sched.role = CC_ROLE_ADMIN;
        cc_strlcpy(sched.key_id, "scheduler", sizeof sched.key_id);
        int64_t event_id = 0;
        rc = svc_event_raise_tx(tx, &sched,
                                st.point.kind == CC_REMIND_DAY_AFTER ? "certificate.expired"
                                                                     : "certificate.expiring",
                                c->subscribers, c->n_subscribers, data, &event_id, err);
        free(data);
        if (!rc)
            (*raised)++;
    }
    if (rc)
        return rc;
    return cc_tx_cert_reminder_set(tx, c->account_id, c->id, st.next_at, st.raised, err);
}

struct batch_op {
    const struct cc_service *svc;
    int64_t now;
    size_t taken, raised;
    int64_t ids[CC_REMINDER_BATCH], accounts[CC_REMINDER_BATCH];
};

static enum cc_err batch_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct batch_op *op = arg;
    op->taken = op->raised = 0; /* a retried transaction starts again */
    enum cc_err rc = cc_tx_cert_reminder_due(tx, op->now, CC_REMINDER_BATCH, op->ids,
                                             op->accounts, &op->taken, err);
    struct cc_reminder_settings s;
    int64_t settings_of = 0;
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    for (size_t i = 0; i < op->taken && !rc; i++) {
        if (op->accounts[i] != settings_of &&
            !(rc = svc_reminder_settings_tx(tx, op->accounts[i], &s, err)))
            settings_of = op->accounts[i];
        if (!rc)
            rc = cc_tx_cert_get(tx, op->accounts[i], op->ids[i], c, err);
        if (!rc)
            rc = remind_one(op->svc, tx, c, &s, op->now, &op->raised, err);
        cc_certificate_clear(c);
    }
    cc_free(c);
    return rc;
}

enum cc_err cc_reminders_run_due(struct cc_service *svc, int64_t now, size_t *raised,
                                 struct cc_error *err)
{
    struct batch_op *op = cc_calloc(1, sizeof *op);
    op->svc = svc;
    op->now = now;
    *raised = 0;
    enum cc_err rc = CC_OK;
    do {
        if ((rc = cc_store_write(svc->store, batch_tx, op, err)))
            break;
        *raised += op->raised;
        if (op->raised)
            cc_dispatcher_wake(svc->dispatcher);
    } while (op->taken == CC_REMINDER_BATCH);
    cc_free(op);
    return rc;
}

/* ---- the scheduler thread ---------------------------------------------- */

struct svc_reminders {
    struct cc_service *svc;
    int64_t retention_at;  /* when the retention of personal data last ran (ms) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;     /* on CLOCK_MONOTONIC */
    int stop, poked;
};

/* Waits (r->mu held) until poked, stopped, or wait_ms have passed (-1: no
 * time limit: nothing is due, so nothing wakes the thread but a poke). */
static void sleep_until(struct svc_reminders *r, int64_t wait_ms)
{
    if (r->stop || r->poked)
        return;
    if (wait_ms < 0) {
        pthread_cond_wait(&r->cv, &r->mu);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + (wait_ms % 1000) * 1000000;
    ts.tv_sec += (time_t)(wait_ms / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

/* The retention of personal data (verifications.c), every
 * CC_RETENTION_PERIOD_MS. */
static void retention(struct svc_reminders *r)
{
    int64_t now = cc_now_ms(), masked = 0, verifs = 0, notifs = 0;
    if (r->retention_at && now - r->retention_at < CC_RETENTION_PERIOD_MS)
        return;
    r->retention_at = now;
    struct cc_error err;
    if (cc_service_retention(r->svc, now, &masked, &verifs, &notifs, &err)) {
        cc_log(CC_LOG_ERROR, "retention failed", "error", err.message, NULL);
        return;
    }
    if (masked || verifs || notifs) {
        char m[24], v[24], n[24];
        snprintf(m, sizeof m, "%lld", (long long)masked);
        snprintf(v, sizeof v, "%lld", (long long)verifs);
        snprintf(n, sizeof n, "%lld", (long long)notifs);
        cc_log(CC_LOG_INFO, "retention applied", "masked_verifications", m,
               "removed_verifications", v, "removed_notifications", n, NULL);
    }
}

/* One wake-up: raise what is due, then how long to sleep (at most
 * CC_RETENTION_PERIOD_MS, when the retention of personal data runs again). */
static int64_t pass(struct svc_reminders *r)
{
    /* One instance of a deployment raises reminders and applies retention. */
    if (!svc_leads(r->svc, "reminders"))
        return CC_LEADER_POLL_MS;
    retention(r);
    struct cc_error err;
    size_t raised = 0;
    if (cc_reminders_run_due(r->svc, cc_service_now(r->svc), &raised, &err)) {
        cc_log(CC_LOG_ERROR, "reminders: raising due reminders failed", "error", err.message,
               NULL);
        return 1000; /* the store is in trouble: try again soon */
    }
    if (raised) {
        char n[24];
        snprintf(n, sizeof n, "%zu", raised);
        cc_log(CC_LOG_INFO, "reminders raised", "count", n, NULL);
    }
    int64_t next = 0;
    if (cc_store_cert_reminder_next(r->svc->store, &next, &err)) {
        cc_log(CC_LOG_ERROR, "reminders: reading the next due time failed", "error",
               err.message, NULL);
        return 1000;
    }
    int64_t cap = CC_RETENTION_PERIOD_MS < CC_REMINDER_MAX_SLEEP_MS ? CC_RETENTION_PERIOD_MS
                                                                     : CC_REMINDER_MAX_SLEEP_MS;
    /* A write through another instance of a shared database pokes that
     * instance's scheduler, not this one: read the next due time again at
     * least as often as the others ask for the lead. One process owns a
     * SQLite database: every write pokes this thread, so it sleeps on. */
    if (cc_service_shared(r->svc) && cap > CC_LEADER_POLL_MS)
        cap = CC_LEADER_POLL_MS;
    if (!next)
        return cap;
    int64_t wait = next - cc_service_now(r->svc);
    return wait <= 0 ? 0 : wait < cap ? wait : cap;
}

static void *run(void *arg)
{
    struct svc_reminders *r = arg;
    int64_t last_pass = 0;
    pthread_mutex_lock(&r->mu);
    while (!r->stop) {
        r->poked = 0;
        pthread_mutex_unlock(&r->mu);
        int64_t wait = pass(r);
        cc_service_thread_rest(r->svc, &last_pass, wait);
        pthread_mutex_lock(&r->mu);
        sleep_until(r, wait);
    }
    pthread_mutex_unlock(&r->mu);
    cc_service_thread_done(r->svc);
    return NULL;
}

enum cc_err cc_reminders_start(struct cc_service *svc, const char *public_url,
                               struct cc_error *err)
{
    cc_strlcpy(svc->public_url, public_url ? public_url : "", sizeof svc->public_url);
    size_t len = strlen(svc->public_url);
    while (len && svc->public_url[len - 1] == '/')
        svc->public_url[--len] = '\0';
    struct svc_reminders *r = cc_calloc(1, sizeof *r);
    r->svc = svc;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&r->mu, NULL);
    if (pthread_create(&r->thread, NULL, run, r)) {
        pthread_cond_destroy(&r->cv);
        pthread_mutex_destroy(&r->mu);
        cc_free(r);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "cannot start the reminder scheduler");
    }
    /* HTTP threads may already be poking: they read the pointer atomically */
    __atomic_store_n(&svc->reminders, r, __ATOMIC_RELEASE);
    return CC_OK;
}

void cc_reminders_stop(struct cc_service *svc)
{
    struct svc_reminders *r = svc ? svc->reminders : NULL;
    if (!r)
        return;
    /* the HTTP server has stopped: nobody pokes any more */
    pthread_mutex_lock(&r->mu);
    r->stop = 1;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
    pthread_join(r->thread, NULL);
    __atomic_store_n(&svc->reminders, NULL, __ATOMIC_RELEASE);
    pthread_cond_destroy(&r->cv);
    pthread_mutex_destroy(&r->mu);
    cc_free(r);
}

void svc_reminders_poke(struct cc_service *svc)
{
    struct svc_reminders *r = __atomic_load_n(&svc->reminders, __ATOMIC_ACQUIRE);
    if (!r)
        return;
    pthread_mutex_lock(&r->mu);
    r->poked = 1;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}
