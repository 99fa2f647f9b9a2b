/*
 * rest_templates.c — REST v1 notification templates:
 *   GET    /v1/templates                                 every template in use (?custom=true: the account's own)
 *   GET    /v1/templates/{event}/{channel}/{language}    one template in use
 *   PUT    /v1/templates/{event}/{channel}/{language}    save the account's own {"title", "body"}
 *   DELETE /v1/templates/{event}/{channel}/{language}    back to the built-in text
 *   POST   /v1/templates/preview                         render one, saved or not
 * Rules (roles, names, the checks of a text) live in service/templates.c.
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

static json_t *render_template(const struct cc_template_view *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "event_type", json_string(v->event_type));
    json_object_set_new(o, "channel", json_string(v->channel));
    json_object_set_new(o, "language", json_string(v->language));
    json_object_set_new(o, "title", json_string(v->title));
    json_object_set_new(o, "body", json_string(v->body));
    json_object_set_new(o, "custom", json_boolean(v->custom));
    return o;
}

/* A string field of a request body: anything else is an error naming it. */
static enum cc_err string_field(json_t *v, const char *name, const char *api, const char **out,
                                struct cc_error *err)
{
    if (!json_is_string(v))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, api, "%s must be a string.", name);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, api, "%s contains a NUL character.",
                            name);
    *out = json_string_value(v);
    return CC_OK;
}

void cc_h_templates_list(struct cc_request *req)
{
    const char *q = cc_req_query(req, "custom");
    struct cc_error err;
    if (q && strcmp(q, "true") && strcmp(q, "false")) {
        cc_error_set(&err, CC_ERR_INVALID_PARAMETER, "Custom", "custom must be true or false.");
        cc_req_error(req, &err);
        return;
    }
    struct cc_template_view *items;
    size_t n;
    if (cc_template_list(cc_req_service(req), cc_req_caller(req), q && !strcmp(q, "true"), &items,
                         &n, &err)) {
        cc_req_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, render_template(&items[i]));
    cc_free(items);
    json_t *o = json_object();
    json_object_set_new(o, "items", arr);
    json_object_set_new(o, "total", json_integer((json_int_t)n));
    cc_req_json(req, 200, o);
}

void cc_h_templates_get(struct cc_request *req)
{
    struct cc_template_view *v = cc_malloc(sizeof *v);
    struct cc_error err;
    if (cc_template_get(cc_req_service(req), cc_req_caller(req), cc_req_path_arg(req, 0),
                        cc_req_path_arg(req, 1), cc_req_path_arg(req, 2), v, &err))
        cc_req_error(req, &err);
    else
        cc_req_json(req, 200, render_template(v));
    cc_free(v);
}

void cc_h_templates_put(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_error err;
    struct cc_template_view *v = NULL;
    const char *title = NULL, *body = NULL, *key;
    json_t *f;
    json_object_foreach(obj, key, f) {
        if (!strcmp(key, "title")) {
            if (string_field(f, "title", "Title", &title, &err))
                goto fail;
        } else if (!strcmp(key, "body")) {
            if (string_field(f, "body", "Body", &body, &err))
                goto fail;
        } else {
            cc_error_set(&err, CC_ERR_UNKNOWN_FIELD, NULL,
                         "Unknown field \"%.64s\": a template has title and body.", key);
            goto fail;
        }
    }
    v = cc_malloc(sizeof *v);
    if (cc_template_put(cc_req_service(req), cc_req_caller(req), cc_req_path_arg(req, 0),
                        cc_req_path_arg(req, 1), cc_req_path_arg(req, 2), title, body, v, &err))
        goto fail;
    json_decref(obj);
    cc_req_json(req, 200, render_template(v));
    cc_free(v);
    return;
fail:
    json_decref(obj);
    cc_free(v);
    cc_req_error(req, &err);
}

void cc_h_templates_delete(struct cc_request *req)
{
    struct cc_error err;
    if (cc_template_delete(cc_req_service(req), cc_req_caller(req), cc_req_path_arg(req, 0),
                           cc_req_path_arg(req, 1), cc_req_path_arg(req, 2), &err))
        cc_req_error(req, &err);
    else
        cc_req_empty(req, 204);
}

void cc_h_templates_preview(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_error err;
    struct cc_preview_input in;
    struct cc_preview *p = NULL;
    memset(&in, 0, sizeof in);
    static const struct {
        const char *name, *api;
        size_t off;
    } strings[] = {
        {"event_type", "EventType", offsetof(struct cc_preview_input, event_type)},
        {"channel", "Channel", offsetof(struct cc_preview_input, channel)},
        {"language", "Language", offsetof(struct cc_preview_input, language)},
        {"title", "Title", offsetof(struct cc_preview_input, title)},
        {"body", "Body", offsetof(struct cc_preview_input, body)},
    };
    const char *key;
    json_t *f;
    json_object_foreach(obj, key, f) {
        size_t i;
        for (i = 0; i < sizeof strings / sizeof strings[0]; i++)
            if (!strcmp(key, strings[i].name))
                break;
        if (i < sizeof strings / sizeof strings[0]) {
            const char **out = (const char **)((char *)&in + strings[i].off);
            if (string_field(f, strings[i].name, strings[i].api, out, &err))
                goto fail;
        } else if (!strcmp(key, "data")) {
            if (!json_is_object(f)) {
                cc_error_set(&err, CC_ERR_INCORRECT_FORMAT, "Data", "data must be an object.");
                goto fail;
            }
            in.data = f;
        } else if (!strcmp(key, "contact_id")) {
            if (!json_is_integer(f) || json_integer_value(f) < 1) {
                cc_error_set(&err, CC_ERR_INCORRECT_FORMAT, "ContactId",
                             "contact_id must be a positive whole number.");
                goto fail;
            }
            in.contact_id = json_integer_value(f);
        } else {
            cc_error_set(&err, CC_ERR_UNKNOWN_FIELD, NULL,
                         "Unknown field \"%.64s\": send event_type, channel, language, title, "
                         "body, data and contact_id.",
                         key);
            goto fail;
        }
    }
    p = cc_malloc(sizeof *p);
    if (cc_template_preview(cc_req_service(req), cc_req_caller(req), &in, p, &err))
        goto fail;
    json_t *o = json_object();
    json_object_set_new(o, "event_type", json_string(p->event_type));
    json_object_set_new(o, "channel", json_string(p->channel));
    json_object_set_new(o, "language", json_string(p->language));
    json_object_set_new(o, "custom", json_boolean(p->custom));
    json_object_set_new(o, "unsaved", json_boolean(p->unsaved));
    json_object_set_new(o, "title", json_string(p->r.title));
    json_object_set_new(o, "text", json_string(p->r.text));
    json_object_set_new(o, "markdown", json_string(p->r.markdown));
    json_object_set_new(o, "html", json_string(p->r.html));
    static const struct {
        unsigned bit;
        const char *name;
    } forms[] = {{CC_FMT_TITLE, "title"}, {CC_FMT_TEXT, "text"}, {CC_FMT_MARKDOWN, "markdown"},
                 {CC_FMT_HTML, "html"}};
    json_t *sent = json_array();
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++)
        if (p->formats & forms[i].bit)
            json_array_append_new(sent, json_string(forms[i].name));
    json_object_set_new(o, "sent", sent);
    json_decref(obj);
    cc_free(p);
    cc_req_json(req, 200, o);
    return;
fail:
    json_decref(obj);
    cc_free(p);
    cc_req_error(req, &err);
}
