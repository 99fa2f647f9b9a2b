/*
 * templates.c — the built-in notification texts and their rendering.
 *
 * Each event type has, per language, a title and a body written once with
 * {{variables}}; rendering produces the plain text, markdown and HTML forms
 * a channel needs, escaping each value for its form, so a domain like
 * "*_evil_*.example" cannot restyle a robot message and a name cannot
 * inject HTML into an email. An account's own texts (overrides, stored by
 * store/ and managed by service/templates.c) render through the same
 * function, cc_render_template(), after cc_template_check() accepted them.
 */
#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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
    [CC_EVENT_ENDPOINT_OUTDATED] = "certificate.endpoint_outdated",
    [CC_EVENT_ENDPOINT_EXPIRING] = "certificate.endpoint_expiring",
    [CC_EVENT_ENDPOINT_ERROR] = "certificate.endpoint_error",
    [CC_EVENT_RENEWAL_FAILED] = "certificate.renewal_failed",
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

/* [type][0] English, [type][1] Simplified Chinese. A value the event may
 * lack sits in a section ({{#name}}...{{/name}}) so that, when it is
 * missing, its words are left out instead of showing a gap. */
#define BRAND_TYPE "{{#brand}}{{brand}} {{/brand}}{{#type}}{{type}} {{/type}}"
/* "的 DigiCert OV 证书", "的证书": a space only between Latin and Chinese */
#define BRAND_TYPE_ZH "{{#brand}} {{brand}}{{/brand}}{{#type}} {{type}}{{/type}}" \
                      "{{#type}} {{/type}}{{^type}}{{#brand}} {{/brand}}{{/type}}"
