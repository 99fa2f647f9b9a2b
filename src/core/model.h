/*
 * model.h — the records of certcontacts and their size limits: what every
 * layer passes around. Pure declarations; core/model.c holds the few
 * functions that free or name them.
 *
 * Aggregates: accounts and access keys, contacts (with their webhooks),
 * verifications, events with their notifications and attempts, templates,
 * console users and sessions.
 */
#ifndef CC_MODEL_H
#define CC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/limits.h"

/* ---- the contact model -------------------------------------------------- */
#define CC_NAME_MAX_CHARS   64
#define CC_NAME_MAX_BYTES   (CC_NAME_MAX_CHARS * 4)
#define CC_EMAIL_MAX        254
#define CC_LOCAL_MAX        64
#define CC_MOBILE_MAX       16        /* "+" and at most 15 digits (E.164) */
#define CC_IDCARD_LEN       18
#define CC_WEBHOOKS_MAX     5
#define CC_URL_MAX          512
#define CC_SECRET_MAX       128
#define CC_MASKED_MAX       (CC_EMAIL_MAX + 16)
#define CC_LANG_MAX         8
#define CC_ENC_MAX          (CC_SECRET_MAX + 64) /* ciphertext of a secret/ID */
#define CC_URL_ENC_MAX      (CC_URL_MAX + 64)    /* ciphertext of a robot's URL */
#define CC_URL_TAG_LEN      67                   /* "h1:" and a keyed hash in hex */

enum cc_role { CC_ROLE_NONE = 0, CC_ROLE_READONLY = 1, CC_ROLE_OPERATOR = 2, CC_ROLE_ADMIN = 3 };
const char *cc_role_name(enum cc_role r);
enum cc_role cc_role_parse(const char *s); /* CC_ROLE_NONE when unknown */

enum cc_webhook_kind {
    CC_WEBHOOK_NONE = 0,
    CC_WEBHOOK_DINGTALK,
    CC_WEBHOOK_LARK,    /* open.larksuite.com */
    CC_WEBHOOK_FEISHU,  /* open.feishu.cn     */
    CC_WEBHOOK_WECOM
};
const char *cc_webhook_kind_name(enum cc_webhook_kind k); /* "dingtalk", ... */
/* The kind a name of cc_webhook_kind_name stands for; CC_WEBHOOK_NONE when unknown. */
enum cc_webhook_kind cc_webhook_kind_parse(const char *s);

struct cc_webhook {
    int64_t id;                          /* stable while the URL stays on the contact */
    enum cc_webhook_kind kind;
    /* Read from the store: masked (…access_token=abcd****wxyz) — a robot's token
     * leaves the store only sealed, and only the sender and an admin's audited reveal
     * open it. In a write's input: the canonical form, see classify. */
    char url[CC_URL_MAX + 1];
    char url_tag[CC_URL_TAG_LEN + 1];    /* a keyed hash of the URL: equality, no token */
    uint8_t url_enc[CC_URL_ENC_MAX];     /* the canonical URL, sealed as stored */
    size_t url_enc_len;                  /* 0: not sealed yet (a database from before) */
    int has_secret;
    char secret[CC_SECRET_MAX + 1];      /* plaintext, only while in memory */
    uint8_t secret_enc[CC_ENC_MAX];      /* ciphertext as stored */
    size_t secret_enc_len;
    int mention_mobile;                  /* @mention the contact's verified mobile */
    char broken[256];                    /* why the platform refused it for good; "" = fine */
    int64_t broken_at;
};

/* What a thread's reads see, as the store marks it (cc_store_read_mark):
 * two equal marks saw the same committed data. source names the reading
 * connection (never reused in a process), version counts the changes it
 * has seen others commit. */
struct cc_read_mark {
    uint64_t source;
    int64_t version;
};

