/*
 * test_authz.c - the authorization policy as a full table: every (role, action, relation) has an
 * expected decision, and anything else (no role, revoked, out-of-range action) is denied. The
 * relations are how a principal can stand to the resource a request names; the alert columns
 * use the closers of real catalogue rows (A01, a safety alert, and A04, a task).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sesame/alerts.h"
#include "sesame/err.h"

#include "authz.h"

#define CLIN ((1u << SES_ROLE_NURSE) | (1u << SES_ROLE_PSYCHIATRIST) | (1u << SES_ROLE_GP))

/* The relations (columns), in this order. */
enum rel {
    REL_GATE,   /* no resource yet: the gate before decoding (r NULL) */
    REL_NONE,   /* the action names no resource */
    T_UNKNOWN,  /* a thread that does not exist */
    T_OUTSIDER, /* a thread one is not a member of */
    T_MEMBER,   /* a thread one is a member of */
    T_RAISES,   /* the same, raising a type one's role raises */
    A_UNKNOWN,  /* an alert that does not exist */
    A_STRANGER, /* an alert of another thread, not naming one */
    A_MEMBER,   /* an alert of one's thread */
    A_CC,       /* copied, not a member */
    A_OWNER,    /* a current owner, not a member */
    A_FORMER,   /* a former owner, not a member */
    A_RAISER,   /* raised it, a member */
    A_ON_DUTY,  /* the on-duty psychiatrist, neither a member nor named */
    A_DUTY_CC,  /* on duty and copied */
    A_MEM_OWN,  /* a member and a current owner */
    S_UNKNOWN,  /* a case-review session that does not exist */
    S_OTHER,    /* another psychiatrist's session */
    S_OWN,      /* one's own session */
    R_UNKNOWN,  /* a recommendation that does not exist */
    R_OUTSIDER, /* a recommendation of a thread one is not a member of */
    R_MEMBER,   /* one of one's thread */
    R_ADDRESS,  /* addressed to one */
    R_AUTHOR,   /* written by one */
    REL_COUNT
};

static struct ses_resource resource(enum rel rel, unsigned closers)
{
    struct ses_resource r = {.kind = SES_RES_ALERT, .exists = true, .closers = closers};
    switch (rel) {
    case REL_GATE:
    case REL_NONE:
        return (struct ses_resource){.kind = SES_RES_NONE};
    case T_UNKNOWN:
        return (struct ses_resource){.kind = SES_RES_THREAD};
    case T_OUTSIDER:
        return (struct ses_resource){.kind = SES_RES_THREAD, .exists = true};
    case T_MEMBER:
        return (struct ses_resource){.kind = SES_RES_THREAD, .exists = true, .member = true};
    case T_RAISES:
        return (struct ses_resource){
            .kind = SES_RES_THREAD, .exists = true, .member = true, .raisers = CLIN};
    case A_UNKNOWN:
        return (struct ses_resource){.kind = SES_RES_ALERT, .closers = closers};
    case A_STRANGER:
        break;
    case A_MEMBER:
        r.member = true;
        break;
    case A_CC:
        r.cc = true;
        break;
    case A_OWNER:
        r.owner = true;
        break;
    case A_FORMER:
        r.former = true;
        break;
    case A_RAISER:
        r.raiser = r.member = true;
        break;
    case A_ON_DUTY:
        r.on_duty = true;
        break;
    case A_DUTY_CC:
        r.on_duty = r.cc = true;
        break;
    case A_MEM_OWN:
        r.member = r.owner = true;
        break;
    case S_UNKNOWN:
        return (struct ses_resource){.kind = SES_RES_SESSION};
    case S_OTHER:
        return (struct ses_resource){.kind = SES_RES_SESSION, .exists = true};
    case S_OWN:
        return (struct ses_resource){.kind = SES_RES_SESSION, .exists = true, .session_own = true};
    case R_UNKNOWN:
        return (struct ses_resource){.kind = SES_RES_REC};
    case R_OUTSIDER:
        return (struct ses_resource){.kind = SES_RES_REC, .exists = true};
    case R_MEMBER:
        return (struct ses_resource){.kind = SES_RES_REC, .exists = true, .member = true};
    case R_ADDRESS:
        return (struct ses_resource){
            .kind = SES_RES_REC, .exists = true, .member = true, .addressee = true};
    case R_AUTHOR:
        return (struct ses_resource){
            .kind = SES_RES_REC, .exists = true, .member = true, .author = true};
    case REL_COUNT:
        break;
    }
    return r;
}

