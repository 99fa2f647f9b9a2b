/*
 * validate.c — the validators and normalisers of every contact field: UTF-8,
 * name, email, mobile, PRC ID card number, language, and the classification
 * of chat-robot webhook URLs with their signing secrets.
 *
 * Part of core/: pure functions with no I/O. Each validator takes untrusted,
 * NUL-terminated input, writes a normalised copy into a caller-owned buffer
 * and returns CC_OK, or fills the caller's struct cc_error with
 * CC_ERR_INCORRECT_FORMAT (CC_ERR_MISSING_PARAMETER when the value is empty)
 * and a message a person can act on. Messages never repeat the input: it may
 * be a credential or personal data. Webhook URLs are parsed with libcurl's
 * URL API (parsing only, no network) and then every part is checked against
 * the raw text, because libcurl normalises what it parses (it decodes
 * percent-encoded host names, removes dot segments, accepts "https:/host").
 */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "core/core.h"
#include "util/util.h"

/* ---- small helpers ------------------------------------------------------ */

static int is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || is_digit(c);
}

static char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Whether the first n bytes of a and b are equal, ignoring ASCII case. */
static int caseeq_n(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (ascii_lower(a[i]) != ascii_lower(b[i]))
            return 0;
    return 1;
}

/* Narrows [*s, *e) to drop surrounding ASCII white space. */
static void trim_ascii(const char **s, const char **e)
{
    while (*s < *e && is_ascii_space((unsigned char)**s))
        (*s)++;
    while (*e > *s && is_ascii_space((unsigned char)(*e)[-1]))
        (*e)--;
}

/* Copies n bytes and a NUL into out, or reports that out is too small: that
 * is the caller's bug (the header documents the sizes), never the user's. */
static enum cc_err put(char *out, size_t outsz, const char *s, size_t n, const char *field,
                       struct cc_error *err)
{
    assert(out);
    assert(n < outsz);
    if (n >= outsz)
        return cc_error_set(err, CC_ERR_INTERNAL, field, "The output buffer is too small.");
    memcpy(out, s, n);
    out[n] = '\0';
    return CC_OK;
}

/* Empties out (if it has room) so that a failed call never leaves stale or
 * partial data behind. */
static void clear_out(char *out, size_t outsz)
{
    if (out && outsz)
        out[0] = '\0';
}

/* ---- UTF-8 -------------------------------------------------------------- */

/*
 * Decodes one code point from s (len > 0 bytes available) into *cp.
 * Returns the number of bytes it takes (1–4), or 0 when the sequence is not
 * valid UTF-8: a NUL byte, a stray continuation byte, an overlong form, a
 * surrogate, a value past U+10FFFF, or a sequence cut off by len.
 */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;

    if (c == 0)
        return 0;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1Fu, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0Fu, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07u, min = 0x10000;
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3Fu);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

/* Eight bytes at a time: 1 when none is NUL or has the high bit set (plain
 * ASCII, valid as it is). A NUL byte is the one whose value minus 1 borrows
 * into its high bit while its own high bit is clear. */
static int ascii8(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    return !(v & highs) && !((v - ones) & ~v & highs);
}

int cc_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8 && ascii8(p + i)) {
            i += 8;
            continue;
        }
        uint32_t cp;
        size_t n = utf8_decode(p + i, len - i, &cp);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

size_t cc_utf8_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

/* ---- name --------------------------------------------------------------- */

/* U+3000 IDEOGRAPHIC SPACE, the space a Chinese input method types. */
static const char ideographic_space[] = "\xE3\x80\x80";

/* Invisible characters that change how the text around them is shown or
 * read, refused in names: a name is shown in the console, in emails, SMS and
 * robot messages, where a bidi override can reverse what follows it
 * ("Trojan Source"), and an invisible character makes two names that look
 * the same differ. Bidi embeddings, overrides and isolates (U+202A–202E,
 * U+2066–2069) and marks (U+200E/200F, U+061C); zero-width characters
 * (U+200B–200D, U+2060–2064, U+FEFF, U+180E); line and paragraph
 * separators (U+2028/2029), which break a line like a control character. */