#define ORDER_EN      "{{#order_id}}\nOrder: {{order_id}}{{/order_id}}"
#define ORDER_ZH      "{{#order_id}}\n订单：{{order_id}}{{/order_id}}"
#define REASON_EN     "{{#reason}}\nReason: {{reason}}{{/reason}}"
#define REASON_ZH     "{{#reason}}\n原因：{{reason}}{{/reason}}"
#define LINK_EN       "{{#url}}\nDetails: {{url}}{{/url}}"
#define LINK_ZH       "{{#url}}\n详情：{{url}}{{/url}}"
static const struct tmpl templates[CC_EVENT_COUNT][2] = {
    [CC_EVENT_VERIFICATION_REQUIRED] = {
        {"Certificate application needs verification: {{domains}}",
         "The " BRAND_TYPE "certificate application for {{domains}} is waiting for domain "
         "or organization verification." ORDER_EN "\nComplete the verification so the "
         "certificate authority can continue." LINK_EN},
        {"证书申请待验证：{{domains}}",
         "{{domains}} 的" BRAND_TYPE_ZH "证书申请正在等待域名或组织验证。" ORDER_ZH "\n"
         "请尽快完成验证，以便证书颁发机构继续审核。" LINK_ZH}},
    [CC_EVENT_APPROVED] = {
        {"Certificate application approved: {{domains}}",
         "The " BRAND_TYPE "certificate application for {{domains}} was approved." ORDER_EN
         LINK_EN},
        {"证书申请已通过：{{domains}}",
         "{{domains}} 的" BRAND_TYPE_ZH "证书申请已通过审核。" ORDER_ZH LINK_ZH}},
    [CC_EVENT_REJECTED] = {
        {"Certificate application rejected: {{domains}}",
         "The " BRAND_TYPE "certificate application for {{domains}} was rejected." REASON_EN
         ORDER_EN LINK_EN},
        {"证书申请被拒绝：{{domains}}",
         "{{domains}} 的" BRAND_TYPE_ZH "证书申请被拒绝。" REASON_ZH ORDER_ZH LINK_ZH}},
    [CC_EVENT_ISSUED] = {
        {"Certificate issued: {{domains}}",
         "The " BRAND_TYPE "certificate for {{domains}} has been issued."
         "{{#not_after}}\nValid until: {{not_after}}{{/not_after}}" ORDER_EN LINK_EN},
        {"证书已签发：{{domains}}",
         "{{domains}} 的" BRAND_TYPE_ZH "证书已签发。{{#not_after}}\n有效期至：{{not_after}}"
         "{{/not_after}}" ORDER_ZH LINK_ZH}},
    [CC_EVENT_EXPIRING] = {
        {"Certificate {{#days_left}}expires {{expires_in}}{{/days_left}}"
         "{{^days_left}}expires soon{{/days_left}}: {{domains}}",
         "The " BRAND_TYPE "certificate for {{domains}} "
         "{{#days_left}}expires {{expires_in}}{{/days_left}}{{^days_left}}expires soon"
         "{{/days_left}}{{#not_after}}, on {{not_after}}{{/not_after}}.\n"
         "Renew it and deploy the new certificate before then." LINK_EN},
        {"证书{{#days_left}}将于{{expires_in}}到期{{/days_left}}{{^days_left}}即将到期"
         "{{/days_left}}：{{domains}}",
         "{{domains}} 的" BRAND_TYPE_ZH "证书{{#days_left}}将于{{expires_in}}{{/days_left}}"
         "{{^days_left}}即将{{/days_left}}{{#not_after}}（{{not_after}}）{{/not_after}}到期。\n"
         "请在此之前续费并部署新证书。" LINK_ZH}},
    [CC_EVENT_EXPIRED] = {
        {"Certificate expired: {{domains}}",
         "The " BRAND_TYPE "certificate for {{domains}} "
         "{{#not_after}}expired on {{not_after}}{{/not_after}}{{^not_after}}has expired"
         "{{/not_after}}.\nClients now reject it: replace it as soon as possible." LINK_EN},
        {"证书已过期：{{domains}}",
         "{{domains}} 的" BRAND_TYPE_ZH "证书{{#not_after}}已于 {{not_after}} 过期{{/not_after}}"
         "{{^not_after}}已过期{{/not_after}}。\n客户端将拒绝该证书，请尽快更换。" LINK_ZH}},
    [CC_EVENT_REVOKED] = {
        {"Certificate revoked: {{domains}}",
         "The " BRAND_TYPE "certificate for {{domains}} was revoked." REASON_EN ORDER_EN
         LINK_EN},
        {"证书已吊销：{{domains}}",
         "{{domains}} 的" BRAND_TYPE_ZH "证书已被吊销。" REASON_ZH ORDER_ZH LINK_ZH}},
    [CC_EVENT_TEST] = {
        {"certcontacts test: certificate notifications reach {{contact_name}}",
         "This is a test message from certcontacts. Certificate notifications for "
         "{{contact_name}} will arrive here."},
        {"certcontacts 测试：证书通知可以送达 {{contact_name}}",
         "这是一条来自 certcontacts 的测试消息。{{contact_name}} 的证书通知将发送到这里。"}},
    /* A watched endpoint's alerts: the same type says when it starts and,
     * with resolved set, when it clears. */
    [CC_EVENT_ENDPOINT_OUTDATED] = {
        {"Endpoint certificate {{^resolved}}outdated{{/resolved}}{{#resolved}}up to date again"
         "{{/resolved}}: {{endpoint}}",
         "{{^resolved}}{{endpoint}} still serves an old certificate for {{domains}}"
         "{{#not_after}} (valid until {{not_after}}){{/not_after}}, although a newer "
         "certificate for these names exists.\nDeploy the new certificate there.{{/resolved}}"
         "{{#resolved}}{{endpoint}} no longer serves the old certificate for {{domains}}."
         "{{/resolved}}" LINK_EN},
        {"站点证书{{^resolved}}未更新{{/resolved}}{{#resolved}}已更新{{/resolved}}：{{endpoint}}",
         "{{^resolved}}{{endpoint}} 仍在使用 {{domains}} 的旧证书{{#not_after}}（有效期至 "
         "{{not_after}}）{{/not_after}}，但这些域名已有更新的证书。\n请在该站点部署新证书。"
         "{{/resolved}}{{#resolved}}{{endpoint}} 已不再使用 {{domains}} 的旧证书。{{/resolved}}"
         LINK_ZH}},
    [CC_EVENT_ENDPOINT_EXPIRING] = {
        {"Endpoint certificate {{^resolved}}{{#days_left}}expires {{expires_in}}{{/days_left}}"
         "{{^days_left}}expires soon{{/days_left}}{{/resolved}}{{#resolved}}replaced"
         "{{/resolved}}: {{endpoint}}",
         "{{^resolved}}The certificate {{endpoint}} serves for {{domains}} "
         "{{#days_left}}expires {{expires_in}}{{/days_left}}{{^days_left}}expires soon"
         "{{/days_left}}{{#not_after}}, on {{not_after}}{{/not_after}}.\nRenew it and deploy "
         "the new certificate there before then.{{/resolved}}{{#resolved}}{{endpoint}} now "
         "serves a certificate for {{domains}} that is not about to expire{{#not_after}} "
         "(valid until {{not_after}}){{/not_after}}.{{/resolved}}" LINK_EN},
        {"站点证书{{^resolved}}{{#days_left}}将于{{expires_in}}到期{{/days_left}}"
         "{{^days_left}}即将到期{{/days_left}}{{/resolved}}{{#resolved}}已更换{{/resolved}}："
         "{{endpoint}}",
         "{{^resolved}}{{endpoint}} 使用的 {{domains}} 证书{{#days_left}}将于{{expires_in}}"
         "{{/days_left}}{{^days_left}}即将{{/days_left}}{{#not_after}}（{{not_after}}）"
         "{{/not_after}}到期。\n请在此之前续费并在该站点部署新证书。{{/resolved}}{{#resolved}}"
         "{{endpoint}} 现在使用的 {{domains}} 证书不会很快到期{{#not_after}}（有效期至 "
         "{{not_after}}）{{/not_after}}。{{/resolved}}" LINK_ZH}},
    [CC_EVENT_ENDPOINT_ERROR] = {
        {"Endpoint certificate {{^resolved}}problem{{/resolved}}{{#resolved}}problem resolved"
         "{{/resolved}}: {{endpoint}}",
         "{{^resolved}}Checking the certificate {{endpoint}} serves found a problem."
         REASON_EN "\nClients may refuse to connect: fix it as soon as possible.{{/resolved}}"
         "{{#resolved}}The certificate {{endpoint}} serves checks out again{{#domains}} "
         "({{domains}}){{/domains}}.{{/resolved}}" LINK_EN},
        {"站点证书{{^resolved}}异常{{/resolved}}{{#resolved}}已恢复正常{{/resolved}}："
         "{{endpoint}}",
         "{{^resolved}}检查 {{endpoint}} 使用的证书时发现问题。"
         "{{#reason_zh}}\n原因：{{reason_zh}}{{/reason_zh}}"
         "{{^reason_zh}}" REASON_ZH "{{/reason_zh}}"
         "\n客户端可能无法连接，请尽快处理。{{/resolved}}{{#resolved}}{{endpoint}} 使用的证书已"
         "恢复正常{{#domains}}（{{domains}}）{{/domains}}。{{/resolved}}" LINK_ZH}},
    [CC_EVENT_RENEWAL_FAILED] = {
        {"Certificate renewal failed: {{domains}}",
         "The automatic renewal of the " BRAND_TYPE "certificate for {{domains}} failed."
         REASON_EN "{{#not_after}}\nThe certificate in use expires on {{not_after}}."
         "{{/not_after}}\nThe renewal will be tried again; expiry reminders keep coming "
         "until it succeeds." LINK_EN},
        {"证书自动续期失败：{{domains}}",
         "{{domains}} 的" BRAND_TYPE_ZH "证书自动续期失败。" REASON_ZH
         "{{#not_after}}\n当前证书将于 {{not_after}} 到期。{{/not_after}}\n"
         "系统会稍后重试；在续期成功之前，到期提醒会照常发送。" LINK_ZH}},
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
                   enum cc_event_type t, int zh, char *out, size_t outsz)
{
    out[0] = '\0';
    if (!strcmp(name, "expires_in")) {
        /* days_left said as a person would: "today", "in 1 day", "in 7 days" */
        const json_t *d = data ? json_object_get(data, "days_left") : NULL;
        int64_t n;
        if (json_is_integer(d))
            n = (int64_t)json_integer_value(d);
        else if (!json_is_string(d) ||
                 cc_parse_i64(json_string_value(d), INT64_MIN, INT64_MAX, &n))
            return;
        /* without printf: a batch renders one message a contact */
        if (n <= 0) {
            cc_strlcpy(out, zh ? "今天" : "today", outsz);
        } else if (zh) { /* out is "" (above) */
            cc_strlcat_i64(out, n, outsz);
            cc_strlcat(out, "天后", outsz);
        } else {
            cc_strlcpy(out, "in ", outsz);
            cc_strlcat_i64(out, n, outsz);
            cc_strlcat(out, n == 1 ? " day" : " days", outsz);
        }
        return;
    }
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
        cc_strlcat_i64(out, (int64_t)json_integer_value(v), outsz); /* out is "" */
    } else if (json_is_array(v)) {
        /* Whole items only, with room kept for a visible "…" and the count
         * of what did not fit, so a long list never ends mid-name. */
        struct cc_buf b;
        cc_buf_init(&b, outsz > 48 ? outsz - 48 : outsz - 1);
        size_t i, shown = 0, total = 0;
        json_t *item;
        json_array_foreach(v, i, item) {
            if (!json_is_string(item))
                continue;
            total++;
            size_t mark = b.len;
            if ((b.len && cc_buf_puts(&b, ", ")) || cc_buf_puts(&b, json_string_value(item))) {
                b.len = mark; /* drop the partial item */
                if (b.data)
                    b.data[mark] = '\0';
                continue;
            }
            shown++;
        }
        if (shown < total)
            cc_buf_printf(&b, ", … (+%zu)", total - shown);
        cc_strlcpy(out, b.data ? b.data : "", outsz);
        cc_buf_free(&b);
    }
}


