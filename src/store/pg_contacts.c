/*
 * pg_contacts.c — the PostgreSQL side of contacts: their rows and robot
 * webhooks, the keyword search of the contact list, the idempotency keys of
 * contact creation, and the move of a contact's certificate subscriptions to
 * another. Statement for statement the twin of sqlite_contacts.c.
 *
 * The search: SQLite matches keywords of three characters and more in its
 * trigram FTS5 index and shorter ones in its index of each contact's
 * characters and pairs of characters (contacts_grams), which finds what
 * instr() over the search text finds. Here a keyword of three characters and more is a LIKE
 * substring pattern (its % _ \ escaped), which the pg_trgm GIN index
 * contacts_search_trgm serves; a shorter one is strpos() (instr()), which
 * the covering index contacts_account_search serves — a pattern of one or
 * two characters has no trigram and would walk the whole GIN index. Both
 * match a substring of the lower-cased search_text, as FTS5's phrase and
 * instr() do. Writes run inside cc_store_write's transaction (the tx
 * argument is the connection); reads on a pooled connection, in one
 * REPEATABLE READ snapshot (SQLite: a read transaction).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

/* This file's statements, by their index in stmt_sql. */
enum stmt_id {
    ST_CONTACT_GET,
    ST_CONTACT_COUNT,
    ST_CONTACT_INSERT,
    ST_CONTACT_UPDATE,
    ST_CONTACT_DELETE,
    ST_WEBHOOKS_GET,
    ST_WEBHOOKS_DELETE,
    ST_WEBHOOK_INSERT,
    ST_LIST_ALL,
    ST_LIST_SHORT_COUNT,
    ST_LIST_SHORT,
    ST_LIST_LIKE_COUNT,
    ST_LIST_LIKE,
    ST_LIST_LIKE2_COUNT,
    ST_LIST_LIKE2,
    ST_LIST_NAMES_COUNT,
    ST_LIST_NAMES,
    ST_IDEM_GET,
    ST_IDEM_PUT,
    ST_SUBS_COPY,
    ST_SUBS_DELETE,
    ST_COUNT
};

/* SQLite's NAMES_MATCH with instr() -> strpos(), char(10) -> chr(10) and
 * substr(x, -n) -> right(x, n) (both give all of x when n is longer). */
#define NAMES_MATCH                                                                        \
    "(strpos(substr(search_text, 1, strpos(search_text, chr(10))), $2::text) > 0 OR "      \
    "strpos(search_text, chr(10) || $3::text || chr(10)) > 0 OR "                          \
    "right(search_text, length($4::text) + 1) = chr(10) || $4::text)"

/* A substring pattern's parameter: the keyword with % _ \ escaped (like_escape).
 * ILIKE, not LIKE: FTS5's trigram tokenizer folds the case of every letter, so on
 * SQLite "éric" finds "Éric" (search_text is lower-cased in ASCII only); ILIKE folds
 * as the database's LC_CTYPE does (a C locale: ASCII only). pg_trgm serves both. */
#define LIKE_K(n) "search_text ILIKE '%' || $" #n "::text || '%' ESCAPE '\\'"

