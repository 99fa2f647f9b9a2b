/*
 * rest_events.c — REST v1 events and the delivery log:
 *   POST /v1/events                       record an event; notifications follow
 *   GET  /v1/events/{id}                  the event and what it caused
 *   GET  /v1/notifications                the delivery log, filtered and paged
 *   GET  /v1/notifications/{id}           one notification with every attempt and
 *                                         its event's data
 *   POST /v1/notifications/{id}/resend    send a finished one again
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

static json_t *render_event(const struct cc_event *e)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(e->id));
    json_object_set_new(o, "type", json_string(e->type));
    json_object_set_new(o, "data", json_loads(e->data, 0, NULL));
    json_object_set_new(o, "skipped", json_loads(e->skipped, 0, NULL));
    json_object_set_new(o, "created_at", cc_render_time(e->created_at));
    return o;
}

/* The event just written, answered as GET /v1/events/{id} renders it, byte
 * for byte, without the GET's read back and parse: its data and skipped
 * list are the JSON texts it was written with, which json_dumps wrote (data)
 * or which are written as json_dumps writes them (events.c). An event of
 * 100 contacts can have hundreds of entries skipped, and its answer is on
 * the way of the next event posted. */
static void answer_created(struct cc_request *req, const struct cc_event *e)
{
    struct cc_buf b;
    char id[CC_I64_CHARS], at[32];
    cc_buf_init(&b, strlen(e->data) + strlen(e->skipped) + 256);
    cc_time_rfc3339(e->created_at, at, sizeof at);
    if (cc_buf_puts(&b, "{\"id\":") || cc_buf_append(&b, id, cc_fmt_i64(id, e->id)) ||
        cc_buf_puts(&b, ",\"type\":") || cc_json_put_string(&b, e->type, strlen(e->type)) ||
        cc_buf_puts(&b, ",\"data\":") || cc_buf_puts(&b, e->data) ||
        cc_buf_puts(&b, ",\"skipped\":") || cc_buf_puts(&b, e->skipped) ||
        cc_buf_puts(&b, ",\"created_at\":") || cc_json_put_string(&b, at, strlen(at)) ||
        cc_buf_puts(&b, "}")) {
        cc_buf_free(&b);
        cc_req_json(req, 201, render_event(e));
        return;
    }
    size_t len = 0;
    char *body = cc_buf_steal(&b, &len);
    cc_req_json_text(req, 201, body, len);
}

json_t *cc_render_notification(const struct cc_notification *n, const char *lang)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(n->id));
    json_object_set_new(o, "event_id", json_integer(n->event_id));
    json_object_set_new(o, "event_type", json_string(n->event_type));
    json_object_set_new(o, "domain", n->domain[0] ? json_string(n->domain) : json_null());
    json_object_set_new(o, "contact_id", json_integer(n->contact_id));
    json_object_set_new(o, "contact_name",
                        n->contact_name[0] ? json_string(n->contact_name) : json_null());
    json_object_set_new(o, "channel", json_string(n->channel));
    if (n->webhook_id)
        json_object_set_new(o, "webhook_id", json_integer(n->webhook_id));
    json_object_set_new(o, "target", json_string(n->target));
    json_object_set_new(o, "status", json_string(n->status));
    json_object_set_new(o, "attempts", json_integer(n->attempts));
    json_object_set_new(o, "next_attempt_at",
                        strcmp(n->status, "pending") ? json_null() : cc_render_time(n->next_attempt_at));
    json_object_set_new(o, "last_error",
                        n->last_error[0] ? cc_render_text(lang, n->last_error) : json_null());
    json_object_set_new(o, "idempotency_key", json_string(n->key));
    json_object_set_new(o, "created_at", cc_render_time(n->created_at));
    json_object_set_new(o, "updated_at", cc_render_time(n->updated_at));
    return o;
}

/* The caller's notifications matching f, rendered; NULL with *err set. */
static json_t *list_notifications(struct cc_request *req, struct cc_notif_filter *f,
                                  int64_t *total, struct cc_error *err)
{
    struct cc_notification *items = NULL;
    size_t n = 0;
    if (cc_notification_list(cc_req_service(req), cc_req_caller(req), f, &items, &n, total, err))
        return NULL;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, cc_render_notification(&items[i], cc_req_lang(req)));
    cc_free(items);
    return arr;
}

void cc_h_events_create(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_error err;
    const char *type = NULL;
    json_t *ids = NULL, *data = NULL;
    const char *key;
    json_t *v;
    int64_t cids[CC_EVENT_MAX_CONTACTS];
    size_t n = 0;
    json_object_foreach(obj, key, v) {
        if (!strcmp(key, "type")) {
            if (!json_is_string(v)) {
                cc_error_set(&err, CC_ERR_INCORRECT_FORMAT, "Type", "type must be a string.");
                goto fail;
            }
            type = json_string_value(v);
        } else if (!strcmp(key, "contact_ids")) {
            ids = v;
        } else if (!strcmp(key, "data")) {
            if (!json_is_object(v)) {
                cc_error_set(&err, CC_ERR_INCORRECT_FORMAT, "Data", "data must be an object.");
                goto fail;
            }
            data = v;
        } else {
            cc_error_set(&err, CC_ERR_UNKNOWN_FIELD, NULL,
                         "Unknown field \"%.64s\": an event has type, contact_ids and data.", key);
            goto fail;
        }
    }
    if (ids && !json_is_array(ids)) {
        cc_error_set(&err, CC_ERR_INCORRECT_FORMAT, "ContactIds",
                     "contact_ids must be an array of contact ids.");
        goto fail;
    }
    if (ids && json_array_size(ids) > CC_EVENT_MAX_CONTACTS) {
        cc_error_set(&err, CC_ERR_LIMIT_EXCEEDED, "ContactIds",
                     "An event names at most %d contacts.", CC_EVENT_MAX_CONTACTS);
        goto fail;
    }
    size_t i;
    json_array_foreach(ids, i, v) {
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            cc_error_set(&err, CC_ERR_INCORRECT_FORMAT, "ContactIds",
                         "contact_ids must hold positive integers.");
            goto fail;
        }
        cids[n++] = json_integer_value(v);
    }
    struct cc_event e;
    if (cc_event_create(cc_req_service(req), cc_req_caller(req), type, cids, n, data, &e, &err))
        goto fail;
    json_decref(obj);
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/events/%lld", (long long)e.id);
    cc_req_add_header(req, "Location", loc);
    answer_created(req, &e);
    cc_event_free(&e);
    return;
