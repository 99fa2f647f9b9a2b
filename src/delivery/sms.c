/*
 * sms.c — the SMS entry point of the delivery layer: cc_send_sms() picks
 * the configured provider (sms_aliyun.c, sms_webhook.c, or the
 * development-mode log stand-in here). What every sender shares is
 * common.c's; the transfers themselves are xfer.c's.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

/* Development mode only (the configuration check makes sure): the message
 * goes to the log instead of a phone. */
static int send_log(const struct cc_sms *m, struct cc_send_result *res)
{
    char masked[CC_MASKED_MAX];
    cc_mask_mobile(m->mobile, masked, sizeof masked);
    cc_log(CC_LOG_INFO, "sms (development mode: not sent)", "mobile", masked, "text",
           m->text ? m->text : "", NULL);
    cc_delivery_set(res, CC_SEND_OK, "log", "written to the log (development mode)");
    return 0;
}

int cc_sms_prepare(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                   struct cc_send_result *res, struct cc_xfer **out)
{
    memset(res, 0, sizeof *res);
    *out = NULL;
    const char *p = cfg->sms_provider ? cfg->sms_provider : "";
    if (!m->mobile || !*m->mobile) {
        cc_delivery_set(res, CC_SEND_INVALID_TARGET, "", "no mobile number");
        return -1;
    }
    if (!strcmp(p, "aliyun"))
        return cc_sms_aliyun_prepare(cfg, m, res, out);
    if (!strcmp(p, "webhook"))
        return cc_sms_webhook_prepare(cfg, m, res, out);
    if (!strcmp(p, "log") && cfg->dev)
        return send_log(m, res);
    if (!strcmp(p, "log"))
        cc_delivery_set(res, CC_SEND_NOT_CONFIGURED, "",
                        "the log SMS provider is only allowed in development mode");
    else if (!*p)
        cc_delivery_set(res, CC_SEND_NOT_CONFIGURED, "", "no SMS provider is configured");
    else
        cc_delivery_set(res, CC_SEND_NOT_CONFIGURED, "", "unknown SMS provider");
    return -1;
}

int cc_send_sms(const struct cc_delivery_config *cfg, const struct cc_sms *m,
                struct cc_send_result *res)
{
    struct cc_xfer *x;
    if (cc_sms_prepare(cfg, m, res, &x) || !x)
        return cc_delivery_rc(res);
    return cc_xfer_send_one(x, res, NULL);
}
