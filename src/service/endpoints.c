/*
 * endpoints.c — watched TLS endpoints: who may add, read, change and delete
 * them; what one check means; and the checker thread that runs the checks.
 *
 * A check is one handshake (delivery/tls_probe.c). What it saw is matched
 * to the account's certificates by the leaf's fingerprint, and the newest
 * active certificate covering every served name is looked for. Three
 * alerts follow from it — outdated (a newer certificate exists but the old
 * one is served), expiring (within the account's first reminder threshold)
 * and error (no handshake, an incomplete or unverifiable chain, names that
 * do not cover the host) — and each is raised once when it starts and once
 * (with resolved) when it clears, to the endpoint's contacts and the served
 * certificate's subscribers. The alerts raised are kept on the endpoint and
 * compared inside the write transaction that records the result and the
 * events, so two checks of one endpoint at once (the schedule and a "check
 * now") never tell anyone twice. A failed handshake says nothing about
 * what is served, so it leaves outdated and expiring as they were.
 *
 * The checker thread sleeps until the earliest next check (one indexed
 * query) or a poke, claims the due endpoints, checks them on at most
 * `concurrency` threads — on-demand checks take places from the same pool —
 * and schedules each again after the interval, moved by up to
 * CC_ENDPOINT_JITTER_PERCENT either way.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

#define DAY_MS 86400000LL
/* A claimed check not finished within its batch's timeouts and this much
 * more (the server stopped) is taken again. */
#define CLAIM_SLACK_MS 60000
#define CHECKER_ACTOR "endpoint-checker"

struct svc_endpoints {
    struct cc_service *svc;
    struct cc_endpoint_config cfg;
    char ca_file[1024];
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* on CLOCK_MONOTONIC */
    int stop, poked;
    int busy;                   /* checks running (under mu) */
    pthread_cond_t slot_cv;     /* a place among the checks came free */
};

static const struct cc_endpoint_config defaults = {
    CC_ENDPOINT_INTERVAL_DEFAULT_S, CC_ENDPOINT_TIMEOUT_DEFAULT_MS,
    CC_ENDPOINT_CONCURRENCY_DEFAULT, ""};

static const struct cc_endpoint_config *config(const struct cc_service *svc)
{
    struct svc_endpoints *ep = __atomic_load_n(&svc->endpoints, __ATOMIC_ACQUIRE);
    return ep ? &ep->cfg : &defaults;
}

/* ---- input ------------------------------------------------------------------ */

/* The contacts to tell, as sent: at most CC_ENDPOINT_CONTACTS_MAX, each
 * once (that they are the account's is checked in the write). */
static enum cc_err contact_ids_check(const int64_t *ids, size_t n, struct cc_error *err)
{
    if (n > CC_ENDPOINT_CONTACTS_MAX)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "ContactIds",
                            "An endpoint tells at most %d contacts.", CC_ENDPOINT_CONTACTS_MAX);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (ids[i] == ids[j])
                return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "ContactIds",
                                    "Contact %lld is named twice.", (long long)ids[i]);
    return CC_OK;
}

/* in checked into e (host, port, sni, contacts). */
static enum cc_err prepare(const struct cc_endpoint_input *in, struct cc_endpoint *e,
                           struct cc_error *err)
{
    int ip = 0, sni_ip = 0;
    enum cc_err rc = cc_endpoint_check_host(in->host, "Host", e->host, sizeof e->host, &ip, err);
    if (rc)
        return rc;
    if (in->port < 0 || in->port > 65535)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Port",
                            "port must be a whole number from 1 to 65535 (443 when left out).");
    e->port = in->port ? (int)in->port : 443;
    if (in->sni && in->sni[0]) {
        if ((rc = cc_endpoint_check_host(in->sni, "Sni", e->sni, sizeof e->sni, &sni_ip, err)))
            return rc;
        if (sni_ip)
            return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Sni",
                                "sni is the server name sent in the handshake, such as "
                                "www.example.com, not an address.");
        if (!strcmp(e->sni, e->host))
            e->sni[0] = '\0'; /* the host's own name: one way to say it */
    }
    if ((rc = contact_ids_check(in->contact_ids, in->n_contact_ids, err)))
        return rc;
    memcpy(e->contacts, in->contact_ids, in->n_contact_ids * sizeof *e->contacts);
    e->n_contacts = in->n_contact_ids;
    return CC_OK;
}

