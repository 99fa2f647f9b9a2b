/*
 * test_validate.c — unit tests of core/validate.c: UTF-8, name, email,
 * mobile, ID card, language, webhook URL classification and webhook
 * secrets. One case per behaviour; run under ASan/UBSan for leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "util/util.h"

#define TODAY 20261125

/* ---- helpers -------------------------------------------------------------- */

/* The error must carry code and field, and a non-empty message that was
 * not cut off by the 256-byte buffer. */
static void assert_err(enum cc_err rc, const struct cc_error *e, enum cc_err code,
                       const char *field)
{
    assert_int_equal(rc, code);
    assert_int_equal(e->code, code);
    assert_string_equal(e->field, field);
    assert_true(strlen(e->message) > 10);
    assert_true(strlen(e->message) < sizeof e->message - 1);
}

static void name_ok(const char *in, const char *want)
{
    char out[CC_NAME_MAX_BYTES + 1];
    struct cc_error e = {0};
    assert_int_equal(cc_validate_name(in, out, sizeof out, &e), CC_OK);
    assert_string_equal(out, want);
}

static void name_bad(const char *in, enum cc_err code)
{
    char out[CC_NAME_MAX_BYTES + 1];
    struct cc_error e = {0};
    assert_err(cc_validate_name(in, out, sizeof out, &e), &e, code, "Name");
    assert_string_equal(out, "");
}

static void email_ok(const char *in, const char *want, const char *want_norm)
{
    char out[CC_EMAIL_MAX + 1], norm[CC_EMAIL_MAX + 1];
    struct cc_error e = {0};
    assert_int_equal(cc_validate_email(in, out, sizeof out, norm, sizeof norm, &e), CC_OK);
    assert_string_equal(out, want);
    assert_string_equal(norm, want_norm);
}

static void email_bad(const char *in)
{
    char out[CC_EMAIL_MAX + 1], norm[CC_EMAIL_MAX + 1];
    struct cc_error e = {0};
    assert_err(cc_validate_email(in, out, sizeof out, norm, sizeof norm, &e), &e,
               CC_ERR_INCORRECT_FORMAT, "Email");
    assert_string_equal(out, "");
    assert_string_equal(norm, "");
}

static void mobile_ok(const char *in, const char *want)
{
    char out[CC_MOBILE_MAX + 1];
    struct cc_error e = {0};
    assert_int_equal(cc_validate_mobile(in, out, sizeof out, &e), CC_OK);
    assert_string_equal(out, want);
}

static void mobile_bad(const char *in)
{
    char out[CC_MOBILE_MAX + 1];
    struct cc_error e = {0};
    assert_err(cc_validate_mobile(in, out, sizeof out, &e), &e, CC_ERR_INCORRECT_FORMAT,
               "Mobile");
    assert_string_equal(out, "");
}

/* Completes 17 digits with their ISO 7064 MOD 11-2 check character. */
static void make_id(const char *first17, char out[CC_IDCARD_LEN + 1])
{
    static const int w[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    assert_int_equal(strlen(first17), 17);
    for (int i = 0; i < 17; i++)
        sum += (first17[i] - '0') * w[i];
    memcpy(out, first17, 17);
    out[17] = "10X98765432"[sum % 11];
    out[18] = '\0';
}

static void id_ok(const char *in, const char *want)
{
    char out[CC_IDCARD_LEN + 1];
    struct cc_error e = {0};
    assert_int_equal(cc_validate_id_card(in, TODAY, out, sizeof out, &e), CC_OK);
    assert_string_equal(out, want);
}

static void id_bad(const char *in, int today)
{
    char out[CC_IDCARD_LEN + 1];
    struct cc_error e = {0};
    assert_err(cc_validate_id_card(in, today, out, sizeof out, &e), &e,
               CC_ERR_INCORRECT_FORMAT, "IdCard");
    assert_string_equal(out, "");
}

/* 17 digits with a given province, birth date and sequence, completed. */
static void id_for(const char *prov2, const char *date8, char out[CC_IDCARD_LEN + 1])
{
    char first[18];
    snprintf(first, sizeof first, "%s0105%s123", prov2, date8);
    make_id(first, out);
}

static void lang_ok(const char *in, const char *want)
{
    char out[CC_LANG_MAX + 1];
    struct cc_error e = {0};
    assert_int_equal(cc_validate_language(in, out, sizeof out, &e), CC_OK);
    assert_string_equal(out, want);
}

static void lang_bad(const char *in)
{
    char out[CC_LANG_MAX + 1];
    struct cc_error e = {0};
    assert_err(cc_validate_language(in, out, sizeof out, &e), &e, CC_ERR_INCORRECT_FORMAT,
               "Language");
}

static void url_ok(const char *in, const char *want, enum cc_webhook_kind want_kind)
{
    char out[CC_URL_MAX + 1];
    enum cc_webhook_kind k = CC_WEBHOOK_NONE;
    struct cc_error e = {0};
    assert_int_equal(cc_webhook_classify(in, out, sizeof out, &k, &e), CC_OK);
    assert_string_equal(out, want);
    assert_int_equal(k, want_kind);
}

static void url_bad(const char *in)
{
    char out[CC_URL_MAX + 1];
    enum cc_webhook_kind k = CC_WEBHOOK_DINGTALK;
    struct cc_error e = {0};
    assert_err(cc_webhook_classify(in, out, sizeof out, &k, &e), &e, CC_ERR_INCORRECT_FORMAT,
               "Webhooks");
    assert_int_equal(k, CC_WEBHOOK_NONE);
    assert_string_equal(out, "");
}

static void secret_ok(enum cc_webhook_kind k, const char *s)
{
    struct cc_error e = {0};
    assert_int_equal(cc_validate_webhook_secret(k, s, &e), CC_OK);
}

static void secret_bad(enum cc_webhook_kind k, const char *s)
{
    struct cc_error e = {0};
    assert_err(cc_validate_webhook_secret(k, s, &e), &e, CC_ERR_INCORRECT_FORMAT, "Webhooks");
}

#define DT "https://oapi.dingtalk.com/robot/send"
#define FS "https://open.feishu.cn/open-apis/bot/v2/hook/"
#define LK "https://open.larksuite.com/open-apis/bot/v2/hook/"
#define WC "https://qyapi.weixin.qq.com/cgi-bin/webhook/send"

/* ---- UTF-8 ------------------------------------------------------------------ */

static void utf8_ascii_valid(void **st)
{
    (void)st;
    assert_true(cc_utf8_valid("hello", 5));
}

static void utf8_empty_valid(void **st)
{
    (void)st;
    assert_true(cc_utf8_valid("", 0));
}

static void utf8_multibyte_valid(void **st)
{
    (void)st;
    const char *s = "é中😀"; /* 2, 3 and 4 bytes */
    assert_true(cc_utf8_valid(s, strlen(s)));
}

static void utf8_boundaries_valid(void **st)
{
    (void)st;
    assert_true(cc_utf8_valid("\xC2\x80", 2));             /* U+0080 */
    assert_true(cc_utf8_valid("\xDF\xBF", 2));             /* U+07FF */
    assert_true(cc_utf8_valid("\xE0\xA0\x80", 3));         /* U+0800 */
    assert_true(cc_utf8_valid("\xED\x9F\xBF", 3));         /* U+D7FF */
    assert_true(cc_utf8_valid("\xEE\x80\x80", 3));         /* U+E000 */
    assert_true(cc_utf8_valid("\xEF\xBF\xBF", 3));         /* U+FFFF */
    assert_true(cc_utf8_valid("\xF0\x90\x80\x80", 4));     /* U+10000 */
    assert_true(cc_utf8_valid("\xF4\x8F\xBF\xBF", 4));     /* U+10FFFF */
}

static void utf8_overlong_rejected(void **st)
{
    (void)st;
    assert_false(cc_utf8_valid("\xC0\xAF", 2));
    assert_false(cc_utf8_valid("\xC1\xBF", 2));
    assert_false(cc_utf8_valid("\xE0\x80\xAF", 3));
    assert_false(cc_utf8_valid("\xE0\x9F\xBF", 3));
    assert_false(cc_utf8_valid("\xF0\x80\x80\xAF", 4));
    assert_false(cc_utf8_valid("\xF0\x8F\xBF\xBF", 4));
}

static void utf8_surrogates_rejected(void **st)
{
    (void)st;
    assert_false(cc_utf8_valid("\xED\xA0\x80", 3)); /* U+D800 */
    assert_false(cc_utf8_valid("\xED\xBF\xBF", 3)); /* U+DFFF */
    assert_false(cc_utf8_valid("\xED\xA0\xBD\xED\xB8\x80", 6)); /* CESU-8 pair */
}

static void utf8_above_max_rejected(void **st)
{
    (void)st;
    assert_false(cc_utf8_valid("\xF4\x90\x80\x80", 4)); /* U+110000 */
    assert_false(cc_utf8_valid("\xF5\x80\x80\x80", 4));
    assert_false(cc_utf8_valid("\xF8\x88\x80\x80\x80", 5));
    assert_false(cc_utf8_valid("\xFF", 1));
    assert_false(cc_utf8_valid("\xFE", 1));
}

static void utf8_truncated_rejected(void **st)
{
    (void)st;
    assert_false(cc_utf8_valid("\xC3", 1));
    assert_false(cc_utf8_valid("\xE4\xB8", 2));
    assert_false(cc_utf8_valid("\xF0\x9F\x98", 3));
    /* The length cuts a valid sequence short. */
    assert_false(cc_utf8_valid("\xE4\xB8\xAD", 2));
}

static void utf8_stray_continuation_rejected(void **st)
{
    (void)st;
    assert_false(cc_utf8_valid("\x80", 1));
    assert_false(cc_utf8_valid("a\xBF" "b", 3));
    assert_false(cc_utf8_valid("\xC3\xA9\xA9", 3));
}

static void utf8_bad_continuation_rejected(void **st)
{
    (void)st;
    assert_false(cc_utf8_valid("\xC3\x41", 2));
    assert_false(cc_utf8_valid("\xE4\xB8\x41", 3));
}

static void utf8_nul_inside_rejected(void **st)
{
    (void)st;
    assert_false(cc_utf8_valid("ab\0cd", 5));
    assert_false(cc_utf8_valid("\0", 1));
}

/* Plain ASCII is read eight bytes at a time: a NUL byte, a stray
 * continuation byte or a byte no UTF-8 has, alone at every place of strings
 * of every length up to 40, is found; a valid sequence there is not refused. */
static void utf8_blocks(void **st)
{
    (void)st;
    static const char *const bad[] = {"\0", "\x80", "\xff", "\xc3", "\xed\xa0\x80"};
    static const char *const good[] = {"\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\x7f"};
    for (size_t len = 0; len <= 40; len++) {
        char buf[64];
        memset(buf, 'a', sizeof buf);
        assert_true(cc_utf8_valid(buf, len));
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
                size_t blen = strlen(bad[k]) ? strlen(bad[k]) : 1;
                memset(buf, 'a', sizeof buf);
                memcpy(buf + at, bad[k], blen);
                assert_false(cc_utf8_valid(buf, len + blen));
            }
            for (size_t k = 0; k < sizeof good / sizeof *good; k++) {
                memset(buf, 'a', sizeof buf);
                memcpy(buf + at, good[k], strlen(good[k]));
                assert_true(cc_utf8_valid(buf, len + strlen(good[k])));
            }
        }
    }
}

