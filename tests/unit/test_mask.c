/*
 * test_mask.c — unit tests of core/mask.c: masked mobile numbers, email
 * addresses, ID card numbers and webhook URLs, including inputs that are not
 * in the normalised form (they must come out as "****") and output buffers
 * smaller than documented (always NUL-terminated, never overrun).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "util/util.h"

typedef void (*mask_fn)(const char *, char *, size_t);

static void masks_to(mask_fn f, const char *in, const char *want)
{
    char out[CC_URL_MAX + 1];
    memset(out, 'Z', sizeof out);
    f(in, out, sizeof out);
    assert_string_equal(out, want);
}

#define DT "https://oapi.dingtalk.com/robot/send?access_token="
#define FS "https://open.feishu.cn/open-apis/bot/v2/hook/"
#define LK "https://open.larksuite.com/open-apis/bot/v2/hook/"
#define WC "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key="

/* ---- mobile ---------------------------------------------------------------- */

static void mobile_mainland(void **st)
{
    (void)st;
    masks_to(cc_mask_mobile, "+8613312345678", "+86 133****5678");
}

static void mobile_international(void **st)
{
    (void)st;
    masks_to(cc_mask_mobile, "+447911123456", "+44 79****3456");
}

static void mobile_international_long(void **st)
{
    (void)st;
    masks_to(cc_mask_mobile, "+123456789012345", "+12 34****2345");
}

static void mobile_international_short(void **st)
{
    (void)st;
    masks_to(cc_mask_mobile, "+85291234567", "+85 ****"); /* 11 digits */
    masks_to(cc_mask_mobile, "+12345678", "+12 ****");    /* 8 digits */
}

static void mobile_twelve_digits_hides_four(void **st)
{
    (void)st;
    masks_to(cc_mask_mobile, "+123456789012", "+12 34****9012");
}

static void mobile_unnormalised(void **st)
{
    (void)st;
    masks_to(cc_mask_mobile, "13312345678", "****");
    masks_to(cc_mask_mobile, "+86 133 1234 5678", "****");
    masks_to(cc_mask_mobile, "0086 13312345678", "****");
    masks_to(cc_mask_mobile, "+86133123456789", "****");
    masks_to(cc_mask_mobile, "+861331234567", "****");
}

static void mobile_garbage(void **st)
{
    (void)st;
    masks_to(cc_mask_mobile, "", "****");
    masks_to(cc_mask_mobile, "+", "****");
    masks_to(cc_mask_mobile, "+1234567", "****");
    masks_to(cc_mask_mobile, "+1234567890123456", "****");
    masks_to(cc_mask_mobile, "+044791112345", "****");
    masks_to(cc_mask_mobile, "+44791112345a", "****");
    masks_to(cc_mask_mobile, "<script>alert(1)</script>", "****");
    masks_to(cc_mask_mobile, NULL, "****");
}

/* ---- email ----------------------------------------------------------------- */

static void email_long_local(void **st)
{
    (void)st;
    masks_to(cc_mask_email, "zhangsan@example.com", "zh****n@example.com");
}

static void email_four_char_local(void **st)
{
    (void)st;
    masks_to(cc_mask_email, "abcd@example.com", "ab****d@example.com");
}

static void email_short_locals(void **st)
{
    (void)st;
    masks_to(cc_mask_email, "a@example.com", "a****@example.com");
    masks_to(cc_mask_email, "ab@example.com", "a****@example.com");
    masks_to(cc_mask_email, "abc@example.com", "a****@example.com");
}

static void email_domain_as_is(void **st)
{
    (void)st;
    masks_to(cc_mask_email, "user@例子.中国", "us****r@例子.中国");
    masks_to(cc_mask_email, "Zhang.San@sub.example.cn", "Zh****n@sub.example.cn");
}

static void email_invalid(void **st)
{
    (void)st;
    masks_to(cc_mask_email, "", "****");
    masks_to(cc_mask_email, "no-at-sign", "****");
    masks_to(cc_mask_email, "a@b@example.com", "****");
    masks_to(cc_mask_email, "a@localhost", "****");
    masks_to(cc_mask_email, "\"quoted\"@example.com", "****");
    masks_to(cc_mask_email, "a@exa mple.com", "****");
    masks_to(cc_mask_email, "a@example.com\n<b>", "****");
    masks_to(cc_mask_email, NULL, "****");
}

/* ---- ID card --------------------------------------------------------------- */

static void id_digit_check(void **st)
{
    (void)st;
    masks_to(cc_mask_id_card, "440304200002291236", "4****************6");
}

static void id_x_check(void **st)
{
    (void)st;
    masks_to(cc_mask_id_card, "11010519491231002X", "1****************X");
}

