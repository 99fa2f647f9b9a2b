/*
 * acme.c — certificates issued by an ACME CA (RFC 8555) with no person in
 * between: a worker thread moves every application of an ACME product
 * (core/products.c) through the existing states of applications.c —
 * submitted -> pending_validation (the order is placed; what the CA checks
 * is in acme_challenges) -> approved (every authorization is valid) ->
 * issued (the chain downloaded, the key the CSR's or one made here) — or to
 * rejected with the CA's problem type and detail. Each move goes through
 * svc_application_transition, so its rules, history, audit and events are
 * the ones an operator's move has.
 *
 * The client is polite: one pool of nonces (a badNonce answer is retried
 * with the nonce it brings), Retry-After honoured on every poll, back-off
 * doubling from CC_ACME_BACKOFF_MIN_MS on errors, at most max_orders
 * applications per pass. Everything needed to go on is in the store
 * (migration 0023), so a restart resumes an order instead of placing another.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/products.h"
#include "service/acme_int.h"
#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

#define PROBLEM_PREFIX "urn:ietf:params:acme:error:"

struct svc_acme {
    struct cc_service *svc;
    char directory_url[CC_ACME_URL_MAX + 1];
    char ca_file[1024];
    char eab_kid[256];
    char eab_key[512];
    char key_type[16];
    int terms_agreed;
    int64_t max_orders;
    int64_t timeout_ms;
    char products[1024];           /* JSON array of the ACME products' codes */
    char dns_hook[1024];
    char dns_resolver[64];
    int64_t dns_wait_s;
    int64_t renew_percent;
    int64_t renew_retry_s;
    char alidns_endpoint[512];
    char alidns_key_id[128];
    char alidns_secret[128];
    char alidns_zones[512];
    struct cc_acme_http *dns_http;  /* Alibaba Cloud DNS's requests */

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, poked;

    /* the worker's own (one thread: no lock) */
    struct cc_acme_http *http;
    json_t *dir;                   /* the directory, once read */
    char nonces[CC_ACME_NONCES][256];
    int n_nonces;
    EVP_PKEY *key;                 /* the account key, once loaded */
    char kid[CC_ACME_URL_MAX + 1]; /* the account URL, once registered */
    char thumb[44];
};

/* What went wrong with one step: transient (retry with back-off) or the CA's
 * final word about this order (reject). */
struct fail {
    int final;
    int64_t retry_after_s;         /* -1: none */
    char reason[CC_APP_REASON_MAX + 1];
};

static void fail_set(struct fail *f, int final, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail_set(struct fail *f, int final, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->reason, sizeof f->reason, fmt, ap);
    va_end(ap);
    f->final = final;
}

/* ---- requests ------------------------------------------------------------------ */
/* A problem document's type (the full URN) and detail, when the answer is
 * one. */
static int problem_of(const struct cc_acme_answer *ans, char *type, size_t typesz, char *detail,
                      size_t detailsz)
{
    type[0] = detail[0] = '\0';
    if (!strstr(ans->content_type, "problem+json"))
        return 0;
    json_t *o = json_loads(ans->body ? ans->body : "", 0, NULL);
    const char *t = json_string_value(json_object_get(o, "type"));
    const char *d = json_string_value(json_object_get(o, "detail"));
    if (t)
        cc_strlcpy(type, t, typesz);
    cc_strlcpy(detail, d ? d : "", detailsz);
    json_decref(o);
    return t != NULL;
}

/* A failed answer as a fail: the CA's problem (final unless the CA says to try
 * again later), or its status. */
static void fail_answer(struct fail *f, const char *what, const struct cc_acme_answer *ans)
{
    char type[128], detail[400];
    f->retry_after_s = ans->retry_after_s;
    if (problem_of(ans, type, sizeof type, detail, sizeof detail)) {
        int later = strcmp(type, PROBLEM_PREFIX "rateLimited") == 0 ||
                    strcmp(type, PROBLEM_PREFIX "serverInternal") == 0 ||
                    strcmp(type, PROBLEM_PREFIX "badNonce") == 0 || ans->status >= 500;
        fail_set(f, !later, "%s: %s (while %s)", type, detail, what);
        return;
    }
    fail_set(f, ans->status >= 400 && ans->status < 500 && ans->status != 429,
             "The CA answered HTTP %ld (while %s).", ans->status, what);
}

static int req(struct svc_acme *a, const char *method, const char *url, const char *body,
               const char *accept, struct cc_acme_answer *ans, struct fail *f)
{
    char err[512];
    if (cc_acme_http_do(a->http, method, url, body, accept, ans, err, sizeof err)) {
        fail_set(f, 0, "%s", err);
        return -1;
    }
    if (ans->nonce[0] && a->n_nonces < CC_ACME_NONCES)
        cc_strlcpy(a->nonces[a->n_nonces++], ans->nonce, sizeof a->nonces[0]);
    return 0;
}

/* The directory's URL for name ("newNonce", ...), reading it first if needed. */
static const char *dir_url(struct svc_acme *a, const char *name, struct fail *f)
{
    if (!a->dir) {
        struct cc_acme_answer ans;
        if (req(a, "GET", a->directory_url, NULL, NULL, &ans, f))
            return NULL;
        if (ans.status != 200) {
            fail_answer(f, N_("reading the ACME directory"), &ans);
            f->final = 0; /* a directory that fails is the CA's trouble, not the order's */
            cc_acme_answer_free(&ans);
            return NULL;
        }
        a->dir = json_loads(ans.body, 0, NULL);
        cc_acme_answer_free(&ans);
        if (!json_is_object(a->dir)) {
            json_decref(a->dir);
            a->dir = NULL;
            fail_set(f, 0, "the ACME directory %s is not a JSON object", a->directory_url);
            return NULL;
        }
    }
    const char *u = json_string_value(json_object_get(a->dir, name));
    if (!u)
        fail_set(f, 0, "the ACME directory names no %s", name);
    return u;
}

static int nonce_take(struct svc_acme *a, char *out, size_t outsz, struct fail *f)
{
    if (a->n_nonces) {
        cc_strlcpy(out, a->nonces[--a->n_nonces], outsz);
        return 0;
    }
    const char *u = dir_url(a, "newNonce", f);
    struct cc_acme_answer ans;
    if (!u || req(a, "HEAD", u, NULL, NULL, &ans, f))
        return -1;
    cc_acme_answer_free(&ans);
    if (!a->n_nonces) {
        fail_set(f, 0, "the CA gave no Replay-Nonce");
        return -1;
    }
    cc_strlcpy(out, a->nonces[--a->n_nonces], outsz);
    return 0;
}

/* A signed POST (payload NULL: POST-as-GET), by kid once registered, by JWK
 * otherwise; a badNonce answer is sent again with a fresh nonce. 0 with *ans
 * (any status but badNonce) or -1 with *f. */
