/*
 * contact_fields.c — a contact's fields from a request: each validated and
 * normalised (core/validate.c), every field's problem collected into one
 * answer, the addresses checked against the account's other contacts, and
 * the validated fields applied to a stored contact (a changed address
 * becomes unverified; a robot whose URL stays keeps its secret). Used by
 * the contact use cases (contacts.c) and the import's rows
 * (contacts_import.c).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "service/contacts_int.h"
#include "util/util.h"

/* ---- problems: every field's, in one answer ---------------------------------- */

/* Adds one field's error (one, as a validator set it) to the request's
 * problems at path; the first becomes the error itself, so a client that
 * reads only code, field and message sees what it always saw. A fault of
 * this server (out of memory, a sealing failure) is no field's problem: it
 * replaces the list, and its code is returned to stop the request. */
enum cc_err svc_contact_note(struct collect *col, const struct cc_error *one, const char *path)
{
    struct cc_error *all = col->err;
    if (cc_err_hides_detail(one->code) || one->code == CC_ERR_RETRY) {
        *all = *one;
        return one->code;
    }
    if (all->code == CC_OK) {
        *all = *one;
        all->n_problems = 0;
    }
    char code[48], at[sizeof all->problems[0].path];
    cc_err_code(one->code, one->field, CC_API_REST, code, sizeof code);
    snprintf(at, sizeof at, "%s%s", col->prefix, path);
    int n = all->n_problems;
    cc_error_add_problem_at(all, code, one->field, at, "%s", one->message);
    if (all->n_problems > n) /* the translation as the validator made it, with its values */
        cc_strlcpy(all->problems[n].message_zh, one->message_zh,
                   sizeof all->problems[n].message_zh);
    return CC_OK;
}

/* svc_contact_note() of a validator's result: nothing when rc is CC_OK. */
static enum cc_err check(struct collect *col, enum cc_err rc, const struct cc_error *one,
                         const char *path)
{
    return rc ? svc_contact_note(col, one, path) : CC_OK;
}

/* "webhooks[i].part" into buf. */
const char *svc_hook_path(char *buf, size_t bufsz, size_t i, const char *part)
{
    snprintf(buf, bufsz, "webhooks[%zu].%s", i, part);
    return buf;
}

/* ---- validation: input → normalised fields ---------------------------------- */

/* A URL sent as answers show it (…access_token=abcd****wxyz): the robot of
 * the contact with that mask, kept as it is — so a client can send back what
 * it read. Its kind comes from the form it has; its mask is checked against
 * the contact in the transaction (resolve_masked). */
static enum cc_err masked_ref(const char *url, struct webhook_new *w, struct cc_error *err)
{
    char probe[CC_URL_MAX + 1], canon[CC_URL_MAX + 1];
    const char *stars = strstr(url, "****");
    if (cc_strlcpy(probe, url, sizeof probe) >= sizeof probe || strstr(stars + 4, "****"))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                            "A masked webhook URL must be one the contact has, as shown.");
    memcpy(probe + (stars - url), "0000", 4);
    enum cc_err rc = cc_webhook_classify(probe, canon, sizeof canon, &w->kind, err);
    if (rc)
        return rc;
    cc_strlcpy(w->url, url, sizeof w->url);
    w->masked_ref = 1;
    return CC_OK;
}

/* Validates webhook i's URL into w: its problems are at webhooks[i].url. */
static enum cc_err validate_hook_url(const struct cc_service *svc,
                                     const struct cc_webhook_input *wi, int creating,
                                     struct webhook_new *w, struct cc_error *one)
{
    if (!wi->url)
        return cc_error_set(one, CC_ERR_MISSING_PARAMETER, "Webhooks",
                            "Every webhook needs a url.");
    if (strstr(wi->url, "****")) {
        if (creating)
            return cc_error_set(one, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                                "A new contact's webhook URL must be sent in full.");
        return masked_ref(wi->url, w, one);
    }
    char url[CC_URL_MAX + 1];
    enum cc_err rc = cc_webhook_classify(wi->url, url, sizeof url, &w->kind, one);
    if (!rc)
        rc = svc_url_seal(svc, url, w->url_tag, w->url_enc, sizeof w->url_enc, &w->url_enc_len,
                          w->url, sizeof w->url, one);
    if (!rc)
        w->n_url_tags = svc_url_tags(svc, url, w->url_tags, SVC_KEYS_MAX);
    OPENSSL_cleanse(url, sizeof url);
    return rc;
}

