/*
 * registry.c - one row of the caseload registry and its "needs attention" order (registry.h).
 */
#include <stdlib.h>
#include <string.h>

#include "sesame/err.h"
#include "sesame/registry.h"

struct dated {
    int32_t day;
    size_t entry;
};

static int cmp_dated(const void *pa, const void *pb)
{
    const struct dated *a = pa, *b = pb;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    return a->entry < b->entry ? -1 : a->entry > b->entry;
}

/* f's records in date order (same-day ones in entry order): malloc'd, NULL out of memory. */
static struct dated *date_order(const struct ses_registry_facts *f)
{
    struct dated *order = calloc(f->n_records ? f->n_records : 1, sizeof *order);
    if (order == NULL)
        return NULL;
    for (size_t i = 0; i < f->n_records; i++)
        order[i] = (struct dated){.day = f->records[i].day, .entry = i};
    qsort(order, f->n_records, sizeof *order, cmp_dated);
    return order;
}

/* The scores of the latest scales record with scale s (usable ones only unless any). */
static bool score_of(const struct ses_record *r, enum ses_scale s, struct ses_scale_score *sc)
{
    if (r->kind != SES_RECORD_SCALES || (s == SES_SCALE_PHQ9 && !r->has_phq9) ||
        (s == SES_SCALE_GAD7 && !r->has_gad7))
        return false;
    const uint8_t *items = s == SES_SCALE_PHQ9 ? r->phq9 : r->gad7;
    size_t n = s == SES_SCALE_PHQ9 ? SES_PHQ9_ITEMS : SES_GAD7_ITEMS;
    return ses_scale_score(s, items, n, 0, sc) == 0;
}

/* Walks the records in date order: PHQ-9 baseline, latest, trend; GAD-7; item 9. *last gets the
 * entry index of the last scales record by date (SIZE_MAX: none). */
static void scores_in_order(const struct ses_registry_facts *f, const struct dated *order,
                            struct ses_registry_row *out, size_t *last)
{
    *last = SIZE_MAX;
    for (size_t i = 0; i < f->n_records; i++) {
        const struct ses_record *r = &f->records[order[i].entry];
        struct ses_scale_score sc;
        if (r->kind == SES_RECORD_SCALES)
            *last = order[i].entry;
        if (r->kind == SES_RECORD_RP_PLAN)
            out->rp_plan_day = r->day;
        if (r->kind == SES_RECORD_SCALES && r->has_phq9) {
            out->item9 = r->phq9[SES_PHQ9_ITEMS - 1];
            out->item9_day = r->day;
        }
        if (score_of(r, SES_SCALE_PHQ9, &sc) && ses_scale_usable(&sc)) {
            if (!out->has_phq9) {
                out->phq9_baseline = sc.total;
                out->phq9_baseline_day = r->day;
            }
            out->has_phq9 = true;
            out->phq9_latest = sc.total;
            out->phq9_latest_day = r->day;
            out->phq9_band = sc.band;
            if (out->n_trend == SES_REGISTRY_TREND_MAX) {
                memmove(out->trend, out->trend + 1, (SES_REGISTRY_TREND_MAX - 1) * sizeof(int));
                out->n_trend--;
            }
            out->trend[out->n_trend++] = sc.total;
        }
        if (score_of(r, SES_SCALE_GAD7, &sc) && ses_scale_usable(&sc)) {
            out->has_gad7 = true;
            out->gad7_latest = sc.total;
            out->gad7_day = r->day;
        }
    }
}

/* The episode's figures at its latest scales record (the other records as its history). */
static int episode_at(const struct ses_registry_facts *f, size_t last, struct ses_registry_row *out)
{
    struct ses_record *history = calloc(f->n_records ? f->n_records : 1, sizeof *history);
    if (history == NULL)
        return SES_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < f->n_records; i++)
        if (i != last)
            history[n++] = f->records[i];
    struct ses_episode ep;
    struct ses_trigger trig[SES_TRIGGERS_MAX];
    size_t n_trig = 0;
    int rc = ses_rules_evaluate(history, n, &f->records[last], f->relapse_prevention, NULL, &ep,
                                trig, &n_trig);
    free(history);
    if (rc != 0)
        return rc;
    out->weeks_on_plan = ep.weeks_on_plan;
    for (size_t i = 0; i < n_trig; i++)
        out->not_improving = out->not_improving || strcmp(trig[i].type, "A06") == 0;
    return 0;
}

