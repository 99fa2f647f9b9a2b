/*
 * fuzz_validate.c — libFuzzer target for the validators and maskers of
 * core/validate.c and core/mask.c, the parsers of untrusted contact fields.
 *
 * Each input goes, as a NUL-terminated copy, to every validator and masker;
 * the target checks what must always hold: accepted values are in their
 * normal form and validate again to themselves, outputs are terminated and
 * within bounds, masks never repeat their input. Because random bytes
 * rarely look like a webhook URL or a phone number, the input is also
 * appended to a few known prefixes (chosen by its first byte) so that the
 * fuzzer reaches the deeper checks without a seed corpus.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "util/util.h"
#include "fuzz.h"

#define TODAY 20261125

/* An output buffer with guard bytes after it, so that writing past outsz
 * is caught even where ASan would not see it (inside one array). */
#define GUARD 16
struct outbuf {
    char b[CC_URL_MAX + 1 + GUARD];
};

static void fill(struct outbuf *o)
{
    memset(o->b, 0xA5, sizeof o->b);
}

/* Terminated within sz, and nothing written past it. */
static void check_out(const struct outbuf *o, size_t sz)
{
    CHECK(memchr(o->b, '\0', sz) != NULL);
    for (size_t i = sz; i < sz + GUARD; i++)
        CHECK((unsigned char)o->b[i] == 0xA5);
}

static void check_error(enum cc_err rc, const struct cc_error *e, const char *field)
{
    CHECK(rc == CC_ERR_INCORRECT_FORMAT || rc == CC_ERR_MISSING_PARAMETER);
    CHECK(e->code == rc);
    CHECK(strcmp(e->field, field) == 0);
    CHECK(e->message[0] != '\0');
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static void fuzz_name(const char *in)
{
    struct outbuf o, again;
    struct cc_error e = {0};
    fill(&o);
    enum cc_err rc = cc_validate_name(in, o.b, CC_NAME_MAX_BYTES + 1, &e);
    check_out(&o, CC_NAME_MAX_BYTES + 1);
    if (rc) {
        check_error(rc, &e, "Name");
        CHECK(o.b[0] == '\0');
        return;
    }
    size_t n = strlen(o.b);
    CHECK(n > 0 && n <= CC_NAME_MAX_BYTES);
    CHECK(cc_utf8_valid(o.b, n));
    size_t chars = cc_utf8_len(o.b, n);
    CHECK(chars >= 1 && chars <= CC_NAME_MAX_CHARS);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)o.b[i];
        CHECK(c >= 0x20 && c != 0x7F);
        if (c == 0xC2 && i + 1 < n)
            CHECK((unsigned char)o.b[i + 1] >= 0xA0); /* no C1 controls */
    }
    CHECK(!is_ws(o.b[0]) && !is_ws(o.b[n - 1]));
    CHECK(!(n >= 3 && memcmp(o.b, "\xE3\x80\x80", 3) == 0));
    CHECK(!(n >= 3 && memcmp(o.b + n - 3, "\xE3\x80\x80", 3) == 0));
    CHECK(strstr(in, o.b) != NULL);
    fill(&again);
    CHECK(cc_validate_name(o.b, again.b, CC_NAME_MAX_BYTES + 1, &e) == CC_OK);
    CHECK(strcmp(o.b, again.b) == 0);
}

