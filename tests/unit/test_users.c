/* test_users.c — console users on a real database in a temporary directory:
 * argon2id hashing and its rules, the CSRF comparison, sign-in with one
 * answer for an unknown email and a wrong password, sessions (authenticate,
 * expiry, sign-out), disabling, the admin's self-protection, and the
 * wrong-password lock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>

#include "service/service.h"
#include "service_fixture.h"
#include "util/util.h"

struct fx {
    struct svc_fixture b;
    int64_t account;
};

static int setup(void **state)
{
    struct fx *f = cc_calloc(1, sizeof *f);
    if (svc_fixture_open(&f->b, 0))
        return -1;
    f->account = f->b.first.account_id;
    /* The sign-in slow-down in steps of 20 ms, not a second: the tests that
     * need its real step set it back. */
    f->b.svc->cfg.sign_in_wait_step_ms = 20;
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

static void hashing(void **state)
{
    (void)state;
    char h[CC_PASSWORD_HASH_MAX + 1], h2[CC_PASSWORD_HASH_MAX + 1];
    struct cc_error err;
    assert_int_equal(cc_password_hash("correct horse battery", NULL, h, sizeof h, &err), CC_OK);
    assert_non_null(strstr(h, "$argon2id$"));
    assert_null(strstr(h, "correct"));
    assert_int_equal(cc_password_verify(h, "correct horse battery"), 1);
    assert_int_equal(cc_password_verify(h, "correct horse batterY"), 0);
    assert_int_equal(cc_password_verify(h, ""), 0);
    /* a fresh salt each time */
    assert_int_equal(cc_password_hash("correct horse battery", NULL, h2, sizeof h2, &err), CC_OK);
    assert_string_not_equal(h, h2);
    /* not an argon2id string: never a match */
    assert_int_equal(cc_password_verify("plain", "plain"), 0);
}

/* A generated password is always one a user could have chosen: cracklib
 * finds about 3 in 1,000 random ones "too systematic", which once made
 * "user create" without --password fail now and then. */
static void generated_passwords_pass_the_check(void **state)
{
    (void)state;
    struct cc_error err;
    char pw[CC_PASSWORD_GEN_LEN + 1];
    for (int i = 0; i < 500; i++) { /* unfixed, this fails 4 times in 5 */
        cc_password_generate_for(pw, "same@example.com");
        assert_int_equal(strlen(pw), CC_PASSWORD_GEN_LEN);
        if (cc_password_check(pw, "same@example.com", &err) != CC_OK)
            fail_msg("generated password %d refused: %s", i, err.message);
    }
}

/* Emails are unique per account: another account may have the same one
 * (its admin learns nothing), and sign-in then names the account. */
static void emails_are_unique_per_account(void **state)
{
    struct fx *f = *state;
    struct cc_new_key k;
    struct cc_error err;
    assert_int_equal(cc_account_create(f->b.svc, "second", &k, &err), CC_OK);
    struct cc_user a, b, dup;
    char pa[CC_PASSWORD_GEN_LEN + 1], pb[CC_PASSWORD_GEN_LEN + 1], pd[CC_PASSWORD_GEN_LEN + 1];
    assert_int_equal(cc_user_create(f->b.svc, NULL, f->account, "same@example.com", "admin", NULL,
                                    &a, pa, &err), CC_OK);
    struct cc_caller other = {.account_id = k.account_id, .role = CC_ROLE_ADMIN};
    cc_strlcpy(other.key_id, k.key_id, sizeof other.key_id);
    assert_int_equal(cc_user_create(f->b.svc, &other, 0, "Same@Example.com", "operator", NULL, &b,
                                    pb, &err), CC_OK);
    assert_int_equal(cc_user_create(f->b.svc, &other, 0, "same@example.com", "readonly", NULL,
                                    &dup, pd, &err), CC_ERR_ALREADY_EXISTS);
    assert_string_equal(err.field, "Email");
    struct cc_new_session s;
    /* the email alone names nobody in particular: the usual answer, right password or not */
    assert_int_equal(cc_session_sign_in(f->b.svc, "same@example.com", pa, 0, "10.1.1.1", &s, &err),
                     CC_ERR_UNAUTHENTICATED);
    assert_non_null(strstr(err.message, "name the account"));
    assert_int_equal(cc_session_sign_in(f->b.svc, "same@example.com", pb, k.account_id,
                                        "10.1.1.1", &s, &err), CC_OK);
    assert_int_equal(s.user.id, b.id);
    assert_int_equal(cc_session_sign_in(f->b.svc, "same@example.com", pa, f->account, "10.1.1.2",
                                        &s, &err), CC_OK);
    assert_int_equal(s.user.id, a.id);
    assert_int_equal(cc_session_sign_in(f->b.svc, "same@example.com", pa, k.account_id,
                                        "10.1.1.3", &s, &err), CC_ERR_UNAUTHENTICATED);
    /* an email of one user on the server signs in without the account */
    struct cc_user c;
    char pc[CC_PASSWORD_GEN_LEN + 1];
    assert_int_equal(cc_user_create(f->b.svc, &other, 0, "only@example.com", "readonly", NULL, &c,
                                    pc, &err), CC_OK);
    assert_int_equal(cc_session_sign_in(f->b.svc, "only@example.com", pc, 0, "10.1.1.4", &s,
                                        &err), CC_OK);
    assert_int_equal(s.user.account_id, k.account_id);
}

