/*
 * fuzz_csv_import.c — libFuzzer target for core/csv_import.c, which reads
 * the CSV file a contact import uploads: encoding detection (UTF-8, BOM,
 * GB18030 through iconv), libcsv records, the header's column names.
 *
 * Each input is parsed as a file; the target checks what must always hold:
 * a parsed file is UTF-8 throughout (what GB18030 became included), every
 * cell it gives is NUL-terminated inside the file's text, rows are within
 * the limit and their lines increase; a refusal says why.
 */
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "core/csv_import.h"
#include "util/util.h"
#include "fuzz.h"

#define MAX_ROWS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cc_csv_file f;
    struct cc_error err;
    memset(&f, 0, sizeof f);
    enum cc_err rc = cc_csv_import_parse((const char *)data, size, MAX_ROWS, &f, &err);
    if (rc) {
        CHECK(err.message[0] != '\0');
    } else {
        CHECK(f.n <= MAX_ROWS);
        CHECK(!strcmp(f.encoding, "utf-8") || !strcmp(f.encoding, "gb18030"));
        int64_t last = 1; /* the header's line */
        for (size_t r = 0; r < f.n; r++) {
            CHECK(f.rows[r].line > last);
            last = f.rows[r].line;
            for (int c = 0; c < CC_CSV_COLS; c++) {
                const char *cell = cc_csv_cell(&f, r, (enum cc_csv_col)c);
                if (!cell)
                    continue;
                CHECK(cell >= f.text && cell < f.text + f.text_len);
                size_t n = strlen(cell);
                CHECK(cell + n < f.text + f.text_len + 1);
                CHECK(g_utf8_validate(cell, (gssize)n, NULL));
            }
        }
    }
    cc_csv_file_free(&f);
    return 0;
}
