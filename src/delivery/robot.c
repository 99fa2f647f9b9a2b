/*
 * robot.c — the chat-robot entry point of the delivery layer. It walks the
 * table of robot platforms, whose entries the platform files define
 * (dingtalk.c, lark.c for Lark and Feishu, wecom.c; see delivery_int.h):
 * cc_robot_prepare() finds the platform, maps the webhook URL to the
 * configured test base URL (if any), has the platform build, measure and
 * sign the body, and prepares the POST as a transfer (xfer.c), whose answer
 * cc_robot_classify() reads: the platform's code from the body, at the
 * fields the platform's entry names, and its meaning from its verdicts. All three platforms answer most failures
 * with HTTP 200 and a code, so the HTTP status alone never means delivered,
 * and a body without a code is never success.
 * Spec: ../shared/specs/chatbots-and-sms.md.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

/* The table of robot platforms: each entry is defined in its platform's
 * file. */
static const struct cc_robot_platform *const platforms[] = {
    &cc_robot_dingtalk,
    &cc_robot_lark,
    &cc_robot_feishu,
    &cc_robot_wecom,
};

const struct cc_robot_platform *cc_robot_platform_of(int kind)
{
    for (size_t i = 0; i < sizeof platforms / sizeof platforms[0]; i++)
        if (platforms[i]->kind == kind)
            return platforms[i];
    return NULL;
}

const char *cc_robot_platform(int kind)
{
    const struct cc_robot_platform *p = cc_robot_platform_of(kind);
    return p ? p->name : "robot";
}

size_t cc_robot_max_bytes(int kind, int text_message)
{
    const struct cc_robot_platform *p = cc_robot_platform_of(kind);
    if (!p)
        return 0;
    return text_message && p->max_text_bytes ? p->max_text_bytes : p->max_bytes;
}

int cc_robot_target_url(int kind, const char *url, const char *base, char *out, size_t outsz)
{
    const struct cc_robot_platform *p = cc_robot_platform_of(kind);
    const char *prefix = p ? p->prefix : NULL;
    if (!prefix || !url || strncmp(url, prefix, strlen(prefix)))
        return -1;
    if (!base || !*base)
        return cc_strlcpy(out, url, outsz) < outsz ? 0 : -1;
    const char *rest = url + strlen(prefix) - 1; /* path and query, from the '/' */
    size_t blen = strlen(base);
    while (blen && base[blen - 1] == '/')
        blen--;
    int w = snprintf(out, outsz, "%.*s%s", (int)blen, base, rest);
    if (w < 0 || (size_t)w >= outsz) {
        if (outsz)
            out[0] = '\0';
        return -1;
    }
    return 0;
}

/* Drops a UTF-8 sequence cut off at the end of s by truncation, so texts
 * that end up in JSON answers and logs stay valid UTF-8. */
static void utf8_trim_tail(char *s)
{
    size_t n = strlen(s), i = n, k = 0;
    while (i > 0 && k < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) {
        i--;
        k++;
    }
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (lead >= 0xC0 && k + 1 < want)
        s[i - 1] = '\0';
}

/* Copies the platform's text with control characters made spaces (it ends
 * up in API answers and logs), cut on a character boundary. */
static void clean_copy(char *dst, size_t dstsz, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < dstsz; i++)
        dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? ' ' : src[i];
    dst[i] = '\0';
    utf8_trim_tail(dst);
}

/* Reads an integer code: a JSON integer, or a string of decimal digits
 * (tolerated, no platform is documented to send one). Returns 1 if found. */
static int json_code(json_t *v, int64_t *code)
{
    if (json_is_integer(v)) {
        *code = (int64_t)json_integer_value(v);
        return 1;
    }
    if (json_is_string(v) && !cc_parse_i64(json_string_value(v), INT32_MIN, INT32_MAX, code))
        return 1;
    return 0;
}

/* The code and message of an answer, from the fields the platform's entry
 * names (Lark: "code"/"msg", older replies "StatusCode"/"StatusMessage";
 * the others "errcode"/"errmsg"). msg points into root. Returns 1 when a
 * code was found. */
static int read_reply(const struct cc_robot_platform *p, json_t *root, int64_t *code,
                      const char **msg)
{
    int has = json_code(json_object_get(root, p->code_field), code);
    const char *m = json_string_value(json_object_get(root, p->msg_field));
    if (!has && p->alt_code_field) {
        has = json_code(json_object_get(root, p->alt_code_field), code);
        if (!m)
            m = json_string_value(json_object_get(root, p->alt_msg_field));
    }
    *msg = m ? m : "";
    return has;
}

