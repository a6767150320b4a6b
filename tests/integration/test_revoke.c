/*
 * test_revoke.c - integration: revocation with the real CLI against the real sesamed while
 * devices are logged in through the real client library. A revoked device's open connection gets
 * {"t":"closing","reason":"revoked"} and close 4001 within 5 s, its next login is REVOKED; the
 * reply counts the sessions closed; revoking twice or revoking the last admin is a CONFLICT.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harness.h"
#include "wire.h"
#include "sesame/encode.h"
#include "sesame/err.h"

/* The next frame is the revocation push, then close 4001, all within 5 s of t0. */
static void expect_revoked_push(struct ses_conn *c, uint64_t t0)
{
    json_t *f = w_recv(c, 5000);
    w_expect_type(f, "closing", -1);
    assert_string_equal(h_jstr(f, "reason"), "revoked");
    assert_int_equal(json_object_size(f), 2);
    json_decref(f);
    uint64_t spent = h_mono_ms() - t0;
    assert_true(spent < 5000);
    w_expect_closed(c, 4001, (int)(5000 - spent));
    assert_true(h_mono_ms() - t0 < 5000);
}

/* A login attempt by a revoked device: REVOKED, close 1008, one audit row. */
static void login_revoked(const struct h_env *e, const struct w_dev *d)
{
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    struct ses_conn *c = w_open(e);
    json_t *reply = NULL;
    int rc = ses_conn_login(c, d->prof.device_id, &d->prof.keys, &reply);
    assert_int_equal(rc, SES_EREVOKED);
    assert_non_null(reply);
    w_expect_error(reply, h_jint(reply, "id"), SES_EREVOKED);
    w_expect_closed(c, 1008, H_CONN_TIMEOUT_MS);
    ses_conn_free(c);
    h_snap_expect_one_audit(&s, e->db, "auth.login", "REVOKED");
    h_snap_free(&s);
}

static void test_revoke_device(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    char nuser[40], ndev[40];
    char *nhome = h_add_user_ok(e, "nurse", "nurse", "Anne Martin", "Lyon-3", nuser, ndev);
    struct w_dev *nurse = w_dev_load(nhome);
    struct ses_conn *c = w_login_settled(e, nurse);
    w_ping_ok(c, 1);

    uint64_t t0 = h_mono_ms();
    struct h_cli r;
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--device", ndev, NULL);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(r.json, "device"), ndev);
    assert_int_equal(h_jint(r.json, "sessions_closed"), 1);
    assert_int_equal(json_object_size(r.json), 2);
    h_cli_free(&r);
    expect_revoked_push(c, t0);
    ses_conn_free(c);

    char dhex[33], uhex[33];
    h_id_hex(dhex, ndev);
    h_id_hex(uhex, nuser);
    char *st = h_db_text(e->db, "SELECT state FROM devices WHERE id = X'%s'", dhex);
    assert_string_equal(st, "revoked");
    free(st);
    assert_true(h_db_int(e->db, "SELECT revoked_ms FROM devices WHERE id = X'%s'", dhex) > 0);
    st = h_db_text(e->db, "SELECT state FROM users WHERE id = X'%s'", uhex);
    assert_string_equal(st, "active"); /* only the device */
    free(st);
    h_audit_wait_count(e->db, "device.revoke", "ok", 1);

    login_revoked(e, nurse);
    h_cli_run(&r, nhome, NULL, "whoami", NULL);
    h_cli_assert_error(&r, 1, "REVOKED");
    h_cli_free(&r);

    /* the admin's views */
    h_cli_run(&r, e->admin_home, NULL, "admin", "devices", "--user", nuser, NULL);
    h_cli_assert_ok(&r);
    const json_t *devs = json_object_get(r.json, "devices");
    assert_int_equal(json_array_size(devs), 1);
    assert_string_equal(h_jstr(json_array_get(devs, 0), "state"), "revoked");
    h_cli_free(&r);

    /* again: CONFLICT, nothing changes (users, devices, codes) */
    struct h_snap s;
    h_snap_take(&s, e->db, (const char *const[]){"devices.last_login_ms", NULL});
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--device", ndev, NULL);
    h_cli_assert_error(&r, 1, "CONFLICT");
    h_cli_free(&r);
    h_snap_expect_rest_same(&s, e->db);
    h_snap_free(&s);

    /* an unknown device: NOT_FOUND */
    uint8_t rnd[16];
    char rid[SES_ID_TEXT_LEN + 1];
    randombytes_buf(rnd, sizeof rnd);
    ses_id_to_text(rid, rnd);
    h_snap_take(&s, e->db, (const char *const[]){"devices.last_login_ms", NULL});
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--device", rid, NULL);
    h_cli_assert_error(&r, 1, "NOT_FOUND");
    h_cli_free(&r);
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--user", rid, NULL);
    h_cli_assert_error(&r, 1, "NOT_FOUND");
    h_cli_free(&r);
    h_snap_expect_rest_same(&s, e->db);
    h_snap_free(&s);
    w_dev_free(nurse);
    free(nhome);
}