static void id_invalid(void **st)
{
    (void)st;
    masks_to(cc_mask_id_card, "11010519491231002x", "****");
    masks_to(cc_mask_id_card, "1101051949123100", "****");
    masks_to(cc_mask_id_card, "11010519491231002XX", "****");
    masks_to(cc_mask_id_card, "1101051949123100AX", "****");
    masks_to(cc_mask_id_card, "", "****");
    masks_to(cc_mask_id_card, NULL, "****");
}

/* ---- webhook URL ------------------------------------------------------------ */

static void url_dingtalk(void **st)
{
    (void)st;
    masks_to(cc_mask_webhook_url, DT "abcdef0123456789wxyz", DT "abcd****wxyz");
}

static void url_feishu(void **st)
{
    (void)st;
    masks_to(cc_mask_webhook_url, FS "2f1e5c3a-1234-4bcd-9e8f-0123456789ab", FS "2f1e****89ab");
}

static void url_lark(void **st)
{
    (void)st;
    masks_to(cc_mask_webhook_url, LK "abcd-efgh-ijkl", LK "abcd****ijkl");
}

static void url_wecom(void **st)
{
    (void)st;
    masks_to(cc_mask_webhook_url, WC "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa", WC "693a****5aaa");
}

static void url_short_token(void **st)
{
    (void)st;
    masks_to(cc_mask_webhook_url, DT "abcdefgh", DT "****");
    masks_to(cc_mask_webhook_url, DT "a", DT "****");
    masks_to(cc_mask_webhook_url, DT "abcdefghi", DT "abcd****fghi");
}

/* The store hands robots' URLs out masked; masking one again keeps it. */
static void url_already_masked(void **st)
{
    (void)st;
    masks_to(cc_mask_webhook_url, DT "abcd****wxyz", DT "abcd****wxyz");
    masks_to(cc_mask_webhook_url, FS "****", FS "****");
}

static void url_not_canonical(void **st)
{
    (void)st;
    masks_to(cc_mask_webhook_url, DT, "****");
    masks_to(cc_mask_webhook_url, DT "abc&timestamp=1", "****");
    masks_to(cc_mask_webhook_url, DT "abc-def-ghi", "****");
    masks_to(cc_mask_webhook_url, FS "abc/def", "****");
    masks_to(cc_mask_webhook_url, "https://OAPI.dingtalk.com/robot/send?access_token=abc",
             "****");
    masks_to(cc_mask_webhook_url, "http://oapi.dingtalk.com/robot/send?access_token=abc",
             "****");
    masks_to(cc_mask_webhook_url, "https://evil.example/?token=abcdefghijkl", "****");
    masks_to(cc_mask_webhook_url, "", "****");
    masks_to(cc_mask_webhook_url, NULL, "****");
}

static void url_token_too_long(void **st)
{
    (void)st;
    char in[CC_URL_MAX + 1], tok[130];
    memset(tok, 'a', 129);
    tok[129] = '\0';
    snprintf(in, sizeof in, FS "%s", tok);
    masks_to(cc_mask_webhook_url, in, "****");
    tok[128] = '\0';
    snprintf(in, sizeof in, FS "%s", tok);
    masks_to(cc_mask_webhook_url, in, FS "aaaa****aaaa");
}

/* ---- small buffers ----------------------------------------------------------- */

/* Every masker writes a terminated prefix into any buffer of 1+ bytes and
 * nothing at all with size 0 (ASan would catch an overrun). */
