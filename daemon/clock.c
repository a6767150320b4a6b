/*
 * clock.c - wall clock with a test offset (clock.h).
 */
#include <time.h>

#include "clock.h"

int64_t ses_clock_now_ms(const struct ses_clock *clock)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + clock->offset_ms;
}

void ses_clock_advance(struct ses_clock *clock, int64_t ms)
{
    if (ms > 0)
        clock->offset_ms += ms;
}