/* Every id is a contact of the account. */
static enum cc_err check_contacts(struct cc_tx *tx, int64_t account_id, const int64_t *ids,
                                  size_t n, struct cc_error *err)
{
    struct cc_contact *ct = cc_malloc(sizeof *ct);
    enum cc_err rc = CC_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        rc = cc_tx_contact_get(tx, account_id, ids[i], ct, err);
        if (rc == CC_ERR_NOT_FOUND)
            rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "ContactIds",
                              "Contact %lld does not exist.", (long long)ids[i]);
    }
    cc_free(ct);
    return rc;
}

/* ---- create, read, change, delete ------------------------------------------- */

struct create_op {
    const struct cc_caller *caller;
    struct cc_endpoint *e;
};

static enum cc_err create_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct create_op *op = arg;
    struct cc_endpoint *e = op->e;
    int64_t n = 0;
    enum cc_err rc = cc_tx_endpoint_count(tx, e->account_id, &n, err);
    if (rc)
        return rc;
    if (n >= CC_ENDPOINTS_MAX)
        return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "Endpoints",
                            "An account watches at most %d endpoints.", CC_ENDPOINTS_MAX);
    if ((rc = check_contacts(tx, e->account_id, e->contacts, e->n_contacts, err)) ||
        (rc = cc_tx_endpoint_insert(tx, e, &e->id, err)))
        return rc;
    json_t *ch = json_object();
    svc_change_str(ch, "host", SVC_PII_NONE, NULL, e->host);
    svc_change_int(ch, "port", 0, 0, 1, e->port);
    svc_change_str(ch, "sni", SVC_PII_NONE, NULL, e->sni[0] ? e->sni : NULL);
    svc_change_int(ch, "contacts", 0, 0, 1, (int64_t)e->n_contacts);
    return svc_audit(tx, op->caller, CC_AUDIT_ENDPOINT_CREATE, e->id, ch, err);
}

static void checker_poke(struct cc_service *svc)
{
    struct svc_endpoints *ep = __atomic_load_n(&svc->endpoints, __ATOMIC_ACQUIRE);
    if (!ep)
        return;
    pthread_mutex_lock(&ep->mu);
    ep->poked = 1;
    pthread_cond_broadcast(&ep->cv);
    pthread_mutex_unlock(&ep->mu);
}

enum cc_err cc_endpoint_create(struct cc_service *svc, const struct cc_caller *caller,
                               const struct cc_endpoint_input *in, struct cc_endpoint *out,
                               struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    struct cc_endpoint *e = cc_calloc(1, sizeof *e);
    e->account_id = caller->account_id;
    if (!(rc = prepare(in, e, err))) {
        e->created_at = e->updated_at = e->next_check_at = cc_now_ms(); /* due at once */
        struct create_op op = {caller, e};
        rc = cc_store_write(svc->store, create_tx, &op, err);
    }
    if (!rc) {
        checker_poke(svc);
        rc = cc_store_endpoint_get(svc->store, caller->account_id, e->id, out, err);
    }
    cc_endpoint_clear(e);
    cc_free(e);
    return rc;
}

enum cc_err cc_endpoint_get(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                            struct cc_endpoint *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    return rc ? rc : cc_store_endpoint_get(svc->store, caller->account_id, id, out, err);
}

enum cc_err cc_endpoint_list(struct cc_service *svc, const struct cc_caller *caller,
                             int64_t page, int64_t page_size, struct cc_endpoint **out,
                             size_t *n, int64_t *total, struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    enum cc_err rc = cc_service_require(caller, CC_ROLE_READONLY, err);
    if (rc || (rc = svc_check_page(page, page_size, err)))
        return rc;
    return cc_store_endpoint_list(svc->store, caller->account_id, page, page_size, out, n, total,
                                  err);
}

struct update_op {
    const struct cc_caller *caller;
    int64_t id;
    const int64_t *ids;
    size_t n;
};

static enum cc_err update_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct update_op *op = arg;
    int64_t account = op->caller->account_id;
    struct cc_endpoint *e = cc_calloc(1, sizeof *e);
    enum cc_err rc = cc_tx_endpoint_get(tx, account, op->id, e, err);
    int64_t before = (int64_t)e->n_contacts;
    cc_endpoint_clear(e);
    cc_free(e);
    if (rc || (rc = check_contacts(tx, account, op->ids, op->n, err)) ||
        (rc = cc_tx_endpoint_contacts_set(tx, op->id, op->ids, op->n, cc_now_ms(), err)))
        return rc;
    json_t *ch = json_object();
    svc_change_int(ch, "contacts", 1, before, 1, (int64_t)op->n);
    return svc_audit(tx, op->caller, CC_AUDIT_ENDPOINT_UPDATE, op->id, ch, err);
}

