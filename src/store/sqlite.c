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
 *
 * A file is trusted before it is written to: an existing one is opened
 * read-only first and must be certcontacts' own (PRAGMA application_id, or
 * our tables in a database from before the stamp), of a schema this binary
 * knows (PRAGMA user_version), and pass a PRAGMA quick_check bounded in
 * time; anything else is refused with what to do, and the file stays as it
 * was. Only a file that does not exist becomes a new database.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* One process owns a SQLite database (the data directory's lock), so it runs
 * every singleton job. */
static enum cc_err sq_lead(void *impl, const char *job, int *leader, struct cc_error *err)
{
    (void)impl;
    (void)job;
    (void)err;
    *leader = 1;
    return CC_OK;
}

/* ---- the registry of open stores ------------------------------------------
 * SQLite reports damage and a full disk on whichever connection meets them;
 * the registry finds the stores of that connection's file. */
static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static struct sq *open_stores;

void cc_sq_mark(sqlite3 *db, enum cc_sq_mark what)
{
    const char *file = sqlite3_db_filename(db, "main");
    pthread_mutex_lock(&open_mu);
    for (struct sq *q = open_stores; q && file; q = q->next_open)
        if (q->file && !strcmp(q->file, file))
            __atomic_store_n(what == CC_SQ_DAMAGED ? &q->damaged : &q->full, 1,
                             __ATOMIC_RELEASE);
    pthread_mutex_unlock(&open_mu);
}

static void registry_add(struct sq *q)
{
    q->file = cc_strdup(sqlite3_db_filename(q->wconn->db, "main"));
    pthread_mutex_lock(&open_mu);
    q->next_open = open_stores;
    open_stores = q;
    pthread_mutex_unlock(&open_mu);
}

static void registry_remove(struct sq *q)
{
    pthread_mutex_lock(&open_mu);
    for (struct sq **p = &open_stores; *p; p = &(*p)->next_open)
        if (*p == q) {
            *p = q->next_open;
            break;
        }
    pthread_mutex_unlock(&open_mu);
}

static void sq_close(void *impl)
{
    struct sq *q = impl;
    registry_remove(q);
    cc_sq_writer_stop(q);
    cc_sq_conns_cleanup(q);
    cc_sq_conn_close(q->wconn);
    cc_free(q->file);
    cc_free(q->path);
    cc_free(q);
}

/* ---- is this file ours? ----------------------------------------------------- */
static const char see_docs[] = "see docs/operations.md";

/* The refusal for an error SQLite gave while the file was being examined. */
static enum cc_err examine_error(struct cc_error *err, sqlite3 *db, const char *path)
{
    int primary = sqlite3_extended_errcode(db) & 0xff;
    if (primary == SQLITE_NOTADB)
        return cc_error_set(err, CC_ERR_STORE, NULL,
                            "database %s is not a SQLite database, or its first page is "
                            "damaged; nothing was changed. Check the db option, or restore the "
                            "file from a backup (%s)",
                            path, see_docs);
    if (primary == SQLITE_CORRUPT)
        return cc_error_set(err, CC_ERR_STORAGE_CORRUPT, NULL,
                            "database %s is damaged; nothing was changed. Run certcontacts "
                            "check, then restore a backup or use sqlite3's .recover (%s)",
                            path, see_docs);
    return cc_error_set(err, CC_ERR_STORE, NULL, "cannot read database %s: %s", path,
                        sqlite3_errmsg(db));
}

/* The first column of sql's first row as an integer into *out. */
static int query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

/* Says whether the open database db is a certcontacts database this binary
 * may open: CC_OK, or the refusal with what to do. */
static enum cc_err identify(sqlite3 *db, const char *path, struct cc_error *err)
{
    int64_t app = 0, version = 0, ours = 0, applied = 0;
    if (query_int(db, "PRAGMA application_id", &app) ||
        query_int(db, "PRAGMA user_version", &version) ||
        query_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                      "('schema_migrations', 'accounts', 'access_keys')", &ours))
        return examine_error(err, db, path);
    if (app != CC_SQ_APPLICATION_ID && app != 0)
        return cc_error_set(err, CC_ERR_STORE, NULL,
                            "database %s belongs to another application (application_id "
                            "0x%08llx); nothing was changed. Check the db option: certcontacts "
                            "creates its database only where no file exists",
                            path, (unsigned long long)app);
    if (app == 0 && ours != 3)
        return cc_error_set(err, CC_ERR_STORE, NULL,
                            "database %s is a SQLite file of another application, not "
                            "certcontacts'; nothing was changed. Check the db option: "
                            "certcontacts creates its database only where no file exists",
                            path);
    if (ours == 3 &&
        query_int(db, "SELECT coalesce(max(version), 0) FROM schema_migrations", &applied))
        return examine_error(err, db, path);
    if (applied > version)
        version = applied;
    if (version > cc_sq_schema_version())
        return cc_error_set(err, CC_ERR_STORE, NULL,
                            "database %s has schema version %lld, newer than this certcontacts "
                            "knows (%d); nothing was changed. Run the newer release that wrote "
                            "it, or restore a backup made with this one",
                            path, (long long)version, cc_sq_schema_version());
    return CC_OK;
}

