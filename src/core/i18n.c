/*
 * i18n.c — the message catalog: English as the code writes it, looked up in
 * the Simplified Chinese table that scripts/po2c.sh generates from
 * po/zh_CN.po. The English is the key (gettext's way): a message has no
 * second name to keep in step, and xgettext finds every one in the source,
 * so the test that every message is translated reads the code itself.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>

#include "core/core.h"
#include "core/i18n_table.h"
#include "util/util.h"

/* Reasons the store writes itself, in SQL (sqlite_outbox.c,
 * sqlite_reminders.c): named here so that the catalog has them. */
static const char *const store_reasons[] __attribute__((unused)) = {
    N_("the contact was deleted"),
    N_("the certificate no longer needs reminders (renewed, revoked or deleted)"),
};

static const struct cc_catalog_entry **by_id; /* the entries sorted by msgid */
static size_t *literal_len;                   /* per sorted entry: its text besides conversions */
static size_t n_entries;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int is_zh(const char *lang)
{
    return lang && strcmp(lang, "zh-CN") == 0;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp((*(const struct cc_catalog_entry *const *)a)->msgid,
                  (*(const struct cc_catalog_entry *const *)b)->msgid);
}

/* A printf conversion at s ('%' first): its length, and in *conv its
 * conversion character ('%' for "%%"); *pos its "N$" position or 0. */
static size_t conversion(const char *s, char *conv, int *pos)
{
    const char *p = s + 1;
    *pos = 0;
    if (isdigit((unsigned char)*p)) {
        const char *q = p;
        int n = 0;
        while (isdigit((unsigned char)*q))
            n = n * 10 + (*q++ - '0');
        if (*q == '$') {
            *pos = n;
            p = q + 1;
        }
    }
    p += strspn(p, "-+ #0'");
    p += strspn(p, "0123456789*");
    if (*p == '.') {
        p++;
        p += strspn(p, "0123456789*");
    }
    p += strspn(p, "hlLqjzt");
    *conv = *p ? *p : '\0';
    return (size_t)(p - s) + (*p ? 1 : 0);
}

static size_t literal_length(const char *fmt)
{
    size_t n = 0;
    while (*fmt) {
        if (*fmt == '%') {
            char c;
            int pos;
            size_t k = conversion(fmt, &c, &pos);
            n += c == '%';
            fmt += k ? k : 1;
        } else {
            n++;
            fmt++;
        }
    }
    return n;
}

static void build_index(void)
{
    size_t n = cc_catalog_zh_count;
    by_id = calloc(n ? n : 1, sizeof *by_id);
    literal_len = calloc(n ? n : 1, sizeof *literal_len);
    if (!by_id || !literal_len)
        return; /* English only: the catalog is a nicety, not a duty */
    for (size_t i = 0; i < n; i++)
        by_id[i] = &cc_catalog_zh[i];
    qsort(by_id, n, sizeof *by_id, cmp_entry);
    for (size_t i = 0; i < n; i++)
        literal_len[i] = literal_length(by_id[i]->msgid);
    n_entries = n;
}

