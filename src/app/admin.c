/*
 * admin.c — the local admin commands: `certcontacts account create`, `key
 * create|list|disable|rotate-master`, `user create|unlock` and `audit
 * verify`. main.c opens the data directory's service (beside a running
 * server too) and hands each command its words and options; these check
 * them, call the service and print the result for a person or, with
 * --json, as JSON.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <openssl/crypto.h>

#include "app/admin.h"
#include "core/core.h"
#include "service/service.h"
#include "util/util.h"

/* serve's stderr is its log (JSON lines, one object each): a message that
 * stops it is a log line like any other. The other commands print it for
 * the person at the terminal. */
static int say_to_log;

void cc_say_to_log(int on)
{
    say_to_log = on;
}

void cc_say_error(const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (say_to_log)
        cc_log(CC_LOG_ERROR, "certcontacts cannot serve", "error", text, NULL);
    else
        fprintf(stderr, "certcontacts: %s\n", text);
}

void cc_admin_print_key(const struct cc_new_key *k, int json)
{
    if (json) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:s}", "account_id", (json_int_t)k->account_id,
                              "access_key_id", k->key_id, "access_key_secret", k->secret, "role",
                              cc_role_name(k->role));
        if (k->expires_at) {
            char t[32];
            cc_time_rfc3339(k->expires_at, t, sizeof t);
            json_object_set_new(o, "expires_at", json_string(t));
        }
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        OPENSSL_cleanse(s, strlen(s));
        free(s);
        json_decref(o);
        return;
    }
    printf("account id:        %lld\n"
           "access key id:     %s\n"
           "access key secret: %s   (shown only now: store it safely)\n"
           "role:              %s\n",
           (long long)k->account_id, k->key_id, k->secret, cc_role_name(k->role));
    if (k->expires_at) {
        char t[32];
        cc_time_rfc3339(k->expires_at, t, sizeof t);
        printf("expires at:        %s\n", t);
    }
}

static int parse_account(const struct cc_admin_args *a, int64_t *id)
{
    if (!a->account || cc_parse_i64(a->account, 1, INT64_MAX, id)) {
        cc_say_error("--account ID is required (a positive number)");
        return -1;
    }
    return 0;
}

int cc_admin_account(const struct cc_admin_args *a, struct cc_service *svc)
{
    struct cc_error err;
    if (a->npos != 3 || strcmp(a->pos[1], "create") != 0) {
        fprintf(stderr, "usage: certcontacts account create NAME [--json]\n");
        return 2;
    }
    struct cc_new_key k;
    if (cc_account_create(svc, a->pos[2], &k, &err)) {
        cc_say_error("%s", err.message);
        return 1;
    }
    cc_admin_print_key(&k, a->json);
    OPENSSL_cleanse(&k, sizeof k);
    return 0;
}

/* `key rotate-master`: re-seals every secret under a new master key, beside
 * a running server. CERTCONTACTS_ROTATE_KILL_AFTER=N is a drill: the process
 * kills itself (SIGKILL) once N values are re-sealed, to show that running
 * the command again finishes the rotation. */
static int cmd_rotate_master(const struct cc_admin_args *a, struct cc_service *svc)
{
    struct cc_error err;
    struct cc_rotation rot = {.settle_ms = CC_ROTATE_SETTLE_MS};
    const char *drill = getenv("CERTCONTACTS_ROTATE_KILL_AFTER");
    if (drill && cc_parse_i64(drill, 1, INT64_MAX, &rot.stop_after)) {
        cc_say_error("CERTCONTACTS_ROTATE_KILL_AFTER must be a positive number");
        return 2;
    }
    const char *settle = getenv("CERTCONTACTS_ROTATE_SETTLE_MS");
    int64_t ms = 0;
    if (settle && !cc_parse_i64(settle, 0, 600000, &ms))
        rot.settle_ms = (int)ms;
    if (cc_master_key_rotate(svc, &rot, &err)) {
        cc_say_error("master key rotation stopped: %s", err.message);
        return 1;
    }
    if (a->json) {
        json_t *o = json_pack("{s:s, s:s, s:I, s:b}", "old_key_id", rot.old_id, "new_key_id",
                              rot.new_id, "resealed", (json_int_t)rot.resealed, "resumed",
                              rot.resumed);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        printf("master key rotated%s: %s -> %s (%lld values re-sealed by this run)\n",
               rot.resumed ? " (an interrupted rotation finished)" : "", rot.old_id, rot.new_id,
               (long long)rot.resealed);
    }
    return 0;
}

