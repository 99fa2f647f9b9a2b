/*
 * contacts.c — the contact use cases: create, read, list, update, delete.
 *
 * Every rule about a contact lives here, whichever API the request came
 * through: its fields' validation (contact_fields.c), the role a
 * caller needs, the per-account cap, idempotent creates, optimistic
 * concurrency on update, verification reset when an address changes, the
 * webhook secret rules, encryption at rest, masking, the audit row that
 * commits with each change, the refusal to delete a contact that open
 * certificate applications name, and the move of its applications and
 * certificate subscriptions to another contact (reassign).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "service/contacts_int.h"
#include "util/util.h"

/* An address confirmed by the account in the last 30 minutes (the Create
 * dialog verifies before it saves) is saved verified. */
static void carry_verification(struct cc_tx *tx, const struct cc_service *svc,
                               struct cc_contact *c, int64_t now)
{
    if (c->has_email && !c->email_verified_at)
        c->email_verified_at =
            svc_verify_recent(tx, svc, c->account_id, "email", c->email_norm, now);
    if (!c->mobile_verified_at)
        c->mobile_verified_at = svc_verify_recent(tx, svc, c->account_id, "mobile", c->mobile, now);
}

/* ---- create ------------------------------------------------------------------------ */
struct create_op {
    struct cc_service *svc;
    const struct cc_caller *caller;
    const struct svc_contact_new *nc;
    const char *idem_key;
    const char *body_hash;
    struct cc_contact *out;
    int replayed;
};

/* A contact validated outside a transaction, for svc_contact_insert_tx. */
struct svc_contact_new {
    struct contact_fields f;
    const char *prefix; /* where its fields are in the request body (static) */
};

/* The contact of a request that failed for its fields' problems: the
 * addresses that are good but another contact's are problems too, so that
 * one answer names them all. */
struct clash_op {
    int64_t account, self;
    const struct contact_fields *f;
    struct collect *col;
};

static enum cc_err clash_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct clash_op *op = arg;
    (void)err;
    return svc_contact_check_unique(tx, op->account, op->self, op->f, op->col);
}

/* After validation failed with problems (rc): adds the clashes of the good
 * addresses. A database error here leaves the problems as they are. */
static enum cc_err add_clashes(struct cc_service *svc, const struct cc_caller *caller,
                               int64_t self, const struct contact_fields *f, const char *prefix,
                               enum cc_err rc, struct cc_error *err)
{
    if (!rc || cc_err_hides_detail(rc) || err->n_problems == 0)
        return rc;
    struct cc_error *found = cc_malloc(sizeof *found);
    *found = *err;
    struct collect col = {found, prefix};
    struct clash_op op = {caller->account_id, self, f, &col};
    struct cc_error ignored;
    if (cc_store_read(svc->store, clash_tx, &op, &ignored) == CC_OK)
        *err = *found;
    cc_free(found);
    return err->code;
}

static enum cc_err prepare(const struct cc_service *svc, const struct cc_contact_input *in,
                           const char *prefix, struct svc_contact_new **out,
                           struct cc_error *err)
{
    struct svc_contact_new *nc = cc_malloc(sizeof *nc);
    nc->prefix = prefix;
    enum cc_err rc = svc_contact_validate(svc, in, 1, prefix, &nc->f, err);
    *out = nc;
    return rc;
}

/* For an application's inline contact: its fields are under "contact.". */
enum cc_err svc_contact_prepare(const struct cc_service *svc, const struct cc_contact_input *in,
                                struct svc_contact_new **out, struct cc_error *err)
{
    enum cc_err rc = prepare(svc, in, "contact.", out, err);
    if (rc) {
        cc_free(*out);
        *out = NULL;
    }
    return rc;
}

enum cc_err svc_contact_insert_tx(struct cc_tx *tx, const struct cc_service *svc,
                                  const struct cc_caller *caller,
                                  const struct svc_contact_new *nc, struct cc_contact *c,
                                  struct cc_error *err)
{
    int64_t account = caller->account_id, now = cc_now_ms();
    int64_t count = 0;
    enum cc_err rc = cc_tx_contact_count(tx, account, &count, err);
    if (rc)
        return rc;
    if (count >= svc->cfg.max_contacts)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "Contacts",
                            "This account already has %lld contacts, the most it may have.",
                            (long long)svc->cfg.max_contacts);
    struct collect col = {err, nc->prefix};
    cc_error_clear(err);
    if ((rc = svc_contact_check_unique(tx, account, 0, &nc->f, &col)) || err->code)
        return rc ? rc : err->code;
    memset(c, 0, sizeof *c);
    c->account_id = account;
    c->version = 1;
    c->created_at = c->updated_at = now;
    svc_contact_apply_fields(&nc->f, c);
    carry_verification(tx, svc, c, now);
    if ((rc = cc_tx_contact_insert(tx, c, err)))
        return rc;
    return svc_audit(tx, caller, CC_AUDIT_CONTACT_CREATE, c->id, svc_contact_changes(NULL, c),
                     err);
}

