/*
 * sqlite.c — the SQLite backend of store.h.
 *
 * One database file in WAL mode with foreign keys on. Reads run on a
 * connection private to each thread (created on first use, with its prepared
 * statements cached). Writes are queued to one writer thread, which takes
 * every write waiting in the queue, runs each inside its own SAVEPOINT of one
 * transaction, and commits them together: one fsync for the batch with
 * synchronous=FULL (group commit). A write that fails rolls back to its
 * savepoint and leaves the others alone; a commit that fails fails them all.
 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "store/sqlite_int.h"
#include "store/store_int.h"
#include "util/util.h"

/* ---- statements, prepared once per connection ---------------------------- */
#define CONTACT_COLS                                                                     \
    "id, account_id, name, email, email_norm, email_verified_at, mobile, "              \
    "mobile_verified_at, id_card_enc, id_card_masked, language, version, created_at, "  \
    "updated_at, coalesce(email_broken, ''), coalesce(mobile_broken, '')"



static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_CONTACT_GET] = "SELECT " CONTACT_COLS " FROM contacts WHERE account_id = ?1 AND id = ?2",
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
    [ST_WEBHOOKS_GET] = "SELECT kind, url, secret_enc, id, mention_mobile, "
                        "coalesce(broken_reason, ''), coalesce(broken_at, 0) FROM contact_webhooks "
                        "WHERE contact_id = ?1 ORDER BY position",
    /* A webhook whose URL stays keeps its row (its id, and what hangs on it). */
    [ST_WEBHOOKS_DELETE] = "DELETE FROM contact_webhooks WHERE contact_id = ?1 AND url NOT IN "
                           "(SELECT value FROM json_each(?2))",
    [ST_WEBHOOK_INSERT] = "INSERT INTO contact_webhooks(contact_id, position, kind, url, "
                          "secret_enc, created_at, mention_mobile) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                          "ON CONFLICT (contact_id, url) DO UPDATE SET position = excluded.position, "
                          "kind = excluded.kind, secret_enc = excluded.secret_enc, "
                          "mention_mobile = excluded.mention_mobile RETURNING id",
    [ST_LIST_ALL] = "SELECT " CONTACT_COLS " FROM contacts WHERE account_id = ?1 "
                    "ORDER BY id DESC LIMIT ?2 OFFSET ?3",
    [ST_LIST_SHORT_COUNT] = "SELECT count(*) FROM contacts INDEXED BY contacts_account_search "
                            "WHERE account_id = ?1 AND instr(search_text, ?2) > 0",
    [ST_LIST_SHORT] = "SELECT " CONTACT_COLS " FROM contacts WHERE id IN ("
                      "SELECT id FROM contacts INDEXED BY contacts_account_search "
                      "WHERE account_id = ?1 AND instr(search_text, ?2) > 0 "
                      "ORDER BY id DESC LIMIT ?3 OFFSET ?4) ORDER BY id DESC",
    /* The trigram index drives: written as a join, SQLite walked every
     * contact of the account and probed the index for each (minutes at a
     * million contacts). */
    [ST_LIST_FTS_COUNT] = "SELECT count(*) FROM contacts WHERE account_id = ?1 AND id IN "
                          "(SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?2)",
    [ST_LIST_FTS] = "SELECT " CONTACT_COLS " FROM contacts WHERE account_id = ?1 AND id IN "
                    "(SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?2) "
                    "ORDER BY id DESC LIMIT ?3 OFFSET ?4",
    [ST_IDEM_GET] = "SELECT request_hash, contact_id FROM idempotency_keys "
                    "WHERE account_id = ?1 AND key = ?2",
    [ST_IDEM_PUT] = "INSERT INTO idempotency_keys(account_id, key, request_hash, contact_id, "
                    "created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_AUDIT] = "INSERT INTO audit_log(account_id, actor, action, object_type, object_id, "
                 "detail, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_PING] = "SELECT 1",
};



