/*
 * dingtalk.c — the DingTalk custom-robot sender: a markdown message
 *   {"msgtype":"markdown","markdown":{"title","text"},
 *    "at":{"atMobiles":[...],"isAtAll":false},"msgUuid":"…"}
 * POSTed to the robot's URL. A signed robot gets "&timestamp=<ms>&sign=…"
 * added to the query, computed at every send (DingTalk refuses timestamps
 * more than an hour off). A mention needs both at.atMobiles and "@<mobile>"
 * in the text, or DingTalk shows no mention. msgUuid stays the same across
 * retries, so DingTalk shows a retried message once. The answer's errcode
 * decides the outcome (robot.c reads it, this file's verdict() maps it).
 * The file ends with DingTalk's entry in the table of robot platforms
 * (delivery_int.h): limits, rate limits, the builder and the verdicts.
 * Spec: ../shared/specs/chatbots-and-sms.md.
 */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

int cc_dingtalk_sign(const char *secret, int64_t ts_ms, char *out, size_t outsz)
{
    char data[24 + 1 + CC_SECRET_MAX + 1];
    uint8_t mac[32];
    size_t slen = strlen(secret);
    if (outsz < CC_ROBOT_SIGN_LEN || slen > CC_SECRET_MAX)
        return -1;
    int n = snprintf(data, sizeof data, "%lld\n%s", (long long)ts_ms, secret);
    assert(n > 0 && (size_t)n < sizeof data);
    /* The secret is both the key and part of the data. */
    cc_hmac_sha256(secret, slen, data, (size_t)n, mac);
    cc_base64_encode(mac, sizeof mac, out, outsz);
    OPENSSL_cleanse(data, sizeof data);
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

int cc_dingtalk_signed_url(const char *url, const char *secret, int64_t ts_ms, char *out,
                           size_t outsz)
{
    char sign[CC_ROBOT_SIGN_LEN];
    struct cc_buf b;
    int rc = -1;
    if (cc_dingtalk_sign(secret, ts_ms, sign, sizeof sign))
        return -1;
    cc_buf_init(&b, outsz ? outsz - 1 : 0);
    /* base64's '+', '/' and '=' must reach DingTalk percent-encoded, once. */
    if (!cc_buf_puts(&b, url) && !cc_buf_puts(&b, strchr(url, '?') ? "&" : "?") &&
        !cc_buf_printf(&b, "timestamp=%lld&sign=", (long long)ts_ms) &&
        !cc_acs_encode(sign, strlen(sign), &b)) {
        cc_strlcpy(out, b.data, outsz);
        rc = 0;
    }
    cc_buf_free(&b);
    return rc;
}

/* json_string(s), or JSON null with *bad set when s is not valid UTF-8. */
static json_t *jstr(const char *s, int *bad)
{
    json_t *v = json_string(s);
    if (!v)
        *bad = 1;
    return v ? v : json_null();
}

/* A title for a message that came without one — DingTalk refuses an empty
 * title: the first line of md without its markdown marks, cut to fit out on
 * a character boundary; "certificate" when that leaves nothing. */
static void default_title(const char *md, char *out, size_t outsz)
{
    assert(outsz > sizeof "certificate");
    md += strspn(md, " \t\r\n#>*-");
    size_t n = strcspn(md, "\r\n");
    if (n > outsz - 1) {
        n = outsz - 1;
        while (n > 0 && ((unsigned char)md[n] & 0xC0) == 0x80)
            n--;
    }
    while (n > 0 && (md[n - 1] == ' ' || md[n - 1] == '\t'))
        n--;
    if (!n)
        cc_strlcpy(out, "certificate", outsz);
    else
        snprintf(out, outsz, "%.*s", (int)n, md);
}

char *cc_dingtalk_body(const struct cc_robot_message *m, size_t *len)
{
    const char *md = m->markdown ? m->markdown : m->text;
    char mobile[20];
    char *s = NULL;
    int bad = 0;
    struct cc_buf text;
    if (!md)
        return NULL;
    cc_buf_init(&text, strlen(md) + sizeof mobile + 4);
    int mention = m->mention_mobile && *m->mention_mobile &&
                  !cc_robot_mention_mobile(m->mention_mobile, mobile, sizeof mobile);
    if (m->mention_mobile && *m->mention_mobile && !mention)
        cc_log(CC_LOG_WARN, "dingtalk: mention_mobile is not an E.164 number; sent without "
                            "the mention", NULL);
    /* The buffer is sized for all of it: the appends cannot fail. */
    cc_buf_puts(&text, md);
    if (mention)
        cc_buf_printf(&text, "\n\n@%s", mobile);

    json_t *o = json_object();
    json_t *markdown = json_object();
    json_t *at = json_object();
    json_t *mobiles = json_array();
    json_object_set_new(o, "msgtype", json_string("markdown"));
    int has_title = m->title && *m->title;
    char title[128] = "";
    if (!has_title)
        default_title(md, title, sizeof title);
    json_object_set_new(markdown, "title", jstr(has_title ? m->title : title, &bad));
    json_object_set_new(markdown, "text", jstr(text.data ? text.data : "", &bad));
    json_object_set_new(o, "markdown", markdown);
    if (mention)
        json_array_append_new(mobiles, json_string(mobile));
    json_object_set_new(at, "atMobiles", mobiles);
    json_object_set_new(at, "isAtAll", json_false());
    json_object_set_new(o, "at", at);
    if (m->msg_uuid && *m->msg_uuid)
        json_object_set_new(o, "msgUuid", jstr(m->msg_uuid, &bad));
    if (!bad)
        s = cc_json_compact(o, len);
    json_decref(o);
    cc_buf_free(&text);
    return s;
}

/* The verdict for a non-zero errcode; msg (errmsg, may be "") tells
 * 310000's causes apart. */
static struct cc_robot_verdict verdict(int64_t code, const char *msg)
{
    enum cc_send_status no = CC_SEND_REJECTED;
    switch (code) {
    case 310000:
        /* One code for every security check; errmsg says which, in
         * English or Chinese. */
        if (strcasestr(msg, "keyword") || strstr(msg, "关键词"))
            return (struct cc_robot_verdict){
                no, N_("the robot's security settings require a keyword the message lacks "
                    "(add \"certificate\")")};
        if (strcasestr(msg, "sign") || strstr(msg, "签名"))
            return (struct cc_robot_verdict){
                no, N_("signature rejected: check the robot's signing secret")};
        if (strcasestr(msg, "timestamp") || strstr(msg, "时间戳"))
            return (struct cc_robot_verdict){no,
                                             N_("timestamp rejected: check this server's clock")};
        if (strcasestr(msg, "whitelist") || strstr(msg, "白名单") || strstr(msg, "IP") ||
            !strncasecmp(msg, "ip ", 3) || strcasestr(msg, " ip "))
            return (struct cc_robot_verdict){
                no, N_("this server's IP address is not in the robot's allow-list")};
        return (struct cc_robot_verdict){no,
                                         N_("the robot's security settings refused the message")};
    case 300001:
    case 300005:
    case 400101:
        return (struct cc_robot_verdict){no, N_("the robot's access token does not exist")};
    case 400102:
    case 400106:
    case 400013:
        return (struct cc_robot_verdict){
            no, N_("robot disabled, removed from the group, or the group was dissolved")};
    case 130101:
    case 410100:
        return (struct cc_robot_verdict){
            CC_SEND_THROTTLED, N_("rate limited: DingTalk blocks the robot for 10 minutes "
                               "after 20 messages a minute; retry in 10 minutes or later")};
    case 460101:
        return (struct cc_robot_verdict){no, N_("message too large")};
    case 430101:
    case 430102:
    case 430103:
    case 430104:
        return (struct cc_robot_verdict){no, N_("content blocked by the platform")};
    case -1:
        /* DingTalk's "系统繁忙", as on its other APIs. */
        return (struct cc_robot_verdict){CC_SEND_RETRY, N_("DingTalk is busy; retry")};
    default:
        return (struct cc_robot_verdict){no, NULL};
    }
}

/* Builds m's body and, for a signed robot, the signed URL. */
static int build(const struct cc_robot_platform *p, const struct cc_robot_message *m,
                 const char *url, struct cc_send_result *res, struct cc_robot_body *out)
{
    out->data = cc_dingtalk_body(m, &out->len);
    if (!out->data) {
        cc_delivery_set(res, CC_SEND_REJECTED, "",
                        "the message has no text or is not valid UTF-8: not sent");
        return -1;
    }
    if (out->len > p->max_bytes) {
        cc_delivery_set(res, CC_SEND_REJECTED, "dingtalk:too_large",
                        "message too large for DingTalk (%zu bytes, at most %zu): not sent",
                        out->len, p->max_bytes);
        goto fail;
    }
    if (!m->secret || !*m->secret) {
        if (cc_strlcpy(out->url, url, sizeof out->url) < sizeof out->url)
            return 0;
    } else if (!cc_dingtalk_signed_url(url, m->secret, cc_now_ms(), out->url, sizeof out->url)) {
        return 0;
    }
    cc_delivery_set(res, CC_SEND_REJECTED, "",
                    "the signing secret or the URL is too long: not sent");
fail:
    free(out->data);
    out->data = NULL;
    return -1;
}

/* DingTalk's entry in the table of robot platforms (robot.c): errcode and
 * errmsg; the whole body at most 20000 bytes; 20 messages a minute per
 * robot, and a robot past that is blocked for 10 minutes. */
const struct cc_robot_platform cc_robot_dingtalk = {
    .kind = CC_WEBHOOK_DINGTALK,
    .name = "DingTalk",
    .prefix = "https://oapi.dingtalk.com/",
    .base_url = offsetof(struct cc_delivery_config, dingtalk_base_url),
    .code_field = "errcode",
    .msg_field = "errmsg",
    .measures_markdown = 1,
    .measures_json = 1,
    .max_bytes = CC_ROBOT_MAX_BODY,
    .frame_bytes = 1500,
    .rules = {{20, 60 * 1000}},
    .throttle_block_ms = 10 * 60 * 1000,
    .build = build,
    .verdict = verdict,
};
