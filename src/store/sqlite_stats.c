/*
 * sqlite_stats.c — the SQLite side of the console's Overview (store/stats.h):
 * finished notifications counted per hour by the partial index
 * notifications_finished, broken robots and addresses by contact_webhooks_broken
 * and contacts_broken, unverified contacts by contacts_unverified (migration
 * 0029), and soon-expiring certificates by certificates_not_after. Reads on
 * the calling thread's read connection; the statements match pg_stats.c's.
 */
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

/* A robot's platform from the masked URL the notification keeps (its robot may
 * be gone since): the numbers of enum cc_stats_channel; 5 for none of them.
 * The finished statuses in notifications_finished's own words (migration
 * 0031), so that the partial index serves the query. */
static const char sql_outcomes[] =
    "SELECT (updated_at - ?2) / 3600000, "
    "CASE WHEN channel = 'email' THEN 0 WHEN channel = 'mobile' THEN 1 "
    "WHEN substr(target, 1, 25) = 'https://oapi.dingtalk.com' THEN 2 "
    "WHEN substr(target, 1, 22) = 'https://open.feishu.cn' "
    "OR substr(target, 1, 26) = 'https://open.larksuite.com' THEN 3 "
    "WHEN substr(target, 1, 27) = 'https://qyapi.weixin.qq.com' THEN 4 ELSE 5 END, "
    "CASE status WHEN 'delivered' THEN 0 WHEN 'failed' THEN 1 ELSE 2 END, count(*) "
    "FROM notifications WHERE account_id = ?1 AND "
    "(status = 'delivered' OR status = 'failed' OR status = 'dead') "
    "AND updated_at >= ?2 AND updated_at < ?3 GROUP BY 1, 2, 3";
/* The few broken robots across accounts first (the planner would rather walk
 * the account's contacts), then their contacts. */
static const char sql_robots[] =
    "SELECT c.id, c.name, w.id, w.kind, coalesce(u.url_masked, ''), w.broken_reason, "
    "coalesce(w.broken_at, 0) FROM contact_webhooks w INDEXED BY contact_webhooks_broken "
    "JOIN contacts c ON c.id = w.contact_id "
    "LEFT JOIN contact_webhook_urls u ON u.webhook_id = w.id "
    "WHERE w.broken_reason IS NOT NULL AND c.account_id = ?1 "
    "ORDER BY w.broken_at DESC, w.id LIMIT ?2";
static const char sql_addresses[] =
    "SELECT id, name, coalesce(email, ''), email_broken, mobile, mobile_broken FROM contacts "
    "WHERE account_id = ?1 AND (email_broken IS NOT NULL OR mobile_broken IS NOT NULL) "
    "ORDER BY id DESC LIMIT ?2";
#define UNVERIFIED                                                                         \
    "(email IS NOT NULL AND email_verified_at IS NULL) "                                   \
    "OR (mobile <> '' AND mobile_verified_at IS NULL)"
static const char sql_unverified_n[] =
    "SELECT count(*) FROM contacts WHERE account_id = ?1 AND (" UNVERIFIED ")";
static const char sql_unverified[] =
    "SELECT id, name, CASE WHEN email IS NOT NULL THEN 1 ELSE 0 END, "
    "CASE WHEN email_verified_at IS NOT NULL THEN 1 ELSE 0 END, "
    "CASE WHEN mobile_verified_at IS NOT NULL THEN 1 ELSE 0 END FROM contacts "
    "WHERE account_id = ?1 AND (" UNVERIFIED ") ORDER BY id LIMIT ?2";
static const char sql_expiring[] =
    "SELECT id, name, common_name, not_after, domains FROM certificates WHERE account_id = ?1 "
    "AND state = 'active' AND not_after >= ?2 AND not_after < ?3 ORDER BY not_after, id "
    "LIMIT ?4";

static enum cc_err read_stats_outcomes(void *impl, int64_t account_id, int64_t until,
                                       struct cc_stats_counts *out, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_outcomes, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, out->since);
    sqlite3_bind_int64(s, 3, until);
    int rc = SQLITE_DONE;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t h = sqlite3_column_int64(s, 0), ch = sqlite3_column_int64(s, 1),
                st = sqlite3_column_int64(s, 2);
        if (h < 0 || (size_t)h >= out->n_hours || ch < 0 || ch >= CC_STATS_CHANNELS || st < 0 ||
            st >= CC_STATS_OUTCOMES)
            continue;
        out->counts[((size_t)h * CC_STATS_CHANNELS + (size_t)ch) * CC_STATS_OUTCOMES +
                    (size_t)st] += sqlite3_column_int64(s, 3);
    }
    cc_sq_done(s);
    return rc == SQLITE_DONE ? CC_OK : cc_sq_db_error(err, c->db, "counting notifications");
}

