/*
 * test_registry.c - the caseload registry's rows (protocol/registry.h) on constructed histories:
 * baseline, latest, change, band, trend and item 9 in date order (records entered out of order
 * too), the not-improving flag at 10 weeks on a plan, overdue contacts and reviews in each phase,
 * the "needs attention" order as an exact list, and the sparkline.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sesame/err.h"
#include "sesame/registry.h"

#define D0 20000 /* a day */

/* A PHQ-9 of total t (items 1..8 filled first, item 9 as given) on day. */
static struct ses_record phq9(int32_t day, int t, int item9)
{
    struct ses_record r;
    memset(&r, 0, sizeof r);
    r.kind = SES_RECORD_SCALES;
    r.day = day;
    r.has_phq9 = true;
    int left = t - item9;
    for (int i = 0; i < 8; i++) {
        int v = left > 3 ? 3 : left;
        r.phq9[i] = (uint8_t)v;
        left -= v;
    }
    r.phq9[8] = (uint8_t)item9;
    return r;
}

static struct ses_record plan(int32_t day)
{
    struct ses_record r;
    memset(&r, 0, sizeof r);
    r.kind = SES_RECORD_PLAN;
    r.day = day;
    r.antidepressant = true;
    return r;
}

static struct ses_registry_facts facts(const struct ses_record *recs, size_t n, int32_t today)
{
    return (struct ses_registry_facts){.records = recs,
                                       .n_records = n,
                                       .today = today,
                                       .enrolled_day = D0,
                                       .last_contact_day = today - 3,
                                       .last_review_day = D0 + 10,
                                       .first_review_day = D0 + 10,
                                       .next_review_day = -1};
}

static void figures_in_date_order(void **state)
{
    (void)state;
    /* entered out of date order: the first by date is the baseline */
    struct ses_record recs[] = {phq9(D0 + 14, 16, 0), phq9(D0, 20, 1), phq9(D0 + 28, 9, 0)};
    recs[2].has_gad7 = true;
    memset(recs[2].gad7, 1, sizeof recs[2].gad7);
    struct ses_registry_facts f = facts(recs, 3, D0 + 30);
    struct ses_registry_row r;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_true(r.has_phq9);
    assert_int_equal(r.phq9_baseline, 20);
    assert_int_equal(r.phq9_baseline_day, D0);
    assert_int_equal(r.phq9_latest, 9);
    assert_int_equal(r.phq9_latest_day, D0 + 28);
    assert_true(r.has_change);
    assert_int_equal(r.change.pct, 55);
    assert_true(r.change.response);
    assert_int_equal(r.phq9_band, SES_BAND_PHQ_MILD);
    assert_int_equal(r.n_trend, 3);
    assert_int_equal(r.trend[0], 20);
    assert_int_equal(r.trend[1], 16);
    assert_int_equal(r.trend[2], 9);
    assert_int_equal(r.item9, 0); /* the latest PHQ-9's */
    assert_int_equal(r.item9_day, D0 + 28);
    assert_true(r.has_gad7);
    assert_int_equal(r.gad7_latest, 7);
    assert_int_equal(r.weeks_in_care, 4);
    assert_int_equal(r.attention, SES_ATTN_REST);
    /* an unanswered item 9 on the latest PHQ-9 is reported as such */
    recs[2].phq9[8] = SES_ITEM_MISSING;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_int_equal(r.item9, SES_ITEM_MISSING);
}