static int is_invisible_format(uint32_t cp)
{
    return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069) || (cp >= 0x2060 && cp <= 0x2064) ||
           cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF || cp == 0x180E || cp == 0x061C;
}

/*
 * Validates a display name: trims ASCII white space and U+3000 at both ends,
 * then requires valid UTF-8 of 1–64 code points without C0/C1 control
 * characters, DEL or invisible formatting characters (is_invisible_format).
 * Any script is allowed. out (caller-owned, at least
 * CC_NAME_MAX_BYTES + 1) receives the trimmed name.
 */
enum cc_err cc_validate_name(const char *in, char *out, size_t outsz, struct cc_error *err)
{
    clear_out(out, outsz);
    if (!in)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Name", "A name is required.");

    const char *s = in, *e = in + strlen(in);
    for (;;) {
        if (s < e && is_ascii_space((unsigned char)*s))
            s++;
        else if (e - s >= 3 && memcmp(s, ideographic_space, 3) == 0)
            s += 3;
        else
            break;
    }
    for (;;) {
        if (e > s && is_ascii_space((unsigned char)e[-1]))
            e--;
        else if (e - s >= 3 && memcmp(e - 3, ideographic_space, 3) == 0)
            e -= 3;
        else
            break;
    }
    size_t n = (size_t)(e - s);
    if (n == 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Name", "A name is required.");
    /* Cheap bound before decoding: 64 code points never take more bytes. */
    if (n > CC_NAME_MAX_BYTES)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Name",
                            "The name must be at most %d characters long.", CC_NAME_MAX_CHARS);

    size_t chars = 0;
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k)
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Name",
                                "The name must be valid UTF-8 text.");
        if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F))
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Name",
                                "The name must not contain control characters such as tabs "
                                "or line breaks.");
        if (is_invisible_format(cp))
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Name",
                                "The name must not contain invisible formatting characters "
                                "(U+%04X): bidirectional overrides or isolates, zero-width "
                                "characters, line or paragraph separators.",
                                (unsigned)cp);
        chars++;
        i += k;
    }
    if (chars > CC_NAME_MAX_CHARS)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Name",
                            "The name must be at most %d characters long.", CC_NAME_MAX_CHARS);
    return put(out, outsz, s, n, "Name", err);
}

/* ---- email -------------------------------------------------------------- */

