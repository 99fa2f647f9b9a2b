/*
 * pg_verifications.c — the PostgreSQL side of verification codes: sending
 * records, the counts the sending limits need, attempts and confirmations.
 * Every operation runs inside a transaction (cc_store_write); statement for
 * statement the same as sqlite_verifications.c.
 */
#include <string.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

/* RETURNING id: SQLite's last_insert_rowid(). */
static const char sql_insert[] =
    "INSERT INTO verifications(account_id, contact_id, channel, target, code_hash, status, "
    "attempts, sent_at, expires_at, target_tag) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, $9) "
    "RETURNING id";
static const char sql_get[] =
    "SELECT " CC_VERIF_COLS " FROM verifications WHERE account_id = $1 AND id = $2";
static const char sql_latest[] =
    "SELECT " CC_VERIF_COLS " FROM verifications WHERE contact_id = $2 AND channel = $3 "
    "AND account_id = $1 AND status = 'sent' ORDER BY id DESC LIMIT 1";
static const char sql_update[] =
    "UPDATE verifications SET status = $2, attempts = $3, confirmed_at = $4, "
    "failure = coalesce($5, failure), target = $6 WHERE id = $1";
static const char sql_supersede[] =
    "UPDATE verifications SET status = 'superseded' WHERE contact_id = $2 AND channel = $3 "
    "AND account_id = $1 AND id <> $4 AND status IN ('sending', 'sent')";
/* Every send counts, failed ones too: the limits protect the person at the
 * other end and the gateway account, whatever happened to the message.
 * count(*) FILTER: SQLite's sum(sent_at >= ?3) of a boolean (0 when no row,
 * as SQLite's NULL sum reads). */
static const char sql_target_counts[] =
    "SELECT max(sent_at), count(*) FILTER (WHERE sent_at >= $3), count(*), "
    "min(CASE WHEN sent_at >= $3 THEN sent_at END), min(sent_at) FROM verifications "
    "WHERE channel = $1 AND (target_tag = $5 OR target = $2) AND sent_at >= $4";
static const char sql_account_counts[] =
    "SELECT count(*), min(sent_at) FROM verifications WHERE account_id = $1 AND sent_at >= $2";
static const char sql_confirmed_since[] =
    "SELECT max(confirmed_at) FROM verifications WHERE channel = $2 "
    "AND (target_tag = $5 OR target = $3) AND account_id = $1 AND confirmed_at >= $4";

static void read_row(const PGresult *r, int row, struct cc_verification *v)
{
    memset(v, 0, sizeof *v);
    v->id = cc_pg_get_i64(r, row, 0);
    v->account_id = cc_pg_get_i64(r, row, 1);
    v->contact_id = cc_pg_get_i64(r, row, 2);
    cc_pg_get_text(r, row, 3, v->channel, sizeof v->channel);
    cc_pg_get_text(r, row, 4, v->target, sizeof v->target);
    cc_pg_get_text(r, row, 5, v->code_hash, sizeof v->code_hash);
    const char *status = cc_pg_get_str(r, row, 6);
    v->status = cc_store_verif_status_parse(status);
    v->attempts = cc_pg_get_i64(r, row, 7);
    v->sent_at = cc_pg_get_i64(r, row, 8);
    v->expires_at = cc_pg_get_i64(r, row, 9);
    v->confirmed_at = cc_pg_get_i64(r, row, 10);
}

/* Runs a statement that returns at most one verification. */
static enum cc_err one_row(struct pgc *c, const char *sql, const struct pgp *p,
                           struct cc_verification *out, struct cc_error *err)
{
    PGresult *r = cc_pg_exec(c, sql, p, "reading a verification", err);
    if (!r)
        return err->code;
    int found = PQntuples(r) > 0;
    if (found)
        read_row(r, 0, out);
    PQclear(r);
    if (!found)
        return cc_error_set(err, CC_ERR_VERIFICATION_NOT_FOUND, NULL,
                            "There is no such verification in progress.");
    return CC_OK;
}

/* Up to max verifications of a statement into out. */
static enum cc_err rows(struct pgc *c, const char *sql, const struct pgp *p, size_t max,
                        struct cc_verification *out, size_t *n, const char *what,
                        struct cc_error *err)
{
    *n = 0;
    PGresult *r = cc_pg_exec(c, sql, p, what, err);
    if (!r)
        return err->code;
    for (int i = 0; i < PQntuples(r) && *n < max; i++)
        read_row(r, i, &out[(*n)++]);
    PQclear(r);
    return CC_OK;
}