static void not_improving_at_ten_weeks(void **state)
{
    (void)state;
    struct ses_record recs[8];
    size_t n = 0;
    recs[n++] = plan(D0);
    const int totals[] = {18, 18, 17, 16, 15};
    for (int i = 0; i < 5; i++) /* every two weeks, to week 8 */
        recs[n++] = phq9(D0 + 14 * i, totals[i], 0);
    recs[n++] = phq9(D0 + 70, 14, 0); /* 10 weeks on the plan, 22 % better */
    struct ses_registry_facts f = facts(recs, n, D0 + 71);
    struct ses_registry_row r;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_int_equal(r.weeks_on_plan, 10);
    assert_true(r.not_improving);
    assert_int_equal(r.attention, SES_ATTN_NOT_IMPROVING);
    /* at 50 % the patient has improved enough */
    recs[n - 1] = phq9(D0 + 70, 9, 0);
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_false(r.not_improving);
    /* at 9 weeks it is too early to say */
    recs[n - 1] = phq9(D0 + 63, 14, 0);
    f.today = D0 + 64;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_false(r.not_improving);
}

static void overdue_by_phase(void **state)
{
    (void)state;
    struct ses_record rec = phq9(D0 + 1, 12, 0);
    struct ses_registry_facts f = facts(&rec, 1, D0 + 60);
    struct ses_registry_row r;
    f.last_contact_day = D0 + 60 - 21; /* active: 21 days is not yet overdue, 22 is */
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_false(r.contact_overdue);
    f.last_contact_day--;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_true(r.contact_overdue);
    assert_int_equal(r.attention, SES_ATTN_OVERDUE);
    assert_int_equal(r.next_contact_day, f.last_contact_day + 14); /* the cadence proposes */
    f.relapse_prevention = true;                                   /* monthly: 44 days */
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_false(r.contact_overdue);
    assert_int_equal(r.next_contact_day, f.last_contact_day + 30);
    f.closed = true;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_int_equal(r.next_contact_day, -1);
    f.closed = false;
    f.last_contact_day = D0 + 60 - 45;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_true(r.contact_overdue);
    f.closed = true; /* an ended episode is never overdue */
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_false(r.contact_overdue);
    assert_false(r.review_overdue);
    f.closed = false;
    /* reviews: the next review date passed; a new patient after 28 days; 12 weeks after one */
    f = facts(&rec, 1, D0 + 60);
    f.next_review_day = D0 + 59;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_true(r.review_overdue);
    f.next_review_day = -1;
    f.last_review_day = -1;
    f.today = D0 + 28;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_false(r.review_overdue);
    f.today = D0 + 29;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_true(r.review_overdue);
    f.last_review_day = D0 + 10;
    f.today = D0 + 10 + 84;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_false(r.review_overdue);
    f.today++;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_true(r.review_overdue);
}

struct named {
    const char *name;
    struct ses_registry_row row;
};

static int cmp_named(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    return ses_registry_attention_cmp(&x->row, x->name, &y->row, y->name);
}

static void attention_order(void **state)
{
    (void)state;
    struct ses_record worse = phq9(D0 + 1, 22, 0), mild = phq9(D0 + 1, 7, 0);
    struct named list[6];
    const char *names[6] = {"rest", "overdue", "closed", "safety-b", "safety-a", "no-score"};
    for (int i = 0; i < 6; i++) {
        struct ses_registry_facts f =
            facts(i == 5 ? NULL : (i == 1 ? &worse : &mild), i == 5 ? 0 : 1, D0 + 10);
        if (i == 1)
            f.last_contact_day = D0 - 30;
        f.closed = i == 2;
        f.open_safety = i == 3 || i == 4;
        list[i].name = names[i];
        assert_int_equal(ses_registry_row(&f, &list[i].row), 0);
    }
    qsort(list, 6, sizeof list[0], cmp_named);
    const char *want[6] = {"safety-a", "safety-b", "overdue", "rest", "no-score", "closed"};
    for (int i = 0; i < 6; i++)
        assert_string_equal(list[i].name, want[i]);
    /* within a class, the higher latest PHQ-9 first */
    struct ses_registry_row a, b;
    struct ses_registry_facts fa = facts(&worse, 1, D0 + 2), fb = facts(&mild, 1, D0 + 2);
    assert_int_equal(ses_registry_row(&fa, &a), 0);
    assert_int_equal(ses_registry_row(&fb, &b), 0);
    assert_true(ses_registry_attention_cmp(&a, "z", &b, "a") < 0);
}

