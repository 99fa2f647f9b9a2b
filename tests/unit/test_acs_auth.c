/* test_acs_auth.c — the Alibaba API's authentication pieces (acs_auth.c):
 * parameters from a form body, timestamps, the claim of each signature
 * method, both signatures checked against the spec's vectors with the clock
 * switched off, the replay cache and the per-key rate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "http/acs_int.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SECRET "testAccessKeySecret"
#define EMPTY_HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- a request's headers, as the server would hand them over ------------------------ */
struct hdrs {
    const struct cc_kv *kv;
    size_t n;
};

static const char *lookup(void *ctx, const char *name)
{
    const struct hdrs *h = ctx;
    for (size_t i = 0; i < h->n; i++)
        if (strcasecmp(h->kv[i].key, name) == 0)
            return h->kv[i].value;
    return NULL;
}

static void add_all(struct cc_acs_params *p, const struct cc_kv *kv, size_t n)
{
    char why[160];
    for (size_t i = 0; i < n; i++)
        assert_int_equal(cc_acs_params_add(p, kv[i].key, kv[i].value, why, sizeof why), 0);
}

/* ---- parameters ------------------------------------------------------------------ */
static void form_is_decoded_like_a_form(void **state)
{
    (void)state;
    struct cc_acs_params p;
    char why[160];
    cc_acs_params_init(&p);
    const char *body = "Name=zhang+san%20%E5%BC%A0&&Email=a%40b.c&Empty=&Flag&Star=*()!'~";
    assert_int_equal(cc_acs_parse_form(&p, body, strlen(body), why, sizeof why), 0);
    assert_string_equal(cc_acs_param(&p, "Name"), "zhang san 张");
    assert_string_equal(cc_acs_param(&p, "Email"), "a@b.c");
    assert_string_equal(cc_acs_param(&p, "Empty"), "");
    assert_string_equal(cc_acs_param(&p, "Flag"), "");
    assert_string_equal(cc_acs_param(&p, "Star"), "*()!'~");
    assert_null(cc_acs_param(&p, "Missing"));
    assert_int_equal(p.n, 5);
    cc_acs_params_free(&p);
}

static void form_refuses_duplicates_nul_and_too_many(void **state)
{
    (void)state;
    struct cc_acs_params p;
    char why[160];
    cc_acs_params_init(&p);
    assert_int_equal(cc_acs_params_add(&p, "Name", "q", why, sizeof why), 0);
    p.nquery = 1;
    const char *dup = "Mobile=1&Name=b";
    assert_int_equal(cc_acs_parse_form(&p, dup, strlen(dup), why, sizeof why), -1);
    assert_non_null(strstr(why, "Name"));
    cc_acs_params_free(&p);

    cc_acs_params_init(&p);
    assert_int_equal(cc_acs_parse_form(&p, "a=1\0b=2", 7, why, sizeof why), -1);
    cc_acs_params_free(&p);

    cc_acs_params_init(&p); /* an encoded NUL becomes DEL, which validators refuse */
    assert_int_equal(cc_acs_parse_form(&p, "a=x%00y", 7, why, sizeof why), 0);
    assert_string_equal(cc_acs_param(&p, "a"), "x\x7fy");
    cc_acs_params_free(&p);

    cc_acs_params_init(&p);
    struct cc_buf b;
    cc_buf_init(&b, 1 << 16);
    for (int i = 0; i <= CC_ACS_MAX_PARAMS; i++)
        cc_buf_printf(&b, "%sp%d=v", i ? "&" : "", i);
    assert_int_equal(cc_acs_parse_form(&p, b.data, b.len, why, sizeof why), -1);
    cc_buf_free(&b);
    cc_acs_params_free(&p);

    cc_acs_params_init(&p);
    char longname[CC_ACS_NAME_MAX + 8];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    assert_int_equal(cc_acs_params_add(&p, longname, "v", why, sizeof why), -1);
    assert_int_equal(cc_acs_params_add(&p, "", "v", why, sizeof why), -1);
    cc_acs_params_free(&p);
}

