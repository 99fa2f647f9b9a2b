/*
 * sqlite_grams.c — the index of search keywords of one and two characters
 * (contacts_grams, migration 0027): the tokens of a contact's search_text,
 * a keyword's token, the index's writes, and its rebuild from contacts.
 *
 * A token is the lower-case hex of a gram's UTF-8 bytes: one character or
 * two adjacent ones of a line. UTF-8 is prefix-free, so the bytes say which
 * characters they are: a character and a pair never share a token. The
 * grams are made from search_text as stored (already lower-cased the way
 * cc_store_keyword lowers a keyword), so a keyword's token is in a contact's
 * tokens exactly when instr(search_text, keyword) > 0.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/sqlite_int.h"
#include "util/util.h"

/* The bytes of the character at p: its lead byte and the continuation bytes
 * after it, at most 4 (so that a pair fits the 8 bytes of a key even in
 * text that is not valid UTF-8). */
static size_t char_bytes(const unsigned char *p)
{
    size_t n = 1;
    while (n < 4 && (p[n] & 0xc0) == 0x80)
        n++;
    return n;
}

/* A gram's bytes left-aligned in 64 bits: text holds no NUL byte, so
 * different grams get different keys. */
static uint64_t gram_key(const unsigned char *p, size_t n)
{
    uint64_t k = 0;
    for (size_t i = 0; i < 8; i++)
        k = k << 8 | (i < n ? p[i] : 0);
    return k;
}

static char *put_hex(char *o, uint64_t k)
{
    static const char hex[] = "0123456789abcdef";
    for (int shift = 56; shift >= 0 && (k >> shift & 0xff); shift -= 8) {
        *o++ = hex[k >> (shift + 4) & 0xf];
        *o++ = hex[k >> shift & 0xf];
    }
    return o;
}

/* Adds k (never 0: text holds no NUL byte) to the open-addressing set of
 * 1 << bits slots; 1 when it was not there. */
static int set_add(uint64_t *set, unsigned bits, uint64_t k)
{
    size_t mask = ((size_t)1 << bits) - 1;
    for (size_t i = (size_t)((k * 0x9E3779B97F4A7C15ull) >> (64 - bits));; i = (i + 1) & mask) {
        if (set[i] == k)
            return 0;
        if (!set[i]) {
            set[i] = k;
            return 1;
        }
    }
}

/* The tokens in the order their grams first come in text, each once: a set
 * of at least twice as many slots as there can be grams (two a byte). */
char *cc_sq_grams(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t len = strlen(text);
    unsigned bits = 6;
    while (((size_t)1 << bits) < 4 * len + 2)
        bits++;
    uint64_t local[1024], *set = bits <= 10 ? local : cc_malloc(sizeof *set << bits);
    memset(set, 0, sizeof *set << bits);
    char *out = cc_malloc(2 * len * 17 + 1), *o = out;
    while (*p) {
        if (*p == '\n') {
            p++;
            continue;
        }
        size_t a = char_bytes(p);
        uint64_t k[2] = {gram_key(p, a), 0};
        if (p[a] && p[a] != '\n')
            k[1] = gram_key(p, a + char_bytes(p + a));
        for (int i = 0; i < 2 && k[i]; i++) {
            if (!set_add(set, bits, k[i]))
                continue;
            if (o != out)
                *o++ = ' ';
            o = put_hex(o, k[i]);
        }
        p += a;
    }
    *o = '\0';
    if (set != local)
        cc_free(set);
    return out;
}

void cc_sq_gram_phrase(const char *kw, char *out, size_t outsz)
{
    char tok[2 * 8 + 1];
    size_t len = strlen(kw);
    *put_hex(tok, gram_key((const unsigned char *)kw, len < 8 ? len : 8)) = '\0';
    snprintf(out, outsz, "\"%s\"", tok);
}

static const char sql_add[] = "INSERT INTO contacts_grams(rowid, grams) VALUES (?1, ?2)";
static const char sql_remove[] =
    "INSERT INTO contacts_grams(contacts_grams, rowid, grams) VALUES ('delete', ?1, ?2)";

