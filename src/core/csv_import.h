/*
 * csv_import.h — reading a contact import's CSV file (csv_import.c):
 * encoding (UTF-8 with or without BOM, else GB18030 through iconv), RFC 4180
 * records through libcsv, and the header's columns mapped to contact fields
 * by their English or Chinese names. Pure code, no I/O.
 */
#ifndef CC_CSV_IMPORT_H
#define CC_CSV_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/model.h"

/* The columns an import knows. */
enum cc_csv_col {
    CC_CSV_NAME,
    CC_CSV_EMAIL,
    CC_CSV_MOBILE,
    CC_CSV_ID_CARD,
    CC_CSV_LANGUAGE,
    CC_CSV_EMAIL_VERIFIED,
    CC_CSV_MOBILE_VERIFIED,
    CC_CSV_COLS
};

#define CC_CSV_ABSENT ((size_t)-1)

/* One data record: the line of the file it starts on (the header's is 1)
 * and where each known column's cell is in the file's text (CC_CSV_ABSENT:
 * no such column, or an empty cell). */
struct cc_csv_row {
    int64_t line;
    size_t cell[CC_CSV_COLS];
    int extra;   /* non-empty cells past the header's last column */
};

struct cc_csv_file {
    char encoding[12];                           /* "utf-8" or "gb18030" */
    char ignored[CC_IMPORT_IGNORED_MAX];         /* JSON array of the unknown columns' names */
    int has[CC_CSV_COLS];                        /* the header has the column */
    struct cc_csv_row *rows;                     /* owned */
    size_t n, cap;
    char *text;                                  /* owned: every cell, NUL-terminated */
    size_t text_len, text_cap;
};

/* Parses data (len bytes, the file as it came) into *out: at most max_rows
 * data records. A file that is neither UTF-8 nor GB18030, that is not
 * well-formed CSV, that has no header with a name column or names a column
 * twice, or has more rows than max_rows, is CC_ERR_INVALID_PARAMETER field
 * "File" (CC_ERR_LIMIT_EXCEEDED for too many rows). Empty lines are skipped.
 * *out is owned by the caller: cc_csv_file_free(), also after a failure. */
enum cc_err cc_csv_import_parse(const char *data, size_t len, size_t max_rows,
                                struct cc_csv_file *out, struct cc_error *err);
void cc_csv_file_free(struct cc_csv_file *f);
/* Row r's cell of column col, NUL-terminated; NULL when absent or empty. */
const char *cc_csv_cell(const struct cc_csv_file *f, size_t r, enum cc_csv_col col);
/* A *_verified cell as a yes: true, 1, yes, y, 是 (any case); 0 otherwise. */
int cc_csv_truthy(const char *cell);

#endif
