/*
 * accounts.c — accounts and their access keys: creation (an account always
 * starts with one admin key), listing and disabling. Secrets are generated
 * here, shown once to the creator and stored only encrypted. The command
 * line calls cc_key_*; the API (an admin of the account) cc_api_key_*.
 */
#include <string.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

struct new_key_op {
    struct cc_service *svc;
    const char *account_name;   /* NULL: add a key to an existing account */
    struct cc_new_key *out;
    struct cc_access_key row;
    const struct cc_caller *caller; /* for the audit log; NULL: the command line */
};

static enum cc_err prepare_key(struct cc_service *svc, enum cc_role role,
                               struct cc_new_key *out, struct cc_access_key *row,
                               struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    memset(row, 0, sizeof *row);
    out->role = role;
    memcpy(out->key_id, "CC", 2);
    cc_random_alnum(out->key_id + 2, CC_KEY_ID_LEN - 2);
    cc_random_alnum(out->secret, CC_KEY_SECRET_LEN);
    cc_strlcpy(row->id, out->key_id, sizeof row->id);
    row->role = role;
    row->created_at = cc_now_ms();
    return svc_seal(svc, AAD_ACCESS_KEY, out->secret, row->secret_enc, sizeof row->secret_enc,
                    &row->secret_enc_len, err);
}

static enum cc_err new_key_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct new_key_op *op = arg;
    enum cc_err rc;
    if (op->account_name) {
        rc = cc_tx_account_insert(tx, op->account_name, op->row.created_at,
                                  &op->out->account_id, err);
        if (rc)
            return rc;
    } else {
        rc = cc_tx_account_exists(tx, op->out->account_id, err);
        if (rc)
            return rc;
        /* Each key that signs Alibaba API calls has its own share of the
         * replay cache: the cap bounds what one account can hold there. */
        int64_t n = 0, max = op->svc->cfg.max_keys > 0 ? op->svc->cfg.max_keys
                                                       : CC_KEYS_PER_ACCOUNT_DEFAULT;
        if ((rc = cc_tx_key_count(tx, op->out->account_id, &n, err)))
            return rc;
        if (n >= max)
            return cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "AccessKeys",
                                "This account already has %lld enabled access keys, the most it "
                                "may have; disable one first.", (long long)max);
    }
    op->row.account_id = op->out->account_id;
    rc = cc_tx_key_insert(tx, &op->row, err);
    if (rc)
        return rc;
    struct cc_caller who;
    if (op->caller)
        who = *op->caller;
    else
        cc_caller_cli(&who, op->out->account_id);
    if (op->account_name) {
        json_t *ch = json_object();
        svc_change_str(ch, "name", SVC_PII_NONE, NULL, op->account_name);
        if ((rc = svc_audit(tx, &who, CC_AUDIT_ACCOUNT_CREATE, op->out->account_id, ch, err)))
            return rc;
    }
    json_t *ch = json_object();
    svc_change_str(ch, "role", SVC_PII_NONE, NULL, cc_role_name(op->row.role));
    svc_change_int(ch, "expires_at", 0, 0, op->row.expires_at != 0, op->row.expires_at);
    return svc_audit_ref(tx, &who, CC_AUDIT_ACCESS_KEY_CREATE, op->row.id, ch, err);
}

enum cc_err cc_account_create(struct cc_service *svc, const char *name, struct cc_new_key *out,
                              struct cc_error *err)
{
    char clean[CC_NAME_MAX_BYTES + 1];
    enum cc_err rc = cc_validate_name(name, clean, sizeof clean, err);
    if (rc)
        return rc;
    struct new_key_op op = {.svc = svc, .account_name = clean, .out = out};
    rc = prepare_key(svc, CC_ROLE_ADMIN, out, &op.row, err);
    if (rc)
        return rc;
    return cc_store_write(svc->store, new_key_tx, &op, err);
}

enum cc_err cc_account_get_name(struct cc_service *svc, int64_t id, char *name, size_t namesz,
                                struct cc_error *err)
{
    return cc_store_account_get(svc->store, id, name, namesz, err);
}

enum cc_err cc_key_create(struct cc_service *svc, int64_t account_id, enum cc_role role,
                          int64_t expires_at, struct cc_new_key *out, struct cc_error *err)
{
    return svc_key_create(svc, NULL, account_id, role, expires_at, out, err);
}