/* RFC 5322 atext: the characters of an unquoted local part besides dots. */
static int is_atext(unsigned char c)
{
    return is_alnum(c) || (c && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

/* Non-ASCII code points that must not appear in a domain label: C1
 * controls, Unicode spaces, invisible formatting characters, and the
 * full-width full stops that IDNA would treat as label separators. */
static int is_bad_idn_cp(uint32_t cp)
{
    return (cp >= 0x80 && cp <= 0xA0) || cp == 0xAD || cp == 0x1680 || cp == 0x180E ||
           (cp >= 0x2000 && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202F) ||
           (cp >= 0x205F && cp <= 0x206F) || cp == 0x3000 || cp == 0x3002 || cp == 0xFEFF ||
           cp == 0xFF0E || cp == 0xFF61;
}

/* Checks one domain label [s, s+n): 1–63 bytes; ASCII letters, digits and
 * hyphens (not first or last), plus, for IDN labels, valid non-ASCII UTF-8
 * that is neither white space nor a control character. Returns 0 if valid,
 * or -1 (bad characters) or -2 (bad length). */
static int check_label(const char *s, size_t n)
{
    if (n == 0 || n > 63)
        return -2;
    if (s[0] == '-' || s[n - 1] == '-')
        return -1;
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (!is_alnum(c) && c != '-')
                return -1;
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
        if (!k || is_bad_idn_cp(cp))
            return -1;
        i += k;
    }
    return 0;
}

static enum cc_err email_error(struct cc_error *err, const char *msg)
{
    return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Email", "%s", msg);
}

/*
 * Validates an email address the way a mail form should: a dot-atom local
 * part (no quoted strings) of at most 64 bytes, one '@', and a domain of at
 * least two labels (ASCII LDH or IDN in UTF-8), whose last label is not all
 * digits (so no IP addresses). Surrounding white space is trimmed. out gets
 * the address with the domain lower-cased; norm gets the whole address
 * lower-cased (ASCII only) for uniqueness checks. Both are caller-owned,
 * at least CC_EMAIL_MAX + 1 bytes.
 */
enum cc_err cc_validate_email(const char *in, char *out, size_t outsz, char *norm,
                              size_t normsz, struct cc_error *err)
{
    clear_out(out, outsz);
    clear_out(norm, normsz);
    if (!in)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Email",
                            "An email address is required.");

    const char *s = in, *e = in + strlen(in);
    trim_ascii(&s, &e);
    size_t n = (size_t)(e - s);
    if (n == 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Email",
                            "An email address is required.");
    if (n > CC_EMAIL_MAX)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Email",
                            "The email address must be at most %d characters long.",
                            CC_EMAIL_MAX);

    const char *at = memchr(s, '@', n);
    if (!at || memchr(at + 1, '@', (size_t)(e - at - 1)))
        return email_error(err, "The email address must contain exactly one @ and a domain "
                                "such as example.com.");

    const char *local = s, *dom = at + 1;
    size_t llen = (size_t)(at - s), dlen = (size_t)(e - dom);
    if (llen == 0)
        return email_error(err, "The email address needs a name before the @, as in "
                                "name@example.com.");
    if (llen > CC_LOCAL_MAX)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Email",
                            "The part of the email address before the @ must be at most %d "
                            "characters long.",
                            CC_LOCAL_MAX);
    for (size_t i = 0; i < llen; i++) {
        unsigned char c = (unsigned char)local[i];
        int ok = is_atext(c) ||
                 (c == '.' && i > 0 && i + 1 < llen && local[i + 1] != '.');
        if (!ok)
            return email_error(err, "The part before the @ may only contain letters, digits, "
                                    "dots (not at the start or end, never two in a row) and "
                                    "! # $ % & ' * + / = ? ^ _ ` { | } ~ -.");
    }

    if (dlen == 0)
        return email_error(err, "The email address must contain exactly one @ and a domain "
                                "such as example.com.");
    size_t labels = 0;
    const char *last = dom;
    for (const char *p = dom; p <= e; p++) {
        if (p < e && *p != '.')
            continue;
        int rc = check_label(last, (size_t)(p - last));
        if (rc == -2 && p == last)
            return email_error(err, "The domain must be a name such as example.com, without "
                                    "empty parts, or dots at the start or end.");
        if (rc == -2)
            return email_error(err, "Each part of the domain between dots must be at most "
                                    "63 characters long.");
        if (rc)
            return email_error(err, "The domain may only contain letters, digits and hyphens "
                                    "(not at the start or end of a part), separated by dots, "
                                    "as in example.com.");
        labels++;
        if (p < e)
            last = p + 1;
    }
    if (labels < 2)
        return email_error(err, "The email address must contain exactly one @ and a domain "
                                "such as example.com.");
    int all_digits = 1;
    for (const char *p = last; p < e; p++)
        if (!is_digit((unsigned char)*p))
            all_digits = 0;
    if (all_digits)
        return email_error(err, "The domain must end in a name such as .com or .cn; IP "
                                "addresses are not accepted.");

    enum cc_err rc = put(out, outsz, s, n, "Email", err);
    if (rc)
        return rc;
    for (size_t i = llen + 1; i < n; i++)
        out[i] = ascii_lower(out[i]);
    rc = put(norm, normsz, s, n, "Email", err);
    if (rc) {
        clear_out(out, outsz);
        return rc;
    }
    for (size_t i = 0; i < n; i++)
        norm[i] = ascii_lower(norm[i]);
    return CC_OK;
}

/* ---- mobile ------------------------------------------------------------- */

/* 11 digits, "1" then 3–9: the shape of every mainland China mobile number. */
static int is_mainland_mobile(const char *d, size_t n)
{
    if (n != 11 || d[0] != '1' || d[1] < '3' || d[1] > '9')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)d[i]))
            return 0;
    return 1;
}

