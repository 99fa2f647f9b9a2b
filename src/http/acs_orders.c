/*
 * acs_orders.c — certificate applications as the orders of the Alibaba Cloud
 * CAS 2020-04-07 API: CreateCertificateRequest, CreateCertificateWithCsrRequest,
 * CreateCertificateForPackageRequest, DescribeCertificateState,
 * CancelOrderRequest, DeleteCertificateRequest and ListUserCertificateOrder.
 *
 * acs_api.c authenticates the call and hands it here; every rule is the
 * service's, through the functions REST v1 uses (applications.c,
 * certificates.c, contacts.c, reminders.c). What is this file's own is the
 * translation: how Username/Phone/Email name a contact, which service state
 * each Alibaba Type and Status stands for, and the fields of the answers.
 * An order's id (OrderId) is the application's id. docs/alibaba-compat.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/products.h"
#include "http/acs_int.h"
#include "http/http_int.h"

#define DAY_MS (24LL * 60 * 60 * 1000)
/* Alibaba's default specification of the Create* actions. */
#define DEFAULT_PRODUCT "digicert-free-1-free"

/* ---- errors in the orders' parameter names --------------------------------------------- */
/* The service names its fields as REST does; the order actions call a few
 * of them otherwise (acs_api.c maps the ones every action shares). */
static const char *order_field(const char *field)
{
    static const char *const map[][2] = {
        {"Product", "ProductCode"}, {"Domains", "Domain"}, {"Mobile", "Phone"},
        {"Name", "Username"},       {"ContactId", "Contact"}, {"To", "OrderId"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(field, map[i][0]) == 0)
            return map[i][1];
    return field;
}

/* Answers a service error; a contact that may not be named lists every
 * problem's code in the Message (Alibaba's error shape has one Code). */
static void order_error(struct acs_call *c, const struct cc_error *err, const char *rename_domains)
{
    struct cc_error e = *err;
    const char *f = order_field(err->field);
    if (rename_domains && strcmp(err->field, "Domains") == 0)
        f = rename_domains;
    cc_strlcpy(e.field, f, sizeof e.field);
    if (e.code == CC_ERR_CONTACT_INELIGIBLE && e.n_problems > 0) {
        struct cc_buf codes;
        cc_buf_init(&codes, CC_ERROR_PROBLEMS_MAX * sizeof e.problems[0].code);
        for (int i = 0; i < e.n_problems; i++) {
            if (i)
                cc_buf_puts(&codes, ", ");
            cc_buf_puts(&codes, e.problems[i].code);
        }
        cc_acs_fail(c->req, e.code, e.field, "%s Problems: %s.", e.message,
                    codes.data ? codes.data : "");
        cc_buf_free(&codes);
        return;
    }
    cc_acs_service_error(c->req, &e);
}

/* ---- parameters ------------------------------------------------------------------------- */
/* A parameter's value; NULL when it is absent or empty (some SDKs send an
 * unset field as an empty string). */
static const char *arg(struct acs_call *c, const char *name)
{
    const char *v = cc_acs_arg(c, name);
    return v && v[0] ? v : NULL;
}

static int order_id(struct acs_call *c, int64_t *id)
{
    if (!arg(c, "OrderId")) {
        cc_acs_fail(c->req, CC_ERR_MISSING_PARAMETER, "OrderId", "OrderId is mandatory for this action.");
        return -1;
    }
    return cc_acs_int_arg(c, "OrderId", 0, 1, id);
}

static void answer_request_id(struct acs_call *c, json_t *o)
{
    json_object_set_new(o, "RequestId", json_string(cc_req_id(c->req)));
    cc_req_json(c->req, 200, o);
}

/* ---- the contact of a new order ----------------------------------------------------------- */
/* Which contact an order names (docs/alibaba-compat.md, "The contact of an
 * order"): the account's contact with this Email and Phone; none matching
 * and Username given too, a new contact saved with the order (*nc, which the
 * service checks like any inline contact); none of the three given, the
 * account's most recently created contact. Sets in->contact_id or
 * in->contact; returns 0, or answers and returns -1. */
static int order_contact(struct acs_call *c, struct cc_application_input *in,
                         struct cc_contact_input *nc)
{
    struct cc_service *svc = cc_req_service(c->req);
    const struct cc_caller *caller = cc_req_caller(c->req);
    const char *user = arg(c, "Username"), *phone = arg(c, "Phone"), *email = arg(c, "Email");
    struct cc_error err;
    int64_t id = 0;
    if (!user && !phone && !email) {
        if (!cc_contact_find(svc, caller, NULL, NULL, &id, &err)) {
            in->contact_id = id;
            return 0;
        }
        if (err.code == CC_ERR_NOT_FOUND)
            cc_acs_fail(c->req, CC_ERR_MISSING_PARAMETER, "Contact",
                        "This account has no contact yet: give Username, Phone and Email to save "
                        "one with the order.");
        else
            order_error(c, &err, NULL);
        return -1;
    }
    if (!phone || !email) {
        const char *missing = phone ? "Email" : "Phone";
        cc_acs_fail(c->req, CC_ERR_MISSING_PARAMETER, missing,
                    "%s is mandatory when the order names its contact: give Phone and Email "
                    "(and Username to save a new contact), or none of the three for the most "
                    "recently added contact.",
                    missing);
        return -1;
    }
    enum cc_err rc = cc_contact_find(svc, caller, email, phone, &id, &err);
    if (rc == CC_OK) {
        in->contact_id = id;
        return 0;
    }
    if (rc != CC_ERR_NOT_FOUND) {
        order_error(c, &err, NULL);
        return -1;
    }
    if (!user) {
        cc_acs_fail(c->req, CC_ERR_MISSING_PARAMETER, "Username",
                    "No contact of this account has this Email and Phone: give Username too to "
                    "save a new contact with the order.");
        return -1;
    }
    memset(nc, 0, sizeof *nc);
    nc->present = CC_F_NAME | CC_F_MOBILE | CC_F_EMAIL;
    nc->name = user;
    nc->mobile = phone;
    nc->email = email;
    in->contact = nc;
    return 0;
}

/* ---- creating an order ------------------------------------------------------------------ */
enum order_kind { ORDER_DOMAIN, ORDER_CSR, ORDER_PACKAGE };

static const char *const create_names[] = {
    "ProductCode", "Username", "Phone", "Email", "Domain", "Csr", "ValidateType", "CompanyName",
};
#define N_CREATE_NAMES (sizeof create_names / sizeof create_names[0])

/* Domain: names separated by commas, spaces around each dropped, into
 * names (room for CC_APP_DOMAINS_MAX + 1) pointing into *buf (owned:
 * cc_free()). More names than that are handed on as one too many: the
 * service refuses them for the product. */
static size_t split_domains(const char *v, char **buf, const char **names)
{
    *buf = cc_strdup(v);
    size_t n = 0;
    char *p = *buf;
    while (n <= CC_APP_DOMAINS_MAX) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (*p == ' ')
            p++;
        size_t len = strlen(p);
        while (len && p[len - 1] == ' ')
            p[--len] = '\0';
        names[n++] = p;
        if (!comma)
            break;
        p = comma + 1;
    }
    return n;
}

