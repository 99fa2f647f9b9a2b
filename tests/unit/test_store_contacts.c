/*
 * test_store_contacts.c — contacts through the store on either backend:
 * sixteen threads creating at once all succeed, each refused duplicate
 * alone, and the audit chain holds every create; the trigram index finds
 * contacts written together in batches newest first, follows a rename and a
 * delete, and caps its count; keywords of one or two characters are served
 * by the short keyword index with the same answers as a scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "service_fixture.h"
#include "store/store.h"
#include "store/store_int.h"

/* ---- writes that always meet ------------------------------------------------
 * Every contact create of one account counts it on the account's row and
 * appends to the audit chain: sixteen threads creating at once must all
 * succeed (on PostgreSQL they queue once they have met, never give up). */
#define CREATORS 16

struct creator {
    struct svc_fixture *f;
    int base, failed, dups;
};

static void *create_many(void *arg)
{
    struct creator *c = arg;
    struct cc_caller admin;
    svc_fixture_admin(c->f, &admin);
    for (int i = 0; i < 40; i++) {
        char mobile[32];
        snprintf(mobile, sizeof mobile, "+86 139%08d", c->base + i);
        if (svc_fixture_contact(c->f, &admin, mobile) < 0)
            c->failed++;
        /* every fifth time, a mobile taken already: refused alone, nothing
         * of it kept, the writes beside it untouched */
        if (i % 5 == 4) {
            snprintf(mobile, sizeof mobile, "+86 139%08d", c->base);
            c->dups += svc_fixture_contact(c->f, &admin, mobile) < 0;
        }
    }
    cc_store_thread_done(c->f->store);
    return NULL;
}

/* CREATORS threads run create_many at once, thread i from mobile number
 * base + i * step, and are joined. */
static void create_together(struct svc_fixture *f, struct creator *c, int base, int step)
{
    pthread_t t[CREATORS];
    for (int i = 0; i < CREATORS; i++) {
        c[i] = (struct creator){f, base + step * i, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, create_many, &c[i]), 0);
    }
    for (int i = 0; i < CREATORS; i++)
        pthread_join(t[i], NULL);
}

