/*
 * test_agenda.c - the case-review queue and agenda builder (agenda.h) on constructed queues, each
 * against an exact expected agenda: tier order, due dates within a tier, the score and enrolment
 * tie-breaks, aging (deferred twice, about to miss a due date, the 12-week rule), capacity with
 * new patients counting double, a cancelled session; and the reasons facts give.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "agenda.h"

#define DAY (86400LL * 1000)
#define WEEK (7 * DAY)
#define T0 (1800000000000LL) /* a session's start */

static const struct ses_agenda_params weekly = {
    .session_ms = T0, .next_ms = T0 + WEEK, .minutes = 480, .minutes_per_case = 8};

/* An entry with one reason, due at due (far from the session unless said), thread id = tag. */
static struct ses_review_entry entry(int tag, enum ses_review_reason r, int64_t due)
{
    struct ses_review_entry e;
    memset(&e, 0, sizeof e);
    e.thread[0] = (uint8_t)tag;
    e.reasons = 1u << r;
    e.due_ms[r] = due;
    e.trigger_ms[r] = T0 - DAY;
    e.enrolled_ms = T0 - 4 * WEEK;
    e.last_review_ms = r == SES_RR_NEW ? 0 : T0 - 2 * WEEK;
    return e;
}

/* The agenda's thread tags in order, "+" after the last one within capacity: "3 1 2+ 4". */
static void order_of(const struct ses_agenda *a, const struct ses_review_entry *es, char *out,
                     size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < a->n; i++) {
        bool last_in = a->rows[i].in && (i + 1 == a->n || !a->rows[i + 1].in);
        n += (size_t)snprintf(out + n, cap - n, "%s%d%s", i ? " " : "",
                              es[a->rows[i].entry].thread[0], last_in ? "+" : "");
    }
}

static struct ses_agenda agenda; /* large: not on the stack */

#define EXPECT_ORDER(es, n, params, want)                                                          \
    do {                                                                                           \
        char got[256];                                                                             \
        assert_int_equal(ses_agenda_build(es, n, params, &agenda), 0);                             \
        order_of(&agenda, es, got, sizeof got);                                                    \
        assert_string_equal(got, want);                                                            \
    } while (0)

static void tiers_in_order(void **state)
{
    (void)state;
    int64_t far = T0 + 10 * WEEK;
    struct ses_review_entry es[] = {
        entry(6, SES_RR_AGING, far),    entry(4, SES_RR_REQUEST, far), entry(2, SES_RR_NEW, far),
        entry(5, SES_RR_DECISION, far), entry(1, SES_RR_SAFETY, T0),   entry(3, SES_RR_SEVERE, far),
    };
    EXPECT_ORDER(es, 6, &weekly, "1 2 3 4 5 6+");
    assert_int_equal(agenda.slots, 60);
    assert_int_equal(agenda.used, 7); /* the new patient takes two */
    assert_int_equal(agenda.rows[1].units, 2);
    for (size_t i = 0; i < agenda.n; i++) {
        assert_int_equal(agenda.rows[i].tier, (int)i + 1);
        assert_int_equal(agenda.rows[i].position, (int)i + 1);
        assert_int_equal(agenda.rows[i].promoted, SES_PROMO_NONE);
    }
}

static void due_then_score_then_enrolment(void **state)
{
    (void)state;
    struct ses_review_entry es[] = {
        entry(1, SES_RR_REQUEST, T0 + 3 * DAY), entry(2, SES_RR_REQUEST, T0 + 1 * DAY),
        entry(3, SES_RR_REQUEST, T0 + 2 * DAY), entry(4, SES_RR_REQUEST, T0 + 2 * DAY),
        entry(5, SES_RR_REQUEST, T0 + 2 * DAY), entry(6, SES_RR_REQUEST, T0 + 2 * DAY),
    };
    es[4].score = 9;           /* a higher score first among the same due date */
    es[3].enrolled_ms -= WEEK; /* then the earlier enrolment */
    /* then the thread id: 3 before 6 */
    EXPECT_ORDER(es, 6, &weekly, "2 5 4 3 6 1+");
}

