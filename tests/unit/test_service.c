/* test_service.c — the service and SQLite store together, on a real database
 * in a temporary directory: group commit keeps failing writes apart,
 * uniqueness holds under concurrency, search, secrets at rest, roles. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    if (svc_fixture_open(&f->b, 1))
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

static enum cc_err create(struct fx *f, const char *name, const char *mobile, const char *email,
                          struct cc_contact *out, struct cc_error *err)
{
    struct cc_contact_input in = {0};
    in.present = CC_F_NAME | CC_F_MOBILE | (email ? CC_F_EMAIL : 0);
    in.name = name;
    in.mobile = mobile;
    in.email = email;
    return cc_contact_create(f->b.svc, &f->admin, &in, NULL, NULL, out, NULL, err);
}

static void migrate_twice_is_a_no_op(void **state)
{
    struct fx *f = *state;
    struct cc_error err;
    assert_int_equal(cc_store_migrate(f->b.store, &err), CC_OK);
}

/* A write that fails after changing something, in the same batch as
 * writes that succeed: its change is undone, theirs commit. */
struct batch_arg {
    struct fx *f;
    int fail;
    int64_t id;
    enum cc_err rc;
};

static enum cc_err insert_then_maybe_fail(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct batch_arg *a = arg;
    enum cc_err rc = cc_tx_account_insert(tx, a->fail ? "doomed" : "kept", 1, &a->id, err);
    if (rc)
        return rc;
    return a->fail ? cc_error_set(err, CC_ERR_INVALID_PARAMETER, NULL, "on purpose") : CC_OK;
}

static void *batch_thread(void *p)
{
    struct batch_arg *a = p;
    struct cc_error err;
    a->rc = cc_store_write(a->f->b.store, insert_then_maybe_fail, a, &err);
    return NULL;
}

static void failing_write_does_not_take_the_batch_down(void **state)
{
    struct fx *f = *state;
    enum { N = 32 };
    pthread_t th[N];
    struct batch_arg a[N];
    for (int i = 0; i < N; i++) {
        a[i] = (struct batch_arg){f, i % 2, 0, CC_OK};
        pthread_create(&th[i], NULL, batch_thread, &a[i]);
    }
    for (int i = 0; i < N; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N; i++) {
        char name[64];
        struct cc_error err;
        enum cc_err rc = cc_account_get_name(f->b.svc, a[i].id, name, sizeof name, &err);
        if (i % 2) {
            assert_int_equal(a[i].rc, CC_ERR_INVALID_PARAMETER);
            /* its account id may be reused by a later write; never as "doomed" */
            if (rc == CC_OK)
                assert_string_equal(name, "kept");
        } else {
            assert_int_equal(a[i].rc, CC_OK);
            assert_int_equal(rc, CC_OK);
            assert_string_equal(name, "kept");
        }
    }
}

struct uniq_arg {
    struct fx *f;
    int i;
    enum cc_err rc;
    char field[32];
};

static void *uniq_thread(void *p)
{
    struct uniq_arg *a = p;
    char mobile[32], name[32];
    snprintf(mobile, sizeof mobile, "1390000%04d", a->i);
    snprintf(name, sizeof name, "u%d", a->i);
    struct cc_contact *c = cc_malloc(sizeof *c);
    struct cc_error err;
    cc_error_clear(&err);
    a->rc = create(a->f, name, mobile, "Same@Example.com", c, &err);
    cc_strlcpy(a->field, err.field, sizeof a->field);
    cc_free(c);
    return NULL;
}

static void concurrent_creates_with_one_email(void **state)
{
    struct fx *f = *state;
    enum { N = 20 };
    pthread_t th[N];
    struct uniq_arg a[N];
    for (int i = 0; i < N; i++) {
        a[i] = (struct uniq_arg){f, i, CC_OK, ""};
        pthread_create(&th[i], NULL, uniq_thread, &a[i]);
    }
    int ok = 0, conflict = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        if (a[i].rc == CC_OK)
            ok++;
        else if (a[i].rc == CC_ERR_ALREADY_EXISTS && !strcmp(a[i].field, "Email"))
            conflict++;
    }
    assert_int_equal(ok, 1);
    assert_int_equal(conflict, N - 1);
    cc_store_thread_done(f->b.store);
}

