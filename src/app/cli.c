/*
 * cli.c — the client commands of `certcontacts`: each names a route of the
 * REST API (src/http/router.c) and is one row of the table below (path,
 * body fields from flags, query filters, the columns of its table), with a
 * few commands that need more (contact list --all, contact verify, contact
 * update's If-Match, event send, configure, import and export in
 * cli_import.c). Who is asked and as whom: --server/--key flags, then
 * CERTCONTACTS_SERVER/CERTCONTACTS_KEY, then the profile file
 * ($XDG_CONFIG_HOME or ~/.config)/certcontacts/credentials, which must not be
 * readable or writable by anyone but its owner. main.c calls cc_cli_wants()
 * and cc_cli_main(); nothing else here is public.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "app/cli.h"
#include "app/cli_int.h"
#include "app/config.h"
#include "util/util.h"

#define DEFAULT_SERVER "http://127.0.0.1:8080"
#define PROFILE_MAX (64u << 10)

/* Options that take no value. */
static const char *const bool_opts[] = {"json", "all", "dry-run", "trust-verified", "full",
                                        "help", "custom", "completion"};

static int is_bool_opt(const char *name)
{
    for (size_t i = 0; i < sizeof bool_opts / sizeof bool_opts[0]; i++)
        if (!strcmp(name, bool_opts[i]))
            return 1;
    return 0;
}

const char *cli_opt(struct cli_args *a, const char *name)
{
    const char *v = NULL;
    for (int i = 0; i < a->nopts; i++)
        if (!strcmp(a->opt_name[i], name)) {
            a->opt_used[i] = 1;
            v = a->opt_value[i]; /* the last one given wins */
        }
    return v;
}

int cli_flag(struct cli_args *a, const char *name)
{
    return cli_opt(a, name) != NULL;
}

int cli_check_unused(const struct cli_args *a, const char *usage)
{
    for (int i = 0; i < a->nopts; i++)
        if (!a->opt_used[i]) {
            fprintf(stderr, "certcontacts: unknown option --%s for this command\n", a->opt_name[i]);
            if (usage)
                fprintf(stderr, "usage: certcontacts %s\n", usage);
            return CLI_USAGE;
        }
    return 0;
}

/* argv into words and options; "-o FILE" is --output FILE. */
static int parse(int argc, char **argv, struct cli_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "-o")) {
            arg = "--output";
        } else if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (a->npos == CLI_MAX_POS) {
                fprintf(stderr, "certcontacts: too many arguments\n");
                return -1;
            }
            a->pos[a->npos++] = arg;
            continue;
        }
        if (a->nopts == CLI_MAX_OPTS) {
            fprintf(stderr, "certcontacts: too many options\n");
            return -1;
        }
        static char names[CLI_MAX_OPTS][64];
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        const char *value = NULL;
        size_t n = eq ? (size_t)(eq - name) : strlen(name);
        if (n >= sizeof names[0]) {
            fprintf(stderr, "certcontacts: unknown option %.64s\n", arg);
            return -1;
        }
        memcpy(names[a->nopts], name, n);
        names[a->nopts][n] = '\0';
        name = names[a->nopts];
        if (eq) {
            value = eq + 1;
        } else if (is_bool_opt(name)) {
            value = "true";
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            fprintf(stderr, "certcontacts: --%s needs a value\n", name);
            return -1;
        }
        a->opt_name[a->nopts] = name;
        a->opt_value[a->nopts] = value;
        a->nopts++;
    }
    return 0;
}

/* ---- who and where: flags, environment, profile ---------------------------- */

static int credentials_path(char *out, size_t outsz, char *dir, size_t dirsz)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(dir, dirsz, "%s/certcontacts", xdg);
    else if (home && home[0])
        n = snprintf(dir, dirsz, "%s/.config/certcontacts", home);
    else
        return -1;
    if (n < 0 || (size_t)n >= dirsz)
        return -1;
    n = snprintf(out, outsz, "%s/credentials", dir);
    return n < 0 || (size_t)n >= outsz ? -1 : 0;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

int cli_profile_parse(const char *text, const char *profile, char *server, size_t serversz,
                      char *key_id, size_t key_idsz, char *secret, size_t secretsz)
{
    char *copy = cc_strdup(text);
    int found = 0, in = 0;
    char *save = copy;
    while (save && *save) {
        char *line = save;
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        line = trim(line);
        if (!*line || *line == '#' || *line == ';')
            continue;
        if (*line == '[') {
            char *end = strchr(line, ']');
            if (end) {
                *end = '\0';
                in = !strcmp(trim(line + 1), profile);
                found |= in;
            }
            continue;
        }
        char *eq = strchr(line, '=');
        if (!in || !eq)
            continue;
        *eq = '\0';
        char *k = trim(line), *v = trim(eq + 1);
        if (!strcmp(k, "server"))
            cc_strlcpy(server, v, serversz);
        else if (!strcmp(k, "key_id"))
            cc_strlcpy(key_id, v, key_idsz);
        else if (!strcmp(k, "key_secret"))
            cc_strlcpy(secret, v, secretsz);
    }
    OPENSSL_cleanse(copy, strlen(text));
    cc_free(copy);
    return found ? 0 : -1;
}

