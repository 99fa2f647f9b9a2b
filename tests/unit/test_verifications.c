/*
 * test_verifications.c — the service's checks before a code is sent, on a
 * real SQLite database: an address another contact of the account has is
 * refused (naming it) and nothing is recorded; the contact being edited may
 * have it; a throttled send names the code that can still be typed in; the
 * status read. No delivery is configured, so a send that passes the checks
 * ends in DeliveryFailed — which shows it got past them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "service_fixture.h"

static void limits(struct svc_fixture *f)
{
    struct cc_verify_config *vc = &f->svc->cfg.verify;
    vc->ttl_s = 600;
    vc->resend_s = 60;
    vc->max_per_hour = 100;
    vc->max_per_day = 100;
    vc->account_max_per_hour = 100;
    vc->max_attempts = 5;
}

static long long codes(struct svc_fixture *f)
{
    return svc_fixture_count(f, "SELECT count(*) FROM verifications", NULL);
}

static void clash_before_sending(void **state)
{
    (void)state;
    struct svc_fixture f;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    limits(&f);
    struct cc_caller admin;
    svc_fixture_admin(&f, &admin);
    int64_t a = svc_fixture_contact(&f, &admin, "13312340001");
    int64_t b = svc_fixture_contact(&f, &admin, "13312340002");
    assert_true(a > 0 && b > 0);
    struct cc_verif_view v;
    struct cc_error err;

    /* a's number, written another way: refused, naming a, nothing recorded */
    assert_int_equal(cc_verify_target_send(f.svc, &admin, "mobile", "+86 133 1234 0001", NULL, 0,
                                           &v, &err),
                     CC_ERR_ALREADY_EXISTS);
    assert_string_equal(err.field, "Mobile");
    assert_string_equal(err.message, "This mobile number already belongs to the contact \"A\".");
    assert_int_equal(v.contact_id, a);
    /* editing b, a's number is still a's */
    assert_int_equal(cc_verify_target_send(f.svc, &admin, "mobile", "13312340001", NULL, b, &v,
                                           &err),
                     CC_ERR_ALREADY_EXISTS);
    assert_int_equal(codes(&f), 0);

    /* editing a, its own number passes the check (and fails only at delivery) */
    assert_int_equal(cc_verify_target_send(f.svc, &admin, "mobile", "13312340001", NULL, a, &v,
                                           &err),
                     CC_ERR_DELIVERY_FAILED);
    assert_int_equal(v.contact_id, 0);
    assert_int_equal(codes(&f), 1);
    /* a contact the account does not have */
    assert_int_equal(cc_verify_target_send(f.svc, &admin, "mobile", "13312340003", NULL, 999999,
                                           &v, &err),
                     CC_ERR_NOT_FOUND);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* Marks every code sent (as if the gateway had taken it), behind the service's back. */
static void mark_sent(struct svc_fixture *f)
{
    if (f->pg_db[0]) {
        PGconn *pg = PQconnectdb(f->url);
        PGresult *r = PQexec(pg, "UPDATE verifications SET status = 'sent'");
        assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
        PQclear(r);
        PQfinish(pg);
        return;
    }
    char path[160];
    snprintf(path, sizeof path, "%s/t.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, "UPDATE verifications SET status = 'sent'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
}

static void throttled_names_valid_code(void **state)
{
    (void)state;
    struct svc_fixture f;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    limits(&f);
    struct cc_caller admin;
    svc_fixture_admin(&f, &admin);
    struct cc_verif_view v;
    struct cc_error err;
    assert_int_equal(cc_verify_target_send(f.svc, &admin, "mobile", "13312340005", NULL, 0, &v,
                                           &err),
                     CC_ERR_DELIVERY_FAILED);
    /* a failed code cannot be typed in: the 429 names none */
    assert_int_equal(cc_verify_target_send(f.svc, &admin, "mobile", "13312340005", NULL, 0, &v,
                                           &err),
                     CC_ERR_THROTTLED);
    assert_int_equal(v.id, 0);
    mark_sent(&f);
    int64_t before = cc_now_ms();
    assert_int_equal(cc_verify_target_send(f.svc, &admin, "mobile", "13312340005", NULL, 0, &v,
                                           &err),
                     CC_ERR_THROTTLED);
    assert_true(v.id > 0);
    assert_string_equal(v.channel, "mobile");
    assert_non_null(strchr(v.target, '*'));
    assert_true(v.expires_at > before && v.expires_at <= before + 600000);
    assert_true(err.retry_after_s >= 1 && err.retry_after_s <= 60);
    assert_true(v.resend_after >= before + (err.retry_after_s - 1) * 1000);

    /* another account's throttled send names nothing */
    struct cc_new_key other;
    assert_int_equal(cc_account_create(f.svc, "u", &other, &err), 0);
    struct cc_caller them = admin;
    them.account_id = other.account_id;
    assert_int_equal(cc_verify_target_send(f.svc, &them, "mobile", "13312340005", NULL, 0, &v,
                                           &err),
                     CC_ERR_THROTTLED);
    assert_int_equal(v.id, 0);

    /* the status read: sent is not confirmed */
    assert_int_equal(cc_verify_target_status(f.svc, &admin, "mobile", "13312340005", &v, &err), 0);
    assert_int_equal(v.confirmed_at, 0);
    assert_non_null(strchr(v.target, '*'));
    assert_int_equal(cc_verify_target_status(f.svc, &admin, "mobile", "12", &v, &err) != 0, 1);
    assert_int_equal(svc_fixture_close(&f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clash_before_sending),
        cmocka_unit_test(throttled_names_valid_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
