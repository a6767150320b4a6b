/*
 * review.c - the weekly case review's engine (review.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sesame/err.h"

#include "log.h"
#include "review.h"

#define DAY_MS (86400LL * 1000)
#define MISSED_SHARE 10 /* more than 1 in 10 entries past due, two sessions running: A20 */

struct threads_acc {
    uint8_t (*ids)[SES_ID_BYTES];
    size_t n;
};

static void add_thread(void *ud, const struct ses_thread_line *l)
{
    struct threads_acc *a = ud;
    if (a->n < SES_AGENDA_MAX)
        memcpy(a->ids[a->n++], l->t.id, SES_ID_BYTES);
}

int ses_review_agenda_live(struct ses_store *st, const struct ses_config *cfg,
                           const struct ses_review_session *s, struct ses_review_agenda *out)
{
    (void)cfg;
    struct ses_review_session next;
    uint8_t(*ids)[SES_ID_BYTES] = calloc(SES_AGENDA_MAX, SES_ID_BYTES);
    struct threads_acc acc = {.ids = ids};
    if (ids == NULL)
        return SES_ENOMEM;
    memset(out, 0, sizeof *out);
    out->session = *s;
    int rc = ses_store_review_session_next(st, s->psychiatrist, s->start_ms, &next);
    if (rc == 0)
        out->next_ms = next.start_ms;
    else if (rc == SES_ENOT_FOUND)
        rc = 0;
    if (rc == 0)
        rc = ses_store_threads_of_user(st, s->psychiatrist, add_thread, &acc);
    for (size_t i = 0; rc == 0 && i < acc.n; i++) {
        struct ses_review_facts f;
        if ((rc = ses_store_review_facts(st, ids[i], s->start_ms, &f)) == 0 &&
            ses_review_entry_of(&f, ids[i], s->start_ms, out->next_ms, &out->entries[out->n]))
            out->n++;
    }
    free(ids);
    if (rc != 0)
        return rc;
    struct ses_agenda_params p = {.session_ms = s->start_ms,
                                  .next_ms = out->next_ms,
                                  .minutes = s->minutes,
                                  .minutes_per_case = SES_REVIEW_MINUTES_PER_CASE,
                                  .new_units = SES_REVIEW_NEW_UNITS};
    return ses_agenda_build(out->entries, out->n, &p, &out->agenda);
}

void ses_review_reasons_text(const struct ses_review_entry *e, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (int k = 0; k < SES_RR_COUNT && n < cap; k++) {
        if (!(e->reasons & (1u << k)))
            continue;
        int w = snprintf(out + n, cap - n, "%s%s:%lld:%lld", n ? "," : "",
                         ses_review_reason_name((enum ses_review_reason)k),
                         (long long)e->trigger_ms[k], (long long)e->due_ms[k]);
        n = w < 0 ? cap : n + (size_t)w;
    }
}

/* The start (ms) of the local date y-m-d (its day of the month may overflow: mktime normalises)
 * at minute of the day, in the daemon's time zone. */
static int64_t local_start(int y, int m, int d, int minute)
{
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = m,
                    .tm_mday = d,
                    .tm_hour = minute / 60,
                    .tm_min = minute % 60,
                    .tm_isdst = -1};
    return (int64_t)mktime(&tm) * 1000;
}

int ses_review_plan_series(struct ses_store *st, const struct ses_review_series *series,
                           int64_t now)
{
    time_t t = (time_t)(now / 1000);
    struct tm today;
    if (localtime_r(&t, &today) == NULL)
        return SES_EINTERNAL;
    int rc = 0;
    for (int k = 0; rc == 0 && k <= 7 * SES_REVIEW_WEEKS_AHEAD; k++) {
        int weekday = (today.tm_wday + k) % 7; /* 0 Sunday */
        if ((weekday == 0 ? 7 : weekday) != series->weekday)
            continue;
        int64_t start =
            local_start(today.tm_year + 1900, today.tm_mon, today.tm_mday + k, series->minute);
        if (start <= now)
            continue;
        struct ses_review_session s = {
            .has_series = true, .start_ms = start, .minutes = series->minutes, .created_ms = now};
        randombytes_buf(s.id, sizeof s.id);
        memcpy(s.series, series->id, SES_ID_BYTES);
        memcpy(s.psychiatrist, series->psychiatrist, SES_ID_BYTES);
        memcpy(s.created_by, series->created_by, SES_ID_BYTES);
        snprintf(s.state, sizeof s.state, "planned");
        bool added = false;
        rc = ses_store_review_session_insert(st, &s, &added);
    }
    return rc;
}

/* Raises A20 (capacity) for the program lead on the thread of the first urgent entry the agenda
 * left out, once per session. */
static int raise_capacity(struct ses_store *st, const struct ses_config *cfg,
                          const struct ses_review_agenda *a, const char *why, int64_t now,
                          struct ses_alert_touched *t)
{
    const struct ses_agenda_row *first = NULL;
    for (size_t i = 0; i < a->agenda.n && first == NULL; i++)
        if (!a->agenda.rows[i].in || a->agenda.rows[i].due_ms < a->session.start_ms)
            first = &a->agenda.rows[i];
    if (first == NULL)
        return 0;
    const struct ses_alert_type *type = ses_alert_type_find("A20", NULL);
    char cond[SES_ALERT_COND_KEY_MAX];
    snprintf(cond, sizeof cond, "A20:%lld", (long long)a->session.start_ms);
    struct ses_raise r = {.type = type,
                          .severity = (int)type->severity,
                          .origin = "daemon",
                          .cond_key = cond,
                          .now = now};
    uint8_t id[SES_ID_BYTES];
    bool repeat = false, seen = false;
    const uint8_t *thread = a->entries[first->entry].thread;
    int rc = ses_store_alert_cond_exists(st, thread, cond, &seen);
    if (rc != 0 || seen)
        return rc;
    SES_LOG(SES_LOG_NOTICE, "review", "session at %lld: %s (A20)", (long long)a->session.start_ms,
            why);
    return ses_alert_raise_txn(st, cfg, thread, &r, id, &repeat, t);
}

