/*
 * store_rec.c - recommendations in the store (schema 9). See store_rec.h.
 */
#include <stdlib.h>
#include <string.h>

#include "sesame/err.h"

#include "store_internal.h"
#include "store_rec.h"

#define REC_COLS                                                                                   \
    "id, thread_id, version, supersedes, superseded_by, author, gp, urgent, state, msg_seq, "      \
    "sent_ms, deadline_ms, deadline2_ms, unacked, acked_ms, decision, decided_ms, reason_seq, "    \
    "implemented_ms, verified_ms, verified_by, updated_ms"

/* Binds every column of r in REC_COLS order from ?1. */
static void bind_rec(sqlite3_stmt *q, const struct ses_rec *r)
{
    bind_id(q, 1, r->id);
    bind_id(q, 2, r->thread);
    sqlite3_bind_int(q, 3, r->version);
    bind_opt_id(q, 4, r->has_supersedes, r->supersedes);
    bind_opt_id(q, 5, r->has_superseded_by, r->superseded_by);
    bind_id(q, 6, r->author);
    bind_id(q, 7, r->gp);
    sqlite3_bind_int(q, 8, r->urgent ? 1 : 0);
    sqlite3_bind_text(q, 9, r->state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(q, 10, r->msg_seq);
    sqlite3_bind_int64(q, 11, r->sent_ms);
    sqlite3_bind_int64(q, 12, r->deadline_ms);
    sqlite3_bind_int64(q, 13, r->deadline2_ms);
    sqlite3_bind_int(q, 14, r->unacked);
    bind_opt_int(q, 15, r->acked_ms);
    bind_opt_text(q, 16, r->decision);
    bind_opt_int(q, 17, r->decided_ms);
    bind_opt_int(q, 18, r->reason_seq);
    bind_opt_int(q, 19, r->implemented_ms);
    bind_opt_int(q, 20, r->verified_ms);
    bind_opt_id(q, 21, r->has_verified_by, r->verified_by);
    sqlite3_bind_int64(q, 22, r->updated_ms);
}

static void read_rec(sqlite3_stmt *q, struct ses_rec *r)
{
    memset(r, 0, sizeof *r);
    col_id(q, 0, r->id);
    col_id(q, 1, r->thread);
    r->version = sqlite3_column_int(q, 2);
    r->has_supersedes = col_id(q, 3, r->supersedes);
    r->has_superseded_by = col_id(q, 4, r->superseded_by);
    col_id(q, 5, r->author);
    col_id(q, 6, r->gp);
    r->urgent = sqlite3_column_int(q, 7) != 0;
    col_text(q, 8, r->state, sizeof r->state);
    r->msg_seq = sqlite3_column_int64(q, 9);
    r->sent_ms = sqlite3_column_int64(q, 10);
    r->deadline_ms = sqlite3_column_int64(q, 11);
    r->deadline2_ms = sqlite3_column_int64(q, 12);
    r->unacked = sqlite3_column_int(q, 13);
    r->acked_ms = sqlite3_column_int64(q, 14);
    col_text(q, 15, r->decision, sizeof r->decision);
    r->decided_ms = sqlite3_column_int64(q, 16);
    r->reason_seq = sqlite3_column_int64(q, 17);
    r->implemented_ms = sqlite3_column_int64(q, 18);
    r->verified_ms = sqlite3_column_int64(q, 19);
    r->has_verified_by = col_id(q, 20, r->verified_by);
    r->updated_ms = sqlite3_column_int64(q, 21);
}

int ses_store_rec_insert(struct ses_store *st, const struct ses_rec *r)
{
    sqlite3_stmt *q = store_prep(st, "INSERT INTO recs(" REC_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, "
                                     "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, "
                                     "?18, ?19, ?20, ?21, ?22)");
    if (q == NULL)
        return SES_EIO;
    bind_rec(q, r);
    int rc = store_run(st, q);
    return rc == SES_ENOT_FOUND ? SES_EIO : rc;
}

int ses_store_rec_put(struct ses_store *st, const struct ses_rec *r)
{
    sqlite3_stmt *q = store_prep(
        st, "UPDATE recs SET thread_id = ?2, version = ?3, supersedes = ?4, superseded_by = ?5, "
            "author = ?6, gp = ?7, urgent = ?8, state = ?9, msg_seq = ?10, sent_ms = ?11, "
            "deadline_ms = ?12, deadline2_ms = ?13, unacked = ?14, acked_ms = ?15, decision = "
            "?16, decided_ms = ?17, reason_seq = ?18, implemented_ms = ?19, verified_ms = ?20, "
            "verified_by = ?21, updated_ms = ?22 WHERE id = ?1");
    if (q == NULL)
        return SES_EIO;
    bind_rec(q, r);
    return store_run(st, q);
}

/* Steps q (finalized here) through its rows into cb. */
static int each_rec(sqlite3_stmt *q, ses_rec_cb cb, void *ud)
{
    int step, rc = 0;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        struct ses_rec r;
        read_rec(q, &r);
        rc = cb(ud, &r);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = SES_EIO;
    sqlite3_finalize(q);
    return rc;
}

static int copy_rec(void *ud, const struct ses_rec *r)
{
    *(struct ses_rec *)ud = *r;
    return 1;
}

int ses_store_rec_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES], struct ses_rec *r)
{
    sqlite3_stmt *q = store_prep(st, "SELECT " REC_COLS " FROM recs WHERE id = ?1");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, id);
    int rc = each_rec(q, copy_rec, r);
    return rc == 1 ? 0 : rc == 0 ? SES_ENOT_FOUND : rc;
}

