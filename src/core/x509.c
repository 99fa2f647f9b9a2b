/*
 * x509.c — certificates as the model sees them: a PEM bundle (the leaf, then
 * its chain) parsed with OpenSSL into the fields the service stores and
 * filters on, the check that a private key belongs to a certificate, the
 * names of a certificate's states, and the few parsers of a metadata-only
 * certificate (a time, a domain name). Pure: no I/O, nothing kept.
 */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/core.h"
#include "core/products.h"
#include "util/util.h"

static const char *const state_names[] = {"active", "expired", "revoked", "superseded"};

const char *cc_cert_state_name(enum cc_cert_state s)
{
    return (unsigned)s < 4 ? state_names[s] : "active";
}

enum cc_cert_state cc_cert_state_parse(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (!strcmp(s, state_names[i]))
            return (enum cc_cert_state)i;
    return (enum cc_cert_state)-1;
}

enum cc_cert_state cc_cert_state_at(enum cc_cert_state stored, int64_t not_after, int64_t now)
{
    return stored == CC_CERT_ACTIVE && not_after <= now ? CC_CERT_EXPIRED : stored;
}

void cc_certificate_clear(struct cc_certificate *c)
{
    cc_free(c->domains);
    cc_free(c->pem);
    if (c->key_enc)
        memset(c->key_enc, 0, c->key_enc_len);
    cc_free(c->key_enc);
    c->domains = c->pem = NULL;
    c->key_enc = NULL;
    c->key_enc_len = 0;
}

/* ---- time and names ------------------------------------------------------------ */

/* n digits of s as a number within [min, max], or -1. */
static int digits(const char *s, int n, int min, int max)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v < min || v > max ? -1 : v;
}

int cc_cert_parse_time(const char *s, int64_t *ms)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 10 || s[4] != '-' || s[7] != '-')
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    int y = digits(s, 4, 1970, 9999), mo = digits(s + 5, 2, 1, 12), d = digits(s + 8, 2, 1, 31);
    if (y < 0 || mo < 0 || d < 0)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    int64_t offset_s = 0;
    const char *p = s + 10;
    if (*p) {
        if ((*p != 'T' && *p != 't') || n < 20 || p[3] != ':' || p[6] != ':')
            return -1;
        int h = digits(p + 1, 2, 0, 23), mi = digits(p + 4, 2, 0, 59), se = digits(p + 7, 2, 0, 60);
        if (h < 0 || mi < 0 || se < 0)
            return -1;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = se;
        p += 9;
        if (*p == '.') /* fractions of a second are dropped */
            for (p++; isdigit((unsigned char)*p); p++)
                ;
        if ((*p == 'Z' || *p == 'z') && !p[1]) {
            offset_s = 0;
        } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
            int oh = digits(p + 1, 2, 0, 23), om = digits(p + 4, 2, 0, 59);
            if (oh < 0 || om < 0)
                return -1;
            offset_s = (*p == '+' ? 1 : -1) * (int64_t)(oh * 3600 + om * 60);
        } else {
            return -1;
        }
    }
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d) /* 2027-02-31 normalises to March */
        return -1;
    *ms = ((int64_t)t - offset_s) * 1000;
    return 0;
}

enum cc_err cc_cert_check_domain(const char *in, char *out, size_t outsz, struct cc_error *err)
{
    struct cc_domain d;
    enum cc_err rc = cc_domain_parse(in, &d, err); /* the applications' one rule for a name */
    if (rc)
        return rc;
    if (strlen(d.ascii) >= outsz)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains",
                            "A domain name is longer than %d characters.", CC_DOMAIN_MAX);
    cc_strlcpy(out, d.ascii, outsz);
    return CC_OK;
}

/* ---- PEM bundles ------------------------------------------------------------------ */

/* A UTF-8 copy of name's first nid entry into out; "" when it has none. */
static void name_entry(X509_NAME *name, int nid, char *out, size_t outsz)
{
    out[0] = '\0';
    int i = X509_NAME_get_index_by_NID(name, nid, -1);
    if (i < 0)
        return;
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (n >= 0) {
        size_t k = (size_t)n < outsz - 1 ? (size_t)n : outsz - 1;
        memcpy(out, utf8, k);
        out[k] = '\0';
    }
    OPENSSL_free(utf8);
}

