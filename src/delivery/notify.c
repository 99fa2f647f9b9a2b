/*
 * notify.c — one message to one channel, as the service decided it (struct
 * cc_outgoing): the rendered message goes to an email address, a mobile or
 * a robot through the channel's sender. Test sends and the dispatcher both
 * come through here, so a test exercises exactly the message type, signing
 * and sender a real notification uses. Who may receive what is not decided
 * here: the service has already decided it.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/core.h"
#include "delivery/delivery_int.h"
#include "util/util.h"

int cc_notify_prepare(const struct cc_delivery_config *cfg, const struct cc_outgoing *o,
                      const char *msg_uuid, struct cc_send_result *res, struct cc_xfer **out)
{
    const struct cc_rendered *r = &o->r;
    memset(res, 0, sizeof *res);
    *out = NULL;
    if (!strcmp(o->channel, "email")) {
        struct cc_email e = {o->to, o->to_name, r->title, r->text, r->html};
        return cc_email_prepare(cfg, &e, res, out);
    }
    if (!strcmp(o->channel, "mobile")) {
        json_t *param = json_pack("{s:s}", "title", r->title);
        char *param_s = json_dumps(param, JSON_COMPACT);
        struct cc_sms sms = {o->to, param_s, r->text, msg_uuid,
                             cfg->sms_notify_template_code ? cfg->sms_notify_template_code : ""};
        int rc = cc_sms_prepare(cfg, &sms, res, out);
        free(param_s);
        json_decref(param);
        return rc;
    }
    struct cc_robot_message m = {
        .kind = o->kind,
        .url = o->url,
        .secret = o->secret[0] ? o->secret : NULL,
        .title = r->title,
        .markdown = r->markdown,
        .text = r->text,
        .mention_mobile = o->mention_mobile[0] ? o->mention_mobile : NULL,
        .msg_uuid = msg_uuid,
    };
    return cc_robot_prepare(cfg, &m, res, out);
}

int cc_notify_send(const struct cc_delivery_config *cfg, const struct cc_outgoing *o,
                   const char *msg_uuid, struct cc_send_result *res,
                   struct cc_robot_answer *ans)
{
    struct cc_xfer *x;
    if (ans)
        memset(ans, 0, sizeof *ans);
    if (cc_notify_prepare(cfg, o, msg_uuid, res, &x) || !x)
        return cc_delivery_rc(res);
    return cc_xfer_send_one(x, res, ans);
}
