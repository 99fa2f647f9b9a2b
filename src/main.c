/*
 * main.c — the one binary, `certcontacts`, and its subcommands: serve,
 * migrate, check, backup, restore, account, key, user, audit and config.
 * Global options (--config, --data-dir, --db and every other option of the
 * table in app/config.c) may stand before or after the subcommand's own
 * arguments. account, key, user and audit are in app/admin.c; main.c
 * opens the service for them.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/core.h"
#include "delivery/delivery.h"
#include "http/http.h"
#include "service/service.h"
#include "store/store.h"
#include "app/admin.h"
#include "app/cli.h"
#include "app/config.h"
#include "app/notify.h"
#include "util/util.h"

#define MAX_POS 8

struct args {
    const char *pos[MAX_POS];
    int npos;
    const char *config_file;
    int json;
    int help;
    int man;
    const char *account;
    const char *role;
    const char *email;
    const char *password;
    const char *expires;
    const char *from, *to;    /* db copy */
    int with_key;             /* backup */
    const char *key_file;     /* restore --key */
    /* table options from flags, applied after the file and the environment */
    const char *flag_name[32];
    const char *flag_value[32];
    int nflags;
};

/* The release, from the Makefile (the file VERSION). */
#ifndef CC_VERSION
#define CC_VERSION "unknown"
#endif

static int parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            if (a->npos == MAX_POS) {
                fprintf(stderr, "certcontacts: too many arguments\n");
                return -1;
            }
            a->pos[a->npos++] = arg;
            continue;
        }
        static char names[32][64];
        const char *name = arg + 2;
        const char *value = NULL;
        const char *eq = strchr(name, '=');
        char namebuf[64];
        if (eq) {
            size_t n = (size_t)(eq - name);
            if (n >= sizeof namebuf) {
                fprintf(stderr, "certcontacts: unknown option %s\n", arg);
                return -1;
            }
            memcpy(namebuf, name, n);
            namebuf[n] = '\0';
            name = namebuf;
            value = eq + 1;
        }
        if (!strcmp(name, "with-key") && !value) {
            a->with_key = 1;
            continue;
        }
        if (!strcmp(name, "help") || !strcmp(name, "json") || !strcmp(name, "man")) {
            *(!strcmp(name, "help") ? &a->help : !strcmp(name, "json") ? &a->json : &a->man) = 1;
            continue;
        }
        int kind = cc_config_is_option(name);
        int own = !strcmp(name, "config") || !strcmp(name, "account") || !strcmp(name, "role") ||
                  !strcmp(name, "email") || !strcmp(name, "password") ||
                  !strcmp(name, "expires") || !strcmp(name, "from") || !strcmp(name, "to") ||
                  !strcmp(name, "key");
        if (!kind && !own) {
            fprintf(stderr, "certcontacts: unknown option --%s (see --help)\n", name);
            return -1;
        }
        if (!value) {
            if (kind == 2) {
                value = "true";
            } else if (i + 1 < argc) {
                value = argv[++i];
            } else {
                fprintf(stderr, "certcontacts: --%s needs a value\n", name);
                return -1;
            }
        }
        if (!strcmp(name, "config"))
            a->config_file = value;
        else if (!strcmp(name, "account"))
            a->account = value;
        else if (!strcmp(name, "role"))
            a->role = value;
        else if (!strcmp(name, "email"))
            a->email = value;
        else if (!strcmp(name, "password"))
            a->password = value;
        else if (!strcmp(name, "expires"))
            a->expires = value;
        else if (!strcmp(name, "from"))
            a->from = value;
        else if (!strcmp(name, "to"))
            a->to = value;
        else if (!strcmp(name, "key"))
            a->key_file = value;
        else {
            if (a->nflags == 32) {
                fprintf(stderr, "certcontacts: too many options\n");
                return -1;
            }
            cc_strlcpy(names[a->nflags], name, sizeof names[0]);
            a->flag_name[a->nflags] = names[a->nflags];
            a->flag_value[a->nflags] = value;
            a->nflags++;
        }
    }
    return 0;
}

/* The options as the command line, the environment and --config give them
 * (later sources win). Returns 0, or -1 with a sentence in err. */
static int read_config(const struct args *a, struct cc_config *cfg, enum cc_log_level *level,
                       char *err, size_t errsz)
{
    static const char *levels[] = {"debug", "info", "warn", "error"};
    cc_config_defaults(cfg);
    if (a->config_file && cc_config_load_file(cfg, a->config_file, err, errsz))
        return -1;
    if (cc_config_load_env(cfg, err, errsz))
        return -1;
    for (int i = 0; i < a->nflags; i++)
        if (cc_config_set(cfg, a->flag_name[i], a->flag_value[i], err, errsz))
            return -1;
    cc_config_finish(cfg);
    for (int i = 0; i < 4; i++)
        if (!strcmp(cfg->log_level, levels[i])) {
            *level = (enum cc_log_level)i;
            return 0;
        }
    snprintf(err, errsz, "log_level: must be debug, info, warn or error");
    return -1;
}

