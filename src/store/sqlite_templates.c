/*
 * sqlite_templates.c — the SQLite side of an account's own notification
 * templates (table templates, migration 0005): save, delete, read one, list.
 * Writes run inside the writer's transactions (sqlite_writer.c); reads on the
 * calling thread's read connection.
 */
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_put[] =
    "INSERT INTO templates(account_id, event_type, channel, language, title, body, updated_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
    "ON CONFLICT (account_id, event_type, channel, language) DO UPDATE SET "
    "title = excluded.title, body = excluded.body, updated_at = excluded.updated_at";
static const char sql_delete[] =
    "DELETE FROM templates WHERE account_id = ?1 AND event_type = ?2 AND channel = ?3 "
    "AND language = ?4";
static const char sql_get[] =
    "SELECT title, body FROM templates WHERE account_id = ?1 AND event_type = ?2 "
    "AND channel = ?3 AND language = ?4";
static const char sql_list[] =
    "SELECT event_type, channel, language, title, body, updated_at FROM templates "
    "WHERE account_id = ?1 ORDER BY event_type, channel, language LIMIT ?2";

static void bind_key(sqlite3_stmt *s, int64_t account_id, const char *event_type,
                     const char *channel, const char *language)
{
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_text(s, 2, event_type, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, channel, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, language, -1, SQLITE_STATIC);
}

static enum cc_err tx_template_put(void *tx, int64_t account_id, const struct cc_template *t,
                                   struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_put, err);
    if (!s)
        return CC_ERR_STORE;
    bind_key(s, account_id, t->event_type, t->channel, t->language);
    sqlite3_bind_text(s, 5, t->title, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, t->body, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, t->updated_at);
    return cc_sq_step_done(c, s, "saving a template", err);
}

static enum cc_err tx_template_delete(void *tx, int64_t account_id, const char *event_type,
                                      const char *channel, const char *language,
                                      struct cc_error *err)
{
    struct conn *c = tx;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_delete, err);
    if (!s)
        return CC_ERR_STORE;
    bind_key(s, account_id, event_type, channel, language);
    enum cc_err rc = cc_sq_step_done(c, s, "deleting a template", err);
    if (!rc && sqlite3_changes(c->db) == 0)
        return cc_store_template_missing(event_type, channel, language, err);
    return rc;
}

static enum cc_err read_template_get(void *impl, int64_t account_id, const char *event_type,
                                     const char *channel, const char *language, char *title,
                                     size_t titlesz, char *body, size_t bodysz,
                                     struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_get, err);
    if (!s)
        return CC_ERR_STORE;
    bind_key(s, account_id, event_type, channel, language);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        cc_sq_col_text(s, 0, title, titlesz);
        cc_sq_col_text(s, 1, body, bodysz);
    }
    cc_sq_done(s);
    if (rc == SQLITE_DONE)
        return cc_store_template_missing(event_type, channel, language, err);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "reading a template");
}

static enum cc_err read_template_list(void *impl, int64_t account_id, struct cc_template **out,
                                      size_t *n, struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_list, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_int64(s, 1, account_id);
    sqlite3_bind_int(s, 2, CC_TEMPLATES_MAX);
    struct cc_template *items = cc_calloc(CC_TEMPLATES_MAX, sizeof *items);
    int rc = SQLITE_DONE;
    while (*n < CC_TEMPLATES_MAX && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct cc_template *t = &items[(*n)++];
        cc_sq_col_text(s, 0, t->event_type, sizeof t->event_type);
        cc_sq_col_text(s, 1, t->channel, sizeof t->channel);
        cc_sq_col_text(s, 2, t->language, sizeof t->language);
        cc_sq_col_text(s, 3, t->title, sizeof t->title);
        cc_sq_col_text(s, 4, t->body, sizeof t->body);
        t->updated_at = sqlite3_column_int64(s, 5);
    }
    if (*n < CC_TEMPLATES_MAX && rc != SQLITE_DONE) {
        cc_sq_db_error(err, c->db, "listing templates");
        cc_sq_done(s);
        cc_free(items);
        *n = 0;
        return CC_ERR_STORE;
    }
    cc_sq_done(s);
    *out = items;
    return CC_OK;
}

const struct cc_store_template_ops cc_sq_template_ops = {CC_STORE_TEMPLATE_OPS(CC_STORE_OP_INIT)};
