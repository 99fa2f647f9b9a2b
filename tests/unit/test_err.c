/*
 * test_err.c — unit tests of core/err.c: filling in struct cc_error, the
 * mapping of every error code to an HTTP status and an API code, role and
 * webhook kind names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "util/util.h"

static void set_fills_all_fields(void **st)
{
    (void)st;
    struct cc_error e;
    memset(&e, 'Z', sizeof e);
    assert_int_equal(cc_error_set(&e, CC_ERR_INCORRECT_FORMAT, "Email", "bad %s %d", "x", 7),
                     CC_ERR_INCORRECT_FORMAT);
    assert_int_equal(e.code, CC_ERR_INCORRECT_FORMAT);
    assert_string_equal(e.field, "Email");
    assert_string_equal(e.message, "bad x 7");
}

static void set_null_error_returns_code(void **st)
{
    (void)st;
    assert_int_equal(cc_error_set(NULL, CC_ERR_NOT_FOUND, "X", "gone"), CC_ERR_NOT_FOUND);
}

static void set_null_field_is_empty(void **st)
{
    (void)st;
    struct cc_error e;
    memset(&e, 'Z', sizeof e);
    cc_error_set(&e, CC_ERR_INTERNAL, NULL, "boom");
    assert_string_equal(e.field, "");
}

static void set_truncates_long_message(void **st)
{
    (void)st;
    struct cc_error e;
    char big[1000];
    memset(big, 'm', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cc_error_set(&e, CC_ERR_INTERNAL, NULL, "%s", big);
    assert_int_equal(strlen(e.message), sizeof e.message - 1);
}

static void set_truncates_long_field(void **st)
{
    (void)st;
    struct cc_error e;
    char big[100];
    memset(big, 'f', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cc_error_set(&e, CC_ERR_INCORRECT_FORMAT, big, "x");
    assert_int_equal(strlen(e.field), sizeof e.field - 1);
}

static void set_message_is_not_a_format(void **st)
{
    (void)st;
    struct cc_error e;
    cc_error_set(&e, CC_ERR_INTERNAL, NULL, "%s", "100%s %n");
    assert_string_equal(e.message, "100%s %n");
}

static void clear_resets(void **st)
{
    (void)st;
    struct cc_error e;
    cc_error_set(&e, CC_ERR_FORBIDDEN, "Role", "no");
    cc_error_clear(&e);
    assert_int_equal(e.code, CC_OK);
    assert_string_equal(e.field, "");
    assert_string_equal(e.message, "");
}

static void http_status_per_code(void **st)
{
    (void)st;
    static const struct {
        enum cc_err code;
        int status;
    } want[] = {
        {CC_OK, 200},
        {CC_ERR_INVALID_PARAMETER, 400},
        {CC_ERR_INCORRECT_FORMAT, 400},
        {CC_ERR_MISSING_PARAMETER, 400},
        {CC_ERR_UNKNOWN_FIELD, 400},
        {CC_ERR_MALFORMED_JSON, 400},
        {CC_ERR_UNSUPPORTED_MEDIA, 415},
        {CC_ERR_BODY_TOO_LARGE, 413},
        {CC_ERR_UNAUTHENTICATED, 401},
        {CC_ERR_FORBIDDEN, 403},
        {CC_ERR_NOT_FOUND, 404},
        {CC_ERR_METHOD_NOT_ALLOWED, 405},
        {CC_ERR_ALREADY_EXISTS, 409},
        {CC_ERR_UPDATE_CONFLICT, 409},
        {CC_ERR_IDEMPOTENCY_REUSED, 409},
        {CC_ERR_LIMIT_EXCEEDED, 400},
        {CC_ERR_STORE, 500},
        {CC_ERR_INTERNAL, 500},
        {CC_ERR_UNAVAILABLE, 503},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(cc_err_http_status(want[i].code), want[i].status);
}

/* The one table: every code has a REST and an Alibaba status and code, and
 * the rule for hiding details picks exactly the 500s that are our faults. */
