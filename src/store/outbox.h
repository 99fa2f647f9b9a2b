/*
 * outbox.h — the store's outbox: events, the notifications they cause (one
 * row per contact, channel and target, claimed and leased by the
 * dispatcher), each notification's attempts, and the health of the
 * channels they go to. See store_ops.h for how the list becomes functions.
 */
#ifndef CC_STORE_OUTBOX_H
#define CC_STORE_OUTBOX_H

#include "store/store_ops.h"

/* Test sends since a time, for their limits (cc_tx_test_send_counts). */
struct cc_test_send_counts {
    int64_t subject_n, subject_oldest;  /* of the subject: how many, the oldest (ms) */
    int64_t account_n, account_oldest;  /* of the whole account */
};

/* The most notifications one cc_tx_notif_insert writes: a contact's in an
 * event (its email, its mobile, each robot). */
#define CC_NOTIF_INSERT_MAX (2 + CC_WEBHOOKS_MAX)

#define CC_STORE_OUTBOX_OPS(X)                                                             \
    /* Sets e->id. */                                                                      \
    X(tx, event_insert, (struct cc_event *e, struct cc_error *err), (e, err))              \
    /* Writes e->skipped, and the range of its notifications' ids, on the event e->id. */ \
    X(tx, event_set_skipped, (const struct cc_event *e, struct cc_error *err), (e, err))   \
    /* Inserts the n notifications ns (1 to CC_NOTIF_INSERT_MAX, one statement on       \
     * SQLite) and sets each one's id; each idempotency key new (the caller's to see to;  \
     * on PostgreSQL one that exists inserts nothing and its id is 0). Each is pending,   \
     * or skipped (status "skipped") with why in last_error. With lease_owner (not       \
     * NULL), each pending one with a lease_until is born claimed by that dispatcher      \
     * instance until then, as if cc_tx_notif_claim had taken it. */                      \
    X(tx, notif_insert,                                                                    \
      (struct cc_notification *ns, size_t n, const char *lease_owner,                      \
       struct cc_error *err),                                                              \
      (ns, n, lease_owner, err))                                                           \
    /* Claims up to max due notifications (pending, next_attempt_at and lease_until       \
     * passed) for lease_ms, leased to owner (the claiming dispatcher's instance id,      \
     * borrowed): out has room for max. */                                                 \
    X(tx, notif_claim,                                                                     \
      (const char *owner, int64_t now, int64_t lease_ms, size_t max,                       \
       struct cc_notification *out, size_t *n, struct cc_error *err),                      \
      (owner, now, lease_ms, max, out, n, err))                                            \
    /* Claims, like cc_tx_notif_claim, the first due notification (lowest id) among the \
     * first 16 (CC_NOTIF_FRESH_LAST) of each event after *after (an event id), at most   \
     * max events in id order, and sets *after                                            \
     * to the last event looked at: the dispatcher starts each new event ahead of the     \
     * queue. *after < 0: claims nothing and sets *after to the newest event (0: none).   \
     * out has room for max. */                                                           \
    X(tx, notif_claim_fresh,                                                               \
      (const char *owner, int64_t *after, int64_t now, int64_t lease_ms, size_t max,       \
       struct cc_notification *out, size_t *n, struct cc_error *err),                      \
      (owner, after, now, lease_ms, max, out, n, err))                                     \
    /* Claims, like cc_tx_notif_claim, the other pending notifications of the account to  \
     * the robot at url that are waiting their turn (never tried yet, or due) — except    \
     * except_id — so they can go out in one message. url NULL: the robot of              \
     * notification except_id. */                                                          \
    X(tx, notif_claim_dest,                                                                \
      (const char *owner, int64_t account_id, const char *url, int64_t except_id,          \
       int64_t now, int64_t lease_ms, size_t max, struct cc_notification *out, size_t *n,  \
       struct cc_error *err),                                                              \
      (owner, account_id, url, except_id, now, lease_ms, max, out, n, err))                \
    /* Makes due at once the pending notifications leased by an earlier run of the       \
     * dispatcher instance owner (an instance's id is kept in its data directory, whose   \
     * lock lets one process run: an earlier run is a dead one); *released: how many.    \
     * Called once as the instance starts, before its first claim. SQLite: one server    \
     * per data directory, so every lease is a dead process's. PostgreSQL: only owner's  \
     * (other instances' leases run out by themselves if those instances died). */       \
    X(tx, notif_release_leases,                                                            \
      (const char *owner, int64_t *released, struct cc_error *err), (owner, released, err)) \
    /* Writes n's status, attempts, next_attempt_at and last_error and clears its lease, \
     * only while owner (NULL: anyone) still holds that lease: a notification whose      \
     * lease ran out and that another instance claimed since is left to that instance.   \
     * Records the attempt a (may be NULL) either way: it was made. */                    \
    X(tx, notif_record,                                                                    \
      (const struct cc_notification *n, const struct cc_attempt *a, const char *owner,    \
       struct cc_error *err),                                                              \
      (n, a, owner, err))                                                                  \
    /* Cancels every pending notification of a contact. */                                 \
    X(tx, notif_cancel_contact,                                                            \
      (int64_t account_id, int64_t contact_id, int64_t now, struct cc_error *err),         \
      (account_id, contact_id, now, err))                                                  \
    /* Makes a finished notification pending again, due now. */                            \
    X(tx, notif_resend, (int64_t account_id, int64_t id, int64_t now, struct cc_error *err),\
      (account_id, id, now, err))                                                          \
    /* Marks a contact's channel broken with reason, or clears the mark (reason NULL):    \
     * channel "email", "mobile", or "webhook" with webhook_id. */                         \
    X(tx, channel_health,                                                                  \
      (int64_t account_id, int64_t contact_id, const char *channel, int64_t webhook_id,    \
       const char *reason, int64_t at, struct cc_error *err),                              \
      (account_id, contact_id, channel, webhook_id, reason, at, err))                      \
    X(read, event_get,                                                                     \
      (int64_t account_id, int64_t id, struct cc_event *out, struct cc_error *err),        \
      (account_id, id, out, err))                                                          \
    /* *out owned by the caller: cc_free(). */                                             \
    X(read, notif_list,                                                                    \
      (const struct cc_notif_filter *f, struct cc_notification **out, size_t *n,           \
       int64_t *total, struct cc_error *err),                                              \
      (f, out, n, total, err))                                                             \
    X(read, notif_get,                                                                     \
      (int64_t account_id, int64_t id, struct cc_notification *out, struct cc_error *err), \
      (account_id, id, out, err))                                                          \
    /* The attempts of a notification, oldest first, at most max. *out: cc_free(). */     \
    X(read, attempts_list,                                                                 \
      (int64_t notification_id, struct cc_attempt **out, size_t *n, struct cc_error *err), \
      (notification_id, out, n, err))                                                      \
    /* Of the notifications ids (n of them, at most CC_DISPATCH_CLAIM_MAX), those still    \
     * pending and leased to owner past now, in id order, into out (room for n): what a   \
     * dispatcher was handed at their birth (cc_tx_notif_insert with a lease owner). */    \
    X(read, notif_leased,                                                                  \
      (const char *owner, const int64_t *ids, size_t n, int64_t now,                       \
       struct cc_notification *out, size_t *got, struct cc_error *err),                    \
      (owner, ids, n, now, out, got, err))                                                 \
    /* When the next pending notification falls due (ms), 0 when none is. */               \
    X(read, notif_next_due, (int64_t *at, struct cc_error *err), (at, err))                \
    /* For /metrics: how many notifications are pending, and when the oldest of those    \
     * due by now fell due (ms; 0 when none is due). Index-only on notifications_due. */  \
    X(read, notif_gauges, (int64_t now, int64_t *pending, int64_t *oldest_due_at,         \
                           struct cc_error *err), (now, pending, oldest_due_at, err))      \
    /* Deletes the finished notifications (not pending) last changed before `before`,    \
     * with their attempts; *n: how many. */                                               \
    X(tx, notif_purge, (int64_t before, int64_t *n, struct cc_error *err), (before, n, err))\
    /* The account's test sends at or after since: all of them, and those of subject      \
     * ("contact:<id>" or "robot:<hash>"). */                                             \
    X(tx, test_send_counts,                                                                \
      (int64_t account_id, const char *subject, int64_t since,                             \
       struct cc_test_send_counts *out, struct cc_error *err),                             \
      (account_id, subject, since, out, err))                                              \
    /* Records a test send of subject at `at`, and forgets the account's test sends       \
     * older than a day before it. */                                                      \
    X(tx, test_send_record,                                                                \
      (int64_t account_id, const char *subject, int64_t at, struct cc_error *err),         \
      (account_id, subject, at, err))

CC_STORE_OUTBOX_OPS(CC_STORE_DECLARE)

#endif