static void utf8_len_counts_code_points(void **st)
{
    (void)st;
    const char *s = "aé中😀";
    assert_int_equal(cc_utf8_len(s, strlen(s)), 4);
    assert_int_equal(cc_utf8_len("", 0), 0);
    assert_int_equal(cc_utf8_len("abc", 3), 3);
}

/* ---- name ----------------------------------------------------------------- */

static void name_plain(void **st)
{
    (void)st;
    name_ok("Zhang San", "Zhang San");
}

static void name_chinese(void **st)
{
    (void)st;
    name_ok("张三", "张三");
}

static void name_other_scripts(void **st)
{
    (void)st;
    name_ok("Ørjan Ñúñez", "Ørjan Ñúñez");
    name_ok("Алексей", "Алексей");
    name_ok("محمد", "محمد");
    name_ok("😀 Emoji", "😀 Emoji");
}

static void name_trims_ascii_space(void **st)
{
    (void)st;
    name_ok("  \t Zhang San \r\n ", "Zhang San");
}

static void name_trims_ideographic_space(void **st)
{
    (void)st;
    name_ok("\xE3\x80\x80张三\xE3\x80\x80", "张三");
    name_ok(" \xE3\x80\x80 \xE3\x80\x80李四 \xE3\x80\x80", "李四");
}

static void name_keeps_inner_spaces(void **st)
{
    (void)st;
    name_ok("张\xE3\x80\x80三", "张\xE3\x80\x80三");
    name_ok("a  b", "a  b");
}

static void name_empty_missing(void **st)
{
    (void)st;
    name_bad("", CC_ERR_MISSING_PARAMETER);
}

static void name_whitespace_only_missing(void **st)
{
    (void)st;
    name_bad(" \t\n", CC_ERR_MISSING_PARAMETER);
    name_bad("\xE3\x80\x80 \xE3\x80\x80", CC_ERR_MISSING_PARAMETER);
}

/* Bidi overrides and isolates, zero-width characters and the line and
 * paragraph separators are refused anywhere in a name, also at its ends. */
static void name_invisible_format_refused(void **st)
{
    (void)st;
    static const char *const bad[] = {
        "\xE2\x80\xAA", "\xE2\x80\xAB", "\xE2\x80\xAC", "\xE2\x80\xAD", "\xE2\x80\xAE", /* 202A-E */
        "\xE2\x81\xA6", "\xE2\x81\xA7", "\xE2\x81\xA8", "\xE2\x81\xA9",                 /* 2066-9 */
        "\xE2\x80\x8B", "\xE2\x80\x8C", "\xE2\x80\x8D", "\xE2\x81\xA0", "\xEF\xBB\xBF", /* ZW */
        "\xE2\x80\x8E", "\xE2\x80\x8F",                                                 /* LRM RLM */
        "\xE2\x80\xA8", "\xE2\x80\xA9",                                                 /* 2028/9 */
    };
    char in[64];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(in, sizeof in, "Zhang%sSan", bad[i]);
        name_bad(in, CC_ERR_INCORRECT_FORMAT);
        snprintf(in, sizeof in, "%s\xE5\xBC\xA0\xE4\xB8\x89", bad[i]);
        name_bad(in, CC_ERR_INCORRECT_FORMAT);
        snprintf(in, sizeof in, "\xE5\xBC\xA0\xE4\xB8\x89%s", bad[i]);
        name_bad(in, CC_ERR_INCORRECT_FORMAT);
    }
    /* "evil\u202Egnp.exe" shows as "evilexe.png" */
    name_bad("invoice\xE2\x80\xAEgnp.exe", CC_ERR_INCORRECT_FORMAT);
    /* the neighbours of the refused ranges stay allowed */
    name_ok("a\xE2\x80\x8A" "b", "a\xE2\x80\x8A" "b");   /* U+200A HAIR SPACE */
    name_ok("a\xE2\x80\xAF" "b", "a\xE2\x80\xAF" "b");   /* U+202F NARROW NO-BREAK SPACE */
    name_ok("a\xE2\x80\x90" "b", "a\xE2\x80\x90" "b");   /* U+2010 HYPHEN */
}

static void name_null_missing(void **st)
{
    (void)st;
    name_bad(NULL, CC_ERR_MISSING_PARAMETER);
}

static void name_64_chars_ok(void **st)
{
    (void)st;
    char in[64 * 3 + 1] = "";
    for (int i = 0; i < 64; i++)
        memcpy(in + i * 3, "中", 3);
    in[64 * 3] = '\0';
    name_ok(in, in);
}

static void name_65_chars_rejected(void **st)
{
    (void)st;
    char in[66];
    memset(in, 'a', 65);
    in[65] = '\0';
    name_bad(in, CC_ERR_INCORRECT_FORMAT);
}

