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

/* Ready when the database answers and no part of the process says it is
 * failing; otherwise 503 with what fails and why. */
void cc_h_readyz(struct cc_request *req)
{
    struct cc_error err;
    struct cc_service *svc = cc_req_service(req);
    int64_t t0 = cc_mono_us();
    if (cc_service_ping(svc, &err)) {
        char why[sizeof err.message];
        cc_strlcpy(why, err.message, sizeof why);
        cc_error_set(&err, CC_ERR_UNAVAILABLE, NULL, "The database does not answer: %s", why);
        cc_req_error(req, &err);
        return;
    }
    double ping_ms = (double)(cc_mono_us() - t0) / 1000.0;
    struct cc_health_entry e[CC_HEALTH_COMPONENTS_MAX];
    size_t n = cc_health_get(e, CC_HEALTH_COMPONENTS_MAX);
    json_t *failing = json_array();
    char first[320] = "";
    for (size_t i = 0; i < n; i++) {
        if (e[i].ok)
            continue;
        json_array_append_new(failing, json_pack("{s:s,s:s,s:I}", "component", e[i].component,
                                                 "reason", e[i].reason, "since_ms",
                                                 (json_int_t)e[i].since_ms));
        if (!first[0])
            snprintf(first, sizeof first, "%.31s: %.255s", e[i].component, e[i].reason);
    }
    if (json_array_size(failing)) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:o}", "code", "ServiceUnavailable", "message",
                              first, "status", "not ready", "failing", failing);
        json_object_set_new(o, "request_id", json_string(cc_req_id(req)));
        cc_req_json(req, 503, o);
        return;
    }
    json_decref(failing);
    cc_req_json(req, 200, json_pack("{s:s,s:{s:s,s:b,s:f}}", "status", "ready", "database",
                                    "backend", cc_service_db_backend(svc), "ok", 1, "ping_ms",
                                    ping_ms));
}

/* The Prometheus text format: what the process knows about its parts. */
void cc_h_metrics(struct cc_request *req)
{
    struct cc_health_entry e[CC_HEALTH_COMPONENTS_MAX];
    size_t n = cc_health_get(e, CC_HEALTH_COMPONENTS_MAX);
    struct cc_buf b;
    cc_buf_init(&b, 64 * 1024);
    cc_buf_puts(&b, "# HELP certcontacts_component_up Whether a part of the process works (1) "
                    "or is failing (0).\n# TYPE certcontacts_component_up gauge\n");
    for (size_t i = 0; i < n; i++)
        cc_buf_printf(&b, "certcontacts_component_up{component=\"%s\"} %d\n", e[i].component,
                      e[i].ok);
    cc_buf_puts(&b, "# HELP certcontacts_component_state_changes_total Changes between working "
                    "and failing since start.\n# TYPE certcontacts_component_state_changes_total "
                    "counter\n");
    for (size_t i = 0; i < n; i++)
        cc_buf_printf(&b, "certcontacts_component_state_changes_total{component=\"%s\"} %lld\n",
                      e[i].component, (long long)e[i].changes);
    size_t open = 0;
    int64_t shut = 0;
    cc_req_conn_stats(req, &open, &shut);
    cc_buf_printf(&b, "# HELP certcontacts_http_connections Open HTTP connections.\n"
                      "# TYPE certcontacts_http_connections gauge\n"
                      "certcontacts_http_connections %zu\n", open);
    cc_buf_printf(&b, "# HELP certcontacts_http_connections_timed_out_total Connections closed "
                      "because a request's headers, or the next request, did not arrive in "
                      "time.\n# TYPE certcontacts_http_connections_timed_out_total counter\n"
                      "certcontacts_http_connections_timed_out_total %lld\n", (long long)shut);
    cc_http_metrics_render(&b);
    cc_metrics_render(&b);
    cc_service_metrics_render(cc_req_service(req), &b);
    cc_req_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data ? b.data : "",
                b.len);
    cc_buf_free(&b);
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
