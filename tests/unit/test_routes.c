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

/* Every route says who may call it, and the OpenAPI document served shows
 * it as x-roles on each operation. */
static void every_route_has_roles(void **state)
{
    (void)state;
    const struct cc_embedded_file *f = cc_embedded_find("src/http/openapi.json");
    json_error_t jerr;
    json_t *doc = json_loadb((const char *)f->data, f->size, 0, &jerr);
    assert_non_null(doc);
    cc_routes_annotate_openapi(doc);
    json_t *paths = json_object_get(doc, "paths");
    for (const struct cc_route *r = cc_http_routes; r->method; r++) {
        if (r->access == CC_ACCESS_UNSET)
            fail_msg("route %s %s has no roles", r->method, r->pattern);
        char m[16];
        cc_strlcpy(m, r->method, sizeof m);
        cc_ascii_lower(m);
        json_t *roles = json_object_get(json_object_get(json_object_get(paths, r->pattern), m),
                                        "x-roles");
        json_t *want = cc_access_roles(r->access);
        if (!json_equal(roles, want))
            fail_msg("route %s %s: x-roles is not its rule", r->method, r->pattern);
        json_decref(want);
    }
    json_decref(doc);
}

/* The router's rule: 401 without a caller, 403 when the role is short or
 * an access key calls a console-session route. */
static void route_allows_by_role(void **state)
{
    (void)state;
    struct cc_error err;
    struct cc_caller key = {0}, user = {0};
    struct cc_route r = {"GET", "/x", NULL, CC_ACCESS_OPERATOR, "x"};
    key.role = CC_ROLE_READONLY;
    assert_int_equal(cc_route_allows(&r, 0, &key, &err), CC_ERR_UNAUTHENTICATED);
    assert_int_equal(cc_route_allows(&r, 1, &key, &err), CC_ERR_FORBIDDEN);
    key.role = CC_ROLE_OPERATOR;
    assert_int_equal(cc_route_allows(&r, 1, &key, &err), CC_OK);
    r.access = CC_ACCESS_ADMIN;
    assert_int_equal(cc_route_allows(&r, 1, &key, &err), CC_ERR_FORBIDDEN);
    r.access = CC_ACCESS_PUBLIC;
    assert_int_equal(cc_route_allows(&r, 0, &key, &err), CC_OK);
    r.access = CC_ACCESS_SESSION;
    assert_int_equal(cc_route_allows(&r, 0, &key, &err), CC_ERR_UNAUTHENTICATED);
    key.role = CC_ROLE_ADMIN;
    assert_int_equal(cc_route_allows(&r, 1, &key, &err), CC_ERR_FORBIDDEN);
    user.role = CC_ROLE_READONLY;
    user.user_id = 7;
    cc_strlcpy(user.session, "abc", sizeof user.session);
    assert_int_equal(cc_route_allows(&r, 1, &user, &err), CC_OK);
    r.access = CC_ACCESS_UNSET;
    assert_int_equal(cc_route_allows(&r, 1, &key, &err), CC_ERR_FORBIDDEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_route_is_documented),
        cmocka_unit_test(route_matching),
        cmocka_unit_test(string_segments),
        cmocka_unit_test(every_route_has_roles),
        cmocka_unit_test(route_allows_by_role),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