static enum cc_err mobile_error(struct cc_error *err)
{
    return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Mobile",
                        "The mobile number must be a mainland China mobile number (11 digits "
                        "starting with 13 to 19) or an international number starting with + "
                        "and the country code, such as +44 7911 123456.");
}

/*
 * Normalises a mobile number to E.164. Spaces and hyphens are ignored.
 * Mainland numbers may be written bare (11 digits), or with a +86, 0086 or
 * 86 prefix; a +86/0086 number that is not a mainland mobile is rejected.
 * Other countries need "+" or "00" and the country code: 8–15 digits, the
 * first not 0. out (caller-owned, CC_MOBILE_MAX + 1) gets "+<digits>".
 */
enum cc_err cc_validate_mobile(const char *in, char *out, size_t outsz, struct cc_error *err)
{
    clear_out(out, outsz);
    if (!in)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Mobile",
                            "A mobile number is required.");

    const char *s = in, *e = in + strlen(in);
    trim_ascii(&s, &e);
    if (s == e)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Mobile",
                            "A mobile number is required.");

    /* Keep the digits (and one leading '+'), bounded: anything longer than
     * "00" plus 15 digits is wrong however it is written. */
    char d[20];
    size_t n = 0;
    int plus = 0;
    for (const char *p = s; p < e; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == ' ' || c == '-')
            continue;
        if (c == '+' && !plus && n == 0) {
            plus = 1;
            continue;
        }
        if (!is_digit(c) || n == sizeof d - 1)
            return mobile_error(err);
        d[n++] = (char)c;
    }
    d[n] = '\0';
    if (n == 0)
        return plus ? mobile_error(err)
                    : cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Mobile",
                                   "A mobile number is required.");

    const char *num; /* the digits after "+" in E.164 */
    if (plus) {
        num = d;
    } else if (is_mainland_mobile(d, n)) {
        char buf[CC_MOBILE_MAX + 1];
        int w = snprintf(buf, sizeof buf, "+86%s", d);
        return put(out, outsz, buf, (size_t)w, "Mobile", err);
    } else if (n > 2 && d[0] == '0' && d[1] == '0') {
        num = d + 2;
    } else if (n == 13 && d[0] == '8' && d[1] == '6' && is_mainland_mobile(d + 2, 11)) {
        num = d;
    } else {
        return mobile_error(err);
    }

    size_t len = strlen(num);
    if (len >= 2 && num[0] == '8' && num[1] == '6') {
        if (!is_mainland_mobile(num + 2, len - 2))
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Mobile",
                                "A +86 number must be a mainland China mobile number: 11 "
                                "digits starting with 13 to 19.");
    } else if (len < 8 || len > 15 || num[0] == '0') {
        return mobile_error(err);
    }
    char buf[CC_MOBILE_MAX + 1];
    int w = snprintf(buf, sizeof buf, "+%s", num);
    assert(w > 0 && (size_t)w < sizeof buf);
    return put(out, outsz, buf, (size_t)w, "Mobile", err);
}

/* ---- PRC resident identity card ------------------------------------------ */

static int valid_province(int p)
{
    return (p >= 11 && p <= 15) || (p >= 21 && p <= 23) || (p >= 31 && p <= 37) ||
           (p >= 41 && p <= 46) || (p >= 50 && p <= 54) || (p >= 61 && p <= 65) || p == 71 ||
           p == 81 || p == 82;
}

