/* test_crypto.c — AES-256-GCM at rest, hashes and HMACs against known vectors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static void aead_round_trip_and_tamper(void **state)
{
    (void)state;
    uint8_t key[CC_KEY_LEN], nonce[12], ct[128];
    memset(key, 1, sizeof key);
    memset(nonce, 2, sizeof nonce);
    size_t n = 0, m = 0;
    char pt[128];
    assert_int_equal(cc_aead_seal(key, nonce, "aad", "secret", 6, ct, sizeof ct, &n), CC_OK);
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
        cmocka_unit_test(dingtalk_signature_vector),
        cmocka_unit_test(lark_signature_vector),
        cmocka_unit_test(sha256_and_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
