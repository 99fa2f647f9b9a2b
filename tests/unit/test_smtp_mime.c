/* test_smtp_mime.c — the email headers smtp.c builds: sender parsing, RFC
 * 2047 encoding of non-ASCII subjects and names, folding of long subjects,
 * header injection, Date and Message-ID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

/* 2023-11-14T22:13:20Z, a Tuesday */
#define NOW 1700000000

static void parse_address_forms(void **state)
{
    (void)state;
    char name[64], addr[64];
    assert_int_equal(cc_smtp_parse_address("certcontacts <noreply@example.com>", name,
                                           sizeof name, addr, sizeof addr),
                     0);
    assert_string_equal(name, "certcontacts");
    assert_string_equal(addr, "noreply@example.com");

    assert_int_equal(cc_smtp_parse_address("  noreply@example.com ", name, sizeof name, addr,
                                           sizeof addr),
                     0);
    assert_string_equal(name, "");
    assert_string_equal(addr, "noreply@example.com");

    assert_int_equal(cc_smtp_parse_address("\"Ops, \\\"night\\\" team\" <ops@example.com>", name,
                                           sizeof name, addr, sizeof addr),
                     0);
    assert_string_equal(name, "Ops, \"night\" team");
    assert_string_equal(addr, "ops@example.com");

    assert_int_equal(
        cc_smtp_parse_address("证书通知 <a@b.cn>", name, sizeof name, addr, sizeof addr), 0);
    assert_string_equal(name, "证书通知");

    assert_int_equal(cc_smtp_parse_address("<a@b.cn>", name, sizeof name, addr, sizeof addr), 0);
    assert_string_equal(name, "");
    assert_string_equal(addr, "a@b.cn");
}

static void parse_address_rejects(void **state)
{
    (void)state;
    char name[64], addr[64];
    const char *bad[] = {
        "",           "noreply",         "a b@example.com",         "Name <a@b.cn",
        "Name <>",    "<a@b.cn> junk",   "a@b.cn\r\nBcc: x@y.z",   "@example.com",
        "noreply@",   "Name <a<b@c.d>",  "x@y.z>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(cc_smtp_parse_address(bad[i], name, sizeof name, addr, sizeof addr), -1);
    /* too long for the output buffer */
    assert_int_equal(cc_smtp_parse_address("abcdefgh@example.com", name, sizeof name, addr, 8),
                     -1);
}

/* Builds the headers of one message; the caller frees b. */
static void build(const char *from, const char *to, const char *to_name, const char *subject,
                  struct cc_buf *b, char *mail_from, size_t mfsz)
{
    struct cc_email m = {to, to_name, subject, "text", "<p>html</p>"};
    char err[128];
    cc_buf_init(b, 16384);
    assert_int_equal(cc_smtp_build_headers(from, &m, NOW, b, mail_from, mfsz, err, sizeof err), 0);
}

/* The header's value, unfolded (CRLF before white space removed), into out. */
static void header_value(const char *block, const char *name, char *out, size_t outsz)
{
    char key[64];
    snprintf(key, sizeof key, "%s: ", name);
    const char *p = block;
    while (p && strncmp(p, key, strlen(key)))
        p = (p = strstr(p, "\r\n")) ? p + 2 : NULL;
    assert_non_null(p);
    p += strlen(key);
    size_t j = 0;
    while (*p && j + 1 < outsz) {
        if (p[0] == '\r' && p[1] == '\n') {
            if (p[2] != ' ' && p[2] != '\t')
                break;
            p += 2;
            continue;
        }
        out[j++] = *p++;
    }
    out[j] = '\0';
}

/* Decodes a run of "=?UTF-8?B?...?=" words separated by single spaces, as a
 * mail reader would (the space between two encoded words is dropped), and
 * checks that no word ends inside a UTF-8 sequence. */
static void decode_words(const char *v, char *out, size_t outsz)
{
    size_t o = 0;
    while (*v) {
        assert_memory_equal(v, "=?UTF-8?B?", 10);
        const char *s = v + 10, *e = strstr(s, "?=");
        assert_non_null(e);
        assert_true(e + 2 - v <= 75);
        uint8_t tmp[128];
        long n = cc_base64_decode(s, (size_t)(e - s), tmp, sizeof tmp);
        assert_true(n > 0);
        /* the last byte of a word is never a UTF-8 lead or mid-sequence byte
         * unless the sequence is complete: check by counting back */
        size_t k = (size_t)n, back = 0;
        while (k && (tmp[k - 1] & 0xC0) == 0x80) {
            k--;
            back++;
        }
        if (k && tmp[k - 1] >= 0xC0) {
            size_t need = tmp[k - 1] >= 0xF0 ? 3 : tmp[k - 1] >= 0xE0 ? 2 : 1;
            assert_int_equal(back, need);
        }
        assert_true(o + (size_t)n < outsz);
        memcpy(out + o, tmp, (size_t)n);
        o += (size_t)n;
        v = e + 2;
        if (*v == ' ')
            v++;
    }
    out[o] = '\0';
}

/* Every physical line of the block is at most max characters. */
static void assert_lines_within(const char *block, size_t max)
{
    const char *p = block;
    while (*p) {
        const char *e = strstr(p, "\r\n");
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > max)
            fail_msg("line of %zu characters: %.*s", n, (int)n, p);
        p += n + (e ? 2 : 0);
    }
}

