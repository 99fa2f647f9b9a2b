/*
 * service_int.h — helpers shared by the files of the service layer.
 */
#ifndef CC_SERVICE_INT_H
#define CC_SERVICE_INT_H

#include <jansson.h>
#include <pthread.h>

#include "delivery/delivery.h"
#include "service/service.h"
#include "store/store.h"

/* A background job's thread (audit retention, scheduled backups): its
 * loop waits on cv under mu and ends once stopping is set. */
struct svc_job {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stopping;
};
/* Starts job's thread running fn(arg): 0, or -1 with nothing left to undo. */
int svc_job_start(struct svc_job *job, void *(*fn)(void *), void *arg);
/* Sets stopping, wakes the thread, waits for it to end and frees the rest. */
void svc_job_stop(struct svc_job *job);

struct cc_service {
    struct cc_store *store;
    struct svc_keyring *keys;                  /* owned; the master keys (master_key.c) */
    struct cc_service_config cfg;
    const struct cc_delivery_config *delivery; /* borrowed; NULL: nothing can be sent */
    struct cc_dispatcher *dispatcher;          /* borrowed; NULL outside serve */
    struct svc_reminders *reminders;           /* owned; NULL outside serve */
    char public_url[512];                      /* the console's base for links; "" none */
    struct svc_audit_job *audit_job;           /* owned; NULL unless retention runs */
    struct svc_backup_job *backup_job;         /* owned; NULL unless backup_dir is set */
    struct svc_endpoints *endpoints;           /* owned; the checker, NULL outside serve */
    struct svc_acme *acme;                     /* owned; NULL unless ACME issuance runs */
    struct svc_imports *imports;               /* owned; contact imports' queue (imports.c) */
};

/* How a contact is about to be shown. */
enum svc_view { SVC_VIEW_DETAIL, SVC_VIEW_LIST };
/* Masks c in place for the caller and the view, and wipes every secret:
 * list views (and callers with mask_addresses) mask email and mobile;
 * readonly callers also get webhook tokens masked; the ID number is always
 * masked. Every contact the service hands out goes through here. */
void svc_contact_view(const struct cc_caller *caller, enum svc_view view, struct cc_contact *c);

/* Within a contact write: when the account confirmed this address in the
 * last CC_VERIFY_CARRY_MS, the time of that confirmation, else 0. */
int64_t svc_verify_recent(struct cc_tx *tx, const struct cc_service *svc, int64_t account_id,
                          const char *channel, const char *target, int64_t now);

#define AAD_ID_CARD     CC_AAD_ID_CARD
#define AAD_WEBHOOK     CC_AAD_WEBHOOK
#define AAD_ACCESS_KEY  CC_AAD_ACCESS_KEY

/* The master keys this process knows (master_key.c): made with the key the
 * database's values are sealed with, and freed (wiped) with the service. */
struct svc_keyring *svc_keyring_new(const uint8_t key[CC_KEY_LEN]);
void svc_keyring_free(struct svc_keyring *r);
/* The keys for keyed hashes into keys (max at most): the one values are
 * sealed with now first, then the others a rotation may still have used.
 * Returns how many; the caller wipes them. */
int svc_hmac_keys(const struct cc_service *svc, uint8_t keys[][CC_KEY_LEN], int max);

/* Encrypts the NUL-terminated pt with the master key values are sealed with
 * now (a rotation's new key while one runs) and a fresh nonce. */
enum cc_err svc_seal(const struct cc_service *svc, const char *aad, const char *pt,
                     uint8_t *out, size_t outsz, size_t *outlen, struct cc_error *err);
/* Decrypts into out (NUL-terminated) with the key the value names. */
enum cc_err svc_open(const struct cc_service *svc, const char *aad, const uint8_t *in,
                     size_t inlen, char *out, size_t outsz, struct cc_error *err);

/* The key values are sealed with now (the database's, or a rotation's new
 * one) and its fingerprint; the caller wipes key. */
void svc_sealing_key(const struct cc_service *svc, uint8_t key[CC_KEY_LEN],
                     uint8_t fp[CC_KEY_TAG_LEN]);
/* Seals pt under key (fingerprint fp). */
enum cc_err svc_seal_under(const uint8_t key[CC_KEY_LEN], const uint8_t fp[CC_KEY_TAG_LEN],
                           const char *aad, const char *pt, uint8_t *out, size_t outsz,
                           size_t *outlen, struct cc_error *err);
