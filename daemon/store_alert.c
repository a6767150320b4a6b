/*
 * store_alert.c - alerts, incidents, alert timelines, thread metadata and contacts
 * (store_alert.h). Statements are prepared per call: alerts are rare next to messages.
 */
#include <stdio.h>
#include <string.h>

#include "sesame/err.h"

#include "log.h"
#include "store_alert.h"
#include "store_internal.h"

#define ALERT_COLS                                                                                 \
    "id, thread_id, incident_id, type, variant, severity, state, origin, raised_by, "              \
    "raised_device, raised_ms, msg_seq, step, owners, former_owners, cc, deadline_ms, exhausted, " \
    "repeats, acked_ms, acked_by, resolved_ms, resolved_by, resolution, outcome, "                 \
    "resolve_msg_seq, cond_key, renotified"

static void read_alert(sqlite3_stmt *s, struct ses_alert *a)
{
    memset(a, 0, sizeof *a);
    col_id(s, 0, a->id);
    col_id(s, 1, a->thread);
    col_id(s, 2, a->incident);
    col_text(s, 3, a->type, sizeof a->type);
    col_text(s, 4, a->variant, sizeof a->variant);
    a->severity = sqlite3_column_int(s, 5);
    col_text(s, 6, a->state, sizeof a->state);
    col_text(s, 7, a->origin, sizeof a->origin);
    a->has_raiser = col_id(s, 8, a->raised_by);
    col_id(s, 9, a->raised_device);
    a->raised_ms = sqlite3_column_int64(s, 10);
    a->msg_seq = sqlite3_column_int64(s, 11);
    a->step = sqlite3_column_int(s, 12);
    a->n_owners = col_ids(s, 13, a->owners, SES_ALERT_MAX_USERS);
    a->n_former = col_ids(s, 14, a->former, SES_ALERT_MAX_FORMER);
    a->n_cc = col_ids(s, 15, a->cc, SES_ALERT_MAX_USERS);
    a->deadline_ms = sqlite3_column_int64(s, 16);
    a->exhausted = sqlite3_column_int(s, 17) != 0;
    a->repeats = sqlite3_column_int(s, 18);
    a->acked_ms = sqlite3_column_int64(s, 19);
    col_id(s, 20, a->acked_by);
    a->resolved_ms = sqlite3_column_int64(s, 21);
    a->has_resolver = col_id(s, 22, a->resolved_by);
    col_text(s, 23, a->resolution, sizeof a->resolution);
    col_text(s, 24, a->outcome, sizeof a->outcome);
    a->resolve_msg_seq = sqlite3_column_int64(s, 25);
    col_text(s, 26, a->cond_key, sizeof a->cond_key);
    a->renotified = sqlite3_column_int(s, 27);
}