/* VmRSS or VmHWM of this process in KiB. */
static long proc_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':')
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static char flood_hash[CC_PASSWORD_HASH_MAX + 1];
static int flood_ok, flood_busy;
static pthread_mutex_t flood_mu = PTHREAD_MUTEX_INITIALIZER;

static void *flood_one(void *arg)
{
    (void)arg;
    int r = cc_password_verify(flood_hash, "correct horse battery");
    pthread_mutex_lock(&flood_mu);
    flood_ok += r == 1;
    flood_busy += r == -1;
    pthread_mutex_unlock(&flood_mu);
    return NULL;
}

/* A burst of password checks: a few hash at once, a few more wait, the rest
 * are refused at once; memory stays bounded and goes back afterwards. */
static void hashes_at_once_are_bounded(void **state)
{
    (void)state;
    struct cc_error err;
    assert_int_equal(cc_password_hash("correct horse battery", NULL, flood_hash, sizeof flood_hash,
                                      &err), CC_OK);
    long base = proc_kib("VmRSS");
    enum { N = 64 };
    pthread_t t[N];
    for (int i = 0; i < N; i++)
        assert_int_equal(pthread_create(&t[i], NULL, flood_one, NULL), 0);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(flood_ok + flood_busy, N);
    assert_true(flood_busy > 0);
    assert_true(flood_ok >= 4);
    /* 4 hashes of 19 MiB at the most at once, and nothing kept after */
    long hwm = proc_kib("VmHWM"), after = proc_kib("VmRSS");
    print_message("RSS %ld KiB before, %ld after, peak %ld; %d checked, %d refused\n", base,
                  after, hwm, flood_ok, flood_busy);
#if !defined(__SANITIZE_ADDRESS__) /* ASan keeps freed memory in quarantine */
    assert_true(hwm - base < 6 * 20 * 1024);
    assert_true(after - base < 2 * 20 * 1024);
#endif
}