/* A NUL-terminated string being written into a fixed buffer. Once
 * something does not fit, the string is cut on a UTF-8 character boundary
 * and everything after it is dropped, so a long value never leaves half a
 * character or a later piece out of order. */
struct sink {
    char *s;
    size_t len, cap;
    int full;
};

static void sink_init(struct sink *k, char *s, size_t cap)
{
    assert(cap > 0);
    k->s = s;
    k->cap = cap;
    k->len = strlen(s);
    k->full = 0;
}

/* Drops an incomplete UTF-8 sequence from the end of s[0..*len). */
static void trim_partial(char *s, size_t *len)
{
    size_t i = *len;
    while (i > 0 && *len - i < 3 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    if (*len - (i - 1) < need) {
        *len = i - 1;
        s[*len] = '\0';
    }
}

static void sink_put(struct sink *k, const char *p, size_t n)
{
    if (k->full)
        return;
    if (k->len + n >= k->cap) {
        n = k->cap - 1 - k->len;
        k->full = 1;
    }
    memcpy(k->s + k->len, p, n);
    k->len += n;
    k->s[k->len] = '\0';
    if (k->full)
        trim_partial(k->s, &k->len);
}

static void sink_puts(struct sink *k, const char *s)
{
    sink_put(k, s, strlen(s));
}

/* Appends n bytes of p escaped for esc. Markdown escaping also turns line
 * breaks into spaces (a value must not start a new block); literal template
 * text is never passed through ESC_MARKDOWN. */
static void put_escaped(struct sink *k, const char *p, size_t n, enum esc esc)
{
    static const char md_special[] = "\\`*_[]<>";
    if (esc == ESC_TEXT) {
        sink_put(k, p, n);
        return;
    }
    size_t run = 0; /* bytes of p[i - run .. i) that need no escaping */
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        const char *rep = NULL;
        char two[3] = {'\\', c, '\0'};
        if (esc == ESC_HTML) {
            switch (c) {
            case '&': rep = "&amp;"; break;
            case '<': rep = "&lt;"; break;
            case '>': rep = "&gt;"; break;
            case '"': rep = "&quot;"; break;
            case '\'': rep = "&#39;"; break;
            default: break;
            }
        } else if (c == '\n' || c == '\r') {
            rep = " ";
        } else if (c && strchr(md_special, c)) {
            rep = two;
        }
        if (!rep) {
            run++;
            continue;
        }
        sink_put(k, p + i - run, run);
        run = 0;
        sink_puts(k, rep);
    }
    sink_put(k, p + n - run, run);
}

