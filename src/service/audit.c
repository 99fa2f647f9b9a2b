/*
 * audit.c — the audit log's use cases: writing an entry in the transaction
 * of the change it records (svc_audit, with the caller's origin and the
 * changed fields masked), reading it (admin), verifying its hash chain,
 * and the retention job that removes old entries and records what it
 * removed. The action list and the hash are core's (core/audit.h); the
 * chain is kept by the store (store/audit.h).
 */
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

/* ---- writing ------------------------------------------------------------------ */

void svc_caller_system(struct cc_caller *out, int64_t account_id, const char *actor)
{
    memset(out, 0, sizeof *out);
    out->account_id = account_id;
    out->role = CC_ROLE_ADMIN;
    cc_strlcpy(out->key_id, actor, sizeof out->key_id);
}

void cc_caller_cli(struct cc_caller *out, int64_t account_id)
{
    svc_caller_system(out, account_id, "cli");
}

enum cc_err svc_audit_ref(struct cc_tx *tx, const struct cc_caller *caller,
                          enum cc_audit_action action, const char *target, json_t *changes,
                          struct cc_error *err)
{
    struct cc_audit_entry e;
    memset(&e, 0, sizeof e);
    const char *name = cc_audit_action_name(action);
    if (!name) {
        json_decref(changes);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "unknown audit action %d", (int)action);
    }
    e.created_at = cc_now_ms();
    e.account_id = caller->account_id;
    cc_strlcpy(e.actor, caller->key_id[0] ? caller->key_id : "system", sizeof e.actor);
    cc_strlcpy(e.source, caller->origin.source, sizeof e.source);
    cc_strlcpy(e.request_id, caller->origin.request_id, sizeof e.request_id);
    cc_strlcpy(e.action, name, sizeof e.action);
    cc_strlcpy(e.target_type, cc_audit_target_type(action), sizeof e.target_type);
    cc_strlcpy(e.target_id, target ? target : "", sizeof e.target_id);
    char *text = NULL;
    if (changes && json_object_size(changes) > 0) {
        text = cc_json_compact_sorted(changes, NULL);
        if (!text) {
            json_decref(changes);
            return cc_error_set(err, CC_ERR_INTERNAL, NULL, "out of memory");
        }
    }
    json_decref(changes);
    e.changes = text;
    enum cc_err rc = cc_tx_audit_append(tx, &e, err);
    cc_free(text);
    return rc;
}

enum cc_err svc_audit(struct cc_tx *tx, const struct cc_caller *caller,
                      enum cc_audit_action action, int64_t target_id, json_t *changes,
                      struct cc_error *err)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)target_id);
    return svc_audit_ref(tx, caller, action, id, changes, err);
}

/* ---- the changed fields ------------------------------------------------------- */

static json_t *masked(enum svc_pii kind, const char *v)
{
    char out[CC_URL_MAX + 1];
    switch (kind) {
    case SVC_PII_NAME: cc_mask_name(v, out, sizeof out); break;
    case SVC_PII_EMAIL: cc_mask_email(v, out, sizeof out); break;
    case SVC_PII_MOBILE: cc_mask_mobile(v, out, sizeof out); break;
    case SVC_PII_ID_CARD: cc_mask_id_card(v, out, sizeof out); break;
    case SVC_PII_URL: cc_mask_webhook_url(v, out, sizeof out); break;
    default: return json_string(v);
    }
    return json_string(out);
}

static void put(json_t *ch, const char *field, json_t *old, json_t *new_)
{
    json_t *o = json_object();
    if (old)
        json_object_set_new(o, "old", old);
    if (new_)
        json_object_set_new(o, "new", new_);
    json_object_set_new(ch, field, o);
}

void svc_change_str(json_t *ch, const char *field, enum svc_pii kind, const char *old,
                    const char *new_)
{
    if (old && !old[0])
        old = NULL;
    if (new_ && !new_[0])
        new_ = NULL;
    if (!ch || (!old && !new_) || (old && new_ && !strcmp(old, new_)))
        return;
    put(ch, field, old ? masked(kind, old) : NULL, new_ ? masked(kind, new_) : NULL);
}

void svc_change_int(json_t *ch, const char *field, int has_old, int64_t old, int has_new,
                    int64_t new_)
{
    if (!ch || (!has_old && !has_new) || (has_old && has_new && old == new_))
        return;
    put(ch, field, has_old ? json_integer(old) : NULL, has_new ? json_integer(new_) : NULL);
}

void svc_change_secret(json_t *ch, const char *field, int old_set, int new_set)
{
    if (!ch || (!old_set && !new_set))
        return;
    put(ch, field, old_set ? json_string("set") : NULL, new_set ? json_string("set") : NULL);
}