static int load_config(const struct args *a, struct cc_config *cfg)
{
    char err[512];
    enum cc_log_level level;
    if (read_config(a, cfg, &level, err, sizeof err)) {
        cc_say_error("%s", err);
        return -1;
    }
    cc_log_set_level(level);
    return 0;
}

/* One server per data directory: a second one would share the database but
 * keep its own per-robot rate limits (doubling them) and its own leases.
 * The lock is held until the process ends, however it ends; the command
 * line's other commands may run beside a server and take no lock. */
static int lock_data_dir(const struct cc_config *cfg, int *fd)
{
    char path[1300];
    long holder = 0;
    char msg[1600];
    if (cc_app_data_dir(cfg, msg, sizeof msg)) {
        cc_say_error("%s", msg);
        return -1;
    }
    snprintf(path, sizeof path, "%s/certcontacts.lock", cfg->data_dir);
    *fd = cc_file_lock(path, &holder);
    if (*fd >= 0)
        return 0;
    if (errno == EWOULDBLOCK)
        cc_say_error("another certcontacts server (pid %ld) is already serving the data "
                  "directory %s; stop it first, or give this one its own --data-dir",
                  holder, cfg->data_dir);
    else
        cc_say_error("cannot lock %s: %s", path, strerror(errno));
    return -1;
}

static void store_config(const struct cc_config *cfg, struct cc_store_config *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->url = cfg->db;
    sc->synchronous_full = (int)cfg->synchronous_full;
    sc->busy_timeout_ms = (int)cfg->busy_timeout_ms;
    sc->pool_size = (int)cfg->db_pool_size;
    sc->max_batch = CC_WRITE_BATCH_MAX;
    sc->quick_check_s = (int)cfg->startup_check_s;
}

/* `certcontacts check`: the full integrity check, read-only, beside a
 * running server too. 0: no problem; 1: problems (or the file is not one
 * certcontacts can examine), each printed. */
static void print_problem(void *arg, const char *text)
{
    (void)arg;
    printf("problem: %s\n", text);
}

static int cmd_check(const struct cc_config *cfg)
{
    struct cc_error err;
    struct cc_store_config sc;
    store_config(cfg, &sc);
    enum cc_err rc = cc_store_check(&sc, print_problem, NULL, &err);
    if (rc) {
        cc_say_error("%s", err.message);
        return 1;
    }
    if (!strncmp(cfg->db, "postgres", 8))
        printf("ok: the PostgreSQL database is a certcontacts database this release can serve "
               "(for its pages and indexes run pg_amcheck: see docs/postgresql.md)\n");
    else
        printf("ok: %s passed the full integrity check\n", cfg->db);
    fflush(stdout);
    return cc_app_check_sealed(cfg);
}

/* `certcontacts backup FILE [--with-key]` and `restore FILE [--key KEYFILE]`
 * (app/backup.c). */
static int cmd_backup(const struct args *a, const struct cc_config *cfg)
{
    if (a->npos != 2 || a->key_file) {
        fprintf(stderr, "usage: certcontacts backup FILE [--with-key]\n");
        return 2;
    }
    return cc_app_backup(cfg, a->pos[1], a->with_key);
}

static int cmd_restore(const struct args *a, const struct cc_config *cfg)
{
    if (a->npos != 2 || a->with_key) {
        fprintf(stderr, "usage: certcontacts restore FILE [--key KEYFILE]\n");
        return 2;
    }
    return cc_app_restore(cfg, a->pos[1], a->key_file);
}

/* Opens the database (creating the data dir and master key when needed),
 * migrates it, and sets up the service. */
