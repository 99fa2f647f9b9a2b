/*
 * applications.c — certificate applications: submission with its contact
 * (named, or created inline in the same transaction), the contact rules the
 * CA imposes, the states an application moves through, and the events each
 * move raises to the contact through the outbox (events.c).
 *
 * Rules: the product decides whether the contact needs an ID card number
 * (core/products.c); the contact's email and mobile must both be verified
 * (an inline contact: confirmed in the last 30 minutes, as contact creation
 * carries it). Every contact problem is reported at once, each with its own
 * code. A submission with an Idempotency-Key answers a retry with the first
 * application (and makes no second inline contact). States: submitted ->
 * pending_validation -> approved -> issued, or rejected / cancelled before
 * issued (core: cc_app_transition_allowed).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "core/products.h"
#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

/* ---- an issued application becomes a certificate ------------------------- */
/* Inside the transition's write, once certificate_pem was checked to cover
 * the application's domains: the certificate is created from the PEM with
 * every rule of POST /v1/certificates (renewal supersedes older ones), the
 * application's contact — when it still exists — subscribed to it. *cert_id
 * is set. */
static enum cc_err svc_application_issued_tx(struct cc_tx *tx, struct cc_service *svc,
                                             const struct cc_caller *caller,
                                             const struct cc_application *app,
                                             const char *key_pem, int64_t *cert_id,
                                             struct cc_error *err)
{
    struct cc_cert_input *in = cc_calloc(1, sizeof *in);
    struct cc_contact *c = cc_malloc(sizeof *c);
    enum cc_err rc = cc_tx_contact_get(tx, app->account_id, app->contact_id, c, err);
    cc_free(c);
    if (rc == CC_OK) {
        in->n_contact_ids = 1;
        in->contact_ids[0] = app->contact_id;
    } else if (rc != CC_ERR_NOT_FOUND) {
        cc_free(in);
        return rc;
    }
    in->has_contact_ids = 1;
    in->pem = app->certificate_pem;
    in->pem_len = app->certificate_pem ? strlen(app->certificate_pem) : 0;
    in->product = app->product;
    in->private_key = key_pem;
    in->private_key_len = key_pem ? strlen(key_pem) : 0;
    in->carry_subscribers = 1;
    rc = svc_certificate_create_tx(svc, tx, caller, in, cert_id, err);
    cc_free(in);
    return rc;
}

/* The application's domains (its JSON, borrowed) into out (room for
 * CC_APP_DOMAINS_MAX); returns how many. */
static size_t domains_load(const char *domains_json, struct cc_domain *out)
{
    json_t *arr = json_loads(domains_json ? domains_json : "[]", 0, NULL);
    size_t i, n = 0;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (n >= CC_APP_DOMAINS_MAX)
            break;
        const char *a = json_string_value(json_object_get(v, "ascii"));
        const char *u = json_string_value(json_object_get(v, "name"));
        cc_strlcpy(out[n].ascii, a ? a : "", sizeof out[n].ascii);
        cc_strlcpy(out[n].unicode, u ? u : "", sizeof out[n].unicode);
        n++;
    }
    json_decref(arr);
    return n;
}

/* ---- create ------------------------------------------------------------------ */
struct create_op {
    struct cc_service *svc;
    const struct cc_caller *caller;
    const struct cc_product *product;
    const char *domains_json;
    const char *csr;
    const char *validate_type;                      /* NULL: not named */
    int64_t contact_id;
    const struct svc_contact_new *inline_contact;  /* NULL: contact_id */
    const char *idem_key;                           /* NULL: none */
    const char *body_hash;
    struct cc_application *out;
    struct cc_contact *contact;
    int replayed;
};

/* Every reason c cannot be named on an application for p, as problems of
 * one CC_ERR_CONTACT_INELIGIBLE; CC_OK when there is none. */
