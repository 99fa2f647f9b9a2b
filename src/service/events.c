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
    struct cc_event *written;     /* its id, created_at and skipped list */
    struct cc_handoff handoff;
};

/* The event being written and, when the dispatcher took some in hand, the
 * notifications born claimed by it (cc_dispatcher_handoff_begin). */
struct raising {
    struct cc_event e;
    struct cc_handoff *h;         /* NULL: every notification waits for a claim */
    struct cc_buf skipped;        /* the skipped list's JSON text, written as it grows */
    int64_t first_id, last_id;    /* of the notifications written (0: none yet) */
    /* A contact's notifications, written together (one statement on SQLite) */
    struct cc_notification *rows; /* CC_NOTIF_INSERT_MAX of them */
    size_t nrows, nhanded;        /* made; of them, born in the dispatcher's hand */
    int too_long;                 /* the skipped list passed SKIPPED_MAX */
};

/* "e<event>-c<contact>-<channel>-<robot>": a notification's idempotency key
 * (sent to robots as msgUuid). Written without printf: an event of 100
 * contacts makes 700 of them inside the writer's transaction. */
static void notification_key(char *out, size_t outsz, int64_t event_id, int64_t contact_id,
                             const char *channel, int64_t webhook_id)
{
    cc_strlcpy(out, "e", outsz);
    cc_strlcat_i64(out, event_id, outsz);
    cc_strlcat(out, "-c", outsz);
    cc_strlcat_i64(out, contact_id, outsz);
    cc_strlcat(out, "-", outsz);
    cc_strlcat(out, channel, outsz);
    cc_strlcat(out, "-", outsz);
    cc_strlcat_i64(out, webhook_id, outsz);
}

/* One notification of the contact being written, made in ev->rows; written
 * by flush. */
static void add(struct raising *ev, int64_t contact_id, const char *channel, int64_t webhook_id,
                const char *target, const char *skipped_why)
{
    const struct cc_event *e = &ev->e;
    struct cc_handoff *h = ev->h;
    struct cc_notification *n = &ev->rows[ev->nrows++];
    memset(n, 0, sizeof *n);
    n->account_id = e->account_id;
    n->event_id = e->id;
    n->contact_id = contact_id;
    n->webhook_id = webhook_id;
    cc_strlcpy(n->channel, channel, sizeof n->channel);
    cc_strlcpy(n->target, target, sizeof n->target);
    if (skipped_why) {
        cc_strlcpy(n->status, "skipped", sizeof n->status);
        cc_strlcpy(n->last_error, skipped_why, sizeof n->last_error);
    }
    n->next_attempt_at = e->created_at;
    n->created_at = e->created_at;
    notification_key(n->key, sizeof n->key, e->id, contact_id, channel, webhook_id);
    /* One in hand falls due when its lease runs out, not before: a claim's
     * walk of the due queue passes it by (a release makes it due at once). */
    if (!skipped_why && h && h->n + ev->nhanded < h->granted) {
        n->lease_until = n->next_attempt_at = h->lease_until;
        ev->nhanded++;
    }
}

/* Writes the notifications made for a contact, notes their ids (the event's
 * range, the dispatcher's hand) and starts the next contact's. */
static enum cc_err flush(struct cc_tx *tx, struct raising *ev, struct cc_error *err)
{
    struct cc_handoff *h = ev->h;
    enum cc_err rc = ev->nrows ? cc_tx_notif_insert(tx, ev->rows, ev->nrows,
                                                    h ? h->owner : NULL, err)
                               : CC_OK;
    for (size_t i = 0; !rc && i < ev->nrows; i++) {
        const struct cc_notification *n = &ev->rows[i];
        if (!n->id)
            continue;
        if (!ev->first_id)
            ev->first_id = n->id;
        ev->last_id = n->id;
        if (n->lease_until)
            h->ids[h->n++] = n->id;
    }
    ev->nrows = ev->nhanded = 0;
    return rc;
}

/* A channel the event cannot use: said on the event (skipped) and kept in the
 * delivery log as a notification with status "skipped" (never sent), target
 * the masked address when there is one. */