static int post(struct svc_acme *a, const char *url, const char *payload, const char *accept,
                int use_jwk, struct cc_acme_answer *ans, struct fail *f)
{
    for (int attempt = 0; attempt <= CC_ACME_BADNONCE_RETRIES; attempt++) {
        char nonce[256];
        if (nonce_take(a, nonce, sizeof nonce, f))
            return -1;
        char *jws = acme_jws(a->key, use_jwk ? NULL : a->kid, nonce, url, payload);
        if (!jws) {
            fail_set(f, 0, "signing an ACME request failed");
            return -1;
        }
        int rc = req(a, "POST", url, jws, accept, ans, f);
        free(jws);
        if (rc)
            return -1;
        char type[128], detail[400];
        if (ans->status == 400 && problem_of(ans, type, sizeof type, detail, sizeof detail) &&
            strcmp(type, PROBLEM_PREFIX "badNonce") == 0) {
            cc_log(CC_LOG_INFO, "acme: the CA refused the nonce (badNonce); sending again",
                   "url", url, NULL);
            cc_acme_answer_free(ans);
            continue;
        }
        return 0;
    }
    fail_set(f, 0, "the CA refused %d nonces in a row (badNonce)", CC_ACME_BADNONCE_RETRIES + 1);
    return -1;
}

/* A POST whose answer must be 200 or 201 with a JSON object: *obj (owned). */
static int post_json(struct svc_acme *a, const char *what, const char *url, const char *payload,
                     json_t **obj, char *location, size_t locsz, int64_t *retry_after,
                     struct fail *f)
{
    struct cc_acme_answer ans;
    *obj = NULL;
    if (post(a, url, payload, NULL, 0, &ans, f))
        return -1;
    if (ans.status != 200 && ans.status != 201) {
        fail_answer(f, what, &ans);
        cc_acme_answer_free(&ans);
        return -1;
    }
    *obj = json_loads(ans.body, 0, NULL);
    if (location)
        cc_strlcpy(location, ans.location, locsz);
    if (retry_after)
        *retry_after = ans.retry_after_s;
    cc_acme_answer_free(&ans);
    if (!json_is_object(*obj)) {
        json_decref(*obj);
        *obj = NULL;
        fail_set(f, 0, "%s: the CA's answer is not a JSON object", what);
        return -1;
    }
    return 0;
}

/* ---- the account ------------------------------------------------------------------- */
struct acct_op {
    const char *url;
    const uint8_t *key_enc;
    size_t key_len;
    const char *kid;
};

static enum cc_err acct_create_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct acct_op *op = arg;
    return cc_tx_acme_account_create(tx, op->url, op->key_enc, op->key_len, cc_now_ms(), err);
}

static enum cc_err acct_kid_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct acct_op *op = arg;
    return cc_tx_acme_account_kid(tx, op->url, op->kid, err);
}

/* Loads (or makes, once, sealed) the account key of the directory. */
static int account_key(struct svc_acme *a, struct fail *f)
{
    if (a->key)
        return 0;
    struct cc_error err;
    int64_t id = 0;
    uint8_t *enc = NULL;
    size_t len = 0;
    enum cc_err rc = cc_store_acme_account_get(a->svc->store, a->directory_url, &id, &enc, &len,
                                               a->kid, sizeof a->kid, &err);
    if (rc == CC_ERR_NOT_FOUND) {
        char *pem = acme_key_generate("ec256");
        if (!pem) {
            fail_set(f, 0, "making the ACME account key failed");
            return -1;
        }
        size_t cap = strlen(pem) + CC_AEAD_OVERHEAD, n = 0;
        uint8_t *sealed = cc_malloc(cap);
        rc = svc_seal(a->svc, CC_AAD_ACME_ACCOUNT_KEY, pem, sealed, cap, &n, &err);
        OPENSSL_cleanse(pem, strlen(pem));
        cc_free(pem);
        struct acct_op op = {a->directory_url, sealed, n, NULL};
        if (!rc)
            rc = cc_store_write(a->svc->store, acct_create_tx, &op, &err);
        cc_free(sealed);
        if (!rc)
            rc = cc_store_acme_account_get(a->svc->store, a->directory_url, &id, &enc, &len,
                                           a->kid, sizeof a->kid, &err);
    }
    if (rc) {
        fail_set(f, 0, "the ACME account: %s", err.message);
        return -1;
    }
    char *pem = cc_malloc(len + 1);
    rc = svc_open(a->svc, CC_AAD_ACME_ACCOUNT_KEY, enc, len, pem, len + 1, &err);
    cc_free(enc);
    if (!rc)
        a->key = acme_key_load(pem);
    OPENSSL_cleanse(pem, len + 1);
    cc_free(pem);
    if (!a->key || acme_thumbprint(a->key, a->thumb)) {
        fail_set(f, 0, "the ACME account key does not open or load");
        EVP_PKEY_free(a->key);
        a->key = NULL;
        return -1;
    }
    return 0;
}

/* Registers the account with the CA (newAccount, RFC 8555 7.3) once: contact
 * email (may be "") as its mailto:, the external account binding when one is
 * configured. */
static int account_ready(struct svc_acme *a, const char *email, struct fail *f)
{
    if (account_key(a, f))
        return -1;
    if (a->kid[0])
        return 0;
    const char *url = dir_url(a, "newAccount", f);
    if (!url)
        return -1;
    json_t *p = json_object();
    json_object_set_new(p, "termsOfServiceAgreed", json_boolean(a->terms_agreed));
    if (email && email[0]) {
        char mailto[CC_EMAIL_MAX + 16];
        snprintf(mailto, sizeof mailto, "mailto:%s", email);
        json_object_set_new(p, "contact", json_pack("[s]", mailto));
    }
    if (a->eab_kid[0]) {
        json_t *eab = acme_eab(a->eab_kid, a->eab_key, a->key, url);
        if (!eab) {
            json_decref(p);
            fail_set(f, 1, "acme_eab_hmac_key is not base64url");
            return -1;
        }
        json_object_set_new(p, "externalAccountBinding", eab);
    }
    char *payload = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    struct cc_acme_answer ans;
    int rc = post(a, url, payload, NULL, 1, &ans, f);
    free(payload);
    if (rc)
        return -1;
    if ((ans.status != 200 && ans.status != 201) || !ans.location[0]) {
        fail_answer(f, N_("registering the ACME account"), &ans);
        cc_acme_answer_free(&ans);
        return -1;
    }
    cc_strlcpy(a->kid, ans.location, sizeof a->kid);
    cc_acme_answer_free(&ans);
    struct cc_error err;
    struct acct_op op = {a->directory_url, NULL, 0, a->kid};
    if (cc_store_write(a->svc->store, acct_kid_tx, &op, &err)) {
        fail_set(f, 0, "saving the ACME account: %s", err.message);
        return -1;
    }
    cc_log(CC_LOG_INFO, "acme: account registered", "directory", a->directory_url, NULL);
    return 0;
}

/* ---- one application's order ------------------------------------------------------- */
struct order_op {
    const struct cc_acme_order *o;
    const struct cc_acme_challenge *ch;
    size_t n;
};

static enum cc_err order_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct order_op *op = arg;
    enum cc_err rc = cc_tx_acme_order_put(tx, op->o, err);
    for (size_t i = 0; !rc && i < op->n; i++)
        rc = cc_tx_acme_challenge_put(tx, op->o->application_id, &op->ch[i], err);
    return rc;
}

static int order_save(struct svc_acme *a, const struct cc_acme_order *o,
                      const struct cc_acme_challenge *ch, size_t n, struct fail *f)
{
    struct cc_error err;
    struct order_op op = {o, ch, n};
    if (cc_store_write(a->svc->store, order_tx, &op, &err)) {
        fail_set(f, 0, "saving the ACME order: %s", err.message);
        return -1;
    }
    return 0;
}

/* Saves o's state; its key is left as stored (o->key_enc holds the sealed
 * key read with the order, not a new one). */
