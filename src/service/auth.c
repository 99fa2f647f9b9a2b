/*
 * auth.c — checks access keys. The secret is stored encrypted (the Alibaba
 * signatures need it back), decrypted here and compared in constant time.
 *
 * Every request authenticates, so each thread remembers the keys it has
 * verified (the SHA-256 of the secret, never the secret) together with the
 * store's key generation at that time. Any change to any access key — a key
 * disabled by the CLI in another process included — moves the generation
 * and so empties the cache on its next use: a disabled key is refused at
 * once. An expired key is refused the moment it expires, cached or not.
 *
 * Each key's last use is written at most once a minute (process-wide here,
 * and by the store's condition across instances), so that authenticating
 * stays a read on the hot path.
 */
#include <pthread.h>
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
    int64_t expires_at;
};

static _Thread_local struct cached_key cache[CACHE_SLOTS];
static _Thread_local unsigned cache_next;
/* The expiry of the key the last successful proof on this thread found, for
 * the cache. */
static _Thread_local int64_t last_expires_at;

static struct cached_key *cache_find(struct cc_service *svc, const char *key_id,
                                     int64_t generation)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].svc == svc && cache[i].generation == generation &&
            !strcmp(cache[i].id, key_id))
            return &cache[i];
    return NULL;
}

/* When each key's use was last written, by this process: a small table
 * hashed by key id; a key that loses its slot is written once more. */
#define USE_SLOTS 256
static pthread_mutex_t use_mu = PTHREAD_MUTEX_INITIALIZER;
struct key_use {
    char id[CC_KEY_ID_LEN + 1];
    int64_t at;
};
static struct key_use use_table[USE_SLOTS];

static int use_due(const char *key_id, int64_t now)
{
    unsigned h = 2166136261u;
    for (const char *p = key_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    int due;
    pthread_mutex_lock(&use_mu);
    struct key_use *u = &use_table[h % USE_SLOTS];
    due = strcmp(u->id, key_id) != 0 || now - u->at >= CC_KEY_LAST_USED_EVERY_MS;
    if (due) {
        cc_strlcpy(u->id, key_id, sizeof u->id);
        u->at = now;
    }
    pthread_mutex_unlock(&use_mu);
    return due;
}

struct touch_op {
    const char *key_id;
    int64_t now;
};

static enum cc_err touch_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct touch_op *op = arg;
    return cc_tx_key_touch(tx, op->key_id, op->now, CC_KEY_LAST_USED_EVERY_MS, err);
}

/* Records a successful use of key_id (at most once a minute). A failure to
 * write it does not fail the request. */
static void note_use(struct cc_service *svc, const char *key_id)
{
    struct touch_op op = {key_id, cc_now_ms()};
    if (!use_due(key_id, op.now))
        return;
    struct cc_error err;
    if (cc_store_write(svc->store, touch_tx, &op, &err))
        cc_log(CC_LOG_WARN, "cannot record an access key's use", "error", err.message, NULL);
}

/* Failed proofs of each key, by this process: a small table hashed by key
 * id, so that a flood of wrong signatures writes at most one audit entry a
 * minute per key (with how many failures it stands for), not one each. */
struct key_failures {
    char id[CC_KEY_ID_LEN + 1];
    int64_t at;      /* when the last entry was written */
    int64_t pending; /* failures since */
};
static struct key_failures fail_table[USE_SLOTS];

/* Counts a failure of key_id; when an entry is due, how many failures it
 * stands for, else 0. */
static int64_t failure_due(const char *key_id, int64_t now)
{
    unsigned h = 2166136261u;
    for (const char *p = key_id; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    int64_t n = 0;
    pthread_mutex_lock(&use_mu);
    struct key_failures *f = &fail_table[h % USE_SLOTS];
    if (strcmp(f->id, key_id) != 0) {
        memset(f, 0, sizeof *f);
        cc_strlcpy(f->id, key_id, sizeof f->id);
    }
    f->pending++;
    if (!f->at || now - f->at >= CC_KEY_LAST_USED_EVERY_MS) {
        n = f->pending;
        f->pending = 0;
        f->at = now;
    }
    pthread_mutex_unlock(&use_mu);
    return n;
}

struct failure_op {
    const struct cc_access_key *k;
    const struct cc_origin *origin;
    const char *reason;
    int64_t count;
};

static enum cc_err failure_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct failure_op *op = arg;
    struct cc_caller who;
    svc_caller_system(&who, op->k->account_id, op->k->id);
    if (op->origin)
        who.origin = *op->origin;
    json_t *ch = json_object();
    svc_change_str(ch, "reason", SVC_PII_NONE, NULL, op->reason);
    svc_change_int(ch, "failures", 0, 0, 1, op->count);
    return svc_audit_ref(tx, &who, CC_AUDIT_ACCESS_KEY_AUTH_FAILED, op->k->id, ch, err);
}

