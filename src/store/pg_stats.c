/*
 * pg_stats.c — the PostgreSQL side of the console's Overview
 * (store/stats.h), statement for statement like sqlite_stats.c: finished
 * notifications counted per hour by the partial index notifications_finished,
 * broken robots and addresses, unverified contacts (the partial indexes of
 * migration 0029) and soon-expiring certificates by certificates_not_after.
 * Reads on a pooled connection.
 */
#include <string.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_outcomes[] =
    "SELECT (updated_at - $2) / 3600000, "
    "CASE WHEN channel = 'email' THEN 0 WHEN channel = 'mobile' THEN 1 "
    "WHEN substr(target, 1, 25) = 'https://oapi.dingtalk.com' THEN 2 "
    "WHEN substr(target, 1, 22) = 'https://open.feishu.cn' "
    "OR substr(target, 1, 26) = 'https://open.larksuite.com' THEN 3 "
    "WHEN substr(target, 1, 27) = 'https://qyapi.weixin.qq.com' THEN 4 ELSE 5 END, "
    "CASE status WHEN 'delivered' THEN 0 WHEN 'failed' THEN 1 ELSE 2 END, count(*) "
    "FROM notifications WHERE account_id = $1 AND status IN ('delivered', 'failed', 'dead') "
    "AND updated_at >= $2 AND updated_at < $3 GROUP BY 1, 2, 3";
static const char sql_robots[] =
    "SELECT c.id, c.name, w.id, w.kind, coalesce(u.url_masked, ''), w.broken_reason, "
    "coalesce(w.broken_at, 0) FROM contact_webhooks w JOIN contacts c ON c.id = w.contact_id "
    "LEFT JOIN contact_webhook_urls u ON u.webhook_id = w.id "
    "WHERE w.broken_reason IS NOT NULL AND c.account_id = $1 "
    "ORDER BY w.broken_at DESC, w.id LIMIT $2";
static const char sql_addresses[] =
    "SELECT id, name, coalesce(email, ''), email_broken, mobile, mobile_broken FROM contacts "
    "WHERE account_id = $1 AND (email_broken IS NOT NULL OR mobile_broken IS NOT NULL) "
    "ORDER BY id DESC LIMIT $2";
#define UNVERIFIED                                                                         \
    "(email IS NOT NULL AND email_verified_at IS NULL) "                                   \
    "OR (mobile <> '' AND mobile_verified_at IS NULL)"
static const char sql_unverified_n[] =
    "SELECT count(*) FROM contacts WHERE account_id = $1 AND (" UNVERIFIED ")";
static const char sql_unverified[] =
    "SELECT id, name, CASE WHEN email IS NOT NULL THEN 1 ELSE 0 END, "
    "CASE WHEN email_verified_at IS NOT NULL THEN 1 ELSE 0 END, "
    "CASE WHEN mobile_verified_at IS NOT NULL THEN 1 ELSE 0 END FROM contacts "
    "WHERE account_id = $1 AND (" UNVERIFIED ") ORDER BY id LIMIT $2";
static const char sql_expiring[] =
    "SELECT id, name, common_name, not_after, domains FROM certificates WHERE account_id = $1 "
    "AND state = 'active' AND not_after >= $2 AND not_after < $3 ORDER BY not_after, id "
    "LIMIT $4";

