/*
 * http.h — the public header of the http layer: the server (libmicrohttpd
 * with a thread pool), the route table, request parsing and JSON rendering.
 * It calls only service/ and core/; it never touches the store.
 */
#ifndef CC_HTTP_H
#define CC_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/core.h"
#include "service/service.h"

struct cc_http_server;

struct cc_http_config {
    const char *listen;       /* "127.0.0.1:8080"; port 0 picks a free one */
    int threads;              /* worker threads in the pool */
    size_t max_body;          /* request body cap in bytes */
    size_t import_max_body;   /* the cap of routes that take a file (CC_ROUTE_CSV_BODY) */
    int connection_timeout_s;
    int blocking_threads;     /* for handlers that wait on the network */
    int64_t acs_requests_per_minute; /* Alibaba API calls per access key; 0: 6000 */
    unsigned max_connections; /* simultaneous connections; 0: CC_CONNECTIONS_MAX_DEFAULT */
    /* simultaneous connections from one address; 0: CC_CONNECTIONS_PER_ADDRESS_DEFAULT */
    unsigned max_connections_per_address;
    /* seconds for a request line and headers to arrive; 0: CC_HEADER_TIMEOUT_DEFAULT_S */
    int header_timeout_s;
    /* seconds for a request's body to arrive after its headers; 0: CC_BODY_TIMEOUT_DEFAULT_S */
    int body_timeout_s;
    /* where people reach the server (public_url, "" or NULL: none): its origin is
     * accepted in Origin besides the request's Host */
    const char *public_url;
    /* HTTPS: PEM files of the certificate (then its chain) and its key; both "" or NULL:
     * plain HTTP */
    const char *tls_cert_file;
    const char *tls_key_file;
    /* comma-separated addresses (IPv4, IPv4/n, IPv6) of reverse proxies whose
     * X-Forwarded-Proto is believed; "" or NULL: nobody's */
    const char *trusted_proxies;
    int64_t hsts_max_age_s;   /* Strict-Transport-Security on HTTPS; 0: none */
    int64_t acs_nonces_per_key; /* replay cache share of each access key; 0: the default */
    /* 1: answer only GET /.well-known/acme-challenge/{token} (the acme_http_listen
     * listener); everything else is 404 */
    int acme_only;
    /* 1: answer only GET /metrics, without authentication (the metrics_listen
     * listener); everything else is 404 */
    int metrics_only;
};

enum cc_err cc_http_start(const struct cc_http_config *cfg, struct cc_service *svc,
                          struct cc_http_server **out, struct cc_error *err);
/* The port actually bound (useful with port 0). */
unsigned cc_http_port(const struct cc_http_server *srv);
/* Whether it speaks HTTPS. */
int cc_http_is_tls(const struct cc_http_server *srv);
/* Reads the certificate and key files again (on SIGHUP): new handshakes get
 * the new pair, open connections keep theirs. On failure the pair in use
 * stays and err says why. */
enum cc_err cc_http_reload_tls(struct cc_http_server *srv, struct cc_error *err);
/* Stops accepting, lets requests in flight finish, frees the server. */
void cc_http_stop(struct cc_http_server *srv);

/* ---- one request, as the handlers see it (server.c) ------------------------- */
struct cc_request;

/* Who may call a route. The router checks it before the handler runs: 401
 * without credentials, 403 Forbidden when the caller's role is short (the
 * service checks the role again, as a second line of defence). A route
 * without a rule (CC_ACCESS_UNSET) is refused to everyone. */
enum cc_access {
    CC_ACCESS_UNSET = 0,
    CC_ACCESS_PUBLIC,    /* anyone, without credentials */
    CC_ACCESS_READONLY,  /* any signed-in caller: readonly is the lowest role */
    CC_ACCESS_OPERATOR,  /* operator or admin */
    CC_ACCESS_ADMIN,     /* admin only */
    CC_ACCESS_SESSION,   /* a signed-in console user, any role; no access key */
};

/* A route: method, path pattern ("{id}" matches one numeric segment, any
 * other "{name}" one segment of 1 to 64 of A-Z a-z 0-9 . _ -), handler,
 * and who may call it. */
typedef void (*cc_handler)(struct cc_request *req);
struct cc_route {
    const char *method;
    const char *pattern;
    cc_handler handler;
    enum cc_access access;
    const char *summary;      /* also the OpenAPI summary */
};
/* The route takes a file as its body: Content-Type text/csv (not JSON), up to
 * import_max_bytes (not max_body_bytes). */
#define CC_ROUTE_CSV_BODY 1u
/* Route r's CC_ROUTE_* flags (0 for NULL). */
unsigned cc_route_flags(const struct cc_route *r);
extern const struct cc_route cc_http_routes[];

/* Accessors for handlers. */
struct cc_service *cc_req_service(struct cc_request *req);
const struct cc_caller *cc_req_caller(struct cc_request *req);
/* Where the request came from (the client's address, the request id), for
 * the audit log; the authenticated caller carries a copy. */
const struct cc_origin *cc_req_origin(struct cc_request *req);
int64_t cc_req_path_id(struct cc_request *req);
/* The i-th (from 0) string segment of the path, "{name}" in the route's
 * pattern; "" when there is none. Owned by the request. */
