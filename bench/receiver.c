/*
 * receiver.c — the robot platform of `make bench-delivery`: a local stand-in
 * for WeCom, DingTalk and Lark that accepts every message, as fast as
 * libmicrohttpd allows, and timestamps it.
 *
 * Every POST is read to the end and answered HTTP 200 with the platform's
 * success body ({"errcode":0,"errmsg":"ok"}, or {"code":0,"msg":"success"}
 * on Lark's /open-apis/ paths), so certcontacts records it as delivered. No
 * signature or rate-limit checks: tests/integration has the faithful
 * receivers; this one measures. On arrival of a message it counts it and
 * notes the time (CLOCK_REALTIME, microseconds, so another process's clock
 * can be compared with it); a message that contains "bench-ev<N>." (the
 * benchmark puts it in each event's domain) also sets the first-arrival
 * time of event N, if it is the first for N. A message that lists several
 * notifications (certcontacts merged them: "N certificate notifications")
 * counts as one message and is counted as merged.
 *
 * The same server is the target of the floor (bench/floor_curl_multi.c), so
 * the floor and certcontacts pay exactly the same receiving cost.
 *
 *   receiver [--port P] [--threads N] [--save-body FILE]
 *
 * Prints "port N" once listening and runs until SIGTERM or SIGINT.
 * --save-body writes the first message body received to FILE (the floor
 * posts it). Control requests (GET):
 *   /stats   "messages M merged G bytes B first_us F last_us L"
 *   /events  one line "N first_us" per event seen
 *   /reset   zeroes all of it
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#define MAX_BODY   (64 * 1024)
#define MAX_EVENTS 100000

static volatile sig_atomic_t stop;
static _Atomic int64_t messages, merged, bytes, first_us, last_us;
static _Atomic int64_t event_first[MAX_EVENTS];
static const char *save_path;
static atomic_int saved;
static struct MHD_Response *ok_resp, *lark_resp;

struct req {
    size_t len;
    int too_long;
    char body[MAX_BODY + 1];
};

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void note_min(_Atomic int64_t *v, int64_t t)
{
    int64_t cur = atomic_load(v);
    while ((cur == 0 || t < cur) && !atomic_compare_exchange_weak(v, &cur, t))
        ;
}

static void note_max(_Atomic int64_t *v, int64_t t)
{
    int64_t cur = atomic_load(v);
    while (t > cur && !atomic_compare_exchange_weak(v, &cur, t))
        ;
}

/* Counts one message and the events it names. */
static void arrived(const char *body, size_t len)
{
    int64_t t = now_us();
    atomic_fetch_add(&messages, 1);
    atomic_fetch_add(&bytes, (int64_t)len);
    note_min(&first_us, t);
    note_max(&last_us, t);
    if (strstr(body, "certificate notifications") || strstr(body, "条证书通知"))
        atomic_fetch_add(&merged, 1);
    for (const char *p = body; (p = strstr(p, "bench-ev")) != NULL;) {
        p += 8;
        char *end;
        long n = strtol(p, &end, 10);
        if (end != p && *end == '.' && n >= 0 && n < MAX_EVENTS)
            note_min(&event_first[n], t);
    }
    if (save_path && !atomic_exchange(&saved, 1)) {
        FILE *f = fopen(save_path, "w");
        if (f) {
            fwrite(body, 1, len, f);
            fclose(f);
        }
    }
}

static enum MHD_Result text(struct MHD_Connection *conn, const char *s)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_MUST_COPY);
    MHD_add_response_header(r, "Content-Type", "text/plain");
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result control(struct MHD_Connection *conn, const char *url)
{
    if (!strcmp(url, "/stats")) {
        char s[256];
        snprintf(s, sizeof s, "messages %lld merged %lld bytes %lld first_us %lld last_us %lld\n",
                 (long long)messages, (long long)merged, (long long)bytes, (long long)first_us,
                 (long long)last_us);
        return text(conn, s);
    }
    if (!strcmp(url, "/events")) {
        size_t cap = 64 * 1024, n = 0;
        char *s = malloc(cap);
        if (!s)
            return MHD_NO;
        for (int i = 0; i < MAX_EVENTS; i++) {
            int64_t t = atomic_load(&event_first[i]);
            if (!t)
                continue;
            if (cap - n < 64) {
                char *g = realloc(s, cap *= 2);
                if (!g) {
                    free(s);
                    return MHD_NO;
                }
                s = g;
            }
            n += (size_t)snprintf(s + n, cap - n, "%d %lld\n", i, (long long)t);
        }
        struct MHD_Response *r = MHD_create_response_from_buffer(n, s, MHD_RESPMEM_MUST_FREE);
        enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return rc;
    }
    if (!strcmp(url, "/reset")) {
        atomic_store(&messages, 0);
        atomic_store(&merged, 0);
        atomic_store(&bytes, 0);
        atomic_store(&first_us, 0);
        atomic_store(&last_us, 0);
        for (int i = 0; i < MAX_EVENTS; i++)
            atomic_store(&event_first[i], 0);
        return text(conn, "ok\n");
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)version;
    if (strcmp(method, "POST"))
        return control(conn, url);
    struct req *r = *con_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof *r)))
            return MHD_NO;
        *con_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (r->len + n > MAX_BODY) {
            r->too_long = 1;
            n = MAX_BODY - r->len;
        }
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        *upload_data_size = 0;
        return MHD_YES;
    }
    r->body[r->len] = '\0';
    arrived(r->body, r->len);
    return MHD_queue_response(conn, MHD_HTTP_OK,
                              !strncmp(url, "/open-apis/", 11) ? lark_resp : ok_resp);
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

int main(int argc, char **argv)
{
    unsigned port = 0, threads = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--save-body")) {
            save_path = argv[i + 1];
            continue;
        }
        char *end;
        unsigned long v = strtoul(argv[i + 1], &end, 10);
        if (*end || v > 65535) {
            fprintf(stderr, "receiver: bad value %s\n", argv[i + 1]);
            return 2;
        }
        if (!strcmp(argv[i], "--port"))
            port = (unsigned)v;
        else if (!strcmp(argv[i], "--threads") && v > 0)
            threads = (unsigned)v;
        else {
            fprintf(stderr, "usage: receiver [--port P] [--threads N] [--save-body FILE]\n");
            return 2;
        }
    }
    static const char ok[] = "{\"errcode\":0,\"errmsg\":\"ok\"}";
    static const char lark[] = "{\"code\":0,\"msg\":\"success\",\"data\":{}}";
    ok_resp = MHD_create_response_from_buffer(sizeof ok - 1, (void *)ok, MHD_RESPMEM_PERSISTENT);
    lark_resp =
        MHD_create_response_from_buffer(sizeof lark - 1, (void *)lark, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(ok_resp, "Content-Type", "application/json");
    MHD_add_response_header(lark_resp, "Content-Type", "application/json");

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, NULL, MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "receiver: cannot start libmicrohttpd on 127.0.0.1:%u\n", port);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("port %u\n", info ? (unsigned)info->port : port);
    fflush(stdout);

    struct sigaction sact;
    memset(&sact, 0, sizeof sact);
    sact.sa_handler = on_signal;
    sigaction(SIGTERM, &sact, NULL);
    sigaction(SIGINT, &sact, NULL);
    while (!stop)
        pause();
    MHD_stop_daemon(d);
    MHD_destroy_response(ok_resp);
    MHD_destroy_response(lark_resp);
    return 0;
}
