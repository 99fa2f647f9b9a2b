/*
 * errors.h — the one error enum of certcontacts and the one table that says
 * how each error leaves through each API (core/err.c).
 *
 * Both adapters in http/ render their errors from it: REST v1 (server.c,
 * status and "Code.Field") and the Alibaba Cloud CAS compatibility layer
 * (acs_api.c, acs_auth.c: Alibaba's status and Code). A row per enum value,
 * including the authentication failures only the Alibaba API tells apart;
 * a unit test walks the table so that no value lacks a column.
 */
#ifndef CC_ERRORS_H
#define CC_ERRORS_H

#include <stddef.h>
#include <stdint.h>

/* One enum, 0 = OK, only ever appended to. The comment gives the REST
 * status and code; the Alibaba ones are in err.c's table. */
enum cc_err {
    CC_OK = 0,
    CC_ERR_INVALID_PARAMETER,  /* 400 InvalidParameter[.<Field>]        */
    CC_ERR_INCORRECT_FORMAT,   /* 400 IncorrectFormat.<Field>           */
    CC_ERR_MISSING_PARAMETER,  /* 400 MissingParameter.<Field>          */
    CC_ERR_UNKNOWN_FIELD,      /* 400 InvalidParameter.UnknownField     */
    CC_ERR_MALFORMED_JSON,     /* 400 MalformedJSON                     */
    CC_ERR_UNSUPPORTED_MEDIA,  /* 415 UnsupportedMediaType              */
    CC_ERR_BODY_TOO_LARGE,     /* 413 RequestEntityTooLarge             */
    CC_ERR_UNAUTHENTICATED,    /* 401 Unauthorized                      */
    CC_ERR_FORBIDDEN,          /* 403 Forbidden                         */
    CC_ERR_NOT_FOUND,          /* 404 NotFound                          */
    CC_ERR_METHOD_NOT_ALLOWED, /* 405 MethodNotAllowed                  */
    CC_ERR_ALREADY_EXISTS,     /* 409 AlreadyExists.<Field>             */
    CC_ERR_UPDATE_CONFLICT,    /* 409 UpdateConflict                    */
    CC_ERR_IDEMPOTENCY_REUSED, /* 409 IdempotencyKeyReused              */
    CC_ERR_LIMIT_EXCEEDED,     /* 400 LimitExceeded.<Field>             */
    CC_ERR_STORE,              /* 500 InternalError (database)          */
    CC_ERR_INTERNAL,           /* 500 InternalError                     */
    CC_ERR_UNAVAILABLE,        /* 503 ServiceUnavailable                */
    CC_ERR_RETRY,              /* internal: transaction must be retried */
    CC_ERR_CONFIG,             /* configuration or command-line error   */
    CC_ERR_IO,                 /* file or system call failed            */
    CC_ERR_CODE_MISMATCH,      /* 400 VerificationCode.Mismatch         */
    CC_ERR_CODE_EXPIRED,       /* 400 VerificationCode.Expired          */
    CC_ERR_CODE_TOO_MANY,      /* 400 VerificationCode.TooManyAttempts  */
    CC_ERR_VERIFICATION_NOT_FOUND, /* 404 Verification.NotFound         */
    CC_ERR_DELIVERY_FAILED,    /* 502 DeliveryFailed                    */
    CC_ERR_THROTTLED,          /* 429 Throttling.<Field>                */
    CC_ERR_USER_LOCKED,        /* 423 UserLocked                        */
    CC_ERR_CSRF,               /* 403 Forbidden.CSRF                    */
    /* Authentication failures the Alibaba API names one by one (REST
     * answers each as 401 Unauthorized). */
    CC_ERR_SIGNATURE_INCOMPLETE, /* the call is not (fully) signed      */
    CC_ERR_SIGNATURE_METHOD,   /* unsupported signature method/version  */
    CC_ERR_SIGNATURE_MISMATCH, /* the signature does not match          */
    CC_ERR_KEY_NOT_FOUND,      /* missing or unknown access key id      */
    CC_ERR_KEY_DISABLED,       /* the access key is disabled            */
    CC_ERR_TIMESTAMP_FORMAT,   /* the signed time is not a time         */
    CC_ERR_TIMESTAMP_EXPIRED,  /* the signed time is too far from now   */
    CC_ERR_NONCE_USED,         /* the signature nonce was replayed      */
    CC_ERR_VERSION_UNSUPPORTED,/* 400 InvalidParameter.Version          */
    CC_ERR_ACTION_UNKNOWN,     /* 404 NotFound: no such action          */
    CC_ERR_STORAGE_CORRUPT,    /* 503 Storage.Corrupt: the database file is damaged */
    CC_ERR_STORAGE_FULL,       /* 507 Storage.Full: the database's disk is full     */
    /* Certificate applications. */
    CC_ERR_CONTACT_INELIGIBLE, /* 400 Contact.Ineligible: see problems[] */
    CC_ERR_INVALID_TRANSITION, /* 409 InvalidTransition: names the allowed moves */
    CC_ERR_CONTACT_IN_USE,     /* 409 Contact.InUse: open applications name the contact */
    CC_ERR_HEADERS_TOO_LARGE,  /* 431 RequestHeaderFieldsTooLarge: too many query parameters */
    CC_ERR_BAD_FRAMING,        /* 400 BadRequest.Framing: Content-Length with chunked */
    CC_ERR_CROSS_ORIGIN,       /* 403 Forbidden.CrossOrigin: a state change from another site */
    CC_ERR_NOT_VERIFIED,       /* 409 Unverified.<Field>: the address is not verified */
    CC_ERR_UNSUPPORTED_OPERATION, /* 400 UnsupportedOperation: an Alibaba action certcontacts
                                   * knows but does not offer */
    CC_ERR_COUNT
};

