/* test_alloc_fail.c — allocation-failure injection over a whole create-contact
 * request: the JSON body parsed and read the way the REST handler does, its
 * Idempotency-Key hash, then the service and a real SQLite database. The
 * walk fails the 0th, 1st, 2nd, ... allocation of the libraries
 * (cc_alloc_fail_after) until a request runs without meeting the failure,
 * and checks every failed request: it maps to HTTP 500 or 503, and it left
 * no contact, no audit row and no idempotency row behind. Under the ASan
 * build, LeakSanitizer fails the program if a failure path leaked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"
#include "service/service.h"
#include "service_fixture.h"
#include "util/util.h"

/* A walk longer than this means the failure never stops being met. */
#define MAX_STEPS 20000

struct fx {
    struct svc_fixture b;
    struct cc_caller admin;
};

static int setup(void **state)
{
    cc_alloc_init();
    struct fx *f = cc_calloc(1, sizeof *f);
    if (svc_fixture_open(&f->b, 0))
        return -1;
    svc_fixture_admin(&f->b, &f->admin);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = svc_fixture_close(&f->b);
    cc_free(f);
    return rc;
}

/* One request of the walk: its own key, email and mobile, so that a
 * request that got through despite a failed allocation does not make the
 * next one a duplicate. */
struct req {
    char key[32];
    char mobile[16];
    char body[512];
    char hash[65];
    struct cc_contact out;
    int replayed;
    struct cc_error err;
};

static void make_req(struct req *r, long n)
{
    memset(r, 0, sizeof *r);
    snprintf(r->key, sizeof r->key, "alloc-%ld", n);
    snprintf(r->mobile, sizeof r->mobile, "+86133%08ld", n);
    snprintf(r->body, sizeof r->body,
             "{\"name\": \"张三 %ld\", \"email\": \"Zhang.San.%ld@Example.com\", "
             "\"mobile\": \"%s\", \"id_card\": \"11010519491231002X\", \"language\": \"zh-CN\", "
             "\"webhooks\": [{\"url\": \"https://oapi.dingtalk.com/robot/send?access_token=t%ld\", "
             "\"secret\": \"SECalloc\"}, "
             "{\"url\": \"https://open.feishu.cn/open-apis/bot/v2/hook/h%ld\"}]}",
             n, n, r->mobile, n, n);
}

/* The steps of contacts_create in http/rest_contacts.c, with the n-th
 * library allocation failing (n = -1: none). */
static enum cc_err run(struct fx *f, struct req *r, long n)
{
    json_t *obj = NULL;
    struct cc_contact_input in;
    cc_alloc_fail_after(n);
    enum cc_err rc = cc_json_parse_object(r->body, strlen(r->body), &obj, &r->err);
    if (!rc)
        rc = cc_json_contact_input(obj, &in, &r->err);
    if (!rc)
        rc = cc_json_body_hash(obj, r->hash, &r->err);
    if (!rc)
        rc = cc_contact_create(f->b.svc, &f->admin, &in, r->key, r->hash, &r->out, &r->replayed,
                               &r->err);
    cc_alloc_fail_after(-1);
    json_decref(obj);
    return rc;
}

static long long contacts_total(struct fx *f)
{
    return svc_fixture_count(&f->b, "SELECT count(*) FROM contacts", NULL);
}

static long long audit_creates(struct fx *f)
{
    return svc_fixture_count(&f->b, "SELECT count(*) FROM audit_log WHERE action = 'contact.create'",
                             NULL);
}

static long long with_mobile(struct fx *f, const char *mobile)
{
    return svc_fixture_count(&f->b, "SELECT count(*) FROM contacts WHERE mobile = ?1", mobile);
}

static long long idem_rows(struct fx *f, const char *key)
{
    return svc_fixture_count(&f->b, "SELECT count(*) FROM idempotency_keys WHERE key = ?1", key);
}

/* A request that succeeded stored exactly one contact, its audit row and
 * its key with the hash of its body. */
static void check_stored(struct fx *f, struct req *r)
{
    assert_int_equal(r->replayed, 0);
    assert_true(r->out.id > 0);
    assert_int_equal(with_mobile(f, r->mobile), 1);
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)r->out.id);
    assert_int_equal(svc_fixture_count(&f->b,
                                       "SELECT count(*) FROM audit_log WHERE action = "
                                       "'contact.create' AND object_id = ?1",
                                       id),
                     1);
    char want[65];
    json_t *obj = NULL;
    struct cc_error err;
    assert_int_equal(cc_json_parse_object(r->body, strlen(r->body), &obj, &err), CC_OK);
    assert_int_equal(cc_json_body_hash(obj, want, &err), CC_OK);
    json_decref(obj);
    assert_string_equal(r->hash, want);
    assert_int_equal(idem_rows(f, r->key), 1);
    char key_hash[32 + 1 + 65];
    snprintf(key_hash, sizeof key_hash, "%s %s", r->key, want);
    assert_int_equal(svc_fixture_count(&f->b,
                                       "SELECT count(*) FROM idempotency_keys "
                                       "WHERE key || ' ' || request_hash = ?1",
                                       key_hash),
                     1);
}

static void create_contact_under_failing_allocations(void **state)
{
    struct fx *f = *state;
    struct req *r = cc_malloc(sizeof *r);
    long long stored = 0;
    long n, failed = 0, absorbed = 0;
    for (n = 0; n < MAX_STEPS; n++) {
        make_req(r, n);
        long long contacts0 = contacts_total(f), audit0 = audit_creates(f);
        long failures0 = cc_alloc_failures();
        enum cc_err rc = run(f, r, n);
        int met = cc_alloc_failures() > failures0;
        if (rc == CC_OK) {
            check_stored(f, r);
            stored++;
            assert_int_equal(contacts_total(f), contacts0 + 1);
            assert_int_equal(audit_creates(f), audit0 + 1);
            if (!met)
                break; /* the whole request ran without meeting the failure */
            absorbed++;
            continue;
        }
        failed++;
        int status = cc_err_http_status(rc);
        if (!met || (status != 500 && status != 503))
            fail_msg("step %ld: %s (HTTP %d, %s%s%s) %s", n, cc_strerror(rc), status,
                     r->err.field, r->err.field[0] ? ": " : "", r->err.message,
                     met ? "" : "without an injected failure");
        assert_int_equal(contacts_total(f), contacts0);
        assert_int_equal(with_mobile(f, r->mobile), 0);
        assert_int_equal(audit_creates(f), audit0);
        assert_int_equal(idem_rows(f, r->key), 0);
    }
    assert_true(n < MAX_STEPS);
    assert_true(failed > 0); /* the hook did reach the request */
    assert_int_equal(contacts_total(f), stored);
    print_message("%ld allocations failed one at a time: %ld requests failed cleanly, %ld got "
                  "through; then one request succeeded\n",
                  n, failed, absorbed);

    /* The final request, repeated, is a replay of the same one contact. */
    struct req *again = cc_malloc(sizeof *again);
    make_req(again, n);
    assert_int_equal(run(f, again, -1), CC_OK);
    assert_int_equal(again->replayed, 1);
    assert_int_equal(again->out.id, r->out.id);
    assert_int_equal(with_mobile(f, r->mobile), 1);
    assert_int_equal(contacts_total(f), stored);
    cc_free(again);
    cc_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_contact_under_failing_allocations, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
