/*
 * scales.h - PHQ-2, PHQ-9 and GAD-7 scoring, the structured records that carry scale answers
 * and treatment-plan changes end to end (content type 2, PROTOCOL.md §14), and the client-side
 * rules that turn a new record into coded alerts (A01, A04, A05, A06, A06b, A10, A11;
 * collaborative-care.md §1 and §2). Pure functions: integer arithmetic only, no I/O; the record
 * codec uses jansson. The server never runs any of this: it never sees a score.
 */
#ifndef SESAME_SCALES_H
#define SESAME_SCALES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SES_ITEM_MISSING 0xFF /* an unanswered item */
#define SES_PHQ2_ITEMS 2
#define SES_PHQ9_ITEMS 9
#define SES_GAD7_ITEMS 7
#define SES_PHQ2_CUTOFF_DEFAULT 3 /* PHQ-2 >= 3: complete the PHQ-9 and the GAD-7 */
#define SES_RECORD_MAX 4096       /* bytes of an encoded record body */
#define SES_RECORD_TEXT_MAX 512   /* bytes of a record's plain-text fallback line */
#define SES_TRIGGERS_MAX 8        /* triggers one evaluation can produce */

#define SES_ITEM_MAX 3                     /* an item's answer is 0..3 */
#define SES_DAY_MIN 0                      /* 1970-01-01: the earliest date a record may carry */
#define SES_DAY_MAX 2932896                /* 9999-12-31: the latest */
#define SES_PHQ9_PRORATE_MAX_MISSING 2     /* a PHQ-9 with 1 or 2 unanswered items is prorated */
#define SES_NOT_IMPROVING_WEEKS_DEFAULT 10 /* A06 from 10 weeks on the plan (AIMS) */
#define SES_EARLY_WEEKS_MIN_DEFAULT 4      /* A06b window: weeks 4..6 */
#define SES_EARLY_WEEKS_MAX_DEFAULT 6
#define SES_RULES_WEEKS_MAX 520 /* largest week count a rules config may name */

enum ses_scale { SES_SCALE_PHQ2 = 1, SES_SCALE_PHQ9 = 2, SES_SCALE_GAD7 = 3 };

enum ses_band {
    SES_BAND_INCOMPLETE = 0, /* an item is missing and no prorating applies: no band, no change
                                metrics, no part in the totals-based rules */
    SES_BAND_PHQ_MINIMAL,    /* PHQ-9 0-4 */
    SES_BAND_PHQ_MILD,       /* 5-9 */
    SES_BAND_PHQ_MODERATE,   /* 10-14 */
    SES_BAND_PHQ_MODSEVERE,  /* 15-19 */
    SES_BAND_PHQ_SEVERE,     /* 20-27 */
    SES_BAND_GAD_MINIMAL,    /* GAD-7 0-4 */
    SES_BAND_GAD_MILD,       /* 5-9 */
    SES_BAND_GAD_MODERATE,   /* 10-14 */
    SES_BAND_GAD_SEVERE,     /* 15-21 */
    SES_BAND_PHQ2_NEGATIVE,  /* PHQ-2 below the cut-off */
    SES_BAND_PHQ2_POSITIVE,  /* PHQ-2 at or above the cut-off */
};

struct ses_scale_score {
    bool complete; /* every item answered */
    bool prorated; /* PHQ-9 with 1 or 2 items unanswered: total scaled to 9 items (PROTOCOL §14) */
    int answered;  /* items answered */
    int sum;       /* sum of the answered items */
    int total;     /* the score: sum if complete, the prorated total if prorated, else sum */
    enum ses_band band; /* SES_BAND_INCOMPLETE unless complete or prorated */
};

/* Scores n items (0..3 each, or SES_ITEM_MISSING) of scale; n must be the scale's item count.
 * phq2_cutoff is used for PHQ-2 only (0 means the default). Returns 0, or SES_EBAD_SCALE (an item
 * above 3 other than SES_ITEM_MISSING, a wrong n, an unknown scale), or SES_EINVALID_ARG (NULL
 * items or out, phq2_cutoff outside 0..6).
 *  - every item answered: complete, total = sum, band from total;
 *  - a PHQ-9 with 1 or 2 items unanswered: prorated, total = sum * 9 / answered rounded half up
 *    (integers: (2 * sum * 9 + answered) / (2 * answered)), band from that total;
 *  - anything else unanswered (a PHQ-9 with 3 or more, any item of a GAD-7 or PHQ-2, all items):
 *    neither complete nor prorated, total = sum, band SES_BAND_INCOMPLETE. */
int ses_scale_score(enum ses_scale scale, const uint8_t *items, size_t n, int phq2_cutoff,
                    struct ses_scale_score *out);

