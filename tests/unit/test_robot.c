/* test_robot.c — the chat-robot senders (robot.c, dingtalk.c, lark.c,
 * wecom.c): both signatures against the vectors in
 * ../shared/specs/chatbots-and-sms.md, the bodies each platform gets, mention
 * handling, base-URL mapping, size measurement in UTF-8 bytes, every row of
 * the spec's error table, and whole sends to a one-shot receiver on
 * 127.0.0.1 that records what arrived. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "core/core.h"
#include "delivery/delivery_int.h"
#include "util/util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- signatures ----------------------------------------------------------- */

static void dingtalk_sign_vector(void **state)
{
    (void)state;
    char sign[CC_ROBOT_SIGN_LEN];
    assert_int_equal(cc_dingtalk_sign("SECtestsecret0123456789", 1700000000000LL, sign,
                                      sizeof sign),
                     0);
    assert_string_equal(sign, "zrLWzK97t62y5CpqN8Ok9UIdPvX+jL1PNoW8nKT5a9k=");
    assert_int_equal(cc_dingtalk_sign("SECtestsecret0123456789", 1700000000000LL, sign, 44), -1);
    char longsecret[CC_SECRET_MAX + 2];
    memset(longsecret, 'a', sizeof longsecret - 1);
    longsecret[sizeof longsecret - 1] = '\0';
    assert_int_equal(cc_dingtalk_sign(longsecret, 1, sign, sizeof sign), -1);
}

static void dingtalk_signed_url_vector(void **state)
{
    (void)state;
    char url[512];
    assert_int_equal(cc_dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc",
                                            "SECtestsecret0123456789", 1700000000000LL, url,
                                            sizeof url),
                     0);
    assert_string_equal(url, "https://oapi.dingtalk.com/robot/send?access_token=abc"
                             "&timestamp=1700000000000"
                             "&sign=zrLWzK97t62y5CpqN8Ok9UIdPvX%2BjL1PNoW8nKT5a9k%3D");
    /* No query yet: the parameters start it. */
    assert_int_equal(cc_dingtalk_signed_url("http://127.0.0.1:9/robot/send", "SECx", 5, url,
                                            sizeof url),
                     0);
    assert_non_null(strstr(url, "/robot/send?timestamp=5&sign="));
    /* Does not fit: fails rather than cut the signature off. */
    assert_int_equal(cc_dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=abc",
                                            "SECtestsecret0123456789", 1700000000000LL, url, 100),
                     -1);
}

static void lark_sign_vectors(void **state)
{
    (void)state;
    char sign[CC_ROBOT_SIGN_LEN];
    assert_int_equal(cc_lark_sign("demo", 1599360473, sign, sizeof sign), 0);
    assert_string_equal(sign, "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=");
    assert_int_equal(cc_lark_sign("SECtestsecret0123456789", 1700000000, sign, sizeof sign), 0);
    assert_string_equal(sign, "P5ztu8hdWkPL63034kyAa0q2+9oUqMQS6U0IhqJQ4MM=");
    assert_int_equal(cc_lark_sign("demo", 1599360473, sign, 10), -1);
}

/* ---- bodies --------------------------------------------------------------- */

/* Parses a body the sender built; the caller decrefs. */
static json_t *parse(const char *body, size_t len)
{
    assert_non_null(body);
    assert_int_equal(strlen(body), len);
    json_t *o = json_loadb(body, len, 0, NULL);
    assert_true(json_is_object(o));
    return o;
}

static const char *jget(json_t *o, const char *path)
{
    /* "a.b.c": objects only. */
    char buf[128];
    cc_strlcpy(buf, path, sizeof buf);
    json_t *v = o;
    for (char *p = buf, *dot; v; p = dot + 1) {
        dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        v = json_object_get(v, p);
        if (!dot)
            break;
    }
    return json_string_value(v);
}

static void dingtalk_body_markdown(void **state)
{
    (void)state;
    struct cc_robot_message m = {.kind = CC_WEBHOOK_DINGTALK,
                                 .title = "证书即将过期",
                                 .markdown = "### certificate 证书\n- example.com",
                                 .msg_uuid = "n-42-1"};
    size_t len = 0;
    char *body = cc_dingtalk_body(&m, &len);
    json_t *o = parse(body, len);
    assert_string_equal(jget(o, "msgtype"), "markdown");
    assert_string_equal(jget(o, "markdown.title"), "证书即将过期");
    assert_string_equal(jget(o, "markdown.text"), "### certificate 证书\n- example.com");
    assert_string_equal(jget(o, "msgUuid"), "n-42-1");
    json_t *at = json_object_get(o, "at");
    assert_int_equal(json_array_size(json_object_get(at, "atMobiles")), 0);
    assert_true(json_is_false(json_object_get(at, "isAtAll")));
    /* UTF-8 as is, not \u escapes: DingTalk counts these bytes. */
    assert_non_null(strstr(body, "证书"));
    json_decref(o);
    free(body);

    /* Without a title, the first line stands in: DingTalk needs one. */
    static const struct {
        const char *md, *want;
    } titles[] = {
        {"### certificate 证书 expiring  \n- a.example", "certificate 证书 expiring"},
        {"\n\n> **bold** line", "bold** line"},
        {"###\n", "certificate"},
        {"", "certificate"},
    };
    for (size_t i = 0; i < N(titles); i++) {
        struct cc_robot_message u = {.kind = CC_WEBHOOK_DINGTALK, .markdown = titles[i].md};
        body = cc_dingtalk_body(&u, &len);
        o = parse(body, len);
        assert_string_equal(jget(o, "markdown.title"), titles[i].want);
        json_decref(o);
        free(body);
    }
    char *long_line = cc_malloc(400);
    memset(long_line, 0, 400);
    for (size_t i = 0; i + 3 < 399; i += 3)
        memcpy(long_line + i, "证", 3);
    struct cc_robot_message u = {.kind = CC_WEBHOOK_DINGTALK, .markdown = long_line};
    body = cc_dingtalk_body(&u, &len); /* NULL if the cut split a character */
    o = parse(body, len);
    assert_int_equal(strlen(jget(o, "markdown.title")), 126);
    json_decref(o);
    free(body);
    cc_free(long_line);

    /* No msgUuid when none is given; invalid UTF-8 is refused. */
    m.msg_uuid = NULL;
    body = cc_dingtalk_body(&m, &len);
    o = parse(body, len);
    assert_null(json_object_get(o, "msgUuid"));
    json_decref(o);
    free(body);
    m.markdown = "bad \xff";
    assert_null(cc_dingtalk_body(&m, &len));
    m.markdown = m.text = NULL;
    assert_null(cc_dingtalk_body(&m, &len));
}