int cc_admin_key(const struct cc_admin_args *a, struct cc_service *svc)
{
    struct cc_error err;
    int64_t account;
    const char *sub = a->npos >= 2 ? a->pos[1] : "";
    if (!strcmp(sub, "create") && a->npos == 2) {
        if (parse_account(a, &account))
            return 2;
        enum cc_role role = cc_role_parse(a->role ? a->role : "admin");
        int64_t expires_at = 0;
        if (a->expires && (cc_cert_parse_time(a->expires, &expires_at) || expires_at <= 0)) {
            cc_say_error("--expires must be an RFC 3339 time (2027-06-30T00:00:00Z) or a date "
                      "(2027-06-30)");
            return 2;
        }
        struct cc_new_key k;
        if (cc_key_create(svc, account, role, expires_at, &k, &err)) {
            cc_say_error("%s", err.message);
            return 1;
        }
        cc_admin_print_key(&k, a->json);
        OPENSSL_cleanse(&k, sizeof k);
        return 0;
    }
    if (!strcmp(sub, "list") && a->npos == 2) {
        if (parse_account(a, &account))
            return 2;
        struct cc_access_key *keys = NULL;
        size_t n = 0;
        if (cc_key_list(svc, account, &keys, &n, &err)) {
            cc_say_error("%s", err.message);
            return 1;
        }
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
            char ts[32];
            cc_time_rfc3339(keys[i].created_at, ts, sizeof ts);
            const char *status = keys[i].disabled_at ? "disabled"
                                 : keys[i].expires_at && keys[i].expires_at <= cc_now_ms()
                                     ? "expired"
                                     : "enabled";
            if (a->json) {
                json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "access_key_id", keys[i].id, "role",
                                      cc_role_name(keys[i].role), "status", status,
                                      "created_at", ts);
                char t2[32];
                cc_time_rfc3339(keys[i].expires_at, t2, sizeof t2);
                json_object_set_new(o, "expires_at",
                                    keys[i].expires_at ? json_string(t2) : json_null());
                cc_time_rfc3339(keys[i].last_used_at, t2, sizeof t2);
                json_object_set_new(o, "last_used_at",
                                    keys[i].last_used_at ? json_string(t2) : json_null());
                json_array_append_new(arr, o);
            } else
                printf("%-26s %-9s %-9s %s\n", keys[i].id, cc_role_name(keys[i].role), status, ts);
        }
        if (a->json) {
            char *s = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER);
            printf("%s\n", s);
            free(s);
        }
        json_decref(arr);
        cc_free(keys);
        return 0;
    }
    if (!strcmp(sub, "disable") && a->npos == 3) {
        if (parse_account(a, &account))
            return 2;
        if (cc_key_disable(svc, account, a->pos[2], &err)) {
            cc_say_error("%s", err.message);
            return 1;
        }
        if (!a->json)
            printf("access key %s disabled\n", a->pos[2]);
        return 0;
    }
    if (!strcmp(sub, "rotate-master") && a->npos == 2)
        return cmd_rotate_master(a, svc);
    fprintf(stderr, "usage: certcontacts key create --account ID [--role ROLE] [--expires TIME] "
                    "[--json]\n"
                    "       certcontacts key list --account ID [--json]\n"
                    "       certcontacts key disable --account ID KEY_ID\n"
                    "       certcontacts key rotate-master [--json]\n");
    return 2;
}