/* A score the totals-based rules may use: complete or prorated (false for NULL). An unusable
 * PHQ-9 still counts for its item 9. */
bool ses_scale_usable(const struct ses_scale_score *sc);

/* Band code ("PHQ_MODERATE", ..., "INCOMPLETE") and label ("moderate", ..., "incomplete").
 * Static strings. */
const char *ses_band_code(enum ses_band band);
const char *ses_band_label(enum ses_band band);

/* Change of a PHQ-9 (or GAD-7) total from a baseline, integer arithmetic (collaborative-care.md
 * §1.3, §1.6). applicable is false when baseline <= 9 (response/remission are N/A then): response,
 * partial and remission are then false, improved is latest < 10, pct is still computed. Totals
 * outside 0..27 give an all-zero result. */
struct ses_change {
    bool applicable;
    int pct;        /* (baseline - latest) * 100 / baseline, truncated toward zero */
    bool response;  /* 2*latest <= baseline */
    bool partial;   /* 4*latest <= 3*baseline and not response */
    bool remission; /* latest < 5 */
    bool improved;  /* latest < 10 or response (MHIP) */
};
void ses_change_compute(int baseline, int latest, struct ses_change *out);

/* Dates are days since 1970-01-01 (UTC), SES_DAY_MIN..SES_DAY_MAX (1970-01-01..9999-12-31).
 * ses_day_parse takes exactly "YYYY-MM-DD" (a real Gregorian date in that range; no sign, no
 * spaces, two-digit month and day): 0, SES_EBAD_FIELD, or SES_EINVALID_ARG (NULL).
 * ses_day_format writes "YYYY-MM-DD" and its NUL; a day outside the range gives "0000-00-00". */
int ses_day_parse(const char *iso, int32_t *day);
/* "HH:MM" (00:00..23:59, exactly five characters) as minutes after midnight, or -1. */
int ses_time_of_day_parse(const char *hhmm);
void ses_day_format(int32_t day, char out[11]);

/* A structured record: scale answers, a change of treatment plan, or the relapse-prevention plan
 * written with the patient before leaving active care. */
enum ses_record_kind { SES_RECORD_SCALES = 1, SES_RECORD_PLAN = 2, SES_RECORD_RP_PLAN = 3 };

/* The parts of a relapse-prevention plan, each a required text (UTF-8, no NUL, 1..SES_RP_TEXT_MAX
 * bytes): triggers, early warning signs, coping skills, support resources, the emergency plan. */
enum ses_rp_part {
    SES_RP_TRIGGERS = 0,
    SES_RP_WARNING_SIGNS,
    SES_RP_COPING,
    SES_RP_SUPPORTS,
    SES_RP_EMERGENCY,
    SES_RP_PARTS
};
#define SES_RP_TEXT_MAX 600
/* The wire key of a part ("warning_signs"), or NULL. Static. */
const char *ses_rp_part_key(enum ses_rp_part part);

struct ses_record {
    enum ses_record_kind kind;
    int32_t day; /* the day the answers were given or the plan changed (not the day of entry) */
    /* SES_RECORD_SCALES: at least one scale present; items 0..3 or SES_ITEM_MISSING (unanswered,
     * null in the body). On the wire each present scale has at least one answered item. */
    bool has_phq2, has_phq9, has_gad7;
    uint8_t phq2[SES_PHQ2_ITEMS], phq9[SES_PHQ9_ITEMS], gad7[SES_GAD7_ITEMS];
    /* SES_RECORD_PLAN: the new plan includes an antidepressant at an adequate dose */
    bool antidepressant;
    /* SES_RECORD_RP_PLAN: its parts, NUL-terminated */
    char rp[SES_RP_PARTS][SES_RP_TEXT_MAX + 1];
};

/* Whether r may be encoded and sent: 0, SES_EBAD_SCALE (unknown kind, a day outside
 * SES_DAY_MIN..SES_DAY_MAX, a scales record without a scale, an item above 3 other than
 * SES_ITEM_MISSING, a present scale with no answered item), or SES_EINVALID_ARG (NULL). The
 * encoder and the parser apply exactly this; check a record with it before anything is sent. */
int ses_record_check(const struct ses_record *r);

/* Encodes r as the body of a content-type-2 message (PROTOCOL.md §14: compact JSON with a
 * plain-text fallback line "text"; an unanswered item is written null). Writes at most cap bytes
 * to out (no NUL) and *len. Returns 0, SES_EBAD_SCALE (ses_record_check refuses r),
 * SES_ETOO_LARGE, SES_ENOMEM. */