/* Whether the session before s of the same psychiatrist also had more than a tenth of its
 * entries past due. */
static int missed_before(struct ses_store *st, const struct ses_review_session *s, bool *also)
{
    struct ses_review_session prev;
    int rc = ses_store_review_session_last_held(st, s->psychiatrist, s->start_ms, &prev);
    *also = rc == 0 && prev.entries > 0 && prev.missed_due * MISSED_SHARE > prev.entries;
    return rc == SES_ENOT_FOUND ? 0 : rc;
}

/* Stores a's rows (frozen) and defers the left-over entries once. */
static int freeze(struct ses_store *st, const struct ses_review_agenda *a)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->agenda.n; i++) {
        const struct ses_agenda_row *row = &a->agenda.rows[i];
        const struct ses_review_entry *e = &a->entries[row->entry];
        struct ses_review_row r = {.position = row->position,
                                   .tier = row->tier,
                                   .base_tier = row->base_tier,
                                   .units = row->units,
                                   .due_ms = row->due_ms,
                                   .in = row->in};
        memcpy(r.session, a->session.id, SES_ID_BYTES);
        memcpy(r.thread, e->thread, SES_ID_BYTES);
        const char *promo = ses_promotion_name(row->promoted);
        snprintf(r.promoted, sizeof r.promoted, "%s", promo ? promo : "");
        ses_review_reasons_text(e, r.reasons, sizeof r.reasons);
        rc = ses_store_review_row_put(st, &r);
        if (rc == 0 && ses_agenda_deferred(&a->agenda, row->entry, false)) {
            struct ses_thread_meta m;
            if ((rc = ses_store_thread_meta_get(st, e->thread, &m)) == 0) {
                m.review_deferrals++;
                rc = ses_store_thread_meta_put(st, e->thread, &m);
            }
        }
    }
    return rc;
}

/* Holds one started session. */
static int hold(struct ses_store *st, const struct ses_config *cfg,
                const struct ses_review_session *s, int64_t now, struct ses_alert_touched *t)
{
    struct ses_review_agenda *a = malloc(sizeof *a);
    if (a == NULL)
        return SES_ENOMEM;
    bool missed_twice = false;
    int rc = ses_review_agenda_live(st, cfg, s, a);
    if (rc == 0)
        rc = freeze(st, a);
    if (rc == 0)
        rc = ses_store_review_session_set(st, s->id, "held", (int)a->agenda.n, a->agenda.missed_due,
                                          a->agenda.used);
    bool missed = a->agenda.n > 0 && a->agenda.missed_due * MISSED_SHARE > (int)a->agenda.n;
    if (rc == 0 && missed)
        rc = missed_before(st, s, &missed_twice);
    if (rc == 0 && ses_agenda_overflows(&a->agenda))
        rc = raise_capacity(st, cfg, a, "urgent entries left out", now, t);
    else if (rc == 0 && missed_twice)
        rc = raise_capacity(st, cfg, a, "due dates missed two sessions running", now, t);
    if (rc == 0 && s->has_series) {
        struct ses_review_series series;
        if ((rc = ses_store_review_series_get(st, s->series, &series)) == 0)
            rc = ses_review_plan_series(st, &series, now);
    }
    free(a);
    return rc;
}

struct started {
    int n;
    struct ses_review_session list[SES_REVIEW_PASS_MAX];
};

static int collect_started(void *ud, const struct ses_review_session *s)
{
    struct started *c = ud;
    c->list[c->n++] = *s;
    return 0;
}

int ses_review_pass(struct ses_store *st, const struct ses_config *cfg, int64_t now,
                    struct ses_alert_touched *t)
{
    struct started *c = calloc(1, sizeof *c);
    if (c == NULL)
        return SES_ENOMEM;
    int rc = ses_store_review_sessions_started(st, now, SES_REVIEW_PASS_MAX, collect_started, c);
    for (int i = 0; rc == 0 && i < c->n; i++)
        rc = hold(st, cfg, &c->list[i], now, t);
    free(c);
    return rc;
}

int ses_review_cancel(struct ses_store *st, const struct ses_config *cfg,
                      const struct ses_review_session *s, const struct ses_alert_actor *by,
                      int64_t now, struct ses_alert_touched *t)
{
    (void)by;
    struct ses_review_agenda *a = malloc(sizeof *a);
    if (a == NULL)
        return SES_ENOMEM;
    int rc = ses_review_agenda_live(st, cfg, s, a);
    int64_t next = a->next_ms ? a->next_ms : s->start_ms + 7 * DAY_MS;
    bool breach = false;
    for (size_t i = 0; rc == 0 && i < a->agenda.n; i++)
        breach = breach || (a->agenda.rows[i].tier <= SES_T2 && a->agenda.rows[i].due_ms < next);
    if (rc == 0)
        rc = ses_store_review_session_set(st, s->id, "cancelled", 0, 0, 0);
    if (rc == 0 && breach) {
        for (size_t i = 0; i < a->agenda.n; i++)
            a->agenda.rows[i].in = false; /* nobody is seen: the first urgent entry names it */
        rc = raise_capacity(st, cfg, a, "cancelled with urgent entries due", now, t);
    }
    free(a);
    return rc;
}
