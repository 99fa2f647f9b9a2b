/*
 * service.c — the service object and the role check every use case starts
 * with. The master key that seals secrets and ID numbers at rest is
 * master_key.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

struct cc_service *cc_service_new(struct cc_store *store, const uint8_t key[CC_KEY_LEN],
                                  const struct cc_service_config *cfg)
{
    struct cc_service *svc = cc_calloc(1, sizeof *svc);
    svc->store = store;
    svc->keys = svc_keyring_new(key);
    svc->imports = svc_imports_new();
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
    svc_imports_free(svc);
    svc_keyring_free(svc->keys);
    OPENSSL_cleanse(svc, sizeof *svc);
    cc_free(svc);
}

void cc_service_set_delivery(struct cc_service *svc, const struct cc_delivery_config *dc,
                             struct cc_dispatcher *d)
{
    svc->delivery = dc;
    svc->dispatcher = d;
}

void cc_service_read_hold(struct cc_service *svc, int on)
{
    cc_store_read_hold(svc->store, on);
}

void cc_service_thread_done(struct cc_service *svc)
{
    cc_store_thread_done(svc->store);
}

int svc_job_start(struct svc_job *job, void *(*fn)(void *), void *arg)
{
    job->stopping = 0;
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cv, NULL);
    if (pthread_create(&job->thread, NULL, fn, arg) == 0)
        return 0;
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
    return -1;
}

void svc_job_stop(struct svc_job *job)
{
    pthread_mutex_lock(&job->mu);
    job->stopping = 1;
    pthread_cond_broadcast(&job->cv);
    pthread_mutex_unlock(&job->mu);
    pthread_join(job->thread, NULL);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
}

void cc_service_thread_rest(struct cc_service *svc, int64_t *last_pass_ms, int64_t wait_ms)
{
    int64_t now = cc_mono_ms();
    int long_sleep = wait_ms < 0 || wait_ms >= CC_THREAD_REST_MS;
    if (long_sleep && (!*last_pass_ms || now - *last_pass_ms >= CC_THREAD_REST_MS)) {
        cc_store_thread_done(svc->store);
        cc_alloc_trim(); /* the connection's memory, freed in this thread's arena */
    }
    *last_pass_ms = now;
}

enum cc_err cc_service_ping(struct cc_service *svc, struct cc_error *err)
{
    return cc_store_ping(svc->store, err);
}

const char *cc_service_db_backend(const struct cc_service *svc)
{
    return cc_store_backend(svc->store);
}

int cc_service_shared(const struct cc_service *svc)
{
    return cc_store_shared(svc->store);
}

/* A bucket's state: "TOKENS;LAST_MS", tokens in millionths. */
#define MICRO 1000000

struct bucket_op {
    int64_t per_minute, now_ms;
    int64_t wait_ms;              /* out */
};

static void bucket_fn(void *ctx, char *state, int64_t *forget_at)
{
    struct bucket_op *op = ctx;
    int64_t burst = op->per_minute / 6 > 1 ? op->per_minute / 6 * MICRO : MICRO;
    int64_t tokens, last;
    const char *semi = strchr(state, ';');
    if (!semi || cc_parse_i64n(state, (size_t)(semi - state), 0, burst, &tokens) ||
        cc_parse_i64(semi + 1, 0, INT64_MAX, &last)) {
        tokens = burst; /* new, or not ours to read: a full bucket */
        last = op->now_ms;
    }
    /* per_minute * MICRO / 60000 millionths a ms */
    if (op->now_ms > last) {
        /* a minute refills any bucket (it holds a sixth of one) */
        int64_t gap = op->now_ms - last < 60000 ? op->now_ms - last : 60000;
        int64_t add = gap * op->per_minute * MICRO / 60000;
        tokens = add > burst - tokens ? burst : tokens + add;
        last = op->now_ms;
    }
    op->wait_ms = 0;
    if (tokens >= MICRO)
        tokens -= MICRO;
    else
        op->wait_ms = (MICRO - tokens) * 60000 / (op->per_minute * MICRO) + 1;
    snprintf(state, CC_STORE_STATE_MAX, "%lld;%lld", (long long)tokens, (long long)last);
    /* Full again by then: forgetting it changes nothing. */
    *forget_at = last + (burst - tokens) * 60000 / (op->per_minute * MICRO) + 1;
}

