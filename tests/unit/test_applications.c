/*
 * test_applications.c — service/applications.c on a real database: an
 * inline contact that breaks the rules leaves nothing behind, every contact
 * problem comes in one error, a named contact that passes gives an
 * application with its history, the store's filters, illegal moves, a
 * contact that open applications hold (refused delete, reassign) and
 * idempotent submission.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "service_fixture.h"

static const char *const one_domain[] = {"www.example.com"};

static void inline_contact_rolled_back(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_caller admin;
    struct cc_error err;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    svc_fixture_admin(&f, &admin);
    struct cc_contact_input ci = {CC_F_NAME | CC_F_EMAIL | CC_F_MOBILE, "Li Lei", "li@example.com",
                                  "13312345678", NULL, NULL, 0, {{0}}};
    struct cc_application_input in = {"digicert-ov-1-personal", 1, one_domain, 1, NULL, 0, &ci,
                                      NULL};
    struct cc_application a;
    assert_int_equal(cc_application_create(f.svc, &admin, &in, NULL, NULL, &a, NULL, NULL,
                                           &err),
                     CC_ERR_CONTACT_INELIGIBLE);
    assert_int_equal(err.n_problems, 3);
    assert_string_equal(err.problems[0].code, "MissingParameter.IdCard");
    assert_string_equal(err.problems[1].code, "Unverified.Email");
    assert_string_equal(err.problems[2].code, "Unverified.Mobile");
    assert_int_equal(svc_fixture_count(&f, "SELECT count(*) FROM contacts", NULL), 0);
    assert_int_equal(svc_fixture_count(&f, "SELECT count(*) FROM applications", NULL), 0);
    assert_int_equal(svc_fixture_count(&f, "SELECT count(*) FROM audit_log WHERE action = "
                                           "'contact.create'", NULL), 0);
    /* a cc_error_set afterwards empties the list */
    cc_error_set(&err, CC_ERR_NOT_FOUND, NULL, "x");
    assert_int_equal(err.n_problems, 0);
    cc_service_thread_done(f.svc);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* Marks the contact's addresses verified behind the service's back. */
static void verify_all(struct svc_fixture *f)
{
    assert_int_equal(svc_fixture_exec(f, "UPDATE contacts SET email_verified_at = 1, "
                                         "mobile_verified_at = 1", NULL), 0);
}

