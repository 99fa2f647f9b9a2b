/*
 * delivery_int.h — internals shared inside delivery/: the one outbound HTTP
 * request helper (sms.c), the provider entry points, the result helpers and
 * the pieces of message building that unit tests reach directly. Nothing
 * outside delivery/ includes this file.
 */
#ifndef CC_DELIVERY_INT_H
#define CC_DELIVERY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "delivery/delivery.h"
#include "util/util.h"

/* Largest platform answer we read; a longer one is cut off and unreadable. */
#define CC_DELIVERY_MAX_ANSWER (64 * 1024)

/* ---- results (sms.c) ------------------------------------------------------ */
/* Fills *res: status, the platform's code (may be NULL: "") and a reason
 * formatted from fmt (truncated to fit). */
void cc_delivery_set(struct cc_send_result *res, enum cc_send_status status, const char *code,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The int the public send functions return for *res: 0 when OK, else -1. */
int cc_delivery_rc(const struct cc_send_result *res);

/* ---- outbound HTTP (sms.c) -------------------------------------------------
 * libcurl is initialised once, on first use (and by cc_delivery_check_config
 * at start-up, before any thread sends). */
void cc_delivery_global_init(void);

/* 1 if url's scheme is https, or http with host 127.0.0.1 or localhost (so
 * tests can use a local receiver); otherwise 0 with a sentence naming what
 * in err. *loopback_http (may be NULL) says which. */
int cc_delivery_url_allowed(const char *url, const char *what, int *loopback_http, char *err,
                            size_t errsz);

/* "host:port" of url, the port filled in from the scheme's default; "" when
 * url does not parse. For messages only. */
void cc_delivery_url_where(const char *url, char *out, size_t outsz);

struct cc_http_answer {
    long status;            /* HTTP status; 0 when no answer arrived */
    int curl_code;          /* CURLcode of the transfer; 0 = complete answer */
    int timed_out;          /* the whole request hit its timeout */
    int refused;            /* the connection was refused */
    int too_large;          /* the body passed CC_DELIVERY_MAX_ANSWER */
    struct cc_buf body;     /* the answer's body, at most CC_DELIVERY_MAX_ANSWER */
    char error[256];        /* libcurl's message when curl_code != 0 */
    char where[272];        /* host:port of the URL, for messages */
};

/* One POST of body (len bytes, borrowed) to url with the given extra header
 * lines ("Name: value", borrowed, may be NULL when nheaders is 0): https only
 * (http to 127.0.0.1/localhost allowed), no redirects, no proxy for the
 * loopback, timeout_ms for the whole request, the answer capped at
 * CC_DELIVERY_MAX_ANSWER. Fills *ans, which the caller releases with
 * cc_http_answer_free() whatever the result. Returns 0 when an HTTP answer
 * arrived (any status), -1 otherwise (ans->error says why). */
int cc_delivery_http_post(const char *url, const char *const *headers, size_t nheaders,
                          const char *body, size_t len, int64_t timeout_ms,
                          struct cc_http_answer *ans);
void cc_http_answer_free(struct cc_http_answer *ans);

/* Fills *res for a request that got no HTTP answer: always CC_SEND_RETRY,
 * with a reason naming the gateway (who, e.g. "SMS gateway"). */
void cc_delivery_transport_failure(const struct cc_http_answer *ans, const char *who,
                                   int64_t timeout_ms, struct cc_send_result *res);

/* ---- providers ------------------------------------------------------------ */
int cc_sms_aliyun_send(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                       struct cc_send_result *res);
int cc_sms_webhook_send(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                        struct cc_send_result *res);

/* sms_aliyun.c, for tests: PhoneNumbers from an E.164 number ("+86" and 11
 * digits lose the prefix, others lose the "+"). Returns 0 or -1 when e164 is
 * not "+" and 8 to 15 digits. */
int cc_aliyun_phone_number(const char *e164, char *out, size_t outsz);
/* sms_aliyun.c, for tests: classifies SendSms's answer (HTTP status and body,
 * borrowed) into *res. */
void cc_aliyun_classify(long http_status, const char *body, size_t len,
                        struct cc_send_result *res);

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