/* Statements, prepared once per connection (by their address). */
static const char *const stmt_sql[ST_COUNT] = {
    [ST_CONTACT_GET] = "SELECT " CC_CONTACT_COLS " FROM contacts WHERE account_id = $1 AND id = $2",
    [ST_CONTACT_COUNT] = "SELECT contact_count FROM accounts WHERE id = $1",
    [ST_CONTACT_INSERT] =
        "INSERT INTO contacts(account_id, name, email, email_norm, email_verified_at, mobile, "
        "mobile_verified_at, id_card_enc, id_card_masked, language, version, created_at, "
        "updated_at, search_text) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
        "$13, $14) RETURNING id",
    /* SQLite's ?12 (created_at) is not written: PostgreSQL needs every parameter used,
     * so the update's are renumbered from there on (see bind_contact). */
    [ST_CONTACT_UPDATE] =
        "UPDATE contacts SET name = $2, email = $3, email_norm = $4, email_verified_at = $5, "
        "mobile = $6, mobile_verified_at = $7, id_card_enc = $8, id_card_masked = $9, "
        "language = $10, version = $11, updated_at = $12, search_text = $13, "
        "email_broken = nullif($15::text, ''), mobile_broken = nullif($16::text, '') "
        "WHERE account_id = $1 AND id = $14",
    [ST_CONTACT_DELETE] = "DELETE FROM contacts WHERE account_id = $1 AND id = $2",
    [ST_WEBHOOKS_GET] = "SELECT w.kind, w.url, w.secret_enc, w.id, w.mention_mobile, "
                        "coalesce(w.broken_reason, ''), coalesce(w.broken_at, 0), u.url_masked, "
                        "u.url_enc FROM contact_webhooks w LEFT JOIN contact_webhook_urls u "
                        "ON u.webhook_id = w.id WHERE w.contact_id = $1 ORDER BY w.position",
    /* A webhook whose URL stays keeps its row (its id, and what hangs on it).
     * SQLite's json_each -> jsonb_array_elements_text. */
    [ST_WEBHOOKS_DELETE] = "DELETE FROM contact_webhooks WHERE contact_id = $1 AND url NOT IN "
                           "(SELECT jsonb_array_elements_text($2::jsonb))",
    [ST_WEBHOOK_INSERT] = "INSERT INTO contact_webhooks(contact_id, position, kind, url, "
                          "secret_enc, created_at, mention_mobile) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                          "ON CONFLICT (contact_id, url) DO UPDATE SET position = excluded.position, "
                          "kind = excluded.kind, secret_enc = excluded.secret_enc, "
                          "mention_mobile = excluded.mention_mobile RETURNING id",
    /* "id > 0": the predicate of the covering index contacts_account_search (migration
     * 0030), which a query must state to take it. */
    [ST_LIST_ALL] = "SELECT " CC_CONTACT_COLS " FROM contacts WHERE account_id = $1 AND id > 0 "
                    "ORDER BY id DESC LIMIT $2 OFFSET $3",
    /* Short keywords: a strpos() scan of the covering index (SQLite's before
     * its migration 0027). */
    /* A keyword's count stops one past the query's count_max (its last parameter). */
    [ST_LIST_SHORT_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM contacts "
                            "WHERE account_id = $1 AND id > 0 AND strpos(search_text, $2::text) > 0 "
                            "LIMIT $3) s",
    [ST_LIST_SHORT] = "SELECT " CC_CONTACT_COLS " FROM contacts WHERE id IN ("
                      "SELECT id FROM contacts "
                      "WHERE account_id = $1 AND id > 0 AND strpos(search_text, $2::text) > 0 "
                      "ORDER BY id DESC LIMIT $3 OFFSET $4) ORDER BY id DESC",
    /* FTS5 MATCH "keyword" -> ILIKE '%keyword%' on the trigram GIN index. */
    [ST_LIST_LIKE_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM contacts WHERE account_id = $1 "
                           "AND id > 0 AND " LIKE_K(2) " LIMIT $3) s",
    [ST_LIST_LIKE] = "SELECT " CC_CONTACT_COLS " FROM contacts WHERE account_id = $1 AND id > 0 AND "
                     LIKE_K(2) " ORDER BY id DESC LIMIT $3 OFFSET $4",
    /* FTS5 MATCH "keyword" OR "phone": either form of a phone number. */
    /* (the phone is $3, so LIMIT and OFFSET are $4 and $5 here) */
    [ST_LIST_LIKE2_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM contacts WHERE account_id = $1 "
                            "AND id > 0 AND (" LIKE_K(2) " OR " LIKE_K(3) ") LIMIT $4) s",
    [ST_LIST_LIKE2] = "SELECT " CC_CONTACT_COLS " FROM contacts WHERE account_id = $1 AND id > 0 AND "
                      "(" LIKE_K(2) " OR " LIKE_K(3) ") ORDER BY id DESC LIMIT $4 OFFSET $5",
    /* A caller who sees addresses masked: the name line of search_text (name, email,
     * mobile on three lines; no line holds a newline) contains the keyword, or the email
     * line or the mobile line is exactly the address. */
    [ST_LIST_NAMES_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM contacts WHERE account_id = $1 "
                            "AND id > 0 AND " NAMES_MATCH " LIMIT $5) s",
    [ST_LIST_NAMES] = "SELECT " CC_CONTACT_COLS " FROM contacts WHERE id IN ("
                      "SELECT id FROM contacts WHERE account_id = $1 AND id > 0 AND " NAMES_MATCH
                      " ORDER BY id DESC LIMIT $5 OFFSET $6) ORDER BY id DESC",
    [ST_IDEM_GET] = "SELECT request_hash, contact_id FROM idempotency_keys "
                    "WHERE account_id = $1 AND key = $2",
    [ST_IDEM_PUT] = "INSERT INTO idempotency_keys(account_id, key, request_hash, contact_id, "
                    "created_at) VALUES ($1, $2, $3, $4, $5)",
    /* A contact's subscriptions to another contact: copied (once), then dropped. */
    [ST_SUBS_COPY] = "INSERT INTO certificate_subscribers(certificate_id, contact_id) "
                     "SELECT certificate_id, $2 FROM certificate_subscribers WHERE contact_id = $1 "
                     "ON CONFLICT DO NOTHING",
    [ST_SUBS_DELETE] = "DELETE FROM certificate_subscribers WHERE contact_id = $1",
};

static PGresult *run(struct pgc *c, enum stmt_id id, const struct pgp *p, const char *what,
                     struct cc_error *err)
{
    return cc_pg_exec(c, stmt_sql[id], p, what, err);
}

static void read_contact_row(const PGresult *r, int row, struct cc_contact *c)
{
    memset(c, 0, sizeof *c);
    c->id = cc_pg_get_i64(r, row, 0);
    c->account_id = cc_pg_get_i64(r, row, 1);
    cc_pg_get_text(r, row, 2, c->name, sizeof c->name);
    c->has_email = !cc_pg_isnull(r, row, 3);
    cc_pg_get_text(r, row, 3, c->email, sizeof c->email);
    cc_pg_get_text(r, row, 4, c->email_norm, sizeof c->email_norm);
    c->email_verified_at = cc_pg_get_i64(r, row, 5);
    cc_pg_get_text(r, row, 6, c->mobile, sizeof c->mobile);
    c->mobile_verified_at = cc_pg_get_i64(r, row, 7);
    c->has_id_card = !cc_pg_isnull(r, row, 8);
    cc_pg_get_blob(r, row, 8, c->id_card_enc, sizeof c->id_card_enc, &c->id_card_enc_len);
    cc_pg_get_text(r, row, 9, c->id_card_masked, sizeof c->id_card_masked);
    cc_pg_get_text(r, row, 10, c->language, sizeof c->language);
    c->version = cc_pg_get_i64(r, row, 11);
    c->created_at = cc_pg_get_i64(r, row, 12);
    c->updated_at = cc_pg_get_i64(r, row, 13);
    cc_pg_get_text(r, row, 14, c->email_broken, sizeof c->email_broken);
    cc_pg_get_text(r, row, 15, c->mobile_broken, sizeof c->mobile_broken);
}

static void read_webhook_row(const PGresult *r, int row, struct cc_webhook *w)
{
    char kind[16];
    cc_pg_get_text(r, row, 0, kind, sizeof kind);
    w->kind = cc_webhook_kind_parse(kind);
    cc_pg_get_text(r, row, 1, w->url_tag, sizeof w->url_tag);
    if (cc_pg_isnull(r, row, 8)) {
        /* not sealed yet: url holds the URL itself; only its mask leaves */
        char plain[CC_URL_MAX + 1];
        cc_pg_get_text(r, row, 1, plain, sizeof plain);
        cc_mask_webhook_url(plain, w->url, sizeof w->url);
        OPENSSL_cleanse(plain, sizeof plain);
        w->url_tag[0] = '\0';
        w->url_enc_len = 0;
    } else {
        cc_pg_get_text(r, row, 7, w->url, sizeof w->url);
        cc_pg_get_blob(r, row, 8, w->url_enc, sizeof w->url_enc, &w->url_enc_len);
    }
    w->has_secret = !cc_pg_isnull(r, row, 2);
    cc_pg_get_blob(r, row, 2, w->secret_enc, sizeof w->secret_enc, &w->secret_enc_len);
    w->id = cc_pg_get_i64(r, row, 3);
    w->mention_mobile = (int)cc_pg_get_i64(r, row, 4);
    cc_pg_get_text(r, row, 5, w->broken, sizeof w->broken);
    w->broken_at = cc_pg_get_i64(r, row, 6);
}

static enum cc_err load_webhooks(struct pgc *c, struct cc_contact *ct, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, ct->id);
    PGresult *r = run(c, ST_WEBHOOKS_GET, &p, "reading webhooks", err);
    if (!r)
        return CC_ERR_STORE;
    ct->n_webhooks = 0;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && ct->n_webhooks < CC_WEBHOOKS_MAX; i++)
        read_webhook_row(r, i, &ct->webhooks[ct->n_webhooks++]);
    PQclear(r);
    return CC_OK;
}

static enum cc_err contact_get(struct pgc *c, int64_t account_id, int64_t id,
                               struct cc_contact *out, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    PGresult *r = run(c, ST_CONTACT_GET, &p, "reading a contact", err);
    if (!r)
        return CC_ERR_STORE;
    int found = PQntuples(r) == 1;
    if (found)
        read_contact_row(r, 0, out);
    PQclear(r);
    if (!found)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The contact does not exist.");
    return load_webhooks(c, out, err);
}

/* ---- reads -------------------------------------------------------------------- */
static enum cc_err read_contact_get(void *impl, int64_t account_id, int64_t id,
                                    struct cc_contact *out, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    int own;
    enum cc_err rc = cc_pg_snapshot_begin(c, &own, err);
    if (!rc)
        rc = contact_get(c, account_id, id, out, err);
    cc_pg_snapshot_end(c, own);
    cc_pg_release(c);
    return rc;
}

/* A keyword as a LIKE pattern's inside (FTS5: a phrase "…" with inner quotes
 * doubled): % _ and \ escaped with \. */
static void like_escape(const char *kw, char *out, size_t outsz)
{
    size_t n = 0;
    for (const char *p = kw; *p && n + 2 < outsz; p++) {
        if (*p == '%' || *p == '_' || *p == '\\')
            out[n++] = '\\';
        out[n++] = *p;
    }
    out[n] = '\0';
}

/* The only row's count into *total (cc_sq_count): a missing row is an error. */
static enum cc_err count_result(struct pgc *c, enum stmt_id id, const struct pgp *p,
                                int64_t *total, struct cc_error *err)
{
    *total = 0;
    PGresult *r = run(c, id, p, "counting contacts", err);
    if (!r)
        return CC_ERR_STORE;
    int found = PQntuples(r) == 1;
    if (found)
        *total = cc_pg_get_i64(r, 0, 0);
    PQclear(r);
    if (!found)
        return cc_error_set(err, CC_ERR_STORE, NULL, "database error in %s: no row",
                            "counting contacts");
    return CC_OK;
}

/* arg (and arg2): a keyword search's, whose count stops at limit (the
 * statement's last parameter). */
static enum cc_err count_query(struct pgc *c, enum stmt_id id, int64_t account_id,
                               const char *arg, const char *arg2, int64_t limit,
                               int64_t *total, struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    if (arg)
        cc_pg_text(&p, arg);
    if (arg2)
        cc_pg_text(&p, arg2);
    if (arg)
        cc_pg_i64(&p, limit);
    return count_result(c, id, &p, total, err);
}

static void bind_names(struct pgp *p, const struct cc_contact_query *q, const char *kw)
{
    cc_pg_params(p);
    cc_pg_i64(p, q->account_id);
    cc_pg_text(p, kw);
    cc_pg_text(p, q->email_exact);
    cc_pg_text(p, q->mobile_exact);
}

/* Reads r's rows into out's page, then each contact's webhooks. */
static enum cc_err read_page(struct pgc *c, PGresult *r,
                             struct cc_contact_page *out, struct cc_error *err)
{
    int rows = PQntuples(r);
    for (int i = 0; i < rows && out->n < out->cap; i++)
        read_contact_row(r, i, &out->items[out->n++]);
    PQclear(r);
    for (size_t i = 0; i < out->n; i++) {
        enum cc_err rc = load_webhooks(c, &out->items[i], err);
        if (rc)
            return rc;
    }
    return CC_OK;
}

/* The search of a caller who sees addresses masked (q->names_only); kw is
 * the keyword lower-cased. */
static enum cc_err list_names(struct pgc *c, const struct cc_contact_query *q, const char *kw,
                              struct cc_contact_page *out, struct cc_error *err)
{
    struct pgp p;
    bind_names(&p, q, kw);
    cc_pg_i64(&p, cc_store_count_limit(q));
    enum cc_err rc = count_result(c, ST_LIST_NAMES_COUNT, &p, &out->total, err);
    if (rc)
        return rc;
    cc_store_count_cut(q, out);
    int64_t offset;
    if (!cc_store_contact_page_open(q, out, &offset))
        return CC_OK;
    bind_names(&p, q, kw);
    cc_pg_i64(&p, q->page_size);
    cc_pg_i64(&p, offset);
    PGresult *r = run(c, ST_LIST_NAMES, &p, "listing contacts", err);
    if (!r)
        return CC_ERR_STORE;
    return read_page(c, r, out, err);
}

static enum cc_err list_locked(struct pgc *c, const struct cc_contact_query *q,
                               struct cc_contact_page *out, struct cc_error *err)
{
    char kw[4 * CC_KEYWORD_MAX_CHARS + 1] = "", pattern[2 * sizeof kw];
    char phone[2 * sizeof kw + 1] = "";
    size_t kwchars = 0;
    if (cc_store_keyword(q->keyword, kw, sizeof kw))
        kwchars = cc_utf8_len(kw, strlen(kw));
    enum stmt_id count_id, page_id;
    const char *arg = NULL, *arg2 = NULL;
    if (kwchars == 0) {
        count_id = ST_CONTACT_COUNT;
        page_id = ST_LIST_ALL;
    } else if (kwchars < 3) {
        count_id = ST_LIST_SHORT_COUNT;
        page_id = ST_LIST_SHORT;
        arg = kw;
    } else {
        like_escape(kw, pattern, sizeof pattern);
        count_id = ST_LIST_LIKE_COUNT;
        page_id = ST_LIST_LIKE;
        arg = pattern;
        if (q->phone && q->phone[0]) {
            /* either form of a phone number: as typed, or as the mobile is stored
             * (FTS5 matched the phrase case-insensitively: lower-cased here) */
            char lowered[sizeof phone];
            cc_strlcpy(lowered, q->phone, sizeof lowered);
            cc_ascii_lower(lowered);
            like_escape(lowered, phone, sizeof phone);
            count_id = ST_LIST_LIKE2_COUNT;
            page_id = ST_LIST_LIKE2;
            arg2 = phone;
        }
    }
    if (kwchars && q->names_only)
        return list_names(c, q, kw, out, err);
    enum cc_err rc = count_query(c, count_id, q->account_id, arg, arg2, cc_store_count_limit(q),
                                 &out->total, err);
    if (rc)
        return rc;
    cc_store_count_cut(q, out);
    int64_t offset;
    if (!cc_store_contact_page_open(q, out, &offset))
        return CC_OK;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, q->account_id);
    if (arg)
        cc_pg_text(&p, arg);
    if (arg2)
        cc_pg_text(&p, arg2);
    cc_pg_i64(&p, q->page_size);
    cc_pg_i64(&p, offset);
    PGresult *r = run(c, page_id, &p, "listing contacts", err);
    if (!r)
        return CC_ERR_STORE;
    return read_page(c, r, out, err);
}

static enum cc_err read_contact_list(void *impl, const struct cc_contact_query *q,
                                     struct cc_contact_page *out, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    memset(out, 0, sizeof *out);
    int own;
    enum cc_err rc = cc_pg_snapshot_begin(c, &own, err);
    if (!rc)
        rc = list_locked(c, q, out, err);
    cc_pg_snapshot_end(c, own);
    cc_pg_release(c);
    if (rc)
        cc_contact_page_free(out);
    return rc;
}

/* ---- writes (on the transaction's connection) ----------------------------------- */
static enum cc_err tx_contact_get(void *tx, int64_t account_id, int64_t id,
                                  struct cc_contact *out, struct cc_error *err)
{
    return contact_get(tx, account_id, id, out, err);
}

static enum cc_err tx_contact_count(void *tx, int64_t account_id, int64_t *n,
                                    struct cc_error *err)
{
    return count_query(tx, ST_CONTACT_COUNT, account_id, NULL, NULL, 0, n, err);
}

/* contacts_ai (migration 0030) leaves the count alone while the transaction's
 * certcontacts.count_deferred is on. */
static enum cc_err tx_contact_count_defer(void *tx, struct cc_error *err)
{
    static const char sql[] = "SELECT set_config('certcontacts.count_deferred', 'on', true)";
    return cc_pg_do(tx, sql, NULL, "deferring the contact count", err);
}

static enum cc_err tx_contact_count_settle(void *tx, int64_t account_id, int64_t inserted,
                                           struct cc_error *err)
{
    static const char sql[] =
        "WITH done AS (SELECT set_config('certcontacts.count_deferred', 'off', true)) "
        "UPDATE accounts SET contact_count = contact_count + $2 FROM done WHERE id = $1";
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, inserted);
    return cc_pg_do(tx, sql, &p, "settling the contact count", err);
}

