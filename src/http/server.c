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
#include "util/util.h"

/* Requests whose handler may wait on the network (an SMTP server, an SMS
 * gateway) run on these threads while libmicrohttpd holds their connection
 * suspended, so the HTTP worker threads are never the ones waiting. */
struct blocking_pool {
    pthread_t *threads;
    int nthreads;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cc_request *head, *tail;
    int queued;
    int stopping;
};

struct cc_http_server {
    struct MHD_Daemon *daemon;
    struct cc_service *svc;
    size_t max_body;
    unsigned port;
    struct blocking_pool pool;
    struct cc_acs_state *acs;     /* Alibaba API: replay cache, per-key rate */
};

#define MAX_EXTRA_HEADERS 6
/* A body past the cap is read and thrown away up to this much, so that the
 * client gets its 413 instead of a reset connection; past it we hang up. */

struct cc_request {
    struct cc_http_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    char path[512];
    char request_id[37];
    int64_t start_us;
    int started;
    struct cc_buf body;
    size_t discarded;
    int too_large;
    int authed;
    int no_challenge;             /* a console request: no WWW-Authenticate on 401 */
    int touch_session;            /* the session's last_seen_at is due to be written */
    const struct cc_route *route;
    struct cc_caller caller;
    struct cc_route_args path_args;
    int responded;
    int deferred;                 /* running on the blocking pool */
    cc_handler deferred_fn;
    struct cc_request *qnext;
    struct MHD_Response *pending; /* a deferred handler's response, sent on resume */
    int status;
    int nhdr;
    char *hdr_name[MAX_EXTRA_HEADERS];
    char *hdr_value[MAX_EXTRA_HEADERS];
};

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

void cc_req_set_caller(struct cc_request *req, const struct cc_caller *caller)
{
    req->caller = *caller;
    req->authed = 1;
}

struct cc_acs_state *cc_req_acs_state(struct cc_request *req)
{
    return req->srv->acs;
}

void cc_req_source_addr(struct cc_request *req, char *out, size_t outsz)
{
    out[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        req->conn ? MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (!sa)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)outsz);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)outsz);
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

int cc_req_is_tls(struct cc_request *req)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_PROTOCOL);
    if (ci && ci->protocol)
        return 1;
    const char *p = cc_req_header(req, "X-Forwarded-Proto");
    return p && strcasecmp(p, "https") == 0;
}

const char *cc_req_cookie(struct cc_request *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_COOKIE_KIND, name);
}

static void fail(struct cc_request *req, enum cc_err code, const char *field, const char *msg);

/* On every response: the console's Content-Security-Policy and the other
 * headers that keep a browser from sniffing, framing or leaking. */
static void add_common_headers(struct cc_request *req, struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Request-Id", req->request_id);
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'none'; script-src 'self'; style-src 'self'; "
                            "img-src 'self' data:; connect-src 'self'; font-src 'self'; "
                            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static void log_request(struct cc_request *req)
{
    char ts[32], line[1024];
    cc_time_rfc3339(cc_now_ms(), ts, sizeof ts);
    double ms = (double)(cc_mono_us() - req->start_us) / 1000.0;
    json_t *path = json_string(req->path);   /* escapes whatever the path holds */
    char *p = path ? json_dumps(path, JSON_ENCODE_ANY) : NULL;
    char account[24] = "null";
    if (req->authed)
        snprintf(account, sizeof account, "%lld", (long long)req->caller.account_id);
    int n = snprintf(line, sizeof line,
                     "{\"time\":\"%s\",\"level\":\"info\",\"msg\":\"request\",\"request_id\":\"%s\","
                     "\"account\":%s,\"method\":\"%s\",\"path\":%s,\"status\":%d,"
                     "\"duration_ms\":%.3f}",
                     ts, req->request_id, account, req->method, p ? p : "\"\"", req->status, ms);
    free(p);
    json_decref(path);
    if (n > 0 && (size_t)n < sizeof line)
        cc_log_line(line, (size_t)n);
}

static void send_typed(struct cc_request *req, int status, const char *type, char *body,
                       size_t len)
{
    if (req->responded) { /* a handler answered twice: keep the first */
        free(body);
        return;
    }
    req->responded = 1;
    req->status = status;
    struct MHD_Response *r =
        body ? MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE)
             : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return;
    }
    if (body)
        MHD_add_response_header(r, "Content-Type", type);
    add_common_headers(req, r);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    for (int i = 0; i < req->nhdr; i++)
        MHD_add_response_header(r, req->hdr_name[i], req->hdr_value[i]);
    if (req->deferred) {
        /* Not on a libmicrohttpd thread: the response waits for the resume. */
        req->pending = r;
        return;
    }
    MHD_queue_response(req->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    log_request(req);
}

