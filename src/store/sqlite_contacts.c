/*
 * sqlite_contacts.c — the SQLite side of contacts: their rows and robot
 * webhooks, the keyword search of the contact list (a trigram FTS5 index for
 * three characters and more, one of each character and pair of characters
 * below that: sqlite_grams.c), the idempotency keys of contact creation, and
 * the move of a contact's certificate subscriptions to another. Writes run inside the
 * writer's transactions (sqlite_writer.c); reads on the calling thread's
 * read connection (sqlite_conn.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "store/sqlite_int.h"
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
    ST_SOLE_ACCOUNT,
    ST_LIST_FTS_COUNT,
    ST_LIST_FTS,
    ST_LIST_FTS_SOLE_COUNT,
    ST_LIST_FTS_SOLE,
    ST_LIST_FTS_SOLE_IDS,
    ST_LIST_FTS_SOLE_IDS_ASC,
    ST_LIST_GRAMS_COUNT,
    ST_LIST_GRAMS,
    ST_LIST_GRAMS_SOLE_COUNT,
    ST_LIST_GRAMS_SOLE,
    ST_LIST_GRAMS_SOLE_IDS,
    ST_LIST_NAMES_COUNT,
    ST_LIST_NAMES,
    ST_IDEM_GET,
    ST_IDEM_PUT,
    ST_SUBS_COPY,
    ST_SUBS_DELETE,
    ST_COUNT
};

#define NAMES_MATCH                                                                        \
    "(instr(substr(search_text, 1, instr(search_text, char(10))), ?2) > 0 OR "             \
    "instr(search_text, char(10) || ?3 || char(10)) > 0 OR "                               \
    "substr(search_text, -length(?4) - 1) = char(10) || ?4)"

/* A keyword search through FTS5 table T: the trigram index contacts_fts (3
 * characters and more) or the short keyword index contacts_grams (1 and 2,
 * migration 0027); ?2 is the MATCH phrase. */
#define KW_COUNT(T)                                                                        \
    "SELECT count(*) FROM (SELECT 1 FROM " T " CROSS JOIN contacts c "                     \
    "INDEXED BY contacts_id_account ON c.id = " T ".rowid "                                \
    "WHERE " T " MATCH ?2 AND c.account_id = ?1 LIMIT ?3)"
#define KW_PAGE(T)                                                                         \
    "SELECT " CC_CONTACT_COLS " FROM contacts WHERE id IN ("                               \
    "SELECT " T ".rowid FROM " T " CROSS JOIN contacts c "                                 \
    "INDEXED BY contacts_id_account ON c.id = " T ".rowid "                                \
    "WHERE " T " MATCH ?2 AND c.account_id = ?1 "                                          \
    "ORDER BY " T ".rowid DESC LIMIT ?3 OFFSET ?4) ORDER BY id DESC"
#define KW_SOLE_IDS(T) "SELECT rowid FROM " T " WHERE " T " MATCH ?1 ORDER BY rowid DESC LIMIT ?2"
#define KW_SOLE_IDS_ASC(T) "SELECT rowid FROM " T " WHERE " T " MATCH ?1 ORDER BY rowid LIMIT ?2"
#define KW_SOLE_COUNT(T)                                                                   \
    "SELECT count(*) FROM (SELECT 1 FROM " T " WHERE " T " MATCH ?2 LIMIT ?3)"
#define KW_SOLE(T)                                                                         \
    "SELECT " CC_CONTACT_COLS " FROM contacts WHERE account_id = ?1 AND id IN ("           \
    "SELECT rowid FROM " T " WHERE " T " MATCH ?2 "                                        \
    "ORDER BY rowid DESC LIMIT ?3 OFFSET ?4) ORDER BY id DESC"

