/*
 * sqlite_outbox.c — the SQLite side of events, the notification
 * outbox and the delivery log. Notifications are claimed with a lease that
 * names its holder (the dispatcher instance that claimed them), so the next
 * server on the data directory picks up a crashed one's work as it starts
 * (and a lease that is not finished runs out anyway), and finished with
 * their attempt in one transaction.
 */
#include <assert.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

/* CC_NOTIF_COLS of notifications n, then its event's type, the domains its data
 * names (an array joined with ", ", or a single string) and the contact's name. */
#define NOTIF_EVENT_COLS                                                                \
    "n.id, n.account_id, n.event_id, n.contact_id, n.webhook_id, n.channel, n.target, " \
    "n.status, n.attempts, n.next_attempt_at, n.lease_until, coalesce(n.last_error, ''), " \
    "n.idempotency_key, n.created_at, n.updated_at, e.type, coalesce((SELECT "           \
    "group_concat(j.value, ', ') FROM json_each(e.data, '$.domains') j), "               \
    "json_extract(e.data, '$.domain'), ''), coalesce(c.name, '')"
#define NOTIF_EVENT_FROM                                                                 \
    " FROM notifications n JOIN events e ON e.id = n.event_id LEFT JOIN contacts c ON "   \
    "c.id = n.contact_id AND c.account_id = n.account_id "


static const char sql_event_insert[] =
    "INSERT INTO events(account_id, type, data, skipped, created_at) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_event_get[] =
    "SELECT id, account_id, type, data, skipped, created_at FROM events "
    "WHERE account_id = ?1 AND id = ?2";
/* 1 to CC_NOTIF_INSERT_MAX rows in one statement (a contact's, from an
 * event's write): SQLite runs the rows of one statement with its cursors
 * opened once, where a statement a row opened and closed them each time.
 * Each row's NOTIF_ROW_PARAMS parameters, in order: account_id, event_id,
 * contact_id, webhook_id, channel, target, status, next_attempt_at,
 * idempotency_key, created_at, updated_at, last_error, lease_until,
 * lease_owner. */
#define NOTIF_INSERT                                                                        \
    "INSERT INTO notifications(account_id, event_id, contact_id, webhook_id, channel, target, " \
    "status, attempts, next_attempt_at, idempotency_key, created_at, updated_at, last_error, " \
    "lease_until, lease_owner) VALUES "
#define NOTIF_ROW_PARAMS 14
#define NOTIF_ROWS1 "(?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, nullif(?, ''), ?, ?)"
#define NOTIF_ROWS2 NOTIF_ROWS1 ", " NOTIF_ROWS1
#define NOTIF_ROWS3 NOTIF_ROWS2 ", " NOTIF_ROWS1
#define NOTIF_ROWS4 NOTIF_ROWS3 ", " NOTIF_ROWS1
#define NOTIF_ROWS5 NOTIF_ROWS4 ", " NOTIF_ROWS1
#define NOTIF_ROWS6 NOTIF_ROWS5 ", " NOTIF_ROWS1
#define NOTIF_ROWS7 NOTIF_ROWS6 ", " NOTIF_ROWS1
static const char *const sql_notif_insert[] = {
    NOTIF_INSERT NOTIF_ROWS1, NOTIF_INSERT NOTIF_ROWS2, NOTIF_INSERT NOTIF_ROWS3,
    NOTIF_INSERT NOTIF_ROWS4, NOTIF_INSERT NOTIF_ROWS5, NOTIF_INSERT NOTIF_ROWS6,
    NOTIF_INSERT NOTIF_ROWS7,
};
_Static_assert(sizeof sql_notif_insert / sizeof *sql_notif_insert == CC_NOTIF_INSERT_MAX,
               "a statement for each number of rows");
static const char sql_notif_claim[] =
    "SELECT " CC_NOTIF_COLS " FROM notifications WHERE status = 'pending' "
    "AND next_attempt_at <= ?1 AND lease_until <= ?1 ORDER BY next_attempt_at, id LIMIT ?2";
