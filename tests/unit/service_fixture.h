/*
 * service_fixture.h — a service on a real SQLite database in a fresh
 * temporary directory, with one account and its first admin key, for the
 * unit tests that need the whole service (test_service.c, test_users.c).
 * With CC_TEST_PG set to a PostgreSQL server's base URL
 * (postgres://USER@HOST:PORT/, as scripts/pg-test.sh prints it) the store
 * is a fresh PostgreSQL database on that server instead, dropped on close.
 * Header-only: each unit test is one program.
 */
#ifndef CC_TEST_SERVICE_FIXTURE_H
#define CC_TEST_SERVICE_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include "service/service.h"
#include "service/service_int.h" /* tests change the service's settings */
#include "store/store.h"
#include "util/util.h"

struct svc_fixture {
    char dir[64];
    char url[256];
    char pg_db[64];           /* the PostgreSQL database made for it, or "" */
    struct cc_store *store;
    struct cc_service *svc;
    struct cc_new_key first;  /* the account's first admin key */
};

/* Runs sql on the PostgreSQL server's maintenance database. 0 or -1. */
static inline int svc_fixture_pg_admin(const char *sql)
{
    char admin[256];
    snprintf(admin, sizeof admin, "%spostgres", getenv("CC_TEST_PG"));
    PGconn *c = PQconnectdb(admin);
    PGresult *r = PQstatus(c) == CONNECTION_OK ? PQexec(c, sql) : NULL;
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        fprintf(stderr, "fixture: %s: %s\n", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

/* The store's URL into f->url: a new PostgreSQL database when CC_TEST_PG
 * names a server, else a SQLite file in f->dir. 0 or -1. */
static inline int svc_fixture_url(struct svc_fixture *f)
{
    static int seq;
    const char *pg = getenv("CC_TEST_PG");
    f->pg_db[0] = '\0';
    if (!pg || !*pg) {
        snprintf(f->url, sizeof f->url, "sqlite:%s/t.db", f->dir);
        return 0;
    }
    snprintf(f->pg_db, sizeof f->pg_db, "cc_unit_%ld_%d", (long)getpid(), ++seq);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", f->pg_db);
    snprintf(f->url, sizeof f->url, "%s%s", pg, f->pg_db);
    return svc_fixture_pg_admin(sql);
}

/* Opens it; synchronous_full as the store option. Returns 0 or -1. */
static inline int svc_fixture_open(struct svc_fixture *f, int synchronous_full)
{
    cc_strlcpy(f->dir, "/tmp/cc-unit-XXXXXX", sizeof f->dir);
    if (!mkdtemp(f->dir) || svc_fixture_url(f))
        return -1;
    struct cc_store_config sc = {.url = f->url, .synchronous_full = synchronous_full,
                                 .busy_timeout_ms = 5000, .max_batch = 256};
    struct cc_error err;
    if (cc_store_open(&sc, &f->store, &err) || cc_store_migrate(f->store, &err))
        return -1;
    uint8_t key[CC_KEY_LEN];
    memset(key, 7, sizeof key);
    struct cc_service_config cfg = {.max_contacts = 1000};
    f->svc = cc_service_new(f->store, key, &cfg);
    return cc_account_create(f->svc, "t", &f->first, &err) ? -1 : 0;
}

/* The caller of the account's first admin key. */
static inline void svc_fixture_admin(const struct svc_fixture *f, struct cc_caller *out)
{
    memset(out, 0, sizeof *out);
    out->account_id = f->first.account_id;
    out->role = CC_ROLE_ADMIN;
    cc_strlcpy(out->key_id, f->first.key_id, sizeof out->key_id);
}

/* Closes its service and store; the files stay for a test to look at. */
static inline void svc_fixture_stop(struct svc_fixture *f)
{
    cc_service_free(f->svc);
    cc_store_close(f->store);
}

/* Removes what svc_fixture_stop left: the directory, the PostgreSQL
 * database. Returns 0 or -1. */
static inline int svc_fixture_remove(struct svc_fixture *f)
{
    if (f->pg_db[0]) {
        char sql[128];
        snprintf(sql, sizeof sql, "DROP DATABASE %s WITH (FORCE)", f->pg_db);
        if (svc_fixture_pg_admin(sql))
            return -1;
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Closes it and removes its directory. Returns 0 or -1. */
static inline int svc_fixture_close(struct svc_fixture *f)
{
    svc_fixture_stop(f);
    return svc_fixture_remove(f);
}

/* A contact with name, email (NULL: none) and mobile, created by caller:
 * its id, or -1. */
static inline int64_t svc_fixture_contact_named(struct svc_fixture *f,
                                                const struct cc_caller *caller, const char *name,
                                                const char *email, const char *mobile)
{
    struct cc_contact_input in;
    memset(&in, 0, sizeof in);
    in.present = CC_F_NAME | CC_F_MOBILE | (email ? CC_F_EMAIL : 0);
    in.name = name;
    in.email = email;
    in.mobile = mobile;
    struct cc_contact *c = cc_malloc(sizeof *c);
    struct cc_error err;
    int replayed;
    int64_t id = cc_contact_create(f->svc, caller, &in, NULL, NULL, c, &replayed, &err) ? -1
                                                                                     : c->id;
    cc_free(c);
    return id;
}

/* A contact named "A" with mobile, created by caller: its id, or -1. */
static inline int64_t svc_fixture_contact(struct svc_fixture *f, const struct cc_caller *caller,
                                          const char *mobile)
{
    return svc_fixture_contact_named(f, caller, "A", NULL, mobile);
}

/* One keyword search straight at the store: page 1 of page_size, counted up
 * to count_max, into *out (cc_contact_page_free). CC_OK or the error. */
static inline enum cc_err svc_fixture_search(struct svc_fixture *f, int64_t account,
                                             const char *kw, int64_t page_size,
                                             int64_t count_max, struct cc_contact_page *out)
{
    struct cc_contact_query q = {.account_id = account, .keyword = kw, .page = 1,
                                 .page_size = page_size, .count_max = count_max};
    struct cc_error err;
    memset(out, 0, sizeof *out);
    return cc_store_contact_list(f->store, &q, out, &err);
}

/* A cc_store_write fn: another account, "other"; its id in *(int64_t *)arg. */
static inline enum cc_err svc_fixture_other_account_tx(struct cc_tx *tx, void *arg,
                                                       struct cc_error *err)
{
    return cc_tx_account_insert(tx, "other", 1, arg, err);
}

/* sql with SQLite's ?1 written as PostgreSQL's $1, into out. */
static inline void svc_fixture_pg_sql(const char *sql, char *out, size_t outsz)
{
    size_t o = 0;
    for (const char *s = sql; *s && o + 1 < outsz; s++)
        out[o++] = (s[0] == '?' && s[1] == '1') ? '$' : *s;
    out[o] = '\0';
}

/* Runs sql (arg, may be NULL, bound to $1) on the fixture's PostgreSQL
 * database on a connection of its own: the first column of the first row
 * as an integer into *n when there is one. Returns 0 or -1. */
static inline int svc_fixture_pg_run(struct svc_fixture *f, const char *sql, const char *arg,
                                     long long *n)
{
    char text[1024];
    svc_fixture_pg_sql(sql, text, sizeof text);
    PGconn *c = PQconnectdb(f->url);
    PGresult *r = PQstatus(c) == CONNECTION_OK
                      ? PQexecParams(c, text, arg ? 1 : 0, NULL, &arg, NULL, NULL, 0)
                      : NULL;
    ExecStatusType st = PQresultStatus(r);
    int ok = r && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
    if (ok && n && PQntuples(r) > 0)
        *n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(c);
    return ok ? 0 : -1;
}

/* Changes the fixture's database behind the service's back (either
 * backend; ?1 is written $1 on PostgreSQL): arg (may be NULL) bound to ?1.
 * Returns 0 or -1. */
static inline int svc_fixture_exec(struct svc_fixture *f, const char *sql, const char *arg)
{
    if (f->pg_db[0])
        return svc_fixture_pg_run(f, sql, arg, NULL);
    char path[160];
    snprintf(path, sizeof path, "%s/t.db", f->dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_open(path, &db) == SQLITE_OK &&
             sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
             sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
             (!arg || sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT) == SQLITE_OK) &&
             sqlite3_step(st) == SQLITE_DONE;
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok ? 0 : -1;
}

/* Reads the fixture's database behind the service's back, on a connection
 * of its own: the one integer that sql answers, with arg (may be NULL) bound
 * to ?1 ($1 on PostgreSQL). Returns -1 when the query fails. */
static inline long long svc_fixture_count(struct svc_fixture *f, const char *sql, const char *arg)
{
    if (f->pg_db[0]) {
        long long n = -1;
        return svc_fixture_pg_run(f, sql, arg, &n) ? -1 : n;
    }
    char path[160];
    snprintf(path, sizeof path, "%s/t.db", f->dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long n = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(db, 5000) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        (!arg || sqlite3_bind_text(st, 1, arg, -1, SQLITE_TRANSIENT) == SQLITE_OK) &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

#endif
