/*
 * rest_contacts.c — REST v1 contacts: /v1/contacts and /v1/contacts/{id}.
 * Each handler turns the HTTP request into a service call and the result
 * into JSON; the rules themselves live in service/contacts.c.
 */
#include <stdio.h>
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

static int fail(struct cc_request *req, enum cc_err code, const char *field, const char *msg)
{
    struct cc_error e;
    cc_error_set(&e, code, field, "%s", msg);
    cc_req_error(req, &e);
    return -1;
}

/* Parses the JSON body of a create or update into *obj and *in. */
static int read_body(struct cc_request *req, json_t **obj, struct cc_contact_input *in)
{
    struct cc_error err;
    if (cc_req_json_body(req, obj))
        return -1;
    if (cc_json_contact_input(*obj, in, &err)) {
        json_decref(*obj);
        *obj = NULL;
        cc_req_error(req, &err);
        return -1;
    }
    return 0;
}

static void set_etag(struct cc_request *req, int64_t version)
{
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", (long long)version);
    cc_req_add_header(req, "ETag", etag);
}

void cc_send_contact(struct cc_request *req, int status, struct cc_contact *c)
{
    set_etag(req, c->version);
    json_t *o = cc_render_contact(c);
    cc_contact_add_certificates(req, c->id, o);
    cc_req_json(req, status, o);
}

/* Writes wait for their group commit (an fsync): they run on the blocking
 * pool, so that many of them can wait together — the more writes wait, the
 * more share one commit — while the HTTP workers keep answering reads. */
static void contacts_create(struct cc_request *req)
{
    json_t *obj = NULL;
    struct cc_contact_input in;
    if (read_body(req, &obj, &in))
        return;
    struct cc_idem idem;
    struct cc_error err;
    if (cc_idem_parse(cc_req_header(req, "Idempotency-Key"), "", &idem, &err)) {
        json_decref(obj);
        cc_req_error(req, &err);
        return;
    }
    /* The same request is the same JSON, whatever its spacing or key order. */
    if (idem.key && cc_json_body_hash(obj, idem.hash, &err)) {
        json_decref(obj);
        cc_req_error(req, &err);
        return;
    }
    struct cc_contact *c = cc_malloc(sizeof *c);
    int replayed = 0;
    if (cc_contact_create(cc_req_service(req), cc_req_caller(req), &in, idem.key, idem.hash, c,
                          &replayed, &err)) {
        cc_req_error(req, &err);
    } else {
        char loc[64];
        snprintf(loc, sizeof loc, "/v1/contacts/%lld", (long long)c->id);
        cc_req_add_header(req, "Location", loc);
        if (replayed)
            cc_req_add_header(req, "Idempotent-Replayed", "true");
        cc_send_contact(req, 201, c);
    }
    cc_free(c);
    json_decref(obj);
}

/* An optional positive integer query argument. */
static int query_int(struct cc_request *req, const char *name, const char *field, int64_t def,
                     int64_t *out)
{
    const char *v = cc_req_query(req, name);
    *out = def;
    if (!v)
        return 0;
    if (cc_parse_i64(v, INT64_MIN, INT64_MAX, out)) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be a whole number.", name);
        return fail(req, CC_ERR_INVALID_PARAMETER, field, msg);
    }
    return 0;
}

void cc_h_contacts_list(struct cc_request *req)
{
    int64_t page, page_size;
    if (query_int(req, "page", "Page", 1, &page) ||
        query_int(req, "page_size", "PageSize", 20, &page_size))
        return;
    struct cc_contact_page p;
    struct cc_error err;
    if (cc_contact_list(cc_req_service(req), cc_req_caller(req), cc_req_query(req, "keyword"),
                        page, page_size, &p, &err)) {
        cc_req_error(req, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < p.n; i++)
        json_array_append_new(items, cc_render_contact(&p.items[i]));
    json_t *o = json_object();
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "total", json_integer(p.total));
    json_object_set_new(o, "page", json_integer(page));
    json_object_set_new(o, "page_size", json_integer(page_size));
    cc_contact_page_free(&p);
    cc_req_json(req, 200, o);
}

void cc_h_contacts_get(struct cc_request *req)
{
    struct cc_contact *c = cc_malloc(sizeof *c);
    struct cc_error err;
    if (cc_contact_get(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), c, &err))
        cc_req_error(req, &err);
    else
        cc_send_contact(req, 200, c);
    cc_free(c);
}

/* If-Match: "7" or 7 → 7; absent → -1; anything else (a weak W/"7" too:
 * If-Match compares strongly) → error. */
static int if_match(struct cc_request *req, int64_t *out)
{
    const char *h = cc_req_header(req, "If-Match");
    *out = -1;
    if (!h)
        return 0;
    size_t n = strlen(h);
    if (n >= 2 && h[0] == '"' && h[n - 1] == '"')
        h++, n -= 2;
    if (cc_parse_i64n(h, n, 1, INT64_MAX, out))
        return fail(req, CC_ERR_INVALID_PARAMETER, "IfMatch",
                    "If-Match must be the contact's version, as in its ETag.");
    return 0;
}

static void contacts_update(struct cc_request *req)
{
    int64_t version;
    if (if_match(req, &version))
        return;
    json_t *obj = NULL;
    struct cc_contact_input in;
    if (read_body(req, &obj, &in))
        return;
    struct cc_contact *c = cc_malloc(sizeof *c);
    struct cc_error err;
    if (cc_contact_update(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), &in,
                          version, c, &err))
        cc_req_error(req, &err);
    else
        cc_send_contact(req, 200, c);
    cc_free(c);
    json_decref(obj);
}

static void contacts_delete(struct cc_request *req)
{
    struct cc_error err;
    if (cc_contact_delete(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), &err))
        cc_req_error(req, &err);
    else
        cc_req_empty(req, 204);
}

void cc_h_contacts_create(struct cc_request *req)
{
    cc_req_defer(req, contacts_create);
}

void cc_h_contacts_update(struct cc_request *req)
{
    cc_req_defer(req, contacts_update);
}

void cc_h_contacts_delete(struct cc_request *req)
{
    cc_req_defer(req, contacts_delete);
}
