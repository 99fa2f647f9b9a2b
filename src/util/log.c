/*
 * log.c — JSON log lines on stderr, one object per line, written with one
 * write(2) each so that lines from concurrent threads never interleave.
 */
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "util/util.h"

static enum cc_log_level min_level = CC_LOG_INFO;

void cc_log_set_level(enum cc_log_level lvl)
{
    min_level = lvl;
}

void cc_log_line(const char *json, size_t len)
{
    char stackbuf[2048];
    char *p = len + 1 <= sizeof stackbuf ? stackbuf : cc_malloc(len + 1);
    memcpy(p, json, len);
    p[len] = '\n';
    ssize_t off = 0, total = (ssize_t)len + 1;
    while (off < total) {
        ssize_t w = write(STDERR_FILENO, p + off, (size_t)(total - off));
        if (w <= 0)
            break;
        off += w;
    }
    if (p != stackbuf)
        cc_free(p);
}

void cc_log(enum cc_log_level lvl, const char *msg, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (lvl < min_level)
        return;
    char ts[32];
    cc_time_rfc3339(cc_now_ms(), ts, sizeof ts);
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(ts));
    json_object_set_new(o, "level", json_string(names[lvl]));
    json_object_set_new(o, "msg", json_string(msg));
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k)
            break;
        const char *v = va_arg(ap, const char *);
        json_object_set_new(o, k, v ? json_string(v) : json_null());
    }
    va_end(ap);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s) {
        cc_log_line(s, strlen(s));
        free(s);
    }
    json_decref(o);
}