static void ascii_headers(void **state)
{
    (void)state;
    struct cc_buf b;
    char mf[64], v[512];
    build("certcontacts <noreply@example.com>", "zhang@example.com", "Zhang San",
          "Your verification code", &b, mf, sizeof mf);
    assert_string_equal(mf, "noreply@example.com");
    assert_non_null(strstr(b.data, "From: certcontacts <noreply@example.com>\r\n"));
    assert_non_null(strstr(b.data, "To: Zhang San <zhang@example.com>\r\n"));
    assert_non_null(strstr(b.data, "Subject: Your verification code\r\n"));
    assert_non_null(strstr(b.data, "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
    assert_non_null(strstr(b.data, "MIME-Version: 1.0\r\n"));
    header_value(b.data, "Message-ID", v, sizeof v);
    assert_int_equal(v[0], '<');
    assert_non_null(strstr(v, "@example.com>"));
    assert_true(strlen(v) > 20);
    /* the block ends with CRLF and has no blank line (the body separator) */
    assert_memory_equal(b.data + b.len - 2, "\r\n", 2);
    assert_null(strstr(b.data, "\r\n\r\n"));
    cc_buf_free(&b);
}

static void message_ids_differ(void **state)
{
    (void)state;
    struct cc_buf a, b;
    char mf[64], va[256], vb[256];
    build("noreply@example.com", "x@example.com", NULL, "s", &a, mf, sizeof mf);
    build("noreply@example.com", "x@example.com", NULL, "s", &b, mf, sizeof mf);
    header_value(a.data, "Message-ID", va, sizeof va);
    header_value(b.data, "Message-ID", vb, sizeof vb);
    assert_string_not_equal(va, vb);
    /* a bare sender and no recipient name: bare addresses */
    assert_non_null(strstr(a.data, "From: noreply@example.com\r\n"));
    assert_non_null(strstr(a.data, "To: x@example.com\r\n"));
    cc_buf_free(&a);
    cc_buf_free(&b);
}

static void non_ascii_subject_and_names(void **state)
{
    (void)state;
    struct cc_buf b;
    char mf[64], v[1024], d[1024];
    build("证书通知 <noreply@example.cn>", "zhang@example.cn", "张三", "验证码：123456", &b, mf,
          sizeof mf);
    header_value(b.data, "Subject", v, sizeof v);
    decode_words(v, d, sizeof d);
    assert_string_equal(d, "验证码：123456");
    header_value(b.data, "To", v, sizeof v);
    assert_string_equal(v, "=?UTF-8?B?5byg5LiJ?= <zhang@example.cn>");
    header_value(b.data, "From", v, sizeof v);
    char *lt = strstr(v, " <noreply@example.cn>");
    assert_non_null(lt);
    *lt = '\0';
    decode_words(v, d, sizeof d);
    assert_string_equal(d, "证书通知");
    /* nothing but ASCII goes on the wire */
    for (size_t i = 0; i < b.len; i++)
        assert_true((unsigned char)b.data[i] < 0x80);
    cc_buf_free(&b);
}

static void specials_in_names_are_quoted(void **state)
{
    (void)state;
    struct cc_buf b;
    char mf[64];
    build("\"Ops \\\"Night\\\" Team\" <ops@example.com>", "x@example.com", "Zhang, San (ops)",
          "s", &b, mf, sizeof mf);
    assert_non_null(strstr(b.data, "From: \"Ops \\\"Night\\\" Team\" <ops@example.com>\r\n"));
    assert_non_null(strstr(b.data, "To: \"Zhang, San (ops)\" <x@example.com>\r\n"));
    cc_buf_free(&b);
}

static void long_ascii_subject_is_folded(void **state)
{
    (void)state;
    const char *subject =
        "Verify your email address for certificate expiry notices from certcontacts: "
        "the code lasts ten minutes and can be used once, ignore this message if unexpected";
    struct cc_buf b;
    char mf[64], v[1024];
    build("noreply@example.com", "x@example.com", NULL, subject, &b, mf, sizeof mf);
    assert_lines_within(b.data, 78);
    assert_non_null(strstr(b.data, "\r\n "));
    header_value(b.data, "Subject", v, sizeof v);
    assert_string_equal(v, subject);
    cc_buf_free(&b);
}

static void long_utf8_subject_is_split_into_words(void **state)
{
    (void)state;
    /* 3-byte characters with ASCII in between, so that word boundaries fall
     * at every offset inside a character at least once */
    char subject[700] = "";
    size_t len = 0;
    for (int i = 0; i < 20; i++)
        len += (size_t)snprintf(subject + len, sizeof subject - len, "证书到期提醒%s",
                                i % 3 ? "a" : "bc");
    assert_true(len < sizeof subject);
    struct cc_buf b;
    char mf[64], v[2048], d[1024];
    build("noreply@example.com", "x@example.com", "名字很长的联系人名字很长的联系人名字很长的联系人名字很长的联系人",
          subject, &b, mf, sizeof mf);
    assert_lines_within(b.data, 76);
    header_value(b.data, "Subject", v, sizeof v);
    decode_words(v, d, sizeof d);
    assert_string_equal(d, subject);
    header_value(b.data, "To", v, sizeof v);
    char *lt = strstr(v, " <x@example.com>");
    assert_non_null(lt);
    *lt = '\0';
    decode_words(v, d, sizeof d);
    assert_string_equal(d, "名字很长的联系人名字很长的联系人名字很长的联系人名字很长的联系人");
    cc_buf_free(&b);
}

static void header_injection_is_encoded(void **state)
{
    (void)state;
    struct cc_buf b;
    char mf[64], v[512], d[512];
    build("noreply@example.com", "x@example.com", "Eve\r\nBcc: victim@example.com",
          "Hi\r\nBcc: victim@example.com", &b, mf, sizeof mf);
    assert_null(strstr(b.data, "\r\nBcc:"));
    header_value(b.data, "Subject", v, sizeof v);
    decode_words(v, d, sizeof d);
    assert_string_equal(d, "Hi\r\nBcc: victim@example.com");
    /* "=?" in plain text would be read as an encoded word: it is encoded */
    cc_buf_free(&b);
    build("noreply@example.com", "x@example.com", NULL, "=?UTF-8?B?eA==?=", &b, mf, sizeof mf);
    header_value(b.data, "Subject", v, sizeof v);
    decode_words(v, d, sizeof d);
    assert_string_equal(d, "=?UTF-8?B?eA==?=");
    cc_buf_free(&b);
}

static void bad_addresses_fail(void **state)
{
    (void)state;
    struct cc_buf b;
    char mf[64], err[128];
    struct cc_email m = {"not an address", NULL, "s", "t", "h"};
    cc_buf_init(&b, 16384);
    assert_int_equal(cc_smtp_build_headers("noreply@example.com", &m, NOW, &b, mf, sizeof mf, err,
                                           sizeof err),
                     -1);
    assert_non_null(strstr(err, "recipient"));
    m.to = "x@example.com";
    assert_int_equal(
        cc_smtp_build_headers("nobody", &m, NOW, &b, mf, sizeof mf, err, sizeof err), -1);
    assert_non_null(strstr(err, "smtp_from"));
    cc_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_address_forms),
        cmocka_unit_test(parse_address_rejects),
        cmocka_unit_test(ascii_headers),
        cmocka_unit_test(message_ids_differ),
        cmocka_unit_test(non_ascii_subject_and_names),
        cmocka_unit_test(specials_in_names_are_quoted),
        cmocka_unit_test(long_ascii_subject_is_folded),
        cmocka_unit_test(long_utf8_subject_is_split_into_words),
        cmocka_unit_test(header_injection_is_encoded),
        cmocka_unit_test(bad_addresses_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
