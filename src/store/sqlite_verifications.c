/*
 * sqlite_verifications.c — the SQLite side of verification codes: sending
 * records, the counts the sending limits need, attempts and confirmations.
 * Runs inside the writer's transactions (sqlite_writer.c).
 */
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_insert[] =
    "INSERT INTO verifications(account_id, contact_id, channel, target, code_hash, status, "
    "attempts, sent_at, expires_at, target_tag) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9)";
static const char sql_get[] =
    "SELECT " CC_VERIF_COLS " FROM verifications WHERE account_id = ?1 AND id = ?2";
static const char sql_latest[] =
    "SELECT " CC_VERIF_COLS " FROM verifications WHERE contact_id = ?2 AND channel = ?3 "
    "AND account_id = ?1 AND status = 'sent' ORDER BY id DESC LIMIT 1";
static const char sql_update[] =
    "UPDATE verifications SET status = ?2, attempts = ?3, confirmed_at = ?4, "
    "failure = coalesce(?5, failure), target = ?6 WHERE id = ?1";
static const char sql_supersede[] =
    "UPDATE verifications SET status = 'superseded' WHERE contact_id = ?2 AND channel = ?3 "
    "AND account_id = ?1 AND id <> ?4 AND status IN ('sending', 'sent')";
/* Every send counts, failed ones too: the limits protect the person at the
 * other end and the gateway account, whatever happened to the message. */
static const char sql_target_counts[] =
    "SELECT max(sent_at), sum(sent_at >= ?3), count(*), min(CASE WHEN sent_at >= ?3 "
    "THEN sent_at END), min(sent_at) FROM verifications "
    "WHERE channel = ?1 AND (target_tag = ?5 OR target = ?2) AND sent_at >= ?4";
static const char sql_account_counts[] =
    "SELECT count(*), min(sent_at) FROM verifications WHERE account_id = ?1 AND sent_at >= ?2";
static const char sql_confirmed_since[] =
    "SELECT max(confirmed_at) FROM verifications WHERE channel = ?2 "
    "AND (target_tag = ?5 OR target = ?3) AND account_id = ?1 AND confirmed_at >= ?4";

static void read_row(sqlite3_stmt *s, struct cc_verification *v)
{
    memset(v, 0, sizeof *v);
    v->id = sqlite3_column_int64(s, 0);
    v->account_id = sqlite3_column_int64(s, 1);
    v->contact_id = sqlite3_column_int64(s, 2);
    cc_sq_col_text(s, 3, v->channel, sizeof v->channel);
    cc_sq_col_text(s, 4, v->target, sizeof v->target);
    cc_sq_col_text(s, 5, v->code_hash, sizeof v->code_hash);
    char status[16];
    cc_sq_col_text(s, 6, status, sizeof status);
    v->status = cc_store_verif_status_parse(status);
    v->attempts = sqlite3_column_int64(s, 7);
    v->sent_at = sqlite3_column_int64(s, 8);
    v->expires_at = sqlite3_column_int64(s, 9);
    v->confirmed_at = sqlite3_column_int64(s, 10);
}

/* Runs a statement that returns at most one verification. */
static enum cc_err one_row(struct conn *c, sqlite3_stmt *s, struct cc_verification *out,
                           struct cc_error *err)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_row(s, out);
    else if (rc != SQLITE_DONE)
        cc_sq_db_error(err, c->db, "reading a verification");
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_VERIFICATION_NOT_FOUND, NULL,
                            "There is no such verification in progress.");
    return rc == SQLITE_ROW ? CC_OK : CC_ERR_STORE;
}

static enum cc_err tx_verif_insert(void *tx, struct cc_verification *v, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_insert, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, v->account_id);
    if (v->contact_id)
        sqlite3_bind_int64(s, 2, v->contact_id);
    sqlite3_bind_text(s, 3, v->channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, v->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, v->code_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, cc_store_verif_status_names[v->status], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, v->sent_at);
    sqlite3_bind_int64(s, 8, v->expires_at);
    sqlite3_bind_text(s, 9, v->target_tag, -1, SQLITE_STATIC);
    enum cc_err rc = cc_sq_step_done(c, s, "saving a verification", err);
    if (!rc)
        v->id = sqlite3_last_insert_rowid(c->db);
    return rc;
}