static enum cc_err read_stats_outcomes(void *impl, int64_t account_id, int64_t until,
                                       struct cc_stats_counts *out, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, out->since);
    cc_pg_i64(&p, until);
    PGresult *r = cc_pg_exec(c, sql_outcomes, &p, "counting notifications", err);
    enum cc_err rc = r ? CC_OK : err->code;
    for (int i = 0; r && i < PQntuples(r); i++) {
        int64_t h = cc_pg_get_i64(r, i, 0), ch = cc_pg_get_i64(r, i, 1),
                st = cc_pg_get_i64(r, i, 2);
        if (h < 0 || (size_t)h >= out->n_hours || ch < 0 || ch >= CC_STATS_CHANNELS || st < 0 ||
            st >= CC_STATS_OUTCOMES)
            continue;
        out->counts[((size_t)h * CC_STATS_CHANNELS + (size_t)ch) * CC_STATS_OUTCOMES +
                    (size_t)st] += cc_pg_get_i64(r, i, 3);
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

/* The broken robots (rows of sql_robots), then the broken addresses, into out. */
static enum cc_err broken(struct pgc *c, int64_t account_id, size_t max,
                          struct cc_stats_broken *out, size_t *n, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, (int64_t)max);
    PGresult *r = cc_pg_exec(c, sql_robots, &p, "reading broken robots", err);
    if (!r)
        return err->code;
    for (int i = 0; i < PQntuples(r) && *n < max; i++) {
        struct cc_stats_broken *b = &out[(*n)++];
        memset(b, 0, sizeof *b);
        b->contact_id = cc_pg_get_i64(r, i, 0);
        cc_pg_get_text(r, i, 1, b->contact_name, sizeof b->contact_name);
        b->webhook_id = cc_pg_get_i64(r, i, 2);
        cc_strlcpy(b->channel, "webhook", sizeof b->channel);
        cc_pg_get_text(r, i, 3, b->platform, sizeof b->platform);
        cc_pg_get_text(r, i, 4, b->target, sizeof b->target);
        cc_pg_get_text(r, i, 5, b->problem, sizeof b->problem);
        b->since = cc_pg_get_i64(r, i, 6);
    }
    PQclear(r);
    if (*n >= max)
        return CC_OK;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, (int64_t)(max - *n));
    if (!(r = cc_pg_exec(c, sql_addresses, &p, "reading broken addresses", err)))
        return err->code;
    for (int i = 0; i < PQntuples(r) && *n < max; i++)
        for (int col = 3; col <= 5 && *n < max; col += 2) {
            if (cc_pg_isnull(r, i, col))
                continue;
            struct cc_stats_broken *b = &out[(*n)++];
            memset(b, 0, sizeof *b);
            b->contact_id = cc_pg_get_i64(r, i, 0);
            cc_pg_get_text(r, i, 1, b->contact_name, sizeof b->contact_name);
            cc_strlcpy(b->channel, col == 3 ? "email" : "mobile", sizeof b->channel);
            cc_pg_get_text(r, i, col - 1, b->target, sizeof b->target);
            cc_pg_get_text(r, i, col, b->problem, sizeof b->problem);
        }
    PQclear(r);
    return CC_OK;
}

static enum cc_err read_stats_broken(void *impl, int64_t account_id, size_t max,
                                     struct cc_stats_broken *out, size_t *n,
                                     struct cc_error *err)
{
    *n = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = broken(c, account_id, max, out, n, err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_stats_unverified(void *impl, int64_t account_id, size_t max,
                                         struct cc_stats_unverified *out, size_t *n,
                                         int64_t *total, struct cc_error *err)
{
    *n = 0;
    *total = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    PGresult *r = NULL;
    enum cc_err rc = cc_pg_one_i64(c, sql_unverified_n, &p, total, "counting unverified contacts",
                                   err);
    if (rc)
        goto out;
    cc_pg_i64(&p, (int64_t)max);
    if (!(r = cc_pg_exec(c, sql_unverified, &p, "reading unverified contacts", err))) {
        rc = err->code;
        goto out;
    }
    for (int i = 0; i < PQntuples(r) && *n < max; i++) {
        struct cc_stats_unverified *u = &out[(*n)++];
        memset(u, 0, sizeof *u);
        u->id = cc_pg_get_i64(r, i, 0);
        cc_pg_get_text(r, i, 1, u->name, sizeof u->name);
        u->has_email = (int)cc_pg_get_i64(r, i, 2);
        u->email_verified = (int)cc_pg_get_i64(r, i, 3);
        u->mobile_verified = (int)cc_pg_get_i64(r, i, 4);
    }
out:
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_stats_expiring(void *impl, int64_t account_id, int64_t from,
                                       int64_t until, size_t max, struct cc_stats_expiring *out,
                                       size_t *n, struct cc_error *err)
{
    *n = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, from);
    cc_pg_i64(&p, until);
    cc_pg_i64(&p, (int64_t)max);
    PGresult *r = cc_pg_exec(c, sql_expiring, &p, "reading expiring certificates", err);
    enum cc_err rc = r ? CC_OK : err->code;
    for (int i = 0; r && i < PQntuples(r) && *n < max; i++) {
        struct cc_stats_expiring *x = &out[(*n)++];
        memset(x, 0, sizeof *x);
        x->id = cc_pg_get_i64(r, i, 0);
        cc_pg_get_text(r, i, 1, x->name, sizeof x->name);
        cc_pg_get_text(r, i, 2, x->common_name, sizeof x->common_name);
        x->not_after = cc_pg_get_i64(r, i, 3);
        if (!x->common_name[0])
            cc_store_first_domain(cc_pg_get_str(r, i, 4), x->common_name, sizeof x->common_name);
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

const struct cc_store_stats_ops cc_pg_stats_ops = {CC_STORE_STATS_OPS(CC_STORE_OP_INIT)};