/* The checks that are the Alibaba API's own: which parameters each action
 * needs, DV only outside the package action, CompanyName.
 * Returns 0, or answers and returns -1. */
static int check_create(struct acs_call *c, enum order_kind kind, const char *product)
{
    const struct cc_product *p = cc_product_find(product);
    if (p && kind != ORDER_PACKAGE && p->validation != CC_VALIDATION_DV) {
        cc_acs_fail(c->req, CC_ERR_INVALID_PARAMETER, "ProductCode",
                    "The ProductCode parameter is invalid: %s is an %s product; this action "
                    "applies for DV certificates only: use CreateCertificateForPackageRequest.",
                    p->code, cc_validation_name(p->validation));
        return -1;
    }
    const char *vt = arg(c, "ValidateType");
    if (!vt && kind != ORDER_PACKAGE) {
        cc_acs_fail(c->req, CC_ERR_MISSING_PARAMETER, "ValidateType",
                    "ValidateType is mandatory for this action: DNS or FILE.");
        return -1;
    }
    const char *need = kind == ORDER_CSR ? "Csr" : "Domain";
    if (!arg(c, need) && !(kind == ORDER_PACKAGE && arg(c, "Csr"))) {
        cc_acs_fail(c->req, CC_ERR_MISSING_PARAMETER, need, "%s is mandatory for this action%s.", need,
                    kind == ORDER_PACKAGE ? " (or Csr, whose names the order takes)" : "");
        return -1;
    }
    const char *company = kind == ORDER_PACKAGE ? arg(c, "CompanyName") : NULL;
    if (company && (strlen(company) > CC_ACS_COMPANY_NAME_MAX ||
                    !cc_utf8_valid(company, strlen(company)))) {
        cc_acs_fail(c->req, CC_ERR_INCORRECT_FORMAT, "CompanyName",
                    "The CompanyName parameter format is incorrect: valid UTF-8 of at most %d "
                    "bytes.",
                    CC_ACS_COMPANY_NAME_MAX);
        return -1;
    }
    return 0;
}