/* The most keys the service holds at once (master_key.c's ring). */
#define SVC_KEYS_MAX 4

#define AAD_WEBHOOK_URL CC_AAD_WEBHOOK_URL
/* A robot URL's tag under key: "h1:" and a keyed hash in hex, for equality
 * without the token (contact_webhooks.url). */
void svc_url_tag(const uint8_t key[CC_KEY_LEN], const char *url, char tag[CC_URL_TAG_LEN + 1]);
/* url's tag under each key the service holds (the sealing key's first), up
 * to max; how many. A tag stored before a rotation finished is one of them. */
int svc_url_tags(const struct cc_service *svc, const char *url,
                 char tags[][CC_URL_TAG_LEN + 1], int max);
/* Seals a robot's canonical url: its keyed-hash tag (CC_URL_TAG_LEN + 1),
 * the sealed URL (enc, encsz) and its mask (masked, maskedsz). */
enum cc_err svc_url_seal(const struct cc_service *svc, const char *url, char *tag, uint8_t *enc,
                         size_t encsz, size_t *enclen, char *masked, size_t maskedsz,
                         struct cc_error *err);
/* Opens robot w's full URL into out (CC_URL_MAX + 1); CC_ERR_INTERNAL when it is
 * not sealed or the key does not open it. out is the caller's to wipe. */
enum cc_err svc_url_open(const struct cc_service *svc, const struct cc_webhook *w, char *out,
                         size_t outsz, struct cc_error *err);

/* Certificate fields standing in for an event's data in test sends and
 * previews, one value for every template variable (templates.c). Owned by
 * the caller: json_decref(). */
json_t *svc_sample_data(void);

/* Access keys made or disabled by caller (the audit log's actor and origin;
 * NULL: the command line); cc_key_create/cc_key_disable are these for the
 * command line (accounts.c). expires_at: ms, 0 never. */
enum cc_err svc_key_create(struct cc_service *svc, const struct cc_caller *caller,
                           int64_t account_id, enum cc_role role, int64_t expires_at,
                           struct cc_new_key *out, struct cc_error *err);
enum cc_err svc_key_disable(struct cc_service *svc, const struct cc_caller *caller,
                            int64_t account_id, const char *key_id, struct cc_error *err);

/* ---- outbox.c: the service's side of delivery ---------------------------- */
/* Whether a contact's email or mobile may receive notifications: only a
 * verified address does (robots: always OK). */
enum svc_channel { SVC_CHANNEL_OK, SVC_CHANNEL_NONE, SVC_CHANNEL_UNVERIFIED };
enum svc_channel svc_channel_check(const struct cc_contact *c, const char *channel);

/* Renders event t for one channel ("email", "mobile"/"sms", "webhook"/"robot")
 * of an account: its own template when it has one, else the built-in text.
 * Always fills *out; a failed lookup is logged, the built-in text used, and
 * its error returned. data is a json_t * (borrowed, may be NULL). */
enum cc_err svc_render_for_account(struct cc_service *svc, int64_t account_id,
                                   enum cc_event_type t, const char *channel_kind,
                                   const char *lang, const void *data, const char *contact_name,
                                   int test, struct cc_rendered *out);

/* Fills o (all but o->r, the rendered message) to send to c's channel
 * ("email", "mobile", or "webhook" with w, borrowed, and url its opened full
 * URL); secret (may be NULL) is w's decrypted signing secret, copied:
 * cleanse o->url and o->secret when done. A robot mentions c's mobile only
 * when it is verified. */
void svc_outgoing_fill(const struct cc_contact *c, const char *channel,
                       const struct cc_webhook *w, const char *url, const char *secret,
                       struct cc_outgoing *o);

/* A search keyword as the caller sent it (NULL: none), trimmed of
 * surrounding blanks and checked (valid UTF-8, no control characters, at
 * most CC_KEYWORD_MAX_CHARS) into out; "" for none. Field "Keyword". */
#define SVC_KEYWORD_SIZE (4 * CC_KEYWORD_MAX_CHARS + 1)
enum cc_err svc_keyword(const char *keyword, char out[SVC_KEYWORD_SIZE], struct cc_error *err);

