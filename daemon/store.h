/*
 * store.h - Sesame's persistent state in one SQLite file (WAL, synchronous=FULL).
 *
 * The store is the only code that includes sqlite3.h; everything else calls the typed functions
 * below. Functions return 0 or a negative SES_E* code: SES_ENOT_FOUND for a missing row,
 * SES_EEXISTS for a uniqueness clash, SES_ECONFLICT when a conditional update changed nothing,
 * SES_EIO for any SQLite failure. Outputs are written only on success. A change and its audit
 * record are written between ses_store_begin() and ses_store_commit() so they land together.
 * Single-threaded: call from the thread that opened the store.
 */
#ifndef SESAME_STORE_H
#define SESAME_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sesame/limits.h"
#include "sesame/roles.h"

#define SES_DB_FILE "sesame.db"
#define SES_STORE_FULL_LOG_S 10 /* at most one "disk is full" line per this many seconds */
#define SES_STORE_BUSY_MS 5000  /* a statement waits this long for another connection's lock */
#define SES_SCHEMA_VERSION 9

struct ses_store;

/* Opens (create=false) or creates (create=true: the file must not exist) the database at path and
 * brings its schema to SES_SCHEMA_VERSION. *out is freed with ses_store_close(). */
int ses_store_open(const char *path, bool create, struct ses_store **out)
    __attribute__((warn_unused_result));
/* Runs fn(st, arg) in a transaction of its own: committed when it returns 0, else rolled back.
 * Only where no writer runs (`sesamed init`, after the loop has ended); returns fn's code or the
 * commit's. */
int ses_store_txn(struct ses_store *st, int (*fn)(struct ses_store *st, void *arg), void *arg);
/* Makes the connection refuse every change (PRAGMA query_only): the loop's connection is read-only
 * while the daemon serves, so that all writes go through the writer. Returns 0 or SES_EIO. */
int ses_store_set_read_only(struct ses_store *st, bool on) __attribute__((warn_unused_result));
/* The WAL is not checkpointed inside commits. wal_pages: frames in the WAL after the last commit
 * of this connection; wal_checkpoint: copies them back (PASSIVE), or with restart, also makes the
 * next commit write the WAL from its start (RESTART) when no reader holds an older snapshot.
 * Neither waits for a reader or a writer: what they hold is left for the next call. */
int ses_store_wal_pages(const struct ses_store *st);
int ses_store_wal_checkpoint(struct ses_store *st, bool restart);
/* Page cache of this connection, in MiB. */
void ses_store_cache_mib(struct ses_store *st, int mib);

/* The start-up check of the audit rows against the tree: every row has a leaf hash and none lies
 * past the tree's size (a row added outside sesamed would otherwise be hashed in, or make every
 * audited write collide). Logs the fault naming path; SES_ECONFLICT for a fault, SES_EIO if the
 * rows cannot be read, 0 when sound. */
int ses_store_audit_selfcheck(struct ses_store *st, const char *path)
    __attribute__((warn_unused_result));
/* The start-up self-check of the database at path (also `sesamed check`): writable (the file and
 * its directory), PRAGMA quick_check passes, then ses_store_audit_selfcheck. Logs the fault
 * naming the file; SES_ECONFLICT for a fault, SES_EIO if it cannot be read, 0 when sound. */
int ses_store_selfcheck(struct ses_store *st, const char *path) __attribute__((warn_unused_result));

/* Finalizes statements and closes the database. NULL-safe. */
void ses_store_close(struct ses_store *st);

int ses_store_begin(struct ses_store *st);
int ses_store_commit(struct ses_store *st);
/* Rolls back the open transaction, if any. */
void ses_store_rollback(struct ses_store *st);

/* True when the open transaction was rolled back by SQLite itself (on SQLITE_FULL, for one): the
 * changes made in it are gone, and the store no longer counts it as open. */
bool ses_store_txn_lost(struct ses_store *st);
/* A savepoint inside the open transaction: release keeps its changes, rollback undoes them (and
 * releases it). Used by the writer to undo one failed job of a batch. */
int ses_store_savepoint(struct ses_store *st);
int ses_store_savepoint_release(struct ses_store *st);
void ses_store_savepoint_rollback(struct ses_store *st);

/* Small named blobs (server id, ...). get: SES_ENOT_FOUND, or SES_EIO if cap is too small. */
int ses_store_meta_put(struct ses_store *st, const char *key, const void *val, size_t len);
int ses_store_meta_get(struct ses_store *st, const char *key, void *buf, size_t cap, size_t *len);

