/*
 * render.c — the JSON representations the REST API returns.
 */
#include "http/http.h"
#include "util/util.h"

json_t *cc_render_time(int64_t ms)
{
    char ts[32];
    if (!ms)
        return json_null();
    cc_time_rfc3339(ms, ts, sizeof ts);
    return json_string(ts);
}

json_t *cc_render_contact(const struct cc_contact *c)
{
    json_t *hooks = json_array();
    for (int i = 0; i < c->n_webhooks; i++) {
        const struct cc_webhook *w = &c->webhooks[i];
        json_t *h = json_pack("{s:I, s:s, s:s, s:b, s:b}", "id", (json_int_t)w->id, "url", w->url,
                              "kind", cc_webhook_kind_name(w->kind), "has_secret", w->has_secret,
                              "mention_mobile", w->mention_mobile);
        json_object_set_new(h, "broken", w->broken[0] ? json_string(w->broken) : json_null());
        json_object_set_new(h, "broken_at", cc_render_time(w->broken_at));
        json_array_append_new(hooks, h);
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "email", c->has_email ? json_string(c->email) : json_null());
    json_object_set_new(o, "email_status", json_integer(c->email_verified_at ? 1 : 0));
    json_object_set_new(o, "email_verified_at", cc_render_time(c->email_verified_at));
    json_object_set_new(o, "mobile", json_string(c->mobile));
    json_object_set_new(o, "mobile_status", json_integer(c->mobile_verified_at ? 1 : 0));
    json_object_set_new(o, "mobile_verified_at", cc_render_time(c->mobile_verified_at));
    json_object_set_new(o, "email_broken", c->email_broken[0] ? json_string(c->email_broken)
                                                              : json_null());
    json_object_set_new(o, "mobile_broken", c->mobile_broken[0] ? json_string(c->mobile_broken)
                                                                : json_null());
    json_object_set_new(o, "id_card", c->has_id_card ? json_string(c->id_card_masked) : json_null());
    json_object_set_new(o, "webhooks", hooks);
    json_object_set_new(o, "language", json_string(c->language));
    json_object_set_new(o, "version", json_integer(c->version));
    json_object_set_new(o, "created_at", cc_render_time(c->created_at));
    json_object_set_new(o, "updated_at", cc_render_time(c->updated_at));
    return o;
}
