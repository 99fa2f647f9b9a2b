/*
 * csr.c — what OpenSSL reads from a certificate signing request and from an
 * issued certificate's PEM, for certificate applications: the CSR's names
 * and key (RSA >= 2048, ECDSA P-256/P-384), whether its names are the
 * application's, and whether a certificate's names cover the application's
 * domains. Pure: memory in, answers out (service/applications.c uses them).
 */
#include <string.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/core.h"
#include "core/products.h"
#include "util/util.h"

/* Adds name (len bytes, not NUL-terminated) lower-cased to the list unless
 * it is there already or is not a host name at all. */
static void add_name(struct cc_csr_info *out, const unsigned char *name, int len)
{
    if (len <= 0 || len > CC_DOMAIN_MAX || out->n_names >= CC_CSR_NAMES_MAX)
        return;
    char tmp[CC_DOMAIN_MAX + 1];
    memcpy(tmp, name, (size_t)len);
    tmp[len] = '\0';
    if (strlen(tmp) != (size_t)len || !strchr(tmp, '.'))
        return; /* an embedded NUL or a bare word: not a host */
    cc_ascii_lower(tmp);
    for (size_t i = 0; i < out->n_names; i++)
        if (strcmp(out->names[i], tmp) == 0)
            return;
    cc_strlcpy(out->names[out->n_names++], tmp, sizeof out->names[0]);
}

/* The subject CN of name (may be NULL) into out. */
static void add_cn(struct cc_csr_info *out, const X509_NAME *subject)
{
    int i = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
    if (i < 0)
        return;
    ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, d);
    if (n > 0)
        add_name(out, utf8, n);
    OPENSSL_free(utf8);
}

/* The DNS names of a GENERAL_NAMES list (may be NULL) into out. */
static void add_sans(struct cc_csr_info *out, const GENERAL_NAMES *sans)
{
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS)
            add_name(out, ASN1_STRING_get0_data(g->d.dNSName), ASN1_STRING_length(g->d.dNSName));
    }
}

/* Checks the key: RSA >= 2048 bits, or EC on P-256 / P-384. */
static enum cc_err check_key(EVP_PKEY *key, struct cc_csr_info *out, struct cc_error *err)
{
    int id = EVP_PKEY_get_base_id(key);
    out->key_bits = EVP_PKEY_get_bits(key);
    if (id == EVP_PKEY_RSA) {
        cc_strlcpy(out->key_type, "RSA", sizeof out->key_type);
        if (out->key_bits < 2048)
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Csr",
                                "The CSR's RSA key has %d bits; at least 2048 are required.",
                                out->key_bits);
        return CC_OK;
    }
    if (id == EVP_PKEY_EC) {
        cc_strlcpy(out->key_type, "EC", sizeof out->key_type);
        char group[64] = "";
        size_t glen = 0;
        EVP_PKEY_get_utf8_string_param(key, "group", group, sizeof group, &glen);
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
            cc_strlcpy(out->curve, "P-256", sizeof out->curve);
        else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
            cc_strlcpy(out->curve, "P-384", sizeof out->curve);
        else
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Csr",
                                "The CSR's EC key is on curve %.40s; only P-256 and P-384 are accepted.",
                                group[0] ? group : "(unknown)");
        return CC_OK;
    }
    return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Csr",
                        "The CSR's key is neither RSA nor ECDSA; use RSA of 2048 bits or more, or "
                        "ECDSA P-256 or P-384.");
}