static void aging(void **state)
{
    (void)state;
    int64_t far = T0 + 10 * WEEK;
    struct ses_review_entry es[] = {entry(1, SES_RR_AGING, far), entry(2, SES_RR_DECISION, far),
                                    entry(3, SES_RR_NEW, far), entry(4, SES_RR_AGING, far)};
    es[0].deferrals = 2; /* T6 -> T5, where its earlier due date puts it before the decision */
    es[0].due_ms[SES_RR_AGING] = far - DAY;
    es[2].deferrals = 2; /* T2 -> T1 */
    EXPECT_ORDER(es, 4, &weekly, "3 1 2 4+");
    assert_int_equal(agenda.rows[0].tier, SES_T1);
    assert_int_equal(agenda.rows[0].base_tier, SES_T2);
    assert_int_equal(agenda.rows[0].promoted, SES_PROMO_DEFERRED);
    assert_int_equal(agenda.rows[1].tier, SES_T5);
    assert_string_equal(ses_promotion_name(agenda.rows[1].promoted), "deferred_twice");
    /* deferred twice never goes above T1 */
    struct ses_review_entry safety = entry(9, SES_RR_SAFETY, T0);
    safety.deferrals = 5;
    assert_int_equal(ses_agenda_build(&safety, 1, &weekly, &agenda), 0);
    assert_int_equal(agenda.rows[0].tier, SES_T1);
    assert_int_equal(agenda.rows[0].promoted, SES_PROMO_NONE);
}

static void about_to_miss_its_due_date(void **state)
{
    (void)state;
    int64_t far = T0 + 10 * WEEK;
    /* a new patient due before the next session goes ahead of a safety follow-up's later peers,
     * a concern due after the next session waits its tier; a request (a soft due date) waits */
    struct ses_review_entry es[] = {entry(1, SES_RR_SEVERE, T0 + 9 * DAY),
                                    entry(2, SES_RR_NEW, T0 + 5 * DAY), entry(3, SES_RR_SAFETY, T0),
                                    entry(4, SES_RR_REQUEST, T0 + DAY),
                                    entry(5, SES_RR_AGING, far)};
    EXPECT_ORDER(es, 5, &weekly, "3 2 1 4 5+");
    assert_int_equal(agenda.rows[1].promoted, SES_PROMO_DUE);
    assert_string_equal(ses_promotion_name(SES_PROMO_DUE), "due_before_next_session");
    assert_int_equal(agenda.rows[2].tier, SES_T3);
    assert_int_equal(agenda.rows[3].tier, SES_T4);
}

static void twelve_week_rule(void **state)
{
    (void)state;
    int64_t far = T0 + 10 * WEEK;
    struct ses_review_entry es[] = {entry(1, SES_RR_REQUEST, T0 + DAY),
                                    entry(2, SES_RR_AGING, far)};
    es[1].last_review_ms = T0 - 11 * WEEK - 3 * DAY; /* 12 weeks before the next session */
    EXPECT_ORDER(es, 2, &weekly, "2 1+");
    assert_int_equal(agenda.rows[0].promoted, SES_PROMO_12_WEEKS);
    assert_string_equal(ses_promotion_name(SES_PROMO_12_WEEKS), "twelve_weeks");
    es[1].last_review_ms = T0 - 10 * WEEK; /* 11 weeks at the next session: not yet */
    EXPECT_ORDER(es, 2, &weekly, "1 2+");
}

static void capacity_new_patients_double(void **state)
{
    (void)state;
    int64_t far = T0 + 10 * WEEK;
    struct ses_agenda_params p = weekly;
    p.minutes = 47; /* 5 slots of 8 minutes */
    struct ses_review_entry es[] = {entry(1, SES_RR_NEW, far), entry(2, SES_RR_NEW, far + DAY),
                                    entry(3, SES_RR_NEW, far + 2 * DAY),
                                    entry(4, SES_RR_REQUEST, far)};
    /* 2 + 2 = 4; the third new patient needs 2 of the 1 left: the agenda closes there, and the
     * request behind it does not jump it */
    EXPECT_ORDER(es, 4, &p, "1 2+ 3 4");
    assert_int_equal(agenda.slots, 5);
    assert_int_equal(agenda.used, 4);
    assert_false(ses_agenda_overflows(&agenda)); /* the new ones are due in ten weeks */
    /* urgent ones left out: overflow */
    p.minutes = 8;
    struct ses_review_entry urgent[] = {entry(1, SES_RR_SAFETY, T0), entry(2, SES_RR_SAFETY, T0),
                                        entry(3, SES_RR_SEVERE, T0 + 3 * DAY)};
    EXPECT_ORDER(urgent, 3, &p, "1+ 2 3");
    assert_int_equal(agenda.overflow_urgent, 2);
    assert_true(ses_agenda_overflows(&agenda));
    /* minutes per case */
    p.minutes = 60;
    p.minutes_per_case = 10;
    assert_int_equal(ses_agenda_build(urgent, 3, &p, &agenda), 0);
    assert_int_equal(agenda.slots, 6);
    p.minutes = 0;
    EXPECT_ORDER(urgent, 3, &p, "1 2 3");
}

