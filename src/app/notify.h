/*
 * notify.h — systemd's readiness protocol (notify.c): READY=1, RELOADING=1
 * and STOPPING=1 to $NOTIFY_SOCKET; nothing without it.
 */
#ifndef CC_APP_NOTIFY_H
#define CC_APP_NOTIFY_H

#include "service/service.h"

/* Loads libsystemd when $NOTIFY_SOCKET is set; once, before the others. */
void cc_notify_load(void);
/* Sends the formatted state (as sd_notify does), once loaded. */
void cc_notifyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* READY=1 once /readyz would answer 200 (or after a wait, saying what fails). */
void cc_notify_ready(struct cc_service *svc, const char *scheme, const char *addr);
/* RELOADING=1 with the monotonic clock. */
void cc_notify_reloading(void);

#endif
