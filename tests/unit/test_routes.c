/* test_routes.c — the route table and the OpenAPI document agree, and
 * routing matches what it should and nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_int.h"
#include "util/util.h"

static void every_route_is_documented(void **state)
{
    (void)state;
    const struct cc_embedded_file *f = cc_embedded_find("src/http/openapi.json");
    assert_non_null(f);
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)f->data, f->size, 0, &jerr);
    assert_non_null(doc);
    json_t *paths = json_object_get(doc, "paths");
    int n = 0;
    for (const struct cc_route *r = cc_http_routes; r->method; r++, n++) {
        json_t *p = json_object_get(paths, r->pattern);
        if (!p)
            fail_msg("route %s %s is not in openapi.json", r->method, r->pattern);
        char m[16];
        cc_strlcpy(m, r->method, sizeof m);
        cc_ascii_lower(m);
        if (!json_object_get(p, m))
            fail_msg("method %s of %s is not in openapi.json", r->method, r->pattern);
    }
    /* and nothing documented that the server does not answer */
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item) {
        const char *m;
        json_t *op;
        json_object_foreach(item, m, op) {
            if (!strcmp(m, "parameters"))
                continue;
            int found = 0;
            for (const struct cc_route *r = cc_http_routes; r->method; r++)
                if (!strcmp(r->pattern, path) && !strcasecmp(r->method, m))
                    found = 1;
            if (!found)
                fail_msg("openapi.json documents %s %s, which has no route", m, path);
        }
    }
    assert_true(n >= 8);
    json_decref(doc);
}

static void route_matching(void **state)
{
    (void)state;
    const struct cc_route *r;
    struct cc_route_args a;
    char allow[64];
    assert_int_equal(cc_route_find("GET", "/v1/contacts/42", &r, &a, allow, sizeof allow), 1);
    assert_non_null(r);
    assert_int_equal(a.id, 42);
    assert_int_equal(a.n, 0);
    assert_int_equal(cc_route_find("PUT", "/v1/contacts/42", &r, &a, allow, sizeof allow), 1);
    assert_null(r);
    assert_string_equal(allow, "GET, PATCH, DELETE");
    const char *bad[] = {"/v1/contacts/abc", "/v1/contacts/0", "/v1/contacts/-1", "/v1/contacts/01",
                         "/v1/contacts/99999999999999999999", "/v1/contacts/1/", "/v1/contacts/1/x",
                         "//v1/contacts", "/v1/contacts/", "/v1", "", "/v1/contacts/1?x", "/V1/contacts"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cc_route_find("GET", bad[i], &r, &a, allow, sizeof allow))
            fail_msg("%s should match no route", bad[i]);
}

/* {event}/{channel}/{language}: string segments, captured in order. */
static void string_segments(void **state)
{
    (void)state;
    const struct cc_route *r;
    struct cc_route_args a;
    char allow[64];
    assert_int_equal(cc_route_find("PUT", "/v1/templates/certificate.expiring/robot/zh-CN", &r, &a,
                                   allow, sizeof allow), 1);
    assert_non_null(r);
    assert_string_equal(r->pattern, "/v1/templates/{event}/{channel}/{language}");
    assert_int_equal(a.n, 3);
    assert_string_equal(a.s[0], "certificate.expiring");
    assert_string_equal(a.s[1], "robot");
    assert_string_equal(a.s[2], "zh-CN");
    assert_string_equal(allow, "GET, PUT, DELETE");
    /* a name the service does not know still routes: it answers 404 itself */
    assert_int_equal(cc_route_find("GET", "/v1/templates/x_Y-9/a/b", &r, &a, allow, sizeof allow), 1);
    assert_non_null(r);
    assert_string_equal(a.s[0], "x_Y-9");
    /* 64 characters match, 65 do not */
    char path[160], seg[70];
    memset(seg, 'a', 64);
    seg[64] = '\0';
    snprintf(path, sizeof path, "/v1/templates/%s/email/en", seg);
    assert_int_equal(cc_route_find("GET", path, &r, &a, allow, sizeof allow), 1);
    assert_int_equal(strlen(a.s[0]), 64);
    seg[64] = 'a';
    seg[65] = '\0';
    snprintf(path, sizeof path, "/v1/templates/%s/email/en", seg);
    assert_int_equal(cc_route_find("GET", path, &r, &a, allow, sizeof allow), 0);
    /* the fixed path wins over nothing: preview is its own route */
    assert_int_equal(cc_route_find("POST", "/v1/templates/preview", &r, &a, allow, sizeof allow), 1);
    assert_non_null(r);
    assert_string_equal(r->pattern, "/v1/templates/preview");
    assert_int_equal(cc_route_find("GET", "/v1/templates/preview", &r, &a, allow, sizeof allow), 1);
    assert_null(r);
    assert_string_equal(allow, "POST");
    const char *bad[] = {"/v1/templates/certificate%2Eexpiring/email/en", "/v1/templates//email/en",
                         "/v1/templates/a/email/", "/v1/templates/a/email", "/v1/templates/a b/email/en",
                         "/v1/templates/a/email/en/", "/v1/templates/a/email/en/x",
                         "/v1/templates/./email/en", "/v1/templates/../email/en",
                         "/v1/templates/a/em\xc3\xa9/en", "/v1/templates/a/email/en?x",
                         "/v1/templates/a/e:mail/en"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cc_route_find("GET", bad[i], &r, &a, allow, sizeof allow))
            fail_msg("%s should match no route", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_is_documented),
        cmocka_unit_test(route_matching),
        cmocka_unit_test(string_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