struct deadline {
    int64_t at_ms;
    int passed;
};

/* Progress handler: stops the statement once the deadline has passed. */
static int past_deadline(void *arg)
{
    struct deadline *d = arg;
    if (cc_now_ms() < d->at_ms)
        return 0;
    d->passed = 1;
    return 1;
}

/* Whether problem t is SQLite 3.40's false report on a WITHOUT ROWID table
 * whose NOT NULL column sits between its key's columns ("NULL value in
 * certificate_domains.account_id", where no such row exists; the tables
 * were rebuilt by migration 0013, but a database from before it meets the
 * check first). The claim is tried with a query of its own: a NULL that is
 * really there is still reported. */
static int null_report_is_false(sqlite3 *db, const char *t)
{
    static const char prefix[] = "NULL value in ";
    if (strncmp(t, prefix, sizeof prefix - 1))
        return 0;
    const char *name = t + sizeof prefix - 1, *dot = strchr(name, '.');
    size_t tl = dot ? (size_t)(dot - name) : 0, cl = dot ? strlen(dot + 1) : 0;
    if (!tl || !cl || tl > 64 || cl > 64 || strspn(name, "abcdefghijklmnopqrstuvwxyz_0123456789") != tl ||
        strspn(dot + 1, "abcdefghijklmnopqrstuvwxyz_0123456789") != cl)
        return 0;
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT 1 FROM \"%.*s\" WHERE \"%s\" IS NULL LIMIT 1", (int)tl,
             name, dot + 1);
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    sqlite3_finalize(q);
    return rc == SQLITE_DONE;
}

/* Runs check (quick_check or integrity_check) on db, at most limit_s
 * seconds (0: no bound), handing each problem it reports to line (may be
 * NULL). Returns the problems found (0: none), or -1 on an error of SQLite
 * (in db) and -2 when the time ran out. *first gets the first problem. */
static int run_check(sqlite3 *db, const char *check, int limit_s,
                     void (*line)(void *arg, const char *text), void *arg, char *first,
                     size_t firstsz)
{
    struct deadline d = {cc_now_ms() + (int64_t)limit_s * 1000, 0};
    if (limit_s > 0)
        sqlite3_progress_handler(db, 10000, past_deadline, &d);
    sqlite3_stmt *s = NULL;
    int problems = 0, rc = sqlite3_prepare_v2(db, check, -1, &s, NULL);
    first[0] = '\0';
    while (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 0);
        rc = SQLITE_OK;
        if (!t || !strcmp(t, "ok"))
            continue;
        /* "*** in database main ***\nPage 79: ..." → "Page 79: ..." */
        static const char header[] = "*** in database main ***\n";
        if (!strncmp(t, header, sizeof header - 1))
            t += sizeof header - 1;
        if (null_report_is_false(db, t))
            continue;
        if (!problems++) {
            cc_strlcpy(first, t, firstsz);
            first[strcspn(first, "\n")] = '\0';
        }
        if (line)
            line(arg, t);
    }
    sqlite3_finalize(s);
    sqlite3_progress_handler(db, 0, NULL, NULL);
    if (d.passed)
        return -2;
    if (rc != SQLITE_DONE) {
        /* SQLite may stop on the damage itself rather than report it. */
        if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_CORRUPT && !problems) {
            cc_strlcpy(first, sqlite3_errmsg(db), firstsz);
            if (line)
                line(arg, first);
            return 1;
        }
        return problems ? problems : -1;
    }
    return problems;
}