static int open_app(const struct cc_config *cfg, struct cc_store **store, struct cc_service **svc)
{
    struct cc_error err;
    uint8_t key[CC_KEY_LEN];
    char msg[1600];
    if (cc_app_data_dir(cfg, msg, sizeof msg)) {
        cc_say_error("%s", msg);
        return -1;
    }
    struct cc_store_config sc;
    store_config(cfg, &sc);
    if (cc_store_open(&sc, store, &err)) {
        cc_say_error("%s", err.message);
        return -1;
    }
    if (cc_store_migrate(*store, &err)) {
        cc_say_error("migration failed: %s", err.message);
        cc_store_close(*store);
        return -1;
    }
    /* After the store: a refused database must not leave a new key behind. */
    if (cc_service_open_key(*store, cfg->master_key_file, key, &err)) {
        cc_say_error("%s", err.message);
        OPENSSL_cleanse(key, sizeof key);
        cc_store_close(*store);
        return -1;
    }
    struct cc_service_config svcc = {
        .max_contacts = cfg->max_contacts_per_account,
        .search_count_max = cfg->search_count_max,
        .max_keys = cfg->max_access_keys_per_account,
        .verify = {cfg->verify_code_ttl, cfg->verify_resend_interval, cfg->verify_max_per_hour,
                   cfg->verify_max_per_day, cfg->verify_account_max_per_hour,
                   cfg->verify_max_attempts},
        .session_idle_s = cfg->session_idle_timeout,
        .session_max_age_s = cfg->session_max_age,
        .clock_offset_ms = cfg->clock_offset_s * 1000,
        .verification_retention_days = cfg->verification_retention_days,
        .delivery_log_retention_days = cfg->delivery_log_retention_days,
        .test_send_per_hour = cfg->test_send_max_per_hour,
        .test_send_account_per_hour = cfg->test_send_account_max_per_hour,
    };
    *svc = cc_service_new(*store, key, &svcc);
    OPENSSL_cleanse(key, sizeof key);
    cc_service_set_key_file(*svc, cfg->master_key_file);
    int64_t sealed = 0;
    if (cc_service_seal_robot_urls(*svc, &sealed, &err)) {
        cc_say_error("cannot seal the robots' webhook URLs: %s", err.message);
        cc_service_free(*svc);
        *svc = NULL;
        cc_store_close(*store);
        return -1;
    }
    if (sealed)
        cc_log(CC_LOG_INFO, "sealed the robots' webhook URLs of a database from before", NULL);
    return 0;
}

/* The outbound settings, borrowed from cfg for the life of the server. */
static void delivery_config(const struct cc_config *cfg, struct cc_delivery_config *dc)
{
    memset(dc, 0, sizeof *dc);
    dc->dev = (int)cfg->dev;
    dc->smtp_url = cfg->smtp_url;
    dc->smtp_user = cfg->smtp_user;
    dc->smtp_password = cfg->smtp_password;
    dc->smtp_from = cfg->smtp_from;
    dc->smtp_require_tls = (int)cfg->smtp_starttls_required;
    dc->sms_provider = cfg->sms_provider;
    dc->sms_endpoint = cfg->sms_endpoint;
    dc->sms_access_key_id = cfg->sms_access_key_id;
    dc->sms_access_key_secret = cfg->sms_access_key_secret;
    dc->sms_sign_name = cfg->sms_sign_name;
    dc->sms_template_code = cfg->sms_template_code;
    dc->sms_notify_template_code = cfg->sms_notify_template_code;
    dc->sms_webhook_url = cfg->sms_webhook_url;
    dc->sms_webhook_secret = cfg->sms_webhook_secret;
    dc->timeout_ms = cfg->send_timeout_ms;
    dc->dingtalk_base_url = cfg->dingtalk_base_url;
    dc->feishu_base_url = cfg->feishu_base_url;
    dc->lark_base_url = cfg->lark_base_url;
    dc->wecom_base_url = cfg->wecom_base_url;
}

/* What the admin commands (app/admin.c) read of the command line, borrowed
 * from a. */
static struct cc_admin_args admin_args(const struct args *a)
{
    struct cc_admin_args aa = {
        .pos = a->pos,
        .npos = a->npos,
        .json = a->json,
        .account = a->account,
        .role = a->role,
        .email = a->email,
        .password = a->password,
        .expires = a->expires,
    };
    return aa;
}

/* The first console admin of the default account, with a generated
 * password printed once. */
static void bootstrap_user(struct cc_service *svc, const struct cc_config *cfg)
{
    struct cc_error err;
    struct cc_user u;
    char gen[CC_PASSWORD_GEN_LEN + 1];
    if (cc_user_create(svc, NULL, 1, cfg->console_admin_email, "admin", NULL, &u, gen, &err)) {
        cc_log(CC_LOG_ERROR, "cannot create the first console user", "error", err.message, NULL);
        return;
    }
    printf("\n");
    cc_admin_print_user(&u, gen, 0);
    OPENSSL_cleanse(gen, sizeof gen);
}

/* The first start on an empty database creates account 1 with an admin key
 * and a console admin and prints them once, so that a newcomer can call the
 * API and sign in to the console at once. In development mode the console
 * admin is also made when account 1 has no console user yet. */
