/*
 * sms.c — the SMS entry point of the delivery layer and what delivery/ shares:
 * cc_send_sms() picks the configured provider (aliyun, webhook, or the
 * development-mode log stand-in), cc_delivery_check_config() refuses an
 * unusable configuration at start-up, and what the senders share: results,
 * URL checks, and the words for a request that got no answer. (The
 * transfers themselves are xfer.c's.)
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

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

int cc_sms_prepare(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                   struct cc_send_result *res, struct cc_xfer **out)
{
    memset(res, 0, sizeof *res);
    *out = NULL;
    const char *p = cfg->sms_provider ? cfg->sms_provider : "";
    if (empty(m->mobile)) {
        cc_delivery_set(res, CC_SEND_INVALID_TARGET, "", "no mobile number");
        return -1;
    }
    if (!strcmp(p, "aliyun"))
        return cc_sms_aliyun_prepare(cfg, m, res, out);
    if (!strcmp(p, "webhook"))
        return cc_sms_webhook_prepare(cfg, m, res, out);
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

int cc_send_sms(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                struct cc_send_result *res)
{
    struct cc_xfer *x;
    if (cc_sms_prepare(cfg, m, res, &x) || !x)
        return cc_delivery_rc(res);
    return cc_xfer_send_one(x, res, NULL);
}
