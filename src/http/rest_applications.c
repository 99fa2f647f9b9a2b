/*
 * rest_applications.c — REST v1 certificate products and applications:
 *   GET  /v1/products                          the products one can apply for
 *   POST /v1/applications                      submit (contact_id or an inline contact;
 *                                              Idempotency-Key as for contacts)
 *   GET  /v1/applications                      list: state, contact_id, domain, product, paging
 *   GET  /v1/applications/{id}                 one application with its history
 *   POST /v1/applications/{id}/transitions     move it to another state
 *   GET  /v1/applications/eligibility          may this contact be named for this product?
 * The rules live in service/applications.c; this file only translates.
 */
#include <stdio.h>
#include <string.h>

#include "core/products.h"
#include "http/http_int.h"
#include "util/util.h"

void cc_h_products_list(struct cc_request *req)
{
    size_t n;
    const struct cc_product *p = cc_products(&n);
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            items, json_pack("{s:s, s:s, s:s, s:s, s:i, s:s, s:b, s:b}", "code", p[i].code,
                             "brand", p[i].brand, "validation",
                             cc_validation_name(p[i].validation), "coverage",
                             cc_coverage_name(p[i].coverage), "max_domains", p[i].max_domains,
                             "name", p[i].name, "id_card_required",
                             cc_product_needs_id_card(&p[i]), "acme", p[i].acme));
    cc_req_json(req, 200, json_pack("{s:o, s:I}", "items", items, "total", (json_int_t)n));
}

static json_t *render_application(struct cc_request *req, const struct cc_application *a)
{
    const struct cc_product *p = cc_product_find(a->product);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(a->id));
    json_object_set_new(o, "product", json_string(a->product));
    if (p) {
        json_object_set_new(o, "brand", json_string(p->brand));
        json_object_set_new(o, "validation", json_string(cc_validation_name(p->validation)));
    }
    json_object_set_new(o, "state", json_string(cc_app_state_name(a->state)));
    json_object_set_new(o, "contact_id", json_integer(a->contact_id));
    json_t *d = a->domains ? json_loads(a->domains, 0, NULL) : NULL;
    json_object_set_new(o, "domains", d ? d : json_array());
    json_object_set_new(o, "csr", a->csr ? json_string(a->csr) : json_null());
    json_object_set_new(o, "certificate_pem",
                        a->certificate_pem ? json_string(a->certificate_pem) : json_null());
    json_object_set_new(o, "validate_type",
                        a->validate_type[0] ? json_string(a->validate_type) : json_null());
    json_t *allowed = json_array();
    int by_itself = cc_application_moves_by_itself(cc_req_service(req), a->product);
    json_object_set_new(o, "fulfilment", json_string(by_itself ? "acme" : "manual"));
    for (int s = 0; s < CC_APP_STATE_COUNT; s++)
        if (cc_app_transition_allowed(a->state, (enum cc_app_state)s) &&
            (!by_itself || s == CC_APP_CANCELLED))
            json_array_append_new(allowed, json_string(cc_app_state_name((enum cc_app_state)s)));
    json_object_set_new(o, "allowed_transitions", allowed);
    json_object_set_new(o, "version", json_integer(a->version));
    json_object_set_new(o, "created_at", cc_render_time(a->created_at));
    json_object_set_new(o, "updated_at", cc_render_time(a->updated_at));
    return o;
}

static json_t *render_history(const struct cc_app_transition *t, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:o, s:s, s:o, s:s, s:o}", "at", cc_render_time(t[i].at), "actor",
                           t[i].actor, "from", t[i].from_state[0] ? json_string(t[i].from_state)
                                                                  : json_null(),
                           "to", t[i].to_state, "reason",
                           t[i].reason[0] ? json_string(t[i].reason) : json_null()));
    return arr;
}