static int days_in_month(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Value of n decimal digits already known to be digits. */
static int digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/*
 * Validates an 18-character PRC resident identity card number: a known
 * province code, a real birth date from 1900 up to `today` (YYYYMMDD), and
 * the ISO 7064 MOD 11-2 check character, 'x' accepted as 'X'. Surrounding
 * white space is trimmed. out (caller-owned, CC_IDCARD_LEN + 1) gets the
 * number with an upper-case X.
 */
enum cc_err cc_validate_id_card(const char *in, int today, char *out, size_t outsz,
                                struct cc_error *err)
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    static const char checks[] = "10X98765432";

    clear_out(out, outsz);
    if (!in)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "IdCard",
                            "An ID card number is required.");
    const char *s = in, *e = in + strlen(in);
    trim_ascii(&s, &e);
    if (s == e)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "IdCard",
                            "An ID card number is required.");

    char id[CC_IDCARD_LEN + 1];
    if (e - s != CC_IDCARD_LEN)
        goto bad_form;
    for (int i = 0; i < 17; i++)
        if (!is_digit((unsigned char)s[i]))
            goto bad_form;
    memcpy(id, s, CC_IDCARD_LEN);
    id[CC_IDCARD_LEN] = '\0';
    if (id[17] == 'x')
        id[17] = 'X';
    if (!is_digit((unsigned char)id[17]) && id[17] != 'X')
        goto bad_form;

    if (!valid_province(digits_value(id, 2)))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "IdCard",
                            "The ID card number does not start with a valid province code.");

    int y = digits_value(id + 6, 4), m = digits_value(id + 10, 2), d = digits_value(id + 12, 2);
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m) ||
        digits_value(id + 6, 8) > today)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "IdCard",
                            "The ID card number does not contain a valid date of birth.");

    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (id[i] - '0') * weights[i];
    if (checks[sum % 11] != id[17])
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "IdCard",
                            "The ID card number's last character does not match the others; "
                            "please check it for typing mistakes.");
    return put(out, outsz, id, CC_IDCARD_LEN, "IdCard", err);

bad_form:
    return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "IdCard",
                        "The ID card number must be 18 characters: 17 digits followed by a "
                        "digit or X.");
}

/* ---- language ------------------------------------------------------------ */

/*
 * Accepts "en" and the spellings of Simplified Chinese ("zh", "zh-CN",
 * "zh_CN", "zh-Hans"), case-insensitively and with surrounding white space
 * trimmed. out (caller-owned, CC_LANG_MAX + 1) gets "en" or "zh-CN".
 */
enum cc_err cc_validate_language(const char *in, char *out, size_t outsz, struct cc_error *err)
{
    static const char *const zh[] = {"zh", "zh-cn", "zh_cn", "zh-hans"};

    clear_out(out, outsz);
    if (!in)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Language",
                            "A language is required.");
    const char *s = in, *e = in + strlen(in);
    trim_ascii(&s, &e);
    size_t n = (size_t)(e - s);
    if (n == 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Language",
                            "A language is required.");
    char buf[CC_LANG_MAX + 1];
    if (n < sizeof buf) {
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (cc_strcaseeq(buf, "en"))
            return put(out, outsz, "en", 2, "Language", err);
        for (size_t i = 0; i < sizeof zh / sizeof zh[0]; i++)
            if (cc_strcaseeq(buf, zh[i]))
                return put(out, outsz, "zh-CN", 5, "Language", err);
    }
    return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Language",
                        "The language must be \"en\" (English) or \"zh-CN\" (Simplified "
                        "Chinese).");
}

/* ---- webhook URLs -------------------------------------------------------- */

#define WEBHOOK_TOKEN_MAX 128

/* Every accepted form, for error messages. */
static const char webhook_forms[] =
    "https://oapi.dingtalk.com/robot/send?access_token=…, "
    "https://open.feishu.cn/open-apis/bot/v2/hook/… (or open.larksuite.com), "
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…";

static const struct {
    enum cc_webhook_kind kind;
    const char *host;
    const char *path;     /* exact path, or prefix of the hook id */
    int path_is_prefix;   /* the path ends in the hook id */
} webhook_hosts[] = {
    {CC_WEBHOOK_DINGTALK, "oapi.dingtalk.com", "/robot/send", 0},
    {CC_WEBHOOK_FEISHU, "open.feishu.cn", "/open-apis/bot/v2/hook/", 1},
    {CC_WEBHOOK_LARK, "open.larksuite.com", "/open-apis/bot/v2/hook/", 1},
    {CC_WEBHOOK_WECOM, "qyapi.weixin.qq.com", "/cgi-bin/webhook/send", 0},
};

