/*
 * rest_acme.c — what the HTTP side of ACME issuance answers:
 *   GET /.well-known/acme-challenge/{token}   the HTTP-01 key authorization
 *                                             (public: the CA asks unsigned)
 * and the "acme" member of GET /v1/applications/{id} (cc_acme_render).
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

void cc_h_acme_challenge(struct cc_request *req)
{
    char ka[CC_ACME_TOKEN_MAX + 64];
    struct cc_error err;
    if (cc_acme_http01(cc_req_service(req), cc_req_path_arg(req, 0), ka, sizeof ka, &err)) {
        cc_req_error(req, &err);
        return;
    }
    cc_req_text(req, 200, "application/octet-stream", ka, strlen(ka));
}

json_t *cc_acme_render(struct cc_request *req, int64_t application_id)
{
    char status[24], last_error[512];
    struct cc_acme_validation *v = NULL;
    size_t n = 0;
    struct cc_error err;
    if (cc_acme_application_status(cc_req_service(req), cc_req_caller(req), application_id,
                                   status, sizeof status, last_error, sizeof last_error, &v, &n,
                                   &err))
        return NULL;
    json_t *vals = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "domain", v[i].identifier, "type", v[i].type,
                              "status", v[i].status);
        if (v[i].http_uri[0]) {
            json_object_set_new(o, "http_uri", json_string(v[i].http_uri));
            json_object_set_new(o, "http_content", json_string(v[i].http_content));
        }
        if (v[i].dns_name[0]) {
            json_object_set_new(o, "dns_name", json_string(v[i].dns_name));
            json_object_set_new(o, "dns_value", json_string(v[i].dns_value));
        }
        json_array_append_new(vals, o);
    }
    cc_free(v);
    json_t *o = json_pack("{s:s, s:o}", "order_status", status, "validation", vals);
    json_object_set_new(o, "last_error",
                        last_error[0] ? cc_render_text(cc_req_lang(req), last_error) : json_null());
    return o;
}