static enum cc_err create_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct create_op *op = arg;
    int64_t account = op->caller->account_id;
    enum cc_err rc;
    op->replayed = 0;
    if (op->idem_key) {
        char hash[65];
        int64_t cid = 0;
        rc = cc_tx_idem_get(tx, account, op->idem_key, hash, &cid, err);
        if (rc == CC_OK) {
            if (strcmp(hash, op->body_hash) != 0)
                return cc_error_set(err, CC_ERR_IDEMPOTENCY_REUSED, NULL,
                                    "This Idempotency-Key was already used with a different "
                                    "request body.");
            op->replayed = 1;
            return cc_tx_contact_get(tx, account, cid, op->out, err);
        }
        if (rc != CC_ERR_NOT_FOUND)
            return rc;
    }
    if ((rc = svc_contact_insert_tx(tx, op->svc, op->caller, op->nc, op->out, err)))
        return rc;
    if (op->idem_key)
        return cc_tx_idem_put(tx, account, op->idem_key, op->body_hash, op->out->id,
                              op->out->created_at, err);
    return CC_OK;
}

struct cc_contact_create {
    struct create_op op;
    struct svc_contact_new *nc;
    enum cc_err rc;
    struct cc_error err;
    void (*done)(void *arg);
    void *done_arg;
};

int cc_service_queues_writes(const struct cc_service *svc)
{
    return cc_store_queues_writes(svc->store);
}

enum cc_err cc_contact_create_begin(struct cc_service *svc, const struct cc_caller *caller,
                                    const struct cc_contact_input *in, const char *idem_key,
                                    const char *body_hash, struct cc_contact *c,
                                    struct cc_contact_create **out, struct cc_error *err)
{
    *out = NULL;
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    struct svc_contact_new *nc = NULL;
    rc = prepare(svc, in, "", &nc, err);
    if ((rc = add_clashes(svc, caller, 0, &nc->f, "", rc, err))) {
        cc_free(nc);
        return rc;
    }
    /* not zeroed: the write fills c, and err only when it fails */
    struct cc_contact_create *cr = cc_malloc(sizeof *cr);
    cr->op = (struct create_op){svc, caller, nc, idem_key, body_hash, c, 0};
    cr->nc = nc;
    cr->rc = CC_OK;
    cr->done = NULL;
    cr->done_arg = NULL;
    *out = cr;
    return CC_OK;
}

static void create_told(void *arg, enum cc_err rc)
{
    struct cc_contact_create *cr = arg;
    cr->rc = rc;
    cr->done(cr->done_arg);
}

void cc_contact_create_queue(struct cc_contact_create *cr, void (*done)(void *arg),
                             void *done_arg)
{
    cr->done = done;
    cr->done_arg = done_arg;
    /* every refusal (the cap, a clash, a reused key) comes before the
     * contact's INSERT, so it runs without a savepoint */
    enum cc_err rc = cc_store_write_queued(cr->op.svc->store, create_tx, &cr->op,
                                           CC_STORE_WRITE_CHECKS_FIRST, create_told, cr,
                                           &cr->err);
    if (rc)
        create_told(cr, rc);
}

void cc_contact_create_drop(struct cc_contact_create *cr)
{
    cc_free(cr->nc);
    cc_free(cr);
}

enum cc_err cc_contact_create_end(struct cc_contact_create *cr, int *replayed,
                                  struct cc_error *err)
{
    enum cc_err rc = cr->rc;
    if (rc) {
        *err = cr->err;
    } else {
        *replayed = cr->op.replayed;
        svc_contact_view(cr->op.caller, SVC_VIEW_DETAIL, cr->op.out);
    }
    cc_contact_create_drop(cr);
    return rc;
}

enum cc_err cc_contact_create(struct cc_service *svc, const struct cc_caller *caller,
                              const struct cc_contact_input *in, const char *idem_key,
                              const char *body_hash, struct cc_contact *out, int *replayed,
                              struct cc_error *err)
{
    struct cc_contact_create *cr;
    enum cc_err rc = cc_contact_create_begin(svc, caller, in, idem_key, body_hash, out, &cr, err);
    if (rc)
        return rc;
    cr->rc = cc_store_write_checks_first(svc->store, create_tx, &cr->op, &cr->err);
    int again = 0;
    rc = cc_contact_create_end(cr, &again, err);
    if (replayed)
        *replayed = again;
    return rc;
}