/* Sends application id with its history (status: 200, or 201 with Location). */
static void send_application(struct cc_request *req, int status, int64_t id)
{
    struct cc_application a;
    struct cc_app_transition *h = NULL;
    size_t n = 0;
    struct cc_error err;
    if (cc_application_get(cc_req_service(req), cc_req_caller(req), id, &a, &h, &n, &err)) {
        cc_req_error(req, &err);
        return;
    }
    json_t *o = render_application(req, &a);
    json_object_set_new(o, "history", render_history(h, n));
    json_t *acme = cc_acme_render(req, id);
    if (acme)
        json_object_set_new(o, "acme", acme);
    cc_application_clear(&a);
    cc_free(h);
    if (status == 201) {
        char loc[64];
        snprintf(loc, sizeof loc, "/v1/applications/%lld", (long long)id);
        cc_req_add_header(req, "Location", loc);
    }
    cc_req_json(req, status, o);
}

/* Reads a create's body into *in; strings are borrowed from obj, names
 * (room for CC_APP_DOMAINS_MAX) and contact are the caller's. */
static enum cc_err read_create(json_t *obj, struct cc_application_input *in, const char **names,
                               struct cc_contact_input *contact, struct cc_error *err)
{
    memset(in, 0, sizeof *in);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        if (!strcmp(key, "product") || !strcmp(key, "csr")) {
            if (json_is_null(v))
                continue;
            if (!json_is_string(v))
                return cc_error_set(err, CC_ERR_INCORRECT_FORMAT,
                                    key[0] == 'p' ? "Product" : "Csr", "%s must be a string.", key);
            *(key[0] == 'p' ? &in->product : &in->csr) = json_string_value(v);
        } else if (!strcmp(key, "domains")) {
            if (!json_is_array(v))
                return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                                    "domains must be an array of domain names.");
            if (json_array_size(v) > CC_APP_DOMAINS_MAX)
                return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "Domains",
                                    "An application names at most %d domains.",
                                    CC_APP_DOMAINS_MAX);
            size_t i;
            json_t *d;
            json_array_foreach(v, i, d) {
                if (!json_is_string(d))
                    return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                                        "domains must hold strings.");
                names[i] = json_string_value(d);
            }
            in->has_domains = 1;
            in->domains = names;
            in->n_domains = json_array_size(v);
        } else if (!strcmp(key, "contact_id")) {
            if (!json_is_integer(v) || json_integer_value(v) < 1)
                return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "ContactId",
                                    "contact_id must be a contact's id.");
            in->contact_id = json_integer_value(v);
        } else if (!strcmp(key, "contact")) {
            if (!json_is_object(v))
                return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Contact",
                                    "contact must be an object with the fields of a new contact.");
            enum cc_err rc = cc_json_contact_input(v, contact, err);
            if (rc)
                return rc;
            in->contact = contact;
        } else {
            return cc_error_set(err, CC_ERR_UNKNOWN_FIELD, NULL,
                                "Unknown field \"%.64s\": an application has product, domains, "
                                "csr, and contact_id or contact.", key);
        }
    }
    return CC_OK;
}

static void applications_create(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_application_input in;
    const char **names = cc_calloc(CC_APP_DOMAINS_MAX, sizeof *names);
    struct cc_contact_input *contact = cc_malloc(sizeof *contact);
    struct cc_application a;
    struct cc_error err;
    struct cc_idem idem;
    int replayed = 0;
    /* The same request is the same JSON, whatever its spacing or key order. */
    if (cc_idem_parse(cc_req_header(req, "Idempotency-Key"), "", &idem, &err) ||
        (idem.key && cc_json_body_hash(obj, idem.hash, &err)) ||
        read_create(obj, &in, names, contact, &err) ||
        cc_application_create(cc_req_service(req), cc_req_caller(req), &in, idem.key, idem.hash,
                              &a, NULL, &replayed, &err)) {
        cc_req_error(req, &err);
    } else {
        if (replayed)
            cc_req_add_header(req, "Idempotent-Replayed", "true");
        send_application(req, 201, a.id);
        cc_application_clear(&a);
    }
    cc_free(contact);
    cc_free(names);
    json_decref(obj);
}

