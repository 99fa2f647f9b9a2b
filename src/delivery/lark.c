/*
 * lark.c — the Lark (open.larksuite.com) and Feishu (open.feishu.cn) custom
 * bot sender; the two differ only in host. The message is a rich-text post,
 *   {"timestamp":"…","sign":"…","msg_type":"post",
 *    "content":{"post":{"zh_cn":{"title":"…","content":[[{"tag":"text","text":"…"}],…]}}}}
 * one paragraph per line of the text. A signed bot gets the top-level
 * "timestamp" (seconds, as a string) and "sign" fields, computed at every
 * send (Lark refuses timestamps more than an hour off). Lark's key is
 * timestamp + "\n" + secret and its data is empty — the reverse of what one
 * expects, and a common bug. The answer's code decides the outcome
 * (robot.c reads it, this file's verdict() maps it); rate limits may come as
 * HTTP 400 with code 9499. The file ends with the two entries (Lark, Feishu)
 * in the table of robot platforms (delivery_int.h).
 * Spec: ../shared/specs/chatbots-and-sms.md.
 */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

int cc_lark_sign(const char *secret, int64_t ts_s, char *out, size_t outsz)
{
    char key[24 + 1 + CC_SECRET_MAX + 1];
    uint8_t mac[32];
    if (outsz < CC_ROBOT_SIGN_LEN || strlen(secret) > CC_SECRET_MAX)
        return -1;
    int n = snprintf(key, sizeof key, "%lld\n%s", (long long)ts_s, secret);
    assert(n > 0 && (size_t)n < sizeof key);
    cc_hmac_sha256(key, (size_t)n, "", 0, mac);
    cc_base64_encode(mac, sizeof mac, out, outsz);
    OPENSSL_cleanse(key, sizeof key);
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

/* The post's paragraphs: one [{"tag":"text","text":line}] per line of
 * text ('\n' or "\r\n"; a final newline makes no empty paragraph). NULL
 * when a line is not valid UTF-8. The caller owns the array. */
static json_t *paragraphs(const char *text)
{
    json_t *a = json_array();
    const char *p = text;
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (!nl && !n && json_array_size(a))
            break;
        size_t len = n && p[n - 1] == '\r' ? n - 1 : n;
        json_t *s = json_stringn(p, len);
        if (!s) {
            json_decref(a);
            return NULL;
        }
        json_t *el = json_object();
        json_object_set_new(el, "tag", json_string("text"));
        json_object_set_new(el, "text", s);
        json_t *para = json_array();
        json_array_append_new(para, el);
        json_array_append_new(a, para);
        if (!nl)
            break;
        p = nl + 1;
    }
    return a;
}

char *cc_lark_body(const struct cc_robot_message *m, const char *secret, int64_t ts_s,
                   size_t *len)
{
    const char *text = m->text ? m->text : m->markdown;
    char *s = NULL;
    if (!text)
        return NULL;
    json_t *content = paragraphs(text);
    json_t *title = json_string(m->title ? m->title : "");
    json_t *o = json_object();
    if (secret && *secret) {
        char ts[24], sign[CC_ROBOT_SIGN_LEN];
        snprintf(ts, sizeof ts, "%lld", (long long)ts_s);
        if (cc_lark_sign(secret, ts_s, sign, sizeof sign))
            goto out;
        json_object_set_new(o, "timestamp", json_string(ts));
        json_object_set_new(o, "sign", json_string(sign));
    }
    if (!content || !title)
        goto out;
    json_t *zh = json_object();
    json_object_set_new(zh, "title", title);
    json_object_set_new(zh, "content", content);
    title = content = NULL; /* now owned by zh */
    json_t *post = json_object();
    json_object_set_new(post, "zh_cn", zh);
    json_t *c = json_object();
    json_object_set_new(c, "post", post);
    json_object_set_new(o, "msg_type", json_string("post"));
    json_object_set_new(o, "content", c);
    s = cc_json_compact(o, len);
out:
    json_decref(content);
    json_decref(title);
    json_decref(o);
    return s;
}

