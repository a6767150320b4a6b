/*
 * test_authz.c - the authorization policy as a full table: every (role, action) pair has an
 * expected decision, and anything else (no role, revoked, out-of-range action) is denied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sesame/err.h"

#include "authz.h"

/* 1 = allow. Rows: actions; columns: admin, nurse, psychiatrist, gp, auditor. */
static const int expected[SES_ACT_COUNT][5] = {
    [SES_ACT_PING] = {1, 1, 1, 1, 1},          [SES_ACT_WHOAMI] = {1, 1, 1, 1, 1},
    [SES_ACT_INVITE] = {1, 0, 0, 0, 0},        [SES_ACT_LIST_USERS] = {1, 0, 0, 0, 0},
    [SES_ACT_LIST_DEVICES] = {1, 0, 0, 0, 0},  [SES_ACT_REVOKE] = {1, 0, 0, 0, 0},
    [SES_ACT_TEST_CLOCK] = {1, 1, 1, 1, 1},    [SES_ACT_AUDIT_READ] = {1, 0, 0, 0, 1},
    [SES_ACT_THREAD_CREATE] = {1, 1, 0, 0, 0}, [SES_ACT_THREAD_USE] = {0, 1, 1, 1, 0},
    [SES_ACT_THREAD_MANAGE] = {1, 1, 0, 0, 0}, [SES_ACT_DIRECTORY] = {1, 1, 1, 1, 0},
    [SES_ACT_ALERT_RAISE] = {0, 1, 1, 1, 0},   [SES_ACT_ALERT_READ] = {1, 1, 1, 1, 0},
    [SES_ACT_ALERT_HANDLE] = {1, 1, 1, 1, 0},  [SES_ACT_DEVICE_LINK] = {1, 1, 1, 1, 1},
    [SES_ACT_ONCALL_READ] = {1, 1, 1, 1, 0},   [SES_ACT_ONCALL_SET] = {1, 0, 0, 0, 0},
};

static void table_matches_policy(void **state)
{
    (void)state;
    static const enum ses_role roles[5] = {SES_ROLE_ADMIN, SES_ROLE_NURSE, SES_ROLE_PSYCHIATRIST,
                                           SES_ROLE_GP, SES_ROLE_AUDITOR};
    for (int a = 0; a < SES_ACT_COUNT; a++)
        for (int r = 0; r < 5; r++) {
            struct ses_principal p = {.role = roles[r], .revoked = false};
            int want = expected[a][r] ? 0 : SES_EDENIED;
            int got = ses_authz_check(&p, (enum ses_action)a);
            if (got != want)
                fail_msg("action %s role %s: got %d want %d", ses_action_name((enum ses_action)a),
                         ses_role_name(roles[r]), got, want);
        }
}

static void default_deny(void **state)
{
    (void)state;
    struct ses_principal none = {.role = SES_ROLE_NONE};
    struct ses_principal bogus = {.role = (enum ses_role)42};
    struct ses_principal revoked_admin = {.role = SES_ROLE_ADMIN, .revoked = true};
    struct ses_principal admin = {.role = SES_ROLE_ADMIN};
    for (int a = 0; a < SES_ACT_COUNT; a++) {
        assert_int_equal(ses_authz_check(&none, (enum ses_action)a), SES_EDENIED);
        assert_int_equal(ses_authz_check(&bogus, (enum ses_action)a), SES_EDENIED);
        assert_int_equal(ses_authz_check(&revoked_admin, (enum ses_action)a), SES_EDENIED);
        assert_int_equal(ses_authz_check(NULL, (enum ses_action)a), SES_EDENIED);
    }
    assert_int_equal(ses_authz_check(&admin, SES_ACT_COUNT), SES_EDENIED);
    assert_int_equal(ses_authz_check(&admin, (enum ses_action) - 1), SES_EDENIED);
}

static void action_names(void **state)
{
    (void)state;
    assert_string_equal(ses_action_name(SES_ACT_INVITE), "invite");
    assert_string_equal(ses_action_name(SES_ACT_REVOKE), "revoke");
    assert_string_equal(ses_action_name(SES_ACT_COUNT), "unknown");
    for (int a = 0; a < SES_ACT_COUNT; a++)
        assert_string_not_equal(ses_action_name((enum ses_action)a), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_matches_policy),
        cmocka_unit_test(default_deny),
        cmocka_unit_test(action_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
