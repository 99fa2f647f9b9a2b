/*
 * notify.c — one rendered message to one channel of a contact. Test sends
 * and the dispatcher both come through here, so a test exercises exactly
 * the message type, signing and sender a real notification uses.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"
#include "delivery/delivery.h"
#include "util/util.h"

int cc_notify_send(const struct cc_delivery_config *cfg, const struct cc_rendered *r,
                   const struct cc_contact *c, const char *channel, const struct cc_webhook *w,
                   const char *secret, const char *msg_uuid, struct cc_send_result *res,
                   struct cc_robot_answer *ans)
{
    memset(res, 0, sizeof *res);
    if (ans)
        memset(ans, 0, sizeof *ans);
    if (!strcmp(channel, "email")) {
        struct cc_email e = {c->email, c->name, r->title, r->text, r->html};
        return cc_send_email(cfg, &e, res);
    }
    if (!strcmp(channel, "mobile")) {
        json_t *param = json_pack("{s:s}", "title", r->title);
        char *param_s = json_dumps(param, JSON_COMPACT);
        struct cc_sms sms = {c->mobile, param_s, r->text, msg_uuid,
                             cfg->sms_notify_template_code ? cfg->sms_notify_template_code : ""};
        int rc = cc_send_sms(cfg, &sms, res);
        free(param_s);
        json_decref(param);
        return rc;
    }
    struct cc_robot_answer local;
    struct cc_robot_message m = {
        .kind = w->kind,
        .url = w->url,
        .secret = secret,
        .title = r->title,
        .markdown = r->markdown,
        .text = r->text,
        .mention_mobile = NULL,
        .msg_uuid = msg_uuid,
    };
    return cc_send_robot(cfg, &m, res, ans ? ans : &local);
}
