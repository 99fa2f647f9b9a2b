/*
 * json_body.c — request bodies: one JSON object, parsed by jansson with
 * bounds around it (size is capped by the server, nesting and string lengths
 * here), then read into a struct cc_contact_input with every unknown field,
 * wrong type and overlong value reported by name.
 */
#include <string.h>

#include "http/http.h"
#include "util/util.h"

/* Nesting depth of a JSON text, counted outside strings. jansson would
 * parse up to its own limit of 2048; we refuse anything deeper than a
 * contact needs before parsing. */
static int depth_ok(const char *s, size_t n)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > CC_JSON_MAX_DEPTH)
                return 0;
        } else if (c == '}' || c == ']') {
            depth--;
        }
    }
    return 1;
}

enum cc_err cc_json_parse_object(const char *body, size_t len, json_t **out,
                                 struct cc_error *err)
{
    *out = NULL;
    if (len == 0)
        return cc_error_set(err, CC_ERR_MALFORMED_JSON, NULL,
                            "The request body is empty; send a JSON object.");
    if (!depth_ok(body, len))
        return cc_error_set(err, CC_ERR_MALFORMED_JSON, NULL,
                            "The JSON is nested more than %d levels deep.", CC_JSON_MAX_DEPTH);
    json_error_t jerr;
    unsigned long oom = cc_alloc_thread_failures();
    json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    /* Out of memory is our failure, not the client's, whatever jansson's
     * message says; and jansson 2.14 may even return a value with a
     * character missing from a string when an allocation failed, so a
     * parse that met a failed allocation is never used. */
    if (cc_alloc_thread_failures() != oom) {
        json_decref(v);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "Out of memory while reading the body.");
    }
    if (!v)
        return cc_error_set(err, CC_ERR_MALFORMED_JSON, NULL,
                            "The body is not valid JSON: %s (line %d, column %d).", jerr.text,
                            jerr.line, jerr.column);
    if (!json_is_object(v)) {
        json_decref(v);
        return cc_error_set(err, CC_ERR_MALFORMED_JSON, NULL, "The body must be a JSON object.");
    }
    *out = v;
    return CC_OK;
}

enum cc_err cc_json_body_hash(const json_t *obj, char hash[65], struct cc_error *err)
{
    unsigned long oom = cc_alloc_thread_failures();
    char *canon = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
    /* jansson 2.14 may drop a key from the text when an allocation fails
     * instead of failing the dump: any failed allocation fails the hash. */
    if (!canon || cc_alloc_thread_failures() != oom) {
        cc_free(canon);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "Out of memory while hashing the body.");
    }
    cc_sha256_hex(canon, strlen(canon), hash);
    cc_free(canon);
    return CC_OK;
}

/* The JSON field names of a contact and their API (PascalCase) names. */
static const struct field {
    const char *json;
    const char *api;
    unsigned flag;
} fields[] = {
    {"name", "Name", CC_F_NAME},
    {"email", "Email", CC_F_EMAIL},
    {"mobile", "Mobile", CC_F_MOBILE},
    {"id_card", "IdCard", CC_F_ID_CARD},
    {"language", "Language", CC_F_LANGUAGE},
    {"webhooks", "Webhooks", CC_F_WEBHOOKS},
};

/* A string field or null; anything else, or too long, is an error. */
static enum cc_err string_max(json_t *v, const struct field *f, size_t max, const char **out,
                              struct cc_error *err)
{
    if (json_is_null(v)) {
        *out = NULL;
        return CC_OK;
    }
    if (!json_is_string(v))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, f->api, "%s must be a string.", f->json);
    if (json_string_length(v) > max)
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, f->api,
                            "%s is too long: at most %zu bytes.", f->json, max);
    if (strlen(json_string_value(v)) != json_string_length(v))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, f->api, "%s contains a NUL character.",
                            f->json);
    *out = json_string_value(v);
    return CC_OK;
}

static enum cc_err string_or_null(json_t *v, const struct field *f, const char **out,
                                  struct cc_error *err)
{
    return string_max(v, f, CC_JSON_MAX_STRING, out, err);
}

