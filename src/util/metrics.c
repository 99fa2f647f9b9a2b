/*
 * metrics.c — the process's counters and histograms for GET /metrics, in
 * fixed arrays of relaxed atomics: counting costs one atomic add and never
 * a lock or an allocation, so the hot paths (a request, a delivery, a
 * store commit) can count. Every label value comes from a fixed table
 * here: an unknown value counts under "other", never as a new series.
 * The layers above count through these functions and the HTTP layer
 * renders them all (cc_metrics_render), so no layer includes another.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

/* ---- histograms ---------------------------------------------------------- */

void cc_hist_observe(struct cc_hist *h, const uint64_t *bounds, size_t nb, uint64_t v)
{
    size_t i = 0;
    while (i < nb && v > bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

uint64_t cc_hist_count(const struct cc_hist *h, size_t nb)
{
    uint64_t n = 0;
    for (size_t i = 0; i <= nb; i++)
        n += atomic_load_explicit(&h->b[i], memory_order_relaxed);
    return n;
}

/* A number as Prometheus reads it: the shortest form that round-trips. */
static void num(char *out, size_t sz, double v)
{
    snprintf(out, sz, "%.15g", v);
}

void cc_hist_render(struct cc_buf *b, const char *name, const char *labels,
                    const struct cc_hist *h, const uint64_t *bounds, size_t nb, double unit)
{
    const char *sep = labels && labels[0] ? "," : "";
    labels = labels ? labels : "";
    uint64_t cum = 0;
    char v[32];
    for (size_t i = 0; i <= nb; i++) {
        cum += atomic_load_explicit(&h->b[i], memory_order_relaxed);
        if (i < nb)
            num(v, sizeof v, (double)bounds[i] * unit);
        else
            cc_strlcpy(v, "+Inf", sizeof v);
        cc_buf_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels, sep, v,
                      (unsigned long long)cum);
    }
    num(v, sizeof v, (double)atomic_load_explicit(&h->sum, memory_order_relaxed) * unit);
    const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
    cc_buf_printf(b, "%s_sum%s%s%s %s\n", name, open, labels, close, v);
    cc_buf_printf(b, "%s_count%s%s%s %llu\n", name, open, labels, close,
                  (unsigned long long)cum);
}

void cc_metrics_help(struct cc_buf *b, const char *name, const char *type, const char *help)
{
    cc_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Seconds in microseconds: .5 ms .. 10 s, the request and commit buckets. */
const uint64_t cc_metrics_seconds_us[CC_METRICS_SECONDS_BUCKETS] = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000};

/* ---- the label tables ------------------------------------------------------ */

static const char *const channels[] = {"email", "mobile", "webhook", "other"};
#define NCHANNELS (sizeof channels / sizeof channels[0])
static const char *const platforms[] = {"smtp", "sms", "dingtalk", "lark", "feishu",
                                        "wecom", "other"};
#define NPLATFORMS (sizeof platforms / sizeof platforms[0])
static const char *const outcomes[] = {"delivered", "failed", "dead", "retry",
                                       "throttled", "cancelled", "other"};
#define NOUTCOMES (sizeof outcomes / sizeof outcomes[0])
static const char *const vresults[] = {"sent", "failed", "confirmed", "rejected", "other"};
#define NVRESULTS (sizeof vresults / sizeof vresults[0])

/* The index of s in t (n entries, the last "other"); the last when absent. */
static size_t label_index(const char *const *t, size_t n, const char *s)
{
    for (size_t i = 0; s && i + 1 < n; i++)
        if (!strcmp(t[i], s))
            return i;
    return n - 1;
}

static const uint64_t batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
#define NBATCH (sizeof batch_bounds / sizeof batch_bounds[0])

static struct {
    _Atomic uint64_t notif[NCHANNELS][NPLATFORMS][NOUTCOMES];
    _Atomic uint64_t verif[NCHANNELS][NVRESULTS];
    struct cc_hist batch, commit;
    int64_t start_s;
    const char *version;
} m;

void cc_metrics_notification(const char *channel, const char *platform, const char *outcome)
{
    size_t c = label_index(channels, NCHANNELS, channel);
    size_t p = label_index(platforms, NPLATFORMS, platform);
    size_t o = label_index(outcomes, NOUTCOMES, outcome);
    atomic_fetch_add_explicit(&m.notif[c][p][o], 1, memory_order_relaxed);
}

void cc_metrics_verification(const char *channel, const char *result)
{
    size_t c = label_index(channels, NCHANNELS, channel);
    size_t r = label_index(vresults, NVRESULTS, result);
    atomic_fetch_add_explicit(&m.verif[c][r], 1, memory_order_relaxed);
}

void cc_metrics_store_batch(size_t writes, int64_t commit_us)
{
    cc_hist_observe(&m.batch, batch_bounds, NBATCH, writes);
    cc_hist_observe(&m.commit, cc_metrics_seconds_us, CC_METRICS_SECONDS_BUCKETS,
                    commit_us > 0 ? (uint64_t)commit_us : 0);
}

void cc_metrics_started(const char *version)
{
    m.start_s = (int64_t)time(NULL);
    m.version = version;
}

/* ---- rendering ------------------------------------------------------------- */

static void render_notifications(struct cc_buf *b)
{
    cc_metrics_help(b, "certcontacts_notifications_total", "counter",
                    "Notification outcomes settled by the dispatcher.");
    for (size_t c = 0; c < NCHANNELS; c++)
        for (size_t p = 0; p < NPLATFORMS; p++)
            for (size_t o = 0; o < NOUTCOMES; o++) {
                uint64_t v = atomic_load_explicit(&m.notif[c][p][o], memory_order_relaxed);
                if (v)
                    cc_buf_printf(b,
                                  "certcontacts_notifications_total{channel=\"%s\",platform="
                                  "\"%s\",outcome=\"%s\"} %llu\n",
                                  channels[c], platforms[p], outcomes[o],
                                  (unsigned long long)v);
            }
}

static void render_verifications(struct cc_buf *b)
{
    cc_metrics_help(b, "certcontacts_verification_codes_total", "counter",
                    "Verification codes: sent, failed (the channel did not accept it), confirmed, and "
                    "rejected (a wrong, expired or used-up code at confirmation).");
    /* Every channel and result is shown from the start, so rate() sees the first one. */
    for (size_t c = 0; c + 1 < NCHANNELS; c++) {
        if (!strcmp(channels[c], "webhook"))
            continue;
        for (size_t r = 0; r + 1 < NVRESULTS; r++)
            cc_buf_printf(b,
                          "certcontacts_verification_codes_total{channel=\"%s\",result=\"%s\"} "
                          "%llu\n",
                          channels[c], vresults[r],
                          (unsigned long long)atomic_load_explicit(&m.verif[c][r],
                                                                   memory_order_relaxed));
    }
}

/* The resident set from /proc/self/statm (its second field, in pages). */
static long long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, res = -1;
    if (f) {
        if (fscanf(f, "%lld %lld", &size, &res) != 2)
            res = -1;
        fclose(f);
    }
    return res < 0 ? -1 : res * sysconf(_SC_PAGESIZE);
}

