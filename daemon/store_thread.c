/*
 * store_thread.c - caseload threads, their members, end-to-end encrypted messages (opaque
 * envelopes with routing metadata), per-device delivery cursors and per-user read cursors
 * (store.h). The SQL of this file lives here.
 */
#include <stdio.h>
#include <string.h>

#include "sesame/err.h"

#include "store_internal.h"

#define USER_COLS                                                                                  \
    "u.id, u.role, u.name, u.site, u.state, u.created_ms, "                                        \
    "(SELECT count(*) FROM devices d WHERE d.user_id = u.id)"

static const char *const q_thread_insert =
    "INSERT INTO threads(id, patient_ref, created_by, created_ms, roster_version) "
    "VALUES(?1, ?2, ?3, ?4, ?5)";
static const char *const q_thread_get = "SELECT id, patient_ref, created_by, created_ms, "
                                        "roster_version, last_seq, last_ms FROM threads "
                                        "WHERE id = ?1";
static const char *const q_thread_bump =
    "UPDATE threads SET roster_version = roster_version + 1 WHERE id = ?1";
static const char *const q_member_put =
    "INSERT INTO thread_members(thread_id, user_id, added_ms, added_seq) "
    "VALUES(?1, ?2, ?3, (SELECT last_seq FROM threads WHERE id = ?1)) "
    "ON CONFLICT(thread_id, user_id) DO UPDATE SET added_ms = ?3, removed_ms = NULL, "
    "added_seq = excluded.added_seq WHERE removed_ms IS NOT NULL";
static const char *const q_member_remove =
    "UPDATE thread_members SET removed_ms = ?3 WHERE thread_id = ?1 AND user_id = ?2 "
    "AND removed_ms IS NULL";
static const char *const q_member_is = "SELECT 1 FROM thread_members WHERE thread_id = ?1 "
                                       "AND user_id = ?2 AND removed_ms IS NULL";
static const char *const q_member_list =
    "SELECT " USER_COLS " FROM thread_members m JOIN users u ON u.id = m.user_id "
    "WHERE m.thread_id = ?1 AND m.removed_ms IS NULL ORDER BY u.id";
static const char *const q_threads_of_user =
    "SELECT t.id, t.patient_ref, t.created_by, t.created_ms, t.roster_version, t.last_seq, "
    "t.last_ms, coalesce(r.read_seq, 0), "
    "(SELECT count(*) FROM messages g WHERE g.thread_id = t.id "
    "   AND g.seq > max(coalesce(r.read_seq, 0), m.added_seq) AND g.sender_user <> ?1) "
    "FROM thread_members m JOIN threads t ON t.id = m.thread_id "
    "LEFT JOIN reads r ON r.user_id = ?1 AND r.thread_id = t.id "
    "WHERE m.user_id = ?1 AND m.removed_ms IS NULL ORDER BY t.last_ms DESC, t.created_ms DESC";
static const char *const q_msg_insert =
    "INSERT INTO messages(thread_id, seq, msg_id, sender_user, sender_device, sender_seq, "
    "created_ms, stored_ms, env) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
static const char *const q_thread_set_last =
    "UPDATE threads SET last_seq = ?2, last_ms = ?3 WHERE id = ?1";
#define MSG_COLS                                                                                   \
    "thread_id, seq, msg_id, sender_user, sender_device, sender_seq, created_ms, stored_ms, env"
static const char *const q_msg_by_id = "SELECT " MSG_COLS " FROM messages WHERE msg_id = ?1";
static const char *const q_msg_max_sender_seq =
    "SELECT max(sender_seq) FROM messages WHERE thread_id = ?1 AND sender_device = ?2";
static const char *const q_msg_range = "SELECT " MSG_COLS " FROM messages WHERE thread_id = ?1 "
                                       "AND seq > ?2 ORDER BY seq LIMIT ?3";
static const char *const q_msg_get =
    "SELECT " MSG_COLS " FROM messages WHERE thread_id = ?1 AND seq = ?2";
static const char *const q_rewrap_put =
    "INSERT INTO rewraps(thread_id, seq, device_id, sealed, by_device, sig, created_ms) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(thread_id, seq, device_id) DO NOTHING";
static const char *const q_rewrap_get = "SELECT sealed, by_device, sig, created_ms FROM rewraps "
                                        "WHERE thread_id = ?1 AND seq = ?2 AND device_id = ?3";
static const char *const q_cursor_set =
    "INSERT INTO cursors(device_id, thread_id, delivered_seq) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(device_id, thread_id) DO UPDATE SET delivered_seq = max(delivered_seq, ?3)";
static const char *const q_cursor_get =
    "SELECT delivered_seq FROM cursors WHERE device_id = ?1 AND thread_id = ?2";