static int order_save_state(struct svc_acme *a, struct cc_acme_order *o, struct fail *f)
{
    uint8_t *key = o->key_enc;
    o->key_enc = NULL; /* kept as stored */
    int rc = order_save(a, o, NULL, 0, f);
    o->key_enc = key;
    return rc;
}

/* The authorization at url: its identifier, and the challenge to answer
 * (http-01 for a name, dns-01 for a wildcard) into *ch. */
static int authz_read(struct svc_acme *a, const char *url, struct cc_acme_challenge *ch,
                      struct fail *f)
{
    json_t *o = NULL;
    if (post_json(a, N_("reading an authorization"), url, NULL, &o, NULL, 0, NULL, f))
        return -1;
    memset(ch, 0, sizeof *ch);
    cc_strlcpy(ch->authz_url, url, sizeof ch->authz_url);
    const char *id = json_string_value(json_object_get(json_object_get(o, "identifier"), "value"));
    cc_strlcpy(ch->identifier, id ? id : "", sizeof ch->identifier);
    const char *st = json_string_value(json_object_get(o, "status"));
    int wildcard = json_is_true(json_object_get(o, "wildcard"));
    const char *want = wildcard ? "dns-01" : "http-01";
    if (wildcard && !a->dns_hook[0] && !a->alidns_key_id[0]) {
        json_decref(o);
        fail_set(f, 1,
                 "%s is a wildcard: the CA checks it only through DNS-01, and neither "
                 "acme_dns_hook nor acme_alidns_access_key_id is configured.",
                 id ? id : "the name");
        return -1;
    }
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(o, "challenges"), i, c) {
        const char *type = json_string_value(json_object_get(c, "type"));
        const char *token = json_string_value(json_object_get(c, "token"));
        const char *curl = json_string_value(json_object_get(c, "url"));
        if (!type || !token || !curl || strcmp(type, want) != 0)
            continue;
        cc_strlcpy(ch->type, type, sizeof ch->type);
        cc_strlcpy(ch->url, curl, sizeof ch->url);
        cc_strlcpy(ch->token, token, sizeof ch->token);
        snprintf(ch->key_authorization, sizeof ch->key_authorization, "%s.%s", token, a->thumb);
        break;
    }
    /* an authorization already valid (reused by the CA) needs no answer */
    cc_strlcpy(ch->status, st && strcmp(st, "valid") == 0 ? "valid" : "pending",
               sizeof ch->status);
    json_decref(o);
    if (!ch->type[0] && strcmp(ch->status, "valid") != 0) {
        fail_set(f, 1,
                 "The CA offers no %s challenge for %s; %s", want, ch->identifier,
                 wildcard ? "nothing else proves a wildcard." : "this server answers HTTP-01 for it.");
        return -1;
    }
    return 0;
}

/* The order's fields from its JSON. */
static void order_fields(struct cc_acme_order *o, json_t *j)
{
    const char *st = json_string_value(json_object_get(j, "status"));
    const char *fin = json_string_value(json_object_get(j, "finalize"));
    const char *cert = json_string_value(json_object_get(j, "certificate"));
    if (st)
        cc_strlcpy(o->status, st, sizeof o->status);
    if (fin)
        cc_strlcpy(o->finalize_url, fin, sizeof o->finalize_url);
    if (cert)
        cc_strlcpy(o->certificate_url, cert, sizeof o->certificate_url);
}

/* newOrder for the application's names, its authorizations read and saved
 * with the order (and the key made for it when it has no CSR). */
/* The key made for an application without a CSR, sealed into o (once). */
static int order_key_make(struct svc_acme *a, struct cc_acme_order *o, struct fail *f)
{
    char *pem = acme_key_generate(a->key_type);
    struct cc_error err;
    if (!pem) {
        fail_set(f, 0, "making the certificate's key failed");
        return -1;
    }
    size_t cap = strlen(pem) + CC_AEAD_OVERHEAD;
    o->key_enc = cc_malloc(cap);
    int rc = 0;
    if (svc_seal(a->svc, CC_AAD_ACME_ORDER_KEY, pem, o->key_enc, cap, &o->key_len, &err)) {
        fail_set(f, 0, "sealing the certificate's key: %s", err.message);
        cc_free(o->key_enc);
        o->key_enc = NULL;
        o->key_len = 0;
        rc = -1;
    }
    OPENSSL_cleanse(pem, strlen(pem));
    cc_free(pem);
    return rc;
}

/* Reads the authorizations (a JSON array of URLs) of the order and saves the
 * challenge chosen for each with it. */
static int order_authzs(struct svc_acme *a, struct cc_acme_order *o, json_t *authzs,
                        struct fail *f)
{
    size_t i, n = json_array_size(authzs);
    if (!n) {
        fail_set(f, 0, "the CA's order has no authorizations");
        return -1;
    }
    struct cc_acme_challenge *ch = cc_calloc(n, sizeof *ch);
    int rc = 0;
    json_t *u;
    json_array_foreach(authzs, i, u) {
        const char *s = json_string_value(u);
        if (!s) {
            fail_set(f, 0, "the CA's order names an authorization that is not a URL");
            rc = -1;
        }
        if (rc || (rc = authz_read(a, s, &ch[i], f)))
            break;
    }
    if (!rc)
        rc = order_save(a, o, ch, n, f);
    cc_free(ch);
    return rc;
}

/* newOrder for the application's names; the order is saved at once (with
 * the key made for it when the application has no CSR), so that a crash or
 * an error from here on goes on with this order rather than placing another;
 * then its authorizations are read and saved. */
static int order_place(struct svc_acme *a, const struct cc_application *app,
                       struct cc_acme_order *o, struct fail *f)
{
    const char *url = dir_url(a, "newOrder", f);
    if (!url)
        return -1;
    if (!app->csr && !o->key_enc && order_key_make(a, o, f))
        return -1;
    json_t *doms = json_loads(app->domains ? app->domains : "[]", 0, NULL), *d;
    json_t *ids = json_array();
    size_t i;
    json_array_foreach(doms, i, d) {
        const char *ascii = json_string_value(json_object_get(d, "ascii"));
        if (ascii)
            json_array_append_new(ids, json_pack("{s:s, s:s}", "type", "dns", "value", ascii));
    }
    json_decref(doms);
    json_t *p = json_pack("{s:o}", "identifiers", ids);
    char *payload = json_dumps(p, JSON_COMPACT);
    json_decref(p);
    json_t *j = NULL;
    int rc = post_json(a, N_("placing the order"), url, payload, &j, o->order_url,
                       sizeof o->order_url, NULL, f);
    free(payload);
    if (rc)
        return -1;
    if (!o->order_url[0]) {
        json_decref(j);
        fail_set(f, 0, "the CA named no order URL");
        return -1;
    }
    order_fields(o, j);
    rc = order_save(a, o, NULL, 0, f);
    if (!rc)
        rc = order_authzs(a, o, json_object_get(j, "authorizations"), f);
    json_decref(j);
    return rc;
}

/* An order placed before whose authorizations were not read yet (an error
 * or a crash came between): reads them now. */