/* Binds the columns shared by INSERT and UPDATE: $1..$11, then created_at
 * ($12, the insert only), updated_at and search. */
static void bind_contact(struct pgp *p, const struct cc_contact *c, const char *search,
                         int with_created)
{
    cc_pg_params(p);
    cc_pg_i64(p, c->account_id);
    cc_pg_text(p, c->name);
    cc_pg_text(p, c->has_email ? c->email : NULL);
    cc_pg_text(p, c->has_email ? c->email_norm : NULL);
    cc_pg_opt_i64(p, c->email_verified_at);
    cc_pg_text(p, c->mobile);
    cc_pg_opt_i64(p, c->mobile_verified_at);
    if (c->has_id_card) {
        cc_pg_blob(p, c->id_card_enc, c->id_card_enc_len);
        cc_pg_text(p, c->id_card_masked);
    } else {
        cc_pg_null(p);
        cc_pg_null(p);
    }
    cc_pg_text(p, c->language);
    cc_pg_i64(p, c->version);
    if (with_created)
        cc_pg_i64(p, c->created_at);
    cc_pg_i64(p, c->updated_at);
    cc_pg_text(p, search);
}

/* Turns a unique violation into AlreadyExists naming the field: the unique
 * indexes contacts_account_email and contacts_account_mobile (SQLite: the
 * columns its message names). */
