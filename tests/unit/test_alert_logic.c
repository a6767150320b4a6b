/*
 * test_alert_logic.c - the pure rules of the alert engine (daemon/alert_logic.h) and the alert
 * options of the config table: who may raise, acknowledge, resolve, cancel (every refusal code);
 * the escalation state machine (steps, skipped parties, exhaustion); the time-based rules at each
 * boundary (one millisecond before and at the moment) and once per anchor; site overrides.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sesame/alerts.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#include "alert_logic.h"
#include "authz.h"
#include "config.h"
#include "resource.h"

#define D SES_DAY_MS
#define MIN (60 * 1000LL)

static const uint8_t U1[16] = {1}, U2[16] = {2}, U3[16] = {3};

static const struct ses_alert_type *T(const char *code, const char *variant)
{
    const struct ses_alert_type *t = ses_alert_type_find(code, variant);
    assert_non_null(t);
    return t;
}

static void catalogue(void **state)
{
    (void)state;
    /* every row is findable by code and variant; first rows are the defaults */
    for (size_t i = 0; i < ses_alert_type_count(); i++) {
        const struct ses_alert_type *t = ses_alert_type_at(i);
        assert_ptr_equal(ses_alert_type_find(t->code, t->variant), t);
        assert_true(t->severity == SES_SEV_INFO ? t->ack_ms == 0 : t->ack_ms > 0);
        bool a19p = strcmp(t->code, "A19") == 0 && strcmp(t->variant, "psychiatric") == 0;
        assert_true(t->safety == (strcmp(t->code, "A01") == 0 || strcmp(t->code, "A02") == 0 ||
                                  strcmp(t->code, "A03") == 0 || a19p));
        /* a safety alert is closed by its owner or a psychiatrist, never by a cc-only member */
        if (t->safety)
            assert_int_equal(t->closers,
                             SES_PARTY_OWNER | SES_PARTY_PSYCHIATRIST | SES_PARTY_ON_DUTY);
        else
            assert_true((t->closers & SES_PARTY_OWNER) && (t->closers & SES_PARTY_FORMER_OWNER));
    }
    assert_null(ses_alert_type_at(ses_alert_type_count()));
    assert_string_equal(T("A01", NULL)->variant, "item9_1");
    assert_int_equal(T("A01", "item9_2")->ack_ms, 30 * MIN);
    assert_int_equal(T("A02", NULL)->severity, SES_SEV_P0);
    assert_null(ses_alert_type_find("A99", NULL));
    assert_null(ses_alert_type_find("A01", "item9_3"));
    assert_string_equal(ses_severity_name(SES_SEV_P0), "P0");
    assert_int_equal(ses_severity_from_name("INFO"), SES_SEV_INFO);
    assert_int_equal(ses_severity_from_name("P5"), -1);
    assert_true(ses_risk_outcome_valid("imminent"));
    assert_false(ses_risk_outcome_valid("Imminent"));
    assert_true(ses_resolution_valid("RISK_ASSESSED"));
    assert_false(ses_resolution_valid("CONDITION_CLEARED")); /* the daemon's own */
    assert_true(ses_cancel_code_valid("WRONG_PATIENT"));
}

/* A raise as the handler decides it: the policy (a member whose role raises the type), then the
 * raise's own checks. */
static int raise_rc(const char *code, enum ses_role role, int severity)
{
    const struct ses_alert_type *t = T(code, NULL);
    struct ses_principal p = {.role = role};
    struct ses_resource r = {
        .kind = SES_RES_THREAD, .exists = true, .member = true, .raisers = ses_alert_raisers(t)};
    int rc = ses_authz_check(&p, SES_ACT_ALERT_RAISE, &r);
    return rc != 0 ? rc : ses_alert_raise_check(t, severity);
}

