/*
 * delivery_int.h — internals shared inside delivery/: what every sender
 * shares (common.c: results, URL checks, transport failures, mobile
 * numbers), the transfers (xfer.c), the provider entry points, the table of
 * robot platforms, and the pieces of message building (SMS, chat robots,
 * SMTP) that unit tests reach directly. Nothing outside delivery/ includes
 * this file.
 */
#ifndef CC_DELIVERY_INT_H
#define CC_DELIVERY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "delivery/delivery.h"
#include "util/util.h"


/* ---- results (common.c) ------------------------------------------------------ */
/* Fills *res: status, the platform's code (may be NULL: "") and a reason
 * formatted from fmt (truncated to fit). */
void cc_delivery_set(struct cc_send_result *res, enum cc_send_status status, const char *code,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The int the public send functions return for *res: 0 when OK, else -1. */
int cc_delivery_rc(const struct cc_send_result *res);

/* ---- outbound transfers (xfer.c) -------------------------------------------
 * libcurl is initialised once, on first use (and by cc_delivery_check_config
 * at start-up, before any thread sends). */
void cc_delivery_global_init(void);

/* 1 if url's scheme is https, or http with host 127.0.0.1 or localhost (so
 * tests can use a local receiver); otherwise 0 with a sentence naming what
 * in err. *loopback_http (may be NULL) says which. (common.c) */
int cc_delivery_url_allowed(const char *url, const char *what, int *loopback_http, char *err,
                            size_t errsz);
/* The same check, and the URL parsed (a CURLU *, freed with curl_url_cleanup)
 * instead of 1, NULL instead of 0; where (may be NULL) gets
 * cc_delivery_url_where's "host:port". A transfer hands the URL to libcurl
 * parsed (CURLOPT_CURLU): what is sent is what was checked. (common.c) */
void *cc_delivery_url_checked(const char *url, const char *what, int *loopback_http,
                              char *where, size_t wheresz, char *err, size_t errsz);

/* "host:port" of url, the port filled in from the scheme's default; "" when
 * url does not parse. For messages only. (common.c) */
void cc_delivery_url_where(const char *url, char *out, size_t outsz);

/* Scheme and host (both lower-cased) and port (the scheme's default when
 * url has none) of url into the out strings (each may be NULL). Returns 0,
 * or -1 when url does not parse. (common.c) */
int cc_delivery_url_parts(const char *url, char *scheme, size_t schemesz, char *host,
                          size_t hostsz, char *port, size_t portsz);

/* A mobile number as the platforms want it: "+86" and 11 digits lose the
 * prefix, any other E.164 number loses the "+" (Alibaba's PhoneNumbers, the
 * robots' mentions). Returns 0, or -1 when e164 is not "+" and 8 to 15
 * digits or does not fit outsz. (common.c) */
int cc_delivery_phone_digits(const char *e164, char *out, size_t outsz);

/* What an HTTP transfer got back, as its reader sees it. */
struct cc_http_answer {
    long status;            /* HTTP status; 0 when no answer arrived */
    int curl_code;          /* CURLcode of the transfer; 0 = complete answer */
    int timed_out;          /* the whole request hit its timeout */
    int refused;            /* the connection was refused */
    int too_large;          /* the body passed CC_DELIVERY_MAX_ANSWER */
    struct cc_buf body;     /* the answer's body, at most CC_DELIVERY_MAX_ANSWER (borrowed) */
    char error[256];        /* libcurl's message when curl_code != 0 */
    char where[272];        /* host:port of the URL, for messages */
};

struct curl_slist;
struct curl_mime;

/* One prepared message: a libcurl easy handle and what it owns, and the
 * sender's function that turns the finished transfer into res (and ra). */
struct cc_xfer {
    void *h;                        /* CURL * */
    void *u;                        /* CURLU *: the URL, parsed once (HTTP) */
    struct curl_slist *hl, *rcpt;   /* header and recipient lists */
    struct curl_mime *mime;
    char *body;                     /* private copy, cleansed when freed */
    size_t len;
    int sent;                       /* HTTP: the request went on a connection once */
    struct cc_buf answer;
    int too_large;
    char errbuf[256];               /* CURL_ERROR_SIZE */
    char where[272];
    char who[32];                   /* "DingTalk robot", "SMS gateway" */
    int64_t timeout_ms, t0;
    int ran;
    int kind;                       /* robots: enum cc_webhook_kind */
    /* Called once the transfer finished (cr: its CURLcode). */
    void (*complete)(struct cc_xfer *x, int cr);
    /* HTTP transfers: reads an answer that arrived into x->res / x->ra. */
    void (*http_done)(struct cc_xfer *x, const struct cc_http_answer *ans);
    void *ctx;                      /* the sender's own state */
    void (*ctx_free)(void *ctx);
    struct cc_send_result res;
    struct cc_robot_answer ra;
};

/* An empty transfer with its easy handle made (NULL when libcurl can't). */
struct cc_xfer *cc_xfer_new(void);
/* One POST of body (len bytes, copied) to url with the given extra header
 * lines (copied): https only (http to 127.0.0.1/localhost allowed), no
 * redirects, timeout_ms for the whole request, the answer capped. done reads
 * an answer that arrived; a transfer that got none is a retry in the words
 * of who ("SMS gateway"). Returns 0 with *out ready to run, or -1 with *res
 * filled (nothing to send). */
int cc_http_xfer_new(const char *url, const char *const *headers, size_t nheaders,
                     const char *body, size_t len, int64_t timeout_ms, const char *who,
                     void (*done)(struct cc_xfer *x, const struct cc_http_answer *ans),
                     struct cc_send_result *res, struct cc_xfer **out);
/* Runs x alone, copies its outcome into *res (and *ans, may be NULL), frees
 * x. Returns cc_delivery_rc(res). */
int cc_xfer_send_one(struct cc_xfer *x, struct cc_send_result *res, struct cc_robot_answer *ans);

/* Fills *res for a request that got no HTTP answer: always CC_SEND_RETRY,
 * with a reason naming the gateway (who, e.g. "SMS gateway"). (common.c) */
void cc_delivery_transport_failure(const struct cc_http_answer *ans, const char *who,
                                   int64_t timeout_ms, struct cc_send_result *res);

/* ---- providers ------------------------------------------------------------ */
/* Each prepares m's request: 0 with *out ready to run, or -1 with *res
 * filled. */
int cc_sms_aliyun_prepare(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                          struct cc_send_result *res, struct cc_xfer **out);
int cc_sms_webhook_prepare(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                           struct cc_send_result *res, struct cc_xfer **out);

/* sms_aliyun.c, for tests: classifies SendSms's answer (HTTP status and body,
 * borrowed) into *res. */
void cc_aliyun_classify(long http_status, const char *body, size_t len,
                        struct cc_send_result *res);

/* ---- chat robots (robot.c, dingtalk.c, lark.c, wecom.c) --------------------
 * One table of platforms: each platform file defines its entry (lark.c two,
 * Lark and Feishu) — name, host, where its answer keeps the code, size
 * limits, rate limits, how to build and sign a body and what its codes
 * mean — and robot.c walks the table: it maps the URL, has the platform
 * build the body, posts it (xfer.c) and reads the answer. The dispatcher
 * takes the limits from the same table. Platform files call nothing in
 * robot.c; what they share is common.c's. The pieces are declared here so
 * unit tests reach them without the network. */
#define CC_ROBOT_MAX_BODY    20000 /* DingTalk and Lark: the whole JSON body */
#define CC_WECOM_MAX_MARKDOWN 4096 /* WeCom: markdown.content */
#define CC_WECOM_MAX_TEXT     2048 /* WeCom: text.content */
#define CC_ROBOT_SIGN_LEN       45 /* base64 of a SHA-256 MAC, with the NUL */

/* A platform's verdict on one non-zero code: the status, and a sentence a
 * person can act on (static; NULL: the platform's own message says it). */
struct cc_robot_verdict {
    enum cc_send_status status;
    const char *why;
};

/* At most max messages within window_ms (at the platform's own scale). */
struct cc_rate_rule {
    int max;
    int64_t window_ms;
};

/* A robot body built and signed, ready to post. */
struct cc_robot_body {
    char *data;                     /* the JSON body, free() (jansson's allocator) */
    size_t len;
    char url[CC_URL_MAX + 1200];    /* where to post it: the URL, signed when the platform signs there */
};

struct cc_robot_platform {
    int kind;                       /* enum cc_webhook_kind */
    const char *name;               /* "DingTalk": in reasons and logs */
    const char *prefix;             /* scheme and host of its webhook URLs, with the '/' */
    size_t base_url;                /* offsetof its test base URL in struct cc_delivery_config */
    /* Where an answer keeps its code and message; alt_*: older answers (NULL: none). */
    const char *code_field, *msg_field, *alt_code_field, *alt_msg_field;
    /* Size: what the platform limits — the markdown or the text, as escaped
     * in the JSON body or as it is, plus line_bytes for each line — and the
     * limit; a text message (mention_as_text: a mention makes one) has
     * max_text_bytes. frame_bytes: what a merged message keeps free for its
     * title, signature, mention and heading. */
    int measures_markdown, measures_json, mention_as_text;
    size_t line_bytes, max_bytes, max_text_bytes, frame_bytes;
    /* Rate limits per robot (max 0: none), and how long the platform blocks
     * a robot that passed them (0: it does not). */
    struct cc_rate_rule rules[2];
    int64_t throttle_block_ms;
    /* Builds and signs m for url (mapped already), the timestamp taken now.
     * 0 with *out filled, or -1 with *res filled (nothing to send). */
    int (*build)(const struct cc_robot_platform *p, const struct cc_robot_message *m,
                 const char *url, struct cc_send_result *res, struct cc_robot_body *out);
    /* What a non-zero code means; msg (may be "") tells shared codes apart. */
    struct cc_robot_verdict (*verdict)(int64_t code, const char *msg);
};

extern const struct cc_robot_platform cc_robot_dingtalk;  /* dingtalk.c */
extern const struct cc_robot_platform cc_robot_lark;      /* lark.c */
extern const struct cc_robot_platform cc_robot_feishu;    /* lark.c */
extern const struct cc_robot_platform cc_robot_wecom;     /* wecom.c */

/* robot.c: the table's entry for kind, or NULL. */
const struct cc_robot_platform *cc_robot_platform_of(int kind);

/* robot.c: "DingTalk", "Lark", "Feishu", "WeCom"; "robot" when unknown. */
const char *cc_robot_platform(int kind);

/* robot.c: the URL to POST to. With base (may be NULL or "": no mapping)
 * the scheme, host and port of url are replaced by base (trailing '/'
 * dropped), the path and query of url kept. Without it, url is used as it is
 * but must be on the platform's own https host (anti-SSRF, even though core
 * already classified it). Returns 0, or -1 when url is not a webhook URL of
 * that kind or the result does not fit outsz. */
int cc_robot_target_url(int kind, const char *url, const char *base, char *out, size_t outsz);

/* common.c: the mobile as the platforms want it in a mention
 * (cc_delivery_phone_digits). Returns 0, or -1 (out = "") when e164 is not
 * '+' and 8 to 15 digits. */
int cc_robot_mention_mobile(const char *e164, char *out, size_t outsz);

/* robot.c: classifies a platform's answer (HTTP status and body, borrowed,
 * len bytes, not necessarily NUL-terminated) into *res, and fills
 * ans->platform_code / platform_msg (ans may be NULL). Code 0 with a 2xx
 * status is the only success; a body that is not JSON or has no code is
 * never success (RETRY; THROTTLED for HTTP 429); a known non-zero code is
 * classified by the platform's table whatever the HTTP status; an unknown
 * one is REJECTED, or RETRY with HTTP 5xx. res->code is "<kind>:<code>". */
void cc_robot_classify(int kind, long http_status, const char *body, size_t len,
                       struct cc_send_result *res, struct cc_robot_answer *ans);

/* dingtalk.c: base64(HMAC-SHA256(key = secret, data = ts_ms + "\n" +
 * secret)) into out (at least CC_ROBOT_SIGN_LEN). Returns 0, -1 when out is
 * too small or secret longer than CC_SECRET_MAX. */
int cc_dingtalk_sign(const char *secret, int64_t ts_ms, char *out, size_t outsz);
/* dingtalk.c: url with "&timestamp=<ts_ms>&sign=<sign, percent-encoded
 * once>" appended ('?' when url has no query). Returns 0, or -1 when it does
 * not fit outsz. */
int cc_dingtalk_signed_url(const char *url, const char *secret, int64_t ts_ms, char *out,
                           size_t outsz);
/* dingtalk.c: the markdown body; with a valid m->mention_mobile the mobile
 * goes into at.atMobiles and "@<mobile>" is appended to the text. Without
 * m->title the title is the text's first line (DingTalk needs one). The caller
 * frees the result with free() (jansson's allocator); *len is its length,
 * which is what DingTalk measures. NULL when a string is not valid UTF-8 or
 * m has neither markdown nor text. */
char *cc_dingtalk_body(const struct cc_robot_message *m, size_t *len);

/* lark.c: base64(HMAC-SHA256(key = ts_s + "\n" + secret, data = empty)).
 * Returns 0, -1 as cc_dingtalk_sign. */
int cc_lark_sign(const char *secret, int64_t ts_s, char *out, size_t outsz);
/* lark.c: the post body, one paragraph per line of m->text (m->markdown
 * when text is NULL); with secret (may be NULL: unsigned) the top-level
 * "timestamp" (ts_s as a string) and "sign". Ownership and NULL as
 * cc_dingtalk_body; *len is what Lark measures. */
char *cc_lark_body(const struct cc_robot_message *m, const char *secret, int64_t ts_s,
                   size_t *len);

/* wecom.c: the markdown body, or with a valid m->mention_mobile a text body
 * (m->text, else m->markdown) with text.mentioned_mobile_list. *text_message
 * says which, *measured is the content's UTF-8 length (what WeCom limits).
 * Ownership and NULL as cc_dingtalk_body. */
char *cc_wecom_body(const struct cc_robot_message *m, size_t *len, size_t *measured,
                    int *text_message);

/* ---- the per-robot rate limiter (ratelimit.c) -------------------------------
 * Keeps each robot to its platform's rules (the table above), with the
 * windows at percent (1..100) of the platform's; exact for any number of
 * robots, its memory bounded per robot with recent sends. Thread-safe. */
struct cc_limiter;
/* A new limiter; cc_limiter_free() it. */
struct cc_limiter *cc_limiter_new(int percent);
void cc_limiter_free(struct cc_limiter *l);
/* Keeps the limits in store (borrowed) from now on, shared with every
 * process on the same database (cc_store_shared); should the store fail,
 * a call falls back to this process's own count. */
struct cc_store;
void cc_limiter_share(struct cc_limiter *l, struct cc_store *store);
/* 0 when a message of kind to url (borrowed) may go at now (the send is
 * counted), else the time (ms) it may go. */
int64_t cc_limiter_reserve(struct cc_limiter *l, int kind, const char *url, int64_t now);
/* The platform said at now that it throttles url: nothing goes to it before
 * the time returned (its block, or a wait that grows while it keeps
 * throttling; ratelimit.c's throttle()). */
int64_t cc_limiter_throttled(struct cc_limiter *l, int kind, const char *url, int64_t now);
/* How many robots it remembers (for tests). */
size_t cc_limiter_size(struct cc_limiter *l);

/* ---- notifications in hand (hand.c) -----------------------------------------
 * The ids of notifications born leased to this dispatcher, waiting for a
 * thread: the first of each event in a ring of first_cap that goes ahead,
 * the rest in one of cap. Not locked: the dispatcher's lock guards it. */
struct cc_hand;
struct cc_hand *cc_hand_new(size_t cap, size_t first_cap);
void cc_hand_free(struct cc_hand *h);
/* Promises room for up to want ids of a write to come; how much (0: full). */
size_t cc_hand_promise(struct cc_hand *h, size_t want);
/* The ids of one event's committed write (at most the room promised to it,
 * all of which is taken back), each leased until lease_until. */
void cc_hand_put(struct cc_hand *h, const int64_t *ids, size_t n, size_t promised,
                 int64_t lease_until);
/* Up to max ids into out, the first of events first (at most first_max of
 * those); ids whose lease ends at or before keep_until are dropped (a claim
 * takes them once it has run out). */
size_t cc_hand_take(struct cc_hand *h, int64_t *out, size_t max, size_t first_max,
                    int64_t keep_until);
/* How many ids are in hand. */
size_t cc_hand_count(const struct cc_hand *h);

/* ---- the recorder (recorder.c) ---------------------------------------------
 * A thread that writes the dispatcher's outcomes, all that wait in one
 * relaxed write, while the dispatcher threads go on sending. */

/* An outcome to write: the notification as it is to be stored, and the
 * attempt (when one was made). */
struct cc_outcome {
    const struct cc_notification *n;
    struct cc_attempt a;
    int has_attempt;
    int health;                   /* 0 leave, 1 mark broken (n.last_error), 2 clear */
};

struct cc_recorder;
/* Starts the thread, for notifications leased to instance (copied). After
 * each write it calls wrote(arg, NULL), or wrote(arg, why) when the write
 * failed, which returns the ms to wait before the next try. room: outcome
 * sets that may wait before cc_recorder_room waits. NULL when the thread
 * cannot start. */
struct cc_recorder *cc_recorder_start(struct cc_store *store, const char *instance, size_t room,
                                      int64_t (*wrote)(void *arg, const char *failure),
                                      void *arg);
/* Queues a copy of n outcomes (and of their notifications) as one set. */
void cc_recorder_put(struct cc_recorder *r, const struct cc_outcome *outcomes, size_t n);
/* Waits until every set queued so far is written (a claim must not find a
 * notification whose outcome still waits: its lease may have run out while
 * it was on the wire). Returns 1 once cancelled. */
int cc_recorder_caught_up(struct cc_recorder *r);
/* Waits while the last write failed (nothing is to be sent meanwhile) or
 * more than room sets wait. Returns 1 once cancelled. */
int cc_recorder_room(struct cc_recorder *r);
/* Makes every wait above return 1, now and from now on. */
void cc_recorder_cancel(struct cc_recorder *r);
/* Writes what is queued (one try), ends the thread and frees r. */
void cc_recorder_stop(struct cc_recorder *r);

/* ---- SMTP message building (smtp.c), for tests -----------------------------
 * Splits "Name <addr>" or a bare "addr" into its display name (may come out
 * empty; surrounding quotes removed) and address. Returns 0, or -1 when the
 * address is missing, too long, or holds characters that cannot appear in an
 * SMTP path (white space, control characters, <>, no '@'). */
int cc_smtp_parse_address(const char *in, char *name, size_t namesz, char *addr,
                          size_t addrsz);
/* Writes the message's header lines into out, each ended by CRLF, long ones
 * folded with CRLF + space: From, To, Subject, Date (from now_s, UTC),
 * Message-ID (<random@domain of the sender>), MIME-Version. Non-ASCII display
 * names and subjects become RFC 2047 "=?UTF-8?B?...?=" words of at most 75
 * characters. The SMTP envelope sender (the bare address) goes into mail_from.
 * Returns 0, or -1 with a sentence in err (bad sender or recipient). */
int cc_smtp_build_headers(const char *from, const struct cc_email *m, int64_t now_s,
                          struct cc_buf *out, char *mail_from, size_t mail_from_sz, char *err,
                          size_t errsz);

#endif
