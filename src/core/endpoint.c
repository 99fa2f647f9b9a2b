/*
 * endpoint.c — the pure parts of watched endpoints (core/model.h): freeing
 * one, the event type of each alert, the one word for its state, and the
 * rule for a host to watch. The checks and their schedule are the
 * service's (service/endpoints.c); the handshake is delivery's
 * (delivery/tls_probe.c).
 */
#include <arpa/inet.h>
#include <string.h>

#include "core/core.h"
#include "util/util.h"

void cc_endpoint_clear(struct cc_endpoint *e)
{
    cc_free(e->last.names);
    e->last.names = NULL;
}

const char *cc_endpoint_alert_event(enum cc_endpoint_alert a)
{
    switch (a) {
    case CC_ENDPOINT_ALERT_OUTDATED: return "certificate.endpoint_outdated";
    case CC_ENDPOINT_ALERT_EXPIRING: return "certificate.endpoint_expiring";
    case CC_ENDPOINT_ALERT_ERROR: return "certificate.endpoint_error";
    }
    return "";
}

const char *cc_endpoint_state(const struct cc_endpoint *e)
{
    if (!e->last.checked_at)
        return "pending";
    if (e->alerts & CC_ENDPOINT_ALERT_ERROR)
        return "error";
    if (e->alerts & CC_ENDPOINT_ALERT_OUTDATED)
        return "outdated";
    if (e->alerts & CC_ENDPOINT_ALERT_EXPIRING)
        return "expiring";
    return "ok";
}

enum cc_err cc_endpoint_check_host(const char *in, const char *field, char *out, size_t outsz,
                                   int *is_ip, struct cc_error *err)
{
    unsigned char addr[16];
    *is_ip = 0;
    if (!in || !in[0])
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, field, "%s is required.",
                            !strcmp(field, "Sni") ? "sni" : "host");
    if (strlen(in) <= CC_DOMAIN_MAX &&
        (inet_pton(AF_INET, in, addr) == 1 || inet_pton(AF_INET6, in, addr) == 1)) {
        cc_strlcpy(out, in, outsz);
        cc_ascii_lower(out);
        *is_ip = 1;
        return CC_OK;
    }
    if (in[0] == '*')
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, field,
                            "A server's name has no wildcard: name one host, such as "
                            "www.example.com.");
    struct cc_error inner;
    if (cc_cert_check_domain(in, out, outsz, &inner))
        return cc_error_set(err, inner.code, field,
                            "Not a host name or an IP address: %s", inner.message);
    return CC_OK;
}
