/*
 * bizcal.h - a site's business calendar (opening hours, working weekdays, public holidays) and
 * deadlines counted in business time, for the recommendation loop's urgent deadline (one business
 * day, PROTOCOL.md §16). Pure but for the time zone: local dates come from localtime_r/mktime in
 * the daemon's TZ, like the case-review sessions.
 */
#ifndef SESAME_BIZCAL_H
#define SESAME_BIZCAL_H

#include <stdbool.h>
#include <stdint.h>

#define SES_BIZ_HOLIDAYS_MAX 64 /* `holiday` lines */
#define SES_BIZ_SCAN_DAYS 800   /* days a deadline search looks ahead before giving up */

struct ses_bizcal {
    int open_min, close_min; /* minutes after local midnight, open < close; default 08:00-18:00 */
    unsigned weekdays;       /* bit d (1 = Monday .. 7 = Sunday) set on working days */
    int n_holidays;
    int32_t holidays[SES_BIZ_HOLIDAYS_MAX]; /* days since 1970-01-01 of the local calendar */
};

/* Monday to Friday, 08:00-18:00, no holidays. */
void ses_bizcal_defaults(struct ses_bizcal *c);

/* Parsers for the config lines: "HH:MM-HH:MM", ISO weekday digits ("12345"), "YYYY-MM-DD" (added;
 * SES_BIZ_HOLIDAYS_MAX at most). Each returns 0 or -1 (c unchanged). */
int ses_bizcal_set_hours(struct ses_bizcal *c, const char *v);
int ses_bizcal_set_days(struct ses_bizcal *c, const char *v);
int ses_bizcal_add_holiday(struct ses_bizcal *c, const char *v);

/* The length of one business day (ms). */
int64_t ses_bizcal_day_ms(const struct ses_bizcal *c);

/* Whether the local date day is a working day (its weekday is set and it is no holiday). */
bool ses_bizcal_is_workday(const struct ses_bizcal *c, int32_t day);

/* The moment business_ms of business time after start_ms (only the open hours of working days
 * count). With no working day at all, or none within SES_BIZ_SCAN_DAYS, plain time is added. */
int64_t ses_bizcal_add(const struct ses_bizcal *c, int64_t start_ms, int64_t business_ms);

#endif
