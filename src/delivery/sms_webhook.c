/*
 * sms_webhook.c — the "webhook" SMS provider, for gateways we have no
 * adapter for: one JSON POST per message to sms_webhook_url,
 *   {"mobile": "+86…", "text": "…", "template_param": {…}, "out_id": "…"}
 * signed with the header
 *   X-Certcontacts-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
 * so the receiver can check origin and freshness. The receiver's HTTP status
 * is the result: 2xx accepted, 429 throttled, other 4xx refused, 5xx retry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

/* The JSON body; the caller frees it with free() (jansson's allocator).
 * Returns NULL when a string is not valid UTF-8. template_param that is not
 * a JSON object is sent as null. */
static char *build_body(const struct cc_sms *m)
{
    char *s = NULL;
    json_t *tp = m->template_param ? json_loads(m->template_param, 0, NULL) : NULL;
    if (tp && !json_is_object(tp)) {
        json_decref(tp);
        tp = NULL;
    }
    json_t *o = json_object();
    json_t *mobile = json_string(m->mobile);
    json_t *text = m->text ? json_string(m->text) : json_null();
    json_t *out_id = m->out_id ? json_string(m->out_id) : json_null();
    int bad = !mobile || !text || !out_id;
    json_object_set_new(o, "mobile", mobile ? mobile : json_null());
    json_object_set_new(o, "text", text ? text : json_null());
    json_object_set_new(o, "template_param", tp ? tp : json_null());
    json_object_set_new(o, "out_id", out_id ? out_id : json_null());
    if (!bad)
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

/* Reads the webhook's answer: any 2xx is accepted. */
static void webhook_done(struct cc_xfer *x, const struct cc_http_answer *ans)
{
    struct cc_send_result *res = &x->res;
    char code[16];
    snprintf(code, sizeof code, "http:%ld", ans->status);
    if (ans->status >= 200 && ans->status < 300)
        cc_delivery_set(res, CC_SEND_OK, code, "accepted by the SMS webhook (HTTP %ld)",
                        ans->status);
    else if (ans->status == 429)
        cc_delivery_set(res, CC_SEND_THROTTLED, code, "the SMS webhook is rate limiting (HTTP 429)");
    else if (ans->status >= 500)
        cc_delivery_set(res, CC_SEND_RETRY, code, "the SMS webhook answered HTTP %ld",
                        ans->status);
    else
        cc_delivery_set(res, CC_SEND_REJECTED, code, "the SMS webhook refused the message "
                        "(HTTP %ld)", ans->status);
}

/* Prepares m for the webhook, signed. cfg and m are borrowed. */
int cc_sms_webhook_prepare(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                           struct cc_send_result *res, struct cc_xfer **out)
{
    char *body = build_body(m);
    *out = NULL;
    if (!body) {
        cc_delivery_set(res, CC_SEND_REJECTED, "", "the message is not valid UTF-8");
        goto out;
    }
    size_t len = strlen(body);
    char t[24], header[160], hex[65];
    snprintf(t, sizeof t, "%lld", (long long)time(NULL));
    struct cc_buf signed_data;
    cc_buf_init(&signed_data, len + sizeof t + 1);
    uint8_t mac[32];
    if (cc_buf_puts(&signed_data, t) || cc_buf_append(&signed_data, ".", 1) ||
        cc_buf_append(&signed_data, body, len)) {
        cc_buf_free(&signed_data);
        cc_delivery_set(res, CC_SEND_REJECTED, "", "the message is too large");
        goto out;
    }
    cc_hmac_sha256(cfg->sms_webhook_secret, strlen(cfg->sms_webhook_secret), signed_data.data,
                   signed_data.len, mac);
    OPENSSL_cleanse(signed_data.data, signed_data.len);
    cc_buf_free(&signed_data);
    cc_hex(mac, sizeof mac, hex);
    snprintf(header, sizeof header, "X-Certcontacts-Signature: t=%s,v1=%s", t, hex);
    const char *headers[] = {"Content-Type: application/json; charset=utf-8", header};
    cc_http_xfer_new(cfg->sms_webhook_url, headers, 2, body, len, cfg->timeout_ms,
                     "SMS webhook", webhook_done, res, out);
out:
    if (body) {
        OPENSSL_cleanse(body, strlen(body)); /* holds the code */
        free(body);
    }
    return *out ? 0 : -1;
}
