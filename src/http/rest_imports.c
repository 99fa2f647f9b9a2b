/*
 * rest_imports.c — REST v1 contact import and export:
 * POST /v1/contacts/import (the CSV file as the body, text/csv),
 * GET /v1/contacts/imports/{id} and GET /v1/contacts/imports/{id}/rows.
 * The work and its rules are service/imports.c's.
 */
#include <stdio.h>
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

static int fail(struct cc_request *req, enum cc_err code, const char *field, const char *msg)
{
    struct cc_error e;
    cc_error_set(&e, code, field, "%s", msg);
    cc_req_error(req, &e);
    return -1;
}

/* An optional true|false query argument into *out (def when absent). */
static int query_bool(struct cc_request *req, const char *name, const char *field, int def,
                      int *out)
{
    const char *v = cc_req_query(req, name);
    *out = def;
    if (!v)
        return 0;
    if (!strcmp(v, "true") || !strcmp(v, "1"))
        *out = 1;
    else if (!strcmp(v, "false") || !strcmp(v, "0"))
        *out = 0;
    else {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be true or false.", name);
        return fail(req, CC_ERR_INVALID_PARAMETER, field, msg);
    }
    return 0;
}

static int query_i64(struct cc_request *req, const char *name, const char *field, int64_t def,
                     int64_t *out)
{
    const char *v = cc_req_query(req, name);
    *out = def;
    if (v && cc_parse_i64(v, 0, INT64_MAX, out)) {
        char msg[96];
        snprintf(msg, sizeof msg, "%s must be a whole number.", name);
        return fail(req, CC_ERR_INVALID_PARAMETER, field, msg);
    }
    return 0;
}

static json_t *render_import(const struct cc_import *j)
{
    json_t *ignored = json_loads(j->ignored_columns, 0, NULL);
    if (!json_is_array(ignored)) {
        json_decref(ignored);
        ignored = json_array();
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(j->id));
    json_object_set_new(o, "state", json_string(cc_import_state_name(j->state)));
    json_object_set_new(o, "dry_run", json_boolean(j->dry_run));
    json_object_set_new(o, "mode", json_string(j->skip_bad ? "skip_bad" : "all"));
    json_object_set_new(o, "trust_verified", json_boolean(j->trust_verified));
    json_object_set_new(o, "encoding", json_string(j->encoding));
    json_object_set_new(o, "ignored_columns", ignored);
    json_object_set_new(o, "total", json_integer(j->total));
    json_object_set_new(o, "checked", json_integer(j->checked));
    json_object_set_new(o, "processed", json_integer(j->processed));
    json_object_set_new(o, "created", json_integer(j->created));
    json_object_set_new(o, "updated", json_integer(j->updated));
    json_object_set_new(o, "unchanged", json_integer(j->unchanged));
    json_object_set_new(o, "refused", json_integer(j->refused));
    json_object_set_new(o, "error", j->error_code[0]
                                        ? json_pack("{s:s, s:s}", "code", j->error_code,
                                                    "message", j->error_message)
                                        : json_null());
    json_object_set_new(o, "created_at", cc_render_time(j->created_at));
    json_object_set_new(o, "finished_at", cc_render_time(j->finished_at));
    return o;
}

/* Reading a large file and recording the job waits on the database: on the
 * blocking pool. */
static void import_start(struct cc_request *req)
{
    struct cc_import_options o;
    const char *mode = cc_req_query(req, "mode");
    if (query_bool(req, "dry_run", "DryRun", 0, &o.dry_run) ||
        query_bool(req, "trust_verified", "TrustVerified", 0, &o.trust_verified))
        return;
    if (mode && strcmp(mode, "all") != 0 && strcmp(mode, "skip_bad") != 0) {
        fail(req, CC_ERR_INVALID_PARAMETER, "Mode", "mode must be all or skip_bad.");
        return;
    }
    o.skip_bad = mode && !strcmp(mode, "skip_bad");
    size_t len = 0;
    const char *body = cc_req_body(req, &len);
    struct cc_import j;
    struct cc_error err;
    if (cc_import_start(cc_req_service(req), cc_req_caller(req), body ? body : "", len, &o, &j,
                        &err)) {
        cc_req_error(req, &err);
        return;
    }
    char loc[64];
    snprintf(loc, sizeof loc, "/v1/contacts/imports/%lld", (long long)j.id);
    cc_req_add_header(req, "Location", loc);
    cc_req_json(req, 202, render_import(&j));
}

