/*
 * pg_migrate.c — the PostgreSQL schema: the embedded migrations
 * (src/store/migrations/postgres/NNNN_name.sql, in order) that
 * schema_migrations does not record yet, each in its own transaction, all
 * under one advisory lock so that instances starting together migrate
 * once; and the check, before anything is written, that a database is
 * certcontacts' own (or empty) and not newer than this binary.
 *
 * The numbers are SQLite's: 0024_schema.sql is the schema SQLite reaches
 * with 0001–0024, and every later number has a file in both directories.
 */
#include <stdio.h>
#include <string.h>

#include "store/pg_int.h"
#include "store/store_common.h"
#include "util/util.h"

static const char prefix[] = "src/store/migrations/postgres/";

/* pg_advisory_lock's key for migrations: "CCmg". */
#define MIGRATION_LOCK 0x43436d67

int cc_pg_schema_version(void)
{
    return cc_store_schema_version(prefix);
}

static const char sql_tables[] =
    "SELECT count(*) FILTER (WHERE c.relname = 'schema_migrations'), count(*) "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind IN ('r', 'p') AND n.nspname = current_schema()";
static const char sql_newest[] = "SELECT coalesce(max(version), 0) FROM schema_migrations";

enum cc_err cc_pg_identify(struct pgc *c, const char *shown, struct cc_error *err)
{
    PGresult *r = cc_pg_exec(c, sql_tables, NULL, "examining the database", err);
    if (!r)
        return err->code;
    int64_t ours = cc_pg_get_i64(r, 0, 0), tables = cc_pg_get_i64(r, 0, 1);
    PQclear(r);
    if (!ours && tables)
        return cc_error_set(err, CC_ERR_STORE, NULL,
                            "database %s holds tables of another application, not "
                            "certcontacts'; nothing was changed. Give certcontacts an empty "
                            "database of its own",
                            shown);
    if (!ours)
        return CC_OK;
    int64_t version = 0;
    enum cc_err rc = cc_pg_one_i64(c, sql_newest, NULL, &version, "examining the database", err);
    if (rc)
        return rc;
    if (version > cc_pg_schema_version())
        return cc_error_set(err, CC_ERR_STORE, NULL,
                            "database %s has schema version %lld, newer than this certcontacts "
                            "knows (%d); nothing was changed. Run the newer release that wrote "
                            "it, or restore a backup made with this one",
                            shown, (long long)version, cc_pg_schema_version());
    return CC_OK;
}

static const char sql_lock[] = "SELECT pg_advisory_lock($1)";
static const char sql_unlock[] = "SELECT pg_advisory_unlock($1)";
static const char sql_have[] = "SELECT 1 FROM schema_migrations WHERE version = $1";
static const char sql_record[] =
    "INSERT INTO schema_migrations(version, name, applied_at) VALUES ($1, $2, $3)";

/* Applies migration f (version v, file name name) in its own transaction. */
static enum cc_err apply(struct pgc *c, const struct cc_embedded_file *f, int64_t version,
                         const char *name, struct cc_error *err)
{
    enum cc_err rc = cc_pg_simple(c, "BEGIN", "starting a migration", err);
    if (rc)
        return rc;
    rc = cc_pg_simple(c, (const char *)f->data, name, err);
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, version);
    cc_pg_text(&p, name);
    cc_pg_i64(&p, cc_now_ms());
    if (!rc)
        rc = cc_pg_do(c, sql_record, &p, "recording a migration", err);
    if (!rc)
        rc = cc_pg_simple(c, "COMMIT", "committing a migration", err);
    if (rc) {
        PGresult *r = PQexec(c->conn, "ROLLBACK");
        PQclear(r);
        return rc;
    }
    cc_log(CC_LOG_INFO, "migration applied", "migration", name, NULL);
    return CC_OK;
}

static enum cc_err migrate_locked(struct pgc *c, struct cc_error *err)
{
    enum cc_err rc = cc_pg_simple(c,
                                  "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                  "version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
                                  "applied_at BIGINT NOT NULL)",
                                  "creating schema_migrations", err);
    for (const struct cc_embedded_file *f = cc_embedded; !rc && f->path; f++) {
        if (strncmp(f->path, prefix, sizeof prefix - 1) != 0)
            continue;
        const char *name = f->path + sizeof prefix - 1;
        int64_t version;
        if (cc_parse_i64n(name, 4, 1, 9999, &version))
            return cc_error_set(err, CC_ERR_INTERNAL, NULL, "bad migration name %s", name);
        struct pgp p;
        cc_pg_params(&p);
        cc_pg_i64(&p, version);
        PGresult *r = cc_pg_exec(c, sql_have, &p, "reading schema_migrations", err);
        if (!r)
            return err->code;
        int have = PQntuples(r) > 0;
        PQclear(r);
        if (!have)
            rc = apply(c, f, version, name, err);
    }
    return rc;
}

enum cc_err cc_pg_migrate(void *impl, struct cc_error *err)
{
    struct pgc *c = cc_pg_acquire(impl, err);
    if (!c)
        return err->code;
    struct pgp p;
    cc_pg_params(&p);
    cc_pg_i64(&p, MIGRATION_LOCK);
    enum cc_err rc = cc_pg_do(c, sql_lock, &p, "waiting for other instances' migrations", err);
    if (!rc) {
        rc = migrate_locked(c, err);
        struct cc_error ignored;
        cc_pg_do(c, sql_unlock, &p, "migrations", &ignored);
    }
    cc_pg_release(c);
    return rc;
}
