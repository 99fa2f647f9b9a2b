/* test_templates.c — every event type renders in both languages for every
 * format, carries the robots' keyword, and escapes values for each format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/core.h"

static json_t *sample(void)
{
    return json_pack("{s:[s,s], s:s, s:s, s:s, s:I, s:s, s:s}", "domains", "example.com",
                     "*.example.com", "brand", "DigiCert", "type", "OV", "not_after",
                     "2027-01-31", "days_left", (json_int_t)30, "order_id", "ORD-1", "reason",
                     "domain validation failed");
}

static void every_type_and_language(void **state)
{
    (void)state;
    json_t *data = sample();
    static const char *langs[] = {"en", "zh-CN"};
    for (int t = 1; t < CC_EVENT_COUNT; t++) {
        assert_int_equal(cc_event_type_parse(cc_event_type_name((enum cc_event_type)t)), t);
        for (int l = 0; l < 2; l++) {
            struct cc_rendered r;
            cc_render_event((enum cc_event_type)t, langs[l], data, "Zhang San", 0, &r);
            const char *kw = l ? "证书" : "certificate";
            /* robots match the keyword exactly in what they show; a subject may
             * start with a capital */
            if (!strstr(r.text, kw) || !strstr(r.markdown, kw) || !strcasestr(r.title, kw) ||
                !strstr(r.html, kw))
                fail_msg("%s/%s lacks the keyword %s", cc_event_type_name((enum cc_event_type)t),
                         langs[l], kw);
            assert_null(strstr(r.text, "{{"));
            assert_null(strstr(r.markdown, "{{"));
            assert_true(cc_utf8_valid(r.text, strlen(r.text)));
            assert_true(cc_utf8_valid(r.markdown, strlen(r.markdown)));
        }
    }
    assert_int_equal(cc_event_type_parse("certificate.bogus"), CC_EVENT_NONE);
    json_decref(data);
}

/* Each format a channel asks for comes out exactly as in the full render;
 * the others stay empty. */
static void parts_match_the_full_render(void **state)
{
    (void)state;
    json_t *data = sample();
    static const char *langs[] = {"en", "zh-CN"};
    struct cc_rendered *all = malloc(sizeof *all), *part = malloc(sizeof *part);
    for (int t = 1; t < CC_EVENT_COUNT; t++)
        for (int l = 0; l < 2; l++)
            for (int test = 0; test < 2; test++) {
                const char *title, *body;
                assert_int_equal(cc_template_builtin((enum cc_event_type)t, langs[l], &title,
                                                     &body), 0);
                cc_render_template(title, body, (enum cc_event_type)t, langs[l], data,
                                   "Zhang <San>", test, all);
                for (unsigned parts = 0; parts <= CC_RENDER_ALL; parts++) {
                    memset(part, 'x', sizeof *part);
                    cc_render_parts(title, body, (enum cc_event_type)t, langs[l], data,
                                    "Zhang <San>", test, parts, part);
                    assert_string_equal(part->title, all->title);
                    assert_string_equal(part->text, parts & CC_RENDER_TEXT ? all->text : "");
                    assert_string_equal(part->markdown,
                                        parts & CC_RENDER_MARKDOWN ? all->markdown : "");
                    assert_string_equal(part->html, parts & CC_RENDER_HTML ? all->html : "");
                }
            }
    free(all);
    free(part);
    json_decref(data);
}

static void variables_and_escaping(void **state)
{
    (void)state;
    json_t *data = json_pack("{s:[s], s:I, s:s}", "domains", "*_x_*.example.com", "days_left",
                             (json_int_t)7, "not_after", "<script>alert(1)</script>");
    struct cc_rendered r;
    cc_render_event(CC_EVENT_EXPIRING, "en", data, "A & B", 0, &r);
    assert_non_null(strstr(r.title, "expires in 7 days: *_x_*.example.com"));
    assert_non_null(strstr(r.markdown, "\\*\\_x\\_\\*.example.com"));
    assert_null(strstr(r.html, "<script>"));
    assert_non_null(strstr(r.html, "&lt;script&gt;"));
    assert_non_null(strstr(r.text, "<script>")); /* plain text stays as it is */
    /* the built-in text leaves out the reason the event lacks */
    cc_render_event(CC_EVENT_REJECTED, "en", data, NULL, 0, &r);
    assert_null(strstr(r.text, "Reason"));
    json_decref(data);
}

