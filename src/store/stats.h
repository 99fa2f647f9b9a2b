/*
 * stats.h — the store's side of the console's Overview (service/stats.c):
 * finished notifications counted per hour of their outcome, the robots and
 * addresses the platforms refused for good, the contacts with an address
 * not verified, and the certificates that expire soon. Every read is of one
 * account, by an index, with a bound. See store_ops.h for how the list
 * becomes functions.
 */
#ifndef CC_STORE_STATS_H
#define CC_STORE_STATS_H

#include "store/store_ops.h"

#define CC_STORE_STATS_OPS(X)                                                              \
    /* Adds to out->counts the account's notifications that finished (delivered,         \
     * failed, dead) from out->since (ms) until before `until`, by the hour of their      \
     * outcome (updated_at) counted from out->since, for hours below out->n_hours.        \
     * out->counts is zeroed by the caller. */                                            \
    X(read, stats_outcomes,                                                                \
      (int64_t account_id, int64_t until, struct cc_stats_counts *out, struct cc_error *err),\
      (account_id, until, out, err))                                                       \
    /* The account's robots marked broken, latest first, then its contacts with an       \
     * address marked broken (one entry per address), at most max in all; out has room   \
     * for max. */                                                                         \
    X(read, stats_broken,                                                                  \
      (int64_t account_id, size_t max, struct cc_stats_broken *out, size_t *n,            \
       struct cc_error *err),                                                              \
      (account_id, max, out, n, err))                                                      \
    /* How many of the account's contacts have an email address or mobile number not     \
     * verified (*total), and the first max of them by id into out (room for max). */     \
    X(read, stats_unverified,                                                              \
      (int64_t account_id, size_t max, struct cc_stats_unverified *out, size_t *n,        \
       int64_t *total, struct cc_error *err),                                              \
      (account_id, max, out, n, total, err))                                               \
    /* The account's active certificates with from <= not_after < until, soonest first,  \
     * at most max (out has room for max). */                                              \
    X(read, stats_expiring,                                                                \
      (int64_t account_id, int64_t from, int64_t until, size_t max,                        \
       struct cc_stats_expiring *out, size_t *n, struct cc_error *err),                    \
      (account_id, from, until, max, out, n, err))

CC_STORE_STATS_OPS(CC_STORE_DECLARE)

#endif
