/*
 * router.c — the route table: every HTTP route the server answers, as data.
 * The OpenAPI document (openapi.json) must describe each /v1/ row; a unit
 * test holds them together.
 */
#include <assert.h>
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

/* The roles of a row, shortened so that a row reads as one line. */
#define PUBLIC   CC_ACCESS_PUBLIC
#define READONLY CC_ACCESS_READONLY
#define OPERATOR CC_ACCESS_OPERATOR
#define ADMIN    CC_ACCESS_ADMIN
#define SESSION  CC_ACCESS_SESSION

const struct cc_route cc_http_routes[] = {
    {"GET", "/healthz", cc_h_healthz, PUBLIC, "Liveness: the process is up"},
    {"GET", "/readyz", cc_h_readyz, PUBLIC,
     "Readiness: the database answers and no part of the process is failing"},
    {"GET", "/metrics", cc_h_metrics, READONLY, "Metrics in the Prometheus text format"},
    {"GET", "/v1/openapi.json", cc_h_openapi, READONLY, "This API's OpenAPI 3.1 document"},
    {"POST", "/v1/contacts", cc_h_contacts_create, OPERATOR, "Create a contact"},
    {"GET", "/v1/contacts", cc_h_contacts_list, READONLY, "List and search contacts"},
    {"GET", "/v1/contacts/{id}", cc_h_contacts_get, READONLY, "Read a contact"},
    {"PATCH", "/v1/contacts/{id}", cc_h_contacts_update, OPERATOR,
     "Change some fields of a contact"},
    {"DELETE", "/v1/contacts/{id}", cc_h_contacts_delete, OPERATOR,
     "Delete a contact (refused while open applications name it)"},
    {"POST", "/v1/contacts/{id}/reassign", cc_h_contacts_reassign, OPERATOR,
     "Move a contact's open applications and certificate subscriptions to another contact"},
    {"POST", "/v1/contacts/{id}/verifications", cc_h_contact_verif_send, OPERATOR,
     "Send a code to a contact's email or mobile"},
    {"POST", "/v1/contacts/{id}/verifications/confirm", cc_h_contact_verif_confirm, OPERATOR,
     "Confirm a contact's email or mobile with the code"},
    {"GET", "/v1/contacts/{id}/export", cc_h_contact_export, ADMIN,
     "Everything kept about a contact, in full, for a data subject's request (audited)"},
    {"POST", "/v1/contacts/{id}/webhooks/reveal", cc_h_contact_webhook_reveal, ADMIN,
     "A robot's full webhook URL with its access token (audited)"},
    {"POST", "/v1/contacts/import", cc_h_contacts_import, OPERATOR,
     "Import contacts from a CSV file (text/csv body), in the background"},
    {"GET", "/v1/contacts/imports/{id}", cc_h_contacts_import_get, READONLY,
     "An import job: its state and counts"},
    {"GET", "/v1/contacts/imports/{id}/rows", cc_h_contacts_import_rows, READONLY,
     "An import job's report, row by row"},
    {"GET", "/v1/contacts/export", cc_h_contacts_export, READONLY,
     "Every contact of the account as CSV or JSON lines, streamed"},
    {"POST", "/v1/contacts/{id}/test", cc_h_contact_test, OPERATOR,
     "Send a test message to one channel of a contact now"},
    {"POST", "/v1/webhooks/test", cc_h_webhooks_test, OPERATOR,
     "Send a test message to a robot before it is saved"},
    {"POST", "/v1/verifications", cc_h_verif_send, OPERATOR,
     "Send a code to an address before saving it"},
    {"POST", "/v1/verifications/{id}/confirm", cc_h_verif_confirm, OPERATOR,
     "Confirm an address with the code"},
    {"POST", "/v1/verifications/status", cc_h_verif_status, OPERATOR,
     "Whether an address was confirmed in the last 30 minutes (saved verified if used now)"},
    {"POST", "/v1/events", cc_h_events_create, OPERATOR, "Record a certificate event"},
    {"GET", "/v1/events/{id}", cc_h_events_get, READONLY,
     "An event and the notifications it caused"},
    {"GET", "/v1/notifications", cc_h_notifications_list, READONLY, "The delivery log"},
    {"GET", "/v1/notifications/{id}", cc_h_notifications_get, READONLY,
     "One notification with every delivery attempt"},
    {"POST", "/v1/notifications/{id}/resend", cc_h_notifications_resend, OPERATOR,
     "Send a finished notification again"},
    {"GET", "/v1/templates", cc_h_templates_list, READONLY,
     "Every notification template, the account's own or built in"},
    {"POST", "/v1/templates/preview", cc_h_templates_preview, READONLY,
     "Render a template, saved or not, with sample or real data"},
    {"GET", "/v1/templates/{event}/{channel}/{language}", cc_h_templates_get, READONLY,
     "The template in use for one event type, channel and language"},
    {"PUT", "/v1/templates/{event}/{channel}/{language}", cc_h_templates_put, OPERATOR,
     "Save the account's own template"},
    {"DELETE", "/v1/templates/{event}/{channel}/{language}", cc_h_templates_delete, OPERATOR,
     "Go back to the built-in template"},
    {"POST", "/v1/session", cc_h_session_create, PUBLIC,
     "Sign in to the console with email and password (sets the session cookie)"},
    {"GET", "/v1/session", cc_h_session_get, SESSION,
     "The signed-in console user and the CSRF token"},
    {"PATCH", "/v1/session", cc_h_session_update, SESSION,
     "Change the signed-in user's console language"},
    {"DELETE", "/v1/session", cc_h_session_delete, SESSION, "Sign out: end the session"},
    {"GET", "/v1/users", cc_h_users_list, ADMIN, "The account's console users"},
    {"POST", "/v1/users", cc_h_users_create, ADMIN, "Add a console user"},
    {"PATCH", "/v1/users/{id}", cc_h_users_update, ADMIN,
     "Change a console user's role, password, or disable it"},
    {"DELETE", "/v1/users/{id}", cc_h_users_delete, ADMIN, "Delete a console user"},
    {"POST", "/v1/users/{id}/unlock", cc_h_users_unlock, ADMIN,
     "Lift a console user's sign-in locks"},
    {"GET", "/v1/keys", cc_h_keys_list, ADMIN, "The account's access keys (no secrets)"},
    {"POST", "/v1/keys", cc_h_keys_create, ADMIN, "Create an access key; its secret is shown once"},
    {"POST", "/v1/keys/{key_id}/disable", cc_h_keys_disable, ADMIN,
     "Disable an access key at once"},
    {"GET", "/v1/products", cc_h_products_list, READONLY,
     "The certificate products one can apply for"},
    {"POST", "/v1/applications", cc_h_applications_create, OPERATOR,
     "Apply for a certificate, naming a contact or creating one"},
    {"GET", "/v1/applications", cc_h_applications_list, READONLY,
     "List certificate applications"},
    {"GET", "/v1/applications/eligibility", cc_h_applications_eligibility, READONLY,
     "Whether a contact may be named on an application for a product"},
    {"GET", "/v1/applications/{id}", cc_h_applications_get, READONLY,
     "One certificate application with its history"},
    {"POST", "/v1/applications/{id}/transitions", cc_h_applications_transition, OPERATOR,
     "Move a certificate application to another state"},
    {"POST", "/v1/certificates", cc_h_certificates_create, OPERATOR,
     "Add a certificate from its PEM, or from metadata only"},
    {"GET", "/v1/certificates", cc_h_certificates_list, READONLY,
     "List certificates by expiry, with filters"},
    {"GET", "/v1/certificates/{id}", cc_h_certificates_get, READONLY,
     "Read a certificate with its PEM and subscribers"},
    {"PATCH", "/v1/certificates/{id}", cc_h_certificates_update, OPERATOR,
     "Change a certificate's name or subscribers"},
    {"DELETE", "/v1/certificates/{id}", cc_h_certificates_delete, OPERATOR,
     "Delete a certificate"},
    {"POST", "/v1/certificates/{id}/revoke", cc_h_certificates_revoke, OPERATOR,
     "Mark a certificate revoked and notify its subscribers"},
    {"POST", "/v1/certificates/{id}/private-key", cc_h_certificates_private_key, ADMIN,
     "Hand out a certificate's private key (audited)"},
    {"GET", "/v1/settings/reminders", cc_h_reminder_settings_get, READONLY,
     "The account's expiry reminder settings"},
    {"PUT", "/v1/settings/reminders", cc_h_reminder_settings_put, OPERATOR,
     "Change the account's expiry reminder settings"},
    {"GET", "/v1/audit", cc_h_audit_list, ADMIN,
     "The account's audit log, newest first, filtered and paged"},
    {"GET", "/v1/audit.csv", cc_h_audit_csv, ADMIN, "The account's audit log as CSV"},
    {"POST", "/v1/endpoints", cc_h_endpoints_create, OPERATOR,
     "Watch a TLS server: host, port, sni and the contacts to tell"},
    {"GET", "/v1/endpoints", cc_h_endpoints_list, READONLY,
     "The watched TLS servers with their last check"},
    {"GET", "/v1/endpoints/{id}", cc_h_endpoints_get, READONLY,
     "One watched TLS server with its last check"},
    {"PATCH", "/v1/endpoints/{id}", cc_h_endpoints_update, OPERATOR,
     "Change the contacts told of a watched server's alerts"},
    {"DELETE", "/v1/endpoints/{id}", cc_h_endpoints_delete, OPERATOR, "Stop watching a server"},
    {"POST", "/v1/endpoints/{id}/check", cc_h_endpoints_check, OPERATOR,
     "Check a watched server now and notify what changed"},
    {"GET", "/.well-known/acme-challenge/{token}", cc_h_acme_challenge, PUBLIC,
     "The HTTP-01 answer of an ACME order (RFC 8555 8.3), for the CA"},
    {NULL, NULL, NULL, CC_ACCESS_UNSET, NULL},
};

