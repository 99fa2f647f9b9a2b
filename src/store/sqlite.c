/*
 * sqlite.c — the SQLite backend of store.h: opening and closing the store,
 * and the backend's table of operations that holds the store's lifecycle and
 * every aggregate's table.
 *
 * One database file in WAL mode with foreign keys on. Reads run on a
 * connection private to each thread (sqlite_conn.c); writes are queued to
 * one writer thread that commits them in batches (sqlite_writer.c);
 * migrations are embedded .sql files (sqlite_migrate.c). Each aggregate's
 * SQL is in its own file: sqlite_accounts.c, sqlite_contacts.c,
 * sqlite_verifications.c, sqlite_outbox.c,
 * sqlite_templates.c, sqlite_users.c, sqlite_audit.c.
 */
#include <malloc.h>
#include <pthread.h>

#include <sqlite3.h>

#include "store/sqlite_int.h"
#include "store/store_int.h"
#include "util/util.h"

static const char sql_ping[] = "SELECT 1";

static enum cc_err sq_ping(void *impl, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    if (!c)
        return CC_ERR_STORE;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_ping, err);
    if (!s)
        return CC_ERR_STORE;
    int rc = sqlite3_step(s);
    cc_sq_done(s);
    return rc == SQLITE_ROW ? CC_OK : cc_sq_db_error(err, c->db, "ping");
}

static void sq_close(void *impl)
{
    struct sq *q = impl;
    cc_sq_writer_stop(q);
    cc_sq_conns_cleanup(q);
    cc_sq_conn_close(q->wconn);
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
    cc_sq_conns_init(q);
    s->ops = &cc_sq_ops;
    s->impl = q;
    enum cc_err rc = cc_sq_conn_open(q, 1, &q->wconn, err);
    if (!rc)
        rc = cc_sq_writer_start(q, err);
    if (rc) {
        sq_close(q);
        return rc;
    }
    return CC_OK;
}

const struct cc_store_ops cc_sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .migrate = cc_sq_migrate,
    .ping = sq_ping,
    .write = cc_sq_write,
    .thread_done = cc_sq_thread_done,
    .accounts = &cc_sq_account_ops,
    .contacts = &cc_sq_contact_ops,
    .verifs = &cc_sq_verif_ops,
    .outbox = &cc_sq_outbox_ops,
    .templates = &cc_sq_template_ops,
    .users = &cc_sq_user_ops,
    .audit = &cc_sq_audit_ops,
};
