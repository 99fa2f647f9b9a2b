/*
 * sqlite_int.h — shared by the files of the SQLite backend: a connection
 * with its cache of prepared statements, and the helpers around it.
 */
#ifndef CC_SQLITE_INT_H
#define CC_SQLITE_INT_H

#include <sqlite3.h>

#include "store/store.h"

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_ACCOUNT_GET,
    ST_ACCOUNT_INSERT,
    ST_KEY_GET,
    ST_KEY_LIST,
    ST_KEY_INSERT,
    ST_KEY_DISABLE,
    ST_CONTACT_GET,
    ST_CONTACT_COUNT,
    ST_CONTACT_INSERT,
    ST_CONTACT_UPDATE,
    ST_CONTACT_DELETE,
    ST_WEBHOOKS_GET,
    ST_WEBHOOKS_DELETE,
    ST_WEBHOOK_INSERT,
    ST_LIST_ALL,
    ST_LIST_SHORT_COUNT,
    ST_LIST_SHORT,
    ST_LIST_FTS_COUNT,
    ST_LIST_FTS,
    ST_IDEM_GET,
    ST_IDEM_PUT,
    ST_AUDIT,
    ST_PING,
    /* sqlite_verifications.c */
    ST_VERIF_INSERT,
    ST_VERIF_GET,
    ST_VERIF_LATEST,
    ST_VERIF_UPDATE,
    ST_VERIF_SUPERSEDE,
    ST_VERIF_TARGET_COUNTS,
    ST_VERIF_ACCOUNT_COUNTS,
    ST_VERIF_CONFIRMED_SINCE,
    ST_CONTACT_VERIFIED_EMAIL,
    ST_CONTACT_VERIFIED_MOBILE,
    ST_EVENT_INSERT,
    ST_EVENT_GET,
    ST_EVENT_SKIPPED,
    ST_HEALTH_WEBHOOK,
    ST_HEALTH_EMAIL,
    ST_HEALTH_MOBILE,
    ST_NOTIF_INSERT,
    ST_NOTIF_CLAIM,
    ST_NOTIF_LEASE,
    ST_NOTIF_RECORD,
    ST_ATTEMPT_INSERT,
    ST_NOTIF_CANCEL_CONTACT,
    ST_NOTIF_RESEND,
    ST_NOTIF_GET,
    ST_NOTIF_LIST,
    ST_NOTIF_COUNT,
    ST_ATTEMPTS_LIST,
    ST_NOTIF_NEXT_DUE,
    /* sqlite_templates.c */
    ST_TEMPLATE_PUT,
    ST_TEMPLATE_DELETE,
    ST_TEMPLATE_GET,
    ST_TEMPLATE_LIST,
    ST_NOTIF_CLAIM_DEST,
    ST_NOTIF_ROBOT_URL,
    ST_DATA_VERSION,
    /* sqlite_users.c */
    ST_USER_GET,
    ST_USER_BY_EMAIL,
    ST_USER_LIST,
    ST_SESSION_GET,
    ST_FAILURES_GET,
    ST_USER_INSERT,
    ST_USER_UPDATE,
    ST_USER_DELETE,
    ST_SESSION_INSERT,
    ST_SESSION_DELETE,
    ST_SESSION_DELETE_USER,
    ST_SESSION_TOUCH,
    ST_FAILURE_PUT,
    ST_FAILURE_CLEAR,
    ST_COUNT
};

struct sq;

/* One connection and its statement cache. */
struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    struct sq *owner;
    int64_t serial;           /* unique per connection opened by this process */
    struct conn *next, *prev; /* in owner->conns */
};

/* The statement id of connection c, prepared from sql on first use and
 * kept; NULL (with *err set) when it does not prepare. */