/* ID:SECRET into the connection. */
static int set_key(struct cli_conn *c, const char *key)
{
    const char *colon = strchr(key, ':');
    if (!colon || colon == key || !colon[1] || (size_t)(colon - key) >= sizeof c->key_id ||
        strlen(colon + 1) >= sizeof c->secret) {
        fprintf(stderr, "certcontacts: an access key is given as ID:SECRET\n");
        return CLI_USAGE;
    }
    memcpy(c->key_id, key, (size_t)(colon - key));
    c->key_id[colon - key] = '\0';
    cc_strlcpy(c->secret, colon + 1, sizeof c->secret);
    return 0;
}

/* The secret of a --key flag wiped from argv once copied, so that ps and
 * /proc/PID/cmdline show it no longer than needed. */
static void wipe_flag_key(struct cli_args *a)
{
    for (int i = 0; i < a->nopts; i++)
        if (!strcmp(a->opt_name[i], "key")) {
            char *colon = strchr((char *)a->opt_value[i], ':');
            if (colon)
                OPENSSL_cleanse(colon + 1, strlen(colon + 1));
        }
}

static int load_profile(const char *profile, int named, char *server, size_t serversz,
                        struct cli_conn *c)
{
    char path[1200], dir[1100];
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    if (credentials_path(path, sizeof path, dir, sizeof dir))
        return named ? (fprintf(stderr, "certcontacts: no HOME to find the profile in\n"), CLI_USAGE)
                     : 0;
    if (stat(path, &st) != 0) {
        if (!named)
            return 0;
        fprintf(stderr, "certcontacts: %s: %s\n", path, strerror(errno));
        return CLI_USAGE;
    }
    if (st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) {
        fprintf(stderr,
                "certcontacts: %s is readable or writable by others than its owner; it holds "
                "an access key secret: chmod 600 it\n",
                path);
        return CLI_USAGE;
    }
    if (cc_file_read(path, PROFILE_MAX, &text, &len)) {
        fprintf(stderr, "certcontacts: cannot read %s\n", path);
        return CLI_USAGE;
    }
    char pserver[512] = "", id[128] = "", secret[256] = "";
    int found = !cli_profile_parse(text, profile, pserver, sizeof pserver, id, sizeof id, secret,
                                   sizeof secret);
    OPENSSL_cleanse(text, len);
    cc_free(text);
    if (!found && named) {
        fprintf(stderr, "certcontacts: no profile [%s] in %s\n", profile, path);
        return CLI_USAGE;
    }
    if (!server[0] && pserver[0])
        cc_strlcpy(server, pserver, serversz);
    if (!c->key_id[0] && id[0] && secret[0]) {
        cc_strlcpy(c->key_id, id, sizeof c->key_id);
        cc_strlcpy(c->secret, secret, sizeof c->secret);
    }
    OPENSSL_cleanse(secret, sizeof secret);
    return 0;
}

/* Server and key by precedence: flags, environment, profile. */
static int connect_setup(struct cli_args *a, struct cli_conn *c)
{
    char server[512] = "";
    const char *v = cli_opt(a, "server");
    if (!v)
        v = getenv("CERTCONTACTS_SERVER");
    if (v && *v)
        cc_strlcpy(server, v, sizeof server);
    const char *key = cli_opt(a, "key");
    if (!key)
        key = getenv("CERTCONTACTS_KEY");
    if (key && *key) {
        int rc = set_key(c, key);
        wipe_flag_key(a);
        if (rc)
            return rc;
    }
    const char *profile = cli_opt(a, "profile");
    int named = profile != NULL;
    if (!profile) {
        profile = getenv("CERTCONTACTS_PROFILE");
        named = profile && *profile;
    }
    if (!profile || !*profile)
        profile = "default";
    if (!server[0] || !c->key_id[0]) {
        int rc = load_profile(profile, named, server, sizeof server, c);
        if (rc)
            return rc;
    }
    if (!server[0])
        cc_strlcpy(server, DEFAULT_SERVER, sizeof server);
    size_t n = strlen(server);
    while (n && server[n - 1] == '/')
        server[--n] = '\0';
    if (strncmp(server, "http://", 7) && strncmp(server, "https://", 8)) {
        fprintf(stderr, "certcontacts: --server must be an http:// or https:// URL\n");
        return CLI_USAGE;
    }
    cc_strlcpy(c->server, server, sizeof c->server);
    if (!c->key_id[0]) {
        fprintf(stderr, "certcontacts: no access key: give --key ID:SECRET, set "
                        "CERTCONTACTS_KEY, or run certcontacts configure\n");
        return CLI_USAGE;
    }
    return 0;
}

