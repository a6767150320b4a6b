/*
 * test_enrol_flow.c - integration: a whole care team is enrolled end to end with the real CLI
 * against the real sesamed (init -> first admin -> invites -> each member enrols in its own home),
 * then whoami/users/devices are checked field by field, non-admins are denied admin requests
 * (with an 'authz.denied' audit row each), and the audit table holds exactly the expected rows.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wire.h"
#include "sesame/encode.h"

struct member {
    const char *home, *role, *name, *site;
    char user[40], device[40];
    char *path;
};

static struct member team[] = {
    {"nurse", "nurse", "Anne Martin", "Lyon-3", "", "", NULL},
    {"psy", "psychiatrist", "Paul Durand", "Lyon-3", "", "", NULL},
    {"gp", "gp", "Claire Petit", "Villeurbanne", "", "", NULL},
    {"auditor", "auditor", "Marc Leroy", NULL, "", "", NULL},
};
#define TEAM (sizeof team / sizeof team[0])

static void enrol_team(struct h_env *e)
{
    for (size_t i = 0; i < TEAM; i++)
        team[i].path = h_add_user_ok(e, team[i].home, team[i].role, team[i].name, team[i].site,
                                     team[i].user, team[i].device);
}

static void free_team(void)
{
    for (size_t i = 0; i < TEAM; i++) {
        free(team[i].path);
        team[i].path = NULL;
    }
}

static const json_t *find_by(const json_t *arr, const char *key, const char *value)
{
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        const json_t *k = json_object_get(v, key);
        if (json_is_string(k) && strcmp(json_string_value(k), value) == 0)
            return v;
    }
    fail_msg("no element with %s = %s", key, value);
    return NULL;
}

static void check_whoami(const struct h_env *e, const char *home, const char *user,
                         const char *device, const char *role, const char *name, const char *site,
                         const char *device_name)
{
    int64_t logins = h_audit_count(e->db, "auth.login", "ok");
    struct h_cli r;
    h_cli_run(&r, home, NULL, "whoami", NULL);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(r.json, "user"), user);
    assert_string_equal(h_jstr(r.json, "device"), device);
    assert_string_equal(h_jstr(r.json, "role"), role);
    if (name != NULL)
        assert_string_equal(h_jstr(r.json, "name"), name);
    else
        h_jstr(r.json, "name");
    if (site != NULL)
        assert_string_equal(h_jstr(r.json, "site"), site);
    else
        h_jnull(r.json, "site");
    assert_string_equal(h_jstr(r.json, "device_name"), device_name);
    /* reply minus "t"/"id": exactly these six members */
    assert_null(json_object_get(r.json, "t"));
    assert_null(json_object_get(r.json, "id"));
    assert_int_equal(json_object_size(r.json), 6);
    h_cli_free(&r);
    /* one CLI command = one login = one audit row */
    h_audit_wait_count(e->db, "auth.login", "ok", logins + 1);
}