static void fuzz_email(const char *in)
{
    struct outbuf o, norm, again, again_norm, m;
    struct cc_error e = {0};
    fill(&o);
    fill(&norm);
    enum cc_err rc = cc_validate_email(in, o.b, CC_EMAIL_MAX + 1, norm.b, CC_EMAIL_MAX + 1, &e);
    check_out(&o, CC_EMAIL_MAX + 1);
    check_out(&norm, CC_EMAIL_MAX + 1);

    fill(&m);
    cc_mask_email(in, m.b, CC_MASKED_MAX);
    check_out(&m, CC_MASKED_MAX);
    if (strlen(in) > 4 && !strchr(in, '*'))
        CHECK(strstr(m.b, in) == NULL);

    if (rc) {
        check_error(rc, &e, "Email");
        CHECK(o.b[0] == '\0' && norm.b[0] == '\0');
        CHECK(strcmp(m.b, "****") == 0);
        return;
    }
    size_t n = strlen(o.b);
    CHECK(n >= 3 && n <= CC_EMAIL_MAX);
    CHECK(strlen(norm.b) == n);
    const char *at = strchr(o.b, '@');
    CHECK(at && at > o.b && at - o.b <= CC_LOCAL_MAX && !strchr(at + 1, '@'));
    CHECK(strchr(at + 1, '.') != NULL);
    CHECK(cc_utf8_valid(o.b, n));
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)o.b[i];
        CHECK(c > 0x20 && c != 0x7F);
        CHECK(!(c >= 'A' && c <= 'Z') || o.b + i < at);
        CHECK(!((unsigned char)norm.b[i] >= 'A' && (unsigned char)norm.b[i] <= 'Z'));
    }
    CHECK(strstr(m.b, "****") != NULL);
    CHECK(strstr(m.b, at) != NULL);

    fill(&again);
    fill(&again_norm);
    CHECK(cc_validate_email(o.b, again.b, CC_EMAIL_MAX + 1, again_norm.b, CC_EMAIL_MAX + 1,
                            &e) == CC_OK);
    CHECK(strcmp(o.b, again.b) == 0 && strcmp(norm.b, again_norm.b) == 0);
    CHECK(cc_validate_email(norm.b, again.b, CC_EMAIL_MAX + 1, again_norm.b,
                            CC_EMAIL_MAX + 1, &e) == CC_OK);
    CHECK(strcmp(norm.b, again.b) == 0 && strcmp(norm.b, again_norm.b) == 0);
}

static void fuzz_mobile(const char *in)
{
    struct outbuf o, again, m;
    struct cc_error e = {0};
    fill(&o);
    enum cc_err rc = cc_validate_mobile(in, o.b, CC_MOBILE_MAX + 1, &e);
    check_out(&o, CC_MOBILE_MAX + 1);

    fill(&m);
    cc_mask_mobile(in, m.b, CC_MASKED_MAX);
    check_out(&m, CC_MASKED_MAX);
    if (strlen(in) > 4 && !strchr(in, '*'))
        CHECK(strstr(m.b, in) == NULL);

    if (rc) {
        check_error(rc, &e, "Mobile");
        CHECK(o.b[0] == '\0');
        return;
    }
    size_t n = strlen(o.b);
    CHECK(n >= 9 && n <= CC_MOBILE_MAX);
    CHECK(o.b[0] == '+' && o.b[1] >= '1' && o.b[1] <= '9');
    for (size_t i = 1; i < n; i++)
        CHECK(o.b[i] >= '0' && o.b[i] <= '9');
    if (o.b[1] == '8' && o.b[2] == '6')
        CHECK(n == 14 && o.b[3] == '1' && o.b[4] >= '3');
    fill(&again);
    CHECK(cc_validate_mobile(o.b, again.b, CC_MOBILE_MAX + 1, &e) == CC_OK);
    CHECK(strcmp(o.b, again.b) == 0);

    fill(&m);
    cc_mask_mobile(o.b, m.b, CC_MASKED_MAX);
    check_out(&m, CC_MASKED_MAX);
    CHECK(strstr(m.b, "****") != NULL && strcmp(m.b, "****") != 0);
    CHECK(strstr(m.b, o.b) == NULL);
}

