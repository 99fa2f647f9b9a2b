/*
 * templates.c — an account's own notification texts: save, read, list and
 * delete them, preview any template rendered with sample or real data, and
 * render an event for an account with its own text where it has one
 * (svc_render_for_account in outbox.c is the one lookup the test send and the
 * dispatcher's resolver share). Texts are checked by core's cc_template_check() and rendered by
 * core's cc_render_template(); store/ keeps them (table templates).
 *
 * A template is named by event type, channel ("email", "sms", "robot") and
 * language ("en", "zh-CN"); where the account has none, the built-in text
 * of the event type and language applies.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

static const char *const channels[] = {"email", "sms", "robot"};
static const char *const languages[] = {"en", "zh-CN"};
#define NCHANNELS  (sizeof channels / sizeof channels[0])
#define NLANGUAGES (sizeof languages / sizeof languages[0])

json_t *svc_sample_data(void)
{
    char ts[32], date[16];
    cc_time_rfc3339(cc_now_ms() + 30LL * 86400000, ts, sizeof ts);
    memcpy(date, ts, 10);
    date[10] = '\0';
    return json_pack("{s:[s], s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s}", "domains",
                     "www.example.com", "brand", "DigiCert", "type", "OV", "not_after", date,
                     "days_left", (json_int_t)30, "order_id", "TEST-0001", "reason", "test",
                     "certificate_id", "cert-0001", "serial", "0123456789ABCDEF", "endpoint",
                     "www.example.com:443", "reason_zh", "测试");
}

static int one_of(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; s && i < n; i++)
        if (!strcmp(s, set[i]))
            return 1;
    return 0;
}

/* Checks the name of a template. in_path: the name came as the path of the
 * resource, where a name that does not exist is 404; in a request body it
 * is a malformed field (400). */
static enum cc_err check_name(const char *event_type, const char *channel, const char *language,
                              int in_path, struct cc_error *err)
{
    enum cc_event_type t = cc_event_type_parse(event_type);
    const char *bad = NULL, *field = NULL, *valid = NULL;
    if (t == CC_EVENT_NONE) {
        bad = "event type", field = "EventType";
        valid = "certificate.application.verification_required, certificate.application.approved, "
                "certificate.application.rejected, certificate.issued, certificate.expiring, "
                "certificate.expired, certificate.revoked, contact.test, "
                "certificate.renewal_failed";
    } else if (!one_of(channel, channels, NCHANNELS)) {
        bad = "channel", field = "Channel", valid = "email, sms, robot";
    } else if (!one_of(language, languages, NLANGUAGES)) {
        bad = "language", field = "Language", valid = "en, zh-CN";
    }
    if (!bad)
        return CC_OK;
    if (in_path)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL,
                            "There is no template for this %s; templates exist for: %s.", bad,
                            valid);
    return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, field, "The %s must be one of: %s.", bad,
                        valid);
}

static void view_builtin(const char *event_type, const char *channel, const char *language,
                         struct cc_template_view *out)
{
    const char *title = "", *body = "";
    memset(out, 0, sizeof *out);
    cc_template_builtin(cc_event_type_parse(event_type), language, &title, &body);
    cc_strlcpy(out->event_type, event_type, sizeof out->event_type);
    cc_strlcpy(out->channel, channel, sizeof out->channel);
    cc_strlcpy(out->language, language, sizeof out->language);
    cc_strlcpy(out->title, title, sizeof out->title);
    cc_strlcpy(out->body, body, sizeof out->body);
}

/* The template in use (the account's own, else built in) into out. */
static enum cc_err effective(struct cc_service *svc, int64_t account_id, const char *event_type,
                             const char *channel, const char *language,
                             struct cc_template_view *out, struct cc_error *err)
{
    view_builtin(event_type, channel, language, out);
    struct cc_template_view *own = cc_malloc(sizeof *own);
    enum cc_err rc = cc_store_template_get(svc->store, account_id, event_type, channel, language,
                                           own->title, sizeof own->title, own->body,
                                           sizeof own->body, err);
    if (!rc) {
        memcpy(out->title, own->title, sizeof out->title);
        memcpy(out->body, own->body, sizeof out->body);
        out->custom = 1;
    } else if (rc == CC_ERR_NOT_FOUND) {
        rc = CC_OK;
    }
    cc_free(own);
    return rc;
}

