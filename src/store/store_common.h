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

/* ---- the limits of a deployment (sqlite_shared.c, pg_shared.c) ------------------------- */
/* A cc_store_state_update in flight, and a cc_store_nonce_take. */
struct cc_state_op {
    const char *name;
    int64_t now_ms;
    int purge;                    /* also drop the states past their time */
    cc_state_fn fn;
    void *ctx;
};
struct cc_nonce_op {
    const char *scope, *nonce;
    int64_t expires_ms, now_ms, per_key;
    int purge;                    /* also drop the nonces past their time */
    int verdict;                  /* out: CC_NONCE_* */
    int64_t retry_ms;             /* out, with CC_NONCE_FULL */
};
/* Whether this call should also drop what has passed: true for one caller
 * a minute in this process. */
int cc_store_purge_due(int64_t now_ms);
/* The verdict on a nonce that was not taken, from live (the nonce is in use)
 * and first (the scope's first live nonce's expiry, 0: none). */
void cc_store_nonce_why(struct cc_nonce_op *op, int64_t live, int64_t first);

/* ---- migrations ----------------------------------------------------------------------- */
/* The newest migration number among the embedded files under prefix
 * (a backend's migrations folder, ending in '/'). */
int cc_store_schema_version(const char *prefix);

/* ---- templates ------------------------------------------------------------------------ */
/* The error of an account's own template that is not there. */
enum cc_err cc_store_template_missing(const char *event_type, const char *channel,
                                      const char *language, struct cc_error *err);

/* ---- lists ---------------------------------------------------------------------------- */
/* A list's search keyword (NULL or "": none) copied into kw and lower-cased
 * in ASCII, as the stored search text is; returns kw, or NULL when none. */
const char *cc_store_keyword(const char *keyword, char *kw, size_t kwsz);

/* ---- certificates --------------------------------------------------------------------- */
/* The state a stored name stands for (NULL or unknown: active). */
enum cc_cert_state cc_store_cert_state_parse(const char *name);

/* The name a state is stored under: expired is never stored (it is derived
 * from not_after), so an expired certificate is stored as active. */
const char *cc_store_cert_state_stored(enum cc_cert_state state);

/* The rows page (from 1) of page_size can hold when total rows are counted:
 * page_size, fewer on the last page, 0 past the end. A list allocates this
 * many once it has counted, not page_size of them up front. */
size_t cc_store_page_rows(int64_t total, int64_t page, int64_t page_size);

/* ---- contacts ------------------------------------------------------------------------- */
/* The LIMIT of a keyword search's count: one past q->count_max (to see that
 * there are more), or no limit. */
int64_t cc_store_count_limit(const struct cc_contact_query *q);
/* A count made with that LIMIT, in out->total: cut to q->count_max and marked. */
void cc_store_count_cut(const struct cc_contact_query *q, struct cc_contact_page *out);
/* Allocates the page's items once out->total is counted and the offset of
 * q's page into *offset; 0 when the page lies past the end (nothing to read). */
int cc_store_contact_page_open(const struct cc_contact_query *q, struct cc_contact_page *out,
                               int64_t *offset);

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

/* ---- endpoints ------------------------------------------------------------------------ */
/* Ends a list of *n endpoints read into items: on rc an error, frees them
 * (*n 0), else hands them to *out; returns rc. */
enum cc_err cc_store_endpoint_page_end(enum cc_err rc, struct cc_endpoint *items,
                                       struct cc_endpoint **out, size_t *n);

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

/* ---- statement pieces both backends write the same ------------------------------------ */
/* accounts */
#define CC_KEY_COLS                                                                        \
    "k.id, k.account_id, k.secret_enc, k.role, k.created_at, k.disabled_at, l.expires_at, " \
    "l.last_used_at FROM access_keys k LEFT JOIN access_key_life l ON l.key_id = k.id "

/* applications */
#define CC_APP_COLS                                                                        \
    "id, account_id, contact_id, product, state, domains, csr, certificate_pem, version, " \
    "created_at, updated_at"
/* CC_APP_COLS and the validation type (migration 0019), read by read_validation(). */
#define CC_APP_COLS_V                                                                      \
    CC_APP_COLS ", (SELECT v.validate_type FROM application_validation v "                 \
             "WHERE v.application_id = applications.id)"
#define CC_VALIDATION_COL 11
#define CC_OPEN_STATES "('submitted', 'pending_validation', 'approved')"

/* audit */
#define CC_ENTRY_COLS                                                                      \
    "id, created_at, account_id, actor, source, request_id, action, target_type, "         \
    "target_id, changes, hash"

/* certificates */
/* The columns every read takes, in the order read_row() expects. */
#define CC_CERT_COLS                                                                       \
    "c.id, c.account_id, c.name, c.common_name, c.domains, c.issuer, c.serial, c.key_type, " \
    "c.key_bits, c.fingerprint, c.product, c.not_before, c.not_after, c.chain_len, c.state, " \
    "c.revoked_at, c.superseded_by, c.created_at, c.updated_at, "                          \
    "c.private_key_enc IS NOT NULL, r.reminder_days, r.next_reminder_at, r.raised_at"
/* Each read takes the certificate with its reminder state (migration 0013). */
#define CC_CERT_FROM                                                                       \
    " FROM certificates c LEFT JOIN certificate_reminders r ON r.certificate_id = c.id "

/* contacts */
#define CC_CONTACT_COLS                                                                    \
    "id, account_id, name, email, email_norm, email_verified_at, mobile, "                 \
    "mobile_verified_at, id_card_enc, id_card_masked, language, version, created_at, "     \
    "updated_at, coalesce(email_broken, ''), coalesce(mobile_broken, '')"

/* outbox */
/* A fresh claim (cc_tx_notif_claim_fresh) looks for an event's first due
 * notification among its first 16 rows only (this is the offset of the
 * last). An event's rows are its contacts' in the order named, and a contact
 * with nothing to send has 3 rows (email, mobile, robots: all skipped), so
 * the window reaches the first row of the sixth contact at least. The rows
 * an event's write gave a dispatcher (born leased, in its hand) go ahead
 * from there without a claim: without the window, each fresh claim walked
 * every row of such an event, hundreds, to find none. */
#define CC_NOTIF_FRESH_LAST "15"

#define CC_NOTIF_COLS                                                                      \
    "id, account_id, event_id, contact_id, webhook_id, channel, target, status, "          \
    "attempts, next_attempt_at, lease_until, coalesce(last_error, ''), idempotency_key, "  \
    "created_at, updated_at"

/* The n ids between open and close, comma-separated, into b (initialised
 * here; cc_buf_free it): "[1,2]" a JSON array for SQLite's json_each,
 * "{1,2}" a PostgreSQL array literal. */
struct cc_buf;
void cc_store_id_list(struct cc_buf *b, const int64_t *ids, size_t n, char open, char close);

/* templates */
/* An account has at most one template per event type, channel and
 * language: 8 x 3 x 2. The cap only bounds the read. */
#define CC_TEMPLATES_MAX 64

/* verifications */
#define CC_VERIF_COLS                                                                      \
    "id, account_id, contact_id, channel, target, code_hash, status, attempts, sent_at, "  \
    "expires_at, confirmed_at"

/* The first name of a certificate's domains (a JSON array text) into out; ""
 * when it names none. */
void cc_store_first_domain(const char *domains_json, char *out, size_t outsz);

#endif
