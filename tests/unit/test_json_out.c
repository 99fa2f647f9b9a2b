/*
 * test_json_out.c — cc_json_compact writes byte for byte what
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes, and
 * cc_json_compact_sorted what it writes with JSON_SORT_KEYS: for every kind of
 * value, for strings holding every byte that needs escaping, UTF-8 and NUL,
 * for integers at their limits and for thousands of random trees; and it
 * refuses what nests too deep instead of overflowing the stack. And
 * cc_fmt_i64, the integers' writer, against printf.
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

#include "util/util.h"

/* Asserts mine is ref, with its length; frees both. */
static void same_text(char *mine, size_t len, char *ref)
{
    assert_non_null(ref);
    assert_non_null(mine);
    assert_string_equal(mine, ref);
    assert_int_equal(len, strlen(ref));
    cc_free(mine);
    free(ref);
}

/* Asserts cc_json_compact(v) is json_dumps's text, and cc_json_compact_sorted(v)
 * json_dumps's with JSON_SORT_KEYS, each with its length; frees v. */
static void same(json_t *v)
{
    size_t len = 0;
    char *mine = cc_json_compact(v, &len);
    same_text(mine, len, json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY));
    mine = cc_json_compact_sorted(v, &len);
    same_text(mine, len, json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY));
    json_decref(v);
}

static void test_scalars(void **state)
{
    (void)state;
    same(json_true());
    same(json_false());
    same(json_null());
    const json_int_t ints[] = {0, 1, -1, 9, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        same(json_integer(ints[i]));
    const double reals[] = {0.0, 1.0, -2.5, 1e300, 3.141592653589793, 1.0 / 3};
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++)
        same(json_real(reals[i]));
    same(json_object());
    same(json_array());
    same(json_string(""));
}

static void test_string_escapes(void **state)
{
    (void)state;
    char all[128];
    for (int c = 0; c < 128; c++) /* every ASCII byte, NUL first */
        all[c] = (char)c;
    same(json_stringn(all, sizeof all));
    same(json_string("\"quoted\" \\ back\\slash / slash \x7f del"));
    same(json_string("王伟 Zhang 😀 é \xe2\x80\xa8 line separator"));
    json_t *o = json_object();
    json_object_setn_new(o, "a\0b", 3, json_string("key with a NUL"));
    json_object_set_new(o, "\n\t\"k\"", json_stringn("\0\x1f", 2));
    same(o);
}

/* Strings read eight bytes at a time: each byte that needs escaping (and
 * some that do not: DEL, the space, a UTF-8 sequence), alone at every
 * place of strings of every length up to 40, before and after the blocks. */
static void test_string_blocks(void **state)
{
    (void)state;
    static const char *const odd[] = {"\"", "\\", "\n", "\x01", "\x1f", "\0", "\x7f", " ",
                                      "\xc3\xa9", "\xe4\xb8\xad"};
    for (size_t k = 0; k < sizeof odd / sizeof *odd; k++) {
        size_t olen = strlen(odd[k]) ? strlen(odd[k]) : 1;
        for (size_t len = 0; len <= 40; len++)
            for (size_t at = 0; at <= len; at++) {
                char buf[64];
                memset(buf, 'a', sizeof buf);
                memcpy(buf + at, odd[k], olen);
                same(json_stringn(buf, len + olen));
            }
    }
}

static void test_nested(void **state)
{
    (void)state;
    same(json_pack("{s:i, s:s, s:[i, s, {s:n, s:b}, []], s:{}, s:{s:[{}]}}", "id", 7, "name",
                   "李娜", "list", 1, "x", "a", "b", 1, "empty", "deep", "k"));
}

