/*
 * store.c - opening the database, schema migrations (PRAGMA user_version), transactions and the
 * prepared-statement cache (store.h).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sesame/err.h"

#include "log.h"
#include "store_internal.h"

static const char *const sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_USER_INSERT] = "INSERT INTO users(id, role, name, site, state, created_ms) "
                       "VALUES(?1, ?2, ?3, ?4, 'active', ?5)",
    [ST_USER_GET] = "SELECT id, role, name, site, state, created_ms, "
                    "(SELECT count(*) FROM devices d WHERE d.user_id = u.id) "
                    "FROM users u WHERE id = ?1",
    [ST_USER_LIST] = "SELECT id, role, name, site, state, created_ms, "
                     "(SELECT count(*) FROM devices d WHERE d.user_id = u.id) "
                     "FROM users u ORDER BY created_ms, id",
    [ST_USER_REVOKE] = "UPDATE users SET state = 'revoked', revoked_ms = ?2 "
                       "WHERE id = ?1 AND state = 'active'",
    [ST_ADMIN_COUNT] = "SELECT count(*) FROM users WHERE role = 'admin' AND state = 'active'",
    [ST_DEVICE_INSERT] = "INSERT INTO devices(id, user_id, name, sign_pk, box_pk, state, "
                         "created_ms) VALUES(?1, ?2, ?3, ?4, ?5, 'active', ?6)",
    [ST_DEVICE_GET] = "SELECT id, user_id, name, sign_pk, box_pk, state, created_ms, "
                      "last_login_ms FROM devices WHERE id = ?1",
    [ST_DEVICE_LIST] = "SELECT id, user_id, name, sign_pk, box_pk, state, created_ms, "
                       "last_login_ms FROM devices ORDER BY created_ms, id",
    [ST_DEVICE_LIST_USER] = "SELECT id, user_id, name, sign_pk, box_pk, state, created_ms, "
                            "last_login_ms FROM devices WHERE user_id = ?1 ORDER BY created_ms, id",
    [ST_DEVICE_REVOKE] = "UPDATE devices SET state = 'revoked', revoked_ms = ?2 "
                         "WHERE id = ?1 AND state = 'active'",
    [ST_DEVICE_REVOKE_USER] = "UPDATE devices SET state = 'revoked', revoked_ms = ?2 "
                              "WHERE user_id = ?1 AND state = 'active'",
    [ST_DEVICE_TOUCH] = "UPDATE devices SET last_login_ms = ?2 WHERE id = ?1",
    [ST_CODE_INSERT] = "INSERT INTO enrol_codes(ticket, secret_hash, user_id, created_ms, "
                       "expires_ms, attempts_left) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_CODE_GET] = "SELECT ticket, secret_hash, user_id, created_ms, expires_ms, attempts_left, "
                    "used_ms FROM enrol_codes WHERE ticket = ?1",
    [ST_CODE_ATTEMPTS] = "UPDATE enrol_codes SET attempts_left = ?2 WHERE ticket = ?1",
    [ST_CODE_USED] = "UPDATE enrol_codes SET used_ms = ?2, used_by_device = ?3 "
                     "WHERE ticket = ?1 AND used_ms IS NULL",
    [ST_AUDIT_APPEND] = "INSERT INTO audit(seq, ts_ms, actor_user, actor_device, actor_role, "
                        "action, object, outcome, peer, record, leaf_hash) "
                        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_AUDIT_SIZE] = "SELECT max(idx) FROM audit_node WHERE level = 0",
    [ST_NODE_GET] = "SELECT hash FROM audit_node WHERE level = ?1 AND idx = ?2",
    [ST_NODE_PUT] = "INSERT INTO audit_node(level, idx, hash) VALUES(?1, ?2, ?3)",
    [ST_AUDIT_GET] = "SELECT seq, record, leaf_hash FROM audit WHERE seq = ?1",
    [ST_AUDIT_RANGE] = "SELECT seq, record, leaf_hash FROM audit WHERE seq >= ?1 AND seq < ?2 "
                       "ORDER BY seq",
    /* filters and retention read the hashed record bytes, not the convenience columns, so an
     * edit of those columns can neither hide a record nor get a recent one pruned */
    [ST_AUDIT_QUERY] = "SELECT seq, record, leaf_hash FROM audit WHERE seq > ?1 "
                       "AND (record IS NOT NULL OR (?2 IS NULL AND ?3 IS NULL AND ?4 = 0 "
                       "     AND ?5 = 0)) "
                       "AND (?2 IS NULL OR json_extract(record, '$.actor.user') = ?2) "
                       "AND (?3 IS NULL OR json_extract(record, '$.action') = ?3) "
                       "AND (?4 = 0 OR json_extract(record, '$.ts') >= ?4) "
                       "AND (?5 = 0 OR json_extract(record, '$.ts') <= ?5) "
                       "ORDER BY seq LIMIT ?6",
    [ST_AUDIT_PRUNE] = "UPDATE audit SET record = NULL WHERE record IS NOT NULL "
                       "AND json_extract(record, '$.ts') < ?1 RETURNING seq",
    [ST_AUDIT_BACKFILL] = "SELECT seq, ts_ms, actor_user, actor_device, actor_role, action, "
                          "object, outcome, peer FROM audit WHERE leaf_hash IS NULL ORDER BY seq",
    [ST_AUDIT_SET_LEAF] = "UPDATE audit SET record = ?2, leaf_hash = ?3 WHERE seq = ?1",
    [ST_CKPT_PUT] = "INSERT OR IGNORE INTO audit_checkpoint(size, root, note, created_ms) "
                    "VALUES(?1, ?2, ?3, ?4)",
    [ST_SAVEPOINT] = "SAVEPOINT job",
    [ST_RELEASE] = "RELEASE job",
    [ST_ROLLBACK_TO] = "ROLLBACK TO job",
    [ST_CKPT_LATEST] = "SELECT size, note FROM audit_checkpoint ORDER BY size DESC LIMIT 1",
};

