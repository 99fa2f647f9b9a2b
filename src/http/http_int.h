/*
 * http_int.h — shared inside http/: route lookup and the handlers the route
 * table names.
 */
#ifndef CC_HTTP_INT_H
#define CC_HTTP_INT_H

#include "http/http.h"

/* ---- request metrics (http_metrics.c) ---- */
/* The route table's rows have at most this many entries (router.c checks). */
#define CC_HTTP_ROUTES_MAX 96
/* Counts one answered request: route_index is its row in cc_http_routes,
 * -1 for a path no row has (route="other", by method); us its duration. */
void cc_http_metrics_record(int route_index, const char *method, int status, int64_t us);
/* Renders the request counters and latency histograms. */
void cc_http_metrics_render(struct cc_buf *b);

/* What a matched path's variable segments held: {id} as a number, every
 * other {name} as a string, in order. */
struct cc_route_args {
    int64_t id;
    int n;
    char s[CC_ROUTE_MAX_ARGS][CC_ROUTE_ARG_MAX + 1];
};

/* Finds the route for method and path. Returns 1 when some route has this
 * path (then *route is NULL if the method is not one of them, and allow
 * lists the methods that are), 0 when no route has it. *args receives the
 * matched route's variable segments. */
int cc_route_find(const char *method, const char *path, const struct cc_route **route,
                  struct cc_route_args *args, char *allow, size_t allowsz);

/* Whether caller may call route r: CC_OK, CC_ERR_UNAUTHENTICATED when the
 * route needs a caller and there is none (authed 0), else
 * CC_ERR_FORBIDDEN when the role is short, the caller is an access key on a
 * console-session route, or the route has no rule. */
enum cc_err cc_route_allows(const struct cc_route *r, int authed, const struct cc_caller *caller,
                            struct cc_error *err);
/* The roles that may call a route of access a, for OpenAPI's x-roles:
 * "public", "readonly", "operator", "admin" or "session" (a console
 * session of any role). New reference, or NULL for CC_ACCESS_UNSET. */
json_t *cc_access_roles(enum cc_access a);
/* Writes each route's x-roles into its operation of the OpenAPI document
 * doc (borrowed), so that the document served shows the route table's rule. */
void cc_routes_annotate_openapi(json_t *doc);

/* server.c: for the Alibaba-compatible API, which authenticates by itself. */
const char *cc_req_id(struct cc_request *req);
const char *cc_req_method(struct cc_request *req);
/* Makes caller (copied) the request's caller, for the handlers and the log. */
void cc_req_set_caller(struct cc_request *req, const struct cc_caller *caller);
struct cc_acs_state *cc_req_acs_state(struct cc_request *req);
/* Calls fn for every query argument, decoded, in order (value NULL when the
 * argument has no '='), until fn returns non-zero; returns that value. */
int cc_req_each_query(struct cc_request *req,
                      int (*fn)(void *arg, const char *name, const char *value), void *arg);

/* conn_guard.c: absolute deadlines for a request's line and headers, its
 * body, and a kept-alive connection's next request (libmicrohttpd's own timeout
 * is renewed by every byte). One guard per server, with its own thread. */
struct cc_conn_guard;
struct cc_conn_guard *cc_conn_guard_new(int header_timeout_s, int body_timeout_s,
                                        int idle_timeout_s);
/* Only after libmicrohttpd has stopped. */
void cc_conn_guard_free(struct cc_conn_guard *g);
/* A connection opened on descriptor fd: returns its watch (the guard's),
 * to pass to the calls below; cc_conn_guard_closed frees it. */
void *cc_conn_guard_opened(struct cc_conn_guard *g, int fd);
/* Before libmicrohttpd closes the descriptor. watch may be NULL. */
void cc_conn_guard_closed(struct cc_conn_guard *g, void *watch);
void cc_conn_guard_request_line(struct cc_conn_guard *g, void *watch); /* request line read */
void cc_conn_guard_headers_done(struct cc_conn_guard *g, void *watch); /* headers complete */
void cc_conn_guard_body_done(struct cc_conn_guard *g, void *watch);    /* body complete */
void cc_conn_guard_request_done(struct cc_conn_guard *g, void *watch); /* answered, kept alive */
/* Connections open now, and shut since start for missing a deadline. */
void cc_conn_guard_stats(struct cc_conn_guard *g, size_t *open, int64_t *shut_total);
/* The same for the server that req came to (for /metrics). */
void cc_req_conn_stats(struct cc_request *req, size_t *open, int64_t *shut_total);

/* tls.c: the HTTPS listener's certificate and key (PEM files), loaded now
 * and again on cc_tls_reload; new handshakes get the pair loaded last. One
 * HTTPS server per process. */
struct cc_tls;
enum cc_err cc_tls_new(const char *cert_file, const char *key_file, struct cc_tls **out,
                       struct cc_error *err);