static void dingtalk_mention(void **state)
{
    (void)state;
    static const struct {
        const char *e164, *want;
    } cases[] = {
        {"+8613812345678", "13812345678"},
        {"+85291234567", "85291234567"},
        {"+14155550123", "14155550123"},
    };
    for (size_t i = 0; i < N(cases); i++) {
        struct cc_robot_message m = {.kind = CC_WEBHOOK_DINGTALK,
                                     .title = "t",
                                     .markdown = "certificate expiring",
                                     .mention_mobile = cases[i].e164};
        size_t len = 0;
        char *body = cc_dingtalk_body(&m, &len);
        json_t *o = parse(body, len);
        json_t *mobiles = json_object_get(json_object_get(o, "at"), "atMobiles");
        assert_int_equal(json_array_size(mobiles), 1);
        assert_string_equal(json_string_value(json_array_get(mobiles, 0)), cases[i].want);
        /* Both places, or DingTalk shows no mention. */
        char tail[32];
        snprintf(tail, sizeof tail, "@%s", cases[i].want);
        const char *text = jget(o, "markdown.text");
        assert_non_null(text);
        assert_string_equal(text + strlen(text) - strlen(tail), tail);
        assert_memory_equal(text, "certificate expiring", 20);
        json_decref(o);
        free(body);
    }
    /* Not a mobile: sent without the mention rather than not at all. */
    struct cc_robot_message m = {.kind = CC_WEBHOOK_DINGTALK,
                                 .markdown = "certificate",
                                 .mention_mobile = "13812345678"};
    size_t len = 0;
    char *body = cc_dingtalk_body(&m, &len);
    json_t *o = parse(body, len);
    assert_int_equal(json_array_size(json_object_get(json_object_get(o, "at"), "atMobiles")), 0);
    assert_string_equal(jget(o, "markdown.text"), "certificate");
    json_decref(o);
    free(body);
}

static void mention_mobile_forms(void **state)
{
    (void)state;
    char out[20];
    assert_int_equal(cc_robot_mention_mobile("+8613812345678", out, sizeof out), 0);
    assert_string_equal(out, "13812345678");
    assert_int_equal(cc_robot_mention_mobile("+861381234567", out, sizeof out), 0);
    assert_string_equal(out, "861381234567"); /* not 11 digits: not a mainland mobile */
    assert_int_equal(cc_robot_mention_mobile("+447911123456", out, sizeof out), 0);
    assert_string_equal(out, "447911123456");
    assert_int_equal(cc_robot_mention_mobile("13812345678", out, sizeof out), -1);
    assert_string_equal(out, "");
    assert_int_equal(cc_robot_mention_mobile("+86 138", out, sizeof out), -1);
    assert_int_equal(cc_robot_mention_mobile(NULL, out, sizeof out), -1);
}

static void lark_body_signed_post(void **state)
{
    (void)state;
    struct cc_robot_message m = {.kind = CC_WEBHOOK_FEISHU,
                                 .title = "证书 certificate",
                                 .text = "第一行 certificate\r\nline two\n\nline four\n",
                                 .markdown = "**ignored for Lark**",
                                 .mention_mobile = "+8613812345678"};
    size_t len = 0;
    char *body = cc_lark_body(&m, "demo", 1599360473, &len);
    json_t *o = parse(body, len);
    assert_string_equal(jget(o, "timestamp"), "1599360473"); /* a string */
    assert_string_equal(jget(o, "sign"), "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=");
    assert_string_equal(jget(o, "msg_type"), "post");
    assert_string_equal(jget(o, "content.post.zh_cn.title"), "证书 certificate");
    json_t *paras = json_object_get(
        json_object_get(json_object_get(json_object_get(o, "content"), "post"), "zh_cn"),
        "content");
    static const char *const want[] = {"第一行 certificate", "line two", "", "line four"};
    assert_int_equal(json_array_size(paras), N(want));
    for (size_t i = 0; i < N(want); i++) {
        json_t *para = json_array_get(paras, i);
        assert_int_equal(json_array_size(para), 1);
        json_t *el = json_array_get(para, 0);
        assert_string_equal(json_string_value(json_object_get(el, "tag")), "text");
        assert_string_equal(json_string_value(json_object_get(el, "text")), want[i]);
    }
    assert_non_null(strstr(body, "第一行")); /* UTF-8 bytes, as Lark counts them */
    assert_null(strstr(body, "mention")); /* Lark cannot mention by mobile */
    json_decref(o);
    free(body);
}

static void lark_body_unsigned(void **state)
{
    (void)state;
    struct cc_robot_message m = {.kind = CC_WEBHOOK_LARK, .title = "t", .text = ""};
    size_t len = 0;
    char *body = cc_lark_body(&m, NULL, 1700000000, &len);
    json_t *o = parse(body, len);
    assert_null(json_object_get(o, "timestamp"));
    assert_null(json_object_get(o, "sign"));
    assert_string_equal(body, "{\"msg_type\":\"post\",\"content\":{\"post\":{\"zh_cn\":{\"title\":"
                              "\"t\",\"content\":[[{\"tag\":\"text\",\"text\":\"\"}]]}}}}");
    json_decref(o);
    free(body);
    body = cc_lark_body(&m, "", 1700000000, &len); /* "" is unsigned too */
    assert_null(strstr(body, "sign"));
    free(body);
    m.title = "\xc3";
    assert_null(cc_lark_body(&m, NULL, 1, &len));
    m.title = "t";
    m.text = "ok\n\xff";
    assert_null(cc_lark_body(&m, "demo", 1, &len));
}

