/*
 * rest_users.c — REST v1 console users (admins of the account only):
 *   GET    /v1/users        list
 *   POST   /v1/users        add (a password is generated when none is sent)
 *   PATCH  /v1/users/{id}   role, disabled, password
 *   DELETE /v1/users/{id}   delete
 *   POST   /v1/users/{id}/unlock   lift its sign-in locks
 * The rules live in service/users.c; hashing a password is slow, so the
 * writes run on the blocking pool.
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

static void send_user(struct cc_request *req, int status, const struct cc_user *u,
                      const char *password)
{
    json_t *o = json_object();
    json_object_set_new(o, "user", cc_render_user(u, 1));
    if (password && password[0])
        json_object_set_new(o, "password", json_string(password));
    cc_req_json(req, status, o);
}

void cc_h_users_list(struct cc_request *req)
{
    struct cc_user *users = NULL;
    size_t n = 0;
    struct cc_error err;
    if (cc_user_list(cc_req_service(req), cc_req_caller(req), &users, &n, &err)) {
        cc_req_error(req, &err);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, cc_render_user(&users[i], 1));
    cc_free(users);
    cc_req_json(req, 200, json_pack("{s:o}", "users", arr));
}

static void users_create(struct cc_request *req)
{
    const char *email, *role, *password = NULL;
    const struct cc_json_field f[] = {{"email", "Email", &email, 1, 0},
                                      {"role", "Role", &role, 1, 0},
                                      {"password", "Password", &password, 0, 0}};
    json_t *obj;
    struct cc_error err;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_user u;
    char gen[CC_PASSWORD_GEN_LEN + 1] = "";
    if (cc_json_read_strings(obj, f, 3, &err) ||
        cc_user_create(cc_req_service(req), cc_req_caller(req), 0, email, role, password, &u, gen,
                       &err))
        cc_req_error(req, &err);
    else
        send_user(req, 201, &u, gen);
    memset(gen, 0, sizeof gen);
    json_decref(obj);
}

void cc_h_users_create(struct cc_request *req)
{
    cc_req_defer(req, users_create);
}

static void users_update(struct cc_request *req)
{
    json_t *obj;
    struct cc_error err;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_user_change ch = {NULL, -1, NULL};
    json_t *d = json_object_get(obj, "disabled");
    if (d) {
        if (!json_is_boolean(d)) {
            cc_error_set(&err, CC_ERR_INVALID_PARAMETER, "Disabled",
                         "disabled must be true or false.");
            cc_req_error(req, &err);
            json_decref(obj);
            return;
        }
        ch.disabled = json_is_true(d);
        json_object_del(obj, "disabled");
    }
    const struct cc_json_field f[] = {{"role", "Role", &ch.role, 0, 0},
                                      {"password", "Password", &ch.password, 0, 0}};
    struct cc_user u;
    if (cc_json_read_strings(obj, f, 2, &err) ||
        cc_user_update(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), &ch, &u,
                       &err))
        cc_req_error(req, &err);
    else
        send_user(req, 200, &u, NULL);
    json_decref(obj);
}

void cc_h_users_update(struct cc_request *req)
{
    cc_req_defer(req, users_update);
}

static void users_delete(struct cc_request *req)
{
    struct cc_error err;
    if (cc_user_delete(cc_req_service(req), cc_req_caller(req), cc_req_path_id(req), &err))
        cc_req_error(req, &err);
    else
        cc_req_empty(req, 204);
}

void cc_h_users_delete(struct cc_request *req)
{
    cc_req_defer(req, users_delete);
}

static void users_unlock(struct cc_request *req)
{
    struct cc_error err;
    struct cc_user u;
    if (cc_user_unlock(cc_req_service(req), cc_req_caller(req), 0, cc_req_path_id(req), NULL, &u,
                       &err))
        cc_req_error(req, &err);
    else
        send_user(req, 200, &u, NULL);
}

void cc_h_users_unlock(struct cc_request *req)
{
    cc_req_defer(req, users_unlock);
}
