/*
 * router.c — the route table: every HTTP route the server answers, as data.
 * The OpenAPI document (openapi.json) must describe each /v1/ row; a unit
 * test holds them together.
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

const struct cc_route cc_http_routes[] = {
    {"GET", "/healthz", cc_h_healthz, "Liveness: the process is up"},
    {"GET", "/readyz", cc_h_readyz, "Readiness: the database answers"},
    {"GET", "/v1/openapi.json", cc_h_openapi, "This API's OpenAPI 3.1 document"},
    {"POST", "/v1/contacts", cc_h_contacts_create, "Create a contact"},
    {"GET", "/v1/contacts", cc_h_contacts_list, "List and search contacts"},
    {"GET", "/v1/contacts/{id}", cc_h_contacts_get, "Read a contact"},
    {"PATCH", "/v1/contacts/{id}", cc_h_contacts_update, "Change some fields of a contact"},
    {"DELETE", "/v1/contacts/{id}", cc_h_contacts_delete, "Delete a contact"},
    {"POST", "/v1/contacts/{id}/verifications", cc_h_contact_verif_send,
     "Send a code to a contact's email or mobile"},
    {"POST", "/v1/contacts/{id}/verifications/confirm", cc_h_contact_verif_confirm,
     "Confirm a contact's email or mobile with the code"},
    {"POST", "/v1/contacts/{id}/test", cc_h_contact_test,
     "Send a test message to one channel of a contact now"},
    {"POST", "/v1/verifications", cc_h_verif_send, "Send a code to an address before saving it"},
    {"POST", "/v1/verifications/{id}/confirm", cc_h_verif_confirm,
     "Confirm an address with the code"},
    {"POST", "/v1/events", cc_h_events_create, "Record a certificate event"},
    {"GET", "/v1/events/{id}", cc_h_events_get, "An event and the notifications it caused"},
    {"GET", "/v1/notifications", cc_h_notifications_list, "The delivery log"},
    {"GET", "/v1/notifications/{id}", cc_h_notifications_get,
     "One notification with every delivery attempt"},
    {"POST", "/v1/notifications/{id}/resend", cc_h_notifications_resend,
     "Send a finished notification again"},
    {NULL, NULL, NULL, NULL},
};

/* Matches one path against a pattern; {id} takes a positive decimal. */
static int match(const char *pattern, const char *path, int64_t *id)
{
    while (*pattern && *path) {
        if (strncmp(pattern, "{id}", 4) == 0) {
            size_t n = strcspn(path, "/");
            if (n == 0 || n > 15 || path[0] == '0' ||
                cc_parse_i64n(path, n, 1, INT64_MAX, id) != 0)
                return 0;
            pattern += 4;
            path += n;
            continue;
        }
        if (*pattern != *path)
            return 0;
        pattern++;
        path++;
    }
    return *pattern == '\0' && *path == '\0';
}

int cc_route_find(const char *method, const char *path, const struct cc_route **route,
                  int64_t *id, char *allow, size_t allowsz)
{
    int known = 0;
    *route = NULL;
    allow[0] = '\0';
    for (const struct cc_route *r = cc_http_routes; r->method; r++) {
        int64_t rid = 0;
        if (!match(r->pattern, path, &rid))
            continue;
        known = 1;
        if (strcmp(r->method, method) == 0) {
            *route = r;
            *id = rid;
        }
        size_t used = strlen(allow);
        snprintf(allow + used, allowsz - used, "%s%s", used ? ", " : "", r->method);
    }
    return known;
}