/* The admin enrols with the code printed by init; four members follow; every view agrees. */
static void test_team_enrolment(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    assert_int_equal(h_audit_count(e->db, "init", "ok"), 1);
    h_audit_wait_count(e->db, "device.enroll", "ok", 1);

    /* init itself records the first admin's invitation (no actor) */
    assert_int_equal(h_audit_count(e->db, "user.invite", "ok"), 1);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM audit WHERE action = 'user.invite' "
                                     "AND actor_user IS NULL"),
                     1);
    enrol_team(e);
    h_audit_wait_count(e->db, "user.invite", "ok", 1 + TEAM);
    h_audit_wait_count(e->db, "device.enroll", "ok", 1 + TEAM);
    assert_int_equal(h_audit_count(e->db, "init", NULL), 1);
    assert_int_equal(h_audit_count(e->db, "device.enroll", NULL), 1 + TEAM);
    assert_int_equal(h_audit_count(e->db, "user.invite", NULL), 1 + TEAM);
    assert_int_equal(h_audit_count(e->db, "authz.denied", NULL), 0);
    /* the invites were made by the admin */
    char hex[33];
    h_id_hex(hex, e->admin_user);
    assert_int_equal(h_db_int(e->db,
                              "SELECT COUNT(*) FROM audit WHERE action = 'user.invite' AND "
                              "actor_user = X'%s' AND actor_role = 'admin'",
                              hex),
                     TEAM);

    /* whoami, for everyone */
    check_whoami(e, e->admin_home, e->admin_user, e->admin_device, "admin", NULL, NULL,
                 "admin-laptop");
    for (size_t i = 0; i < TEAM; i++) {
        char *devname = h_fmt("%s-device", team[i].home);
        check_whoami(e, team[i].path, team[i].user, team[i].device, team[i].role, team[i].name,
                     team[i].site, devname);
        free(devname);
    }

    /* admin users: 5 users, right roles, names, sites, one device each */
    struct h_cli r;
    h_cli_run(&r, e->admin_home, NULL, "admin", "users", NULL);
    h_cli_assert_ok(&r);
    const json_t *users = json_object_get(r.json, "users");
    assert_true(json_is_array(users));
    assert_int_equal(json_array_size(users), 1 + TEAM);
    const json_t *u = find_by(users, "user", e->admin_user);
    assert_string_equal(h_jstr(u, "role"), "admin");
    assert_string_equal(h_jstr(u, "state"), "active");
    assert_int_equal(h_jint(u, "devices"), 1);
    for (size_t i = 0; i < TEAM; i++) {
        u = find_by(users, "user", team[i].user);
        assert_string_equal(h_jstr(u, "role"), team[i].role);
        assert_string_equal(h_jstr(u, "name"), team[i].name);
        if (team[i].site != NULL)
            assert_string_equal(h_jstr(u, "site"), team[i].site);
        else
            h_jnull(u, "site");
        assert_string_equal(h_jstr(u, "state"), "active");
        assert_int_equal(h_jint(u, "devices"), 1);
        assert_true(h_jint(u, "created") > 1600000000000LL);
    }
    h_cli_free(&r);

    /* admin devices: 5 devices, each with its user, name and the keys of its profile */
    h_cli_run(&r, e->admin_home, NULL, "admin", "devices", NULL);
    h_cli_assert_ok(&r);
    const json_t *devs = json_object_get(r.json, "devices");
    assert_true(json_is_array(devs));
    assert_int_equal(json_array_size(devs), 1 + TEAM);
    for (size_t i = 0; i < TEAM; i++) {
        const json_t *d = find_by(devs, "device", team[i].device);
        assert_string_equal(h_jstr(d, "user"), team[i].user);
        char *devname = h_fmt("%s-device", team[i].home);
        assert_string_equal(h_jstr(d, "name"), devname);
        free(devname);
        assert_string_equal(h_jstr(d, "state"), "active");
        assert_true(h_jint(d, "last_login") >= h_jint(d, "created"));
        struct w_dev *wd = w_dev_load(team[i].path);
        char pk[64];
        assert_int_equal(ses_b64_encode(pk, sizeof pk, wd->prof.keys.sign_pk, 32), 0);
        assert_string_equal(h_jstr(d, "sign_pk"), pk);
        assert_int_equal(ses_b64_encode(pk, sizeof pk, wd->prof.keys.box_pk, 32), 0);
        assert_string_equal(h_jstr(d, "box_pk"), pk);
        assert_string_equal(wd->device, team[i].device);
        assert_string_equal(wd->user, team[i].user);
        assert_string_equal(wd->prof.role, team[i].role);
        w_dev_free(wd);
    }
    find_by(devs, "device", e->admin_device);
    h_cli_free(&r);

    /* admin devices --user: just that user's device */
    h_cli_run(&r, e->admin_home, NULL, "admin", "devices", "--user", team[0].user, NULL);
    h_cli_assert_ok(&r);
    devs = json_object_get(r.json, "devices");
    assert_int_equal(json_array_size(devs), 1);
    assert_string_equal(h_jstr(json_array_get(devs, 0), "device"), team[0].device);
    h_cli_free(&r);

    /* the database agrees */
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM users WHERE state = 'active'"),
                     1 + TEAM);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM devices WHERE state = 'active'"),
                     1 + TEAM);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM enrol_codes WHERE used_ms IS NOT NULL "
                                     "AND used_by_device IS NOT NULL"),
                     1 + TEAM);
    for (size_t i = 0; i < TEAM; i++) {
        char uhex[33], dhex[33];
        h_id_hex(uhex, team[i].user);
        h_id_hex(dhex, team[i].device);
        char *role = h_db_text(e->db, "SELECT role FROM users WHERE id = X'%s'", uhex);
        assert_string_equal(role, team[i].role);
        free(role);
        assert_int_equal(h_db_int(e->db,
                                  "SELECT COUNT(*) FROM devices WHERE id = X'%s' AND "
                                  "user_id = X'%s'",
                                  dhex, uhex),
                         1);
        assert_int_equal(
            h_db_int(e->db, "SELECT COUNT(*) FROM enrol_codes WHERE used_by_device = X'%s'", dhex),
            1);
    }
    assert_int_equal(h_audit_count(e->db, "authz.denied", NULL), 0);
    free_team();
}