const char *cc_req_path_arg(struct cc_request *req, int i);
const char *cc_req_body(struct cc_request *req, size_t *len);
/* A query-string argument or request header, or NULL. */
const char *cc_req_query(struct cc_request *req, const char *name);
const char *cc_req_header(struct cc_request *req, const char *name);

/* The client's address as text: the connection's peer, or, when the peer is
 * a reverse proxy named in trusted_proxies, the last address of its
 * X-Forwarded-For (the one that proxy saw). "" when unknown. Owned by the
 * request. */
const char *cc_req_client_address(struct cc_request *req);

/* Runs fn(req) on a thread of the blocking pool while the connection is
 * suspended; for handlers that wait on an SMTP server or a gateway. */
void cc_req_defer(struct cc_request *req, cc_handler fn);
/* 1 when req runs on the blocking pool (cc_req_defer) now. */
int cc_req_on_pool(const struct cc_request *req);
/* Suspends the request for something done off the HTTP threads without a
 * thread waiting for it (a write queued for the store's writer): the
 * handler returns with no answer, and then(req, arg) runs on an HTTP thread
 * once cc_req_resume(req) is called, from any thread (also from the handler
 * itself), exactly once. Returns -1, suspending nothing, when too many
 * requests are suspended already, the server is stopping, or req runs on
 * the blocking pool: the handler carries on another way (cc_req_defer). */
typedef void (*cc_resumed_fn)(struct cc_request *req, void *arg);
int cc_req_suspend(struct cc_request *req, cc_resumed_fn then, void *arg);
void cc_req_resume(struct cc_request *req);
/* Reads the request body as a JSON object (Content-Type application/json).
 * On failure it has already answered with the error and returns -1. */
int cc_req_json_body(struct cc_request *req, json_t **obj);
/* Reads string fields of obj: each spec names a JSON field, its API name
 * and where to put the value (borrowed from obj). Unknown fields, wrong
 * types and missing required fields are errors. */
struct cc_json_field {
    const char *name;
    const char *api;
    const char **out;
    int required;
    size_t max;          /* bytes; 0: CC_JSON_MAX_STRING */
};
enum cc_err cc_json_read_strings(json_t *obj, const struct cc_json_field *fields, size_t n,
                                 struct cc_error *err);

/* Responses: each takes ownership of body (json_decref'd). */
void cc_req_json(struct cc_request *req, int status, json_t *body);
/* JSON text already written (body of len bytes, from cc_malloc: taken). */
void cc_req_json_text(struct cc_request *req, int status, char *body, size_t len);
void cc_req_empty(struct cc_request *req, int status);
/* A body that is not JSON (copied), with its Content-Type. */
void cc_req_text(struct cc_request *req, int status, const char *type, const char *body,
                 size_t len);
void cc_req_error(struct cc_request *req, const struct cc_error *err);
/* A body of unknown length sent as it is made (chunked): fill(arg, buf)
 * appends the next part to buf (at most CC_STREAM_PART_MAX bytes) and
 * returns 1 while more may follow, 0 at the end, -1 on failure (the answer
 * ends broken, so the client cannot take it for complete). done(arg) (may be
 * NULL) runs once the answer is over or abandoned. fill runs on the
 * connection's libmicrohttpd thread. */
typedef int (*cc_stream_fn)(void *arg, struct cc_buf *buf);
#define CC_STREAM_PART_MAX (16 * 1024 * 1024)
void cc_req_stream(struct cc_request *req, int status, const char *type, cc_stream_fn fill,
                   void (*done)(void *arg), void *arg);
/* The same, with extra's members (an object, taken: json_decref'd; may be
 * NULL) added to the body, such as the applications that keep a contact in
 * use. They never replace code, message or request_id. */
void cc_req_error_extra(struct cc_request *req, const struct cc_error *err, json_t *extra);
/* Adds a header to the response about to be sent (copied). */
void cc_req_add_header(struct cc_request *req, const char *name, const char *value);

/* ---- request bodies (json_body.c) ---------------------------------------------- */
/* Nesting, string and array bounds: core/limits.h. */
/* Parses body as one JSON object (no duplicate keys, nesting at most
 * CC_JSON_MAX_DEPTH). *out is owned by the caller: json_decref(). */
enum cc_err cc_json_parse_object(const char *body, size_t len, json_t **out,
                                 struct cc_error *err);
/* The hash that identifies a request body for an Idempotency-Key: SHA-256
 * (hex) of obj's compact form with sorted keys, so spacing and key order do
 * not count. hash is the caller's. CC_ERR_INTERNAL when out of memory. */
enum cc_err cc_json_body_hash(const json_t *obj, char hash[65], struct cc_error *err);
/* Reads a contact create/update from obj into in; strings in `in` are
 * borrowed from obj. Unknown fields, wrong types and overlong strings are
 * errors naming the field. */
enum cc_err cc_json_contact_input(json_t *obj, struct cc_contact_input *in,
                                  struct cc_error *err);

/* ---- rendering (render.c) ------------------------------------------------------- */
/* A time (ms since the epoch) as RFC 3339, or null for 0. */
json_t *cc_render_time(int64_t ms);
/* The REST representation of a contact already redacted for its reader. */
json_t *cc_render_contact(const struct cc_contact *c);

#endif
