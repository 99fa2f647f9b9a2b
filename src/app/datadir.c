/*
 * datadir.c — the data directory and the files in it are the process's
 * alone: the directory is created 0700, and every file the process creates
 * is 0600 (umask 077, set before anything is opened: SQLite makes the
 * database's -wal and -shm files with the database's mode). An existing
 * directory or file that others may read (an older installation's 0755 /
 * 0644, a copy made with a careless umask) is narrowed to 0700 / 0600 at
 * start, and the log says what was changed; one that cannot be narrowed (not
 * ours) is refused with what to do.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/config.h"
#include "util/util.h"

/* The files of a data directory (and of the database, wherever it is). */
static const char *const data_files[] = {
    "certcontacts.db", "certcontacts.db-wal", "certcontacts.db-shm", "certcontacts.lock",
};

/* Narrows path to mode when group or others have any access to it. 0 when
 * it is (now) private or does not exist; -1 with msg set otherwise. */
static int narrow(const char *path, mode_t mode, int is_dir, char *msg, size_t msgsz)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : (snprintf(msg, msgsz, "cannot examine %s: %s", path,
                                               strerror(errno)), -1);
    if (S_ISLNK(st.st_mode) && stat(path, &st) != 0)
        return 0; /* a dangling link: whatever opens it says so */
    if (is_dir != !!S_ISDIR(st.st_mode)) {
        snprintf(msg, msgsz, "%s is not a %s", path, is_dir ? "directory" : "file");
        return -1;
    }
    if (!(st.st_mode & 077))
        return 0;
    char was[8], now[8];
    snprintf(was, sizeof was, "%04o", (unsigned)(st.st_mode & 07777));
    snprintf(now, sizeof now, "%04o", (unsigned)mode);
    if (st.st_uid != geteuid() || chmod(path, mode) != 0) {
        snprintf(msg, msgsz,
                 "%s is readable by other users (mode %s) and cannot be made private (%s): it "
                 "holds personal data and secrets; run chmod %s %s as its owner, or give "
                 "certcontacts a data directory of its own",
                 path, was, st.st_uid != geteuid() ? "it belongs to another user" : strerror(errno),
                 is_dir ? "700" : "600", path);
        return -1;
    }
    cc_log(CC_LOG_WARN,
           is_dir ? "the data directory was readable by other users: made private"
                  : "a data file was readable by other users: made private",
           "path", path, "mode_was", was, "mode_now", now, NULL);
    return 0;
}

/* The SQLite file of cfg->db, or NULL for another kind of database. */
static const char *db_file(const struct cc_config *cfg)
{
    if (strncmp(cfg->db, "postgres://", 11) == 0 || strncmp(cfg->db, "postgresql://", 13) == 0)
        return NULL;
    return strncmp(cfg->db, "sqlite:", 7) == 0 ? cfg->db + 7 : cfg->db;
}

int cc_app_data_dir(const struct cc_config *cfg, char *msg, size_t msgsz)
{
    umask(077);
    if (cc_mkdir_p(cfg->data_dir, 0700)) {
        snprintf(msg, msgsz, "cannot create data directory %s: %s", cfg->data_dir,
                 strerror(errno));
        return -1;
    }
    if (narrow(cfg->data_dir, 0700, 1, msg, msgsz))
        return -1;
    char p[1400];
    for (size_t i = 0; i < sizeof data_files / sizeof *data_files; i++) {
        snprintf(p, sizeof p, "%s/%s", cfg->data_dir, data_files[i]);
        if (narrow(p, 0600, 0, msg, msgsz))
            return -1;
    }
    static const char *const key_suffixes[] = {"", ".new", ".old"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", cfg->master_key_file, key_suffixes[i]);
        if (narrow(p, 0600, 0, msg, msgsz))
            return -1;
    }
    const char *db = db_file(cfg);
    static const char *const db_suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; db && db[0] && strcmp(db, ":memory:") && i < 4; i++) {
        snprintf(p, sizeof p, "%s%s", db, db_suffixes[i]);
        if (narrow(p, 0600, 0, msg, msgsz))
            return -1;
    }
    return 0;
}

int cc_app_instance_id(const struct cc_config *cfg, char out[33], char *msg, size_t msgsz)
{
    char path[1100], *data = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/instance.id", cfg->data_dir);
    if (cc_file_read(path, 64, &data, &len) == 0 && len >= 32 &&
        strspn(data, "0123456789abcdef") >= 32) {
        memcpy(out, data, 32);
        out[32] = '\0';
        cc_free(data);
        return 0;
    }
    cc_free(data);
    uint8_t id[16];
    cc_random_bytes(id, sizeof id);
    for (size_t i = 0; i < sizeof id; i++)
        snprintf(out + 2 * i, 3, "%02x", id[i]);
    char line[34];
    snprintf(line, sizeof line, "%s\n", out);
    if (cc_file_write_atomic(path, line, 33, 0600)) {
        snprintf(msg, msgsz, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}
