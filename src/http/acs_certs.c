/*
 * acs_certs.c — the Alibaba Cloud CAS 2020-04-07 certificate actions:
 * UploadUserCertificate, GetUserCertificateDetail and DeleteUserCertificate,
 * over the same service functions as REST's /v1/certificates (the PEM
 * parsed and the key matched and sealed by cc_certificate_create, the key
 * revealed, admin only and audited, by cc_certificate_private_key), and the
 * answer for every other action the pinned SDK declares that certcontacts
 * does not offer: 400 UnsupportedOperation naming what to use instead.
 * What is this file's own is the translation: Alibaba's parameter and
 * field names and its response shapes. acs_api.c authenticates the call
 * and dispatches it here. Spec: docs/alibaba-compat.md.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "http/acs_int.h"
#include "http/http_int.h"

static const char *param(struct acs_call *c, const char *name)
{
    return cc_acs_param(&c->params, name);
}

/* A service error, with the certificate fields as Alibaba names them. */
static void cert_error(struct acs_call *c, const struct cc_error *err)
{
    static const char *const map[][2] = {{"Pem", "Cert"}, {"PrivateKey", "Key"}};
    struct cc_error e = *err;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(e.field, map[i][0]) == 0)
            cc_strlcpy(e.field, map[i][1], sizeof e.field);
    cc_acs_service_error(c->req, &e);
}

/* CertId: required, a positive whole number. Answers and returns -1 when
 * it is not. */
static int cert_id(struct acs_call *c, int64_t *id)
{
    const char *v = param(c, "CertId");
    if (!v || !v[0]) {
        cc_acs_fail(c->req, CC_ERR_MISSING_PARAMETER, "CertId",
                    "CertId is mandatory for this action.");
        return -1;
    }
    if (cc_parse_i64(v, 1, INT64_MAX, id)) {
        cc_acs_fail(c->req, CC_ERR_INCORRECT_FORMAT, "CertId",
                    "The CertId parameter format is incorrect: a certificate id is a positive "
                    "whole number.");
        return -1;
    }
    return 0;
}

static void answer_request_id(struct acs_call *c, json_t *o)
{
    json_object_set_new(o, "RequestId", json_string(cc_req_id(c->req)));
    cc_req_json(c->req, 200, o);
}

/* ---- UploadUserCertificate ------------------------------------------------------------- */
/* The ShangMi (SM2) pair parameters: certcontacts keeps no SM certificates. */
static int refuse_sm(struct acs_call *c)
{
    static const char *const sm[] = {"EncryptCert", "EncryptPrivateKey", "SignCert",
                                     "SignPrivateKey"};
    for (size_t i = 0; i < sizeof sm / sizeof sm[0]; i++) {
        const char *v = param(c, sm[i]);
        if (v && v[0]) {
            cc_acs_fail(c->req, CC_ERR_INVALID_PARAMETER, sm[i],
                        "The %s parameter is invalid: certcontacts keeps no SM (ShangMi) "
                        "certificates; upload a certificate with Cert and Key.",
                        sm[i]);
            return -1;
        }
    }
    return 0;
}

static int required(struct acs_call *c, const char *name, const char **out)
{
    *out = param(c, name);
    if (*out && (*out)[0])
        return 0;
    cc_acs_fail(c->req, CC_ERR_MISSING_PARAMETER, name, "%s is mandatory for this action.", name);
    return -1;
}

void cc_acs_upload_user_certificate(struct acs_call *c)
{
    const char *name, *cert, *key;
    if (refuse_sm(c) || required(c, "Name", &name) || required(c, "Cert", &cert) ||
        required(c, "Key", &key))
        return;
    struct cc_cert_input *in = cc_calloc(1, sizeof *in);
    struct cc_certificate *out = cc_calloc(1, sizeof *out);
    in->pem = cert;
    in->pem_len = strlen(cert);
    in->private_key = key;
    in->private_key_len = strlen(key);
    in->name = name;
    in->carry_subscribers = 1; /* a renewal takes over its predecessor's, as on REST */
    struct cc_error err;
    if (cc_certificate_create(cc_req_service(c->req), cc_req_caller(c->req), in, out, &err)) {
        cert_error(c, &err);
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "CertId", json_integer(out->id));
        answer_request_id(c, o);
    }
    cc_certificate_clear(out);
    cc_free(out);
    cc_free(in);
}