enum cc_err cc_endpoint_update(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                               const int64_t *contact_ids, size_t n, struct cc_endpoint *out,
                               struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    if ((rc = contact_ids_check(contact_ids, n, err)))
        return rc;
    struct update_op op = {caller, id, contact_ids, n};
    if ((rc = cc_store_write(svc->store, update_tx, &op, err)))
        return rc;
    return cc_store_endpoint_get(svc->store, caller->account_id, id, out, err);
}

struct delete_op {
    const struct cc_caller *caller;
    int64_t id;
};

static enum cc_err delete_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct delete_op *op = arg;
    struct cc_endpoint *e = cc_calloc(1, sizeof *e);
    enum cc_err rc = cc_tx_endpoint_get(tx, op->caller->account_id, op->id, e, err);
    json_t *ch = NULL;
    if (!rc) {
        ch = json_object();
        svc_change_str(ch, "host", SVC_PII_NONE, e->host, NULL);
        svc_change_int(ch, "port", 1, e->port, 0, 0);
        svc_change_str(ch, "sni", SVC_PII_NONE, e->sni[0] ? e->sni : NULL, NULL);
    }
    cc_endpoint_clear(e);
    cc_free(e);
    if (!rc)
        rc = cc_tx_endpoint_delete(tx, op->caller->account_id, op->id, err);
    if (rc) {
        json_decref(ch);
        return rc;
    }
    return svc_audit(tx, op->caller, CC_AUDIT_ENDPOINT_DELETE, op->id, ch, err);
}

enum cc_err cc_endpoint_delete(struct cc_service *svc, const struct cc_caller *caller, int64_t id,
                               struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc)
        return rc;
    struct delete_op op = {caller, id};
    return cc_store_write(svc->store, delete_tx, &op, err);
}

/* ---- what a check means ------------------------------------------------------ */

/* When the next check is due after one at now (ms). */
static int64_t next_check(const struct cc_endpoint_config *cfg, int64_t now)
{
    int64_t iv = cfg->interval_s * 1000, span = iv * CC_ENDPOINT_JITTER_PERCENT / 100;
    uint32_t r = 0;
    cc_random_bytes(&r, sizeof r);
    return now + iv - span + (span > 0 ? (int64_t)(r % (uint64_t)(2 * span + 1)) : 0);
}

/* The names of a JSON array text joined with ", " into out. */
static void names_text(const char *json, char *out, size_t outsz)
{
    json_t *a = json_loads(json ? json : "[]", 0, NULL);
    size_t i, len = 0;
    json_t *v;
    out[0] = '\0';
    json_array_foreach(a, i, v) {
        if (!json_is_string(v) || len + 1 >= outsz)
            continue;
        len += (size_t)snprintf(out + len, outsz - len, "%s%s", len ? ", " : "",
                                json_string_value(v));
        if (len >= outsz)
            len = outsz - 1;
    }
    json_decref(a);
}

/* in into out, cut on a character boundary when it does not fit. */
static void utf8_copy(char *out, const char *in, size_t outsz)
{
    cc_strlcpy(out, in, outsz);
    size_t len = strlen(out);
    while (len && !cc_utf8_valid(out, len))
        out[--len] = '\0';
}

/* Appends one reason to en and zh (a space between reasons). */
static void reason_add(char *en, size_t ensz, char *zh, size_t zhsz, const char *e,
                       const char *z)
{
    size_t n = strlen(en);
    snprintf(en + n, ensz - n, "%s%s", n ? " " : "", e);
    n = strlen(zh);
    snprintf(zh + n, zhsz - n, "%s", z);
}

/* What a check found, ready to be written. */
struct check_result {
    struct cc_tls_probe_result probe;
    struct cc_certificate leaf;         /* parsed from probe.leaf_pem when it was served */
    int have_leaf;
    char reason[CC_ENDPOINT_REASON_MAX + 1];
    char reason_zh[2 * CC_ENDPOINT_REASON_MAX + 1];
};

