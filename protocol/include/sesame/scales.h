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

#define SES_ITEM_MAX 3                    /* an item's answer is 0..3 */
#define SES_DAY_MIN 0                     /* 1970-01-01: the earliest date a record may carry */
#define SES_DAY_MAX 2932896               /* 9999-12-31: the latest */
#define SES_NOT_IMPROVING_WEEKS_DEFAULT 8 /* A06 from 8 weeks on the plan */
#define SES_EARLY_WEEKS_MIN_DEFAULT 4     /* A06b window: weeks 4..6 */
#define SES_EARLY_WEEKS_MAX_DEFAULT 6
#define SES_RULES_WEEKS_MAX 520 /* largest week count a rules config may name */

enum ses_scale { SES_SCALE_PHQ2 = 1, SES_SCALE_PHQ9 = 2, SES_SCALE_GAD7 = 3 };

enum ses_band {
    SES_BAND_INCOMPLETE = 0, /* an item is missing: no total band, no change metrics */
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
 * items or out, phq2_cutoff outside 0..6). total is the sum of the answered items even when
 * incomplete; band is then SES_BAND_INCOMPLETE. */
int ses_scale_score(enum ses_scale scale, const uint8_t *items, size_t n, int phq2_cutoff,
                    struct ses_scale_score *out);

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
void ses_day_format(int32_t day, char out[11]);

/* A structured record: scale answers, or a change of treatment plan. */
enum ses_record_kind { SES_RECORD_SCALES = 1, SES_RECORD_PLAN = 2 };

struct ses_record {
    enum ses_record_kind kind;
    int32_t day;
    /* SES_RECORD_SCALES: at least one scale present; items 0..3 (a record may not be sent with
     * missing items: the CLI refuses them, the codec rejects them) */
    bool has_phq2, has_phq9, has_gad7;
    uint8_t phq2[SES_PHQ2_ITEMS], phq9[SES_PHQ9_ITEMS], gad7[SES_GAD7_ITEMS];
    /* SES_RECORD_PLAN: the new plan includes an antidepressant at an adequate dose */
    bool antidepressant;
};

/* Encodes r as the body of a content-type-2 message (PROTOCOL.md §14: compact JSON with a
 * plain-text fallback line "text"). Writes at most cap bytes to out (no NUL) and *len.
 * Returns 0, SES_EBAD_SCALE (invalid record), SES_ETOO_LARGE, SES_ENOMEM. */
int ses_record_encode(const struct ses_record *r, uint8_t *out, size_t cap, size_t *len);
/* Parses a content-type-2 body. Returns 0, or SES_EBAD_SCALE for anything malformed (unknown
 * keys are ignored, for later versions; wrong types, missing fields, items out of range are not).
 * text (optional, may be NULL) receives the fallback line, NUL-terminated, truncated to fit. */
int ses_record_parse(const uint8_t *body, size_t len, struct ses_record *r, char *text,
                     size_t text_cap);
/* The fallback line of r, e.g. "PHQ-9 14 (moderate), item 9: 1; GAD-7 8 (mild)" or
 * "Treatment plan changed on 2026-11-01 (antidepressant)" (PROTOCOL.md §14). Always NUL-terminated
 * when cap > 0 (truncated to fit). */
void ses_record_text(const struct ses_record *r, char *out, size_t cap);

/* What a new record means within its episode (the thread): the figures the CLI prints. */
struct ses_episode {
    bool has_baseline;
    int baseline; /* first PHQ-9 of the episode (the new one if first) */
    bool has_previous;
    int previous; /* PHQ-9 before the new one */
    bool has_nadir;
    int nadir; /* lowest PHQ-9 before the new one */
    bool has_gad_previous;
    int gad_previous; /* GAD-7 before the new one */
    bool has_plan;
    int32_t plan_day; /* start of the current plan (a plan record, else
                         the baseline's day) */
    bool plan_antidepressant;
    bool has_plan_start_score;
    int plan_start_score;
    int weeks_on_plan;        /* (new day - plan day) / 7, or 0 */
    struct ses_change change; /* new PHQ-9 vs baseline */
    bool plan_recorded;       /* the plan comes from a plan record (else from the baseline) */
};

struct ses_trigger {
    char type[8];     /* "A01" */
    char variant[24]; /* "item9_2", or "" */
    const char *why;  /* static English reason, for display only (never sent to the server) */
};

struct ses_rules_config {
    int not_improving_weeks; /* A06 from this many weeks on the plan (default 8) */
    int early_weeks_min;     /* A06b window (default 4..6 weeks) */
    int early_weeks_max;
};

/* Evaluates the client-side rules for latest (a SES_RECORD_SCALES record) given the episode's
 * earlier records (history, oldest first; plan and scale records mixed) and the thread's phase
 * (relapse_prevention). cfg NULL means the defaults. Fills *ep and up to SES_TRIGGERS_MAX
 * triggers, most urgent first. Returns 0, or SES_EBAD_SCALE (a record with an unknown kind, a day
 * outside SES_DAY_MIN..SES_DAY_MAX, an item above 3 other than SES_ITEM_MISSING, or a scales
 * record without a scale) / SES_EINVALID_ARG (NULL pointers, latest not a scales record, cfg
 * weeks outside 0..SES_RULES_WEEKS_MAX or early_weeks_min > early_weeks_max). Scales with a
 * missing item count as absent, except that an answered PHQ-9 item 9 still raises A01. The rules
 * are PROTOCOL.md §14. */
int ses_rules_evaluate(const struct ses_record *history, size_t n_history,
                       const struct ses_record *latest, bool relapse_prevention,
                       const struct ses_rules_config *cfg, struct ses_episode *ep,
                       struct ses_trigger out[SES_TRIGGERS_MAX], size_t *n_out);

#endif
