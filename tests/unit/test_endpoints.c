/*
 * test_endpoints.c — unit tests of service/endpoints.c on a real database
 * (service_fixture.h): the rules of a new endpoint (host, port, sni,
 * contacts, one per host, port and sni), roles, changing its contacts,
 * deleting it, each change audited; a check of a server that is not
 * there, recorded as an error and notified once however often it is
 * checked; a name that does not resolve; and each operation of
 * store/endpoints.h below the service (SQLite, or PostgreSQL with
 * CC_TEST_PG). Checks against real TLS servers are in
 * tests/integration/endpoints.test.mjs.
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

/* ---- the store's side, below the service ------------------------------------------ */
/* Runs sql (the same text on both backends) on the fixture's database
 * behind the service's back: 0 or -1. */
static int db_exec(struct fx *f, const char *sql)
{
    if (f->b.pg_db[0]) {
        PGconn *c = PQconnectdb(f->b.url);
        PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
        int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        PQfinish(c);
        return ok ? 0 : -1;
    }
    char path[160];
    snprintf(path, sizeof path, "%s/t.db", f->b.dir);
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db) == SQLITE_OK &&
                     sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
                     sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    sqlite3_close(db);
    return rc;
}

enum st_op { ST_INSERT, ST_CONTACTS, ST_DUE, ST_SCHEDULE, ST_RESULT, ST_NEWER, ST_DELETE };

struct st {
    enum st_op op;
    struct cc_endpoint *e;
    int64_t id, now, ids[4], accounts[4];
    size_t n;
    const char *names, *fingerprint;
};

static enum cc_err st_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct st *o = arg;
    switch (o->op) {
    case ST_INSERT:
        return cc_tx_endpoint_insert(tx, o->e, &o->e->id, err);
    case ST_CONTACTS:
        return cc_tx_endpoint_contacts_set(tx, o->e->id, o->ids, o->n, o->now, err);
    case ST_DUE:
        return cc_tx_endpoint_due(tx, o->now, 4, o->ids, o->accounts, &o->n, err);
    case ST_SCHEDULE:
        return cc_tx_endpoint_schedule(tx, o->e->id, o->now, err);
    case ST_RESULT:
        return cc_tx_endpoint_result_set(tx, o->e, err);
    case ST_NEWER:
        return cc_tx_endpoint_newer_cert(tx, o->e->account_id, o->names, 1000, o->fingerprint,
                                         &o->id, err);
    case ST_DELETE:
        return cc_tx_endpoint_delete(tx, o->e->account_id, o->e->id, err);
    }
    return CC_ERR_INTERNAL;
}

static enum cc_err st_run(struct fx *f, struct st *o, enum st_op op, struct cc_error *err)
{
    o->op = op;
    return cc_store_write(f->b.store, st_tx, o, err);
}