/* The probe's findings: the leaf parsed and the reasons for an error. */
static void judge(const struct cc_endpoint *e, struct check_result *r)
{
    const struct cc_tls_probe_result *p = &r->probe;
    char en[1400], zh[1400];
    en[0] = zh[0] = '\0';
    if (!p->handshake_ok) {
        snprintf(zh, sizeof zh, "无法与服务器完成 TLS 握手（%s）。", p->error);
        snprintf(en, sizeof en, "%s.", p->error);
    } else {
        struct cc_error perr;
        if (p->leaf_pem &&
            !cc_x509_parse(p->leaf_pem, strlen(p->leaf_pem), &r->leaf, &perr))
            r->have_leaf = 1;
        else
            reason_add(en, sizeof en, zh, sizeof zh,
                       "The served certificate cannot be read.", "无法读取服务器提供的证书。");
        char a[640], b[640];
        if (!p->chain_complete) {
            snprintf(a, sizeof a, "The certificate chain is incomplete: the server does not "
                     "send the intermediate certificate that issued its certificate (%s).",
                     p->verify_error);
            snprintf(b, sizeof b, "证书链不完整：服务器没有发送签发其证书的中间证书（%s）。",
                     p->verify_error);
            reason_add(en, sizeof en, zh, sizeof zh, a, b);
        } else if (!p->chain_verified) {
            snprintf(a, sizeof a, "The certificate chain does not verify: %s.", p->verify_error);
            snprintf(b, sizeof b, "证书链验证失败：%s。", p->verify_error);
            reason_add(en, sizeof en, zh, sizeof zh, a, b);
        }
        if (!p->names_match) {
            char names[160];
            names_text(r->have_leaf ? r->leaf.domains : NULL, names, sizeof names);
            const char *host = e->sni[0] ? e->sni : e->host;
            snprintf(a, sizeof a, "The certificate does not cover %s; it is for %s.", host,
                     names[0] ? names : "other names");
            snprintf(b, sizeof b, "证书不包含 %s，证书上的名称为 %s。", host,
                     names[0] ? names : "其他名称");
            reason_add(en, sizeof en, zh, sizeof zh, a, b);
        }
    }
    utf8_copy(r->reason, en, sizeof r->reason);
    utf8_copy(r->reason_zh, zh, sizeof r->reason_zh);
}

/* The data of an alert's event. Owned by the caller: json_decref(). */
static json_t *alert_data(const struct cc_service *svc, const struct cc_endpoint *e,
                          enum cc_endpoint_alert a, int resolved, const struct check_result *r,
                          int64_t now)
{
    char id[24], where[CC_DOMAIN_MAX * 2 + 32], host[CC_DOMAIN_MAX + 3];
    snprintf(id, sizeof id, "%lld", (long long)e->id);
    snprintf(host, sizeof host, strchr(e->host, ':') ? "[%s]" : "%s", e->host);
    if (e->sni[0])
        snprintf(where, sizeof where, "%s:%d (%s)", e->sni, e->port, host);
    else
        snprintf(where, sizeof where, "%s:%d", host, e->port);
    json_t *o = json_pack("{s:s, s:s, s:s, s:i}", "endpoint_id", id, "endpoint", where, "host",
                          e->host, "port", e->port);
    if (e->sni[0])
        json_object_set_new(o, "sni", json_string(e->sni));
    if (resolved)
        json_object_set_new(o, "resolved", json_string("yes"));
    const struct cc_endpoint_check *k = &e->last;
    if (r->have_leaf) {
        json_t *names = json_loads(k->names ? k->names : "[]", 0, NULL);
        json_object_set_new(o, "domains", names ? names : json_array());
        char t[32], when[40];
        cc_time_rfc3339(k->not_after, t, sizeof t);
        snprintf(when, sizeof when, "%.10s %.5s UTC", t, t + 11);
        json_object_set_new(o, "not_after", json_string(when));
        if (a == CC_ENDPOINT_ALERT_EXPIRING)
            /* whole days begun: 47 hours left is "in 2 days" */
            json_object_set_new(o, "days_left",
                                json_integer(k->not_after > now
                                                 ? (k->not_after - now + DAY_MS - 1) / DAY_MS
                                                 : 0));
        json_object_set_new(o, "fingerprint", json_string(k->fingerprint));
    }
    if (k->certificate_id) {
        char cid[24], url[640];
        snprintf(cid, sizeof cid, "%lld", (long long)k->certificate_id);
        json_object_set_new(o, "certificate_id", json_string(cid));
        if (svc->public_url[0]) {
            snprintf(url, sizeof url, "%s/#/certificates/%s", svc->public_url, cid);
            json_object_set_new(o, "url", json_string(url));
        }
    }
    if (k->newer_certificate_id)
        json_object_set_new(o, "newer_certificate_id", json_integer(k->newer_certificate_id));
    if (a == CC_ENDPOINT_ALERT_ERROR && !resolved) {
        json_object_set_new(o, "reason", json_string(r->reason));
        json_object_set_new(o, "reason_zh", json_string(r->reason_zh));
    }
    return o;
}

