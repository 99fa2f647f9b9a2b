/*
 * acme_http.c — the requests of certcontacts' ACME client, through libcurl:
 * one easy handle per client (its connection kept between requests), https
 * only (http only to the loopback, for tests), redirects not followed, the
 * CA's certificate always verified (against ca_file when one is given), the
 * answer's headers an ACME client needs (Replay-Nonce, Location,
 * Retry-After) and a capped body.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "core/core.h"
#include "core/limits.h"
#include "delivery/delivery.h"
#include "delivery/delivery_int.h"
#include "util/util.h"

struct cc_acme_http {
    CURL *h;
    char ca_file[1024];
    int64_t timeout_ms;
    const int *abort_flag;        /* non-zero: a request in flight stops (may be NULL) */
};

void cc_acme_http_abort_on(struct cc_acme_http *h, const int *flag)
{
    h->abort_flag = flag;
}

/* libcurl's progress callback: stops the transfer once the owner is stopping. */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    const struct cc_acme_http *h = arg;
    return h->abort_flag && __atomic_load_n(h->abort_flag, __ATOMIC_ACQUIRE);
}

struct cc_acme_http *cc_acme_http_new(const char *ca_file, int64_t timeout_ms)
{
    cc_delivery_global_init();
    struct cc_acme_http *h = cc_calloc(1, sizeof *h);
    h->h = curl_easy_init();
    if (!h->h) {
        cc_free(h);
        return NULL;
    }
    cc_strlcpy(h->ca_file, ca_file ? ca_file : "", sizeof h->ca_file);
    h->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
    return h;
}

void cc_acme_http_free(struct cc_acme_http *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->h);
    cc_free(h);
}

void cc_acme_answer_free(struct cc_acme_answer *a)
{
    cc_free(a->body);
    a->body = NULL;
    a->len = 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct cc_acme_answer *a = arg;
    size_t len = size * n;
    if (a->len + len > CC_ACME_ANSWER_MAX)
        return 0; /* too large: the transfer fails */
    a->body = cc_realloc(a->body, a->len + len + 1);
    memcpy(a->body + a->len, p, len);
    a->len += len;
    a->body[a->len] = '\0';
    return len;
}

/* The value of header line p (len bytes) named name, trimmed, into out. */
static int header_value(const char *p, size_t len, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    if (len <= nl || strncasecmp(p, name, nl) != 0 || p[nl] != ':')
        return 0;
    p += nl + 1;
    len -= nl + 1;
    while (len && (*p == ' ' || *p == '\t'))
        p++, len--;
    while (len && (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' '))
        len--;
    if (len >= outsz)
        len = outsz - 1;
    memcpy(out, p, len);
    out[len] = '\0';
    return 1;
}

/* Retry-After: seconds, or an HTTP date (RFC 9110 10.2.3). */
static int64_t retry_after(const char *v)
{
    char *end;
    long long s = strtoll(v, &end, 10);
    if (end != v && *end == '\0')
        return s < 0 ? 0 : s;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm))
        return -1;
    int64_t d = (int64_t)timegm(&tm) - (int64_t)time(NULL);
    return d < 0 ? 0 : d;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct cc_acme_answer *a = arg;
    size_t len = size * n;
    char v[1024];
    if (len > 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new answer (after 100): start again */
        a->nonce[0] = a->location[0] = a->content_type[0] = '\0';
        a->retry_after_s = -1;
    } else if (header_value(p, len, "Replay-Nonce", v, sizeof v)) {
        cc_strlcpy(a->nonce, v, sizeof a->nonce);
    } else if (header_value(p, len, "Location", v, sizeof v)) {
        cc_strlcpy(a->location, v, sizeof a->location);
    } else if (header_value(p, len, "Content-Type", v, sizeof v)) {
        cc_strlcpy(a->content_type, v, sizeof a->content_type);
    } else if (header_value(p, len, "Retry-After", v, sizeof v)) {
        a->retry_after_s = retry_after(v);
    }
    return len;
}

int cc_acme_http_do(struct cc_acme_http *h, const char *method, const char *url,
                    const char *body, const char *accept, struct cc_acme_answer *a, char *err,
                    size_t errsz)
{
    memset(a, 0, sizeof *a);
    a->retry_after_s = -1;
    int loopback = 0;
    if (!cc_delivery_url_allowed(url, "the ACME URL", &loopback, err, errsz))
        return -1;
    CURL *c = h->h;
    curl_easy_reset(c);
    const char *proto = loopback ? "http,https" : "https";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, proto);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)h->timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "certcontacts-acme/1");
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    if (h->ca_file[0])
        curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
    if (loopback)
        curl_easy_setopt(c, CURLOPT_PROXY, "");
    struct curl_slist *hl = NULL;
    if (strcmp(method, "POST") == 0 || strcmp(method, "FORM") == 0) {
        hl = curl_slist_append(hl, method[0] == 'P'
                                       ? "Content-Type: application/jose+json"
                                       : "Content-Type: application/x-www-form-urlencoded");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    }
    if (accept) {
        char line[160];
        snprintf(line, sizeof line, "Accept: %s", accept);
        hl = curl_slist_append(hl, line);
    }
    if (hl)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
    CURLcode cr = curl_easy_perform(c);
    curl_slist_free_all(hl);
    if (cr != CURLE_OK) {
        snprintf(err, errsz, "%s: %s", url, curl_easy_strerror(cr));
        cc_acme_answer_free(a);
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
    if (!a->body) {
        a->body = cc_malloc(1);
        a->body[0] = '\0';
    }
    return 0;
}
