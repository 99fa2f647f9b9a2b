/*
 * acs_api.c — the Alibaba Cloud CAS 2020-04-07 contact API at "/":
 * CreateContact, UpdateContact, DeleteContact, GetContact and ListContact,
 * RPC style, so that scripts written with Alibaba's SDKs or Terraform manage
 * certcontacts' contacts by changing only the endpoint and the keys.
 *
 * It sits beside the REST handlers in http/: it reads the action, version
 * and parameters (query and form body), lets acs_auth.c authenticate the
 * call, and then calls the same service/ functions as REST v1 — every rule
 * (roles, validation, uniqueness, limits, idempotency, masking) is theirs.
 * What is this file's own is the translation: Alibaba's parameter and field
 * names, its response shapes and its error codes. Every call runs on the
 * blocking pool (see cc_req_defer), reads included: the signature check
 * reads the key and the writes wait for their group commit.
 * Spec: ../shared/specs/alibaba-cas-contacts.md; docs/alibaba-compat.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "http/acs_int.h"
#include "http/http_int.h"

#define RECOMMEND "Look for this RequestId in the certcontacts log; see docs/alibaba-compat.md."

/* ---- responses ------------------------------------------------------------------------ */
/* The Host header when it is short printable ASCII, else "". */
static const char *host_id(struct cc_request *req)
{
    const char *h = cc_req_header(req, "Host");
    if (!h || strlen(h) > 255)
        return "";
    for (const char *p = h; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return "";
    return h;
}

/* Sends Alibaba's error shape, status and Code from core's error table;
 * details that the table hides go to the log only. */
static void send_error(struct cc_request *req, enum cc_err err, const char *field,
                       const char *message, int64_t retry_after_ms)
{
    char code[96];
    cc_err_code(err, field, CC_API_ACS, code, sizeof code);
    if (cc_err_hides_detail(err)) {
        cc_log(CC_LOG_ERROR, "request failed", "request_id", cc_req_id(req), "error", message,
               NULL);
        message = cc_err_hidden_message();
    }
    if (retry_after_ms > 0) {
        char ms[24];
        snprintf(ms, sizeof ms, "%lld", (long long)retry_after_ms);
        cc_req_add_header(req, "x-acs-retry-after", ms);
    }
    json_t *o = json_object();
    json_object_set_new(o, "RequestId", json_string(cc_req_id(req)));
    json_object_set_new(o, "HostId", json_string(host_id(req)));
    json_object_set_new(o, "Code", json_string(code));
    /* In the caller's language (Accept-Language), read back from the
     * catalog; a message is built from what the client sent: keep it valid
     * JSON text. */
    char tr[1024];
    cc_tr_text(cc_req_lang(req), message, tr, sizeof tr);
    json_t *m = json_string(tr);
    json_object_set_new(o, "Message", m ? m : json_string("(the message is not valid UTF-8)"));
    json_object_set_new(o, "Recommend", json_string(RECOMMEND));
    cc_req_json(req, cc_err_status(err, CC_API_ACS), o);
}

static void send_acs_error(struct cc_request *req, const struct cc_acs_error *e)
{
    send_error(req, e->err, e->field, e->message.data ? e->message.data : "", e->retry_after_ms);
}

void cc_acs_fail(struct cc_request *req, enum cc_err err, const char *field, const char *fmt,
                 ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    send_error(req, err, field, msg, 0);
}

/* The service speaks of its fields in REST terms; the Alibaba API's
 * parameters are named differently in a few places. */
static const char *param_name(const char *field)
{
    static const char *const map[][2] = {
        {"IdCard", "Idcard"},   {"Page", "CurrentPage"},          {"PageSize", "ShowSize"},
        {"Keyword", "Keyword"}, {"IdempotencyKey", "ClientToken"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(field, map[i][0]) == 0)
            return map[i][1];
    return field;
}

/* Answers a service error: status and Code from core's error table, the
 * Message in the words of Alibaba's gateway. */
void cc_acs_service_error(struct cc_request *req, const struct cc_error *err)
{
    const char *f = param_name(err->field);
    const char *detail = err->message[0] ? err->message : cc_strerror(err->code);
    enum cc_err code = err->code;
    /* CAS answers InvalidParameter for a webhook URL it refuses */
    if (code == CC_ERR_INCORRECT_FORMAT && strcmp(f, "Webhooks") == 0)
        code = CC_ERR_INVALID_PARAMETER;
    switch (code) {
    case CC_ERR_INCORRECT_FORMAT:
        cc_acs_fail(req, code, f, "The %s parameter format is incorrect. %s", f, detail);
        return;
    case CC_ERR_MISSING_PARAMETER:
        cc_acs_fail(req, code, f, "%s is mandatory for this action. %s", f[0] ? f : "A parameter",
             detail);
        return;
    case CC_ERR_INVALID_PARAMETER:
    case CC_ERR_UNKNOWN_FIELD:
        cc_acs_fail(req, code, f, "The %s parameter is invalid. %s", f, detail);
        return;
    case CC_ERR_IDEMPOTENCY_REUSED:
        cc_acs_fail(req, code, f, "This ClientToken was already used with different parameters.");
        return;
    case CC_ERR_FORBIDDEN:
        cc_acs_fail(req, code, f, "You are not authorized to do this action. %s", detail);
        return;
    case CC_ERR_THROTTLED:
        send_error(req, code, f, detail,
                   err->retry_after_s > 0 ? err->retry_after_s * 1000 : 1000);
        return;
    default:
        send_error(req, code, f, detail, 0);
        return;
    }
}

/* ---- contacts as Alibaba shows them ---------------------------------------------------- */
/* CAS shows mainland numbers without their country code ("139****8888"). */
static const char *alibaba_mobile(const char *masked)
{
    return strncmp(masked, "+86 ", 4) == 0 ? masked + 4 : masked;
}

/* Webhooks as a JSON-list string and WebhookList as an array. */
static void put_webhooks(json_t *o, const struct cc_contact *c)
{
    json_t *list = json_array();
    for (int i = 0; i < c->n_webhooks; i++)
        json_array_append_new(list, json_string(c->webhooks[i].url));
    char *s = json_dumps(list, JSON_COMPACT | JSON_ENCODE_ANY);
    json_object_set_new(o, "Webhooks", json_string(s ? s : "[]"));
    free(s);
    json_object_set_new(o, "WebhookList", list);
}

/* c comes masked from the service (Alibaba's callers have mask_addresses:
 * its API always masks the addresses). */
static json_t *render_contact(struct cc_request *req, const struct cc_contact *c, int detail)
{
    json_t *o = json_object();
    if (detail)
        json_object_set_new(o, "RequestId", json_string(cc_req_id(req)));
    json_object_set_new(o, "ContactId", json_integer(c->id));
    json_object_set_new(o, "Name", json_string(c->name));
    json_object_set_new(o, "Mobile", json_string(alibaba_mobile(c->mobile)));
    json_object_set_new(o, "MobileStatus", json_integer(c->mobile_verified_at ? 1 : 0));
    json_object_set_new(o, "Email", json_string(c->has_email ? c->email : ""));
    json_object_set_new(o, "EmailStatus", json_integer(c->email_verified_at ? 1 : 0));
    if (detail)
        json_object_set_new(o, "IdCard", json_string(c->has_id_card ? c->id_card_masked : ""));
    put_webhooks(o, c);
    return o;
}

/* ---- parameters of the actions ------------------------------------------------------ */
static const char *param(struct acs_call *c, const char *name)
{
    return cc_acs_param(&c->params, name);
}

/* A whole number parameter; def when absent. Answers and returns -1 when
 * it is not one. */
static int int_param(struct acs_call *c, const char *name, int64_t def, int64_t min,
                     int64_t *out)
{
    const char *v = param(c, name);
    *out = def;
    if (!v)
        return 0;
    if (cc_parse_i64(v, min, INT64_MAX, out)) {
        cc_acs_fail(c->req, CC_ERR_INCORRECT_FORMAT, name,
             "The %s parameter format is incorrect: a whole number is needed.", name);
        return -1;
    }
    return 0;
}

static int contact_id(struct acs_call *c, int64_t *id)
{
    if (!param(c, "ContactId") || !param(c, "ContactId")[0]) {
        cc_acs_fail(c->req, CC_ERR_MISSING_PARAMETER, "ContactId",
             "ContactId is mandatory for this action.");
        return -1;
    }
    return int_param(c, "ContactId", 0, 1, id);
}

/* Fills in from the call's parameters. "Webhooks" is a JSON list of URL
 * strings; *hooks keeps it parsed (the URLs in `in` are borrowed from it;
 * json_decref() it after the service call). An empty Email, Idcard or
 * Webhooks means none: not set on create, removed on update. */
static int contact_input(struct acs_call *c, int creating, struct cc_contact_input *in,
                         json_t **hooks)
{
    memset(in, 0, sizeof *in);
    *hooks = NULL;
    const char *v;
    if ((v = param(c, "Name"))) {
        in->present |= CC_F_NAME;
        in->name = v;
    }
    if ((v = param(c, "Mobile"))) {
        in->present |= CC_F_MOBILE;
        in->mobile = v;
    }
    if ((v = param(c, "Email")) && (v[0] || !creating)) {
        in->present |= CC_F_EMAIL;
        in->email = v[0] ? v : NULL;
    }
    if ((v = param(c, "Idcard")) && (v[0] || !creating)) {
        in->present |= CC_F_ID_CARD;
        in->id_card = v[0] ? v : NULL;
    }
    if ((v = param(c, "Webhooks")) && (v[0] || !creating)) {
        in->present |= CC_F_WEBHOOKS;
        if (!v[0])
            return 0;
        json_error_t jerr;
        *hooks = json_loads(v, JSON_DECODE_ANY, &jerr);
        if (!json_is_array(*hooks)) {
            cc_acs_fail(c->req, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                 "The Webhooks parameter format is incorrect: send a JSON list of URL strings, "
                 "such as [\"https://oapi.dingtalk.com/robot/send?access_token=...\"].");
            return -1;
        }
        size_t n = json_array_size(*hooks);
        for (size_t i = 0; i < n; i++) {
            json_t *u = json_array_get(*hooks, i);
            if (!json_is_string(u)) {
                cc_acs_fail(c->req, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                     "The Webhooks parameter format is incorrect: every item must be a URL "
                     "string.");
                return -1;
            }
            if (i < CC_WEBHOOKS_MAX) {
                in->webhooks[i].url = json_string_value(u);
                in->webhooks[i].secret_state = CC_SECRET_ABSENT; /* a URL that stays keeps it */
                in->webhooks[i].mention_mobile = -1;
            }
        }
        in->n_webhooks = n; /* more than the service allows is its to refuse */
    }
    return 0;
}

/* Answers a create or update: the contact's id, or the service's error.
 * Frees ct, wiped first (it held the sealed ID number). */
static void answer_written(struct acs_call *c, enum cc_err rc, struct cc_contact *ct,
                           const struct cc_error *err)
{
    if (rc) {
        cc_acs_service_error(c->req, err);
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "RequestId", json_string(cc_req_id(c->req)));
        json_object_set_new(o, "ContactId", json_integer(ct->id));
        cc_req_json(c->req, 200, o);
    }
    OPENSSL_cleanse(ct, sizeof *ct);
    cc_free(ct);
}

/* ---- the actions ------------------------------------------------------------------------- */
static void create_contact(struct acs_call *c)
{
    struct cc_contact_input in;
    json_t *hooks = NULL;
    struct cc_idem idem;
    struct cc_error err;
    if (contact_input(c, 1, &in, &hooks))
        goto out;
    /* Its own namespace: a REST Idempotency-Key of the same text is another key. */
    if (cc_idem_parse(param(c, "ClientToken"), "acs:", &idem, &err)) {
        cc_acs_service_error(c->req, &err);
        goto out;
    }
    if (idem.key) {
        /* The same request is the same contact parameters, in any order. */
        static const char *const fields[] = {"Name", "Mobile", "Email", "Idcard", "Webhooks"};
        struct cc_kv kv[5];
        size_t nkv = 0;
        for (size_t i = 0; i < 5; i++)
            if (param(c, fields[i]))
                kv[nkv++] = (struct cc_kv){fields[i], param(c, fields[i])};
        struct cc_buf canon;
        cc_buf_init(&canon, 1u << 22);
        cc_acs_canonical_query(kv, nkv, &canon);
        cc_idem_set_request(&idem, canon.data, canon.len);
        cc_buf_free(&canon);
    }
    struct cc_contact *ct = cc_malloc(sizeof *ct);
    answer_written(c, cc_contact_create(cc_req_service(c->req), cc_req_caller(c->req), &in,
                                        idem.key, idem.hash, ct, NULL, &err),
                   ct, &err);
out:
    json_decref(hooks);
}

/* A ClientToken is accepted and needs nothing more: an update sets the
 * fields it names, so doing it twice leaves the contact as doing it once. */
static void update_contact(struct acs_call *c)
{
    int64_t id;
    struct cc_contact_input in;
    json_t *hooks = NULL;
    if (contact_id(c, &id) || contact_input(c, 0, &in, &hooks))
        goto out;
    struct cc_contact *ct = cc_malloc(sizeof *ct);
    struct cc_error err;
    answer_written(c, cc_contact_update(cc_req_service(c->req), cc_req_caller(c->req), id, &in,
                                        -1, ct, &err),
                   ct, &err);
out:
    json_decref(hooks);
}

static void delete_contact(struct acs_call *c)
{
    int64_t id;
    if (contact_id(c, &id))
        return;
    struct cc_error err;
    /* In use: the service's Contact.InUse, whose message names the applications. */
    if (cc_contact_delete(cc_req_service(c->req), cc_req_caller(c->req), id, NULL, &err)) {
        cc_acs_service_error(c->req, &err);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "RequestId", json_string(cc_req_id(c->req)));
    cc_req_json(c->req, 200, o);
}

static void get_contact(struct acs_call *c)
{
    int64_t id;
    if (contact_id(c, &id))
        return;
    struct cc_contact *ct = cc_malloc(sizeof *ct);
    struct cc_error err;
    if (cc_contact_get(cc_req_service(c->req), cc_req_caller(c->req), id, ct, &err))
        cc_acs_service_error(c->req, &err);
    else
        cc_req_json(c->req, 200, render_contact(c->req, ct, 1));
    cc_free(ct);
}

static void list_contact(struct acs_call *c)
{
    int64_t page, size;
    if (int_param(c, "CurrentPage", 1, INT64_MIN, &page) ||
        int_param(c, "ShowSize", 20, INT64_MIN, &size))
        return;
    const char *keyword = param(c, "Keyword");
    struct cc_contact_page p;
    struct cc_error err;
    if (cc_contact_list(cc_req_service(c->req), cc_req_caller(c->req), keyword, page, size, &p,
                        &err)) {
        cc_acs_service_error(c->req, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < p.n; i++)
        json_array_append_new(items, render_contact(c->req, &p.items[i], 0));
    json_t *o = json_object();
    json_object_set_new(o, "RequestId", json_string(cc_req_id(c->req)));
    json_object_set_new(o, "TotalCount", json_integer(p.total));
    json_object_set_new(o, "ShowSize", json_integer(size));
    json_object_set_new(o, "CurrentPage", json_integer(page));
    json_object_set_new(o, "Keyword", json_string(keyword ? keyword : ""));
    json_object_set_new(o, "ContactList", items);
    cc_contact_page_free(&p);
    cc_req_json(c->req, 200, o);
}

/* ---- shared with the other action files (acs_int.h) --------------------------------- */
const char *cc_acs_arg(struct acs_call *c, const char *name)
{
    return param(c, name);
}

int cc_acs_int_arg(struct acs_call *c, const char *name, int64_t def, int64_t min, int64_t *out)
{
    return int_param(c, name, def, min, out);
}

static const struct {
    const char *name;
    void (*fn)(struct acs_call *c);
} actions[] = {
    {"CreateContact", create_contact}, {"UpdateContact", update_contact},
    {"DeleteContact", delete_contact}, {"GetContact", get_contact},
    {"ListContact", list_contact},
    /* certificates: acs_certs.c */
    {"UploadUserCertificate", cc_acs_upload_user_certificate},
    {"GetUserCertificateDetail", cc_acs_get_user_certificate_detail},
    {"DeleteUserCertificate", cc_acs_delete_user_certificate},
    /* certificate applications as orders: acs_orders.c */
    {"CreateCertificateRequest", cc_acs_create_certificate_request},
    {"CreateCertificateWithCsrRequest", cc_acs_create_certificate_with_csr_request},
    {"CreateCertificateForPackageRequest", cc_acs_create_certificate_for_package_request},
    {"DescribeCertificateState", cc_acs_describe_certificate_state},
    {"CancelOrderRequest", cc_acs_cancel_order_request},
    {"DeleteCertificateRequest", cc_acs_delete_certificate_request},
    {"ListUserCertificateOrder", cc_acs_list_user_certificate_order},
};

/* ---- authentication ----------------------------------------------------------------- */
struct proof {
    const struct cc_acs_call *call;
    const struct cc_acs_claim *claim;
    struct cc_acs_error *e;
};

static int signature_proof(const char *secret, size_t len, void *arg)
{
    struct proof *p = arg;
    (void)len;
    return cc_acs_signature_ok(p->call, p->claim, secret, p->e);
}

/* Takes one call from key_id's rate: in the database when instances share
 * it (so the rate holds for the deployment), else in this process (also
 * when the database cannot be reached: the call is then judged here). */
static int64_t throttle(struct cc_service *svc, struct cc_acs_state *st, const char *key_id,
                        int64_t now_ms)
{
    if (cc_service_shared(svc)) {
        char name[CC_KEY_ID_LEN + 16];
        snprintf(name, sizeof name, "acs-key:%s", key_id);
        int64_t wait = 0;
        struct cc_error err;
        cc_error_clear(&err);
        if (cc_service_bucket_take(svc, name, cc_acs_state_rate(st), now_ms, &wait, &err) == CC_OK)
            return wait;
        cc_log(CC_LOG_WARN, "an access key's rate could not be read from the database",
               "reason", err.message, NULL);
    }
    return cc_acs_throttle(st, key_id, now_ms);
}

/* Remembers the call's nonce: CC_ACS_NONCE_NEW, _REPLAY or _FULL (then
 * *retry_ms says when the key may call again), or -1 with *e set when the
 * database, where instances sharing it keep nonces (so a nonce is used once
 * across the deployment), cannot say. */
static int nonce_seen(struct cc_service *svc, struct cc_acs_state *st, const char *key_id,
                      const char *nonce, int64_t expires_ms, int64_t now_ms, int64_t *retry_ms,
                      struct cc_acs_error *e)
{
    _Static_assert(CC_ACS_NONCE_NEW == 0 && CC_ACS_NONCE_REPLAY == 1 && CC_ACS_NONCE_FULL == 2,
                   "the same verdicts as cc_service_nonce_take's");
    if (!cc_service_shared(svc)) {
        int seen = cc_acs_nonce_seen(st, key_id, nonce, expires_ms, now_ms);
        if (seen == CC_ACS_NONCE_FULL)
            *retry_ms = cc_acs_nonce_retry_ms(st, key_id, now_ms);
        return seen;
    }
    int verdict = CC_ACS_NONCE_REPLAY;
    struct cc_error err;
    cc_error_clear(&err);
    if (cc_service_nonce_take(svc, key_id, nonce, expires_ms, now_ms, cc_acs_state_nonces(st),
                              &verdict, retry_ms, &err)) {
        cc_acs_error_set(e, CC_ERR_UNAVAILABLE, NULL,
                         "The server could not check the signature nonce: %s", err.message);
        return -1;
    }
    return verdict;
}

/* Authenticates a call end to end: the claim, the key (the access-key
 * check the REST API's HTTP Basic uses too, cc_auth_access_key_proof, with
 * the signature as the proof), the per-key rate, then the nonce. Returns 0
 * with *out set, or -1 with *e set as Alibaba's gateway names each failure. */
static int authenticate(struct cc_acs_state *st, struct cc_service *svc,
                        const struct cc_acs_call *call, int64_t now_ms, struct cc_caller *out,
                        struct cc_acs_error *e)
{
    struct cc_acs_claim claim;
    if (cc_acs_read_claim(call, now_ms, &claim, e))
        return -1;
    struct proof pr = {call, &claim, e};
    enum cc_auth_failure why = CC_AUTH_OK;
    struct cc_error err;
    cc_error_clear(&err);
    if (cc_auth_access_key_proof(svc, claim.key_id, signature_proof, &pr, out, &why, &err)) {
        switch (why) {
        case CC_AUTH_NO_SUCH_KEY:
            cc_acs_error_set(e, CC_ERR_KEY_NOT_FOUND, NULL,
                             "Specified access key is not found.");
            break;
        case CC_AUTH_BAD_PROOF:
            break; /* the proof wrote SignatureDoesNotMatch (or why it could not check) */
        case CC_AUTH_DISABLED:
            cc_acs_error_set(e, CC_ERR_KEY_DISABLED, NULL,
                             "Specified access key is disabled.");
            break;
        default:
            cc_acs_error_set(e, CC_ERR_INTERNAL, NULL,
                             "The server could not check the access key: %s", err.message);
            break;
        }
        return -1;
    }
    int64_t wait = throttle(svc, st, out->key_id, now_ms);
    if (wait > 0) {
        cc_acs_error_set(e, CC_ERR_THROTTLED, "User",
                         "Request was denied due to user flow control: try again in %lld ms.",
                         (long long)wait);
        e->retry_after_ms = wait;
        return -1;
    }
    /* Remembered until the timestamp leaves the window, when the clock check
     * refuses a replay by itself. */
    int64_t retry = 0;
    int seen = nonce_seen(svc, st, out->key_id, claim.nonce,
                          claim.time_ms + CC_ACS_SKEW_MS + 1000, now_ms, &retry, e);
    if (seen < 0)
        return -1;
    if (seen == CC_ACS_NONCE_REPLAY) {
        cc_acs_error_set(e, CC_ERR_NONCE_USED, NULL,
                         "Specified signature nonce was used already.");
        return -1;
    }
    if (seen == CC_ACS_NONCE_FULL) {
        cc_acs_error_set(e, CC_ERR_THROTTLED, "User",
                         "Request was denied due to user flow control: this access key has made "
                         "as many calls as its replay window holds; try again in %lld ms.",
                         (long long)retry);
        e->retry_after_ms = retry;
        return -1;
    }
    out->mask_addresses = 1; /* Alibaba's API always shows addresses masked */
    return 0;
}

/* ---- one call ---------------------------------------------------------------------------- */
static const char *req_header(void *ctx, const char *name)
{
    return cc_req_header(ctx, name);
}

struct query_add {
    struct cc_acs_params *p;
    char why[160];
};

static int add_query(void *arg, const char *name, const char *value)
{
    struct query_add *q = arg;
    return cc_acs_params_add(q->p, name, value, q->why, sizeof q->why);
}

/* The query's parameters, then the form body's. Answers and returns -1 on
 * a malformed call. */
static int collect_params(struct acs_call *c)
{
    struct query_add q = {&c->params, ""};
    if (cc_req_each_query(c->req, add_query, &q)) {
        cc_acs_fail(c->req, CC_ERR_INVALID_PARAMETER, NULL, "%s", q.why);
        return -1;
    }
    c->params.nquery = c->params.n;
    size_t len;
    const char *body = cc_req_body(c->req, &len);
    if (!len)
        return 0;
    const char *ct = cc_req_header(c->req, "Content-Type");
    static const char form[] = "application/x-www-form-urlencoded";
    if (!ct || strncasecmp(ct, form, sizeof form - 1) != 0 ||
        (ct[sizeof form - 1] && ct[sizeof form - 1] != ';' && ct[sizeof form - 1] != ' ')) {
        cc_acs_fail(c->req, CC_ERR_UNSUPPORTED_MEDIA, NULL,
             "Send the parameters in the query string or in an "
             "application/x-www-form-urlencoded body.");
        return -1;
    }
    if (cc_acs_parse_form(&c->params, body, len, q.why, sizeof q.why)) {
        cc_acs_fail(c->req, CC_ERR_INVALID_PARAMETER, NULL, "%s", q.why);
        return -1;
    }
    return 0;
}

/* A parameter, else the header that may carry it (ACS3 sends the action
 * and version only as headers). */
static const char *param_or_header(struct acs_call *c, const char *name, const char *hdr)
{
    const char *v = param(c, name);
    return v ? v : cc_req_header(c->req, hdr);
}

static void run(struct cc_request *req)
{
    struct acs_call c = {req, {{{0}}, 0, 0, NULL}};
    cc_acs_params_init(&c.params);
    struct cc_acs_error e;
    cc_acs_error_init(&e);
    if (collect_params(&c))
        goto out;
    const char *version = param_or_header(&c, "Version", "x-acs-version");
    const char *action = param_or_header(&c, "Action", "x-acs-action");
    if (!version || !version[0]) {
        cc_acs_fail(req, CC_ERR_MISSING_PARAMETER, "Version",
                    "Version is mandatory for this action.");
        goto out;
    }
    if (strcmp(version, CC_ACS_VERSION) != 0) {
        cc_acs_fail(req, CC_ERR_VERSION_UNSUPPORTED, "Version",
             "Specified parameter Version is not valid: this API is version %s.", CC_ACS_VERSION);
        goto out;
    }
    void (*fn)(struct acs_call *) = NULL;
    for (size_t i = 0; action && i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(action, actions[i].name) == 0)
            fn = actions[i].fn;
    if (!fn && action && cc_acs_unsupported(action))
        fn = cc_acs_answer_unsupported; /* after authentication, like any action */
    if (!fn) {
        cc_acs_fail(req, CC_ERR_ACTION_UNKNOWN, "Action",
             "Specified api is not found, please check your url and method. The actions "
             "certcontacts answers are listed in docs/alibaba-compat.md.");
        goto out;
    }
    /* HMAC-SHA1 signs parameters, not headers: there the action and version
     * must be parameters, or they could be changed on the way. */
    const char *auth = cc_req_header(req, "Authorization");
    if (!(auth && strncmp(auth, "ACS3-", 5) == 0) && (!param(&c, "Action") || !param(&c, "Version"))) {
        cc_acs_fail(req, CC_ERR_MISSING_PARAMETER, param(&c, "Action") ? "Version" : "Action",
             "With HMAC-SHA1 signatures Action and Version are parameters of the call.");
        goto out;
    }
    size_t blen;
    const char *body = cc_req_body(req, &blen);
    struct cc_acs_call call = {cc_req_method(req), &c.params, req_header, req, body, blen};
    struct cc_caller caller;
    memset(&caller, 0, sizeof caller);
    caller.origin = *cc_req_origin(req); /* a failed proof is audited with it */
    if (authenticate(cc_req_acs_state(req), cc_req_service(req), &call, cc_now_ms(), &caller,
                     &e)) {
        send_acs_error(req, &e);
        goto out;
    }
    cc_req_set_caller(req, &caller);
    fn(&c);
out:
    cc_acs_error_free(&e);
    cc_acs_params_free(&c.params);
}

void cc_acs_dispatch(struct cc_request *req, int body_too_large)
{
    if (body_too_large) {
        cc_acs_fail(req, CC_ERR_BODY_TOO_LARGE, NULL,
             "The request body is larger than this server accepts (max_body_bytes).");
        return;
    }
    const char *m = cc_req_method(req);
    if (strcmp(m, "POST") != 0 && strcmp(m, "GET") != 0) {
        cc_acs_fail(req, CC_ERR_METHOD_NOT_ALLOWED, NULL,
                    "Alibaba Cloud API calls are POST / or GET /.");
        return;
    }
    cc_req_defer(req, run);
}
