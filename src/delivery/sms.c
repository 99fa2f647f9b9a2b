/*
 * sms.c — the SMS entry point of the delivery layer and what delivery/ shares:
 * cc_send_sms() picks the configured provider (aliyun, webhook, or the
 * development-mode log stand-in), cc_delivery_check_config() refuses an
 * unusable configuration at start-up, and the one outbound HTTP helper every
 * HTTP provider goes through: one libcurl easy request with a timeout,
 * NOSIGNAL, an error buffer, no redirects, https only (http only to the
 * loopback, for tests) and the answer capped at 64 KiB.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void cc_delivery_global_init(void)
{
    pthread_once(&curl_once, curl_init_once);
}

void cc_delivery_set(struct cc_send_result *res, enum cc_send_status status, const char *code,
                     const char *fmt, ...)
{
    va_list ap;
    res->status = status;
    cc_strlcpy(res->code, code ? code : "", sizeof res->code);
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof res->reason, fmt, ap);
    va_end(ap);
}

int cc_delivery_rc(const struct cc_send_result *res)
{
    return res->status == CC_SEND_OK ? 0 : -1;
}

const char *cc_send_status_name(enum cc_send_status s)
{
    switch (s) {
    case CC_SEND_OK: return "ok";
    case CC_SEND_RETRY: return "retry";
    case CC_SEND_THROTTLED: return "throttled";
    case CC_SEND_INVALID_TARGET: return "invalid_target";
    case CC_SEND_GATEWAY_ACCOUNT: return "gateway_account";
    case CC_SEND_REJECTED: return "rejected";
    case CC_SEND_NOT_CONFIGURED: return "not_configured";
    }
    return "unknown";
}

static int empty(const char *s)
{
    return !s || !*s;
}

/* Reads scheme, host and port of url into the out strings (may be NULL).
 * Returns 0, or -1 when url does not parse. */
static int url_parts(const char *url, char *scheme, size_t schemesz, char *host, size_t hostsz,
                     char *port, size_t portsz)
{
    int rc = -1;
    char *s = NULL, *h = NULL, *p = NULL;
    CURLU *u = curl_url();
    if (!u)
        return -1;
    if (curl_url_set(u, CURLUPART_URL, url, 0) ||
        curl_url_get(u, CURLUPART_SCHEME, &s, 0) || curl_url_get(u, CURLUPART_HOST, &h, 0) ||
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT))
        goto out;
    if (scheme) {
        cc_strlcpy(scheme, s, schemesz);
        cc_ascii_lower(scheme);
    }
    if (host) {
        cc_strlcpy(host, h, hostsz);
        cc_ascii_lower(host);
    }
    if (port)
        cc_strlcpy(port, p, portsz);
    rc = 0;
out:
    curl_free(s);
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return rc;
}

void cc_delivery_url_where(const char *url, char *out, size_t outsz)
{
    char host[256], port[16];
    out[0] = '\0';
    if (!empty(url) && !url_parts(url, NULL, 0, host, sizeof host, port, sizeof port))
        snprintf(out, outsz, "%s:%s", host, port);
}

int cc_delivery_url_allowed(const char *url, const char *what, int *loopback_http, char *err,
                            size_t errsz)
{
    char scheme[16], host[256];
    if (loopback_http)
        *loopback_http = 0;
    if (empty(url) || url_parts(url, scheme, sizeof scheme, host, sizeof host, NULL, 0)) {
        snprintf(err, errsz, "%s is not a URL.", what);
        return 0;
    }
    if (!strcmp(scheme, "https"))
        return 1;
    if (!strcmp(scheme, "http") && (!strcmp(host, "127.0.0.1") || !strcmp(host, "localhost"))) {
        if (loopback_http)
            *loopback_http = 1;
        return 1;
    }
    snprintf(err, errsz, "%s must be an https:// URL (http:// only to 127.0.0.1 or localhost).",
             what);
    return 0;
}

struct sink {
    struct cc_buf *body;
    int too_large;
};

/* Keeps the answer up to the cap; returning short past it makes libcurl stop
 * with CURLE_WRITE_ERROR instead of reading an unbounded body. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t len = size * n;
    if (cc_buf_append(s->body, p, len)) {
        s->too_large = 1;
        return 0;
    }
    return len;
}

void cc_http_answer_free(struct cc_http_answer *ans)
{
    cc_buf_free(&ans->body);
}

/* One libcurl handle per thread, reset between requests: libcurl keeps the
 * handle's connections open, so messages to the same platform host reuse
 * a connection (and its TLS session) instead of opening one each time. */
