/*
 * test_log.c — the one log writer: whatever the values hold (quotes,
 * newlines, control characters, bytes that are not UTF-8, text that looks
 * like JSON), each call writes exactly one line that parses as one JSON
 * object, with the writer's own time, level and msg and each value intact;
 * a line of plain values, written without the encoder, is byte for byte
 * what the encoder writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "util/util.h"

/* Runs fn with stderr sent to a temporary file; returns what it wrote
 * (malloc'd). */
static char *capture(void (*fn)(void))
{
    fflush(stderr);
    FILE *tmp = tmpfile();
    assert_non_null(tmp);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    long n = (long)lseek(fileno(tmp), 0, SEEK_END);
    char *out = calloc(1, (size_t)n + 1);
    lseek(fileno(tmp), 0, SEEK_SET);
    assert_int_equal(read(fileno(tmp), out, (size_t)n), n);
    fclose(tmp);
    return out;
}

/* The one line in text as a JSON object (asserts there is exactly one). */
static json_t *one_line(const char *text)
{
    const char *nl = strchr(text, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0');
    json_error_t e;
    json_t *o = json_loadb(text, (size_t)(nl - text), JSON_REJECT_DUPLICATES, &e);
    assert_non_null(o);
    assert_true(json_is_object(o));
    return o;
}

static const char *FORGE = "GET\",\"level\":\"error\",\"msg\":\"forged\"}\n{\"x\":\"\x01\x1b\\";

static void write_hostile(void)
{
    struct cc_log_field f[] = {
        CC_LOG_STR("method", FORGE),
        CC_LOG_STR("level", "error"),   /* the writer's own: dropped */
        CC_LOG_STR("path", "/\xff\xfe\"x"),
        CC_LOG_INT("status", 431),
        CC_LOG_NUM("duration_ms", 0.125),
        CC_LOG_NULL("account"),
        CC_LOG_STR("ua", NULL),
    };
    cc_log_fields(CC_LOG_INFO, "request\n{\"level\":\"error\"}", f, sizeof f / sizeof f[0]);
}

static void hostile_values_stay_values(void **state)
{
    (void)state;
    char *text = capture(write_hostile);
    json_t *o = one_line(text);
    assert_string_equal(json_string_value(json_object_get(o, "level")), "info");
    assert_string_equal(json_string_value(json_object_get(o, "msg")),
                        "request\n{\"level\":\"error\"}");
    assert_string_equal(json_string_value(json_object_get(o, "method")), FORGE);
    assert_string_equal(json_string_value(json_object_get(o, "path")), "/\\xff\\xfe\"x");
    assert_int_equal(json_integer_value(json_object_get(o, "status")), 431);
    assert_true(json_real_value(json_object_get(o, "duration_ms")) == 0.125);
    assert_true(json_is_null(json_object_get(o, "account")));
    assert_true(json_is_null(json_object_get(o, "ua")));
    assert_null(json_object_get(o, "x"));
    assert_int_equal(json_object_size(o), 9); /* time, level, msg + 6 fields */
    json_decref(o);
    free(text);
}

static void write_long(void)
{
    char *v = malloc(CC_LOG_VALUE_MAX + 100);
    /* "é" is two bytes: the cut must not split one */
    for (size_t i = 0; i + 1 < CC_LOG_VALUE_MAX + 99; i += 2)
        memcpy(v + i, "\xc3\xa9", 2);
    v[CC_LOG_VALUE_MAX + 99] = '\0';
    v[CC_LOG_VALUE_MAX + 98] = 'x';
    cc_log(CC_LOG_WARN, "long", "value", v, NULL);
    free(v);
}

static void long_values_are_cut_on_a_character(void **state)
{
    (void)state;
    char *text = capture(write_long);
    json_t *o = one_line(text);
    const char *v = json_string_value(json_object_get(o, "value"));
    assert_non_null(v);
    assert_true(strlen(v) <= CC_LOG_VALUE_MAX);
    assert_true(strlen(v) >= CC_LOG_VALUE_MAX - 1);
    assert_string_equal(json_string_value(json_object_get(o, "level")), "warn");
    json_decref(o);
    free(text);
}

static void write_plain(void)
{
    struct cc_log_field f[] = {
        CC_LOG_STR("request_id", "0b6f3c1e-7c55-4a8e-9d1b-2f0c3a4b5c6d"),
        CC_LOG_INT("account", 42),
        CC_LOG_STR("method", "GET"),
        CC_LOG_STR("path", "/v1/contacts/500?keyword=a%20b"),
        CC_LOG_INT("status", -200),
        CC_LOG_NUM("duration_ms", 0.319),
        CC_LOG_NUM("whole", 2.0),
        CC_LOG_NUM("big", 123456.789),
        CC_LOG_NULL("user_agent"),
        CC_LOG_STR("absent", NULL),
        {.key = "flag", .type = CC_LOG_F_BOOL, .i = 1},
        CC_LOG_STR("msg", "not the writer's"),
    };
    cc_log_fields(CC_LOG_INFO, "request", f, sizeof f / sizeof f[0]);
}

static void write_twice(void)
{
    cc_log(CC_LOG_INFO, "twice", "k", "first", "k", "second", NULL);
}

/* A line of plain values (the request line) is written without the JSON
 * encoder, byte for byte as the encoder writes it; a key given twice goes
 * to the encoder, which keeps the last. */
static void plain_lines_are_what_the_encoder_writes(void **state)
{
    (void)state;
    char *text = capture(write_plain);
    json_t *o = one_line(text);
    json_t *want = json_object();
    json_object_set(want, "time", json_object_get(o, "time"));
    json_object_set_new(want, "level", json_string("info"));
    json_object_set_new(want, "msg", json_string("request"));
    json_object_set_new(want, "request_id", json_string("0b6f3c1e-7c55-4a8e-9d1b-2f0c3a4b5c6d"));
    json_object_set_new(want, "account", json_integer(42));
    json_object_set_new(want, "method", json_string("GET"));
    json_object_set_new(want, "path", json_string("/v1/contacts/500?keyword=a%20b"));
    json_object_set_new(want, "status", json_integer(-200));
    json_object_set_new(want, "duration_ms", json_real(0.319));
    json_object_set_new(want, "whole", json_real(2.0));
    json_object_set_new(want, "big", json_real(123456.789));
    json_object_set_new(want, "user_agent", json_null());
    json_object_set_new(want, "absent", json_null());
    json_object_set_new(want, "flag", json_true());
    char *expect = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    size_t n = strlen(expect);
    assert_int_equal(strlen(text), n + 1);
    assert_memory_equal(text, expect, n);
    free(expect);
    json_decref(want);
    json_decref(o);
    free(text);

    text = capture(write_twice);
    o = one_line(text);
    assert_string_equal(json_string_value(json_object_get(o, "k")), "second");
    json_decref(o);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hostile_values_stay_values),
        cmocka_unit_test(long_values_are_cut_on_a_character),
        cmocka_unit_test(plain_lines_are_what_the_encoder_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
