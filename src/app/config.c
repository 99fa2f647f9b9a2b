/*
 * config.c — the option table and everything it drives: the config file,
 * CERTCONTACTS_* environment variables, flags, --help and the example
 * config (certcontacts.conf.example is this file's output, checked by a
 * test). Adding an option is adding one row.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "core/limits.h"
#include "util/util.h"

enum opt_type { OPT_STR, OPT_INT, OPT_BOOL, OPT_ENUM };

struct opt {
    const char *name;
    enum opt_type type;
    size_t offset;
    size_t size;          /* for strings */
    int64_t min, max;     /* for integers */
    const char *def;
    const char *choices;  /* for enums: "a|b", stored as the index */
    const char *help;
};

#define STR(f) OPT_STR, offsetof(struct cc_config, f), sizeof(((struct cc_config *)0)->f)
#define INT(f) OPT_INT, offsetof(struct cc_config, f), 0
#define BOOL(f) OPT_BOOL, offsetof(struct cc_config, f), 0
/* A limit of core/limits.h as an option's default text. */
#define LIMIT_TEXT(x) LIMIT_TEXT_(x)
#define LIMIT_TEXT_(x) #x
#define ENUM(f) OPT_ENUM, offsetof(struct cc_config, f), 0

static const struct opt opts[] = {
    {"listen", STR(listen), 0, 0, "127.0.0.1:8080", NULL,
     "Address and port the HTTP server listens on (IPv4:PORT; port 0 picks a free port)."},
    {"data_dir", STR(data_dir), 0, 0, "./var", NULL,
     "Directory for the SQLite database and the master key file; created if missing."},
    {"db", STR(db), 0, 0, "", NULL,
     "Database URL: sqlite:PATH, or postgres://USER:PASSWORD@HOST:PORT/DBNAME (libpq's URL, "
     "with its ?sslmode=... and other parameters) for a PostgreSQL database that several "
     "instances share. Empty means sqlite:DATA_DIR/certcontacts.db."},
    {"db_pool_size", INT(db_pool_size), 1, 500, "10", NULL,
     "PostgreSQL only: connections this instance opens to the database at the most. Keep "
     "the sum over all instances below the server's max_connections."},
    {"master_key_file", STR(master_key_file), 0, 0, "", NULL,
     "File with the 256-bit key (64 hex characters) that encrypts secrets and ID numbers at "
     "rest. Empty means DATA_DIR/master.key, created with mode 0600 on first start."},
    {"threads", INT(threads), 1, 256, "4", NULL,
     "HTTP worker threads; each has its own read connection to the database."},
    {"max_body_bytes", INT(max_body_bytes), 1024, 16777216, LIMIT_TEXT(CC_BODY_MAX_DEFAULT), NULL,
     "Largest request body accepted; larger ones get 413 RequestEntityTooLarge."},
    {"import_max_bytes", INT(import_max_bytes), 1024, 1073741824,
     LIMIT_TEXT(CC_IMPORT_MAX_BYTES_DEFAULT), NULL,
     "Largest CSV file POST /v1/contacts/import accepts (that route's own body limit, in "
     "place of max_body_bytes); larger ones get 413 RequestEntityTooLarge. The file is held "
     "in memory while it is read."},
    {"max_connections", INT(max_connections), 16, 1000000, LIMIT_TEXT(CC_CONNECTIONS_MAX_DEFAULT), NULL,
     "Simultaneous HTTP connections at the most; more are refused until one closes."},
    {"body_timeout_s", INT(body_timeout_s), 1, 3600, LIMIT_TEXT(CC_BODY_TIMEOUT_DEFAULT_S), NULL,
     "Seconds a client has to send a request's body once its headers are in, however "
     "slowly the bytes trickle in; then the connection is closed."},
    {"tls_cert_file", STR(tls_cert_file), 0, 0, "", NULL,
     "PEM file with the HTTPS certificate, then its chain. With tls_key_file set too, the "
     "server speaks HTTPS (TLS 1.2 and 1.3 only) on listen instead of HTTP; both files are "
     "read again on SIGHUP, without closing open connections. Empty: plain HTTP (put a "
     "reverse proxy in front for HTTPS)."},
    {"tls_key_file", STR(tls_key_file), 0, 0, "", NULL,
     "PEM file with the private key of tls_cert_file (unencrypted; keep it mode 0600)."},
    {"trusted_proxies", STR(trusted_proxies), 0, 0, "", NULL,
     "Comma-separated addresses of reverse proxies (IPv4, IPv4/prefix or IPv6) whose "
     "X-Forwarded-Proto: https is believed: then the console's cookies are Secure and "
     "responses carry Strict-Transport-Security. From any other address the header is ignored."},
    {"hsts_max_age_s", INT(hsts_max_age_s), 0, 315360000,
     LIMIT_TEXT(CC_HSTS_MAX_AGE_DEFAULT_S), NULL,
     "max-age of the Strict-Transport-Security header sent on HTTPS; 0 sends none."},
    {"max_connections_per_address", INT(max_connections_per_address), 1, 1000000,
     LIMIT_TEXT(CC_CONNECTIONS_PER_ADDRESS_DEFAULT), NULL,
     "Simultaneous HTTP connections from one client address at the most; more from that "
     "address are refused at once, so that a flood from one address leaves room for others. "
     "Behind a reverse proxy every client has the proxy's address: raise it there."},
    {"header_timeout_s", INT(header_timeout_s), 1, 3600, LIMIT_TEXT(CC_HEADER_TIMEOUT_DEFAULT_S),
     NULL,
     "Seconds a client has to send a request line and its headers, counted from the "
     "connection's opening (on a kept-alive connection, from the request line), however "
     "slowly the bytes trickle in; then the connection is closed. Separate from "
     "connection_timeout_s, the idle time allowed between requests."},
    {"max_contacts_per_account", INT(max_contacts_per_account), 1, 100000000, "10000", NULL,
     "Most contacts one account may hold; more gives 400 LimitExceeded.Contacts."},
    {"search_count_max", INT(search_count_max), 1, 100000000,
     LIMIT_TEXT(CC_SEARCH_COUNT_MAX_DEFAULT), NULL,
     "Matches a keyword search of contacts counts: past this many its total is given as "
     "this number with total_capped true (the console shows \"10,000+\"), so that a keyword "
     "matching most contacts answers as fast as a rarer one. Every match can still be paged "
     "through."},
    {"synchronous", ENUM(synchronous_full), 0, 1, "full", "normal|full",
     "full: a write is acknowledged only once it survives a power cut (one fsync per group "
     "of writes). normal: faster, but the last writes before a power cut may be lost "
     "(never corrupted)."},
    {"busy_timeout_ms", INT(busy_timeout_ms), 0, 600000, "5000", NULL,
     "How long a write waits for another process (such as the CLI) holding the database's "
     "write lock."},
    {"startup_check_s", INT(startup_check_s), 0, 86400, "10", NULL,
     "Seconds the database's quick check (PRAGMA quick_check) may take at each start: a "
     "damaged database is refused. When the check takes longer it is stopped, the log says "
     "so, and the server starts. 0 skips it (for a very large database; run certcontacts "
     "check instead)."},
    {"connection_timeout_s", INT(connection_timeout_s), 1, 3600, "30", NULL,
     "Idle HTTP connections are closed after this many seconds; a kept-alive connection "
     "must also begin its next request within this time."},
    {"log_level", STR(log_level), 0, 0, "info", NULL,
     "debug, info, warn or error. serve applies a change on SIGHUP."},
    {"log_file", STR(log_file), 0, 0, "", NULL,
     "serve: append the log lines to this file (created with mode 0600) instead of writing "
     "them to stderr (under systemd, the journal). SIGHUP opens it again, so a rotated file "
     "is let go: rename it, then send SIGHUP (systemctl reload certcontacts). Under the "
     "packaged unit, put it in /var/log/certcontacts/."},
    {"dev", BOOL(dev), 0, 1, "false", NULL,
     "Development mode: says so at start-up; later features use it to allow local "
     "stand-ins (such as logging messages instead of sending them)."},
    {"smtp_url", STR(smtp_url), 0, 0, "", NULL,
     "SMTP server for email: smtp://HOST:PORT (STARTTLS) or smtps://HOST:PORT. Empty: no "
     "email; in development mode emails are written to the log instead."},
    {"smtp_user", STR(smtp_user), 0, 0, "", NULL, "SMTP login name; empty: no login."},
    {"smtp_password", STR(smtp_password), 0, 0, "", NULL, "SMTP password."},
    {"smtp_from", STR(smtp_from), 0, 0, "certcontacts <noreply@localhost>", NULL,
     "Sender of every email: an address, or Name <address>."},
    {"smtp_starttls", ENUM(smtp_starttls_required), 0, 1, "required", "optional|required",
     "With smtp://, whether the connection must be upgraded with STARTTLS before anything "
     "is sent (optional: use it when the server offers it)."},
    {"sms_provider", STR(sms_provider), 0, 0, "", NULL,
     "SMS gateway: aliyun (Alibaba Cloud SMS SendSms), webhook (a signed JSON POST to "
     "sms_webhook_url), log (development mode only: writes messages to the log), or empty "
     "for none."},
    {"sms_endpoint", STR(sms_endpoint), 0, 0, "https://dysmsapi.aliyuncs.com", NULL,
     "Base URL of the Alibaba Cloud SMS API."},
    {"sms_access_key_id", STR(sms_access_key_id), 0, 0, "", NULL,
     "Alibaba Cloud access key id for SendSms."},
    {"sms_access_key_secret", STR(sms_access_key_secret), 0, 0, "", NULL,
     "Alibaba Cloud access key secret for SendSms."},
    {"sms_sign_name", STR(sms_sign_name), 0, 0, "", NULL, "SMS signature name (SignName)."},
    {"sms_template_code", STR(sms_template_code), 0, 0, "", NULL,
     "SMS template for verification codes (TemplateCode), with a ${code} variable."},
    {"sms_notify_template_code", STR(sms_notify_template_code), 0, 0, "", NULL,
     "SMS template for certificate notifications, with a ${title} variable (aliyun); "
     "empty: notifications are not sent by SMS through aliyun."},
    {"sms_webhook_url", STR(sms_webhook_url), 0, 0, "", NULL,
     "webhook provider: the gateway URL that receives a JSON POST per message."},
    {"sms_webhook_secret", STR(sms_webhook_secret), 0, 0, "", NULL,
     "webhook provider: key of the X-Certcontacts-Signature HMAC-SHA256 header."},
    {"send_timeout_ms", INT(send_timeout_ms), 100, 120000, "10000", NULL,
     "Longest wait for an SMTP server or SMS gateway to accept a message; the caller then "
     "gets DeliveryFailed."},
    {"blocking_threads", INT(blocking_threads), 1, 256, "32", NULL,
     "Threads for API calls that wait: on an SMTP server or gateway, or for a write's group "
     "commit. They keep the HTTP worker threads free, and the writes waiting together share "
     "one commit. (A contact's create on SQLite waits without one.)"},
    {"verify_code_ttl", INT(verify_code_ttl), 10, 86400, "600", NULL,
     "Seconds a verification code stays valid."},
    {"verify_resend_interval", INT(verify_resend_interval), 0, 3600, "60", NULL,
     "Seconds before another code may be sent to the same address."},
    {"verify_max_per_hour", INT(verify_max_per_hour), 1, 1000, "5", NULL,
     "Codes sent to one address in an hour at the most."},
    {"verify_max_per_day", INT(verify_max_per_day), 1, 10000, "10", NULL,
     "Codes sent to one address in a day at the most."},
    {"verify_account_max_per_hour", INT(verify_account_max_per_hour), 1, 1000000, "200", NULL,
     "Codes one account may send in an hour, to all addresses together."},
    {"verify_max_attempts", INT(verify_max_attempts), 1, 100, "5", NULL,
     "Wrong codes after which a code is dead, even if the right one comes next."},
    {"verification_retention_days", INT(verification_retention_days), 1, 3650, "30", NULL,
     "Days a verification code's record is kept. Its address is kept in full only while the "
     "per-address sending limits need it (a day), then masked."},
    {"delivery_log_retention_days", INT(delivery_log_retention_days), 1, 3650, "180", NULL,
     "Days a finished notification and its attempts stay in the delivery log."},
    {"test_send_max_per_hour", INT(test_send_max_per_hour), 1, 10000, "10", NULL,
     "Test messages (\"Send test\") to one contact, all its channels together, or to one "
     "robot not saved yet, in a sliding hour; more are refused with 429 and Retry-After."},
    {"test_send_account_max_per_hour", INT(test_send_account_max_per_hour), 1, 1000000, "100",
     NULL, "Test messages of every kind one account may send in a sliding hour."},
    {"dingtalk_base_url", STR(dingtalk_base_url), 0, 0, "", NULL,
     "For tests only: send DingTalk robot messages to this base URL (for example "
     "http://127.0.0.1:9000) instead of https://oapi.dingtalk.com, keeping path and query."},
    {"feishu_base_url", STR(feishu_base_url), 0, 0, "", NULL,
     "For tests only: the same for Feishu robots (https://open.feishu.cn)."},
    {"lark_base_url", STR(lark_base_url), 0, 0, "", NULL,
     "For tests only: the same for Lark robots (https://open.larksuite.com)."},
    {"wecom_base_url", STR(wecom_base_url), 0, 0, "", NULL,
     "For tests only: the same for WeCom robots (https://qyapi.weixin.qq.com)."},
    {"retry_schedule", STR(retry_schedule), 0, 0, "60,300,900,3600,7200,21600,43200", NULL,
     "Seconds to wait before each new attempt of a notification that could not be delivered "
     "yet (comma-separated); when the list is spent the notification is dead. The default "
     "makes 8 attempts over about a day. A platform that answers that it is rate limiting "
     "costs no attempt: the notification waits (DingTalk: its 10-minute block; Lark: a "
     "second, doubled while it keeps throttling, up to a minute; WeCom: a minute), see "
     "throttle_max_age."},
    {"dispatcher_threads", INT(dispatcher_threads), 1, 64, "4", NULL,
     "Threads that deliver notifications."},
    {"robot_rate_window_percent", INT(robot_rate_window_percent), 1, 100, "100", NULL,
     "For tests only: shortens the robots' rate-limit windows (DingTalk and WeCom 20 a "
     "minute, Lark 5 a second and 100 a minute) and DingTalk's 10-minute block to this "
     "percentage."},
    {"throttle_max_age", INT(throttle_max_age), 1, 2592000, "86400", NULL,
     "Seconds after it was made that a notification a platform keeps rate limiting is given "
     "up as dead. Until then each rate-limited answer is recorded (\"waiting: rate limited by "
     "the platform\") and the notification waits without spending an attempt."},
    {"delivery_lease_s", INT(delivery_lease_s), 5, 3600, "120", NULL,
     "A notification claimed for delivery and not finished within this many seconds (the "
     "server died) is claimed again."},
    {"acs_requests_per_minute", INT(acs_requests_per_minute), 1, 10000000, "6000", NULL,
     "Calls of the Alibaba Cloud CAS API one access key may make in a minute (bursts of ten "
     "seconds' worth); more get 400 Throttling.User with x-acs-retry-after in milliseconds."},
    {"max_access_keys_per_account", INT(max_access_keys_per_account), 1, 100000, "50", NULL,
     "Access keys an account may have enabled at once; creating one more is refused (400 "
     "LimitExceeded.AccessKeys) until one is disabled."},
    {"acs_nonces_per_key", INT(acs_nonces_per_key), 100, 1000000, "12000", NULL,
     "Signature nonces of the Alibaba Cloud CAS API remembered per access key: each is kept "
     "until its timestamp leaves the 15-minute window, and a key whose share is full gets 400 "
     "Throttling.User until one expires (another key's calls never push its nonces out). "
     "About 32 bytes each at the most."},
    {"session_idle_timeout", INT(session_idle_timeout), 10, 604800, "1800", NULL,
     "Seconds a console session may go unused before it ends."},
    {"session_max_age", INT(session_max_age), 300, 2592000, "43200", NULL,
     "Seconds a console session lasts at the most, used or not."},
    {"public_url", STR(public_url), 0, 0, "", NULL,
     "The address people reach the console at (such as https://certs.example.com), used in "
     "links that notifications carry (an expiry reminder links to its certificate). Empty: "
     "http://LISTEN, the address the server listens on."},
    {"clock_offset_s", INT(clock_offset_s), -315360000, 315360000, "0", NULL,
     "For tests and drills only, and only with dev = true: seconds added to the wall clock "
     "that expiry reminders and certificate states go by, to see the reminders of days or "
     "months ahead now. Restarting with a larger offset acts out downtime."},
    {"console_admin_email", STR(console_admin_email), 0, 0, "admin@localhost", NULL,
     "Email of the first console admin, created with a generated password (printed once) "
     "when the default account is created, and by serve --dev while the account has no "
     "console user."},
    {"audit_retention_days", INT(audit_retention_days), CC_AUDIT_RETENTION_MIN_DAYS,
     CC_AUDIT_RETENTION_MAX_DAYS, "180", NULL,
     "Days an audit log entry is kept. An hourly job removes older entries, records what it "
     "removed as an audit.retention entry, and keeps the hash chain verifiable."},
    {"backup_dir", STR(backup_dir), 0, 0, "", NULL,
     "Directory for scheduled backups of the SQLite database (created 0700; copies are "
     "certcontacts-YYYYMMDDTHHMMSS.mmmZ.db, mode 0600, made with SQLite's online backup "
     "while the server runs). Empty: no scheduled backups. The master key is not copied: "
     "back it up once, apart (see docs/operations.md)."},
    {"backup_keep", INT(backup_keep), 1, CC_BACKUP_KEEP_MAX, "7", NULL,
     "Scheduled backups kept in backup_dir: after each backup the oldest beyond this many "
     "are removed."},
    {"backup_interval_h", INT(backup_interval_h), 1, 8760, "24", NULL,
     "Hours between scheduled backups; the first is due this long after the newest copy "
     "in backup_dir (at once when there is none)."},
    {"backup_interval_s", INT(backup_interval_s), 0, 31536000, "0", NULL,
     "For tests and drills: seconds between scheduled backups, in place of "
     "backup_interval_h when not 0."},
    {"endpoint_check_interval_s", INT(endpoint_check_interval_s), 1, 2592000, "21600", NULL,
     "Seconds between two checks of a watched TLS endpoint (6 hours by default); each "
     "endpoint's next check is moved by up to a tenth of this either way so that they do not "
     "run in step. An endpoint is checked at once when it is added."},
    {"endpoint_check_timeout_ms", INT(endpoint_check_timeout_ms), 100, 120000, "10000", NULL,
     "Milliseconds one endpoint check may take to connect and finish the TLS handshake; "
     "longer is an endpoint error (\"timed out\")."},
    {"endpoint_check_concurrency", INT(endpoint_check_concurrency), 1,
     CC_ENDPOINT_CONCURRENCY_MAX, "4", NULL,
     "Endpoint checks that run at once, scheduled and on-demand ones together."},
    {"endpoint_ca_file", STR(endpoint_ca_file), 0, 0, "", NULL,
     "A PEM file of extra root certificates endpoint checks trust besides the system's, for "
     "servers with certificates from an internal CA. Empty: the system's roots only."},
    {"acme_directory_url", STR(acme_directory_url), 0, 0, "", NULL,
     "Directory URL of an RFC 8555 (ACME) CA, such as "
     "https://acme-v02.api.letsencrypt.org/directory. When set, applications for ACME "
     "products (Let's Encrypt, \"ACME (directory from configuration)\") are fulfilled by this "
     "server: order, HTTP-01 validation, certificate. Empty: those products are handled by "
     "hand like the others."},
    {"acme_ca_file", STR(acme_ca_file), 0, 0, "", NULL,
     "PEM file of the roots that sign the ACME CA's HTTPS certificate, instead of the "
     "system's (an internal CA). The certificate is always verified."},
    {"acme_eab_kid", STR(acme_eab_kid), 0, 0, "", NULL,
     "External account binding key id, for CAs that require one (ZeroSSL, ...)."},
    {"acme_eab_hmac_key", STR(acme_eab_hmac_key), 0, 0, "", NULL,
     "External account binding MAC key (base64url, as the CA hands it out)."},
    {"acme_terms_agreed", BOOL(acme_terms_agreed), 0, 1, "false", NULL,
     "The ACME CA's terms of service are accepted (sent when the account is registered; "
     "most CAs refuse an account without it)."},
    {"acme_max_orders", INT(acme_max_orders), 1, 1000, LIMIT_TEXT(CC_ACME_ORDERS_DEFAULT), NULL,
     "ACME orders in flight at once at the most (placed with the CA, not yet finished); "
     "more applications wait their turn. Also the most moved on in one pass of the worker."},
    {"acme_key_type", ENUM(acme_key_type_index), 0, 3, "ec256", "ec256|rsa2048|rsa3072|rsa4096",
     "Key made by the server for an ACME application without a CSR (kept encrypted with the "
     "certificate)."},
    {"acme_timeout_ms", INT(acme_timeout_ms), 1000, 300000, "30000", NULL,
     "Longest wait for one answer of the ACME CA."},
    {"acme_http_listen", STR(acme_http_listen), 0, 0, "", NULL,
     "Optional plain-HTTP listener (IPv4:PORT, such as 0.0.0.0:80) that answers only "
     "/.well-known/acme-challenge/ for HTTP-01; the main listener answers it too."},
    {"metrics_listen", STR(metrics_listen), 0, 0, "", NULL,
     "Optional plain-HTTP listener (IPv4:PORT, such as 10.0.0.5:9464) that answers only "
     "GET /metrics, without an access key: bind it to an address only the scraper reaches. "
     "The main listener serves /metrics to any access key either way."},
    {"acme_dns_hook", STR(acme_dns_hook), 0, 0, "", NULL,
     "DNS-01 (needed for wildcards): an executable run as HOOK add NAME VALUE to publish "
     "the TXT record NAME (_acme-challenge.DOMAIN) with VALUE, and HOOK remove NAME VALUE "
     "once the application is finished; exit status 0 means done. Run without a shell, "
     "killed after acme_timeout_ms. See docs/acme.md for an example. Empty: no DNS-01."},
    {"acme_dns_resolver", STR(acme_dns_resolver), 0, 0, "", NULL,
     "DNS-01: the DNS server (IPv4 or IPv4:PORT) asked whether a published record is visible "
     "before the CA is told to check it. Empty: the system's resolver."},
    {"acme_dns_wait_s", INT(acme_dns_wait_s), 1, 86400, "120", NULL,
     "DNS-01: seconds a published TXT record may take to become visible; then the "
     "application is rejected."},
    {"acme_renew_remaining_percent", INT(acme_renew_remaining_percent), 1, 99, "33", NULL,
     "A certificate issued through ACME is renewed by itself when this share of its lifetime "
     "remains (33: a third); the renewal is a new application, and its certificate supersedes "
     "the old one."},
    {"acme_renew_retry_s", INT(acme_renew_retry_s), 1, 86400, "3600", NULL,
     "Seconds before a failed renewal is tried again, doubling with each failure in a row up "
     "to a day; each failure raises certificate.renewal_failed to the certificate's "
     "subscribers."},
    {"acme_alidns_access_key_id", STR(acme_alidns_access_key_id), 0, 0, "", NULL,
     "DNS-01 natively through Alibaba Cloud DNS (AddDomainRecord / DeleteDomainRecord): the "
     "access key id (a RAM user allowed those actions). When set, it is used instead of "
     "acme_dns_hook."},
    {"acme_alidns_access_key_secret", STR(acme_alidns_access_key_secret), 0, 0, "", NULL,
     "Alibaba Cloud DNS: the access key secret."},
    {"acme_alidns_endpoint", STR(acme_alidns_endpoint), 0, 0, "https://alidns.aliyuncs.com",
     NULL, "Alibaba Cloud DNS: the API's base URL."},
    {"acme_alidns_zones", STR(acme_alidns_zones), 0, 0, "", NULL,
     "Alibaba Cloud DNS: the domains (zones) of the account, comma-separated, when a name's "
     "zone is not its last two labels (such as example.com.cn)."},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static const struct opt *find(const char *name)
{
    char norm[64];
    if (cc_strlcpy(norm, name, sizeof norm) >= sizeof norm)
        return NULL;
    for (char *p = norm; *p; p++)
        if (*p == '-')
            *p = '_';
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(opts[i].name, norm) == 0)
            return &opts[i];
    return NULL;
}