static int order_resume(struct svc_acme *a, struct cc_acme_order *o, struct fail *f)
{
    struct cc_acme_challenge *ch = NULL;
    size_t n = 0;
    struct cc_error err;
    if (cc_store_acme_challenges(a->svc->store, o->application_id, &ch, &n, &err)) {
        fail_set(f, 0, "reading the challenges: %s", err.message);
        return -1;
    }
    cc_free(ch);
    if (n)
        return 0;
    json_t *j = NULL;
    if (post_json(a, N_("reading the order"), o->order_url, NULL, &j, NULL, 0, NULL, f))
        return -1;
    order_fields(o, j);
    int rc = order_authzs(a, o, json_object_get(j, "authorizations"), f);
    json_decref(j);
    return rc;
}

/* The system's caller for the moves the worker makes in app's account. */
static void worker_caller(const struct cc_application *app, struct cc_caller *c)
{
    memset(c, 0, sizeof *c);
    c->account_id = app->account_id;
    c->role = CC_ROLE_ADMIN;
    cc_strlcpy(c->key_id, "acme", sizeof c->key_id);
}

static int move_cert(struct svc_acme *a, const struct cc_application *app, const char *to,
                     const char *reason, const char *pem, const char *key_pem, int64_t *cert_id,
                     struct fail *f)
{
    struct cc_caller caller;
    worker_caller(app, &caller);
    struct cc_application out;
    struct cc_error err;
    enum cc_err rc = svc_application_transition(a->svc, &caller, app->id, to, reason, pem,
                                                key_pem, &out, cert_id, &err);
    cc_application_clear(&out);
    if (rc == CC_ERR_INVALID_TRANSITION)
        return 0; /* someone (an operator) moved it meanwhile: the next pass sees where */
    if (rc) {
        fail_set(f, rc == CC_ERR_INCORRECT_FORMAT || rc == CC_ERR_ALREADY_EXISTS,
                 "moving the application to %s: %s", to, err.message);
        return -1;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)app->id);
    cc_log(CC_LOG_INFO, "acme: application moved", "application", id, "to", to, NULL);
    return 0;
}

static int move(struct svc_acme *a, const struct cc_application *app, const char *to,
                const char *reason, const char *pem, const char *key_pem, struct fail *f)
{
    return move_cert(a, app, to, reason, pem, key_pem, NULL, f);
}

static void alidns_config(const struct svc_acme *a, struct cc_alidns_config *c)
{
    c->endpoint = a->alidns_endpoint;
    c->access_key_id = a->alidns_key_id;
    c->access_key_secret = a->alidns_secret;
    c->zones = a->alidns_zones;
}

/* Publishes the TXT record: Alibaba Cloud DNS when configured (its record id
 * kept in ch), else the hook. */
static int dns_add(struct svc_acme *a, const char *name, const char *value,
                   struct cc_acme_challenge *ch, char *err, size_t errsz)
{
    if (!a->alidns_key_id[0])
        return cc_acme_dns_hook(a->dns_hook, "add", name, value, a->timeout_ms, err, errsz);
    struct cc_alidns_config c;
    alidns_config(a, &c);
    return cc_alidns_add(a->dns_http, &c, name, value, ch->dns_record_id,
                         sizeof ch->dns_record_id, err, errsz);
}

static int dns_remove(struct svc_acme *a, const char *name, const char *value,
                      const struct cc_acme_challenge *ch, char *err, size_t errsz)
{
    if (!a->alidns_key_id[0])
        return cc_acme_dns_hook(a->dns_hook, "remove", name, value, a->timeout_ms, err, errsz);
    if (!ch->dns_record_id[0])
        return 0;
    struct cc_alidns_config c;
    alidns_config(a, &c);
    return cc_alidns_delete(a->dns_http, &c, ch->dns_record_id, err, errsz);
}

/* DNS-01: adds the TXT record through the hook once, then looks for it:
 * 1 when the CA may be told (the record is visible; ch->status is pending),
 * 0 while it is not yet (or was told already), -1 with *f when the hook fails
 * or the record stays invisible past dns_wait_s. */
static int dns_publish(struct svc_acme *a, const struct cc_acme_order *o,
                       struct cc_acme_challenge *ch, struct fail *f)
{
    char name[300], value[44], err[512];
    snprintf(name, sizeof name, "_acme-challenge.%s", ch->identifier);
    acme_dns_value(ch->key_authorization, value);
    if (strcmp(ch->status, "pending") == 0) {
        if (dns_add(a, name, value, ch, err, sizeof err)) {
            fail_set(f, 0, "%s", err);
            return -1;
        }
        cc_strlcpy(ch->status, "published", sizeof ch->status);
        ch->published_at = cc_now_ms();
        if (order_save(a, o, ch, 1, f))
            return -1;
    }
    if (strcmp(ch->status, "published") != 0)
        return 0;
    int seen = cc_acme_dns_txt_visible(a->dns_resolver, name, value);
    if (seen < 0) {
        fail_set(f, 1, "acme_dns_resolver \"%s\" is not IPv4:PORT.", a->dns_resolver);
        return -1;
    }
    if (seen) {
        cc_strlcpy(ch->status, "pending", sizeof ch->status); /* now the CA is told */
        return 1;
    }
    if (cc_now_ms() - ch->published_at > a->dns_wait_s * 1000) {
        fail_set(f, 1, "The TXT record %s was not visible %lld s after acme_dns_hook added it.",
                 name, (long long)a->dns_wait_s);
        return -1;
    }
    return 0;
}

/* DNS-01: the records of a finished application are removed (best effort:
 * a failing hook is logged). */
static void dns_cleanup(struct svc_acme *a, const struct cc_acme_order *o)
{
    struct cc_acme_challenge *ch = NULL;
    size_t n = 0;
    struct cc_error err;
    if ((!a->dns_hook[0] && !a->alidns_key_id[0]) ||
        cc_store_acme_challenges(a->svc->store, o->application_id, &ch, &n, &err))
        return;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(ch[i].type, "dns-01") != 0 || !ch[i].published_at ||
            strcmp(ch[i].status, "removed") == 0)
            continue;
        char name[300], value[44], msg[512];
        snprintf(name, sizeof name, "_acme-challenge.%s", ch[i].identifier);
        acme_dns_value(ch[i].key_authorization, value);
        if (dns_remove(a, name, value, &ch[i], msg, sizeof msg)) {
            cc_log(CC_LOG_WARN, "acme: removing a DNS-01 record failed", "error", msg, NULL);
            continue;
        }
        cc_strlcpy(ch[i].status, "removed", sizeof ch[i].status);
        struct fail ignore;
        order_save(a, o, &ch[i], 1, &ignore);
    }
    cc_free(ch);
}

/* 1 when the CA no longer waits for an answer to ch (it is processing,
 * valid or invalid: the order's status says the rest), 0 when it does, -1
 * when it cannot be read. */
static int challenge_status(struct svc_acme *a, const struct cc_acme_challenge *ch,
                            struct fail *f)
{
    json_t *j = NULL;
    struct fail mine = {0, -1, ""};
    if (post_json(a, N_("reading a challenge"), ch->url, NULL, &j, NULL, 0, NULL, &mine))
        return -1;
    const char *st = json_string_value(json_object_get(j, "status"));
    int done = st && strcmp(st, "pending") != 0;
    json_decref(j);
    if (done)
        f->final = 0;
    return done;
}

