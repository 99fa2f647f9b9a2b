/* test_audit.c — the audit log through the service on a real database: an
 * entry for each kind of action with the caller's origin and the changed
 * fields masked, the hash chain that an edited or removed row breaks, and
 * retention, which removes old entries, records what it removed and leaves
 * the chain verifiable from its anchor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "service/service.h"
#include "service_fixture.h"
#include "util/util.h"

struct fx {
    struct svc_fixture b;
    struct cc_caller admin;
};

static int setup(void **state)
{
    struct fx *f = cc_calloc(1, sizeof *f);
    if (svc_fixture_open(&f->b, 0))
        return -1;
    svc_fixture_admin(&f->b, &f->admin);
    cc_strlcpy(f->admin.origin.source, "192.0.2.7", sizeof f->admin.origin.source);
    cc_strlcpy(f->admin.origin.request_id, "req-7", sizeof f->admin.origin.request_id);
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

/* Runs SQL behind the service's back, on a connection of its own: sq on
 * SQLite, pg on PostgreSQL (their trigger statements differ). */
static void sql2(struct fx *f, const char *sq, const char *pg)
{
    if (f->b.pg_db[0]) {
        PGconn *c = PQconnectdb(f->b.url);
        PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, pg) : NULL;
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        char msg[256];
        cc_strlcpy(msg, PQerrorMessage(c), sizeof msg);
        PQclear(r);
        PQfinish(c);
        if (!ok)
            fail_msg("%s: %s", pg, msg);
        return;
    }
    char path[160];
    snprintf(path, sizeof path, "%s/t.db", f->b.dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sq, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", sq, msg ? msg : "?");
    sqlite3_close(db);
}

/* sql2 for SQL both backends take as it is. */
static void sql(struct fx *f, const char *s)
{
    sql2(f, s, s);
}

/* Every entry of the account, newest first (cc_audit_entries_free). */
static struct cc_audit_entry *entries(struct fx *f, size_t *n)
{
    struct cc_audit_filter filt = {0};
    struct cc_audit_entry *e = NULL;
    int64_t total = 0;
    struct cc_error err;
    assert_int_equal(cc_audit_list(f->b.svc, &f->admin, &filt, 1, &e, n, &total, &err), CC_OK);
    return e;
}

static const struct cc_audit_entry *find(const struct cc_audit_entry *e, size_t n,
                                         const char *action)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e[i].action, action))
            return &e[i];
    fail_msg("no %s entry", action);
    return NULL;
}

static void action_list_is_one_enumeration(void **state)
{
    (void)state;
    for (int a = CC_AUDIT_NONE + 1; a < CC_AUDIT_COUNT; a++) {
        const char *name = cc_audit_action_name((enum cc_audit_action)a);
        assert_non_null(name);
        assert_non_null(cc_audit_target_type((enum cc_audit_action)a));
        assert_int_equal(cc_audit_action_parse(name), a);
        for (int b = a + 1; b < CC_AUDIT_COUNT; b++)
            assert_string_not_equal(name, cc_audit_action_name((enum cc_audit_action)b));
    }
    assert_int_equal(cc_audit_action_parse("contact.nonsense"), CC_AUDIT_NONE);
    assert_null(cc_audit_action_name(CC_AUDIT_COUNT));
    char m[CC_MASKED_MAX];
    cc_mask_name("张三丰", m, sizeof m);
    assert_string_equal(m, "张**");
    cc_mask_name("X", m, sizeof m);
    assert_string_equal(m, "*");
}

