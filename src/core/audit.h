/*
 * audit.h — the audit log's model (core): the one enumerated list of
 * actions an audit entry may record, the entry itself, and the hash that
 * chains each entry to the one before it. Pure: no I/O.
 */
#ifndef CC_CORE_AUDIT_H
#define CC_CORE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

/* Every action the audit log records: enum name, the action's name in the
 * log and the API, and the type of its target. Append new actions at the
 * end; an entry stores the name, so the order carries no meaning. */
#define CC_AUDIT_ACTIONS(X)                                                          \
    X(ACCOUNT_CREATE, "account.create", "account")                                   \
    X(ACCESS_KEY_CREATE, "access_key.create", "access_key")                          \
    X(ACCESS_KEY_DISABLE, "access_key.disable", "access_key")                        \
    X(CONTACT_CREATE, "contact.create", "contact")                                   \
    X(CONTACT_UPDATE, "contact.update", "contact")                                   \
    X(CONTACT_DELETE, "contact.delete", "contact")                                   \
    X(CONTACT_REASSIGN, "contact.reassign", "contact")                               \
    X(CONTACT_VIEW, "contact.view", "contact")                                       \
    X(CONTACT_EXPORT, "contact.export", "contact")                                   \
    X(WEBHOOK_REVEAL, "contact.webhook.reveal", "contact")                           \
    X(VERIFICATION_SEND, "verification.send", "verification")                        \
    X(VERIFICATION_CONFIRM, "verification.confirm", "verification")                  \
    X(APPLICATION_CREATE, "application.create", "application")                        \
    X(APPLICATION_TRANSITION, "application.transition", "application")                \
    X(CERTIFICATE_CREATE, "certificate.create", "certificate")                       \
    X(CERTIFICATE_SUPERSEDE, "certificate.supersede", "certificate")                 \
    X(CERTIFICATE_UPDATE, "certificate.update", "certificate")                       \
    X(CERTIFICATE_DELETE, "certificate.delete", "certificate")                       \
    X(CERTIFICATE_REVOKE, "certificate.revoke", "certificate")                       \
    X(CERTIFICATE_KEY_READ, "certificate.private_key.read", "certificate")           \
    X(TEMPLATE_PUT, "template.put", "template")                                      \
    X(TEMPLATE_DELETE, "template.delete", "template")                                \
    X(SETTINGS_REMINDERS_UPDATE, "settings.reminders.update", "account")             \
    X(EVENT_CREATE, "event.create", "event")                                         \
    X(NOTIFICATION_RESEND, "notification.resend", "notification")                    \
    X(USER_CREATE, "user.create", "user")                                            \
    X(USER_UPDATE, "user.update", "user")                                            \
    X(USER_DELETE, "user.delete", "user")                                            \
    X(USER_UNLOCK, "user.unlock", "user")                                            \
    X(USER_SIGN_IN, "user.sign_in", "user")                                          \
    X(USER_SIGN_IN_FAILED, "user.sign_in_failed", "user")                            \
    X(USER_SIGN_OUT, "user.sign_out", "user")                                        \
    X(AUDIT_RETENTION, "audit.retention", "audit")                                   \
    X(ACCESS_KEY_AUTH_FAILED, "access_key.auth_failed", "access_key")                \
    X(ENDPOINT_CREATE, "endpoint.create", "endpoint")                                \
    X(ENDPOINT_UPDATE, "endpoint.update", "endpoint")                                \
    X(ENDPOINT_DELETE, "endpoint.delete", "endpoint")                                \
    X(CONTACT_IMPORT, "contact.import", "import")                                    \
    X(CONTACT_EXPORT_ALL, "contact.export_all", "account")

#define CC_AUDIT_ENUM(e, name, type) CC_AUDIT_##e,
enum cc_audit_action { CC_AUDIT_NONE = 0, CC_AUDIT_ACTIONS(CC_AUDIT_ENUM) CC_AUDIT_COUNT };
#undef CC_AUDIT_ENUM

/* The action's name ("contact.update") and its target's type ("contact");
 * NULL for a value out of range. */
const char *cc_audit_action_name(enum cc_audit_action a);
const char *cc_audit_target_type(enum cc_audit_action a);
/* The action named s, or CC_AUDIT_NONE. */
enum cc_audit_action cc_audit_action_parse(const char *s);

/* Field sizes of an entry. */
#define CC_AUDIT_ACTOR_MAX   40      /* "user:123", an access key id, "cli", "scheduler" */
#define CC_AUDIT_SOURCE_MAX  64      /* an IPv4 or IPv6 address */
#define CC_AUDIT_REQID_MAX   40      /* a request id (UUID) */
#define CC_AUDIT_TARGET_MAX  64      /* a target's id, as text */
#define CC_AUDIT_HASH_HEX    64      /* hex SHA-256 */

/* One entry of the audit log. changes is the JSON text of the changed
 * fields (personal values already masked), or NULL. */
struct cc_audit_entry {
    int64_t id;                                   /* its place in the chain, from 1 */
    int64_t created_at;                           /* ms since the epoch */
    int64_t account_id;                           /* 0: no account (an unknown email) */
    char actor[CC_AUDIT_ACTOR_MAX + 1];
    char source[CC_AUDIT_SOURCE_MAX + 1];         /* "" when not over the network */
    char request_id[CC_AUDIT_REQID_MAX + 1];      /* "" outside a request */
    char action[48];
    char target_type[24];
    char target_id[CC_AUDIT_TARGET_MAX + 1];
    char *changes;                                /* owned (cc_free) or NULL */
    char hash[CC_AUDIT_HASH_HEX + 1];             /* this entry's link of the chain */
};

/* What GET /v1/audit asks for: NULL / 0 members match everything. Newest
 * first; page from 1. */
struct cc_audit_filter {
    int64_t account_id;
    const char *actor, *action, *target_type, *target_id;
    int64_t since, until;                         /* ms; until exclusive */
    int64_t page, page_size;
};
/* Frees the changes of n entries, then the array. */
void cc_audit_entries_free(struct cc_audit_entry *e, size_t n);

/* What the retention job removed from one account. */
struct cc_audit_removal {
    int64_t account_id;
    int64_t removed;
    int64_t first_at, last_at;                    /* created_at of the oldest and newest */
};

/* The hash of the first entry's predecessor: 64 zeros. */
#define CC_AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* Writes into out (65 bytes) the hex SHA-256 of e's content (every field
 * but hash, each length-prefixed so that no two entries read alike) and
 * prev, the hash of the entry before it (CC_AUDIT_GENESIS for the first, or
 * the anchor left by retention). */
void cc_audit_hash(const struct cc_audit_entry *e, const char *prev, char out[65]);

#endif
