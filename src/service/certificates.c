/*
 * certificates.c — the rules of certificates: who may add, read, change,
 * revoke and delete them; a PEM parsed and checked (core/x509.c) before
 * anything is written, its private key matched and sealed with the master
 * key; one fingerprint per account; renewal (a newer certificate covering
 * every name of an active one supersedes it and takes over its
 * subscribers); revocation raising certificate.revoked through the outbox
 * in the same transaction; the state shown derived from time. The store
 * keeps them (store/certificates.h).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

/* Renewed certificates one new certificate supersedes at the most. */
#define RENEWED_MAX 64

/* The domains of a metadata-only certificate: each checked, without
 * duplicates, as a JSON array text into c->domains. */
static enum cc_err metadata_domains(const struct cc_cert_input *in, struct cc_certificate *c,
                                    struct cc_error *err)
{
    if (in->n_domains == 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Domains",
                            "Send pem, or domains and not_after for a certificate whose PEM "
                            "is kept elsewhere.");
    if (in->n_domains > CC_CERT_DOMAINS_MAX)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "Domains",
                            "A certificate covers at most %d names.", CC_CERT_DOMAINS_MAX);
    json_t *arr = json_array();
    enum cc_err rc = CC_OK;
    for (size_t i = 0; i < in->n_domains && !rc; i++) {
        char d[CC_DOMAIN_MAX + 1];
        if ((rc = cc_cert_check_domain(in->domains[i], d, sizeof d, err)))
            break;
        size_t j;
        json_t *v;
        json_array_foreach(arr, j, v) if (!strcmp(json_string_value(v), d)) rc =
            cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Domains", "%s is named twice.", d);
        if (!rc)
            json_array_append_new(arr, json_string(d));
    }
    if (!rc) {
        char *s = json_dumps(arr, JSON_COMPACT);
        c->domains = cc_strdup(s);
        free(s);
        cc_strlcpy(c->common_name, json_string_value(json_array_get(arr, 0)),
                   sizeof c->common_name);
    }
    json_decref(arr);
    return rc;
}

/* A certificate's own reminder thresholds as sent (not sent or null: the
 * account's) checked into c. Field "ReminderDays". */
static enum cc_err reminder_days(const struct cc_reminder_days_input *rd, struct cc_certificate *c,
                                 struct cc_error *err)
{
    c->has_reminder_days = rd && rd->sent && !rd->is_null;
    c->n_reminder_days = 0;
    if (!c->has_reminder_days)
        return CC_OK;
    enum cc_err rc = cc_reminder_days_check(rd->days, rd->n, "ReminderDays", c->reminder_days, err);
    if (!rc)
        c->n_reminder_days = rd->n;
    return rc;
}

/* Everything about a new certificate that needs no database: the PEM
 * parsed (or the metadata checked), the key matched and sealed, the name
 * and subscribers copied. c's owned members must be NULL on entry. */
static enum cc_err prepare(struct cc_service *svc, int64_t account_id,
                           const struct cc_cert_input *in, struct cc_certificate *c,
                           struct cc_error *err)
{
    enum cc_err rc;
    c->account_id = account_id;
    if (in->name && in->name[0] && (rc = cc_validate_name(in->name, c->name, sizeof c->name, err)))
        return rc;
    if (in->n_contact_ids > CC_CERT_SUBSCRIBERS_MAX)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "ContactIds",
                            "A certificate has at most %d subscribers.", CC_CERT_SUBSCRIBERS_MAX);
    for (size_t i = 0; i < in->n_contact_ids; i++) {
        for (size_t j = 0; j < i; j++)
            if (in->contact_ids[i] == in->contact_ids[j])
                return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "ContactIds",
                                    "Contact %lld is named twice.",
                                    (long long)in->contact_ids[i]);
        c->subscribers[c->n_subscribers++] = in->contact_ids[i];
    }
    if (in->product && strlen(in->product) > CC_CERT_PRODUCT_MAX)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Product",
                            "product is longer than %d characters.", CC_CERT_PRODUCT_MAX);
    cc_strlcpy(c->product, in->product ? in->product : "", sizeof c->product);
    if ((rc = reminder_days(&in->reminder_days, c, err)))
        return rc;
    if (!in->pem) {
        if (in->private_key)
            return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "PrivateKey",
                                "private_key goes with the pem of its certificate.");
        if ((rc = metadata_domains(in, c, err)))
            return rc;
        if (!in->not_after)
            return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "NotAfter",
                                "not_after is required without pem.");
        if (cc_cert_parse_time(in->not_after, &c->not_after))
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "NotAfter",
                                "not_after must be a time such as 2027-01-31T00:00:00Z, or a "
                                "date such as 2027-01-31.");
        return CC_OK;
    }
    if (in->n_domains || in->not_after)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Pem",
                            "Send pem or domains and not_after, not both: the names and dates "
                            "of a PEM come from the certificate itself.");
    if ((rc = cc_x509_parse(in->pem, in->pem_len, c, err)))
        return rc;
    if (!in->private_key)
        return CC_OK;
    if ((rc = cc_x509_key_matches(c->pem, in->private_key, in->private_key_len, err)))
        return rc;
    char *pt = cc_strndup(in->private_key, in->private_key_len);
    c->key_enc = cc_malloc(in->private_key_len + CC_AEAD_OVERHEAD);
    rc = svc_seal(svc, CC_AAD_CERT_KEY, pt, c->key_enc, in->private_key_len + CC_AEAD_OVERHEAD,
                  &c->key_enc_len, err);
    OPENSSL_cleanse(pt, in->private_key_len);
    cc_free(pt);
    c->has_private_key = !rc;
    return rc;
}