static void wecom_bodies(void **state)
{
    (void)state;
    struct cc_robot_message m = {.kind = CC_WEBHOOK_WECOM,
                                 .markdown = "## certificate 证书\n> example.com",
                                 .text = "certificate 证书 example.com"};
    size_t len = 0, measured = 0;
    int text_message = -1;
    char *body = cc_wecom_body(&m, &len, &measured, &text_message);
    json_t *o = parse(body, len);
    assert_int_equal(text_message, 0);
    assert_int_equal(measured, strlen(m.markdown));
    assert_string_equal(jget(o, "msgtype"), "markdown");
    assert_string_equal(jget(o, "markdown.content"), m.markdown);
    assert_null(json_object_get(o, "text"));
    json_decref(o);
    free(body);

    /* A mention turns the message into text: markdown cannot mention. */
    m.mention_mobile = "+8613812345678";
    body = cc_wecom_body(&m, &len, &measured, &text_message);
    o = parse(body, len);
    assert_int_equal(text_message, 1);
    assert_int_equal(measured, strlen(m.text));
    assert_string_equal(jget(o, "msgtype"), "text");
    assert_string_equal(jget(o, "text.content"), m.text);
    json_t *list = json_object_get(json_object_get(o, "text"), "mentioned_mobile_list");
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_array_get(list, 0)), "13812345678");
    assert_null(json_object_get(o, "markdown"));
    json_decref(o);
    free(body);

    /* A bad mention keeps the markdown message. */
    m.mention_mobile = "nope";
    body = cc_wecom_body(&m, &len, &measured, &text_message);
    assert_int_equal(text_message, 0);
    assert_non_null(strstr(body, "\"msgtype\":\"markdown\""));
    free(body);

    /* The exact bytes: escapes as jansson writes them, nothing else. */
    m.mention_mobile = NULL;
    m.markdown = "a\"b\\c\nd\te\x01" "f 证";
    body = cc_wecom_body(&m, &len, &measured, &text_message);
    assert_string_equal(body, "{\"msgtype\":\"markdown\",\"markdown\":{\"content\":"
                              "\"a\\\"b\\\\c\\nd\\te\\u0001f 证\"}}");
    assert_int_equal(len, strlen(body));
    free(body);
    m.mention_mobile = "+8613812345678";
    m.text = "t";
    body = cc_wecom_body(&m, &len, &measured, &text_message);
    assert_string_equal(body, "{\"msgtype\":\"text\",\"text\":{\"content\":\"t\","
                              "\"mentioned_mobile_list\":[\"13812345678\"]}}");
    free(body);

    /* Text that is not UTF-8 is not sent. */
    m.mention_mobile = NULL;
    m.markdown = "bad \xff";
    assert_null(cc_wecom_body(&m, &len, &measured, &text_message));
}

/* ---- URL mapping ---------------------------------------------------------- */

static void target_url_mapping(void **state)
{
    (void)state;
    char out[600];
    const char *dt = "https://oapi.dingtalk.com/robot/send?access_token=abc123";
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_DINGTALK, dt, NULL, out, sizeof out), 0);
    assert_string_equal(out, dt);
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_DINGTALK, dt, "", out, sizeof out), 0);
    assert_string_equal(out, dt);
    assert_int_equal(
        cc_robot_target_url(CC_WEBHOOK_DINGTALK, dt, "http://127.0.0.1:9000", out, sizeof out),
        0);
    assert_string_equal(out, "http://127.0.0.1:9000/robot/send?access_token=abc123");
    assert_int_equal(
        cc_robot_target_url(CC_WEBHOOK_DINGTALK, dt, "http://127.0.0.1:9000//", out, sizeof out),
        0);
    assert_string_equal(out, "http://127.0.0.1:9000/robot/send?access_token=abc123");
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_FEISHU,
                                         "https://open.feishu.cn/open-apis/bot/v2/hook/ab-12",
                                         "http://localhost:7000/feishu", out, sizeof out),
                     0);
    assert_string_equal(out, "http://localhost:7000/feishu/open-apis/bot/v2/hook/ab-12");
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_LARK,
                                         "https://open.larksuite.com/open-apis/bot/v2/hook/x",
                                         "http://127.0.0.1:1", out, sizeof out),
                     0);
    assert_string_equal(out, "http://127.0.0.1:1/open-apis/bot/v2/hook/x");
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_WECOM,
                                         "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1",
                                         "http://127.0.0.1:2/", out, sizeof out),
                     0);
    assert_string_equal(out, "http://127.0.0.1:2/cgi-bin/webhook/send?key=k-1");

    /* Only the platform's own host, for the platform's kind. */
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_LARK,
                                         "https://open.feishu.cn/open-apis/bot/v2/hook/x", NULL,
                                         out, sizeof out),
                     -1);
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_DINGTALK,
                                         "https://oapi.dingtalk.com.evil.example/robot/send", NULL,
                                         out, sizeof out),
                     -1);
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_DINGTALK,
                                         "http://oapi.dingtalk.com/robot/send?access_token=a",
                                         NULL, out, sizeof out),
                     -1);
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_NONE, dt, NULL, out, sizeof out), -1);
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_DINGTALK, NULL, NULL, out, sizeof out), -1);
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_DINGTALK, dt, "http://127.0.0.1:9000", out,
                                         20),
                     -1);
    assert_int_equal(cc_robot_target_url(CC_WEBHOOK_DINGTALK, dt, NULL, out, 20), -1);
}

/* ---- the error table ------------------------------------------------------ */

struct row {
    int kind;
    long http;
    const char *body;
    enum cc_send_status want;
    const char *code;   /* res->code */
    const char *reason; /* substring of res->reason, or NULL */
};

