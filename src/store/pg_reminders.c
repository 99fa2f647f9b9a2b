/*
 * pg_reminders.c — the PostgreSQL side of expiry reminders (tables
 * reminder_settings and certificate_reminders; schema 0024), statement for
 * statement like sqlite_reminders.c: an account's settings, each
 * certificate's reminder state, the due certificates by the partial index
 * on next_reminder_at, and cancelling the reminders of a certificate still
 * waiting in the outbox. Writes run inside cc_store_write's transactions;
 * reads on a pooled connection (or the calling thread's transaction's).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_settings_get[] =
    "SELECT days_before, on_expiry_day, day_after, window_start, window_end, time_zone, "
    "updated_at FROM reminder_settings WHERE account_id = $1";
static const char sql_settings_put[] =
    "INSERT INTO reminder_settings(account_id, days_before, on_expiry_day, day_after, "
    "window_start, window_end, time_zone, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
    "ON CONFLICT(account_id) DO UPDATE SET days_before = $2, on_expiry_day = $3, "
    "day_after = $4, window_start = $5, window_end = $6, time_zone = $7, updated_at = $8";
static const char sql_admin_language[] =
    "SELECT language FROM users WHERE account_id = $1 AND role = 'admin' "
    "ORDER BY created_at, id LIMIT 1";
static const char sql_cert_set[] =
    "INSERT INTO certificate_reminders(certificate_id, account_id, next_reminder_at, raised_at) "
    "VALUES ($2, $1, $3, $4) ON CONFLICT(certificate_id) DO UPDATE SET next_reminder_at = $3, "
    "raised_at = $4";
static const char sql_days_set[] =
    "INSERT INTO certificate_reminders(certificate_id, account_id, reminder_days) "
    "VALUES ($2, $1, $3) ON CONFLICT(certificate_id) DO UPDATE SET reminder_days = $3";
static const char sql_due[] =
    "SELECT certificate_id, account_id FROM certificate_reminders "
    "WHERE next_reminder_at IS NOT NULL AND next_reminder_at <= $1 "
    "ORDER BY next_reminder_at LIMIT $2";
static const char sql_next[] =
    "SELECT next_reminder_at FROM certificate_reminders WHERE next_reminder_at IS NOT NULL "
    "ORDER BY next_reminder_at LIMIT 1";
static const char sql_account[] =
    "SELECT id FROM certificates WHERE account_id = $1 AND id > $2 AND state = 'active' "
    "ORDER BY id LIMIT $3";
/* Only pending notifications are looked at (the partial index of the due
 * ones; PostgreSQL has no INDEXED BY, its planner picks it), then their
 * events: those of the certificate's reminders. SQLite's
 * json_extract(data, '$.certificate_id') = ?2 matches a JSON string equal
 * to the id's text only (a JSON number would be an integer, never equal to
 * text): jsonb's -> compared with the id as a JSON string is the same. */
static const char sql_cancel[] =
    "UPDATE notifications SET status = 'cancelled', lease_until = 0, updated_at = $3, "
    "last_error = 'the certificate no longer needs reminders (renewed, revoked or deleted)' "
    "WHERE id IN (SELECT n.id FROM notifications n "
    "JOIN events e ON e.id = n.event_id WHERE n.status = 'pending' AND n.account_id = $1 "
    "AND e.type IN ('certificate.expiring', 'certificate.expired') "
    "AND (e.data::jsonb -> 'certificate_id') = to_jsonb($2::text))";

static enum cc_err settings_get(struct pgc *c, int64_t account_id,
                                struct cc_reminder_settings *out, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    PGresult *r = cc_pg_exec(c, sql_settings_get, &p, "reading reminder settings", err);
    if (!r)
        return err->code;
    int found = PQntuples(r) > 0;
    if (found) {
        memset(out, 0, sizeof *out);
        out->account_id = account_id;
        out->n_days =
            cc_store_days_parse(cc_pg_isnull(r, 0, 0) ? NULL : cc_pg_get_str(r, 0, 0), out->days);
        out->on_expiry_day = (int)cc_pg_get_i64(r, 0, 1);
        out->day_after = (int)cc_pg_get_i64(r, 0, 2);
        out->has_window = !cc_pg_isnull(r, 0, 3);
        out->window_start = (int)cc_pg_get_i64(r, 0, 3);
        out->window_end = (int)cc_pg_get_i64(r, 0, 4);
        cc_pg_get_text(r, 0, 5, out->time_zone, sizeof out->time_zone);
        out->updated_at = cc_pg_get_i64(r, 0, 6);
    }
    PQclear(r);
    if (!found)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "No reminder settings saved.");
    return CC_OK;
}