/* ---- read ------------------------------------------------------------------------------ */
struct view_op {
    const struct cc_caller *caller;
    const struct cc_contact *c;
};

static enum cc_err view_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct view_op *op = arg;
    json_t *ch = json_object();
    json_t *shown = json_array();
    if (op->c->has_email)
        json_array_append_new(shown, json_string("email"));
    json_array_append_new(shown, json_string("mobile"));
    json_object_set_new(ch, "revealed", json_pack("{s:o}", "new", shown));
    return svc_audit(tx, op->caller, CC_AUDIT_CONTACT_VIEW, op->c->id, ch, err);
}

/* 1 when caller's detail view shows the email and mobile in full (an
 * operator's or admin's, not through the Alibaba API). */
static int view_reveals(const struct cc_caller *caller)
{
    return caller->role >= CC_ROLE_OPERATOR && !caller->mask_addresses;
}

/* Such a view is a reveal of personal data: the audit log records it,
 * durably, before the contact is handed out. */

static enum cc_err audit_view(struct cc_service *svc, const struct cc_caller *caller,
                              const struct cc_contact *c, struct cc_error *err)
{
    if (!view_reveals(caller))
        return CC_OK;
    struct view_op op = {caller, c};
    return cc_store_write(svc->store, view_tx, &op, err);
}

enum cc_err cc_contact_view_mark(struct cc_service *svc, const struct cc_caller *caller,
                                 struct cc_read_mark *mark, struct cc_error *err)
{
    memset(mark, 0, sizeof *mark);
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    if (view_reveals(caller))
        return cc_error_set(err, CC_ERR_UNSUPPORTED_OPERATION, NULL,
                            "a view that reveals addresses is audited");
    return cc_store_read_mark(svc->store, mark, err);
}

enum cc_err cc_contact_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                           struct cc_contact *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    if ((rc = cc_store_contact_get(svc->store, caller->account_id, id, out, err)))
        return rc;
    if ((rc = audit_view(svc, caller, out, err))) {
        OPENSSL_cleanse(out, sizeof *out);
        return rc;
    }
    svc_contact_view(caller, SVC_VIEW_DETAIL, out);
    return CC_OK;
}

/*
 * kw as the part of a stored mobile it stands for, when it is written as a
 * phone number is read: digits with spaces, dashes, dots or brackets between
 * them, and an optional "+86" before them ("+86 158 1234", "158-1234"), or
 * a whole number after "0086". out gets the digits (after "+86" when one was
 * given), as the E.164 form addresses are stored in; returns 1 then, 0 when kw
 * is no phone number or already that form.
 */
static int phone_keyword(const char *kw, char *out, size_t outsz)
{
    size_t o = 0, digits = 0;
    int changed = 0;
    char mobile[CC_MOBILE_MAX + 1];
    struct cc_error ignored;
    /* "0086…" is a prefix only before a whole number: "0086-9051" may be digits 4–11 */
    int intl = !strncmp(kw, "0086", 4) &&
               !cc_validate_mobile(kw, mobile, sizeof mobile, &ignored);
    if (intl || !strncmp(kw, "+86", 3)) {
        changed = intl;
        kw += intl ? 4 : 3;
        if (outsz < 4)
            return 0;
        memcpy(out, "+86", 3);
        o = 3;
    }
    for (const char *p = kw; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (o + 1 >= outsz)
                return 0;
            out[o++] = *p;
            digits++;
        } else if (strchr(" -.()", *p)) {
            changed = 1;
        } else {
            return 0;
        }
    }
    out[o] = '\0';
    return changed && digits >= 3;
}

enum cc_err cc_contact_list(struct cc_service *svc, const struct cc_caller *caller,
                            const char *keyword, int64_t page, int64_t page_size,
                            struct cc_contact_page *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    if ((rc = svc_check_page(page, page_size, err)))
        return rc;
    char kw[SVC_KEYWORD_SIZE];
    if ((rc = svc_keyword(keyword, kw, err)))
        return rc;
    struct cc_contact_query q = {
        .account_id = caller->account_id,
        .keyword = kw,
        .page = page,
        .page_size = page_size,
        /* a keyword's matches are counted so far; the whole list always exactly */
        .count_max = !kw[0]                         ? 0
                     : svc->cfg.search_count_max > 0 ? svc->cfg.search_count_max
                                                     : CC_SEARCH_COUNT_MAX_DEFAULT,
    };
    /* Whoever sees addresses only masked may not search by their hidden parts (that
     * recovered a whole mobile in 14 searches): names, or a whole address exactly. */
    char email[CC_EMAIL_MAX + 1], email_norm[CC_EMAIL_MAX + 1], mobile[CC_MOBILE_MAX + 1];
    struct cc_error ignored;
    if (kw[0] && caller->role < CC_ROLE_OPERATOR) {
        q.names_only = 1;
        if (!cc_validate_email(kw, email, sizeof email, email_norm, sizeof email_norm, &ignored))
            q.email_exact = email_norm;
        if (!cc_validate_mobile(kw, mobile, sizeof mobile, &ignored))
            q.mobile_exact = mobile;
    }
    /* "+86 158 1234", as the list shows mobiles, finds them as "+861581234" would */
    char phone[SVC_KEYWORD_SIZE];
    if (kw[0] && !q.names_only && phone_keyword(kw, phone, sizeof phone))
        q.phone = phone;
    if ((rc = cc_store_contact_list(svc->store, &q, out, err)))
        return rc;
    for (size_t i = 0; i < out->n; i++)
        svc_contact_view(caller, SVC_VIEW_LIST, &out->items[i]);
    return CC_OK;
}

