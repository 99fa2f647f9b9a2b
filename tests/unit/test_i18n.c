/*
 * test_i18n.c — unit tests of the message catalog (core/i18n.c and the
 * table generated from po/zh_CN.po): every error has a Chinese name, an
 * error carries its message in both languages, a stored English reason is
 * read back into Chinese with its values, counting messages, and the
 * language of an Accept-Language header.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "core/i18n_table.h"
#include "util/util.h"

/* 1 when s holds a CJK ideograph (U+4E00..U+9FFF: E4..E9 lead bytes). */
static int has_han(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p >= 0xE4 && *p <= 0xE9 && (p[1] & 0xC0) == 0x80)
            return 1;
    return 0;
}

static void every_error_has_a_chinese_name(void **st)
{
    (void)st;
    for (int c = 0; c < CC_ERR_COUNT; c++) {
        const char *en = cc_strerror((enum cc_err)c);
        const char *zh = cc_tr("zh-CN", en);
        if (zh == en || !has_han(zh))
            fail_msg("error %d (\"%s\") has no Simplified Chinese", c, en);
        assert_ptr_equal(cc_tr("en", en), en);
    }
}

static void error_carries_both_languages(void **st)
{
    (void)st;
    struct cc_error e;
    cc_error_set(&e, CC_ERR_UNAUTHENTICATED, NULL, "%s",
                 "The session has ended; sign in again.");
    assert_string_equal(e.message, "The session has ended; sign in again.");
    assert_true(has_han(e.message_zh));
    assert_string_equal(cc_error_message(&e, "zh-CN"), e.message_zh);
    assert_string_equal(cc_error_message(&e, "en"), e.message);
    assert_string_equal(cc_error_message(&e, NULL), e.message);
    /* a message nobody translated reads English in both */
    cc_error_set(&e, CC_ERR_INTERNAL, NULL, "no catalog entry %d", 7);
    assert_string_equal(e.message_zh, "");
    assert_string_equal(cc_error_message(&e, "zh-CN"), "no catalog entry 7");
}

/* Every entry's printf conversions, in order, are those of its English:
 * formatting the Chinese with the English's values is then defined. */
static void conversions(const char *s, char *out, size_t outsz)
{
    size_t o = 0;
    for (; *s && o + 2 < outsz; s++) {
        if (*s != '%')
            continue;
        s++;
        if (*s == '%')
            continue;
        while (*s && !strchr("sdiuxXcfgeplz", *s))
            s++;
        while (*s == 'l' || *s == 'z')
            out[o++] = *s++;
        if (*s)
            out[o++] = *s;
        if (!*s)
            break;
    }
    out[o] = '\0';
}

static void every_entry_keeps_its_conversions(void **st)
{
    (void)st;
    assert_true(cc_catalog_zh_count > 100);
    for (size_t i = 0; i < cc_catalog_zh_count; i++) {
        char a[32], b[32];
        conversions(cc_catalog_zh[i].msgid, a, sizeof a);
        conversions(cc_catalog_zh[i].msgstr, b, sizeof b);
        if (strcmp(a, b) != 0)
            fail_msg("\"%s\": conversions %s in English, %s in Chinese", cc_catalog_zh[i].msgid,
                     a, b);
    }
}

static void stored_reason_reads_back_with_its_values(void **st)
{
    (void)st;
    char out[512];
    /* a reason with a reason inside it: both in Chinese */
    assert_int_equal(cc_tr_text("zh-CN",
                                "waiting: rate limited by the platform (the contact was deleted)",
                                out, sizeof out),
                     1);
    assert_true(has_han(out));
    assert_null(strstr(out, "waiting"));
    assert_null(strstr(out, "the contact was deleted"));
    /* numbers keep their value */
    assert_int_equal(cc_tr_text("zh-CN",
                                "gave up after 3600 s: rate limited by the platform (x)", out,
                                sizeof out),
                     1);
    assert_non_null(strstr(out, "3600"));
    assert_true(has_han(out));
    /* a robot's verdict with the platform's own words after it */
    assert_int_equal(cc_tr_text("zh-CN",
                                "signature rejected: check the robot's signing secret "
                                "(DingTalk 310000: sign not match)",
                                out, sizeof out),
                     1);
    assert_true(has_han(out));
    assert_non_null(strstr(out, "(DingTalk 310000: sign not match)"));
    assert_null(strstr(out, "signature rejected"));
    /* English asked for, or nothing matches: the text as it is */
    assert_int_equal(cc_tr_text("en", "the contact was deleted", out, sizeof out), 0);
    assert_string_equal(out, "the contact was deleted");
    assert_int_equal(cc_tr_text("zh-CN", "zq: no such message at all", out, sizeof out), 0);
    assert_string_equal(out, "zq: no such message at all");
    /* truncated to fit, never past the buffer */
    char small[8];
    cc_tr_text("zh-CN", "the contact was deleted", small, sizeof small);
    assert_true(strlen(small) < sizeof small);
}