/* Opens the existing file at path read-only; *db is the caller's to close. */
static enum cc_err open_readonly(const char *path, sqlite3 **db, struct cc_error *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return cc_error_set(err, CC_ERR_STORE, NULL, "cannot open database %s: %s", path,
                            strerror(errno));
    if (!S_ISREG(st.st_mode))
        return cc_error_set(err, CC_ERR_STORE, NULL, "database %s is not a regular file", path);
    if (st.st_size == 0)
        return cc_error_set(err, CC_ERR_STORE, NULL,
                            "database %s is an empty file (0 bytes); nothing was changed. "
                            "Restore it from a backup, or remove it to start a new database "
                            "(%s)",
                            path, see_docs);
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        return cc_error_set(err, CC_ERR_STORE, NULL, "cannot open database %s: %s", path,
                            *db ? sqlite3_errmsg(*db) : "out of memory");
    sqlite3_extended_result_codes(*db, 1);
    return CC_OK;
}

/* Examines an existing file before anything writes to it: ours, a schema
 * we know, and (quick_check_s > 0) no damage that quick_check finds within
 * quick_check_s seconds. */
static enum cc_err examine(const char *path, int quick_check_s, struct cc_error *err)
{
    sqlite3 *db = NULL;
    enum cc_err rc = open_readonly(path, &db, err);
    if (!rc)
        rc = identify(db, path, err);
    if (!rc && quick_check_s > 0) {
        /* The check reads every page once: mapped, not copied page by page
         * through read(2) — a fifth less time at a million contacts. This
         * connection only reads, and is closed before any write. */
        cc_sq_exec(db, "PRAGMA mmap_size = 1073741824");
        char first[200];
        int n = run_check(db, "PRAGMA quick_check", quick_check_s, NULL, NULL, first,
                          sizeof first);
        if (n == -2) {
            char limit[32];
            snprintf(limit, sizeof limit, "%d", quick_check_s);
            cc_log(CC_LOG_WARN, "the start-up quick_check of the database did not finish in "
                   "time and was stopped; run certcontacts check when convenient",
                   "seconds", limit, "db", path, NULL);
        } else if (n == -1) {
            rc = examine_error(err, db, path);
        } else if (n > 0) {
            rc = cc_error_set(err, CC_ERR_STORAGE_CORRUPT, NULL,
                              "database %s is damaged (quick_check: %.60s); nothing was "
                              "changed. Run certcontacts check, then restore a backup or use "
                              "sqlite3's .recover (%s)",
                              path, first, see_docs);
        }
    }
    sqlite3_close(db);
    return rc;
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
    struct stat st;
    int create = stat(path, &st) != 0 && errno == ENOENT;
    if (!create) {
        enum cc_err rc = examine(path, cfg->quick_check_s, err);
        if (rc)
            return rc;
    }
    struct sq *q = cc_calloc(1, sizeof *q);
    q->path = cc_strdup(path);
    q->create = create;
    q->quick_check_s = cfg->quick_check_s;
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
    registry_add(q);
    return CC_OK;
}

enum cc_err cc_sqlite_check(const char *path, void (*line)(void *arg, const char *text),
                            void *arg, struct cc_error *err)
{
    pthread_once(&sqlite_once, sqlite_configure);
    sqlite3 *db = NULL;
    enum cc_err rc = open_readonly(path, &db, err);
    if (!rc)
        rc = identify(db, path, err);
    if (!rc) {
        char first[200];
        int n = run_check(db, "PRAGMA integrity_check", 0, line, arg, first, sizeof first);
        if (n < 0)
            rc = examine_error(err, db, path);
        else if (n > 0)
            rc = cc_error_setn(err, CC_ERR_STORAGE_CORRUPT, NULL, n,
                               "database %s is damaged: integrity_check found %d problem. "
                               "Restore a backup, or use sqlite3's .recover (%s)",
                               "database %s is damaged: integrity_check found %d problems. "
                               "Restore a backup, or use sqlite3's .recover (%s)",
                               path, n, see_docs);
    }
    sqlite3_close(db);
    return rc;
}

