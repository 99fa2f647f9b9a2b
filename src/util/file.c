/*
 * file.c — whole-file reads with a size cap, atomic writes, mkdir -p, a
 * lock file held for the life of the process, and the lookup of files
 * compiled into the binary.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

int cc_file_read(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct cc_buf b;
    cc_buf_init(&b, max);
    char tmp[4096];
    for (;;) {
        ssize_t r = read(fd, tmp, sizeof tmp);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || cc_buf_append(&b, tmp, (size_t)r)) {
            close(fd);
            cc_buf_free(&b);
            return -1;
        }
        if (r == 0)
            break;
    }
    close(fd);
    *out = cc_buf_steal(&b, len);
    return 0;
}

int cc_file_write_atomic(const char *path, const void *data, size_t n, int mode)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    const char *p = data;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, p + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fchmod(fd, (mode_t)mode) || fsync(fd) || close(fd)) {
        unlink(tmp);
        return -1;
    }
    return rename(tmp, path);
}

int cc_fsync_parent(const char *path)
{
    char dir[4096];
    if (cc_strlcpy(dir, path, sizeof dir) >= sizeof dir)
        return -1;
    char *slash = strrchr(dir, '/');
    if (!slash)
        cc_strlcpy(dir, ".", sizeof dir);
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int cc_mkdir_p(const char *path, int mode)
{
    char tmp[4096];
    if (cc_strlcpy(tmp, path, sizeof tmp) >= sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, (mode_t)mode) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, (mode_t)mode) && errno != EEXIST)
        return -1;
    return 0;
}

const struct cc_embedded_file *cc_embedded_find(const char *path)
{
    for (const struct cc_embedded_file *f = cc_embedded; f->path; f++)
        if (strcmp(f->path, path) == 0)
            return f;
    return NULL;
}

int cc_file_lock(const char *path, long *holder)
{
    *holder = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[24] = "";
        ssize_t r = pread(fd, pid, sizeof pid - 1, 0);
        if (r > 0) {
            pid[r] = '\0';
            *holder = strtol(pid, NULL, 10);
        }
        close(fd);
        errno = e == EWOULDBLOCK ? EWOULDBLOCK : e;
        return -1;
    }
    char pid[24];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}
