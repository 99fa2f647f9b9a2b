/*
 * rest_endpoints.c — REST v1 watched endpoints:
 *   POST   /v1/endpoints               {"host", "port"?, "sni"?, "contact_ids"?}
 *   GET    /v1/endpoints               list (?page=&page_size=)
 *   GET    /v1/endpoints/{id}          one, with its last check
 *   PATCH  /v1/endpoints/{id}          {"contact_ids"}
 *   DELETE /v1/endpoints/{id}
 *   POST   /v1/endpoints/{id}/check    check it now; the endpoint with the result
 * Rules and checks live in service/endpoints.c.
 */
#include <stdio.h>
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

/* contact_ids: an array of positive whole numbers, at most max of them. */
static enum cc_err ids_field(json_t *v, int64_t *ids, size_t max, size_t *n,
                             struct cc_error *err)
{
    if (!json_is_array(v))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "ContactIds",
                            "contact_ids must be an array of contact ids.");
    if (json_array_size(v) > max)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "ContactIds",
                            "An endpoint tells at most %zu contacts.", max);
    size_t i;
    json_t *x;
    *n = 0;
    json_array_foreach(v, i, x) {
        if (!json_is_integer(x) || json_integer_value(x) < 1)
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "ContactIds",
                                "contact_ids must hold positive whole numbers.");
        ids[(*n)++] = json_integer_value(x);
    }
    return CC_OK;
}

static enum cc_err text_field(json_t *v, const char *name, const char *api, const char **out,
                              struct cc_error *err)
{
    if (json_is_null(v)) {
        *out = NULL;
        return CC_OK;
    }
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
        json_string_length(v) > CC_DOMAIN_MAX)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, api,
                            "%s must be a string of at most %d characters.", name,
                            CC_DOMAIN_MAX);
    *out = json_string_value(v);
    return CC_OK;
}

static enum cc_err read_create(json_t *obj, struct cc_endpoint_input *in, struct cc_error *err)
{
    const char *key;
    json_t *f;
    enum cc_err rc = CC_OK;
    json_object_foreach(obj, key, f) {
        if (!strcmp(key, "host")) {
            rc = text_field(f, "host", "Host", &in->host, err);
        } else if (!strcmp(key, "sni")) {
            rc = text_field(f, "sni", "Sni", &in->sni, err);
        } else if (!strcmp(key, "port")) {
            if (!json_is_integer(f) || json_integer_value(f) < 1 ||
                json_integer_value(f) > 65535)
                rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Port",
                                  "port must be a whole number from 1 to 65535.");
            else
                in->port = json_integer_value(f);
        } else if (!strcmp(key, "contact_ids")) {
            rc = ids_field(f, in->contact_ids, CC_ENDPOINT_CONTACTS_MAX, &in->n_contact_ids, err);
        } else {
            rc = cc_error_set(err, CC_ERR_UNKNOWN_FIELD, NULL,
                              "Unknown field \"%.64s\": send host, port, sni and contact_ids.",
                              key);
        }
        if (rc)
            break;
    }
    if (!rc && !in->host)
        rc = cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Host",
                          "host is required: the name or address of the TLS server to watch.");
    return rc;
}

static json_t *render_check(const struct cc_endpoint_check *k)
{
    if (!k->checked_at)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "checked_at", cc_render_time(k->checked_at));
    json_object_set_new(o, "handshake_ok", json_boolean(k->handshake_ok));
    json_object_set_new(o, "error", k->error[0] ? json_string(k->error) : json_null());
    json_object_set_new(o, "tls_version",
                        k->tls_version[0] ? json_string(k->tls_version) : json_null());
    json_object_set_new(o, "fingerprint",
                        k->fingerprint[0] ? json_string(k->fingerprint) : json_null());
    json_t *names = json_loads(k->names ? k->names : "[]", 0, NULL);
    json_object_set_new(o, "names", names ? names : json_array());
    json_object_set_new(o, "issuer", k->issuer[0] ? json_string(k->issuer) : json_null());
    json_object_set_new(o, "not_after", cc_render_time(k->not_after));
    json_object_set_new(o, "chain_verified", json_boolean(k->chain_verified));
    json_object_set_new(o, "chain_complete", json_boolean(k->chain_complete));
    json_object_set_new(o, "names_match", json_boolean(k->names_match));
    json_object_set_new(o, "certificate_id",
                        k->certificate_id ? json_integer(k->certificate_id) : json_null());
    json_object_set_new(o, "newer_certificate_id", k->newer_certificate_id
                                                       ? json_integer(k->newer_certificate_id)
                                                       : json_null());
    return o;
}

static json_t *render_endpoint(const struct cc_endpoint *e)
{
    json_t *ids = json_array();
    for (size_t i = 0; i < e->n_contacts; i++)
        json_array_append_new(ids, json_integer(e->contacts[i]));
    json_t *alerts = json_array();
    if (e->alerts & CC_ENDPOINT_ALERT_ERROR)
        json_array_append_new(alerts, json_string("error"));
    if (e->alerts & CC_ENDPOINT_ALERT_OUTDATED)
        json_array_append_new(alerts, json_string("outdated"));
    if (e->alerts & CC_ENDPOINT_ALERT_EXPIRING)
        json_array_append_new(alerts, json_string("expiring"));
    json_t *o = json_pack("{s:I, s:s, s:i, s:o, s:o, s:s, s:o}", "id", (json_int_t)e->id,
                          "host", e->host, "port", e->port, "sni",
                          e->sni[0] ? json_string(e->sni) : json_null(), "contact_ids", ids,
                          "state", cc_endpoint_state(e), "alerts", alerts);
    json_object_set_new(o, "last_check", render_check(&e->last));
    json_object_set_new(o, "next_check_at", cc_render_time(e->next_check_at));
    json_object_set_new(o, "created_at", cc_render_time(e->created_at));
    json_object_set_new(o, "updated_at", cc_render_time(e->updated_at));
    return o;
}