void cc_h_contacts_import(struct cc_request *req)
{
    cc_req_defer(req, import_start);
}

void cc_h_contacts_import_get(struct cc_request *req)
{
    struct cc_import j;
    struct cc_error err;
    if (cc_import_get(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), &j, &err))
        cc_req_error(req, &err);
    else
        cc_req_json(req, 200, render_import(&j));
}

void cc_h_contacts_import_rows(struct cc_request *req)
{
    int action = -1;
    const char *a = cc_req_query(req, "action");
    if (a && (action = cc_import_action_parse(a)) < 0) {
        fail(req, CC_ERR_INVALID_PARAMETER, "Action",
             "action must be create, update, unchanged or refuse.");
        return;
    }
    int64_t offset, limit;
    if (query_i64(req, "offset", "Offset", 0, &offset) ||
        query_i64(req, "limit", "Limit", 100, &limit))
        return;
    struct cc_import_row *rows = NULL;
    size_t n = 0;
    int64_t total = 0;
    struct cc_error err;
    if (cc_import_rows(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), action,
                       offset, limit, &rows, &n, &total, &err)) {
        cc_req_error(req, &err);
        return;
    }
    int zh = !strncmp(cc_req_lang(req), "zh", 2);
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        const struct cc_import_row *r = &rows[i];
        json_t *o = json_object();
        json_object_set_new(o, "row", json_integer(r->row));
        json_object_set_new(o, "action", json_string(cc_import_action_name(r->action)));
        json_object_set_new(o, "contact_id",
                            r->contact_id ? json_integer(r->contact_id) : json_null());
        json_object_set_new(o, "name", json_string(r->name));
        json_object_set_new(o, "email", r->email[0] ? json_string(r->email) : json_null());
        json_object_set_new(o, "mobile", r->mobile[0] ? json_string(r->mobile) : json_null());
        json_object_set_new(o, "code", r->code[0] ? json_string(r->code) : json_null());
        json_object_set_new(o, "field", r->field[0] ? json_string(r->field) : json_null());
        json_object_set_new(o, "message",
                            !r->code[0]                ? json_null()
                            : zh && r->message_zh[0] ? json_string(r->message_zh)
                                                     : json_string(r->message));
        json_array_append_new(arr, o);
    }
    cc_free(rows);
    cc_req_json(req, 200, json_pack("{s:I, s:o}", "total", (json_int_t)total, "rows", arr));
}

static int export_fill(void *arg, struct cc_buf *buf)
{
    return cc_export_next(arg, buf);
}

static void export_done(void *arg)
{
    cc_export_close(arg);
}

/* GET /v1/contacts/export?format=csv|jsonl&full=false: streamed, page by page. */
void cc_h_contacts_export(struct cc_request *req)
{
    const char *format = cc_req_query(req, "format");
    int full;
    if (query_bool(req, "full", "Full", 0, &full))
        return;
    if (format && strcmp(format, "csv") != 0 && strcmp(format, "jsonl") != 0) {
        fail(req, CC_ERR_INVALID_PARAMETER, "Format", "format must be csv or jsonl.");
        return;
    }
    int jsonl = format && !strcmp(format, "jsonl");
    struct cc_export *x = NULL;
    struct cc_error err;
    if (cc_export_open(cc_req_service(req), cc_req_caller(req),
                       jsonl ? CC_EXPORT_JSONL : CC_EXPORT_CSV, full, &x, &err)) {
        cc_req_error(req, &err);
        return;
    }
    cc_req_add_header(req, "Content-Disposition",
                      jsonl ? "attachment; filename=\"contacts.jsonl\""
                            : "attachment; filename=\"contacts.csv\"");
    cc_req_stream(req, 200,
                  jsonl ? "application/x-ndjson; charset=utf-8" : "text/csv; charset=utf-8",
                  export_fill, export_done, x);
}
