/*
 * acme_int.h — the parts of certcontacts' ACME client (RFC 8555) that the
 * service's files share: the keys and JSON Web Signatures (acme_jws.c) and
 * the protocol client (acme_client.c) that service/acme.c drives.
 */
#ifndef CC_SERVICE_ACME_INT_H
#define CC_SERVICE_ACME_INT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "core/core.h"
#include "core/limits.h"

/* ---- acme_jws.c: keys, JWK, JWS (RFC 7515/7517/7638) ----------------------- */
/* base64url without padding of n bytes; owned by the caller (cc_free). */
char *acme_b64url(const void *in, size_t n);
/* A new key: "ec256" (ECDSA P-256, the default), "rsa2048", "rsa3072" or
 * "rsa4096", as a PKCS#8 PEM (owned: cc_free, wipe first); NULL on failure. */
char *acme_key_generate(const char *type);
/* The key of a PEM (a private key), or NULL. */
EVP_PKEY *acme_key_load(const char *pem);
/* The public JWK of an ECDSA P-256 key, members in lexicographic order (as
 * the thumbprint needs); owned: json_decref. */
json_t *acme_jwk(EVP_PKEY *k);
/* The JWK thumbprint (RFC 7638, SHA-256, base64url) into out (44 bytes). */
int acme_thumbprint(EVP_PKEY *k, char out[44]);
/* A flattened JWS (RFC 8555 6.2) of payload (NULL: POST-as-GET, an empty
 * payload) signed ES256 with k, naming the account by kid, or by its JWK
 * when kid is NULL; owned: free(). */
char *acme_jws(EVP_PKEY *k, const char *kid, const char *nonce, const char *url,
               const char *payload);
/* The externalAccountBinding object (RFC 8555 7.3.4): the account's JWK
 * signed HS256 with the CA's MAC key (base64url, as CAs hand it out) under
 * key id eab_kid for url; NULL when the MAC key is not base64url. */
json_t *acme_eab(const char *eab_kid, const char *mac_key_b64url, EVP_PKEY *account,
                 const char *url);
/* A CSR (DER, base64url) for the n names with key k; the first is the CN. */
char *acme_csr_make(EVP_PKEY *k, const char *const *names, size_t n);
/* A PEM CSR as DER, base64url (the form finalize takes); NULL when not a CSR. */
char *acme_csr_pem_to_b64url(const char *pem);
/* The DNS-01 TXT value of a key authorization: base64url(SHA-256(ka)). */
void acme_dns_value(const char *key_authorization, char out[44]);

#endif