enum cc_err cc_csr_parse(const char *pem, struct cc_csr_info *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    size_t len = pem ? strlen(pem) : 0;
    if (len == 0 || len > CC_CSR_MAX)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Csr",
                            "csr must be a PEM certificate request of at most %d bytes.", CC_CSR_MAX);
    if (!strstr(pem, "-----BEGIN CERTIFICATE REQUEST-----") &&
        !strstr(pem, "-----BEGIN NEW CERTIFICATE REQUEST-----"))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Csr",
                            "csr is not a PEM certificate request (-----BEGIN CERTIFICATE "
                            "REQUEST-----).");
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    X509_REQ *req = bio ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = NULL;
    STACK_OF(X509_EXTENSION) *exts = NULL;
    GENERAL_NAMES *sans = NULL;
    enum cc_err rc = CC_OK;
    if (!req) {
        rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Csr",
                          "csr could not be read: its PEM or DER content is damaged.");
        goto out;
    }
    key = X509_REQ_get_pubkey(req);
    if (!key) {
        rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Csr", "The CSR holds no public key.");
        goto out;
    }
    if (X509_REQ_verify(req, key) != 1) {
        rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Csr",
                          "The CSR's signature does not verify with its own key.");
        goto out;
    }
    if ((rc = check_key(key, out, err)))
        goto out;
    add_cn(out, X509_REQ_get_subject_name(req));
    exts = X509_REQ_get_extensions(req);
    for (int i = 0; exts && i < sk_X509_EXTENSION_num(exts); i++) {
        X509_EXTENSION *x = sk_X509_EXTENSION_value(exts, i);
        if (OBJ_obj2nid(X509_EXTENSION_get_object(x)) == NID_subject_alt_name) {
            sans = X509V3_EXT_d2i(x);
            break;
        }
    }
    add_sans(out, sans);
    if (out->n_names == 0)
        rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Csr",
                          "The CSR names no domain: neither its subject CN nor a DNS "
                          "subjectAltName is a host name.");
out:
    GENERAL_NAMES_free(sans);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    EVP_PKEY_free(key);
    X509_REQ_free(req);
    BIO_free(bio);
    return rc;
}

static int has_domain(const struct cc_domain *d, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(d[i].ascii, name) == 0)
            return 1;
    return 0;
}

enum cc_err cc_csr_match(const struct cc_csr_info *csr, const struct cc_domain *domains,
                         size_t n, struct cc_error *err)
{
    for (size_t i = 0; i < csr->n_names; i++)
        if (!has_domain(domains, n, csr->names[i]))
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Csr",
                                "The CSR names %.100s, which is not among the application's domains.",
                                csr->names[i]);
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (size_t j = 0; j < csr->n_names && !found; j++)
            found = strcmp(csr->names[j], domains[i].ascii) == 0;
        if (!found)
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Csr",
                                "The CSR does not name %.100s, one of the application's domains.",
                                domains[i].ascii);
    }
    return CC_OK;
}

int cc_name_covers(const char *pattern, const char *domain)
{
    if (strcmp(pattern, domain) == 0)
        return 1;
    if (strncmp(pattern, "*.", 2) != 0 || domain[0] == '*')
        return 0;
    const char *dot = strchr(domain, '.');
    return dot && strcmp(dot + 1, pattern + 2) == 0;
}

enum cc_err cc_cert_pem_covers(const char *pem, const struct cc_domain *domains, size_t n,
                               struct cc_error *err)
{
    size_t len = pem ? strlen(pem) : 0;
    if (len == 0 || len > CC_CERT_PEM_MAX || !strstr(pem, "-----BEGIN CERTIFICATE-----"))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "CertificatePem",
                            "certificate_pem must be a PEM certificate (-----BEGIN "
                            "CERTIFICATE-----) of at most %d bytes.", CC_CERT_PEM_MAX);
    /* Read as every certificate is read (x509.c): its names are the leaf's
     * DNS names, else its CN. */
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    struct cc_error perr;
    enum cc_err rc = cc_x509_parse(pem, len, c, &perr);
    if (rc)
        rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "CertificatePem",
                          "certificate_pem could not be read: %s", perr.message);
    json_t *names = rc ? NULL : json_loads(c->domains ? c->domains : "[]", 0, NULL);
    for (size_t i = 0; i < n && !rc; i++) {
        int covered = 0;
        for (size_t j = 0; j < json_array_size(names) && !covered; j++) {
            const char *name = json_string_value(json_array_get(names, j));
            covered = name && cc_name_covers(name, domains[i].ascii);
        }
        if (!covered)
            rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "CertificatePem",
                              "The certificate does not cover %.100s, one of the application's "
                              "domains.", domains[i].ascii);
    }
    json_decref(names);
    cc_certificate_clear(c);
    cc_free(c);
    return rc;
}