/* Migrations: migrations[i] takes the schema from version i to i+1. */
#define SES_SCHEMA_MERKLE 2 /* the schema whose migration backfills the audit tree */
static const char *const migrations[SES_SCHEMA_VERSION] = {
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE users("
    "  id BLOB PRIMARY KEY CHECK(length(id) = 16),"
    "  role TEXT NOT NULL CHECK(role IN ('admin','nurse','psychiatrist','gp','auditor')),"
    "  name TEXT NOT NULL, site TEXT,"
    "  state TEXT NOT NULL CHECK(state IN ('active','revoked')),"
    "  created_ms INTEGER NOT NULL, revoked_ms INTEGER);"
    "CREATE TABLE devices("
    "  id BLOB PRIMARY KEY CHECK(length(id) = 16),"
    "  user_id BLOB NOT NULL REFERENCES users(id), name TEXT,"
    "  sign_pk BLOB NOT NULL UNIQUE CHECK(length(sign_pk) = 32),"
    "  box_pk BLOB NOT NULL CHECK(length(box_pk) = 32),"
    "  state TEXT NOT NULL CHECK(state IN ('active','revoked')),"
    "  created_ms INTEGER NOT NULL, last_login_ms INTEGER, revoked_ms INTEGER);"
    "CREATE INDEX devices_user ON devices(user_id);"
    "CREATE TABLE enrol_codes("
    "  ticket BLOB PRIMARY KEY CHECK(length(ticket) = 5),"
    "  secret_hash BLOB NOT NULL CHECK(length(secret_hash) = 32),"
    "  user_id BLOB NOT NULL REFERENCES users(id),"
    "  created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,"
    "  attempts_left INTEGER NOT NULL, used_ms INTEGER, used_by_device BLOB);"
    "CREATE TABLE audit("
    "  seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL,"
    "  actor_user BLOB, actor_device BLOB, actor_role TEXT,"
    "  action TEXT NOT NULL, object TEXT, outcome TEXT NOT NULL, peer TEXT);",
    /* 2: the audit log becomes a Merkle tree (rows of version 1 are backfilled in C) */
    "ALTER TABLE audit ADD COLUMN record BLOB;"
    "ALTER TABLE audit ADD COLUMN leaf_hash BLOB;"
    "CREATE INDEX audit_ts ON audit(ts_ms);"
    "CREATE INDEX audit_actor ON audit(actor_user, seq);"
    "CREATE TABLE audit_node("
    "  level INTEGER NOT NULL, idx INTEGER NOT NULL,"
    "  hash BLOB NOT NULL CHECK(length(hash) = 32),"
    "  PRIMARY KEY(level, idx)) WITHOUT ROWID;"
    "CREATE TABLE audit_checkpoint("
    "  size INTEGER PRIMARY KEY, root BLOB NOT NULL CHECK(length(root) = 32),"
    "  note TEXT NOT NULL, created_ms INTEGER NOT NULL);",
    /* 3: caseload threads, end-to-end encrypted messages, delivery and read cursors */
    "CREATE TABLE threads("
    "  id BLOB PRIMARY KEY CHECK(length(id) = 16), patient_ref TEXT NOT NULL,"
    "  created_by BLOB NOT NULL, created_ms INTEGER NOT NULL,"
    "  roster_version INTEGER NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0,"
    "  last_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE thread_members("
    "  thread_id BLOB NOT NULL REFERENCES threads(id), user_id BLOB NOT NULL REFERENCES users(id),"
    "  added_ms INTEGER NOT NULL, removed_ms INTEGER,"
    "  PRIMARY KEY(thread_id, user_id)) WITHOUT ROWID;"
    "CREATE INDEX thread_members_user ON thread_members(user_id);"
    "CREATE TABLE messages("
    "  thread_id BLOB NOT NULL, seq INTEGER NOT NULL, msg_id BLOB NOT NULL UNIQUE,"
    "  sender_user BLOB NOT NULL, sender_device BLOB NOT NULL, sender_seq INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL, stored_ms INTEGER NOT NULL, env BLOB NOT NULL,"
    "  PRIMARY KEY(thread_id, seq)) WITHOUT ROWID;"
    "CREATE UNIQUE INDEX messages_sender_seq ON messages(thread_id, sender_device, sender_seq);"
    "CREATE TABLE cursors("
    "  device_id BLOB NOT NULL, thread_id BLOB NOT NULL, delivered_seq INTEGER NOT NULL,"
    "  PRIMARY KEY(device_id, thread_id)) WITHOUT ROWID;"
    "CREATE TABLE reads("
    "  user_id BLOB NOT NULL, thread_id BLOB NOT NULL, read_seq INTEGER NOT NULL,"
    "  PRIMARY KEY(user_id, thread_id)) WITHOUT ROWID;",
    /* 4: history re-wraps of message keys for a user's newer device (PROTOCOL.md §12) */
    "CREATE TABLE rewraps("
    "  thread_id BLOB NOT NULL, seq INTEGER NOT NULL, device_id BLOB NOT NULL,"
    "  sealed BLOB NOT NULL CHECK(length(sealed) = 80),"
    "  by_device BLOB NOT NULL CHECK(length(by_device) = 16),"
    "  sig BLOB NOT NULL CHECK(length(sig) = 64), created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY(thread_id, seq, device_id)) WITHOUT ROWID;",
    /* 5: structured clinical alerts, incidents, their timelines; thread metadata and contacts
     * (PROTOCOL.md §13). Owner, former-owner and cc lists are concatenated 16-byte user ids. */
    "ALTER TABLE threads ADD COLUMN enrolled_ms INTEGER;"
    "ALTER TABLE threads ADD COLUMN phase TEXT NOT NULL DEFAULT 'active'"
    "  CHECK(phase IN ('active','relapse_prevention'));"
    "ALTER TABLE threads ADD COLUMN last_contact_ms INTEGER;"
    "ALTER TABLE threads ADD COLUMN contacts INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE threads ADD COLUMN last_review_ms INTEGER;"
    "ALTER TABLE threads ADD COLUMN sequence_type TEXT CHECK(sequence_type IN ('classic','light'));"
    "ALTER TABLE threads ADD COLUMN sequence_due_ms INTEGER;"
    "ALTER TABLE threads ADD COLUMN next_rule_ms INTEGER;"
    "CREATE INDEX threads_next_rule ON threads(next_rule_ms);"
    "CREATE TABLE contacts("
    "  thread_id BLOB NOT NULL REFERENCES threads(id), date_ms INTEGER NOT NULL,"
    "  recorded_by BLOB NOT NULL, recorded_ms INTEGER NOT NULL);"
    "CREATE INDEX contacts_thread ON contacts(thread_id, date_ms);"
    "CREATE TABLE incidents("
    "  id BLOB PRIMARY KEY CHECK(length(id) = 16), thread_id BLOB NOT NULL REFERENCES threads(id),"
    "  state TEXT NOT NULL CHECK(state IN ('open','closed')),"
    "  severity INTEGER NOT NULL CHECK(severity BETWEEN 0 AND 4),"
    "  opened_ms INTEGER NOT NULL, closed_ms INTEGER);"
    "CREATE INDEX incidents_thread ON incidents(thread_id, state);"
    "CREATE TABLE alerts("
    "  id BLOB PRIMARY KEY CHECK(length(id) = 16), thread_id BLOB NOT NULL REFERENCES threads(id),"
    "  incident_id BLOB NOT NULL REFERENCES incidents(id),"
    "  type TEXT NOT NULL, variant TEXT NOT NULL,"
    "  severity INTEGER NOT NULL CHECK(severity BETWEEN 0 AND 4),"
    "  state TEXT NOT NULL CHECK(state IN ('raised','acked','resolved','cancelled')),"
    "  origin TEXT NOT NULL CHECK(origin IN ('manual','client','daemon')),"
    "  raised_by BLOB, raised_device BLOB, raised_ms INTEGER NOT NULL, msg_seq INTEGER,"
    "  step INTEGER NOT NULL DEFAULT 0, owners BLOB NOT NULL, former_owners BLOB NOT NULL,"
    "  cc BLOB NOT NULL, deadline_ms INTEGER, exhausted INTEGER NOT NULL DEFAULT 0,"
    "  repeats INTEGER NOT NULL DEFAULT 0, acked_ms INTEGER, acked_by BLOB,"
    "  resolved_ms INTEGER, resolved_by BLOB, resolution TEXT, outcome TEXT,"
    "  resolve_msg_seq INTEGER, cond_key TEXT);"
    "CREATE INDEX alerts_thread ON alerts(thread_id, state);"
    "CREATE INDEX alerts_deadline ON alerts(deadline_ms) WHERE state = 'raised';"
    "CREATE UNIQUE INDEX alerts_cond ON alerts(thread_id, cond_key) WHERE cond_key IS NOT NULL;"
    "CREATE TABLE alert_events("
    "  alert_id BLOB NOT NULL REFERENCES alerts(id), n INTEGER NOT NULL, ts_ms INTEGER NOT NULL,"
    "  event TEXT NOT NULL, by_user BLOB, to_users BLOB, detail TEXT,"
    "  PRIMARY KEY(alert_id, n)) WITHOUT ROWID;",
    /* 6: envelopes move to a rowid table in arrival order. In the WITHOUT ROWID table a 2 KB
     * envelope kept ~1 KB in its leaf and the rest in an overflow page of its own, and every
     * commit touched one leaf per thread; now an envelope stays within its page, commits append,
     * and only the small index entries are spread per thread. thread_members.added_seq: the
     * thread's last seq when the member was (re-)added: what came before is not theirs to read,
     * nor counted unread (backfilled from the time of the latest addition). */
    "CREATE TABLE messages_v6("
    "  id INTEGER PRIMARY KEY,"
    "  thread_id BLOB NOT NULL, seq INTEGER NOT NULL, msg_id BLOB NOT NULL UNIQUE,"
    "  sender_user BLOB NOT NULL, sender_device BLOB NOT NULL, sender_seq INTEGER NOT NULL,"
    "  created_ms INTEGER NOT NULL, stored_ms INTEGER NOT NULL, env BLOB NOT NULL);"
    "INSERT INTO messages_v6(thread_id, seq, msg_id, sender_user, sender_device, sender_seq,"
    "  created_ms, stored_ms, env)"
    "  SELECT thread_id, seq, msg_id, sender_user, sender_device, sender_seq, created_ms,"
    "  stored_ms, env FROM messages ORDER BY stored_ms, thread_id, seq;"
    "DROP TABLE messages;"
    "ALTER TABLE messages_v6 RENAME TO messages;"
    /* (thread_id, seq) is unique: the writer assigns seq = last_seq + 1 in the transaction that
     * inserts; sender_user makes the unread count an index-only scan */
    "CREATE UNIQUE INDEX messages_thread_seq ON messages(thread_id, seq, sender_user);"
    "CREATE UNIQUE INDEX messages_sender_seq ON messages(thread_id, sender_device, sender_seq);"
    "ALTER TABLE thread_members ADD COLUMN added_seq INTEGER NOT NULL DEFAULT 0;"
    "UPDATE thread_members SET added_seq = (SELECT coalesce(max(g.seq), 0) FROM messages g"
    "  WHERE g.thread_id = thread_members.thread_id AND g.stored_ms < thread_members.added_ms);",
    /* 7: the safety pathway (PROTOCOL.md §13). alerts.renotified: re-notifications of an
     * exhausted P0/P1 alert; contacts.type and threads.last_phq9_ms (the date of the latest
     * assessment naming a PHQ-9: a routing date, never a score); the chain roles an admin sets
     * through the server (a row overrides sesamed.conf; a NULL user clears it). */
    "ALTER TABLE alerts ADD COLUMN renotified INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE contacts ADD COLUMN type TEXT NOT NULL DEFAULT 'in_person'"
    "  CHECK(type IN ('in_person','phone','video','assessment'));"
    "ALTER TABLE threads ADD COLUMN last_phq9_ms INTEGER;"
    "CREATE TABLE oncall("
    "  role TEXT PRIMARY KEY CHECK(role IN ('on_duty_psychiatrist','program_lead')),"
    "  user_id BLOB CHECK(user_id IS NULL OR length(user_id) = 16),"
    "  set_by BLOB NOT NULL, set_ms INTEGER NOT NULL);"
    "CREATE TABLE backups("
    "  user_id BLOB PRIMARY KEY CHECK(length(user_id) = 16),"
    "  backup_id BLOB CHECK(backup_id IS NULL OR length(backup_id) = 16),"
    "  set_by BLOB NOT NULL, set_ms INTEGER NOT NULL);",
    /* 8: episodes and the weekly case review (PROTOCOL.md §15). A closed episode keeps its last
     * phase; the review queue holds codes and dates only (reasons, tiers, outcomes), never a
     * score or a summary: those travel end-to-end encrypted in the thread. */
    "ALTER TABLE threads ADD COLUMN closed_ms INTEGER;"
    "ALTER TABLE threads ADD COLUMN closed_reason TEXT CHECK(closed_reason IN ('remission',"
    "  'referred','patient_choice','lost_to_follow_up','inappropriate'));"
    "ALTER TABLE threads ADD COLUMN next_review_ms INTEGER;"
    "ALTER TABLE threads ADD COLUMN first_review_ms INTEGER;"
    "ALTER TABLE threads ADD COLUMN review_deferrals INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE review_series("
    "  id BLOB PRIMARY KEY CHECK(length(id) = 16), psychiatrist BLOB NOT NULL,"
    "  weekday INTEGER NOT NULL CHECK(weekday BETWEEN 1 AND 7),"
    "  minute INTEGER NOT NULL CHECK(minute BETWEEN 0 AND 1439),"
    "  minutes INTEGER NOT NULL CHECK(minutes BETWEEN 1 AND 600),"
    "  created_by BLOB NOT NULL, created_ms INTEGER NOT NULL, ended_ms INTEGER);"
    "CREATE TABLE review_sessions("
    "  id BLOB PRIMARY KEY CHECK(length(id) = 16), series_id BLOB, psychiatrist BLOB NOT NULL,"
    "  start_ms INTEGER NOT NULL, minutes INTEGER NOT NULL CHECK(minutes BETWEEN 1 AND 600),"
    "  state TEXT NOT NULL CHECK(state IN ('planned','cancelled','held')),"
    "  entries INTEGER NOT NULL DEFAULT 0, missed_due INTEGER NOT NULL DEFAULT 0,"
    "  used INTEGER NOT NULL DEFAULT 0,"
    "  created_by BLOB NOT NULL, created_ms INTEGER NOT NULL, UNIQUE(series_id, start_ms));"
    "CREATE INDEX review_sessions_start ON review_sessions(state, start_ms);"
    "CREATE INDEX review_sessions_psy ON review_sessions(psychiatrist, start_ms);"
    "CREATE TABLE review_requests("
    "  id INTEGER PRIMARY KEY, thread_id BLOB NOT NULL REFERENCES threads(id),"
    "  reason TEXT NOT NULL, by_user BLOB NOT NULL, added_ms INTEGER NOT NULL, done_ms INTEGER);"
    "CREATE INDEX review_requests_thread ON review_requests(thread_id, done_ms);"
    "CREATE TABLE review_agenda("
    "  session_id BLOB NOT NULL, thread_id BLOB NOT NULL, position INTEGER NOT NULL,"
    "  tier INTEGER NOT NULL, base_tier INTEGER NOT NULL, promoted TEXT, reasons TEXT NOT NULL,"
    "  due_ms INTEGER NOT NULL, units INTEGER NOT NULL, in_capacity INTEGER NOT NULL,"
    "  outcome TEXT, outcome_ms INTEGER, outcome_by BLOB, next_review_ms INTEGER,"
    "  PRIMARY KEY(session_id, thread_id)) WITHOUT ROWID;"
    "CREATE INDEX review_agenda_thread ON review_agenda(thread_id);"
    "CREATE TABLE review_minutes("
    "  session_id BLOB PRIMARY KEY, attended BLOB NOT NULL, recorded_by BLOB NOT NULL,"
    "  recorded_ms INTEGER NOT NULL);",
    /* 9: recommendations to the GP (PROTOCOL.md §16): state, dates and who acted; the content is
     * the encrypted message msg_seq of the thread */
    "CREATE TABLE recs("
    "  id BLOB PRIMARY KEY, thread_id BLOB NOT NULL REFERENCES threads(id),"
    "  version INTEGER NOT NULL, supersedes BLOB, superseded_by BLOB,"
    "  author BLOB NOT NULL, gp BLOB NOT NULL, urgent INTEGER NOT NULL, state TEXT NOT NULL,"
    "  msg_seq INTEGER NOT NULL, sent_ms INTEGER NOT NULL, deadline_ms INTEGER NOT NULL,"
    "  deadline2_ms INTEGER NOT NULL, unacked INTEGER NOT NULL DEFAULT 0,"
    "  acked_ms INTEGER, decision TEXT, decided_ms INTEGER, reason_seq INTEGER,"
    "  implemented_ms INTEGER, verified_ms INTEGER, verified_by BLOB, updated_ms INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "CREATE INDEX recs_thread ON recs(thread_id, sent_ms);"
    "CREATE INDEX recs_gp ON recs(gp, state);"
    "CREATE INDEX recs_due ON recs(deadline_ms) WHERE state = 'sent' AND unacked = 0;"
    "CREATE TABLE rec_events("
    "  rec_id BLOB NOT NULL, ts INTEGER NOT NULL, event TEXT NOT NULL, by_user BLOB);"
    "CREATE INDEX rec_events_rec ON rec_events(rec_id, ts);",
};

sqlite3_stmt *store_stmt_sql(struct ses_store *st, enum stmt_id id, const char *text)
{
    if (st->stmts[id] == NULL && sqlite3_prepare_v3(st->db, text, -1, SQLITE_PREPARE_PERSISTENT,
                                                    &st->stmts[id], NULL) != SQLITE_OK) {
        SES_LOG(SES_LOG_ERR, "store", "prepare failed: %s", sqlite3_errmsg(st->db));
        return NULL;
    }
    return st->stmts[id];
}

sqlite3_stmt *store_stmt(struct ses_store *st, enum stmt_id id)
{
    return store_stmt_sql(st, id, sql[id]);
}

void store_done(sqlite3_stmt *s)
{
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* The disk is full: one log line per SES_STORE_FULL_LOG_S at most (each failed batch would
 * otherwise log a line per statement), with the count of refusals since the last one. */
static int storage_full(void)
{
    static _Atomic int64_t last_ms = INT64_MIN / 2;
    static _Atomic uint64_t since;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t last = atomic_load(&last_ms);
    uint64_t n = atomic_fetch_add(&since, 1) + 1;
    if (now - last >= SES_STORE_FULL_LOG_S * 1000 &&
        atomic_compare_exchange_strong(&last_ms, &last, now)) {
        atomic_fetch_sub(&since, n);
        SES_LOG(SES_LOG_ERR, "store",
                "the disk is full: writes are refused with STORAGE_FULL (%llu since the last "
                "notice); reads go on, and writes resume once space is freed",
                (unsigned long long)n);
    }
    return SES_ESTORAGE_FULL;
}

/* The SES_E* code of a failed step or commit (rc, the primary result code). */
static int step_error(struct ses_store *st, int rc)
{
    if (rc == SQLITE_FULL)
        return storage_full();
    SES_LOG(SES_LOG_ERR, "store", "step failed: %s", sqlite3_errmsg(st->db));
    return SES_EIO;
}

int store_exec(struct ses_store *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    int ext = sqlite3_extended_errcode(st->db);
    store_done(s);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc == SQLITE_CONSTRAINT &&
        (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY))
        return SES_EEXISTS;
    return step_error(st, ext & 0xff);
}

int store_exec_one(struct ses_store *st, sqlite3_stmt *s)
{
    int rc = store_exec(st, s);
    return rc == 0 && sqlite3_changes(st->db) == 0 ? SES_ECONFLICT : rc;
}

static int exec_sql(sqlite3 *db, const char *text)
{
    char *msg = NULL;
    if (sqlite3_exec(db, text, NULL, NULL, &msg) != SQLITE_OK) {
        SES_LOG(SES_LOG_ERR, "store", "%s", msg ? msg : "exec failed");
        sqlite3_free(msg);
        return SES_EIO;
    }
    return 0;
}

static int user_version(sqlite3 *db, int *v)
{
    sqlite3_stmt *s = NULL;
    int rc = SES_EIO;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        *v = sqlite3_column_int(s, 0);
        rc = 0;
    }
    sqlite3_finalize(s);
    return rc;
}

