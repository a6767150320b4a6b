/*
 * store_review.c - the case review's rows (store_review.h). Statements are prepared per call:
 * review requests are rare next to messages.
 */
#include <stdio.h>
#include <string.h>

#include "sesame/err.h"

#include "store_alert.h"
#include "store_internal.h"
#include "store_rec.h"
#include "store_review.h"

#define DAY_MS (86400LL * 1000)
#define SAFETY_WINDOW_DAYS 14 /* an item 9 counts for the review queue this long */

#define SESSION_COLS                                                                               \
    "id, series_id, psychiatrist, start_ms, minutes, state, entries, missed_due, created_by, "     \
    "created_ms, used"

int ses_store_review_series_insert(struct ses_store *st, const struct ses_review_series *s)
{
    sqlite3_stmt *q = store_prep(st, "INSERT INTO review_series(id, psychiatrist, weekday, minute, "
                                     "minutes, created_by, created_ms) VALUES(?1, ?2, ?3, ?4, ?5, "
                                     "?6, ?7)");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, s->id);
    bind_id(q, 2, s->psychiatrist);
    sqlite3_bind_int(q, 3, s->weekday);
    sqlite3_bind_int(q, 4, s->minute);
    sqlite3_bind_int(q, 5, s->minutes);
    bind_id(q, 6, s->created_by);
    sqlite3_bind_int64(q, 7, s->created_ms);
    return store_run(st, q);
}

int ses_store_review_series_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                                struct ses_review_series *s)
{
    sqlite3_stmt *q = store_prep(st, "SELECT psychiatrist, weekday, minute, minutes, created_by, "
                                     "created_ms FROM review_series WHERE id = ?1");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, id);
    int step = sqlite3_step(q), rc = step == SQLITE_DONE ? SES_ENOT_FOUND : SES_EIO;
    if (step == SQLITE_ROW) {
        memset(s, 0, sizeof *s);
        memcpy(s->id, id, SES_ID_BYTES);
        col_id(q, 0, s->psychiatrist);
        s->weekday = sqlite3_column_int(q, 1);
        s->minute = sqlite3_column_int(q, 2);
        s->minutes = sqlite3_column_int(q, 3);
        col_id(q, 4, s->created_by);
        s->created_ms = sqlite3_column_int64(q, 5);
        rc = 0;
    }
    sqlite3_finalize(q);
    return rc;
}

int ses_store_review_session_insert(struct ses_store *st, const struct ses_review_session *s,
                                    bool *added)
{
    sqlite3_stmt *q = store_prep(st, "INSERT OR IGNORE INTO review_sessions(" SESSION_COLS
                                     ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, 0, 0, ?7, ?8, 0)");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, s->id);
    bind_opt_id(q, 2, s->has_series, s->series);
    bind_id(q, 3, s->psychiatrist);
    sqlite3_bind_int64(q, 4, s->start_ms);
    sqlite3_bind_int(q, 5, s->minutes);
    sqlite3_bind_text(q, 6, s->state, -1, SQLITE_TRANSIENT);
    bind_id(q, 7, s->created_by);
    sqlite3_bind_int64(q, 8, s->created_ms);
    int rc = store_run(st, q);
    *added = rc == 0;
    return rc == SES_ENOT_FOUND ? 0 : rc;
}

static void read_session(sqlite3_stmt *q, struct ses_review_session *s)
{
    memset(s, 0, sizeof *s);
    col_id(q, 0, s->id);
    s->has_series = col_id(q, 1, s->series);
    col_id(q, 2, s->psychiatrist);
    s->start_ms = sqlite3_column_int64(q, 3);
    s->minutes = sqlite3_column_int(q, 4);
    col_text(q, 5, s->state, sizeof s->state);
    s->entries = sqlite3_column_int(q, 6);
    s->missed_due = sqlite3_column_int(q, 7);
    col_id(q, 8, s->created_by);
    s->created_ms = sqlite3_column_int64(q, 9);
    s->used = sqlite3_column_int(q, 10);
}