struct put_op {
    const struct cc_caller *caller;
    const struct cc_template *t;
};

static enum cc_err put_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct put_op *op = arg;
    char target[96];
    snprintf(target, sizeof target, "%s/%s/%s", op->t->event_type, op->t->channel,
             op->t->language);
    enum cc_err rc = cc_tx_template_put(tx, op->caller->account_id, op->t, err);
    if (rc)
        return rc;
    json_t *ch = json_object();
    svc_change_str(ch, "title", SVC_PII_NONE, NULL, op->t->title);
    svc_change_int(ch, "body_bytes", 0, 0, 1, (int64_t)strlen(op->t->body));
    return svc_audit_ref(tx, op->caller, CC_AUDIT_TEMPLATE_PUT, target, ch, err);
}

enum cc_err cc_template_put(struct cc_service *svc, const struct cc_caller *caller,
                            const char *event_type, const char *channel, const char *language,
                            const char *title, const char *body, struct cc_template_view *out,
                            struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc || (rc = check_name(event_type, channel, language, 1, err)))
        return rc;
    if (!title || !body)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, title ? "Body" : "Title",
                            "A template needs both a title and a body.");
    char why[384];
    if (cc_template_check(title, body, language, why, sizeof why))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Template", "%s", why);
    struct cc_template *t = cc_calloc(1, sizeof *t);
    cc_strlcpy(t->event_type, event_type, sizeof t->event_type);
    cc_strlcpy(t->channel, channel, sizeof t->channel);
    cc_strlcpy(t->language, language, sizeof t->language);
    cc_strlcpy(t->title, title, sizeof t->title);
    cc_strlcpy(t->body, body, sizeof t->body);
    t->updated_at = cc_now_ms();
    struct put_op op = {caller, t};
    rc = cc_store_write(svc->store, put_tx, &op, err);
    if (!rc) {
        view_builtin(event_type, channel, language, out);
        cc_strlcpy(out->title, title, sizeof out->title);
        cc_strlcpy(out->body, body, sizeof out->body);
        out->custom = 1;
    }
    cc_free(t);
    return rc;
}

struct delete_op {
    const struct cc_caller *caller;
    const char *event_type, *channel, *language;
    int64_t now;
};

static enum cc_err delete_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct delete_op *op = arg;
    char target[96];
    snprintf(target, sizeof target, "%s/%s/%s", op->event_type, op->channel, op->language);
    enum cc_err rc = cc_tx_template_delete(tx, op->caller->account_id, op->event_type,
                                           op->channel, op->language, err);
    if (rc)
        return rc;
    return svc_audit_ref(tx, op->caller, CC_AUDIT_TEMPLATE_DELETE, target, NULL, err);
}

enum cc_err cc_template_delete(struct cc_service *svc, const struct cc_caller *caller,
                               const char *event_type, const char *channel,
                               const char *language, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc || (rc = check_name(event_type, channel, language, 1, err)))
        return rc;
    struct delete_op op = {caller, event_type, channel, language, cc_now_ms()};
    return cc_store_write(svc->store, delete_tx, &op, err);
}

enum cc_err cc_template_get(struct cc_service *svc, const struct cc_caller *caller,
                            const char *event_type, const char *channel, const char *language,
                            struct cc_template_view *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc || (rc = check_name(event_type, channel, language, 1, err)))
        return rc;
    return effective(svc, caller->account_id, event_type, channel, language, out, err);
}

