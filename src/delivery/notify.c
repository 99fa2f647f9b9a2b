/*
 * notify.c — one rendered message to one channel of a contact. Test sends
 * and the dispatcher both come through here, so a test exercises exactly
 * the message type, signing and sender a real notification uses.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"
#include "delivery/delivery_int.h"
#include "store/store.h"
#include "util/util.h"

int cc_notify_prepare(const struct cc_delivery_config *cfg, const struct cc_rendered *r,
                      const struct cc_contact *c, const char *channel,
                      const struct cc_webhook *w, const char *secret, const char *msg_uuid,
                      struct cc_send_result *res, struct cc_xfer **out)
{
    memset(res, 0, sizeof *res);
    *out = NULL;
    if (!strcmp(channel, "email")) {
        struct cc_email e = {c->email, c->name, r->title, r->text, r->html};
        return cc_email_prepare(cfg, &e, res, out);
    }
    if (!strcmp(channel, "mobile")) {
        json_t *param = json_pack("{s:s}", "title", r->title);
        char *param_s = json_dumps(param, JSON_COMPACT);
        struct cc_sms sms = {c->mobile, param_s, r->text, msg_uuid,
                             cfg->sms_notify_template_code ? cfg->sms_notify_template_code : ""};
        int rc = cc_sms_prepare(cfg, &sms, res, out);
        free(param_s);
        json_decref(param);
        return rc;
    }
    struct cc_robot_message m = {
        .kind = w->kind,
        .url = w->url,
        .secret = secret,
        .title = r->title,
        .markdown = r->markdown,
        .text = r->text,
        /* only a verified mobile is ever mentioned */
        .mention_mobile = w->mention_mobile && c->mobile_verified_at ? c->mobile : NULL,
        .msg_uuid = msg_uuid,
    };
    return cc_robot_prepare(cfg, &m, res, out);
}

int cc_notify_send(const struct cc_delivery_config *cfg, const struct cc_rendered *r,
                   const struct cc_contact *c, const char *channel, const struct cc_webhook *w,
                   const char *secret, const char *msg_uuid, struct cc_send_result *res,
                   struct cc_robot_answer *ans)
{
    struct cc_xfer *x;
    if (ans)
        memset(ans, 0, sizeof *ans);
    if (cc_notify_prepare(cfg, r, c, channel, w, secret, msg_uuid, res, &x) || !x)
        return cc_delivery_rc(res);
    return cc_xfer_send_one(x, res, ans);
}

enum cc_err cc_template_texts_get(struct cc_store *store, int64_t account_id,
                                 enum cc_event_type t, const char *channel_kind,
                                 const char *lang, struct cc_template_texts *out)
{
    const char *channel = NULL;
    if (channel_kind && !strcmp(channel_kind, "email"))
        channel = "email";
    else if (channel_kind && (!strcmp(channel_kind, "sms") || !strcmp(channel_kind, "mobile")))
        channel = "sms";
    else if (channel_kind && (!strcmp(channel_kind, "robot") || !strcmp(channel_kind, "webhook")))
        channel = "robot";
    const char *language = lang && !strcmp(lang, "zh-CN") ? "zh-CN" : "en";
    struct cc_error err;
    cc_error_clear(&err);
    out->found = 0;
    if (!channel || (unsigned)t >= CC_EVENT_COUNT || t == CC_EVENT_NONE)
        return CC_OK;
    enum cc_err rc = cc_store_template_get(store, account_id, cc_event_type_name(t), channel,
                                           language, out->title, sizeof out->title, out->body,
                                           sizeof out->body, &err);
    if (rc == CC_OK)
        out->found = 1;
    if (rc && rc != CC_ERR_NOT_FOUND) {
        cc_log(CC_LOG_WARN, "template lookup failed; the built-in text was used", "error",
               err.message, NULL);
        return rc;
    }
    return CC_OK;
}

void cc_render_with(const struct cc_template_texts *texts, enum cc_event_type t,
                    const char *lang, const void *data, const char *contact_name, int test,
                    struct cc_rendered *out)
{
    const char *language = lang && !strcmp(lang, "zh-CN") ? "zh-CN" : "en";
    if (texts && texts->found)
        cc_render_template(texts->title, texts->body, t, language, data, contact_name, test, out);
    else
        cc_render_event(t, language, data, contact_name, test, out);
}

enum cc_err cc_render_for_account(struct cc_store *store, int64_t account_id,
                                  enum cc_event_type t, const char *channel_kind,
                                  const char *lang, const void *data, const char *contact_name,
                                  int test, struct cc_rendered *out)
{
    struct cc_template_texts *v = cc_malloc(sizeof *v);
    enum cc_err rc = cc_template_texts_get(store, account_id, t, channel_kind, lang, v);
    cc_render_with(v, t, lang, data, contact_name, test, out);
    cc_free(v);
    return rc;
}
