/*
 * verifications.c — one-time codes that prove a person controls an email
 * address or mobile number, before certcontacts sends it anything.
 *
 * One mechanism serves both flows: a code for a saved contact's current
 * address, and a code for an address typed into the Create dialog before
 * the contact exists (the confirmation then carries over to a contact saved
 * with that address within 30 minutes). Codes are 6 digits from the CSPRNG,
 * stored only as a keyed hash, valid for a while, dead after too many wrong
 * tries, and used once. Sending is limited per address and per account, and
 * the caller learns whether the SMTP server or SMS gateway took the message.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

#define CODE_LEN 6

/* ---- codes -------------------------------------------------------------------- */
static void new_code(char out[CODE_LEN + 1])
{
    uint32_t v;
    do
        cc_random_bytes(&v, sizeof v);
    while (v >= 4294000000u); /* a multiple of 10^6: every code equally likely */
    snprintf(out, CODE_LEN + 1, "%06u", (unsigned)(v % 1000000u));
}

/* Keyed hash of a code, bound to its channel and address, with the master
 * key (which: 0 the one values are sealed with now; 1.. the others a
 * rotation may have hashed a code still pending with). 0, or -1 when there
 * is no such key. */
static int code_hash(const struct cc_service *svc, int which, const char *channel,
                     const char *target, const char *code, char out[65])
{
    char data[CC_EMAIL_MAX + 64];
    uint8_t keys[4][CC_KEY_LEN];
    uint8_t mac[32];
    int nkeys = svc_hmac_keys(svc, keys, 4);
    if (which >= nkeys) {
        OPENSSL_cleanse(keys, sizeof keys);
        return -1;
    }
    int n = snprintf(data, sizeof data, "verification-code\n%s\n%s\n%s", channel, target, code);
    cc_hmac_sha256(keys[which], CC_KEY_LEN, data, (size_t)(n > 0 ? n : 0), mac);
    cc_hex(mac, sizeof mac, out);
    OPENSSL_cleanse(data, sizeof data);
    OPENSSL_cleanse(keys, sizeof keys);
    OPENSSL_cleanse(mac, sizeof mac);
    return 0;
}

static int code_format_ok(const char *code)
{
    if (!code || strlen(code) != CODE_LEN)
        return 0;
    for (int i = 0; i < CODE_LEN; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return 1;
}

static enum cc_err channel_parse(const char *channel, struct cc_error *err)
{
    if (!channel || !channel[0])
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Channel",
                            "channel is required: \"email\" or \"mobile\".");
    if (strcmp(channel, "email") && strcmp(channel, "mobile"))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Channel",
                            "channel must be \"email\" or \"mobile\".");
    return CC_OK;
}

static void mask_target(const char *channel, const char *target, char *out, size_t outsz)
{
    if (strchr(target, '*'))
        cc_strlcpy(out, target, outsz); /* masked already: the code is finished */
    else if (!strcmp(channel, "email"))
        cc_mask_email(target, out, outsz);
    else
        cc_mask_mobile(target, out, outsz);
}

/* A finished code keeps only the masked form of its address. */
static void mask_finished(struct cc_verification *v)
{
    char masked[CC_MASKED_MAX];
    mask_target(v->channel, v->target, masked, sizeof masked);
    cc_strlcpy(v->target, masked, sizeof v->target);
}

/* The address's tag: a keyed hash of channel and address, what the sending
 * limits and the carry-over match on once the address itself is masked.
 * Under the key values are sealed with now (a master-key rotation starts
 * the counts afresh). */
static void target_tag(const struct cc_service *svc, const char *channel, const char *target,
                       char out[CC_URL_TAG_LEN + 1])
{
    char data[CC_EMAIL_MAX + 64];
    uint8_t key[1][CC_KEY_LEN], mac[32];
    int n = snprintf(data, sizeof data, "verification-target\n%s\n%s", channel, target);
    if (svc_hmac_keys(svc, key, 1) != 1)
        memset(key, 0, sizeof key);
    cc_hmac_sha256(key[0], CC_KEY_LEN, data, (size_t)(n > 0 ? n : 0), mac);
    memcpy(out, "h1:", 3);
    cc_hex(mac, sizeof mac, out + 3);
    OPENSSL_cleanse(data, sizeof data);
    OPENSSL_cleanse(key, sizeof key);
}

