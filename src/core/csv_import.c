/*
 * csv_import.c — the CSV file of a contact import, read into records.
 *
 * The bytes come as the client's file: UTF-8 (a BOM is dropped), or, when
 * they are not valid UTF-8, GB18030 — what spreadsheet programs save as
 * "CSV" on Chinese Windows; a superset of GBK — converted with glibc's
 * iconv. libcsv splits the text into records and fields (RFC 4180: quoted
 * fields with commas, quotes and line breaks), strictly, so that a stray
 * quote makes the file refused rather than misread. The first record is the
 * header: each column is mapped by its name (English or Chinese, any case,
 * surrounding blanks ignored) to a contact field; the others are listed as
 * ignored. Every cell is kept once, in one text buffer the records point
 * into by offset.
 */
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <csv.h>
#include <jansson.h>

#include "core/core.h"
#include "core/csv_import.h"
#include "util/util.h"

/* Each column's names; the first is the one the export writes. */
static const char *const col_names[CC_CSV_COLS][6] = {
    [CC_CSV_NAME] = {"name", "姓名", "联系人", "联系人姓名", NULL},
    [CC_CSV_EMAIL] = {"email", "e-mail", "邮箱", "电子邮箱", "邮件地址", NULL},
    [CC_CSV_MOBILE] = {"mobile", "phone", "手机", "手机号", "手机号码", NULL},
    [CC_CSV_ID_CARD] = {"id_card", "身份证", "身份证号", "身份证号码", NULL},
    [CC_CSV_LANGUAGE] = {"language", "lang", "语言", NULL},
    [CC_CSV_EMAIL_VERIFIED] = {"email_verified", "邮箱已验证", NULL},
    [CC_CSV_MOBILE_VERIFIED] = {"mobile_verified", "手机已验证", NULL},
};

/* The header's columns at the most (a file with more is no contact list). */
#define HEADER_COLS_MAX 256

struct parse {
    struct cc_csv_file *f;
    size_t max_rows;
    int header_done;
    int ncols;                       /* the header's columns */
    int map[HEADER_COLS_MAX];        /* header column -> enum cc_csv_col, -1: ignored */
    char *hdr[HEADER_COLS_MAX];      /* the header's cells while it is read */
    int col;                         /* column of the field being read */
    struct cc_csv_row cur;
    int64_t line;                    /* line being fed */
    int too_many;                    /* rows past max_rows, or header columns past the bound */
    int dup_col;                     /* a known column named twice: its enum + 1 */
};

void cc_csv_file_free(struct cc_csv_file *f)
{
    if (!f)
        return;
    cc_free(f->rows);
    cc_free(f->text);
    memset(f, 0, sizeof *f);
}

const char *cc_csv_cell(const struct cc_csv_file *f, size_t r, enum cc_csv_col col)
{
    if (r >= f->n || (unsigned)col >= CC_CSV_COLS || f->rows[r].cell[col] == CC_CSV_ABSENT)
        return NULL;
    return f->text + f->rows[r].cell[col];
}