/* Brings the schema to SES_SCHEMA_VERSION, one transaction per step. The step to schema 2 also
 * hashes the audit rows written before it into the tree, in the same transaction: that backfill
 * is a migration, run once; an unhashed row found later is tampering (ses_store_selfcheck). */
static int migrate(struct ses_store *st)
{
    sqlite3 *db = st->db;
    int v = 0;
    char pragma[64];
    if (user_version(db, &v) != 0)
        return SES_EIO;
    if (v > SES_SCHEMA_VERSION) {
        SES_LOG(SES_LOG_ERR, "store", "database schema %d is newer than this sesamed (%d)", v,
                SES_SCHEMA_VERSION);
        return SES_EUNSUPPORTED;
    }
    for (; v < SES_SCHEMA_VERSION; v++) {
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
        if (exec_sql(db, "BEGIN IMMEDIATE") != 0)
            return SES_EIO;
        int rc = exec_sql(db, migrations[v]);
        if (rc == 0 && v + 1 == SES_SCHEMA_MERKLE)
            rc = store_audit_backfill(st);
        if (rc != 0 || exec_sql(db, pragma) != 0) {
            exec_sql(db, "ROLLBACK");
            return rc != 0 ? rc : SES_EIO;
        }
        if (exec_sql(db, "COMMIT") != 0)
            return SES_EIO;
    }
    return 0;
}