/* A UTF-8 copy of the subject's CN into out; "" when it has none. */
static void subject_cn(X509 *x, char *out, size_t outsz)
{
    name_entry(X509_get_subject_name(x), NID_commonName, out, outsz);
}

/* Adds name (lower-cased) to arr unless it is there already or too long. */
static void add_domain(json_t *arr, const char *name, size_t n)
{
    char d[CC_DOMAIN_MAX + 1];
    if (n == 0 || n > CC_DOMAIN_MAX || memchr(name, '\0', n) ||
        json_array_size(arr) >= CC_CERT_DOMAINS_MAX)
        return;
    memcpy(d, name, n);
    d[n] = '\0';
    cc_ascii_lower(d);
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) if (!strcmp(json_string_value(v), d)) return;
    json_array_append_new(arr, json_string(d));
}

/* The leaf's DNS names as a JSON array text (owned: cc_free), the CN when
 * it has none. */
static char *leaf_domains(X509 *x, const char *cn)
{
    json_t *arr = json_array();
    GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS)
            add_domain(arr, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
                       (size_t)ASN1_STRING_length(g->d.dNSName));
    }
    GENERAL_NAMES_free(sans);
    if (json_array_size(arr) == 0 && cn[0])
        add_domain(arr, cn, strlen(cn));
    char *s = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    char *out = cc_strdup(s ? s : "[]");
    free(s);
    return out;
}

static int64_t asn1_time_ms(const ASN1_TIME *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!ASN1_TIME_to_tm(t, &tm))
        return 0;
    return (int64_t)timegm(&tm) * 1000;
}

/* Fills the fields of out that come from the leaf x. */
static void leaf_fields(X509 *x, struct cc_certificate *out)
{
    subject_cn(x, out->common_name, sizeof out->common_name);
    out->domains = leaf_domains(x, out->common_name);

    BIO *b = BIO_new(BIO_s_mem());
    X509_NAME_print_ex(b, X509_get_issuer_name(x), 0, XN_FLAG_RFC2253);
    char *p;
    long n = BIO_get_mem_data(b, &p);
    size_t k = n > 0 ? (size_t)n : 0;
    if (k >= sizeof out->issuer)
        k = sizeof out->issuer - 1;
    memcpy(out->issuer, p, k);
    out->issuer[k] = '\0';
    BIO_free(b);

    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    cc_strlcpy(out->serial, hex ? hex : "", sizeof out->serial);
    OPENSSL_free(hex);
    BN_free(bn);

    EVP_PKEY *pk = X509_get0_pubkey(x);
    int id = pk ? EVP_PKEY_get_base_id(pk) : 0;
    cc_strlcpy(out->key_type,
               id == EVP_PKEY_RSA ? "RSA" : id == EVP_PKEY_EC ? "EC"
               : id == EVP_PKEY_ED25519 ? "Ed25519" : id == EVP_PKEY_DSA ? "DSA" : "other",
               sizeof out->key_type);
    out->key_bits = pk ? EVP_PKEY_get_bits(pk) : 0;
    out->not_before = asn1_time_ms(X509_get0_notBefore(x));
    out->not_after = asn1_time_ms(X509_get0_notAfter(x));

    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    X509_digest(x, EVP_sha256(), md, &mdlen);
    cc_hex(md, mdlen, out->fingerprint);
}

/* Reads the blocks of pem into certs (at most CC_CERT_CHAIN_MAX): each must
 * be a certificate that decodes. */
