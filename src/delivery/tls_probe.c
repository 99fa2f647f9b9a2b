/*
 * tls_probe.c — one TLS handshake with a watched server (service/endpoints.c
 * asks): connect with a deadline, shake hands with OpenSSL accepting
 * whatever is served, then judge what was served on our own terms — the
 * chain verified against the system's roots (and an optional file of extra
 * roots) at the service's clock, whether an intermediate is missing, the
 * leaf's names against the name clients use — and hand the leaf back as
 * PEM. The name is resolved asynchronously and the socket is non-blocking:
 * every wait is bounded by the one deadline, so a resolver that does not
 * answer or a server that accepts and then says nothing costs one timeout
 * (a lookup glibc cannot cancel is still waited for: the resolver's own
 * timeouts bound it). Nothing is written to the server but the handshake
 * (no close_notify: the connection is just closed); serve ignores SIGPIPE
 * for a peer that hangs up mid-handshake.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "delivery/delivery.h"
#include "util/util.h"

/* Waits for events on fd until deadline (monotonic ms): 1 ready, 0 timed
 * out, -1 failed. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - cc_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {fd, events, 0};
        int rc = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

/* host's addresses for port into *res (freeaddrinfo), resolved by glibc's
 * asynchronous getaddrinfo so that a resolver that does not answer costs the
 * deadline, not its own timeouts. 0, or an EAI_ code (EAI_AGAIN: timed out). */
static int resolve(const char *host, const char *port, int64_t deadline, struct addrinfo **res)
{
    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    struct gaicb cb;
    memset(&cb, 0, sizeof cb);
    cb.ar_name = host;
    cb.ar_service = port;
    cb.ar_request = &hints;
    struct gaicb *list[1] = {&cb};
    int rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
    if (rc)
        return rc;
    for (;;) {
        int64_t left = deadline - cc_mono_ms();
        struct timespec ts = {(time_t)(left > 0 ? left / 1000 : 0),
                              (long)(left > 0 ? left % 1000 : 0) * 1000000};
        rc = left > 0 ? gai_suspend((const struct gaicb *const *)list, 1, &ts) : EAI_AGAIN;
        if (rc == EAI_INTR)
            continue;
        if (rc != EAI_AGAIN)
            break;
        /* timed out: a lookup glibc cannot cancel is waited for (cb is ours) */
        if (gai_cancel(&cb) == EAI_NOTCANCELED) {
            while (gai_error(&cb) == EAI_INPROGRESS)
                gai_suspend((const struct gaicb *const *)list, 1, NULL);
            if (cb.ar_result)
                freeaddrinfo(cb.ar_result);
        }
        return EAI_AGAIN;
    }
    rc = gai_error(&cb);
    if (rc) {
        if (cb.ar_result)
            freeaddrinfo(cb.ar_result);
        return rc;
    }
    *res = cb.ar_result;
    return 0;
}

/* A connected non-blocking socket to one of host's addresses, or -1 with
 * out->error set. */
static int connect_to(const struct cc_tls_probe_req *rq, int64_t deadline,
                      struct cc_tls_probe_result *out)
{
    char port[8];
    snprintf(port, sizeof port, "%d", rq->port);
    struct addrinfo *res = NULL;
    int g = resolve(rq->host, port, deadline, &res);
    if (g) {
        snprintf(out->error, sizeof out->error, "cannot resolve %s: %s", rq->host,
                 g == EAI_AGAIN && cc_mono_ms() >= deadline ? "timed out" : gai_strerror(g));
        return -1;
    }
    int fd = -1, last = 0;
    for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int rc = connect(fd, a->ai_addr, a->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, deadline);
            socklen_t len = sizeof last;
            if (w <= 0)
                last = w == 0 ? ETIMEDOUT : errno;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &last, &len) < 0)
                last = errno;
            rc = last ? -1 : 0;
        } else if (rc < 0) {
            last = errno;
        }
        if (rc < 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(out->error, sizeof out->error, "cannot connect to %s port %d: %s", rq->host,
                 rq->port, last == ETIMEDOUT ? "timed out" : strerror(last ? last : EIO));
    return fd;
}

/* OpenSSL's last error in words into out->error, after what. */
static void ssl_error(struct cc_tls_probe_result *out, const char *what)
{
    unsigned long e = ERR_peek_last_error();
    char buf[200];
    if (e) {
        const char *reason = ERR_reason_error_string(e);
        if (reason) /* libssl's (a handshake's) errors have their text */
            snprintf(buf, sizeof buf, "%s", reason);
        else /* libcrypto's are not loaded (main.c): the code, for openssl errstr */
            ERR_error_string_n(e, buf, sizeof buf);
    } else {
        snprintf(buf, sizeof buf, "the server closed the connection");
    }
    snprintf(out->error, sizeof out->error, "%s: %s", what, buf);
    ERR_clear_error();
}

