/* test_acs_sign.c — Alibaba Cloud signatures (acs_sign.c) against every
 * vector in ../shared/specs/alibaba-cas-contacts.md and chatbots-and-sms.md,
 * plus the edge cases of the strict percent-encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "util/util.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Encodes s and compares with want. */
static void check_encode(const char *s, size_t n, const char *want)
{
    struct cc_buf b;
    cc_buf_init(&b, 1024);
    assert_int_equal(cc_acs_encode(s, n, &b), 0);
    assert_string_equal(b.data ? b.data : "", want);
    cc_buf_free(&b);
}

static void encode_edge_cases(void **state)
{
    (void)state;
    check_encode("a b", 3, "a%20b");
    check_encode("*", 1, "%2A");
    check_encode("~-_.", 4, "~-_.");
    check_encode("+", 1, "%2B");
    check_encode("AZaz09", 6, "AZaz09");
    check_encode("()!'", 4, "%28%29%21%27");
    check_encode("/:?=&", 5, "%2F%3A%3F%3D%26");
    check_encode("张三", strlen("张三"), "%E5%BC%A0%E4%B8%89");
    check_encode("证书", strlen("证书"), "%E8%AF%81%E4%B9%A6");
    check_encode("a\0b", 3, "a%00b");
    check_encode("\xff", 1, "%FF");
    check_encode("", 0, "");
    /* Long input crosses the internal chunking more than once. */
    char big[400];
    memset(big, '*', sizeof big);
    struct cc_buf b;
    cc_buf_init(&b, 4096);
    assert_int_equal(cc_acs_encode(big, sizeof big, &b), 0);
    assert_int_equal(b.len, 3 * sizeof big);
    assert_memory_equal(b.data + 3 * 399, "%2A", 3);
    cc_buf_free(&b);
}

static void encode_respects_buffer_max(void **state)
{
    (void)state;
    struct cc_buf b;
    cc_buf_init(&b, 5);
    assert_int_equal(cc_acs_encode("ab", 2, &b), 0);
    assert_int_equal(cc_acs_encode("*", 1, &b), 0); /* exactly 5 */
    assert_int_equal(cc_acs_encode("c", 1, &b), -1);
    cc_buf_free(&b);
}

static void canonical_query_sorts_encoded_names(void **state)
{
    (void)state;
    const struct cc_kv p[] = {
        {"b", "2"}, {"a b", "x y"}, {"A", "1"}, {"skip", NULL}, {"a", "*"}, {"a~", "~"},
    };
    struct cc_buf b;
    cc_buf_init(&b, 1024);
    assert_int_equal(cc_acs_canonical_query(p, N(p), &b), 0);
    /* byte order of the encoded names: "A" < "a" < "a%20b" < "a~" < "b" */
    assert_string_equal(b.data, "A=1&a=%2A&a%20b=x%20y&a~=~&b=2");
    cc_buf_free(&b);

    const struct cc_kv e[] = {{"b", ""}, {"a", ""}};
    cc_buf_init(&b, 1024);
    assert_int_equal(cc_acs_canonical_query(e, N(e), &b), 0);
    assert_string_equal(b.data, "a=&b=");
    cc_buf_free(&b);

    cc_buf_init(&b, 1024);
    assert_int_equal(cc_acs_canonical_query(NULL, 0, &b), 0);
    assert_int_equal(b.len, 0);
    cc_buf_free(&b);
}