/* Whether webhook w repeats one of the first n of f. */
static int hook_repeated(const struct contact_fields *f, int n, const struct webhook_new *w)
{
    for (int j = 0; j < n; j++)
        if (w->masked_ref ? !strcmp(f->webhooks[j].url, w->url)
                          : !strcmp(f->webhooks[j].url_tag, w->url_tag))
            return 1;
    return 0;
}

/* Every webhook's URL and secret, each problem at its own path; a secret is
 * checked against its robot's platform, so only beside a good URL. */
static enum cc_err validate_webhooks(const struct cc_service *svc,
                                     const struct cc_contact_input *in, int creating,
                                     struct contact_fields *f, struct collect *col)
{
    struct cc_error one;
    char path[40];
    enum cc_err rc;
    f->n_webhooks = 0;
    if (in->n_webhooks > CC_WEBHOOKS_MAX) {
        cc_error_set(&one, CC_ERR_LIMIT_EXCEEDED, "Webhooks",
                     "A contact can have at most %d notification robots.", CC_WEBHOOKS_MAX);
        return svc_contact_note(col, &one, "webhooks");
    }
    for (size_t i = 0; i < in->n_webhooks; i++) {
        const struct cc_webhook_input *wi = &in->webhooks[i];
        struct webhook_new *w = &f->webhooks[f->n_webhooks];
        memset(w, 0, sizeof *w);
        if ((rc = validate_hook_url(svc, wi, creating, w, &one))) {
            if ((rc = svc_contact_note(col, &one, svc_hook_path(path, sizeof path, i, "url"))))
                return rc;
            continue;
        }
        int ok = 1;
        if (hook_repeated(f, f->n_webhooks, w)) {
            cc_error_set(&one, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                         "The same webhook URL is listed twice.");
            if ((rc = svc_contact_note(col, &one, svc_hook_path(path, sizeof path, i, "url"))))
                return rc;
            ok = 0;
        }
        w->secret_state = wi->secret_state;
        w->mention_mobile = wi->mention_mobile;
        if (wi->secret_state == CC_SECRET_VALUE) {
            rc = cc_validate_webhook_secret(w->kind, wi->secret, &one);
            if (!rc)
                rc = svc_seal(svc, AAD_WEBHOOK, wi->secret, w->secret_enc, sizeof w->secret_enc,
                              &w->secret_enc_len, &one);
            if (rc) {
                if ((rc = svc_contact_note(col, &one, svc_hook_path(path, sizeof path, i, "secret"))))
                    return rc;
                ok = 0;
            }
        }
        if (ok) /* a request with any problem saves nothing anyway */
            f->n_webhooks++;
    }
    return CC_OK;
}

/* The name: required on create, never removed. */
static enum cc_err validate_name(const struct cc_contact_input *in, int creating,
                                 struct contact_fields *f, struct collect *col)
{
    struct cc_error one;
    if (creating && (!(in->present & CC_F_NAME) || !in->name)) {
        cc_error_set(&one, CC_ERR_MISSING_PARAMETER, "Name", "The contact name is required.");
        return svc_contact_note(col, &one, "name");
    }
    if (!(in->present & CC_F_NAME))
        return CC_OK;
    if (!in->name) {
        cc_error_set(&one, CC_ERR_MISSING_PARAMETER, "Name", "The contact name cannot be removed.");
        return svc_contact_note(col, &one, "name");
    }
    return check(col, cc_validate_name(in->name, f->name, sizeof f->name, &one), &one, "name");
}

/* The mobile: required on create, never removed. */
static enum cc_err validate_mobile(const struct cc_contact_input *in, int creating,
                                   struct contact_fields *f, struct collect *col)
{
    struct cc_error one;
    if (creating && (!(in->present & CC_F_MOBILE) || !in->mobile)) {
        cc_error_set(&one, CC_ERR_MISSING_PARAMETER, "Mobile", "The mobile number is required.");
        return svc_contact_note(col, &one, "mobile");
    }
    if (!(in->present & CC_F_MOBILE))
        return CC_OK;
    if (!in->mobile) {
        cc_error_set(&one, CC_ERR_MISSING_PARAMETER, "Mobile",
                     "The mobile number cannot be removed.");
        return svc_contact_note(col, &one, "mobile");
    }
    return check(col, cc_validate_mobile(in->mobile, f->mobile, sizeof f->mobile, &one), &one,
                 "mobile");
}