int cc_csv_truthy(const char *cell)
{
    if (!cell)
        return 0;
    while (*cell == ' ' || *cell == '\t')
        cell++;
    size_t n = strlen(cell);
    while (n && (cell[n - 1] == ' ' || cell[n - 1] == '\t'))
        n--;
    static const char *const yes[] = {"true", "1", "yes", "y", "是"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        if (strlen(yes[i]) == n && strncasecmp(cell, yes[i], n) == 0)
            return 1;
    return 0;
}

/* Keeps s (len bytes) in f's text with a NUL; its offset. */
static size_t keep(struct cc_csv_file *f, const char *s, size_t len)
{
    if (f->text_len + len + 1 > f->text_cap) {
        size_t cap = f->text_cap ? f->text_cap : 4096;
        while (cap < f->text_len + len + 1)
            cap *= 2;
        f->text = cc_realloc(f->text, cap);
        f->text_cap = cap;
    }
    size_t off = f->text_len;
    memcpy(f->text + off, s, len);
    f->text[off + len] = '\0';
    f->text_len += len + 1;
    return off;
}

/* Trims blanks (space, tab) around s[0..*len) in place: the new start. */
static const char *trim(const char *s, size_t *len)
{
    while (*len && (*s == ' ' || *s == '\t'))
        s++, (*len)--;
    while (*len && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
        (*len)--;
    return s;
}

/* Which known column a header cell names; -1 for none. */
static int column_of(const char *name, size_t len)
{
    for (int c = 0; c < CC_CSV_COLS; c++)
        for (int i = 0; col_names[c][i]; i++)
            if (strlen(col_names[c][i]) == len && strncasecmp(name, col_names[c][i], len) == 0)
                return c;
    return -1;
}

/* The bytes of s[0..n) up to and with the first line end (LF, CRLF or CR). */
static size_t line_len(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            return i + 1;
        if (s[i] == '\r')
            return i + 1 < n && s[i + 1] == '\n' ? i + 2 : i + 1;
    }
    return n;
}

static void new_row(struct parse *p)
{
    memset(&p->cur, 0, sizeof p->cur);
    for (int c = 0; c < CC_CSV_COLS; c++)
        p->cur.cell[c] = CC_CSV_ABSENT;
    p->cur.line = 0;
    p->col = 0;
}

static void on_field(void *s, size_t len, void *data)
{
    struct parse *p = data;
    const char *v = s ? trim(s, &len) : "";
    if (!s)
        len = 0;
    if (!p->header_done) {
        if (p->col < HEADER_COLS_MAX)
            p->hdr[p->col] = cc_strndup(v, len);
        else
            p->too_many = 1;
        p->col++;
        return;
    }
    if (p->col < p->ncols) {
        int c = p->map[p->col];
        if (c >= 0 && len > 0)
            p->cur.cell[c] = keep(p->f, v, len);
    } else if (len > 0) {
        p->cur.extra = 1;
    }
    p->col++;
}

/* The header's JSON list of ignored names, as much of it as fits. */
static void add_ignored(struct cc_csv_file *f, const char *name)
{
    json_t *arr = json_loads(f->ignored, 0, NULL);
    if (!arr)
        arr = json_array();
    json_array_append_new(arr, json_string(name));
    char *s = json_dumps(arr, JSON_COMPACT);
    if (s && strlen(s) < sizeof f->ignored)
        cc_strlcpy(f->ignored, s, sizeof f->ignored);
    free(s);
    json_decref(arr);
}

static void end_header(struct parse *p)
{
    struct cc_csv_file *f = p->f;
    p->ncols = p->col < HEADER_COLS_MAX ? p->col : HEADER_COLS_MAX;
    for (int i = 0; i < p->ncols; i++) {
        const char *name = p->hdr[i] ? p->hdr[i] : "";
        int c = column_of(name, strlen(name));
        p->map[i] = c;
        if (c >= 0 && f->has[c] && !p->dup_col)
            p->dup_col = c + 1;
        if (c >= 0)
            f->has[c] = 1;
        else if (name[0] && cc_utf8_valid(name, strlen(name)))
            add_ignored(f, name);
    }
    p->header_done = 1;
}

static void on_record(int term, void *data)
{
    struct parse *p = data;
    (void)term;
    if (!p->header_done) {
        end_header(p);
        new_row(p);
        return;
    }
    struct cc_csv_file *f = p->f;
    if (f->n >= p->max_rows) {
        p->too_many = 1;
    } else {
        if (f->n == f->cap) {
            f->cap = f->cap ? f->cap * 2 : 256;
            f->rows = cc_realloc(f->rows, f->cap * sizeof *f->rows);
        }
        f->rows[f->n++] = p->cur;
    }
    new_row(p);
}

/* UTF-8 text of data in *text (owned; the caller frees it with cc_free),
 * without a BOM; encoding named in f. */
static enum cc_err to_utf8(const char *data, size_t len, struct cc_csv_file *f, char **text,
                           size_t *tlen, struct cc_error *err)
{
    *text = NULL;
    *tlen = 0;
    if (len >= 2 && ((data[0] == '\xff' && data[1] == '\xfe') ||
                     (data[0] == '\xfe' && data[1] == '\xff')))
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "File",
                            "The file is UTF-16 text: save it as CSV in UTF-8 (or GBK).");
    if (memchr(data, '\0', len))
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "File",
                            "The file is not a CSV text file.");
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
        data += 3;
        len -= 3;
    }
    if (cc_utf8_valid(data, len)) {
        cc_strlcpy(f->encoding, "utf-8", sizeof f->encoding);
        *text = cc_malloc(len + 1);
        memcpy(*text, data, len);
        (*text)[len] = '\0';
        *tlen = len;
        return CC_OK;
    }
    iconv_t cd = iconv_open("UTF-8", "GB18030");
    if (cd == (iconv_t)-1)
        return cc_error_set(err, CC_ERR_INTERNAL, NULL, "iconv cannot convert from GB18030.");
    size_t cap = len * 2 + 16; /* 2 GB18030 bytes are 3 of UTF-8 at the most; 4 are 4 */
    char *out = cc_malloc(cap);
    char *in = (char *)data, *o = out;
    size_t inleft = len, outleft = cap - 1;
    size_t r = iconv(cd, &in, &inleft, &o, &outleft);
    iconv_close(cd);
    if (r == (size_t)-1 || inleft) {
        cc_free(out);
        return cc_error_set(err, CC_ERR_INVALID_PARAMETER, "File",
                            "The file is neither UTF-8 nor GB18030 (GBK) text.");
    }
    *o = '\0';
    size_t n = (size_t)(o - out);
    if (n >= 3 && !memcmp(out, "\xef\xbb\xbf", 3)) { /* GB18030's own BOM, converted */
        memmove(out, out + 3, n - 3 + 1);
        n -= 3;
    }
    cc_strlcpy(f->encoding, "gb18030", sizeof f->encoding);
    *text = out;
    *tlen = n;
    return CC_OK;
}