static void raise_rules(void **state)
{
    (void)state;
    assert_int_equal(ses_alert_raise_check(NULL, -1), SES_EUNKNOWN_ALERT_TYPE);
    assert_int_equal(raise_rc("A01", SES_ROLE_GP, -1), 0);
    assert_int_equal(raise_rc("A01", SES_ROLE_ADMIN, -1), SES_EDENIED);
    assert_int_equal(raise_rc("A07", SES_ROLE_NURSE, -1), SES_EDENIED);        /* the daemon's */
    assert_int_equal(raise_rc("A14", SES_ROLE_PSYCHIATRIST, -1), SES_EDENIED); /* a later one */
    assert_int_equal(raise_rc("A13", SES_ROLE_GP, -1), SES_EDENIED);
    assert_int_equal(raise_rc("A18", SES_ROLE_PSYCHIATRIST, -1), 0);
    /* severity: at or above the type's, never below */
    assert_int_equal(raise_rc("A02", SES_ROLE_NURSE, SES_SEV_P0), 0);
    assert_int_equal(raise_rc("A02", SES_ROLE_NURSE, SES_SEV_P1), SES_ESEVERITY_TOO_LOW);
    assert_int_equal(raise_rc("A04", SES_ROLE_NURSE, SES_SEV_P2), 0);
    assert_int_equal(raise_rc("A04", SES_ROLE_NURSE, SES_SEV_P1), 0);
    assert_int_equal(raise_rc("A04", SES_ROLE_NURSE, SES_SEV_P3), SES_ESEVERITY_TOO_LOW);
    assert_int_equal(raise_rc("A04", SES_ROLE_NURSE, SES_SEV_COUNT), SES_EBAD_FIELD);
}

static struct ses_alert alert_of(const char *code, const char *variant, const char *state)
{
    struct ses_alert a;
    memset(&a, 0, sizeof a);
    snprintf(a.type, sizeof a.type, "%s", code);
    snprintf(a.variant, sizeof a.variant, "%s", variant);
    snprintf(a.state, sizeof a.state, "%s", state);
    a.has_raiser = true;
    memcpy(a.raised_by, U1, 16);
    memcpy(a.owners[a.n_owners++], U2, 16);
    memcpy(a.former[a.n_former++], U1, 16); /* escalated from U1 to U2 */
    memcpy(a.former[a.n_former++], U2, 16);
    return a;
}

/* Who asks, and how they stand to the alert beyond what it names. */
struct who {
    const uint8_t *user;
    enum ses_role role;
    bool member, on_duty;
};

/* The policy on action by w on a, then (when it allows) check, as the handlers compose them. */
static int decided(const struct ses_alert *a, const struct who *w, enum ses_action action)
{
    struct ses_principal p = {.role = w->role};
    struct ses_resource r;
    ses_resource_of_alert(a, w->user, w->member, w->on_duty, &r);
    return ses_authz_check(&p, action, &r);
}

static int ack_rc(const struct ses_alert *a, const struct who *w)
{
    int rc = decided(a, w, SES_ACT_ALERT_ACK);
    return rc != 0 ? rc : ses_alert_ack_check(a);
}

static int resolve_rc(const struct ses_alert *a, const struct ses_alert_type *t,
                      const struct who *w, const char *code, const char *outcome, bool note)
{
    int rc = decided(a, w, SES_ACT_ALERT_RESOLVE);
    return rc != 0 ? rc : ses_alert_resolve_check(a, t, code, outcome, note);
}

static int cancel_rc(const struct ses_alert *a, const struct ses_alert_type *t, const struct who *w,
                     const char *code)
{
    int rc = decided(a, w, SES_ACT_ALERT_CANCEL);
    return rc != 0 ? rc : ses_alert_cancel_check(a, t, code);
}