/* `configure [--profile NAME] --server URL --key ID:SECRET`: rewrites the
 * profile's section of the credentials file, the others kept as they are. */
static int cmd_configure(struct cli_args *a)
{
    const char *profile = cli_opt(a, "profile");
    const char *server = cli_opt(a, "server");
    const char *key = cli_opt(a, "key");
    struct cli_conn c = {0};
    char path[1200], dir[1100], parent[1100];
    char *old = NULL;
    size_t oldlen = 0;
    struct cc_buf b;
    int rc = CLI_USAGE;
    cc_buf_init(&b, 2 * PROFILE_MAX);
    if (!profile)
        profile = getenv("CERTCONTACTS_PROFILE");
    if (!profile || !*profile)
        profile = "default";
    if (cli_check_unused(a, "configure [--profile NAME] --server URL --key ID:SECRET"))
        goto out;
    if (a->npos != 1 || !server || !key || strpbrk(profile, "[]\n\r")) {
        fprintf(stderr, "usage: certcontacts configure [--profile NAME] --server URL --key "
                        "ID:SECRET\n");
        goto out;
    }
    if (strncmp(server, "http://", 7) && strncmp(server, "https://", 8)) {
        fprintf(stderr, "certcontacts: --server must be an http:// or https:// URL\n");
        goto out;
    }
    if (strpbrk(server, "\n\r") || strpbrk(key, "\n\r") || set_key(&c, key))
        goto out;
    wipe_flag_key(a);
    if (credentials_path(path, sizeof path, dir, sizeof dir)) {
        fprintf(stderr, "certcontacts: no HOME to write the profile in\n");
        goto out;
    }
    rc = CLI_REFUSED;
    /* the directory, and ~/.config before it when missing, private */
    cc_strlcpy(parent, dir, sizeof parent);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        if (mkdir(parent, 0700) && errno != EEXIST) {
            fprintf(stderr, "certcontacts: %s: %s\n", parent, strerror(errno));
            goto out;
        }
    }
    if (mkdir(dir, 0700) && errno != EEXIST) {
        fprintf(stderr, "certcontacts: %s: %s\n", dir, strerror(errno));
        goto out;
    }
    if (chmod(dir, 0700)) {
        fprintf(stderr, "certcontacts: %s: %s\n", dir, strerror(errno));
        goto out;
    }
    if (cc_file_read(path, PROFILE_MAX, &old, &oldlen) == 0) {
        int in = 0;
        char *save = old;
        while (save && *save) {
            char *line = save;
            char *nl = strchr(line, '\n');
            save = nl ? nl + 1 : NULL;
            if (nl)
                *nl = '\0';
            const char *t = line;
            while (*t == ' ' || *t == '\t')
                t++;
            if (*t == '[') {
                char name[256];
                const char *end = strchr(t, ']');
                size_t n = end ? (size_t)(end - t - 1) : 0;
                if (n >= sizeof name)
                    n = sizeof name - 1;
                memcpy(name, t + 1, n);
                name[n] = '\0';
                in = !strcmp(trim(name), profile);
            }
            if (!in && cc_buf_printf(&b, "%s\n", line))
                goto out;
        }
    }
    if (cc_buf_printf(&b, "[%s]\nserver = %s\nkey_id = %s\nkey_secret = %s\n", profile, server,
                      c.key_id, c.secret)) {
        fprintf(stderr, "certcontacts: the credentials file is too long\n");
        goto out;
    }
    if (cc_file_write_atomic(path, b.data, b.len, 0600)) {
        fprintf(stderr, "certcontacts: cannot write %s: %s\n", path, strerror(errno));
        goto out;
    }
    printf("profile [%s] saved in %s\n", profile, path);
    rc = CLI_OK;
out:
    if (old) {
        OPENSSL_cleanse(old, oldlen);
        cc_free(old);
    }
    if (b.data)
        OPENSSL_cleanse(b.data, b.len);
    cc_buf_free(&b);
    OPENSSL_cleanse(&c, sizeof c);
    return rc;
}

/* ---- the table of simple commands ---------------------------------------- */

enum ftype { F_STR, F_NULLABLE, F_INT, F_BOOL, F_LANG, F_INTS, F_JSON, F_FILE };