static enum cc_err webhook_error(struct cc_error *err, const char *reason)
{
    return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Webhooks", "%s. Accepted: %s", reason,
                        webhook_forms);
}

/* 1..max characters, each a letter or digit, or also '-' if dash. */
static int token_ok(const char *s, size_t n, int dash)
{
    if (n == 0 || n > WEBHOOK_TOKEN_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_alnum(c) && !(dash && c == '-'))
            return 0;
    }
    return 1;
}

/* The value of a pasted DingTalk timestamp or sign, which we drop anyway:
 * digits, or percent-encoded base64. */
static int dropped_value_ok(const char *s, size_t n, int digits_only)
{
    if (n == 0 || n > CC_URL_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (digits_only ? !is_digit(c) : !(is_alnum(c) || (c && strchr("%+/=_-", c))))
            return 0;
    }
    return 1;
}

/*
 * Checks the query of a DingTalk or WeCom URL: '&'-separated key=value
 * pairs with no empty pairs, each key at most once. DingTalk needs
 * access_token and may carry timestamp and sign; WeCom needs key and
 * nothing else. On success, *tok and *toklen give the token inside q.
 */
static enum cc_err check_query(enum cc_webhook_kind kind, const char *q, const char **tok,
                               size_t *toklen, struct cc_error *err)
{
    const char *want = kind == CC_WEBHOOK_DINGTALK ? "access_token" : "key";
    int seen_ts = 0, seen_sign = 0;

    *tok = NULL;
    *toklen = 0;
    for (const char *p = q; *p;) {
        const char *amp = strchr(p, '&');
        size_t n = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (!eq)
            goto unexpected;
        size_t klen = (size_t)(eq - p), vlen = n - klen - 1;
        const char *v = eq + 1;
        if (klen == strlen(want) && memcmp(p, want, klen) == 0) {
            if (*tok)
                return webhook_error(err, kind == CC_WEBHOOK_DINGTALK
                                              ? "The URL repeats access_token"
                                              : "The URL repeats key");
            if (!token_ok(v, vlen, kind == CC_WEBHOOK_WECOM))
                return webhook_error(err, kind == CC_WEBHOOK_DINGTALK
                                              ? "The access_token must be 1 to 128 letters "
                                                "and digits"
                                              : "The key must be 1 to 128 letters, digits "
                                                "and hyphens");
            *tok = v;
            *toklen = vlen;
        } else if (kind == CC_WEBHOOK_DINGTALK && klen == 9 && memcmp(p, "timestamp", 9) == 0 &&
                   !seen_ts && dropped_value_ok(v, vlen, 1)) {
            seen_ts = 1;
        } else if (kind == CC_WEBHOOK_DINGTALK && klen == 4 && memcmp(p, "sign", 4) == 0 &&
                   !seen_sign && dropped_value_ok(v, vlen, 0)) {
            seen_sign = 1;
        } else {
            goto unexpected;
        }
        if (!amp)
            break;
        p = amp + 1;
        if (!*p)
            goto unexpected; /* trailing '&' */
    }
    if (!*tok)
        return webhook_error(err, kind == CC_WEBHOOK_DINGTALK
                                      ? "A DingTalk URL needs its access_token"
                                      : "A WeCom URL needs its key");
    return CC_OK;

unexpected:
    return webhook_error(err, kind == CC_WEBHOOK_DINGTALK
                                  ? "DingTalk URLs take only access_token, timestamp and sign"
                                  : "A WeCom URL takes only the key parameter");
}

/* curl_url_get() of one part, as given (not decoded), into a string the
 * caller frees with curl_free(); NULL when the part is absent. */
static char *url_part(CURLU *h, CURLUPart part)
{
    char *v = NULL;
    if (curl_url_get(h, part, &v, 0)) {
        curl_free(v);
        return NULL;
    }
    return v;
}

