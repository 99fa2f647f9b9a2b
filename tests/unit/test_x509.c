/*
 * test_x509.c — unit tests of core/x509.c with real certificates made by the
 * `openssl` command in a temporary directory (group setup): a leaf with its
 * chain parsed into every field, each refusal (no certificate, a damaged
 * block, a block that is not a certificate, a chain out of order, a private
 * key inside), private keys that match and that do not, and the small
 * parsers of metadata (times, domain names) and states.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "util/util.h"
#include "pki_fixture.h"

static struct pki_fixture pki;

static int setup(void **state)
{
    (void)state;
    return pki_fixture_make(&pki);
}

static int teardown(void **state)
{
    (void)state;
    return pki_fixture_remove(&pki);
}

/* Parses pem and expects a refusal of field with a message containing want. */
static void refused(const char *pem, const char *field, const char *want)
{
    struct cc_certificate c;
    struct cc_error err;
    memset(&c, 0, sizeof c);
    enum cc_err rc = cc_x509_parse(pem, strlen(pem), &c, &err);
    assert_int_not_equal(rc, CC_OK);
    assert_string_equal(err.field, field);
    if (!strstr(err.message, want))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, want);
    assert_null(c.pem);
    assert_null(c.domains);
}

static void parses_leaf_and_chain(void **state)
{
    (void)state;
    char *pem = pki_cat(pki.leaf, pki.inter);
    struct cc_certificate c;
    struct cc_error err;
    memset(&c, 0, sizeof c);
    assert_int_equal(cc_x509_parse(pem, strlen(pem), &c, &err), CC_OK);
    assert_string_equal(c.common_name, "www.example.com");
    assert_string_equal(c.domains, "[\"www.example.com\",\"example.com\"]");
    assert_non_null(strstr(c.issuer, "CN=Unit Intermediate"));
    assert_true(strlen(c.serial) > 0);
    assert_string_equal(c.key_type, "EC");
    assert_int_equal(c.key_bits, 256);
    assert_int_equal(strlen(c.fingerprint), 64);
    assert_int_equal(c.chain_len, 2);
    int64_t now = cc_now_ms();
    assert_true(c.not_before <= now && c.not_before > now - 86400000);
    assert_true(c.not_after > now + 9 * 86400000LL && c.not_after <= now + 10 * 86400000LL);
    assert_string_equal(c.pem, pem);
    cc_certificate_clear(&c);
    assert_null(c.pem);
    cc_free(pem);
}

static void same_leaf_same_fingerprint(void **state)
{
    (void)state;
    struct cc_certificate a, b;
    struct cc_error err;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    char *pem = pki_cat(pki.leaf, pki.inter);
    assert_int_equal(cc_x509_parse(pki.leaf, strlen(pki.leaf), &a, &err), CC_OK);
    assert_int_equal(cc_x509_parse(pem, strlen(pem), &b, &err), CC_OK);
    assert_string_equal(a.fingerprint, b.fingerprint);
    assert_int_equal(a.chain_len, 1);
    cc_certificate_clear(&a);
    cc_certificate_clear(&b);
    cc_free(pem);
}

static void refuses_what_is_not_a_certificate(void **state)
{
    (void)state;
    refused("garbage", "Pem", "no certificate");
    refused(pki.csr, "Pem", "not a certificate");
    refused("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n", "Pem",
            "not a valid X.509");
    refused("-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "Pem",
            "damaged");
    struct cc_certificate c;
    struct cc_error err;
    memset(&c, 0, sizeof c);
    assert_int_equal(cc_x509_parse("", 0, &c, &err), CC_ERR_MISSING_PARAMETER);
}

static void refuses_a_chain_out_of_order(void **state)
{
    (void)state;
    char *pem = pki_cat(pki.inter, pki.leaf);
    refused(pem, "Pem", "out of order");
    cc_free(pem);
    /* the root does not issue the leaf */
    pem = pki_cat(pki.leaf, pki.root);
    refused(pem, "Pem", "certificate 1 (www.example.com) is not issued by certificate 2");
    cc_free(pem);
}

static void refuses_a_private_key_inside(void **state)
{
    (void)state;
    char *pem = pki_cat(pki.leaf, pki.leaf_key);
    refused(pem, "Pem", "private key");
    cc_free(pem);
    refused("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", "Pem",
            "private key");
}

static void matches_its_private_key(void **state)
{
    (void)state;
    struct cc_error err;
    assert_int_equal(cc_x509_key_matches(pki.leaf, pki.leaf_key, strlen(pki.leaf_key), &err), CC_OK);
    assert_int_equal(cc_x509_key_matches(pki.leaf, pki.other_key, strlen(pki.other_key), &err),
                     CC_ERR_INCORRECT_FORMAT);
    assert_string_equal(err.field, "PrivateKey");
    assert_non_null(strstr(err.message, "does not match"));
    assert_int_equal(cc_x509_key_matches(pki.leaf, "junk", 4, &err), CC_ERR_INCORRECT_FORMAT);
    assert_non_null(strstr(err.message, "not a PEM private key"));
    assert_int_equal(cc_x509_key_matches(pki.leaf, "", 0, &err), CC_ERR_MISSING_PARAMETER);
    const char *enc = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    assert_int_equal(cc_x509_key_matches(pki.leaf, enc, strlen(enc), &err), CC_ERR_INCORRECT_FORMAT);
    assert_non_null(strstr(err.message, "pass phrase"));
}