/* Statements, prepared once per connection. */
static const char *const stmt_sql[ST_COUNT] = {
    [ST_CONTACT_GET] = "SELECT " CC_CONTACT_COLS " FROM contacts WHERE account_id = ?1 AND id = ?2",
    [ST_CONTACT_COUNT] = "SELECT contact_count FROM accounts WHERE id = ?1",
    [ST_CONTACT_INSERT] =
        "INSERT INTO contacts(account_id, name, email, email_norm, email_verified_at, mobile, "
        "mobile_verified_at, id_card_enc, id_card_masked, language, version, created_at, "
        "updated_at, search_text) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
        "?13, ?14)",
    [ST_CONTACT_UPDATE] =
        "UPDATE contacts SET name = ?2, email = ?3, email_norm = ?4, email_verified_at = ?5, "
        "mobile = ?6, mobile_verified_at = ?7, id_card_enc = ?8, id_card_masked = ?9, "
        "language = ?10, version = ?11, updated_at = ?13, search_text = ?14, "
        "email_broken = nullif(?16, ''), mobile_broken = nullif(?17, '') "
        "WHERE account_id = ?1 AND id = ?15",
    [ST_CONTACT_DELETE] = "DELETE FROM contacts WHERE account_id = ?1 AND id = ?2",
    [ST_WEBHOOKS_GET] = "SELECT w.kind, w.url, w.secret_enc, w.id, w.mention_mobile, "
                        "coalesce(w.broken_reason, ''), coalesce(w.broken_at, 0), u.url_masked, "
                        "u.url_enc, w.position FROM contact_webhooks w "
                        "LEFT JOIN contact_webhook_urls u ON u.webhook_id = w.id "
                        "WHERE w.contact_id = ?1", /* in position order: load_webhooks */
    /* A webhook whose URL stays keeps its row (its id, and what hangs on it). */
    [ST_WEBHOOKS_DELETE] = "DELETE FROM contact_webhooks WHERE contact_id = ?1 AND url NOT IN "
                           "(SELECT value FROM json_each(?2))",
    [ST_WEBHOOK_INSERT] = "INSERT INTO contact_webhooks(contact_id, position, kind, url, "
                          "secret_enc, created_at, mention_mobile) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                          "ON CONFLICT (contact_id, url) DO UPDATE SET position = excluded.position, "
                          "kind = excluded.kind, secret_enc = excluded.secret_enc, "
                          "mention_mobile = excluded.mention_mobile RETURNING id",
    [ST_LIST_ALL] = "SELECT " CC_CONTACT_COLS " FROM contacts WHERE account_id = ?1 "
                    "ORDER BY id DESC LIMIT ?2 OFFSET ?3",
    /* The keyword's index drives (CROSS JOIN keeps it the outer loop: the
     * other way round SQLite walked every contact of the account and probed
     * the index for each, minutes at a million contacts), newest first as
     * FTS5 reads its rowids backwards, so a page stops after its rows; each
     * match's account comes from the small covering index contacts_id_account
     * (migration 0026) rather than the contact's row. A count stops one past
     * the query's count_max (?3). */
    [ST_LIST_FTS_COUNT] = KW_COUNT("contacts_fts"),
    [ST_LIST_FTS] = KW_PAGE("contacts_fts"),
    [ST_LIST_GRAMS_COUNT] = KW_COUNT("contacts_grams"),
    [ST_LIST_GRAMS] = KW_PAGE("contacts_grams"),
    /* 1 when the account holds every contact of the database (one account,
     * as most installations have): then every match of an index is the
     * account's, and the index alone counts and orders them. */
    [ST_SOLE_ACCOUNT] = "SELECT (SELECT contact_count FROM accounts WHERE id = ?1) = "
                        "(SELECT coalesce(sum(contact_count), 0) FROM accounts)",
    [ST_LIST_FTS_SOLE_IDS] = KW_SOLE_IDS("contacts_fts"),
    /* A phrase of several trigrams read oldest first: FTS5 matches a phrase
     * backwards at ~1.6 times the cost ("liu yang" at 1M: 4.0 → 2.5 ms) */
    [ST_LIST_FTS_SOLE_IDS_ASC] = KW_SOLE_IDS_ASC("contacts_fts"),
    [ST_LIST_FTS_SOLE_COUNT] = KW_SOLE_COUNT("contacts_fts"),
    [ST_LIST_FTS_SOLE] = KW_SOLE("contacts_fts"),
    [ST_LIST_GRAMS_SOLE_IDS] = KW_SOLE_IDS("contacts_grams"),
    [ST_LIST_GRAMS_SOLE_COUNT] = KW_SOLE_COUNT("contacts_grams"),
    [ST_LIST_GRAMS_SOLE] = KW_SOLE("contacts_grams"),
    /* A caller who sees addresses masked: the name line of search_text (name, email,
     * mobile on three lines; no line holds a newline) contains the keyword, or the email
     * line or the mobile line is exactly the address — all inside the covering index. */
    [ST_LIST_NAMES_COUNT] = "SELECT count(*) FROM (SELECT 1 FROM contacts INDEXED BY "
                            "contacts_account_search WHERE account_id = ?1 AND " NAMES_MATCH
                            " LIMIT ?5)",
    [ST_LIST_NAMES] = "SELECT " CC_CONTACT_COLS " FROM contacts WHERE id IN ("
                      "SELECT id FROM contacts INDEXED BY contacts_account_search "
                      "WHERE account_id = ?1 AND " NAMES_MATCH
                      " ORDER BY id DESC LIMIT ?5 OFFSET ?6) ORDER BY id DESC",
    [ST_IDEM_GET] = "SELECT request_hash, contact_id FROM idempotency_keys "
                    "WHERE account_id = ?1 AND key = ?2",
    [ST_IDEM_PUT] = "INSERT INTO idempotency_keys(account_id, key, request_hash, contact_id, "
                    "created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    /* A contact's subscriptions to another contact: copied (once), then dropped. */
    [ST_SUBS_COPY] = "INSERT OR IGNORE INTO certificate_subscribers(certificate_id, contact_id) "
                     "SELECT certificate_id, ?2 FROM certificate_subscribers WHERE contact_id = ?1",
    [ST_SUBS_DELETE] = "DELETE FROM certificate_subscribers WHERE contact_id = ?1",
};

/* The cached statement of this file's table, reset and ready to bind. */
static sqlite3_stmt *stmt(struct conn *c, enum stmt_id id, struct cc_error *err)
{
    return cc_sq_stmt(c, stmt_sql[id], err);
}

