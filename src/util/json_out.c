/*
 * json_out.c — a jansson value written as compact JSON, byte for byte what
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes (test_json_out
 * compares them), without its per-token callbacks and printf: answers are
 * written this way on every request, where json_dumps was a tenth of a
 * GET's time. Reals, which need jansson's own formatting, are handed to it.
 * With the keys of every object in order, as JSON_SORT_KEYS writes them,
 * for the audit log's changes (hashed into its chain as written).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/util.h"

#define DEPTH_MAX 2048 /* deeper is refused (NULL), as no answer nests so */

static int put(struct cc_buf *b, const char *s, size_t n)
{
    return cc_buf_append(b, s, n);
}

/* 1 when none of the eight bytes at s is a control character (below 0x20),
 * a quote or a backslash. A byte's high bit set by subtracting is a byte
 * below the subtrahend, or one of 0x80..0xFF (ruled out by ~v's high bit); a
 * byte equal to c is zero after the XOR. */
static int plain8(const char *s)
{
    uint64_t v;
    memcpy(&v, s, sizeof v);
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t quote = v ^ (ones * '"'), backslash = v ^ (ones * '\\');
    uint64_t hit = ((v - ones * 0x20) & ~v) | ((quote - ones) & ~quote) |
                   ((backslash - ones) & ~backslash);
    return !(hit & highs);
}

/* s[0..n) as a JSON string: what jansson escapes without JSON_ENSURE_ASCII
 * (the quote, the backslash, control characters: \b \f \n \r \t short, the
 * rest as \u00XX in capitals); everything else, UTF-8 included, as is. */
int cc_json_put_string(struct cc_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (put(b, "\"", 1))
        return -1;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        /* eight bytes at a time while none needs escaping */
        while (n - i >= 8 && plain8(s + i))
            i += 8;
        if (i == n)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if (put(b, s + run, i - run))
            return -1;
        run = i + 1;
        char esc[6] = {'\\', 0};
        size_t len = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        }
        if (put(b, esc, len))
            return -1;
    }
    return put(b, s + run, n - run) || put(b, "\"", 1) ? -1 : 0;
}

static int put_integer(struct cc_buf *b, json_int_t v)
{
    char digits[CC_I64_CHARS];
    return put(b, digits, cc_fmt_i64(digits, (int64_t)v));
}

/* A real in jansson's own words (its precision and "1.0" rule). */
static int put_real(struct cc_buf *b, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc = s ? cc_buf_puts(b, s) : -1;
    free(s);
    return rc;
}

static int put_value(struct cc_buf *b, const json_t *v, int depth, int sorted);

/* One member of an object: "key":value, after a comma unless first. */
static int put_member(struct cc_buf *b, void *it, int first, int depth, int sorted)
{
    return (!first && put(b, ",", 1)) ||
                   cc_json_put_string(b, json_object_iter_key(it), json_object_iter_key_len(it)) ||
                   put(b, ":", 1) || put_value(b, json_object_iter_value(it), depth + 1, sorted)
               ? -1
               : 0;
}

/* JSON_SORT_KEYS's order: the keys' bytes, then the shorter first. */
static int key_order(const void *a, const void *b)
{
    void *ia = *(void *const *)a, *ib = *(void *const *)b;
    size_t na = json_object_iter_key_len(ia), nb = json_object_iter_key_len(ib);
    int c = memcmp(json_object_iter_key(ia), json_object_iter_key(ib), na < nb ? na : nb);
    return c ? c : (na > nb) - (na < nb);
}

static int put_object(struct cc_buf *b, const json_t *v, int depth, int sorted)
{
    size_t n = json_object_size(v);
    if (put(b, "{", 1))
        return -1;
    if (!sorted || n < 2) {
        int first = 1;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it), first = 0)
            if (put_member(b, it, first, depth, sorted))
                return -1;
        return put(b, "}", 1);
    }
    void *stack[16], **its = n <= 16 ? stack : malloc(n * sizeof *its);
    if (!its)
        return -1;
    size_t k = 0;
    for (void *it = json_object_iter((json_t *)v); it && k < n;
         it = json_object_iter_next((json_t *)v, it))
        its[k++] = it;
    qsort(its, k, sizeof *its, key_order);
    int rc = 0;
    for (size_t i = 0; i < k && !rc; i++)
        rc = put_member(b, its[i], i == 0, depth, sorted);
    if (its != stack)
        free(its);
    return rc || put(b, "}", 1) ? -1 : 0;
}

static int put_value(struct cc_buf *b, const json_t *v, int depth, int sorted)
{
    if (depth > DEPTH_MAX)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return put_object(b, v, depth, sorted);
    case JSON_ARRAY: {
        if (put(b, "[", 1))
            return -1;
        for (size_t i = 0, n = json_array_size(v); i < n; i++)
            if ((i && put(b, ",", 1)) || put_value(b, json_array_get(v, i), depth + 1, sorted))
                return -1;
        return put(b, "]", 1);
    }
    case JSON_STRING:
        return cc_json_put_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        return put_integer(b, json_integer_value(v));
    case JSON_REAL:
        return put_real(b, v);
    case JSON_TRUE:
        return put(b, "true", 4);
    case JSON_FALSE:
        return put(b, "false", 5);
    case JSON_NULL:
        return put(b, "null", 4);
    }
    return -1;
}

static char *compact(const json_t *v, size_t *len, int sorted)
{
    struct cc_buf b;
    cc_buf_init(&b, (size_t)-1 / 2);
    if (!v || cc_buf_append(&b, NULL, 0) || put_value(&b, v, 0, sorted)) {
        cc_buf_free(&b);
        return NULL;
    }
    return cc_buf_steal(&b, len);
}

char *cc_json_compact(const json_t *v, size_t *len)
{
    return compact(v, len, 0);
}

char *cc_json_compact_sorted(const json_t *v, size_t *len)
{
    return compact(v, len, 1);
}
