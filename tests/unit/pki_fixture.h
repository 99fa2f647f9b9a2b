/*
 * pki_fixture.h — real certificates for unit tests, made by the `openssl`
 * command in a temporary directory: a root, an intermediate it signs, a
 * leaf (www.example.com and Example.COM, 10 days) the intermediate signs
 * with its EC key, another unrelated key, and the leaf's request.
 * Header-only: each unit test is one program.
 */
#ifndef CC_TEST_PKI_FIXTURE_H
#define CC_TEST_PKI_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct pki_fixture {
    char dir[64];
    char *root, *inter, *leaf, *leaf_key, *other_key, *csr; /* PEM text; cc_free */
};

/* Runs a shell command line in f->dir, quietly. Returns 0 or -1. */
static inline int pki_sh(const struct pki_fixture *f, const char *cmd)
{
    char line[2048];
    snprintf(line, sizeof line, "cd %s && { %s; } >/dev/null 2>&1", f->dir, cmd);
    return system(line) == 0 ? 0 : -1;
}

/* The file name of f->dir as a string (cc_free), or NULL. */
static inline char *pki_read(const struct pki_fixture *f, const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    char *data = NULL;
    size_t len = 0;
    return cc_file_read(path, 1 << 20, &data, &len) ? NULL : data;
}

/* Makes the certificates. Returns 0 or -1. */
static inline int pki_fixture_make(struct pki_fixture *f)
{
    memset(f, 0, sizeof *f);
    cc_strlcpy(f->dir, "/tmp/cc-pki-XXXXXX", sizeof f->dir);
    if (!mkdtemp(f->dir))
        return -1;
    if (pki_sh(f, "openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem "
                  "-subj '/CN=Unit Root' -days 30 -addext basicConstraints=critical,CA:TRUE "
                  "-addext keyUsage=keyCertSign,cRLSign") ||
        pki_sh(f, "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=keyCertSign\\n' > ca.ext") ||
        pki_sh(f, "openssl req -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr "
                  "-subj '/CN=Unit Intermediate'") ||
        pki_sh(f, "openssl x509 -req -in inter.csr -CA root.pem -CAkey root.key -CAcreateserial "
                  "-days 30 -extfile ca.ext -out inter.pem") ||
        pki_sh(f, "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key "
                  "-out leaf.csr -subj '/CN=www.example.com'") ||
        pki_sh(f, "printf 'subjectAltName=DNS:www.example.com,DNS:Example.COM,DNS:www.example.com"
                  "\\n' > leaf.ext") ||
        pki_sh(f, "openssl x509 -req -in leaf.csr -CA inter.pem -CAkey inter.key -CAcreateserial "
                  "-days 10 -extfile leaf.ext -out leaf.pem") ||
        pki_sh(f, "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out other.key"))
        return -1;
    f->root = pki_read(f, "root.pem");
    f->inter = pki_read(f, "inter.pem");
    f->leaf = pki_read(f, "leaf.pem");
    f->leaf_key = pki_read(f, "leaf.key");
    f->other_key = pki_read(f, "other.key");
    f->csr = pki_read(f, "leaf.csr");
    return f->root && f->inter && f->leaf && f->leaf_key && f->other_key && f->csr ? 0 : -1;
}

/* Frees the texts and removes the directory. Returns 0 or -1. */
static inline int pki_fixture_remove(struct pki_fixture *f)
{
    cc_free(f->root), cc_free(f->inter), cc_free(f->leaf), cc_free(f->leaf_key);
    cc_free(f->other_key), cc_free(f->csr);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* a + b as a new string: cc_free(). */
static inline char *pki_cat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = cc_malloc(na + nb + 1);
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

#endif