static void render_process(struct cc_buf *b, const char *version)
{
    cc_metrics_help(b, "certcontacts_build_info", "gauge", "The running version (always 1).");
    cc_buf_printf(b, "certcontacts_build_info{version=\"%s\"} 1\n", version ? version : "unknown");
    cc_metrics_help(b, "process_start_time_seconds", "gauge",
                    "When the process started, in seconds since the Unix epoch.");
    cc_buf_printf(b, "process_start_time_seconds %lld\n", (long long)m.start_s);
    long long rss = resident_bytes();
    if (rss >= 0) {
        cc_metrics_help(b, "process_resident_memory_bytes", "gauge",
                        "Resident memory size in bytes.");
        cc_buf_printf(b, "process_resident_memory_bytes %lld\n", rss);
    }
}

void cc_metrics_render(struct cc_buf *b)
{
    render_notifications(b);
    render_verifications(b);
    cc_metrics_help(b, "certcontacts_store_write_batch_size", "histogram",
                    "Writes committed together in one store transaction.");
    cc_hist_render(b, "certcontacts_store_write_batch_size", "", &m.batch, batch_bounds, NBATCH,
                   1.0);
    cc_metrics_help(b, "certcontacts_store_commit_duration_seconds", "histogram",
                    "How long a store write batch took, from BEGIN to COMMIT.");
    cc_hist_render(b, "certcontacts_store_commit_duration_seconds", "", &m.commit,
                   cc_metrics_seconds_us, CC_METRICS_SECONDS_BUCKETS, 1e-6);
    render_process(b, m.version);
}

void cc_metrics_reset(void)
{
    memset(&m, 0, sizeof m);
}
