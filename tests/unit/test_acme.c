/*
 * test_acme.c — unit tests of service/acme_jws.c, the keys and signatures of
 * the ACME client: base64url, the JWK and its thumbprint, ES256 JWS checked
 * with OpenSSL (raw r || s, the protected header's members, kid or jwk),
 * the external account binding's HS256, CSRs made for an order (read back by
 * core/csr.c) and the DNS-01 value; and the store's side of ACME
 * (store/acme.h) on a real database (service_fixture.h: SQLite, or
 * PostgreSQL with CC_TEST_PG): accounts, orders, challenges, the HTTP-01
 * token, the due orders and renewals, the orders in flight.
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

#include "service_fixture.h"

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

/* ---- the store's side ------------------------------------------------------------ */
/* Runs sql (the same text on both backends) on the fixture's database
 * behind the service's back: 0 or -1. */
static int db_exec(struct svc_fixture *f, const char *sql)
{
    if (f->pg_db[0]) {
        PGconn *c = PQconnectdb(f->url);
        PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
        int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
        if (!ok)
            fprintf(stderr, "%s: %s\n", sql, PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        return ok ? 0 : -1;
    }
    char path[160];
    snprintf(path, sizeof path, "%s/t.db", f->dir);
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db) == SQLITE_OK &&
                     sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
                     sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK
                 ? 0
                 : -1;
    if (rc)
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc;
}

struct acme_write {
    const char *url, *kid;
    const uint8_t *key;
    size_t key_len;
    const struct cc_acme_order *o;
    const struct cc_acme_challenge *ch;
    size_t n;
};

static enum cc_err acme_write_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct acme_write *w = arg;
    enum cc_err rc = CC_OK;
    if (w->key)
        rc = cc_tx_acme_account_create(tx, w->url, w->key, w->key_len, 1000, err);
    if (!rc && w->kid)
        rc = cc_tx_acme_account_kid(tx, w->url, w->kid, err);
    if (!rc && w->o)
        rc = cc_tx_acme_order_put(tx, w->o, err);
    for (size_t i = 0; !rc && i < w->n; i++)
        rc = cc_tx_acme_challenge_put(tx, w->o->application_id, &w->ch[i], err);
    return rc;
}

static void store_accounts(void **state)
{
    (void)state;
    struct svc_fixture f;
    memset(&f, 0, sizeof f);
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    const char *url = "https://ca.example/dir";
    int64_t id = 0;
    uint8_t *key = NULL;
    size_t len = 0;
    char kid[256];
    struct cc_error err;
    assert_int_equal(cc_store_acme_account_get(f.store, url, &id, &key, &len, kid, sizeof kid,
                                               &err), CC_ERR_NOT_FOUND);
    assert_null(key);
    /* the first key stays: a second create is ignored */
    uint8_t k1[] = {1, 0, 2, 3}, k2[] = {9, 9};
    struct acme_write w = {.url = url, .key = k1, .key_len = sizeof k1};
    assert_int_equal(cc_store_write(f.store, acme_write_tx, &w, &err), CC_OK);
    w.key = k2;
    w.key_len = sizeof k2;
    assert_int_equal(cc_store_write(f.store, acme_write_tx, &w, &err), CC_OK);
    assert_int_equal(cc_store_acme_account_get(f.store, url, &id, &key, &len, kid, sizeof kid,
                                               &err), CC_OK);
    assert_true(id > 0);
    assert_int_equal(len, sizeof k1);
    assert_memory_equal(key, k1, sizeof k1);
    assert_string_equal(kid, "");
    cc_free(key);
    struct acme_write wk = {.url = url, .kid = "https://ca.example/acct/7"};
    assert_int_equal(cc_store_write(f.store, acme_write_tx, &wk, &err), CC_OK);
    assert_int_equal(cc_store_acme_account_get(f.store, url, &id, &key, &len, kid, sizeof kid,
                                               &err), CC_OK);
    assert_string_equal(kid, "https://ca.example/acct/7");
    cc_free(key);
    assert_int_equal(svc_fixture_close(&f), 0);
}

