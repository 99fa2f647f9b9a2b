/*
 * reminders.h — the store's side of expiry reminders: an account's reminder
 * settings, each certificate's reminder state (its own thresholds, when its
 * next reminder falls due, the point last raised), the due certificates the
 * scheduler takes, and cancelling the reminders still waiting in the outbox
 * for a certificate that no longer needs them. The service computes every
 * due point (service/reminders.c). See store_ops.h for how the list becomes
 * functions.
 */
#ifndef CC_STORE_REMINDERS_H
#define CC_STORE_REMINDERS_H

#include "store/store_ops.h"

#define CC_STORE_REMINDER_OPS(X)                                                           \
    /* The account's saved settings into *out; CC_ERR_NOT_FOUND when it has saved none   \
     * (the service's defaults apply). */                                                 \
    X(read, reminder_settings_get,                                                         \
      (int64_t account_id, struct cc_reminder_settings *out, struct cc_error *err),       \
      (account_id, out, err))                                                              \
    X(tx, reminder_settings_get,                                                           \
      (int64_t account_id, struct cc_reminder_settings *out, struct cc_error *err),       \
      (account_id, out, err))                                                              \
    /* Saves s (s->account_id's row, replaced). */                                         \
    X(tx, reminder_settings_put, (const struct cc_reminder_settings *s, struct cc_error *err),\
      (s, err))                                                                            \
    /* The language of the account's earliest admin console user into out ("" when it   \
     * has none). */                                                                       \
    X(tx, reminder_admin_language,                                                         \
      (int64_t account_id, char *out, size_t outsz, struct cc_error *err),                \
      (account_id, out, outsz, err))                                                       \
    X(read, reminder_admin_language,                                                       \
      (int64_t account_id, char *out, size_t outsz, struct cc_error *err),                \
      (account_id, out, outsz, err))                                                       \
    /* Writes certificate id's next reminder time (0: none left) and the due time of the \
     * point last raised. */                                                               \
    X(tx, cert_reminder_set,                                                               \
      (int64_t account_id, int64_t id, int64_t next_at, int64_t raised,                    \
       struct cc_error *err),                                                              \
      (account_id, id, next_at, raised, err))                                              \
    /* Writes certificate id's own thresholds (n days), or with has 0 makes it follow    \
     * the account's. */                                                                   \
    X(tx, cert_reminder_days_set,                                                          \
      (int64_t account_id, int64_t id, int has, const int *days, size_t n,                 \
       struct cc_error *err),                                                              \
      (account_id, id, has, days, n, err))                                                 \
    /* Up to max certificates whose next reminder is due at now (ms), earliest first:    \
     * their ids and accounts; *n is set. */                                               \
    X(tx, cert_reminder_due,                                                               \
      (int64_t now, size_t max, int64_t *ids, int64_t *accounts, size_t *n,                \
       struct cc_error *err),                                                              \
      (now, max, ids, accounts, n, err))                                                   \
    /* When the earliest reminder falls due (ms); 0 when none is waiting. */               \
    X(read, cert_reminder_next, (int64_t *at, struct cc_error *err), (at, err))            \
    /* Up to max ids of the account's active certificates after after_id, by id; *n is   \
     * set (a page: call again with the last id until *n < max). */                        \
    X(tx, cert_reminder_account,                                                           \
      (int64_t account_id, int64_t after_id, size_t max, int64_t *ids, size_t *n,          \
       struct cc_error *err),                                                              \
      (account_id, after_id, max, ids, n, err))                                            \
    /* Cancels the pending certificate.expiring and certificate.expired notifications     \
     * of certificate id (its events' data names it); *cancelled: how many. */            \
    X(tx, reminder_cancel_pending,                                                         \
      (int64_t account_id, int64_t id, int64_t now, int64_t *cancelled,                   \
       struct cc_error *err),                                                              \
      (account_id, id, now, cancelled, err))

CC_STORE_REMINDER_OPS(CC_STORE_DECLARE)

#endif
