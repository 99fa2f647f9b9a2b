/*
 * cli_table.c — how the client shows answers to a person: lists as aligned
 * tables (columns measured in terminal cells, so Chinese names line up),
 * one object as "key: value" lines, and --json as the API's JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "app/cli_int.h"
#include "util/util.h"

#define CELL_MAX 256

/* East Asian wide and fullwidth ranges (Unicode's EastAsianWidth W and F,
 * the common blocks): what a terminal draws two cells wide. Used instead of
 * wcwidth() so the width does not depend on the locale the client runs in. */
static int wide(unsigned cp)
{
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
           (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
           (cp >= 0x20000 && cp <= 0x3FFFD);
}

size_t cli_text_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        int n;
        if (*p < 0x80)
            cp = *p, n = 1;
        else if ((*p & 0xE0) == 0xC0)
            cp = *p & 0x1F, n = 2;
        else if ((*p & 0xF0) == 0xE0)
            cp = *p & 0x0F, n = 3;
        else if ((*p & 0xF8) == 0xF0)
            cp = *p & 0x07, n = 4;
        else
            cp = 0xFFFD, n = 1;
        for (int i = 1; i < n; i++) {
            if ((p[i] & 0xC0) != 0x80) { /* broken sequence: one cell per byte */
                cp = 0xFFFD;
                n = i;
                break;
            }
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        p += n;
        if (cp < 0x20 || (cp >= 0x300 && cp <= 0x36F) || cp == 0x200B)
            continue; /* controls and combining marks take no cell */
        w += wide(cp) ? 2 : 1;
    }
    return w;
}

void cli_cell(const json_t *v, char *out, size_t outsz)
{
    out[0] = '\0';
    if (!v || json_is_null(v)) {
        cc_strlcpy(out, "-", outsz);
    } else if (json_is_string(v)) {
        cc_strlcpy(out, json_string_value(v), outsz);
    } else if (json_is_integer(v)) {
        snprintf(out, outsz, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(out, outsz, "%g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        cc_strlcpy(out, json_is_true(v) ? "yes" : "no", outsz);
    } else {
        int scalars = json_is_array(v);
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) if (json_is_object(e) || json_is_array(e)) scalars = 0;
        if (scalars && json_array_size(v) == 0) {
            cc_strlcpy(out, "-", outsz);
        } else if (scalars) {
            size_t n = 0;
            json_array_foreach(v, i, e)
            {
                char part[CELL_MAX];
                cli_cell(e, part, sizeof part);
                n += (size_t)snprintf(out + n, n < outsz ? outsz - n : 0, "%s%s", i ? ", " : "",
                                      part);
                if (n >= outsz)
                    break;
            }
        } else {
            char *s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
            if (s)
                cc_strlcpy(out, s, outsz);
            free(s);
        }
    }
    /* a cell is one line: line breaks and tabs become spaces */
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    /* cut on a character boundary, never inside a UTF-8 sequence */
    size_t n = strlen(out);
    if (n + 1 >= outsz && n > 0) {
        size_t lead = n - 1;
        while (lead > 0 && ((unsigned char)out[lead] & 0xC0) == 0x80)
            lead--;
        unsigned char c = (unsigned char)out[lead];
        size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
        if (lead + need > n)
            out[lead] = '\0';
    }
}

static void pad(FILE *f, size_t n)
{
    while (n--)
        fputc(' ', f);
}

void cli_table_print(FILE *f, const json_t *items, const char *const *keys, size_t nkeys)
{
    size_t nrows = json_array_size(items);
    size_t *width = cc_calloc(nkeys, sizeof *width);
    char(*cells)[CELL_MAX] = cc_calloc((nrows + 1) * nkeys, CELL_MAX);
    for (size_t k = 0; k < nkeys; k++) {
        char *h = cells[k];
        cc_strlcpy(h, keys[k], CELL_MAX);
        for (char *p = h; *p; p++)
            if (*p >= 'a' && *p <= 'z')
                *p = (char)(*p - 'a' + 'A');
        width[k] = cli_text_width(h);
    }
    for (size_t r = 0; r < nrows; r++) {
        const json_t *o = json_array_get(items, r);
        for (size_t k = 0; k < nkeys; k++) {
            char *c = cells[(r + 1) * nkeys + k];
            cli_cell(json_object_get(o, keys[k]), c, CELL_MAX);
            size_t w = cli_text_width(c);
            if (w > width[k])
                width[k] = w;
        }
    }
    for (size_t r = 0; r <= nrows; r++) {
        for (size_t k = 0; k < nkeys; k++) {
            const char *c = cells[r * nkeys + k];
            fputs(c, f);
            if (k + 1 < nkeys)
                pad(f, width[k] - cli_text_width(c) + 2);
        }
        fputc('\n', f);
    }
    cc_free(cells);
    cc_free(width);
}

void cli_object_print(FILE *f, const json_t *obj)
{
    size_t w = 0;
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) if (strlen(key) > w) w = strlen(key);
    json_object_foreach((json_t *)obj, key, v)
    {
        char cell[1024];
        cli_cell(v, cell, sizeof cell);
        fprintf(f, "%s:", key);
        pad(f, w - strlen(key) + 1);
        fprintf(f, "%s\n", cell);
    }
}

void cli_json_print(const json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (s)
        printf("%s\n", s);
    free(s);
}
