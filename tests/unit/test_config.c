/*
 * test_config.c - sesamed's option table: defaults, every option's valid and boundary values,
 * unknown options, and config-file errors that name the file and the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sesame/limits.h"

#include "config.h"

static int set(struct ses_config *c, const char *k, const char *v, char *err)
{
    return ses_config_set(c, k, v, NULL, err, 256);
}

static void defaults(void **state)
{
    (void)state;
    struct ses_config c;
    ses_config_defaults(&c);
    assert_string_equal(c.listen_host, "127.0.0.1");
    assert_int_equal(c.listen_port, 8443);
    assert_int_equal(c.preauth_timeout_s, SES_PREAUTH_TIMEOUT_S);
    assert_int_equal(c.log_level, SES_LOG_NOTICE);
    assert_false(c.test_hooks);
}

static void listen_values(void **state)
{
    (void)state;
    struct ses_config c;
    char err[256];
    ses_config_defaults(&c);
    assert_int_equal(set(&c, "listen", "0.0.0.0:0", err), 0);
    assert_string_equal(c.listen_host, "0.0.0.0");
    assert_int_equal(c.listen_port, 0);
    assert_int_equal(set(&c, "listen", "127.0.0.2:65535", err), 0);
    assert_string_equal(c.listen_host, "127.0.0.2");
    assert_int_equal(c.listen_port, 65535);
    /* a name is refused: it may stand for several addresses, the daemon binds exactly one */
    assert_int_equal(set(&c, "listen", "localhost:8443", err), -1);
    assert_non_null(strstr(err, "HOST must be an IPv4 or IPv6 address"));
    assert_int_equal(set(&c, "listen", "[::]:8443", err), 0);
    assert_string_equal(c.listen_host, "::");
    assert_int_equal(set(&c, "listen", "[::1]:8443", err), 0);
    assert_string_equal(c.listen_host, "::1");
    assert_int_equal(set(&c, "listen", "127.0.0.1:65536", err), -1);
    assert_non_null(strstr(err, "listen"));
    assert_int_equal(set(&c, "listen", "127.0.0.1:-1", err), -1);
    assert_int_equal(set(&c, "listen", "localhost", err), -1);
    assert_int_equal(set(&c, "listen", ":80", err), -1);
    assert_int_equal(set(&c, "listen", "h:80x", err), -1);
}

static void int_bounds(void **state)
{
    (void)state;
    struct ses_config c;
    char err[256];
    ses_config_defaults(&c);
    assert_int_equal(set(&c, "preauth_timeout", "1", err), 0);
    assert_int_equal(c.preauth_timeout_s, 1);
    assert_int_equal(set(&c, "preauth_timeout", "60", err), 0);
    assert_int_equal(set(&c, "preauth_timeout", "0", err), -1);
    assert_int_equal(set(&c, "preauth_timeout", "61", err), -1);
    assert_int_equal(set(&c, "preauth_timeout", "ten", err), -1);
    assert_int_equal(c.preauth_timeout_s, 60);
    assert_int_equal(set(&c, "max_conns_per_ip", "100000", err), 0);
    assert_int_equal(set(&c, "max_conns_per_ip", "100001", err), -1);
}

static void levels_bools_paths(void **state)
{
    (void)state;
    struct ses_config c;
    char err[256];
    ses_config_defaults(&c);
    assert_int_equal(set(&c, "log_level", "debug", err), 0);
    assert_int_equal(c.log_level, SES_LOG_DEBUG);
    assert_int_equal(set(&c, "log_level", "loud", err), -1);
    assert_int_equal(set(&c, "test_hooks", "true", err), 0);
    assert_true(c.test_hooks);
    assert_int_equal(set(&c, "test_hooks", "maybe", err), -1);
    assert_true(ses_config_is_flag("test_hooks"));
    assert_false(ses_config_is_flag("cert"));
    assert_int_equal(ses_config_set(&c, "cert", "srv.crt", "/etc/sesame", err, sizeof err), 0);
    assert_string_equal(c.cert, "/etc/sesame/srv.crt");
    assert_int_equal(ses_config_set(&c, "cert", "/abs.crt", "/etc/sesame", err, sizeof err), 0);
    assert_string_equal(c.cert, "/abs.crt");
    assert_int_equal(set(&c, "cert", "", err), -1);
    assert_int_equal(set(&c, "colour", "blue", err), -1);
    assert_non_null(strstr(err, "unknown option 'colour'"));
}

static void file_errors_name_line(void **state)
{
    (void)state;
    char path[] = "/tmp/sesame-conf-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "# comment\n\nlisten = 127.0.0.1:9000\nlog_level = info\nbogus = 1\n";
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    struct ses_config c;
    char err[1024];
    ses_config_defaults(&c);
    assert_int_equal(ses_config_load_file(&c, path, false, err, sizeof err), -1);
    char want[256];
    snprintf(want, sizeof want, "%s:5: unknown option 'bogus'", path);
    assert_string_equal(err, want);
    assert_int_equal(c.listen_port, 9000); /* lines before the error were applied */

    FILE *f = fopen(path, "w");
    fputs("listen = 127.0.0.1:1234\nno equals sign\n", f);
    fclose(f);
    assert_int_equal(ses_config_load_file(&c, path, false, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: expected 'key = value'"));

    f = fopen(path, "w");
    fputs("  listen=10.0.0.1:77  \n", f);
    fclose(f);
    assert_int_equal(ses_config_load_file(&c, path, false, err, sizeof err), 0);
    assert_string_equal(c.listen_host, "10.0.0.1");
    assert_int_equal(c.listen_port, 77);
    unlink(path);
    assert_int_equal(ses_config_load_file(&c, path, true, err, sizeof err), 0);
    assert_int_equal(ses_config_load_file(&c, path, false, err, sizeof err), -1);
}

static void check_requires_tls_files(void **state)
{
    (void)state;
    struct ses_config c;
    char err[256];
    ses_config_defaults(&c);
    snprintf(c.data, sizeof c.data, "/tmp/x");
    assert_int_equal(ses_config_check(&c, err, sizeof err), -1);
    snprintf(c.cert, sizeof c.cert, "a");
    snprintf(c.key, sizeof c.key, "b");
    assert_int_equal(ses_config_check(&c, err, sizeof err), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(listen_values),
        cmocka_unit_test(int_bounds),
        cmocka_unit_test(levels_bools_paths),
        cmocka_unit_test(file_errors_name_line),
        cmocka_unit_test(check_requires_tls_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