/* The ID card number, sealed at once (it is never kept in the clear). */
static enum cc_err validate_id_card(const struct cc_service *svc,
                                    const struct cc_contact_input *in, struct contact_fields *f,
                                    struct collect *col)
{
    if (!(in->present & CC_F_ID_CARD) || !in->id_card)
        return CC_OK;
    struct cc_error one;
    char id[CC_IDCARD_LEN + 1];
    enum cc_err rc = cc_validate_id_card(in->id_card, cc_today_yyyymmdd(), id, sizeof id, &one);
    if (!rc) {
        cc_mask_id_card(id, f->id_card_masked, sizeof f->id_card_masked);
        rc = svc_seal(svc, AAD_ID_CARD, id, f->id_card_enc, sizeof f->id_card_enc,
                      &f->id_card_enc_len, &one);
    }
    OPENSSL_cleanse(id, sizeof id);
    if (!rc)
        f->has_id_card = 1;
    return check(col, rc, &one, "id_card");
}

/* Validates every field named in in->present into f, and reports every
 * field's problem at once (err->problems, each at prefix + its path; the
 * first is also err's own code, field and message). `creating` makes name
 * and mobile required and refuses nulls for them. */
enum cc_err svc_contact_validate(const struct cc_service *svc, const struct cc_contact_input *in,
                                 int creating, const char *prefix, struct contact_fields *f,
                                 struct cc_error *err)
{
    struct collect col = {err, prefix};
    struct cc_error one;
    enum cc_err rc;
    memset(f, 0, sizeof *f);
    f->present = in->present;
    cc_error_clear(err);
    if ((rc = validate_name(in, creating, f, &col)))
        return rc;
    if ((in->present & CC_F_EMAIL) && in->email) {
        rc = cc_validate_email(in->email, f->email, sizeof f->email, f->email_norm,
                               sizeof f->email_norm, &one);
        f->has_email = !rc;
        if ((rc = check(&col, rc, &one, "email")))
            return rc;
    }
    if ((rc = validate_mobile(in, creating, f, &col)) ||
        (rc = validate_id_card(svc, in, f, &col)))
        return rc;
    if (in->present & CC_F_LANGUAGE) {
        if (!in->language)
            cc_strlcpy(f->language, "en", sizeof f->language);
        else if ((rc = check(&col, cc_validate_language(in->language, f->language,
                                                        sizeof f->language, &one),
                             &one, "language")))
            return rc;
    } else if (creating) {
        cc_strlcpy(f->language, "en", sizeof f->language);
        f->present |= CC_F_LANGUAGE;
    }
    if ((in->present & CC_F_WEBHOOKS) && (rc = validate_webhooks(svc, in, creating, f, &col)))
        return rc;
    return err->code;
}

/* svc_contact_note() of the clash of an address with contact ref. */
static void note_holder(struct collect *col, const struct cc_error *one, const char *path,
                        const struct cc_contact_ref *ref)
{
    int n = col->err->n_problems;
    svc_contact_note(col, one, path);
    if (col->err->n_problems > n)
        col->err->problems[n].contact_id = ref->id;
}

/* Adds a problem for each of f's addresses another contact of the account
 * (not self) has, naming it: both the email and the mobile when both clash.
 * Returns CC_OK, or a database error. */
enum cc_err svc_contact_check_unique(struct cc_tx *tx, int64_t account, int64_t self,
                                     const struct contact_fields *f, struct collect *col)
{
    struct cc_contact_ref ref;
    struct cc_error one;
    enum cc_err rc;
    if ((f->present & CC_F_EMAIL) && f->has_email) {
        if ((rc = cc_tx_contact_holder(tx, account, self, f->email_norm, NULL, &ref, col->err)))
            return rc;
        if (ref.id) {
            cc_error_set(&one, CC_ERR_ALREADY_EXISTS, "Email",
                         "This email address already belongs to the contact \"%s\".", ref.name);
            note_holder(col, &one, "email", &ref);
        }
    }
    if ((f->present & CC_F_MOBILE) && f->mobile[0]) {
        if ((rc = cc_tx_contact_holder(tx, account, self, NULL, f->mobile, &ref, col->err)))
            return rc;
        if (ref.id) {
            cc_error_set(&one, CC_ERR_ALREADY_EXISTS, "Mobile",
                         "This mobile number already belongs to the contact \"%s\".", ref.name);
            note_holder(col, &one, "mobile", &ref);
        }
    }
    return CC_OK;
}