struct ses_user {
    uint8_t id[SES_ID_BYTES];
    enum ses_role role;
    char name[SES_MAX_NAME_LEN + 1];
    char site[SES_MAX_NAME_LEN + 1]; /* "" = none */
    bool revoked;
    int64_t created_ms;
    int n_devices; /* filled by get/list: devices of any state */
};

struct ses_device {
    uint8_t id[SES_ID_BYTES];
    uint8_t user_id[SES_ID_BYTES];
    char name[SES_MAX_NAME_LEN + 1]; /* "" = none */
    uint8_t sign_pk[SES_SIGN_PK_BYTES];
    uint8_t box_pk[SES_BOX_PK_BYTES];
    bool revoked;
    int64_t created_ms;
    int64_t last_login_ms; /* 0 = never */
};

struct ses_code {
    uint8_t ticket[SES_CODE_TICKET_BYTES];
    uint8_t secret_hash[32]; /* BLAKE2b-256(secret, key = server pepper) */
    uint8_t user_id[SES_ID_BYTES];
    int64_t created_ms;
    int64_t expires_ms;
    int attempts_left;
    int64_t used_ms; /* 0 = unused */
};

typedef void (*ses_user_cb)(void *ud, const struct ses_user *u);
typedef void (*ses_device_cb)(void *ud, const struct ses_device *d);

int ses_store_user_insert(struct ses_store *st, const struct ses_user *u);
int ses_store_user_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES], struct ses_user *u);
int ses_store_user_list(struct ses_store *st, ses_user_cb cb, void *ud);
/* Marks an active user revoked. SES_ENOT_FOUND, or SES_ECONFLICT if already revoked. */
int ses_store_user_revoke(struct ses_store *st, const uint8_t id[SES_ID_BYTES], int64_t now_ms);
int ses_store_count_active_admins(struct ses_store *st, int *n);

/* SES_EEXISTS if the signing key is already enrolled. */
int ses_store_device_insert(struct ses_store *st, const struct ses_device *d);
int ses_store_device_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                         struct ses_device *d);
/* Lists all devices, or those of one user when user_id is not NULL. */
int ses_store_device_list(struct ses_store *st, const uint8_t *user_id, ses_device_cb cb, void *ud);
/* Marks an active device revoked. SES_ENOT_FOUND, or SES_ECONFLICT if already revoked. */
int ses_store_device_revoke(struct ses_store *st, const uint8_t id[SES_ID_BYTES], int64_t now_ms);
/* Marks every active device of a user revoked. */
int ses_store_device_revoke_user(struct ses_store *st, const uint8_t user_id[SES_ID_BYTES],
                                 int64_t now_ms);
int ses_store_device_touch_login(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                                 int64_t now_ms);

int ses_store_code_insert(struct ses_store *st, const struct ses_code *c);
int ses_store_code_get(struct ses_store *st, const uint8_t ticket[SES_CODE_TICKET_BYTES],
                       struct ses_code *c);
int ses_store_code_set_attempts(struct ses_store *st, const uint8_t ticket[SES_CODE_TICKET_BYTES],
                                int attempts_left);
/* *n = the user's codes still usable at now_ms (unused, unexpired, not locked). */
int ses_store_code_open_count(struct ses_store *st, const uint8_t user_id[SES_ID_BYTES],
                              int64_t now_ms, int *n);
/* Marks an unused code used. SES_ECONFLICT if it was already used. */
int ses_store_code_mark_used(struct ses_store *st, const uint8_t ticket[SES_CODE_TICKET_BYTES],
                             int64_t now_ms, const uint8_t device_id[SES_ID_BYTES]);

/* One audit record (PROTOCOL.md §8). Pointers may be NULL where the field does not apply. */
struct ses_audit_rec {
    int64_t ts_ms;
    const uint8_t *actor_user;   /* 16 bytes or NULL */
    const uint8_t *actor_device; /* 16 bytes or NULL */
    const char *actor_role;      /* role name or NULL */
    const char *action;          /* e.g. "auth.login" */
    const char *object;          /* e.g. "device:<id>" or NULL */
    const char *outcome;         /* "ok" or an error code name */
    const char *peer;            /* peer address or NULL */
};
/* Appends one audit record as the next leaf of the Merkle tree: writes its canonical bytes
 * (PROTOCOL.md §8), its leaf hash and every complete subtree hash it completes. Call inside the
 * transaction of the change it records. *seq (if not NULL) gets its seq (= leaf index + 1). */
