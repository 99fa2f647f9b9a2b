/*
 * test_send.c — "Send test": one real message to one email address, mobile
 * number or robot of a contact, rendered and sent exactly as a notification
 * of the chosen event type would be (the same renderer and message,
 * outbox.c's, and the same message type, signing and sender, delivery's
 * cc_notify_send), marked as a test, with the platform's verdict returned.
 *
 * A test must not make certcontacts a relay for spam or paid SMS: an email
 * or a mobile is tested only once verified (the verification flow is how an
 * unverified address is tried), and every test send, robots included,
 * counts against a limit per contact (or unsaved robot) and per account
 * over a sliding hour, kept in the store so a restart does not reset it.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

/* The robot's signing secret, decrypted into secret (CC_ENC_MAX bytes). */
static enum cc_err robot_secret(struct cc_service *svc, const struct cc_webhook *w, char *secret,
                                struct cc_error *err)
{
    secret[0] = '\0';
    if (w->has_secret &&
        svc_open(svc, AAD_WEBHOOK, w->secret_enc, w->secret_enc_len, secret, CC_ENC_MAX, err))
        return CC_ERR_INTERNAL;
    return CC_OK;
}

struct health_op {
    int64_t account_id, contact_id, webhook_id;
    const char *channel;
    const char *reason; /* NULL: clear */
};

static enum cc_err health_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct health_op *op = arg;
    return cc_tx_channel_health(tx, op->account_id, op->contact_id, op->channel, op->webhook_id,
                                op->reason, cc_now_ms(), err);
}

/* A test is a real message: one that gets through clears the channel's
 * broken mark (the person has just fixed the robot), one the platform
 * refuses for good sets it, exactly as a notification would. */
static void record_health(struct cc_service *svc, const struct cc_caller *caller,
                          const struct cc_contact *c, const char *channel,
                          const struct cc_webhook *w, const struct cc_test_result *out)
{
    const char *was = w ? w->broken : !strcmp(channel, "email") ? c->email_broken
                                                               : c->mobile_broken;
    enum cc_send_status s = out->send.status;
    int refused = s == CC_SEND_REJECTED || s == CC_SEND_INVALID_TARGET ||
                  s == CC_SEND_GATEWAY_ACCOUNT;
    if (!(out->delivered && was[0]) && !refused)
        return;
    struct health_op op = {caller->account_id, c->id, w ? w->id : 0, channel,
                           out->delivered ? NULL : out->send.reason};
    struct cc_error err;
    if (cc_store_write(svc->store, health_tx, &op, &err))
        cc_log(CC_LOG_WARN, "cannot record a channel's health", "error", err.message, NULL);
}

/* ---- limits ------------------------------------------------------------------------ */
struct take_op {
    const struct cc_service *svc;
    int64_t account_id;
    const char *subject;
};

static int64_t wait_s(int64_t oldest, int64_t now)
{
    int64_t ms = oldest + 3600000 - now, s = (ms + 999) / 1000;
    return s < 1 ? 1 : s;
}

/* Counts the hour's test sends and, when both limits leave room, records
 * this one, in one transaction (two tests at once cannot both take the last
 * place). A full limit is CC_ERR_THROTTLED with the wait. */
static enum cc_err take_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct take_op *op = arg;
    int64_t now = cc_now_ms();
    int64_t per = op->svc->cfg.test_send_per_hour ? op->svc->cfg.test_send_per_hour
                                                 : CC_TEST_SEND_PER_HOUR_DEFAULT;
    int64_t acct = op->svc->cfg.test_send_account_per_hour
                       ? op->svc->cfg.test_send_account_per_hour
                       : CC_TEST_SEND_ACCOUNT_PER_HOUR_DEFAULT;
    struct cc_test_send_counts n;
    enum cc_err rc = cc_tx_test_send_counts(tx, op->account_id, op->subject, now - 3600000, &n,
                                            err);
    if (rc)
        return rc;
    /* who reached which limit: a robot, a contact, the account */
    static const char *const full[][2] = {
        {NN_("This robot has been sent the most test messages allowed in an hour; "
             "try again in %lld second.",
             "This robot has been sent the most test messages allowed in an hour; "
             "try again in %lld seconds.")},
        {NN_("This contact has been sent the most test messages allowed in an hour; "
             "try again in %lld second.",
             "This contact has been sent the most test messages allowed in an hour; "
             "try again in %lld seconds.")},
        {NN_("This account has sent the most test messages allowed in an hour; "
             "try again in %lld second.",
             "This account has sent the most test messages allowed in an hour; "
             "try again in %lld seconds.")},
    };
    int64_t wait = 0;
    int who = -1;
    if (n.subject_n >= per) {
        wait = wait_s(n.subject_oldest, now);
        who = strncmp(op->subject, "contact:", 8) != 0 ? 0 : 1;
    } else if (n.account_n >= acct) {
        wait = wait_s(n.account_oldest, now);
        who = 2;
    }
    if (who >= 0)
        cc_error_setn(err, CC_ERR_THROTTLED, "TestSend", (long)wait, full[who][0], full[who][1],
                      (long long)wait);
    if (wait) {
        err->retry_after_s = wait;
        return CC_ERR_THROTTLED;
    }
    return cc_tx_test_send_record(tx, op->account_id, op->subject, now, err);
}

