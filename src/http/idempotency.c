/*
 * idempotency.c — the one idempotency mechanism of both APIs: REST v1's
 * Idempotency-Key header and the Alibaba API's ClientToken parameter are
 * read by the same check (one length limit, one character rule, one error)
 * and reach the service the same way, as a key and the hash of the request
 * it was first used with (cc_contact_create). The service keeps the key per
 * account and answers a repeat with the first result.
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

enum cc_err cc_idem_parse(const char *raw, const char *ns, struct cc_idem *out,
                          struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    if (!raw)
        return CC_OK;
    size_t n = strlen(raw);
    int ok = n > 0 && n <= CC_IDEM_KEY_MAX && strlen(ns) <= CC_IDEM_NS_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = raw[i] >= 0x21 && raw[i] <= 0x7e;
    if (!ok)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "IdempotencyKey",
                            "The idempotency key must be 1 to %d printable ASCII characters.",
                            CC_IDEM_KEY_MAX);
    snprintf(out->buf, sizeof out->buf, "%s%s", ns, raw);
    out->key = out->buf;
    return CC_OK;
}

void cc_idem_set_request(struct cc_idem *idem, const char *canon, size_t len)
{
    if (idem->key)
        cc_sha256_hex(canon ? canon : "", canon ? len : 0, idem->hash);
}
