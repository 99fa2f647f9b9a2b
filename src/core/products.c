/*
 * products.c — the table of certificate products and the check of the
 * domains an application names (IDNA2008 through libidn2, wildcards, the
 * product's limits). Pure: the service applies them (service/applications.c).
 *
 * A product is a row: adding one is adding a row. Codes are stable and
 * Alibaba's own codes are rows as Alibaba spells them, so its API can pass
 * them through unchanged.
 */
#include <string.h>

#include <idn2.h>

#include "core/core.h"
#include "core/products.h"
#include "util/util.h"

#define DV CC_VALIDATION_DV
#define OV CC_VALIDATION_OV
#define EV CC_VALIDATION_EV
#define ONE CC_COVER_SINGLE
#define WILD CC_COVER_WILDCARD
#define MULTI CC_COVER_MULTI

static const struct cc_product products[] = {
    /* Alibaba Cloud's codes (brand-validation-coverage-edition) */
    {"digicert-free-1-free", "DigiCert", DV, ONE, 1, "DigiCert DV single domain (free)", 0},
    {"digicert-dv-1-basic", "DigiCert", DV, ONE, 1, "DigiCert DV single domain", 0},
    {"digicert-ov-1-personal", "DigiCert", OV, ONE, 1, "DigiCert OV single domain", 0},
    {"digicert-ov-w-personal", "DigiCert", OV, WILD, 1, "DigiCert OV wildcard", 0},
    {"digicert-ov-m-personal", "DigiCert", OV, MULTI, 100, "DigiCert OV multi-domain", 0},
    {"digicert-ev-1-advanced", "DigiCert", EV, ONE, 1, "DigiCert EV single domain", 0},
    {"digicert-ev-m-advanced", "DigiCert", EV, MULTI, 100, "DigiCert EV multi-domain", 0},
    {"symantec-ov-1-personal", "DigiCert", OV, ONE, 1, "DigiCert (Symantec) Secure Site OV", 0},
    {"symantec-ov-w-personal", "DigiCert", OV, WILD, 1, "DigiCert (Symantec) Secure Site OV wildcard", 0},
    {"symantec-ev-1-advanced", "DigiCert", EV, ONE, 1, "DigiCert (Symantec) Secure Site EV", 0},
    {"geotrust-dv-1-starter", "GeoTrust", DV, ONE, 1, "GeoTrust DV single domain", 0},
    {"geotrust-dv-w-starter", "GeoTrust", DV, WILD, 1, "GeoTrust DV wildcard", 0},
    {"geotrust-ov-1-personal", "GeoTrust", OV, ONE, 1, "GeoTrust OV single domain", 0},
    {"geotrust-ov-w-personal", "GeoTrust", OV, WILD, 1, "GeoTrust OV wildcard", 0},
    {"geotrust-ev-1-advanced", "GeoTrust", EV, ONE, 1, "GeoTrust EV single domain", 0},
    {"globalsign-dv-1-personal", "GlobalSign", DV, ONE, 1, "GlobalSign DV single domain", 0},
    {"globalsign-dv-w-personal", "GlobalSign", DV, WILD, 1, "GlobalSign DV wildcard", 0},
    {"globalsign-ov-1-personal", "GlobalSign", OV, ONE, 1, "GlobalSign OV single domain", 0},
    {"globalsign-ov-w-advanced", "GlobalSign", OV, WILD, 1, "GlobalSign OV wildcard", 0},
    {"globalsign-ov-m-personal", "GlobalSign", OV, MULTI, 100, "GlobalSign OV multi-domain", 0},
    {"globalsign-ev-1-advanced", "GlobalSign", EV, ONE, 1, "GlobalSign EV single domain", 0},
    {"cfca-dv-1-personal", "CFCA", DV, ONE, 1, "CFCA DV single domain", 0},
    {"cfca-dv-w-personal", "CFCA", DV, WILD, 1, "CFCA DV wildcard", 0},
    {"cfca-ov-1-personal", "CFCA", OV, ONE, 1, "CFCA OV single domain", 0},
    {"cfca-ov-w-advanced", "CFCA", OV, WILD, 1, "CFCA OV wildcard", 0},
    {"cfca-ev-1-advanced", "CFCA", EV, ONE, 1, "CFCA EV single domain", 0},
    {"cfca-ev-w-advanced", "CFCA", EV, WILD, 1, "CFCA EV wildcard", 0},
    {"vtrus-dv-1-personal", "vTrus", DV, ONE, 1, "vTrus DV single domain", 0},
    {"vtrus-dv-w-personal", "vTrus", DV, WILD, 1, "vTrus DV wildcard", 0},
    {"vtrus-ov-1-personal", "vTrus", OV, ONE, 1, "vTrus OV single domain", 0},
    {"vtrus-ov-w-advanced", "vTrus", OV, WILD, 1, "vTrus OV wildcard", 0},
    {"vtrus-ev-1-advanced", "vTrus", EV, ONE, 1, "vTrus EV single domain", 0},
    {"sectigo-dv-1-personal", "Sectigo", DV, ONE, 1, "Sectigo DV single domain", 0},
    {"sectigo-dv-w-personal", "Sectigo", DV, WILD, 1, "Sectigo DV wildcard", 0},
    {"sectigo-dv-m-personal", "Sectigo", DV, MULTI, 100, "Sectigo DV multi-domain", 0},
    {"sectigo-ov-1-personal", "Sectigo", OV, ONE, 1, "Sectigo OV single domain", 0},
    {"sectigo-ev-1-advanced", "Sectigo", EV, ONE, 1, "Sectigo EV single domain", 0},
    /* Let's Encrypt: DV only; up to 100 names per certificate */
    {"letsencrypt-dv-1-free", "Let's Encrypt", DV, ONE, 1, "Let's Encrypt single domain", 1},
    {"letsencrypt-dv-w-free", "Let's Encrypt", DV, WILD, 1, "Let's Encrypt wildcard", 1},
    {"letsencrypt-dv-m-free", "Let's Encrypt", DV, MULTI, 100, "Let's Encrypt multi-domain", 1},
    /* Any RFC 8555 CA: the directory is acme_directory_url */
    {"acme-dv-m", "ACME", DV, MULTI, 100, "ACME (directory from configuration)", 1},
};

