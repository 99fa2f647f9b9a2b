/*
 * service.h — the public header of the service layer: every use case and
 * business rule (roles, uniqueness, limits, idempotency, masking, audit).
 * http/ and the CLI call these; they never reach the store themselves.
 */
#ifndef CC_SERVICE_H
#define CC_SERVICE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* What the service is handed by whoever assembles the program (main.c);
 * the service sees none of their insides. */
struct cc_store;
struct cc_delivery_config;
struct cc_dispatcher;
struct cc_delivery_resolver;

/* Limits of verification codes (seconds and counts). */
struct cc_verify_config {
    int64_t ttl_s;
    int64_t resend_s;
    int64_t max_per_hour;        /* per address */
    int64_t max_per_day;         /* per address */
    int64_t account_max_per_hour;
    int64_t max_attempts;
};

/* The service: opaque. It holds the one copy of the master key. */
struct cc_service;

struct cc_service_config {
    int64_t max_contacts;        /* per account */
    int64_t search_count_max;    /* matches a keyword search counts; 0: the default */
    int64_t max_keys;            /* enabled access keys per account; 0: the default */
    struct cc_verify_config verify;
    int64_t session_idle_s;      /* console sessions: idle expiry; 0: the default */
    int64_t session_max_age_s;   /* console sessions: absolute expiry; 0: the default */
    int64_t clock_offset_ms;     /* added to the wall clock of reminders and certificate
                                  * states (a test and drill option; 0 in production) */
    int64_t verification_retention_days; /* 0: the default (30) */
    int64_t delivery_log_retention_days; /* 0: the default (180) */
    int64_t test_send_per_hour;  /* test sends per contact / unsaved robot; 0: the default */
    int64_t test_send_account_per_hour; /* test sends per account; 0: the default */
    int64_t sign_in_wait_step_ms; /* the sign-in slow-down's step; 0: the default
                                   * (CC_SIGN_IN_WAIT_STEP_MS; tests shorten it) */
};

/* Where a call came from, for the audit log: the http layer fills it in on
 * every request (before and after authentication); empty strings for the
 * command line and the service's own jobs. */
struct cc_origin {
    char source[CC_AUDIT_SOURCE_MAX + 1];     /* the client's address */
    char request_id[CC_AUDIT_REQID_MAX + 1];  /* the X-Request-Id of the answer */
};

/* Who is calling: the authenticated access key, or the console user signed
 * in with a session cookie, and its account. */
struct cc_caller {
    int64_t account_id;
    enum cc_role role;
    char key_id[CC_KEY_ID_LEN + 1];      /* a console user: "user:ID" (the audit actor) */
    int64_t user_id;                     /* 0: an access key */
    char session[CC_TOKEN_HASH_LEN + 1]; /* a console user: the session's token hash */
    int mask_addresses;                  /* shown masked even in a detail view (Alibaba's API) */
    char language[CC_LANG_MAX + 1];      /* a console user's language setting; "" for a key */
    struct cc_origin origin;             /* where the call came from (the audit log) */
};

/* ---- service.c, master_key.c ------------------------------------------------- */
/* Loads the master key of the database of store into key: the one whose id
 * the database records, from path (or path.new / path.old, where a master
 * key rotation keeps it while it runs). A file holding another key is
 * refused, and so is a missing file once the database has sealed anything;
 * the key is created (32 random bytes, mode 0600) only for a database that
 * has never had one. Call after cc_store_migrate. */
enum cc_err cc_service_open_key(struct cc_store *store, const char *path,
                                uint8_t key[CC_KEY_LEN], struct cc_error *err);
/* Where the service finds key files (the master key file's path): a
 * rotation's new key and the old one are read from beside it when a value
 * names them. Without it the service knows only the key it was made with. */
void cc_service_set_key_file(struct cc_service *svc, const char *path);

/* Where cc_service_verify_sealed reports a sealed value that does not open:
 * its table, the column naming its row and the row's key, the sealed
 * column and what it holds in words. Never the value. */
struct cc_sealed_report {
    void (*bad)(void *arg, const char *table, const char *key_column, const char *row,
                const char *column, const char *what);
    void *arg;
};
/* Opens every value sealed with the master key in store (every sealed
 * column of store/sealed.h) with the keys in the key files key_path,
 * key_path.new and key_path.old, in one read transaction; each that opens
 * with none of them goes to rep. *checked: values tried; *failed: values
 * that did not open. Writes nothing. */
enum cc_err cc_service_verify_sealed(struct cc_store *store, const char *key_path,
                                     const struct cc_sealed_report *rep, int64_t *checked,
                                     int64_t *failed, struct cc_error *err);

/* `certcontacts key rotate-master`. */
struct cc_rotation {
    size_t batch;          /* values re-sealed per transaction; 0: CC_ROTATE_BATCH */
    int64_t stop_after;    /* drill: the process kills itself (SIGKILL) once this many
                            * values are committed; 0: never */
    int settle_ms;         /* the wait after the switch before the last sweep */
    int64_t resealed;      /* out: values re-sealed by this run */
    int resumed;           /* out: 1 when this run went on with an interrupted one */
    char old_id[33];       /* out: the old key's id */
    char new_id[33];       /* out: the new key's id */
};
/* Re-seals every value sealed with the master key under a new key, while
 * servers keep running: the new key is written to MASTER.new and named in
 * the database (servers seal with it from then on and open values under
 * either), every value is re-sealed batch by batch, the database switches
 * to the new key once none is left under the old one, then MASTER.new
 * becomes MASTER and the old key (kept as MASTER.old until then) is
 * removed. Interrupted at any point, it loses nothing, and running it again
 * goes on where it stopped. */
enum cc_err cc_master_key_rotate(struct cc_service *svc, struct cc_rotation *rot,
                                 struct cc_error *err);
struct cc_service *cc_service_new(struct cc_store *store, const uint8_t key[CC_KEY_LEN],
                                  const struct cc_service_config *cfg);
void cc_service_free(struct cc_service *svc);
/* What sends: the outbound settings (borrowed; NULL: nothing can be sent)
 * and the dispatcher to wake when notifications are queued (NULL outside
 * serve). */
void cc_service_set_delivery(struct cc_service *svc, const struct cc_delivery_config *dc,
                             struct cc_dispatcher *d);
/* on: the calling thread's reads until off see one snapshot of the store
 * (cc_store_read_hold): a request that only reads holds one for all its
 * reads, its access key's included. */
void cc_service_read_hold(struct cc_service *svc, int on);
/* A thread that used the service and is about to end releases what it held
 * (its database read connection). */
void cc_service_thread_done(struct cc_service *svc);
/* A background thread about to sleep wait_ms (< 0: until poked) after a
 * pass: when the sleep is long and the pass before this one was long ago
 * too, it closes its database read connection (about 200 KB with SQLite;
 * the next read opens one), so an idle server holds none for it; passes
 * that come often keep theirs. *last_pass_ms: the thread's own, 0 at first. */
void cc_service_thread_rest(struct cc_service *svc, int64_t *last_pass_ms, int64_t wait_ms);
/* Seals the robots' webhook URLs a database from before holds in clear (they
 * hold the robot's access token), in batches; *sealed: how many. Call once
 * the store is migrated, before serving. */
enum cc_err cc_service_seal_robot_urls(struct cc_service *svc, int64_t *sealed,
                                       struct cc_error *err);
/* Applies the retention of personal data at `now` (ms): masks the addresses of
 * verification codes sent more than a day ago (the per-address limits look
 * back a day), deletes codes older than verification_retention_days and
 * finished notifications older than delivery_log_retention_days. The counts
 * go to *masked, *verifs, *notifs. The scheduler runs it hourly. */
enum cc_err cc_service_retention(struct cc_service *svc, int64_t now, int64_t *masked,
                                 int64_t *verifs, int64_t *notifs, struct cc_error *err);
/* CC_OK when the database answers. */
enum cc_err cc_service_ping(struct cc_service *svc, struct cc_error *err);
/* The kind of database the service keeps its data in: "sqlite" or "postgres". */
const char *cc_service_db_backend(const struct cc_service *svc);
/* Renders the gauges read from the store at scrape time (the outbox's depth
 * and oldest due age, certificates by state, seconds to the nearest expiry) in
 * the Prometheus text format; a store that does not answer leaves them out. */
