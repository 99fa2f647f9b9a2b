/*
 * verifications.h — the store's verification codes: sending records, the
 * counts the sending limits need, attempts, and the confirmation that marks
 * a contact's address verified. See store_ops.h for how the list becomes
 * functions.
 */
#ifndef CC_STORE_VERIFICATIONS_H
#define CC_STORE_VERIFICATIONS_H

#include "store/store_ops.h"

/* How many codes went out, for the sending limits. */
struct cc_verif_counts {
    int64_t target_last_sent_at;  /* newest send to the target, 0 = none */
    int64_t target_hour;          /* sends to the target since hour_since */
    int64_t target_day;           /* since day_since */
    int64_t target_oldest_in_hour, target_oldest_in_day;
    int64_t account_hour;         /* sends by the account since hour_since */
    int64_t account_oldest_in_hour;
};

#define CC_STORE_VERIF_OPS(X)                                                              \
    /* Sets v->id. */                                                                      \
    X(tx, verif_insert, (struct cc_verification *v, struct cc_error *err), (v, err))       \
    /* CC_ERR_VERIFICATION_NOT_FOUND when the account has no such id. */                  \
    X(tx, verif_get,                                                                       \
      (int64_t account_id, int64_t id, struct cc_verification *out, struct cc_error *err), \
      (account_id, id, out, err))                                                          \
    /* The newest code sent (status sent) for a contact's channel. */                     \
    X(tx, verif_latest,                                                                    \
      (int64_t account_id, int64_t contact_id, const char *channel,                        \
       struct cc_verification *out, struct cc_error *err),                                 \
      (account_id, contact_id, channel, out, err))                                         \
    /* Writes status, attempts, confirmed_at, target and failure of v (by id). */         \
    X(tx, verif_update,                                                                    \
      (const struct cc_verification *v, const char *failure, struct cc_error *err),        \
      (v, failure, err))                                                                   \
    /* Marks the contact's earlier codes for the channel superseded. */                   \
    X(tx, verif_supersede,                                                                 \
      (int64_t account_id, int64_t contact_id, const char *channel, int64_t except_id,     \
       struct cc_error *err),                                                              \
      (account_id, contact_id, channel, except_id, err))                                   \
    /* The newest codes (at most max) sent to contact_id's addresses, newest first.       \
     * out has room for max. */                                                            \
    X(tx, verif_list_contact,                                                              \
      (int64_t account_id, int64_t contact_id, size_t max, struct cc_verification *out,    \
       size_t *n, struct cc_error *err),                                                   \
      (account_id, contact_id, max, out, n, err))                                          \
    /* Up to max finished codes (confirmed, failed, superseded, or expired at `now`)     \
     * whose target is still in full (no '*'). */                                         \
    X(tx, verif_finished_unmasked,                                                         \
      (int64_t now, size_t max, struct cc_verification *out, size_t *n,                    \
       struct cc_error *err),                                                              \
      (now, max, out, n, err))                                                             \
    /* Replaces code id's target (by the masked form). */                                  \
    X(tx, verif_set_target, (int64_t id, const char *target, struct cc_error *err),        \
      (id, target, err))                                                                   \
    /* Deletes the codes sent before `before`; *n: how many. */                            \
    X(tx, verif_purge, (int64_t before, int64_t *n, struct cc_error *err), (before, n, err))\
    /* The sends to an address (its tag, or its full target for rows from before tags)  \
     * and the account's. */                                                               \
    X(tx, verif_counts,                                                                    \
      (int64_t account_id, const char *channel, const char *target, const char *tag,       \
       int64_t hour_since, int64_t day_since, struct cc_verif_counts *out,                 \
       struct cc_error *err),                                                              \
      (account_id, channel, target, tag, hour_since, day_since, out, err))                 \
    /* When the account confirmed the address (tag, or target for rows from before tags)  \
     * on channel at or after since: the time (ms) in *at, else 0. */                      \
    X(tx, verif_confirmed_since,                                                           \
      (int64_t account_id, const char *channel, const char *target, const char *tag,       \
       int64_t since, int64_t *at, struct cc_error *err),                                  \
      (account_id, channel, target, tag, since, at, err))                                  \
    /* The account's newest code to the address (its tag) on channel that can still be    \
     * typed in at `now`: sent, not confirmed, not expired, fewer than max_attempts wrong  \
     * tries. CC_ERR_VERIFICATION_NOT_FOUND when there is none. */                        \
    X(tx, verif_valid_for_target,                                                          \
      (int64_t account_id, const char *channel, const char *tag, int64_t now,              \
       int64_t max_attempts, struct cc_verification *out, struct cc_error *err),           \
      (account_id, channel, tag, now, max_attempts, out, err))                             \
    /* The account's contact other than except_id whose email (normalised) or mobile is   \
     * target: its id in *id and its name in name (namesz bytes); *id 0 when none. */     \
    X(tx, verif_address_owner,                                                             \
      (int64_t account_id, const char *channel, const char *target, int64_t except_id,     \
       int64_t *id, char *name, size_t namesz, struct cc_error *err),                      \
      (account_id, channel, target, except_id, id, name, namesz, err))                     \
    /* Marks the contact's email or mobile verified at `at`, when its current address on  \
     * that channel is still target; CC_ERR_VERIFICATION_NOT_FOUND when the contact is    \
     * gone or its address changed. It writes the contact, but it is the last step of a   \
     * confirmation and fails in the verification's terms, so it lives here. */            \
    X(tx, contact_set_verified,                                                            \
      (int64_t account_id, int64_t contact_id, const char *channel, const char *target,    \
       int64_t at, struct cc_error *err),                                                  \
      (account_id, contact_id, channel, target, at, err))

CC_STORE_VERIF_OPS(CC_STORE_DECLARE)

#endif