/* ---- time ----------------------------------------------------------------------- */
static void timestamps_are_strict(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(cc_acs_parse_time("2026-11-24T19:20:46Z", &ms), 0);
    assert_int_equal(ms, 1795548046000LL);
    assert_int_equal(cc_acs_parse_time("1970-01-01T00:00:00Z", &ms), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(cc_acs_parse_time("2028-02-29T00:00:00Z", &ms), 0);
    const char *bad[] = {"2026-11-24T19:20:46",  "2026-11-24 19:20:46Z", "2026-13-24T19:20:46Z",
                         "2026-02-31T00:00:00Z", "2026-11-24T24:00:00Z", "2026-11-24T19:20:46.1Z",
                         "+026-11-24T19:20:46Z", "2026-1a-24T19:20:46Z", "",
                         "2027-02-29T00:00:00Z"};
    for (size_t i = 0; i < N(bad); i++)
        assert_int_equal(cc_acs_parse_time(bad[i], &ms), -1);
    assert_int_equal(cc_acs_parse_time(NULL, &ms), -1);
}

/* ---- HMAC-SHA1 ------------------------------------------------------------------------ */
static const struct cc_kv v1_list[] = {
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

static void v1_list_contact_vector(void **state)
{
    (void)state;
    struct cc_acs_params p;
    cc_acs_params_init(&p);
    add_all(&p, v1_list, N(v1_list));
    p.nquery = p.n;
    struct hdrs h = {NULL, 0};
    struct cc_acs_call call = {"POST", &p, lookup, &h, "", 0};
    struct cc_acs_claim claim;
    struct cc_acs_error e;
    cc_acs_error_init(&e);
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), 0);
    assert_int_equal(claim.kind, CC_ACS_SIG_V1);
    assert_string_equal(claim.key_id, "testAccessKeyId");
    assert_string_equal(claim.nonce,
                        "dda1ac13381b1e0fe3d21d6ec9055907598650dcae90b7ddd46778146773cd75");
    assert_int_equal(claim.time_ms, 1795548046000LL);
    assert_int_equal(cc_acs_signature_ok(&call, &claim, SECRET, &e), 1);

    /* A wrong secret: the message carries the server's string to sign. */
    assert_int_equal(cc_acs_signature_ok(&call, &claim, "wrong", &e), 0);
    assert_string_equal(e.code, "SignatureDoesNotMatch");
    assert_int_equal(e.status, 400);
    assert_non_null(strstr(e.message.data,
                           "server string to sign is:POST&%2F&AccessKeyId%3DtestAccessKeyId%26"
                           "Action%3DListContact%26CurrentPage%3D1"));
    /* The same call as GET signs differently. */
    call.method = "GET";
    assert_int_equal(cc_acs_signature_ok(&call, &claim, SECRET, &e), 0);
    assert_non_null(strstr(e.message.data, "GET&%2F&"));
    cc_acs_error_free(&e);
    cc_acs_params_free(&p);
}

static void v1_create_contact_vector_query_and_form(void **state)
{
    (void)state;
    /* The spec's CreateContact, split as Terraform would send it: common
     * parameters in the query, the action's in a form body. */
    const struct cc_kv q[] = {
        {"Action", "CreateContact"},
        {"Format", "json"},
        {"Version", "2020-04-07"},
        {"Timestamp", "2026-11-24T19:20:46Z"},
        {"SignatureNonce", "8d928a6f6cee834528fc9baabd565a93c86ebfe038ea6681f1d638573359e9a8"},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureVersion", "1.0"},
        {"AccessKeyId", "testAccessKeyId"},
        {"Signature", "GAj784sTy23BX4fj6njt7BkiIoI="},
    };
    const char *body = "Name=zhang+san&Mobile=13312345678&Email=test%40example.com&Webhooks="
                       "%5B%22https%3A%2F%2Foapi.dingtalk.com%2Frobot%2Fsend%3Faccess_token%3D"
                       "abc*(1)%22%5D";
    struct cc_acs_params p;
    char why[160];
    cc_acs_params_init(&p);
    add_all(&p, q, N(q));
    p.nquery = p.n;
    assert_int_equal(cc_acs_parse_form(&p, body, strlen(body), why, sizeof why), 0);
    struct hdrs h = {NULL, 0};
    struct cc_acs_call call = {"POST", &p, lookup, &h, body, strlen(body)};
    struct cc_acs_claim claim;
    struct cc_acs_error e;
    cc_acs_error_init(&e);
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), 0);
    assert_int_equal(cc_acs_signature_ok(&call, &claim, SECRET, &e), 1);
    cc_acs_error_free(&e);
    cc_acs_params_free(&p);
}

