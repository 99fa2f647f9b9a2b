/*
 * mask.c — masked copies of personal data and credentials for logs and
 * read-only views: mobile numbers, email addresses, ID card numbers and the
 * token inside a robot webhook URL.
 *
 * Part of core/: pure functions with no I/O. The inputs are meant to be the
 * normalised values the validators in validate.c produce; anything that is
 * not in that form comes out as "****", so a masker never echoes data that
 * nobody validated. Output always fits the caller's buffer and is always
 * NUL-terminated (truncated if the buffer is smaller than documented).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "util/util.h"

#define STARS "****"

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* Writes "****" (truncated to fit) into out. */
static void stars(char *out, size_t outsz)
{
    if (outsz)
        cc_strlcpy(out, STARS, outsz);
}

/*
 * Masks an E.164 number. Mainland numbers ("+86" and 11 digits) keep the
 * first three and last four digits: "+86 133****5678". Other numbers keep
 * the two first digits (about the country code), then the next two and the
 * last four, with at least four digits hidden: "+44 79****3456"; shorter
 * numbers show only "+44 ****". out is caller-owned (CC_MASKED_MAX).
 */
void cc_mask_mobile(const char *e164, char *out, size_t outsz)
{
    if (!out || !outsz)
        return;
    size_t n = e164 ? strlen(e164) : 0;
    if (n < 9 || n > CC_MOBILE_MAX || e164[0] != '+' || e164[1] == '0' ||
        !all_digits(e164 + 1, n - 1)) {
        stars(out, outsz);
        return;
    }
    const char *d = e164 + 1;
    size_t nd = n - 1;
    if (d[0] == '8' && d[1] == '6') {
        if (nd != 13) {
            stars(out, outsz);
            return;
        }
        snprintf(out, outsz, "+86 %.3s" STARS "%.4s", d + 2, d + 9);
    } else if (nd >= 12) {
        snprintf(out, outsz, "+%.2s %.2s" STARS "%.4s", d, d + 2, d + nd - 4);
    } else {
        snprintf(out, outsz, "+%.2s " STARS, d);
    }
}

/*
 * Masks an email address: a local part of four or more characters keeps
 * its first two and last character ("zh****n@example.com"), a shorter one
 * its first character ("a****@example.com"); the domain is shown as is.
 * Only an address cc_validate_email accepts is masked (so the local part is
 * ASCII and its characters are single bytes). out is caller-owned
 * (CC_MASKED_MAX).
 */
void cc_mask_email(const char *email, char *out, size_t outsz)
{
    char addr[CC_EMAIL_MAX + 1], norm[CC_EMAIL_MAX + 1];

    if (!out || !outsz)
        return;
    if (!email || cc_validate_email(email, addr, sizeof addr, norm, sizeof norm, NULL)) {
        stars(out, outsz);
        return;
    }
    const char *at = strchr(addr, '@');
    size_t llen = (size_t)(at - addr);
    if (llen >= 4)
        snprintf(out, outsz, "%.2s" STARS "%c%s", addr, addr[llen - 1], at);
    else
        snprintf(out, outsz, "%c" STARS "%s", addr[0], at);
}

/*
 * Masks an ID card number: the first and last character with 16 stars in
 * between ("1****************5"). Only the normalised form (17 digits and a
 * digit or upper-case X) is masked. out is caller-owned (CC_MASKED_MAX).
 */
void cc_mask_id_card(const char *id, char *out, size_t outsz)
{
    if (!out || !outsz)
        return;
    if (!id || strlen(id) != CC_IDCARD_LEN || !all_digits(id, 17) ||
        !((id[17] >= '0' && id[17] <= '9') || id[17] == 'X')) {
        stars(out, outsz);
        return;
    }
    snprintf(out, outsz, "%c" STARS STARS STARS STARS "%c", id[0], id[17]);
}

/* The canonical forms cc_webhook_classify writes, each followed by the
 * token; dash says whether the token may contain '-'. */
static const struct {
    const char *prefix;
    int dash;
} url_forms[] = {
    {"https://oapi.dingtalk.com/robot/send?access_token=", 0},
    {"https://open.feishu.cn/open-apis/bot/v2/hook/", 1},
    {"https://open.larksuite.com/open-apis/bot/v2/hook/", 1},
    {"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=", 1},
};

/*
 * Masks the credential in a canonical webhook URL: the access token, hook
 * id or key shows its first and last four characters around "****", or
 * only "****" when it has eight characters or fewer. Anything that is not a
 * canonical URL becomes "****". out is caller-owned (CC_URL_MAX + 1).
 */