/* Steps q (finalized here) through its rows into cb; a non-zero return of cb stops with it. */
static int each_session(sqlite3_stmt *q, ses_review_session_cb cb, void *ud)
{
    int step, rc = 0;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ses_review_session s;
        read_session(q, &s);
        rc = cb(ud, &s);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = SES_EIO;
    sqlite3_finalize(q);
    return rc;
}

static int copy_session(void *ud, const struct ses_review_session *s)
{
    *(struct ses_review_session *)ud = *s;
    return 1;
}

/* The first session q selects into *s: 0, SES_ENOT_FOUND or SES_EIO. */
static int one_session(sqlite3_stmt *q, struct ses_review_session *s)
{
    int rc = each_session(q, copy_session, s);
    return rc == 1 ? 0 : rc == 0 ? SES_ENOT_FOUND : rc;
}

int ses_store_review_session_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                                 struct ses_review_session *s)
{
    sqlite3_stmt *q = store_prep(st, "SELECT " SESSION_COLS " FROM review_sessions WHERE id = ?1");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, id);
    return one_session(q, s);
}

int ses_store_review_session_set(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                                 const char *state, int entries, int missed_due, int used)
{
    sqlite3_stmt *q = store_prep(st, "UPDATE review_sessions SET state = ?2, entries = ?3, "
                                     "missed_due = ?4, used = ?5 WHERE id = ?1");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, id);
    sqlite3_bind_text(q, 2, state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(q, 3, entries);
    sqlite3_bind_int(q, 4, missed_due);
    sqlite3_bind_int(q, 5, used);
    return store_run(st, q);
}

int ses_store_review_sessions(struct ses_store *st, const uint8_t *psychiatrist, int64_t from,
                              int64_t to, ses_review_session_cb cb, void *ud)
{
    sqlite3_stmt *q = store_prep(st, "SELECT " SESSION_COLS " FROM review_sessions WHERE "
                                     "start_ms >= ?1 AND start_ms < ?2 AND (?3 IS NULL OR "
                                     "psychiatrist = ?3) ORDER BY start_ms, id");
    if (q == NULL)
        return SES_EIO;
    sqlite3_bind_int64(q, 1, from);
    sqlite3_bind_int64(q, 2, to);
    bind_opt_id(q, 3, psychiatrist != NULL, psychiatrist);
    return each_session(q, cb, ud);
}

int ses_store_review_sessions_started(struct ses_store *st, int64_t now_ms, int limit,
                                      ses_review_session_cb cb, void *ud)
{
    sqlite3_stmt *q = store_prep(st, "SELECT " SESSION_COLS " FROM review_sessions WHERE "
                                     "state = 'planned' AND start_ms <= ?1 ORDER BY start_ms, "
                                     "id LIMIT ?2");
    if (q == NULL)
        return SES_EIO;
    sqlite3_bind_int64(q, 1, now_ms);
    sqlite3_bind_int(q, 2, limit);
    return each_session(q, cb, ud);
}

int ses_store_review_session_next(struct ses_store *st, const uint8_t psychiatrist[SES_ID_BYTES],
                                  int64_t after_ms, struct ses_review_session *s)
{
    sqlite3_stmt *q = store_prep(st, "SELECT " SESSION_COLS " FROM review_sessions WHERE "
                                     "psychiatrist = ?1 AND state = 'planned' AND start_ms > ?2 "
                                     "ORDER BY start_ms, id LIMIT 1");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, psychiatrist);
    sqlite3_bind_int64(q, 2, after_ms);
    return one_session(q, s);
}

