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
#include <time.h>

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
/* Keeps up to bytes of free memory with each heap rather than giving it
 * back to the system at every free (glibc's trim and mmap thresholds). */
void cc_alloc_keep_free(size_t bytes);
/* Gives the free memory at the top of the heaps back to the system
 * (malloc_trim). Nothing under AddressSanitizer, whose allocator glibc's
 * trim does not know. */
void cc_alloc_trim(void);
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

/* ---- JSON out (json_out.c) ------------------------------------------------
 * v as compact JSON, byte for byte json_dumps(v, JSON_COMPACT |
 * JSON_ENCODE_ANY), faster; NULL when it cannot be written. The caller frees
 * it with cc_free(). */
struct json_t;
char *cc_json_compact(const struct json_t *v, size_t *len);
/* The same with every object's keys in order: byte for byte json_dumps(v,
 * JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY). */
char *cc_json_compact_sorted(const struct json_t *v, size_t *len);
/* s[0..n) appended to b as a JSON string, escaped as cc_json_compact escapes
 * it; s must be valid UTF-8 (cc_utf8_valid). 0, or -1 when b is full. For
 * a body of a few known fields, written without a jansson tree. */
int cc_json_put_string(struct cc_buf *b, const char *s, size_t n);

/* ---- strings and numbers (str.c) ----------------------------------------- */
/* Copies at most dstsz-1 bytes and always terminates; returns strlen(src). */
size_t cc_strlcpy(char *dst, const char *src, size_t dstsz);
/* Appends src to the string in dst as far as dstsz allows, always
 * terminated; returns the length it tried to make (>= dstsz: cut). For hot
 * paths, where snprintf's "%s%s" costs a parse of its format each time. */
size_t cc_strlcat(char *dst, const char *src, size_t dstsz);
/* cc_strlcat of v in decimal (cc_fmt_i64): what snprintf's "%s%lld" writes. */
size_t cc_strlcat_i64(char *dst, int64_t v, size_t dstsz);
/* Parses a whole decimal integer in [min, max]: no white space, no trailing
 * junk. The only place strtoll is called. Returns 0 or -1. */
int cc_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
/* Parses n bytes (not necessarily NUL-terminated). */
int cc_parse_i64n(const char *s, size_t n, int64_t min, int64_t max, int64_t *out);
/* v in decimal, as printf's "%lld" writes it, terminated; returns its
 * length (at most CC_I64_CHARS - 1). Without printf: for hot paths. */
#define CC_I64_CHARS 21
size_t cc_fmt_i64(char out[CC_I64_CHARS], int64_t v);
int cc_strcaseeq(const char *a, const char *b);
void cc_ascii_lower(char *s);

/* ---- time (time.c) ------------------------------------------------------- */
int64_t cc_now_ms(void);          /* wall clock, ms since the epoch */
int64_t cc_mono_ms(void);         /* monotonic clock, ms */
int64_t cc_mono_us(void);
/* *ts: ms milliseconds from now on the monotonic clock, for a
 * pthread_cond_timedwait on a condition made with CLOCK_MONOTONIC. */
void cc_mono_deadline(struct timespec *ts, int64_t ms);
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
/* log_file: opens PATH for appending (created with mode 0600) and puts it in
 * place of standard error, where every line goes, after writing out the lines
 * still waiting. Called again after the file was renamed (log rotation), it
 * lets the old file go. Returns 0, or -1 with a sentence in err. */
int cc_log_reopen(const char *path, char *err, size_t errsz);
/* The one writer: a line of time, level, msg and the fields in order.
 * Every value is encoded as JSON by the writer (escaped, not-UTF-8 bytes
 * shown as \xNN, cut at CC_LOG_VALUE_MAX bytes), so no value can forge a
 * field or a line; keys are the caller's constants, and a field named
 * time, level or msg is dropped. */
#define CC_LOG_VALUE_MAX 2048
#define CC_LOG_FIELDS_MAX 16
enum cc_log_field_type { CC_LOG_F_STR, CC_LOG_F_INT, CC_LOG_F_NUM, CC_LOG_F_BOOL, CC_LOG_F_NULL };
struct cc_log_field {
    const char *key;
    enum cc_log_field_type type;
    const char *s;    /* CC_LOG_F_STR (NULL: null) */
    int64_t i;        /* CC_LOG_F_INT, CC_LOG_F_BOOL */
    double d;         /* CC_LOG_F_NUM */
};
#define CC_LOG_STR(k, v) ((struct cc_log_field){.key = (k), .type = CC_LOG_F_STR, .s = (v)})
#define CC_LOG_INT(k, v) ((struct cc_log_field){.key = (k), .type = CC_LOG_F_INT, .i = (v)})
#define CC_LOG_NUM(k, v) ((struct cc_log_field){.key = (k), .type = CC_LOG_F_NUM, .d = (v)})
#define CC_LOG_NULL(k) ((struct cc_log_field){.key = (k), .type = CC_LOG_F_NULL})
void cc_log_fields(enum cc_log_level lvl, const char *msg, const struct cc_log_field *fields,
                   size_t n);
/* The same for a line that may wait a few milliseconds (CC_LOG_DEFER_MS) to
 * be written with the lines around it, in one write(2): the line of every
 * request. Lines keep their order: any other line writes what waits first.
 * A warning or an error is never deferred. */
