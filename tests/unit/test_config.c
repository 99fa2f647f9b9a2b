/* test_config.c — the option table: precedence, bounds, and the example
 * config in the repository is exactly what the table generates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "app/config.h"
#include "util/util.h"

static void defaults_and_bounds(void **state)
{
    (void)state;
    struct cc_config c;
    char err[256];
    cc_config_defaults(&c);
    assert_string_equal(c.listen, "127.0.0.1:8080");
    assert_int_equal(c.max_body_bytes, 65536);
    assert_int_equal(c.synchronous_full, 1);
    assert_int_equal(cc_config_set(&c, "max-contacts-per-account", "5", err, sizeof err), 0);
    assert_int_equal(c.max_contacts_per_account, 5);
    assert_int_equal(cc_config_set(&c, "max_contacts_per_account", "0", err, sizeof err), -1);
    assert_int_equal(cc_config_set(&c, "threads", "4x", err, sizeof err), -1);
    assert_int_equal(cc_config_set(&c, "synchronous", "normal", err, sizeof err), 0);
    assert_int_equal(c.synchronous_full, 0);
    assert_int_equal(cc_config_set(&c, "synchronous", "off", err, sizeof err), -1);
    assert_int_equal(cc_config_set(&c, "nonsense", "1", err, sizeof err), -1);
    assert_non_null(strstr(err, "nonsense"));
    cc_config_finish(&c);
    assert_string_equal(c.db, "sqlite:./var/certcontacts.db");
}

static void file_then_environment(void **state)
{
    (void)state;
    char path[] = "/tmp/cc-conf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# comment\nthreads = 7\nlisten = \"127.0.0.1:9\"\n\nmax_body_bytes=2048\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct cc_config c;
    char err[256];
    cc_config_defaults(&c);
    assert_int_equal(cc_config_load_file(&c, path, err, sizeof err), 0);
    assert_int_equal(c.threads, 7);
    assert_string_equal(c.listen, "127.0.0.1:9");
    setenv("CERTCONTACTS_THREADS", "9", 1);
    assert_int_equal(cc_config_load_env(&c, err, sizeof err), 0);
    assert_int_equal(c.threads, 9);
    setenv("CERTCONTACTS_THREADS", "-1", 1);
    assert_int_equal(cc_config_load_env(&c, err, sizeof err), -1);
    unsetenv("CERTCONTACTS_THREADS");
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "bogus = 1\n", 10), 10);
    close(fd);
    assert_int_equal(cc_config_load_file(&c, path, err, sizeof err), -1);
    assert_non_null(strstr(err, ":1:"));
    unlink(path);
}

static void example_file_is_generated_from_the_table(void **state)
{
    (void)state;
    char *want = NULL, *have = NULL;
    size_t wlen = 0, hlen = 0;
    assert_int_equal(cc_file_read("certcontacts.conf.example", 1 << 20, &have, &hlen), 0);
    FILE *f = tmpfile();
    assert_non_null(f);
    int saved = dup(1);
    fflush(stdout);
    dup2(fileno(f), 1);
    cc_config_print_example();
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    long n = ftell(f);
    rewind(f);
    want = cc_malloc((size_t)n + 1);
    wlen = fread(want, 1, (size_t)n, f);
    fclose(f);
    if (wlen != hlen || memcmp(want, have, wlen) != 0)
        fail_msg("certcontacts.conf.example is stale: regenerate it with "
                 "`build/certcontacts config example > certcontacts.conf.example`");
    cc_free(want);
    cc_free(have);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_and_bounds),
        cmocka_unit_test(file_then_environment),
        cmocka_unit_test(example_file_is_generated_from_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
