/*
 * test_lifecycle.c - integration: the life of the real sesamed and its data dir. `init` creates
 * the data dir (modes, tables, first code) and refuses an existing one without touching a byte;
 * a restart keeps the users; SIGTERM with connected clients exits 0 promptly and closes them with
 * 1001; usage and config errors exit 2 (config errors name file:line); unauthenticated connections
 * are closed after the pre-auth timeout; and the daemon's log never holds an enrolment code, a
 * device secret key or the server key.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "harness.h"
#include "wire.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/limits.h"

/* Every entry of dir (sorted): name, type, mode, size and the bytes, as one comparable string. */
static char *dir_snapshot(const char *dir)
{
    struct dirent **names = NULL;
    int n = scandir(dir, &names, NULL, alphasort);
    assert_true(n >= 0);
    char *acc = h_fmt("%s", "");
    for (int i = 0; i < n; i++) {
        const char *nm = names[i]->d_name;
        if (strcmp(nm, ".") != 0 && strcmp(nm, "..") != 0) {
            char *p = h_path(dir, nm);
            struct stat st;
            assert_int_equal(lstat(p, &st), 0);
            size_t len = 0;
            char *data = S_ISREG(st.st_mode) ? h_read_file(p, &len) : NULL;
            char *hex = malloc(len * 2 + 1);
            assert_non_null(hex);
            sodium_bin2hex(hex, len * 2 + 1, (const unsigned char *)(data ? data : ""), len);
            char *next =
                h_fmt("%s%s mode=%o size=%lld mtime=%lld.%09ld %s\n", acc, nm, (unsigned)st.st_mode,
                      (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, hex);
            free(acc);
            acc = next;
            free(hex);
            free(data);
            free(p);
        }
        free(names[i]);
    }
    free(names);
    return acc;
}

static int file_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("stat(%s) failed", path);
    return (int)(st.st_mode & 07777);
}

/* `sesamed init --json` makes the data dir, the first admin's user and code, one audit row. */
static void test_init_creates_data_dir(void **state)
{
    struct h_env *e = *state;
    int64_t t0 = h_wall_ms();
    h_env_start(e, H_ENV_NO_START);
    int64_t t1 = h_wall_ms();
    assert_int_equal(file_mode(e->data), 0700);
    char *key = h_path(e->data, "server.key"), *conf = h_path(e->data, "sesamed.conf");
    assert_int_equal(file_mode(key), 0600);
    assert_int_equal(file_mode(conf) & 0022, 0); /* not group/other writable */
    assert_int_equal(access(e->db, R_OK | W_OK), 0);
    size_t conf_len = 0;
    char *conf_text = h_read_file(conf, &conf_len);
    assert_non_null(conf_text);
    assert_true(conf_len > 0);
    free(conf_text);
    /* the code's lifetime is the default day */
    assert_in_range(e->init.expires, t0 + 86400000, t1 + 86400000);
    uint8_t sid[16];
    assert_int_equal(ses_b64_decode(sid, 16, e->init.server_id, strlen(e->init.server_id)), 0);
    /* exactly these six members; the audit log's verifier key is named after the server id */
    assert_int_equal(json_object_size(e->init.json), 6);
    const char *vkey = json_string_value(json_object_get(e->init.json, "log_key"));
    assert_non_null(vkey);
    char want_prefix[80];
    snprintf(want_prefix, sizeof want_prefix, "sesame/audit/%s+", e->init.server_id);
    assert_int_equal(strncmp(vkey, want_prefix, strlen(want_prefix)), 0);
    char *log_key = h_path(e->data, "log.key");
    assert_int_equal(file_mode(log_key), 0600);
    free(log_key);

    char uhex[33];
    h_id_hex(uhex, e->init.admin_user);
    char *wal = h_db_text(e->db, "PRAGMA journal_mode");
    assert_string_equal(wal, "wal");
    free(wal);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM users"), 1);
    assert_int_equal(h_db_int(e->db,
                              "SELECT COUNT(*) FROM users WHERE id = X'%s' AND role = 'admin' AND "
                              "state = 'active' AND revoked_ms IS NULL",
                              uhex),
                     1);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM devices"), 0);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM enrol_codes"), 1);
    assert_int_equal(h_db_int(e->db,
                              "SELECT COUNT(*) FROM enrol_codes WHERE user_id = X'%s' AND "
                              "attempts_left = %d AND used_ms IS NULL AND used_by_device IS NULL "
                              "AND expires_ms = %lld",
                              uhex, SES_CODE_MAX_ATTEMPTS, (long long)e->init.expires),
                     1);
    /* one 'init' row; besides it at most the first admin's 'user.invite' row, nothing else */
    assert_int_equal(h_audit_count(e->db, "init", "ok"), 1);
    assert_in_range(h_audit_count(e->db, "user.invite", "ok"), 0, 1);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM audit WHERE action NOT IN ('init', "
                                     "'user.invite')"),
                     0);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM audit WHERE outcome <> 'ok'"), 0);

    /* the code's ticket is stored, its secret is not (neither as text nor as bytes) */
    uint8_t ticket[SES_CODE_TICKET_BYTES], secret[SES_CODE_SECRET_BYTES];
    assert_int_equal(ses_code_parse(ticket, secret, e->init.code), 0);
    char thex[11], shex[33];
    sodium_bin2hex(thex, sizeof thex, ticket, sizeof ticket);
    sodium_bin2hex(shex, sizeof shex, secret, sizeof secret);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM enrol_codes WHERE ticket = X'%s'", thex),
                     1);
    char *dump = h_db_dump(e->db, NULL, NULL);
    assert_null(strstr(dump, shex));
    assert_null(strstr(dump, e->init.code));
    assert_null(strstr(dump, e->init.code + 9));
    free(dump);
    size_t dblen = 0;
    char *dbbytes = h_read_file(e->db, &dblen);
    assert_false(h_contains(dbbytes, dblen, secret, sizeof secret));
    assert_false(h_contains(dbbytes, dblen, e->init.code + 9, 26));
    free(dbbytes);
    free(key);
    free(conf);
}