struct cc_contact {
    int64_t id;
    int64_t account_id;
    int64_t version;
    char name[CC_NAME_MAX_BYTES + 1];
    int has_email;
    char email[CC_EMAIL_MAX + 1];
    char email_norm[CC_EMAIL_MAX + 1];   /* lower-cased, for uniqueness */
    int64_t email_verified_at;           /* ms since epoch, 0 = unverified */
    char mobile[CC_MOBILE_MAX + 1];      /* E.164 */
    int64_t mobile_verified_at;
    int has_id_card;
    char id_card[CC_IDCARD_LEN + 1];     /* plaintext, only on create/update */
    char id_card_masked[CC_IDCARD_LEN + 1];
    uint8_t id_card_enc[CC_ENC_MAX];
    size_t id_card_enc_len;
    char language[CC_LANG_MAX + 1];      /* "en" or "zh-CN" */
    char email_broken[256];              /* why the mail server refused it for good; "" = fine */
    char mobile_broken[256];
    int n_webhooks;
    struct cc_webhook webhooks[CC_WEBHOOKS_MAX];
    int64_t created_at;                  /* ms since epoch */
    int64_t updated_at;
};

/* ---- contact pages --------------------------------------------------------- */
struct cc_contact_page {
    struct cc_contact *items; /* owned; cc_contact_page_free() */
    size_t n, cap;             /* cap: the rows items has room for */
    int64_t total;
    int total_capped;          /* a search counted past its count_max: total says "at least" */
};
void cc_contact_page_free(struct cc_contact_page *p);

/* ---- accounts and access keys ------------------------------------------------ */
#define CC_KEY_ID_LEN     24
#define CC_KEY_SECRET_LEN 32

struct cc_access_key {
    char id[CC_KEY_ID_LEN + 1];
    int64_t account_id;
    enum cc_role role;
    uint8_t secret_enc[CC_ENC_MAX];
    size_t secret_enc_len;
    int64_t created_at;
    int64_t disabled_at;      /* 0 while enabled */
    int64_t expires_at;       /* 0: never */
    int64_t last_used_at;     /* 0: never used (written at most once a minute) */
};

/* ---- verification codes -------------------------------------------------------- */
enum cc_verif_status { CC_VERIF_SENDING, CC_VERIF_SENT, CC_VERIF_FAILED, CC_VERIF_SUPERSEDED };

struct cc_verification {
    int64_t id;
    int64_t account_id;
    int64_t contact_id;           /* 0: before a contact is saved */
    char channel[8];              /* "email" or "mobile" */
    char target[CC_EMAIL_MAX + 1];   /* in full while the code can be used, then masked */
    char target_tag[CC_URL_TAG_LEN + 1]; /* keyed hash of channel and address (written) */
    char code_hash[65];
    enum cc_verif_status status;
    int64_t attempts;
    int64_t sent_at, expires_at, confirmed_at; /* ms; confirmed_at 0 = not yet */
};

/* ---- events and the notification outbox ---------------------------------- */
struct cc_event {
    int64_t id;
    int64_t account_id;
    char type[64];
    char *data;       /* JSON text; owned: cc_event_free() */
    char *skipped;    /* JSON text; owned */
    int64_t created_at;
    /* The lowest and highest id of the notifications its write made (0:
     * none): on SQLite they serve in place of an index by event. */
    int64_t first_notification_id, last_notification_id;
};
void cc_event_free(struct cc_event *e);

struct cc_notification {
    int64_t id;
    int64_t account_id;
    int64_t event_id;
    int64_t contact_id;
    int64_t webhook_id;            /* channel "webhook" */
    char channel[8];               /* "email", "mobile", "webhook" */
    char target[CC_URL_MAX + 1];   /* masked */
    char status[12];               /* pending, delivered, failed, dead, cancelled, skipped */
    int64_t attempts;
    int64_t next_attempt_at;
    int64_t lease_until;
    char last_error[512];
    char key[96];                  /* idempotency key, also sent to robots as msgUuid */
    int64_t created_at, updated_at;
    /* Read with the delivery log (cc_store_notif_list / _get), for display: the
     * event's type, the domains its data names (", "-joined, cut to fit) and the
     * contact's name. */
    char event_type[64];
    char domain[256];
    char contact_name[CC_NAME_MAX_BYTES + 1]; /* "" once the contact is deleted */
};

struct cc_attempt {
    int64_t id;
    int64_t notification_id;
    int64_t started_at;
    int64_t latency_ms;
    char outcome[24];
    int64_t http_status;
    char platform_code[32];
    char platform_message[256];
    char reason[256];
};

struct cc_notif_filter {
    int64_t account_id;
    int64_t event_id;              /* 0: any */
    int64_t contact_id;            /* 0: any */
    const char *status;            /* NULL: any */
    const char *channel;           /* NULL: any */
    int64_t page, page_size;
    int without_skipped;           /* 1: leave out the channels an event skipped */
};

