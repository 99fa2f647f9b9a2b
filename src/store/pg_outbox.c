/*
 * pg_outbox.c — the PostgreSQL side of events, the notification outbox and
 * the delivery log, statement for statement as sqlite_outbox.c. Several
 * instances share one database here, so a claim takes its rows with
 * FOR UPDATE SKIP LOCKED inside the claiming UPDATE (two dispatchers never
 * wait on, nor claim, each other's rows) and leases them in the same
 * statement; an expired lease is reclaimable by anyone, as on SQLite.
 */
#include <assert.h>
#include <string.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

/* CC_NOTIF_COLS of notifications n, then its event's type, the domains its data
 * names (an array joined with ", ", or a single string) and the contact's name.
 * SQLite's json_each/json_extract become jsonb functions on the event's data. */
#define NOTIF_EVENT_COLS                                                                \
    "n.id, n.account_id, n.event_id, n.contact_id, n.webhook_id, n.channel, n.target, " \
    "n.status, n.attempts, n.next_attempt_at, n.lease_until, coalesce(n.last_error, ''), " \
    "n.idempotency_key, n.created_at, n.updated_at, e.type, coalesce((SELECT "           \
    "string_agg(j.v, ', ' ORDER BY j.o) FROM jsonb_array_elements_text(CASE "            \
    "jsonb_typeof(x.d -> 'domains') WHEN 'array' THEN x.d -> 'domains' END) "            \
    "WITH ORDINALITY j(v, o)), CASE WHEN jsonb_typeof(x.d -> 'domains') IN ('string', "   \
    "'number', 'boolean') THEN x.d ->> 'domains' END, x.d ->> 'domain', ''), "            \
    "coalesce(c.name, '')"
#define NOTIF_EVENT_FROM                                                                 \
    " FROM notifications n JOIN events e ON e.id = n.event_id LEFT JOIN contacts c ON "   \
    "c.id = n.contact_id AND c.account_id = n.account_id CROSS JOIN LATERAL "            \
    "(SELECT e.data::jsonb AS d) x "

static const char sql_event_insert[] =
    "INSERT INTO events(account_id, type, data, skipped, created_at) VALUES ($1, $2, $3, $4, $5) "
    "RETURNING id";
static const char sql_event_get[] =
    "SELECT id, account_id, type, data, skipped, created_at FROM events "
    "WHERE account_id = $1 AND id = $2";
static const char sql_notif_insert[] =
    "INSERT INTO notifications(account_id, event_id, contact_id, webhook_id, channel, target, "
    "status, attempts, next_attempt_at, idempotency_key, created_at, updated_at, last_error, "
    "lease_until, lease_owner) "
    "VALUES ($1, $2, $3, $4, $5, $6, $10, 0, $7, $8, $9, $9, nullif($11::text, ''), $12, $13) "
    "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id";
/* SQLite reads the due rows, then leases them one by one in its single-writer
 * transaction. Here the rows are picked, locked (skipping those another
 * instance is claiming right now) and leased in one statement; the outer
 * SELECT gives them back in the claim's order. */
static const char sql_notif_claim[] =
    "WITH u AS (UPDATE notifications SET lease_until = $3, lease_owner = $4 WHERE id IN "
    "(SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= $1 "
    "AND lease_until <= $1 ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED) "
    "RETURNING " CC_NOTIF_COLS ") SELECT * FROM u ORDER BY next_attempt_at, id";
/* The leases of owner itself (a process that used its id before). SQLite's
 * lock on the data directory lets it treat every other lease as a dead
 * process's; instances share this database, and a live one's lease must
 * stand, so only owner's own are released here (another instance's lease
 * is reclaimed by any claim once it runs out). */
static const char sql_release_leases[] =
    "UPDATE notifications SET lease_until = 0, lease_owner = '', next_attempt_at = CASE WHEN "
    "next_attempt_at = lease_until THEN created_at ELSE next_attempt_at END "
    "WHERE status = 'pending' AND lease_until > 0 AND lease_owner = $1";
static const char sql_notif_record[] =
    "UPDATE notifications SET status = $2, attempts = $3, next_attempt_at = $4, "
    "last_error = $5, lease_until = 0, lease_owner = '', updated_at = $6, "
    "target = coalesce($7, target) WHERE id = $1 AND ($8::text IS NULL OR lease_owner = $8)";
