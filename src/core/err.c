/*
 * err.c — the error enum's names, and the one table where an error maps to
 * its HTTP status and API code in REST v1 and in the Alibaba-compatible
 * API, with the one rule for which details a client never sees.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "util/util.h"

/* How one error leaves through one API: the status, the code, and whether
 * and how the field joins the code. join NULL: never; "." or "": when a
 * field is given, or dflt when one is not (dflt NULL: the bare code). */
struct answer {
    int status;
    const char *code;
    const char *join;
    const char *dflt;
};

#define BARE(st, c)           {st, c, NULL, NULL}
#define FIELD(st, c)          {st, c, ".", NULL}
#define JOINED(st, c, j, d)   {st, c, j, d}

/* The one error table: a row per code, a column per API. The Alibaba
 * column follows Alibaba Cloud's gateway and CAS (a missing contact is 400
 * NotFound there, a duplicate 400 AlreadyExists, flow control 400
 * Throttling.User); see docs/alibaba-compat.md. */
static const struct {
    const char *name;
    struct answer api[CC_API_COUNT];
    int hide; /* a fault of ours: the detail goes to the log only */
} table[CC_ERR_COUNT] = {
    [CC_OK] = {N_("ok"), {BARE(200, "OK"), BARE(200, "OK")}, 0},
    [CC_ERR_INVALID_PARAMETER] = {N_("invalid parameter"),
        {FIELD(400, "InvalidParameter"), BARE(400, "InvalidParameter")}, 0},
    [CC_ERR_INCORRECT_FORMAT] = {N_("incorrect format"),
        {FIELD(400, "IncorrectFormat"), JOINED(400, "IncorrectFormat", ".", "Parameter")}, 0},
    [CC_ERR_MISSING_PARAMETER] = {N_("missing parameter"),
        {FIELD(400, "MissingParameter"), JOINED(400, "Missing", "", "Parameter")}, 0},
    [CC_ERR_UNKNOWN_FIELD] = {N_("unknown field"),
        {BARE(400, "InvalidParameter.UnknownField"), BARE(400, "InvalidParameter")}, 0},
    [CC_ERR_MALFORMED_JSON] = {N_("malformed JSON"),
        {BARE(400, "MalformedJSON"), BARE(400, "InvalidParameter")}, 0},
    [CC_ERR_UNSUPPORTED_MEDIA] = {N_("unsupported media type"),
        {BARE(415, "UnsupportedMediaType"), BARE(400, "InvalidParameter")}, 0},
    [CC_ERR_BODY_TOO_LARGE] = {N_("request body too large"),
        {BARE(413, "RequestEntityTooLarge"), BARE(413, "InvalidParameter.BodyTooLarge")}, 0},
    [CC_ERR_UNAUTHENTICATED] = {N_("unauthenticated"),
        {BARE(401, "Unauthorized"), BARE(400, "IncompleteSignature")}, 0},
    [CC_ERR_FORBIDDEN] = {N_("forbidden"), {BARE(403, "Forbidden"), BARE(403, "Forbidden.RAM")}, 0},
    [CC_ERR_NOT_FOUND] = {N_("not found"), {BARE(404, "NotFound"), BARE(400, "NotFound")}, 0},
    [CC_ERR_METHOD_NOT_ALLOWED] = {N_("method not allowed"),
        {BARE(405, "MethodNotAllowed"), BARE(400, "InvalidParameter")}, 0},
    [CC_ERR_ALREADY_EXISTS] = {N_("already exists"),
        {FIELD(409, "AlreadyExists"), JOINED(400, "AlreadyExists", ".", "Contact")}, 0},
    [CC_ERR_UPDATE_CONFLICT] = {N_("update conflict"),
        {BARE(409, "UpdateConflict"), BARE(409, "UpdateConflict")}, 0},
    [CC_ERR_IDEMPOTENCY_REUSED] = {N_("idempotency key reused"),
        {BARE(409, "IdempotencyKeyReused"), BARE(400, "IdempotentParameterMismatch")}, 0},
    [CC_ERR_LIMIT_EXCEEDED] = {N_("limit exceeded"),
        {FIELD(400, "LimitExceeded"), JOINED(400, "LimitExceeded", ".", "Contact")}, 0},
    [CC_ERR_STORE] = {N_("database error"),
        {BARE(500, "InternalError"), BARE(500, "InternalError")}, 1},
    [CC_ERR_INTERNAL] = {N_("internal error"),
        {BARE(500, "InternalError"), BARE(500, "InternalError")}, 1},
    [CC_ERR_UNAVAILABLE] = {N_("service unavailable"),
        {BARE(503, "ServiceUnavailable"), BARE(503, "ServiceUnavailable")}, 0},
    [CC_ERR_RETRY] = {N_("transaction must be retried"),
        {BARE(503, "ServiceUnavailable"), BARE(503, "ServiceUnavailable")}, 0},
    [CC_ERR_CONFIG] = {N_("configuration error"),
        {BARE(500, "InternalError"), BARE(500, "InternalError")}, 1},
    [CC_ERR_IO] = {N_("I/O error"), {BARE(500, "InternalError"), BARE(500, "InternalError")}, 1},
    [CC_ERR_CODE_MISMATCH] = {N_("verification code mismatch"),
        {BARE(400, "VerificationCode.Mismatch"), BARE(400, "VerificationCode.Mismatch")}, 0},
    [CC_ERR_CODE_EXPIRED] = {N_("verification code expired"),
        {BARE(400, "VerificationCode.Expired"), BARE(400, "VerificationCode.Expired")}, 0},
    [CC_ERR_CODE_TOO_MANY] = {N_("too many wrong codes"),
        {BARE(400, "VerificationCode.TooManyAttempts"),
         BARE(400, "VerificationCode.TooManyAttempts")}, 0},
    [CC_ERR_VERIFICATION_NOT_FOUND] = {N_("verification not found"),
        {BARE(404, "Verification.NotFound"), BARE(404, "Verification.NotFound")}, 0},
    [CC_ERR_DELIVERY_FAILED] = {N_("delivery failed"),
        {BARE(502, "DeliveryFailed"), BARE(502, "DeliveryFailed")}, 0},
    [CC_ERR_THROTTLED] = {N_("throttled"),
        {FIELD(429, "Throttling"), BARE(400, "Throttling.User")}, 0},
    [CC_ERR_USER_LOCKED] = {N_("user locked"), {BARE(423, "UserLocked"), BARE(423, "UserLocked")}, 0},
    [CC_ERR_CSRF] = {N_("missing or wrong CSRF token"),
        {BARE(403, "Forbidden.CSRF"), BARE(403, "Forbidden.CSRF")}, 0},
    [CC_ERR_SIGNATURE_INCOMPLETE] = {N_("signature incomplete"),
        {BARE(401, "Unauthorized"), BARE(400, "IncompleteSignature")}, 0},
    [CC_ERR_SIGNATURE_METHOD] = {N_("signature method not supported"),
        {BARE(401, "Unauthorized"), BARE(400, "InvalidSignatureMethod")}, 0},
    [CC_ERR_SIGNATURE_MISMATCH] = {N_("signature does not match"),
        {BARE(401, "Unauthorized"), BARE(400, "SignatureDoesNotMatch")}, 0},
    [CC_ERR_KEY_NOT_FOUND] = {N_("access key not found"),
        {BARE(401, "Unauthorized"), BARE(404, "InvalidAccessKeyId.NotFound")}, 0},
    [CC_ERR_KEY_DISABLED] = {N_("access key disabled"),
        {BARE(401, "Unauthorized"), BARE(400, "InvalidAccessKeyId.Inactive")}, 0},
    [CC_ERR_TIMESTAMP_FORMAT] = {N_("time stamp malformed"),
        {BARE(401, "Unauthorized"), BARE(400, "InvalidTimeStamp.Format")}, 0},
    [CC_ERR_TIMESTAMP_EXPIRED] = {N_("time stamp expired"),
        {BARE(401, "Unauthorized"), BARE(400, "InvalidTimeStamp.Expired")}, 0},
    [CC_ERR_NONCE_USED] = {N_("signature nonce used"),
        {BARE(401, "Unauthorized"), BARE(400, "SignatureNonceUsed")}, 0},
    [CC_ERR_VERSION_UNSUPPORTED] = {N_("API version not supported"),
        {BARE(400, "InvalidParameter.Version"), BARE(400, "InvalidVersion")}, 0},
    [CC_ERR_ACTION_UNKNOWN] = {N_("no such action"),
        {BARE(404, "NotFound"), BARE(404, "InvalidAction.NotFound")}, 0},
    /* The server's own faults, but ones its operator must act on: the
     * message says so in words a client may see (no paths, no SQL). */
    [CC_ERR_STORAGE_CORRUPT] = {N_("database damaged"),
        {BARE(503, "Storage.Corrupt"), BARE(503, "Storage.Corrupt")}, 0},
    [CC_ERR_STORAGE_FULL] = {N_("disk full"),
        {BARE(507, "Storage.Full"), BARE(507, "Storage.Full")}, 0},
    [CC_ERR_CONTACT_INELIGIBLE] = {N_("contact cannot be named on this application"),
        {BARE(400, "Contact.Ineligible"), BARE(400, "InvalidParameter.Contact")}, 0},
    [CC_ERR_INVALID_TRANSITION] = {N_("state change not allowed"),
        {BARE(409, "InvalidTransition"), BARE(400, "IncorrectStatus")}, 0},
    /* CAS answers its business refusals with 400; the code says which. */
    [CC_ERR_CONTACT_IN_USE] = {N_("contact in use by open applications"),
        {BARE(409, "Contact.InUse"), BARE(400, "Contact.InUse")}, 0},
    [CC_ERR_HEADERS_TOO_LARGE] = {N_("request header fields too large"),
        {BARE(431, "RequestHeaderFieldsTooLarge"), BARE(400, "InvalidParameter")}, 0},
    [CC_ERR_BAD_FRAMING] = {N_("ambiguous request framing"),
        {BARE(400, "BadRequest.Framing"), BARE(400, "InvalidParameter")}, 0},
    [CC_ERR_CROSS_ORIGIN] = {N_("cross-origin request refused"),
        {BARE(403, "Forbidden.CrossOrigin"), BARE(403, "Forbidden.CrossOrigin")}, 0},
    /* A test send goes only to a verified address: verification is how an
     * unverified one is tried. */
    [CC_ERR_NOT_VERIFIED] = {N_("address not verified"),
        {FIELD(409, "Unverified"), JOINED(400, "Unverified", ".", "Contact")}, 0},
    /* An action of Alibaba's CAS API that certcontacts does not offer: the
     * gateway's answer for an action a product does not support (an
     * action nobody declares stays InvalidAction.NotFound). */
    [CC_ERR_UNSUPPORTED_OPERATION] = {N_("operation not supported"),
        {BARE(400, "UnsupportedOperation"), BARE(400, "UnsupportedOperation")}, 0},
};