static void lifecycle_rules(void **state)
{
    (void)state;
    struct ses_alert a = alert_of("A01", "item9_2", "raised");
    memcpy(a.cc[a.n_cc++], U3, 16);
    const struct ses_alert_type *t = T("A01", "item9_2");
    const struct who owner = {U2, SES_ROLE_NURSE, true, false};
    const struct who former = {U1, SES_ROLE_NURSE, true, false};
    const struct who cc_gp = {U3, SES_ROLE_GP, true, false};
    const struct who nurse3 = {U3, SES_ROLE_NURSE, true, false};
    const struct who psy = {U3, SES_ROLE_PSYCHIATRIST, true, false};
    const struct who duty = {U3, SES_ROLE_PSYCHIATRIST, false, true}; /* copied, not a member */
    const struct who admin = {U2, SES_ROLE_ADMIN, true, false};
    const struct who outsider = {U3, SES_ROLE_NURSE, false, false}; /* copied only */
    /* ack: current and former owners only; only a raised alert */
    assert_int_equal(ack_rc(&a, &owner), 0);
    assert_int_equal(ack_rc(&a, &former), 0);
    assert_int_equal(ack_rc(&a, &cc_gp), SES_ENOT_OWNER);
    struct ses_alert acked = alert_of("A01", "item9_2", "acked");
    assert_int_equal(ack_rc(&acked, &owner), SES_EBAD_STATE);
    assert_int_equal(ack_rc(&acked, &cc_gp), SES_ENOT_OWNER);
    /* resolve: the type's closers; a safety alert needs an outcome and a note */
    assert_int_equal(resolve_rc(&a, t, &owner, "RISK_ASSESSED", NULL, true), SES_EOUTCOME_REQUIRED);
    assert_int_equal(resolve_rc(&a, t, &owner, "RISK_ASSESSED", "low", false), SES_ENOTE_REQUIRED);
    assert_int_equal(resolve_rc(&a, t, &owner, "RISK_ASSESSED", "low", true), 0);
    assert_int_equal(resolve_rc(&a, t, &psy, "RISK_ASSESSED", "moderate", true), 0);
    assert_int_equal(resolve_rc(&a, t, &duty, "RISK_ASSESSED", "none", true), 0);
    assert_int_equal(resolve_rc(&acked, t, &owner, "ADDRESSED", "none", true), 0);
    /* a cc-only GP, a former owner of a safety alert, an outsider, an admin */
    assert_int_equal(resolve_rc(&a, t, &cc_gp, "DUPLICATE", "imminent", true), SES_ENOT_OWNER);
    assert_int_equal(resolve_rc(&a, t, &former, "RISK_ASSESSED", "low", true), SES_ENOT_OWNER);
    assert_int_equal(resolve_rc(&a, t, &outsider, "RISK_ASSESSED", "low", true), SES_EDENIED);
    assert_int_equal(resolve_rc(&a, t, &admin, "RISK_ASSESSED", "low", true), SES_EDENIED);
    assert_int_equal(resolve_rc(&a, t, &owner, "RISK_ASSESSED", "bad", true), SES_EBAD_FIELD);
    assert_int_equal(resolve_rc(&a, t, &owner, "CONDITION_CLEARED", "low", true), SES_EBAD_FIELD);
    /* a dismissal never closes a risk above low */
    assert_int_equal(resolve_rc(&a, t, &owner, "DUPLICATE", "low", true), 0);
    assert_int_equal(resolve_rc(&a, t, &owner, "DUPLICATE", "moderate", true),
                     SES_EOUTCOME_CONFLICT);
    assert_int_equal(resolve_rc(&a, t, &owner, "NO_ACTION_NEEDED", "high", true),
                     SES_EOUTCOME_CONFLICT);
    assert_int_equal(resolve_rc(&a, t, &owner, "REVIEWED", "high", true), 0);
    struct ses_alert done = alert_of("A04", "", "resolved");
    assert_int_equal(resolve_rc(&done, T("A04", NULL), &owner, "ADDRESSED", NULL, false),
                     SES_EBAD_STATE);
    /* a task: its owners (current or former), its owning roles and psychiatrists; no note */
    struct ses_alert a04 = alert_of("A04", "", "raised");
    const struct ses_alert_type *t04 = T("A04", NULL);
    assert_int_equal(resolve_rc(&a04, t04, &owner, "ADDRESSED", NULL, false), 0);
    assert_int_equal(resolve_rc(&a04, t04, &former, "ADDRESSED", NULL, false), 0);
    assert_int_equal(resolve_rc(&a04, t04, &psy, "ADDRESSED", NULL, false), 0);
    assert_int_equal(resolve_rc(&a04, t04, &nurse3, "ADDRESSED", NULL, false), 0);
    assert_int_equal(resolve_rc(&a04, t04, &cc_gp, "ADDRESSED", NULL, false), SES_ENOT_OWNER);
    /* follow-ups of an assessment */
    assert_string_equal(ses_alert_followup_code("high"), "A03");
    assert_string_equal(ses_alert_followup_code("imminent"), "A02");
    assert_null(ses_alert_followup_code("moderate"));
    assert_null(ses_alert_followup_code(NULL));
    /* cancel: the raiser or an admin, never a safety alert */
    const struct who admin3 = {U3, SES_ROLE_ADMIN, false, false};
    const struct who owner_nurse = {U2, SES_ROLE_NURSE, true, false};
    assert_int_equal(cancel_rc(&a04, t04, &former, "RAISED_IN_ERROR"), 0); /* U1 raised it */
    assert_int_equal(cancel_rc(&a04, t04, &admin3, "DUPLICATE"), 0);
    assert_int_equal(cancel_rc(&a04, t04, &owner_nurse, "RAISED_IN_ERROR"), SES_EDENIED);
    assert_int_equal(cancel_rc(&a04, t04, &former, "OOPS"), SES_EBAD_FIELD);
    assert_int_equal(cancel_rc(&a, t, &former, "RAISED_IN_ERROR"), SES_EBAD_STATE);
    assert_int_equal(cancel_rc(&done, t04, &former, "RAISED_IN_ERROR"), SES_EBAD_STATE);
}