/* A template's tags: {{name}} a variable, {{#name}} and {{^name}} open a
 * section kept only when name has a value (or, for ^, has none), {{/name}}
 * closes it. Sections nest up to CC_TEMPLATE_SECTIONS_MAX deep. */
enum tag { TAG_VAR, TAG_IF, TAG_UNLESS, TAG_END };

/* The tag between "{{" and "}}" (n bytes at s): its kind, and its name
 * into name (cut to namesz). */
static enum tag tag_parse(const char *s, size_t n, char *name, size_t namesz)
{
    enum tag k = TAG_VAR;
    if (n && (s[0] == '#' || s[0] == '^' || s[0] == '/')) {
        k = s[0] == '#' ? TAG_IF : s[0] == '^' ? TAG_UNLESS : TAG_END;
        s++;
        n--;
    }
    if (n >= namesz)
        n = namesz - 1;
    memcpy(name, s, n);
    name[n] = '\0';
    return k;
}

/* Writes tpl with its variables substituted and escaped into out (of
 * capacity outsz). The template's own text is taken as written, except that
 * for HTML it is escaped too: an author writes text, not markup. A variable
 * with no value outside a section that tests it shows as "-" rather than
 * vanishing from the sentence; the built-in texts put every value an event
 * may lack in a section, so what is missing is left out. */