static enum cc_err contact_eligible(const struct cc_product *p, const struct cc_contact *c,
                                    struct cc_error *err)
{
    struct cc_error found;
    cc_error_clear(&found);
    struct cc_buf b; /* the problems in words, for the message */
    cc_buf_init(&b, 200);
    if (cc_product_needs_id_card(p)) {
        if (!c->has_id_card) {
            cc_error_add_problem(&found, "MissingParameter.IdCard", "IdCard",
                                 "%s %s certificates need the contact's ID card number.",
                                 p->brand, cc_validation_name(p->validation));
            cc_buf_puts(&b, "no ID card number");
        }
    }
    if (!c->has_email) {
        cc_error_add_problem(&found, "MissingParameter.Email", "Email",
                             "The contact has no email address; the CA needs a verified one.");
        cc_buf_puts(&b, b.len ? ", no email address" : "no email address");
    } else if (!c->email_verified_at) {
        cc_error_add_problem(&found, "Unverified.Email", "Email",
                             "The contact's email address is not verified.");
        cc_buf_puts(&b, b.len ? ", email not verified" : "email not verified");
    }
    if (!c->mobile_verified_at) {
        cc_error_add_problem(&found, "Unverified.Mobile", "Mobile",
                             "The contact's mobile number is not verified.");
        cc_buf_puts(&b, b.len ? ", mobile not verified" : "mobile not verified");
    }
    if (found.n_problems == 0) {
        cc_buf_free(&b);
        return CC_OK;
    }
    cc_error_set(err, CC_ERR_CONTACT_INELIGIBLE, "Contact",
                 "The contact cannot be named on a %s application: %s.", p->code,
                 b.data ? b.data : "");
    cc_buf_free(&b);
    if (err) {
        err->n_problems = found.n_problems;
        memcpy(err->problems, found.problems, sizeof found.problems);
    }
    return CC_ERR_CONTACT_INELIGIBLE;
}

/* Appends a history row for a's move from `from` ("" for the submission). */
static enum cc_err history_add(struct cc_tx *tx, const struct cc_caller *caller,
                               const struct cc_application *a, const char *from,
                               const char *reason, int64_t now, struct cc_error *err)
{
    struct cc_app_transition t;
    memset(&t, 0, sizeof t);
    t.application_id = a->id;
    t.at = now;
    cc_strlcpy(t.actor, caller->key_id, sizeof t.actor);
    cc_strlcpy(t.from_state, from, sizeof t.from_state);
    cc_strlcpy(t.to_state, cc_app_state_name(a->state), sizeof t.to_state);
    cc_strlcpy(t.reason, reason ? reason : "", sizeof t.reason);
    return cc_tx_app_transition_add(tx, &t, err);
}

/* A submission seen before under op->idem_key: the first application and
 * its contact when the request is the same (1), CC_ERR_IDEMPOTENCY_REUSED
 * when it is not; 0 when the key is new. */
static enum cc_err replay(struct cc_tx *tx, struct create_op *op, struct cc_error *err)
{
    int64_t account = op->caller->account_id, app_id = 0;
    char hash[65];
    enum cc_err rc = cc_tx_app_idem_get(tx, account, op->idem_key, hash, &app_id, err);
    if (rc == CC_ERR_NOT_FOUND)
        return CC_OK;
    if (rc)
        return rc;
    if (strcmp(hash, op->body_hash) != 0)
        return cc_error_set(err, CC_ERR_IDEMPOTENCY_REUSED, NULL,
                            "This Idempotency-Key was already used with a different request "
                            "body.");
    if ((rc = cc_tx_app_get(tx, account, app_id, op->out, err)))
        return rc;
    op->replayed = 1;
    /* The contact may be gone since: the application is the answer. */
    rc = cc_tx_contact_get(tx, account, op->out->contact_id, op->contact, err);
    if (rc == CC_ERR_NOT_FOUND)
        memset(op->contact, 0, sizeof *op->contact);
    return rc == CC_ERR_NOT_FOUND ? CC_OK : rc;
}