/* A second init on the same dir: exit 1, a message, not one byte changed. */
static void test_init_existing_refused(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_NO_START);
    char *before = dir_snapshot(e->data);
    const char *argv[] = {SESAMED_BIN, "init", "--data", e->data, "--json", NULL};
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, NULL, H_CLI_TIMEOUT_MS, &p), 0);
    assert_int_equal(p.status, 1);
    assert_true(p.err_len > 0);
    assert_int_equal(p.out_len, 0);
    h_proc_free(&p);
    const char *argv2[] = {SESAMED_BIN, "init", "--data", e->data, NULL};
    assert_int_equal(h_run(argv2, NULL, NULL, H_CLI_TIMEOUT_MS, &p), 0);
    assert_int_equal(p.status, 1);
    assert_true(p.err_len > 0);
    h_proc_free(&p);
    char *after = dir_snapshot(e->data);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* Stop, init refused on the used dir, start again on a new port: same users, same server id. */
static void test_restart_persists(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    char nuser[40];
    char *nhome = h_add_user_ok(e, "nurse", "nurse", "Anne Martin", "Lyon-3", nuser, NULL);
    char *users_before = h_db_dump(e->db, "users", NULL);
    assert_int_equal(h_daemon_stop(&e->d), 0);

    char *before = dir_snapshot(e->data);
    const char *argv[] = {SESAMED_BIN, "init", "--data", e->data, "--json", NULL};
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, NULL, H_CLI_TIMEOUT_MS, &p), 0);
    assert_int_equal(p.status, 1);
    h_proc_free(&p);
    char *after = dir_snapshot(e->data);
    assert_string_equal(before, after);
    free(before);
    free(after);

    h_daemon_start_ok(&e->d, e->data, e->log, NULL, NULL);
    struct w_dev *adm = w_dev_load(e->admin_home), *nurse = w_dev_load(nhome);
    struct ses_conn *c = w_login(e, adm);
    assert_string_equal(h_jstr(ses_conn_hello(c), "server_id"), e->init.server_id);
    json_t *reply = NULL;
    assert_int_equal(
        ses_conn_request(c, json_pack("{s:s}", "t", "users"), H_CONN_TIMEOUT_MS, &reply), 0);
    w_expect_type(reply, "users", h_jint(reply, "id"));
    const json_t *users = json_object_get(reply, "users");
    assert_int_equal(json_array_size(users), 2);
    size_t i;
    const json_t *u;
    int found = 0;
    json_array_foreach(users, i, u)
    {
        const char *id = h_jstr(u, "user");
        if (strcmp(id, nuser) == 0) {
            assert_string_equal(h_jstr(u, "role"), "nurse");
            assert_string_equal(h_jstr(u, "name"), "Anne Martin");
            found++;
        } else if (strcmp(id, e->admin_user) == 0) {
            assert_string_equal(h_jstr(u, "role"), "admin");
            found++;
        }
    }
    assert_int_equal(found, 2);
    json_decref(reply);
    ses_conn_free(c);
    c = w_login(e, nurse);
    reply = NULL;
    assert_int_equal(
        ses_conn_request(c, json_pack("{s:s}", "t", "whoami"), H_CONN_TIMEOUT_MS, &reply), 0);
    assert_string_equal(h_jstr(reply, "user"), nuser);
    assert_string_equal(h_jstr(reply, "role"), "nurse");
    assert_string_equal(h_jstr(reply, "site"), "Lyon-3");
    json_decref(reply);
    ses_conn_free(c);
    char *users_after = h_db_dump(e->db, "users", NULL);
    assert_string_equal(users_before, users_after);
    free(users_before);
    free(users_after);
    w_dev_free(adm);
    w_dev_free(nurse);
    free(nhome);
}