static void password_rules(void **state)
{
    (void)state;
    char h[CC_PASSWORD_HASH_MAX + 1];
    struct cc_error err;
    assert_int_equal(cc_password_hash("123456789", NULL, h, sizeof h, &err), CC_ERR_INCORRECT_FORMAT);
    assert_string_equal(err.field, "Password");
    assert_int_equal(cc_password_hash("k7#Qm2vXp9", NULL, h, sizeof h, &err), CC_OK);
    /* characters, not bytes: ten Chinese characters are enough */
    assert_int_equal(cc_password_hash("春眠不觉晓处处闻啼鸟", NULL, h, sizeof h, &err), CC_OK);
    char longpw[200];
    for (int i = 0; i < 129; i++)
        longpw[i] = "k7#Qm2vXp9zR"[i % 12];
    longpw[129] = '\0';
    assert_int_equal(cc_password_hash(longpw, NULL, h, sizeof h, &err), CC_ERR_INCORRECT_FORMAT);
    longpw[128] = '\0';
    assert_int_equal(cc_password_hash(longpw, NULL, h, sizeof h, &err), CC_OK);
    /* too easy to guess (libpwquality, with cracklib's dictionary) */
    const char *weak[] = {"          ", "aaaaaaaaaa", "1234567890", "password12", "abcdefghij",
                          "qwertyuiop", "admin12345", "abcabcabca"};
    for (size_t i = 0; i < sizeof weak / sizeof weak[0]; i++) {
        assert_int_equal(cc_password_hash(weak[i], NULL, h, sizeof h, &err),
                         CC_ERR_INCORRECT_FORMAT);
        assert_string_equal(err.field, "Password");
        assert_non_null(strstr(err.message, "too easy to guess"));
    }
    /* nor the email's own name */
    assert_int_equal(cc_password_hash("zhangwei-k7#Qm2", "zhangwei@example.com", h, sizeof h,
                                      &err), CC_ERR_INCORRECT_FORMAT);
    /* passphrases are fine */
    assert_int_equal(cc_password_hash("correct horse battery", NULL, h, sizeof h, &err), CC_OK);
    assert_int_equal(cc_password_hash("the right password", NULL, h, sizeof h, &err), CC_OK);
    assert_int_equal(cc_password_hash("\xff\xfe invalid utf8", NULL, h, sizeof h, &err),
                     CC_ERR_INCORRECT_FORMAT);
    char a[CC_PASSWORD_GEN_LEN + 1], b[CC_PASSWORD_GEN_LEN + 1];
    cc_password_generate(a);
    cc_password_generate(b);
    assert_int_equal(strlen(a), CC_PASSWORD_GEN_LEN);
    assert_string_not_equal(a, b);
}

static void csrf_compare(void **state)
{
    (void)state;
    assert_int_equal(cc_csrf_equal("abcDEF123", "abcDEF123"), 1);
    assert_int_equal(cc_csrf_equal("abcDEF123", "abcDEF124"), 0);
    assert_int_equal(cc_csrf_equal("abcDEF123", "abcDEF12"), 0);
    assert_int_equal(cc_csrf_equal("abcDEF123", "abcDEF1234"), 0);
    assert_int_equal(cc_csrf_equal("abcDEF123", NULL), 0);
    assert_int_equal(cc_csrf_equal("abcDEF123", ""), 0);
    assert_int_equal(cc_csrf_equal("", ""), 0); /* no session token: nothing matches */
}