/* ---- the outcome of one send ---------------------------------------------------- */
enum cc_send_status {
    CC_SEND_OK = 0,          /* the platform accepted the message */
    CC_SEND_RETRY,           /* transient: timeout, connection refused, 5xx, system busy */
    CC_SEND_THROTTLED,       /* the platform's rate limit: do not retry inside its window */
    CC_SEND_INVALID_TARGET,  /* the address or number is not deliverable */
    CC_SEND_GATEWAY_ACCOUNT, /* our account at the platform: balance, permission, signature, template */
    CC_SEND_REJECTED,        /* any other permanent refusal */
    CC_SEND_NOT_CONFIGURED   /* no SMTP server / SMS provider configured */
};

struct cc_send_result {
    enum cc_send_status status;
    char code[64];      /* the platform's code ("OK", "isv.MOBILE_NUMBER_ILLEGAL", "250", "curl:7") */
    char reason[256];   /* for a person: what the platform said, without secrets */
};
const char *cc_send_status_name(enum cc_send_status s);

/* Where an answer came from, for the delivery log. */
struct cc_robot_answer {
    long http_status;           /* 0: no HTTP answer */
    int64_t latency_ms;
    char platform_code[32];     /* "0", "310000", "19021"; "" when the body had none */
    char platform_msg[256];
};

/* ---- an account's own notification templates ------------------------------- */
/* Limits of an account's own template, in bytes of UTF-8. */
#define CC_TEMPLATE_TITLE_MAX 200
#define CC_TEMPLATE_BODY_MAX  4000
#define CC_TEMPLATE_SECTIONS_MAX 8   /* {{#name}} sections open at once */
struct cc_template {
    char event_type[64];           /* "certificate.expiring", ... */
    char channel[8];               /* "email", "sms", "robot" */
    char language[8];              /* "en", "zh-CN" */
    char title[CC_TEMPLATE_TITLE_MAX + 1];
    char body[CC_TEMPLATE_BODY_MAX + 1];
    int64_t updated_at;            /* ms */
};

/* ---- console users, their sessions and wrong-password counts --------------- */
#define CC_PASSWORD_HASH_MAX 160
#define CC_TOKEN_HASH_LEN    64      /* hex SHA-256 */
#define CC_CSRF_LEN          43      /* base64url of 32 random bytes */

struct cc_user {
    int64_t id;
    int64_t account_id;
    char email[CC_EMAIL_MAX + 1];
    char email_norm[CC_EMAIL_MAX + 1];    /* lower-cased: unique in its account */
    enum cc_role role;
    char password_hash[CC_PASSWORD_HASH_MAX + 1]; /* argon2id encoded */
    char language[CC_LANG_MAX + 1];
    int64_t disabled_at;                  /* 0 while enabled */
    int64_t created_at;
    int64_t last_sign_in_at;              /* 0: never */
    int64_t locked_until;                 /* read only: its latest lock from one address */
};

struct cc_session {
    char token_hash[CC_TOKEN_HASH_LEN + 1];
    int64_t user_id;
    char csrf_token[CC_CSRF_LEN + 1];
    int64_t created_at, last_seen_at, expires_at;
};

struct cc_sign_in_failures {
    int64_t failures;
    int64_t first_failure_at;
    int64_t locked_until;
};

/* ---- certificate applications (core/products.h: products, domains, CSRs) --- */
/* submitted -> pending_validation -> approved -> issued; rejected or
 * cancelled from any state before issued. */
enum cc_app_state {
    CC_APP_SUBMITTED = 0,
    CC_APP_PENDING_VALIDATION,
    CC_APP_APPROVED,
    CC_APP_ISSUED,
    CC_APP_REJECTED,
    CC_APP_CANCELLED,
    CC_APP_STATE_COUNT
};
const char *cc_app_state_name(enum cc_app_state s);
/* CC_APP_STATE_COUNT when s names no state. */
enum cc_app_state cc_app_state_parse(const char *s);
/* 1 when an application may move from `from` to `to`. */
int cc_app_transition_allowed(enum cc_app_state from, enum cc_app_state to);

#define CC_APP_REASON_MAX 512     /* bytes of a transition's reason */
#define CC_PRODUCT_CODE_MAX 64