enum cc_err cc_template_list(struct cc_service *svc, const struct cc_caller *caller,
                             int custom_only, struct cc_template_view **out, size_t *n,
                             struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    struct cc_template *own = NULL;
    size_t nown = 0;
    if ((rc = cc_store_template_list(svc->store, caller->account_id, &own, &nown, err)))
        return rc;
    size_t cap = (size_t)(CC_EVENT_COUNT - 1) * NCHANNELS * NLANGUAGES;
    struct cc_template_view *items = cc_calloc(cap, sizeof *items);
    for (int t = 1; t < CC_EVENT_COUNT; t++) {
        const char *name = cc_event_type_name((enum cc_event_type)t);
        for (size_t c = 0; c < NCHANNELS; c++) {
            for (size_t l = 0; l < NLANGUAGES; l++) {
                const struct cc_template *mine = NULL;
                for (size_t i = 0; i < nown; i++)
                    if (!strcmp(own[i].event_type, name) && !strcmp(own[i].channel, channels[c]) &&
                        !strcmp(own[i].language, languages[l]))
                        mine = &own[i];
                if (custom_only && !mine)
                    continue;
                struct cc_template_view *v = &items[(*n)++];
                view_builtin(name, channels[c], languages[l], v);
                if (mine) {
                    cc_strlcpy(v->title, mine->title, sizeof v->title);
                    cc_strlcpy(v->body, mine->body, sizeof v->body);
                    v->custom = 1;
                }
            }
        }
    }
    cc_free(own);
    *out = items;
    return CC_OK;
}

unsigned cc_template_formats(const char *channel)
{
    if (channel && !strcmp(channel, "email"))
        return CC_FMT_TITLE | CC_FMT_TEXT | CC_FMT_HTML;
    if (channel && !strcmp(channel, "sms"))
        return CC_FMT_TEXT;
    return CC_FMT_TITLE | CC_FMT_MARKDOWN | CC_FMT_TEXT;
}

enum cc_err cc_template_preview(struct cc_service *svc, const struct cc_caller *caller,
                                const struct cc_preview_input *in, struct cc_preview *out,
                                struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    if (!in->event_type)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "EventType", "event_type is required.");
    if (!in->channel)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Channel", "channel is required.");
    struct cc_contact *c = NULL;
    struct cc_template_view *v = cc_malloc(sizeof *v);
    json_t *sample = NULL;
    const char *language = in->language;
    if (in->contact_id) {
        c = cc_malloc(sizeof *c);
        if ((rc = cc_store_contact_get(svc->store, caller->account_id, in->contact_id, c, err)))
            goto out;
        if (!language)
            language = c->language;
    }
    if (!language)
        language = "en";
    if ((rc = check_name(in->event_type, in->channel, language, 0, err)))
        goto out;
    if (in->data) {
        if (!json_is_object((const json_t *)in->data)) {
            rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Data", "data must be an object.");
            goto out;
        }
        char *s = json_dumps(in->data, JSON_COMPACT);
        size_t len = s ? strlen(s) : 0;
        free(s);
        if (len > CC_EVENT_MAX_DATA) {
            rc = cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "Data", "data is larger than %d bytes.",
                              CC_EVENT_MAX_DATA);
            goto out;
        }
    }
    if ((rc = effective(svc, caller->account_id, in->event_type, in->channel, language, v, err)))
        goto out;
    out->custom = v->custom;
    if (in->title || in->body) {
        /* unsaved text: what the account is about to save, checked the same way */
        if (in->title)
            cc_strlcpy(v->title, in->title, sizeof v->title);
        if (in->body)
            cc_strlcpy(v->body, in->body, sizeof v->body);
        char why[384];
        if (cc_template_check(in->title ? in->title : v->title, in->body ? in->body : v->body,
                              language, why, sizeof why)) {
            rc = cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Template", "%s", why);
            goto out;
        }
        out->unsaved = 1;
    }
    const void *data = in->data;
    if (!data)
        data = sample = svc_sample_data();
    cc_render_template(v->title, v->body, cc_event_type_parse(in->event_type), language, data,
                       c ? c->name : NULL, 0, &out->r);
    cc_strlcpy(out->event_type, in->event_type, sizeof out->event_type);
    cc_strlcpy(out->channel, in->channel, sizeof out->channel);
    cc_strlcpy(out->language, language, sizeof out->language);
    out->formats = cc_template_formats(in->channel);
out:
    json_decref(sample);
    cc_free(v);
    cc_free(c);
    return rc;
}