/*
 * Classifies a robot webhook URL (spec: chatbots-and-sms.md, "URL
 * classification"). The URL is parsed with libcurl, every part checked, and
 * the parts compared with the raw text so that nothing libcurl normalised
 * away (percent-encoding, dot segments, a stray slash) slips through. On
 * success out (caller-owned, CC_URL_MAX + 1) gets the canonical URL, with a
 * lower-case host and any pasted DingTalk timestamp/sign dropped, and *kind
 * the platform. On failure out is empty and *kind is CC_WEBHOOK_NONE.
 */
enum cc_err cc_webhook_classify(const char *url, char *out, size_t outsz,
                                enum cc_webhook_kind *kind, struct cc_error *err)
{
    enum cc_err rc = CC_OK;
    CURLU *h = NULL;
    char *scheme = NULL, *user = NULL, *pass = NULL, *opts = NULL, *host = NULL,
         *port = NULL, *path = NULL, *query = NULL, *frag = NULL, *zone = NULL;
    char raw[CC_URL_MAX + 1];

    clear_out(out, outsz);
    if (kind)
        *kind = CC_WEBHOOK_NONE;
    if (!url)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Webhooks",
                            "A webhook URL is required.");
    const char *s = url, *e = url + strlen(url);
    trim_ascii(&s, &e);
    size_t n = (size_t)(e - s);
    if (n == 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Webhooks",
                            "A webhook URL is required.");
    if (n > CC_URL_MAX)
        return webhook_error(err, "The URL is longer than 512 characters");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7F)
            return webhook_error(err, "The URL contains spaces or other characters not allowed");
    }
    if (memchr(s, '#', n))
        return webhook_error(err, "The URL must not contain a #fragment");
    memcpy(raw, s, n);
    raw[n] = '\0';

    h = curl_url();
    if (!h)
        return cc_error_set(err, CC_ERR_INTERNAL, "Webhooks", "Out of memory.");
    if (curl_url_set(h, CURLUPART_URL, raw, 0)) {
        rc = webhook_error(err, "This is not a valid https:// URL");
        goto out;
    }
    scheme = url_part(h, CURLUPART_SCHEME);
    if (!scheme || strcmp(scheme, "https") != 0 || n < 8 || !caseeq_n(raw, "https://", 8)) {
        rc = webhook_error(err, "Only https:// URLs are accepted");
        goto out;
    }
    user = url_part(h, CURLUPART_USER);
    pass = url_part(h, CURLUPART_PASSWORD);
    opts = url_part(h, CURLUPART_OPTIONS);
    if (user || pass || opts || memchr(raw, '@', n)) {
        rc = webhook_error(err, "The URL must not contain a user name or password");
        goto out;
    }
    frag = url_part(h, CURLUPART_FRAGMENT);
    if (frag) {
        rc = webhook_error(err, "The URL must not contain a #fragment");
        goto out;
    }
    port = url_part(h, CURLUPART_PORT);
    if (port && strcmp(port, "443") != 0) {
        rc = webhook_error(err, "The URL must not name a port other than 443");
        goto out;
    }
    zone = url_part(h, CURLUPART_ZONEID);
    host = url_part(h, CURLUPART_HOST);
    path = url_part(h, CURLUPART_PATH);
    query = url_part(h, CURLUPART_QUERY);
    if (zone || !host || !path) {
        rc = webhook_error(err, "This is not a robot webhook URL");
        goto out;
    }

    /* The raw text must be exactly https:// host [:443] path [?query]. */
    const char *a = raw + 8;
    size_t alen = strcspn(a, "/?");
    size_t hlen = strlen(host);
    int authority_ok = alen >= hlen && caseeq_n(a, host, hlen) &&
                       (alen == hlen || (alen == hlen + 4 && memcmp(a + hlen, ":443", 4) == 0));
    const char *rp = a + alen;
    size_t plen = strcspn(rp, "?");
    const char *rq = rp[plen] == '?' ? rp + plen + 1 : NULL;
    int path_ok = strlen(path) == plen && memcmp(rp, path, plen) == 0;
    int query_ok = (!rq && !query) || (rq && query && strcmp(rq, query) == 0) ||
                   (rq && !*rq && !query);
    if (!authority_ok) {
        rc = webhook_error(err, "Write the host plainly; any port must be 443");
        goto out;
    }

    size_t nhosts = sizeof webhook_hosts / sizeof webhook_hosts[0], which = nhosts;
    for (size_t i = 0; i < nhosts; i++)
        if (cc_strcaseeq(host, webhook_hosts[i].host))
            which = i;
    if (which == nhosts) {
        rc = webhook_error(err, "The host is not a supported chat robot platform");
        goto out;
    }
    if (!path_ok || !query_ok) {
        rc = webhook_error(err, "Write the path plainly, without %-escapes or dot segments");
        goto out;
    }
    enum cc_webhook_kind k = webhook_hosts[which].kind;
    const char *canon_host = webhook_hosts[which].host;
    const char *want = webhook_hosts[which].path;
    char buf[CC_URL_MAX + 1];
    int w;

    if (webhook_hosts[which].path_is_prefix) {
        size_t wl = strlen(want);
        if (strncmp(path, want, wl) != 0) {
            rc = webhook_error(err, "The path must be /open-apis/bot/v2/hook/ and the hook id");
            goto out;
        }
        if (!token_ok(path + wl, strlen(path + wl), 1)) {
            rc = webhook_error(err, "The hook id must be 1 to 128 letters, digits and hyphens");
            goto out;
        }
        if (rq) {
            rc = webhook_error(err, "A Feishu or Lark URL takes no query parameters");
            goto out;
        }
        w = snprintf(buf, sizeof buf, "https://%s%s", canon_host, path);
    } else {
        const char *tok;
        size_t toklen;
        if (strcmp(path, want) != 0) {
            rc = webhook_error(err, k == CC_WEBHOOK_DINGTALK
                                        ? "A DingTalk URL's path must be /robot/send"
                                        : "A WeCom URL's path must be /cgi-bin/webhook/send");
            goto out;
        }
        rc = check_query(k, rq ? rq : "", &tok, &toklen, err);
        if (rc)
            goto out;
        w = snprintf(buf, sizeof buf, "https://%s%s?%s=%.*s", canon_host, path,
                     k == CC_WEBHOOK_DINGTALK ? "access_token" : "key", (int)toklen, tok);
    }
    if (w < 0 || (size_t)w >= sizeof buf) {
        rc = webhook_error(err, "The URL is longer than 512 characters");
        goto out;
    }
    rc = put(out, outsz, buf, (size_t)w, "Webhooks", err);
    if (!rc && kind)
        *kind = k;

