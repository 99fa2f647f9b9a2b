/*
 * rest_session.c — REST v1 console sessions:
 *   POST   /v1/session   sign in (email, password): sets the cc_session cookie
 *   GET    /v1/session   the signed-in user and the CSRF token
 *   PATCH  /v1/session   the user's console language
 *   DELETE /v1/session   sign out
 * Password checks are slow by design (and wait longer after wrong
 * passwords), so sign-in runs on the blocking pool; the rules live in
 * service/users.c.
 */
#include <string.h>

#include "http/http_int.h"
#include "util/util.h"

json_t *cc_render_user(const struct cc_user *u, int with_admin_fields)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(u->id));
    json_object_set_new(o, "account_id", json_integer(u->account_id));
    json_object_set_new(o, "email", json_string(u->email));
    json_object_set_new(o, "role", json_string(cc_role_name(u->role)));
    json_object_set_new(o, "language", json_string(u->language));
    if (with_admin_fields) {
        json_object_set_new(o, "disabled", json_boolean(u->disabled_at != 0));
        json_object_set_new(o, "locked_until",
                            cc_render_time(u->locked_until > cc_now_ms() ? u->locked_until : 0));
        json_object_set_new(o, "last_sign_in_at", cc_render_time(u->last_sign_in_at));
    }
    json_object_set_new(o, "created_at", cc_render_time(u->created_at));
    return o;
}

static void send_session(struct cc_request *req, int status, const struct cc_user *u,
                         const char *csrf)
{
    json_t *o = json_object();
    json_object_set_new(o, "user", cc_render_user(u, 0));
    json_object_set_new(o, "csrf_token", json_string(csrf));
    cc_req_json(req, status, o);
}

static void set_cookie(struct cc_request *req, const char *token, int64_t max_age)
{
    char c[256];
    snprintf(c, sizeof c, "cc_session=%s; Path=/; Max-Age=%lld; HttpOnly; SameSite=Strict%s",
             token, (long long)max_age, cc_req_is_tls(req) ? "; Secure" : "");
    cc_req_add_header(req, "Set-Cookie", c);
}

static void sign_in(struct cc_request *req)
{
    const char *email, *password;
    const struct cc_json_field f[] = {{"email", "Email", &email, 1, 0},
                                      {"password", "Password", &password, 1, 0}};
    json_t *obj;
    struct cc_error err;
    if (cc_req_json_body(req, &obj))
        return;
    /* "account": needed only when the email has users in several accounts */
    json_int_t account = 0;
    json_t *a = json_object_get(obj, "account");
    if (a) {
        account = json_is_integer(a) ? json_integer_value(a) : 0;
        if (account < 1) {
            cc_error_set(&err, CC_ERR_INVALID_PARAMETER, "Account",
                         "account must be an account id (a positive integer).");
            cc_req_error(req, &err);
            json_decref(obj);
            return;
        }
        json_object_del(obj, "account");
    }
    if (cc_json_read_strings(obj, f, 2, &err)) {
        cc_req_error(req, &err);
        json_decref(obj);
        return;
    }
    struct cc_new_session *s = cc_malloc(sizeof *s);
    if (cc_session_sign_in_to(cc_req_service(req), cc_req_origin(req), (int64_t)account, email,
                              password, s, &err)) {
        cc_req_error(req, &err);
    } else {
        set_cookie(req, s->token, s->max_age_s);
        send_session(req, 201, &s->user, s->csrf_token);
    }
    memset(s, 0, sizeof *s);
    cc_free(s);
    json_decref(obj);
}

void cc_h_session_create(struct cc_request *req)
{
    cc_req_defer(req, sign_in);
}

void cc_h_session_get(struct cc_request *req)
{
    struct cc_user u;
    char csrf[CC_CSRF_LEN + 1];
    struct cc_error err;
    if (cc_session_get(cc_req_service(req), cc_req_caller(req), &u, csrf, &err))
        cc_req_error(req, &err);
    else
        send_session(req, 200, &u, csrf);
}

static void set_language(struct cc_request *req)
{
    const char *language;
    const struct cc_json_field f[] = {{"language", "Language", &language, 1, 0}};
    json_t *obj;
    struct cc_error err;
    if (cc_req_json_body(req, &obj))
        return;
    struct cc_user u;
    char csrf[CC_CSRF_LEN + 1];
    if (cc_json_read_strings(obj, f, 1, &err) ||
        cc_session_set_language(cc_req_service(req), cc_req_caller(req), language, &u, &err) ||
        cc_session_get(cc_req_service(req), cc_req_caller(req), &u, csrf, &err))
        cc_req_error(req, &err);
    else
        send_session(req, 200, &u, csrf);
    json_decref(obj);
}

void cc_h_session_update(struct cc_request *req)
{
    cc_req_defer(req, set_language);
}

static void sign_out(struct cc_request *req)
{
    struct cc_error err;
    if (cc_session_sign_out(cc_req_service(req), cc_req_caller(req), &err)) {
        cc_req_error(req, &err);
        return;
    }
    set_cookie(req, "", 0);
    cc_req_empty(req, 204);
}

void cc_h_session_delete(struct cc_request *req)
{
    cc_req_defer(req, sign_out);
}
