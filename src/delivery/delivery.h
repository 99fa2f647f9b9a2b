/*
 * delivery.h — the public header of the delivery layer: sending a message
 * over one outbound channel (SMTP email, SMS through a gateway) and telling
 * the caller, within a bounded time, whether the platform accepted it — read
 * from the platform's answer, never from the transport alone.
 *
 * The cc_*_send calls block the calling thread for at most the configured
 * timeout; callers that serve HTTP run them off the server's worker threads.
 * The dispatcher prepares many messages and runs them together instead.
 *
 * Delivery holds no business rule: who gets what, in which words, with which
 * secret is the service's to say (struct cc_outgoing, and the resolver the
 * dispatcher asks for each batch). Delivery uses store, core and util only.
 */
#ifndef CC_DELIVERY_H
#define CC_DELIVERY_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

struct cc_delivery_config {
    int dev;                        /* development mode: log stand-ins allowed */
    const char *smtp_url;           /* smtp://host:port (STARTTLS when offered) or smtps://; "" = none */
    const char *smtp_user;          /* "" = no login */
    const char *smtp_password;
    const char *smtp_from;          /* "certcontacts <noreply@example.com>" or a bare address */
    int smtp_require_tls;           /* refuse to send over smtp:// without STARTTLS */
    const char *sms_provider;       /* "aliyun", "webhook", "log" or "" (none) */
    const char *sms_endpoint;       /* aliyun: base URL, default https://dysmsapi.aliyuncs.com */
    const char *sms_access_key_id;
    const char *sms_access_key_secret;
    const char *sms_sign_name;
    const char *sms_template_code;
    const char *sms_notify_template_code; /* aliyun template for notifications, ${title} */
    const char *sms_webhook_url;    /* webhook provider: where to POST */
    const char *sms_webhook_secret; /* HMAC-SHA256 key for its signature header */
    int64_t timeout_ms;             /* whole send, connect included */
    /* Chat robots. Each base URL, when set (tests only: never from the API),
     * replaces the scheme, host and port of that platform's webhook URLs;
     * the path and query of the real URL are kept. */
    const char *dingtalk_base_url;
    const char *feishu_base_url;
    const char *lark_base_url;
    const char *wecom_base_url;
};


struct cc_email {
    const char *to;         /* address */
    const char *to_name;    /* display name, may be NULL or non-ASCII */
    const char *subject;    /* UTF-8 */
    const char *text;       /* UTF-8 plain text part */
    const char *html;       /* UTF-8 HTML part */
};

struct cc_sms {
    const char *mobile;         /* E.164, "+8613312345678" */
    const char *template_param; /* JSON object string, e.g. {"code":"123456"} (aliyun) */
    const char *text;           /* the whole message as text (webhook and log providers) */
    const char *out_id;         /* our reference, may be NULL */
    const char *template_code;  /* aliyun: NULL = the verification-code template */
};

/* Checks the configuration once at start-up: a known provider, the settings
 * it needs, the log stand-ins only in development mode. Returns 0, or -1
 * with a sentence in err. */
int cc_delivery_check_config(const struct cc_delivery_config *cfg, char *err, size_t errsz);

/* Sends one email (MIME multipart/alternative, UTF-8). In development mode
 * with no SMTP server configured, writes it to the log instead. Returns 0 when
 * accepted, -1 otherwise; *res says what happened either way. */
int cc_send_email(const struct cc_delivery_config *cfg, const struct cc_email *m,
                  struct cc_send_result *res);

/* Sends one SMS through the configured provider. */
int cc_send_sms(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                struct cc_send_result *res);


/* ---- prepared messages (xfer.c) ---------------------------------------------
 * Each cc_*_send above is a prepare followed by a run of one. A caller with
 * many messages prepares them all and runs them together: they are on the
 * wire at the same time (libcurl's multi interface, one per thread), each
 * still bounded by the configured timeout. A prepare returns 0 with *out set,
 * or with *out NULL when the outcome is already known and in *res (the
 * development-mode log stand-ins, say); -1 with *res filled when there is
 * nothing to send. */
struct cc_xfer;
struct cc_robot_answer;
int cc_email_prepare(const struct cc_delivery_config *cfg, const struct cc_email *m,
                     struct cc_send_result *res, struct cc_xfer **out);
int cc_sms_prepare(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                   struct cc_send_result *res, struct cc_xfer **out);
/* Runs the transfers in xs (NULL entries skipped) together until each has
 * finished or timed out. */