static void v1_claim_errors(void **state)
{
    (void)state;
    struct cc_acs_params p;
    struct hdrs h = {NULL, 0};
    struct cc_acs_claim claim;
    struct cc_acs_error e;
    cc_acs_error_init(&e);

    cc_acs_params_init(&p); /* nothing signed at all */
    struct cc_acs_call call = {"POST", &p, lookup, &h, "", 0};
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), -1);
    assert_string_equal(e.code, "IncompleteSignature");
    cc_acs_params_free(&p);

    /* Each required parameter, left out in turn. */
    const char *need[] = {"AccessKeyId", "SignatureMethod", "SignatureNonce", "Timestamp"};
    for (size_t k = 0; k < N(need); k++) {
        struct cc_kv kv[N(v1_list)];
        size_t n = 0;
        for (size_t i = 0; i < N(v1_list); i++)
            if (strcmp(v1_list[i].key, need[k]) != 0)
                kv[n++] = v1_list[i];
        cc_acs_params_init(&p);
        add_all(&p, kv, n);
        assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), -1);
        char want[64];
        snprintf(want, sizeof want, "Missing%s", need[k]);
        assert_string_equal(e.code, want);
        cc_acs_params_free(&p);
    }

    /* Another method; a stale and a malformed time. */
    struct cc_kv kv[N(v1_list)];
    memcpy(kv, v1_list, sizeof kv);
    kv[8].value = "HMAC-SHA256";
    cc_acs_params_init(&p);
    add_all(&p, kv, N(kv));
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), -1);
    assert_string_equal(e.code, "InvalidSignatureMethod");
    cc_acs_params_free(&p);

    cc_acs_params_init(&p);
    add_all(&p, v1_list, N(v1_list));
    int64_t t = 1795548046000LL;
    assert_int_equal(cc_acs_read_claim(&call, t + CC_ACS_SKEW_MS, &claim, &e), 0);
    assert_int_equal(cc_acs_read_claim(&call, t - CC_ACS_SKEW_MS, &claim, &e), 0);
    assert_int_equal(cc_acs_read_claim(&call, t + CC_ACS_SKEW_MS + 1000, &claim, &e), -1);
    assert_string_equal(e.code, "InvalidTimeStamp.Expired");
    assert_int_equal(cc_acs_read_claim(&call, t - CC_ACS_SKEW_MS - 1000, &claim, &e), -1);
    assert_string_equal(e.code, "InvalidTimeStamp.Expired");
    cc_acs_params_free(&p);

    memcpy(kv, v1_list, sizeof kv);
    kv[3].value = "2026-11-24T19:20:46+08:00";
    cc_acs_params_init(&p);
    add_all(&p, kv, N(kv));
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), -1);
    assert_string_equal(e.code, "InvalidTimeStamp.Format");
    cc_acs_params_free(&p);
    cc_acs_error_free(&e);
}

/* ---- ACS3-HMAC-SHA256 ------------------------------------------------------------------ */
static const struct cc_kv acs3_list_headers[] = {
    {"Host", "127.0.0.1:44697"},
    {"x-acs-action", "ListContact"},
    {"x-acs-version", "2020-04-07"},
    {"x-acs-date", "2026-11-24T19:20:46Z"},
    {"x-acs-signature-nonce", "cf9bad6a1a8b397a4151f3626717ca50a5912b74a1f278ac0471bfabbfe641cf"},
    {"x-acs-content-sha256", EMPTY_HASH},
    {"x-acs-credentials-provider", "static_ak"},
    {"Authorization",
     "ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders=host;x-acs-action;"
     "x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;"
     "x-acs-version,Signature=964a97b8c4b9daa996fc34161b124489c7fd9b4d8b152c165a9fc9c22a4ff485"},
};