static void expand(const char *tpl, enum esc esc, const json_t *data, const char *contact_name,
                   enum cc_event_type t, int zh, char *out, size_t outsz)
{
    struct sink k;
    out[0] = '\0';
    sink_init(&k, out, outsz);
    int depth = 0, hidden = 0; /* sections open; the depth of the outermost one hiding text */
    const char *p = tpl;
    char val[2048];
    while (*p && !k.full) {
        const char *open = strstr(p, "{{");
        const char *close = open ? strstr(open + 2, "}}") : NULL;
        size_t lit = open && close ? (size_t)(open - p) : strlen(p);
        if (!hidden)
            put_escaped(&k, p, lit, esc == ESC_HTML ? ESC_HTML : ESC_TEXT);
        if (!(open && close))
            break;
        char name[64];
        enum tag tag = tag_parse(open + 2, (size_t)(close - open - 2), name, sizeof name);
        p = close + 2;
        if (tag == TAG_END) {
            if (depth > 0 && hidden == depth--)
                hidden = 0;
            continue;
        }
        if (hidden && tag != TAG_VAR) {
            depth++;
            continue;
        }
        if (hidden)
            continue;
        lookup(data, name, contact_name, t, zh, val, sizeof val);
        if (tag != TAG_VAR) {
            depth++;
            if ((tag == TAG_IF) != (val[0] != '\0'))
                hidden = depth;
            continue;
        }
        size_t vl = strlen(val);
        trim_partial(val, &vl);
        if (!val[0])
            cc_strlcpy(val, "-", sizeof val);
        put_escaped(&k, val, strlen(val), esc);
    }
}

/* Line breaks in a title (from a value) become spaces: a title is one line,
 * an email subject above all. */
static void one_line(char *s)
{
    for (; *s; s++)
        if (*s == '\n' || *s == '\r')
            *s = ' ';
}

/* Scratch space for one rendering, too large for a worker thread's stack. */
struct scratch {
    char body[sizeof ((struct cc_rendered *)0)->text];
    char title_md[512];
    char body_md[sizeof ((struct cc_rendered *)0)->markdown];
    char title_html[1024];
    char body_html[sizeof ((struct cc_rendered *)0)->html];
};