static void name_64_four_byte_chars_ok(void **st)
{
    (void)st;
    char in[64 * 4 + 1];
    for (int i = 0; i < 64; i++)
        memcpy(in + i * 4, "😀", 4);
    in[64 * 4] = '\0';
    name_ok(in, in);
}

static void name_very_long_rejected(void **st)
{
    (void)st;
    char in[5000];
    memset(in, 'x', sizeof in - 1);
    in[sizeof in - 1] = '\0';
    name_bad(in, CC_ERR_INCORRECT_FORMAT);
}

static void name_invalid_utf8_rejected(void **st)
{
    (void)st;
    name_bad("Zhang\xC3", CC_ERR_INCORRECT_FORMAT);
    name_bad("\xED\xA0\x80x", CC_ERR_INCORRECT_FORMAT);
    name_bad("\xC0\xAF", CC_ERR_INCORRECT_FORMAT);
}

static void name_tab_inside_rejected(void **st)
{
    (void)st;
    name_bad("Zhang\tSan", CC_ERR_INCORRECT_FORMAT);
}

static void name_newline_inside_rejected(void **st)
{
    (void)st;
    name_bad("Zhang\nSan", CC_ERR_INCORRECT_FORMAT);
    name_bad("Zhang\rSan", CC_ERR_INCORRECT_FORMAT);
}

static void name_c0_rejected(void **st)
{
    (void)st;
    name_bad("a\x01" "b", CC_ERR_INCORRECT_FORMAT);
    name_bad("a\x1b[31m", CC_ERR_INCORRECT_FORMAT);
}

static void name_del_rejected(void **st)
{
    (void)st;
    name_bad("a\x7f" "b", CC_ERR_INCORRECT_FORMAT);
}

static void name_c1_rejected(void **st)
{
    (void)st;
    name_bad("a\xC2\x80" "b", CC_ERR_INCORRECT_FORMAT);
    name_bad("a\xC2\x9F" "b", CC_ERR_INCORRECT_FORMAT);
    name_ok("a\xC2\xA0" "b", "a\xC2\xA0" "b"); /* NBSP is not a control */
}

/* ---- email ---------------------------------------------------------------- */

static void email_plain(void **st)
{
    (void)st;
    email_ok("zhangsan@example.com", "zhangsan@example.com", "zhangsan@example.com");
}

static void email_case_kept_in_local(void **st)
{
    (void)st;
    email_ok("Zhang.San@Example.COM", "Zhang.San@example.com", "zhang.san@example.com");
}

static void email_trims_space(void **st)
{
    (void)st;
    email_ok("  a@example.com\t\n", "a@example.com", "a@example.com");
}

static void email_atext_specials(void **st)
{
    (void)st;
    const char *s = "a!#$%&'*+/=?^_`{|}~-z@example.com";
    email_ok(s, s, s);
}

static void email_plus_tag(void **st)
{
    (void)st;
    email_ok("ops+certs@corp.example.cn", "ops+certs@corp.example.cn",
             "ops+certs@corp.example.cn");
}

static void email_idn_chinese(void **st)
{
    (void)st;
    email_ok("user@例子.中国", "user@例子.中国", "user@例子.中国");
}

static void email_idn_latin(void **st)
{
    (void)st;
    email_ok("info@Bücher.DE", "info@bücher.de", "info@bücher.de");
}

static void email_punycode(void **st)
{
    (void)st;
    email_ok("a@xn--fsqu00a.xn--fiqs8s", "a@xn--fsqu00a.xn--fiqs8s", "a@xn--fsqu00a.xn--fiqs8s");
}

static void email_hyphen_inside_label(void **st)
{
    (void)st;
    email_ok("a@my-host.example.com", "a@my-host.example.com", "a@my-host.example.com");
}

static void email_digits_label_ok(void **st)
{
    (void)st;
    email_ok("a@163.com", "a@163.com", "a@163.com");
}

static void email_empty_missing(void **st)
{
    (void)st;
    char out[CC_EMAIL_MAX + 1], norm[CC_EMAIL_MAX + 1];
    struct cc_error e = {0};
    assert_err(cc_validate_email("   ", out, sizeof out, norm, sizeof norm, &e), &e,
               CC_ERR_MISSING_PARAMETER, "Email");
    assert_err(cc_validate_email(NULL, out, sizeof out, norm, sizeof norm, &e), &e,
               CC_ERR_MISSING_PARAMETER, "Email");
}

static void email_no_at(void **st)
{
    (void)st;
    email_bad("zhangsan.example.com");
}

static void email_two_at(void **st)
{
    (void)st;
    email_bad("a@b@example.com");
}

static void email_message_is_readable(void **st)
{
    (void)st;
    char out[CC_EMAIL_MAX + 1], norm[CC_EMAIL_MAX + 1];
    struct cc_error e = {0};
    cc_validate_email("nope", out, sizeof out, norm, sizeof norm, &e);
    assert_non_null(strstr(e.message, "exactly one @"));
    assert_null(strstr(e.message, "nope"));
}

static void email_empty_local(void **st)
{
    (void)st;
    email_bad("@example.com");
}

static void email_empty_domain(void **st)
{
    (void)st;
    email_bad("a@");
}

static void email_single_label_domain(void **st)
{
    (void)st;
    email_bad("a@localhost");
}

static void email_local_leading_dot(void **st)
{
    (void)st;
    email_bad(".a@example.com");
}

static void email_local_trailing_dot(void **st)
{
    (void)st;
    email_bad("a.@example.com");
}

static void email_local_double_dot(void **st)
{
    (void)st;
    email_bad("a..b@example.com");
}

static void email_quoted_local_rejected(void **st)
{
    (void)st;
    email_bad("\"a b\"@example.com");
    email_bad("\"ab\"@example.com");
}

static void email_local_bad_chars(void **st)
{
    (void)st;
    email_bad("a b@example.com");
    email_bad("a(b)@example.com");
    email_bad("a,b@example.com");
    email_bad("a;b@example.com");
    email_bad("a<b>@example.com");
    email_bad("a\\b@example.com");
    email_bad("a[b]@example.com");
    email_bad("a:b@example.com");
}

static void email_local_non_ascii_rejected(void **st)
{
    (void)st;
    email_bad("张三@example.com");
}

static void email_local_64_ok(void **st)
{
    (void)st;
    char in[100];
    memset(in, 'a', 64);
    memcpy(in + 64, "@example.com", 13);
    email_ok(in, in, in);
}

static void email_local_65_rejected(void **st)
{
    (void)st;
    char in[100];
    memset(in, 'a', 65);
    memcpy(in + 65, "@example.com", 13);
    email_bad(in);
}

static void email_254_ok(void **st)
{
    (void)st;
    /* 64 + 1 + 63 + 1 + 63 + 1 + 57 + 4 = 254 */
    char in[300];
    size_t n = 0;
    memset(in + n, 'a', 64), n += 64;
    in[n++] = '@';
    memset(in + n, 'b', 63), n += 63;
    in[n++] = '.';
    memset(in + n, 'c', 63), n += 63;
    in[n++] = '.';
    memset(in + n, 'd', 57), n += 57;
    memcpy(in + n, ".com", 4), n += 4;
    in[n] = '\0';
    assert_int_equal(n, 254);
    email_ok(in, in, in);
}

static void email_255_rejected(void **st)
{
    (void)st;
    char in[300];
    size_t n = 0;
    memset(in + n, 'a', 64), n += 64;
    in[n++] = '@';
    memset(in + n, 'b', 63), n += 63;
    in[n++] = '.';
    memset(in + n, 'c', 63), n += 63;
    in[n++] = '.';
    memset(in + n, 'd', 58), n += 58;
    memcpy(in + n, ".com", 4), n += 4;
    in[n] = '\0';
    assert_int_equal(n, 255);
    email_bad(in);
}

static void email_label_63_ok_64_rejected(void **st)
{
    (void)st;
    char in[100];
    memcpy(in, "a@", 2);
    memset(in + 2, 'x', 63);
    memcpy(in + 65, ".com", 5);
    email_ok(in, in, in);
    memset(in + 2, 'x', 64);
    memcpy(in + 66, ".com", 5);
    email_bad(in);
}