/* A write waiting for the writer thread. */
struct job {
    cc_tx_fn fn;
    void *arg;
    struct cc_error *err;
    enum cc_err rc;
    int done;
    pthread_cond_t cv;          /* its waiter sleeps here: woken alone */
    struct job *next;
};

struct sq {
    char *path;
    int sync_full;
    int busy_ms;
    int max_batch;
    pthread_key_t tls;          /* the calling thread's read connection */
    pthread_mutex_t conns_mu;
    struct conn *conns;         /* every open read connection */

    struct conn *wconn;         /* the writer's connection */
    pthread_t writer;
    int writer_started;
    pthread_mutex_t mu;
    pthread_cond_t work;        /* jobs were queued, or stopping */
    struct job *head, *tail;
    int stopping;
};

enum cc_err cc_sq_db_error(struct cc_error *err, sqlite3 *db, const char *what)
{
    int ext = sqlite3_extended_errcode(db);
    enum cc_err code = (ext & 0xff) == SQLITE_BUSY ? CC_ERR_UNAVAILABLE : CC_ERR_STORE;
    return cc_error_set(err, code, NULL, "database error in %s: %s", what, sqlite3_errmsg(db));
}

static void conn_close(struct conn *c)
{
    if (!c)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(c->st[i]);
    sqlite3_close(c->db);
    cc_free(c);
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static enum cc_err conn_open(struct sq *q, int writer, struct conn **out, struct cc_error *err)
{
    static int64_t serials;
    struct conn *c = cc_calloc(1, sizeof *c);
    c->owner = q;
    c->serial = __atomic_add_fetch(&serials, 1, __ATOMIC_RELAXED);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(q->path, &c->db, flags, NULL) != SQLITE_OK) {
        cc_error_set(err, CC_ERR_STORE, NULL, "cannot open database %s: %s", q->path,
                     c->db ? sqlite3_errmsg(c->db) : "out of memory");
        conn_close(c);
        return CC_ERR_STORE;
    }
    sqlite3_busy_timeout(c->db, q->busy_ms);
    sqlite3_extended_result_codes(c->db, 1);
    char pragmas[256];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=%s;"
             "PRAGMA temp_store=MEMORY; %s",
             q->sync_full ? "FULL" : "NORMAL", writer ? "" : "PRAGMA query_only=1;");
    if (exec(c->db, pragmas) != SQLITE_OK) {
        cc_sq_db_error(err, c->db, "opening the database");
        conn_close(c);
        return CC_ERR_STORE;
    }
    *out = c;
    return CC_OK;
}

sqlite3_stmt *cc_sq_stmt(struct conn *c, enum stmt_id id, const char *sql, struct cc_error *err)
{
    sqlite3_stmt *s = c->st[id];
    if (!s) {
        if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) !=
            SQLITE_OK) {
            cc_sq_db_error(err, c->db, "preparing a statement");
            return NULL;
        }
        c->st[id] = s;
    }
    return s;
}

/* The cached statement of this file's table, reset and ready to bind. */
static sqlite3_stmt *stmt(struct conn *c, enum stmt_id id, struct cc_error *err)
{
    return cc_sq_stmt(c, id, stmt_sql[id], err);
}

void cc_sq_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* The calling thread's read connection, opened on first use. */
static struct conn *rconn(struct sq *q, struct cc_error *err);

struct conn *cc_sq_rconn(void *impl, struct cc_error *err)
{
    return rconn(impl, err);
}

static struct conn *rconn(struct sq *q, struct cc_error *err)
{
    struct conn *c = pthread_getspecific(q->tls);
    if (c)
        return c;
    if (conn_open(q, 0, &c, err))
        return NULL;
    pthread_mutex_lock(&q->conns_mu);
    c->next = q->conns;
    if (q->conns)
        q->conns->prev = c;
    q->conns = c;
    pthread_mutex_unlock(&q->conns_mu);
    pthread_setspecific(q->tls, c);
    return c;
}