static const char sql_attempt_insert[] =
    "INSERT INTO delivery_attempts(notification_id, started_at, latency_ms, outcome, "
    "http_status, platform_code, platform_message, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char sql_cancel_contact[] =
    "UPDATE notifications SET status = 'cancelled', last_error = 'the contact was deleted', "
    "lease_until = 0, updated_at = $3 WHERE account_id = $1 AND contact_id = $2 "
    "AND status = 'pending'";
static const char sql_resend[] =
    "UPDATE notifications SET status = 'pending', next_attempt_at = $3, lease_until = 0, "
    "updated_at = $3 WHERE account_id = $1 AND id = $2 AND status NOT IN ('pending', 'skipped')";
static const char sql_notif_get[] =
    "SELECT " NOTIF_EVENT_COLS NOTIF_EVENT_FROM "WHERE n.account_id = $1 AND n.id = $2";
/* Filters are optional: a NULL or 0 argument matches everything. */
#define NOTIF_FILTER                                                                      \
    "WHERE account_id = $1 AND ($2::bigint = 0 OR event_id = $2) AND "                    \
    "($3::bigint = 0 OR contact_id = $3) AND ($4::text IS NULL OR status = $4) AND "      \
    "($5::text IS NULL OR channel = $5) AND ($8::bigint = 0 OR status <> 'skipped')"
/* The page's ids from the filter alone (its indexes), then their events joined. */
static const char sql_notif_list[] =
    "SELECT " NOTIF_EVENT_COLS NOTIF_EVENT_FROM "WHERE n.id IN (SELECT id FROM notifications "
    NOTIF_FILTER " ORDER BY id DESC LIMIT $6 OFFSET $7) ORDER BY n.id DESC";
/* The same statement's parameters: $6 and $7 are only used by the list. */
static const char sql_notif_count[] =
    "SELECT count(*) FROM notifications " NOTIF_FILTER " AND $6::bigint = $6 AND $7::bigint = $7";
static const char sql_attempts_list[] =
    "SELECT id, notification_id, started_at, latency_ms, outcome, http_status, platform_code, "
    "platform_message, reason FROM delivery_attempts WHERE notification_id = $1 ORDER BY id "
    "LIMIT 100";
static const char sql_next_due[] =
    "SELECT min(GREATEST(next_attempt_at, lease_until)) FROM notifications "
    "WHERE status = 'pending'";

static void read_notif(const PGresult *r, int i, struct cc_notification *n)
{
    memset(n, 0, sizeof *n);
    n->id = cc_pg_get_i64(r, i, 0);
    n->account_id = cc_pg_get_i64(r, i, 1);
    n->event_id = cc_pg_get_i64(r, i, 2);
    n->contact_id = cc_pg_get_i64(r, i, 3);
    n->webhook_id = cc_pg_get_i64(r, i, 4);
    cc_pg_get_text(r, i, 5, n->channel, sizeof n->channel);
    cc_pg_get_text(r, i, 6, n->target, sizeof n->target);
    cc_pg_get_text(r, i, 7, n->status, sizeof n->status);
    n->attempts = cc_pg_get_i64(r, i, 8);
    n->next_attempt_at = cc_pg_get_i64(r, i, 9);
    n->lease_until = cc_pg_get_i64(r, i, 10);
    cc_pg_get_text(r, i, 11, n->last_error, sizeof n->last_error);
    cc_pg_get_text(r, i, 12, n->key, sizeof n->key);
    n->created_at = cc_pg_get_i64(r, i, 13);
    n->updated_at = cc_pg_get_i64(r, i, 14);
}

/* Column col as text in out; a longer one is cut on a character boundary and
 * ends with "…". */