void cc_admin_print_user(const struct cc_user *u, const char *password, int json)
{
    if (json) {
        json_t *o = json_pack("{s:I, s:I, s:s, s:s}", "id", (json_int_t)u->id, "account_id",
                              (json_int_t)u->account_id, "email", u->email, "role",
                              cc_role_name(u->role));
        if (password[0])
            json_object_set_new(o, "password", json_string(password));
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        OPENSSL_cleanse(s, strlen(s));
        free(s);
        json_decref(o);
        return;
    }
    printf("console user:      %s (%s, account %lld)\n", u->email, cc_role_name(u->role),
           (long long)u->account_id);
    if (password[0])
        printf("console password:  %s   (shown only now: store it safely)\n", password);
}

static int user_unlock(const struct cc_admin_args *a, struct cc_service *svc)
{
    struct cc_error err;
    int64_t account;
    if (parse_account(a, &account))
        return 2;
    if (!a->email) {
        fprintf(stderr, "certcontacts: --email is required\n");
        return 2;
    }
    struct cc_user u;
    if (cc_user_unlock(svc, NULL, account, 0, a->email, &u, &err)) {
        fprintf(stderr, "certcontacts: %s\n", err.message);
        return 1;
    }
    if (a->json)
        cc_admin_print_user(&u, "", 1);
    else
        printf("unlocked:          %s (account %lld)\n", u.email, (long long)u.account_id);
    return 0;
}

int cc_admin_audit(const struct cc_admin_args *a, struct cc_service *svc)
{
    struct cc_error err;
    if (a->npos != 2 || strcmp(a->pos[1], "verify") != 0) {
        fprintf(stderr, "usage: certcontacts audit verify [--json]\n");
        return 2;
    }
    struct cc_audit_report r;
    if (cc_audit_verify(svc, &r, &err)) {
        cc_say_error("%s", err.message);
        return 1;
    }
    if (a->json) {
        json_t *o = json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:s}", "ok", !r.bad_id, "checked",
                              (json_int_t)r.checked, "first_id", (json_int_t)r.first_id,
                              "last_id", (json_int_t)r.last_id, "anchor_id",
                              (json_int_t)r.anchor_id, "removed_by_retention",
                              (json_int_t)r.removed, "head", r.head);
        if (r.bad_id) {
            json_object_set_new(o, "bad_id", json_integer(r.bad_id));
            json_object_set_new(o, "problem", json_string(r.problem));
        }
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf("%s\n", s);
        free(s);
        json_decref(o);
    } else if (r.bad_id) {
        printf("audit log BROKEN at entry %lld: %s\n", (long long)r.bad_id, r.problem);
    } else {
        printf("audit log intact: %lld entries (%lld to %lld) chained from %s; %lld removed by "
               "retention\nhead: %s\n",
               (long long)r.checked, (long long)r.first_id, (long long)r.last_id,
               r.anchor_id ? "retention's anchor" : "the start", (long long)r.removed, r.head);
    }
    return r.bad_id ? 1 : 0;
}

int cc_admin_user(const struct cc_admin_args *a, struct cc_service *svc)
{
    struct cc_error err;
    int64_t account;
    if (a->npos == 2 && strcmp(a->pos[1], "unlock") == 0)
        return user_unlock(a, svc);
    if (a->npos != 2 || strcmp(a->pos[1], "create") != 0) {
        fprintf(stderr, "usage: certcontacts user create --account ID --email EMAIL "
                        "--role admin|operator|readonly [--password PASSWORD] [--json]\n"
                        "       certcontacts user unlock --account ID --email EMAIL\n");
        return 2;
    }
    if (parse_account(a, &account))
        return 2;
    if (!a->email || !a->role) {
        cc_say_error("--email and --role are required");
        return 2;
    }
    struct cc_user u;
    char gen[CC_PASSWORD_GEN_LEN + 1];
    if (cc_user_create(svc, NULL, account, a->email, a->role, a->password, &u, gen, &err)) {
        cc_say_error("%s", err.message);
        return 1;
    }
    cc_admin_print_user(&u, gen, a->json);
    OPENSSL_cleanse(gen, sizeof gen);
    return 0;
}