static void trend_and_sparkline(void **state)
{
    (void)state;
    struct ses_record recs[30];
    for (int i = 0; i < 30; i++)
        recs[i] = phq9(D0 + i, i % 28, 0);
    struct ses_registry_facts f = facts(recs, 30, D0 + 30);
    struct ses_registry_row r;
    assert_int_equal(ses_registry_row(&f, &r), 0);
    assert_int_equal(r.n_trend, SES_REGISTRY_TREND_MAX); /* the latest 26 */
    assert_int_equal(r.trend[0], 4);
    assert_int_equal(r.trend[SES_REGISTRY_TREND_MAX - 1], 1);
    r.n_trend = 3;
    r.trend[0] = 0;
    r.trend[1] = 27;
    r.trend[2] = 14;
    char spark[16];
    ses_registry_sparkline(&r, spark, sizeof spark);
    assert_string_equal(spark, "\u2581\u2588\u2585");
    ses_registry_sparkline(&r, spark, 7); /* room for two */
    assert_string_equal(spark, "\u2581\u2588");
}

static void indicators(void **state)
{
    (void)state;
    const int32_t to = D0 + 200;
    struct ses_record a[] = {phq9(D0, 20, 0), phq9(D0 + 14, 18, 0), phq9(D0 + 70, 18, 0),
                             plan(D0 + 80), phq9(D0 + 180, 8, 0)};
    struct ses_record b[] = {phq9(D0 + 5, 12, 0), phq9(D0 + 40, 11, 0), phq9(D0 + 190, 4, 0)};
    struct ses_indicator_patient ps[4];
    memset(ps, 0, sizeof ps);
    ps[0].facts = facts(a, 5, to); /* reviewed at day 75, a contact 5 days ago */
    ps[0].facts.last_review_day = D0 + 75;
    ps[0].facts.last_contact_day = D0 + 195;
    ps[0].contacts = 5;
    ps[1].facts = facts(b, 3, to); /* never reviewed, no contact for 80 days */
    ps[1].facts.enrolled_day = D0 + 5;
    ps[1].facts.last_review_day = ps[1].facts.first_review_day = -1;
    ps[1].facts.last_contact_day = D0 + 120;
    ps[1].contacts = 2;
    ps[2].facts = facts(NULL, 0, to); /* enrolled 50 days ago, nothing yet */
    ps[2].facts.enrolled_day = D0 + 150;
    ps[2].facts.last_contact_day = -1;
    ps[2].facts.first_review_day = -1;
    ps[3].facts = facts(a, 5, to); /* closed, enrolled before the window */
    ps[3].facts.enrolled_day = D0 - 100;
    ps[3].facts.closed = true;
    struct ses_indicator q[SES_INDICATORS];
    const struct ses_session_use held[] = {{7, 6}, {7, 7}, {1, 0}};
    assert_int_equal(ses_registry_indicators(ps, 4, held, 3, D0 - 10, to, q), 0);
    /* num/den of each, -1/-1 for one that is not available */
    const int want[SES_INDICATORS][2] = {{1, 2}, {1, 3}, {1, 3}, {2, 2}, {1, 1},
                                         {1, 1}, {1, 2}, {2, 2}, {1, 2}, {1, 3},
                                         {0, 0}, {1, 3}, {0, 1}, {3, 1}, {13, 15}};
    for (int k = 0; k < SES_INDICATORS; k++) {
        char code[8];
        snprintf(code, sizeof code, "Q%d", k + 1);
        assert_string_equal(q[k].code, code);
        if (want[k][0] < 0) {
            assert_false(q[k].available);
            assert_non_null(q[k].why_not);
            continue;
        }
        assert_true(q[k].available);
        if (q[k].num != want[k][0] || q[k].den != want[k][1])
            fail_msg("%s: %d/%d, want %d/%d", code, q[k].num, q[k].den, want[k][0], want[k][1]);
    }
    /* Q13 counts only those enrolled by the window's end: the day before the closed patient's
     * enrolment, nobody; that day, the closed patient */
    int32_t e3 = ps[3].facts.enrolled_day;
    assert_int_equal(ses_registry_indicators(ps, 4, NULL, 0, e3 - 30, e3 - 1, q), 0);
    assert_int_equal(q[12].den, 0);
    assert_int_equal(ses_registry_indicators(ps, 4, NULL, 0, e3 - 30, e3, q), 0);
    assert_int_equal(q[12].den, 1);
    assert_int_equal(ses_registry_indicators(ps, 4, NULL, 0, to, D0, q), SES_EINVALID_ARG);
    assert_int_equal(ses_registry_indicators(NULL, 1, NULL, 0, D0, to, q), SES_EINVALID_ARG);
    assert_int_equal(ses_registry_indicators(ps, 1, NULL, 2, D0, to, q), SES_EINVALID_ARG);
    assert_int_equal(ses_registry_indicators(NULL, 0, NULL, 0, D0, to, q), 0);
    assert_int_equal(q[1].den, 0);
}

