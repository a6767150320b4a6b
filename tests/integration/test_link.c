/*
 * test_link.c - integration: an enrolled device links a new device of its own user without an
 * admin (`sesame device link`, PROTOCOL.md §7 device_link), through the real CLI against the real
 * sesamed.
 *
 *  - link_new_laptop: the nurse's practice PC makes a code; the laptop enrols with it as the same
 *    user; it receives what is sent after it joined (and not what was sent before, until the PC
 *    shares the history); one device.link audit record; the code is single use.
 *  - link_limits: ttl 59 and 3601 are BAD_FIELD, 60 and 3600 are accepted; a user holds at most
 *    SES_LINK_MAX_OPEN usable codes (the next is RATE_LIMITED, nothing stored); every role may
 *    link its own devices (an auditor too); each refusal changes nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "sesame/limits.h"

static char *link_code_ok(const char *home, const char *user, const char *ttl)
{
    struct h_cli r;
    if (ttl)
        h_cli_run(&r, home, NULL, "device", "link", "--ttl", ttl, NULL);
    else
        h_cli_run(&r, home, NULL, "device", "link", NULL);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(r.json, "user"), user);
    assert_true(h_jint(r.json, "expires") > h_wall_ms());
    char *code = strdup(h_jstr(r.json, "code"));
    h_cli_free(&r);
    return code;
}

static void test_link_new_laptop(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    char nurse[40], psy[40];
    char *pc = h_add_user_ok(e, "nurse", "nurse", "Anne Martin", NULL, nurse, NULL);
    char *psy_home = h_add_user_ok(e, "psy", "psychiatrist", "Hugo Roux", NULL, psy, NULL);
    struct h_cli r;
    h_cli_run(&r, pc, NULL, "thread", "create", "--patient", "P-LNK1", "--title", "Link test",
              "--member", psy, NULL);
    h_cli_assert_ok(&r);
    char *thread = strdup(h_jstr(r.json, "thread"));
    h_cli_free(&r);
    h_cli_run(&r, psy_home, NULL, "send", thread, "before the laptop", NULL);
    h_cli_assert_ok(&r);
    h_cli_free(&r);

    int64_t links0 = h_audit_count(e->db, "device.link", "ok");
    char *code = link_code_ok(pc, nurse, NULL);
    assert_int_equal(h_audit_count(e->db, "device.link", "ok"), links0 + 1);
    char *laptop = h_env_home(e, "laptop");
    char user[40], device[40];
    json_decref(h_enroll_ok(e, laptop, code, "laptop", user, device));
    assert_string_equal(user, nurse); /* the same user, a second device */
    char hex[33];
    h_id_hex(hex, nurse);
    assert_int_equal(h_db_int(e->db, "SELECT count(*) FROM devices WHERE user_id = x'%s'", hex), 2);
    /* single use */
    char *again = h_env_home(e, "again");
    h_cli_run(&r, again, NULL, "enroll", "--server", e->d.url, "--ca", h_ca_file(), "--code", code,
              NULL);
    h_cli_assert_error(&r, 1, "CODE_USED");
    h_cli_free(&r);

    /* what is sent after it joined reaches the laptop; the earlier message does not */
    h_cli_run(&r, psy_home, NULL, "send", thread, "after the laptop", NULL);
    h_cli_assert_ok(&r);
    h_cli_free(&r);
    h_cli_run(&r, laptop, NULL, "sync", NULL);
    h_cli_assert_ok(&r);
    const json_t *msgs = json_object_get(r.json, "messages");
    bool after = false, before = false;
    for (size_t i = 0; i < json_array_size(msgs); i++) {
        const char *text = h_jstr(json_array_get(msgs, i), "text");
        after = after || strcmp(text, "after the laptop") == 0;
        before = before || strcmp(text, "before the laptop") == 0;
    }
    assert_true(after);
    assert_false(before);
    h_cli_free(&r);
    free(code);
    free(again);
    free(laptop);
    free(thread);
    free(pc);
    free(psy_home);
}

static void test_link_limits(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    char nurse[40], auditor[40];
    char *home = h_add_user_ok(e, "nurse", "nurse", "Anne Martin", NULL, nurse, NULL);
    char *aud = h_add_user_ok(e, "auditor", "auditor", "Ines Weber", NULL, auditor, NULL);
    struct h_snap snap;
    struct h_cli r;
    const char *const skip[] = {"devices.last_login_ms", NULL};
    static const char *const bad[] = {"59", "3601", "0"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_snap_take(&snap, e->db, skip);
        h_cli_run(&r, home, NULL, "device", "link", "--ttl", bad[i], NULL);
        h_cli_assert_error(&r, 1, "BAD_FIELD");
        h_cli_free(&r);
        h_snap_expect_rest_same(&snap, e->db);
        h_snap_free(&snap);
    }
    free(link_code_ok(home, nurse, "60"));
    free(link_code_ok(home, nurse, "3600"));
    for (int i = 2; i < SES_LINK_MAX_OPEN; i++)
        free(link_code_ok(home, nurse, NULL));
    h_snap_take(&snap, e->db, skip);
    h_cli_run(&r, home, NULL, "device", "link", NULL);
    h_cli_assert_error(&r, 1, "RATE_LIMITED");
    h_cli_free(&r);
    h_snap_expect_rest_same(&snap, e->db);
    h_snap_free(&snap);
    assert_int_equal(h_audit_count(e->db, "device.link", "ok"), SES_LINK_MAX_OPEN);
    /* another role, its own user */
    free(link_code_ok(aud, auditor, NULL));
    free(home);
    free(aud);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_link_new_laptop, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_link_limits, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
