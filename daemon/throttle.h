/*
 * throttle.h - failed pre-login attempts counted per key (a peer address, a device id, an
 * enrolment ticket at an address), with exponential back-off: the first SES_THROTTLE_FREE
 * failures cost nothing, then each one closes the key for 1 s, 2 s, 4 s ... up to
 * SES_THROTTLE_MAX_MS. A key with no failure for SES_THROTTLE_FORGET_MS is forgotten. Attempts
 * refused or left unrecorded meanwhile are counted, for one aggregated audit record per key and
 * period. Pure (no I/O, no clock of its own: the caller passes now); the loop thread's.
 */
#ifndef SESAME_THROTTLE_H
#define SESAME_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SES_THROTTLE_FREE 5                     /* failures of a key before any back-off */
#define SES_THROTTLE_BASE_MS 1000               /* the first back-off */
#define SES_THROTTLE_MAX_MS 30000               /* the longest */
#define SES_THROTTLE_FORGET_MS (15 * 60 * 1000) /* a quiet key starts afresh */
#define SES_THROTTLE_MAX_KEYS 16384             /* keys tracked at once */
#define SES_THROTTLE_KEY_MAX 96                 /* bytes of a key, NUL included */

struct ses_throttle;

struct ses_throttle *ses_throttle_new(void);
void ses_throttle_free(struct ses_throttle *t);

/* Milliseconds until key may try again (0: now). */
int64_t ses_throttle_wait_ms(const struct ses_throttle *t, const char *key, int64_t now);
/* Whether key has failed SES_THROTTLE_FREE times or more (recently): its further failures are
 * aggregated, not recorded one by one. */
bool ses_throttle_over(const struct ses_throttle *t, const char *key, int64_t now);
/* A failure of key: counted, and past SES_THROTTLE_FREE the key is closed for the next back-off. */
void ses_throttle_failed(struct ses_throttle *t, const char *key, int64_t now);
/* An attempt of key that was refused, or not recorded, because of the back-off: counted for the
 * aggregated record. */
void ses_throttle_note(struct ses_throttle *t, const char *key, int64_t now);
/* Failures of key so far (0 if unknown). */
int ses_throttle_failures(const struct ses_throttle *t, const char *key, int64_t now);

/* How many keys have noted attempts not yet handed by ses_throttle_take_notes. */
size_t ses_throttle_noted_keys(const struct ses_throttle *t);

/* Hands every key's count of noted attempts since the last call to cb (keys with none are
 * skipped) and resets them. Returns how many keys were handed. */
size_t ses_throttle_take_notes(struct ses_throttle *t,
                               void (*cb)(void *ud, const char *key, uint64_t count), void *ud);

#endif
