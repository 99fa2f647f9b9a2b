/*
 * test_cli.c — the command line client's pure parts: the credentials
 * profile parser (sections, spaces, comments, a missing profile) and the
 * table formatter (display width of Chinese text, aligned columns, cells).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "app/cli_int.h"
#include "util/util.h"

static const char profiles[] = "# certcontacts credentials\n"
                               "[default]\n"
                               "server = http://127.0.0.1:8080\n"
                               "key_id = AAA\n"
                               "key_secret = s3cret\n"
                               "\n"
                               "  [ staging ]  \n"
                               "; a comment\n"
                               "server=https://cc.example.com  \r\n"
                               "key_id=\tBBB\n"
                               "key_secret = with = sign\n"
                               "unknown = ignored\n";

static void test_profile_default(void **state)
{
    (void)state;
    char server[128] = "", id[64] = "", secret[64] = "";
    assert_int_equal(cli_profile_parse(profiles, "default", server, sizeof server, id, sizeof id,
                                       secret, sizeof secret),
                     0);
    assert_string_equal(server, "http://127.0.0.1:8080");
    assert_string_equal(id, "AAA");
    assert_string_equal(secret, "s3cret");
}

static void test_profile_named(void **state)
{
    (void)state;
    char server[128] = "", id[64] = "", secret[64] = "";
    assert_int_equal(cli_profile_parse(profiles, "staging", server, sizeof server, id, sizeof id,
                                       secret, sizeof secret),
                     0);
    assert_string_equal(server, "https://cc.example.com");
    assert_string_equal(id, "BBB");
    assert_string_equal(secret, "with = sign"); /* split at the first '=' only */
}

static void test_profile_missing(void **state)
{
    (void)state;
    char server[128] = "", id[64] = "", secret[64] = "";
    assert_int_equal(cli_profile_parse(profiles, "prod", server, sizeof server, id, sizeof id,
                                       secret, sizeof secret),
                     -1);
    assert_string_equal(server, "");
    assert_string_equal(id, "");
    assert_int_equal(cli_profile_parse("", "default", server, sizeof server, id, sizeof id,
                                       secret, sizeof secret),
                     -1);
    /* a long value is cut, never overflows */
    char small[4] = "";
    assert_int_equal(cli_profile_parse(profiles, "default", small, sizeof small, id, sizeof id,
                                       secret, sizeof secret),
                     0);
    assert_string_equal(small, "htt");
}

static void test_width(void **state)
{
    (void)state;
    assert_int_equal(cli_text_width(""), 0);
    assert_int_equal(cli_text_width("abc"), 3);
    assert_int_equal(cli_text_width("张三"), 4);
    assert_int_equal(cli_text_width("Zhang 张"), 8);
    assert_int_equal(cli_text_width("Ａ"), 2);      /* fullwidth */
    assert_int_equal(cli_text_width("e\xcc\x81"), 1); /* e + combining acute */
    assert_int_equal(cli_text_width("\xff"), 1);     /* a broken byte: one cell */
}

static void test_cells(void **state)
{
    (void)state;
    char out[64];
    json_t *v = json_loads("[null, \"a\", 7, true, [\"x\", \"y\"], [], {\"k\": 1}, \"l1\\nl2\"]", 0,
                           NULL);
    const char *want[] = {"-", "a", "7", "yes", "x, y", "-", "{\"k\":1}", "l1 l2"};
    for (size_t i = 0; i < 8; i++) {
        cli_cell(json_array_get(v, i), out, sizeof out);
        assert_string_equal(out, want[i]);
    }
    /* cut on a character boundary */
    char tiny[5];
    json_t *s = json_string("张三丰");
    cli_cell(s, tiny, sizeof tiny);
    assert_string_equal(tiny, "张");
    json_decref(s);
    json_decref(v);
}

static void test_table_aligned(void **state)
{
    (void)state;
    json_t *items = json_loads("[{\"id\": 1, \"name\": \"张三丰\", \"lang\": \"zh-CN\"},"
                               " {\"id\": 22, \"name\": \"Bob\", \"lang\": \"en\"}]",
                               0, NULL);
    static const char *const keys[] = {"id", "name", "lang"};
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cli_table_print(f, items, keys, 3);
    fclose(f);
    assert_string_equal(text, "ID  NAME    LANG\n"
                              "1   张三丰  zh-CN\n"
                              "22  Bob     en\n");
    free(text);
    json_decref(items);
}

int main(void)
{
    cc_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_default), cmocka_unit_test(test_profile_named),
        cmocka_unit_test(test_profile_missing), cmocka_unit_test(test_width),
        cmocka_unit_test(test_cells),           cmocka_unit_test(test_table_aligned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
