/*
 * test_bizcal.c - business-time deadlines across an evening, a weekend, a public holiday and a
 * change of summer time, in the Europe/Paris time zone, and the calendar's config parsers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "sesame/scales.h"

#include "bizcal.h"

#define HOUR_MS 3600000LL

/* The moment of a Paris local time "YYYY-MM-DD HH:MM". */
static int64_t at(const char *s)
{
    struct tm tm = {.tm_isdst = -1};
    assert_non_null(strptime(s, "%Y-%m-%d %H:%M", &tm));
    return (int64_t)mktime(&tm) * 1000;
}

static int setup(void **state)
{
    (void)state;
    setenv("TZ", "Europe/Paris", 1);
    tzset();
    return 0;
}

static void test_one_business_day(void **state)
{
    (void)state;
    struct ses_bizcal c;
    ses_bizcal_defaults(&c);
    int64_t day = ses_bizcal_day_ms(&c);
    assert_int_equal(day, 10 * HOUR_MS);
    /* Tuesday afternoon: Wednesday, same time */
    assert_int_equal(ses_bizcal_add(&c, at("2026-12-01 14:30"), day), at("2026-12-02 14:30"));
    /* Friday 16:00: 2 h on Friday, 8 h on Monday */
    assert_int_equal(ses_bizcal_add(&c, at("2026-12-04 16:00"), day), at("2026-12-07 16:00"));
    /* Saturday: the whole of Monday */
    assert_int_equal(ses_bizcal_add(&c, at("2026-12-05 10:00"), day), at("2026-12-07 18:00"));
    /* before opening: that day's closing */
    assert_int_equal(ses_bizcal_add(&c, at("2026-12-03 07:00"), day), at("2026-12-03 18:00"));
    /* after closing: the next day's closing */
    assert_int_equal(ses_bizcal_add(&c, at("2026-12-03 19:00"), day), at("2026-12-04 18:00"));
    /* exactly at closing on Friday: Monday's closing */
    assert_int_equal(ses_bizcal_add(&c, at("2026-12-04 18:00"), day), at("2026-12-07 18:00"));
    /* twice the deadline */
    assert_int_equal(ses_bizcal_add(&c, at("2026-12-04 16:00"), 2 * day), at("2026-12-08 16:00"));
}

static void test_holidays(void **state)
{
    (void)state;
    struct ses_bizcal c;
    ses_bizcal_defaults(&c);
    assert_int_equal(ses_bizcal_add_holiday(&c, "2026-12-25"), 0);
    assert_int_equal(ses_bizcal_add_holiday(&c, "2027-01-01"), 0);
    int64_t day = ses_bizcal_day_ms(&c);
    /* Thursday 24 December 16:00: Friday is Christmas, then the weekend: Monday 28th 16:00 */
    assert_int_equal(ses_bizcal_add(&c, at("2026-12-24 16:00"), day), at("2026-12-28 16:00"));
    /* Thursday 31 December 17:00: New Year's Day, the weekend: Monday 4 January 17:00 */
    assert_int_equal(ses_bizcal_add(&c, at("2026-12-31 17:00"), day), at("2027-01-04 17:00"));
    int32_t xmas;
    assert_int_equal(ses_day_parse("2026-12-25", &xmas), 0);
    assert_false(ses_bizcal_is_workday(&c, xmas));
    assert_true(ses_bizcal_is_workday(&c, xmas - 1));  /* Thursday */
    assert_false(ses_bizcal_is_workday(&c, xmas + 1)); /* Saturday */
}

static void test_summer_time(void **state)
{
    (void)state;
    struct ses_bizcal c;
    ses_bizcal_defaults(&c);
    /* Friday 26 March 2027 17:00; the clocks go forward on Sunday the 28th: Monday 17:00 local */
    assert_int_equal(ses_bizcal_add(&c, at("2027-03-26 17:00"), ses_bizcal_day_ms(&c)),
                     at("2027-03-29 17:00"));
}

static void test_site_calendar(void **state)
{
    (void)state;
    struct ses_bizcal c;
    ses_bizcal_defaults(&c);
    assert_int_equal(ses_bizcal_set_hours(&c, "09:00-12:30"), 0);
    assert_int_equal(ses_bizcal_set_days(&c, "1246"), 0); /* Mon, Tue, Thu, Sat */
    int64_t day = ses_bizcal_day_ms(&c);
    assert_int_equal(day, 210 * 60000LL);
    /* Tuesday 12:00: 30 min on Tuesday, the rest on Thursday (Wednesday is closed) */
    assert_int_equal(ses_bizcal_add(&c, at("2026-12-01 12:00"), day), at("2026-12-03 12:00"));
    /* refused values leave the calendar as it was */
    assert_int_equal(ses_bizcal_set_hours(&c, "12:00-09:00"), -1);
    assert_int_equal(ses_bizcal_set_hours(&c, "9:00-12:00"), -1);
    assert_int_equal(ses_bizcal_set_hours(&c, "09:00-24:00"), -1);
    assert_int_equal(ses_bizcal_set_days(&c, "118"), -1);
    assert_int_equal(ses_bizcal_set_days(&c, "11"), -1);
    assert_int_equal(ses_bizcal_set_days(&c, ""), -1);
    assert_int_equal(c.open_min, 9 * 60);
    assert_int_equal(c.weekdays, (1u << 1) | (1u << 2) | (1u << 4) | (1u << 6));
    for (int i = 0; i < SES_BIZ_HOLIDAYS_MAX; i++)
        assert_int_equal(ses_bizcal_add_holiday(&c, "2027-05-01"), 0);
    assert_int_equal(ses_bizcal_add_holiday(&c, "2027-05-08"), -1); /* one too many */
    assert_int_equal(ses_bizcal_add_holiday(&c, "2027-02-30"), -1);
    /* no working day at all: plain time */
    c.weekdays = 0;
    assert_int_equal(ses_bizcal_add(&c, 1000, day), 1000 + day);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_business_day),
        cmocka_unit_test(test_holidays),
        cmocka_unit_test(test_summer_time),
        cmocka_unit_test(test_site_calendar),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