/* Q11: implemented of the recommendations sent in the window, the median hours to
 * acknowledgement; superseded versions and those outside the window do not count. */
static void q11(void **state)
{
    (void)state;
    const int64_t h = 3600000LL, t0 = (int64_t)D0 * 86400000LL;
    const struct ses_rec_use recs[] = {
        {t0, t0 + 10 * h, t0 + 30 * h, false},                      /* implemented, acked in 10 h */
        {t0 + 2 * h, t0 + 40 * h, 0, false},                        /* acked in 38 h */
        {t0 + 3 * h, 0, 0, false},                                  /* never acked */
        {t0 + 4 * h, t0 + 5 * h, t0 + 6 * h, true},                 /* superseded */
        {t0 + 20 * 86400000LL, t0 + 20 * 86400000LL + h, 1, false}, /* after the window */
        {t0 + 5 * h, t0 + 25 * h, t0 + 50 * h, false},              /* implemented, acked in 20 h */
    };
    struct ses_indicator q;
    assert_int_equal(ses_registry_q11(recs, 6, D0, D0 + 10, &q), 0);
    assert_string_equal(q.code, "Q11");
    assert_true(q.available);
    assert_int_equal(q.num, 2);
    assert_int_equal(q.den, 4);
    assert_int_equal(q.median_hours, 20); /* of 10, 20, 38 */
    assert_int_equal(ses_registry_q11(recs, 2, D0, D0 + 10, &q), 0);
    assert_int_equal(q.median_hours, 24); /* of 10 and 38 */
    assert_int_equal(ses_registry_q11(NULL, 0, D0, D0, &q), 0);
    assert_int_equal(q.den, 0);
    assert_int_equal(q.median_hours, -1);
    assert_int_equal(ses_registry_q11(NULL, 1, D0, D0, &q), SES_EINVALID_ARG);
    assert_int_equal(ses_registry_q11(recs, 1, D0 + 1, D0, &q), SES_EINVALID_ARG);
}

static void bad_input(void **state)
{
    (void)state;
    struct ses_registry_row r;
    assert_int_equal(ses_registry_row(NULL, &r), SES_EINVALID_ARG);
    struct ses_registry_facts f = facts(NULL, 2, D0);
    assert_int_equal(ses_registry_row(&f, &r), SES_EINVALID_ARG);
    struct ses_record bad = phq9(D0, 5, 0);
    bad.phq9[0] = 9; /* out of range */
    f = facts(&bad, 1, D0);
    assert_int_equal(ses_registry_row(&f, &r), SES_EBAD_SCALE);
    assert_false(r.has_phq9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(figures_in_date_order),
        cmocka_unit_test(not_improving_at_ten_weeks),
        cmocka_unit_test(overdue_by_phase),
        cmocka_unit_test(attention_order),
        cmocka_unit_test(trend_and_sparkline),
        cmocka_unit_test(indicators),
        cmocka_unit_test(q11),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