#undef DV
#undef OV
#undef EV
#undef ONE
#undef WILD
#undef MULTI

const struct cc_product *cc_products(size_t *n)
{
    *n = sizeof products / sizeof products[0];
    return products;
}

const struct cc_product *cc_product_find(const char *code)
{
    if (!code)
        return NULL;
    for (size_t i = 0; i < sizeof products / sizeof products[0]; i++)
        if (strcmp(products[i].code, code) == 0)
            return &products[i];
    return NULL;
}

const char *cc_validation_name(enum cc_validation v)
{
    switch (v) {
    case CC_VALIDATION_OV: return "OV";
    case CC_VALIDATION_EV: return "EV";
    default: return "DV";
    }
}

const char *cc_coverage_name(enum cc_coverage c)
{
    switch (c) {
    case CC_COVER_WILDCARD: return "wildcard";
    case CC_COVER_MULTI: return "multi";
    default: return "single";
    }
}

int cc_product_needs_id_card(const struct cc_product *p)
{
    if (strcmp(p->brand, "CFCA") == 0)
        return 1;
    return p->validation != CC_VALIDATION_DV && strcmp(p->brand, "GlobalSign") != 0;
}

/* 1 when the ASCII name is LDH labels of 1..63 bytes, at least two, no
 * label starting or ending with a hyphen. */
