/*
 * test_import.c — unit tests of core/csv_import.c: the CSV file of a contact
 * import read into records: a UTF-8 BOM dropped, GBK (GB18030) bytes
 * converted, quoted fields with commas, quotes and line breaks (and the line
 * each record starts on), English and Chinese header names, unknown columns
 * listed, a header without a name column, a column named twice, ragged
 * rows, files that are not CSV, and the row limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"
#include "core/csv_import.h"
#include "util/util.h"

static enum cc_err parse(const char *text, size_t len, struct cc_csv_file *f,
                         struct cc_error *err)
{
    return cc_csv_import_parse(text, len, 1000, f, err);
}

static void cell_is(const struct cc_csv_file *f, size_t r, enum cc_csv_col c, const char *want)
{
    const char *got = cc_csv_cell(f, r, c);
    if (!want)
        assert_null(got);
    else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

static void utf8_bom_dropped(void **state)
{
    (void)state;
    static const char in[] = "\xef\xbb\xbfname,email,mobile\nAda,ada@example.com,13800138000\n";
    struct cc_csv_file f;
    struct cc_error err;
    assert_int_equal(parse(in, sizeof in - 1, &f, &err), CC_OK);
    assert_string_equal(f.encoding, "utf-8");
    assert_int_equal(f.n, 1);
    assert_true(f.has[CC_CSV_NAME] && f.has[CC_CSV_EMAIL] && f.has[CC_CSV_MOBILE]);
    cell_is(&f, 0, CC_CSV_NAME, "Ada");
    cell_is(&f, 0, CC_CSV_EMAIL, "ada@example.com");
    assert_int_equal(f.rows[0].line, 2);
    assert_string_equal(f.ignored, "[]");
    cc_csv_file_free(&f);
}

/* "姓名,手机\r\n张三,13800138000\r\n" as a Chinese Windows spreadsheet saves it (GBK). */
static void gbk_converted(void **state)
{
    (void)state;
    static const char in[] = "\xd0\xd5\xc3\xfb,\xca\xd6\xbb\xfa\r\n"
                             "\xd5\xc5\xc8\xfd,13800138000\r\n";
    struct cc_csv_file f;
    struct cc_error err;
    assert_int_equal(parse(in, sizeof in - 1, &f, &err), CC_OK);
    assert_string_equal(f.encoding, "gb18030");
    assert_int_equal(f.n, 1);
    cell_is(&f, 0, CC_CSV_NAME, "张三");
    cell_is(&f, 0, CC_CSV_MOBILE, "13800138000");
    cc_csv_file_free(&f);
}

/* Lines ended by a lone CR (old Mac spreadsheets), CRLF and LF in one file:
 * each record's line is the line it starts on. */
static void line_ends_mixed(void **state)
{
    (void)state;
    static const char in[] = "name,mobile\rAda,13800138000\rBo,13800138001\r\n"
                             "Cy,13800138002\n\rDi,13800138003";
    struct cc_csv_file f;
    struct cc_error err;
    assert_int_equal(parse(in, sizeof in - 1, &f, &err), CC_OK);
    assert_int_equal(f.n, 4);
    cell_is(&f, 0, CC_CSV_NAME, "Ada");
    cell_is(&f, 3, CC_CSV_NAME, "Di");
    assert_int_equal(f.rows[0].line, 2);
    assert_int_equal(f.rows[1].line, 3);
    assert_int_equal(f.rows[2].line, 4);
    assert_int_equal(f.rows[3].line, 6); /* line 5 is empty */
    cc_csv_file_free(&f);
}

