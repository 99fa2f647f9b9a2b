/*
 * core.h — the public header of the core layer: pure code with no I/O.
 *
 * The contact model, the one error enum and its mapping to HTTP statuses and
 * API codes, the validators and normalisers of every contact field, masking,
 * and the cryptographic helpers (AES-256-GCM for data at rest, hashes, HMACs,
 * base64). Everything above core/ sees the contact through these types.
 */
#ifndef CC_CORE_H
#define CC_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/limits.h"
#include "core/model.h"
#include "core/audit.h"

/* ---- validators (validate.c) --------------------------------------------
 * Each takes a NUL-terminated input, writes the normalised value into out
 * (which has room for the documented maximum plus NUL) and returns CC_OK, or
 * fills *err with CC_ERR_INCORRECT_FORMAT (or CC_ERR_MISSING_PARAMETER for an
 * empty value) naming the field, with a message a person understands. */

/* Valid UTF-8 without overlongs, surrogates or code points past U+10FFFF. */
int cc_utf8_valid(const char *s, size_t len);
/* Number of code points in valid UTF-8. */
size_t cc_utf8_len(const char *s, size_t len);
/* Cuts a character that a truncation left half-written at the end of s. */
void cc_utf8_trim(char *s);

/* name: trimmed of surrounding white space, 1–64 code points, valid UTF-8,
 * no control characters. out: CC_NAME_MAX_BYTES + 1. Field "Name". */
enum cc_err cc_validate_name(const char *in, char *out, size_t outsz, struct cc_error *err);

/* email: practical RFC 5321 address; IDN (UTF-8) domains allowed. out keeps
 * the case as given (domain lower-cased); norm is the whole address
 * lower-cased for uniqueness. Both CC_EMAIL_MAX + 1. Field "Email". */
enum cc_err cc_validate_email(const char *in, char *out, size_t outsz, char *norm,
                              size_t normsz, struct cc_error *err);

/* mobile: "13312345678", "+86 133 1234 5678", "0086 13312345678",
 * "+8613312345678" → "+8613312345678"; other countries in E.164 ("+44...",
 * "0044..." accepted). out: CC_MOBILE_MAX + 1. Field "Mobile". */
enum cc_err cc_validate_mobile(const char *in, char *out, size_t outsz, struct cc_error *err);

/* id_card: 18-character PRC resident identity number: valid province
 * prefix, a real birth date not after `today` (YYYYMMDD as an integer,
 * e.g. 20261125), and the ISO 7064 MOD 11-2 check character; 'x' becomes
 * 'X'. out: CC_IDCARD_LEN + 1. Field "IdCard". */
enum cc_err cc_validate_id_card(const char *in, int today, char *out, size_t outsz,
                                struct cc_error *err);

/* language: "en" or "zh-CN" (case-insensitive; "zh" and "zh-cn" accepted as
 * "zh-CN"). out: CC_LANG_MAX + 1. Field "Language". */
enum cc_err cc_validate_language(const char *in, char *out, size_t outsz, struct cc_error *err);

/* Webhook URL classification (spec: chatbots-and-sms.md). https only, no
 * userinfo, no fragment, default port only, the official hosts and paths
 * only. Writes the canonical URL (pasted timestamp/sign dropped) into out
 * (CC_URL_MAX + 1) and returns the kind in *kind. Field "Webhooks". */
enum cc_err cc_webhook_classify(const char *url, char *out, size_t outsz,
                                enum cc_webhook_kind *kind, struct cc_error *err);

/* A signing secret that fits the platform: DingTalk secrets start with
 * "SEC"; WeCom robots have no secret; printable ASCII, 1..CC_SECRET_MAX.
 * Field "Webhooks". */
enum cc_err cc_validate_webhook_secret(enum cc_webhook_kind kind, const char *secret,
                                       struct cc_error *err);

/* ---- masking (mask.c) ----------------------------------------------------
 * Each writes a NUL-terminated masked copy into out (at least CC_MASKED_MAX
 * bytes, or CC_URL_MAX + 1 for URLs). Inputs are already-normalised values. */