/* The ClientToken's key and the hash of the order it goes with: the action
 * and its parameters, in any order. Returns 0, or answers and returns -1. */
static int create_idem(struct acs_call *c, const char *action, struct cc_idem *idem)
{
    struct cc_error err;
    /* Its own namespace: a REST Idempotency-Key of the same text is another key. */
    if (cc_idem_parse(cc_acs_arg(c, "ClientToken"), "acs:", idem, &err)) {
        order_error(c, &err, NULL);
        return -1;
    }
    if (!idem->key)
        return 0;
    struct cc_kv kv[N_CREATE_NAMES + 1];
    size_t n = 0;
    kv[n++] = (struct cc_kv){"Action", action};
    for (size_t i = 0; i < N_CREATE_NAMES; i++)
        if (cc_acs_arg(c, create_names[i]))
            kv[n++] = (struct cc_kv){create_names[i], cc_acs_arg(c, create_names[i])};
    struct cc_buf canon;
    cc_buf_init(&canon, 1u << 22);
    cc_acs_canonical_query(kv, n, &canon);
    cc_idem_set_request(idem, canon.data, canon.len);
    cc_buf_free(&canon);
    return 0;
}

static void create_order(struct acs_call *c, enum order_kind kind, const char *action)
{
    const char *product = arg(c, "ProductCode") ? arg(c, "ProductCode") : DEFAULT_PRODUCT;
    struct cc_idem idem;
    struct cc_error err;
    /* The service checks the role again; first, so that a readonly key hears Forbidden
     * rather than what its parameters lack. */
    if (cc_service_require(cc_req_caller(c->req), CC_ROLE_OPERATOR, &err)) {
        order_error(c, &err, NULL);
        return;
    }
    if (check_create(c, kind, product) || create_idem(c, action, &idem))
        return;
    struct cc_application_input in;
    struct cc_contact_input nc;
    memset(&in, 0, sizeof in);
    in.product = product;
    in.csr = kind != ORDER_DOMAIN ? arg(c, "Csr") : NULL;
    in.validate_type = arg(c, "ValidateType"); /* DNS or FILE: the service's rule */
    char *buf = NULL;
    const char **names = cc_calloc(CC_APP_DOMAINS_MAX + 1, sizeof *names);
    const char *domain = kind != ORDER_CSR ? arg(c, "Domain") : NULL;
    if (domain) {
        in.has_domains = 1;
        in.n_domains = split_domains(domain, &buf, names);
        in.domains = names;
    }
    if (order_contact(c, &in, &nc))
        goto out;
    struct cc_application app;
    if (cc_application_create(cc_req_service(c->req), cc_req_caller(c->req), &in, idem.key,
                              idem.hash, &app, NULL, NULL, &err)) {
        order_error(c, &err, NULL);
        goto out;
    }
    json_t *o = json_object();
    json_object_set_new(o, "OrderId", json_integer(app.id));
    cc_application_clear(&app);
    answer_request_id(c, o);
out:
    cc_free(names);
    cc_free(buf);
}

void cc_acs_create_certificate_request(struct acs_call *c)
{
    create_order(c, ORDER_DOMAIN, "CreateCertificateRequest");
}

void cc_acs_create_certificate_with_csr_request(struct acs_call *c)
{
    create_order(c, ORDER_CSR, "CreateCertificateWithCsrRequest");
}

void cc_acs_create_certificate_for_package_request(struct acs_call *c)
{
    create_order(c, ORDER_PACKAGE, "CreateCertificateForPackageRequest");
}

/* ---- one order's state --------------------------------------------------------------------- */
/* DescribeCertificateState's Type of an application's state. */
static const char *order_type(enum cc_app_state s)
{
    switch (s) {
    case CC_APP_SUBMITTED:
    case CC_APP_PENDING_VALIDATION: return "domain_verify";
    case CC_APP_APPROVED: return "process";
    case CC_APP_ISSUED: return "certificate";
    case CC_APP_REJECTED: return "verify_fail";
    case CC_APP_CANCELLED: return "payed";
    default: return "unknow"; /* sic: Alibaba's spelling */
    }
}

