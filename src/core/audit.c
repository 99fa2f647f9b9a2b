/*
 * audit.c — the audit log's model: the names of the enumerated actions and
 * the hash chain over entries. The store computes each new entry's hash in
 * the transaction that writes it; `certcontacts audit verify` computes them
 * all again.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

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

/* "<length>:<bytes>;" so that moving bytes between fields changes the hash. */
static void put_field(EVP_MD_CTX *md, const char *s)
{
    char len[24];
    size_t n = s ? strlen(s) : 0;
    int m = snprintf(len, sizeof len, "%zu:", n);
    EVP_DigestUpdate(md, len, (size_t)m);
    if (n)
        EVP_DigestUpdate(md, s, n);
    EVP_DigestUpdate(md, ";", 1);
}

static void put_int(EVP_MD_CTX *md, int64_t v)
{
    char s[24];
    snprintf(s, sizeof s, "%lld", (long long)v);
    put_field(md, s);
}

void cc_audit_hash(const struct cc_audit_entry *e, const char *prev, char out[65])
{
    unsigned char h[32];
    unsigned int hl = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        memset(out, 'x', 64); /* never matches a stored hash */
        out[64] = '\0';
        return;
    }
    put_field(md, "cc-audit-1");
    put_field(md, prev);
    put_int(md, e->id);
    put_int(md, e->created_at);
    put_int(md, e->account_id);
    put_field(md, e->actor);
    put_field(md, e->source);
    put_field(md, e->request_id);
    put_field(md, e->action);
    put_field(md, e->target_type);
    put_field(md, e->target_id);
    put_field(md, e->changes ? e->changes : "");
    EVP_DigestFinal_ex(md, h, &hl);
    EVP_MD_CTX_free(md);
    cc_hex(h, sizeof h, out);
}

void cc_audit_entries_free(struct cc_audit_entry *e, size_t n)
{
    for (size_t i = 0; e && i < n; i++)
        cc_free(e[i].changes);
    cc_free(e);
}
