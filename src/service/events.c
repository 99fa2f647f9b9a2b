/*
 * events.c — certificate events and the notifications they cause.
 *
 * An event names its type, its contacts and the certificate's fields. In
 * the transaction that records it, each contact gets one notification per
 * channel that may receive it — the verified email, the verified mobile,
 * each robot — with an idempotency key, in the outbox the dispatcher
 * drains. What gets nothing (an unverified address, a contact without
 * robots) is written on the event with the reason, and kept in the delivery
 * log as a notification with status "skipped" and that reason (never sent,
 * never resent), so nobody has to guess why a message never came. Which addresses may receive is outbox.c's rule
 * (svc_channel_check), applied here and again when the message is sent.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

struct event_op {
    const struct cc_caller *caller;
    const char *type;
    const int64_t *ids;
    size_t n;
    const char *data_json;
    int64_t event_id;
    struct cc_handoff handoff;
};

/* The event being written and, when the dispatcher took some in hand, the
 * notifications born claimed by it (cc_dispatcher_handoff_begin). */
struct raising {
    struct cc_event e;
    struct cc_handoff *h;         /* NULL: every notification waits for a claim */
};

static enum cc_err add(struct cc_tx *tx, struct raising *ev, int64_t contact_id,
                       const char *channel, int64_t webhook_id, const char *target,
                       const char *skipped_why, struct cc_error *err)
{
    const struct cc_event *e = &ev->e;
    struct cc_handoff *h = ev->h;
    struct cc_notification n;
    memset(&n, 0, sizeof n);
    n.account_id = e->account_id;
    n.event_id = e->id;
    n.contact_id = contact_id;
    n.webhook_id = webhook_id;
    cc_strlcpy(n.channel, channel, sizeof n.channel);
    cc_strlcpy(n.target, target, sizeof n.target);
    if (skipped_why) {
        cc_strlcpy(n.status, "skipped", sizeof n.status);
        cc_strlcpy(n.last_error, skipped_why, sizeof n.last_error);
    }
    n.next_attempt_at = e->created_at;
    n.created_at = e->created_at;
    snprintf(n.key, sizeof n.key, "e%lld-c%lld-%s-%lld", (long long)e->id, (long long)contact_id,
             channel, (long long)webhook_id);
    int handed = !skipped_why && h && h->n < h->granted;
    n.lease_until = handed ? h->lease_until : 0;
    /* One in hand falls due when its lease runs out, not before: a claim's
     * walk of the due queue passes it by (a release makes it due at once). */
    if (handed)
        n.next_attempt_at = h->lease_until;
    enum cc_err rc = cc_tx_notif_insert(tx, &n, handed ? h->owner : NULL, err);
    if (!rc && handed && n.id)
        h->ids[h->n++] = n.id;
    return rc;
}

/* A channel the event cannot use: said on the event (skipped) and kept in the
 * delivery log as a notification with status "skipped" (never sent), target
 * the masked address when there is one. */
static enum cc_err skip(struct cc_tx *tx, struct raising *e, json_t *skipped,
                        int64_t contact_id, const char *channel, const char *target,
                        const char *why, struct cc_error *err)
{
    json_array_append_new(skipped, json_pack("{s:I, s:s, s:s}", "contact_id",
                                             (json_int_t)contact_id, "channel", channel,
                                             "reason", why));
    return add(tx, e, contact_id, channel, 0, target, why, err);
}

/* One contact's notifications of event e: one per channel that may receive it,
 * a skipped one for each that may not. */