/* Checks that every subscriber is a contact of the account. */
static enum cc_err check_contacts(struct cc_tx *tx, int64_t account_id, const int64_t *ids,
                                  size_t n, struct cc_error *err)
{
    struct cc_contact *ct = cc_malloc(sizeof *ct);
    enum cc_err rc = CC_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = cc_tx_contact_get(tx, account_id, ids[i], ct, err);
        if (rc == CC_ERR_NOT_FOUND)
            rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "ContactIds",
                              "Contact %lld does not exist.", (long long)ids[i]);
    }
    cc_free(ct);
    return rc;
}

/* Saves the prepared certificate c in tx with every rule that needs the
 * database; c->id is set. */
static enum cc_err insert_tx(struct cc_tx *tx, const struct cc_caller *caller,
                             struct cc_certificate *c, int carry, struct cc_error *err)
{
    int64_t now = cc_now_ms(), existing;
    enum cc_err rc = check_contacts(tx, c->account_id, c->subscribers, c->n_subscribers, err);
    if (rc)
        return rc;
    if (c->fingerprint[0]) {
        rc = cc_tx_cert_find_fingerprint(tx, c->account_id, c->fingerprint, &existing, err);
        if (!rc)
            return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Certificate",
                                "Certificate %lld has this fingerprint already.",
                                (long long)existing);
        if (rc != CC_ERR_NOT_FOUND)
            return rc;
    }
    c->state = CC_CERT_ACTIVE;
    c->created_at = c->updated_at = now;
    if ((rc = cc_tx_cert_insert(tx, c, &c->id, err)))
        return rc;
    if (c->has_reminder_days &&
        (rc = cc_tx_cert_reminder_days_set(tx, c->account_id, c->id, 1, c->reminder_days,
                                           c->n_reminder_days, err)))
        return rc;
    c->reminder_raised = 0;
    if ((rc = svc_reminder_schedule_tx(tx, c, NULL, err)))
        return rc;
    int64_t renewed[RENEWED_MAX];
    size_t n = 0;
    if ((rc = cc_tx_cert_renewed_by(tx, c->account_id, c->id, c->not_after, c->domains, renewed,
                                    RENEWED_MAX, &n, err)))
        return rc;
    struct cc_certificate *old = cc_calloc(1, sizeof *old);
    for (size_t i = 0; i < n && !rc; i++) {
        if ((rc = cc_tx_cert_get(tx, c->account_id, renewed[i], old, err)))
            break;
        old->state = CC_CERT_SUPERSEDED;
        old->superseded_by = c->id;
        old->updated_at = now;
        rc = cc_tx_cert_update(tx, old, err);
        cc_certificate_clear(old);
        /* a renewed certificate needs no more reminders */
        if (!rc)
            rc = svc_reminder_stop_tx(tx, c->account_id, renewed[i], now, err);
        if (!rc && carry)
            rc = cc_tx_cert_subscribers_copy(tx, renewed[i], c->id, err);
        if (!rc)
        {
            json_t *ch = json_object();
            svc_change_str(ch, "state", SVC_PII_NONE, "active", "superseded");
            svc_change_int(ch, "superseded_by", 0, 0, 1, c->id);
            rc = svc_audit(tx, caller, CC_AUDIT_CERTIFICATE_SUPERSEDE, renewed[i], ch, err);
        }
    }
    cc_free(old);
    if (rc)
        return rc;
    json_t *ch = json_object();
    svc_change_str(ch, "fingerprint", SVC_PII_NONE, NULL, c->fingerprint);
    svc_change_str(ch, "name", SVC_PII_NONE, NULL, c->name);
    svc_change_str(ch, "common_name", SVC_PII_NONE, NULL, c->common_name);
    svc_change_int(ch, "not_after", 0, 0, c->not_after != 0, c->not_after);
    return svc_audit(tx, caller, CC_AUDIT_CERTIFICATE_CREATE, c->id, ch, err);
}

