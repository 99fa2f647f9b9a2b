/* test_templates.c — every event type renders in both languages for every
 * format, carries the robots' keyword, and escapes values for each format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    /* a missing variable shows as "-" rather than vanishing */
    cc_render_event(CC_EVENT_REJECTED, "en", data, NULL, 0, &r);
    assert_non_null(strstr(r.text, "Reason: -"));
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_and_language),
        cmocka_unit_test(variables_and_escaping),
        cmocka_unit_test(test_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