static void skip(struct raising *e, int64_t contact_id, const char *channel, const char *target,
                 const char *why)
{
    /* {"contact_id":N,"channel":...,"reason":...}, as json_dumps(JSON_COMPACT)
     * writes it: the text is stored and answered as it is (rest_events.c) */
    struct cc_buf *b = &e->skipped;
    char id[CC_I64_CHARS];
    if (cc_buf_puts(b, b->len > 1 ? ",{\"contact_id\":" : "{\"contact_id\":") ||
        cc_buf_append(b, id, cc_fmt_i64(id, contact_id)) || cc_buf_puts(b, ",\"channel\":") ||
        cc_json_put_string(b, channel, strlen(channel)) || cc_buf_puts(b, ",\"reason\":") ||
        cc_json_put_string(b, why, strlen(why)) || cc_buf_puts(b, "}"))
        e->too_long = 1;
    add(e, contact_id, channel, 0, target, why);
}

static enum cc_err skipped_too_long(struct cc_error *err)
{
    return cc_error_set(err, CC_ERR_INTERNAL, NULL, "The event's skipped list is too long.");
}

/* One contact's notifications of event e: one per channel that may receive it,
 * a skipped one for each that may not. */
static enum cc_err contact_notifications(struct cc_tx *tx, struct raising *e,
                                         const struct cc_contact *c, struct cc_error *err)
{
    char masked[CC_URL_MAX + 1] = "";
    /* the same rule the outbox applies again when it sends (outbox.c) */
    enum svc_channel ok = svc_channel_check(c, "email");
    if (ok != SVC_CHANNEL_NONE)
        cc_mask_email(c->email, masked, sizeof masked);
    if (ok == SVC_CHANNEL_NONE)
        skip(e, c->id, "email", "", N_("no email address"));
    else if (ok == SVC_CHANNEL_UNVERIFIED)
        skip(e, c->id, "email", masked, N_("email address not verified"));
    else
        add(e, c->id, "email", 0, masked, NULL);
    masked[0] = '\0';
    if (c->mobile[0])
        cc_mask_mobile(c->mobile, masked, sizeof masked);
    if (svc_channel_check(c, "mobile") != SVC_CHANNEL_OK)
        skip(e, c->id, "mobile", masked, N_("mobile number not verified"));
    else
        add(e, c->id, "mobile", 0, masked, NULL);
    if (c->n_webhooks == 0)
        skip(e, c->id, "webhook", "", N_("no notification robots"));
    for (int w = 0; w < c->n_webhooks; w++) {
        cc_mask_webhook_url(c->webhooks[w].url, masked, sizeof masked);
        add(e, c->id, "webhook", c->webhooks[w].id, masked, NULL);
    }
    /* at most CC_NOTIF_INSERT_MAX: the email, the mobile, the robots or their lack */
    return e->too_long ? skipped_too_long(err) : flush(tx, e, err);
}

/* An event's skipped list holds at most one entry a contact and channel:
 * "contact_id" of at most 20 digits, a channel name and a reason of the
 * fixed texts above, well under 256 bytes each. */
#define SKIPPED_MAX ((size_t)CC_EVENT_MAX_CONTACTS * 3 * 256)

/* svc_event_raise_tx, with the first h->granted pending notifications born
 * claimed by the dispatcher (h NULL: none). Sets written's id and
 * created_at and, when want_skipped, its skipped list as written. */