enum cc_err cc_service_bucket_take(struct cc_service *svc, const char *name, int64_t per_minute,
                                   int64_t now_ms, int64_t *wait_ms, struct cc_error *err)
{
    struct bucket_op op = {per_minute > 0 ? per_minute : 1, now_ms, 0};
    enum cc_err rc = cc_store_state_update(svc->store, name, now_ms, bucket_fn, &op, err);
    *wait_ms = rc ? 0 : op.wait_ms;
    return rc;
}

enum cc_err cc_service_nonce_take(struct cc_service *svc, const char *scope, const char *nonce,
                                  int64_t expires_ms, int64_t now_ms, int64_t per_key,
                                  int *verdict, int64_t *retry_ms, struct cc_error *err)
{
    _Static_assert(CC_NONCE_NEW == 0 && CC_NONCE_REPLAY == 1 && CC_NONCE_FULL == 2,
                   "service.h says the verdicts by number");
    return cc_store_nonce_take(svc->store, scope, nonce, expires_ms, now_ms, per_key, verdict,
                               retry_ms, err);
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

void svc_url_tag(const uint8_t key[CC_KEY_LEN], const char *url, char tag[CC_URL_TAG_LEN + 1])
{
    char data[CC_URL_MAX + 32];
    uint8_t mac[32];
    int n = snprintf(data, sizeof data, "webhook-url\n%s", url);
    cc_hmac_sha256(key, CC_KEY_LEN, data, (size_t)(n > 0 ? n : 0), mac);
    OPENSSL_cleanse(data, sizeof data);
    memcpy(tag, "h1:", 3);
    cc_hex(mac, sizeof mac, tag + 3);
}

/* The tag and the sealed URL under one key, the one values are sealed with
 * now, so that a rotation that re-seals the URL re-keys its tag with it. */
enum cc_err svc_url_seal(const struct cc_service *svc, const char *url, char *tag, uint8_t *enc,
                         size_t encsz, size_t *enclen, char *masked, size_t maskedsz,
                         struct cc_error *err)
{
    uint8_t key[CC_KEY_LEN], fp[CC_KEY_TAG_LEN];
    svc_sealing_key(svc, key, fp);
    svc_url_tag(key, url, tag);
    cc_mask_webhook_url(url, masked, maskedsz);
    enum cc_err rc = svc_seal_under(key, fp, AAD_WEBHOOK_URL, url, enc, encsz, enclen, err);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

int svc_url_tags(const struct cc_service *svc, const char *url,
                 char tags[][CC_URL_TAG_LEN + 1], int max)
{
    uint8_t keys[SVC_KEYS_MAX][CC_KEY_LEN];
    int n = svc_hmac_keys(svc, keys, max < SVC_KEYS_MAX ? max : SVC_KEYS_MAX);
    for (int i = 0; i < n; i++)
        svc_url_tag(keys[i], url, tags[i]);
    OPENSSL_cleanse(keys, sizeof keys);
    return n;
}

enum cc_err svc_url_open(const struct cc_service *svc, const struct cc_webhook *w, char *out,
                         size_t outsz, struct cc_error *err)
{
    out[0] = '\0';
    if (!w->url_enc_len)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "a robot's URL is not sealed yet");
    return svc_open(svc, AAD_WEBHOOK_URL, w->url_enc, w->url_enc_len, out, outsz, err);
}

int svc_leads(struct cc_service *svc, const char *job)
{
    int leader = 0;
    struct cc_error err;
    if (cc_store_lead(svc->store, job, &leader, &err)) {
        cc_log(CC_LOG_ERROR, "cannot tell whether this instance runs a singleton job", "job",
               job, "error", err.message, NULL);
        return 0;
    }
    return leader;
}
