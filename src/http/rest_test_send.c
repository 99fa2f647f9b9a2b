/*
 * rest_test_send.c — POST /v1/contacts/{id}/test: send a real test message
 * to one channel of a contact and answer with the platform's verdict; and
 * POST /v1/webhooks/test, the same for a robot not saved yet. The send waits
 * on the platform, so it runs on the blocking pool.
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

/* The answer to a test: the platform's verdict. */
static json_t *verdict(const struct cc_test_result *r, const char *lang)
{
    json_t *o = json_object();
    json_object_set_new(o, "delivered", json_boolean(r->delivered));
    json_object_set_new(o, "channel", json_string(r->channel));
    json_object_set_new(o, "target", json_string(r->target));
    if (r->webhook_id)
        json_object_set_new(o, "webhook_id", json_integer(r->webhook_id));
    json_object_set_new(o, "status", json_string(cc_send_status_name(r->send.status)));
    json_object_set_new(o, "code", json_string(r->send.code));
    json_object_set_new(o, "reason", cc_render_text(lang, r->send.reason));
    if (!strcmp(r->channel, "webhook")) {
        json_object_set_new(o, "http_status", json_integer(r->answer.http_status));
        json_object_set_new(o, "platform_code", json_string(r->answer.platform_code));
        json_object_set_new(o, "platform_message", json_string(r->answer.platform_msg));
        json_object_set_new(o, "latency_ms", json_integer(r->answer.latency_ms));
    }
    return o;
}

static void test_send(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_error err;
    const char *channel = NULL, *event_type = NULL;
    int64_t webhook_id = 0;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (!strcmp(key, "channel") && json_is_string(v)) {
            channel = json_string_value(v);
        } else if (!strcmp(key, "event_type") && json_is_string(v)) {
            event_type = json_string_value(v);
        } else if (!strcmp(key, "webhook_id") && json_is_integer(v) && json_integer_value(v) > 0) {
            webhook_id = json_integer_value(v);
        } else if (!strcmp(key, "channel") || !strcmp(key, "event_type") ||
                   !strcmp(key, "webhook_id")) {
            cc_error_set(&err, CC_ERR_INCORRECT_FORMAT, !strcmp(key, "channel") ? "Channel"
                                                        : !strcmp(key, "event_type") ? "EventType"
                                                                                     : "WebhookId",
                         "%s has the wrong type.", key);
            goto fail;
        } else {
            cc_error_set(&err, CC_ERR_UNKNOWN_FIELD, NULL,
                         "Unknown field \"%.64s\": send channel, webhook_id and event_type.", key);
            goto fail;
        }
    }
    struct cc_test_result r;
    if (cc_contact_test_send(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), channel,
                             webhook_id, event_type, &r, &err))
        goto fail;
    json_t *o = verdict(&r, cc_req_lang(req));
    json_decref(obj);
    cc_req_json(req, 200, o);
    return;
fail:
    json_decref(obj);
    cc_req_error(req, &err);
}

void cc_h_contact_test(struct cc_request *req)
{
    cc_req_defer(req, test_send);
}

static void webhook_test(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_error err;
    static const char *const names[] = {"url", "secret", "language", "name", "event_type"};
    static const char *const fields[] = {"Webhooks", "Webhooks", "Language", "Name", "EventType"};
    const char *val[5] = {NULL};
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        size_t i = 0;
        while (i < 5 && strcmp(key, names[i]))
            i++;
        if (i == 5) {
            cc_error_set(&err, CC_ERR_UNKNOWN_FIELD, NULL,
                         "Unknown field \"%.64s\": send url, secret, language, name and "
                         "event_type.", key);
            goto fail;
        }
        if (json_is_null(v))
            continue;
        if (!json_is_string(v)) {
            cc_error_set(&err, CC_ERR_INCORRECT_FORMAT, fields[i], "%s must be a string.", key);
            goto fail;
        }
        val[i] = json_string_value(v);
    }
    struct cc_test_result r;
    if (cc_webhook_test_send(cc_req_service(req), cc_req_caller(req), val[0], val[1], val[2],
                             val[3], val[4], &r, &err))
        goto fail;
    json_decref(obj);
    cc_req_json(req, 200, verdict(&r, cc_req_lang(req)));
    return;
fail:
    json_decref(obj);
    cc_req_error(req, &err);
}

void cc_h_webhooks_test(struct cc_request *req)
{
    cc_req_defer(req, webhook_test);
}
