/*
 * test_acme.c — unit tests of service/acme_jws.c, the keys and signatures of
 * the ACME client: base64url, the JWK and its thumbprint, ES256 JWS checked
 * with OpenSSL (raw r || s, the protected header's members, kid or jwk),
 * the external account binding's HS256, CSRs made for an order (read back by
 * core/csr.c) and the DNS-01 value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "core/core.h"
#include "core/products.h"
#include "service/acme_int.h"
#include "util/util.h"

/* base64url back to bytes (the test's own decoder, through core's base64). */
static size_t unb64url(const char *in, uint8_t *out, size_t outsz)
{
    char tmp[4096];
    size_t n = strlen(in), j = 0;
    assert_true(n < sizeof tmp - 4);
    for (size_t i = 0; i < n; i++) {
        assert_true(in[i] != '+' && in[i] != '/' && in[i] != '=');
        tmp[j++] = in[i] == '-' ? '+' : in[i] == '_' ? '/' : in[i];
    }
    while (j % 4)
        tmp[j++] = '=';
    long len = cc_base64_decode(tmp, j, out, outsz);
    assert_true(len >= 0);
    return (size_t)len;
}

static void b64url(void **state)
{
    (void)state;
    char *s = acme_b64url("\xfb\xff", 2); /* "+/8=" in base64 */
    assert_string_equal(s, "-_8");
    cc_free(s);
    s = acme_b64url("", 0);
    assert_string_equal(s, "");
    cc_free(s);
    s = acme_b64url("{\"a\":1}", 7);
    assert_string_equal(s, "eyJhIjoxfQ");
    cc_free(s);
}

static EVP_PKEY *new_key(void)
{
    char *pem = acme_key_generate("ec256");
    assert_non_null(pem);
    assert_non_null(strstr(pem, "BEGIN PRIVATE KEY"));
    EVP_PKEY *k = acme_key_load(pem);
    cc_free(pem);
    assert_non_null(k);
    return k;
}

static void jwk_and_thumbprint(void **state)
{
    (void)state;
    EVP_PKEY *k = new_key();
    json_t *jwk = acme_jwk(k);
    assert_non_null(jwk);
    assert_string_equal(json_string_value(json_object_get(jwk, "kty")), "EC");
    assert_string_equal(json_string_value(json_object_get(jwk, "crv")), "P-256");
    assert_int_equal(strlen(json_string_value(json_object_get(jwk, "x"))), 43);
    assert_int_equal(strlen(json_string_value(json_object_get(jwk, "y"))), 43);
    /* RFC 7638: SHA-256 of the required members, sorted, no white space */
    char *canon = json_dumps(jwk, JSON_COMPACT | JSON_SORT_KEYS);
    assert_int_equal(strncmp(canon, "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"", 31), 0);
    uint8_t md[32];
    SHA256((const unsigned char *)canon, strlen(canon), md);
    char *want = acme_b64url(md, 32);
    char tp[44];
    assert_int_equal(acme_thumbprint(k, tp), 0);
    assert_string_equal(tp, want);
    cc_free(want);
    free(canon);
    json_decref(jwk);
    EVP_PKEY_free(k);
}

/* Checks the JWS's ES256 signature with k and returns its protected header. */
static json_t *verify_es256(EVP_PKEY *k, const char *jws, char **payload)
{
    json_t *o = json_loads(jws, 0, NULL);
    assert_non_null(o);
    const char *h64 = json_string_value(json_object_get(o, "protected"));
    const char *p64 = json_string_value(json_object_get(o, "payload"));
    const char *s64 = json_string_value(json_object_get(o, "signature"));
    assert_non_null(h64);
    assert_non_null(p64);
    assert_non_null(s64);
    uint8_t raw[128];
    assert_int_equal(unb64url(s64, raw, sizeof raw), 64); /* r || s, not DER */
    ECDSA_SIG *sig = ECDSA_SIG_new();
    ECDSA_SIG_set0(sig, BN_bin2bn(raw, 32, NULL), BN_bin2bn(raw + 32, 32, NULL));
    unsigned char *der = NULL;
    int dlen = i2d_ECDSA_SIG(sig, &der);
    ECDSA_SIG_free(sig);
    char input[4096];
    snprintf(input, sizeof input, "%s.%s", h64, p64);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    assert_int_equal(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, k), 1);
    assert_int_equal(EVP_DigestVerify(ctx, der, (size_t)dlen, (unsigned char *)input,
                                      strlen(input)),
                     1);
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    uint8_t buf[2048];
    size_t n = unb64url(h64, buf, sizeof buf - 1);
    buf[n] = '\0';
    json_t *h = json_loads((char *)buf, 0, NULL);
    n = unb64url(p64, buf, sizeof buf - 1);
    buf[n] = '\0';
    *payload = strdup((char *)buf);
    json_decref(o);
    assert_non_null(h);
    return h;
}

static void jws_es256(void **state)
{
    (void)state;
    EVP_PKEY *k = new_key();
    /* by JWK (newAccount) */
    char *jws = acme_jws(k, NULL, "nonce-1", "https://ca.example/new-acct", "{\"x\":1}");
    char *payload = NULL;
    json_t *h = verify_es256(k, jws, &payload);
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "ES256");
    assert_string_equal(json_string_value(json_object_get(h, "nonce")), "nonce-1");
    assert_string_equal(json_string_value(json_object_get(h, "url")),
                        "https://ca.example/new-acct");
    assert_non_null(json_object_get(h, "jwk"));
    assert_null(json_object_get(h, "kid"));
    assert_string_equal(payload, "{\"x\":1}");
    json_decref(h);
    free(payload);
    free(jws);
    /* by kid, POST-as-GET: an empty payload */
    jws = acme_jws(k, "https://ca.example/acct/1", "nonce-2", "https://ca.example/order/1",
                   NULL);
    h = verify_es256(k, jws, &payload);
    assert_string_equal(json_string_value(json_object_get(h, "kid")),
                        "https://ca.example/acct/1");
    assert_null(json_object_get(h, "jwk"));
    assert_string_equal(payload, "");
    json_t *o = json_loads(jws, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(o, "payload")), "");
    json_decref(o);
    json_decref(h);
    free(payload);
    free(jws);
    EVP_PKEY_free(k);
}