enum cc_err svc_certificate_create_tx(struct cc_service *svc, struct cc_tx *tx,
                                      const struct cc_caller *caller,
                                      const struct cc_cert_input *in, int64_t *id,
                                      struct cc_error *err)
{
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    enum cc_err rc = prepare(svc, caller->account_id, in, c, err);
    if (!rc)
        rc = insert_tx(tx, caller, c, in->carry_subscribers, err);
    if (!rc)
        *id = c->id;
    cc_certificate_clear(c);
    cc_free(c);
    return rc;
}

struct create_op {
    const struct cc_caller *caller;
    struct cc_certificate *c;
    int carry;
};

static enum cc_err create_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct create_op *op = arg;
    return insert_tx(tx, op->caller, op->c, op->carry, err);
}

/* The certificate as a caller sees it: the shown state, no key. */
static void view(struct cc_certificate *c, int64_t now)
{
    c->state = cc_cert_state_at(c->state, c->not_after, now);
    if (c->key_enc)
        memset(c->key_enc, 0, c->key_enc_len);
    cc_free(c->key_enc);
    c->key_enc = NULL;
    c->key_enc_len = 0;
}

enum cc_err cc_certificate_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                               struct cc_certificate *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    if ((rc = cc_store_cert_get(svc->store, caller->account_id, id, out, err)))
        return rc;
    view(out, cc_service_now(svc));
    return CC_OK;
}

enum cc_err cc_certificate_create(struct cc_service *svc, const struct cc_caller *caller,
                                  const struct cc_cert_input *in, struct cc_certificate *out,
                                  struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    if (!(rc = prepare(svc, caller->account_id, in, c, err))) {
        struct create_op op = {caller, c, in->carry_subscribers};
        rc = cc_store_write(svc->store, create_tx, &op, err);
        if (!rc)
            svc_reminders_poke(svc);
    }
    int64_t id = c->id;
    cc_certificate_clear(c);
    cc_free(c);
    return rc ? rc : cc_certificate_get(svc, caller, id, out, err);
}

enum cc_err cc_certificate_list(struct cc_service *svc, const struct cc_caller *caller,
                                struct cc_cert_filter *f, struct cc_certificate **out, size_t *n,
                                int64_t *total, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    if ((rc = svc_check_page(f->page, f->page_size, err)))
        return rc;
    char kw[SVC_KEYWORD_SIZE];
    if ((rc = svc_keyword(f->keyword, kw, err)))
        return rc;
    const char *given = f->keyword;
    f->keyword = kw[0] ? kw : NULL;
    f->account_id = caller->account_id;
    f->now = cc_service_now(svc);
    rc = cc_store_cert_list(svc->store, f, out, n, total, err);
    f->keyword = given; /* kw does not outlive this call */
    if (rc)
        return rc;
    for (size_t i = 0; i < *n; i++)
        view(&(*out)[i], f->now);
    return CC_OK;
}

struct update_op {
    const struct cc_caller *caller;
    int64_t id;
    const char *name;                /* validated; NULL: kept */
    int has_ids;
    const int64_t *ids;
    size_t n;
    const struct cc_certificate *days;  /* the checked reminder_days; NULL: kept */
};

