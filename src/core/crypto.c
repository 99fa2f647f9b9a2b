/*
 * crypto.c — AES-256-GCM for secrets and ID numbers at rest, SHA-256, the
 * HMACs used by the signing schemes, base64 and hex. All from OpenSSL; this
 * file only fixes the formats.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/core.h"

/* Version 1 (before key rotation): 1 | nonce | ciphertext | tag, sealed with
 * the one key a database had. Version 2: 2 | key tag | nonce | ciphertext |
 * tag: the value says which key sealed it. */
#define AEAD_V1 1
#define AEAD_V2 2
#define AEAD_V1_OVERHEAD 29

/* AES-256-GCM fetched from the provider once, and one cipher context per
 * thread: EVP_aes_256_gcm() in an init makes OpenSSL fetch the cipher again
 * (a lookup under the provider store's lock, which the dispatcher's threads
 * opening robot URLs queued on), and a context made and freed each time was
 * two allocations more. The context stays keyed for its last key and
 * direction: a call with the same key sets only the nonce (a dispatcher opens
 * every robot URL of a batch with the one master key; the key schedule was
 * more than half of an open). */
struct gcm_thread {
    EVP_CIPHER_CTX *ctx;
    int keyed;                    /* 0 none, 1 for sealing, 2 for opening */
    uint8_t key[CC_KEY_LEN];      /* the key it is keyed with */
};

static EVP_CIPHER *gcm;
static pthread_key_t gcm_key;
static pthread_once_t gcm_once = PTHREAD_ONCE_INIT;

static void gcm_thread_free(void *p)
{
    struct gcm_thread *g = p;
    EVP_CIPHER_CTX_free(g->ctx); /* frees the key schedule cleansed */
    OPENSSL_cleanse(g, sizeof *g);
    OPENSSL_free(g);
}

static void gcm_init_once(void)
{
    if (pthread_key_create(&gcm_key, gcm_thread_free) == 0)
        gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
}

/* The calling thread's context, NULL when it cannot have one. */
static struct gcm_thread *gcm_thread(void)
{
    pthread_once(&gcm_once, gcm_init_once);
    if (!gcm)
        return NULL;
    struct gcm_thread *g = pthread_getspecific(gcm_key);
    if (g)
        return g;
    if (!(g = OPENSSL_zalloc(sizeof *g)))
        return NULL;
    if (!(g->ctx = EVP_CIPHER_CTX_new()) || pthread_setspecific(gcm_key, g)) {
        EVP_CIPHER_CTX_free(g->ctx);
        OPENSSL_free(g);
        return NULL;
    }
    return g;
}

/* Keyed for nothing: the next call keys g afresh. */
static void gcm_unkey(struct gcm_thread *g)
{
    g->keyed = 0;
    OPENSSL_cleanse(g->key, sizeof g->key);
}

/* After a call that failed: the thread's context is keyed afresh by the
 * next, whatever state the failure left it in. */
static void gcm_forget(void)
{
    struct gcm_thread *g = gcm ? pthread_getspecific(gcm_key) : NULL;
    if (g)
        gcm_unkey(g);
}

/* A context keyed with key for sealing (enc 1) or opening (enc 0), its nonce
 * set: the thread's, keyed afresh only when its key or direction differs;
 * when the thread cannot have one, a context of the call's own (*own = 1,
 * for the caller to free). NULL when none can be made or keyed. */
static EVP_CIPHER_CTX *gcm_ctx(const uint8_t key[CC_KEY_LEN], const uint8_t nonce[12], int enc,
                               int *own)
{
    struct gcm_thread *g = gcm_thread();
    *own = g == NULL;
    if (!g) {
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        if (ctx && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, enc) != 1) {
            EVP_CIPHER_CTX_free(ctx);
            ctx = NULL;
        }
        return ctx;
    }
    int want = enc ? 1 : 2;
    if (g->keyed == want && CRYPTO_memcmp(g->key, key, CC_KEY_LEN) == 0) {
        if (EVP_CipherInit_ex(g->ctx, NULL, NULL, NULL, nonce, enc) == 1)
            return g->ctx;
    } else if (EVP_CipherInit_ex(g->ctx, gcm, NULL, key, nonce, enc) == 1) {
        g->keyed = want;
        memcpy(g->key, key, CC_KEY_LEN);
        return g->ctx;
    }
    gcm_unkey(g); /* failed: keyed afresh by the next call */
    return NULL;
}