static void col_text_cut(const PGresult *r, int row, int col, char *out, size_t outsz)
{
    static const char ellipsis[] = "\xe2\x80\xa6";
    const char *t = cc_pg_get_str(r, row, col);
    size_t len = strlen(t);
    assert(outsz > sizeof ellipsis);
    if (len < outsz) {
        memcpy(out, t, len + 1);
        return;
    }
    size_t cut = outsz - sizeof ellipsis;
    while (cut > 0 && ((unsigned char)t[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(out, t, cut);
    memcpy(out + cut, ellipsis, sizeof ellipsis);
}

/* A row of NOTIF_EVENT_COLS. */
static void read_notif_event(const PGresult *r, int i, struct cc_notification *n)
{
    read_notif(r, i, n);
    cc_pg_get_text(r, i, 15, n->event_type, sizeof n->event_type);
    col_text_cut(r, i, 16, n->domain, sizeof n->domain);
    cc_pg_get_text(r, i, 17, n->contact_name, sizeof n->contact_name);
}

static enum cc_err tx_event_insert(void *tx, struct cc_event *e, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, e->account_id);
    cc_pg_text(&p, e->type);
    cc_pg_text(&p, e->data ? e->data : "{}");
    cc_pg_text(&p, e->skipped ? e->skipped : "[]");
    cc_pg_i64(&p, e->created_at);
    return cc_pg_one_i64(c, sql_event_insert, &p, &e->id, "saving an event", err);
}

static enum cc_err tx_event_set_skipped(void *tx, const struct cc_event *e, struct cc_error *err)
{
    static const char sql[] = "UPDATE events SET skipped = $2, first_notification_id = $3, "
                              "last_notification_id = $4 WHERE id = $1";
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, e->id);
    cc_pg_text(&p, e->skipped ? e->skipped : "[]");
    cc_pg_i64(&p, e->first_notification_id);
    cc_pg_i64(&p, e->last_notification_id);
    return cc_pg_do(c, sql, &p, "saving an event", err);
}

static enum cc_err tx_channel_health(void *tx, int64_t account_id, int64_t contact_id,
                                     const char *channel, int64_t webhook_id, const char *reason,
                                     int64_t at, struct cc_error *err)
{
    /* Each statement takes only its own parameters (PostgreSQL refuses unused
     * ones; SQLite's "?2 = ?2" placeholders are not needed). */
    static const char sql_webhook[] =
        "UPDATE contact_webhooks SET broken_reason = $3, broken_at = $4 WHERE id = $2 AND "
        "contact_id = (SELECT id FROM contacts WHERE id = $1 AND account_id = $5)";
    static const char sql_email[] =
        "UPDATE contacts SET email_broken = $2 WHERE id = $1 AND account_id = $3";
    static const char sql_mobile[] =
        "UPDATE contacts SET mobile_broken = $2 WHERE id = $1 AND account_id = $3";
    struct pgc *c = tx;
    int hook = !strcmp(channel, "webhook"), email = !strcmp(channel, "email");
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, contact_id);
    if (hook) {
        cc_pg_i64(&p, webhook_id);
        cc_pg_text(&p, reason);
        if (reason)
            cc_pg_i64(&p, at);
        else
            cc_pg_null(&p);
    } else {
        cc_pg_text(&p, reason);
    }
    cc_pg_i64(&p, account_id);
    return cc_pg_do(c, hook ? sql_webhook : email ? sql_email : sql_mobile, &p,
                    "marking a channel", err);
}

static enum cc_err insert_one(struct pgc *c, struct cc_notification *n, const char *lease_owner,
                              struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, n->account_id);
    cc_pg_i64(&p, n->event_id);
    cc_pg_i64(&p, n->contact_id);
    cc_pg_i64(&p, n->webhook_id);
    cc_pg_text(&p, n->channel);
    cc_pg_text(&p, n->target);
    cc_pg_i64(&p, n->next_attempt_at);
    cc_pg_text(&p, n->key);
    cc_pg_i64(&p, n->created_at);
    /* only 'pending' (to be sent) or 'skipped' (kept to say why not) start a row */
    cc_pg_text(&p, strcmp(n->status, "skipped") ? "pending" : "skipped");
    cc_pg_text(&p, n->last_error);
    int leased = lease_owner && strcmp(n->status, "skipped") && n->lease_until > 0;
    cc_pg_i64(&p, leased ? n->lease_until : 0);
    cc_pg_text(&p, leased ? lease_owner : "");
    /* no row back: the key existed (ON CONFLICT DO NOTHING), n->id 0 */
    enum cc_err rc = cc_pg_one_i64(c, sql_notif_insert, &p, &n->id, "saving a notification", err);
    return rc == CC_ERR_NOT_FOUND ? CC_OK : rc;
}

