/*
 * client_address.c — who sent a request: the connection's peer, or, behind
 * a reverse proxy named in trusted_proxies, the address the proxy saw
 * (X-Forwarded-For) and whether it was HTTPS (X-Forwarded-Proto). From
 * anyone else those headers are claims that prove nothing, and are ignored.
 */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "http/server_int.h"
#include "util/util.h"

/* One entry of trusted_proxies: an IPv4 address, an IPv4 network a.b.c.d/n,
 * or an IPv6 address. */
struct proxy_entry {
    int family;              /* AF_INET or AF_INET6 */
    struct in_addr net4;
    uint32_t mask4;          /* network order */
    struct in6_addr addr6;
};

/* Takes the next comma-separated entry of *list (spaces around it ignored)
 * and parses it. Returns 1 with *e filled, 0 at the end, -1 when the entry
 * is not an address (*list still moves past it). */
static int next_proxy(const char **list, struct proxy_entry *e)
{
    const char *l = *list;
    while (*l == ' ' || *l == ',')
        l++;
    if (!*l)
        return 0;
    size_t n = strcspn(l, ",");
    *list = l + n;
    while (n && l[n - 1] == ' ')
        n--;
    char item[64];
    if (n >= sizeof item)
        return -1;
    memcpy(item, l, n);
    item[n] = '\0';
    char *slash = strchr(item, '/');
    int64_t bits = 32;
    if (slash) {
        *slash = '\0';
        if (cc_parse_i64(slash + 1, 0, 32, &bits))
            return -1;
    }
    memset(e, 0, sizeof *e);
    if (inet_pton(AF_INET, item, &e->net4) == 1) {
        e->family = AF_INET;
        e->mask4 = bits ? htonl(~(uint32_t)0 << (32 - bits)) : 0;
        return 1;
    }
    if (!slash && inet_pton(AF_INET6, item, &e->addr6) == 1) {
        e->family = AF_INET6;
        return 1;
    }
    return -1;
}

/* Whether every entry of list is an address or network. */
int srv_proxies_valid(const char *list)
{
    struct proxy_entry e;
    int rc;
    while ((rc = next_proxy(&list, &e)) > 0)
        ;
    return rc == 0;
}

/* Whether addr (text) is one of list's entries. */
static int address_listed(const char *list, const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    int is4 = inet_pton(AF_INET, addr, &a4) == 1;
    if (!is4 && inet_pton(AF_INET6, addr, &a6) != 1)
        return 0;
    struct proxy_entry e;
    int rc;
    while ((rc = next_proxy(&list, &e)) != 0) {
        if (rc < 0)
            continue;
        if (is4 && e.family == AF_INET && (a4.s_addr & e.mask4) == (e.net4.s_addr & e.mask4))
            return 1;
        if (!is4 && e.family == AF_INET6 && memcmp(&a6, &e.addr6, sizeof a6) == 0)
            return 1;
    }
    return 0;
}

/* Whether the request came through a reverse proxy named in trusted_proxies. */
static int from_trusted_proxy(struct cc_request *req)
{
    return req->srv->trusted_proxies[0] && address_listed(req->srv->trusted_proxies, req->remote);
}

const char *cc_req_client_address(struct cc_request *req)
{
    if (req->client[0])
        return req->client;
    cc_strlcpy(req->client, req->remote, sizeof req->client);
    const char *xff = req->conn && from_trusted_proxy(req)
                          ? cc_req_header(req, "X-Forwarded-For") : NULL;
    if (xff) { /* the proxy appends the address it saw: the last entry */
        const char *last = strrchr(xff, ',');
        last = last ? last + 1 : xff;
        while (*last == ' ')
            last++;
        char a[INET6_ADDRSTRLEN];
        size_t n = strcspn(last, " ");
        unsigned char buf[sizeof(struct in6_addr)];
        if (n < sizeof a) {
            memcpy(a, last, n);
            a[n] = '\0';
            if (inet_pton(AF_INET, a, buf) == 1 || inet_pton(AF_INET6, a, buf) == 1)
                cc_strlcpy(req->client, a, sizeof req->client);
        }
    }
    return req->client;
}

/* HTTPS: this server's own TLS, or X-Forwarded-Proto: https from a reverse
 * proxy named in trusted_proxies (from anyone else the header is a claim
 * that proves nothing, and is ignored). */
int cc_req_is_tls(struct cc_request *req)
{
    if (req->srv->tls)
        return 1;
    if (!from_trusted_proxy(req))
        return 0;
    const char *p = cc_req_header(req, "X-Forwarded-Proto");
    return p && strcasecmp(p, "https") == 0;
}

/* The connection's peer address as text ("" when libmicrohttpd has none). */
void srv_peer_address(struct MHD_Connection *conn, char *out, size_t outsz)
{
    out[0] = '\0';
    const union MHD_ConnectionInfo *ci =
        conn ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (!sa)
        return;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)outsz);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)outsz);
}
