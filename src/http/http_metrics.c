/*
 * http_metrics.c — requests by route, method and status, with their
 * latency, for GET /metrics. One slot per row of the route table (its
 * index) plus one per method for paths no row has (route="other"): fixed
 * arrays of relaxed atomics, so counting a request takes no lock and no
 * allocation. Label values come only from the route table and the fixed
 * tables here, never from what the client sent.
 */
#include <stdatomic.h>
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                      "OPTIONS", "other"};
#define NMETHODS (sizeof methods / sizeof methods[0])

/* The statuses the server answers with, each its own series; any other
 * counts as status="other". */
static const int statuses[] = {200, 201, 202, 204, 206, 301, 302, 304, 400, 401, 403, 404,
                               405, 406, 408, 409, 410, 412, 413, 415, 422, 429, 431, 500,
                               501, 502, 503, 504};
#define NSTATUSES (sizeof statuses / sizeof statuses[0])

struct slot {
    _Atomic uint64_t status[NSTATUSES + 1];
    struct cc_hist latency;
};

static struct slot slots[CC_HTTP_ROUTES_MAX + NMETHODS];

static size_t method_index(const char *m)
{
    for (size_t i = 0; m && i + 1 < NMETHODS; i++)
        if (!strcmp(methods[i], m))
            return i;
    return NMETHODS - 1;
}

static size_t status_index(int status)
{
    for (size_t i = 0; i < NSTATUSES; i++)
        if (statuses[i] == status)
            return i;
    return NSTATUSES;
}

void cc_http_metrics_record(int route_index, const char *method, int status, int64_t us)
{
    size_t s = route_index >= 0 && route_index < CC_HTTP_ROUTES_MAX
                   ? (size_t)route_index
                   : CC_HTTP_ROUTES_MAX + method_index(method);
    atomic_fetch_add_explicit(&slots[s].status[status_index(status)], 1, memory_order_relaxed);
    cc_hist_observe(&slots[s].latency, cc_metrics_seconds_us, CC_METRICS_SECONDS_BUCKETS,
                    us > 0 ? (uint64_t)us : 0);
}

/* The route and method labels of slot s; 0 when the slot is no route. */
static int slot_labels(size_t s, size_t nroutes, char *out, size_t outsz)
{
    if (s < CC_HTTP_ROUTES_MAX) {
        if (s >= nroutes)
            return 0;
        /* patterns hold only path characters and {}: nothing to escape */
        snprintf(out, outsz, "route=\"%s\",method=\"%s\"", cc_http_routes[s].pattern,
                 cc_http_routes[s].method);
    } else {
        snprintf(out, outsz, "route=\"other\",method=\"%s\"", methods[s - CC_HTTP_ROUTES_MAX]);
    }
    return 1;
}

static void render_requests(struct cc_buf *b, size_t nroutes)
{
    char labels[256];
    cc_metrics_help(b, "certcontacts_http_requests_total", "counter",
                    "HTTP requests answered, by route template, method and status.");
    for (size_t s = 0; s < sizeof slots / sizeof slots[0]; s++) {
        if (!slot_labels(s, nroutes, labels, sizeof labels))
            continue;
        for (size_t i = 0; i <= NSTATUSES; i++) {
            uint64_t v = atomic_load_explicit(&slots[s].status[i], memory_order_relaxed);
            if (!v)
                continue;
            char st[8];
            if (i < NSTATUSES)
                snprintf(st, sizeof st, "%d", statuses[i]);
            else
                cc_strlcpy(st, "other", sizeof st);
            cc_buf_printf(b, "certcontacts_http_requests_total{%s,status=\"%s\"} %llu\n",
                          labels, st, (unsigned long long)v);
        }
    }
}

/* Only the slots that saw a request: 14 buckets for every route would be
 * a thousand lines of zeros. */
static void render_latency(struct cc_buf *b, size_t nroutes)
{
    char labels[256];
    cc_metrics_help(b, "certcontacts_http_request_duration_seconds", "histogram",
                    "Time from a request's first line to its completion, by route template "
                    "and method.");
    for (size_t s = 0; s < sizeof slots / sizeof slots[0]; s++) {
        if (!slot_labels(s, nroutes, labels, sizeof labels) ||
            !cc_hist_count(&slots[s].latency, CC_METRICS_SECONDS_BUCKETS))
            continue;
        cc_hist_render(b, "certcontacts_http_request_duration_seconds", labels,
                       &slots[s].latency, cc_metrics_seconds_us, CC_METRICS_SECONDS_BUCKETS,
                       1e-6);
    }
}

static void render_kept_views(struct cc_buf *b)
{
    uint64_t hits, misses;
    cc_view_cache_counts(&hits, &misses);
    cc_metrics_help(b, "certcontacts_http_contact_views_total", "counter",
                    "Contact details a readonly caller asked for, by whether the HTTP thread "
                    "had kept the view (nothing committed since) or read and rendered it.");
    cc_buf_printf(b, "certcontacts_http_contact_views_total{kept=\"yes\"} %llu\n",
                  (unsigned long long)hits);
    cc_buf_printf(b, "certcontacts_http_contact_views_total{kept=\"no\"} %llu\n",
                  (unsigned long long)misses);
}

void cc_http_metrics_render(struct cc_buf *b)
{
    size_t nroutes = 0;
    while (cc_http_routes[nroutes].method)
        nroutes++;
    render_requests(b, nroutes);
    render_latency(b, nroutes);
    render_kept_views(b);
}