static enum cc_err update_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct update_op *op = arg;
    int64_t account = op->caller->account_id, now = cc_now_ms();
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    enum cc_err rc = cc_tx_cert_get(tx, account, op->id, c, err);
    json_t *ch = json_object();
    if (!rc && op->name)
        svc_change_str(ch, "name", SVC_PII_NONE, c->name[0] ? c->name : NULL, op->name);
    if (op->has_ids) {
        json_t *ids = json_array();
        for (size_t i = 0; i < op->n; i++)
            json_array_append_new(ids, json_integer(op->ids[i]));
        json_object_set_new(ch, "contact_ids", json_pack("{s:o}", "new", ids));
    }
    if (op->days)
        svc_change_int(ch, "reminder_days", 0, 0, 1, (int64_t)op->days->n_reminder_days);
    if (!rc && op->name) {
        cc_strlcpy(c->name, op->name, sizeof c->name);
        c->updated_at = now;
        rc = cc_tx_cert_update(tx, c, err);
    }
    if (!rc && op->has_ids && !(rc = check_contacts(tx, account, op->ids, op->n, err)))
        rc = cc_tx_cert_subscribers_set(tx, op->id, op->ids, op->n, err);
    if (!rc && op->days) {
        c->has_reminder_days = op->days->has_reminder_days;
        c->n_reminder_days = op->days->n_reminder_days;
        memcpy(c->reminder_days, op->days->reminder_days, sizeof c->reminder_days);
        rc = cc_tx_cert_reminder_days_set(tx, account, op->id, c->has_reminder_days,
                                          c->reminder_days, c->n_reminder_days, err);
        if (!rc)
            rc = svc_reminder_schedule_tx(tx, c, NULL, err);
    }
    if (!rc)
        rc = svc_audit(tx, op->caller, CC_AUDIT_CERTIFICATE_UPDATE, op->id, ch, err);
    else
        json_decref(ch);
    cc_certificate_clear(c);
    cc_free(c);
    return rc;
}

enum cc_err cc_certificate_update(struct cc_service *svc, const struct cc_caller *caller,
                                  int64_t id, const char *name, int has_ids, const int64_t *ids,
                                  size_t n, const struct cc_reminder_days_input *rd,
                                  struct cc_certificate *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    char valid[CC_NAME_MAX_BYTES + 1] = "";
    if (name && name[0] && (rc = cc_validate_name(name, valid, sizeof valid, err)))
        return rc;
    if (has_ids && n > CC_CERT_SUBSCRIBERS_MAX)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "ContactIds",
                            "A certificate has at most %d subscribers.", CC_CERT_SUBSCRIBERS_MAX);
    for (size_t i = 0; has_ids && i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (ids[i] == ids[j])
                return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "ContactIds",
                                    "Contact %lld is named twice.", (long long)ids[i]);
    struct cc_certificate *days = NULL;
    if (rd && rd->sent) {
        days = cc_calloc(1, sizeof *days);
        if ((rc = reminder_days(rd, days, err))) {
            cc_free(days);
            return rc;
        }
    }
    struct update_op op = {caller, id, name ? valid : NULL, has_ids, ids, n, days};
    rc = cc_store_write(svc->store, update_tx, &op, err);
    cc_free(days);
    if (rc)
        return rc;
    if (op.days)
        svc_reminders_poke(svc);
    return cc_certificate_get(svc, caller, id, out, err);
}

struct delete_op {
    const struct cc_caller *caller;
    int64_t id;
};

static enum cc_err delete_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct delete_op *op = arg;
    /* its reminders still waiting in the outbox go with it */
    enum cc_err rc = svc_reminder_stop_tx(tx, op->caller->account_id, op->id, cc_now_ms(), err);
    if (!rc)
        rc = cc_tx_cert_delete(tx, op->caller->account_id, op->id, err);
    if (rc)
        return rc;
    return svc_audit(tx, op->caller, CC_AUDIT_CERTIFICATE_DELETE, op->id, NULL, err);
}

enum cc_err cc_certificate_delete(struct cc_service *svc, const struct cc_caller *caller,
                                  int64_t id, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    struct delete_op op = {caller, id};
    return cc_store_write(svc->store, delete_tx, &op, err);
}

/* The data of a certificate's event: the fields its templates name. Owned
 * by the caller: json_decref(). */
