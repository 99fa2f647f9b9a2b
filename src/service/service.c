/*
 * service.c — the service object, the master key that encrypts secrets and
 * ID numbers at rest, and the role check every use case starts with.
 *
 * The database records which key its sealed values are written with (the
 * meta row master_key_id, migration 0009), so that a start with the key
 * file missing or replaced is refused with what to restore, instead of
 * running on a new key that reads none of the old values and writes values
 * the real key will not read.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

/* Reads the key file at path into key, or creates it when create is set
 * and the file does not exist. */
static enum cc_err load_key(const char *path, int create, uint8_t key[CC_KEY_LEN],
                            struct cc_error *err)
{
    char *data = NULL;
    size_t len = 0;
    if (cc_file_read(path, 1024, &data, &len) == 0) {
        /* 64 hex characters, optionally followed by a newline. */
        enum cc_err rc = CC_OK;
        while (len && (data[len - 1] == '\n' || data[len - 1] == '\r'))
            len--;
        if (len != 2 * CC_KEY_LEN) {
            rc = cc_error_set(err, CC_ERR_CONFIG, NULL,
                              "master key file %s must hold 64 hex characters", path);
        } else {
            for (size_t i = 0; i < CC_KEY_LEN && !rc; i++) {
                int v = 0;
                for (int h = 0; h < 2; h++) {
                    char c = data[2 * i + (size_t)h];
                    int d = c >= '0' && c <= '9' ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                    if (d < 0)
                        rc = cc_error_set(err, CC_ERR_CONFIG, NULL,
                                          "master key file %s must hold 64 hex characters", path);
                    v = v * 16 + (d < 0 ? 0 : d);
                }
                key[i] = (uint8_t)v;
            }
        }
        memset(data, 0, len);
        cc_free(data);
        return rc;
    }
    if (errno != ENOENT || !create)
        return cc_error_set(err, CC_ERR_CONFIG, NULL, "cannot read master key file %s: %s",
                            path, strerror(errno));
    char hex[2 * CC_KEY_LEN + 2];
    cc_random_bytes(key, CC_KEY_LEN);
    cc_hex(key, CC_KEY_LEN, hex);
    hex[2 * CC_KEY_LEN] = '\n';
    hex[2 * CC_KEY_LEN + 1] = '\0';
    int rc = cc_file_write_atomic(path, hex, 2 * CC_KEY_LEN + 1, 0600);
    memset(hex, 0, sizeof hex);
    if (rc)
        return cc_error_set(err, CC_ERR_IO, NULL, "cannot write master key file %s: %s", path,
                            strerror(errno));
    cc_log(CC_LOG_INFO, "created master key file", "path", path, NULL);
    return CC_OK;
}

/* What the database records of its key: a keyed hash that tells keys apart
 * and says nothing about the key. out: 33 bytes. */
static void key_id(const uint8_t key[CC_KEY_LEN], char out[33])
{
    static const char label[] = "certcontacts master key id";
    uint8_t mac[32];
    cc_hmac_sha256(key, CC_KEY_LEN, label, sizeof label - 1, mac);
    cc_hex(mac, 16, out);
}

enum cc_err cc_service_open_key(struct cc_store *store, const char *path,
                                uint8_t key[CC_KEY_LEN], struct cc_error *err)
{
    static const char meta[] = "master_key_id";
    char recorded[80];
    enum cc_err rc = cc_store_meta_get(store, meta, recorded, sizeof recorded, err);
    if (rc && rc != CC_ERR_NOT_FOUND)
        return rc;
    int has_key = rc == CC_OK;
    struct stat st;
    if (has_key && stat(path, &st) != 0 && errno == ENOENT) {
        return cc_error_set(err, CC_ERR_CONFIG, NULL,
                            "master key file %s is missing, but the database holds data sealed "
                            "with master key %.32s: restore that file from your backup (or set "
                            "master_key_file); a new key could not read that data",
                            path, recorded);
    }
    rc = load_key(path, !has_key, key, err);
    if (rc)
        return rc;
    char id[33];
    key_id(key, id);
    if (has_key && strcmp(recorded, "unknown") != 0) {
        if (strcmp(recorded, id) != 0)
            return cc_error_set(err, CC_ERR_CONFIG, NULL,
                                "master key file %s holds key %s, but the database's data is "
                                "sealed with key %.32s: restore the right key file from your "
                                "backup (or set master_key_file)",
                                path, id, recorded);
        return CC_OK;
    }
    return cc_store_meta_set(store, meta, id, err);
}

struct cc_service *cc_service_new(struct cc_store *store, const uint8_t key[CC_KEY_LEN],
                                  const struct cc_service_config *cfg)
{
    struct cc_service *svc = cc_calloc(1, sizeof *svc);
    svc->store = store;
    memcpy(svc->master_key, key, CC_KEY_LEN);
    if (cfg)
        svc->cfg = *cfg;
    else
        svc->cfg.max_contacts = 10000;
    return svc;
}