static void acs3_list_contact_vector(void **state)
{
    (void)state;
    const struct cc_kv q[] = {{"CurrentPage", "1"}, {"Keyword", "133"}, {"ShowSize", "20"}};
    struct cc_acs_params p;
    cc_acs_params_init(&p);
    add_all(&p, q, N(q));
    p.nquery = p.n;
    struct hdrs h = {acs3_list_headers, N(acs3_list_headers)};
    struct cc_acs_call call = {"POST", &p, lookup, &h, "", 0};
    struct cc_acs_claim claim;
    struct cc_acs_error e;
    cc_acs_error_init(&e);
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), 0);
    assert_int_equal(claim.kind, CC_ACS_SIG_ACS3);
    assert_string_equal(claim.key_id, "testAccessKeyId");
    assert_int_equal(claim.time_ms, 1795548046000LL);
    assert_int_equal(cc_acs_signature_ok(&call, &claim, SECRET, &e), 1);

    assert_int_equal(cc_acs_signature_ok(&call, &claim, "wrong", &e), 0);
    assert_string_equal(e.code, "SignatureDoesNotMatch");
    assert_non_null(strstr(e.message.data, "server string to sign is:ACS3-HMAC-SHA256\n"
                                           "31dfa8a5b5c846f05bc0d04ad5f6cf08b0fa6c46fcfd50b831b0a81b673cd949"));
    assert_non_null(strstr(e.message.data, "POST\n/\nCurrentPage=1&Keyword=133&ShowSize=20\n"));

    /* A query parameter changed on the way. */
    p.kv[1].value = "134";
    assert_int_equal(cc_acs_signature_ok(&call, &claim, SECRET, &e), 0);
    cc_acs_error_free(&e);
    cc_acs_params_free(&p);
}

static void acs3_form_body_vector(void **state)
{
    (void)state;
    const char *body =
        "Name=zhang%20san&Mobile=13312345678&Email=test%40example.com&Webhooks=%5B%22https%3A%2F%2F"
        "oapi.dingtalk.com%2Frobot%2Fsend%3Faccess_token%3Dabc*(1)%22%5D";
    const struct cc_kv hk[] = {
        {"content-type", "application/x-www-form-urlencoded"},
        {"host", "127.0.0.1:44697"},
        {"x-acs-action", "CreateContact"},
        {"x-acs-content-sha256", "bbd73949e04f36d747f0625a5a02f44400da0d1b930f2bf51af958998a7153de"},
        {"x-acs-credentials-provider", "static_ak"},
        {"x-acs-date", "2026-11-24T19:20:46Z"},
        {"x-acs-signature-nonce", "b9919ac75267880b00eb8146cbf450c02d1b25e2dc685039982af1cfde34f954"},
        {"x-acs-version", "2020-04-07"},
        {"authorization",
         "ACS3-HMAC-SHA256 Credential=testAccessKeyId, SignedHeaders=content-type;host;"
         "x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;"
         "x-acs-signature-nonce;x-acs-version, "
         "Signature=4f7173dbca11c5e8aacbf64e4b2c87233ad30eb6ea240027ab12135768f49cc6"},
    };
    struct cc_acs_params p;
    char why[160];
    cc_acs_params_init(&p);
    assert_int_equal(cc_acs_parse_form(&p, body, strlen(body), why, sizeof why), 0);
    assert_string_equal(cc_acs_param(&p, "Webhooks"),
                        "[\"https://oapi.dingtalk.com/robot/send?access_token=abc*(1)\"]");
    struct hdrs h = {hk, N(hk)};
    struct cc_acs_call call = {"POST", &p, lookup, &h, body, strlen(body)};
    struct cc_acs_claim claim;
    struct cc_acs_error e;
    cc_acs_error_init(&e);
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), 0);
    assert_int_equal(cc_acs_signature_ok(&call, &claim, SECRET, &e), 1);

    /* The body is covered by its hash: one byte changed is caught. */
    char *forged = cc_strdup(body);
    forged[5] = 'Z';
    call.body = forged;
    assert_int_equal(cc_acs_signature_ok(&call, &claim, SECRET, &e), 0);
    assert_string_equal(e.code, "SignatureDoesNotMatch");
    assert_non_null(strstr(e.message.data, "x-acs-content-sha256"));
    cc_free(forged);
    cc_acs_error_free(&e);
    cc_acs_params_free(&p);
}

