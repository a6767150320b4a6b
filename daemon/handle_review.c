/*
 * handle_review.c - the weekly case review's requests (PROTOCOL.md §15): sessions (add, list,
 * cancel), the agenda, the queue and team requests, a case's outcome, the minutes, the end of an
 * episode. Reads run on the loop; every change is one writer job with its audit record, checked
 * again in the transaction, replied to after the commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/scales.h"

#include "alert_engine.h"
#include "resource.h"
#include "review.h"
#include "session.h"

#define DAY_MS (86400LL * 1000)
#define LIST_DAYS_DEFAULT 28
#define LIST_DAYS_MAX 366
#define NEXT_REVIEW_MAX_DAYS 365

static const char *const request_codes[] = {"DIAGNOSIS",          "MEDICATION", "SIDE_EFFECTS",
                                            "ADHERENCE",          "RISK",       "PSYCHOSOCIAL",
                                            "TREATMENT_RESPONSE", "OTHER",      NULL};
static const char *const outcome_codes[] = {
    "RECOMMENDATION", "CONTINUE",       "REFER", "RELAPSE_PREVENTION",
    "DISCHARGE",      "RENEW_SEQUENCE", NULL};
static const char *const close_reasons[] = {"remission",         "referred",      "patient_choice",
                                            "lost_to_follow_up", "inappropriate", NULL};

static bool one_of(const char *v, const char *const set[])
{
    for (int i = 0; v != NULL && set[i] != NULL; i++)
        if (strcmp(v, set[i]) == 0)
            return true;
    return false;
}

/* --- JSON ---------------------------------------------------------------------------------- */