void cc_service_metrics_render(struct cc_service *svc, struct cc_buf *b);
/* Whether several instances share the database (PostgreSQL): then the limits
 * of the whole deployment (the Alibaba API's per-key rate and nonces) are
 * kept in it with the two calls below, else in the caller's memory. */
int cc_service_shared(const struct cc_service *svc);
/* Takes one request from the token bucket named name (at most 128 bytes),
 * kept in the database for every instance: per_minute requests a minute,
 * at most a sixth of a minute's worth at once (at least one). *wait_ms 0
 * when it was taken, else how long until one can be. */
enum cc_err cc_service_bucket_take(struct cc_service *svc, const char *name, int64_t per_minute,
                                   int64_t now_ms, int64_t *wait_ms, struct cc_error *err);
/* Remembers nonce of scope until expires_ms in the database, scope holding
 * per_key live nonces at the most: *verdict 0 (new), 1 (a replay through any
 * instance) or 2 (scope is full; *retry_ms until its first nonce passes). */
enum cc_err cc_service_nonce_take(struct cc_service *svc, const char *scope, const char *nonce,
                                  int64_t expires_ms, int64_t now_ms, int64_t per_key,
                                  int *verdict, int64_t *retry_ms, struct cc_error *err);
/* The resolver the dispatcher asks for each claimed batch (outbox.c): who
 * gets what, rendered with the account's templates, robots' secrets opened
 * with the master key. svc is borrowed and must outlive the dispatcher. */
void cc_outbox_resolver(struct cc_service *svc, struct cc_delivery_resolver *out);
/* CC_ERR_FORBIDDEN unless the caller has at least role `need`. */
enum cc_err cc_service_require(const struct cc_caller *caller, enum cc_role need,
                               struct cc_error *err);

/* ---- auth.c ------------------------------------------------------------------- */
/* Checks an access key id and secret. Any failure is CC_ERR_UNAUTHENTICATED
 * with one message, so a caller can't tell an unknown key from a wrong
 * secret; a disabled key says so. */
enum cc_err cc_auth_access_key(struct cc_service *svc, const char *key_id,
                               const char *secret, size_t secret_len,
                               struct cc_caller *out, struct cc_error *err);

/* Why cc_auth_access_key_proof() refused a key. The REST API folds the
 * first two into one message; the Alibaba-compatible API names each, as
 * Alibaba's gateway does. */
enum cc_auth_failure {
    CC_AUTH_OK = 0,
    CC_AUTH_NO_SUCH_KEY,
    CC_AUTH_BAD_PROOF,
    CC_AUTH_DISABLED,
    CC_AUTH_ERROR,            /* the database or the master key failed */
};
/* Returns 1 when the request proves it holds the key's secret (secret_len
 * bytes, borrowed for the call only: the callee must not keep it). */
typedef int (*cc_auth_proof_fn)(const char *secret, size_t secret_len, void *arg);
/* The check behind every way of authenticating with an access key (HTTP
 * Basic, Alibaba's signatures): finds key_id, lets proof() check the
 * decrypted secret, then refuses a disabled key. Fails with
 * CC_ERR_UNAUTHENTICATED and *why (may be NULL) set; the secret never
 * leaves this function. */
enum cc_err cc_auth_access_key_proof(struct cc_service *svc, const char *key_id,
                                     cc_auth_proof_fn proof, void *arg, struct cc_caller *out,
                                     enum cc_auth_failure *why, struct cc_error *err);

/* ---- accounts.c: accounts and access keys -------------------------------------------- */
struct cc_new_key {
    int64_t account_id;
    char key_id[CC_KEY_ID_LEN + 1];
    char secret[CC_KEY_SECRET_LEN + 1];
    enum cc_role role;
    int64_t expires_at; /* 0: never */
};
/* Creates an account and its first admin key in one transaction. */
enum cc_err cc_account_create(struct cc_service *svc, const char *name, struct cc_new_key *out,
                              struct cc_error *err);
/* CC_ERR_NOT_FOUND when there is no account id. */
enum cc_err cc_account_get_name(struct cc_service *svc, int64_t id, char *name, size_t namesz,
                                struct cc_error *err);
/* expires_at: ms since the epoch, in the future; 0: never expires. */
enum cc_err cc_key_create(struct cc_service *svc, int64_t account_id, enum cc_role role,
                          int64_t expires_at, struct cc_new_key *out, struct cc_error *err);
/* *out: owned by the caller, cc_free(). */
enum cc_err cc_key_list(struct cc_service *svc, int64_t account_id,
                        struct cc_access_key **out, size_t *n, struct cc_error *err);
enum cc_err cc_key_disable(struct cc_service *svc, int64_t account_id, const char *key_id,
                           struct cc_error *err);

/* Access keys through the API: the CLI's functions, for an admin of the
 * caller's account. */
enum cc_err cc_api_key_list(struct cc_service *svc, const struct cc_caller *caller,
                            struct cc_access_key **out, size_t *n, struct cc_error *err);
/* expires_at: ms since the epoch, in the future; 0: never expires. */
enum cc_err cc_api_key_create(struct cc_service *svc, const struct cc_caller *caller,
                              const char *role, int64_t expires_at, struct cc_new_key *out,
                              struct cc_error *err);
/* Disables the key and reads it back into *out. */
enum cc_err cc_api_key_disable(struct cc_service *svc, const struct cc_caller *caller,
                               const char *key_id, struct cc_access_key *out,
                               struct cc_error *err);

/* ---- contacts.c ------------------------------------------------------------------------ */
/* Which fields a create or update names. */
enum {
    CC_F_NAME = 1 << 0,
    CC_F_EMAIL = 1 << 1,
    CC_F_MOBILE = 1 << 2,
    CC_F_ID_CARD = 1 << 3,
    CC_F_WEBHOOKS = 1 << 4,
    CC_F_LANGUAGE = 1 << 5,
};

enum cc_secret_state { CC_SECRET_ABSENT = 0, CC_SECRET_NULL, CC_SECRET_VALUE };

struct cc_webhook_input {
    const char *url;
    enum cc_secret_state secret_state;
    const char *secret;
    int mention_mobile;        /* -1 not sent (kept for a URL that stays, else off), 0, 1 */
};

/* A create or update as the caller sent it, before validation. Strings are
 * borrowed from the caller (the parsed request) for the call's duration. A
 * field in `present` with a NULL value was sent as null. */
struct cc_contact_input {
    unsigned present;
    const char *name, *email, *mobile, *id_card, *language;
    size_t n_webhooks;        /* as sent; more than CC_WEBHOOKS_MAX is refused */
    struct cc_webhook_input webhooks[CC_WEBHOOKS_MAX];
};

/* Every contact these return is already masked for the caller (the one
 * place that decides what a role sees, contacts.c): secrets and the ID
 * number never leave the service in full (id_card_masked holds the masked
 * number); lists, readonly callers and callers with mask_addresses get the
 * email and mobile masked; readonly callers get robot tokens masked. */
/* Creates a contact. idem_key (may be NULL) with body_hash (hex SHA-256 of
 * the request) makes a retry return the first contact: *replayed is set. */
enum cc_err cc_contact_create(struct cc_service *svc, const struct cc_caller *caller,
                              const struct cc_contact_input *in, const char *idem_key,
                              const char *body_hash, struct cc_contact *out, int *replayed,
                              struct cc_error *err);
/* The same create in two halves, for a caller that does not wait on a
 * thread of its own (cc_service_queues_writes). cc_contact_create_begin
 * checks and prepares it: CC_OK and *out, or the error that refuses it
 * (as cc_contact_create's); c, kept until the end, gets the contact.
 * cc_contact_create_queue queues its write and returns; done(done_arg) is
 * called once, on the store's writer thread (or on this one, should the
 * store refuse the write), when the outcome is in; it must only hand it on.
 * cc_contact_create_end then gives the outcome as cc_contact_create would
 * have (c as its out), and frees the create; one begun but never queued is
 * given up with cc_contact_create_drop. caller, idem_key and body_hash are
 * borrowed until then. */
struct cc_contact_create;
int cc_service_queues_writes(const struct cc_service *svc);
enum cc_err cc_contact_create_begin(struct cc_service *svc, const struct cc_caller *caller,
                                    const struct cc_contact_input *in, const char *idem_key,
                                    const char *body_hash, struct cc_contact *c,
                                    struct cc_contact_create **out, struct cc_error *err);
