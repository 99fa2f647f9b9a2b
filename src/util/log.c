/*
 * log.c — JSON log lines on stderr, one object per line, each written whole
 * (one write(2) under one lock) so that lines from concurrent threads never
 * interleave; request lines gather for a few milliseconds and go out
 * together.
 *
 * There is one writer, and it takes fields, not text: every value goes
 * through jansson's encoder, so a quote, a newline or a control character
 * in a method, a path or a header can never end a value early and forge
 * another field or another line. Bytes that are not UTF-8 are shown as
 * \xNN, values are cut at CC_LOG_VALUE_MAX bytes, and the fields time,
 * level and msg belong to the writer alone.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <jansson.h>

#include "util/util.h"

static enum cc_log_level min_level = CC_LOG_INFO;

void cc_log_set_level(enum cc_log_level lvl)
{
    min_level = lvl;
}

static void write_all(const char *p, size_t n)
{
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(STDERR_FILENO, p + off, n - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
}

/* Deferred lines (cc_log_fields_deferred: the request lines) wait here, in
 * order, for the flusher thread, which writes what gathered within
 * CC_LOG_DEFER_MS with one write(2). Every other line first writes what
 * waits, then itself, under the same lock: the order of lines is the order
 * of the calls, and a warning or an error is on stderr when its call
 * returns. */
#define CC_LOG_DEFER_MS 10
static pthread_mutex_t pend_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pend_cv = PTHREAD_COND_INITIALIZER;
static char pend[64 * 1024];
static size_t npend;
static int flusher_state; /* 0: not started, 1: running, -1: could not start */

static void flush_locked(void)
{
    write_all(pend, npend);
    npend = 0;
}

void cc_log_flush(void)
{
    pthread_mutex_lock(&pend_mu);
    flush_locked();
    pthread_mutex_unlock(&pend_mu);
}

static void *flusher_main(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "cc-log");
    for (;;) {
        pthread_mutex_lock(&pend_mu);
        while (!npend)
            pthread_cond_wait(&pend_cv, &pend_mu);
        pthread_mutex_unlock(&pend_mu);
        struct timespec ts = {0, CC_LOG_DEFER_MS * 1000000L};
        nanosleep(&ts, NULL); /* let the lines of the next few ms gather */
        cc_log_flush();
    }
    return NULL;
}

int cc_log_reopen(const char *path, char *err, size_t errsz)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        snprintf(err, errsz, "log_file %s: %s", path, strerror(errno));
        return -1;
    }
    pthread_mutex_lock(&pend_mu);
    flush_locked(); /* what was logged before goes to where it was logged */
    int rc = dup2(fd, STDERR_FILENO) < 0 ? -1 : 0;
    if (rc)
        snprintf(err, errsz, "log_file %s: %s", path, strerror(errno));
    pthread_mutex_unlock(&pend_mu);
    close(fd);
    return rc;
}

/* One line, now: what is deferred first, then json and its newline. */
static void write_line(const char *json, size_t len)
{
    char stackbuf[4100];
    char *p = len + 1 <= sizeof stackbuf ? stackbuf : cc_malloc(len + 1);
    memcpy(p, json, len);
    p[len] = '\n';
    pthread_mutex_lock(&pend_mu);
    if (npend)
        flush_locked();
    write_all(p, len + 1);
    pthread_mutex_unlock(&pend_mu);
    if (p != stackbuf)
        cc_free(p);
}

/* One line, within CC_LOG_DEFER_MS. */
static void defer_line(const char *json, size_t len)
{
    pthread_mutex_lock(&pend_mu);
    if (flusher_state == 0) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        flusher_state = pthread_create(&t, &attr, flusher_main, NULL) == 0 ? 1 : -1;
        pthread_attr_destroy(&attr);
        if (flusher_state == 1)
            atexit(cc_log_flush);
    }
    if (flusher_state < 0 || len + 1 > sizeof pend) {
        pthread_mutex_unlock(&pend_mu);
        write_line(json, len);
        return;
    }
    if (npend + len + 1 > sizeof pend)
        flush_locked();
    int was_empty = npend == 0;
    memcpy(pend + npend, json, len);
    pend[npend + len] = '\n';
    npend += len + 1;
    if (was_empty)
        pthread_cond_signal(&pend_cv);
    pthread_mutex_unlock(&pend_mu);
}

/* A JSON string of s (at most CC_LOG_VALUE_MAX bytes of it). jansson
 * refuses text that is not UTF-8; such a value is kept readable instead,
 * each byte >= 0x80 written as the four characters \xNN. */
