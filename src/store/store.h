/*
 * store.h — the one storage interface. Everything above store/ sees the
 * database through these functions; SQLite (store/sqlite.c) implements them
 * today and PostgreSQL will implement the same table of operations.
 *
 * Reads and writes take different paths:
 *  - cc_store_<thing>_get/list read on a connection private to the calling
 *    thread, in parallel with other readers.
 *  - cc_store_write(store, fn, arg, err) runs fn inside a transaction and
 *    returns once that transaction is durable. fn uses only the cc_tx_*
 *    functions on the tx it is given. On SQLite one writer thread runs the
 *    waiting writes together, each in its own SAVEPOINT, and commits them
 *    with one fsync (group commit); on PostgreSQL fn runs in an ordinary
 *    transaction and is run again after a serialization failure. So fn must
 *    be safe to run more than once: it may only change *arg's outputs.
 *    A non-zero return from fn undoes everything fn did and nothing else.
 */
#ifndef CC_STORE_H
#define CC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct cc_store;
struct cc_tx;

struct cc_store_config {
    const char *url;          /* "sqlite:/path/to.db", a plain path, or "postgres://..." */
    int synchronous_full;     /* 1: an acknowledged write survives a power cut */
    int busy_timeout_ms;      /* waiting for another process's write lock */
    int max_batch;            /* writes committed together at the most */
};

struct cc_contact_query {
    int64_t account_id;
    const char *keyword;      /* NULL or "" for all */
    int64_t page;             /* from 1 */
    int64_t page_size;
};

/* How many codes went out, for the sending limits. */
struct cc_verif_counts {
    int64_t target_last_sent_at;  /* newest send to the target, 0 = none */
    int64_t target_hour;          /* sends to the target since hour_since */
    int64_t target_day;           /* since day_since */
    int64_t target_oldest_in_hour, target_oldest_in_day;
    int64_t account_hour;         /* sends by the account since hour_since */
    int64_t account_oldest_in_hour;
};

typedef enum cc_err (*cc_tx_fn)(struct cc_tx *tx, void *arg, struct cc_error *err);

/* Opens (creating if needed) the database named by cfg->url. */
enum cc_err cc_store_open(const struct cc_store_config *cfg, struct cc_store **out,
                          struct cc_error *err);
/* Stops the writer after the writes already queued, closes every connection. */
void cc_store_close(struct cc_store *s);
/* Applies the embedded migrations not yet recorded in schema_migrations. */
enum cc_err cc_store_migrate(struct cc_store *s, struct cc_error *err);
/* CC_OK when the database answers a trivial query. */
enum cc_err cc_store_ping(struct cc_store *s, struct cc_error *err);
/* Runs fn(tx, arg, err) in a transaction; see the top of this file. */
enum cc_err cc_store_write(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err);
/* Drops the calling thread's read connection (threads that end call this). */
void cc_store_thread_done(struct cc_store *s);

/* ---- reads --------------------------------------------------------------- */
/* A number that changes whenever anything (this process or another) has
 * committed a change since the calling thread last asked: lets a thread
 * keep a cache of what it read and know when it is stale. */
enum cc_err cc_store_data_version(struct cc_store *s, int64_t *v, struct cc_error *err);
enum cc_err cc_store_account_get(struct cc_store *s, int64_t id, char *name, size_t namesz,
                                 struct cc_error *err);
enum cc_err cc_store_key_get(struct cc_store *s, const char *key_id, struct cc_access_key *out,
                             struct cc_error *err);
/* *out is owned by the caller: cc_free(). */
enum cc_err cc_store_key_list(struct cc_store *s, int64_t account_id,
                              struct cc_access_key **out, size_t *n, struct cc_error *err);
enum cc_err cc_store_contact_get(struct cc_store *s, int64_t account_id, int64_t id,
                                 struct cc_contact *out, struct cc_error *err);
enum cc_err cc_store_contact_list(struct cc_store *s, const struct cc_contact_query *q,
                                  struct cc_contact_page *out, struct cc_error *err);

