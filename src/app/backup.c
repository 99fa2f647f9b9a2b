/*
 * backup.c — `certcontacts backup`, `restore` and the sealed-value half of
 * `check`. The database copy itself is the store's (cc_store_backup: SQLite's
 * online backup API, beside a running server); what this file adds is the
 * master key, which is not in the database and without which a copy is
 * useless: backup names it (or copies it with --with-key to FILE.key),
 * restore refuses a copy whose sealed values do not open with the key it is
 * given, and check opens every sealed value with the data dir's key.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "app/config.h"
#include "service/service.h"
#include "store/store.h"
#include "util/util.h"

#define KEY_FILE_MAX 1024

static void say(const char *what, const char *msg)
{
    fprintf(stderr, "certcontacts: %s%s%s\n", what, what[0] ? ": " : "", msg);
}

static int is_postgres(const char *url)
{
    return strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0;
}

/* The SQLite file of url. */
static const char *sqlite_file(const char *url)
{
    return strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url;
}

static void store_cfg(const struct cc_config *cfg, const char *url, struct cc_store_config *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->url = url;
    sc->synchronous_full = (int)cfg->synchronous_full;
    sc->busy_timeout_ms = (int)cfg->busy_timeout_ms;
    sc->pool_size = (int)cfg->db_pool_size;
    sc->max_batch = 64;
    sc->quick_check_s = (int)cfg->startup_check_s;
}

/* ---- progress -------------------------------------------------------------------- */

struct progress {
    int tty;
    int64_t last_ms;
};

/* On a terminal one line redrawn in place; otherwise a plain line a second. */
static void show_progress(void *arg, int64_t done, int64_t total)
{
    struct progress *p = arg;
    int64_t now = cc_mono_ms();
    int end = done >= total;
    if (!end && now - p->last_ms < (p->tty ? 100 : 1000))
        return;
    p->last_ms = now;
    int pct = total ? (int)(done * 100 / total) : 100;
    if (p->tty)
        fprintf(stderr, "\rcopying: %lld / %lld pages (%d%%)%s", (long long)done,
                (long long)total, pct, end ? "\n" : "");
    else
        fprintf(stderr, "copying: %lld / %lld pages (%d%%)\n", (long long)done,
                (long long)total, pct);
}

/* ---- key files ------------------------------------------------------------------- */

static const char *const key_suffixes[] = {"", ".new", ".old"};

/* Copies the key files from (from, from.new, from.old: a rotation in
 * progress keeps its keys there) to the same names under to, mode 0600.
 * *copied: how many existed. 0, or -1 with errno. */
static int copy_key_files(const char *from, const char *to, int *copied)
{
    *copied = 0;
    for (int i = 0; i < 3; i++) {
        char src[1400], dst[1400], *data = NULL;
        size_t len = 0;
        snprintf(src, sizeof src, "%s%s", from, key_suffixes[i]);
        snprintf(dst, sizeof dst, "%s%s", to, key_suffixes[i]);
        if (cc_file_read(src, KEY_FILE_MAX, &data, &len) != 0) {
            if (errno == ENOENT)
                continue;
            return -1;
        }
        int rc = cc_file_write_atomic(dst, data, len, 0600);
        OPENSSL_cleanse(data, len);
        cc_free(data);
        if (rc || cc_fsync_parent(dst))
            return -1;
        (*copied)++;
    }
    return 0;
}

/* ---- backup ---------------------------------------------------------------------- */

int cc_app_backup(const struct cc_config *cfg, const char *file, int with_key)
{
    if (is_postgres(cfg->db)) {
        fprintf(stderr,
                "certcontacts: the database is PostgreSQL: back it up with pg_dump "
                "(pg_dump -Fc -f FILE.dump URL) and restore it with pg_restore; copy the "
                "master key (%s) too. See docs/operations.md\n",
                cfg->master_key_file);
        return 2;
    }
    umask(077);
    struct progress p = {isatty(2), 0};
    struct cc_backup_progress pr = {show_progress, &p};
    struct cc_error err;
    int64_t bytes = 0;
    if (cc_store_backup(cfg->db, file, &pr, &bytes, &err)) {
        say("backup", err.message);
        return 1;
    }
    printf("ok: %s copied to %s (%lld bytes, mode 0600)\n", sqlite_file(cfg->db), file,
           (long long)bytes);
    if (!with_key) {
        printf("note: the copy does not hold the master key, and is useless without it: keep "
               "%s safe apart from the copy, or run backup --with-key to write it to "
               "%s.key\n",
               cfg->master_key_file, file);
        return 0;
    }
    char keyp[1400];
    int copied = 0;
    snprintf(keyp, sizeof keyp, "%s.key", file);
    if (copy_key_files(cfg->master_key_file, keyp, &copied)) {
        fprintf(stderr, "certcontacts: backup: cannot copy the master key %s to %s: %s\n",
                cfg->master_key_file, keyp, strerror(errno));
        return 1;
    }
    if (!copied) {
        fprintf(stderr, "certcontacts: backup: there is no master key file %s to copy\n",
                cfg->master_key_file);
        return 1;
    }
    printf("ok: master key copied to %s (mode 0600): whoever has both files can read every "
           "secret in the copy; keep them apart or encrypted\n", keyp);
    return 0;
}