static void sign_in_and_out(void **state)
{
    struct fx *f = *state;
    struct cc_user u;
    char gen[CC_PASSWORD_GEN_LEN + 1];
    struct cc_error err;
    assert_int_equal(cc_user_create(f->b.svc, NULL, f->account, "Ann@Example.com", "operator",
                                    NULL, &u, gen, &err), CC_OK);
    assert_int_equal(strlen(gen), CC_PASSWORD_GEN_LEN);
    assert_string_equal(u.password_hash, ""); /* never handed back */
    /* the email is unique, whatever its case */
    char gen2[CC_PASSWORD_GEN_LEN + 1];
    struct cc_user u2;
    assert_int_equal(cc_user_create(f->b.svc, NULL, f->account, "ann@example.COM", "readonly",
                                    "a strong passphrase", &u2, gen2, &err), CC_ERR_ALREADY_EXISTS);
    assert_string_equal(gen2, "");

    struct cc_new_session s;
    assert_int_equal(cc_session_sign_in(f->b.svc, "ann@example.com", gen, 0, "10.0.0.1", &s, &err), CC_OK);
    assert_int_equal(strlen(s.token), CC_SESSION_TOKEN_LEN);
    assert_int_equal(strlen(s.csrf_token), CC_CSRF_LEN);
    assert_string_not_equal(s.token, s.csrf_token);
    assert_int_equal(s.user.id, u.id);
    assert_int_equal(s.user.role, CC_ROLE_OPERATOR);

    struct cc_caller c;
    char csrf[CC_CSRF_LEN + 1];
    int touch = 1;
    assert_int_equal(cc_session_authenticate(f->b.svc, s.token, &c, csrf, &touch, &err), CC_OK);
    assert_int_equal(c.account_id, f->account);
    assert_int_equal(c.role, CC_ROLE_OPERATOR);
    assert_int_equal(c.user_id, u.id);
    assert_string_equal(csrf, s.csrf_token);
    assert_int_equal(touch, 0);
    /* the token itself is not what is stored */
    assert_string_not_equal(c.session, s.token);

    /* an unknown email and a wrong password get the same answer */
    struct cc_error e1, e2;
    struct cc_new_session bad;
    assert_int_equal(cc_session_sign_in(f->b.svc, "nobody@example.com", gen, 0, "10.0.0.1", &bad, &e1),
                     CC_ERR_UNAUTHENTICATED);
    assert_int_equal(cc_session_sign_in(f->b.svc, "ann@example.com", "wrong password", 0, "10.0.0.1", &bad, &e2),
                     CC_ERR_UNAUTHENTICATED);
    assert_string_equal(bad.token, "");
    assert_string_equal(e1.message, e2.message);

    /* malformed or unknown tokens */
    assert_int_equal(cc_session_authenticate(f->b.svc, "short", &c, csrf, &touch, &err),
                     CC_ERR_UNAUTHENTICATED);
    char other[CC_SESSION_TOKEN_LEN + 1];
    memset(other, 'A', CC_SESSION_TOKEN_LEN);
    other[CC_SESSION_TOKEN_LEN] = '\0';
    assert_int_equal(cc_session_authenticate(f->b.svc, other, &c, csrf, &touch, &err),
                     CC_ERR_UNAUTHENTICATED);

    /* the language is remembered */
    struct cc_new_session s2;
    assert_int_equal(cc_session_sign_in(f->b.svc, "ann@example.com", gen, 0, "10.0.0.1", &s2, &err), CC_OK);
    assert_int_equal(cc_session_authenticate(f->b.svc, s2.token, &c, csrf, &touch, &err), CC_OK);
    struct cc_user got;
    assert_int_equal(cc_session_set_language(f->b.svc, &c, "zh-cn", &got, &err), CC_OK);
    assert_string_equal(got.language, "zh-CN");
    assert_int_equal(cc_session_set_language(f->b.svc, &c, "fr", &got, &err),
                     CC_ERR_INCORRECT_FORMAT);
    assert_int_equal(cc_session_get(f->b.svc, &c, &got, csrf, &err), CC_OK);
    assert_string_equal(got.language, "zh-CN");
    assert_true(got.last_sign_in_at > 0);

    /* sign-out ends this session only */
    assert_int_equal(cc_session_sign_out(f->b.svc, &c, &err), CC_OK);
    assert_int_equal(cc_session_authenticate(f->b.svc, s2.token, &c, csrf, &touch, &err),
                     CC_ERR_UNAUTHENTICATED);
    assert_int_equal(cc_session_authenticate(f->b.svc, s.token, &c, csrf, &touch, &err), CC_OK);
}

