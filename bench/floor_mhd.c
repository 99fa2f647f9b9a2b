/*
 * floor_mhd.c — floor A of the benchmark: the fastest a libmicrohttpd server
 * with certcontacts' threading options can answer on this machine.
 *
 * It starts libmicrohttpd exactly as src/http/server.c does (an epoll
 * internal thread per pool thread, an inter-thread channel, a pool of
 * --threads threads, the same connection limit and timeout) and answers
 * every request, whatever its method and path, with one fixed 400-byte JSON
 * body built once at start. No parsing, no authentication, no database: what
 * is left is the HTTP library and the kernel's loopback, the part of a
 * request certcontacts cannot make cheaper. bench/run.sh loads it with the
 * same wrk command as GET /v1/contacts/{id} and prints the ratio.
 *
 *   floor_mhd [--port P] [--threads N]
 *
 * Prints "port N" once listening (port 0, the default, picks a free one) and
 * runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

#define BODY_LEN 400

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Every request gets the one response made at start; MHD counts references,
 * so queueing it many times at once from several threads is safe. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    struct MHD_Response *resp = cls;
    if (*con_cls == NULL) {
        /* first call: headers only; answer on the next one (as for a body) */
        *con_cls = conn;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* a request body is read and dropped */
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, resp);
}

/* A JSON object of exactly BODY_LEN bytes, shaped like a contact. */
static void make_body(char *out)
{
    const char *head = "{\"id\":123456,\"name\":\"Zhang Wei\",\"email\":\"zhang.wei@example.com\","
                       "\"email_status\":0,\"mobile\":\"+8613312345678\",\"mobile_status\":0,"
                       "\"language\":\"en\",\"version\":1,\"created_at\":\"2025-01-01T00:00:00.000Z\","
                       "\"updated_at\":\"2025-01-01T00:00:00.000Z\",\"pad\":\"";
    size_t n = strlen(head);
    memcpy(out, head, n);
    while (n < BODY_LEN - 2)
        out[n++] = 'x';
    out[n++] = '"';
    out[n++] = '}';
    out[n] = '\0';
}

int main(int argc, char **argv)
{
    unsigned port = 0, threads = 4;
    for (int i = 1; i + 1 < argc; i += 2) {
        char *end;
        unsigned long v = strtoul(argv[i + 1], &end, 10);
        if (*end || v > 65535) {
            fprintf(stderr, "floor_mhd: bad value %s\n", argv[i + 1]);
            return 2;
        }
        if (strcmp(argv[i], "--port") == 0)
            port = (unsigned)v;
        else if (strcmp(argv[i], "--threads") == 0 && v > 0)
            threads = (unsigned)v;
        else {
            fprintf(stderr, "usage: floor_mhd [--port P] [--threads N]\n");
            return 2;
        }
    }

    static char body[BODY_LEN + 1];
    make_body(body);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(BODY_LEN, body, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(resp, "Content-Type", "application/json; charset=utf-8");

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG, 0, NULL, NULL,
        on_request, resp, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "floor_mhd: cannot start libmicrohttpd on 127.0.0.1:%u\n", port);
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
    MHD_destroy_response(resp);
    return 0;
}