/* One group of five per relation (enum rel order), one character per role: admin, nurse,
 * psychiatrist, gp, auditor. 'y' allowed, '.' DENIED, 'o' NOT_OWNER (sees it, may not close it).
 * Alert columns with the closers of A01 (a safety alert: owner, psychiatrist members, on duty).
 *                        gate  none  t?    tout  tmem  trais a?    astr  amem  acc   aown  afor
 *                        arai  aduty adcc  amo   s?    soth  sown  r?    rout  rmem  radd  raut */
// clang-format off
static const char *const expected[SES_ACT_COUNT] = {
    [SES_ACT_PING] = "yyyyy yyyyy ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_WHOAMI] = "yyyyy yyyyy ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_INVITE] = "y.... y.... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_LIST_USERS] = "y.... y.... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_LIST_DEVICES] = "y.... y.... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_REVOKE] = "y.... y.... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_TEST_CLOCK] = "yyyyy yyyyy ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_AUDIT_READ] = "y...y y...y ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_THREAD_CREATE] = "yy... yy... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_THREAD_LIST] = ".yyy. .yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_THREAD_READ] = ".yyy. ..... ..... ..... .yyy. .yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_THREAD_ADD] = "yy... ..... ..... y.... yy... yy... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_THREAD_REMOVE] = "yy... ..... ..... y.... yy... yy... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_MSG_SEND] = ".yyy. ..... ..... ..... .yyy. .yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_MSG_REWRAP] = ".yyy. ..... ..... ..... .yyy. .yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_MSG_CURSOR] = ".yyy. ..... ..... ..... .yyy. .yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_DIRECTORY] = "yyyy. yyyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_ALERT_RAISE] = ".yyy. ..... ..... ..... ..... .yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_ALERT_LIST] = "yyyy. yyyy. ..... y.... yyyy. yyyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_ALERT_SHOW] = "yyyy. ..... ..... ..... ..... ..... ..... y.... yyyy. yyyy. yyyy. yyyy. yyyy. y.... yyyy. yyyy. ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_ALERT_ACK] = "yyyy. ..... ..... ..... ..... ..... ..... o.... oooo. oooo. yyyy. yyyy. oooo. o.... oooo. yyyy. ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_ALERT_RESOLVE] = "yyyy. ..... ..... ..... ..... ..... ..... ..... .oyo. ..... .yyy. ..... .oyo. ..... .yyy. .yyy. ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_ALERT_CANCEL] = "yyyy. ..... ..... ..... ..... ..... ..... y.... y.... y.... y.... y.... yyyy. y.... y.... y.... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_CONTACT_RECORD] = ".y... ..... ..... ..... .y... .y... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_ASSESSMENT_RECORD] = ".yyy. ..... ..... ..... .yyy. .yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_META_READ] = ".yyy. ..... ..... ..... .yyy. .yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_META_EPISODE] = ".y... ..... ..... ..... .y... .y... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_META_REVIEW] = "..y.. ..... ..... ..... ..y.. ..y.. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_DEVICE_LINK] = "yyyyy yyyyy ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_ONCALL_READ] = "yyyy. yyyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_ONCALL_SET] = "y.... y.... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_REVIEW_SESSIONS] = "yyyy. yyyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_REVIEW_SESSION_SET] = "y.y.. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... y.... y.y.. ..... ..... ..... ..... .....",
    [SES_ACT_AGENDA_READ] = "y.y.. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... y.... y.y.. ..... ..... ..... ..... .....",
    [SES_ACT_REVIEW_MINUTES] = "..y.. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..y.. ..... ..... ..... ..... .....",
    [SES_ACT_QUEUE_READ] = ".yyy. .yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_QUEUE_ADD] = ".yyy. ..... ..... ..... .yyy. .yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_REVIEW_OUTCOME] = "..y.. ..... ..... ..... ..y.. ..y.. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_EPISODE_CLOSE] = ".y... ..... ..... ..... .y... .y... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_REC_SEND] = "..y.. ..... ..... ..... ..y.. ..y.. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_REC_LIST] = ".yyy. .yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .....",
    [SES_ACT_REC_READ] = ".yyy. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .yyy. .yyy. .yyy.",
    [SES_ACT_REC_ACK] = "...y. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ...o. ...y. ...o.",
    [SES_ACT_REC_DECIDE] = "...y. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ...o. ...y. ...o.",
    [SES_ACT_REC_IMPLEMENT] = "...y. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ...o. ...y. ...o.",
    [SES_ACT_REC_VERIFY] = ".y... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... .y... .y... .y...",
    [SES_ACT_REC_AMEND] = "..y.. ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..... ..o.. ..o.. ..y..",
};
// clang-format on