static void each_action_audited_with_origin_and_masked(void **state)
{
    struct fx *f = *state;
    struct cc_error err;
    struct cc_contact c, c2;
    struct cc_contact_input in = {0};
    in.present = CC_F_NAME | CC_F_MOBILE | CC_F_EMAIL | CC_F_ID_CARD;
    in.name = "张三丰";
    in.mobile = "13312345678";
    in.email = "zhangsan@example.com";
    in.id_card = "11010519491231002X";
    assert_int_equal(cc_contact_create(f->b.svc, &f->admin, &in, NULL, NULL, &c, NULL, &err), CC_OK);
    struct cc_contact_input ch = {0};
    ch.present = CC_F_EMAIL | CC_F_LANGUAGE;
    ch.email = "lisi@example.com";
    ch.language = "zh-CN";
    assert_int_equal(cc_contact_update(f->b.svc, &f->admin, c.id, &ch, -1, &c, &err), CC_OK);
    assert_int_equal(cc_contact_get(f->b.svc, &f->admin, c.id, &c, &err), CC_OK);
    struct cc_contact_input in2 = {0};
    in2.present = CC_F_NAME | CC_F_MOBILE;
    in2.name = "Bob";
    in2.mobile = "13312340000";
    assert_int_equal(cc_contact_create(f->b.svc, &f->admin, &in2, NULL, NULL, &c2, NULL, &err), CC_OK);
    struct cc_reassign_result rr;
    assert_int_equal(cc_contact_reassign(f->b.svc, &f->admin, c.id, c2.id, &rr, &err), CC_OK);
    assert_int_equal(cc_contact_delete(f->b.svc, &f->admin, c.id, NULL, &err), CC_OK);
    struct cc_new_key k;
    assert_int_equal(cc_api_key_create(f->b.svc, &f->admin, "operator", cc_now_ms() + 86400000,
                                       &k, &err), CC_OK);
    struct cc_access_key kk;
    assert_int_equal(cc_api_key_disable(f->b.svc, &f->admin, k.key_id, &kk, &err), CC_OK);
    struct cc_user u;
    char pw[CC_PASSWORD_GEN_LEN + 1];
    assert_int_equal(cc_user_create(f->b.svc, &f->admin, 0, "ann@example.com", "operator", NULL,
                                    &u, pw, &err), CC_OK);
    struct cc_user_change uc = {"admin", -1, NULL};
    assert_int_equal(cc_user_update(f->b.svc, &f->admin, u.id, &uc, &u, &err), CC_OK);
    struct cc_new_session s;
    assert_int_equal(cc_session_sign_in_from(f->b.svc, &f->admin.origin, "ann@example.com", pw,
                                             &s, &err), CC_OK);
    assert_int_equal(cc_session_sign_in_from(f->b.svc, &f->admin.origin, "ann@example.com",
                                             "wrong password", &s, &err), CC_ERR_UNAUTHENTICATED);
    assert_int_equal(cc_session_sign_in_from(f->b.svc, &f->admin.origin, "nobody@example.com",
                                             "wrong password", &s, &err), CC_ERR_UNAUTHENTICATED);
    assert_int_equal(cc_user_delete(f->b.svc, &f->admin, u.id, &err), CC_OK);
    struct cc_template_view tv;
    assert_int_equal(cc_template_put(f->b.svc, &f->admin, "certificate.expiring", "sms", "en",
                                     "t", "Your certificate {{domains}} expires {{expires_in}}.",
                                     &tv, &err), CC_OK);
    assert_int_equal(cc_template_delete(f->b.svc, &f->admin, "certificate.expiring", "sms", "en",
                                        &err), CC_OK);
    struct cc_reminder_input ri = {0};
    ri.on_expiry_day = 0;
    ri.day_after = -1;
    struct cc_reminder_settings rs;
    assert_int_equal(cc_reminder_settings_put(f->b.svc, &f->admin, &ri, &rs, &err), CC_OK);
    struct cc_cert_input ci;
    memset(&ci, 0, sizeof ci);
    ci.domains[0] = "www.example.com";
    ci.n_domains = 1;
    ci.not_after = "2030-01-01";
    ci.has_contact_ids = 1;
    ci.n_contact_ids = 1;
    ci.contact_ids[0] = c2.id;
    struct cc_certificate cert;
    memset(&cert, 0, sizeof cert);
    assert_int_equal(cc_certificate_create(f->b.svc, &f->admin, &ci, &cert, &err), CC_OK);
    cc_certificate_clear(&cert);
    assert_int_equal(cc_certificate_update(f->b.svc, &f->admin, cert.id, "renamed", 0, NULL, 0,
                                           NULL, &cert, &err), CC_OK);
    cc_certificate_clear(&cert);
    assert_int_equal(cc_certificate_revoke(f->b.svc, &f->admin, cert.id, "key compromise",
                                           &cert, &err), CC_OK);
    cc_certificate_clear(&cert);
    assert_int_equal(cc_certificate_delete(f->b.svc, &f->admin, cert.id, &err), CC_OK);
    struct cc_event ev;
    assert_int_equal(cc_event_create(f->b.svc, &f->admin, "certificate.expiring", &c2.id, 1,
                                     NULL, &ev, &err), CC_OK);
    assert_true(ev.id > 0);
    cc_event_free(&ev);

    size_t n = 0;
    struct cc_audit_entry *e = entries(f, &n);
    static const char *const by_admin[] = {
        "contact.create", "contact.update", "contact.view", "contact.reassign",
        "contact.delete", "access_key.create", "access_key.disable", "user.create",
        "user.update", "user.delete", "template.put", "template.delete",
        "settings.reminders.update", "certificate.create", "certificate.update",
        "certificate.revoke", "certificate.delete", "event.create"};
    for (size_t i = 0; i < sizeof by_admin / sizeof by_admin[0]; i++) {
        const struct cc_audit_entry *x = find(e, n, by_admin[i]);
        assert_string_equal(x->actor, f->b.first.key_id);
        assert_string_equal(x->source, "192.0.2.7");
        assert_string_equal(x->request_id, "req-7");
        assert_true(x->created_at > 0);
        assert_int_equal(strlen(x->hash), 64);
    }
    /* sign-ins: the user as actor, the origin, the reason of a failure */
    const struct cc_audit_entry *si = find(e, n, "user.sign_in");
    char uid[32];
    snprintf(uid, sizeof uid, "user:%lld", (long long)u.id);
    assert_string_equal(si->actor, uid);
    assert_string_equal(si->source, "192.0.2.7");
    const struct cc_audit_entry *sf = find(e, n, "user.sign_in_failed");
    assert_non_null(strstr(sf->changes, "wrong password"));
    /* the changed fields, masked */
    char cid[24];
    snprintf(cid, sizeof cid, "%lld", (long long)c.id);
    const struct cc_audit_entry *cr = NULL;
    for (size_t i = 0; i < n; i++)
        if (!strcmp(e[i].action, "contact.create") && !strcmp(e[i].target_id, cid))
            cr = &e[i];
    assert_non_null(cr);
    assert_non_null(strstr(cr->changes, "\"+86 133****5678\""));
    assert_non_null(strstr(cr->changes, "\"zh****n@example.com\""));
    assert_non_null(strstr(cr->changes, "\"张**\""));
    const struct cc_audit_entry *up = find(e, n, "contact.update");
    assert_non_null(strstr(up->changes, "\"email\":{\"new\":\"li*"));
    assert_non_null(strstr(up->changes, "\"language\":{\"new\":\"zh-CN\",\"old\":\"en\""));
    assert_null(strstr(up->changes, "mobile")); /* unchanged: not listed */
    assert_non_null(strstr(find(e, n, "contact.view")->changes, "revealed"));
    assert_non_null(strstr(find(e, n, "contact.delete")->changes, "\"old\":\"+86 133****5678\""));
    assert_non_null(strstr(find(e, n, "user.update")->changes,
                           "\"role\":{\"new\":\"admin\",\"old\":\"operator\"}"));
    assert_non_null(strstr(find(e, n, "access_key.disable")->changes, "disabled"));
    assert_non_null(strstr(find(e, n, "certificate.revoke")->changes, "key compromise"));
    for (size_t i = 0; i < n; i++) {
        const char *t = e[i].changes ? e[i].changes : "";
        assert_null(strstr(t, "zhangsan@"));
        assert_null(strstr(t, "lisi@"));
        assert_null(strstr(t, "ann@"));
        assert_null(strstr(t, "nobody@"));
        assert_null(strstr(t, "13312345678"));
        assert_null(strstr(t, "19491231"));
        assert_null(strstr(t, "张三丰"));
        assert_null(strstr(t, k.secret));
        assert_null(strstr(t, pw));
    }
    cc_audit_entries_free(e, n);
    struct cc_audit_report r;
    assert_int_equal(cc_audit_verify(f->b.svc, &r, &err), CC_OK);
    assert_int_equal(r.bad_id, 0);
    assert_true(r.checked >= 20);
}