void cc_mask_webhook_url(const char *url, char *out, size_t outsz)
{
    if (!out || !outsz)
        return;
    if (!url) {
        stars(out, outsz);
        return;
    }
    /* Already masked (the store hands out robots' URLs masked): as it is. A
     * canonical URL never holds '*'. */
    if (strstr(url, STARS)) {
        cc_strlcpy(out, url, outsz);
        return;
    }
    for (size_t i = 0; i < sizeof url_forms / sizeof url_forms[0]; i++) {
        size_t pl = strlen(url_forms[i].prefix);
        if (strncmp(url, url_forms[i].prefix, pl) != 0)
            continue;
        const char *tok = url + pl;
        size_t n = strlen(tok);
        if (n == 0 || n > 128)
            break;
        for (size_t k = 0; k < n; k++) {
            char c = tok[k];
            int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9') || (url_forms[i].dash && c == '-');
            if (!ok) {
                stars(out, outsz);
                return;
            }
        }
        if (n <= 8)
            snprintf(out, outsz, "%s" STARS, url_forms[i].prefix);
        else
            snprintf(out, outsz, "%s%.4s" STARS "%s", url_forms[i].prefix, tok, tok + n - 4);
        return;
    }
    stars(out, outsz);
}

/*
 * Masks a person's name: its first character and a star for each of the
 * others (at most eight): "张*", "A****". A name of one character, or
 * anything that is not valid UTF-8, is "*". out is caller-owned
 * (CC_MASKED_MAX).
 */
void cc_mask_name(const char *name, char *out, size_t outsz)
{
    if (!out || !outsz)
        return;
    size_t n = name ? strlen(name) : 0;
    size_t chars = n && cc_utf8_valid(name, n) ? cc_utf8_len(name, n) : 0;
    if (chars < 2) {
        snprintf(out, outsz, "*");
        return;
    }
    size_t first = 1;
    while (first < n && ((unsigned char)name[first] & 0xC0) == 0x80)
        first++;
    size_t stars_n = chars - 1 > 8 ? 8 : chars - 1;
    if (first + stars_n + 1 > outsz) {
        snprintf(out, outsz, "*");
        return;
    }
    memcpy(out, name, first);
    memset(out + first, '*', stars_n);
    out[first + stars_n] = '\0';
}

/* The first occurrence of needle (n bytes, ASCII case-insensitive) in s. */
static char *find_ci(char *s, const char *needle, size_t n)
{
    for (; *s; s++)
        if (strncasecmp(s, needle, n) == 0)
            return s;
    return NULL;
}

/*
 * Replaces each occurrence of needle (ASCII case-insensitive) in the text s
 * (NUL-terminated, sz bytes of room) with repl; what no longer fits is cut.
 * A needle shorter than 5 bytes is left alone (it would match too much).
 */
void cc_mask_in_text(char *s, size_t sz, const char *needle, const char *repl)
{
    size_t n = needle ? strlen(needle) : 0, rn = strlen(repl);
    if (!s || !sz || n < 5)
        return;
    char *p = s;
    while ((p = find_ci(p, needle, n)) != NULL) {
        size_t at = (size_t)(p - s), tail = strlen(p + n);
        if (at + rn >= sz) { /* not even the replacement fits: cut here */
            *p = '\0';
            return;
        }
        size_t keep = tail;
        if (at + rn + keep >= sz)
            keep = sz - 1 - at - rn;
        memmove(p + rn, p + n, keep);
        memcpy(p, repl, rn);
        p[rn + keep] = '\0';
        p += rn;
    }
}

/*
 * Masks an address wherever it appears in the text s (sz bytes of room): a
 * platform's answer that echoes it ("550 <zhangsan@example.com>: unknown
 * user") is kept in the delivery log with the address masked. An email
 * address is replaced by cc_mask_email's form; an E.164 mobile by
 * cc_mask_mobile's, in that form and as its national number (a Chinese
 * number without +86).
 */
void cc_mask_address_in_text(char *s, size_t sz, const char *address)
{
    char masked[CC_MASKED_MAX];
    if (!s || !address || !address[0])
        return;
    if (strchr(address, '@')) {
        cc_mask_email(address, masked, sizeof masked);
        cc_mask_in_text(s, sz, address, masked);
        return;
    }
    cc_mask_mobile(address, masked, sizeof masked);
    cc_mask_in_text(s, sz, address, masked);
    if (address[0] == '+') {
        cc_mask_in_text(s, sz, address + 1, masked);
        if (!strncmp(address, "+86", 3))
            cc_mask_in_text(s, sz, address + 3, masked);
    }
}