/* Each operation of store/endpoints.h as the service relies on it, on either backend. */
static void store_operations(void **state)
{
    struct fx *f = *state;
    long long acct = (long long)f->admin.account_id;
    char sql[1200];
    snprintf(sql, sizeof sql,
             "INSERT INTO contacts(id, account_id, name, mobile, created_at, updated_at, "
             "search_text) VALUES (901, %lld, 'A', '13800000001', 1, 1, 'a'), "
             "(902, %lld, 'B', '13800000002', 1, 1, 'b'); "
             "INSERT INTO certificates(id, account_id, domains, not_after, fingerprint, "
             "created_at, updated_at) VALUES "
             "(601, %lld, '[]', 2000, 'fpab', 1, 1), (602, %lld, '[]', 3000, 'fpa', 1, 1); "
             "INSERT INTO certificate_domains(certificate_id, domain, account_id) VALUES "
             "(601, 'a.example.com', %lld), (601, 'b.example.com', %lld), "
             "(602, 'a.example.com', %lld)",
             acct, acct, acct, acct, acct, acct, acct);
    assert_int_equal(db_exec(f, sql), 0);
    struct cc_endpoint e, got;
    memset(&e, 0, sizeof e);
    e.account_id = f->admin.account_id;
    cc_strlcpy(e.host, "a.example.com", sizeof e.host);
    e.port = 443;
    e.n_contacts = 1;
    e.contacts[0] = 901;
    e.created_at = 10;
    e.next_check_at = 100;
    struct st o;
    memset(&o, 0, sizeof o);
    o.e = &e;
    struct cc_error err;
    assert_int_equal(st_run(f, &o, ST_INSERT, &err), CC_OK);
    int64_t id = e.id;
    assert_true(id > 0);
    assert_int_equal(st_run(f, &o, ST_INSERT, &err), CC_ERR_ALREADY_EXISTS);
    assert_string_equal(err.field, "Host");
    e.id = id;
    memset(&got, 0, sizeof got);
    assert_int_equal(cc_store_endpoint_get(f->b.store, e.account_id, id, &got, &err), CC_OK);
    assert_string_equal(got.host, "a.example.com");
    assert_int_equal(got.n_contacts, 1);
    assert_string_equal(got.last.names, "[]");
    assert_int_equal(got.last.certificate_id, 0);
    cc_endpoint_clear(&got);
    o.ids[0] = 902;
    o.ids[1] = 901;
    o.n = 2;
    o.now = 20;
    assert_int_equal(st_run(f, &o, ST_CONTACTS, &err), CC_OK);
    assert_int_equal(cc_store_endpoint_get(f->b.store, e.account_id, id, &got, &err), CC_OK);
    assert_int_equal(got.n_contacts, 2);
    assert_int_equal(got.contacts[0], 901);
    assert_int_equal(got.contacts[1], 902);
    assert_int_equal(got.updated_at, 20);
    cc_endpoint_clear(&got);
    /* due at 100, then moved to 500 */
    o.now = 99;
    assert_int_equal(st_run(f, &o, ST_DUE, &err), CC_OK);
    assert_int_equal(o.n, 0);
    o.now = 100;
    assert_int_equal(st_run(f, &o, ST_DUE, &err), CC_OK);
    assert_int_equal(o.n, 1);
    assert_int_equal(o.ids[0], id);
    assert_int_equal(o.accounts[0], e.account_id);
    o.now = 500;
    assert_int_equal(st_run(f, &o, ST_SCHEDULE, &err), CC_OK);
    int64_t at = 0;
    assert_int_equal(cc_store_endpoint_next(f->b.store, &at, &err), CC_OK);
    assert_int_equal(at, 500);
    /* the newest active certificate that covers every served name, not the one served */
    o.names = "[\"a.example.com\",\"b.example.com\"]";
    o.fingerprint = "fpx";
    assert_int_equal(st_run(f, &o, ST_NEWER, &err), CC_OK);
    assert_int_equal(o.id, 601);
    o.names = "[\"a.example.com\"]";
    assert_int_equal(st_run(f, &o, ST_NEWER, &err), CC_OK);
    assert_int_equal(o.id, 602);
    o.fingerprint = "fpa";
    assert_int_equal(st_run(f, &o, ST_NEWER, &err), CC_OK);
    assert_int_equal(o.id, 601);
    o.names = "[]";
    assert_int_equal(st_run(f, &o, ST_NEWER, &err), CC_ERR_NOT_FOUND);
    /* a check's result; an issuer cut inside a UTF-8 character is still saved */
    e.next_check_at = 900;
    e.alerts = 3;
    e.last.checked_at = 800;
    e.last.handshake_ok = 1;
    cc_strlcpy(e.last.issuer, "Caf\xc3", sizeof e.last.issuer);
    cc_strlcpy(e.last.fingerprint, "fpab", sizeof e.last.fingerprint);
    e.last.names = (char *)"[\"a.example.com\"]";
    e.last.certificate_id = 601;
    assert_int_equal(st_run(f, &o, ST_RESULT, &err), CC_OK);
    struct cc_endpoint *items = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(cc_store_endpoint_list(f->b.store, e.account_id, 1, 10, &items, &n, &total,
                                            &err), CC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(total, 1);
    assert_int_equal(items[0].alerts, 3);
    assert_int_equal(items[0].next_check_at, 900);
    assert_true(items[0].last.handshake_ok);
    assert_string_equal(items[0].last.names, "[\"a.example.com\"]");
    assert_memory_equal(items[0].last.issuer, "Caf", 3);
    assert_int_equal(items[0].last.certificate_id, 601);
    assert_int_equal(items[0].last.newer_certificate_id, 0);
    assert_int_equal(items[0].n_contacts, 2);
    cc_endpoint_clear(&items[0]);
    cc_free(items);
    assert_int_equal(cc_store_endpoint_list(f->b.store, e.account_id, 2, 10, &items, &n, &total,
                                            &err), CC_OK);
    assert_int_equal(n, 0);
    assert_int_equal(total, 1);
    cc_free(items);
    assert_int_equal(st_run(f, &o, ST_DELETE, &err), CC_OK);
    assert_int_equal(st_run(f, &o, ST_DELETE, &err), CC_ERR_NOT_FOUND);
    assert_int_equal(cc_store_endpoint_get(f->b.store, e.account_id, id, &got, &err),
                     CC_ERR_NOT_FOUND);
    assert_int_equal(cc_store_endpoint_next(f->b.store, &at, &err), CC_OK);
    assert_int_equal(at, 0);
}

int main(void)
{
    cc_log_set_level(CC_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rules_of_a_new_endpoint, setup, teardown),
        cmocka_unit_test_setup_teardown(contacts_change_and_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(unreachable_is_an_error_notified_once, setup, teardown),
        cmocka_unit_test_setup_teardown(store_operations, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