/* Puts body (lines separated by '\n', changed in place) into k, each line
 * followed by after, the last one by last. */
static void put_lines(struct sink *k, char *body, const char *after, const char *last)
{
    for (char *line = body; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        sink_puts(k, line);
        sink_puts(k, nl ? after : last);
        line = nl ? nl + 1 : NULL;
    }
}

void cc_render_parts(const char *title_tpl, const char *body_tpl, enum cc_event_type t,
                     const char *lang, const void *data_v, const char *contact_name, int test,
                     unsigned parts, struct cc_rendered *out)
{
    assert(title_tpl && body_tpl && out);
    const json_t *data = data_v;
    int zh = lang && !strcmp(lang, "zh-CN");
    if ((unsigned)t >= CC_EVENT_COUNT || t == CC_EVENT_NONE)
        t = CC_EVENT_TEST;
    /* contact.test is a test by nature: it says so in its own words */
    int mark = test && t != CC_EVENT_TEST;
    const char *test_line = zh ? "【测试】这是一条测试消息，证书并未发生变化。"
                               : "[TEST] This is a test message; no certificate changed.";
    struct scratch *w = cc_malloc(sizeof *w);
    struct sink k;
    out->title[0] = out->text[0] = out->markdown[0] = out->html[0] = '\0';

    /* the title, always: an email's subject, a robot's title, the text's first line */
    expand(title_tpl, ESC_TEXT, data, contact_name, t, zh, w->body, sizeof w->body);
    one_line(w->body);
    sink_init(&k, out->title, sizeof out->title);
    if (mark)
        sink_puts(&k, zh ? "【测试】" : "[TEST] ");
    sink_puts(&k, w->body);

    if (parts & CC_RENDER_TEXT) { /* title, blank line, body, (test line) */
        expand(body_tpl, ESC_TEXT, data, contact_name, t, zh, w->body, sizeof w->body);
        sink_init(&k, out->text, sizeof out->text);
        sink_puts(&k, out->title);
        sink_puts(&k, "\n\n");
        sink_puts(&k, w->body);
        if (mark) {
            sink_puts(&k, "\n");
            sink_puts(&k, test_line);
        }
    }

    if (parts & CC_RENDER_MARKDOWN) { /* a heading, then the body with each line a paragraph */
        expand(title_tpl, ESC_MARKDOWN, data, contact_name, t, zh, w->title_md, sizeof w->title_md);
        one_line(w->title_md);
        expand(body_tpl, ESC_MARKDOWN, data, contact_name, t, zh, w->body_md, sizeof w->body_md);
        sink_init(&k, out->markdown, sizeof out->markdown);
        sink_puts(&k, "### ");
        if (mark)
            sink_puts(&k, zh ? "【测试】" : "\\[TEST\\] ");
        sink_puts(&k, w->title_md);
        sink_puts(&k, "\n\n");
        put_lines(&k, w->body_md, "\n\n", "\n\n");
        if (mark)
            sink_puts(&k, zh ? "> 这是一条测试消息，证书并未发生变化。\n"
                             : "> This is a test message; no certificate changed.\n");
    }

    if (parts & CC_RENDER_HTML) {
        expand(title_tpl, ESC_HTML, data, contact_name, t, zh, w->title_html, sizeof w->title_html);
        one_line(w->title_html);
        expand(body_tpl, ESC_HTML, data, contact_name, t, zh, w->body_html, sizeof w->body_html);
        sink_init(&k, out->html, sizeof out->html);
        sink_puts(&k, zh ? "<!DOCTYPE html><html lang=\"zh-CN\">"
                         : "<!DOCTYPE html><html lang=\"en\">");
        sink_puts(&k, "<head><meta charset=\"utf-8\"><title>");
        sink_puts(&k, w->title_html);
        sink_puts(&k, "</title></head><body><h2>");
        sink_puts(&k, w->title_html);
        sink_puts(&k, "</h2><p>");
        put_lines(&k, w->body_html, "<br>", "");
        sink_puts(&k, "</p>");
        if (mark) {
            sink_puts(&k, "<p><em>");
            sink_puts(&k, test_line);
            sink_puts(&k, "</em></p>");
        }
        sink_puts(&k, zh ? "<p>—— certcontacts 证书通知</p></body></html>"
                         : "<p>-- certcontacts certificate notifications</p></body></html>");
    }
    cc_free(w);
}

