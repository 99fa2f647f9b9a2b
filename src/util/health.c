/*
 * health.c — what the process knows about its own parts: each component
 * (the store, the dispatcher, ...) says whether it works and, when not,
 * why, in words an operator can act on. /readyz answers 503 while any
 * component is not OK, and /metrics shows each one. A component logs once
 * per change of state, not once per failure.
 */
#include <pthread.h>
#include <string.h>

#include "util/util.h"

static struct {
    pthread_mutex_t mu;
    struct cc_health_entry e[CC_HEALTH_COMPONENTS_MAX];
    size_t n;
} health = {.mu = PTHREAD_MUTEX_INITIALIZER};

int cc_health_set(const char *component, int ok, const char *reason)
{
    int changed = 0;
    pthread_mutex_lock(&health.mu);
    struct cc_health_entry *e = NULL;
    for (size_t i = 0; i < health.n && !e; i++)
        if (!strcmp(health.e[i].component, component))
            e = &health.e[i];
    if (!e && health.n < CC_HEALTH_COMPONENTS_MAX) {
        e = &health.e[health.n++];
        cc_strlcpy(e->component, component, sizeof e->component);
        e->ok = 1;
    }
    if (e) {
        changed = e->ok != (ok != 0);
        if (changed) {
            e->since_ms = cc_now_ms();
            e->changes++;
        }
        e->ok = ok != 0;
        cc_strlcpy(e->reason, ok ? "" : reason ? reason : "failing", sizeof e->reason);
    }
    pthread_mutex_unlock(&health.mu);
    if (changed && ok)
        cc_log(CC_LOG_INFO, "component recovered", "component", component, NULL);
    else if (changed)
        cc_log(CC_LOG_ERROR, "component failing", "component", component, "reason",
               reason ? reason : "failing", NULL);
    return changed;
}

size_t cc_health_get(struct cc_health_entry *out, size_t max)
{
    pthread_mutex_lock(&health.mu);
    size_t n = health.n < max ? health.n : max;
    memcpy(out, health.e, n * sizeof *out);
    pthread_mutex_unlock(&health.mu);
    return n;
}

void cc_health_reset(void)
{
    pthread_mutex_lock(&health.mu);
    health.n = 0;
    pthread_mutex_unlock(&health.mu);
}