void cc_xfer_run(struct cc_xfer *const *xs, size_t n);
/* The same, calling watch(arg) after each round of progress and at least
 * every 100 ms while transfers are waiting, so the caller can deal with the
 * finished ones (cc_xfer_done) before the slowest has finished. */
void cc_xfer_run_watched(struct cc_xfer *const *xs, size_t n, void (*watch)(void *arg),
                         void *arg);
/* 1 once x has run (its outcome is in), else 0. */
int cc_xfer_done(const struct cc_xfer *x);
/* The outcome of a transfer that ran; *ans (may be NULL) gets the robot
 * answer (HTTP status, latency, platform code and message). */
const struct cc_send_result *cc_xfer_result(const struct cc_xfer *x, struct cc_robot_answer *ans);
void cc_xfer_free(struct cc_xfer *x);

/* ---- chat robots (dingtalk.c, lark.c, wecom.c) -------------------------------- */
/* What one robot message says; the sender builds the platform's body. */
struct cc_robot_message {
    int kind;                   /* enum cc_webhook_kind (core.h) */
    const char *url;            /* the webhook's canonical URL (core's classifier) */
    const char *secret;         /* signing secret, or NULL for an unsigned robot */
    const char *title;          /* short title: DingTalk markdown title, Lark post title */
    const char *markdown;       /* body as markdown (DingTalk, WeCom) */
    const char *text;           /* body as plain text (Lark post, WeCom text with mention) */
    const char *mention_mobile; /* E.164 mobile to @mention (DingTalk, WeCom), or NULL */
    const char *msg_uuid;       /* DingTalk msgUuid: the same on every retry; may be NULL */
};


/* Sends one robot message: builds the body (within the platform's size
 * limit, see cc_robot_max_bytes), signs it with a timestamp taken now,
 * posts it, and classifies the platform's answer by its code, never by the
 * HTTP status alone. res->reason is a sentence a person can act on for a
 * permanent failure ("signature rejected: check the secret"). */
int cc_send_robot(const struct cc_delivery_config *cfg, const struct cc_robot_message *m,
                  struct cc_send_result *res, struct cc_robot_answer *ans);
/* The same, prepared (see cc_xfer_run); the timestamp is taken now. */
int cc_robot_prepare(const struct cc_delivery_config *cfg, const struct cc_robot_message *m,
                     struct cc_send_result *res, struct cc_xfer **out);

/* The most UTF-8 bytes the platform accepts for the part of the message
 * that grows with its content (DingTalk and Lark: the whole body, 20000;
 * WeCom: markdown content 4096, text content 2048). */
size_t cc_robot_max_bytes(int kind, int text_message);

/* ---- one message to one channel (notify.c) -------------------------------------
 * What the service decided to send for one notification (or one test
 * send): the rendered message and where it goes, with everything the
 * dispatcher records about the channel. The service fills it (the
 * resolver below, and the test sends); delivery applies no rule to it. */
enum cc_outgoing_action {
    CC_OUT_SEND,    /* send the message below */
    CC_OUT_CANCEL,  /* not sent: finished as cancelled, because of why (the contact
                       was deleted, the address is no longer verified, the robot removed) */
    CC_OUT_FAIL,    /* not sent: finished as failed, because of why */
    CC_OUT_LATER,   /* not sent now: put back as pending with why, due again at
                       later_at (0: when it was due) */
};

struct cc_outgoing {
    enum cc_outgoing_action action;
    char why[256];
    int64_t later_at;
    /* CC_OUT_SEND only: */
    char channel[8];                        /* "email", "mobile", "webhook" */
    struct cc_rendered r;                   /* in the contact's language */
    char lang[CC_LANG_MAX + 1];             /* that language: "en" or "zh-CN" */
    char to[CC_EMAIL_MAX + 1];              /* email address or E.164 mobile; robots: "" */
    char to_name[CC_NAME_MAX_BYTES + 1];    /* the contact's name (email display name) */
    int kind;                               /* robots: enum cc_webhook_kind */
    char url[CC_URL_MAX + 1];               /* robots: the canonical webhook URL */
    char secret[CC_SECRET_MAX + 1];         /* robots: decrypted signing secret; "" = none
                                               (cleansed by whoever holds it when done) */
    char mention_mobile[CC_MOBILE_MAX + 1]; /* robots: E.164 mobile to @mention; "" = none */
    int was_broken;                         /* the channel is marked broken: a delivery clears it */
};

/* Prepares o (borrowed; CC_OUT_SEND) for the wire through its channel's
 * sender: the one path every message to a contact takes, test or real, so a
 * test exercises exactly the message type, signing and sender a real
 * notification uses. msg_uuid stays the same across retries of one
 * notification (DingTalk's msgUuid, the SMS out id). Returns as
 * cc_email_prepare. */