int cc_config_is_option(const char *name)
{
    const struct opt *o = find(name);
    return o ? (o->type == OPT_BOOL ? 2 : 1) : 0;
}

static int set_opt(struct cc_config *cfg, const struct opt *o, const char *value, char *errbuf,
                   size_t errsz)
{
    char *base = (char *)cfg + o->offset;
    int64_t v;
    switch (o->type) {
    case OPT_STR:
        if (cc_strlcpy(base, value, o->size) >= o->size) {
            snprintf(errbuf, errsz, "%s: value too long (at most %zu bytes)", o->name, o->size - 1);
            return -1;
        }
        return 0;
    case OPT_INT:
        if (cc_parse_i64(value, o->min, o->max, &v)) {
            snprintf(errbuf, errsz, "%s: must be a whole number from %lld to %lld, not \"%s\"",
                     o->name, (long long)o->min, (long long)o->max, value);
            return -1;
        }
        *(int64_t *)base = v;
        return 0;
    case OPT_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes") ||
            !strcmp(value, "on"))
            *(int64_t *)base = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no") ||
                 !strcmp(value, "off"))
            *(int64_t *)base = 0;
        else {
            snprintf(errbuf, errsz, "%s: must be true or false, not \"%s\"", o->name, value);
            return -1;
        }
        return 0;
    case OPT_ENUM: {
        const char *c = o->choices;
        for (int64_t idx = 0; *c; idx++) {
            size_t n = strcspn(c, "|");
            if (strlen(value) == n && strncmp(c, value, n) == 0) {
                *(int64_t *)base = idx;
                return 0;
            }
            c += n + (c[n] == '|');
        }
        snprintf(errbuf, errsz, "%s: must be one of %s, not \"%s\"", o->name, o->choices, value);
        return -1;
    }
    }
    return -1;
}

