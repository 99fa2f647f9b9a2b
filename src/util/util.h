/*
 * util.h — the public header of the util layer: allocation, bounded
 * buffers, number parsing, time, randomness, logging and files. Nothing here
 * knows about contacts.
 */
#ifndef CC_UTIL_H
#define CC_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- allocation (alloc.c) ------------------------------------------------
 * Every allocation goes through these. Out of memory aborts, here and only
 * here. What they return is freed with cc_free(). */
void *cc_malloc(size_t n);
void *cc_calloc(size_t n, size_t size);
void *cc_realloc(void *p, size_t n);
char *cc_strdup(const char *s);
char *cc_strndup(const char *s, size_t n);
void cc_free(void *p);

/* The allocator of the libraries that handle out of memory themselves
 * (jansson, libcurl, SQLite): NULL on failure, as malloc; cc_try_realloc's
 * p stays valid when it fails. Freed with cc_free(). */
void *cc_try_malloc(size_t n);
void *cc_try_calloc(size_t n, size_t size);
void *cc_try_realloc(void *p, size_t n);
char *cc_try_strdup(const char *s);
/* How many cc_try_* allocations have failed on this thread so far. A caller
 * compares it before and after a library call to tell out of memory from
 * the library's other failures, where the library cannot say which (jansson's
 * parser reports a failed allocation as a syntax error). */
unsigned long cc_alloc_thread_failures(void);
/* Routes jansson through cc_try_malloc/cc_free; call once, first thing in
 * main(), before any thread starts. (libcurl and SQLite are routed where
 * they are initialised.) */
void cc_alloc_init(void);
/* Test hook: the n-th cc_try_* allocation from now fails (n = 0: the next
 * one), once; n = -1 switches it off. Thread safe. cc_alloc_failures()
 * counts the failures it has caused since the process started. */
void cc_alloc_fail_after(long n);
long cc_alloc_failures(void);

/* ---- bounded buffers (buf.c) ---------------------------------------------
 * A growable byte buffer with a hard maximum, always NUL-terminated. */
struct cc_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;   /* appends that would pass this fail with -1 */
};
void cc_buf_init(struct cc_buf *b, size_t max);
void cc_buf_free(struct cc_buf *b);
void cc_buf_reset(struct cc_buf *b);
int cc_buf_append(struct cc_buf *b, const void *p, size_t n);
int cc_buf_puts(struct cc_buf *b, const char *s);
int cc_buf_printf(struct cc_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Takes the data out of the buffer; the caller frees it with cc_free(). */
char *cc_buf_steal(struct cc_buf *b, size_t *len);

/* ---- strings and numbers (str.c) ----------------------------------------- */
/* Copies at most dstsz-1 bytes and always terminates; returns strlen(src). */
size_t cc_strlcpy(char *dst, const char *src, size_t dstsz);
/* Parses a whole decimal integer in [min, max]: no white space, no trailing
 * junk. The only place strtoll is called. Returns 0 or -1. */
int cc_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parses n bytes (not necessarily NUL-terminated). */
int cc_parse_i64n(const char *s, size_t n, int64_t min, int64_t max, int64_t *out);
int cc_strcaseeq(const char *a, const char *b);
void cc_ascii_lower(char *s);

/* ---- time (time.c) ------------------------------------------------------- */
int64_t cc_now_ms(void);          /* wall clock, ms since the epoch */
int64_t cc_mono_ms(void);         /* monotonic clock, ms */
int64_t cc_mono_us(void);
/* RFC 3339 UTC with milliseconds: 2026-11-25T13:48:00.123Z (out: 32). */
void cc_time_rfc3339(int64_t ms, char *out, size_t outsz);
/* Today's date in UTC as YYYYMMDD. */
int cc_today_yyyymmdd(void);

/* ---- randomness (rand.c) ------------------------------------------------- */
/* CSPRNG bytes; aborts if the generator fails (it never should). */
void cc_random_bytes(void *buf, size_t n);
/* n characters of [A-Za-z0-9] (unbiased), NUL-terminated: out needs n + 1. */
void cc_random_alnum(char *out, size_t n);
/* A random UUID v4 in lower-case: out needs 37. For identifiers, not keys:
 * its bytes come from a per-thread buffer filled by the CSPRNG. */
void cc_uuid(char *out);

/* ---- logging (log.c) ------------------------------------------------------
 * One JSON object per line on stderr. Never pass a secret, full email,
 * mobile or ID number. */
enum cc_log_level { CC_LOG_DEBUG, CC_LOG_INFO, CC_LOG_WARN, CC_LOG_ERROR };
void cc_log_set_level(enum cc_log_level lvl);
/* msg is a plain message; the remaining pairs are extra string fields,
 * ended by NULL: cc_log(CC_LOG_INFO, "started", "listen", addr, NULL). */
void cc_log(enum cc_log_level lvl, const char *msg, ...);
/* Writes a complete, already-formatted JSON line (without newline). */
void cc_log_line(const char *json, size_t len);

/* ---- files (file.c) ------------------------------------------------------ */
/* Reads a whole file of at most max bytes; caller frees *out with cc_free(). */
int cc_file_read(const char *path, size_t max, char **out, size_t *len);
/* Writes data to path atomically (temp file, fsync, rename) with mode. */
int cc_file_write_atomic(const char *path, const void *data, size_t n, int mode);
int cc_mkdir_p(const char *path, int mode);

/* ---- files compiled into the binary (build/gen/embedded.c) ---------------- */
struct cc_embedded_file {
    const char *path;            /* as in the source tree: "web/index.html" */
    const unsigned char *data;   /* NUL-terminated */
    size_t size;
};
extern const struct cc_embedded_file cc_embedded[];
const struct cc_embedded_file *cc_embedded_find(const char *path);

/* ---- configuration (config.c) --------------------------------------------
 * One table of options drives the config file, CERTCONTACTS_* environment
 * variables, command-line flags, --help and the example config. Later
 * sources win: defaults < file < environment < flags. */
struct cc_config {
    char listen[128];
    char data_dir[1024];
    char db[1280];
    char master_key_file[1280];
    int64_t threads;
    int64_t max_body_bytes;
    int64_t max_contacts_per_account;
    int64_t synchronous_full;
    int64_t busy_timeout_ms;
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
    /* Alibaba Cloud CAS API */
    int64_t acs_requests_per_minute;
    /* the web console */
    int64_t session_idle_timeout;
    int64_t session_max_age;
    char console_admin_email[256];
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
void cc_config_print_help(void);
void cc_config_print_example(void);

#endif
