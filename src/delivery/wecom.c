/*
 * wecom.c — the WeCom (企业微信) group-robot sender: a markdown message
 *   {"msgtype":"markdown","markdown":{"content":"…"}}
 * or, when a mobile is to be mentioned (markdown messages cannot mention by
 * mobile), a text message
 *   {"msgtype":"text","text":{"content":"…","mentioned_mobile_list":["138…"]}}
 * POSTed to the robot's URL. There is no signing: the key in the URL is the
 * secret. WeCom limits the content, not the body: 4096 UTF-8 bytes of
 * markdown, 2048 of text. The answer's errcode decides the outcome (robot.c
 * reads it, this file's verdict() maps it) — WeCom reports a removed robot
 * or a rate limit with HTTP 200. The file ends with WeCom's entry in the
 * table of robot platforms (delivery_int.h).
 * Spec: ../shared/specs/chatbots-and-sms.md.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

char *cc_wecom_body(const struct cc_robot_message *m, size_t *len, size_t *measured,
                    int *text_message)
{
    char mobile[20];
    int mention = m->mention_mobile && *m->mention_mobile &&
                  !cc_robot_mention_mobile(m->mention_mobile, mobile, sizeof mobile);
    if (m->mention_mobile && *m->mention_mobile && !mention)
        cc_log(CC_LOG_WARN, "wecom: mention_mobile is not an E.164 number; sent without "
                            "the mention", NULL);
    const char *content = mention ? (m->text ? m->text : m->markdown)
                                  : (m->markdown ? m->markdown : m->text);
    if (!content)
        return NULL;
    size_t n = strlen(content);
    if (!cc_utf8_valid(content, n))
        return NULL;
    /* {"msgtype":T,T:{"content":C[,"mentioned_mobile_list":[M]]}}, written
     * directly: the same bytes as the jansson object in this order. */
    const char *type = mention ? "text" : "markdown";
    struct cc_buf b;
    cc_buf_init(&b, (size_t)-1 / 2);
    int bad = cc_buf_puts(&b, "{\"msgtype\":\"") || cc_buf_puts(&b, type) ||
              cc_buf_puts(&b, "\",\"") || cc_buf_puts(&b, type) ||
              cc_buf_puts(&b, "\":{\"content\":") || cc_json_put_string(&b, content, n);
    if (!bad && mention)
        bad = cc_buf_puts(&b, ",\"mentioned_mobile_list\":[") ||
              cc_json_put_string(&b, mobile, strlen(mobile)) || cc_buf_puts(&b, "]");
    if (bad || cc_buf_puts(&b, "}}")) {
        cc_buf_free(&b);
        return NULL;
    }
    *measured = n;
    *text_message = mention;
    return cc_buf_steal(&b, len);
}

/* The verdict for a non-zero errcode. */
static struct cc_robot_verdict verdict(int64_t code, const char *msg)
{
    enum cc_send_status no = CC_SEND_REJECTED;
    (void)msg;
    switch (code) {
    case 93000:
        return (struct cc_robot_verdict){no, N_("invalid webhook URL or the robot was removed")};
    case 93004:
        return (struct cc_robot_verdict){no, N_("the robot was disabled")};
    case 93008:
        return (struct cc_robot_verdict){no, N_("the robot is no longer in the group")};
    case 40058:
        return (struct cc_robot_verdict){no, N_("content too long")};
    case 44004:
        return (struct cc_robot_verdict){no, N_("empty content")};
    case 45009:
        return (struct cc_robot_verdict){
            CC_SEND_THROTTLED,
            N_("rate limited: the robot takes at most 20 messages a minute; retry next minute")};
    case -1:
        return (struct cc_robot_verdict){CC_SEND_RETRY, N_("WeCom is busy; retry")};
    default:
        return (struct cc_robot_verdict){no, NULL};
    }
}

/* Builds m's body: WeCom limits the content, not the body. */
static int build(const struct cc_robot_platform *p, const struct cc_robot_message *m,
                 const char *url, struct cc_send_result *res, struct cc_robot_body *out)
{
    size_t measured = 0;
    int text_message = 0;
    if (cc_strlcpy(out->url, url, sizeof out->url) >= sizeof out->url) {
        out->data = NULL;
        cc_delivery_set(res, CC_SEND_REJECTED, "", "the URL is too long: not sent");
        return -1;
    }
    out->data = cc_wecom_body(m, &out->len, &measured, &text_message);
    if (!out->data) {
        cc_delivery_set(res, CC_SEND_REJECTED, "",
                        "the message has no text or is not valid UTF-8: not sent");
        return -1;
    }
    size_t max = text_message ? p->max_text_bytes : p->max_bytes;
    if (measured > max) {
        cc_delivery_set(res, CC_SEND_REJECTED, "wecom:too_large",
                        "message too large for WeCom (%s content %zu bytes, at most %zu): "
                        "not sent",
                        text_message ? "text" : "markdown", measured, max);
        free(out->data);
        out->data = NULL;
        return -1;
    }
    return 0;
}

/* WeCom's entry in the table of robot platforms (robot.c): errcode and
 * errmsg; the markdown content at most 4096 bytes, a text message's (a
 * mention) 2048; 20 messages a minute per robot. */
const struct cc_robot_platform cc_robot_wecom = {
    .kind = CC_WEBHOOK_WECOM,
    .name = "WeCom",
    .prefix = "https://qyapi.weixin.qq.com/",
    .base_url = offsetof(struct cc_delivery_config, wecom_base_url),
    .code_field = "errcode",
    .msg_field = "errmsg",
    .measures_markdown = 1,
    .mention_as_text = 1,
    .max_bytes = CC_WECOM_MAX_MARKDOWN,
    .max_text_bytes = CC_WECOM_MAX_TEXT,
    .frame_bytes = 160,
    .rules = {{20, 60 * 1000}},
    .build = build,
    .verdict = verdict,
};