/* Both addresses go through the validators, so any form a create accepts
 * finds the contact saved from it. */
enum cc_err cc_contact_find(struct cc_service *svc, const struct cc_caller *caller,
                            const char *email, const char *mobile, int64_t *id,
                            struct cc_error *err)
{
    *id = 0;
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    if (!email != !mobile)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, email ? "Mobile" : "Email",
                            "A contact is found by its email and mobile together.");
    char shown[CC_EMAIL_MAX + 1], norm[CC_EMAIL_MAX + 1], mob[CC_MOBILE_MAX + 1];
    if (email && ((rc = cc_validate_email(email, shown, sizeof shown, norm, sizeof norm, err)) ||
                  (rc = cc_validate_mobile(mobile, mob, sizeof mob, err))))
        return rc;
    if ((rc = cc_store_contact_find_id(svc->store, caller->account_id, email ? norm : NULL,
                                       email ? mob : NULL, id, err)))
        return rc;
    if (*id == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, "Contact",
                            email ? "No contact of this account has this email and mobile."
                                  : "This account has no contact.");
    return CC_OK;
}

/* ---- update ------------------------------------------------------------------------------ */
struct update_op {
    const struct cc_service *svc;
    const struct cc_caller *caller;
    int64_t id;
    int64_t if_match;
    struct contact_fields *f;
    struct cc_contact *out;
};

/* A robot sent in full that the contact has, stored with its tag under
 * another key (a master-key rotation has not reached it yet), keeps its tag
 * and sealed URL as stored, so that it stays the same robot (its row,
 * health and secret); the rotation re-keys both together. */
static void adopt_stored(struct webhook_new *w, const struct cc_contact *c)
{
    for (int j = 0; j < c->n_webhooks; j++) {
        const struct cc_webhook *was = &c->webhooks[j];
        if (!was->url_tag[0] || !was->url_enc_len || !strcmp(was->url_tag, w->url_tag))
            continue;
        for (int k = 0; k < w->n_url_tags; k++)
            if (!strcmp(was->url_tag, w->url_tags[k])) {
                cc_strlcpy(w->url_tag, was->url_tag, sizeof w->url_tag);
                memcpy(w->url_enc, was->url_enc, was->url_enc_len);
                w->url_enc_len = was->url_enc_len;
                return;
            }
    }
}

/* Each webhook sent masked becomes the contact's robot with that mask (c:
 * the contact as stored): its tag and sealed URL. One the contact does not
 * have (or has twice) is refused; so is the same robot sent twice. */
static enum cc_err resolve_masked(struct contact_fields *f, const struct cc_contact *c,
                                  struct collect *col)
{
    struct cc_error one;
    char path[40];
    enum cc_err rc;
    if (!(f->present & CC_F_WEBHOOKS))
        return CC_OK;
    for (int i = 0; i < f->n_webhooks; i++) {
        struct webhook_new *w = &f->webhooks[i];
        if (!w->masked_ref) {
            adopt_stored(w, c);
            continue;
        }
        const struct cc_webhook *was = NULL;
        int n = 0;
        for (int j = 0; j < c->n_webhooks; j++)
            if (c->webhooks[j].url_enc_len && !strcmp(c->webhooks[j].url, w->url) &&
                c->webhooks[j].kind == w->kind)
                was = &c->webhooks[j], n++;
        if (n != 1) {
            cc_error_set(&one, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                         n ? "Two of the contact's robots are shown alike: send the "
                             "full webhook URL."
                           : "The contact has no robot with this masked URL: send the "
                             "full webhook URL.");
            if ((rc = svc_contact_note(col, &one, svc_hook_path(path, sizeof path, (size_t)i, "url"))))
                return rc;
            continue;
        }
        cc_strlcpy(w->url_tag, was->url_tag, sizeof w->url_tag);
        memcpy(w->url_enc, was->url_enc, was->url_enc_len);
        w->url_enc_len = was->url_enc_len;
    }
    for (int i = 0; i < f->n_webhooks; i++)
        for (int j = 0; j < i; j++)
            if (f->webhooks[i].url_tag[0] &&
                !strcmp(f->webhooks[i].url_tag, f->webhooks[j].url_tag)) {
                cc_error_set(&one, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                             "The same webhook URL is listed twice.");
                if ((rc = svc_contact_note(col, &one, svc_hook_path(path, sizeof path, (size_t)i, "url"))))
                    return rc;
                break;
            }
    return CC_OK;
}