static const char *const q_read_set =
    "INSERT INTO reads(user_id, thread_id, read_seq) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(user_id, thread_id) DO UPDATE SET read_seq = max(read_seq, ?3)";
static const char *const q_read_get =
    "SELECT read_seq FROM reads WHERE user_id = ?1 AND thread_id = ?2";
static const char *const q_receipts =
    "SELECT m.user_id, "
    "(SELECT coalesce(max(c.delivered_seq), 0) FROM cursors c JOIN devices d ON d.id = c.device_id "
    "   WHERE c.thread_id = ?1 AND d.user_id = m.user_id), "
    "(SELECT coalesce(max(r.read_seq), 0) FROM reads r WHERE r.thread_id = ?1 "
    "   AND r.user_id = m.user_id) "
    "FROM thread_members m WHERE m.thread_id = ?1 AND m.removed_ms IS NULL ORDER BY m.user_id";
static const char *const q_users_by_role =
    "SELECT " USER_COLS " FROM users u WHERE u.state = 'active' AND (?1 IS NULL OR u.role = ?1) "
    "ORDER BY u.name, u.id";

static void blob_to(uint8_t *dst, size_t n, sqlite3_stmt *s, int col)
{
    memset(dst, 0, n);
    if ((size_t)sqlite3_column_bytes(s, col) == n)
        memcpy(dst, sqlite3_column_blob(s, col), n);
}

int ses_store_thread_insert(struct ses_store *st, const struct ses_thread *t)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_THREAD_INSERT, q_thread_insert);
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, t->id);
    sqlite3_bind_text(s, 2, t->patient, -1, SQLITE_STATIC);
    bind_id(s, 3, t->created_by);
    sqlite3_bind_int64(s, 4, t->created_ms);
    sqlite3_bind_int64(s, 5, t->roster_version);
    return store_exec(st, s);
}

int ses_store_thread_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES], struct ses_thread *t)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_THREAD_GET, q_thread_get);
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, id);
    int step = sqlite3_step(s), rc = SES_ENOT_FOUND;
    if (step == SQLITE_ROW) {
        memset(t, 0, sizeof *t);
        blob_to(t->id, sizeof t->id, s, 0);
        snprintf(t->patient, sizeof t->patient, "%s", (const char *)sqlite3_column_text(s, 1));
        blob_to(t->created_by, sizeof t->created_by, s, 2);
        t->created_ms = sqlite3_column_int64(s, 3);
        t->roster_version = (uint32_t)sqlite3_column_int64(s, 4);
        t->last_seq = sqlite3_column_int64(s, 5);
        t->last_ms = sqlite3_column_int64(s, 6);
        rc = 0;
    } else if (step != SQLITE_DONE) {
        rc = SES_EIO;
    }
    store_done(s);
    return rc;
}

int ses_store_thread_bump_roster(struct ses_store *st, const uint8_t id[SES_ID_BYTES])
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_THREAD_BUMP, q_thread_bump);
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, id);
    return store_exec(st, s);
}

int ses_store_member_put(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                         const uint8_t user[SES_ID_BYTES], int64_t now_ms)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_MEMBER_PUT, q_member_put);
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    bind_id(s, 2, user);
    sqlite3_bind_int64(s, 3, now_ms);
    return store_exec(st, s);
}

int ses_store_member_remove(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                            const uint8_t user[SES_ID_BYTES], int64_t now_ms)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_MEMBER_REMOVE, q_member_remove);
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    bind_id(s, 2, user);
    sqlite3_bind_int64(s, 3, now_ms);
    return store_exec_one(st, s);
}

int ses_store_member_is(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                        const uint8_t user[SES_ID_BYTES], bool *is)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_MEMBER_IS, q_member_is);
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    bind_id(s, 2, user);
    int step = sqlite3_step(s);
    store_done(s);
    if (step != SQLITE_ROW && step != SQLITE_DONE)
        return SES_EIO;
    *is = step == SQLITE_ROW;
    return 0;
}

static int each_user(sqlite3_stmt *s, ses_user_cb cb, void *ud)
{
    struct ses_user u;
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        store_read_user(s, &u);
        cb(ud, &u);
    }
    store_done(s);
    return step == SQLITE_DONE ? 0 : SES_EIO;
}

int ses_store_member_list(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], ses_user_cb cb,
                          void *ud)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_MEMBER_LIST, q_member_list);
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    return each_user(s, cb, ud);
}

int ses_store_users_active(struct ses_store *st, enum ses_role role, ses_user_cb cb, void *ud)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_USERS_BY_ROLE, q_users_by_role);
    if (s == NULL)
        return SES_EIO;
    if (role != SES_ROLE_NONE)
        sqlite3_bind_text(s, 1, ses_role_name(role), -1, SQLITE_STATIC);
    return each_user(s, cb, ud);
}