void cc_service_free(struct cc_service *svc)
{
    if (!svc)
        return;
    OPENSSL_cleanse(svc, sizeof *svc);
    cc_free(svc);
}

void cc_service_set_delivery(struct cc_service *svc, const struct cc_delivery_config *dc,
                             struct cc_dispatcher *d)
{
    svc->delivery = dc;
    svc->dispatcher = d;
}

void cc_service_thread_done(struct cc_service *svc)
{
    cc_store_thread_done(svc->store);
}

enum cc_err cc_service_ping(struct cc_service *svc, struct cc_error *err)
{
    return cc_store_ping(svc->store, err);
}

enum cc_err cc_service_require(const struct cc_caller *caller, enum cc_role need,
                               struct cc_error *err)
{
    if (caller->role >= need)
        return CC_OK;
    return cc_error_set(err, CC_ERR_FORBIDDEN, NULL,
                        "This action needs the %s role; the %s has the %s role.",
                        cc_role_name(need), caller->user_id ? "console user" : "access key",
                        cc_role_name(caller->role));
}

enum cc_err svc_keyword(const char *keyword, char out[SVC_KEYWORD_SIZE], struct cc_error *err)
{
    out[0] = '\0';
    if (!keyword)
        return CC_OK;
    size_t len = strlen(keyword);
    /* Surrounding white space is not part of what a person searches for. */
    while (len && (keyword[len - 1] == ' ' || keyword[len - 1] == '\t'))
        len--;
    while (len && (*keyword == ' ' || *keyword == '\t'))
        keyword++, len--;
    int ctl = 0;
    for (size_t i = 0; i < len; i++)
        ctl |= (unsigned char)keyword[i] < 0x20 || keyword[i] == 0x7f;
    if (ctl || len >= SVC_KEYWORD_SIZE || !cc_utf8_valid(keyword, len) ||
        cc_utf8_len(keyword, len) > CC_KEYWORD_MAX_CHARS)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Keyword",
                            "keyword must be valid UTF-8 of at most %d characters, without "
                            "control characters.",
                            CC_KEYWORD_MAX_CHARS);
    memcpy(out, keyword, len);
    out[len] = '\0';
    return CC_OK;
}

enum cc_err svc_check_page(int64_t page, int64_t page_size, struct cc_error *err)
{
    if (page < 1 || page > CC_PAGE_MAX)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Page",
                            "page must be a whole number from 1 to %d.", CC_PAGE_MAX);
    if (page_size < 1 || page_size > CC_PAGE_SIZE_MAX)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "PageSize",
                            "page_size must be a whole number from 1 to %d.", CC_PAGE_SIZE_MAX);
    return CC_OK;
}

enum cc_err svc_seal(const struct cc_service *svc, const char *aad, const char *pt,
                     uint8_t *out, size_t outsz, size_t *outlen, struct cc_error *err)
{
    uint8_t nonce[12];
    cc_random_bytes(nonce, sizeof nonce);
    if (cc_aead_seal(svc->master_key, nonce, aad, pt, strlen(pt), out, outsz, outlen))
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "encryption failed");
    return CC_OK;
}

enum cc_err svc_url_seal(const struct cc_service *svc, const char *url, char *tag, uint8_t *enc,
                         size_t encsz, size_t *enclen, char *masked, size_t maskedsz,
                         struct cc_error *err)
{
    char data[CC_URL_MAX + 32];
    uint8_t mac[32];
    int n = snprintf(data, sizeof data, "webhook-url\n%s", url);
    cc_hmac_sha256(svc->master_key, CC_KEY_LEN, data, (size_t)(n > 0 ? n : 0), mac);
    OPENSSL_cleanse(data, sizeof data);
    memcpy(tag, "h1:", 3);
    cc_hex(mac, sizeof mac, tag + 3);
    cc_mask_webhook_url(url, masked, maskedsz);
    return svc_seal(svc, AAD_WEBHOOK_URL, url, enc, encsz, enclen, err);
}

enum cc_err svc_url_open(const struct cc_service *svc, const struct cc_webhook *w, char *out,
                         size_t outsz, struct cc_error *err)
{
    out[0] = '\0';
    if (!w->url_enc_len)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "a robot's URL is not sealed yet");
    return svc_open(svc, AAD_WEBHOOK_URL, w->url_enc, w->url_enc_len, out, outsz, err);
}

enum cc_err svc_open(const struct cc_service *svc, const char *aad, const uint8_t *in,
                     size_t inlen, char *out, size_t outsz, struct cc_error *err)
{
    if (cc_aead_open(svc->master_key, aad, in, inlen, out, outsz, NULL))
        return cc_error_set(err, CC_ERR_INTERNAL, NULL,
                            "decryption failed: is this the master key the data was written with?");
    return CC_OK;
}
