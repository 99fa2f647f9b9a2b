/*
 * auth.c — checks access keys. The secret is stored encrypted (the Alibaba
 * signatures need it back), decrypted here and compared in constant time.
 *
 * Every request authenticates, so each thread remembers the keys it has
 * verified (the SHA-256 of the secret, never the secret) together with the
 * store's key generation at that time. Any change to any access key — a key
 * disabled by the CLI in another process included — moves the generation
 * and so empties the cache on its next use: a disabled key is refused at
 * once.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

#define CACHE_SLOTS 16

struct cached_key {
    struct cc_service *svc;
    int64_t generation;
    char id[CC_KEY_ID_LEN + 1];
    uint8_t secret_hash[32];
    int64_t account_id;
    enum cc_role role;
};

static _Thread_local struct cached_key cache[CACHE_SLOTS];
static _Thread_local unsigned cache_next;

static struct cached_key *cache_find(struct cc_service *svc, const char *key_id,
                                     int64_t generation)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].svc == svc && cache[i].generation == generation &&
            !strcmp(cache[i].id, key_id))
            return &cache[i];
    return NULL;
}

/* The one check of an access key behind every way of proving it: looks the
 * key up, decrypts its secret, asks proof() whether the request proves it
 * holds that secret, and only then looks at whether the key is disabled (so
 * a request without the secret learns nothing about the key's state). */
enum cc_err cc_auth_access_key_proof(struct cc_service *svc, const char *key_id,
                                     cc_auth_proof_fn proof, void *arg, struct cc_caller *out,
                                     enum cc_auth_failure *why, struct cc_error *err)
{
    static const char bad[] = "The access key id or secret is wrong.";
    struct cc_access_key k;
    struct cc_error serr;
    enum cc_auth_failure ignored;
    if (!why)
        why = &ignored;
    *why = CC_AUTH_NO_SUCH_KEY;
    size_t idlen = strlen(key_id);
    if (idlen == 0 || idlen > CC_KEY_ID_LEN)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, bad);
    enum cc_err rc = cc_store_key_get(svc->store, key_id, &k, &serr);
    if (rc == CC_ERR_NOT_FOUND)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, bad);
    if (rc) {
        *why = CC_AUTH_ERROR;
        if (err)
            *err = serr;
        return rc;
    }
    char plain[CC_ENC_MAX];
    if (svc_open(svc, AAD_ACCESS_KEY, k.secret_enc, k.secret_enc_len, plain, sizeof plain, err)) {
        *why = CC_AUTH_ERROR;
        return CC_ERR_INTERNAL;
    }
    int ok = proof(plain, strlen(plain), arg);
    OPENSSL_cleanse(plain, sizeof plain);
    if (!ok) {
        *why = CC_AUTH_BAD_PROOF;
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, bad);
    }
    if (k.disabled_at) {
        *why = CC_AUTH_DISABLED;
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "The access key is disabled.");
    }
    *why = CC_AUTH_OK;
    out->account_id = k.account_id;
    out->role = k.role;
    cc_strlcpy(out->key_id, k.id, sizeof out->key_id);
    return CC_OK;
}

struct given_secret {
    const char *secret;
    size_t len;
};

static int secret_equal(const char *secret, size_t len, void *arg)
{
    const struct given_secret *g = arg;
    return len == g->len && cc_ct_equal(secret, g->secret, len);
}

enum cc_err cc_auth_access_key(struct cc_service *svc, const char *key_id,
                               const char *secret, size_t secret_len,
                               struct cc_caller *out, struct cc_error *err)
{
    static const char bad[] = "The access key id or secret is wrong.";
    size_t idlen = strlen(key_id);
    if (idlen == 0 || idlen > CC_KEY_ID_LEN)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, bad);
    uint8_t given[32];
    cc_sha256(secret, secret_len, given);
    int64_t generation = -1;
    struct cc_error serr;
    if (cc_store_key_generation(svc->store, &generation, &serr))
        generation = -1;
    struct cached_key *hit = generation >= 0 ? cache_find(svc, key_id, generation) : NULL;
    if (hit) {
        if (!cc_ct_equal(hit->secret_hash, given, sizeof given))
            return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, bad);
        out->account_id = hit->account_id;
        out->role = hit->role;
        cc_strlcpy(out->key_id, hit->id, sizeof out->key_id);
        return CC_OK;
    }
    struct given_secret g = {secret, secret_len};
    enum cc_err rc = cc_auth_access_key_proof(svc, key_id, secret_equal, &g, out, NULL, err);
    if (rc)
        return rc;
    if (generation >= 0) { /* only verified, enabled keys are remembered */
        struct cached_key *slot = &cache[cache_next++ % CACHE_SLOTS];
        slot->svc = svc;
        slot->generation = generation;
        cc_strlcpy(slot->id, out->key_id, sizeof slot->id);
        memcpy(slot->secret_hash, given, sizeof given);
        slot->account_id = out->account_id;
        slot->role = out->role;
    }
    return CC_OK;
}