static enum cc_err tx_verif_insert(void *tx, struct cc_verification *v, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, v->account_id);
    cc_pg_opt_i64(&p, v->contact_id);
    cc_pg_text(&p, v->channel);
    cc_pg_text(&p, v->target);
    cc_pg_text(&p, v->code_hash);
    cc_pg_text(&p, cc_store_verif_status_names[v->status]);
    cc_pg_i64(&p, v->sent_at);
    cc_pg_i64(&p, v->expires_at);
    cc_pg_text(&p, v->target_tag);
    return cc_pg_one_i64(c, sql_insert, &p, &v->id, "saving a verification", err);
}

static enum cc_err tx_verif_get(void *tx, int64_t account_id, int64_t id,
                                struct cc_verification *out, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    return one_row(c, sql_get, &p, out, err);
}

static enum cc_err tx_verif_list_contact(void *tx, int64_t account_id, int64_t contact_id,
                                        size_t max, struct cc_verification *out, size_t *n,
                                        struct cc_error *err)
{
    static const char sql[] = "SELECT " CC_VERIF_COLS " FROM verifications WHERE account_id = $1 "
                              "AND contact_id = $2 ORDER BY id DESC LIMIT $3";
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, contact_id);
    cc_pg_i64(&p, (int64_t)max);
    return rows(c, sql, &p, max, out, n, "listing verifications", err);
}

static enum cc_err tx_verif_finished_unmasked(void *tx, int64_t now, size_t max,
                                             struct cc_verification *out, size_t *n,
                                             struct cc_error *err)
{
    /* strpos: SQLite's instr. */
    static const char sql[] =
        "SELECT " CC_VERIF_COLS " FROM verifications WHERE (status IN ('failed', 'superseded') "
        "OR confirmed_at IS NOT NULL OR expires_at < $1) AND strpos(target, '*') = 0 "
        "ORDER BY id LIMIT $2";
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, now);
    cc_pg_i64(&p, (int64_t)max);
    return rows(c, sql, &p, max, out, n, "reading old verifications", err);
}

static enum cc_err tx_verif_set_target(void *tx, int64_t id, const char *target,
                                       struct cc_error *err)
{
    static const char sql[] = "UPDATE verifications SET target = $2 WHERE id = $1";
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, id);
    cc_pg_text(&p, target);
    return cc_pg_do(c, sql, &p, "masking a verification", err);
}

static enum cc_err tx_verif_purge(void *tx, int64_t before, int64_t *n, struct cc_error *err)
{
    static const char sql[] = "DELETE FROM verifications WHERE sent_at < $1";
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, before);
    return cc_pg_do_n(c, sql, &p, n, "removing old verifications", err);
}

static enum cc_err tx_verif_latest(void *tx, int64_t account_id, int64_t contact_id,
                                   const char *channel, struct cc_verification *out,
                                   struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, contact_id);
    cc_pg_text(&p, channel);
    return one_row(c, sql_latest, &p, out, err);
}

static enum cc_err tx_verif_update(void *tx, const struct cc_verification *v, const char *failure,
                                   struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, v->id);
    cc_pg_text(&p, cc_store_verif_status_names[v->status]);
    cc_pg_i64(&p, v->attempts);
    cc_pg_opt_i64(&p, v->confirmed_at);
    cc_pg_text(&p, failure);
    cc_pg_text(&p, v->target);
    return cc_pg_do(c, sql_update, &p, "updating a verification", err);
}

static enum cc_err tx_verif_supersede(void *tx, int64_t account_id, int64_t contact_id,
                                      const char *channel, int64_t except_id, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, contact_id);
    cc_pg_text(&p, channel);
    cc_pg_i64(&p, except_id);
    return cc_pg_do(c, sql_supersede, &p, "superseding verifications", err);
}