enum cc_err cc_csv_import_parse(const char *data, size_t len, size_t max_rows,
                                struct cc_csv_file *out, struct cc_error *err)
{
    memset(out, 0, sizeof *out);
    cc_strlcpy(out->ignored, "[]", sizeof out->ignored);
    char *text = NULL;
    size_t tlen = 0;
    enum cc_err rc = to_utf8(data, len, out, &text, &tlen, err);
    if (rc)
        return rc;
    struct parse *p = cc_calloc(1, sizeof *p);
    p->f = out;
    p->max_rows = max_rows;
    new_row(p);
    struct csv_parser cp;
    csv_init(&cp, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL | CSV_EMPTY_IS_NULL);
    /* Line by line, so that each record knows the line it starts on. A line
     * ends with LF, CRLF or a lone CR (as old Mac spreadsheets saved CSV):
     * libcsv ends a record at each. */
    int bad = 0;
    size_t at = 0;
    while (at < tlen && !bad && !p->too_many) {
        size_t n = line_len(text + at, tlen - at);
        p->line++;
        if (cp.pstate == 0 && p->col == 0)  /* no record begun: the next starts here */
            p->cur.line = p->line;
        if (csv_parse(&cp, text + at, n, on_field, on_record, p) != n)
            bad = 1;
        at += n;
    }
    if (!bad && !p->too_many && csv_fini(&cp, on_field, on_record, p) != 0)
        bad = 1;
    csv_free(&cp);
    cc_free(text);
    if (bad)
        rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "File",
                          "The file is not well-formed CSV (a quote is not closed or stray "
                          "near line %lld).", (long long)p->line);
    else if (p->too_many && p->header_done)
        rc = cc_error_set(err, CC_ERR_LIMIT_EXCEEDED, "File",
                          "The file has more than %zu rows; split it.", max_rows);
    else if (p->too_many)
        rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "File",
                          "The header has more than %d columns.", HEADER_COLS_MAX);
    else if (!p->header_done)
        rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "File",
                          "The file is empty: it needs a header row naming its columns.");
    else if (!out->has[CC_CSV_NAME])
        rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "File",
                          "The header has no name column (name or 姓名).");
    else if (p->dup_col)
        rc = cc_error_set(err, CC_ERR_INVALID_PARAMETER, "File",
                          "The header names the %s column twice.", col_names[p->dup_col - 1][0]);
    for (int i = 0; i < HEADER_COLS_MAX; i++)
        cc_free(p->hdr[i]);
    cc_free(p);
    return rc;
}