static enum cc_err contact_write_error(struct pgc *c, struct cc_error *err)
{
    const char *constraint;
    if (cc_pg_unique_violation(c, &constraint)) {
        if (!strcmp(constraint, "contacts_account_email"))
            return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Email",
                                "Another contact in this account already has this email address.");
        if (!strcmp(constraint, "contacts_account_mobile"))
            return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Mobile",
                                "Another contact in this account already has this mobile number.");
    }
    return err->code;
}

/* Writes webhook id's sealed URL and its mask. */
static enum cc_err put_url(struct pgc *c, int64_t id, const char *masked, const uint8_t *enc,
                           size_t enc_len, struct cc_error *err)
{
    static const char sql[] =
        "INSERT INTO contact_webhook_urls(webhook_id, url_masked, url_enc) VALUES ($1, $2, $3) "
        "ON CONFLICT (webhook_id) DO UPDATE SET url_masked = excluded.url_masked, "
        "url_enc = excluded.url_enc";
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, id);
    cc_pg_text(&p, masked);
    cc_pg_blob(&p, enc, enc_len);
    return cc_pg_do(c, sql, &p, "saving a webhook's URL", err);
}

/* Saves ct's webhooks in order, setting their ids: a URL already on the
 * contact (the same url_tag) keeps its row, a new one gets a new row. Every
 * webhook has its url_tag, url_enc and masked url set (the service seals). */
