/*
 * acs_auth.c — who is calling the Alibaba Cloud CAS 2020-04-07 API: the
 * call's parameters (query and form body), its signature (HMAC-SHA1,
 * SignatureVersion 1.0, or ACS3-HMAC-SHA256, both computed by
 * core/acs_sign.c), the 15-minute clock window, the once-only nonce (a
 * replay cache with a bounded share per access key) and the per-key request
 * rate (Throttling.User).
 *
 * Pure but for the replay cache's and rate's own memory: nothing here
 * reads the database (acs_api.c hands the signature check to the service's
 * access-key check), so the fuzzer and the unit tests drive it alone.
 * Spec: ../shared/specs/alibaba-cas-contacts.md.
 */
#include <assert.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "http/acs_int.h"

/* ---- parameters ----------------------------------------------------------------- */
void cc_acs_params_init(struct cc_acs_params *p)
{
    memset(p, 0, sizeof *p);
}

void cc_acs_params_free(struct cc_acs_params *p)
{
    cc_free(p->form);
    p->form = NULL;
    p->n = p->nquery = 0;
}

int cc_acs_params_add(struct cc_acs_params *p, const char *name, const char *value, char *why,
                      size_t whysz)
{
    size_t len = strlen(name);
    if (len == 0 || len > CC_ACS_NAME_MAX) {
        snprintf(why, whysz, "Parameter names must be 1 to %d bytes.", CC_ACS_NAME_MAX);
        return -1;
    }
    if (cc_acs_param(p, name)) {
        snprintf(why, whysz, "The parameter %.64s is given more than once.", name);
        return -1;
    }
    if (p->n >= CC_ACS_MAX_PARAMS) {
        snprintf(why, whysz, "A call takes at most %d parameters.", CC_ACS_MAX_PARAMS);
        return -1;
    }
    p->kv[p->n].key = name;
    p->kv[p->n].value = value ? value : "";
    p->n++;
    return 0;
}

const char *cc_acs_param(const struct cc_acs_params *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->kv[i].key, name) == 0)
            return p->kv[i].value;
    return NULL;
}

