/*
 * notify.c — systemd's readiness protocol (Type=notify) for `serve`.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "app/notify.h"
#include "util/util.h"

/*
 * sd_notify() writes to $NOTIFY_SOCKET and does nothing when it is unset, so
 * these are no-ops outside a notify service. systemd takes "started" to mean
 * READY=1: it is sent once the listener is open and /readyz would answer 200,
 * so that units ordered After= this one find it answering.
 *
 * libsystemd is loaded only under a notify service ($NOTIFY_SOCKET set):
 * linked, it and what it brings (libgcrypt, liblzma, liblz4…) were ~0.9 MB of
 * every server's resident memory, for a few datagrams sent by services alone. */
static __typeof__(sd_notify) *notify_fn;

void cc_notify_load(void)
{
    if (!getenv("NOTIFY_SOCKET"))
        return;
    void *lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (lib)
        notify_fn = (__typeof__(sd_notify) *)dlsym(lib, "sd_notify");
    if (!notify_fn)
        cc_log(CC_LOG_WARN, "NOTIFY_SOCKET is set but libsystemd.so.0 cannot be loaded: "
               "systemd will not hear that the service is ready", "error",
               lib ? "no sd_notify in it" : dlerror(), NULL);
}

void cc_notifyf(const char *fmt, ...)
{
    if (!notify_fn)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    notify_fn(0, msg);
}

/* 1 when /readyz would answer 200: the database answers and no part of the
 * process reports a failure; else 0 with why set. */
static int ready_now(struct cc_service *svc, char *why, size_t whysz)
{
    struct cc_error err;
    if (cc_service_ping(svc, &err)) {
        snprintf(why, whysz, "the database does not answer: %s", err.message);
        return 0;
    }
    struct cc_health_entry e[CC_HEALTH_COMPONENTS_MAX];
    size_t n = cc_health_get(e, CC_HEALTH_COMPONENTS_MAX);
    for (size_t i = 0; i < n; i++)
        if (!e[i].ok) {
            snprintf(why, whysz, "%.31s: %.255s", e[i].component, e[i].reason);
            return 0;
        }
    return 1;
}

/* Waits up to CC_NOTIFY_READY_WAIT_MS for ready_now(), then tells systemd the
 * service is up either way (a failing part that does not recover at once is
 * for /readyz and the log to report, not a reason for systemd to kill the
 * start-up), with STATUS saying which. */
#define CC_NOTIFY_READY_WAIT_MS 5000
void cc_notify_ready(struct cc_service *svc, const char *scheme, const char *addr)
{
    if (!notify_fn)
        return;
    char why[600] = "";
    int64_t until = cc_mono_ms() + CC_NOTIFY_READY_WAIT_MS;
    int ok;
    while (!(ok = ready_now(svc, why, sizeof why)) && cc_mono_ms() < until) {
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    cc_notifyf("READY=1\nSTATUS=%s on %s%s%s%s\nMAINPID=%lu", ok ? "serving" : "not ready",
               scheme, addr, ok ? "" : ": ", why, (unsigned long)getpid());
}

/* RELOADING=1 carries the monotonic clock (systemd 253 and later want it,
 * earlier ones ignore it). */
void cc_notify_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    cc_notifyf("RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=%llu",
               (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}