static enum cc_err tx_verif_get(void *tx, int64_t account_id, int64_t id,
                                struct cc_verification *out, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    return one_row(c, s, out, err);
}

static enum cc_err tx_verif_list_contact(void *tx, int64_t account_id, int64_t contact_id,
                                        size_t max, struct cc_verification *out, size_t *n,
                                        struct cc_error *err)
{
    static const char sql[] = "SELECT " CC_VERIF_COLS " FROM verifications WHERE account_id = ?1 "
                              "AND contact_id = ?2 ORDER BY id DESC LIMIT ?3";
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, contact_id);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)max);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max)
        read_row(s, &out[(*n)++]);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "listing verifications");
    return CC_OK;
}

static enum cc_err tx_verif_finished_unmasked(void *tx, int64_t now, size_t max,
                                             struct cc_verification *out, size_t *n,
                                             struct cc_error *err)
{
    static const char sql[] =
        "SELECT " CC_VERIF_COLS " FROM verifications WHERE (status IN ('failed', 'superseded') "
        "OR confirmed_at IS NOT NULL OR expires_at < ?1) AND instr(target, '*') = 0 "
        "ORDER BY id LIMIT ?2";
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, now);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max)
        read_row(s, &out[(*n)++]);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading old verifications");
    return CC_OK;
}

static enum cc_err tx_verif_set_target(void *tx, int64_t id, const char *target,
                                       struct cc_error *err)
{
    static const char sql[] = "UPDATE verifications SET target = ?2 WHERE id = ?1";
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, target, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "masking a verification", err);
}

static enum cc_err tx_verif_purge(void *tx, int64_t before, int64_t *n, struct cc_error *err)
{
    static const char sql[] = "DELETE FROM verifications WHERE sent_at < ?1";
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, before);
    enum cc_err rc = cc_sq_step_done(c, s, "removing old verifications", err);
    if (!rc)
        *n = sqlite3_changes(c->db);
    return rc;
}

static enum cc_err tx_verif_latest(void *tx, int64_t account_id, int64_t contact_id,
                                   const char *channel, struct cc_verification *out,
                                   struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_latest, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, contact_id);
    sqlite3_bind_text(s, 3, channel, -1, SQLITE_STATIC);
    return one_row(c, s, out, err);
}

static enum cc_err tx_verif_update(void *tx, const struct cc_verification *v, const char *failure,
                                   struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_update, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, v->id);
    sqlite3_bind_text(s, 2, cc_store_verif_status_names[v->status], -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, v->attempts);
    if (v->confirmed_at)
        sqlite3_bind_int64(s, 4, v->confirmed_at);
    if (failure)
        sqlite3_bind_text(s, 5, failure, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, v->target, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "updating a verification", err);
}

static enum cc_err tx_verif_supersede(void *tx, int64_t account_id, int64_t contact_id,
                                      const char *channel, int64_t except_id, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_supersede, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, contact_id);
    sqlite3_bind_text(s, 3, channel, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, except_id);
    return cc_sq_step_done(c, s, "superseding verifications", err);
}