static void email_label_hyphen_edges(void **st)
{
    (void)st;
    email_bad("a@-example.com");
    email_bad("a@example-.com");
    email_bad("a@example.-com");
}

static void email_empty_label(void **st)
{
    (void)st;
    email_bad("a@example..com");
    email_bad("a@.example.com");
    email_bad("a@example.com.");
}

static void email_domain_punctuation(void **st)
{
    (void)st;
    email_bad("a@exa_mple.com");
    email_bad("a@exa mple.com");
    email_bad("a@example.com/x");
    email_bad("a@example.com:25");
    email_bad("a@exa!mple.com");
}

static void email_domain_control(void **st)
{
    (void)st;
    email_bad("a@exa\tmple.com");
    email_bad("a@example.com\x01");
    email_bad("a@exa\xC2\x85mple.com"); /* NEL (C1) */
}

static void email_domain_unicode_spaces(void **st)
{
    (void)st;
    email_bad("a@例\xE3\x80\x80子.中国");  /* U+3000 */
    email_bad("a@exa\xC2\xA0mple.com");   /* NBSP */
    email_bad("a@exa\xE2\x80\x8Bmple.com"); /* zero-width space */
}

static void email_domain_fullwidth_dot(void **st)
{
    (void)st;
    email_bad("a@例子。中国");
}

static void email_domain_invalid_utf8(void **st)
{
    (void)st;
    email_bad("a@b\xC3.com");
    email_bad("a@b\xED\xA0\x80.com");
}

static void email_numeric_tld(void **st)
{
    (void)st;
    email_bad("a@example.123");
}

static void email_ip_literal(void **st)
{
    (void)st;
    email_bad("a@[192.168.1.1]");
    email_bad("a@192.168.1.1");
    email_bad("a@[IPv6:::1]");
}

static void email_inner_space(void **st)
{
    (void)st;
    email_bad("a @example.com");
    email_bad("a@ example.com");
}

/* ---- mobile --------------------------------------------------------------- */

static void mobile_bare_mainland(void **st)
{
    (void)st;
    mobile_ok("13312345678", "+8613312345678");
    mobile_ok("19912345678", "+8619912345678");
}

static void mobile_plus86(void **st)
{
    (void)st;
    mobile_ok("+8613312345678", "+8613312345678");
}

static void mobile_plus86_spaced(void **st)
{
    (void)st;
    mobile_ok("+86 133 1234 5678", "+8613312345678");
}

static void mobile_0086(void **st)
{
    (void)st;
    mobile_ok("0086 13312345678", "+8613312345678");
}

static void mobile_86_prefix(void **st)
{
    (void)st;
    mobile_ok("8613312345678", "+8613312345678");
}

static void mobile_hyphens(void **st)
{
    (void)st;
    mobile_ok("133-1234-5678", "+8613312345678");
    mobile_ok("+86-133-1234-5678", "+8613312345678");
}

static void mobile_surrounding_space(void **st)
{
    (void)st;
    mobile_ok("\t 13312345678 \n", "+8613312345678");
}

static void mobile_mainland_second_digit(void **st)
{
    (void)st;
    mobile_bad("12312345678");
    mobile_bad("10312345678");
    mobile_bad("+8612312345678");
}

static void mobile_plus86_not_mobile_rejected(void **st)
{
    (void)st;
    mobile_bad("+861012345678");    /* Beijing landline */
    mobile_bad("+86133123456789");  /* 12 digits */
    mobile_bad("+861331234567");    /* 10 digits */
    mobile_bad("008601012345678");
}

static void mobile_international_plus(void **st)
{
    (void)st;
    mobile_ok("+447911123456", "+447911123456");
    mobile_ok("+1 415 555 2671", "+14155552671");
    mobile_ok("+852 9123 4567", "+85291234567");
}

static void mobile_international_00(void **st)
{
    (void)st;
    mobile_ok("00447911123456", "+447911123456");
}

static void mobile_e164_length_bounds(void **st)
{
    (void)st;
    mobile_ok("+12345678", "+12345678");                 /* 8 digits */
    mobile_ok("+123456789012345", "+123456789012345");   /* 15 digits */
    mobile_bad("+1234567");                              /* 7 */
    mobile_bad("+1234567890123456");                     /* 16 */
}

static void mobile_plus_zero_rejected(void **st)
{
    (void)st;
    mobile_bad("+0447911123456");
    mobile_bad("+0086 13312345678");
    mobile_bad("000447911123456");
}

static void mobile_letters_rejected(void **st)
{
    (void)st;
    mobile_bad("1331234567a");
    mobile_bad("+44 79II 123456");
    mobile_bad("tel:13312345678");
}

static void mobile_punctuation_rejected(void **st)
{
    (void)st;
    mobile_bad("(133) 1234 5678");
    mobile_bad("133.1234.5678");
    mobile_bad("133\t1234\t5678");
    mobile_bad("++8613312345678");
    mobile_bad("86+13312345678");
}

static void mobile_too_short_rejected(void **st)
{
    (void)st;
    mobile_bad("1331234567");
    mobile_bad("12345");
}

static void mobile_too_long_rejected(void **st)
{
    (void)st;
    mobile_bad("133123456789");
    mobile_bad("1234567890123456789012345678901234567890");
}

static void mobile_no_prefix_foreign_rejected(void **st)
{
    (void)st;
    mobile_bad("447911123456"); /* needs + or 00 */
    mobile_bad("07911123456");
}

static void mobile_empty_missing(void **st)
{
    (void)st;
    char out[CC_MOBILE_MAX + 1];
    struct cc_error e = {0};
    assert_err(cc_validate_mobile("", out, sizeof out, &e), &e, CC_ERR_MISSING_PARAMETER,
               "Mobile");
    assert_err(cc_validate_mobile("  - -  ", out, sizeof out, &e), &e,
               CC_ERR_MISSING_PARAMETER, "Mobile");
    assert_err(cc_validate_mobile(NULL, out, sizeof out, &e), &e, CC_ERR_MISSING_PARAMETER,
               "Mobile");
}

static void mobile_plus_only_rejected(void **st)
{
    (void)st;
    mobile_bad("+");
    mobile_bad("+ -");
}

static void mobile_message_does_not_echo(void **st)
{
    (void)st;
    char out[CC_MOBILE_MAX + 1];
    struct cc_error e = {0};
    cc_validate_mobile("99988877", out, sizeof out, &e);
    assert_null(strstr(e.message, "99988877"));
}

/* ---- ID card -------------------------------------------------------------- */

static void id_known_valid(void **st)
{
    (void)st;
    id_ok("11010519491231002X", "11010519491231002X");
}

static void id_lower_x(void **st)
{
    (void)st;
    id_ok("11010519491231002x", "11010519491231002X");
}

static void id_known_wrong_check(void **st)
{
    (void)st;
    id_bad("110105194912310029", TODAY);
}

static void id_generated_valid(void **st)
{
    (void)st;
    char id[CC_IDCARD_LEN + 1];
    make_id("44030420000229123", id);
    assert_string_equal(id, "440304200002291236");
    id_ok(id, id);
    make_id("31010119000101001", id);
    id_ok(id, id);
}

static void id_every_check_char(void **st)
{
    (void)st;
    /* Vary the sequence digits until each of the 11 check chars occurs. */
    int seen[128] = {0}, distinct = 0;
    for (int seq = 0; seq < 1000 && distinct < 11; seq++) {
        char first[32], id[CC_IDCARD_LEN + 1];
        snprintf(first, sizeof first, "11010519800101%03d", seq);
        make_id(first, id);
        id_ok(id, id);
        if (!seen[(int)id[17]]++)
            distinct++;
    }
    assert_int_equal(distinct, 11);
}

static void id_every_wrong_check_rejected(void **st)
{
    (void)st;
    char id[CC_IDCARD_LEN + 1];
    make_id("11010519800101123", id);
    const char good = id[17];
    const char *all = "0123456789X";
    for (const char *c = all; *c; c++) {
        if (*c == good)
            continue;
        id[17] = *c;
        id_bad(id, TODAY);
    }
}

static void id_surrounding_space(void **st)
{
    (void)st;
    id_ok("  11010519491231002X\n", "11010519491231002X");
}

