/*
 * fuzz_x509.c — libFuzzer target for the parsers of certificates a client
 * sends (POST /v1/certificates): cc_x509_parse and cc_x509_key_matches on
 * the input as a PEM bundle, and cc_cert_parse_time and
 * cc_cert_check_domain on it as a metadata field. What must always hold: a
 * refusal names its field and frees what it had taken; an accepted bundle
 * has a JSON array of names, a 64-digit fingerprint, at least one
 * certificate and a copy of the input; a name accepted is lower-case and
 * fits.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "util/util.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';

    struct cc_certificate c;
    struct cc_error err;
    memset(&c, 0, sizeof c);
    if (cc_x509_parse(s, size, &c, &err) == CC_OK) {
        CHECK(c.pem && strcmp(c.pem, s) == 0);
        CHECK(c.chain_len >= 1 && c.chain_len <= CC_CERT_CHAIN_MAX);
        CHECK(strlen(c.fingerprint) == 64);
        json_t *d = json_loads(c.domains, 0, NULL);
        CHECK(json_is_array(d) && json_array_size(d) <= CC_CERT_DOMAINS_MAX);
        json_decref(d);
        CHECK(!strstr(s, "PRIVATE KEY-----"));
        cc_x509_key_matches(c.pem, s, size, &err);
    } else {
        CHECK(err.field[0] && err.message[0]);
        CHECK(!c.pem && !c.domains);
    }
    cc_certificate_clear(&c);

    int64_t ms;
    cc_cert_parse_time(s, &ms);
    char name[CC_DOMAIN_MAX + 1];
    if (cc_cert_check_domain(s, name, sizeof name, &err) == CC_OK) {
        CHECK(strlen(name) <= CC_DOMAIN_MAX);
        for (const char *p = name; *p; p++)
            CHECK(!(*p >= 'A' && *p <= 'Z'));
    }
    free(s);
    return 0;
}
