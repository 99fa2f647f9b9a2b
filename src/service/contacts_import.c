/*
 * contacts_import.c — one row of a contact import (service/imports.c runs
 * the job): the row validated as a create is, matched with the account's
 * contacts by email or mobile, and written with every rule of a create or
 * an update (contacts.c), but for the carrying of recent confirmations: an
 * imported address is unverified unless the import is trusted to say so.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "service/contacts_int.h"
#include "util/util.h"

/* ---- import: one row of a CSV file (service/imports.c) ------------------------------- */
struct svc_import_row {
    struct contact_fields f;
    int email_verified, mobile_verified; /* trusted: the address is saved verified */
    char id_card[CC_IDCARD_LEN + 1];     /* in the clear, to compare with the stored one */
};

enum cc_err svc_import_prepare(const struct cc_service *svc, const struct cc_contact_input *in,
                               int email_verified, int mobile_verified,
                               struct svc_import_row **out, struct cc_error *err)
{
    struct svc_import_row *r = cc_calloc(1, sizeof *r);
    *out = r;
    /* as a create: name and mobile required, every field checked */
    enum cc_err rc = svc_contact_validate(svc, in, 1, "", &r->f, err);
    if (rc)
        return rc;
    /* a file without a language keeps a matched contact's (a new one gets "en") */
    if (!(in->present & CC_F_LANGUAGE))
        r->f.present &= ~(unsigned)CC_F_LANGUAGE;
    r->email_verified = email_verified && r->f.has_email;
    r->mobile_verified = mobile_verified;
    struct cc_error ignored;
    if (r->f.has_id_card &&
        cc_validate_id_card(in->id_card, cc_today_yyyymmdd(), r->id_card, sizeof r->id_card,
                            &ignored))
        r->id_card[0] = '\0';
    return CC_OK;
}

void svc_import_row_free(struct svc_import_row *r)
{
    if (!r)
        return;
    OPENSSL_cleanse(r->id_card, sizeof r->id_card);
    cc_free(r);
}

const char *svc_import_row_key(const struct svc_import_row *r, int mobile)
{
    if (mobile)
        return r->f.mobile;
    return r->f.has_email ? r->f.email_norm : NULL;
}

void svc_import_row_shown(const struct svc_import_row *r, char *name, size_t namesz,
                          char *email, size_t emailsz, char *mobile, size_t mobilesz)
{
    cc_strlcpy(name, r->f.name, namesz);
    if (r->f.has_email)
        cc_mask_email(r->f.email, email, emailsz);
    else if (emailsz)
        email[0] = '\0';
    cc_mask_mobile(r->f.mobile, mobile, mobilesz);
}

/* A new contact from row r, with every rule of a create but the carrying of
 * recent confirmations: an imported address is unverified unless the import
 * is trusted to say so. */
static enum cc_err import_insert(struct cc_tx *tx, const struct cc_service *svc,
                                 const struct cc_caller *caller, const struct svc_import_row *r,
                                 int64_t now, int64_t *contacts, enum cc_import_action *action,
                                 int64_t *id, struct cc_error *refusal, struct cc_error *err)
{
    int64_t account = caller->account_id;
    enum cc_err rc;
    if (*contacts >= svc->cfg.max_contacts) {
        *action = CC_IMPORT_REFUSE;
        cc_error_set(refusal, CC_ERR_LIMIT_EXCEEDED, "Contacts",
                     "This account already has %lld contacts, the most it may have.",
                     (long long)svc->cfg.max_contacts);
        return CC_OK;
    }
    struct collect col = {refusal, ""};
    cc_error_clear(refusal);
    if ((rc = svc_contact_check_unique(tx, account, 0, &r->f, &col)))
        return rc;
    if (refusal->code) {
        *action = CC_IMPORT_REFUSE;
        return CC_OK;
    }
    struct cc_contact *c = cc_calloc(1, sizeof *c);
    c->account_id = account;
    c->version = 1;
    c->created_at = c->updated_at = now;
    svc_contact_apply_fields(&r->f, c);
    if (!c->language[0])
        cc_strlcpy(c->language, "en", sizeof c->language);
    if (r->email_verified)
        c->email_verified_at = now;
    if (r->mobile_verified)
        c->mobile_verified_at = now;
    rc = cc_tx_contact_insert(tx, c, err);
    if (!rc) {
        *id = c->id;
        ++*contacts;
        rc = svc_audit(tx, caller, CC_AUDIT_CONTACT_CREATE, c->id, svc_contact_changes(NULL, c),
                       err);
    }
    OPENSSL_cleanse(c, sizeof *c);
    cc_free(c);
    return rc;
}