static enum cc_err take_slot(struct cc_service *svc, int64_t account_id, const char *subject,
                             struct cc_error *err)
{
    struct take_op op = {svc, account_id, subject};
    return cc_store_write(svc->store, take_tx, &op, err);
}

/* The limit's subject for a robot not saved: a keyed hash of its URL (the
 * URL holds the robot's token, which is not kept). out: 6 + 32 + 1 bytes. */
static void robot_subject(const struct cc_service *svc, const char *url, char out[39])
{
    uint8_t mac[32], key[1][CC_KEY_LEN];
    char data[CC_URL_MAX + 32];
    int n = snprintf(data, sizeof data, "test-send-robot\n%s", url);
    memset(key, 0, sizeof key);
    svc_hmac_keys(svc, key, 1);
    cc_hmac_sha256(key[0], CC_KEY_LEN, data, (size_t)(n > 0 ? n : 0), mac);
    OPENSSL_cleanse(key, sizeof key);
    memcpy(out, "robot:", 6);
    cc_hex(mac, 16, out + 6);
    OPENSSL_cleanse(data, sizeof data);
}

/* The event type a test renders: event_type, or contact.test when NULL. */
static enum cc_err test_type(const char *event_type, enum cc_event_type *out,
                             struct cc_error *err)
{
    *out = event_type ? cc_event_type_parse(event_type) : CC_EVENT_TEST;
    if (*out == CC_EVENT_NONE)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "EventType",
                            "event_type must be one of the certificate event types or "
                            "contact.test.");
    return CC_OK;
}

/* Renders type for c's channel with sample certificate data, marked as a
 * test, as the dispatcher renders it (the account's own text; should that
 * lookup fail, the built-in text still makes a useful test), sends it
 * through the same sender and fills out->delivered, send and answer. */
static void send_test(struct cc_service *svc, const struct cc_caller *caller,
                      enum cc_event_type type, const struct cc_contact *c, const char *channel,
                      const struct cc_webhook *w, const char *url, const char *secret,
                      struct cc_test_result *out)
{
    json_t *data = svc_sample_data();
    struct cc_outgoing *o = cc_malloc(sizeof *o);
    svc_outgoing_fill(c, channel, w, url, secret && *secret ? secret : NULL, o);
    (void)svc_render_for_account(svc, caller->account_id, type, channel, c->language, data,
                                 c->name, 1, &o->r);
    json_decref(data);
    char uuid[37];
    cc_uuid(uuid);
    out->delivered = cc_notify_send(svc->delivery, o, uuid, &out->send, &out->answer) == 0;
    cc_log(CC_LOG_INFO, "test message", "channel", channel, "outcome",
           cc_send_status_name(out->send.status), NULL);
    OPENSSL_cleanse(o->secret, sizeof o->secret);
    OPENSSL_cleanse(o->url, sizeof o->url);
    cc_free(o);
}

