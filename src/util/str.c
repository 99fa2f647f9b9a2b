/*
 * str.c — bounded string copies, the one number parser and the one integer
 * writer. strtoll is called only here, with range and trailing-junk checks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

size_t cc_strlcpy(char *dst, const char *src, size_t dstsz)
{
    size_t n = strlen(src);
    if (dstsz) {
        size_t c = n < dstsz - 1 ? n : dstsz - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return n;
}

size_t cc_strlcat(char *dst, const char *src, size_t dstsz)
{
    size_t d = strnlen(dst, dstsz);
    if (d == dstsz)
        return dstsz + strlen(src);
    return d + cc_strlcpy(dst + d, src, dstsz - d);
}

size_t cc_strlcat_i64(char *dst, int64_t v, size_t dstsz)
{
    char digits[CC_I64_CHARS];
    cc_fmt_i64(digits, v);
    return cc_strlcat(dst, digits, dstsz);
}

int cc_parse_i64n(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
    char tmp[32];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (i == 0 && c == '-' && n > 1)))
            return -1;
    }
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    char *end = NULL;
    long long v = strtoll(tmp, &end, 10);
    if (errno || !end || *end || v < min || v > max)
        return -1;
    *out = (int64_t)v;
    return 0;
}

int cc_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    return cc_parse_i64n(s, strlen(s), min, max, out);
}

size_t cc_fmt_i64(char out[CC_I64_CHARS], int64_t v)
{
    /* digits from the end: INT64_MIN too, through uint64_t */
    char tmp[CC_I64_CHARS], *e = tmp + sizeof tmp, *d = e;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do
        *--d = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--d = '-';
    size_t n = (size_t)(e - d);
    memcpy(out, d, n);
    out[n] = '\0';
    return n;
}

int cc_strcaseeq(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a, y = *b;
        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
}

void cc_ascii_lower(char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
}