/* Whether new differs from old in what an import can change; new's ID number
 * is old's sealed one again when the number is the same. */
static int import_differs(const struct cc_service *svc, const struct svc_import_row *r,
                          const struct cc_contact *old, struct cc_contact *nw)
{
    int id_differs = 0;
    if (r->f.has_id_card) {
        char stored[CC_IDCARD_LEN + 8] = "";
        struct cc_error ignored;
        if (old->has_id_card && r->id_card[0] &&
            !svc_open(svc, AAD_ID_CARD, old->id_card_enc, old->id_card_enc_len, stored,
                      sizeof stored, &ignored) &&
            !strcmp(stored, r->id_card)) {
            memcpy(nw->id_card_enc, old->id_card_enc, old->id_card_enc_len);
            nw->id_card_enc_len = old->id_card_enc_len;
            cc_strlcpy(nw->id_card_masked, old->id_card_masked, sizeof nw->id_card_masked);
        } else {
            id_differs = 1;
        }
        OPENSSL_cleanse(stored, sizeof stored);
    }
    return id_differs || strcmp(old->name, nw->name) || old->has_email != nw->has_email ||
           strcmp(old->email, nw->email) || strcmp(old->mobile, nw->mobile) ||
           strcmp(old->language, nw->language) ||
           old->email_verified_at != nw->email_verified_at ||
           old->mobile_verified_at != nw->mobile_verified_at;
}

enum cc_err svc_import_row_tx(struct cc_tx *tx, const struct cc_service *svc,
                              const struct cc_caller *caller, const struct svc_import_row *r,
                              int apply, int64_t *contacts, enum cc_import_action *action,
                              int64_t *contact_id, struct cc_error *refusal,
                              struct cc_error *err)
{
    int64_t account = caller->account_id, now = cc_now_ms();
    const struct contact_fields *f = &r->f;
    struct cc_contact_ref by_email = {0, ""}, by_mobile = {0, ""};
    *action = CC_IMPORT_REFUSE;
    *contact_id = 0;
    cc_error_clear(refusal);
    enum cc_err rc = CC_OK;
    if (f->has_email)
        rc = cc_tx_contact_holder(tx, account, 0, f->email_norm, NULL, &by_email, err);
    if (!rc)
        rc = cc_tx_contact_holder(tx, account, 0, NULL, f->mobile, &by_mobile, err);
    if (rc)
        return rc;
    if (by_email.id && by_mobile.id && by_email.id != by_mobile.id) {
        cc_error_set(refusal, CC_ERR_ALREADY_EXISTS, "Mobile",
                     "The email address belongs to the contact \"%s\" and the mobile number to "
                     "another, \"%s\".", by_email.name, by_mobile.name);
        return CC_OK;
    }
    int64_t id = by_email.id ? by_email.id : by_mobile.id;
    if (!id) {
        *action = CC_IMPORT_CREATE;
        return apply ? import_insert(tx, svc, caller, r, now, contacts, action, contact_id,
                                     refusal, err)
                     : CC_OK;
    }
    *contact_id = id;
    struct cc_contact *old = cc_malloc(sizeof *old), *nw = cc_malloc(sizeof *nw);
    if ((rc = cc_tx_contact_get(tx, account, id, old, err)))
        goto out;
    *nw = *old;
    svc_contact_apply_fields(f, nw); /* a changed address becomes unverified, as on PATCH */
    if (r->email_verified && nw->has_email && !nw->email_verified_at)
        nw->email_verified_at = now;
    if (r->mobile_verified && !nw->mobile_verified_at)
        nw->mobile_verified_at = now;
    if (!import_differs(svc, r, old, nw)) {
        *action = CC_IMPORT_UNCHANGED;
        goto out;
    }
    *action = CC_IMPORT_UPDATE;
    if (!apply)
        goto out;
    struct collect col = {refusal, ""};
    if ((rc = svc_contact_check_unique(tx, account, id, f, &col)))
        goto out;
    if (refusal->code) {
        *action = CC_IMPORT_REFUSE;
        goto out;
    }
    nw->version++;
    nw->updated_at = now;
    json_t *ch = svc_contact_changes(old, nw);
    if ((rc = cc_tx_contact_update(tx, nw, err)))
        json_decref(ch);
    else
        rc = svc_audit(tx, caller, CC_AUDIT_CONTACT_UPDATE, id, ch, err);
out:
    OPENSSL_cleanse(old, sizeof *old);
    OPENSSL_cleanse(nw, sizeof *nw);
    cc_free(old);
    cc_free(nw);
    return rc;
}
