/*
 * robot.c — the chat-robot entry point of the delivery layer and what the
 * three robot senders share. cc_robot_prepare() maps the webhook URL to the
 * configured test base URL (if any), then hands the message to the
 * platform's file (dingtalk.c, lark.c, wecom.c), which builds, measures and
 * signs the body and calls cc_robot_xfer() here: one POST prepared as a
 * transfer (xfer.c), whose answer cc_robot_classify() reads: the
 * platform's code from the body. All three platforms answer most failures
 * with HTTP 200 and a code, so the HTTP status alone never means delivered,
 * and a body without a code is never success.
 * Spec: ../shared/specs/chatbots-and-sms.md.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

const char *cc_robot_platform(int kind)
{
    switch (kind) {
    case CC_WEBHOOK_DINGTALK: return "DingTalk";
    case CC_WEBHOOK_LARK: return "Lark";
    case CC_WEBHOOK_FEISHU: return "Feishu";
    case CC_WEBHOOK_WECOM: return "WeCom";
    default: return "robot";
    }
}

size_t cc_robot_max_bytes(int kind, int text_message)
{
    switch (kind) {
    case CC_WEBHOOK_DINGTALK:
    case CC_WEBHOOK_LARK:
    case CC_WEBHOOK_FEISHU: return CC_ROBOT_MAX_BODY;
    case CC_WEBHOOK_WECOM: return text_message ? CC_WECOM_MAX_TEXT : CC_WECOM_MAX_MARKDOWN;
    default: return 0;
    }
}

/* The scheme and host (with the '/' that starts the path) every canonical
 * URL of a kind begins with; NULL for an unknown kind. */
static const char *platform_prefix(int kind)
{
    switch (kind) {
    case CC_WEBHOOK_DINGTALK: return "https://oapi.dingtalk.com/";
    case CC_WEBHOOK_LARK: return "https://open.larksuite.com/";
    case CC_WEBHOOK_FEISHU: return "https://open.feishu.cn/";
    case CC_WEBHOOK_WECOM: return "https://qyapi.weixin.qq.com/";
    default: return NULL;
    }
}

int cc_robot_target_url(int kind, const char *url, const char *base, char *out, size_t outsz)
{
    const char *prefix = platform_prefix(kind);
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

/* The code and message of an answer: "code"/"msg" for Lark (older replies:
 * "StatusCode"/"StatusMessage"), "errcode"/"errmsg" for the others. msg
 * points into root. Returns 1 when a code was found. */
static int read_reply(int kind, json_t *root, int64_t *code, const char **msg)
{
    int lark = kind == CC_WEBHOOK_LARK || kind == CC_WEBHOOK_FEISHU;
    int has = json_code(json_object_get(root, lark ? "code" : "errcode"), code);
    const char *m = json_string_value(json_object_get(root, lark ? "msg" : "errmsg"));
    if (lark && !has) {
        has = json_code(json_object_get(root, "StatusCode"), code);
        if (!m)
            m = json_string_value(json_object_get(root, "StatusMessage"));
    }
    *msg = m ? m : "";
    return has;
}

static struct cc_robot_verdict verdict(int kind, int64_t code, const char *msg)
{
    switch (kind) {
    case CC_WEBHOOK_DINGTALK: return cc_dingtalk_verdict(code, msg);
    case CC_WEBHOOK_LARK:
    case CC_WEBHOOK_FEISHU: return cc_lark_verdict(code, msg);
    case CC_WEBHOOK_WECOM: return cc_wecom_verdict(code, msg);
    default: return (struct cc_robot_verdict){CC_SEND_REJECTED, NULL};
    }
}

void cc_robot_classify(int kind, long http_status, const char *body, size_t len,
                       struct cc_send_result *res, struct cc_robot_answer *ans)
{
    const char *plat = cc_robot_platform(kind);
    const char *name = cc_webhook_kind_name((enum cc_webhook_kind)kind);
    char msg[200], rcode[48];
    int64_t code = 0;
    const char *m = "";
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    int has = json_is_object(root) && read_reply(kind, root, &code, &m);
    clean_copy(msg, sizeof msg, m);
    if (ans) {
        ans->platform_code[0] = '\0';
        if (has)
            snprintf(ans->platform_code, sizeof ans->platform_code, "%lld", (long long)code);
        cc_strlcpy(ans->platform_msg, has ? msg : "", sizeof ans->platform_msg);
    }
    snprintf(rcode, sizeof rcode, "http:%ld", http_status);
    if (!has) {
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
    snprintf(rcode, sizeof rcode, "%s:%lld", name, (long long)code);
    if (code == 0) {
        if (http_status >= 200 && http_status < 300)
            cc_delivery_set(res, CC_SEND_OK, rcode, "accepted by %s", plat);
        else
            cc_delivery_set(res, CC_SEND_RETRY, rcode,
                            "unreadable answer: not delivered (%s, code 0 with HTTP %ld)", plat,
                            http_status);
        goto out;
    }
    struct cc_robot_verdict v = verdict(kind, code, msg);
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

int cc_robot_xfer(const struct cc_delivery_config *cfg, int kind, const char *url,
                  const char *body, size_t len, struct cc_send_result *res,
                  struct cc_xfer **out)
{
    const char *headers[] = {"Content-Type: application/json; charset=utf-8"};
    char who[32];
    snprintf(who, sizeof who, "%s robot", cc_robot_platform(kind));
    if (cc_http_xfer_new(url, headers, 1, body, len, cfg->timeout_ms, who, robot_done, res, out))
        return -1;
    (*out)->kind = kind;
    return 0;
}

/* The configured base URL for kind's platform, or NULL. */
static const char *base_url(const struct cc_delivery_config *cfg, int kind)
{
    switch (kind) {
    case CC_WEBHOOK_DINGTALK: return cfg->dingtalk_base_url;
    case CC_WEBHOOK_LARK: return cfg->lark_base_url;
    case CC_WEBHOOK_FEISHU: return cfg->feishu_base_url;
    case CC_WEBHOOK_WECOM: return cfg->wecom_base_url;
    default: return NULL;
    }
}

/* Prepares m. cfg and m are borrowed; nothing is sent for an unknown kind,
 * a URL that is not the platform's, or a message over the platform's size
 * limit (-1, *res says why). */
int cc_robot_prepare(const struct cc_delivery_config *cfg, const struct cc_robot_message *m,
                     struct cc_send_result *res, struct cc_xfer **out)
{
    char url[CC_URL_MAX + 1024];
    memset(res, 0, sizeof *res);
    *out = NULL;
    if (!platform_prefix(m->kind)) {
        cc_delivery_set(res, CC_SEND_INVALID_TARGET, "", "not a chat robot webhook");
        return -1;
    }
    if (cc_robot_target_url(m->kind, m->url, base_url(cfg, m->kind), url, sizeof url)) {
        cc_delivery_set(res, CC_SEND_INVALID_TARGET, "", "not a %s robot webhook URL",
                        cc_robot_platform(m->kind));
        return -1;
    }
    switch (m->kind) {
    case CC_WEBHOOK_DINGTALK: return cc_dingtalk_prepare(cfg, m, url, res, out);
    case CC_WEBHOOK_LARK:
    case CC_WEBHOOK_FEISHU: return cc_lark_prepare(cfg, m, url, res, out);
    default: return cc_wecom_prepare(cfg, m, url, res, out);
    }
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
