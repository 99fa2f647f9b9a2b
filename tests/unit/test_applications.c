/*
 * test_applications.c — service/applications.c on a real database: an
 * inline contact that breaks the rules leaves nothing behind, every contact
 * problem comes in one error, a named contact that passes gives an
 * application with its history, the store's filters, and illegal moves.
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
    struct cc_application_input in = {"digicert-ov-1-personal", 1, one_domain, 1, NULL, 0, &ci};
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
    char path[160];
    snprintf(path, sizeof path, "%s/t.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, "UPDATE contacts SET email_verified_at = 1, "
                                      "mobile_verified_at = 1", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
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
                                      NULL};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(inline_contact_rolled_back),
        cmocka_unit_test(named_contact_and_moves),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