static void small_buffers_terminated(void **st)
{
    (void)st;
    static const struct {
        mask_fn f;
        const char *in;
    } cases[] = {
        {cc_mask_mobile, "+8613312345678"},
        {cc_mask_mobile, "+447911123456"},
        {cc_mask_mobile, "nope"},
        {cc_mask_email, "zhangsan@example.com"},
        {cc_mask_id_card, "11010519491231002X"},
        {cc_mask_webhook_url, DT "abcdef0123456789wxyz"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char full[CC_URL_MAX + 1];
        cases[i].f(cases[i].in, full, sizeof full);
        for (size_t sz = 1; sz < 24; sz++) {
            char *buf = test_malloc(sz);
            memset(buf, 'Z', sz);
            cases[i].f(cases[i].in, buf, sz);
            assert_non_null(memchr(buf, '\0', sz));
            assert_int_equal(strncmp(buf, full, sz - 1), 0);
            test_free(buf);
        }
        char z = 'Z';
        cases[i].f(cases[i].in, &z, 0);
        assert_int_equal(z, 'Z');
    }
}

/* Calls f(in, NULL, outsz) in a child process: the masker must return
 * without touching the (absent) buffer, so the child exits normally. A
 * write through the NULL pointer kills the child with a signal, which this
 * asserts against. */
static void returns_without_writing(mask_fn f, const char *in, size_t outsz)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        /* The child must die of the signal, not longjmp back into the
         * test runner that it inherited. */
        signal(SIGSEGV, SIG_DFL);
        signal(SIGBUS, SIG_DFL);
        f(in, NULL, outsz);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void null_out_ignored(void **st)
{
    (void)st;
    static const struct {
        mask_fn f;
        const char *in;
    } cases[] = {
        {cc_mask_mobile, "+8613312345678"},  {cc_mask_mobile, "nope"},
        {cc_mask_email, "a@example.com"},    {cc_mask_email, "nope"},
        {cc_mask_id_card, "11010519491231002X"}, {cc_mask_id_card, "nope"},
        {cc_mask_webhook_url, DT "abc"},     {cc_mask_webhook_url, "nope"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        returns_without_writing(cases[i].f, cases[i].in, 10);
        returns_without_writing(cases[i].f, cases[i].in, CC_URL_MAX + 1);
    }
}

/* ---- masked values never show the input ------------------------------------- */

static void never_echoes_input(void **st)
{
    (void)st;
    static const char *ins[] = {"+8613312345678", "+447911123456", "zhangsan@example.com",
                                "11010519491231002X", DT "abcdef0123456789wxyz"};
    mask_fn fs[] = {cc_mask_mobile, cc_mask_email, cc_mask_id_card, cc_mask_webhook_url};
    for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++)
        for (size_t j = 0; j < sizeof fs / sizeof fs[0]; j++) {
            char out[CC_URL_MAX + 1];
            fs[j](ins[i], out, sizeof out);
            assert_null(strstr(out, ins[i]));
        }
}

/* ---- addresses echoed in a platform's answer ---------------------------- */

static void echo_email_masked(void **state)
{
    (void)state;
    char s[128] = "550 5.1.1 <ZhangSan@Example.com>: Recipient rejected; zhangsan@example.com";
    cc_mask_address_in_text(s, sizeof s, "zhangsan@example.com");
    assert_string_equal(s, "550 5.1.1 <zh****n@example.com>: Recipient rejected; "
                           "zh****n@example.com");
}

static void echo_mobile_all_forms(void **state)
{
    (void)state;
    char s[128] = "isv.MOBILE_NUMBER_ILLEGAL 13912345678 / +8613912345678 / 8613912345678";
    cc_mask_address_in_text(s, sizeof s, "+8613912345678");
    assert_null(strstr(s, "12345678"));
    assert_non_null(strstr(s, "+86 139****5678 / +86 139****5678 / +86 139****5678"));
}

static void echo_cut_when_longer(void **state)
{
    (void)state;
    char s[24] = "x a@b.cn y abcdefghijk";
    cc_mask_in_text(s, sizeof s, "abcdefghijk", "[a much longer replacement]");
    assert_true(strlen(s) < sizeof s);
    assert_null(strstr(s, "abcdefghijk"));
    char t[16] = "0123456789";
    cc_mask_in_text(t, sizeof t, "abc", "X"); /* too short a needle: left alone */
    assert_string_equal(t, "0123456789");
    cc_mask_address_in_text(t, sizeof t, NULL);
    cc_mask_address_in_text(t, sizeof t, "");
    assert_string_equal(t, "0123456789");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mobile_mainland),
        cmocka_unit_test(mobile_international),
        cmocka_unit_test(mobile_international_long),
        cmocka_unit_test(mobile_international_short),
        cmocka_unit_test(mobile_twelve_digits_hides_four),
        cmocka_unit_test(mobile_unnormalised),
        cmocka_unit_test(mobile_garbage),
        cmocka_unit_test(email_long_local),
        cmocka_unit_test(email_four_char_local),
        cmocka_unit_test(email_short_locals),
        cmocka_unit_test(email_domain_as_is),
        cmocka_unit_test(email_invalid),
        cmocka_unit_test(id_digit_check),
        cmocka_unit_test(id_x_check),
        cmocka_unit_test(id_invalid),
        cmocka_unit_test(url_dingtalk),
        cmocka_unit_test(url_feishu),
        cmocka_unit_test(url_lark),
        cmocka_unit_test(url_wecom),
        cmocka_unit_test(url_short_token),
        cmocka_unit_test(url_not_canonical),
        cmocka_unit_test(url_token_too_long),
        cmocka_unit_test(small_buffers_terminated),
        cmocka_unit_test(null_out_ignored),
        cmocka_unit_test(never_echoes_input),
        cmocka_unit_test(url_already_masked),
        cmocka_unit_test(echo_email_masked),
        cmocka_unit_test(echo_mobile_all_forms),
        cmocka_unit_test(echo_cut_when_longer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
