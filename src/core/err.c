/*
 * err.c — the error enum's names, and the one place where an error maps to
 * an HTTP status and an API error code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "util/util.h"

static const struct {
    const char *name;
    int status;
    const char *api; /* API code; a field name is appended for some */
    int with_field;
} table[CC_ERR_COUNT] = {
    [CC_OK] = {"ok", 200, "OK", 0},
    [CC_ERR_INVALID_PARAMETER] = {"invalid parameter", 400, "InvalidParameter", 1},
    [CC_ERR_INCORRECT_FORMAT] = {"incorrect format", 400, "IncorrectFormat", 1},
    [CC_ERR_MISSING_PARAMETER] = {"missing parameter", 400, "MissingParameter", 1},
    [CC_ERR_UNKNOWN_FIELD] = {"unknown field", 400, "InvalidParameter.UnknownField", 0},
    [CC_ERR_MALFORMED_JSON] = {"malformed JSON", 400, "MalformedJSON", 0},
    [CC_ERR_UNSUPPORTED_MEDIA] = {"unsupported media type", 415, "UnsupportedMediaType", 0},
    [CC_ERR_BODY_TOO_LARGE] = {"request body too large", 413, "RequestEntityTooLarge", 0},
    [CC_ERR_UNAUTHENTICATED] = {"unauthenticated", 401, "Unauthorized", 0},
    [CC_ERR_FORBIDDEN] = {"forbidden", 403, "Forbidden", 0},
    [CC_ERR_NOT_FOUND] = {"not found", 404, "NotFound", 0},
    [CC_ERR_METHOD_NOT_ALLOWED] = {"method not allowed", 405, "MethodNotAllowed", 0},
    [CC_ERR_ALREADY_EXISTS] = {"already exists", 409, "AlreadyExists", 1},
    [CC_ERR_UPDATE_CONFLICT] = {"update conflict", 409, "UpdateConflict", 0},
    [CC_ERR_IDEMPOTENCY_REUSED] = {"idempotency key reused", 409, "IdempotencyKeyReused", 0},
    [CC_ERR_LIMIT_EXCEEDED] = {"limit exceeded", 400, "LimitExceeded", 1},
    [CC_ERR_STORE] = {"database error", 500, "InternalError", 0},
    [CC_ERR_INTERNAL] = {"internal error", 500, "InternalError", 0},
    [CC_ERR_UNAVAILABLE] = {"service unavailable", 503, "ServiceUnavailable", 0},
    [CC_ERR_RETRY] = {"transaction must be retried", 503, "ServiceUnavailable", 0},
    [CC_ERR_CONFIG] = {"configuration error", 500, "InternalError", 0},
    [CC_ERR_IO] = {"I/O error", 500, "InternalError", 0},
    [CC_ERR_CODE_MISMATCH] = {"verification code mismatch", 400, "VerificationCode.Mismatch", 0},
    [CC_ERR_CODE_EXPIRED] = {"verification code expired", 400, "VerificationCode.Expired", 0},
    [CC_ERR_CODE_TOO_MANY] = {"too many wrong codes", 400, "VerificationCode.TooManyAttempts", 0},
    [CC_ERR_VERIFICATION_NOT_FOUND] = {"verification not found", 404, "Verification.NotFound", 0},
    [CC_ERR_DELIVERY_FAILED] = {"delivery failed", 502, "DeliveryFailed", 0},
    [CC_ERR_THROTTLED] = {"throttled", 429, "Throttling", 1},
    [CC_ERR_USER_LOCKED] = {"user locked", 423, "UserLocked", 0},
    [CC_ERR_CSRF] = {"missing or wrong CSRF token", 403, "Forbidden.CSRF", 0},
};

enum cc_err cc_error_set(struct cc_error *e, enum cc_err code, const char *field,
                         const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    e->attempts_left = -1;
    e->retry_after_s = 0;
    cc_strlcpy(e->field, field ? field : "", sizeof e->field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return code;
}

void cc_error_clear(struct cc_error *e)
{
    e->code = CC_OK;
    e->attempts_left = -1;
    e->retry_after_s = 0;
    e->field[0] = '\0';
    e->message[0] = '\0';
}

const char *cc_strerror(enum cc_err code)
{
    if ((unsigned)code >= CC_ERR_COUNT)
        return "unknown error";
    return table[code].name;
}

int cc_err_http_status(enum cc_err code)
{
    if ((unsigned)code >= CC_ERR_COUNT)
        return 500;
    return table[code].status;
}

void cc_err_api_code(const struct cc_error *e, char *buf, size_t bufsz)
{
    enum cc_err code = (unsigned)e->code < CC_ERR_COUNT ? e->code : CC_ERR_INTERNAL;
    if (table[code].with_field && e->field[0])
        snprintf(buf, bufsz, "%s.%s", table[code].api, e->field);
    else
        snprintf(buf, bufsz, "%s", table[code].api);
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
