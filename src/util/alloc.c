/*
 * alloc.c — the allocation wrappers. Out of memory in the service aborts, on
 * purpose, in this one place: a half-handled allocation failure deep in a
 * request is worse than a restart by the supervisor.
 *
 * The libraries underneath (jansson, libcurl, SQLite) handle a failed
 * allocation themselves and report it; they allocate through the cc_try_*
 * family, which returns NULL instead of aborting. Those are the allocations
 * a test can make fail on purpose, the way SQLite's test_malloc.c and curl's
 * memdebug torture tests do: cc_alloc_fail_after(n) fails the n-th of them
 * from now. Our own cc_malloc & co are not failed by the hook: their
 * failure is abort() by design, and nothing would be learnt from it.
 */
#include <jansson.h>
#include <malloc.h>
#include <stdatomic.h>
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

/* ---- allocations that may fail, and the failure hook ------------------------
 * countdown < 0: the hook is off, and costs one relaxed load per allocation.
 * countdown = k >= 0: k more allocations succeed, the next one fails and
 * switches the hook off again. Threads race for the countdown with a
 * compare-and-swap, so exactly one allocation fails. */
static _Atomic long countdown = -1;
static _Atomic long failures;
static _Thread_local unsigned long thread_failures;

static int inject(void)
{
    long v = atomic_load_explicit(&countdown, memory_order_relaxed);
    if (v < 0)
        return 0;
    while (v >= 0) {
        if (atomic_compare_exchange_weak_explicit(&countdown, &v, v - 1, memory_order_relaxed,
                                                  memory_order_relaxed)) {
            if (v > 0)
                return 0;
            atomic_fetch_add_explicit(&failures, 1, memory_order_relaxed);
            return 1;
        }
    }
    return 0;
}

void cc_alloc_fail_after(long n)
{
    atomic_store_explicit(&countdown, n < 0 ? -1 : n, memory_order_relaxed);
}

long cc_alloc_failures(void)
{
    return atomic_load_explicit(&failures, memory_order_relaxed);
}

unsigned long cc_alloc_thread_failures(void)
{
    return thread_failures;
}

/* Counts a failed allocation (injected or real) for this thread. */
static void *counted(void *p)
{
    if (!p)
        thread_failures++;
    return p;
}

void *cc_try_malloc(size_t n)
{
    return counted(inject() ? NULL : malloc(n ? n : 1));
}

void *cc_try_calloc(size_t n, size_t size)
{
    return counted(inject() ? NULL : calloc(n ? n : 1, size ? size : 1));
}

void *cc_try_realloc(void *p, size_t n)
{
    return counted(inject() ? NULL : realloc(p, n ? n : 1));
}

char *cc_try_strdup(const char *s)
{
    size_t n = strlen(s);
    char *p = cc_try_malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

/* jansson keeps its allocator in globals that it reads without a lock, so
 * this runs before any thread starts. Both sides are malloc and free
 * underneath, so a value jansson allocated before the switch is still freed
 * correctly after it. */
void cc_alloc_init(void)
{
    json_set_alloc_funcs(cc_try_malloc, cc_free);
}

/* A dispatcher thread's batch allocates and frees a few hundred KB
 * (contacts, messages, transfers). glibc gave the top of the thread's heap
 * back to the system at every batch's end (above 128 KB free) and faulted
 * the same pages in again at the next: 13% of the dispatchers' CPU. Free
 * memory up to `bytes` now stays with the heap; the server still gives back
 * start-up's with malloc_trim once ready. Setting the trim threshold stops
 * glibc from adjusting either threshold, so the mmap threshold is set too,
 * as glibc would have raised it (to half the trim threshold): at its 128 KB
 * default a page of 20 contacts (212 KB) was mapped, faulted in and
 * unmapped at every request. */
void cc_alloc_keep_free(size_t bytes)
{
    mallopt(M_TRIM_THRESHOLD, (int)bytes);
    mallopt(M_MMAP_THRESHOLD, (int)(bytes / 2));
}

/* Under ASan every allocation is ASan's: glibc's malloc is never set up
 * (ASan's mallopt does nothing), so malloc_trim would set it up first, and
 * two threads trimming at once (the main thread once ready, a resting
 * thread) raced in that set-up and crashed. */
void cc_alloc_trim(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return;
#else
    malloc_trim(0);
#endif
}
