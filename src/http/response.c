/*
 * response.c — a request's one answer: the headers every answer has, the
 * handler's own, a body (JSON, text, streamed or none), and the request's
 * log line; errors as JSON {code, message, request_id}, each field's
 * problem listed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/server_int.h"
#include "util/util.h"

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
void srv_common_headers(struct cc_request *req, struct MHD_Response *r)
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
void srv_log_request(struct cc_request *req)
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
    srv_common_headers(req, r);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    for (int i = 0; i < req->nhdr; i++)
        MHD_add_response_header(r, req->hdr_name[i], req->hdr_value[i]);
    if (req->deferred) {
        req->pending = r;
        return;
    }
    if (req->gone) {
        MHD_destroy_response(r);
        srv_log_request(req);
        return;
    }
    MHD_queue_response(req->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    srv_log_request(req);
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

void cc_req_json_text(struct cc_request *req, int status, char *body, size_t len)
{
    send_response(req, status, body, len);
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
