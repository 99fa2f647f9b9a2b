/* test_json_body.c — request bodies: bounds, types, unknown fields, nulls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"
#include "util/util.h"

static enum cc_err parse(const char *body, struct cc_contact_input *in, struct cc_error *err,
                         json_t **obj)
{
    enum cc_err rc = cc_json_parse_object(body, strlen(body), obj, err);
    if (rc)
        return rc;
    return cc_json_contact_input(*obj, in, err);
}

static void expect(const char *body, enum cc_err code, const char *field)
{
    struct cc_contact_input in;
    struct cc_error err;
    json_t *obj = NULL;
    cc_error_clear(&err);
    enum cc_err rc = parse(body, &in, &err, &obj);
    json_decref(obj);
    if (rc != code)
        fail_msg("%s: got %s (%s), want %s", body, cc_strerror(rc), err.message, cc_strerror(code));
    if (field)
        assert_string_equal(err.field, field);
}

static void valid_body(void **state)
{
    (void)state;
    struct cc_contact_input in;
    struct cc_error err;
    json_t *obj = NULL;
    assert_int_equal(parse("{\"name\":\"a\",\"mobile\":\"13312345678\",\"email\":null,"
                           "\"webhooks\":[{\"url\":\"u\",\"secret\":null},{\"url\":\"v\"},"
                           "{\"url\":\"w\",\"secret\":\"s\"}]}", &in, &err, &obj), CC_OK);
    assert_int_equal(in.present, CC_F_NAME | CC_F_MOBILE | CC_F_EMAIL | CC_F_WEBHOOKS);
    assert_string_equal(in.name, "a");
    assert_null(in.email);
    assert_int_equal(in.n_webhooks, 3);
    assert_int_equal(in.webhooks[0].secret_state, CC_SECRET_NULL);
    assert_int_equal(in.webhooks[1].secret_state, CC_SECRET_ABSENT);
    assert_int_equal(in.webhooks[2].secret_state, CC_SECRET_VALUE);
    assert_string_equal(in.webhooks[2].secret, "s");
    json_decref(obj);
}

static void malformed(void **state)
{
    (void)state;
    expect("", CC_ERR_MALFORMED_JSON, NULL);
    expect("{", CC_ERR_MALFORMED_JSON, NULL);
    expect("[]", CC_ERR_MALFORMED_JSON, NULL);
    expect("\"x\"", CC_ERR_MALFORMED_JSON, NULL);
    expect("{\"name\":\"a\",\"name\":\"b\"}", CC_ERR_MALFORMED_JSON, NULL);
    expect("{\"name\":\"\\u0000\"}", CC_ERR_MALFORMED_JSON, NULL);
    expect("{\"name\":\"\xff\"}", CC_ERR_MALFORMED_JSON, NULL);
    expect("{\"a\":[[[[[[[[[[1]]]]]]]]]]}", CC_ERR_MALFORMED_JSON, NULL);
    expect("{\"name\":\"[[[[[[[[[[[[\"}", CC_OK, NULL); /* brackets in strings do not nest */
}

static void wrong_types_and_unknown_fields(void **state)
{
    (void)state;
    expect("{\"name\":5}", CC_ERR_INCORRECT_FORMAT, "Name");
    expect("{\"email\":true}", CC_ERR_INCORRECT_FORMAT, "Email");
    expect("{\"mobile\":[]}", CC_ERR_INCORRECT_FORMAT, "Mobile");
    expect("{\"id_card\":{}}", CC_ERR_INCORRECT_FORMAT, "IdCard");
    expect("{\"language\":1.5}", CC_ERR_INCORRECT_FORMAT, "Language");
    expect("{\"webhooks\":\"x\"}", CC_ERR_INCORRECT_FORMAT, "Webhooks");
    expect("{\"webhooks\":[1]}", CC_ERR_INCORRECT_FORMAT, "Webhooks");
    expect("{\"webhooks\":[{\"url\":1}]}", CC_ERR_INCORRECT_FORMAT, "Webhooks");
    expect("{\"webhooks\":[{\"url\":\"u\",\"token\":1}]}", CC_ERR_UNKNOWN_FIELD, NULL);
    expect("{\"nickname\":\"x\"}", CC_ERR_UNKNOWN_FIELD, NULL);
    expect("{\"webhooks\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}", CC_ERR_LIMIT_EXCEEDED, "Webhooks");
}

static void overlong_string(void **state)
{
    (void)state;
    char body[CC_JSON_MAX_STRING + 64];
    memset(body, 'a', sizeof body);
    memcpy(body, "{\"name\":\"", 9);
    memcpy(body + sizeof body - 3, "\"}", 3);
    expect(body, CC_ERR_INCORRECT_FORMAT, "Name");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_body),
        cmocka_unit_test(malformed),
        cmocka_unit_test(wrong_types_and_unknown_fields),
        cmocka_unit_test(overlong_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
