/*
 * test_endpoints.c — unit tests of service/endpoints.c on a real database
 * (service_fixture.h): the rules of a new endpoint (host, port, sni,
 * contacts, one per host, port and sni), roles, changing its contacts,
 * deleting it, each change audited; a check of a server that is not
 * there, recorded as an error and notified once however often it is
 * checked; a name that does not resolve. Checks against real TLS servers
 * are in tests/integration/endpoints.test.mjs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "service_fixture.h"

struct fx {
    struct svc_fixture b;
    struct cc_caller admin, readonly;
};

static int setup(void **state)
{
    struct fx *f = cc_calloc(1, sizeof *f);
    *state = f;
    if (svc_fixture_open(&f->b, 0))
        return -1;
    svc_fixture_admin(&f->b, &f->admin);
    f->readonly = f->admin;
    f->readonly.role = CC_ROLE_READONLY;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = svc_fixture_close(&f->b);
    cc_free(f);
    return rc;
}

/* The one integer that sqlite_sql (SQLite) or pg_sql (PostgreSQL: NULL when
 * it is the same text) answers on the fixture's database, read behind the
 * service's back; -1 when the query fails. */
static long long db_count(struct fx *f, const char *sqlite_sql, const char *pg_sql)
{
    if (!f->b.pg_db[0])
        return svc_fixture_count(&f->b, sqlite_sql, NULL);
    PGconn *c = PQconnectdb(f->b.url);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, pg_sql ? pg_sql : sqlite_sql) : NULL;
    long long n = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                      ? strtoll(PQgetvalue(r, 0, 0), NULL, 10)
                      : -1;
    PQclear(r);
    PQfinish(c);
    return n;
}

static int64_t contact(struct fx *f, const char *mobile)
{
    int64_t id = svc_fixture_contact(&f->b, &f->admin, mobile);
    assert_true(id > 0);
    return id;
}

static enum cc_err create(struct fx *f, const struct cc_caller *who, const char *host,
                          int64_t port, const char *sni, struct cc_endpoint *out,
                          struct cc_error *err)
{
    struct cc_endpoint_input in;
    memset(&in, 0, sizeof in);
    in.host = host;
    in.port = port;
    in.sni = sni;
    memset(out, 0, sizeof *out);
    return cc_endpoint_create(f->b.svc, who, &in, out, err);
}