static void quoted_fields_and_lines(void **state)
{
    (void)state;
    static const char in[] = "name,email,mobile\n"
                             "\"Li, Si\",li@example.com,139\n"
                             "\n"
                             "\"two\nlines\",\"say \"\"hi\"\"\",137\n"
                             "last,,136";
    struct cc_csv_file f;
    struct cc_error err;
    assert_int_equal(parse(in, sizeof in - 1, &f, &err), CC_OK);
    assert_int_equal(f.n, 3);
    cell_is(&f, 0, CC_CSV_NAME, "Li, Si");
    assert_int_equal(f.rows[0].line, 2);
    cell_is(&f, 1, CC_CSV_NAME, "two\nlines");
    cell_is(&f, 1, CC_CSV_EMAIL, "say \"hi\"");
    assert_int_equal(f.rows[1].line, 4); /* the empty line 3 is skipped */
    cell_is(&f, 2, CC_CSV_NAME, "last");
    cell_is(&f, 2, CC_CSV_EMAIL, NULL); /* an empty cell is no value */
    cell_is(&f, 2, CC_CSV_MOBILE, "136");
    assert_int_equal(f.rows[2].line, 6); /* no line break at the end */
    cc_csv_file_free(&f);
}

static void chinese_headers_any_case(void **state)
{
    (void)state;
    static const char in[] = " 联系人姓名 ,电子邮箱,手机号码,身份证号码,语言,邮箱已验证,手机已验证\n"
                             "王五,w@example.com,13800138000,11010519491231002X,zh-CN,是,no\n";
    struct cc_csv_file f;
    struct cc_error err;
    assert_int_equal(parse(in, sizeof in - 1, &f, &err), CC_OK);
    for (int c = 0; c < CC_CSV_COLS; c++)
        assert_true(f.has[c]);
    cell_is(&f, 0, CC_CSV_NAME, "王五");
    cell_is(&f, 0, CC_CSV_ID_CARD, "11010519491231002X");
    cell_is(&f, 0, CC_CSV_LANGUAGE, "zh-CN");
    assert_true(cc_csv_truthy(cc_csv_cell(&f, 0, CC_CSV_EMAIL_VERIFIED)));
    assert_false(cc_csv_truthy(cc_csv_cell(&f, 0, CC_CSV_MOBILE_VERIFIED)));
    cc_csv_file_free(&f);

    static const char en[] = "NAME,E-Mail,Phone,Lang\nA,a@example.com,1,en\n";
    assert_int_equal(parse(en, sizeof en - 1, &f, &err), CC_OK);
    assert_true(f.has[CC_CSV_EMAIL] && f.has[CC_CSV_MOBILE] && f.has[CC_CSV_LANGUAGE]);
    cc_csv_file_free(&f);
}

static void unknown_columns_listed(void **state)
{
    (void)state;
    static const char in[] = "id,name,部门,mobile,note\n1,A,IT,138,x\n";
    struct cc_csv_file f;
    struct cc_error err;
    assert_int_equal(parse(in, sizeof in - 1, &f, &err), CC_OK);
    assert_string_equal(f.ignored, "[\"id\",\"部门\",\"note\"]");
    cell_is(&f, 0, CC_CSV_NAME, "A");
    cell_is(&f, 0, CC_CSV_MOBILE, "138");
    cc_csv_file_free(&f);
}

static void missing_name_column(void **state)
{
    (void)state;
    static const char in[] = "email,mobile\na@example.com,138\n";
    struct cc_csv_file f;
    struct cc_error err;
    assert_int_equal(parse(in, sizeof in - 1, &f, &err), CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "File");
    cc_csv_file_free(&f);
}

static void column_named_twice(void **state)
{
    (void)state;
    static const char in[] = "name,手机,mobile\nA,1,2\n";
    struct cc_csv_file f;
    struct cc_error err;
    assert_int_equal(parse(in, sizeof in - 1, &f, &err), CC_ERR_INVALID_PARAMETER);
    assert_non_null(strstr(err.message, "mobile"));
    cc_csv_file_free(&f);
}

