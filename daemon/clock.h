/*
 * clock.h - the daemon's one source of time. Every deadline, expiry and timestamp reads
 * ses_clock_now_ms(); tests move time forward through the test_clock hook (SESAME_TEST_HOOKS)
 * instead of sleeping.
 */
#ifndef SESAME_CLOCK_H
#define SESAME_CLOCK_H

#include <stdint.h>

struct ses_clock {
    int64_t offset_ms; /* added to the wall clock; 0 outside tests */
};

/* Wall-clock milliseconds since the Unix epoch, plus the clock's offset. */
int64_t ses_clock_now_ms(const struct ses_clock *clock);

/* Moves the clock forward by ms (>= 0). */
void ses_clock_advance(struct ses_clock *clock, int64_t ms);

#endif