static const char sql_notif_lease[] =
    "UPDATE notifications SET lease_until = ?2, lease_owner = ?3 WHERE id = ?1";
/* On SQLite the data directory's lock lets one server run: before its first
 * claim every lease is a dead process's, whatever instance id it names (an
 * earlier run of this data directory's, or of a release that drew a new id
 * at each start). One born leased (due when its lease runs out) is due at
 * once, as it was made. */
static const char sql_release_leases[] =
    "UPDATE notifications SET lease_until = 0, lease_owner = '', next_attempt_at = CASE WHEN "
    "next_attempt_at = lease_until THEN created_at ELSE next_attempt_at END "
    "WHERE status = 'pending' AND lease_until > 0";
static const char sql_notif_record[] =
    "UPDATE notifications SET status = ?2, attempts = ?3, next_attempt_at = ?4, "
    "last_error = ?5, lease_until = 0, lease_owner = '', updated_at = ?6, target = coalesce(?7, target) "
    "WHERE id = ?1 AND (?8 IS NULL OR lease_owner = ?8)";
static const char sql_attempt_insert[] =
    "INSERT INTO delivery_attempts(notification_id, started_at, latency_ms, outcome, "
    "http_status, platform_code, platform_message, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char sql_cancel_contact[] =
    "UPDATE notifications SET status = 'cancelled', last_error = 'the contact was deleted', "
    "lease_until = 0, updated_at = ?3 WHERE account_id = ?1 AND contact_id = ?2 "
    "AND status = 'pending'";
static const char sql_resend[] =
    "UPDATE notifications SET status = 'pending', next_attempt_at = ?3, lease_until = 0, "
    "updated_at = ?3 WHERE account_id = ?1 AND id = ?2 AND status NOT IN ('pending', 'skipped')";
static const char sql_notif_get[] =
    "SELECT " NOTIF_EVENT_COLS NOTIF_EVENT_FROM "WHERE n.account_id = ?1 AND n.id = ?2";
/* Filters are optional: a NULL or 0 argument matches everything. */
#define NOTIF_FILTER                                                                  \
    "WHERE account_id = ?1 AND (?2 = 0 OR event_id = ?2) AND (?3 = 0 OR contact_id = ?3) " \
    "AND (?4 IS NULL OR status = ?4) AND (?5 IS NULL OR channel = ?5) "                   \
    "AND (?8 = 0 OR status <> 'skipped')"
/* The page's ids from the filter alone (its indexes), then their events joined. */
static const char sql_notif_list[] =
    "SELECT " NOTIF_EVENT_COLS NOTIF_EVENT_FROM "WHERE n.id IN (SELECT id FROM notifications "
    NOTIF_FILTER " ORDER BY id DESC LIMIT ?6 OFFSET ?7) ORDER BY n.id DESC";
static const char sql_notif_count[] = "SELECT count(*) FROM notifications " NOTIF_FILTER;
static const char sql_attempts_list[] =
    "SELECT id, notification_id, started_at, latency_ms, outcome, http_status, platform_code, "
    "platform_message, reason FROM delivery_attempts WHERE notification_id = ?1 ORDER BY id "
    "LIMIT 100";
static const char sql_next_due[] =
    "SELECT min(max(next_attempt_at, lease_until)) FROM notifications WHERE status = 'pending'";

static void read_notif(sqlite3_stmt *s, struct cc_notification *n)
{
    memset(n, 0, sizeof *n);
    n->id = sqlite3_column_int64(s, 0);
    n->account_id = sqlite3_column_int64(s, 1);
    n->event_id = sqlite3_column_int64(s, 2);
    n->contact_id = sqlite3_column_int64(s, 3);
    n->webhook_id = sqlite3_column_int64(s, 4);
    cc_sq_col_text(s, 5, n->channel, sizeof n->channel);
    cc_sq_col_text(s, 6, n->target, sizeof n->target);
    cc_sq_col_text(s, 7, n->status, sizeof n->status);
    n->attempts = sqlite3_column_int64(s, 8);
    n->next_attempt_at = sqlite3_column_int64(s, 9);
    n->lease_until = sqlite3_column_int64(s, 10);
    cc_sq_col_text(s, 11, n->last_error, sizeof n->last_error);
    cc_sq_col_text(s, 12, n->key, sizeof n->key);
    n->created_at = sqlite3_column_int64(s, 13);
    n->updated_at = sqlite3_column_int64(s, 14);
}

