/*
 * test_outbox_claims.c — two stores open on the same database (two
 * dispatcher instances) claim disjoint sets of due notifications, in the
 * claim's order, and an expired lease is claimed again by the other one.
 * Runs on SQLite (two cc_store_open on one file) and, with CC_TEST_PG, on
 * PostgreSQL, where one instance also claims while the other's claiming
 * transaction still holds its rows (FOR UPDATE SKIP LOCKED).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>

#include "service/service_int.h"
#include "service_fixture.h"

#define ROWS 40
#define MAX_CLAIM 8

struct seed {
    int64_t account_id, now;
};

/* An event of `rows` mobile notifications for contacts 1.., keyed
 * "<prefix>-<i>", written as an event's own write does (events.c: its
 * notifications' range kept on it). Each is due at now - 1000, less i more
 * when staggered (due in the reverse order of their ids: a claim orders by
 * due time); the first `leased` are in instance-b's hand, due when their
 * lease runs out. */
struct seed_spec {
    int64_t account_id, now;
    const char *data, *prefix;
    int rows, staggered, leased;
};

static enum cc_err seed_event(struct cc_tx *tx, const struct seed_spec *sp, struct cc_error *err)
{
    struct cc_event e = {.account_id = sp->account_id, .created_at = sp->now, .skipped = "[]"};
    cc_strlcpy(e.type, "certificate.expiring", sizeof e.type);
    e.data = (char *)sp->data;
    enum cc_err rc = cc_tx_event_insert(tx, &e, err);
    for (int i = 0; !rc && i < sp->rows; i++) {
        struct cc_notification n;
        memset(&n, 0, sizeof n);
        n.account_id = sp->account_id;
        n.event_id = e.id;
        n.contact_id = 1 + i;
        cc_strlcpy(n.channel, "mobile", sizeof n.channel);
        cc_strlcpy(n.target, "138****0000", sizeof n.target);
        cc_strlcpy(n.status, "pending", sizeof n.status);
        n.next_attempt_at = sp->now - 1000 - (sp->staggered ? i : 0);
        n.created_at = sp->now;
        snprintf(n.key, sizeof n.key, "%s-%d", sp->prefix, i);
        if (i < sp->leased)
            n.lease_until = n.next_attempt_at = sp->now + 60000;
        rc = cc_tx_notif_insert(tx, &n, 1, i < sp->leased ? "instance-b" : NULL, err);
        if (!e.first_notification_id)
            e.first_notification_id = n.id;
        e.last_notification_id = n.id;
    }
    return rc ? rc : cc_tx_event_set_skipped(tx, &e, err);
}

static enum cc_err seed_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    const struct seed *s = arg;
    struct seed_spec sp = {s->account_id, s->now, "{\"domains\":[\"a.example\",\"b.example\"]}",
                           "claims", ROWS, 1, 0};
    return seed_event(tx, &sp, err);
}

/* An event written as seed_event makes it, from a struct seed_spec. */
static enum cc_err spec_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    return seed_event(tx, arg, err);
}

struct claim {
    const char *owner;
    int64_t now, lease_ms;
    size_t max, n;
    struct cc_notification out[ROWS];
    struct cc_store *other;     /* claim on it too, inside this claim's first run */
    struct claim *nested;
};

static enum cc_err claim_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct claim *c = arg;
    enum cc_err rc = cc_tx_notif_claim(tx, c->owner, c->now, c->lease_ms, c->max, c->out, &c->n,
                                       err);
    /* Only in the first run: PostgreSQL's SERIALIZABLE sees the two claims
     * conflict and runs this one again, after the other has committed. */
    struct cc_store *other = c->other;
    c->other = NULL;
    if (!rc && other)
        rc = cc_store_write(other, claim_tx, c->nested, err);
    return rc;
}

static void claim(struct cc_store *s, struct claim *c, const char *owner, int64_t now,
                  int64_t lease_ms, size_t max)
{
    c->owner = owner;
    c->now = now;
    c->lease_ms = lease_ms;
    c->max = max;
    struct cc_error err;
    assert_int_equal(cc_store_write(s, claim_tx, c, &err), CC_OK);
}

static int has(const struct claim *c, int64_t id)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->out[i].id == id)
            return 1;
    return 0;
}

/* No id of a in b, and a's rows in the claim's order (next_attempt_at, id). */
static void assert_disjoint_ordered(const struct claim *a, const struct claim *b)
{
    for (size_t i = 0; i < a->n; i++) {
        assert_false(has(b, a->out[i].id));
        assert_string_equal(a->out[i].status, "pending");
        assert_int_equal(a->out[i].lease_until, a->now + a->lease_ms);
        if (i)
            assert_true(a->out[i - 1].next_attempt_at < a->out[i].next_attempt_at);
    }
}