/* ---- the database's own settings (the meta table) ---------------------------- */
static const char sql_meta_get[] = "SELECT value FROM meta WHERE name = ?1";

enum cc_err cc_sq_meta_read(struct conn *c, const char *name, char *out, size_t outsz,
                            struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, sql_meta_get, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        cc_sq_col_text(s, 0, out, outsz);
    cc_sq_done(s);
    if (rc == SQLITE_ROW)
        return CC_OK;
    if (rc == SQLITE_DONE)
        return cc_error_set(err, CC_ERR_NOT_FOUND, NULL, "no %s recorded", name);
    return cc_sq_db_error(err, c->db, "reading the database's settings");
}

static enum cc_err sq_meta_get(void *impl, const char *name, char *out, size_t outsz,
                               struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(impl, err);
    return c ? cc_sq_meta_read(c, name, out, outsz, err) : CC_ERR_STORE;
}

struct meta_set {
    const char *name, *value;
};

static const char sql_meta_set[] =
    "INSERT INTO meta(name, value) VALUES (?1, ?2) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value";

static enum cc_err tx_meta_set(struct cc_tx *tx, void *arg, struct cc_error *err)
{
    struct meta_set *m = arg;
    struct conn *c = tx->impl;
    sqlite3_stmt *s = cc_sq_stmt(c, sql_meta_set, err);
    if (!s)
        return CC_ERR_STORE;
    sqlite3_bind_text(s, 1, m->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, m->value, -1, SQLITE_STATIC);
    return cc_sq_step_done(c, s, "recording the database's settings", err);
}

static enum cc_err sq_meta_set(struct cc_store *s, const char *name, const char *value,
                               struct cc_error *err)
{
    struct meta_set m = {name, value};
    return cc_sq_write(s, tx_meta_set, &m, err);
}

/* fn on the calling thread's read connection (query-only: a write fails)
 * between BEGIN and COMMIT, so that its reads share one WAL snapshot. */
static enum cc_err sq_read(struct cc_store *s, cc_tx_fn fn, void *arg, struct cc_error *err)
{
    struct conn *c = cc_sq_rconn(s->impl, err);
    if (!c)
        return CC_ERR_STORE;
    enum cc_err rc = cc_sq_read_begin(c, err);
    if (rc)
        return rc;
    struct cc_tx tx = {s->ops, c};
    rc = fn(&tx, arg, err);
    cc_sq_read_end(c);
    return rc;
}

const struct cc_store_ops cc_sq_ops = {
    .name = "sqlite",
    .close = sq_close,
    .migrate = cc_sq_migrate,
    .ping = sq_ping,
    .lead = sq_lead,
    .meta_get = sq_meta_get,
    .meta_set = sq_meta_set,
    .write = cc_sq_write_flags,
    .write_queued = cc_sq_write_queued,
    .read = sq_read,
    .shared = 0,
    .state_update = cc_sq_state_update,
    .nonce_take = cc_sq_nonce_take,
    .thread_done = cc_sq_thread_done,
    .read_hold = cc_sq_read_hold,
    .read_mark = cc_sq_read_mark,
    .accounts = &cc_sq_account_ops,
    .contacts = &cc_sq_contact_ops,
    .verifs = &cc_sq_verif_ops,
    .outbox = &cc_sq_outbox_ops,
    .templates = &cc_sq_template_ops,
    .sealed = &cc_sq_sealed_ops,
    .users = &cc_sq_user_ops,
    .audit = &cc_sq_audit_ops,
    .applications = &cc_sq_application_ops,
    .certificates = &cc_sq_certificate_ops,
    .reminders = &cc_sq_reminder_ops,
    .endpoints = &cc_sq_endpoint_ops,
    .acme = &cc_sq_acme_ops,
    .stats = &cc_sq_stats_ops,
    .imports = &cc_sq_import_ops,
};

/* ---- online backup ------------------------------------------------------------- */

#define BACKUP_PAGES 256 /* pages per step: progress between steps */

/* Copies src into the open (empty) dst with the online backup API. src is
 * held in one read transaction from the first step to the last: the copy is
 * the database as of that moment, and the server's writes (WAL) go on
 * beside it without restarting the copy. */