static int64_t ceil_s(int64_t ms)
{
    int64_t s = (ms + 999) / 1000;
    return s < 1 ? 1 : s;
}

/* ---- sending ---------------------------------------------------------------------- */
struct send_op {
    struct cc_service *svc;
    const struct cc_caller *caller;
    int64_t contact_id;            /* 0: before saving */
    const char *channel;
    char target[CC_EMAIL_MAX + 1]; /* normalised; read from the contact when contact_id */
    char display[CC_EMAIL_MAX + 1];/* the address as the message is sent to it */
    char name[CC_NAME_MAX_BYTES + 1];
    char language[CC_LANG_MAX + 1];
    const char *code;
    int64_t editing;               /* before saving: the contact being edited, 0 none */
    struct cc_verification v;
    struct cc_verification valid;  /* throttled: the code that can still be typed in */
    int64_t owner;                 /* the other contact that has the address */
};

/* Checks every sending limit; fills err with the wait when one is reached. */
static enum cc_err check_limits(const struct send_op *op, const struct cc_verif_counts *n,
                                int64_t now, struct cc_error *err)
{
    const struct cc_verify_config *vc = &op->svc->cfg.verify;
    int64_t wait = 0;
    const char *why = NULL;
    if (n->target_last_sent_at && now - n->target_last_sent_at < vc->resend_s * 1000) {
        wait = n->target_last_sent_at + vc->resend_s * 1000 - now;
        why = N_("A code was just sent to this address");
    } else if (n->target_hour >= vc->max_per_hour) {
        wait = n->target_oldest_in_hour + 3600000 - now;
        why = N_("This address has received the most codes allowed in an hour");
    } else if (n->target_day >= vc->max_per_day) {
        wait = n->target_oldest_in_day + 86400000 - now;
        why = N_("This address has received the most codes allowed in a day");
    } else if (n->account_hour >= vc->account_max_per_hour) {
        wait = n->account_oldest_in_hour + 3600000 - now;
        why = N_("This account has sent the most codes allowed in an hour");
    }
    if (!why)
        return CC_OK;
    cc_error_setn(err, CC_ERR_THROTTLED, "Verification", (long)ceil_s(wait),
                  "%s; try again in %lld second.", "%s; try again in %lld seconds.", why,
                  (long long)ceil_s(wait));
    err->retry_after_s = ceil_s(wait);
    return CC_ERR_THROTTLED;
}

/* The contact's code still in use on the channel, if any, is superseded
 * and keeps only its masked address; older ones were superseded before. */
static enum cc_err supersede_latest(struct cc_tx *tx, int64_t account, int64_t contact_id,
                                    const char *channel, struct cc_error *err)
{
    struct cc_verification prev;
    struct cc_error none;
    if (cc_tx_verif_latest(tx, account, contact_id, channel, &prev, &none))
        return none.code == CC_ERR_VERIFICATION_NOT_FOUND ? CC_OK : (*err = none, none.code);
    prev.status = CC_VERIF_SUPERSEDED;
    mask_finished(&prev);
    return cc_tx_verif_update(tx, &prev, NULL, err);
}

/* Before a code goes to an address typed into a dialog: no other contact of
 * the account has it (the contact being edited may: it is its own). */
static enum cc_err check_owner(struct cc_tx *tx, struct send_op *op, struct cc_error *err)
{
    int64_t account = op->caller->account_id;
    enum cc_err rc;
    if (op->editing) {
        struct cc_contact *c = cc_malloc(sizeof *c);
        rc = cc_tx_contact_get(tx, account, op->editing, c, err);
        cc_free(c);
        if (rc)
            return rc;
    }
    char name[CC_NAME_MAX_BYTES + 1];
    if ((rc = cc_tx_verif_address_owner(tx, account, op->channel, op->target, op->editing,
                                        &op->owner, name, sizeof name, err)) ||
        !op->owner)
        return rc;
    if (strcmp(op->channel, "email"))
        return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Mobile",
                            "This mobile number already belongs to the contact \"%s\".", name);
    return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Email",
                        "This email address already belongs to the contact \"%s\".", name);
}

