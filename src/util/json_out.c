/*
 * json_out.c — a jansson value written as compact JSON, byte for byte what
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes (test_json_out
 * compares them), without its per-token callbacks and printf: answers are
 * written this way on every request, where json_dumps was a tenth of a
 * GET's time. Reals, which need jansson's own formatting, are handed to it.
 */
#include <string.h>

#include <jansson.h>

#include "util/util.h"

#define DEPTH_MAX 2048 /* deeper is refused (NULL), as no answer nests so */

static int put(struct cc_buf *b, const char *s, size_t n)
{
    return cc_buf_append(b, s, n);
}

/* s[0..n) as a JSON string: what jansson escapes without JSON_ENSURE_ASCII
 * (the quote, the backslash, control characters: \b \f \n \r \t short, the
 * rest as \u00XX in capitals); everything else, UTF-8 included, as is. */
static int put_string(struct cc_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (put(b, "\"", 1))
        return -1;
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
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
    char digits[24], *p = digits + sizeof digits;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return put(b, p, (size_t)(digits + sizeof digits - p));
}

/* A real in jansson's own words (its precision and "1.0" rule). */
static int put_real(struct cc_buf *b, const json_t *v)
{
    char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int rc = s ? cc_buf_puts(b, s) : -1;
    free(s);
    return rc;
}

static int put_value(struct cc_buf *b, const json_t *v, int depth)
{
    if (depth > DEPTH_MAX)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        if (put(b, "{", 1))
            return -1;
        int first = 1;
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            if ((!first && put(b, ",", 1)) ||
                put_string(b, json_object_iter_key(it), json_object_iter_key_len(it)) ||
                put(b, ":", 1) || put_value(b, json_object_iter_value(it), depth + 1))
                return -1;
            first = 0;
        }
        return put(b, "}", 1);
    }
    case JSON_ARRAY: {
        if (put(b, "[", 1))
            return -1;
        for (size_t i = 0, n = json_array_size(v); i < n; i++)
            if ((i && put(b, ",", 1)) || put_value(b, json_array_get(v, i), depth + 1))
                return -1;
        return put(b, "]", 1);
    }
    case JSON_STRING:
        return put_string(b, json_string_value(v), json_string_length(v));
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

char *cc_json_compact(const json_t *v, size_t *len)
{
    struct cc_buf b;
    cc_buf_init(&b, (size_t)-1 / 2);
    if (!v || cc_buf_append(&b, NULL, 0) || put_value(&b, v, 0)) {
        cc_buf_free(&b);
        return NULL;
    }
    return cc_buf_steal(&b, len);
}