void cc_h_applications_create(struct cc_request *req)
{
    cc_req_defer(req, applications_create);
}

/* An optional integer query argument. */
static int query_int(struct cc_request *req, const char *name, const char *field, int64_t def,
                     int64_t *out)
{
    const char *v = cc_req_query(req, name);
    *out = def;
    if (v && cc_parse_i64(v, INT64_MIN, INT64_MAX, out)) {
        struct cc_error e;
        cc_error_set(&e, CC_ERR_INVALID_PARAMETER, field, "%s must be a whole number.", name);
        cc_req_error(req, &e);
        return -1;
    }
    return 0;
}

void cc_h_applications_list(struct cc_request *req)
{
    struct cc_app_filter f = {cc_req_query(req, "state"), cc_req_query(req, "domain"),
                              cc_req_query(req, "product"), 0, 1, 20};
    if (query_int(req, "contact_id", "ContactId", 0, &f.contact_id) ||
        query_int(req, "page", "Page", 1, &f.page) ||
        query_int(req, "page_size", "PageSize", 20, &f.page_size))
        return;
    struct cc_application *items = NULL;
    size_t n = 0;
    int64_t total = 0;
    struct cc_error err;
    if (cc_application_list(cc_req_service(req), cc_req_caller(req), &f, &items, &n, &total,
                            &err)) {
        cc_req_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, render_application(req, &items[i]));
    cc_application_list_free(items, n);
    cc_req_json(req, 200, json_pack("{s:o, s:I, s:I, s:I}", "items", arr, "total",
                                    (json_int_t)total, "page", (json_int_t)f.page, "page_size",
                                    (json_int_t)f.page_size));
}

void cc_h_applications_get(struct cc_request *req)
{
    send_application(req, 200, cc_req_path_id(req));
}

static void applications_transition(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    const char *to = NULL, *reason = NULL, *pem = NULL;
    const struct cc_json_field spec[] = {
        {"to", "To", &to, 1, 0},
        {"reason", "Reason", &reason, 0, 0},
        {"certificate_pem", "CertificatePem", &pem, 0, CC_CERT_PEM_MAX},
    };
    struct cc_application a;
    struct cc_error err;
    int64_t id = cc_req_path_id(req);
    if (cc_json_read_strings(obj, spec, sizeof spec / sizeof spec[0], &err) ||
        cc_application_transition(cc_req_service(req), cc_req_caller(req), id, to, reason, pem,
                                  &a, &err)) {
        cc_req_error(req, &err);
    } else {
        cc_application_clear(&a);
        send_application(req, 200, id);
    }
    json_decref(obj);
}

void cc_h_applications_transition(struct cc_request *req)
{
    cc_req_defer(req, applications_transition);
}

/* 200 either way: {"eligible": true, "problems": []}, or false with the
 * message and problems a submission would answer, so a form can show them
 * beside the contact before anything is sent. */
void cc_h_applications_eligibility(struct cc_request *req)
{
    int64_t contact_id;
    if (query_int(req, "contact_id", "ContactId", 0, &contact_id))
        return;
    struct cc_error err;
    cc_error_clear(&err);
    enum cc_err rc = cc_application_eligibility(cc_req_service(req), cc_req_caller(req),
                                                cc_req_query(req, "product"), contact_id, &err);
    if (rc && rc != CC_ERR_CONTACT_INELIGIBLE) {
        cc_req_error(req, &err);
        return;
    }
    if (!rc)
        err.n_problems = 0;
    json_t *o = json_pack("{s:b, s:o}", "eligible", !rc, "problems",
                          cc_render_problems(&err, cc_req_lang(req)));
    if (rc)
        json_object_set_new(o, "message", json_string(cc_error_message(&err, cc_req_lang(req))));
    cc_req_json(req, 200, o);
}
