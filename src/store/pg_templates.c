/*
 * pg_templates.c — the PostgreSQL side of an account's own notification
 * templates (table templates), statement for statement the same as
 * sqlite_templates.c: save, delete, read one, list. Writes run inside
 * cc_store_write's transactions; reads on a connection of the pool.
 */
#include <string.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_put[] =
    "INSERT INTO templates(account_id, event_type, channel, language, title, body, updated_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) "
    "ON CONFLICT (account_id, event_type, channel, language) DO UPDATE SET "
    "title = excluded.title, body = excluded.body, updated_at = excluded.updated_at";
static const char sql_delete[] =
    "DELETE FROM templates WHERE account_id = $1 AND event_type = $2 AND channel = $3 "
    "AND language = $4";
static const char sql_get[] =
    "SELECT title, body FROM templates WHERE account_id = $1 AND event_type = $2 "
    "AND channel = $3 AND language = $4";
/* ORDER BY on text: the C collation, as SQLite's BINARY, whatever the
 * database's own collation is. */
static const char sql_list[] =
    "SELECT event_type, channel, language, title, body, updated_at FROM templates "
    "WHERE account_id = $1 ORDER BY event_type COLLATE \"C\", channel COLLATE \"C\", "
    "language COLLATE \"C\" LIMIT $2";

static void bind_key(struct pgp *p, int64_t account_id, const char *event_type,
                     const char *channel, const char *language)
{
    cc_pg_params(p);
    cc_pg_i64(p, account_id);
    cc_pg_text(p, event_type);
    cc_pg_text(p, channel);
    cc_pg_text(p, language);
}

static enum cc_err tx_template_put(void *tx, int64_t account_id, const struct cc_template *t,
                                   struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    bind_key(&p, account_id, t->event_type, t->channel, t->language);
    cc_pg_text(&p, t->title);
    cc_pg_text(&p, t->body);
    cc_pg_i64(&p, t->updated_at);
    return cc_pg_do(c, sql_put, &p, "saving a template", err);
}

static enum cc_err tx_template_delete(void *tx, int64_t account_id, const char *event_type,
                                      const char *channel, const char *language,
                                      struct cc_error *err)
{
    struct pgc *c = tx;
    struct pgp p;
    bind_key(&p, account_id, event_type, channel, language);
    int64_t changed = 0;
    /* sqlite3_changes() -> the command's row count. */
    enum cc_err rc = cc_pg_do_n(c, sql_delete, &p, &changed, "deleting a template", err);
    if (!rc && changed == 0)
        return cc_store_template_missing(event_type, channel, language, err);
    return rc;
}

static enum cc_err read_template_get(void *impl, int64_t account_id, const char *event_type,
                                     const char *channel, const char *language, char *title,
                                     size_t titlesz, char *body, size_t bodysz,
                                     struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    bind_key(&p, account_id, event_type, channel, language);
    enum cc_err rc = CC_OK;
    PGresult *r = cc_pg_exec(c, sql_get, &p, "reading a template", err);
    if (!r) {
        rc = err->code;
    } else if (PQntuples(r) > 0) {
        cc_pg_get_text(r, 0, 0, title, titlesz);
        cc_pg_get_text(r, 0, 1, body, bodysz);
    } else {
        rc = cc_store_template_missing(event_type, channel, language, err);
    }
    PQclear(r);
    cc_pg_release(c);
    return rc;
}

static enum cc_err read_template_list(void *impl, int64_t account_id, struct cc_template **out,
                                      size_t *n, struct cc_error *err)
{
    *out = NULL;
    *n = 0;
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return CC_ERR_STORE;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, account_id);
    cc_pg_i64(&p, CC_TEMPLATES_MAX);
    PGresult *r = cc_pg_exec(c, sql_list, &p, "listing templates", err);
    cc_pg_release(c);
    if (!r)
        return err->code;
    struct cc_template *items = cc_calloc(CC_TEMPLATES_MAX, sizeof *items);
    int rows = PQntuples(r);
    for (int i = 0; i < rows && *n < CC_TEMPLATES_MAX; i++) {
        struct cc_template *t = &items[(*n)++];
        cc_pg_get_text(r, i, 0, t->event_type, sizeof t->event_type);
        cc_pg_get_text(r, i, 1, t->channel, sizeof t->channel);
        cc_pg_get_text(r, i, 2, t->language, sizeof t->language);
        cc_pg_get_text(r, i, 3, t->title, sizeof t->title);
        cc_pg_get_text(r, i, 4, t->body, sizeof t->body);
        t->updated_at = cc_pg_get_i64(r, i, 5);
    }
    PQclear(r);
    *out = items;
    return CC_OK;
}

const struct cc_store_template_ops cc_pg_template_ops = {CC_STORE_TEMPLATE_OPS(CC_STORE_OP_INIT)};