_Static_assert(sizeof cc_http_routes / sizeof cc_http_routes[0] - 1 <= CC_HTTP_ROUTES_MAX,
               "raise CC_HTTP_ROUTES_MAX: each route has its metrics slot");

#undef PUBLIC
#undef READONLY
#undef OPERATOR
#undef ADMIN
#undef SESSION

/* The routes whose body is a file rather than JSON. */
unsigned cc_route_flags(const struct cc_route *r)
{
    return r && r->handler == cc_h_contacts_import ? CC_ROUTE_CSV_BODY : 0;
}

/* A string segment: 1 to CC_ROUTE_ARG_MAX of A-Z a-z 0-9 . _ -, and not
 * "." or "..". Percent-encoding is not decoded (routes match the raw path),
 * so "%" never matches. Returns the segment's length, 0 when it does not
 * match. */
static size_t name_segment(const char *path)
{
    size_t n = strcspn(path, "/");
    if (n == 0 || n > CC_ROUTE_ARG_MAX || !strncmp(path, ".", n) || !strncmp(path, "..", n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = path[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return n;
}

/* Matches one path against a pattern; {id} takes a positive decimal, any
 * other {name} a string segment (see name_segment), captured in order. */
static int match(const char *pattern, const char *path, struct cc_route_args *a)
{
    a->id = 0;
    a->n = 0;
    /* the fixed text before the first argument differs for most routes */
    while (*pattern && *pattern != '{' && *pattern == *path) {
        pattern++;
        path++;
    }
    if (*pattern && *pattern != '{')
        return 0;
    while (*pattern && *path) {
        if (strncmp(pattern, "{id}", 4) == 0) {
            size_t n = strcspn(path, "/");
            if (n == 0 || n > 15 || path[0] == '0' ||
                cc_parse_i64n(path, n, 1, INT64_MAX, &a->id) != 0)
                return 0;
            pattern += 4;
            path += n;
            continue;
        }
        if (*pattern == '{') {
            const char *end = strchr(pattern, '}');
            size_t n = name_segment(path);
            assert(end && a->n < CC_ROUTE_MAX_ARGS);
            if (!n || !end || a->n >= CC_ROUTE_MAX_ARGS)
                return 0;
            memcpy(a->s[a->n], path, n);
            a->s[a->n++][n] = '\0';
            pattern = end + 1;
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
                  struct cc_route_args *args, char *allow, size_t allowsz)
{
    int known = 0;
    *route = NULL;
    allow[0] = '\0';
    memset(args, 0, sizeof *args);
    for (const struct cc_route *r = cc_http_routes; r->method; r++) {
        struct cc_route_args a;
        if (!match(r->pattern, path, &a))
            continue;
        known = 1;
        if (strcmp(r->method, method) == 0) {
            *route = r;
            *args = a;
        }
        size_t used = strlen(allow);
        if (used + strlen(r->method) + 3 <= allowsz) {
            if (used) {
                memcpy(allow + used, ", ", 2);
                used += 2;
            }
            memcpy(allow + used, r->method, strlen(r->method) + 1);
        }
    }
    return known;
}

enum cc_err cc_route_allows(const struct cc_route *r, int authed, const struct cc_caller *caller,
                            struct cc_error *err)
{
    enum cc_role need = CC_ROLE_NONE;
    switch (r->access) {
    case CC_ACCESS_PUBLIC:
        return CC_OK;
    case CC_ACCESS_READONLY: need = CC_ROLE_READONLY; break;
    case CC_ACCESS_OPERATOR: need = CC_ROLE_OPERATOR; break;
    case CC_ACCESS_ADMIN: need = CC_ROLE_ADMIN; break;
    case CC_ACCESS_SESSION:
        if (!authed)
            break;
        if (!caller->user_id || !caller->session[0])
            return cc_error_set(err, CC_ERR_FORBIDDEN, NULL,
                                "This call is for a console session; an access key has none.");
        return CC_OK;
    default:
        return cc_error_set(err, CC_ERR_FORBIDDEN, NULL, "Nobody may call this route.");
    }
    if (!authed)
        return cc_error_set(err, CC_ERR_UNAUTHENTICATED, NULL, "Authentication is required.");
    return cc_service_require(caller, need, err);
}

json_t *cc_access_roles(enum cc_access a)
{
    switch (a) {
    case CC_ACCESS_PUBLIC: return json_pack("[s]", "public");
    case CC_ACCESS_READONLY: return json_pack("[sss]", "readonly", "operator", "admin");
    case CC_ACCESS_OPERATOR: return json_pack("[ss]", "operator", "admin");
    case CC_ACCESS_ADMIN: return json_pack("[s]", "admin");
    case CC_ACCESS_SESSION: return json_pack("[s]", "session");
    default: return NULL;
    }
}

void cc_routes_annotate_openapi(json_t *doc)
{
    json_t *paths = json_object_get(doc, "paths");
    for (const struct cc_route *r = cc_http_routes; r->method; r++) {
        char m[16];
        cc_strlcpy(m, r->method, sizeof m);
        cc_ascii_lower(m);
        json_t *op = json_object_get(json_object_get(paths, r->pattern), m);
        json_t *roles = cc_access_roles(r->access);
        if (json_is_object(op) && roles)
            json_object_set_new(op, "x-roles", roles);
        else
            json_decref(roles);
    }
}
