/*
 * test_products.c — unit tests of core/products.c and core/csr.c: the
 * product table and who needs an ID card, domain names (IDNA, wildcards,
 * duplicates, the product's limits), CSRs made here with `openssl req`
 * (good RSA and ECDSA, names that do not match, weak keys, other curves,
 * garbage) and whether an issued certificate's names cover the domains.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/core.h"
#include "core/products.h"
#include "util/util.h"

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/cc-products-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Runs `openssl req` with args (key options, subject, extensions) writing
 * the CSR (or with -x509 the certificate) to a file and returns its text
 * (cc_free()). */
static char *openssl_pem(const char *args)
{
    char cmd[1024], path[128];
    snprintf(path, sizeof path, "%s/out.pem", tmpdir);
    snprintf(cmd, sizeof cmd, "cd %s && openssl req -new -nodes -keyout key.pem -out %s %s "
             ">/dev/null 2>&1", tmpdir, path, args);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *buf = cc_calloc(1, CC_CSR_MAX * 2);
    size_t n = fread(buf, 1, CC_CSR_MAX * 2 - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

#define RSA2048 "-newkey rsa:2048"
#define SAN(x) "-addext subjectAltName=" x

/* ---- products ------------------------------------------------------------ */
static void alibaba_codes_accepted(void **state)
{
    (void)state;
    const char *codes[] = {"digicert-free-1-free", "symantec-ov-1-personal", "geotrust-dv-w-starter",
                           "globalsign-ov-1-personal", "cfca-ov-1-personal", "cfca-ev-w-advanced"};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        assert_non_null(cc_product_find(codes[i]));
    assert_null(cc_product_find("nope-dv-1"));
    assert_null(cc_product_find(NULL));
    const char *brands[] = {"DigiCert", "GeoTrust", "GlobalSign", "CFCA", "vTrus", "Sectigo",
                            "Let's Encrypt"};
    size_t n;
    const struct cc_product *p = cc_products(&n);
    for (size_t b = 0; b < sizeof brands / sizeof brands[0]; b++) {
        int found = 0;
        for (size_t i = 0; i < n; i++)
            found |= strcmp(p[i].brand, brands[b]) == 0;
        assert_true(found);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(p[i].code, p[j].code);
}

static void id_card_rules(void **state)
{
    (void)state;
    assert_true(cc_product_needs_id_card(cc_product_find("digicert-ov-1-personal")));
    assert_true(cc_product_needs_id_card(cc_product_find("digicert-ev-1-advanced")));
    assert_false(cc_product_needs_id_card(cc_product_find("globalsign-ov-1-personal")));
    assert_false(cc_product_needs_id_card(cc_product_find("globalsign-ev-1-advanced")));
    assert_true(cc_product_needs_id_card(cc_product_find("cfca-ov-1-personal")));
    assert_true(cc_product_needs_id_card(cc_product_find("cfca-ev-w-advanced")));
    assert_true(cc_product_needs_id_card(cc_product_find("cfca-dv-1-personal")));
    assert_false(cc_product_needs_id_card(cc_product_find("digicert-free-1-free")));
}

static void states(void **state)
{
    (void)state;
    assert_true(cc_app_transition_allowed(CC_APP_SUBMITTED, CC_APP_PENDING_VALIDATION));
    assert_true(cc_app_transition_allowed(CC_APP_PENDING_VALIDATION, CC_APP_APPROVED));
    assert_true(cc_app_transition_allowed(CC_APP_APPROVED, CC_APP_ISSUED));
    assert_true(cc_app_transition_allowed(CC_APP_APPROVED, CC_APP_REJECTED));
    assert_true(cc_app_transition_allowed(CC_APP_SUBMITTED, CC_APP_CANCELLED));
    assert_false(cc_app_transition_allowed(CC_APP_SUBMITTED, CC_APP_APPROVED));
    assert_false(cc_app_transition_allowed(CC_APP_SUBMITTED, CC_APP_ISSUED));
    assert_false(cc_app_transition_allowed(CC_APP_ISSUED, CC_APP_CANCELLED));
    assert_false(cc_app_transition_allowed(CC_APP_REJECTED, CC_APP_PENDING_VALIDATION));
    assert_false(cc_app_transition_allowed(CC_APP_SUBMITTED, CC_APP_SUBMITTED));
    assert_int_equal(cc_app_state_parse("pending_validation"), CC_APP_PENDING_VALIDATION);
    assert_int_equal(cc_app_state_parse("bogus"), CC_APP_STATE_COUNT);
}

/* ---- domains --------------------------------------------------------------- */
static void domain_idna(void **state)
{
    (void)state;
    struct cc_domain d;
    struct cc_error err;
    assert_int_equal(cc_domain_parse("例子.中国", &d, &err), CC_OK);
    assert_string_equal(d.ascii, "xn--fsqu00a.xn--fiqs8s");
    assert_string_equal(d.unicode, "例子.中国");
    assert_int_equal(cc_domain_parse("*.Bücher.Example", &d, &err), CC_OK);
    assert_string_equal(d.ascii, "*.xn--bcher-kva.example");
    assert_string_equal(d.unicode, "*.bücher.example");
    assert_int_equal(cc_domain_parse("WWW.Example.COM.", &d, &err), CC_OK);
    assert_string_equal(d.ascii, "www.example.com");
}

static void domain_bad(void **state)
{
    (void)state;
    struct cc_domain d;
    struct cc_error err;
    const char *bad[] = {"", "localhost", "a.*.example.com", "*a.example.com", "**.example.com",
                         "a..example.com", "-a.example.com", "a_b.example.com", "exa mple.com",
                         "*", "*.", "a.example.com/x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_not_equal(cc_domain_parse(bad[i], &d, &err), CC_OK);
        assert_string_equal(err.field, "Domains");
    }
}

static void domains_product_limits(void **state)
{
    (void)state;
    struct cc_domain *d = cc_calloc(CC_APP_DOMAINS_MAX, sizeof *d);
    struct cc_error err;
    const struct cc_product *single = cc_product_find("digicert-ov-1-personal");
    const struct cc_product *wild = cc_product_find("geotrust-dv-w-starter");
    const struct cc_product *multi = cc_product_find("sectigo-dv-m-personal");
    const char *two[] = {"a.example.com", "b.example.com"};
    const char *dup[] = {"a.example.com", "A.Example.com"};
    const char *w[] = {"*.example.com"};
    const char *plain[] = {"example.com"};
    assert_int_equal(cc_domains_check(single, plain, 1, d, &err), CC_OK);
    assert_int_equal(cc_domains_check(single, two, 2, d, &err), CC_ERR_LIMIT_EXCEEDED);
    assert_int_equal(cc_domains_check(single, w, 1, d, &err), CC_ERR_INCORRECT_FORMAT);
    assert_int_equal(cc_domains_check(wild, w, 1, d, &err), CC_OK);
    assert_int_equal(cc_domains_check(wild, plain, 1, d, &err), CC_ERR_INCORRECT_FORMAT);
    assert_int_equal(cc_domains_check(multi, two, 2, d, &err), CC_OK);
    assert_int_equal(cc_domains_check(multi, dup, 2, d, &err), CC_ERR_INCORRECT_FORMAT);
    assert_non_null(strstr(err.message, "twice"));
    assert_int_equal(cc_domains_check(multi, two, 0, d, &err), CC_ERR_MISSING_PARAMETER);
    cc_free(d);
}

/* ---- CSRs ---------------------------------------------------------------- */
static void csr_rsa_good_and_matching(void **state)
{
    (void)state;
    char *pem = openssl_pem(RSA2048 " -subj /CN=www.example.com "
                            SAN("DNS:www.example.com,DNS:api.example.com"));
    struct cc_csr_info *csr = cc_calloc(1, sizeof *csr);
    struct cc_error err;
    assert_int_equal(cc_csr_parse(pem, csr, &err), CC_OK);
    assert_string_equal(csr->key_type, "RSA");
    assert_int_equal(csr->key_bits, 2048);
    assert_int_equal(csr->n_names, 2);
    assert_string_equal(csr->names[0], "www.example.com");
    assert_string_equal(csr->names[1], "api.example.com");
    struct cc_domain d[2];
    struct cc_error e2;
    assert_int_equal(cc_domain_parse("api.example.com", &d[0], &e2), CC_OK);
    assert_int_equal(cc_domain_parse("www.example.com", &d[1], &e2), CC_OK);
    assert_int_equal(cc_csr_match(csr, d, 2, &err), CC_OK);
    /* a name the application lacks, and one the CSR lacks */
    assert_int_equal(cc_csr_match(csr, d, 1, &err), CC_ERR_INCORRECT_FORMAT);
    assert_string_equal(err.field, "Csr");
    assert_non_null(strstr(err.message, "www.example.com"));
    assert_int_equal(cc_domain_parse("other.example.com", &d[1], &e2), CC_OK);
    assert_int_equal(cc_csr_match(csr, d, 2, &err), CC_ERR_INCORRECT_FORMAT);
    cc_free(csr);
    cc_free(pem);
}

static void csr_ec_curves(void **state)
{
    (void)state;
    struct cc_csr_info *csr = cc_calloc(1, sizeof *csr);
    struct cc_error err;
    char *pem = openssl_pem("-newkey ec -pkeyopt ec_paramgen_curve:P-384 -subj /CN=ec.example.com");
    assert_int_equal(cc_csr_parse(pem, csr, &err), CC_OK);
    assert_string_equal(csr->curve, "P-384");
    assert_int_equal(csr->n_names, 1);
    cc_free(pem);
    pem = openssl_pem("-newkey ec -pkeyopt ec_paramgen_curve:secp256k1 -subj /CN=ec.example.com");
    assert_int_equal(cc_csr_parse(pem, csr, &err), CC_ERR_INCORRECT_FORMAT);
    assert_non_null(strstr(err.message, "P-256"));
    cc_free(pem);
    cc_free(csr);
}

static void csr_weak_and_garbage(void **state)
{
    (void)state;
    struct cc_csr_info *csr = cc_calloc(1, sizeof *csr);
    struct cc_error err;
    char *pem = openssl_pem("-newkey rsa:1024 -subj /CN=weak.example.com");
    assert_int_equal(cc_csr_parse(pem, csr, &err), CC_ERR_INCORRECT_FORMAT);
    assert_non_null(strstr(err.message, "1024"));
    assert_string_equal(err.field, "Csr");
    cc_free(pem);
    assert_int_equal(cc_csr_parse("hello", csr, &err), CC_ERR_INCORRECT_FORMAT);
    assert_int_equal(cc_csr_parse("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n"
                                  "-----END CERTIFICATE REQUEST-----\n", csr, &err),
                     CC_ERR_INCORRECT_FORMAT);
    assert_non_null(strstr(err.message, "damaged"));
    pem = openssl_pem(RSA2048 " -subj /O=NoHost");
    assert_int_equal(cc_csr_parse(pem, csr, &err), CC_ERR_INCORRECT_FORMAT);
    assert_non_null(strstr(err.message, "names no domain"));
    cc_free(pem);
    cc_free(csr);
}

/* ---- an issued certificate's names --------------------------------------------- */
static void cert_covers(void **state)
{
    (void)state;
    char *pem = openssl_pem("-x509 -days 30 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                            "-subj /CN=example.com " SAN("DNS:example.com,DNS:*.example.com"));
    struct cc_domain d[2];
    struct cc_error err;
    assert_int_equal(cc_domain_parse("example.com", &d[0], &err), CC_OK);
    assert_int_equal(cc_domain_parse("www.example.com", &d[1], &err), CC_OK);
    assert_int_equal(cc_cert_pem_covers(pem, d, 2, &err), CC_OK);
    assert_int_equal(cc_domain_parse("a.b.example.com", &d[1], &err), CC_OK);
    assert_int_equal(cc_cert_pem_covers(pem, d, 2, &err), CC_ERR_INCORRECT_FORMAT);
    assert_string_equal(err.field, "CertificatePem");
    assert_non_null(strstr(err.message, "a.b.example.com"));
    assert_int_equal(cc_cert_pem_covers("not a pem", d, 1, &err), CC_ERR_INCORRECT_FORMAT);
    assert_true(cc_name_covers("*.example.com", "www.example.com"));
    assert_false(cc_name_covers("*.example.com", "example.com"));
    assert_true(cc_name_covers("*.example.com", "*.example.com"));
    assert_false(cc_name_covers("www.example.com", "*.example.com"));
    cc_free(pem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alibaba_codes_accepted),
        cmocka_unit_test(id_card_rules),
        cmocka_unit_test(states),
        cmocka_unit_test(domain_idna),
        cmocka_unit_test(domain_bad),
        cmocka_unit_test(domains_product_limits),
        cmocka_unit_test(csr_rsa_good_and_matching),
        cmocka_unit_test(csr_ec_curves),
        cmocka_unit_test(csr_weak_and_garbage),
        cmocka_unit_test(cert_covers),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