static void named_contact_and_moves(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_caller admin;
    struct cc_error err;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    svc_fixture_admin(&f, &admin);
    struct cc_contact_input ci = {CC_F_NAME | CC_F_EMAIL | CC_F_MOBILE, "Han Meimei",
                                  "han@example.com", "13312345679", NULL, NULL, 0, {{0}}};
    struct cc_contact *c = cc_malloc(sizeof *c);
    assert_int_equal(cc_contact_create(f.svc, &admin, &ci, NULL, NULL, c, NULL, &err), CC_OK);
    verify_all(&f);
    struct cc_application_input in = {"globalsign-ov-1-personal", 1, one_domain, 1, NULL, c->id,
                                      NULL, NULL};
    struct cc_application a;
    assert_int_equal(
        cc_application_create(f.svc, &admin, &in, NULL, NULL, &a, NULL, NULL, &err), CC_OK);
    assert_int_equal(a.state, CC_APP_SUBMITTED);
    assert_non_null(strstr(a.domains, "www.example.com"));
    int64_t id = a.id;
    cc_application_clear(&a);

    assert_int_equal(cc_application_transition(f.svc, &admin, id, "approved", NULL, NULL, &a, &err),
                     CC_ERR_INVALID_TRANSITION);
    assert_non_null(strstr(err.message, "pending_validation, rejected, cancelled"));
    assert_int_equal(cc_application_transition(f.svc, &admin, id, "pending_validation", "go",
                                               NULL, &a, &err), CC_OK);
    assert_int_equal(a.state, CC_APP_PENDING_VALIDATION);
    cc_application_clear(&a);
    /* the move raised its event to the contact, in the same transaction */
    assert_int_equal(svc_fixture_count(&f, "SELECT count(*) FROM events WHERE type = ?1",
                                       "certificate.application.verification_required"), 1);

    struct cc_app_transition *h = NULL;
    size_t n = 0;
    assert_int_equal(cc_application_get(f.svc, &admin, id, &a, &h, &n, &err), CC_OK);
    assert_int_equal(n, 2);
    assert_string_equal(h[1].from_state, "submitted");
    assert_string_equal(h[1].to_state, "pending_validation");
    assert_string_equal(h[1].reason, "go");
    cc_application_clear(&a);
    cc_free(h);

    struct cc_app_filter flt = {"pending_validation", "WWW.example.com", NULL, c->id, 1, 20};
    struct cc_application *items = NULL;
    int64_t total = 0;
    assert_int_equal(cc_application_list(f.svc, &admin, &flt, &items, &n, &total, &err), CC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(total, 1);
    cc_application_list_free(items, n);
    flt.state = "approved";
    assert_int_equal(cc_application_list(f.svc, &admin, &flt, &items, &n, &total, &err), CC_OK);
    assert_int_equal(total, 0);
    cc_application_list_free(items, n);

    struct cc_caller ro = admin;
    ro.role = CC_ROLE_READONLY;
    assert_int_equal(cc_application_transition(f.svc, &ro, id, "cancelled", NULL, NULL, &a, &err),
                     CC_ERR_FORBIDDEN);
    cc_free(c);
    cc_service_thread_done(f.svc);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* A verified contact of the caller's account (the mobile tells them apart). */
static int64_t verified_contact(struct svc_fixture *f, const struct cc_caller *caller,
                                const char *name, const char *email, const char *mobile)
{
    struct cc_contact_input ci = {CC_F_NAME | CC_F_EMAIL | CC_F_MOBILE, name, email, mobile,
                                  NULL, NULL, 0, {{0}}};
    struct cc_contact *c = cc_malloc(sizeof *c);
    struct cc_error err;
    assert_int_equal(cc_contact_create(f->svc, caller, &ci, NULL, NULL, c, NULL, &err), CC_OK);
    int64_t id = c->id;
    cc_free(c);
    verify_all(f);
    return id;
}

static int64_t submit(struct svc_fixture *f, const struct cc_caller *caller, int64_t contact)
{
    struct cc_application_input in = {"globalsign-ov-1-personal", 1, one_domain, 1, NULL,
                                      contact, NULL, NULL};
    struct cc_application a;
    struct cc_error err;
    assert_int_equal(
        cc_application_create(f->svc, caller, &in, NULL, NULL, &a, NULL, NULL, &err), CC_OK);
    int64_t id = a.id;
    cc_application_clear(&a);
    return id;
}

/* The validation type an order names is kept with the application (migration
 * 0019) and read back by get and list; only DNS and FILE are accepted. */
static void validate_type_kept(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_caller admin;
    struct cc_error err;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    svc_fixture_admin(&f, &admin);
    int64_t contact = verified_contact(&f, &admin, "Wei", "wei@example.com", "13312340001");
    struct cc_application_input in = {"globalsign-ov-1-personal", 1, one_domain, 1, NULL,
                                      contact, NULL, "HTTP"};
    struct cc_application a;
    assert_int_equal(cc_application_create(f.svc, &admin, &in, NULL, NULL, &a, NULL, NULL, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "ValidateType");
    assert_int_equal(svc_fixture_count(&f, "SELECT count(*) FROM applications", NULL), 0);
    in.validate_type = "FILE";
    assert_int_equal(cc_application_create(f.svc, &admin, &in, NULL, NULL, &a, NULL, NULL, &err),
                     CC_OK);
    int64_t id = a.id;
    cc_application_clear(&a);
    int64_t plain = submit(&f, &admin, contact); /* names none */
    struct cc_app_transition *h = NULL;
    size_t n = 0;
    assert_int_equal(cc_application_get(f.svc, &admin, id, &a, &h, &n, &err), CC_OK);
    assert_string_equal(a.validate_type, "FILE");
    cc_application_clear(&a);
    cc_free(h);
    assert_int_equal(cc_application_get(f.svc, &admin, plain, &a, &h, &n, &err), CC_OK);
    assert_string_equal(a.validate_type, "");
    cc_application_clear(&a);
    cc_free(h);
    struct cc_app_filter flt = {NULL, NULL, NULL, 0, 1, 20};
    struct cc_application *items = NULL;
    int64_t total = 0;
    assert_int_equal(cc_application_list(f.svc, &admin, &flt, &items, &n, &total, &err), CC_OK);
    assert_int_equal(n, 2);
    assert_string_equal(items[0].validate_type, ""); /* newest first */
    assert_string_equal(items[1].validate_type, "FILE");
    cc_application_list_free(items, n);
    cc_service_thread_done(f.svc);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* A metadata certificate with subscribers ids (n of them). */
static void certificate(struct svc_fixture *f, const struct cc_caller *caller,
                        const char *domain, const int64_t *ids, size_t n)
{
    struct cc_cert_input *in = cc_calloc(1, sizeof *in);
    in->n_domains = 1;
    in->domains[0] = domain;
    in->not_after = "2030-01-01";
    in->has_contact_ids = 1;
    in->n_contact_ids = n;
    memcpy(in->contact_ids, ids, n * sizeof *ids);
    struct cc_certificate c;
    memset(&c, 0, sizeof c); /* the read leaves key_enc as it finds it */
    struct cc_error err;
    assert_int_equal(cc_certificate_create(f->svc, caller, in, &c, &err), CC_OK);
    cc_certificate_clear(&c);
    cc_free(in);
}

static long long count_sql(struct svc_fixture *f, const char *fmt, long long v)
{
    char sql[200];
    snprintf(sql, sizeof sql, fmt, v);
    return svc_fixture_count(f, sql, NULL);
}

static void contact_in_use_and_reassign(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_caller admin;
    struct cc_error err;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    svc_fixture_admin(&f, &admin);
    int64_t a = verified_contact(&f, &admin, "A", "a@example.com", "13312340001");
    int64_t b = verified_contact(&f, &admin, "B", "b@example.com", "13312340002");
    int64_t open_app = submit(&f, &admin, a);
    int64_t closed_app = submit(&f, &admin, a);
    struct cc_application app;
    assert_int_equal(cc_application_transition(f.svc, &admin, closed_app, "cancelled", NULL, NULL,
                                               &app, &err), CC_OK);
    cc_application_clear(&app);
    int64_t both[] = {a, b};
    certificate(&f, &admin, "one.example.com", both, 2);
    certificate(&f, &admin, "two.example.com", both, 1);

    /* only the open application counts */
    struct cc_contact_use u;
    assert_int_equal(cc_contact_applications(f.svc, &admin, a, &u, &err), CC_OK);
    assert_int_equal(u.total, 1);
    assert_int_equal(u.n, 1);
    assert_int_equal(u.items[0].id, open_app);
    assert_int_equal(u.items[0].state, CC_APP_SUBMITTED);
    assert_non_null(strstr(u.items[0].domains, "www.example.com"));
    assert_null(u.items[0].csr);
    cc_contact_use_free(&u);
    /* the contact and its applications, read together */
    struct cc_contact *ct = cc_malloc(sizeof *ct);
    assert_int_equal(cc_contact_get_in_use(f.svc, &admin, a, ct, &u, &err), CC_OK);
    assert_int_equal(ct->id, a);
    assert_int_equal(u.total, 1);
    assert_int_equal(u.items[0].id, open_app);
    cc_contact_use_free(&u);
    assert_int_equal(cc_contact_get_in_use(f.svc, &admin, 99999, ct, &u, &err),
                     CC_ERR_NOT_FOUND);
    assert_int_equal(u.n, 0);
    cc_free(ct);
    /* the store's page stops at max and still counts them all */
    int64_t second = submit(&f, &admin, a);
    struct cc_application *items = NULL;
    size_t got = 9;
    int64_t total = 0;
    assert_int_equal(cc_store_app_open_for_contact(f.store, admin.account_id, a, 1, &items, &got,
                                                   &total, &err), CC_OK);
    assert_int_equal(got, 1);
    assert_int_equal(total, 2);
    assert_int_equal(items[0].id, second);
    cc_application_list_free(items, got);
    assert_int_equal(cc_store_app_open_for_contact(f.store, admin.account_id, a, 0, &items, &got,
                                                   &total, &err), CC_OK);
    assert_int_equal(got, 0);
    assert_int_equal(total, 2);
    assert_null(items);
    assert_int_equal(cc_application_transition(f.svc, &admin, second, "cancelled", NULL, NULL,
                                               &app, &err), CC_OK);
    cc_application_clear(&app);

    /* refused, listing it; nothing changed */
    assert_int_equal(cc_contact_delete(f.svc, &admin, a, &u, &err), CC_ERR_CONTACT_IN_USE);
    assert_int_equal(u.total, 1);
    assert_int_equal(u.n, 1);
    assert_int_equal(u.items[0].id, open_app);
    assert_non_null(strstr(err.message, "1 open certificate application ("));
    assert_non_null(strstr(err.message, "/reassign"));
    cc_contact_use_free(&u);
    assert_int_equal(count_sql(&f, "SELECT count(*) FROM contacts WHERE id = %lld", a), 1);
    assert_int_equal(count_sql(&f, "SELECT count(*) FROM certificate_subscribers WHERE "
                                   "contact_id = %lld", a), 2);
    assert_int_equal(cc_contact_delete(f.svc, &admin, a, NULL, &err), CC_ERR_CONTACT_IN_USE);

    /* reassign's errors */
    struct cc_reassign_result r;
    assert_int_equal(cc_contact_reassign(f.svc, &admin, a, a, &r, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "ToContactId");
    assert_int_equal(cc_contact_reassign(f.svc, &admin, a, 0, &r, &err),
                     CC_ERR_MISSING_PARAMETER);
    assert_int_equal(cc_contact_reassign(f.svc, &admin, a, 99999, &r, &err), CC_ERR_NOT_FOUND);
    assert_string_equal(err.field, "ToContactId");
    assert_int_equal(cc_contact_reassign(f.svc, &admin, 99999, b, &r, &err), CC_ERR_NOT_FOUND);
    assert_string_equal(err.field, "");
    struct cc_caller ro = admin;
    ro.role = CC_ROLE_READONLY;
    assert_int_equal(cc_contact_reassign(f.svc, &ro, a, b, &r, &err), CC_ERR_FORBIDDEN);
    struct cc_new_key other_key;
    assert_int_equal(cc_account_create(f.svc, "other", &other_key, &err), CC_OK);
    struct cc_caller other = admin;
    other.account_id = other_key.account_id;
    cc_strlcpy(other.key_id, other_key.key_id, sizeof other.key_id);
    int64_t x = verified_contact(&f, &other, "X", "x@example.com", "13312340009");
    assert_int_equal(cc_contact_reassign(f.svc, &admin, a, x, &r, &err), CC_ERR_NOT_FOUND);
    assert_int_equal(cc_contact_reassign(f.svc, &other, a, x, &r, &err), CC_ERR_NOT_FOUND);

    /* the move: the open application and both subscriptions, b on "one" once */
    assert_int_equal(cc_contact_reassign(f.svc, &admin, a, b, &r, &err), CC_OK);
    assert_int_equal(r.moved_applications, 1);
    assert_int_equal(r.moved_certificates, 2);
    struct cc_app_transition *h = NULL;
    size_t n = 0;
    assert_int_equal(cc_application_get(f.svc, &admin, open_app, &app, &h, &n, &err), CC_OK);
    assert_int_equal(app.contact_id, b);
    assert_int_equal(app.version, 2);
    assert_int_equal(n, 2);
    assert_string_equal(h[1].from_state, "submitted");
    assert_string_equal(h[1].to_state, "submitted");
    char reason[64];
    snprintf(reason, sizeof reason, "contact %lld -> %lld", (long long)a, (long long)b);
    assert_string_equal(h[1].reason, reason);
    cc_application_clear(&app);
    cc_free(h);
    assert_int_equal(cc_application_get(f.svc, &admin, closed_app, &app, &h, &n, &err), CC_OK);
    assert_int_equal(app.contact_id, a); /* history keeps its number */
    cc_application_clear(&app);
    cc_free(h);
    assert_int_equal(count_sql(&f, "SELECT count(*) FROM certificate_subscribers WHERE "
                                   "contact_id = %lld", a), 0);
    assert_int_equal(count_sql(&f, "SELECT count(*) FROM certificate_subscribers WHERE "
                                   "contact_id = %lld", b), 2);
    assert_int_equal(svc_fixture_count(&f, "SELECT count(*) FROM audit_log WHERE action = ?1",
                                       "contact.reassign"), 1);

    /* now a goes; b, in use again, goes once its application is closed, and
     * its subscriptions with it */
    assert_int_equal(cc_contact_delete(f.svc, &ro, a, NULL, &err), CC_ERR_FORBIDDEN);
    assert_int_equal(cc_contact_delete(f.svc, &admin, a, &u, &err), CC_OK);
    assert_int_equal(u.n, 0);
    assert_null(u.items);
    assert_int_equal(cc_contact_delete(f.svc, &admin, b, NULL, &err), CC_ERR_CONTACT_IN_USE);
    assert_int_equal(cc_application_transition(f.svc, &admin, open_app, "rejected", NULL, NULL,
                                               &app, &err), CC_OK);
    cc_application_clear(&app);
    assert_int_equal(cc_contact_delete(f.svc, &admin, b, NULL, &err), CC_OK);
    assert_int_equal(svc_fixture_count(&f, "SELECT count(*) FROM certificate_subscribers", NULL),
                     0);
    assert_int_equal(cc_contact_delete(f.svc, &admin, b, NULL, &err), CC_ERR_NOT_FOUND);
    cc_service_thread_done(f.svc);
    assert_int_equal(svc_fixture_close(&f), 0);
}

static void idempotent_submission(void **state)
{
    (void)state;
    struct svc_fixture f;
    struct cc_caller admin;
    struct cc_error err;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    svc_fixture_admin(&f, &admin);
    struct cc_contact_input ci = {CC_F_NAME | CC_F_EMAIL | CC_F_MOBILE, "Li Lei", "li@example.com",
                                  "13312345678", NULL, NULL, 0, {{0}}};
    /* an inline contact whose addresses are not verified is refused */
    struct cc_application_input in = {"globalsign-ov-1-personal", 1, one_domain, 1, NULL, 0, &ci,
                                      NULL};
    struct cc_application a;
    struct cc_contact c;
    int replayed = -1;
    const char *h1 = "1111111111111111111111111111111111111111111111111111111111111111";
    const char *h2 = "2222222222222222222222222222222222222222222222222222222222222222";
    /* refused: no key is kept */
    assert_int_equal(cc_application_create(f.svc, &admin, &in, "k1", h1, &a, &c, &replayed, &err),
                     CC_ERR_CONTACT_INELIGIBLE);
    assert_int_equal(replayed, 0);
    assert_int_equal(svc_fixture_count(&f, "SELECT count(*) FROM application_idempotency_keys",
                                       NULL), 0);
    int64_t named = verified_contact(&f, &admin, "Han", "han@example.com", "13312340003");
    in.contact = NULL;
    in.contact_id = named;
    assert_int_equal(cc_application_create(f.svc, &admin, &in, "k1", h1, &a, &c, &replayed, &err),
                     CC_OK);
    assert_int_equal(replayed, 0);
    int64_t first = a.id;
    cc_application_clear(&a);
    assert_int_equal(cc_application_create(f.svc, &admin, &in, "k1", h1, &a, &c, &replayed, &err),
                     CC_OK);
    assert_int_equal(replayed, 1);
    assert_int_equal(a.id, first);
    assert_int_equal(c.id, named);
    cc_application_clear(&a);
    assert_int_equal(cc_application_create(f.svc, &admin, &in, "k1", h2, &a, &c, &replayed, &err),
                     CC_ERR_IDEMPOTENCY_REUSED);
    /* another key is another application */
    assert_int_equal(cc_application_create(f.svc, &admin, &in, "k2", h1, &a, NULL, NULL, &err),
                     CC_OK);
    assert_true(a.id != first);
    cc_application_clear(&a);
    assert_int_equal(svc_fixture_count(&f, "SELECT count(*) FROM applications", NULL), 2);
    cc_service_thread_done(f.svc);
    assert_int_equal(svc_fixture_close(&f), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inline_contact_rolled_back),
        cmocka_unit_test(named_contact_and_moves),
        cmocka_unit_test(contact_in_use_and_reassign),
        cmocka_unit_test(idempotent_submission),
        cmocka_unit_test(validate_type_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