static void counting_messages(void **st)
{
    (void)st;
    const struct cc_catalog_entry *plural = NULL;
    for (size_t i = 0; i < cc_catalog_zh_count && !plural; i++)
        if (cc_catalog_zh[i].msgid_plural)
            plural = &cc_catalog_zh[i];
    assert_non_null(plural); /* the wrong-code message counts attempts */
    assert_ptr_equal(cc_trn("en", plural->msgid, plural->msgid_plural, 1), plural->msgid);
    assert_ptr_equal(cc_trn("en", plural->msgid, plural->msgid_plural, 2), plural->msgid_plural);
    assert_ptr_equal(cc_trn("en", plural->msgid, plural->msgid_plural, 0), plural->msgid_plural);
    assert_ptr_equal(cc_trn("zh-CN", plural->msgid, plural->msgid_plural, 5), plural->msgstr);
}

/* A value that is a message of its own reads in Chinese inside the
 * translation; numbers keep their value and width. */
static int vformat(char *out, size_t outsz, const char *fmt, const char *tr, ...)
{
    va_list ap;
    va_start(ap, tr);
    int r = cc_tr_vformat(out, outsz, fmt, tr, ap);
    va_end(ap);
    return r;
}

static void translation_takes_the_english_values(void **st)
{
    (void)st;
    char out[256];
    assert_int_equal(vformat(out, sizeof out, "%s after %lld s (%05d) %zu %c %.3s", "[%s|%lld|%05d|%zu|%c|%.3s]",
                             "the contact was deleted", 42LL, 7, (size_t)9, 'x', "abcdef"),
                     1);
    char want[256];
    snprintf(want, sizeof want, "[%s|42|00007|9|x|abc]", cc_tr("zh-CN", "the contact was deleted"));
    assert_string_equal(out, want);
    /* positions in the translation */
    assert_int_equal(vformat(out, sizeof out, "%s then %d", "%2$d 然后 %1$s", "a", 5), 1);
    assert_string_equal(out, "5 然后 a");
    /* a translation whose conversions differ is refused, never guessed at */
    assert_int_equal(vformat(out, sizeof out, "%d items", "%s 项", 5), 0);
    assert_string_equal(out, "");
    assert_int_equal(vformat(out, sizeof out, "%.*s", "%.*s", 2, "abc"), 0);
    assert_int_equal(vformat(out, sizeof out, "%.4s!", "%s！", "abcdefgh"), 0);
    /* too small a buffer: cut, terminated */
    char small[6];
    assert_int_equal(vformat(small, sizeof small, "%d", "第 %d 个", 123456), 1);
    assert_true(strlen(small) < sizeof small);
    /* never half a character */
    assert_int_equal(vformat(small, sizeof small, "%d", "第第 %d", 1), 1);
    assert_string_equal(small, "第");
    assert_true(cc_utf8_valid(small, strlen(small)));
}

static void accept_language(void **st)
{
    (void)st;
    assert_string_equal(cc_lang_from_accept(NULL), "en");
    assert_string_equal(cc_lang_from_accept(""), "en");
    assert_string_equal(cc_lang_from_accept("zh-CN"), "zh-CN");
    assert_string_equal(cc_lang_from_accept("zh"), "zh-CN");
    assert_string_equal(cc_lang_from_accept("zh-Hans-CN;q=0.9"), "zh-CN");
    assert_string_equal(cc_lang_from_accept("zh-CN,zh;q=0.9,en;q=0.8"), "zh-CN");
    assert_string_equal(cc_lang_from_accept("en-US,en;q=0.9,zh-CN;q=0.8"), "en");
    assert_string_equal(cc_lang_from_accept("en;q=0.5, zh;q=0.7"), "zh-CN");
    assert_string_equal(cc_lang_from_accept("fr-FR,de"), "en");
    assert_string_equal(cc_lang_from_accept("zh;q=0"), "en");
    assert_string_equal(cc_lang_from_accept("*;q=0.9, zh;q=0.5"), "en");
    assert_string_equal(cc_lang_from_accept("zhx,en"), "en");
    assert_string_equal(cc_lang_from_accept(",,;;=q,zh-TW"), "zh-CN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_error_has_a_chinese_name),
        cmocka_unit_test(error_carries_both_languages),
        cmocka_unit_test(every_entry_keeps_its_conversions),
        cmocka_unit_test(stored_reason_reads_back_with_its_values),
        cmocka_unit_test(counting_messages),
        cmocka_unit_test(translation_takes_the_english_values),
        cmocka_unit_test(accept_language),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