static enum cc_err contact_notifications(struct cc_tx *tx, struct raising *e,
                                         const struct cc_contact *c, json_t *skipped,
                                         struct cc_error *err)
{
    char masked[CC_URL_MAX + 1] = "";
    /* the same rule the outbox applies again when it sends (outbox.c) */
    enum svc_channel ok = svc_channel_check(c, "email");
    enum cc_err rc;
    if (ok != SVC_CHANNEL_NONE)
        cc_mask_email(c->email, masked, sizeof masked);
    if (ok == SVC_CHANNEL_NONE)
        rc = skip(tx, e, skipped, c->id, "email", "", N_("no email address"), err);
    else if (ok == SVC_CHANNEL_UNVERIFIED)
        rc = skip(tx, e, skipped, c->id, "email", masked, N_("email address not verified"), err);
    else
        rc = add(tx, e, c->id, "email", 0, masked, NULL, err);
    if (rc)
        return rc;
    masked[0] = '\0';
    if (c->mobile[0])
        cc_mask_mobile(c->mobile, masked, sizeof masked);
    if (svc_channel_check(c, "mobile") != SVC_CHANNEL_OK)
        rc = skip(tx, e, skipped, c->id, "mobile", masked, N_("mobile number not verified"), err);
    else
        rc = add(tx, e, c->id, "mobile", 0, masked, NULL, err);
    if (!rc && c->n_webhooks == 0)
        rc = skip(tx, e, skipped, c->id, "webhook", "", N_("no notification robots"), err);
    for (int w = 0; w < c->n_webhooks && !rc; w++) {
        cc_mask_webhook_url(c->webhooks[w].url, masked, sizeof masked);
        rc = add(tx, e, c->id, "webhook", c->webhooks[w].id, masked, NULL, err);
    }
    return rc;
}

/* svc_event_raise_tx, with the first h->granted pending notifications born
 * claimed by the dispatcher (h NULL: none). */
static enum cc_err raise_tx(struct cc_tx *tx, const struct cc_caller *caller, const char *type,
                            const int64_t *ids, size_t n, const char *data_json,
                            struct cc_handoff *h, int64_t *event_id, struct cc_error *err)
{
    struct raising ev = {.h = h};
    struct cc_event e;
    if (h)
        h->n = 0; /* the transaction may run again */
    memset(&e, 0, sizeof e);
    e.account_id = caller->account_id;
    cc_strlcpy(e.type, type, sizeof e.type);
    e.data = (char *)data_json;
    e.created_at = cc_now_ms();
    struct cc_contact *c = cc_malloc(sizeof *c);
    json_t *skipped = json_array();
    enum cc_err rc = CC_OK;
    /* The event first (for its id), its skipped list written at the end. */
    e.skipped = "[]";
    if ((rc = cc_tx_event_insert(tx, &e, err)))
        goto out;
    ev.e = e;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = cc_tx_contact_get(tx, e.account_id, ids[i], c, err);
        if (rc == CC_ERR_NOT_FOUND) {
            rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "ContactIds",
                              "Contact %lld does not exist.", (long long)ids[i]);
            break;
        }
        if (rc)
            break;
        rc = contact_notifications(tx, &ev, c, skipped, err);
    }
    if (!rc) {
        /* The skipped list, now complete, replaces the placeholder. */
        char *s = json_dumps(skipped, JSON_COMPACT);
        struct cc_event upd = e;
        upd.skipped = s;
        rc = cc_tx_event_set_skipped(tx, &upd, err);
        free(s);
    }
    if (!rc) {
        json_t *ch = json_object();
        svc_change_str(ch, "type", SVC_PII_NONE, NULL, type);
        svc_change_int(ch, "contacts", 0, 0, 1, (int64_t)n);
        rc = svc_audit(tx, caller, CC_AUDIT_EVENT_CREATE, e.id, ch, err);
    }
    *event_id = e.id;
out:
    json_decref(skipped);
    cc_free(c);
    return rc;
}

enum cc_err svc_event_raise_tx(struct cc_tx *tx, const struct cc_caller *caller,
                               const char *type, const int64_t *ids, size_t n,
                               const char *data_json, int64_t *event_id, struct cc_error *err)
{
    return raise_tx(tx, caller, type, ids, n, data_json, NULL, event_id, err);
}

static enum cc_err event_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct event_op *op = arg;
    return raise_tx(tx, op->caller, op->type, op->ids, op->n, op->data_json, &op->handoff,
                    &op->event_id, err);
}

