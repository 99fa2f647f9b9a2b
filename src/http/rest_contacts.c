/*
 * rest_contacts.c — REST v1 contacts: /v1/contacts, /v1/contacts/{id} and
 * /v1/contacts/{id}/reassign and /v1/contacts/{id}/webhooks/reveal.
 * Each handler turns the HTTP request into a service call and the result
 * into JSON; the rules themselves live in service/contacts.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

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

/* The open applications of u as a contact shows them: [{"id", "product",
 * "domains" (the names, U-labels), "state"}]. New reference. */
static json_t *render_use(const struct cc_contact_use *u)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < u->n; i++) {
        const struct cc_application *a = &u->items[i];
        json_t *stored = json_loads(a->domains ? a->domains : "[]", 0, NULL);
        json_t *names = json_array();
        size_t j;
        json_t *d;
        json_array_foreach(stored, j, d) {
            const char *name = json_string_value(json_object_get(d, "name"));
            if (name)
                json_array_append_new(names, json_string(name));
        }
        json_decref(stored);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:o, s:s}", "id", (json_int_t)a->id,
                                             "product", a->product, "domains", names, "state",
                                             cc_app_state_name(a->state)));
    }
    return arr;
}

/* Contact c as its detail shows it, with "certificates", "applications"
 * (the open ones naming it, at most CC_PAGE_SIZE_MAX: u, or read now when u
 * is NULL) and "applications_total". *whole is 0 when some of it could not
 * be read and was left out. New reference. */
static json_t *contact_json(struct cc_request *req, struct cc_contact *c,
                            const struct cc_contact_use *u, int *whole)
{
    json_t *o = cc_render_contact(c);
    *whole = !cc_contact_add_certificates(req, c->id, o);
    struct cc_contact_use read;
    struct cc_error err;
    if (!u && !cc_contact_applications(cc_req_service(req), cc_req_caller(req), c->id, &read,
                                       &err))
        u = &read;
    if (u) { /* else the contact is still shown; its applications are left out */
        json_object_set_new(o, "applications", render_use(u));
        json_object_set_new(o, "applications_total", json_integer(u->total));
        if (u == &read)
            cc_contact_use_free(&read);
    } else {
        *whole = 0;
    }
    return o;
}

static void send_contact(struct cc_request *req, int status, struct cc_contact *c,
                         const struct cc_contact_use *u)
{
    int whole;
    set_etag(req, c->version);
    cc_req_json(req, status, contact_json(req, c, u, &whole));
}

/* A contact just created: nothing can name it yet, so its certificates and
 * applications are empty without reading them. */
static void send_new_contact(struct cc_request *req, struct cc_contact *c)
{
    set_etag(req, c->version);
    json_t *o = cc_render_contact(c);
    json_object_set_new(o, "certificates", json_array());
    json_object_set_new(o, "applications", json_array());
    json_object_set_new(o, "applications_total", json_integer(0));
    cc_req_json(req, 201, o);
}

void cc_send_contact(struct cc_request *req, int status, struct cc_contact *c)
{
    send_contact(req, status, c, NULL);
}

/* Reads a create's body and its Idempotency-Key into *obj, *in and *idem;
 * on failure it has answered and returns -1. */
static int read_create(struct cc_request *req, json_t **obj, struct cc_contact_input *in,
                       struct cc_idem *idem)
{
    struct cc_error err;
    if (read_body(req, obj, in))
        return -1;
    /* The same request is the same JSON, whatever its spacing or key order. */
    if (cc_idem_parse(cc_req_header(req, "Idempotency-Key"), "", idem, &err) ||
        (idem->key && cc_json_body_hash(*obj, idem->hash, &err))) {
        json_decref(*obj);
        *obj = NULL;
        cc_req_error(req, &err);
        return -1;
    }
    return 0;
}

static void answer_create(struct cc_request *req, enum cc_err rc, struct cc_contact *c,
                          int replayed, const struct cc_error *err)
{
    if (rc) {
        cc_req_error(req, err);
        return;
    }
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/contacts/%lld", (long long)c->id);
    cc_req_add_header(req, "Location", loc);
    if (replayed) {
        cc_req_add_header(req, "Idempotent-Replayed", "true");
        cc_send_contact(req, 201, c);
    } else {
        send_new_contact(req, c);
    }
}