static enum cc_err update_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct update_op *op = arg;
    int64_t account = op->caller->account_id, now = cc_now_ms();
    struct cc_contact *c = op->out;
    enum cc_err rc = cc_tx_contact_get(tx, account, op->id, c, err);
    if (rc)
        return rc;
    if (op->if_match >= 0 && op->if_match != c->version)
        return cc_error_set(err, CC_ERR_UPDATE_CONFLICT, NULL,
                            "The contact was changed by someone else (version %lld, If-Match "
                            "%lld): read it again and retry.",
                            (long long)c->version, (long long)op->if_match);
    struct collect col = {err, ""};
    cc_error_clear(err);
    if ((rc = resolve_masked(op->f, c, &col)) ||
        (rc = svc_contact_check_unique(tx, account, op->id, op->f, &col)) || err->code)
        return rc ? rc : err->code;
    struct cc_contact *old = cc_malloc(sizeof *old);
    *old = *c;
    svc_contact_apply_fields(op->f, c);
    carry_verification(tx, op->svc, c, now);
    c->version++;
    c->updated_at = now;
    json_t *ch = svc_contact_changes(old, c);
    OPENSSL_cleanse(old, sizeof *old);
    cc_free(old);
    if ((rc = cc_tx_contact_update(tx, c, err))) {
        json_decref(ch);
        return rc;
    }
    return svc_audit(tx, op->caller, CC_AUDIT_CONTACT_UPDATE, c->id, ch, err);
}

enum cc_err cc_contact_update(struct cc_service *svc, const struct cc_caller *caller,
                              int64_t id, const struct cc_contact_input *in, int64_t if_match,
                              struct cc_contact *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    struct contact_fields *f = cc_malloc(sizeof *f);
    rc = svc_contact_validate(svc, in, 0, "", f, err);
    rc = add_clashes(svc, caller, id, f, "", rc, err);
    if (!rc) {
        struct update_op op = {svc, caller, id, if_match, f, out};
        rc = cc_store_write(svc->store, update_tx, &op, err);
    }
    cc_free(f);
    if (!rc)
        svc_contact_view(caller, SVC_VIEW_DETAIL, out);
    return rc;
}

/* ---- delete ------------------------------------------------------------------------------- */
void cc_contact_use_free(struct cc_contact_use *u)
{
    if (!u)
        return;
    cc_application_list_free(u->items, u->n);
    memset(u, 0, sizeof *u);
}

struct delete_op {
    const struct cc_caller *caller;
    int64_t id;
    struct cc_contact_use *use;
};

/* The CC_ERR_CONTACT_IN_USE of contact id, naming the first few of u. */
static enum cc_err in_use(int64_t id, const struct cc_contact_use *u, struct cc_error *err)
{
    char ids[128] = "";
    size_t used = 0;
    for (size_t i = 0; i < u->n && i < 5 && used < sizeof ids; i++)
        used += (size_t)snprintf(ids + used, sizeof ids - used, "%s%lld", i ? ", " : "",
                                 (long long)u->items[i].id);
    return cc_error_set(err, CC_ERR_CONTACT_IN_USE, NULL,
                        "Contact %lld is named by %lld open certificate application%s (%s%s): "
                        "reassign %s to another contact (POST /v1/contacts/%lld/reassign) "
                        "or close %s first.",
                        (long long)id, (long long)u->total, u->total == 1 ? "" : "s", ids,
                        u->total > 5 ? ", ..." : "", u->total == 1 ? "it" : "them",
                        (long long)id, u->total == 1 ? "it" : "them");
}

/* The check and the delete share one transaction: an application
 * submitted meanwhile either commits first (and is seen here) or finds the
 * contact gone. The delete goes first so that a missing contact is 404. */