/* Binds the mutable columns at ?2.. in the order of the UPDATE below. */
static void bind_mutable(sqlite3_stmt *s, const struct ses_alert *a)
{
    sqlite3_bind_int(s, 2, a->severity);
    sqlite3_bind_text(s, 3, a->state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, a->variant, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(s, 5, a->step);
    bind_ids(s, 6, (const uint8_t(*)[SES_ID_BYTES])a->owners, a->n_owners);
    bind_ids(s, 7, (const uint8_t(*)[SES_ID_BYTES])a->former, a->n_former);
    bind_ids(s, 8, (const uint8_t(*)[SES_ID_BYTES])a->cc, a->n_cc);
    bind_opt_int(s, 9, a->deadline_ms);
    sqlite3_bind_int(s, 10, a->exhausted);
    sqlite3_bind_int(s, 11, a->repeats);
    bind_opt_int(s, 12, a->acked_ms);
    bind_opt_id(s, 13, a->acked_ms != 0, a->acked_by);
    bind_opt_int(s, 14, a->resolved_ms);
    bind_opt_id(s, 15, a->has_resolver, a->resolved_by);
    bind_opt_text(s, 16, a->resolution);
    bind_opt_text(s, 17, a->outcome);
    bind_opt_int(s, 18, a->resolve_msg_seq);
    sqlite3_bind_int(s, 19, a->renotified);
}

int ses_store_alert_insert(struct ses_store *st, const struct ses_alert *a)
{
    sqlite3_stmt *s =
        store_prep(st, "INSERT INTO alerts(id, thread_id, incident_id, type, origin, "
                       "raised_by, raised_device, raised_ms, msg_seq, cond_key, severity, "
                       "state, variant, step, owners, former_owners, cc, deadline_ms, "
                       "exhausted, repeats, acked_ms, acked_by, resolved_ms, resolved_by, "
                       "resolution, outcome, resolve_msg_seq, renotified) VALUES(?1, ?20, "
                       "?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?2, ?3, ?4, ?5, ?6, ?7, "
                       "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, a->id);
    bind_mutable(s, a);
    bind_id(s, 20, a->thread);
    bind_id(s, 21, a->incident);
    sqlite3_bind_text(s, 22, a->type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 23, a->origin, -1, SQLITE_TRANSIENT);
    bind_opt_id(s, 24, a->has_raiser, a->raised_by);
    bind_opt_id(s, 25, a->has_raiser, a->raised_device);
    sqlite3_bind_int64(s, 26, a->raised_ms);
    bind_opt_int(s, 27, a->msg_seq);
    bind_opt_text(s, 28, a->cond_key);
    return store_run(st, s);
}

int ses_store_alert_update(struct ses_store *st, const struct ses_alert *a)
{
    sqlite3_stmt *s =
        store_prep(st, "UPDATE alerts SET severity = ?2, state = ?3, variant = ?4, "
                       "step = ?5, owners = ?6, former_owners = ?7, cc = ?8, "
                       "deadline_ms = ?9, exhausted = ?10, repeats = ?11, acked_ms = ?12, "
                       "acked_by = ?13, resolved_ms = ?14, resolved_by = ?15, "
                       "resolution = ?16, outcome = ?17, resolve_msg_seq = ?18, "
                       "renotified = ?19 WHERE id = ?1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, a->id);
    bind_mutable(s, a);
    return store_run(st, s);
}

/* Steps s (bound by the caller) and calls cb for each row; finalizes s. */
static int each_alert(struct ses_store *st, sqlite3_stmt *s, ses_alert_cb cb, void *ud)
{
    int step, rc = 0;
    struct ses_alert a;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        read_alert(s, &a);
        rc = cb(ud, &a);
    }
    if (rc == 0 && step != SQLITE_DONE) {
        SES_LOG(SES_LOG_ERR, "store", "step failed: %s", sqlite3_errmsg(st->db));
        rc = SES_EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

static int copy_one(void *ud, const struct ses_alert *a)
{
    struct ses_alert *out = ud;
    *out = *a;
    return 1; /* stop after the first row */
}

/* each_alert that expects at most one row: 0 with *a, or SES_ENOT_FOUND. */
static int one_alert(struct ses_store *st, sqlite3_stmt *s, struct ses_alert *a)
{
    int rc = each_alert(st, s, copy_one, a);
    return rc == 1 ? 0 : rc == 0 ? SES_ENOT_FOUND : rc;
}

int ses_store_alert_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES], struct ses_alert *a)
{
    sqlite3_stmt *s = store_prep(st, "SELECT " ALERT_COLS " FROM alerts WHERE id = ?1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, id);
    return one_alert(st, s, a);
}

int ses_store_alert_open_of_type(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                 const char *code, struct ses_alert *a)
{
    sqlite3_stmt *s = store_prep(st, "SELECT " ALERT_COLS " FROM alerts WHERE thread_id = ?1 "
                                     "AND type = ?2 AND state IN ('raised','acked') "
                                     "ORDER BY raised_ms LIMIT 1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    sqlite3_bind_text(s, 2, code, -1, SQLITE_TRANSIENT);
    return one_alert(st, s, a);
}

int ses_store_alert_cond_exists(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                const char *cond_key, bool *exists)
{
    sqlite3_stmt *s = store_prep(st, "SELECT 1 FROM alerts WHERE thread_id = ?1 AND cond_key = ?2");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    sqlite3_bind_text(s, 2, cond_key, -1, SQLITE_TRANSIENT);
    int step = sqlite3_step(s);
    sqlite3_finalize(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return SES_EIO;
    *exists = step == SQLITE_ROW;
    return 0;
}

int ses_store_alert_list(struct ses_store *st, const struct ses_alert_query *q, ses_alert_cb cb,
                         void *ud)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT " ALERT_COLS " FROM alerts a WHERE (?1 IS NULL OR a.thread_id = ?1) "
                       "AND (?2 = 0 OR a.state IN ('raised','acked')) "
                       "AND (?3 IS NULL OR a.thread_id IN (SELECT thread_id FROM thread_members "
                       "     WHERE user_id = ?3 AND removed_ms IS NULL) "
                       "  OR instr(a.former_owners, ?3) > 0 OR instr(a.cc, ?3) > 0) "
                       "ORDER BY a.state IN ('raised','acked') DESC, a.severity DESC, "
                       "  coalesce(a.deadline_ms, 9223372036854775807), a.raised_ms DESC LIMIT ?4");
    if (s == NULL)
        return SES_EIO;
    bind_opt_id(s, 1, q->thread != NULL, q->thread);
    sqlite3_bind_int(s, 2, q->open_only);
    bind_opt_id(s, 3, q->user != NULL, q->user);
    sqlite3_bind_int(s, 4, q->limit);
    return each_alert(st, s, cb, ud);
}

int ses_store_alert_open_of_thread(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                   ses_alert_cb cb, void *ud)
{
    sqlite3_stmt *s = store_prep(st, "SELECT " ALERT_COLS " FROM alerts WHERE thread_id = ?1 "
                                     "AND state IN ('raised','acked') ORDER BY raised_ms");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    return each_alert(st, s, cb, ud);
}

int ses_store_alert_due(struct ses_store *st, int64_t now_ms, int limit, ses_alert_cb cb, void *ud)
{
    sqlite3_stmt *s = store_prep(st, "SELECT " ALERT_COLS " FROM alerts WHERE state = 'raised' "
                                     "AND deadline_ms IS NOT NULL AND deadline_ms <= ?1 "
                                     "ORDER BY deadline_ms LIMIT ?2");
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_int64(s, 1, now_ms);
    sqlite3_bind_int(s, 2, limit);
    return each_alert(st, s, cb, ud);
}

/* Runs a one-value query: *out = its integer, or dflt when it is NULL. */
static int one_int(struct ses_store *st, sqlite3_stmt *s, int64_t dflt, int64_t *out)
{
    int step = sqlite3_step(s), rc = SES_EIO;
    if (step == SQLITE_ROW) {
        *out = sqlite3_column_type(s, 0) == SQLITE_NULL ? dflt : sqlite3_column_int64(s, 0);
        rc = 0;
    } else {
        SES_LOG(SES_LOG_ERR, "store", "step failed: %s", sqlite3_errmsg(st->db));
    }
    sqlite3_finalize(s);
    return rc;
}

int ses_store_alert_next_deadline(struct ses_store *st, int64_t *ms)
{
    sqlite3_stmt *s = store_prep(st, "SELECT min(deadline_ms) FROM alerts WHERE state = 'raised'");
    return s ? one_int(st, s, 0, ms) : SES_EIO;
}

int ses_store_alert_event_add(struct ses_store *st, const uint8_t alert[SES_ID_BYTES],
                              const struct ses_alert_event *e)
{
    sqlite3_stmt *s = store_prep(st, "INSERT INTO alert_events(alert_id, n, ts_ms, event, by_user, "
                                     "to_users, detail) VALUES(?1, (SELECT coalesce(max(n), 0) + 1 "
                                     "FROM alert_events WHERE alert_id = ?1), ?2, ?3, ?4, ?5, ?6)");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, alert);
    sqlite3_bind_int64(s, 2, e->ts_ms);
    sqlite3_bind_text(s, 3, e->event, -1, SQLITE_TRANSIENT);
    bind_opt_id(s, 4, e->has_by, e->by);
    bind_ids(s, 5, (const uint8_t(*)[SES_ID_BYTES])e->to, e->n_to);
    bind_opt_text(s, 6, e->detail);
    return store_run(st, s);
}

int ses_store_alert_events(struct ses_store *st, const uint8_t alert[SES_ID_BYTES],
                           ses_alert_event_cb cb, void *ud)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT ts_ms, event, by_user, to_users, detail FROM alert_events "
                       "WHERE alert_id = ?1 ORDER BY n");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, alert);
    int step, rc = 0;
    struct ses_alert_event e;
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&e, 0, sizeof e);
        e.ts_ms = sqlite3_column_int64(s, 0);
        col_text(s, 1, e.event, sizeof e.event);
        e.has_by = col_id(s, 2, e.by);
        e.n_to = col_ids(s, 3, e.to, SES_ALERT_EVENT_MAX_TO);
        col_text(s, 4, e.detail, sizeof e.detail);
        rc = cb(ud, &e);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = SES_EIO;
    sqlite3_finalize(s);
    return rc;
}