static const struct cc_kv describe_regions[] = {
    {"Action", "DescribeRegions"},
    {"Version", "2014-05-26"},
    {"Format", "XML"},
    {"AccessKeyId", "testid"},
    {"SignatureMethod", "HMAC-SHA1"},
    {"SignatureVersion", "1.0"},
    {"SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
    {"Timestamp", "2016-02-23T12:46:24Z"},
};

static void v1_describe_regions_get(void **state)
{
    (void)state;
    char sig[64];
    struct cc_buf sts;
    cc_buf_init(&sts, 4096);
    assert_int_equal(cc_acs_sign_v1("GET", describe_regions, N(describe_regions), "testsecret",
                                    sig, sizeof sig, &sts),
                     0);
    assert_string_equal(
        sts.data,
        "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML"
        "%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"
        "%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z"
        "%26Version%3D2014-05-26");
    assert_string_equal(sig, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
    cc_buf_free(&sts);
}

static void v1_describe_regions_post(void **state)
{
    (void)state;
    char sig[29];
    assert_int_equal(cc_acs_sign_v1("POST", describe_regions, N(describe_regions), "testsecret",
                                    sig, sizeof sig, NULL),
                     0);
    assert_string_equal(sig, "MxbnVAM4w6sft9xjVpe/GCKueuk=");
}

static void v1_ignores_signature_parameter(void **state)
{
    (void)state;
    struct cc_kv p[N(describe_regions) + 1];
    memcpy(p, describe_regions, sizeof describe_regions);
    p[N(describe_regions)] = (struct cc_kv){"Signature", "OLeaidS1JvxuMvnyHOwuJ+uX5qY="};
    char sig[29];
    assert_int_equal(cc_acs_sign_v1("GET", p, N(p), "testsecret", sig, sizeof sig, NULL), 0);
    assert_string_equal(sig, "OLeaidS1JvxuMvnyHOwuJ+uX5qY=");
}

static void v1_rejects_small_signature_buffer(void **state)
{
    (void)state;
    char sig[28];
    assert_int_equal(cc_acs_sign_v1("GET", describe_regions, N(describe_regions), "testsecret",
                                    sig, sizeof sig, NULL),
                     -1);
}

static void v1_cas_list_contact(void **state)
{
    (void)state;
    /* The wire order of the spec's URL, to show that order does not matter. */
    const struct cc_kv p[] = {
        {"Action", "ListContact"},
        {"Format", "json"},
        {"Version", "2020-04-07"},
        {"Timestamp", "2026-11-24T19:20:46Z"},
        {"SignatureNonce", "dda1ac13381b1e0fe3d21d6ec9055907598650dcae90b7ddd46778146773cd75"},
        {"CurrentPage", "1"},
        {"Keyword", "133"},
        {"ShowSize", "20"},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureVersion", "1.0"},
        {"AccessKeyId", "testAccessKeyId"},
        {"Signature", "OvtlCLd0zI0itao1gGYlvWG/5q8="},
    };
    char sig[29];
    struct cc_buf sts;
    cc_buf_init(&sts, 4096);
    assert_int_equal(
        cc_acs_sign_v1("POST", p, N(p), "testAccessKeySecret", sig, sizeof sig, &sts), 0);
    assert_string_equal(
        sts.data,
        "POST&%2F&AccessKeyId%3DtestAccessKeyId%26Action%3DListContact%26CurrentPage%3D1"
        "%26Format%3Djson%26Keyword%3D133%26ShowSize%3D20%26SignatureMethod%3DHMAC-SHA1"
        "%26SignatureNonce%3Ddda1ac13381b1e0fe3d21d6ec9055907598650dcae90b7ddd46778146773cd75"
        "%26SignatureVersion%3D1.0%26Timestamp%3D2026-11-24T19%253A20%253A46Z"
        "%26Version%3D2020-04-07");
    /* From the URL of the spec: Signature=OvtlCLd0zI0itao1gGYlvWG%2F5q8%3D */
    assert_string_equal(sig, "OvtlCLd0zI0itao1gGYlvWG/5q8=");
    cc_buf_free(&sts);
}

static void v1_cas_create_contact_with_star_paren(void **state)
{
    (void)state;
    /* Decoded from the spec's URL; the webhook holds the unescaped "*(". */
    const struct cc_kv p[] = {
        {"Action", "CreateContact"},
        {"Format", "json"},
        {"Version", "2020-04-07"},
        {"Timestamp", "2026-11-24T19:20:46Z"},
        {"SignatureNonce", "8d928a6f6cee834528fc9baabd565a93c86ebfe038ea6681f1d638573359e9a8"},
        {"Name", "zhang san"},
        {"Mobile", "13312345678"},
        {"Email", "test@example.com"},
        {"Webhooks", "[\"https://oapi.dingtalk.com/robot/send?access_token=abc*(1)\"]"},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureVersion", "1.0"},
        {"AccessKeyId", "testAccessKeyId"},
    };
    char sig[29];
    struct cc_buf sts;
    cc_buf_init(&sts, 4096);
    assert_int_equal(
        cc_acs_sign_v1("POST", p, N(p), "testAccessKeySecret", sig, sizeof sig, &sts), 0);
    /* "zhang san" -> %20 (then %2520), "*(" -> %2A%28 (then %252A%2528) */
    assert_non_null(strstr(sts.data, "%26Name%3Dzhang%2520san%26"));
    assert_non_null(strstr(sts.data, "access_token%253Dabc%252A%25281%2529%2522%255D"));
    /* From the URL of the spec: Signature=GAj784sTy23BX4fj6njt7BkiIoI%3D */
    assert_string_equal(sig, "GAj784sTy23BX4fj6njt7BkiIoI=");
    cc_buf_free(&sts);
}

static void acs3_list_contact(void **state)
{
    (void)state;
    const struct cc_kv q[] = {{"ShowSize", "20"}, {"Keyword", "133"}, {"CurrentPage", "1"}};
    const char *empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const struct cc_kv h[] = {
        {"host", "127.0.0.1:44697"},
        {"x-acs-action", "ListContact"},
        {"x-acs-content-sha256", empty},
        {"x-acs-credentials-provider", "static_ak"},
        {"x-acs-date", "2026-11-24T19:20:46Z"},
        {"x-acs-signature-nonce",
         "cf9bad6a1a8b397a4151f3626717ca50a5912b74a1f278ac0471bfabbfe641cf"},
        {"x-acs-version", "2020-04-07"},
    };
    char sig[65], hash[65];
    struct cc_buf creq, sts;
    cc_buf_init(&creq, 8192);
    cc_buf_init(&sts, 1024);
    assert_int_equal(cc_acs3_sign("POST", q, N(q), h, N(h), empty, "testAccessKeySecret", sig,
                                  sizeof sig, &creq, &sts),
                     0);
    assert_non_null(strstr(creq.data, "POST\n/\nCurrentPage=1&Keyword=133&ShowSize=20\nhost:"));
    cc_sha256_hex(creq.data, creq.len, hash);
    assert_string_equal(hash, "31dfa8a5b5c846f05bc0d04ad5f6cf08b0fa6c46fcfd50b831b0a81b673cd949");
    assert_string_equal(sts.data, "ACS3-HMAC-SHA256\n"
                                  "31dfa8a5b5c846f05bc0d04ad5f6cf08b0fa6c46fcfd50b831b0a81b673cd949");
    assert_string_equal(sig, "964a97b8c4b9daa996fc34161b124489c7fd9b4d8b152c165a9fc9c22a4ff485");
    cc_buf_free(&creq);
    cc_buf_free(&sts);
}

static void acs3_trims_values_and_lowercases_names(void **state)
{
    (void)state;
    const struct cc_kv q[] = {{"CurrentPage", "1"}, {"Keyword", "133"}, {"ShowSize", "20"}};
    const char *empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const struct cc_kv h[] = {
        {"Host", " 127.0.0.1:44697 "},
        {"X-Acs-Action", "ListContact\t"},
        {"x-acs-content-sha256", empty},
        {"x-acs-credentials-provider", "static_ak"},
        {"x-acs-date", "2026-11-24T19:20:46Z"},
        {"x-acs-signature-nonce",
         "cf9bad6a1a8b397a4151f3626717ca50a5912b74a1f278ac0471bfabbfe641cf"},
        {"x-acs-version", "2020-04-07"},
    };
    char sig[65];
    assert_int_equal(cc_acs3_sign("POST", q, N(q), h, N(h), empty, "testAccessKeySecret", sig,
                                  sizeof sig, NULL, NULL),
                     0);
    assert_string_equal(sig, "964a97b8c4b9daa996fc34161b124489c7fd9b4d8b152c165a9fc9c22a4ff485");
    assert_int_equal(cc_acs3_sign("POST", q, N(q), h, N(h), empty, "testAccessKeySecret", sig, 64,
                                  NULL, NULL),
                     -1);
}

static void acs3_create_contact_form_body(void **state)
{
    (void)state;
    const char *body =
        "Name=zhang%20san&Mobile=13312345678&Email=test%40example.com&Webhooks=%5B%22https%3A%2F%2F"
        "oapi.dingtalk.com%2Frobot%2Fsend%3Faccess_token%3Dabc*(1)%22%5D";
    char body_hash[65];
    cc_sha256_hex(body, strlen(body), body_hash);
    assert_string_equal(body_hash,
                        "bbd73949e04f36d747f0625a5a02f44400da0d1b930f2bf51af958998a7153de");
    const struct cc_kv h[] = {
        {"content-type", "application/x-www-form-urlencoded"},
        {"host", "127.0.0.1:44697"},
        {"x-acs-action", "CreateContact"},
        {"x-acs-content-sha256", body_hash},
        {"x-acs-credentials-provider", "static_ak"},
        {"x-acs-date", "2026-11-24T19:20:46Z"},
        {"x-acs-signature-nonce",
         "b9919ac75267880b00eb8146cbf450c02d1b25e2dc685039982af1cfde34f954"},
        {"x-acs-version", "2020-04-07"},
    };
    char sig[65], hash[65];
    struct cc_buf creq;
    cc_buf_init(&creq, 8192);
    assert_int_equal(cc_acs3_sign("POST", NULL, 0, h, N(h), body_hash, "testAccessKeySecret", sig,
                                  sizeof sig, &creq, NULL),
                     0);
    assert_non_null(strstr(creq.data, "POST\n/\n\ncontent-type:"));
    cc_sha256_hex(creq.data, creq.len, hash);
    assert_string_equal(hash, "124c6df69458f159cc7963714e49c40489e084cd6264769d4c258a01230f939b");
    assert_string_equal(sig, "4f7173dbca11c5e8aacbf64e4b2c87233ad30eb6ea240027ab12135768f49cc6");
    cc_buf_free(&creq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_edge_cases),
        cmocka_unit_test(encode_respects_buffer_max),
        cmocka_unit_test(canonical_query_sorts_encoded_names),
        cmocka_unit_test(v1_describe_regions_get),
        cmocka_unit_test(v1_describe_regions_post),
        cmocka_unit_test(v1_ignores_signature_parameter),
        cmocka_unit_test(v1_rejects_small_signature_buffer),
        cmocka_unit_test(v1_cas_list_contact),
        cmocka_unit_test(v1_cas_create_contact_with_star_paren),
        cmocka_unit_test(acs3_list_contact),
        cmocka_unit_test(acs3_trims_values_and_lowercases_names),
        cmocka_unit_test(acs3_create_contact_form_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
