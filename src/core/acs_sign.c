/*
 * acs_sign.c — Alibaba Cloud request signatures: the strict percent-encoding,
 * the canonical query, HMAC-SHA1 (SignatureVersion 1.0, RPC style) and
 * ACS3-HMAC-SHA256. One implementation serves both directions: delivery/
 * signs its SendSms calls with it and the Alibaba-compatible API checks
 * incoming CAS calls with it. Pure code: no I/O, no clock; the caller
 * supplies timestamps and nonces. Spec: ../shared/specs/alibaba-cas-contacts.md.
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/core.h"
#include "util/util.h"

/* The canonical query and the strings built from it are bounded: incoming
 * requests are already bounded by the body limit, and SendSms is small. */
#define ACS_MAX_TEXT (4u << 20)

static int is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

/* Appends the strict encoding of in[0..n) to out. Works on bytes, so UTF-8
 * text becomes one %XX per byte, as Alibaba's servers expect. */
int cc_acs_encode(const char *in, size_t n, struct cc_buf *out)
{
    static const char hexd[] = "0123456789ABCDEF";
    char chunk[192];
    size_t k = 0;
    assert(in || n == 0);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (k + 3 > sizeof chunk) {
            if (cc_buf_append(out, chunk, k))
                return -1;
            k = 0;
        }
        if (is_unreserved(c)) {
            chunk[k++] = (char)c;
        } else {
            chunk[k++] = '%';
            chunk[k++] = hexd[c >> 4];
            chunk[k++] = hexd[c & 15];
        }
    }
    return k ? cc_buf_append(out, chunk, k) : 0;
}

struct enc_pair {
    char *name;   /* owned, cc_free */
    char *value;  /* owned, cc_free */
};

