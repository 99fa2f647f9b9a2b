/*
 * ops.c — the operational endpoints: liveness, readiness and the OpenAPI
 * document compiled into the binary.
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

void cc_h_healthz(struct cc_request *req)
{
    cc_req_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

void cc_h_readyz(struct cc_request *req)
{
    struct cc_error err;
    if (cc_service_ping(cc_req_service(req), &err)) {
        cc_error_set(&err, CC_ERR_UNAVAILABLE, NULL, "The database does not answer.");
        cc_req_error(req, &err);
        return;
    }
    cc_req_json(req, 200, json_pack("{s:s}", "status", "ready"));
}

void cc_h_openapi(struct cc_request *req)
{
    const struct cc_embedded_file *f = cc_embedded_find("src/http/openapi.json");
    json_error_t jerr;
    json_t *doc = f ? json_loadb((const char *)f->data, f->size, 0, &jerr) : NULL;
    if (!doc) {
        struct cc_error err;
        cc_error_set(&err, CC_ERR_INTERNAL, NULL, "the OpenAPI document is missing or broken");
        cc_req_error(req, &err);
        return;
    }
    cc_routes_annotate_openapi(doc);
    cc_req_json(req, 200, doc);
}
