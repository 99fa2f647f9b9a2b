/*
 * floor_curl_multi.c — the floor of `make bench-delivery`, and the client
 * bench/delivery.sh uses to talk to certcontacts.
 *
 * A bare libcurl multi client: --concurrency transfers in flight at once on
 * one thread, every easy handle reused (so its connection is kept alive),
 * POSTing bodies to URLs with the same headers certcontacts' senders use
 * (Content-Type: application/json; charset=utf-8, no Expect: 100-continue).
 * No rendering, no database, no bookkeeping: posting the bodies
 * certcontacts sends to the same receiver is the best any dispatcher could
 * do with libcurl on this machine, which is what the floor is.
 *
 *   floor_curl_multi --urls FILE --bodies FILE [--count N] [--concurrency C]
 *                    [--seconds S] [--gap-ms G] [--auth USER:PASS] [--out FILE]
 *
 * --urls and --bodies hold one URL / one body a line; request i goes to URL
 * i mod (number of URLs) with body i mod (number of bodies). --count is the
 * number of requests (default: the larger of the two line counts);
 * --seconds stops starting new ones after S (whole) seconds (what is in flight
 * finishes); --gap-ms waits at least G ms between the starts of two
 * requests (for latency: one at a time). --out writes a line per request,
 * "i start_us end_us http_status answer", with times on CLOCK_REALTIME in
 * microseconds and the answer's first 2 KiB on one line.
 *
 * Prints "posts N ok K seconds S rate R" (ok: HTTP 2xx) and exits 0, or 1
 * if it could not run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "util/util.h"

#define ANSWER_MAX 2048

struct lines {
    char **v;
    size_t n;
};

struct slot {
    CURL *h;
    long i;                 /* request number, -1 when idle */
    int64_t start_us;
    size_t alen;
    char answer[ANSWER_MAX + 1];
};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int read_lines(const char *path, struct lines *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "floor_curl_multi: cannot open %s\n", path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0, vcap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len)
            continue;
        if (out->n == vcap) {
            vcap = vcap ? 2 * vcap : 64;
            char **g = realloc(out->v, vcap * sizeof *g);
            if (!g)
                return -1;
            out->v = g;
        }
        out->v[out->n++] = strdup(line);
    }
    free(line);
    fclose(f);
    if (!out->n) {
        fprintf(stderr, "floor_curl_multi: %s is empty\n", path);
        return -1;
    }
    return 0;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    struct slot *s = arg;
    size_t n = size * nmemb, room = ANSWER_MAX - s->alen;
    size_t k = n < room ? n : room;
    for (size_t j = 0; j < k; j++)
        s->answer[s->alen++] = (p[j] == '\n' || p[j] == '\r') ? ' ' : p[j];
    return n;
}

static void usage(void)
{
    fprintf(stderr, "usage: floor_curl_multi --urls FILE --bodies FILE [--count N] "
                    "[--concurrency C] [--seconds S] [--gap-ms G] [--auth USER:PASS] "
                    "[--out FILE]\n");
}