/* Writes fmt's English into en and its Simplified Chinese (from the
 * catalog, po/zh_CN.po) into zh; zh is "" when fmt has no translation.
 * A bare "%s" passes a message through: its argument is what the catalog
 * is asked for. */
static void format_both(char *en, size_t ensz, char *zh, size_t zhsz, const char *fmt,
                        const char *fmt_zh, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    vsnprintf(en, ensz, fmt, ap);
    zh[0] = '\0';
    cc_utf8_trim(en);
    cc_tr_vformat(zh, zhsz, fmt, fmt_zh ? fmt_zh : fmt, ap2);
    if (strcmp(zh, en) == 0)
        zh[0] = '\0'; /* nothing was translated: English it is */
    va_end(ap2);
}

static void reset(struct cc_error *e, enum cc_err code, const char *field)
{
    e->code = code;
    e->attempts_left = -1;
    e->retry_after_s = 0;
    e->n_problems = 0;
    cc_strlcpy(e->field, field ? field : "", sizeof e->field);
}

enum cc_err cc_error_set(struct cc_error *e, enum cc_err code, const char *field,
                         const char *fmt, ...)
{
    if (!e)
        return code;
    reset(e, code, field);
    va_list ap;
    va_start(ap, fmt);
    format_both(e->message, sizeof e->message, e->message_zh, sizeof e->message_zh, fmt,
                cc_tr("zh-CN", fmt), ap);
    va_end(ap);
    return code;
}