static enum cc_err read_blocks(const char *pem, size_t len, X509 **certs, int *n,
                               struct cc_error *err)
{
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    enum cc_err rc = CC_OK;
    *n = 0;
    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long dlen = 0;
        ERR_clear_error();
        if (!PEM_read_bio(b, &name, &header, &data, &dlen)) {
            unsigned long e = ERR_peek_last_error();
            if (ERR_GET_REASON(e) != PEM_R_NO_START_LINE)
                rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Pem",
                                  "pem is damaged: block %d is not valid base64 PEM.", *n + 1);
            else if (*n == 0)
                rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Pem",
                                  "pem holds no certificate: expected \"-----BEGIN "
                                  "CERTIFICATE-----\" blocks, the leaf first.");
            break;
        }
        if (strcmp(name, "CERTIFICATE") && strcmp(name, "X509 CERTIFICATE")) {
            rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Pem",
                              "pem block %d is a \"%.40s\", not a certificate.", *n + 1, name);
        } else if (*n == CC_CERT_CHAIN_MAX) {
            rc = cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "Pem",
                              "pem holds more than %d certificates.", CC_CERT_CHAIN_MAX);
        } else {
            const unsigned char *q = data;
            X509 *x = d2i_X509(NULL, &q, dlen);
            if (!x || q != data + dlen) {
                X509_free(x);
                rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Pem",
                                  "pem block %d is not a valid X.509 certificate.", *n + 1);
            } else {
                certs[(*n)++] = x;
            }
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        if (rc)
            break;
    }
    ERR_clear_error();
    BIO_free(b);
    return rc;
}

enum cc_err cc_x509_parse(const char *pem, size_t len, struct cc_certificate *out,
                          struct cc_error *err)
{
    if (!pem || len == 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Pem", "pem is empty.");
    if (len > CC_CERT_PEM_MAX)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "Pem", "pem is longer than %d bytes.",
                            CC_CERT_PEM_MAX);
    if (memchr(pem, '\0', len))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Pem", "pem contains a NUL byte.");
    /* A key never arrives by accident: any private key block is refused
     * before anything is parsed, whatever else the text holds. */
    if (memmem(pem, len, "PRIVATE KEY-----", 16))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Pem",
                            "pem contains a private key: send only certificates in pem, and "
                            "the key, if it is to be kept, in private_key.");
    X509 *certs[CC_CERT_CHAIN_MAX];
    int n = 0;
    enum cc_err rc = read_blocks(pem, len, certs, &n, err);
    for (int i = 0; !rc && i + 1 < n; i++) {
        EVP_PKEY *issuer_key = X509_get0_pubkey(certs[i + 1]);
        if (X509_check_issued(certs[i + 1], certs[i]) != X509_V_OK || !issuer_key ||
            X509_verify(certs[i], issuer_key) != 1) {
            char a[128], b[128];
            subject_cn(certs[i], a, sizeof a);
            subject_cn(certs[i + 1], b, sizeof b);
            rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Pem",
                              "pem's chain is out of order: certificate %d (%.60s) is not issued "
                              "by certificate %d (%.60s). Put the leaf first, then each issuer.",
                              i + 1, a, i + 2, b);
        }
    }
    ERR_clear_error();
    if (!rc) {
        leaf_fields(certs[0], out);
        out->chain_len = n;
        out->pem = cc_strndup(pem, len);
    }
    for (int i = 0; i < n; i++)
        X509_free(certs[i]);
    return rc;
}

/* The PEM pass-phrase callback: none is given, so an encrypted key fails. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return 0;
}

enum cc_err cc_x509_key_matches(const char *cert_pem, const char *key_pem, size_t key_len,
                                struct cc_error *err)
{
    if (key_len == 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "PrivateKey", "private_key is empty.");
    if (key_len > CC_CERT_KEY_PEM_MAX || memchr(key_pem, '\0', key_len))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "PrivateKey",
                            "private_key must be one PEM private key of at most %d bytes.",
                            CC_CERT_KEY_PEM_MAX);
    if (memmem(key_pem, key_len, "ENCRYPTED PRIVATE KEY", 21) ||
        memmem(key_pem, key_len, "Proc-Type: 4,ENCRYPTED", 22))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "PrivateKey",
                            "private_key is encrypted with a pass phrase: send it unencrypted "
                            "(it is encrypted at rest here).");
    BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len);
    BIO *cb = BIO_new_mem_buf(cert_pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL);
    X509 *leaf = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    enum cc_err rc = CC_OK;
    if (!key)
        rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "PrivateKey",
                          "private_key is not a PEM private key.");
    else if (!leaf)
        rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Pem", "pem holds no certificate.");
    else if (EVP_PKEY_eq(X509_get0_pubkey(leaf), key) != 1)
        rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "PrivateKey",
                          "private_key does not match the certificate's public key.");
    ERR_clear_error();
    EVP_PKEY_free(key);
    X509_free(leaf);
    BIO_free(kb);
    BIO_free(cb);
    return rc;
}

/* The upper-case hex SHA-1 of x's DER into out (41 bytes). */
static void sha1_hex(X509 *x, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    out[0] = '\0';
    if (X509_digest(x, EVP_sha1(), md, &n) != 1 || n != 20)
        return;
    cc_hex(md, n, out);
    for (char *p = out; *p; p++)
        *p = (char)toupper((unsigned char)*p);
}