/* certcontacts validates no domain itself: the validation data (ACME's,
 * later) is not there yet, so its fields are empty (ValidateType is the
 * one the order named); an application's
 * certificate never comes with a private key (the applicant keeps it). */
void cc_acs_describe_certificate_state(struct acs_call *c)
{
    int64_t id;
    if (order_id(c, &id))
        return;
    struct cc_application app;
    struct cc_app_transition *history = NULL;
    size_t n_history = 0;
    struct cc_error err;
    if (cc_application_get(cc_req_service(c->req), cc_req_caller(c->req), id, &app, &history,
                           &n_history, &err)) {
        order_error(c, &err, NULL);
        return;
    }
    cc_free(history);
    json_t *o = json_object();
    json_object_set_new(o, "Type", json_string(order_type(app.state)));
    json_object_set_new(o, "ValidateType", json_string(app.validate_type));
    static const char *const empty[] = {"Domain", "RecordDomain", "RecordType", "RecordValue",
                                        "Uri", "Content"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++)
        json_object_set_new(o, empty[i], json_string(""));
    int issued = app.state == CC_APP_ISSUED && app.certificate_pem;
    json_object_set_new(o, "Certificate", json_string(issued ? app.certificate_pem : ""));
    cc_application_clear(&app);
    answer_request_id(c, o);
}

/* ---- cancel and delete -------------------------------------------------------------------- */
/* REST's move to cancelled: refused (IncorrectStatus) once issued, rejected
 * or cancelled. */
static int cancel(struct acs_call *c, int64_t id, const char *action)
{
    struct cc_application app;
    struct cc_error err;
    char reason[64];
    snprintf(reason, sizeof reason, "%s (Alibaba API)", action);
    if (cc_application_transition(cc_req_service(c->req), cc_req_caller(c->req), id, "cancelled",
                                  reason, NULL, &app, &err)) {
        order_error(c, &err, NULL);
        return -1;
    }
    cc_application_clear(&app);
    return 0;
}

void cc_acs_cancel_order_request(struct acs_call *c)
{
    int64_t id;
    if (order_id(c, &id) || cancel(c, id, "CancelOrderRequest"))
        return;
    answer_request_id(c, json_object());
}

/* certcontacts keeps every application with its history: deleting an order
 * withdraws it. An open one is cancelled; one already rejected or cancelled
 * has nothing left to withdraw, and the call succeeds; an issued one is
 * refused (its certificate goes with DeleteUserCertificate). */
void cc_acs_delete_certificate_request(struct acs_call *c)
{
    int64_t id;
    if (order_id(c, &id))
        return;
    struct cc_service *svc = cc_req_service(c->req);
    const struct cc_caller *caller = cc_req_caller(c->req);
    struct cc_application app;
    struct cc_app_transition *history = NULL;
    size_t n_history = 0;
    struct cc_error err;
    if (cc_service_require(caller, CC_ROLE_OPERATOR, &err) ||
        cc_application_get(svc, caller, id, &app, &history, &n_history, &err)) {
        order_error(c, &err, NULL);
        return;
    }
    cc_free(history);
    int closed = app.state == CC_APP_REJECTED || app.state == CC_APP_CANCELLED;
    cc_application_clear(&app);
    if (!closed && cancel(c, id, "DeleteCertificateRequest"))
        return;
    answer_request_id(c, json_object());
}

/* ---- the list ----------------------------------------------------------------------------- */
/* What a list call knows about time: now (the service's clock), soon (now
 * plus the account's first reminder threshold: WILLEXPIRED before it), and
 * for a CPACK list the fingerprints of the account's revoked certificates,
 * sorted (owned: cc_free()). */
struct list_ctx {
    struct acs_call *c;
    int64_t now, soon;
    size_t n_revoked;
    char (*revoked)[65];
};

static int fingerprint_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Reads the revoked certificates' fingerprints (at most
 * CC_ACS_REVOKED_SCAN_MAX) through the certificates' own list. */