/* A throttled send: the account's code to the address that is still good,
 * so the caller can have it typed in instead of waiting. */
static void find_valid(struct cc_tx *tx, struct send_op *op, const char *tag, int64_t now)
{
    struct cc_error none;
    if (cc_tx_verif_valid_for_target(tx, op->caller->account_id, op->channel, tag, now,
                                     op->svc->cfg.verify.max_attempts, &op->valid, &none))
        memset(&op->valid, 0, sizeof op->valid);
}

static enum cc_err send_begin_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct send_op *op = arg;
    int64_t account = op->caller->account_id, now = cc_now_ms();
    enum cc_err rc;
    if (op->contact_id) {
        struct cc_contact *c = cc_malloc(sizeof *c);
        rc = cc_tx_contact_get(tx, account, op->contact_id, c, err);
        if (!rc && !strcmp(op->channel, "email") && !c->has_email)
            rc = cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Email",
                              "The contact has no email address to verify.");
        if (!rc) {
            int email = !strcmp(op->channel, "email");
            cc_strlcpy(op->target, email ? c->email_norm : c->mobile, sizeof op->target);
            cc_strlcpy(op->display, email ? c->email : c->mobile, sizeof op->display);
            cc_strlcpy(op->name, c->name, sizeof op->name);
            cc_strlcpy(op->language, c->language, sizeof op->language);
        }
        cc_free(c);
        if (rc)
            return rc;
    } else if ((rc = check_owner(tx, op, err)))
        return rc;
    char tag[CC_URL_TAG_LEN + 1];
    target_tag(op->svc, op->channel, op->target, tag);
    struct cc_verif_counts n;
    if ((rc = cc_tx_verif_counts(tx, account, op->channel, op->target, tag, now - 3600000,
                                 now - 86400000, &n, err)))
        return rc;
    if ((rc = check_limits(op, &n, now, err))) {
        find_valid(tx, op, tag, now);
        return rc;
    }
    if (op->contact_id && (rc = supersede_latest(tx, account, op->contact_id, op->channel, err)))
        return rc;
    memset(&op->v, 0, sizeof op->v);
    cc_strlcpy(op->v.target_tag, tag, sizeof op->v.target_tag);
    op->v.account_id = account;
    op->v.contact_id = op->contact_id;
    cc_strlcpy(op->v.channel, op->channel, sizeof op->v.channel);
    cc_strlcpy(op->v.target, op->target, sizeof op->v.target);
    code_hash(op->svc, 0, op->channel, op->target, op->code, op->v.code_hash);
    op->v.status = CC_VERIF_SENDING;
    op->v.sent_at = now;
    op->v.expires_at = now + op->svc->cfg.verify.ttl_s * 1000;
    if ((rc = cc_tx_verif_insert(tx, &op->v, err)))
        return rc;
    if (op->contact_id &&
        (rc = cc_tx_verif_supersede(tx, account, op->contact_id, op->channel, op->v.id, err)))
        return rc;
    json_t *ch = json_object();
    svc_change_str(ch, "channel", SVC_PII_NONE, NULL, op->channel);
    svc_change_str(ch, "target", strcmp(op->channel, "email") ? SVC_PII_MOBILE : SVC_PII_EMAIL,
                   NULL, op->target);
    svc_change_int(ch, "contact_id", 0, 0, op->contact_id != 0, op->contact_id);
    return svc_audit(tx, op->caller, CC_AUDIT_VERIFICATION_SEND, op->v.id, ch, err);
}

struct send_end {
    struct cc_verification *v;
    const char *failure;
};

static enum cc_err send_end_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct send_end *e = arg;
    struct cc_verification v = *e->v;
    if (v.status == CC_VERIF_FAILED)
        mask_finished(&v);
    return cc_tx_verif_update(tx, &v, e->failure, err);
}

