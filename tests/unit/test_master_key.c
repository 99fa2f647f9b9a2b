/* test_master_key.c — the master key's rotation on a real database
 * (service/master_key.c): values sealed before values named their key
 * (version 1) and values that name it are all re-sealed under the new key,
 * the key files end as MASTER alone, the database names the new key, and a
 * service that holds only the new key opens everything while one that holds
 * only the old key opens nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "service_fixture.h"

static void no_line(void *arg, const char *text)
{
    (void)arg;
    (void)text;
}

/* cc_store_check of url: CC_OK when whole. */
static enum cc_err check_url(const char *url)
{
    struct cc_store_config sc = {.url = url};
    struct cc_error err;
    return cc_store_check(&sc, no_line, NULL, &err);
}

struct fx {
    struct svc_fixture b;
    char path[160];
    uint8_t key[CC_KEY_LEN];
};

static int setup(void **state)
{
    cc_alloc_init();
    struct fx *f = cc_calloc(1, sizeof *f);
    if (svc_fixture_open(&f->b, 0))
        return -1;
    /* the fixture's key is 32 bytes of 7: give it a file and a recorded id */
    memset(f->key, 7, sizeof f->key);
    snprintf(f->path, sizeof f->path, "%s/master.key", f->b.dir);
    char hex[2 * CC_KEY_LEN + 2];
    cc_hex(f->key, CC_KEY_LEN, hex);
    hex[2 * CC_KEY_LEN] = '\n';
    hex[2 * CC_KEY_LEN + 1] = '\0';
    uint8_t out[CC_KEY_LEN];
    struct cc_error err;
    if (cc_file_write_atomic(f->path, hex, strlen(hex), 0600) ||
        cc_service_open_key(f->b.store, f->path, out, &err) || memcmp(out, f->key, CC_KEY_LEN))
        return -1;
    cc_service_set_key_file(f->b.svc, f->path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    int rc = svc_fixture_close(&f->b);
    cc_free(f);
    return rc;
}

/* A value in the format of before (1 | nonce | ciphertext | tag). */
static size_t seal_v1(const uint8_t key[CC_KEY_LEN], const char *aad, const char *pt,
                      uint8_t *out)
{
    size_t n = strlen(pt);
    int len = 0, fin = 0;
    out[0] = 1;
    memset(out + 1, 5, 12);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, out + 1);
    EVP_EncryptUpdate(ctx, NULL, &len, (const uint8_t *)aad, (int)strlen(aad));
    EVP_EncryptUpdate(ctx, out + 13, &len, (const uint8_t *)pt, (int)n);
    EVP_EncryptFinal_ex(ctx, out + 13 + len, &fin);
    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + 13 + n);
    EVP_CIPHER_CTX_free(ctx);
    return n + 29;
}

/* The fixture's PostgreSQL database on a connection of its own, or NULL
 * when the fixture runs on SQLite. */
static PGconn *pg_open(struct fx *f)
{
    if (!f->b.pg_db[0])
        return NULL;
    PGconn *c = PQconnectdb(f->b.url);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    return c;
}

/* Runs sql on PostgreSQL with parameters text (may be NULL) and then the
 * bytea blob (n bytes; may be NULL): $1 and $2, or $1 alone; the result (in
 * the binary format), to PQclear. */
static PGresult *pg_run(PGconn *c, const char *sql, const char *text, const uint8_t *blob,
                        size_t n)
{
    const char *v[2] = {text, (const char *)blob};
    int len[2] = {0, (int)n}, fmt[2] = {0, 1};
    int k = text ? 0 : 1;
    PGresult *r = PQexecParams(c, sql, (text ? 1 : 0) + (blob ? 1 : 0), NULL, v + k, len + k,
                               fmt + k, 1);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    return r;
}