static enum cc_err read_webhook(json_t *item, struct cc_webhook_input *w, struct cc_error *err)
{
    static const struct field url_f = {"webhooks[].url", "Webhooks", 0};
    static const struct field secret_f = {"webhooks[].secret", "Webhooks", 0};
    memset(w, 0, sizeof *w);
    w->mention_mobile = -1;
    if (!json_is_object(item))
        return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                            "Each webhook must be an object {\"url\": ..., \"secret\": ...}.");
    const char *key;
    json_t *v;
    json_object_foreach(item, key, v) {
        enum cc_err rc;
        if (strcmp(key, "url") == 0) {
            if ((rc = string_or_null(v, &url_f, &w->url, err)))
                return rc;
        } else if (strcmp(key, "secret") == 0) {
            if ((rc = string_or_null(v, &secret_f, &w->secret, err)))
                return rc;
            w->secret_state = w->secret ? CC_SECRET_VALUE : CC_SECRET_NULL;
        } else if (strcmp(key, "mention_mobile") == 0) {
            if (!json_is_boolean(v))
                return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                                    "webhooks[].mention_mobile must be true or false.");
            w->mention_mobile = json_is_true(v);
        } else {
            return cc_error_set(err, CC_ERR_UNKNOWN_FIELD, NULL,
                                "Unknown field \"webhooks[].%.64s\": a webhook has url, secret and "
                                "mention_mobile.",
                                key);
        }
    }
    return CC_OK;
}

enum cc_err cc_json_contact_input(json_t *obj, struct cc_contact_input *in,
                                  struct cc_error *err)
{
    memset(in, 0, sizeof *in);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        const struct field *f = NULL;
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
            if (strcmp(key, fields[i].json) == 0)
                f = &fields[i];
        if (!f)
            return cc_error_set(err, CC_ERR_UNKNOWN_FIELD, NULL,
                                "Unknown field \"%.64s\": a contact has name, email, mobile, "
                                "id_card, webhooks and language.", key);
        in->present |= f->flag;
        enum cc_err rc = CC_OK;
        switch (f->flag) {
        case CC_F_NAME: rc = string_or_null(v, f, &in->name, err); break;
        case CC_F_EMAIL: rc = string_or_null(v, f, &in->email, err); break;
        case CC_F_MOBILE: rc = string_or_null(v, f, &in->mobile, err); break;
        case CC_F_ID_CARD: rc = string_or_null(v, f, &in->id_card, err); break;
        case CC_F_LANGUAGE: rc = string_or_null(v, f, &in->language, err); break;
        case CC_F_WEBHOOKS:
            if (json_is_null(v))
                break; /* null: no webhooks */
            if (!json_is_array(v))
                return cc_error_set(err, CC_ERR_INCORRECT_FORMAT, "Webhooks",
                                    "webhooks must be an array.");
            in->n_webhooks = json_array_size(v);
            if (in->n_webhooks > CC_WEBHOOKS_MAX)
                return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "Webhooks",
                                    "A contact can have at most %d notification robots.",
                                    CC_WEBHOOKS_MAX);
            for (size_t i = 0; i < in->n_webhooks; i++)
                if ((rc = read_webhook(json_array_get(v, i), &in->webhooks[i], err)))
                    return rc;
            break;
        }
        if (rc)
            return rc;
    }
    return CC_OK;
}

enum cc_err cc_json_read_strings(json_t *obj, const struct cc_json_field *spec, size_t n,
                                 struct cc_error *err)
{
    const char *key;
    json_t *v;
    for (size_t i = 0; i < n; i++)
        *spec[i].out = NULL;
    json_object_foreach(obj, key, v) {
        const struct cc_json_field *f = NULL;
        for (size_t i = 0; i < n; i++)
            if (!strcmp(key, spec[i].name))
                f = &spec[i];
        if (!f)
            return cc_error_set(err, CC_ERR_UNKNOWN_FIELD, NULL, "Unknown field \"%.64s\".", key);
        struct field tmp = {f->name, f->api, 0};
        enum cc_err rc = string_max(v, &tmp, f->max ? f->max : CC_JSON_MAX_STRING, f->out, err);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < n; i++)
        if (spec[i].required && !*spec[i].out)
            return cc_error_set(err, CC_ERR_MISSING_PARAMETER, spec[i].api, "%s is required.",
                                spec[i].name);
    return CC_OK;
}