static enum cc_err delete_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct delete_op *op = arg;
    int64_t account = op->caller->account_id, now = cc_now_ms();
    cc_contact_use_free(op->use); /* a write may run again */
    struct cc_contact *old = cc_malloc(sizeof *old);
    enum cc_err rc = cc_tx_contact_get(tx, account, op->id, old, err);
    json_t *ch = rc ? NULL : svc_contact_changes(old, NULL);
    if (!rc)
        rc = cc_tx_contact_delete(tx, account, op->id, err);
    /* Its personal data goes with it, everywhere but the (masked) audit trail; its
     * verifications and webhooks went with the row (ON DELETE CASCADE). */
    if (!rc)
        rc = cc_tx_contact_erase(tx, old, err);
    OPENSSL_cleanse(old, sizeof *old);
    cc_free(old);
    if (!rc)
        rc = cc_tx_app_open_for_contact(tx, account, op->id, CC_PAGE_SIZE_MAX, &op->use->items,
                                        &op->use->n, &op->use->total, err);
    if (!rc && op->use->total > 0)
        rc = in_use(op->id, op->use, err);
    /* Nothing more goes to a deleted contact: its queued messages go with it
     * (its certificate subscriptions went with the row: ON DELETE CASCADE). */
    if (!rc)
        rc = cc_tx_notif_cancel_contact(tx, account, op->id, now, err);
    if (rc) {
        json_decref(ch);
        return rc;
    }
    return svc_audit(tx, op->caller, CC_AUDIT_CONTACT_DELETE, op->id, ch, err);
}

enum cc_err cc_contact_delete(struct cc_service *svc, const struct cc_caller *caller,
                              int64_t id, struct cc_contact_use *use, struct cc_error *err)
{
    struct cc_contact_use own;
    if (!use)
        use = &own;
    memset(use, 0, sizeof *use);
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (!rc) {
        struct delete_op op = {caller, id, use};
        rc = cc_store_write(svc->store, delete_tx, &op, err);
    }
    if (rc != CC_ERR_CONTACT_IN_USE || use == &own)
        cc_contact_use_free(use);
    return rc;
}

enum cc_err cc_contact_applications(struct cc_service *svc, const struct cc_caller *caller,
                                    int64_t id, struct cc_contact_use *out,
                                    struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    return cc_store_app_open_for_contact(svc->store, caller->account_id, id, CC_PAGE_SIZE_MAX,
                                         &out->items, &out->n, &out->total, err);
}

struct get_op {
    int64_t account_id, id;
    struct cc_contact *out;
    struct cc_contact_use *use;
};

static enum cc_err get_in_use_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct get_op *op = arg;
    enum cc_err rc = cc_tx_contact_get(tx, op->account_id, op->id, op->out, err);
    if (rc)
        return rc;
    return cc_tx_app_open_for_contact(tx, op->account_id, op->id, CC_PAGE_SIZE_MAX,
                                      &op->use->items, &op->use->n, &op->use->total, err);
}

enum cc_err cc_contact_get_in_use(struct cc_service *svc, const struct cc_caller *caller,
                                  int64_t id, struct cc_contact *out,
                                  struct cc_contact_use *use, struct cc_error *err)
{
    memset(use, 0, sizeof *use);
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    struct get_op op = {caller->account_id, id, out, use};
    if ((rc = cc_store_read(svc->store, get_in_use_tx, &op, err)) ||
        (rc = audit_view(svc, caller, out, err))) {
        cc_contact_use_free(use);
        OPENSSL_cleanse(out, sizeof *out);
        return rc;
    }
    svc_contact_view(caller, SVC_VIEW_DETAIL, out);
    return CC_OK;
}

/* ---- reassign -------------------------------------------------------------------------------- */
struct reassign_op {
    const struct cc_caller *caller;
    int64_t id, to;
    struct cc_reassign_result *out;
};

static enum cc_err reassign_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct reassign_op *op = arg;
    int64_t account = op->caller->account_id, now = cc_now_ms();
    memset(op->out, 0, sizeof *op->out);
    struct cc_contact *c = cc_malloc(sizeof *c);
    enum cc_err rc = cc_tx_contact_get(tx, account, op->id, c, err);
    if (!rc) {
        rc = cc_tx_contact_get(tx, account, op->to, c, err);
        if (rc == CC_ERR_NOT_FOUND)
            rc = cc_error_set(err, CC_ERR_NOT_FOUND, "ToContactId",
                              "to_contact_id %lld is not a contact of this account.",
                              (long long)op->to);
    }
    OPENSSL_cleanse(c, sizeof *c);
    cc_free(c);
    if (rc)
        return rc;
    char reason[64];
    snprintf(reason, sizeof reason, "contact %lld -> %lld", (long long)op->id,
             (long long)op->to);
    if ((rc = cc_tx_app_reassign_open(tx, account, op->id, op->to, op->caller->key_id, reason,
                                      now, &op->out->moved_applications, err)))
        return rc;
    if ((rc = cc_tx_contact_subscriptions_move(tx, op->id, op->to,
                                               &op->out->moved_certificates, err)))
        return rc;
    json_t *ch = json_object();
    svc_change_int(ch, "to_contact_id", 0, 0, 1, op->to);
    svc_change_int(ch, "moved_applications", 0, 0, 1, op->out->moved_applications);
    svc_change_int(ch, "moved_certificates", 0, 0, 1, op->out->moved_certificates);
    return svc_audit(tx, op->caller, CC_AUDIT_CONTACT_REASSIGN, op->id, ch, err);
}