static const struct cc_catalog_entry *find(const char *msgid)
{
    pthread_once(&once, build_index);
    size_t lo = 0, hi = n_entries;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(msgid, by_id[mid]->msgid);
        if (c == 0)
            return by_id[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

const char *cc_tr(const char *lang, const char *msgid)
{
    if (!msgid || !is_zh(lang))
        return msgid;
    const struct cc_catalog_entry *e = find(msgid);
    return e ? e->msgstr : msgid;
}

const char *cc_trn(const char *lang, const char *one, const char *other, long n)
{
    if (is_zh(lang)) {
        const struct cc_catalog_entry *e = find(one);
        if (e && e->msgid_plural)
            return e->msgstr;
    }
    return n == 1 ? one : other;
}

/* ---- reading English text back into its message ---------------------------- */

#define MAX_CAPS 8
#define MAX_DEPTH 2
struct capture {
    const char *p;
    size_t n;
    char conv;
};

/* What a conversion may have printed at s: its shortest and longest length.
 * Strings take anything; numbers their characters. */
static size_t longest(char conv, const char *s)
{
    switch (conv) {
    case 'd': case 'i': case 'u':
        return strspn(s, "-0123456789");
    case 'x': case 'X':
        return strspn(s, "0123456789abcdefABCDEF");
    case 'f': case 'g': case 'e':
        return strspn(s, "-+0123456789.e");
    case 'c':
        return *s ? 1 : 0;
    default:
        return strlen(s);
    }
}

/* 1 when s is what fmt prints for some values, the values' text in caps.
 * Several strings in a row can be split many ways: *budget bounds the
 * tries, and a text that uses it up matches nothing. */
static int match(const char *fmt, const char *s, struct capture *caps, int ncap, int *budget)
{
    if (--*budget < 0)
        return 0;
    while (*fmt && *fmt != '%') {
        if (*fmt++ != *s++)
            return 0;
    }
    if (!*fmt)
        return *s == '\0';
    char conv;
    int pos;
    size_t k = conversion(fmt, &conv, &pos);
    if (conv == '%')
        return *s == '%' && match(fmt + k, s + 1, caps, ncap, budget);
    if (!conv || conv == 'p' || conv == 'n' || ncap >= MAX_CAPS || strchr(fmt, '*'))
        return 0;
    size_t max = longest(conv, s);
    size_t min = conv == 's' ? 0 : 1;
    for (size_t n = min; n <= max; n++) {
        caps[ncap] = (struct capture){s, n, conv};
        if (match(fmt + k, s + n, caps, ncap + 1, budget))
            return 1;
    }
    return 0;
}

static int count_caps(const char *fmt)
{
    int n = 0;
    while ((fmt = strchr(fmt, '%'))) {
        char c;
        int pos;
        size_t k = conversion(fmt, &c, &pos);
        n += c != '%';
        fmt += k ? k : 1;
    }
    return n;
}

static int tr_text(const char *lang, const char *english, char *out, size_t outsz, int depth);

void cc_utf8_trim(char *s)
{
    size_t n = strlen(s);
    for (size_t back = 1; back <= 4 && back <= n; back++) {
        unsigned char c = (unsigned char)s[n - back];
        if ((c & 0xC0) == 0x80)
            continue; /* a continuation byte: look further back */
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        if (need > back)
            s[n - back] = '\0';
        return;
    }
}

/* Appends n bytes of s to out at *o; what does not fit is cut (never half
 * a character) and nothing is appended after it. */
static void put(char *out, size_t outsz, size_t *o, const char *s, size_t n)
{
    if (*o >= outsz - 1)
        return;
    int cut = *o + n >= outsz;
    if (cut)
        n = outsz - 1 - *o;
    memcpy(out + *o, s, n);
    *o += n;
    out[*o] = '\0';
    if (cut) {
        cc_utf8_trim(out);
        *o = outsz - 1; /* full */
    }
}

/* Copies tpl's text up to its next conversion into out (a "%%" as "%"):
 * that conversion (NULL at the end), its length in *k, its character in
 * *conv and its "N$" position (or 0) in *pos. */
static const char *copy_text(const char *tpl, char *out, size_t outsz, size_t *o, size_t *k,
                             char *conv, int *pos)
{
    while (*tpl) {
        if (*tpl != '%') {
            size_t n = strcspn(tpl, "%");
            put(out, outsz, o, tpl, n);
            tpl += n;
            continue;
        }
        *k = conversion(tpl, conv, pos);
        if (*conv != '%')
            return tpl;
        put(out, outsz, o, "%", 1);
        tpl += *k;
    }
    return NULL;
}

/* Writes the translation tpl with the values caps into out. */
static void fill(const char *lang, const char *tpl, const struct capture *caps, int ncaps,
                 char *out, size_t outsz, int depth)
{
    size_t o = 0, k = 0;
    int next = 0, pos;
    char conv;
    out[0] = '\0';
    while ((tpl = copy_text(tpl, out, outsz, &o, &k, &conv, &pos))) {
        tpl += k ? k : 1;
        int i = pos > 0 ? pos - 1 : next++;
        if (i < 0 || i >= ncaps)
            continue;
        char value[512];
        size_t n = caps[i].n < sizeof value ? caps[i].n : sizeof value - 1;
        memcpy(value, caps[i].p, n);
        value[n] = '\0';
        char inner[512];
        if (caps[i].conv == 's' && depth < MAX_DEPTH &&
            tr_text(lang, value, inner, sizeof inner, depth + 1))
            put(out, outsz, &o, inner, strlen(inner));
        else
            put(out, outsz, &o, value, n);
    }
}

/* A message followed by details of its own ("<reason> (DingTalk 310000:
 * …)"): the longest message of the catalog that begins the text, before
 * " (", ": " or "; ", in Chinese, and the details as they are. */
static int tr_prefix(const char *english, char *out, size_t outsz)
{
    const struct cc_catalog_entry *best = NULL;
    size_t best_n = 0;
    for (size_t i = 0; i < n_entries; i++) {
        const char *id = by_id[i]->msgid;
        if (id[0] != english[0])
            continue; /* not a prefix: the common case, without measuring id */
        size_t n = strlen(id);
        if (n < 8 || n <= best_n || strchr(id, '%') || strncmp(english, id, n) != 0)
            continue;
        if (english[n] == '\0' || !strncmp(english + n, " (", 2) || !strncmp(english + n, ": ", 2) ||
            !strncmp(english + n, "; ", 2)) {
            best = by_id[i];
            best_n = n;
        }
    }
    if (!best)
        return 0;
    size_t o = 0;
    out[0] = '\0';
    put(out, outsz, &o, best->msgstr, strlen(best->msgstr));
    put(out, outsz, &o, english + best_n, strlen(english + best_n));
    return 1;
}

static int tr_text(const char *lang, const char *english, char *out, size_t outsz, int depth)
{
    cc_strlcpy(out, english, outsz);
    if (!is_zh(lang) || !english[0])
        return 0;
    const struct cc_catalog_entry *e = find(english);
    if (e && !strchr(e->msgid, '%')) {
        cc_strlcpy(out, e->msgstr, outsz);
        return 1;
    }
    /* The most specific format that prints this text wins; one that is
     * mostly conversions ("%s: %s") would claim any text, so it must have
     * words of its own: at least 8 bytes, all of them in the text, so a
     * shorter text (a value such as "webhook" or "en") is no message. */
    size_t len = strlen(english);
    if (len < 8)
        return 0;
    const struct cc_catalog_entry *best = NULL;
    struct capture best_caps[MAX_CAPS];
    int best_n = 0;
    size_t best_len = 0;
    for (size_t i = 0; i < n_entries; i++) {
        if (literal_len[i] < 8 || literal_len[i] <= best_len)
            continue;
        const char *forms[2] = {by_id[i]->msgid, by_id[i]->msgid_plural};
        for (int f = 0; f < 2 && forms[f]; f++) {
            struct capture caps[MAX_CAPS];
            int budget = 20000;
            /* a text holds every literal byte of a format it matches */
            if ((f == 0 ? literal_len[i] : literal_length(forms[f])) > len)
                continue;
            if (count_caps(forms[f]) <= MAX_CAPS && match(forms[f], english, caps, 0, &budget)) {
                best = by_id[i];
                best_len = literal_len[i];
                best_n = count_caps(forms[f]);
                memcpy(best_caps, caps, sizeof caps);
                break;
            }
        }
    }
    if (best) {
        fill(lang, best->msgstr, best_caps, best_n, out, outsz, depth);
        return 1;
    }
    return tr_prefix(english, out, outsz);
}

int cc_tr_text(const char *lang, const char *english, char *out, size_t outsz)
{
    if (!outsz)
        return 0;
    if (!english) {
        out[0] = '\0';
        return 0;
    }
    pthread_once(&once, build_index);
    return tr_text(lang, english, out, outsz, 0);
}

/* ---- Accept-Language ------------------------------------------------------- */

/* The q of the element at p (up to its ','), 1000 = 1.0. */
static int quality(const char *p, const char *end)
{
    const char *q = p;
    while ((q = memchr(q, ';', (size_t)(end - q)))) {
        q++;
        while (q < end && *q == ' ')
            q++;
        if (end - q >= 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
            q += 2;
            int v = 0, scale = 1000;
            if (q < end && *q == '1')
                return 1000;
            if (q < end && *q == '0')
                q++;
            if (q < end && *q == '.')
                for (q++; q < end && isdigit((unsigned char)*q) && scale > 1; q++)
                    v += (*q - '0') * (scale /= 10);
            return v;
        }
    }
    return 1000;
}

const char *cc_lang_from_accept(const char *h)
{
    if (!h)
        return "en";
    int zh = -1, en = -1, any = -1;
    while (*h) {
        h += strspn(h, " ,");
        const char *end = h + strcspn(h, ",");
        if (end == h)
            break;
        int q = quality(h, end);
        size_t tag = strcspn(h, ";, ");
        if (tag >= 2 && strncasecmp(h, "zh", 2) == 0 && (tag == 2 || h[2] == '-'))
            zh = q > zh ? q : zh;
        else if (tag >= 2 && strncasecmp(h, "en", 2) == 0 && (tag == 2 || h[2] == '-'))
            en = q > en ? q : en;
        else if (tag == 1 && h[0] == '*')
            any = q;
        h = end;
    }
    if (en < 0)
        en = any; /* "*" stands for every language not named */
    return zh > 0 && zh > en ? "zh-CN" : "en";
}

/* ---- formatting a translation with the English's values ------------------- */

#define MAX_ARGS 12
/* One value of a printf call, read as fmt's conversion says. */
struct value {
    char conv;     /* 'i' signed, 'u' unsigned, 'f' double, 's' string, 'p' pointer */
    char ch;       /* the conversion character: 'd', 'x', 'c', 's' ... */
    char bounded;  /* a precision bounds the string: it may not end in a NUL */
    union {
        long long i;
        unsigned long long u;
        double f;
        const char *s;
        const void *p;
    } v;
};

/* The kind of a conversion character and its length modifier, or 0 for one
 * this reader does not take ('*' widths, %n, long double). */
static char kind_of(const char *spec, size_t n, char conv)
{
    if (memchr(spec, '*', n) || memchr(spec, 'L', n) || memchr(spec, '$', n))
        return 0;
    switch (conv) {
    case 'd': case 'i': return 'i';
    case 'u': case 'x': case 'X': case 'o': case 'c': return 'u';
    case 'f': case 'g': case 'e': case 'F': case 'G': case 'E': return 'f';
    case 's': return 's';
    case 'p': return 'p';
    default: return 0;
    }
}

static void read_value(struct value *v, const char *mod, va_list *ap)
{
    int l = (int)strspn(mod, "l"), h = (int)strspn(mod, "h");
    int z = mod[0] == 'z', j = mod[0] == 'j', t = mod[0] == 't';
    switch (v->conv) {
    case 'i':
        v->v.i = l >= 2 ? va_arg(*ap, long long) : l == 1 ? va_arg(*ap, long)
               : z ? (long long)va_arg(*ap, ssize_t) : j ? (long long)va_arg(*ap, intmax_t)
               : t ? (long long)va_arg(*ap, ptrdiff_t) : va_arg(*ap, int);
        break;
    case 'u':
        v->v.u = l >= 2 ? va_arg(*ap, unsigned long long) : l == 1 ? va_arg(*ap, unsigned long)
               : z ? va_arg(*ap, size_t) : j ? (unsigned long long)va_arg(*ap, uintmax_t)
               : t ? (unsigned long long)va_arg(*ap, ptrdiff_t) : va_arg(*ap, unsigned);
        break;
    case 'f': v->v.f = va_arg(*ap, double); break;
    case 's': v->v.s = va_arg(*ap, const char *); break;
    default: v->v.p = va_arg(*ap, const void *); break;
    }
    (void)h; /* h and hh arrive promoted to int */
}

/* Reads the values of fmt's conversions from ap: their count, or -1 when
 * fmt has a conversion this reader does not take. */
static int read_values(const char *fmt, va_list ap, struct value *vals)
{
    va_list aq;
    va_copy(aq, ap);
    int n = 0;
    while ((fmt = strchr(fmt, '%'))) {
        char conv;
        int pos;
        size_t k = conversion(fmt, &conv, &pos);
        if (conv == '%') {
            fmt += k;
            continue;
        }
        char kind = k ? kind_of(fmt, k, conv) : 0;
        if (!kind || n >= MAX_ARGS || pos) {
            n = -1;
            break;
        }
        struct value *v = &vals[n++];
        v->conv = kind;
        v->ch = conv;
        v->bounded = memchr(fmt, '.', k) != NULL;
        read_value(v, fmt + 1 + strspn(fmt + 1, "-+ #0'0123456789."), &aq);
        fmt += k;
    }
    va_end(aq);
    return n;
}

/* spec: the conversion, its integers widened to long long ("%-5llu") */
static int print_one(char *out, size_t outsz, const char *spec, const struct value *v)
{
    switch (v->conv) {
    case 'i': return snprintf(out, outsz, spec, v->v.i);
    case 'u':
        if (v->ch == 'c')
            return snprintf(out, outsz, spec, (int)v->v.u);
        return snprintf(out, outsz, spec, v->v.u);
    case 'f': return snprintf(out, outsz, spec, v->v.f);
    case 's':
        if (!v->v.s)
            return snprintf(out, outsz, "%s", "(null)");
        if (v->bounded)
            return snprintf(out, outsz, spec, v->v.s);
        /* a message as it is, or one made from a format of the catalog */
        const char *t = cc_tr("zh-CN", v->v.s);
        char made[512];
        if (t == v->v.s && strlen(v->v.s) < sizeof made &&
            tr_text("zh-CN", v->v.s, made, sizeof made, 1))
            t = made;
        return snprintf(out, outsz, spec, t);
    default: return snprintf(out, outsz, spec, v->v.p);
    }
}

int cc_tr_vformat(char *out, size_t outsz, const char *fmt, const char *tr, va_list ap)
{
    if (!outsz)
        return 0;
    out[0] = '\0';
    struct value vals[MAX_ARGS];
    int n = read_values(fmt, ap, vals);
    if (n < 0)
        return 0;
    size_t o = 0, k = 0;
    int next = 0, pos;
    char conv;
    while ((tr = copy_text(tr, out, outsz, &o, &k, &conv, &pos))) {
        int i = pos > 0 ? pos - 1 : next++;
        char kind = k ? kind_of(tr, k, conv) : (char)0;
        if (pos) /* "%2$s": the position read, the rest is an ordinary spec */
            kind = conv == 's' ? 's' : kind_of("", 0, conv);
        if (i >= n || kind != vals[i].conv) {
            out[0] = '\0';
            return 0; /* not the English's conversions: never guess at types */
        }
        /* the conversion as the translation writes it, with the English's
         * length modifier (same type), without any "N$" */
        char spec[40];
        const char *flags = tr + 1;
        if (pos)
            flags = strchr(tr, '$') + 1;
        size_t fl = strspn(flags, "-+ #0'0123456789.");
        if (fl > 24 || (vals[i].bounded && !memchr(flags, '.', fl))) {
            out[0] = '\0';
            return 0;
        }
        int wide = (vals[i].conv == 'i' || vals[i].conv == 'u') && vals[i].ch != 'c';
        snprintf(spec, sizeof spec, "%%%.*s%s%c", (int)fl, flags, wide ? "ll" : "", vals[i].ch);
        char piece[512];
        int w = print_one(piece, sizeof piece, spec, &vals[i]);
        if (w > 0)
            put(out, outsz, &o, piece, (size_t)w < sizeof piece ? (size_t)w : sizeof piece - 1);
        tr += k;
    }
    return 1;
}