static void fuzz_id_card(const char *in, int today)
{
    struct outbuf o, again, m;
    struct cc_error e = {0};
    fill(&o);
    enum cc_err rc = cc_validate_id_card(in, today, o.b, CC_IDCARD_LEN + 1, &e);
    check_out(&o, CC_IDCARD_LEN + 1);

    fill(&m);
    cc_mask_id_card(in, m.b, CC_MASKED_MAX);
    check_out(&m, CC_MASKED_MAX);
    if (strlen(in) > 4 && !strchr(in, '*'))
        CHECK(strstr(m.b, in) == NULL);

    if (rc) {
        check_error(rc, &e, "IdCard");
        CHECK(o.b[0] == '\0');
        return;
    }
    CHECK(strlen(o.b) == CC_IDCARD_LEN);
    for (int i = 0; i < 17; i++)
        CHECK(o.b[i] >= '0' && o.b[i] <= '9');
    CHECK((o.b[17] >= '0' && o.b[17] <= '9') || o.b[17] == 'X');
    int birth = 0;
    for (int i = 6; i < 14; i++)
        birth = birth * 10 + (o.b[i] - '0');
    CHECK(birth >= 19000101 && birth <= today);
    fill(&again);
    CHECK(cc_validate_id_card(o.b, today, again.b, CC_IDCARD_LEN + 1, &e) == CC_OK);
    CHECK(strcmp(o.b, again.b) == 0);

    fill(&m);
    cc_mask_id_card(o.b, m.b, CC_MASKED_MAX);
    CHECK(strlen(m.b) == CC_IDCARD_LEN && m.b[0] == o.b[0] && m.b[17] == o.b[17]);
    for (int i = 1; i < 17; i++)
        CHECK(m.b[i] == '*');
}

static void fuzz_language(const char *in)
{
    struct outbuf o;
    struct cc_error e = {0};
    fill(&o);
    enum cc_err rc = cc_validate_language(in, o.b, CC_LANG_MAX + 1, &e);
    check_out(&o, CC_LANG_MAX + 1);
    if (rc) {
        check_error(rc, &e, "Language");
        return;
    }
    CHECK(strcmp(o.b, "en") == 0 || strcmp(o.b, "zh-CN") == 0);
}

static void fuzz_webhook(const char *in)
{
    struct outbuf o, again, m;
    struct cc_error e = {0};
    enum cc_webhook_kind k = CC_WEBHOOK_DINGTALK, k2 = CC_WEBHOOK_NONE;
    fill(&o);
    enum cc_err rc = cc_webhook_classify(in, o.b, CC_URL_MAX + 1, &k, &e);
    check_out(&o, CC_URL_MAX + 1);

    fill(&m);
    cc_mask_webhook_url(in, m.b, CC_URL_MAX + 1);
    check_out(&m, CC_URL_MAX + 1);
    if (strlen(in) > 4 && !strchr(in, '*'))
        CHECK(strstr(m.b, in) == NULL);

    if (rc) {
        check_error(rc, &e, "Webhooks");
        CHECK(k == CC_WEBHOOK_NONE && o.b[0] == '\0');
        CHECK(strlen(e.message) < sizeof e.message - 1); /* never cut off */
    } else {
        size_t n = strlen(o.b);
        CHECK(n <= CC_URL_MAX && strncmp(o.b, "https://", 8) == 0);
        CHECK(k == CC_WEBHOOK_DINGTALK || k == CC_WEBHOOK_FEISHU || k == CC_WEBHOOK_LARK ||
              k == CC_WEBHOOK_WECOM);
        CHECK(!strchr(o.b, '#') && !strchr(o.b, '@') && !strchr(o.b, '%') &&
              !strchr(o.b, '&'));
        fill(&again);
        CHECK(cc_webhook_classify(o.b, again.b, CC_URL_MAX + 1, &k2, &e) == CC_OK);
        CHECK(strcmp(o.b, again.b) == 0 && k == k2);
        fill(&m);
        cc_mask_webhook_url(o.b, m.b, CC_URL_MAX + 1);
        CHECK(strstr(m.b, "****") != NULL && strcmp(m.b, "****") != 0);
        CHECK(strncmp(m.b, "https://", 8) == 0);
        CHECK(strstr(m.b, o.b) == NULL);
    }

    for (int kind = CC_WEBHOOK_NONE; kind <= CC_WEBHOOK_WECOM + 1; kind++) {
        struct cc_error se = {0};
        enum cc_err src = cc_validate_webhook_secret((enum cc_webhook_kind)kind, in, &se);
        if (src) {
            check_error(src, &se, "Webhooks");
            continue;
        }
        size_t n = strlen(in);
        CHECK(kind == CC_WEBHOOK_DINGTALK || kind == CC_WEBHOOK_FEISHU ||
              kind == CC_WEBHOOK_LARK);
        CHECK(n >= 1 && n <= CC_SECRET_MAX);
        for (size_t i = 0; i < n; i++)
            CHECK(in[i] >= 0x21 && in[i] <= 0x7E);
        if (kind == CC_WEBHOOK_DINGTALK)
            CHECK(strncmp(in, "SEC", 3) == 0);
    }
}