static enum cc_err tx_notif_insert(void *tx, struct cc_notification *ns, size_t n,
                                   const char *lease_owner, struct cc_error *err)
{
    if (n < 1 || n > CC_NOTIF_INSERT_MAX)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "%zu notifications in one insert", n);
    enum cc_err rc = CC_OK;
    for (size_t i = 0; i < n && !rc; i++)
        rc = insert_one(tx, &ns[i], lease_owner, err);
    return rc;
}

/* Runs the claiming statement sql (its rows: CC_NOTIF_COLS, at most max) and reads
 * the notifications it leased into out. */
static enum cc_err claim_rows(struct pgc *c, const char *sql, const struct pgp *p, size_t max,
                              struct cc_notification *out, size_t *n, struct cc_error *err)
{
    PGresult *r = cc_pg_exec(c, sql, p, "claiming notifications", err);
    if (!r)
        return err ? err->code : CC_ERR_STORE;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < max; i++)
        read_notif(r, i, &out[(*n)++]);
    PQclear(r);
    return CC_OK;
}

static enum cc_err tx_notif_claim(void *tx, const char *owner, int64_t now, int64_t lease_ms,
                                  size_t max, struct cc_notification *out, size_t *n,
                                  struct cc_error *err)
{
    struct pgc *c = tx;
    *n = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, now);
    cc_pg_i64(&p, (int64_t)max);
    cc_pg_i64(&p, now + lease_ms);
    cc_pg_text(&p, owner);
    return claim_rows(c, sql_notif_claim, &p, max, out, n, err);
}

/* SQLite's sql_fresh_claim: the events after $1 (at most $2), for each its first due
 * notification among its first rows (CC_NOTIF_FRESH_LAST) not locked by another
 * claim (notifications_event), leased in the same statement. */
static const char sql_fresh_events[] =
    "SELECT coalesce(max(id), $1) FROM (SELECT id FROM events WHERE id > $1 ORDER BY id "
    "LIMIT $2) e";
static const char sql_fresh_claim[] =
    "WITH u AS (UPDATE notifications SET lease_until = $4, lease_owner = $5 WHERE id IN "
    "(SELECT f.id FROM (SELECT id FROM events WHERE id > $1 ORDER BY id LIMIT $2) e "
    "CROSS JOIN LATERAL (SELECT n.id FROM notifications n WHERE n.event_id = e.id AND "
    "n.id <= coalesce((SELECT m.id FROM notifications m WHERE m.event_id = e.id ORDER BY m.id "
    "OFFSET " CC_NOTIF_FRESH_LAST " LIMIT 1), 9223372036854775807) AND n.status = 'pending' AND "
    "n.next_attempt_at <= $3 AND n.lease_until <= $3 ORDER BY n.id "
    "LIMIT 1 FOR UPDATE SKIP LOCKED) f) RETURNING " CC_NOTIF_COLS ") SELECT * FROM u ORDER BY id";
static const char sql_newest_event[] = "SELECT coalesce(max(id), 0) FROM events";

static enum cc_err tx_notif_claim_fresh(void *tx, const char *owner, int64_t *after, int64_t now,
                                        int64_t lease_ms, size_t max,
                                        struct cc_notification *out, size_t *n,
                                        struct cc_error *err)
{
    struct pgc *c = tx;
    *n = 0;
    int64_t from = *after, last = 0;
    struct pgp p;
    cc_pg_params(&p);
    if (from >= 0) {
        cc_pg_i64(&p, from);
        cc_pg_i64(&p, (int64_t)max);
    }
    enum cc_err rc = cc_pg_one_i64(c, from < 0 ? sql_newest_event : sql_fresh_events, &p, &last,
                                   "claiming notifications", err);
    if (rc)
        return rc;
    *after = last;
    if (from < 0 || last == from)
        return CC_OK;
    cc_pg_i64(&p, now);
    cc_pg_i64(&p, now + lease_ms);
    cc_pg_text(&p, owner);
    return claim_rows(c, sql_fresh_claim, &p, max, out, n, err);
}

