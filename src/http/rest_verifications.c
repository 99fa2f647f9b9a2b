/*
 * rest_verifications.c — REST v1 verification codes:
 *   POST /v1/contacts/{id}/verifications          send a code to a contact
 *   POST /v1/contacts/{id}/verifications/confirm  confirm it
 *   POST /v1/verifications                        send a code before saving
 *   POST /v1/verifications/{id}/confirm           confirm that one
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

/* Reads the request's JSON object into the given string fields. */
static int read_fields(struct cc_request *req, json_t **obj, const struct cc_json_field *f,
                       size_t n)
{
    struct cc_error err;
    if (cc_req_json_body(req, obj))
        return -1;
    if (cc_json_read_strings(*obj, f, n, &err)) {
        json_decref(*obj);
        *obj = NULL;
        cc_req_error(req, &err);
        return -1;
    }
    return 0;
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
        cc_req_error(req, &err);
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
    if (read_fields(req, &obj, f, 3))
        return;
    struct cc_verif_view v;
    struct cc_error err;
    if (cc_verify_target_send(cc_req_service(req), cc_req_caller(req), channel, target, language,
                              &v, &err))
        cc_req_error(req, &err);
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