enum cc_err cc_contact_test_send(struct cc_service *svc, const struct cc_caller *caller,
                                 int64_t contact_id, const char *channel, int64_t webhook_id,
                                 const char *event_type, struct cc_test_result *out,
                                 struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    if (!channel || (strcmp(channel, "email") && strcmp(channel, "mobile") &&
                     strcmp(channel, "webhook")))
        return cc_error_set(err, channel ? CC_ERR_INCORRECT_FORMAT : CC_ERR_MISSING_PARAMETER,
                            "Channel", "channel must be \"email\", \"mobile\" or \"webhook\".");
    enum cc_event_type type;
    if ((rc = test_type(event_type, &type, err)))
        return rc;
    if (!svc->delivery)
        return cc_error_set(err, CC_ERR_UNAVAILABLE, NULL, "Sending is not configured.");
    struct cc_contact *c = cc_malloc(sizeof *c);
    if ((rc = cc_store_contact_get(svc->store, caller->account_id, contact_id, c, err))) {
        cc_free(c);
        return rc;
    }
    cc_strlcpy(out->channel, channel, sizeof out->channel);
    char secret[CC_ENC_MAX] = "", url[CC_URL_MAX + 1] = "";
    const struct cc_webhook *w = NULL;
    if (!strcmp(channel, "email")) {
        if (!c->has_email)
            rc = cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Email",
                              "The contact has no email address.");
        else if (!c->email_verified_at)
            rc = cc_error_set(err, CC_ERR_NOT_VERIFIED, "Email",
                              "The contact's email address is not verified: a test goes only "
                              "to a verified address (send it a verification code instead).");
        else
            cc_mask_email(c->email, out->target, sizeof out->target);
    } else if (!strcmp(channel, "mobile")) {
        if (!c->mobile_verified_at)
            rc = cc_error_set(err, CC_ERR_NOT_VERIFIED, "Mobile",
                              "The contact's mobile number is not verified: a test goes only "
                              "to a verified number (send it a verification code instead).");
        else
            cc_mask_mobile(c->mobile, out->target, sizeof out->target);
    } else {
        for (int i = 0; i < c->n_webhooks; i++)
            if (c->webhooks[i].id == webhook_id || (!webhook_id && c->n_webhooks == 1))
                w = &c->webhooks[i];
        if (!w && !webhook_id)
            rc = cc_error_set(err, CC_ERR_MISSING_PARAMETER, "WebhookId",
                              c->n_webhooks ? N_("The contact has several robots: name one with "
                                                 "webhook_id.")
                                            : N_("The contact has no notification robot."));
        else if (!w)
            rc = cc_error_set(err, CC_ERR_NOT_FOUND, "WebhookId",
                              "The contact has no robot with this webhook_id.");
        else {
            out->webhook_id = w->id;
            cc_mask_webhook_url(w->url, out->target, sizeof out->target);
            rc = robot_secret(svc, w, secret, err);
            if (!rc)
                rc = svc_url_open(svc, w, url, sizeof url, err);
        }
    }
    char subject[32];
    snprintf(subject, sizeof subject, "contact:%lld", (long long)c->id);
    if (!rc)
        rc = take_slot(svc, caller->account_id, subject, err);
    if (!rc) {
        send_test(svc, caller, type, c, channel, w, url, secret, out);
        record_health(svc, caller, c, channel, w, out);
    }
    OPENSSL_cleanse(secret, sizeof secret);
    OPENSSL_cleanse(url, sizeof url);
    cc_free(c);
    return rc;
}

enum cc_err cc_webhook_test_send(struct cc_service *svc, const struct cc_caller *caller,
                                 const char *url, const char *secret, const char *language,
                                 const char *name, const char *event_type,
                                 struct cc_test_result *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    if (!url)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Webhooks",
                            "url is required: the robot's webhook URL.");
    enum cc_event_type type;
    if ((rc = test_type(event_type, &type, err)))
        return rc;
    struct cc_contact *c = cc_calloc(1, sizeof *c);
    struct cc_webhook *w = &c->webhooks[0];
    c->n_webhooks = 1;
    c->account_id = caller->account_id;
    if ((rc = cc_webhook_classify(url, w->url, sizeof w->url, &w->kind, err)) ||
        (secret && *secret && (rc = cc_validate_webhook_secret(w->kind, secret, err))) ||
        (rc = cc_validate_language(language ? language : "en", c->language, sizeof c->language,
                                   err)) ||
        (name && (rc = cc_validate_name(name, c->name, sizeof c->name, err))))
        goto out;
    if (!name)
        cc_strlcpy(c->name, !strcmp(c->language, "zh-CN") ? "测试" : "Test", sizeof c->name);
    if (!svc->delivery) {
        rc = cc_error_set(err, CC_ERR_UNAVAILABLE, NULL, "Sending is not configured.");
        goto out;
    }
    char subject[39];
    robot_subject(svc, w->url, subject);
    if ((rc = take_slot(svc, caller->account_id, subject, err)))
        goto out;
    cc_strlcpy(out->channel, "webhook", sizeof out->channel);
    cc_mask_webhook_url(w->url, out->target, sizeof out->target);
    send_test(svc, caller, type, c, "webhook", w, w->url, secret, out);
out:
    OPENSSL_cleanse(c, sizeof *c);
    cc_free(c);
    return rc;
}
