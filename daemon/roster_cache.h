/*
 * roster_cache.h - the loop's in-memory copy of thread rosters for the send path: per thread the
 * current members, the roster hash senders encrypt to, and the active devices with their signing
 * keys, so that a send needs no SQLite read to check its recipients.
 *
 * An entry is a snapshot of ses_roster_load() (threads.h). Whoever changes what a roster is made
 * of drops the entries it affects once its transaction committed: a membership change drops its
 * thread, an enrolment or a revocation clears everything (both are rare). Loop thread only; no
 * locking. Pure memory: no store, no I/O.
 */
#ifndef SESAME_ROSTER_CACHE_H
#define SESAME_ROSTER_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "roster.h"

#define SES_ROSTER_CACHE_MAX 4096 /* threads whose rosters the daemon keeps */

struct ses_roster_key {
    uint8_t id[SES_ID_BYTES];
    uint8_t sign_pk[SES_SIGN_PK_BYTES];
};

/* One thread's roster as the send path needs it. Read-only for callers; valid until the next
 * put, drop or clear on the same cache. */
struct ses_roster_entry {
    struct ses_roster_entry *next; /* bucket chain (the cache's) */
    uint8_t thread[SES_ID_BYTES];
    uint8_t hash[32];
    int n_users;
    uint8_t users[SES_ROSTER_MAX_MEMBERS][SES_ID_BYTES];
    int n_devices;                   /* = ses_roster_device_count() of the snapshot */
    struct ses_roster_key devices[]; /* every active device of every current member */
};

struct ses_roster_cache;

/* A cache of at most max_entries threads (it is emptied when full). NULL on OOM. */
struct ses_roster_cache *ses_roster_cache_new(size_t max_entries);
/* NULL-safe. */
void ses_roster_cache_free(struct ses_roster_cache *c);

/* The cached entry of thread, or NULL. */
const struct ses_roster_entry *ses_roster_cache_get(struct ses_roster_cache *c,
                                                    const uint8_t thread[SES_ID_BYTES]);
/* Stores a snapshot of r (replacing an older entry of its thread) and returns it; NULL on OOM
 * (the cache is then unchanged but for the replaced entry, which is gone). */
const struct ses_roster_entry *ses_roster_cache_put(struct ses_roster_cache *c,
                                                    const struct ses_roster *r);
/* Forgets thread (a membership change). */
void ses_roster_cache_drop(struct ses_roster_cache *c, const uint8_t thread[SES_ID_BYTES]);
/* Forgets everything (a device enrolled, a device or user revoked). NULL-safe. */
void ses_roster_cache_clear(struct ses_roster_cache *c);

bool ses_roster_entry_has_user(const struct ses_roster_entry *e, const uint8_t user[SES_ID_BYTES]);
/* The signing key of the entry's active device with this id, or NULL. */
const uint8_t *ses_roster_entry_sign_pk(const struct ses_roster_entry *e,
                                        const uint8_t device[SES_ID_BYTES]);

#endif