static enum cc_err read_revoked(struct list_ctx *x, struct cc_error *err)
{
    struct cc_cert_filter f;
    memset(&f, 0, sizeof f);
    f.state = CC_CERT_REVOKED;
    f.page_size = CC_PAGE_SIZE_MAX;
    size_t cap = 0;
    for (f.page = 1;; f.page++) {
        struct cc_certificate *items = NULL;
        size_t n = 0;
        int64_t total = 0;
        enum cc_err rc = cc_certificate_list(cc_req_service(x->c->req), cc_req_caller(x->c->req),
                                             &f, &items, &n, &total, err);
        if (rc)
            return rc;
        if (!x->revoked) {
            cap = total < CC_ACS_REVOKED_SCAN_MAX ? (size_t)total : CC_ACS_REVOKED_SCAN_MAX;
            x->revoked = cc_calloc(cap + 1, sizeof *x->revoked);
        }
        for (size_t i = 0; i < n; i++) {
            if (x->n_revoked < cap)
                cc_strlcpy(x->revoked[x->n_revoked++], items[i].fingerprint, 65);
            cc_certificate_clear(&items[i]);
        }
        cc_free(items);
        if (n == 0 || x->n_revoked >= cap || f.page * f.page_size >= total)
            break;
    }
    qsort(x->revoked, x->n_revoked, sizeof *x->revoked, fingerprint_cmp);
    return CC_OK;
}

static int is_revoked(const struct list_ctx *x, const char *fingerprint)
{
    return x->n_revoked &&
           bsearch(fingerprint, x->revoked, x->n_revoked, sizeof *x->revoked, fingerprint_cmp);
}

/* A certificate's Status at the list's time, from its shown state. */
static const char *cert_status(const struct list_ctx *x, enum cc_cert_state shown,
                               int64_t not_after)
{
    if (shown == CC_CERT_REVOKED)
        return "REVOKED";
    if (shown == CC_CERT_EXPIRED || not_after <= x->now)
        return "EXPIRED";
    return not_after <= x->soon ? "WILLEXPIRED" : "ISSUED";
}

/* An application's Status; for an issued one *cert gets what its
 * certificate's PEM says (cc_certificate_clear() it). */
static const char *app_status(const struct list_ctx *x, const struct cc_application *a,
                              struct cc_certificate *cert)
{
    switch (a->state) {
    case CC_APP_SUBMITTED:
    case CC_APP_PENDING_VALIDATION:
    case CC_APP_APPROVED: return "CHECKING";
    case CC_APP_REJECTED: return "CHECKED_FAIL";
    case CC_APP_CANCELLED: return "PAYED";
    default: break;
    }
    struct cc_error err;
    if (!a->certificate_pem ||
        cc_x509_parse(a->certificate_pem, strlen(a->certificate_pem), cert, &err))
        return "ISSUED";
    enum cc_cert_state shown = is_revoked(x, cert->fingerprint) ? CC_CERT_REVOKED
                                                                 : CC_CERT_ACTIVE;
    return cert_status(x, shown, cert->not_after);
}

/* Domain (the names, comma-joined), DomainCount, WildDomainCount and
 * DomainType of an application's names. */
static void put_domains(json_t *o, const char *domains_json)
{
    json_t *arr = json_loads(domains_json ? domains_json : "[]", 0, NULL);
    struct cc_buf b;
    cc_buf_init(&b, (size_t)CC_APP_DOMAINS_MAX * (CC_DOMAIN_U_MAX + 1));
    size_t i, n = json_array_size(arr), wild = 0;
    json_t *v;
    json_array_foreach(arr, i, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        name = name ? name : "";
        if (i)
            cc_buf_puts(&b, ",");
        cc_buf_puts(&b, name);
        wild += strncmp(name, "*.", 2) == 0;
    }
    json_decref(arr);
    const char *type = n == 1 ? (wild ? "WILDCARD" : "ONE")
                              : wild == n ? "M_WILDCARD" : wild ? "MIX" : "MULTIPLE";
    json_object_set_new(o, "Domain", json_string(b.data ? b.data : ""));
    json_object_set_new(o, "DomainCount", json_integer((json_int_t)n));
    json_object_set_new(o, "WildDomainCount", json_integer((json_int_t)wild));
    json_object_set_new(o, "DomainType", json_string(type));
    cc_buf_free(&b);
}