static enum cc_err tx_notif_claim_dest(void *tx, const char *owner, int64_t account_id,
                                       const char *url, int64_t except_id, int64_t now,
                                       int64_t lease_ms, size_t max, struct cc_notification *out,
                                       size_t *n, struct cc_error *err)
{
    /* robot URL → its webhook rows → their pending notifications, in id order
     * (SQLite's CROSS JOIN fixes that walk; PostgreSQL's planner finds it). */
    static const char sql[] =
        "WITH u AS (UPDATE notifications SET lease_until = $6, lease_owner = $7 WHERE id IN "
        "(SELECT n.id FROM contact_webhooks w JOIN notifications n ON n.webhook_id = w.id AND "
        "n.status = 'pending' WHERE w.url = $2 AND n.account_id = $1 AND n.channel = 'webhook' "
        "AND n.lease_until <= $3 AND n.id <> $4 AND (n.attempts = 0 OR n.next_attempt_at <= $3) "
        "ORDER BY n.id LIMIT $5 FOR UPDATE OF n SKIP LOCKED) RETURNING " CC_NOTIF_COLS
        ") SELECT * FROM u ORDER BY id";
    static const char sql_url[] =
        "SELECT w.url FROM notifications x JOIN contact_webhooks w ON w.id = x.webhook_id "
        "WHERE x.id = $1";
    struct pgc *c = tx;
    char robot[CC_URL_MAX + 1];
    *n = 0;
    struct pgp p;
    if (!url) { /* the robot of except_id */
        cc_pg_params(&p);
        cc_pg_i64(&p, except_id);
        PGresult *u = cc_pg_exec(c, sql_url, &p, "claiming notifications", err);
        if (!u)
            return err ? err->code : CC_ERR_STORE;
        int found = PQntuples(u) > 0;
        if (found)
            cc_pg_get_text(u, 0, 0, robot, sizeof robot);
        PQclear(u);
        if (!found)
            return CC_OK; /* no robot (any more): nothing waits for it */
        url = robot;
    }
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, url);
    cc_pg_i64(&p, now);
    cc_pg_i64(&p, except_id);
    cc_pg_i64(&p, (int64_t)max);
    cc_pg_i64(&p, now + lease_ms);
    cc_pg_text(&p, owner);
    return claim_rows(c, sql, &p, max, out, n, err);
}

static enum cc_err tx_notif_release_leases(void *tx, const char *owner, int64_t *released,
                                           struct cc_error *err)
{
    struct pgc *c = tx;
    *released = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, owner);
    return cc_pg_do_n(c, sql_release_leases, &p, released,
                      "releasing the leases of a previous process", err);
}

static enum cc_err tx_notif_record(void *tx, const struct cc_notification *n,
                                   const struct cc_attempt *a, const char *owner,
                                   struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, n->id);
    cc_pg_text(&p, n->status);
    cc_pg_i64(&p, n->attempts);
    cc_pg_i64(&p, n->next_attempt_at);
    cc_pg_text(&p, n->last_error[0] ? n->last_error : NULL);
    cc_pg_i64(&p, n->updated_at);
    cc_pg_text(&p, n->target[0] ? n->target : NULL);
    cc_pg_text(&p, owner);
    enum cc_err rc = cc_pg_do(c, sql_notif_record, &p, "recording a delivery", err);
    if (rc || !a)
        return rc;
    cc_pg_params(&p);
    cc_pg_i64(&p, n->id);
    cc_pg_i64(&p, a->started_at);
    cc_pg_i64(&p, a->latency_ms);
    cc_pg_text(&p, a->outcome);
    cc_pg_i64(&p, a->http_status);
    cc_pg_text(&p, a->platform_code);
    cc_pg_text(&p, a->platform_message);
    cc_pg_text(&p, a->reason);
    return cc_pg_do(c, sql_attempt_insert, &p, "recording an attempt", err);
}

static enum cc_err tx_notif_cancel_contact(void *tx, int64_t account_id, int64_t contact_id,
                                           int64_t now, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, contact_id);
    cc_pg_i64(&p, now);
    return cc_pg_do(c, sql_cancel_contact, &p, "cancelling notifications", err);
}

static enum cc_err tx_notif_resend(void *tx, int64_t account_id, int64_t id, int64_t now,
                                   struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    cc_pg_i64(&p, now);
    int64_t changed = 0;
    enum cc_err rc = cc_pg_do_n(c, sql_resend, &p, &changed, "resending a notification", err);
    if (!rc && changed == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL,
                            "No such notification, or it is still waiting to be sent.");
    return rc;
}