static const struct row rows[] = {
    /* DingTalk */
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", CC_SEND_OK, "dingtalk:0",
     NULL},
    {CC_WEBHOOK_DINGTALK, 200,
     "{\"errcode\":310000,\"errmsg\":\"keywords not in content, more: "
     "[https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]\"}",
     CC_SEND_REJECTED, "dingtalk:310000",
     "the robot's security settings require a keyword the message lacks (add \"certificate\")"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":310000,\"errmsg\":\"消息内容中不包含任何关键词\"}",
     CC_SEND_REJECTED, "dingtalk:310000", "require a keyword"},
    {CC_WEBHOOK_DINGTALK, 200,
     "{\"errcode\":310000,\"errmsg\":\"sign not match, more: "
     "[https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]\"}",
     CC_SEND_REJECTED, "dingtalk:310000", "signature rejected: check the robot's signing secret"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":310000,\"errmsg\":\"签名不匹配\"}", CC_SEND_REJECTED,
     "dingtalk:310000", "signature rejected"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":310000,\"errmsg\":\"invalid timestamp\"}",
     CC_SEND_REJECTED, "dingtalk:310000", "timestamp rejected: check this server's clock"},
    {CC_WEBHOOK_DINGTALK, 200,
     "{\"errcode\":310000,\"errmsg\":\"ip 203.0.113.9 not in whitelist\"}", CC_SEND_REJECTED,
     "dingtalk:310000", "this server's IP address is not in the robot's allow-list"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":310000,\"errmsg\":\"IP地址不在白名单\"}",
     CC_SEND_REJECTED, "dingtalk:310000", "allow-list"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":310000,\"errmsg\":\"\"}", CC_SEND_REJECTED,
     "dingtalk:310000", "security settings refused"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":300001,\"errmsg\":\"token is not exist\"}",
     CC_SEND_REJECTED, "dingtalk:300001", "the robot's access token does not exist"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":300005,\"errmsg\":\"token is not exist\"}",
     CC_SEND_REJECTED, "dingtalk:300005", "access token does not exist"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":400101,\"errmsg\":\"access_token不存在\"}",
     CC_SEND_REJECTED, "dingtalk:400101", "access token does not exist"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":400102,\"errmsg\":\"机器人已停用\"}",
     CC_SEND_REJECTED, "dingtalk:400102",
     "robot disabled, removed from the group, or the group was dissolved"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":400106,\"errmsg\":\"机器人不存在\"}",
     CC_SEND_REJECTED, "dingtalk:400106", "removed from the group"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":400013,\"errmsg\":\"群已被解散\"}",
     CC_SEND_REJECTED, "dingtalk:400013", "group was dissolved"},
    {CC_WEBHOOK_DINGTALK, 200,
     "{\"errcode\":130101,\"errmsg\":\"send too fast, exceed 20 times per minute\"}",
     CC_SEND_THROTTLED, "dingtalk:130101", "10 minutes"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":410100,\"errmsg\":\"发送速度太快而限流\"}",
     CC_SEND_THROTTLED, "dingtalk:410100", "10 minutes"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":460101,\"errmsg\":\"message too long\"}",
     CC_SEND_REJECTED, "dingtalk:460101", "message too large"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":430101,\"errmsg\":\"含有不安全的外链\"}",
     CC_SEND_REJECTED, "dingtalk:430101", "content blocked by the platform"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":430102,\"errmsg\":\"x\"}", CC_SEND_REJECTED,
     "dingtalk:430102", "content blocked"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":430103,\"errmsg\":\"x\"}", CC_SEND_REJECTED,
     "dingtalk:430103", "content blocked"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":430104,\"errmsg\":\"x\"}", CC_SEND_REJECTED,
     "dingtalk:430104", "content blocked"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":-1,\"errmsg\":\"系统繁忙\"}", CC_SEND_RETRY,
     "dingtalk:-1", "busy"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errcode\":777777,\"errmsg\":\"something new\"}",
     CC_SEND_REJECTED, "dingtalk:777777", "something new"},
    {CC_WEBHOOK_DINGTALK, 503, "{\"errcode\":777777,\"errmsg\":\"overloaded\"}", CC_SEND_RETRY,
     "dingtalk:777777", "overloaded"},
    {CC_WEBHOOK_DINGTALK, 200, "<html>ok</html>", CC_SEND_RETRY, "http:200",
     "unreadable answer: not delivered"},
    {CC_WEBHOOK_DINGTALK, 200, "{\"errmsg\":\"ok\"}", CC_SEND_RETRY, "http:200",
     "unreadable answer"},
    {CC_WEBHOOK_DINGTALK, 200, "", CC_SEND_RETRY, "http:200", "unreadable answer"},
    {CC_WEBHOOK_DINGTALK, 200, "[0]", CC_SEND_RETRY, "http:200", "unreadable answer"},
    {CC_WEBHOOK_DINGTALK, 502, "<html>Bad Gateway</html>", CC_SEND_RETRY, "http:502", "502"},
    {CC_WEBHOOK_DINGTALK, 429, "", CC_SEND_THROTTLED, "http:429", "429"},
    {CC_WEBHOOK_DINGTALK, 500, "{\"errcode\":0,\"errmsg\":\"ok\"}", CC_SEND_RETRY,
     "dingtalk:0", "unreadable answer"},
    /* Lark / Feishu */
    {CC_WEBHOOK_LARK, 200, "{\"code\":0,\"data\":{},\"msg\":\"success\"}", CC_SEND_OK, "lark:0",
     NULL},
    {CC_WEBHOOK_FEISHU, 200,
     "{\"Extra\":null,\"StatusCode\":0,\"StatusMessage\":\"success\"}", CC_SEND_OK, "feishu:0",
     NULL},
    {CC_WEBHOOK_FEISHU, 200, "{\"code\":19001,\"data\":{},\"msg\":\"param invalid: incoming "
                             "webhook access token invalid\"}",
     CC_SEND_REJECTED, "feishu:19001", "token is invalid"},
    {CC_WEBHOOK_LARK, 200, "{\"code\":19007,\"msg\":\"Bot Not Enabled\"}", CC_SEND_REJECTED,
     "lark:19007", "not enabled"},
    {CC_WEBHOOK_FEISHU, 200, "{\"code\":19021,\"data\":{},\"msg\":\"sign match fail or "
                             "timestamp is not within one hour from current time\"}",
     CC_SEND_REJECTED, "feishu:19021",
     "signature rejected: check the secret, or this server's clock"},
    {CC_WEBHOOK_FEISHU, 200, "{\"code\":19022,\"msg\":\"Ip Not Allowed\"}", CC_SEND_REJECTED,
     "feishu:19022", "allow-list"},
    {CC_WEBHOOK_FEISHU, 200, "{\"code\":19024,\"msg\":\"Key Words Not Found\"}",
     CC_SEND_REJECTED, "feishu:19024", "keyword the message lacks (add \"certificate\")"},
    {CC_WEBHOOK_LARK, 200, "{\"code\":19036,\"msg\":\"message too large\"}", CC_SEND_REJECTED,
     "lark:19036", "message too large"},
    {CC_WEBHOOK_FEISHU, 200, "{\"code\":11232,\"msg\":\"frequency limited psm\"}",
     CC_SEND_THROTTLED, "feishu:11232", "rate limited"},
    {CC_WEBHOOK_FEISHU, 400, "{\"code\":9499,\"msg\":\"too many request\",\"data\":{}}",
     CC_SEND_THROTTLED, "feishu:9499", "rate limited"},
    {CC_WEBHOOK_LARK, 200, "{\"code\":9499,\"msg\":\"Too Many Requests\"}", CC_SEND_THROTTLED,
     "lark:9499", "rate limited"},
    {CC_WEBHOOK_FEISHU, 400, "{\"code\":9499,\"msg\":\"Bad Request\",\"data\":{}}",
     CC_SEND_REJECTED, "feishu:9499", "Bad Request"},
    {CC_WEBHOOK_FEISHU, 200, "{\"code\":19002,\"msg\":\"params error\"}", CC_SEND_REJECTED,
     "feishu:19002", "params error"},
    {CC_WEBHOOK_FEISHU, 200, "{\"msg\":\"success\"}", CC_SEND_RETRY, "http:200",
     "unreadable answer"},
    {CC_WEBHOOK_LARK, 200, "success", CC_SEND_RETRY, "http:200", "unreadable answer"},
    {CC_WEBHOOK_LARK, 504, "", CC_SEND_RETRY, "http:504", "504"},
    /* WeCom */
    {CC_WEBHOOK_WECOM, 200, "{\"errcode\":0,\"errmsg\":\"ok\"}", CC_SEND_OK, "wecom:0", NULL},
    {CC_WEBHOOK_WECOM, 200,
     "{\"errcode\":93000,\"errmsg\":\"invalid webhook url, hint: [1700000000_1_abc], from ip: "
     "203.0.113.9, more info at https://open.work.weixin.qq.com/devtool/query?e=93000\"}",
     CC_SEND_REJECTED, "wecom:93000", "invalid webhook URL or the robot was removed"},
    {CC_WEBHOOK_WECOM, 200, "{\"errcode\":93004,\"errmsg\":\"webhook disabled\"}",
     CC_SEND_REJECTED, "wecom:93004", "disabled"},
    {CC_WEBHOOK_WECOM, 200, "{\"errcode\":93008,\"errmsg\":\"not in chat\"}", CC_SEND_REJECTED,
     "wecom:93008", "no longer in the group"},
    {CC_WEBHOOK_WECOM, 200, "{\"errcode\":40058,\"errmsg\":\"content exceed max length\"}",
     CC_SEND_REJECTED, "wecom:40058", "content too long"},
    {CC_WEBHOOK_WECOM, 200, "{\"errcode\":44004,\"errmsg\":\"empty content\"}",
     CC_SEND_REJECTED, "wecom:44004", "empty content"},
    {CC_WEBHOOK_WECOM, 200, "{\"errcode\":45009,\"errmsg\":\"api freq out of limit\"}",
     CC_SEND_THROTTLED, "wecom:45009", "next minute"},
    {CC_WEBHOOK_WECOM, 200, "{\"errcode\":-1,\"errmsg\":\"system busy\"}", CC_SEND_RETRY,
     "wecom:-1", "busy"},
    {CC_WEBHOOK_WECOM, 200, "{\"errcode\":40008,\"errmsg\":\"invalid message type\"}",
     CC_SEND_REJECTED, "wecom:40008", "invalid message type"},
    {CC_WEBHOOK_WECOM, 200, "ok", CC_SEND_RETRY, "http:200", "unreadable answer"},
    {CC_WEBHOOK_WECOM, 200, "{\"errcode\":\"x\"}", CC_SEND_RETRY, "http:200",
     "unreadable answer"},
};