/* SIGTERM with clients connected (logged in and not): exit 0 in < 5 s, clients see 1001. */
static void test_sigterm_with_clients(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    char *nhome = h_add_user_ok(e, "nurse", "nurse", "Anne Martin", "Lyon-3", NULL, NULL);
    struct w_dev *adm = w_dev_load(e->admin_home), *nurse = w_dev_load(nhome);
    struct ses_conn *c[4];
    c[0] = w_login(e, adm);
    c[1] = w_login(e, adm);
    c[2] = w_login(e, nurse);
    c[3] = w_open(e); /* not logged in */
    w_ping_ok(c[0], 1);
    assert_int_equal(h_daemon_stop(&e->d), 0);
    assert_true(e->d.stop_ms < 5000);
    for (int i = 0; i < 4; i++) {
        w_expect_closed(c[i], 1001, 2000);
        ses_conn_free(c[i]);
    }
    w_dev_free(adm);
    w_dev_free(nurse);
    free(nhome);
}

/* The secrets that must never reach the log, in every spelling a careless log line might use. */
struct secrets {
    char *s[256];
    size_t len[256];
    const char *what[256];
    int n;
};

static void add_secret(struct secrets *z, const char *what, const void *data, size_t len)
{
    assert_true(z->n < 256);
    z->s[z->n] = malloc(len + 1);
    memcpy(z->s[z->n], data, len);
    z->s[z->n][len] = '\0';
    z->len[z->n] = len;
    z->what[z->n] = what;
    z->n++;
}

static void add_binary_secret(struct secrets *z, const char *what, const uint8_t *bin, size_t n)
{
    char txt[1024];
    static const int variants[] = {sodium_base64_VARIANT_ORIGINAL_NO_PADDING,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING};
    add_secret(z, what, bin, n);
    for (size_t v = 0; v < 2; v++) {
        sodium_bin2base64(txt, sizeof txt, bin, n, variants[v]);
        add_secret(z, what, txt, strlen(txt));
    }
    sodium_bin2hex(txt, sizeof txt, bin, n);
    add_secret(z, what, txt, strlen(txt));
    for (char *p = txt; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    add_secret(z, what, txt, strlen(txt));
}

static void add_code_secret(struct secrets *z, const char *code)
{
    char low[64];
    size_t n = strlen(code);
    add_secret(z, "code", code, n);
    add_secret(z, "code secret", code + 9, n - 9);
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)(code[i] >= 'A' && code[i] <= 'Z' ? code[i] - 'A' + 'a' : code[i]);
    add_secret(z, "code (lower case)", low + 9, n - 9);
    uint8_t ticket[SES_CODE_TICKET_BYTES], secret[SES_CODE_SECRET_BYTES];
    if (ses_code_parse(ticket, secret, code) == 0)
        add_binary_secret(z, "code secret bytes", secret, sizeof secret);
}

static void add_profile_secrets(struct secrets *z, const char *home)
{
    struct w_dev *d = w_dev_load(home);
    add_binary_secret(z, "sign_sk", d->prof.keys.sign_sk, 64);
    add_binary_secret(z, "sign seed", d->prof.keys.sign_sk, 32);
    add_binary_secret(z, "box_sk", d->prof.keys.box_sk, 32);
    w_dev_free(d);
}