/* The sealed secret of access key id, read behind the service's back. */
static size_t read_secret(struct fx *f, const char *id, uint8_t *out, size_t outsz)
{
    size_t n = 0;
    PGconn *pg = pg_open(f);
    if (pg) {
        PGresult *r = pg_run(pg, "SELECT secret_enc FROM access_keys WHERE id = $1", id, NULL, 0);
        if (PQntuples(r) == 1 && (size_t)PQgetlength(r, 0, 0) <= outsz) {
            n = (size_t)PQgetlength(r, 0, 0);
            memcpy(out, PQgetvalue(r, 0, 0), n);
        }
        PQclear(r);
        PQfinish(pg);
        return n;
    }
    char path[160];
    snprintf(path, sizeof path, "%s/t.db", f->b.dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    sqlite3_prepare_v2(db, "SELECT secret_enc FROM access_keys WHERE id = ?1", -1, &st, NULL);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && (size_t)sqlite3_column_bytes(st, 0) <= outsz) {
        n = (size_t)sqlite3_column_bytes(st, 0);
        memcpy(out, sqlite3_column_blob(st, 0), n);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

static void write_secret(struct fx *f, const char *id, const uint8_t *blob, size_t n)
{
    PGconn *pg = pg_open(f);
    if (pg) {
        PQclear(pg_run(pg, "UPDATE access_keys SET secret_enc = $2 WHERE id = $1", id, blob, n));
        PQfinish(pg);
        return;
    }
    char path[160];
    snprintf(path, sizeof path, "%s/t.db", f->b.dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_prepare_v2(db, "UPDATE access_keys SET secret_enc = ?2 WHERE id = ?1",
                                        -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, blob, (int)n, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* svc_fixture_count on either backend: sql with ?1 for SQLite, pg_sql with
 * $1 for PostgreSQL. */
static long long count(struct fx *f, const char *sql, const char *pg_sql, const char *arg)
{
    PGconn *pg = pg_open(f);
    if (!pg)
        return svc_fixture_count(&f->b, sql, arg);
    PGresult *r = pg_run(pg, pg_sql, arg, NULL, 0);
    long long n = -1;
    if (PQntuples(r) == 1 && PQgetlength(r, 0, 0) == 8) {
        const uint8_t *b = (const uint8_t *)PQgetvalue(r, 0, 0);
        n = 0;
        for (int i = 0; i < 8; i++)
            n = n << 8 | b[i];
    }
    PQclear(r);
    PQfinish(pg);
    return n;
}

/* A table of a later version with a sealed column (token_enc) the rotation
 * does not know, holding blob (n bytes); with blob NULL, its rows removed. */
static void gadgets(struct fx *f, const uint8_t *blob, size_t n)
{
    PGconn *pg = pg_open(f);
    if (pg) {
        if (blob) {
            PQclear(pg_run(pg, "CREATE TABLE gadgets (id BIGINT GENERATED BY DEFAULT AS IDENTITY "
                               "PRIMARY KEY, token_enc BYTEA, photo BYTEA)", NULL, NULL, 0));
            PQclear(pg_run(pg, "INSERT INTO gadgets(token_enc, photo) VALUES ($1, '\\x0102')",
                           NULL, blob, n));
        } else {
            PQclear(pg_run(pg, "DELETE FROM gadgets", NULL, NULL, 0));
        }
        PQfinish(pg);
        return;
    }
    char path[160];
    snprintf(path, sizeof path, "%s/t.db", f->b.dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    if (!blob) {
        assert_int_equal(sqlite3_exec(db, "DELETE FROM gadgets", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        return;
    }
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE gadgets (id INTEGER PRIMARY KEY, "
                                      "token_enc BLOB, photo BLOB)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "INSERT INTO gadgets(token_enc, photo) VALUES (?1, x'0102')", -1, &st,
                       NULL);
    sqlite3_bind_blob(st, 1, blob, (int)n, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void rotation_reseals_old_and_new_format_values(void **state)
{
    struct fx *f = *state;
    struct cc_error err;
    struct cc_new_key k2;
    assert_int_equal(cc_key_create(f->b.svc, f->b.first.account_id, CC_ROLE_READONLY, 0, &k2, &err),
                     CC_OK);
    uint8_t blob[256];
    size_t n = seal_v1(f->key, CC_AAD_ACCESS_KEY, "secret-from-before-key-ids", blob);
    write_secret(f, k2.key_id, blob, n);

    struct cc_rotation rot = {.settle_ms = 0};
    assert_int_equal(cc_master_key_rotate(f->b.svc, &rot, &err), CC_OK);
    assert_int_equal(rot.resealed, 2);
    assert_int_equal(rot.resumed, 0);

    /* MASTER holds the new key; nothing else is left. */
    char *data = NULL;
    size_t len = 0;
    assert_int_equal(cc_file_read(f->path, 1024, &data, &len), 0);
    assert_int_equal(len, 2 * CC_KEY_LEN + 1);
    uint8_t nk[CC_KEY_LEN];
    for (size_t i = 0; i < 2 * CC_KEY_LEN; i++) {
        char c = data[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c - 'a' + 10;
        nk[i / 2] = (uint8_t)(i % 2 ? nk[i / 2] | d : d << 4);
    }
    cc_free(data);
    assert_memory_not_equal(nk, f->key, CC_KEY_LEN);
    char p[200];
    snprintf(p, sizeof p, "%s.new", f->path);
    assert_int_not_equal(access(p, F_OK), 0);
    snprintf(p, sizeof p, "%s.old", f->path);
    assert_int_not_equal(access(p, F_OK), 0);
    uint8_t fp[16];
    char id[33];
    cc_key_fingerprint(nk, fp);
    cc_hex(fp, sizeof fp, id);
    assert_int_equal(count(f, "SELECT count(*) FROM meta WHERE name = 'master_key_id' AND value = ?1",
                           "SELECT count(*) FROM meta WHERE name = 'master_key_id' AND value = $1",
                           id), 1);
    assert_int_equal(count(f, "SELECT count(*) FROM meta WHERE name LIKE 'master_key_%_id'",
                           "SELECT count(*) FROM meta WHERE name LIKE 'master_key_%_id'", NULL),
                     0);

    /* Both values name the new key, and only it opens them. */
    struct cc_service *only_new = cc_service_new(f->b.store, nk, NULL);
    struct cc_service *only_old = cc_service_new(f->b.store, f->key, NULL);
    const char *ids[2] = {f->b.first.key_id, k2.key_id};
    const char *want[2] = {f->b.first.secret, "secret-from-before-key-ids"};
    for (int i = 0; i < 2; i++) {
        char pt[256];
        n = read_secret(f, ids[i], blob, sizeof blob);
        assert_true(n > 0);
        const uint8_t *tag = NULL;
        assert_int_equal(cc_aead_key_tag(blob, n, &tag), 1);
        assert_memory_equal(tag, fp, CC_KEY_TAG_LEN);
        assert_int_equal(svc_open(only_new, CC_AAD_ACCESS_KEY, blob, n, pt, sizeof pt, &err), CC_OK);
        assert_string_equal(pt, want[i]);
        assert_int_equal(svc_open(f->b.svc, CC_AAD_ACCESS_KEY, blob, n, pt, sizeof pt, &err), CC_OK);
        assert_int_not_equal(svc_open(only_old, CC_AAD_ACCESS_KEY, blob, n, pt, sizeof pt, &err),
                             CC_OK);
    }
    cc_service_free(only_new);
    cc_service_free(only_old);

    /* What the service seals from now on is sealed with the new key. */
    struct cc_new_key k3;
    assert_int_equal(cc_key_create(f->b.svc, f->b.first.account_id, CC_ROLE_READONLY, 0, &k3, &err),
                     CC_OK);
    n = read_secret(f, k3.key_id, blob, sizeof blob);
    const uint8_t *tag = NULL;
    assert_int_equal(cc_aead_key_tag(blob, n, &tag), 1);
    assert_memory_equal(tag, fp, CC_KEY_TAG_LEN);
}

/* The database names a rotation's key that no file holds: the rotation
 * stops with what to restore, and changes nothing. */
static void rotation_refuses_a_missing_new_key(void **state)
{
    struct fx *f = *state;
    struct cc_error err;
    assert_int_equal(cc_store_meta_set(f->b.store, "master_key_next_id",
                                       "0123456789abcdef0123456789abcdef", &err), CC_OK);
    struct cc_rotation rot = {.settle_ms = 0};
    assert_int_equal(cc_master_key_rotate(f->b.svc, &rot, &err), CC_ERR_CONFIG);
    assert_non_null(strstr(err.message, "restore it from your backup"));
    uint8_t blob[256];
    size_t n = read_secret(f, f->b.first.key_id, blob, sizeof blob);
    uint8_t fp[16];
    cc_key_fingerprint(f->key, fp);
    const uint8_t *tag = NULL;
    assert_int_equal(cc_aead_key_tag(blob, n, &tag), 1);
    assert_memory_equal(tag, fp, CC_KEY_TAG_LEN);
}

/* A sealed column the rotation does not know (a *_enc BLOB column outside
 * enum cc_sealed_column) holding a value under the old key: the rotation
 * stops before the switch, names the column, and keeps both keys; with the
 * value gone it finishes. */
static void rotation_stops_at_a_sealed_column_it_does_not_know(void **state)
{
    struct fx *f = *state;
    struct cc_error err;
    uint8_t blob[256];
    size_t n = seal_v1(f->key, "gadget.token", "gadget-token", blob);
    gadgets(f, blob, n);

    struct cc_rotation rot = {.settle_ms = 0};
    assert_int_equal(cc_master_key_rotate(f->b.svc, &rot, &err), CC_ERR_INTERNAL);
    assert_non_null(strstr(err.message, "gadgets.token_enc holds 1 value sealed under another key"));
    assert_int_equal(count(f, "SELECT count(*) FROM meta WHERE name = 'master_key_next_id'",
                           "SELECT count(*) FROM meta WHERE name = 'master_key_next_id'", NULL),
                     1);
    char p[200];
    snprintf(p, sizeof p, "%s.new", f->path);
    assert_int_equal(access(p, F_OK), 0); /* the new key is kept, and so is the old one */
    assert_int_equal(access(f->path, F_OK), 0);

    gadgets(f, NULL, 0);
    assert_int_equal(cc_master_key_rotate(f->b.svc, &rot, &err), CC_OK);
    assert_int_equal(rot.resumed, 1);
    assert_int_not_equal(access(p, F_OK), 0);
}

/* cc_service_verify_sealed: every value opens with the key file; a changed
 * byte is reported as exactly its row, and a wrong key file as every row. */
struct bad_rows {
    int n;
    char last[160];
};

static void on_bad(void *arg, const char *table, const char *key_column, const char *row,
                   const char *column, const char *what)
{
    struct bad_rows *b = arg;
    (void)what;
    b->n++;
    snprintf(b->last, sizeof b->last, "%s.%s=%s:%s", table, key_column, row, column);
}

static void verify_sealed_names_exactly_the_changed_value(void **state)
{
    struct fx *f = *state;
    struct cc_error err;
    struct bad_rows bad = {0, ""};
    struct cc_sealed_report rep = {on_bad, &bad};
    int64_t checked = 0, failed = 0;
    assert_int_equal(cc_service_verify_sealed(f->b.store, f->path, &rep, &checked, &failed, &err),
                     CC_OK);
    assert_true(checked >= 1);
    assert_int_equal(failed, 0);
    assert_int_equal(bad.n, 0);

    uint8_t blob[512];
    size_t n = read_secret(f, f->b.first.key_id, blob, sizeof blob);
    assert_true(n > 20);
    blob[n - 3] ^= 1;
    write_secret(f, f->b.first.key_id, blob, n);
    assert_int_equal(cc_service_verify_sealed(f->b.store, f->path, &rep, &checked, &failed, &err),
                     CC_OK);
    assert_int_equal(failed, 1);
    char want[160];
    snprintf(want, sizeof want, "access_keys.id=%s:secret_enc", f->b.first.key_id);
    assert_string_equal(bad.last, want);

    /* no key file at all: nothing opens */
    bad.n = 0;
    char none[200];
    snprintf(none, sizeof none, "%s/no-such.key", f->b.dir);
    assert_int_equal(cc_service_verify_sealed(f->b.store, none, &rep, &checked, &failed, &err),
                     CC_OK);
    assert_int_equal(failed, checked);
    assert_int_equal(bad.n, (int)checked);
}

/* cc_store_backup: a whole copy under dest (mode 0600) and nothing else;
 * a failure leaves nothing; the database itself is refused as dest. */
static void backup_writes_a_whole_private_copy(void **state)
{
    struct fx *f = *state;
    if (f->b.pg_db[0]) {
        struct cc_error err;
        assert_int_equal(cc_store_backup(f->b.url, "/tmp/x.db", NULL, NULL, &err), CC_ERR_CONFIG);
        return;
    }
    struct cc_error err;
    char dest[200], bad[200], live[200];
    snprintf(dest, sizeof dest, "%s/copy.db", f->b.dir);
    snprintf(bad, sizeof bad, "%s/missing/copy.db", f->b.dir);
    snprintf(live, sizeof live, "%s/t.db", f->b.dir);
    int64_t bytes = 0;
    assert_int_equal(cc_store_backup(f->b.url, dest, NULL, &bytes, &err), CC_OK);
    struct stat st;
    assert_int_equal(stat(dest, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal((int64_t)st.st_size, bytes);
    char url[220];
    snprintf(url, sizeof url, "sqlite:%s", dest);
    assert_int_equal(check_url(url), CC_OK);
    assert_int_not_equal(cc_store_backup(f->b.url, bad, NULL, NULL, &err), CC_OK);
    assert_int_equal(cc_store_backup(f->b.url, live, NULL, NULL, &err), CC_ERR_CONFIG);
    assert_non_null(strstr(err.message, "is the database itself"));
    DIR *d = opendir(f->b.dir);
    struct dirent *e;
    while ((e = readdir(d)))
        assert_null(strstr(e->d_name, ".tmp-"));
    closedir(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(rotation_reseals_old_and_new_format_values, setup, teardown),
        cmocka_unit_test_setup_teardown(verify_sealed_names_exactly_the_changed_value, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(backup_writes_a_whole_private_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(rotation_refuses_a_missing_new_key, setup, teardown),
        cmocka_unit_test_setup_teardown(rotation_stops_at_a_sealed_column_it_does_not_know, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
