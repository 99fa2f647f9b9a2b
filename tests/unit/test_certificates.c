/*
 * test_certificates.c — unit tests of service/certificates.c on a real
 * database (service_fixture.h) with real certificates (pki_fixture.h): the
 * private key sealed at rest, handed out to an admin only and audited;
 * svc_certificate_create_tx inside another use case's transaction, undone
 * with it when that transaction fails; renewal superseding and carrying
 * subscribers over; the states shown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pki_fixture.h"
#include "service_fixture.h"

static struct pki_fixture pki;

struct fx {
    struct svc_fixture b;
    struct cc_caller admin, operator;
};

static int group_setup(void **state)
{
    (void)state;
    return pki_fixture_make(&pki);
}

static int group_teardown(void **state)
{
    (void)state;
    return pki_fixture_remove(&pki);
}

static int setup(void **state)
{
    struct fx *f = cc_calloc(1, sizeof *f);
    *state = f;
    if (svc_fixture_open(&f->b, 0))
        return -1;
    svc_fixture_admin(&f->b, &f->admin);
    f->operator = f->admin;
    f->operator.role = CC_ROLE_OPERATOR;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = svc_fixture_close(&f->b);
    cc_free(f);
    return rc;
}

static int64_t contact(struct fx *f, const char *mobile)
{
    int64_t id = svc_fixture_contact(&f->b, &f->admin, mobile);
    assert_true(id > 0);
    return id;
}

static void private_key_sealed_and_audited(void **state)
{
    struct fx *f = *state;
    char *pem = pki_cat(pki.leaf, pki.inter);
    struct cc_cert_input in;
    memset(&in, 0, sizeof in);
    in.pem = pem;
    in.pem_len = strlen(pem);
    in.private_key = pki.leaf_key;
    in.private_key_len = strlen(pki.leaf_key);
    in.carry_subscribers = 1;
    struct cc_certificate c;
    struct cc_error err;
    memset(&c, 0, sizeof c);
    assert_int_equal(cc_certificate_create(f->b.svc, &f->operator, &in, &c, &err), CC_OK);
    assert_true(c.has_private_key);
    assert_null(c.key_enc);
    int64_t id = c.id;
    cc_certificate_clear(&c);

    /* at rest: sealed, not the text */
    const char *sealed_sql =
        f->b.pg_db[0] ? "SELECT count(*) FROM certificates WHERE private_key_enc IS NOT NULL "
                        "AND position(convert_to(?1, 'UTF8') IN private_key_enc) = 0"
                      : "SELECT count(*) FROM certificates WHERE private_key_enc "
                        "IS NOT NULL AND instr(hex(private_key_enc), hex(?1)) = 0";
    assert_int_equal(svc_fixture_count(&f->b, sealed_sql, "PRIVATE KEY"), 1);
    char *key = NULL;
    assert_int_equal(cc_certificate_private_key(f->b.svc, &f->operator, id, &key, &err),
                     CC_ERR_FORBIDDEN);
    assert_null(key);
    assert_int_equal(svc_fixture_count(&f->b, "SELECT count(*) FROM audit_log WHERE action = ?1",
                                       "certificate.private_key.read"),
                     0);
    assert_int_equal(cc_certificate_private_key(f->b.svc, &f->admin, id, &key, &err), CC_OK);
    assert_string_equal(key, pki.leaf_key);
    cc_free(key);
    assert_int_equal(svc_fixture_count(&f->b, "SELECT count(*) FROM audit_log WHERE action = ?1",
                                       "certificate.private_key.read"),
                     1);
    cc_free(pem);
}

/* Another use case's write: a certificate made inside it, then that use
 * case's own step, which fails when fail is set. */
struct issue_op {
    struct cc_service *svc;
    const struct cc_caller *caller;
    const struct cc_cert_input *in;
    int fail;
    int64_t id;
};

static enum cc_err issue_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct issue_op *op = arg;
    enum cc_err rc = svc_certificate_create_tx(op->svc, tx, op->caller, op->in, &op->id, err);
    if (!rc && op->fail)
        rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Application", "refused afterwards");
    return rc;
}

static void created_inside_another_transaction(void **state)
{
    struct fx *f = *state;
    int64_t a = contact(f, "13312345001");
    struct cc_cert_input in;
    memset(&in, 0, sizeof in);
    in.pem = pki.leaf;
    in.pem_len = strlen(pki.leaf);
    in.has_contact_ids = 1;
    in.n_contact_ids = 1;
    in.contact_ids[0] = a;
    in.carry_subscribers = 1;
    struct issue_op op = {f->b.svc, &f->operator, &in, 1, 0};
    struct cc_error err;
    assert_int_equal(cc_store_write(f->b.store, issue_tx, &op, &err), CC_ERR_INVALID_PARAMETER);
    assert_int_equal(svc_fixture_count(&f->b, "SELECT count(*) FROM certificates", NULL), 0);
    assert_int_equal(
        svc_fixture_count(&f->b, "SELECT count(*) FROM certificate_subscribers", NULL), 0);

    op.fail = 0;
    assert_int_equal(cc_store_write(f->b.store, issue_tx, &op, &err), CC_OK);
    struct cc_certificate c;
    memset(&c, 0, sizeof c);
    assert_int_equal(cc_certificate_get(f->b.svc, &f->admin, op.id, &c, &err), CC_OK);
    assert_int_equal(c.n_subscribers, 1);
    assert_int_equal(c.subscribers[0], a);
    assert_int_equal(c.state, CC_CERT_ACTIVE);
    cc_certificate_clear(&c);

    /* the same PEM again is refused, naming the certificate stored */
    assert_int_equal(cc_store_write(f->b.store, issue_tx, &op, &err), CC_ERR_ALREADY_EXISTS);
    assert_string_equal(err.field, "Certificate");
}