/* Decodes one form component in place: '+' is a space, then %XX. */
static void form_unescape(char *s)
{
    for (char *c = s; *c; c++)
        if (*c == '+')
            *c = ' ';
    size_t n = MHD_http_unescape(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0')
            s[i] = 0x7f;
}

int cc_acs_parse_form(struct cc_acs_params *p, const char *body, size_t len, char *why,
                      size_t whysz)
{
    assert(!p->form);
    if (memchr(body, '\0', len)) {
        snprintf(why, whysz, "The form body holds a NUL byte.");
        return -1;
    }
    p->form = cc_strndup(body, len);
    char *s = p->form;
    while (*s) {
        char *amp = strchr(s, '&');
        char *next = amp ? amp + 1 : s + strlen(s);
        if (amp)
            *amp = '\0';
        if (*s) { /* "a=1&&b=2": an empty pair is nothing */
            char *eq = strchr(s, '=');
            char *value = s + strlen(s); /* "name" alone: an empty value */
            if (eq) {
                *eq = '\0';
                value = eq + 1;
            }
            form_unescape(s);
            form_unescape(value);
            if (cc_acs_params_add(p, s, value, why, whysz))
                return -1;
        }
        s = next;
    }
    return 0;
}

/* ---- errors ----------------------------------------------------------------------- */
void cc_acs_error_init(struct cc_acs_error *e)
{
    memset(e, 0, sizeof *e);
    cc_buf_init(&e->message, CC_ACS_MSG_MAX);
}

void cc_acs_error_free(struct cc_acs_error *e)
{
    cc_buf_free(&e->message);
}

void cc_acs_error_set(struct cc_acs_error *e, enum cc_err err, const char *field,
                      const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    e->err = err;
    cc_strlcpy(e->field, field ? field : "", sizeof e->field);
    e->status = cc_err_status(err, CC_API_ACS);
    cc_err_code(err, field, CC_API_ACS, e->code, sizeof e->code);
    cc_buf_reset(&e->message);
    cc_buf_puts(&e->message, msg);
}

/* Appends text to the message, cut to what still fits. */
static void msg_append(struct cc_acs_error *e, const char *text, size_t n)
{
    size_t room = CC_ACS_MSG_MAX - e->message.len;
    if (n > room) {
        static const char cut[] = "...";
        if (room > sizeof cut - 1) {
            cc_buf_append(&e->message, text, room - (sizeof cut - 1));
            cc_buf_append(&e->message, cut, sizeof cut - 1);
        }
        return;
    }
    cc_buf_append(&e->message, text, n);
}

/* ---- the claim ------------------------------------------------------------------------ */
/* Parses exactly n decimal digits. */
static int digits(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return -1;
    return cc_parse_i64n(s, n, min, max, out);
}

int cc_acs_parse_time(const char *s, int64_t *ms)
{
    int64_t y, mo, d, h, mi, se;
    if (!s || strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return -1;
    if (digits(s, 4, 1970, 9999, &y) || digits(s + 5, 2, 1, 12, &mo) ||
        digits(s + 8, 2, 1, 31, &d) || digits(s + 11, 2, 0, 23, &h) ||
        digits(s + 14, 2, 0, 59, &mi) || digits(s + 17, 2, 0, 60, &se))
        return -1;
    struct tm tm = {0};
    tm.tm_year = (int)y - 1900;
    tm.tm_mon = (int)mo - 1;
    tm.tm_mday = (int)d;
    tm.tm_hour = (int)h;
    tm.tm_min = (int)mi;
    tm.tm_sec = (int)se;
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != (int)d) /* 31 February rolls over: refuse it */
        return -1;
    *ms = (int64_t)t * 1000;
    return 0;
}

static const char *header(const struct cc_acs_call *call, const char *name)
{
    return call->header ? call->header(call->header_ctx, name) : NULL;
}

/* Copies a bounded token; -1 when it is empty or too long. */
static int copy_token(char *dst, size_t dstsz, const char *src, size_t n)
{
    if (n == 0 || n >= dstsz)
        return -1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return 0;
}

/* "ACS3-HMAC-SHA256 Credential=ID,SignedHeaders=a;b,Signature=HEX". */
static int parse_acs3(const char *h, struct cc_acs_claim *c, struct cc_acs_error *e)
{
    static const char alg[] = "ACS3-HMAC-SHA256";
    size_t n = strcspn(h, " ");
    if (n != sizeof alg - 1 || strncmp(h, alg, n) != 0) {
        cc_acs_error_set(e, CC_ERR_SIGNATURE_METHOD, NULL,
                         "The signature method %.40s is not supported; use ACS3-HMAC-SHA256 or "
                         "HMAC-SHA1 (SignatureVersion 1.0).",
                         h);
        return -1;
    }
    const char *p = h + n;
    int have_cred = 0, have_sh = 0, have_sig = 0;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        if (!eq)
            goto bad;
        size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
        const char *v = eq + 1;
        while (vlen && v[vlen - 1] == ' ')
            vlen--;
        if (klen == 10 && !strncmp(p, "Credential", klen)) {
            if (copy_token(c->key_id, sizeof c->key_id, v, vlen))
                goto bad_key;
            have_cred = 1;
        } else if (klen == 13 && !strncmp(p, "SignedHeaders", klen)) {
            if (copy_token(c->signed_headers, sizeof c->signed_headers, v, vlen))
                goto bad;
            have_sh = 1;
        } else if (klen == 9 && !strncmp(p, "Signature", klen)) {
            if (copy_token(c->signature, sizeof c->signature, v, vlen) || vlen != 64)
                goto bad;
            have_sig = 1;
        } else {
            goto bad;
        }
        p += len;
    }
    if (have_cred && have_sh && have_sig)
        return 0;
bad:
    cc_acs_error_set(e, CC_ERR_SIGNATURE_INCOMPLETE, NULL,
                     "The Authorization header must be ACS3-HMAC-SHA256 Credential=<AccessKeyId>,"
                     "SignedHeaders=<h1;h2;...>,Signature=<64 hex digits>.");
    return -1;
bad_key:
    cc_acs_error_set(e, CC_ERR_KEY_NOT_FOUND, NULL, "Specified access key is not found.");
    return -1;
}