void cc_contact_create_queue(struct cc_contact_create *cr, void (*done)(void *arg),
                             void *done_arg);
enum cc_err cc_contact_create_end(struct cc_contact_create *cr, int *replayed,
                                  struct cc_error *err);
void cc_contact_create_drop(struct cc_contact_create *cr);
enum cc_err cc_contact_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                           struct cc_contact *out, struct cc_error *err);
/* page from 1, page_size 1..100, keyword up to 64 characters. */
enum cc_err cc_contact_list(struct cc_service *svc, const struct cc_caller *caller,
                            const char *keyword, int64_t page, int64_t page_size,
                            struct cc_contact_page *out, struct cc_error *err);
/* The id of the caller's contact whose email and mobile are these (any form
 * the validators accept, compared normalised), or, with both NULL, of the
 * account's most recently created contact. CC_ERR_NOT_FOUND (field
 * "Contact") when there is none; one address without the other is
 * CC_ERR_MISSING_PARAMETER; an address that is not one, the validator's
 * CC_ERR_INCORRECT_FORMAT. Any role. */
enum cc_err cc_contact_find(struct cc_service *svc, const struct cc_caller *caller,
                            const char *email, const char *mobile, int64_t *id,
                            struct cc_error *err);
/* Changes the fields in in->present. if_match < 0: no version check. */
enum cc_err cc_contact_update(struct cc_service *svc, const struct cc_caller *caller,
                              int64_t id, const struct cc_contact_input *in, int64_t if_match,
                              struct cc_contact *out, struct cc_error *err);
/* The open certificate applications (submitted, pending_validation,
 * approved) that name a contact: the newest CC_PAGE_SIZE_MAX of them (id,
 * product, state, domains; no CSR or PEM) and how many there are. */
struct cc_contact_use {
    int64_t total;
    size_t n;
    struct cc_application *items;        /* owned: cc_contact_use_free() */
};
void cc_contact_use_free(struct cc_contact_use *u);
/* Deletes the contact, unsubscribes it from its certificates and cancels
 * its pending notifications, in one transaction. A contact that open
 * applications name is not deleted: CC_ERR_CONTACT_IN_USE, and *use (may be
 * NULL; else free it with cc_contact_use_free() whatever the result) lists
 * them — checked in the same transaction as the delete. Closed
 * applications keep the number. Operator or admin. */
enum cc_err cc_contact_delete(struct cc_service *svc, const struct cc_caller *caller,
                              int64_t id, struct cc_contact_use *use, struct cc_error *err);
/* The read mark (cc_store_read_mark) of what caller's next reads of a
 * contact's detail see, when that view costs no write: the addresses are
 * shown masked (readonly, or caller->mask_addresses), so no audit entry is
 * made. A view made from reads after an equal mark, for a caller of the same
 * account, shows the same. CC_ERR_UNSUPPORTED_OPERATION for a view that is
 * audited or a store without marks; CC_ERR_FORBIDDEN below readonly. */
enum cc_err cc_contact_view_mark(struct cc_service *svc, const struct cc_caller *caller,
                                 struct cc_read_mark *mark, struct cc_error *err);
/* cc_contact_get and cc_contact_applications from one snapshot: the contact
 * and the open applications naming it (*use: cc_contact_use_free(), also
 * on failure). */
enum cc_err cc_contact_get_in_use(struct cc_service *svc, const struct cc_caller *caller,
                                  int64_t id, struct cc_contact *out,
                                  struct cc_contact_use *use, struct cc_error *err);
/* The open applications naming contact id (any role). A contact the
 * account does not have has none (no CC_ERR_NOT_FOUND: read the contact
 * for that). *out: cc_contact_use_free(). */
enum cc_err cc_contact_applications(struct cc_service *svc, const struct cc_caller *caller,
                                    int64_t id, struct cc_contact_use *out,
                                    struct cc_error *err);
struct cc_reassign_result {
    int64_t moved_applications;
    int64_t moved_certificates;
};
/* Moves contact id's open applications (a history row each, state
 * unchanged) and its certificate subscriptions (no duplicates) to contact
 * to_id of the same account, in one transaction, audited. The target need
 * only exist in the account: the applications' contact rules (ID card,
 * verified addresses) were checked at submission and are not checked
 * again. id missing: CC_ERR_NOT_FOUND; to_id missing or another account's:
 * CC_ERR_NOT_FOUND, field "ToContactId"; id == to_id: CC_ERR_INVALID_PARAMETER.
 * Operator or admin. */
enum cc_err cc_contact_reassign(struct cc_service *svc, const struct cc_caller *caller,
                                int64_t id, int64_t to_id, struct cc_reassign_result *out,
                                struct cc_error *err);

/* A robot's full webhook URL, with its access token, into url (CC_URL_MAX + 1):
 * every other answer shows it masked. Admin only; the reveal is audited
 * ("webhook.reveal") in the same transaction. CC_ERR_NOT_FOUND for a contact or
 * robot the account does not have. */
enum cc_err cc_webhook_reveal(struct cc_service *svc, const struct cc_caller *caller,
                              int64_t contact_id, int64_t webhook_id, char *url, size_t urlsz,
                              struct cc_error *err);

/* ---- imports.c: contact imports and exports ------------------------------------- */
struct cc_import_options {
    int dry_run;         /* check and report; write no contact */
    int skip_bad;        /* write the acceptable rows; 0 (mode=all): all or nothing */
    int trust_verified;  /* admin only: the file's *_verified columns are believed (audited) */
};
/* Reads the CSV file data (len bytes, borrowed; copied) and queues its import
 * for the background worker; *out is the job as recorded (queued, total
 * known). A file that is not CSV, or has no name column, is
 * CC_ERR_INVALID_PARAMETER field "File", and no job is made. Role operator;
 * trust_verified admin. */
enum cc_err cc_import_start(struct cc_service *svc, const struct cc_caller *caller,
                            const char *data, size_t len, const struct cc_import_options *o,
                            struct cc_import *out, struct cc_error *err);
/* The caller's account's job id, with the progress counted now when this
 * process runs it. CC_ERR_NOT_FOUND otherwise. */
enum cc_err cc_import_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                          struct cc_import *out, struct cc_error *err);
/* A page of job id's report by line: action (enum cc_import_action, < 0
 * all), offset from 0, limit 1..CC_IMPORT_ROWS_PAGE_MAX. *rows owned by the
 * caller: cc_free(). */
enum cc_err cc_import_rows(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                           int action, int64_t offset, int64_t limit,
                           struct cc_import_row **rows, size_t *n, int64_t *total,
                           struct cc_error *err);
/* At start-up: the jobs a process left queued or running are marked failed
 * (every one on SQLite; on a shared database this instance's own, named by
 * instance (its instance.id; NULL: unknown), and any without a heartbeat for
 * a quarter of an hour). New jobs are recorded as instance's. */
enum cc_err cc_imports_recover(struct cc_service *svc, const char *instance,
                               struct cc_error *err);

/* exports.c: every contact of the account, a page at a time. Role readonly;
 * full (addresses and ID numbers in full) admin, with one audit entry
 * contact.export_all written here. *out owned: cc_export_close(). */
enum cc_export_format { CC_EXPORT_CSV, CC_EXPORT_JSONL };
struct cc_export;
enum cc_err cc_export_open(struct cc_service *svc, const struct cc_caller *caller,
                           enum cc_export_format format, int full, struct cc_export **out,
                           struct cc_error *err);
/* Appends the next part to out (first the CSV's BOM and header, then a page of
 * contacts each time): 1 while more may follow, 0 at the end (nothing
 * appended), -1 when a read failed (logged; the answer must end broken). */
int cc_export_next(struct cc_export *x, struct cc_buf *out);
void cc_export_close(struct cc_export *x);

/* ---- verifications.c: one-time codes for email and mobile ------------------- */
struct cc_verif_view {
    int64_t id;
    char channel[8];
    char target[CC_MASKED_MAX];  /* masked */
    int64_t expires_at;
    int64_t resend_after;
    int64_t confirmed_at;
    int64_t contact_id;          /* AlreadyExists: the other contact that has the address */
};

/* Sends a code to the contact's current email or mobile. Blocks for at most
 * the delivery timeout: call it off the HTTP worker threads. Both sends, when
 * throttled (CC_ERR_THROTTLED) while the account's code to the address can
 * still be typed in, fill *out with that code's id, expires_at and
 * resend_after (else out->id is 0). */