int ses_store_review_session_last_held(struct ses_store *st,
                                       const uint8_t psychiatrist[SES_ID_BYTES], int64_t before_ms,
                                       struct ses_review_session *s)
{
    sqlite3_stmt *q = store_prep(st, "SELECT " SESSION_COLS " FROM review_sessions WHERE "
                                     "psychiatrist = ?1 AND state = 'held' AND start_ms < ?2 "
                                     "ORDER BY start_ms DESC, id LIMIT 1");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, psychiatrist);
    sqlite3_bind_int64(q, 2, before_ms);
    return one_session(q, s);
}

int ses_store_review_next_start(struct ses_store *st, int64_t *ms)
{
    sqlite3_stmt *q =
        store_prep(st, "SELECT min(start_ms) FROM review_sessions WHERE state = 'planned'");
    if (q == NULL)
        return SES_EIO;
    int step = sqlite3_step(q);
    *ms = step == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL
              ? sqlite3_column_int64(q, 0)
              : -1;
    sqlite3_finalize(q);
    return step == SQLITE_ROW ? 0 : SES_EIO;
}

int ses_store_review_request_add(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                 const char *reason, const uint8_t by[SES_ID_BYTES], int64_t now_ms)
{
    sqlite3_stmt *q = store_prep(st, "INSERT INTO review_requests(thread_id, reason, by_user, "
                                     "added_ms) VALUES(?1, ?2, ?3, ?4)");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, thread);
    sqlite3_bind_text(q, 2, reason, -1, SQLITE_TRANSIENT);
    bind_id(q, 3, by);
    sqlite3_bind_int64(q, 4, now_ms);
    return store_run(st, q);
}

int ses_store_review_requests_done(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                   int64_t now_ms)
{
    sqlite3_stmt *q = store_prep(st, "UPDATE review_requests SET done_ms = ?2 WHERE thread_id = "
                                     "?1 AND done_ms IS NULL");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, thread);
    sqlite3_bind_int64(q, 2, now_ms);
    int rc = store_run(st, q);
    return rc == SES_ENOT_FOUND ? 0 : rc;
}

int ses_store_review_request_codes(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                   char *out, size_t cap)
{
    sqlite3_stmt *q = store_prep(st, "SELECT DISTINCT reason FROM review_requests WHERE "
                                     "thread_id = ?1 AND done_ms IS NULL ORDER BY reason");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, thread);
    size_t n = 0;
    int step;
    out[0] = '\0';
    while ((step = sqlite3_step(q)) == SQLITE_ROW && n < cap) {
        const unsigned char *t = sqlite3_column_text(q, 0);
        int w = snprintf(out + n, cap - n, "%s%s", n ? "," : "", t ? (const char *)t : "");
        n = w < 0 ? cap : n + (size_t)w;
    }
    sqlite3_finalize(q);
    return step == SQLITE_DONE || step == SQLITE_ROW ? 0 : SES_EIO;
}

/* Folds an alert type's earliest raise into the reason it stands for. */
static void fact_of_alert(struct ses_review_facts *f, const char *type, const char *variant,
                          int64_t raised)
{
    int64_t *slot = NULL;
    if (strcmp(type, "A01") == 0 || strcmp(type, "A02") == 0 || strcmp(type, "A03") == 0 ||
        (strcmp(type, "A19") == 0 && strcmp(variant, "psychiatric") == 0))
        slot = &f->safety_ms;
    else if (strcmp(type, "A06") == 0)
        slot = &f->not_improving_ms;
    else if (strcmp(type, "A05") == 0)
        slot = &f->worsening_ms;
    else if (strcmp(type, "A04") == 0)
        slot = &f->severe_ms;
    else if (strcmp(type, "A11") == 0)
        slot = &f->relapse_ms;
    else if (strcmp(type, "A13") == 0)
        slot = &f->request_ms;
    if (slot != NULL && (*slot == 0 || raised < *slot))
        *slot = raised;
}