static void deferrals_and_cancellation(void **state)
{
    (void)state;
    struct ses_agenda_params p = weekly;
    p.minutes = 16; /* 2 slots */
    struct ses_review_entry es[] = {entry(1, SES_RR_REQUEST, T0 + DAY),
                                    entry(2, SES_RR_REQUEST, T0 + 2 * DAY),
                                    entry(3, SES_RR_REQUEST, T0 + 3 * DAY)};
    EXPECT_ORDER(es, 3, &p, "1 2+ 3");
    assert_false(ses_agenda_deferred(&agenda, 0, false));
    assert_false(ses_agenda_deferred(&agenda, 1, false));
    assert_true(ses_agenda_deferred(&agenda, 2, false)); /* held: left over, one deferral */
    assert_false(ses_agenda_deferred(&agenda, 2, true)); /* cancelled: rolls, none counted */
    assert_false(ses_agenda_deferred(&agenda, 7, false));
    /* the next week, two deferrals later, 3 is promoted above the requests (T4 -> T3) */
    es[2].deferrals = 2;
    p.session_ms = T0 + WEEK;
    p.next_ms = T0 + 2 * WEEK;
    EXPECT_ORDER(es, 3, &p, "3 1+ 2");
}

static void missed_due_counted(void **state)
{
    (void)state;
    struct ses_review_entry es[] = {entry(1, SES_RR_NEW, T0 - DAY),
                                    entry(2, SES_RR_REQUEST, T0 + DAY)};
    assert_int_equal(ses_agenda_build(es, 2, &weekly, &agenda), 0);
    assert_int_equal(agenda.missed_due, 1);
}

/* --- the reasons of facts ------------------------------------------------------------------- */

static const uint8_t TH[16] = {7};

static void reasons_of_facts(void **state)
{
    (void)state;
    struct ses_review_entry e;
    struct ses_review_facts f = {.enrolled_ms = T0 - 10 * DAY, .active = true};
    /* a new patient: due at enrolment + 28 days; score: weeks since enrolment */
    assert_true(ses_review_entry_of(&f, TH, T0, T0 + WEEK, &e));
    assert_int_equal(e.reasons, 1u << SES_RR_NEW);
    assert_int_equal(e.due_ms[SES_RR_NEW], T0 + 18 * DAY);
    assert_int_equal(e.score, 1);
    assert_memory_equal(e.thread, TH, 16);
    /* a closed episode leaves the queue */
    f.active = false;
    assert_false(ses_review_entry_of(&f, TH, T0, T0 + WEEK, &e));
    /* reviewed two weeks ago, nothing else: not on the queue */
    f = (struct ses_review_facts){
        .enrolled_ms = T0 - 20 * WEEK, .last_review_ms = T0 - 2 * WEEK, .active = true};
    assert_false(ses_review_entry_of(&f, TH, T0, T0 + WEEK, &e));
    /* every reason at once, each with its due date */
    f.safety_ms = T0 - DAY;
    f.not_improving_ms = T0 - 2 * DAY;
    f.worsening_ms = T0 - 3 * DAY;
    f.severe_ms = T0 - 4 * DAY;
    f.relapse_ms = T0 - 5 * DAY;
    f.request_ms = T0 - 6 * DAY;
    f.declined_ms = T0 - 2 * DAY;
    f.sequence_due_ms = T0 + 3 * WEEK;
    f.deferrals = 1;
    assert_true(ses_review_entry_of(&f, TH, T0, T0 + WEEK, &e));
    assert_int_equal(e.reasons, (1u << SES_RR_AGING) - 1 - (1u << SES_RR_NEW));
    assert_int_equal(e.due_ms[SES_RR_SAFETY], T0);
    assert_int_equal(e.due_ms[SES_RR_NOT_IMPROVING], T0 + 12 * DAY);
    assert_int_equal(e.due_ms[SES_RR_RELAPSE], T0 + 9 * DAY);
    assert_int_equal(e.due_ms[SES_RR_REQUEST], T0 + DAY);
    assert_int_equal(e.due_ms[SES_RR_DECLINED], T0 + 5 * DAY);
    assert_int_equal(ses_review_reason_tier(SES_RR_DECLINED), SES_T4);
    assert_string_equal(ses_review_reason_name(SES_RR_DECLINED), "declined");
    assert_int_equal(e.due_ms[SES_RR_DECISION], T0 + 2 * WEEK);
    assert_int_equal(e.score, 4 + 3 + 2 + 2 + 2);
    /* a sequence end more than three weeks away is not yet a decision point */
    f.sequence_due_ms = T0 + 3 * WEEK + DAY;
    assert_true(ses_review_entry_of(&f, TH, T0, T0 + WEEK, &e));
    assert_false(e.reasons & (1u << SES_RR_DECISION));
}