static bool has_party(void *ud, unsigned party)
{
    return (party & *(unsigned *)ud) != 0;
}

static void escalation_machine(void **state)
{
    (void)state;
    unsigned chain[SES_ALERT_CHAIN_MAX + 1] = {SES_PARTY_BACKUP, SES_PARTY_GP, SES_PARTY_ON_DUTY,
                                               0};
    unsigned present = SES_PARTY_BACKUP | SES_PARTY_GP | SES_PARTY_ON_DUTY, skipped = 0;
    assert_int_equal(ses_escalation_next(chain, 0, has_party, &present, &skipped), 1);
    assert_int_equal(ses_escalation_next(chain, 1, has_party, &present, &skipped), 2);
    assert_int_equal(ses_escalation_next(chain, 2, has_party, &present, &skipped), 3);
    assert_int_equal(ses_escalation_next(chain, 3, has_party, &present, &skipped), 0);
    assert_int_equal(skipped, 0);
    /* no backup configured: straight to the GP, the skip is reported */
    present = SES_PARTY_GP | SES_PARTY_ON_DUTY;
    assert_int_equal(ses_escalation_next(chain, 0, has_party, &present, &skipped), 2);
    assert_int_equal(skipped, 1u << 0);
    /* nobody anywhere: exhausted, every step skipped */
    present = 0;
    skipped = 0;
    assert_int_equal(ses_escalation_next(chain, 0, has_party, &present, &skipped), 0);
    assert_int_equal(skipped, 7u);
    /* a full chain of SES_ALERT_CHAIN_MAX steps ends after the last */
    unsigned full[SES_ALERT_CHAIN_MAX + 1] = {SES_PARTY_BACKUP, SES_PARTY_GP, SES_PARTY_ON_DUTY,
                                              SES_PARTY_LEAD, 0};
    present = SES_PARTY_LEAD;
    skipped = 0;
    assert_int_equal(ses_escalation_next(full, 0, has_party, &present, &skipped), 4);
    assert_int_equal(ses_escalation_next(full, 4, has_party, &present, &skipped), 0);
    /* no chain at all */
    unsigned none[SES_ALERT_CHAIN_MAX + 1] = {0};
    assert_int_equal(ses_escalation_next(none, 0, has_party, &present, &skipped), 0);
}

struct seen {
    const char *keys[8];
    int n;
};

static bool seen_fn(void *ud, const char *key)
{
    struct seen *s = ud;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->keys[i], key) == 0)
            return true;
    return false;
}

/* Runs the rules at now; returns "A07,A08/first_followup" style text of the hits. */
static const char *rules_at(const struct ses_thread_meta *m, int64_t now, struct seen *s,
                            int64_t *next)
{
    static char out[256];
    struct ses_rule_hit hits[SES_TIME_RULES_MAX];
    size_t n = ses_time_rules(m, now, seen_fn, s, hits, next);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(out);
        snprintf(out + l, sizeof out - l, "%s%s%s%s", l ? "," : "", hits[i].type->code,
                 hits[i].type->variant[0] ? "/" : "", hits[i].type->variant);
    }
    return out;
}

