/* test_crypto.c — AES-256-GCM at rest, hashes and HMACs against known vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "core/core.h"

static void aead_round_trip_and_tamper(void **state)
{
    (void)state;
    uint8_t key[CC_KEY_LEN], nonce[12], ct[128], fp[16];
    memset(key, 1, sizeof key);
    memset(nonce, 2, sizeof nonce);
    cc_key_fingerprint(key, fp);
    size_t n = 0, m = 0;
    char pt[128];
    assert_int_equal(cc_aead_seal(key, fp, nonce, "aad", "secret", 6, ct, sizeof ct, &n), CC_OK);
    assert_int_equal(n, 6 + CC_AEAD_OVERHEAD);
    assert_int_equal(cc_aead_open(key, "aad", ct, n, pt, sizeof pt, &m), CC_OK);
    assert_int_equal(m, 6);
    assert_string_equal(pt, "secret");
    assert_int_not_equal(cc_aead_open(key, "other", ct, n, pt, sizeof pt, &m), CC_OK);
    ct[n - 1] ^= 1;
    assert_int_not_equal(cc_aead_open(key, "aad", ct, n, pt, sizeof pt, &m), CC_OK);
    ct[n - 1] ^= 1;
    key[0] ^= 1;
    assert_int_not_equal(cc_aead_open(key, "aad", ct, n, pt, sizeof pt, &m), CC_OK);
    assert_int_not_equal(cc_aead_open(key, "aad", ct, 10, pt, sizeof pt, &m), CC_OK);
}

/* A sealed value names its key (the fingerprint's first bytes), and that
 * name is authenticated: changed, the value no longer opens. */
static void aead_names_its_key(void **state)
{
    (void)state;
    uint8_t k1[CC_KEY_LEN], k2[CC_KEY_LEN], fp1[16], fp2[16], nonce[12] = {0}, ct[64];
    memset(k1, 1, sizeof k1);
    memset(k2, 2, sizeof k2);
    cc_key_fingerprint(k1, fp1);
    cc_key_fingerprint(k2, fp2);
    assert_memory_not_equal(fp1, fp2, 16);
    size_t n = 0;
    char pt[64];
    assert_int_equal(cc_aead_seal(k2, fp2, nonce, "a", "x", 1, ct, sizeof ct, &n), CC_OK);
    const uint8_t *tag = NULL;
    assert_int_equal(cc_aead_key_tag(ct, n, &tag), 1);
    assert_memory_equal(tag, fp2, CC_KEY_TAG_LEN);
    ct[1] ^= 1;
    assert_int_not_equal(cc_aead_open(k2, "a", ct, n, pt, sizeof pt, NULL), CC_OK);
    ct[1] ^= 1;
    assert_int_equal(cc_aead_open(k2, "a", ct, n, pt, sizeof pt, NULL), CC_OK);
    assert_int_not_equal(cc_aead_open(k1, "a", ct, n, pt, sizeof pt, NULL), CC_OK);
}

/* A value sealed before values named their key (version 1: 1 | nonce |
 * ciphertext | tag) still opens. Made here with OpenSSL directly. */
static void aead_opens_version_1(void **state)
{
    (void)state;
    uint8_t key[CC_KEY_LEN], v1[64];
    memset(key, 3, sizeof key);
    memset(v1, 0, sizeof v1);
    v1[0] = 1;
    memset(v1 + 1, 9, 12);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0;
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, v1 + 1), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &len, (const uint8_t *)"aad", 3), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, v1 + 13, &len, (const uint8_t *)"hello", 5), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, v1 + 13 + len, &fin), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, v1 + 18), 1);
    EVP_CIPHER_CTX_free(ctx);
    char pt[64];
    size_t m = 0;
    const uint8_t *tag;
    assert_int_equal(cc_aead_key_tag(v1, 34, &tag), 0);
    assert_int_equal(cc_aead_open(key, "aad", v1, 34, pt, sizeof pt, &m), CC_OK);
    assert_int_equal(m, 5);
    assert_string_equal(pt, "hello");
}

static void dingtalk_signature_vector(void **state)
{
    (void)state;
    /* ../shared/specs/chatbots-and-sms.md: secret SECtestsecret0123456789, ts 1700000000000 */
    const char *secret = "SECtestsecret0123456789";
    const char *data = "1700000000000\nSECtestsecret0123456789";
    uint8_t mac[32];
    char b64[64];
    cc_hmac_sha256(secret, strlen(secret), data, strlen(data), mac);
    cc_base64_encode(mac, sizeof mac, b64, sizeof b64);
    assert_string_equal(b64, "zrLWzK97t62y5CpqN8Ok9UIdPvX+jL1PNoW8nKT5a9k=");
}

static void lark_signature_vector(void **state)
{
    (void)state;
    const char *key = "1599360473\ndemo";
    uint8_t mac[32];
    char b64[64];
    cc_hmac_sha256(key, strlen(key), "", 0, mac);
    cc_base64_encode(mac, sizeof mac, b64, sizeof b64);
    assert_string_equal(b64, "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=");
}

static void sha256_and_base64(void **state)
{
    (void)state;
    char hex[65];
    cc_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    uint8_t out[16];
    assert_int_equal(cc_base64_decode("YWI=", 4, out, sizeof out), 2);
    assert_memory_equal(out, "ab", 2);
    assert_int_equal(cc_base64_decode("YWJj", 4, out, sizeof out), 3);
    assert_int_equal(cc_base64_decode("YW", 2, out, sizeof out), -1);
    assert_int_equal(cc_base64_decode("Y!==", 4, out, sizeof out), -1);
    assert_true(cc_ct_equal("abc", "abc", 3));
    assert_false(cc_ct_equal("abc", "abd", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(aead_round_trip_and_tamper),
        cmocka_unit_test(aead_names_its_key),
        cmocka_unit_test(aead_opens_version_1),
        cmocka_unit_test(dingtalk_signature_vector),
        cmocka_unit_test(lark_signature_vector),
        cmocka_unit_test(sha256_and_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