/* ---- writes, only inside a cc_tx_fn ---------------------------------------- */
enum cc_err cc_tx_account_insert(struct cc_tx *tx, const char *name, int64_t now,
                                 int64_t *id, struct cc_error *err);
enum cc_err cc_tx_account_exists(struct cc_tx *tx, int64_t id, struct cc_error *err);
enum cc_err cc_tx_key_insert(struct cc_tx *tx, const struct cc_access_key *k,
                             struct cc_error *err);
/* CC_ERR_NOT_FOUND when the key is not in that account. */
enum cc_err cc_tx_key_disable(struct cc_tx *tx, int64_t account_id, const char *key_id,
                              int64_t now, struct cc_error *err);
enum cc_err cc_tx_contact_get(struct cc_tx *tx, int64_t account_id, int64_t id,
                              struct cc_contact *out, struct cc_error *err);
enum cc_err cc_tx_contact_count(struct cc_tx *tx, int64_t account_id, int64_t *n,
                                struct cc_error *err);
/* Inserts c and its webhooks; sets c->id and the webhooks' ids. A duplicate email or mobile in the
 * account fails with CC_ERR_ALREADY_EXISTS, field "Email" or "Mobile". */
enum cc_err cc_tx_contact_insert(struct cc_tx *tx, struct cc_contact *c, struct cc_error *err);
/* Writes every field of c (matched by account and id) and replaces its
 * webhooks with c's: a URL that stays keeps its id, and every webhook's id
 * is set in c. CC_ERR_NOT_FOUND when there is no such contact. */
enum cc_err cc_tx_contact_update(struct cc_tx *tx, struct cc_contact *c, struct cc_error *err);
enum cc_err cc_tx_contact_delete(struct cc_tx *tx, int64_t account_id, int64_t id,
                                 struct cc_error *err);
/* CC_ERR_NOT_FOUND when the key was never used. hash: 65 bytes. */
enum cc_err cc_tx_idem_get(struct cc_tx *tx, int64_t account_id, const char *key,
                           char *hash, int64_t *contact_id, struct cc_error *err);
enum cc_err cc_tx_idem_put(struct cc_tx *tx, int64_t account_id, const char *key,
                           const char *hash, int64_t contact_id, int64_t now,
                           struct cc_error *err);
enum cc_err cc_tx_audit(struct cc_tx *tx, int64_t account_id, const char *actor,
                        const char *action, const char *object_type, int64_t object_id,
                        const char *detail, int64_t now, struct cc_error *err);

/* Verification codes. */
enum cc_err cc_tx_verif_insert(struct cc_tx *tx, struct cc_verification *v, struct cc_error *err);
/* CC_ERR_VERIFICATION_NOT_FOUND when the account has no such id. */
enum cc_err cc_tx_verif_get(struct cc_tx *tx, int64_t account_id, int64_t id,
                            struct cc_verification *out, struct cc_error *err);
/* The newest code sent (status sent) for a contact's channel. */
enum cc_err cc_tx_verif_latest(struct cc_tx *tx, int64_t account_id, int64_t contact_id,
                               const char *channel, struct cc_verification *out,
                               struct cc_error *err);
/* Writes status, attempts, confirmed_at and failure of v (by id). */
enum cc_err cc_tx_verif_update(struct cc_tx *tx, const struct cc_verification *v,
                               const char *failure, struct cc_error *err);
/* Marks the contact's earlier codes for the channel superseded. */
enum cc_err cc_tx_verif_supersede(struct cc_tx *tx, int64_t account_id, int64_t contact_id,
                                  const char *channel, int64_t except_id, struct cc_error *err);
enum cc_err cc_tx_verif_counts(struct cc_tx *tx, int64_t account_id, const char *channel,
                               const char *target, int64_t hour_since, int64_t day_since,
                               struct cc_verif_counts *out, struct cc_error *err);
/* When the account confirmed target on channel at or after since: the time
 * (ms) in *at, else 0. */