/* Re-reads both files; on failure the pair in use stays and err says why. */
enum cc_err cc_tls_reload(struct cc_tls *t, struct cc_error *err);
/* After libmicrohttpd has stopped. */
void cc_tls_free(struct cc_tls *t);
/* The GnuTLS retrieve function for MHD_OPTION_HTTPS_CERT_CALLBACK. */
void *cc_tls_retrieve_callback(void);

/* idempotency.c: the key of an idempotent create, from REST's
 * Idempotency-Key or Alibaba's ClientToken. */
#define CC_IDEM_NS_MAX 8     /* bytes of a namespace prefix */
struct cc_idem {
    const char *key;         /* NULL when the call has none; else points to buf */
    char buf[CC_IDEM_NS_MAX + CC_IDEM_KEY_MAX + 1];
    char hash[65];           /* SHA-256 (hex) of the request in canonical form */
};
/* Checks raw (borrowed; NULL: no key): 1 to CC_IDEM_KEY_MAX printable ASCII
 * characters, else CC_ERR_INVALID_PARAMETER with field "IdempotencyKey".
 * ns (at most CC_IDEM_NS_MAX bytes) prefixes the stored key, so that the two
 * APIs' keys of the same text stay apart: "" for REST, "acs:" for Alibaba. */
enum cc_err cc_idem_parse(const char *raw, const char *ns, struct cc_idem *out,
                          struct cc_error *err);
/* Hashes the request the key goes with: canon (len bytes, borrowed) is the
 * request in a form where the same request always reads the same. Does
 * nothing without a key. */
void cc_idem_set_request(struct cc_idem *idem, const char *canon, size_t len);

/* acs_api.c: answers a call of the Alibaba Cloud CAS 2020-04-07 API (POST
 * or GET / with an Action); body_too_large when the body passed the cap. */
void cc_acs_dispatch(struct cc_request *req, int body_too_large);

/* ops.c */
void cc_h_healthz(struct cc_request *req);
void cc_h_readyz(struct cc_request *req);
void cc_h_metrics(struct cc_request *req);
void cc_h_openapi(struct cc_request *req);

/* rest_contacts.c */
void cc_h_contacts_create(struct cc_request *req);
void cc_h_contacts_list(struct cc_request *req);
void cc_h_contacts_get(struct cc_request *req);
void cc_h_contacts_update(struct cc_request *req);
void cc_h_contacts_delete(struct cc_request *req);
void cc_h_contacts_reassign(struct cc_request *req);

/* rest_contacts.c: sends one contact, redacted for the caller, with its ETag,
 * the certificates it subscribes to and the open applications naming it. */
void cc_send_contact(struct cc_request *req, int status, struct cc_contact *c);

/* rest_verifications.c */
void cc_h_contact_verif_send(struct cc_request *req);
void cc_h_contact_verif_confirm(struct cc_request *req);
void cc_h_verif_send(struct cc_request *req);
void cc_h_verif_confirm(struct cc_request *req);
void cc_h_verif_status(struct cc_request *req);

/* rest_events.c */
void cc_h_events_create(struct cc_request *req);
void cc_h_events_get(struct cc_request *req);
void cc_h_notifications_list(struct cc_request *req);
void cc_h_notifications_get(struct cc_request *req);
void cc_h_notifications_resend(struct cc_request *req);

/* rest_test_send.c */
void cc_h_contact_test(struct cc_request *req);
void cc_h_contact_webhook_reveal(struct cc_request *req);
void cc_h_contact_export(struct cc_request *req);
/* rest_imports.c: contact import (CSV) and export */
void cc_h_contacts_import(struct cc_request *req);
void cc_h_contacts_import_get(struct cc_request *req);
void cc_h_contacts_import_rows(struct cc_request *req);
void cc_h_contacts_export(struct cc_request *req);
/* One notification of the delivery log as the API shows it (rest_events.c). */
json_t *cc_render_notification(const struct cc_notification *n, const char *lang);
/* A message stored as English text (a delivery reason, a verdict, a last
 * error) in lang ("en", "zh-CN"), as a JSON string. */
json_t *cc_render_text(const char *lang, const char *english);
void cc_h_webhooks_test(struct cc_request *req);

/* rest_templates.c */
void cc_h_templates_list(struct cc_request *req);
void cc_h_templates_get(struct cc_request *req);
void cc_h_templates_put(struct cc_request *req);
void cc_h_templates_delete(struct cc_request *req);
void cc_h_templates_preview(struct cc_request *req);