static json_t *log_string(const char *s)
{
    size_t n = strnlen(s, CC_LOG_VALUE_MAX + 1);
    int cut = n > CC_LOG_VALUE_MAX;
    if (cut)
        n = CC_LOG_VALUE_MAX;
    json_t *v = json_stringn(s, n);
    while (!v && cut && n > 0 && ((unsigned char)s[n - 1] & 0xC0) == 0x80)
        v = json_stringn(s, --n); /* the cut fell inside a character */
    if (!v && cut && n > 0)
        v = json_stringn(s, --n);
    if (v)
        return v;
    static const char hex[] = "0123456789abcdef";
    char *out = cc_malloc(n * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    v = json_stringn(out, o);
    cc_free(out);
    return v ? v : json_string("");
}

static int reserved(const char *key)
{
    return !strcmp(key, "time") || !strcmp(key, "level") || !strcmp(key, "msg");
}

static json_t *field_value(const struct cc_log_field *f)
{
    switch (f->type) {
    case CC_LOG_F_STR: return f->s ? log_string(f->s) : json_null();
    case CC_LOG_F_INT: return json_integer(f->i);
    case CC_LOG_F_NUM: return json_real(f->d);
    case CC_LOG_F_BOOL: return json_boolean(f->i);
    default: return json_null();
    }
}

/* ---- the common line, without building it as a JSON object ----------------------
 * Most lines (every request's) hold only keys and values that JSON writes
 * as they are: printable ASCII without a quote or a backslash. Such a line
 * is written here exactly as the encoder would write it; any other line
 * (a character to escape, a byte that is not ASCII, a value to cut, a key
 * given twice, a number the encoder would write another way) goes to the
 * encoder below. */
struct line {
    char buf[4096];
    size_t len;
    int ok;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (!l->ok || n > sizeof l->buf - l->len) {
        l->ok = 0;
        return;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

/* s as a JSON string, if it needs no escape and no cut. */
static void put_plain(struct line *l, const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e || s[n] == '"' ||
            s[n] == '\\' || n >= CC_LOG_VALUE_MAX) {
            l->ok = 0;
            return;
        }
    put(l, "\"", 1);
    put(l, s, n);
    put(l, "\"", 1);
}

static void put_value(struct line *l, const struct cc_log_field *f)
{
    char num[48];
    int k;
    switch (f->type) {
    case CC_LOG_F_STR:
        if (f->s)
            put_plain(l, f->s);
        else
            put(l, "null", 4);
        return;
    case CC_LOG_F_INT:
        put(l, num, cc_fmt_i64(num, f->i));
        return;
    case CC_LOG_F_NUM:
        /* the encoder's form with JSON_REAL_PRECISION(15): "%.15g", and ".0"
         * after a whole number; an exponent it writes otherwise */
        if (!isfinite(f->d)) {
            l->ok = 0;
            return;
        }
        k = snprintf(num, sizeof num, "%.15g", f->d);
        if (k <= 0 || (size_t)k >= sizeof num - 2 || strchr(num, 'e')) {
            l->ok = 0;
            return;
        }
        if (!strchr(num, '.')) {
            memcpy(num + k, ".0", 3);
            k += 2;
        }
        put(l, num, (size_t)k);
        return;
    case CC_LOG_F_BOOL:
        put(l, f->i ? "true" : "false", f->i ? 4 : 5);
        return;
    default:
        put(l, "null", 4);
    }
}

static int plain_line(const char *ts, const char *level, const char *msg,
                      const struct cc_log_field *fields, size_t n, int deferred)
{
    struct line l;
    l.len = 0;
    l.ok = 1;
    put(&l, "{\"time\":", 8);
    put_plain(&l, ts);
    put(&l, ",\"level\":", 9);
    put_plain(&l, level);
    put(&l, ",\"msg\":", 7);
    put_plain(&l, msg);
    for (size_t i = 0; i < n && l.ok; i++) {
        const char *k = fields[i].key;
        if (!k || reserved(k))
            continue;
        for (size_t j = 0; j < i; j++)
            if (fields[j].key && !strcmp(fields[j].key, k))
                return 0; /* a key given twice: the encoder keeps the last */
        put(&l, ",", 1);
        put_plain(&l, k);
        put(&l, ":", 1);
        put_value(&l, &fields[i]);
    }
    put(&l, "}", 1);
    if (!l.ok)
        return 0;
    if (deferred)
        defer_line(l.buf, l.len);
    else
        write_line(l.buf, l.len);
    return 1;
}

static void log_line(enum cc_log_level lvl, const char *msg, const struct cc_log_field *fields,
                     size_t n, int deferred)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < min_level)
        return;
    char ts[32];
    cc_time_rfc3339(cc_now_ms(), ts, sizeof ts);
    if (plain_line(ts, names[lvl], msg ? msg : "", fields, n, deferred))
        return;
    json_t *o = json_object();
    if (!o)
        return;
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "level", json_string(names[lvl]));
    json_object_set_new(o, "msg", log_string(msg ? msg : ""));
    for (size_t i = 0; i < n; i++) {
        const char *k = fields[i].key;
        if (!k || reserved(k))
            continue; /* the writer's own fields cannot be replaced */
        json_object_set_new(o, k, field_value(&fields[i]));
    }
    /* 15 significant digits: 0.123 stays 0.123, not 0.12300000000000001 */
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (s) {
        if (deferred)
            defer_line(s, strlen(s));
        else
            write_line(s, strlen(s));
        free(s);
    }
    json_decref(o);
}

void cc_log_fields(enum cc_log_level lvl, const char *msg, const struct cc_log_field *fields,
                   size_t n)
{
    log_line(lvl, msg, fields, n, 0);
}

void cc_log_fields_deferred(enum cc_log_level lvl, const char *msg,
                            const struct cc_log_field *fields, size_t n)
{
    log_line(lvl, msg, fields, n, lvl < CC_LOG_WARN);
}

void cc_log(enum cc_log_level lvl, const char *msg, ...)
{
    struct cc_log_field f[CC_LOG_FIELDS_MAX];
    size_t n = 0;
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        if (n < CC_LOG_FIELDS_MAX)
            f[n++] = (struct cc_log_field){.key = k, .type = CC_LOG_F_STR, .s = v};
    }
    va_end(ap);
    cc_log_fields(lvl, msg, f, n);
}