static void error_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < N(rows); i++) {
        struct cc_send_result res;
        struct cc_robot_answer ans;
        memset(&res, 0x55, sizeof res);
        memset(&ans, 0x55, sizeof ans);
        cc_robot_classify(rows[i].kind, rows[i].http, rows[i].body, strlen(rows[i].body), &res,
                          &ans);
        if (res.status != rows[i].want || strcmp(res.code, rows[i].code) ||
            (rows[i].reason && !strstr(res.reason, rows[i].reason)))
            fail_msg("row %zu (%s): status %s code %s reason \"%s\"", i, rows[i].body,
                     cc_send_status_name(res.status), res.code, res.reason);
        /* The delivery log gets the platform's own code and message. */
        const char *colon = strchr(rows[i].code, ':');
        if (strncmp(rows[i].code, "http:", 5)) {
            assert_string_equal(ans.platform_code, colon + 1);
            if (strcmp(colon, ":0") && !strstr(res.reason, ans.platform_msg))
                fail_msg("row %zu: reason \"%s\" lacks \"%s\"", i, res.reason,
                         ans.platform_msg);
        } else {
            assert_string_equal(ans.platform_code, "");
        }
        json_t *check = json_string(res.reason); /* valid UTF-8 */
        assert_non_null(check);
        json_decref(check);
    }
}

static void answer_fields(void **state)
{
    (void)state;
    struct cc_send_result res;
    struct cc_robot_answer ans;
    const char *b = "{\"code\":19021,\"msg\":\"sign\\nmatch fail\"}";
    cc_robot_classify(CC_WEBHOOK_LARK, 200, b, strlen(b), &res, &ans);
    assert_string_equal(ans.platform_code, "19021");
    assert_string_equal(ans.platform_msg, "sign match fail"); /* control characters go */
    b = "{\"errcode\":93000,\"errmsg\":\"x\"}";
    cc_robot_classify(CC_WEBHOOK_WECOM, 200, b, strlen(b), &res, NULL); /* ans optional */
    assert_int_equal(res.status, CC_SEND_REJECTED);

    /* A long Chinese message is cut on a character boundary. */
    struct cc_buf body;
    cc_buf_init(&body, 8192);
    cc_buf_puts(&body, "{\"errcode\":310000,\"errmsg\":\"关键词");
    for (int i = 0; i < 200; i++)
        cc_buf_puts(&body, "不");
    cc_buf_puts(&body, "\"}");
    for (size_t pad = 0; pad < 3; pad++) {
        cc_robot_classify(CC_WEBHOOK_DINGTALK, 200, body.data, body.len, &res, &ans);
        assert_int_equal(res.status, CC_SEND_REJECTED);
        json_t *s1 = json_string(res.reason), *s2 = json_string(ans.platform_msg);
        assert_non_null(s1);
        assert_non_null(s2);
        json_decref(s1);
        json_decref(s2);
        /* Shift the cut by one byte each round. */
        body.len = 0;
        cc_buf_puts(&body, "{\"errcode\":310000,\"errmsg\":\"关键词");
        for (size_t k = 0; k <= pad; k++)
            cc_buf_puts(&body, "a");
        for (int i = 0; i < 200; i++)
            cc_buf_puts(&body, "不");
        cc_buf_puts(&body, "\"}");
    }
    cc_buf_free(&body);
}

/* ---- sizes ---------------------------------------------------------------- */

static void max_bytes(void **state)
{
    (void)state;
    assert_int_equal(cc_robot_max_bytes(CC_WEBHOOK_DINGTALK, 0), 20000);
    assert_int_equal(cc_robot_max_bytes(CC_WEBHOOK_DINGTALK, 1), 20000);
    assert_int_equal(cc_robot_max_bytes(CC_WEBHOOK_LARK, 0), 20000);
    assert_int_equal(cc_robot_max_bytes(CC_WEBHOOK_FEISHU, 0), 20000);
    assert_int_equal(cc_robot_max_bytes(CC_WEBHOOK_WECOM, 0), 4096);
    assert_int_equal(cc_robot_max_bytes(CC_WEBHOOK_WECOM, 1), 2048);
    assert_int_equal(cc_robot_max_bytes(CC_WEBHOOK_NONE, 0), 0);
}

/* The table of robot platforms: one entry for each kind, with the rate
 * limits the dispatcher keeps to and DingTalk's block after throttling. */
