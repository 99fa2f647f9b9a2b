/*
 * cli_import.c — `contacts import FILE.csv` and `contacts export`: the CSV
 * is uploaded as it is (text/csv) to POST /v1/contacts/import, and the job
 * the server answers with is polled until it ends, with its progress drawn
 * on stderr (a bar redrawn in place on a terminal, a plain line at most
 * every 2 s otherwise); then the counts and the refused rows. Export streams
 * GET /v1/contacts/export into a file or stdout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/cli_int.h"
#include "util/util.h"

#define IMPORT_MAX_FILE (1024u << 20)
#define REFUSED_SHOWN 20

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long long jint(const json_t *job, const char *key)
{
    return (long long)json_integer_value(json_object_get(job, key));
}

/* One progress report. On a terminal the bar is redrawn in place. */
static void progress(const json_t *job, long long id, double rate, int tty)
{
    long long total = jint(job, "total"), done = jint(job, "processed");
    const char *state = json_string_value(json_object_get(job, "state"));
    int pct = total > 0 ? (int)(done * 100 / total) : 0;
    char eta[32] = "?";
    if (rate > 0 && total > 0)
        snprintf(eta, sizeof eta, "%.0f s", (double)(total - done) / rate);
    if (tty) {
        char bar[31];
        int fill = pct * 30 / 100;
        for (int i = 0; i < 30; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        if (!total)
            fprintf(stderr, "\rimport %lld: %s\033[K", id, state ? state : "?");
        else
            fprintf(stderr, "\rimport %lld [%s] %lld/%lld %3d%% %.0f rows/s ETA %s\033[K", id, bar,
                    done, total, pct, rate, eta);
    } else if (!total) {
        fprintf(stderr, "import %lld: %s\n", id, state ? state : "?");
    } else {
        fprintf(stderr, "import %lld: %lld/%lld rows (%d%%), %.0f rows/s, ETA %s\n", id, done,
                total, pct, rate, eta);
    }
    fflush(stderr);
}

/* The refused rows: the first REFUSED_SHOWN, then how many more. */
static int show_refused(struct cli_conn *c, long long id, long long refused)
{
    char path[128];
    struct cli_resp r;
    snprintf(path, sizeof path, "/v1/contacts/imports/%lld/rows?action=refuse&offset=0&limit=%d",
             id, REFUSED_SHOWN);
    int rc = cli_request(c, "GET", path, NULL, NULL, 0, NULL, NULL, &r);
    if (rc)
        return rc;
    rc = cli_resp_exit(&r);
    json_t *j = rc ? NULL : cli_resp_json(&r);
    cli_resp_free(&r);
    if (rc)
        return rc;
    json_t *rows = json_object_get(j, "rows");
    static const char *const keys[] = {"row", "name", "code", "field", "message"};
    printf("refused rows:\n");
    cli_table_print(stdout, rows, keys, sizeof keys / sizeof keys[0]);
    long long total = jint(j, "total");
    if (total < refused)
        total = refused;
    if (total > (long long)json_array_size(rows))
        printf("... %lld more\n", total - (long long)json_array_size(rows));
    json_decref(j);
    return 0;
}

int cli_cmd_import(struct cli_conn *c, struct cli_args *a)
{
    static const char usage[] =
        "contacts import FILE.csv [--dry-run] [--mode all|skip-bad] [--trust-verified]";
    int dry = cli_flag(a, "dry-run"), trust = cli_flag(a, "trust-verified");
    const char *mode = cli_opt(a, "mode");
    char *csv = NULL;
    size_t len = 0;
    json_t *job = NULL;
    struct cli_resp r = {0};
    int rc = cli_check_unused(a, usage);
    if (rc)
        return rc;
    if (a->npos != 3) {
        fprintf(stderr, "usage: certcontacts %s\n", usage);
        return CLI_USAGE;
    }
    if (!mode || !strcmp(mode, "all"))
        mode = "all";
    else if (!strcmp(mode, "skip-bad") || !strcmp(mode, "skip_bad"))
        mode = "skip_bad";
    else {
        fprintf(stderr, "certcontacts: --mode is all or skip-bad\n");
        return CLI_USAGE;
    }
    errno = 0;
    if (cc_file_read(a->pos[2], IMPORT_MAX_FILE, &csv, &len)) {
        fprintf(stderr, "certcontacts: cannot read %s: %s\n", a->pos[2],
                errno ? strerror(errno) : "too large");
        return CLI_USAGE;
    }
    char path[256];
    snprintf(path, sizeof path, "/v1/contacts/import?dry_run=%s&mode=%s&trust_verified=%s",
             dry ? "true" : "false", mode, trust ? "true" : "false");
    rc = cli_request(c, "POST", path, "text/csv", csv, len, NULL, NULL, &r);
    cc_free(csv);
    if (rc)
        goto out;
    rc = cli_resp_exit(&r);
    if (rc)
        goto out;
    job = cli_resp_json(&r);
    long long id = jint(job, "id");
    if (!json_is_object(job) || id <= 0) {
        fprintf(stderr, "certcontacts: the server's answer names no import job\n");
        rc = CLI_SERVER;
        goto out;
    }
    int tty = isatty(STDERR_FILENO);
    double t0 = now_s(), last_line = 0;
    long long p0 = -1;
    for (;;) {
        const char *state = json_string_value(json_object_get(job, "state"));
        if (state && (!strcmp(state, "done") || !strcmp(state, "failed")))
            break;
        /* the rate from the first time rows were seen moving */
        long long done = jint(job, "processed");
        double t = now_s();
        if (p0 < 0 && done > 0) {
            p0 = done;
            t0 = t;
        }
        double rate = p0 >= 0 && t > t0 + 0.05 ? (double)(done - p0) / (t - t0) : 0;
        if (!a->json && (tty || last_line == 0 || t - last_line >= 2.0)) {
            progress(job, id, rate, tty);
            last_line = t;
        }
        struct timespec pause = {0, 200 * 1000 * 1000};
        nanosleep(&pause, NULL);
        char jpath[96];
        snprintf(jpath, sizeof jpath, "/v1/contacts/imports/%lld", id);
        cli_resp_free(&r);
        rc = cli_request(c, "GET", jpath, NULL, NULL, 0, NULL, NULL, &r);
        if (rc)
            goto out;
        rc = cli_resp_exit(&r);
        if (rc)
            goto out;
        json_decref(job);
        job = cli_resp_json(&r);
        if (!json_is_object(job)) {
            fprintf(stderr, "certcontacts: the import job's answer is not JSON\n");
            rc = CLI_SERVER;
            goto out;
        }
    }
    if (!a->json) { /* the last word of the progress: where it ended */
        double t = now_s();
        long long done = jint(job, "processed");
        progress(job, id, p0 >= 0 && t > t0 + 0.05 ? (double)(done - p0) / (t - t0) : 0, tty);
        if (tty)
            fputs("\n", stderr);
    }
    const char *state = json_string_value(json_object_get(job, "state"));
    long long refused = jint(job, "refused");
    int failed = !strcmp(state, "failed") || (!strcmp(mode, "all") && refused > 0);
    if (a->json) {
        cli_json_print(job);
    } else {
        printf("import %lld %s%s: %lld rows: %lld created, %lld updated, %lld unchanged, "
               "%lld refused\n",
               id, state, json_is_true(json_object_get(job, "dry_run")) ? " (dry run)" : "",
               jint(job, "total"), jint(job, "created"), jint(job, "updated"),
               jint(job, "unchanged"), refused);
        json_t *err = json_object_get(job, "error");
        if (json_is_object(err))
            fprintf(stderr, "certcontacts: %s: %s\n",
                    json_string_value(json_object_get(err, "code")),
                    json_string_value(json_object_get(err, "message")));
        json_t *ign = json_object_get(job, "ignored_columns");
        if (json_array_size(ign)) {
            char cell[512];
            cli_cell(ign, cell, sizeof cell);
            printf("ignored columns: %s\n", cell);
        }
        if (refused > 0 && (rc = show_refused(c, id, refused)) != 0)
            goto out;
    }
    rc = failed ? CLI_REFUSED : CLI_OK;
out:
    json_decref(job);
    cli_resp_free(&r);
    return rc;
}

/* Copies the rest of from into fd. */
static int copy_out(FILE *from, int fd)
{
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, from)) > 0) {
        size_t off = 0;
        while (off < n) {
            ssize_t w = write(fd, buf + off, n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return -1;
            off += (size_t)w;
        }
    }
    return ferror(from) ? -1 : 0;
}