static void ragged_rows(void **state)
{
    (void)state;
    static const char in[] = "name,email,mobile\nShort\nLong,l@example.com,138,extra\n"
                             "Trailing,t@example.com,139,,\n";
    struct cc_csv_file f;
    struct cc_error err;
    assert_int_equal(parse(in, sizeof in - 1, &f, &err), CC_OK);
    assert_int_equal(f.n, 3);
    cell_is(&f, 0, CC_CSV_NAME, "Short");
    cell_is(&f, 0, CC_CSV_EMAIL, NULL);
    cell_is(&f, 0, CC_CSV_MOBILE, NULL);
    assert_false(f.rows[0].extra);
    assert_true(f.rows[1].extra); /* a cell past the header's columns */
    cell_is(&f, 1, CC_CSV_MOBILE, "138");
    assert_false(f.rows[2].extra); /* empty cells past them are nothing */
    cc_csv_file_free(&f);
}

static void not_csv(void **state)
{
    (void)state;
    struct cc_csv_file f;
    struct cc_error err;
    static const char quote[] = "name,mobile\n\"open,138\n";
    assert_int_equal(parse(quote, sizeof quote - 1, &f, &err), CC_ERR_INVALID_PARAMETER);
    assert_string_equal(err.field, "File");
    cc_csv_file_free(&f);
    static const char stray[] = "name,mobile\nA\"b\"c,138\n";
    assert_int_equal(parse(stray, sizeof stray - 1, &f, &err), CC_ERR_INVALID_PARAMETER);
    cc_csv_file_free(&f);
    static const char binary[] = "name\0\x01\x02";
    assert_int_equal(parse(binary, sizeof binary - 1, &f, &err), CC_ERR_INVALID_PARAMETER);
    cc_csv_file_free(&f);
    static const char utf16[] = "\xff\xfen\0a\0m\0e\0";
    assert_int_equal(parse(utf16, sizeof utf16 - 1, &f, &err), CC_ERR_INVALID_PARAMETER);
    assert_non_null(strstr(err.message, "UTF-16"));
    cc_csv_file_free(&f);
    /* bytes that are neither UTF-8 nor GB18030 */
    static const char junk[] = "name\n\x80\xff\xff\n";
    assert_int_equal(parse(junk, sizeof junk - 1, &f, &err), CC_ERR_INVALID_PARAMETER);
    cc_csv_file_free(&f);
    assert_int_equal(parse("", 0, &f, &err), CC_ERR_INVALID_PARAMETER);
    cc_csv_file_free(&f);
}

static void row_limit(void **state)
{
    (void)state;
    static const char in[] = "name\na\nb\nc\n";
    struct cc_csv_file f;
    struct cc_error err;
    assert_int_equal(cc_csv_import_parse(in, sizeof in - 1, 3, &f, &err), CC_OK);
    assert_int_equal(f.n, 3);
    cc_csv_file_free(&f);
    assert_int_equal(cc_csv_import_parse(in, sizeof in - 1, 2, &f, &err),
                     CC_ERR_LIMIT_EXCEEDED);
    cc_csv_file_free(&f);
}

static void header_only(void **state)
{
    (void)state;
    static const char in[] = "name,mobile\r\n";
    struct cc_csv_file f;
    struct cc_error err;
    assert_int_equal(parse(in, sizeof in - 1, &f, &err), CC_OK);
    assert_int_equal(f.n, 0);
    assert_null(cc_csv_cell(&f, 0, CC_CSV_NAME));
    cc_csv_file_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_bom_dropped),
        cmocka_unit_test(gbk_converted),
        cmocka_unit_test(line_ends_mixed),
        cmocka_unit_test(quoted_fields_and_lines),
        cmocka_unit_test(chinese_headers_any_case),
        cmocka_unit_test(unknown_columns_listed),
        cmocka_unit_test(missing_name_column),
        cmocka_unit_test(column_named_twice),
        cmocka_unit_test(ragged_rows),
        cmocka_unit_test(not_csv),
        cmocka_unit_test(row_limit),
        cmocka_unit_test(header_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