/* Column i as text in out; a longer one is cut on a character boundary and ends
 * with "…". */
static void col_text_cut(sqlite3_stmt *s, int i, char *out, size_t outsz)
{
    static const char ellipsis[] = "\xe2\x80\xa6";
    const char *t = (const char *)sqlite3_column_text(s, i);
    size_t len = t ? strlen(t) : 0;
    assert(outsz > sizeof ellipsis);
    if (len < outsz) {
        memcpy(out, t ? t : "", len + 1);
        return;
    }
    size_t cut = outsz - sizeof ellipsis;
    while (cut > 0 && ((unsigned char)t[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(out, t, cut);
    memcpy(out + cut, ellipsis, sizeof ellipsis);
}

/* A row of NOTIF_EVENT_COLS. */
static void read_notif_event(sqlite3_stmt *s, struct cc_notification *n)
{
    read_notif(s, n);
    cc_sq_col_text(s, 15, n->event_type, sizeof n->event_type);
    col_text_cut(s, 16, n->domain, sizeof n->domain);
    cc_sq_col_text(s, 17, n->contact_name, sizeof n->contact_name);
}

static enum cc_err tx_event_insert(void *tx, struct cc_event *e, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_event_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, e->account_id);
    sqlite3_bind_text(s, 2, e->type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, e->data ? e->data : "{}", -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, e->skipped ? e->skipped : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, e->created_at);
    enum cc_err rc = cc_sq_step_done(c, s, "saving an event", err);
    if (!rc)
        e->id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

static enum cc_err tx_event_set_skipped(void *tx, const struct cc_event *e, struct cc_error *err)
{
    static const char sql[] = "UPDATE events SET skipped = ?2, first_notification_id = ?3, "
                              "last_notification_id = ?4 WHERE id = ?1";
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, e->id);
    sqlite3_bind_text(s, 2, e->skipped ? e->skipped : "[]", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, e->first_notification_id);
    sqlite3_bind_int64(s, 4, e->last_notification_id);
    return cc_sq_step_done(c, s, "saving an event", err);
}

static enum cc_err tx_channel_health(void *tx, int64_t account_id, int64_t contact_id,
                                     const char *channel, int64_t webhook_id, const char *reason,
                                     int64_t at, struct cc_error *err)
{
    static const char sql_webhook[] =
        "UPDATE contact_webhooks SET broken_reason = ?3, broken_at = ?4 WHERE id = ?2 AND "
        "contact_id = (SELECT id FROM contacts WHERE id = ?1 AND account_id = ?5)";
    static const char sql_email[] =
        "UPDATE contacts SET email_broken = ?3 WHERE id = ?1 AND account_id = ?5 AND ?2 = ?2 "
        "AND ?4 = ?4";
    static const char sql_mobile[] =
        "UPDATE contacts SET mobile_broken = ?3 WHERE id = ?1 AND account_id = ?5 AND ?2 = ?2 "
        "AND ?4 = ?4";
    struct conn *c = tx;
    int hook = !strcmp(channel, "webhook"), email = !strcmp(channel, "email");
    sqlite3_stmt *s = cc_sq_stmt(c, hook ? sql_webhook : email ? sql_email : sql_mobile, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, contact_id);
    sqlite3_bind_int64(s, 2, webhook_id);
    if (reason)
        sqlite3_bind_text(s, 3, reason, -1, SQLITE_STATIC);
    if (reason)
        sqlite3_bind_int64(s, 4, at);
    sqlite3_bind_int64(s, 5, account_id);
    return cc_sq_step_done(c, s, "marking a channel", err);
}

static enum cc_err tx_notif_insert(void *tx, struct cc_notification *ns, size_t n,
                                   const char *lease_owner, struct cc_error *err)
{
    struct conn *c = tx;
    if (n < 1 || n > CC_NOTIF_INSERT_MAX)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "%zu notifications in one insert", n);
    sqlite3_stmt *s = cc_sq_stmt(c, sql_notif_insert[n - 1], err);
    if (!s)
        return CC_ERR_STORE;
    for (size_t i = 0; i < n; i++) {
        const struct cc_notification *x = &ns[i];
        int at = (int)i * NOTIF_ROW_PARAMS;
        /* only 'pending' (to be sent) or 'skipped' (kept to say why not) start a row */
        int skipped = !strcmp(x->status, "skipped");
        int leased = lease_owner && !skipped && x->lease_until > 0;
        sqlite3_bind_int64(s, at + 1, x->account_id);
        sqlite3_bind_int64(s, at + 2, x->event_id);
        sqlite3_bind_int64(s, at + 3, x->contact_id);
        sqlite3_bind_int64(s, at + 4, x->webhook_id);
        sqlite3_bind_text(s, at + 5, x->channel, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, at + 6, x->target, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, at + 7, skipped ? "skipped" : "pending", -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, at + 8, x->next_attempt_at);
        sqlite3_bind_text(s, at + 9, x->key, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, at + 10, x->created_at);
        sqlite3_bind_int64(s, at + 11, x->created_at);
        sqlite3_bind_text(s, at + 12, x->last_error, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, at + 13, leased ? x->lease_until : 0);
        sqlite3_bind_text(s, at + 14, leased ? lease_owner : "", -1, SQLITE_STATIC);
    }
    enum cc_err rc = cc_sq_step_done(c, s, "saving notifications", err);
    if (rc)
        return rc;
    /* The rows took ids in their order, each the largest in the table plus
     * one (no AUTOINCREMENT, no id given, one writer): the last is the
     * statement's last insert. */
    int64_t last = sqlite3_last_insert_rowid(c->db);
    for (size_t i = 0; i < n; i++)
        ns[i].id = last - (int64_t)(n - 1 - i);
    return CC_OK;
}

/* Marks the n claimed notifications as taken by owner until `until`. */
static enum cc_err lease(struct conn *c, const char *owner, struct cc_notification *out, size_t n,
                         int64_t until, struct cc_error *err)
{
    for (size_t i = 0; i < n; i++) {
        sqlite3_stmt *s = cc_sq_stmt(c, sql_notif_lease, err);
        if (!s)
            return CC_ERR_STORE;
        out[i].lease_until = until;
        sqlite3_bind_int64(s, 1, out[i].id);
        sqlite3_bind_int64(s, 2, until);
        sqlite3_bind_text(s, 3, owner, -1, SQLITE_STATIC);
        enum cc_err e = cc_sq_step_done(c, s, "leasing a notification", err);
        if (e)
            return e;
    }
    return CC_OK;
}

/* Reads up to max notifications from the bound statement s and leases them
 * to owner until `until`. */
static enum cc_err claim_rows(struct conn *c, sqlite3_stmt *s, const char *owner, size_t max,
                              int64_t until, struct cc_notification *out, size_t *n,
                              struct cc_error *err)
{
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
        read_notif(s, &out[(*n)++]);
    cc_sq_done(s);
    if (*n < max && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "claiming notifications");
    return lease(c, owner, out, *n, until, err);
}

static enum cc_err tx_notif_claim(void *tx, const char *owner, int64_t now, int64_t lease_ms,
                                  size_t max, struct cc_notification *out, size_t *n,
                                  struct cc_error *err)
{
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_notif_claim, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    return claim_rows(c, s, owner, max, now + lease_ms, out, n, err);
}

/* The events after ?1 (at most ?2) and, for each, its first due notification
 * among its first rows (CC_NOTIF_FRESH_LAST): the events' primary key, then
 * the notifications' from the event's first (an event's notifications are
 * written by one transaction of the one writer, so their ids follow one
 * another; the event keeps the range, migration 0032). */
static const char sql_fresh_events[] =
    "SELECT coalesce(max(id), ?1) FROM (SELECT id FROM events WHERE id > ?1 ORDER BY id "
    "LIMIT ?2)";
static const char sql_fresh_claim[] =
    "SELECT " CC_NOTIF_COLS " FROM notifications WHERE id IN (SELECT (SELECT n.id FROM "
    "notifications n WHERE n.id BETWEEN e.first_notification_id AND "
    "min(e.last_notification_id, e.first_notification_id + " CC_NOTIF_FRESH_LAST ") AND "
    "n.event_id = e.id AND n.status = 'pending' AND n.next_attempt_at <= ?3 AND "
    "n.lease_until <= ?3 ORDER BY n.id LIMIT 1) FROM events e WHERE e.id > ?1 ORDER BY e.id "
    "LIMIT ?2) ORDER BY id";
static const char sql_newest_event[] = "SELECT coalesce(max(id), 0) FROM events";

static enum cc_err tx_notif_claim_fresh(void *tx, const char *owner, int64_t *after, int64_t now,
                                        int64_t lease_ms, size_t max,
                                        struct cc_notification *out, size_t *n,
                                        struct cc_error *err)
{
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, *after < 0 ? sql_newest_event : sql_fresh_events, err);
    if (!s)
        return CC_ERR_STORE;
    int64_t from = *after;
    if (from >= 0) {
        sqlite3_bind_int64(s, 1, from);
        sqlite3_bind_int64(s, 2, (int64_t)max);
    }
    int rc = sqlite3_step(s);
    int64_t last = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    cc_sq_done(s);
    if (rc != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "claiming notifications");
    *after = last;
    if (from < 0 || last == from)
        return CC_OK;
    s = cc_sq_stmt(c, sql_fresh_claim, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, from);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    sqlite3_bind_int64(s, 3, now);
    return claim_rows(c, s, owner, max, now + lease_ms, out, n, err);
}