static void add_file_secrets(struct secrets *z, const char *path, const char *what)
{
    size_t len = 0;
    char *data = h_read_file(path, &len);
    assert_non_null(data);
    assert_true(len >= 16);
    add_binary_secret(z, what, (const uint8_t *)data, len);
    /* and every long token of a text key file (PEM body lines, base64 or hex values) */
    char *save = NULL;
    for (char *tok = strtok_r(data, " \t\r\n=:\"", &save); tok != NULL;
         tok = strtok_r(NULL, " \t\r\n=:\"", &save))
        if (strlen(tok) >= 16 && strncmp(tok, "-----", 5) != 0)
            add_secret(z, what, tok, strlen(tok));
    free(data);
}

static void test_log_has_no_secrets(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0); /* the daemon runs with --log-level debug */
    struct secrets z = {0};
    add_code_secret(&z, e->init.code);
    const char *roles[] = {"nurse", "gp", "psychiatrist"};
    char *homes[3];
    for (int i = 0; i < 3; i++) {
        json_t *inv = h_invite_ok(e, roles[i], "Some One", "Lyon-3", 0);
        add_code_secret(&z, h_jstr(inv, "code"));
        homes[i] = h_env_home(e, roles[i]);
        json_decref(h_enroll_ok(e, homes[i], h_jstr(inv, "code"), NULL, NULL, NULL));
        json_decref(inv);
    }
    /* a code never used, and a wrong one sent to the daemon */
    json_t *inv = h_invite_ok(e, "auditor", "Marc Leroy", NULL, 0);
    const char *code = h_jstr(inv, "code");
    add_code_secret(&z, code);
    char wrong[SES_CODE_TEXT_LEN + 1];
    snprintf(wrong, sizeof wrong, "%s", code);
    wrong[9] = wrong[9] == 'A' ? 'B' : 'A';
    add_code_secret(&z, wrong);
    char *whome = h_env_home(e, "wrong");
    struct h_cli r;
    h_cli_run(&r, whome, NULL, "enroll", "--server", e->d.url, "--ca", h_ca_file(), "--code", wrong,
              NULL);
    h_cli_assert_error(&r, 1, "CODE_INVALID");
    h_cli_free(&r);
    free(whome);
    json_decref(inv);
    /* failed logins and admin traffic */
    struct w_dev *adm = w_dev_load(e->admin_home);
    struct ses_conn *c = w_open(e);
    char *f = w_auth_frame(c, 1, adm->prof.device_id, &adm->prof.keys, 0, true);
    w_send(c, f);
    free(f);
    w_recv_error(c, 1, SES_EAUTH_FAILED);
    ses_conn_free(c);
    w_dev_free(adm);
    h_cli_run(&r, e->admin_home, NULL, "admin", "devices", NULL);
    h_cli_assert_ok(&r);
    h_cli_free(&r);

    add_profile_secrets(&z, e->admin_home);
    for (int i = 0; i < 3; i++)
        add_profile_secrets(&z, homes[i]);
    char *skey = h_path(e->data, "server.key");
    add_file_secrets(&z, skey, "data/server.key");
    add_file_secrets(&z, h_key_file(), "TLS server.key");
    free(skey);

    assert_int_equal(h_daemon_stop(&e->d), 0); /* the log is complete */
    size_t len = 0;
    char *log = h_read_file(e->log, &len);
    assert_non_null(log);
    assert_true(len > 0);
    int leaks = 0;
    for (int i = 0; i < z.n; i++) {
        if (h_contains(log, len, z.s[i], z.len[i])) {
            print_error("the daemon log contains a secret: %s\n", z.what[i]);
            leaks++;
        }
        sodium_memzero(z.s[i], z.len[i]);
        free(z.s[i]);
    }
    free(log);
    for (int i = 0; i < 3; i++)
        free(homes[i]);
    assert_int_equal(leaks, 0);
}

static void expect_exit(const char *const argv[], int status, const char *stderr_needle)
{
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, NULL, 5000, &p), 0);
    if (p.status != status || p.err_len == 0 ||
        (stderr_needle != NULL && strstr(p.err, stderr_needle) == NULL)) {
        print_error("%s %s: expected exit %d and stderr with \"%s\"; got %d%s\nstderr: [%s]\n",
                    argv[0], argv[1] ? argv[1] : "", status, stderr_needle ? stderr_needle : "",
                    p.status, p.timed_out ? " (timed out)" : "", p.err);
        h_proc_free(&p);
        fail();
    }
    h_proc_free(&p);
}