/* ---- GetUserCertificateDetail ---------------------------------------------------------- */
/* "YYYY-MM-DD" (UTC) of ms. */
static json_t *date_of(int64_t ms)
{
    char ts[40];
    cc_time_rfc3339(ms, ts, sizeof ts);
    ts[10] = '\0';
    return json_string(ts);
}

static json_t *upper(const char *s)
{
    char buf[128];
    size_t i = 0;
    for (; s[i] && i + 1 < sizeof buf; i++)
        buf[i] = (char)toupper((unsigned char)s[i]);
    buf[i] = '\0';
    return json_string(buf);
}

/* The names a certificate covers, comma-separated as Alibaba's Sans. */
static json_t *sans_of(const struct cc_certificate *ct)
{
    json_t *arr = json_loads(ct->domains ? ct->domains : "[]", 0, NULL);
    struct cc_buf b;
    cc_buf_init(&b, 1u << 20);
    size_t i;
    json_t *d;
    json_array_foreach(arr, i, d) {
        if (i)
            cc_buf_append(&b, ",", 1);
        cc_buf_puts(&b, json_string_value(d));
    }
    json_decref(arr);
    json_t *s = json_string(b.data ? b.data : "");
    cc_buf_free(&b);
    return s;
}

/* What the stored PEM shows beyond the columns: SHA-1, organizations,
 * the chain. Nothing is added when it cannot be read (never expected: it
 * was parsed before it was stored). */
static void put_pem_details(json_t *o, const struct cc_certificate *ct, int64_t now)
{
    struct cc_x509_details *d = cc_calloc(1, sizeof *d);
    struct cc_error err;
    if (!ct->pem || cc_x509_details(ct->pem, d, &err)) {
        cc_free(d);
        return;
    }
    json_object_set_new(o, "Fingerprint", json_string(d->sha1));
    json_object_set_new(o, "Issuer", json_string(d->issuer_org));
    json_object_set_new(o, "OrgName", json_string(d->org));
    json_object_set_new(o, "Province", json_string(d->province));
    json_object_set_new(o, "City", json_string(d->city));
    json_object_set_new(o, "Country", json_string(d->country));
    json_t *chain = json_array();
    for (int i = 0; i < d->n_chain; i++) {
        const struct cc_x509_chain_entry *e = &d->chain[i];
        int64_t left = e->not_after > now ? (e->not_after - now) / 86400000 : 0;
        json_array_append_new(chain, json_pack("{s:s, s:s, s:I, s:I, s:I}", "CommonName",
                                               e->subject_cn, "IssuerCommonName", e->issuer_cn,
                                               "NotBefore", (json_int_t)e->not_before,
                                               "NotAfter", (json_int_t)e->not_after,
                                               "RemainDay", (json_int_t)left));
    }
    json_object_set_new(o, "CertChain", chain);
    cc_free(d);
}