static enum cc_err tx_notif_claim_dest(void *tx, const char *owner, int64_t account_id,
                                       const char *url, int64_t except_id, int64_t now,
                                       int64_t lease_ms, size_t max, struct cc_notification *out,
                                       size_t *n, struct cc_error *err)
{
    /* CROSS JOIN fixes the order: robot URL → its webhook rows → their
     * pending notifications (both indexed). Left to itself SQLite walked
     * every notification of the account. R is the robot's URL: ?2, or
     * (ROBOT_OF) that of except_id's robot, read in the same statement;
     * none (a robot gone) matches nothing. */
#define CLAIM_DEST(R)                                                                      \
    "SELECT " CC_NOTIF_COLS " FROM notifications WHERE id IN "                             \
    "(SELECT n.id FROM contact_webhooks w "                                                \
    "CROSS JOIN notifications n ON n.webhook_id = w.id AND n.status = 'pending' "          \
    "WHERE w.url = " R " AND n.account_id = ?1 AND n.channel = 'webhook' AND "             \
    "n.lease_until <= ?3 AND n.id <> ?4 AND (n.attempts = 0 OR n.next_attempt_at <= ?3)) " \
    "ORDER BY id LIMIT ?5"
#define ROBOT_OF                                                                           \
    "(SELECT x.url FROM notifications y JOIN contact_webhooks x ON x.id = y.webhook_id "   \
    "WHERE y.id = ?4)"
    static const char sql_url[] = CLAIM_DEST("?2"), sql_robot[] = CLAIM_DEST(ROBOT_OF);
#undef CLAIM_DEST
#undef ROBOT_OF
    struct conn *c = tx;
    *n = 0;
    if (!url) {
        /* Most robots have nothing else waiting: two probes of indexes
         * (another pending notification of the same robot row, another robot
         * row with the same URL) say so without the look-up's temporary
         * tables. Either is needed for the look-up to find anything. */
        static const char sql_more[] =
            "SELECT EXISTS (SELECT 1 FROM notifications y WHERE y.id = ?1 AND (EXISTS (SELECT 1 "
            "FROM notifications n WHERE n.webhook_id = y.webhook_id AND n.status = 'pending' AND "
            "n.id <> y.id) OR EXISTS (SELECT 1 FROM contact_webhooks x JOIN contact_webhooks w ON "
            "w.url = x.url WHERE x.id = y.webhook_id AND w.id <> x.id)))";
        sqlite3_stmt *m = cc_sq_stmt(c, sql_more, err);
        if (!m)
            return CC_ERR_STORE;
        sqlite3_bind_int64(m, 1, except_id);
        int64_t more = 0;
        enum cc_err rc = cc_sq_count(c, m, &more, "claiming notifications", err);
        if (rc)
            return rc;
        if (!more)
            return CC_OK;
    }
    sqlite3_stmt *s = cc_sq_stmt(c, url ? sql_url : sql_robot, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    if (url)
        sqlite3_bind_text(s, 2, url, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    sqlite3_bind_int64(s, 4, except_id);
    sqlite3_bind_int64(s, 5, (int64_t)max);
    return claim_rows(c, s, owner, max, now + lease_ms, out, n, err);
}

static enum cc_err tx_notif_release_leases(void *tx, const char *owner, int64_t *released,
                                           struct cc_error *err)
{
    struct conn *c = tx;
    *released = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_release_leases, err);
    if (!s)
        return CC_ERR_STORE;
    (void)owner;
    enum cc_err rc = cc_sq_step_done(c, s, "releasing the leases of a previous process", err);
    if (!rc)
        *released = sqlite3_changes(c->db);
    return rc;
}

static enum cc_err tx_notif_record(void *tx, const struct cc_notification *n,
                                   const struct cc_attempt *a, const char *owner,
                                   struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_notif_record, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, n->id);
    sqlite3_bind_text(s, 2, n->status, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, n->attempts);
    sqlite3_bind_int64(s, 4, n->next_attempt_at);
    if (n->last_error[0])
        sqlite3_bind_text(s, 5, n->last_error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, n->updated_at);
    if (n->target[0])
        sqlite3_bind_text(s, 7, n->target, -1, SQLITE_STATIC);
    if (owner)
        sqlite3_bind_text(s, 8, owner, -1, SQLITE_STATIC);
    enum cc_err rc = cc_sq_step_done(c, s, "recording a delivery", err);
    if (rc || !a)
        return rc;
    s = cc_sq_stmt(c, sql_attempt_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, n->id);
    sqlite3_bind_int64(s, 2, a->started_at);
    sqlite3_bind_int64(s, 3, a->latency_ms);
    sqlite3_bind_text(s, 4, a->outcome, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, a->http_status);
    sqlite3_bind_text(s, 6, a->platform_code, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 7, a->platform_message, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, a->reason, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "recording an attempt", err);
}