void cc_mask_mobile(const char *e164, char *out, size_t outsz);   /* +86 133****5678 */
void cc_mask_email(const char *email, char *out, size_t outsz);   /* zh****n@example.com */
void cc_mask_id_card(const char *id, char *out, size_t outsz);    /* 1****************5 */
void cc_mask_webhook_url(const char *url, char *out, size_t outsz); /* token: abcd…wxyz */
void cc_mask_name(const char *name, char *out, size_t outsz);     /* 张*, A**** */
/* Replaces needle (ASCII case-insensitive, 5 bytes or more) in the text s
 * (sz bytes of room) with repl; what no longer fits is cut. */
void cc_mask_in_text(char *s, size_t sz, const char *needle, const char *repl);
/* Masks an email address or E.164 mobile (also its national form) wherever
 * it appears in the text s: a platform's answer that echoes it. */
void cc_mask_address_in_text(char *s, size_t sz, const char *address);

/* ---- crypto (crypto.c) --------------------------------------------------- */
#define CC_KEY_LEN 32
#define CC_KEY_TAG_LEN 8
/* What tells master keys apart and says nothing about a key: the first 16
 * bytes of HMAC-SHA256(key, "certcontacts master key id"). Its hex is the
 * key's id (the meta row master_key_id); its first CC_KEY_TAG_LEN bytes are
 * the key tag each sealed value starts with. */
void cc_key_fingerprint(const uint8_t key[CC_KEY_LEN], uint8_t out[16]);
/* AES-256-GCM. Output: version byte 2 | the sealing key's tag (8 bytes) |
 * 12-byte nonce | ciphertext | 16-byte tag, into out (capacity outsz, needs
 * n + CC_AEAD_OVERHEAD). aad binds the ciphertext to its purpose
 * ("contact.id_card", "access_key.secret"); the version and key tag are
 * authenticated too. The nonce comes from the caller (12 random bytes) so
 * that this file stays free of I/O. */
enum cc_err cc_aead_seal(const uint8_t key[CC_KEY_LEN], const uint8_t key_tag[CC_KEY_TAG_LEN],
                         const uint8_t nonce[12], const char *aad, const void *pt, size_t n,
                         uint8_t *out, size_t outsz, size_t *outlen);
/* Decrypts a value of either version (1: 1 | nonce | ciphertext | tag, from
 * before values named their key) into out (capacity outsz, needs the
 * plaintext's length plus 1 for the NUL it always appends). Fails with
 * CC_ERR_INTERNAL on a wrong key or tampering. */
enum cc_err cc_aead_open(const uint8_t key[CC_KEY_LEN], const char *aad,
                         const uint8_t *in, size_t inlen,
                         char *out, size_t outsz, size_t *outlen);
/* 1 and *tag pointing at the key tag inside in when in names the key that
 * sealed it (version 2); 0 for a version-1 value or junk. */
int cc_aead_key_tag(const uint8_t *in, size_t inlen, const uint8_t **tag);
#define CC_AEAD_OVERHEAD 37
/* What each encrypted value is for (its associated data). */
#define CC_AAD_ID_CARD    "contact.id_card"
#define CC_AAD_WEBHOOK    "contact.webhook.secret"
#define CC_AAD_ACCESS_KEY "access_key.secret"
#define CC_AAD_WEBHOOK_URL "contact.webhook.url"

void cc_sha256(const void *data, size_t n, uint8_t out[32]);
void cc_sha256_hex(const void *data, size_t n, char out[65]);
void cc_hmac_sha256(const void *key, size_t klen, const void *data, size_t n, uint8_t out[32]);
void cc_hmac_sha1(const void *key, size_t klen, const void *data, size_t n, uint8_t out[20]);
/* base64 (standard alphabet, padded). encode: out needs 4*((n+2)/3)+1.
 * decode returns -1 on bad input or overflow, else the decoded length. */
size_t cc_base64_encode(const void *in, size_t n, char *out, size_t outsz);
long cc_base64_decode(const char *in, size_t n, uint8_t *out, size_t outsz);
void cc_hex(const uint8_t *in, size_t n, char *out); /* out: 2n+1 */
/* Constant-time equality of two buffers of the same length. */
int cc_ct_equal(const void *a, const void *b, size_t n);

/* ---- message texts (messages.c) -------------------------------------------- */
struct cc_message {
    char subject[256];
    char text[2048];     /* plain text: email body, SMS */
    char html[4096];
};
/* The verification-code message in lang ("en" or "zh-CN"; anything else is
 * "en"): subject, plain text and HTML. name (may be NULL or "") greets the
 * person; it is escaped for HTML. Every text names its purpose (a
 * certificate contact), the code, how long it lasts, and what to do if it
 * was unexpected. */