static enum cc_err read_event_get(void *impl, int64_t account_id, int64_t id, struct cc_event *out,
                                  struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    memset(out, 0, sizeof *out);
    enum cc_err rc;
    PGresult *r = cc_pg_exec(c, sql_event_get, &p, "reading an event", err);
    if (!r) {
        rc = err ? err->code : CC_ERR_STORE;
    } else if (PQntuples(r) == 0) {
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The event does not exist.");
    } else {
        out->id = cc_pg_get_i64(r, 0, 0);
        out->account_id = cc_pg_get_i64(r, 0, 1);
        cc_pg_get_text(r, 0, 2, out->type, sizeof out->type);
        out->data = cc_strdup(cc_pg_get_str(r, 0, 3));
        out->skipped = cc_strdup(cc_pg_get_str(r, 0, 4));
        out->created_at = cc_pg_get_i64(r, 0, 5);
        rc = CC_OK;
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

/* The filter's parameters $1..$8 of NOTIF_FILTER (both statements take $6 and
 * $7, the page). */
static void bind_filter(struct pgp *p, const struct cc_notif_filter *f)
{
    cc_pg_params(p);
    cc_pg_i64(p, f->account_id);
    cc_pg_i64(p, f->event_id);
    cc_pg_i64(p, f->contact_id);
    cc_pg_text(p, f->status);
    cc_pg_text(p, f->channel);
    cc_pg_i64(p, f->page_size);
    cc_pg_i64(p, (f->page - 1) * f->page_size);
    cc_pg_i64(p, f->without_skipped);
}

static enum cc_err read_notif_list(void *impl, const struct cc_notif_filter *f,
                                   struct cc_notification **out, size_t *n, int64_t *total,
                                   struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    *out = NULL;
    *n = 0;
    struct pgp p;
    bind_filter(&p, f);
    enum cc_err rc = cc_pg_one_i64(c, sql_notif_count, &p, total, "counting notifications", err);
    PGresult *r = NULL;
    if (!rc && !(r = cc_pg_exec(c, sql_notif_list, &p, "listing notifications", err)))
        rc = err ? err->code : CC_ERR_STORE;
    if (!rc) {
        struct cc_notification *items = cc_calloc((size_t)f->page_size, sizeof *items);
        int rows = PQntuples(r);
        for (int i = 0; i < rows && *n < (size_t)f->page_size; i++)
            read_notif_event(r, i, &items[(*n)++]);
        *out = items;
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_notif_get(void *impl, int64_t account_id, int64_t id,
                                  struct cc_notification *out, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    enum cc_err rc = CC_OK;
    PGresult *r = cc_pg_exec(c, sql_notif_get, &p, "reading a notification", err);
    if (!r)
        rc = err ? err->code : CC_ERR_STORE;
    else if (PQntuples(r) == 0)
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The notification does not exist.");
    else
        read_notif_event(r, 0, out);
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_attempts_list(void *impl, int64_t notification_id, struct cc_attempt **out,
                                      size_t *n, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, notification_id);
    *n = 0;
    enum cc_err rc = CC_OK;
    PGresult *r = cc_pg_exec(c, sql_attempts_list, &p, "listing attempts", err);
    if (!r) {
        rc = err ? err->code : CC_ERR_STORE;
    } else {
        int rows = PQntuples(r);
        struct cc_attempt *a = cc_calloc(rows > 8 ? (size_t)rows : 8, sizeof *a);
        for (int i = 0; i < rows; i++) {
            struct cc_attempt *x = &a[(*n)++];
            x->id = cc_pg_get_i64(r, i, 0);
            x->notification_id = cc_pg_get_i64(r, i, 1);
            x->started_at = cc_pg_get_i64(r, i, 2);
            x->latency_ms = cc_pg_get_i64(r, i, 3);
            cc_pg_get_text(r, i, 4, x->outcome, sizeof x->outcome);
            x->http_status = cc_pg_get_i64(r, i, 5);
            cc_pg_get_text(r, i, 6, x->platform_code, sizeof x->platform_code);
            cc_pg_get_text(r, i, 7, x->platform_message, sizeof x->platform_message);
            cc_pg_get_text(r, i, 8, x->reason, sizeof x->reason);
        }
        *out = a;
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_notif_leased(void *impl, const char *owner, const int64_t *ids, size_t n,
                                     int64_t now, struct cc_notification *out, size_t *got,
                                     struct cc_error *err)
{
    /* the ids as an array literal: one statement whatever n */
    static const char sql[] = "SELECT " CC_NOTIF_COLS " FROM notifications WHERE id = "
                              "ANY($1::bigint[]) AND status = 'pending' AND lease_owner = $2 "
                              "AND lease_until > $3 ORDER BY id";
    *got = 0;
    struct cc_buf list;
    cc_store_id_list(&list, ids, n, '{', '}');
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c) {
        cc_buf_free(&list);
        return CC_ERR_STORE;
    }
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, list.data);
    cc_pg_text(&p, owner);
    cc_pg_i64(&p, now);
    enum cc_err rc = claim_rows(c, sql, &p, n, out, got, err);
    cc_pg_release(c);
    cc_buf_free(&list);
    return rc;
}

static enum cc_err read_notif_next_due(void *impl, int64_t *at, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    /* min() of no rows is NULL: 0, as on SQLite */
    enum cc_err rc = cc_pg_one_i64(c, sql_next_due, NULL, at, "reading the outbox", err);
    cc_pg_release(c);
    return rc == CC_ERR_NOT_FOUND ? CC_OK : rc;
}

static enum cc_err read_notif_gauges(void *impl, int64_t now, int64_t *pending,
                                     int64_t *oldest_due_at, struct cc_error *err)
{
    static const char sql_pending[] =
        "SELECT count(*) FROM notifications WHERE status = 'pending'";
    static const char sql_oldest[] =
        "SELECT coalesce(min(next_attempt_at), 0) FROM notifications "
        "WHERE status = 'pending' AND next_attempt_at <= $1";
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, now);
    enum cc_err rc = cc_pg_one_i64(c, sql_pending, NULL, pending, "reading the outbox", err);
    if (rc == CC_OK)
        rc = cc_pg_one_i64(c, sql_oldest, &p, oldest_due_at, "reading the outbox", err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err tx_notif_purge(void *tx, int64_t before, int64_t *n, struct cc_error *err)
{
    static const char sql[] =
        "DELETE FROM notifications WHERE status <> 'pending' AND updated_at < $1";
    struct pgc *c = tx;
    *n = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, before);
    return cc_pg_do_n(c, sql, &p, n, "removing old notifications", err);
}

/* ---- test sends ------------------------------------------------------------------ */
static enum cc_err tx_test_send_counts(void *tx, int64_t account_id, const char *subject,
                                       int64_t since, struct cc_test_send_counts *out,
                                       struct cc_error *err)
{
    static const char sql[] =
        "SELECT count(*), coalesce(min(sent_at), 0), "
        "(SELECT count(*) FROM test_sends WHERE account_id = $1 AND subject = $2 AND "
        "sent_at >= $3), "
        "(SELECT coalesce(min(sent_at), 0) FROM test_sends WHERE account_id = $1 AND "
        "subject = $2 AND sent_at >= $3) "
        "FROM test_sends WHERE account_id = $1 AND sent_at >= $3";
    struct pgc *c = tx;
    memset(out, 0, sizeof *out);
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, subject);
    cc_pg_i64(&p, since);
    PGresult *r = cc_pg_exec(c, sql, &p, "counting test sends", err);
    if (!r)
        return err ? err->code : CC_ERR_STORE;
    if (PQntuples(r) == 1) {
        out->account_n = cc_pg_get_i64(r, 0, 0);
        out->account_oldest = cc_pg_get_i64(r, 0, 1);
        out->subject_n = cc_pg_get_i64(r, 0, 2);
        out->subject_oldest = cc_pg_get_i64(r, 0, 3);
    }
    PQclear(r);
    return CC_OK;
}

static enum cc_err tx_test_send_record(void *tx, int64_t account_id, const char *subject,
                                       int64_t at, struct cc_error *err)
{
    static const char sql_prune[] =
        "DELETE FROM test_sends WHERE account_id = $1 AND sent_at < $2";
    static const char sql_insert[] =
        "INSERT INTO test_sends(account_id, subject, sent_at) VALUES ($1, $2, $3)";
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, at - 86400000);
    enum cc_err rc = cc_pg_do(c, sql_prune, &p, "pruning test sends", err);
    if (rc)
        return rc;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, subject);
    cc_pg_i64(&p, at);
    return cc_pg_do(c, sql_insert, &p, "recording a test send", err);
}

const struct cc_store_outbox_ops cc_pg_outbox_ops = {CC_STORE_OUTBOX_OPS(CC_STORE_OP_INIT)};