static void platform_table(void **state)
{
    (void)state;
    const int kinds[] = {CC_WEBHOOK_DINGTALK, CC_WEBHOOK_LARK, CC_WEBHOOK_FEISHU,
                         CC_WEBHOOK_WECOM};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        const struct cc_robot_platform *p = cc_robot_platform_of(kinds[i]);
        assert_non_null(p);
        assert_int_equal(p->kind, kinds[i]);
        assert_string_equal(p->name, cc_robot_platform(kinds[i]));
        assert_non_null(p->build);
        assert_non_null(p->verdict);
        assert_true(p->frame_bytes < p->max_bytes);
    }
    assert_null(cc_robot_platform_of(CC_WEBHOOK_NONE));
    assert_string_equal(cc_robot_platform(CC_WEBHOOK_NONE), "robot");
    const struct cc_robot_platform *d = cc_robot_platform_of(CC_WEBHOOK_DINGTALK);
    assert_int_equal(d->rules[0].max, 20);
    assert_int_equal(d->rules[0].window_ms, 60000);
    assert_int_equal(d->rules[1].max, 0);
    assert_int_equal(d->throttle_block_ms, 600000);
    const struct cc_robot_platform *l = cc_robot_platform_of(CC_WEBHOOK_FEISHU);
    assert_int_equal(l->rules[0].max, 5);
    assert_int_equal(l->rules[0].window_ms, 1000);
    assert_int_equal(l->rules[1].max, 100);
    assert_int_equal(l->rules[1].window_ms, 60000);
    assert_int_equal(l->throttle_block_ms, 0);
    const struct cc_robot_platform *w = cc_robot_platform_of(CC_WEBHOOK_WECOM);
    assert_int_equal(w->rules[0].max, 20);
    assert_true(w->mention_as_text);
    assert_int_equal(w->throttle_block_ms, 0);
}

/* A configuration whose every platform maps to a closed port on the
 * loopback: a message that passes the size check is sent and fails with a
 * refused connection (RETRY), one that does not is never sent (REJECTED). */
static struct cc_delivery_config closed_cfg(void)
{
    struct cc_delivery_config cfg = {0};
    cfg.timeout_ms = 2000;
    cfg.dingtalk_base_url = cfg.lark_base_url = cfg.feishu_base_url = cfg.wecom_base_url =
        "http://127.0.0.1:1";
    return cfg;
}

/* n bytes of UTF-8: as many "证" (3 bytes) as fit, then 'a's. The caller
 * frees with cc_free(). */
static char *chinese(size_t n)
{
    char *s = cc_malloc(n + 1);
    size_t i = 0;
    for (; i + 3 <= n; i += 3)
        memcpy(s + i, "证", 3);
    for (; i < n; i++)
        s[i] = 'a';
    s[n] = '\0';
    return s;
}

static void expect_size(const struct cc_robot_message *m, int sent)
{
    struct cc_delivery_config cfg = closed_cfg();
    struct cc_send_result res;
    struct cc_robot_answer ans;
    int rc = cc_send_robot(&cfg, m, &res, &ans);
    assert_int_equal(rc, -1);
    if (sent) {
        if (res.status != CC_SEND_RETRY)
            fail_msg("expected a send attempt: %s %s", cc_send_status_name(res.status),
                     res.reason);
    } else {
        assert_int_equal(res.status, CC_SEND_REJECTED);
        assert_non_null(strstr(res.reason, "message too large for "));
        assert_non_null(strstr(res.reason, cc_robot_platform(m->kind)));
        assert_non_null(strstr(res.code, ":too_large"));
        assert_int_equal(ans.http_status, 0);
    }
}

static void dingtalk_size_is_the_whole_body(void **state)
{
    (void)state;
    struct cc_robot_message m = {.kind = CC_WEBHOOK_DINGTALK,
                                 .url = "https://oapi.dingtalk.com/robot/send?access_token=t",
                                 .secret = "SECtestsecret0123456789",
                                 .title = "证书",
                                 .markdown = "",
                                 .mention_mobile = "+8613812345678",
                                 .msg_uuid = "u-1"};
    size_t overhead = 0;
    char *b = cc_dingtalk_body(&m, &overhead);
    free(b);
    char *text = chinese(CC_ROBOT_MAX_BODY - overhead);
    m.markdown = text;
    size_t len = 0;
    b = cc_dingtalk_body(&m, &len);
    assert_int_equal(len, CC_ROBOT_MAX_BODY); /* bytes, not characters */
    free(b);
    expect_size(&m, 1);
    cc_free(text);
    text = chinese(CC_ROBOT_MAX_BODY - overhead + 1);
    m.markdown = text;
    expect_size(&m, 0);
    cc_free(text);
}

static void lark_size_is_the_whole_signed_body(void **state)
{
    (void)state;
    struct cc_robot_message m = {.kind = CC_WEBHOOK_FEISHU,
                                 .url = "https://open.feishu.cn/open-apis/bot/v2/hook/abc",
                                 .secret = "demo",
                                 .title = "证书",
                                 .text = ""};
    size_t overhead = 0;
    /* The timestamp has the same number of digits now as at any second
     * until 2286, so the measured size does not depend on the clock. */
    char *b = cc_lark_body(&m, m.secret, cc_now_ms() / 1000, &overhead);
    free(b);
    char *text = chinese(CC_ROBOT_MAX_BODY - overhead);
    m.text = text;
    expect_size(&m, 1);
    cc_free(text);
    text = chinese(CC_ROBOT_MAX_BODY - overhead + 1);
    m.text = text;
    expect_size(&m, 0);
    cc_free(text);
    /* Far too long: refused before a body is built. */
    text = chinese(100000);
    m.text = text;
    expect_size(&m, 0);
    cc_free(text);
}

