/*
 * acs_int.h — inside http/: the Alibaba Cloud CAS 2020-04-07 compatibility
 * layer (acs_api.c dispatches the actions, acs_auth.c checks who calls).
 *
 * The pieces that need no server — collecting parameters, checking a
 * signature against a secret, the nonce replay cache and the per-key rate
 * limit — take their inputs (and the clock) as arguments, so that the unit
 * tests can drive them with the spec's vectors.
 * Spec: ../shared/specs/alibaba-cas-contacts.md; docs/alibaba-compat.md.
 */
#ifndef CC_ACS_INT_H
#define CC_ACS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "service/service.h"   /* CC_KEY_ID_LEN, struct cc_caller */
#include "util/util.h"

#define CC_ACS_VERSION      "2020-04-07"
#define CC_ACS_SKEW_MS      (15 * 60 * 1000)

/* ---- parameters ----------------------------------------------------------------- */
/* Every parameter of one call: the query's first (nquery of them), then the
 * form body's. Query names and values are borrowed from the server (they
 * live as long as the request); form ones point into `form`, owned. */
struct cc_acs_params {
    struct cc_kv kv[CC_ACS_MAX_PARAMS];
    size_t n;
    size_t nquery;
    char *form;                       /* owned: cc_acs_params_free() */
};
void cc_acs_params_init(struct cc_acs_params *p);
void cc_acs_params_free(struct cc_acs_params *p);
/* Adds one parameter (both strings borrowed). Returns 0, or -1 with the
 * reason in why when there are too many, the name is empty or too long, or
 * the name was already given (in the query or the body). */
int cc_acs_params_add(struct cc_acs_params *p, const char *name, const char *value, char *why,
                      size_t whysz);
/* The value of name, or NULL. */
const char *cc_acs_param(const struct cc_acs_params *p, const char *name);
/* Parses an application/x-www-form-urlencoded body (len bytes, borrowed;
 * copied into p->form) and adds its pairs: '+' is a space, %XX is decoded by
 * libmicrohttpd's unescaper, a decoded NUL becomes DEL (which every
 * validator refuses). Returns 0 or -1 with the reason in why. */
int cc_acs_parse_form(struct cc_acs_params *p, const char *body, size_t len, char *why,
                      size_t whysz);

/* ---- the parts of a request the signature checks read ------------------------------ */
typedef const char *(*cc_acs_header_fn)(void *ctx, const char *name);
struct cc_acs_call {
    const char *method;                   /* "POST", "GET" */
    const struct cc_acs_params *params;
    cc_acs_header_fn header;              /* a request header by name, or NULL */
    void *header_ctx;
    const char *body;                     /* exact bytes, de-chunked */
    size_t body_len;
};

/* An error in Alibaba's terms: the error (its status and Code come from
 * core's error table, cc_err_status/cc_err_code with CC_API_ACS), the
 * Message (may carry the server's string to sign), and for Throttling the
 * wait in ms. status and code are filled in by cc_acs_error_set(). */
struct cc_acs_error {
    enum cc_err err;
    char field[64];                       /* joined into code by the table */
    int status;
    char code[96];
    struct cc_buf message;                /* bounded by CC_ACS_MSG_MAX; cc_acs_error_free() */
    int64_t retry_after_ms;
};
void cc_acs_error_init(struct cc_acs_error *e);
void cc_acs_error_free(struct cc_acs_error *e);
/* Sets the error, its status and code (field, may be NULL, as the table
 * joins it: "MissingAccessKeyId") and a printf message (replacing any
 * earlier one). */