static void overdue(const struct ses_registry_facts *f, struct ses_registry_row *out)
{
    int32_t anchor = f->last_contact_day >= 0 ? f->last_contact_day : f->enrolled_day;
    int32_t limit = f->last_contact_day < 0 ? SES_REGISTRY_NEW_REVIEW_DAYS
                    : f->relapse_prevention ? SES_REGISTRY_RP_CONTACT_DAYS
                                            : SES_REGISTRY_CONTACT_DAYS;
    out->contact_overdue = !f->closed && f->today - anchor > limit; /* an ended episode: none */
    out->next_contact_day = f->closed
                                ? -1
                                : anchor + (f->relapse_prevention ? SES_REGISTRY_RP_CADENCE_DAYS
                                                                  : SES_REGISTRY_CADENCE_DAYS);
    if (f->closed)
        out->review_overdue = false;
    else if (f->next_review_day >= 0)
        out->review_overdue = f->today > f->next_review_day;
    else if (f->last_review_day < 0)
        out->review_overdue = f->today - f->enrolled_day > SES_REGISTRY_NEW_REVIEW_DAYS;
    else
        out->review_overdue = f->today - f->last_review_day > 7 * SES_REGISTRY_REVIEW_WEEKS;
}

int ses_registry_row(const struct ses_registry_facts *f, struct ses_registry_row *out)
{
    if (out == NULL)
        return SES_EINVALID_ARG;
    memset(out, 0, sizeof *out);
    out->item9 = out->item9_day = out->phq9_baseline_day = out->phq9_latest_day = -1;
    out->gad7_day = out->rp_plan_day = -1;
    if (f == NULL || (f->records == NULL && f->n_records > 0))
        return SES_EINVALID_ARG;
    struct dated *order = date_order(f);
    if (order == NULL)
        return SES_ENOMEM;
    size_t last;
    scores_in_order(f, order, out, &last);
    free(order);
    int rc = last != SIZE_MAX ? episode_at(f, last, out) : 0;
    if (rc != 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (out->has_phq9 && out->phq9_baseline_day != out->phq9_latest_day) {
        out->has_change = true;
        ses_change_compute(out->phq9_baseline, out->phq9_latest, &out->change);
    }
    int32_t end = f->today;
    out->weeks_in_care = end > f->enrolled_day ? (end - f->enrolled_day) / 7 : 0;
    overdue(f, out);
    out->attention = f->closed                                     ? SES_ATTN_CLOSED
                     : f->open_safety                              ? SES_ATTN_SAFETY
                     : out->not_improving                          ? SES_ATTN_NOT_IMPROVING
                     : out->contact_overdue || out->review_overdue ? SES_ATTN_OVERDUE
                                                                   : SES_ATTN_REST;
    return 0;
}

int ses_registry_attention_cmp(const struct ses_registry_row *a, const char *name_a,
                               const struct ses_registry_row *b, const char *name_b)
{
    if (a->attention != b->attention)
        return a->attention < b->attention ? -1 : 1;
    if (a->has_phq9 != b->has_phq9)
        return a->has_phq9 ? -1 : 1;
    if (a->has_phq9 && a->phq9_latest != b->phq9_latest)
        return a->phq9_latest > b->phq9_latest ? -1 : 1;
    return strcmp(name_a ? name_a : "", name_b ? name_b : "");
}

void ses_registry_sparkline(const struct ses_registry_row *r, char *out, size_t cap)
{
    static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                          "\u2585", "\u2586", "\u2587", "\u2588"};
    size_t n = 0;
    if (cap == 0)
        return;
    for (size_t i = 0; i < r->n_trend && n + 4 <= cap; i++) {
        int v = r->trend[i] < 0 ? 0 : r->trend[i] > 27 ? 27 : r->trend[i];
        memcpy(out + n, blocks[v * 8 / 28], 3);
        n += 3;
    }
    out[n] = '\0';
}

/* --- quality indicators -------------------------------------------------------------------- */

/* What the indicators read of one patient's records: usable PHQ-9s by date, record days, plan
 * days. */
struct history {
    size_t n_phq9;
    int32_t phq9_day[SES_REGISTRY_TREND_MAX * 4];
    int phq9[SES_REGISTRY_TREND_MAX * 4];
    int32_t first_day, second_day; /* the first two scales records' days (-1: none) */
    int32_t last_plan_day;         /* -1: none */
    bool rp_plan;                  /* a relapse-prevention plan record */
};

