/*
 * rest_keys.c — REST v1 access keys (admins of the account only), the same
 * operations as the `key` command:
 *   GET  /v1/keys                   list (never a secret)
 *   POST /v1/keys                   create (role, optional expires_at); the secret is
 *                                   in this answer only
 *   POST /v1/keys/{key_id}/disable  disable at once
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

static json_t *render_key(const struct cc_access_key *k)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(k->id));
    json_object_set_new(o, "role", json_string(cc_role_name(k->role)));
    json_object_set_new(o, "disabled", json_boolean(k->disabled_at != 0));
    json_object_set_new(o, "created_at", cc_render_time(k->created_at));
    json_object_set_new(o, "disabled_at", cc_render_time(k->disabled_at));
    json_object_set_new(o, "expires_at", cc_render_time(k->expires_at));
    json_object_set_new(o, "expired", json_boolean(k->expires_at && k->expires_at <= cc_now_ms()));
    json_object_set_new(o, "last_used_at", cc_render_time(k->last_used_at));
    return o;
}

void cc_h_keys_list(struct cc_request *req)
{
    struct cc_access_key *keys = NULL;
    size_t n = 0;
    struct cc_error err;
    if (cc_api_key_list(cc_req_service(req), cc_req_caller(req), &keys, &n, &err)) {
        cc_req_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, render_key(&keys[i]));
    cc_free(keys);
    cc_req_json(req, 200, json_pack("{s:o}", "keys", arr));
}

static void keys_create(struct cc_request *req)
{
    const char *role = NULL, *expires = NULL;
    const struct cc_json_field f[] = {{"role", "Role", &role, 1, 0},
                                      {"expires_at", "ExpiresAt", &expires, 0, 64}};
    json_t *obj;
    struct cc_error err;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_new_key k;
    memset(&k, 0, sizeof k);
    int64_t expires_at = 0;
    enum cc_err rc = cc_json_read_strings(obj, f, 2, &err);
    if (!rc && expires && cc_cert_parse_time(expires, &expires_at))
        rc = cc_error_set(&err, CC_ERR_INCORRECT_FORMAT, "ExpiresAt",
                          "expires_at must be an RFC 3339 time or a date (YYYY-MM-DD).");
    if (rc || cc_api_key_create(cc_req_service(req), cc_req_caller(req), role, expires_at, &k,
                                &err)) {
        cc_req_error(req, &err);
    } else {
        struct cc_access_key row = {.account_id = k.account_id, .role = k.role,
                                    .created_at = cc_now_ms(), .expires_at = expires_at};
        cc_strlcpy(row.id, k.key_id, sizeof row.id);
        json_t *o = json_object();
        json_object_set_new(o, "key", render_key(&row));
        json_object_set_new(o, "secret", json_string(k.secret));
        cc_req_json(req, 201, o);
    }
    memset(&k, 0, sizeof k);
    json_decref(obj);
}

void cc_h_keys_create(struct cc_request *req)
{
    cc_req_defer(req, keys_create);
}

static void keys_disable(struct cc_request *req)
{
    struct cc_access_key k;
    struct cc_error err;
    if (cc_api_key_disable(cc_req_service(req), cc_req_caller(req), cc_req_path_arg(req, 0), &k,
                           &err))
        cc_req_error(req, &err);
    else
        cc_req_json(req, 200, json_pack("{s:o}", "key", render_key(&k)));
}

void cc_h_keys_disable(struct cc_request *req)
{
    cc_req_defer(req, keys_disable);
}
