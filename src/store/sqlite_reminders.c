/*
 * sqlite_reminders.c — the SQLite side of expiry reminders (tables
 * reminder_settings and certificate_reminders; migration 0013): an
 * account's settings, each certificate's reminder state, the due
 * certificates by the partial index on next_reminder_at, and cancelling the
 * reminders of a certificate still waiting in the outbox. Writes run inside
 * the writer's transactions (sqlite_writer.c); reads on the calling
 * thread's read connection.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_settings_get[] =
    "SELECT days_before, on_expiry_day, day_after, window_start, window_end, time_zone, "
    "updated_at FROM reminder_settings WHERE account_id = ?1";
static const char sql_settings_put[] =
    "INSERT INTO reminder_settings(account_id, days_before, on_expiry_day, day_after, "
    "window_start, window_end, time_zone, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
    "ON CONFLICT(account_id) DO UPDATE SET days_before = ?2, on_expiry_day = ?3, "
    "day_after = ?4, window_start = ?5, window_end = ?6, time_zone = ?7, updated_at = ?8";
static const char sql_admin_language[] =
    "SELECT language FROM users WHERE account_id = ?1 AND role = 'admin' "
    "ORDER BY created_at, id LIMIT 1";
static const char sql_cert_set[] =
    "INSERT INTO certificate_reminders(certificate_id, account_id, next_reminder_at, raised_at) "
    "VALUES (?2, ?1, ?3, ?4) ON CONFLICT(certificate_id) DO UPDATE SET next_reminder_at = ?3, "
    "raised_at = ?4";
static const char sql_days_set[] =
    "INSERT INTO certificate_reminders(certificate_id, account_id, reminder_days) "
    "VALUES (?2, ?1, ?3) ON CONFLICT(certificate_id) DO UPDATE SET reminder_days = ?3";
static const char sql_due[] =
    "SELECT certificate_id, account_id FROM certificate_reminders "
    "WHERE next_reminder_at IS NOT NULL AND next_reminder_at <= ?1 "
    "ORDER BY next_reminder_at LIMIT ?2";
static const char sql_next[] =
    "SELECT next_reminder_at FROM certificate_reminders WHERE next_reminder_at IS NOT NULL "
    "ORDER BY next_reminder_at LIMIT 1";
static const char sql_account[] =
    "SELECT id FROM certificates WHERE account_id = ?1 AND id > ?2 AND state = 'active' "
    "ORDER BY id LIMIT ?3";
/* Only pending notifications are looked at (the partial index of the due
 * ones), then their events: those of the certificate's reminders. */
static const char sql_cancel[] =
    "UPDATE notifications SET status = 'cancelled', lease_until = 0, updated_at = ?3, "
    "last_error = 'the certificate no longer needs reminders (renewed, revoked or deleted)' "
    "WHERE id IN (SELECT n.id FROM notifications n INDEXED BY notifications_due "
    "JOIN events e ON e.id = n.event_id WHERE n.status = 'pending' AND n.account_id = ?1 "
    "AND e.type IN ('certificate.expiring', 'certificate.expired') "
    "AND json_extract(e.data, '$.certificate_id') = ?2)";

static enum cc_err settings_get(struct conn *c, int64_t account_id,
                                struct cc_reminder_settings *out, struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_settings_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        memset(out, 0, sizeof *out);
        out->account_id = account_id;
        out->n_days = cc_store_days_parse((const char *)sqlite3_column_text(s, 0), out->days);
        out->on_expiry_day = sqlite3_column_int(s, 1);
        out->day_after = sqlite3_column_int(s, 2);
        out->has_window = sqlite3_column_type(s, 3) != SQLITE_NULL;
        out->window_start = sqlite3_column_int(s, 3);
        out->window_end = sqlite3_column_int(s, 4);
        cc_sq_col_text(s, 5, out->time_zone, sizeof out->time_zone);
        out->updated_at = sqlite3_column_int64(s, 6);
    }
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "No reminder settings saved.");
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading reminder settings");
}

