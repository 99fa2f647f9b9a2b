/*
 * conns.c — many concurrent keep-alive connections, each answered once and
 * then held open, for the "10k connections" figure of bench/run.sh.
 *
 *   conns --port P --count N [--path PATH] [--inflight K] [--hold S]
 *         [--timeout S]
 *
 * Opens N connections to 127.0.0.1:P (at most K, default 256, connecting or
 * waiting for their answer at once, so the listen backlog never overflows),
 * sends one "GET PATH HTTP/1.1" (default /readyz) on each with keep-alive,
 * reads the status line, headers and Content-Length bytes of body, and keeps
 * the connection open. When every connection is answered or failed (or
 * --timeout seconds, default 60, have passed) it prints
 *   "opened O answered A ok G failed F"
 * (ok: answers with status 200), flushes, holds the connections for --hold
 * seconds (default 3), then checks which are still open (the server has not
 * closed them) and prints "still_open M". Exits 1 when none was answered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_MAX 2048

enum state { IDLE, CONNECTING, WAITING, ANSWERED, FAILED };

struct conn {
    int fd;
    enum state st;
    int status;
    size_t got;
    char buf[BUF_MAX];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dial(unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* 1 once the whole answer (headers and Content-Length bytes) is in. */
static int answer_complete(struct conn *c)
{
    c->buf[c->got] = '\0';
    char *end = strstr(c->buf, "\r\n\r\n");
    if (!end)
        return 0;
    /* "HTTP/1.x NNN ..." */
    c->status = strncmp(c->buf, "HTTP/1.", 7) == 0 && c->got > 12 ? (int)strtol(c->buf + 9, NULL, 10)
                                                                     : -1;
    size_t len = 0;
    char *cl = strcasestr(c->buf, "\r\nContent-Length:");
    if (cl && cl < end)
        len = strtoul(cl + 17, NULL, 10);
    return c->got >= (size_t)(end + 4 - c->buf) + len;
}

static void fail(struct conn *c, int *active)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->st = FAILED;
    (*active)--;
}

static void on_event(struct conn *c, uint32_t ev, const char *req, int *active)
{
    if (c->st == CONNECTING && (ev & EPOLLOUT)) {
        int e = 0;
        socklen_t l = sizeof e;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l);
        if (e || write(c->fd, req, strlen(req)) != (ssize_t)strlen(req))
            return fail(c, active);
        c->st = WAITING;
        return;
    }
    if (c->st == WAITING && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        ssize_t n = read(c->fd, c->buf + c->got, BUF_MAX - 1 - c->got);
        if (n <= 0)
            return fail(c, active);
        c->got += (size_t)n;
        if (answer_complete(c)) {
            c->st = ANSWERED;
            (*active)--;
        } else if (c->got >= BUF_MAX - 1) {
            fail(c, active);
        }
    }
}

static int arg_int(int argc, char **argv, const char *name, int def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return (int)strtol(argv[i + 1], NULL, 10);
    return def;
}

static const char *arg_str(int argc, char **argv, const char *name, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return def;
}

int main(int argc, char **argv)
{
    int port = arg_int(argc, argv, "--port", 0), count = arg_int(argc, argv, "--count", 0);
    int inflight = arg_int(argc, argv, "--inflight", 256), hold = arg_int(argc, argv, "--hold", 3);
    int timeout = arg_int(argc, argv, "--timeout", 60);
    const char *path = arg_str(argc, argv, "--path", "/readyz");
    if (port <= 0 || count <= 0 || inflight <= 0) {
        fprintf(stderr, "usage: conns --port P --count N [--path PATH] [--inflight K] "
                        "[--hold S] [--timeout S]\n");
        return 2;
    }
    char req[512];
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n",
             path);
    struct conn *cs = calloc((size_t)count, sizeof *cs);
    int ep = epoll_create1(0);
    if (!cs || ep < 0)
        return perror("conns"), 1;
    int next = 0, active = 0, opened = 0;
    char why[128] = "";
    double deadline = now_s() + timeout;
    struct epoll_event evs[256];
    while ((next < count || active > 0) && now_s() < deadline) {
        while (next < count && active < inflight) {
            struct conn *c = &cs[next++];
            c->fd = dial((unsigned)port);
            if (c->fd < 0) {
                if (!why[0])
                    snprintf(why, sizeof why, "connection %d: %s", next, strerror(errno));
                c->st = FAILED;
                continue;
            }
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
            c->st = CONNECTING;
            active++;
            opened++;
        }
        int n = epoll_wait(ep, evs, 256, 100);
        for (int i = 0; i < n; i++)
            on_event(evs[i].data.ptr, evs[i].events, req, &active);
    }
    int answered = 0, ok = 0, failed = 0;
    for (int i = 0; i < count; i++) {
        answered += cs[i].st == ANSWERED;
        ok += cs[i].st == ANSWERED && cs[i].status == 200;
        failed += cs[i].st != ANSWERED;
        if (cs[i].fd >= 0 && cs[i].st == ANSWERED) /* no more events wanted */
            epoll_ctl(ep, EPOLL_CTL_DEL, cs[i].fd, NULL);
    }
    printf("opened %d answered %d ok %d failed %d%s%s\n", opened, answered, ok, failed,
           why[0] ? " first_error " : "", why);
    fflush(stdout);
    sleep((unsigned)hold);
    int still = 0;
    for (int i = 0; i < count; i++) {
        char b;
        if (cs[i].st != ANSWERED)
            continue;
        ssize_t r = recv(cs[i].fd, &b, 1, MSG_DONTWAIT | MSG_PEEK);
        still += r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    printf("still_open %d\n", still);
    return answered ? 0 : 1;
}
