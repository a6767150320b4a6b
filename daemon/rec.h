/*
 * rec.h - the recommendation loop on the writer (PROTOCOL.md §16): sending, amending and moving a
 * recommendation through its states with the alerts that go with them (A14 on sending, A15 when
 * not acknowledged in time, A16 on the GP's decisions), and the timer pass that raises A15.
 */
#ifndef SESAME_REC_H
#define SESAME_REC_H

#include <stdbool.h>
#include <stdint.h>

#include "sesame/recommend.h"

#include "alert_engine.h"
#include "config.h"
#include "store_rec.h"

#define SES_REC_ROUTINE_DAYS 7    /* a routine recommendation is acknowledged within 7 days */
#define SES_REC_URGENT_BIZ_DAYS 1 /* an urgent one within 1 business day */
#define SES_REC_PASS_MAX 64       /* overdue recommendations handled per timer pass */

/* The acknowledgement deadline (times = 1) or twice it (times = 2) of a recommendation sent at
 * sent_ms: calendar days for a routine one, business time of cfg's calendar for an urgent one. */
int64_t ses_rec_deadline(const struct ses_config *cfg, bool urgent, int64_t sent_ms, int times);

/* What a writer job does to a recommendation, by actor (user, role, device, peer). */
struct ses_rec_act {
    enum ses_rec_event event; /* 0: send a new one */
    const uint8_t *user;
    struct ses_alert_actor by;
    int64_t now;
    /* send and amend */
    uint8_t thread[SES_ID_BYTES], gp[SES_ID_BYTES];
    bool urgent;
    int64_t msg_seq;
    /* decide */
    int64_t reason_seq;
};

/* Writer thread, inside the job's transaction. Sends a new recommendation (a->event 0: *rec gets
 * it, with a fresh id) or applies a->event to the stored *rec (amend: *rec becomes the new
 * version): the state machine, the alerts, the timeline and rec's fields; no audit record (the
 * caller writes it). Returns 0, SES_EBAD_STATE, or a store error. */
int ses_rec_apply_txn(struct ses_store *st, const struct ses_config *cfg, struct ses_rec *rec,
                      const struct ses_rec_act *a, struct ses_alert_touched *t);

/* Writer thread: raises A15 for every recommendation whose deadline has passed unacknowledged. */
int ses_rec_pass(struct ses_store *st, const struct ses_config *cfg, int64_t now,
                 struct ses_alert_touched *t);

/* The event's wire name ("ack", "decide", ...) and the state machine event of a decision
 * ("accepted" -> SES_REC_EV_ACCEPT; 0 for anything else). */
const char *ses_rec_event_name(enum ses_rec_event e);
enum ses_rec_event ses_rec_decision_event(const char *decision);

#endif
