/*
 * acme_jws.c — the keys and signatures of certcontacts' ACME client: key
 * generation (ECDSA P-256 by default, RSA on request), the public JWK and
 * its thumbprint (RFC 7638), JWS with ES256 (RFC 7518 3.4: the raw r || s,
 * not DER), the external account binding (HS256) and CSRs. All through
 * OpenSSL's EVP interface; JSON through jansson.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "service/acme_int.h"
#include "util/util.h"

char *acme_b64url(const void *in, size_t n)
{
    size_t cap = 4 * ((n + 2) / 3) + 1;
    char *out = cc_malloc(cap);
    size_t len = cc_base64_encode(in, n, out, cap);
    size_t j = 0;
    for (size_t i = 0; i < len; i++) {
        char c = out[i];
        if (c == '=')
            break;
        out[j++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[j] = '\0';
    return out;
}

/* base64url (no padding) of in into out (outsz); the length or -1. */
static long b64url_decode(const char *in, uint8_t *out, size_t outsz)
{
    size_t n = strlen(in);
    if (n > 4096)
        return -1;
    char tmp[4100];
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = in[i];
        if (c == '+' || c == '/' || c == '=')
            return -1;
        tmp[j++] = c == '-' ? '+' : c == '_' ? '/' : c;
    }
    while (j % 4)
        tmp[j++] = '=';
    return cc_base64_decode(tmp, j, out, outsz);
}

char *acme_key_generate(const char *type)
{
    EVP_PKEY *k = NULL;
    if (!type || !type[0] || strcmp(type, "ec256") == 0)
        k = EVP_EC_gen("P-256");
    else if (strcmp(type, "rsa2048") == 0)
        k = EVP_RSA_gen(2048);
    else if (strcmp(type, "rsa3072") == 0)
        k = EVP_RSA_gen(3072);
    else if (strcmp(type, "rsa4096") == 0)
        k = EVP_RSA_gen(4096);
    if (!k)
        return NULL;
    BIO *b = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
        char *p = NULL;
        long len = BIO_get_mem_data(b, &p);
        out = cc_malloc((size_t)len + 1);
        memcpy(out, p, (size_t)len);
        out[len] = '\0';
    }
    BIO_free(b); /* a memory BIO's buffer: cleared by OpenSSL only on BIO_clear; short-lived */
    EVP_PKEY_free(k);
    return out;
}

EVP_PKEY *acme_key_load(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return k;
}

/* The big-number parameter name of k as 32 bytes, base64url. */
static char *ec_coord(EVP_PKEY *k, const char *name)
{
    BIGNUM *bn = NULL;
    if (!EVP_PKEY_get_bn_param(k, name, &bn))
        return NULL;
    uint8_t buf[32];
    char *out = BN_bn2binpad(bn, buf, 32) == 32 ? acme_b64url(buf, 32) : NULL;
    BN_free(bn);
    return out;
}

json_t *acme_jwk(EVP_PKEY *k)
{
    char *x = ec_coord(k, OSSL_PKEY_PARAM_EC_PUB_X);
    char *y = ec_coord(k, OSSL_PKEY_PARAM_EC_PUB_Y);
    json_t *o = NULL;
    if (x && y)
        o = json_pack("{s:s, s:s, s:s, s:s}", "crv", "P-256", "kty", "EC", "x", x, "y", y);
    cc_free(x);
    cc_free(y);
    return o;
}

int acme_thumbprint(EVP_PKEY *k, char out[44])
{
    out[0] = '\0';
    json_t *jwk = acme_jwk(k);
    char *s = jwk ? json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(jwk);
    if (!s)
        return -1;
    uint8_t md[32];
    SHA256((const unsigned char *)s, strlen(s), md);
    free(s);
    char *t = acme_b64url(md, sizeof md);
    cc_strlcpy(out, t, 44);
    cc_free(t);
    return 0;
}

/* ES256 over data: the raw 64-byte r || s, base64url; NULL on failure. */
static char *es256(EVP_PKEY *k, const char *data)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char der[80];
    size_t dlen = sizeof der;
    char *out = NULL;
    if (ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) == 1 &&
        EVP_DigestSign(ctx, der, &dlen, (const unsigned char *)data, strlen(data)) == 1) {
        const unsigned char *p = der;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
        uint8_t raw[64];
        if (sig && BN_bn2binpad(ECDSA_SIG_get0_r(sig), raw, 32) == 32 &&
            BN_bn2binpad(ECDSA_SIG_get0_s(sig), raw + 32, 32) == 32)
            out = acme_b64url(raw, sizeof raw);
        ECDSA_SIG_free(sig);
    }
    EVP_MD_CTX_free(ctx);
    return out;
}

/* The flattened JWS of protected header h (consumed) and payload text. */
static char *jws_finish(json_t *h, const char *payload, char *(*sign)(void *, const char *),
                        void *key)
{
    char *hs = json_dumps(h, JSON_COMPACT);
    json_decref(h);
    if (!hs)
        return NULL;
    char *h64 = acme_b64url(hs, strlen(hs));
    free(hs);
    char *p64 = acme_b64url(payload, strlen(payload));
    size_t n = strlen(h64) + strlen(p64) + 2;
    char *input = cc_malloc(n);
    snprintf(input, n, "%s.%s", h64, p64);
    char *sig = sign(key, input);
    char *out = NULL;
    if (sig) {
        json_t *o = json_pack("{s:s, s:s, s:s}", "protected", h64, "payload", p64, "signature",
                              sig);
        out = o ? json_dumps(o, JSON_COMPACT) : NULL;
        json_decref(o);
    }
    cc_free(sig);
    cc_free(input);
    cc_free(h64);
    cc_free(p64);
    return out;
}

