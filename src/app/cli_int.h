/*
 * cli_int.h — what the client's files (cli.c, cli_http.c, cli_table.c,
 * cli_import.c) share; nothing outside src/app/cli*.c includes it.
 */
#ifndef CC_APP_CLI_INT_H
#define CC_APP_CLI_INT_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Exit statuses, documented in --help, the manual and the README. */
enum {
    CLI_OK = 0,
    CLI_REFUSED = 1,
    CLI_USAGE = 2,
    CLI_NOT_FOUND = 3,
    CLI_CONFLICT = 4,
    CLI_SERVER = 5,
};

#define CLI_MAX_OPTS 32
#define CLI_MAX_POS 8

/* The parsed command line: positional words after the command and its
 * verb, and --name value pairs (each marked when a command reads it, so
 * an option no command reads is a usage error). Strings point into argv. */
struct cli_args {
    const char *pos[CLI_MAX_POS];
    int npos;
    const char *opt_name[CLI_MAX_OPTS];
    const char *opt_value[CLI_MAX_OPTS];
    int opt_used[CLI_MAX_OPTS];
    int nopts;
    int json;
};

/* One connection to the server: where, as whom. The secret is wiped by
 * cli_conn_cleanup. */
struct cli_conn {
    char server[512];
    char key_id[128];
    char secret[256];
    void *curl; /* CURL *, owned */
    char errbuf[256];
};

/* A response: status and the body (at most CLI_MAX_BODY bytes, NUL
 * terminated) and the headers the client uses. Freed by cli_resp_free. */
struct cli_resp {
    long status;
    char *body;
    size_t len;
    char etag[64];
    char location[256];
};

#define CLI_MAX_BODY (16u << 20)

int cli_conn_init(struct cli_conn *c);
void cli_conn_cleanup(struct cli_conn *c);
/* Sends METHOD path (path may carry a query string) with body (NULL: none)
 * of content type ctype (NULL: application/json); extra_header may be NULL.
 * When out is not NULL the body is written there instead of r->body (no
 * size cap). Returns 0 when an HTTP answer came (any status), else
 * CLI_SERVER after printing why. */
int cli_request(struct cli_conn *c, const char *method, const char *path, const char *ctype,
                const char *body, size_t body_len, const char *extra_header, FILE *out,
                struct cli_resp *r);
void cli_resp_free(struct cli_resp *r);
/* The exit status for an HTTP status; for an error answer prints the API's
 * code and message to stderr first. */
int cli_resp_exit(const struct cli_resp *r);
/* The body as JSON (NULL when it is not); the caller json_decref()s it. */
json_t *cli_resp_json(const struct cli_resp *r);
/* Percent-encodes s onto b for a query string. */
struct cc_buf;
int cli_url_escape(struct cc_buf *b, const char *s);

/* ---- tables (cli_table.c) ----------------------------------------------- */
/* How many terminal columns s takes (UTF-8; East Asian wide characters 2). */
size_t cli_text_width(const char *s);
/* A JSON value as a cell's text into out: strings as they are, null "-",
 * numbers, booleans "yes"/"no", arrays of scalars joined with ", ", anything
 * else compact JSON. */
void cli_cell(const json_t *v, char *out, size_t outsz);
/* Prints the objects of items as a table of the given keys, headers the keys
 * in upper case; aligned by display width. */
void cli_table_print(FILE *f, const json_t *items, const char *const *keys, size_t nkeys);
/* Prints one object as "key: value" lines, the keys aligned. */
void cli_object_print(FILE *f, const json_t *obj);
/* Prints v as JSON (one value, indented) on stdout. */
void cli_json_print(const json_t *v);

/* ---- import and export (cli_import.c) ------------------------------------ */
int cli_cmd_import(struct cli_conn *c, struct cli_args *a);
int cli_cmd_export(struct cli_conn *c, struct cli_args *a);

/* ---- the profile file (cli.c) ---------------------------------------------
 * Reads section [profile] of an INI text: server, key_id, key_secret (each
 * copied when present, else left alone). 0 when the section exists. */
int cli_profile_parse(const char *text, const char *profile, char *server, size_t serversz,
                      char *key_id, size_t key_idsz, char *secret, size_t secretsz);

/* ---- options (cli.c) ------------------------------------------------------ */
/* The value of --name (marked as used), NULL when not given. */
const char *cli_opt(struct cli_args *a, const char *name);
/* 1 when the boolean --name was given. */
int cli_flag(struct cli_args *a, const char *name);
/* Prints an error for any option not read; returns CLI_USAGE then, else 0. */
int cli_check_unused(const struct cli_args *a, const char *usage);

#endif