int ses_store_audit_append(struct ses_store *st, const struct ses_audit_rec *rec, int64_t *seq);

/* --- the audit log as a Merkle tree (store_audit.c) ------------------------------------------ */

/* Number of leaves (records) in the tree. */
int ses_store_audit_size(struct ses_store *st, uint64_t *size);
/* Root of the tree of the first size leaves (size <= current size). */
int ses_store_audit_root(struct ses_store *st, uint64_t size, uint8_t root[32]);
/* Inclusion proof of leaf index in the tree of size leaves; up to 64 hashes. SES_EBAD_FIELD for
 * index >= size or size beyond the tree. */
int ses_store_audit_inclusion(struct ses_store *st, uint64_t index, uint64_t size,
                              uint8_t proof[64][32], size_t *count);
/* Consistency proof between sizes m <= n. SES_EBAD_FIELD for impossible sizes. */
int ses_store_audit_consistency(struct ses_store *st, uint64_t m, uint64_t n, uint8_t proof[64][32],
                                size_t *count);

/* One stored record: rec is NULL once pruned (rec_len 0). Borrowed for the callback's duration. */
struct ses_audit_row {
    int64_t seq;
    const char *rec;
    size_t rec_len;
    uint8_t leaf_hash[32];
};
typedef int (*ses_audit_row_cb)(void *ud, const struct ses_audit_row *row);

/* Record seq. SES_ENOT_FOUND if there is none. */
int ses_store_audit_get(struct ses_store *st, int64_t seq, ses_audit_row_cb cb, void *ud);
/* Records from..from+count-1 that exist, in seq order. */
int ses_store_audit_range(struct ses_store *st, int64_t from, int64_t count, ses_audit_row_cb cb,
                          void *ud);

struct ses_audit_query {
    int64_t since;          /* seq > since */
    const uint8_t *actor;   /* 16-byte user id, or NULL */
    const char *action;     /* or NULL */
    int64_t from_ts, to_ts; /* ts_ms range, inclusive; 0 = open */
    int limit;              /* 1..1000 */
};
int ses_store_audit_query(struct ses_store *st, const struct ses_audit_query *q,
                          ses_audit_row_cb cb, void *ud);

/* Drops the bytes of records with ts_ms < before_ms (their leaf hashes stay). first and last get
 * the seq range touched and n the count (0 when nothing was pruned). */
int ses_store_audit_prune(struct ses_store *st, int64_t before_ms, int64_t *first, int64_t *last,
                          int64_t *n);

/* --- caseload threads and messages (store_thread.c) ------------------------------------------- */

#define SES_MAX_PATIENT_REF 32 /* bytes of a pseudonymous patient reference */

struct ses_thread {
    uint8_t id[SES_ID_BYTES];
    char patient[SES_MAX_PATIENT_REF + 1];
    uint8_t created_by[SES_ID_BYTES];
    int64_t created_ms;
    uint32_t roster_version; /* +1 on every membership change */
    int64_t last_seq;        /* seq of the newest message, 0 = none */
    int64_t last_ms;         /* when it was stored */
};

int ses_store_thread_insert(struct ses_store *st, const struct ses_thread *t);
int ses_store_thread_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                         struct ses_thread *t);
/* roster_version += 1. */
int ses_store_thread_bump_roster(struct ses_store *st, const uint8_t id[SES_ID_BYTES]);

/* Makes user a current member (again). */
int ses_store_member_put(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                         const uint8_t user[SES_ID_BYTES], int64_t now_ms);
/* Ends a current membership. SES_ECONFLICT if user is not a current member. */
int ses_store_member_remove(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                            const uint8_t user[SES_ID_BYTES], int64_t now_ms);
/* *is = whether user is a current member (false for an unknown thread). */
int ses_store_member_is(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                        const uint8_t user[SES_ID_BYTES], bool *is);
/* Current members, in user id order (the user rows are passed). */
int ses_store_member_list(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], ses_user_cb cb,
                          void *ud);

/* One line of a user's caseload. */
struct ses_thread_line {
    struct ses_thread t;
    int64_t read_seq; /* the user's read cursor */
    int64_t unread;   /* messages after read_seq from other users */
};
typedef void (*ses_thread_line_cb)(void *ud, const struct ses_thread_line *l);
/* Threads the user is a current member of, most recent activity first. */
int ses_store_threads_of_user(struct ses_store *st, const uint8_t user[SES_ID_BYTES],
                              ses_thread_line_cb cb, void *ud);

