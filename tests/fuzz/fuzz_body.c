/* fuzz_body.c — libFuzzer target for the request-body parser: whatever the
 * bytes, parsing either fails with a named error or yields a contact input
 * whose strings are valid UTF-8 within their bounds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *obj = NULL;
    struct cc_error err;
    struct cc_contact_input in;
    if (cc_json_parse_object((const char *)data, size, &obj, &err) == CC_OK) {
        if (cc_json_contact_input(obj, &in, &err) == CC_OK) {
            const char *s[] = {in.name, in.email, in.mobile, in.id_card, in.language};
            for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
                if (s[i] && (strlen(s[i]) > CC_JSON_MAX_STRING || !cc_utf8_valid(s[i], strlen(s[i]))))
                    __builtin_trap();
            if (in.n_webhooks > CC_WEBHOOKS_MAX)
                __builtin_trap();
        } else if (err.code == CC_OK || !err.message[0]) {
            __builtin_trap();
        }
        json_decref(obj);
    } else if (obj || !err.message[0]) {
        __builtin_trap();
    }
    return 0;
}