static void read_contact_row(sqlite3_stmt *s, struct cc_contact *c)
{
    memset(c, 0, sizeof *c);
    c->id = sqlite3_column_int64(s, 0);
    c->account_id = sqlite3_column_int64(s, 1);
    cc_sq_col_text(s, 2, c->name, sizeof c->name);
    c->has_email = sqlite3_column_type(s, 3) != SQLITE_NULL;
    cc_sq_col_text(s, 3, c->email, sizeof c->email);
    cc_sq_col_text(s, 4, c->email_norm, sizeof c->email_norm);
    c->email_verified_at = sqlite3_column_int64(s, 5);
    cc_sq_col_text(s, 6, c->mobile, sizeof c->mobile);
    c->mobile_verified_at = sqlite3_column_int64(s, 7);
    c->has_id_card = sqlite3_column_type(s, 8) != SQLITE_NULL;
    cc_sq_col_blob(s, 8, c->id_card_enc, sizeof c->id_card_enc, &c->id_card_enc_len);
    cc_sq_col_text(s, 9, c->id_card_masked, sizeof c->id_card_masked);
    cc_sq_col_text(s, 10, c->language, sizeof c->language);
    c->version = sqlite3_column_int64(s, 11);
    c->created_at = sqlite3_column_int64(s, 12);
    c->updated_at = sqlite3_column_int64(s, 13);
    cc_sq_col_text(s, 14, c->email_broken, sizeof c->email_broken);
    cc_sq_col_text(s, 15, c->mobile_broken, sizeof c->mobile_broken);
}

/* A contact's robots in their order: at most five, so sorted here rather
 * than by the query, whose ORDER BY made SQLite build and free a sorter for
 * every contact read (an event reads every contact it names). */
static void sort_by_position(struct cc_webhook *w, int64_t *pos, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && pos[j - 1] > pos[j]; j--) {
            struct cc_webhook t = w[j];
            int64_t p = pos[j];
            w[j] = w[j - 1];
            pos[j] = pos[j - 1];
            w[j - 1] = t;
            pos[j - 1] = p;
        }
}

static enum cc_err load_webhooks(struct conn *c, struct cc_contact *ct, struct cc_error *err)
{
    sqlite3_stmt *s = stmt(c, ST_WEBHOOKS_GET, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, ct->id);
    int rc;
    int64_t pos[CC_WEBHOOKS_MAX];
    ct->n_webhooks = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && ct->n_webhooks < CC_WEBHOOKS_MAX) {
        struct cc_webhook *w = &ct->webhooks[ct->n_webhooks++];
        char kind[16];
        cc_sq_col_text(s, 0, kind, sizeof kind);
        w->kind = cc_webhook_kind_parse(kind);
        cc_sq_col_text(s, 1, w->url_tag, sizeof w->url_tag);
        if (sqlite3_column_type(s, 8) == SQLITE_NULL) {
            /* not sealed yet: url holds the URL itself; only its mask leaves */
            char plain[CC_URL_MAX + 1];
            cc_sq_col_text(s, 1, plain, sizeof plain);
            cc_mask_webhook_url(plain, w->url, sizeof w->url);
            OPENSSL_cleanse(plain, sizeof plain);
            w->url_tag[0] = '\0';
            w->url_enc_len = 0;
        } else {
            cc_sq_col_text(s, 7, w->url, sizeof w->url);
            cc_sq_col_blob(s, 8, w->url_enc, sizeof w->url_enc, &w->url_enc_len);
        }
        w->has_secret = sqlite3_column_type(s, 2) != SQLITE_NULL;
        cc_sq_col_blob(s, 2, w->secret_enc, sizeof w->secret_enc, &w->secret_enc_len);
        w->id = sqlite3_column_int64(s, 3);
        w->mention_mobile = sqlite3_column_int(s, 4);
        cc_sq_col_text(s, 5, w->broken, sizeof w->broken);
        w->broken_at = sqlite3_column_int64(s, 6);
        pos[ct->n_webhooks - 1] = sqlite3_column_int64(s, 9);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cc_sq_db_error(err, c->db, "reading webhooks");
        cc_sq_done(s);
        return CC_ERR_STORE;
    }
    cc_sq_done(s);
    sort_by_position(ct->webhooks, pos, ct->n_webhooks);
    return CC_OK;
}