static void test_hot_writes(void **state)
{
    (void)state;
    struct svc_fixture f;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    struct creator c[CREATORS];
    create_together(&f, c, 1000, 1000);
    for (int i = 0; i < CREATORS; i++) {
        assert_int_equal(c[i].failed, 0);
        assert_int_equal(c[i].dups, 8);
    }
    struct cc_caller admin;
    svc_fixture_admin(&f, &admin);
    struct cc_contact_page page;
    memset(&page, 0, sizeof page);
    struct cc_error lerr;
    assert_int_equal(cc_contact_list(f.svc, &admin, NULL, 1, 1, &page, &lerr), CC_OK);
    assert_int_equal(page.total, CREATORS * 40);
    cc_contact_page_free(&page);
    /* every create is in the chain, and the chain holds */
    struct cc_error err;
    struct cc_audit_report rep;
    memset(&rep, 0, sizeof rep);
    assert_int_equal(cc_audit_verify(f.svc, &rep, &err), CC_OK);
    assert_int_equal(rep.bad_id, 0);
    assert_true(rep.checked >= CREATORS * 40);
    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* Contacts written together in batches are found by the trigram index (written
 * once per batch, migration 0026) newest first; a change of name moves them in
 * it, a deletion takes them out; and a keyword's count stops at count_max with
 * total_capped set, the page itself uncut. */
static void test_search_index_and_count(void **state)
{
    (void)state;
    struct svc_fixture f;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    struct creator c[CREATORS];
    create_together(&f, c, 5000, 100);
    struct cc_caller admin;
    svc_fixture_admin(&f, &admin);
    int64_t acct = admin.account_id;
    struct cc_contact_page p;
    /* "13900005" + one more digit: the first creator's 40 mobiles 13900005000..039 */
    assert_int_equal(svc_fixture_search(&f, acct, "139000050", 100, 0, &p), CC_OK);
    assert_int_equal(p.total, 40);
    assert_int_equal(p.total_capped, 0);
    assert_int_equal(p.n, 40);
    int64_t all[40];
    for (size_t i = 0; i < p.n; i++) {
        all[i] = p.items[i].id;
        if (i)
            assert_true(p.items[i - 1].id > p.items[i].id); /* newest first */
    }
    int64_t first = p.items[p.n - 1].id, newest = p.items[0].id;
    cc_contact_page_free(&p);
    /* counted (the sole account's ids read oldest first and turned round, or
     * read again newest first when there are more than count_max): every
     * page is the same rows in the same order as the uncounted list */
    for (int64_t page = 1; page <= 4; page++)
        for (int64_t count_max = 12; count_max <= 50; count_max += 38) {
            struct cc_contact_query qp = {.account_id = acct, .keyword = "139000050",
                                          .page = page, .page_size = 10,
                                          .count_max = count_max};
            struct cc_error ep;
            memset(&p, 0, sizeof p);
            assert_int_equal(cc_store_contact_list(f.store, &qp, &p, &ep), CC_OK);
            assert_int_equal(p.total, count_max < 40 ? count_max : 40);
            assert_int_equal(p.total_capped, count_max < 40);
            assert_int_equal(p.n, 10);
            for (size_t i = 0; i < p.n; i++)
                assert_int_equal(p.items[i].id, all[(page - 1) * 10 + (int64_t)i]);
            cc_contact_page_free(&p);
        }
    /* counted up to 25: the total says "at least 25", the page is whole */
    assert_int_equal(svc_fixture_search(&f, acct, "139000050", 10, 25, &p), CC_OK);
    assert_int_equal(p.total, 25);
    assert_int_equal(p.total_capped, 1);
    assert_int_equal(p.n, 10);
    assert_int_equal(p.items[0].id, newest);
    cc_contact_page_free(&p);
    /* page 3 lies past the 26 matches read to count them: read as usual, newest first */
    struct cc_contact_query q3 = {.account_id = acct, .keyword = "139000050", .page = 3,
                                  .page_size = 10, .count_max = 25};
    struct cc_error e3;
    memset(&p, 0, sizeof p);
    assert_int_equal(cc_store_contact_list(f.store, &q3, &p, &e3), CC_OK);
    assert_int_equal(p.total, 25);
    assert_int_equal(p.total_capped, 1);
    assert_int_equal(p.n, 10); /* past the count: "at least 25", and the pages go on */
    for (size_t i = 1; i < p.n; i++)
        assert_true(p.items[i - 1].id > p.items[i].id);
    cc_contact_page_free(&p);
    assert_int_equal(svc_fixture_search(&f, acct, "139000050", 10, 40, &p), CC_OK); /* exactly count_max: exact */
    assert_int_equal(p.total, 40);
    assert_int_equal(p.total_capped, 0);
    cc_contact_page_free(&p);
    /* one and two characters go another way (contacts_grams): capped alike */
    assert_int_equal(svc_fixture_search(&f, acct, "9", 5, 30, &p), CC_OK);
    assert_int_equal(p.total, 30);
    assert_int_equal(p.total_capped, 1);
    assert_int_equal(p.n, 5);
    cc_contact_page_free(&p);
    /* renamed: found by its new name, no longer by the old text */
    struct cc_contact_input in;
    memset(&in, 0, sizeof in);
    in.present = CC_F_NAME;
    in.name = "Quokka Renamed";
    struct cc_contact *ct = cc_malloc(sizeof *ct);
    struct cc_error err;
    assert_int_equal(cc_contact_update(f.svc, &admin, first, &in, -1, ct, &err), CC_OK);
    cc_free(ct);
    assert_int_equal(svc_fixture_search(&f, acct, "quokka", 10, 0, &p), CC_OK);
    assert_int_equal(p.total, 1);
    assert_int_equal(p.items[0].id, first);
    cc_contact_page_free(&p);
    /* deleted: gone from the index */
    struct cc_contact_use use;
    assert_int_equal(cc_contact_delete(f.svc, &admin, first, &use, &err), CC_OK);
    cc_contact_use_free(&use);
    assert_int_equal(svc_fixture_search(&f, acct, "quokka", 10, 0, &p), CC_OK);
    assert_int_equal(p.total, 0);
    cc_contact_page_free(&p);
    assert_int_equal(svc_fixture_search(&f, acct, "139000050", 100, 0, &p), CC_OK);
    assert_int_equal(p.total, 39);
    cc_contact_page_free(&p);
    /* a second account with a contact that matches too: each account finds its own
     * (the account is no longer the only one, so each match is checked) */
    int64_t other = 0;
    assert_int_equal(cc_store_write(f.store, svc_fixture_other_account_tx, &other, &err), CC_OK);
    struct cc_caller them = admin;
    them.account_id = other;
    int64_t theirs = svc_fixture_contact(&f, &them, "+86 13900005001");
    assert_true(theirs > 0);
    assert_int_equal(svc_fixture_search(&f, acct, "139000050", 100, 0, &p), CC_OK);
    assert_int_equal(p.total, 39);
    for (size_t i = 0; i < p.n; i++)
        assert_true(p.items[i].id != theirs);
    cc_contact_page_free(&p);
    assert_int_equal(svc_fixture_search(&f, acct, "139000050", 10, 20, &p), CC_OK);
    assert_int_equal(p.total, 20);
    assert_int_equal(p.total_capped, 1);
    cc_contact_page_free(&p);
    assert_int_equal(svc_fixture_search(&f, other, "139000050", 100, 0, &p), CC_OK);
    assert_int_equal(p.total, 1);
    assert_int_equal(p.items[0].id, theirs);
    cc_contact_page_free(&p);
    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* ---- keywords of one and two characters ---------------------------------------
 * Found through the short keyword index (SQLite: contacts_grams, migration
 * 0027; PostgreSQL: pg_trgm) with the meaning they always had: the contacts
 * whose search_text (name, email, mobile lower-cased, a line each) contains
 * the keyword, newest first. The answer each search must give is worked out
 * here from every contact of the account with strstr. */
#define SHORT_MAX 1000

/* A contact with name, email (NULL: none) and mobile, made by caller. */
static int64_t short_contact(struct svc_fixture *f, const struct cc_caller *caller,
                             const char *name, const char *email, const char *mobile)
{
    int64_t id = svc_fixture_contact_named(f, caller, name, email, mobile);
    assert_true(id > 0);
    return id;
}

/* The ids (newest first) of account's contacts whose search text holds kw. */
static size_t short_expected(struct svc_fixture *f, int64_t account, const char *kw,
                             int64_t *ids)
{
    char low[64], text[CC_NAME_MAX_BYTES + CC_EMAIL_MAX + CC_MOBILE_MAX + 8];
    cc_strlcpy(low, kw, sizeof low);
    cc_ascii_lower(low);
    struct cc_contact_page all;
    assert_int_equal(svc_fixture_search(f, account, NULL, SHORT_MAX, 0, &all), CC_OK);
    assert_true(all.total < SHORT_MAX);
    size_t n = 0;
    for (size_t i = 0; i < all.n; i++) {
        if (i)
            assert_true(all.items[i - 1].id > all.items[i].id);
        cc_store_search_text(&all.items[i], text, sizeof text);
        if (strstr(text, low))
            ids[n++] = all.items[i].id;
    }
    cc_contact_page_free(&all);
    return n;
}

/* kw finds in account exactly what short_expected says (want: how many that
 * is, -1: any), whole and counted up to 3 with a page of 2; returns it. */
static size_t short_check(struct svc_fixture *f, int64_t account, const char *kw, long want)
{
    static int64_t ids[SHORT_MAX];
    size_t n = short_expected(f, account, kw, ids);
    if (want >= 0 && n != (size_t)want)
        print_error("keyword \"%s\": %zu contacts hold it, not %ld\n", kw, n, want);
    if (want >= 0)
        assert_int_equal(n, want);
    struct cc_contact_page p;
    assert_int_equal(svc_fixture_search(f, account, kw, SHORT_MAX, 0, &p), CC_OK);
    assert_int_equal(p.total, n);
    assert_int_equal(p.total_capped, 0);
    assert_int_equal(p.n, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(p.items[i].id, ids[i]);
    cc_contact_page_free(&p);
    assert_int_equal(svc_fixture_search(f, account, kw, 2, 3, &p), CC_OK);
    assert_int_equal(p.total, n > 3 ? 3 : n);
    assert_int_equal(p.total_capped, n > 3);
    assert_int_equal(p.n, n < 2 ? n : 2);
    for (size_t i = 0; i < p.n; i++)
        assert_int_equal(p.items[i].id, ids[i]);
    cc_contact_page_free(&p);
    return n;
}

static void test_search_short_keywords(void **state)
{
    (void)state;
    struct svc_fixture f;
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    struct creator c[CREATORS];
    create_together(&f, c, 7000, 100); /* 640 named "A", mobiles +86139000070.. */
    struct cc_caller admin;
    svc_fixture_admin(&f, &admin);
    int64_t acct = admin.account_id;
    int64_t li = short_contact(&f, &admin, "Li Wei", "li.wei@example.com", "+86 13800000001");
    int64_t wang = short_contact(&f, &admin, "王伟", "wangwei@example.cn", "+86 13800000002");
    short_contact(&f, &admin, "张王", NULL, "+86 13812345678");
    short_contact(&f, &admin, "Qb", "xq@example.org", "+86 13855512399");
    short_contact(&f, &admin, "Élan ZOE", "zoe@example.net", "+86 13800000005");
    assert_true(short_check(&f, acct, "a", -1) > 640);   /* common: capped */
    assert_int_equal(short_check(&f, acct, "li", 1), 1); /* at a line's start */
    short_check(&f, acct, "LI", 1);                      /* ASCII is lowered */
    short_check(&f, acct, "王", 2);
    short_check(&f, acct, "王伟", 1);
    short_check(&f, acct, "张王", 1);
    short_check(&f, acct, "伟王", 0);
    short_check(&f, acct, "55", 1);                      /* a digit pair */
    short_check(&f, acct, "99", 1);                      /* at a line's end */
    short_check(&f, acct, "ei", 2);                      /* li wei, wangwei@ */
    short_check(&f, acct, "qb", 1);
    short_check(&f, acct, "bx", 0); /* "qb\nxq@…": only across the name/email line break */
    short_check(&f, acct, "g+", 0); /* "….org\n+86…": across the email/mobile one */
    short_check(&f, acct, "É", 1);
    short_check(&f, acct, "Él", 1);
    short_check(&f, acct, "él", 0); /* only ASCII is lowered: É stays É */
    short_check(&f, acct, "zo", 1);
    short_check(&f, acct, "+8", -1);
    short_check(&f, acct, "@", 4);
    short_check(&f, acct, " ", 2);
    short_check(&f, acct, "\"", 0);
    short_check(&f, acct, "#", 0);
    /* renamed: found by its new name only; deleted: found no more */
    struct cc_contact_input in;
    memset(&in, 0, sizeof in);
    in.present = CC_F_NAME;
    in.name = "王五";
    struct cc_contact *ct = cc_malloc(sizeof *ct);
    struct cc_error err;
    assert_int_equal(cc_contact_update(f.svc, &admin, wang, &in, -1, ct, &err), CC_OK);
    cc_free(ct);
    short_check(&f, acct, "王伟", 0);
    short_check(&f, acct, "伟", 0);
    short_check(&f, acct, "王五", 1);
    short_check(&f, acct, "王", 2);
    struct cc_contact_use use;
    assert_int_equal(cc_contact_delete(f.svc, &admin, li, &use, &err), CC_OK);
    cc_contact_use_free(&use);
    short_check(&f, acct, "li", 0);
    short_check(&f, acct, "ei", 1);
    /* a second account: each finds its own (each match checked for its account) */
    int64_t other = 0;
    assert_int_equal(cc_store_write(f.store, svc_fixture_other_account_tx, &other, &err), CC_OK);
    struct cc_caller them = admin;
    them.account_id = other;
    int64_t theirs = short_contact(&f, &them, "王伟", NULL, "+86 13800000002");
    short_check(&f, acct, "王伟", 0);
    short_check(&f, acct, "王", 2);
    short_check(&f, acct, "a", -1);
    short_check(&f, other, "王", 1);
    assert_int_equal(short_check(&f, other, "王伟", 1), 1);
    struct cc_contact_page p;
    assert_int_equal(svc_fixture_search(&f, other, "伟", 10, 0, &p), CC_OK);
    assert_int_equal(p.n, 1);
    assert_int_equal(p.items[0].id, theirs);
    cc_contact_page_free(&p);
    short_check(&f, other, "a", 0);
    cc_store_thread_done(f.store);
    assert_int_equal(svc_fixture_close(&f), 0);
}

/* ---- the search index queue (SQLite) --------------------------------------------
 * The writer applies contacts_fts_queue in runs (sqlite_writer.c): without a
 * search, a moment after the last write; before a keyword search that finds
 * it not empty, at once; and after a start, what the last process left. A
 * change queued by another connection (by hand) is learnt the same ways. */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hot_writes),
        cmocka_unit_test(test_search_index_and_count),
        cmocka_unit_test(test_search_short_keywords),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