static void aging_facts(void **state)
{
    (void)state;
    struct ses_review_entry e;
    struct ses_review_facts f = {
        .enrolled_ms = T0 - 30 * WEEK, .last_review_ms = T0 - 7 * WEEK, .active = true};
    /* eight weeks after the last review falls before the next session: aging, due then */
    assert_true(ses_review_entry_of(&f, TH, T0, T0 + WEEK, &e));
    assert_int_equal(e.reasons, 1u << SES_RR_AGING);
    assert_int_equal(e.due_ms[SES_RR_AGING], T0 + WEEK);
    /* the next review date the outcome set comes first */
    f.next_review_ms = T0 + 3 * WEEK;
    assert_false(ses_review_entry_of(&f, TH, T0, T0 + WEEK, &e));
    f.next_review_ms = T0 + 3 * DAY;
    assert_true(ses_review_entry_of(&f, TH, T0, T0 + WEEK, &e));
    assert_int_equal(e.due_ms[SES_RR_AGING], T0 + 3 * DAY);
    /* a next review beyond twelve weeks is held to the 12-week limit */
    f.last_review_ms = T0 - 11 * WEEK;
    f.next_review_ms = T0 + 10 * WEEK;
    assert_true(ses_review_entry_of(&f, TH, T0, T0 + WEEK, &e));
    assert_int_equal(e.due_ms[SES_RR_AGING], T0 + WEEK);
    /* no next session planned: a week later is assumed */
    f.last_review_ms = T0 - 7 * WEEK;
    f.next_review_ms = 0;
    assert_true(ses_review_entry_of(&f, TH, T0, 0, &e));
}

static void names(void **state)
{
    (void)state;
    assert_string_equal(ses_review_reason_name(SES_RR_NOT_IMPROVING), "not_improving");
    assert_string_equal(ses_review_reason_name(SES_RR_COUNT), "?");
    assert_int_equal(ses_review_reason_tier(SES_RR_DECISION), SES_T5);
    assert_null(ses_promotion_name(SES_PROMO_NONE));
    for (int r = 0; r < SES_RR_COUNT; r++)
        assert_string_not_equal(ses_review_reason_name((enum ses_review_reason)r), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tiers_in_order),
        cmocka_unit_test(due_then_score_then_enrolment),
        cmocka_unit_test(aging),
        cmocka_unit_test(about_to_miss_its_due_date),
        cmocka_unit_test(twelve_week_rule),
        cmocka_unit_test(capacity_new_patients_double),
        cmocka_unit_test(deferrals_and_cancellation),
        cmocka_unit_test(missed_due_counted),
        cmocka_unit_test(reasons_of_facts),
        cmocka_unit_test(aging_facts),
        cmocka_unit_test(names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
