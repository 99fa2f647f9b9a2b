/*
 * acme_dns.c — what DNS-01 needs outside the process: the operator's hook
 * command that adds or removes the TXT record (run directly, no shell, with
 * its arguments as separate words and a deadline), and a look-up of the TXT
 * record (libresolv, at the configured resolver or the system's) to wait
 * until it is visible before the CA is told to check it.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/core.h"
#include "delivery/delivery.h"
#include "util/util.h"

extern char **environ;

int cc_acme_dns_hook(const char *hook, const char *op, const char *name, const char *value,
                     int64_t timeout_ms, char *err, size_t errsz)
{
    char *argv[] = {(char *)hook, (char *)op, (char *)name, (char *)value, NULL};
    pid_t pid;
    int rc = posix_spawn(&pid, hook, NULL, NULL, argv, environ);
    if (rc) {
        snprintf(err, errsz, "acme_dns_hook %s cannot run: %s", hook, strerror(rc));
        return -1;
    }
    int64_t deadline = cc_now_ms() + timeout_ms;
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            snprintf(err, errsz, "acme_dns_hook: waiting for it failed: %s", strerror(errno));
            return -1;
        }
        if (cc_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(err, errsz, "acme_dns_hook %s %s did not finish within %lld ms", hook, op,
                     (long long)timeout_ms);
            return -1;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(err, errsz, "acme_dns_hook %s %s %s failed (exit status %d)", hook, op, name,
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    return 0;
}

/* Sets res to ask only resolver ("IPv4:PORT"); 0, or -1 when it is not one. */
static int use_resolver(res_state res, const char *resolver)
{
    char host[64];
    cc_strlcpy(host, resolver, sizeof host);
    char *colon = strrchr(host, ':');
    long port = 53;
    if (colon) {
        *colon = '\0';
        port = strtol(colon + 1, NULL, 10);
    }
    struct in_addr a;
    if (port <= 0 || port > 65535 || inet_pton(AF_INET, host, &a) != 1)
        return -1;
    res->nsaddr_list[0].sin_family = AF_INET;
    res->nsaddr_list[0].sin_addr = a;
    res->nsaddr_list[0].sin_port = htons((uint16_t)port);
    res->nscount = 1;
    return 0;
}

int cc_acme_dns_txt_visible(const char *resolver, const char *name, const char *value)
{
    struct __res_state res;
    memset(&res, 0, sizeof res);
    if (res_ninit(&res))
        return -1;
    res.options &= ~(RES_DNSRCH | RES_DEFNAMES);
    res.retrans = 2;
    res.retry = 1;
    if (resolver && resolver[0] && use_resolver(&res, resolver)) {
        res_nclose(&res);
        return -1;
    }
    unsigned char ans[4096];
    int len = res_nquery(&res, name, ns_c_in, ns_t_txt, ans, sizeof ans);
    res_nclose(&res);
    if (len < 0)
        return 0;
    ns_msg msg;
    if (ns_initparse(ans, len, &msg))
        return 0;
    size_t vlen = strlen(value);
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) || ns_rr_type(rr) != ns_t_txt)
            continue;
        const unsigned char *p = ns_rr_rdata(rr);
        size_t n = ns_rr_rdlen(rr);
        /* one or more character-strings: the value is the first (43 bytes) */
        if (n >= 1 && p[0] == vlen && n >= 1 + vlen && memcmp(p + 1, value, vlen) == 0)
            return 1;
    }
    return 0;
}