static enum cc_err tx_verif_counts(void *tx, int64_t account_id, const char *channel,
                                   const char *target, const char *tag, int64_t hour_since,
                                   int64_t day_since, struct cc_verif_counts *out,
                                   struct cc_error *err)
{
    struct pgc *c = tx;
    memset(out, 0, sizeof *out);
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_text(&p, channel);
    cc_pg_text(&p, target);
    cc_pg_i64(&p, hour_since);
    cc_pg_i64(&p, day_since);
    cc_pg_text(&p, tag);
    PGresult *r = cc_pg_exec(c, sql_target_counts, &p, "counting verifications", err);
    if (!r)
        return err->code;
    if (PQntuples(r) == 1) {
        out->target_last_sent_at = cc_pg_get_i64(r, 0, 0);
        out->target_hour = cc_pg_get_i64(r, 0, 1);
        out->target_day = cc_pg_get_i64(r, 0, 2);
        out->target_oldest_in_hour = cc_pg_get_i64(r, 0, 3);
        out->target_oldest_in_day = cc_pg_get_i64(r, 0, 4);
    }
    PQclear(r);
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, hour_since);
    r = cc_pg_exec(c, sql_account_counts, &p, "counting verifications", err);
    if (!r)
        return err->code;
    if (PQntuples(r) == 1) {
        out->account_hour = cc_pg_get_i64(r, 0, 0);
        out->account_oldest_in_hour = cc_pg_get_i64(r, 0, 1);
    }
    PQclear(r);
    return CC_OK;
}

static enum cc_err tx_verif_confirmed_since(void *tx, int64_t account_id, const char *channel,
                                            const char *target, const char *tag, int64_t since,
                                            int64_t *at, struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, channel);
    cc_pg_text(&p, target);
    cc_pg_i64(&p, since);
    cc_pg_text(&p, tag);
    /* An aggregate: always one row, NULL (read as 0) when nothing was confirmed. */
    enum cc_err rc = cc_pg_one_i64(c, sql_confirmed_since, &p, at, "reading confirmations", err);
    return rc == CC_ERR_NOT_FOUND ? CC_OK : rc;
}

static const char sql_verified_email[] =
    "UPDATE contacts SET email_verified_at = $4 WHERE account_id = $1 AND id = $2 "
    "AND email_norm = $3";
static const char sql_verified_mobile[] =
    "UPDATE contacts SET mobile_verified_at = $4 WHERE account_id = $1 AND id = $2 "
    "AND mobile = $3";

static enum cc_err tx_contact_set_verified(void *tx, int64_t account_id, int64_t contact_id,
                                           const char *channel, const char *target, int64_t at,
                                           struct cc_error *err)
{
    struct pgc *c = tx;
    int email = strcmp(channel, "email") == 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, contact_id);
    cc_pg_text(&p, target);
    cc_pg_i64(&p, at);
    int64_t changed;
    enum cc_err rc = cc_pg_do_n(c, email ? sql_verified_email : sql_verified_mobile, &p,
                                &changed, "marking a contact verified", err);
    if (!rc && changed == 0)
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
        "SELECT " CC_VERIF_COLS " FROM verifications WHERE channel = $2 AND target_tag = $3 "
        "AND account_id = $1 AND status = 'sent' AND confirmed_at IS NULL AND expires_at > $4 "
        "AND attempts < $5 ORDER BY id DESC LIMIT 1";
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, channel);
    cc_pg_text(&p, tag);
    cc_pg_i64(&p, now);
    cc_pg_i64(&p, max_attempts);
    return one_row(c, sql, &p, out, err);
}

static enum cc_err tx_verif_address_owner(void *tx, int64_t account_id, const char *channel,
                                          const char *target, int64_t except_id, int64_t *id,
                                          char *name, size_t namesz, struct cc_error *err)
{
    static const char sql_email[] = "SELECT id, name FROM contacts WHERE account_id = $1 "
                                    "AND email_norm = $2 AND id <> $3";
    static const char sql_mobile[] = "SELECT id, name FROM contacts WHERE account_id = $1 "
                                     "AND mobile = $2 AND id <> $3";
    struct pgc *c = tx;
    *id = 0;
    if (namesz)
        name[0] = '\0';
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, target);
    cc_pg_i64(&p, except_id);
    PGresult *r = cc_pg_exec(c, strcmp(channel, "email") ? sql_mobile : sql_email, &p,
                             "looking up an address", err);
    if (!r)
        return err->code;
    if (PQntuples(r) > 0) {
        *id = cc_pg_get_i64(r, 0, 0);
        if (namesz)
            cc_pg_get_text(r, 0, 1, name, namesz);
    }
    PQclear(r);
    return CC_OK;
}

const struct cc_store_verif_ops cc_pg_verif_ops = {CC_STORE_VERIF_OPS(CC_STORE_OP_INIT)};