void cc_robot_classify(int kind, long http_status, const char *body, size_t len,
                       struct cc_send_result *res, struct cc_robot_answer *ans)
{
    const struct cc_robot_platform *p = cc_robot_platform_of(kind);
    const char *plat = cc_robot_platform(kind);
    const char *name = cc_webhook_kind_name((enum cc_webhook_kind)kind);
    char msg[200], rcode[48];
    int64_t code = 0;
    const char *m = "";
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    int has = p && json_is_object(root) && read_reply(p, root, &code, &m);
    clean_copy(msg, sizeof msg, m);
    if (ans) {
        ans->platform_code[0] = '\0';
        _Static_assert(sizeof ans->platform_code >= CC_I64_CHARS, "a code fits");
        if (has)
            cc_fmt_i64(ans->platform_code, code);
        cc_strlcpy(ans->platform_msg, has ? msg : "", sizeof ans->platform_msg);
    }
    if (!has) {
        snprintf(rcode, sizeof rcode, "http:%ld", http_status);
        if (http_status == 429)
            cc_delivery_set(res, CC_SEND_THROTTLED, rcode, "%s is rate limiting (HTTP 429)",
                            plat);
        else if (http_status >= 500)
            cc_delivery_set(res, CC_SEND_RETRY, rcode,
                            "%s answered HTTP %ld: not delivered", plat, http_status);
        else
            cc_delivery_set(res, CC_SEND_RETRY, rcode,
                            "unreadable answer: not delivered (%s, HTTP %ld, no code)", plat,
                            http_status);
        goto out;
    }
    cc_strlcpy(rcode, name, sizeof rcode);
    cc_strlcat(rcode, ":", sizeof rcode);
    cc_strlcat_i64(rcode, code, sizeof rcode);
    if (code == 0) {
        if (http_status >= 200 && http_status < 300) {
            /* every delivered message's reason, written without printf: the
             * format's text before its "%s", then the platform */
            static const char accepted[] = N_("accepted by %s");
            _Static_assert(sizeof res->reason >= sizeof accepted, "the text fits");
            res->status = CC_SEND_OK;
            cc_strlcpy(res->code, rcode, sizeof res->code);
            cc_strlcpy(res->reason, accepted, sizeof accepted - 2);
            cc_strlcat(res->reason, plat, sizeof res->reason);
        } else {
            cc_delivery_set(res, CC_SEND_RETRY, rcode,
                            "unreadable answer: not delivered (%s, code 0 with HTTP %ld)", plat,
                            http_status);
        }
        goto out;
    }
    struct cc_robot_verdict v = p->verdict(code, msg);
    if (v.why)
        cc_delivery_set(res, v.status, rcode, "%s (%s %lld: %s)", v.why, plat, (long long)code,
                        msg);
    else if (http_status >= 500)
        cc_delivery_set(res, CC_SEND_RETRY, rcode, "%s answered HTTP %ld (%lld: %s)", plat,
                        http_status, (long long)code, msg);
    else
        cc_delivery_set(res, CC_SEND_REJECTED, rcode, "%s refused the message (%lld: %s)", plat,
                        (long long)code, msg);
    utf8_trim_tail(res->reason);
out:
    json_decref(root);
}

/* Reads a robot's answer: the platform's code decides, never the status. */
static void robot_done(struct cc_xfer *x, const struct cc_http_answer *ans)
{
    if (ans->too_large)
        cc_delivery_set(&x->res, CC_SEND_RETRY, "",
                        "unreadable answer: not delivered (%s answered more than 64 KiB)",
                        cc_robot_platform(x->kind));
    else
        cc_robot_classify(x->kind, ans->status, ans->body.data, ans->body.len, &x->res, &x->ra);
}

/* The transfer POSTing body to url (borrowed, not logged: it holds the
 * token); its answer is classified with cc_robot_classify (transport
 * failures: RETRY). 0 or -1 as cc_http_xfer_new. */
static int robot_xfer(const struct cc_delivery_config *cfg, const struct cc_robot_platform *p,
                      const struct cc_robot_body *body, struct cc_send_result *res,
                      struct cc_xfer **out)
{
    const char *headers[] = {"Content-Type: application/json; charset=utf-8"};
    char who[32];
    cc_strlcpy(who, p->name, sizeof who);
    cc_strlcat(who, " robot", sizeof who);
    if (cc_http_xfer_new(body->url, headers, 1, body->data, body->len, cfg->timeout_ms, who,
                         robot_done, res, out))
        return -1;
    (*out)->kind = p->kind;
    return 0;
}

/* Prepares m. cfg and m are borrowed; nothing is sent for an unknown kind,
 * a URL that is not the platform's, or a message the platform's builder
 * refuses (over its size limit, say): -1, *res says why. */
int cc_robot_prepare(const struct cc_delivery_config *cfg, const struct cc_robot_message *m,
                     struct cc_send_result *res, struct cc_xfer **out)
{
    char url[CC_URL_MAX + 1024];
    memset(res, 0, sizeof *res);
    *out = NULL;
    const struct cc_robot_platform *p = cc_robot_platform_of(m->kind);
    if (!p) {
        cc_delivery_set(res, CC_SEND_INVALID_TARGET, "", "not a chat robot webhook");
        return -1;
    }
    const char *base = *(const char *const *)(const void *)((const char *)cfg + p->base_url);
    if (cc_robot_target_url(m->kind, m->url, base, url, sizeof url)) {
        cc_delivery_set(res, CC_SEND_INVALID_TARGET, "", "not a %s robot webhook URL", p->name);
        return -1;
    }
    struct cc_robot_body *body = cc_malloc(sizeof *body);
    int rc = p->build(p, m, url, res, body);
    if (!rc)
        rc = robot_xfer(cfg, p, body, res, out);
    if (!rc)
        rc = *out ? 0 : -1;
    free(body->data);
    cc_free(body);
    return rc;
}

/* Sends m: prepared, then run alone. *res is always filled, *ans (may be
 * NULL) too, zeroed first. */
int cc_send_robot(const struct cc_delivery_config *cfg, const struct cc_robot_message *m,
                  struct cc_send_result *res, struct cc_robot_answer *ans)
{
    struct cc_xfer *x;
    if (ans)
        memset(ans, 0, sizeof *ans);
    if (cc_robot_prepare(cfg, m, res, &x))
        return -1;
    return cc_xfer_send_one(x, res, ans);
}