static int on_wal_commit(void *ud, sqlite3 *db, const char *name, int pages)
{
    (void)db;
    (void)name;
    ((struct ses_store *)ud)->wal_pages = pages;
    return SQLITE_OK;
}

int ses_store_wal_pages(const struct ses_store *st)
{
    return st->wal_pages;
}

int ses_store_wal_checkpoint(struct ses_store *st, bool restart)
{
    int log = 0, done = 0;
    /* RESTART waits (busy handler) for every reader to leave the old WAL: an outside reader (a
     * sqlite3 shell, a backup) would hold the writer for the whole busy timeout, after every
     * batch. Without a busy handler it copies what it can and returns SQLITE_BUSY at once. */
    if (restart)
        sqlite3_busy_timeout(st->db, 0);
    int rc = sqlite3_wal_checkpoint_v2(
        st->db, NULL, restart ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    if (restart)
        sqlite3_busy_timeout(st->db, SES_STORE_BUSY_MS);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
        SES_LOG(SES_LOG_WARN, "store", "checkpoint failed: %s", sqlite3_errmsg(st->db));
        return SES_EIO;
    }
    st->wal_pages = log - done; /* frames not yet copied back (readers still use them) */
    return 0;
}

void ses_store_cache_mib(struct ses_store *st, int mib)
{
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA cache_size=%d", -mib * 1024);
    (void)exec_sql(st->db, pragma);
}