/* Is name (lower case) one of the ';'-separated signed headers? */
static int is_signed(const char *signed_headers, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = signed_headers; *p;) {
        size_t len = strcspn(p, ";");
        if (len == n && strncasecmp(p, name, n) == 0)
            return 1;
        p += len + (p[len] == ';');
    }
    return 0;
}

/* The headers an ACS3 signature must cover so that nothing that decides
 * what the call does, or when it may run, can be changed on the way. */
static int acs3_coverage(const struct cc_acs_call *call, const struct cc_acs_claim *c,
                         struct cc_acs_error *e)
{
    const char *need[] = {"host", "x-acs-date", "x-acs-signature-nonce", "x-acs-content-sha256",
                          "x-acs-action", "x-acs-version", "content-type"};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
        int present = header(call, need[i]) != NULL;
        if (i < 4 && !present) {
            cc_acs_error_set(e, CC_ERR_SIGNATURE_INCOMPLETE, NULL,
                             "The %s header is required with ACS3-HMAC-SHA256.", need[i]);
            return -1;
        }
        /* content-type matters only when there is a body to interpret */
        if (i == 6 && call->body_len == 0)
            continue;
        if (present && !is_signed(c->signed_headers, need[i])) {
            cc_acs_error_set(e, CC_ERR_SIGNATURE_INCOMPLETE, NULL,
                             "SignedHeaders must include %s.", need[i]);
            return -1;
        }
    }
    return 0;
}

int cc_acs_read_claim(const struct cc_acs_call *call, int64_t now_ms, struct cc_acs_claim *c,
                      struct cc_acs_error *e)
{
    const struct cc_acs_params *p = call->params;
    const char *ts, *nonce;
    memset(c, 0, sizeof *c);
    const char *auth = header(call, "Authorization");
    if (auth && strncmp(auth, "ACS3-", 5) == 0) {
        c->kind = CC_ACS_SIG_ACS3;
        if (parse_acs3(auth, c, e) || acs3_coverage(call, c, e))
            return -1;
        ts = header(call, "x-acs-date");
        nonce = header(call, "x-acs-signature-nonce");
    } else {
        static const char *const need[] = {"AccessKeyId", "Signature", "SignatureMethod",
                                           "SignatureNonce", "Timestamp"};
        const char *sig = cc_acs_param(p, "Signature");
        const char *key = cc_acs_param(p, "AccessKeyId");
        if (!sig && !key && !auth) {
            cc_acs_error_set(e, CC_ERR_SIGNATURE_INCOMPLETE, NULL,
                             "The call is not signed: sign it with HMAC-SHA1 (SignatureVersion "
                             "1.0) or ACS3-HMAC-SHA256, with an access key of certcontacts.");
            return -1;
        }
        if (auth && !sig) {
            cc_acs_error_set(e, CC_ERR_SIGNATURE_METHOD, NULL,
                             "The Authorization header must use ACS3-HMAC-SHA256.");
            return -1;
        }
        c->kind = CC_ACS_SIG_V1;
        for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
            if (!cc_acs_param(p, need[i]) || !cc_acs_param(p, need[i])[0]) {
                cc_acs_error_set(e, CC_ERR_MISSING_PARAMETER, need[i],
                                 "%s is mandatory for this action.", need[i]);
                return -1;
            }
        const char *method = cc_acs_param(p, "SignatureMethod");
        const char *version = cc_acs_param(p, "SignatureVersion");
        if (strcmp(method, "HMAC-SHA1") != 0 || (version && strcmp(version, "1.0") != 0)) {
            cc_acs_error_set(e, CC_ERR_SIGNATURE_METHOD, NULL,
                             "SignatureMethod must be HMAC-SHA1 with SignatureVersion 1.0 (or "
                             "sign with ACS3-HMAC-SHA256).");
            return -1;
        }
        if (copy_token(c->key_id, sizeof c->key_id, key, strlen(key))) {
            cc_acs_error_set(e, CC_ERR_KEY_NOT_FOUND, NULL,
                             "Specified access key is not found.");
            return -1;
        }
        ts = cc_acs_param(p, "Timestamp");
        nonce = cc_acs_param(p, "SignatureNonce");
    }
    if (!nonce || !nonce[0] || copy_token(c->nonce, sizeof c->nonce, nonce, strlen(nonce))) {
        cc_acs_error_set(e, CC_ERR_INVALID_PARAMETER, NULL,
                         "The signature nonce must be 1 to %d bytes.", CC_ACS_NONCE_MAX);
        return -1;
    }
    if (cc_acs_parse_time(ts, &c->time_ms)) {
        cc_acs_error_set(e, CC_ERR_TIMESTAMP_FORMAT, NULL,
                         "Specified time stamp or date value is not well formatted: use "
                         "YYYY-MM-DDThh:mm:ssZ in UTC.");
        return -1;
    }
    if (now_ms >= 0 && (c->time_ms > now_ms + CC_ACS_SKEW_MS ||
                        c->time_ms < now_ms - CC_ACS_SKEW_MS)) {
        char now[32];
        cc_time_rfc3339(now_ms, now, sizeof now);
        cc_acs_error_set(e, CC_ERR_TIMESTAMP_EXPIRED, NULL,
                         "Specified time stamp or date value is expired: %s is more than 15 "
                         "minutes from the server's time, %s.",
                         ts, now);
        return -1;
    }
    return 0;
}

