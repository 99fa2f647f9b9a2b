/*
 * latency.c — exact per-request latency of one GET, for the search figures
 * of bench/run.sh.
 *
 * One keep-alive HTTP/1.1 connection to 127.0.0.1, one request at a time:
 * send, read the status line and headers, read Content-Length bytes of
 * body, stop the clock. Every request's time is kept and sorted, so p50 and
 * p99 are the real order statistics of the run, not a histogram's estimate.
 * Requests that start during the warm-up are made but not counted (the
 * first queries after seeding read the database from the OS page cache into
 * SQLite's), unless no later request finished: then they are all there is.
 *
 * Bounded in time whatever the server does: new requests start only until
 * warm-up + --seconds, and a request still unanswered --timeout seconds
 * after that is abandoned; it then counts as a sample of the time waited so
 * far (a lower bound), even during the warm-up, and as a timeout.
 *
 *   latency --port P --path PATH [--keyword K] [--auth BASE64]
 *           [--seconds S] [--warmup S] [--timeout S]
 *
 * --keyword is percent-encoded and appended to PATH as keyword=K. Prints one
 * line: "n N p50_ms X p99_ms Y max_ms Z total T errors E timeouts U", where
 * total is the "total" field of the last JSON answer (-1 if none) and errors
 * counts answers other than 200. Exits 1 if there is no sample at all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define REQ_MAX  4096
#define RESP_MAX (4 * 1024 * 1024)

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int dial(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one response into buf (RESP_MAX). Returns the status, -2 when the
 * socket's receive timeout expired, or -1 when the connection failed or the
 * answer cannot be framed (no Content-Length).
 * *body points into buf; *closing is set when the server said
 * "Connection: close". */
