/*
 * alert_engine.h - the alert engine (PROTOCOL.md §13): raising with incidents and repeats,
 * escalation of passed deadlines, the daemon's time-based alerts, the one timer armed for the
 * earliest due job, and the JSON and pushes that show alerts to the team.
 *
 * Writes happen on the writer thread inside a job (the *_txn functions, given the writer's store);
 * JSON, pushes and the timer live on the loop thread and read the loop's store after the commit.
 */
#ifndef SESAME_ALERT_ENGINE_H
#define SESAME_ALERT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sesame/alerts.h"

#include <uv.h>

#include "alert_logic.h"
#include "config.h"
#include "store_alert.h"

struct ses_daemon;

/* The engine's state in the daemon: its timers. */
struct ses_alerts {
    uv_timer_t timer;        /* armed for the earliest alert deadline or time rule */
    bool timer_on;           /* initialised and not yet closed */
    bool job_pending;        /* an escalation pass is queued on the writer */
    uv_timer_t oncall_timer; /* hourly warning while no on-duty psychiatrist or lead is set */
};

#define SES_ALERT_PASS_MAX 64        /* due alerts and threads handled per timer pass */
#define SES_ALERT_TIMER_MAX_MS 60000 /* the timer looks again at least this often */
#define SES_ALERT_TOUCHED_MAX 160    /* alerts one job can change (pushes after the commit) */
#define SES_ALERT_RETRY_MS 5000      /* after a failed pass */
#define SES_ONCALL_WARN_MS 3600000   /* the missing on-call warning is logged again this often */

/* What a job changed, for the pushes after its commit. */
struct ses_alert_touched {
    int n;
    struct {
        uint8_t alert[SES_ID_BYTES];
        char event[16];
    } items[SES_ALERT_TOUCHED_MAX];
};
void ses_alert_touched_add(struct ses_alert_touched *t, const uint8_t alert[SES_ID_BYTES],
                           const char *event);

/* Who acts, for audit records and timelines (all NULL for the daemon itself). */
struct ses_alert_actor {
    const uint8_t *user, *device;
    const char *role, *peer;
};

struct ses_raise {
    const struct ses_alert_type *type;
    int severity;       /* >= type->severity */
    const char *origin; /* "manual", "client", "daemon" */
    struct ses_alert_actor by;
    int64_t msg_seq;      /* 0 = none */
    const char *cond_key; /* time rules only, else NULL */
    int64_t deadline_ms;  /* 0: now + window */
    int64_t now;
    const uint8_t *gp; /* NULL, or the one GP member the GP party names (a recommendation's
                          addressee) */
};

/* Writer thread, inside the job's transaction: raises r in thread, or counts a repeat on the
 * thread's open alert of the same type (upgrading it if r is more urgent). *alert gets the id,
 * *repeat whether it was a repeat. Audit record and timeline included. */
int ses_alert_raise_txn(struct ses_store *st, const struct ses_config *cfg,
                        const uint8_t thread[SES_ID_BYTES], const struct ses_raise *r,
                        uint8_t alert[SES_ID_BYTES], bool *repeat, struct ses_alert_touched *t);

/* Writer thread: closes a (checked) open alert: state "resolved" or "cancelled", with code,
 * outcome (may be NULL) and note seq; audit record, timeline, incident. */
int ses_alert_close_txn(struct ses_store *st, struct ses_alert *a, const char *state,
                        const char *code, const char *outcome, int64_t msg_seq,
                        const struct ses_alert_actor *by, int64_t now, struct ses_alert_touched *t);

/* Writer thread: acknowledges a (checked) raised alert. */
int ses_alert_ack_txn(struct ses_store *st, struct ses_alert *a, const struct ses_alert_actor *by,
                      int64_t now, struct ses_alert_touched *t);

/* Writer thread: resolves the thread's open alerts of the given codes (NULL-terminated) with
 * CONDITION_CLEARED on behalf of by, and asks for the thread's time rules to be recomputed. */
int ses_alert_clear_txn(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                        const char *const codes[], const struct ses_alert_actor *by, int64_t now,
                        struct ses_alert_touched *t);
/* Writer thread: a review outcome resolves the thread's open alerts of codes whoever raised them
 * (the client's A06 too) with CONDITION_CLEARED on behalf of by: the next evaluation raises them
 * again if the condition still holds. */
int ses_alert_review_clear_txn(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                               const char *const codes[], const struct ses_alert_actor *by,
                               int64_t now, struct ses_alert_touched *t);

/* The escalation roles in force (stored by admins over the config's), read from st. */
int ses_alert_roles_load(struct ses_store *st, const struct ses_config *cfg,
                         struct ses_chain_roles *roles);

/* Loop thread. Arms the timer and handles what is already due (start-up catch-up). */
void ses_alerts_start(struct ses_daemon *d);
/* Re-arms the timer for the earliest due job (after a change, a clock move). */
void ses_alerts_kick(struct ses_daemon *d);
/* Stops the timer and closes its handle (shutdown). */
void ses_alerts_stop(struct ses_daemon *d);

/* Loop thread: ALERT (PROTOCOL.md §13) of a, read from the loop's store. NULL on failure. */
json_t *ses_alert_json(struct ses_daemon *d, const struct ses_alert *a);
/* META of a thread. NULL on failure. */
json_t *ses_thread_meta_json(const struct ses_thread_meta *m);
/* Loop thread: pushes {"t":"alert_event"} for every touched alert to everyone concerned. */
void ses_alerts_push(struct ses_daemon *d, const struct ses_alert_touched *t);

#endif