static int ldh_ok(const char *s)
{
    size_t label = 0, labels = 1;
    char prev = '.';
    for (const char *p = s; *p; p++) {
        char c = *p;
        if (c == '.') {
            if (label == 0 || prev == '-')
                return 0;
            labels++;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                   (c == '-' && label > 0)) {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
        prev = c;
    }
    return label > 0 && prev != '-' && labels >= 2;
}

enum cc_err cc_domain_parse(const char *in, struct cc_domain *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    if (!in || !in[0])
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains", "A domain name is empty.");
    size_t len = strlen(in);
    if (len > CC_DOMAIN_U_MAX || !cc_utf8_valid(in, len))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                            "A domain name must be valid UTF-8 of at most %d bytes.",
                            CC_DOMAIN_U_MAX);
    int wildcard = strncmp(in, "*.", 2) == 0;
    const char *rest = wildcard ? in + 2 : in;
    if (strchr(rest, '*'))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                            "\"%.80s\": a wildcard may only be the whole leftmost label (*.example.com).",
                            in);
    /* UTS #46 mapping would drop or rewrite some ASCII (a_b.com → ab.com):
     * ASCII is taken only as letters, digits, hyphens and dots. */
    for (const char *p = rest; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c < 0x80 && !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '-' || c == '.'))
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                                "\"%.80s\" is not a valid domain name: it may hold only letters, "
                                "digits, hyphens and dots.", in);
    }
    char *ascii = NULL;
    int rc = idn2_to_ascii_8z(rest, &ascii,
                              IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL | IDN2_USE_STD3_ASCII_RULES);
    if (rc != IDN2_OK)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                            "\"%.80s\" is not a valid domain name: %s.", in, idn2_strerror(rc));
    cc_ascii_lower(ascii);
    size_t alen = strlen(ascii);
    if (alen && ascii[alen - 1] == '.')
        ascii[--alen] = '\0'; /* the root's dot is not part of the name we store */
    if (alen + (wildcard ? 2 : 0) > CC_DOMAIN_MAX || !ldh_ok(ascii)) {
        idn2_free(ascii);
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                            "\"%.80s\" is not a valid domain name: it needs at least two labels "
                            "of letters, digits and hyphens, at most 253 bytes.", in);
    }
    char *uni = NULL;
    rc = idn2_to_unicode_8z8z(ascii, &uni, 0);
    if (rc != IDN2_OK) {
        idn2_free(ascii);
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                            "\"%.80s\" is not a valid domain name: %s.", in, idn2_strerror(rc));
    }
    const char *w = wildcard ? "*." : "";
    cc_strlcpy(out->ascii, w, sizeof out->ascii);
    cc_strlcpy(out->ascii + strlen(w), ascii, sizeof out->ascii - strlen(w));
    cc_strlcpy(out->unicode, w, sizeof out->unicode);
    cc_strlcpy(out->unicode + strlen(w), uni, sizeof out->unicode - strlen(w));
    idn2_free(ascii);
    idn2_free(uni);
    return CC_OK;
}

enum cc_err cc_domains_check(const struct cc_product *p, const char *const *in, size_t n,
                             struct cc_domain *out, struct cc_error *err)
{
    if (n == 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Domains",
                            "domains must name at least one domain (or give a csr that names them).");
    if (n > (size_t)p->max_domains || n > CC_APP_DOMAINS_MAX)
        return cc_error_setn(err, CC_ERR_LIMIT_EXCEEDED, "Domains", p->max_domains,
                             "%s takes at most %d domain; %zu were given.",
                             "%s takes at most %d domains; %zu were given.", p->code,
                             p->max_domains, n);
    for (size_t i = 0; i < n; i++) {
        enum cc_err rc = cc_domain_parse(in[i], &out[i], err);
        if (rc)
            return rc;
        int wild = out[i].ascii[0] == '*';
        if (p->coverage == CC_COVER_WILDCARD && !wild)
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                                "%s is a wildcard product: \"%.80s\" must be a wildcard "
                                "(*.example.com).", p->code, in[i]);
        if (p->coverage == CC_COVER_SINGLE && wild)
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                                "%s covers one name without a wildcard: \"%.80s\" is a wildcard.",
                                p->code, in[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(out[j].ascii, out[i].ascii) == 0)
                return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                                    "\"%.80s\" is listed twice.", out[i].unicode);
    }
    return CC_OK;
}

/* ---- the states of an application (core/model.h) ----------------------------- */
static const char *const state_names[CC_APP_STATE_COUNT] = {
    [CC_APP_SUBMITTED] = "submitted",
    [CC_APP_PENDING_VALIDATION] = "pending_validation",
    [CC_APP_APPROVED] = "approved",
    [CC_APP_ISSUED] = "issued",
    [CC_APP_REJECTED] = "rejected",
    [CC_APP_CANCELLED] = "cancelled",
};

const char *cc_app_state_name(enum cc_app_state s)
{
    return (unsigned)s < CC_APP_STATE_COUNT ? state_names[s] : "unknown";
}

enum cc_app_state cc_app_state_parse(const char *s)
{
    for (int i = 0; s && i < CC_APP_STATE_COUNT; i++)
        if (strcmp(s, state_names[i]) == 0)
            return (enum cc_app_state)i;
    return CC_APP_STATE_COUNT;
}

int cc_app_transition_allowed(enum cc_app_state from, enum cc_app_state to)
{
    int open = from == CC_APP_SUBMITTED || from == CC_APP_PENDING_VALIDATION ||
               from == CC_APP_APPROVED;
    if (!open)
        return 0; /* issued, rejected and cancelled are final */
    if (to == CC_APP_REJECTED || to == CC_APP_CANCELLED)
        return 1;
    return (int)to == (int)from + 1 && to <= CC_APP_ISSUED;
}

void cc_application_clear(struct cc_application *a)
{
    cc_free(a->domains);
    cc_free(a->csr);
    cc_free(a->certificate_pem);
    a->domains = a->csr = a->certificate_pem = NULL;
}