/* A random value of at most depth levels, from a seeded generator. */
static json_t *random_value(unsigned *seed, int depth)
{
    int kind = rand_r(seed) % (depth > 0 ? 8 : 6);
    switch (kind) {
    case 0: return json_integer((json_int_t)rand_r(seed) * (rand_r(seed) % 2 ? -1 : 1) *
                                (json_int_t)rand_r(seed));
    case 1: return json_real((double)rand_r(seed) / ((double)rand_r(seed) + 1));
    case 2: return rand_r(seed) % 2 ? json_true() : json_false();
    case 3: return json_null();
    case 4:
    case 5: {
        static const char *pieces[] = {"a", "王", "\"", "\\", "\n", "\x01", "\x1f", " ",
                                       "é", "😀", "/", "\t", "\r", "\b", "\f", "z9"};
        char s[64] = "";
        size_t len = 0;
        for (int i = rand_r(seed) % 8; i > 0; i--)
            len += cc_strlcpy(s + len, pieces[rand_r(seed) % 16], sizeof s - len);
        return json_string(s);
    }
    case 6: {
        json_t *a = json_array();
        for (int i = rand_r(seed) % 5; i > 0; i--)
            json_array_append_new(a, random_value(seed, depth - 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        for (int i = rand_r(seed) % 20; i > 0; i--) { /* past 16: the sort's heap array */
            char key[16];
            int n = snprintf(key, sizeof key, "k%d\"%c", rand_r(seed) % 100, "ab\n"[rand_r(seed) % 3]);
            /* keys that begin alike: one a prefix of another, or apart after a NUL */
            size_t klen = (size_t)(rand_r(seed) % 4 ? n : rand_r(seed) % (n + 1));
            if (klen > 1 && rand_r(seed) % 8 == 0)
                key[klen - 1] = '\0';
            json_object_setn_new(o, key, klen, random_value(seed, depth - 1));
        }
        return o;
    }
    }
}

static void test_random_trees(void **state)
{
    (void)state;
    unsigned seed = 20261203;
    for (int i = 0; i < 5000; i++)
        same(random_value(&seed, 5));
}

/* cc_fmt_i64 writes what printf's "%lld" writes, at the limits and between. */
static void test_fmt_i64(void **state)
{
    (void)state;
    const int64_t edge[] = {0, 1, -1, 9, 10, -10, 99, 100, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    unsigned seed = 7;
    for (size_t i = 0; i < sizeof edge / sizeof *edge + 2000; i++) {
        int64_t v = i < sizeof edge / sizeof *edge
                        ? edge[i]
                        : (int64_t)(((uint64_t)rand_r(&seed) << 33) ^ ((uint64_t)rand_r(&seed) << 2) ^
                                    (uint64_t)rand_r(&seed)) >> (rand_r(&seed) % 63);
        char mine[CC_I64_CHARS], ref[32];
        size_t n = cc_fmt_i64(mine, v);
        int m = snprintf(ref, sizeof ref, "%lld", (long long)v);
        assert_string_equal(mine, ref);
        assert_int_equal(n, (size_t)m);
    }
}

/* cc_strlcat as snprintf("%s%s") would write it, for every room from none
 * to more than enough, with the length it tried to make. */
static void test_strlcat(void **state)
{
    (void)state;
    static const char *const heads[] = {"", "ab", "abcdef"}, *const tails[] = {"", "x", "xyz12"};
    for (size_t h = 0; h < 3; h++)
        for (size_t t = 0; t < 3; t++)
            for (size_t room = 1; room <= 14; room++) {
                char mine[16], ref[16];
                if (strlen(heads[h]) >= room)
                    continue; /* the head itself must fit */
                cc_strlcpy(mine, heads[h], room);
                size_t n = cc_strlcat(mine, tails[t], room);
                int m = snprintf(ref, room, "%s%s", heads[h], tails[t]);
                assert_string_equal(mine, ref);
                assert_int_equal(n, (size_t)m);
            }
    char full[4] = {'a', 'b', 'c', 'd'}; /* not terminated within its room */
    assert_int_equal(cc_strlcat(full, "xy", sizeof full), 6);
    /* an integer appended as snprintf("%s%lld") would write it */
    static const int64_t vals[] = {0, 7, -42, 123456789012LL, INT64_MIN, INT64_MAX};
    for (size_t v = 0; v < sizeof vals / sizeof vals[0]; v++)
        for (size_t room = 2; room <= 26; room++) { /* "e" fits */
            char mine[32], ref[32];
            cc_strlcpy(mine, "e", room);
            size_t n = cc_strlcat_i64(mine, vals[v], room);
            int m = snprintf(ref, room, "e%lld", (long long)vals[v]);
            assert_string_equal(mine, ref);
            assert_int_equal(n, (size_t)m);
        }
}

static void test_too_deep(void **state)
{
    (void)state;
    json_t *top = json_array(), *a = top;
    for (int i = 0; i < 5000; i++) {
        json_t *next = json_array();
        json_array_append_new(a, next);
        a = next;
    }
    size_t len = 7;
    assert_null(cc_json_compact(top, &len));
    json_decref(top);
    assert_null(cc_json_compact(NULL, &len));
}

int main(void)
{
    cc_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars),
        cmocka_unit_test(test_string_escapes),
        cmocka_unit_test(test_string_blocks),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_random_trees),
        cmocka_unit_test(test_fmt_i64),
        cmocka_unit_test(test_strlcat),
        cmocka_unit_test(test_too_deep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