struct two {
    struct svc_fixture f;
    struct cc_store *second;
    int64_t now;
};

static int setup(void **state)
{
    struct two *t = cc_calloc(1, sizeof *t);
    if (svc_fixture_open(&t->f, 0))
        return -1;
    struct cc_store_config sc = {.url = t->f.url, .busy_timeout_ms = 5000, .max_batch = 256};
    struct cc_error err;
    if (cc_store_open(&sc, &t->second, &err))
        return -1;
    t->now = cc_now_ms();
    struct seed s = {t->f.first.account_id, t->now};
    if (cc_store_write(t->f.store, seed_tx, &s, &err))
        return -1;
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct two *t = *state;
    cc_store_close(t->second);
    int rc = svc_fixture_close(&t->f);
    cc_free(t);
    return rc;
}

static void two_stores_claim_disjoint(void **state)
{
    struct two *t = *state;
    struct claim *a = cc_calloc(1, sizeof *a), *b = cc_calloc(1, sizeof *b);
    claim(t->f.store, a, "instance-a", t->now, 60000, MAX_CLAIM);
    claim(t->second, b, "instance-b", t->now, 60000, MAX_CLAIM);
    assert_int_equal(a->n, MAX_CLAIM);
    assert_int_equal(b->n, MAX_CLAIM);
    assert_disjoint_ordered(a, b);
    assert_disjoint_ordered(b, a);
    /* the most overdue first: the highest ids */
    assert_int_equal(a->out[0].contact_id, ROWS);
    /* the rest, then nothing: every row is leased once */
    struct claim *rest = cc_calloc(1, sizeof *rest);
    claim(t->second, rest, "instance-b", t->now, 60000, ROWS);
    assert_int_equal(rest->n, ROWS - 2 * MAX_CLAIM);
    assert_disjoint_ordered(rest, a);
    assert_disjoint_ordered(rest, b);
    claim(t->f.store, rest, "instance-a", t->now, 60000, ROWS);
    assert_int_equal(rest->n, 0);
    int64_t due = -1;
    struct cc_error err;
    assert_int_equal(cc_store_notif_next_due(t->f.store, &due, &err), CC_OK);
    assert_int_equal(due, t->now + 60000);
    cc_free(a);
    cc_free(b);
    cc_free(rest);
}

static void expired_lease_reclaimed(void **state)
{
    struct two *t = *state;
    struct claim *a = cc_calloc(1, sizeof *a), *b = cc_calloc(1, sizeof *b);
    claim(t->f.store, a, "instance-a", t->now, 1000, MAX_CLAIM);
    assert_int_equal(a->n, MAX_CLAIM);
    /* while it lasts, the other instance gets other rows */
    claim(t->second, b, "instance-b", t->now + 999, 1000, MAX_CLAIM);
    assert_int_equal(b->n, MAX_CLAIM);
    assert_disjoint_ordered(b, a);
    /* once both have run out, the due rows come back, a's included, to anyone */
    struct claim *again = cc_calloc(1, sizeof *again);
    claim(t->second, again, "instance-b", t->now + 5000, 1000, ROWS);
    assert_int_equal(again->n, ROWS);
    for (size_t i = 0; i < a->n; i++)
        assert_true(has(again, a->out[i].id));
    cc_free(a);
    cc_free(b);
    cc_free(again);
}

/* PostgreSQL: the second instance claims while the first's claiming
 * transaction is still open (its rows locked, its leases not committed): it
 * skips them instead of waiting, and gets the next ones. SQLite has one writer. */
static void claim_skips_locked_rows(void **state)
{
    struct two *t = *state;
    if (!t->f.pg_db[0])
        skip(); /* SQLite: one write transaction at a time, nothing to skip */
    struct claim *a = cc_calloc(1, sizeof *a), *b = cc_calloc(1, sizeof *b);
    a->other = t->second;
    a->nested = b;
    b->owner = "instance-b";
    b->now = t->now;
    b->lease_ms = 60000;
    b->max = MAX_CLAIM;
    claim(t->f.store, a, "instance-a", t->now, 60000, MAX_CLAIM);
    assert_int_equal(a->n, MAX_CLAIM);
    assert_int_equal(b->n, MAX_CLAIM);
    assert_disjoint_ordered(a, b);
    assert_disjoint_ordered(b, a);
    /* b took the next due rows after a's locked ones: it skipped them, not waited */
    assert_int_equal(b->out[0].contact_id, ROWS - MAX_CLAIM);
    cc_free(a);
    cc_free(b);
}

