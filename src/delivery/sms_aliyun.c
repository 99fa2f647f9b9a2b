/*
 * sms_aliyun.c — the "aliyun" SMS provider: Alibaba Cloud SMS SendSms
 * (dysmsapi, version 2017-05-25) as an RPC POST to sms_endpoint + "/", every
 * parameter (Signature included) in an application/x-www-form-urlencoded
 * body, none in the query, signed with HMAC-SHA1 by core/acs_sign.c — the
 * same code that checks incoming Alibaba API calls. The platform answers most
 * failures with a Code in a JSON body, often with HTTP 200, so the result is
 * read from Code; a body without one is never taken for success.
 * Spec: ../shared/specs/chatbots-and-sms.md, "Alibaba Cloud SMS — SendSms".
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

struct code_class {
    const char *code;
    int prefix;                  /* match "code*" */
    enum cc_send_status status;
};

/* Alibaba's documented SendSms and gateway codes. Unknown codes fall back on
 * the HTTP status (5xx: retry, otherwise a permanent refusal). */
static const struct code_class classes[] = {
    {"isv.BUSINESS_LIMIT_CONTROL", 0, CC_SEND_THROTTLED},
    {"isv.DAY_LIMIT_CONTROL", 0, CC_SEND_THROTTLED},
    {"isv.MONTH_LIMIT_CONTROL", 0, CC_SEND_THROTTLED},
    {"isv.MOBILE_NUMBER_ILLEGAL", 0, CC_SEND_INVALID_TARGET},
    {"isv.AMOUNT_NOT_ENOUGH", 0, CC_SEND_GATEWAY_ACCOUNT},
    {"isv.OUT_OF_SERVICE", 0, CC_SEND_GATEWAY_ACCOUNT},
    {"isv.SMS_SIGNATURE_ILLEGAL", 0, CC_SEND_GATEWAY_ACCOUNT},
    {"isv.SMS_TEMPLATE_ILLEGAL", 0, CC_SEND_GATEWAY_ACCOUNT},
    {"isv.ACCOUNT_NOT_EXISTS", 0, CC_SEND_GATEWAY_ACCOUNT},
    {"isv.ACCOUNT_ABNORMAL", 0, CC_SEND_GATEWAY_ACCOUNT},
    {"isv.DENY_IP_RANGE", 0, CC_SEND_GATEWAY_ACCOUNT},
    {"isp.RAM_PERMISSION_DENY", 0, CC_SEND_GATEWAY_ACCOUNT},
    {"SignatureDoesNotMatch", 0, CC_SEND_GATEWAY_ACCOUNT},
    {"IncompleteSignature", 0, CC_SEND_GATEWAY_ACCOUNT},
    {"InvalidAccessKeyId", 1, CC_SEND_GATEWAY_ACCOUNT},
    {"Forbidden", 1, CC_SEND_GATEWAY_ACCOUNT},
    {"isv.TEMPLATE_MISSING_PARAMETERS", 0, CC_SEND_REJECTED},
    {"isv.INVALID_JSON_PARAM", 0, CC_SEND_REJECTED},
    {"isv.PARAM_LENGTH_LIMIT", 0, CC_SEND_REJECTED},
    {"isv.BLACK_KEY_CONTROL_LIMIT", 0, CC_SEND_REJECTED},
    {"isp.SYSTEM_ERROR", 0, CC_SEND_RETRY},
    {"InternalError", 0, CC_SEND_RETRY},
    {"ServiceUnavailable", 0, CC_SEND_RETRY},
    {"Throttling", 1, CC_SEND_RETRY}, /* API call rate, not the number's limit */
};

/* Copies the gateway's text with control characters made spaces: it ends up
 * in API answers and logs. */
static void clean_copy(char *dst, size_t dstsz, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < dstsz; i++)
        dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? ' ' : src[i];
    dst[i] = '\0';
}