static void rules_of_a_new_endpoint(void **state)
{
    struct fx *f = *state;
    struct cc_endpoint e;
    struct cc_error err;
    assert_int_equal(create(f, &f->admin, "WWW.Example.COM", 0, NULL, &e, &err), CC_OK);
    assert_string_equal(e.host, "www.example.com");
    assert_int_equal(e.port, 443);
    assert_string_equal(e.sni, "");
    assert_string_equal(cc_endpoint_state(&e), "pending");
    assert_true(e.next_check_at > 0);
    cc_endpoint_clear(&e);
    /* the same target said another way is the same endpoint */
    assert_int_equal(create(f, &f->admin, "www.example.com", 443, "www.example.com", &e, &err),
                     CC_ERR_ALREADY_EXISTS);
    assert_string_equal(err.field, "Host");
    assert_int_equal(create(f, &f->admin, "10.0.0.1", 8443, "api.example.com", &e, &err), CC_OK);
    assert_string_equal(e.sni, "api.example.com");
    cc_endpoint_clear(&e);
    assert_int_equal(create(f, &f->admin, "2001:DB8::1", 443, NULL, &e, &err), CC_OK);
    assert_string_equal(e.host, "2001:db8::1");
    cc_endpoint_clear(&e);
    assert_int_equal(create(f, &f->admin, "*.example.com", 443, NULL, &e, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_int_equal(create(f, &f->admin, "", 443, NULL, &e, &err), CC_ERR_MISSING_PARAMETER);
    assert_int_equal(create(f, &f->admin, "a.example.com", 65536, NULL, &e, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "Port");
    assert_int_equal(create(f, &f->admin, "a.example.com", 443, "192.0.2.1", &e, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "Sni");
    assert_int_equal(create(f, &f->readonly, "b.example.com", 443, NULL, &e, &err),
                     CC_ERR_FORBIDDEN);
    struct cc_endpoint *items;
    size_t n;
    int64_t total;
    assert_int_equal(cc_endpoint_list(f->b.svc, &f->readonly, 1, 20, &items, &n, &total, &err),
                     CC_OK);
    assert_int_equal(n, 3);
    assert_int_equal(total, 3);
    for (size_t i = 0; i < n; i++)
        cc_endpoint_clear(&items[i]);
    cc_free(items);
    assert_int_equal(db_count(f, "SELECT count(*) FROM audit_entries WHERE action = "
                                 "'endpoint.create'", NULL), 3);
}

static void contacts_change_and_delete(void **state)
{
    struct fx *f = *state;
    int64_t a = contact(f, "13800000001"), b = contact(f, "13800000002");
    struct cc_endpoint_input in;
    memset(&in, 0, sizeof in);
    in.host = "www.example.com";
    in.n_contact_ids = 2;
    in.contact_ids[0] = a;
    in.contact_ids[1] = a;
    struct cc_endpoint e;
    memset(&e, 0, sizeof e);
    struct cc_error err;
    assert_int_equal(cc_endpoint_create(f->b.svc, &f->admin, &in, &e, &err),
                     CC_ERR_INCORRECT_FORMAT);
    in.contact_ids[1] = 999999;
    assert_int_equal(cc_endpoint_create(f->b.svc, &f->admin, &in, &e, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "ContactIds");
    in.n_contact_ids = 1;
    assert_int_equal(cc_endpoint_create(f->b.svc, &f->admin, &in, &e, &err), CC_OK);
    assert_int_equal(e.n_contacts, 1);
    int64_t id = e.id, ids[] = {b, a};
    cc_endpoint_clear(&e);
    assert_int_equal(cc_endpoint_update(f->b.svc, &f->admin, id, ids, 2, &e, &err), CC_OK);
    assert_int_equal(e.n_contacts, 2);
    cc_endpoint_clear(&e);
    assert_int_equal(cc_endpoint_update(f->b.svc, &f->readonly, id, ids, 1, &e, &err),
                     CC_ERR_FORBIDDEN);
    assert_int_equal(cc_endpoint_update(f->b.svc, &f->admin, id + 100, ids, 1, &e, &err),
                     CC_ERR_NOT_FOUND);
    assert_int_equal(cc_endpoint_delete(f->b.svc, &f->admin, id, &err), CC_OK);
    assert_int_equal(cc_endpoint_delete(f->b.svc, &f->admin, id, &err), CC_ERR_NOT_FOUND);
    assert_int_equal(cc_endpoint_get(f->b.svc, &f->admin, id, &e, &err), CC_ERR_NOT_FOUND);
    assert_int_equal(db_count(f, "SELECT count(*) FROM audit_entries WHERE action IN "
                                 "('endpoint.update', 'endpoint.delete')", NULL), 2);
    assert_int_equal(db_count(f, "SELECT count(*) FROM endpoint_contacts", NULL), 0);
}

static void unreachable_is_an_error_notified_once(void **state)
{
    struct fx *f = *state;
    int64_t a = contact(f, "13800000003");
    struct cc_endpoint_input in;
    memset(&in, 0, sizeof in);
    in.host = "127.0.0.1";
    in.port = 1; /* nothing listens there: refused at once */
    in.sni = "down.example.com";
    in.n_contact_ids = 1;
    in.contact_ids[0] = a;
    struct cc_endpoint e;
    memset(&e, 0, sizeof e);
    struct cc_error err;
    assert_int_equal(cc_endpoint_create(f->b.svc, &f->admin, &in, &e, &err), CC_OK);
    int64_t id = e.id;
    cc_endpoint_clear(&e);
    assert_int_equal(cc_endpoint_check_now(f->b.svc, &f->readonly, id, &e, &err),
                     CC_ERR_FORBIDDEN);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(cc_endpoint_check_now(f->b.svc, &f->admin, id, &e, &err), CC_OK);
        assert_string_equal(cc_endpoint_state(&e), "error");
        assert_int_equal(e.alerts, CC_ENDPOINT_ALERT_ERROR);
        assert_false(e.last.handshake_ok);
        assert_non_null(strstr(e.last.error, "cannot connect to 127.0.0.1 port 1"));
        assert_true(e.next_check_at > e.last.checked_at + 5 * 3600 * 1000LL);
        cc_endpoint_clear(&e);
    }
    assert_int_equal(db_count(f, "SELECT count(*) FROM events WHERE type = "
                                 "'certificate.endpoint_error'", NULL), 1);
    assert_int_equal(db_count(f, "SELECT count(*) FROM events WHERE type = "
                                 "'certificate.endpoint_error' AND json_extract(data, "
                                 "'$.reason') LIKE 'cannot connect%'",
                              "SELECT count(*) FROM events WHERE type = "
                              "'certificate.endpoint_error' AND data::jsonb ->> 'reason' "
                              "LIKE 'cannot connect%'"), 1);
    /* a name that cannot resolve (RFC 6761: .invalid) is an error in words */
    in.host = "nothing.invalid";
    in.sni = NULL;
    in.port = 443;
    assert_int_equal(cc_endpoint_create(f->b.svc, &f->admin, &in, &e, &err), CC_OK);
    int64_t id2 = e.id;
    cc_endpoint_clear(&e);
    assert_int_equal(cc_endpoint_check_now(f->b.svc, &f->admin, id2, &e, &err), CC_OK);
    assert_non_null(strstr(e.last.error, "cannot resolve nothing.invalid"));
    cc_endpoint_clear(&e);
    /* another account's caller finds nothing */
    struct cc_caller other = f->admin;
    other.account_id += 1000;
    assert_int_equal(cc_endpoint_check_now(f->b.svc, &other, id, &e, &err), CC_ERR_NOT_FOUND);
}

int main(void)
{
    cc_log_set_level(CC_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rules_of_a_new_endpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(contacts_change_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(unreachable_is_an_error_notified_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