void cc_acs_error_set(struct cc_acs_error *e, enum cc_err err, const char *field,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

enum cc_acs_sig { CC_ACS_SIG_NONE = 0, CC_ACS_SIG_V1, CC_ACS_SIG_ACS3 };

/* What a call claims before any secret is looked at: which signature, the
 * key id, the time, the nonce. */
struct cc_acs_claim {
    enum cc_acs_sig kind;
    char key_id[CC_KEY_ID_LEN + 1];
    char nonce[CC_ACS_NONCE_MAX + 1];
    int64_t time_ms;
    /* ACS3 only: from the Authorization header */
    char signed_headers[512];
    char signature[65];
};

/* "YYYY-MM-DDTHH:MM:SSZ" (UTC) to ms since the epoch. Returns 0 or -1. */
int cc_acs_parse_time(const char *s, int64_t *ms);
/* Reads the claim of a call: the signature method and its parameters or
 * headers, all present and well formed. With now_ms >= 0 also checks that
 * the time is within CC_ACS_SKEW_MS of now (a negative now_ms skips the
 * clock, for tests with recorded requests). Returns 0, or -1 with *e set
 * (IncompleteSignature, InvalidSignatureMethod, Missing<Param>,
 * InvalidTimeStamp.Format/Expired, ...). */
int cc_acs_read_claim(const struct cc_acs_call *call, int64_t now_ms, struct cc_acs_claim *claim,
                      struct cc_acs_error *e);
/* Checks the call's signature with secret (borrowed). Returns 1 when it
 * matches, 0 when not: then *e is SignatureDoesNotMatch and its message
 * holds the server's string to sign (and, for ACS3, the canonical request). */
int cc_acs_signature_ok(const struct cc_acs_call *call, const struct cc_acs_claim *claim,
                        const char *secret, struct cc_acs_error *e);

/* ---- replay cache and rate limit (per process; acs_api.c keeps them in the
 * database instead when instances share it: cc_service_shared) ---------------------------------------- */
struct cc_acs_state;
/* requests_per_minute: the per-key rate of Throttling.User; bursts of ten
 * seconds' worth (at least one request) are allowed. nonces_per_key: the
 * nonces one key may have remembered at once (0: the default). */
struct cc_acs_state *cc_acs_state_new(int64_t requests_per_minute, int64_t nonces_per_key);
void cc_acs_state_free(struct cc_acs_state *st);
/* Its requests_per_minute, and the nonces one key may hold. */
int64_t cc_acs_state_rate(const struct cc_acs_state *st);
int64_t cc_acs_state_nonces(const struct cc_acs_state *st);
enum { CC_ACS_NONCE_NEW = 0, CC_ACS_NONCE_REPLAY = 1, CC_ACS_NONCE_FULL = 2 };
/* Records the nonce of key_id until expires_ms. Returns CC_ACS_NONCE_NEW
 * (recorded), CC_ACS_NONCE_REPLAY when it is already recorded and has not
 * expired, or CC_ACS_NONCE_FULL when key_id already holds its share of live
 * nonces (the call must be refused: nothing live is ever forgotten, and
 * other keys' nonces never take this key's room). */
int cc_acs_nonce_seen(struct cc_acs_state *st, const char *key_id, const char *nonce,
                      int64_t expires_ms, int64_t now_ms);
/* After CC_ACS_NONCE_FULL: the ms until key_id's first nonce expires. */
int64_t cc_acs_nonce_retry_ms(struct cc_acs_state *st, const char *key_id, int64_t now_ms);
/* Takes one request from key_id's bucket. Returns 0 when allowed, else the
 * ms until the next request would be (at least 1). */
int64_t cc_acs_throttle(struct cc_acs_state *st, const char *key_id, int64_t now_ms);

/* ---- the actions (acs_api.c dispatches; acs_certs.c: certificates) ------------------- */
struct cc_request;
/* One call while it runs. */
struct acs_call {
    struct cc_request *req;
    struct cc_acs_params params;
};
/* Answers an error in Alibaba's shape (status and Code from core's table,
 * field joined as the table says) with a printf message. */
void cc_acs_fail(struct cc_request *req, enum cc_err err, const char *field, const char *fmt,
                 ...) __attribute__((format(printf, 4, 5)));
/* Answers a service error: its Code from the table, the Message in the
 * words of Alibaba's gateway. */
void cc_acs_service_error(struct cc_request *req, const struct cc_error *err);

/* acs_certs.c: UploadUserCertificate, GetUserCertificateDetail,
 * DeleteUserCertificate, and the actions the pinned SDK declares that
 * certcontacts does not offer. */
void cc_acs_upload_user_certificate(struct acs_call *c);
void cc_acs_get_user_certificate_detail(struct acs_call *c);
void cc_acs_delete_user_certificate(struct acs_call *c);
/* 1 when action is one of Alibaba's CAS 2020-04-07 actions that certcontacts
 * does not offer (docs/alibaba-compat.md lists each with its alternative). */
int cc_acs_unsupported(const char *action);
/* Answers such an action: 400 UnsupportedOperation naming what to use instead. */
void cc_acs_answer_unsupported(struct acs_call *c);

/* The value of parameter name, or NULL. */
const char *cc_acs_arg(struct acs_call *c, const char *name);
/* A whole-number parameter no less than min; def when absent. Answers
 * IncorrectFormat.<name> and returns -1 when it is not one. */
int cc_acs_int_arg(struct acs_call *c, const char *name, int64_t def, int64_t min, int64_t *out);

/* acs_orders.c: certificate applications as Alibaba's orders. */
void cc_acs_create_certificate_request(struct acs_call *c);
void cc_acs_create_certificate_with_csr_request(struct acs_call *c);
void cc_acs_create_certificate_for_package_request(struct acs_call *c);
void cc_acs_describe_certificate_state(struct acs_call *c);
void cc_acs_cancel_order_request(struct acs_call *c);
void cc_acs_delete_certificate_request(struct acs_call *c);
void cc_acs_list_user_certificate_order(struct acs_call *c);

#endif
