/*
 * time.c — wall and monotonic clocks and the one timestamp format.
 */
#include <stdio.h>
#include <time.h>

#include "util/util.h"

int64_t cc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cc_mono_ms(void)
{
    return cc_mono_us() / 1000;
}

int64_t cc_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void cc_mono_deadline(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    int64_t ns = ts->tv_nsec + (ms % 1000) * 1000000;
    ts->tv_sec += (time_t)(ms / 1000 + ns / 1000000000);
    ts->tv_nsec = (long)(ns % 1000000000);
}

/* Writes v as exactly n decimal digits (zero-padded) at p. */
static char *digits(char *p, int64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + n;
}

/* The proleptic Gregorian date of a count of days since 1970-01-01 (days
 * may be negative), by the civil_from_days algorithm of H. Hinnant. Pure
 * arithmetic: gmtime_r takes glibc's time zone lock on every call, which
 * threads formatting a timestamp per request then queue on. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                      /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11] */
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

void cc_time_rfc3339(int64_t ms, char *out, size_t outsz)
{
    int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
    int64_t rest = ms - days * 86400000; /* [0, 86399999] */
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) { /* outside what four digits say: the long way */
        snprintf(out, outsz, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, m, d,
                 (int)(rest / 3600000), (int)(rest / 60000 % 60), (int)(rest / 1000 % 60),
                 (int)(rest % 1000));
        return;
    }
    char buf[32], *p = buf;
    p = digits(p, y, 4);
    *p++ = '-';
    p = digits(p, m, 2);
    *p++ = '-';
    p = digits(p, d, 2);
    *p++ = 'T';
    p = digits(p, rest / 3600000, 2);
    *p++ = ':';
    p = digits(p, rest / 60000 % 60, 2);
    *p++ = ':';
    p = digits(p, rest / 1000 % 60, 2);
    *p++ = '.';
    p = digits(p, rest % 1000, 3);
    *p++ = 'Z';
    *p = '\0';
    cc_strlcpy(out, buf, outsz);
}

int cc_today_yyyymmdd(void)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}
