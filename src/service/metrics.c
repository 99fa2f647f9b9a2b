/*
 * metrics.c — the gauges /metrics reads from the store when scraped: the
 * outbox's depth and the age of its oldest due notification, certificates
 * by state and the time to the nearest expiry. A few indexed counts a
 * scrape; nothing is kept between scrapes.
 */
#include "service/service_int.h"
#include "store/certificates.h"
#include "store/outbox.h"
#include "util/util.h"

static void render_outbox(struct cc_service *svc, struct cc_buf *b, int64_t now)
{
    struct cc_error err;
    int64_t pending = 0, oldest = 0;
    if (cc_store_notif_gauges(svc->store, now, &pending, &oldest, &err))
        return; /* the store's health says why; a scrape shows what it can */
    cc_metrics_help(b, "certcontacts_outbox_pending", "gauge",
                    "Notifications waiting to be sent (due or not).");
    cc_buf_printf(b, "certcontacts_outbox_pending %lld\n", (long long)pending);
    cc_metrics_help(b, "certcontacts_outbox_oldest_due_age_seconds", "gauge",
                    "How long the oldest due notification has been waiting; 0 when none is due.");
    double age = oldest > 0 && oldest <= now ? (double)(now - oldest) / 1000.0 : 0.0;
    cc_buf_printf(b, "certcontacts_outbox_oldest_due_age_seconds %.3f\n", age);
}

static void render_certificates(struct cc_service *svc, struct cc_buf *b, int64_t now)
{
    struct cc_error err;
    int64_t by_state[4] = {0}, nearest = 0;
    if (cc_store_cert_gauges(svc->store, now, by_state, &nearest, &err))
        return;
    cc_metrics_help(b, "certcontacts_certificates", "gauge",
                    "Certificates kept, by state (expired: active past its not_after).");
    for (int i = CC_CERT_ACTIVE; i <= CC_CERT_SUPERSEDED; i++)
        cc_buf_printf(b, "certcontacts_certificates{state=\"%s\"} %lld\n",
                      i == CC_CERT_EXPIRED ? "expired" : cc_cert_state_name(i),
                      (long long)by_state[i]);
    if (!nearest)
        return; /* no active certificate left to expire: no sample, not a made-up number */
    /* seconds, the base unit (promtool refuses _days); a dashboard divides by 86400 */
    cc_metrics_help(b, "certcontacts_certificate_nearest_expiry_seconds", "gauge",
                    "Seconds until the soonest expiry of an active certificate.");
    cc_buf_printf(b, "certcontacts_certificate_nearest_expiry_seconds %.3f\n",
                  (double)(nearest - now) / 1000.0);
}

/* The last scheduled backup (backup.c), once there is one. */
static void render_backup(struct cc_service *svc, struct cc_buf *b)
{
    int64_t at_ms = 0, bytes = 0;
    if (!cc_service_backup_last(svc, &at_ms, &bytes))
        return;
    cc_buf_printf(b, "# HELP certcontacts_backup_last_success_timestamp_seconds When the "
                     "last scheduled backup was written.\n# TYPE "
                     "certcontacts_backup_last_success_timestamp_seconds gauge\n"
                     "certcontacts_backup_last_success_timestamp_seconds %.3f\n"
                     "# HELP certcontacts_backup_last_size_bytes The last scheduled "
                     "backup's size.\n# TYPE certcontacts_backup_last_size_bytes gauge\n"
                     "certcontacts_backup_last_size_bytes %lld\n",
                  (double)at_ms / 1000.0, (long long)bytes);
}

void cc_service_metrics_render(struct cc_service *svc, struct cc_buf *b)
{
    int64_t now = cc_now_ms();
    render_outbox(svc, b, now);
    render_certificates(svc, b, now);
    render_backup(svc, b);
}