struct record {
    struct cc_notification n;
    struct cc_attempt a;
    const char *owner;
    int64_t purged;
};

static enum cc_err record_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct record *r = arg;
    return cc_tx_notif_record(tx, &r->n, &r->a, r->owner, err);
}

static enum cc_err resend_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct record *r = arg;
    return cc_tx_notif_resend(tx, r->n.account_id, r->n.id, r->n.updated_at, err);
}

static enum cc_err purge_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct record *r = arg;
    return cc_tx_notif_purge(tx, r->n.updated_at, &r->purged, err);
}

/* A claimed notification recorded with its attempt, read back through the
 * delivery log (its event's domains joined), sent again, then purged. */
static void delivery_log_roundtrip(void **state)
{
    struct two *t = *state;
    struct claim *a = cc_calloc(1, sizeof *a);
    claim(t->second, a, "instance-b", t->now, 60000, 1);
    assert_int_equal(a->n, 1);
    struct record *r = cc_calloc(1, sizeof *r);
    r->n = a->out[0];
    cc_strlcpy(r->n.status, "failed", sizeof r->n.status);
    cc_strlcpy(r->n.last_error, "refused", sizeof r->n.last_error);
    r->n.attempts = 1;
    r->n.updated_at = t->now + 10;
    r->a.started_at = t->now + 5;
    r->a.latency_ms = 5;
    cc_strlcpy(r->a.outcome, "failed", sizeof r->a.outcome);
    r->a.http_status = 500;
    cc_strlcpy(r->a.reason, "refused", sizeof r->a.reason);
    struct cc_error err;
    /* an instance whose lease passed to instance-b records its attempt, not
     * the outcome: the notification is b's */
    r->owner = "instance-a";
    assert_int_equal(cc_store_write(t->f.store, record_tx, r, &err), CC_OK);
    struct cc_notification *got = cc_calloc(1, sizeof *got);
    assert_int_equal(cc_store_notif_get(t->f.store, r->n.account_id, r->n.id, got, &err), CC_OK);
    assert_string_equal(got->status, "pending");
    assert_true(got->lease_until > 0);
    struct cc_attempt *at = NULL;
    size_t na = 0;
    assert_int_equal(cc_store_attempts_list(t->f.store, r->n.id, &at, &na, &err), CC_OK);
    assert_int_equal(na, 1);
    cc_free(at);
    at = NULL;
    r->owner = "instance-b";
    assert_int_equal(cc_store_write(t->f.store, record_tx, r, &err), CC_OK);

    assert_int_equal(cc_store_notif_get(t->f.store, r->n.account_id, r->n.id, got, &err), CC_OK);
    assert_string_equal(got->status, "failed");
    assert_string_equal(got->last_error, "refused");
    assert_string_equal(got->domain, "a.example, b.example");
    assert_string_equal(got->event_type, "certificate.expiring");
    assert_int_equal(got->lease_until, 0);
    assert_int_equal(cc_store_notif_get(t->f.store, r->n.account_id, -1, got, &err),
                     CC_ERR_NOT_FOUND);
    cc_free(got);

    assert_int_equal(cc_store_attempts_list(t->f.store, r->n.id, &at, &na, &err), CC_OK);
    assert_int_equal(na, 2);
    assert_int_equal(at[0].http_status, 500);
    assert_string_equal(at[0].reason, "refused");
    cc_free(at);

    struct cc_notif_filter f = {.account_id = r->n.account_id, .status = "failed", .page = 1,
                                .page_size = 10};
    struct cc_notification *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(cc_store_notif_list(t->f.store, &f, &list, &n, &total, &err), CC_OK);
    assert_int_equal(total, 1);
    assert_int_equal(n, 1);
    assert_int_equal(list[0].id, r->n.id);
    cc_free(list);
    f.status = NULL;
    f.channel = "mobile";
    f.page = 2;
    assert_int_equal(cc_store_notif_list(t->f.store, &f, &list, &n, &total, &err), CC_OK);
    assert_int_equal(total, ROWS);
    assert_int_equal(n, 10);
    assert_true(list[0].id > list[1].id);
    cc_free(list);

    /* purged once finished and old; sent again first, it is pending and stays */
    r->purged = -1;
    r->n.updated_at = t->now + 20;
    assert_int_equal(cc_store_write(t->f.store, resend_tx, r, &err), CC_OK);
    assert_int_equal(cc_store_write(t->f.store, resend_tx, r, &err), CC_ERR_NOT_FOUND);
    r->n.updated_at = t->now + 1000;
    assert_int_equal(cc_store_write(t->f.store, purge_tx, r, &err), CC_OK);
    assert_int_equal(r->purged, 0);
    cc_strlcpy(r->n.status, "delivered", sizeof r->n.status);
    r->n.last_error[0] = '\0';
    r->owner = NULL; /* not claimed again: recorded as by anyone */
    assert_int_equal(cc_store_write(t->f.store, record_tx, r, &err), CC_OK);
    r->n.updated_at = t->now + 1001;
    assert_int_equal(cc_store_write(t->f.store, purge_tx, r, &err), CC_OK);
    assert_int_equal(r->purged, 1);
    cc_free(a);
    cc_free(r);
}