static void id_all_provinces(void **st)
{
    (void)st;
    static const char *ok[] = {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32",
                               "33", "34", "35", "36", "37", "41", "42", "43", "44", "45",
                               "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
                               "65", "71", "81", "82"};
    char id[CC_IDCARD_LEN + 1];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        id_for(ok[i], "19800101", id);
        id_ok(id, id);
    }
}

static void id_bad_provinces(void **st)
{
    (void)st;
    static const char *bad[] = {"00", "10", "16", "20", "24", "30", "38", "40", "47", "49",
                                "55", "60", "66", "70", "72", "80", "83", "91", "99"};
    char id[CC_IDCARD_LEN + 1];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        id_for(bad[i], "19800101", id);
        id_bad(id, TODAY);
    }
}

static void id_leap_day_valid(void **st)
{
    (void)st;
    char id[CC_IDCARD_LEN + 1];
    id_for("11", "20000229", id); /* divisible by 400 */
    id_ok(id, id);
    id_for("11", "20240229", id);
    id_ok(id, id);
}

static void id_non_leap_day_rejected(void **st)
{
    (void)st;
    char id[CC_IDCARD_LEN + 1];
    id_for("11", "19000229", id); /* divisible by 100, not 400 */
    id_bad(id, TODAY);
    id_for("11", "20230229", id);
    id_bad(id, TODAY);
}

static void id_bad_dates_rejected(void **st)
{
    (void)st;
    static const char *bad[] = {"19801301", "19800001", "19800100", "19800132", "19800431",
                                "19800230", "19801131", "19809999"};
    char id[CC_IDCARD_LEN + 1];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        id_for("11", bad[i], id);
        id_bad(id, TODAY);
    }
}

static void id_month_ends_valid(void **st)
{
    (void)st;
    static const char *ok[] = {"19800131", "19800331", "19800430", "19800630", "19800731",
                               "19800831", "19800930", "19801031", "19801130", "19801231"};
    char id[CC_IDCARD_LEN + 1];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        id_for("11", ok[i], id);
        id_ok(id, id);
    }
}

static void id_year_before_1900_rejected(void **st)
{
    (void)st;
    char id[CC_IDCARD_LEN + 1];
    id_for("11", "18991231", id);
    id_bad(id, TODAY);
    id_for("11", "19000101", id);
    id_ok(id, id);
}

static void id_today_ok_tomorrow_rejected(void **st)
{
    (void)st;
    char id[CC_IDCARD_LEN + 1], out[CC_IDCARD_LEN + 1];
    struct cc_error e = {0};
    id_for("11", "20261125", id);
    assert_int_equal(cc_validate_id_card(id, 20261125, out, sizeof out, &e), CC_OK);
    id_bad(id, 20261124);
    id_for("11", "20261126", id);
    id_bad(id, 20261125);
}

static void id_wrong_length_rejected(void **st)
{
    (void)st;
    id_bad("11010519491231002", TODAY);
    id_bad("11010519491231002XX", TODAY);
    id_bad("110105491231002", TODAY); /* old 15-digit form */
}

static void id_non_digit_rejected(void **st)
{
    (void)st;
    id_bad("1101051949123100AX", TODAY);
    id_bad("X10105194912310020", TODAY);
    id_bad("110105 1949123100X", TODAY);
    id_bad("11010519491231002Y", TODAY);
}

static void id_empty_missing(void **st)
{
    (void)st;
    char out[CC_IDCARD_LEN + 1];
    struct cc_error e = {0};
    assert_err(cc_validate_id_card(" ", TODAY, out, sizeof out, &e), &e,
               CC_ERR_MISSING_PARAMETER, "IdCard");
    assert_err(cc_validate_id_card(NULL, TODAY, out, sizeof out, &e), &e,
               CC_ERR_MISSING_PARAMETER, "IdCard");
}

static void id_message_does_not_echo(void **st)
{
    (void)st;
    char out[CC_IDCARD_LEN + 1];
    struct cc_error e = {0};
    cc_validate_id_card("110105194912310029", TODAY, out, sizeof out, &e);
    assert_null(strstr(e.message, "1101051949"));
}

/* ---- language ------------------------------------------------------------- */

static void lang_en(void **st)
{
    (void)st;
    lang_ok("en", "en");
    lang_ok("EN", "en");
    lang_ok("En", "en");
}

static void lang_zh_cn(void **st)
{
    (void)st;
    lang_ok("zh-CN", "zh-CN");
    lang_ok("zh-cn", "zh-CN");
    lang_ok("ZH-CN", "zh-CN");
}

static void lang_zh_aliases(void **st)
{
    (void)st;
    lang_ok("zh", "zh-CN");
    lang_ok("ZH", "zh-CN");
    lang_ok("zh_CN", "zh-CN");
    lang_ok("zh-Hans", "zh-CN");
    lang_ok("zh-hans", "zh-CN");
}

static void lang_trimmed(void **st)
{
    (void)st;
    lang_ok(" en\n", "en");
}

static void lang_others_rejected(void **st)
{
    (void)st;
    lang_bad("en-US");
    lang_bad("en_GB");
    lang_bad("zh-TW");
    lang_bad("zh-Hant");
    lang_bad("fr");
    lang_bad("english");
    lang_bad("e n");
    lang_bad("zh-CN-x-very-long-tag");
}

static void lang_empty_missing(void **st)
{
    (void)st;
    char out[CC_LANG_MAX + 1];
    struct cc_error e = {0};
    assert_err(cc_validate_language("", out, sizeof out, &e), &e, CC_ERR_MISSING_PARAMETER,
               "Language");
    assert_err(cc_validate_language(NULL, out, sizeof out, &e), &e,
               CC_ERR_MISSING_PARAMETER, "Language");
}

/* ---- webhook URL classification ----------------------------------------------- */

static void url_dingtalk(void **st)
{
    (void)st;
    url_ok(DT "?access_token=abc123DEF", DT "?access_token=abc123DEF", CC_WEBHOOK_DINGTALK);
}

static void url_dingtalk_drops_timestamp_sign(void **st)
{
    (void)st;
    url_ok(DT "?access_token=abc&timestamp=1700000000000"
              "&sign=zrLWzK97t62y5CpqN8Ok9UIdPvX%2BjL1PNoW8nKT5a9k%3D",
           DT "?access_token=abc", CC_WEBHOOK_DINGTALK);
    url_ok(DT "?timestamp=1&sign=x&access_token=abc", DT "?access_token=abc",
           CC_WEBHOOK_DINGTALK);
}

static void url_feishu(void **st)
{
    (void)st;
    url_ok(FS "2f1e5c3a-1234-4bcd-9e8f-0123456789ab", FS "2f1e5c3a-1234-4bcd-9e8f-0123456789ab",
           CC_WEBHOOK_FEISHU);
}

static void url_lark(void **st)
{
    (void)st;
    url_ok(LK "abc-DEF-123", LK "abc-DEF-123", CC_WEBHOOK_LARK);
}

static void url_wecom(void **st)
{
    (void)st;
    url_ok(WC "?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", WC "?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
           CC_WEBHOOK_WECOM);
}

static void url_host_case_insensitive(void **st)
{
    (void)st;
    url_ok("https://OAPI.DingTalk.COM/robot/send?access_token=abc", DT "?access_token=abc",
           CC_WEBHOOK_DINGTALK);
    url_ok("HTTPS://open.FEISHU.cn/open-apis/bot/v2/hook/x", FS "x", CC_WEBHOOK_FEISHU);
}

static void url_port_443_ok(void **st)
{
    (void)st;
    url_ok("https://oapi.dingtalk.com:443/robot/send?access_token=abc", DT "?access_token=abc",
           CC_WEBHOOK_DINGTALK);
}

static void url_surrounding_space_trimmed(void **st)
{
    (void)st;
    url_ok("  " WC "?key=k\n", WC "?key=k", CC_WEBHOOK_WECOM);
}