enum cc_err cc_verify_contact_send(struct cc_service *svc, const struct cc_caller *caller,
                                   int64_t contact_id, const char *channel,
                                   struct cc_verif_view *out, struct cc_error *err);
/* Checks the code; on success the contact's channel is verified and *out is
 * the contact. */
enum cc_err cc_verify_contact_confirm(struct cc_service *svc, const struct cc_caller *caller,
                                      int64_t contact_id, const char *channel, const char *code,
                                      struct cc_contact *out, struct cc_error *err);
/* Sends a code to an address before any contact has it (language: NULL or
 * "en"/"zh-CN"). A contact saved with it within 30 minutes of confirmation
 * is saved verified. contact_id (0: none) is the contact being edited, whose
 * own address this may be; another contact of the account with the address
 * is CC_ERR_ALREADY_EXISTS (field Email or Mobile) naming it, with its id in
 * out->contact_id, and nothing is sent. */
enum cc_err cc_verify_target_send(struct cc_service *svc, const struct cc_caller *caller,
                                  const char *channel, const char *target, const char *language,
                                  int64_t contact_id, struct cc_verif_view *out,
                                  struct cc_error *err);
/* Whether the account confirmed the address in the last 30 minutes, so that
 * a contact saved with it now is saved verified: out->confirmed_at (0: no),
 * out->channel and out->target (masked). Operator or admin. */
enum cc_err cc_verify_target_status(struct cc_service *svc, const struct cc_caller *caller,
                                    const char *channel, const char *target,
                                    struct cc_verif_view *out, struct cc_error *err);
enum cc_err cc_verify_target_confirm(struct cc_service *svc, const struct cc_caller *caller,
                                     int64_t verification_id, const char *code,
                                     struct cc_verif_view *out, struct cc_error *err);
#define CC_VERIFY_CARRY_MS (30 * 60 * 1000)

/* A code sent to a contact's address, as an export shows it. */
struct cc_verif_export {
    int64_t id;
    char channel[8];
    char target[CC_EMAIL_MAX + 1];  /* as stored */
    char status[16];
    int64_t sent_at, expires_at, confirmed_at;
};
/* Everything the account keeps about a contact, for a data subject's request:
 * the contact with its addresses and ID number in full (robots' URLs stay
 * masked: they are the group's credential, not the person's data) and the
 * newest CC_EXPORT_VERIFICATIONS_MAX codes sent to it (targets as stored,
 * no code hashes). Admin only; audited ("contact.export") in the same
 * transaction as the read. *verifs: cc_free(). */
#define CC_EXPORT_VERIFICATIONS_MAX 1000
enum cc_err cc_contact_export(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                              struct cc_contact *out, char *id_card, size_t id_card_sz,
                              struct cc_verif_export **verifs, size_t *nverifs,
                              struct cc_error *err);

/* ---- test_send.c: a real message to one channel of a contact, now ---------- */
struct cc_test_result {
    int delivered;
    char channel[8];                  /* "email", "mobile" or "webhook" */
    char target[CC_URL_MAX + 1];      /* masked */
    int64_t webhook_id;
    struct cc_send_result send;
    struct cc_robot_answer answer;    /* robots: what the platform said */
};
/* Renders event_type (NULL: contact.test) with sample certificate data, as a
 * test, exactly as a real notification of that type is rendered, and sends
 * it through the same sender. webhook_id 0 picks the contact's only webhook.
 * Blocks for at most the delivery timeout. A refusal by the platform is not
 * an error: out->delivered is 0 and out->send says why. */
enum cc_err cc_contact_test_send(struct cc_service *svc, const struct cc_caller *caller,
                                 int64_t contact_id, const char *channel, int64_t webhook_id,
                                 const char *event_type, struct cc_test_result *out,
                                 struct cc_error *err);

/* The same test for a robot that is not saved yet (the console's bot row
 * before OK): url and secret (may be NULL) are checked as a contact's
 * webhook would be, the message is rendered for language (NULL: "en") and
 * name (NULL: a neutral one) and sent through the same sender. Nothing is
 * stored; no mention (no verified mobile). Operator or admin. */
enum cc_err cc_webhook_test_send(struct cc_service *svc, const struct cc_caller *caller,
                                 const char *url, const char *secret, const char *language,
                                 const char *name, const char *event_type,
                                 struct cc_test_result *out, struct cc_error *err);

/* ---- events.c: certificate events and the notifications they cause ---------- */

/* Records an event of type for contact_ids (n of them) with data (a jansson
 * object, borrowed; may be NULL) and, in the same transaction, one
 * notification per contact and channel: the verified email, the verified
 * mobile, each robot. Channels that get nothing are listed in the event's
 * "skipped" with the reason. *out is set to the event as written, what
 * cc_event_get would read back (cc_event_free it); zeroed on failure. */
enum cc_err cc_event_create(struct cc_service *svc, const struct cc_caller *caller,
                            const char *type, const int64_t *contact_ids, size_t n,
                            const void *data, struct cc_event *out, struct cc_error *err);
enum cc_err cc_event_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                         struct cc_event *out, struct cc_error *err);
/* The delivery log. f->account_id is set from the caller. */
enum cc_err cc_notification_list(struct cc_service *svc, const struct cc_caller *caller,
                                 struct cc_notif_filter *f, struct cc_notification **out,
                                 size_t *n, int64_t *total, struct cc_error *err);
enum cc_err cc_notification_get(struct cc_service *svc, const struct cc_caller *caller,
                                int64_t id, struct cc_notification *out,
                                struct cc_attempt **attempts, size_t *nattempts,
                                struct cc_error *err);
/* Sends a finished notification again, now. */
enum cc_err cc_notification_resend(struct cc_service *svc, const struct cc_caller *caller,
                                   int64_t id, struct cc_error *err);

/* ---- templates.c: an account's own notification texts ------------------------ */
/* One template as the account sees it: its own text (custom) or the
 * built-in one. */
struct cc_template_view {
    char event_type[64];
    char channel[8];                         /* "email", "sms", "robot" */
    char language[8];                        /* "en", "zh-CN" */
    char title[CC_TEMPLATE_TITLE_MAX + 1];
    char body[CC_TEMPLATE_BODY_MAX + 1];
    int custom;
};
/* Names that do not exist (event type, channel, language) are
 * CC_ERR_NOT_FOUND in these four: they name a resource. */
/* Saves the account's own title and body (borrowed) after
 * cc_template_check(): a failed check is CC_ERR_INCORRECT_FORMAT, field
 * "Template", with the reason. Operator or admin. *out is what was saved. */
enum cc_err cc_template_put(struct cc_service *svc, const struct cc_caller *caller,
                            const char *event_type, const char *channel, const char *language,
                            const char *title, const char *body, struct cc_template_view *out,
                            struct cc_error *err);
/* Goes back to the built-in text; CC_ERR_NOT_FOUND when the account has no
 * text of its own there. Operator or admin. */
enum cc_err cc_template_delete(struct cc_service *svc, const struct cc_caller *caller,
                               const char *event_type, const char *channel,
                               const char *language, struct cc_error *err);
/* The template in use: the account's own, else the built-in one. */
enum cc_err cc_template_get(struct cc_service *svc, const struct cc_caller *caller,
                            const char *event_type, const char *channel, const char *language,
                            struct cc_template_view *out, struct cc_error *err);
/* Every event type x channel x language with the template in use, or with
 * custom_only only the account's own. *out is owned by the caller: cc_free(). */
enum cc_err cc_template_list(struct cc_service *svc, const struct cc_caller *caller,
                             int custom_only, struct cc_template_view **out, size_t *n,
                             struct cc_error *err);

/* Which rendered forms a channel sends (bits of cc_template_formats). */
enum { CC_FMT_TITLE = 1, CC_FMT_TEXT = 2, CC_FMT_MARKDOWN = 4, CC_FMT_HTML = 8 };
/* email: title (subject), text and HTML; sms: text (an Alibaba Cloud SMS
 * template gets the title as ${title}); robot: title, markdown and text. */
unsigned cc_template_formats(const char *channel);

