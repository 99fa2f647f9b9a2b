/*
 * config.h — the application's options: one table (app/config.c) drives
 * the config file, CERTCONTACTS_* environment variables, command-line
 * flags, --help and the example config. Only the program's assembly
 * (main.c) reads them; it hands each layer the settings it needs.
 */
#ifndef CC_APP_CONFIG_H
#define CC_APP_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Every option's value. Later sources win: defaults < file < environment <
 * flags. */
struct cc_config {
    char listen[128];
    char data_dir[1024];
    char db[1280];
    char master_key_file[1280];
    int64_t threads;
    int64_t max_body_bytes;
    int64_t import_max_bytes;
    int64_t max_connections;
    int64_t max_connections_per_address;
    int64_t header_timeout_s;
    int64_t body_timeout_s;
    int64_t max_contacts_per_account;
    int64_t search_count_max;
    int64_t synchronous_full;
    int64_t busy_timeout_ms;
    int64_t db_pool_size;
    int64_t startup_check_s;
    int64_t connection_timeout_s;
    int64_t dev;
    char log_level[16];
    /* outbound: email and SMS */
    char smtp_url[512];
    char smtp_user[256];
    char smtp_password[256];
    char smtp_from[320];
    int64_t smtp_starttls_required;
    char sms_provider[16];
    char sms_endpoint[512];
    char sms_access_key_id[128];
    char sms_access_key_secret[128];
    char sms_sign_name[128];
    char sms_template_code[64];
    char sms_notify_template_code[64];
    char sms_webhook_url[512];
    char sms_webhook_secret[256];
    int64_t send_timeout_ms;
    int64_t blocking_threads;
    /* verification codes */
    int64_t verify_code_ttl;
    int64_t verify_resend_interval;
    int64_t verify_max_per_hour;
    int64_t verify_max_per_day;
    int64_t verify_account_max_per_hour;
    int64_t verify_max_attempts;
    /* personal data: how long records are kept */
    int64_t verification_retention_days;
    int64_t delivery_log_retention_days;
    /* test sends */
    int64_t test_send_max_per_hour;
    int64_t test_send_account_max_per_hour;
    /* chat robots: local stand-ins for tests, never set through the API */
    char dingtalk_base_url[256];
    char feishu_base_url[256];
    char lark_base_url[256];
    char wecom_base_url[256];
    /* notification delivery */
    char retry_schedule[256];
    int64_t dispatcher_threads;
    int64_t delivery_lease_s;
    int64_t robot_rate_window_percent;
    int64_t throttle_max_age;
    /* Alibaba Cloud CAS API */
    int64_t acs_requests_per_minute;
    int64_t max_access_keys_per_account;
    int64_t acs_nonces_per_key;
    /* the web console */
    int64_t session_idle_timeout;
    int64_t session_max_age;
    char console_admin_email[256];
    /* expiry reminders */
    char public_url[512];
    /* HTTPS and reverse proxies */
    char tls_cert_file[1024];
    char tls_key_file[1024];
    char trusted_proxies[512];
    int64_t hsts_max_age_s;
    int64_t clock_offset_s;
    /* the audit log */
    int64_t audit_retention_days;
    /* scheduled backups */
    char backup_dir[1024];
    int64_t backup_keep;
    int64_t backup_interval_h;
    int64_t backup_interval_s;
    /* watched endpoints */
    int64_t endpoint_check_interval_s;
    int64_t endpoint_check_timeout_ms;
    int64_t endpoint_check_concurrency;
    char endpoint_ca_file[1024];
    /* ACME issuance */
    char acme_directory_url[1024];
    char acme_ca_file[1024];
    char acme_eab_kid[256];
    char acme_eab_hmac_key[512];
    int64_t acme_terms_agreed;
    int64_t acme_max_orders;
    int64_t acme_key_type_index;  /* ec256|rsa2048|rsa3072|rsa4096 */
    int64_t acme_timeout_ms;
    char acme_http_listen[128];
    char metrics_listen[128];
    char acme_dns_hook[1024];
    char acme_dns_resolver[64];
    int64_t acme_dns_wait_s;
    int64_t acme_renew_remaining_percent;
    int64_t acme_renew_retry_s;
    char acme_alidns_endpoint[512];
    char acme_alidns_access_key_id[128];
    char acme_alidns_access_key_secret[128];
    char acme_alidns_zones[512];
};

void cc_config_defaults(struct cc_config *cfg);
/* Reads "name = value" lines (# comments). Fails on unknown names or bad
 * values, naming the line. */
int cc_config_load_file(struct cc_config *cfg, const char *path, char *errbuf, size_t errsz);
int cc_config_load_env(struct cc_config *cfg, char *errbuf, size_t errsz);
/* Sets one option by its name ("max_contacts_per_account" or with '-'). */
int cc_config_set(struct cc_config *cfg, const char *name, const char *value, char *errbuf,
                  size_t errsz);
/* 1 if name is an option, 2 if it is a boolean that takes no value. */
int cc_config_is_option(const char *name);
/* Fills the paths that default to places inside data_dir. */
void cc_config_finish(struct cc_config *cfg);
/* The help text of every option, and the commented example config. */
void cc_config_print_help(FILE *f);
void cc_config_print_example(void);
/* Row i of the option table, for the manual page (help.c): 0 with *o filled
 * (static strings), or -1 past the last row. */
struct cc_config_option {
    const char *name;     /* the config file's name: "max_body_bytes" */
    const char *def;      /* "" when the text says what empty means */
    const char *choices;  /* "a|b" or NULL */
    const char *help;
    int is_bool;          /* a flag that takes no value */
};
int cc_config_option_at(size_t i, struct cc_config_option *o);

/* ---- help.c ------------------------------------------------------------------- */
/* The subcommands' table drives both of these, with the option table above,
 * so that --help and the manual page list the same commands and options. */
/* `certcontacts --help`: the usage text and every option, to f. */
void cc_app_print_usage(FILE *f);
/* `certcontacts help --man`: certcontacts(1) in roff (man(7)) to stdout;
 * version goes in its title line. */
void cc_app_print_man(const char *version);

/* ---- datadir.c ---------------------------------------------------------------- */
/* Makes the process's files private (umask 077), creates cfg->data_dir (0700)
 * when missing, and narrows an existing data directory, database and key
 * files that others may read to 0700 / 0600, logging each change. 0, or -1
 * with msg set when something cannot be made private. */
int cc_app_data_dir(const struct cc_config *cfg, char *msg, size_t msgsz);
/* This instance's id (32 hex digits) into out (33 bytes): kept in the data
 * directory's instance.id, made on first use. It names the dispatcher's
 * leases, so a restart of the same instance knows the leases it left. 0, or
 * -1 with msg set. */
int cc_app_instance_id(const struct cc_config *cfg, char out[33], char *msg, size_t msgsz);

/* ---- backup.c --------------------------------------------------------------- */
/* `certcontacts backup FILE [--with-key]`: 0, 1 on failure, 2 for PostgreSQL
 * (pg_dump is the tool there). */
int cc_app_backup(const struct cc_config *cfg, const char *file, int with_key);
/* `certcontacts restore FILE [--key KEYFILE]` into an empty data dir: 0, 1
 * when refused or failed (nothing restored), 2 for PostgreSQL. */
int cc_app_restore(const struct cc_config *cfg, const char *file, const char *key_file);
/* The half of `certcontacts check` that opens every sealed value with the
 * master key, printing each that does not: 0 or 1. */
int cc_app_check_sealed(const struct cc_config *cfg);

#endif
