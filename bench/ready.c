/*
 * ready.c — the start-up figure of bench/run.sh: how long after a given
 * moment the server's /readyz first answers 200.
 *
 * One process polls, with one libcurl handle, every millisecond until the
 * answer is 200. A loop of curl commands in the shell would fork and exec a
 * process for every poll; on two cores those processes take CPU from the
 * server that is starting, and the figure then measures the poller too (a
 * quarter to a third of a second more at a million contacts, measured).
 *
 *   ready --port P --since NS [--timeout S]
 *
 * --since is the start in nanoseconds of CLOCK_REALTIME (`date +%s%N` taken
 * just before the server is started). Prints the milliseconds from then to
 * the first 200 and exits 0; exits 1 when --timeout seconds (default 120)
 * pass first, printing the last HTTP status seen (0: no answer).
 */
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

int main(int argc, char **argv)
{
    long port = 0;
    int64_t since = 0;
    long timeout_s = 120;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--port"))
            port = strtol(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--since"))
            since = strtoll(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--timeout"))
            timeout_s = strtol(argv[i + 1], NULL, 10);
    }
    if (port <= 0 || port > 65535 || since <= 0 || timeout_s <= 0) {
        fprintf(stderr, "usage: ready --port P --since NS [--timeout S]\n");
        return 2;
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%ld/readyz", port);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 2;
    CURL *h = curl_easy_init();
    if (!h)
        return 2;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    long code = 0;
    int rc = 1;
    const struct timespec pause = {0, 1000000};
    while (now_ns() - since < (int64_t)timeout_s * 1000000000) {
        code = 0;
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (code == 200) {
            printf("%lld\n", (long long)((now_ns() - since) / 1000000));
            rc = 0;
            break;
        }
        nanosleep(&pause, NULL);
    }
    if (rc)
        printf("no 200 within %ld s (last status %ld)\n", timeout_s, code);
    curl_easy_cleanup(h);
    curl_global_cleanup();
    return rc;
}