int ses_record_encode(const struct ses_record *r, uint8_t *out, size_t cap, size_t *len);
/* Parses a content-type-2 body. Returns 0, or SES_EBAD_SCALE for anything malformed (unknown
 * keys are ignored, for later versions; wrong types, missing fields, items out of range, a scale
 * array not of exactly its item count, a scale whose items are all null are not). A null item
 * becomes SES_ITEM_MISSING. text (optional, may be NULL) receives the fallback line,
 * NUL-terminated, truncated to fit. */
int ses_record_parse(const uint8_t *body, size_t len, struct ses_record *r, char *text,
                     size_t text_cap);
/* The fallback line of r (PROTOCOL.md §14), e.g. "PHQ-9 14 (moderate), item 9: 1; GAD-7 8 (mild)",
 * "PHQ-9 14 (moderate, prorated from 8 of 9 items), item 9: 1",
 * "PHQ-9 incomplete (6 of 9 answered), item 9: not answered", "GAD-7 incomplete (6 of 7
 * answered)" or "Treatment plan changed on 2026-11-01 (antidepressant)". Always NUL-terminated
 * when cap > 0 (truncated to fit). */
void ses_record_text(const struct ses_record *r, char *out, size_t cap);

/* What a new record means within its episode (the thread): the figures the CLI prints. Every
 * score here is usable (ses_scale_usable); records are taken in date order (PROTOCOL.md §14:
 * by day, same-day records in entry order, the new record entered last). "Earlier" records are
 * the history records before the new one in that order: dated before it, or on its day. */
struct ses_episode {
    bool has_baseline;
    int baseline;         /* first PHQ-9 of the episode by date (the new one if it comes first) */
    int32_t baseline_day; /* its day (valid when has_baseline) */
    bool has_previous;
    int previous; /* last earlier PHQ-9 */
    bool has_nadir;
    int nadir; /* lowest earlier PHQ-9 */
    bool has_gad_previous;
    int gad_previous; /* last earlier GAD-7 */
    bool has_plan;
    int32_t plan_day; /* start of the current plan (the last earlier plan record, else
                         the baseline's day) */
    bool plan_antidepressant;
    bool has_plan_start_score;
    int plan_start_score;     /* last earlier PHQ-9 dated on or before plan_day, else the first
                                 earlier one after it, else the new record's own */
    int weeks_on_plan;        /* (new day - plan day) / 7, or 0 */
    bool has_change;          /* change was computed: the new PHQ-9 is usable, a baseline exists */
    struct ses_change change; /* new PHQ-9 vs baseline (all zero unless has_change) */
    bool plan_recorded;       /* the plan comes from a plan record (else from the baseline) */
};

struct ses_trigger {
    char type[8];     /* "A01" */
    char variant[24]; /* "item9_2", "item9_unanswered", or "" */
    const char *why;  /* static English reason, for display only (never sent to the server) */
};

struct ses_rules_config {
    int not_improving_weeks; /* A06 from this many weeks on the plan (default 10) */
    int early_weeks_min;     /* A06b window (default 4..6 weeks) */
    int early_weeks_max;
};

/* Evaluates the client-side rules for latest (a SES_RECORD_SCALES record, entered after every
 * history record) given the episode's earlier-entered records (history, in entry order, plan and
 * scale records mixed, in any date order) and the thread's phase (relapse_prevention). cfg NULL
 * means the defaults. Fills *ep and up to SES_TRIGGERS_MAX triggers, most urgent first: A01
 * (item9_1, item9_2, item9_unanswered), A04, A05, A11, A06, A10 (remission, response), A06b.
 * Returns 0, or SES_EBAD_SCALE (a record with an unknown kind, a day outside
 * SES_DAY_MIN..SES_DAY_MAX, an item above 3 other than SES_ITEM_MISSING, or a scales record
 * without a scale) / SES_EINVALID_ARG (NULL pointers, latest not a scales record, cfg weeks
 * outside 0..SES_RULES_WEEKS_MAX or early_weeks_min > early_weeks_max) / SES_ENOMEM (the sort of
 * n_history + 1 records could not be allocated). Unanswered items are accepted here, even a scale
 * with none answered: only usable scores (ses_scale_usable) take part in totals, baseline,
 * previous, nadir, plan-start score and change; an unusable PHQ-9 counts for its item 9 alone.
 * The rules are PROTOCOL.md §14. */
int ses_rules_evaluate(const struct ses_record *history, size_t n_history,
                       const struct ses_record *latest, bool relapse_prevention,
                       const struct ses_rules_config *cfg, struct ses_episode *ep,
                       struct ses_trigger out[SES_TRIGGERS_MAX], size_t *n_out);

#endif
