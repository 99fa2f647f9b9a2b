/*
 * server.c — the HTTP server: libmicrohttpd with a thread pool on epoll.
 *
 * Owns the life of a request: a struct cc_request is made when the headers
 * arrive, collects the body up to the cap, finds the route, authenticates
 * the caller and checks the route's roles, runs the handler, sends the one response with its X-Request-Id,
 * writes one JSON log line, and is freed when libmicrohttpd says the
 * request is over. Every error leaves as JSON {code, message, request_id}
 * — except for Alibaba Cloud API calls to "/", which acs_api.c answers in
 * Alibaba's own shape.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "http/http.h"
#include "http/acs_int.h"
#include "http/http_int.h"
#include "http/server_int.h"
#include "util/util.h"

struct cc_service *cc_req_service(struct cc_request *req)
{
    return req->srv->svc;
}

const struct cc_caller *cc_req_caller(struct cc_request *req)
{
    return &req->caller;
}

int64_t cc_req_path_id(struct cc_request *req)
{
    return req->path_args.id;
}

const char *cc_req_path_arg(struct cc_request *req, int i)
{
    return i >= 0 && i < req->path_args.n ? req->path_args.s[i] : "";
}

const char *cc_req_body(struct cc_request *req, size_t *len)
{
    *len = req->body.len;
    return req->body.data ? req->body.data : "";
}

const char *cc_req_query(struct cc_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *cc_req_header(struct cc_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *cc_req_id(struct cc_request *req)
{
    return req->request_id;
}

const char *cc_req_method(struct cc_request *req)
{
    return req->method;
}

/* Who is asking and which request it is, for the audit log: the client's
 * address as the request log names it (behind a trusted proxy, the address
 * the proxy forwards for). */
const struct cc_origin *cc_req_origin(struct cc_request *req)
{
    struct cc_origin *o = &req->origin;
    cc_strlcpy(o->request_id, req->request_id, sizeof o->request_id);
    cc_strlcpy(o->source, req->conn ? cc_req_client_address(req) : "", sizeof o->source);
    return o;
}

void cc_req_set_caller(struct cc_request *req, const struct cc_caller *caller)
{
    req->caller = *caller;
    req->caller.origin = *cc_req_origin(req);
    req->authed = 1;
}

void cc_req_conn_stats(struct cc_request *req, size_t *open, int64_t *shut_total)
{
    cc_conn_guard_stats(req->srv->guard, open, shut_total);
}

struct cc_acs_state *cc_req_acs_state(struct cc_request *req)
{
    return req->srv->acs;
}

struct query_walk {
    int (*fn)(void *arg, const char *name, const char *value);
    void *arg;
    int rc;
};

static enum MHD_Result query_walk_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct query_walk *w = cls;
    (void)kind;
    w->rc = w->fn(w->arg, key, value);
    return w->rc ? MHD_NO : MHD_YES;
}

int cc_req_each_query(struct cc_request *req,
                      int (*fn)(void *arg, const char *name, const char *value), void *arg)
{
    struct query_walk w = {fn, arg, 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_walk_one, &w);
    return w.rc;
}

void cc_req_add_header(struct cc_request *req, const char *name, const char *value)
{
    if (req->nhdr >= MAX_EXTRA_HEADERS)
        return;
    req->hdr_name[req->nhdr] = cc_strdup(name);
    req->hdr_value[req->nhdr] = cc_strdup(value);
    req->nhdr++;
}

const char *cc_req_lang(struct cc_request *req)
{
    if (req->caller.user_id && req->caller.language[0])
        return strcmp(req->caller.language, "zh-CN") == 0 ? "zh-CN" : "en";
    return cc_lang_from_accept(cc_req_header(req, "Accept-Language"));
}

const char *cc_req_cookie(struct cc_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

static void fail(struct cc_request *req, enum cc_err code, const char *field, const char *msg);

int cc_req_json_body(struct cc_request *req, json_t **obj)
{
    const char *ct = cc_req_header(req, "Content-Type");
    size_t n = strlen("application/json");
    struct cc_error err;
    *obj = NULL;
    if (!ct || strncasecmp(ct, "application/json", n) != 0 ||
        (ct[n] && ct[n] != ';' && ct[n] != ' ')) {
        cc_error_set(&err, CC_ERR_UNSUPPORTED_MEDIA, NULL,
                     "Send the body as JSON with Content-Type: application/json.");
        cc_req_error(req, &err);
        return -1;
    }
    if (cc_json_parse_object(req->body.data ? req->body.data : "", req->body.len, obj, &err)) {
        cc_req_error(req, &err);
        return -1;
    }
    return 0;
}

static void *pool_main(void *arg)
{
    pthread_setname_np(pthread_self(), "cc-pool"); /* for top -H, perf, gdb */
    struct cc_http_server *srv = arg;
    struct blocking_pool *p = &srv->pool;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping) {
            p->idle++;
            pthread_cond_wait(&p->cv, &p->mu);
            p->idle--;
        }
        if (!p->head)
            break; /* stopping, and nothing left to run */
        struct cc_request *req = p->head;
        p->head = req->qnext;
        if (!p->head)
            p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->mu);
        req->deferred_fn(req);
        if (!req->responded)
            fail(req, CC_ERR_INTERNAL, NULL, "The handler gave no response.");
        MHD_resume_connection(req->conn);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    cc_service_thread_done(srv->svc);
    return NULL;
}

