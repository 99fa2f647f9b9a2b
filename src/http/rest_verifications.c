/*
 * rest_verifications.c — REST v1 verification codes:
 *   POST /v1/contacts/{id}/verifications          send a code to a contact
 *   POST /v1/contacts/{id}/verifications/confirm  confirm it
 *   POST /v1/verifications                        send a code before saving
 *   POST /v1/verifications/{id}/confirm           confirm that one
 *   POST /v1/verifications/status                 was an address confirmed lately?
 * Sending waits on an SMTP server or SMS gateway, so those handlers run on
 * the blocking pool (cc_req_defer); the rules live in service/verifications.c.
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

static void send_view(struct cc_request *req, int status, const struct cc_verif_view *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "verification_id", json_integer(v->id));
    json_object_set_new(o, "channel", json_string(v->channel));
    json_object_set_new(o, "target", json_string(v->target));
    json_object_set_new(o, "expires_at", cc_render_time(v->expires_at));
    if (v->resend_after)
        json_object_set_new(o, "resend_after", cc_render_time(v->resend_after));
    if (v->confirmed_at)
        json_object_set_new(o, "confirmed_at", cc_render_time(v->confirmed_at));
    cc_req_json(req, status, o);
}

/* A refused send: a throttled one names the code that can still be typed in,
 * a clash the contact that has the address. */
static void send_error(struct cc_request *req, const struct cc_error *err,
                       const struct cc_verif_view *v)
{
    json_t *extra = NULL;
    if (err->code == CC_ERR_THROTTLED && v->id) {
        extra = json_object();
        json_object_set_new(extra, "verification_id", json_integer(v->id));
        json_object_set_new(extra, "channel", json_string(v->channel));
        json_object_set_new(extra, "target", json_string(v->target));
        json_object_set_new(extra, "expires_at", cc_render_time(v->expires_at));
        json_object_set_new(extra, "resend_after", cc_render_time(v->resend_after));
    } else if (err->code == CC_ERR_ALREADY_EXISTS && v->contact_id) {
        extra = json_pack("{s:I}", "contact_id", (json_int_t)v->contact_id);
    }
    cc_req_error_extra(req, err, extra);
}

/* Takes the optional "contact_id" (a positive integer) out of obj. */
static int take_contact_id(json_t *obj, int64_t *id, struct cc_error *err)
{
    json_t *v = json_object_get(obj, "contact_id");
    *id = 0;
    if (!v || json_is_null(v))
        return json_object_del(obj, "contact_id"), 0;
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "ContactId",
                     "contact_id must be the id of the contact being edited.");
        return -1;
    }
    *id = json_integer_value(v);
    json_object_del(obj, "contact_id");
    return 0;
}

/* Reads the request's JSON object into the given string fields (and, when
 * contact_id is not NULL, the optional "contact_id"). */
static int read_fields_id(struct cc_request *req, json_t **obj, const struct cc_json_field *f,
                          size_t n, int64_t *contact_id)
{
    struct cc_error err;
    if (cc_req_json_body(req, obj))
        return -1;
    if ((contact_id && take_contact_id(*obj, contact_id, &err)) ||
        cc_json_read_strings(*obj, f, n, &err)) {
        json_decref(*obj);
        *obj = NULL;
        cc_req_error(req, &err);
        return -1;
    }
    return 0;
}

static int read_fields(struct cc_request *req, json_t **obj, const struct cc_json_field *f,
                       size_t n)
{
    return read_fields_id(req, obj, f, n, NULL);
}

static void contact_send(struct cc_request *req)
{
    const char *channel;
    const struct cc_json_field f[] = {{"channel", "Channel", &channel, 1, 0}};
    json_t *obj;
    if (read_fields(req, &obj, f, 1))
        return;
    struct cc_verif_view v;
    struct cc_error err;
    if (cc_verify_contact_send(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req),
                               channel, &v, &err))
        send_error(req, &err, &v);
    else
        send_view(req, 201, &v);
    json_decref(obj);
}

void cc_h_contact_verif_send(struct cc_request *req)
{
    cc_req_defer(req, contact_send);
}

void cc_h_contact_verif_confirm(struct cc_request *req)
{
    const char *channel, *code;
    const struct cc_json_field f[] = {{"channel", "Channel", &channel, 1, 0},
                                      {"code", "Code", &code, 1, 0}};
    json_t *obj;
    if (read_fields(req, &obj, f, 2))
        return;
    struct cc_contact *c = cc_malloc(sizeof *c);
    struct cc_error err;
    if (cc_verify_contact_confirm(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req),
                                  channel, code, c, &err))
        cc_req_error(req, &err);
    else
        cc_send_contact(req, 200, c);
    cc_free(c);
    json_decref(obj);
}

static void target_send(struct cc_request *req)
{
    const char *channel, *target, *language;
    const struct cc_json_field f[] = {{"channel", "Channel", &channel, 1, 0},
                                      {"target", "Target", &target, 1, 0},
                                      {"language", "Language", &language, 0, 0}};
    json_t *obj;
    int64_t contact_id;
    if (read_fields_id(req, &obj, f, 3, &contact_id))
        return;
    struct cc_verif_view v;
    struct cc_error err;
    if (cc_verify_target_send(cc_req_service(req), cc_req_caller(req), channel, target, language,
                              contact_id, &v, &err))
        send_error(req, &err, &v);
    else
        send_view(req, 201, &v);
    json_decref(obj);
}

void cc_h_verif_send(struct cc_request *req)
{
    cc_req_defer(req, target_send);
}

void cc_h_verif_confirm(struct cc_request *req)
{
    const char *code;
    const struct cc_json_field f[] = {{"code", "Code", &code, 1, 0}};
    json_t *obj;
    if (read_fields(req, &obj, f, 1))
        return;
    struct cc_verif_view v;
    struct cc_error err;
    if (cc_verify_target_confirm(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), code,
                                 &v, &err))
        cc_req_error(req, &err);
    else
        send_view(req, 200, &v);
    json_decref(obj);
}

void cc_h_verif_status(struct cc_request *req)
{
    const char *channel, *target;
    const struct cc_json_field f[] = {{"channel", "Channel", &channel, 1, 0},
                                      {"target", "Target", &target, 1, 0}};
    json_t *obj;
    if (read_fields(req, &obj, f, 2))
        return;
    struct cc_verif_view v;
    struct cc_error err;
    if (cc_verify_target_status(cc_req_service(req), cc_req_caller(req), channel, target, &v,
                                &err)) {
        cc_req_error(req, &err);
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "channel", json_string(v.channel));
        json_object_set_new(o, "target", json_string(v.target));
        json_object_set_new(o, "verified", json_boolean(v.confirmed_at != 0));
        if (v.confirmed_at)
            json_object_set_new(o, "confirmed_at", cc_render_time(v.confirmed_at));
        cc_req_json(req, 200, o);
    }
    json_decref(obj);
}
