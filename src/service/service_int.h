/*
 * service_int.h — helpers shared by the files of the service layer.
 */
#ifndef CC_SERVICE_INT_H
#define CC_SERVICE_INT_H

#include <jansson.h>

#include "service/service.h"

#define AAD_ID_CARD     CC_AAD_ID_CARD
#define AAD_WEBHOOK     CC_AAD_WEBHOOK
#define AAD_ACCESS_KEY  CC_AAD_ACCESS_KEY

/* Encrypts the NUL-terminated pt with the master key and a fresh nonce. */
enum cc_err svc_seal(const struct cc_service *svc, const char *aad, const char *pt,
                     uint8_t *out, size_t outsz, size_t *outlen, struct cc_error *err);
/* Decrypts into out (NUL-terminated). */
enum cc_err svc_open(const struct cc_service *svc, const char *aad, const uint8_t *in,
                     size_t inlen, char *out, size_t outsz, struct cc_error *err);

/* Certificate fields standing in for an event's data in test sends and
 * previews, one value for every template variable (templates.c). Owned by
 * the caller: json_decref(). */
json_t *svc_sample_data(void);

/* Access keys made or disabled by actor (the audit trail's "who": "cli",
 * an access key id, "user:ID"); cc_key_create/cc_key_disable are these for
 * the command line (accounts.c). */
enum cc_err svc_key_create(struct cc_service *svc, const char *actor, int64_t account_id,
                           enum cc_role role, struct cc_new_key *out, struct cc_error *err);
enum cc_err svc_key_disable(struct cc_service *svc, const char *actor, int64_t account_id,
                            const char *key_id, struct cc_error *err);

/* page from 1 to 1000000, page_size from 1 to CC_PAGE_SIZE_MAX. */
enum cc_err svc_check_page(int64_t page, int64_t page_size, struct cc_error *err);

#endif