static int64_t search(struct fx *f, const char *kw)
{
    struct cc_contact_page p;
    struct cc_error err;
    assert_int_equal(cc_contact_list(f->b.svc, &f->admin, kw, 1, 100, &p, &err), CC_OK);
    int64_t total = p.total;
    assert_int_equal((int64_t)p.n, total < 100 ? total : 100);
    cc_contact_page_free(&p);
    return total;
}

static void keyword_search(void **state)
{
    struct fx *f = *state;
    struct cc_contact c;
    struct cc_error err;
    assert_int_equal(create(f, "张三丰", "13300000001", "zsf@wudang.cn", &c, &err), CC_OK);
    assert_int_equal(create(f, "Alice Smith", "13300000002", "alice@Example.com", &c, &err), CC_OK);
    assert_int_equal(create(f, "BOB", "+447911123456", NULL, &c, &err), CC_OK);
    assert_int_equal(search(f, "三"), 1);       /* 1 character, Chinese */
    assert_int_equal(search(f, "张三"), 1);     /* 2 characters */
    assert_int_equal(search(f, "张三丰"), 1);   /* 3: trigram index */
    assert_int_equal(search(f, "a"), 2);        /* alice, wudang.cn */
    assert_int_equal(search(f, "ALICE"), 1);    /* case-insensitive */
    assert_int_equal(search(f, "example.COM"), 1);
    assert_int_equal(search(f, "7911"), 1);     /* mobile */
    assert_int_equal(search(f, "1330000000"), 2);
    assert_int_equal(search(f, "\"x"), 0);      /* quotes cannot break the query */
    assert_int_equal(search(f, "%"), 0);
    assert_int_equal(search(f, ""), 3);
    assert_int_equal(search(f, "zzzz"), 0);
    cc_store_thread_done(f->b.store);
}

static void secrets_are_encrypted_at_rest(void **state)
{
    struct fx *f = *state;
    struct cc_contact_input in = {0};
    in.present = CC_F_NAME | CC_F_MOBILE | CC_F_ID_CARD | CC_F_WEBHOOKS;
    in.name = "Secretive";
    in.mobile = "13300000009";
    in.id_card = "11010519491231002X";
    in.n_webhooks = 1;
    in.webhooks[0].url = "https://oapi.dingtalk.com/robot/send?access_token=abc";
    in.webhooks[0].secret_state = CC_SECRET_VALUE;
    in.webhooks[0].secret = "SECverysecretvalue42";
    struct cc_contact c;
    struct cc_error err;
    assert_int_equal(cc_contact_create(f->b.svc, &f->admin, &in, NULL, NULL, &c, NULL, &err), CC_OK);
    assert_string_equal(c.id_card_masked, "1****************X");
    /* Every byte of the database and its WAL: neither plaintext is there. */
    const char *files[] = {"t.db", "t.db-wal"};
    for (int i = 0; i < 2; i++) {
        char path[128], *data = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", f->b.dir, files[i]);
        if (cc_file_read(path, 64u << 20, &data, &len))
            continue;
        assert_null(memmem(data, len, "11010519491231002X", 18));
        assert_null(memmem(data, len, "SECverysecretvalue42", 20));
        cc_free(data);
    }
}

/* A create in two halves (cc_contact_create_begin, _queue, _end) is the
 * create: the contact comes back as cc_contact_create gives it (the ID
 * number masked), done is called once; its key replays it through either
 * way; a clash is refused by the write, a bad field by the first half;
 * where the store queues no writes (PostgreSQL) the test is skipped. */
struct two_halves {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int done;
};