int ses_store_incident_insert(struct ses_store *st, const struct ses_incident *i)
{
    sqlite3_stmt *s =
        store_prep(st, "INSERT INTO incidents(id, thread_id, state, severity, opened_ms) "
                       "VALUES(?1, ?2, 'open', ?3, ?4)");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, i->id);
    bind_id(s, 2, i->thread);
    sqlite3_bind_int(s, 3, i->severity);
    sqlite3_bind_int64(s, 4, i->opened_ms);
    return store_run(st, s);
}

static int one_incident(sqlite3_stmt *s, struct ses_incident *i)
{
    int step = sqlite3_step(s), rc = SES_ENOT_FOUND;
    if (step == SQLITE_ROW) {
        memset(i, 0, sizeof *i);
        col_id(s, 0, i->id);
        col_id(s, 1, i->thread);
        i->open = strcmp((const char *)sqlite3_column_text(s, 2), "open") == 0;
        i->severity = sqlite3_column_int(s, 3);
        i->opened_ms = sqlite3_column_int64(s, 4);
        i->closed_ms = sqlite3_column_int64(s, 5);
        rc = 0;
    } else if (step != SQLITE_DONE) {
        rc = SES_EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

#define INCIDENT_COLS "id, thread_id, state, severity, opened_ms, closed_ms"

int ses_store_incident_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                           struct ses_incident *i)
{
    sqlite3_stmt *s = store_prep(st, "SELECT " INCIDENT_COLS " FROM incidents WHERE id = ?1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, id);
    return one_incident(s, i);
}

int ses_store_incident_open_of_thread(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                      struct ses_incident *i)
{
    sqlite3_stmt *s = store_prep(st, "SELECT " INCIDENT_COLS " FROM incidents WHERE thread_id = ?1 "
                                     "AND state = 'open' ORDER BY opened_ms LIMIT 1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    return one_incident(s, i);
}

int ses_store_incident_refresh(struct ses_store *st, const uint8_t id[SES_ID_BYTES], int64_t now_ms)
{
    sqlite3_stmt *s = store_prep(
        st, "UPDATE incidents SET "
            "severity = coalesce((SELECT max(severity) FROM alerts WHERE incident_id = ?1 "
            "  AND state IN ('raised','acked')), severity), "
            "state = CASE WHEN EXISTS(SELECT 1 FROM alerts WHERE incident_id = ?1 "
            "  AND state IN ('raised','acked')) THEN 'open' ELSE 'closed' END, "
            "closed_ms = CASE WHEN EXISTS(SELECT 1 FROM alerts WHERE incident_id = ?1 "
            "  AND state IN ('raised','acked')) THEN NULL ELSE coalesce(closed_ms, ?2) END "
            "WHERE id = ?1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, id);
    sqlite3_bind_int64(s, 2, now_ms);
    return store_run(st, s);
}

int ses_store_thread_meta_get(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                              struct ses_thread_meta *m)
{
    sqlite3_stmt *s =
        store_prep(st, "SELECT coalesce(enrolled_ms, created_ms), phase, last_contact_ms, "
                       "contacts, last_review_ms, sequence_type, sequence_due_ms, "
                       "last_phq9_ms, closed_ms, closed_reason, next_review_ms, "
                       "review_deferrals, first_review_ms FROM threads WHERE id = ?1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    int step = sqlite3_step(s), rc = SES_ENOT_FOUND;
    if (step == SQLITE_ROW) {
        memset(m, 0, sizeof *m);
        m->enrolled_ms = sqlite3_column_int64(s, 0);
        col_text(s, 1, m->phase, sizeof m->phase);
        m->last_contact_ms = sqlite3_column_int64(s, 2);
        m->contacts = sqlite3_column_int64(s, 3);
        m->last_review_ms = sqlite3_column_int64(s, 4);
        col_text(s, 5, m->sequence_type, sizeof m->sequence_type);
        m->sequence_due_ms = sqlite3_column_int64(s, 6);
        m->last_phq9_ms = sqlite3_column_int64(s, 7);
        m->closed_ms = sqlite3_column_int64(s, 8);
        col_text(s, 9, m->closed_reason, sizeof m->closed_reason);
        m->next_review_ms = sqlite3_column_int64(s, 10);
        m->review_deferrals = sqlite3_column_int(s, 11);
        m->first_review_ms = sqlite3_column_int64(s, 12);
        rc = 0;
    } else if (step != SQLITE_DONE) {
        rc = SES_EIO;
    }
    sqlite3_finalize(s);
    return rc;
}

int ses_store_thread_meta_put(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                              const struct ses_thread_meta *m)
{
    sqlite3_stmt *s =
        store_prep(st, "UPDATE threads SET enrolled_ms = ?2, phase = ?3, "
                       "last_review_ms = ?4, sequence_type = ?5, sequence_due_ms = ?6, "
                       "closed_ms = ?7, closed_reason = ?8, next_review_ms = ?9, "
                       "review_deferrals = ?10, first_review_ms = CASE WHEN ?4 IS NULL THEN "
                       "first_review_ms WHEN first_review_ms IS NULL OR ?4 < first_review_ms "
                       "THEN ?4 ELSE first_review_ms END WHERE id = ?1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    sqlite3_bind_int64(s, 2, m->enrolled_ms);
    sqlite3_bind_text(s, 3, m->phase, -1, SQLITE_TRANSIENT);
    bind_opt_int(s, 4, m->last_review_ms);
    bind_opt_text(s, 5, m->sequence_type);
    bind_opt_int(s, 6, m->sequence_due_ms);
    bind_opt_int(s, 7, m->closed_ms);
    bind_opt_text(s, 8, m->closed_reason);
    bind_opt_int(s, 9, m->next_review_ms);
    sqlite3_bind_int(s, 10, m->review_deferrals);
    return store_run(st, s);
}

int ses_store_contact_add(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                          const struct ses_contact *c, const uint8_t by[SES_ID_BYTES],
                          int64_t now_ms)
{
    sqlite3_stmt *s = store_prep(st, "INSERT INTO contacts(thread_id, date_ms, recorded_by, "
                                     "recorded_ms, type) VALUES(?1, ?2, ?3, ?4, ?5)");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    sqlite3_bind_int64(s, 2, c->date_ms);
    bind_id(s, 3, by);
    sqlite3_bind_int64(s, 4, now_ms);
    sqlite3_bind_text(s, 5, c->type, -1, SQLITE_TRANSIENT);
    int rc = store_run(st, s);
    if (rc != 0)
        return rc;
    s = store_prep(st, "UPDATE threads SET contacts = contacts + 1, "
                       "last_contact_ms = max(coalesce(last_contact_ms, 0), ?2), "
                       "last_phq9_ms = CASE WHEN ?3 THEN max(coalesce(last_phq9_ms, 0), ?2) "
                       "  ELSE last_phq9_ms END WHERE id = ?1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    sqlite3_bind_int64(s, 2, c->date_ms);
    sqlite3_bind_int(s, 3, c->phq9);
    return store_run(st, s);
}

int ses_store_thread_set_next_rule(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                   int64_t ms)
{
    sqlite3_stmt *s = store_prep(st, "UPDATE threads SET next_rule_ms = ?2 WHERE id = ?1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    sqlite3_bind_int64(s, 2, ms);
    return store_run(st, s);
}

int ses_store_thread_rules_stale(struct ses_store *st, const uint8_t thread[SES_ID_BYTES])
{
    sqlite3_stmt *s = store_prep(st, "UPDATE threads SET next_rule_ms = NULL WHERE id = ?1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    return store_run(st, s);
}

int ses_store_threads_rule_due(struct ses_store *st, int64_t now_ms, int limit, ses_thread_id_cb cb,
                               void *ud)
{
    sqlite3_stmt *s = store_prep(st, "SELECT id FROM threads WHERE next_rule_ms IS NULL "
                                     "OR (next_rule_ms >= 0 AND next_rule_ms <= ?1) "
                                     "ORDER BY coalesce(next_rule_ms, 0) LIMIT ?2");
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_int64(s, 1, now_ms);
    sqlite3_bind_int(s, 2, limit);
    int step, rc = 0;
    uint8_t id[SES_ID_BYTES];
    while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
        col_id(s, 0, id);
        rc = cb(ud, id);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = SES_EIO;
    sqlite3_finalize(s);
    return rc;
}

int ses_store_threads_next_rule(struct ses_store *st, int64_t *ms)
{
    sqlite3_stmt *s = store_prep(st, "SELECT min(coalesce(next_rule_ms, 0)) FROM threads "
                                     "WHERE next_rule_ms IS NULL OR next_rule_ms >= 0");
    return s ? one_int(st, s, -1, ms) : SES_EIO;
}

/* --- chain roles set through the server --------------------------------------------------------
 */

int ses_store_oncall_get(struct ses_store *st, struct ses_oncall *o)
{
    memset(o, 0, sizeof *o);
    sqlite3_stmt *s = store_prep(st, "SELECT role, user_id FROM oncall");
    if (s == NULL)
        return SES_EIO;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        const char *role = (const char *)sqlite3_column_text(s, 0);
        bool duty = role != NULL && strcmp(role, "on_duty_psychiatrist") == 0;
        *(duty ? &o->on_duty_set : &o->lead_set) = true;
        col_id(s, 1, duty ? o->on_duty : o->lead);
    }
    sqlite3_finalize(s);
    if (step != SQLITE_DONE)
        return SES_EIO;
    s = store_prep(st, "SELECT user_id, backup_id FROM backups ORDER BY set_ms, user_id");
    if (s == NULL)
        return SES_EIO;
    while ((step = sqlite3_step(s)) == SQLITE_ROW && o->n_backups < SES_ONCALL_MAX_BACKUPS) {
        struct ses_oncall_backup *b = &o->backups[o->n_backups++];
        col_id(s, 0, b->user);
        b->cleared = !col_id(s, 1, b->backup);
    }
    sqlite3_finalize(s);
    return step == SQLITE_DONE || step == SQLITE_ROW ? 0 : SES_EIO;
}

int ses_store_oncall_put(struct ses_store *st, const char *role, const uint8_t *user,
                         const uint8_t by[SES_ID_BYTES], int64_t now_ms)
{
    sqlite3_stmt *s = store_prep(st, "INSERT INTO oncall(role, user_id, set_by, set_ms) "
                                     "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(role) DO UPDATE SET "
                                     "user_id = ?2, set_by = ?3, set_ms = ?4");
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_text(s, 1, role, -1, SQLITE_TRANSIENT);
    bind_opt_id(s, 2, user != NULL, user);
    bind_id(s, 3, by);
    sqlite3_bind_int64(s, 4, now_ms);
    return store_run(st, s);
}

int ses_store_backup_put(struct ses_store *st, const uint8_t user[SES_ID_BYTES],
                         const uint8_t *backup, const uint8_t by[SES_ID_BYTES], int64_t now_ms)
{
    sqlite3_stmt *s = store_prep(st, "INSERT INTO backups(user_id, backup_id, set_by, set_ms) "
                                     "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(user_id) DO UPDATE SET "
                                     "backup_id = ?2, set_by = ?3, set_ms = ?4");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, user);
    bind_opt_id(s, 2, backup != NULL, backup);
    bind_id(s, 3, by);
    sqlite3_bind_int64(s, 4, now_ms);
    return store_run(st, s);
}

int ses_store_backup_count(struct ses_store *st, const uint8_t except[SES_ID_BYTES], int64_t *n)
{
    sqlite3_stmt *s = store_prep(st, "SELECT count(*) FROM backups WHERE user_id != ?1");
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, except);
    return one_int(st, s, 0, n);
}