void cc_render_template(const char *title_tpl, const char *body_tpl, enum cc_event_type t,
                        const char *lang, const void *data, const char *contact_name, int test,
                        struct cc_rendered *out)
{
    cc_render_parts(title_tpl, body_tpl, t, lang, data, contact_name, test, CC_RENDER_ALL, out);
}

int cc_template_builtin(enum cc_event_type t, const char *lang, const char **title,
                        const char **body)
{
    if ((unsigned)t >= CC_EVENT_COUNT || t == CC_EVENT_NONE)
        return -1;
    const struct tmpl *tp = &templates[t][lang && !strcmp(lang, "zh-CN")];
    *title = tp->title;
    *body = tp->body;
    return 0;
}

void cc_render_event_parts(enum cc_event_type t, const char *lang, const void *data,
                           const char *contact_name, int test, unsigned parts,
                           struct cc_rendered *out)
{
    const char *title, *body;
    if (cc_template_builtin(t, lang, &title, &body)) {
        t = CC_EVENT_TEST;
        cc_template_builtin(t, lang, &title, &body);
    }
    cc_render_parts(title, body, t, lang, data, contact_name, test, parts, out);
}

void cc_render_event(enum cc_event_type t, const char *lang, const void *data,
                     const char *contact_name, int test, struct cc_rendered *out)
{
    cc_render_event_parts(t, lang, data, contact_name, test, CC_RENDER_ALL, out);
}

/* ---- checking an account's own text ------------------------------------------ */

static const char *const known_vars[] = {
    "domains", "brand", "type", "not_after", "days_left", "expires_in", "order_id", "reason",
    "url", "contact_name", "event_type", "certificate_id", "serial", "endpoint", "resolved",
    "reason_zh",
};

static int var_known(const char *name)
{
    for (size_t i = 0; i < sizeof known_vars / sizeof known_vars[0]; i++)
        if (!strcmp(known_vars[i], name))
            return 1;
    return 0;
}

/* Checks the tags of one part: every {{ closes, names a known variable,
 * and sections close in order. Appends the part's text outside its tags and
 * sections to lit, where the keyword is looked for (text in a section may
 * be left out, so it does not count). Returns 0, or -1 with why set. */
/* A template's problem, in words the catalog translates (po/zh_CN.po). */
static void why_set(char *why, size_t whysz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void why_set(char *why, size_t whysz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whysz, fmt, ap);
    va_end(ap);
}