/* {{expires_in}} says the days as a person would, in both languages, from
 * an integer or a string of digits; an integer variable is its digits. */
static void expires_in_and_integers(void **state)
{
    (void)state;
    static const struct {
        json_int_t days;
        const char *en, *zh;
    } cases[] = {
        {1, "in 1 day", "1天后"},       {2, "in 2 days", "2天后"},
        {0, "today", "今天"},           {-3, "today", "今天"},
        {123456789012LL, "in 123456789012 days", "123456789012天后"},
    };
    struct cc_rendered r;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *data = json_pack("{s:I, s:I}", "days_left", cases[i].days, "count",
                                 (json_int_t)-42);
        cc_render_template("{{expires_in}}", "[{{expires_in}}] {{count}}", CC_EVENT_EXPIRING,
                           "en", data, NULL, 0, &r);
        assert_string_equal(r.title, cases[i].en);
        char want[96];
        snprintf(want, sizeof want, "[%s] -42", cases[i].en);
        assert_non_null(strstr(r.text, want));
        cc_render_template("{{expires_in}}", "{{expires_in}}", CC_EVENT_EXPIRING, "zh-CN", data,
                           NULL, 0, &r);
        assert_string_equal(r.title, cases[i].zh);
        json_decref(data);
    }
    json_t *data = json_pack("{s:s}", "days_left", "12");
    cc_render_template("{{expires_in}}", "x", CC_EVENT_EXPIRING, "en", data, NULL, 0, &r);
    assert_string_equal(r.title, "in 12 days");
    json_decref(data);
}

/* An event posted with only some fields reads well: what is missing is left
 * out, never shown as "-" in the middle of a sentence. */
static void missing_fields_are_left_out(void **state)
{
    (void)state;
    struct cc_rendered r;
    json_t *data = json_pack("{s:[s], s:I}", "domains", "a.example.com", "days_left",
                             (json_int_t)7);
    cc_render_event(CC_EVENT_EXPIRING, "en", data, NULL, 0, &r);
    assert_string_equal(r.title, "Certificate expires in 7 days: a.example.com");
    assert_non_null(strstr(r.text, "The certificate for a.example.com expires in 7 days.\n"));
    assert_null(strstr(r.text, "-"));
    assert_null(strstr(r.text, "  "));
    cc_render_event(CC_EVENT_EXPIRING, "zh-CN", data, NULL, 0, &r);
    assert_non_null(strstr(r.text, "a.example.com 的证书将于7天后到期。"));
    /* every field: the whole sentence */
    json_object_set_new(data, "brand", json_string("DigiCert"));
    json_object_set_new(data, "type", json_string("OV"));
    json_object_set_new(data, "not_after", json_string("2026-12-09 18:00"));
    json_object_set_new(data, "url", json_string("https://cc.example.com/#/certificates/4"));
    cc_render_event(CC_EVENT_EXPIRING, "en", data, NULL, 0, &r);
    assert_non_null(strstr(r.text, "The DigiCert OV certificate for a.example.com expires in 7 "
                                   "days, on 2026-12-09 18:00.\n"));
    assert_non_null(strstr(r.text, "Details: https://cc.example.com/#/certificates/4"));
    cc_render_event(CC_EVENT_EXPIRING, "zh-CN", data, NULL, 0, &r);
    assert_non_null(strstr(r.text, "a.example.com 的 DigiCert OV 证书将于7天后（2026-12-09 18:00）到期。"));
    /* one day and the day itself */
    json_object_set_new(data, "days_left", json_integer(1));
    cc_render_event(CC_EVENT_EXPIRING, "en", data, NULL, 0, &r);
    assert_string_equal(r.title, "Certificate expires in 1 day: a.example.com");
    json_object_set_new(data, "days_left", json_integer(0));
    cc_render_event(CC_EVENT_EXPIRING, "en", data, NULL, 0, &r);
    assert_string_equal(r.title, "Certificate expires today: a.example.com");
    cc_render_event(CC_EVENT_EXPIRING, "zh-CN", data, NULL, 0, &r);
    assert_string_equal(r.title, "证书将于今天到期：a.example.com");
    /* no days at all */
    json_object_del(data, "days_left");
    json_object_del(data, "not_after");
    cc_render_event(CC_EVENT_EXPIRING, "en", data, NULL, 0, &r);
    assert_string_equal(r.title, "Certificate expires soon: a.example.com");
    cc_render_event(CC_EVENT_EXPIRED, "en", data, NULL, 0, &r);
    assert_non_null(strstr(r.text, "certificate for a.example.com has expired."));
    cc_render_event(CC_EVENT_ISSUED, "en", data, NULL, 0, &r);
    assert_null(strstr(r.text, "Valid until"));
    assert_null(strstr(r.text, "Order"));
    json_decref(data);
}

