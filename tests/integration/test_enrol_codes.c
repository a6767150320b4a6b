/*
 * test_enrol_codes.c - integration: every way an enrolment code can be refused by the real
 * sesamed (used, wrong secret, locked after 5 wrong secrets, expired via the test clock, garbage,
 * unknown ticket, revoked user, signing key already enrolled), each with its exact error code and
 * with the database unchanged apart from the one expected audit row (and attempts_left).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harness.h"
#include "wire.h"
#include "sesame/encode.h"
#include "sesame/err.h"

static void ticket_hex(char out[11], const char *code)
{
    uint8_t ticket[SES_CODE_TICKET_BYTES], secret[SES_CODE_SECRET_BYTES];
    assert_int_equal(ses_code_parse(ticket, secret, code), 0);
    for (int i = 0; i < SES_CODE_TICKET_BYTES; i++)
        snprintf(out + 2 * i, 3, "%02x", ticket[i]);
}

static int64_t attempts_left(const struct h_env *e, const char *code)
{
    char hex[11];
    ticket_hex(hex, code);
    return h_db_int(e->db, "SELECT attempts_left FROM enrol_codes WHERE ticket = X'%s'", hex);
}

/* Runs `sesame enroll` with code in a fresh home; asserts exit 1 with that error. */
static void enroll_fails(const struct h_env *e, const char *homename, const char *code,
                         const char *const env[], const char *err)
{
    char *home = h_env_home(e, homename);
    struct h_cli r;
    h_cli_run(&r, home, env, "enroll", "--server", e->d.url, "--ca", h_ca_file(), "--code", code,
              "--name", "test-device", NULL);
    h_cli_assert_error(&r, 1, err);
    h_cli_free(&r);
    free(home);
}

/* The admin's code, once used, answers CODE_USED. */
static void test_code_used(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    enroll_fails(e, "again", e->init.code, NULL, "CODE_USED");
    h_snap_expect_one_audit(&s, e->db, "device.enroll", "CODE_USED");
    h_snap_free(&s);

    /* the same for an invited member's code */
    char user[40];
    json_t *inv = h_invite_ok(e, "nurse", "Anne Martin", "Lyon-3", 0);
    char *home = h_env_home(e, "nurse");
    json_decref(h_enroll_ok(e, home, h_jstr(inv, "code"), "pc", user, NULL));
    free(home);
    h_snap_take(&s, e->db, NULL);
    enroll_fails(e, "nurse-again", h_jstr(inv, "code"), NULL, "CODE_USED");
    h_snap_expect_one_audit(&s, e->db, "device.enroll", "CODE_USED");
    h_snap_free(&s);
    json_decref(inv);
}

/* Wrong secrets: CODE_INVALID and one attempt fewer each. After SES_CODE_SOURCE_ATTEMPTS (5) from
 * one address the code is locked there (CODE_LOCKED before any database work, nothing recorded
 * but the aggregate), not elsewhere; after SES_CODE_MAX_ATTEMPTS (20) in all, everywhere, the
 * right secret included. Each address is played with the test hook SESAME_TEST_SOURCE_ADDR. */
static void test_wrong_secret_then_locked(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    json_t *inv = h_invite_ok(e, "nurse", "Anne Martin", "Lyon-3", 0);
    const char *code = h_jstr(inv, "code");
    assert_int_equal(attempts_left(e, code), SES_CODE_MAX_ATTEMPTS);
    char wrong[SES_CODE_TEXT_LEN + 1];
    snprintf(wrong, sizeof wrong, "%s", code);
    assert_int_equal(wrong[8], '-');
    wrong[9] = wrong[9] == 'A' ? 'B' : 'A'; /* first secret character: 5 whole bits */

    static const char *const skip[] = {"enrol_codes.attempts_left", NULL};
    int tries = 0;
    for (int a = 0; tries < SES_CODE_MAX_ATTEMPTS; a++) {
        char src[32], env0[64];
        snprintf(src, sizeof src, "127.0.1.%d", a + 1);
        snprintf(env0, sizeof env0, "SESAME_TEST_SOURCE_ADDR=%s", src);
        const char *env[] = {env0, NULL};
        for (int i = 1; i <= SES_CODE_SOURCE_ATTEMPTS && tries < SES_CODE_MAX_ATTEMPTS; i++) {
            struct h_snap s;
            h_snap_take(&s, e->db, skip);
            char *homename = h_fmt("wrong-%d-%d", a, i);
            enroll_fails(e, homename, wrong, env, "CODE_INVALID");
            free(homename);
            h_snap_expect_one_audit(&s, e->db, "device.enroll", "CODE_INVALID");
            h_snap_free(&s);
            assert_int_equal(attempts_left(e, code), SES_CODE_MAX_ATTEMPTS - ++tries);
        }
        if (tries == SES_CODE_MAX_ATTEMPTS)
            break;
        /* locked for this address only: even the right secret, with nothing recorded */
        struct h_snap s;
        h_snap_take(&s, e->db, NULL);
        char *homename = h_fmt("right-%d", a);
        enroll_fails(e, homename, code, env, "CODE_LOCKED");
        free(homename);
        h_snap_expect_same(&s, e->db);
        h_snap_free(&s);
    }
    /* locked for good, everywhere: the right secret from a fresh address */
    const char *fresh[] = {"SESAME_TEST_SOURCE_ADDR=127.0.2.1", NULL};
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    enroll_fails(e, "right", code, fresh, "CODE_LOCKED");
    h_snap_expect_one_audit(&s, e->db, "device.enroll", "CODE_LOCKED");
    h_snap_free(&s);
    assert_int_equal(attempts_left(e, code), 0);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM devices"), 1);
    /* its admin issues a new code for the same invitation: that one works */
    struct h_cli r;
    h_cli_run(&r, e->admin_home, NULL, "admin", "invite", "--user", h_jstr(inv, "user"), NULL);
    h_cli_assert_ok(&r);
    char *home = h_env_home(e, "nurse");
    json_decref(h_enroll_ok(e, home, h_jstr(r.json, "code"), "pc", NULL, NULL));
    free(home);
    h_cli_free(&r);
    json_decref(inv);
}