static void bootstrap(struct cc_service *svc, const struct cc_config *cfg)
{
    struct cc_error err;
    char name[CC_NAME_MAX_BYTES + 1];
    if (cc_account_get_name(svc, 1, name, sizeof name, &err) != CC_ERR_NOT_FOUND) {
        size_t n = 1;
        if (cfg->dev && !cc_user_count(svc, 1, &n, &err) && n == 0) {
            bootstrap_user(svc, cfg);
            printf("\n");
            fflush(stdout);
        }
        return;
    }
    struct cc_new_key k;
    if (cc_account_create(svc, "default", &k, &err)) {
        cc_log(CC_LOG_ERROR, "cannot create the default account", "error", err.message, NULL);
        return;
    }
    printf("\ncertcontacts: created the default account %lld with an admin access key.\n"
           "The secret is shown only this once; keep it safe.\n\n",
           (long long)k.account_id);
    cc_admin_print_key(&k, 0);
    bootstrap_user(svc, cfg);
    printf("\ntry:  curl -u %s:%s http://%s/v1/contacts\n\n", k.key_id, k.secret, cfg->listen);
    OPENSSL_cleanse(&k, sizeof k);
    fflush(stdout);
}

/* "60,300,900" → {60, 300, 900}; -1 on anything else. */
static int parse_schedule(const char *s, int64_t *out, size_t max, size_t *n)
{
    *n = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        int64_t v;
        while (len && s[len - 1] == ' ')
            len--;
        while (*s == ' ')
            s++, len--;
        if (*n == max || cc_parse_i64n(s, len, 1, 7 * 86400, &v))
            return -1;
        out[(*n)++] = v;
        s += strcspn(s, ",");
        if (*s == ',')
            s++;
    }
    return *n ? 0 : -1;
}

/* SIGINT and SIGTERM, which serve waits for with sigwait(). They must be
 * blocked before the first thread starts (opening the store starts its
 * writer): a thread inherits the mask, and a stop signal delivered to one
 * that does not block it would kill the process instead of stopping it. */
static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP); /* serve: read the HTTPS certificate and key again */
}

/* SIGHUP: the HTTPS certificate and key are read again; a pair that does not
 * load leaves the one in use. */
static void reload_tls(struct cc_http_server *srv)
{
    struct cc_error err;
    if (!cc_http_is_tls(srv))
        cc_log(CC_LOG_INFO, "SIGHUP: nothing to reload (plain HTTP)", NULL);
    else if (cc_http_reload_tls(srv, &err))
        cc_log(CC_LOG_ERROR, "SIGHUP: the HTTPS certificate was not replaced", "error",
               err.message, NULL);
    else
        cc_log(CC_LOG_INFO, "SIGHUP: HTTPS certificate and key reloaded", NULL);
}

/* SIGHUP: the options are read again as at start. log_level and log_file
 * take effect (the log file is opened again even when its name is the same:
 * log rotation); the HTTPS files are read again; every other option that
 * changed is named in the log as waiting for a restart. Options that do not
 * load change nothing. cur is the configuration in use; only its two log
 * options are updated (the layers hold pointers to the others). */
static void reload(const struct args *a, struct cc_config *cur, struct cc_http_server *srv)
{
    struct cc_config *next = cc_calloc(1, sizeof *next);
    char err[512];
    enum cc_log_level level;
    if (read_config(a, next, &level, err, sizeof err)) {
        cc_log(CC_LOG_ERROR, "SIGHUP: the configuration was not reloaded", "error", err, NULL);
        goto out;
    }
    /* Back to stderr takes a restart (descriptor 2 is the file now), and
     * so does a file that does not open: either stays named below. */
    if (next->log_file[0]) {
        if (cc_log_reopen(next->log_file, err, sizeof err))
            cc_log(CC_LOG_ERROR, "SIGHUP: the log file was not opened", "error", err, NULL);
        else
            cc_strlcpy(cur->log_file, next->log_file, sizeof cur->log_file);
    }
    cc_log_set_level(level);
    cc_strlcpy(cur->log_level, next->log_level, sizeof cur->log_level);
    const char *changed[128];
    size_t n = cc_config_changed(cur, next, changed, 128);
    char names[2048] = "";
    size_t len = 0;
    for (size_t i = 0; i < n && len < sizeof names; i++)
        len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", i ? "," : "", changed[i]);
    if (n)
        cc_log(CC_LOG_WARN, "SIGHUP: options changed that take effect at the next restart",
               "options", names, NULL);
    cc_log(CC_LOG_INFO, "SIGHUP: configuration reloaded", "log_level", cur->log_level,
           "log_file", cur->log_file[0] ? cur->log_file : "stderr", NULL);
    reload_tls(srv);
out:
    OPENSSL_cleanse(next, sizeof *next); /* passwords */
    cc_free(next);
}