/* An account's own text may use sections too, nested. */
static void own_template_sections(void **state)
{
    (void)state;
    struct cc_rendered r;
    json_t *data = json_pack("{s:[s], s:s}", "domains", "a.example.com", "brand", "GeoTrust");
    cc_render_template("certificate {{domains}}",
                       "{{#brand}}Brand {{brand}}{{#type}} type {{type}}{{/type}}.{{/brand}}"
                       "{{^order_id}} No order.{{/order_id}}{{#reason}}{{#brand}}x{{/brand}}"
                       "{{/reason}} End {{serial}}",
                       CC_EVENT_ISSUED, "en", data, NULL, 0, &r);
    assert_non_null(strstr(r.text, "\n\nBrand GeoTrust. No order. End -"));
    json_decref(data);
}

static void test_flag(void **state)
{
    (void)state;
    struct cc_rendered r;
    cc_render_event(CC_EVENT_ISSUED, "en", NULL, "x", 1, &r);
    assert_true(strncmp(r.title, "[TEST] ", 7) == 0);
    assert_non_null(strstr(r.text, "test message"));
    cc_render_event(CC_EVENT_ISSUED, "zh-CN", NULL, "x", 1, &r);
    assert_non_null(strstr(r.title, "【测试】"));
    cc_render_event(CC_EVENT_TEST, "en", NULL, "Li Si", 1, &r);
    assert_non_null(strstr(r.title, "Li Si"));
}

/* The built-in texts go through cc_render_template: rendering them by hand
 * gives exactly what cc_render_event gives. */
static void builtin_through_render_template(void **state)
{
    (void)state;
    json_t *data = sample();
    static const char *langs[] = {"en", "zh-CN"};
    struct cc_rendered *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    for (int t = 1; t < CC_EVENT_COUNT; t++) {
        for (int l = 0; l < 2; l++) {
            for (int test = 0; test < 2; test++) {
                const char *title, *body;
                assert_int_equal(cc_template_builtin((enum cc_event_type)t, langs[l], &title, &body), 0);
                char why[256];
                if (cc_template_check(title, body, langs[l], why, sizeof why))
                    fail_msg("built-in %s/%s fails its own check: %s",
                             cc_event_type_name((enum cc_event_type)t), langs[l], why);
                cc_render_event((enum cc_event_type)t, langs[l], data, "Zhang San", test, a);
                cc_render_template(title, body, (enum cc_event_type)t, langs[l], data, "Zhang San",
                                   test, b);
                assert_string_equal(a->title, b->title);
                assert_string_equal(a->text, b->text);
                assert_string_equal(a->markdown, b->markdown);
                assert_string_equal(a->html, b->html);
            }
        }
    }
    const char *title, *body;
    assert_int_equal(cc_template_builtin(CC_EVENT_NONE, "en", &title, &body), -1);
    assert_int_equal(cc_template_builtin(CC_EVENT_COUNT, "en", &title, &body), -1);
    free(a);
    free(b);
    json_decref(data);
}