static void rconn_release(struct conn *c)
{
    struct sq *q = c->owner;
    pthread_mutex_lock(&q->conns_mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        q->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&q->conns_mu);
    conn_close(c);
}

/* pthread key destructor: a thread that ends closes its connection. */
static void tls_destructor(void *p)
{
    rconn_release(p);
}

static void sq_thread_done(void *impl)
{
    struct sq *q = impl;
    struct conn *c = pthread_getspecific(q->tls);
    if (c) {
        pthread_setspecific(q->tls, NULL);
        rconn_release(c);
    }
}

/* ---- row decoding ----------------------------------------------------------- */
void cc_sq_col_text(sqlite3_stmt *s, int i, char *out, size_t outsz)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    cc_strlcpy(out, t ? (const char *)t : "", outsz);
}

void cc_sq_col_blob(sqlite3_stmt *s, int i, uint8_t *out, size_t outsz, size_t *len)
{
    const void *b = sqlite3_column_blob(s, i);
    size_t n = (size_t)sqlite3_column_bytes(s, i);
    if (!b || n > outsz)
        n = 0;
    if (n)
        memcpy(out, b, n);
    *len = n;
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

static enum cc_webhook_kind kind_parse(const char *s)
{
    for (int k = CC_WEBHOOK_DINGTALK; k <= CC_WEBHOOK_WECOM; k++)
        if (strcmp(s, cc_webhook_kind_name((enum cc_webhook_kind)k)) == 0)
            return (enum cc_webhook_kind)k;
    return CC_WEBHOOK_NONE;
}

static enum cc_err load_webhooks(struct conn *c, struct cc_contact *ct, struct cc_error *err)
{
    sqlite3_stmt *s = stmt(c, ST_WEBHOOKS_GET, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, ct->id);
    int rc;
    ct->n_webhooks = 0;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW && ct->n_webhooks < CC_WEBHOOKS_MAX) {
        struct cc_webhook *w = &ct->webhooks[ct->n_webhooks++];
        char kind[16];
        cc_sq_col_text(s, 0, kind, sizeof kind);
        w->kind = kind_parse(kind);
        cc_sq_col_text(s, 1, w->url, sizeof w->url);
        w->has_secret = sqlite3_column_type(s, 2) != SQLITE_NULL;
        cc_sq_col_blob(s, 2, w->secret_enc, sizeof w->secret_enc, &w->secret_enc_len);
        w->id = sqlite3_column_int64(s, 3);
        w->mention_mobile = sqlite3_column_int(s, 4);
        cc_sq_col_text(s, 5, w->broken, sizeof w->broken);
        w->broken_at = sqlite3_column_int64(s, 6);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        cc_sq_db_error(err, c->db, "reading webhooks");
        cc_sq_done(s);
        return CC_ERR_STORE;
    }
    cc_sq_done(s);
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

/* Runs a read in one read transaction so its statements see one snapshot. */
static enum cc_err read_begin(struct conn *c, struct cc_error *err)
{
    sqlite3_stmt *s = stmt(c, ST_BEGIN, err);
    if (!s)
        return CC_ERR_STORE;
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    if (rc != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "starting a read");
    return CC_OK;
}

static void read_end(struct conn *c)
{
    struct cc_error ignored;
    sqlite3_stmt *s = stmt(c, ST_COMMIT, &ignored);
    if (s) {
        sqlite3_step(s);
        cc_sq_done(s);
    }
    if (!sqlite3_get_autocommit(c->db))
        exec(c->db, "ROLLBACK");
}

/* ---- reads -------------------------------------------------------------------- */
static enum cc_err sq_ping(void *impl, struct cc_error *err)
{
    struct conn *c = rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = stmt(c, ST_PING, err);
    if (!s)
        return CC_ERR_STORE;
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "ping");
}