struct cc_application {
    int64_t id;
    int64_t account_id;
    int64_t contact_id;
    char product[CC_PRODUCT_CODE_MAX + 1];
    enum cc_app_state state;
    char *domains;          /* JSON [{"name": U-label, "ascii": A-label}]; owned */
    char *csr;              /* PEM or NULL; owned */
    char *certificate_pem;  /* PEM given on issued, or NULL; owned */
    int64_t version;
    int64_t created_at, updated_at;
    char validate_type[8];  /* how its domains are validated: "DNS", "FILE"; "" not named */
};
/* Frees what a's pointers own and clears them. */
void cc_application_clear(struct cc_application *a);

struct cc_app_transition {
    int64_t id;
    int64_t application_id;
    int64_t at;                            /* ms */
    char actor[80];                        /* access key id or "user:ID" */
    char from_state[24];                   /* "" for the submission */
    char to_state[24];
    char reason[CC_APP_REASON_MAX + 1];
};

/* ---- certificates ------------------------------------------------------------ */
#define CC_CERT_PEM_MAX         (64 * 1024) /* a leaf and its chain, as text */
#define CC_CERT_KEY_PEM_MAX     (16 * 1024) /* a private key, as text */
#define CC_CERT_CHAIN_MAX       10          /* certificates in one PEM bundle */
#define CC_CERT_DOMAINS_MAX     100         /* names one certificate covers */
#define CC_DOMAIN_MAX           253
#define CC_CERT_DN_MAX          512         /* an issuer's name, RFC 2253 form */
#define CC_CERT_SERIAL_MAX      80          /* hex */
#define CC_CERT_PRODUCT_MAX     64
#define CC_CERT_SUBSCRIBERS_MAX 100         /* contacts subscribed to one certificate */

/* What is stored: active, revoked or superseded. What is shown adds
 * expired, derived from not_after (an active certificate past its
 * not_after is never shown active). */
enum cc_cert_state { CC_CERT_ACTIVE = 0, CC_CERT_EXPIRED, CC_CERT_REVOKED, CC_CERT_SUPERSEDED };
const char *cc_cert_state_name(enum cc_cert_state s);    /* "active", ... (x509.c) */
enum cc_cert_state cc_cert_state_parse(const char *s);    /* -1 when unknown */
/* The state shown at now (ms): stored ACTIVE past not_after is EXPIRED. */
enum cc_cert_state cc_cert_state_at(enum cc_cert_state stored, int64_t not_after, int64_t now);

struct cc_certificate {
    int64_t id;
    int64_t account_id;
    char name[CC_NAME_MAX_BYTES + 1];        /* "" when none was given */
    char common_name[CC_DOMAIN_MAX + 1];
    char *domains;                           /* JSON array of names; owned */
    char issuer[CC_CERT_DN_MAX + 1];
    char serial[CC_CERT_SERIAL_MAX + 1];
    char key_type[16];                       /* "RSA", "EC", "Ed25519"; "" metadata only */
    int key_bits;
    char fingerprint[65];                    /* hex SHA-256 of the leaf; "" metadata only */
    char product[CC_CERT_PRODUCT_MAX + 1];
    int64_t not_before, not_after;           /* ms */
    int chain_len;                           /* certificates in pem; 0 metadata only */
    char *pem;                               /* owned; NULL metadata only */
    int has_private_key;
    uint8_t *key_enc;                        /* owned; the sealed key, only for writes */
    size_t key_enc_len;
    enum cc_cert_state state;                /* as stored, or as shown once derived */
    int64_t revoked_at;
    int64_t superseded_by;                   /* 0: none */
    size_t n_subscribers;
    int64_t subscribers[CC_CERT_SUBSCRIBERS_MAX]; /* contact ids */
    int64_t created_at, updated_at;
    /* expiry reminders (service/reminders.c) */
    int has_reminder_days;                   /* 0: the account's days_before */
    size_t n_reminder_days;
    int reminder_days[CC_REMINDER_DAYS_MAX];  /* its own thresholds, descending */
    int64_t next_reminder_at;                /* ms; 0: nothing left to remind */
    int64_t reminder_raised;                 /* ms: due time of the last point raised; 0 none */
};
/* Frees what c owns (not c) and clears those members. */
void cc_certificate_clear(struct cc_certificate *c);

