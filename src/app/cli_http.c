/*
 * cli_http.c — the client's HTTP: one libcurl easy handle per command, HTTP
 * Basic with the access key, bounded timeouts and response size, errors
 * written into CURLOPT_ERRORBUFFER and shown once; and the mapping of an
 * answer's status to the exit status the command line documents.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "app/cli_int.h"
#include "util/util.h"

int cli_conn_init(struct cli_conn *c)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    c->curl = curl_easy_init();
    return c->curl ? 0 : -1;
}

void cli_conn_cleanup(struct cli_conn *c)
{
    if (c->curl) {
        curl_easy_cleanup(c->curl);
        curl_global_cleanup();
    }
    c->curl = NULL;
    OPENSSL_cleanse(c->secret, sizeof c->secret);
}

void cli_resp_free(struct cli_resp *r)
{
    cc_free(r->body);
    memset(r, 0, sizeof *r);
}

struct sink {
    struct cc_buf buf;
    FILE *out;
    int failed;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
    struct sink *s = arg;
    size_t len = size * n;
    if (s->out) {
        if (fwrite(p, 1, len, s->out) != len) {
            s->failed = 1;
            return 0;
        }
        return len;
    }
    if (cc_buf_append(&s->buf, p, len)) {
        s->failed = 1;
        return 0;
    }
    return len;
}

/* Keeps ETag and Location. */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct cli_resp *r = arg;
    size_t len = size * n;
    char *dst = NULL;
    size_t dstsz = 0, skip = 0;
    if (len > 5 && !strncasecmp(p, "ETag:", 5)) {
        dst = r->etag, dstsz = sizeof r->etag, skip = 5;
    } else if (len > 9 && !strncasecmp(p, "Location:", 9)) {
        dst = r->location, dstsz = sizeof r->location, skip = 9;
    }
    if (dst) {
        const char *v = p + skip;
        size_t vn = len - skip;
        while (vn && (*v == ' ' || *v == '\t'))
            v++, vn--;
        while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
            vn--;
        if (vn >= dstsz)
            vn = dstsz - 1;
        memcpy(dst, v, vn);
        dst[vn] = '\0';
    }
    return len;
}

int cli_request(struct cli_conn *c, const char *method, const char *path, const char *ctype,
                const char *body, size_t body_len, const char *extra_header, FILE *out,
                struct cli_resp *r)
{
    CURL *h = c->curl;
    struct curl_slist *hdrs = NULL;
    struct sink s = {.out = out};
    char url[2048], ct[128];
    int rc = CLI_SERVER;
    memset(r, 0, sizeof *r);
    cc_buf_init(&s.buf, CLI_MAX_BODY);
    if ((size_t)snprintf(url, sizeof url, "%s%s", c->server, path) >= sizeof url) {
        fprintf(stderr, "certcontacts: the URL is too long\n");
        rc = CLI_USAGE;
        goto out;
    }
    curl_easy_reset(h);
    c->errbuf[0] = '\0';
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    /* an export or a 64 MiB upload may take a while; a stalled one may not */
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "certcontacts-cli");
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, c->key_id);
    curl_easy_setopt(h, CURLOPT_PASSWORD, c->secret);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    if (!out)
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CLI_MAX_BODY);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
        hdrs = curl_slist_append(hdrs, ct);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? body_len : 0));
    } else if (!strcmp(method, "GET")) {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
    }
    if (extra_header)
        hdrs = curl_slist_append(hdrs, extra_header);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cr = curl_easy_perform(h);
    if (cr != CURLE_OK) {
        fprintf(stderr, "certcontacts: %s: %s\n", c->server,
                c->errbuf[0] ? c->errbuf : curl_easy_strerror(cr));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    if (s.failed) {
        fprintf(stderr, "certcontacts: the answer could not be kept (too long or disk full)\n");
        goto out;
    }
    if (!out) {
        if (cc_buf_append(&s.buf, "", 0)) /* always terminated, even when empty */
            goto out;
        r->body = cc_buf_steal(&s.buf, &r->len);
    }
    rc = 0;
out:
    curl_easy_setopt(h, CURLOPT_USERNAME, "");
    curl_easy_setopt(h, CURLOPT_PASSWORD, "");
    curl_slist_free_all(hdrs);
    cc_buf_free(&s.buf);
    return rc;
}

json_t *cli_resp_json(const struct cli_resp *r)
{
    if (!r->body || !r->len)
        return NULL;
    return json_loadb(r->body, r->len, 0, NULL);
}

int cli_resp_exit(const struct cli_resp *r)
{
    long st = r->status;
    if (st >= 200 && st < 300)
        return CLI_OK;
    json_t *j = cli_resp_json(r);
    const char *code = j ? json_string_value(json_object_get(j, "code")) : NULL;
    const char *msg = j ? json_string_value(json_object_get(j, "message")) : NULL;
    if (code || msg)
        fprintf(stderr, "certcontacts: %s: %s (HTTP %ld)\n", code ? code : "Error",
                msg ? msg : "", st);
    else
        fprintf(stderr, "certcontacts: the server answered HTTP %ld\n", st);
    json_t *problems = j ? json_object_get(j, "problems") : NULL;
    if (json_array_size(problems) < 2)
        problems = NULL; /* the one problem is the message already */
    size_t i;
    json_t *p;
    json_array_foreach(problems, i, p)
    {
        const char *pm = json_string_value(json_object_get(p, "message"));
        const char *pp = json_string_value(json_object_get(p, "path"));
        if (pm)
            fprintf(stderr, "  %s%s%s\n", pp && *pp ? pp : "", pp && *pp ? ": " : "", pm);
    }
    json_decref(j);
    if (st == 404)
        return CLI_NOT_FOUND;
    if (st == 409 || st == 412)
        return CLI_CONFLICT;
    if (st >= 500)
        return CLI_SERVER;
    return CLI_REFUSED;
}

int cli_url_escape(struct cc_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';
        if (plain ? cc_buf_append(b, s, 1)
                  : cc_buf_printf(b, "%%%c%c", hex[ch >> 4], hex[ch & 15]))
            return -1;
    }
    return 0;
}