static void own_template_escaping(void **state)
{
    (void)state;
    json_t *data = json_pack("{s:[s,s], s:s, s:s, s:I}", "domains", "*_x_*.example.com",
                             "a.example.com", "brand", "<b>Bold</b> & \"co\"", "serial",
                             "0A:1B", "days_left", (json_int_t)3);
    struct cc_rendered r;
    cc_render_template("Our certificate for {{domains}} ends in {{days_left}} days",
                       "Brand: {{brand}}\nSerial: {{serial}}\nId: {{certificate_id}}\n"
                       "Literal <i>text</i> & **bold** stays as written",
                       CC_EVENT_EXPIRING, "en", data, "Li Si", 0, &r);
    assert_string_equal(r.title, "Our certificate for *_x_*.example.com, a.example.com ends in 3 days");
    /* text: values raw */
    assert_non_null(strstr(r.text, "Brand: <b>Bold</b> & \"co\""));
    assert_non_null(strstr(r.text, "Id: -")); /* no value: "-" */
    /* markdown: values escaped, the author's own markdown kept */
    assert_non_null(strstr(r.markdown, "### Our certificate for \\*\\_x\\_\\*.example.com, a.example.com"));
    assert_non_null(strstr(r.markdown, "Brand: \\<b\\>Bold\\</b\\> & \"co\""));
    assert_non_null(strstr(r.markdown, "& **bold** stays"));
    /* HTML: values and the author's text escaped alike */
    assert_null(strstr(r.html, "<b>Bold"));
    assert_non_null(strstr(r.html, "&lt;b&gt;Bold&lt;/b&gt; &amp; &quot;co&quot;"));
    assert_non_null(strstr(r.html, "Literal &lt;i&gt;text&lt;/i&gt; &amp;"));
    assert_non_null(strstr(r.html, "Brand: ")); /* line breaks become <br> */
    assert_non_null(strstr(r.html, "<br>Serial: 0A:1B<br>"));
    json_decref(data);
}

/* A value with a line break cannot split a title (an email subject). */
static void title_is_one_line(void **state)
{
    (void)state;
    json_t *data = json_pack("{s:s}", "reason", "a\r\nBcc: x@example.com");
    struct cc_rendered r;
    cc_render_template("certificate {{reason}}", "certificate", CC_EVENT_REJECTED, "en", data,
                       NULL, 0, &r);
    assert_null(strchr(r.title, '\n'));
    assert_null(strchr(r.title, '\r'));
    json_decref(data);
}

/* Output that does not fit is cut on a character boundary, never inside one. */
static void long_output_stays_utf8(void **state)
{
    (void)state;
    json_t *data = json_pack("{s:[s]}", "domains", "<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<");
    struct cc_rendered r;
    /* 0, 1, 2 ASCII bytes first move where each buffer's end falls in a
     * 3-byte character */
    for (int pad = 0; pad < 3; pad++) {
        char body[CC_TEMPLATE_BODY_MAX + 1];
        size_t n = 0;
        for (int i = 0; i < pad; i++)
            body[n++] = 'x';
        while (n + 3 <= 3985) {
            memcpy(body + n, "证", 3);
            n += 3;
        }
        memcpy(body + n, "{{domains}}", 12);
        cc_render_template("证书 {{domains}}", body, CC_EVENT_ISSUED, "zh-CN", data, NULL, 1, &r);
        assert_true(cc_utf8_valid(r.title, strlen(r.title)));
        assert_true(cc_utf8_valid(r.text, strlen(r.text)));
        assert_true(cc_utf8_valid(r.markdown, strlen(r.markdown)));
        assert_true(cc_utf8_valid(r.html, strlen(r.html)));
        assert_true(strlen(r.text) > sizeof r.text - 8);
        assert_true(strlen(r.markdown) > sizeof r.markdown - 8);
    }
    json_decref(data);
}

static void check(const char *title, const char *body, const char *lang, const char *want)
{
    char why[384];
    int rc = cc_template_check(title, body, lang, why, sizeof why);
    if (!want) {
        if (rc)
            fail_msg("\"%s\" / \"%s\" should pass: %s", title, body, why);
        return;
    }
    if (!rc)
        fail_msg("\"%s\" / \"%s\" should fail with \"%s\"", title, body, want);
    if (!strstr(why, want))
        fail_msg("\"%s\" / \"%s\": \"%s\" does not say \"%s\"", title, body, why, want);
}

