/*
 * store_common.c — the backend-neutral logic of store_common.h.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/store_common.h"
#include "util/util.h"

int cc_store_schema_version(const char *prefix)
{
    size_t len = strlen(prefix);
    int64_t newest = 0, version;
    for (const struct cc_embedded_file *f = cc_embedded; f->path; f++)
        if (strncmp(f->path, prefix, len) == 0 &&
            cc_parse_i64n(f->path + len, 4, 1, 9999, &version) == 0 && version > newest)
            newest = version;
    return (int)newest;
}

enum cc_err cc_store_template_missing(const char *event_type, const char *channel,
                                      const char *language, struct cc_error *err)
{
    return cc_error_set(err, CC_ERR_NOT_FOUND, NULL,
                        "The account has no template of its own for %s on %s in %s.",
                        event_type, channel, language);
}

const char *cc_store_keyword(const char *keyword, char *kw, size_t kwsz)
{
    if (!keyword || !keyword[0])
        return NULL;
    cc_strlcpy(kw, keyword, kwsz);
    cc_ascii_lower(kw);
    return kw;
}

static const char *const cert_states[] = {"active", "expired", "revoked", "superseded"};

enum cc_cert_state cc_store_cert_state_parse(const char *name)
{
    enum cc_cert_state state = CC_CERT_ACTIVE;
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, cert_states[i]))
            state = (enum cc_cert_state)i;
    return state;
}

const char *cc_store_cert_state_stored(enum cc_cert_state state)
{
    return state == CC_CERT_EXPIRED ? "active" : cert_states[state];
}

size_t cc_store_page_rows(int64_t total, int64_t page, int64_t page_size)
{
    int64_t left = total - (page - 1) * page_size;
    return left <= 0 ? 0 : (size_t)(left < page_size ? left : page_size);
}

int64_t cc_store_count_limit(const struct cc_contact_query *q)
{
    return q->count_max > 0 ? q->count_max + 1 : INT64_MAX;
}

void cc_store_count_cut(const struct cc_contact_query *q, struct cc_contact_page *out)
{
    if (q->count_max > 0 && out->total > q->count_max) {
        out->total = q->count_max;
        out->total_capped = 1;
    }
}

int cc_store_contact_page_open(const struct cc_contact_query *q, struct cc_contact_page *out,
                               int64_t *offset)
{
    /* a capped count says "at least": the page may hold rows past it */
    out->cap = out->total_capped ? (size_t)q->page_size
                                 : cc_store_page_rows(out->total, q->page, q->page_size);
    out->items = out->cap ? cc_calloc(out->cap, sizeof *out->items) : NULL;
    out->n = 0;
    *offset = (q->page - 1) * q->page_size;
    return out->cap > 0;
}

char *cc_store_webhooks_keep_json(const struct cc_contact *ct)
{
    json_t *keep = json_array();
    for (int i = 0; i < ct->n_webhooks; i++)
        json_array_append_new(keep, json_string(ct->webhooks[i].url_tag));
    char *keep_json = json_dumps(keep, JSON_COMPACT);
    json_decref(keep);
    return keep_json;
}

const char *cc_store_erase_masks(const struct cc_contact *ct, char em[CC_MASKED_MAX],
                                 char mm[CC_MASKED_MAX])
{
    const char *national = ct->mobile;
    if (!strncmp(national, "+86", 3))
        national += 3;
    cc_mask_email(ct->has_email ? ct->email : "", em, CC_MASKED_MAX);
    cc_mask_mobile(ct->mobile, mm, CC_MASKED_MAX);
    return national;
}

enum cc_err cc_store_audit_entry_make(struct cc_audit_entry *e, int64_t account_id,
                                      const char *actor, const char *action,
                                      const char *object_type, int64_t object_id,
                                      const char *detail, int64_t now, struct cc_error *err)
{
    memset(e, 0, sizeof *e);
    e->created_at = now;
    e->account_id = account_id;
    cc_strlcpy(e->actor, actor, sizeof e->actor);
    cc_strlcpy(e->action, action, sizeof e->action);
    cc_strlcpy(e->target_type, object_type, sizeof e->target_type);
    snprintf(e->target_id, sizeof e->target_id, "%lld", (long long)object_id);
    if (detail) {
        json_t *o = json_pack("{s:{s:s}}", "detail", "new", detail);
        e->changes = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(o);
        if (!e->changes)
            return cc_error_set(err, CC_ERR_INTERNAL, NULL, "out of memory");
    }
    return CC_OK;
}

