/*
 * model.c — the functions of the model's records: freeing what they own,
 * naming their states.
 */
#include <string.h>

#include "core/model.h"
#include "util/util.h"

void cc_contact_page_free(struct cc_contact_page *p)
{
    cc_free(p->items);
    p->items = NULL;
    p->n = 0;
}

void cc_event_free(struct cc_event *e)
{
    cc_free(e->data);
    cc_free(e->skipped);
    e->data = e->skipped = NULL;
}

const char *cc_send_status_name(enum cc_send_status s)
{
    switch (s) {
    case CC_SEND_OK: return "ok";
    case CC_SEND_RETRY: return "retry";
    case CC_SEND_THROTTLED: return "throttled";
    case CC_SEND_INVALID_TARGET: return "invalid_target";
    case CC_SEND_GATEWAY_ACCOUNT: return "gateway_account";
    case CC_SEND_REJECTED: return "rejected";
    case CC_SEND_NOT_CONFIGURED: return "not_configured";
    }
    return "unknown";
}

const char *cc_import_state_name(enum cc_import_state s)
{
    static const char *const names[] = {"queued", "running", "done", "failed"};
    return (unsigned)s < 4 ? names[s] : "failed";
}

static const char *const import_actions[] = {"create", "update", "unchanged", "refuse"};

const char *cc_import_action_name(enum cc_import_action a)
{
    return (unsigned)a < 4 ? import_actions[a] : "refuse";
}

int cc_import_action_parse(const char *name)
{
    for (int i = 0; name && i < 4; i++)
        if (!strcmp(name, import_actions[i]))
            return i;
    return -1;
}
