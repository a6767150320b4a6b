/*
 * registry.h - one row of the caseload registry (PROTOCOL.md §15 "Registry"), computed on the
 * device from the decrypted scale and plan records of a patient's thread and what the server says
 * of the thread (its metadata, its open alerts): weeks in care, the PHQ-9 baseline, latest, change,
 * band and trend, the latest GAD-7 and item 9, and the "needs attention" class. Pure: no I/O.
 */
#ifndef SESAME_REGISTRY_H
#define SESAME_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sesame/scales.h"

#define SES_REGISTRY_TREND_MAX 26       /* PHQ-9 totals a row's trend keeps (the latest, by date) */
#define SES_REGISTRY_CONTACT_DAYS 21    /* active phase: a contact is overdue after 14 + 7 days */
#define SES_REGISTRY_RP_CONTACT_DAYS 44 /* relapse prevention: after 30 + 14 days */
#define SES_REGISTRY_NEW_REVIEW_DAYS 28 /* a new patient is reviewed within 28 days */
#define SES_REGISTRY_CADENCE_DAYS 14    /* active phase: a contact every two weeks */
#define SES_REGISTRY_RP_CADENCE_DAYS 30 /* relapse prevention: monthly */
#define SES_REGISTRY_REVIEW_WEEKS 12    /* nobody active goes 12 weeks without a review */

/* What the device knows of one patient. Days are days since 1970-01-01 (UTC); -1: none. */
struct ses_registry_facts {
    const struct ses_record *records; /* the thread's records, in entry order */
    size_t n_records;
    int32_t today;
    int32_t enrolled_day;
    bool relapse_prevention; /* the thread's phase */
    bool closed;             /* the episode has ended */
    int32_t last_contact_day;
    int32_t last_review_day;
    int32_t first_review_day; /* the episode's first psychiatric review */
    int32_t next_review_day;
    bool open_safety; /* an open safety alert (A01, A02, A03, A19 psychiatric) */
};

/* The "needs attention" classes, most urgent first. */
enum ses_attention {
    SES_ATTN_SAFETY = 0,        /* an open safety alert */
    SES_ATTN_NOT_IMPROVING = 1, /* less than 50 % better after 10 weeks on the plan (A06) */
    SES_ATTN_OVERDUE = 2,       /* a contact or a review is overdue */
    SES_ATTN_REST = 3,
    SES_ATTN_CLOSED = 4, /* the episode has ended */
};

struct ses_registry_row {
    int weeks_in_care; /* from enrolment to today (or to the episode's end) */
    bool has_phq9;     /* a usable PHQ-9 exists */
    int phq9_baseline, phq9_latest;
    int32_t phq9_baseline_day, phq9_latest_day;
    bool has_change; /* the change baseline -> latest applies (a baseline) */
    struct ses_change change;
    enum ses_band phq9_band;
    size_t n_trend;
    int trend[SES_REGISTRY_TREND_MAX]; /* usable PHQ-9 totals in date order, the latest last */
    bool has_gad7;
    int gad7_latest;
    int32_t gad7_day;
    int item9;         /* the latest PHQ-9's item 9: 0..3, SES_ITEM_MISSING unanswered, -1 none */
    int32_t item9_day; /* its day, -1 none */
    int weeks_on_plan;
    int32_t rp_plan_day; /* the latest relapse-prevention plan record's day, -1 none */
    bool not_improving;
    bool contact_overdue, review_overdue;
    int32_t next_contact_day; /* the next contact the cadence proposes (the last contact, else the
                                 enrolment, + 14 days active / 30 in relapse prevention); -1 once
                                 the episode has ended */
    enum ses_attention attention;
};

/* The row of f. Returns 0, or SES_EBAD_SCALE / SES_EINVALID_ARG / SES_ENOMEM as
 * ses_rules_evaluate (out zeroed then). */
int ses_registry_row(const struct ses_registry_facts *f, struct ses_registry_row *out)
    __attribute__((warn_unused_result));

/* The "needs attention" order: by class, then the longest overdue or most severe first (a larger
 * latest PHQ-9 first, unknown last), then by name (strcmp). Negative, 0 or positive. */
int ses_registry_attention_cmp(const struct ses_registry_row *a, const char *name_a,
                               const struct ses_registry_row *b, const char *name_b);

/* "▁▂▃▄▅▆▇█" blocks of the trend (0..27 scaled to 8 levels), NUL-terminated, into out (cap bytes:
 * 3 per value + 1). */
void ses_registry_sparkline(const struct ses_registry_row *r, char *out, size_t cap);

/* --- quality indicators (PROTOCOL.md §15 "Quality indicators") --------------------------- */

#define SES_INDICATORS 15

/* One patient for the indicators: its facts (records, dates; facts.today is ignored) and the
 * number of contacts the server counted. */
struct ses_indicator_patient {
    struct ses_registry_facts facts;
    int64_t contacts;
};

struct ses_indicator {
    const char *code;    /* "Q1" .. "Q15" */
    const char *name;    /* "Early follow-up" */
    bool available;      /* false: not computable from what the device knows (why_not says) */
    const char *why_not; /* static */
    int num, den;        /* the value is num / den (den 0: no patient qualifies) */
    int median_hours;    /* Q11: median hours from sending to the GP's acknowledgement, -1 none */
};

/* A case-review session held in the window (Q15): its slots and the slots its cases took. */
struct ses_session_use {
    int slots, used;
};

/* The indicators over patients ps and the sessions held in the window [from, to] (days):
 * enrolment-based ones count the patients enrolled in it, status ones their state on day to.
 * Returns 0, or SES_EINVALID_ARG (NULL with a count > 0, from > to) / SES_EBAD_SCALE (a malformed
 * record) / SES_ENOMEM. */
int ses_registry_indicators(const struct ses_indicator_patient *ps, size_t n,
                            const struct ses_session_use *sessions, size_t n_sessions, int32_t from,
                            int32_t to, struct ses_indicator out[SES_INDICATORS])
    __attribute__((warn_unused_result));

/* One recommendation for Q11 (its times in ms, 0 = not yet). */
struct ses_rec_use {
    int64_t sent_ms, acked_ms, implemented_ms;
    bool superseded; /* replaced by a newer version: not counted */
};

/* Q11 (the recommendation loop) over the recommendations sent in [from, to] (days): num of den
 * implemented, and the median hours to acknowledgement of the acknowledged ones. Fills *q11
 * (code, name, available) whatever the input; SES_EINVALID_ARG for NULL with n > 0 or
 * from > to, SES_ENOMEM. */
int ses_registry_q11(const struct ses_rec_use *recs, size_t n, int32_t from, int32_t to,
                     struct ses_indicator *q11) __attribute__((warn_unused_result));

#endif
