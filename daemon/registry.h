/*
 * registry.h - the open connections of sesamed and the fan-out to them. The registry owns the
 * list of sessions (added on open, removed on close) and their serials; every push to more than
 * one connection (a message to the devices it is wrapped to, a receipt or an alert to a thread's
 * members, a roster change, a revocation) goes through ses_registry_each with an audience.
 * Loop thread only.
 */
#ifndef SESAME_REGISTRY_H
#define SESAME_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sesame/limits.h"

struct ses_session;

struct ses_registry {
    struct ses_session *head; /* every open connection, newest first */
    int n;                    /* how many */
    uint64_t serial;          /* the last serial given */
};

/* Who a fan-out reaches: logged-in sessions whose user is among users (when users is not NULL)
 * and whose device is among devices (when devices is not NULL), but the session with serial
 * except (0: none). users and devices both NULL: every logged-in session. */
struct ses_audience {
    const uint8_t (*users)[SES_ID_BYTES];
    size_t n_users;
    const uint8_t (*devices)[SES_ID_BYTES];
    size_t n_devices;
    uint64_t except;
};

/* Adds s (its serial is set, unique for the daemon's run). */
void ses_registry_add(struct ses_registry *r, struct ses_session *s);
/* Removes s (on close). */
void ses_registry_remove(struct ses_registry *r, struct ses_session *s);
/* The open, not closing, session with serial, or NULL (it closed since). */
struct ses_session *ses_registry_find(const struct ses_registry *r, uint64_t serial);

/* Calls fn for each session of the audience (NULL: every session, logged in or not; fn may close
 * it); returns how many. */
typedef void (*ses_session_fn)(void *ud, struct ses_session *s);
int ses_registry_each(const struct ses_registry *r, const struct ses_audience *a, ses_session_fn fn,
                      void *ud);

/* Sends one frame to the audience, encoded once (msg stolen); returns how many got it. */
int ses_registry_push(const struct ses_registry *r, const struct ses_audience *a, json_t *msg);
/* The same with a frame built only if somebody is to get it: build returns a malloc'd text (and
 * its length), freed here; NULL (out of memory) sends nothing. */
typedef char *(*ses_frame_build_fn)(void *ud, size_t *len);
int ses_registry_push_built(const struct ses_registry *r, const struct ses_audience *a,
                            ses_frame_build_fn build, void *ud);

#endif
