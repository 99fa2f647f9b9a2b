/*
 * buf.c — bounded growable buffers. Every buffer fed from the network has a
 * maximum; an append past it fails instead of growing without end.
 */
#include <stdio.h>
#include <string.h>

#include "util/util.h"

void cc_buf_init(struct cc_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void cc_buf_free(struct cc_buf *b)
{
    cc_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void cc_buf_reset(struct cc_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int reserve(struct cc_buf *b, size_t extra)
{
    if (extra > b->max || b->len + extra > b->max)
        return -1;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = cc_realloc(b->data, cap);
    b->cap = cap;
    return 0;
}

int cc_buf_append(struct cc_buf *b, const void *p, size_t n)
{
    if (reserve(b, n))
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int cc_buf_puts(struct cc_buf *b, const char *s)
{
    return cc_buf_append(b, s, strlen(s));
}

int cc_buf_printf(struct cc_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return cc_buf_append(b, small, (size_t)n);
    if (reserve(b, (size_t)n))
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *cc_buf_steal(struct cc_buf *b, size_t *len)
{
    if (!b->data) {
        reserve(b, 0);
        b->data[0] = '\0';
    }
    char *p = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