static enum cc_err read_stats_broken(void *impl, int64_t account_id, size_t max,
                                     struct cc_stats_broken *out, size_t *n,
                                     struct cc_error *err)
{
    *n = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_robots, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct cc_stats_broken *b = &out[(*n)++];
        memset(b, 0, sizeof *b);
        b->contact_id = sqlite3_column_int64(s, 0);
        cc_sq_col_text(s, 1, b->contact_name, sizeof b->contact_name);
        b->webhook_id = sqlite3_column_int64(s, 2);
        cc_strlcpy(b->channel, "webhook", sizeof b->channel);
        cc_sq_col_text(s, 3, b->platform, sizeof b->platform);
        cc_sq_col_text(s, 4, b->target, sizeof b->target);
        cc_sq_col_text(s, 5, b->problem, sizeof b->problem);
        b->since = sqlite3_column_int64(s, 6);
    }
    cc_sq_done(s);
    if (*n < max && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading broken robots");
    if (*n >= max)
        return CC_OK;
    if (!(s = cc_sq_stmt(c, sql_addresses, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, (int64_t)(max - *n));
    while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        for (int col = 3; col <= 5 && *n < max; col += 2) {
            if (sqlite3_column_type(s, col) == SQLITE_NULL)
                continue;
            struct cc_stats_broken *b = &out[(*n)++];
            memset(b, 0, sizeof *b);
            b->contact_id = sqlite3_column_int64(s, 0);
            cc_sq_col_text(s, 1, b->contact_name, sizeof b->contact_name);
            cc_strlcpy(b->channel, col == 3 ? "email" : "mobile", sizeof b->channel);
            cc_sq_col_text(s, col - 1, b->target, sizeof b->target);
            cc_sq_col_text(s, col, b->problem, sizeof b->problem);
        }
    }
    cc_sq_done(s);
    if (*n < max && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading broken addresses");
    return CC_OK;
}

static enum cc_err read_stats_unverified(void *impl, int64_t account_id, size_t max,
                                         struct cc_stats_unverified *out, size_t *n,
                                         int64_t *total, struct cc_error *err)
{
    *n = 0;
    *total = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_unverified_n, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    if (rc != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "counting unverified contacts");
    if (!(s = cc_sq_stmt(c, sql_unverified, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct cc_stats_unverified *u = &out[(*n)++];
        memset(u, 0, sizeof *u);
        u->id = sqlite3_column_int64(s, 0);
        cc_sq_col_text(s, 1, u->name, sizeof u->name);
        u->has_email = sqlite3_column_int(s, 2);
        u->email_verified = sqlite3_column_int(s, 3);
        u->mobile_verified = sqlite3_column_int(s, 4);
    }
    cc_sq_done(s);
    if (*n < max && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading unverified contacts");
    return CC_OK;
}

static enum cc_err read_stats_expiring(void *impl, int64_t account_id, int64_t from,
                                       int64_t until, size_t max, struct cc_stats_expiring *out,
                                       size_t *n, struct cc_error *err)
{
    *n = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_expiring, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, from);
    sqlite3_bind_int64(s, 3, until);
    sqlite3_bind_int64(s, 4, (int64_t)max);
    int rc = SQLITE_DONE;
    while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct cc_stats_expiring *x = &out[(*n)++];
        memset(x, 0, sizeof *x);
        x->id = sqlite3_column_int64(s, 0);
        cc_sq_col_text(s, 1, x->name, sizeof x->name);
        cc_sq_col_text(s, 2, x->common_name, sizeof x->common_name);
        x->not_after = sqlite3_column_int64(s, 3);
        if (!x->common_name[0])
            cc_store_first_domain((const char *)sqlite3_column_text(s, 4), x->common_name,
                                  sizeof x->common_name);
    }
    cc_sq_done(s);
    if (*n < max && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading expiring certificates");
    return CC_OK;
}

const struct cc_store_stats_ops cc_sq_stats_ops = {CC_STORE_STATS_OPS(CC_STORE_OP_INIT)};
