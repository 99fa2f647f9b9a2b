/*
 * exports.c — every contact of an account as CSV or JSON lines, a page at a
 * time (GET /v1/contacts/export streams what cc_export_next writes).
 *
 * Pages come in keyset order (id after the last one sent), CC_EXPORT_PAGE
 * contacts each, so the memory an export holds stays the same whatever the
 * account holds, and a contact added or removed meanwhile never shifts a
 * page. Addresses and the ID number are masked as the contact list shows
 * them; full=true (admin only, audited once as contact.export_all) writes
 * them in full, and that CSV imports back unchanged (its header is the
 * import's own column names).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "service/service.h"
#include "service/service_int.h"
#include "util/util.h"

struct cc_export {
    struct cc_service *svc;
    struct cc_caller caller;
    enum cc_export_format format;
    int full;
    int started, done;
    int64_t after_id;
    int64_t rows;
    struct cc_contact *page; /* CC_EXPORT_PAGE of them */
};

static const char header[] =
    "id,name,email,mobile,id_card,language,email_verified,mobile_verified,created_at\r\n";

static enum cc_err audit_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    const struct cc_export *x = arg;
    json_t *ch = json_object();
    svc_change_str(ch, "format", SVC_PII_NONE, NULL,
                   x->format == CC_EXPORT_JSONL ? "jsonl" : "csv");
    svc_change_int(ch, "full", 0, 0, 1, 1);
    return svc_audit(tx, &x->caller, CC_AUDIT_CONTACT_EXPORT_ALL, x->caller.account_id, ch, err);
}

enum cc_err cc_export_open(struct cc_service *svc, const struct cc_caller *caller,
                           enum cc_export_format format, int full, struct cc_export **out,
                           struct cc_error *err)
{
    *out = NULL;
    enum cc_err rc = cc_service_require(caller, full ? CC_ROLE_ADMIN : CC_ROLE_READONLY, err);
    if (rc) {
        if (full && rc == CC_ERR_FORBIDDEN)
            return cc_error_set(err, CC_ERR_FORBIDDEN, "Full",
                                "Only an admin may export addresses and ID numbers in full "
                                "(full=true).");
        return rc;
    }
    struct cc_export *x = cc_calloc(1, sizeof *x);
    x->svc = svc;
    x->caller = *caller;
    x->format = format;
    x->full = full;
    if (full && (rc = cc_store_write(svc->store, audit_tx, x, err))) {
        cc_free(x);
        return rc;
    }
    x->page = cc_calloc(CC_EXPORT_PAGE, sizeof *x->page);
    *out = x;
    return CC_OK;
}

void cc_export_close(struct cc_export *x)
{
    if (!x)
        return;
    OPENSSL_cleanse(x->page, CC_EXPORT_PAGE * sizeof *x->page);
    cc_free(x->page);
    cc_free(x);
}

/* s as one RFC 4180 field. */
static void csv_field(struct cc_buf *b, const char *s, int last)
{
    if (strpbrk(s, ",\"\r\n") || (s[0] && (s[0] == ' ' || s[strlen(s) - 1] == ' '))) {
        cc_buf_append(b, "\"", 1);
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                cc_buf_append(b, "\"", 1);
            cc_buf_append(b, p, 1);
        }
        cc_buf_append(b, "\"", 1);
    } else {
        cc_buf_puts(b, s);
    }
    cc_buf_puts(b, last ? "\r\n" : ",");
}

struct page_op {
    struct cc_export *x;
    size_t n;
};

static enum cc_err page_tx(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct page_op *op = arg;
    return cc_tx_contact_page_after(tx, op->x->caller.account_id, op->x->after_id,
                                    CC_EXPORT_PAGE, op->x->page, &op->n, err);
}

/* Writes contact c (as stored) to b. */
static void write_contact(struct cc_export *x, struct cc_contact *c, struct cc_buf *b)
{
    char id_card[CC_IDCARD_LEN + 8] = "";
    if (c->has_id_card) {
        struct cc_error ignored;
        if (!x->full || svc_open(x->svc, AAD_ID_CARD, c->id_card_enc, c->id_card_enc_len,
                                 id_card, sizeof id_card, &ignored))
            cc_strlcpy(id_card, c->id_card_masked, sizeof id_card);
    }
    /* the list's masking, or, in full, the detail view of a caller who sees addresses */
    struct cc_caller shown = x->caller;
    if (x->full)
        shown.mask_addresses = 0;
    svc_contact_view(&shown, x->full ? SVC_VIEW_DETAIL : SVC_VIEW_LIST, c);
    char created[40], idbuf[24];
    cc_time_rfc3339(c->created_at, created, sizeof created);
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    const char *ev = c->email_verified_at ? "true" : "false";
    const char *mv = c->mobile_verified_at ? "true" : "false";
    if (x->format == CC_EXPORT_CSV) {
        csv_field(b, idbuf, 0);
        csv_field(b, c->name, 0);
        csv_field(b, c->has_email ? c->email : "", 0);
        csv_field(b, c->mobile, 0);
        csv_field(b, id_card, 0);
        csv_field(b, c->language, 0);
        csv_field(b, ev, 0);
        csv_field(b, mv, 0);
        csv_field(b, created, 1);
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(c->id));
        json_object_set_new(o, "name", json_string(c->name));
        json_object_set_new(o, "email", c->has_email ? json_string(c->email) : json_null());
        json_object_set_new(o, "mobile", json_string(c->mobile));
        json_object_set_new(o, "id_card", id_card[0] ? json_string(id_card) : json_null());
        json_object_set_new(o, "language", json_string(c->language));
        json_object_set_new(o, "email_verified", json_boolean(c->email_verified_at));
        json_object_set_new(o, "mobile_verified", json_boolean(c->mobile_verified_at));
        json_object_set_new(o, "created_at", json_string(created));
        char *line = json_dumps(o, JSON_COMPACT);
        if (line) {
            cc_buf_puts(b, line);
            cc_buf_puts(b, "\n");
            OPENSSL_cleanse(line, strlen(line));
            free(line);
        }
        json_decref(o);
    }
    OPENSSL_cleanse(id_card, sizeof id_card);
}

int cc_export_next(struct cc_export *x, struct cc_buf *out)
{
    if (x->done)
        return 0;
    if (!x->started) {
        x->started = 1;
        if (x->format == CC_EXPORT_CSV) {
            cc_buf_puts(out, "\xef\xbb\xbf");
            cc_buf_puts(out, header);
        }
        return 1;
    }
    struct page_op op = {x, 0};
    struct cc_error err;
    if (cc_store_read(x->svc->store, page_tx, &op, &err)) {
        cc_log(CC_LOG_ERROR, "export stopped", "error", err.message, NULL);
        x->done = 1;
        return -1;
    }
    for (size_t i = 0; i < op.n; i++) {
        x->after_id = x->page[i].id;
        write_contact(x, &x->page[i], out);
    }
    x->rows += (int64_t)op.n;
    if (op.n < CC_EXPORT_PAGE)
        x->done = 1;
    return op.n > 0 || !x->done ? 1 : 0;
}