/* Non-admins asking for admin requests: exit 1, DENIED, one 'authz.denied' row each, no change. */
static void test_non_admin_denied(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    enrol_team(e);
    struct member *nurse = &team[0], *auditor = &team[3], *gp = &team[2];
    static const char *const skip[] = {"devices.last_login_ms", NULL};
    struct {
        struct member *who;
        const char *args[8];
    } cases[] = {
        {nurse, {"admin", "invite", "--role", "gp", "--name", "Eve Intruder", NULL}},
        {nurse, {"admin", "users", NULL}},
        {auditor, {"admin", "users", NULL}},
        {auditor, {"admin", "invite", "--role", "admin", "--name", "Eve Intruder", NULL}},
        {gp, {"admin", "devices", NULL}},
        {auditor, {"admin", "revoke", "--device", team[1].device, NULL}},
        {nurse, {"admin", "invite", "--user", team[2].user, NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct h_snap s;
        h_snap_take(&s, e->db, skip);
        struct h_cli r;
        const char *const *a = cases[i].args;
        h_cli_run(&r, cases[i].who->path, NULL, a[0], a[1], a[2], a[3], a[4], a[5], a[6], NULL);
        h_cli_assert_error(&r, 1, "DENIED");
        h_cli_free(&r);
        /* the login (auth.login ok) and the denial: two rows, the denial by this user */
        h_audit_wait_count(e->db, "authz.denied", NULL, (int64_t)i + 1);
        assert_int_equal(h_audit_count(e->db, "authz.denied", "DENIED"), i + 1);
        char uhex[33];
        h_id_hex(uhex, cases[i].who->user);
        char *role = h_db_text(e->db,
                               "SELECT actor_role FROM audit WHERE action = 'authz.denied' AND "
                               "seq > %lld AND actor_user = X'%s'",
                               (long long)s.seq, uhex);
        assert_string_equal(role, cases[i].who->role);
        free(role);
        assert_int_equal(
            h_db_int(e->db, "SELECT COUNT(*) FROM audit WHERE seq > %lld", (long long)s.seq), 2);
        assert_int_equal(h_db_int(e->db,
                                  "SELECT COUNT(*) FROM audit WHERE seq > %lld AND "
                                  "action = 'auth.login' AND outcome = 'ok'",
                                  (long long)s.seq),
                         1);
        /* nothing else changed: no user, device or code was created or touched */
        h_snap_expect_rest_same(&s, e->db);
        h_snap_free(&s);
    }
    free_team();
}

/* `admin invite --user ID` gives an existing user a second device. */
static void test_second_device(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    char user[40], dev1[40], dev2[40];
    char *home1 = h_add_user_ok(e, "nurse", "nurse", "Anne Martin", "Lyon-3", user, dev1);
    struct h_cli r;
    h_cli_run(&r, e->admin_home, NULL, "admin", "invite", "--user", user, NULL);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(r.json, "user"), user);
    assert_string_equal(h_jstr(r.json, "role"), "nurse");
    assert_string_equal(h_jstr(r.json, "name"), "Anne Martin");
    assert_string_equal(h_jstr(r.json, "site"), "Lyon-3");
    char *home2 = h_env_home(e, "nurse-phone");
    json_t *en = h_enroll_ok(e, home2, h_jstr(r.json, "code"), "phone", NULL, dev2);
    h_cli_free(&r);
    assert_string_equal(h_jstr(en, "user"), user);
    assert_string_equal(h_jstr(en, "role"), "nurse");
    assert_string_not_equal(dev1, dev2);
    json_decref(en);
    check_whoami(e, home2, user, dev2, "nurse", "Anne Martin", "Lyon-3", "phone");

    h_cli_run(&r, e->admin_home, NULL, "admin", "users", NULL);
    h_cli_assert_ok(&r);
    const json_t *users = json_object_get(r.json, "users");
    assert_int_equal(json_array_size(users), 2);
    assert_int_equal(h_jint(find_by(users, "user", user), "devices"), 2);
    h_cli_free(&r);
    h_cli_run(&r, e->admin_home, NULL, "admin", "devices", "--user", user, NULL);
    h_cli_assert_ok(&r);
    assert_int_equal(json_array_size(json_object_get(r.json, "devices")), 2);
    h_cli_free(&r);
    free(home1);
    free(home2);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_team_enrolment, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_non_admin_denied, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_second_device, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.enrol_flow", tests, NULL, NULL);
}