int main(int argc, char **argv)
{
    const char *urls_path = NULL, *bodies_path = NULL, *auth = NULL, *out_path = NULL;
    long count = -1, conc = 32, gap_ms = 0;
    double seconds = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--urls"))
            urls_path = v;
        else if (!strcmp(k, "--bodies"))
            bodies_path = v;
        else if (!strcmp(k, "--auth"))
            auth = v;
        else if (!strcmp(k, "--out"))
            out_path = v;
        else if (!strcmp(k, "--count") || !strcmp(k, "--concurrency") || !strcmp(k, "--gap-ms") ||
                 !strcmp(k, "--seconds")) {
            int64_t x;
            if (cc_parse_i64(v, 0, 100000000, &x)) {
                fprintf(stderr, "floor_curl_multi: %s takes a whole number, not \"%s\"\n", k, v);
                return 1;
            }
            if (!strcmp(k, "--count"))
                count = (long)x;
            else if (!strcmp(k, "--concurrency"))
                conc = (long)x;
            else if (!strcmp(k, "--gap-ms"))
                gap_ms = (long)x;
            else
                seconds = (double)x;
        } else {
            usage();
            return 1;
        }
    }
    if (!urls_path || !bodies_path || conc < 1 || conc > 1024) {
        usage();
        return 1;
    }
    struct lines urls = {0}, bodies = {0};
    if (read_lines(urls_path, &urls) || read_lines(bodies_path, &bodies))
        return 1;
    if (count < 0)
        count = (long)(urls.n > bodies.n ? urls.n : bodies.n);
    FILE *out = NULL;
    if (out_path && !(out = fopen(out_path, "w"))) {
        fprintf(stderr, "floor_curl_multi: cannot write %s\n", out_path);
        return 1;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, conc);
    struct curl_slist *hl = NULL;
    hl = curl_slist_append(hl, "Content-Type: application/json; charset=utf-8");
    hl = curl_slist_append(hl, "Expect:");
    struct slot *slots = calloc((size_t)conc, sizeof *slots);
    if (!m || !hl || !slots)
        return 1;
    for (long k = 0; k < conc; k++) {
        struct slot *s = &slots[k];
        s->i = -1;
        s->h = curl_easy_init();
        curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(s->h, CURLOPT_POST, 1L);
        curl_easy_setopt(s->h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(s->h, CURLOPT_PROXY, "");
        curl_easy_setopt(s->h, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(s->h, CURLOPT_USERAGENT, "certcontacts");
        curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
        curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
        if (auth) {
            curl_easy_setopt(s->h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
            curl_easy_setopt(s->h, CURLOPT_USERPWD, auth);
        }
    }

    long next = 0, done = 0, ok = 0, running_n = 0;
    int64_t t0 = mono_us(), last_start = 0;
    int64_t stop_at = seconds > 0 ? t0 + (int64_t)(seconds * 1e6) : INT64_MAX;
    for (;;) {
        /* start what may start */
        for (long k = 0; k < conc && next < count; k++) {
            struct slot *s = &slots[k];
            if (s->i >= 0)
                continue;
            int64_t mnow = mono_us();
            if (mnow >= stop_at) {
                count = next;
                break;
            }
            if (gap_ms && next > 0 && mnow - last_start < gap_ms * 1000)
                break;
            s->i = next;
            s->alen = 0;
            const char *b = bodies.v[(size_t)next % bodies.n];
            curl_easy_setopt(s->h, CURLOPT_URL, urls.v[(size_t)next % urls.n]);
            curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, b);
            curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(b));
            s->start_us = now_us();
            last_start = mnow;
            curl_multi_add_handle(m, s->h);
            running_n++;
            next++;
        }
        if (!running_n && next >= count)
            break;
        int still = 0;
        curl_multi_perform(m, &still);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct slot *s;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            long status = 0;
            curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result == CURLE_OK && status >= 200 && status < 300)
                ok++;
            if (out) {
                s->answer[s->alen] = '\0';
                fprintf(out, "%ld %lld %lld %ld %s\n", s->i, (long long)s->start_us,
                        (long long)now_us(), msg->data.result == CURLE_OK ? status : -1,
                        msg->data.result == CURLE_OK ? s->answer
                                                     : curl_easy_strerror(msg->data.result));
            }
            curl_multi_remove_handle(m, s->h);
            s->i = -1;
            running_n--;
            done++;
        }
        /* wait for the network, or for the next start if a slot is free */
        int wait_ms = 100;
        if (next < count && running_n < conc) {
            int64_t due = gap_ms ? last_start + gap_ms * 1000 - mono_us() : 0;
            wait_ms = due <= 0 ? 0 : (int)(due / 1000) + 1;
        }
        if (!wait_ms)
            continue;
        if (running_n)
            curl_multi_poll(m, NULL, 0, wait_ms, NULL);
        else
            usleep((useconds_t)wait_ms * 1000);
    }
    double secs = (double)(mono_us() - t0) / 1e6;
    printf("posts %ld ok %ld seconds %.3f rate %.0f\n", done, ok, secs,
           secs > 0 ? (double)done / secs : 0.0);
    if (out)
        fclose(out);
    for (long k = 0; k < conc; k++)
        curl_easy_cleanup(slots[k].h);
    curl_multi_cleanup(m);
    curl_slist_free_all(hl);
    curl_global_cleanup();
    return 0;
}