static enum cc_err create_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct create_op *op = arg;
    int64_t account = op->caller->account_id, now = cc_now_ms();
    struct cc_contact *c = op->contact;
    enum cc_err rc;
    op->replayed = 0;
    cc_application_clear(op->out);
    if (op->idem_key && ((rc = replay(tx, op, err)) || op->replayed))
        return rc;
    if (op->inline_contact) {
        rc = svc_contact_insert_tx(tx, op->svc, op->caller, op->inline_contact, c, err);
    } else {
        rc = cc_tx_contact_get(tx, account, op->contact_id, c, err);
        if (rc == CC_ERR_NOT_FOUND)
            rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "ContactId",
                              "Contact %lld does not exist.", (long long)op->contact_id);
    }
    if (rc)
        return rc;
    if ((rc = contact_eligible(op->product, c, err)))
        return rc;
    struct cc_application *a = op->out;
    cc_application_clear(a);
    memset(a, 0, sizeof *a);
    a->account_id = account;
    a->contact_id = c->id;
    cc_strlcpy(a->product, op->product->code, sizeof a->product);
    a->state = CC_APP_SUBMITTED;
    a->domains = cc_strdup(op->domains_json);
    a->csr = op->csr ? cc_strdup(op->csr) : NULL;
    cc_strlcpy(a->validate_type, op->validate_type ? op->validate_type : "",
               sizeof a->validate_type);
    a->version = 1;
    a->created_at = a->updated_at = now;
    if ((rc = cc_tx_app_insert(tx, a, err)))
        return rc;
    if ((rc = history_add(tx, op->caller, a, "", NULL, now, err)))
        return rc;
    if (op->idem_key &&
        (rc = cc_tx_app_idem_put(tx, account, op->idem_key, op->body_hash, a->id, now, err)))
        return rc;
    json_t *ch = json_object();
    svc_change_str(ch, "product", SVC_PII_NONE, NULL, a->product);
    svc_change_int(ch, "contact_id", 0, 0, 1, a->contact_id);
    svc_change_str(ch, "domains", SVC_PII_NONE, NULL, a->domains);
    svc_change_str(ch, "state", SVC_PII_NONE, NULL, cc_app_state_name(a->state));
    if (a->validate_type[0])
        svc_change_str(ch, "validate_type", SVC_PII_NONE, NULL, a->validate_type);
    return svc_audit(tx, op->caller, CC_AUDIT_APPLICATION_CREATE, a->id, ch, err);
}

/* The application's names from in: its domains, else the CSR's, checked
 * for the product and against the CSR; written as the stored JSON into
 * *json (owned by the caller: free()). */
static enum cc_err check_names(const struct cc_product *p, const struct cc_application_input *in,
                               char **json, struct cc_error *err)
{
    *json = NULL;
    struct cc_csr_info *csr = NULL;
    struct cc_domain *d = cc_calloc(CC_APP_DOMAINS_MAX, sizeof *d);
    const char **names = NULL;
    size_t n = in->n_domains;
    enum cc_err rc = CC_OK;
    if (in->csr) {
        csr = cc_calloc(1, sizeof *csr);
        if ((rc = cc_csr_parse(in->csr, csr, err)))
            goto out;
    }
    if (in->has_domains) {
        names = (const char **)in->domains;
    } else if (csr) {
        names = cc_calloc(csr->n_names, sizeof *names);
        for (size_t i = 0; i < csr->n_names; i++)
            names[i] = csr->names[i];
        n = csr->n_names;
    } else {
        rc = cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Domains",
                          "domains is required (or a csr that names them).");
        goto out;
    }
    if ((rc = cc_domains_check(p, names, n, d, err)))
        goto out;
    if (csr && in->has_domains && (rc = cc_csr_match(csr, d, n, err)))
        goto out;
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "name", d[i].unicode, "ascii",
                                             d[i].ascii));
    *json = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!*json)
        rc = cc_error_set(err, CC_ERR_INTERNAL, NULL, "out of memory");
out:
    if (names != (const char **)in->domains)
        cc_free(names);
    cc_free(csr);
    cc_free(d);
    return rc;
}