static void wecom_size_is_the_content(void **state)
{
    (void)state;
    struct cc_robot_message m = {.kind = CC_WEBHOOK_WECOM,
                                 .url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"};
    char *md = chinese(4096);
    m.markdown = md;
    expect_size(&m, 1); /* the JSON around it does not count */
    cc_free(md);
    md = chinese(4097);
    m.markdown = md;
    expect_size(&m, 0);
    /* With a mention it is a text message: 2048 bytes of text. */
    char *text = chinese(2048);
    m.text = text;
    m.mention_mobile = "+8613812345678";
    expect_size(&m, 1);
    cc_free(text);
    text = chinese(2049);
    m.text = text;
    expect_size(&m, 0);
    cc_free(text);
    cc_free(md);
}

/* ---- whole sends to a one-shot receiver ------------------------------------ */

struct receiver {
    int fd;
    int port;
    char reply[1024];          /* the whole HTTP answer to write */
    char request_line[1024];
    char headers[4096];
    struct cc_buf body;
    pthread_t thread;
};

/* Accepts one connection, reads one request (Content-Length body), answers
 * r->reply and closes. */
static void *receive(void *arg)
{
    struct receiver *r = arg;
    char buf[65536];
    size_t have = 0;
    int c = accept(r->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    char *end = NULL;
    while (!end && have < sizeof buf - 1) {
        ssize_t n = read(c, buf + have, sizeof buf - 1 - have);
        if (n <= 0)
            break;
        have += (size_t)n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
    }
    if (end) {
        size_t hlen = (size_t)(end - buf);
        char *nl = strstr(buf, "\r\n");
        snprintf(r->request_line, sizeof r->request_line, "%.*s", (int)(nl - buf), buf);
        snprintf(r->headers, sizeof r->headers, "%.*s", (int)hlen, buf);
        int64_t clen = 0;
        char *cl = strcasestr(r->headers, "\r\nContent-Length: ");
        if (cl) {
            char *e = strstr(cl + 2, "\r\n");
            size_t vlen = e ? (size_t)(e - (cl + 18)) : strlen(cl + 18);
            cc_parse_i64n(cl + 18, vlen, 0, 1 << 20, &clen);
        }
        cc_buf_append(&r->body, end + 4, have - hlen - 4);
        while (r->body.len < (size_t)clen) {
            ssize_t n = read(c, buf, sizeof buf);
            if (n <= 0)
                break;
            cc_buf_append(&r->body, buf, (size_t)n);
        }
        ssize_t w = write(c, r->reply, strlen(r->reply));
        (void)w;
    }
    close(c);
    return NULL;
}

/* Starts a receiver that answers with status ("200 OK") and the JSON body. */
static void receiver_start(struct receiver *r, const char *status, const char *body)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    memset(r, 0, sizeof *r);
    cc_buf_init(&r->body, 1 << 20);
    snprintf(r->reply, sizeof r->reply,
             "HTTP/1.1 %s\r\nContent-Type: application/json\r\nConnection: close\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             status, strlen(body), body);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(r->fd >= 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(r->fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(r->fd, 1), 0);
    assert_int_equal(getsockname(r->fd, (struct sockaddr *)&a, &alen), 0);
    r->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&r->thread, NULL, receive, r), 0);
}

/* Waits for the one request; what arrived stays in *r until receiver_free. */
static void receiver_wait(struct receiver *r)
{
    pthread_join(r->thread, NULL);
    close(r->fd);
}

static void receiver_free(struct receiver *r)
{
    cc_buf_free(&r->body);
}

static void send_dingtalk_signed(void **state)
{
    (void)state;
    struct receiver r;
    char base[64];
    receiver_start(&r, "200 OK", "{\"errcode\":0,\"errmsg\":\"ok\"}");
    snprintf(base, sizeof base, "http://127.0.0.1:%d", r.port);
    struct cc_delivery_config cfg = {0};
    cfg.timeout_ms = 5000;
    cfg.dingtalk_base_url = base;
    struct cc_robot_message m = {.kind = CC_WEBHOOK_DINGTALK,
                                 .url = "https://oapi.dingtalk.com/robot/send?access_token=tok1",
                                 .secret = "SECtestsecret0123456789",
                                 .title = "certificate",
                                 .markdown = "certificate 证书",
                                 .mention_mobile = "+8613812345678",
                                 .msg_uuid = "n-1"};
    struct cc_send_result res;
    struct cc_robot_answer ans;
    int64_t before = cc_now_ms();
    assert_int_equal(cc_send_robot(&cfg, &m, &res, &ans), 0);
    int64_t after = cc_now_ms();
    receiver_wait(&r);
    assert_int_equal(res.status, CC_SEND_OK);
    assert_string_equal(res.code, "dingtalk:0");
    assert_int_equal(ans.http_status, 200);
    assert_string_equal(ans.platform_code, "0");
    assert_string_equal(ans.platform_msg, "ok");
    assert_true(ans.latency_ms >= 0);
    assert_non_null(strcasestr(r.headers, "Content-Type: application/json"));

    /* The path and query kept, the signature recomputed for the
     * timestamp that was sent. */
    const char *prefix = "POST /robot/send?access_token=tok1&timestamp=";
    assert_memory_equal(r.request_line, prefix, strlen(prefix));
    const char *ts = r.request_line + strlen(prefix);
    const char *amp = strstr(ts, "&sign=");
    assert_non_null(amp);
    int64_t t = 0;
    assert_int_equal(cc_parse_i64n(ts, (size_t)(amp - ts), 0, INT64_MAX, &t), 0);
    assert_true(t >= before && t <= after);
    char want[256];
    assert_int_equal(cc_dingtalk_signed_url("/robot/send?access_token=tok1", m.secret, t, want,
                                            sizeof want),
                     0);
    char line[300];
    snprintf(line, sizeof line, "POST %s HTTP/1.1", want);
    assert_string_equal(r.request_line, line);

    json_t *o = parse(r.body.data, r.body.len);
    assert_string_equal(jget(o, "msgUuid"), "n-1");
    assert_non_null(strstr(jget(o, "markdown.text"), "@13812345678"));
    json_decref(o);
    receiver_free(&r);
}

static void send_lark_throttled_with_http_400(void **state)
{
    (void)state;
    struct receiver r;
    char base[64];
    receiver_start(&r, "400 Bad Request",
                   "{\"code\":9499,\"msg\":\"too many request\",\"data\":{}}");
    snprintf(base, sizeof base, "http://127.0.0.1:%d/", r.port);
    struct cc_delivery_config cfg = {0};
    cfg.timeout_ms = 5000;
    cfg.lark_base_url = base;
    struct cc_robot_message m = {.kind = CC_WEBHOOK_LARK,
                                 .url = "https://open.larksuite.com/open-apis/bot/v2/hook/h-1",
                                 .secret = "demo",
                                 .title = "certificate",
                                 .text = "certificate\nexample.com"};
    struct cc_send_result res;
    struct cc_robot_answer ans;
    int64_t before = cc_now_ms() / 1000;
    assert_int_equal(cc_send_robot(&cfg, &m, &res, &ans), -1);
    int64_t after = cc_now_ms() / 1000;
    receiver_wait(&r);
    assert_int_equal(res.status, CC_SEND_THROTTLED);
    assert_string_equal(res.code, "lark:9499");
    assert_int_equal(ans.http_status, 400);
    assert_string_equal(ans.platform_code, "9499");
    assert_string_equal(r.request_line, "POST /open-apis/bot/v2/hook/h-1 HTTP/1.1");
    json_t *o = parse(r.body.data, r.body.len);
    int64_t t = 0;
    assert_int_equal(cc_parse_i64(jget(o, "timestamp"), 0, INT64_MAX, &t), 0);
    assert_true(t >= before && t <= after);
    char sign[CC_ROBOT_SIGN_LEN];
    cc_lark_sign("demo", t, sign, sizeof sign);
    assert_string_equal(jget(o, "sign"), sign);
    json_decref(o);
    receiver_free(&r);
}