/* A body field: --opt VALUE into the JSON key. */
struct field {
    const char *opt;
    const char *key;
    enum ftype type;
};

struct spec {
    const char *group, *verb;
    int npos;
    const char *method;
    const char *path; /* %1..%3: the positional words, escaped */
    const struct field *body;
    const char *query; /* "opt:param opt ..." filters; param defaults to opt with _ for - */
    const char *list;  /* the array of a list answer, shown as a table of cols */
    const char *cols;
    const char *done; /* said on success when the answer has no body */
    const char *usage;
};

static const struct field contact_fields[] = {
    {"name", "name", F_STR},          {"email", "email", F_NULLABLE},
    {"mobile", "mobile", F_STR},      {"id-card", "id_card", F_NULLABLE},
    {"language", "language", F_LANG}, {NULL, NULL, 0},
};
static const struct field test_fields[] = {
    {"channel", "channel", F_STR},
    {"webhook-id", "webhook_id", F_INT},
    {"event-type", "event_type", F_STR},
    {NULL, NULL, 0},
};
static const struct field event_fields[] = {
    {"type", "type", F_STR},
    {"contact", "contact_ids", F_INTS},
    {"data", "data", F_JSON},
    {NULL, NULL, 0},
};
static const struct field template_fields[] = {
    {"title", "title", F_STR},
    {"body", "body", F_STR},
    {"file", "body", F_FILE},
    {NULL, NULL, 0},
};
static const struct field key_fields[] = {
    {"role", "role", F_STR},
    {"expires", "expires_at", F_STR},
    {NULL, NULL, 0},
};
static const struct field user_fields[] = {
    {"email", "email", F_STR},
    {"role", "role", F_STR},
    {"password", "password", F_STR},
    {NULL, NULL, 0},
};
static const struct field user_update_fields[] = {
    {"role", "role", F_STR},
    {"disabled", "disabled", F_BOOL},
    {"password", "password", F_STR},
    {NULL, NULL, 0},
};
static const struct field revoke_fields[] = {
    {"reason", "reason", F_STR},
    {NULL, NULL, 0},
};

#define CONTACT_COLS "id name email mobile email_status mobile_status language"
#define PAGED "page page-size"