/* A request that named an existing key and failed to prove it, or used a
 * disabled or expired one: audited in the key's account, at most once a
 * minute per key. A failure to write it does not change the answer. */
static void note_failure(struct cc_service *svc, const struct cc_access_key *k,
                         const struct cc_origin *origin, const char *reason)
{
    struct failure_op op = {k, origin, reason, failure_due(k->id, cc_now_ms())};
    struct cc_error err;
    if (op.count && cc_store_write(svc->store, failure_tx, &op, &err))
        cc_log(CC_LOG_WARN, "cannot audit an access key's failed use", "error", err.message,
               NULL);
}

static int expired(int64_t expires_at)
{
    return expires_at && expires_at <= cc_now_ms();
}

/* The one check of an access key behind every way of proving it: looks the
 * key up, decrypts its secret, asks proof() whether the request proves it
 * holds that secret, and only then looks at whether the key is disabled (so
 * a request without the secret learns nothing about the key's state). */
enum cc_err cc_auth_access_key_proof(struct cc_service *svc, const char *key_id,
                                     cc_auth_proof_fn proof, void *arg, struct cc_caller *out,
                                     enum cc_auth_failure *why, struct cc_error *err)
{
    static const char *const bad = N_("The access key id or secret is wrong.");
    struct cc_access_key k;
    struct cc_error serr;
    enum cc_auth_failure ignored;
    if (!why)
        why = &ignored;
    *why = CC_AUTH_NO_SUCH_KEY;
    size_t idlen = strlen(key_id);
    if (idlen == 0 || idlen > CC_KEY_ID_LEN)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "%s", bad);
    /* Key ids are printable ASCII: anything else names no key (and is not
     * sent to a database that refuses text that is not UTF-8). */
    for (const char *p = key_id; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "%s", bad);
    enum cc_err rc = cc_store_key_get(svc->store, key_id, &k, &serr);
    if (rc == CC_ERR_NOT_FOUND)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "%s", bad);
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
    const struct cc_origin *origin = out ? &out->origin : NULL;
    if (!ok) {
        *why = CC_AUTH_BAD_PROOF;
        note_failure(svc, &k, origin, "wrong secret or signature");
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "%s", bad);
    }
    if (k.disabled_at) {
        *why = CC_AUTH_DISABLED;
        note_failure(svc, &k, origin, "disabled key");
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "The access key is disabled.");
    }
    if (expired(k.expires_at)) {
        *why = CC_AUTH_DISABLED;
        note_failure(svc, &k, origin, "expired key");
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "The access key has expired.");
    }
    *why = CC_AUTH_OK;
    out->account_id = k.account_id;
    out->role = k.role;
    cc_strlcpy(out->key_id, k.id, sizeof out->key_id);
    last_expires_at = k.expires_at;
    note_use(svc, k.id);
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
    static const char *const bad = N_("The access key id or secret is wrong.");
    size_t idlen = strlen(key_id);
    if (idlen == 0 || idlen > CC_KEY_ID_LEN)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "%s", bad);
    /* Key ids are printable ASCII: anything else names no key (and is not
     * sent to a database that refuses text that is not UTF-8). */
    for (const char *p = key_id; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "%s", bad);
    uint8_t given[32];
    cc_sha256(secret, secret_len, given);
    int64_t generation = -1;
    struct cc_error serr;
    if (cc_store_key_generation(svc->store, &generation, &serr))
        generation = -1;
    struct cached_key *hit = generation >= 0 ? cache_find(svc, key_id, generation) : NULL;
    if (hit && cc_ct_equal(hit->secret_hash, given, sizeof given) && !expired(hit->expires_at)) {
        out->account_id = hit->account_id;
        out->role = hit->role;
        cc_strlcpy(out->key_id, hit->id, sizeof out->key_id);
        note_use(svc, hit->id);
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
        slot->expires_at = last_expires_at;
    }
    return CC_OK;
}