/* Resolving a task (A04: owner, former owners, nurse and psychiatrist members). */
static const char *const resolve_task =
    "yyyy. ..... ..... ..... ..... ..... ..... ..... .yyo. ..... .yyy. ..... .yyo. ..... .ooo. "
    ".yyy. ..... ..... ..... ..... ..... ..... ..... .....";

static const enum ses_role roles[5] = {SES_ROLE_ADMIN, SES_ROLE_NURSE, SES_ROLE_PSYCHIATRIST,
                                       SES_ROLE_GP, SES_ROLE_AUDITOR};

static int want_of(char c)
{
    return c == 'y' ? 0 : c == 'o' ? SES_ENOT_OWNER : SES_EDENIED;
}

/* Checks one action's row against the policy, the alert columns with closers. */
static void check_row(enum ses_action a, const char *row, unsigned closers)
{
    assert_int_equal(strlen(row), REL_COUNT * 6 - 1);
    for (int rel = 0; rel < REL_COUNT; rel++)
        for (int k = 0; k < 5; k++) {
            struct ses_principal p = {.role = roles[k], .revoked = false};
            struct ses_resource r = resource((enum rel)rel, closers);
            int got = ses_authz_check(&p, a, rel == REL_GATE ? NULL : &r);
            int want = want_of(row[rel * 6 + k]);
            if (got != want)
                fail_msg("action %s relation %d role %s: got %d want %d", ses_action_name(a), rel,
                         ses_role_name(roles[k]), got, want);
        }
}

static void table_matches_policy(void **state)
{
    (void)state;
    unsigned safety = ses_alert_type_find("A01", "item9_1")->closers;
    unsigned task = ses_alert_type_find("A04", NULL)->closers;
    assert_true(ses_alert_type_find("A01", "item9_1")->safety);
    for (int a = 0; a < SES_ACT_COUNT; a++) {
        assert_non_null(expected[a]);
        check_row((enum ses_action)a, expected[a], safety);
    }
    check_row(SES_ACT_ALERT_RESOLVE, resolve_task, task);
}