/* Tells the CA to check each challenge not answered yet. */
static int challenges_answer(struct svc_acme *a, const struct cc_acme_order *o, struct fail *f)
{
    struct cc_acme_challenge *ch = NULL;
    size_t n = 0;
    struct cc_error err;
    if (cc_store_acme_challenges(a->svc->store, o->application_id, &ch, &n, &err)) {
        fail_set(f, 0, "reading the challenges: %s", err.message);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (strcmp(ch[i].type, "dns-01") == 0) {
            int ready = dns_publish(a, o, &ch[i], f);
            if (ready < 0)
                rc = -1;
            if (ready != 1)
                continue;
        }
        if (strcmp(ch[i].status, "pending") != 0 || !ch[i].url[0])
            continue;
        json_t *j = NULL;
        if (post_json(a, N_("answering a challenge"), ch[i].url, "{}", &j, NULL, 0, NULL, f)) {
            /* Answered before a restart, the CA may refuse a second answer: what
             * it says of the challenge now decides. */
            if (!f->final || challenge_status(a, &ch[i], f) != 1) {
                rc = -1;
                break;
            }
        }
        json_decref(j);
        cc_strlcpy(ch[i].status, "processing", sizeof ch[i].status);
        rc = order_save(a, o, &ch[i], 1, f);
    }
    cc_free(ch);
    return rc;
}

/* The first problem of the order's authorizations, as the reason of a
 * rejection: "type: detail" of the failed challenge. */
static void order_problem(struct svc_acme *a, const struct cc_acme_order *o, struct fail *f)
{
    struct cc_acme_challenge *ch = NULL;
    size_t n = 0;
    struct cc_error err;
    fail_set(f, 1, "The CA marked the order invalid.");
    if (cc_store_acme_challenges(a->svc->store, o->application_id, &ch, &n, &err))
        return;
    for (size_t i = 0; i < n; i++) {
        json_t *j = NULL;
        struct fail ignore;
        if (post_json(a, N_("reading an authorization"), ch[i].authz_url, NULL, &j, NULL, 0, NULL,
                      &ignore))
            continue;
        size_t k;
        json_t *c;
        json_array_foreach(json_object_get(j, "challenges"), k, c) {
            json_t *e = json_object_get(c, "error");
            const char *t = json_string_value(json_object_get(e, "type"));
            const char *d = json_string_value(json_object_get(e, "detail"));
            if (!t)
                continue;
            fail_set(f, 1, "%s: %s", t, d ? d : "");
            json_decref(j);
            cc_free(ch);
            return;
        }
        json_decref(j);
    }
    cc_free(ch);
}

/* The CSR finalize sends: the application's, or one made with the order's key. */
static char *order_csr(struct svc_acme *a, const struct cc_application *app,
                       const struct cc_acme_order *o, struct fail *f)
{
    if (app->csr)
        return acme_csr_pem_to_b64url(app->csr);
    char *pem = cc_malloc(o->key_len + 1);
    struct cc_error err;
    char *out = NULL;
    if (!svc_open(a->svc, CC_AAD_ACME_ORDER_KEY, o->key_enc, o->key_len, pem, o->key_len + 1,
                  &err)) {
        EVP_PKEY *k = acme_key_load(pem);
        json_t *doms = json_loads(app->domains ? app->domains : "[]", 0, NULL), *d;
        const char *names[CC_APP_DOMAINS_MAX];
        size_t i, n = 0;
        json_array_foreach(doms, i, d) {
            const char *s = json_string_value(json_object_get(d, "ascii"));
            if (s && n < CC_APP_DOMAINS_MAX)
                names[n++] = s;
        }
        out = k ? acme_csr_make(k, names, n) : NULL;
        json_decref(doms);
        EVP_PKEY_free(k);
    }
    OPENSSL_cleanse(pem, o->key_len + 1);
    cc_free(pem);
    if (!out)
        fail_set(f, 0, "making the CSR failed");
    return out;
}

/* The order's key as PEM (owned: wipe, cc_free), or NULL for a CSR's. */
static char *order_key_pem(struct svc_acme *a, const struct cc_acme_order *o)
{
    if (!o->key_enc)
        return NULL;
    char *pem = cc_malloc(o->key_len + 1);
    struct cc_error err;
    if (svc_open(a->svc, CC_AAD_ACME_ORDER_KEY, o->key_enc, o->key_len, pem, o->key_len + 1,
                 &err)) {
        cc_free(pem);
        return NULL;
    }
    return pem;
}

/* The renewal window the CA suggests for the certificate in pem, where its
 * directory offers ACME Renewal Information (RFC 9773): a time picked at
 * random inside the window (at once when it has passed), so that the CA's
 * load spreads. 0 when the CA offers none or its answer is unusable. */
static int64_t ari_renew_at(struct svc_acme *a, const char *pem)
{
    const char *base = a->dir ? json_string_value(json_object_get(a->dir, "renewalInfo")) : NULL;
    char id[300], url[CC_ACME_URL_MAX + 320];
    if (!base || !pem || cc_x509_ari_id(pem, id, sizeof id))
        return 0;
    snprintf(url, sizeof url, "%s%s%s", base, base[0] && base[strlen(base) - 1] == '/' ? "" : "/",
             id);
    struct fail f = {0, -1, ""};
    struct cc_acme_answer ans;
    if (req(a, "GET", url, NULL, NULL, &ans, &f))
        return 0;
    json_t *j = ans.status == 200 && ans.body ? json_loads(ans.body, 0, NULL) : NULL;
    json_t *w = json_object_get(j, "suggestedWindow");
    const char *ws = json_string_value(json_object_get(w, "start"));
    const char *we = json_string_value(json_object_get(w, "end"));
    int64_t start = 0, end = 0, at = 0;
    if (ws && we && !cc_cert_parse_time(ws, &start) && !cc_cert_parse_time(we, &end) &&
        start > 0 && end >= start) {
        uint64_t r;
        cc_random_bytes(&r, sizeof r);
        at = start + (end > start ? (int64_t)(r % (uint64_t)(end - start)) : 0);
        if (at < cc_now_ms())
            at = cc_now_ms();
        cc_log(CC_LOG_INFO, "acme: the CA suggests when to renew (ARI)", "start", ws, "end", we,
               NULL);
    } else {
        cc_log(CC_LOG_WARN, "acme: the CA's renewal information is unusable; renewing by "
               "the lifetime", "url", url, NULL);
    }
    json_decref(j);
    cc_acme_answer_free(&ans);
    return at;
}

/* When certificate cert_id is to be renewed: inside the window the CA
 * suggests (ARI), else when renew_remaining_percent of its lifetime
 * remains. */
static void renew_schedule(struct svc_acme *a, struct cc_acme_order *o, int64_t account_id,
                           int64_t cert_id)
{
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    struct cc_error err;
    o->certificate_id = cert_id;
    o->renew_at = 0;
    o->renew_failures = 0;
    if (cert_id && !cc_store_cert_get(a->svc->store, account_id, cert_id, c, &err)) {
        int64_t life = c->not_after - c->not_before;
        o->renew_at = ari_renew_at(a, c->pem);
        if (!o->renew_at)
            o->renew_at = c->not_after - life * a->renew_percent / 100;
        if (o->renew_at <= 0)
            o->renew_at = 1;
    }
    cc_certificate_clear(c);
    cc_free(c);
}