/* ---- opening every sealed value ---------------------------------------------------- */

struct bad_out {
    const char *prefix;
};

static void print_bad(void *arg, const char *table, const char *key_column, const char *row,
                      const char *column, const char *what)
{
    struct bad_out *o = arg;
    printf("%s: table %s, %s %s: column %s (%s) does not decrypt with the master key\n",
           o->prefix, table, key_column, row, column, what);
}

/* Opens the database at url and every sealed value in it with the key
 * files at key_path; migrate: bring its schema up to date first (a copy
 * restore is about to hand to a server). 0: every value opens; 1: some do
 * not (each printed); -1: it could not be examined (said). */
static int verify_sealed(const struct cc_config *cfg, const char *url, const char *key_path,
                         int migrate, const char *prefix, int64_t *checked)
{
    struct cc_store_config sc;
    struct cc_store *store = NULL;
    struct cc_error err;
    store_cfg(cfg, url, &sc);
    if (cc_store_open(&sc, &store, &err)) {
        say("", err.message);
        return -1;
    }
    if (migrate && cc_store_migrate(store, &err)) {
        say("migration failed", err.message);
        cc_store_close(store);
        return -1;
    }
    struct bad_out o = {prefix};
    struct cc_sealed_report rep = {print_bad, &o};
    int64_t failed = 0;
    enum cc_err rc = cc_service_verify_sealed(store, key_path, &rep, checked, &failed, &err);
    cc_store_close(store);
    if (rc) {
        say("cannot read the sealed values", err.message);
        return -1;
    }
    return failed ? 1 : 0;
}

int cc_app_check_sealed(const struct cc_config *cfg)
{
    int64_t checked = 0;
    int rc = verify_sealed(cfg, cfg->db, cfg->master_key_file, 0, "problem", &checked);
    if (rc == 0)
        printf("ok: every sealed value (%lld) decrypts with the master key %s\n",
               (long long)checked, cfg->master_key_file);
    return rc == 0 ? 0 : 1;
}

/* ---- restore --------------------------------------------------------------------- */

/* Refuses a data dir a server holds or that holds anything; takes its lock
 * (held until the process ends) into *lock. */
static int claim_data_dir(const struct cc_config *cfg, int *lock)
{
    char msg[1600], path[1300];
    if (cc_app_data_dir(cfg, msg, sizeof msg)) {
        say("restore", msg);
        return -1;
    }
    long holder = 0;
    snprintf(path, sizeof path, "%s/certcontacts.lock", cfg->data_dir);
    *lock = cc_file_lock(path, &holder);
    if (*lock < 0) {
        if (errno == EWOULDBLOCK)
            fprintf(stderr, "certcontacts: restore: a certcontacts server (pid %ld) is serving "
                            "the data directory %s; stop it, and restore into an empty data "
                            "directory\n", holder, cfg->data_dir);
        else
            fprintf(stderr, "certcontacts: restore: cannot lock %s: %s\n", path, strerror(errno));
        return -1;
    }
    DIR *d = opendir(cfg->data_dir);
    struct dirent *e;
    char found[256] = "";
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            strcmp(e->d_name, "certcontacts.lock") && !found[0])
            cc_strlcpy(found, e->d_name, sizeof found);
    if (d)
        closedir(d);
    struct stat st;
    if (!found[0] && stat(sqlite_file(cfg->db), &st) == 0)
        cc_strlcpy(found, sqlite_file(cfg->db), sizeof found);
    if (!found[0] && stat(cfg->master_key_file, &st) == 0)
        cc_strlcpy(found, cfg->master_key_file, sizeof found);
    if (found[0]) {
        fprintf(stderr, "certcontacts: restore: the data directory %s is not empty (it holds "
                        "%s); restore only into an empty data directory (--data-dir), so that "
                        "nothing is overwritten\n", cfg->data_dir, found);
        return -1;
    }
    return 0;
}