void cc_req_defer(struct cc_request *req, cc_handler fn)
{
    struct blocking_pool *p = &req->srv->pool;
    if (req->deferred) { /* already on the pool: run it here */
        fn(req);
        return;
    }
    pthread_mutex_lock(&p->mu);
    if (p->stopping) {
        /* shutting down: a request already accepted is answered, here */
        pthread_mutex_unlock(&p->mu);
        fn(req);
        return;
    }
    if (p->queued >= CC_BLOCKING_QUEUE_MAX) {
        pthread_mutex_unlock(&p->mu);
        fail(req, CC_ERR_UNAVAILABLE, NULL, "The server is too busy; try again shortly.");
        return;
    }
    req->deferred = 1;
    req->deferred_fn = fn;
    req->qnext = NULL;
    MHD_suspend_connection(req->conn);
    if (p->tail)
        p->tail->qnext = req;
    else
        p->head = req;
    p->tail = req;
    p->queued++;
    if (p->queued > p->idle && p->nthreads < p->max &&
        pthread_create(&p->threads[p->nthreads], NULL, pool_main, req->srv) == 0)
        p->nthreads++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void fail(struct cc_request *req, enum cc_err code, const char *field, const char *msg)
{
    struct cc_error e;
    cc_error_set(&e, code, field, "%s", msg);
    cc_req_error(req, &e);
}

/* The console's session cookie; a request that changes something also
 * carries the session's CSRF token in X-CSRF-Token. */
static enum cc_err authenticate_session(struct cc_request *req, const char *token,
                                        struct cc_error *err)
{
    char csrf[CC_CSRF_LEN + 1];
    enum cc_err rc = cc_session_authenticate(req->srv->svc, token, &req->caller, csrf,
                                             &req->touch_session, err);
    if (rc)
        return rc;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0 &&
        !cc_csrf_equal(csrf, cc_req_header(req, "X-CSRF-Token")))
        return cc_error_set(err, CC_ERR_CSRF, NULL,
                            "The X-CSRF-Token header is missing or wrong; reload the console "
                            "and try again.");
    return CC_OK;
}

/* HTTP Basic: "Basic base64(id:secret)", or the console's session cookie
 * when there is no Authorization header. */
static enum cc_err authenticate(struct cc_request *req, struct cc_error *err)
{
    const char *h = cc_req_header(req, "Authorization");
    const char *cookie = cc_req_cookie(req, "cc_session");
    if (!h && cookie)
        return authenticate_session(req, cookie, err);
    if (!h)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL,
                            "Authentication is required: HTTP Basic with an access key id and "
                            "secret.");
    if (strncasecmp(h, "Basic ", 6) != 0)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL,
                            "Use HTTP Basic authentication with an access key id and secret.");
    h += 6;
    while (*h == ' ')
        h++;
    size_t n = strlen(h);
    uint8_t dec[256];
    long m = n <= 340 ? cc_base64_decode(h, n, dec, sizeof dec) : -1;
    if (m <= 0)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "The Authorization header is malformed.");
    dec[m] = '\0';
    char *colon = memchr(dec, ':', (size_t)m);
    if (!colon || memchr(dec, '\0', (size_t)m))
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "The Authorization header is malformed.");
    *colon = '\0';
    const char *secret = colon + 1;
    size_t slen = (size_t)m - (size_t)(colon + 1 - (char *)dec);
    req->caller.origin = *cc_req_origin(req); /* a failed proof is audited with it */
    enum cc_err rc = cc_auth_access_key(req->srv->svc, (char *)dec, secret, slen, &req->caller, err);
    memset(dec, 0, sizeof dec);
    return rc;
}

/* A console file, with an ETag to revalidate against. */
static void send_static(struct cc_request *req, const struct cc_static_file *f)
{
    int fresh = cc_static_etag_matches(cc_req_header(req, "If-None-Match"), f->etag);
    req->responded = 1;
    req->status = fresh ? 304 : 200;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        fresh ? 0 : f->size, fresh ? (void *)"" : (void *)f->data, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return;
    srv_common_headers(req, r);
    if (!fresh)
        MHD_add_response_header(r, "Content-Type", f->content_type);
    MHD_add_response_header(r, "ETag", f->etag);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_queue_response(req->conn, (unsigned)req->status, r);
    MHD_destroy_response(r);
    srv_log_request(req);
}