int ses_store_txn(struct ses_store *st, int (*fn)(struct ses_store *st, void *arg), void *arg)
{
    int rc = ses_store_begin(st);
    if (rc == 0 && (rc = fn(st, arg)) == 0)
        rc = ses_store_commit(st);
    if (rc != 0)
        ses_store_rollback(st);
    return rc;
}

int ses_store_set_read_only(struct ses_store *st, bool on)
{
    return exec_sql(st->db, on ? "PRAGMA query_only = ON;" : "PRAGMA query_only = OFF;");
}

/* The directory part of path ("." when it has none), into buf. */
static void dir_of(const char *path, char *buf, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL)
        snprintf(buf, cap, ".");
    else if (slash == path)
        snprintf(buf, cap, "/");
    else
        snprintf(buf, cap, "%.*s", (int)(slash - path), path);
}

int ses_store_selfcheck(struct ses_store *st, const char *path)
{
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    if (sqlite3_db_readonly(st->db, "main") == 1) {
        SES_LOG(SES_LOG_ERR, "store",
                "%s: read-only: sesamed cannot write its database (check the file's owner and "
                "mode); refusing to start",
                path);
        return SES_ECONFLICT;
    }
    sqlite3_stmt *q = NULL;
    int rc = sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &q, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    const char *res = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(q, 0) : NULL;
    if (res == NULL || strcmp(res, "ok") != 0) {
        SES_LOG(SES_LOG_ERR, "store",
                "%s: damaged: %s; restore it from the backup (sesamed check --data DIR shows the "
                "same); refusing to start",
                path, res ? res : sqlite3_errmsg(st->db));
        sqlite3_finalize(q);
        return SES_ECONFLICT;
    }
    sqlite3_finalize(q);
    return ses_store_audit_selfcheck(st, path);
}