static void time_rules(void **state)
{
    (void)state;
    const int64_t E = 1767225600000LL; /* enrolled */
    struct ses_thread_meta m = {.enrolled_ms = E};
    snprintf(m.phase, sizeof m.phase, "active");
    struct seen s = {.n = 0};
    int64_t next = 0;
    assert_string_equal(rules_at(&m, E, &s, &next), "");
    assert_int_equal(next, E + 14 * D);
    assert_string_equal(rules_at(&m, E + 14 * D - 1, &s, &next), "");
    assert_string_equal(rules_at(&m, E + 14 * D, &s, &next), "A07");
    assert_int_equal(next, E + 28 * D);
    s.keys[s.n++] = "A07:1767225600000"; /* raised once per anchor */
    assert_string_equal(rules_at(&m, E + 28 * D - 1, &s, &next), "");
    assert_string_equal(rules_at(&m, E + 28 * D, &s, &next), "A08/first_followup,A22");
    s.keys[s.n++] = "A08a:1767225600000";
    s.keys[s.n++] = "A22:1767225600000"; /* no PHQ-9 since the enrolment */
    assert_int_equal(next, E + 60 * D);
    assert_string_equal(rules_at(&m, E + 60 * D, &s, &next), "A09");
    s.keys[s.n++] = "A09:1767225600000";
    assert_int_equal(next, E + 182 * D);
    assert_string_equal(rules_at(&m, E + 182 * D, &s, &next), "A09b");
    s.keys[s.n++] = "A09b:1767225600000";
    assert_int_equal(next, -1);
    /* a review and a contact move the anchors */
    m.last_review_ms = E + D;
    m.contacts = 1;
    m.last_contact_ms = E + 10 * D;
    const int64_t C = E + 10 * D;
    assert_string_equal(rules_at(&m, C + 21 * D - 1, &s, &next), "");
    assert_int_equal(next, C + 21 * D);
    assert_string_equal(rules_at(&m, C + 21 * D, &s, &next), "A08/active");
    /* relapse prevention: 44 days */
    snprintf(m.phase, sizeof m.phase, "relapse_prevention");
    assert_string_equal(rules_at(&m, C + 44 * D - 1, &s, &next), "");
    assert_string_equal(rules_at(&m, C + 44 * D, &s, &next), "A08/relapse_prevention");
    /* a contact before the enrolment does not count as a follow-up */
    m.last_contact_ms = E - 1;
    snprintf(m.phase, sizeof m.phase, "active");
    struct seen none = {.n = 0};
    m.last_review_ms = E;
    assert_string_equal(rules_at(&m, E + 28 * D, &none, &next), "A08/first_followup,A22");
    /* A12: on the agenda 7 days before the due date, deadline = the due date */
    struct ses_thread_meta q = {.enrolled_ms = E,
                                .last_review_ms = E,
                                .contacts = 1,
                                .last_contact_ms = E + 100 * D,
                                .sequence_due_ms = E + 90 * D,
                                .last_phq9_ms = E + 80 * D};
    snprintf(q.phase, sizeof q.phase, "active");
    struct ses_rule_hit hits[SES_TIME_RULES_MAX];
    size_t n = ses_time_rules(&q, E + 83 * D - 1, seen_fn, &none, hits, &next);
    assert_int_equal(n, 0);
    assert_int_equal(next, E + 83 * D);
    n = ses_time_rules(&q, E + 83 * D, seen_fn, &none, hits, &next);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].type->code, "A12");
    assert_int_equal(hits[0].deadline_ms, E + 90 * D);
    assert_string_equal(hits[0].cond_key, "A12:1775001600000");
    /* A22: an active patient without a PHQ-9 for 28 days; none in relapse prevention */
    struct ses_thread_meta r = q;
    r.sequence_due_ms = 0;
    r.last_phq9_ms = E + 100 * D;
    r.last_contact_ms = E + 120 * D; /* A08/active not due before E + 141 d */
    n = ses_time_rules(&r, E + 128 * D - 1, seen_fn, &none, hits, &next);
    assert_int_equal(n, 0);
    assert_int_equal(next, E + 128 * D);
    n = ses_time_rules(&r, E + 128 * D, seen_fn, &none, hits, &next);
    assert_int_equal(n, 1);
    assert_string_equal(hits[0].type->code, "A22");
    assert_int_equal(hits[0].deadline_ms, 0);
    snprintf(r.phase, sizeof r.phase, "relapse_prevention");
    n = ses_time_rules(&r, E + 128 * D, seen_fn, &none, hits, &next);
    assert_int_equal(n, 0);
}