static int cmp_pair(const void *a, const void *b)
{
    const struct enc_pair *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

/* Encodes one string into a fresh heap string, bounded by ACS_MAX_TEXT.
 * Returns NULL when the encoding would exceed the bound; the caller frees
 * the result with cc_free(). */
static char *encode_dup(const char *s)
{
    struct cc_buf b;
    cc_buf_init(&b, ACS_MAX_TEXT);
    if (cc_acs_encode(s, strlen(s), &b)) {
        cc_buf_free(&b);
        return NULL;
    }
    if (!b.len) /* cc_buf_steal() of an unused buffer is not terminated */
        return cc_strdup("");
    return cc_buf_steal(&b, NULL);
}

/* Builds the canonical query of params, leaving out the pair named skip
 * (may be NULL) and pairs with a NULL value; appends it to out. */
static int canonical_query_except(const struct cc_kv *params, size_t n, const char *skip,
                                  struct cc_buf *out)
{
    int rc = -1;
    size_t m = 0;
    struct enc_pair *pairs = n ? cc_calloc(n, sizeof *pairs) : NULL;
    for (size_t i = 0; i < n; i++) {
        assert(params[i].key);
        if (!params[i].value || (skip && strcmp(params[i].key, skip) == 0))
            continue;
        pairs[m].name = encode_dup(params[i].key);
        pairs[m].value = encode_dup(params[i].value);
        m++;
        if (!pairs[m - 1].name || !pairs[m - 1].value)
            goto out;
    }
    if (m > 1)
        qsort(pairs, m, sizeof *pairs, cmp_pair);
    for (size_t i = 0; i < m; i++) {
        if ((i && cc_buf_append(out, "&", 1)) || cc_buf_puts(out, pairs[i].name) ||
            cc_buf_append(out, "=", 1) || cc_buf_puts(out, pairs[i].value))
            goto out;
    }
    rc = 0;
out:
    for (size_t i = 0; i < m; i++) {
        cc_free(pairs[i].name);
        cc_free(pairs[i].value);
    }
    cc_free(pairs);
    return rc;
}

/* Appends the canonical query of params (borrowed) to out. Returns 0, or -1
 * when out's maximum is reached (out then holds a partial query). */
int cc_acs_canonical_query(const struct cc_kv *params, size_t n, struct cc_buf *out)
{
    return canonical_query_except(params, n, NULL, out);
}

/* Signs params (borrowed; a "Signature" entry is ignored) with HMAC-SHA1.
 * Writes the NUL-terminated base64 signature into sig (sigsz >= 29) and, when
 * sts is not NULL, appends the string to sign to it. Returns 0 or -1 (sig too
 * small, or the request too large to sign). */
int cc_acs_sign_v1(const char *method, const struct cc_kv *params, size_t n,
                   const char *secret, char *sig, size_t sigsz, struct cc_buf *sts)
{
    int rc = -1;
    struct cc_buf canon, text;
    char *key = NULL;
    assert(method && secret && sig);
    cc_buf_init(&canon, ACS_MAX_TEXT);
    cc_buf_init(&text, 3 * ACS_MAX_TEXT + 64);
    if (sigsz < 29)
        goto out;
    if (canonical_query_except(params, n, "Signature", &canon))
        goto out;
    if (cc_buf_puts(&text, method) || cc_buf_puts(&text, "&%2F&") ||
        cc_acs_encode(canon.data ? canon.data : "", canon.len, &text))
        goto out;
    size_t klen = strlen(secret);
    key = cc_malloc(klen + 2);
    memcpy(key, secret, klen);
    key[klen] = '&';
    key[klen + 1] = '\0';
    uint8_t mac[20];
    cc_hmac_sha1(key, klen + 1, text.data, text.len, mac);
    if (cc_base64_encode(mac, sizeof mac, sig, sigsz) != 28)
        goto out;
    if (sts && cc_buf_append(sts, text.data, text.len))
        goto out;
    rc = 0;
out:
    if (rc && sigsz)
        sig[0] = '\0';
    if (key) {
        OPENSSL_cleanse(key, strlen(key));
        cc_free(key);
    }
    cc_buf_free(&canon);
    cc_buf_free(&text);
    return rc;
}

/* Appends s without its leading and trailing spaces and tabs. */
static int append_trimmed(struct cc_buf *b, const char *s)
{
    size_t n = strlen(s);
    while (n && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return cc_buf_append(b, s, n);
}

/* Appends a header name in lower case. */
static int append_lower(struct cc_buf *b, const char *s)
{
    for (; *s; s++) {
        char c = (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
        if (cc_buf_append(b, &c, 1))
            return -1;
    }
    return 0;
}

/* Signs with ACS3-HMAC-SHA256. query and headers are borrowed; headers are
 * the signed headers in SignedHeaders order (their names are lower-cased and
 * their values trimmed here). payload_hash is the lower-case hex SHA-256 of
 * the exact body. Writes the NUL-terminated hex signature into sig (sigsz >=
 * 65); appends the canonical request and the string to sign to the buffers
 * that are not NULL. Returns 0 or -1. */
int cc_acs3_sign(const char *method, const struct cc_kv *query, size_t nquery,
                 const struct cc_kv *headers, size_t nheaders, const char *payload_hash,
                 const char *secret, char *sig, size_t sigsz, struct cc_buf *canonical,
                 struct cc_buf *sts)
{
    int rc = -1;
    struct cc_buf creq, text;
    assert(method && payload_hash && secret && sig);
    cc_buf_init(&creq, ACS_MAX_TEXT + 65536);
    cc_buf_init(&text, 128);
    if (sigsz < 65)
        goto out;
    if (cc_buf_puts(&creq, method) || cc_buf_puts(&creq, "\n/\n") ||
        cc_acs_canonical_query(query, nquery, &creq) || cc_buf_append(&creq, "\n", 1))
        goto out;
    for (size_t i = 0; i < nheaders; i++) {
        assert(headers[i].key && headers[i].value);
        if (append_lower(&creq, headers[i].key) || cc_buf_append(&creq, ":", 1) ||
            append_trimmed(&creq, headers[i].value) || cc_buf_append(&creq, "\n", 1))
            goto out;
    }
    if (cc_buf_append(&creq, "\n", 1))
        goto out;
    for (size_t i = 0; i < nheaders; i++)
        if ((i && cc_buf_append(&creq, ";", 1)) || append_lower(&creq, headers[i].key))
            goto out;
    if (cc_buf_append(&creq, "\n", 1) || cc_buf_puts(&creq, payload_hash))
        goto out;
    char hash[65];
    cc_sha256_hex(creq.data, creq.len, hash);
    if (cc_buf_puts(&text, "ACS3-HMAC-SHA256\n") || cc_buf_puts(&text, hash))
        goto out;
    uint8_t mac[32];
    cc_hmac_sha256(secret, strlen(secret), text.data, text.len, mac);
    cc_hex(mac, sizeof mac, sig);
    if (canonical && cc_buf_append(canonical, creq.data, creq.len))
        goto out;
    if (sts && cc_buf_append(sts, text.data, text.len))
        goto out;
    rc = 0;
out:
    if (rc && sigsz)
        sig[0] = '\0';
    cc_buf_free(&creq);
    cc_buf_free(&text);
    return rc;
}