static void parses_times(void **state)
{
    (void)state;
    int64_t ms;
    assert_int_equal(cc_cert_parse_time("2027-01-31", &ms), 0);
    assert_int_equal(ms, 1801353600000LL);
    assert_int_equal(cc_cert_parse_time("2027-01-31T08:00:00+08:00", &ms), 0);
    assert_int_equal(ms, 1801353600000LL);
    assert_int_equal(cc_cert_parse_time("2027-01-31T00:00:01.5Z", &ms), 0);
    assert_int_equal(ms, 1801353601000LL);
    const char *bad[] = {"", "2027", "2027-02-30", "2027-13-01", "2027-01-31T25:00:00Z",
                         "2027-01-31T00:00:00", "2027-01-31 00:00:00Z", "soon", "2027-01-31Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cc_cert_parse_time(bad[i], &ms) == 0)
            fail_msg("\"%s\" parsed", bad[i]);
}

static void checks_domains(void **state)
{
    (void)state;
    char out[CC_DOMAIN_MAX + 1];
    struct cc_error err;
    assert_int_equal(cc_cert_check_domain("WWW.Example.com", out, sizeof out, &err), CC_OK);
    assert_string_equal(out, "www.example.com");
    assert_int_equal(cc_cert_check_domain("*.example.com", out, sizeof out, &err), CC_OK);
    assert_int_equal(cc_cert_check_domain("xn--fiqs8s.example", out, sizeof out, &err), CC_OK);
    /* the same rule as an application's names: U-labels become A-labels */
    assert_int_equal(cc_cert_check_domain("*.中国.example", out, sizeof out, &err), CC_OK);
    assert_string_equal(out, "*.xn--fiqs8s.example");
    assert_int_equal(cc_cert_check_domain("example.com.", out, sizeof out, &err), CC_OK);
    assert_string_equal(out, "example.com");
    const char *bad[] = {"", "localhost", "a..b.com", "-a.example.com", "a-.example.com",
                         "www.*.example.com", "*example.com", "a b.com", "a_b.example.com"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (cc_cert_check_domain(bad[i], out, sizeof out, &err) == CC_OK)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_string_equal(err.field, "Domains");
    }
}

static void states(void **state)
{
    (void)state;
    assert_int_equal(cc_cert_state_at(CC_CERT_ACTIVE, 1000, 999), CC_CERT_ACTIVE);
    assert_int_equal(cc_cert_state_at(CC_CERT_ACTIVE, 1000, 1000), CC_CERT_EXPIRED);
    assert_int_equal(cc_cert_state_at(CC_CERT_REVOKED, 1000, 2000), CC_CERT_REVOKED);
    assert_int_equal(cc_cert_state_at(CC_CERT_SUPERSEDED, 1000, 2000), CC_CERT_SUPERSEDED);
    for (int s = CC_CERT_ACTIVE; s <= CC_CERT_SUPERSEDED; s++)
        assert_int_equal(cc_cert_state_parse(cc_cert_state_name(s)), s);
    assert_int_equal((int)cc_cert_state_parse("valid"), -1);
}

static void reads_details_for_alibaba(void **state)
{
    (void)state;
    char *pem = pki_cat(pki.leaf, pki.inter);
    struct cc_x509_details *d = cc_calloc(1, sizeof *d);
    struct cc_error err;
    assert_int_equal(cc_x509_details(pem, d, &err), CC_OK);
    assert_int_equal(strlen(d->sha1), 40);
    for (const char *p = d->sha1; *p; p++)
        assert_true((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'F'));
    assert_string_equal(d->issuer_org, "Unit Intermediate"); /* no O: its CN */
    assert_string_equal(d->org, "");
    assert_int_equal(d->n_chain, 2);
    assert_string_equal(d->chain[0].subject_cn, "www.example.com");
    assert_string_equal(d->chain[0].issuer_cn, "Unit Intermediate");
    assert_string_equal(d->chain[1].subject_cn, "Unit Intermediate");
    assert_string_equal(d->chain[1].issuer_cn, "Unit Root");
    assert_true(d->chain[0].not_after > d->chain[0].not_before);
    /* the same leaf, the same SHA-1 */
    char sha1[41];
    memcpy(sha1, d->sha1, sizeof sha1);
    assert_int_equal(cc_x509_details(pki.leaf, d, &err), CC_OK);
    assert_string_equal(d->sha1, sha1);
    assert_int_equal(d->n_chain, 1);
    /* an organization's certificate: its subject's O, ST, L and C */
    assert_int_equal(pki_sh(&pki, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                                  "-nodes -keyout ov.key -out ov.pem -days 5 -subj "
                                  "'/C=CN/ST=Zhejiang/L=Hangzhou/O=Example Ltd/CN=ov.example.com'"),
                     0);
    char *ov = pki_read(&pki, "ov.pem");
    assert_int_equal(cc_x509_details(ov, d, &err), CC_OK);
    assert_string_equal(d->org, "Example Ltd");
    assert_string_equal(d->province, "Zhejiang");
    assert_string_equal(d->city, "Hangzhou");
    assert_string_equal(d->country, "CN");
    assert_string_equal(d->issuer_org, "Example Ltd");
    cc_free(ov);
    assert_int_equal(cc_x509_details("not a pem", d, &err), CC_ERR_INCORRECT_FORMAT);
    assert_int_equal(d->n_chain, 0);
    cc_free(d);
    cc_free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parses_leaf_and_chain),
        cmocka_unit_test(same_leaf_same_fingerprint),
        cmocka_unit_test(refuses_what_is_not_a_certificate),
        cmocka_unit_test(refuses_a_chain_out_of_order),
        cmocka_unit_test(refuses_a_private_key_inside),
        cmocka_unit_test(matches_its_private_key),
        cmocka_unit_test(parses_times),
        cmocka_unit_test(checks_domains),
        cmocka_unit_test(states),
        cmocka_unit_test(reads_details_for_alibaba),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