static int read_response(int fd, char *buf, const char **body, size_t *body_len, int *closing)
{
    size_t have = 0, head_len = 0;
    char *eoh = NULL;
    while (!eoh) {
        if (have == RESP_MAX - 1)
            return -1;
        ssize_t r = read(fd, buf + have, RESP_MAX - 1 - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -2;
        if (r <= 0)
            return -1;
        have += (size_t)r;
        buf[have] = '\0';
        eoh = strstr(buf, "\r\n\r\n");
    }
    head_len = (size_t)(eoh - buf) + 4;
    if (strncmp(buf, "HTTP/1.1 ", 9) != 0 && strncmp(buf, "HTTP/1.0 ", 9) != 0)
        return -1;
    int status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    long clen = -1;
    *closing = 0;
    for (char *line = strstr(buf, "\r\n") + 2; line < eoh;) {
        char *le = strstr(line, "\r\n");
        if (strncasecmp(line, "Content-Length:", 15) == 0) {
            clen = 0;
            for (char *p = line + 15; p < le && clen < RESP_MAX; p++)
                if (*p >= '0' && *p <= '9')
                    clen = clen * 10 + (*p - '0');
        } else if (strncasecmp(line, "Connection:", 11) == 0 &&
                   memmem(line, (size_t)(le - line), "close", 5)) {
            *closing = 1;
        }
        line = le + 2;
    }
    if (clen < 0 || head_len + (size_t)clen >= RESP_MAX)
        return -1;
    while (have < head_len + (size_t)clen) {
        ssize_t r = read(fd, buf + have, head_len + (size_t)clen - have);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return -2;
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    buf[have] = '\0';
    *body = buf + head_len;
    *body_len = (size_t)clen;
    return status;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The q-quantile of sorted v[0..n-1], nearest rank. */
static double quantile(const double *v, size_t n, double q)
{
    size_t rank = (size_t)(q * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static void usage(void)
{
    fprintf(stderr, "usage: latency --port P --path PATH [--keyword K] [--auth BASE64] "
                    "[--seconds S] [--warmup S] [--timeout S]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned port = 0;
    const char *path = NULL, *keyword = NULL, *auth = NULL;
    double seconds = 5, warmup = 0.5, grace = 10;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        char *end = NULL;
        if (strcmp(argv[i - 1], "--port") == 0) {
            unsigned long p = strtoul(v, &end, 10);
            if (*end || p == 0 || p > 65535)
                usage();
            port = (unsigned)p;
        } else if (strcmp(argv[i - 1], "--path") == 0) {
            path = v;
        } else if (strcmp(argv[i - 1], "--keyword") == 0) {
            keyword = v;
        } else if (strcmp(argv[i - 1], "--auth") == 0) {
            auth = v;
        } else if (strcmp(argv[i - 1], "--seconds") == 0) {
            seconds = strtod(v, &end);
            if (*end || seconds <= 0 || seconds > 600)
                usage();
        } else if (strcmp(argv[i - 1], "--timeout") == 0) {
            grace = strtod(v, &end);
            if (*end || grace <= 0 || grace > 600)
                usage();
        } else if (strcmp(argv[i - 1], "--warmup") == 0) {
            warmup = strtod(v, &end);
            if (*end || warmup < 0 || warmup > 600)
                usage();
        } else {
            usage();
        }
    }
    if (!port || !path || path[0] != '/')
        usage();

    char target[1024];
    size_t n = (size_t)snprintf(target, sizeof target, "%s", path);
    if (keyword && n < sizeof target) {
        n += (size_t)snprintf(target + n, sizeof target - n, "%skeyword=",
                              strchr(path, '?') ? "&" : "?");
        for (const unsigned char *k = (const unsigned char *)keyword; *k && n + 4 < sizeof target;
             k++) {
            if ((*k >= 'A' && *k <= 'Z') || (*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') ||
                *k == '-' || *k == '_' || *k == '.' || *k == '~')
                target[n++] = (char)*k;
            else
                n += (size_t)snprintf(target + n, sizeof target - n, "%%%02X", *k);
        }
        target[n] = '\0';
    }
    char req[REQ_MAX];
    int req_len = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n%s%s%s\r\n",
                           target, port, auth ? "Authorization: Basic " : "", auth ? auth : "",
                           auth ? "\r\n" : "");
    if (req_len < 0 || (size_t)req_len >= sizeof req) {
        fprintf(stderr, "latency: request too long\n");
        return 2;
    }

    char *buf = malloc(RESP_MAX);
    size_t cap = 1024, count = 0;
    double *lat = malloc(cap * sizeof *lat);
    if (!buf || !lat) {
        fprintf(stderr, "latency: out of memory\n");
        return 1;
    }
    long errors = 0, total = -1, timeouts = 0;
    size_t nwarm = 0; /* warm-up samples at the start of lat, kept only while
                         there is nothing else: one slow query can outlast
                         the whole run */
    int fd = -1, first_error = 1;
    double start = now_ms(), count_from = start + warmup * 1e3, stop = count_from + seconds * 1e3;
    double hard_stop = stop + grace * 1e3;
    for (double t = start; t < stop;) {
        if (fd < 0 && (fd = dial(port)) < 0) {
            fprintf(stderr, "latency: cannot connect to 127.0.0.1:%u: %s\n", port, strerror(errno));
            break;
        }
        const char *body = NULL;
        size_t body_len = 0;
        int closing = 0;
        double t1 = now_ms();
        struct timeval tv;
        double left_ms = hard_stop - t1 > 1 ? hard_stop - t1 : 1;
        tv.tv_sec = (time_t)(left_ms / 1e3);
        tv.tv_usec = (suseconds_t)((left_ms - (double)tv.tv_sec * 1e3) * 1e3);
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int status = write_all(fd, req, (size_t)req_len) == 0
                         ? read_response(fd, buf, &body, &body_len, &closing)
                         : -1;
        double t2 = now_ms();
        t = t2;
        if (status == -2) {
            timeouts++;
            if (count == cap) {
                double *grown = realloc(lat, 2 * cap * sizeof *lat);
                if (!grown)
                    break;
                lat = grown;
                cap *= 2;
            }
            lat[count++] = t2 - t1;
            break;
        }
        if (status < 0) {
            /* the server closed an idle keep-alive connection: dial again */
            close(fd);
            fd = -1;
            errors++;
            if (errors > 100)
                break;
            continue;
        }
        if (status != 200) {
            errors++;
            if (first_error) {
                fprintf(stderr, "latency: HTTP %d: %.*s\n", status, (int)body_len, body);
                first_error = 0;
            }
        } else {
            const char *tp = strstr(body, "\"total\":");
            if (tp) {
                total = 0;
                for (tp += 8; *tp >= '0' && *tp <= '9'; tp++)
                    total = total * 10 + (*tp - '0');
            }
            if (t1 >= count_from || count == nwarm) {
                if (t1 < count_from)
                    nwarm++;
                if (count == cap) {
                    double *grown = realloc(lat, 2 * cap * sizeof *lat);
                    if (!grown)
                        break;
                    lat = grown;
                    cap *= 2;
                }
                lat[count++] = t2 - t1;
            }
        }
        if (closing) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    if (count == 0) {
        fprintf(stderr, "latency: no successful request (%ld errors)\n", errors);
        return 1;
    }
    if (count > nwarm) { /* drop the warm-up */
        memmove(lat, lat + nwarm, (count - nwarm) * sizeof *lat);
        count -= nwarm;
    }
    qsort(lat, count, sizeof *lat, cmp_double);
    printf("n %zu p50_ms %.2f p99_ms %.2f max_ms %.2f total %ld errors %ld timeouts %ld\n", count,
           quantile(lat, count, 0.50), quantile(lat, count, 0.99), lat[count - 1], total, errors,
           timeouts);
    free(lat);
    free(buf);
    return 0;
}