static json_t *id_json(const uint8_t id[SES_ID_BYTES])
{
    char t[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(t, id);
    return json_string(t);
}

static json_t *opt_ms(int64_t v)
{
    return v != 0 ? json_integer(v) : json_null();
}

static json_t *session_json(const struct ses_review_session *s)
{
    json_t *o = json_pack("{s:o, s:o, s:o, s:I, s:i, s:i, s:s}", "session", id_json(s->id),
                          "psychiatrist", id_json(s->psychiatrist), "series",
                          s->has_series ? id_json(s->series) : json_null(), "start",
                          (json_int_t)s->start_ms, "minutes", s->minutes, "slots",
                          s->minutes / SES_REVIEW_MINUTES_PER_CASE, "state", s->state);
    if (o != NULL && strcmp(s->state, "held") == 0) {
        json_object_set_new(o, "entries", json_integer(s->entries));
        json_object_set_new(o, "missed_due", json_integer(s->missed_due));
        json_object_set_new(o, "used", json_integer(s->used));
    }
    return o;
}

static json_t *tier_json(int tier)
{
    char t[4];
    snprintf(t, sizeof t, "T%d", tier);
    return json_string(t);
}

/* Reasons stored as "code:since:due,...", as [{"code","since","due"}...]. */
static json_t *reasons_json(const char *text)
{
    json_t *arr = json_array();
    const char *p = text;
    while (arr != NULL && *p) {
        char code[32];
        long long since = 0, due = 0;
        int used = 0;
        if (sscanf(p, "%31[^:]:%lld:%lld%n", code, &since, &due, &used) != 3)
            break;
        json_array_append_new(arr, json_pack("{s:s, s:I, s:I}", "code", code, "since",
                                             (json_int_t)since, "due", (json_int_t)due));
        p += used;
        if (*p == ',')
            p++;
    }
    return arr;
}

static void add_patient(struct ses_store *st, json_t *o, const uint8_t thread[SES_ID_BYTES])
{
    struct ses_thread t;
    if (ses_store_thread_get(st, thread, &t) == 0)
        json_object_set_new(o, "patient", json_string(t.patient));
}

static json_t *row_json(struct ses_store *st, const struct ses_review_row *r)
{
    const char *promoted = r->promoted[0] ? r->promoted : NULL;
    json_t *o = json_pack(
        "{s:i, s:o, s:o, s:o, s:o, s:o, s:I, s:i, s:b, s:o, s:o}", "position", r->position,
        "thread", id_json(r->thread), "tier", tier_json(r->tier), "base_tier",
        tier_json(r->base_tier), "promoted", promoted ? json_string(promoted) : json_null(),
        "reasons", reasons_json(r->reasons), "due", (json_int_t)r->due_ms, "units", r->units, "in",
        r->in, "outcome", r->outcome[0] ? json_string(r->outcome) : json_null(), "next_review",
        opt_ms(r->next_review_ms));
    if (o != NULL)
        add_patient(st, o, r->thread);
    return o;
}

/* A live agenda row as a stored one (same JSON for both). */
static void row_of_live(const struct ses_review_agenda *a, size_t i, struct ses_review_row *r)
{
    const struct ses_agenda_row *row = &a->agenda.rows[i];
    const struct ses_review_entry *e = &a->entries[row->entry];
    const char *promo = ses_promotion_name(row->promoted);
    memset(r, 0, sizeof *r);
    memcpy(r->session, a->session.id, SES_ID_BYTES);
    memcpy(r->thread, e->thread, SES_ID_BYTES);
    r->position = row->position;
    r->tier = row->tier;
    r->base_tier = row->base_tier;
    r->units = row->units;
    r->due_ms = row->due_ms;
    r->in = row->in;
    snprintf(r->promoted, sizeof r->promoted, "%s", promo ? promo : "");
    ses_review_reasons_text(e, r->reasons, sizeof r->reasons);
}

/* --- the writer job ------------------------------------------------------------------------ */

enum review_op { RJ_SESSION, RJ_SERIES, RJ_CANCEL, RJ_REQUEST, RJ_OUTCOME, RJ_MINUTES, RJ_CLOSE };

struct review_job {
    struct ses_req req;
    enum review_op op;
    uint8_t thread[SES_ID_BYTES];
    struct ses_review_series series;
    struct ses_review_session session;
    char code[24];
    int64_t next_review_ms;
    int n_attended;
    uint8_t attended[SES_REVIEW_MINUTES_ATTENDED_MAX][SES_ID_BYTES];
    bool had_row; /* outcome: recorded on a held agenda's row */
    uint8_t row_session[SES_ID_BYTES];
    struct ses_alert_touched touched;
};

static int audit(struct ses_store *st, const struct review_job *j, const char *action,
                 const char *what, const char *extra)
{
    char object[160];
    snprintf(object, sizeof object, "%s%s%s", what, extra ? " " : "", extra ? extra : "");
    return ses_req_audit(st, &j->req, action, object, 0);
}

/* An audit object "KIND:<id>" ("thread:...", "session:...", "series:..."). */
static void id_object(char out[48], const char *kind, const uint8_t id[SES_ID_BYTES])
{
    char t[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(t, id);
    snprintf(out, 48, "%s:%s", kind, t);
}

static struct ses_alert_actor actor_of(const struct review_job *j)
{
    return (struct ses_alert_actor){.user = j->req.user,
                                    .device = j->req.device,
                                    .role = ses_role_name(j->req.role),
                                    .peer = j->req.peer};
}

static int run_outcome(struct ses_store *st, struct review_job *j)
{
    static const char *const review_alerts[] = {"A06", "A07", NULL};
    struct ses_thread_meta m;
    struct ses_review_row row;
    struct ses_alert_actor by = actor_of(j);
    char obj[48], extra[64];
    int rc = ses_store_thread_meta_get(st, j->thread, &m);
    if (rc != 0)
        return rc;
    if (m.closed_ms != 0)
        return SES_EBAD_STATE;
    m.last_review_ms = j->req.now;
    m.next_review_ms = j->next_review_ms;
    m.review_deferrals = 0;
    if (strcmp(j->code, "RELAPSE_PREVENTION") == 0)
        snprintf(m.phase, sizeof m.phase, "relapse_prevention");
    if (strcmp(j->code, "RENEW_SEQUENCE") == 0 && m.sequence_due_ms != 0)
        m.sequence_due_ms += 91 * DAY_MS; /* one more three-month block */
    if ((rc = ses_store_thread_meta_put(st, j->thread, &m)) != 0 ||
        (rc = ses_store_review_requests_done(st, j->thread, j->req.now)) != 0)
        return rc;
    rc = ses_store_review_row_undecided(st, j->thread, &row);
    j->had_row = rc == 0;
    if (rc == 0) {
        memcpy(j->row_session, row.session, SES_ID_BYTES);
        rc = ses_store_review_row_outcome(st, row.session, j->thread, j->code, j->next_review_ms,
                                          j->req.user, j->req.now);
    } else if (rc == SES_ENOT_FOUND) {
        rc = 0; /* reviewed outside a session's agenda (ad hoc) */
    }
    if (rc == 0)
        rc = ses_alert_review_clear_txn(st, j->thread, review_alerts, &by, j->req.now, &j->touched);
    if (rc == 0 && strcmp(j->code, "RENEW_SEQUENCE") == 0) {
        static const char *const decision[] = {"A12", NULL};
        rc = ses_alert_clear_txn(st, j->thread, decision, &by, j->req.now, &j->touched);
    }
    if (rc == 0)
        rc = ses_store_thread_rules_stale(st, j->thread);
    id_object(obj, "thread", j->thread);
    snprintf(extra, sizeof extra, "outcome:%s next_review:%lld", j->code,
             (long long)j->next_review_ms);
    return rc != 0 ? rc : audit(st, j, "review.outcome", obj, extra);
}

static int run_close(struct ses_store *st, struct review_job *j)
{
    static const char *const time_alerts[] = {"A07", "A08", "A09", "A09b", "A12", "A22", NULL};
    struct ses_thread_meta m;
    struct ses_alert_actor by = actor_of(j);
    char obj[48], extra[48];
    int rc = ses_store_thread_meta_get(st, j->thread, &m);
    if (rc != 0)
        return rc;
    if (m.closed_ms != 0)
        return SES_EBAD_STATE;
    m.closed_ms = j->req.now;
    snprintf(m.closed_reason, sizeof m.closed_reason, "%s", j->code);
    if ((rc = ses_store_thread_meta_put(st, j->thread, &m)) != 0 ||
        (rc = ses_store_review_requests_done(st, j->thread, j->req.now)) != 0 ||
        (rc = ses_alert_clear_txn(st, j->thread, time_alerts, &by, j->req.now, &j->touched)) != 0 ||
        (rc = ses_store_thread_set_next_rule(st, j->thread, -1)) != 0)
        return rc;
    id_object(obj, "thread", j->thread);
    snprintf(extra, sizeof extra, "reason:%s", j->code);
    return audit(st, j, "episode.close", obj, extra);
}

static int run_sessions(struct ses_store *st, struct review_job *j)
{
    char obj[48], extra[96];
    bool added = false;
    int rc;
    if (j->op == RJ_SERIES) {
        if ((rc = ses_store_review_series_insert(st, &j->series)) == 0)
            rc = ses_review_plan_series(st, &j->series, j->req.now);
        id_object(obj, "series", j->series.id);
        snprintf(extra, sizeof extra, "weekday:%d minute:%d minutes:%d", j->series.weekday,
                 j->series.minute, j->series.minutes);
    } else {
        rc = ses_store_review_session_insert(st, &j->session, &added);
        if (rc == 0 && !added)
            rc = SES_ECONFLICT;
        id_object(obj, "session", j->session.id);
        snprintf(extra, sizeof extra, "start:%lld minutes:%d", (long long)j->session.start_ms,
                 j->session.minutes);
    }
    return rc != 0 ? rc : audit(st, j, "review.session.add", obj, extra);
}

static int run_review(struct ses_store *st, void *arg)
{
    struct review_job *j = arg;
    struct ses_review_session cur;
    char obj[48], extra[48];
    int rc = 0;
    j->touched.n = 0;
    switch (j->op) {
    case RJ_SESSION:
    case RJ_SERIES:
        return run_sessions(st, j);
    case RJ_CANCEL: {
        struct ses_alert_actor by = actor_of(j);
        if ((rc = ses_store_review_session_get(st, j->session.id, &cur)) != 0)
            return rc == SES_ENOT_FOUND ? SES_EDENIED : rc;
        if (strcmp(cur.state, "planned") != 0)
            return SES_EBAD_STATE;
        if ((rc = ses_review_cancel(st, &j->req.d->cfg, &cur, &by, j->req.now, &j->touched)) != 0)
            return rc;
        id_object(obj, "session", cur.id);
        return audit(st, j, "review.session.cancel", obj, NULL);
    }
    case RJ_REQUEST:
    case RJ_OUTCOME:
    case RJ_CLOSE: {
        enum ses_action a = j->op == RJ_REQUEST   ? SES_ACT_QUEUE_ADD
                            : j->op == RJ_OUTCOME ? SES_ACT_REVIEW_OUTCOME
                                                  : SES_ACT_EPISODE_CLOSE;
        if ((rc = ses_resource_authorize_thread(st, j->req.role, a, j->thread, j->req.user)) != 0)
            return rc; /* removed from the thread while queued */
        if (j->op == RJ_OUTCOME)
            return run_outcome(st, j);
        if (j->op == RJ_CLOSE)
            return run_close(st, j);
        struct ses_thread_meta m;
        if ((rc = ses_store_thread_meta_get(st, j->thread, &m)) != 0)
            return rc;
        if (m.closed_ms != 0)
            return SES_EBAD_STATE;
        if ((rc = ses_store_review_request_add(st, j->thread, j->code, j->req.user, j->req.now)) !=
            0)
            return rc;
        id_object(obj, "thread", j->thread);
        snprintf(extra, sizeof extra, "reason:%s", j->code);
        return audit(st, j, "review.request", obj, extra);
    }
    case RJ_MINUTES:
        if ((rc = ses_store_review_session_get(st, j->session.id, &cur)) != 0)
            return rc;
        if (strcmp(cur.state, "held") != 0)
            return SES_EBAD_STATE;
        if ((rc = ses_store_review_minutes_put(st, cur.id,
                                               (const uint8_t(*)[SES_ID_BYTES])j->attended,
                                               j->n_attended, j->req.user, j->req.now)) != 0)
            return rc;
        id_object(obj, "session", cur.id);
        snprintf(extra, sizeof extra, "attended:%d", j->n_attended);
        return audit(st, j, "review.minutes", obj, extra);
    }
    return SES_EINTERNAL;
}

static json_t *minutes_json(struct ses_store *st, const uint8_t session[SES_ID_BYTES]);

/* Loop thread, after the commit: the reply, the alert pushes, the timer. */
static void done_review(void *arg, int rc)
{
    struct review_job *j = arg;
    struct ses_daemon *d = j->req.d;
    struct ses_session *s = ses_req_session(&j->req);
    json_t *body = NULL;
    const char *type = NULL;
    if (s != NULL && rc == 0) {
        struct ses_thread_meta m;
        struct ses_review_session cur;
        switch (j->op) {
        case RJ_SESSION:
        case RJ_CANCEL:
            type = "review_session";
            if (ses_store_review_session_get(d->store, j->session.id, &cur) == 0)
                body = json_pack("{s:o}", "session", session_json(&cur));
            break;
        case RJ_SERIES:
            type = "review_series";
            body = json_pack("{s:o, s:i, s:i, s:i}", "series", id_json(j->series.id), "weekday",
                             j->series.weekday, "minute", j->series.minute, "minutes",
                             j->series.minutes);
            break;
        case RJ_REQUEST:
            type = "queued";
            body = json_pack("{s:o, s:s}", "thread", id_json(j->thread), "reason", j->code);
            break;
        case RJ_OUTCOME:
        case RJ_CLOSE:
            type = j->op == RJ_OUTCOME ? "review_outcome" : "thread_meta";
            if (ses_store_thread_meta_get(d->store, j->thread, &m) == 0)
                body = json_pack("{s:o, s:o}", "thread", id_json(j->thread), "meta",
                                 ses_thread_meta_json(&m));
            if (body != NULL && j->op == RJ_OUTCOME)
                json_object_set_new(body, "session",
                                    j->had_row ? id_json(j->row_session) : json_null());
            break;
        case RJ_MINUTES:
            type = "review_minutes";
            body = minutes_json(d->store, j->session.id);
            break;
        }
    }
    if (s != NULL && rc != 0)
        ses_session_reply_error(s, j->req.id, rc);
    else if (s != NULL && body != NULL)
        (void)ses_session_reply(s, type, j->req.id, body);
    else if (s != NULL)
        ses_session_reply_error(s, j->req.id, SES_ENOMEM);
    if (rc == 0) {
        ses_alerts_push(d, &j->touched);
        ses_alerts_kick(d);
    }
    free(j);
}

static struct review_job *job_new(struct ses_session *s, const struct ses_frame *f,
                                  enum review_op op)
{
    struct review_job *j = calloc(1, sizeof *j);
    if (j != NULL) {
        ses_req_init(&j->req, s, f->id);
        j->op = op;
    }
    return j;
}

static int submit(struct review_job *j)
{
    return ses_req_submit(&j->req, run_review, done_review, j);
}

/* --- sessions ------------------------------------------------------------------------------ */

/* How the caller stands to a session of psychiatrist (exists: the user is an active
 * psychiatrist). */
static int session_resource(struct ses_session *s, const uint8_t psychiatrist[SES_ID_BYTES],
                            bool exists, struct ses_resource *r)
{
    struct ses_user u;
    memset(r, 0, sizeof *r);
    r->kind = SES_RES_SESSION;
    int rc = ses_store_user_get(s->d->store, psychiatrist, &u);
    if (rc != 0 && rc != SES_ENOT_FOUND)
        return rc;
    r->exists = exists && rc == 0 && !u.revoked && u.role == SES_ROLE_PSYCHIATRIST;
    r->session_own = memcmp(psychiatrist, s->user_id, SES_ID_BYTES) == 0;
    return 0;
}

int ses_handle_review_session_add(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"psychiatrist", "weekday", "time", "minutes", "start", NULL};
    uint8_t psy[SES_ID_BYTES];
    bool has_psy = false;
    const char *time = NULL;
    int64_t weekday = 0, minutes = 0, start = 0, now = ses_clock_now_ms(&s->d->clock);
    struct ses_resource res;
    int rc;
    (void)reply;
    if ((rc = ses_get_int(f->root, "minutes", 1, SES_REVIEW_MINUTES_MAX, true, &minutes)) != 0 ||
        (rc = ses_get_id(f->root, "psychiatrist", false, psy, &has_psy)) != 0 ||
        (rc = ses_get_int(f->root, "weekday", 1, 7, false, &weekday)) != 0 ||
        (rc = ses_get_str(f->root, "time", 5, 5, false, &time)) != 0 ||
        (rc = ses_get_int(f->root, "start", now + 1, INT64_MAX, false, &start)) != 0 ||
        (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    bool series = weekday != 0 || time != NULL;
    int minute = ses_time_of_day_parse(time);
    if ((series && (weekday == 0 || minute < 0 || start != 0)) || (!series && start == 0))
        return SES_EBAD_FIELD; /* a weekday and a time, or a start */
    if (!has_psy)
        memcpy(psy, s->user_id, SES_ID_BYTES);
    if ((rc = session_resource(s, psy, true, &res)) != 0 ||
        (rc = ses_session_authorize(s, SES_ACT_REVIEW_SESSION_SET, &res)) != 0)
        return rc;
    struct review_job *j = job_new(s, f, series ? RJ_SERIES : RJ_SESSION);
    if (j == NULL)
        return SES_ENOMEM;
    if (series) {
        randombytes_buf(j->series.id, SES_ID_BYTES);
        memcpy(j->series.psychiatrist, psy, SES_ID_BYTES);
        memcpy(j->series.created_by, s->user_id, SES_ID_BYTES);
        j->series.weekday = (int)weekday;
        j->series.minute = minute;
        j->series.minutes = (int)minutes;
        j->series.created_ms = now;
    } else {
        randombytes_buf(j->session.id, SES_ID_BYTES);
        memcpy(j->session.psychiatrist, psy, SES_ID_BYTES);
        memcpy(j->session.created_by, s->user_id, SES_ID_BYTES);
        j->session.start_ms = start;
        j->session.minutes = (int)minutes;
        j->session.created_ms = now;
        snprintf(j->session.state, sizeof j->session.state, "planned");
    }
    return submit(j);
}

struct list_acc {
    json_t *arr;
};

static int add_session(void *ud, const struct ses_review_session *s)
{
    struct list_acc *a = ud;
    json_t *o = session_json(s);
    if (o == NULL)
        return SES_ENOMEM;
    json_array_append_new(a->arr, o);
    return 0;
}

int ses_handle_review_sessions(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"psychiatrist", "from", "to", NULL};
    uint8_t psy[SES_ID_BYTES];
    bool has_psy = false;
    int64_t now = ses_clock_now_ms(&s->d->clock), from = now - DAY_MS / 2, to = 0;
    int rc;
    if ((rc = ses_get_id(f->root, "psychiatrist", false, psy, &has_psy)) != 0 ||
        (rc = ses_get_int(f->root, "from", 0, INT64_MAX, false, &from)) != 0 ||
        (rc = ses_get_int(f->root, "to", 0, INT64_MAX, false, &to)) != 0 ||
        (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    if (to == 0)
        to = from + LIST_DAYS_DEFAULT * DAY_MS;
    if (to <= from || to - from > LIST_DAYS_MAX * DAY_MS)
        return SES_EBAD_FIELD;
    struct list_acc a = {.arr = json_array()};
    if (a.arr == NULL)
        return SES_ENOMEM;
    rc = ses_store_review_sessions(s->d->store, has_psy ? psy : NULL, from, to, add_session, &a);
    if (rc != 0) {
        json_decref(a.arr);
        return rc;
    }
    *reply = json_pack("{s:o}", "sessions", a.arr);
    return *reply ? 0 : SES_ENOMEM;
}

/* Loads the request's session and asks the policy about action on it. */
static int authorized_session(struct ses_session *s, const struct ses_frame *f,
                              enum ses_action action, struct ses_review_session *out)
{
    uint8_t id[SES_ID_BYTES];
    struct ses_resource res = {.kind = SES_RES_SESSION};
    int rc = ses_get_id(f->root, "session", true, id, NULL);
    if (rc != 0)
        return rc;
    rc = ses_store_review_session_get(s->d->store, id, out);
    if (rc == 0)
        rc = session_resource(s, out->psychiatrist, true, &res);
    else if (rc == SES_ENOT_FOUND)
        rc = 0; /* refused below, as a session nobody may touch */
    return rc != 0 ? rc : ses_session_authorize(s, action, &res);
}

int ses_handle_review_session_cancel(struct ses_session *s, const struct ses_frame *f,
                                     json_t **reply)
{
    static const char *const keys[] = {"session", NULL};
    struct ses_review_session cur;
    int rc;
    (void)reply;
    if ((rc = authorized_session(s, f, SES_ACT_REVIEW_SESSION_SET, &cur)) != 0 ||
        (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    if (strcmp(cur.state, "planned") != 0)
        return SES_EBAD_STATE;
    struct review_job *j = job_new(s, f, RJ_CANCEL);
    if (j == NULL)
        return SES_ENOMEM;
    j->session = cur;
    return submit(j);
}

/* --- the agenda and the queue -------------------------------------------------------------- */

struct rows_acc {
    struct ses_store *st;
    json_t *arr;
    int used;
};

static int add_row(void *ud, const struct ses_review_row *r)
{
    struct rows_acc *a = ud;
    json_t *o = row_json(a->st, r);
    if (o == NULL)
        return SES_ENOMEM;
    a->used += r->in ? r->units : 0;
    json_array_append_new(a->arr, o);
    return 0;
}

/* The agenda of session cur: frozen rows once held, else the live one. */
static int agenda_json(struct ses_store *st, const struct ses_config *cfg,
                       const struct ses_review_session *cur, json_t **out)
{
    struct rows_acc acc = {.st = st, .arr = json_array()};
    int overflow = 0, missed = cur->missed_due, rc = 0;
    bool frozen = strcmp(cur->state, "held") == 0;
    if (acc.arr == NULL)
        return SES_ENOMEM;
    if (frozen) {
        rc = ses_store_review_rows(st, cur->id, add_row, &acc);
    } else {
        struct ses_review_agenda *a = malloc(sizeof *a);
        rc = a ? ses_review_agenda_live(st, cfg, cur, a) : SES_ENOMEM;
        for (size_t i = 0; rc == 0 && i < a->agenda.n; i++) {
            struct ses_review_row r;
            row_of_live(a, i, &r);
            rc = add_row(&acc, &r);
        }
        if (rc == 0) {
            overflow = a->agenda.overflow_urgent;
            missed = a->agenda.missed_due;
        }
        free(a);
    }
    if (rc != 0) {
        json_decref(acc.arr);
        return rc;
    }
    *out = json_pack("{s:o, s:b, s:i, s:i, s:i, s:i, s:o}", "session", session_json(cur), "frozen",
                     frozen, "slots", cur->minutes / SES_REVIEW_MINUTES_PER_CASE, "used", acc.used,
                     "overflow", overflow, "missed_due", missed, "rows", acc.arr);
    if (*out != NULL && frozen)
        json_object_set_new(*out, "minutes_record", minutes_json(st, cur->id));
    return *out ? 0 : SES_ENOMEM;
}

int ses_handle_agenda(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"session", NULL};
    struct ses_review_session cur;
    int rc = ses_fields_only(f->root, keys);
    if (rc != 0)
        return rc;
    if (json_object_get(f->root, "session") != NULL) {
        rc = authorized_session(s, f, SES_ACT_AGENDA_READ, &cur);
    } else { /* the caller's next session */
        int64_t now = ses_clock_now_ms(&s->d->clock);
        rc = ses_store_review_session_next(s->d->store, s->user_id, now - DAY_MS / 2, &cur);
    }
    return rc != 0 ? rc : agenda_json(s->d->store, &s->d->cfg, &cur, reply);
}

#define QUEUE_PSYCHIATRISTS 8 /* psychiatrists whose next agenda one queue request looks at */

/* The next agenda of each psychiatrist a queue request meets, computed once. */
struct queue_ctx {
    struct ses_session *s;
    int64_t now;
    int n;
    struct {
        uint8_t psy[SES_ID_BYTES];
        struct ses_review_agenda *a; /* NULL: no session planned */
    } seen[QUEUE_PSYCHIATRISTS];
};

static int agenda_of(struct queue_ctx *q, const uint8_t psy[SES_ID_BYTES],
                     struct ses_review_agenda **out)
{
    for (int i = 0; i < q->n; i++)
        if (memcmp(q->seen[i].psy, psy, SES_ID_BYTES) == 0) {
            *out = q->seen[i].a;
            return 0;
        }
    struct ses_review_session next;
    *out = NULL;
    int rc = ses_store_review_session_next(q->s->d->store, psy, q->now - DAY_MS / 2, &next);
    if (rc == 0) {
        if ((*out = malloc(sizeof **out)) == NULL)
            return SES_ENOMEM;
        if ((rc = ses_review_agenda_live(q->s->d->store, &q->s->d->cfg, &next, *out)) != 0) {
            free(*out);
            *out = NULL;
            return rc;
        }
    } else if (rc != SES_ENOT_FOUND) {
        return rc;
    }
    if (q->n < QUEUE_PSYCHIATRISTS) {
        memcpy(q->seen[q->n].psy, psy, SES_ID_BYTES);
        q->seen[q->n++].a = *out;
    } else if (*out != NULL) {
        free(*out); /* not cached: beyond the limit, the first psychiatrists decide */
        *out = NULL;
    }
    return 0;
}

/* The queue entry of thread: on the earliest next agenda of its psychiatrists, else as the
 * queue stands now (no session planned). NULL *out: not on the queue. */
static int entry_json(struct queue_ctx *q, const uint8_t thread[SES_ID_BYTES], json_t **out)
{
    struct ses_roster *r = calloc(1, sizeof *r);
    int rc = r ? ses_roster_load(q->s->d->store, thread, r) : SES_ENOMEM;
    struct ses_review_agenda *best = NULL;
    *out = NULL;
    for (int i = 0; rc == 0 && i < r->n; i++) {
        struct ses_review_agenda *a = NULL;
        if (r->members[i].user.role != SES_ROLE_PSYCHIATRIST)
            continue;
        rc = agenda_of(q, r->members[i].user.id, &a);
        if (rc == 0 && a != NULL && (best == NULL || a->session.start_ms < best->session.start_ms))
            best = a;
    }
    free(r);
    for (size_t i = 0; rc == 0 && best != NULL && i < best->agenda.n; i++) {
        const struct ses_agenda_row *row = &best->agenda.rows[i];
        if (memcmp(best->entries[row->entry].thread, thread, SES_ID_BYTES) != 0)
            continue;
        struct ses_review_row rr;
        row_of_live(best, i, &rr);
        if ((*out = row_json(q->s->d->store, &rr)) == NULL)
            return SES_ENOMEM;
        json_object_set_new(*out, "session", session_json(&best->session));
        json_object_set_new(*out, "deferrals", json_integer(best->entries[row->entry].deferrals));
        return 0;
    }
    if (rc != 0 || best != NULL)
        return rc; /* not on the agenda it would be on */
    struct ses_review_facts f;
    struct ses_review_entry e;
    if ((rc = ses_store_review_facts(q->s->d->store, thread, q->now, &f)) != 0 ||
        !ses_review_entry_of(&f, thread, q->now, 0, &e))
        return rc;
    struct ses_agenda *one = malloc(sizeof *one);
    struct ses_agenda_params p = {.session_ms = q->now, .minutes = 0};
    rc = one ? ses_agenda_build(&e, 1, &p, one) : SES_ENOMEM;
    if (rc == 0) {
        struct ses_review_row rr = {.tier = one->rows[0].tier,
                                    .base_tier = one->rows[0].base_tier,
                                    .units = one->rows[0].units,
                                    .due_ms = one->rows[0].due_ms};
        const char *promo = ses_promotion_name(one->rows[0].promoted);
        memcpy(rr.thread, thread, SES_ID_BYTES);
        snprintf(rr.promoted, sizeof rr.promoted, "%s", promo ? promo : "");
        ses_review_reasons_text(&e, rr.reasons, sizeof rr.reasons);
        if ((*out = row_json(q->s->d->store, &rr)) != NULL) {
            json_object_set_new(*out, "position", json_null());
            json_object_set_new(*out, "in", json_null());
            json_object_set_new(*out, "session", json_null());
            json_object_set_new(*out, "deferrals", json_integer(e.deferrals));
        } else {
            rc = SES_ENOMEM;
        }
    }
    free(one);
    return rc;
}

struct queue_list {
    struct queue_ctx *q;
    json_t *arr;
    int rc;
    size_t n;
    uint8_t (*ids)[SES_ID_BYTES];
};

/* The caller's threads, collected first: the entries' own queries reuse the store's statements. */
static void add_id(void *ud, const struct ses_thread_line *l)
{
    struct queue_list *a = ud;
    if (a->n < SES_AGENDA_MAX)
        memcpy(a->ids[a->n++], l->t.id, SES_ID_BYTES);
}

static void queue_ctx_free(struct queue_ctx *q)
{
    for (int i = 0; i < q->n; i++)
        free(q->seen[i].a);
    free(q);
}

int ses_handle_queue(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"thread", NULL};
    uint8_t thread[SES_ID_BYTES];
    bool one = false;
    int rc;
    if ((rc = ses_get_id(f->root, "thread", false, thread, &one)) != 0 ||
        (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    if (one && (rc = ses_session_authorize_thread(s, SES_ACT_THREAD_READ, thread)) != 0)
        return rc;
    struct queue_ctx *q = calloc(1, sizeof *q);
    struct queue_list a = {
        .q = q, .arr = json_array(), .ids = calloc(SES_AGENDA_MAX, SES_ID_BYTES)};
    if (q == NULL || a.arr == NULL || a.ids == NULL) {
        free(q);
        free(a.ids);
        json_decref(a.arr);
        return SES_ENOMEM;
    }
    q->s = s;
    q->now = ses_clock_now_ms(&s->d->clock);
    if (one) {
        memcpy(a.ids[a.n++], thread, SES_ID_BYTES);
    } else {
        a.rc = ses_store_threads_of_user(s->d->store, s->user_id, add_id, &a);
    }
    for (size_t i = 0; a.rc == 0 && i < a.n; i++) {
        json_t *o = NULL;
        if ((a.rc = entry_json(q, a.ids[i], &o)) == 0 && o != NULL)
            json_array_append_new(a.arr, o);
    }
    free(a.ids);
    queue_ctx_free(q);
    if (a.rc != 0) {
        json_decref(a.arr);
        return a.rc;
    }
    *reply = json_pack("{s:o}", "entries", a.arr);
    return *reply ? 0 : SES_ENOMEM;
}

/* The thread of the request, the policy asked about action on it, and its episode open. */
static int open_thread(struct ses_session *s, const struct ses_frame *f, enum ses_action action,
                       uint8_t thread[SES_ID_BYTES])
{
    struct ses_thread_meta m;
    int rc = ses_get_id(f->root, "thread", true, thread, NULL);
    if (rc == 0)
        rc = ses_session_authorize_thread(s, action, thread);
    if (rc == 0)
        rc = ses_store_thread_meta_get(s->d->store, thread, &m);
    return rc != 0 ? rc : m.closed_ms != 0 ? SES_EBAD_STATE : 0;
}

/* A request on one open thread with one code out of codes (queue_add: "reason", episode_close:
 * "reason"), as job op. */
static int thread_code_request(struct ses_session *s, const struct ses_frame *f,
                               enum ses_action action, enum review_op op, const char *const codes[])
{
    static const char *const keys[] = {"thread", "reason", NULL};
    uint8_t thread[SES_ID_BYTES];
    const char *code = NULL;
    int rc;
    if ((rc = ses_get_str(f->root, "reason", 1, 23, true, &code)) != 0 ||
        (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    if (!one_of(code, codes))
        return SES_EBAD_FIELD;
    if ((rc = open_thread(s, f, action, thread)) != 0)
        return rc;
    struct review_job *j = job_new(s, f, op);
    if (j == NULL)
        return SES_ENOMEM;
    memcpy(j->thread, thread, SES_ID_BYTES);
    snprintf(j->code, sizeof j->code, "%s", code);
    return submit(j);
}

int ses_handle_queue_add(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return thread_code_request(s, f, SES_ACT_QUEUE_ADD, RJ_REQUEST, request_codes);
}

int ses_handle_review_outcome(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"thread", "outcome", "next_review", NULL};
    uint8_t thread[SES_ID_BYTES];
    const char *outcome = NULL;
    int64_t now = ses_clock_now_ms(&s->d->clock), next = 0;
    int rc;
    (void)reply;
    if ((rc = ses_get_str(f->root, "outcome", 1, 23, true, &outcome)) != 0 ||
        (rc = ses_get_int(f->root, "next_review", now + 1, now + NEXT_REVIEW_MAX_DAYS * DAY_MS,
                          false, &next)) != 0 ||
        (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    if (!one_of(outcome, outcome_codes))
        return SES_EBAD_FIELD;
    if (next == 0 && strcmp(outcome, "DISCHARGE") != 0)
        return SES_EMISSING_FIELD; /* every outcome but a discharge sets the next review */
    if ((rc = open_thread(s, f, SES_ACT_REVIEW_OUTCOME, thread)) != 0)
        return rc;
    struct review_job *j = job_new(s, f, RJ_OUTCOME);
    if (j == NULL)
        return SES_ENOMEM;
    memcpy(j->thread, thread, SES_ID_BYTES);
    snprintf(j->code, sizeof j->code, "%s", outcome);
    j->next_review_ms = next;
    return submit(j);
}

int ses_handle_episode_close(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return thread_code_request(s, f, SES_ACT_EPISODE_CLOSE, RJ_CLOSE, close_reasons);
}

/* --- minutes ------------------------------------------------------------------------------- */

struct discussed_acc {
    struct ses_store *st;
    json_t *arr;
};

static int add_discussed(void *ud, const struct ses_review_row *r)
{
    struct discussed_acc *a = ud;
    if (!r->in)
        return 0;
    json_t *o = json_pack("{s:o, s:o}", "thread", id_json(r->thread), "outcome",
                          r->outcome[0] ? json_string(r->outcome) : json_null());
    if (o == NULL)
        return SES_ENOMEM;
    add_patient(a->st, o, r->thread);
    json_array_append_new(a->arr, o);
    return 0;
}

static json_t *minutes_json(struct ses_store *st, const uint8_t session[SES_ID_BYTES])
{
    uint8_t ids[SES_REVIEW_MINUTES_ATTENDED_MAX][SES_ID_BYTES];
    int n = 0;
    int64_t recorded = 0;
    struct discussed_acc a = {.st = st, .arr = json_array()};
    json_t *attended = json_array();
    if (a.arr == NULL || attended == NULL ||
        ses_store_review_minutes_get(st, session, ids, &n, &recorded) != 0 ||
        ses_store_review_rows(st, session, add_discussed, &a) != 0) {
        json_decref(a.arr);
        json_decref(attended);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        json_array_append_new(attended, id_json(ids[i]));
    return json_pack("{s:o, s:o, s:o, s:o}", "session", id_json(session), "attended", attended,
                     "recorded", opt_ms(recorded), "discussed", a.arr);
}

int ses_handle_review_minutes(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"session", "attended", NULL};
    struct ses_review_session cur;
    int rc;
    (void)reply;
    if ((rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    const json_t *arr = json_object_get(f->root, "attended");
    if (arr == NULL)
        return SES_EMISSING_FIELD;
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    if (n < 1 || n > SES_REVIEW_MINUTES_ATTENDED_MAX)
        return SES_EBAD_FIELD;
    struct review_job *j = job_new(s, f, RJ_MINUTES);
    if (j == NULL)
        return SES_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *wrap = json_pack("{s:O}", "id", json_array_get(arr, i));
        struct ses_user u;
        rc = wrap ? ses_get_id(wrap, "id", true, j->attended[i], NULL) : SES_ENOMEM;
        if (rc == SES_EMISSING_FIELD)
            rc = SES_EBAD_FIELD;
        for (size_t k = 0; rc == 0 && k < i; k++)
            if (memcmp(j->attended[k], j->attended[i], SES_ID_BYTES) == 0)
                rc = SES_EBAD_FIELD; /* a user twice */
        if (rc == 0 && ses_store_user_get(s->d->store, j->attended[i], &u) != 0)
            rc = SES_EBAD_FIELD; /* not a user */
        json_decref(wrap);
    }
    j->n_attended = (int)n;
    if (rc == 0)
        rc = authorized_session(s, f, SES_ACT_REVIEW_MINUTES, &cur);
    if (rc == 0 && strcmp(cur.state, "held") != 0)
        rc = SES_EBAD_STATE; /* minutes are of a session that took place */
    if (rc != 0) {
        free(j);
        return rc;
    }
    j->session = cur;
    return submit(j);
}