static enum cc_err tx_notif_cancel_contact(void *tx, int64_t account_id, int64_t contact_id,
                                           int64_t now, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_cancel_contact, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, contact_id);
    sqlite3_bind_int64(s, 3, now);
    return cc_sq_step_done(c, s, "cancelling notifications", err);
}

static enum cc_err tx_notif_resend(void *tx, int64_t account_id, int64_t id, int64_t now,
                                   struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_resend, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    sqlite3_bind_int64(s, 3, now);
    enum cc_err rc = cc_sq_step_done(c, s, "resending a notification", err);
    if (!rc && sqlite3_changes(c->db) == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL,
                            "No such notification, or it is still waiting to be sent.");
    return rc;
}

static enum cc_err read_event_get(void *impl, int64_t account_id, int64_t id, struct cc_event *out,
                                  struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_event_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    int rc = sqlite3_step(s);
    memset(out, 0, sizeof *out);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(s, 0);
        out->account_id = sqlite3_column_int64(s, 1);
        cc_sq_col_text(s, 2, out->type, sizeof out->type);
        out->data = cc_strdup((const char *)sqlite3_column_text(s, 3));
        out->skipped = cc_strdup((const char *)sqlite3_column_text(s, 4));
        out->created_at = sqlite3_column_int64(s, 5);
    }
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The event does not exist.");
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading an event");
}