/* Who hears of e's alerts: its contacts, then the served certificate's
 * subscribers, each once, at most max. */
static enum cc_err recipients(struct cc_tx *tx, const struct cc_endpoint *e, int64_t *ids,
                              size_t max, size_t *n, struct cc_error *err)
{
    *n = 0;
    for (size_t i = 0; i < e->n_contacts && *n < max; i++)
        ids[(*n)++] = e->contacts[i];
    if (!e->last.certificate_id)
        return CC_OK;
    struct cc_certificate *c = cc_calloc(1, sizeof *c);
    enum cc_err rc = cc_tx_cert_get(tx, e->account_id, e->last.certificate_id, c, err);
    if (rc == CC_ERR_NOT_FOUND)
        rc = CC_OK;
    for (size_t i = 0; !rc && i < c->n_subscribers && *n < max; i++) {
        size_t j = 0;
        while (j < *n && ids[j] != c->subscribers[i])
            j++;
        if (j == *n)
            ids[(*n)++] = c->subscribers[i];
    }
    cc_certificate_clear(c);
    cc_free(c);
    return rc;
}

struct apply_op {
    struct cc_service *svc;
    int64_t account_id, id;
    struct check_result *r;
    int64_t checked_at, now;            /* wall clock; the service's clock */
    size_t raised;
};

/* r's findings onto e->last, matched to the account's certificates. */
static enum cc_err record(struct cc_tx *tx, struct cc_endpoint *e, const struct check_result *r,
                          int64_t checked_at, struct cc_error *err)
{
    struct cc_endpoint_check *k = &e->last;
    cc_free(k->names);
    memset(k, 0, sizeof *k);
    k->checked_at = checked_at;
    k->handshake_ok = r->probe.handshake_ok;
    cc_strlcpy(k->error, r->reason, sizeof k->error);
    cc_strlcpy(k->tls_version, r->probe.tls_version, sizeof k->tls_version);
    k->chain_verified = r->probe.chain_verified;
    k->chain_complete = r->probe.chain_complete;
    k->names_match = r->probe.names_match;
    if (!r->have_leaf)
        return CC_OK;
    cc_strlcpy(k->fingerprint, r->leaf.fingerprint, sizeof k->fingerprint);
    k->names = cc_strdup(r->leaf.domains ? r->leaf.domains : "[]");
    cc_strlcpy(k->issuer, r->leaf.issuer, sizeof k->issuer);
    k->not_after = r->leaf.not_after;
    enum cc_err rc = cc_tx_cert_find_fingerprint(tx, e->account_id, k->fingerprint,
                                                 &k->certificate_id, err);
    if (rc && rc != CC_ERR_NOT_FOUND)
        return rc;
    rc = cc_tx_endpoint_newer_cert(tx, e->account_id, k->names, k->not_after, k->fingerprint,
                                   &k->newer_certificate_id, err);
    return rc == CC_ERR_NOT_FOUND ? CC_OK : rc;
}

/* The alerts r means for e at now (the service's clock). */
static enum cc_err alerts_now(struct cc_tx *tx, const struct cc_endpoint *e,
                              const struct check_result *r, unsigned before, int64_t now,
                              unsigned *out, struct cc_error *err)
{
    const struct cc_endpoint_check *k = &e->last;
    if (!k->handshake_ok) {
        /* nothing seen: what was served may still be served */
        *out = CC_ENDPOINT_ALERT_ERROR |
               (before & (CC_ENDPOINT_ALERT_OUTDATED | CC_ENDPOINT_ALERT_EXPIRING));
        return CC_OK;
    }
    unsigned a = 0;
    if (r->reason[0])
        a |= CC_ENDPOINT_ALERT_ERROR;
    if (k->newer_certificate_id)
        a |= CC_ENDPOINT_ALERT_OUTDATED;
    struct cc_reminder_settings s;
    enum cc_err rc = svc_reminder_settings_tx(tx, e->account_id, &s, err);
    if (rc)
        return rc;
    /* days are kept largest first: the first reminder's threshold */
    if (r->have_leaf && s.n_days && k->not_after > now &&
        k->not_after - now <= (int64_t)s.days[0] * DAY_MS)
        a |= CC_ENDPOINT_ALERT_EXPIRING;
    *out = a;
    return CC_OK;
}