/* page from 1 to CC_PAGE_MAX, page_size from 1 to CC_PAGE_SIZE_MAX. */
enum cc_err svc_check_page(int64_t page, int64_t page_size, struct cc_error *err);

/* ---- shared by applications.c: an inline contact, events in a write ---------- */
/* contacts.c: a contact create validated outside the transaction (*out owned
 * by the caller: cc_free()), then inserted inside one by
 * svc_contact_insert_tx with the account's cap, verification carried from
 * recent confirmations, and its audit row; *c is the stored contact. Its
 * problems (every field's, and its addresses' clashes with other contacts)
 * are at "contact.<field>" paths, as an application's inline contact. */
struct svc_contact_new;
enum cc_err svc_contact_prepare(const struct cc_service *svc, const struct cc_contact_input *in,
                                struct svc_contact_new **out, struct cc_error *err);
enum cc_err svc_contact_insert_tx(struct cc_tx *tx, const struct cc_service *svc,
                                  const struct cc_caller *caller,
                                  const struct svc_contact_new *nc, struct cc_contact *c,
                                  struct cc_error *err);
/* imports.c: the import jobs' queue and worker, made with the service; freeing
 * it stops the worker (a running job ends failed, its mode=all write undone). */
struct svc_imports *svc_imports_new(void);
void svc_imports_free(struct cc_service *svc);
/* contacts.c, for imports.c: one row of an imported file, validated as a
 * create (outside a transaction; *out owned by the caller:
 * svc_import_row_free(), also after a failure). email_verified and
 * mobile_verified (a trusted import's say) save those addresses verified. */
struct svc_import_row;
enum cc_err svc_import_prepare(const struct cc_service *svc, const struct cc_contact_input *in,
                               int email_verified, int mobile_verified,
                               struct svc_import_row **out, struct cc_error *err);
void svc_import_row_free(struct svc_import_row *r);
/* The row's normalised email (NULL: none; mobile 0) or mobile (mobile 1). */
const char *svc_import_row_key(const struct svc_import_row *r, int mobile);
/* The row's name, and its email and mobile masked as the contact list shows them. */
void svc_import_row_shown(const struct svc_import_row *r, char *name, size_t namesz,
                          char *email, size_t emailsz, char *mobile, size_t mobilesz);
/* Matches row r with the account's contacts inside tx by its email or mobile:
 * *action create (no match), unchanged (every field given is the same),
 * update, or refuse (the email and the mobile are two contacts'; when
 * applying, a clash or the account's cap): *refusal says why. *contact_id is
 * the contact matched or made (0: none). apply writes it with every rule of a
 * create or an update (audit rows, search index); *contacts is then the
 * account's contacts so far, which a create counts against the cap and adds
 * to (the caller reads it once: cc_tx_contact_count_defer). Returns a
 * database error, else CC_OK whatever the action. */
enum cc_err svc_import_row_tx(struct cc_tx *tx, const struct cc_service *svc,
                              const struct cc_caller *caller, const struct svc_import_row *r,
                              int apply, int64_t *contacts, enum cc_import_action *action,
                              int64_t *contact_id, struct cc_error *refusal,
                              struct cc_error *err);
/* events.c: records event type (a known event type name) for the n contacts
 * of ids with data_json (a JSON object's text, borrowed) and its
 * notifications inside the caller's write tx; *event_id is set. Wake the
 * dispatcher once the write has committed. */
enum cc_err svc_event_raise_tx(struct cc_tx *tx, const struct cc_caller *caller,
                               const char *type, const int64_t *ids, size_t n,
                               const char *data_json, int64_t *event_id, struct cc_error *err);
/* certificates.c: inside another use case's transaction. */
/* Adds a certificate from in (pem, or metadata) for caller's account inside
 * tx, with every rule of cc_certificate_create (subscribers of the account,
 * fingerprint unique, renewal supersedes and carries subscribers, audit).
 * For use cases that make a certificate as part of their own write (an
 * application issued). Safe to run again when the transaction is retried.
 * *id is set. */
enum cc_err svc_certificate_create_tx(struct cc_service *svc, struct cc_tx *tx,
                                      const struct cc_caller *caller,
                                      const struct cc_cert_input *in, int64_t *id,
                                      struct cc_error *err);

/* ---- reminders.c: shared with certificates.c ---------------------------------- */
/* The account's reminder settings inside tx (its saved ones, else the
 * defaults). */
