/* test_crypto.c — AES-256-GCM at rest, hashes and HMACs against known vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
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

/* Each thread keeps one cipher context, keyed afresh when the key changes: seals
 * and opens with two keys in turn, on several threads at once, each open
 * with the other key refused, each with its own key giving the text back. */
static void *aead_turns(void *arg)
{
    long t = (long)(intptr_t)arg;
    uint8_t k[2][CC_KEY_LEN], fp[2][16], nonce[12] = {0}, ct[96];
    memset(k[0], (int)(10 + t), sizeof k[0]);
    memset(k[1], (int)(50 + t), sizeof k[1]);
    cc_key_fingerprint(k[0], fp[0]);
    cc_key_fingerprint(k[1], fp[1]);
    for (int i = 0; i < 2000; i++) {
        int w = i & 1;
        char text[48], pt[96];
        int len = snprintf(text, sizeof text, "thread %ld value %d", t, i);
        size_t n = 0;
        memcpy(nonce, &i, sizeof i);
        if (cc_aead_seal(k[w], fp[w], nonce, "turns", text, (size_t)len, ct, sizeof ct, &n) ||
            cc_aead_open(k[!w], "turns", ct, n, pt, sizeof pt, NULL) == CC_OK ||
            cc_aead_open(k[w], "turns", ct, n, pt, sizeof pt, NULL) != CC_OK ||
            strcmp(pt, text) != 0)
            return (void *)1;
    }
    return NULL;
}

static void aead_on_threads(void **state)
{
    (void)state;
    pthread_t th[4];
    for (long t = 0; t < 4; t++)
        assert_int_equal(pthread_create(&th[t], NULL, aead_turns, (void *)(intptr_t)t), 0);
    for (int t = 0; t < 4; t++) {
        void *rc = (void *)1;
        pthread_join(th[t], &rc);
        assert_null(rc);
    }
}

/* What OpenSSL makes of text under key and nonce with a context of its own:
 * the version 2 value cc_aead_seal must give (header, ciphertext, tag). */
static size_t sealed_fresh(const uint8_t key[CC_KEY_LEN], const uint8_t fp[16],
                           const uint8_t nonce[12], const char *aad, const char *text,
                           uint8_t *out)
{
    size_t n = strlen(text);
    int len = 0, fin = 0;
    out[0] = 2;
    memcpy(out + 1, fp, CC_KEY_TAG_LEN);
    memcpy(out + 1 + CC_KEY_TAG_LEN, nonce, 12);
    size_t h = 1 + CC_KEY_TAG_LEN + 12;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &len, out, 1 + CC_KEY_TAG_LEN), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &len, (const uint8_t *)aad, (int)strlen(aad)), 1);
    assert_int_equal(EVP_EncryptUpdate(ctx, out + h, &len, (const uint8_t *)text, (int)n), 1);
    assert_int_equal(EVP_EncryptFinal_ex(ctx, out + h + len, &fin), 1);
    assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + h + n), 1);
    EVP_CIPHER_CTX_free(ctx);
    return n + CC_AEAD_OVERHEAD;
}

/* The thread's context stays keyed while the key is the same (a batch of
 * robot URLs opened with one master key): values sealed in a row with one
 * key and new nonces are what a fresh context makes of them, open in a row,
 * and a value that fails to open (tampered, another key) leaves the next
 * ones opening. */