enum cc_err cc_x509_details(const char *pem, struct cc_x509_details *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    X509 *certs[CC_CERT_CHAIN_MAX];
    int n = 0;
    enum cc_err rc = read_blocks(pem, strlen(pem), certs, &n, err);
    if (rc) {
        for (int i = 0; i < n; i++)
            X509_free(certs[i]);
        return rc;
    }
    X509_NAME *subject = X509_get_subject_name(certs[0]);
    X509_NAME *issuer = X509_get_issuer_name(certs[0]);
    sha1_hex(certs[0], out->sha1);
    name_entry(issuer, NID_organizationName, out->issuer_org, sizeof out->issuer_org);
    if (!out->issuer_org[0])
        name_entry(issuer, NID_commonName, out->issuer_org, sizeof out->issuer_org);
    name_entry(subject, NID_organizationName, out->org, sizeof out->org);
    name_entry(subject, NID_stateOrProvinceName, out->province, sizeof out->province);
    name_entry(subject, NID_localityName, out->city, sizeof out->city);
    name_entry(subject, NID_countryName, out->country, sizeof out->country);
    for (int i = 0; i < n; i++) {
        struct cc_x509_chain_entry *e = &out->chain[i];
        subject_cn(certs[i], e->subject_cn, sizeof e->subject_cn);
        name_entry(X509_get_issuer_name(certs[i]), NID_commonName, e->issuer_cn,
                   sizeof e->issuer_cn);
        e->not_before = asn1_time_ms(X509_get0_notBefore(certs[i]));
        e->not_after = asn1_time_ms(X509_get0_notAfter(certs[i]));
        X509_free(certs[i]);
    }
    out->n_chain = n;
    return CC_OK;
}

/* base64url without padding of n bytes into out (outsz); 0 or -1. */
static int b64url(const unsigned char *in, int n, char *out, size_t outsz)
{
    if ((size_t)((n + 2) / 3 * 4 + 1) > outsz)
        return -1;
    int len = EVP_EncodeBlock((unsigned char *)out, in, n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    out[len] = '\0';
    for (char *p = out; *p; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return 0;
}

int cc_x509_ari_id(const char *pem, char *out, size_t outsz)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    int rc = -1;
    const ASN1_OCTET_STRING *aki = x ? X509_get0_authority_key_id(x) : NULL;
    const ASN1_INTEGER *serial = x ? X509_get0_serialNumber(x) : NULL;
    unsigned char *der = NULL;
    int derlen = serial ? i2d_ASN1_INTEGER(serial, &der) : -1;
    /* the INTEGER's content octets: past its tag and (short or long) length */
    int skip = derlen > 2 ? 2 + ((der[1] & 0x80) ? (der[1] & 0x7f) : 0) : derlen;
    char a[128], s[128];
    if (aki && derlen > skip && !b64url(ASN1_STRING_get0_data(aki), ASN1_STRING_length(aki), a,
                                        sizeof a) &&
        !b64url(der + skip, derlen - skip, s, sizeof s) &&
        (size_t)snprintf(out, outsz, "%s.%s", a, s) < outsz)
        rc = 0;
    OPENSSL_free(der);
    X509_free(x);
    ERR_clear_error();
    return rc;
}