enum cc_err cc_contact_reassign(struct cc_service *svc, const struct cc_caller *caller,
                                int64_t id, int64_t to_id, struct cc_reassign_result *out,
                                struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    if (to_id <= 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "ToContactId",
                            "to_contact_id, the contact to move to, is required.");
    if (to_id == id)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "ToContactId",
                            "to_contact_id is this contact: name another one.");
    struct reassign_op op = {caller, id, to_id, out};
    return cc_store_write(svc->store, reassign_tx, &op, err);
}

/* ---- masking ------------------------------------------------------------------------------- */
void svc_contact_view(const struct cc_caller *caller, enum svc_view view, struct cc_contact *c)
{
    char tmp[CC_URL_MAX + 1];
    int mask_addresses =
        view == SVC_VIEW_LIST || caller->role < CC_ROLE_OPERATOR || caller->mask_addresses;
    if (mask_addresses) {
        if (c->has_email) {
            cc_mask_email(c->email, tmp, sizeof tmp);
            cc_strlcpy(c->email, tmp, sizeof c->email);
        }
        cc_mask_mobile(c->mobile, tmp, sizeof tmp);
        cc_strlcpy(c->mobile, tmp, sizeof c->mobile);
    }
    c->email_norm[0] = '\0';
    OPENSSL_cleanse(c->id_card, sizeof c->id_card);
    OPENSSL_cleanse(c->id_card_enc, sizeof c->id_card_enc);
    for (int i = 0; i < c->n_webhooks; i++) {
        struct cc_webhook *w = &c->webhooks[i];
        OPENSSL_cleanse(w->secret, sizeof w->secret);
        OPENSSL_cleanse(w->secret_enc, sizeof w->secret_enc);
        /* masked for every role (the store hands it out masked already) */
        cc_mask_webhook_url(w->url, tmp, sizeof tmp);
        cc_strlcpy(w->url, tmp, sizeof w->url);
        OPENSSL_cleanse(w->url_enc, sizeof w->url_enc);
        w->url_enc_len = 0;
    }
}

/* ---- robots' URLs from before they were sealed ------------------------------------------------ */
struct seal_op {
    const struct cc_service *svc;
    size_t n;
};

static enum cc_err seal_batch_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct seal_op *op = arg;
    struct cc_webhook_plain *rows = cc_calloc(64, sizeof *rows);
    enum cc_err rc = cc_tx_webhook_unsealed(tx, 64, rows, &op->n, err);
    for (size_t i = 0; !rc && i < op->n; i++) {
        char tag[CC_URL_TAG_LEN + 1], masked[CC_URL_MAX + 1];
        uint8_t enc[CC_URL_ENC_MAX];
        size_t enclen = 0;
        rc = svc_url_seal(op->svc, rows[i].url, tag, enc, sizeof enc, &enclen, masked,
                          sizeof masked, err);
        if (!rc)
            rc = cc_tx_webhook_seal(tx, rows[i].id, tag, masked, enc, enclen, err);
    }
    OPENSSL_cleanse(rows, 64 * sizeof *rows);
    cc_free(rows);
    return rc;
}

enum cc_err cc_service_seal_robot_urls(struct cc_service *svc, int64_t *sealed,
                                       struct cc_error *err)
{
    struct seal_op op = {svc, 0};
    *sealed = 0;
    do {
        enum cc_err rc = cc_store_write(svc->store, seal_batch_tx, &op, err);
        if (rc)
            return rc;
        *sealed += (int64_t)op.n;
    } while (op.n);
    return CC_OK;
}

/* ---- reveal ------------------------------------------------------------------------------------- */
struct reveal_op {
    const struct cc_service *svc;
    const struct cc_caller *caller;
    int64_t contact_id, webhook_id;
    char *url;
    size_t urlsz;
};