int ses_store_open(const char *path, bool create, struct ses_store **out)
{
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    if (access(dir, W_OK | X_OK) != 0 && errno != ENOENT) { /* a missing one: below */
        SES_LOG(SES_LOG_ERR, "store",
                "%s: the data directory is not writable (%s; the database's journal lives "
                "there); refusing to start",
                dir, strerror(errno));
        return SES_ECONFLICT;
    }
    struct ses_store *st = calloc(1, sizeof *st);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
    if (st == NULL)
        return SES_ENOMEM;
    if (create) {
        if (access(path, F_OK) == 0) {
            free(st);
            return SES_EEXISTS;
        }
        flags |= SQLITE_OPEN_CREATE;
    }
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        SES_LOG(SES_LOG_ERR, "store", "cannot open %s: %s", path,
                st->db ? sqlite3_errmsg(st->db) : "out of memory");
        ses_store_close(st);
        return SES_EIO;
    }
    if (create)
        chmod(path, 0600);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    sqlite3_db_config(st->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
    sqlite3_limit(st->db, SQLITE_LIMIT_LENGTH, 1 << 20);
    sqlite3_busy_timeout(st->db, SES_STORE_BUSY_MS);
    /* no automatic checkpoint inside a commit: the writer checkpoints when it is idle
     * (ses_store_wal_checkpoint), so no client waits for it */
    int rc = exec_sql(st->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                              "PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;"
                              "PRAGMA wal_autocheckpoint=0;");
    sqlite3_wal_hook(st->db, on_wal_commit, st);
    if (rc == 0)
        rc = migrate(st);
    if (rc != 0) {
        SES_LOG(SES_LOG_ERR, "store", "%s: cannot be used: %s", path, sqlite3_errmsg(st->db));
        ses_store_close(st);
        return rc;
    }
    *out = st;
    return 0;
}

