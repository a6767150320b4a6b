/*
 * bizcal.c - business calendar and business-time deadlines. See bizcal.h.
 */
#include <string.h>
#include <time.h>

#include "sesame/scales.h"

#include "bizcal.h"

#define MIN_MS 60000LL
#define DAY_MS 86400000LL

void ses_bizcal_defaults(struct ses_bizcal *c)
{
    memset(c, 0, sizeof *c);
    c->open_min = 8 * 60;
    c->close_min = 18 * 60;
    c->weekdays = 0x3E; /* Monday (bit 1) .. Friday (bit 5) */
}

int ses_bizcal_set_hours(struct ses_bizcal *c, const char *v)
{
    char a[6], b[6];
    if (strlen(v) != 11 || v[5] != '-')
        return -1;
    memcpy(a, v, 5);
    a[5] = '\0';
    memcpy(b, v + 6, 5);
    b[5] = '\0';
    int open = ses_time_of_day_parse(a), close = ses_time_of_day_parse(b);
    if (open < 0 || close < 0 || open >= close)
        return -1;
    c->open_min = open;
    c->close_min = close;
    return 0;
}

int ses_bizcal_set_days(struct ses_bizcal *c, const char *v)
{
    unsigned days = 0;
    if (*v == '\0')
        return -1;
    for (; *v; v++) {
        if (*v < '1' || *v > '7' || (days & (1u << (*v - '0'))))
            return -1;
        days |= 1u << (*v - '0');
    }
    c->weekdays = days;
    return 0;
}

int ses_bizcal_add_holiday(struct ses_bizcal *c, const char *v)
{
    int32_t day;
    if (c->n_holidays >= SES_BIZ_HOLIDAYS_MAX || ses_day_parse(v, &day) != 0)
        return -1;
    c->holidays[c->n_holidays++] = day;
    return 0;
}

int64_t ses_bizcal_day_ms(const struct ses_bizcal *c)
{
    return (int64_t)(c->close_min - c->open_min) * MIN_MS;
}

bool ses_bizcal_is_workday(const struct ses_bizcal *c, int32_t day)
{
    int iso = (int)(((day % 7) + 7 + 3) % 7) + 1; /* 1970-01-01 was a Thursday (4) */
    if (!(c->weekdays & (1u << iso)))
        return false;
    for (int i = 0; i < c->n_holidays; i++)
        if (c->holidays[i] == day)
            return false;
    return true;
}

/* The local date (days since 1970-01-01 of the local calendar) of t, and its midnight. */
static int32_t local_day(int64_t t_ms, struct tm *tm)
{
    time_t t = (time_t)(t_ms / 1000);
    localtime_r(&t, tm);
    /* days_from_civil of the local date, through timegm of a UTC midnight */
    struct tm u = {.tm_year = tm->tm_year, .tm_mon = tm->tm_mon, .tm_mday = tm->tm_mday};
    return (int32_t)(timegm(&u) / 86400);
}

/* The moment of minute on the local date of tm plus add_days (DST-aware through mktime). */
static int64_t local_at(const struct tm *tm, int add_days, int minute)
{
    struct tm x = {.tm_year = tm->tm_year,
                   .tm_mon = tm->tm_mon,
                   .tm_mday = tm->tm_mday + add_days,
                   .tm_hour = minute / 60,
                   .tm_min = minute % 60,
                   .tm_isdst = -1};
    return (int64_t)mktime(&x) * 1000;
}

int64_t ses_bizcal_add(const struct ses_bizcal *c, int64_t start_ms, int64_t business_ms)
{
    int64_t t = start_ms, left = business_ms;
    if ((c->weekdays & 0xFE) == 0 || left <= 0)
        return start_ms + (left > 0 ? left : 0);
    for (int i = 0; i < SES_BIZ_SCAN_DAYS; i++) {
        struct tm tm;
        int32_t day = local_day(t, &tm);
        if (ses_bizcal_is_workday(c, day)) {
            int64_t open = local_at(&tm, 0, c->open_min), close = local_at(&tm, 0, c->close_min);
            if (t < open)
                t = open;
            if (t < close) {
                if (left <= close - t)
                    return t + left;
                left -= close - t;
            }
        }
        t = local_at(&tm, 1, 0); /* the next local midnight */
    }
    return start_ms + business_ms;
}