/* ACME issuance, when acme_directory_url is set. */
static enum cc_err start_acme(struct cc_service *svc, const struct cc_config *cfg,
                              struct cc_error *err)
{
    static const char *const key_types[] = {"ec256", "rsa2048", "rsa3072", "rsa4096"};
    struct cc_acme_config ac = {
        .directory_url = cfg->acme_directory_url,
        .ca_file = cfg->acme_ca_file,
        .eab_kid = cfg->acme_eab_kid,
        .eab_hmac_key = cfg->acme_eab_hmac_key,
        .terms_agreed = (int)cfg->acme_terms_agreed,
        .max_orders = cfg->acme_max_orders,
        .key_type = key_types[cfg->acme_key_type_index & 3],
        .timeout_ms = cfg->acme_timeout_ms,
        .dns_hook = cfg->acme_dns_hook,
        .dns_resolver = cfg->acme_dns_resolver,
        .dns_wait_s = cfg->acme_dns_wait_s,
        .renew_remaining_percent = cfg->acme_renew_remaining_percent,
        .renew_retry_s = cfg->acme_renew_retry_s,
        .alidns_endpoint = cfg->acme_alidns_endpoint,
        .alidns_access_key_id = cfg->acme_alidns_access_key_id,
        .alidns_access_key_secret = cfg->acme_alidns_access_key_secret,
        .alidns_zones = cfg->acme_alidns_zones,
    };
    return cc_acme_start(svc, &ac, err);
}

/* The metrics_listen listener: plain HTTP, GET /metrics only, no key. */
static int start_metrics_listener(const struct cc_config *cfg, const struct cc_http_config *hc,
                                  struct cc_service *svc, struct cc_http_server **out)
{
    struct cc_error err;
    struct cc_http_config mc = *hc;
    mc.listen = cfg->metrics_listen;
    mc.threads = 1;
    mc.tls_cert_file = mc.tls_key_file = "";
    mc.metrics_only = 1;
    if (cc_http_start(&mc, svc, out, &err)) {
        cc_say_error("metrics_listen: %s", err.message);
        return -1;
    }
    char port[16];
    snprintf(port, sizeof port, "%u", cc_http_port(*out));
    cc_log(CC_LOG_INFO, "metrics listener", "listen", cfg->metrics_listen, "port", port, NULL);
    return 0;
}