enum cc_err svc_reminder_settings_tx(struct cc_tx *tx, int64_t account_id,
                                     struct cc_reminder_settings *out, struct cc_error *err);
/* Recomputes certificate c's next reminder under s (NULL: read in tx) from
 * its stored raised marker, and writes it: none when c is not active. */
enum cc_err svc_reminder_schedule_tx(struct cc_tx *tx, const struct cc_certificate *c,
                                     const struct cc_reminder_settings *s, struct cc_error *err);
/* Stops certificate id's reminders: no next one, and its pending reminder
 * notifications cancelled. */
enum cc_err svc_reminder_stop_tx(struct cc_tx *tx, int64_t account_id, int64_t id, int64_t now,
                                 struct cc_error *err);
/* Wakes the scheduler to look at the next due time again (after a commit
 * that changed it); nothing outside serve. */
void svc_reminders_poke(struct cc_service *svc);

/* ---- audit.c: writing the audit log ----------------------------------------------- */
/* Writes one entry of the audit log inside tx, the transaction of the
 * change it records: now, caller's account, actor (caller->key_id: an
 * access key id, "user:ID", "cli", "scheduler"; "system" when empty),
 * caller->origin (source address, request id), action (its target type
 * comes from the list in core/audit.h), the target's id and changes: a JSON
 * object of the changed fields, each {"old": ..., "new": ...} with either
 * side left out, personal values already masked (build it with
 * svc_change_*). changes is taken (json_decref'd here, also on failure) and
 * may be NULL. */
enum cc_err svc_audit(struct cc_tx *tx, const struct cc_caller *caller,
                      enum cc_audit_action action, int64_t target_id, json_t *changes,
                      struct cc_error *err);
/* The same for a target whose id is text (an access key id). */
enum cc_err svc_audit_ref(struct cc_tx *tx, const struct cc_caller *caller,
                          enum cc_audit_action action, const char *target, json_t *changes,
                          struct cc_error *err);
/* A caller for the service's own work in account_id (the scheduler, the
 * retention job): actor, no source. */
void svc_caller_system(struct cc_caller *out, int64_t account_id, const char *actor);

/* Building changes: each adds field to ch (an object; nothing when ch is
 * NULL or old and new are equal). NULL strings and 0 times are left out. */
enum svc_pii { SVC_PII_NONE = 0, SVC_PII_NAME, SVC_PII_EMAIL, SVC_PII_MOBILE,
               SVC_PII_ID_CARD, SVC_PII_URL };
/* Strings: masked for kind (SVC_PII_NONE: as they are). */
void svc_change_str(json_t *ch, const char *field, enum svc_pii kind, const char *old,
                    const char *new_);
void svc_change_int(json_t *ch, const char *field, int has_old, int64_t old, int has_new,
                    int64_t new_);
/* A secret: only whether it is set ("set"), never its value. */
void svc_change_secret(json_t *ch, const char *field, int old_set, int new_set);
/* Every field of a contact that differs between old and new (either may be
 * NULL: a create, a delete), masked: name, email, mobile, id_card, language,
 * the verification of email and mobile, webhooks (masked URLs and whether
 * each has a secret). A new reference. */
json_t *svc_contact_changes(const struct cc_contact *old, const struct cc_contact *new_);

/* ---- applications.c, for ACME issuance (acme.c) --------------------------- */
/* cc_application_transition with, on a move to issued, the certificate's
 * private key (PEM, borrowed; NULL: none) kept sealed with the certificate,
 * and the certificate made into *cert_id (may be NULL). */
enum cc_err svc_application_transition(struct cc_service *svc, const struct cc_caller *caller,
                                       int64_t id, const char *to, const char *reason,
                                       const char *certificate_pem, const char *key_pem,
                                       struct cc_application *out, int64_t *cert_id,
                                       struct cc_error *err);
/* certificates.c: the data of a certificate's event (the fields its
 * templates name, and reason when given). Owned: json_decref(). */
json_t *svc_certificate_event_data(const struct cc_certificate *c, const char *reason);
/* The ACME worker (acme.c), when one runs: told of a new application. */
void svc_acme_poke(struct cc_service *svc);

/* service.c: whether this instance runs the singleton job named job now
 * (cc_store_lead); 0 when the store cannot say (logged). */
int svc_leads(struct cc_service *svc, const char *job);

#endif
