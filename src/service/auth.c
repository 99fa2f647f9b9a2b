/*
 * auth.c — checks access keys. The secret is stored encrypted (the Alibaba
 * signatures need it back), decrypted here and compared in constant time.
 *
 * Every request authenticates, so each thread remembers the keys it has
 * verified (the SHA-256 of the secret, never the secret) together with the
 * database's data_version at that time. Any commit anywhere — a key disabled
 * by the CLI in another process included — changes data_version and so
 * empties the cache on its next use: a disabled key is refused at once.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

#define CACHE_SLOTS 16

struct cached_key {
    struct cc_service *svc;
    int64_t version;
    char id[CC_KEY_ID_LEN + 1];
    uint8_t secret_hash[32];
    int64_t account_id;
    enum cc_role role;
};

static _Thread_local struct cached_key cache[CACHE_SLOTS];
static _Thread_local unsigned cache_next;

static struct cached_key *cache_find(struct cc_service *svc, const char *key_id, int64_t version)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].svc == svc && cache[i].version == version && !strcmp(cache[i].id, key_id))
            return &cache[i];
    return NULL;
}

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
    uint8_t given[32];
    cc_sha256(secret, secret_len, given);
    int64_t version = -1;
    if (cc_store_data_version(svc->store, &version, &serr))
        version = -1;
    struct cached_key *hit = version >= 0 ? cache_find(svc, key_id, version) : NULL;
    if (hit) {
        if (!cc_ct_equal(hit->secret_hash, given, sizeof given))
            return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, bad);
        out->account_id = hit->account_id;
        out->role = hit->role;
        cc_strlcpy(out->key_id, hit->id, sizeof out->key_id);
        return CC_OK;
    }
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
    if (version >= 0) { /* only verified, enabled keys are remembered */
        struct cached_key *slot = &cache[cache_next++ % CACHE_SLOTS];
        slot->svc = svc;
        slot->version = version;
        cc_strlcpy(slot->id, k.id, sizeof slot->id);
        memcpy(slot->secret_hash, given, sizeof given);
        slot->account_id = k.account_id;
        slot->role = k.role;
    }
    return CC_OK;
}