static enum cc_err upsert_webhooks(struct pgc *c, struct cc_contact *ct, struct cc_error *err)
{
    for (int i = 0; i < ct->n_webhooks; i++) {
        struct cc_webhook *w = &ct->webhooks[i];
        if (!w->url_tag[0] || !w->url_enc_len)
            return cc_error_set(err, CC_ERR_INTERNAL, NULL, "a robot URL to save is not sealed");
        struct pgp p;
        cc_pg_params(&p);
        cc_pg_i64(&p, ct->id);
        cc_pg_i64(&p, i);
        cc_pg_text(&p, cc_webhook_kind_name(w->kind));
        cc_pg_text(&p, w->url_tag);
        if (w->has_secret)
            cc_pg_blob(&p, w->secret_enc, w->secret_enc_len);
        else
            cc_pg_null(&p);
        cc_pg_i64(&p, ct->updated_at);
        cc_pg_i64(&p, w->mention_mobile);
        enum cc_err rc = cc_pg_one_i64(c, stmt_sql[ST_WEBHOOK_INSERT], &p, &w->id,
                                       "saving a webhook", err);
        if (rc == CC_ERR_NOT_FOUND)
            return cc_error_set(err, CC_ERR_STORE, NULL, "database error in %s: no row",
                                "saving a webhook");
        if (rc)
            return rc;
        rc = put_url(c, w->id, w->url, w->url_enc, w->url_enc_len, err);
        if (rc)
            return rc;
    }
    return CC_OK;
}