static enum cc_err contact_get(struct conn *c, int64_t account_id, int64_t id,
                               struct cc_contact *out, struct cc_error *err)
{
    sqlite3_stmt *s = stmt(c, ST_CONTACT_GET, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        read_contact_row(s, out);
    else if (rc != SQLITE_DONE)
        cc_sq_db_error(err, c->db, "reading a contact");
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The contact does not exist.");
    if (rc != SQLITE_ROW)
        return CC_ERR_STORE;
    return load_webhooks(c, out, err);
}


/* ---- reads -------------------------------------------------------------------- */
static enum cc_err read_contact_get(void *impl, int64_t account_id, int64_t id,
                                    struct cc_contact *out, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = cc_sq_read_begin(c, err);
    if (rc)
        return rc;
    rc = contact_get(c, account_id, id, out, err);
    cc_sq_read_end(c);
    return rc;
}

/* A keyword as an FTS5 phrase: "…" with inner quotes doubled. */
static void fts_phrase(const char *kw, char *out, size_t outsz)
{
    struct cc_buf b;
    cc_buf_init(&b, outsz - 1);
    cc_buf_puts(&b, "\"");
    for (const char *p = kw; *p; p++) {
        cc_buf_append(&b, p, 1);
        if (*p == '"')
            cc_buf_append(&b, p, 1);
    }
    cc_buf_puts(&b, "\"");
    cc_strlcpy(out, b.data ? b.data : "\"\"", outsz);
    cc_buf_free(&b);
}

/* 1 when account holds every contact there is (ST_SOLE_ACCOUNT); 0 when not,
 * or when that cannot be read (the general way is always right). */
static int sole_account(struct conn *c, int64_t account)
{
    struct cc_error ignored;
    sqlite3_stmt *s = stmt(c, ST_SOLE_ACCOUNT, &ignored);
    if (!s)
        return 0;
    sqlite3_bind_int64(s, 1, account);
    int sole = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 1;
    cc_sq_done(s);
    return sole;
}

/* arg: a keyword search's (?2), whose count stops at limit (?3). */
static enum cc_err count_query(struct conn *c, enum stmt_id id, int64_t account_id,
                               const char *arg, int64_t limit, int64_t *total,
                               struct cc_error *err)
{
    sqlite3_stmt *s = stmt(c, id, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    if (arg) {
        sqlite3_bind_text(s, 2, arg, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, limit);
    }
    return cc_sq_count(c, s, total, "counting contacts", err);
}

static void bind_names(sqlite3_stmt *s, const struct cc_contact_query *q, const char *kw)
{
    sqlite3_bind_int64(s, 1, q->account_id);
    sqlite3_bind_text(s, 2, kw, -1, SQLITE_STATIC);
    if (q->email_exact)
        sqlite3_bind_text(s, 3, q->email_exact, -1, SQLITE_STATIC);
    if (q->mobile_exact)
        sqlite3_bind_text(s, 4, q->mobile_exact, -1, SQLITE_STATIC);
}

/* The search of a caller who sees addresses masked (q->names_only); kw is
 * the keyword lower-cased. */
/* Steps s (bound) into out's page, then reads each contact's webhooks. */
static enum cc_err read_page(struct conn *c, sqlite3_stmt *s,
                             struct cc_contact_page *out, struct cc_error *err)
{
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW && out->n < out->cap)
        read_contact_row(s, &out->items[out->n++]);
    cc_sq_done(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "listing contacts");
    for (size_t i = 0; i < out->n; i++) {
        enum cc_err rc = load_webhooks(c, &out->items[i], err);
        if (rc)
            return rc;
    }
    return CC_OK;
}

static enum cc_err list_names(struct conn *c, const struct cc_contact_query *q, const char *kw,
                              struct cc_contact_page *out, struct cc_error *err)
{
    sqlite3_stmt *s = stmt(c, ST_LIST_NAMES_COUNT, err);
    if (!s)
        return CC_ERR_STORE;
    bind_names(s, q, kw);
    sqlite3_bind_int64(s, 5, cc_store_count_limit(q));
    enum cc_err rc = cc_sq_count(c, s, &out->total, "counting contacts", err);
    if (rc)
        return rc;
    cc_store_count_cut(q, out);
    int64_t offset;
    if (!cc_store_contact_page_open(q, out, &offset))
        return CC_OK;
    if (!(s = stmt(c, ST_LIST_NAMES, err)))
        return CC_ERR_STORE;
    bind_names(s, q, kw);
    sqlite3_bind_int64(s, 5, q->page_size);
    sqlite3_bind_int64(s, 6, offset);
    return read_page(c, s, out, err);
}

/* The statements of a keyword index: the trigram index for keywords of
 * three characters and more, the short keyword index below that. */
struct kw_index {
    enum stmt_id count, page, sole_count, sole, sole_ids;
};
static const struct kw_index trigram_index = {ST_LIST_FTS_COUNT, ST_LIST_FTS,
                                              ST_LIST_FTS_SOLE_COUNT, ST_LIST_FTS_SOLE,
                                              ST_LIST_FTS_SOLE_IDS};
static const struct kw_index gram_index = {ST_LIST_GRAMS_COUNT, ST_LIST_GRAMS,
                                           ST_LIST_GRAMS_SOLE_COUNT, ST_LIST_GRAMS_SOLE,
                                           ST_LIST_GRAMS_SOLE_IDS};

/* Up to limit ids of phrase's matches through statement id into ids: *n of
 * them. */
static enum cc_err read_ids(struct conn *c, enum stmt_id id, const char *phrase, int64_t limit,
                            int64_t *ids, int64_t *n, struct cc_error *err)
{
    sqlite3_stmt *s = stmt(c, id, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, phrase, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, limit);
    size_t got = 0;
    enum cc_err e = cc_sq_ids(c, s, ids, (size_t)limit, &got, "searching contacts", err);
    *n = (int64_t)got;
    return e;
}

/* The sole account's search (sole_account) in one pass of its keyword index:
 * the ids of its matches newest first, up to one past count_max, give the
 * count and, from memory, the page (its contacts then read by id). *done is
 * 0 when this does not apply (no count_max, or the page lies past the ids
 * read) and the caller counts and pages as usual.
 *
 * forward (a phrase of several trigrams): the matches are read oldest first
 * and turned round, which costs less than reading them backwards; when there
 * are more than count_max, the count is known to stop there and the newest
 * ones, as far as the page, are read again backwards (a few rows: FTS5 stops
 * after them). */
#define SOLE_IDS_MAX 100001
static enum cc_err list_sole_ids(struct conn *c, const struct cc_contact_query *q,
                                 const struct kw_index *ix, int forward, const char *phrase,
                                 struct cc_contact_page *out, int *done, struct cc_error *err)
{
    *done = 0;
    int64_t limit = cc_store_count_limit(q);
    if (q->count_max <= 0 || limit > SOLE_IDS_MAX)
        return CC_OK;
    int64_t *ids = cc_malloc((size_t)limit * sizeof *ids);
    int64_t n = 0, offset = (q->page - 1) * q->page_size;
    enum cc_err e = read_ids(c, forward ? ST_LIST_FTS_SOLE_IDS_ASC : ix->sole_ids, phrase, limit,
                             ids, &n, err);
    int64_t have = n; /* the ids read, newest first (below) */
    if (!e && forward && n < limit) {
        for (int64_t i = 0, j = n - 1; i < j; i++, j--) {
            int64_t t = ids[i];
            ids[i] = ids[j];
            ids[j] = t;
        }
    } else if (!e && forward && offset + q->page_size <= n) {
        e = read_ids(c, ix->sole_ids, phrase, offset + q->page_size, ids, &have, err);
    }
    if (e || (n == limit && offset + q->page_size > n)) { /* the page is past what was read */
        cc_free(ids);
        return e;
    }
    *done = 1;
    out->total = n;
    cc_store_count_cut(q, out);
    if (cc_store_contact_page_open(q, out, &offset))
        for (int64_t i = offset; i < have && out->n < out->cap && !e; i++) {
            e = contact_get(c, q->account_id, ids[i], &out->items[out->n], err);
            if (!e)
                out->n++;
            else if (e == CC_ERR_NOT_FOUND) /* not the account's: cannot be, as it holds all */
                e = CC_OK;
        }
    cc_free(ids);
    return e;
}

static enum cc_err list_locked(struct conn *c, const struct cc_contact_query *q,
                               struct cc_contact_page *out, struct cc_error *err)
{
    char kw[4 * CC_KEYWORD_MAX_CHARS + 1] = "", phrase[4 * sizeof kw + 12];
    size_t kwchars = 0;
    if (cc_store_keyword(q->keyword, kw, sizeof kw))
        kwchars = cc_utf8_len(kw, strlen(kw));
    enum stmt_id count_id = ST_CONTACT_COUNT, page_id = ST_LIST_ALL;
    const struct kw_index *ix = NULL;
    const char *arg = NULL;
    if (kwchars > 0 && kwchars < 3) {
        /* no phone form is that short (q->phone has 3 digits and a
         * separator at least): the keyword is the one token to find */
        cc_sq_gram_phrase(kw, phrase, sizeof phrase);
        ix = &gram_index;
    } else if (kwchars >= 3) {
        fts_phrase(kw, phrase, sizeof phrase);
        ix = &trigram_index;
        if (q->phone && q->phone[0]) {
            /* either form of a phone number: as typed, or as the mobile is stored */
            char alt[2 * sizeof kw + 3];
            fts_phrase(q->phone, alt, sizeof alt);
            size_t len = strlen(phrase);
            snprintf(phrase + len, sizeof phrase - len, " OR %s", alt);
        }
    }
    if (ix) {
        count_id = ix->count;
        page_id = ix->page;
        arg = phrase;
        if (!q->names_only && sole_account(c, q->account_id)) {
            int done;
            enum cc_err rc = list_sole_ids(c, q, ix, ix == &trigram_index && kwchars > 3, phrase,
                                           out, &done, err);
            if (rc || done)
                return rc;
            count_id = ix->sole_count;
            page_id = ix->sole;
        }
    }
    if (kwchars && q->names_only)
        return list_names(c, q, kw, out, err);
    enum cc_err rc =
        count_query(c, count_id, q->account_id, arg, cc_store_count_limit(q), &out->total, err);
    if (rc)
        return rc;
    cc_store_count_cut(q, out);
    int64_t offset;
    if (!cc_store_contact_page_open(q, out, &offset))
        return CC_OK;
    sqlite3_stmt *s = stmt(c, page_id, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, q->account_id);
    int lim = arg ? 3 : 2;
    if (arg)
        sqlite3_bind_text(s, 2, arg, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, lim, q->page_size);
    sqlite3_bind_int64(s, lim + 1, offset);
    return read_page(c, s, out, err);
}

static enum cc_err read_contact_list(void *impl, const struct cc_contact_query *q,
                                     struct cc_contact_page *out, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    memset(out, 0, sizeof *out);
    enum cc_err rc = cc_sq_read_begin(c, err);
    if (rc)
        return rc;
    /* The search indexes learn the last writes a moment after them (the
     * writer applies contacts_fts_queue in runs: sqlite_writer.c); a keyword
     * search has them learnt first, so that it finds every write made before
     * it began. When the writer cannot (a full disk, a damaged file), the
     * search still answers from the indexes as they are. */
    if (q->keyword && q->keyword[0] && cc_sq_search_queue_pending(c)) {
        cc_sq_read_end(c);
        struct cc_error ignored;
        cc_sq_search_index_sync(impl, &ignored);
        if ((rc = cc_sq_read_begin(c, err)))
            return rc;
    }
    rc = list_locked(c, q, out, err);
    cc_sq_read_end(c);
    if (rc)
        cc_contact_page_free(out);
    return rc;
}

/* ---- writes (on the writer's connection, inside a transaction) ------------------ */
static enum cc_err tx_contact_get(void *tx, int64_t account_id, int64_t id,
                                  struct cc_contact *out, struct cc_error *err)
{
    return contact_get(tx, account_id, id, out, err);
}

static enum cc_err tx_contact_count(void *tx, int64_t account_id, int64_t *n,
                                    struct cc_error *err)
{
    return count_query(tx, ST_CONTACT_COUNT, account_id, NULL, 0, n, err);
}

/* The triggers on contacts (migrations 0001 and 0026) count in place, and SQLite
 * updates the account's row in place: nothing to defer. */
static enum cc_err tx_contact_count_defer(void *tx, struct cc_error *err)
{
    (void)tx;
    (void)err;
    return CC_OK;
}

static enum cc_err tx_contact_count_settle(void *tx, int64_t account_id, int64_t inserted,
                                           struct cc_error *err)
{
    (void)tx;
    (void)account_id;
    (void)inserted;
    (void)err;
    return CC_OK;
}

static void bind_opt_int(sqlite3_stmt *s, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

/* Binds the columns shared by INSERT and UPDATE (parameters 1..14). */
static void bind_contact(sqlite3_stmt *s, const struct cc_contact *c, const char *search)
{
    sqlite3_bind_int64(s, 1, c->account_id);
    sqlite3_bind_text(s, 2, c->name, -1, SQLITE_STATIC);
    if (c->has_email) {
        sqlite3_bind_text(s, 3, c->email, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, c->email_norm, -1, SQLITE_STATIC);
    }
    bind_opt_int(s, 5, c->email_verified_at);
    sqlite3_bind_text(s, 6, c->mobile, -1, SQLITE_STATIC);
    bind_opt_int(s, 7, c->mobile_verified_at);
    if (c->has_id_card) {
        sqlite3_bind_blob(s, 8, c->id_card_enc, (int)c->id_card_enc_len, SQLITE_STATIC);
        sqlite3_bind_text(s, 9, c->id_card_masked, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(s, 10, c->language, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, c->version);
    sqlite3_bind_int64(s, 12, c->created_at);
    sqlite3_bind_int64(s, 13, c->updated_at);
    sqlite3_bind_text(s, 14, search, -1, SQLITE_STATIC);
}

/* Turns a UNIQUE violation into AlreadyExists naming the field. */
static enum cc_err contact_write_error(struct conn *c, struct cc_error *err, const char *what)
{
    if (sqlite3_extended_errcode(c->db) == SQLITE_CONSTRAINT_UNIQUE) {
        const char *msg = sqlite3_errmsg(c->db);
        if (strstr(msg, "email_norm"))
            return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Email",
                                "Another contact in this account already has this email address.");
        if (strstr(msg, "mobile"))
            return cc_error_set(err, CC_ERR_ALREADY_EXISTS, "Mobile",
                                "Another contact in this account already has this mobile number.");
    }
    return cc_sq_db_error(err, c->db, what);
}

/* Writes webhook id's sealed URL and its mask. */
static enum cc_err put_url(struct conn *c, int64_t id, const char *masked, const uint8_t *enc,
                           size_t enc_len, struct cc_error *err)
{
    static const char sql[] =
        "INSERT INTO contact_webhook_urls(webhook_id, url_masked, url_enc) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (webhook_id) DO UPDATE SET url_masked = excluded.url_masked, "
        "url_enc = excluded.url_enc";
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, masked, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, enc, (int)enc_len, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "saving a webhook's URL", err);
}

/* Saves ct's webhooks in order, setting their ids: a URL already on the
 * contact (the same url_tag) keeps its row, a new one gets a new row. Every
 * webhook has its url_tag, url_enc and masked url set (the service seals). */
static enum cc_err upsert_webhooks(struct conn *c, struct cc_contact *ct, struct cc_error *err)
{
    for (int i = 0; i < ct->n_webhooks; i++) {
        struct cc_webhook *w = &ct->webhooks[i];
        if (!w->url_tag[0] || !w->url_enc_len)
            return cc_error_set(err, CC_ERR_INTERNAL, NULL, "a robot URL to save is not sealed");
        sqlite3_stmt *s = stmt(c, ST_WEBHOOK_INSERT, err);
        if (!s)
            return CC_ERR_STORE;
        sqlite3_bind_int64(s, 1, ct->id);
        sqlite3_bind_int(s, 2, i);
        sqlite3_bind_text(s, 3, cc_webhook_kind_name(w->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, w->url_tag, -1, SQLITE_STATIC);
        if (w->has_secret)
            sqlite3_bind_blob(s, 5, w->secret_enc, (int)w->secret_enc_len, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, ct->updated_at);
        sqlite3_bind_int(s, 7, w->mention_mobile);
        int rc = sqlite3_step(s);
        if (rc == SQLITE_ROW)
            w->id = sqlite3_column_int64(s, 0);
        while (rc == SQLITE_ROW)
            rc = sqlite3_step(s);
        cc_sq_done(s);
        if (rc != SQLITE_DONE)
            return cc_sq_db_error(err, c->db, "saving a webhook");
        enum cc_err e = put_url(c, w->id, w->url, w->url_enc, w->url_enc_len, err);
        if (e)
            return e;
    }
    return CC_OK;
}

static enum cc_err tx_contact_insert(void *tx, struct cc_contact *ct, struct cc_error *err)
{
    struct conn *c = tx;
    char search[CC_NAME_MAX_BYTES + CC_EMAIL_MAX + CC_MOBILE_MAX + 8];
    cc_store_search_text(ct, search, sizeof search);
    sqlite3_stmt *s = stmt(c, ST_CONTACT_INSERT, err);
    if (!s)
        return CC_ERR_STORE;
    bind_contact(s, ct, search);
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    if (rc != SQLITE_DONE)
        return contact_write_error(c, err, "creating a contact");
    ct->id = sqlite3_last_insert_rowid(c->db);
    return upsert_webhooks(c, ct, err);
}

static enum cc_err tx_contact_update(void *tx, struct cc_contact *ct, struct cc_error *err)
{
    struct conn *c = tx;
    char search[CC_NAME_MAX_BYTES + CC_EMAIL_MAX + CC_MOBILE_MAX + 8];
    cc_store_search_text(ct, search, sizeof search);
    sqlite3_stmt *s = stmt(c, ST_CONTACT_UPDATE, err);
    if (!s)
        return CC_ERR_STORE;
    bind_contact(s, ct, search);
    sqlite3_bind_int64(s, 15, ct->id);
    sqlite3_bind_text(s, 16, ct->email_broken, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 17, ct->mobile_broken, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    if (rc != SQLITE_DONE)
        return contact_write_error(c, err, "updating a contact");
    if (sqlite3_changes(c->db) == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The contact does not exist.");
    char *keep_json = cc_store_webhooks_keep_json(ct);
    s = stmt(c, ST_WEBHOOKS_DELETE, err);
    if (!s) {
        free(keep_json);
        return CC_ERR_STORE;
    }
    sqlite3_bind_int64(s, 1, ct->id);
    sqlite3_bind_text(s, 2, keep_json ? keep_json : "[]", -1, SQLITE_TRANSIENT);
    free(keep_json);
    enum cc_err e = cc_sq_step_done(c, s, "replacing webhooks", err);
    if (e)
        return e;
    return upsert_webhooks(c, ct, err);
}

static enum cc_err tx_contact_delete(void *tx, int64_t account_id, int64_t id,
                                     struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = stmt(c, ST_CONTACT_DELETE, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, id);
    enum cc_err rc = cc_sq_step_done(c, s, "deleting a contact", err);
    if (!rc && sqlite3_changes(c->db) == 0)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "The contact does not exist.");
    return rc;
}

static enum cc_err tx_contact_subscriptions_move(void *tx, int64_t from, int64_t to, int64_t *n,
                                                 struct cc_error *err)
{
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = stmt(c, ST_SUBS_COPY, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, from);
    sqlite3_bind_int64(s, 2, to);
    enum cc_err rc = cc_sq_step_done(c, s, "moving certificate subscriptions", err);
    if (rc)
        return rc;
    if (!(s = stmt(c, ST_SUBS_DELETE, err)))
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, from);
    if ((rc = cc_sq_step_done(c, s, "moving certificate subscriptions", err)))
        return rc;
    *n = sqlite3_changes(c->db);
    return CC_OK;
}

static enum cc_err tx_idem_get(void *tx, int64_t account_id, const char *key, char *hash,
                               int64_t *contact_id, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = stmt(c, ST_IDEM_GET, err);
    return s ? cc_sq_idem_get(c, s, account_id, key, hash, contact_id, err) : CC_ERR_STORE;
}

static enum cc_err tx_idem_put(void *tx, int64_t account_id, const char *key, const char *hash,
                               int64_t contact_id, int64_t now, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = stmt(c, ST_IDEM_PUT, err);
    return s ? cc_sq_idem_put(c, s, account_id, key, hash, contact_id, now, err)
             : CC_ERR_STORE;
}

/* ---- erasure -------------------------------------------------------------------------- */
/* Runs one erasing statement with ?1 account, ?2 contact, ?3 normalised email
 * (NULL: none), ?4 mobile, ?5/?6 their masks, ?7 the email as given, ?8 the
 * mobile without +86; a statement that has fewer parameters ignores the rest. */
static enum cc_err erase_run(struct conn *c, const char *sql, const struct cc_contact *ct,
                             const char *email_masked, const char *mobile_masked,
                             const char *national, struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, ct->account_id);
    sqlite3_bind_int64(s, 2, ct->id);
    if (ct->has_email) {
        sqlite3_bind_text(s, 3, ct->email_norm, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 7, ct->email, -1, SQLITE_STATIC);
    }
    sqlite3_bind_text(s, 4, ct->mobile, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, email_masked, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, mobile_masked, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, national, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "erasing a contact's data", err);
}

static enum cc_err tx_contact_erase(void *tx, const struct cc_contact *ct, struct cc_error *err)
{
    static const char sql_idem[] =
        "DELETE FROM idempotency_keys WHERE account_id = ?1 AND contact_id = ?2";
    /* codes sent before saving (no contact_id); the contact's own went with its row */
    static const char sql_verif[] =
        "UPDATE verifications SET target = CASE channel WHEN 'email' THEN ?5 ELSE ?6 END "
        "WHERE account_id = ?1 AND contact_id IS NULL AND ((channel = 'email' AND target = ?3) "
        "OR (channel = 'mobile' AND target = ?4))";
    /* a platform's answer may quote the address it refused */
    static const char sql_attempts[] =
        "UPDATE delivery_attempts SET "
        "reason = replace(replace(replace(replace(reason, coalesce(?7, char(1)), ?5), "
        "coalesce(?3, char(1)), ?5), ?4, ?6), ?8, ?6), "
        "platform_message = replace(replace(replace(replace(platform_message, "
        "coalesce(?7, char(1)), ?5), coalesce(?3, char(1)), ?5), ?4, ?6), ?8, ?6) "
        "WHERE notification_id IN (SELECT id FROM notifications WHERE account_id = ?1 AND "
        "contact_id = ?2)";
    struct conn *c = tx;
    char em[CC_MASKED_MAX], mm[CC_MASKED_MAX];
    const char *national = cc_store_erase_masks(ct, em, mm);
    enum cc_err rc = erase_run(c, sql_idem, ct, em, mm, national, err);
    if (!rc)
        rc = erase_run(c, sql_verif, ct, em, mm, national, err);
    if (!rc)
        rc = erase_run(c, sql_attempts, ct, em, mm, national, err);
    return rc;
}

/* ---- robots' URLs from before they were sealed ------------------------------------ */
static enum cc_err tx_webhook_unsealed(void *tx, size_t max, struct cc_webhook_plain *out,
                                       size_t *n, struct cc_error *err)
{
    static const char sql[] =
        "SELECT w.id, w.url FROM contact_webhooks w WHERE NOT EXISTS (SELECT 1 FROM "
        "contact_webhook_urls u WHERE u.webhook_id = w.id) ORDER BY w.id LIMIT ?1";
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)max);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max) {
        out[*n].id = sqlite3_column_int64(s, 0);
        cc_sq_col_text(s, 1, out[*n].url, sizeof out[*n].url);
        (*n)++;
    }
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading robots' URLs");
    return CC_OK;
}