/* A CPACK order: an application. */
static json_t *render_order(const struct cc_application *a, const char *status,
                            const struct cc_certificate *cert)
{
    const struct cc_product *p = cc_product_find(a->product);
    json_t *o = json_object();
    json_object_set_new(o, "OrderId", json_integer(a->id));
    json_object_set_new(o, "InstanceId", json_sprintf("cas-order-%lld", (long long)a->id));
    json_object_set_new(o, "SourceType", json_string("cpack"));
    json_object_set_new(o, "ProductCode", json_string(a->product));
    json_object_set_new(o, "ProductName", json_string(p ? p->name : a->product));
    json_object_set_new(o, "RootBrand", json_string(p ? p->brand : ""));
    json_object_set_new(o, "CertType", json_string(p ? cc_validation_name(p->validation) : ""));
    put_domains(o, a->domains);
    json_object_set_new(o, "BuyDate", json_integer(a->created_at));
    json_object_set_new(o, "Status", json_string(status));
    if (cert->not_after) {
        json_object_set_new(o, "CertStartTime", json_integer(cert->not_before));
        json_object_set_new(o, "CertEndTime", json_integer(cert->not_after));
        json_object_set_new(o, "Algorithm", json_string(cert->key_type));
    }
    return o;
}

/* "YYYY-MM-DD" (UTC) of ms. */
static json_t *date_of(int64_t ms)
{
    char t[32];
    cc_time_rfc3339(ms, t, sizeof t);
    t[10] = '\0';
    return json_string(t);
}

static json_t *upper_hex(const char *hex)
{
    char u[65];
    cc_strlcpy(u, hex, sizeof u);
    for (char *p = u; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    return json_string(u);
}

/* Fingerprint is the leaf's SHA-1, as GetUserCertificateDetail shows it
 * (read from the stored PEM, which a list page does not carry); Sha2 its
 * SHA-256. A certificate without a PEM shows the SHA-256 in both. */
static void put_fingerprints(const struct list_ctx *x, json_t *o, const struct cc_certificate *ct)
{
    struct cc_certificate *full = cc_calloc(1, sizeof *full);
    struct cc_x509_details *d = cc_calloc(1, sizeof *d);
    struct cc_error err;
    if (!cc_certificate_get(cc_req_service(x->c->req), cc_req_caller(x->c->req), ct->id, full,
                            &err) &&
        full->pem && !cc_x509_details(full->pem, d, &err))
        json_object_set_new(o, "Fingerprint", json_string(d->sha1));
    else
        json_object_set_new(o, "Fingerprint", upper_hex(ct->fingerprint));
    json_object_set_new(o, "Sha2", upper_hex(ct->fingerprint));
    cc_certificate_clear(full);
    cc_free(full);
    cc_free(d);
}

/* A CERT or UPLOAD entry: a certificate, as the list shows it. */
static json_t *render_cert(const struct list_ctx *x, const struct cc_certificate *ct)
{
    json_t *o = json_object();
    json_object_set_new(o, "CertificateId", json_integer(ct->id));
    json_object_set_new(o, "InstanceId", json_sprintf("cas-cert-%lld", (long long)ct->id));
    json_object_set_new(o, "Name", json_string(ct->name));
    json_object_set_new(o, "CommonName", json_string(ct->common_name));
    json_t *arr = json_loads(ct->domains ? ct->domains : "[]", 0, NULL);
    struct cc_buf b;
    cc_buf_init(&b, (size_t)CC_CERT_DOMAINS_MAX * (CC_DOMAIN_MAX + 1));
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (i)
            cc_buf_puts(&b, ",");
        cc_buf_puts(&b, json_string_value(v) ? json_string_value(v) : "");
    }
    json_decref(arr);
    json_object_set_new(o, "Sans", json_string(b.data ? b.data : ""));
    cc_buf_free(&b);
    json_object_set_new(o, "Issuer", json_string(ct->issuer));
    json_object_set_new(o, "SerialNo", json_string(ct->serial));
    put_fingerprints(x, o, ct);
    json_object_set_new(o, "StartDate", date_of(ct->not_before));
    json_object_set_new(o, "EndDate", date_of(ct->not_after));
    json_object_set_new(o, "CertStartTime", json_integer(ct->not_before));
    json_object_set_new(o, "CertEndTime", json_integer(ct->not_after));
    const char *status = cert_status(x, ct->state, ct->not_after);
    json_object_set_new(o, "Expired", json_boolean(strcmp(status, "EXPIRED") == 0));
    json_object_set_new(o, "Status", json_string(status));
    json_object_set_new(o, "Upload", json_true());
    json_object_set_new(o, "Algorithm", json_string(ct->key_type));
    if (ct->product[0])
        json_object_set_new(o, "ProductCode", json_string(ct->product));
    return o;
}