enum cc_err cc_error_setn(struct cc_error *e, enum cc_err code, const char *field, long n,
                          const char *one, const char *other, ...)
{
    if (!e)
        return code;
    reset(e, code, field);
    const char *fmt = n == 1 ? one : other;
    va_list ap;
    va_start(ap, other);
    format_both(e->message, sizeof e->message, e->message_zh, sizeof e->message_zh, fmt,
                cc_trn("zh-CN", one, other, n), ap);
    va_end(ap);
    return code;
}

void cc_error_clear(struct cc_error *e)
{
    reset(e, CC_OK, NULL);
    e->message[0] = '\0';
    e->message_zh[0] = '\0';
}

static void add_problem(struct cc_error *e, const char *code, const char *field, const char *path,
                        const char *fmt, va_list ap)
{
    if (!e || e->n_problems >= CC_ERROR_PROBLEMS_MAX)
        return;
    struct cc_error_problem *p = &e->problems[e->n_problems++];
    cc_strlcpy(p->code, code, sizeof p->code);
    cc_strlcpy(p->field, field ? field : "", sizeof p->field);
    cc_strlcpy(p->path, path ? path : "", sizeof p->path);
    p->contact_id = 0;
    format_both(p->message, sizeof p->message, p->message_zh, sizeof p->message_zh, fmt,
                cc_tr("zh-CN", fmt), ap);
}