static void bind_filter(sqlite3_stmt *s, const struct cc_notif_filter *f)
{
    sqlite3_bind_int64(s, 1, f->account_id);
    sqlite3_bind_int64(s, 2, f->event_id);
    sqlite3_bind_int64(s, 3, f->contact_id);
    if (f->status)
        sqlite3_bind_text(s, 4, f->status, -1, SQLITE_STATIC);
    if (f->channel)
        sqlite3_bind_text(s, 5, f->channel, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 8, f->without_skipped);
}

static enum cc_err read_notif_list(void *impl, const struct cc_notif_filter *f,
                                   struct cc_notification **out, size_t *n, int64_t *total,
                                   struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    *out = NULL;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_notif_count, err);
    if (!s)
        return CC_ERR_STORE;
    bind_filter(s, f);
    enum cc_err counted = cc_sq_count(c, s, total, "counting notifications", err);
    if (counted)
        return counted;
    s = cc_sq_stmt(c, sql_notif_list, err);
    if (!s)
        return CC_ERR_STORE;
    bind_filter(s, f);
    sqlite3_bind_int64(s, 6, f->page_size);
    sqlite3_bind_int64(s, 7, (f->page - 1) * f->page_size);
    struct cc_notification *items = cc_calloc((size_t)f->page_size, sizeof *items);
    int rc = SQLITE_DONE;
    while (*n < (size_t)f->page_size && (rc = sqlite3_step(s)) == SQLITE_ROW)
        read_notif_event(s, &items[(*n)++]);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cc_free(items);
        *n = 0;
        return cc_sq_db_error(err, c->db, "listing notifications");
    }
    *out = items;
    return CC_OK;
}

