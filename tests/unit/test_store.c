/*
 * test_store.c — the store's key generation: it stays put while nothing
 * touches an access key, and moves when a key is disabled by another store
 * on the same database (as the CLI does from another process), so the
 * service's key cache knows it is stale.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "service_fixture.h"
#include "store/store.h"

struct disable_arg {
    int64_t account_id;
    const char *key_id;
};

static enum cc_err disable_key(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct disable_arg *a = arg;
    return cc_tx_key_disable(tx, a->account_id, a->key_id, 2, err);
}

static enum cc_err insert_account(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    return cc_tx_account_insert(tx, "other", 1, arg, err);
}

static void test_key_generation(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_error err;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    int64_t g0, g;
    assert_int_equal(cc_store_key_generation(f.store, &g0, &err), CC_OK);
    assert_int_equal(cc_store_key_generation(f.store, &g, &err), CC_OK);
    assert_true(g == g0);

    /* A write that touches no key leaves the generation alone. */
    int64_t id;
    assert_int_equal(cc_store_write(f.store, insert_account, &id, &err), CC_OK);
    assert_int_equal(cc_store_key_generation(f.store, &g, &err), CC_OK);
    assert_true(g == g0);

    /* Another store on the same file disables the key: the generation moves. */
    struct cc_store_config sc = {.url = f.url, .busy_timeout_ms = 5000, .max_batch = 256};
    struct cc_store *other;
    assert_int_equal(cc_store_open(&sc, &other, &err), CC_OK);
    struct disable_arg a = {f.first.account_id, f.first.key_id};
    assert_int_equal(cc_store_write(other, disable_key, &a, &err), CC_OK);
    cc_store_close(other);
    assert_int_equal(cc_store_key_generation(f.store, &g, &err), CC_OK);
    assert_true(g != g0);

    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_generation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
