/*
 * agenda.c - the case-review queue's reasons and one session's agenda (agenda.h).
 */
#include <stdlib.h>
#include <string.h>

#include "sesame/err.h"

#include "agenda.h"

#define DAY SES_DAY_MS_AGENDA
#define WEEK (7 * DAY)

static const struct {
    const char *name;
    enum ses_tier tier;
    bool hard; /* a due date the agenda must not let pass (promotion when it would) */
} reasons[SES_RR_COUNT] = {
    [SES_RR_SAFETY] = {"safety", SES_T1, true},
    [SES_RR_NEW] = {"new_patient", SES_T2, true},
    [SES_RR_NOT_IMPROVING] = {"not_improving", SES_T3, true},
    [SES_RR_WORSENING] = {"worsening", SES_T3, true},
    [SES_RR_SEVERE] = {"severe", SES_T3, true},
    [SES_RR_RELAPSE] = {"relapse", SES_T3, true},
    [SES_RR_REQUEST] = {"request", SES_T4, false},
    [SES_RR_DECLINED] = {"declined", SES_T4, false},
    [SES_RR_DECISION] = {"decision_point", SES_T5, true},
    [SES_RR_AGING] = {"aging", SES_T6, false},
};

const char *ses_review_reason_name(enum ses_review_reason r)
{
    return (int)r >= 0 && r < SES_RR_COUNT ? reasons[r].name : "?";
}

enum ses_tier ses_review_reason_tier(enum ses_review_reason r)
{
    return (int)r >= 0 && r < SES_RR_COUNT ? reasons[r].tier : SES_T6;
}

const char *ses_promotion_name(enum ses_promotion p)
{
    switch (p) {
    case SES_PROMO_DEFERRED:
        return "deferred_twice";
    case SES_PROMO_DUE:
        return "due_before_next_session";
    case SES_PROMO_12_WEEKS:
        return "twelve_weeks";
    case SES_PROMO_NONE:
        break;
    }
    return NULL;
}

static int64_t next_of(int64_t session_ms, int64_t next_ms)
{
    return next_ms > session_ms ? next_ms : session_ms + WEEK;
}

static void add(struct ses_review_entry *e, enum ses_review_reason r, int64_t trigger, int64_t due)
{
    e->reasons |= 1u << r;
    e->trigger_ms[r] = trigger;
    e->due_ms[r] = due;
}

bool ses_review_entry_of(const struct ses_review_facts *f, const uint8_t thread[SES_ID_BYTES],
                         int64_t session_ms, int64_t next_ms, struct ses_review_entry *e)
{
    int64_t next = next_of(session_ms, next_ms);
    if (!f->active)
        return false;
    memset(e, 0, sizeof *e);
    memcpy(e->thread, thread, SES_ID_BYTES);
    e->enrolled_ms = f->enrolled_ms;
    e->last_review_ms = f->last_review_ms;
    e->deferrals = f->deferrals;
    if (f->safety_ms)
        add(e, SES_RR_SAFETY, f->safety_ms, session_ms);
    if (f->last_review_ms == 0)
        add(e, SES_RR_NEW, f->enrolled_ms, f->enrolled_ms + SES_REVIEW_NEW_DUE_DAYS * DAY);
    const int64_t concern[] = {f->not_improving_ms, f->worsening_ms, f->severe_ms, f->relapse_ms};
    for (int k = 0; k < 4; k++)
        if (concern[k])
            add(e, (enum ses_review_reason)(SES_RR_NOT_IMPROVING + k), concern[k],
                concern[k] + SES_REVIEW_CONCERN_DUE_DAYS * DAY);
    if (f->request_ms)
        add(e, SES_RR_REQUEST, f->request_ms, f->request_ms + SES_REVIEW_REQUEST_DUE_DAYS * DAY);
    if (f->declined_ms)
        add(e, SES_RR_DECLINED, f->declined_ms, f->declined_ms + SES_REVIEW_REQUEST_DUE_DAYS * DAY);
    int64_t decision = f->sequence_due_ms - SES_REVIEW_DECISION_LEAD_DAYS * DAY;
    if (f->sequence_due_ms && decision - 2 * WEEK <= session_ms)
        add(e, SES_RR_DECISION, decision - 2 * WEEK, decision);
    if (f->last_review_ms) {
        int64_t aging = f->next_review_ms ? f->next_review_ms
                                          : f->last_review_ms + SES_REVIEW_AGING_WEEKS * WEEK;
        int64_t limit = f->last_review_ms + SES_REVIEW_MAX_WEEKS * WEEK;
        if (aging <= next || limit <= next)
            add(e, SES_RR_AGING, f->last_review_ms, aging < limit ? aging : limit);
    }
    if (e->reasons == 0)
        return false;
    int64_t since = f->last_review_ms ? f->last_review_ms : f->enrolled_ms;
    int weeks = session_ms > since ? (int)((session_ms - since) / WEEK) : 0;
    e->score = 4 * (f->safety_ms != 0) + 3 * (f->severe_ms != 0) + 2 * (f->worsening_ms != 0) +
               weeks + 2 * f->deferrals;
    return true;
}