/* The message itself, over the channel. */
static void deliver(const struct send_op *op, struct cc_send_result *res)
{
    const struct cc_delivery_config *dc = op->svc->delivery;
    int64_t minutes = (op->svc->cfg.verify.ttl_s + 59) / 60;
    memset(res, 0, sizeof *res);
    if (!dc) {
        res->status = CC_SEND_NOT_CONFIGURED;
        cc_strlcpy(res->reason, "no delivery is configured", sizeof res->reason);
        return;
    }
    if (!strcmp(op->channel, "email")) {
        struct cc_message *m = cc_malloc(sizeof *m);
        cc_msg_verification(op->language, op->name, op->code, minutes, m);
        struct cc_email e = {op->display, op->name[0] ? op->name : NULL, m->subject, m->text,
                             m->html};
        cc_send_email(dc, &e, res);
        OPENSSL_cleanse(m, sizeof *m);
        cc_free(m);
    } else {
        char text[512], param[64], out_id[24];
        cc_msg_verification_sms(op->language, op->code, minutes, text, sizeof text);
        snprintf(param, sizeof param, "{\"code\":\"%s\"}", op->code);
        snprintf(out_id, sizeof out_id, "v%lld", (long long)op->v.id);
        struct cc_sms sms = {op->display, param, text, out_id, NULL};
        cc_send_sms(dc, &sms, res);
        OPENSSL_cleanse(text, sizeof text);
        OPENSSL_cleanse(param, sizeof param);
    }
}

/* The still-valid code of a throttled send, as the caller sees it. */
static void valid_view(const struct send_op *op, int64_t wait_s, struct cc_verif_view *out)
{
    out->id = op->valid.id;
    cc_strlcpy(out->channel, op->channel, sizeof out->channel);
    mask_target(op->channel, op->target, out->target, sizeof out->target);
    out->expires_at = op->valid.expires_at;
    out->resend_after = cc_now_ms() + wait_s * 1000;
}

static enum cc_err send_common(struct send_op *op, struct cc_verif_view *out,
                               struct cc_error *err)
{
    char code[CODE_LEN + 1];
    new_code(code);
    op->code = code;
    memset(out, 0, sizeof *out);
    enum cc_err rc = cc_store_write(op->svc->store, send_begin_tx, op, err);
    if (rc) {
        OPENSSL_cleanse(code, sizeof code);
        if (rc == CC_ERR_THROTTLED && op->valid.id)
            valid_view(op, err->retry_after_s, out);
        out->contact_id = rc == CC_ERR_ALREADY_EXISTS ? op->owner : 0;
        return rc;
    }
    struct cc_send_result res;
    deliver(op, &res);
    OPENSSL_cleanse(code, sizeof code);
    cc_mask_address_in_text(res.reason, sizeof res.reason, op->target); /* an echo of it */
    cc_mask_address_in_text(res.reason, sizeof res.reason, op->display);
    op->v.status = res.status == CC_SEND_OK ? CC_VERIF_SENT : CC_VERIF_FAILED;
    struct send_end end = {&op->v, res.status == CC_SEND_OK ? NULL : res.reason};
    cc_metrics_verification(op->channel, res.status == CC_SEND_OK ? "sent" : "failed");
    if ((rc = cc_store_write(op->svc->store, send_end_tx, &end, err)))
        return rc;
    if (res.status != CC_SEND_OK) {
        cc_error_set(err, CC_ERR_DELIVERY_FAILED, NULL, "The %s did not accept the code (%s): %s",
                     strcmp(op->channel, "email") ? "SMS gateway" : "mail server",
                     cc_send_status_name(res.status), res.reason);
        return CC_ERR_DELIVERY_FAILED;
    }
    memset(out, 0, sizeof *out);
    out->id = op->v.id;
    cc_strlcpy(out->channel, op->channel, sizeof out->channel);
    mask_target(op->channel, op->target, out->target, sizeof out->target);
    out->expires_at = op->v.expires_at;
    out->resend_after = op->v.sent_at + op->svc->cfg.verify.resend_s * 1000;
    return CC_OK;
}

/* The checks every send starts with, and its operation: *out is the
 * caller's to cc_free(). */
static enum cc_err send_op_new(struct cc_service *svc, const struct cc_caller *caller,
                               const char *channel, struct send_op **out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc || (rc = channel_parse(channel, err)))
        return rc;
    struct send_op *op = cc_calloc(1, sizeof *op);
    op->svc = svc;
    op->caller = caller;
    op->channel = channel;
    *out = op;
    return CC_OK;
}

