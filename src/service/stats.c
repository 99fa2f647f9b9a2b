/*
 * stats.c — the console's Overview (GET /v1/stats): an account's delivery
 * outcomes per channel over the last 24 hours and the last 30 local dates,
 * the robots and addresses the platforms refused for good, the contacts with
 * an address not verified, the certificates that expire within 30 days and
 * the last scheduled backup. The charts follow the account's time zone (its
 * reminder settings, service/reminders.c) through GLib's GTimeZone: the
 * store counts finished notifications per hour from the first local midnight
 * shown (store/stats.h), and those hours are folded here into local hours and
 * local dates, so a date across a daylight saving change has 23 or 25 hours.
 */
#include <string.h>

#include <glib.h>

#include "service/service.h"
#include "service/service_int.h"
#include "store/stats.h"
#include "util/util.h"

#define HOUR_MS 3600000LL
#define DAY_MS (24 * HOUR_MS)

static const char *const channel_names[CC_STATS_CHANNELS] = {"email", "sms", "dingtalk", "lark",
                                                             "wecom"};
static const char *const outcome_names[CC_STATS_OUTCOMES] = {"delivered", "failed", "dead"};

const char *cc_stats_channel_name(enum cc_stats_channel ch)
{
    return (unsigned)ch < CC_STATS_CHANNELS ? channel_names[ch] : "";
}

const char *cc_stats_outcome_name(enum cc_stats_outcome o)
{
    return (unsigned)o < CC_STATS_OUTCOMES ? outcome_names[o] : "";
}

/* ms in tz as RFC 3339 with the local offset into out; 0, or -1. */
static int local_label(GTimeZone *tz, int64_t ms, char *out, size_t outsz)
{
    GDateTime *u = g_date_time_new_from_unix_utc(ms / 1000);
    GDateTime *l = u ? g_date_time_to_timezone(u, tz) : NULL;
    gchar *f = l ? g_date_time_format(l, "%Y-%m-%dT%H:%M:%S%:z") : NULL;
    int rc = f ? 0 : -1;
    if (f)
        cc_strlcpy(out, f, outsz);
    g_free(f);
    if (l)
        g_date_time_unref(l);
    if (u)
        g_date_time_unref(u);
    return rc;
}

int cc_stats_grid_make(const char *tzname, int64_t now, struct cc_stats_grid *g)
{
    memset(g, 0, sizeof *g);
    g->now = now;
    GTimeZone *tz = tzname && tzname[0] ? g_time_zone_new_identifier(tzname) : NULL;
    if (!tz)
        tz = g_time_zone_new_utc();
    int rc = -1;
    GDate *date = NULL;
    GDateTime *u = g_date_time_new_from_unix_utc(now / 1000);
    GDateTime *l = u ? g_date_time_to_timezone(u, tz) : NULL;
    if (!l)
        goto out;
    /* the local hour now running starts on a whole local hour (a zone's offset
     * may be a half or three quarters of an hour) */
    int64_t top = now - now % 1000 -
                  ((int64_t)g_date_time_get_minute(l) * 60 + g_date_time_get_second(l)) * 1000;
    for (int i = 0; i < CC_STATS_HOURS; i++) {
        g->hour_start[i] = top - (int64_t)(CC_STATS_HOURS - 1 - i) * HOUR_MS;
        if (local_label(tz, g->hour_start[i], g->hour_label[i], sizeof g->hour_label[i]))
            goto out;
    }
    int y, m, d;
    g_date_time_get_ymd(l, &y, &m, &d);
    date = g_date_new_dmy((GDateDay)d, (GDateMonth)m, (GDateYear)y);
    g_date_subtract_days(date, CC_STATS_DAYS - 1);
    for (int i = 0; i <= CC_STATS_DAYS; i++) {
        /* local midnight; GLib moves one a daylight saving change skips */
        GDateTime *mid = g_date_time_new(tz, g_date_get_year(date), g_date_get_month(date),
                                         g_date_get_day(date), 0, 0, 0);
        if (!mid)
            goto out;
        g->day_start[i] = g_date_time_to_unix(mid) * 1000;
        g_date_time_unref(mid);
        if (i < CC_STATS_DAYS)
            g_date_strftime(g->day_date[i], sizeof g->day_date[i], "%Y-%m-%d", date);
        g_date_add_days(date, 1);
    }
    rc = 0;
out:
    if (date)
        g_date_free(date);
    if (l)
        g_date_time_unref(l);
    if (u)
        g_date_time_unref(u);
    g_time_zone_unref(tz);
    return rc;
}

