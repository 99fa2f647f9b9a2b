/*
 * acme_dns.c — what DNS-01 needs outside the process: the operator's hook
 * command that adds or removes the TXT record (run directly, no shell, with
 * its arguments as separate words and a deadline), and a look-up of the TXT
 * record (libresolv, at the configured resolver or the system's) to wait
 * until it is visible before the CA is told to check it; or, natively,
 * Alibaba Cloud DNS's AddDomainRecord / DeleteDomainRecord (2015-01-09),
 * signed with core/acs_sign.c's HMAC-SHA1 as SendSms is.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/core.h"
#include "delivery/delivery.h"
#include "util/util.h"

extern char **environ;

int cc_acme_dns_hook(const char *hook, const char *op, const char *name, const char *value,
                     int64_t timeout_ms, char *err, size_t errsz)
{
    char *argv[] = {(char *)hook, (char *)op, (char *)name, (char *)value, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, hook, NULL, NULL, argv, environ);
    if (rc) {
        snprintf(err, errsz, "acme_dns_hook %s cannot run: %s", hook, strerror(rc));
        return -1;
    }
    int64_t deadline = cc_now_ms() + timeout_ms;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            snprintf(err, errsz, "acme_dns_hook: waiting for it failed: %s", strerror(errno));
            return -1;
        }
        if (cc_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, errsz, "acme_dns_hook %s %s did not finish within %lld ms", hook, op,
                     (long long)timeout_ms);
            return -1;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errsz, "acme_dns_hook %s %s %s failed (exit status %d)", hook, op, name,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    return 0;
}

/* Sets res to ask only resolver ("IPv4:PORT"); 0, or -1 when it is not one. */
static int use_resolver(res_state res, const char *resolver)
{
    char host[64];
    cc_strlcpy(host, resolver, sizeof host);
    char *colon = strrchr(host, ':');
    long port = 53;
    if (colon) {
        *colon = '\0';
        port = strtol(colon + 1, NULL, 10);
    }
    struct in_addr a;
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &a) != 1)
        return -1;
    res->nsaddr_list[0].sin_family = AF_INET;
    res->nsaddr_list[0].sin_addr = a;
    res->nsaddr_list[0].sin_port = htons((uint16_t)port);
    res->nscount = 1;
    return 0;
}

int cc_acme_dns_txt_visible(const char *resolver, const char *name, const char *value)
{
    struct __res_state res;
    memset(&res, 0, sizeof res);
    if (res_ninit(&res))
        return -1;
    res.options &= ~(RES_DNSRCH | RES_DEFNAMES);
    res.retrans = 2;
    res.retry = 1;
    if (resolver && resolver[0] && use_resolver(&res, resolver)) {
        res_nclose(&res);
        return -1;
    }
    unsigned char ans[4096];
    int len = res_nquery(&res, name, ns_c_in, ns_t_txt, ans, sizeof ans);
    res_nclose(&res);
    if (len < 0)
        return 0;
    ns_msg msg;
    if (ns_initparse(ans, len, &msg))
        return 0;
    size_t vlen = strlen(value);
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) || ns_rr_type(rr) != ns_t_txt)
            continue;
        const unsigned char *p = ns_rr_rdata(rr);
        size_t n = ns_rr_rdlen(rr);
        /* one or more character-strings: the value is the first (43 bytes) */
        if (n >= 1 && p[0] == vlen && n >= 1 + vlen && memcmp(p + 1, value, vlen) == 0)
            return 1;
    }
    return 0;
}

/* The zone of name: the longest of zones (comma-separated) it ends in, else
 * its last two labels; and the RR (name without the zone). 0, or -1 when
 * name is the zone itself. */
static int zone_split(const char *name, const char *zones, char *zone, size_t zonesz, char *rr,
                      size_t rrsz)
{
    size_t nlen = strlen(name), best = 0;
    zone[0] = '\0';
    const char *p = zones ? zones : "";
    while (*p) {
        size_t len = strcspn(p, ",");
        while (len && *p == ' ')
            p++, len--;
        size_t l = len;
        while (l && p[l - 1] == ' ')
            l--;
        if (l && l < nlen && l > best && name[nlen - l - 1] == '.' &&
            strncasecmp(name + nlen - l, p, l) == 0 && l < zonesz) {
            best = l;
            memcpy(zone, p, l);
            zone[l] = '\0';
        }
        p += len;
        if (*p == ',')
            p++;
    }
    if (!best) {
        const char *last = strrchr(name, '.');
        if (!last)
            return -1;
        const char *q = last;
        while (q > name && q[-1] != '.')
            q--;
        if (q == name)
            return -1;
        cc_strlcpy(zone, q, zonesz);
        best = strlen(zone);
    }
    size_t rl = nlen - best - 1;
    if (rl == 0 || rl >= rrsz)
        return -1;
    memcpy(rr, name, rl);
    rr[rl] = '\0';
    return 0;
}