static void remove_db(const char *path)
{
    static const char *const sfx[] = {"", "-wal", "-shm", "-journal"};
    for (int i = 0; i < 4; i++) {
        char p[1400];
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
}

static void print_check_problem(void *arg, const char *text)
{
    (void)arg;
    fprintf(stderr, "problem: %s\n", text);
}

/* Checks file (integrity, ours, a schema this release knows) and copies it
 * to tmp. 0 or -1 (said). */
static int restore_copy(const struct cc_config *cfg, const char *file, const char *tmp)
{
    char url[1400];
    struct cc_store_config sc;
    struct cc_error err;
    snprintf(url, sizeof url, "sqlite:%s", file);
    store_cfg(cfg, url, &sc);
    if (cc_store_check(&sc, print_check_problem, NULL, &err)) {
        fprintf(stderr, "certcontacts: restore: %s; nothing was restored\n", err.message);
        return -1;
    }
    struct progress p = {isatty(2), 0};
    struct cc_backup_progress pr = {show_progress, &p};
    if (cc_store_backup(url, tmp, &pr, NULL, &err)) {
        say("restore", err.message);
        return -1;
    }
    return 0;
}

/* The key file restore uses: --key, else FILE.key when it exists, else
 * none (""). */
static void restore_key_path(const char *file, const char *given, char *out, size_t outsz)
{
    struct stat st;
    if (given) {
        cc_strlcpy(out, given, outsz);
        return;
    }
    snprintf(out, outsz, "%s.key", file);
    if (stat(out, &st) != 0)
        out[0] = '\0';
}

int cc_app_restore(const struct cc_config *cfg, const char *file, const char *key_file)
{
    if (is_postgres(cfg->db)) {
        fprintf(stderr, "certcontacts: the database is PostgreSQL: restore it with pg_restore "
                        "(pg_restore --clean --if-exists -d URL FILE.dump) and put the master "
                        "key back as %s. See docs/operations.md\n", cfg->master_key_file);
        return 2;
    }
    struct stat st;
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode)) {
        fprintf(stderr, "certcontacts: restore: %s is not a file\n", file);
        return 1;
    }
    char keyp[1300];
    restore_key_path(file, key_file, keyp, sizeof keyp);
    if (key_file && stat(key_file, &st) != 0) {
        fprintf(stderr, "certcontacts: restore: cannot read the key file %s: %s\n", key_file,
                strerror(errno));
        return 1;
    }
    int lock = -1;
    if (claim_data_dir(cfg, &lock)) {
        if (lock >= 0)
            close(lock);
        return 1;
    }
    const char *db = sqlite_file(cfg->db);
    char tmp[1400], url[1450];
    snprintf(tmp, sizeof tmp, "%s.restoring", db);
    snprintf(url, sizeof url, "sqlite:%s", tmp);
    int rc = restore_copy(cfg, file, tmp) ? 1 : 0;
    int64_t checked = 0;
    if (!rc) {
        int v = verify_sealed(cfg, url, keyp, 1, "problem", &checked);
        if (v > 0)
            fprintf(stderr, "certcontacts: restore: the values above do not decrypt with %s; "
                            "give the master key the copy was made with (--key KEYFILE); "
                            "nothing was restored\n", keyp[0] ? keyp : "any key (none given)");
        rc = v ? 1 : 0;
    }
    int copied = 0;
    if (!rc && keyp[0] && copy_key_files(keyp, cfg->master_key_file, &copied)) {
        fprintf(stderr, "certcontacts: restore: cannot write %s: %s\n", cfg->master_key_file,
                strerror(errno));
        rc = 1;
    }
    if (!rc && (rename(tmp, db) != 0 || cc_fsync_parent(db) != 0)) {
        fprintf(stderr, "certcontacts: restore: cannot rename %s to %s: %s\n", tmp, db,
                strerror(errno));
        rc = 1;
    }
    if (rc) {
        remove_db(tmp);
        for (int i = 0; i < copied; i++) {
            char p[1400];
            snprintf(p, sizeof p, "%s%s", cfg->master_key_file, key_suffixes[i]);
            unlink(p);
        }
    } else {
        printf("ok: %s restored to %s; %lld sealed values decrypt with %s\n", file, db,
               (long long)checked, keyp[0] ? cfg->master_key_file : "(no key: none sealed)");
    }
    close(lock);
    return rc;
}
