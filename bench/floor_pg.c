/*
 * floor_pg.c — the PostgreSQL floors of the benchmark (BENCH_DB=postgres):
 * how many durable single-row commits, and how many point SELECTs by primary
 * key, a PostgreSQL server on this machine answers per second over libpq.
 *
 *   floor_pg URL insert SECONDS CONNECTIONS
 *   floor_pg URL select SECONDS CONNECTIONS
 *
 * URL is a libpq URL of a database the floor may fill (bench/run.sh creates
 * one for it). Each of CONNECTIONS threads opens its own connection, prepares
 * its statement once, and runs it in a loop for SECONDS:
 *   insert  one contact-sized row per autocommit transaction, with
 *           synchronous_commit=on set on the connection, so every commit
 *           waits for its WAL flush (fsync as the server is configured;
 *           the line says what fsync is);
 *   select  one row by a random primary key among the rows present (at
 *           least 10 000: the table is filled first when it holds fewer).
 * With one connection the insert rate is what one client committing one row
 * at a time gets; with many, PostgreSQL flushes the WAL of commits that
 * arrive together once (group commit), so the rate is higher.
 *
 * Prints one line: "RATE per s (N in T s, C connections, fsync=on,
 * synchronous_commit=on)" for insert, "RATE per s (N in T s, C connections,
 * R rows)" for select. Exit 1 on any database error.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define MAX_CONNS 256
#define MIN_ROWS 10000

struct worker {
    const char *url;
    int select;
    double seconds;
    pthread_barrier_t *start;
    long max_id; /* select: ids 1..max_id exist */
    unsigned seed;
    long n;
    char error[256];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one statement that returns no rows or some; 0 when it worked. */
static int exec_ok(PGconn *c, const char *sql, char *error, size_t size)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok)
        snprintf(error, size, "%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    return ok ? 0 : -1;
}

static PGconn *connect_db(const char *url, char *error, size_t size)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        snprintf(error, size, "connect: %s", PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    if (exec_ok(c, "SET synchronous_commit = on; SET client_min_messages = warning", error, size)) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

static const char insert_sql[] =
    "INSERT INTO floor_contacts(name, email, mobile, created_at) VALUES ($1, $2, $3, $4)";
static const char select_sql[] =
    "SELECT id, name, email, mobile, created_at FROM floor_contacts WHERE id = $1";

/* One iteration: an INSERT (its own transaction) or a SELECT of one row. */
static int step(PGconn *c, struct worker *w, long i)
{
    char email[64], mobile[24], when[24], id[24];
    PGresult *r;
    if (w->select) {
        snprintf(id, sizeof id, "%ld", 1 + (long)(rand_r(&w->seed) % (unsigned long)w->max_id));
        const char *p[1] = {id};
        r = PQexecPrepared(c, "s", 1, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
            snprintf(w->error, sizeof w->error, "select %s: %s", id,
                     PQntuples(r) == 0 ? "no row" : PQerrorMessage(c));
            PQclear(r);
            return -1;
        }
    } else {
        snprintf(email, sizeof email, "user%u.%ld@example.com", w->seed, i);
        snprintf(mobile, sizeof mobile, "+86133%08ld", i % 100000000);
        snprintf(when, sizeof when, "%.0f", now_s() * 1000);
        const char *p[4] = {"Zhang Wei", email, mobile, when};
        r = PQexecPrepared(c, "i", 4, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(w->error, sizeof w->error, "insert: %s", PQerrorMessage(c));
            PQclear(r);
            return -1;
        }
    }
    PQclear(r);
    return 0;
}

static void *run(void *arg)
{
    struct worker *w = arg;
    PGconn *c = connect_db(w->url, w->error, sizeof w->error);
    if (c) {
        PGresult *r = w->select ? PQprepare(c, "s", select_sql, 1, NULL)
                                : PQprepare(c, "i", insert_sql, 4, NULL);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(w->error, sizeof w->error, "prepare: %s", PQerrorMessage(c));
            PQfinish(c);
            c = NULL;
        }
        PQclear(r);
    }
    /* every thread reaches the barrier, connected or not, so none waits forever */
    pthread_barrier_wait(w->start);
    if (!c)
        return NULL;
    double t0 = now_s();
    for (long i = 0; now_s() - t0 < w->seconds; i++) {
        if (step(c, w, i))
            break;
        w->n++;
    }
    PQfinish(c);
    return NULL;
}