static void send_response(struct cc_request *req, int status, char *body, size_t len)
{
    send_typed(req, status, "application/json; charset=utf-8", body, len);
}

void cc_req_text(struct cc_request *req, int status, const char *type, const char *body,
                 size_t len)
{
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, body, len);
        copy[len] = '\0';
    }
    send_typed(req, status, type, copy, copy ? len : 0);
}

void cc_req_json(struct cc_request *req, int status, json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!s) {
        char code[32], fallback[128];
        cc_err_code(CC_ERR_INTERNAL, NULL, CC_API_REST, code, sizeof code);
        snprintf(fallback, sizeof fallback,
                 "{\"code\":\"%s\",\"message\":\"cannot render the response\"}", code);
        s = strdup(fallback);
        status = cc_err_http_status(CC_ERR_INTERNAL);
    }
    send_response(req, status, s, strlen(s));
}

void cc_req_empty(struct cc_request *req, int status)
{
    send_response(req, status, NULL, 0);
}

void cc_req_error(struct cc_request *req, const struct cc_error *err)
{
    cc_req_error_extra(req, err, NULL);
}

void cc_req_error_extra(struct cc_request *req, const struct cc_error *err, json_t *extra)
{
    char code[96];
    cc_err_api_code(err, code, sizeof code);
    int status = cc_err_http_status(err->code);
    const char *msg = err->message[0] ? err->message : cc_strerror(err->code);
    if (cc_err_hides_detail(err->code)) { /* the one rule: see core/errors.h */
        cc_log(CC_LOG_ERROR, "request failed", "request_id", req->request_id, "error", msg, NULL);
        msg = cc_err_hidden_message();
    }
    if (status == 401 && !req->no_challenge)
        cc_req_add_header(req, "WWW-Authenticate", "Basic realm=\"certcontacts\"");
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(code));
    json_object_set_new(o, "message", json_string(msg));
    json_object_set_new(o, "request_id", json_string(req->request_id));
    if (err->attempts_left >= 0)
        json_object_set_new(o, "attempts_left", json_integer(err->attempts_left));
    if (err->code == CC_ERR_CONTACT_INELIGIBLE && err->n_problems > 0) {
        json_t *list = json_array();
        for (int i = 0; i < err->n_problems && i < CC_ERROR_PROBLEMS_MAX; i++)
            json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "code", err->problems[i].code,
                                                  "field", err->problems[i].field, "message",
                                                  err->problems[i].message));
        json_object_set_new(o, "problems", list);
    }
    if (err->retry_after_s > 0) {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (long long)err->retry_after_s);
        cc_req_add_header(req, "Retry-After", ra);
        json_object_set_new(o, "retry_after", json_integer(err->retry_after_s));
    }
    if (extra) {
        json_object_update_missing(o, extra);
        json_decref(extra);
    }
    cc_req_json(req, status, o);
}

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
        while (!p->head && !p->stopping)
            pthread_cond_wait(&p->cv, &p->mu);
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
    if (p->stopping || p->queued >= CC_BLOCKING_QUEUE_MAX) {
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
    if (cookie)
        req->no_challenge = 1; /* no browser password prompt for the console */
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
    add_common_headers(req, r);
    if (!fresh)
        MHD_add_response_header(r, "Content-Type", f->content_type);
    MHD_add_response_header(r, "ETag", f->etag);
    MHD_add_response_header(r, "Cache-Control", "no-cache");
    MHD_queue_response(req->conn, (unsigned)req->status, r);
    MHD_destroy_response(r);
    log_request(req);
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

static void dispatch(struct cc_request *req)
{
    /* Alibaba Cloud RPC calls come to "/" with an action; a plain GET / is
     * not one of them. They are authenticated by their signatures, not by
     * HTTP Basic, and answer in Alibaba's error shape. */
    if (strcmp(req->path, "/") == 0 &&
        (cc_req_query(req, "Action") || cc_req_header(req, "x-acs-action"))) {
        for (char *p = req->request_id; *p; p++) /* Alibaba's ids are upper case */
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        cc_acs_dispatch(req, req->too_large);
        if (!req->responded && !req->deferred)
            fail(req, CC_ERR_INTERNAL, NULL, "The handler gave no response.");
        return;
    }
    if (req->too_large) {
        char msg[128];
        snprintf(msg, sizeof msg, "The request body is larger than %zu bytes.", req->srv->max_body);
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
    if (strcmp(req->path, "/v1/session") == 0)
        req->no_challenge = 1; /* the console asks whether it is signed in */
    /* The route's rule says who may call it; a method the path does not
     * have is answered only to a caller who could call the path at all. */
    struct cc_error err;
    int need_auth = route ? route->access != CC_ACCESS_PUBLIC : strncmp(req->path, "/v1/", 4) == 0;
    if (need_auth) {
        if (authenticate(req, &err)) {
            cc_req_error(req, &err);
            return;
        }
        req->authed = 1;
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
    req->route = route;
    if (req->touch_session)
        cc_req_defer(req, touch_then_handle);
    else
        route->handler(req);
    if (!req->responded && !req->deferred)
        fail(req, CC_ERR_INTERNAL, NULL, "The handler gave no response.");
}

/* Makes the request object as soon as the request line is read, keeping
 * the path exactly as sent: routes match the raw path, so an encoded "/" or
 * NUL (%2F, %00) can never smuggle a different path past the router. */
static struct cc_request *new_request(struct cc_http_server *srv, const char *uri)
{
    struct cc_request *req = cc_calloc(1, sizeof *req);
    req->srv = srv;
    req->start_us = cc_mono_us();
    cc_uuid(req->request_id);
    size_t n = strcspn(uri, "?");
    if (n < sizeof req->path) {
        memcpy(req->path, uri, n);
        req->path[n] = '\0';
    } /* else: an empty path, which matches no route: 404 */
    return req;
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)conn;
    return new_request(cls, uri);
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    struct cc_http_server *srv = cls;
    struct cc_request *req = *con_cls;
    if (!req) /* the URI callback always makes one; be safe anyway */
        *con_cls = req = new_request(srv, url);
    if (!req->started) {
        req->started = 1;
        req->conn = conn;
        req->method = method;
        cc_buf_init(&req->body, srv->max_body);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        int64_t clen;
        if (cl && cc_parse_i64(cl, 0, INT64_MAX, &clen) == 0 && (uint64_t)clen > srv->max_body) {
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
    if (req->pending) { /* a deferred handler finished: send its answer */
        MHD_queue_response(conn, (unsigned)req->status, req->pending);
        MHD_destroy_response(req->pending);
        req->pending = NULL;
        log_request(req);
        return MHD_YES;
    }
    if (!req->responded && !req->deferred)
        dispatch(req);
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct cc_request *req = *con_cls;
    if (!req)
        return;
    cc_buf_free(&req->body);
    if (req->pending)
        MHD_destroy_response(req->pending);
    for (int i = 0; i < req->nhdr; i++) {
        cc_free(req->hdr_name[i]);
        cc_free(req->hdr_value[i]);
    }
    cc_free(req);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    cc_log(CC_LOG_WARN, "http server", "detail", msg, NULL);
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
    pthread_mutex_destroy(&srv->pool.mu);
    pthread_cond_destroy(&srv->pool.cv);
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
    struct cc_http_server *srv = cc_calloc(1, sizeof *srv);
    srv->svc = svc;
    srv->max_body = cfg->max_body;
    srv->acs = cc_acs_state_new(cfg->acs_requests_per_minute > 0 ? cfg->acs_requests_per_minute
                                                                 : 6000,
                                cfg->acs_nonces_per_key);
    struct blocking_pool *p = &srv->pool;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->threads = cc_calloc((size_t)(cfg->blocking_threads > 0 ? cfg->blocking_threads : 1),
                           sizeof *p->threads);
    unsigned threads = cfg->threads > 0 ? (unsigned)cfg->threads : 4;
    unsigned conns = cfg->max_connections ? cfg->max_connections : CC_CONNECTIONS_MAX_DEFAULT;
    srv->daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG |
            MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL,
        on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv, MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout_s,
        MHD_OPTION_CONNECTION_LIMIT, conns, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!srv->daemon) {
        pool_destroy(srv);
        return cc_error_set(err, CC_ERR_IO, NULL, "cannot listen on %s (in use, or not allowed)",
                            cfg->listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = info ? info->port : ntohs(sa.sin_port);
    int want = cfg->blocking_threads > 0 ? cfg->blocking_threads : 1;
    for (; p->nthreads < want; p->nthreads++)
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_main, srv) != 0)
            break;
    if (p->nthreads == 0) {
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

void cc_http_stop(struct cc_http_server *srv)
{
    if (!srv)
        return;
    MHD_quiesce_daemon(srv->daemon);
    /* Deferred requests finish and resume their connections first:
     * libmicrohttpd must not be stopped with connections suspended. */
    pool_stop(srv);
    MHD_stop_daemon(srv->daemon);
    pool_destroy(srv);
}
