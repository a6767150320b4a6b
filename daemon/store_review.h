/*
 * store_review.h - the weekly case review in the store (PROTOCOL.md §15): recurring session
 * series, sessions, team requests, each held session's agenda with its outcomes, the minutes, and
 * the facts the queue is built from. Codes and dates only: no score, no summary.
 */
#ifndef SESAME_STORE_REVIEW_H
#define SESAME_STORE_REVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "agenda.h"
#include "store.h"

#define SES_REVIEW_MINUTES_MAX 600 /* one session */
#define SES_REVIEW_WEEKS_AHEAD 12  /* a series' sessions are planned this far ahead */
#define SES_REVIEW_MINUTES_ATTENDED_MAX 16

struct ses_review_series {
    uint8_t id[SES_ID_BYTES], psychiatrist[SES_ID_BYTES];
    int weekday; /* 1 Monday .. 7 Sunday (ISO 8601), in the site's time zone */
    int minute;  /* start, minutes after local midnight */
    int minutes; /* length */
    uint8_t created_by[SES_ID_BYTES];
    int64_t created_ms;
};

struct ses_review_session {
    uint8_t id[SES_ID_BYTES], psychiatrist[SES_ID_BYTES];
    bool has_series;
    uint8_t series[SES_ID_BYTES];
    int64_t start_ms;
    int minutes;
    char state[12];          /* planned, cancelled, held */
    int entries, missed_due; /* held: agenda rows, rows past their due date */
    int used;                /* held: the slots its discussed cases took */
    uint8_t created_by[SES_ID_BYTES];
    int64_t created_ms;
};

/* One row of a held session's agenda. */
struct ses_review_row {
    uint8_t session[SES_ID_BYTES], thread[SES_ID_BYTES];
    int position, tier, base_tier, units;
    char promoted[32]; /* "" or a promotion name */
    char reasons[512]; /* "code:since:due,..." (ms), in reason order */
    int64_t due_ms;
    bool in;
    char outcome[24]; /* "" until recorded */
    int64_t outcome_ms, next_review_ms;
};

int ses_store_review_series_insert(struct ses_store *st, const struct ses_review_series *s);
int ses_store_review_series_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                                struct ses_review_series *s);
/* Inserts a session; an occurrence of a series already planned at that start is left as it is
 * (*added false). */
int ses_store_review_session_insert(struct ses_store *st, const struct ses_review_session *s,
                                    bool *added);
int ses_store_review_session_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                                 struct ses_review_session *s);
/* Sets a session's state (and, held, its agenda counts: rows, rows past due, slots used). */
int ses_store_review_session_set(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                                 const char *state, int entries, int missed_due, int used);
typedef int (*ses_review_session_cb)(void *ud, const struct ses_review_session *s);
/* Sessions starting in [from, to) (of psychiatrist, if not NULL), in start order; a callback
 * returning non-zero stops the walk with that code. */
int ses_store_review_sessions(struct ses_store *st, const uint8_t *psychiatrist, int64_t from,
                              int64_t to, ses_review_session_cb cb, void *ud);
/* The planned sessions that have started by now_ms, earliest first, at most limit. */
int ses_store_review_sessions_started(struct ses_store *st, int64_t now_ms, int limit,
                                      ses_review_session_cb cb, void *ud);
/* The planned session of psychiatrist that starts first after after_ms (SES_ENOT_FOUND: none). */
int ses_store_review_session_next(struct ses_store *st, const uint8_t psychiatrist[SES_ID_BYTES],
                                  int64_t after_ms, struct ses_review_session *s);
/* The earliest start of a planned session (-1: none). */
int ses_store_review_next_start(struct ses_store *st, int64_t *ms);
/* The latest held session of psychiatrist before before_ms (SES_ENOT_FOUND: none). */
int ses_store_review_session_last_held(struct ses_store *st,
                                       const uint8_t psychiatrist[SES_ID_BYTES], int64_t before_ms,
                                       struct ses_review_session *s);

int ses_store_review_request_add(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                 const char *reason, const uint8_t by[SES_ID_BYTES],
                                 int64_t now_ms);
/* Marks the thread's open requests done (a review outcome). */
int ses_store_review_requests_done(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                   int64_t now_ms);
/* The codes of the thread's open requests, comma-separated, into out ("" for none). */
int ses_store_review_request_codes(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                   char *out, size_t cap);

/* The queue's facts of thread at session_ms: its metadata, the earliest alerts behind each
 * reason since its last review (not cancelled; an item 9 only within 14 days), its open
 * requests. */
int ses_store_review_facts(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                           int64_t session_ms, struct ses_review_facts *f);

int ses_store_review_row_put(struct ses_store *st, const struct ses_review_row *r);
typedef int (*ses_review_row_cb)(void *ud, const struct ses_review_row *r);
/* A held session's agenda in position order. */
int ses_store_review_rows(struct ses_store *st, const uint8_t session[SES_ID_BYTES],
                          ses_review_row_cb cb, void *ud);
/* The latest held agenda row of thread that is within capacity and has no outcome yet
 * (SES_ENOT_FOUND: none). */
int ses_store_review_row_undecided(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                   struct ses_review_row *r);
/* Records an outcome on a row. */
int ses_store_review_row_outcome(struct ses_store *st, const uint8_t session[SES_ID_BYTES],
                                 const uint8_t thread[SES_ID_BYTES], const char *outcome,
                                 int64_t next_review_ms, const uint8_t by[SES_ID_BYTES],
                                 int64_t now_ms);

/* Records (or replaces) a session's minutes: who attended. */
int ses_store_review_minutes_put(struct ses_store *st, const uint8_t session[SES_ID_BYTES],
                                 const uint8_t (*attended)[SES_ID_BYTES], int n,
                                 const uint8_t by[SES_ID_BYTES], int64_t now_ms);
/* A session's minutes: *n attendees into attended (max SES_REVIEW_MINUTES_ATTENDED_MAX), when
 * recorded (*recorded_ms 0 when not). */
int ses_store_review_minutes_get(struct ses_store *st, const uint8_t session[SES_ID_BYTES],
                                 uint8_t (*attended)[SES_ID_BYTES], int *n, int64_t *recorded_ms);

#endif
