/*
 * rest_certificates.c — REST v1 certificates:
 *   POST   /v1/certificates                    add one: {"pem", "private_key"?, "contact_ids"?,
 *                                              "name"?, "carry_subscribers"?} or metadata only
 *                                              {"domains", "not_after", "product"?, "name"?, ...}
 *   GET    /v1/certificates                    list (?contact_id=&domain=&state=
 *                                              &expiring_within_days=&keyword=&page=&page_size=)
 *   GET    /v1/certificates/{id}               one, with its PEM and subscribers
 *   PATCH  /v1/certificates/{id}               {"name"?, "contact_ids"?, "reminder_days"?}
 *   DELETE /v1/certificates/{id}
 *   POST   /v1/certificates/{id}/revoke        {"reason"?}: raises certificate.revoked
 *   POST   /v1/certificates/{id}/private-key   the decrypted key (admin, audited)
 * and the certificates a contact's detail lists. Rules live in
 * service/certificates.c; the JSON form is render.c's.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "http/http_int.h"
#include "util/util.h"

static void fail(struct cc_request *req, enum cc_err code, const char *field, const char *msg)
{
    struct cc_error err;
    cc_error_set(&err, code, field, "%s", msg);
    cc_req_error(req, &err);
}

static enum cc_err string_field(json_t *v, const char *name, const char *api, const char **out,
                                size_t *len, struct cc_error *err)
{
    if (!json_is_string(v))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, api, "%s must be a string.", name);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, api, "%s contains a NUL character.",
                            name);
    *out = json_string_value(v);
    if (len)
        *len = json_string_length(v);
    return CC_OK;
}

/* contact_ids: an array of positive whole numbers, at most max of them. */
static enum cc_err ids_field(json_t *v, int64_t *ids, size_t max, size_t *n,
                             struct cc_error *err)
{
    if (!json_is_array(v))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "ContactIds",
                            "contact_ids must be an array of contact ids.");
    if (json_array_size(v) > max)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "ContactIds",
                            "A certificate has at most %zu subscribers.", max);
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

/* reminder_days: null (the account's) or an array of thresholds. */
static enum cc_err read_reminder_days(json_t *f, struct cc_reminder_days_input *rd,
                                      struct cc_error *err)
{
    rd->sent = 1;
    rd->is_null = json_is_null(f);
    if (rd->is_null)
        return CC_OK;
    return cc_json_reminder_days(f, "reminder_days", "ReminderDays", rd->days, &rd->n, err);
}

static enum cc_err read_create(json_t *obj, struct cc_cert_input *in, struct cc_error *err)
{
    const char *key;
    json_t *f;
    enum cc_err rc = CC_OK;
    in->carry_subscribers = 1;
    json_object_foreach(obj, key, f) {
        if (!strcmp(key, "pem")) {
            rc = string_field(f, "pem", "Pem", &in->pem, &in->pem_len, err);
        } else if (!strcmp(key, "private_key")) {
            rc = string_field(f, "private_key", "PrivateKey", &in->private_key,
                              &in->private_key_len, err);
        } else if (!strcmp(key, "name")) {
            rc = json_is_null(f) ? CC_OK : string_field(f, "name", "Name", &in->name, NULL, err);
        } else if (!strcmp(key, "not_after")) {
            rc = string_field(f, "not_after", "NotAfter", &in->not_after, NULL, err);
        } else if (!strcmp(key, "product")) {
            rc = string_field(f, "product", "Product", &in->product, NULL, err);
        } else if (!strcmp(key, "contact_ids")) {
            in->has_contact_ids = 1;
            rc = ids_field(f, in->contact_ids, CC_CERT_SUBSCRIBERS_MAX, &in->n_contact_ids, err);
        } else if (!strcmp(key, "reminder_days")) {
            rc = read_reminder_days(f, &in->reminder_days, err);
        } else if (!strcmp(key, "carry_subscribers")) {
            if (!json_is_boolean(f))
                rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "CarrySubscribers",
                                  "carry_subscribers must be true or false.");
            in->carry_subscribers = json_is_true(f);
        } else if (!strcmp(key, "domains")) {
            if (!json_is_array(f) || json_array_size(f) > CC_CERT_DOMAINS_MAX) {
                rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                                  "domains must be an array of at most %d names.",
                                  CC_CERT_DOMAINS_MAX);
                break;
            }
            size_t i;
            json_t *d;
            json_array_foreach(f, i, d) {
                if ((rc = string_field(d, "domains", "Domains", &in->domains[i], NULL, err)))
                    break;
                in->n_domains = i + 1;
            }
        } else {
            rc = cc_error_set(err, CC_ERR_UNKNOWN_FIELD, NULL,
                              "Unknown field \"%.64s\": send pem, private_key, name, contact_ids, "
                              "carry_subscribers, reminder_days, or domains, not_after and "
                              "product.",
                              key);
        }
        if (rc)
            break;
    }
    return rc;
}