int cc_config_set(struct cc_config *cfg, const char *name, const char *value, char *errbuf,
                  size_t errsz)
{
    const struct opt *o = find(name);
    if (!o) {
        snprintf(errbuf, errsz, "unknown option \"%s\" (see --help)", name);
        return -1;
    }
    return set_opt(cfg, o, value, errbuf, errsz);
}

void cc_config_defaults(struct cc_config *cfg)
{
    char ignored[128];
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < NOPTS; i++)
        set_opt(cfg, &opts[i], opts[i].def, ignored, sizeof ignored);
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int cc_config_load_file(struct cc_config *cfg, const char *path, char *errbuf, size_t errsz)
{
    char *data = NULL;
    size_t len = 0;
    if (cc_file_read(path, 1 << 20, &data, &len)) {
        snprintf(errbuf, errsz, "cannot read config file %s", path);
        return -1;
    }
    int rc = 0, lineno = 0;
    char *save = data;
    while (save && *save && !rc) {
        char *line = save;
        char *nl = strchr(line, '\n');
        save = nl ? nl + 1 : NULL;
        if (nl)
            *nl = '\0';
        lineno++;
        line = trim(line);
        if (!*line || *line == '#')
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            snprintf(errbuf, errsz, "%s:%d: expected name = value", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *name = trim(line), *value = trim(eq + 1);
        size_t vl = strlen(value);
        if (vl >= 2 && value[0] == '"' && value[vl - 1] == '"') {
            value[vl - 1] = '\0';
            value++;
        }
        char inner[256];
        if (cc_config_set(cfg, name, value, inner, sizeof inner)) {
            snprintf(errbuf, errsz, "%s:%d: %s", path, lineno, inner);
            rc = -1;
        }
    }
    cc_free(data);
    return rc;
}

int cc_config_load_env(struct cc_config *cfg, char *errbuf, size_t errsz)
{
    for (size_t i = 0; i < NOPTS; i++) {
        char env[80] = "CERTCONTACTS_";
        size_t n = strlen(env);
        for (const char *p = opts[i].name; *p && n + 1 < sizeof env; p++)
            env[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
        env[n] = '\0';
        const char *v = getenv(env);
        if (v && set_opt(cfg, &opts[i], v, errbuf, errsz))
            return -1;
    }
    return 0;
}

void cc_config_finish(struct cc_config *cfg)
{
    if (!cfg->db[0])
        snprintf(cfg->db, sizeof cfg->db, "sqlite:%s/certcontacts.db", cfg->data_dir);
    if (!cfg->master_key_file[0])
        snprintf(cfg->master_key_file, sizeof cfg->master_key_file, "%s/master.key",
                 cfg->data_dir);
}

static void flag_name(const char *name, char *out, size_t outsz)
{
    cc_strlcpy(out, name, outsz);
    for (char *p = out; *p; p++)
        if (*p == '_')
            *p = '-';
}

int cc_config_option_at(size_t i, struct cc_config_option *o)
{
    if (i >= NOPTS)
        return -1;
    o->name = opts[i].name;
    o->def = opts[i].def;
    o->choices = opts[i].choices;
    o->help = opts[i].help;
    o->is_bool = opts[i].type == OPT_BOOL;
    return 0;
}

size_t cc_config_changed(const struct cc_config *a, const struct cc_config *b,
                         const char **names, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < NOPTS && n < max; i++) {
        const char *pa = (const char *)a + opts[i].offset;
        const char *pb = (const char *)b + opts[i].offset;
        int differ = opts[i].type == OPT_STR ? strcmp(pa, pb) != 0
                                             : memcmp(pa, pb, sizeof(int64_t)) != 0;
        if (differ)
            names[n++] = opts[i].name;
    }
    return n;
}

void cc_config_print_help(FILE *f)
{
    fprintf(f, "Options (flag, CERTCONTACTS_ environment variable, or NAME = VALUE in --config FILE):\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char flag[64];
        flag_name(opts[i].name, flag, sizeof flag);
        fprintf(f, "  --%-26s %s", flag, opts[i].help);
        if (opts[i].choices)
            fprintf(f, " One of: %s.", opts[i].choices);
        fprintf(f, " [default: %s]\n", opts[i].def[0] ? opts[i].def : "(see text)");
    }
}

/* Wraps text at 76 columns behind "# ". */
static void print_comment(const char *text)
{
    const char *p = text;
    while (*p) {
        size_t n = strlen(p);
        if (n > 76) {
            n = 76;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = 76;
        }
        printf("# %.*s\n", (int)n, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

void cc_config_print_example(void)
{
    printf("# certcontacts.conf.example — every option, with its default.\n"
           "# Use with: certcontacts serve --config FILE. Each option can also be set\n"
           "# as an environment variable CERTCONTACTS_<NAME> or a flag --<name>;\n"
           "# flags win over the environment, which wins over this file.\n"
           "# Generated by `certcontacts config example`.\n");
    for (size_t i = 0; i < NOPTS; i++) {
        printf("\n");
        print_comment(opts[i].help);
        if (opts[i].choices)
            printf("# One of: %s.\n", opts[i].choices);
        printf("#%s = %s\n", opts[i].name, opts[i].def);
    }
}