/* New signal, new obligation: which repeats re-open an open alert. */
static void repeat_rules(void **state)
{
    (void)state;
    static const struct {
        const char *cur_variant, *state;
        int cur_sev;
        const char *new_variant;
        int new_sev;
        enum ses_repeat_kind want;
    } cases[] = {
        /* a worse item 9 re-opens whatever the state */
        {"item9_1", "raised", SES_SEV_P1, "item9_2", SES_SEV_P1, SES_REPEAT_UPGRADE},
        {"item9_1", "acked", SES_SEV_P1, "item9_2", SES_SEV_P1, SES_REPEAT_UPGRADE},
        {"item9_unanswered", "raised", SES_SEV_P3, "item9_1", SES_SEV_P1, SES_REPEAT_UPGRADE},
        {"item9_unanswered", "acked", SES_SEV_P3, "item9_2", SES_SEV_P1, SES_REPEAT_UPGRADE},
        /* a new positive item 9 on an acknowledged A01, even of the same or a lower variant */
        {"item9_1", "acked", SES_SEV_P1, "item9_1", SES_SEV_P1, SES_REPEAT_REOPEN},
        {"item9_2", "acked", SES_SEV_P1, "item9_1", SES_SEV_P1, SES_REPEAT_REOPEN},
        /* a repeat on a running deadline, or an unanswered item 9 after an answered one */
        {"item9_1", "raised", SES_SEV_P1, "item9_1", SES_SEV_P1, SES_REPEAT_COUNT},
        {"item9_2", "raised", SES_SEV_P1, "item9_1", SES_SEV_P1, SES_REPEAT_COUNT},
        {"item9_2", "acked", SES_SEV_P1, "item9_unanswered", SES_SEV_P3, SES_REPEAT_COUNT},
        /* a higher severity asked for by hand upgrades too; a raised-by-hand P0 is not lowered */
        {"item9_1", "acked", SES_SEV_P1, "item9_1", SES_SEV_P0, SES_REPEAT_UPGRADE},
        {"item9_2", "raised", SES_SEV_P0, "item9_2", SES_SEV_P1, SES_REPEAT_COUNT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ses_alert a = alert_of("A01", cases[i].cur_variant, cases[i].state);
        a.severity = cases[i].cur_sev;
        if (ses_alert_repeat_kind(NULL, &a, T("A01", cases[i].new_variant), cases[i].new_sev) !=
            cases[i].want)
            fail_msg("case %zu: %s/%s -> %s", i, cases[i].cur_variant, cases[i].state,
                     cases[i].new_variant);
    }
    /* another type: only a more urgent repeat counts */
    struct ses_alert a13 = alert_of("A13", "routine", "acked");
    a13.severity = SES_SEV_P2;
    assert_int_equal(ses_alert_repeat_kind(NULL, &a13, T("A13", "urgent"), SES_SEV_P1),
                     SES_REPEAT_UPGRADE);
    assert_int_equal(ses_alert_repeat_kind(NULL, &a13, T("A13", "routine"), SES_SEV_P2),
                     SES_REPEAT_COUNT);
    /* a site's shorter window makes a variant more urgent at the same severity */
    struct ses_config c;
    ses_config_defaults(&c);
    char err[128];
    assert_int_equal(ses_config_set(&c, "alert_window", "A13/routine 1m", NULL, err, sizeof err),
                     0);
    a13 = alert_of("A13", "urgent", "raised");
    a13.severity = SES_SEV_P1;
    assert_int_equal(ses_alert_repeat_kind(&c, &a13, T("A13", "routine"), SES_SEV_P2),
                     SES_REPEAT_COUNT); /* the severity decides first */
    a13.severity = SES_SEV_P2;
    snprintf(a13.variant, sizeof a13.variant, "routine");
    assert_int_equal(ses_alert_repeat_kind(&c, &a13, T("A13", "urgent"), SES_SEV_P2),
                     SES_REPEAT_COUNT); /* same severity, the urgent 4 h is longer than 1 min */
    assert_int_equal(ses_alert_repeat_kind(NULL, &a13, T("A13", "urgent"), SES_SEV_P2),
                     SES_REPEAT_UPGRADE); /* 4 h is shorter than the catalogue's 7 d */
}

static void chain_roles(void **state)
{
    (void)state;
    struct ses_config c;
    ses_config_defaults(&c);
    memcpy(c.on_duty_psychiatrist, U1, 16);
    memcpy(c.backups[0].user, U2, 16);
    memcpy(c.backups[0].backup, U3, 16);
    memcpy(c.backups[1].user, U3, 16);
    memcpy(c.backups[1].backup, U2, 16);
    c.n_backups = 2;
    struct ses_chain_roles r;
    ses_chain_roles_resolve(&c, NULL, &r); /* nothing stored: the config's */
    assert_memory_equal(r.on_duty, U1, 16);
    assert_false(ses_id_is_set(r.lead));
    assert_int_equal(r.n_backups, 2);
    struct ses_oncall db;
    memset(&db, 0, sizeof db);
    db.on_duty_set = true; /* cleared by an admin: overrides the config */
    db.lead_set = true;
    memcpy(db.lead, U2, 16);
    memcpy(db.backups[0].user, U2, 16); /* U2's backup cleared */
    db.backups[0].cleared = true;
    memcpy(db.backups[1].user, U1, 16); /* U1 gets U3 */
    memcpy(db.backups[1].backup, U3, 16);
    db.n_backups = 2;
    ses_chain_roles_resolve(&c, &db, &r);
    assert_false(ses_id_is_set(r.on_duty));
    assert_memory_equal(r.lead, U2, 16);
    assert_int_equal(r.n_backups, 2);
    assert_memory_equal(r.backups[0].user, U3, 16); /* the config's line for U3 stays */
    assert_memory_equal(r.backups[1].user, U1, 16);
    assert_memory_equal(r.backups[1].backup, U3, 16);
    /* re-notification of an exhausted alert: P0 15 min, P1 1 h, never below */
    assert_int_equal(ses_alert_renotify_ms(SES_SEV_P0), 15 * MIN);
    assert_int_equal(ses_alert_renotify_ms(SES_SEV_P1), 60 * MIN);
    assert_int_equal(ses_alert_renotify_ms(SES_SEV_P2), 0);
    assert_int_equal(ses_alert_renotify_ms(SES_SEV_INFO), 0);
}

static void overrides(void **state)
{
    (void)state;
    struct ses_config c;
    char err[256];
    ses_config_defaults(&c);
    assert_int_equal(ses_alert_window(&c, T("A01", "item9_2")), 30 * MIN);
    assert_int_equal(ses_config_set(&c, "alert_window", "A01 2h", NULL, err, sizeof err), 0);
    assert_int_equal(ses_config_set(&c, "alert_window", "A01/item9_2 20m", NULL, err, sizeof err),
                     0);
    assert_int_equal(ses_alert_window(&c, T("A01", "item9_2")), 20 * MIN);  /* the variant line */
    assert_int_equal(ses_alert_window(&c, T("A01", "item9_1")), 120 * MIN); /* the code line */
    assert_int_equal(ses_alert_window(&c, T("A06b", NULL)), 0);             /* INFO stays */
    assert_int_equal(
        ses_config_set(&c, "alert_chain", "A01 gp,psychiatrist+lead", NULL, err, sizeof err), 0);
    unsigned chain[SES_ALERT_CHAIN_MAX + 1];
    ses_alert_chain(&c, T("A01", "item9_2"), chain);
    assert_int_equal(chain[0], SES_PARTY_GP);
    assert_int_equal(chain[1], SES_PARTY_PSYCHIATRIST | SES_PARTY_LEAD);
    assert_int_equal(chain[2], 0);
    ses_alert_chain(&c, T("A04", NULL), chain);
    assert_int_equal(chain[0], SES_PARTY_PSYCHIATRIST);
    /* refusals name the option */
    assert_int_equal(ses_config_set(&c, "alert_window", "A99 2h", NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "alert_window"));
    assert_int_equal(ses_config_set(&c, "alert_window", "A01/x 2h", NULL, err, sizeof err), -1);
    assert_int_equal(ses_config_set(&c, "alert_window", "A01 2w", NULL, err, sizeof err), -1);
    assert_int_equal(ses_config_set(&c, "alert_window", "A01 0m", NULL, err, sizeof err), -1);
    assert_int_equal(ses_config_set(&c, "alert_window", "A01 90d", NULL, err, sizeof err), 0);
    assert_int_equal(ses_config_set(&c, "alert_window", "A01 91d", NULL, err, sizeof err), -1);
    assert_int_equal(ses_config_set(&c, "alert_window", "A01 129600m", NULL, err, sizeof err), 0);
    assert_int_equal(ses_config_set(&c, "alert_window", "A01 129601m", NULL, err, sizeof err), -1);
    /* a count whose milliseconds would overflow (found by fuzz_config) */
    assert_int_equal(
        ses_config_set(&c, "alert_window", "A01 9999999999999999d", NULL, err, sizeof err), -1);
    assert_int_equal(ses_config_set(&c, "alert_chain", "A01 gp,boss", NULL, err, sizeof err), -1);
    assert_int_equal(ses_config_set(&c, "alert_chain", "A01 gp,gp,gp,gp", NULL, err, sizeof err),
                     0);
    assert_int_equal(ses_config_set(&c, "alert_chain", "A01 gp,gp,gp,gp,gp", NULL, err, sizeof err),
                     -1);
    /* backup and user ids */
    char a[SES_ID_TEXT_LEN + 1], b[SES_ID_TEXT_LEN + 1], line[80];
    ses_id_to_text(a, U1);
    ses_id_to_text(b, U2);
    snprintf(line, sizeof line, "%s %s", a, b);
    assert_int_equal(ses_config_set(&c, "backup", line, NULL, err, sizeof err), 0);
    assert_int_equal(c.n_backups, 1);
    assert_memory_equal(c.backups[0].backup, U2, 16);
    snprintf(line, sizeof line, "%s %s", a, a);
    assert_int_equal(ses_config_set(&c, "backup", line, NULL, err, sizeof err), -1);
    /* the same id in another case is the same user (found by fuzz_config) */
    snprintf(line, sizeof line, "%s %s", a, a);
    for (char *p = line + SES_ID_TEXT_LEN + 1; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    assert_int_equal(ses_config_set(&c, "backup", line, NULL, err, sizeof err), -1);
    assert_int_equal(c.n_backups, 1);
    assert_int_equal(ses_config_set(&c, "backup", a, NULL, err, sizeof err), -1);
    snprintf(line, sizeof line, "%s %s x", a, b); /* a third word */
    assert_int_equal(ses_config_set(&c, "backup", line, NULL, err, sizeof err), -1);
    assert_int_equal(c.n_backups, 1);
    assert_int_equal(ses_config_set(&c, "program_lead", b, NULL, err, sizeof err), 0);
    assert_memory_equal(c.program_lead, U2, 16);
    assert_int_equal(ses_config_set(&c, "program_lead", "nobody", NULL, err, sizeof err), -1);
    /* the line limits */
    struct ses_config full;
    ses_config_defaults(&full);
    snprintf(line, sizeof line, "%s %s", a, b);
    for (int i = 0; i < SES_CONF_MAX_BACKUPS; i++)
        assert_int_equal(ses_config_set(&full, "backup", line, NULL, err, sizeof err), 0);
    assert_int_equal(ses_config_set(&full, "backup", line, NULL, err, sizeof err), -1);
    for (int i = 0; i < SES_CONF_MAX_OVERRIDES; i++)
        assert_int_equal(ses_config_set(&full, "alert_window", "A04 1d", NULL, err, sizeof err), 0);
    assert_int_equal(ses_config_set(&full, "alert_window", "A04 1d", NULL, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(catalogue),       cmocka_unit_test(raise_rules),
        cmocka_unit_test(lifecycle_rules), cmocka_unit_test(escalation_machine),
        cmocka_unit_test(time_rules),      cmocka_unit_test(overrides),
        cmocka_unit_test(chain_roles),     cmocka_unit_test(repeat_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