static const struct spec specs[] = {
    {"contact", "list", 0, "GET", "/v1/contacts", NULL, "search:keyword " PAGED, "items",
     CONTACT_COLS, NULL, "contact list [--search Q] [--limit N] [--all]"},
    {"contact", "get", 1, "GET", "/v1/contacts/%1", NULL, NULL, NULL, NULL, NULL,
     "contact get ID"},
    {"contact", "create", 0, "POST", "/v1/contacts", contact_fields, NULL, NULL, NULL, NULL,
     "contact create --name N --mobile M [--email E] [--id-card X] [--language zh|en]"},
    {"contact", "update", 1, "PATCH", "/v1/contacts/%1", contact_fields, NULL, NULL, NULL, NULL,
     "contact update ID [--name N] [--email E] [--mobile M] [--id-card X] [--language zh|en] "
     "[--if-match VERSION]"},
    {"contact", "delete", 1, "DELETE", "/v1/contacts/%1", NULL, NULL, NULL, NULL,
     "contact %1 deleted", "contact delete ID"},
    {"contact", "test", 1, "POST", "/v1/contacts/%1/test", test_fields, NULL, NULL, NULL, NULL,
     "contact test ID --channel email|mobile|webhook [--webhook-id N] [--event-type T]"},
    {"event", "send", 0, "POST", "/v1/events", event_fields, NULL, NULL, NULL, NULL,
     "event send --type TYPE --contact ID[,ID...] [--data JSON]"},
    {"event", "get", 1, "GET", "/v1/events/%1", NULL, NULL, NULL, NULL, NULL, "event get ID"},
    {"notification", "list", 0, "GET", "/v1/notifications", NULL,
     "contact-id event-id status channel " PAGED, "items",
     "id event_type contact_id channel target status attempts created_at", NULL,
     "notification list [--contact-id ID] [--event-id ID] [--status S] [--channel C] "
     "[--limit N] [--all]"},
    {"notification", "get", 1, "GET", "/v1/notifications/%1", NULL, NULL, NULL, NULL, NULL,
     "notification get ID"},
    {"notification", "resend", 1, "POST", "/v1/notifications/%1/resend", NULL, NULL, NULL, NULL,
     "notification %1 is due again", "notification resend ID"},
    {"template", "list", 0, "GET", "/v1/templates", NULL, "custom", "items",
     "event_type channel language custom title", NULL, "template list [--custom]"},
    {"template", "get", 3, "GET", "/v1/templates/%1/%2/%3", NULL, NULL, NULL, NULL, NULL,
     "template get EVENT CHANNEL LANG"},
    {"template", "set", 3, "PUT", "/v1/templates/%1/%2/%3", template_fields, NULL, NULL, NULL,
     NULL, "template set EVENT CHANNEL LANG --title T (--body TEXT | --file F)"},
    {"template", "reset", 3, "DELETE", "/v1/templates/%1/%2/%3", NULL, NULL, NULL, NULL,
     "template %1/%2/%3: the built-in text applies again", "template reset EVENT CHANNEL LANG"},
    {"key", "list", 0, "GET", "/v1/keys", NULL, NULL, "keys",
     "id role disabled expired created_at expires_at last_used_at", NULL, "key list"},
    {"key", "create", 0, "POST", "/v1/keys", key_fields, NULL, NULL, NULL, NULL,
     "key create --role admin|operator|readonly [--expires TIME]"},
    {"key", "disable", 1, "POST", "/v1/keys/%1/disable", NULL, NULL, NULL, NULL, NULL,
     "key disable KEY_ID"},
    {"user", "list", 0, "GET", "/v1/users", NULL, NULL, "users",
     "id email role language disabled locked_until last_sign_in_at", NULL, "user list"},
    {"user", "create", 0, "POST", "/v1/users", user_fields, NULL, NULL, NULL, NULL,
     "user create --email EMAIL --role ROLE [--password P]"},
    {"user", "update", 1, "PATCH", "/v1/users/%1", user_update_fields, NULL, NULL, NULL, NULL,
     "user update ID [--role ROLE] [--disabled true|false] [--password P]"},
    {"user", "delete", 1, "DELETE", "/v1/users/%1", NULL, NULL, NULL, NULL, "user %1 deleted",
     "user delete ID"},
    {"user", "unlock", 1, "POST", "/v1/users/%1/unlock", NULL, NULL, NULL, NULL, NULL,
     "user unlock ID"},
    {"certificate", "list", 0, "GET", "/v1/certificates", NULL,
     "contact-id domain state expiring-within-days keyword " PAGED, "items",
     "id name domains state not_after days_left issuer", NULL,
     "certificate list [--domain D] [--state S] [--expiring-within-days N] [--keyword Q] "
     "[--contact-id ID] [--limit N] [--all]"},
    {"certificate", "get", 1, "GET", "/v1/certificates/%1", NULL, NULL, NULL, NULL, NULL,
     "certificate get ID"},
    {"certificate", "delete", 1, "DELETE", "/v1/certificates/%1", NULL, NULL, NULL, NULL,
     "certificate %1 deleted", "certificate delete ID"},
    {"certificate", "revoke", 1, "POST", "/v1/certificates/%1/revoke", revoke_fields, NULL, NULL,
     NULL, NULL, "certificate revoke ID [--reason TEXT]"},
    {"application", "list", 0, "GET", "/v1/applications", NULL,
     "state domain product contact-id " PAGED, "items",
     "id product state contact_id domains created_at", NULL,
     "application list [--state S] [--domain D] [--product P] [--contact-id ID] [--limit N] "
     "[--all]"},
    {"application", "get", 1, "GET", "/v1/applications/%1", NULL, NULL, NULL, NULL, NULL,
     "application get ID"},
};

#define NSPECS (sizeof specs / sizeof specs[0])

/* Builds the JSON body from the spec's fields; NULL with *rc set on a bad
 * value. */
static json_t *make_body(struct cli_args *a, const struct field *fields, int *rc)
{
    json_t *o = json_object();
    for (const struct field *f = fields; f && f->opt; f++) {
        const char *v = cli_opt(a, f->opt);
        if (!v)
            continue;
        json_t *j = NULL;
        int64_t n;
        switch (f->type) {
        case F_STR:
            j = json_string(v);
            break;
        case F_NULLABLE:
            j = *v ? json_string(v) : json_null();
            break;
        case F_INT:
            if (!cc_parse_i64(v, 0, INT64_MAX, &n))
                j = json_integer((json_int_t)n);
            break;
        case F_BOOL:
            if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
                j = json_true();
            else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
                j = json_false();
            break;
        case F_LANG:
            j = json_string(!strcmp(v, "zh") || !strcmp(v, "zh-cn") ? "zh-CN" : v);
            break;
        case F_INTS: {
            j = json_array();
            const char *p = v;
            while (*p) {
                size_t len = strcspn(p, ",");
                if (len == 0 || cc_parse_i64n(p, len, 1, INT64_MAX, &n)) {
                    json_decref(j);
                    j = NULL;
                    break;
                }
                json_array_append_new(j, json_integer((json_int_t)n));
                p += len;
                if (*p == ',')
                    p++;
            }
            break;
        }
        case F_JSON:
            j = json_loads(v, JSON_DECODE_ANY, NULL);
            break;
        case F_FILE: {
            char *text = NULL;
            size_t len = 0;
            if (cc_file_read(v, 1u << 20, &text, &len) == 0) {
                j = json_stringn(text, len);
                cc_free(text);
            }
            break;
        }
        }
        if (!j) {
            fprintf(stderr, "certcontacts: --%s: %s\n", f->opt,
                    f->type == F_FILE ? "cannot read the file (at most 1 MiB of UTF-8 text)"
                                      : "not a valid value");
            json_decref(o);
            *rc = CLI_USAGE;
            return NULL;
        }
        json_object_set_new(o, f->key, j);
    }
    return o;
}