static void send_certificate(struct cc_request *req, int status, struct cc_certificate *c)
{
    json_t *o = cc_render_certificate(c, 1, cc_service_now(cc_req_service(req)));
    int64_t renew_at = 0, failures = 0;
    char reason[512];
    struct cc_error err;
    if (!cc_acme_certificate_renewal(cc_req_service(req), cc_req_caller(req), c->id, &renew_at,
                                     &failures, reason, sizeof reason, &err)) {
        json_t *r = json_pack("{s:o, s:I}", "renews_at",
                              renew_at ? cc_render_time(renew_at) : json_null(), "failures",
                              (json_int_t)failures);
        json_object_set_new(r, "last_failure", reason[0] ? json_string(reason) : json_null());
        json_object_set_new(o, "acme_renewal", r);
    }
    cc_req_json(req, status, o);
}

static void certificates_create(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_error err;
    struct cc_cert_input *in = cc_calloc(1, sizeof *in);
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    if (read_create(obj, in, &err) ||
        cc_certificate_create(cc_req_service(req), cc_req_caller(req), in, c, &err)) {
        cc_req_error(req, &err);
    } else {
        char loc[64];
        snprintf(loc, sizeof loc, "/v1/certificates/%lld", (long long)c->id);
        cc_req_add_header(req, "Location", loc);
        send_certificate(req, 201, c);
    }
    cc_certificate_clear(c);
    cc_free(c);
    cc_free(in);
    json_decref(obj);
}

void cc_h_certificates_create(struct cc_request *req)
{
    cc_req_defer(req, certificates_create);
}

/* An optional whole-number query argument within [min, max]; -1 and an
 * answer sent when it is not one. */
static int query_int(struct cc_request *req, const char *name, const char *field, int64_t min,
                     int64_t max, int64_t def, int64_t *out)
{
    const char *v = cc_req_query(req, name);
    *out = def;
    if (v && cc_parse_i64(v, min, max, out)) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s must be a whole number from %lld to %lld.", name,
                 (long long)min, (long long)max);
        fail(req, CC_ERR_INVALID_PARAMETER, field, msg);
        return -1;
    }
    return 0;
}

void cc_h_certificates_list(struct cc_request *req)
{
    struct cc_cert_filter f;
    memset(&f, 0, sizeof f);
    int64_t days;
    if (query_int(req, "page", "Page", INT64_MIN, INT64_MAX, 1, &f.page) ||
        query_int(req, "page_size", "PageSize", INT64_MIN, INT64_MAX, 20, &f.page_size) ||
        query_int(req, "contact_id", "ContactId", 1, INT64_MAX, 0, &f.contact_id) ||
        query_int(req, "expiring_within_days", "ExpiringWithinDays", 0, 3650, -1, &days))
        return;
    if (days >= 0)
        f.not_after_before = cc_service_now(cc_req_service(req)) + days * 86400000LL + 1;
    const char *state = cc_req_query(req, "state");
    f.state = state ? (int)cc_cert_state_parse(state) : -1;
    if (state && f.state < 0) {
        fail(req, CC_ERR_INVALID_PARAMETER, "State",
             "state must be active, expired, revoked or superseded.");
        return;
    }
    char domain[CC_DOMAIN_MAX + 1];
    const char *d = cc_req_query(req, "domain");
    struct cc_error err;
    if (d && cc_cert_check_domain(d, domain, sizeof domain, &err)) {
        cc_req_error(req, &err);
        return;
    }
    f.domain = d ? domain : NULL;
    f.keyword = cc_req_query(req, "keyword");
    struct cc_certificate *items;
    size_t n;
    int64_t total;
    if (cc_certificate_list(cc_req_service(req), cc_req_caller(req), &f, &items, &n, &total,
                            &err)) {
        cc_req_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    int64_t now = cc_service_now(cc_req_service(req));
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(arr, cc_render_certificate(&items[i], 0, now));
        cc_certificate_clear(&items[i]);
    }
    cc_free(items);
    json_t *o = json_object();
    json_object_set_new(o, "items", arr);
    json_object_set_new(o, "total", json_integer(total));
    json_object_set_new(o, "page", json_integer(f.page));
    json_object_set_new(o, "page_size", json_integer(f.page_size));
    cc_req_json(req, 200, o);
}

void cc_h_certificates_get(struct cc_request *req)
{
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    struct cc_error err;
    if (cc_certificate_get(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), c, &err))
        cc_req_error(req, &err);
    else
        send_certificate(req, 200, c);
    cc_certificate_clear(c);
    cc_free(c);
}