static void chain_detects_an_edited_row(void **state)
{
    struct fx *f = *state;
    struct cc_error err;
    struct cc_contact c;
    struct cc_contact_input in = {0};
    in.present = CC_F_NAME | CC_F_MOBILE;
    in.name = "Ann";
    in.mobile = "13312345678";
    for (int i = 0; i < 3; i++) {
        in.mobile = i == 0 ? "13312345670" : i == 1 ? "13312345671" : "13312345672";
        assert_int_equal(cc_contact_create(f->b.svc, &f->admin, &in, NULL, NULL, &c, NULL, &err),
                         CC_OK);
    }
    struct cc_audit_report r;
    assert_int_equal(cc_audit_verify(f->b.svc, &r, &err), CC_OK);
    assert_int_equal(r.bad_id, 0);
    assert_int_equal(r.first_id, 1);
    /* the triggers refuse, so a tamperer drops them first */
    sql2(f,
         "DROP TRIGGER audit_entries_no_update; UPDATE audit_entries SET source = '10.0.0.1' "
         "WHERE id = 3",
         "DROP TRIGGER audit_entries_no_update ON audit_entries; UPDATE audit_entries SET "
         "source = '10.0.0.1' WHERE id = 3");
    assert_int_equal(cc_audit_verify(f->b.svc, &r, &err), CC_OK);
    assert_int_equal(r.bad_id, 3);
    assert_non_null(strstr(r.problem, "does not match"));
    sql(f, "UPDATE audit_entries SET source = '192.0.2.7' WHERE id = 3");
    assert_int_equal(cc_audit_verify(f->b.svc, &r, &err), CC_OK);
    assert_int_equal(r.bad_id, 0);
    /* an entry rewritten with a hash of its own breaks the next link */
    sql(f, "UPDATE audit_entries SET hash = '" CC_AUDIT_GENESIS "' WHERE id = 2");
    assert_int_equal(cc_audit_verify(f->b.svc, &r, &err), CC_OK);
    assert_int_equal(r.bad_id, 2);
}