void ses_store_close(struct ses_store *st)
{
    if (st == NULL)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(st->stmts[i]);
    if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
        SES_LOG(SES_LOG_ERR, "store", "close failed: %s", sqlite3_errmsg(st->db));
    free(st);
}

int ses_store_begin(struct ses_store *st)
{
    sqlite3_stmt *s = store_stmt(st, ST_BEGIN);
    if (s == NULL || store_exec(st, s) != 0)
        return SES_EIO;
    st->in_txn = true;
    return 0;
}

int ses_store_commit(struct ses_store *st)
{
    sqlite3_stmt *s = store_stmt(st, ST_COMMIT);
    int rc = s == NULL ? SES_EIO : store_exec(st, s);
    if (rc != 0) {
        ses_store_rollback(st);
        return rc == SES_ESTORAGE_FULL ? rc : SES_EIO;
    }
    st->in_txn = false;
    return 0;
}

bool ses_store_txn_lost(struct ses_store *st)
{
    if (!st->in_txn || !sqlite3_get_autocommit(st->db))
        return false;
    st->in_txn = false; /* SQLite rolled it back itself (a full disk, say) */
    return true;
}

void ses_store_rollback(struct ses_store *st)
{
    if (!st->in_txn || ses_store_txn_lost(st))
        return;
    sqlite3_stmt *s = store_stmt(st, ST_ROLLBACK);
    if (s != NULL)
        (void)store_exec(st, s);
    st->in_txn = false;
}

