/*
 * fuzz_template.c — libFuzzer target for the template parser that takes an
 * account's own texts from PUT /v1/templates: cc_template_check and
 * cc_render_template in core/templates.c.
 *
 * The input is the template: its title up to the first line break, its body
 * after it. Each input is checked and rendered in both languages for every
 * event type, as a test and not, over event data whose values carry the
 * characters each format escapes. What must always hold: the check answers
 * 0, or -1 with a reason; every rendered field is NUL-terminated inside its
 * array; a template the check accepts renders to valid UTF-8.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "util/util.h"
#include "fuzz.h"

static json_t *event_data(void)
{
    static json_t *d;
    if (!d)
        d = json_pack("{s:[s,s], s:s, s:s, s:s, s:i, s:s, s:s, s:s, s:s}", "domains",
                      "example.com", "*.例子.cn <b>&amp;</b>", "brand", "Digi*Cert_[x](y)",
                      "type", "OV", "not_after", "2027-01-01T00:00:00Z", "days_left", 30,
                      "order_id", "ord-1`2`", "reason", "line\nbreak # not a heading",
                      "certificate_id", "cert-9", "serial", "0A:1B:2C");
    return d;
}

static void check_rendered(const struct cc_rendered *r, int valid)
{
    CHECK(memchr(r->title, '\0', sizeof r->title));
    CHECK(memchr(r->text, '\0', sizeof r->text));
    CHECK(memchr(r->markdown, '\0', sizeof r->markdown));
    CHECK(memchr(r->html, '\0', sizeof r->html));
    if (valid) {
        CHECK(cc_utf8_valid(r->title, strlen(r->title)));
        CHECK(cc_utf8_valid(r->text, strlen(r->text)));
        CHECK(cc_utf8_valid(r->markdown, strlen(r->markdown)));
        CHECK(cc_utf8_valid(r->html, strlen(r->html)));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = '\0';
    char *nl = strchr(in, '\n');
    const char *title = in, *body = "";
    if (nl) {
        *nl = '\0';
        body = nl + 1;
    }
    static const char *langs[] = {"en", "zh-CN"};
    static struct cc_rendered out;
    for (size_t l = 0; l < 2; l++) {
        char why[256];
        memset(why, 'Z', sizeof why);
        int rc = cc_template_check(title, body, langs[l], why, sizeof why);
        CHECK(rc == 0 || rc == -1);
        if (rc) {
            CHECK(memchr(why, '\0', sizeof why));
            CHECK(why[0] != '\0');
        }
        for (int t = CC_EVENT_NONE + 1; t < CC_EVENT_COUNT; t++) {
            memset(&out, 'Z', sizeof out);
            cc_render_template(title, body, (enum cc_event_type)t, langs[l], event_data(),
                               "张三 <Zhang>", t == CC_EVENT_TEST, &out);
            check_rendered(&out, rc == 0);
        }
    }
    free(in);
    return 0;
}