static void utc_timestamp(char *out, size_t outsz)
{
    struct tm tm;
    time_t now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One signed call of the API: params (n of them) and the common ones; *ans
 * (the JSON answer, owned: json_decref) when it is 200. */
static int alidns_call(struct cc_acme_http *h, const struct cc_alidns_config *c,
                       const char *action, const struct cc_kv *extra, size_t nextra,
                       json_t **ans, char *err, size_t errsz)
{
    *ans = NULL;
    char nonce[40], ts[32], sig[64], url[600];
    cc_uuid(nonce);
    utc_timestamp(ts, sizeof ts);
    struct cc_kv p[16] = {
        {"Action", action},
        {"Version", "2015-01-09"},
        {"Format", "JSON"},
        {"AccessKeyId", c->access_key_id},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureVersion", "1.0"},
        {"SignatureNonce", nonce},
        {"Timestamp", ts},
    };
    size_t n = 8;
    for (size_t i = 0; i < nextra && n < 16; i++)
        p[n++] = extra[i];
    struct cc_buf body;
    cc_buf_init(&body, 512);
    size_t elen = strlen(c->endpoint);
    snprintf(url, sizeof url, "%s%s", c->endpoint, elen && c->endpoint[elen - 1] == '/' ? "" : "/");
    if (cc_acs_sign_v1("POST", p, n, c->access_key_secret, sig, sizeof sig, NULL) ||
        cc_acs_canonical_query(p, n, &body) || cc_buf_puts(&body, "&Signature=") ||
        cc_acs_encode(sig, strlen(sig), &body)) {
        cc_buf_free(&body);
        snprintf(err, errsz, "Alibaba Cloud DNS %s: the request is too large", action);
        return -1;
    }
    struct cc_acme_answer a;
    int rc = cc_acme_http_do(h, "FORM", url, body.data, "application/json", &a, err, errsz);
    cc_buf_free(&body);
    if (rc)
        return -1;
    json_t *o = json_loads(a.body ? a.body : "", 0, NULL);
    if (a.status != 200 || !json_is_object(o)) {
        const char *code = json_string_value(json_object_get(o, "Code"));
        const char *msg = json_string_value(json_object_get(o, "Message"));
        snprintf(err, errsz, "Alibaba Cloud DNS %s answered HTTP %ld%s%s%s%s", action, a.status,
                 code ? ": " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
        json_decref(o);
        cc_acme_answer_free(&a);
        return -1;
    }
    cc_acme_answer_free(&a);
    *ans = o;
    return 0;
}

int cc_alidns_add(struct cc_acme_http *h, const struct cc_alidns_config *c, const char *name,
                  const char *value, char *record_id, size_t idsz, char *err, size_t errsz)
{
    char zone[256], rr[256];
    record_id[0] = '\0';
    if (zone_split(name, c->zones, zone, sizeof zone, rr, sizeof rr)) {
        snprintf(err, errsz, "no zone of Alibaba Cloud DNS holds %s", name);
        return -1;
    }
    const struct cc_kv extra[] = {
        {"DomainName", zone}, {"RR", rr}, {"Type", "TXT"}, {"Value", value}, {"TTL", "600"}};
    json_t *o;
    if (alidns_call(h, c, "AddDomainRecord", extra, 5, &o, err, errsz))
        return -1;
    const char *id = json_string_value(json_object_get(o, "RecordId"));
    if (id)
        cc_strlcpy(record_id, id, idsz);
    json_decref(o);
    if (!record_id[0]) {
        snprintf(err, errsz, "Alibaba Cloud DNS AddDomainRecord answered no RecordId");
        return -1;
    }
    return 0;
}

int cc_alidns_delete(struct cc_acme_http *h, const struct cc_alidns_config *c,
                     const char *record_id, char *err, size_t errsz)
{
    const struct cc_kv extra[] = {{"RecordId", record_id}};
    json_t *o;
    if (alidns_call(h, c, "DeleteDomainRecord", extra, 1, &o, err, errsz))
        return -1;
    json_decref(o);
    return 0;
}