/* Writes wait for their group commit (an fsync): on the blocking pool, so
 * that many of them can wait together — the more writes wait, the more
 * share one commit — while the HTTP workers keep answering reads. Where the
 * store queues writes (SQLite's writer thread), a create waits without a
 * thread: see cc_h_contacts_create. */
static void contacts_create(struct cc_request *req)
{
    json_t *obj = NULL;
    struct cc_contact_input in;
    struct cc_idem idem;
    if (read_create(req, &obj, &in, &idem))
        return;
    struct cc_error err;
    struct cc_contact *c = cc_malloc(sizeof *c);
    int replayed = 0;
    enum cc_err rc = cc_contact_create(cc_req_service(req), cc_req_caller(req), &in, idem.key,
                                       idem.hash, c, &replayed, &err);
    answer_create(req, rc, c, replayed, &err);
    cc_free(c);
    json_decref(obj);
}

/* A create whose write is queued, while its request is suspended. */
struct create_wait {
    struct cc_request *req;
    struct cc_contact_create *cr;
    struct cc_idem idem; /* the key and hash the create borrows */
    struct cc_contact c; /* what the write makes */
};

static void create_written(void *arg)
{
    struct create_wait *w = arg;
    cc_req_resume(w->req);
}

static void create_answer(struct cc_request *req, void *arg)
{
    struct create_wait *w = arg;
    struct cc_error err;
    int replayed = 0;
    enum cc_err rc = cc_contact_create_end(w->cr, &replayed, &err);
    answer_create(req, rc, &w->c, replayed, &err);
    cc_free(w);
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
    json_object_set_new(o, "total_capped", json_boolean(p.total_capped));
    json_object_set_new(o, "page", json_integer(page));
    json_object_set_new(o, "page_size", json_integer(page_size));
    cc_contact_page_free(&p);
    cc_req_json(req, 200, o);
}

static const char json_content[] = "application/json; charset=utf-8";

/* The contact and its open applications come from one snapshot. A view
 * that writes nothing (masked addresses) is kept by the thread with the
 * snapshot's read mark, and sent again as it is while the mark stays equal:
 * no commit since, so the same reads would render the same bytes. */
void cc_h_contacts_get(struct cc_request *req)
{
    struct cc_service *svc = cc_req_service(req);
    const struct cc_caller *caller = cc_req_caller(req);
    int64_t id = cc_req_path_id(req), version;
    struct cc_read_mark mark;
    struct cc_error err;
    int keep = !cc_contact_view_mark(svc, caller, &mark, &err);
    size_t len;
    const char *kept = keep ? cc_view_cache_get(caller->account_id, id, &mark, &version, &len)
                            : NULL;
    if (kept) {
        set_etag(req, version);
        cc_req_text(req, 200, json_content, kept, len);
        return;
    }
    /* On the stack (10 KB): from the heap, a block this size made malloc
     * consolidate its fast bins on every request. */
    struct cc_contact c;
    struct cc_contact_use u;
    if (cc_contact_get_in_use(svc, caller, id, &c, &u, &err)) {
        cc_req_error(req, &err);
        cc_contact_use_free(&u);
        return;
    }
    int whole;
    set_etag(req, c.version);
    json_t *o = contact_json(req, &c, &u, &whole);
    cc_contact_use_free(&u);
    char *body = keep && whole ? cc_json_compact(o, &len) : NULL;
    if (!body) {
        cc_req_json(req, 200, o);
        return;
    }
    json_decref(o);
    cc_view_cache_put(caller->account_id, id, &mark, c.version, body, len);
    cc_req_text(req, 200, json_content, body, len);
    free(body);
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

/* A contact in use answers 409 Contact.InUse with the applications that
 * hold it, and their count (the list stops at CC_PAGE_SIZE_MAX). */
static void contacts_delete(struct cc_request *req)
{
    struct cc_error err;
    struct cc_contact_use u;
    enum cc_err rc = cc_contact_delete(cc_req_service(req), cc_req_caller(req),
                                       cc_req_path_id(req), &u, &err);
    if (rc == CC_ERR_CONTACT_IN_USE) {
        json_t *extra = json_pack("{s:o, s:I}", "applications", render_use(&u),
                                  "applications_total", (json_int_t)u.total);
        cc_req_error_extra(req, &err, extra);
    } else if (rc) {
        cc_req_error(req, &err);
    } else {
        cc_req_empty(req, 204);
    }
    cc_contact_use_free(&u);
}

static void contacts_reassign(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_error err;
    int64_t to = 0;
    const char *key;
    json_t *v;
    enum cc_err rc = CC_OK;
    json_object_foreach(obj, key, v) {
        if (strcmp(key, "to_contact_id") != 0) {
            rc = cc_error_set(&err, CC_ERR_UNKNOWN_FIELD, NULL,
                              "Unknown field \"%.64s\": a reassignment has to_contact_id.", key);
            break;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            rc = cc_error_set(&err, CC_ERR_INCORRECT_FORMAT, "ToContactId",
                              "to_contact_id must be a contact's id.");
            break;
        }
        to = json_integer_value(v);
    }
    json_decref(obj);
    struct cc_reassign_result r;
    if (rc || cc_contact_reassign(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req),
                                  to, &r, &err)) {
        cc_req_error(req, &err);
        return;
    }
    cc_req_json(req, 200, json_pack("{s:I, s:I}", "moved_applications",
                                    (json_int_t)r.moved_applications, "moved_certificates",
                                    (json_int_t)r.moved_certificates));
}