static enum cc_err tx_webhook_seal(void *tx, int64_t id, const char *tag, const char *masked,
                                   const uint8_t *enc, size_t enc_len, struct cc_error *err)
{
    static const char sql[] = "UPDATE contact_webhooks SET url = ?2 WHERE id = ?1";
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, tag, -1, SQLITE_STATIC);
    enum cc_err rc = cc_sq_step_done(c, s, "sealing a robot's URL", err);
    return rc ? rc : put_url(c, id, masked, enc, enc_len, err);
}

static enum cc_err tx_contact_holder(void *tx, int64_t account_id, int64_t except_id,
                                     const char *email_norm, const char *mobile,
                                     struct cc_contact_ref *out, struct cc_error *err)
{
    static const char sql_email[] =
        "SELECT id, name FROM contacts WHERE account_id = ?1 AND email_norm = ?2 AND id <> ?3";
    static const char sql_mobile[] =
        "SELECT id, name FROM contacts WHERE account_id = ?1 AND mobile = ?2 AND id <> ?3";
    struct conn *c = tx;
    memset(out, 0, sizeof *out);
    sqlite3_stmt *s = cc_sq_stmt(c, email_norm ? sql_email : sql_mobile, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, email_norm ? email_norm : mobile, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, except_id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(s, 0);
        cc_sq_col_text(s, 1, out->name, sizeof out->name);
    }
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "finding a contact by its address");
    return CC_OK;
}