static void retention_records_what_it_removed_and_keeps_the_chain(void **state)
{
    struct fx *f = *state;
    struct cc_error err;
    struct cc_contact c;
    struct cc_contact_input in = {0};
    in.present = CC_F_NAME | CC_F_MOBILE;
    in.name = "Ann";
    in.mobile = "13312345670";
    assert_int_equal(cc_contact_create(f->b.svc, &f->admin, &in, NULL, NULL, &c, NULL, &err),
                     CC_OK);
    size_t before_n = 0;
    struct cc_audit_entry *all = entries(f, &before_n);
    cc_audit_entries_free(all, before_n);
    int64_t removed = -1;
    /* nothing is 30 days old yet */
    assert_int_equal(cc_audit_retention_run(f->b.svc, 30, cc_now_ms(), &removed, &err), CC_OK);
    assert_int_equal(removed, 0);
    /* 31 days on, everything so far is past a 30-day retention */
    int64_t later = cc_now_ms() + 31 * 86400000LL;
    assert_int_equal(cc_audit_retention_run(f->b.svc, 30, later, &removed, &err), CC_OK);
    assert_int_equal(removed, (int64_t)before_n);
    size_t n = 0;
    struct cc_audit_entry *e = entries(f, &n);
    assert_int_equal(n, 1);
    assert_string_equal(e[0].action, "audit.retention");
    assert_string_equal(e[0].actor, "retention");
    char want[64];
    snprintf(want, sizeof want, "\"removed\":{\"new\":%zu}", before_n);
    assert_non_null(strstr(e[0].changes, want));
    cc_audit_entries_free(e, n);
    /* the chain goes on from the anchor, and still verifies */
    in.mobile = "13312345671";
    assert_int_equal(cc_contact_create(f->b.svc, &f->admin, &in, NULL, NULL, &c, NULL, &err),
                     CC_OK);
    struct cc_audit_report r;
    assert_int_equal(cc_audit_verify(f->b.svc, &r, &err), CC_OK);
    assert_int_equal(r.bad_id, 0);
    assert_true(r.anchor_id >= (int64_t)before_n);
    assert_int_equal(r.first_id, r.anchor_id + 1);
    assert_int_equal(r.removed, (int64_t)before_n);
    /* removing the first kept entry by hand is caught */
    sql2(f, "DROP TRIGGER audit_entries_no_delete",
         "DROP TRIGGER audit_entries_no_delete ON audit_entries");
    char del[96];
    snprintf(del, sizeof del, "DELETE FROM audit_entries WHERE id = %lld", (long long)r.first_id);
    sql(f, del);
    assert_int_equal(cc_audit_verify(f->b.svc, &r, &err), CC_OK);
    assert_true(r.bad_id != 0);
    assert_non_null(strstr(r.problem, "missing"));
}

/* Entries of the table of before 0018 are moved in and chained, a console
 * user's email masked on the way; audit_log reads them still. */
