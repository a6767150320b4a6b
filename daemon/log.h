/*
 * log.h - the operational log: one line per event on stderr,
 * "2026-01-02T03:04:05.678Z NOTICE module: message". Levels gate what is written.
 * Never pass keys, enrolment codes, nonces or message content to these functions.
 */
#ifndef SESAME_LOG_H
#define SESAME_LOG_H

enum ses_log_level { SES_LOG_ERR = 0, SES_LOG_WARN, SES_LOG_NOTICE, SES_LOG_INFO, SES_LOG_DEBUG };

/* Sets the most verbose level written (default NOTICE). The log sink is process-wide state, the
 * one global Sesame keeps (like the signal plumbing). */
void ses_log_set_level(enum ses_log_level level);
enum ses_log_level ses_log_get_level(void);
/* Parses "err", "warn", "notice", "info", "debug". Returns 0 or -1. */
int ses_log_level_parse(const char *s, enum ses_log_level *out);

void ses_log(enum ses_log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define SES_LOG(lvl, mod, ...)                                                                     \
    do {                                                                                           \
        if ((lvl) <= ses_log_get_level())                                                          \
            ses_log((lvl), (mod), __VA_ARGS__);                                                    \
    } while (0)

#endif