enum cc_err cc_application_create(struct cc_service *svc, const struct cc_caller *caller,
                                  const struct cc_application_input *in, const char *idem_key,
                                  const char *body_hash, struct cc_application *out,
                                  struct cc_contact *contact_out, int *replayed,
                                  struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    if (replayed)
        *replayed = 0;
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    if (!in->product)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Product", "product is required.");
    const struct cc_product *p = cc_product_find(in->product);
    if (!p)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Product",
                            "There is no product \"%.64s\"; GET /v1/products lists them.",
                            in->product);
    if (!in->contact && in->contact_id <= 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "ContactId",
                            "contact_id, or a new contact in contact, is required.");
    if (in->contact && in->contact_id > 0)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Contact",
                            "Give either contact_id or contact, not both.");
    if (in->validate_type && strcmp(in->validate_type, "DNS") != 0 &&
        strcmp(in->validate_type, "FILE") != 0)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "ValidateType",
                            "The validation type must be DNS or FILE.");
    char *json = NULL;
    if ((rc = check_names(p, in, &json, err)))
        return rc;
    struct svc_contact_new *nc = NULL;
    if (in->contact && (rc = svc_contact_prepare(svc, in->contact, &nc, err))) {
        free(json);
        return rc;
    }
    struct cc_contact *c = cc_calloc(1, sizeof *c);
    struct create_op op = {svc,      caller,    p,   json, in->csr, in->validate_type,
                           in->contact_id, nc, idem_key, body_hash, out, c, 0};
    rc = cc_store_write(svc->store, create_tx, &op, err);
    if (replayed)
        *replayed = op.replayed;
    if (rc) {
        cc_application_clear(out);
    } else if (contact_out) {
        *contact_out = *c;
        svc_contact_view(caller, SVC_VIEW_DETAIL, contact_out);
    }
    cc_free(c);
    cc_free(nc);
    free(json);
    if (!rc)
        svc_acme_poke(svc); /* an ACME product's application starts at once */
    return rc;
}

/* ---- read ------------------------------------------------------------------------ */
enum cc_err cc_application_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                               struct cc_application *out, struct cc_app_transition **history,
                               size_t *n_history, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    *history = NULL;
    *n_history = 0;
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    if ((rc = cc_store_app_get(svc->store, caller->account_id, id, out, err)))
        return rc;
    if ((rc = cc_store_app_history(svc->store, id, history, n_history, err)))
        cc_application_clear(out);
    return rc;
}

void cc_application_list_free(struct cc_application *items, size_t n)
{
    for (size_t i = 0; items && i < n; i++)
        cc_application_clear(&items[i]);
    cc_free(items);
}

enum cc_err cc_application_list(struct cc_service *svc, const struct cc_caller *caller,
                                const struct cc_app_filter *f, struct cc_application **out,
                                size_t *n, int64_t *total, struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    if ((rc = svc_check_page(f->page, f->page_size, err)))
        return rc;
    if (f->state && cc_app_state_parse(f->state) == CC_APP_STATE_COUNT)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "State",
                            "state must be submitted, pending_validation, approved, issued, "
                            "rejected or cancelled.");
    struct cc_domain d;
    if (f->domain && cc_domain_parse(f->domain, &d, err))
        return err ? err->code : CC_ERR_INCORRECT_FORMAT;
    struct cc_app_query q = {caller->account_id, f->state, f->contact_id,
                             f->domain ? d.ascii : NULL, f->product, f->page, f->page_size};
    return cc_store_app_list(svc->store, &q, out, n, total, err);
}

/* ---- transitions --------------------------------------------------------------- */
struct transition_op {
    struct cc_service *svc;
    const struct cc_caller *caller;
    int64_t id;
    enum cc_app_state to;
    const char *reason;
    const char *pem;
    const char *key_pem;        /* the certificate's private key (ACME made it), or NULL */
    struct cc_application *out;
    int by_hand;                /* a person's move (REST, console, Alibaba), not ACME's */
    int raised;
    int64_t cert_id;            /* out: the certificate an issue made */
};

/* The event entering state s raises, or NULL. */
static const char *event_of(enum cc_app_state s)
{
    switch (s) {
    case CC_APP_PENDING_VALIDATION: return "certificate.application.verification_required";
    case CC_APP_APPROVED: return "certificate.application.approved";
    case CC_APP_REJECTED: return "certificate.application.rejected";
    case CC_APP_ISSUED: return "certificate.issued";
    default: return NULL;
    }
}

/* The event's data: the application, its names, the product's brand and
 * validation type, and the reason when one was given. Owned: free(). */
