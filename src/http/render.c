/*
 * render.c — the JSON representations the REST API returns.
 */
#include "http/http_int.h"
#include "util/util.h"

json_t *cc_render_time(int64_t ms)
{
    char ts[32];
    if (!ms)
        return json_null();
    cc_time_rfc3339(ms, ts, sizeof ts);
    return json_string(ts);
}

json_t *cc_render_text(const char *lang, const char *english)
{
    if (!english || !english[0])
        return json_string("");
    char out[1024];
    cc_tr_text(lang, english, out, sizeof out);
    json_t *s = json_string(out);
    return s ? s : json_string(english);
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

json_t *cc_render_certificate(const struct cc_certificate *c, int with_pem, int64_t now)
{
    json_t *o = json_object();
    json_t *domains = json_loads(c->domains ? c->domains : "[]", 0, NULL);
    json_t *subs = json_array();
    for (size_t i = 0; i < c->n_subscribers; i++)
        json_array_append_new(subs, json_integer(c->subscribers[i]));
    json_object_set_new(o, "id", json_integer(c->id));
    json_object_set_new(o, "name", c->name[0] ? json_string(c->name) : json_null());
    json_object_set_new(o, "common_name", json_string(c->common_name));
    json_object_set_new(o, "domains", domains ? domains : json_array());
    json_object_set_new(o, "state", json_string(cc_cert_state_name(c->state)));
    json_object_set_new(o, "not_before", cc_render_time(c->not_before));
    json_object_set_new(o, "not_after", cc_render_time(c->not_after));
    /* whole days left, rounded down; negative once expired */
    int64_t left = c->not_after - now;
    json_object_set_new(o, "days_left", json_integer(left >= 0 ? left / 86400000
                                                               : -((-left + 86399999) / 86400000)));
    json_object_set_new(o, "issuer", c->issuer[0] ? json_string(c->issuer) : json_null());
    json_object_set_new(o, "serial", c->serial[0] ? json_string(c->serial) : json_null());
    json_object_set_new(o, "key_type", c->key_type[0] ? json_string(c->key_type) : json_null());
    json_object_set_new(o, "key_bits", c->key_bits ? json_integer(c->key_bits) : json_null());
    json_object_set_new(o, "fingerprint_sha256",
                        c->fingerprint[0] ? json_string(c->fingerprint) : json_null());
    json_object_set_new(o, "product", c->product[0] ? json_string(c->product) : json_null());
    json_object_set_new(o, "chain_length", json_integer(c->chain_len));
    json_object_set_new(o, "has_private_key", json_boolean(c->has_private_key));
    json_object_set_new(o, "contact_ids", subs);
    json_object_set_new(o, "revoked_at", cc_render_time(c->revoked_at));
    json_object_set_new(o, "superseded_by", c->superseded_by ? json_integer(c->superseded_by)
                                                             : json_null());
    if (with_pem)
        json_object_set_new(o, "pem", c->pem ? json_string(c->pem) : json_null());
    json_object_set_new(o, "created_at", cc_render_time(c->created_at));
    json_object_set_new(o, "updated_at", cc_render_time(c->updated_at));
    json_t *days = json_null();
    if (c->has_reminder_days) {
        days = json_array();
        for (size_t i = 0; i < c->n_reminder_days; i++)
            json_array_append_new(days, json_integer(c->reminder_days[i]));
    }
    json_object_set_new(o, "reminder_days", days);
    json_object_set_new(o, "next_reminder_at", cc_render_time(c->next_reminder_at));
    return o;
}