/* A 60 s code is refused with CODE_EXPIRED once the daemon's clock has moved 61 s. */
static void test_expired_code(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_TEST_HOOKS);
    json_t *short_inv = h_invite_ok(e, "nurse", "Anne Martin", "Lyon-3", 60);
    json_t *day_inv = h_invite_ok(e, "gp", "Claire Petit", NULL, 0);
    const char *short_code = h_jstr(short_inv, "code");
    char hex[11];
    ticket_hex(hex, short_code);
    assert_int_equal(
        h_db_int(e->db, "SELECT expires_ms - created_ms FROM enrol_codes WHERE ticket = X'%s'",
                 hex),
        60000);
    ticket_hex(hex, h_jstr(day_inv, "code"));
    assert_int_equal(
        h_db_int(e->db, "SELECT expires_ms - created_ms FROM enrol_codes WHERE ticket = X'%s'",
                 hex),
        86400000);

    /* move the daemon's clock 61 s forward */
    struct w_dev *adm = w_dev_load(e->admin_home);
    struct ses_conn *c = w_login(e, adm);
    int64_t t0 = h_jint(ses_conn_hello(c), "time");
    json_t *reply = NULL;
    int rc = ses_conn_request(
        c, json_pack("{s:s, s:I}", "t", "test_clock", "advance_ms", (json_int_t)61000),
        H_CONN_TIMEOUT_MS, &reply);
    if (rc != 0) {
        char *txt = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
        print_error("test_clock: %d (%s) %s\n", rc, ses_err_name(rc), txt ? txt : "");
        free(txt);
        fail();
    }
    w_expect_type(reply, "test_clock", h_jint(reply, "id"));
    int64_t now = h_jint(reply, "now");
    assert_in_range(now - t0, 61000, 61000 + 10000);
    json_decref(reply);
    ses_conn_free(c);
    w_dev_free(adm);

    /* a client that does not move its clock is now 61 s behind: CLOCK_SKEW */
    struct h_cli r;
    h_cli_run(&r, e->admin_home, NULL, "whoami", NULL);
    h_cli_assert_error(&r, 1, "CLOCK_SKEW");
    h_cli_free(&r);
    static const char *const env[] = {"SESAME_TEST_CLOCK_OFFSET_MS=61000", NULL};
    h_cli_run(&r, e->admin_home, env, "whoami", NULL);
    h_cli_assert_ok(&r);
    h_cli_free(&r);

    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    enroll_fails(e, "late", short_code, env, "CODE_EXPIRED");
    h_snap_expect_one_audit(&s, e->db, "device.enroll", "CODE_EXPIRED");
    h_snap_free(&s);

    /* the one-day code is still good at the same moment */
    char *home = h_env_home(e, "gp");
    h_cli_run(&r, home, env, "enroll", "--server", e->d.url, "--ca", h_ca_file(), "--code",
              h_jstr(day_inv, "code"), NULL);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(r.json, "role"), "gp");
    h_cli_free(&r);
    free(home);
    json_decref(short_inv);
    json_decref(day_inv);
}