enum cc_err cc_sq_grams_write(struct conn *c, int add, int64_t rid, const char *text,
                              struct cc_error *err)
{
    sqlite3_stmt *s = cc_sq_stmt(c, add ? sql_add : sql_remove, err);
    if (!s)
        return CC_ERR_STORE;
    char *grams = cc_sq_grams(text);
    sqlite3_bind_int64(s, 1, rid);
    sqlite3_bind_text(s, 2, grams, -1, cc_free);
    return cc_sq_step_done(c, s, "updating the short keyword index", err);
}

/* contacts_grams made again from every contact, on c's open transaction. */
static enum cc_err grams_rebuild(struct conn *c, struct cc_error *err)
{
    static const char sql_clear[] =
        "INSERT INTO contacts_grams(contacts_grams) VALUES ('delete-all')";
    static const char sql_all[] = "SELECT id, search_text FROM contacts ORDER BY id";
    sqlite3_stmt *s = cc_sq_stmt(c, sql_clear, err);
    enum cc_err rc = s ? cc_sq_step_done(c, s, "clearing the short keyword index", err)
                       : CC_ERR_STORE;
    if (rc || !(s = cc_sq_stmt(c, sql_all, err)))
        return rc ? rc : CC_ERR_STORE;
    int step;
    while (!rc && (step = sqlite3_step(s)) == SQLITE_ROW)
        rc = cc_sq_grams_write(c, 1, sqlite3_column_int64(s, 0),
                               (const char *)sqlite3_column_text(s, 1), err);
    cc_sq_done(s);
    if (!rc && step != SQLITE_DONE)
        rc = cc_sq_db_error(err, c->db, "reading contacts for the short keyword index");
    return rc;
}

enum cc_err cc_sq_grams_fill(struct conn *c, struct cc_error *err)
{
    static const char sql_mark[] = "SELECT 1 FROM meta WHERE name = 'search_grams_fill'";
    static const char sql_unmark[] = "DELETE FROM meta WHERE name = 'search_grams_fill'";
    sqlite3_stmt *s = cc_sq_stmt(c, sql_mark, err);
    if (!s)
        return CC_ERR_STORE;
    int step = sqlite3_step(s);
    cc_sq_done(s);
    if (step == SQLITE_DONE)
        return CC_OK;
    if (step != SQLITE_ROW)
        return cc_sq_db_error(err, c->db, "reading the short keyword index's state");
    /* What the queue holds is in contacts already: the rebuild reads it
     * there, and only contacts_fts still has to learn it. */
    enum cc_err rc = cc_sq_search_queue_apply(c, 0, err);
    if (!rc)
        rc = grams_rebuild(c, err);
    if (!rc && (s = cc_sq_stmt(c, sql_unmark, err)) == NULL)
        rc = CC_ERR_STORE;
    if (!rc)
        rc = cc_sq_step_done(c, s, "recording the short keyword index", err);
    if (!rc)
        cc_log(CC_LOG_INFO, "short keyword index built", NULL);
    return rc;
}

enum cc_err cc_sq_grams_rebuild(sqlite3 *db, struct cc_error *err)
{
    struct conn *c = cc_calloc(1, sizeof *c);
    c->db = db;
    int own = sqlite3_get_autocommit(db); /* one transaction, not one a contact */
    enum cc_err rc = own && cc_sq_exec(db, "BEGIN IMMEDIATE") != SQLITE_OK
                         ? cc_sq_db_error(err, db, "rebuilding the short keyword index")
                         : grams_rebuild(c, err);
    for (size_t i = 0; i < CC_SQ_STMT_SLOTS; i++)
        sqlite3_finalize(c->st[i].st);
    cc_free(c);
    if (own && !sqlite3_get_autocommit(db)) {
        if (!rc && cc_sq_exec(db, "COMMIT") != SQLITE_OK)
            rc = cc_sq_db_error(err, db, "rebuilding the short keyword index");
        if (rc)
            cc_sq_exec(db, "ROLLBACK");
    }
    return rc;
}
