/*
 * test_auth.c - integration: login failures against the real sesamed with hand-built auth frames
 * (ses_transcript_login + ses_sign through the real client library): bad signature, unknown
 * device, wrong key, a replayed frame on another connection, clock skew just outside and just
 * inside +-60 s. Each refusal leaves exactly one 'auth.login' audit row with its outcome and
 * nothing else; each acceptance one 'ok' row (and the device's last_login). Also: without
 * --test-hooks the daemon refuses to move its clock.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harness.h"
#include "wire.h"
#include "sesame/err.h"

/* Opens a connection, sends one auth frame built for it, expects the error and close 1008. */
static void auth_refused(const struct h_env *e, const uint8_t device_id[16],
                         const struct ses_keys *k, int64_t ts_delta_ms, bool bad_sig, int err)
{
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    struct ses_conn *c = w_open(e);
    char *f = w_auth_frame(c, 1, device_id, k, ts_delta_ms, bad_sig);
    w_send(c, f);
    free(f);
    w_recv_error(c, 1, err);
    w_expect_closed(c, 1008, H_CONN_TIMEOUT_MS);
    ses_conn_free(c);
    h_snap_expect_one_audit(&s, e->db, "auth.login", ses_err_name(err));
    h_snap_free(&s);
}

/* Opens a connection, sends one auth frame built for it, expects auth_ok and a usable session. */
static void auth_accepted(const struct h_env *e, const struct w_dev *d, int64_t ts_delta_ms)
{
    static const char *const skip[] = {"devices.last_login_ms", NULL};
    struct h_snap s;
    h_snap_take(&s, e->db, skip);
    struct ses_conn *c = w_open(e);
    char *f = w_auth_frame(c, 2, d->prof.device_id, &d->prof.keys, ts_delta_ms, false);
    w_send(c, f);
    free(f);
    json_t *r = w_recv(c, H_CONN_TIMEOUT_MS);
    w_expect_type(r, "auth_ok", 2);
    assert_string_equal(h_jstr(r, "device"), d->device);
    assert_string_equal(h_jstr(r, "user"), d->user);
    assert_string_equal(h_jstr(r, "role"), d->prof.role);
    json_decref(r);
    w_ping_ok(c, 3);
    ses_conn_free(c);
    h_snap_expect_one_audit(&s, e->db, "auth.login", "ok");
    h_snap_free(&s);
    char hex[33];
    h_id_hex(hex, d->device);
    assert_true(h_db_int(e->db, "SELECT last_login_ms FROM devices WHERE id = X'%s'", hex) > 0);
}

static void test_bad_signature(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = w_dev_load(e->admin_home);
    auth_refused(e, adm->prof.device_id, &adm->prof.keys, 0, true, SES_EAUTH_FAILED);
    /* a valid signature by another key for this device */
    struct ses_keys other;
    ses_keys_generate(&other);
    auth_refused(e, adm->prof.device_id, &other, 0, false, SES_EAUTH_FAILED);
    ses_keys_wipe(&other);
    auth_accepted(e, adm, 0);
    w_dev_free(adm);
}

static void test_unknown_device(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct ses_keys k;
    ses_keys_generate(&k);
    uint8_t dev[16];
    randombytes_buf(dev, sizeof dev);
    auth_refused(e, dev, &k, 0, false, SES_EAUTH_FAILED);
    /* an unknown device signing with the admin's real key: still AUTH_FAILED */
    struct w_dev *adm = w_dev_load(e->admin_home);
    auth_refused(e, dev, &adm->prof.keys, 0, false, SES_EAUTH_FAILED);
    w_dev_free(adm);
    ses_keys_wipe(&k);
}

/* A captured auth frame (valid, signed for connection A's nonce) replayed on connection B. */
static void test_replay(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = w_dev_load(e->admin_home);

    /* 1. captured and used on A, then replayed on B */
    int64_t logins = h_audit_count(e->db, "auth.login", "ok");
    struct ses_conn *a = w_open(e);
    char *captured = w_auth_frame(a, 1, adm->prof.device_id, &adm->prof.keys, 0, false);
    w_send(a, captured);
    json_t *r = w_recv(a, H_CONN_TIMEOUT_MS);
    w_expect_type(r, "auth_ok", 1);
    json_decref(r);
    h_audit_wait_count(e->db, "auth.login", "ok", logins + 1);

    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    struct ses_conn *b = w_open(e);
    w_send(b, captured);
    w_recv_error(b, 1, SES_EREPLAY);
    w_expect_closed(b, 1008, H_CONN_TIMEOUT_MS);
    ses_conn_free(b);
    h_snap_expect_one_audit(&s, e->db, "auth.login", "REPLAY");
    h_snap_free(&s);
    free(captured);
    w_ping_ok(a, 2); /* A is unaffected */
    ses_conn_free(a);

    /* 2. built for C (never sent there), sent on D */
    struct ses_conn *c = w_open(e);
    struct ses_conn *d = w_open(e);
    h_snap_take(&s, e->db, NULL);
    char *f = w_auth_frame(c, 5, adm->prof.device_id, &adm->prof.keys, 0, false);
    w_send(d, f);
    w_recv_error(d, 5, SES_EREPLAY);
    w_expect_closed(d, 1008, H_CONN_TIMEOUT_MS);
    ses_conn_free(d);
    h_snap_expect_one_audit(&s, e->db, "auth.login", "REPLAY");
    h_snap_free(&s);
    /* and C's nonce was not burnt by that: the same frame still logs in on C */
    logins = h_audit_count(e->db, "auth.login", "ok");
    w_send(c, f);
    free(f);
    r = w_recv(c, H_CONN_TIMEOUT_MS);
    w_expect_type(r, "auth_ok", 5);
    json_decref(r);
    ses_conn_free(c);
    h_audit_wait_count(e->db, "auth.login", "ok", logins + 1);
    w_dev_free(adm);
}

/* ts 61 s off either way: CLOCK_SKEW; 59 s off either way: accepted. */
static void test_clock_skew(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = w_dev_load(e->admin_home);
    auth_refused(e, adm->prof.device_id, &adm->prof.keys, -61000, false, SES_ECLOCK_SKEW);
    auth_refused(e, adm->prof.device_id, &adm->prof.keys, +61000, false, SES_ECLOCK_SKEW);
    auth_accepted(e, adm, -59000);
    auth_accepted(e, adm, +59000);
    w_dev_free(adm);
}

/* Without --test-hooks the daemon's clock cannot be moved: test_clock is an unknown type. */
static void test_clock_hook_disabled(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0); /* no --test-hooks */
    struct w_dev *adm = w_dev_load(e->admin_home);
    struct ses_conn *c = w_login_settled(e, adm);
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    w_send(c, "{\"t\":\"test_clock\",\"id\":7,\"advance_ms\":3600000}");
    w_recv_error(c, 7, SES_EUNKNOWN_TYPE);
    w_ping_ok(c, 8);
    h_snap_expect_same(&s, e->db);
    h_snap_free(&s);
    ses_conn_free(c);
    /* the clock did not move: a new hello is within 5 s of this machine's time */
    c = w_open(e);
    int64_t t = h_jint(ses_conn_hello(c), "time");
    assert_in_range(t, h_wall_ms() - 5000, h_wall_ms() + 5000);
    ses_conn_free(c);
    w_dev_free(adm);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bad_signature, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_device, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_replay, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_clock_skew, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_clock_hook_disabled, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.auth", tests, NULL, NULL);
}