static pthread_key_t handle_key;
static pthread_once_t handle_once = PTHREAD_ONCE_INIT;

static void handle_destroy(void *h)
{
    curl_easy_cleanup(h);
}

static void handle_key_init(void)
{
    pthread_key_create(&handle_key, handle_destroy);
}

static CURL *thread_handle(void)
{
    pthread_once(&handle_once, handle_key_init);
    CURL *h = pthread_getspecific(handle_key);
    if (h) {
        curl_easy_reset(h); /* options only: live connections stay */
        return h;
    }
    h = curl_easy_init();
    if (h && pthread_setspecific(handle_key, h)) {
        curl_easy_cleanup(h);
        h = NULL;
    }
    return h;
}

int cc_delivery_http_post(const char *url, const char *const *headers, size_t nheaders,
                          const char *body, size_t len, int64_t timeout_ms,
                          struct cc_http_answer *ans)
{
    int rc = -1, loopback = 0;
    CURL *h = NULL;
    struct curl_slist *hl = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    memset(ans, 0, sizeof *ans);
    cc_buf_init(&ans->body, CC_DELIVERY_MAX_ANSWER);
    struct sink sink = {&ans->body, 0};
    ans->curl_code = CURLE_FAILED_INIT;
    cc_delivery_url_where(url, ans->where, sizeof ans->where);
    if (!cc_delivery_url_allowed(url, "the gateway URL", &loopback, ans->error,
                                 sizeof ans->error)) {
        ans->curl_code = CURLE_UNSUPPORTED_PROTOCOL;
        return -1;
    }
    cc_delivery_global_init();
    if (!(h = thread_handle())) {
        cc_strlcpy(ans->error, "libcurl could not start a request", sizeof ans->error);
        goto out;
    }
    for (size_t i = 0; i < nheaders; i++) {
        struct curl_slist *t = curl_slist_append(hl, headers[i]);
        if (!t)
            goto out;
        hl = t;
    }
    /* No "Expect: 100-continue" round trip: gateways answer the whole POST. */
    struct curl_slist *t = curl_slist_append(hl, "Expect:");
    if (!t)
        goto out;
    hl = t;
    const char *proto = loopback ? "http" : "https";
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, proto);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, proto);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CC_DELIVERY_MAX_ANSWER);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "certcontacts");
    if (loopback)
        curl_easy_setopt(h, CURLOPT_PROXY, ""); /* a test receiver is never behind a proxy */
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    CURLcode cr = curl_easy_perform(h);
    long status = 0, oserr = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
    ans->curl_code = (int)cr;
    ans->status = status;
    ans->too_large = sink.too_large || cr == CURLE_FILESIZE_EXCEEDED;
    ans->timed_out = cr == CURLE_OPERATION_TIMEDOUT;
    ans->refused = cr == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED;
    if (cr != CURLE_OK)
        snprintf(ans->error, sizeof ans->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cr));
    /* An answer that arrived but was too long still has a status. */
    if (cr == CURLE_OK || (status && ans->too_large))
        rc = 0;
out:
    if (h) { /* nothing of this request may outlive it in the kept handle */
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, NULL);
    }
    curl_slist_free_all(hl);
    return rc;
}

void cc_delivery_transport_failure(const struct cc_http_answer *ans, const char *who,
                                   int64_t timeout_ms, struct cc_send_result *res)
{
    char code[32];
    snprintf(code, sizeof code, "curl:%d", ans->curl_code);
    if (ans->curl_code == CURLE_UNSUPPORTED_PROTOCOL && !ans->status)
        cc_delivery_set(res, CC_SEND_NOT_CONFIGURED, code, "%s", ans->error);
    else if (ans->timed_out)
        cc_delivery_set(res, CC_SEND_RETRY, code, "%s %s did not answer within %lld ms", who,
                        ans->where, (long long)timeout_ms);
    else if (ans->refused)
        cc_delivery_set(res, CC_SEND_RETRY, code, "%s %s refused the connection", who,
                        ans->where);
    else
        cc_delivery_set(res, CC_SEND_RETRY, code, "%s %s could not be reached: %s", who,
                        ans->where, ans->error);
}