int ses_store_savepoint(struct ses_store *st)
{
    sqlite3_stmt *s = store_stmt(st, ST_SAVEPOINT);
    return s == NULL ? SES_EIO : store_exec(st, s);
}

int ses_store_savepoint_release(struct ses_store *st)
{
    sqlite3_stmt *s = store_stmt(st, ST_RELEASE);
    return s == NULL ? SES_EIO : store_exec(st, s);
}

void ses_store_savepoint_rollback(struct ses_store *st)
{
    sqlite3_stmt *s = store_stmt(st, ST_ROLLBACK_TO);
    if (s != NULL && store_exec(st, s) == 0)
        (void)ses_store_savepoint_release(st);
}

int ses_store_meta_put(struct ses_store *st, const char *key, const void *val, size_t len)
{
    sqlite3_stmt *s = store_stmt(st, ST_META_PUT);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 2, val, (int)len, SQLITE_STATIC);
    return store_exec(st, s);
}

int ses_store_meta_get(struct ses_store *st, const char *key, void *buf, size_t cap, size_t *len)
{
    sqlite3_stmt *s = store_stmt(st, ST_META_GET);
    int rc = SES_ENOT_FOUND;
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        size_t n = (size_t)sqlite3_column_bytes(s, 0);
        if (n > cap) {
            rc = SES_EIO;
        } else {
            memcpy(buf, sqlite3_column_blob(s, 0), n);
            *len = n;
            rc = 0;
        }
    } else if (step != SQLITE_DONE) {
        rc = SES_EIO;
    }
    store_done(s);
    return rc;
}

sqlite3_stmt *store_prep(struct ses_store *st, const char *text)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(st->db, text, -1, &s, NULL) != SQLITE_OK) {
        SES_LOG(SES_LOG_ERR, "store", "prepare failed: %s", sqlite3_errmsg(st->db));
        sqlite3_finalize(s);
        return NULL;
    }
    return s;
}

int store_run(struct ses_store *st, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    int changes = sqlite3_changes(st->db);
    if (rc != SQLITE_DONE)
        SES_LOG(SES_LOG_ERR, "store", "step failed: %s", sqlite3_errmsg(st->db));
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? (changes > 0 ? 0 : SES_ENOT_FOUND) : SES_EIO;
}