/* A page of the list as the SDK reads it. */
struct page_out {
    int64_t page, size, total;
    json_t *items;
};

/* CERT and UPLOAD: the account's certificates. Status empty lists the
 * valid ones (ISSUED and WILLEXPIRED), as Alibaba does; the application
 * statuses match none. */
static enum cc_err list_certs(struct list_ctx *x, const char *keyword, const char *status,
                              struct page_out *po, struct cc_error *err)
{
    struct cc_cert_filter f;
    memset(&f, 0, sizeof f);
    f.keyword = keyword;
    f.page = po->page;
    f.page_size = po->size;
    f.state = CC_CERT_ACTIVE;
    if (status && strcmp(status, "WILLEXPIRED") == 0)
        f.not_after_before = x->soon + 1;
    else if (status && strcmp(status, "EXPIRED") == 0)
        f.state = CC_CERT_EXPIRED;
    else if (status && strcmp(status, "REVOKED") == 0)
        f.state = CC_CERT_REVOKED;
    int none = status && strcmp(status, "ISSUED") != 0 && strcmp(status, "WILLEXPIRED") != 0 &&
               strcmp(status, "EXPIRED") != 0 && strcmp(status, "REVOKED") != 0;
    struct cc_certificate *items = NULL;
    size_t n = 0;
    enum cc_err rc = cc_certificate_list(cc_req_service(x->c->req), cc_req_caller(x->c->req), &f,
                                         &items, &n, &po->total, err);
    if (rc)
        return rc;
    if (none)
        po->total = 0;
    for (size_t i = 0; i < n; i++) {
        if (!none)
            json_array_append_new(po->items, render_cert(x, &items[i]));
        cc_certificate_clear(&items[i]);
    }
    cc_free(items);
    return CC_OK;
}

/* One page of applications for f, each with its Status; with want, only
 * those whose Status is want, counted in po->total, f's own page and size
 * being the scan's. */
static enum cc_err scan_orders(struct list_ctx *x, struct cc_app_filter *f, const char *want,
                               struct page_out *po, struct cc_error *err)
{
    int64_t skip = want ? (po->page - 1) * po->size : 0, matched = 0;
    for (;; f->page++) {
        struct cc_application *items = NULL;
        size_t n = 0;
        int64_t total = 0;
        enum cc_err rc = cc_application_list(cc_req_service(x->c->req), cc_req_caller(x->c->req),
                                             f, &items, &n, &total, err);
        if (rc)
            return rc;
        if (want && total > CC_ACS_ORDER_SCAN_MAX) {
            cc_application_list_free(items, n);
            return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Status",
                                "More than %d orders to filter by this Status: narrow the list "
                                "with Keyword, or filter through GET /v1/applications.",
                                CC_ACS_ORDER_SCAN_MAX);
        }
        if (!want)
            po->total = total;
        for (size_t i = 0; i < n; i++) {
            /* CHECKING never needs an issued certificate read */
            if (want && strcmp(want, "CHECKING") == 0 && items[i].state == CC_APP_ISSUED)
                continue;
            struct cc_certificate *cert = cc_calloc(1, sizeof *cert);
            const char *status = app_status(x, &items[i], cert);
            if (!want || (strcmp(status, want) == 0 && matched++ >= skip &&
                          (int64_t)json_array_size(po->items) < po->size))
                json_array_append_new(po->items, render_order(&items[i], status, cert));
            cc_certificate_clear(cert);
            cc_free(cert);
        }
        cc_application_list_free(items, n);
        if (!want || n == 0 || f->page * f->page_size >= total)
            break;
    }
    if (want)
        po->total = matched;
    return CC_OK;
}

/* CPACK: the account's applications. A Status that is one stored state is
 * the service's filter; the others (CHECKING: three states; ISSUED,
 * WILLEXPIRED, EXPIRED, REVOKED: what became of an issued application's
 * certificate) are read through, at most CC_ACS_ORDER_SCAN_MAX of them. */