int ses_store_review_facts(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                           int64_t session_ms, struct ses_review_facts *f)
{
    struct ses_thread_meta m;
    int rc = ses_store_thread_meta_get(st, thread, &m);
    if (rc != 0)
        return rc;
    memset(f, 0, sizeof *f);
    f->enrolled_ms = m.enrolled_ms;
    f->last_review_ms = m.last_review_ms;
    f->next_review_ms = m.next_review_ms;
    f->sequence_due_ms = m.sequence_due_ms;
    f->active = m.closed_ms == 0;
    f->deferrals = m.review_deferrals;
    sqlite3_stmt *q = store_prep(st, "SELECT type, variant, min(raised_ms) FROM alerts WHERE "
                                     "thread_id = ?1 AND state != 'cancelled' AND raised_ms > ?2 "
                                     "AND (type != 'A01' OR raised_ms >= ?3) GROUP BY type, "
                                     "variant");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, thread);
    sqlite3_bind_int64(q, 2, m.last_review_ms);
    sqlite3_bind_int64(q, 3, session_ms - SAFETY_WINDOW_DAYS * DAY_MS);
    int step;
    while ((step = sqlite3_step(q)) == SQLITE_ROW) {
        char type[8], variant[24];
        col_text(q, 0, type, sizeof type);
        col_text(q, 1, variant, sizeof variant);
        fact_of_alert(f, type, variant, sqlite3_column_int64(q, 2));
    }
    sqlite3_finalize(q);
    if (step != SQLITE_DONE)
        return SES_EIO;
    q = store_prep(st, "SELECT min(added_ms) FROM review_requests WHERE thread_id = ?1 AND "
                       "done_ms IS NULL");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, thread);
    if ((step = sqlite3_step(q)) == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL) {
        int64_t added = sqlite3_column_int64(q, 0);
        if (f->request_ms == 0 || added < f->request_ms)
            f->request_ms = added;
    }
    sqlite3_finalize(q);
    if (step != SQLITE_ROW)
        return SES_EIO;
    /* a recommendation the GP declined since the last review: the psychiatrist sees the reason */
    return ses_store_rec_declined_since(st, thread, m.last_review_ms, &f->declined_ms);
}

#define ROW_COLS                                                                                   \
    "session_id, thread_id, position, tier, base_tier, promoted, reasons, due_ms, units, "         \
    "in_capacity, outcome, outcome_ms, next_review_ms"

int ses_store_review_row_put(struct ses_store *st, const struct ses_review_row *r)
{
    sqlite3_stmt *q = store_prep(st, "INSERT OR REPLACE INTO review_agenda(" ROW_COLS
                                     ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                                     "?13)");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, r->session);
    bind_id(q, 2, r->thread);
    sqlite3_bind_int(q, 3, r->position);
    sqlite3_bind_int(q, 4, r->tier);
    sqlite3_bind_int(q, 5, r->base_tier);
    bind_opt_text(q, 6, r->promoted);
    sqlite3_bind_text(q, 7, r->reasons, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 8, r->due_ms);
    sqlite3_bind_int(q, 9, r->units);
    sqlite3_bind_int(q, 10, r->in);
    bind_opt_text(q, 11, r->outcome);
    bind_opt_int(q, 12, r->outcome_ms);
    bind_opt_int(q, 13, r->next_review_ms);
    return store_run(st, q);
}

static void read_row(sqlite3_stmt *q, struct ses_review_row *r)
{
    memset(r, 0, sizeof *r);
    col_id(q, 0, r->session);
    col_id(q, 1, r->thread);
    r->position = sqlite3_column_int(q, 2);
    r->tier = sqlite3_column_int(q, 3);
    r->base_tier = sqlite3_column_int(q, 4);
    col_text(q, 5, r->promoted, sizeof r->promoted);
    col_text(q, 6, r->reasons, sizeof r->reasons);
    r->due_ms = sqlite3_column_int64(q, 7);
    r->units = sqlite3_column_int(q, 8);
    r->in = sqlite3_column_int(q, 9) != 0;
    col_text(q, 10, r->outcome, sizeof r->outcome);
    r->outcome_ms = sqlite3_column_int64(q, 11);
    r->next_review_ms = sqlite3_column_int64(q, 12);
}

