/*
 * floor_sqlite.c — floor B of the benchmark: how many durable single-row
 * commits per second SQLite makes on this machine's disk.
 *
 * One connection, WAL, synchronous=FULL (the settings certcontacts uses by
 * default), one prepared INSERT of a contact-sized row, each in its own
 * autocommit transaction, so every row costs one WAL fsync. Nothing can
 * commit one row durably faster through SQLite on this disk, which is why a
 * server that acknowledges each create only once it is durable beats this
 * figure only by committing several creates together (group commit).
 *
 *   floor_sqlite DB_PATH [SECONDS]
 *
 * DB_PATH must not exist yet (bench/run.sh puts it in a fresh temporary
 * directory on the same file system as the server's data). Runs for SECONDS
 * (default 5) and prints "RATE commits/s (N commits in T s)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "floor_sqlite: %s: %s\n", what, db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: floor_sqlite DB_PATH [SECONDS]\n");
        return 2;
    }
    double seconds = 5;
    if (argc == 3) {
        char *end;
        seconds = strtod(argv[2], &end);
        if (*end || seconds <= 0 || seconds > 600) {
            fprintf(stderr, "floor_sqlite: bad duration %s\n", argv[2]);
            return 2;
        }
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL))
        return fail(db, "open");
    if (sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                     " email TEXT, mobile TEXT NOT NULL, created_at INTEGER NOT NULL);",
                     NULL, NULL, NULL))
        return fail(db, "setup");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO t(name, email, mobile, created_at) VALUES (?1, ?2, ?3, ?4)",
                           -1, &st, NULL))
        return fail(db, "prepare");

    long n = 0;
    double t0 = now_s(), t = t0;
    char email[64], mobile[24];
    while (t - t0 < seconds) {
        snprintf(email, sizeof email, "user%ld@example.com", n);
        snprintf(mobile, sizeof mobile, "+86133%08ld", n % 100000000);
        sqlite3_bind_text(st, 1, "Zhang Wei", -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, email, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, mobile, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 4, (sqlite3_int64)(t * 1000));
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return fail(db, "insert");
        }
        sqlite3_reset(st);
        n++;
        t = now_s();
    }
    double dt = t - t0;
    sqlite3_finalize(st);
    sqlite3_close(db);
    printf("%.0f commits/s (%ld commits in %.1f s)\n", (double)n / dt, n, dt);
    return 0;
}