static void table_has_both_columns(void **st)
{
    (void)st;
    for (int c = 0; c < CC_ERR_COUNT; c++) {
        for (int api = 0; api < CC_API_COUNT; api++) {
            int s = cc_err_status((enum cc_err)c, (enum cc_api)api);
            if (s < 200 || s > 599)
                fail_msg("code %d (%s): API %d has no status", c, cc_strerror((enum cc_err)c), api);
            char buf[96] = "";
            cc_err_code((enum cc_err)c, NULL, (enum cc_api)api, buf, sizeof buf);
            if (!buf[0])
                fail_msg("code %d (%s): API %d has no code", c, cc_strerror((enum cc_err)c), api);
            if (c != CC_OK && s < 400)
                fail_msg("code %d (%s): API %d answers %d for an error", c,
                         cc_strerror((enum cc_err)c), api, s);
        }
        if (cc_err_hides_detail((enum cc_err)c))
            assert_int_equal(cc_err_http_status((enum cc_err)c), 500);
    }
    assert_true(cc_err_hides_detail(CC_ERR_STORE));
    assert_true(cc_err_hides_detail(CC_ERR_INTERNAL));
    assert_false(cc_err_hides_detail(CC_ERR_UNAVAILABLE));
    assert_false(cc_err_hides_detail(CC_ERR_DELIVERY_FAILED));
    assert_true(cc_err_hides_detail(CC_ERR_COUNT));
}

