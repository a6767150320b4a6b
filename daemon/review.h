/*
 * review.h - the weekly case review's engine (PROTOCOL.md §15), on the store it is given: a
 * session's live agenda (from the queue facts of the psychiatrist's threads), holding a session
 * when it starts (its agenda frozen, the left-over entries deferred, A20 on overflow), planning a
 * series' sessions, a cancellation, an outcome, the end of an episode. The writer-side functions
 * run inside the caller's transaction.
 */
#ifndef SESAME_REVIEW_H
#define SESAME_REVIEW_H

#include <stdint.h>

#include "agenda.h"
#include "alert_engine.h"
#include "config.h"
#include "store.h"
#include "store_review.h"

#define SES_REVIEW_PASS_MAX 16 /* sessions held in one pass */

/* A session's agenda with the entries it orders (heap: large). */
struct ses_review_agenda {
    struct ses_review_session session;
    int64_t next_ms; /* the psychiatrist's next planned session after it (0: none) */
    size_t n;
    struct ses_review_entry entries[SES_AGENDA_MAX];
    struct ses_agenda agenda;
};

/* The live agenda of session s at its start (the queue as it stands), into out. */
int ses_review_agenda_live(struct ses_store *st, const struct ses_config *cfg,
                           const struct ses_review_session *s, struct ses_review_agenda *out);

/* Reason codes of a row as stored ("code:since:due,..."). */
void ses_review_reasons_text(const struct ses_review_entry *e, char *out, size_t cap);

/* Writer: plans series' sessions from now to SES_REVIEW_WEEKS_AHEAD weeks ahead, at its weekday
 * and minute in the daemon's local time (TZ); sessions already planned are kept. */
int ses_review_plan_series(struct ses_store *st, const struct ses_review_series *series,
                           int64_t now);

/* Writer: holds the planned sessions that have started (at most SES_REVIEW_PASS_MAX): each
 * agenda frozen, left-over entries deferred once, A20 raised for the program lead when urgent
 * entries were left out or more than a tenth missed their due date two sessions running. */
int ses_review_pass(struct ses_store *st, const struct ses_config *cfg, int64_t now,
                    struct ses_alert_touched *t);

/* Writer: cancels planned session s: its entries roll without a deferral; A20 when a T1 or T2
 * entry would then miss its due date. */
int ses_review_cancel(struct ses_store *st, const struct ses_config *cfg,
                      const struct ses_review_session *s, const struct ses_alert_actor *by,
                      int64_t now, struct ses_alert_touched *t);

#endif