/* spec->path with %N replaced by the escaped positional word N. */
static int make_path(const struct spec *s, const struct cli_args *a, struct cc_buf *b)
{
    for (const char *p = s->path; *p; p++) {
        if (p[0] == '%' && p[1] >= '1' && p[1] <= '3') {
            if (cli_url_escape(b, a->pos[2 + (p[1] - '1')]))
                return -1;
            p++;
        } else if (cc_buf_append(b, p, 1)) {
            return -1;
        }
    }
    return 0;
}

/* The query string of a list's filters onto b (which holds the path). */
static int add_query(const struct spec *s, struct cli_args *a, struct cc_buf *b, char *sep)
{
    const char *q = s->query;
    while (q && *q) {
        char word[64], opt[64], param[64];
        size_t n = strcspn(q, " ");
        snprintf(word, sizeof word, "%.*s", (int)n, q);
        q += n;
        while (*q == ' ')
            q++;
        char *colon = strchr(word, ':');
        if (colon) {
            *colon = '\0';
            cc_strlcpy(param, colon + 1, sizeof param);
        } else {
            cc_strlcpy(param, word, sizeof param);
            for (char *p = param; *p; p++)
                if (*p == '-')
                    *p = '_';
        }
        cc_strlcpy(opt, word, sizeof opt);
        const char *v = cli_opt(a, opt);
        if (!v)
            continue;
        if (cc_buf_printf(b, "%c%s=", *sep, param) || cli_url_escape(b, v))
            return -1;
        *sep = '&';
    }
    return 0;
}

/* A list: one page (--limit N as the page size), or every page (--all). */
static int run_list(struct cli_conn *c, struct cli_args *a, const struct spec *s,
                    struct cc_buf *path, char sep)
{
    const char *limit = cli_opt(a, "limit");
    int all = cli_flag(a, "all");
    int paged = s->query && strstr(s->query, "page-size");
    int64_t page_size = 100;
    if (limit && (!paged || cc_parse_i64(limit, 1, 100, &page_size))) {
        fprintf(stderr, "certcontacts: --limit is a number from 1 to 100%s\n",
                paged ? "" : " (and this list has no pages)");
        return CLI_USAGE;
    }
    if (all && !paged) {
        fprintf(stderr, "certcontacts: this list has no pages: it is always whole\n");
        return CLI_USAGE;
    }
    int rc = cli_check_unused(a, s->usage);
    if (rc)
        return rc;
    json_t *acc = NULL, *total = NULL, *first = NULL;
    size_t base = path->len;
    for (int64_t page = 1;; page++) {
        path->len = base;
        path->data[base] = '\0';
        if (paged && (limit || all) &&
            cc_buf_printf(path, "%cpage=%lld&page_size=%lld", sep, (long long)page,
                          (long long)page_size))
            return CLI_USAGE;
        struct cli_resp r;
        rc = cli_request(c, "GET", path->data, NULL, NULL, 0, NULL, NULL, &r);
        if (rc)
            break;
        rc = cli_resp_exit(&r);
        json_t *j = rc ? NULL : cli_resp_json(&r);
        cli_resp_free(&r);
        if (rc)
            break;
        json_t *items = json_object_get(j, s->list);
        if (!json_is_array(items)) {
            fprintf(stderr, "certcontacts: the answer has no list \"%s\"\n", s->list);
            json_decref(j);
            rc = CLI_SERVER;
            break;
        }
        size_t got = json_array_size(items);
        if (!acc) {
            acc = json_incref(items);
            total = json_incref(json_object_get(j, "total"));
            first = j; /* --json shows the first answer as it is, every page's items in it */
        } else {
            json_array_extend(acc, items);
            json_decref(j);
        }
        if (!all || !paged || got < (size_t)page_size || page >= 100000)
            break;
    }
    if (!rc) {
        if (a->json) {
            cli_json_print(first);
        } else {
            char words[256];
            const char *keys[16];
            size_t nkeys = 0;
            cc_strlcpy(words, s->cols, sizeof words);
            for (char *p = words; *p && nkeys < 16;) {
                keys[nkeys++] = p;
                p += strcspn(p, " ");
                if (*p)
                    *p++ = '\0';
            }
            cli_table_print(stdout, acc, keys, nkeys);
            if (total && json_integer_value(total) > (json_int_t)json_array_size(acc))
                fprintf(stderr, "(%zu of %lld shown; --all for every one)\n",
                        json_array_size(acc), (long long)json_integer_value(total));
        }
    }
    json_decref(first);
    json_decref(acc);
    json_decref(total);
    return rc;
}