int cli_cmd_export(struct cli_conn *c, struct cli_args *a)
{
    static const char usage[] = "contacts export [--format csv|jsonl] [--full] [-o FILE]";
    const char *format = cli_opt(a, "format");
    const char *output = cli_opt(a, "output");
    int full = cli_flag(a, "full");
    struct cli_resp r = {0};
    int rc = cli_check_unused(a, usage);
    if (rc)
        return rc;
    if (!format)
        format = "csv";
    if (a->npos != 2 || (strcmp(format, "csv") && strcmp(format, "jsonl"))) {
        fprintf(stderr, "usage: certcontacts %s\n", usage);
        return CLI_USAGE;
    }
    /* into an anonymous file first: an error answer never lands in FILE */
    FILE *tmp = tmpfile();
    if (!tmp) {
        fprintf(stderr, "certcontacts: no temporary file: %s\n", strerror(errno));
        return CLI_REFUSED;
    }
    char path[128];
    snprintf(path, sizeof path, "/v1/contacts/export?format=%s&full=%s", format,
             full ? "true" : "false");
    rc = cli_request(c, "GET", path, NULL, NULL, 0, NULL, tmp, &r);
    if (rc)
        goto out;
    rewind(tmp);
    if (r.status < 200 || r.status >= 300) {
        char err[65536];
        size_t n = fread(err, 1, sizeof err - 1, tmp);
        err[n] = '\0';
        r.body = cc_strdup(err);
        r.len = n;
        rc = cli_resp_exit(&r);
        goto out;
    }
    int fd = STDOUT_FILENO;
    if (output && strcmp(output, "-")) {
        fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
            fprintf(stderr, "certcontacts: %s: %s\n", output, strerror(errno));
            rc = CLI_REFUSED;
            goto out;
        }
    }
    fflush(stdout);
    if (copy_out(tmp, fd) || (fd != STDOUT_FILENO && close(fd))) {
        fprintf(stderr, "certcontacts: cannot write %s: %s\n", output ? output : "stdout",
                strerror(errno));
        rc = CLI_REFUSED;
        goto out;
    }
    rc = CLI_OK;
out:
    fclose(tmp);
    cli_resp_free(&r);
    return rc;
}