void cc_msg_verification(const char *lang, const char *name, const char *code, int64_t ttl_minutes,
                         struct cc_message *out);
/* The SMS text of a verification code. */
void cc_msg_verification_sms(const char *lang, const char *code, int64_t ttl_minutes, char *out,
                             size_t outsz);
/* Escapes & < > " ' for HTML; truncates to fit. */
void cc_html_escape(const char *in, char *out, size_t outsz);

/* The message catalog (core/i18n.c, built from po/zh_CN.po): the words a
 * person reads, English as written in the code and their Simplified
 * Chinese. Languages are "en" and "zh-CN"; anything else reads English. */
#define N_(s) (s) /* marks a message for the catalog where it is not a call's */
#define NN_(one, other) one, other /* the same for a counting message's two forms */
const char *cc_tr(const char *lang, const char *msgid);
/* The form of a counting message for n: one/other in English. */
const char *cc_trn(const char *lang, const char *one, const char *other, long n);
/* A message stored as English text (a delivery reason, a verdict) in
 * lang: the catalog entry whose format produced it, filled with the same
 * values (themselves translated where they are messages). 0 and the
 * English copied when nothing matches. */
int cc_tr_text(const char *lang, const char *english, char *out, size_t outsz);
/* Formats tr, the Chinese of the printf format fmt, with the values ap
 * holds for fmt; a string value that is itself a message of the catalog
 * reads in Chinese too. 0 and "" when tr's conversions are not fmt's. */
int cc_tr_vformat(char *out, size_t outsz, const char *fmt, const char *tr, va_list ap);
/* The language of an Accept-Language header: "zh-CN" when Chinese is
 * preferred to English, else "en". */
const char *cc_lang_from_accept(const char *accept_language);

/* ---- notification templates (templates.c) ------------------------------------
 * Built-in texts for every event type, in English and Simplified Chinese,
 * rendered for each channel's format. Variables are written {{name}} and
 * looked up in the event's data (a JSON object: strings, numbers, arrays of
 * strings joined with ", "), plus contact_name, event_type and expires_in
 * (days_left in words: "today", "in 1 day"); each value is escaped for the
 * format it lands in. {{#name}}...{{/name}} keeps its text only when name
 * has a value, {{^name}}...{{/name}} only when it has none: the built-in
 * texts leave out what an event lacks; a bare variable with no value shows
 * as "-". Every robot message contains
 * "certificate" (English) or "证书" (Chinese), the keyword robots are set up
 * with. */
enum cc_event_type {
    CC_EVENT_NONE = 0,
    CC_EVENT_VERIFICATION_REQUIRED, /* certificate.application.verification_required */
    CC_EVENT_APPROVED,              /* certificate.application.approved */
    CC_EVENT_REJECTED,              /* certificate.application.rejected */
    CC_EVENT_ISSUED,                /* certificate.issued */
    CC_EVENT_EXPIRING,              /* certificate.expiring */
    CC_EVENT_EXPIRED,               /* certificate.expired */
    CC_EVENT_REVOKED,               /* certificate.revoked */
    CC_EVENT_TEST,                  /* contact.test */
    CC_EVENT_ENDPOINT_OUTDATED,     /* certificate.endpoint_outdated */
    CC_EVENT_ENDPOINT_EXPIRING,     /* certificate.endpoint_expiring */
    CC_EVENT_ENDPOINT_ERROR,        /* certificate.endpoint_error */
    CC_EVENT_RENEWAL_FAILED,        /* certificate.renewal_failed */
    CC_EVENT_COUNT
};
enum cc_event_type cc_event_type_parse(const char *s);
const char *cc_event_type_name(enum cc_event_type t);

/* One message rendered for every format a channel may need. */
struct cc_rendered {
    char title[256];       /* email subject, robot title */
    char text[4096];       /* plain text: SMS, Lark post, WeCom text */
    char markdown[4096];   /* DingTalk and WeCom markdown */
    char html[8192];       /* email HTML part */
};
/* Renders event type t in lang ("en"/"zh-CN") with data (a jansson
 * json_t * object, passed as void * so core.h needs no JSON header; may be
 * NULL) for contact_name. test adds a line saying it is a test. */
void cc_render_event(enum cc_event_type t, const char *lang, const void *data,
                     const char *contact_name, int test, struct cc_rendered *out);