/* rest_applications.c */
void cc_h_products_list(struct cc_request *req);
void cc_h_applications_create(struct cc_request *req);
void cc_h_applications_list(struct cc_request *req);
void cc_h_applications_get(struct cc_request *req);
void cc_h_applications_eligibility(struct cc_request *req);
void cc_h_applications_transition(struct cc_request *req);
/* rest_certificates.c */
void cc_h_certificates_create(struct cc_request *req);
void cc_h_certificates_list(struct cc_request *req);
void cc_h_certificates_get(struct cc_request *req);
void cc_h_certificates_update(struct cc_request *req);
void cc_h_certificates_delete(struct cc_request *req);
void cc_h_certificates_revoke(struct cc_request *req);
void cc_h_certificates_private_key(struct cc_request *req);
/* rest_reminders.c */
void cc_h_reminder_settings_get(struct cc_request *req);
void cc_h_reminder_settings_put(struct cc_request *req);
/* rest_stats.c */
void cc_h_stats_get(struct cc_request *req);
/* rest_endpoints.c */
void cc_h_endpoints_create(struct cc_request *req);
void cc_h_endpoints_list(struct cc_request *req);
void cc_h_endpoints_get(struct cc_request *req);
void cc_h_endpoints_update(struct cc_request *req);
void cc_h_endpoints_delete(struct cc_request *req);
void cc_h_endpoints_check(struct cc_request *req);
/* A JSON array of reminder thresholds (named name, field for errors) into
 * days: at most CC_REMINDER_DAYS_MAX whole numbers (the service checks
 * their range); *n is set. */
enum cc_err cc_json_reminder_days(json_t *v, const char *name, const char *field, int64_t *days,
                                  size_t *n, struct cc_error *err);
/* Adds "certificates" to a contact's JSON (borrowed): the id, domains,
 * state and not_after of each certificate the contact subscribes to.
 * -1 when they could not be read (the JSON is left without them). */
int cc_contact_add_certificates(struct cc_request *req, int64_t contact_id, json_t *contact);

/* view_cache.c: the calling thread's last rendered contact details, each
 * kept with the read mark it was read under (cc_contact_view_mark). The
 * body kept for the contact when mark is the one it was kept with, its
 * length in *len and the contact's version in *version; else NULL. The body
 * is the thread's until its next cc_view_cache_put. */
const char *cc_view_cache_get(int64_t account_id, int64_t contact_id,
                              const struct cc_read_mark *mark, int64_t *version, size_t *len);
/* Keeps a copy of body (too large a body is not kept). */
void cc_view_cache_put(int64_t account_id, int64_t contact_id, const struct cc_read_mark *mark,
                       int64_t version, const char *body, size_t len);
/* The views looked for since start, in every thread: found (sent again) and
 * not found (read and rendered). */
void cc_view_cache_counts(uint64_t *hits, uint64_t *misses);
/* render.c: a certificate as REST shows it (never its key); with_pem adds
 * the PEM; days_left counted from now (ms). New reference. */
json_t *cc_render_certificate(const struct cc_certificate *c, int with_pem, int64_t now);

/* static.c: the console's files (web/), embedded in the binary. */
#define CC_STATIC_ASSETS "/assets/"
struct cc_static_file {
    const char *name;            /* "index.html" */
    const unsigned char *data;
    size_t size;
    const char *content_type;
    char etag[72];               /* quoted */
};
/* The file for GET path ("/" or "/assets/NAME"), or NULL. */
const struct cc_static_file *cc_static_find(const char *path);
const char *cc_static_content_type(const char *name);
/* 1 when an If-None-Match header names etag (or is "*"). */
int cc_static_etag_matches(const char *if_none_match, const char *etag);

/* rest_session.c */
void cc_h_session_create(struct cc_request *req);
void cc_h_session_get(struct cc_request *req);
void cc_h_session_update(struct cc_request *req);
void cc_h_session_delete(struct cc_request *req);
/* The {"user":...,"csrf_token":...} body of the session endpoints. */
json_t *cc_render_user(const struct cc_user *u, int with_admin_fields);

/* rest_users.c */
void cc_h_users_list(struct cc_request *req);
void cc_h_users_create(struct cc_request *req);
void cc_h_users_update(struct cc_request *req);
void cc_h_users_delete(struct cc_request *req);
void cc_h_users_unlock(struct cc_request *req);

/* rest_audit.c */
void cc_h_audit_list(struct cc_request *req);
void cc_h_audit_csv(struct cc_request *req);

/* rest_keys.c */
void cc_h_keys_list(struct cc_request *req);
void cc_h_keys_create(struct cc_request *req);
void cc_h_keys_disable(struct cc_request *req);

/* server.c: 1 when the request came over TLS (or through a proxy that says
 * it did, X-Forwarded-Proto: https): the session cookie is then Secure. */
int cc_req_is_tls(struct cc_request *req);
/* The session cookie's value, or NULL. */
const char *cc_req_cookie(struct cc_request *req, const char *name);
/* The language the caller reads ("en" or "zh-CN"): the console user's
 * setting, else the Accept-Language header. Messages (`message`, problems,
 * verdicts, reasons) are rendered in it. */
const char *cc_req_lang(struct cc_request *req);
/* err's problems as an error renders them: [{"code", "field", "path",
 * "message" (in lang), and "contact_id" for a clash}]. New reference. */
json_t *cc_render_problems(const struct cc_error *err, const char *lang);

/* rest_acme.c: the HTTP-01 answer, and an application's ACME order as the
 * "acme" member of its answer (NULL when it has none). */
void cc_h_acme_challenge(struct cc_request *req);
json_t *cc_acme_render(struct cc_request *req, int64_t application_id);

#endif