enum cc_err cc_tx_verif_confirmed_since(struct cc_tx *tx, int64_t account_id,
                                        const char *channel, const char *target, int64_t since,
                                        int64_t *at, struct cc_error *err);

/* Marks the contact's email or mobile verified at `at`, when its current
 * address on that channel is still target; CC_ERR_VERIFICATION_NOT_FOUND
 * when the contact is gone or its address changed. */
enum cc_err cc_tx_contact_set_verified(struct cc_tx *tx, int64_t account_id, int64_t contact_id,
                                       const char *channel, const char *target, int64_t at,
                                       struct cc_error *err);

/* Events and notifications. */
enum cc_err cc_tx_event_insert(struct cc_tx *tx, struct cc_event *e, struct cc_error *err);
/* Writes e->skipped on the event e->id. */
enum cc_err cc_tx_event_set_skipped(struct cc_tx *tx, const struct cc_event *e,
                                    struct cc_error *err);
/* Inserts n unless a notification with its idempotency key exists (then
 * n->id is 0). */
enum cc_err cc_tx_notif_insert(struct cc_tx *tx, struct cc_notification *n, struct cc_error *err);
/* Claims up to max due notifications (pending, next_attempt_at and
 * lease_until passed) for lease_ms: out has room for max. */
enum cc_err cc_tx_notif_claim(struct cc_tx *tx, int64_t now, int64_t lease_ms, size_t max,
                              struct cc_notification *out, size_t *n, struct cc_error *err);
/* Claims, like cc_tx_notif_claim, the other pending notifications of the
 * account to the robot at url that are waiting their turn (never tried yet,
 * or due) — except except_id — so they can go out in one message. url NULL:
 * the robot of notification except_id. */
enum cc_err cc_tx_notif_claim_dest(struct cc_tx *tx, int64_t account_id, const char *url,
                                   int64_t except_id, int64_t now, int64_t lease_ms, size_t max,
                                   struct cc_notification *out, size_t *n, struct cc_error *err);
/* Writes n's status, attempts, next_attempt_at and last_error, clears its
 * lease, and records the attempt a (may be NULL). */
enum cc_err cc_tx_notif_record(struct cc_tx *tx, const struct cc_notification *n,
                               const struct cc_attempt *a, struct cc_error *err);
/* Cancels every pending notification of a contact. */
enum cc_err cc_tx_notif_cancel_contact(struct cc_tx *tx, int64_t account_id, int64_t contact_id,
                                       int64_t now, struct cc_error *err);
/* Makes a finished notification pending again, due now. */
enum cc_err cc_tx_notif_resend(struct cc_tx *tx, int64_t account_id, int64_t id, int64_t now,
                               struct cc_error *err);
/* Marks a contact's channel broken with reason, or clears the mark (reason
 * NULL): channel "email", "mobile", or "webhook" with webhook_id. */
enum cc_err cc_tx_channel_health(struct cc_tx *tx, int64_t account_id, int64_t contact_id,
                                 const char *channel, int64_t webhook_id, const char *reason,
                                 int64_t at, struct cc_error *err);
enum cc_err cc_store_event_get(struct cc_store *s, int64_t account_id, int64_t id,
                               struct cc_event *out, struct cc_error *err);
/* *out owned by the caller: cc_free(). */
enum cc_err cc_store_notif_list(struct cc_store *s, const struct cc_notif_filter *f,
                                struct cc_notification **out, size_t *n, int64_t *total,
                                struct cc_error *err);
enum cc_err cc_store_notif_get(struct cc_store *s, int64_t account_id, int64_t id,
                               struct cc_notification *out, struct cc_error *err);
/* The attempts of a notification, oldest first, at most max. */
enum cc_err cc_store_attempts_list(struct cc_store *s, int64_t notification_id,
                                   struct cc_attempt **out, size_t *n, struct cc_error *err);
/* When the next pending notification falls due (ms), 0 when none is. */
enum cc_err cc_store_notif_next_due(struct cc_store *s, int64_t *at, struct cc_error *err);

/* ---- an account's own notification templates ------------------------------ */
/* Saves t for the account, replacing the one with the same event type,
 * channel and language. The caller has checked it (cc_template_check). */