/* A denial names what was refused: the thread, the alert, or the action. */
static void denied_objects(void **state)
{
    (void)state;
    struct ses_principal nurse = {.role = SES_ROLE_NURSE}, auditor = {.role = SES_ROLE_AUDITOR};
    struct ses_resource out = resource(T_OUTSIDER, 0), mem = resource(T_MEMBER, 0);
    struct ses_resource stranger = resource(A_STRANGER, SES_PARTY_OWNER);
    struct ses_resource cc = resource(A_CC, SES_PARTY_OWNER);
    struct ses_authz z = ses_authz_decide(&nurse, SES_ACT_MSG_SEND, &out);
    assert_int_equal(z.rc, SES_EDENIED);
    assert_string_equal(z.object, "thread");
    z = ses_authz_decide(&auditor, SES_ACT_MSG_SEND, NULL);
    assert_string_equal(z.object, "send");
    z = ses_authz_decide(&nurse, SES_ACT_ALERT_RAISE, &mem); /* a type the nurse does not raise */
    assert_int_equal(z.rc, SES_EDENIED);
    assert_string_equal(z.object, "alert_raise");
    z = ses_authz_decide(&nurse, SES_ACT_ALERT_SHOW, &stranger);
    assert_string_equal(z.object, "alert");
    z = ses_authz_decide(&nurse, SES_ACT_ALERT_RESOLVE, &cc);
    assert_int_equal(z.rc, SES_EDENIED);
    assert_string_equal(z.object, "alert_resolve");
    z = ses_authz_decide(&nurse, SES_ACT_ALERT_CANCEL, &cc);
    assert_string_equal(z.object, "alert_cancel");
    struct ses_principal gp = {.role = SES_ROLE_GP};
    struct ses_resource rec_out = resource(R_OUTSIDER, 0), rec_mem = resource(R_MEMBER, 0);
    z = ses_authz_decide(&gp, SES_ACT_REC_DECIDE, &rec_out);
    assert_int_equal(z.rc, SES_EDENIED);
    assert_string_equal(z.object, "rec");
    z = ses_authz_decide(&gp, SES_ACT_REC_DECIDE, &rec_mem); /* a GP it is not addressed to */
    assert_int_equal(z.rc, SES_ENOT_OWNER);
    assert_string_equal(z.object, "rec_decide");
}

static void default_deny(void **state)
{
    (void)state;
    struct ses_principal none = {.role = SES_ROLE_NONE};
    struct ses_principal bogus = {.role = (enum ses_role)42};
    struct ses_principal revoked_admin = {.role = SES_ROLE_ADMIN, .revoked = true};
    struct ses_principal admin = {.role = SES_ROLE_ADMIN};
    for (int a = 0; a < SES_ACT_COUNT; a++)
        for (int rel = 0; rel < REL_COUNT; rel++) {
            struct ses_resource r = resource((enum rel)rel, ~0u);
            const struct ses_resource *rp = rel == REL_GATE ? NULL : &r;
            assert_int_equal(ses_authz_check(&none, (enum ses_action)a, rp), SES_EDENIED);
            assert_int_equal(ses_authz_check(&bogus, (enum ses_action)a, rp), SES_EDENIED);
            assert_int_equal(ses_authz_check(&revoked_admin, (enum ses_action)a, rp), SES_EDENIED);
            assert_int_equal(ses_authz_check(NULL, (enum ses_action)a, rp), SES_EDENIED);
        }
    assert_int_equal(ses_authz_check(&admin, SES_ACT_COUNT, NULL), SES_EDENIED);
    assert_int_equal(ses_authz_check(&admin, (enum ses_action) - 1, NULL), SES_EDENIED);
}

static void action_names(void **state)
{
    (void)state;
    assert_string_equal(ses_action_name(SES_ACT_INVITE), "invite");
    assert_string_equal(ses_action_name(SES_ACT_REVOKE), "revoke");
    assert_string_equal(ses_action_name(SES_ACT_AUDIT_READ), "audit_read");
    assert_string_equal(ses_action_name(SES_ACT_COUNT), "unknown");
    for (int a = 0; a < SES_ACT_COUNT; a++) {
        assert_string_not_equal(ses_action_name((enum ses_action)a), "unknown");
        for (int b = 0; b < a; b++) /* each action its own name */
            assert_string_not_equal(ses_action_name((enum ses_action)a),
                                    ses_action_name((enum ses_action)b));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_matches_policy),
        cmocka_unit_test(denied_objects),
        cmocka_unit_test(default_deny),
        cmocka_unit_test(action_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
