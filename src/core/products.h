/*
 * products.h — what a certificate application is about, as pure code: the
 * table of products (brand, validation type, which names it covers, how
 * many), the domains an application names (IDNA, wildcards, the product's
 * limits), and what OpenSSL reads from a CSR and from an issued
 * certificate's PEM (products.c, csr.c). No I/O: the service applies these.
 */
#ifndef CC_PRODUCTS_H
#define CC_PRODUCTS_H

#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/model.h"

/* The most domains any product takes, and the bounds of one name: an
 * A-label name is at most 253 bytes, its U-label form (UTF-8) at most
 * CC_DOMAIN_U_MAX bytes. */
#define CC_APP_DOMAINS_MAX 100
#define CC_DOMAIN_U_MAX    512     /* CC_DOMAIN_MAX: core/model.h */
/* A CSR in a request, in bytes (a certificate's PEM: CC_CERT_PEM_MAX). */
#define CC_CSR_MAX         16384

enum cc_validation { CC_VALIDATION_DV = 0, CC_VALIDATION_OV, CC_VALIDATION_EV };
/* single: one name; wildcard: wildcards only; multi: several names, either. */
enum cc_coverage { CC_COVER_SINGLE = 0, CC_COVER_WILDCARD, CC_COVER_MULTI };

struct cc_product {
    const char *code;            /* stable; Alibaba's codes as Alibaba spells them */
    const char *brand;           /* "DigiCert", "GlobalSign", "CFCA", ... */
    enum cc_validation validation;
    enum cc_coverage coverage;
    int max_domains;
    const char *name;            /* for a person */
    int acme;                    /* 1: fulfilled by certcontacts' own ACME client when
                                  * acme_directory_url is set (service/acme.c) */
};

/* The table, in the order GET /v1/products lists it; *n is its length. */
const struct cc_product *cc_products(size_t *n);
/* The product of code (exact match), or NULL. */
const struct cc_product *cc_product_find(const char *code);
const char *cc_validation_name(enum cc_validation v);   /* "DV", "OV", "EV" */
const char *cc_coverage_name(enum cc_coverage c);       /* "single", "wildcard", "multi" */
/* 1 when the application's contact must have an ID card number: OV and EV
 * except GlobalSign, and every CFCA product. */
int cc_product_needs_id_card(const struct cc_product *p);

/* One name of an application: its A-label (ASCII, lower case, "*." first
 * for a wildcard) and its U-label form (UTF-8; equal for a plain ASCII
 * name). */
struct cc_domain {
    char ascii[CC_DOMAIN_MAX + 1];
    char unicode[CC_DOMAIN_U_MAX + 1];
};

/* Checks one name (UTF-8, borrowed) and fills *out: IDNA2008 (UTS #46
 * non-transitional) to its A-label, at least two labels, letters, digits
 * and hyphens only, a wildcard only as the whole leftmost label. Field
 * "Domains". */
enum cc_err cc_domain_parse(const char *in, struct cc_domain *out, struct cc_error *err);
/* Checks the n names of in (borrowed) for product p into out (room for
 * CC_APP_DOMAINS_MAX): each as cc_domain_parse, no name twice (compared as
 * A-labels), at least one, at most p->max_domains, one name for a single
 * product and only wildcards for a wildcard one. Field "Domains". */
enum cc_err cc_domains_check(const struct cc_product *p, const char *const *in, size_t n,
                             struct cc_domain *out, struct cc_error *err);

/* ---- csr.c: what OpenSSL reads from a CSR and from a certificate ----------- */
#define CC_CSR_NAMES_MAX CC_APP_DOMAINS_MAX
struct cc_csr_info {
    char key_type[8];            /* "RSA", "EC" */
    int key_bits;                /* RSA modulus bits, EC curve bits */
    char curve[16];              /* "P-256", "P-384"; "" for RSA */
    size_t n_names;              /* the subject CN first (when any), then DNS SANs not yet listed */
    char names[CC_CSR_NAMES_MAX][CC_DOMAIN_MAX + 1];  /* lower case, as written in the CSR */
};
/* Parses a PEM CSR (borrowed, at most CC_CSR_MAX bytes): its signature must
 * verify, its key be RSA of at least 2048 bits or ECDSA on P-256 or P-384,
 * and it must name at least one host. A failure is CC_ERR_INCORRECT_FORMAT
 * with field "Csr" and a message saying what is wrong. */
enum cc_err cc_csr_parse(const char *pem, struct cc_csr_info *out, struct cc_error *err);
/* The CSR's names against the application's n domains: both must hold the
 * same set (compared as A-labels). Field "Csr". An application without
 * domains takes the CSR's names instead (the service does). */
enum cc_err cc_csr_match(const struct cc_csr_info *csr, const struct cc_domain *domains,
                         size_t n, struct cc_error *err);
/* Checks that the leaf (first) certificate of pem (borrowed, at most
 * CC_CERT_PEM_MAX bytes) is a certificate whose DNS names (SANs, else the
 * CN) cover each of the n domains: the same name, or a wildcard
 * "*.parent" for a name one label under parent. Field "CertificatePem". */
enum cc_err cc_cert_pem_covers(const char *pem, const struct cc_domain *domains, size_t n,
                               struct cc_error *err);
/* 1 when certificate name pattern (lower-case ASCII) covers domain. */
int cc_name_covers(const char *pattern, const char *domain);

#endif
