/*
 * auth.c — checks access keys. The secret is stored encrypted (the Alibaba
 * signatures need it back), decrypted here and compared in constant time.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

enum cc_err cc_auth_access_key(struct cc_service *svc, const char *key_id,
                               const char *secret, size_t secret_len,
                               struct cc_caller *out, struct cc_error *err)
{
    static const char bad[] = "The access key id or secret is wrong.";
    struct cc_access_key k;
    struct cc_error serr;
    size_t idlen = strlen(key_id);
    if (idlen == 0 || idlen > CC_KEY_ID_LEN)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, bad);
    enum cc_err rc = cc_store_key_get(svc->store, key_id, &k, &serr);
    if (rc == CC_ERR_NOT_FOUND)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, bad);
    if (rc) {
        if (err)
            *err = serr;
        return rc;
    }
    char plain[CC_ENC_MAX];
    if (svc_open(svc, AAD_ACCESS_KEY, k.secret_enc, k.secret_enc_len, plain, sizeof plain, err))
        return CC_ERR_INTERNAL;
    size_t plen = strlen(plain);
    int ok = plen == secret_len && cc_ct_equal(plain, secret, plen);
    OPENSSL_cleanse(plain, sizeof plain);
    if (!ok)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, bad);
    if (k.disabled_at)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "The access key is disabled.");
    out->account_id = k.account_id;
    out->role = k.role;
    cc_strlcpy(out->key_id, k.id, sizeof out->key_id);
    return CC_OK;
}
