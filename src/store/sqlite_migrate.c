/*
 * sqlite_migrate.c — applies the embedded migrations
 * (src/store/migrations/sqlite/NNNN_name.sql, in order) that
 * schema_migrations does not record yet, all in one transaction on the
 * writer's connection, and stamps the file as certcontacts' own
 * (PRAGMA application_id) with the schema version it now has (PRAGMA
 * user_version: the newest migration's number), which sqlite.c checks
 * before it opens a file for writing. What a migration asks for that SQL
 * cannot do runs here too, in the same transaction: the short keyword
 * index's tokens (0027, sqlite_grams.c).
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "store/store_common.h"
#include "util/util.h"

static const char prefix[] = "src/store/migrations/sqlite/";

int cc_sq_schema_version(void)
{
    return cc_store_schema_version(prefix);
}

enum cc_err cc_sq_migrate(void *impl, struct cc_error *err)
{
    struct sq *q = impl;
    sqlite3 *db = q->wconn->db;
    if (cc_sq_exec(db, "BEGIN IMMEDIATE") != SQLITE_OK)
        return cc_sq_db_error(err, db, "starting migrations");
    enum cc_err rc = CC_OK;
    if (cc_sq_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
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
        if (cc_sq_exec(db, (const char *)f->data) != SQLITE_OK) {
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
    /* the tokens of contacts_grams are made in C: 0027 can only ask for them */
    if ((rc = cc_sq_grams_fill(q->wconn, err)))
        goto out;
    if ((rc = cc_sq_audit_seal(db, err)))
        goto out;
    char stamp[96];
    snprintf(stamp, sizeof stamp, "PRAGMA application_id = %d; PRAGMA user_version = %d",
             CC_SQ_APPLICATION_ID, cc_sq_schema_version());
    if (cc_sq_exec(db, stamp) != SQLITE_OK)
        rc = cc_sq_db_error(err, db, "stamping the schema version");
out:
    if (rc)
        cc_sq_exec(db, "ROLLBACK");
    else if (cc_sq_exec(db, "COMMIT") != SQLITE_OK)
        rc = cc_sq_db_error(err, db, "committing migrations");
    /* The pages the migrations read stay cached on this connection (the
     * writer's) until a write needs room: give them back now, so an idle
     * server does not hold them. */
    sqlite3_db_release_memory(db);
    return rc;
}
