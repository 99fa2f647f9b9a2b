/* test_ratelimit.c — the per-robot rate limiter (ratelimit.c): exact for a
 * thousand robots at once, its memory following the robots with recent sends,
 * and how long a robot waits once its platform says it throttles. The same
 * limits kept in a shared database are in test_store.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "delivery/delivery_int.h"

static void robot_url(int i, char *out, size_t outsz)
{
    snprintf(out, outsz, "https://oapi.dingtalk.com/robot/send?access_token=t%04d", i);
}

/* 1,000 DingTalk robots (20 a minute each) busy at once: none of them gets
 * a 21st send within its minute, however many others were sent to since. */
static void limiter_exact_for_1000_robots(void **state)
{
    (void)state;
    struct cc_limiter *l = cc_limiter_new(100);
    const int64_t t0 = 1700000000000LL;
    char url[128];
    for (int round = 0; round < 20; round++)
        for (int i = 0; i < 1000; i++) {
            robot_url(i, url, sizeof url);
            assert_int_equal(cc_limiter_reserve(l, CC_WEBHOOK_DINGTALK, url, t0 + round), 0);
        }
    assert_int_equal(cc_limiter_size(l), 1000);
    for (int i = 0; i < 1000; i++) { /* the 21st waits for the window (and the margin) */
        robot_url(i, url, sizeof url);
        int64_t at = cc_limiter_reserve(l, CC_WEBHOOK_DINGTALK, url, t0 + 1000);
        assert_true(at >= t0 + 60000);
    }
    /* The window passed: they go again. */
    for (int i = 0; i < 1000; i++) {
        robot_url(i, url, sizeof url);
        assert_int_equal(cc_limiter_reserve(l, CC_WEBHOOK_DINGTALK, url, t0 + 62000), 0);
    }
    cc_limiter_free(l);
}

/* A robot is forgotten only once its whole window has passed, so memory
 * follows the robots with recent sends, not every robot ever seen. */
static void limiter_forgets_only_old_robots(void **state)
{
    (void)state;
    struct cc_limiter *l = cc_limiter_new(100);
    const int64_t t0 = 1700000000000LL;
    char url[128];
    /* 10,000 robots, one send each, a new one every 100 ms: at most the
     * last minute's (and a bit) are remembered. */
    for (int i = 0; i < 10000; i++) {
        robot_url(i, url, sizeof url);
        assert_int_equal(cc_limiter_reserve(l, CC_WEBHOOK_WECOM, url, t0 + 100LL * i), 0);
        assert_true(cc_limiter_size(l) <= 2 * 620 + 256);
    }
    /* A blocked robot is remembered until its block is over. */
    int64_t until = cc_limiter_throttled(
        l, CC_WEBHOOK_DINGTALK, "https://oapi.dingtalk.com/robot/send?access_token=b", t0 + 1000000);
    assert_true(until >= t0 + 1600000 && until <= t0 + 1660000);
    assert_int_equal(cc_limiter_reserve(l, CC_WEBHOOK_DINGTALK,
                                        "https://oapi.dingtalk.com/robot/send?access_token=b",
                                        t0 + 1500000),
                     until);
    /* Lark: 5 a second as well as 100 a minute. */
    const char *lark = "https://open.feishu.cn/open-apis/bot/v2/hook/x";
    for (int i = 0; i < 5; i++)
        assert_int_equal(cc_limiter_reserve(l, CC_WEBHOOK_FEISHU, lark, t0 + 3000000 + i), 0);
    assert_true(cc_limiter_reserve(l, CC_WEBHOOK_FEISHU, lark, t0 + 3000010) >= t0 + 3001000);
    cc_limiter_free(l);
}

/* Throttled three times in a row, each right after the last wait: each
 * wait is wait_ms (and up to a tenth more). */
static void assert_same_waits(struct cc_limiter *l, int kind, const char *url, int64_t now,
                              int64_t wait_ms)
{
    for (int i = 0; i < 3; i++) {
        int64_t until = cc_limiter_throttled(l, kind, url, now);
        assert_true(until >= now + wait_ms && until <= now + wait_ms + wait_ms / 10);
        now = until + 5;
    }
}

/* A platform that throttles anyway: DingTalk blocks for its 10 minutes
 * each time; Lark is left alone for a second, then 2, 4 ... up to its
 * minute while it keeps throttling, and for a second again once it has not
 * for a minute; WeCom for its minute. An answer that comes during a wait
 * does not make it longer. Each wait has up to a tenth more at random. */
static void limiter_throttle_waits_grow(void **state)
{
    (void)state;
    struct cc_limiter *l = cc_limiter_new(100);
    const int64_t t0 = 1700000000000LL;
    const char *lark = "https://open.feishu.cn/open-apis/bot/v2/hook/grow";
    const int64_t waits[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
    int64_t now = t0;
    for (size_t i = 0; i < sizeof waits / sizeof *waits; i++) {
        int64_t until = cc_limiter_throttled(l, CC_WEBHOOK_FEISHU, lark, now);
        assert_true(until >= now + waits[i] && until <= now + waits[i] + waits[i] / 10);
        /* answers to messages already on the wire: the same wait */
        assert_int_equal(cc_limiter_throttled(l, CC_WEBHOOK_FEISHU, lark, now + 1), until);
        assert_int_equal(cc_limiter_reserve(l, CC_WEBHOOK_FEISHU, lark, until - 1), until);
        now = until + 5;
    }
    /* a minute without a throttle after the last wait: short again */
    now += 61000;
    int64_t until = cc_limiter_throttled(l, CC_WEBHOOK_FEISHU, lark, now);
    assert_true(until >= now + 1000 && until <= now + 1100);

    assert_same_waits(l, CC_WEBHOOK_WECOM,
                      "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=grow", t0, 60000);
    assert_same_waits(l, CC_WEBHOOK_DINGTALK,
                      "https://oapi.dingtalk.com/robot/send?access_token=grow", t0, 600000);
    cc_limiter_free(l);

    /* the windows at a test's percentage: Lark's first wait 10 ms at 1% */
    l = cc_limiter_new(1);
    until = cc_limiter_throttled(l, CC_WEBHOOK_FEISHU, lark, t0);
    assert_true(until >= t0 + 10 && until <= t0 + 11);
    cc_limiter_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(limiter_exact_for_1000_robots),
        cmocka_unit_test(limiter_forgets_only_old_robots),
        cmocka_unit_test(limiter_throttle_waits_grow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