void cc_key_fingerprint(const uint8_t key[CC_KEY_LEN], uint8_t out[16])
{
    static const char label[] = "certcontacts master key id";
    uint8_t mac[32];
    unsigned int len = sizeof mac;
    HMAC(EVP_sha256(), key, CC_KEY_LEN, (const uint8_t *)label, sizeof label - 1, mac, &len);
    memcpy(out, mac, 16);
    OPENSSL_cleanse(mac, sizeof mac);
}

int cc_aead_key_tag(const uint8_t *in, size_t inlen, const uint8_t **tag)
{
    if (inlen < CC_AEAD_OVERHEAD || in[0] != AEAD_V2)
        return 0;
    *tag = in + 1;
    return 1;
}

enum cc_err cc_aead_seal(const uint8_t key[CC_KEY_LEN], const uint8_t key_tag[CC_KEY_TAG_LEN],
                         const uint8_t nonce[12], const char *aad, const void *pt, size_t n,
                         uint8_t *out, size_t outsz, size_t *outlen)
{
    enum cc_err rc = CC_ERR_INTERNAL;
    int len = 0;
    if (outsz < n + CC_AEAD_OVERHEAD || n > (1u << 20))
        return CC_ERR_INTERNAL;
    int own;
    EVP_CIPHER_CTX *ctx = gcm_ctx(key, nonce, 1, &own);
    if (!ctx)
        return CC_ERR_INTERNAL;
    const size_t h = 1 + CC_KEY_TAG_LEN + 12; /* header: version, key tag, nonce */
    out[0] = AEAD_V2;
    memcpy(out + 1, key_tag, CC_KEY_TAG_LEN);
    memcpy(out + 1 + CC_KEY_TAG_LEN, nonce, 12);
    /* The key tag is authenticated too: a value cannot be passed off as
     * sealed by another key. */
    if (EVP_EncryptUpdate(ctx, NULL, &len, out, (int)(1 + CC_KEY_TAG_LEN)) != 1)
        goto out;
    if (aad && EVP_EncryptUpdate(ctx, NULL, &len, (const uint8_t *)aad, (int)strlen(aad)) != 1)
        goto out;
    if (EVP_EncryptUpdate(ctx, out + h, &len, pt, (int)n) != 1)
        goto out;
    int fin = 0;
    if (EVP_EncryptFinal_ex(ctx, out + h + len, &fin) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + h + n) != 1)
        goto out;
    *outlen = n + CC_AEAD_OVERHEAD;
    rc = CC_OK;
out:
    if (own)
        EVP_CIPHER_CTX_free(ctx);
    else if (rc)
        gcm_forget();
    return rc;
}

enum cc_err cc_aead_open(const uint8_t key[CC_KEY_LEN], const char *aad,
                         const uint8_t *in, size_t inlen,
                         char *out, size_t outsz, size_t *outlen)
{
    enum cc_err rc = CC_ERR_INTERNAL;
    int len = 0, fin = 0;
    size_t h, overhead;
    if (inlen >= 1 && in[0] == AEAD_V1)
        h = 13, overhead = AEAD_V1_OVERHEAD;
    else if (inlen >= 1 && in[0] == AEAD_V2)
        h = 1 + CC_KEY_TAG_LEN + 12, overhead = CC_AEAD_OVERHEAD;
    else
        return CC_ERR_INTERNAL;
    if (inlen < overhead)
        return CC_ERR_INTERNAL;
    size_t n = inlen - overhead;
    if (outsz < n + 1)
        return CC_ERR_INTERNAL;
    int own;
    EVP_CIPHER_CTX *ctx = gcm_ctx(key, in + h - 12, 0, &own);
    if (!ctx)
        return CC_ERR_INTERNAL;
    if (in[0] == AEAD_V2 &&
        EVP_DecryptUpdate(ctx, NULL, &len, in, (int)(1 + CC_KEY_TAG_LEN)) != 1)
        goto out;
    if (aad && EVP_DecryptUpdate(ctx, NULL, &len, (const uint8_t *)aad, (int)strlen(aad)) != 1)
        goto out;
    if (EVP_DecryptUpdate(ctx, (uint8_t *)out, &len, in + h, (int)n) != 1)
        goto out;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + h + n)) != 1)
        goto out;
    if (EVP_DecryptFinal_ex(ctx, (uint8_t *)out + len, &fin) != 1)
        goto out;
    out[n] = '\0';
    if (outlen)
        *outlen = n;
    rc = CC_OK;
out:
    if (rc)
        OPENSSL_cleanse(out, outsz);
    if (own)
        EVP_CIPHER_CTX_free(ctx);
    else if (rc)
        gcm_forget();
    return rc;
}