int ses_store_review_rows(struct ses_store *st, const uint8_t session[SES_ID_BYTES],
                          ses_review_row_cb cb, void *ud)
{
    sqlite3_stmt *q = store_prep(st, "SELECT " ROW_COLS " FROM review_agenda WHERE session_id = "
                                     "?1 ORDER BY position");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, session);
    int step, rc = 0;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ses_review_row r;
        read_row(q, &r);
        rc = cb(ud, &r);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = SES_EIO;
    sqlite3_finalize(q);
    return rc;
}

int ses_store_review_row_undecided(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                   struct ses_review_row *r)
{
    sqlite3_stmt *q = store_prep(st, "SELECT a.session_id, a.thread_id, a.position, a.tier, "
                                     "a.base_tier, a.promoted, a.reasons, a.due_ms, a.units, "
                                     "a.in_capacity, a.outcome, a.outcome_ms, a.next_review_ms "
                                     "FROM review_agenda a JOIN review_sessions s ON s.id = "
                                     "a.session_id WHERE a.thread_id = ?1 AND a.in_capacity = 1 "
                                     "AND a.outcome IS NULL AND s.state = 'held' ORDER BY "
                                     "s.start_ms DESC LIMIT 1");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, thread);
    int step = sqlite3_step(q), rc = step == SQLITE_DONE ? SES_ENOT_FOUND : SES_EIO;
    if (step == SQLITE_ROW) {
        read_row(q, r);
        rc = 0;
    }
    sqlite3_finalize(q);
    return rc;
}

int ses_store_review_row_outcome(struct ses_store *st, const uint8_t session[SES_ID_BYTES],
                                 const uint8_t thread[SES_ID_BYTES], const char *outcome,
                                 int64_t next_review_ms, const uint8_t by[SES_ID_BYTES],
                                 int64_t now_ms)
{
    sqlite3_stmt *q = store_prep(st, "UPDATE review_agenda SET outcome = ?3, outcome_ms = ?4, "
                                     "outcome_by = ?5, next_review_ms = ?6 WHERE session_id = ?1 "
                                     "AND thread_id = ?2");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, session);
    bind_id(q, 2, thread);
    sqlite3_bind_text(q, 3, outcome, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 4, now_ms);
    bind_id(q, 5, by);
    bind_opt_int(q, 6, next_review_ms);
    return store_run(st, q);
}

int ses_store_review_minutes_put(struct ses_store *st, const uint8_t session[SES_ID_BYTES],
                                 const uint8_t (*attended)[SES_ID_BYTES], int n,
                                 const uint8_t by[SES_ID_BYTES], int64_t now_ms)
{
    sqlite3_stmt *q = store_prep(st, "INSERT OR REPLACE INTO review_minutes(session_id, attended, "
                                     "recorded_by, recorded_ms) VALUES(?1, ?2, ?3, ?4)");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, session);
    bind_ids(q, 2, attended, n);
    bind_id(q, 3, by);
    sqlite3_bind_int64(q, 4, now_ms);
    return store_run(st, q);
}

int ses_store_review_minutes_get(struct ses_store *st, const uint8_t session[SES_ID_BYTES],
                                 uint8_t (*attended)[SES_ID_BYTES], int *n, int64_t *recorded_ms)
{
    sqlite3_stmt *q = store_prep(st, "SELECT attended, recorded_ms FROM review_minutes WHERE "
                                     "session_id = ?1");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, session);
    int step = sqlite3_step(q);
    *n = 0;
    *recorded_ms = 0;
    if (step == SQLITE_ROW) {
        *n = col_ids(q, 0, attended, SES_REVIEW_MINUTES_ATTENDED_MAX);
        *recorded_ms = sqlite3_column_int64(q, 1);
    }
    sqlite3_finalize(q);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : SES_EIO;
}