static void change_time(json_t *ch, const char *field, int64_t old, int64_t new_)
{
    if (!!old == !!new_)
        return; /* only becoming verified or unverified is a change worth recording */
    put(ch, field, old ? json_string("verified") : json_string("unverified"),
        new_ ? json_string("verified") : json_string("unverified"));
}

static json_t *webhooks_masked(const struct cc_contact *c)
{
    json_t *a = json_array();
    for (int i = 0; c && i < c->n_webhooks; i++) {
        char url[CC_URL_MAX + 1];
        cc_mask_webhook_url(c->webhooks[i].url, url, sizeof url);
        json_array_append_new(a, json_pack("{s:s, s:b}", "url", url, "secret",
                                           c->webhooks[i].has_secret));
    }
    return a;
}

json_t *svc_contact_changes(const struct cc_contact *old, const struct cc_contact *new_)
{
    json_t *ch = json_object();
    svc_change_str(ch, "name", SVC_PII_NAME, old ? old->name : NULL, new_ ? new_->name : NULL);
    svc_change_str(ch, "email", SVC_PII_EMAIL, old && old->has_email ? old->email : NULL,
                   new_ && new_->has_email ? new_->email : NULL);
    svc_change_str(ch, "mobile", SVC_PII_MOBILE, old ? old->mobile : NULL,
                   new_ ? new_->mobile : NULL);
    /* the stored masked form: the plain number is not at hand on a read */
    svc_change_str(ch, "id_card", SVC_PII_NONE,
                   old && old->has_id_card ? old->id_card_masked : NULL,
                   new_ && new_->has_id_card ? new_->id_card_masked : NULL);
    svc_change_str(ch, "language", SVC_PII_NONE, old ? old->language : NULL,
                   new_ ? new_->language : NULL);
    if (old && new_) {
        change_time(ch, "email_verified", old->email_verified_at, new_->email_verified_at);
        change_time(ch, "mobile_verified", old->mobile_verified_at, new_->mobile_verified_at);
    }
    json_t *wo = old ? webhooks_masked(old) : NULL, *wn = new_ ? webhooks_masked(new_) : NULL;
    if ((wo && json_array_size(wo)) || (wn && json_array_size(wn))) {
        if (wo && wn && json_equal(wo, wn)) {
            json_decref(wo);
            json_decref(wn);
        } else {
            put(ch, "webhooks", wo, wn);
        }
    } else {
        json_decref(wo);
        json_decref(wn);
    }
    return ch;
}

/* ---- reading -------------------------------------------------------------------- */

enum cc_err cc_audit_list(struct cc_service *svc, const struct cc_caller *caller,
                          struct cc_audit_filter *f, int export, struct cc_audit_entry **out,
                          size_t *n, int64_t *total, struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    enum cc_err rc = cc_service_require(caller, CC_ROLE_ADMIN, err);
    if (rc)
        return rc;
    if (export) {
        f->page = 1;
        f->page_size = CC_AUDIT_EXPORT_MAX;
    } else if ((rc = svc_check_page(f->page, f->page_size, err))) {
        return rc;
    }
    if (f->action && f->action[0] && cc_audit_action_parse(f->action) == CC_AUDIT_NONE)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Action",
                            "There is no audit action \"%.48s\".", f->action);
    if (f->since && f->until && f->until <= f->since)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Until",
                            "until must come after since.");
    f->account_id = caller->account_id;
    return cc_store_audit_list(svc->store, f, out, n, total, err);
}

/* ---- verifying ------------------------------------------------------------------ */

static int check_one(const struct cc_audit_entry *e, int64_t expect_id, const char *prev,
                     struct cc_audit_report *out)
{
    if (e->id != expect_id) {
        snprintf(out->problem, sizeof out->problem,
                 "entries %lld to %lld are missing: removed other than by retention",
                 (long long)expect_id, (long long)e->id - 1);
        return -1;
    }
    char h[CC_AUDIT_HASH_HEX + 1];
    cc_audit_hash(e, prev, h);
    if (!e->hash[0] || strcmp(h, e->hash) != 0) {
        snprintf(out->problem, sizeof out->problem,
                 "entry %lld does not match its hash: it was changed, or the entry before it "
                 "was", (long long)e->id);
        return -1;
    }
    return 0;
}