/* Raises every alert that started or cleared between before and after. */
static enum cc_err raise_changes(struct cc_tx *tx, struct apply_op *op,
                                 const struct cc_endpoint *e, unsigned before, unsigned after,
                                 struct cc_error *err)
{
    static const enum cc_endpoint_alert order[] = {
        CC_ENDPOINT_ALERT_ERROR, CC_ENDPOINT_ALERT_OUTDATED, CC_ENDPOINT_ALERT_EXPIRING};
    int64_t ids[CC_EVENT_MAX_CONTACTS];
    size_t n = 0;
    enum cc_err rc = CC_OK;
    int have_ids = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0] && !rc; i++) {
        unsigned bit = (unsigned)order[i];
        if (!(before & bit) == !(after & bit))
            continue;
        if (!have_ids && (rc = recipients(tx, e, ids, CC_EVENT_MAX_CONTACTS, &n, err)))
            break;
        have_ids = 1;
        if (!n)
            continue; /* nobody to tell: the state is still recorded */
        json_t *d = alert_data(op->svc, e, order[i], !(after & bit), op->r, op->now);
        char *data = json_dumps(d, JSON_COMPACT);
        json_decref(d);
        struct cc_caller sys;
        svc_caller_system(&sys, e->account_id, CHECKER_ACTOR);
        int64_t event_id = 0;
        rc = svc_event_raise_tx(tx, &sys, cc_endpoint_alert_event(order[i]), ids, n, data,
                                &event_id, err);
        free(data);
        if (!rc)
            op->raised++;
    }
    return rc;
}

static enum cc_err apply_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct apply_op *op = arg;
    op->raised = 0; /* a retried transaction starts again */
    struct cc_endpoint *e = cc_calloc(1, sizeof *e);
    enum cc_err rc = cc_tx_endpoint_get(tx, op->account_id, op->id, e, err);
    if (rc == CC_ERR_NOT_FOUND) {
        rc = CC_OK; /* deleted while it was checked */
        goto out;
    }
    unsigned before = e->alerts, after = 0;
    if (rc || (rc = record(tx, e, op->r, op->checked_at, err)) ||
        (rc = alerts_now(tx, e, op->r, before, op->now, &after, err)) ||
        (rc = raise_changes(tx, op, e, before, after, err)))
        goto out;
    e->alerts = after;
    e->next_check_at = next_check(config(op->svc), op->checked_at);
    rc = cc_tx_endpoint_result_set(tx, e, err);
out:
    cc_endpoint_clear(e);
    cc_free(e);
    return rc;
}

/* ---- running a check ---------------------------------------------------------- */

/* Waits for a place among the checks running (none to wait for outside
 * serve). */
static void slot_take(struct cc_service *svc)
{
    struct svc_endpoints *ep = __atomic_load_n(&svc->endpoints, __ATOMIC_ACQUIRE);
    if (!ep)
        return;
    pthread_mutex_lock(&ep->mu);
    while (ep->busy >= ep->cfg.concurrency)
        pthread_cond_wait(&ep->slot_cv, &ep->mu);
    ep->busy++;
    pthread_mutex_unlock(&ep->mu);
}

static void slot_give(struct cc_service *svc)
{
    struct svc_endpoints *ep = __atomic_load_n(&svc->endpoints, __ATOMIC_ACQUIRE);
    if (!ep)
        return;
    pthread_mutex_lock(&ep->mu);
    ep->busy--;
    pthread_cond_signal(&ep->slot_cv);
    pthread_mutex_unlock(&ep->mu);
}