/* ---- the signature -------------------------------------------------------------------- */
static int v1_ok(const struct cc_acs_call *call, const struct cc_acs_claim *c, const char *secret,
                 struct cc_acs_error *e)
{
    (void)c;
    const struct cc_acs_params *p = call->params;
    char sig[29];
    struct cc_buf sts;
    cc_buf_init(&sts, 1u << 22);
    int ok = 0;
    if (cc_acs_sign_v1(call->method, p->kv, p->n, secret, sig, sizeof sig, &sts) == 0) {
        const char *given = cc_acs_param(p, "Signature");
        ok = strlen(given) == 28 && cc_ct_equal(sig, given, 28);
    }
    if (!ok) {
        cc_acs_error_set(e, CC_ERR_SIGNATURE_MISMATCH, NULL,
                         "Specified signature does not match our calculation. server string to "
                         "sign is:");
        msg_append(e, sts.data ? sts.data : "", sts.len);
    }
    OPENSSL_cleanse(sig, sizeof sig);
    cc_buf_free(&sts);
    return ok;
}

#define ACS3_MAX_SIGNED 24

static int acs3_ok(const struct cc_acs_call *call, const struct cc_acs_claim *c,
                   const char *secret, struct cc_acs_error *e)
{
    struct cc_kv h[ACS3_MAX_SIGNED];
    char names[ACS3_MAX_SIGNED][64];
    size_t nh = 0;
    for (const char *s = c->signed_headers; *s;) {
        size_t len = strcspn(s, ";");
        if (nh >= ACS3_MAX_SIGNED || len == 0 || len >= sizeof names[0]) {
            cc_acs_error_set(e, CC_ERR_SIGNATURE_INCOMPLETE, NULL,
                             "SignedHeaders must name 1 to %d headers.", ACS3_MAX_SIGNED);
            return 0;
        }
        memcpy(names[nh], s, len);
        names[nh][len] = '\0';
        const char *v = header(call, names[nh]);
        if (!v) {
            cc_acs_error_set(e, CC_ERR_SIGNATURE_INCOMPLETE, NULL,
                             "The signed header %s is not in the request.", names[nh]);
            return 0;
        }
        h[nh].key = names[nh];
        h[nh].value = v;
        nh++;
        s += len + (s[len] == ';');
    }
    char body_hash[65];
    cc_sha256_hex(call->body, call->body_len, body_hash);
    const char *claimed = header(call, "x-acs-content-sha256");
    if (!claimed || strcmp(claimed, body_hash) != 0) {
        cc_acs_error_set(e, CC_ERR_SIGNATURE_MISMATCH, NULL,
                         "The x-acs-content-sha256 header is not the SHA-256 of the body this "
                         "server received, %s.",
                         body_hash);
        return 0;
    }
    char sig[65];
    struct cc_buf creq, sts;
    cc_buf_init(&creq, 1u << 22);
    cc_buf_init(&sts, 256);
    int ok = 0;
    if (cc_acs3_sign(call->method, call->params->kv, call->params->nquery, h, nh, body_hash,
                     secret, sig, sizeof sig, &creq, &sts) == 0)
        ok = cc_ct_equal(sig, c->signature, 64);
    if (!ok) {
        cc_acs_error_set(e, CC_ERR_SIGNATURE_MISMATCH, NULL,
                         "Specified signature does not match our calculation. server string to "
                         "sign is:");
        msg_append(e, sts.data ? sts.data : "", sts.len);
        msg_append(e, " canonical request is:\n", 23);
        msg_append(e, creq.data ? creq.data : "", creq.len);
    }
    OPENSSL_cleanse(sig, sizeof sig);
    cc_buf_free(&creq);
    cc_buf_free(&sts);
    return ok;
}

