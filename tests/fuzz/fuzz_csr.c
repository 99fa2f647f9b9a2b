/*
 * fuzz_csr.c — libFuzzer target for what a certificate application reads
 * from its caller (core/products.c, core/csr.c): domain names, CSRs and
 * issued certificates' PEM.
 *
 * Each input is tried as a domain name (an accepted name must parse again
 * to itself, bounded and lower-case), as PEM text, and as DER wrapped in
 * PEM armour — random bytes rarely make PEM, so wrapping them is what
 * reaches OpenSSL's decoders. Every failure must be IncorrectFormat on the
 * right field with a message.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/products.h"
#include "util/util.h"
#include "fuzz.h"

static void check_domain(const char *s)
{
    struct cc_domain d, again;
    struct cc_error err;
    enum cc_err rc = cc_domain_parse(s, &d, &err);
    if (rc) {
        CHECK(strcmp(err.field, "Domains") == 0 && err.message[0]);
        return;
    }
    CHECK(strlen(d.ascii) <= CC_DOMAIN_MAX && strlen(d.unicode) <= CC_DOMAIN_U_MAX);
    for (const char *p = d.ascii; *p; p++)
        CHECK(!(*p >= 'A' && *p <= 'Z') && (unsigned char)*p < 0x80);
    CHECK(cc_domain_parse(d.ascii, &again, &err) == CC_OK);
    CHECK(strcmp(again.ascii, d.ascii) == 0);
}

static void check_pem(const char *s)
{
    struct cc_csr_info *csr = cc_calloc(1, sizeof *csr);
    struct cc_error err;
    if (cc_csr_parse(s, csr, &err) == CC_OK)
        CHECK(csr->n_names >= 1 && csr->n_names <= CC_CSR_NAMES_MAX);
    else
        CHECK(strcmp(err.field, "Csr") == 0 && err.message[0]);
    struct cc_domain d;
    memset(&d, 0, sizeof d);
    cc_strlcpy(d.ascii, "www.example.com", sizeof d.ascii);
    if (cc_cert_pem_covers(s, &d, 1, &err))
        CHECK(strcmp(err.field, "CertificatePem") == 0 && err.message[0]);
    cc_free(csr);
}

/* data as base64 DER inside armour of kind ("CERTIFICATE REQUEST", ...). */
static void check_armoured(const uint8_t *data, size_t size, const char *kind)
{
    size_t b64 = 4 * ((size + 2) / 3) + 1;
    size_t cap = b64 + 2 * strlen(kind) + 64;
    char *pem = cc_malloc(cap);
    size_t n = (size_t)snprintf(pem, cap, "-----BEGIN %s-----\n", kind);
    n += cc_base64_encode(data, size, pem + n, cap - n);
    snprintf(pem + n, cap - n, "\n-----END %s-----\n", kind);
    check_pem(pem);
    cc_free(pem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = cc_malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    check_domain(s);
    check_pem(s);
    cc_free(s);
    check_armoured(data, size, "CERTIFICATE REQUEST");
    check_armoured(data, size, "CERTIFICATE");
    return 0;
}