/* One request: the answer shown as an object (or done's words for a 204). */
static int run_one(struct cli_conn *c, struct cli_args *a, const char *method, const char *path,
                   const json_t *body, const char *extra, const char *done, const char *usage)
{
    int rc = cli_check_unused(a, usage);
    if (rc)
        return rc;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct cli_resp r;
    rc = cli_request(c, method, path, NULL, text, text ? strlen(text) : 0, extra, NULL, &r);
    if (text) {
        OPENSSL_cleanse(text, strlen(text)); /* may hold a password */
        free(text);
    }
    if (rc)
        return rc;
    rc = cli_resp_exit(&r);
    if (!rc) {
        json_t *j = cli_resp_json(&r);
        if (j && a->json)
            cli_json_print(j);
        else if (j && json_is_object(j))
            cli_object_print(stdout, j);
        else if (!a->json && done)
            printf("%s\n", done);
        else if (!a->json)
            printf("done (HTTP %ld)\n", r.status);
        json_decref(j);
    }
    if (r.body)
        OPENSSL_cleanse(r.body, r.len); /* a new key's secret, a generated password */
    cli_resp_free(&r);
    return rc;
}

/* done's %1..%3 replaced by the positional words as they are. */
static void fill_done(const char *done, const struct cli_args *a, char *out, size_t outsz)
{
    size_t n = 0;
    out[0] = '\0';
    for (const char *p = done; p && *p && n + 1 < outsz; p++) {
        if (p[0] == '%' && p[1] >= '1' && p[1] <= '3') {
            n += cc_strlcpy(out + n, a->pos[2 + (p[1] - '1')], outsz - n);
            if (n >= outsz)
                n = outsz - 1;
            p++;
        } else {
            out[n++] = *p;
            out[n] = '\0';
        }
    }
}

static int run_spec(struct cli_conn *c, struct cli_args *a, const struct spec *s)
{
    struct cc_buf path;
    int rc = CLI_USAGE;
    json_t *body = NULL;
    cc_buf_init(&path, 4096);
    if (a->npos != 2 + s->npos) {
        fprintf(stderr, "usage: certcontacts %s\n", s->usage);
        goto out;
    }
    if (make_path(s, a, &path))
        goto out;
    char sep = '?';
    if (add_query(s, a, &path, &sep))
        goto out;
    if (s->list) {
        rc = run_list(c, a, s, &path, sep);
        goto out;
    }
    if (s->body) {
        body = make_body(a, s->body, &rc);
        if (!body)
            goto out;
    }
    char extra[96] = "";
    const char *if_match = !strcmp(s->group, "contact") && !strcmp(s->verb, "update")
                               ? cli_opt(a, "if-match")
                               : NULL;
    if (if_match) {
        int64_t v;
        if (cc_parse_i64(if_match, 1, INT64_MAX, &v)) {
            fprintf(stderr, "certcontacts: --if-match takes the contact's version (a number)\n");
            goto out;
        }
        snprintf(extra, sizeof extra, "If-Match: \"%lld\"", (long long)v);
    }
    char done[256];
    fill_done(s->done, a, done, sizeof done);
    rc = run_one(c, a, s->method, path.data, body, extra[0] ? extra : NULL,
                 s->done ? done : NULL, s->usage);
out:
    json_decref(body);
    cc_buf_free(&path);
    return rc;
}

/* contact verify ID --channel C [--code X]: sends a code, or confirms one. */
static int cmd_verify(struct cli_conn *c, struct cli_args *a)
{
    static const char usage[] = "contact verify ID --channel email|mobile [--code CODE]";
    const char *channel = cli_opt(a, "channel");
    const char *code = cli_opt(a, "code");
    if (a->npos != 3 || !channel) {
        fprintf(stderr, "usage: certcontacts %s\n", usage);
        return CLI_USAGE;
    }
    struct cc_buf path;
    cc_buf_init(&path, 1024);
    int rc = CLI_USAGE;
    json_t *body = json_pack("{s:s}", "channel", channel);
    if (code)
        json_object_set_new(body, "code", json_string(code));
    if (!cc_buf_puts(&path, "/v1/contacts/") && !cli_url_escape(&path, a->pos[2]) &&
        !cc_buf_puts(&path, code ? "/verifications/confirm" : "/verifications"))
        rc = run_one(c, a, "POST", path.data, body, NULL, NULL, usage);
    json_decref(body);
    cc_buf_free(&path);
    return rc;
}