static void certificates_update(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_error err;
    const char *name = NULL, *key;
    int has_ids = 0;
    size_t n = 0;
    struct cc_reminder_days_input rd;
    memset(&rd, 0, sizeof rd);
    int64_t *ids = cc_calloc(CC_CERT_SUBSCRIBERS_MAX, sizeof *ids);
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    json_t *f;
    enum cc_err rc = CC_OK;
    json_object_foreach(obj, key, f) {
        if (!strcmp(key, "name")) {
            rc = json_is_null(f) ? (name = "", CC_OK)
                                 : string_field(f, "name", "Name", &name, NULL, &err);
        } else if (!strcmp(key, "contact_ids")) {
            has_ids = 1;
            rc = ids_field(f, ids, CC_CERT_SUBSCRIBERS_MAX, &n, &err);
        } else if (!strcmp(key, "reminder_days")) {
            rc = read_reminder_days(f, &rd, &err);
        } else {
            rc = cc_error_set(&err, CC_ERR_UNKNOWN_FIELD, NULL,
                              "Unknown field \"%.64s\": a certificate's name, contact_ids and "
                              "reminder_days can change.",
                              key);
        }
        if (rc)
            break;
    }
    if (rc || cc_certificate_update(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req),
                                    name, has_ids, ids, n, &rd, c, &err))
        cc_req_error(req, &err);
    else
        send_certificate(req, 200, c);
    cc_certificate_clear(c);
    cc_free(c);
    cc_free(ids);
    json_decref(obj);
}

void cc_h_certificates_update(struct cc_request *req)
{
    cc_req_defer(req, certificates_update);
}

static void certificates_delete(struct cc_request *req)
{
    struct cc_error err;
    if (cc_certificate_delete(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), &err))
        cc_req_error(req, &err);
    else
        cc_req_empty(req, 204);
}

void cc_h_certificates_delete(struct cc_request *req)
{
    cc_req_defer(req, certificates_delete);
}

static void certificates_revoke(struct cc_request *req)
{
    size_t len = 0;
    const char *reason = NULL;
    json_t *obj = NULL;
    struct cc_error err;
    cc_req_body(req, &len);
    if (len) {
        if (cc_req_json_body(req, &obj))
            return;
        const struct cc_json_field spec[] = {{"reason", "Reason", &reason, 0, 0}};
        if (cc_json_read_strings(obj, spec, 1, &err)) {
            json_decref(obj);
            cc_req_error(req, &err);
            return;
        }
    }
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    if (cc_certificate_revoke(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), reason,
                              c, &err))
        cc_req_error(req, &err);
    else
        send_certificate(req, 200, c);
    cc_certificate_clear(c);
    cc_free(c);
    json_decref(obj);
}

void cc_h_certificates_revoke(struct cc_request *req)
{
    cc_req_defer(req, certificates_revoke);
}

static void certificates_private_key(struct cc_request *req)
{
    char *pem = NULL;
    struct cc_error err;
    if (cc_certificate_private_key(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req),
                                   &pem, &err)) {
        cc_req_error(req, &err);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(cc_req_path_id(req)));
    json_object_set_new(o, "private_key", json_string(pem));
    OPENSSL_cleanse(pem, strlen(pem));
    cc_free(pem);
    cc_req_add_header(req, "Cache-Control", "no-store");
    cc_req_json(req, 200, o);
}

void cc_h_certificates_private_key(struct cc_request *req)
{
    cc_req_defer(req, certificates_private_key);
}

int cc_contact_add_certificates(struct cc_request *req, int64_t contact_id, json_t *contact)
{
    struct cc_cert_filter f;
    memset(&f, 0, sizeof f);
    f.contact_id = contact_id;
    f.state = -1;
    f.page = 1;
    f.page_size = CC_PAGE_SIZE_MAX;
    struct cc_certificate *items;
    size_t n;
    int64_t total;
    struct cc_error err;
    if (cc_certificate_list(cc_req_service(req), cc_req_caller(req), &f, &items, &n, &total,
                            &err))
        return -1; /* the contact is still shown; its certificates are left out */
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *domains = json_loads(items[i].domains ? items[i].domains : "[]", 0, NULL);
        json_array_append_new(arr, json_pack("{s:I, s:o, s:s, s:o}", "id",
                                             (json_int_t)items[i].id, "domains",
                                             domains ? domains : json_array(), "state",
                                             cc_cert_state_name(items[i].state), "not_after",
                                             cc_render_time(items[i].not_after)));
        cc_certificate_clear(&items[i]);
    }
    cc_free(items);
    json_object_set_new(contact, "certificates", arr);
    return 0;
}