static char *sign_es256(void *k, const char *data)
{
    return es256(k, data);
}

char *acme_jws(EVP_PKEY *k, const char *kid, const char *nonce, const char *url,
               const char *payload)
{
    json_t *h = json_pack("{s:s, s:s, s:s}", "alg", "ES256", "nonce", nonce, "url", url);
    if (!h)
        return NULL;
    if (kid) {
        json_object_set_new(h, "kid", json_string(kid));
    } else {
        json_t *jwk = acme_jwk(k);
        if (!jwk) {
            json_decref(h);
            return NULL;
        }
        json_object_set_new(h, "jwk", jwk);
    }
    return jws_finish(h, payload ? payload : "", sign_es256, k);
}

struct hmac_key {
    uint8_t key[512];
    size_t len;
};

static char *sign_hs256(void *arg, const char *data)
{
    struct hmac_key *hk = arg;
    uint8_t mac[32];
    unsigned int len = sizeof mac;
    if (!HMAC(EVP_sha256(), hk->key, (int)hk->len, (const unsigned char *)data, strlen(data),
              mac, &len))
        return NULL;
    return acme_b64url(mac, len);
}

json_t *acme_eab(const char *eab_kid, const char *mac_key_b64url, EVP_PKEY *account,
                 const char *url)
{
    struct hmac_key hk;
    long n = b64url_decode(mac_key_b64url, hk.key, sizeof hk.key);
    if (n <= 0)
        return NULL;
    hk.len = (size_t)n;
    json_t *jwk = acme_jwk(account);
    char *payload = jwk ? json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(jwk);
    json_t *h = json_pack("{s:s, s:s, s:s}", "alg", "HS256", "kid", eab_kid, "url", url);
    char *s = payload && h ? jws_finish(h, payload, sign_hs256, &hk) : NULL;
    if (!s)
        json_decref(h);
    OPENSSL_cleanse(&hk, sizeof hk);
    free(payload);
    json_t *o = s ? json_loads(s, 0, NULL) : NULL;
    free(s);
    return o;
}

/* DER of a CSR, base64url. */
static char *csr_b64url(X509_REQ *r)
{
    unsigned char *der = NULL;
    int len = i2d_X509_REQ(r, &der);
    if (len <= 0)
        return NULL;
    char *out = acme_b64url(der, (size_t)len);
    OPENSSL_free(der);
    return out;
}

char *acme_csr_make(EVP_PKEY *k, const char *const *names, size_t n)
{
    if (!n)
        return NULL;
    X509_REQ *r = X509_REQ_new();
    X509_NAME *subj = X509_NAME_new();
    GENERAL_NAMES *sans = GENERAL_NAMES_new();
    STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
    char *out = NULL;
    int ok = r && subj && sans && exts && X509_REQ_set_version(r, 0) &&
             X509_NAME_add_entry_by_txt(subj, "CN", MBSTRING_UTF8,
                                        (const unsigned char *)names[0], -1, -1, 0) &&
             X509_REQ_set_subject_name(r, subj) && X509_REQ_set_pubkey(r, k);
    for (size_t i = 0; ok && i < n; i++) {
        GENERAL_NAME *g = GENERAL_NAME_new();
        ASN1_IA5STRING *s = ASN1_IA5STRING_new();
        ok = g && s && ASN1_STRING_set(s, names[i], (int)strlen(names[i]));
        if (ok) {
            GENERAL_NAME_set0_value(g, GEN_DNS, s);
            ok = sk_GENERAL_NAME_push(sans, g) > 0;
            if (!ok)
                GENERAL_NAME_free(g);
        } else {
            ASN1_IA5STRING_free(s);
            GENERAL_NAME_free(g);
        }
    }
    X509_EXTENSION *ext = ok ? X509V3_EXT_i2d(NID_subject_alt_name, 0, sans) : NULL;
    ok = ok && ext && sk_X509_EXTENSION_push(exts, ext) > 0;
    if (!ok)
        X509_EXTENSION_free(ext);
    if (ok && X509_REQ_add_extensions(r, exts) && X509_REQ_sign(r, k, EVP_sha256()) > 0)
        out = csr_b64url(r);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    GENERAL_NAMES_free(sans);
    X509_NAME_free(subj);
    X509_REQ_free(r);
    return out;
}

char *acme_csr_pem_to_b64url(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509_REQ *r = b ? PEM_read_bio_X509_REQ(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    char *out = r ? csr_b64url(r) : NULL;
    X509_REQ_free(r);
    return out;
}

void acme_dns_value(const char *key_authorization, char out[44])
{
    uint8_t md[32];
    SHA256((const unsigned char *)key_authorization, strlen(key_authorization), md);
    char *t = acme_b64url(md, sizeof md);
    cc_strlcpy(out, t, 44);
    cc_free(t);
}