struct misc {
    int pg;                     /* the duplicate key is tried on PostgreSQL only */
    int64_t account_id, now, event_id, dup_id, cancelled_contact;
    struct cc_test_send_counts counts;
};

static enum cc_err misc_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct misc *m = arg;
    struct cc_event e = {.id = m->event_id, .skipped = "[{\"channel\":\"email\"}]"};
    enum cc_err rc = cc_tx_event_set_skipped(tx, &e, err);
    struct cc_notification n;
    memset(&n, 0, sizeof n);
    n.account_id = m->account_id;
    n.event_id = m->event_id;
    n.contact_id = 1;
    cc_strlcpy(n.channel, "mobile", sizeof n.channel);
    cc_strlcpy(n.status, "pending", sizeof n.status);
    cc_strlcpy(n.key, "claims-0", sizeof n.key); /* taken: nothing inserted */
    n.id = -1;
    if (!rc && m->pg)
        rc = cc_tx_notif_insert(tx, &n, 1, NULL, err);
    m->dup_id = n.id;
    if (!rc)
        rc = cc_tx_notif_cancel_contact(tx, m->account_id, m->cancelled_contact, m->now, err);
    if (!rc)
        rc = cc_tx_test_send_record(tx, m->account_id, "contact:1", m->now - 10, err);
    if (!rc)
        rc = cc_tx_test_send_record(tx, m->account_id, "contact:2", m->now, err);
    if (!rc)
        rc = cc_tx_test_send_counts(tx, m->account_id, "contact:1", m->now - 100, &m->counts, err);
    return rc;
}

/* The event read back with its skipped channels, a duplicate key inserting
 * nothing (PostgreSQL), a contact's pending notifications cancelled, test
 * sends counted. */
static void events_cancel_and_test_sends(void **state)
{
    struct two *t = *state;
    struct claim *a = cc_calloc(1, sizeof *a);
    claim(t->f.store, a, "instance-a", t->now, 60000, 1);
    assert_int_equal(a->n, 1);
    struct misc m = {.pg = t->f.pg_db[0] != '\0', .account_id = t->f.first.account_id,
                     .now = t->now,
                     .event_id = a->out[0].event_id, .cancelled_contact = a->out[0].contact_id};
    struct cc_error err;
    assert_int_equal(cc_store_write(t->f.store, misc_tx, &m, &err), CC_OK);
    if (m.pg) /* SQLite leaves a new key to the caller (events.c) */
        assert_int_equal(m.dup_id, 0);
    assert_int_equal(m.counts.account_n, 2);
    assert_int_equal(m.counts.account_oldest, t->now - 10);
    assert_int_equal(m.counts.subject_n, 1);
    assert_int_equal(m.counts.subject_oldest, t->now - 10);
    struct cc_event e;
    assert_int_equal(cc_store_event_get(t->f.store, m.account_id, m.event_id, &e, &err), CC_OK);
    assert_string_equal(e.type, "certificate.expiring");
    assert_string_equal(e.skipped, "[{\"channel\":\"email\"}]");
    assert_non_null(strstr(e.data, "a.example"));
    cc_event_free(&e);
    assert_int_equal(cc_store_event_get(t->f.store, m.account_id, m.event_id + 1, &e, &err),
                     CC_ERR_NOT_FOUND);
    struct cc_notification *n = cc_calloc(1, sizeof *n);
    assert_int_equal(cc_store_notif_get(t->f.store, m.account_id, a->out[0].id, n, &err), CC_OK);
    assert_string_equal(n->status, "cancelled");
    assert_string_equal(n->last_error, "the contact was deleted");
    assert_int_equal(n->lease_until, 0);
    cc_free(n);
    cc_free(a);
}

struct fresh {
    int64_t after, now;
    size_t n;
    struct cc_notification out[MAX_CLAIM];
};

static enum cc_err fresh_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct fresh *f = arg;
    return cc_tx_notif_claim_fresh(tx, "instance-a", &f->after, f->now, 60000, MAX_CLAIM,
                                   f->out, &f->n, err);
}