fail:
    json_decref(obj);
    cc_req_error(req, &err);
}

void cc_h_events_get(struct cc_request *req)
{
    struct cc_error err;
    struct cc_event e;
    if (cc_event_get(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), &e, &err)) {
        cc_req_error(req, &err);
        return;
    }
    /* the channels skipped are in "skipped" already */
    struct cc_notif_filter f = {0, e.id, 0, NULL, NULL, 1, CC_PAGE_SIZE_MAX, 1};
    int64_t total = 0;
    json_t *arr = list_notifications(req, &f, &total, &err);
    if (!arr) {
        cc_event_free(&e);
        cc_req_error(req, &err);
        return;
    }
    json_t *o = render_event(&e);
    json_object_set_new(o, "notifications", arr);
    json_object_set_new(o, "notifications_total", json_integer(total));
    cc_event_free(&e);
    cc_req_json(req, 200, o);
}

/* An optional positive integer query argument; -1 on a bad value (answered). */
static int query_id(struct cc_request *req, const char *name, const char *field, int64_t def,
                    int64_t *out)
{
    const char *v = cc_req_query(req, name);
    *out = def;
    if (!v || !v[0])
        return 0;
    if (cc_parse_i64(v, 1, INT64_MAX, out)) {
        struct cc_error err;
        cc_error_set(&err, CC_ERR_INVALID_PARAMETER, field, "%s must be a positive whole number.",
                     name);
        cc_req_error(req, &err);
        return -1;
    }
    return 0;
}

void cc_h_notifications_list(struct cc_request *req)
{
    struct cc_notif_filter f = {0};
    if (query_id(req, "event_id", "EventId", 0, &f.event_id) ||
        query_id(req, "contact_id", "ContactId", 0, &f.contact_id) ||
        query_id(req, "page", "Page", 1, &f.page) ||
        query_id(req, "page_size", "PageSize", 20, &f.page_size))
        return;
    const char *status = cc_req_query(req, "status");
    const char *channel = cc_req_query(req, "channel");
    f.status = status && status[0] ? status : NULL;
    f.channel = channel && channel[0] ? channel : NULL;
    int64_t total = 0;
    struct cc_error err;
    json_t *arr = list_notifications(req, &f, &total, &err);
    if (!arr) {
        cc_req_error(req, &err);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "items", arr);
    json_object_set_new(o, "total", json_integer(total));
    json_object_set_new(o, "page", json_integer(f.page));
    json_object_set_new(o, "page_size", json_integer(f.page_size));
    cc_req_json(req, 200, o);
}

void cc_h_notifications_get(struct cc_request *req)
{
    struct cc_notification nt;
    struct cc_attempt *a = NULL;
    size_t na = 0;
    struct cc_error err;
    if (cc_notification_get(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), &nt, &a,
                            &na, &err)) {
        cc_req_error(req, &err);
        return;
    }
    json_t *o = cc_render_notification(&nt, cc_req_lang(req));
    json_t *arr = json_array();
    for (size_t i = 0; i < na; i++)
        json_array_append_new(
            arr, json_pack("{s:o, s:I, s:s, s:I, s:s, s:s, s:o}", "at", cc_render_time(a[i].started_at),
                           "latency_ms", (json_int_t)a[i].latency_ms, "outcome", a[i].outcome,
                           "http_status", (json_int_t)a[i].http_status, "platform_code",
                           a[i].platform_code, "platform_message", a[i].platform_message,
                           "reason", cc_render_text(cc_req_lang(req), a[i].reason)));
    cc_free(a);
    json_object_set_new(o, "attempt_log", arr);
    /* what the event said (the certificate's fields), for the detail view */
    struct cc_event e;
    if (cc_event_get(cc_req_service(req), cc_req_caller(req), nt.event_id, &e, &err)) {
        json_decref(o);
        cc_req_error(req, &err);
        return;
    }
    json_t *data = json_loads(e.data, 0, NULL);
    json_object_set_new(o, "event_data", data ? data : json_object());
    cc_event_free(&e);
    cc_req_json(req, 200, o);
}

void cc_h_notifications_resend(struct cc_request *req)
{
    struct cc_error err;
    if (cc_notification_resend(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), &err))
        cc_req_error(req, &err);
    else
        cc_req_json(req, 202, json_pack("{s:I, s:s}", "id", (json_int_t)cc_req_path_id(req),
                                        "status", "pending"));
}
