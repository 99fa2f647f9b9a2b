/*
 * until.c — waits, in one process, until a local HTTP endpoint says so: the
 * start-up figure of bench/run.sh and the end of a run of
 * bench/delivery.sh.
 *
 * It polls with one libcurl handle (one keep-alive connection) every
 * --every-ms milliseconds. A loop of curl commands in the shell forks and
 * execs a process or more for every poll; on two cores those processes take
 * CPU from the server being measured, and the figure then measures the
 * poller too (bench/README.md gives what that came to).
 *
 *   until --url URL --since NS [--timeout S] [--every-ms M]
 *       until URL answers 200; prints the milliseconds from NS (nanoseconds
 *       of CLOCK_REALTIME: `date +%s%N` taken just before the server was
 *       started) to that answer.
 *   until --url URL --field NAME --at-least N [--timeout S] [--every-ms M]
 *       until the number after the word NAME in URL's answer (a line of
 *       "name value" pairs, as bench/receiver.c's /stats) is at least N;
 *       prints the last number seen.
 *
 * Exits 0 when the condition was met, 1 when --timeout seconds (default
 * 120) passed first (printing "timeout: last status S, last value V") or
 * the process --pid P (the server waited on) ended first (printing "process
 * P ended: ..."), 2 on a usage error. --every-ms defaults to 1 for the first
 * form and 10 for the second.
 */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct body {
    char text[4096];
    size_t len;
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t keep(char *p, size_t size, size_t n, void *arg)
{
    struct body *b = arg;
    size_t len = size * n, room = sizeof b->text - 1 - b->len;
    memcpy(b->text + b->len, p, len < room ? len : room);
    b->len += len < room ? len : room;
    b->text[b->len] = '\0';
    return len;
}

/* 0 once process pid has ended: gone, or a zombie its parent (the shell
 * that is waiting on this program) has not reaped yet. */
static int alive(long pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *end = strrchr(buf, ')'); /* the name may hold spaces and ')' */
    return !(end && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X'));
}

/* The number after the word name in text, or -1. */
static long long field(const char *text, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = text; (p = strstr(p, name)) != NULL; p += n) {
        int starts = p == text || p[-1] == ' ' || p[-1] == '\n';
        if (starts && p[n] == ' ')
            return strtoll(p + n + 1, NULL, 10);
    }
    return -1;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *name = NULL;
    long long at_least = -1;
    int64_t since = 0;
    long timeout_s = 120, every_ms = -1, pid = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url"))
            url = argv[i + 1];
        else if (!strcmp(argv[i], "--since"))
            since = strtoll(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--field"))
            name = argv[i + 1];
        else if (!strcmp(argv[i], "--at-least"))
            at_least = strtoll(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--timeout"))
            timeout_s = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--every-ms"))
            every_ms = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--pid"))
            pid = strtol(argv[i + 1], NULL, 10);
    }
    int ready = name == NULL;
    if (!url || timeout_s <= 0 || (ready ? since <= 0 : at_least < 0)) {
        fprintf(stderr, "usage: until --url URL --since NS [--timeout S] [--every-ms M] "
                        "[--pid P]\n"
                        "       until --url URL --field NAME --at-least N [--timeout S] "
                        "[--every-ms M] [--pid P]\n");
        return 2;
    }
    if (every_ms < 0)
        every_ms = ready ? 1 : 10;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    CURL *h = curl_easy_init();
    if (!h)
        return 2;
    struct body b;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    int64_t start = now_ns(), end = start + (int64_t)timeout_s * 1000000000;
    const struct timespec pause = {every_ms / 1000, (every_ms % 1000) * 1000000};
    long code = 0;
    long long value = -1;
    int rc = 1, ended = 0;
    while (now_ns() < end) {
        if (pid > 0 && !alive(pid)) {
            ended = 1;
            break;
        }
        code = 0;
        b.len = 0;
        b.text[0] = '\0';
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (ready && code == 200) {
            printf("%lld\n", (long long)((now_ns() - since) / 1000000));
            rc = 0;
            break;
        }
        if (!ready && code == 200 && (value = field(b.text, name)) >= at_least) {
            printf("%lld\n", value);
            rc = 0;
            break;
        }
        nanosleep(&pause, NULL);
    }
    if (ended)
        printf("process %ld ended: last status %ld, last value %lld\n", pid, code, value);
    else if (rc)
        printf("timeout: last status %ld, last value %lld\n", code, value);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return rc;
}