static enum cc_err tx_contact_insert(void *tx, struct cc_contact *ct, struct cc_error *err)
{
    struct pgc *c = tx;
    char search[CC_NAME_MAX_BYTES + CC_EMAIL_MAX + CC_MOBILE_MAX + 8];
    cc_store_search_text(ct, search, sizeof search);
    struct pgp p;
    bind_contact(&p, ct, search, 1);
    /* SQLite: last_insert_rowid(); here RETURNING id */
    PGresult *r = run(c, ST_CONTACT_INSERT, &p, "creating a contact", err);
    if (!r)
        return contact_write_error(c, err);
    ct->id = PQntuples(r) == 1 ? cc_pg_get_i64(r, 0, 0) : 0;
    PQclear(r);
    return upsert_webhooks(c, ct, err);
}

static enum cc_err tx_contact_update(void *tx, struct cc_contact *ct, struct cc_error *err)
{
    struct pgc *c = tx;
    char search[CC_NAME_MAX_BYTES + CC_EMAIL_MAX + CC_MOBILE_MAX + 8];
    cc_store_search_text(ct, search, sizeof search);
    struct pgp p;
    bind_contact(&p, ct, search, 0);
    cc_pg_i64(&p, ct->id);
    cc_pg_text(&p, ct->email_broken);
    cc_pg_text(&p, ct->mobile_broken);
    PGresult *r = run(c, ST_CONTACT_UPDATE, &p, "updating a contact", err);
    if (!r)
        return contact_write_error(c, err);
    int64_t changed = cc_pg_changes(r);
    PQclear(r);
    if (changed == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The contact does not exist.");
    char *keep_json = cc_store_webhooks_keep_json(ct);
    cc_pg_params(&p);
    cc_pg_i64(&p, ct->id);
    cc_pg_text(&p, keep_json ? keep_json : "[]");
    enum cc_err e = cc_pg_do(c, stmt_sql[ST_WEBHOOKS_DELETE], &p, "replacing webhooks", err);
    free(keep_json);
    if (e)
        return e;
    return upsert_webhooks(c, ct, err);
}

static enum cc_err tx_contact_delete(void *tx, int64_t account_id, int64_t id,
                                     struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, id);
    int64_t changed;
    enum cc_err rc = cc_pg_do_n(c, stmt_sql[ST_CONTACT_DELETE], &p, &changed,
                                "deleting a contact", err);
    if (!rc && changed == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The contact does not exist.");
    return rc;
}

static enum cc_err tx_contact_subscriptions_move(void *tx, int64_t from, int64_t to, int64_t *n,
                                                 struct cc_error *err)
{
    struct pgc *c = tx;
    *n = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, from);
    cc_pg_i64(&p, to);
    enum cc_err rc = cc_pg_do(c, stmt_sql[ST_SUBS_COPY], &p, "moving certificate subscriptions",
                              err);
    if (rc)
        return rc;
    cc_pg_params(&p);
    cc_pg_i64(&p, from);
    return cc_pg_do_n(c, stmt_sql[ST_SUBS_DELETE], &p, n, "moving certificate subscriptions",
                      err);
}

