/*
 * templates.c — the built-in notification texts and their rendering.
 *
 * Each event type has, per language, a title and a body written once with
 * {{variables}}; rendering produces the plain text, markdown and HTML forms
 * a channel needs, escaping each value for its form, so a domain like
 * "*_evil_*.example" cannot restyle a robot message and a name cannot
 * inject HTML into an email. Account-specific overrides will render through
 * the same function.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"
#include "util/util.h"

static const char *const type_names[CC_EVENT_COUNT] = {
    [CC_EVENT_NONE] = "",
    [CC_EVENT_VERIFICATION_REQUIRED] = "certificate.application.verification_required",
    [CC_EVENT_APPROVED] = "certificate.application.approved",
    [CC_EVENT_REJECTED] = "certificate.application.rejected",
    [CC_EVENT_ISSUED] = "certificate.issued",
    [CC_EVENT_EXPIRING] = "certificate.expiring",
    [CC_EVENT_EXPIRED] = "certificate.expired",
    [CC_EVENT_REVOKED] = "certificate.revoked",
    [CC_EVENT_TEST] = "contact.test",
};

enum cc_event_type cc_event_type_parse(const char *s)
{
    for (int t = 1; t < CC_EVENT_COUNT; t++)
        if (s && !strcmp(s, type_names[t]))
            return (enum cc_event_type)t;
    return CC_EVENT_NONE;
}

const char *cc_event_type_name(enum cc_event_type t)
{
    return (unsigned)t < CC_EVENT_COUNT ? type_names[t] : "";
}

struct tmpl {
    const char *title;
    const char *body; /* lines separated by \n */
};

/* [type][0] English, [type][1] Simplified Chinese. */
static const struct tmpl templates[CC_EVENT_COUNT][2] = {
    [CC_EVENT_VERIFICATION_REQUIRED] = {
        {"Certificate application needs verification: {{domains}}",
         "The {{brand}} {{type}} certificate application for {{domains}} is waiting for domain "
         "or organization verification.\nOrder: {{order_id}}\nComplete the verification so the "
         "certificate authority can continue."},
        {"证书申请待验证：{{domains}}",
         "{{domains}} 的 {{brand}} {{type}} 证书申请正在等待域名或组织验证。\n订单：{{order_id}}\n"
         "请尽快完成验证，以便证书颁发机构继续审核。"}},
    [CC_EVENT_APPROVED] = {
        {"Certificate application approved: {{domains}}",
         "The {{brand}} {{type}} certificate application for {{domains}} was approved.\n"
         "Order: {{order_id}}"},
        {"证书申请已通过：{{domains}}",
         "{{domains}} 的 {{brand}} {{type}} 证书申请已通过审核。\n订单：{{order_id}}"}},
    [CC_EVENT_REJECTED] = {
        {"Certificate application rejected: {{domains}}",
         "The {{brand}} {{type}} certificate application for {{domains}} was rejected.\n"
         "Reason: {{reason}}\nOrder: {{order_id}}"},
        {"证书申请被拒绝：{{domains}}",
         "{{domains}} 的 {{brand}} {{type}} 证书申请被拒绝。\n原因：{{reason}}\n订单：{{order_id}}"}},
    [CC_EVENT_ISSUED] = {
        {"Certificate issued: {{domains}}",
         "The {{brand}} {{type}} certificate for {{domains}} has been issued.\n"
         "Valid until: {{not_after}}\nOrder: {{order_id}}"},
        {"证书已签发：{{domains}}",
         "{{domains}} 的 {{brand}} {{type}} 证书已签发。\n有效期至：{{not_after}}\n订单：{{order_id}}"}},
    [CC_EVENT_EXPIRING] = {
        {"Certificate expires in {{days_left}} days: {{domains}}",
         "The {{brand}} {{type}} certificate for {{domains}} expires in {{days_left}} days, on "
         "{{not_after}}.\nRenew it and deploy the new certificate before then."},
        {"证书将在 {{days_left}} 天后到期：{{domains}}",
         "{{domains}} 的 {{brand}} {{type}} 证书将在 {{days_left}} 天后（{{not_after}}）到期。\n"
         "请在此之前续费并部署新证书。"}},
    [CC_EVENT_EXPIRED] = {
        {"Certificate expired: {{domains}}",
         "The {{brand}} {{type}} certificate for {{domains}} expired on {{not_after}}.\n"
         "Clients now reject it: replace it as soon as possible."},
        {"证书已过期：{{domains}}",
         "{{domains}} 的 {{brand}} {{type}} 证书已于 {{not_after}} 过期。\n客户端将拒绝该证书，请尽快更换。"}},
    [CC_EVENT_REVOKED] = {
        {"Certificate revoked: {{domains}}",
         "The {{brand}} {{type}} certificate for {{domains}} was revoked.\nReason: {{reason}}\n"
         "Order: {{order_id}}"},
        {"证书已吊销：{{domains}}",
         "{{domains}} 的 {{brand}} {{type}} 证书已被吊销。\n原因：{{reason}}\n订单：{{order_id}}"}},
    [CC_EVENT_TEST] = {
        {"certcontacts test: certificate notifications reach {{contact_name}}",
         "This is a test message from certcontacts. Certificate notifications for "
         "{{contact_name}} will arrive here."},
        {"certcontacts 测试：证书通知可以送达 {{contact_name}}",
         "这是一条来自 certcontacts 的测试消息。{{contact_name}} 的证书通知将发送到这里。"}},
};