/* Contact ids are AUTOINCREMENT: the largest is the most recently created. */
static enum cc_err read_contact_find_id(void *impl, int64_t account_id, const char *email_norm,
                                        const char *mobile, int64_t *id, struct cc_error *err)
{
    static const char sql_match[] =
        "SELECT coalesce((SELECT id FROM contacts WHERE account_id = ?1 AND email_norm = ?2 "
        "AND mobile = ?3), 0)";
    static const char sql_latest[] =
        "SELECT coalesce(max(id), 0) FROM contacts WHERE account_id = ?1";
    *id = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    int match = email_norm && mobile;
    sqlite3_stmt *s = cc_sq_stmt(c, match ? sql_match : sql_latest, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    if (match) {
        sqlite3_bind_text(s, 2, email_norm, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, mobile, -1, SQLITE_STATIC);
    }
    return cc_sq_count(c, s, id, "finding a contact", err);
}

static const char sql_page_after[] = "SELECT " CC_CONTACT_COLS " FROM contacts "
                                    "WHERE account_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3";

static enum cc_err tx_contact_page_after(void *tx, int64_t account_id, int64_t after_id,
                                         size_t max, struct cc_contact *out, size_t *n,
                                         struct cc_error *err)
{
    struct conn *c = tx;
    *n = 0;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_page_after, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int64(s, 2, after_id);
    sqlite3_bind_int64(s, 3, (int64_t)max);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && *n < max)
        read_contact_row(s, &out[(*n)++]);
    cc_sq_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "reading a page of contacts");
    return CC_OK;
}

const struct cc_store_contact_ops cc_sq_contact_ops = {CC_STORE_CONTACT_OPS(CC_STORE_OP_INIT)};