/* A preview request; every pointer borrowed, NULL when not sent. */
struct cc_preview_input {
    const char *event_type;      /* required */
    const char *channel;         /* required: "email", "sms", "robot" */
    const char *language;        /* default: the contact's, else "en" */
    const char *title, *body;    /* unsaved text to try; the other part is the one in use */
    const void *data;            /* jansson object; NULL: sample certificate data */
    int64_t contact_id;          /* 0: none; else its name fills {{contact_name}} */
};
struct cc_preview {
    char event_type[64];
    char channel[8];
    char language[8];
    int custom;                  /* the account has its own text here */
    int unsaved;                 /* rendered from the request's title/body */
    unsigned formats;            /* CC_FMT_* the channel sends */
    struct cc_rendered r;
};
/* Renders a template as a notification of the event type on the channel
 * would be rendered (not marked as a test). Names here are fields of a
 * request: bad ones are CC_ERR_INCORRECT_FORMAT; a contact not in the
 * account is CC_ERR_NOT_FOUND; unsaved text that fails cc_template_check()
 * is CC_ERR_INCORRECT_FORMAT, field "Template". Any role. */
enum cc_err cc_template_preview(struct cc_service *svc, const struct cc_caller *caller,
                                const struct cc_preview_input *in, struct cc_preview *out,
                                struct cc_error *err);

/* ---- users.c: console users, passwords and sessions ---------------------------- */
/* Password, sign-in and session limits: core/limits.h. */
#define CC_PASSWORD_GEN_LEN   20
#define CC_SESSION_TOKEN_LEN  43          /* base64url of 32 random bytes */

/* argon2id of a password of 10 to 128 characters (valid UTF-8) that
 * libpwquality accepts (its dictionary check included; user, the email, may
 * be NULL, and the password may not contain its local part) into out
 * (CC_PASSWORD_HASH_MAX + 1), as the encoded string with its parameters and
 * salt. Slow by design: call it off the HTTP worker threads. Field
 * "Password". CC_ERR_UNAVAILABLE (retry_after_s 1) when every hash slot is
 * busy and CC_PASSWORD_HASH_QUEUE_MAX already wait. */
enum cc_err cc_password_hash(const char *password, const char *user, char *out, size_t outsz,
                             struct cc_error *err);
/* 1 when password matches encoded (argon2id, constant time), else 0; -1
 * when every hash slot is busy and enough already wait (nothing checked). */
int cc_password_verify(const char *encoded, const char *password);
/* A random password of CC_PASSWORD_GEN_LEN letters and digits. */
void cc_password_generate(char out[CC_PASSWORD_GEN_LEN + 1]);
/* The same, for user (an email): one that passes cc_password_check, as the
 * password of a new user must. */
void cc_password_generate_for(char out[CC_PASSWORD_GEN_LEN + 1], const char *user);
/* Whether password may be user's: its length and libpwquality's checks
 * (cracklib's dictionary, the user's name). CC_ERR_INCORRECT_FORMAT when not. */
enum cc_err cc_password_check(const char *password, const char *user, struct cc_error *err);
/* 1 when the session's CSRF token equals given (constant time). */
int cc_csrf_equal(const char *expected, const char *given);

/* Creates a console user in account_id. caller NULL: the command line (no
 * role check); else an admin of the account. password NULL: one is
 * generated and written to gen_password (CC_PASSWORD_GEN_LEN + 1), else
 * gen_password gets "". */
enum cc_err cc_user_create(struct cc_service *svc, const struct cc_caller *caller,
                           int64_t account_id, const char *email, const char *role,
                           const char *password, struct cc_user *out, char *gen_password,
                           struct cc_error *err);
/* Admin only. *out: cc_free(). password_hash is wiped. */
enum cc_err cc_user_list(struct cc_service *svc, const struct cc_caller *caller,
                         struct cc_user **out, size_t *n, struct cc_error *err);
/* A change of a user by an admin: NULL / -1 leave a field as it is. An
 * admin can neither disable nor demote themselves. Disabling or a new
 * password ends the user's sessions. */
struct cc_user_change {
    const char *role;
    int disabled;              /* -1, 0, 1 */
    const char *password;
};
enum cc_err cc_user_update(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                           const struct cc_user_change *ch, struct cc_user *out,
                           struct cc_error *err);
enum cc_err cc_user_delete(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                           struct cc_error *err);
/* Number of users in an account (at most CC_USERS_MAX). */
/* Lifts every sign-in lock of a user and forgets its wrong-password counts
 * (from every address), audited as user.unlock. An admin caller names the
 * user by id in its own account; the CLI (caller NULL) by email in
 * account_id. *out: the user, unlocked. */
enum cc_err cc_user_unlock(struct cc_service *svc, const struct cc_caller *caller,
                           int64_t account_id, int64_t id, const char *email,
                           struct cc_user *out, struct cc_error *err);
enum cc_err cc_user_count(struct cc_service *svc, int64_t account_id, size_t *n,
                          struct cc_error *err);

/* A new session: the cookie's token and the CSRF token, shown once. */
struct cc_new_session {
    char token[CC_SESSION_TOKEN_LEN + 1];
    char csrf_token[CC_CSRF_LEN + 1];
    int64_t max_age_s;
    struct cc_user user;
};
/* Checks email and password (one answer, CC_ERR_UNAUTHENTICATED, for an
 * unknown email and a wrong password, with the same work done). Emails are
 * unique per account only: account_id 0 signs in the one user of the
 * server with that email, and an email with users in several accounts
 * needs account_id (else the same CC_ERR_UNAUTHENTICATED). source is
 * the caller's address as text (borrowed; NULL or "" when unknown). Wrong
 * passwords slow every try of the email down from the third on (from any
 * address: a slow-down, never a lock), lock the email from that source
 * after CC_SIGN_IN_MAX_FAILURES (CC_ERR_USER_LOCKED with retry_after_s) and
 * the source itself after CC_SIGN_IN_ADDR_MAX_FAILURES (CC_ERR_THROTTLED).
 * Blocks: call it off the HTTP worker threads. */
enum cc_err cc_session_sign_in(struct cc_service *svc, const char *email, const char *password,
                               int64_t account_id, const char *source,
                               struct cc_new_session *out, struct cc_error *err);
/* The same from origin (may be NULL: unknown), which the audit log records
 * with every sign-in and every failed one (user.sign_in,
 * user.sign_in_failed with the reason). */
enum cc_err cc_session_sign_in_from(struct cc_service *svc, const struct cc_origin *origin,
                                    const char *email, const char *password,
                                    struct cc_new_session *out, struct cc_error *err);
/* The same with account_id (0: any; see above), origin->source being the
 * source address the wrong passwords are counted by. */
enum cc_err cc_session_sign_in_to(struct cc_service *svc, const struct cc_origin *origin,
                                  int64_t account_id, const char *email, const char *password,
                                  struct cc_new_session *out, struct cc_error *err);
/* The caller of a session cookie's token: its user's account and role. The
 * session's CSRF token goes to csrf (CC_CSRF_LEN + 1); *touch is set when
 * last_seen_at is old enough to be written again (cc_session_touch). Any
 * failure is CC_ERR_UNAUTHENTICATED. Never writes. */
enum cc_err cc_session_authenticate(struct cc_service *svc, const char *token,
                                    struct cc_caller *out, char *csrf, int *touch,
                                    struct cc_error *err);
enum cc_err cc_session_touch(struct cc_service *svc, const struct cc_caller *caller,
                             struct cc_error *err);
/* The signed-in user and the session's CSRF token. */
enum cc_err cc_session_get(struct cc_service *svc, const struct cc_caller *caller,
                           struct cc_user *user, char *csrf, struct cc_error *err);
/* Remembers the user's console language ("en", "zh-CN"). */
enum cc_err cc_session_set_language(struct cc_service *svc, const struct cc_caller *caller,
                                    const char *language, struct cc_user *user,
                                    struct cc_error *err);
enum cc_err cc_session_sign_out(struct cc_service *svc, const struct cc_caller *caller,
                                struct cc_error *err);

/* ---- applications.c: certificate applications ------------------------------------ */
/* A new application as the caller sent it; every pointer borrowed for the
 * call. Exactly one of contact_id (non-zero) and contact (an inline contact,
 * created in the same transaction) names its contact. */
