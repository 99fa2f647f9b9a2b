/*
 * audit.c — the audit log's model: the names of the enumerated actions and
 * the hash chain over entries. The store computes each new entry's hash in
 * the transaction that writes it; `certcontacts audit verify` computes them
 * all again.
 */
#include <stdio.h>
#include <string.h>

#include "util/util.h"

#include "core/core.h"

#define NAME(e, name, type) [CC_AUDIT_##e] = name,
#define TYPE(e, name, type) [CC_AUDIT_##e] = type,
static const char *const names[CC_AUDIT_COUNT] = {CC_AUDIT_ACTIONS(NAME)};
static const char *const types[CC_AUDIT_COUNT] = {CC_AUDIT_ACTIONS(TYPE)};
#undef NAME
#undef TYPE

const char *cc_audit_action_name(enum cc_audit_action a)
{
    return a > CC_AUDIT_NONE && a < CC_AUDIT_COUNT ? names[a] : NULL;
}

const char *cc_audit_target_type(enum cc_audit_action a)
{
    return a > CC_AUDIT_NONE && a < CC_AUDIT_COUNT ? types[a] : NULL;
}

enum cc_audit_action cc_audit_action_parse(const char *s)
{
    for (int a = CC_AUDIT_NONE + 1; s && a < CC_AUDIT_COUNT; a++)
        if (!strcmp(names[a], s))
            return (enum cc_audit_action)a;
    return CC_AUDIT_NONE;
}

/* The bytes hashed: each field as "<length>:<bytes>;", so that moving bytes
 * between fields changes the hash. */
struct hashed {
    char *p;
    size_t n, cap;
};

static void put_field(struct hashed *h, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (h->n + n + CC_I64_CHARS + 2 > h->cap)
        return; /* cannot happen: sized by field_room() */
    h->n += cc_fmt_i64(h->p + h->n, (int64_t)n);
    h->p[h->n++] = ':';
    memcpy(h->p + h->n, s ? s : "", n);
    h->n += n;
    h->p[h->n++] = ';';
}

static void put_int(struct hashed *h, int64_t v)
{
    char s[CC_I64_CHARS];
    cc_fmt_i64(s, v);
    put_field(h, s);
}

static size_t field_room(const char *s)
{
    return (s ? strlen(s) : 0) + 32;
}

/* One SHA-256 over the fields laid end to end (cc_sha256: the digest fetched
 * once), on the stack unless the changes are long. */
void cc_audit_hash(const struct cc_audit_entry *e, const char *prev, char out[65])
{
    char stackbuf[2048];
    size_t room = 3 * 32 + field_room("cc-audit-1") + field_room(prev) + field_room(e->actor) +
                  field_room(e->source) + field_room(e->request_id) + field_room(e->action) +
                  field_room(e->target_type) + field_room(e->target_id) +
                  field_room(e->changes);
    struct hashed h = {room <= sizeof stackbuf ? stackbuf : cc_malloc(room), 0, room};
    put_field(&h, "cc-audit-1");
    put_field(&h, prev);
    put_int(&h, e->id);
    put_int(&h, e->created_at);
    put_int(&h, e->account_id);
    put_field(&h, e->actor);
    put_field(&h, e->source);
    put_field(&h, e->request_id);
    put_field(&h, e->action);
    put_field(&h, e->target_type);
    put_field(&h, e->target_id);
    put_field(&h, e->changes ? e->changes : "");
    uint8_t d[32];
    cc_sha256(h.p, h.n, d);
    cc_hex(d, sizeof d, out);
    if (h.p != stackbuf)
        cc_free(h.p);
}

void cc_audit_entries_free(struct cc_audit_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++)
        cc_free(e[i].changes);
    cc_free(e);
}