/* The row of entry e before capacity: tiers, promotion, due date, units. */
static struct ses_agenda_row row_of(const struct ses_review_entry *e, size_t i,
                                    const struct ses_agenda_params *p)
{
    struct ses_agenda_row r = {.entry = i, .tier = SES_T6, .due_ms = INT64_MAX, .units = 1};
    int64_t next = next_of(p->session_ms, p->next_ms), hard = INT64_MAX;
    for (int k = 0; k < SES_RR_COUNT; k++) {
        if (!(e->reasons & (1u << k)))
            continue;
        if (reasons[k].tier < r.tier)
            r.tier = reasons[k].tier;
        if (e->due_ms[k] < r.due_ms)
            r.due_ms = e->due_ms[k];
        if (reasons[k].hard && e->due_ms[k] < hard)
            hard = e->due_ms[k];
    }
    r.base_tier = r.tier;
    if (e->reasons & (1u << SES_RR_NEW))
        r.units = p->new_units > 0 ? p->new_units : SES_REVIEW_NEW_UNITS;
    if (e->deferrals >= SES_REVIEW_PROMOTE_DEFERRALS && r.tier > SES_T1) {
        r.tier = (enum ses_tier)(r.tier - 1);
        r.promoted = SES_PROMO_DEFERRED;
    }
    int64_t since = e->last_review_ms ? e->last_review_ms : e->enrolled_ms;
    if (r.tier > SES_T1 && hard < next) {
        r.tier = SES_T1;
        r.promoted = SES_PROMO_DUE;
    } else if (r.tier > SES_T1 && since + SES_REVIEW_MAX_WEEKS * WEEK <= next) {
        r.tier = SES_T1;
        r.promoted = SES_PROMO_12_WEEKS;
    }
    return r;
}

struct sort_ctx {
    const struct ses_review_entry *e;
    struct ses_agenda_row row;
};

static int cmp_rows(const void *pa, const void *pb)
{
    const struct sort_ctx *a = pa, *b = pb;
    if (a->row.tier != b->row.tier)
        return a->row.tier < b->row.tier ? -1 : 1;
    if (a->row.due_ms != b->row.due_ms)
        return a->row.due_ms < b->row.due_ms ? -1 : 1;
    if (a->e->score != b->e->score)
        return a->e->score > b->e->score ? -1 : 1;
    if (a->e->enrolled_ms != b->e->enrolled_ms)
        return a->e->enrolled_ms < b->e->enrolled_ms ? -1 : 1;
    return memcmp(a->e->thread, b->e->thread, SES_ID_BYTES);
}

int ses_agenda_build(const struct ses_review_entry *entries, size_t n,
                     const struct ses_agenda_params *p, struct ses_agenda *out)
{
    memset(out, 0, sizeof *out);
    struct sort_ctx *ctx = calloc(SES_AGENDA_MAX, sizeof *ctx);
    if (ctx == NULL)
        return SES_ENOMEM;
    int per_case = p->minutes_per_case > 0 ? p->minutes_per_case : SES_REVIEW_MINUTES_PER_CASE;
    int64_t next = next_of(p->session_ms, p->next_ms);
    out->slots = p->minutes > 0 ? p->minutes / per_case : 0;
    out->n = n < SES_AGENDA_MAX ? n : SES_AGENDA_MAX;
    for (size_t i = 0; i < out->n; i++)
        ctx[i] = (struct sort_ctx){.e = &entries[i], .row = row_of(&entries[i], i, p)};
    qsort(ctx, out->n, sizeof ctx[0], cmp_rows);
    bool open = true;
    for (size_t i = 0; i < out->n; i++) {
        struct ses_agenda_row *r = &out->rows[i];
        *r = ctx[i].row;
        r->position = (int)i + 1;
        open = open && out->used + r->units <= out->slots;
        r->in = open;
        if (r->in)
            out->used += r->units;
        else if (r->tier <= SES_T3 && r->due_ms <= next)
            out->overflow_urgent++;
        if (r->due_ms < p->session_ms)
            out->missed_due++;
    }
    free(ctx);
    return 0;
}

bool ses_agenda_overflows(const struct ses_agenda *a)
{
    return a->overflow_urgent > 0;
}

bool ses_agenda_deferred(const struct ses_agenda *a, size_t entry, bool cancelled)
{
    if (cancelled)
        return false;
    for (size_t i = 0; i < a->n; i++)
        if (a->rows[i].entry == entry)
            return !a->rows[i].in;
    return false;
}