static enum cc_err read_notif_get(void *impl, int64_t account_id, int64_t id,
                                  struct cc_notification *out, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_notif_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_notif_event(s, out);
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The notification does not exist.");
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading a notification");
}

static enum cc_err read_attempts_list(void *impl, int64_t notification_id, struct cc_attempt **out,
                                      size_t *n, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_attempts_list, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, notification_id);
    size_t cap = 8;
    struct cc_attempt *a = cc_calloc(cap, sizeof *a);
    *n = 0;
    int rc = SQLITE_DONE;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap *= 2;
            a = cc_realloc(a, cap * sizeof *a);
        }
        struct cc_attempt *x = &a[(*n)++];
        memset(x, 0, sizeof *x);
        x->id = sqlite3_column_int64(s, 0);
        x->notification_id = sqlite3_column_int64(s, 1);
        x->started_at = sqlite3_column_int64(s, 2);
        x->latency_ms = sqlite3_column_int64(s, 3);
        cc_sq_col_text(s, 4, x->outcome, sizeof x->outcome);
        x->http_status = sqlite3_column_int64(s, 5);
        cc_sq_col_text(s, 6, x->platform_code, sizeof x->platform_code);
        cc_sq_col_text(s, 7, x->platform_message, sizeof x->platform_message);
        cc_sq_col_text(s, 8, x->reason, sizeof x->reason);
    }
    cc_sq_done(s);
    if (rc != SQLITE_DONE) {
        cc_free(a);
        *n = 0;
        return cc_sq_db_error(err, c->db, "listing attempts");
    }
    *out = a;
    return CC_OK;
}