int cc_acs_signature_ok(const struct cc_acs_call *call, const struct cc_acs_claim *claim,
                        const char *secret, struct cc_acs_error *e)
{
    if (claim->kind == CC_ACS_SIG_ACS3)
        return acs3_ok(call, claim, secret, e);
    if (claim->kind == CC_ACS_SIG_V1)
        return v1_ok(call, claim, secret, e);
    return 0;
}

/* ---- replay cache and rate limit ----------------------------------------------------- */
/* One record per access key that has made a verified call: its rate bucket
 * and its own table of nonces. A nonce is remembered until its timestamp
 * leaves the window, whatever other keys send: a key's table holds at most
 * nonces_per_key, and when it is full that key's new calls are refused
 * (Throttling) rather than any live nonce forgotten. Records are made only
 * after the signature is checked, so only real keys (capped per account)
 * take memory; a record whose nonces have all expired and whose bucket is
 * full again is freed by a sweep that visits one chain per call.
 *
 * Nonce tables are open-addressed (linear probing) by a keyed hash of the
 * nonce (the key is random per process, so nobody can aim nonces at one
 * probe run), grow by doubling up to the share, and are rebuilt without
 * their expired entries when full or too loaded. */

#define KEY_CHAINS     4096
#define TABLE_MIN      64

struct nonce_slot {
    uint8_t tag[16];
    int64_t expires_ms;           /* 0: free */
};

struct key_state {
    struct key_state *next;
    char key_id[CC_KEY_ID_LEN + 1];
    double tokens;                /* the rate bucket */
    int64_t last_ms;              /* its last refill */
    struct nonce_slot *tab;       /* NULL until the first nonce */
    size_t cap;                   /* slots, a power of two */
    size_t used;                  /* slots taken (live or expired) */
    int64_t min_exp, max_exp;     /* over the slots taken */
};

struct cc_acs_state {
    uint8_t salt[32];
    pthread_mutex_t mu;
    struct key_state *chains[KEY_CHAINS];
    size_t sweep;                 /* next chain the sweep visits */
    size_t per_key;               /* nonces one key may hold */
    size_t max_cap;               /* the table size that holds per_key */
    double per_ms;                /* tokens added per ms */
    double burst;
    int64_t per_minute;
};

struct cc_acs_state *cc_acs_state_new(int64_t requests_per_minute, int64_t nonces_per_key)
{
    struct cc_acs_state *st = cc_calloc(1, sizeof *st);
    cc_random_bytes(st->salt, sizeof st->salt);
    pthread_mutex_init(&st->mu, NULL);
    if (requests_per_minute < 1)
        requests_per_minute = 1;
    st->per_minute = requests_per_minute;
    st->per_ms = (double)requests_per_minute / 60000.0;
    st->burst = (double)requests_per_minute / 6.0;
    if (st->burst < 1.0)
        st->burst = 1.0;
    st->per_key = nonces_per_key > 0 ? (size_t)nonces_per_key : CC_ACS_NONCES_PER_KEY_DEFAULT;
    st->max_cap = TABLE_MIN;
    while (st->max_cap * 3 / 4 < st->per_key)  /* at most 3/4 full */
        st->max_cap *= 2;
    return st;
}