static void renewal_supersedes_and_carries(void **state)
{
    struct fx *f = *state;
    int64_t a = contact(f, "13312345002");
    struct cc_cert_input in;
    memset(&in, 0, sizeof in);
    const char *names[] = {"www.example.com", "example.com"};
    in.domains[0] = names[0];
    in.n_domains = 1;
    in.not_after = "2030-01-01";
    in.n_contact_ids = 1;
    in.contact_ids[0] = a;
    in.carry_subscribers = 1;
    struct cc_certificate old, renewed, got;
    struct cc_error err;
    memset(&old, 0, sizeof old);
    memset(&renewed, 0, sizeof renewed);
    memset(&got, 0, sizeof got);
    assert_int_equal(cc_certificate_create(f->b.svc, &f->operator, &in, &old, &err), CC_OK);
    /* the PEM covers www.example.com and example.com, but expires before 2030:
     * it renews nothing */
    struct cc_cert_input pem;
    memset(&pem, 0, sizeof pem);
    pem.pem = pki.leaf;
    pem.pem_len = strlen(pki.leaf);
    pem.carry_subscribers = 1;
    assert_int_equal(cc_certificate_create(f->b.svc, &f->operator, &pem, &renewed, &err), CC_OK);
    assert_int_equal(cc_certificate_get(f->b.svc, &f->admin, old.id, &got, &err), CC_OK);
    assert_int_equal(got.state, CC_CERT_ACTIVE);
    cc_certificate_clear(&got);
    cc_certificate_clear(&renewed);

    /* metadata for both names, later: supersedes both, carries a over */
    in.domains[1] = names[1];
    in.n_domains = 2;
    in.not_after = "2031-01-01";
    in.n_contact_ids = 0;
    assert_int_equal(cc_certificate_create(f->b.svc, &f->operator, &in, &renewed, &err), CC_OK);
    assert_int_equal(renewed.n_subscribers, 1);
    assert_int_equal(renewed.subscribers[0], a);
    assert_int_equal(cc_certificate_get(f->b.svc, &f->admin, old.id, &got, &err), CC_OK);
    assert_int_equal(got.state, CC_CERT_SUPERSEDED);
    assert_int_equal(got.superseded_by, renewed.id);
    cc_certificate_clear(&got);
    assert_int_equal(svc_fixture_count(&f->b,
                                       "SELECT count(*) FROM certificates WHERE state = ?1",
                                       "superseded"),
                     2);
    cc_certificate_clear(&old);
    cc_certificate_clear(&renewed);
}

static void roles_and_states(void **state)
{
    struct fx *f = *state;
    struct cc_caller ro = f->admin;
    ro.role = CC_ROLE_READONLY;
    struct cc_cert_input in;
    memset(&in, 0, sizeof in);
    in.domains[0] = "old.example.com";
    in.n_domains = 1;
    in.not_after = "2020-01-01T00:00:00Z";
    struct cc_certificate c;
    struct cc_error err;
    memset(&c, 0, sizeof c);
    assert_int_equal(cc_certificate_create(f->b.svc, &ro, &in, &c, &err), CC_ERR_FORBIDDEN);
    assert_int_equal(cc_certificate_create(f->b.svc, &f->operator, &in, &c, &err), CC_OK);
    assert_int_equal(c.state, CC_CERT_EXPIRED);
    int64_t id = c.id;
    cc_certificate_clear(&c);
    assert_int_equal(cc_certificate_revoke(f->b.svc, &ro, id, NULL, &c, &err), CC_ERR_FORBIDDEN);
    assert_int_equal(cc_certificate_revoke(f->b.svc, &f->operator, id, "gone", &c, &err), CC_OK);
    assert_int_equal(c.state, CC_CERT_REVOKED);
    cc_certificate_clear(&c);
    assert_int_equal(cc_certificate_revoke(f->b.svc, &f->operator, id, NULL, &c, &err),
                     CC_ERR_UPDATE_CONFLICT);
    assert_int_equal(cc_certificate_delete(f->b.svc, &ro, id, &err), CC_ERR_FORBIDDEN);
    assert_int_equal(cc_certificate_delete(f->b.svc, &f->operator, id, &err), CC_OK);
    assert_int_equal(cc_certificate_get(f->b.svc, &ro, id, &c, &err), CC_ERR_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(private_key_sealed_and_audited, setup, teardown),
        cmocka_unit_test_setup_teardown(created_inside_another_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(renewal_supersedes_and_carries, setup, teardown),
        cmocka_unit_test_setup_teardown(roles_and_states, setup, teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