static json_t *render_detail(const struct cc_certificate *ct, int64_t now)
{
    json_t *o = json_object();
    json_object_set_new(o, "Id", json_integer(ct->id));
    json_object_set_new(o, "Name", json_string(ct->name));
    json_object_set_new(o, "Common", json_string(ct->common_name));
    json_object_set_new(o, "Sans", sans_of(ct));
    json_object_set_new(o, "Algorithm",
                        json_string(strcmp(ct->key_type, "EC") == 0 ? "ECC" : ct->key_type));
    if (ct->not_before) {
        json_object_set_new(o, "StartDate", date_of(ct->not_before));
        json_object_set_new(o, "NotBefore", json_integer(ct->not_before));
    }
    json_object_set_new(o, "EndDate", date_of(ct->not_after));
    json_object_set_new(o, "NotAfter", json_integer(ct->not_after));
    json_object_set_new(o, "Expired", json_boolean(ct->not_after <= now));
    char serial[CC_CERT_SERIAL_MAX + 1]; /* lower-case hex, as Alibaba shows it */
    cc_strlcpy(serial, ct->serial, sizeof serial);
    cc_ascii_lower(serial);
    json_object_set_new(o, "SerialNo", json_string(serial));
    if (ct->fingerprint[0])
        json_object_set_new(o, "Sha2", upper(ct->fingerprint));
    json_object_set_new(o, "BuyInAliyun", json_false());
    /* metadata only: what the product names stands for the issuer */
    json_object_set_new(o, "Issuer", json_string(ct->product));
    put_pem_details(o, ct, now);
    return o;
}

/* CertFilter: absent or false shows Cert (and Key), true leaves them out.
 * Answers and returns -1 when it is not a boolean. */
static int cert_filter(struct acs_call *c, int *filter)
{
    const char *v = param(c, "CertFilter");
    *filter = 0;
    if (!v || !v[0] || strcasecmp(v, "false") == 0)
        return 0;
    if (strcasecmp(v, "true") == 0) {
        *filter = 1;
        return 0;
    }
    cc_acs_fail(c->req, CC_ERR_INCORRECT_FORMAT, "CertFilter",
                "The CertFilter parameter format is incorrect: true or false.");
    return -1;
}

/* Adds Key for a caller the service lets read it (an admin key: the
 * reveal is audited first); nothing for any other role. Returns -1 with
 * the answer sent when the reveal fails otherwise. */
static int put_key(struct acs_call *c, json_t *o, int64_t id)
{
    char *pem = NULL;
    struct cc_error err;
    enum cc_err rc = cc_certificate_private_key(cc_req_service(c->req), cc_req_caller(c->req), id,
                                                &pem, &err);
    if (rc == CC_ERR_FORBIDDEN || rc == CC_ERR_NOT_FOUND)
        return 0; /* not this caller's to read, or gone since it was read */
    if (rc) {
        cert_error(c, &err);
        return -1;
    }
    json_object_set_new(o, "Key", json_string(pem));
    OPENSSL_cleanse(pem, strlen(pem));
    cc_free(pem);
    cc_req_add_header(c->req, "Cache-Control", "no-store");
    return 0;
}

void cc_acs_get_user_certificate_detail(struct acs_call *c)
{
    int64_t id;
    int filter;
    if (cert_id(c, &id) || cert_filter(c, &filter))
        return;
    struct cc_certificate *ct = cc_calloc(1, sizeof *ct);
    struct cc_error err;
    struct cc_service *svc = cc_req_service(c->req);
    if (cc_certificate_get(svc, cc_req_caller(c->req), id, ct, &err)) {
        cert_error(c, &err);
        goto out;
    }
    json_t *o = render_detail(ct, cc_service_now(svc));
    if (!filter && ct->pem)
        json_object_set_new(o, "Cert", json_string(ct->pem));
    if (!filter && ct->has_private_key && put_key(c, o, id)) {
        json_decref(o);
        goto out;
    }
    answer_request_id(c, o);
out:
    cc_certificate_clear(ct);
    cc_free(ct);
}

/* ---- DeleteUserCertificate ------------------------------------------------------------- */
void cc_acs_delete_user_certificate(struct acs_call *c)
{
    int64_t id;
    if (cert_id(c, &id))
        return;
    struct cc_error err;
    if (cc_certificate_delete(cc_req_service(c->req), cc_req_caller(c->req), id, &err))
        cert_error(c, &err);
    else
        answer_request_id(c, json_object());
}

/* ---- what certcontacts does not offer ------------------------------------------------- */
/* Every action of @alicloud/cas20200407 3.0.0 (tests/package.json) that
 * certcontacts does not answer, with what it offers instead; the table in
 * docs/alibaba-compat.md says the same for people. */