int cc_notify_prepare(const struct cc_delivery_config *cfg, const struct cc_outgoing *o,
                      const char *msg_uuid, struct cc_send_result *res, struct cc_xfer **out);
/* The same, run alone: *res is always filled, *ans (may be NULL) too.
 * Returns 0 when delivered, -1 otherwise. */
int cc_notify_send(const struct cc_delivery_config *cfg, const struct cc_outgoing *o,
                   const char *msg_uuid, struct cc_send_result *res,
                   struct cc_robot_answer *ans);

/* ---- who gets what: the service's answer for a claimed batch ------------------
 * The dispatcher claims notifications and asks resolve() what to do with
 * each: out[i] (n of them, owned by the caller, filled whole by resolve for
 * each ns[i]) says send what to where, or cancel, fail or put back and why.
 * resolve reads each event, contact and template once per call, so a batch
 * costs what it did when the dispatcher read them itself. It is called on
 * the dispatcher's threads, several at once; ctx is the resolver's own and
 * outlives the dispatcher. */
struct cc_notification;
struct cc_delivery_resolver {
    void *ctx;
    void (*resolve)(void *ctx, struct cc_notification *const *ns, size_t n,
                    struct cc_outgoing *out);
};

/* ---- the dispatcher (dispatcher.c) ---------------------------------------------
 * Threads that claim due notifications from the outbox with a lease, have the
 * resolver say what to send, send it, record every attempt, and retry with
 * backoff. */
struct cc_store;
struct cc_dispatcher;
struct cc_dispatcher_config {
    int threads;
    int64_t lease_ms;             /* a claim not finished by then is claimed again */
    const int64_t *schedule_s;    /* waits before the 2nd, 3rd, ... attempt */
    size_t nschedule;             /* attempts in all: nschedule + 1 */
    int64_t idle_poll_ms;         /* longest sleep when nothing is due */
    int rate_window_percent;      /* 100: the platforms' windows; tests shorten them */
    int64_t throttle_max_age_ms;  /* a notification a platform keeps rate limiting is
                                     given up (dead) this long after it was made; 0: 24 h */
    const char *instance_id;      /* names this instance's leases (kept across restarts);
                                     NULL: a new one */
};
/* store, dc and the resolver's ctx are borrowed and must outlive the
 * dispatcher; *resolver and *cfg are copied. Returns 0, or -1 when no
 * thread could start. */
int cc_dispatcher_start(struct cc_store *store, const struct cc_delivery_config *dc,
                        const struct cc_delivery_resolver *resolver,
                        const struct cc_dispatcher_config *cfg, struct cc_dispatcher **out);
/* Something new may be due: look now rather than at the next poll. */
void cc_dispatcher_wake(struct cc_dispatcher *d);
/* Notifications handed to the dispatcher at their birth. The write that makes
 * them (an event's) inserts the first `granted` pending ones leased to owner
 * until lease_until, as a claim would have leased them, and notes their ids;
 * once it commits, the dispatcher sends them without claiming them. A crash
 * before they are sent leaves them leased, as a claimed batch is: the next
 * start makes them due again. */
struct cc_handoff {
    char owner[33];               /* the dispatcher's instance id */
    int64_t lease_until;
    size_t granted;               /* at most this many may be born leased */
    size_t n;                     /* ids noted so far */
    int64_t *ids;                 /* room for granted */
};
/* Room for up to want notifications in h (h->granted may be 0: the
 * dispatcher's hands are full, it is failing or stopping, or d is NULL).
 * Always pair with cc_dispatcher_handoff_end. */
void cc_dispatcher_handoff_begin(struct cc_dispatcher *d, size_t want, struct cc_handoff *h);
/* After the write: committed, h->ids are the dispatcher's to send; not, the
 * room is given back. Frees h->ids. */
void cc_dispatcher_handoff_end(struct cc_dispatcher *d, struct cc_handoff *h, int committed);
/* Finishes the sends in flight, then stops; NULL is ignored. */
void cc_dispatcher_stop(struct cc_dispatcher *d);

/* ---- TLS endpoint probes (tls_probe.c) -----------------------------------------
 * One TLS handshake with a server someone watches, and what it served. The
 * service decides what the result means (service/endpoints.c). */