static void acs3_claim_needs_the_important_headers_signed(void **state)
{
    (void)state;
    struct cc_acs_params p;
    cc_acs_params_init(&p);
    struct cc_kv hk[N(acs3_list_headers)];
    memcpy(hk, acs3_list_headers, sizeof hk);
    struct hdrs h = {hk, N(hk)};
    struct cc_acs_call call = {"POST", &p, lookup, &h, "", 0};
    struct cc_acs_claim claim;
    struct cc_acs_error e;
    cc_acs_error_init(&e);
    /* Nonce not signed: it could be replaced to replay the call. */
    hk[7].value = "ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders=host;x-acs-action;"
                  "x-acs-content-sha256;x-acs-date;x-acs-version,Signature="
                  "964a97b8c4b9daa996fc34161b124489c7fd9b4d8b152c165a9fc9c22a4ff485";
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), -1);
    assert_string_equal(e.code, "IncompleteSignature");
    assert_non_null(strstr(e.message.data, "x-acs-signature-nonce"));
    /* Action not signed. */
    hk[7].value = "ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders=host;"
                  "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature="
                  "964a97b8c4b9daa996fc34161b124489c7fd9b4d8b152c165a9fc9c22a4ff485";
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), -1);
    assert_non_null(strstr(e.message.data, "x-acs-action"));
    /* Another algorithm; a malformed header. */
    hk[7].value = "ACS3-HMAC-SM3 Credential=testAccessKeyId,SignedHeaders=host,Signature=00";
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), -1);
    assert_string_equal(e.code, "InvalidSignatureMethod");
    hk[7].value = "ACS3-HMAC-SHA256 Credential=testAccessKeyId,Signature=00";
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), -1);
    assert_string_equal(e.code, "IncompleteSignature");
    hk[7].value = "ACS3-HMAC-SHA256 Credential=testAccessKeyId,SignedHeaders=host;x-acs-nope,"
                  "Signature=964a97b8c4b9daa996fc34161b124489c7fd9b4d8b152c165a9fc9c22a4ff485";
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), -1);
    /* A signed header that is not there. */
    hk[7].value = acs3_list_headers[7].value;
    assert_int_equal(cc_acs_read_claim(&call, -1, &claim, &e), 0);
    hk[6].key = "x-other";
    assert_int_equal(cc_acs_signature_ok(&call, &claim, SECRET, &e), 0);
    assert_string_equal(e.code, "IncompleteSignature");
    cc_acs_error_free(&e);
    cc_acs_params_free(&p);
}

/* ---- replay cache and rate --------------------------------------------------------------- */
static void nonces_are_used_once_per_key_within_the_window(void **state)
{
    (void)state;
    struct cc_acs_state *st = cc_acs_state_new(6000, 0);
    int64_t now = 1000000;
    assert_int_equal(cc_acs_nonce_seen(st, "key1", "n1", now + 60000, now), 0);
    assert_int_equal(cc_acs_nonce_seen(st, "key1", "n1", now + 60000, now + 1), 1);
    assert_int_equal(cc_acs_nonce_seen(st, "key2", "n1", now + 60000, now + 1), 0);
    assert_int_equal(cc_acs_nonce_seen(st, "key1", "n2", now + 60000, now + 1), 0);
    /* Expired: the clock check refuses such a call by itself by then. */
    assert_int_equal(cc_acs_nonce_seen(st, "key1", "n1", now + 120000, now + 60000), 0);
    assert_int_equal(cc_acs_nonce_seen(st, "key1", "n1", now + 120000, now + 60001), 1);
    cc_acs_state_free(st);
}

/* The attack: other keys flood the cache, then a captured call is replayed
 * inside its window. Each key has its own share: the replay is refused. */
static void a_flood_from_other_keys_never_evicts_a_live_nonce(void **state)
{
    (void)state;
    struct cc_acs_state *st = cc_acs_state_new(6000, 1000);
    int64_t now = 1000000;
    assert_int_equal(cc_acs_nonce_seen(st, "victim", "captured", now + 900000, now),
                     CC_ACS_NONCE_NEW);
    char key[24], nonce[32];
    for (int k = 0; k < 140; k++) {
        snprintf(key, sizeof key, "attacker%d", k);
        for (int i = 0; i < 1200; i++) {
            snprintf(nonce, sizeof nonce, "flood%d", i);
            int v = cc_acs_nonce_seen(st, key, nonce, now + 900000, now + 1);
            assert_int_equal(v, i < 1000 ? CC_ACS_NONCE_NEW : CC_ACS_NONCE_FULL);
        }
    }
    assert_int_equal(cc_acs_nonce_seen(st, "victim", "captured", now + 900000, now + 2),
                     CC_ACS_NONCE_REPLAY);
    /* a full key's own nonces are all still remembered */
    for (int i = 0; i < 1000; i++) {
        snprintf(nonce, sizeof nonce, "flood%d", i);
        assert_int_equal(cc_acs_nonce_seen(st, "attacker7", nonce, now + 900000, now + 3),
                         CC_ACS_NONCE_REPLAY);
    }
    /* the victim's share is its own */
    assert_int_equal(cc_acs_nonce_seen(st, "victim", "next", now + 900000, now + 3),
                     CC_ACS_NONCE_NEW);
    assert_true(cc_acs_nonce_retry_ms(st, "attacker7", now + 3) > 800000);
    /* once the window passes, the full key may call again */
    assert_int_equal(cc_acs_nonce_seen(st, "attacker7", "later", now + 2000000, now + 900001),
                     CC_ACS_NONCE_NEW);
    cc_acs_state_free(st);
}