void cc_h_contacts_reassign(struct cc_request *req)
{
    cc_req_defer(req, contacts_reassign);
}

/* Where the store queues writes, a create is checked and prepared here, on
 * the HTTP thread; its request is suspended while the writer commits it with
 * the others queued (no thread waits for it, and the batch is as large as
 * the writes in flight), and answered here once resumed. */
void cc_h_contacts_create(struct cc_request *req)
{
    struct cc_service *svc = cc_req_service(req);
    if (cc_req_on_pool(req) || !cc_service_queues_writes(svc)) {
        cc_req_defer(req, contacts_create);
        return;
    }
    json_t *obj = NULL;
    struct cc_contact_input in;
    struct create_wait *w = cc_malloc(sizeof *w); /* c is the write's to fill */
    w->cr = NULL;
    if (read_create(req, &obj, &in, &w->idem)) {
        cc_free(w);
        return;
    }
    struct cc_error err;
    enum cc_err rc = cc_contact_create_begin(svc, cc_req_caller(req), &in, w->idem.key,
                                             w->idem.hash, &w->c, &w->cr, &err);
    json_decref(obj);
    if (rc) {
        cc_req_error(req, &err);
        cc_free(w);
        return;
    }
    w->req = req;
    if (cc_req_suspend(req, create_answer, w)) { /* no room: the pool's way */
        cc_contact_create_drop(w->cr);
        cc_free(w);
        cc_req_defer(req, contacts_create);
        return;
    }
    cc_contact_create_queue(w->cr, create_written, w);
}

void cc_h_contacts_update(struct cc_request *req)
{
    cc_req_defer(req, contacts_update);
}

void cc_h_contacts_delete(struct cc_request *req)
{
    cc_req_defer(req, contacts_delete);
}

/* POST /v1/contacts/{id}/webhooks/reveal {"webhook_id": N}: the robot's
 * full URL, for an admin, audited by the service. */