void cc_error_add_problem(struct cc_error *e, const char *code, const char *field,
                          const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_problem(e, code, field, NULL, fmt, ap);
    va_end(ap);
}

void cc_error_add_problem_at(struct cc_error *e, const char *code, const char *field,
                             const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_problem(e, code, field, path, fmt, ap);
    va_end(ap);
}

static int is_zh(const char *lang)
{
    return lang && strcmp(lang, "zh-CN") == 0;
}

const char *cc_error_message(const struct cc_error *e, const char *lang)
{
    if (is_zh(lang) && e->message_zh[0])
        return e->message_zh;
    return e->message[0] ? e->message : cc_tr(lang, cc_strerror(e->code));
}

const char *cc_error_problem_message(const struct cc_error_problem *p, const char *lang)
{
    return is_zh(lang) && p->message_zh[0] ? p->message_zh : p->message;
}

const char *cc_strerror(enum cc_err code)
{
    if ((unsigned)code >= CC_ERR_COUNT)
        return "unknown error";
    return table[code].name;
}

int cc_err_status(enum cc_err code, enum cc_api api)
{
    if ((unsigned)code >= CC_ERR_COUNT || (unsigned)api >= CC_API_COUNT)
        return 500;
    return table[code].api[api].status;
}

void cc_err_code(enum cc_err code, const char *field, enum cc_api api, char *buf, size_t bufsz)
{
    if ((unsigned)code >= CC_ERR_COUNT)
        code = CC_ERR_INTERNAL;
    if ((unsigned)api >= CC_API_COUNT)
        api = CC_API_REST;
    const struct answer *a = &table[code].api[api];
    const char *f = field && field[0] ? field : a->dflt;
    if (a->join && f)
        snprintf(buf, bufsz, "%s%s%s", a->code, a->join, f);
    else
        snprintf(buf, bufsz, "%s", a->code);
}

int cc_err_hides_detail(enum cc_err code)
{
    return (unsigned)code >= CC_ERR_COUNT || table[code].hide;
}

const char *cc_err_hidden_message(void)
{
    return N_("The server could not complete the request; see its log for this request id.");
}

int cc_err_http_status(enum cc_err code)
{
    return cc_err_status(code, CC_API_REST);
}

void cc_err_api_code(const struct cc_error *e, char *buf, size_t bufsz)
{
    cc_err_code(e->code, e->field, CC_API_REST, buf, bufsz);
}

const char *cc_role_name(enum cc_role r)
{
    switch (r) {
    case CC_ROLE_READONLY: return "readonly";
    case CC_ROLE_OPERATOR: return "operator";
    case CC_ROLE_ADMIN: return "admin";
    default: return "none";
    }
}

enum cc_role cc_role_parse(const char *s)
{
    if (!s)
        return CC_ROLE_NONE;
    if (strcmp(s, "readonly") == 0)
        return CC_ROLE_READONLY;
    if (strcmp(s, "operator") == 0)
        return CC_ROLE_OPERATOR;
    if (strcmp(s, "admin") == 0)
        return CC_ROLE_ADMIN;
    return CC_ROLE_NONE;
}

const char *cc_webhook_kind_name(enum cc_webhook_kind k)
{
    switch (k) {
    case CC_WEBHOOK_DINGTALK: return "dingtalk";
    case CC_WEBHOOK_LARK: return "lark";
    case CC_WEBHOOK_FEISHU: return "feishu";
    case CC_WEBHOOK_WECOM: return "wecom";
    default: return "unknown";
    }
}

enum cc_webhook_kind cc_webhook_kind_parse(const char *s)
{
    for (int k = CC_WEBHOOK_DINGTALK; k <= CC_WEBHOOK_WECOM; k++)
        if (strcmp(s, cc_webhook_kind_name((enum cc_webhook_kind)k)) == 0)
            return (enum cc_webhook_kind)k;
    return CC_WEBHOOK_NONE;
}