/* An account's expiry reminder settings (service/reminders.c). */
struct cc_reminder_settings {
    int64_t account_id;
    size_t n_days;
    int days[CC_REMINDER_DAYS_MAX];          /* distinct, descending */
    int on_expiry_day;                       /* remind at 00:00 of the expiry's local day */
    int day_after;                           /* certificate.expired at 00:00 the day after */
    int has_window;                          /* 0: any time of day */
    int window_start, window_end;            /* minutes after local midnight; may wrap */
    char time_zone[CC_TIME_ZONE_MAX + 1];    /* IANA name */
    int64_t updated_at;                      /* ms; 0: never saved (the defaults) */
};

/* A certificate listed for a filter (the store fills account_id). */
struct cc_cert_filter {
    int64_t account_id;
    int64_t contact_id;                      /* 0: any */
    const char *domain;                      /* NULL: any */
    int state;                               /* -1: any, else enum cc_cert_state */
    int64_t not_after_before;                /* 0: any, else now < not_after < this (ms) */
    const char *keyword;                     /* NULL: any; in name, domains, issuer */
    int64_t now;                             /* ms: what expired means */
    int64_t page, page_size;
};

/* ---- watched endpoints (service/endpoints.c) ---------------------------------- */
/* A TLS server an account watches: what its last check found, and which of
 * the three alerts are raised now (each notified once when it starts and
 * once when it clears). */
#define CC_ENDPOINT_REASON_MAX 256          /* bytes of a check's reason in words */
enum cc_endpoint_alert {
    CC_ENDPOINT_ALERT_OUTDATED = 1,         /* certificate.endpoint_outdated */
    CC_ENDPOINT_ALERT_EXPIRING = 2,         /* certificate.endpoint_expiring */
    CC_ENDPOINT_ALERT_ERROR = 4,            /* certificate.endpoint_error */
};

/* What one check saw. */
struct cc_endpoint_check {
    int64_t checked_at;                     /* ms; 0: never checked */
    int handshake_ok;                       /* a TLS session was made */
    char error[CC_ENDPOINT_REASON_MAX + 1]; /* why it is an error, in words; "" none */
    char tls_version[16];                   /* "TLSv1.3"; "" without a handshake */
    char fingerprint[65];                   /* hex SHA-256 of the served leaf */
    char *names;                            /* JSON array of the leaf's names; owned */
    char issuer[CC_CERT_DN_MAX + 1];
    int64_t not_after;                      /* ms */
    int chain_verified;                     /* the served chain verifies to a trusted root */
    int chain_complete;                     /* no intermediate is missing */
    int names_match;                        /* the leaf covers the name clients use */
    int64_t certificate_id;                 /* the known certificate served; 0: none */
    int64_t newer_certificate_id;           /* a newer one for these names; 0: none */
};

struct cc_endpoint {
    int64_t id;
    int64_t account_id;
    char host[CC_DOMAIN_MAX + 1];           /* a DNS name (A-label) or an IP address */
    int port;
    char sni[CC_DOMAIN_MAX + 1];            /* server name sent; "" the host (a name) */
    size_t n_contacts;
    int64_t contacts[CC_ENDPOINT_CONTACTS_MAX]; /* contact ids told of its alerts */
    int64_t created_at, updated_at;
    int64_t next_check_at;                  /* ms */
    unsigned alerts;                        /* enum cc_endpoint_alert bits raised now */
    struct cc_endpoint_check last;
};
/* Frees what e owns (not e) and clears those members. */
void cc_endpoint_clear(struct cc_endpoint *e);
/* The alert's event type ("certificate.endpoint_error"). */
const char *cc_endpoint_alert_event(enum cc_endpoint_alert a);
/* The one word the API shows for e's state: "pending" (never checked),
 * "error", "outdated", "expiring" (the worst alert raised) or "ok". */
const char *cc_endpoint_state(const struct cc_endpoint *e);

/* ---- the Overview's figures (service/stats.c) ---------------------------------- */
/* Outcomes are counted per channel as the console shows them: a robot's
 * notifications by the platform its URL names (Lark and Feishu together). */
enum cc_stats_channel {
    CC_STATS_EMAIL = 0, CC_STATS_SMS, CC_STATS_DINGTALK, CC_STATS_LARK, CC_STATS_WECOM,
    CC_STATS_CHANNELS
};
enum cc_stats_outcome { CC_STATS_DELIVERED = 0, CC_STATS_FAILED, CC_STATS_DEAD, CC_STATS_OUTCOMES };
#define CC_STATS_HOURS 24             /* the hourly chart: the last 24 hours */
#define CC_STATS_DAYS 30              /* the daily chart: the last 30 local dates */
/* Hours the store counts for the daily chart: 30 local days, one of them 25 h long
 * at most once, and the hour now running. */