enum cc_err cc_audit_verify(struct cc_service *svc, struct cc_audit_report *out,
                            struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    char prev[CC_AUDIT_HASH_HEX + 1];
    enum cc_err rc = cc_store_audit_anchor(svc->store, &out->anchor_id, prev, &out->removed, err);
    if (rc)
        return rc;
    cc_strlcpy(out->head, prev, sizeof out->head);
    int64_t after = out->anchor_id;
    for (;;) {
        struct cc_audit_entry *e = NULL;
        size_t n = 0;
        if ((rc = cc_store_audit_chain(svc->store, after, 1000, &e, &n, err)))
            return rc;
        for (size_t i = 0; i < n && !out->bad_id; i++) {
            if (check_one(&e[i], after + 1, prev, out)) {
                out->bad_id = e[i].id;
                break;
            }
            if (!out->first_id)
                out->first_id = e[i].id;
            out->last_id = after = e[i].id;
            out->checked++;
            cc_strlcpy(prev, e[i].hash, sizeof prev);
        }
        cc_audit_entries_free(e, n);
        if (n < 1000 || out->bad_id)
            break;
    }
    cc_strlcpy(out->head, prev, sizeof out->head);
    return CC_OK;
}

/* ---- retention ------------------------------------------------------------------ */

struct retain_op {
    int64_t before, now, removed;
};

static enum cc_err retain_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct retain_op *op = arg;
    struct cc_audit_removal *r = NULL;
    size_t n = 0;
    int64_t through = 0;
    op->removed = 0;
    enum cc_err rc = cc_tx_audit_retain(tx, op->before, CC_AUDIT_RETAIN_BATCH, op->now, &r, &n,
                                        &through, err);
    for (size_t i = 0; !rc && i < n; i++) {
        struct cc_caller sys;
        svc_caller_system(&sys, r[i].account_id, "retention");
        json_t *ch = json_object();
        svc_change_int(ch, "removed", 0, 0, 1, r[i].removed);
        svc_change_int(ch, "oldest_at", 0, 0, 1, r[i].first_at);
        svc_change_int(ch, "newest_at", 0, 0, 1, r[i].last_at);
        svc_change_int(ch, "before", 0, 0, 1, op->before);
        svc_change_int(ch, "through_id", 0, 0, 1, through);
        rc = svc_audit(tx, &sys, CC_AUDIT_AUDIT_RETENTION, through, ch, err);
        op->removed += r[i].removed;
    }
    cc_free(r);
    return rc;
}

enum cc_err cc_audit_retention_run(struct cc_service *svc, int64_t days, int64_t now,
                                   int64_t *removed, struct cc_error *err)
{
    if (removed)
        *removed = 0;
    if (days < CC_AUDIT_RETENTION_MIN_DAYS)
        days = CC_AUDIT_RETENTION_MIN_DAYS;
    struct retain_op op = {now - days * 86400000LL, now, 0};
    for (;;) {
        enum cc_err rc = cc_store_write(svc->store, retain_tx, &op, err);
        if (rc)
            return rc;
        if (removed)
            *removed += op.removed;
        if (op.removed < CC_AUDIT_RETAIN_BATCH)
            return CC_OK;
    }
}

struct svc_audit_job {
    struct cc_service *svc;
    int64_t days;
    struct svc_job job;           /* its thread, woken and stopped through job.cv */
};

static void *job_main(void *arg)
{
    struct svc_audit_job *j = arg;
    pthread_mutex_lock(&j->job.mu);
    while (!j->job.stopping) {
        pthread_mutex_unlock(&j->job.mu);
        struct cc_error err;
        int64_t removed = 0;
        if (cc_audit_retention_run(j->svc, j->days, cc_now_ms(), &removed, &err))
            cc_log(CC_LOG_WARN, "audit retention failed", "error", err.message, NULL);
        else if (removed) {
            char n[24];
            snprintf(n, sizeof n, "%lld", (long long)removed);
            cc_log(CC_LOG_INFO, "audit entries past retention removed", "removed", n, NULL);
        }
        cc_service_thread_done(j->svc);
        pthread_mutex_lock(&j->job.mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 3600;
        while (!j->job.stopping && pthread_cond_timedwait(&j->job.cv, &j->job.mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&j->job.mu);
    return NULL;
}

enum cc_err cc_audit_retention_start(struct cc_service *svc, int64_t days, struct cc_error *err)
{
    struct svc_audit_job *j = cc_calloc(1, sizeof *j);
    j->svc = svc;
    j->days = days;
    if (svc_job_start(&j->job, job_main, j)) {
        cc_free(j);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "cannot start the audit retention job");
    }
    svc->audit_job = j;
    return CC_OK;
}

void cc_audit_retention_stop(struct cc_service *svc)
{
    struct svc_audit_job *j = svc->audit_job;
    if (!j)
        return;
    svc_job_stop(&j->job);
    cc_free(j);
    svc->audit_job = NULL;
}