static void send_wecom_removed(void **state)
{
    (void)state;
    struct receiver r;
    char base[64];
    receiver_start(&r, "200 OK",
                   "{\"errcode\":93000,\"errmsg\":\"invalid webhook url xx\"}");
    snprintf(base, sizeof base, "http://localhost:%d", r.port);
    struct cc_delivery_config cfg = {0};
    cfg.timeout_ms = 5000;
    cfg.wecom_base_url = base;
    struct cc_robot_message m = {.kind = CC_WEBHOOK_WECOM,
                                 .url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-9",
                                 .markdown = "**certificate**"};
    struct cc_send_result res;
    struct cc_robot_answer ans;
    assert_int_equal(cc_send_robot(&cfg, &m, &res, &ans), -1);
    receiver_wait(&r);
    assert_int_equal(res.status, CC_SEND_REJECTED);
    assert_string_equal(res.code, "wecom:93000");
    assert_non_null(strstr(res.reason, "invalid webhook URL or the robot was removed"));
    assert_non_null(strstr(res.reason, "invalid webhook url xx"));
    assert_string_equal(ans.platform_msg, "invalid webhook url xx");
    assert_string_equal(r.request_line, "POST /cgi-bin/webhook/send?key=k-9 HTTP/1.1");
    assert_string_equal(r.body.data,
                        "{\"msgtype\":\"markdown\",\"markdown\":{\"content\":\"**certificate**\"}}");
    receiver_free(&r);
}

static void answer_ignored(struct cc_xfer *x, const struct cc_http_answer *ans)
{
    (void)x;
    (void)ans;
}

/* The URL checked is the URL sent: parsed once, the transfer is given the
 * parsed URL (xfer.c), so no second parser can read it otherwise. */
static void url_checked_is_url_sent(void **state)
{
    (void)state;
    char where[272], err[256];
    int loopback = -1;
    void *u = cc_delivery_url_checked("HTTPS://Oapi.DingTalk.COM/robot/send?access_token=t",
                                      "the URL", &loopback, where, sizeof where, err, sizeof err);
    assert_non_null(u);
    assert_int_equal(loopback, 0);
    assert_string_equal(where, "oapi.dingtalk.com:443");
    curl_url_cleanup(u);
    assert_null(cc_delivery_url_checked("http://example.com/x", "the gateway URL", &loopback,
                                        where, sizeof where, err, sizeof err));
    assert_string_equal(where, "example.com:80");
    assert_non_null(strstr(err, "the gateway URL must be an https:// URL"));
    assert_null(cc_delivery_url_checked("not a url", "the URL", NULL, NULL, 0, err, sizeof err));
    assert_string_equal(err, "the URL is not a URL.");

    struct receiver r;
    char url[128];
    receiver_start(&r, "200 OK", "{\"errcode\":0,\"errmsg\":\"ok\"}");
    snprintf(url, sizeof url, "http://LOCALHOST:%d/a/b%%20c?k=v&x=%%2F", r.port);
    struct cc_send_result res;
    struct cc_xfer *x = NULL;
    const char *headers[] = {"Content-Type: application/json"};
    assert_int_equal(cc_http_xfer_new(url, headers, 1, "{}", 2, 5000, "test receiver",
                                      answer_ignored, &res, &x),
                     0);
    cc_xfer_run(&x, 1);
    receiver_wait(&r);
    assert_string_equal(r.request_line, "POST /a/b%20c?k=v&x=%2F HTTP/1.1");
    assert_int_equal(r.body.len, 2);
    assert_memory_equal(r.body.data, "{}", 2);
    cc_xfer_free(x);
    receiver_free(&r);
}

static void send_refuses_bad_targets(void **state)
{
    (void)state;
    struct cc_delivery_config cfg = closed_cfg();
    struct cc_send_result res;
    struct cc_robot_answer ans;
    struct cc_robot_message m = {.kind = CC_WEBHOOK_NONE,
                                 .url = "https://oapi.dingtalk.com/robot/send?access_token=t",
                                 .markdown = "certificate"};
    assert_int_equal(cc_send_robot(&cfg, &m, &res, &ans), -1);
    assert_int_equal(res.status, CC_SEND_INVALID_TARGET);
    m.kind = CC_WEBHOOK_WECOM; /* a DingTalk URL is not a WeCom robot */
    assert_int_equal(cc_send_robot(&cfg, &m, &res, NULL), -1);
    assert_int_equal(res.status, CC_SEND_INVALID_TARGET);
    assert_non_null(strstr(res.reason, "WeCom"));
    /* A base URL that is not https nor the loopback is not used. */
    cfg.dingtalk_base_url = "http://example.com";
    m.kind = CC_WEBHOOK_DINGTALK;
    assert_int_equal(cc_send_robot(&cfg, &m, &res, &ans), -1);
    assert_int_equal(res.status, CC_SEND_NOT_CONFIGURED);
    assert_int_equal(ans.http_status, 0);
    /* No text at all. */
    cfg = closed_cfg();
    m.markdown = NULL;
    assert_int_equal(cc_send_robot(&cfg, &m, &res, &ans), -1);
    assert_int_equal(res.status, CC_SEND_REJECTED);
    /* Nothing listening: retry, with no platform code. */
    m.markdown = "certificate";
    assert_int_equal(cc_send_robot(&cfg, &m, &res, &ans), -1);
    assert_int_equal(res.status, CC_SEND_RETRY);
    assert_string_equal(ans.platform_code, "");
    assert_non_null(strstr(res.reason, "DingTalk robot"));
    assert_null(strstr(res.reason, "access_token")); /* the token stays out */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dingtalk_sign_vector),
        cmocka_unit_test(dingtalk_signed_url_vector),
        cmocka_unit_test(lark_sign_vectors),
        cmocka_unit_test(dingtalk_body_markdown),
        cmocka_unit_test(dingtalk_mention),
        cmocka_unit_test(mention_mobile_forms),
        cmocka_unit_test(lark_body_signed_post),
        cmocka_unit_test(lark_body_unsigned),
        cmocka_unit_test(wecom_bodies),
        cmocka_unit_test(target_url_mapping),
        cmocka_unit_test(error_table),
        cmocka_unit_test(answer_fields),
        cmocka_unit_test(max_bytes),
        cmocka_unit_test(dingtalk_size_is_the_whole_body),
        cmocka_unit_test(lark_size_is_the_whole_signed_body),
        cmocka_unit_test(wecom_size_is_the_content),
        cmocka_unit_test(send_dingtalk_signed),
        cmocka_unit_test(send_lark_throttled_with_http_400),
        cmocka_unit_test(send_wecom_removed),
        cmocka_unit_test(send_refuses_bad_targets),
        cmocka_unit_test(url_checked_is_url_sent),
        cmocka_unit_test(platform_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