/* Development mode only (the configuration check makes sure): the message
 * goes to the log instead of a phone. */
static int send_log(const struct cc_sms *m, struct cc_send_result *res)
{
    char masked[CC_MASKED_MAX];
    cc_mask_mobile(m->mobile, masked, sizeof masked);
    cc_log(CC_LOG_INFO, "sms (development mode: not sent)", "mobile", masked, "text",
           m->text ? m->text : "", NULL);
    cc_delivery_set(res, CC_SEND_OK, "log", "written to the log (development mode)");
    return 0;
}

/* Sends m through cfg's provider. cfg and m are borrowed; *res is always
 * filled. Returns 0 when the platform accepted the message, else -1. */
int cc_send_sms(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                struct cc_send_result *res)
{
    memset(res, 0, sizeof *res);
    const char *p = cfg->sms_provider ? cfg->sms_provider : "";
    if (empty(m->mobile)) {
        cc_delivery_set(res, CC_SEND_INVALID_TARGET, "", "no mobile number");
        return -1;
    }
    if (!strcmp(p, "aliyun"))
        return cc_sms_aliyun_send(cfg, m, res);
    if (!strcmp(p, "webhook"))
        return cc_sms_webhook_send(cfg, m, res);
    if (!strcmp(p, "log") && cfg->dev)
        return send_log(m, res);
    if (!strcmp(p, "log"))
        cc_delivery_set(res, CC_SEND_NOT_CONFIGURED, "",
                        "the log SMS provider is only allowed in development mode");
    else if (!*p)
        cc_delivery_set(res, CC_SEND_NOT_CONFIGURED, "", "no SMS provider is configured");
    else
        cc_delivery_set(res, CC_SEND_NOT_CONFIGURED, "", "unknown SMS provider");
    return -1;
}

static int fail(char *err, size_t errsz, const char *msg)
{
    snprintf(err, errsz, "%s", msg);
    return -1;
}

int cc_delivery_check_config(const struct cc_delivery_config *cfg, char *err, size_t errsz)
{
    cc_delivery_global_init();
    if (cfg->timeout_ms <= 0)
        return fail(err, errsz, "send_timeout_ms must be positive.");
    if (!empty(cfg->smtp_url)) {
        char scheme[16], name[256], addr[320];
        if (url_parts(cfg->smtp_url, scheme, sizeof scheme, NULL, 0, NULL, 0) ||
            (strcmp(scheme, "smtp") && strcmp(scheme, "smtps")))
            return fail(err, errsz,
                        "smtp_url must be smtp://HOST:PORT (STARTTLS) or smtps://HOST:PORT.");
        if (empty(cfg->smtp_from) ||
            cc_smtp_parse_address(cfg->smtp_from, name, sizeof name, addr, sizeof addr))
            return fail(err, errsz,
                        "smtp_from must be an email address or \"Name <address>\".");
    }
    const char *p = cfg->sms_provider ? cfg->sms_provider : "";
    if (!*p)
        return 0;
    if (!strcmp(p, "log")) {
        if (!cfg->dev)
            return fail(err, errsz,
                        "sms_provider = log writes codes to the log and is only allowed in "
                        "development mode (dev = 1); choose aliyun or webhook.");
        return 0;
    }
    if (!strcmp(p, "aliyun")) {
        if (empty(cfg->sms_endpoint) || empty(cfg->sms_access_key_id) ||
            empty(cfg->sms_access_key_secret) || empty(cfg->sms_sign_name) ||
            empty(cfg->sms_template_code))
            return fail(err, errsz,
                        "sms_provider = aliyun needs sms_endpoint, sms_access_key_id, "
                        "sms_access_key_secret, sms_sign_name and sms_template_code.");
        return cc_delivery_url_allowed(cfg->sms_endpoint, "sms_endpoint", NULL, err, errsz)
                   ? 0
                   : -1;
    }
    if (!strcmp(p, "webhook")) {
        if (empty(cfg->sms_webhook_url) || empty(cfg->sms_webhook_secret))
            return fail(err, errsz,
                        "sms_provider = webhook needs sms_webhook_url and sms_webhook_secret.");
        return cc_delivery_url_allowed(cfg->sms_webhook_url, "sms_webhook_url", NULL, err, errsz)
                   ? 0
                   : -1;
    }
    return fail(err, errsz, "sms_provider must be aliyun, webhook, log or empty.");
}