/* Downloads the chain and moves the application to issued. */
static int order_download(struct svc_acme *a, const struct cc_application *app,
                          struct cc_acme_order *o, struct fail *f)
{
    struct cc_acme_answer ans;
    if (post(a, o->certificate_url, NULL, "application/pem-certificate-chain", 0, &ans, f))
        return -1;
    if (ans.status != 200) {
        fail_answer(f, N_("downloading the certificate"), &ans);
        cc_acme_answer_free(&ans);
        return -1;
    }
    char *key = order_key_pem(a, o);
    int64_t cert_id = 0;
    /* The order is saved as the CA has it (valid) before the application
     * reads issued: a reader between the two writes would see an issued
     * application whose order is still processing. */
    o->updated_at = cc_now_ms();
    int rc = order_save_state(a, o, f);
    if (!rc)
        rc = o->key_enc && !key ? (fail_set(f, 0, "the order's key does not open"), -1)
                                : move_cert(a, app, "issued", NULL, ans.body, key, &cert_id, f);
    if (!rc) {
        dns_cleanup(a, o);
        renew_schedule(a, o, app->account_id, cert_id);
    }
    if (key) {
        OPENSSL_cleanse(key, strlen(key));
        cc_free(key);
    }
    cc_acme_answer_free(&ans);
    return rc;
}

/* Reads the order again; *retry: the CA's Retry-After (-1 none). */
static int order_poll(struct svc_acme *a, struct cc_acme_order *o, int64_t *retry,
                      struct fail *f)
{
    json_t *j = NULL;
    if (post_json(a, N_("reading the order"), o->order_url, NULL, &j, NULL, 0, retry, f))
        return -1;
    order_fields(o, j);
    json_decref(j);
    return 0;
}

/* One step of an application; *wait_ms: when to look again. */
static int step(struct svc_acme *a, const struct cc_application *app, struct cc_acme_order *o,
                int64_t *wait_ms, struct fail *f)
{
    int64_t retry = -1;
    *wait_ms = CC_ACME_POLL_MS;
    if (app->state == CC_APP_SUBMITTED) {
        if (!o->order_url[0]) {
            int64_t busy = 0;
            struct cc_error berr;
            if (!cc_store_acme_in_flight(a->svc->store, &busy, &berr) && busy >= a->max_orders) {
                *wait_ms = CC_ACME_POLL_MS; /* its turn comes when one finishes */
                return 0;
            }
            struct cc_contact c;
            struct cc_error err;
            const char *email = "";
            if (!cc_store_contact_get(a->svc->store, app->account_id, app->contact_id, &c, &err))
                email = c.email;
            if (account_ready(a, email, f) || order_place(a, app, o, f))
                return -1;
        } else if (account_ready(a, NULL, f) || order_resume(a, o, f)) {
            return -1;
        }
        *wait_ms = 0;
        return move(a, app, "pending_validation", "The order is placed with the ACME CA.", NULL,
                    NULL, f);
    }
    if (account_ready(a, NULL, f))
        return -1;
    if (app->state == CC_APP_PENDING_VALIDATION) {
        if (challenges_answer(a, o, f) || order_poll(a, o, &retry, f))
            return -1;
        if (strcmp(o->status, "invalid") == 0) {
            order_problem(a, o, f);
            return -1;
        }
        if (strcmp(o->status, "pending") != 0) {
            *wait_ms = 0;
            return move(a, app, "approved", "Every name is validated.", NULL, NULL, f);
        }
    } else if (app->state == CC_APP_APPROVED) {
        if (order_poll(a, o, &retry, f))
            return -1;
        if (strcmp(o->status, "ready") == 0) {
            char *csr = order_csr(a, app, o, f);
            if (!csr)
                return -1;
            json_t *p = json_pack("{s:s}", "csr", csr);
            cc_free(csr);
            char *payload = json_dumps(p, JSON_COMPACT);
            json_decref(p);
            json_t *j = NULL;
            int rc = post_json(a, N_("finalizing the order"), o->finalize_url, payload, &j, NULL, 0,
                               &retry, f);
            free(payload);
            if (rc)
                return -1;
            order_fields(o, j);
            json_decref(j);
        }
        if (strcmp(o->status, "valid") == 0 && o->certificate_url[0])
            return order_download(a, app, o, f);
        if (strcmp(o->status, "invalid") == 0) {
            order_problem(a, o, f);
            return -1;
        }
    }
    if (retry >= 0)
        *wait_ms = (retry > CC_ACME_RETRY_AFTER_MAX_S ? CC_ACME_RETRY_AFTER_MAX_S : retry) * 1000;
    return 0;
}

/* ---- renewal ---------------------------------------------------------------------- */
struct renewal_fail_op {
    const struct cc_caller *caller;
    int64_t cert_id;
    const char *reason;
    int raised;
};

static enum cc_err renewal_fail_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct renewal_fail_op *op = arg;
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    enum cc_err rc = cc_tx_cert_get(tx, op->caller->account_id, op->cert_id, c, err);
    op->raised = 0;
    if (!rc && c->n_subscribers) {
        json_t *d = svc_certificate_event_data(c, op->reason);
        char *data = json_dumps(d, JSON_COMPACT);
        json_decref(d);
        int64_t event_id = 0;
        rc = data ? svc_event_raise_tx(tx, op->caller, "certificate.renewal_failed",
                                       c->subscribers, c->n_subscribers, data, &event_id, err)
                  : cc_error_set(err, CC_ERR_INTERNAL, NULL, "out of memory");
        free(data);
        op->raised = !rc;
    }
    cc_certificate_clear(c);
    cc_free(c);
    return rc == CC_ERR_NOT_FOUND ? CC_OK : rc;
}

/* The renewal of application old_id's certificate failed for reason: its
 * subscribers get certificate.renewal_failed, and the renewal is tried again
 * after renew_retry_s, doubling with each failure in a row up to a day. */
static void renewal_failed(struct svc_acme *a, int64_t account_id, int64_t old_id,
                           const char *reason)
{
    struct cc_acme_order o;
    struct cc_error err;
    if (cc_store_acme_order_get(a->svc->store, old_id, &o, &err))
        return;
    struct cc_application app;
    memset(&app, 0, sizeof app);
    app.account_id = account_id;
    struct cc_caller caller;
    worker_caller(&app, &caller);
    struct renewal_fail_op op = {&caller, o.certificate_id, reason, 0};
    if (cc_store_write(a->svc->store, renewal_fail_tx, &op, &err))
        cc_log(CC_LOG_ERROR, "acme: raising certificate.renewal_failed failed", "error",
               err.message, NULL);
    else if (op.raised)
        cc_dispatcher_wake(a->svc->dispatcher);
    o.renew_failures++;
    int64_t wait = a->renew_retry_s * 1000;
    for (int64_t i = 1; i < o.renew_failures && wait < 86400000; i++)
        wait *= 2;
    if (wait > 86400000)
        wait = 86400000;
    o.renew_at = cc_now_ms() + wait;
    cc_strlcpy(o.last_error, reason, sizeof o.last_error);
    struct fail ignore;
    order_save_state(a, &o, &ignore);
    cc_acme_order_clear(&o);
    cc_log(CC_LOG_WARN, "acme: renewal failed", "reason", reason, NULL);
}

/* Starts the renewal of application due's certificate: a new application for
 * the same product, names, CSR and contact, through cc_application_create
 * (its rules), whose order records which one it renews. */