static enum cc_err backup_pages(sqlite3 *src, sqlite3 *dst, const char *path,
                                const struct cc_backup_progress *pr, struct cc_error *err)
{
    if (sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) !=
        SQLITE_OK)
        return examine_error(err, src, path);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
        return cc_error_set(err, CC_ERR_IO, NULL, "cannot start the backup: %s",
                            sqlite3_errmsg(dst));
    }
    int rc;
    while ((rc = sqlite3_backup_step(b, BACKUP_PAGES)) == SQLITE_OK || rc == SQLITE_BUSY ||
           rc == SQLITE_LOCKED) {
        if (rc != SQLITE_OK)
            sqlite3_sleep(20);
        else if (pr && pr->fn)
            pr->fn(pr->arg, sqlite3_backup_pagecount(b) - sqlite3_backup_remaining(b),
                   sqlite3_backup_pagecount(b));
    }
    if (rc == SQLITE_DONE && pr && pr->fn)
        pr->fn(pr->arg, sqlite3_backup_pagecount(b), sqlite3_backup_pagecount(b));
    sqlite3_backup_finish(b);
    sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    if (rc != SQLITE_DONE)
        return cc_error_set(err, rc == SQLITE_FULL ? CC_ERR_STORAGE_FULL : CC_ERR_IO, NULL,
                            "backup of %s failed: %s", path, sqlite3_errmsg(dst));
    return CC_OK;
}

/* Makes the closed file tmp durable and gives it the name dest; its size
 * into *bytes. */
static enum cc_err backup_settle(const char *tmp, const char *dest, int64_t *bytes,
                                 struct cc_error *err)
{
    int fd = open(tmp, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fsync(fd) != 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        return cc_error_set(err, CC_ERR_IO, NULL, "cannot write %s: %s", tmp, strerror(e));
    }
    close(fd);
    if (rename(tmp, dest) != 0 || cc_fsync_parent(dest) != 0)
        return cc_error_set(err, CC_ERR_IO, NULL, "cannot rename %s to %s: %s", tmp, dest,
                            strerror(errno));
    if (bytes)
        *bytes = (int64_t)st.st_size;
    return CC_OK;
}

enum cc_err cc_sqlite_backup(const char *path, const char *dest,
                             const struct cc_backup_progress *pr, int64_t *bytes,
                             struct cc_error *err)
{
    pthread_once(&sqlite_once, sqlite_configure);
    char tmp[4200];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", dest) >= sizeof tmp)
        return cc_error_set(err, CC_ERR_CONFIG, NULL, "backup file name too long");
    struct stat a, b;
    if (stat(path, &a) == 0 && stat(dest, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return cc_error_set(err, CC_ERR_CONFIG, NULL,
                            "%s is the database itself: give the backup another name", dest);
    sqlite3 *src = NULL, *dst = NULL;
    enum cc_err rc = open_readonly(path, &src, err);
    if (!rc)
        rc = identify(src, path, err);
    if (rc) {
        sqlite3_close(src);
        return rc;
    }
    mode_t old = umask(077);
    int fd = mkstemp(tmp);
    umask(old);
    if (fd < 0) {
        int e = errno;
        sqlite3_close(src);
        return cc_error_set(err, CC_ERR_IO, NULL, "cannot create a file beside %s: %s", dest,
                            strerror(e));
    }
    fchmod(fd, 0600);
    close(fd);
    if (sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        rc = cc_error_set(err, CC_ERR_IO, NULL, "cannot open %s: %s", tmp,
                          dst ? sqlite3_errmsg(dst) : "out of memory");
    if (!rc)
        rc = backup_pages(src, dst, path, pr, err);
    /* Closing checkpoints the copy's own WAL into it, if it made one. */
    if (sqlite3_close(dst) != SQLITE_OK && !rc)
        rc = cc_error_set(err, CC_ERR_IO, NULL, "cannot close %s", tmp);
    sqlite3_close(src);
    if (!rc)
        rc = backup_settle(tmp, dest, bytes, err);
    if (rc) {
        static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
        for (int i = 0; i < 4; i++) {
            char p[4300];
            snprintf(p, sizeof p, "%s%s", tmp, sfx[i]);
            unlink(p);
        }
    }
    return rc;
}