enum cc_err cc_tx_template_put(struct cc_tx *tx, int64_t account_id, const struct cc_template *t,
                               struct cc_error *err);
/* CC_ERR_NOT_FOUND when the account has no such template of its own. */
enum cc_err cc_tx_template_delete(struct cc_tx *tx, int64_t account_id, const char *event_type,
                                  const char *channel, const char *language,
                                  struct cc_error *err);
/* The account's own title and body for one event type, channel and
 * language, copied into title and body (cut to their sizes);
 * CC_ERR_NOT_FOUND when the account has none (the built-in text applies). */
enum cc_err cc_store_template_get(struct cc_store *s, int64_t account_id, const char *event_type,
                                  const char *channel, const char *language, char *title,
                                  size_t titlesz, char *body, size_t bodysz,
                                  struct cc_error *err);
/* Every template of the account's own, ordered by event type, channel,
 * language. *out is owned by the caller: cc_free(). */
enum cc_err cc_store_template_list(struct cc_store *s, int64_t account_id,
                                   struct cc_template **out, size_t *n, struct cc_error *err);

/* ---- console users, their sessions and wrong-password counts --------------- */

/* CC_ERR_NOT_FOUND when there is no such user (in any account). */
enum cc_err cc_store_user_get(struct cc_store *s, int64_t id, struct cc_user *out,
                              struct cc_error *err);
enum cc_err cc_store_user_by_email(struct cc_store *s, const char *email_norm,
                                   struct cc_user *out, struct cc_error *err);
/* The users of an account, oldest first, at most CC_USERS_MAX. *out: cc_free(). */
enum cc_err cc_store_user_list(struct cc_store *s, int64_t account_id, struct cc_user **out,
                               size_t *n, struct cc_error *err);
/* A session and its user; CC_ERR_NOT_FOUND when the token hash is unknown. */
enum cc_err cc_store_session_get(struct cc_store *s, const char *token_hash,
                                 struct cc_session *sess, struct cc_user *user,
                                 struct cc_error *err);
/* The wrong-password count of an email (zeros when none). */
enum cc_err cc_store_sign_in_failures(struct cc_store *s, const char *email_norm,
                                      struct cc_sign_in_failures *out, struct cc_error *err);
/* Sets u->id. A taken email is CC_ERR_ALREADY_EXISTS, field "Email". */
enum cc_err cc_tx_user_insert(struct cc_tx *tx, struct cc_user *u, struct cc_error *err);
/* Writes role, password_hash, language, disabled_at and last_sign_in_at of
 * u (matched by account and id); CC_ERR_NOT_FOUND when there is none. */
enum cc_err cc_tx_user_update(struct cc_tx *tx, const struct cc_user *u, struct cc_error *err);
enum cc_err cc_tx_user_delete(struct cc_tx *tx, int64_t account_id, int64_t id,
                              struct cc_error *err);
enum cc_err cc_tx_session_insert(struct cc_tx *tx, const struct cc_session *sess,
                                 struct cc_error *err);
/* Deletes one session (token_hash) or, with token_hash NULL, every session
 * of user_id. */
enum cc_err cc_tx_session_delete(struct cc_tx *tx, const char *token_hash, int64_t user_id,
                                 struct cc_error *err);
enum cc_err cc_tx_session_touch(struct cc_tx *tx, const char *token_hash, int64_t now,
                                struct cc_error *err);
/* Counts one wrong password for email_norm at now: a count older than
 * window_ms starts again at 1; reaching max_failures sets locked_until to
 * now + lock_ms. *out is the new state. */
enum cc_err cc_tx_sign_in_failure(struct cc_tx *tx, const char *email_norm, int64_t now,
                                  int64_t window_ms, int64_t max_failures, int64_t lock_ms,
                                  struct cc_sign_in_failures *out, struct cc_error *err);
enum cc_err cc_tx_sign_in_clear(struct cc_tx *tx, const char *email_norm, struct cc_error *err);

#endif