int ses_store_recs(struct ses_store *st, const uint8_t *thread, const uint8_t *user,
                   const char *state, int limit, ses_rec_cb cb, void *ud)
{
    sqlite3_stmt *q = store_prep(
        st, "SELECT " REC_COLS " FROM recs WHERE (?1 IS NULL OR thread_id = ?1) AND (?2 IS NULL "
            "OR author = ?2 OR gp = ?2 OR thread_id IN (SELECT thread_id FROM thread_members "
            "WHERE user_id = ?2 AND removed_ms IS NULL)) AND (?3 = '' OR state = ?3) ORDER BY "
            "sent_ms DESC, id LIMIT ?4");
    if (q == NULL)
        return SES_EIO;
    bind_opt_id(q, 1, thread != NULL, thread);
    bind_opt_id(q, 2, user != NULL, user);
    sqlite3_bind_text(q, 3, state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(q, 4, limit);
    return each_rec(q, cb, ud);
}

int ses_store_recs_due(struct ses_store *st, int64_t now_ms, int limit, ses_rec_cb cb, void *ud)
{
    sqlite3_stmt *q = store_prep(st, "SELECT " REC_COLS " FROM recs WHERE state = 'sent' AND "
                                     "unacked = 0 AND deadline_ms <= ?1 ORDER BY deadline_ms, id "
                                     "LIMIT ?2");
    if (q == NULL)
        return SES_EIO;
    sqlite3_bind_int64(q, 1, now_ms);
    sqlite3_bind_int(q, 2, limit);
    return each_rec(q, cb, ud);
}

/* One integer of a one-row query with the thread bound as ?1 (NULL: *v = dflt). */
static int one_int(sqlite3_stmt *q, int64_t dflt, int64_t *v)
{
    if (q == NULL)
        return SES_EIO;
    int step = sqlite3_step(q);
    *v = step == SQLITE_ROW && sqlite3_column_type(q, 0) != SQLITE_NULL ? sqlite3_column_int64(q, 0)
                                                                        : dflt;
    sqlite3_finalize(q);
    return step == SQLITE_ROW ? 0 : SES_EIO;
}

int ses_store_recs_next_due(struct ses_store *st, int64_t *at_ms)
{
    return one_int(store_prep(st, "SELECT min(deadline_ms) FROM recs WHERE state = 'sent' AND "
                                  "unacked = 0"),
                   -1, at_ms);
}

int ses_store_recs_count(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                         const char *state, const uint8_t *except, int *n)
{
    sqlite3_stmt *q = store_prep(st, "SELECT count(*) FROM recs WHERE thread_id = ?1 AND state = "
                                     "?2 AND (?3 IS NULL OR id != ?3)");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, thread);
    sqlite3_bind_text(q, 2, state, -1, SQLITE_TRANSIENT);
    bind_opt_id(q, 3, except != NULL, except);
    int64_t v;
    int rc = one_int(q, 0, &v);
    *n = (int)v;
    return rc;
}

int ses_store_rec_declined_since(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                 int64_t after_ms, int64_t *at_ms)
{
    sqlite3_stmt *q = store_prep(st, "SELECT min(decided_ms) FROM recs WHERE thread_id = ?1 AND "
                                     "state = 'declined' AND decided_ms > ?2");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, thread);
    sqlite3_bind_int64(q, 2, after_ms);
    return one_int(q, 0, at_ms);
}

int ses_store_rec_event(struct ses_store *st, const uint8_t id[SES_ID_BYTES], int64_t ts,
                        const char *event, const uint8_t *by)
{
    sqlite3_stmt *q = store_prep(st, "INSERT INTO rec_events(rec_id, ts, event, by_user) "
                                     "VALUES(?1, ?2, ?3, ?4)");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, id);
    sqlite3_bind_int64(q, 2, ts);
    sqlite3_bind_text(q, 3, event, -1, SQLITE_TRANSIENT);
    bind_opt_id(q, 4, by != NULL, by);
    int rc = store_run(st, q);
    return rc == SES_ENOT_FOUND ? SES_EIO : rc;
}

int ses_store_rec_events(struct ses_store *st, const uint8_t id[SES_ID_BYTES], ses_rec_event_cb cb,
                         void *ud)
{
    sqlite3_stmt *q = store_prep(st, "SELECT ts, event, by_user FROM rec_events WHERE rec_id = "
                                     "?1 ORDER BY ts, rowid");
    if (q == NULL)
        return SES_EIO;
    bind_id(q, 1, id);
    int step, rc = 0;
    while (rc == 0 && (step = sqlite3_step(q)) == SQLITE_ROW) {
        char event[24];
        uint8_t by[SES_ID_BYTES];
        col_text(q, 1, event, sizeof event);
        bool has_by = col_id(q, 2, by);
        rc = cb(ud, sqlite3_column_int64(q, 0), event, has_by ? by : NULL);
    }
    if (rc == 0 && step != SQLITE_DONE)
        rc = SES_EIO;
    sqlite3_finalize(q);
    return rc;
}
