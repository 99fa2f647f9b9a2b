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
 * suspended, so the HTTP worker threads are never the ones waiting. The pool
 * starts with CC_POOL_START threads and adds one whenever a request waits
 * with no thread free, up to max (blocking_threads): an idle server keeps
 * no stacks it has not needed. */
#define CC_POOL_START 4
struct blocking_pool {
    pthread_t *threads;
    int nthreads, max;
    int idle;                     /* threads waiting for a request */
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
    size_t import_max_body;       /* the body cap of routes with CC_ROUTE_CSV_BODY */
    unsigned port;
    struct blocking_pool pool;
    struct cc_acs_state *acs;     /* Alibaba API: replay cache, per-key rate */
    struct cc_conn_guard *guard;  /* deadlines for request headers and idle keep-alive */
    char public_url[512];         /* where people reach the server: an allowed Origin */
    struct cc_tls *tls;           /* the HTTPS certificate and key; NULL: plain HTTP */
    char trusted_proxies[512];    /* addresses whose X-Forwarded-Proto is believed */
    int64_t hsts_max_age_s;
    int acme_only;                /* only the HTTP-01 answers (acme_http_listen) */
    int metrics_only;             /* only GET /metrics, no key (metrics_listen) */
    pthread_mutex_t log_mu;       /* libmicrohttpd's messages, at most a few a second */
    int64_t log_second;
    int log_in_second;
    int64_t log_suppressed;
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
    char remote[INET6_ADDRSTRLEN];  /* the peer's address, "" when unknown */
    char client[INET6_ADDRSTRLEN];  /* cc_req_client_address's answer, once asked */
    int64_t start_us;
    int started;
    struct cc_buf body;
    size_t max_body;              /* this request's body cap: its route's */
    size_t discarded;
    int too_large;
    int too_many_params;          /* the query string was cut: answered 431 */
    int authed;
    int no_challenge;             /* a console request: no WWW-Authenticate on 401 */
    int touch_session;            /* the session's last_seen_at is due to be written */
    const struct cc_route *route;
    int route_index;              /* 1 + its row in cc_http_routes; 0: no row (metrics) */
    char metric_method[16];       /* the method, kept for on_completed (metrics) */
    struct cc_caller caller;
    struct cc_origin origin;      /* the client's address and this request's id */
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

/* One entry of trusted_proxies: an IPv4 address, an IPv4 network a.b.c.d/n,
 * or an IPv6 address. */
struct proxy_entry {
    int family;              /* AF_INET or AF_INET6 */
    struct in_addr net4;
    uint32_t mask4;          /* network order */
    struct in6_addr addr6;
};

/* Takes the next comma-separated entry of *list (spaces around it ignored)
 * and parses it. Returns 1 with *e filled, 0 at the end, -1 when the entry
 * is not an address (*list still moves past it). */
static int next_proxy(const char **list, struct proxy_entry *e)
{
    const char *l = *list;
    while (*l == ' ' || *l == ',')
        l++;
    if (!*l)
        return 0;
    size_t n = strcspn(l, ",");
    *list = l + n;
    while (n && l[n - 1] == ' ')
        n--;
    char item[64];
    if (n >= sizeof item)
        return -1;
    memcpy(item, l, n);
    item[n] = '\0';
    char *slash = strchr(item, '/');
    int64_t bits = 32;
    if (slash) {
        *slash = '\0';
        if (cc_parse_i64(slash + 1, 0, 32, &bits))
            return -1;
    }
    memset(e, 0, sizeof *e);
    if (inet_pton(AF_INET, item, &e->net4) == 1) {
        e->family = AF_INET;
        e->mask4 = bits ? htonl(~(uint32_t)0 << (32 - bits)) : 0;
        return 1;
    }
    if (!slash && inet_pton(AF_INET6, item, &e->addr6) == 1) {
        e->family = AF_INET6;
        return 1;
    }
    return -1;
}

/* Whether every entry of list is an address or network. */
static int proxies_valid(const char *list)
{
    struct proxy_entry e;
    int rc;
    while ((rc = next_proxy(&list, &e)) > 0)
        ;
    return rc == 0;
}

/* Whether addr (text) is one of list's entries. */
static int address_listed(const char *list, const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    int is4 = inet_pton(AF_INET, addr, &a4) == 1;
    if (!is4 && inet_pton(AF_INET6, addr, &a6) != 1)
        return 0;
    struct proxy_entry e;
    int rc;
    while ((rc = next_proxy(&list, &e)) != 0) {
        if (rc < 0)
            continue;
        if (is4 && e.family == AF_INET && (a4.s_addr & e.mask4) == (e.net4.s_addr & e.mask4))
            return 1;
        if (!is4 && e.family == AF_INET6 && memcmp(&a6, &e.addr6, sizeof a6) == 0)
            return 1;
    }
    return 0;
}

/* Whether the request came through a reverse proxy named in trusted_proxies. */
static int from_trusted_proxy(struct cc_request *req)
{
    return req->srv->trusted_proxies[0] && address_listed(req->srv->trusted_proxies, req->remote);
}

const char *cc_req_client_address(struct cc_request *req)
{
    if (req->client[0])
        return req->client;
    cc_strlcpy(req->client, req->remote, sizeof req->client);
    const char *xff = req->conn && from_trusted_proxy(req)
                          ? cc_req_header(req, "X-Forwarded-For") : NULL;
    if (xff) { /* the proxy appends the address it saw: the last entry */
        const char *last = strrchr(xff, ',');
        last = last ? last + 1 : xff;
        while (*last == ' ')
            last++;
        char a[INET6_ADDRSTRLEN];
        size_t n = strcspn(last, " ");
        unsigned char buf[sizeof(struct in6_addr)];
        if (n < sizeof a) {
            memcpy(a, last, n);
            a[n] = '\0';
            if (inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1)
                cc_strlcpy(req->client, a, sizeof req->client);
        }
    }
    return req->client;
}

/* HTTPS: this server's own TLS, or X-Forwarded-Proto: https from a reverse
 * proxy named in trusted_proxies (from anyone else the header is a claim
 * that proves nothing, and is ignored). */
int cc_req_is_tls(struct cc_request *req)
{
    if (req->srv->tls)
        return 1;
    if (!from_trusted_proxy(req))
        return 0;
    const char *p = cc_req_header(req, "X-Forwarded-Proto");
    return p && strcasecmp(p, "https") == 0;
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

/* Whether a browser sent the request. A browser that is answered 401 with
 * a Basic challenge asks its user for a password and then sends it with
 * every later request to this origin, including those another site's page
 * makes it send; so browsers get no challenge (the console signs in with
 * its own form), while scripts and tools, which send Basic without being
 * asked or ask for the challenge, still get it. Every browser names itself
 * "Mozilla/..." and sends Sec-Fetch-Dest to secure origins; a page loaded
 * by navigation asks for text/html. */
static int from_browser(struct cc_request *req)
{
    if (!req->conn)
        return 0;
    const char *ua = cc_req_header(req, "User-Agent");
    const char *accept = cc_req_header(req, "Accept");
    return (ua && strncmp(ua, "Mozilla/", 8) == 0) || cc_req_header(req, "Sec-Fetch-Dest") ||
           cc_req_header(req, "Sec-Fetch-Site") || (accept && strstr(accept, "text/html"));
}

/* Whether the console sent the request: it marks every call with
 * "X-Requested-With: certcontacts" (a header another site's page cannot add
 * without a preflight this server never grants), and a signed-in console
 * also sends its session cookie, even once the session has ended. Its 401s
 * open the console's own sign-in dialog, never the browser's password box. */
static int from_console(struct cc_request *req)
{
    if (!req->conn)
        return 0;
    const char *xrw = cc_req_header(req, "X-Requested-With");
    return (xrw && strcasecmp(xrw, "certcontacts") == 0) || cc_req_cookie(req, "cc_session");
}

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
    if (req->srv->hsts_max_age_s > 0 && req->conn && cc_req_is_tls(req)) {
        char v[64];
        snprintf(v, sizeof v, "max-age=%lld", (long long)req->srv->hsts_max_age_s);
        MHD_add_response_header(r, "Strict-Transport-Security", v);
    }
}

/* The request's line in the log, through the one field writer: the method,
 * path and User-Agent are whatever the client sent, and only the writer's
 * encoding stands between them and the log. */
static void log_request(struct cc_request *req)
{
    double ms = (double)(cc_mono_us() - req->start_us) / 1000.0;
    const char *ua = req->conn ? cc_req_header(req, "User-Agent") : NULL;
    struct cc_log_field f[] = {
        CC_LOG_STR("request_id", req->request_id),
        req->authed ? CC_LOG_INT("account", req->caller.account_id) : CC_LOG_NULL("account"),
        CC_LOG_STR("method", req->method ? req->method : ""),
        CC_LOG_STR("path", req->path),
        CC_LOG_INT("status", req->status),
        CC_LOG_NUM("duration_ms", ms),
        CC_LOG_STR("remote", req->conn ? cc_req_client_address(req) : req->remote),
        CC_LOG_STR("user_agent", ua),
    };
    cc_log_fields_deferred(CC_LOG_INFO, "request", f, sizeof f / sizeof f[0]);
}

/* Sends r (which it takes) with the headers every answer has, those the
 * handler added, and Content-Type type (NULL: none), then logs the request.
 * Off a libmicrohttpd thread (a deferred request) r waits for the resume. */
static void queue_response(struct cc_request *req, int status, struct MHD_Response *r,
                           const char *type)
{
    if (type)
        MHD_add_response_header(r, "Content-Type", type);
    add_common_headers(req, r);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    for (int i = 0; i < req->nhdr; i++)
        MHD_add_response_header(r, req->hdr_name[i], req->hdr_value[i]);
    if (req->deferred) {
        req->pending = r;
        return;
    }
    MHD_queue_response(req->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    log_request(req);
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
    queue_response(req, status, r, body ? type : NULL);
}

/* A streamed answer: fill is called for more whenever libmicrohttpd has
 * sent what it had (see cc_req_stream). */
struct stream {
    cc_stream_fn fill;
    void (*done)(void *arg);
    void *arg;
    struct cc_buf buf;
    size_t off;
    int ended;
};

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *st = cls;
    (void)pos;
    while (st->off >= st->buf.len) {
        if (st->ended)
            return st->ended > 0 ? MHD_CONTENT_READER_END_OF_STREAM
                                 : MHD_CONTENT_READER_END_WITH_ERROR;
        cc_buf_reset(&st->buf);
        st->off = 0;
        int more = st->fill(st->arg, &st->buf);
        if (more <= 0)
            st->ended = more < 0 ? -1 : 1;
    }
    size_t n = st->buf.len - st->off;
    if (n > max)
        n = max;
    memcpy(out, st->buf.data + st->off, n);
    st->off += n;
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    if (st->done)
        st->done(st->arg);
    cc_buf_free(&st->buf);
    free(st);
}

void cc_req_stream(struct cc_request *req, int status, const char *type, cc_stream_fn fill,
                   void (*done)(void *arg), void *arg)
{
    struct stream *st = calloc(1, sizeof *st);
    struct MHD_Response *r = NULL;
    if (st) {
        st->fill = fill;
        st->done = done;
        st->arg = arg;
        cc_buf_init(&st->buf, CC_STREAM_PART_MAX);
        r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, stream_read, st,
                                              stream_free);
    }
    if (!r || req->responded) {
        if (r)
            MHD_destroy_response(r); /* frees st through stream_free */
        else if (st)
            stream_free(st);
        else if (done)
            done(arg);
        return;
    }
    req->responded = 1;
    req->status = status;
    queue_response(req, status, r, type);
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
    size_t len = 0;
    char *s = cc_json_compact(body, &len);
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

/* A message as a JSON string. A message cut to its buffer may end inside
 * a UTF-8 sequence, which JSON cannot carry: the cut is moved back to the
 * last whole character; if still not valid text, fallback (English). */
static json_t *text_json(const char *s, const char *fallback)
{
    json_t *v = json_string(s);
    for (size_t n = strlen(s), cut = 1; !v && cut <= 3 && cut <= n; cut++)
        v = json_stringn(s, n - cut);
    return v ? v : json_string(fallback && fallback[0] ? fallback : "");
}

json_t *cc_render_problems(const struct cc_error *err, const char *lang)
{
    json_t *list = json_array();
    for (int i = 0; i < err->n_problems && i < CC_ERROR_PROBLEMS_MAX; i++) {
        const struct cc_error_problem *p = &err->problems[i];
        json_t *o = json_pack("{s:s, s:s, s:s}", "code", p->code, "field", p->field, "path",
                              p->path);
        json_object_set_new(o, "message", text_json(cc_error_problem_message(p, lang),
                                                    p->message));
        if (p->contact_id > 0)
            json_object_set_new(o, "contact_id", json_integer(p->contact_id));
        json_array_append_new(list, o);
    }
    return list;
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
    const char *lang = cc_req_lang(req);
    const char *msg = cc_error_message(err, lang), *english = err->message;
    if (cc_err_hides_detail(err->code)) { /* the one rule: see core/errors.h */
        cc_log(CC_LOG_ERROR, "request failed", "request_id", req->request_id, "error",
               err->message[0] ? err->message : cc_strerror(err->code), NULL);
        english = cc_err_hidden_message();
        msg = cc_tr(lang, english);
    }
    if (status == 401 && !req->no_challenge && !from_console(req) && !from_browser(req))
        cc_req_add_header(req, "WWW-Authenticate", "Basic realm=\"certcontacts\"");
    json_t *o = json_object();
    json_object_set_new(o, "code", json_string(code));
    json_object_set_new(o, "message", text_json(msg, english));
    json_object_set_new(o, "request_id", json_string(req->request_id));
    if (err->attempts_left >= 0)
        json_object_set_new(o, "attempts_left", json_integer(err->attempts_left));
    if (err->n_problems > 0 && !cc_err_hides_detail(err->code))
        json_object_set_new(o, "problems", cc_render_problems(err, lang));
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
        if (!req->responded && !req->deferred)
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
    if (!req->responded && !req->deferred)
        fail(req, CC_ERR_INTERNAL, NULL, "The handler gave no response.");
}

/* The connection's peer address as text ("" when libmicrohttpd has none). */
static void peer_address(struct MHD_Connection *conn, char *out, size_t outsz)
{
    out[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
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
    peer_address(conn, req->remote, sizeof req->remote);
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
    if (req->pending) { /* a deferred handler finished: send its answer */
        MHD_queue_response(conn, (unsigned)req->status, req->pending);
        MHD_destroy_response(req->pending);
        req->pending = NULL;
        log_request(req);
        return MHD_YES;
    }
    cc_conn_guard_body_done(srv->guard, conn_watch(conn));
    if (!req->responded && !req->deferred) {
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
    if (cfg->trusted_proxies && !proxies_valid(cfg->trusted_proxies))
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
    /* Deferred requests finish and resume their connections first:
     * libmicrohttpd must not be stopped with connections suspended. */
    pool_stop(srv);
    MHD_stop_daemon(srv->daemon);
    pool_destroy(srv);
}