/* The verdict for a non-zero code; msg tells 9499's causes apart. */
static struct cc_robot_verdict verdict(int64_t code, const char *msg)
{
    enum cc_send_status no = CC_SEND_REJECTED;
    static const char throttled[] =
        "rate limited: the bot takes at most 5 messages a second and 100 a minute; retry "
        "shortly";
    switch (code) {
    case 19001:
        return (struct cc_robot_verdict){
            no, N_("the webhook token is invalid: the bot was deleted or the URL is wrong")};
    case 19007:
        return (struct cc_robot_verdict){no, N_("the bot is not enabled in the group")};
    case 19021:
        return (struct cc_robot_verdict){
            no, N_("signature rejected: check the secret, or this server's clock")};
    case 19022:
        return (struct cc_robot_verdict){
            no, N_("this server's IP address is not in the bot's allow-list")};
    case 19024:
        return (struct cc_robot_verdict){
            no, N_("the bot's security settings require a keyword the message lacks "
                "(add \"certificate\")")};
    case 19036:
        return (struct cc_robot_verdict){no, N_("message too large")};
    case 11232:
        return (struct cc_robot_verdict){CC_SEND_THROTTLED, throttled};
    case 9499:
        /* One code for any bad request; only the message tells the rate
         * limit apart. */
        if (strcasestr(msg, "too many request"))
            return (struct cc_robot_verdict){CC_SEND_THROTTLED, throttled};
        return (struct cc_robot_verdict){no, N_("bad request: the platform refused the message")};
    default:
        return (struct cc_robot_verdict){no, NULL};
    }
}

/* Builds m's body, signed in the body for a signed bot. */
static int build(const struct cc_robot_platform *p, const struct cc_robot_message *m,
                 const char *url, struct cc_send_result *res, struct cc_robot_body *out)
{
    const char *name = cc_webhook_kind_name((enum cc_webhook_kind)p->kind);
    const char *text = m->text ? m->text : m->markdown;
    char code[32];
    snprintf(code, sizeof code, "%s:too_large", name);
    out->data = NULL;
    /* The body is longer than the text: no need to build a huge one. */
    if (text && strlen(text) > p->max_bytes) {
        cc_delivery_set(res, CC_SEND_REJECTED, code,
                        "message too large for %s (more than %zu bytes): not sent", p->name,
                        p->max_bytes);
        return -1;
    }
    if (m->secret && *m->secret && strlen(m->secret) > CC_SECRET_MAX) {
        cc_delivery_set(res, CC_SEND_REJECTED, "", "the signing secret is too long: not sent");
        return -1;
    }
    if (cc_strlcpy(out->url, url, sizeof out->url) >= sizeof out->url) {
        cc_delivery_set(res, CC_SEND_REJECTED, "", "the URL is too long: not sent");
        return -1;
    }
    if (!(out->data = cc_lark_body(m, m->secret, cc_now_ms() / 1000, &out->len))) {
        cc_delivery_set(res, CC_SEND_REJECTED, "",
                        "the message has no text or is not valid UTF-8: not sent");
        return -1;
    }
    if (out->len > p->max_bytes) {
        cc_delivery_set(res, CC_SEND_REJECTED, code,
                        "message too large for %s (%zu bytes, at most %zu): not sent", p->name,
                        out->len, p->max_bytes);
        free(out->data);
        out->data = NULL;
        return -1;
    }
    return 0;
}

/* Lark's and Feishu's entries in the table of robot platforms (robot.c):
 * the same bot on two hosts. code and msg (older answers: StatusCode and
 * StatusMessage); the whole body at most 20000 bytes, as escaped JSON with
 * a paragraph object for each line; 5 messages a second and 100 a minute
 * per bot. */
#define LARK_PLATFORM                                                                   \
    .code_field = "code", .msg_field = "msg", .alt_code_field = "StatusCode",          \
    .alt_msg_field = "StatusMessage", .measures_json = 1, .line_bytes = 40,            \
    .max_bytes = CC_ROBOT_MAX_BODY, .frame_bytes = 1500,                               \
    .rules = {{5, 1000}, {100, 60 * 1000}}, .build = build, .verdict = verdict

const struct cc_robot_platform cc_robot_lark = {
    .kind = CC_WEBHOOK_LARK,
    .name = "Lark",
    .prefix = "https://open.larksuite.com/",
    .base_url = offsetof(struct cc_delivery_config, lark_base_url),
    LARK_PLATFORM,
};

const struct cc_robot_platform cc_robot_feishu = {
    .kind = CC_WEBHOOK_FEISHU,
    .name = "Feishu",
    .prefix = "https://open.feishu.cn/",
    .base_url = offsetof(struct cc_delivery_config, feishu_base_url),
    LARK_PLATFORM,
};
