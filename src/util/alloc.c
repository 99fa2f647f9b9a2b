/*
 * alloc.c — the allocation wrappers. Out of memory in the service aborts, on
 * purpose, in this one place: a half-handled allocation failure deep in a
 * request is worse than a restart by the supervisor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static void oom(size_t n)
{
    fprintf(stderr, "{\"level\":\"error\",\"msg\":\"out of memory\",\"bytes\":%zu}\n", n);
    abort();
}

void *cc_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *cc_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *cc_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *cc_strdup(const char *s)
{
    return cc_strndup(s, strlen(s));
}

char *cc_strndup(const char *s, size_t n)
{
    char *p = cc_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void cc_free(void *p)
{
    free(p);
}