static int cmd_serve(const struct args *a, struct cc_service *svc, struct cc_store *store,
                     struct cc_config *cfg)
{
    cc_metrics_started(CC_VERSION);
    struct cc_error err;
    struct cc_delivery_config dc;
    char derr[256];
    delivery_config(cfg, &dc);
    if (cc_delivery_check_config(&dc, derr, sizeof derr)) {
        cc_say_error("%s", derr);
        return 2;
    }
    cc_service_set_delivery(svc, &dc, NULL);
    int64_t schedule[32];
    size_t nschedule;
    if (parse_schedule(cfg->retry_schedule, schedule, 32, &nschedule)) {
        cc_say_error("retry_schedule must be 1 to 32 comma-separated waits in "
                        "seconds (1 to 604800), such as 60,300,900");
        return 2;
    }
    sigset_t set;
    stop_signals(&set); /* blocked in main(), before the store's threads started */
    if (cfg->dev)
        cc_log(CC_LOG_WARN, "development mode: not for production",
               "email", cfg->smtp_url[0] ? "smtp" : "written to this log",
               "sms", cfg->sms_provider[0] ? cfg->sms_provider : "none", NULL);
    /* Instances started together on an empty shared database: one of them
     * makes the default account and its first users. */
    int first = 1;
    struct cc_error lerr;
    if (cc_store_lead(store, "bootstrap", &first, &lerr) == CC_OK && first)
        bootstrap(svc, cfg);
    struct cc_http_config hc = {
        .listen = cfg->listen,
        .threads = (int)cfg->threads,
        .max_body = (size_t)cfg->max_body_bytes,
        .import_max_body = (size_t)cfg->import_max_bytes,
        .connection_timeout_s = (int)cfg->connection_timeout_s,
        .blocking_threads = (int)cfg->blocking_threads,
        .acs_requests_per_minute = cfg->acs_requests_per_minute,
        .max_connections = (unsigned)cfg->max_connections,
        .max_connections_per_address = (unsigned)cfg->max_connections_per_address,
        .header_timeout_s = (int)cfg->header_timeout_s,
        .body_timeout_s = (int)cfg->body_timeout_s,
        .public_url = cfg->public_url,
        .tls_cert_file = cfg->tls_cert_file,
        .tls_key_file = cfg->tls_key_file,
        .trusted_proxies = cfg->trusted_proxies,
        .hsts_max_age_s = cfg->hsts_max_age_s,
        .acs_nonces_per_key = cfg->acs_nonces_per_key,
    };
    char instance[33], why[1200];
    if (cc_app_instance_id(cfg, instance, why, sizeof why)) {
        cc_say_error("%s", why);
        return 1;
    }
    if (cc_imports_recover(svc, instance, &lerr)) /* a job it cannot mark stays: logged */
        cc_log(CC_LOG_WARN, "cannot mark unfinished imports failed", "error", lerr.message,
               NULL);
    struct cc_dispatcher_config dcfg = {(int)cfg->dispatcher_threads, cfg->delivery_lease_s * 1000,
                                        schedule, nschedule, 1000,
                                        (int)cfg->robot_rate_window_percent,
                                        cfg->throttle_max_age * 1000, instance};
    struct cc_dispatcher *disp = NULL;
    struct cc_delivery_resolver resolver;
    cc_outbox_resolver(svc, &resolver);
    if (cc_dispatcher_start(store, &dc, &resolver, &dcfg, &disp)) {
        cc_say_error("cannot start the dispatcher");
        return 1;
    }
    cc_service_set_delivery(svc, &dc, disp);
    struct cc_http_server *srv = NULL;
    if (cc_http_start(&hc, svc, &srv, &err)) {
        cc_say_error("%s", err.message);
        cc_dispatcher_stop(disp);
        return 1;
    }
    char addr[160];
    char host[128];
    cc_strlcpy(host, cfg->listen, sizeof host);
    char *colon = strrchr(host, ':');
    if (colon)
        *colon = '\0';
    snprintf(addr, sizeof addr, "%s:%u", host, cc_http_port(srv));
    char public_url[600];
    const char *scheme = cc_http_is_tls(srv) ? "https://" : "http://";
    snprintf(public_url, sizeof public_url, "%s%s", cfg->public_url[0] ? "" : scheme,
             cfg->public_url[0] ? cfg->public_url : addr);
    if (cc_reminders_start(svc, public_url, &err)) {
        cc_say_error("%s", err.message);
        cc_http_stop(srv);
        cc_dispatcher_stop(disp);
        return 1;
    }
    struct cc_endpoint_config ecfg = {cfg->endpoint_check_interval_s,
                                      cfg->endpoint_check_timeout_ms,
                                      cfg->endpoint_check_concurrency, cfg->endpoint_ca_file};
    if (cc_endpoints_start(svc, &ecfg, &err)) {
        cc_say_error("%s", err.message);
        cc_reminders_stop(svc);
        cc_http_stop(srv);
        cc_dispatcher_stop(disp);
        return 1;
    }
    if (cc_audit_retention_start(svc, cfg->audit_retention_days, &err)) {
        cc_say_error("%s", err.message);
        cc_endpoints_stop(svc);
        cc_reminders_stop(svc);
        cc_http_stop(srv);
        cc_dispatcher_stop(disp);
        return 1;
    }
    struct cc_backup_config bcfg = {cfg->backup_dir, cfg->db, (int)cfg->backup_keep,
                                    cfg->backup_interval_s ? cfg->backup_interval_s
                                                           : cfg->backup_interval_h * 3600};
    if (cc_backups_start(svc, &bcfg, &err)) {
        cc_say_error("%s", err.message);
        cc_audit_retention_stop(svc);
        cc_endpoints_stop(svc);
        cc_reminders_stop(svc);
        cc_http_stop(srv);
        cc_dispatcher_stop(disp);
        return 1;
    }
    struct cc_http_server *acme_srv = NULL;
    if (cfg->acme_http_listen[0]) {
        struct cc_http_config ahc = hc;
        ahc.listen = cfg->acme_http_listen;
        ahc.threads = 2;
        ahc.tls_cert_file = ahc.tls_key_file = "";
        ahc.acme_only = 1;
        if (cc_http_start(&ahc, svc, &acme_srv, &err)) {
            cc_say_error("acme_http_listen: %s", err.message);
            cc_backups_stop(svc);
            cc_audit_retention_stop(svc);
            cc_reminders_stop(svc);
            cc_http_stop(srv);
            cc_dispatcher_stop(disp);
            return 1;
        }
        char aport[16];
        snprintf(aport, sizeof aport, "%u", cc_http_port(acme_srv));
        cc_log(CC_LOG_INFO, "acme: HTTP-01 listener", "listen", cfg->acme_http_listen, "port",
               aport, NULL);
    }
    struct cc_http_server *metrics_srv = NULL;
    if (cfg->metrics_listen[0] && start_metrics_listener(cfg, &hc, svc, &metrics_srv)) {
        cc_http_stop(acme_srv);
        cc_audit_retention_stop(svc);
        cc_reminders_stop(svc);
        cc_http_stop(srv);
        cc_dispatcher_stop(disp);
        return 1;
    }
    if (start_acme(svc, cfg, &err)) {
        cc_say_error("%s", err.message);
        cc_http_stop(metrics_srv);
        cc_http_stop(acme_srv);
        cc_backups_stop(svc);
        cc_audit_retention_stop(svc);
        cc_reminders_stop(svc);
        cc_http_stop(srv);
        cc_dispatcher_stop(disp);
        return 1;
    }
    printf("console: %s%s/\n", scheme, addr);
    fflush(stdout);
    cc_log(CC_LOG_INFO, "listening", "listen", addr, "scheme",
           cc_http_is_tls(srv) ? "https" : "http", "db",
           cfg->synchronous_full ? "durable" : "fast", "mode",
           cfg->dev ? "development" : "production", NULL);
    /* What start-up allocated and freed (migrations, the quick check, the
     * console's files, this thread's read connection, which waiting for a
     * signal does not need) goes back to the system instead of staying
     * resident. */
    cc_notify_load();
    cc_notify_ready(svc, scheme, addr);
    cc_service_thread_done(svc);
    cc_alloc_trim();
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
        cc_notify_reloading();
        reload(a, cfg, srv);
        cc_notifyf("READY=1\nSTATUS=serving on %s%s", scheme, addr);
    }
    cc_notifyf("STOPPING=1\nSTATUS=stopping");
    cc_log(CC_LOG_INFO, "stopping", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM", NULL);
    cc_http_stop(srv);
    cc_http_stop(metrics_srv);
    cc_http_stop(acme_srv);
    cc_acme_stop(svc); /* a request in flight finishes first (acme_timeout_ms at most) */
    cc_backups_stop(svc); /* a backup being taken finishes first */
    cc_audit_retention_stop(svc);
    cc_endpoints_stop(svc); /* checks in flight finish within their timeout */
    cc_reminders_stop(svc); /* a batch being raised commits first */
    cc_service_set_delivery(svc, &dc, NULL);
    cc_dispatcher_stop(disp); /* sends in flight finish; the rest waits in the outbox */
    return 0;
}