int ses_store_threads_of_user(struct ses_store *st, const uint8_t user[SES_ID_BYTES],
                              ses_thread_line_cb cb, void *ud)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_THREADS_OF_USER, q_threads_of_user);
    struct ses_thread_line l;
    int step;
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, user);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&l, 0, sizeof l);
        blob_to(l.t.id, sizeof l.t.id, s, 0);
        snprintf(l.t.patient, sizeof l.t.patient, "%s", (const char *)sqlite3_column_text(s, 1));
        blob_to(l.t.created_by, sizeof l.t.created_by, s, 2);
        l.t.created_ms = sqlite3_column_int64(s, 3);
        l.t.roster_version = (uint32_t)sqlite3_column_int64(s, 4);
        l.t.last_seq = sqlite3_column_int64(s, 5);
        l.t.last_ms = sqlite3_column_int64(s, 6);
        l.read_seq = sqlite3_column_int64(s, 7);
        l.unread = sqlite3_column_int64(s, 8);
        cb(ud, &l);
    }
    store_done(s);
    return step == SQLITE_DONE ? 0 : SES_EIO;
}

int ses_store_msg_insert(struct ses_store *st, struct ses_message *m)
{
    struct ses_thread t;
    int rc = ses_store_thread_get(st, m->thread, &t);
    if (rc != 0)
        return rc;
    sqlite3_stmt *s = store_stmt_sql(st, ST_MSG_INSERT, q_msg_insert);
    if (s == NULL)
        return SES_EIO;
    int64_t seq = t.last_seq + 1;
    bind_id(s, 1, m->thread);
    sqlite3_bind_int64(s, 2, seq);
    sqlite3_bind_blob(s, 3, m->msg_id, 16, SQLITE_STATIC);
    bind_id(s, 4, m->sender_user);
    bind_id(s, 5, m->sender_device);
    sqlite3_bind_int64(s, 6, (sqlite3_int64)m->sender_seq);
    sqlite3_bind_int64(s, 7, m->created_ms);
    sqlite3_bind_int64(s, 8, m->stored_ms);
    sqlite3_bind_blob(s, 9, m->env, (int)m->env_len, SQLITE_STATIC);
    if ((rc = store_exec(st, s)) != 0)
        return rc;
    if ((s = store_stmt_sql(st, ST_THREAD_SET_LAST, q_thread_set_last)) == NULL)
        return SES_EIO;
    bind_id(s, 1, m->thread);
    sqlite3_bind_int64(s, 2, seq);
    sqlite3_bind_int64(s, 3, m->stored_ms);
    if ((rc = store_exec(st, s)) == 0)
        m->seq = seq;
    return rc;
}

static int each_msg(sqlite3_stmt *s, ses_message_cb cb, void *ud, int *rows)
{
    struct ses_message m;
    int step, rc = 0;
    *rows = 0;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&m, 0, sizeof m);
        blob_to(m.thread, sizeof m.thread, s, 0);
        m.seq = sqlite3_column_int64(s, 1);
        blob_to(m.msg_id, sizeof m.msg_id, s, 2);
        blob_to(m.sender_user, sizeof m.sender_user, s, 3);
        blob_to(m.sender_device, sizeof m.sender_device, s, 4);
        m.sender_seq = (uint64_t)sqlite3_column_int64(s, 5);
        m.created_ms = sqlite3_column_int64(s, 6);
        m.stored_ms = sqlite3_column_int64(s, 7);
        m.env = sqlite3_column_blob(s, 8);
        m.env_len = (size_t)sqlite3_column_bytes(s, 8);
        (*rows)++;
        if ((rc = cb(ud, &m)) != 0)
            break;
    }
    store_done(s);
    if (rc == 0 && step != SQLITE_DONE)
        rc = SES_EIO;
    return rc;
}

int ses_store_msg_by_id(struct ses_store *st, const uint8_t msg_id[16], ses_message_cb cb, void *ud)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_MSG_BY_ID, q_msg_by_id);
    int rows = 0;
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_blob(s, 1, msg_id, 16, SQLITE_STATIC);
    int rc = each_msg(s, cb, ud, &rows);
    return rc == 0 && rows == 0 ? SES_ENOT_FOUND : rc;
}

int ses_store_msg_max_sender_seq(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                 const uint8_t device[SES_ID_BYTES], uint64_t *max)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_MSG_MAX_SENDER_SEQ, q_msg_max_sender_seq);
    int rc = SES_EIO;
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    bind_id(s, 2, device);
    if (sqlite3_step(s) == SQLITE_ROW) {
        *max = (uint64_t)sqlite3_column_int64(s, 0); /* NULL reads as 0 */
        rc = 0;
    }
    store_done(s);
    return rc;
}