static enum cc_err tx_idem_get(void *tx, int64_t account_id, const char *key, char *hash,
                               int64_t *contact_id, struct cc_error *err)
{
    return cc_pg_idem_get(tx, stmt_sql[ST_IDEM_GET], account_id, key, hash, contact_id, err);
}

static enum cc_err tx_idem_put(void *tx, int64_t account_id, const char *key, const char *hash,
                               int64_t contact_id, int64_t now, struct cc_error *err)
{
    return cc_pg_idem_put(tx, stmt_sql[ST_IDEM_PUT], account_id, key, hash, contact_id, now,
                          err);
}

/* ---- erasure -------------------------------------------------------------------------- */
/* The values an erasing statement may use, by SQLite's parameter number:
 * 1 account, 2 contact, 3 normalised email (NULL: none), 4 mobile, 5/6 their
 * masks, 7 the email as given, 8 the mobile without +86. PostgreSQL needs
 * every parameter of a statement used, so each statement lists the ones it
 * takes, in its own $1, $2, ... order. */
enum { ERASE_VALUES = 8 };

static enum cc_err erase_run(struct pgc *c, const char *sql, const int *which, int n,
                             const char *const v[ERASE_VALUES + 1], struct cc_error *err)
{
    struct pgp p;
    cc_pg_params(&p);
    for (int i = 0; i < n; i++)
        cc_pg_text(&p, v[which[i]]);
    return cc_pg_do(c, sql, &p, "erasing a contact's data", err);
}

static enum cc_err tx_contact_erase(void *tx, const struct cc_contact *ct, struct cc_error *err)
{
    static const char sql_idem[] =
        "DELETE FROM idempotency_keys WHERE account_id = $1::bigint AND contact_id = $2::bigint";
    static const int idem_args[] = {1, 2};
    /* codes sent before saving (no contact_id); the contact's own went with its row
     * ($1 account, $2 email, $3 mobile, $4/$5 their masks) */
    static const char sql_verif[] =
        "UPDATE verifications SET target = CASE channel WHEN 'email' THEN $4::text "
        "ELSE $5::text END WHERE account_id = $1::bigint AND contact_id IS NULL AND "
        "((channel = 'email' AND target = $2::text) OR (channel = 'mobile' AND target = $3::text))";
    static const int verif_args[] = {1, 3, 4, 5, 6};
    /* a platform's answer may quote the address it refused */
    static const char sql_attempts[] =
        "UPDATE delivery_attempts SET "
        "reason = replace(replace(replace(replace(reason, coalesce($7::text, chr(1)), $5::text), "
        "coalesce($3::text, chr(1)), $5::text), $4::text, $6::text), $8::text, $6::text), "
        "platform_message = replace(replace(replace(replace(platform_message, "
        "coalesce($7::text, chr(1)), $5::text), coalesce($3::text, chr(1)), $5::text), "
        "$4::text, $6::text), $8::text, $6::text) "
        "WHERE notification_id IN (SELECT id FROM notifications WHERE account_id = $1::bigint "
        "AND contact_id = $2::bigint)";
    static const int attempts_args[] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct pgc *c = tx;
    char em[CC_MASKED_MAX], mm[CC_MASKED_MAX], account[24], id[24];
    const char *national = cc_store_erase_masks(ct, em, mm);
    snprintf(account, sizeof account, "%lld", (long long)ct->account_id);
    snprintf(id, sizeof id, "%lld", (long long)ct->id);
    const char *const v[ERASE_VALUES + 1] = {
        NULL, account, id, ct->has_email ? ct->email_norm : NULL, ct->mobile, em, mm,
        ct->has_email ? ct->email : NULL, national};
    enum cc_err rc = erase_run(c, sql_idem, idem_args, 2, v, err);
    if (!rc)
        rc = erase_run(c, sql_verif, verif_args, 5, v, err);
    if (!rc)
        rc = erase_run(c, sql_attempts, attempts_args, 8, v, err);
    return rc;
}