enum cc_err svc_key_create(struct cc_service *svc, const struct cc_caller *caller,
                           int64_t account_id, enum cc_role role, int64_t expires_at,
                           struct cc_new_key *out, struct cc_error *err)
{
    if (role == CC_ROLE_NONE)
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "Role",
                            "The role must be admin, operator or readonly.");
    if (expires_at && expires_at <= cc_now_ms())
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "ExpiresAt",
                            "expires_at must be in the future.");
    struct new_key_op op = {.svc = svc, .account_name = NULL, .out = out, .caller = caller};
    enum cc_err rc = prepare_key(svc, role, out, &op.row, err);
    if (rc)
        return rc;
    op.row.expires_at = expires_at;
    out->account_id = account_id;
    out->expires_at = expires_at;
    return cc_store_write(svc->store, new_key_tx, &op, err);
}

enum cc_err cc_key_list(struct cc_service *svc, int64_t account_id,
                        struct cc_access_key **out, size_t *n, struct cc_error *err)
{
    char name[CC_NAME_MAX_BYTES + 1];
    enum cc_err rc = cc_account_get_name(svc, account_id, name, sizeof name, err);
    if (rc)
        return rc;
    rc = cc_store_key_list(svc->store, account_id, out, n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < *n; i++) /* never hand a secret upwards */
        memset((*out)[i].secret_enc, 0, sizeof (*out)[i].secret_enc);
    return CC_OK;
}

struct disable_op {
    int64_t account_id;
    const char *key_id;
    int64_t now;
    const struct cc_caller *caller;
};

static enum cc_err disable_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct disable_op *op = arg;
    enum cc_err rc = cc_tx_key_disable(tx, op->account_id, op->key_id, op->now, err);
    if (rc)
        return rc;
    struct cc_caller who;
    if (op->caller)
        who = *op->caller;
    else
        cc_caller_cli(&who, op->account_id);
    json_t *ch = json_object();
    svc_change_str(ch, "status", SVC_PII_NONE, "enabled", "disabled");
    return svc_audit_ref(tx, &who, CC_AUDIT_ACCESS_KEY_DISABLE, op->key_id, ch, err);
}

enum cc_err cc_key_disable(struct cc_service *svc, int64_t account_id, const char *key_id,
                           struct cc_error *err)
{
    return svc_key_disable(svc, NULL, account_id, key_id, err);
}

enum cc_err svc_key_disable(struct cc_service *svc, const struct cc_caller *caller,
                            int64_t account_id, const char *key_id, struct cc_error *err)
{
    struct disable_op op = {account_id, key_id, cc_now_ms(), caller};
    return cc_store_write(svc->store, disable_tx, &op, err);
}

/* ---- access keys through the API ------------------------------------------------ */

enum cc_err cc_api_key_list(struct cc_service *svc, const struct cc_caller *caller,
                            struct cc_access_key **out, size_t *n, struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_ADMIN, err);
    return rc ? rc : cc_key_list(svc, caller->account_id, out, n, err);
}

enum cc_err cc_api_key_create(struct cc_service *svc, const struct cc_caller *caller,
                              const char *role, int64_t expires_at, struct cc_new_key *out,
                              struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_ADMIN, err);
    if (rc)
        return rc;
    if (!role)
        return cc_error_set(err, CC_ERR_MISSING_PARAMETER, "Role",
                            "The role is required: admin, operator or readonly.");
    return svc_key_create(svc, caller, caller->account_id, cc_role_parse(role), expires_at, out,
                          err);
}

enum cc_err cc_api_key_disable(struct cc_service *svc, const struct cc_caller *caller,
                               const char *key_id, struct cc_access_key *out,
                               struct cc_error *err)
{
    enum cc_err rc = cc_service_require(caller, CC_ROLE_ADMIN, err);
    if (rc)
        return rc;
    if ((rc = svc_key_disable(svc, caller, caller->account_id, key_id, err)))
        return rc;
    struct cc_access_key *keys = NULL;
    size_t n = 0;
    if ((rc = cc_key_list(svc, caller->account_id, &keys, &n, err)))
        return rc;
    rc = cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "There is no such access key.");
    for (size_t i = 0; i < n; i++)
        if (!strcmp(keys[i].id, key_id)) {
            *out = keys[i];
            rc = CC_OK;
        }
    if (!rc && err)
        cc_error_clear(err);
    cc_free(keys);
    return rc;
}