static enum cc_err list_orders(struct list_ctx *x, const char *keyword, const char *status,
                               struct page_out *po, struct cc_error *err)
{
    enum cc_err rc = read_revoked(x, err);
    if (rc)
        return rc;
    struct cc_app_filter f;
    memset(&f, 0, sizeof f);
    f.domain = keyword;
    f.page = po->page;
    f.page_size = po->size;
    if (!status)
        return scan_orders(x, &f, NULL, po, err);
    if (strcmp(status, "PAYED") == 0 || strcmp(status, "CHECKED_FAIL") == 0) {
        f.state = status[0] == 'P' ? "cancelled" : "rejected";
        return scan_orders(x, &f, NULL, po, err);
    }
    /* The page, size and keyword as the service checks them, before the read-through. */
    struct cc_application *items = NULL;
    size_t n = 0;
    int64_t total = 0;
    rc = cc_application_list(cc_req_service(x->c->req), cc_req_caller(x->c->req), &f, &items, &n,
                             &total, err);
    cc_application_list_free(items, n);
    if (rc)
        return rc;
    if (strcmp(status, "NOTACTIVATED") == 0)
        return CC_OK; /* certcontacts has no order waiting to be activated */
    f.state = strcmp(status, "CHECKING") == 0 ? NULL : "issued";
    f.page = 1;
    f.page_size = CC_PAGE_SIZE_MAX;
    return scan_orders(x, &f, status, po, err);
}

static const char *const order_types[] = {"CPACK", "BUY", "UPLOAD", "CERT"};
static const char *const statuses[] = {"PAYED",   "CHECKING", "CHECKED_FAIL", "ISSUED",
                                       "WILLEXPIRED", "EXPIRED", "NOTACTIVATED", "REVOKED"};

/* 1 when v is one of the n strings of list. */
static int one_of(const char *v, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, list[i]) == 0)
            return 1;
    return 0;
}

/* The list's parameters and its clock. Returns 0, or answers and returns -1. */
static int list_params(struct acs_call *c, struct list_ctx *x, struct page_out *po,
                       const char **type, const char **status)
{
    *type = arg(c, "OrderType") ? arg(c, "OrderType") : "CPACK";
    *status = arg(c, "Status");
    if (!one_of(*type, order_types, sizeof order_types / sizeof order_types[0])) {
        cc_acs_fail(c->req, CC_ERR_INVALID_PARAMETER, "OrderType",
                    "The OrderType parameter is invalid: CPACK, BUY, UPLOAD or CERT.");
        return -1;
    }
    if (*status && !one_of(*status, statuses, sizeof statuses / sizeof statuses[0])) {
        cc_acs_fail(c->req, CC_ERR_INVALID_PARAMETER, "Status",
                    "The Status parameter is invalid: PAYED, CHECKING, CHECKED_FAIL, ISSUED, "
                    "WILLEXPIRED, EXPIRED, NOTACTIVATED or REVOKED.");
        return -1;
    }
    if (cc_acs_int_arg(c, "CurrentPage", 1, INT64_MIN, &po->page) ||
        cc_acs_int_arg(c, "ShowSize", 50, INT64_MIN, &po->size))
        return -1;
    struct cc_service *svc = cc_req_service(c->req);
    struct cc_reminder_settings rs;
    struct cc_error err;
    if (cc_reminder_settings_get(svc, cc_req_caller(c->req), &rs, &err)) {
        order_error(c, &err, NULL);
        return -1;
    }
    x->now = cc_service_now(svc);
    x->soon = x->now + (rs.n_days ? rs.days[0] * DAY_MS : 0);
    return 0;
}

void cc_acs_list_user_certificate_order(struct acs_call *c)
{
    struct list_ctx x;
    memset(&x, 0, sizeof x);
    x.c = c;
    struct page_out po = {0, 0, 0, NULL};
    const char *type, *status;
    if (list_params(c, &x, &po, &type, &status))
        return;
    const char *keyword = arg(c, "Keyword");
    po.items = json_array();
    struct cc_error err;
    enum cc_err rc = CC_OK;
    if (strcmp(type, "CPACK") == 0)
        rc = list_orders(&x, keyword, status, &po, &err);
    else if (strcmp(type, "BUY") != 0) /* certcontacts sells nothing: no purchase orders */
        rc = list_certs(&x, keyword, status, &po, &err);
    cc_free(x.revoked);
    if (rc) {
        json_decref(po.items);
        order_error(c, &err, "Keyword");
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "TotalCount", json_integer(po.total));
    json_object_set_new(o, "CurrentPage", json_integer(po.page));
    json_object_set_new(o, "ShowSize", json_integer(po.size));
    json_object_set_new(o, "CertificateOrderList", po.items);
    answer_request_id(c, o);
}