static int history_of(const struct ses_registry_facts *f, struct history *h)
{
    memset(h, 0, sizeof *h);
    h->first_day = h->second_day = h->last_plan_day = -1;
    struct dated *order = date_order(f);
    if (order == NULL)
        return SES_ENOMEM;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < f->n_records; i++) {
        const struct ses_record *r = &f->records[order[i].entry];
        struct ses_scale_score sc;
        if ((rc = ses_record_check(r)) != 0)
            break;
        if (r->kind == SES_RECORD_PLAN)
            h->last_plan_day = r->day;
        h->rp_plan = h->rp_plan || r->kind == SES_RECORD_RP_PLAN;
        if (r->kind != SES_RECORD_SCALES)
            continue;
        if (h->first_day < 0)
            h->first_day = r->day;
        else if (h->second_day < 0 && r->day > h->first_day)
            h->second_day = r->day;
        if (score_of(r, SES_SCALE_PHQ9, &sc) && ses_scale_usable(&sc) &&
            h->n_phq9 < sizeof h->phq9 / sizeof h->phq9[0]) {
            h->phq9_day[h->n_phq9] = r->day;
            h->phq9[h->n_phq9++] = sc.total;
        }
    }
    free(order);
    return rc;
}

/* The last usable PHQ-9 dated in [lo, hi]: its index, or -1. */
static int phq9_in(const struct history *h, int32_t lo, int32_t hi)
{
    int found = -1;
    for (size_t i = 0; i < h->n_phq9; i++)
        if (h->phq9_day[i] >= lo && h->phq9_day[i] <= hi)
            found = (int)i;
    return found;
}

/* The first usable PHQ-9 dated in [lo, hi]: its index, or -1. */
static int phq9_first_in(const struct history *h, int32_t lo, int32_t hi)
{
    for (size_t i = 0; i < h->n_phq9; i++)
        if (h->phq9_day[i] >= lo && h->phq9_day[i] <= hi)
            return (int)i;
    return -1;
}

static void count(struct ses_indicator *q, bool in_den, bool in_num)
{
    q->den += in_den;
    q->num += in_den && in_num;
}

static const struct {
    const char *code, *name, *why_not;
} q_names[SES_INDICATORS] = {
    {"Q1", "Early follow-up (a second assessment within 4 weeks of the first)", NULL},
    {"Q2", "Engagement (3 contacts or more)", NULL},
    {"Q3", "Contact recency (a contact in the last 30 days)", NULL},
    {"Q4", "PHQ-9 monitoring (a PHQ-9 in the last 4 months)", NULL},
    {"Q5", "Psychiatric review of non-improvers at 10 weeks", NULL},
    {"Q6", "Treatment change in non-improvers at 10 weeks", NULL},
    {"Q7", "Improvement at 10 weeks (PHQ-9 < 10 or 50 % better)", NULL},
    {"Q8", "Response at 6 months (50 % better, baseline > 9)", NULL},
    {"Q9", "Remission at 6 months (PHQ-9 < 5, baseline > 9)", NULL},
    {"Q10", "New-patient review within 28 days", NULL},
    {"Q11", "Recommendation loop (implemented; median hours to acknowledgement)", NULL},
    {"Q12", "Drop-out (no contact for 60 days)", NULL},
    {"Q13", "Relapse-prevention plan on leaving active care", NULL},
    {"Q14", "Caseload size (active patients)", NULL},
    {"Q15", "Case-review capacity use (slots used of the held sessions' slots)", NULL},
};