static void claim_fresh(struct cc_store *s, struct fresh *f)
{
    struct cc_error err;
    /* relaxed, as the dispatcher claims: a write like any other but for its fsync */
    assert_int_equal(cc_store_write_relaxed(s, fresh_tx, f, &err), CC_OK);
}

/* The events posted since the cursor each give their first due notification,
 * one an event, ahead of the older queue (setup's event of ROWS, all more
 * overdue); the cursor then passes them, and an event with nothing due is
 * passed too. */
static void fresh_events_start_first(void **state)
{
    struct two *t = *state;
    struct fresh *f = cc_calloc(1, sizeof *f);
    f->after = -1;
    f->now = t->now;
    claim_fresh(t->f.store, f); /* the first claim: only where the cursor starts */
    assert_int_equal(f->n, 0);
    int64_t start = f->after;
    assert_true(start > 0);
    struct cc_error err;
    static const char *const prefixes[] = {"fresh-0", "fresh-1", "fresh-2", "fresh-3"};
    for (int e = 0; e < 3; e++) { /* three more events of ROWS each */
        struct seed_spec sp = {t->f.first.account_id, t->now, "{\"domains\":[\"c.example\"]}",
                               prefixes[e], ROWS, 1, 0};
        assert_int_equal(cc_store_write(t->f.store, spec_tx, &sp, &err), CC_OK);
    }
    f->now = t->now;
    claim_fresh(t->f.store, f);
    assert_int_equal(f->n, 3);
    assert_int_equal(f->after, start + 3);
    for (size_t i = 0; i < f->n; i++) {
        assert_int_equal(f->out[i].event_id, start + 1 + (int64_t)i);
        assert_int_equal(f->out[i].lease_until, t->now + 60000);
        /* the event's lowest id, though its most overdue row is its last */
        assert_int_equal(f->out[i].contact_id, 1);
    }
    /* nothing new: nothing claimed, the cursor stays */
    claim_fresh(t->f.store, f);
    assert_int_equal(f->n, 0);
    assert_int_equal(f->after, start + 3);
    /* an event whose rows are not due yet is passed without a claim */
    struct seed_spec later = {t->f.first.account_id, t->now + 3600000,
                              "{\"domains\":[\"c.example\"]}", prefixes[3], ROWS, 1, 0};
    assert_int_equal(cc_store_write(t->f.store, spec_tx, &later, &err), CC_OK);
    claim_fresh(t->f.store, f);
    assert_int_equal(f->n, 0);
    assert_int_equal(f->after, start + 4);
    cc_free(f);
}

/* A fresh claim looks for an event's first due row among its first 16 only
 * (CC_NOTIF_FRESH_LAST): found when the 16th is the first not in a hand,
 * passed when it is the 17th, which the queue's order then takes. */
static void fresh_claim_looks_at_an_events_first_rows(void **state)
{
    struct two *t = *state;
    struct fresh *f = cc_calloc(1, sizeof *f);
    f->after = -1;
    f->now = t->now;
    claim_fresh(t->f.store, f);
    int64_t start = f->after;
    struct cc_error err;
    /* 20 rows each, the first 15 or 16 in another instance's hand */
    struct seed_spec in = {t->f.first.account_id, t->now, "{}", "window-15", 20, 0, 15};
    assert_int_equal(cc_store_write(t->f.store, spec_tx, &in, &err), CC_OK);
    struct seed_spec out = {t->f.first.account_id, t->now, "{}", "window-16", 20, 0, 16};
    assert_int_equal(cc_store_write(t->f.store, spec_tx, &out, &err), CC_OK);
    claim_fresh(t->f.store, f);
    assert_int_equal(f->n, 1);
    assert_int_equal(f->out[0].event_id, start + 1);
    assert_int_equal(f->out[0].contact_id, 16);
    assert_int_equal(f->after, start + 2); /* the second event passed */
    cc_free(f);
}

/* A contact with one robot: its id, or -1. */
static int64_t robot_contact(struct two *t, const struct cc_caller *admin, const char *mobile,
                             const char *url)
{
    struct cc_contact_input in;
    memset(&in, 0, sizeof in);
    in.present = CC_F_NAME | CC_F_MOBILE | CC_F_WEBHOOKS;
    in.name = mobile;
    in.mobile = mobile;
    in.n_webhooks = 1;
    in.webhooks[0].url = url;
    in.webhooks[0].mention_mobile = -1;
    struct cc_contact *c = cc_malloc(sizeof *c);
    struct cc_error err;
    int64_t id = cc_contact_create(t->f.svc, admin, &in, NULL, NULL, c, NULL, &err) ? -1 : c->id;
    cc_free(c);
    return id;
}

struct dest {
    int64_t account_id, except, now;
    struct cc_notification out[8];
    size_t n;
};