/* Renders title_tpl and body_tpl (an account's own texts, or the built-in
 * ones; borrowed) exactly as cc_render_event() renders the built-in texts:
 * same variables, same escaping per format, same test marking. Output cut
 * to fit is cut on a UTF-8 character boundary. */
void cc_render_template(const char *title_tpl, const char *body_tpl, enum cc_event_type t,
                        const char *lang, const void *data, const char *contact_name, int test,
                        struct cc_rendered *out);
/* The formats a channel sends, for cc_render_parts: a robot the text and
 * markdown, an email the text and HTML, an SMS the text. */
enum {
    CC_RENDER_TEXT = 1,
    CC_RENDER_MARKDOWN = 2,
    CC_RENDER_HTML = 4,
    CC_RENDER_ALL = 7
};
/* cc_render_template for the formats in parts only (the title always):
 * each of them byte for byte what cc_render_template writes, the others
 * left empty. */
void cc_render_parts(const char *title_tpl, const char *body_tpl, enum cc_event_type t,
                     const char *lang, const void *data, const char *contact_name, int test,
                     unsigned parts, struct cc_rendered *out);
/* cc_render_event for the formats in parts only, as cc_render_parts. */
void cc_render_event_parts(enum cc_event_type t, const char *lang, const void *data,
                           const char *contact_name, int test, unsigned parts,
                           struct cc_rendered *out);
/* The built-in title and body of event type t in lang (static strings).
 * Returns 0, or -1 when t is not an event type. */
int cc_template_builtin(enum cc_event_type t, const char *lang, const char **title,
                        const char **body);
/* Limits of an account's own template: CC_TEMPLATE_TITLE_MAX and
 * CC_TEMPLATE_BODY_MAX (core/model.h). */
/* Checks an account's own template before it is saved or previewed: title
 * (one line) and body not empty, within the limits, valid UTF-8, no control
 * characters but the body's line breaks; every {{variable}} closed and known
 * (domains, brand, type, not_after, days_left, expires_in, order_id,
 * reason, url, contact_name, event_type, certificate_id, serial, endpoint,
 * resolved, reason_zh), sections
 * closed in order; and the template's own text, outside its variables and
 * sections, contains the robots' keyword: "certificate"
 * (case-sensitive) for "en", "证书" for "zh-CN". Returns 0, or -1 with the
 * reason, written for a person, in why. */
int cc_template_check(const char *title, const char *body, const char *lang, char *why,
                      size_t whysz);
/* Escapes text for markdown: characters that would format are preceded by
 * a backslash, line breaks become spaces. */
void cc_markdown_escape(const char *in, char *out, size_t outsz);

/* ---- Alibaba Cloud request signatures (acs_sign.c) --------------------------
 * One implementation for both directions: signing our SendSms calls and
 * checking incoming CAS API calls. Spec: ../shared/specs/alibaba-cas-contacts.md. */
struct cc_kv {
    const char *key;
    const char *value;
};
struct cc_buf;
/* Appends the percent-encoding of n bytes: A-Z a-z 0-9 - _ . ~ stay, every
 * other byte becomes %XX with upper-case hex. Returns 0, -1 when out is full. */
int cc_acs_encode(const char *in, size_t n, struct cc_buf *out);
/* name=value pairs, both encoded, sorted by encoded name (byte order), joined
 * with '&'. Pairs with a NULL value are skipped. */
int cc_acs_canonical_query(const struct cc_kv *params, size_t n, struct cc_buf *out);
/* HMAC-SHA1, SignatureVersion 1.0: string to sign METHOD&%2F&enc(canonical
 * query of every parameter except "Signature"), key secret + "&". Writes the
 * base64 signature into sig (at least 29 bytes) and, when sts is not NULL,
 * the string to sign into sts. */
int cc_acs_sign_v1(const char *method, const struct cc_kv *params, size_t n,
                   const char *secret, char *sig, size_t sigsz, struct cc_buf *sts);
/* ACS3-HMAC-SHA256: from the method, the query parameters, the signed headers
 * (lower-case names in SignedHeaders order, values trimmed) and the hex
 * SHA-256 of the body, writes the hex signature (65 bytes) and, when not
 * NULL, the canonical request and string to sign. */