static void key_free(struct key_state *k)
{
    cc_free(k->tab);
    cc_free(k);
}

int64_t cc_acs_state_rate(const struct cc_acs_state *st)
{
    return st->per_minute;
}

int64_t cc_acs_state_nonces(const struct cc_acs_state *st)
{
    return (int64_t)st->per_key;
}

void cc_acs_state_free(struct cc_acs_state *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < KEY_CHAINS; i++)
        for (struct key_state *k = st->chains[i], *next; k; k = next) {
            next = k->next;
            key_free(k);
        }
    pthread_mutex_destroy(&st->mu);
    OPENSSL_cleanse(st->salt, sizeof st->salt);
    cc_free(st);
}

/* HMAC(salt, a "\n" b): 32 bytes. */
static void keyed_hash(const struct cc_acs_state *st, const char *a, const char *b, uint8_t out[32])
{
    char buf[CC_KEY_ID_LEN + CC_ACS_NONCE_MAX + 2];
    size_t la = strlen(a), lb = strlen(b);
    assert(la <= CC_KEY_ID_LEN && lb <= CC_ACS_NONCE_MAX);
    memcpy(buf, a, la);
    buf[la] = '\n';
    memcpy(buf + la + 1, b, lb);
    cc_hmac_sha256(st->salt, sizeof st->salt, buf, la + 1 + lb, out);
}

static size_t hash_index(const uint8_t h[32], size_t n)
{
    uint32_t v = (uint32_t)h[28] << 24 | (uint32_t)h[29] << 16 | (uint32_t)h[30] << 8 | h[31];
    return v % n;
}

/* A record is idle when it remembers no live nonce and its bucket has
 * refilled: forgetting it changes nothing. */
static int key_idle(const struct cc_acs_state *st, const struct key_state *k, int64_t now_ms)
{
    double tokens = k->tokens + (double)(now_ms - k->last_ms) * st->per_ms;
    return (k->used == 0 || k->max_exp <= now_ms) && tokens >= st->burst;
}

/* Frees the idle records of one chain, a different one each call. */
static void sweep_one(struct cc_acs_state *st, int64_t now_ms)
{
    struct key_state **pp = &st->chains[st->sweep++ % KEY_CHAINS];
    while (*pp) {
        struct key_state *k = *pp;
        if (key_idle(st, k, now_ms)) {
            *pp = k->next;
            key_free(k);
        } else {
            pp = &k->next;
        }
    }
}

/* key_id's record, made (with a full bucket) when it has none. */
static struct key_state *key_find(struct cc_acs_state *st, const char *key_id, int64_t now_ms)
{
    uint8_t h[32];
    keyed_hash(st, key_id, "", h);
    struct key_state **chain = &st->chains[hash_index(h, KEY_CHAINS)];
    for (struct key_state *k = *chain; k; k = k->next)
        if (strcmp(k->key_id, key_id) == 0)
            return k;
    struct key_state *k = cc_calloc(1, sizeof *k);
    cc_strlcpy(k->key_id, key_id, sizeof k->key_id);
    k->tokens = st->burst;
    k->last_ms = now_ms;
    k->next = *chain;
    *chain = k;
    return k;
}

static struct nonce_slot *probe(struct nonce_slot *tab, size_t cap, const uint8_t tag[16])
{
    size_t i = ((size_t)tag[0] << 24 | (size_t)tag[1] << 16 | (size_t)tag[2] << 8 | tag[3]) &
               (cap - 1);
    for (;; i = (i + 1) & (cap - 1))
        if (tab[i].expires_ms == 0 || memcmp(tab[i].tag, tag, 16) == 0)
            return &tab[i];
}