enum cc_err cc_verify_contact_send(struct cc_service *svc, const struct cc_caller *caller,
                                   int64_t contact_id, const char *channel,
                                   struct cc_verif_view *out, struct cc_error *err)
{
    struct send_op *op = NULL;
    enum cc_err rc = send_op_new(svc, caller, channel, &op, err);
    if (rc)
        return rc;
    op->contact_id = contact_id;
    rc = send_common(op, out, err);
    cc_free(op);
    return rc;
}

enum cc_err cc_verify_target_send(struct cc_service *svc, const struct cc_caller *caller,
                                  const char *channel, const char *target, const char *language,
                                  int64_t contact_id, struct cc_verif_view *out,
                                  struct cc_error *err)
{
    struct send_op *op = NULL;
    memset(out, 0, sizeof *out);
    enum cc_err rc = send_op_new(svc, caller, channel, &op, err);
    if (rc)
        return rc;
    op->editing = contact_id;
    cc_strlcpy(op->language, "en", sizeof op->language);
    if (!target)
        rc = cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Target",
                          "target is required: the email address or mobile number to verify.");
    else if (!strcmp(channel, "email"))
        rc = cc_validate_email(target, op->display, sizeof op->display, op->target,
                               sizeof op->target, err);
    else if ((rc = cc_validate_mobile(target, op->target, sizeof op->target, err)) == CC_OK)
        cc_strlcpy(op->display, op->target, sizeof op->display);
    if (!rc && language)
        rc = cc_validate_language(language, op->language, sizeof op->language, err);
    if (!rc)
        rc = send_common(op, out, err);
    cc_free(op);
    return rc;
}

/* ---- confirming ----------------------------------------------------------------------- */
struct confirm_op {
    struct cc_service *svc;
    const struct cc_caller *caller;
    int64_t contact_id;          /* contact flow; else verification_id */
    int64_t verification_id;
    const char *channel;
    const char *code;
    struct cc_verification v;
    struct cc_error result;      /* the outcome; the transaction commits either way */
};

/* A right code: the verification confirmed (op->v, its address masked), the
 * contact's address (target, in full) marked verified, and the audit entry. */
static enum cc_err confirm_record(struct cc_tx *tx, struct confirm_op *op, const char *target,
                                  int64_t now, struct cc_error *err)
{
    const struct cc_verification *v = &op->v;
    enum cc_err rc = cc_tx_verif_update(tx, v, NULL, err);
    if (rc)
        return rc;
    if (op->contact_id) {
        rc = cc_tx_contact_set_verified(tx, op->caller->account_id, op->contact_id, v->channel,
                                        target, now, &op->result);
        if (rc == CC_ERR_VERIFICATION_NOT_FOUND)
            return rc; /* undo the confirmation too: the address is not the one verified */
        if (rc) {
            *err = op->result;
            return rc;
        }
    }
    json_t *ch = json_object();
    svc_change_str(ch, "channel", SVC_PII_NONE, NULL, v->channel);
    svc_change_str(ch, "target", strcmp(v->channel, "email") ? SVC_PII_MOBILE : SVC_PII_EMAIL,
                   NULL, target);
    svc_change_int(ch, "contact_id", 0, 0, op->contact_id != 0, op->contact_id);
    svc_change_str(ch, "status", SVC_PII_NONE, "unverified", "verified");
    return svc_audit(tx, op->caller, CC_AUDIT_VERIFICATION_CONFIRM, v->id, ch, err);
}