out:
    curl_free(scheme);
    curl_free(user);
    curl_free(pass);
    curl_free(opts);
    curl_free(host);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_free(frag);
    curl_free(zone);
    curl_url_cleanup(h);
    return rc;
}

/*
 * Checks a robot's signing secret against its platform: printable ASCII
 * (0x21–0x7E), 1..CC_SECRET_MAX characters; DingTalk secrets start with
 * "SEC" and something after it; WeCom robots have no secret at all. The
 * secret is never trimmed (there is no output) and never quoted in errors.
 */
enum cc_err cc_validate_webhook_secret(enum cc_webhook_kind kind, const char *secret,
                                       struct cc_error *err)
{
    if (kind == CC_WEBHOOK_WECOM)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                            "WeCom group robots have no signing secret; leave it out.");
    if (kind != CC_WEBHOOK_DINGTALK && kind != CC_WEBHOOK_FEISHU && kind != CC_WEBHOOK_LARK)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                            "A signing secret needs a DingTalk, Feishu or Lark webhook URL.");
    size_t n = secret ? strlen(secret) : 0;
    if (n == 0 || n > CC_SECRET_MAX)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                            "The signing secret must be 1 to %d characters long.",
                            CC_SECRET_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)secret[i];
        if (c < 0x21 || c > 0x7E)
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                                "The signing secret may only contain printable ASCII "
                                "characters, without spaces.");
    }
    if (kind == CC_WEBHOOK_DINGTALK && (n <= 3 || memcmp(secret, "SEC", 3) != 0))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                            "A DingTalk signing secret starts with SEC, as shown in the "
                            "robot's security settings.");
    return CC_OK;
}