sqlite3_stmt *cc_sq_stmt(struct conn *c, enum stmt_id id, const char *sql, struct cc_error *err);
/* Resets s and clears its bindings, ready for the next use. */
void cc_sq_done(sqlite3_stmt *s);
/* Steps s to completion and resets it. */
enum cc_err cc_sq_step_done(struct conn *c, sqlite3_stmt *s, const char *what,
                            struct cc_error *err);
enum cc_err cc_sq_db_error(struct cc_error *err, sqlite3 *db, const char *what);
void cc_sq_col_text(sqlite3_stmt *s, int i, char *out, size_t outsz);

/* sqlite_verifications.c: the verification operations of the table. */
enum cc_err cc_sq_verif_insert(void *tx, struct cc_verification *v, struct cc_error *err);
enum cc_err cc_sq_verif_get(void *tx, int64_t account_id, int64_t id,
                            struct cc_verification *out, struct cc_error *err);
enum cc_err cc_sq_verif_latest(void *tx, int64_t account_id, int64_t contact_id,
                               const char *channel, struct cc_verification *out,
                               struct cc_error *err);
enum cc_err cc_sq_verif_update(void *tx, const struct cc_verification *v, const char *failure,
                               struct cc_error *err);
enum cc_err cc_sq_verif_supersede(void *tx, int64_t account_id, int64_t contact_id,
                                  const char *channel, int64_t except_id, struct cc_error *err);
enum cc_err cc_sq_verif_counts(void *tx, int64_t account_id, const char *channel,
                               const char *target, int64_t hour_since, int64_t day_since,
                               struct cc_verif_counts *out, struct cc_error *err);
enum cc_err cc_sq_verif_confirmed_since(void *tx, int64_t account_id, const char *channel,
                                        const char *target, int64_t since, int64_t *at,
                                        struct cc_error *err);
enum cc_err cc_sq_contact_set_verified(void *tx, int64_t account_id, int64_t contact_id,
                                       const char *channel, const char *target, int64_t at,
                                       struct cc_error *err);

/* sqlite_notifications.c */
enum cc_err cc_sq_event_insert(void *tx, struct cc_event *e, struct cc_error *err);
enum cc_err cc_sq_event_set_skipped(void *tx, const struct cc_event *e, struct cc_error *err);
enum cc_err cc_sq_channel_health(void *tx, int64_t account_id, int64_t contact_id,
                                 const char *channel, int64_t webhook_id, const char *reason,
                                 int64_t at, struct cc_error *err);
enum cc_err cc_sq_notif_claim_dest(void *tx, int64_t account_id, const char *url,
                                   int64_t except_id, int64_t now, int64_t lease_ms, size_t max,
                                   struct cc_notification *out, size_t *n, struct cc_error *err);
enum cc_err cc_sq_notif_insert(void *tx, struct cc_notification *n, struct cc_error *err);
enum cc_err cc_sq_notif_claim(void *tx, int64_t now, int64_t lease_ms, size_t max, struct cc_notification *out, size_t *n, struct cc_error *err);
enum cc_err cc_sq_notif_record(void *tx, const struct cc_notification *n, const struct cc_attempt *a, struct cc_error *err);
enum cc_err cc_sq_notif_cancel_contact(void *tx, int64_t account_id, int64_t contact_id, int64_t now, struct cc_error *err);
enum cc_err cc_sq_notif_resend(void *tx, int64_t account_id, int64_t id, int64_t now, struct cc_error *err);
enum cc_err cc_sq_event_get(void *impl, int64_t account_id, int64_t id, struct cc_event *out, struct cc_error *err);
enum cc_err cc_sq_notif_list(void *impl, const struct cc_notif_filter *f, struct cc_notification **out, size_t *n, int64_t *total, struct cc_error *err);
enum cc_err cc_sq_notif_get(void *impl, int64_t account_id, int64_t id, struct cc_notification *out, struct cc_error *err);
enum cc_err cc_sq_attempts_list(void *impl, int64_t notification_id, struct cc_attempt **out, size_t *n, struct cc_error *err);
enum cc_err cc_sq_notif_next_due(void *impl, int64_t *at, struct cc_error *err);
/* sqlite_templates.c */
enum cc_err cc_sq_template_put(void *tx, int64_t account_id, const struct cc_template *t,
                               struct cc_error *err);