int cc_acs3_sign(const char *method, const struct cc_kv *query, size_t nquery,
                 const struct cc_kv *headers, size_t nheaders, const char *payload_hash,
                 const char *secret, char *sig, size_t sigsz, struct cc_buf *canonical,
                 struct cc_buf *sts);

/* ---- certificates (x509.c) ----------------------------------------------------
 * PEM bundles parsed with OpenSSL: the leaf first, then each issuer. Errors
 * are CC_ERR_INCORRECT_FORMAT naming the field ("Pem", "PrivateKey",
 * "NotAfter", "Domains") with what is wrong, for a person. */
#define CC_AAD_CERT_KEY "certificate.private_key"
/* The ACME account key and a key made for an ACME order (service/acme.c). */
#define CC_AAD_ACME_ACCOUNT_KEY "acme.account_key"
#define CC_AAD_ACME_ORDER_KEY "acme.order_key"
/* Parses pem (len bytes, NUL-free text of at most CC_CERT_PEM_MAX): every
 * block must be a certificate, each issued (and signed) by the next one,
 * and no private key may be inside. Fills out's common_name, domains (the
 * leaf's DNS names, lower-cased, without duplicates; the CN when it has
 * none), issuer, serial, key_type, key_bits, not_before, not_after,
 * fingerprint and chain_len; out->pem is a copy of pem. out's owned
 * members must be NULL on entry; cc_certificate_clear() frees them. */
enum cc_err cc_x509_parse(const char *pem, size_t len, struct cc_certificate *out,
                          struct cc_error *err);
/* CC_OK when key_pem (one unencrypted private key) is the key of the
 * leaf of cert_pem; else CC_ERR_INCORRECT_FORMAT, field "PrivateKey". */
enum cc_err cc_x509_key_matches(const char *cert_pem, const char *key_pem, size_t key_len,
                                struct cc_error *err);
/* What a stored PEM shows beyond a certificate's columns (the Alibaba API's
 * certificate detail): the leaf's SHA-1, its issuer's organization (its CN
 * when it names none), its subject's organization and place, and for each
 * certificate of the bundle its CN, its issuer's CN and its validity. */
#define CC_X509_FIELD_MAX 128
struct cc_x509_chain_entry {
    char subject_cn[CC_X509_FIELD_MAX];
    char issuer_cn[CC_X509_FIELD_MAX];
    int64_t not_before, not_after;         /* ms */
};
struct cc_x509_details {
    char sha1[41];                         /* upper-case hex */
    char issuer_org[CC_X509_FIELD_MAX];
    char org[CC_X509_FIELD_MAX], province[CC_X509_FIELD_MAX], city[CC_X509_FIELD_MAX];
    char country[CC_X509_FIELD_MAX];
    int n_chain;
    struct cc_x509_chain_entry chain[CC_CERT_CHAIN_MAX];
};
/* Reads pem (a NUL-terminated bundle as cc_x509_parse accepted it) into
 * *out; missing entries are "". CC_ERR_INCORRECT_FORMAT when it is not. */
enum cc_err cc_x509_details(const char *pem, struct cc_x509_details *out, struct cc_error *err);
/* "2027-01-31T00:00:00Z" (RFC 3339, any offset) or "2027-01-31" (midnight
 * UTC) into ms since the epoch; -1 when it is neither. */
int cc_cert_parse_time(const char *s, int64_t *ms);
/* The ACME Renewal Information id of the first certificate in pem (RFC 9773
 * 4.1): base64url of its Authority Key Identifier, ".", base64url of its
 * serial number's DER content octets. 0, or -1 when it has no AKI or is not
 * a certificate. */
int cc_x509_ari_id(const char *pem, char *out, size_t outsz);
/* A name a certificate covers, checked as an application's (cc_domain_parse:
 * IDNA, "*." only in front), its A-label lower-cased into out
 * (CC_DOMAIN_MAX + 1). Field "Domains". */
enum cc_err cc_cert_check_domain(const char *in, char *out, size_t outsz, struct cc_error *err);

/* ---- watched endpoints (endpoint.c) ---------------------------------------------
 * A host to watch: a DNS name (checked as a certificate's name, no
 * wildcard), or an IPv4 or IPv6 address; lower-cased into out
 * (CC_DOMAIN_MAX + 1). *is_ip set. Errors name field ("Host", "Sni"). */
enum cc_err cc_endpoint_check_host(const char *in, const char *field, char *out, size_t outsz,
                                   int *is_ip, struct cc_error *err);

#endif