static void webhook_reveal(struct cc_request *req)
{
    json_t *obj;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_error err;
    int64_t webhook_id = 0;
    const char *key;
    json_t *v;
    enum cc_err rc = CC_OK;
    json_object_foreach(obj, key, v) {
        if (strcmp(key, "webhook_id") != 0) {
            rc = cc_error_set(&err, CC_ERR_UNKNOWN_FIELD, NULL,
                              "Unknown field \"%.64s\": a reveal has webhook_id.", key);
            break;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            rc = cc_error_set(&err, CC_ERR_INCORRECT_FORMAT, "WebhookId",
                              "webhook_id must be a robot's id.");
            break;
        }
        webhook_id = json_integer_value(v);
    }
    json_decref(obj);
    char url[CC_URL_MAX + 1];
    if (rc || cc_webhook_reveal(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req),
                                webhook_id, url, sizeof url, &err)) {
        cc_req_error(req, &err);
        return;
    }
    cc_req_json(req, 200, json_pack("{s:I, s:s}", "webhook_id", (json_int_t)webhook_id, "url", url));
    OPENSSL_cleanse(url, sizeof url);
}

void cc_h_contact_webhook_reveal(struct cc_request *req)
{
    cc_req_defer(req, webhook_reveal);
}

/* The contact's delivery log, newest first, at most CC_EXPORT_NOTIFICATIONS_PAGES pages. */
#define CC_EXPORT_NOTIFICATIONS_PAGES 10
static json_t *export_notifications(struct cc_request *req, int64_t contact_id)
{
    json_t *arr = json_array();
    for (int64_t page = 1; page <= CC_EXPORT_NOTIFICATIONS_PAGES; page++) {
        struct cc_notif_filter f;
        memset(&f, 0, sizeof f);
        f.contact_id = contact_id;
        f.page = page;
        f.page_size = CC_PAGE_SIZE_MAX;
        struct cc_notification *items = NULL;
        size_t n = 0;
        int64_t total = 0;
        struct cc_error err;
        if (cc_notification_list(cc_req_service(req), cc_req_caller(req), &f, &items, &n, &total,
                                 &err))
            break;
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, cc_render_notification(&items[i], cc_req_lang(req)));
        cc_free(items);
        if (n < (size_t)CC_PAGE_SIZE_MAX)
            break;
    }
    return arr;
}

/* GET /v1/contacts/{id}/export: everything kept about the contact, in full,
 * for a data subject's request; audited by the service. */
static void contact_export(struct cc_request *req)
{
    struct cc_contact *c = cc_malloc(sizeof *c);
    char id_card[CC_IDCARD_LEN + 8];
    struct cc_verif_export *v = NULL;
    size_t nv = 0;
    struct cc_error err;
    if (cc_contact_export(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), c,
                          id_card, sizeof id_card, &v, &nv, &err)) {
        cc_free(c);
        cc_req_error(req, &err);
        return;
    }
    json_t *o = cc_render_contact(c);
    json_object_set_new(o, "id_card", c->has_id_card ? json_string(id_card) : json_null());
    json_object_set_new(o, "email_verified_at", cc_render_time(c->email_verified_at));
    json_object_set_new(o, "mobile_verified_at", cc_render_time(c->mobile_verified_at));
    cc_contact_add_certificates(req, c->id, o);
    struct cc_contact_use use;
    if (!cc_contact_applications(cc_req_service(req), cc_req_caller(req), c->id, &use, &err)) {
        json_object_set_new(o, "applications", render_use(&use));
        cc_contact_use_free(&use);
    }
    json_t *verifs = json_array();
    for (size_t i = 0; i < nv; i++)
        json_array_append_new(
            verifs, json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:o}", "id", (json_int_t)v[i].id,
                              "channel", v[i].channel, "target", v[i].target, "status",
                              v[i].status, "sent_at", cc_render_time(v[i].sent_at), "expires_at",
                              cc_render_time(v[i].expires_at), "confirmed_at",
                              cc_render_time(v[i].confirmed_at)));
    json_t *out = json_pack("{s:o, s:o, s:o}", "contact", o, "verifications", verifs,
                            "notifications", export_notifications(req, c->id));
    OPENSSL_cleanse(id_card, sizeof id_card);
    OPENSSL_cleanse(v, nv * sizeof *v);
    cc_free(v);
    OPENSSL_cleanse(c, sizeof *c);
    cc_free(c);
    cc_req_json(req, 200, out);
}

void cc_h_contact_export(struct cc_request *req)
{
    cc_req_defer(req, contact_export);
}