static json_t *event_data(const struct cc_certificate *c, const char *reason)
{
    char ts[32], id[24];
    cc_time_rfc3339(c->not_after, ts, sizeof ts);
    ts[10] = '\0'; /* the date */
    snprintf(id, sizeof id, "%lld", (long long)c->id);
    json_t *domains = json_loads(c->domains ? c->domains : "[]", 0, NULL);
    json_t *o = json_pack("{s:o, s:s, s:s, s:s, s:s}", "domains",
                          domains ? domains : json_array(), "certificate_id", id, "serial",
                          c->serial, "not_after", ts, "common_name", c->common_name);
    if (c->product[0])
        json_object_set_new(o, "brand", json_string(c->product));
    if (reason && reason[0])
        json_object_set_new(o, "reason", json_string(reason));
    return o;
}

struct revoke_op {
    const struct cc_caller *caller;
    int64_t id;
    const char *reason;
    int raised;
};

static enum cc_err revoke_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct revoke_op *op = arg;
    int64_t now = cc_now_ms(), event_id = 0;
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    char *data = NULL;
    op->raised = 0;
    enum cc_err rc = cc_tx_cert_get(tx, op->caller->account_id, op->id, c, err);
    if (rc)
        goto out;
    if (c->state == CC_CERT_REVOKED) {
        rc = cc_error_set(err, CC_ERR_UPDATE_CONFLICT, NULL, "Certificate %lld is revoked already.",
                          (long long)op->id);
        goto out;
    }
    c->state = CC_CERT_REVOKED;
    c->revoked_at = c->updated_at = now;
    if ((rc = cc_tx_cert_update(tx, c, err)))
        goto out;
    json_t *ch = json_object();
    svc_change_str(ch, "state", SVC_PII_NONE, NULL, "revoked");
    svc_change_str(ch, "reason", SVC_PII_NONE, NULL, op->reason);
    if ((rc = svc_audit(tx, op->caller, CC_AUDIT_CERTIFICATE_REVOKE, c->id, ch, err)))
        goto out;
    if ((rc = svc_reminder_stop_tx(tx, c->account_id, c->id, now, err)))
        goto out;
    if (c->n_subscribers) {
        json_t *d = event_data(c, op->reason);
        data = json_dumps(d, JSON_COMPACT);
        json_decref(d);
        rc = svc_event_raise_tx(tx, op->caller, "certificate.revoked", c->subscribers,
                                c->n_subscribers, data, &event_id, err);
        op->raised = !rc;
    }
out:
    free(data);
    cc_certificate_clear(c);
    cc_free(c);
    return rc;
}

enum cc_err cc_certificate_revoke(struct cc_service *svc, const struct cc_caller *caller,
                                  int64_t id, const char *reason, struct cc_certificate *out,
                                  struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    if (reason && (strlen(reason) > 256 || !cc_utf8_valid(reason, strlen(reason))))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Reason",
                            "reason must be valid UTF-8 of at most 256 bytes.");
    struct revoke_op op = {caller, id, reason, 0};
    if ((rc = cc_store_write(svc->store, revoke_tx, &op, err)))
        return rc;
    if (op.raised)
        cc_dispatcher_wake(svc->dispatcher);
    return cc_certificate_get(svc, caller, id, out, err);
}

static enum cc_err key_audit_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct delete_op *op = arg;
    return svc_audit(tx, op->caller, CC_AUDIT_CERTIFICATE_KEY_READ, op->id, NULL, err);
}

enum cc_err cc_certificate_private_key(struct cc_service *svc, const struct cc_caller *caller,
                                       int64_t id, char **pem, struct cc_error *err)
{
    *pem = NULL;
    enum cc_err rc = cc_service_require(caller, CC_ROLE_ADMIN, err);
    if (rc)
        return rc;
    uint8_t *enc = NULL;
    size_t len = 0;
    if ((rc = cc_store_cert_key_get(svc->store, caller->account_id, id, &enc, &len, err)))
        return rc;
    char *pt = cc_malloc(len + 1);
    rc = svc_open(svc, CC_AAD_CERT_KEY, enc, len, pt, len + 1, err);
    cc_free(enc);
    /* the audit row is durable before the key leaves */
    struct delete_op op = {caller, id};
    if (!rc)
        rc = cc_store_write(svc->store, key_audit_tx, &op, err);
    if (rc) {
        OPENSSL_cleanse(pt, len + 1);
        cc_free(pt);
        return rc;
    }
    *pem = pt;
    return CC_OK;
}

json_t *svc_certificate_event_data(const struct cc_certificate *c, const char *reason)
{
    return event_data(c, reason);
}