static enum cc_err sq_data_version(void *impl, int64_t *v, struct cc_error *err)
{
    struct conn *c = rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, ST_DATA_VERSION, "PRAGMA data_version", err);
    if (!s)
        return CC_ERR_STORE;
    int rc = sqlite3_step(s);
    /* data_version counts per connection: the connection's serial in the
     * high bits keeps the value from ever repeating on another one. */
    *v = rc == SQLITE_ROW ? (c->serial << 32) + sqlite3_column_int64(s, 0) : -1;
    cc_sq_done(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "data_version");
}

static enum cc_err sq_contact_get(void *impl, int64_t account_id, int64_t id,
                                  struct cc_contact *out, struct cc_error *err)
{
    struct conn *c = rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = read_begin(c, err);
    if (rc)
        return rc;
    rc = contact_get(c, account_id, id, out, err);
    read_end(c);
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

static enum cc_err count_query(struct conn *c, enum stmt_id id, int64_t account_id,
                               const char *arg, int64_t *total, struct cc_error *err)
{
    sqlite3_stmt *s = stmt(c, id, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    if (arg)
        sqlite3_bind_text(s, 2, arg, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *total = sqlite3_column_int64(s, 0);
    cc_sq_done(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "counting contacts");
}

static enum cc_err list_locked(struct conn *c, const struct cc_contact_query *q,
                               struct cc_contact_page *out, struct cc_error *err)
{
    char kw[4 * 64 + 1] = "", phrase[2 * sizeof kw + 3];
    size_t kwchars = 0;
    if (q->keyword && q->keyword[0]) {
        cc_strlcpy(kw, q->keyword, sizeof kw);
        cc_ascii_lower(kw);
        kwchars = cc_utf8_len(kw, strlen(kw));
    }
    enum stmt_id count_id, page_id;
    const char *arg = NULL;
    if (kwchars == 0) {
        count_id = ST_CONTACT_COUNT;
        page_id = ST_LIST_ALL;
    } else if (kwchars < 3) {
        count_id = ST_LIST_SHORT_COUNT;
        page_id = ST_LIST_SHORT;
        arg = kw;
    } else {
        fts_phrase(kw, phrase, sizeof phrase);
        count_id = ST_LIST_FTS_COUNT;
        page_id = ST_LIST_FTS;
        arg = phrase;
    }
    enum cc_err rc = count_query(c, count_id, q->account_id, arg, &out->total, err);
    if (rc)
        return rc;
    out->items = cc_calloc((size_t)q->page_size, sizeof *out->items);
    out->n = 0;
    int64_t offset = (q->page - 1) * q->page_size;
    if (out->total <= offset)
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
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW && out->n < (size_t)q->page_size)
        read_contact_row(s, &out->items[out->n++]);
    cc_sq_done(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return cc_sq_db_error(err, c->db, "listing contacts");
    for (size_t i = 0; i < out->n; i++)
        if ((rc = load_webhooks(c, &out->items[i], err)))
            return rc;
    return CC_OK;
}

static enum cc_err sq_contact_list(void *impl, const struct cc_contact_query *q,
                                   struct cc_contact_page *out, struct cc_error *err)
{
    struct conn *c = rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    memset(out, 0, sizeof *out);
    enum cc_err rc = read_begin(c, err);
    if (rc)
        return rc;
    rc = list_locked(c, q, out, err);
    read_end(c);
    if (rc)
        cc_contact_page_free(out);
    return rc;
}

/* ---- writes (on the writer's connection, inside a transaction) ------------------ */
enum cc_err cc_sq_step_done(struct conn *c, sqlite3_stmt *s, const char *what,
                            struct cc_error *err)
{
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return CC_OK;
    return cc_sq_db_error(err, c->db, what);
}

static enum cc_err tx_contact_get(void *tx, int64_t account_id, int64_t id,
                                  struct cc_contact *out, struct cc_error *err)
{
    return contact_get(tx, account_id, id, out, err);
}

static enum cc_err tx_contact_count(void *tx, int64_t account_id, int64_t *n,
                                    struct cc_error *err)
{
    return count_query(tx, ST_CONTACT_COUNT, account_id, NULL, n, err);
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

/* Saves ct's webhooks in order, setting their ids: a URL already on the
 * contact keeps its row, a new one gets a new row. */
static enum cc_err upsert_webhooks(struct conn *c, struct cc_contact *ct, struct cc_error *err)
{
    for (int i = 0; i < ct->n_webhooks; i++) {
        struct cc_webhook *w = &ct->webhooks[i];
        sqlite3_stmt *s = stmt(c, ST_WEBHOOK_INSERT, err);
        if (!s)
            return CC_ERR_STORE;
        sqlite3_bind_int64(s, 1, ct->id);
        sqlite3_bind_int(s, 2, i);
        sqlite3_bind_text(s, 3, cc_webhook_kind_name(w->kind), -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, w->url, -1, SQLITE_STATIC);
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
    json_t *keep = json_array();
    for (int i = 0; i < ct->n_webhooks; i++)
        json_array_append_new(keep, json_string(ct->webhooks[i].url));
    char *keep_json = json_dumps(keep, JSON_COMPACT);
    json_decref(keep);
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

static enum cc_err tx_idem_get(void *tx, int64_t account_id, const char *key, char *hash,
                               int64_t *contact_id, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = stmt(c, ST_IDEM_GET, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    enum cc_err res = CC_OK;
    if (rc == SQLITE_ROW) {
        cc_sq_col_text(s, 0, hash, 65);
        *contact_id = sqlite3_column_int64(s, 1);
    } else if (rc == SQLITE_DONE) {
        res = CC_ERR_NOT_FOUND;
    } else {
        res = cc_sq_db_error(err, c->db, "reading an idempotency key");
    }
    cc_sq_done(s);
    return res;
}

static enum cc_err tx_idem_put(void *tx, int64_t account_id, const char *key, const char *hash,
                               int64_t contact_id, int64_t now, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = stmt(c, ST_IDEM_PUT, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, contact_id);
    sqlite3_bind_int64(s, 5, now);
    return cc_sq_step_done(c, s, "saving an idempotency key", err);
}

static enum cc_err tx_audit(void *tx, int64_t account_id, const char *actor, const char *action,
                            const char *object_type, int64_t object_id, const char *detail,
                            int64_t now, struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = stmt(c, ST_AUDIT, err);
    if (!s)
        return CC_ERR_STORE;
    char oid[24];
    snprintf(oid, sizeof oid, "%lld", (long long)object_id);
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, actor, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, action, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, object_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, oid, -1, SQLITE_TRANSIENT);
    if (detail)
        sqlite3_bind_text(s, 6, detail, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, now);
    return cc_sq_step_done(c, s, "writing the audit log", err);
}

/* ---- the writer thread ------------------------------------------------------------ */
static const struct cc_store_ops sqlite_ops;

/* Runs one batch of jobs in one transaction. Called on the writer thread. */
static void run_batch(struct sq *q, struct job *batch)
{
    struct conn *c = q->wconn;
    struct cc_tx tx = {&sqlite_ops, c};
    struct cc_error berr;
    cc_error_clear(&berr);
    int began = exec(c->db, "BEGIN IMMEDIATE") == SQLITE_OK;
    if (!began)
        cc_sq_db_error(&berr, c->db, "starting a write");
    for (struct job *j = batch; j; j = j->next) {
        if (!began) {
            j->rc = berr.code;
            if (j->err)
                *j->err = berr;
            continue;
        }
        if (exec(c->db, "SAVEPOINT w") != SQLITE_OK) {
            j->rc = cc_sq_db_error(j->err, c->db, "starting a write");
            continue;
        }
        j->rc = j->fn(&tx, j->arg, j->err);
        if (j->rc) {
            exec(c->db, "ROLLBACK TO w");
            exec(c->db, "RELEASE w");
        } else {
            exec(c->db, "RELEASE w");
        }
        if (sqlite3_get_autocommit(c->db)) {
            /* SQLite rolled the whole transaction back (I/O error, disk
             * full): every write of the batch so far is lost with it. */
            cc_sq_db_error(&berr, c->db, "writing");
            for (struct job *k = batch; k != j->next; k = k->next)
                if (k->rc == CC_OK) {
                    k->rc = berr.code;
                    if (k->err)
                        *k->err = berr;
                }
            began = 0;
            if (berr.code == CC_OK)
                berr.code = CC_ERR_STORE;
        }
    }
    if (began && exec(c->db, "COMMIT") != SQLITE_OK) {
        cc_sq_db_error(&berr, c->db, "committing");
        exec(c->db, "ROLLBACK");
        for (struct job *j = batch; j; j = j->next)
            if (j->rc == CC_OK) {
                j->rc = berr.code;
                if (j->err)
                    *j->err = berr;
            }
    }
}

static void *writer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "cc-writer"); /* for top -H, perf, gdb */
    struct sq *q = arg;
    pthread_mutex_lock(&q->mu);
    for (;;) {
        while (!q->head && !q->stopping)
            pthread_cond_wait(&q->work, &q->mu);
        if (!q->head && q->stopping)
            break;
        struct job *batch = q->head, *last = batch;
        int n = 1;
        while (last->next && n < q->max_batch) {
            last = last->next;
            n++;
        }
        q->head = last->next;
        if (!q->head)
            q->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&q->mu);

        run_batch(q, batch);

        /* Wake exactly the writes of this batch; the ones still queued sleep on.
         * The mutex is held throughout, so no waiter can return (and free its
         * job, which lives on its stack) before its signal is sent. */
        pthread_mutex_lock(&q->mu);
        for (struct job *j = batch; j;) {
            struct job *next = j->next;
            j->done = 1;
            pthread_cond_signal(&j->cv);
            j = next;
        }
    }
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static enum cc_err sq_write(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err)
{
    struct sq *q = s->impl;
    struct job j = {.fn = fn, .arg = arg, .err = err, .rc = CC_OK};
    pthread_mutex_lock(&q->mu);
    if (q->stopping) {
        pthread_mutex_unlock(&q->mu);
        return cc_error_set(err, CC_ERR_UNAVAILABLE, NULL, "The server is shutting down.");
    }
    pthread_cond_init(&j.cv, NULL);
    if (q->tail)
        q->tail->next = &j;
    else
        q->head = &j;
    q->tail = &j;
    pthread_cond_signal(&q->work);
    while (!j.done)
        pthread_cond_wait(&j.cv, &q->mu);
    pthread_mutex_unlock(&q->mu);
    pthread_cond_destroy(&j.cv);
    return j.rc;
}

/* ---- migrations --------------------------------------------------------------------- */
static enum cc_err sq_migrate(void *impl, struct cc_error *err)
{
    struct sq *q = impl;
    sqlite3 *db = q->wconn->db;
    static const char prefix[] = "src/store/migrations/sqlite/";
    if (exec(db, "BEGIN IMMEDIATE") != SQLITE_OK)
        return cc_sq_db_error(err, db, "starting migrations");
    enum cc_err rc = CC_OK;
    if (exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                 "name TEXT NOT NULL, applied_at INTEGER NOT NULL)") != SQLITE_OK) {
        rc = cc_sq_db_error(err, db, "creating schema_migrations");
        goto out;
    }
    for (const struct cc_embedded_file *f = cc_embedded; f->path; f++) {
        if (strncmp(f->path, prefix, sizeof prefix - 1) != 0)
            continue;
        const char *name = f->path + sizeof prefix - 1;
        int64_t version;
        if (cc_parse_i64n(name, 4, 1, 9999, &version)) {
            rc = cc_error_set(err, CC_ERR_INTERNAL, NULL, "bad migration name %s", name);
            goto out;
        }
        sqlite3_stmt *s = NULL;
        sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1, &s, NULL);
        sqlite3_bind_int64(s, 1, version);
        int have = sqlite3_step(s) == SQLITE_ROW;
        sqlite3_finalize(s);
        if (have)
            continue;
        if (exec(db, (const char *)f->data) != SQLITE_OK) {
            rc = cc_sq_db_error(err, db, name);
            goto out;
        }
        sqlite3_prepare_v2(db, "INSERT INTO schema_migrations(version, name, applied_at) "
                               "VALUES (?1, ?2, ?3)", -1, &s, NULL);
        sqlite3_bind_int64(s, 1, version);
        sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, cc_now_ms());
        int st = sqlite3_step(s);
        sqlite3_finalize(s);
        if (st != SQLITE_DONE) {
            rc = cc_sq_db_error(err, db, "recording a migration");
            goto out;
        }
        cc_log(CC_LOG_INFO, "migration applied", "migration", name, NULL);
    }
out:
    if (rc)
        exec(db, "ROLLBACK");
    else if (exec(db, "COMMIT") != SQLITE_OK)
        rc = cc_sq_db_error(err, db, "committing migrations");
    return rc;
}

/* ---- open and close -------------------------------------------------------------------- */
static void sq_close(void *impl)
{
    struct sq *q = impl;
    if (q->writer_started) {
        pthread_mutex_lock(&q->mu);
        q->stopping = 1;
        pthread_cond_broadcast(&q->work);
        pthread_mutex_unlock(&q->mu);
        pthread_join(q->writer, NULL);
    }
    sq_thread_done(q);
    pthread_mutex_lock(&q->conns_mu);
    struct conn *c = q->conns;
    q->conns = NULL;
    pthread_mutex_unlock(&q->conns_mu);
    while (c) {
        struct conn *next = c->next;
        conn_close(c);
        c = next;
    }
    conn_close(q->wconn);
    pthread_key_delete(q->tls);
    pthread_mutex_destroy(&q->conns_mu);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->work);
    cc_free(q->path);
    cc_free(q);
}