/* ---- dispatch ----------------------------------------------------------------- */

static const char *const remote_groups[] = {"contact", "contacts", "event", "notification",
                                            "template", "certificate", "application",
                                            "configure"};

/* The command word: the first argument that is neither an option nor an
 * option's value. */
static const char *command_word(int argc, char **argv, int *at)
{
    static const char *const with_value[] = {"server", "key", "profile", "config", "account",
                                             "role", "email", "password", "expires", "from",
                                             "to"};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) || !arg[2]) {
            *at = i;
            return arg;
        }
        if (strchr(arg, '='))
            continue;
        int takes = cc_config_is_option(arg + 2) == 1;
        for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++)
            takes |= !strcmp(arg + 2, with_value[k]);
        if (takes)
            i++;
    }
    return NULL;
}

int cc_cli_wants(int argc, char **argv)
{
    int at = 0;
    const char *cmd = command_word(argc, argv, &at);
    if (!cmd)
        return 0;
    if (!strcmp(cmd, "help")) {
        for (int i = 1; i < argc; i++)
            if (!strcmp(argv[i], "--completion"))
                return 1;
        return 0;
    }
    for (size_t k = 0; k < sizeof remote_groups / sizeof remote_groups[0]; k++)
        if (!strcmp(cmd, remote_groups[k]))
            return 1;
    if (strcmp(cmd, "key") && strcmp(cmd, "user"))
        return 0;
    /* key and user: the local forms take --account (and rotate-master is
     * local only) */
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--account") || !strncmp(argv[i], "--account=", 10) ||
            !strcmp(argv[i], "rotate-master"))
            return 0;
    return 1;
}

int cc_cli_main(int argc, char **argv)
{
    struct cli_args a;
    struct cli_conn c;
    int rc;
    memset(&c, 0, sizeof c);
    if (parse(argc, argv, &a))
        return CLI_USAGE;
    a.json = cli_flag(&a, "json");
    if (a.npos == 0)
        return CLI_USAGE;
    if (!strcmp(a.pos[0], "help")) {
        cli_flag(&a, "completion");
        cc_app_print_completion(stdout);
        return CLI_OK;
    }
    if (cli_flag(&a, "help")) {
        cc_app_print_usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(a.pos[0], "configure"))
        return cmd_configure(&a);
    if (!strcmp(a.pos[0], "contacts"))
        a.pos[0] = "contact";
    const char *verb = a.npos > 1 ? a.pos[1] : "";
    const struct spec *s = NULL;
    for (size_t i = 0; i < NSPECS; i++)
        if (!strcmp(specs[i].group, a.pos[0]) && !strcmp(specs[i].verb, verb))
            s = &specs[i];
    int special = !strcmp(a.pos[0], "contact") &&
                  (!strcmp(verb, "verify") || !strcmp(verb, "import") || !strcmp(verb, "export"));
    if (!s && !special) {
        fprintf(stderr, "certcontacts: unknown command \"%s%s%s\"; these are known:\n",
                a.pos[0], *verb ? " " : "", verb);
        for (size_t i = 0; i < NSPECS; i++)
            if (!strcmp(specs[i].group, a.pos[0]))
                fprintf(stderr, "  certcontacts %s\n", specs[i].usage);
        if (!strcmp(a.pos[0], "contact"))
            fprintf(stderr, "  certcontacts contact verify ID --channel email|mobile [--code "
                            "CODE]\n  certcontacts contacts import FILE.csv [...]\n"
                            "  certcontacts contacts export [...]\n");
        return CLI_USAGE;
    }
    rc = connect_setup(&a, &c);
    if (rc)
        goto out;
    if (cli_conn_init(&c)) {
        fprintf(stderr, "certcontacts: libcurl could not start\n");
        rc = CLI_SERVER;
        goto out;
    }
    if (s)
        rc = run_spec(&c, &a, s);
    else if (!strcmp(verb, "verify"))
        rc = cmd_verify(&c, &a);
    else if (!strcmp(verb, "import"))
        rc = cli_cmd_import(&c, &a);
    else
        rc = cli_cmd_export(&c, &a);
out:
    cli_conn_cleanup(&c);
    OPENSSL_cleanse(&c, sizeof c);
    return rc;
}