/* Rebuilds k's table with only its live entries, sized for them and one
 * more with room to grow (at most max_cap). */
static void rebuild(struct cc_acs_state *st, struct key_state *k, int64_t now_ms)
{
    size_t live = 0;
    for (size_t i = 0; i < k->cap; i++)
        live += k->tab && k->tab[i].expires_ms > now_ms;
    size_t cap = TABLE_MIN;
    while (cap < st->max_cap && cap * 3 / 4 < (live + 1) * 2)
        cap *= 2;
    struct nonce_slot *tab = cc_calloc(cap, sizeof *tab);
    size_t used = 0;
    int64_t lo = INT64_MAX, hi = 0;
    for (size_t i = 0; i < k->cap; i++) {
        const struct nonce_slot *e = &k->tab[i];
        if (e->expires_ms <= now_ms)
            continue;
        *probe(tab, cap, e->tag) = *e;
        used++;
        lo = e->expires_ms < lo ? e->expires_ms : lo;
        hi = e->expires_ms > hi ? e->expires_ms : hi;
    }
    cc_free(k->tab);
    k->tab = tab;
    k->cap = cap;
    k->used = used;
    k->min_exp = used ? lo : 0;
    k->max_exp = hi;
}

int cc_acs_nonce_seen(struct cc_acs_state *st, const char *key_id, const char *nonce,
                      int64_t expires_ms, int64_t now_ms)
{
    uint8_t h[32];
    keyed_hash(st, key_id, nonce, h);
    int verdict = CC_ACS_NONCE_NEW;
    pthread_mutex_lock(&st->mu);
    struct key_state *k = key_find(st, key_id, now_ms);
    struct nonce_slot *e = k->tab ? probe(k->tab, k->cap, h) : NULL;
    if (e && e->expires_ms > now_ms) {
        verdict = CC_ACS_NONCE_REPLAY;
    } else if (e && e->expires_ms) { /* this very nonce, expired: remember it again */
        e->expires_ms = expires_ms;
        k->max_exp = expires_ms > k->max_exp ? expires_ms : k->max_exp;
    } else {
        int full = k->used >= st->per_key;
        if (full && now_ms < k->min_exp) {
            verdict = CC_ACS_NONCE_FULL;  /* nothing of this key's can go yet */
        } else {
            if (!k->tab || full || (k->used + 1) * 4 > k->cap * 3)
                rebuild(st, k, now_ms);
            if (k->used >= st->per_key) {
                verdict = CC_ACS_NONCE_FULL;
            } else {
                e = probe(k->tab, k->cap, h);
                memcpy(e->tag, h, sizeof e->tag);
                e->expires_ms = expires_ms;
                k->min_exp = k->used == 0 || expires_ms < k->min_exp ? expires_ms : k->min_exp;
                k->max_exp = expires_ms > k->max_exp ? expires_ms : k->max_exp;
                k->used++;
            }
        }
    }
    sweep_one(st, now_ms);
    pthread_mutex_unlock(&st->mu);
    return verdict;
}

int64_t cc_acs_nonce_retry_ms(struct cc_acs_state *st, const char *key_id, int64_t now_ms)
{
    pthread_mutex_lock(&st->mu);
    struct key_state *k = key_find(st, key_id, now_ms);
    int64_t wait = k->min_exp > now_ms ? k->min_exp - now_ms : 1;
    pthread_mutex_unlock(&st->mu);
    return wait;
}

int64_t cc_acs_throttle(struct cc_acs_state *st, const char *key_id, int64_t now_ms)
{
    int64_t wait = 0;
    pthread_mutex_lock(&st->mu);
    struct key_state *b = key_find(st, key_id, now_ms);
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * st->per_ms;
        if (b->tokens > st->burst)
            b->tokens = st->burst;
    }
    b->last_ms = now_ms > b->last_ms ? now_ms : b->last_ms;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
    } else {
        wait = (int64_t)((1.0 - b->tokens) / st->per_ms) + 1;
    }
    pthread_mutex_unlock(&st->mu);
    return wait;
}