/* ---- db copy ------------------------------------------------------------------ */
struct copy_out {
    int json;
    int64_t last_ms;
    int64_t batches, kill_after;
};

static void copy_progress(void *arg, const char *table, int64_t done, int more)
{
    struct copy_out *o = arg;
    if (o->kill_after && ++o->batches >= o->kill_after)
        raise(SIGKILL); /* the drill: an interrupted copy */
    int64_t now = cc_mono_ms();
    if (o->json || (more && now - o->last_ms < 1000))
        return;
    o->last_ms = now;
    fprintf(stderr, "copying %s: %lld rows%s\n", table, (long long)done, more ? "..." : "");
}

static void copy_verified(void *arg, const char *table, int64_t from, int64_t to,
                          const char *sha256, int ok)
{
    struct copy_out *o = arg;
    if (o->json)
        printf("{\"table\":\"%s\",\"rows\":%lld,\"rows_copied\":%lld,\"sha256\":\"%s\","
               "\"ok\":%s}\n",
               table, (long long)from, (long long)to, sha256, ok ? "true" : "false");
    else
        printf("%-30s %10lld rows  sha256 %.16s  %s\n", table, (long long)from, sha256,
               ok ? "ok" : "DIFFERS");
}

/* `certcontacts db copy --from URL --to URL`: 0 when every table checks
 * out, 1 when the copy failed (run it again to go on), 2 on a usage error.
 * CERTCONTACTS_COPY_KILL_AFTER=N is a drill: the process kills itself
 * (SIGKILL) once N batches are committed, to show that running the command
 * again finishes the copy. */