/* Usage errors and config errors: exit 2 (config errors name file:line), no ready file. */
static void test_serve_usage_and_config_errors(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_NO_START);
    char *ready = h_path(e->tmp, "ready");
    const char *none[] = {SESAMED_BIN, NULL};
    expect_exit(none, 2, NULL);
    const char *bad_cmd[] = {SESAMED_BIN, "frobnicate", NULL};
    expect_exit(bad_cmd, 2, NULL);
    const char *bad_opt[] = {SESAMED_BIN, "serve",       "--data",           e->data,
                             "--listen",  "127.0.0.1:0", "--no-such-option", NULL};
    expect_exit(bad_opt, 2, NULL);
    const char *bad_level[] = {SESAMED_BIN,    "serve",  "--data",      e->data,    "--listen",
                               "127.0.0.1:0",  "--cert", h_cert_file(), "--key",    h_key_file(),
                               "--ready-file", ready,    "--log-level", "shouting", NULL};
    expect_exit(bad_level, 2, NULL);
    const char *bad_listen[] = {SESAMED_BIN,       "serve",  "--data",      e->data, "--listen",
                                "127.0.0.1:99999", "--cert", h_cert_file(), "--key", h_key_file(),
                                "--ready-file",    ready,    NULL};
    expect_exit(bad_listen, 2, NULL);
    assert_int_equal(access(ready, F_OK), -1);

    /* a syntax error appended to the config file: its line is named */
    char *conf = h_path(e->data, "sesamed.conf");
    static const char junk[] = "this line is not a valid setting\n";
    size_t len = 0;
    char *text = h_read_file(conf, &len);
    assert_non_null(text);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (len > 0 && text[len - 1] != '\n') {
        assert_int_equal(h_write_file(conf, "\n", 1, true), 0);
        lines++;
    }
    free(text);
    assert_int_equal(h_write_file(conf, junk, strlen(junk), true), 0);
    char *where = h_fmt("sesamed.conf:%d", lines + 1);
    const char *serve[] = {SESAMED_BIN,    "serve",  "--data",      e->data, "--listen",
                           "127.0.0.1:0",  "--cert", h_cert_file(), "--key", h_key_file(),
                           "--ready-file", ready,    NULL};
    expect_exit(serve, 2, where);
    assert_int_equal(access(ready, F_OK), -1);
    free(where);
    free(conf);
    free(ready);
}

/* Without sesamed.conf the daemon starts on the defaults and the flags, and says so. */
static void test_missing_conf_said(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_NO_START | H_ENV_NO_ADMIN);
    char *conf = h_path(e->data, "sesamed.conf");
    assert_int_equal(unlink(conf), 0);
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, NULL);
    size_t len = 0;
    char *log = h_read_file(e->log, &len);
    assert_non_null(log);
    char *want =
        h_fmt("sesamed: notice: %s not found: running on the defaults and the flags", conf);
    assert_non_null(strstr(log, want));
    free(want);
    free(log);
    free(conf);
}

/* A connection that does not log in within --preauth-timeout is closed; a logged-in one stays. */
static void test_preauth_timeout(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_NO_START);
    const char *args[] = {"--preauth-timeout", "2", NULL};
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, args);
    e->admin_home = h_env_home(e, "admin");
    json_decref(h_enroll_ok(e, e->admin_home, e->init.code, NULL, e->admin_user, e->admin_device));
    struct w_dev *adm = w_dev_load(e->admin_home);

    struct ses_conn *idle = w_open(e);
    uint64_t t0 = h_mono_ms();
    struct ses_conn *busy = w_login(e, adm);
    json_t *f = NULL;
    int rc = ses_conn_recv(idle, 6000, &f);
    uint64_t spent = h_mono_ms() - t0;
    if (rc == 0) {
        json_decref(f);
        fail_msg("an idle unauthenticated connection got a frame instead of being closed");
    }
    assert_int_equal(rc, SES_ECLOSED);
    assert_in_range(spent, 1500, 4500);
    ses_conn_free(idle);
    h_sleep_ms(500);
    w_ping_ok(busy, 1); /* logged in before the deadline: not closed */
    ses_conn_free(busy);
    w_dev_free(adm);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_creates_data_dir, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_init_existing_refused, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_restart_persists, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_with_clients, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_log_has_no_secrets, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_serve_usage_and_config_errors, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_preauth_timeout, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_missing_conf_said, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.lifecycle", tests, NULL, NULL);
}