enum esc { ESC_TEXT, ESC_MARKDOWN, ESC_HTML };

void cc_markdown_escape(const char *in, char *out, size_t outsz)
{
    /* Only what restyles text in the robots' markdown: wildcard domains
     * ("*.example.com") and names keep their dots, dashes and brackets. */
    static const char special[] = "\\`*_[]<>";
    size_t o = 0;
    if (!outsz)
        return;
    for (; *in && o + 2 < outsz; in++) {
        char c = *in == '\n' || *in == '\r' ? ' ' : *in;
        if (strchr(special, c) && c)
            out[o++] = '\\';
        out[o++] = c;
    }
    out[o] = '\0';
}

/* The value of variable name as text: from the data object, or the contact. */
static void lookup(const json_t *data, const char *name, const char *contact_name,
                   enum cc_event_type t, char *out, size_t outsz)
{
    out[0] = '\0';
    if (!strcmp(name, "contact_name")) {
        cc_strlcpy(out, contact_name ? contact_name : "", outsz);
        return;
    }
    if (!strcmp(name, "event_type")) {
        cc_strlcpy(out, cc_event_type_name(t), outsz);
        return;
    }
    const json_t *v = data ? json_object_get(data, name) : NULL;
    if (json_is_string(v)) {
        cc_strlcpy(out, json_string_value(v), outsz);
    } else if (json_is_integer(v)) {
        snprintf(out, outsz, "%lld", (long long)json_integer_value(v));
    } else if (json_is_array(v)) {
        struct cc_buf b;
        cc_buf_init(&b, outsz - 1);
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (!json_is_string(item))
                continue;
            if (b.len && cc_buf_puts(&b, ", "))
                break;
            if (cc_buf_puts(&b, json_string_value(item)))
                break;
        }
        cc_strlcpy(out, b.data ? b.data : "", outsz);
        cc_buf_free(&b);
    }
}

/* Writes tpl with its variables substituted and escaped into out. */
static void expand(const char *tpl, enum esc esc, const json_t *data, const char *contact_name,
                   enum cc_event_type t, char *out, size_t outsz)
{
    struct cc_buf b;
    cc_buf_init(&b, outsz - 1);
    const char *p = tpl;
    while (*p) {
        const char *open = strstr(p, "{{");
        const char *close = open ? strstr(open, "}}") : NULL;
        size_t lit = open && close ? (size_t)(open - p) : strlen(p);
        if (esc == ESC_HTML) {
            char tmp[1024];
            char chunk[256];
            for (size_t off = 0; off < lit; off += sizeof chunk - 1) {
                size_t n = lit - off < sizeof chunk - 1 ? lit - off : sizeof chunk - 1;
                memcpy(chunk, p + off, n);
                chunk[n] = '\0';
                cc_html_escape(chunk, tmp, sizeof tmp);
                cc_buf_puts(&b, tmp);
            }
        } else {
            cc_buf_append(&b, p, lit);
        }
        if (!(open && close))
            break;
        char name[64] = "";
        size_t nl = (size_t)(close - open - 2);
        if (nl < sizeof name) {
            memcpy(name, open + 2, nl);
            name[nl] = '\0';
        }
        char val[2048], escd[4096];
        lookup(data, name, contact_name, t, val, sizeof val);
        if (!val[0])
            cc_strlcpy(val, "-", sizeof val);
        if (esc == ESC_MARKDOWN)
            cc_markdown_escape(val, escd, sizeof escd);
        else if (esc == ESC_HTML)
            cc_html_escape(val, escd, sizeof escd);
        else
            cc_strlcpy(escd, val, sizeof escd);
        cc_buf_puts(&b, escd);
        p = close + 2;
    }
    cc_strlcpy(out, b.data ? b.data : "", outsz);
    cc_buf_free(&b);
}

