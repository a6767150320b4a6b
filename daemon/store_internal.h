/*
 * store_internal.h - what the store_*.c files share: the connection, the prepared-statement cache
 * and bind/step helpers. Private to the store.
 */
#ifndef SESAME_STORE_INTERNAL_H
#define SESAME_STORE_INTERNAL_H

#include <stdio.h>
#include <string.h>

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
/* For statements prepared per call (rare requests): prepares sql (NULL on error, logged). */
sqlite3_stmt *store_prep(struct ses_store *st, const char *text);
/* Steps a per-call statement that returns no rows and finalizes it: 0, SES_ENOT_FOUND when it
 * changed no row, SES_EIO. */
int store_run(struct ses_store *st, sqlite3_stmt *s);

/* Binding and reading ids, optional values and id lists (a list is concatenated ids). A bound id
 * is not copied: it must live until the statement has been stepped. */
static inline void bind_id(sqlite3_stmt *s, int i, const uint8_t *id)
{
    sqlite3_bind_blob(s, i, id, SES_ID_BYTES, SQLITE_STATIC);
}

static inline void bind_opt_id(sqlite3_stmt *s, int i, bool has, const uint8_t *id)
{
    if (has)
        bind_id(s, i, id);
    else
        sqlite3_bind_null(s, i);
}

static inline void bind_opt_int(sqlite3_stmt *s, int i, int64_t v)
{
    if (v != 0)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

static inline void bind_opt_text(sqlite3_stmt *s, int i, const char *t)
{
    if (t[0] != '\0')
        sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

static inline void bind_ids(sqlite3_stmt *s, int i, const uint8_t (*ids)[SES_ID_BYTES], int n)
{
    sqlite3_bind_blob(s, i, n > 0 ? (const void *)ids : "", n * SES_ID_BYTES, SQLITE_TRANSIENT);
}

static inline bool col_id(sqlite3_stmt *s, int col, uint8_t out[SES_ID_BYTES])
{
    memset(out, 0, SES_ID_BYTES);
    if (sqlite3_column_bytes(s, col) != SES_ID_BYTES)
        return false;
    memcpy(out, sqlite3_column_blob(s, col), SES_ID_BYTES);
    return true;
}

static inline int col_ids(sqlite3_stmt *s, int col, uint8_t (*out)[SES_ID_BYTES], int max)
{
    int n = sqlite3_column_bytes(s, col) / SES_ID_BYTES;
    if (n > max)
        n = max;
    if (n > 0)
        memcpy(out, sqlite3_column_blob(s, col), (size_t)n * SES_ID_BYTES);
    return n;
}

static inline void col_text(sqlite3_stmt *s, int col, char *out, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(s, col);
    snprintf(out, cap, "%s", t ? (const char *)t : "");
}

/* Reads a user row selected as (id, role, name, site, state, created_ms, device count). */
void store_read_user(sqlite3_stmt *s, void *out);
/* Gives every audit row written before schema 2 its canonical bytes, leaf hash and tree nodes. */
int store_audit_backfill(struct ses_store *st);

#endif