struct cc_application_input {
    const char *product;                 /* a code of core/products.c */
    int has_domains;                     /* domains was sent */
    const char *const *domains;
    size_t n_domains;
    const char *csr;                     /* PEM or NULL */
    int64_t contact_id;
    const struct cc_contact_input *contact;
    const char *validate_type;           /* "DNS", "FILE" or NULL: not named */
};
/* Submits an application (state submitted) after checking its product,
 * domains and CSR, and its contact: an ID card number for the products that
 * need one, and a verified email and mobile. Every contact problem is in
 * one CC_ERR_CONTACT_INELIGIBLE with err->problems; nothing is kept then,
 * not even an inline contact. Operator or admin. *out owns its strings:
 * cc_application_clear(). contact_out (may be NULL) gets the contact, masked
 * for the caller. */
/* idem_key (may be NULL) with body_hash (hex SHA-256 of the request) makes
 * a retry answer the first application, creating nothing (*replayed, may be
 * NULL, is set); the same key with another hash is
 * CC_ERR_IDEMPOTENCY_REUSED. */
enum cc_err cc_application_create(struct cc_service *svc, const struct cc_caller *caller,
                                  const struct cc_application_input *in, const char *idem_key,
                                  const char *body_hash, struct cc_application *out,
                                  struct cc_contact *contact_out, int *replayed,
                                  struct cc_error *err);
/* The application and its history, oldest first (*history: cc_free()). */
enum cc_err cc_application_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                               struct cc_application *out, struct cc_app_transition **history,
                               size_t *n_history, struct cc_error *err);
/* One page of the account's applications, newest first; NULL / 0 filters
 * match everything; domain is a name in either form. *out: free with
 * cc_application_list_free(). */
struct cc_app_filter {
    const char *state, *domain, *product;
    int64_t contact_id;
    int64_t page, page_size;
};
enum cc_err cc_application_list(struct cc_service *svc, const struct cc_caller *caller,
                                const struct cc_app_filter *f, struct cc_application **out,
                                size_t *n, int64_t *total, struct cc_error *err);
void cc_application_list_free(struct cc_application *items, size_t n);
/* Whether contact contact_id may be named on an application for product:
 * CC_OK, or the same CC_ERR_CONTACT_INELIGIBLE (with every problem) that
 * submitting would answer; nothing is written. Any role. */
enum cc_err cc_application_eligibility(struct cc_service *svc, const struct cc_caller *caller,
                                       const char *product, int64_t contact_id,
                                       struct cc_error *err);
/* Moves application id to state `to` (a state name) with reason (may be
 * NULL) as the caller: an illegal move is CC_ERR_INVALID_TRANSITION naming
 * the allowed ones; issued needs certificate_pem whose names cover the
 * domains. Entering pending_validation, approved or rejected raises its
 * event to the application's contact in the same transaction. Operator or
 * admin. *out as for cc_application_get. */
/* 1 when applications for product are fulfilled by the server's own ACME
 * client (an ACME product while ACME issuance runs): they move by themselves,
 * and a person may only cancel them. */
int cc_application_moves_by_itself(const struct cc_service *svc, const char *product);
enum cc_err cc_application_transition(struct cc_service *svc, const struct cc_caller *caller,
                                      int64_t id, const char *to, const char *reason,
                                      const char *certificate_pem, struct cc_application *out,
                                      struct cc_error *err);
/* ---- certificates.c: certificates and their subscribers -------------------------- */
/* A certificate's own reminder thresholds as sent: not sent (sent 0), null
 * (is_null: follow the account's days_before), or n days (0: none). More
 * than CC_REMINDER_DAYS_MAX is refused before this is filled. */
struct cc_reminder_days_input {
    int sent;
    int is_null;
    size_t n;
    int64_t days[CC_REMINDER_DAYS_MAX];
};
/* A new certificate as the caller sent it; every pointer borrowed for the
 * call. Either pem (the leaf, then its chain; private_key optional) or
 * metadata only: domains, not_after (RFC 3339 or YYYY-MM-DD), product. */
struct cc_cert_input {
    const char *pem;
    size_t pem_len;
    const char *private_key;               /* NULL: none */
    size_t private_key_len;
    const char *name;                      /* NULL: none */
    int has_contact_ids;                   /* contact_ids was sent */
    size_t n_contact_ids;                  /* as sent; more than the maximum is refused */
    int64_t contact_ids[CC_CERT_SUBSCRIBERS_MAX];
    size_t n_domains;                      /* as sent; more than the maximum is refused */
    const char *domains[CC_CERT_DOMAINS_MAX];
    const char *not_after;
    const char *product;
    int carry_subscribers;                 /* 0: a renewed certificate's stay where they are */
    struct cc_reminder_days_input reminder_days;
};
/* Every certificate these hand out has its shown state (expired derived
 * from not_after) and never its private key; the owned members of *out:
 * cc_certificate_clear(). */
/* Adds a certificate (operator). A fingerprint the account has already is
 * CC_ERR_ALREADY_EXISTS, field "Certificate", naming the one it has. The
 * account's active certificates whose every name the new one covers, and
 * that expire before it, become superseded by it; their subscribers are
 * carried over unless in->carry_subscribers is 0. */
enum cc_err cc_certificate_create(struct cc_service *svc, const struct cc_caller *caller,
                                  const struct cc_cert_input *in, struct cc_certificate *out,
                                  struct cc_error *err);
/* One certificate with its PEM and subscribers (any role). */
enum cc_err cc_certificate_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                               struct cc_certificate *out, struct cc_error *err);
/* A page by not_after (any role). f->account_id and f->now are set here;
 * f->state -1 for any. *out: cc_certificate_clear() each, then cc_free(). */
enum cc_err cc_certificate_list(struct cc_service *svc, const struct cc_caller *caller,
                                struct cc_cert_filter *f, struct cc_certificate **out, size_t *n,
                                int64_t *total, struct cc_error *err);
/* Changes the name (NULL: kept; "": none), when has_ids replaces the
 * subscribers with ids, and when rd->sent the certificate's own reminder
 * thresholds (rd may be NULL), rescheduling its reminders (operator). */
enum cc_err cc_certificate_update(struct cc_service *svc, const struct cc_caller *caller,
                                  int64_t id, const char *name, int has_ids, const int64_t *ids,
                                  size_t n, const struct cc_reminder_days_input *rd,
                                  struct cc_certificate *out, struct cc_error *err);
enum cc_err cc_certificate_delete(struct cc_service *svc, const struct cc_caller *caller,
                                  int64_t id, struct cc_error *err);
/* Marks it revoked and, in the same transaction, raises certificate.revoked
 * to its subscribers (reason may be NULL). Revoking twice is
 * CC_ERR_UPDATE_CONFLICT (operator). */
enum cc_err cc_certificate_revoke(struct cc_service *svc, const struct cc_caller *caller,
                                  int64_t id, const char *reason, struct cc_certificate *out,
                                  struct cc_error *err);
/* The decrypted private key (admin only; audited before it is handed out).
 * *pem is owned by the caller: cleanse it, then cc_free(). CC_ERR_NOT_FOUND
 * when the certificate has none. */
enum cc_err cc_certificate_private_key(struct cc_service *svc, const struct cc_caller *caller,
                                       int64_t id, char **pem, struct cc_error *err);

/* ---- reminders.c: expiry reminders ---------------------------------------------- */
/* The wall clock (ms) as reminders and certificate states see it: the real
 * one plus the configured clock_offset_ms. */
int64_t cc_service_now(const struct cc_service *svc);

/* An account's reminder settings; defaults when it has saved none:
 * days_before 30,15,7,3,1, both flags on, any time of day, and the time zone
 * Asia/Shanghai when the account's earliest admin console user reads
 * zh-CN, else UTC (any role). */
enum cc_err cc_reminder_settings_get(struct cc_service *svc, const struct cc_caller *caller,
                                     struct cc_reminder_settings *out, struct cc_error *err);
/* A change of the settings as sent; what was not sent stays as it is.
 * Every pointer borrowed. */
struct cc_reminder_input {
    int has_days;
    size_t n_days;                       /* more than CC_REMINDER_DAYS_MAX is refused earlier */
    int64_t days[CC_REMINDER_DAYS_MAX];
    int on_expiry_day, day_after;        /* -1: not sent */
    int has_window;                      /* window was sent ... */
    const char *window_start, *window_end; /* ... as null (both NULL) or "HH:MM" each */
    const char *time_zone;               /* NULL: not sent */
};
/* Checks and saves the settings, audited, and reschedules every active
 * certificate of the account in the same transaction (operator). Fields
 * named in errors: DaysBefore, OnExpiryDay, DayAfter, Window, TimeZone. */