static void url_token_128_ok_129_rejected(void **st)
{
    (void)st;
    char in[400], want[400], tok[130];
    memset(tok, 'a', 128);
    tok[128] = '\0';
    snprintf(in, sizeof in, FS "%s", tok);
    snprintf(want, sizeof want, FS "%s", tok);
    url_ok(in, want, CC_WEBHOOK_FEISHU);
    snprintf(in, sizeof in, DT "?access_token=%s", tok);
    snprintf(want, sizeof want, DT "?access_token=%s", tok);
    url_ok(in, want, CC_WEBHOOK_DINGTALK);
    tok[128] = 'a', tok[129] = '\0';
    snprintf(in, sizeof in, FS "%s", tok);
    url_bad(in);
    snprintf(in, sizeof in, DT "?access_token=%s", tok);
    url_bad(in);
    snprintf(in, sizeof in, WC "?key=%s", tok);
    url_bad(in);
}

static void url_too_long_rejected(void **st)
{
    (void)st;
    char in[600];
    int n = snprintf(in, sizeof in, DT "?access_token=abc&sign=");
    memset(in + n, 'A', sizeof in - 1 - (size_t)n);
    in[sizeof in - 1] = '\0';
    url_bad(in);
}

static void url_http_rejected(void **st)
{
    (void)st;
    url_bad("http://oapi.dingtalk.com/robot/send?access_token=abc");
    url_bad("ftp://oapi.dingtalk.com/robot/send?access_token=abc");
    url_bad("file:///robot/send");
    url_bad("//oapi.dingtalk.com/robot/send?access_token=abc");
    url_bad("oapi.dingtalk.com/robot/send?access_token=abc");
}

static void url_userinfo_rejected(void **st)
{
    (void)st;
    url_bad("https://user@oapi.dingtalk.com/robot/send?access_token=abc");
    url_bad("https://user:pw@oapi.dingtalk.com/robot/send?access_token=abc");
    url_bad("https://@oapi.dingtalk.com/robot/send?access_token=abc");
    url_bad("https://oapi.dingtalk.com@evil.example/robot/send?access_token=abc");
}

static void url_fragment_rejected(void **st)
{
    (void)st;
    url_bad(DT "?access_token=abc#x");
    url_bad(DT "?access_token=abc#");
    url_bad(FS "abc#frag");
}

static void url_other_ports_rejected(void **st)
{
    (void)st;
    url_bad("https://oapi.dingtalk.com:8443/robot/send?access_token=abc");
    url_bad("https://oapi.dingtalk.com:80/robot/send?access_token=abc");
    url_bad("https://oapi.dingtalk.com:0443/robot/send?access_token=abc");
    url_bad("https://oapi.dingtalk.com:/robot/send?access_token=abc");
}

static void url_lookalike_hosts_rejected(void **st)
{
    (void)st;
    url_bad("https://oapi.dingtalk.com.evil.example/robot/send?access_token=abc");
    url_bad("https://evil-oapi.dingtalk.com/robot/send?access_token=abc");
    url_bad("https://xoapi.dingtalk.com/robot/send?access_token=abc");
    url_bad("https://api.dingtalk.com/robot/send?access_token=abc");
    url_bad("https://open.feishu.cn.evil.example/open-apis/bot/v2/hook/x");
    url_bad("https://open.larksuite.com.cn/open-apis/bot/v2/hook/x");
    url_bad("https://qyapi.weixin.qq.com.evil.example/cgi-bin/webhook/send?key=k");
}

static void url_trailing_dot_host_rejected(void **st)
{
    (void)st;
    url_bad("https://oapi.dingtalk.com./robot/send?access_token=abc");
}

static void url_percent_encoded_host_rejected(void **st)
{
    (void)st;
    url_bad("https://oapi%2edingtalk.com/robot/send?access_token=abc");
    url_bad("https://%6fapi.dingtalk.com/robot/send?access_token=abc");
}

static void url_ip_hosts_rejected(void **st)
{
    (void)st;
    url_bad("https://127.0.0.1/robot/send?access_token=abc");
    url_bad("https://0x7f.1/robot/send?access_token=abc");
    url_bad("https://2130706433/robot/send?access_token=abc");
    url_bad("https://[::1]/robot/send?access_token=abc");
    url_bad("https://[fe80::1%25eth0]/robot/send?access_token=abc");
}

static void url_wrong_path_rejected(void **st)
{
    (void)st;
    url_bad("https://oapi.dingtalk.com/robot/send/?access_token=abc");
    url_bad("https://oapi.dingtalk.com/robot/sendx?access_token=abc");
    url_bad("https://oapi.dingtalk.com/Robot/send?access_token=abc");
    url_bad("https://oapi.dingtalk.com/?access_token=abc");
    url_bad("https://oapi.dingtalk.com?access_token=abc");
    url_bad("https://qyapi.weixin.qq.com/cgi-bin/webhook/send/?key=k");
    url_bad(FS);
    url_bad(FS "abc/");
    url_bad(FS "abc/def");
    url_bad("https://open.feishu.cn/open-apis/bot/v2/hook");
    url_bad("https://open.feishu.cn/open-apis/bot/v1/hook/abc");
}

static void url_platforms_not_mixed(void **st)
{
    (void)st;
    url_bad("https://oapi.dingtalk.com/open-apis/bot/v2/hook/abc");
    url_bad("https://open.feishu.cn/robot/send?access_token=abc");
    url_bad("https://qyapi.weixin.qq.com/robot/send?access_token=abc");
    url_bad("https://oapi.dingtalk.com/cgi-bin/webhook/send?key=abc");
}

static void url_percent_encoded_path_rejected(void **st)
{
    (void)st;
    url_bad("https://oapi.dingtalk.com/robot/%73end?access_token=abc");
    url_bad(FS "ab%2Dcd");
    url_bad(FS "%2e%2e");
}

static void url_dot_segments_rejected(void **st)
{
    (void)st;
    url_bad("https://oapi.dingtalk.com/robot/../robot/send?access_token=abc");
    url_bad("https://oapi.dingtalk.com/./robot/send?access_token=abc");
    url_bad(FS "../hook/abc");
    url_bad("https://open.feishu.cn/open-apis/bot/v2/hook/./abc");
}

static void url_slash_count_rejected(void **st)
{
    (void)st;
    url_bad("https:/oapi.dingtalk.com/robot/send?access_token=abc");
    url_bad("https:///oapi.dingtalk.com/robot/send?access_token=abc");
    url_bad("https:oapi.dingtalk.com/robot/send?access_token=abc");
    url_bad("https://oapi.dingtalk.com//robot/send?access_token=abc");
    url_bad("https://oapi.dingtalk.com\\robot\\send?access_token=abc");
}

static void url_spaces_and_controls_rejected(void **st)
{
    (void)st;
    url_bad("https://oapi.dingtalk.com/robot/send?access_token=a bc");
    url_bad("https://oapi.dingtalk.com/robot/send?access_token=abc\r\nX: y");
    url_bad("https://oapi.dingtalk.com/robot/send\t?access_token=abc");
    url_bad("https://例子.中国/robot/send?access_token=abc");
}

static void url_dingtalk_token_charset(void **st)
{
    (void)st;
    url_bad(DT "?access_token=");
    url_bad(DT "?access_token=ab-c");
    url_bad(DT "?access_token=ab_c");
    url_bad(DT "?access_token=ab%41");
    url_bad(DT "?access_token=ab.c");
}

static void url_dingtalk_missing_token(void **st)
{
    (void)st;
    url_bad(DT);
    url_bad(DT "?");
    url_bad(DT "?timestamp=1&sign=abc");
    url_bad(DT "?access_token");
}

static void url_dingtalk_duplicate_token(void **st)
{
    (void)st;
    url_bad(DT "?access_token=abc&access_token=def");
}

static void url_dingtalk_other_params_rejected(void **st)
{
    (void)st;
    url_bad(DT "?access_token=abc&x=1");
    url_bad(DT "?access_token=abc&key=def");
    url_bad(DT "?Access_Token=abc");
    url_bad(DT "?access_token=abc&");
    url_bad(DT "?access_token=abc&&timestamp=1");
    url_bad(DT "?&access_token=abc");
    url_bad(DT "?access_token=abc&timestamp=12ab");
    url_bad(DT "?access_token=abc&timestamp=1&timestamp=2");
    url_bad(DT "?access_token=abc&sign=");
}

