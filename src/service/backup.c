/*
 * backup.c — scheduled backups (backup_dir, backup_keep, backup_interval_h):
 * a thread of the server copies the database into backup_dir every interval
 * with the store's online backup (the same as `certcontacts backup`), under
 * a timestamped name, keeps the newest backup_keep copies and removes the
 * older ones, logs each, and remembers the last one's time and size for
 * /metrics. The master key is not copied: it is backed up once, apart.
 *
 * The schedule follows the newest copy in the directory, so a restart does
 * not put the next backup off by a whole interval.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "service/service.h"
#include "service/service_int.h"
#include "store/store.h"
#include "util/util.h"

#define PREFIX "certcontacts-"
#define SUFFIX ".db"
#define NAMES_MAX 4096

struct svc_backup_job {
    struct svc_job job;           /* its thread, woken and stopped through job.cv */
    char dir[1024];
    char url[1100];
    int keep;
    int64_t interval_ms;
    int64_t last_ms, last_bytes; /* the last backup made or found; 0: none */
    int64_t next_ms;             /* when the next is due */
};

/* Whether name is one of ours: PREFIX...SUFFIX (tmp: PREFIX....db.tmp-X,
 * a copy a crash left half-written). */
static int ours(const char *name, int tmp)
{
    size_t n = strlen(name), p = strlen(PREFIX), s = strlen(SUFFIX);
    if (n <= p + s || strncmp(name, PREFIX, p) != 0)
        return 0;
    return tmp ? strstr(name, SUFFIX ".tmp-") != NULL : strcmp(name + n - s, SUFFIX) == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of our copies in dir, oldest first (the names sort by time);
 * *n of them; free with free_names. Half-written ones are removed. */
static char **list_copies(const char *dir, size_t *n)
{
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = cc_calloc(NAMES_MAX, sizeof *names);
    struct dirent *e;
    while ((e = readdir(d)) && *n < NAMES_MAX) {
        if (ours(e->d_name, 1)) {
            char p[1400];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        } else if (ours(e->d_name, 0)) {
            names[(*n)++] = cc_strdup(e->d_name);
        }
    }
    closedir(d);
    qsort(names, *n, sizeof *names, by_name);
    return names;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cc_free(names[i]);
    cc_free(names);
}

/* Removes all but the newest keep copies. */
static void prune(struct svc_backup_job *j)
{
    size_t n = 0;
    char **names = list_copies(j->dir, &n);
    for (size_t i = 0; i + (size_t)j->keep < n; i++) {
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", j->dir, names[i]);
        if (unlink(p) == 0)
            cc_log(CC_LOG_INFO, "old backup removed", "path", p, NULL);
        else
            cc_log(CC_LOG_WARN, "cannot remove an old backup", "path", p, "error",
                   strerror(errno), NULL);
    }
    free_names(names, n);
}

/* The newest copy already in the directory: its time and size. */
static void find_last(struct svc_backup_job *j)
{
    size_t n = 0;
    char **names = list_copies(j->dir, &n);
    struct stat st;
    char p[1400];
    if (n) {
        snprintf(p, sizeof p, "%s/%s", j->dir, names[n - 1]);
        if (stat(p, &st) == 0) {
            j->last_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
            j->last_bytes = (int64_t)st.st_size;
        }
    }
    free_names(names, n);
}

/* One backup: dir/certcontacts-YYYYMMDDTHHMMSS.mmmZ.db. */
static void take(struct svc_backup_job *j)
{
    int64_t now = cc_now_ms();
    time_t secs = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char stamp[32], path[1400], size[24], ms[24];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(path, sizeof path, "%s/" PREFIX "%s.%03dZ" SUFFIX, j->dir, stamp,
             (int)(now % 1000));
    struct cc_error err;
    int64_t bytes = 0, t0 = cc_mono_ms();
    if (cc_store_backup(j->url, path, NULL, &bytes, &err)) {
        cc_log(CC_LOG_ERROR, "scheduled backup failed", "path", path, "error", err.message,
               NULL);
        return;
    }
    snprintf(size, sizeof size, "%lld", (long long)bytes);
    snprintf(ms, sizeof ms, "%lld", (long long)(cc_mono_ms() - t0));
    cc_log(CC_LOG_INFO, "backup written", "path", path, "bytes", size, "ms", ms, NULL);
    pthread_mutex_lock(&j->job.mu);
    j->last_ms = cc_now_ms();
    j->last_bytes = bytes;
    pthread_mutex_unlock(&j->job.mu);
    prune(j);
}

static void *job_main(void *arg)
{
    struct svc_backup_job *j = arg;
    pthread_mutex_lock(&j->job.mu);
    while (!j->job.stopping) {
        int64_t due = j->next_ms, now = cc_now_ms();
        if (due > now) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            int64_t ns = until.tv_nsec + (due - now) % 1000 * 1000000;
            until.tv_sec += (time_t)((due - now) / 1000 + ns / 1000000000);
            until.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&j->job.cv, &j->job.mu, &until);
            continue;
        }
        pthread_mutex_unlock(&j->job.mu);
        take(j);
        pthread_mutex_lock(&j->job.mu);
        j->next_ms = cc_now_ms() + j->interval_ms; /* after a failure too: no retry storm */
    }
    pthread_mutex_unlock(&j->job.mu);
    return NULL;
}

enum cc_err cc_backups_start(struct cc_service *svc, const struct cc_backup_config *cfg,
                             struct cc_error *err)
{
    if (!cfg->dir || !cfg->dir[0])
        return CC_OK;
    if (!strncmp(cfg->db_url, "postgres", 8))
        return cc_error_set(err, CC_ERR_CONFIG, NULL,
                            "backup_dir: scheduled backups are for SQLite; back a PostgreSQL "
                            "database up with pg_dump (see docs/operations.md)");
    if (cc_mkdir_p(cfg->dir, 0700))
        return cc_error_set(err, CC_ERR_CONFIG, NULL, "backup_dir: cannot create %s: %s",
                            cfg->dir, strerror(errno));
    struct svc_backup_job *j = cc_calloc(1, sizeof *j);
    cc_strlcpy(j->dir, cfg->dir, sizeof j->dir);
    cc_strlcpy(j->url, cfg->db_url, sizeof j->url);
    j->keep = cfg->keep > 0 ? cfg->keep : 1;
    j->interval_ms = cfg->interval_s * 1000;
    find_last(j);
    j->next_ms = j->last_ms ? j->last_ms + j->interval_ms : 0;
    if (svc_job_start(&j->job, job_main, j)) {
        cc_free(j);
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "cannot start the backup job");
    }
    svc->backup_job = j;
    return CC_OK;
}

void cc_backups_stop(struct cc_service *svc)
{
    struct svc_backup_job *j = svc->backup_job;
    if (!j)
        return;
    svc_job_stop(&j->job);
    cc_free(j);
    svc->backup_job = NULL;
}

int cc_service_backup_last(struct cc_service *svc, int64_t *at_ms, int64_t *bytes)
{
    struct svc_backup_job *j = svc->backup_job;
    *at_ms = *bytes = 0;
    if (!j)
        return 0;
    pthread_mutex_lock(&j->job.mu);
    *at_ms = j->last_ms;
    *bytes = j->last_bytes;
    pthread_mutex_unlock(&j->job.mu);
    return *at_ms != 0;
}