/* The handshake on fd until deadline; 0 when it completed. */
static int handshake(SSL *ssl, int fd, int64_t deadline, struct cc_tls_probe_result *out)
{
    for (;;) {
        ERR_clear_error();
        int rc = SSL_connect(ssl);
        if (rc == 1)
            return 0;
        int e = SSL_get_error(ssl, rc);
        short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (!ev) {
            ssl_error(out, "TLS handshake failed");
            return -1;
        }
        int w = wait_fd(fd, ev, deadline);
        if (w <= 0) {
            snprintf(out->error, sizeof out->error, "TLS handshake failed: %s",
                     w == 0 ? "timed out" : strerror(errno));
            return -1;
        }
    }
}

/* Verifies leaf with the served chain at now (s) against the system's roots
 * and ca_file; sets chain_verified, chain_complete and verify_error. */
static void verify(X509 *leaf, STACK_OF(X509) *served, const struct cc_tls_probe_req *rq,
                   struct cc_tls_probe_result *out)
{
    X509_STORE *st = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (!st || !ctx) {
        cc_strlcpy(out->verify_error, "out of memory", sizeof out->verify_error);
        goto out;
    }
    X509_STORE_set_default_paths(st);
    if (rq->ca_file && rq->ca_file[0] && X509_STORE_load_file(st, rq->ca_file) != 1) {
        snprintf(out->verify_error, sizeof out->verify_error, "cannot read the roots of %s",
                 rq->ca_file);
        ERR_clear_error();
        goto out;
    }
    if (X509_STORE_CTX_init(ctx, st, leaf, served) != 1)
        goto out;
    X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
    X509_STORE_CTX_set_time(ctx, 0, (time_t)(rq->now_ms / 1000));
    if (X509_verify_cert(ctx) == 1) {
        out->chain_verified = out->chain_complete = 1;
        goto out;
    }
    int e = X509_STORE_CTX_get_error(ctx);
    cc_strlcpy(out->verify_error, X509_verify_cert_error_string(e), sizeof out->verify_error);
    /* An issuer that is not there: missing from what was served when the
     * certificate lacking it is not a CA itself (a leaf without its
     * intermediate); a CA without its root is a root we do not trust. */
    X509 *at = X509_STORE_CTX_get_current_cert(ctx);
    out->chain_complete = !((e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                             e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT) &&
                            (!at || X509_check_ca(at) == 0));
out:
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(st);
    ERR_clear_error();
}

/* What was served after a handshake: version, leaf PEM, chain and names. */
static void inspect(SSL *ssl, const struct cc_tls_probe_req *rq, struct cc_tls_probe_result *out)
{
    cc_strlcpy(out->tls_version, SSL_get_version(ssl), sizeof out->tls_version);
    X509 *leaf = SSL_get1_peer_certificate(ssl);
    if (!leaf) {
        out->handshake_ok = 0;
        cc_strlcpy(out->error, "the server sent no certificate", sizeof out->error);
        return;
    }
    verify(leaf, SSL_get_peer_cert_chain(ssl), rq, out);
    const char *name = rq->match_name ? rq->match_name : rq->host;
    unsigned char addr[16];
    int ip = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
    out->names_match = ip ? X509_check_ip_asc(leaf, name, 0) == 1
                          : X509_check_host(leaf, name, strlen(name), 0, NULL) == 1;
    BIO *b = BIO_new(BIO_s_mem());
    char *p = NULL;
    long n = 0;
    if (b && PEM_write_bio_X509(b, leaf) == 1 && (n = BIO_get_mem_data(b, &p)) > 0)
        out->leaf_pem = cc_strndup(p, (size_t)n);
    BIO_free(b);
    X509_free(leaf);
    ERR_clear_error();
}

void cc_tls_probe(const struct cc_tls_probe_req *rq, struct cc_tls_probe_result *out)
{
    memset(out, 0, sizeof *out);
    int64_t deadline = cc_mono_ms() + (rq->timeout_ms > 0 ? rq->timeout_ms : 10000);
    int fd = connect_to(rq, deadline, out);
    if (fd < 0)
        return;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL *ssl = ctx ? SSL_new(ctx) : NULL;
    if (!ssl) {
        ssl_error(out, "cannot start TLS");
        goto out;
    }
    /* whatever is served is taken, then judged by verify() */
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
    SSL_set_fd(ssl, fd);
    if (rq->sni && rq->sni[0])
        SSL_set_tlsext_host_name(ssl, rq->sni);
    if (handshake(ssl, fd, deadline, out))
        goto out;
    out->handshake_ok = 1;
    inspect(ssl, rq, out);
out:
    SSL_free(ssl);
    SSL_CTX_free(ctx);
    close(fd);
    ERR_clear_error();
}