/* Checks endpoint id of account and records what it found. */
static enum cc_err check_one(struct cc_service *svc, int64_t account_id, int64_t id,
                             struct cc_error *err)
{
    struct cc_endpoint *e = cc_calloc(1, sizeof *e);
    struct check_result *r = cc_calloc(1, sizeof *r);
    enum cc_err rc = cc_store_endpoint_get(svc->store, account_id, id, e, err);
    if (rc)
        goto out;
    const struct cc_endpoint_config *cfg = config(svc);
    int ip = 0;
    char host[CC_DOMAIN_MAX + 1];
    struct cc_error ignored;
    cc_endpoint_check_host(e->host, "Host", host, sizeof host, &ip, &ignored);
    const char *name = e->sni[0] ? e->sni : e->host;
    struct cc_tls_probe_req rq = {e->host, e->port, e->sni[0] ? e->sni : ip ? NULL : e->host,
                                  name, cfg->timeout_ms, cfg->ca_file, cc_service_now(svc)};
    slot_take(svc);
    cc_tls_probe(&rq, &r->probe);
    slot_give(svc);
    judge(e, r);
    struct apply_op op = {svc, account_id, id, r, cc_now_ms(), cc_service_now(svc), 0};
    rc = cc_store_write(svc->store, apply_tx, &op, err);
    if (!rc && op.raised)
        cc_dispatcher_wake(svc->dispatcher);
out:
    cc_free(r->probe.leaf_pem);
    cc_certificate_clear(&r->leaf);
    cc_free(r);
    cc_endpoint_clear(e);
    cc_free(e);
    return rc;
}

enum cc_err cc_endpoint_check_now(struct cc_service *svc, const struct cc_caller *caller,
                                  int64_t id, struct cc_endpoint *out, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_OPERATOR, err);
    if (rc || (rc = check_one(svc, caller->account_id, id, err)))
        return rc;
    return cc_store_endpoint_get(svc->store, caller->account_id, id, out, err);
}

/* ---- the checker thread --------------------------------------------------------- */

struct claim_op {
    int64_t now, until;
    size_t n;
    int64_t ids[CC_ENDPOINT_BATCH], accounts[CC_ENDPOINT_BATCH];
};

/* Takes the due endpoints: each is due again at until unless its check
 * finishes first, so a stopped server does not lose it. */
static enum cc_err claim_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct claim_op *op = arg;
    enum cc_err rc = cc_tx_endpoint_due(tx, op->now, CC_ENDPOINT_BATCH, op->ids, op->accounts,
                                        &op->n, err);
    for (size_t i = 0; i < op->n && !rc; i++)
        rc = cc_tx_endpoint_schedule(tx, op->ids[i], op->until, err);
    return rc;
}

struct pass_work {
    struct cc_service *svc;
    const struct claim_op *claim;
    size_t next;                 /* atomic: the next item to take */
};

static void *worker(void *arg)
{
    struct pass_work *w = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&w->next, 1, __ATOMIC_RELAXED);
        if (i >= w->claim->n)
            break;
        struct cc_error err;
        if (check_one(w->svc, w->claim->accounts[i], w->claim->ids[i], &err) &&
            err.code != CC_ERR_NOT_FOUND)
            cc_log(CC_LOG_ERROR, "endpoints: recording a check failed", "error", err.message,
                   NULL);
    }
    cc_service_thread_done(w->svc);
    return NULL;
}

/* Checks one claimed batch on up to concurrency threads (the calling one
 * when no thread starts). */