/* GET / (unless it is an Alibaba Cloud API call: an Action parameter or
 * header) and GET /assets/NAME serve the console. Returns 1 when it
 * answered. */
static int serve_static(struct cc_request *req)
{
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        return 0;
    int root = strcmp(req->path, "/") == 0;
    if (root && (cc_req_query(req, "Action") || cc_req_header(req, "x-acs-action")))
        return 0;
    if (!root && strncmp(req->path, CC_STATIC_ASSETS, sizeof CC_STATIC_ASSETS - 1) != 0)
        return 0;
    const struct cc_static_file *f = cc_static_find(req->path);
    if (f)
        send_static(req, f);
    else
        fail(req, CC_ERR_NOT_FOUND, NULL, "There is no such file.");
    return 1;
}

/* Runs the route's handler after writing the session's last use. */
static void touch_then_handle(struct cc_request *req)
{
    struct cc_error err;
    if (cc_session_touch(req->srv->svc, &req->caller, &err))
        cc_log(CC_LOG_WARN, "cannot record a session's use", "request_id", req->request_id,
               "error", err.message, NULL);
    req->route->handler(req);
}

/* The methods that change something. */
static int changes_state(const char *method)
{
    return !strcmp(method, "POST") || !strcmp(method, "PUT") || !strcmp(method, "PATCH") ||
           !strcmp(method, "DELETE");
}

/* application/json, with or without parameters ("; charset=utf-8"). A form
 * (urlencoded, multipart, text/plain) is what another site's page can make
 * a browser send without asking this server first (no CORS preflight);
 * application/json it cannot. */