static void admin_rules(void **state)
{
    struct fx *f = *state;
    struct cc_user admin, op;
    char pw[CC_PASSWORD_GEN_LEN + 1], pw2[CC_PASSWORD_GEN_LEN + 1];
    struct cc_error err;
    assert_int_equal(cc_user_create(f->b.svc, NULL, f->account, "boss@example.com", "admin", NULL,
                                    &admin, pw, &err), CC_OK);
    struct cc_new_session s;
    assert_int_equal(cc_session_sign_in(f->b.svc, "boss@example.com", pw, 0, "10.0.0.1", &s, &err), CC_OK);
    struct cc_caller me;
    char csrf[CC_CSRF_LEN + 1];
    int touch;
    assert_int_equal(cc_session_authenticate(f->b.svc, s.token, &me, csrf, &touch, &err), CC_OK);

    /* an admin adds an operator; the operator may not manage users */
    assert_int_equal(cc_user_create(f->b.svc, &me, 0, "op@example.com", "operator", NULL, &op,
                                    pw2, &err), CC_OK);
    assert_int_equal(op.account_id, f->account);
    struct cc_new_session so;
    assert_int_equal(cc_session_sign_in(f->b.svc, "op@example.com", pw2, 0, "10.0.0.1", &so, &err), CC_OK);
    struct cc_caller opc;
    assert_int_equal(cc_session_authenticate(f->b.svc, so.token, &opc, csrf, &touch, &err), CC_OK);
    struct cc_user *list = NULL;
    size_t n = 0;
    assert_int_equal(cc_user_list(f->b.svc, &opc, &list, &n, &err), CC_ERR_FORBIDDEN);
    assert_int_equal(cc_user_list(f->b.svc, &me, &list, &n, &err), CC_OK);
    assert_int_equal(n, 2);
    assert_string_equal(list[0].password_hash, "");
    cc_free(list);

    /* no self-demotion, self-disabling or self-deletion */
    struct cc_user out;
    struct cc_user_change ch = {"operator", -1, NULL};
    assert_int_equal(cc_user_update(f->b.svc, &me, admin.id, &ch, &out, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "Role");
    ch = (struct cc_user_change){NULL, 1, NULL};
    assert_int_equal(cc_user_update(f->b.svc, &me, admin.id, &ch, &out, &err),
                     CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "Disabled");
    assert_int_equal(cc_user_delete(f->b.svc, &me, admin.id, &err), CC_ERR_INVALID_PARAMETER);

    /* disabling ends the operator's sessions and refuses sign-in */
    ch = (struct cc_user_change){NULL, 1, NULL};
    assert_int_equal(cc_user_update(f->b.svc, &me, op.id, &ch, &out, &err), CC_OK);
    assert_true(out.disabled_at > 0);
    assert_int_equal(cc_session_authenticate(f->b.svc, so.token, &opc, csrf, &touch, &err),
                     CC_ERR_UNAUTHENTICATED);
    assert_int_equal(cc_session_sign_in(f->b.svc, "op@example.com", pw2, 0, "10.0.0.1", &so, &err),
                     CC_ERR_FORBIDDEN);
    /* enabled again, with a new password */
    ch = (struct cc_user_change){"readonly", 0, "a new password"};
    assert_int_equal(cc_user_update(f->b.svc, &me, op.id, &ch, &out, &err), CC_OK);
    assert_int_equal(out.role, CC_ROLE_READONLY);
    assert_int_equal(cc_session_sign_in(f->b.svc, "op@example.com", pw2, 0, "10.0.0.1", &so, &err),
                     CC_ERR_UNAUTHENTICATED);
    assert_int_equal(cc_session_sign_in(f->b.svc, "op@example.com", "a new password", 0, "10.0.0.1", &so, &err),
                     CC_OK);
    assert_int_equal(so.user.role, CC_ROLE_READONLY);

    /* another account's admin sees no such user */
    struct cc_caller stranger = me;
    stranger.account_id = f->account + 1000;
    assert_int_equal(cc_user_delete(f->b.svc, &stranger, op.id, &err), CC_ERR_NOT_FOUND);
    assert_int_equal(cc_user_delete(f->b.svc, &me, op.id, &err), CC_OK);
    assert_int_equal(cc_session_sign_in(f->b.svc, "op@example.com", "a new password", 0, "10.0.0.1", &so, &err),
                     CC_ERR_UNAUTHENTICATED);
}

static void lock_after_five_failures(void **state)
{
    struct fx *f = *state;
    struct cc_user u;
    char pw[CC_PASSWORD_GEN_LEN + 1];
    struct cc_error err;
    assert_int_equal(cc_user_create(f->b.svc, NULL, f->account, "lock@example.com", "admin", NULL,
                                    &u, pw, &err), CC_OK);
    struct cc_new_session s;
    f->b.svc->cfg.sign_in_wait_step_ms = 0; /* the default step, a second */
    int64_t t0 = cc_mono_us();
    for (int i = 1; i <= 4; i++)
        assert_int_equal(cc_session_sign_in(f->b.svc, "lock@example.com", "wrong password",
                                             0, "10.0.0.1", &s, &err), CC_ERR_UNAUTHENTICATED);
    /* the third and fourth waited 1 s and 2 s */
    assert_true(cc_mono_us() - t0 >= 3000000);
    f->b.svc->cfg.sign_in_wait_step_ms = 20;
    assert_int_equal(cc_session_sign_in(f->b.svc, "lock@example.com", "wrong password",  0, "10.0.0.1",
                                        &s, &err), CC_ERR_USER_LOCKED);
    assert_true(err.retry_after_s > 14 * 60 && err.retry_after_s <= 15 * 60);
    /* even the right password, from that address */
    assert_int_equal(cc_session_sign_in(f->b.svc, "lock@example.com", pw, 0, "10.0.0.1", &s, &err),
                     CC_ERR_USER_LOCKED);
    /* the admin sees the lock */
    struct cc_user got;
    assert_int_equal(cc_store_user_get(f->b.store, u.id, &got, &err), CC_OK);
    assert_true(got.locked_until > cc_now_ms());
    /* unknown emails are counted and locked the same way, and slowed down
     * in the step set: the third and fourth wait one and two steps */
    t0 = cc_mono_us();
    for (int i = 1; i <= 4; i++)
        assert_int_equal(cc_session_sign_in(f->b.svc, "ghost@example.com", "wrong password",
                                             0, "10.0.0.1", &s, &err), CC_ERR_UNAUTHENTICATED);
    int64_t took = cc_mono_us() - t0;
    assert_true(took >= 60000 && took < 3000000);
    assert_int_equal(cc_session_sign_in(f->b.svc, "ghost@example.com", "wrong password",
                                         0, "10.0.0.1", &s, &err), CC_ERR_USER_LOCKED);
}

/* The old attack: five wrong passwords from elsewhere locked the real user
 * out. Now they lock that address only; the user, from its own address, is
 * slowed down but signs in. */
static void others_cannot_lock_a_user_out(void **state)
{
    struct fx *f = *state;
    struct cc_user u;
    char pw[CC_PASSWORD_GEN_LEN + 1];
    struct cc_error err;
    assert_int_equal(cc_user_create(f->b.svc, NULL, f->account, "real@example.com", "admin", NULL,
                                    &u, pw, &err), CC_OK);
    struct cc_new_session s;
    for (int i = 1; i <= 5; i++)
        cc_session_sign_in(f->b.svc, "real@example.com", "wrong password", 0, "203.0.113.9", &s,
                           &err);
    assert_int_equal(cc_session_sign_in(f->b.svc, "real@example.com", pw, 0, "203.0.113.9", &s,
                                        &err), CC_ERR_USER_LOCKED);
    assert_int_equal(cc_session_sign_in(f->b.svc, "real@example.com", pw, 0, "198.51.100.7", &s,
                                        &err), CC_OK);
}

/* Spraying many emails from one address locks the address. */
static void an_address_spraying_emails_is_locked(void **state)
{
    struct fx *f = *state;
    struct cc_user u;
    char pw[CC_PASSWORD_GEN_LEN + 1];
    struct cc_error err;
    assert_int_equal(cc_user_create(f->b.svc, NULL, f->account, "spray@example.com", "admin",
                                    NULL, &u, pw, &err), CC_OK);
    struct cc_new_session s;
    char email[64];
    for (int i = 0; i < CC_SIGN_IN_ADDR_MAX_FAILURES; i++) {
        snprintf(email, sizeof email, "guess%d@example.com", i);
        assert_int_equal(cc_session_sign_in(f->b.svc, email, "wrong password",  0, "192.0.2.1", &s,
                                            &err), CC_ERR_UNAUTHENTICATED);
    }
    assert_int_equal(cc_session_sign_in(f->b.svc, "spray@example.com", pw, 0, "192.0.2.1", &s, &err),
                     CC_ERR_THROTTLED);
    assert_true(err.retry_after_s > 14 * 60);
    assert_int_equal(cc_session_sign_in(f->b.svc, "spray@example.com", pw, 0, "192.0.2.2", &s, &err),
                     CC_OK);
}

/* An admin (or the CLI) lifts a lock; it is audited. */
static void unlock_lifts_the_lock(void **state)
{
    struct fx *f = *state;
    struct cc_user u, boss, got;
    char pw[CC_PASSWORD_GEN_LEN + 1], bpw[CC_PASSWORD_GEN_LEN + 1];
    struct cc_error err;
    assert_int_equal(cc_user_create(f->b.svc, NULL, f->account, "stuck@example.com", "operator",
                                    NULL, &u, pw, &err), CC_OK);
    assert_int_equal(cc_user_create(f->b.svc, NULL, f->account, "boss2@example.com", "admin",
                                    NULL, &boss, bpw, &err), CC_OK);
    struct cc_new_session s;
    for (int i = 1; i <= 5; i++)
        cc_session_sign_in(f->b.svc, "stuck@example.com", "wrong password", 0, "10.9.9.9", &s, &err);
    assert_int_equal(cc_session_sign_in(f->b.svc, "stuck@example.com", pw, 0, "10.9.9.9", &s, &err),
                     CC_ERR_USER_LOCKED);
    struct cc_caller admin = {.account_id = f->account, .role = CC_ROLE_ADMIN, .user_id = boss.id};
    struct cc_caller op = {.account_id = f->account, .role = CC_ROLE_OPERATOR};
    struct cc_caller stranger = {.account_id = f->account + 1000, .role = CC_ROLE_ADMIN};
    cc_strlcpy(admin.key_id, "user:boss", sizeof admin.key_id);
    assert_int_equal(cc_user_unlock(f->b.svc, &op, 0, u.id, NULL, &got, &err), CC_ERR_FORBIDDEN);
    assert_int_equal(cc_user_unlock(f->b.svc, &stranger, 0, u.id, NULL, &got, &err),
                     CC_ERR_NOT_FOUND);
    assert_int_equal(cc_user_unlock(f->b.svc, &admin, 0, u.id, NULL, &got, &err), CC_OK);
    assert_int_equal(got.locked_until, 0);
    assert_int_equal(cc_session_sign_in(f->b.svc, "stuck@example.com", pw, 0, "10.9.9.9", &s, &err),
                     CC_OK);
    /* the CLI names the user by email in its account */
    for (int i = 1; i <= 5; i++)
        cc_session_sign_in(f->b.svc, "stuck@example.com", "wrong password", 0, "10.9.9.8", &s, &err);
    assert_int_equal(cc_user_unlock(f->b.svc, NULL, f->account + 1, 0, "stuck@example.com", &got,
                                    &err), CC_ERR_NOT_FOUND);
    assert_int_equal(cc_user_unlock(f->b.svc, NULL, f->account, 0, "STUCK@example.com", &got,
                                    &err), CC_OK);
    assert_int_equal(cc_session_sign_in(f->b.svc, "stuck@example.com", pw, 0, "10.9.9.8", &s, &err),
                     CC_OK);
    assert_int_equal(svc_fixture_count(&f->b, "SELECT count(*) FROM audit_log WHERE action = ?1",
                                       "user.unlock"), 2);
}

/* Polls cc_session_authenticate until it fails, for at most 10 s. */
static enum cc_err until_refused(struct fx *f, const char *token)
{
    struct cc_caller c;
    char csrf[CC_CSRF_LEN + 1];
    int touch;
    struct cc_error err;
    int64_t deadline = cc_mono_us() + 10000000;
    enum cc_err rc;
    while ((rc = cc_session_authenticate(f->b.svc, token, &c, csrf, &touch, &err)) == CC_OK &&
           cc_mono_us() < deadline)
        usleep(20000);
    return rc;
}

static void sessions_expire(void **state)
{
    struct fx *f = *state;
    struct cc_user u;
    char pw[CC_PASSWORD_GEN_LEN + 1];
    struct cc_error err;
    assert_int_equal(cc_user_create(f->b.svc, NULL, f->account, "exp@example.com", "operator",
                                    NULL, &u, pw, &err), CC_OK);
    struct cc_caller c;
    char csrf[CC_CSRF_LEN + 1];
    int touch;
    struct cc_new_session s;
    /* absolute expiry: the cookie's Max-Age says the same */
    f->b.svc->cfg.session_max_age_s = 1;
    assert_int_equal(cc_session_sign_in(f->b.svc, "exp@example.com", pw, 0, "10.0.0.1", &s, &err), CC_OK);
    assert_int_equal(s.max_age_s, 1);
    assert_int_equal(cc_session_authenticate(f->b.svc, s.token, &c, csrf, &touch, &err), CC_OK);
    assert_int_equal(until_refused(f, s.token), CC_ERR_UNAUTHENTICATED);
    /* idle expiry */
    f->b.svc->cfg.session_max_age_s = 0;
    f->b.svc->cfg.session_idle_s = 1;
    assert_int_equal(cc_session_sign_in(f->b.svc, "exp@example.com", pw, 0, "10.0.0.1", &s, &err), CC_OK);
    assert_int_equal(s.max_age_s, CC_SESSION_MAX_AGE_DEFAULT_S);
    assert_int_equal(cc_session_authenticate(f->b.svc, s.token, &c, csrf, &touch, &err), CC_OK);
    assert_int_equal(until_refused(f, s.token), CC_ERR_UNAUTHENTICATED);
    /* a touched session lives on: with a long idle time it is fine again */
    f->b.svc->cfg.session_idle_s = 0;
    assert_int_equal(cc_session_authenticate(f->b.svc, s.token, &c, csrf, &touch, &err), CC_OK);
    assert_int_equal(touch, 0);
    assert_int_equal(cc_session_touch(f->b.svc, &c, &err), CC_OK);
}

/* The audit trail's last actor for action, read from the PostgreSQL database. */
static void last_actor_pg(const struct fx *f, const char *action, char *out, size_t outsz)
{
    PGconn *pg = PQconnectdb(f->b.url);
    const char *params[1] = {action};
    PGresult *r = PQexecParams(pg, "SELECT actor FROM audit_log WHERE action = $1 "
                                   "ORDER BY id DESC LIMIT 1", 1, NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    if (PQntuples(r) == 1)
        cc_strlcpy(out, PQgetvalue(r, 0, 0), outsz);
    PQclear(r);
    PQfinish(pg);
}

/* The audit trail's last actor for action (read from the database file). */
static void last_actor(const struct fx *f, const char *action, char *out, size_t outsz)
{
    char path[128];
    sqlite3 *db;
    sqlite3_stmt *st;
    snprintf(path, sizeof path, "%s/t.db", f->b.dir);
    out[0] = '\0';
    if (f->b.pg_db[0]) {
        last_actor_pg(f, action, out, outsz);
        return;
    }
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT actor FROM audit_log WHERE action = ?1 "
                                            "ORDER BY id DESC LIMIT 1", -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
        cc_strlcpy(out, (const char *)sqlite3_column_text(st, 0), outsz);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void keys_through_the_api_name_their_user(void **state)
{
    struct fx *f = *state;
    struct cc_user admin;
    char pw[CC_PASSWORD_GEN_LEN + 1], csrf[CC_CSRF_LEN + 1], who[64], want[64];
    struct cc_error err;
    assert_int_equal(cc_user_create(f->b.svc, NULL, f->account, "keys@example.com", "admin",
                                    NULL, &admin, pw, &err), CC_OK);
    struct cc_new_session s;
    assert_int_equal(cc_session_sign_in(f->b.svc, "keys@example.com", pw, 0, "10.0.0.1", &s, &err), CC_OK);
    struct cc_caller me;
    int touch;
    assert_int_equal(cc_session_authenticate(f->b.svc, s.token, &me, csrf, &touch, &err), CC_OK);
    struct cc_new_key k;
    assert_int_equal(cc_api_key_create(f->b.svc, &me, "readonly", 0, &k, &err), CC_OK);
    snprintf(want, sizeof want, "user:%lld", (long long)admin.id);
    last_actor(f, "access_key.create", who, sizeof who);
    assert_string_equal(who, want);
    struct cc_access_key out;
    assert_int_equal(cc_api_key_disable(f->b.svc, &me, k.key_id, &out, &err), CC_OK);
    assert_true(out.disabled_at > 0);
    last_actor(f, "access_key.disable", who, sizeof who);
    assert_string_equal(who, want);
    /* the command line's own calls still say so */
    assert_int_equal(cc_key_disable(f->b.svc, f->account, k.key_id, &err), CC_OK);
    last_actor(f, "access_key.disable", who, sizeof who);
    assert_string_equal(who, "cli");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_passwords_pass_the_check),
        cmocka_unit_test(hashing),
        cmocka_unit_test(password_rules),
        cmocka_unit_test(hashes_at_once_are_bounded),
        cmocka_unit_test(csrf_compare),
        cmocka_unit_test_setup_teardown(sign_in_and_out, setup, teardown),
        cmocka_unit_test_setup_teardown(admin_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(lock_after_five_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(others_cannot_lock_a_user_out, setup, teardown),
        cmocka_unit_test_setup_teardown(an_address_spraying_emails_is_locked, setup, teardown),
        cmocka_unit_test_setup_teardown(unlock_lifts_the_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(emails_are_unique_per_account, setup, teardown),
        cmocka_unit_test_setup_teardown(sessions_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(keys_through_the_api_name_their_user, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
