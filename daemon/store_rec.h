/*
 * store_rec.h - the recommendations to the GP in the store (schema 9, PROTOCOL.md §16): their
 * state, deadlines, dates and who acted, and each one's timeline. Never their content: that is
 * the end-to-end encrypted thread message msg_seq.
 */
#ifndef SESAME_STORE_REC_H
#define SESAME_STORE_REC_H

#include <stdbool.h>
#include <stdint.h>

#include "ids.h"
#include "store.h"

struct ses_rec {
    uint8_t id[SES_ID_BYTES], thread[SES_ID_BYTES];
    int version;
    bool has_supersedes, has_superseded_by;
    uint8_t supersedes[SES_ID_BYTES], superseded_by[SES_ID_BYTES];
    uint8_t author[SES_ID_BYTES], gp[SES_ID_BYTES];
    bool urgent;
    char state[16];  /* ses_rec_state_name */
    int64_t msg_seq; /* the encrypted recommendation (content type 5) */
    int64_t sent_ms;
    int64_t deadline_ms;  /* acknowledgement due: A15 to the nurse when passed */
    int64_t deadline2_ms; /* twice the deadline: the A15 reaches the psychiatrist and lead */
    int unacked;          /* 1 once the A15 was raised */
    int64_t acked_ms, decided_ms, implemented_ms, verified_ms, updated_ms; /* 0 = not yet */
    char decision[12];  /* "accepted" | "modified" | "declined" | "" */
    int64_t reason_seq; /* the GP's encrypted reason (modified, declined); 0 = none */
    bool has_verified_by;
    uint8_t verified_by[SES_ID_BYTES];
};

/* Inserts r (a new id). 0, SES_EEXISTS, SES_EIO. */
int ses_store_rec_insert(struct ses_store *st, const struct ses_rec *r);
/* Writes every field of r over the stored row with its id. 0, SES_ENOT_FOUND, SES_EIO. */
int ses_store_rec_put(struct ses_store *st, const struct ses_rec *r);
/* 0, SES_ENOT_FOUND, SES_EIO. */
int ses_store_rec_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES], struct ses_rec *r);

typedef int (*ses_rec_cb)(void *ud, const struct ses_rec *r);
/* Recommendations, latest sent first, at most limit: of thread (non-NULL), else those whose
 * thread user belongs to or that user wrote or is addressed (user non-NULL), else all; state ""
 * for any. cb returning non-zero stops with that value. */
int ses_store_recs(struct ses_store *st, const uint8_t *thread, const uint8_t *user,
                   const char *state, int limit, ses_rec_cb cb, void *ud);
/* Sent recommendations whose deadline passed by now and that have no A15 yet, earliest first. */
int ses_store_recs_due(struct ses_store *st, int64_t now_ms, int limit, ses_rec_cb cb, void *ud);
/* The earliest such deadline (-1: none). */
int ses_store_recs_next_due(struct ses_store *st, int64_t *at_ms);
/* How many recommendations of thread are in state (e.g. "sent"), ignoring except (may be NULL). */
int ses_store_recs_count(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                         const char *state, const uint8_t *except, int *n);
/* The earliest decision "declined" of thread after after_ms on a recommendation still declined
 * (0: none). */
int ses_store_rec_declined_since(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                 int64_t after_ms, int64_t *at_ms);

/* Appends a timeline event (by NULL: the daemon). */
int ses_store_rec_event(struct ses_store *st, const uint8_t id[SES_ID_BYTES], int64_t ts,
                        const char *event, const uint8_t *by);
typedef int (*ses_rec_event_cb)(void *ud, int64_t ts, const char *event, const uint8_t *by);
int ses_store_rec_events(struct ses_store *st, const uint8_t id[SES_ID_BYTES], ses_rec_event_cb cb,
                         void *ud);

#endif
