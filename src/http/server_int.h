/*
 * server_int.h — the request and the server as server.c, response.c and
 * client_address.c share them; nothing outside those three sees inside.
 */
#ifndef CC_HTTP_SERVER_INT_H
#define CC_HTTP_SERVER_INT_H

#include <netinet/in.h>
#include <pthread.h>

#include <microhttpd.h>

#include "http/http.h"
#include "http/http_int.h"
#include "util/util.h"

/* Requests whose handler may wait on the network (an SMTP server, an SMS
 * gateway) run on these threads while libmicrohttpd holds their connection
 * suspended, so the HTTP worker threads are never the ones waiting. The pool
 * starts with CC_POOL_START threads and adds one whenever a request waits
 * with no thread free, up to max (blocking_threads): an idle server keeps
 * no stacks it has not needed. */
#define CC_POOL_START 4
struct blocking_pool {
    pthread_t *threads;
    int nthreads, max;
    int idle;                     /* threads waiting for a request */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cc_request *head, *tail;
    int queued;
    int stopping;
    int waiting;                  /* requests suspended by cc_req_suspend, not yet resumed */
    pthread_cond_t none_waiting;  /* waiting fell to 0 */
};

struct cc_http_server {
    struct MHD_Daemon *daemon;
    struct cc_service *svc;
    size_t max_body;
    size_t import_max_body;       /* the body cap of routes with CC_ROUTE_CSV_BODY */
    unsigned port;
    struct blocking_pool pool;
    struct cc_acs_state *acs;     /* Alibaba API: replay cache, per-key rate */
    struct cc_conn_guard *guard;  /* deadlines for request headers and idle keep-alive */
    char public_url[512];         /* where people reach the server: an allowed Origin */
    struct cc_tls *tls;           /* the HTTPS certificate and key; NULL: plain HTTP */
    char trusted_proxies[512];    /* addresses whose X-Forwarded-Proto is believed */
    int64_t hsts_max_age_s;
    int acme_only;                /* only the HTTP-01 answers (acme_http_listen) */
    int metrics_only;             /* only GET /metrics, no key (metrics_listen) */
    pthread_mutex_t log_mu;       /* libmicrohttpd's messages, at most a few a second */
    int64_t log_second;
    int log_in_second;
    int64_t log_suppressed;
};

#define MAX_EXTRA_HEADERS 6
/* A body past the cap is read and thrown away up to this much, so that the
 * client gets its 413 instead of a reset connection; past it we hang up. */

struct cc_request {
    struct cc_http_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    char path[512];
    char request_id[37];
    char remote[INET6_ADDRSTRLEN];  /* the peer's address, "" when unknown */
    char client[INET6_ADDRSTRLEN];  /* cc_req_client_address's answer, once asked */
    int64_t start_us;
    int started;
    struct cc_buf body;
    size_t max_body;              /* this request's body cap: its route's */
    size_t discarded;
    int too_large;
    int too_many_params;          /* the query string was cut: answered 431 */
    int authed;
    int no_challenge;             /* a console request: no WWW-Authenticate on 401 */
    int touch_session;            /* the session's last_seen_at is due to be written */
    const struct cc_route *route;
    int route_index;              /* 1 + its row in cc_http_routes; 0: no row (metrics) */
    char metric_method[16];       /* the method, kept for on_completed (metrics) */
    struct cc_caller caller;
    struct cc_origin origin;      /* the client's address and this request's id */
    struct cc_route_args path_args;
    int responded;
    int deferred;                 /* running on the blocking pool */
    cc_handler deferred_fn;
    struct cc_request *qnext;
    struct MHD_Response *pending; /* a deferred handler's response, sent on resume */
    cc_resumed_fn then;           /* cc_req_suspend's: runs when the request is resumed */
    void *then_arg;
    int resumed;                  /* cc_req_resume was called (then is due) */
    int gone;                     /* the connection closed: an answer made now is dropped */
    int status;
    int nhdr;
    char *hdr_name[MAX_EXTRA_HEADERS];
    char *hdr_value[MAX_EXTRA_HEADERS];
};

/* ---- response.c ---- */
/* The headers every answer has: X-Request-Id, the Content-Security-Policy
 * and the others that keep a browser from sniffing, framing or leaking. */
void srv_common_headers(struct cc_request *req, struct MHD_Response *r);
/* The request's line in the log. */
void srv_log_request(struct cc_request *req);

/* ---- client_address.c ---- */
/* Whether every entry of a trusted_proxies list is an address or network. */
int srv_proxies_valid(const char *list);
/* The connection's peer address as text ("" when libmicrohttpd has none). */
void srv_peer_address(struct MHD_Connection *conn, char *out, size_t outsz);

#endif