static enum cc_err confirm_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct confirm_op *op = arg;
    struct cc_verification *v = &op->v;
    int64_t account = op->caller->account_id, now = cc_now_ms();
    enum cc_err rc;
    cc_error_clear(&op->result);
    if (op->contact_id)
        rc = cc_tx_verif_latest(tx, account, op->contact_id, op->channel, v, &op->result);
    else
        rc = cc_tx_verif_get(tx, account, op->verification_id, v, &op->result);
    if (rc == CC_ERR_VERIFICATION_NOT_FOUND && op->contact_id)
        cc_error_set(&op->result, rc, NULL, "No code was sent for this contact's %s: send one first.",
                     op->channel);
    if (rc == CC_ERR_VERIFICATION_NOT_FOUND)
        return CC_OK;
    if (rc) {
        *err = op->result;
        return rc;
    }
    if (v->status != CC_VERIF_SENT || v->confirmed_at) {
        cc_error_set(&op->result, CC_ERR_VERIFICATION_NOT_FOUND, NULL,
                     v->confirmed_at ? "This code was already used: send a new one."
                                     : "There is no valid code for this verification: send a new one.");
        return CC_OK;
    }
    if (v->attempts >= op->svc->cfg.verify.max_attempts) {
        cc_error_set(&op->result, CC_ERR_CODE_TOO_MANY, NULL,
                     "Too many wrong codes: this code no longer works. Send a new one.");
        return CC_OK;
    }
    if (now > v->expires_at) {
        cc_error_set(&op->result, CC_ERR_CODE_EXPIRED, NULL,
                     "The code has expired: send a new one.");
        return CC_OK;
    }
    char hash[65];
    int match = 0;
    for (int k = 0; code_format_ok(op->code) && !match &&
                    code_hash(op->svc, k, v->channel, v->target, op->code, hash) == 0; k++)
        match = cc_ct_equal(hash, v->code_hash, 64);
    if (!match) {
        v->attempts++;
        int left = (int)(op->svc->cfg.verify.max_attempts - v->attempts);
        if (left <= 0)
            mask_finished(v); /* used up */
        if ((rc = cc_tx_verif_update(tx, v, NULL, err)))
            return rc;
        if (left > 0)
            cc_error_setn(&op->result, CC_ERR_CODE_MISMATCH, NULL, left,
                          "The code is wrong; %d attempt left.",
                          "The code is wrong; %d attempts left.", left);
        else
            cc_error_set(&op->result, CC_ERR_CODE_MISMATCH, NULL,
                         "The code is wrong and no attempts are left: send a new code.");
        op->result.attempts_left = left;
        return CC_OK;
    }
    v->confirmed_at = now;
    char target[sizeof v->target];
    cc_strlcpy(target, v->target, sizeof target);
    mask_finished(v); /* from now on the contact holds the address, and the tag matches it */
    rc = confirm_record(tx, op, target, now, err);
    OPENSSL_cleanse(target, sizeof target);
    return rc;
}

static enum cc_err confirm_common(struct confirm_op *op, struct cc_error *err)
{
    enum cc_err rc = cc_store_write(op->svc->store, confirm_tx, op, err);
    if (rc == CC_ERR_VERIFICATION_NOT_FOUND && op->result.code == rc) {
        *err = op->result;
        return rc;
    }
    if (rc)
        return rc;
    if (op->result.code) {
        if (op->v.channel[0]) /* a code was found: wrong, expired or used up */
            cc_metrics_verification(op->v.channel, "rejected");
        *err = op->result;
        return op->result.code;
    }
    cc_metrics_verification(op->v.channel, "confirmed");
    return CC_OK;
}

enum cc_err cc_verify_contact_confirm(struct cc_service *svc, const struct cc_caller *caller,
                                      int64_t contact_id, const char *channel, const char *code,
                                      struct cc_contact *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc || (rc = channel_parse(channel, err)))
        return rc;
    if (!code)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Code", "code is required.");
    struct confirm_op op = {svc, caller, contact_id, 0, channel, code, {0}, {0}};
    if ((rc = confirm_common(&op, err)) ||
        (rc = cc_store_contact_get(svc->store, caller->account_id, contact_id, out, err)))
        return rc;
    svc_contact_view(caller, SVC_VIEW_DETAIL, out);
    return CC_OK;
}

enum cc_err cc_verify_target_confirm(struct cc_service *svc, const struct cc_caller *caller,
                                     int64_t verification_id, const char *code,
                                     struct cc_verif_view *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    if (!code)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Code", "code is required.");
    struct confirm_op op = {svc, caller, 0, verification_id, NULL, code, {0}, {0}};
    if ((rc = confirm_common(&op, err)))
        return rc;
    memset(out, 0, sizeof *out);
    out->id = op.v.id;
    cc_strlcpy(out->channel, op.v.channel, sizeof out->channel);
    mask_target(op.v.channel, op.v.target, out->target, sizeof out->target);
    out->expires_at = op.v.expires_at;
    out->confirmed_at = op.v.confirmed_at;
    return CC_OK;
}