static void renew_start(struct svc_acme *a, const struct cc_acme_due *due)
{
    struct cc_application old;
    struct cc_acme_order o;
    struct cc_error err;
    if (cc_store_app_get(a->svc->store, due->account_id, due->application_id, &old, &err))
        return;
    if (cc_store_acme_order_get(a->svc->store, old.id, &o, &err)) {
        cc_application_clear(&old);
        return;
    }
    const char *names[CC_APP_DOMAINS_MAX];
    json_t *doms = json_loads(old.domains ? old.domains : "[]", 0, NULL), *d;
    size_t i, n = 0;
    json_array_foreach(doms, i, d) {
        const char *s = json_string_value(json_object_get(d, "name"));
        if (s && n < CC_APP_DOMAINS_MAX)
            names[n++] = s;
    }
    struct cc_application_input in;
    memset(&in, 0, sizeof in);
    in.product = old.product;
    in.has_domains = 1;
    in.domains = names;
    in.n_domains = n;
    in.csr = old.csr;
    in.contact_id = old.contact_id;
    struct cc_caller caller;
    worker_caller(&old, &caller);
    /* one renewal per due time, even when a crash makes the worker ask twice */
    char idem[64], hash[65];
    snprintf(idem, sizeof idem, "acme-renewal-%lld-%lld", (long long)old.id,
             (long long)o.renew_at);
    memset(hash, '0', 64);
    hash[64] = '\0';
    struct cc_application fresh;
    enum cc_err rc = cc_application_create(a->svc, &caller, &in, idem, hash, &fresh, NULL, NULL,
                                           &err);
    json_decref(doms);
    if (rc) {
        char reason[CC_APP_REASON_MAX + 1];
        snprintf(reason, sizeof reason, N_("The renewal could not be applied for: %s"),
                 err.message);
        renewal_failed(a, old.account_id, old.id, reason);
    } else {
        struct cc_acme_order r;
        memset(&r, 0, sizeof r);
        r.application_id = fresh.id;
        r.account_id = fresh.account_id;
        r.renewal_of = old.id;
        r.next_at = r.updated_at = cc_now_ms();
        o.renew_at = 0; /* under way */
        struct fail f;
        if (!order_save(a, &r, NULL, 0, &f))
            order_save_state(a, &o, &f);
        char id[24], nid[24];
        snprintf(id, sizeof id, "%lld", (long long)old.id);
        snprintf(nid, sizeof nid, "%lld", (long long)fresh.id);
        cc_log(CC_LOG_INFO, "acme: renewal applied for", "application", id, "renewal", nid,
               NULL);
        cc_application_clear(&fresh);
    }
    cc_acme_order_clear(&o);
    cc_application_clear(&old);
}

/* Moves one due application on and records when to look again. */
static void work_one(struct svc_acme *a, const struct cc_acme_due *due)
{
    struct cc_application app;
    struct cc_error err;
    if (cc_store_app_get(a->svc->store, due->account_id, due->application_id, &app, &err))
        return;
    struct cc_acme_order o;
    if (cc_store_acme_order_get(a->svc->store, app.id, &o, &err)) {
        memset(&o, 0, sizeof o);
        o.application_id = app.id;
        o.account_id = app.account_id;
    }
    struct fail f = {0, -1, ""};
    int64_t wait = CC_ACME_POLL_MS;
    int rc = step(a, &app, &o, &wait, &f);
    if (rc && __atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
        /* stopped in the middle of a request: not the CA's doing; the next start goes on */
        cc_acme_order_clear(&o);
        cc_application_clear(&app);
        return;
    }
    if (rc && (f.final || o.errors + 1 >= CC_ACME_ERRORS_MAX)) {
        cc_log(CC_LOG_WARN, "acme: application rejected", "reason", f.reason, NULL);
        struct fail ignore;
        move(a, &app, "rejected", f.reason, NULL, NULL, &ignore);
        dns_cleanup(a, &o);
        if (o.renewal_of)
            renewal_failed(a, app.account_id, o.renewal_of, f.reason);
        wait = CC_ACME_BACKOFF_MAX_MS;
    } else if (rc) {
        cc_log(CC_LOG_WARN, "acme: will try again", "reason", f.reason, NULL);
        o.errors++;
        wait = CC_ACME_BACKOFF_MIN_MS << (o.errors - 1 < 20 ? o.errors - 1 : 20);
        if (wait > CC_ACME_BACKOFF_MAX_MS)
            wait = CC_ACME_BACKOFF_MAX_MS;
        if (f.retry_after_s >= 0)
            wait = (f.retry_after_s > CC_ACME_RETRY_AFTER_MAX_S ? CC_ACME_RETRY_AFTER_MAX_S
                                                                : f.retry_after_s) *
                   1000;
        cc_strlcpy(o.last_error, f.reason, sizeof o.last_error);
    } else {
        o.errors = 0;
        o.last_error[0] = '\0';
    }
    o.next_at = cc_now_ms() + wait;
    o.updated_at = cc_now_ms();
    struct fail ignore;
    order_save_state(a, &o, &ignore);
    cc_acme_order_clear(&o);
    cc_application_clear(&app);
}

/* One pass over the due applications; the wait until the next one (ms). */
static int64_t pass(struct svc_acme *a)
{
    /* One instance of a deployment places and follows ACME orders. */
    if (!svc_leads(a->svc, "acme"))
        return CC_LEADER_POLL_MS;
    struct cc_acme_due *due = NULL;
    size_t n = 0;
    struct cc_error err;
    if (cc_store_acme_due(a->svc->store, a->products, cc_now_ms(), (size_t)a->max_orders, &due,
                          &n, &err)) {
        cc_log(CC_LOG_ERROR, "acme: reading the due applications failed", "error", err.message,
               NULL);
        return 5000;
    }
    for (size_t i = 0; i < n && !__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE); i++)
        work_one(a, &due[i]);
    cc_free(due);
    if (__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE))
        return 0;
    struct cc_acme_due *ren = NULL;
    size_t k = 0;
    if (!cc_store_acme_renewals_due(a->svc->store, cc_now_ms(), (size_t)a->max_orders, &ren, &k,
                                    &err))
        for (size_t i = 0; i < k; i++)
            renew_start(a, &ren[i]);
    cc_free(ren);
    return n || k ? 0 : CC_ACME_POLL_MS;
}

static void *run(void *arg)
{
    struct svc_acme *a = arg;
    pthread_mutex_lock(&a->mu);
    while (!a->stop) {
        a->poked = 0;
        pthread_mutex_unlock(&a->mu);
        int64_t wait = pass(a);
        pthread_mutex_lock(&a->mu);
        if (a->stop || a->poked || wait <= 0)
            continue;
        struct timespec ts;
        cc_mono_deadline(&ts, wait);
        pthread_cond_timedwait(&a->cv, &a->mu, &ts);
    }
    pthread_mutex_unlock(&a->mu);
    cc_service_thread_done(a->svc);
    return NULL;
}

/* ---- the service's API ----------------------------------------------------------------- */
static void acme_free(struct svc_acme *a)
{
    cc_acme_http_free(a->http);
    cc_acme_http_free(a->dns_http);
    OPENSSL_cleanse(a->alidns_secret, sizeof a->alidns_secret);
    json_decref(a->dir);
    EVP_PKEY_free(a->key);
    OPENSSL_cleanse(a->eab_key, sizeof a->eab_key);
    cc_free(a);
}