static enum cc_err dest_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct dest *d = arg;
    return cc_tx_notif_claim_dest(tx, "dest", d->account_id, NULL, d->except, d->now, 60000, 8,
                                  d->out, &d->n, err);
}

/* The robot notification of contact in event ev. */
static int64_t robot_notification(struct two *t, const struct cc_caller *admin, int64_t ev,
                                  int64_t contact)
{
    struct cc_notif_filter f = {.event_id = ev, .contact_id = contact, .channel = "webhook",
                                .page = 1, .page_size = 10};
    struct cc_notification *ns = NULL;
    size_t n = 0;
    int64_t total = 0, id = -1;
    struct cc_error err;
    if (cc_notification_list(t->f.svc, admin, &f, &ns, &n, &total, &err) == CC_OK && n == 1)
        id = ns[0].id;
    cc_free(ns);
    return id;
}

/* An event of type certificate.expiring for ids: its id. */
static int64_t expiring_event(struct two *t, const struct cc_caller *admin, const int64_t *ids,
                              size_t n)
{
    struct cc_event e;
    struct cc_error err;
    assert_int_equal(cc_event_create(t->f.svc, admin, "certificate.expiring", ids, n, NULL, &e,
                                     &err), CC_OK);
    int64_t id = e.id;
    cc_event_free(&e);
    return id;
}

/* Every notification of an event carries its idempotency key (the robots'
 * msgUuid, the receivers' way to drop a repeat): "e<event>-c<contact>-
 * <channel>-<robot>", with 0 for a channel without a robot. */
static void event_notifications_carry_their_keys(void **state)
{
    struct two *t = *state;
    struct cc_caller admin;
    svc_fixture_admin(&t->f, &admin);
    int64_t a = robot_contact(t, &admin, "13300000111",
                              "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=key-robot");
    assert_true(a > 0);
    int64_t ev = expiring_event(t, &admin, &a, 1);
    struct cc_notif_filter f = {.event_id = ev, .page = 1, .page_size = 10};
    struct cc_notification *ns = NULL;
    size_t n = 0;
    int64_t total = 0;
    struct cc_error err;
    assert_int_equal(cc_notification_list(t->f.svc, &admin, &f, &ns, &n, &total, &err), CC_OK);
    assert_int_equal(n, 3); /* email (skipped), mobile (skipped), the robot */
    for (size_t i = 0; i < n; i++) {
        char want[96];
        snprintf(want, sizeof want, "e%lld-c%lld-%s-%lld", (long long)ev, (long long)a,
                 ns[i].channel, (long long)ns[i].webhook_id);
        assert_string_equal(ns[i].key, want);
        assert_true(strcmp(ns[i].channel, "webhook") ? ns[i].webhook_id == 0
                                                     : ns[i].webhook_id > 0);
    }
    cc_free(ns);
}

/* What else waits for a claimed notification's robot: the other contact's
 * notification to the same robot URL, the same robot's notification of
 * another event; nothing for a robot of its own with nothing else waiting. */
static void claim_dest_finds_what_waits_for_the_robot(void **state)
{
    struct two *t = *state;
    struct cc_caller admin;
    svc_fixture_admin(&t->f, &admin);
    const char *shared = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=shared-robot";
    int64_t a = robot_contact(t, &admin, "13300000101", shared);
    int64_t b = robot_contact(t, &admin, "13300000102", shared);
    int64_t c = robot_contact(t, &admin, "13300000103",
                              "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=own-robot");
    assert_true(a > 0 && b > 0 && c > 0);
    int64_t ids[] = {a, b, c};
    struct cc_error err;
    int64_t ev = expiring_event(t, &admin, ids, 3);
    int64_t na = robot_notification(t, &admin, ev, a), nb = robot_notification(t, &admin, ev, b);
    int64_t nc = robot_notification(t, &admin, ev, c);
    assert_true(na > 0 && nb > 0 && nc > 0);

    struct dest d = {.account_id = t->f.first.account_id, .except = na, .now = cc_now_ms()};
    assert_int_equal(cc_store_write(t->f.store, dest_tx, &d, &err), CC_OK);
    assert_int_equal(d.n, 1); /* another robot row, the same URL */
    assert_int_equal(d.out[0].id, nb);

    d.except = nc;
    d.n = 0;
    d.now = cc_now_ms();
    assert_int_equal(cc_store_write(t->f.store, dest_tx, &d, &err), CC_OK);
    assert_int_equal(d.n, 0); /* its own robot, nothing else waiting */

    int64_t ev2 = expiring_event(t, &admin, &c, 1);
    int64_t nc2 = robot_notification(t, &admin, ev2, c);
    d.n = 0;
    d.now = cc_now_ms();
    assert_int_equal(cc_store_write(t->f.store, dest_tx, &d, &err), CC_OK);
    assert_int_equal(d.n, 1); /* the same robot row, another event */
    assert_int_equal(d.out[0].id, nc2);
}