/* Appends s to out (a NUL-terminated string of capacity outsz). */
static void append(char *out, size_t outsz, const char *s)
{
    size_t n = strlen(out);
    if (n < outsz)
        cc_strlcpy(out + n, s, outsz - n);
}

void cc_render_event(enum cc_event_type t, const char *lang, const void *data_v,
                     const char *contact_name, int test, struct cc_rendered *out)
{
    const json_t *data = data_v;
    int zh = lang && !strcmp(lang, "zh-CN");
    if ((unsigned)t >= CC_EVENT_COUNT || t == CC_EVENT_NONE)
        t = CC_EVENT_TEST;
    const struct tmpl *tp = &templates[t][zh];
    const char *test_line = zh ? "【测试】这是一条测试消息，证书并未发生变化。"
                               : "[TEST] This is a test message; no certificate changed.";
    memset(out, 0, sizeof *out);
    expand(tp->title, ESC_TEXT, data, contact_name, t, out->title, sizeof out->title);
    if (test && t != CC_EVENT_TEST) {
        char tmp[sizeof out->title + 16];
        snprintf(tmp, sizeof tmp, "%s%s", zh ? "【测试】" : "[TEST] ", out->title);
        cc_strlcpy(out->title, tmp, sizeof out->title);
    }

    /* plain text: title, blank line, body, (test line) */
    char body[3072];
    expand(tp->body, ESC_TEXT, data, contact_name, t, body, sizeof body);
    snprintf(out->text, sizeof out->text, "%s\n\n%s", out->title, body);
    if (test && t != CC_EVENT_TEST) {
        append(out->text, sizeof out->text, "\n");
        append(out->text, sizeof out->text, test_line);
    }

    /* markdown: a heading, then the body with each line a paragraph */
    char title_md[512], body_md[3072];
    expand(tp->title, ESC_MARKDOWN, data, contact_name, t, title_md, sizeof title_md);
    expand(tp->body, ESC_MARKDOWN, data, contact_name, t, body_md, sizeof body_md);
    snprintf(out->markdown, sizeof out->markdown, "### %s%s\n\n", test && t != CC_EVENT_TEST
             ? (zh ? "【测试】" : "\\[TEST\\] ") : "", title_md);
    for (char *line = body_md; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        append(out->markdown, sizeof out->markdown, line);
        append(out->markdown, sizeof out->markdown, "\n\n");
        line = nl ? nl + 1 : NULL;
    }
    if (test && t != CC_EVENT_TEST)
        append(out->markdown, sizeof out->markdown, zh ? "> 这是一条测试消息，证书并未发生变化。\n"
                                                        : "> This is a test message; no certificate changed.\n");

    /* HTML */
    char title_html[1024], body_html[6144];
    expand(tp->title, ESC_HTML, data, contact_name, t, title_html, sizeof title_html);
    expand(tp->body, ESC_HTML, data, contact_name, t, body_html, sizeof body_html);
    snprintf(out->html, sizeof out->html,
             "<!DOCTYPE html><html lang=\"%s\"><head><meta charset=\"utf-8\"><title>%s</title>"
             "</head><body><h2>%s</h2><p>",
             zh ? "zh-CN" : "en", title_html, title_html);
    for (char *line = body_html; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        append(out->html, sizeof out->html, line);
        append(out->html, sizeof out->html, nl ? "<br>" : "");
        line = nl ? nl + 1 : NULL;
    }
    append(out->html, sizeof out->html, "</p>");
    if (test && t != CC_EVENT_TEST) {
        append(out->html, sizeof out->html, "<p><em>");
        append(out->html, sizeof out->html, test_line);
        append(out->html, sizeof out->html, "</em></p>");
    }
    append(out->html, sizeof out->html,
           zh ? "<p>—— certcontacts 证书通知</p></body></html>"
              : "<p>-- certcontacts certificate notifications</p></body></html>");
}