static enum cc_err raise_tx(struct cc_tx *tx, const struct cc_caller *caller, const char *type,
                            const int64_t *ids, size_t n, const char *data_json,
                            struct cc_handoff *h, struct cc_event *written, int want_skipped,
                            struct cc_error *err)
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
    ev.rows = cc_malloc(CC_NOTIF_INSERT_MAX * sizeof *ev.rows);
    cc_buf_init(&ev.skipped, SKIPPED_MAX);
    enum cc_err rc = CC_OK;
    /* The event first (for its id), its skipped list written at the end. */
    e.skipped = "[]";
    if ((rc = cc_tx_event_insert(tx, &e, err)))
        goto out;
    ev.e = e;
    if (cc_buf_puts(&ev.skipped, "[")) {
        rc = skipped_too_long(err);
        goto out;
    }
    for (size_t i = 0; i < n && !rc; i++) {
        /* A contact named again gets nothing more: one notification a
         * contact, channel and robot (cc_event_create refuses a repeat; the
         * other callers name sets). */
        size_t seen = 0;
        while (seen < i && ids[seen] != ids[i])
            seen++;
        if (seen < i)
            continue;
        rc = cc_tx_contact_get(tx, e.account_id, ids[i], c, err);
        if (rc == CC_ERR_NOT_FOUND) {
            rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "ContactIds",
                              "Contact %lld does not exist.", (long long)ids[i]);
            break;
        }
        if (rc)
            break;
        rc = contact_notifications(tx, &ev, c, err);
    }
    if (!rc && cc_buf_puts(&ev.skipped, "]"))
        rc = skipped_too_long(err);
    if (!rc) {
        /* The skipped list, now complete, replaces the placeholder. */
        struct cc_event upd = e;
        upd.skipped = ev.skipped.data;
        upd.first_notification_id = ev.first_id;
        upd.last_notification_id = ev.last_id;
        rc = cc_tx_event_set_skipped(tx, &upd, err);
    }
    if (!rc) {
        json_t *ch = json_object();
        svc_change_str(ch, "type", SVC_PII_NONE, NULL, type);
        svc_change_int(ch, "contacts", 0, 0, 1, (int64_t)n);
        rc = svc_audit(tx, caller, CC_AUDIT_EVENT_CREATE, e.id, ch, err);
    }
    written->id = e.id;
    written->created_at = e.created_at;
    if (!rc && want_skipped) {
        cc_free(written->skipped); /* from a run of this transaction that did not commit */
        written->skipped = cc_buf_steal(&ev.skipped, NULL);
    }
out:
    cc_buf_free(&ev.skipped);
    cc_free(ev.rows);
    cc_free(c);
    return rc;
}

enum cc_err svc_event_raise_tx(struct cc_tx *tx, const struct cc_caller *caller,
                               const char *type, const int64_t *ids, size_t n,
                               const char *data_json, int64_t *event_id, struct cc_error *err)
{
    struct cc_event written = {0};
    enum cc_err rc = raise_tx(tx, caller, type, ids, n, data_json, NULL, &written, 0, err);
    *event_id = written.id;
    return rc;
}

static enum cc_err event_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct event_op *op = arg;
    return raise_tx(tx, op->caller, op->type, op->ids, op->n, op->data_json, &op->handoff,
                    op->written, 1, err);
}

enum cc_err cc_event_create(struct cc_service *svc, const struct cc_caller *caller,
                            const char *type, const int64_t *contact_ids, size_t n,
                            const void *data, struct cc_event *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
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
    size_t data_len = 2;
    char *data_json = data ? cc_json_compact(data, &data_len) : cc_strdup("{}");
    if (!data_json)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "out of memory");
    if (data_len > CC_EVENT_MAX_DATA) {
        cc_free(data_json);
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "Data", "data is larger than %d bytes.",
                            CC_EVENT_MAX_DATA);
    }
    struct event_op op = {.caller = caller, .type = type, .ids = contact_ids, .n = n,
                          .data_json = data_json, .written = out};
    /* Each contact's addresses and robots, at most: what the dispatcher can
     * take in hand is born claimed by it and goes out without a claim. */
    cc_dispatcher_handoff_begin(svc->dispatcher, n * (2 + CC_WEBHOOKS_MAX), &op.handoff);
    rc = cc_store_write(svc->store, event_tx, &op, err);
    cc_dispatcher_handoff_end(svc->dispatcher, &op.handoff, rc == CC_OK);
    if (rc) {
        cc_free(data_json);
        cc_event_free(out);
        return rc;
    }
    cc_dispatcher_wake(svc->dispatcher);
    /* The event as written: what reading it back would give. */
    out->account_id = caller->account_id;
    cc_strlcpy(out->type, type, sizeof out->type);
    out->data = data_json;
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
