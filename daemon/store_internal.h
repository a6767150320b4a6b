/*
 * store_internal.h - what the store_*.c files share: the connection, the prepared-statement cache
 * and bind/step helpers. Private to the store.
 */
#ifndef SESAME_STORE_INTERNAL_H
#define SESAME_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store.h"

enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_META_PUT,
    ST_META_GET,
    ST_USER_INSERT,
    ST_USER_GET,
    ST_USER_LIST,
    ST_USER_REVOKE,
    ST_ADMIN_COUNT,
    ST_DEVICE_INSERT,
    ST_DEVICE_GET,
    ST_DEVICE_LIST,
    ST_DEVICE_LIST_USER,
    ST_DEVICE_REVOKE,
    ST_DEVICE_REVOKE_USER,
    ST_DEVICE_TOUCH,
    ST_CODE_INSERT,
    ST_CODE_GET,
    ST_CODE_ATTEMPTS,
    ST_CODE_USED,
    ST_AUDIT_APPEND,
    ST_AUDIT_SIZE,
    ST_NODE_GET,
    ST_NODE_PUT,
    ST_AUDIT_GET,
    ST_AUDIT_RANGE,
    ST_AUDIT_QUERY,
    ST_AUDIT_PRUNE,
    ST_AUDIT_BACKFILL,
    ST_AUDIT_SET_LEAF,
    ST_CKPT_PUT,
    ST_CKPT_LATEST,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    /* store_thread.c (its SQL lives there, see store_stmt_sql) */
    ST_THREAD_INSERT,
    ST_THREAD_GET,
    ST_THREAD_BUMP,
    ST_MEMBER_PUT,
    ST_MEMBER_REMOVE,
    ST_MEMBER_IS,
    ST_MEMBER_LIST,
    ST_THREADS_OF_USER,
    ST_MSG_INSERT,
    ST_MSG_BY_ID,
    ST_MSG_MAX_SENDER_SEQ,
    ST_MSG_RANGE,
    ST_THREAD_SET_LAST,
    ST_CURSOR_SET,
    ST_CURSOR_GET,
    ST_READ_SET,
    ST_READ_GET,
    ST_RECEIPTS,
    ST_USERS_BY_ROLE,
    ST_MSG_GET,
    ST_REWRAP_PUT,
    ST_REWRAP_GET,
    ST_CODE_OPEN_COUNT,
    ST_COUNT
};

struct ses_store {
    sqlite3 *db;
    int wal_pages; /* pages in the WAL after the last commit (wal hook) */
    sqlite3_stmt *stmts[ST_COUNT];
    bool in_txn;
};

/* Prepared statement for id (prepared once, reset and cleared for reuse), or NULL on error. */
sqlite3_stmt *store_stmt(struct ses_store *st, enum stmt_id id);
/* Like store_stmt, for statements whose SQL lives in the file that uses them. */
sqlite3_stmt *store_stmt_sql(struct ses_store *st, enum stmt_id id, const char *sql);
/* Steps a statement that returns no rows, then resets it. 0, SES_EEXISTS (constraint), SES_EIO. */
int store_exec(struct ses_store *st, sqlite3_stmt *s);
/* store_exec for a statement expected to change exactly one row: SES_ECONFLICT when it changed
 * none (e.g. a conditional update whose condition no longer holds). */
int store_exec_one(struct ses_store *st, sqlite3_stmt *s);
/* Resets and clears a statement after reading rows. */
void store_done(sqlite3_stmt *s);
/* Reads a user row selected as (id, role, name, site, state, created_ms, device count). */
void store_read_user(sqlite3_stmt *s, void *out);
/* Gives every audit row written before schema 2 its canonical bytes, leaf hash and tree nodes. */
int store_audit_backfill(struct ses_store *st);

#endif