void cc_log_fields_deferred(enum cc_log_level lvl, const char *msg,
                            const struct cc_log_field *fields, size_t n);
/* Writes every deferred line now (also at exit). */
void cc_log_flush(void);
/* The same with string fields only: the remaining pairs, ended by NULL:
 * cc_log(CC_LOG_INFO, "started", "listen", addr, NULL). At most
 * CC_LOG_FIELDS_MAX pairs are kept. */
void cc_log(enum cc_log_level lvl, const char *msg, ...);

/* ---- the health of the process's parts (health.c) -------------------------- */
#define CC_HEALTH_COMPONENTS_MAX 16
struct cc_health_entry {
    char component[32];      /* "store", "dispatcher", ... */
    int ok;
    char reason[256];        /* why not, for an operator; "" when ok */
    int64_t since_ms;        /* when it last changed state; 0: never */
    int64_t changes;         /* changes of state since start */
};
/* Records whether component works (reason: why not). Logs once when the
 * state changes; returns 1 then, else 0. Thread-safe. */
int cc_health_set(const char *component, int ok, const char *reason);
/* Copies up to max entries into out; returns how many. */
size_t cc_health_get(struct cc_health_entry *out, size_t max);
/* Forgets every component (tests). */
void cc_health_reset(void);

/* ---- metrics for GET /metrics (metrics.c) ------------------------------------ */
/* A histogram of whole numbers in a base unit (microseconds, writes): each
 * bucket counts the values up to its bound (not cumulative; rendered
 * cumulative), b[nb] the rest. Relaxed atomics: no lock, no allocation. */
#define CC_HIST_BUCKETS_MAX 16
struct cc_hist {
    _Atomic uint64_t b[CC_HIST_BUCKETS_MAX + 1];
    _Atomic uint64_t sum;
};
#define CC_METRICS_SECONDS_BUCKETS 14
/* .0005 .001 .0025 ... 10 s, in microseconds: observe microseconds, render
 * with unit 1e-6. */
extern const uint64_t cc_metrics_seconds_us[CC_METRICS_SECONDS_BUCKETS];
void cc_hist_observe(struct cc_hist *h, const uint64_t *bounds, size_t nb, uint64_t v);
uint64_t cc_hist_count(const struct cc_hist *h, size_t nb);
/* Writes name_bucket{labels,le=...}, name_sum and name_count; labels is
 * "" or 'k="v",k2="v2"' (values already safe: from fixed tables); unit
 * turns the base unit into the rendered one (1e-6: microseconds to seconds). */
void cc_hist_render(struct cc_buf *b, const char *name, const char *labels,
                    const struct cc_hist *h, const uint64_t *bounds, size_t nb, double unit);
/* Writes the # HELP and # TYPE lines of a metric. */
void cc_metrics_help(struct cc_buf *b, const char *name, const char *type, const char *help);
/* Counts one notification outcome (channel "email"/"mobile"/"webhook";
 * platform "smtp"/"sms"/"dingtalk"/"lark"/"feishu"/"wecom"; outcome
 * "delivered"/"failed"/"dead"/"retry"/"throttled"/"cancelled"): values
 * outside these count as "other". */
void cc_metrics_notification(const char *channel, const char *platform, const char *outcome);
/* Counts a verification code: channel "email"/"mobile", result "sent",
 * "failed" (the channel did not accept it), "confirmed" or "rejected" (a
 * wrong, expired or used-up code given to confirm). */
void cc_metrics_verification(const char *channel, const char *result);
/* Counts one committed store write batch: its writes and how long it took. */
void cc_metrics_store_batch(size_t writes, int64_t commit_us);
/* Notes the process's start time and version (static storage), for
 * process_start_time_seconds and certcontacts_build_info. */
void cc_metrics_started(const char *version);
/* Renders the counters above and the process metrics (build_info, start
 * time, resident memory) in the Prometheus text format. */
void cc_metrics_render(struct cc_buf *b);
/* Forgets every count (tests). */
void cc_metrics_reset(void);

/* ---- files (file.c) ------------------------------------------------------ */
/* Reads a whole file of at most max bytes; caller frees *out with cc_free(). */
int cc_file_read(const char *path, size_t max, char **out, size_t *len);
/* Writes data to path atomically (temp file, fsync, rename) with mode. */
int cc_file_write_atomic(const char *path, const void *data, size_t n, int mode);
/* Makes the directory entries of path's directory durable (after a rename,
 * link or unlink): 0 or -1 with errno. */
int cc_fsync_parent(const char *path);
/* Takes an exclusive lock on path (created with mode 0600 if missing) for
 * as long as the process lives, and writes the process id into it. Returns
 * the open descriptor, or -1: errno EWOULDBLOCK when another process holds
 * the lock (its pid, when it wrote one, in *holder), else why it failed. */
int cc_file_lock(const char *path, long *holder);
int cc_mkdir_p(const char *path, int mode);

/* ---- files compiled into the binary (build/gen/embedded.c) ---------------- */
struct cc_embedded_file {
    const char *path;            /* as in the source tree: "web/index.html" */
    const unsigned char *data;   /* NUL-terminated */
    size_t size;
    const char *sha256;          /* of data, in hex, computed when it was embedded */
};
extern const struct cc_embedded_file cc_embedded[];
const struct cc_embedded_file *cc_embedded_find(const char *path);

#endif