static enum cc_err read_reminder_settings_get(void *impl, int64_t account_id,
                                              struct cc_reminder_settings *out,
                                              struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    return c ? settings_get(c, account_id, out, err) : CC_ERR_STORE;
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
    struct conn *c = tx;
    char days[16 * CC_REMINDER_DAYS_MAX + 4];
    cc_store_days_text(st->days, st->n_days, days, sizeof days);
    sqlite3_stmt *s = cc_sq_stmt(c, sql_settings_put, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, st->account_id);
    sqlite3_bind_text(s, 2, days, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 3, st->on_expiry_day);
    sqlite3_bind_int(s, 4, st->day_after);
    if (st->has_window) {
        sqlite3_bind_int(s, 5, st->window_start);
        sqlite3_bind_int(s, 6, st->window_end);
    }
    sqlite3_bind_text(s, 7, st->time_zone, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 8, st->updated_at);
    return cc_sq_step_done(c, s, "saving reminder settings", err);
}

static enum cc_err admin_language(struct conn *c, int64_t account_id, char *out, size_t outsz,
                                  struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_admin_language, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    out[0] = '\0';
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        cc_sq_col_text(s, 0, out, outsz);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading the account's console users");
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
    struct conn *c = cc_sq_rconn(impl, err);
    return c ? admin_language(c, account_id, out, outsz, err) : CC_ERR_STORE;
}

static enum cc_err tx_cert_reminder_set(void *tx, int64_t account_id, int64_t id, int64_t next_at,
                                        int64_t raised, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_cert_set, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    if (next_at)
        sqlite3_bind_int64(s, 3, next_at);
    sqlite3_bind_int64(s, 4, raised);
    return cc_sq_step_done(c, s, "saving a certificate's next reminder", err);
}

static enum cc_err tx_cert_reminder_days_set(void *tx, int64_t account_id, int64_t id, int has,
                                             const int *days, size_t n, struct cc_error *err)
{
    struct conn *c = tx;
    char text[16 * CC_REMINDER_DAYS_MAX + 4];
    cc_store_days_text(days, n, text, sizeof text);
    sqlite3_stmt *s = cc_sq_stmt(c, sql_days_set, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    if (has)
        sqlite3_bind_text(s, 3, text, -1, SQLITE_TRANSIENT);
    return cc_sq_step_done(c, s, "saving a certificate's reminder days", err);
}

static enum cc_err tx_cert_reminder_due(void *tx, int64_t now, size_t max, int64_t *ids,
                                        int64_t *accounts, size_t *n, struct cc_error *err)
{
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_due, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, (int64_t)max);
    int rc = SQLITE_DONE;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
        ids[*n] = sqlite3_column_int64(s, 0);
        accounts[(*n)++] = sqlite3_column_int64(s, 1);
    }
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "finding due reminders");
    return CC_OK;
}

static enum cc_err read_cert_reminder_next(void *impl, int64_t *at, struct cc_error *err)
{
    *at = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_next, err);
    if (!s)
        return CC_ERR_STORE;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *at = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "finding the next reminder");
    /* 0 is a real time here (due at once), kept apart from none */
    if (rc == SQLITE_ROW && *at <= 0)
        *at = 1;
    return CC_OK;
}

static enum cc_err tx_cert_reminder_account(void *tx, int64_t account_id, int64_t after_id,
                                            size_t max, int64_t *ids, size_t *n,
                                            struct cc_error *err)
{
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_account, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, after_id);
    sqlite3_bind_int64(s, 3, (int64_t)max);
    return cc_sq_ids(c, s, ids, max, n, "listing the account's certificates", err);
}

static enum cc_err tx_reminder_cancel_pending(void *tx, int64_t account_id, int64_t id,
                                              int64_t now, int64_t *cancelled,
                                              struct cc_error *err)
{
    struct conn *c = tx;
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    *cancelled = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_cancel, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, idtext, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 3, now);
    enum cc_err rc = cc_sq_step_done(c, s, "cancelling a certificate's reminders", err);
    if (!rc)
        *cancelled = sqlite3_changes(c->db);
    return rc;
}

const struct cc_store_reminder_ops cc_sq_reminder_ops = {CC_STORE_REMINDER_OPS(CC_STORE_OP_INIT)};
