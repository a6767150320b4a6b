/*
 * roster.h - a thread's roster as the server sees it: the thread row, its current members and
 * each member's active devices (keys), and the roster hash senders encrypt to. Shared by the
 * thread and message handlers.
 */
#ifndef SESAME_ROSTER_H
#define SESAME_ROSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define SES_ROSTER_MAX_MEMBERS 16
#define SES_ROSTER_MAX_DEVICES 32 /* active devices per member that a roster carries */

struct ses_roster_member {
    struct ses_user user;
    int n_devices;
    struct ses_device devices[SES_ROSTER_MAX_DEVICES];
};

struct ses_roster {
    struct ses_thread thread;
    int n;
    struct ses_roster_member members[SES_ROSTER_MAX_MEMBERS];
    uint8_t hash[32];
};

/* Loads thread's roster (SES_ENOT_FOUND for an unknown thread). */
int ses_roster_load(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], struct ses_roster *r);
/* The user ids of thread's current members (at most SES_ROSTER_MAX_MEMBERS) into ids, *n. */
int ses_roster_member_ids(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                          uint8_t ids[SES_ROSTER_MAX_MEMBERS][SES_ID_BYTES], size_t *n);
/* The same from a loaded roster. */
void ses_roster_ids_of(const struct ses_roster *r,
                       uint8_t ids[SES_ROSTER_MAX_MEMBERS][SES_ID_BYTES], size_t *n);
bool ses_roster_has_user(const struct ses_roster *r, const uint8_t user[SES_ID_BYTES]);
/* The active device of a current member with this id, or NULL. */
const struct ses_device *ses_roster_device(const struct ses_roster *r,
                                           const uint8_t device[SES_ID_BYTES]);
int ses_roster_device_count(const struct ses_roster *r);

#endif