void cc_stats_fold(const struct cc_stats_grid *g, const struct cc_stats_counts *c,
                   int64_t hours[CC_STATS_HOURS][CC_STATS_CHANNELS][CC_STATS_OUTCOMES],
                   int64_t days[CC_STATS_DAYS][CC_STATS_CHANNELS][CC_STATS_OUTCOMES])
{
    memset(hours, 0, sizeof(int64_t) * CC_STATS_HOURS * CC_STATS_CHANNELS * CC_STATS_OUTCOMES);
    memset(days, 0, sizeof(int64_t) * CC_STATS_DAYS * CC_STATS_CHANNELS * CC_STATS_OUTCOMES);
    int d = 0;
    int64_t first = g->hour_start[0], end = g->hour_start[CC_STATS_HOURS - 1] + HOUR_MS;
    for (size_t h = 0; h < c->n_hours && h < CC_STATS_SPAN_HOURS; h++) {
        int64_t t = c->since + (int64_t)h * HOUR_MS;
        while (d < CC_STATS_DAYS && t >= g->day_start[d + 1])
            d++;
        int in_day = d < CC_STATS_DAYS && t >= g->day_start[d];
        int hi = t >= first && t < end ? (int)((t - first) / HOUR_MS) : -1;
        const int64_t *row = &c->counts[h * CC_STATS_CHANNELS * CC_STATS_OUTCOMES];
        for (int ch = 0; ch < CC_STATS_CHANNELS; ch++)
            for (int o = 0; o < CC_STATS_OUTCOMES; o++) {
                int64_t v = row[ch * CC_STATS_OUTCOMES + o];
                if (in_day)
                    days[d][ch][o] += v;
                if (hi >= 0)
                    hours[hi][ch][o] += v;
            }
    }
}

/* Masks each broken address as the delivery log shows it (a robot's URL comes
 * masked from the store). */
static void mask_targets(struct cc_stats *out)
{
    char m[CC_URL_MAX + 1];
    for (size_t i = 0; i < out->n_broken; i++) {
        struct cc_stats_broken *b = &out->broken[i];
        if (!strcmp(b->channel, "email"))
            cc_mask_email(b->target, m, sizeof m);
        else if (!strcmp(b->channel, "mobile"))
            cc_mask_mobile(b->target, m, sizeof m);
        else
            continue;
        cc_strlcpy(b->target, m, sizeof b->target);
    }
}

enum cc_err cc_stats_get(struct cc_service *svc, const struct cc_caller *caller, int64_t now,
                         struct cc_stats *out, struct cc_error *err)
{
    struct cc_stats_counts *counts = NULL;
    struct cc_reminder_settings rs;
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    if ((rc = cc_reminder_settings_get(svc, caller, &rs, err)))
        goto out;
    cc_strlcpy(out->time_zone, cc_time_zone_known(rs.time_zone) ? rs.time_zone : "UTC",
               sizeof out->time_zone);
    if (cc_stats_grid_make(out->time_zone, now, &out->grid)) {
        rc = cc_error_set(err, CC_ERR_INTERNAL, NULL, "The time zone %s cannot place the time.",
                          out->time_zone);
        goto out;
    }
    counts = cc_calloc(1, sizeof *counts);
    counts->since = out->grid.day_start[0];
    int64_t span = now - counts->since;
    counts->n_hours = span < 0 ? 0 : (size_t)(span / HOUR_MS) + 1;
    if (counts->n_hours > CC_STATS_SPAN_HOURS)
        counts->n_hours = CC_STATS_SPAN_HOURS;
    if ((rc = cc_store_stats_outcomes(svc->store, caller->account_id, now + 1, counts, err)))
        goto out;
    cc_stats_fold(&out->grid, counts, out->hours, out->days);
    if ((rc = cc_store_stats_broken(svc->store, caller->account_id, CC_STATS_LIST_MAX,
                                    out->broken, &out->n_broken, err)))
        goto out;
    mask_targets(out);
    if ((rc = cc_store_stats_unverified(svc->store, caller->account_id, CC_STATS_LIST_MAX,
                                        out->unverified, &out->n_unverified,
                                        &out->unverified_total, err)))
        goto out;
    if ((rc = cc_store_stats_expiring(svc->store, caller->account_id, now,
                                      now + CC_STATS_DAYS * DAY_MS, CC_STATS_LIST_MAX,
                                      out->expiring, &out->n_expiring, err)))
        goto out;
    int64_t bytes = 0;
    cc_service_backup_last(svc, &out->backup_at, &bytes);
out:
    cc_free(counts);
    return rc;
}