static void aead_same_key_in_a_row(void **state)
{
    (void)state;
    uint8_t k[CC_KEY_LEN], other[CC_KEY_LEN], fp[16], nonce[12] = {0};
    uint8_t ct[5][96], want[96];
    size_t n[5];
    memset(k, 7, sizeof k);
    memset(other, 8, sizeof other);
    cc_key_fingerprint(k, fp);
    char text[5][40], pt[96];
    for (int i = 0; i < 5; i++) {
        snprintf(text[i], sizeof text[i], "https://robot.example/%d", i * 7919);
        nonce[0] = (uint8_t)i;
        assert_int_equal(cc_aead_seal(k, fp, nonce, "url", text[i], strlen(text[i]), ct[i],
                                      sizeof ct[i], &n[i]), CC_OK);
        assert_int_equal(sealed_fresh(k, fp, nonce, "url", text[i], want), n[i]);
        assert_memory_equal(ct[i], want, n[i]);
    }
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 5; i++) {
            assert_int_equal(cc_aead_open(k, "url", ct[i], n[i], pt, sizeof pt, NULL), CC_OK);
            assert_string_equal(pt, text[i]);
        }
    ct[2][n[2] - 3] ^= 0x40; /* the tag */
    assert_int_not_equal(cc_aead_open(k, "url", ct[2], n[2], pt, sizeof pt, NULL), CC_OK);
    assert_int_equal(cc_aead_open(k, "url", ct[3], n[3], pt, sizeof pt, NULL), CC_OK);
    assert_string_equal(pt, text[3]);
    ct[2][n[2] - 3] ^= 0x40;
    assert_int_not_equal(cc_aead_open(other, "url", ct[2], n[2], pt, sizeof pt, NULL), CC_OK);
    assert_int_equal(cc_aead_open(k, "url", ct[2], n[2], pt, sizeof pt, NULL), CC_OK);
    assert_string_equal(pt, text[2]);
    assert_int_not_equal(cc_aead_open(k, "not url", ct[4], n[4], pt, sizeof pt, NULL), CC_OK);
    assert_int_equal(cc_aead_open(k, "url", ct[4], n[4], pt, sizeof pt, NULL), CC_OK);
    assert_string_equal(pt, text[4]);
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

static void hmac_hex(int sha1, const void *key, size_t klen, const char *data, char *hex)
{
    uint8_t mac[32];
    if (sha1) {
        cc_hmac_sha1(key, klen, data, strlen(data), mac);
        cc_hex(mac, 20, hex);
    } else {
        cc_hmac_sha256(key, klen, data, strlen(data), mac);
        cc_hex(mac, 32, hex);
    }
}

/* RFC 4231 and RFC 2202 vectors, one after another on the same thread: each
 * call keys the thread's context afresh, so nothing of the key before it
 * stays (a long key, an empty one, none). */
static void hmac_vectors_in_turn(void **state)
{
    (void)state;
    uint8_t k0b[20], kaa[131];
    char hex[65];
    memset(k0b, 0x0b, sizeof k0b);
    memset(kaa, 0xaa, sizeof kaa);
    for (int round = 0; round < 2; round++) {
        hmac_hex(0, k0b, sizeof k0b, "Hi There", hex);
        assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
        hmac_hex(0, kaa, sizeof kaa, "Test Using Larger Than Block-Size Key - Hash Key First", hex);
        assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
        hmac_hex(0, NULL, 0, "", hex);
        assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
        hmac_hex(0, "", 0, "", hex);
        assert_string_equal(hex, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
        hmac_hex(1, k0b, sizeof k0b, "Hi There", hex);
        assert_string_equal(hex, "b617318655057264e28bc0b6fb378c8ef146be00");
        hmac_hex(0, "Jefe", 4, "what do ya want for nothing?", hex);
        assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}

static void *hmac_on_thread(void *arg)
{
    char *hex = arg;
    hmac_hex(0, "Jefe", 4, "what do ya want for nothing?", hex);
    return NULL;
}

/* Another thread has its own context (and frees it when it ends). */
static void hmac_on_another_thread(void **state)
{
    (void)state;
    char hex[65] = "";
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, hmac_on_thread, hex), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
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
        cmocka_unit_test(aead_on_threads),
        cmocka_unit_test(aead_same_key_in_a_row),
        cmocka_unit_test(dingtalk_signature_vector),
        cmocka_unit_test(lark_signature_vector),
        cmocka_unit_test(hmac_vectors_in_turn),
        cmocka_unit_test(hmac_on_another_thread),
        cmocka_unit_test(sha256_and_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