enum cc_err cc_store_audit_check(const struct cc_audit_entry *e, struct cc_error *err)
{
    if (cc_audit_action_parse(e->action) == CC_AUDIT_NONE)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "unknown audit action \"%s\"",
                            e->action);
    return CC_OK;
}

void cc_store_audit_link(struct cc_audit_entry *e, int64_t last, const char *prev)
{
    e->id = last + 1;
    cc_audit_hash(e, prev, e->hash);
}

static const struct {
    const char *table, *column;
} sealed_columns[CC_SEALED_COLUMNS] = {
#define SEALED_NAMES(col, table, key, column) [col] = {table, column},
    CC_STORE_SEALED_COLUMN_LIST(SEALED_NAMES)
#undef SEALED_NAMES
};

int cc_store_sealed_known(const char *table, const char *column)
{
    for (int i = 0; i < CC_SEALED_COLUMNS; i++)
        if (!strcmp(sealed_columns[i].table, table) && !strcmp(sealed_columns[i].column, column))
            return 1;
    return 0;
}

enum cc_err cc_store_endpoint_page_end(enum cc_err rc, struct cc_endpoint *items,
                                       struct cc_endpoint **out, size_t *n)
{
    if (rc) {
        for (size_t i = 0; i < *n; i++)
            cc_endpoint_clear(&items[i]);
        cc_free(items);
        *n = 0;
        return rc;
    }
    *out = items;
    return CC_OK;
}

const char *const cc_store_verif_status_names[4] = {"sending", "sent", "failed", "superseded"};

enum cc_verif_status cc_store_verif_status_parse(const char *name)
{
    enum cc_verif_status status = CC_VERIF_SENDING;
    for (int i = 0; i < 4; i++)
        if (!strcmp(name, cc_store_verif_status_names[i]))
            status = (enum cc_verif_status)i;
    return status;
}

size_t cc_store_days_parse(const char *text, int *days)
{
    json_t *a = text ? json_loads(text, 0, NULL) : NULL;
    size_t n = 0, i;
    json_t *v;
    json_array_foreach(a, i, v) if (json_is_integer(v) && n < CC_REMINDER_DAYS_MAX) days[n++] =
        (int)json_integer_value(v);
    json_decref(a);
    return n;
}

void cc_store_days_text(const int *days, size_t n, char *out, size_t outsz)
{
    size_t len = (size_t)snprintf(out, outsz, "[");
    for (size_t i = 0; i < n && len < outsz; i++)
        len += (size_t)snprintf(out + len, outsz - len, "%s%d", i ? "," : "", days[i]);
    if (len < outsz)
        snprintf(out + len, outsz - len, "]");
}

/* ---- the limits of a deployment ------------------------------------------------------- */
/* Past states and nonces are dropped at most this often per process. */
#define PURGE_EVERY_MS 60000

static _Atomic int64_t purged_at;

int cc_store_purge_due(int64_t now_ms)
{
    int64_t last = atomic_load(&purged_at);
    return now_ms - last >= PURGE_EVERY_MS &&
           atomic_compare_exchange_strong(&purged_at, &last, now_ms);
}

void cc_store_nonce_why(struct cc_nonce_op *op, int64_t live, int64_t first)
{
    op->verdict = live || !first ? CC_NONCE_REPLAY : CC_NONCE_FULL;
    op->retry_ms = first > op->now_ms ? first - op->now_ms : 1;
}

void cc_store_first_domain(const char *domains_json, char *out, size_t outsz)
{
    out[0] = '\0';
    json_t *a = domains_json ? json_loads(domains_json, 0, NULL) : NULL;
    json_t *v = json_is_array(a) ? json_array_get(a, 0) : NULL;
    if (json_is_string(v))
        cc_strlcpy(out, json_string_value(v), outsz);
    json_decref(a);
}

void cc_store_id_list(struct cc_buf *b, const int64_t *ids, size_t n, char open, char close)
{
    cc_buf_init(b, n * (CC_I64_CHARS + 1) + 2);
    cc_buf_append(b, &open, 1);
    for (size_t i = 0; i < n; i++) {
        char num[CC_I64_CHARS];
        if (i)
            cc_buf_append(b, ",", 1);
        cc_buf_append(b, num, cc_fmt_i64(num, ids[i]));
    }
    cc_buf_append(b, &close, 1);
}