struct cc_tls_probe_req {
    const char *host;             /* a DNS name or an IP address */
    int port;
    const char *sni;              /* server name to send; NULL or "": none */
    const char *match_name;       /* the name the leaf must cover (a name or an IP) */
    int64_t timeout_ms;           /* connect and handshake together */
    const char *ca_file;          /* extra trusted roots (PEM); NULL or "": none */
    int64_t now_ms;               /* the time the chain is verified at */
};
struct cc_tls_probe_result {
    int handshake_ok;
    char error[256];              /* why the handshake failed, in words */
    char tls_version[16];         /* "TLSv1.3" */
    char *leaf_pem;               /* the served leaf; owned: cc_free() */
    int chain_verified;           /* the served chain verifies to a trusted root */
    int chain_complete;           /* no certificate between the leaf and a root is missing */
    int names_match;              /* the leaf covers match_name */
    char verify_error[128];       /* OpenSSL's words for why the chain does not verify */
};
/* Connects to rq->host:rq->port, makes one TLS handshake (whatever the
 * server sends is accepted, so that it can be looked at), verifies the
 * served chain against the system's roots and rq->ca_file, checks the
 * leaf's names, and closes. Blocks at most rq->timeout_ms once the name is
 * resolved. *out is zeroed first; free out->leaf_pem with cc_free(). */
void cc_tls_probe(const struct cc_tls_probe_req *rq, struct cc_tls_probe_result *out);
/* ---- the ACME client's requests (acme_http.c) ---------------------------------
 * One request at a time to an ACME CA (RFC 8555): https only (http only to the
 * loopback, for tests), no redirects, the CA's certificate checked against the
 * system's roots or ca_file, a timeout, at most CC_ACME_ANSWER_MAX bytes read.
 * The protocol (JWS, nonces, what to ask) is the service's. */
struct cc_acme_http;
struct cc_acme_answer {
    long status;                  /* HTTP status; 0 when no answer came */
    char nonce[256];              /* Replay-Nonce */
    char location[1024];          /* Location */
    int64_t retry_after_s;        /* Retry-After in seconds (a date is converted); -1 none */
    char content_type[128];
    char *body;                   /* NUL-terminated, owned: cc_acme_answer_free */
    size_t len;
};
/* ca_file: a PEM bundle of roots to trust instead of the system's ("" none). */
struct cc_acme_http *cc_acme_http_new(const char *ca_file, int64_t timeout_ms);
void cc_acme_http_free(struct cc_acme_http *h);
/* A request in flight stops as soon as *flag (read atomically) is non-zero:
 * the server is stopping. */
void cc_acme_http_abort_on(struct cc_acme_http *h, const int *flag);
/* method "GET", "HEAD", "POST" (body with Content-Type application/jose+json) or
 * "FORM" (a POST of an application/x-www-form-urlencoded body);
 * accept (may be NULL) the Accept header. 0 with *a filled when an answer came
 * (any status), -1 with a sentence in err when none did. */
int cc_acme_http_do(struct cc_acme_http *h, const char *method, const char *url,
                    const char *body, const char *accept, struct cc_acme_answer *a, char *err,
                    size_t errsz);
void cc_acme_answer_free(struct cc_acme_answer *a);

/* ---- DNS-01 (acme_dns.c) --------------------------------------------------------
 * Runs hook (an executable path) as `hook op name value` (op "add" or
 * "remove"), without a shell, killed after timeout_ms: 0 when it exits 0,
 * else -1 with a sentence in err. */
int cc_acme_dns_hook(const char *hook, const char *op, const char *name, const char *value,
                     int64_t timeout_ms, char *err, size_t errsz);
/* 1 when the TXT records of name (asked of resolver "IPv4:PORT", "" the
 * system's) include value, 0 when they do not (yet), -1 when resolver is not
 * an address. */
int cc_acme_dns_txt_visible(const char *resolver, const char *name, const char *value);
/* Alibaba Cloud DNS (API 2015-01-09, signed HMAC-SHA1 like SendSms). */
struct cc_alidns_config {
    const char *endpoint;         /* https://alidns.aliyuncs.com (http to the loopback: tests) */
    const char *access_key_id;
    const char *access_key_secret;
    const char *zones;            /* comma-separated zones; "": the name's last two labels */
};
/* AddDomainRecord of the TXT record name = value in its zone through h; the
 * record's id into record_id. 0, or -1 with a sentence in err. */
int cc_alidns_add(struct cc_acme_http *h, const struct cc_alidns_config *c, const char *name,
                  const char *value, char *record_id, size_t idsz, char *err, size_t errsz);
/* DeleteDomainRecord of record_id. */
int cc_alidns_delete(struct cc_acme_http *h, const struct cc_alidns_config *c,
                     const char *record_id, char *err, size_t errsz);

#endif
