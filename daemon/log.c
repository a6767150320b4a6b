/*
 * log.c - operational log to stderr (log.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"

static enum ses_log_level current = SES_LOG_NOTICE;
static const char *const names[] = {"ERR", "WARN", "NOTICE", "INFO", "DEBUG"};

void ses_log_set_level(enum ses_log_level level)
{
    current = level;
}

enum ses_log_level ses_log_get_level(void)
{
    return current;
}

int ses_log_level_parse(const char *s, enum ses_log_level *out)
{
    static const char *const lower[] = {"err", "warn", "notice", "info", "debug"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, lower[i]) == 0) {
            *out = (enum ses_log_level)i;
            return 0;
        }
    return -1;
}

void ses_log(enum ses_log_level level, const char *module, const char *fmt, ...)
{
    char line[1024];
    struct timespec ts;
    struct tm tm;
    va_list ap;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s: ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, names[level], module);
    if (n < 0)
        return;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}