/* ---- status before saving ----------------------------------------------------------- */
struct status_op {
    struct cc_service *svc;
    const struct cc_caller *caller;
    const char *channel;
    const char *target;
    int64_t at;
};

static enum cc_err status_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct status_op *op = arg;
    (void)err;
    op->at = svc_verify_recent(tx, op->svc, op->caller->account_id, op->channel, op->target,
                               cc_now_ms());
    return CC_OK;
}

enum cc_err cc_verify_target_status(struct cc_service *svc, const struct cc_caller *caller,
                                    const char *channel, const char *target,
                                    struct cc_verif_view *out, struct cc_error *err)
{
    char display[CC_EMAIL_MAX + 1], norm[CC_EMAIL_MAX + 1];
    memset(out, 0, sizeof *out);
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc || (rc = channel_parse(channel, err)))
        return rc;
    if (!target)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Target",
                            "target is required: the email address or mobile number to verify.");
    if (!strcmp(channel, "email"))
        rc = cc_validate_email(target, display, sizeof display, norm, sizeof norm, err);
    else
        rc = cc_validate_mobile(target, norm, sizeof norm, err);
    if (rc)
        return rc;
    struct status_op op = {svc, caller, channel, norm, 0};
    if ((rc = cc_store_write(svc->store, status_tx, &op, err)))
        return rc;
    cc_strlcpy(out->channel, channel, sizeof out->channel);
    mask_target(channel, norm, out->target, sizeof out->target);
    out->confirmed_at = op.at;
    return CC_OK;
}

int64_t svc_verify_recent(struct cc_tx *tx, const struct cc_service *svc, int64_t account_id,
                          const char *channel, const char *target, int64_t now)
{
    int64_t at = 0;
    struct cc_error ignored;
    char tag[CC_URL_TAG_LEN + 1];
    target_tag(svc, channel, target, tag);
    if (cc_tx_verif_confirmed_since(tx, account_id, channel, target, tag,
                                    now - CC_VERIFY_CARRY_MS, &at, &ignored))
        return 0;
    return at;
}

/* ---- retention ------------------------------------------------------------------------ */
struct retention_op {
    int64_t now, verif_days, notif_days;
    int64_t masked, verifs, notifs;
    size_t batch;               /* rows masked by the last pass */
};

#define RETENTION_BATCH 200

static enum cc_err retention_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct retention_op *op = arg;
    struct cc_verification *v = cc_calloc(RETENTION_BATCH, sizeof *v);
    enum cc_err rc = cc_tx_verif_finished_unmasked(tx, op->now, RETENTION_BATCH, v, &op->batch,
                                                   err);
    for (size_t i = 0; !rc && i < op->batch; i++) {
        mask_finished(&v[i]);
        rc = cc_tx_verif_set_target(tx, v[i].id, v[i].target, err);
    }
    OPENSSL_cleanse(v, RETENTION_BATCH * sizeof *v);
    cc_free(v);
    if (rc)
        return rc;
    int64_t n = 0;
    if (!op->batch) { /* the masking is done: the purges, once */
        if ((rc = cc_tx_verif_purge(tx, op->now - op->verif_days * 86400000, &n, err)))
            return rc;
        op->verifs += n;
        if ((rc = cc_tx_notif_purge(tx, op->now - op->notif_days * 86400000, &n, err)))
            return rc;
        op->notifs += n;
    }
    return CC_OK;
}

enum cc_err cc_service_retention(struct cc_service *svc, int64_t now, int64_t *masked,
                                 int64_t *verifs, int64_t *notifs, struct cc_error *err)
{
    struct retention_op op = {now,
                              svc->cfg.verification_retention_days
                                  ? svc->cfg.verification_retention_days : 30,
                              svc->cfg.delivery_log_retention_days
                                  ? svc->cfg.delivery_log_retention_days : 180,
                              0, 0, 0, 0};
    enum cc_err rc;
    do {
        if ((rc = cc_store_write(svc->store, retention_tx, &op, err)))
            return rc;
        op.masked += (int64_t)op.batch;
    } while (op.batch);
    *masked = op.masked;
    *verifs = op.verifs;
    *notifs = op.notifs;
    return CC_OK;
}
