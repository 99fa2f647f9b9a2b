/*
 * config.c — cc_delivery_check_config(): the delivery settings checked once
 * at start-up (an SMTP URL and sender that parse, a known SMS provider with
 * the settings it needs, the log stand-ins only in development mode), so
 * that a configuration no message could go out with is refused before the
 * server starts rather than at the first send.
 */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "delivery/delivery_int.h"

static int empty(const char *s)
{
    return !s || !*s;
}

static int fail(char *err, size_t errsz, const char *msg)
{
    snprintf(err, errsz, "%s", msg);
    return -1;
}

int cc_delivery_check_config(const struct cc_delivery_config *cfg, char *err, size_t errsz)
{
    if (cfg->timeout_ms <= 0)
        return fail(err, errsz, "send_timeout_ms must be positive.");
    if (!empty(cfg->smtp_url)) {
        char scheme[16], name[256], addr[320];
        if (cc_delivery_url_parts(cfg->smtp_url, scheme, sizeof scheme, NULL, 0, NULL, 0) ||
            (strcmp(scheme, "smtp") && strcmp(scheme, "smtps")))
            return fail(err, errsz,
                        "smtp_url must be smtp://HOST:PORT (STARTTLS) or smtps://HOST:PORT.");
        if (empty(cfg->smtp_from) ||
            cc_smtp_parse_address(cfg->smtp_from, name, sizeof name, addr, sizeof addr))
            return fail(err, errsz,
                        "smtp_from must be an email address or \"Name <address>\".");
    }
    const char *p = cfg->sms_provider ? cfg->sms_provider : "";
    if (!*p)
        return 0;
    if (!strcmp(p, "log")) {
        if (!cfg->dev)
            return fail(err, errsz,
                        "sms_provider = log writes codes to the log and is only allowed in "
                        "development mode (dev = 1); choose aliyun or webhook.");
        return 0;
    }
    if (!strcmp(p, "aliyun")) {
        if (empty(cfg->sms_endpoint) || empty(cfg->sms_access_key_id) ||
            empty(cfg->sms_access_key_secret) || empty(cfg->sms_sign_name) ||
            empty(cfg->sms_template_code))
            return fail(err, errsz,
                        "sms_provider = aliyun needs sms_endpoint, sms_access_key_id, "
                        "sms_access_key_secret, sms_sign_name and sms_template_code.");
        return cc_delivery_url_allowed(cfg->sms_endpoint, "sms_endpoint", NULL, err, errsz)
                   ? 0
                   : -1;
    }
    if (!strcmp(p, "webhook")) {
        if (empty(cfg->sms_webhook_url) || empty(cfg->sms_webhook_secret))
            return fail(err, errsz,
                        "sms_provider = webhook needs sms_webhook_url and sms_webhook_secret.");
        return cc_delivery_url_allowed(cfg->sms_webhook_url, "sms_webhook_url", NULL, err, errsz)
                   ? 0
                   : -1;
    }
    return fail(err, errsz, "sms_provider must be aliyun, webhook, log or empty.");
}

