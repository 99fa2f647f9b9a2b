/*
 * rest_stats.c — REST v1 GET /v1/stats: the console's Overview of the
 * caller's account (service/stats.c), in the account's time zone: outcomes
 * per channel for each of the last 24 hours and 30 local dates, the broken
 * robots and addresses, the contacts not verified, the certificates expiring
 * within 30 days and the last scheduled backup.
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

/* {"email": {"delivered", "failed", "dead"}, "sms": ..., ...} of one bucket. */
static json_t *render_channels(const int64_t c[CC_STATS_CHANNELS][CC_STATS_OUTCOMES])
{
    json_t *o = json_object();
    for (int ch = 0; ch < CC_STATS_CHANNELS; ch++) {
        json_t *x = json_object();
        for (int k = 0; k < CC_STATS_OUTCOMES; k++)
            json_object_set_new(x, cc_stats_outcome_name(k), json_integer(c[ch][k]));
        json_object_set_new(o, cc_stats_channel_name(ch), x);
    }
    return o;
}

static json_t *render_deliveries(const struct cc_stats *s)
{
    json_t *hours = json_array(), *days = json_array();
    for (int i = 0; i < CC_STATS_HOURS; i++)
        json_array_append_new(hours, json_pack("{s:s, s:o}", "start", s->grid.hour_label[i],
                                               "channels", render_channels(s->hours[i])));
    for (int i = 0; i < CC_STATS_DAYS; i++)
        json_array_append_new(days, json_pack("{s:s, s:o}", "date", s->grid.day_date[i],
                                              "channels", render_channels(s->days[i])));
    return json_pack("{s:o, s:o}", "hours", hours, "days", days);
}

static json_t *render_attention(const struct cc_stats *s, const char *lang)
{
    json_t *robots = json_array(), *addresses = json_array();
    for (size_t i = 0; i < s->n_broken; i++) {
        const struct cc_stats_broken *b = &s->broken[i];
        json_t *o = json_object();
        json_object_set_new(o, "contact_id", json_integer(b->contact_id));
        json_object_set_new(o, "contact_name", json_string(b->contact_name));
        if (b->webhook_id) {
            json_object_set_new(o, "webhook_id", json_integer(b->webhook_id));
            json_object_set_new(o, "platform", json_string(b->platform));
            json_object_set_new(o, "url", json_string(b->target));
        } else {
            json_object_set_new(o, "channel", json_string(b->channel));
            json_object_set_new(o, "address", json_string(b->target));
        }
        json_object_set_new(o, "problem", cc_render_text(lang, b->problem));
        json_object_set_new(o, "since", cc_render_time(b->since));
        json_array_append_new(b->webhook_id ? robots : addresses, o);
    }
    return json_pack("{s:o, s:o}", "robots", robots, "addresses", addresses);
}

static json_t *render_unverified(const struct cc_stats *s)
{
    json_t *list = json_array();
    for (size_t i = 0; i < s->n_unverified; i++) {
        const struct cc_stats_unverified *u = &s->unverified[i];
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:o, s:b}", "id", (json_int_t)u->id, "name", u->name,
                            "email_verified",
                            u->has_email ? json_boolean(u->email_verified) : json_null(),
                            "mobile_verified", u->mobile_verified));
    }
    return json_pack("{s:I, s:o}", "contacts", (json_int_t)s->unverified_total, "list", list);
}

static json_t *render_expiring(const struct cc_stats *s)
{
    json_t *list = json_array();
    for (size_t i = 0; i < s->n_expiring; i++) {
        const struct cc_stats_expiring *x = &s->expiring[i];
        int64_t left = x->not_after - s->grid.now;
        json_array_append_new(
            list, json_pack("{s:I, s:o, s:s, s:o, s:I}", "id", (json_int_t)x->id, "name",
                            x->name[0] ? json_string(x->name) : json_null(), "domain",
                            x->common_name, "not_after", cc_render_time(x->not_after),
                            "days_left", (json_int_t)(left > 0 ? left / 86400000 : 0)));
    }
    return json_pack("{s:o}", "expiring", list);
}

void cc_h_stats_get(struct cc_request *req)
{
    struct cc_error err;
    struct cc_stats *s = cc_malloc(sizeof *s);
    int64_t now = cc_now_ms();
    if (cc_stats_get(cc_req_service(req), cc_req_caller(req), now, s, &err)) {
        cc_req_error(req, &err);
        goto out;
    }
    json_t *o = json_object();
    json_object_set_new(o, "time_zone", json_string(s->time_zone));
    json_object_set_new(o, "now", cc_render_time(now));
    json_object_set_new(o, "deliveries", render_deliveries(s));
    json_object_set_new(o, "attention", render_attention(s, cc_req_lang(req)));
    json_object_set_new(o, "unverified", render_unverified(s));
    json_object_set_new(o, "certificates", render_expiring(s));
    json_object_set_new(o, "backup", json_pack("{s:o}", "last_at", cc_render_time(s->backup_at)));
    cc_req_json(req, 200, o);
out:
    cc_free(s);
}