/* Creates the table, fills it for select, reads fsync; max_id = highest id. */
static int setup(const char *url, int select, long *max_id, char *fsync, size_t fsync_size)
{
    char error[512];
    PGconn *c = connect_db(url, error, sizeof error);
    if (!c) {
        fprintf(stderr, "floor_pg: %s\n", error);
        return -1;
    }
    int rc = exec_ok(c,
                     "CREATE TABLE IF NOT EXISTS floor_contacts (id BIGINT GENERATED BY DEFAULT AS "
                     "IDENTITY PRIMARY KEY, name TEXT NOT NULL, email TEXT, mobile TEXT NOT NULL, "
                     "created_at BIGINT NOT NULL)",
                     error, sizeof error);
    if (!rc && select)
        rc = exec_ok(c,
                     "INSERT INTO floor_contacts(name, email, mobile, created_at) SELECT 'Zhang Wei', "
                     "'user' || g || '@example.com', '+86133' || lpad(g::text, 8, '0'), 0 FROM "
                     "generate_series(1, 10000 - (SELECT count(*) FROM floor_contacts)) g",
                     error, sizeof error);
    PGresult *r = rc ? NULL : PQexec(c, "SELECT coalesce(max(id), 0), current_setting('fsync') "
                                        "FROM floor_contacts");
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        *max_id = strtol(PQgetvalue(r, 0, 0), NULL, 10);
        snprintf(fsync, fsync_size, "%s", PQgetvalue(r, 0, 1));
    } else if (!rc) {
        snprintf(error, sizeof error, "max(id): %s", PQerrorMessage(c));
        rc = -1;
    }
    PQclear(r);
    PQfinish(c);
    if (rc)
        fprintf(stderr, "floor_pg: %s\n", error);
    return rc;
}

static void usage(void)
{
    fprintf(stderr, "usage: floor_pg URL insert|select SECONDS CONNECTIONS\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc != 5)
        usage();
    int select = strcmp(argv[2], "select") == 0;
    if (!select && strcmp(argv[2], "insert") != 0)
        usage();
    char *end;
    double seconds = strtod(argv[3], &end);
    if (*end || seconds <= 0 || seconds > 600)
        usage();
    long conns = strtol(argv[4], &end, 10);
    if (*end || conns < 1 || conns > MAX_CONNS)
        usage();

    long max_id = 0;
    char fsync[16];
    if (setup(argv[1], select, &max_id, fsync, sizeof fsync))
        return 1;
    if (select && max_id < 1) {
        fprintf(stderr, "floor_pg: the table is empty\n");
        return 1;
    }
    static struct worker w[MAX_CONNS];
    static pthread_t th[MAX_CONNS];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)conns + 1);
    for (long i = 0; i < conns; i++) {
        w[i] = (struct worker){argv[1], select, seconds, &start, max_id, (unsigned)(i + 1), 0, ""};
        if (pthread_create(&th[i], NULL, run, &w[i]) != 0) {
            fprintf(stderr, "floor_pg: cannot start thread %ld\n", i);
            return 1; /* the threads started so far wait at the barrier: exit ends them */
        }
    }
    pthread_barrier_wait(&start);
    double t0 = now_s();
    long n = 0;
    const char *failed = NULL;
    for (long i = 0; i < conns; i++) {
        pthread_join(th[i], NULL);
        n += w[i].n;
        if (w[i].error[0] && !failed)
            failed = w[i].error;
    }
    double dt = now_s() - t0;
    pthread_barrier_destroy(&start);
    if (failed) {
        fprintf(stderr, "floor_pg: %s\n", failed);
        return 1;
    }
    printf("%.0f per s (%ld in %.1f s, %ld connection%s", (double)n / dt, n, dt, conns,
           conns == 1 ? "" : "s");
    if (select)
        printf(", %ld rows)\n", max_id);
    else
        printf(", fsync=%s, synchronous_commit=on)\n", fsync);
    return 0;
}