/* Masks into a buffer of a fuzzer-chosen small size: always terminated,
 * never past the end. */
static void fuzz_small_masks(const char *in, size_t sz)
{
    struct outbuf o;
    void (*const fns[])(const char *, char *, size_t) = {cc_mask_mobile, cc_mask_email,
                                                         cc_mask_id_card, cc_mask_webhook_url};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        fill(&o);
        fns[i](in, o.b, sz);
        if (sz)
            check_out(&o, sz);
        else
            CHECK((unsigned char)o.b[0] == 0xA5);
    }
}

static void fuzz_all(const char *in, int today)
{
    fuzz_name(in);
    fuzz_email(in);
    fuzz_mobile(in);
    fuzz_id_card(in, today);
    fuzz_language(in);
    fuzz_webhook(in);
}

/* Prefixes that put the fuzzer's bytes where the interesting checks are. */
static const char *const prefixes[] = {
    "https://oapi.dingtalk.com/robot/send?access_token=",
    "https://oapi.dingtalk.com/robot/send?",
    "https://oapi.dingtalk.com/robot/send?access_token=a&timestamp=",
    "https://oapi.dingtalk.com/robot/send?access_token=a&sign=",
    "https://open.feishu.cn/open-apis/bot/v2/hook/",
    "https://open.larksuite.com/open-apis/bot/v2/hook/",
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=",
    "https://",
    "HTTPS://OAPI.DINGTALK.COM",
    "+86",
    "86",
    "0086",
    "+",
    "1101051949",
    "11010519491231002",
    "zhangsan@",
    "SEC",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;

    char *in = malloc(size + 1);
    if (!in)
        return 0;
    memcpy(in, data, size);
    in[size] = '\0';

    /* cc_utf8_valid sees the raw bytes, NULs included. */
    int valid = cc_utf8_valid((const char *)data, size);
    if (valid) {
        CHECK(memchr(data, '\0', size) == NULL);
        CHECK(cc_utf8_len((const char *)data, size) <= size);
    }
    if (size && !memchr(data, '\0', size))
        CHECK(cc_utf8_valid(in, size) == valid);

    int today = TODAY;
    if (size >= 2)
        today = 19000101 + (data[0] * 256 + data[1]) * 20; /* any date-like int */
    fuzz_all(in, TODAY);
    fuzz_id_card(in, today);
    fuzz_small_masks(in, size ? data[0] % 40 : 0);

    if (size >= 1) {
        const char *prefix = prefixes[data[0] % (sizeof prefixes / sizeof prefixes[0])];
        size_t pl = strlen(prefix);
        char *p = malloc(pl + size);
        if (p) {
            memcpy(p, prefix, pl);
            memcpy(p + pl, in + 1, size); /* includes the NUL */
            fuzz_all(p, TODAY);
            free(p);
        }
    }
    free(in);
    return 0;
}