/* What the Alibaba API answers: CAS's and its gateway's statuses and codes. */
static void alibaba_column(void **st)
{
    (void)st;
    static const struct {
        enum cc_err code;
        const char *field;
        int status;
        const char *api;
    } want[] = {
        {CC_ERR_ALREADY_EXISTS, "Mobile", 400, "AlreadyExists.Mobile"},
        {CC_ERR_ALREADY_EXISTS, NULL, 400, "AlreadyExists.Contact"},
        {CC_ERR_NOT_FOUND, "ContactId", 400, "NotFound"},
        {CC_ERR_THROTTLED, "User", 400, "Throttling.User"},
        {CC_ERR_MISSING_PARAMETER, "AccessKeyId", 400, "MissingAccessKeyId"},
        {CC_ERR_MISSING_PARAMETER, NULL, 400, "MissingParameter"},
        {CC_ERR_INCORRECT_FORMAT, "Mobile", 400, "IncorrectFormat.Mobile"},
        {CC_ERR_INVALID_PARAMETER, "IdempotencyKey", 400, "InvalidParameter"},
        {CC_ERR_LIMIT_EXCEEDED, NULL, 400, "LimitExceeded.Contact"},
        {CC_ERR_IDEMPOTENCY_REUSED, NULL, 400, "IdempotentParameterMismatch"},
        {CC_ERR_UPDATE_CONFLICT, NULL, 409, "UpdateConflict"},
        {CC_ERR_FORBIDDEN, NULL, 403, "Forbidden.RAM"},
        {CC_ERR_BODY_TOO_LARGE, NULL, 413, "InvalidParameter.BodyTooLarge"},
        {CC_ERR_STORE, NULL, 500, "InternalError"},
        {CC_ERR_UNAVAILABLE, NULL, 503, "ServiceUnavailable"},
        {CC_ERR_KEY_NOT_FOUND, NULL, 404, "InvalidAccessKeyId.NotFound"},
        {CC_ERR_KEY_DISABLED, NULL, 400, "InvalidAccessKeyId.Inactive"},
        {CC_ERR_SIGNATURE_MISMATCH, NULL, 400, "SignatureDoesNotMatch"},
        {CC_ERR_SIGNATURE_INCOMPLETE, NULL, 400, "IncompleteSignature"},
        {CC_ERR_SIGNATURE_METHOD, NULL, 400, "InvalidSignatureMethod"},
        {CC_ERR_TIMESTAMP_FORMAT, NULL, 400, "InvalidTimeStamp.Format"},
        {CC_ERR_TIMESTAMP_EXPIRED, NULL, 400, "InvalidTimeStamp.Expired"},
        {CC_ERR_NONCE_USED, NULL, 400, "SignatureNonceUsed"},
        {CC_ERR_VERSION_UNSUPPORTED, "Version", 400, "InvalidVersion"},
        {CC_ERR_ACTION_UNKNOWN, "Action", 404, "InvalidAction.NotFound"},
        {CC_ERR_UNSUPPORTED_OPERATION, "Action", 400, "UnsupportedOperation"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char buf[96];
        cc_err_code(want[i].code, want[i].field, CC_API_ACS, buf, sizeof buf);
        assert_string_equal(buf, want[i].api);
        assert_int_equal(cc_err_status(want[i].code, CC_API_ACS), want[i].status);
    }
    /* the authentication failures are 401 Unauthorized in REST */
    for (enum cc_err c = CC_ERR_SIGNATURE_INCOMPLETE; c <= CC_ERR_NONCE_USED; c++)
        assert_int_equal(cc_err_http_status(c), 401);
}

static void http_status_out_of_range(void **st)
{
    (void)st;
    assert_int_equal(cc_err_http_status(CC_ERR_COUNT), 500);
    assert_int_equal(cc_err_http_status((enum cc_err)-1), 500);
    assert_int_equal(cc_err_http_status((enum cc_err)1000), 500);
}

static void every_code_has_name_and_status(void **st)
{
    (void)st;
    for (int c = 0; c < CC_ERR_COUNT; c++) {
        const char *name = cc_strerror((enum cc_err)c);
        assert_non_null(name);
        assert_true(strlen(name) > 0);
        assert_string_not_equal(name, "unknown error");
        int s = cc_err_http_status((enum cc_err)c);
        assert_true(s >= 200 && s <= 599);
        struct cc_error e = {.code = (enum cc_err)c};
        char buf[64];
        cc_err_api_code(&e, buf, sizeof buf);
        assert_true(strlen(buf) > 0);
    }
}

static void strerror_out_of_range(void **st)
{
    (void)st;
    assert_string_equal(cc_strerror(CC_ERR_COUNT), "unknown error");
    assert_string_equal(cc_strerror((enum cc_err)-5), "unknown error");
}

static void strerror_names(void **st)
{
    (void)st;
    assert_string_equal(cc_strerror(CC_OK), "ok");
    assert_string_equal(cc_strerror(CC_ERR_NOT_FOUND), "not found");
}

static void api_code_with_field(void **st)
{
    (void)st;
    struct cc_error e;
    char buf[64];
    cc_error_set(&e, CC_ERR_INCORRECT_FORMAT, "Email", "x");
    cc_err_api_code(&e, buf, sizeof buf);
    assert_string_equal(buf, "IncorrectFormat.Email");
    cc_error_set(&e, CC_ERR_MISSING_PARAMETER, "Mobile", "x");
    cc_err_api_code(&e, buf, sizeof buf);
    assert_string_equal(buf, "MissingParameter.Mobile");
    cc_error_set(&e, CC_ERR_ALREADY_EXISTS, "Email", "x");
    cc_err_api_code(&e, buf, sizeof buf);
    assert_string_equal(buf, "AlreadyExists.Email");
    cc_error_set(&e, CC_ERR_LIMIT_EXCEEDED, "Webhooks", "x");
    cc_err_api_code(&e, buf, sizeof buf);
    assert_string_equal(buf, "LimitExceeded.Webhooks");
    cc_error_set(&e, CC_ERR_INVALID_PARAMETER, "PageSize", "x");
    cc_err_api_code(&e, buf, sizeof buf);
    assert_string_equal(buf, "InvalidParameter.PageSize");
}

static void api_code_without_field(void **st)
{
    (void)st;
    struct cc_error e;
    char buf[64];
    cc_error_set(&e, CC_ERR_INCORRECT_FORMAT, NULL, "x");
    cc_err_api_code(&e, buf, sizeof buf);
    assert_string_equal(buf, "IncorrectFormat");
}

static void api_code_ignores_field_when_not_used(void **st)
{
    (void)st;
    struct cc_error e;
    char buf[64];
    cc_error_set(&e, CC_ERR_NOT_FOUND, "Contact", "x");
    cc_err_api_code(&e, buf, sizeof buf);
    assert_string_equal(buf, "NotFound");
    cc_error_set(&e, CC_ERR_UNKNOWN_FIELD, "Foo", "x");
    cc_err_api_code(&e, buf, sizeof buf);
    assert_string_equal(buf, "InvalidParameter.UnknownField");
}

static void api_code_fixed_names(void **st)
{
    (void)st;
    static const struct {
        enum cc_err code;
        const char *api;
    } want[] = {
        {CC_ERR_MALFORMED_JSON, "MalformedJSON"},
        {CC_ERR_UNSUPPORTED_MEDIA, "UnsupportedMediaType"},
        {CC_ERR_BODY_TOO_LARGE, "RequestEntityTooLarge"},
        {CC_ERR_UNAUTHENTICATED, "Unauthorized"},
        {CC_ERR_FORBIDDEN, "Forbidden"},
        {CC_ERR_METHOD_NOT_ALLOWED, "MethodNotAllowed"},
        {CC_ERR_UPDATE_CONFLICT, "UpdateConflict"},
        {CC_ERR_IDEMPOTENCY_REUSED, "IdempotencyKeyReused"},
        {CC_ERR_STORE, "InternalError"},
        {CC_ERR_INTERNAL, "InternalError"},
        {CC_ERR_UNAVAILABLE, "ServiceUnavailable"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        struct cc_error e;
        char buf[64];
        cc_error_set(&e, want[i].code, "Ignored", "x");
        cc_err_api_code(&e, buf, sizeof buf);
        assert_string_equal(buf, want[i].api);
    }
}

static void api_code_out_of_range_is_internal(void **st)
{
    (void)st;
    struct cc_error e = {.code = (enum cc_err)999};
    char buf[64];
    cc_err_api_code(&e, buf, sizeof buf);
    assert_string_equal(buf, "InternalError");
}

static void api_code_small_buffer(void **st)
{
    (void)st;
    struct cc_error e;
    char buf[8];
    cc_error_set(&e, CC_ERR_INCORRECT_FORMAT, "Email", "x");
    cc_err_api_code(&e, buf, sizeof buf);
    assert_string_equal(buf, "Incorre");
}

static void role_names(void **st)
{
    (void)st;
    assert_string_equal(cc_role_name(CC_ROLE_READONLY), "readonly");
    assert_string_equal(cc_role_name(CC_ROLE_OPERATOR), "operator");
    assert_string_equal(cc_role_name(CC_ROLE_ADMIN), "admin");
    assert_string_equal(cc_role_name(CC_ROLE_NONE), "none");
    assert_string_equal(cc_role_name((enum cc_role)42), "none");
}

static void role_parse(void **st)
{
    (void)st;
    assert_int_equal(cc_role_parse("readonly"), CC_ROLE_READONLY);
    assert_int_equal(cc_role_parse("operator"), CC_ROLE_OPERATOR);
    assert_int_equal(cc_role_parse("admin"), CC_ROLE_ADMIN);
}

static void role_parse_unknown(void **st)
{
    (void)st;
    assert_int_equal(cc_role_parse(NULL), CC_ROLE_NONE);
    assert_int_equal(cc_role_parse(""), CC_ROLE_NONE);
    assert_int_equal(cc_role_parse("Admin"), CC_ROLE_NONE);
    assert_int_equal(cc_role_parse("admin "), CC_ROLE_NONE);
    assert_int_equal(cc_role_parse("root"), CC_ROLE_NONE);
}

static void role_round_trip(void **st)
{
    (void)st;
    for (int r = CC_ROLE_READONLY; r <= CC_ROLE_ADMIN; r++)
        assert_int_equal(cc_role_parse(cc_role_name((enum cc_role)r)), r);
}

static void webhook_kind_names(void **st)
{
    (void)st;
    assert_string_equal(cc_webhook_kind_name(CC_WEBHOOK_DINGTALK), "dingtalk");
    assert_string_equal(cc_webhook_kind_name(CC_WEBHOOK_LARK), "lark");
    assert_string_equal(cc_webhook_kind_name(CC_WEBHOOK_FEISHU), "feishu");
    assert_string_equal(cc_webhook_kind_name(CC_WEBHOOK_WECOM), "wecom");
    assert_string_equal(cc_webhook_kind_name(CC_WEBHOOK_NONE), "unknown");
    assert_string_equal(cc_webhook_kind_name((enum cc_webhook_kind)77), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(set_fills_all_fields),
        cmocka_unit_test(set_null_error_returns_code),
        cmocka_unit_test(set_null_field_is_empty),
        cmocka_unit_test(set_truncates_long_message),
        cmocka_unit_test(set_truncates_long_field),
        cmocka_unit_test(set_message_is_not_a_format),
        cmocka_unit_test(clear_resets),
        cmocka_unit_test(http_status_per_code),
        cmocka_unit_test(http_status_out_of_range),
        cmocka_unit_test(table_has_both_columns),
        cmocka_unit_test(alibaba_column),
        cmocka_unit_test(every_code_has_name_and_status),
        cmocka_unit_test(strerror_out_of_range),
        cmocka_unit_test(strerror_names),
        cmocka_unit_test(api_code_with_field),
        cmocka_unit_test(api_code_without_field),
        cmocka_unit_test(api_code_ignores_field_when_not_used),
        cmocka_unit_test(api_code_fixed_names),
        cmocka_unit_test(api_code_out_of_range_is_internal),
        cmocka_unit_test(api_code_small_buffer),
        cmocka_unit_test(role_names),
        cmocka_unit_test(role_parse),
        cmocka_unit_test(role_parse_unknown),
        cmocka_unit_test(role_round_trip),
        cmocka_unit_test(webhook_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