enum cc_err cc_sq_template_delete(void *tx, int64_t account_id, const char *event_type,
                                  const char *channel, const char *language,
                                  struct cc_error *err);
enum cc_err cc_sq_template_get(void *impl, int64_t account_id, const char *event_type,
                               const char *channel, const char *language, char *title,
                               size_t titlesz, char *body, size_t bodysz, struct cc_error *err);
enum cc_err cc_sq_template_list(void *impl, int64_t account_id, struct cc_template **out,
                                size_t *n, struct cc_error *err);
/* sqlite_users.c */
enum cc_err cc_sq_user_get(void *impl, int64_t id, struct cc_user *out, struct cc_error *err);
enum cc_err cc_sq_user_by_email(void *impl, const char *email_norm, struct cc_user *out,
                                struct cc_error *err);
enum cc_err cc_sq_user_list(void *impl, int64_t account_id, struct cc_user **out, size_t *n,
                            struct cc_error *err);
enum cc_err cc_sq_session_get(void *impl, const char *token_hash, struct cc_session *sess,
                              struct cc_user *user, struct cc_error *err);
enum cc_err cc_sq_sign_in_failures(void *impl, const char *email_norm,
                                   struct cc_sign_in_failures *out, struct cc_error *err);
enum cc_err cc_sq_user_insert(void *tx, struct cc_user *u, struct cc_error *err);
enum cc_err cc_sq_user_update(void *tx, const struct cc_user *u, struct cc_error *err);
enum cc_err cc_sq_user_delete(void *tx, int64_t account_id, int64_t id, struct cc_error *err);
enum cc_err cc_sq_session_insert(void *tx, const struct cc_session *sess, struct cc_error *err);
enum cc_err cc_sq_session_delete(void *tx, const char *token_hash, int64_t user_id,
                                 struct cc_error *err);
enum cc_err cc_sq_session_touch(void *tx, const char *token_hash, int64_t now,
                                struct cc_error *err);
enum cc_err cc_sq_sign_in_failure(void *tx, const char *email_norm, int64_t now,
                                  int64_t window_ms, int64_t max_failures, int64_t lock_ms,
                                  struct cc_sign_in_failures *out, struct cc_error *err);
enum cc_err cc_sq_sign_in_clear(void *tx, const char *email_norm, struct cc_error *err);
/* The calling thread's read connection (sqlite.c). */
struct conn *cc_sq_rconn(void *impl, struct cc_error *err);
/* A blob column into out (outsz bytes); *len 0 when it is NULL or too long. */
void cc_sq_col_blob(sqlite3_stmt *s, int i, uint8_t *out, size_t outsz, size_t *len);

/* sqlite_accounts.c */
enum cc_err cc_sq_account_get(void *impl, int64_t id, char *name, size_t namesz,
                              struct cc_error *err);
enum cc_err cc_sq_key_get(void *impl, const char *key_id, struct cc_access_key *out,
                          struct cc_error *err);
enum cc_err cc_sq_key_list(void *impl, int64_t account_id, struct cc_access_key **out,
                           size_t *n, struct cc_error *err);
enum cc_err cc_sq_account_insert(void *tx, const char *name, int64_t now, int64_t *id,
                                 struct cc_error *err);
enum cc_err cc_sq_account_exists(void *tx, int64_t id, struct cc_error *err);
enum cc_err cc_sq_key_insert(void *tx, const struct cc_access_key *k, struct cc_error *err);
enum cc_err cc_sq_key_disable(void *tx, int64_t account_id, const char *key_id, int64_t now,
                              struct cc_error *err);

#endif