static void url_wecom_key_charset(void **st)
{
    (void)st;
    url_bad(WC "?key=");
    url_bad(WC "?key=ab_c");
    url_bad(WC "?key=a%2Db");
    url_bad(WC);
}

static void url_wecom_other_params_rejected(void **st)
{
    (void)st;
    url_bad(WC "?key=k&debug=1");
    url_bad(WC "?key=k&key=j");
    url_bad(WC "?key=k&timestamp=1");
    url_bad(WC "?access_token=k");
}

static void url_feishu_query_rejected(void **st)
{
    (void)st;
    url_bad(FS "abc?x=1");
    url_bad(FS "abc?");
    url_bad(LK "abc?key=1");
}

static void url_feishu_id_charset(void **st)
{
    (void)st;
    url_bad(FS "ab_c");
    url_bad(FS "ab.c");
    url_bad(FS "ab~c");
}

static void url_empty_missing(void **st)
{
    (void)st;
    char out[CC_URL_MAX + 1];
    enum cc_webhook_kind k;
    struct cc_error e = {0};
    assert_err(cc_webhook_classify(" ", out, sizeof out, &k, &e), &e,
               CC_ERR_MISSING_PARAMETER, "Webhooks");
    assert_err(cc_webhook_classify(NULL, out, sizeof out, &k, &e), &e,
               CC_ERR_MISSING_PARAMETER, "Webhooks");
}

static void url_garbage_rejected(void **st)
{
    (void)st;
    url_bad("not a url");
    url_bad("https://");
    url_bad("https:");
    url_bad("javascript:alert(1)");
    url_bad("https://evil.example/?u=https://oapi.dingtalk.com/robot/send?access_token=abc");
}

static void url_error_names_accepted_forms(void **st)
{
    (void)st;
    char out[CC_URL_MAX + 1];
    enum cc_webhook_kind k;
    struct cc_error e = {0};
    cc_webhook_classify("https://example.com/hook", out, sizeof out, &k, &e);
    assert_non_null(strstr(e.message, "oapi.dingtalk.com/robot/send?access_token="));
    assert_non_null(strstr(e.message, "open.feishu.cn/open-apis/bot/v2/hook/"));
    assert_non_null(strstr(e.message, "open.larksuite.com"));
    assert_non_null(strstr(e.message, "qyapi.weixin.qq.com/cgi-bin/webhook/send?key="));
}

static void url_error_does_not_echo_token(void **st)
{
    (void)st;
    char out[CC_URL_MAX + 1];
    enum cc_webhook_kind k;
    struct cc_error e = {0};
    cc_webhook_classify(DT "?access_token=SECRETTOKEN1&x=1", out, sizeof out, &k, &e);
    assert_null(strstr(e.message, "SECRETTOKEN1"));
}

static void url_canonical_reclassifies(void **st)
{
    (void)st;
    char out[CC_URL_MAX + 1], again[CC_URL_MAX + 1];
    enum cc_webhook_kind k1, k2;
    struct cc_error e = {0};
    assert_int_equal(cc_webhook_classify("HTTPS://OAPI.DINGTALK.COM:443/robot/send?sign=a%3D"
                                         "&access_token=T0k&timestamp=5",
                                         out, sizeof out, &k1, &e),
                     CC_OK);
    assert_int_equal(cc_webhook_classify(out, again, sizeof again, &k2, &e), CC_OK);
    assert_string_equal(out, again);
    assert_int_equal(k1, k2);
}

static void url_null_kind_allowed(void **st)
{
    (void)st;
    char out[CC_URL_MAX + 1];
    struct cc_error e = {0};
    assert_int_equal(cc_webhook_classify(WC "?key=k", out, sizeof out, NULL, &e), CC_OK);
}

static void url_null_err_allowed(void **st)
{
    (void)st;
    char out[CC_URL_MAX + 1];
    enum cc_webhook_kind k;
    assert_int_equal(cc_webhook_classify("http://x", out, sizeof out, &k, NULL),
                     CC_ERR_INCORRECT_FORMAT);
}

/* ---- webhook secrets ---------------------------------------------------------- */

static void secret_dingtalk_ok(void **st)
{
    (void)st;
    secret_ok(CC_WEBHOOK_DINGTALK, "SECtestsecret0123456789");
}

static void secret_dingtalk_needs_sec(void **st)
{
    (void)st;
    secret_bad(CC_WEBHOOK_DINGTALK, "testsecret");
    secret_bad(CC_WEBHOOK_DINGTALK, "secabc");
    secret_bad(CC_WEBHOOK_DINGTALK, "SEC");
}

static void secret_feishu_lark_any_printable(void **st)
{
    (void)st;
    secret_ok(CC_WEBHOOK_FEISHU, "demo");
    secret_ok(CC_WEBHOOK_LARK, "!\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~");
    secret_ok(CC_WEBHOOK_LARK, "x");
}

static void secret_wecom_rejected(void **st)
{
    (void)st;
    struct cc_error e = {0};
    secret_bad(CC_WEBHOOK_WECOM, "anything");
    secret_bad(CC_WEBHOOK_WECOM, "");
    cc_validate_webhook_secret(CC_WEBHOOK_WECOM, "x", &e);
    assert_non_null(strstr(e.message, "WeCom group robots have no signing secret"));
}

static void secret_empty_rejected(void **st)
{
    (void)st;
    secret_bad(CC_WEBHOOK_FEISHU, "");
    secret_bad(CC_WEBHOOK_DINGTALK, NULL);
}

static void secret_length_bounds(void **st)
{
    (void)st;
    char s[CC_SECRET_MAX + 2];
    memset(s, 'a', CC_SECRET_MAX);
    s[CC_SECRET_MAX] = '\0';
    secret_ok(CC_WEBHOOK_LARK, s);
    memcpy(s, "SEC", 3);
    secret_ok(CC_WEBHOOK_DINGTALK, s);
    s[CC_SECRET_MAX] = 'a', s[CC_SECRET_MAX + 1] = '\0';
    secret_bad(CC_WEBHOOK_DINGTALK, s);
    secret_bad(CC_WEBHOOK_LARK, s);
}

static void secret_non_printable_rejected(void **st)
{
    (void)st;
    secret_bad(CC_WEBHOOK_FEISHU, "has space");
    secret_bad(CC_WEBHOOK_FEISHU, "tab\there");
    secret_bad(CC_WEBHOOK_FEISHU, "del\x7f");
    secret_bad(CC_WEBHOOK_FEISHU, "caf\xC3\xA9");
    secret_bad(CC_WEBHOOK_DINGTALK, "SECabc\n");
}

static void secret_unknown_kind_rejected(void **st)
{
    (void)st;
    secret_bad(CC_WEBHOOK_NONE, "SECabc");
    secret_bad((enum cc_webhook_kind)99, "SECabc");
}