static enum cc_err read_reminder_settings_get(void *impl, int64_t account_id,
                                              struct cc_reminder_settings *out,
                                              struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = settings_get(c, account_id, out, err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err tx_reminder_settings_get(void *tx, int64_t account_id,
                                            struct cc_reminder_settings *out,
                                            struct cc_error *err)
{
    return settings_get(tx, account_id, out, err);
}

static enum cc_err tx_reminder_settings_put(void *tx, const struct cc_reminder_settings *st,
                                            struct cc_error *err)
{
    struct pgc *c = tx;
    char days[16 * CC_REMINDER_DAYS_MAX + 4];
    cc_store_days_text(st->days, st->n_days, days, sizeof days);
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, st->account_id);
    cc_pg_text(&p, days);
    cc_pg_i64(&p, st->on_expiry_day);
    cc_pg_i64(&p, st->day_after);
    if (st->has_window) {
        cc_pg_i64(&p, st->window_start);
        cc_pg_i64(&p, st->window_end);
    } else {
        cc_pg_null(&p);
        cc_pg_null(&p);
    }
    cc_pg_text(&p, st->time_zone);
    cc_pg_i64(&p, st->updated_at);
    return cc_pg_do(c, sql_settings_put, &p, "saving reminder settings", err);
}

static enum cc_err admin_language(struct pgc *c, int64_t account_id, char *out, size_t outsz,
                                  struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    out[0] = '\0';
    PGresult *r = cc_pg_exec(c, sql_admin_language, &p, "reading the account's console users",
                             err);
    if (!r)
        return err->code;
    if (PQntuples(r) > 0)
        cc_pg_get_text(r, 0, 0, out, outsz);
    PQclear(r);
    return CC_OK;
}

static enum cc_err tx_reminder_admin_language(void *tx, int64_t account_id, char *out,
                                              size_t outsz, struct cc_error *err)
{
    return admin_language(tx, account_id, out, outsz, err);
}

static enum cc_err read_reminder_admin_language(void *impl, int64_t account_id, char *out,
                                                size_t outsz, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = admin_language(c, account_id, out, outsz, err);
    cc_pg_release(c);
    return rc;
}

static enum cc_err tx_cert_reminder_set(void *tx, int64_t account_id, int64_t id, int64_t next_at,
                                        int64_t raised, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    cc_pg_opt_i64(&p, next_at);
    cc_pg_i64(&p, raised);
    return cc_pg_do(c, sql_cert_set, &p, "saving a certificate's next reminder", err);
}

static enum cc_err tx_cert_reminder_days_set(void *tx, int64_t account_id, int64_t id, int has,
                                             const int *days, size_t n, struct cc_error *err)
{
    struct pgc *c = tx;
    char text[16 * CC_REMINDER_DAYS_MAX + 4];
    cc_store_days_text(days, n, text, sizeof text);
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    cc_pg_text(&p, has ? text : NULL);
    return cc_pg_do(c, sql_days_set, &p, "saving a certificate's reminder days", err);
}

static enum cc_err tx_cert_reminder_due(void *tx, int64_t now, size_t max, int64_t *ids,
                                        int64_t *accounts, size_t *n, struct cc_error *err)
{
    struct pgc *c = tx;
    *n = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, now);
    cc_pg_i64(&p, (int64_t)max);
    PGresult *r = cc_pg_exec(c, sql_due, &p, "finding due reminders", err);
    if (!r)
        return err->code;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < max; i++) {
        ids[*n] = cc_pg_get_i64(r, i, 0);
        accounts[(*n)++] = cc_pg_get_i64(r, i, 1);
    }
    PQclear(r);
    return CC_OK;
}

static enum cc_err read_cert_reminder_next(void *impl, int64_t *at, struct cc_error *err)
{
    *at = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = cc_pg_one_i64(c, sql_next, NULL, at, "finding the next reminder", err);
    cc_pg_release(c);
    if (rc == CC_ERR_NOT_FOUND)
        return CC_OK;
    if (rc)
        return rc;
    /* 0 is a real time here (due at once), kept apart from none */
    if (*at <= 0)
        *at = 1;
    return CC_OK;
}

static enum cc_err tx_cert_reminder_account(void *tx, int64_t account_id, int64_t after_id,
                                            size_t max, int64_t *ids, size_t *n,
                                            struct cc_error *err)
{
    struct pgc *c = tx;
    *n = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, after_id);
    cc_pg_i64(&p, (int64_t)max);
    PGresult *r = cc_pg_exec(c, sql_account, &p, "listing the account's certificates", err);
    if (!r)
        return err->code;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < max; i++)
        ids[(*n)++] = cc_pg_get_i64(r, i, 0);
    PQclear(r);
    return CC_OK;
}

static enum cc_err tx_reminder_cancel_pending(void *tx, int64_t account_id, int64_t id,
                                              int64_t now, int64_t *cancelled,
                                              struct cc_error *err)
{
    struct pgc *c = tx;
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    *cancelled = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, idtext);
    cc_pg_i64(&p, now);
    /* sqlite3_changes() is the command's row count here */
    return cc_pg_do_n(c, sql_cancel, &p, cancelled, "cancelling a certificate's reminders", err);
}

const struct cc_store_reminder_ops cc_pg_reminder_ops = {CC_STORE_REMINDER_OPS(CC_STORE_OP_INIT)};