static int cmd_db(const struct args *a)
{
    if (a->npos != 2 || strcmp(a->pos[1], "copy") || !a->from || !a->to) {
        fprintf(stderr, "usage: certcontacts db copy --from URL --to URL [--json]\n");
        return 2;
    }
    struct copy_out o = {a->json, 0, 0, 0};
    const char *drill = getenv("CERTCONTACTS_COPY_KILL_AFTER");
    if (drill && cc_parse_i64(drill, 1, INT64_MAX, &o.kill_after)) {
        cc_say_error("CERTCONTACTS_COPY_KILL_AFTER must be a positive number");
        return 2;
    }
    struct cc_copy_report rep = {copy_progress, copy_verified, &o};
    struct cc_error err;
    if (cc_store_copy(a->from, a->to, &rep, &err)) {
        cc_say_error("db copy: %s", err.message);
        return 1;
    }
    if (!a->json)
        printf("ok: every table of %s is in %s, checked by count and checksum\n", a->from,
               a->to);
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    struct cc_config cfg;
    cc_alloc_init();
    /* OpenSSL's texts for libcrypto's own errors (ASN.1, X.509, EVP: some
     * thousands) are not loaded: they cost 0.5 MB resident for errors that
     * are shown as "error:CODE:lib(N)::reason(M)" instead (`openssl errstr
     * CODE` reads them). libssl's texts, which name what goes wrong in a
     * handshake, are still loaded by the first SSL_CTX. Before any other
     * OpenSSL call, since the first choice holds for the process. */
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
    if (cc_cli_wants(argc, argv)) /* a client of a running server: app/cli.c */
        return cc_cli_main(argc, argv);
    if (parse_args(argc, argv, &a))
        return 2;
    if (a.help || a.npos == 0) {
        cc_app_print_usage(a.help ? stdout : stderr);
        return a.help ? 0 : 2;
    }
    const char *cmd = a.pos[0];
    if (!strcmp(cmd, "help")) {
        if (a.npos != 1) {
            fprintf(stderr, "usage: certcontacts help [--man]\n");
            return 2;
        }
        if (a.man)
            cc_app_print_man(CC_VERSION);
        else
            cc_app_print_usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "config")) {
        if (a.npos == 2 && !strcmp(a.pos[1], "example")) {
            cc_config_print_example();
            return 0;
        }
        fprintf(stderr, "usage: certcontacts config example\n");
        return 2;
    }
    if (!strcmp(cmd, "db"))
        return cmd_db(&a);
    if (strcmp(cmd, "serve") && strcmp(cmd, "migrate") && strcmp(cmd, "account") &&
        strcmp(cmd, "key") && strcmp(cmd, "user") && strcmp(cmd, "check") &&
        strcmp(cmd, "audit") && strcmp(cmd, "backup") && strcmp(cmd, "restore")) {
        cc_say_error("unknown command \"%s\" (see --help)", cmd);
        return 2;
    }
    int serve = !strcmp(cmd, "serve");
    cc_say_to_log(serve);
    if (serve)
        cc_alloc_keep_free(CC_MALLOC_TRIM_THRESHOLD);
    if (load_config(&a, &cfg))
        return 2;
    /* In production the process holds the master key and every secret it
     * opens: no core dump of it, and no other process of the same user may
     * read its memory (ptrace, /proc/PID/mem). Development mode keeps
     * debuggers working. */
    if (!cfg.dev && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        cc_say_error("cannot make the process non-dumpable: %s",
                strerror(errno));
        return 1;
    }
    if (!strcmp(cmd, "check"))
        return a.npos == 1 ? cmd_check(&cfg) : (fprintf(stderr, "usage: certcontacts check\n"), 2);
    if (!strcmp(cmd, "backup"))
        return cmd_backup(&a, &cfg);
    if (!strcmp(cmd, "restore"))
        return cmd_restore(&a, &cfg);
    if (cfg.clock_offset_s && !cfg.dev) {
        cc_say_error("clock_offset_s is a test and drill option: it is allowed "
                        "only with dev = true (it moves the clock reminders go by)");
        return 2;
    }
    struct cc_store *store = NULL;
    struct cc_service *svc = NULL;
    if (!strcmp(cmd, "serve") && cfg.dev && !cfg.sms_provider[0])
        cc_strlcpy(cfg.sms_provider, "log", sizeof cfg.sms_provider); /* verify without a gateway */
    int lock_fd = -1;
    if (!strcmp(cmd, "serve")) {
        sigset_t set;
        stop_signals(&set);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        char lerr[1200];
        if (cfg.log_file[0] && cc_log_reopen(cfg.log_file, lerr, sizeof lerr)) {
            cc_say_error("%s", lerr);
            return 2;
        }
        if (lock_data_dir(&cfg, &lock_fd))
            return 1;
    }
    if (open_app(&cfg, &store, &svc)) {
        if (lock_fd >= 0)
            close(lock_fd);
        return 1;
    }
    int rc = 0;
    struct cc_admin_args aa = admin_args(&a);
    if (!strcmp(cmd, "serve"))
        rc = cmd_serve(&a, svc, store, &cfg);
    else if (!strcmp(cmd, "account"))
        rc = cc_admin_account(&aa, svc);
    else if (!strcmp(cmd, "key"))
        rc = cc_admin_key(&aa, svc);
    else if (!strcmp(cmd, "user"))
        rc = cc_admin_user(&aa, svc);
    else if (!strcmp(cmd, "audit"))
        rc = cc_admin_audit(&aa, svc);
    else if (a.npos != 1)
        rc = 2;
    cc_service_free(svc);
    cc_store_close(store);
    OPENSSL_cleanse(&cfg, sizeof cfg); /* the SMTP and SMS passwords */
    if (lock_fd >= 0)
        close(lock_fd);
    if (!strcmp(cmd, "serve"))
        cc_log(CC_LOG_INFO, "stopped", NULL);
    return rc;
}