enum cc_err cc_event_create(struct cc_service *svc, const struct cc_caller *caller,
                            const char *type, const int64_t *contact_ids, size_t n,
                            const void *data, int64_t *event_id, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    if (!type)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Type", "type is required.");
    if (cc_event_type_parse(type) == CC_EVENT_NONE)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Type",
                            "type must be one of certificate.application.verification_required, "
                            "certificate.application.approved, certificate.application.rejected, "
                            "certificate.issued, certificate.expiring, certificate.expired, "
                            "certificate.revoked, contact.test, certificate.endpoint_outdated, "
                            "certificate.endpoint_expiring, certificate.endpoint_error, "
                            "certificate.renewal_failed.");
    if (n == 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "ContactIds",
                            "contact_ids must name at least one contact.");
    if (n > CC_EVENT_MAX_CONTACTS)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "ContactIds",
                            "An event names at most %d contacts.", CC_EVENT_MAX_CONTACTS);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (contact_ids[i] == contact_ids[j])
                return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "ContactIds",
                                    "Contact %lld is named twice.", (long long)contact_ids[i]);
    char *data_json = data ? json_dumps(data, JSON_COMPACT) : NULL;
    if (data_json && strlen(data_json) > CC_EVENT_MAX_DATA) {
        free(data_json);
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "Data", "data is larger than %d bytes.",
                            CC_EVENT_MAX_DATA);
    }
    struct event_op op = {.caller = caller, .type = type, .ids = contact_ids, .n = n,
                          .data_json = data_json ? data_json : "{}"};
    /* Each contact's addresses and robots, at most: what the dispatcher can
     * take in hand is born claimed by it and goes out without a claim. */
    cc_dispatcher_handoff_begin(svc->dispatcher, n * (2 + CC_WEBHOOKS_MAX), &op.handoff);
    rc = cc_store_write(svc->store, event_tx, &op, err);
    cc_dispatcher_handoff_end(svc->dispatcher, &op.handoff, rc == CC_OK);
    free(data_json);
    if (rc)
        return rc;
    *event_id = op.event_id;
    cc_dispatcher_wake(svc->dispatcher);
    return CC_OK;
}

enum cc_err cc_event_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                         struct cc_event *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    return cc_store_event_get(svc->store, caller->account_id, id, out, err);
}

enum cc_err cc_notification_list(struct cc_service *svc, const struct cc_caller *caller,
                                 struct cc_notif_filter *f, struct cc_notification **out,
                                 size_t *n, int64_t *total, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    static const char *statuses[] = {"pending", "delivered", "failed", "dead", "cancelled",
                                     "skipped"};
    static const char *channels[] = {"email", "mobile", "webhook"};
    int ok = !f->status;
    for (size_t i = 0; !ok && i < 6; i++)
        ok = !strcmp(f->status, statuses[i]);
    if (!ok)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Status",
                            "status must be pending, delivered, failed, dead, cancelled or "
                            "skipped.");
    ok = !f->channel;
    for (size_t i = 0; !ok && i < 3; i++)
        ok = !strcmp(f->channel, channels[i]);
    if (!ok)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Channel",
                            "channel must be email, mobile or webhook.");
    if ((rc = svc_check_page(f->page, f->page_size, err)))
        return rc;
    f->account_id = caller->account_id;
    return cc_store_notif_list(svc->store, f, out, n, total, err);
}

enum cc_err cc_notification_get(struct cc_service *svc, const struct cc_caller *caller,
                                int64_t id, struct cc_notification *out,
                                struct cc_attempt **attempts, size_t *nattempts,
                                struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    if ((rc = cc_store_notif_get(svc->store, caller->account_id, id, out, err)))
        return rc;
    return cc_store_attempts_list(svc->store, id, attempts, nattempts, err);
}

struct resend_op {
    const struct cc_caller *caller;
    int64_t id;
};

static enum cc_err resend_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct resend_op *op = arg;
    int64_t now = cc_now_ms();
    enum cc_err rc = cc_tx_notif_resend(tx, op->caller->account_id, op->id, now, err);
    if (rc)
        return rc;
    return svc_audit(tx, op->caller, CC_AUDIT_NOTIFICATION_RESEND, op->id, NULL, err);
}

enum cc_err cc_notification_resend(struct cc_service *svc, const struct cc_caller *caller,
                                   int64_t id, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    /* A skipped notification never changes, so reading it before the write is exact. */
    struct cc_notification *n = cc_malloc(sizeof *n);
    rc = cc_store_notif_get(svc->store, caller->account_id, id, n, err);
    int skipped = !rc && !strcmp(n->status, "skipped");
    cc_free(n);
    if (rc)
        return rc;
    if (skipped)
        return cc_error_set(err, CC_ERR_INVALID_TRANSITION, NULL,
                            "A skipped notification was never sent and cannot be resent: verify "
                            "the address or add a robot, then raise the event again.");
    struct resend_op op = {caller, id};
    if ((rc = cc_store_write(svc->store, resend_tx, &op, err)))
        return rc;
    cc_dispatcher_wake(svc->dispatcher);
    return CC_OK;
}