static const struct {
    const char *action;
    const char *instead;
} unsupported[] = {
    {"CancelCertificateForPackageRequest",
     "Revoke a certificate with POST /v1/certificates/{id}/revoke."},
    {"CreateCsr", "Make the key and CSR with openssl; CreateCertificateWithCsrRequest or "
                  "POST /v1/applications take the CSR."},
    {"CreateDeploymentJob", "certcontacts deploys nothing."},
    {"Decrypt", "certcontacts does no cryptography with stored keys."},
    {"DeleteCsr", "certcontacts keeps no CSRs apart from their applications."},
    {"DeleteDeploymentJob", "certcontacts deploys nothing."},
    {"DeletePCACert", "Delete a certificate with DeleteUserCertificate or "
                      "DELETE /v1/certificates/{id}."},
    {"DeleteWorkerResource", "certcontacts deploys nothing."},
    {"DescribeCloudResourceStatus", "certcontacts knows no cloud resources."},
    {"DescribeDeploymentJob", "certcontacts deploys nothing."},
    {"DescribeDeploymentJobStatus", "certcontacts deploys nothing."},
    {"DescribePackageState", "certcontacts sells no certificate packages."},
    {"Encrypt", "certcontacts does no cryptography with stored keys."},
    {"GetCertWarehouseQuota", "certcontacts has no certificate quota."},
    {"GetCsrDetail", "An application's CSR is in GET /v1/applications/{id}."},
    {"ListCert", "List certificates with ListUserCertificateOrder (OrderType CERT or UPLOAD) "
                 "or GET /v1/certificates."},
    {"ListCertWarehouse", "List certificates with ListUserCertificateOrder (OrderType CERT or "
                          "UPLOAD) or GET /v1/certificates."},
    {"ListCloudAccess", "certcontacts knows no cloud accounts."},
    {"ListCloudResources", "certcontacts knows no cloud resources."},
    {"ListCsr", "Applications and their CSRs are in GET /v1/applications."},
    {"ListDeploymentJob", "certcontacts deploys nothing."},
    {"ListDeploymentJobCert", "certcontacts deploys nothing."},
    {"ListDeploymentJobResource", "certcontacts deploys nothing."},
    {"ListWorkerResource", "certcontacts deploys nothing."},
    {"MoveResourceGroup", "certcontacts has no resource groups."},
    {"RenewCertificateOrderForPackageRequest",
     "Apply again with CreateCertificateRequest or POST /v1/applications; the new "
     "certificate supersedes the old one."},
    {"Sign", "certcontacts does no cryptography with stored keys."},
    {"UpdateCsr", "certcontacts keeps no CSRs apart from their applications."},
    {"UpdateDeploymentJob", "certcontacts deploys nothing."},
    {"UpdateDeploymentJobStatus", "certcontacts deploys nothing."},
    {"UpdateWorkerResourceStatus", "certcontacts deploys nothing."},
    {"UploadCsr", "certcontacts keeps no CSRs apart from their applications."},
    {"Verify", "certcontacts does no cryptography with stored keys."},
};

static int unsupported_index(const char *action)
{
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (strcmp(action, unsupported[i].action) == 0)
            return (int)i;
    return -1;
}

int cc_acs_unsupported(const char *action)
{
    return unsupported_index(action) >= 0;
}

void cc_acs_answer_unsupported(struct acs_call *c)
{
    const char *action = param(c, "Action");
    if (!action)
        action = cc_req_header(c->req, "x-acs-action");
    int i = action ? unsupported_index(action) : -1;
    cc_acs_fail(c->req, CC_ERR_UNSUPPORTED_OPERATION, NULL,
                "The specified action is not supported: certcontacts does not offer %s. %s See "
                "docs/alibaba-compat.md.",
                i >= 0 ? unsupported[i].action : "it", i >= 0 ? unsupported[i].instead : "");
}
