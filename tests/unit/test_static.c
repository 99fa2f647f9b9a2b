/*
 * test_static.c — http/static.c: every embedded file of web/ is found under
 * /assets/ (including those in subdirectories, the console's ES modules) with
 * its content type, "/" is index.html, and no other path is: no "." or ".."
 * segment, no empty segment, no hidden file, nothing outside web/.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_int.h"
#include "util/util.h"

static void every_web_file_is_served(void **state)
{
    (void)state;
    int n = 0;
    for (const struct cc_embedded_file *e = cc_embedded; e->path; e++) {
        if (strncmp(e->path, "web/", 4) != 0)
            continue;
        char path[256];
        snprintf(path, sizeof path, "/assets/%s", e->path + 4);
        const struct cc_static_file *f = cc_static_find(path);
        if (!f)
            fail_msg("%s is not served", path);
        assert_string_equal(f->name, e->path + 4);
        assert_int_equal(f->size, e->size);
        assert_ptr_equal(f->data, e->data);
        n++;
    }
    assert_true(n > 0);
    const struct cc_static_file *root = cc_static_find("/");
    assert_non_null(root);
    assert_string_equal(root->name, "index.html");
}

static void modules_are_javascript(void **state)
{
    (void)state;
    const struct cc_static_file *f = cc_static_find("/assets/js/main.js");
    assert_non_null(f);
    assert_string_equal(f->content_type, "text/javascript; charset=utf-8");
    f = cc_static_find("/assets/js/pages/contacts.js");
    assert_non_null(f);
    assert_string_equal(f->content_type, "text/javascript; charset=utf-8");
    assert_string_equal(cc_static_content_type("x/y.mjs"), "text/javascript; charset=utf-8");
    /* the ETag comes from the content: two different files, two tags */
    assert_string_not_equal(f->etag, cc_static_find("/assets/js/main.js")->etag);
}

static void other_paths_are_not_found(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "/assets/", "/assets/js", "/assets/js/", "/assets//js/main.js", "/assets/js//main.js",
        "/assets/./js/main.js", "/assets/js/./main.js", "/assets/js/../index.html",
        "/assets/../Makefile", "/assets/..", "/assets/.hidden", "/assets/js/.main.js",
        "/assets/js/main.js/", "/assets/js\\main.js", "/assets/js/main.js?x=1",
        "/assets/nope.js", "/assets/a/b.js", "/assets/../src/http/openapi.json",
        "/assets/openapi.json", "/index.html", "/assets/index.html%00", "",
        "/assets/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.js",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cc_static_find(bad[i]))
            fail_msg("%s should not be served", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_web_file_is_served),
        cmocka_unit_test(modules_are_javascript),
        cmocka_unit_test(other_paths_are_not_found),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
