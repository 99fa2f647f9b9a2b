/*
 * store_common.h — the backend-neutral logic both store backends share
 * (sqlite_<aggregate>.c and pg_<aggregate>.c): what they compute from
 * their arguments or from the values they read, without SQL or a driver
 * call, so that the two cannot drift apart.
 */
#ifndef CC_STORE_COMMON_H
#define CC_STORE_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* ---- contacts ------------------------------------------------------------------------- */
/* The URL tags of the contact's robots as a JSON array text (free()), the
 * rows to keep when its webhooks are replaced; NULL when out of memory. */
char *cc_store_webhooks_keep_json(const struct cc_contact *ct);

/* The masks of the contact's email (em) and mobile (mm) that its erasure
 * writes in their place; returns its mobile without +86. */
const char *cc_store_erase_masks(const struct cc_contact *ct, char em[CC_MASKED_MAX],
                                 char mm[CC_MASKED_MAX]);

/* ---- audit ---------------------------------------------------------------------------- */
/* Fills *e for tx_audit: an entry with detail (may be NULL) as its changes
 * ({"detail":{"new":detail}}, e->changes to free()). */
enum cc_err cc_store_audit_entry_make(struct cc_audit_entry *e, int64_t account_id,
                                      const char *actor, const char *action,
                                      const char *object_type, int64_t object_id,
                                      const char *detail, int64_t now, struct cc_error *err);

/* An entry to append must name a known action. */
enum cc_err cc_store_audit_check(const struct cc_audit_entry *e, struct cc_error *err);

/* Links e to the chain's end (last id, its hash prev): its id and hash. */
void cc_store_audit_link(struct cc_audit_entry *e, int64_t last, const char *prev);

/* ---- sealed columns ------------------------------------------------------------------- */
/* X(column, table, row key, sealed column) for each enum cc_sealed_column. */
#define CC_STORE_SEALED_COLUMN_LIST(X)                                                     \
    X(CC_SEALED_ACCESS_KEY_SECRET, "access_keys", "id", "secret_enc")                      \
    X(CC_SEALED_ID_CARD, "contacts", "id", "id_card_enc")                                  \
    X(CC_SEALED_WEBHOOK_SECRET, "contact_webhooks", "id", "secret_enc")                    \
    X(CC_SEALED_CERT_KEY, "certificates", "id", "private_key_enc")                         \
    X(CC_SEALED_WEBHOOK_URL, "contact_webhook_urls", "webhook_id", "url_enc")              \
    X(CC_SEALED_ACME_ACCOUNT_KEY, "acme_accounts", "id", "key_enc")                        \
    X(CC_SEALED_ACME_ORDER_KEY, "acme_orders", "application_id", "key_enc")

/* 1 when table.column is one of the list's (the key's rotation knows it). */
int cc_store_sealed_known(const char *table, const char *column);

/* ---- verifications -------------------------------------------------------------------- */
/* The stored names of enum cc_verif_status, by its value. */
extern const char *const cc_store_verif_status_names[4];

/* The status a stored name stands for; CC_VERIF_SENDING when unknown. */
enum cc_verif_status cc_store_verif_status_parse(const char *name);

/* ---- reminders ------------------------------------------------------------------------ */
/* A JSON array text of whole days into days (at most CC_REMINDER_DAYS_MAX);
 * anything else is read as none. */
size_t cc_store_days_parse(const char *text, int *days);

/* days as a JSON array text into out (room for CC_REMINDER_DAYS_MAX numbers). */
void cc_store_days_text(const int *days, size_t n, char *out, size_t outsz);

#endif