/* Revoking a user closes the sessions of all its devices and only those. */
static void test_revoke_user(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    char guser[40], gdev1[40], gdev2[40], nuser[40], ndev[40];
    char *ghome1 = h_add_user_ok(e, "gp", "gp", "Claire Petit", "Villeurbanne", guser, gdev1);
    char *nhome = h_add_user_ok(e, "nurse", "nurse", "Anne Martin", "Lyon-3", nuser, ndev);
    struct h_cli r;
    h_cli_run(&r, e->admin_home, NULL, "admin", "invite", "--user", guser, NULL);
    h_cli_assert_ok(&r);
    char *ghome2 = h_env_home(e, "gp-phone");
    json_decref(h_enroll_ok(e, ghome2, h_jstr(r.json, "code"), "phone", NULL, gdev2));
    h_cli_free(&r);

    struct w_dev *g1 = w_dev_load(ghome1), *g2 = w_dev_load(ghome2), *n = w_dev_load(nhome);
    struct ses_conn *c1 = w_login_settled(e, g1);
    struct ses_conn *c2 = w_login_settled(e, g2);
    struct ses_conn *c3 = w_login_settled(e, g2); /* two sessions of one device */
    struct ses_conn *cn = w_login_settled(e, n);

    uint64_t t0 = h_mono_ms();
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--user", guser, NULL);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(r.json, "user"), guser);
    assert_int_equal(h_jint(r.json, "sessions_closed"), 3);
    h_cli_free(&r);
    expect_revoked_push(c1, t0);
    expect_revoked_push(c2, t0);
    expect_revoked_push(c3, t0);
    ses_conn_free(c1);
    ses_conn_free(c2);
    ses_conn_free(c3);
    w_ping_ok(cn, 9); /* the nurse is untouched */
    ses_conn_free(cn);

    char uhex[33];
    h_id_hex(uhex, guser);
    char *st = h_db_text(e->db, "SELECT state FROM users WHERE id = X'%s'", uhex);
    assert_string_equal(st, "revoked");
    free(st);
    assert_true(h_db_int(e->db, "SELECT revoked_ms FROM users WHERE id = X'%s'", uhex) > 0);
    h_audit_wait_count(e->db, "user.revoke", "ok", 1);
    login_revoked(e, g1);
    login_revoked(e, g2);

    h_cli_run(&r, e->admin_home, NULL, "admin", "users", NULL);
    h_cli_assert_ok(&r);
    size_t i;
    const json_t *u;
    int seen = 0;
    json_array_foreach(json_object_get(r.json, "users"), i, u)
    {
        if (strcmp(h_jstr(u, "user"), guser) == 0) {
            assert_string_equal(h_jstr(u, "state"), "revoked");
            seen++;
        } else {
            assert_string_equal(h_jstr(u, "state"), "active");
        }
    }
    assert_int_equal(seen, 1);
    h_cli_free(&r);

    /* again: CONFLICT */
    struct h_snap s;
    h_snap_take(&s, e->db, (const char *const[]){"devices.last_login_ms", NULL});
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--user", guser, NULL);
    h_cli_assert_error(&r, 1, "CONFLICT");
    h_cli_free(&r);
    h_snap_expect_rest_same(&s, e->db);
    h_snap_free(&s);

    w_dev_free(g1);
    w_dev_free(g2);
    w_dev_free(n);
    free(ghome1);
    free(ghome2);
    free(nhome);
}

/* The last active admin user cannot be revoked; with a second admin, the second can be. */
static void test_last_admin(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct h_snap s;
    struct h_cli r;
    h_snap_take(&s, e->db, (const char *const[]){"devices.last_login_ms", NULL});
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--user", e->admin_user, NULL);
    h_cli_assert_error(&r, 1, "CONFLICT");
    h_cli_free(&r);
    h_snap_expect_rest_same(&s, e->db);
    h_snap_free(&s);

    char a2user[40], a2dev[40];
    char *a2home = h_add_user_ok(e, "admin2", "admin", "Second Admin", NULL, a2user, a2dev);
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--user", a2user, NULL);
    h_cli_assert_ok(&r);
    assert_int_equal(h_jint(r.json, "sessions_closed"), 0);
    h_cli_free(&r);
    /* the second admin is revoked: the first is again the last active admin */
    h_snap_take(&s, e->db, (const char *const[]){"devices.last_login_ms", NULL});
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--user", e->admin_user, NULL);
    h_cli_assert_error(&r, 1, "CONFLICT");
    h_cli_free(&r);
    h_snap_expect_rest_same(&s, e->db);
    h_snap_free(&s);
    char uhex[33];
    h_id_hex(uhex, e->admin_user);
    char *st = h_db_text(e->db, "SELECT state FROM users WHERE id = X'%s'", uhex);
    assert_string_equal(st, "active");
    free(st);
    free(a2home);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_revoke_device, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_revoke_user, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_last_admin, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.revoke", tests, NULL, NULL);
}