static enum cc_err reveal_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct reveal_op *op = arg;
    int64_t account = op->caller->account_id;
    struct cc_contact *c = cc_malloc(sizeof *c);
    enum cc_err rc = cc_tx_contact_get(tx, account, op->contact_id, c, err);
    const struct cc_webhook *w = NULL;
    for (int i = 0; !rc && i < c->n_webhooks; i++)
        if (c->webhooks[i].id == op->webhook_id)
            w = &c->webhooks[i];
    if (!rc && !w)
        rc = cc_error_set(err, CC_ERR_NOT_FOUND, "WebhookId",
                          "The contact has no robot with this webhook_id.");
    if (!rc)
        rc = svc_url_open(op->svc, w, op->url, op->urlsz, err);
    if (!rc) {
        json_t *ch = json_object();
        svc_change_int(ch, "webhook_id", 0, 0, 1, op->webhook_id);
        rc = svc_audit(tx, op->caller, CC_AUDIT_WEBHOOK_REVEAL, op->contact_id, ch, err);
    }
    OPENSSL_cleanse(c, sizeof *c);
    cc_free(c);
    return rc;
}

enum cc_err cc_webhook_reveal(struct cc_service *svc, const struct cc_caller *caller,
                              int64_t contact_id, int64_t webhook_id, char *url, size_t urlsz,
                              struct cc_error *err)
{
    url[0] = '\0';
    enum cc_err rc = cc_service_require(caller, CC_ROLE_ADMIN, err);
    if (rc)
        return rc;
    if (webhook_id <= 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "WebhookId",
                            "webhook_id, the robot to reveal, is required.");
    struct reveal_op op = {svc, caller, contact_id, webhook_id, url, urlsz};
    rc = cc_store_write(svc->store, reveal_tx, &op, err);
    if (rc)
        OPENSSL_cleanse(url, urlsz);
    return rc;
}

/* ---- export ------------------------------------------------------------------------------------- */
struct export_op {
    const struct cc_service *svc;
    const struct cc_caller *caller;
    int64_t id;
    struct cc_contact *out;
    char *id_card;
    size_t id_card_sz;
    struct cc_verification *v;
    size_t nv;
};

static enum cc_err export_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct export_op *op = arg;
    int64_t account = op->caller->account_id;
    op->id_card[0] = '\0';
    enum cc_err rc = cc_tx_contact_get(tx, account, op->id, op->out, err);
    if (!rc && op->out->has_id_card)
        rc = svc_open(op->svc, AAD_ID_CARD, op->out->id_card_enc, op->out->id_card_enc_len,
                      op->id_card, op->id_card_sz, err);
    if (!rc)
        rc = cc_tx_verif_list_contact(tx, account, op->id, CC_EXPORT_VERIFICATIONS_MAX, op->v,
                                      &op->nv, err);
    if (!rc)
        rc = svc_audit(tx, op->caller, CC_AUDIT_CONTACT_EXPORT, op->id, NULL, err);
    return rc;
}

enum cc_err cc_contact_export(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                              struct cc_contact *out, char *id_card, size_t id_card_sz,
                              struct cc_verif_export **verifs, size_t *nverifs,
                              struct cc_error *err)
{
    static const char *const status_names[] = {"sending", "sent", "failed", "superseded"};
    *verifs = NULL;
    *nverifs = 0;
    id_card[0] = '\0';
    enum cc_err rc = cc_service_require(caller, CC_ROLE_ADMIN, err);
    if (rc)
        return rc;
    struct export_op op = {svc, caller, id, out, id_card, id_card_sz, NULL, 0};
    op.v = cc_calloc(CC_EXPORT_VERIFICATIONS_MAX, sizeof *op.v);
    rc = cc_store_write(svc->store, export_tx, &op, err);
    if (!rc) {
        *verifs = cc_calloc(op.nv ? op.nv : 1, sizeof **verifs);
        for (size_t i = 0; i < op.nv; i++) {
            struct cc_verif_export *x = &(*verifs)[i];
            x->id = op.v[i].id;
            cc_strlcpy(x->channel, op.v[i].channel, sizeof x->channel);
            cc_strlcpy(x->target, op.v[i].target, sizeof x->target);
            cc_strlcpy(x->status, (unsigned)op.v[i].status < 4 ? status_names[op.v[i].status]
                                                               : "unknown",
                       sizeof x->status);
            x->sent_at = op.v[i].sent_at;
            x->expires_at = op.v[i].expires_at;
            x->confirmed_at = op.v[i].confirmed_at;
        }
        *nverifs = op.nv;
        /* the person's own data, in full; secrets and robots' tokens stay hidden */
        struct cc_caller full = *caller;
        full.mask_addresses = 0;
        svc_contact_view(&full, SVC_VIEW_DETAIL, out);
    }
    OPENSSL_cleanse(op.v, CC_EXPORT_VERIFICATIONS_MAX * sizeof *op.v);
    cc_free(op.v);
    if (rc)
        OPENSSL_cleanse(id_card, id_card_sz);
    return rc;
}