/* Applies the validated fields to c. Changing an address resets its
 * verification; a webhook whose URL stays keeps its secret unless the
 * request sets or removes it. */
void svc_contact_apply_fields(const struct contact_fields *f, struct cc_contact *c)
{
    if (f->present & CC_F_NAME)
        cc_strlcpy(c->name, f->name, sizeof c->name);
    if (f->present & CC_F_EMAIL) {
        if (!f->has_email || !c->has_email || strcmp(c->email_norm, f->email_norm) != 0) {
            c->email_verified_at = 0;
            c->email_broken[0] = '\0'; /* a new address starts with a clean slate */
        }
        c->has_email = f->has_email;
        cc_strlcpy(c->email, f->has_email ? f->email : "", sizeof c->email);
        cc_strlcpy(c->email_norm, f->has_email ? f->email_norm : "", sizeof c->email_norm);
    }
    if (f->present & CC_F_MOBILE) {
        if (strcmp(c->mobile, f->mobile) != 0) {
            c->mobile_verified_at = 0;
            c->mobile_broken[0] = '\0';
        }
        cc_strlcpy(c->mobile, f->mobile, sizeof c->mobile);
    }
    if (f->present & CC_F_ID_CARD) {
        c->has_id_card = f->has_id_card;
        memcpy(c->id_card_enc, f->id_card_enc, f->id_card_enc_len);
        c->id_card_enc_len = f->id_card_enc_len;
        cc_strlcpy(c->id_card_masked, f->id_card_masked, sizeof c->id_card_masked);
    }
    if (f->present & CC_F_LANGUAGE)
        cc_strlcpy(c->language, f->language, sizeof c->language);
    if (f->present & CC_F_WEBHOOKS) {
        struct cc_webhook old[CC_WEBHOOKS_MAX];
        int n_old = c->n_webhooks;
        memcpy(old, c->webhooks, sizeof old);
        memset(c->webhooks, 0, sizeof c->webhooks);
        c->n_webhooks = f->n_webhooks;
        for (int i = 0; i < f->n_webhooks; i++) {
            const struct webhook_new *w = &f->webhooks[i];
            struct cc_webhook *d = &c->webhooks[i];
            d->kind = w->kind;
            cc_strlcpy(d->url, w->url, sizeof d->url);
            cc_strlcpy(d->url_tag, w->url_tag, sizeof d->url_tag);
            memcpy(d->url_enc, w->url_enc, w->url_enc_len);
            d->url_enc_len = w->url_enc_len;
            const struct cc_webhook *was = NULL;
            for (int j = 0; j < n_old; j++)
                if (old[j].url_tag[0] && strcmp(old[j].url_tag, w->url_tag) == 0)
                    was = &old[j];
            /* A robot that stays keeps its health and, unless told, its mention. */
            d->mention_mobile = w->mention_mobile >= 0 ? w->mention_mobile
                                                       : was ? was->mention_mobile : 0;
            if (was) {
                d->id = was->id;
                cc_strlcpy(d->broken, was->broken, sizeof d->broken);
                d->broken_at = was->broken_at;
            }
            if (w->secret_state == CC_SECRET_VALUE) {
                d->has_secret = 1;
                memcpy(d->secret_enc, w->secret_enc, w->secret_enc_len);
                d->secret_enc_len = w->secret_enc_len;
            } else if (w->secret_state == CC_SECRET_ABSENT) {
                for (int j = 0; j < n_old; j++)
                    if (old[j].has_secret && old[j].url_tag[0] &&
                        strcmp(old[j].url_tag, w->url_tag) == 0) {
                        d->has_secret = 1;
                        memcpy(d->secret_enc, old[j].secret_enc, old[j].secret_enc_len);
                        d->secret_enc_len = old[j].secret_enc_len;
                    }
            }
        }
    }
}