/* ---- robots' URLs from before they were sealed ------------------------------------ */
static enum cc_err tx_webhook_unsealed(void *tx, size_t max, struct cc_webhook_plain *out,
                                       size_t *n, struct cc_error *err)
{
    static const char sql[] =
        "SELECT w.id, w.url FROM contact_webhooks w WHERE NOT EXISTS (SELECT 1 FROM "
        "contact_webhook_urls u WHERE u.webhook_id = w.id) ORDER BY w.id LIMIT $1";
    struct pgc *c = tx;
    *n = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, (int64_t)max);
    PGresult *r = cc_pg_exec(c, sql, &p, "reading robots' URLs", err);
    if (!r)
        return CC_ERR_STORE;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < max; i++) {
        out[*n].id = cc_pg_get_i64(r, i, 0);
        cc_pg_get_text(r, i, 1, out[*n].url, sizeof out[*n].url);
        (*n)++;
    }
    PQclear(r);
    return CC_OK;
}

static enum cc_err tx_webhook_seal(void *tx, int64_t id, const char *tag, const char *masked,
                                   const uint8_t *enc, size_t enc_len, struct cc_error *err)
{
    static const char sql[] = "UPDATE contact_webhooks SET url = $2 WHERE id = $1";
    struct pgc *c = tx;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, id);
    cc_pg_text(&p, tag);
    enum cc_err rc = cc_pg_do(c, sql, &p, "sealing a robot's URL", err);
    return rc ? rc : put_url(c, id, masked, enc, enc_len, err);
}

static enum cc_err tx_contact_holder(void *tx, int64_t account_id, int64_t except_id,
                                     const char *email_norm, const char *mobile,
                                     struct cc_contact_ref *out, struct cc_error *err)
{
    static const char sql_email[] =
        "SELECT id, name FROM contacts WHERE account_id = $1 AND email_norm = $2 AND id <> $3";
    static const char sql_mobile[] =
        "SELECT id, name FROM contacts WHERE account_id = $1 AND mobile = $2 AND id <> $3";
    struct pgc *c = tx;
    memset(out, 0, sizeof *out);
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_text(&p, email_norm ? email_norm : mobile);
    cc_pg_i64(&p, except_id);
    PGresult *r = cc_pg_exec(c, email_norm ? sql_email : sql_mobile, &p,
                             "finding a contact by its address", err);
    if (!r)
        return CC_ERR_STORE;
    if (PQntuples(r) > 0) {
        out->id = cc_pg_get_i64(r, 0, 0);
        cc_pg_get_text(r, 0, 1, out->name, sizeof out->name);
    }
    PQclear(r);
    return CC_OK;
}

/* Contact ids come from an identity column: the largest is the most recently
 * created (SQLite: AUTOINCREMENT). */
static enum cc_err read_contact_find_id(void *impl, int64_t account_id, const char *email_norm,
                                        const char *mobile, int64_t *id, struct cc_error *err)
{
    static const char sql_match[] =
        "SELECT coalesce((SELECT id FROM contacts WHERE account_id = $1 AND email_norm = $2 "
        "AND mobile = $3), 0)";
    static const char sql_latest[] =
        "SELECT coalesce(max(id), 0) FROM contacts WHERE account_id = $1 AND id > 0";
    *id = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    int match = email_norm && mobile;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    if (match) {
        cc_pg_text(&p, email_norm);
        cc_pg_text(&p, mobile);
    }
    enum cc_err rc = cc_pg_one_i64(c, match ? sql_match : sql_latest, &p, id,
                                   "finding a contact", err);
    if (rc == CC_ERR_NOT_FOUND)
        rc = cc_error_set(err, CC_ERR_STORE, NULL, "database error in %s: no row",
                          "finding a contact");
    cc_pg_release(c);
    return rc;
}

static const char sql_page_after[] = "SELECT " CC_CONTACT_COLS " FROM contacts "
                                    "WHERE account_id = $1 AND id > 0 AND id > $2 ORDER BY id LIMIT $3";

static enum cc_err tx_contact_page_after(void *tx, int64_t account_id, int64_t after_id,
                                         size_t max, struct cc_contact *out, size_t *n,
                                         struct cc_error *err)
{
    struct pgc *c = tx;
    *n = 0;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, after_id);
    cc_pg_i64(&p, (int64_t)max);
    PGresult *r = cc_pg_exec(c, sql_page_after, &p, "reading a page of contacts", err);
    if (!r)
        return err->code;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < max; i++)
        read_contact_row(r, i, &out[(*n)++]);
    PQclear(r);
    return CC_OK;
}

const struct cc_store_contact_ops cc_pg_contact_ops = {CC_STORE_CONTACT_OPS(CC_STORE_OP_INIT)};