static int is_json_type(const char *ct)
{
    size_t n = strlen("application/json");
    return ct && strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* text/csv, with or without parameters: the one type a route with
 * CC_ROUTE_CSV_BODY takes. Not a CORS-safelisted type either: another
 * site's page cannot send it without a preflight, which is never granted. */
static int is_csv_type(const char *ct)
{
    size_t n = strlen("text/csv");
    return ct && strncasecmp(ct, "text/csv", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* The body cap of a request for method and path: import_max_bytes for a route that
 * takes a file (CC_ROUTE_CSV_BODY, a POST or PUT), max_body_bytes for the rest. */
static size_t body_limit(const struct cc_http_server *srv, const char *method, const char *path)
{
    const struct cc_route *r = NULL;
    struct cc_route_args args;
    char allow[64];
    if (srv->import_max_body > srv->max_body && (!strcmp(method, "POST") || !strcmp(method, "PUT")) &&
        cc_route_find(method, path, &r, &args, allow, sizeof allow) && r &&
        (cc_route_flags(r) & CC_ROUTE_CSV_BODY))
        return srv->import_max_body;
    return srv->max_body;
}

/* Refuses a state change that a browser sends on behalf of another site:
 * Sec-Fetch-Site (sent by every current browser) must be same-origin (or
 * none: the user's own action), and an Origin header must name this server
 * — its Host, or the configured public_url. A request with neither comes
 * from a script or tool, not from a page, and is left to authentication.
 * Returns CC_OK or CC_ERR_CROSS_ORIGIN. */
static enum cc_err cross_origin(struct cc_request *req, struct cc_error *err)
{
    const char *site = cc_req_header(req, "Sec-Fetch-Site");
    if (site && strcasecmp(site, "same-origin") != 0 && strcasecmp(site, "none") != 0)
        return cc_error_set(err, CC_ERR_CROSS_ORIGIN, NULL,
                            "A change cannot be requested from another site's page.");
    const char *origin = cc_req_header(req, "Origin");
    if (!origin)
        return CC_OK;
    const char *auth = strstr(origin, "://");
    const char *host = cc_req_header(req, "Host");
    if (auth && host && strcasecmp(auth + 3, host) == 0)
        return CC_OK;
    const char *pub = req->srv->public_url;
    const char *pauth = strstr(pub, "://");
    if (auth && pauth) { /* the public URL's scheme://host[:port], without its path */
        size_t n = strcspn(pauth + 3, "/");
        if (strlen(auth + 3) == n && strncasecmp(auth + 3, pauth + 3, n) == 0)
            return CC_OK;
    }
    return cc_error_set(err, CC_ERR_CROSS_ORIGIN, NULL,
                        "The Origin of this request is not this server; a change cannot be "
                        "requested from another site's page.");
}

/* The metrics_listen listener: GET /metrics without a key (the address is
 * meant for the scraper's network alone), nothing else. */
static void dispatch_metrics_only(struct cc_request *req)
{
    if (strcmp(req->path, "/metrics") != 0) {
        fail(req, CC_ERR_NOT_FOUND, NULL, "This listener answers only GET /metrics.");
        return;
    }
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        cc_req_add_header(req, "Allow", "GET");
        fail(req, CC_ERR_METHOD_NOT_ALLOWED, NULL, "This method is not allowed at this path.");
        return;
    }
    for (const struct cc_route *r = cc_http_routes; r->method; r++)
        if (r->handler == cc_h_metrics)
            req->route_index = (int)(r - cc_http_routes) + 1; /* counted as /metrics */
    cc_h_metrics(req);
}

static void dispatch(struct cc_request *req)
{
    static const char acme_prefix[] = "/.well-known/acme-challenge/";
    if (req->srv->acme_only && strncmp(req->path, acme_prefix, sizeof acme_prefix - 1) != 0) {
        fail(req, CC_ERR_NOT_FOUND, NULL, "This listener answers only ACME HTTP-01 challenges.");
        return;
    }
    if (req->srv->metrics_only) {
        dispatch_metrics_only(req);
        return;
    }
    /* Alibaba Cloud RPC calls come to "/" with an action; a plain GET / is
     * not one of them. They are authenticated by their signatures, not by
     * HTTP Basic, and answer in Alibaba's error shape. */
    if (strcmp(req->path, "/") == 0 &&
        (cc_req_query(req, "Action") || cc_req_header(req, "x-acs-action"))) {
        for (char *p = req->request_id; *p; p++) /* Alibaba's ids are upper case */
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        cc_acs_dispatch(req, req->too_large);
        if (!req->responded && !req->deferred && !req->then)
            fail(req, CC_ERR_INTERNAL, NULL, "The handler gave no response.");
        return;
    }
    if (req->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "The request body is larger than %zu bytes.", req->max_body);
        fail(req, CC_ERR_BODY_TOO_LARGE, NULL, msg);
        return;
    }
    if (serve_static(req))
        return;
    const struct cc_route *route = NULL;
    char allow[64] = "";
    int path_known = cc_route_find(req->method, req->path, &route, &req->path_args, allow,
                                   sizeof allow);
    if (!path_known) {
        fail(req, CC_ERR_NOT_FOUND, NULL, "There is nothing at this path.");
        return;
    }
    if (route)
        req->route_index = (int)(route - cc_http_routes) + 1;
    if (strcmp(req->path, "/v1/session") == 0)
        req->no_challenge = 1; /* the console asks whether it is signed in */
    struct cc_error err;
    int changes = changes_state(req->method);
    if (changes && cross_origin(req, &err)) {
        cc_req_error(req, &err);
        return;
    }
    /* The route's rule says who may call it; a method the path does not
     * have is answered only to a caller who could call the path at all. */
    int need_auth = route ? route->access != CC_ACCESS_PUBLIC : strncmp(req->path, "/v1/", 4) == 0;
    if (need_auth) {
        if (authenticate(req, &err)) {
            cc_req_error(req, &err);
            return;
        }
        req->authed = 1;
        req->caller.origin = *cc_req_origin(req);
    }
    if (!route) {
        cc_req_add_header(req, "Allow", allow);
        fail(req, CC_ERR_METHOD_NOT_ALLOWED, NULL, "This method is not allowed at this path.");
        return;
    }
    if (cc_route_allows(route, req->authed, &req->caller, &err)) {
        cc_req_error(req, &err);
        return;
    }
    if (changes && (cc_route_flags(route) & CC_ROUTE_CSV_BODY) &&
        !is_csv_type(cc_req_header(req, "Content-Type"))) {
        fail(req, CC_ERR_UNSUPPORTED_MEDIA, NULL, "Send the file with Content-Type: text/csv.");
        return;
    }
    if (changes && !(cc_route_flags(route) & CC_ROUTE_CSV_BODY) &&
        !is_json_type(cc_req_header(req, "Content-Type"))) {
        fail(req, CC_ERR_UNSUPPORTED_MEDIA, NULL,
             "A request that changes something is sent with Content-Type: application/json, "
             "with or without a body.");
        return;
    }
    req->route = route;
    if (req->touch_session)
        cc_req_defer(req, touch_then_handle);
    else
        route->handler(req);
    if (!req->responded && !req->deferred && !req->then)
        fail(req, CC_ERR_INTERNAL, NULL, "The handler gave no response.");
}

int cc_req_on_pool(const struct cc_request *req)
{
    return req->deferred;
}

int cc_req_suspend(struct cc_request *req, cc_resumed_fn then, void *arg)
{
    struct blocking_pool *p = &req->srv->pool;
    if (req->deferred)
        return -1;
    pthread_mutex_lock(&p->mu);
    int room = !p->stopping && p->waiting < CC_BLOCKING_QUEUE_MAX;
    if (room) {
        p->waiting++;
        req->then = then;
        req->then_arg = arg;
        req->resumed = 0;
        MHD_suspend_connection(req->conn);
    }
    pthread_mutex_unlock(&p->mu);
    return room ? 0 : -1;
}

void cc_req_resume(struct cc_request *req)
{
    struct blocking_pool *p = &req->srv->pool; /* req may be gone once resumed */
    req->resumed = 1;
    MHD_resume_connection(req->conn);
    pthread_mutex_lock(&p->mu);
    if (--p->waiting == 0)
        pthread_cond_broadcast(&p->none_waiting);
    pthread_mutex_unlock(&p->mu);
}

/* Request objects are kept for reuse by the thread that freed them (a few
 * each): at 1.5 KB a new one is a large-bin allocation, which makes malloc
 * consolidate its fast bins first, on every request. */
#define REQ_CACHE_MAX 16
struct req_cache {
    struct cc_request *head;
    int n;
};
static __thread struct req_cache req_cache;
static pthread_key_t req_cache_key;
static pthread_once_t req_cache_once = PTHREAD_ONCE_INIT;

static void req_cache_drain(void *arg)
{
    struct req_cache *c = arg;
    while (c->head) {
        struct cc_request *r = c->head;
        c->head = r->qnext;
        cc_free(r);
    }
    c->n = 0;
}

static void req_cache_key_make(void)
{
    pthread_key_create(&req_cache_key, req_cache_drain);
}

static struct cc_request *req_alloc(void)
{
    struct cc_request *r = req_cache.head;
    if (!r)
        return cc_calloc(1, sizeof *r);
    req_cache.head = r->qnext;
    req_cache.n--;
    memset(r, 0, sizeof *r);
    return r;
}

static void req_release(struct cc_request *r)
{
    if (req_cache.n >= REQ_CACHE_MAX) {
        cc_free(r);
        return;
    }
    if (!req_cache.head) { /* the thread's end drains the cache */
        pthread_once(&req_cache_once, req_cache_key_make);
        pthread_setspecific(req_cache_key, &req_cache);
    }
    r->qnext = req_cache.head;
    req_cache.head = r;
    req_cache.n++;
}

/* Makes the request object as soon as the request line is read, keeping
 * the path exactly as sent: routes match the raw path, so an encoded "/" or
 * NUL (%2F, %00) can never smuggle a different path past the router. */
static struct cc_request *new_request(struct cc_http_server *srv, struct MHD_Connection *conn,
                                      const char *uri)
{
    struct cc_request *req = req_alloc();
    req->srv = srv;
    srv_peer_address(conn, req->remote, sizeof req->remote);
    req->start_us = cc_mono_us();
    cc_uuid(req->request_id);
    size_t n = strcspn(uri, "?");
    if (n < sizeof req->path) {
        memcpy(req->path, uri, n);
        req->path[n] = '\0';
    } /* else: an empty path, which matches no route: 404 */
    return req;
}

/* The watch conn_guard.c keeps for this connection (NULL if none). */
static void *conn_watch(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* A query string of more than CC_QUERY_PARAMS_MAX parameters is cut to
 * nothing before libmicrohttpd parses it. libmicrohttpd (0.9.75) keeps each
 * parameter in the connection's fixed memory pool; a thousand of them
 * exhaust it, and it then logs a 431 it has no memory left to send, leaving
 * the client waiting for the timeout. It calls this callback with the
 * request line "before we modify URI or args" (connection.c) and parses the
 * arguments from the same buffer afterwards, so a NUL written right after
 * the '?' leaves it none to parse; the request is then answered 431 here.
 * The buffer is libmicrohttpd's own writable read buffer, handed over as
 * const only to say that it is not ours to keep. */
static int cut_query(const char *uri)
{
    const char *q = strchr(uri, '?');
    if (!q)
        return 0;
    size_t params = 1;
    for (const char *p = q + 1; *p; p++)
        if (*p == '&' && ++params > CC_QUERY_PARAMS_MAX)
            break;
    if (params <= CC_QUERY_PARAMS_MAX)
        return 0;
    ((char *)q)[1] = '\0';
    return 1;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct cc_http_server *srv = cls;
    cc_conn_guard_request_line(srv->guard, conn_watch(conn));
    struct cc_request *req = new_request(srv, conn, uri);
    req->too_many_params = cut_query(uri);
    return req;
}

/* Registers each connection with the guard while libmicrohttpd holds it. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct cc_http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? cc_conn_guard_opened(srv->guard, ci->connect_fd) : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        cc_conn_guard_closed(srv->guard, *socket_context);
        *socket_context = NULL;
    }
}

/* Percent-decodes query arguments; a decoded NUL becomes DEL so that it
 * cannot cut a value short unnoticed: every consumer rejects it. */
static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    size_t n = MHD_http_unescape(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0')
            s[i] = 0x7f;
    return n;
}

/* The headers that say where a body ends. */
struct framing {
    int te, te_chunked;       /* Transfer-Encoding headers; the one is "chunked" */
    int cl, cl_differ;        /* Content-Length headers; two of them disagree */
    const char *cl_first;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct framing *f = cls;
    (void)kind;
    if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->te++;
        f->te_chunked = value && strcasecmp(value, "chunked") == 0;
    } else if (strcasecmp(key, "Content-Length") == 0) {
        if (f->cl++ == 0)
            f->cl_first = value;
        else if (!value || !f->cl_first || strcmp(value, f->cl_first) != 0)
            f->cl_differ = 1;
    }
    return MHD_YES;
}

/* What is refused as soon as the headers are in, before a body is read:
 * too many query parameters (431), and a body whose end is ambiguous (400,
 * RFC 9112 section 6.3: a request smuggled past a proxy that reads the other
 * framing) — Content-Length with Transfer-Encoding, a Transfer-Encoding
 * other than chunked, Content-Length headers that disagree — after which the
 * connection is closed, since where the next request would begin is unknown. Returns 1
 * when it answered. */
static int refuse_early(struct cc_request *req)
{
    if (req->too_many_params) {
        char msg[128];
        snprintf(msg, sizeof msg, "A request takes at most %d query parameters.",
                 CC_QUERY_PARAMS_MAX);
        fail(req, CC_ERR_HEADERS_TOO_LARGE, NULL, msg);
        return 1;
    }
    struct framing f = {0};
    MHD_get_connection_values(req->conn, MHD_HEADER_KIND, count_framing, &f);
    const char *why = NULL;
    if (f.te && f.cl)
        why = "A request may have Content-Length or Transfer-Encoding, not both.";
    else if (f.te && (f.te > 1 || !f.te_chunked))
        why = "The only Transfer-Encoding taken is chunked, once.";
    else if (f.cl_differ)
        why = "The request has Content-Length headers that disagree.";
    if (!why)
        return 0;
    cc_req_add_header(req, "Connection", "close");
    fail(req, CC_ERR_BAD_FRAMING, NULL, why);
    return 1;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct cc_http_server *srv = cls;
    struct cc_request *req = *con_cls;
    if (!req) /* the URI callback always makes one; be safe anyway */
        *con_cls = req = new_request(srv, conn, url);
    if (!req->started) {
        req->started = 1;
        req->conn = conn;
        cc_conn_guard_headers_done(srv->guard, conn_watch(conn));
        req->method = method;
        cc_strlcpy(req->metric_method, method, sizeof req->metric_method);
        req->max_body = body_limit(srv, method, req->path);
        cc_buf_init(&req->body, req->max_body);
        if (refuse_early(req))
            return MHD_YES; /* answered before any body is read */
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        int64_t clen;
        if (cl && cc_parse_i64(cl, 0, INT64_MAX, &clen) == 0 && (uint64_t)clen > req->max_body) {
            req->too_large = 1;
            if ((uint64_t)clen > CC_BODY_DISCARD_MAX) {
                dispatch(req); /* answer now; libmicrohttpd closes the connection */
                return MHD_YES;
            }
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!req->too_large && cc_buf_append(&req->body, upload_data, *upload_data_size)) {
            req->too_large = 1;
            cc_buf_free(&req->body);
        }
        if (req->too_large) {
            req->discarded += *upload_data_size;
            if (req->discarded > CC_BODY_DISCARD_MAX && !req->responded)
                dispatch(req);
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->then && req->resumed) { /* cc_req_suspend's wait is over */
        cc_resumed_fn then = req->then;
        req->then = NULL;
        then(req, req->then_arg);
        if (!req->responded)
            fail(req, CC_ERR_INTERNAL, NULL, "The handler gave no response.");
        return MHD_YES;
    }
    if (req->pending) { /* a deferred handler finished: send its answer */
        MHD_queue_response(conn, (unsigned)req->status, req->pending);
        MHD_destroy_response(req->pending);
        req->pending = NULL;
        srv_log_request(req);
        return MHD_YES;
    }
    cc_conn_guard_body_done(srv->guard, conn_watch(conn));
    if (!req->responded && !req->deferred && !req->then) {
        /* A GET's reads (its access key, then what it shows) share one read
         * transaction: one snapshot, and one lock of the database instead
         * of one per read. A write on the way ends it (cc_store_read_hold). */
        int reads = !strcmp(method, "GET") || !strcmp(method, "HEAD");
        if (reads)
            cc_service_read_hold(srv->svc, 1);
        dispatch(req);
        if (reads)
            cc_service_read_hold(srv->svc, 0);
    }
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct cc_http_server *srv = cls;
    if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        cc_conn_guard_request_done(srv->guard, conn_watch(conn));
    struct cc_request *req = *con_cls;
    if (!req)
        return;
    if (req->then && req->resumed) {
        /* resumed, then closed before its answer could be made: the wait's
         * outcome is taken (and freed) all the same, its answer dropped */
        cc_resumed_fn then = req->then;
        req->then = NULL;
        req->gone = 1;
        then(req, req->then_arg);
    }
    if (req->status) /* answered: counted once, with its whole duration */
        cc_http_metrics_record(req->route_index - 1, req->metric_method, req->status,
                               cc_mono_us() - req->start_us);
    cc_buf_free(&req->body);
    if (req->pending)
        MHD_destroy_response(req->pending);
    for (int i = 0; i < req->nhdr; i++) {
        cc_free(req->hdr_name[i]);
        cc_free(req->hdr_value[i]);
    }
    req_release(req);
    *con_cls = NULL;
}

/* libmicrohttpd's own messages. A flood of refused connections would make
 * one line each, so at most CC_HTTP_LOG_PER_SECOND are written a second;
 * the next line written says how many were left out. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct cc_http_server *srv = cls;
    int64_t sec = cc_mono_ms() / 1000, suppressed = 0;
    pthread_mutex_lock(&srv->log_mu);
    if (sec != srv->log_second) {
        srv->log_second = sec;
        srv->log_in_second = 0;
    }
    int allowed = srv->log_in_second < CC_HTTP_LOG_PER_SECOND;
    if (allowed) {
        srv->log_in_second++;
        suppressed = srv->log_suppressed;
        srv->log_suppressed = 0;
    } else {
        srv->log_suppressed++;
    }
    pthread_mutex_unlock(&srv->log_mu);
    if (!allowed)
        return;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    struct cc_log_field f[] = {CC_LOG_STR("detail", msg), CC_LOG_INT("suppressed", suppressed)};
    cc_log_fields(CC_LOG_WARN, "http server", f, suppressed ? 2 : 1);
}

/* "HOST:PORT" with an IPv4 host or "localhost". */
static int parse_listen(const char *listen, struct sockaddr_in *sa)
{
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return -1;
    char host[64];
    size_t hl = (size_t)(colon - listen);
    if (hl == 0 || hl >= sizeof host)
        return -1;
    memcpy(host, listen, hl);
    host[hl] = '\0';
    int64_t port;
    if (cc_parse_i64(colon + 1, 0, 65535, &port))
        return -1;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0)
        cc_strlcpy(host, "127.0.0.1", sizeof host);
    if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return -1;
    return 0;
}

/* Lets the pool run what is queued, then ends its threads. */
static void pool_stop(struct cc_http_server *srv)
{
    struct blocking_pool *p = &srv->pool;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    p->nthreads = 0;
}

static void pool_destroy(struct cc_http_server *srv)
{
    cc_acs_state_free(srv->acs);
    cc_tls_free(srv->tls);
    cc_conn_guard_free(srv->guard);
    pthread_mutex_destroy(&srv->log_mu);
    pthread_mutex_destroy(&srv->pool.mu);
    pthread_cond_destroy(&srv->pool.cv);
    pthread_cond_destroy(&srv->pool.none_waiting);
    cc_free(srv->pool.threads);
    cc_free(srv);
}

enum cc_err cc_http_start(const struct cc_http_config *cfg, struct cc_service *svc,
                          struct cc_http_server **out, struct cc_error *err)
{
    struct sockaddr_in sa;
    if (parse_listen(cfg->listen, &sa))
        return cc_error_set(err, CC_ERR_CONFIG, NULL,
                            "listen must be IPV4:PORT (for example 127.0.0.1:8080), not \"%s\"",
                            cfg->listen);
    if (cfg->trusted_proxies && !srv_proxies_valid(cfg->trusted_proxies))
        return cc_error_set(err, CC_ERR_CONFIG, NULL,
                            "trusted_proxies must be comma-separated IPv4 addresses, IPv4 "
                            "networks (10.0.0.0/8) or IPv6 addresses, not \"%s\"",
                            cfg->trusted_proxies);
    struct cc_http_server *srv = cc_calloc(1, sizeof *srv);
    int https = cfg->tls_cert_file && cfg->tls_cert_file[0];
    if (https != (cfg->tls_key_file && cfg->tls_key_file[0])) {
        cc_free(srv);
        return cc_error_set(err, CC_ERR_CONFIG, NULL,
                            "HTTPS needs both tls_cert_file and tls_key_file");
    }
    if (https && !MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK)) {
        cc_free(srv);
        return cc_error_set(err, CC_ERR_CONFIG, NULL,
                            "this libmicrohttpd has no TLS support; use a reverse proxy for HTTPS");
    }
    if (https && cc_tls_new(cfg->tls_cert_file, cfg->tls_key_file, &srv->tls, err)) {
        cc_free(srv);
        return err->code;
    }
    cc_strlcpy(srv->trusted_proxies, cfg->trusted_proxies ? cfg->trusted_proxies : "",
               sizeof srv->trusted_proxies);
    srv->hsts_max_age_s = cfg->hsts_max_age_s;
    srv->acme_only = cfg->acme_only;
    srv->metrics_only = cfg->metrics_only;
    srv->svc = svc;
    srv->max_body = cfg->max_body;
    srv->import_max_body = cfg->import_max_body;
    cc_strlcpy(srv->public_url, cfg->public_url ? cfg->public_url : "", sizeof srv->public_url);
    srv->acs = cc_acs_state_new(cfg->acs_requests_per_minute > 0 ? cfg->acs_requests_per_minute
                                                                 : 6000,
                                cfg->acs_nonces_per_key);
    srv->guard = cc_conn_guard_new(
        cfg->header_timeout_s > 0 ? cfg->header_timeout_s : CC_HEADER_TIMEOUT_DEFAULT_S,
        cfg->body_timeout_s > 0 ? cfg->body_timeout_s : CC_BODY_TIMEOUT_DEFAULT_S,
        cfg->connection_timeout_s > 0 ? cfg->connection_timeout_s : 30);
    pthread_mutex_init(&srv->log_mu, NULL);
    struct blocking_pool *p = &srv->pool;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    pthread_cond_init(&p->none_waiting, NULL);
    p->threads = cc_calloc((size_t)(cfg->blocking_threads > 0 ? cfg->blocking_threads : 1),
                           sizeof *p->threads);
    unsigned threads = cfg->threads > 0 ? (unsigned)cfg->threads : 4;
    unsigned conns = cfg->max_connections ? cfg->max_connections : CC_CONNECTIONS_MAX_DEFAULT;
    unsigned per_address = cfg->max_connections_per_address ? cfg->max_connections_per_address
                                                            : CC_CONNECTIONS_PER_ADDRESS_DEFAULT;
    /* HTTPS: TLS 1.3 and 1.2 only, AEAD ciphers with forward secrecy only; the
     * certificate comes from tls.c at each handshake, so that SIGHUP can
     * replace it without touching the connections that are open. (GnuTLS
     * takes a retrieve function; libmicrohttpd reads it as a pointer.) */
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, cc_tls_retrieve_callback()},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)CC_TLS_PRIORITIES},
        {MHD_OPTION_END, 0, NULL},
    };
    if (!srv->tls)
        tls_opts[0].option = MHD_OPTION_END;
    srv->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
            MHD_ALLOW_SUSPEND_RESUME | (srv->tls ? MHD_USE_TLS : 0), 0, NULL, NULL,
        on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, conns, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_address,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv, MHD_OPTION_ARRAY, tls_opts,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!srv->daemon) {
        pool_destroy(srv);
        return cc_error_set(err, CC_ERR_IO, NULL, "cannot listen on %s (in use, or not allowed)",
                            cfg->listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : ntohs(sa.sin_port);
    p->max = cfg->blocking_threads > 0 ? cfg->blocking_threads : 1;
    int want = p->max < CC_POOL_START ? p->max : CC_POOL_START;
    pthread_mutex_lock(&p->mu);
    for (; p->nthreads < want; p->nthreads++)
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_main, srv) != 0)
            break;
    int started = p->nthreads;
    pthread_mutex_unlock(&p->mu);
    if (started == 0) {
        MHD_stop_daemon(srv->daemon);
        pool_destroy(srv);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "cannot start threads");
    }
    *out = srv;
    return CC_OK;
}

unsigned cc_http_port(const struct cc_http_server *srv)
{
    return srv->port;
}

int cc_http_is_tls(const struct cc_http_server *srv)
{
    return srv->tls != NULL;
}

enum cc_err cc_http_reload_tls(struct cc_http_server *srv, struct cc_error *err)
{
    if (!srv->tls)
        return cc_error_set(err, CC_ERR_CONFIG, NULL, "the server does not speak HTTPS");
    return cc_tls_reload(srv->tls, err);
}

void cc_http_stop(struct cc_http_server *srv)
{
    if (!srv)
        return;
    MHD_quiesce_daemon(srv->daemon);
    /* Deferred and suspended requests finish and resume their connections
     * first: libmicrohttpd must not be stopped with connections suspended. */
    pthread_mutex_lock(&srv->pool.mu);
    srv->pool.stopping = 1;
    while (srv->pool.waiting)
        pthread_cond_wait(&srv->pool.none_waiting, &srv->pool.mu);
    pthread_mutex_unlock(&srv->pool.mu);
    pool_stop(srv);
    MHD_stop_daemon(srv->daemon);
    pool_destroy(srv);
}