/* Every connection belongs to one thread at a time (NOMUTEX), so SQLite's
 * global allocation statistics would only add a process-wide mutex to each
 * of its allocations; nothing here reads them. Must precede the first use. */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void *sq_malloc(int n)
{
    return cc_try_malloc((size_t)n);
}

static void *sq_realloc(void *p, int n)
{
    return cc_try_realloc(p, (size_t)n);
}

static int sq_size(void *p)
{
    return p ? (int)malloc_usable_size(p) : 0;
}

static int sq_roundup(int n)
{
    return (n + 7) & ~7;
}

static int sq_init(void *unused)
{
    (void)unused;
    return SQLITE_OK;
}

static void sq_shutdown(void *unused)
{
    (void)unused;
}

/* SQLite allocates through the util layer too, so that a test can fail its
 * allocations (cc_alloc_fail_after). */
static void sqlite_configure(void)
{
    static const sqlite3_mem_methods mem = {sq_malloc, cc_free,    sq_realloc, sq_size,
                                            sq_roundup, sq_init,   sq_shutdown, NULL};
    sqlite3_config(SQLITE_CONFIG_MALLOC, &mem);
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

enum cc_err cc_sqlite_open(const struct cc_store_config *cfg, const char *path,
                           struct cc_store *s, struct cc_error *err)
{
    pthread_once(&sqlite_once, sqlite_configure);
    if (!sqlite3_threadsafe())
        return cc_error_set(err, CC_ERR_CONFIG, NULL, "SQLite was built without threads");
    struct sq *q = cc_calloc(1, sizeof *q);
    q->path = cc_strdup(path);
    q->sync_full = cfg->synchronous_full;
    q->busy_ms = cfg->busy_timeout_ms > 0 ? cfg->busy_timeout_ms : 5000;
    q->max_batch = cfg->max_batch > 0 ? cfg->max_batch : 256;
    pthread_key_create(&q->tls, tls_destructor);
    pthread_mutex_init(&q->conns_mu, NULL);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->work, NULL);
    s->ops = &sqlite_ops;
    s->impl = q;
    enum cc_err rc = conn_open(q, 1, &q->wconn, err);
    if (rc) {
        sq_close(q);
        return rc;
    }
    if (pthread_create(&q->writer, NULL, writer_main, q) != 0) {
        sq_close(q);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "cannot start the writer thread");
    }
    q->writer_started = 1;
    return CC_OK;
}