static void challenge(struct cc_acme_challenge *ch, const char *authz, const char *type,
                      const char *token, const char *status)
{
    memset(ch, 0, sizeof *ch);
    cc_strlcpy(ch->authz_url, authz, sizeof ch->authz_url);
    cc_strlcpy(ch->identifier, "a.example.com", sizeof ch->identifier);
    cc_strlcpy(ch->type, type, sizeof ch->type);
    cc_strlcpy(ch->url, "https://ca.example/chall", sizeof ch->url);
    cc_strlcpy(ch->token, token, sizeof ch->token);
    snprintf(ch->key_authorization, sizeof ch->key_authorization, "%s.thumb", token);
    cc_strlcpy(ch->status, status, sizeof ch->status);
}

static void store_orders_and_challenges(void **state)
{
    (void)state;
    struct svc_fixture f;
    memset(&f, 0, sizeof f);
    assert_int_equal(svc_fixture_open(&f, 0), 0);
    int64_t acct = f.first.account_id;
    char sql[1024];
    snprintf(sql, sizeof sql,
             "INSERT INTO applications(id, account_id, contact_id, product, state, domains, "
             "version, created_at, updated_at) VALUES "
             "(1001, %lld, 1, 'dv', 'submitted', '[\"a.example.com\"]', 1, 1, 1), "
             "(1002, %lld, 1, 'ov', 'approved', '[\"b.example.com\"]', 1, 1, 1), "
             "(1003, %lld, 1, 'dv', 'issued', '[\"c.example.com\"]', 1, 1, 1); "
             "INSERT INTO certificates(id, account_id, domains, not_after, created_at, "
             "updated_at) VALUES (501, %lld, '[\"c.example.com\"]', 9000000000000, 1, 1)",
             (long long)acct, (long long)acct, (long long)acct, (long long)acct);
    assert_int_equal(db_exec(&f, sql), 0);
    struct cc_error err;
    struct cc_acme_order o;
    assert_int_equal(cc_store_acme_order_get(f.store, 1001, &o, &err), CC_ERR_NOT_FOUND);
    /* an order with its key and two challenges, kept in authorization URL order */
    memset(&o, 0, sizeof o);
    o.application_id = 1001;
    o.account_id = acct;
    cc_strlcpy(o.order_url, "https://ca.example/order/1", sizeof o.order_url);
    cc_strlcpy(o.status, "pending", sizeof o.status);
    uint8_t key[] = {5, 0, 6};
    o.key_enc = key;
    o.key_len = sizeof key;
    o.next_at = 5000;
    o.updated_at = 10;
    cc_strlcpy(o.last_error, "bad nonce", sizeof o.last_error);
    struct cc_acme_challenge ch[2];
    challenge(&ch[0], "https://ca.example/authz/b", "http-01", "tokB", "pending");
    challenge(&ch[1], "https://ca.example/authz/a", "dns-01", "tokA", "pending");
    struct acme_write w = {.o = &o, .ch = ch, .n = 2};
    assert_int_equal(cc_store_write(f.store, acme_write_tx, &w, &err), CC_OK);
    struct cc_acme_order got;
    assert_int_equal(cc_store_acme_order_get(f.store, 1001, &got, &err), CC_OK);
    assert_string_equal(got.order_url, "https://ca.example/order/1");
    assert_string_equal(got.last_error, "bad nonce");
    assert_int_equal(got.key_len, sizeof key);
    assert_memory_equal(got.key_enc, key, sizeof key);
    assert_int_equal(got.certificate_id, 0);
    assert_int_equal(got.renewal_of, 0);
    cc_acme_order_clear(&got);
    struct cc_acme_challenge *v = NULL;
    size_t n = 0;
    assert_int_equal(cc_store_acme_challenges(f.store, 1001, &v, &n, &err), CC_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].authz_url, "https://ca.example/authz/a");
    assert_string_equal(v[1].type, "http-01");
    cc_free(v);
    /* a second put replaces: the key stays when none is given, a challenge takes its new
     * status */
    o.key_enc = NULL;
    o.key_len = 0;
    cc_strlcpy(o.status, "ready", sizeof o.status);
    challenge(&ch[0], "https://ca.example/authz/b", "http-01", "tokB", "valid");
    w.n = 1;
    assert_int_equal(cc_store_write(f.store, acme_write_tx, &w, &err), CC_OK);
    assert_int_equal(cc_store_acme_order_get(f.store, 1001, &got, &err), CC_OK);
    assert_string_equal(got.status, "ready");
    assert_int_equal(got.key_len, sizeof key);
    cc_acme_order_clear(&got);
    assert_int_equal(cc_store_acme_challenges(f.store, 1001, &v, &n, &err), CC_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[1].status, "valid");
    cc_free(v);
    /* the HTTP-01 token answers while the application waits; not a DNS-01 one */
    char ka[256];
    assert_int_equal(cc_store_acme_token(f.store, "tokB", ka, sizeof ka, &err), CC_OK);
    assert_string_equal(ka, "tokB.thumb");
    assert_int_equal(cc_store_acme_token(f.store, "tokA", ka, sizeof ka, &err),
                     CC_ERR_NOT_FOUND);
    /* due: the products asked for, in a waiting state, with no order or one due */
    struct cc_acme_due *due = NULL;
    assert_int_equal(cc_store_acme_due(f.store, "[\"dv\",\"ov\"]", 4000, 10, &due, &n, &err),
                     CC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(due[0].application_id, 1002);
    assert_int_equal(due[0].account_id, acct);
    cc_free(due);
    assert_int_equal(cc_store_acme_due(f.store, "[\"dv\",\"ov\"]", 5000, 1, &due, &n, &err),
                     CC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(due[0].application_id, 1001);
    cc_free(due);
    assert_int_equal(cc_store_acme_due(f.store, "[\"ev\"]", 5000, 10, &due, &n, &err), CC_OK);
    assert_int_equal(n, 0);
    cc_free(due);
    int64_t busy = -1;
    assert_int_equal(cc_store_acme_in_flight(f.store, &busy, &err), CC_OK);
    assert_int_equal(busy, 1);
    /* an issued order with its renewal due */
    struct cc_acme_order r;
    memset(&r, 0, sizeof r);
    r.application_id = 1003;
    r.account_id = acct;
    cc_strlcpy(r.order_url, "https://ca.example/order/3", sizeof r.order_url);
    r.certificate_id = 501;
    r.renew_at = 7000;
    r.renewal_of = 1001;
    struct acme_write wr = {.o = &r};
    assert_int_equal(cc_store_write(f.store, acme_write_tx, &wr, &err), CC_OK);
    assert_int_equal(cc_store_acme_in_flight(f.store, &busy, &err), CC_OK);
    assert_int_equal(busy, 1);
    assert_int_equal(cc_store_acme_renewals_due(f.store, 6999, 10, &due, &n, &err), CC_OK);
    assert_int_equal(n, 0);
    cc_free(due);
    assert_int_equal(cc_store_acme_renewals_due(f.store, 7000, 10, &due, &n, &err), CC_OK);
    assert_int_equal(n, 1);
    assert_int_equal(due[0].application_id, 1003);
    cc_free(due);
    assert_int_equal(cc_store_acme_order_of_cert(f.store, acct, 501, &got, &err), CC_OK);
    assert_int_equal(got.application_id, 1003);
    assert_int_equal(got.renewal_of, 1001);
    assert_null(got.key_enc);
    cc_acme_order_clear(&got);
    assert_int_equal(cc_store_acme_order_of_cert(f.store, acct + 1, 501, &got, &err),
                     CC_ERR_NOT_FOUND);
    /* the token of an application no longer waiting answers nothing */
    assert_int_equal(db_exec(&f, "UPDATE applications SET state = 'issued' WHERE id = 1001"), 0);
    assert_int_equal(cc_store_acme_token(f.store, "tokB", ka, sizeof ka, &err),
                     CC_ERR_NOT_FOUND);
    assert_int_equal(svc_fixture_close(&f), 0);
}

int main(void)
{
    cc_log_set_level(CC_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(b64url),
        cmocka_unit_test(jwk_and_thumbprint),
        cmocka_unit_test(jws_es256),
        cmocka_unit_test(eab_hs256),
        cmocka_unit_test(csr_for_order),
        cmocka_unit_test(rsa_keys_and_dns_value),
        cmocka_unit_test(store_accounts),
        cmocka_unit_test(store_orders_and_challenges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
