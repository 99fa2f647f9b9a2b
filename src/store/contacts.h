/*
 * contacts.h — the store's contacts: their robot webhooks, the keyword
 * search of the contact list, and the idempotency keys of contact creation
 * (they remember which contact a retried create made, so they live and die
 * with the contacts). See store_ops.h for how the list becomes functions.
 */
#ifndef CC_STORE_CONTACTS_H
#define CC_STORE_CONTACTS_H

#include "store/store_ops.h"

struct cc_contact_query {
    int64_t account_id;
    const char *keyword;      /* NULL or "" for all */
    int64_t page;             /* from 1 */
    int64_t page_size;
    /* For a caller who sees addresses only masked: the keyword matches within names
     * only, and whole addresses exactly — email_exact (normalised, NULL: the keyword is
     * no email) or mobile_exact (normalised, NULL: no mobile) — never a part of one. */
    int names_only;
    const char *email_exact, *mobile_exact;
    /* A keyword written as a phone number is shown ("+86 158 1234", "158-1234"), in the
     * form addresses are stored: digits and a leading "+86", without spaces or dashes;
     * NULL when the keyword is not one or is already that form. Matched as a part of an
     * address like the keyword itself (never when names_only). */
    const char *phone;
    /* A keyword search counts its matches up to this many: past it, out->total is
     * count_max and out->total_capped is set. 0: exact, however many. The service
     * sets it for keyword searches only. */
    int64_t count_max;
};

/* A contact as another one's clash names it. */
struct cc_contact_ref {
    int64_t id; /* 0: none */
    char name[CC_NAME_MAX_BYTES + 1];
};

/* A robot's URL as a database from before sealing holds it. */
struct cc_webhook_plain {
    int64_t id;
    char url[CC_URL_MAX + 1];
};

#define CC_STORE_CONTACT_OPS(X)                                                            \
    /* The contact and its webhooks; CC_ERR_NOT_FOUND when the account has no such id. */ \
    X(read, contact_get,                                                                   \
      (int64_t account_id, int64_t id, struct cc_contact *out, struct cc_error *err),      \
      (account_id, id, out, err))                                                          \
    /* One page of the account's contacts, newest first, whose name, email or mobile      \
     * contains q->keyword (q->names_only: see struct cc_contact_query). out->items is    \
     * owned by the caller: cc_contact_page_free(). */                                     \
    X(read, contact_list,                                                                  \
      (const struct cc_contact_query *q, struct cc_contact_page *out,                      \
       struct cc_error *err),                                                              \
      (q, out, err))                                                                       \
    X(tx, contact_get,                                                                     \
      (int64_t account_id, int64_t id, struct cc_contact *out, struct cc_error *err),      \
      (account_id, id, out, err))                                                          \
    X(tx, contact_count, (int64_t account_id, int64_t *n, struct cc_error *err),           \
      (account_id, n, err))                                                                \
    /* From here to the end of the transaction, the contacts it inserts may go uncounted  \
     * in the account's count until contact_count_settle. PostgreSQL: each insert's count \
     * update adds a version of the account's row that every later one walks, so a long  \
     * transaction costs the square of its rows. SQLite counts as it goes; a no-op. */    \
    X(tx, contact_count_defer, (struct cc_error *err), (err))                              \
    /* Adds inserted, the contacts this transaction inserted since contact_count_defer,   \
     * to account_id's count, and counts every insert again from here. */                 \
    X(tx, contact_count_settle, (int64_t account_id, int64_t inserted, struct cc_error *err),\
      (account_id, inserted, err))                                                         \
    /* The account's contact, other than except_id (0: none), that has this address:      \
     * email_norm (normalised), or mobile (normalised) when email_norm is NULL; out->id   \
     * is 0 when there is none. */                                                         \
    X(tx, contact_holder,                                                                  \
      (int64_t account_id, int64_t except_id, const char *email_norm, const char *mobile,  \
       struct cc_contact_ref *out, struct cc_error *err),                                  \
      (account_id, except_id, email_norm, mobile, out, err))                               \
    /* Inserts c and its webhooks; sets c->id and the webhooks' ids. A duplicate email or \
     * mobile in the account fails with CC_ERR_ALREADY_EXISTS, field "Email" or "Mobile". */\
    X(tx, contact_insert, (struct cc_contact *c, struct cc_error *err), (c, err))          \
    /* Writes every field of c (matched by account and id) and replaces its webhooks with \
     * c's: a URL that stays keeps its id, and every webhook's id is set in c.            \
     * CC_ERR_NOT_FOUND when there is no such contact. */                                  \
    X(tx, contact_update, (struct cc_contact *c, struct cc_error *err), (c, err))          \
    X(tx, contact_delete, (int64_t account_id, int64_t id, struct cc_error *err),          \
      (account_id, id, err))                                                               \
    /* Moves contact from's certificate subscriptions to contact to (both of one account: \
     * the caller has checked); a certificate to subscribes to already keeps it once.     \
     * *n is how many certificates from was subscribed to. */                             \
    X(tx, contact_subscriptions_move,                                                      \
      (int64_t from, int64_t to, int64_t *n, struct cc_error *err), (from, to, n, err))    \
    /* CC_ERR_NOT_FOUND when the key was never used. hash: 65 bytes. */                   \
    X(tx, idem_get,                                                                        \
      (int64_t account_id, const char *key, char *hash, int64_t *contact_id,               \
       struct cc_error *err),                                                              \
      (account_id, key, hash, contact_id, err))                                            \
    X(tx, idem_put,                                                                        \
      (int64_t account_id, const char *key, const char *hash, int64_t contact_id,          \
       int64_t now, struct cc_error *err),                                                 \
      (account_id, key, hash, contact_id, now, err))                                       \
    /* Erases what the account keeps about contact c (its id and addresses) besides its    \
     * row, as it is deleted: the idempotency keys that made it (their request hash is a   \
     * hash of its data), the addresses of codes sent to them before it was saved (masked),\
     * and its addresses in the platforms' answers of its delivery log (masked). */        \
    X(tx, contact_erase, (const struct cc_contact *c, struct cc_error *err), (c, err))     \
    /* Up to max robots whose URL is not sealed yet (a database from before), by id. */    \
    X(tx, webhook_unsealed,                                                                \
      (size_t max, struct cc_webhook_plain *out, size_t *n, struct cc_error *err),         \
      (max, out, n, err))                                                                  \
    /* Replaces robot id's URL by its keyed hash tag and stores it sealed with its mask. */ \
    X(tx, webhook_seal,                                                                    \
      (int64_t id, const char *tag, const char *masked, const uint8_t *enc, size_t enc_len, \
       struct cc_error *err),                                                              \
      (id, tag, masked, enc, enc_len, err))                                                \
    /* The id of the account's contact whose email_norm and mobile (both normalised) are  \
     * these, or, when both are NULL, of its most recently created contact; 0 when there  \
     * is none. */                                                                         \
    X(read, contact_find_id,                                                               \
      (int64_t account_id, const char *email_norm, const char *mobile, int64_t *id,        \
       struct cc_error *err),                                                              \
      (account_id, email_norm, mobile, id, err))                                           \
    /* Up to max of the account's contacts with an id above after_id, by id (keyset     \
     * paging: an export reads every contact a page at a time), without their webhooks. */\
    X(tx, contact_page_after,                                                              \
      (int64_t account_id, int64_t after_id, size_t max, struct cc_contact *out, size_t *n, \
       struct cc_error *err),                                                              \
      (account_id, after_id, max, out, n, err))

CC_STORE_CONTACT_OPS(CC_STORE_DECLARE)

#endif