static void old_log_is_sealed(void **state)
{
    struct fx *f = *state;
    if (f->b.pg_db[0])
        skip(); /* SQLite only: a PostgreSQL database starts at 0024, with nothing to seal */
    struct cc_error err;
    sql(f, "DROP VIEW audit_log; DELETE FROM schema_migrations WHERE version = 18; "
           "DROP TRIGGER audit_entries_no_delete; DELETE FROM audit_entries; "
           "CREATE TABLE audit_log (id INTEGER PRIMARY KEY AUTOINCREMENT, account_id INTEGER "
           "NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, object_type TEXT NOT NULL, "
           "object_id TEXT NOT NULL, detail TEXT, created_at INTEGER NOT NULL); "
           "INSERT INTO audit_log VALUES (1, 1, 'cli', 'user.create', 'user', '5', "
           "'ann.person@example.com', 1000), (2, 1, 'CCabc', 'contact.create', 'contact', '7', "
           "NULL, 2000)");
    assert_int_equal(cc_store_migrate(f->b.store, &err), CC_OK);
    struct cc_audit_report r;
    assert_int_equal(cc_audit_verify(f->b.svc, &r, &err), CC_OK);
    assert_int_equal(r.bad_id, 0);
    assert_int_equal(r.checked, 2);
    assert_int_equal(svc_fixture_count(&f->b, "SELECT count(*) FROM audit_log", NULL), 2);
    assert_int_equal(svc_fixture_count(&f->b, "SELECT count(*) FROM audit_entries WHERE changes "
                                              "LIKE '%ann.person%'", NULL), 0);
    assert_int_equal(cc_store_migrate(f->b.store, &err), CC_OK);
}

/* The chain's hash is SHA-256 over "<length>:<bytes>;" fields, the layout
 * `certcontacts audit verify` and every stored chain depend on; the values
 * were computed outside the project (Python's hashlib). The last entry's
 * changes are longer than the digest's stack buffer. */
static void hash_is_the_documented_layout(void **state)
{
    (void)state;
    static char longer[3001];
    memset(longer, 'x', 3000);
    struct {
        const char *prev;
        int64_t id, at, account;
        const char *actor, *source, *request_id, *action, *type, *target, *changes, *want;
    } v[] = {
        {CC_AUDIT_GENESIS, 1, 1764806400000, 1, "AKID1", "192.0.2.7", "req-7", "contact.create",
         "contact", "42", "{\"name\":{\"new\":\"\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e\"}}",
         "3e3ab4fe5dc8fc7b9e41ed6d74d1bdabeaa98f6788a6b04111c96ddac47ff75a"},
        {"abababababababababababababababababababababababababababababababab", 2, -5, 9, "", "",
         "", "contact.delete", "contact", "", NULL,
         "f3b4a355dc79cc94ec379db38373a7b0573b5cbd8e4967e7cc4e60aeb3d9a089"},
        {"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd", 3, 7, 1, "k", "s",
         "r", "a", "t", "i", longer,
         "587ade6a7df0c1bf52d65878fdd84a090d892584ce6dd88f35d9e5c5c80925c5"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        struct cc_audit_entry e;
        memset(&e, 0, sizeof e);
        e.id = v[i].id;
        e.created_at = v[i].at;
        e.account_id = v[i].account;
        cc_strlcpy(e.actor, v[i].actor, sizeof e.actor);
        cc_strlcpy(e.source, v[i].source, sizeof e.source);
        cc_strlcpy(e.request_id, v[i].request_id, sizeof e.request_id);
        cc_strlcpy(e.action, v[i].action, sizeof e.action);
        cc_strlcpy(e.target_type, v[i].type, sizeof e.target_type);
        cc_strlcpy(e.target_id, v[i].target, sizeof e.target_id);
        e.changes = (char *)v[i].changes;
        char out[65];
        cc_audit_hash(&e, v[i].prev, out);
        assert_string_equal(out, v[i].want);
    }
}

int main(void)
{
    cc_alloc_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(action_list_is_one_enumeration),
        cmocka_unit_test(hash_is_the_documented_layout),
        cmocka_unit_test_setup_teardown(each_action_audited_with_origin_and_masked, setup, teardown),
        cmocka_unit_test_setup_teardown(chain_detects_an_edited_row, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_records_what_it_removed_and_keeps_the_chain,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(old_log_is_sealed, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