/* SHA-256 fetched from the provider once: SHA256() fetches it again on
 * every call (a lookup under a lock), and a request hashes its secret. */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void cc_sha256(const void *data, size_t n, uint8_t out[32])
{
    pthread_once(&sha256_once, sha256_fetch);
    if (!sha256_md || !EVP_Digest(data, n, out, NULL, sha256_md, NULL))
        SHA256(data, n, out);
}

void cc_sha256_hex(const void *data, size_t n, char out[65])
{
    uint8_t d[32];
    cc_sha256(data, n, d);
    cc_hex(d, sizeof d, out);
}

/* HMAC through one MAC context per thread and digest, made once and keyed
 * afresh by each call: HMAC() fetches the MAC and its digest from the
 * provider, and makes and frees a context, on every call (1.2 µs against
 * 0.4 µs for a 64-byte message; a contact's create hashes its addresses). */
enum { HMAC_SHA256, HMAC_SHA1, HMAC_DIGESTS };

static EVP_MAC *hmac_mac;
static pthread_key_t hmac_key;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;

static void hmac_ctxs_free(void *p)
{
    EVP_MAC_CTX **ctx = p;
    for (int i = 0; i < HMAC_DIGESTS; i++)
        EVP_MAC_CTX_free(ctx[i]);
    OPENSSL_free(ctx);
}

static void hmac_init_once(void)
{
    if (pthread_key_create(&hmac_key, hmac_ctxs_free) == 0)
        hmac_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* The calling thread's context for digest d, NULL when one cannot be made. */
static EVP_MAC_CTX *hmac_ctx(int d)
{
    static const char *const names[HMAC_DIGESTS] = {"SHA256", "SHA1"};
    pthread_once(&hmac_once, hmac_init_once);
    if (!hmac_mac)
        return NULL;
    EVP_MAC_CTX **ctx = pthread_getspecific(hmac_key);
    if (!ctx) {
        if (!(ctx = OPENSSL_zalloc(HMAC_DIGESTS * sizeof *ctx)))
            return NULL;
        if (pthread_setspecific(hmac_key, ctx)) {
            OPENSSL_free(ctx);
            return NULL;
        }
    }
    if (!ctx[d]) {
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)names[d], 0),
            OSSL_PARAM_construct_end()};
        EVP_MAC_CTX *c = EVP_MAC_CTX_new(hmac_mac);
        if (!c || !EVP_MAC_CTX_set_params(c, params)) {
            EVP_MAC_CTX_free(c);
            return NULL;
        }
        ctx[d] = c;
    }
    return ctx[d];
}

static void hmac(int d, const EVP_MD *md, const void *key, size_t klen, const void *data,
                 size_t n, uint8_t *out, size_t outlen)
{
    static const uint8_t empty;
    EVP_MAC_CTX *c = hmac_ctx(d);
    size_t len = 0;
    if (!key) /* never NULL to EVP_MAC_init: that keeps the thread's last key */
        key = &empty, klen = 0;
    if (c && EVP_MAC_init(c, key, klen, NULL) && EVP_MAC_update(c, data, n) &&
        EVP_MAC_final(c, out, &len, outlen) && len == outlen)
        return;
    unsigned int ulen = (unsigned int)outlen;
    HMAC(md, key, (int)klen, data, n, out, &ulen);
}

void cc_hmac_sha256(const void *key, size_t klen, const void *data, size_t n, uint8_t out[32])
{
    hmac(HMAC_SHA256, EVP_sha256(), key, klen, data, n, out, 32);
}

void cc_hmac_sha1(const void *key, size_t klen, const void *data, size_t n, uint8_t out[20])
{
    hmac(HMAC_SHA1, EVP_sha1(), key, klen, data, n, out, 20);
}

size_t cc_base64_encode(const void *in, size_t n, char *out, size_t outsz)
{
    if (outsz < 4 * ((n + 2) / 3) + 1)
        return 0;
    return (size_t)EVP_EncodeBlock((unsigned char *)out, in, (int)n);
}

long cc_base64_decode(const char *in, size_t n, uint8_t *out, size_t outsz)
{
    if (n % 4 || outsz < 3 * (n / 4) + 1)
        return -1;
    if (n == 0)
        return 0;
    int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (len < 0)
        return -1;
    /* EVP_DecodeBlock counts padding as zero bytes. */
    if (in[n - 1] == '=')
        len--;
    if (in[n - 2] == '=')
        len--;
    return len;
}

void cc_hex(const uint8_t *in, size_t n, char *out)
{
    static const char hexd[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexd[in[i] >> 4];
        out[2 * i + 1] = hexd[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int cc_ct_equal(const void *a, const void *b, size_t n)
{
    return CRYPTO_memcmp(a, b, n) == 0;
}