static void two_halves_done(void *arg)
{
    struct two_halves *h = arg;
    pthread_mutex_lock(&h->mu);
    h->done++;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static enum cc_err create_in_halves(struct fx *f, const struct cc_contact_input *in,
                                    const char *key, const char *hash, struct cc_contact *c,
                                    int *replayed, struct cc_error *err)
{
    struct cc_contact_create *cr;
    enum cc_err rc = cc_contact_create_begin(f->b.svc, &f->admin, in, key, hash, c, &cr, err);
    if (rc)
        return rc;
    struct two_halves h = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    cc_contact_create_queue(cr, two_halves_done, &h);
    pthread_mutex_lock(&h.mu);
    while (!h.done)
        pthread_cond_wait(&h.cv, &h.mu);
    pthread_mutex_unlock(&h.mu);
    rc = cc_contact_create_end(cr, replayed, err);
    assert_int_equal(h.done, 1);
    return rc;
}

static void create_in_two_halves(void **state)
{
    struct fx *f = *state;
    if (!cc_service_queues_writes(f->b.svc))
        skip();
    struct cc_contact_input in = {0};
    in.present = CC_F_NAME | CC_F_MOBILE | CC_F_ID_CARD;
    in.name = "Halves";
    in.mobile = "13300000077";
    in.id_card = "11010519491231002X";
    struct cc_contact c, again, got;
    struct cc_error err;
    int replayed = -1;
    const char *hash = "5f5b6f1c2d3e4a5b6c7d8e9f00112233445566778899aabbccddeeff00112233";
    assert_int_equal(create_in_halves(f, &in, "halves-1", hash, &c, &replayed, &err), CC_OK);
    assert_int_equal(replayed, 0);
    assert_string_equal(c.id_card_masked, "1****************X");
    assert_int_equal(cc_contact_get(f->b.svc, &f->admin, c.id, &got, &err), CC_OK);
    assert_string_equal(got.name, "Halves");
    assert_string_equal(got.mobile, c.mobile);
    /* the same key again: the first contact, through either way */
    assert_int_equal(create_in_halves(f, &in, "halves-1", hash, &again, &replayed, &err), CC_OK);
    assert_int_equal(replayed, 1);
    assert_int_equal(again.id, c.id);
    replayed = 0;
    assert_int_equal(cc_contact_create(f->b.svc, &f->admin, &in, "halves-1", hash, &again,
                                       &replayed, &err),
                     CC_OK);
    assert_int_equal(replayed, 1);
    assert_int_equal(again.id, c.id);
    /* the mobile is taken: refused by the write, told through end */
    in.name = "Halves Two";
    in.present &= ~(unsigned)CC_F_ID_CARD;
    assert_int_equal(create_in_halves(f, &in, NULL, NULL, &again, &replayed, &err),
                     CC_ERR_ALREADY_EXISTS);
    assert_string_equal(err.field, "Mobile");
    /* a bad field: refused by the first half, nothing begun */
    struct cc_contact_create *cr = (void *)1;
    in.mobile = "123";
    assert_int_equal(cc_contact_create_begin(f->b.svc, &f->admin, &in, NULL, NULL, &again, &cr,
                                             &err),
                     CC_ERR_INCORRECT_FORMAT);
    assert_null(cr);
    /* begun, then given up: nothing written */
    in.mobile = "13300000078";
    assert_int_equal(cc_contact_create_begin(f->b.svc, &f->admin, &in, NULL, NULL, &again, &cr,
                                             &err),
                     CC_OK);
    cc_contact_create_drop(cr);
    assert_int_equal(create_in_halves(f, &in, NULL, NULL, &again, &replayed, &err), CC_OK);
    assert_int_equal(replayed, 0);
    assert_true(again.id > c.id);
}

/* A create with several bad fields reports each at its path, the first as
 * the error itself; nothing is saved. */
static void every_field_problem_at_once(void **state)
{
    struct fx *f = *state;
    struct cc_contact_input in = {0};
    in.present = CC_F_NAME | CC_F_MOBILE | CC_F_EMAIL | CC_F_WEBHOOKS;
    in.name = "Several";
    in.email = "no-at-sign";
    in.mobile = "123";
    in.n_webhooks = 2;
    in.webhooks[0] = (struct cc_webhook_input){
        "https://oapi.dingtalk.com/robot/send?access_token=one", CC_SECRET_VALUE, "nosec", -1};
    in.webhooks[1] = (struct cc_webhook_input){"https://example.com/hook", CC_SECRET_ABSENT,
                                               NULL, -1};
    struct cc_contact c;
    struct cc_error *err = cc_malloc(sizeof *err);
    assert_int_equal(cc_contact_create(f->b.svc, &f->admin, &in, NULL, NULL, &c, NULL, err),
                     CC_ERR_INCORRECT_FORMAT);
    assert_string_equal(err->field, "Email");
    assert_int_equal(err->n_problems, 4);
    static const char *const paths[] = {"email", "mobile", "webhooks[0].secret",
                                        "webhooks[1].url"};
    static const char *const codes[] = {"IncorrectFormat.Email", "IncorrectFormat.Mobile",
                                        "IncorrectFormat.Webhooks", "IncorrectFormat.Webhooks"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(err->problems[i].path, paths[i]);
        assert_string_equal(err->problems[i].code, codes[i]);
        assert_int_equal(err->problems[i].contact_id, 0);
    }
    assert_string_equal(err->message, err->problems[0].message);
    int64_t id = -1;
    assert_int_equal(cc_contact_find(f->b.svc, &f->admin, NULL, NULL, &id, err), CC_ERR_NOT_FOUND);
    cc_free(err);
}

/* The email and the mobile of two other contacts: both problems, each
 * naming its contact; the contact's own addresses are no clash. */
static void clashes_name_the_other_contacts(void **state)
{
    struct fx *f = *state;
    struct cc_contact a, b, c, d;
    struct cc_error *err = cc_malloc(sizeof *err);
    assert_int_equal(create(f, "Ann", "13300000021", "ann@example.com", &a, err), CC_OK);
    assert_int_equal(create(f, "Bob", "13300000022", "bob@example.com", &b, err), CC_OK);
    assert_int_equal(create(f, "Cid", "13300000023", "cid@example.com", &c, err), CC_OK);
    assert_int_equal(create(f, "New", "13300000022", "ANN@example.com", &d, err),
                     CC_ERR_ALREADY_EXISTS);
    assert_int_equal(err->n_problems, 2);
    assert_string_equal(err->problems[0].code, "AlreadyExists.Email");
    assert_int_equal(err->problems[0].contact_id, a.id);
    assert_string_equal(err->problems[0].message,
                        "This email address already belongs to the contact \"Ann\".");
    assert_string_equal(err->problems[1].code, "AlreadyExists.Mobile");
    assert_int_equal(err->problems[1].contact_id, b.id);
    assert_string_equal(err->problems[1].path, "mobile");
    struct cc_contact_input up = {0};
    up.present = CC_F_MOBILE | CC_F_EMAIL;
    up.mobile = "13300000022";
    up.email = "cid@example.com";
    assert_int_equal(cc_contact_update(f->b.svc, &f->admin, c.id, &up, -1, &d, err),
                     CC_ERR_ALREADY_EXISTS);
    assert_int_equal(err->n_problems, 1);
    assert_string_equal(err->field, "Mobile");
    assert_int_equal(err->problems[0].contact_id, b.id);
    up.mobile = "+86 133 0000 0023";
    assert_int_equal(cc_contact_update(f->b.svc, &f->admin, c.id, &up, -1, &d, err), CC_OK);
    cc_free(err);
}

static void webhook_secret_rules_on_update(void **state)
{
    struct fx *f = *state;
    const char *u1 = "https://oapi.dingtalk.com/robot/send?access_token=one";
    const char *u2 = "https://open.feishu.cn/open-apis/bot/v2/hook/two";
    struct cc_contact_input in = {0};
    in.present = CC_F_NAME | CC_F_MOBILE | CC_F_WEBHOOKS;
    in.name = "Hooks";
    in.mobile = "13300000010";
    in.n_webhooks = 2;
    in.webhooks[0] = (struct cc_webhook_input){u1, CC_SECRET_VALUE, "SECone", -1};
    in.webhooks[1] = (struct cc_webhook_input){u2, CC_SECRET_VALUE, "two-secret", -1};
    struct cc_contact c;
    struct cc_error err;
    assert_int_equal(cc_contact_create(f->b.svc, &f->admin, &in, NULL, NULL, &c, NULL, &err), CC_OK);
    /* u1 stays without a secret field: keeps it; u2 stays with null: loses it */
    struct cc_contact_input up = {0};
    up.present = CC_F_WEBHOOKS;
    up.n_webhooks = 2;
    up.webhooks[0] = (struct cc_webhook_input){u2, CC_SECRET_NULL, NULL, -1};
    up.webhooks[1] = (struct cc_webhook_input){u1, CC_SECRET_ABSENT, NULL, -1};
    struct cc_contact d;
    assert_int_equal(cc_contact_update(f->b.svc, &f->admin, c.id, &up, c.version, &d, &err), CC_OK);
    assert_int_equal(d.n_webhooks, 2);
    /* answers show robots' URLs masked, to every role */
    assert_string_equal(d.webhooks[0].url, "https://open.feishu.cn/open-apis/bot/v2/hook/****");
    assert_false(d.webhooks[0].has_secret);
    assert_string_equal(d.webhooks[1].url,
                        "https://oapi.dingtalk.com/robot/send?access_token=****");
    assert_true(d.webhooks[1].has_secret);
    assert_int_equal(d.webhooks[1].id, c.webhooks[0].id);
    assert_int_equal(d.version, c.version + 1);
    /* read back in the order given, not in the URLs' (which is u1's first) */
    struct cc_contact g;
    assert_int_equal(cc_contact_get(f->b.svc, &f->admin, c.id, &g, &err), CC_OK);
    assert_int_equal(g.n_webhooks, 2);
    assert_int_equal(g.webhooks[0].id, d.webhooks[0].id);
    assert_int_equal(g.webhooks[1].id, c.webhooks[0].id);
    /* a stale version is a conflict and changes nothing */
    assert_int_equal(cc_contact_update(f->b.svc, &f->admin, c.id, &up, c.version, &d, &err),
                     CC_ERR_UPDATE_CONFLICT);
}

static void roles(void **state)
{
    struct fx *f = *state;
    struct cc_caller ro = f->admin;
    ro.role = CC_ROLE_READONLY;
    struct cc_contact_input in = {0};
    in.present = CC_F_NAME | CC_F_MOBILE;
    in.name = "x";
    in.mobile = "13300000011";
    struct cc_contact c;
    struct cc_error err;
    assert_int_equal(cc_contact_create(f->b.svc, &ro, &in, NULL, NULL, &c, NULL, &err),
                     CC_ERR_FORBIDDEN);
    assert_int_equal(cc_contact_delete(f->b.svc, &ro, 1, NULL, &err), CC_ERR_FORBIDDEN);
    struct cc_caller other = f->admin;
    other.account_id = f->admin.account_id + 1000;
    assert_int_equal(create(f, "mine", "13300000012", NULL, &c, &err), CC_OK);
    assert_int_equal(cc_contact_get(f->b.svc, &other, c.id, &c, &err), CC_ERR_NOT_FOUND);
    assert_int_equal(cc_contact_delete(f->b.svc, &other, c.id, NULL, &err), CC_ERR_NOT_FOUND);
    cc_store_thread_done(f->b.store);
}

static void contact_cap(void **state)
{
    struct fx *f = *state;
    f->b.svc->cfg.max_contacts = 2;
    struct cc_contact c;
    struct cc_error err;
    assert_int_equal(create(f, "a", "13300000021", NULL, &c, &err), CC_OK);
    assert_int_equal(create(f, "b", "13300000022", NULL, &c, &err), CC_OK);
    assert_int_equal(create(f, "c", "13300000023", NULL, &c, &err), CC_ERR_LIMIT_EXCEEDED);
    assert_string_equal(err.field, "Contacts");
    assert_int_equal(cc_contact_delete(f->b.svc, &f->admin, c.id, NULL, &err), CC_OK);
    assert_int_equal(create(f, "c", "13300000023", NULL, &c, &err), CC_OK);
}

/* The Alibaba API's application actions name a contact by its email and
 * mobile, in any accepted form, or not at all: the most recent one. */
static void find_by_addresses_and_latest(void **state)
{
    struct fx *f = *state;
    struct cc_contact a, b;
    struct cc_error err;
    int64_t id = -1;
    assert_int_equal(cc_contact_find(f->b.svc, &f->admin, NULL, NULL, &id, &err),
                     CC_ERR_NOT_FOUND);
    assert_int_equal(id, 0);
    assert_int_equal(create(f, "a", "13300000031", "A@Example.com", &a, &err), CC_OK);
    assert_int_equal(create(f, "b", "13300000032", "b@example.com", &b, &err), CC_OK);
    assert_int_equal(cc_contact_find(f->b.svc, &f->admin, NULL, NULL, &id, &err), CC_OK);
    assert_int_equal(id, b.id);
    assert_int_equal(cc_contact_find(f->b.svc, &f->admin, "a@example.COM", "+86 133 0000 0031",
                                     &id, &err), CC_OK);
    assert_int_equal(id, a.id);
    /* both addresses must be the one contact's */
    assert_int_equal(cc_contact_find(f->b.svc, &f->admin, "a@example.com", "13300000032", &id,
                                     &err), CC_ERR_NOT_FOUND);
    assert_string_equal(err.field, "Contact");
    assert_int_equal(cc_contact_find(f->b.svc, &f->admin, "a@example.com", NULL, &id, &err),
                     CC_ERR_MISSING_PARAMETER);
    assert_string_equal(err.field, "Mobile");
    assert_int_equal(cc_contact_find(f->b.svc, &f->admin, "not an email", "13300000031", &id,
                                     &err), CC_ERR_INCORRECT_FORMAT);
    assert_string_equal(err.field, "Email");
    /* another account sees none of them */
    struct cc_caller other = f->admin;
    other.account_id = f->admin.account_id + 1000;
    assert_int_equal(cc_contact_find(f->b.svc, &other, NULL, NULL, &id, &err), CC_ERR_NOT_FOUND);
    assert_int_equal(cc_contact_find(f->b.svc, &other, "a@example.com", "13300000031", &id, &err),
                     CC_ERR_NOT_FOUND);
    /* the newest is the most recently created, not the most recently changed */
    assert_int_equal(cc_contact_delete(f->b.svc, &f->admin, b.id, NULL, &err), CC_OK);
    assert_int_equal(cc_contact_find(f->b.svc, &f->admin, NULL, NULL, &id, &err), CC_OK);
    assert_int_equal(id, a.id);
    cc_store_thread_done(f->b.store);
}

static void a_disabled_key_is_refused_at_once_even_when_cached(void **state)
{
    struct fx *f = *state;
    struct cc_new_key k;
    struct cc_error err;
    struct cc_caller who;
    assert_int_equal(cc_key_create(f->b.svc, f->admin.account_id, CC_ROLE_OPERATOR, 0, &k, &err), CC_OK);
    for (int i = 0; i < 3; i++) /* the second and third come from the cache */
        assert_int_equal(cc_auth_access_key(f->b.svc, k.key_id, k.secret, strlen(k.secret), &who,
                                            &err), CC_OK);
    assert_int_equal(who.role, CC_ROLE_OPERATOR);
    assert_int_equal(cc_auth_access_key(f->b.svc, k.key_id, "wrong", 5, &who, &err),
                     CC_ERR_UNAUTHENTICATED);
    assert_int_equal(cc_key_disable(f->b.svc, f->admin.account_id, k.key_id, &err), CC_OK);
    assert_int_equal(cc_auth_access_key(f->b.svc, k.key_id, k.secret, strlen(k.secret), &who, &err),
                     CC_ERR_UNAUTHENTICATED);
    cc_store_thread_done(f->b.store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(migrate_twice_is_a_no_op, setup, teardown),
        cmocka_unit_test_setup_teardown(failing_write_does_not_take_the_batch_down, setup, teardown),
        cmocka_unit_test_setup_teardown(concurrent_creates_with_one_email, setup, teardown),
        cmocka_unit_test_setup_teardown(keyword_search, setup, teardown),
        cmocka_unit_test_setup_teardown(secrets_are_encrypted_at_rest, setup, teardown),
        cmocka_unit_test_setup_teardown(webhook_secret_rules_on_update, setup, teardown),
        cmocka_unit_test_setup_teardown(every_field_problem_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(create_in_two_halves, setup, teardown),
        cmocka_unit_test_setup_teardown(clashes_name_the_other_contacts, setup, teardown),
        cmocka_unit_test_setup_teardown(roles, setup, teardown),
        cmocka_unit_test_setup_teardown(contact_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(find_by_addresses_and_latest, setup, teardown),
        cmocka_unit_test_setup_teardown(a_disabled_key_is_refused_at_once_even_when_cached, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
