/* fuzz_acs.c — libFuzzer target for the Alibaba API's parsers of untrusted
 * input (http/acs_auth.c): the form body, the Authorization header and the
 * rest of a call's claim, and both signature checks. The input is split at
 * its first two '\n' into an Authorization header, a timestamp and a form
 * body. Whatever the bytes, each step either fails with a code and a message
 * or yields parameters and a claim within their bounds. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http/acs_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct hdrs {
    const char *auth, *date;
};

static const char *lookup(void *ctx, const char *name)
{
    const struct hdrs *h = ctx;
    if (!strcasecmp(name, "Authorization"))
        return h->auth;
    if (!strcasecmp(name, "x-acs-date"))
        return h->date;
    if (!strcasecmp(name, "x-acs-content-sha256"))
        return "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    if (!strcasecmp(name, "host") || !strncasecmp(name, "x-acs-", 6))
        return "fuzz";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = cc_strndup((const char *)data, size);
    char *auth = in, *date = "", *body = "";
    char *nl = strchr(in, '\n');
    if (nl) {
        *nl = '\0';
        date = nl + 1;
        char *nl2 = strchr(date, '\n');
        if (nl2) {
            *nl2 = '\0';
            body = nl2 + 1;
        }
    }
    struct cc_acs_params p;
    char why[160] = "";
    cc_acs_params_init(&p);
    if (cc_acs_parse_form(&p, body, strlen(body), why, sizeof why)) {
        if (!why[0])
            __builtin_trap();
    } else {
        if (p.n > CC_ACS_MAX_PARAMS)
            __builtin_trap();
        for (size_t i = 0; i < p.n; i++)
            if (!p.kv[i].key[0] || strlen(p.kv[i].key) > CC_ACS_NAME_MAX)
                __builtin_trap();
    }
    int64_t ms;
    (void)cc_acs_parse_time(date, &ms);
    struct hdrs h = {auth, date};
    struct cc_acs_call call = {"POST", &p, lookup, &h, body, strlen(body)};
    struct cc_acs_claim claim;
    struct cc_acs_error e;
    cc_acs_error_init(&e);
    if (cc_acs_read_claim(&call, -1, &claim, &e) == 0) {
        if (!claim.key_id[0] || !claim.nonce[0])
            __builtin_trap();
        if (cc_acs_signature_ok(&call, &claim, "secret", &e) == 0 && !e.code[0])
            __builtin_trap();
    } else if (!e.code[0] || !e.message.len || e.status < 400) {
        __builtin_trap();
    }
    cc_acs_error_free(&e);
    cc_acs_params_free(&p);
    cc_free(in);
    return 0;
}
