/*
 * rest_audit.c — REST v1 audit log (admins of the account only):
 *   GET /v1/audit       a page of entries, newest first, with filters
 *   GET /v1/audit.csv   the same filters as CSV, up to CC_AUDIT_EXPORT_MAX rows
 * Filters: actor, action (a name of the enumerated list), target_type,
 * target_id, since and until (RFC 3339; until exclusive). Nothing here
 * changes or removes an entry: no interface does.
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

static int bad(struct cc_request *req, const char *field, const char *msg)
{
    struct cc_error err;
    cc_error_set(&err, CC_ERR_INVALID_PARAMETER, field, "%s", msg);
    cc_req_error(req, &err);
    return -1;
}

static int query_text(struct cc_request *req, const char *name, const char *field, size_t max,
                      const char **out)
{
    const char *v = cc_req_query(req, name);
    *out = v && v[0] ? v : NULL;
    if (*out && (strlen(*out) > max || !cc_utf8_valid(*out, strlen(*out))))
        return bad(req, field, "The filter is too long or not valid text.");
    return 0;
}

static int query_time(struct cc_request *req, const char *name, const char *field,
                      int64_t *out)
{
    const char *v = cc_req_query(req, name);
    *out = 0;
    if (!v || !v[0])
        return 0;
    if (strlen(v) > 64 || cc_cert_parse_time(v, out) || *out <= 0)
        return bad(req, field, "The time must be RFC 3339 (2026-01-31T08:00:00Z) or a date.");
    return 0;
}

static int query_num(struct cc_request *req, const char *name, const char *field, int64_t def,
                     int64_t *out)
{
    const char *v = cc_req_query(req, name);
    *out = def;
    if (v && v[0] && cc_parse_i64(v, 1, INT64_MAX, out))
        return bad(req, field, "The value must be a positive whole number.");
    return 0;
}

/* The filters of the query string into f; -1 when one is bad (answered). */
static int read_filter(struct cc_request *req, struct cc_audit_filter *f)
{
    memset(f, 0, sizeof *f);
    return query_text(req, "actor", "Actor", CC_AUDIT_ACTOR_MAX, &f->actor) ||
           query_text(req, "action", "Action", 47, &f->action) ||
           query_text(req, "target_type", "TargetType", 23, &f->target_type) ||
           query_text(req, "target_id", "TargetId", CC_AUDIT_TARGET_MAX, &f->target_id) ||
           query_time(req, "since", "Since", &f->since) ||
           query_time(req, "until", "Until", &f->until) ||
           query_num(req, "page", "Page", 1, &f->page) ||
           query_num(req, "page_size", "PageSize", 20, &f->page_size)
               ? -1
               : 0;
}

static json_t *render_entry(const struct cc_audit_entry *e)
{
    json_t *ch = e->changes ? json_loads(e->changes, 0, NULL) : NULL;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(e->id));
    json_object_set_new(o, "time", cc_render_time(e->created_at));
    json_object_set_new(o, "actor", json_string(e->actor));
    json_object_set_new(o, "source", e->source[0] ? json_string(e->source) : json_null());
    json_object_set_new(o, "request_id",
                        e->request_id[0] ? json_string(e->request_id) : json_null());
    json_object_set_new(o, "action", json_string(e->action));
    json_object_set_new(o, "target_type", json_string(e->target_type));
    json_object_set_new(o, "target_id", json_string(e->target_id));
    json_object_set_new(o, "changes", ch ? ch : json_null());
    json_object_set_new(o, "hash", json_string(e->hash));
    return o;
}

void cc_h_audit_list(struct cc_request *req)
{
    struct cc_audit_filter f;
    if (read_filter(req, &f))
        return;
    struct cc_audit_entry *e = NULL;
    size_t n = 0;
    int64_t total = 0;
    struct cc_error err;
    if (cc_audit_list(cc_req_service(req), cc_req_caller(req), &f, 0, &e, &n, &total, &err)) {
        cc_req_error(req, &err);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(items, render_entry(&e[i]));
    cc_audit_entries_free(e, n);
    cc_req_json(req, 200, json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total",
                                    (json_int_t)total, "page", (json_int_t)f.page, "page_size",
                                    (json_int_t)f.page_size));
}

/* One CSV field: always quoted, quotes doubled, and a leading = + - @ (or
 * tab, CR) made inert with a quote, so a spreadsheet never runs it as a
 * formula. */
static void csv_field(struct cc_buf *b, const char *s, int last)
{
    cc_buf_puts(b, "\"");
    if (s && strchr("=+-@\t\r", s[0]) && s[0])
        cc_buf_puts(b, "'");
    for (const char *p = s ? s : ""; *p; p++) {
        cc_buf_append(b, p, 1);
        if (*p == '"')
            cc_buf_append(b, "\"", 1);
    }
    cc_buf_puts(b, last ? "\"\r\n" : "\",");
}

void cc_h_audit_csv(struct cc_request *req)
{
    struct cc_audit_filter f;
    if (read_filter(req, &f))
        return;
    struct cc_audit_entry *e = NULL;
    size_t n = 0;
    int64_t total = 0;
    struct cc_error err;
    if (cc_audit_list(cc_req_service(req), cc_req_caller(req), &f, 1, &e, &n, &total, &err)) {
        cc_req_error(req, &err);
        return;
    }
    struct cc_buf b;
    cc_buf_init(&b, (size_t)CC_AUDIT_EXPORT_MAX * 8192);
    cc_buf_puts(&b, "id,time,actor,source,request_id,action,target_type,target_id,changes,hash\r\n");
    for (size_t i = 0; i < n; i++) {
        char id[24], ts[40];
        snprintf(id, sizeof id, "%lld", (long long)e[i].id);
        cc_time_rfc3339(e[i].created_at, ts, sizeof ts);
        const char *cols[] = {id, ts, e[i].actor, e[i].source, e[i].request_id, e[i].action,
                              e[i].target_type, e[i].target_id, e[i].changes, e[i].hash};
        for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
            csv_field(&b, cols[k], k + 1 == sizeof cols / sizeof cols[0]);
    }
    cc_audit_entries_free(e, n);
    char t[24];
    snprintf(t, sizeof t, "%lld", (long long)total);
    cc_req_add_header(req, "X-Total-Count", t);
    cc_req_add_header(req, "Content-Disposition", "attachment; filename=\"audit.csv\"");
    cc_req_text(req, 200, "text/csv; charset=utf-8", b.data ? b.data : "", b.len);
    cc_buf_free(&b);
}
