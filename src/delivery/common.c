/*
 * common.c — what every sender of the delivery layer shares, so that no
 * sender reaches into another: filling a send result, the URL checks (https
 * only, http only to the loopback), the words for a request that got no
 * answer, and a mobile number written the way the platforms want it (digits,
 * mainland numbers without +86: Alibaba's PhoneNumbers, the robots'
 * mentions). It calls nothing else in delivery/.
 */
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

/* url parsed into a new handle, with its scheme and host (both lower-cased)
 * and port (the scheme's default when url has none) into the out strings
 * (each may be NULL). Returns the handle, or NULL when url does not parse. */
static CURLU *url_parse(const char *url, char *scheme, size_t schemesz, char *host,
                        size_t hostsz, char *port, size_t portsz)
{
    char *s = NULL, *h = NULL, *p = NULL;
    CURLU *u = curl_url();
    if (!u)
        return NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) ||
        curl_url_get(u, CURLUPART_SCHEME, &s, 0) || curl_url_get(u, CURLUPART_HOST, &h, 0) ||
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT)) {
        curl_url_cleanup(u);
        u = NULL;
        goto out;
    }
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
out:
    curl_free(s);
    curl_free(h);
    curl_free(p);
    return u;
}

int cc_delivery_url_parts(const char *url, char *scheme, size_t schemesz, char *host,
                          size_t hostsz, char *port, size_t portsz)
{
    CURLU *u = url_parse(url, scheme, schemesz, host, hostsz, port, portsz);
    curl_url_cleanup(u);
    return u ? 0 : -1;
}

void cc_delivery_url_where(const char *url, char *out, size_t outsz)
{
    char host[256], port[16];
    out[0] = '\0';
    if (!empty(url) && !cc_delivery_url_parts(url, NULL, 0, host, sizeof host, port, sizeof port))
        snprintf(out, outsz, "%s:%s", host, port);
}

void *cc_delivery_url_checked(const char *url, const char *what, int *loopback_http,
                              char *where, size_t wheresz, char *err, size_t errsz)
{
    char scheme[16], host[256], port[16];
    CURLU *u = NULL;
    if (loopback_http)
        *loopback_http = 0;
    if (where && wheresz)
        where[0] = '\0';
    if (empty(url) ||
        !(u = url_parse(url, scheme, sizeof scheme, host, sizeof host, port, sizeof port))) {
        snprintf(err, errsz, "%s is not a URL.", what);
        return NULL;
    }
    if (where && wheresz) { /* host:port, at every transfer: without printf */
        cc_strlcpy(where, host, wheresz);
        cc_strlcat(where, ":", wheresz);
        cc_strlcat(where, port, wheresz);
    }
    if (!strcmp(scheme, "https"))
        return u;
    if (!strcmp(scheme, "http") && (!strcmp(host, "127.0.0.1") || !strcmp(host, "localhost"))) {
        if (loopback_http)
            *loopback_http = 1;
        return u;
    }
    curl_url_cleanup(u);
    snprintf(err, errsz, "%s must be an https:// URL (http:// only to 127.0.0.1 or localhost).",
             what);
    return NULL;
}

int cc_delivery_url_allowed(const char *url, const char *what, int *loopback_http, char *err,
                            size_t errsz)
{
    CURLU *u = cc_delivery_url_checked(url, what, loopback_http, NULL, 0, err, errsz);
    curl_url_cleanup(u);
    return u != NULL;
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

int cc_delivery_phone_digits(const char *e164, char *out, size_t outsz)
{
    size_t n = e164 ? strlen(e164) : 0;
    if (n < 9 || n > 16 || e164[0] != '+' || e164[1] == '0')
        return -1;
    for (size_t i = 1; i < n; i++)
        if (e164[i] < '0' || e164[i] > '9')
            return -1;
    /* Mainland numbers go without the country code, as people dial them
     * inside China; others as digits with their country code. */
    const char *digits = (n == 14 && !strncmp(e164, "+86", 3)) ? e164 + 3 : e164 + 1;
    if (strlen(digits) + 1 > outsz)
        return -1;
    cc_strlcpy(out, digits, outsz);
    return 0;
}

int cc_robot_mention_mobile(const char *e164, char *out, size_t outsz)
{
    if (cc_delivery_phone_digits(e164, out, outsz)) {
        if (outsz)
            out[0] = '\0';
        return -1;
    }
    return 0;
}
