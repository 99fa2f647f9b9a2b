/*
 * tls.c — the HTTPS listener's certificate and key, through libmicrohttpd's
 * GnuTLS support (Debian's libmicrohttpd12 links libgnutls30).
 *
 * libmicrohttpd asks for the certificate at each handshake through a
 * GnuTLS retrieve callback (MHD_OPTION_HTTPS_CERT_CALLBACK), so a reload
 * only swaps what the callback hands out: connections that are open keep
 * the session they have, and every new handshake gets the new pair. A
 * reload that fails (a file missing, a key that does not match its
 * certificate) keeps the pair in use and says why. GnuTLS may use a pair
 * for as long as a session that took it lives, so a replaced pair is kept
 * until the server stops: a few kilobytes per reload.
 *
 * The callback has no argument of its own, so the pair in use is
 * process-wide: one HTTPS server per process.
 */
#include <pthread.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "http/http_int.h"
#include "util/util.h"

#define CHAIN_MAX 8
#define PEM_MAX (256 * 1024)

struct pair {
    gnutls_pcert_st pcert[CHAIN_MAX];
    unsigned n;
    gnutls_privkey_t key;
    struct pair *older;       /* replaced pairs, kept until cc_tls_free */
};

struct cc_tls {
    char cert_file[1024];
    char key_file[1024];
};

static pthread_mutex_t tls_mu = PTHREAD_MUTEX_INITIALIZER;
static struct pair *current; /* the pair new handshakes get */

static void pair_free(struct pair *p)
{
    while (p) {
        struct pair *older = p->older;
        for (unsigned i = 0; i < p->n; i++)
            gnutls_pcert_deinit(&p->pcert[i]);
        if (p->key)
            gnutls_privkey_deinit(p->key);
        cc_free(p);
        p = older;
    }
}

/* Reads the PEM files into a new pair, checking with GnuTLS that the key
 * belongs to the first certificate. NULL and err set on failure. */
static struct pair *pair_load(const struct cc_tls *t, struct cc_error *err)
{
    char *cert = NULL, *key = NULL;
    size_t cert_len = 0, key_len = 0;
    struct pair *p = NULL;
    gnutls_certificate_credentials_t check = NULL;
    if (cc_file_read(t->cert_file, PEM_MAX, &cert, &cert_len)) {
        cc_error_set(err, CC_ERR_CONFIG, NULL, "cannot read tls_cert_file %s", t->cert_file);
        goto out;
    }
    if (cc_file_read(t->key_file, PEM_MAX, &key, &key_len)) {
        cc_error_set(err, CC_ERR_CONFIG, NULL, "cannot read tls_key_file %s", t->key_file);
        goto out;
    }
    gnutls_datum_t cd = {(unsigned char *)cert, (unsigned)cert_len};
    gnutls_datum_t kd = {(unsigned char *)key, (unsigned)key_len};
    int rc = gnutls_certificate_allocate_credentials(&check);
    if (rc == 0)
        rc = gnutls_certificate_set_x509_key_mem2(check, &cd, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc < 0) {
        cc_error_set(err, CC_ERR_CONFIG, NULL,
                     "tls_cert_file and tls_key_file are not a certificate and its key: %s",
                     gnutls_strerror(rc));
        goto out;
    }
    p = cc_calloc(1, sizeof *p);
    p->n = CHAIN_MAX;
    rc = gnutls_pcert_list_import_x509_raw(p->pcert, &p->n, &cd, GNUTLS_X509_FMT_PEM,
                                           GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
    if (rc < 0) {
        p->n = 0;
        cc_error_set(err, CC_ERR_CONFIG, NULL,
                     "tls_cert_file must hold the certificate, then its chain (at most %d): %s",
                     CHAIN_MAX, gnutls_strerror(rc));
        goto fail;
    }
    rc = gnutls_privkey_init(&p->key);
    if (rc == 0)
        rc = gnutls_privkey_import_x509_raw(p->key, &kd, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc < 0) {
        cc_error_set(err, CC_ERR_CONFIG, NULL, "tls_key_file holds no usable key: %s",
                     gnutls_strerror(rc));
        goto fail;
    }
    goto out;
fail:
    pair_free(p);
    p = NULL;
out:
    if (check)
        gnutls_certificate_free_credentials(check);
    if (key) {
        memset(key, 0, key_len); /* the private key's text */
        cc_free(key);
    }
    cc_free(cert);
    return p;
}

/* GnuTLS's gnutls_certificate_retrieve_function2: the pair in use. */
static int retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                    const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                    gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
    (void)session;
    (void)req_ca_rdn;
    (void)nreqs;
    (void)pk_algos;
    (void)pk_algos_length;
    pthread_mutex_lock(&tls_mu);
    struct pair *p = current;
    pthread_mutex_unlock(&tls_mu);
    if (!p)
        return -1;
    *pcert = p->pcert;
    *pcert_length = p->n;
    *pkey = p->key;
    return 0;
}

void *cc_tls_retrieve_callback(void)
{
    return (void *)retrieve;
}

enum cc_err cc_tls_new(const char *cert_file, const char *key_file, struct cc_tls **out,
                       struct cc_error *err)
{
    struct cc_tls *t = cc_calloc(1, sizeof *t);
    cc_strlcpy(t->cert_file, cert_file, sizeof t->cert_file);
    cc_strlcpy(t->key_file, key_file, sizeof t->key_file);
    struct pair *p = pair_load(t, err);
    if (!p) {
        cc_free(t);
        return err->code;
    }
    pthread_mutex_lock(&tls_mu);
    p->older = current; /* none, unless an earlier server did not free its own */
    current = p;
    pthread_mutex_unlock(&tls_mu);
    *out = t;
    return CC_OK;
}

enum cc_err cc_tls_reload(struct cc_tls *t, struct cc_error *err)
{
    struct pair *p = pair_load(t, err);
    if (!p)
        return err->code;
    pthread_mutex_lock(&tls_mu);
    p->older = current;
    current = p;
    pthread_mutex_unlock(&tls_mu);
    return CC_OK;
}

void cc_tls_free(struct cc_tls *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&tls_mu);
    struct pair *p = current;
    current = NULL;
    pthread_mutex_unlock(&tls_mu);
    pair_free(p);
    cc_free(t);
}