static void secret_message_does_not_echo(void **st)
{
    (void)st;
    struct cc_error e = {0};
    cc_validate_webhook_secret(CC_WEBHOOK_DINGTALK, "notSECsecretvalue", &e);
    assert_null(strstr(e.message, "secretvalue"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_ascii_valid),
        cmocka_unit_test(utf8_empty_valid),
        cmocka_unit_test(utf8_multibyte_valid),
        cmocka_unit_test(utf8_boundaries_valid),
        cmocka_unit_test(utf8_overlong_rejected),
        cmocka_unit_test(utf8_surrogates_rejected),
        cmocka_unit_test(utf8_above_max_rejected),
        cmocka_unit_test(utf8_truncated_rejected),
        cmocka_unit_test(utf8_stray_continuation_rejected),
        cmocka_unit_test(utf8_bad_continuation_rejected),
        cmocka_unit_test(utf8_nul_inside_rejected),
        cmocka_unit_test(utf8_blocks),
        cmocka_unit_test(utf8_len_counts_code_points),

        cmocka_unit_test(name_plain),
        cmocka_unit_test(name_chinese),
        cmocka_unit_test(name_other_scripts),
        cmocka_unit_test(name_trims_ascii_space),
        cmocka_unit_test(name_trims_ideographic_space),
        cmocka_unit_test(name_keeps_inner_spaces),
        cmocka_unit_test(name_empty_missing),
        cmocka_unit_test(name_whitespace_only_missing),
        cmocka_unit_test(name_null_missing),
        cmocka_unit_test(name_invisible_format_refused),
        cmocka_unit_test(name_64_chars_ok),
        cmocka_unit_test(name_65_chars_rejected),
        cmocka_unit_test(name_64_four_byte_chars_ok),
        cmocka_unit_test(name_very_long_rejected),
        cmocka_unit_test(name_invalid_utf8_rejected),
        cmocka_unit_test(name_tab_inside_rejected),
        cmocka_unit_test(name_newline_inside_rejected),
        cmocka_unit_test(name_c0_rejected),
        cmocka_unit_test(name_del_rejected),
        cmocka_unit_test(name_c1_rejected),

        cmocka_unit_test(email_plain),
        cmocka_unit_test(email_case_kept_in_local),
        cmocka_unit_test(email_trims_space),
        cmocka_unit_test(email_atext_specials),
        cmocka_unit_test(email_plus_tag),
        cmocka_unit_test(email_idn_chinese),
        cmocka_unit_test(email_idn_latin),
        cmocka_unit_test(email_punycode),
        cmocka_unit_test(email_hyphen_inside_label),
        cmocka_unit_test(email_digits_label_ok),
        cmocka_unit_test(email_empty_missing),
        cmocka_unit_test(email_no_at),
        cmocka_unit_test(email_two_at),
        cmocka_unit_test(email_message_is_readable),
        cmocka_unit_test(email_empty_local),
        cmocka_unit_test(email_empty_domain),
        cmocka_unit_test(email_single_label_domain),
        cmocka_unit_test(email_local_leading_dot),
        cmocka_unit_test(email_local_trailing_dot),
        cmocka_unit_test(email_local_double_dot),
        cmocka_unit_test(email_quoted_local_rejected),
        cmocka_unit_test(email_local_bad_chars),
        cmocka_unit_test(email_local_non_ascii_rejected),
        cmocka_unit_test(email_local_64_ok),
        cmocka_unit_test(email_local_65_rejected),
        cmocka_unit_test(email_254_ok),
        cmocka_unit_test(email_255_rejected),
        cmocka_unit_test(email_label_63_ok_64_rejected),
        cmocka_unit_test(email_label_hyphen_edges),
        cmocka_unit_test(email_empty_label),
        cmocka_unit_test(email_domain_punctuation),
        cmocka_unit_test(email_domain_control),
        cmocka_unit_test(email_domain_unicode_spaces),
        cmocka_unit_test(email_domain_fullwidth_dot),
        cmocka_unit_test(email_domain_invalid_utf8),
        cmocka_unit_test(email_numeric_tld),
        cmocka_unit_test(email_ip_literal),
        cmocka_unit_test(email_inner_space),

        cmocka_unit_test(mobile_bare_mainland),
        cmocka_unit_test(mobile_plus86),
        cmocka_unit_test(mobile_plus86_spaced),
        cmocka_unit_test(mobile_0086),
        cmocka_unit_test(mobile_86_prefix),
        cmocka_unit_test(mobile_hyphens),
        cmocka_unit_test(mobile_surrounding_space),
        cmocka_unit_test(mobile_mainland_second_digit),
        cmocka_unit_test(mobile_plus86_not_mobile_rejected),
        cmocka_unit_test(mobile_international_plus),
        cmocka_unit_test(mobile_international_00),
        cmocka_unit_test(mobile_e164_length_bounds),
        cmocka_unit_test(mobile_plus_zero_rejected),
        cmocka_unit_test(mobile_letters_rejected),
        cmocka_unit_test(mobile_punctuation_rejected),
        cmocka_unit_test(mobile_too_short_rejected),
        cmocka_unit_test(mobile_too_long_rejected),
        cmocka_unit_test(mobile_no_prefix_foreign_rejected),
        cmocka_unit_test(mobile_empty_missing),
        cmocka_unit_test(mobile_plus_only_rejected),
        cmocka_unit_test(mobile_message_does_not_echo),

        cmocka_unit_test(id_known_valid),
        cmocka_unit_test(id_lower_x),
        cmocka_unit_test(id_known_wrong_check),
        cmocka_unit_test(id_generated_valid),
        cmocka_unit_test(id_every_check_char),
        cmocka_unit_test(id_every_wrong_check_rejected),
        cmocka_unit_test(id_surrounding_space),
        cmocka_unit_test(id_all_provinces),
        cmocka_unit_test(id_bad_provinces),
        cmocka_unit_test(id_leap_day_valid),
        cmocka_unit_test(id_non_leap_day_rejected),
        cmocka_unit_test(id_bad_dates_rejected),
        cmocka_unit_test(id_month_ends_valid),
        cmocka_unit_test(id_year_before_1900_rejected),
        cmocka_unit_test(id_today_ok_tomorrow_rejected),
        cmocka_unit_test(id_wrong_length_rejected),
        cmocka_unit_test(id_non_digit_rejected),
        cmocka_unit_test(id_empty_missing),
        cmocka_unit_test(id_message_does_not_echo),

        cmocka_unit_test(lang_en),
        cmocka_unit_test(lang_zh_cn),
        cmocka_unit_test(lang_zh_aliases),
        cmocka_unit_test(lang_trimmed),
        cmocka_unit_test(lang_others_rejected),
        cmocka_unit_test(lang_empty_missing),

        cmocka_unit_test(url_dingtalk),
        cmocka_unit_test(url_dingtalk_drops_timestamp_sign),
        cmocka_unit_test(url_feishu),
        cmocka_unit_test(url_lark),
        cmocka_unit_test(url_wecom),
        cmocka_unit_test(url_host_case_insensitive),
        cmocka_unit_test(url_port_443_ok),
        cmocka_unit_test(url_surrounding_space_trimmed),
        cmocka_unit_test(url_token_128_ok_129_rejected),
        cmocka_unit_test(url_too_long_rejected),
        cmocka_unit_test(url_http_rejected),
        cmocka_unit_test(url_userinfo_rejected),
        cmocka_unit_test(url_fragment_rejected),
        cmocka_unit_test(url_other_ports_rejected),
        cmocka_unit_test(url_lookalike_hosts_rejected),
        cmocka_unit_test(url_trailing_dot_host_rejected),
        cmocka_unit_test(url_percent_encoded_host_rejected),
        cmocka_unit_test(url_ip_hosts_rejected),
        cmocka_unit_test(url_wrong_path_rejected),
        cmocka_unit_test(url_platforms_not_mixed),
        cmocka_unit_test(url_percent_encoded_path_rejected),
        cmocka_unit_test(url_dot_segments_rejected),
        cmocka_unit_test(url_slash_count_rejected),
        cmocka_unit_test(url_spaces_and_controls_rejected),
        cmocka_unit_test(url_dingtalk_token_charset),
        cmocka_unit_test(url_dingtalk_missing_token),
        cmocka_unit_test(url_dingtalk_duplicate_token),
        cmocka_unit_test(url_dingtalk_other_params_rejected),
        cmocka_unit_test(url_wecom_key_charset),
        cmocka_unit_test(url_wecom_other_params_rejected),
        cmocka_unit_test(url_feishu_query_rejected),
        cmocka_unit_test(url_feishu_id_charset),
        cmocka_unit_test(url_empty_missing),
        cmocka_unit_test(url_garbage_rejected),
        cmocka_unit_test(url_error_names_accepted_forms),
        cmocka_unit_test(url_error_does_not_echo_token),
        cmocka_unit_test(url_canonical_reclassifies),
        cmocka_unit_test(url_null_kind_allowed),
        cmocka_unit_test(url_null_err_allowed),

        cmocka_unit_test(secret_dingtalk_ok),
        cmocka_unit_test(secret_dingtalk_needs_sec),
        cmocka_unit_test(secret_feishu_lark_any_printable),
        cmocka_unit_test(secret_wecom_rejected),
        cmocka_unit_test(secret_empty_rejected),
        cmocka_unit_test(secret_length_bounds),
        cmocka_unit_test(secret_non_printable_rejected),
        cmocka_unit_test(secret_unknown_kind_rejected),
        cmocka_unit_test(secret_message_does_not_echo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