enum cc_err cc_acme_start(struct cc_service *svc, const struct cc_acme_config *cfg,
                          struct cc_error *err)
{
    if (!cfg || !cfg->directory_url || !cfg->directory_url[0])
        return CC_OK;
    struct svc_acme *a = cc_calloc(1, sizeof *a);
    a->svc = svc;
    cc_strlcpy(a->directory_url, cfg->directory_url, sizeof a->directory_url);
    cc_strlcpy(a->ca_file, cfg->ca_file ? cfg->ca_file : "", sizeof a->ca_file);
    cc_strlcpy(a->eab_kid, cfg->eab_kid ? cfg->eab_kid : "", sizeof a->eab_kid);
    cc_strlcpy(a->eab_key, cfg->eab_hmac_key ? cfg->eab_hmac_key : "", sizeof a->eab_key);
    cc_strlcpy(a->key_type, cfg->key_type ? cfg->key_type : "", sizeof a->key_type);
    a->terms_agreed = cfg->terms_agreed;
    a->max_orders = cfg->max_orders > 0 ? cfg->max_orders : CC_ACME_ORDERS_DEFAULT;
    a->timeout_ms = cfg->timeout_ms;
    cc_strlcpy(a->dns_hook, cfg->dns_hook ? cfg->dns_hook : "", sizeof a->dns_hook);
    cc_strlcpy(a->dns_resolver, cfg->dns_resolver ? cfg->dns_resolver : "",
               sizeof a->dns_resolver);
    a->dns_wait_s = cfg->dns_wait_s > 0 ? cfg->dns_wait_s : 120;
    a->renew_percent = cfg->renew_remaining_percent > 0 ? cfg->renew_remaining_percent : 33;
    a->renew_retry_s = cfg->renew_retry_s > 0 ? cfg->renew_retry_s : 3600;
    cc_strlcpy(a->alidns_endpoint, cfg->alidns_endpoint ? cfg->alidns_endpoint : "",
               sizeof a->alidns_endpoint);
    cc_strlcpy(a->alidns_key_id, cfg->alidns_access_key_id ? cfg->alidns_access_key_id : "",
               sizeof a->alidns_key_id);
    cc_strlcpy(a->alidns_secret,
               cfg->alidns_access_key_secret ? cfg->alidns_access_key_secret : "",
               sizeof a->alidns_secret);
    cc_strlcpy(a->alidns_zones, cfg->alidns_zones ? cfg->alidns_zones : "",
               sizeof a->alidns_zones);
    json_t *codes = json_array();
    size_t n;
    const struct cc_product *p = cc_products(&n);
    for (size_t i = 0; i < n; i++)
        if (p[i].acme)
            json_array_append_new(codes, json_string(p[i].code));
    char *s = json_dumps(codes, JSON_COMPACT);
    json_decref(codes);
    cc_strlcpy(a->products, s ? s : "[]", sizeof a->products);
    free(s);
    a->http = cc_acme_http_new(a->ca_file, a->timeout_ms);
    a->dns_http = a->alidns_key_id[0] ? cc_acme_http_new("", a->timeout_ms) : NULL;
    if (!a->http || (a->alidns_key_id[0] && !a->dns_http)) {
        acme_free(a);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "cannot start the ACME client");
    }
    cc_acme_http_abort_on(a->http, &a->stop);
    if (a->dns_http)
        cc_acme_http_abort_on(a->dns_http, &a->stop);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&a->mu, NULL);
    if (pthread_create(&a->thread, NULL, run, a)) {
        pthread_cond_destroy(&a->cv);
        pthread_mutex_destroy(&a->mu);
        acme_free(a);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "cannot start the ACME worker");
    }
    __atomic_store_n(&svc->acme, a, __ATOMIC_RELEASE);
    cc_log(CC_LOG_INFO, "acme: issuance on", "directory", a->directory_url, NULL);
    return CC_OK;
}

void cc_acme_stop(struct cc_service *svc)
{
    struct svc_acme *a = svc ? svc->acme : NULL;
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    __atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE); /* a request in flight stops too */
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    __atomic_store_n(&svc->acme, NULL, __ATOMIC_RELEASE);
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    acme_free(a);
}

void svc_acme_poke(struct cc_service *svc)
{
    struct svc_acme *a = __atomic_load_n(&svc->acme, __ATOMIC_ACQUIRE);
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->poked = 1;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

enum cc_err cc_acme_http01(struct cc_service *svc, const char *token, char *out, size_t outsz,
                           struct cc_error *err)
{
    out[0] = '\0';
    size_t len = token ? strlen(token) : 0;
    int ok = len > 0 && len <= CC_ACME_TOKEN_MAX;
    for (size_t i = 0; ok && i < len; i++) {
        char c = token[i];
        ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '-' || c == '_';
    }
    if (!ok)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no such challenge.");
    enum cc_err rc = cc_store_acme_token(svc->store, token, out, outsz, err);
    if (rc == CC_ERR_NOT_FOUND)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no such challenge.");
    return rc;
}

enum cc_err cc_acme_application_status(struct cc_service *svc, const struct cc_caller *caller,
                                       int64_t application_id, char *status, size_t statussz,
                                       char *last_error, size_t errsz,
                                       struct cc_acme_validation **vals, size_t *n,
                                       struct cc_error *err)
{
    *vals = NULL;
    *n = 0;
    status[0] = last_error[0] = '\0';
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    struct cc_acme_order o;
    if ((rc = cc_store_acme_order_get(svc->store, application_id, &o, err)))
        return rc;
    cc_acme_order_clear(&o);
    if (o.account_id != caller->account_id)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "no ACME order");
    cc_strlcpy(status, o.status, statussz);
    cc_strlcpy(last_error, o.last_error, errsz);
    struct cc_acme_challenge *ch = NULL;
    size_t k = 0;
    if ((rc = cc_store_acme_challenges(svc->store, application_id, &ch, &k, err)))
        return rc;
    struct cc_acme_validation *v = cc_calloc(k ? k : 1, sizeof *v);
    for (size_t i = 0; i < k; i++) {
        cc_strlcpy(v[i].identifier, ch[i].identifier, sizeof v[i].identifier);
        cc_strlcpy(v[i].type, ch[i].type, sizeof v[i].type);
        cc_strlcpy(v[i].status, ch[i].status, sizeof v[i].status);
        if (strcmp(ch[i].type, "http-01") == 0) {
            snprintf(v[i].http_uri, sizeof v[i].http_uri,
                     "http://%s/.well-known/acme-challenge/%s", ch[i].identifier, ch[i].token);
            cc_strlcpy(v[i].http_content, ch[i].key_authorization, sizeof v[i].http_content);
        } else if (strcmp(ch[i].type, "dns-01") == 0) {
            snprintf(v[i].dns_name, sizeof v[i].dns_name, "_acme-challenge.%s",
                     ch[i].identifier);
            acme_dns_value(ch[i].key_authorization, v[i].dns_value);
        }
    }
    cc_free(ch);
    *vals = v;
    *n = k;
    return CC_OK;
}

enum cc_err cc_acme_certificate_renewal(struct cc_service *svc, const struct cc_caller *caller,
                                        int64_t cert_id, int64_t *renew_at, int64_t *failures,
                                        char *reason, size_t reasonsz, struct cc_error *err)
{
    *renew_at = *failures = 0;
    reason[0] = '\0';
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    struct cc_acme_order o;
    if ((rc = cc_store_acme_order_of_cert(svc->store, caller->account_id, cert_id, &o, err)))
        return rc;
    cc_acme_order_clear(&o);
    *renew_at = o.renew_at;
    *failures = o.renew_failures;
    if (o.renew_failures)
        cc_strlcpy(reason, o.last_error, reasonsz);
    return CC_OK;
}