struct born {
    int64_t account_id, now, ids[3];
};

struct twice {
    const struct cc_caller *caller;
    int64_t ids[3], event_id;
};

static enum cc_err twice_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct twice *w = arg;
    return svc_event_raise_tx(tx, w->caller, "certificate.expiring", w->ids, 3, "{}",
                              &w->event_id, err);
}

/* A contact named twice by one event (as only the service's own callers
 * could) gets its notifications once, and is in the skipped list once. */
static void event_names_a_contact_once(void **state)
{
    struct two *t = *state;
    struct cc_caller admin;
    svc_fixture_admin(&t->f, &admin);
    int64_t a = robot_contact(t, &admin, "13300000111",
                              "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=twice-a");
    int64_t b = robot_contact(t, &admin, "13300000112",
                              "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=twice-b");
    assert_true(a > 0 && b > 0);
    struct twice w = {&admin, {a, b, a}, 0};
    struct cc_error err;
    assert_int_equal(cc_store_write(t->f.store, twice_tx, &w, &err), CC_OK);
    struct cc_notif_filter f = {.event_id = w.event_id, .page = 1, .page_size = 20};
    struct cc_notification *ns = NULL;
    size_t n = 0;
    int64_t total = 0;
    assert_int_equal(cc_notification_list(t->f.svc, &admin, &f, &ns, &n, &total, &err), CC_OK);
    assert_int_equal(total, 6); /* each: its robot, and its email and mobile skipped */
    int by_a = 0;
    for (size_t i = 0; i < n; i++)
        by_a += ns[i].contact_id == a;
    assert_int_equal(by_a, 3);
    cc_free(ns);
    struct cc_event e;
    assert_int_equal(cc_event_get(t->f.svc, &admin, w.event_id, &e, &err), CC_OK);
    json_t *skipped = json_loads(e.skipped, 0, NULL);
    assert_non_null(skipped);
    assert_int_equal(json_array_size(skipped), 4);
    json_decref(skipped);
    cc_event_free(&e);
}

/* An event's notifications as cc_event_create writes them when the
 * dispatcher takes them in hand: two pending ones born leased to instance-a,
 * and a skipped one, never leased whatever the writer asks. */
static enum cc_err born_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct born *b = arg;
    struct cc_event e = {.account_id = b->account_id, .created_at = b->now};
    cc_strlcpy(e.type, "certificate.expiring", sizeof e.type);
    e.data = "{}";
    enum cc_err rc = cc_tx_event_insert(tx, &e, err);
    struct cc_notification *ns = cc_calloc(3, sizeof *ns);
    for (int i = 0; i < 3; i++) {
        struct cc_notification *n = &ns[i];
        n->account_id = b->account_id;
        n->event_id = e.id;
        n->contact_id = 100 + i;
        cc_strlcpy(n->channel, "mobile", sizeof n->channel);
        cc_strlcpy(n->target, "138****0000", sizeof n->target);
        cc_strlcpy(n->status, i == 2 ? "skipped" : "pending", sizeof n->status);
        if (i == 2)
            cc_strlcpy(n->last_error, "mobile number not verified", sizeof n->last_error);
        n->created_at = b->now;
        n->lease_until = b->now + 60000;
        /* as events.c makes one in hand: due when its lease runs out */
        n->next_attempt_at = i == 2 ? b->now : n->lease_until;
        snprintf(n->key, sizeof n->key, "born-%d", i);
    }
    if (!rc) /* the three in one insert, as an event writes a contact's */
        rc = cc_tx_notif_insert(tx, ns, 3, "instance-a", err);
    for (int i = 0; i < 3; i++)
        b->ids[i] = ns[i].id;
    cc_free(ns);
    return rc;
}

static enum cc_err cancel_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct born *b = arg;
    return cc_tx_notif_cancel_contact(tx, b->account_id, 100, b->now, err);
}

/* Notifications born leased: read back by their holder only, while the
 * lease lasts and while they are pending; no claim takes them until the
 * lease runs out, and then any claim does. */