struct ses_message {
    uint8_t thread[SES_ID_BYTES];
    int64_t seq; /* per-thread, assigned by ses_store_msg_insert */
    uint8_t msg_id[16];
    uint8_t sender_user[SES_ID_BYTES];
    uint8_t sender_device[SES_ID_BYTES];
    uint64_t sender_seq;
    int64_t created_ms; /* the sender's clock (from the envelope) */
    int64_t stored_ms;  /* ours */
    const uint8_t *env; /* borrowed */
    size_t env_len;
};
typedef int (*ses_message_cb)(void *ud, const struct ses_message *m);

/* Stores m as the thread's next message (sets m->seq, updates the thread's last_seq/last_ms).
 * SES_EEXISTS if msg_id or (thread, sender device, sender_seq) is already stored. */
int ses_store_msg_insert(struct ses_store *st, struct ses_message *m);
/* The stored message with msg_id. SES_ENOT_FOUND. */
int ses_store_msg_by_id(struct ses_store *st, const uint8_t msg_id[16], ses_message_cb cb,
                        void *ud);
/* Highest sender_seq stored for (thread, device), 0 if none. */
int ses_store_msg_max_sender_seq(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                 const uint8_t device[SES_ID_BYTES], uint64_t *max);
/* Messages with seq > after, in order, at most limit. */
int ses_store_msg_range(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], int64_t after,
                        int limit, ses_message_cb cb, void *ud);
/* The message (thread, seq). SES_ENOT_FOUND. */
int ses_store_msg_get(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], int64_t seq,
                      ses_message_cb cb, void *ud);

/* A history re-wrap (PROTOCOL.md §12): the K of message (thread, seq) sealed to device by
 * by_device, with by_device's signature over the statement. */
struct ses_rewrap {
    uint8_t thread[SES_ID_BYTES];
    int64_t seq;
    uint8_t device[SES_ID_BYTES]; /* the target */
    uint8_t sealed[80];
    uint8_t by_device[SES_ID_BYTES];
    uint8_t sig[64];
    int64_t created_ms;
};
/* Stores r unless (thread, seq, device) is already there (the first one is kept); *stored tells
 * which. */
int ses_store_rewrap_put(struct ses_store *st, const struct ses_rewrap *r, bool *stored);
/* The re-wrap of (thread, seq) for device. SES_ENOT_FOUND. */
int ses_store_rewrap_get(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], int64_t seq,
                         const uint8_t device[SES_ID_BYTES], struct ses_rewrap *r);

/* Delivery cursor of a device in a thread (only moves forward); get gives 0 when none. */
int ses_store_cursor_set(struct ses_store *st, const uint8_t device[SES_ID_BYTES],
                         const uint8_t thread[SES_ID_BYTES], int64_t seq);
int ses_store_cursor_get(struct ses_store *st, const uint8_t device[SES_ID_BYTES],
                         const uint8_t thread[SES_ID_BYTES], int64_t *seq);
/* Read cursor of a user in a thread (only moves forward); get gives 0 when none. */
int ses_store_read_get(struct ses_store *st, const uint8_t user[SES_ID_BYTES],
                       const uint8_t thread[SES_ID_BYTES], int64_t *seq);
int ses_store_read_set(struct ses_store *st, const uint8_t user[SES_ID_BYTES],
                       const uint8_t thread[SES_ID_BYTES], int64_t seq);

/* Per current member: the highest delivery cursor over the user's devices, and the read cursor. */
typedef void (*ses_receipt_cb)(void *ud, const uint8_t user[SES_ID_BYTES], int64_t delivered,
                               int64_t read);
int ses_store_receipts(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], ses_receipt_cb cb,
                       void *ud);

/* Active users, optionally of one role (SES_ROLE_NONE = all), by name. */
int ses_store_users_active(struct ses_store *st, enum ses_role role, ses_user_cb cb, void *ud);

/* Signed checkpoints. latest: SES_ENOT_FOUND when none; note is NUL-terminated (cap bytes). */
int ses_store_checkpoint_put(struct ses_store *st, uint64_t size, const uint8_t root[32],
                             const char *note, int64_t created_ms);
int ses_store_checkpoint_latest(struct ses_store *st, uint64_t *size, char *note, size_t cap);

#endif