/* Garbage and unknown tickets: CODE_INVALID. */
static void test_garbage_and_unknown_code(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct ses_keys k;
    ses_keys_generate(&k);
    static const char *const garbage[] = {"garbage", "AAAAAAAA-",
                                          "!!!!!!!!-!!!!!!!!!!!!!!!!!!!!!!!!!!",
                                          "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++) {
        struct h_snap s;
        h_snap_take(&s, e->db, NULL);
        struct ses_conn *c = w_open(e);
        char *f = w_enroll_frame(c, 7, garbage[i], &k);
        w_send(c, f);
        free(f);
        w_recv_error(c, 7, SES_ECODE_INVALID);
        w_expect_closed(c, 1008, H_CONN_TIMEOUT_MS);
        ses_conn_free(c);
        h_snap_expect_one_audit(&s, e->db, "device.enroll", "CODE_INVALID");
        h_snap_free(&s);
    }
    /* a well-formed code whose ticket does not exist, through the CLI */
    uint8_t ticket[SES_CODE_TICKET_BYTES], secret[SES_CODE_SECRET_BYTES];
    char code[SES_CODE_TEXT_LEN + 1];
    randombytes_buf(ticket, sizeof ticket);
    randombytes_buf(secret, sizeof secret);
    ses_code_format(code, ticket, secret);
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    enroll_fails(e, "unknown", code, NULL, "CODE_INVALID");
    h_snap_expect_one_audit(&s, e->db, "device.enroll", "CODE_INVALID");
    h_snap_free(&s);
    ses_keys_wipe(&k);
}

/* Codes are case-insensitive and the dash is optional. */
static void test_code_spelling(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    json_t *inv = h_invite_ok(e, "psychiatrist", "Paul Durand", "Lyon-3", 0);
    char code[SES_CODE_TEXT_LEN + 1];
    const char *orig = h_jstr(inv, "code");
    size_t n = 0;
    for (const char *p = orig; *p; p++)
        if (*p != '-')
            code[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
    code[n] = '\0';
    char *home = h_env_home(e, "psy");
    char user[40];
    json_t *en = h_enroll_ok(e, home, code, NULL, user, NULL);
    assert_string_equal(user, h_jstr(inv, "user"));
    json_decref(en);
    free(home);
    json_decref(inv);
}

/* The invited user was revoked before enrolling: REVOKED, nothing else changes. */
static void test_code_of_revoked_user(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    json_t *inv = h_invite_ok(e, "nurse", "Anne Martin", "Lyon-3", 0);
    struct h_cli r;
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--user", h_jstr(inv, "user"), NULL);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(r.json, "user"), h_jstr(inv, "user"));
    assert_int_equal(h_jint(r.json, "sessions_closed"), 0);
    h_cli_free(&r);
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    enroll_fails(e, "nurse", h_jstr(inv, "code"), NULL, "REVOKED");
    h_snap_expect_one_audit(&s, e->db, "device.enroll", "REVOKED");
    h_snap_free(&s);
    json_decref(inv);
}

/* A signing key can be enrolled once: the second code is refused with CONFLICT and stays unused. */
static void test_same_key_conflict(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    json_t *inv1 = h_invite_ok(e, "nurse", "Anne Martin", "Lyon-3", 0);
    json_t *inv2 = h_invite_ok(e, "gp", "Claire Petit", NULL, 0);
    struct ses_keys k;
    ses_keys_generate(&k);
    struct ses_conn *c = w_open(e);
    json_t *reply = NULL;
    int rc = ses_conn_enroll(c, h_jstr(inv1, "code"), &k, "pc", &reply);
    assert_int_equal(rc, 0);
    w_expect_type(reply, "enrolled", h_jint(reply, "id"));
    assert_string_equal(h_jstr(reply, "user"), h_jstr(inv1, "user"));
    json_decref(reply);
    w_expect_closed(c, 1000, H_CONN_TIMEOUT_MS);
    ses_conn_free(c);

    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    c = w_open(e);
    reply = NULL;
    rc = ses_conn_enroll(c, h_jstr(inv2, "code"), &k, "pc", &reply);
    assert_int_equal(rc, SES_ECONFLICT);
    w_expect_error(reply, h_jint(reply, "id"), SES_ECONFLICT);
    w_expect_closed(c, 1008, H_CONN_TIMEOUT_MS);
    ses_conn_free(c);
    h_snap_expect_one_audit(&s, e->db, "device.enroll", "CONFLICT");
    h_snap_free(&s);
    char hex[11];
    ticket_hex(hex, h_jstr(inv2, "code"));
    assert_int_equal(
        h_db_int(e->db, "SELECT used_ms IS NULL FROM enrol_codes WHERE ticket = X'%s'", hex), 1);
    ses_keys_wipe(&k);
    json_decref(inv1);
    json_decref(inv2);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_code_used, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_wrong_secret_then_locked, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_expired_code, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_garbage_and_unknown_code, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_code_spelling, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_code_of_revoked_user, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_same_key_conflict, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.enrol_codes", tests, NULL, NULL);
}
