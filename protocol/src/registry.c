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
    out->contact_overdue = f->today - anchor > limit;
    if (f->next_review_day >= 0)
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
    out->gad7_day = -1;
    if (f == NULL || (f->records == NULL && f->n_records > 0))
        return SES_EINVALID_ARG;
    struct dated *order = calloc(f->n_records ? f->n_records : 1, sizeof *order);
    if (order == NULL)
        return SES_ENOMEM;
    for (size_t i = 0; i < f->n_records; i++)
        order[i] = (struct dated){.day = f->records[i].day, .entry = i};
    qsort(order, f->n_records, sizeof *order, cmp_dated);
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
