/*
 * test_metrics.c — the metrics registry's text format: histograms render
 * cumulative buckets with their sum and count, values outside the label
 * tables count as "other", and every metric has its HELP and TYPE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/util.h"

static char *render_hist(const struct cc_hist *h, const uint64_t *bounds, size_t nb,
                         const char *labels, double unit)
{
    struct cc_buf b;
    cc_buf_init(&b, 1 << 16);
    cc_hist_render(&b, "x_seconds", labels, h, bounds, nb, unit);
    cc_buf_puts(&b, "");
    return cc_buf_steal(&b, NULL);
}

static void histogram_is_cumulative(void **state)
{
    (void)state;
    static struct cc_hist h;
    static const uint64_t bounds[] = {1000, 5000};
    cc_hist_observe(&h, bounds, 2, 1000); /* on the bound: counts in it (le) */
    cc_hist_observe(&h, bounds, 2, 3000);
    cc_hist_observe(&h, bounds, 2, 3000);
    cc_hist_observe(&h, bounds, 2, 7000000);
    assert_int_equal(cc_hist_count(&h, 2), 4);
    char *s = render_hist(&h, bounds, 2, "route=\"/v1/contacts\",method=\"POST\"", 1e-6);
    assert_string_equal(s,
                        "x_seconds_bucket{route=\"/v1/contacts\",method=\"POST\",le=\"0.001\"} 1\n"
                        "x_seconds_bucket{route=\"/v1/contacts\",method=\"POST\",le=\"0.005\"} 3\n"
                        "x_seconds_bucket{route=\"/v1/contacts\",method=\"POST\",le=\"+Inf\"} 4\n"
                        "x_seconds_sum{route=\"/v1/contacts\",method=\"POST\"} 7.007\n"
                        "x_seconds_count{route=\"/v1/contacts\",method=\"POST\"} 4\n");
    cc_free(s);
    s = render_hist(&h, bounds, 2, "", 1e-6);
    assert_non_null(strstr(s, "x_seconds_bucket{le=\"+Inf\"} 4\n"));
    assert_non_null(strstr(s, "x_seconds_sum 7.007\nx_seconds_count 4\n"));
    cc_free(s);
}

static char *render_all(void)
{
    struct cc_buf b;
    cc_buf_init(&b, 1 << 20);
    cc_metrics_render(&b);
    cc_buf_puts(&b, "");
    return cc_buf_steal(&b, NULL);
}

static void labels_are_bounded(void **state)
{
    (void)state;
    cc_metrics_reset();
    cc_metrics_started("9.9.9");
    cc_metrics_notification("webhook", "dingtalk", "delivered");
    cc_metrics_notification("webhook", "dingtalk", "delivered");
    cc_metrics_notification("email", "smtp", "retry");
    /* never a new series for a value outside the tables */
    cc_metrics_notification("fax", "alice@example.com", "lost");
    cc_metrics_verification("mobile", "sent");
    cc_metrics_verification("mobile", "rejected");
    cc_metrics_store_batch(3, 2000);
    char *s = render_all();
    assert_non_null(strstr(s, "certcontacts_notifications_total{channel=\"webhook\",platform="
                              "\"dingtalk\",outcome=\"delivered\"} 2\n"));
    assert_non_null(strstr(s, "certcontacts_notifications_total{channel=\"email\",platform="
                              "\"smtp\",outcome=\"retry\"} 1\n"));
    assert_non_null(strstr(s, "certcontacts_notifications_total{channel=\"other\",platform="
                              "\"other\",outcome=\"other\"} 1\n"));
    assert_null(strstr(s, "alice"));
    assert_null(strstr(s, "fax"));
    assert_non_null(strstr(s, "certcontacts_verification_codes_total{channel=\"mobile\","
                              "result=\"sent\"} 1\n"));
    assert_non_null(strstr(s, "certcontacts_verification_codes_total{channel=\"email\","
                              "result=\"confirmed\"} 0\n"));
    assert_non_null(strstr(s, "certcontacts_store_write_batch_size_bucket{le=\"2\"} 0\n"
                              "certcontacts_store_write_batch_size_bucket{le=\"4\"} 1\n"));
    assert_non_null(strstr(s, "certcontacts_store_write_batch_size_sum 3\n"));
    assert_non_null(strstr(s, "certcontacts_store_commit_duration_seconds_bucket{le=\"0.0025\"} 1\n"));
    assert_non_null(strstr(s, "certcontacts_store_commit_duration_seconds_sum 0.002\n"));
    assert_non_null(strstr(s, "certcontacts_build_info{version=\"9.9.9\"} 1\n"));
    assert_non_null(strstr(s, "process_resident_memory_bytes "));
    cc_free(s);
}

/* Every sample's metric has a TYPE line before it, once. */
static void every_metric_is_typed(void **state)
{
    (void)state;
    cc_metrics_reset();
    cc_metrics_started("1.0");
    cc_metrics_notification("mobile", "sms", "dead");
    char *s = render_all();
    char *save = NULL;
    char typed[64][96];
    size_t ntyped = 0;
    for (char *line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char name[96];
        if (!strncmp(line, "# TYPE ", 7)) {
            size_t n = strcspn(line + 7, " ");
            assert_true(n > 0 && n < sizeof name);
            memcpy(name, line + 7, n);
            name[n] = '\0';
            for (size_t i = 0; i < ntyped; i++)
                assert_string_not_equal(typed[i], name);
            assert_true(ntyped < 64);
            cc_strlcpy(typed[ntyped++], name, sizeof typed[0]);
            continue;
        }
        if (line[0] == '#')
            continue;
        size_t n = strcspn(line, "{ ");
        assert_true(n < sizeof name);
        memcpy(name, line, n);
        name[n] = '\0';
        int found = 0;
        for (size_t i = 0; i < ntyped && !found; i++) {
            size_t t = strlen(typed[i]);
            found = !strncmp(name, typed[i], t) &&
                    (!name[t] || !strcmp(name + t, "_bucket") || !strcmp(name + t, "_sum") ||
                     !strcmp(name + t, "_count"));
        }
        if (!found)
            fail_msg("sample without a TYPE: %s", line);
    }
    cc_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(histogram_is_cumulative),
        cmocka_unit_test(labels_are_bounded),
        cmocka_unit_test(every_metric_is_typed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