static const struct cc_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sq_close,
    .migrate = sq_migrate,
    .ping = sq_ping,
    .write = sq_write,
    .thread_done = sq_thread_done,
    .data_version = sq_data_version,
    .account_get = cc_sq_account_get,
    .key_get = cc_sq_key_get,
    .key_list = cc_sq_key_list,
    .contact_get = sq_contact_get,
    .contact_list = sq_contact_list,
    .tx_account_insert = cc_sq_account_insert,
    .tx_account_exists = cc_sq_account_exists,
    .tx_key_insert = cc_sq_key_insert,
    .tx_key_disable = cc_sq_key_disable,
    .tx_contact_get = tx_contact_get,
    .tx_contact_count = tx_contact_count,
    .tx_contact_insert = tx_contact_insert,
    .tx_contact_update = tx_contact_update,
    .tx_contact_delete = tx_contact_delete,
    .tx_idem_get = tx_idem_get,
    .tx_idem_put = tx_idem_put,
    .tx_audit = tx_audit,
    .tx_verif_insert = cc_sq_verif_insert,
    .tx_verif_get = cc_sq_verif_get,
    .tx_verif_latest = cc_sq_verif_latest,
    .tx_verif_update = cc_sq_verif_update,
    .tx_verif_supersede = cc_sq_verif_supersede,
    .tx_verif_counts = cc_sq_verif_counts,
    .tx_verif_confirmed_since = cc_sq_verif_confirmed_since,
    .tx_contact_set_verified = cc_sq_contact_set_verified,
    .tx_event_insert = cc_sq_event_insert,
    .tx_event_set_skipped = cc_sq_event_set_skipped,
    .tx_channel_health = cc_sq_channel_health,
    .tx_notif_claim_dest = cc_sq_notif_claim_dest,
    .tx_notif_insert = cc_sq_notif_insert,
    .tx_notif_claim = cc_sq_notif_claim,
    .tx_notif_record = cc_sq_notif_record,
    .tx_notif_cancel_contact = cc_sq_notif_cancel_contact,
    .tx_notif_resend = cc_sq_notif_resend,
    .event_get = cc_sq_event_get,
    .notif_list = cc_sq_notif_list,
    .notif_get = cc_sq_notif_get,
    .attempts_list = cc_sq_attempts_list,
    .notif_next_due = cc_sq_notif_next_due,
    .tx_template_put = cc_sq_template_put,
    .tx_template_delete = cc_sq_template_delete,
    .template_get = cc_sq_template_get,
    .template_list = cc_sq_template_list,
    .user_get = cc_sq_user_get,
    .user_by_email = cc_sq_user_by_email,
    .user_list = cc_sq_user_list,
    .session_get = cc_sq_session_get,
    .sign_in_failures = cc_sq_sign_in_failures,
    .tx_user_insert = cc_sq_user_insert,
    .tx_user_update = cc_sq_user_update,
    .tx_user_delete = cc_sq_user_delete,
    .tx_session_insert = cc_sq_session_insert,
    .tx_session_delete = cc_sq_session_delete,
    .tx_session_touch = cc_sq_session_touch,
    .tx_sign_in_failure = cc_sq_sign_in_failure,
    .tx_sign_in_clear = cc_sq_sign_in_clear,
};