static enum cc_err tx_verif_counts(void *tx, int64_t account_id, const char *channel,
                                   const char *target, const char *tag, int64_t hour_since,
                                   int64_t day_since, struct cc_verif_counts *out,
                                   struct cc_error *err)
{
    struct conn *c = tx;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = cc_sq_stmt(c, sql_target_counts, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, target, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, hour_since);
    sqlite3_bind_int64(s, 4, day_since);
    sqlite3_bind_text(s, 5, tag, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->target_last_sent_at = sqlite3_column_int64(s, 0);
        out->target_hour = sqlite3_column_int64(s, 1);
        out->target_day = sqlite3_column_int64(s, 2);
        out->target_oldest_in_hour = sqlite3_column_int64(s, 3);
        out->target_oldest_in_day = sqlite3_column_int64(s, 4);
    }
    cc_sq_done(s);
    if (rc != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "counting verifications");
    s = cc_sq_stmt(c, sql_account_counts, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, hour_since);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->account_hour = sqlite3_column_int64(s, 0);
        out->account_oldest_in_hour = sqlite3_column_int64(s, 1);
    }
    cc_sq_done(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "counting verifications");
}

static enum cc_err tx_verif_confirmed_since(void *tx, int64_t account_id, const char *channel,
                                            const char *target, const char *tag, int64_t since,
                                            int64_t *at, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_confirmed_since, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, target, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, since);
    sqlite3_bind_text(s, 5, tag, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    *at = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    cc_sq_done(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading confirmations");
}

static const char sql_verified_email[] =
    "UPDATE contacts SET email_verified_at = ?4 WHERE account_id = ?1 AND id = ?2 "
    "AND email_norm = ?3";
static const char sql_verified_mobile[] =
    "UPDATE contacts SET mobile_verified_at = ?4 WHERE account_id = ?1 AND id = ?2 "
    "AND mobile = ?3";

static enum cc_err tx_contact_set_verified(void *tx, int64_t account_id, int64_t contact_id,
                                           const char *channel, const char *target, int64_t at,
                                           struct cc_error *err)
{
    struct conn *c = tx;
    int email = strcmp(channel, "email") == 0;
    sqlite3_stmt *s = cc_sq_stmt(c, email ? sql_verified_email : sql_verified_mobile, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, contact_id);
    sqlite3_bind_text(s, 3, target, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, at);
    enum cc_err rc = cc_sq_step_done(c, s, "marking a contact verified", err);
    if (!rc && sqlite3_changes(c->db) == 0)
        return cc_error_set(err, CC_ERR_VERIFICATION_NOT_FOUND, NULL,
                            "The contact's address changed since the code was sent: send a new "
                            "code.");
    return rc;
}

static enum cc_err tx_verif_valid_for_target(void *tx, int64_t account_id, const char *channel,
                                             const char *tag, int64_t now, int64_t max_attempts,
                                             struct cc_verification *out, struct cc_error *err)
{
    static const char sql[] =
        "SELECT " CC_VERIF_COLS " FROM verifications WHERE channel = ?2 AND target_tag = ?3 "
        "AND account_id = ?1 AND status = 'sent' AND confirmed_at IS NULL AND expires_at > ?4 "
        "AND attempts < ?5 ORDER BY id DESC LIMIT 1";
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, tag, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, now);
    sqlite3_bind_int64(s, 5, max_attempts);
    return one_row(c, s, out, err);
}

static enum cc_err tx_verif_address_owner(void *tx, int64_t account_id, const char *channel,
                                          const char *target, int64_t except_id, int64_t *id,
                                          char *name, size_t namesz, struct cc_error *err)
{
    static const char sql_email[] = "SELECT id, name FROM contacts WHERE account_id = ?1 "
                                    "AND email_norm = ?2 AND id <> ?3";
    static const char sql_mobile[] = "SELECT id, name FROM contacts WHERE account_id = ?1 "
                                     "AND mobile = ?2 AND id <> ?3";
    struct conn *c = tx;
    *id = 0;
    if (namesz)
        name[0] = '\0';
    sqlite3_stmt *s = cc_sq_stmt(c, strcmp(channel, "email") ? sql_mobile : sql_email, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, target, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, except_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        cc_sq_col_text(s, 1, name, namesz);
    }
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "looking up an address");
    return CC_OK;
}

const struct cc_store_verif_ops cc_sq_verif_ops = {CC_STORE_VERIF_OPS(CC_STORE_OP_INIT)};