static char *event_data(const struct cc_application *a, const char *reason, int64_t cert_id)
{
    const struct cc_product *p = cc_product_find(a->product);
    json_t *o = json_object(), *names = json_array();
    struct cc_domain *d = cc_calloc(CC_APP_DOMAINS_MAX, sizeof *d);
    size_t n = domains_load(a->domains, d);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(names, json_string(d[i].unicode));
    cc_free(d);
    char order[24];
    snprintf(order, sizeof order, "%lld", (long long)a->id);
    json_object_set_new(o, "application_id", json_integer(a->id));
    json_object_set_new(o, "order_id", json_string(order));
    json_object_set_new(o, "domains", names);
    json_object_set_new(o, "product", json_string(a->product));
    if (p) {
        json_object_set_new(o, "brand", json_string(p->brand));
        json_object_set_new(o, "type", json_string(cc_validation_name(p->validation)));
    }
    if (reason && reason[0])
        json_object_set_new(o, "reason", json_string(reason));
    if (cert_id) {
        char id[24];
        snprintf(id, sizeof id, "%lld", (long long)cert_id);
        json_object_set_new(o, "certificate_id", json_string(id));
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

/* The CC_ERR_INVALID_TRANSITION of a move from `from` to `to`. */
static enum cc_err refuse(enum cc_app_state from, enum cc_app_state to, struct cc_error *err)
{
    char allowed[160] = "";
    size_t used = 0;
    for (int s = 0; s < CC_APP_STATE_COUNT; s++)
        if (cc_app_transition_allowed(from, (enum cc_app_state)s)) {
            used += (size_t)snprintf(allowed + used, sizeof allowed - used, "%s%s",
                                     used ? ", " : "", cc_app_state_name((enum cc_app_state)s));
            if (used >= sizeof allowed)
                break;
        }
    if (!allowed[0])
        return cc_error_set(err, CC_ERR_INVALID_TRANSITION, "To",
                            "The application is %s, a final state: it cannot move to %s.",
                            cc_app_state_name(from), cc_app_state_name(to));
    return cc_error_set(err, CC_ERR_INVALID_TRANSITION, "To",
                        "An application that is %s cannot move to %s; it can move to: %s.",
                        cc_app_state_name(from), cc_app_state_name(to), allowed);
}

static enum cc_err transition_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct transition_op *op = arg;
    int64_t account = op->caller->account_id, now = cc_now_ms();
    struct cc_application *a = op->out;
    op->raised = 0;
    cc_application_clear(a);
    enum cc_err rc = cc_tx_app_get(tx, account, op->id, a, err);
    if (rc)
        return rc;
    enum cc_app_state from = a->state;
    if (!cc_app_transition_allowed(from, op->to))
        return refuse(from, op->to, err);
    if (op->by_hand && op->to != CC_APP_CANCELLED &&
        cc_application_moves_by_itself(op->svc, a->product))
        return cc_error_set(err, CC_ERR_INVALID_TRANSITION, "To",
                            "Application %lld is fulfilled by the ACME CA and moves by itself; "
                            "it can only be cancelled.",
                            (long long)a->id);
    if (op->to == CC_APP_ISSUED) {
        struct cc_domain *d = cc_calloc(CC_APP_DOMAINS_MAX, sizeof *d);
        size_t n = domains_load(a->domains, d);
        rc = cc_cert_pem_covers(op->pem, d, n, err);
        cc_free(d);
        if (rc)
            return rc;
        cc_free(a->certificate_pem);
        a->certificate_pem = cc_strdup(op->pem);
    }
    a->state = op->to;
    a->version++;
    a->updated_at = now;
    if ((rc = cc_tx_app_update_state(tx, a, err)))
        return rc;
    if ((rc = history_add(tx, op->caller, a, cc_app_state_name(from), op->reason, now, err)))
        return rc;
    json_t *ch = json_object();
    svc_change_str(ch, "state", SVC_PII_NONE, cc_app_state_name(from), cc_app_state_name(op->to));
    svc_change_str(ch, "reason", SVC_PII_NONE, NULL, op->reason);
    if ((rc = svc_audit(tx, op->caller, CC_AUDIT_APPLICATION_TRANSITION, a->id, ch, err)))
        return rc;
    int64_t cert_id = 0;
    op->cert_id = 0;
    if (op->to == CC_APP_ISSUED &&
        (rc = svc_application_issued_tx(tx, op->svc, op->caller, a, op->key_pem, &cert_id,
                                         err)))
        return rc;
    op->cert_id = cert_id;
    const char *type = event_of(op->to);
    if (!type)
        return CC_OK;
    /* A contact deleted since the submission gets nothing; the move stands. */
    struct cc_contact *c = cc_malloc(sizeof *c);
    rc = cc_tx_contact_get(tx, account, a->contact_id, c, err);
    cc_free(c);
    if (rc == CC_ERR_NOT_FOUND)
        return CC_OK;
    if (rc)
        return rc;
    char *data = event_data(a, op->reason, cert_id);
    int64_t event_id = 0;
    rc = data ? svc_event_raise_tx(tx, op->caller, type, &a->contact_id, 1, data, &event_id, err)
              : cc_error_set(err, CC_ERR_INTERNAL, NULL, "out of memory");
    free(data);
    op->raised = !rc;
    return rc;
}

static enum cc_err transition(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                              const char *to, const char *reason, const char *certificate_pem,
                              const char *key_pem, int by_hand, struct cc_application *out,
                              int64_t *cert_id, struct cc_error *err);

enum cc_err cc_application_transition(struct cc_service *svc, const struct cc_caller *caller,
                                      int64_t id, const char *to, const char *reason,
                                      const char *certificate_pem, struct cc_application *out,
                                      struct cc_error *err)
{
    return transition(svc, caller, id, to, reason, certificate_pem, NULL, 1, out, NULL, err);
}

enum cc_err svc_application_transition(struct cc_service *svc, const struct cc_caller *caller,
                                       int64_t id, const char *to, const char *reason,
                                       const char *certificate_pem, const char *key_pem,
                                       struct cc_application *out, int64_t *cert_id,
                                       struct cc_error *err)
{
    return transition(svc, caller, id, to, reason, certificate_pem, key_pem, 0, out, cert_id,
                      err);
}

int cc_application_moves_by_itself(const struct cc_service *svc, const char *product)
{
    const struct cc_product *p = cc_product_find(product);
    return p && p->acme && __atomic_load_n(&svc->acme, __ATOMIC_ACQUIRE) != NULL;
}

static enum cc_err transition(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                              const char *to, const char *reason, const char *certificate_pem,
                              const char *key_pem, int by_hand, struct cc_application *out,
                              int64_t *cert_id, struct cc_error *err)
{
    if (cert_id)
        *cert_id = 0;
    memset(out, 0, sizeof *out);
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    if (!to)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "To", "to is required.");
    enum cc_app_state s = cc_app_state_parse(to);
    if (s == CC_APP_STATE_COUNT || s == CC_APP_SUBMITTED)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "To",
                            "to must be pending_validation, approved, issued, rejected or "
                            "cancelled.");
    if (reason) {
        size_t len = strlen(reason);
        if (len > CC_APP_REASON_MAX || !cc_utf8_valid(reason, len))
            return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Reason",
                                "reason must be valid UTF-8 of at most %d bytes.",
                                CC_APP_REASON_MAX);
    }
    if (s == CC_APP_ISSUED && !certificate_pem)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "CertificatePem",
                            "Moving to issued needs certificate_pem, the issued certificate.");
    if (s != CC_APP_ISSUED && certificate_pem)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "CertificatePem",
                            "certificate_pem goes only with a move to issued.");
    struct transition_op op = {svc, caller, id, s, reason, certificate_pem, key_pem, out,
                               by_hand, 0, 0};
    rc = cc_store_write(svc->store, transition_tx, &op, err);
    if (rc) {
        cc_application_clear(out);
        return rc;
    }
    if (op.raised)
        cc_dispatcher_wake(svc->dispatcher);
    if (cert_id)
        *cert_id = op.cert_id;
    svc_reminders_poke(svc); /* an issued certificate has reminders to schedule */
    return CC_OK;
}

/* ---- eligibility ------------------------------------------------------------------- */
enum cc_err cc_application_eligibility(struct cc_service *svc, const struct cc_caller *caller,
                                       const char *product, int64_t contact_id,
                                       struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc)
        return rc;
    if (!product || !product[0])
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Product", "product is required.");
    const struct cc_product *p = cc_product_find(product);
    if (!p)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Product",
                            "There is no product \"%.64s\"; GET /v1/products lists them.",
                            product);
    if (contact_id <= 0)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "ContactId", "contact_id is required.");
    struct cc_contact *c = cc_malloc(sizeof *c);
    rc = cc_store_contact_get(svc->store, caller->account_id, contact_id, c, err);
    if (rc == CC_ERR_NOT_FOUND)
        rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "ContactId",
                          "Contact %lld does not exist.", (long long)contact_id);
    if (!rc)
        rc = contact_eligible(p, c, err); /* the very check a submission makes */
    cc_free(c);
    return rc;
}