/* Answers with e (status) or err, then frees e. */
static void answer(struct cc_request *req, enum cc_err rc, int status, struct cc_endpoint *e,
                   const struct cc_error *err)
{
    if (rc)
        cc_req_error(req, err);
    else
        cc_req_json(req, status, render_endpoint(e));
    cc_endpoint_clear(e);
    cc_free(e);
}

static void endpoints_create(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_error err;
    struct cc_endpoint_input *in = cc_calloc(1, sizeof *in);
    struct cc_endpoint *e = cc_calloc(1, sizeof *e);
    enum cc_err rc = read_create(obj, in, &err);
    if (!rc)
        rc = cc_endpoint_create(cc_req_service(req), cc_req_caller(req), in, e, &err);
    if (!rc) {
        char loc[64];
        snprintf(loc, sizeof loc, "/v1/endpoints/%lld", (long long)e->id);
        cc_req_add_header(req, "Location", loc);
    }
    answer(req, rc, 201, e, &err);
    cc_free(in);
    json_decref(obj);
}

void cc_h_endpoints_create(struct cc_request *req)
{
    cc_req_defer(req, endpoints_create);
}

void cc_h_endpoints_list(struct cc_request *req)
{
    int64_t page = 1, page_size = 20;
    const char *p = cc_req_query(req, "page"), *ps = cc_req_query(req, "page_size");
    struct cc_error err;
    const char *bad = p && cc_parse_i64(p, INT64_MIN, INT64_MAX, &page)          ? "Page"
                      : ps && cc_parse_i64(ps, INT64_MIN, INT64_MAX, &page_size) ? "PageSize"
                                                                                 : NULL;
    if (bad) {
        cc_error_set(&err, CC_ERR_INVALID_PARAMETER, bad,
                     "page and page_size must be whole numbers.");
        cc_req_error(req, &err);
        return;
    }
    struct cc_endpoint *items;
    size_t n;
    int64_t total;
    if (cc_endpoint_list(cc_req_service(req), cc_req_caller(req), page, page_size, &items, &n,
                         &total, &err)) {
        cc_req_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, render_endpoint(&items[i]));
        cc_endpoint_clear(&items[i]);
    }
    cc_free(items);
    json_t *o = json_object();
    json_object_set_new(o, "items", arr);
    json_object_set_new(o, "total", json_integer(total));
    json_object_set_new(o, "page", json_integer(page));
    json_object_set_new(o, "page_size", json_integer(page_size));
    cc_req_json(req, 200, o);
}

void cc_h_endpoints_get(struct cc_request *req)
{
    struct cc_endpoint *e = cc_calloc(1, sizeof *e);
    struct cc_error err;
    enum cc_err rc = cc_endpoint_get(cc_req_service(req), cc_req_caller(req),
                                     cc_req_path_id(req), e, &err);
    answer(req, rc, 200, e, &err);
}

static void endpoints_update(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_error err;
    int64_t ids[CC_ENDPOINT_CONTACTS_MAX];
    size_t n = 0;
    int has = 0;
    const char *key;
    json_t *f;
    enum cc_err rc = CC_OK;
    json_object_foreach(obj, key, f) {
        if (!strcmp(key, "contact_ids")) {
            has = 1;
            rc = ids_field(f, ids, CC_ENDPOINT_CONTACTS_MAX, &n, &err);
        } else {
            rc = cc_error_set(&err, CC_ERR_UNKNOWN_FIELD, NULL,
                              "Unknown field \"%.64s\": an endpoint's contact_ids can change; "
                              "to watch another host, port or sni, add that endpoint.",
                              key);
        }
        if (rc)
            break;
    }
    if (!rc && !has)
        rc = cc_error_set(&err, CC_ERR_MISSING_PARAMETER, "ContactIds",
                          "Send contact_ids: the contacts told of this endpoint's alerts.");
    struct cc_endpoint *e = cc_calloc(1, sizeof *e);
    if (!rc)
        rc = cc_endpoint_update(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), ids,
                                n, e, &err);
    answer(req, rc, 200, e, &err);
    json_decref(obj);
}

void cc_h_endpoints_update(struct cc_request *req)
{
    cc_req_defer(req, endpoints_update);
}

static void endpoints_delete(struct cc_request *req)
{
    struct cc_error err;
    if (cc_endpoint_delete(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), &err))
        cc_req_error(req, &err);
    else
        cc_req_empty(req, 204);
}

void cc_h_endpoints_delete(struct cc_request *req)
{
    cc_req_defer(req, endpoints_delete);
}

static void endpoints_check(struct cc_request *req)
{
    struct cc_endpoint *e = cc_calloc(1, sizeof *e);
    struct cc_error err;
    enum cc_err rc = cc_endpoint_check_now(cc_req_service(req), cc_req_caller(req),
                                           cc_req_path_id(req), e, &err);
    answer(req, rc, 200, e, &err);
}

void cc_h_endpoints_check(struct cc_request *req)
{
    cc_req_defer(req, endpoints_check);
}