int ses_store_msg_range(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], int64_t after,
                        int limit, ses_message_cb cb, void *ud)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_MSG_RANGE, q_msg_range);
    int rows = 0;
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    sqlite3_bind_int64(s, 2, after);
    sqlite3_bind_int(s, 3, limit);
    return each_msg(s, cb, ud, &rows);
}

int ses_store_msg_get(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], int64_t seq,
                      ses_message_cb cb, void *ud)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_MSG_GET, q_msg_get);
    int rows = 0;
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    sqlite3_bind_int64(s, 2, seq);
    int rc = each_msg(s, cb, ud, &rows);
    return rc == 0 && rows == 0 ? SES_ENOT_FOUND : rc;
}

int ses_store_rewrap_put(struct ses_store *st, const struct ses_rewrap *r, bool *stored)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_REWRAP_PUT, q_rewrap_put);
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, r->thread);
    sqlite3_bind_int64(s, 2, r->seq);
    bind_id(s, 3, r->device);
    sqlite3_bind_blob(s, 4, r->sealed, sizeof r->sealed, SQLITE_STATIC);
    bind_id(s, 5, r->by_device);
    sqlite3_bind_blob(s, 6, r->sig, sizeof r->sig, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, r->created_ms);
    int rc = store_exec(st, s);
    if (rc == 0)
        *stored = sqlite3_changes(st->db) > 0;
    return rc;
}

int ses_store_rewrap_get(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], int64_t seq,
                         const uint8_t device[SES_ID_BYTES], struct ses_rewrap *r)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_REWRAP_GET, q_rewrap_get);
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    sqlite3_bind_int64(s, 2, seq);
    bind_id(s, 3, device);
    int step = sqlite3_step(s), rc = SES_ENOT_FOUND;
    if (step == SQLITE_ROW) {
        memset(r, 0, sizeof *r);
        memcpy(r->thread, thread, SES_ID_BYTES);
        r->seq = seq;
        memcpy(r->device, device, SES_ID_BYTES);
        blob_to(r->sealed, sizeof r->sealed, s, 0);
        blob_to(r->by_device, sizeof r->by_device, s, 1);
        blob_to(r->sig, sizeof r->sig, s, 2);
        r->created_ms = sqlite3_column_int64(s, 3);
        rc = 0;
    } else if (step != SQLITE_DONE) {
        rc = SES_EIO;
    }
    store_done(s);
    return rc;
}

static int set_cursor(struct ses_store *st, enum stmt_id id, const char *q, const uint8_t *who,
                      const uint8_t *thread, int64_t seq)
{
    sqlite3_stmt *s = store_stmt_sql(st, id, q);
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, who);
    bind_id(s, 2, thread);
    sqlite3_bind_int64(s, 3, seq);
    return store_exec(st, s);
}

int ses_store_cursor_set(struct ses_store *st, const uint8_t device[SES_ID_BYTES],
                         const uint8_t thread[SES_ID_BYTES], int64_t seq)
{
    return set_cursor(st, ST_CURSOR_SET, q_cursor_set, device, thread, seq);
}

int ses_store_read_set(struct ses_store *st, const uint8_t user[SES_ID_BYTES],
                       const uint8_t thread[SES_ID_BYTES], int64_t seq)
{
    return set_cursor(st, ST_READ_SET, q_read_set, user, thread, seq);
}

static int get_cursor(struct ses_store *st, enum stmt_id id, const char *q, const uint8_t *who,
                      const uint8_t *thread, int64_t *seq)
{
    sqlite3_stmt *s = store_stmt_sql(st, id, q);
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, who);
    bind_id(s, 2, thread);
    int step = sqlite3_step(s);
    *seq = step == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    store_done(s);
    return step == SQLITE_ROW || step == SQLITE_DONE ? 0 : SES_EIO;
}

int ses_store_cursor_get(struct ses_store *st, const uint8_t device[SES_ID_BYTES],
                         const uint8_t thread[SES_ID_BYTES], int64_t *seq)
{
    return get_cursor(st, ST_CURSOR_GET, q_cursor_get, device, thread, seq);
}

int ses_store_read_get(struct ses_store *st, const uint8_t user[SES_ID_BYTES],
                       const uint8_t thread[SES_ID_BYTES], int64_t *seq)
{
    return get_cursor(st, ST_READ_GET, q_read_get, user, thread, seq);
}

int ses_store_receipts(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], ses_receipt_cb cb,
                       void *ud)
{
    sqlite3_stmt *s = store_stmt_sql(st, ST_RECEIPTS, q_receipts);
    uint8_t user[SES_ID_BYTES];
    int step;
    if (s == NULL)
        return SES_EIO;
    bind_id(s, 1, thread);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        blob_to(user, sizeof user, s, 0);
        cb(ud, user, sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2));
    }
    store_done(s);
    return step == SQLITE_DONE ? 0 : SES_EIO;
}