static void eab_hs256(void **state)
{
    (void)state;
    EVP_PKEY *k = new_key();
    const char *mac = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    json_t *eab = acme_eab("kid-1", mac, k, "https://ca.example/new-acct");
    assert_non_null(eab);
    const char *h64 = json_string_value(json_object_get(eab, "protected"));
    const char *p64 = json_string_value(json_object_get(eab, "payload"));
    const char *s64 = json_string_value(json_object_get(eab, "signature"));
    uint8_t key[128], sig[64], md[32];
    size_t klen = unb64url(mac, key, sizeof key);
    assert_int_equal(unb64url(s64, sig, sizeof sig), 32);
    char input[4096];
    snprintf(input, sizeof input, "%s.%s", h64, p64);
    unsigned int mlen = 32;
    HMAC(EVP_sha256(), key, (int)klen, (unsigned char *)input, strlen(input), md, &mlen);
    assert_memory_equal(md, sig, 32);
    uint8_t buf[1024];
    size_t n = unb64url(h64, buf, sizeof buf - 1);
    buf[n] = '\0';
    json_t *h = json_loads((char *)buf, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(h, "alg")), "HS256");
    assert_string_equal(json_string_value(json_object_get(h, "kid")), "kid-1");
    json_decref(h);
    /* the payload is the account's JWK */
    n = unb64url(p64, buf, sizeof buf - 1);
    buf[n] = '\0';
    json_t *p = json_loads((char *)buf, 0, NULL), *jwk = acme_jwk(k);
    assert_true(json_equal(p, jwk));
    json_decref(p);
    json_decref(jwk);
    json_decref(eab);
    /* a MAC key that is not base64url */
    assert_null(acme_eab("kid-1", "not+base64/", k, "https://ca.example/new-acct"));
    EVP_PKEY_free(k);
}

static void csr_for_order(void **state)
{
    (void)state;
    EVP_PKEY *k = new_key();
    const char *names[] = {"www.example.com", "example.com"};
    char *b64 = acme_csr_make(k, names, 2);
    assert_non_null(b64);
    uint8_t der[4096];
    size_t n = unb64url(b64, der, sizeof der);
    cc_free(b64);
    /* back to PEM for core/csr.c */
    char body[8192], pem[8400];
    cc_base64_encode(der, n, body, sizeof body);
    snprintf(pem, sizeof pem, "-----BEGIN CERTIFICATE REQUEST-----\n%s\n"
             "-----END CERTIFICATE REQUEST-----\n", body);
    struct cc_csr_info info;
    struct cc_error err;
    assert_int_equal(cc_csr_parse(pem, &info, &err), CC_OK);
    assert_string_equal(info.key_type, "EC");
    assert_int_equal(info.n_names, 2);
    assert_string_equal(info.names[0], "www.example.com");
    assert_string_equal(info.names[1], "example.com");
    /* and the PEM converts back to the same DER */
    char *again = acme_csr_pem_to_b64url(pem);
    uint8_t der2[4096];
    assert_int_equal(unb64url(again, der2, sizeof der2), n);
    assert_memory_equal(der, der2, n);
    cc_free(again);
    assert_null(acme_csr_pem_to_b64url("not a csr"));
    assert_null(acme_csr_make(k, names, 0));
    EVP_PKEY_free(k);
}

static void rsa_keys_and_dns_value(void **state)
{
    (void)state;
    char *pem = acme_key_generate("rsa2048");
    EVP_PKEY *k = acme_key_load(pem);
    assert_non_null(k);
    assert_int_equal(EVP_PKEY_get_bits(k), 2048);
    EVP_PKEY_free(k);
    cc_free(pem);
    assert_null(acme_key_generate("dsa"));
    char v[44];
    acme_dns_value("token.thumb", v);
    uint8_t md[32];
    SHA256((const unsigned char *)"token.thumb", 11, md);
    char *want = acme_b64url(md, 32);
    assert_string_equal(v, want);
    assert_int_equal(strlen(v), 43);
    cc_free(want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b64url),
        cmocka_unit_test(jwk_and_thumbprint),
        cmocka_unit_test(jws_es256),
        cmocka_unit_test(eab_hs256),
        cmocka_unit_test(csr_for_order),
        cmocka_unit_test(rsa_keys_and_dns_value),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