/* Nonces expiring one by one make room one by one; idle keys are freed. */
static void a_full_share_frees_as_nonces_expire(void **state)
{
    (void)state;
    struct cc_acs_state *st = cc_acs_state_new(6000, 100);
    int64_t now = 1000;
    char nonce[32];
    for (int i = 0; i < 100; i++) {
        snprintf(nonce, sizeof nonce, "n%d", i);
        assert_int_equal(cc_acs_nonce_seen(st, "k", nonce, now + 1000 + i, now), CC_ACS_NONCE_NEW);
    }
    assert_int_equal(cc_acs_nonce_seen(st, "k", "x", now + 5000, now), CC_ACS_NONCE_FULL);
    assert_int_equal(cc_acs_nonce_retry_ms(st, "k", now), 1000);
    /* n0 has expired: one new nonce fits, the next does not */
    assert_int_equal(cc_acs_nonce_seen(st, "k", "x", now + 5000, now + 1000), CC_ACS_NONCE_NEW);
    assert_int_equal(cc_acs_nonce_seen(st, "k", "y", now + 5000, now + 1000), CC_ACS_NONCE_FULL);
    assert_int_equal(cc_acs_nonce_seen(st, "k", "n50", now + 5000, now + 1000),
                     CC_ACS_NONCE_REPLAY);
    /* many keys come and go (freed by the sweep: ASan checks nothing leaks) */
    char key[24];
    for (int k = 0; k < 20000; k++) {
        snprintf(key, sizeof key, "k%d", k);
        cc_acs_nonce_seen(st, key, "once", now + 10, now);
        cc_acs_nonce_seen(st, "k", "poll", now + 10, now + 100000 + k);
    }
    cc_acs_state_free(st);
}

static void the_rate_is_per_key_with_a_ten_second_burst(void **state)
{
    (void)state;
    struct cc_acs_state *st = cc_acs_state_new(60, 0); /* 1 a second, bursts of 10 */
    int64_t now = 5000;
    for (int i = 0; i < 10; i++)
        assert_int_equal(cc_acs_throttle(st, "k", now), 0);
    int64_t wait = cc_acs_throttle(st, "k", now);
    assert_true(wait >= 999 && wait <= 1001);
    assert_int_equal(cc_acs_throttle(st, "other", now), 0);
    assert_true(cc_acs_throttle(st, "k", now + 500) > 0);
    assert_int_equal(cc_acs_throttle(st, "k", now + 1001), 0);
    /* A long pause refills only up to the burst. */
    for (int i = 0; i < 10; i++)
        assert_int_equal(cc_acs_throttle(st, "k", now + 1000000), 0);
    assert_true(cc_acs_throttle(st, "k", now + 1000000) > 0);
    cc_acs_state_free(st);

    st = cc_acs_state_new(3, 0); /* less than one a ten seconds: a burst of one */
    assert_int_equal(cc_acs_throttle(st, "k", now), 0);
    wait = cc_acs_throttle(st, "k", now);
    assert_true(wait >= 19999 && wait <= 20001);
    cc_acs_state_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(form_is_decoded_like_a_form),
        cmocka_unit_test(form_refuses_duplicates_nul_and_too_many),
        cmocka_unit_test(timestamps_are_strict),
        cmocka_unit_test(v1_list_contact_vector),
        cmocka_unit_test(v1_create_contact_vector_query_and_form),
        cmocka_unit_test(v1_claim_errors),
        cmocka_unit_test(acs3_list_contact_vector),
        cmocka_unit_test(acs3_form_body_vector),
        cmocka_unit_test(acs3_claim_needs_the_important_headers_signed),
        cmocka_unit_test(nonces_are_used_once_per_key_within_the_window),
        cmocka_unit_test(a_flood_from_other_keys_never_evicts_a_live_nonce),
        cmocka_unit_test(a_full_share_frees_as_nonces_expire),
        cmocka_unit_test(the_rate_is_per_key_with_a_ten_second_burst),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