#define CC_ERROR_PROBLEMS_MAX 12

/* The error object a failing function fills in where the failure happens.
 * `field` is the PascalCase parameter name ("Email", "Mobile", ...) or "". */
struct cc_error {
    enum cc_err code;
    char field[32];
    char message[256];       /* English */
    char message_zh[384];    /* the same in Simplified Chinese (po/zh_CN.po) */
    int attempts_left;       /* VerificationCode.Mismatch: tries left; else -1 */
    int64_t retry_after_s;   /* Throttling: seconds to wait; else 0 */
    /* Every problem of a request that fails for several reasons at once
     * (CC_ERR_CONTACT_INELIGIBLE, a contact's fields), each with its own API
     * code and field;
     * REST renders them as "problems". cc_error_set() empties the list. */
    int n_problems;
    struct cc_error_problem {
        char code[48];       /* "MissingParameter.IdCard", "Unverified.Email" */
        char field[24];
        char path[40];       /* where in the request body: "email", "webhooks[1].url" */
        char message[256];   /* as long as the error's own: the first becomes it */
        char message_zh[384];
        int64_t contact_id;  /* AlreadyExists: the contact that has the address; else 0 */
    } problems[CC_ERROR_PROBLEMS_MAX];
};

/* Set *e (if e is not NULL) and return code. field may be NULL. */
enum cc_err cc_error_set(struct cc_error *e, enum cc_err code, const char *field,
                         const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cc_error_clear(struct cc_error *e);
/* Appends a problem to e's list (dropped when the list is full). */
void cc_error_add_problem(struct cc_error *e, const char *code, const char *field,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same, with the problem's place in the request body (path, e.g.
 * "webhooks[1].url"; "" when the problem is not one field's). */
void cc_error_add_problem_at(struct cc_error *e, const char *code, const char *field,
                             const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* cc_error_set for a message that counts: `one` when n is 1, else
 * `other` (English); both take the same arguments, n among them. */
enum cc_err cc_error_setn(struct cc_error *e, enum cc_err code, const char *field, long n,
                          const char *one, const char *other, ...)
    __attribute__((format(printf, 6, 7)));
/* e's message in lang ("zh-CN" or anything else for English). */
const char *cc_error_message(const struct cc_error *e, const char *lang);
const char *cc_error_problem_message(const struct cc_error_problem *p, const char *lang);
const char *cc_strerror(enum cc_err code);

/* The two APIs an error can leave through. */
enum cc_api { CC_API_REST = 0, CC_API_ACS, CC_API_COUNT };

/* The HTTP status of code in api (500 for a code out of range). */
int cc_err_status(enum cc_err code, enum cc_api api);
/* Writes code's API code in api into buf, with field (may be NULL or "")
 * where that API names the field ("IncorrectFormat.Email",
 * "MissingContactId"). Out of range: InternalError. */
void cc_err_code(enum cc_err code, const char *field, enum cc_api api, char *buf,
                 size_t bufsz);
/* The one rule for hiding details: 1 when code is a fault of this server
 * (database, I/O, internal), whose message goes to the log only and the
 * client gets cc_err_hidden_message() instead. Someone else's failure
 * (502 DeliveryFailed, 503) keeps its message: the caller needs the reason. */
int cc_err_hides_detail(enum cc_err code);
const char *cc_err_hidden_message(void);

/* REST shorthands: cc_err_status(code, CC_API_REST) and cc_err_code() of e. */
int cc_err_http_status(enum cc_err code);
void cc_err_api_code(const struct cc_error *e, char *buf, size_t bufsz);

#endif