static void template_check(void **state)
{
    (void)state;
    /* fine */
    check("Certificate {{domains}}", "Your certificate expires on {{not_after}}.\nOrder {{order_id}}",
          "en", NULL);
    check("{{serial}}", "certificate {{certificate_id}} {{brand}} {{type}} {{days_left}} {{reason}} "
          "{{contact_name}} {{event_type}}", "en", NULL);
    check("证书到期", "{{domains}} 将到期", "zh-CN", NULL);
    check("title { single } brace", "a certificate {x}", "en", NULL);
    /* keyword: case-sensitive, in the text itself, per language */
    check("Certificate", "Expires soon", "en", "\"certificate\"");
    check("cert", "{{certificate_id}} expires", "en", "\"certificate\"");
    check("证书", "certificate", "en", NULL);           /* title or body: either will do */
    check("到期", "certificate expires", "zh-CN", "证书");
    check("证", "{{domains}}书", "zh-CN", "证书");       /* a variable separates the words */
    /* variables */
    check("certificate", "{{domain}}", "en", "unknown variable {{domain}}");
    check("certificate", "{{ domains }}", "en", "unknown variable");
    check("certificate", "{{}}", "en", "unknown variable");
    check("certificate", "{{domains", "en", "never closed");
    check("certificate", "domains}}", "en", "no \"{{\"");
    check("certificate", "{{do{{mains}}", "en", "inside a variable");
    check("certificate {{nope}}", "x", "en", "title uses the unknown variable");
    /* sections */
    check("certificate", "{{#brand}}{{brand}} {{^type}}no type{{/type}}{{/brand}}", "en", NULL);
    check("certificate", "{{#brand}}x", "en", "never closes it with {{/brand}}");
    check("certificate", "x{{/brand}}", "en", "never opened");
    check("certificate", "{{#brand}}{{#type}}{{/brand}}{{/type}}", "en",
          "closes {{/brand}} where {{/type}} is expected");
    check("certificate", "{{#nope}}{{/nope}}", "en", "unknown variable {{#nope}}");
    check("x {{#brand}}certificate{{/brand}}", "y", "en", "\"certificate\"");
    check("certificate", "{{#brand}}{{#type}}{{#reason}}{{#url}}{{#serial}}{{#domains}}{{#order_id}}"
          "{{#not_after}}{{#days_left}}{{/days_left}}{{/not_after}}{{/order_id}}{{/domains}}"
          "{{/serial}}{{/url}}{{/reason}}{{/type}}{{/brand}}", "en", "more than 8 deep");
    /* lengths */
    char title[CC_TEMPLATE_TITLE_MAX + 2], body[CC_TEMPLATE_BODY_MAX + 2];
    memset(title, 'a', sizeof title - 1);
    title[sizeof title - 1] = '\0';
    memcpy(title, "certificate", 11);
    check(title, "x", "en", "at most 200 bytes");
    title[CC_TEMPLATE_TITLE_MAX] = '\0';
    check(title, "x", "en", NULL);
    memset(body, 'b', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    check("certificate", body, "en", "at most 4000 bytes");
    body[CC_TEMPLATE_BODY_MAX] = '\0';
    check("certificate", body, "en", NULL);
    check("", "certificate", "en", "title is empty");
    check("certificate", "", "en", "body is empty");
    /* characters */
    check("certificate", "a\xff", "en", "not valid UTF-8");
    check("certificate", "\xe8\xaf", "en", "not valid UTF-8");
    check("certificate\nBcc: x", "body", "en", "control character");
    check("certificate", "tab\there", "en", "control character");
    check("certificate", "del\x7f", "en", "control character");
    check("certificate", "cr\r\nlf", "en", "control character");
    check("certificate", "line\nbreak", "en", NULL);
    char why[8];
    assert_int_equal(cc_template_check(NULL, "x", "en", why, sizeof why), -1);
}

static void long_lists_are_cut_between_items(void **state)
{
    (void)state;
    json_t *domains = json_array();
    for (int i = 0; i < 400; i++) {
        char d[64];
        snprintf(d, sizeof d, "very-long-domain-name-%03d.example.com", i);
        json_array_append_new(domains, json_string(d));
    }
    json_t *data = json_pack("{s:o}", "domains", domains);
    struct cc_rendered r;
    cc_render_event(CC_EVENT_ISSUED, "en", data, "x", 0, &r);
    const char *cut = strstr(r.text, ", … (+");
    assert_non_null(cut);
    /* the last name before the mark is whole */
    assert_memory_equal(cut - 12, ".example.com", 12);
    json_decref(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(long_lists_are_cut_between_items),
        cmocka_unit_test(every_type_and_language),
        cmocka_unit_test(variables_and_escaping),
        cmocka_unit_test(missing_fields_are_left_out),
        cmocka_unit_test(own_template_sections),
        cmocka_unit_test(test_flag),
        cmocka_unit_test(builtin_through_render_template),
        cmocka_unit_test(parts_match_the_full_render),
        cmocka_unit_test(own_template_escaping),
        cmocka_unit_test(title_is_one_line),
        cmocka_unit_test(long_output_stays_utf8),
        cmocka_unit_test(template_check),
        cmocka_unit_test(expires_in_and_integers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