enum cc_err cc_reminder_settings_put(struct cc_service *svc, const struct cc_caller *caller,
                                     const struct cc_reminder_input *in,
                                     struct cc_reminder_settings *out, struct cc_error *err);

/* n thresholds: each from CC_REMINDER_DAY_MIN to CC_REMINDER_DAY_MAX, no
 * two alike, at most CC_REMINDER_DAYS_MAX; written to out sorted from the
 * largest. field names the field of an error. */
enum cc_err cc_reminder_days_check(const int64_t *days, size_t n, const char *field, int *out,
                                   struct cc_error *err);
/* "HH:MM" on a 24-hour clock into minutes after midnight; -1 when not one. */
int cc_reminder_parse_hhmm(const char *s, int *minutes);
/* 1 when name is a time zone the system knows (IANA, such as Asia/Shanghai). */
int cc_time_zone_known(const char *name);

/* One due point of a certificate's reminders. */
enum cc_reminder_kind { CC_REMIND_BEFORE = 0, CC_REMIND_EXPIRY_DAY, CC_REMIND_DAY_AFTER };
struct cc_reminder_point {
    int64_t due;                 /* ms: when the rule says */
    int64_t at;                  /* ms: when it is sent, due moved into the delivery window */
    enum cc_reminder_kind kind;
    int days;                    /* the threshold; 0 on the expiry day and the day after */
};
#define CC_REMINDER_POINTS_MAX (CC_REMINDER_DAYS_MAX + 2)
/* The due points of a certificate expiring at not_after (ms) under s, with
 * days (n_days) its thresholds (the account's or its own), by due time,
 * into out (room for CC_REMINDER_POINTS_MAX); returns how many. A time zone
 * the system does not know counts as UTC. */
size_t cc_reminder_points(const struct cc_reminder_settings *s, const int *days, size_t n_days,
                          int64_t not_after, struct cc_reminder_point *out);
/* What a certificate's reminders do at now, the point last raised being
 * raised (its due time; 0 none): fire the latest point whose time has come
 * (earlier ones not raised yet are merged into it), the new raised marker,
 * and when the next point is sent (0: none left). */
struct cc_reminder_step {
    int fire;
    int merged;                  /* more than one point came due together */
    struct cc_reminder_point point;
    int64_t raised;
    int64_t next_at;
};
void cc_reminder_step(const struct cc_reminder_point *p, size_t n, int64_t raised, int64_t now,
                      struct cc_reminder_step *out);

/* The scheduler: one thread that sleeps until the earliest next reminder
 * (or a poke from a certificate or settings write) and raises what is due.
 * public_url (copied; "" none) starts each reminder's link to the console.
 * Start it in serve once the dispatcher runs; stop it before the
 * dispatcher. */
enum cc_err cc_reminders_start(struct cc_service *svc, const char *public_url,
                               struct cc_error *err);
void cc_reminders_stop(struct cc_service *svc);
/* Raises every reminder due at now, in batches of CC_REMINDER_BATCH
 * certificates per transaction; *raised: events raised. What the scheduler
 * runs when it wakes (exposed for tests). */
enum cc_err cc_reminders_run_due(struct cc_service *svc, int64_t now, size_t *raised,
                                 struct cc_error *err);

/* ---- audit.c: the audit log ------------------------------------------------------- */
/* The caller the command line acts as in account_id: actor "cli", no
 * source or request id. */
void cc_caller_cli(struct cc_caller *out, int64_t account_id);
/* One page of the caller's account's audit log matching f (its account_id
 * is set here), newest first (admin). f->page from 1, page_size 1 to
 * CC_PAGE_SIZE_MAX (CC_AUDIT_EXPORT_MAX for an export); an unknown
 * f->action is CC_ERR_INVALID_PARAMETER, field "Action". *out:
 * cc_audit_entries_free(). */
enum cc_err cc_audit_list(struct cc_service *svc, const struct cc_caller *caller,
                          struct cc_audit_filter *f, int export, struct cc_audit_entry **out,
                          size_t *n, int64_t *total, struct cc_error *err);
/* What `certcontacts audit verify` found. */
struct cc_audit_report {
    int64_t anchor_id;           /* the last entry retention removed (0: none) */
    int64_t removed;             /* entries retention removed in all */
    int64_t checked;             /* entries whose hash was computed again */
    int64_t first_id, last_id;   /* the entries kept (0 when none) */
    char head[CC_AUDIT_HASH_HEX + 1]; /* the last entry's hash: keep it elsewhere, and a
                                       * removal of the newest entries shows too */
    int64_t bad_id;              /* 0: the chain holds; else the first entry that breaks it */
    char problem[200];           /* what is wrong there, for a person */
};
/* Computes every entry's hash again from the anchor on and checks each
 * against the stored one and that no id is missing: an edited, inserted or
 * removed entry (other than by retention) breaks the chain. CC_OK whether
 * the chain holds or not (see out->bad_id); an error only when the
 * database cannot be read. */
enum cc_err cc_audit_verify(struct cc_service *svc, struct cc_audit_report *out,
                            struct cc_error *err);
/* Removes the entries older than days days before now (ms), the oldest
 * first, and records what went: one audit.retention entry per account
 * that lost entries (how many, the time of the oldest and newest, the last
 * id removed), in the same transaction as each batch, and the chain's new
 * anchor. *removed (may be NULL) counts them. */
enum cc_err cc_audit_retention_run(struct cc_service *svc, int64_t days, int64_t now,
                                   int64_t *removed, struct cc_error *err);
/* The background job: runs cc_audit_retention_run with days (1 or more) at
 * start and every hour. Stop it before the store closes. */
enum cc_err cc_audit_retention_start(struct cc_service *svc, int64_t days, struct cc_error *err);
void cc_audit_retention_stop(struct cc_service *svc);

/* ---- endpoints.c: watched TLS endpoints ------------------------------------------ */
/* A new endpoint as the caller sent it; strings borrowed. port 0: 443. */
struct cc_endpoint_input {
    const char *host;
    int64_t port;
    const char *sni;                        /* NULL or "": the host's name */
    size_t n_contact_ids;
    int64_t contact_ids[CC_ENDPOINT_CONTACTS_MAX];
};
/* The checker's options (endpoint_check_*). */
struct cc_endpoint_config {
    int64_t interval_s;                     /* between two checks of one endpoint */
    int64_t timeout_ms;                     /* one check: connect and handshake */
    int64_t concurrency;                    /* checks at once, on-demand ones included */
    const char *ca_file;                    /* extra trusted roots (PEM); "" none; copied */
};
/* Adds an endpoint to watch (operator): host a name or an IP address, port
 * 1 to 65535, sni a name, contacts of the account (at most
 * CC_ENDPOINT_CONTACTS_MAX), at most CC_ENDPOINTS_MAX per account, the
 * same host, port and sni once (409 AlreadyExists). Its first check is due
 * at once. Audited. *out: cc_endpoint_clear(). */
enum cc_err cc_endpoint_create(struct cc_service *svc, const struct cc_caller *caller,
                               const struct cc_endpoint_input *in, struct cc_endpoint *out,
                               struct cc_error *err);
/* One endpoint with its last check (any role). */
enum cc_err cc_endpoint_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                            struct cc_endpoint *out, struct cc_error *err);
/* One page of the account's endpoints (any role). *out: cc_endpoint_clear()
 * each, then cc_free(). */
enum cc_err cc_endpoint_list(struct cc_service *svc, const struct cc_caller *caller,
                             int64_t page, int64_t page_size, struct cc_endpoint **out,
                             size_t *n, int64_t *total, struct cc_error *err);
/* Replaces the contacts told of the endpoint's alerts (operator). Audited. */
enum cc_err cc_endpoint_update(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                               const int64_t *contact_ids, size_t n, struct cc_endpoint *out,
                               struct cc_error *err);
/* Stops watching it (operator). Audited. */
enum cc_err cc_endpoint_delete(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                               struct cc_error *err);
/* Checks it now (operator), on the calling thread (at most the check
 * timeout, waiting for a free place among the checks running), raises what
 * changed as the scheduled check would, and hands back the endpoint. */
enum cc_err cc_endpoint_check_now(struct cc_service *svc, const struct cc_caller *caller,
                                  int64_t id, struct cc_endpoint *out, struct cc_error *err);