void cc_aliyun_classify(long http_status, const char *body, size_t len,
                        struct cc_send_result *res)
{
    char code[64], msg[200], hcode[32];
    json_t *root = body && len ? json_loadb(body, len, 0, NULL) : NULL;
    const char *c = NULL, *m = NULL;
    if (json_is_object(root)) {
        c = json_string_value(json_object_get(root, "Code"));
        m = json_string_value(json_object_get(root, "Message"));
    }
    snprintf(hcode, sizeof hcode, "http:%ld", http_status);
    if (!c || !*c) {
        if (http_status >= 500)
            cc_delivery_set(res, CC_SEND_RETRY, hcode, "SMS gateway answered HTTP %ld",
                            http_status);
        else
            cc_delivery_set(res, CC_SEND_RETRY, hcode,
                            "unreadable answer from the SMS gateway (HTTP %ld)", http_status);
        goto out;
    }
    clean_copy(code, sizeof code, c);
    clean_copy(msg, sizeof msg, m ? m : "");
    /* SignatureDoesNotMatch echoes the gateway's string to sign, and with it
     * every parameter we sent, the code in TemplateParam included: keep only
     * the sentence before it. */
    char *echo = strcasestr(msg, "string to sign");
    if (echo) {
        while (echo > msg && echo[-1] != '.' && echo[-1] != ':' && echo[-1] != ';')
            echo--;
        *echo = '\0';
    }
    if (!strcmp(c, "OK")) {
        if (http_status >= 200 && http_status < 300)
            cc_delivery_set(res, CC_SEND_OK, code, "%s: %s", code, msg);
        else
            cc_delivery_set(res, CC_SEND_RETRY, hcode,
                            "unreadable answer from the SMS gateway (Code OK with HTTP %ld)",
                            http_status);
        goto out;
    }
    enum cc_send_status st = http_status >= 500 ? CC_SEND_RETRY : CC_SEND_REJECTED;
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++) {
        size_t n = strlen(classes[i].code);
        if (classes[i].prefix ? !strncmp(c, classes[i].code, n) : !strcmp(c, classes[i].code)) {
            st = classes[i].status;
            break;
        }
    }
    cc_delivery_set(res, st, code, "%s: %s", code, msg);
out:
    json_decref(root);
}

/* The request's Timestamp: now, UTC, to the second. */
static void utc_timestamp(char *out, size_t outsz)
{
    struct tm tm;
    time_t now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Reads SendSms's answer. */
static void aliyun_done(struct cc_xfer *x, const struct cc_http_answer *ans)
{
    if (ans->too_large)
        cc_delivery_set(&x->res, CC_SEND_RETRY, "", "unreadable answer from the SMS gateway "
                                                    "(longer than 64 KiB)");
    else
        cc_aliyun_classify(ans->status, ans->body.data, ans->body.len, &x->res);
}

/* Prepares m as a SendSms request. cfg and m are borrowed. The access key
 * secret only keys the HMAC: it is never logged or returned. The gateway
 * accepted the message when it answers Code "OK". */
int cc_sms_aliyun_prepare(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                          struct cc_send_result *res, struct cc_xfer **out)
{
    char phone[20], nonce[37], ts[32], sig[32], url[600];
    struct cc_buf body;
    *out = NULL;
    cc_buf_init(&body, 16384);
    if (cc_delivery_phone_digits(m->mobile, phone, sizeof phone)) {
        cc_delivery_set(res, CC_SEND_INVALID_TARGET, "", "not an E.164 mobile number");
        goto out;
    }
    size_t elen = strlen(cfg->sms_endpoint);
    int slash = elen && cfg->sms_endpoint[elen - 1] == '/';
    if ((size_t)snprintf(url, sizeof url, "%s%s", cfg->sms_endpoint, slash ? "" : "/") >=
        sizeof url) {
        cc_delivery_set(res, CC_SEND_NOT_CONFIGURED, "", "sms_endpoint is too long");
        goto out;
    }
    const char *template = m->template_code ? m->template_code : cfg->sms_template_code;
    if (!template || !template[0]) {
        cc_delivery_set(res, CC_SEND_NOT_CONFIGURED, "",
                        "no Alibaba Cloud SMS template is configured for this message "
                        "(sms_notify_template_code)");
        goto out;
    }
    cc_uuid(nonce);
    utc_timestamp(ts, sizeof ts);
    const struct cc_kv p[] = {
        {"Action", "SendSms"},
        {"Version", "2017-05-25"},
        {"Format", "JSON"},
        {"RegionId", "cn-hangzhou"},
        {"AccessKeyId", cfg->sms_access_key_id},
        {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureVersion", "1.0"},
        {"SignatureNonce", nonce},
        {"Timestamp", ts},
        {"PhoneNumbers", phone},
        {"SignName", cfg->sms_sign_name},
        {"TemplateCode", template},
        {"TemplateParam", m->template_param}, /* NULL: left out */
        {"OutId", m->out_id},                 /* NULL: left out */
    };
    size_t n = sizeof p / sizeof p[0];
    if (cc_acs_sign_v1("POST", p, n, cfg->sms_access_key_secret, sig, sizeof sig, NULL) ||
        cc_acs_canonical_query(p, n, &body) || cc_buf_puts(&body, "&Signature=") ||
        cc_acs_encode(sig, strlen(sig), &body)) {
        cc_delivery_set(res, CC_SEND_REJECTED, "", "the SMS request is too large");
        goto out;
    }
    const char *headers[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
        "Accept: application/json",
    };
    cc_http_xfer_new(url, headers, 2, body.data, body.len, cfg->timeout_ms, "SMS gateway",
                     aliyun_done, res, out);
out:
    if (body.data)
        OPENSSL_cleanse(body.data, body.len); /* holds the code */
    cc_buf_free(&body);
    return *out ? 0 : -1;
}