static void born_leased_read_by_their_holder(void **state)
{
    struct two *t = *state;
    struct born b = {.account_id = t->f.first.account_id, .now = t->now};
    struct cc_error err;
    assert_int_equal(cc_store_write(t->f.store, born_tx, &b, &err), CC_OK);
    struct cc_notification *out = cc_calloc(3, sizeof *out);
    size_t got = 9;
    assert_int_equal(cc_store_notif_leased(t->f.store, "instance-a", b.ids, 3, t->now, out, &got,
                                           &err), CC_OK);
    assert_int_equal(got, 2); /* not the skipped one */
    assert_true(b.ids[0] > 0 && b.ids[1] == b.ids[0] + 1 && b.ids[2] == b.ids[1] + 1);
    assert_int_equal(out[0].id, b.ids[0]);
    assert_int_equal(out[0].contact_id, 100);
    assert_int_equal(out[1].contact_id, 101);
    assert_int_equal(out[1].id, b.ids[1]);
    assert_int_equal(out[0].lease_until, t->now + 60000);
    assert_string_equal(out[1].key, "born-1");
    assert_int_equal(cc_store_notif_leased(t->second, "instance-b", b.ids, 3, t->now, out, &got,
                                           &err), CC_OK);
    assert_int_equal(got, 0); /* another instance's */
    assert_int_equal(cc_store_notif_leased(t->f.store, "instance-a", b.ids, 3, t->now + 60000,
                                           out, &got, &err), CC_OK);
    assert_int_equal(got, 0); /* the lease has run out */

    /* setup's ROWS are all due: the claim takes them and not these two */
    struct claim *c = cc_calloc(1, sizeof *c);
    claim(t->second, c, "instance-b", t->now, 60000, ROWS);
    assert_int_equal(c->n, ROWS);
    assert_false(has(c, b.ids[0]) || has(c, b.ids[1]) || has(c, b.ids[2]));

    /* a contact deleted: its notification is no longer there to send */
    assert_int_equal(cc_store_write(t->f.store, cancel_tx, &b, &err), CC_OK);
    assert_int_equal(cc_store_notif_leased(t->f.store, "instance-a", b.ids, 3, t->now, out, &got,
                                           &err), CC_OK);
    assert_int_equal(got, 1);
    assert_int_equal(out[0].id, b.ids[1]);

    /* once the lease has run out, a claim takes what is still pending: after
     * setup's rows (more overdue, their leases run out too) */
    claim(t->second, c, "instance-b", t->now + 60000, 60000, ROWS);
    assert_int_equal(c->n, ROWS);
    claim(t->second, c, "instance-b", t->now + 60000, 60000, ROWS);
    assert_int_equal(c->n, 1);
    assert_true(has(c, b.ids[1]));
    assert_false(has(c, b.ids[0]) || has(c, b.ids[2]));
    cc_free(c);
    cc_free(out);
}

static enum cc_err release_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    int64_t *released = arg;
    return cc_tx_notif_release_leases(tx, "instance-a", released, err);
}

/* The next start releases what its previous run held in hand: due at once,
 * as the event made them, not when the lease would have run out. */
static void born_leased_released_due_at_once(void **state)
{
    struct two *t = *state;
    struct born b = {.account_id = t->f.first.account_id, .now = t->now};
    struct cc_error err;
    assert_int_equal(cc_store_write(t->f.store, born_tx, &b, &err), CC_OK);
    int64_t released = 0;
    assert_int_equal(cc_store_write(t->f.store, release_tx, &released, &err), CC_OK);
    assert_int_equal(released, 2);
    struct cc_notification *n = cc_calloc(1, sizeof *n);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(cc_store_notif_get(t->f.store, b.account_id, b.ids[i], n, &err), CC_OK);
        assert_int_equal(n->next_attempt_at, t->now);
        assert_int_equal(n->lease_until, 0);
    }
    cc_free(n);
    /* setup's ROWS first (more overdue), then these two */
    struct claim *c = cc_calloc(1, sizeof *c);
    claim(t->second, c, "instance-b", t->now, 60000, ROWS);
    claim(t->second, c, "instance-b", t->now, 60000, ROWS);
    assert_int_equal(c->n, 2);
    assert_true(has(c, b.ids[0]) && has(c, b.ids[1]));
    cc_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(two_stores_claim_disjoint, setup, teardown),
        cmocka_unit_test_setup_teardown(expired_lease_reclaimed, setup, teardown),
        cmocka_unit_test_setup_teardown(claim_skips_locked_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(delivery_log_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(events_cancel_and_test_sends, setup, teardown),
        cmocka_unit_test_setup_teardown(fresh_events_start_first, setup, teardown),
        cmocka_unit_test_setup_teardown(fresh_claim_looks_at_an_events_first_rows, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(event_names_a_contact_once, setup, teardown),
        cmocka_unit_test_setup_teardown(event_notifications_carry_their_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(claim_dest_finds_what_waits_for_the_robot, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(born_leased_read_by_their_holder, setup, teardown),
        cmocka_unit_test_setup_teardown(born_leased_released_due_at_once, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
