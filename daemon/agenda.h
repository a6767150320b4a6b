/*
 * agenda.h - the weekly case review's queue and agenda as pure functions (PROTOCOL.md §15): what
 * puts a patient on the queue (reasons, each with its tier and due date, from what the server
 * knows: thread metadata, alert codes and dates, requests; never a score), and the agenda of one
 * session (tier, earliest due date, a score, enrolment; aging; capacity with new patients counting
 * double). No I/O, no clock: deterministic and explainable, each row says why it is where it is.
 */
#ifndef SESAME_AGENDA_H
#define SESAME_AGENDA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sesame/limits.h"

#define SES_DAY_MS_AGENDA (86400LL * 1000)
#define SES_REVIEW_MINUTES_PER_CASE 8   /* default minutes per case (6-8 cases an hour) */
#define SES_REVIEW_NEW_UNITS 2          /* slots a new patient takes */
#define SES_REVIEW_NEW_DUE_DAYS 28      /* T2: reviewed by enrolment + 28 days */
#define SES_REVIEW_CONCERN_DUE_DAYS 14  /* T3: trigger + 14 days */
#define SES_REVIEW_REQUEST_DUE_DAYS 7   /* T4: request + 7 days */
#define SES_REVIEW_DECISION_LEAD_DAYS 7 /* T5: sequence end - 7 days */
#define SES_REVIEW_AGING_WEEKS 8        /* T6: no review for 8 weeks */
#define SES_REVIEW_MAX_WEEKS 12         /* no active patient goes 12 weeks without a review */
#define SES_REVIEW_PROMOTE_DEFERRALS 2  /* deferred twice: one tier up (never above T1) */
#define SES_AGENDA_MAX 512              /* candidates of one session */

/* Tiers (T0, the urgent bypass, never waits for a session and is not on an agenda). */
enum ses_tier {
    SES_T1 = 1, /* safety follow-up */
    SES_T2,     /* new patient */
    SES_T3,     /* clinical concern */
    SES_T4,     /* team request */
    SES_T5,     /* decision point */
    SES_T6,     /* aging */
};

/* Why a patient is on the queue; several at once (bit k of a mask is reason k). */
enum ses_review_reason {
    SES_RR_SAFETY = 0,    /* T1: a safety alert since the last review (A01, A02, A03, A19) */
    SES_RR_NEW,           /* T2: enrolled, never reviewed */
    SES_RR_NOT_IMPROVING, /* T3: A06 */
    SES_RR_WORSENING,     /* T3: A05 */
    SES_RR_SEVERE,        /* T3: A04 */
    SES_RR_RELAPSE,       /* T3: A11 */
    SES_RR_REQUEST,       /* T4: a team member's request (queue add, A13) */
    SES_RR_DECLINED,      /* T4: the GP declined a recommendation (PROTOCOL.md §16) */
    SES_RR_DECISION,      /* T5: the sequence's end (A12) */
    SES_RR_AGING,         /* T6: the review date has come (next review, else 8 weeks on) */
    SES_RR_COUNT
};

/* Wire name of a reason ("not_improving"), or "?". Static. */
const char *ses_review_reason_name(enum ses_review_reason r);
/* The tier of a reason. */
enum ses_tier ses_review_reason_tier(enum ses_review_reason r);

/* What the server knows of one patient when it builds the queue. */
struct ses_review_facts {
    int64_t enrolled_ms;
    int64_t last_review_ms; /* 0: never reviewed */
    int64_t next_review_ms; /* the date the last outcome set; 0: none */
    int64_t sequence_due_ms;
    bool active;   /* an open episode (not completed) */
    int deferrals; /* sessions it was left over from */
    /* the earliest raise since the last review of the open alerts behind each reason (0: none) */
    int64_t safety_ms, not_improving_ms, worsening_ms, severe_ms, relapse_ms;
    int64_t request_ms;  /* the earliest open request */
    int64_t declined_ms; /* the earliest decline since the last review of a recommendation */
};

/* One patient on the queue. */
struct ses_review_entry {
    uint8_t thread[SES_ID_BYTES];
    unsigned reasons;                 /* 1u << enum ses_review_reason */
    int64_t due_ms[SES_RR_COUNT];     /* each reason's due date */
    int64_t trigger_ms[SES_RR_COUNT]; /* when each reason arose */
    int64_t enrolled_ms, last_review_ms;
    int deferrals;
    int score; /* the server's tie-break: safety 4, severe 3, worsening 2, weeks since review,
                  2 per deferral (it never sees a score) */
};

/* The reasons of facts at the session starting at session_ms (next_ms: the one after, 0 if
 * none is planned: a week later is assumed). Returns false (e left unset) when the patient is not
 * on the queue: a closed episode, or nothing due. */
bool ses_review_entry_of(const struct ses_review_facts *f, const uint8_t thread[SES_ID_BYTES],
                         int64_t session_ms, int64_t next_ms, struct ses_review_entry *e);

/* Why a row is placed above its reasons' tier. */
enum ses_promotion {
    SES_PROMO_NONE = 0,
    SES_PROMO_DEFERRED, /* deferred twice: one tier up */
    SES_PROMO_DUE,      /* would miss its due date if deferred again: ahead (T1) */
    SES_PROMO_12_WEEKS, /* would go 12 weeks without a review: ahead (T1) */
};
/* "deferred_twice", "due_before_next_session", "twelve_weeks", or NULL for none. Static. */
const char *ses_promotion_name(enum ses_promotion p);

struct ses_agenda_params {
    int64_t session_ms, next_ms; /* this session's start; the next one's (0: +7 days) */
    int minutes, minutes_per_case, new_units;
};

struct ses_agenda_row {
    size_t entry; /* index into the entries given */
    enum ses_tier tier, base_tier;
    enum ses_promotion promoted;
    int64_t due_ms;
    int units;    /* slots it takes */
    bool in;      /* within capacity */
    int position; /* 1-based place on the agenda */
};

struct ses_agenda {
    int slots, used;     /* capacity, slots taken */
    int overflow_urgent; /* T1-T3 entries due by the next session left out */
    int missed_due;      /* entries already past their due date at the session */
    size_t n;
    struct ses_agenda_row rows[SES_AGENDA_MAX];
};

/* Builds the agenda of n entries (n <= SES_AGENDA_MAX): rows in agenda order (tier after aging,
 * earliest due, score descending, enrolment, thread id), filled within capacity in that order
 * (the first that does not fit closes the agenda: nobody later jumps it). Returns 0, or
 * SES_ENOMEM (out empty). */
int ses_agenda_build(const struct ses_review_entry *entries, size_t n,
                     const struct ses_agenda_params *p, struct ses_agenda *out)
    __attribute__((warn_unused_result));

/* After the session of a: whether entry i was left over and so counts one more deferral (a
 * cancelled session rolls every entry without counting one). */
bool ses_agenda_deferred(const struct ses_agenda *a, size_t entry, bool cancelled);

/* Whether the agenda calls for A20 (capacity): T1-T3 entries due by the next session left out.
 */
bool ses_agenda_overflows(const struct ses_agenda *a);

#endif