/* The indicators of one patient, added to out. */
static void indicators_one(const struct ses_indicator_patient *p, const struct history *h,
                           int32_t from, int32_t to, struct ses_indicator *out)
{
    const struct ses_registry_facts *f = &p->facts;
    int32_t e = f->enrolled_day;
    bool enrolled = e >= from && e <= to, active = !f->closed && e <= to;
    int base = h->n_phq9 > 0 ? h->phq9[0] : -1;
    /* Q1: a second assessment within 28 days of the first, for first assessments 28 days old */
    count(&out[0], enrolled && h->first_day >= 0 && h->first_day + 28 <= to,
          h->second_day >= 0 && h->second_day <= h->first_day + 28);
    count(&out[1], enrolled, p->contacts >= 3);
    count(&out[2], active, f->last_contact_day >= 0 && to - f->last_contact_day <= 30);
    count(&out[3], active && to - e >= 120, phq9_in(h, to - 120, to) >= 0);
    /* Q5-Q7: at 10 weeks (the first PHQ-9 from day 70 on) */
    int at10 = enrolled && to - e >= 70 ? phq9_first_in(h, e + 70, to) : -1;
    bool improved10 = at10 >= 0 && (h->phq9[at10] < 10 || 2 * h->phq9[at10] <= base);
    bool non_improver = at10 >= 0 && !improved10;
    count(&out[4], non_improver, f->last_review_day >= e);
    count(&out[5], non_improver, h->last_plan_day > h->phq9_day[0]);
    count(&out[6], at10 >= 0, improved10);
    /* Q8, Q9: the last PHQ-9 of months 5-7 */
    int at6 = enrolled && base > 9 && to - e >= 182 ? phq9_in(h, e + 152, e + 212) : -1;
    count(&out[7], at6 >= 0, at6 >= 0 && 2 * h->phq9[at6] <= base);
    count(&out[8], at6 >= 0, at6 >= 0 && h->phq9[at6] < 5);
    count(&out[9], enrolled && (to - e >= 28 || f->first_review_day >= 0),
          f->first_review_day >= 0 && f->first_review_day - e <= 28);
    count(&out[11], active, (f->last_contact_day >= 0 ? to - f->last_contact_day : to - e) > 60);
    /* Q13: those who left active care (relapse prevention, or the episode ended) with a plan */
    count(&out[12], (f->relapse_prevention || f->closed) && e <= to, h->rp_plan);
    out[13].num += active;
}

int ses_registry_indicators(const struct ses_indicator_patient *ps, size_t n,
                            const struct ses_session_use *sessions, size_t n_sessions, int32_t from,
                            int32_t to, struct ses_indicator out[SES_INDICATORS])
{
    if (out == NULL || (ps == NULL && n > 0) || (sessions == NULL && n_sessions > 0) || from > to)
        return SES_EINVALID_ARG;
    for (int k = 0; k < SES_INDICATORS; k++)
        out[k] = (struct ses_indicator){.code = q_names[k].code,
                                        .name = q_names[k].name,
                                        .available = q_names[k].why_not == NULL,
                                        .why_not = q_names[k].why_not,
                                        .median_hours = -1};
    struct history *h = malloc(sizeof *h);
    if (h == NULL)
        return SES_ENOMEM;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((rc = history_of(&ps[i].facts, h)) == 0)
            indicators_one(&ps[i], h, from, to, out);
    free(h);
    out[13].den = out[13].num > 0 ? 1 : 0; /* a count, not a share */
    for (size_t i = 0; i < n_sessions; i++) {
        out[14].num += sessions[i].used;
        out[14].den += sessions[i].slots;
    }
    return rc;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int ses_registry_q11(const struct ses_rec_use *recs, size_t n, int32_t from, int32_t to,
                     struct ses_indicator *q11)
{
    if (q11 == NULL)
        return SES_EINVALID_ARG;
    *q11 = (struct ses_indicator){
        .code = q_names[10].code, .name = q_names[10].name, .available = true, .median_hours = -1};
    if ((recs == NULL && n > 0) || from > to)
        return SES_EINVALID_ARG;
    int64_t *acks = malloc((n ? n : 1) * sizeof *acks);
    if (acks == NULL)
        return SES_ENOMEM;
    size_t n_acks = 0;
    const int64_t day_ms = 86400000LL, lo = (int64_t)from * day_ms, hi = ((int64_t)to + 1) * day_ms;
    for (size_t i = 0; i < n; i++) {
        const struct ses_rec_use *r = &recs[i];
        if (r->superseded || r->sent_ms < lo || r->sent_ms >= hi)
            continue;
        count(q11, true, r->implemented_ms != 0);
        if (r->acked_ms >= r->sent_ms && r->acked_ms != 0)
            acks[n_acks++] = r->acked_ms - r->sent_ms;
    }
    if (n_acks > 0) {
        qsort(acks, n_acks, sizeof *acks, cmp_i64);
        int64_t mid = n_acks % 2 ? acks[n_acks / 2] : (acks[n_acks / 2 - 1] + acks[n_acks / 2]) / 2;
        q11->median_hours = (int)(mid / 3600000LL);
    }
    free(acks);
    return 0;
}