static void run_batch(struct svc_endpoints *ep, const struct claim_op *claim)
{
    struct pass_work w = {ep->svc, claim, 0};
    size_t k = (size_t)ep->cfg.concurrency < claim->n ? (size_t)ep->cfg.concurrency : claim->n;
    pthread_t t[CC_ENDPOINT_CONCURRENCY_MAX];
    size_t started = 0;
    for (size_t i = 0; i < k && i < CC_ENDPOINT_CONCURRENCY_MAX; i++)
        if (!pthread_create(&t[started], NULL, worker, &w))
            started++;
    if (!started) {
        for (size_t i = 0; i < claim->n; i++) {
            struct cc_error err;
            check_one(ep->svc, claim->accounts[i], claim->ids[i], &err);
        }
        return;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(t[i], NULL);
}

/* One wake-up: check what is due; how long to sleep (ms). */
static int64_t pass(struct svc_endpoints *ep)
{
    struct claim_op *claim = cc_calloc(1, sizeof *claim);
    struct cc_error err;
    int64_t wait = -1;
    do {
        claim->now = cc_now_ms();
        /* the last of a full batch waits for batch / concurrency checks before it */
        claim->until = claim->now + CLAIM_SLACK_MS +
                       ep->cfg.timeout_ms * (CC_ENDPOINT_BATCH / ep->cfg.concurrency + 1);
        if (cc_store_write(ep->svc->store, claim_tx, claim, &err)) {
            cc_log(CC_LOG_ERROR, "endpoints: taking due checks failed", "error", err.message,
                   NULL);
            wait = 1000;
            break;
        }
        run_batch(ep, claim);
        pthread_mutex_lock(&ep->mu);
        int stop = ep->stop;
        pthread_mutex_unlock(&ep->mu);
        if (stop)
            break;
    } while (claim->n == CC_ENDPOINT_BATCH);
    cc_free(claim);
    if (wait >= 0)
        return wait;
    int64_t next = 0, cap = ep->cfg.interval_s * 1000;
    if (cc_store_endpoint_next(ep->svc->store, &next, &err)) {
        cc_log(CC_LOG_ERROR, "endpoints: reading the next check time failed", "error",
               err.message, NULL);
        return 1000;
    }
    if (!next)
        return cap;
    wait = next - cc_now_ms();
    return wait <= 0 ? 0 : wait < cap ? wait : cap;
}

static void sleep_for(struct svc_endpoints *ep, int64_t wait_ms)
{
    if (ep->stop || ep->poked)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = (int64_t)ts.tv_nsec + (wait_ms % 1000) * 1000000;
    ts.tv_sec += (time_t)(wait_ms / 1000 + ns / 1000000000);
    ts.tv_nsec = (long)(ns % 1000000000);
    pthread_cond_timedwait(&ep->cv, &ep->mu, &ts);
}

static void *run(void *arg)
{
    struct svc_endpoints *ep = arg;
    int64_t last_pass = 0;
    pthread_mutex_lock(&ep->mu);
    while (!ep->stop) {
        ep->poked = 0;
        pthread_mutex_unlock(&ep->mu);
        int64_t wait = pass(ep);
        cc_service_thread_rest(ep->svc, &last_pass, wait);
        pthread_mutex_lock(&ep->mu);
        sleep_for(ep, wait);
    }
    pthread_mutex_unlock(&ep->mu);
    cc_service_thread_done(ep->svc);
    return NULL;
}

enum cc_err cc_endpoints_start(struct cc_service *svc, const struct cc_endpoint_config *cfg,
                               struct cc_error *err)
{
    struct svc_endpoints *ep = cc_calloc(1, sizeof *ep);
    ep->svc = svc;
    ep->cfg = *cfg;
    if (ep->cfg.interval_s < 1)
        ep->cfg.interval_s = CC_ENDPOINT_INTERVAL_DEFAULT_S;
    if (ep->cfg.timeout_ms < 1)
        ep->cfg.timeout_ms = CC_ENDPOINT_TIMEOUT_DEFAULT_MS;
    if (ep->cfg.concurrency < 1 || ep->cfg.concurrency > CC_ENDPOINT_CONCURRENCY_MAX)
        ep->cfg.concurrency = CC_ENDPOINT_CONCURRENCY_DEFAULT;
    cc_strlcpy(ep->ca_file, cfg->ca_file ? cfg->ca_file : "", sizeof ep->ca_file);
    ep->cfg.ca_file = ep->ca_file;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ep->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&ep->slot_cv, NULL);
    pthread_mutex_init(&ep->mu, NULL);
    /* visible before the thread runs: its checks take places from the pool */
    __atomic_store_n(&svc->endpoints, ep, __ATOMIC_RELEASE);
    if (pthread_create(&ep->thread, NULL, run, ep)) {
        __atomic_store_n(&svc->endpoints, NULL, __ATOMIC_RELEASE);
        pthread_cond_destroy(&ep->cv);
        pthread_cond_destroy(&ep->slot_cv);
        pthread_mutex_destroy(&ep->mu);
        cc_free(ep);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "cannot start the endpoint checker");
    }
    return CC_OK;
}

void cc_endpoints_stop(struct cc_service *svc)
{
    struct svc_endpoints *ep = svc ? svc->endpoints : NULL;
    if (!ep)
        return;
    /* the HTTP server has stopped: no on-demand check holds a place */
    pthread_mutex_lock(&ep->mu);
    ep->stop = 1;
    pthread_cond_broadcast(&ep->cv);
    pthread_mutex_unlock(&ep->mu);
    pthread_join(ep->thread, NULL);
    __atomic_store_n(&svc->endpoints, NULL, __ATOMIC_RELEASE);
    pthread_cond_destroy(&ep->cv);
    pthread_cond_destroy(&ep->slot_cv);
    pthread_mutex_destroy(&ep->mu);
    cc_free(ep);
}