static int check_tags(const char *what, const char *s, struct cc_buf *lit, char *why,
                      size_t whysz)
{
    char open_names[CC_TEMPLATE_SECTIONS_MAX][64];
    int depth = 0;
    const char *p = s;
    for (;;) {
        const char *open = strstr(p, "{{");
        const char *stray = strstr(p, "}}");
        if (stray && (!open || stray < open)) {
            why_set(why, whysz, "The %s has \"}}\" with no \"{{\" before it.", what);
            return -1;
        }
        if (!open) {
            if (!depth)
                cc_buf_puts(lit, p);
            break;
        }
        if (!depth)
            cc_buf_append(lit, p, (size_t)(open - p));
        cc_buf_puts(lit, "\n"); /* a tag separates the words around it */
        const char *close = strstr(open + 2, "}}");
        const char *reopen = strstr(open + 2, "{{");
        if (!close) {
            why_set(why, whysz, "The %s has \"{{\" that is never closed with \"}}\".", what);
            return -1;
        }
        if (reopen && reopen < close) {
            why_set(why, whysz, "The %s has \"{{\" inside a variable.", what);
            return -1;
        }
        size_t tl = (size_t)(close - open - 2);
        char name[64];
        enum tag tag = tag_parse(open + 2, tl, name, sizeof name);
        if (tl >= sizeof name || !var_known(name)) {
            why_set(why, whysz,
                     "The %s uses the unknown variable {{%.*s}}; known variables: domains, brand, "
                     "type, not_after, days_left, expires_in, order_id, reason, url, "
                     "contact_name, event_type, certificate_id, serial, endpoint, resolved, "
                     "reason_zh.",
                     what, tl > 64 ? 64 : (int)tl, open + 2);
            return -1;
        }
        if (tag == TAG_IF || tag == TAG_UNLESS) {
            if (depth == CC_TEMPLATE_SECTIONS_MAX) {
                why_set(why, whysz, "The %s nests sections more than %d deep.", what,
                         CC_TEMPLATE_SECTIONS_MAX);
                return -1;
            }
            cc_strlcpy(open_names[depth++], name, sizeof open_names[0]);
        } else if (tag == TAG_END) {
            if (!depth || strcmp(open_names[depth - 1], name)) {
                if (depth)
                    why_set(why, whysz, "The %s closes {{/%s}} where {{/%s}} is expected.",
                             what, name, open_names[depth - 1]);
                else
                    why_set(why, whysz, "The %s closes {{/%s}}, which was never opened.", what,
                             name);
                return -1;
            }
            depth--;
        }
        p = close + 2;
    }
    if (depth) {
        why_set(why, whysz, "The %s opens the section {{#%s}} and never closes it with {{/%s}}.",
                 what, open_names[depth - 1], open_names[depth - 1]);
        return -1;
    }
    return 0;
}

/* Checks one part (what names it in messages: "title" or "body"): length,
 * UTF-8, control characters, then its tags. Returns 0, or -1 with why set. */
static int check_part(const char *what, const char *s, size_t max, int newlines,
                      struct cc_buf *lit, char *why, size_t whysz)
{
    size_t n = strlen(s);
    if (n == 0) {
        why_set(why, whysz, "The %s is empty.", what);
        return -1;
    }
    if (n > max) {
        why_set(why, whysz, "The %s is %zu bytes long; at most %zu bytes (UTF-8) are allowed.",
                 what, n, max);
        return -1;
    }
    if (!cc_utf8_valid(s, n)) {
        why_set(why, whysz, "The %s is not valid UTF-8.", what);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !(c == '\n' && newlines)) || c == 0x7f) {
            why_set(why, whysz, "The %s contains a control character (0x%02x)%s.", what, c,
                     newlines ? "; only line breaks are allowed" : "; a title is one line");
            return -1;
        }
    }
    return check_tags(what, s, lit, why, whysz);
}

int cc_template_check(const char *title, const char *body, const char *lang, char *why,
                      size_t whysz)
{
    assert(why && whysz);
    why[0] = '\0';
    if (!title || !body) {
        why_set(why, whysz, "A template needs a title and a body.");
        return -1;
    }
    struct cc_buf lit;
    cc_buf_init(&lit, CC_TEMPLATE_TITLE_MAX + CC_TEMPLATE_BODY_MAX + 64);
    int rc = check_part(N_("title"), title, CC_TEMPLATE_TITLE_MAX, 0, &lit, why, whysz);
    if (!rc) {
        cc_buf_puts(&lit, "\n");
        rc = check_part(N_("body"), body, CC_TEMPLATE_BODY_MAX, 1, &lit, why, whysz);
    }
    /* robots set up with the keyword refuse a message without it, and they
     * match case-sensitively; the variables' values do not count, they vary */
    int zh = lang && !strcmp(lang, "zh-CN");
    const char *kw = zh ? "证书" : "certificate";
    if (!rc && !strstr(lit.data ? lit.data : "", kw)) {
        why_set(why, whysz,
                 "The template must contain the word \"%s\" in its own text (not only in a "
                 "variable or a section): robots set up with that keyword refuse messages "
                 "without it.",
                 kw);
        rc = -1;
    }
    cc_buf_free(&lit);
    return rc;
}