/* The checker thread: checks each endpoint when it falls due, cfg->concurrency
 * at once, then again after cfg->interval_s give or take
 * CC_ENDPOINT_JITTER_PERCENT. Start it in serve after cc_reminders_start
 * (links use its public_url); stop it before the dispatcher. */
enum cc_err cc_endpoints_start(struct cc_service *svc, const struct cc_endpoint_config *cfg,
                               struct cc_error *err);
void cc_endpoints_stop(struct cc_service *svc);
/* ---- backup.c: scheduled backups ------------------------------------------ */
struct cc_backup_config {
    const char *dir;       /* backup_dir; NULL or "": no scheduled backups */
    const char *db_url;    /* the database (SQLite only) */
    int keep;              /* the newest copies kept */
    int64_t interval_s;    /* between backups */
};
/* The backup thread: a copy of the database into dir as
 * certcontacts-YYYYMMDDTHHMMSS.mmmZ.db (UTC) every interval_s, the first
 * one interval_s after the newest already there (at once when there is
 * none); only the newest keep are kept. CC_OK without a thread when dir is
 * empty. Stop it before the store closes. */
enum cc_err cc_backups_start(struct cc_service *svc, const struct cc_backup_config *cfg,
                             struct cc_error *err);
void cc_backups_stop(struct cc_service *svc);
/* The last scheduled backup (made by this process, or the newest found in
 * backup_dir at start): its time (ms since the epoch) and size; 0 when
 * there is none or backups are off. */
int cc_service_backup_last(struct cc_service *svc, int64_t *at_ms, int64_t *bytes);
/* ---- stats.c: the console's Overview (GET /v1/stats) ------------------------ */
/* The local hours and dates the Overview's charts are drawn on, in one time
 * zone: hour i (oldest first) starts at hour_start[i] and lasts an hour, the
 * last one holding now; day d is the local date day_date[d] from day_start[d]
 * to day_start[d + 1] (23 or 25 hours across a daylight saving change), the
 * last one today. */
struct cc_stats_grid {
    int64_t now;                                     /* ms */
    int64_t hour_start[CC_STATS_HOURS];              /* ms */
    char hour_label[CC_STATS_HOURS][32];             /* RFC 3339 with the local offset */
    int64_t day_start[CC_STATS_DAYS + 1];            /* ms: local midnights */
    char day_date[CC_STATS_DAYS][11];                /* YYYY-MM-DD */
};
/* The grid of the zone named tz ("" or unknown: UTC) at now (ms) into *g;
 * 0, or -1 when GLib could not place a time. */
int cc_stats_grid_make(const char *tz, int64_t now, struct cc_stats_grid *g);
/* Folds the per-hour counts c (c->since, c->n_hours) into g's charts: each
 * counted hour into the chart hour and the local day its start falls in
 * (none: left out). hours and days: [bucket][channel][outcome], zeroed here. */
void cc_stats_fold(const struct cc_stats_grid *g, const struct cc_stats_counts *c,
                   int64_t hours[CC_STATS_HOURS][CC_STATS_CHANNELS][CC_STATS_OUTCOMES],
                   int64_t days[CC_STATS_DAYS][CC_STATS_CHANNELS][CC_STATS_OUTCOMES]);
/* "email", "sms", "dingtalk", "lark", "wecom"; "delivered", "failed", "dead". */
const char *cc_stats_channel_name(enum cc_stats_channel ch);
const char *cc_stats_outcome_name(enum cc_stats_outcome o);

/* What the Overview shows of the caller's account. */
struct cc_stats {
    char time_zone[CC_TIME_ZONE_MAX + 1];            /* the reminder settings' zone */
    struct cc_stats_grid grid;
    int64_t hours[CC_STATS_HOURS][CC_STATS_CHANNELS][CC_STATS_OUTCOMES];
    int64_t days[CC_STATS_DAYS][CC_STATS_CHANNELS][CC_STATS_OUTCOMES];
    size_t n_broken;                                 /* robots first, then addresses */
    struct cc_stats_broken broken[CC_STATS_LIST_MAX]; /* targets masked */
    int64_t unverified_total;
    size_t n_unverified;
    struct cc_stats_unverified unverified[CC_STATS_LIST_MAX];
    size_t n_expiring;                               /* the next 30 days, soonest first */
    struct cc_stats_expiring expiring[CC_STATS_LIST_MAX];
    int64_t backup_at;                               /* ms; 0: no scheduled backup yet */
};
/* The Overview of the caller's account at now (ms) into *out (the caller's,
 * large: allocate it). Role readonly. */
enum cc_err cc_stats_get(struct cc_service *svc, const struct cc_caller *caller, int64_t now,
                         struct cc_stats *out, struct cc_error *err);

/* ---- acme.c: issuance through an ACME CA (RFC 8555) ------------------------ */
/* The settings of ACME issuance (strings borrowed for the call; copied). */
struct cc_acme_config {
    const char *directory_url;   /* "" : ACME issuance is off */
    const char *ca_file;         /* PEM roots to trust for the CA's HTTPS ("" : the system's) */
    const char *eab_kid;         /* external account binding key id ("" : none) */
    const char *eab_hmac_key;    /* its MAC key, base64url */
    int terms_agreed;            /* the CA's terms of service were accepted */
    int64_t max_orders;          /* applications moved on in one pass */
    const char *key_type;        /* a key made for an application without a CSR:
                                  * ec256 (default), rsa2048, rsa3072, rsa4096 */
    int64_t timeout_ms;          /* one request to the CA */
    const char *dns_hook;        /* DNS-01: executable run as HOOK add|remove NAME VALUE */
    const char *dns_resolver;    /* DNS-01: where to look for the record ("" : the system's) */
    int64_t dns_wait_s;          /* DNS-01: how long the record may take to be visible */
    int64_t renew_remaining_percent; /* renew when this share of the lifetime remains */
    int64_t renew_retry_s;       /* first wait after a failed renewal (doubling, to a day) */
    /* DNS-01 natively through Alibaba Cloud DNS (used instead of dns_hook when the
     * key id is set) */
    const char *alidns_endpoint;
    const char *alidns_access_key_id;
    const char *alidns_access_key_secret;
    const char *alidns_zones;
};
/* Starts the worker that fulfils the applications of ACME products (those
 * with acme set in core/products.c): nothing when cfg->directory_url is "". */
enum cc_err cc_acme_start(struct cc_service *svc, const struct cc_acme_config *cfg,
                          struct cc_error *err);
void cc_acme_stop(struct cc_service *svc);
/* The HTTP-01 key authorization for token (public: the CA asks without
 * credentials) into out; CC_ERR_NOT_FOUND when no application waiting for its
 * certificate has that token. */
enum cc_err cc_acme_http01(struct cc_service *svc, const char *token, char *out, size_t outsz,
                           struct cc_error *err);
/* The automatic renewal of a certificate issued through ACME (any role):
 * *renew_at (ms; 0: none scheduled, a renewal is under way), the renewals
 * that failed in a row and the last one's reason ("" none). CC_ERR_NOT_FOUND
 * when the certificate was not issued through ACME. */
enum cc_err cc_acme_certificate_renewal(struct cc_service *svc, const struct cc_caller *caller,
                                        int64_t cert_id, int64_t *renew_at, int64_t *failures,
                                        char *reason, size_t reasonsz, struct cc_error *err);
/* What the CA checks for one name of an application. */
struct cc_acme_validation {
    char identifier[256];
    char type[16];               /* "http-01", "dns-01" */
    char status[24];             /* pending (not answered yet), processing, valid, invalid */
    char http_uri[512];          /* http-01: http://NAME/.well-known/acme-challenge/TOKEN */
    char http_content[256];      /* http-01: the key authorization served there */
    char dns_name[300];          /* dns-01: _acme-challenge.NAME */
    char dns_value[44];          /* dns-01: the TXT record's value */
};
/* An application's ACME order as certcontacts keeps it (any role): *vals
 * (owned: cc_free) its n challenges, the order's status and the last error
 * talking to the CA ("" : none). CC_ERR_NOT_FOUND when it has no order. */
enum cc_err cc_acme_application_status(struct cc_service *svc, const struct cc_caller *caller,
                                       int64_t application_id, char *status, size_t statussz,
                                       char *last_error, size_t errsz,
                                       struct cc_acme_validation **vals, size_t *n,
                                       struct cc_error *err);

#endif