static enum cc_err read_notif_leased(void *impl, const char *owner, const int64_t *ids, size_t n,
                                     int64_t now, struct cc_notification *out, size_t *got,
                                     struct cc_error *err)
{
    /* the ids as a JSON array: one statement, one read lock, whatever n */
    static const char sql[] = "SELECT " CC_NOTIF_COLS " FROM notifications WHERE id IN "
                              "(SELECT value FROM json_each(?1)) AND status = 'pending' AND "
                              "lease_owner = ?2 AND lease_until > ?3 ORDER BY id";
    *got = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    struct cc_buf list;
    cc_store_id_list(&list, ids, n, '[', ']');
    sqlite3_bind_text(s, 1, list.data, (int)list.len, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, owner, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    int rc = SQLITE_DONE;
    while (*got < n && (rc = sqlite3_step(s)) == SQLITE_ROW)
        read_notif(s, &out[(*got)++]);
    cc_sq_done(s);
    cc_buf_free(&list);
    if (*got < n && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading the notifications handed to the dispatcher");
    return CC_OK;
}

static enum cc_err read_notif_next_due(void *impl, int64_t *at, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_next_due, err);
    if (!s)
        return CC_ERR_STORE;
    int rc = sqlite3_step(s);
    *at = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    cc_sq_done(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading the outbox");
}

/* The first column of sql's one row, ?1 bound to now (0 when NULL). */
static enum cc_err one_i64(struct conn *c, const char *sql, int64_t now, int64_t *out,
                           struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    if (strchr(sql, '?'))
        sqlite3_bind_int64(s, 1, now);
    int rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    cc_sq_done(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading the outbox");
}

static enum cc_err read_notif_gauges(void *impl, int64_t now, int64_t *pending,
                                     int64_t *oldest_due_at, struct cc_error *err)
{
    static const char sql_pending[] =
        "SELECT count(*) FROM notifications WHERE status = 'pending'";
    static const char sql_oldest[] =
        "SELECT coalesce(min(next_attempt_at), 0) FROM notifications "
        "WHERE status = 'pending' AND next_attempt_at <= ?1";
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    if (one_i64(c, sql_pending, now, pending, err))
        return CC_ERR_STORE;
    return one_i64(c, sql_oldest, now, oldest_due_at, err);
}

static enum cc_err tx_notif_purge(void *tx, int64_t before, int64_t *n, struct cc_error *err)
{
    static const char sql[] =
        "DELETE FROM notifications WHERE status <> 'pending' AND updated_at < ?1";
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, before);
    enum cc_err rc = cc_sq_step_done(c, s, "removing old notifications", err);
    if (!rc)
        *n = sqlite3_changes(c->db);
    return rc;
}

/* ---- test sends ------------------------------------------------------------------ */
static enum cc_err tx_test_send_counts(void *tx, int64_t account_id, const char *subject,
                                       int64_t since, struct cc_test_send_counts *out,
                                       struct cc_error *err)
{
    static const char sql[] =
        "SELECT count(*), coalesce(min(sent_at), 0), "
        "(SELECT count(*) FROM test_sends WHERE account_id = ?1 AND subject = ?2 AND "
        "sent_at >= ?3), "
        "(SELECT coalesce(min(sent_at), 0) FROM test_sends WHERE account_id = ?1 AND "
        "subject = ?2 AND sent_at >= ?3) "
        "FROM test_sends WHERE account_id = ?1 AND sent_at >= ?3";
    struct conn *c = tx;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, since);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->account_n = sqlite3_column_int64(s, 0);
        out->account_oldest = sqlite3_column_int64(s, 1);
        out->subject_n = sqlite3_column_int64(s, 2);
        out->subject_oldest = sqlite3_column_int64(s, 3);
    }
    cc_sq_done(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "counting test sends");
}

static enum cc_err tx_test_send_record(void *tx, int64_t account_id, const char *subject,
                                       int64_t at, struct cc_error *err)
{
    static const char sql_prune[] =
        "DELETE FROM test_sends WHERE account_id = ?1 AND sent_at < ?2";
    static const char sql_insert[] =
        "INSERT INTO test_sends(account_id, subject, sent_at) VALUES (?1, ?2, ?3)";
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_prune, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, at - 86400000);
    enum cc_err rc = cc_sq_step_done(c, s, "pruning test sends", err);
    if (rc)
        return rc;
    if (!(s = cc_sq_stmt(c, sql_insert, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, at);
    return cc_sq_step_done(c, s, "recording a test send", err);
}

const struct cc_store_outbox_ops cc_sq_outbox_ops = {CC_STORE_OUTBOX_OPS(CC_STORE_OP_INIT)};