#define CC_STATS_SPAN_HOURS (CC_STATS_DAYS * 24 + 2)
#define CC_STATS_LIST_MAX 50          /* rows of each attention list */

/* Finished notifications (delivered, failed, dead) by the hour of their outcome:
 * counts[(hour * CC_STATS_CHANNELS + channel) * CC_STATS_OUTCOMES + outcome]. */
struct cc_stats_counts {
    int64_t since;                    /* ms: start of hour 0 */
    size_t n_hours;                   /* at most CC_STATS_SPAN_HOURS */
    int64_t counts[CC_STATS_SPAN_HOURS * CC_STATS_CHANNELS * CC_STATS_OUTCOMES];
};

/* A robot the platform refused for good, or a contact's address it refused. */
struct cc_stats_broken {
    int64_t contact_id;
    char contact_name[CC_NAME_MAX_BYTES + 1];
    int64_t webhook_id;               /* 0: an address */
    char channel[8];                  /* "webhook", "email", "mobile" */
    char platform[16];                /* a robot's kind ("dingtalk", ...); "" an address */
    char target[CC_URL_MAX + 1];      /* masked: the robot's URL, the address */
    char problem[256];
    int64_t since;                    /* ms; 0 when not recorded (addresses) */
};

/* A contact with an address not verified yet. */
struct cc_stats_unverified {
    int64_t id;
    char name[CC_NAME_MAX_BYTES + 1];
    int has_email, email_verified, mobile_verified;
};

/* An active certificate that expires soon. */
struct cc_stats_expiring {
    int64_t id;
    char name[CC_NAME_MAX_BYTES + 1];
    char common_name[CC_DOMAIN_MAX + 1]; /* or, when it has none, its first domain */
    int64_t not_after;                /* ms */
};
/* ---- contact imports --------------------------------------------------------- */
/* A CSV import of contacts (service/imports.c): the job and its counts. */
enum cc_import_state { CC_IMPORT_QUEUED, CC_IMPORT_RUNNING, CC_IMPORT_DONE, CC_IMPORT_FAILED };
#define CC_IMPORT_IGNORED_MAX 1024  /* bytes of the ignored columns' JSON list */

struct cc_import {
    int64_t id;
    int64_t account_id;
    char actor[CC_KEY_ID_LEN + 8];          /* who started it (the audit actor) */
    enum cc_import_state state;
    int dry_run;
    int skip_bad;                           /* mode=skip_bad; 0: mode=all */
    int trust_verified;
    char encoding[12];                      /* "utf-8" or "gb18030" */
    char ignored_columns[CC_IMPORT_IGNORED_MAX]; /* a JSON array of the header's names */
    int64_t total, checked, processed, created, updated, unchanged, refused;
    char error_code[48];                    /* "" while there is no error */
    char error_message[256];
    int64_t created_at, finished_at;        /* ms; finished_at 0: not yet */
    int64_t heartbeat_at;                   /* ms: its process last wrote progress */
    char owner[40];                         /* the instance running it ("" unknown) */
};

/* What an import does, or would do, with one row of its file. */
enum cc_import_action { CC_IMPORT_CREATE, CC_IMPORT_UPDATE, CC_IMPORT_UNCHANGED,
                        CC_IMPORT_REFUSE };

/* One row of an import's report. */
struct cc_import_row {
    int64_t row;                            /* line of the file; the header is 1 */
    enum cc_import_action action;
    int64_t contact_id;                     /* 0: none */
    char name[CC_NAME_MAX_BYTES + 1];
    char email[CC_EMAIL_MAX + 1];           /* masked as the contact list shows it */
    char mobile[CC_MOBILE_MAX + 8];         /* masked */
    char code[48];                          /* a refusal's API code; "" otherwise */
    char field[32];
    char message[256];
    char message_zh[384];
};
const char *cc_import_state_name(enum cc_import_state s);
const char *cc_import_action_name(enum cc_import_action a);
/* -1 when name is no action. */
int cc_import_action_parse(const char *name);

#endif
