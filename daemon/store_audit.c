/*
 * store_audit.c - the audit log as an RFC 6962 Merkle tree (store.h, PROTOCOL.md §8-§9).
 *
 * Each record is stored with its canonical bytes and leaf hash; audit_node holds the hash of every
 * complete subtree (level 0 = leaves), so a root or proof needs O(log n) reads and an append
 * writes on average two nodes. Everything happens inside the caller's transaction, so a rolled
 * back change takes its audit leaf and nodes with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/merkle.h"

#include "log.h"
#include "store_internal.h"

/* --- canonical record bytes ------------------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *np = realloc(b->p, cap);
        if (np == NULL) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_lit(struct sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* A JSON string (escaping only '"', '\\' and characters below U+0020), or null. */
static void sb_str(struct sbuf *b, const char *s)
{
    if (s == NULL) {
        sb_lit(b, "null");
        return;
    }
    sb_lit(b, "\"");
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            sb_put(b, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            sb_put(b, esc, 6);
        } else {
            sb_put(b, p, 1);
        }
    }
    sb_lit(b, "\"");
}

static void sb_id(struct sbuf *b, const uint8_t *id)
{
    char txt[SES_ID_TEXT_LEN + 1];
    if (id == NULL) {
        sb_lit(b, "null");
        return;
    }
    ses_id_to_text(txt, id);
    sb_str(b, txt);
}

static void sb_int(struct sbuf *b, int64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)v);
    sb_lit(b, num);
}

/* The canonical bytes of a record (PROTOCOL.md §8). Caller frees b->p. */
static int canonical(struct sbuf *b, int64_t seq, const struct ses_audit_rec *r)
{
    memset(b, 0, sizeof *b);
    sb_lit(b, "{\"v\":1,\"seq\":");
    sb_int(b, seq);
    sb_lit(b, ",\"ts\":");
    sb_int(b, r->ts_ms);
    sb_lit(b, ",\"actor\":{\"user\":");
    sb_id(b, r->actor_user);
    sb_lit(b, ",\"device\":");
    sb_id(b, r->actor_device);
    sb_lit(b, ",\"role\":");
    sb_str(b, r->actor_role);
    sb_lit(b, "},\"action\":");
    sb_str(b, r->action);
    sb_lit(b, ",\"object\":");
    sb_str(b, r->object);
    sb_lit(b, ",\"outcome\":");
    sb_str(b, r->outcome);
    sb_lit(b, ",\"peer\":");
    sb_str(b, r->peer);
    sb_lit(b, "}");
    if (b->oom) {
        free(b->p);
        b->p = NULL;
        return SES_ENOMEM;
    }
    return 0;
}

/* --- tree nodes --------------------------------------------------------------------------------
 */

static int node_get(void *ud, unsigned level, uint64_t index, uint8_t out[32])
{
    struct ses_store *st = ud;
    sqlite3_stmt *s = store_stmt(st, ST_NODE_GET);
    int rc = SES_EIO;
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_int(s, 1, (int)level);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)index);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW && sqlite3_column_bytes(s, 0) == 32) {
        memcpy(out, sqlite3_column_blob(s, 0), 32);
        rc = 0;
    } else if (step == SQLITE_DONE) {
        rc = SES_ENOT_FOUND; /* a missing node: the tree in the file is damaged */
    }
    store_done(s);
    return rc;
}

static int node_put(struct ses_store *st, unsigned level, uint64_t index, const uint8_t hash[32])
{
    sqlite3_stmt *s = store_stmt(st, ST_NODE_PUT);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_int(s, 1, (int)level);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)index);
    sqlite3_bind_blob(s, 3, hash, 32, SQLITE_STATIC);
    return store_exec(st, s);
}

int ses_store_audit_size(struct ses_store *st, uint64_t *size)
{
    sqlite3_stmt *s = store_stmt(st, ST_AUDIT_SIZE);
    int rc = SES_EIO;
    if (s == NULL)
        return SES_EIO;
    if (sqlite3_step(s) == SQLITE_ROW) {
        *size =
            sqlite3_column_type(s, 0) == SQLITE_NULL ? 0 : (uint64_t)sqlite3_column_int64(s, 0) + 1;
        rc = 0;
    }
    store_done(s);
    return rc;
}

/* Adds leaf index's hash and every complete subtree it completes. */
static int tree_add(struct ses_store *st, uint64_t index, const uint8_t leaf[32])
{
    uint8_t hash[32], left[32];
    unsigned level = 0;
    int rc = node_put(st, 0, index, leaf);
    memcpy(hash, leaf, 32);
    while (rc == 0 && (index & 1) == 1) {
        if ((rc = node_get(st, level, index - 1, left)) != 0)
            break;
        ses_merkle_node_hash(hash, left, hash);
        index >>= 1;
        level++;
        rc = node_put(st, level, index, hash);
    }
    return rc;
}

int ses_store_audit_append(struct ses_store *st, const struct ses_audit_rec *r, int64_t *seq_out)
{
    struct sbuf b;
    uint8_t leaf[32];
    uint64_t size = 0;
    int rc = ses_store_audit_size(st, &size);
    if (rc != 0)
        return rc;
    int64_t seq = (int64_t)size + 1;
    if ((rc = canonical(&b, seq, r)) != 0)
        return rc;
    ses_merkle_leaf_hash(leaf, (const uint8_t *)b.p, b.len);
    sqlite3_stmt *s = store_stmt(st, ST_AUDIT_APPEND);
    if (s == NULL) {
        free(b.p);
        return SES_EIO;
    }
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_int64(s, 2, r->ts_ms);
    if (r->actor_user)
        sqlite3_bind_blob(s, 3, r->actor_user, SES_ID_BYTES, SQLITE_STATIC);
    if (r->actor_device)
        sqlite3_bind_blob(s, 4, r->actor_device, SES_ID_BYTES, SQLITE_STATIC);
    if (r->actor_role)
        sqlite3_bind_text(s, 5, r->actor_role, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, r->action, -1, SQLITE_STATIC);
    if (r->object)
        sqlite3_bind_text(s, 7, r->object, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 8, r->outcome, -1, SQLITE_STATIC);
    if (r->peer)
        sqlite3_bind_text(s, 9, r->peer, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 10, b.p, (int)b.len, SQLITE_STATIC);
    sqlite3_bind_blob(s, 11, leaf, 32, SQLITE_STATIC);
    rc = store_exec(st, s);
    free(b.p);
    if (rc == 0)
        rc = tree_add(st, size, leaf);
    if (rc == 0 && seq_out)
        *seq_out = seq;
    return rc;
}

int store_audit_backfill(struct ses_store *st)
{
    sqlite3_stmt *s = store_stmt(st, ST_AUDIT_BACKFILL);
    int rc = 0, step, n = 0;
    if (s == NULL)
        return SES_EIO;
    /* collect first: the updates below must not run while this statement is stepping */
    struct pending {
        int64_t seq;
        struct sbuf b;
    } *rows = NULL;
    size_t cap = 0;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        if ((size_t)n == cap) {
            cap = cap ? cap * 2 : 64;
            void *np = realloc(rows, cap * sizeof *rows);
            if (np == NULL) {
                rc = SES_ENOMEM;
                break;
            }
            rows = np;
        }
        uint8_t ids[2][SES_ID_BYTES];
        const void *u = sqlite3_column_blob(s, 2), *d = sqlite3_column_blob(s, 3);
        if (u && sqlite3_column_bytes(s, 2) == SES_ID_BYTES)
            memcpy(ids[0], u, SES_ID_BYTES);
        if (d && sqlite3_column_bytes(s, 3) == SES_ID_BYTES)
            memcpy(ids[1], d, SES_ID_BYTES);
        struct ses_audit_rec r = {
            .ts_ms = sqlite3_column_int64(s, 1),
            .actor_user = u ? ids[0] : NULL,
            .actor_device = d ? ids[1] : NULL,
            .actor_role = (const char *)sqlite3_column_text(s, 4),
            .action = (const char *)sqlite3_column_text(s, 5),
            .object = (const char *)sqlite3_column_text(s, 6),
            .outcome = (const char *)sqlite3_column_text(s, 7),
            .peer = (const char *)sqlite3_column_text(s, 8),
        };
        rows[n].seq = sqlite3_column_int64(s, 0);
        if ((rc = canonical(&rows[n].b, rows[n].seq, &r)) != 0)
            break;
        n++;
    }
    store_done(s);
    if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
        rc = SES_EIO;
    for (int i = 0; i < n && rc == 0; i++) {
        uint8_t leaf[32];
        uint64_t size = 0;
        ses_merkle_leaf_hash(leaf, (const uint8_t *)rows[i].b.p, rows[i].b.len);
        sqlite3_stmt *u = store_stmt(st, ST_AUDIT_SET_LEAF);
        if (u == NULL || (rc = ses_store_audit_size(st, &size)) != 0)
            rc = SES_EIO;
        else if ((int64_t)size + 1 != rows[i].seq)
            rc = SES_ECONFLICT; /* version-1 rows must be contiguous from 1 */
        else {
            sqlite3_bind_int64(u, 1, rows[i].seq);
            sqlite3_bind_blob(u, 2, rows[i].b.p, (int)rows[i].b.len, SQLITE_STATIC);
            sqlite3_bind_blob(u, 3, leaf, 32, SQLITE_STATIC);
            if ((rc = store_exec(st, u)) == 0)
                rc = tree_add(st, size, leaf);
        }
    }
    for (int i = 0; i < n; i++)
        free(rows[i].b.p);
    free(rows);
    return rc;
}

int ses_store_audit_root(struct ses_store *st, uint64_t size, uint8_t root[32])
{
    uint64_t have = 0;
    int rc = ses_store_audit_size(st, &have);
    if (rc != 0)
        return rc;
    if (size > have)
        return SES_EBAD_FIELD;
    return ses_merkle_root(node_get, st, size, root);
}

int ses_store_audit_inclusion(struct ses_store *st, uint64_t index, uint64_t size,
                              uint8_t proof[64][32], size_t *count)
{
    uint64_t have = 0;
    int rc = ses_store_audit_size(st, &have);
    if (rc != 0)
        return rc;
    if (size > have || index >= size)
        return SES_EBAD_FIELD;
    return ses_merkle_inclusion_proof(node_get, st, index, size, proof, count);
}

int ses_store_audit_consistency(struct ses_store *st, uint64_t m, uint64_t n, uint8_t proof[64][32],
                                size_t *count)
{
    uint64_t have = 0;
    int rc = ses_store_audit_size(st, &have);
    if (rc != 0)
        return rc;
    if (n > have || m > n || m == 0)
        return SES_EBAD_FIELD;
    return ses_merkle_consistency_proof(node_get, st, m, n, proof, count);
}

/* Steps s and hands each (seq, record, leaf_hash) row to cb. */
static int each_row(sqlite3_stmt *s, ses_audit_row_cb cb, void *ud, int *rows)
{
    struct ses_audit_row row;
    int step, rc = 0;
    *rows = 0;
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&row, 0, sizeof row);
        row.seq = sqlite3_column_int64(s, 0);
        row.rec = (const char *)sqlite3_column_blob(s, 1);
        row.rec_len = row.rec ? (size_t)sqlite3_column_bytes(s, 1) : 0;
        if (sqlite3_column_bytes(s, 2) == 32)
            memcpy(row.leaf_hash, sqlite3_column_blob(s, 2), 32);
        (*rows)++;
        if ((rc = cb(ud, &row)) != 0)
            break;
    }
    store_done(s);
    if (rc == 0 && step != SQLITE_DONE)
        rc = SES_EIO;
    return rc;
}

int ses_store_audit_get(struct ses_store *st, int64_t seq, ses_audit_row_cb cb, void *ud)
{
    sqlite3_stmt *s = store_stmt(st, ST_AUDIT_GET);
    int rows = 0;
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_int64(s, 1, seq);
    int rc = each_row(s, cb, ud, &rows);
    return rc == 0 && rows == 0 ? SES_ENOT_FOUND : rc;
}

int ses_store_audit_range(struct ses_store *st, int64_t from, int64_t count, ses_audit_row_cb cb,
                          void *ud)
{
    sqlite3_stmt *s = store_stmt(st, ST_AUDIT_RANGE);
    int rows = 0;
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_int64(s, 1, from);
    sqlite3_bind_int64(s, 2, from + count);
    return each_row(s, cb, ud, &rows);
}

int ses_store_audit_query(struct ses_store *st, const struct ses_audit_query *q,
                          ses_audit_row_cb cb, void *ud)
{
    sqlite3_stmt *s = store_stmt(st, ST_AUDIT_QUERY);
    int rows = 0;
    if (s == NULL)
        return SES_EIO;
    char actor[SES_ID_TEXT_LEN + 1];
    sqlite3_bind_int64(s, 1, q->since);
    if (q->actor) {
        ses_id_to_text(actor, q->actor);
        sqlite3_bind_text(s, 2, actor, -1, SQLITE_STATIC);
    }
    if (q->action)
        sqlite3_bind_text(s, 3, q->action, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, q->from_ts);
    sqlite3_bind_int64(s, 5, q->to_ts);
    sqlite3_bind_int(s, 6, q->limit);
    return each_row(s, cb, ud, &rows);
}

int ses_store_audit_prune(struct ses_store *st, int64_t before_ms, int64_t *first, int64_t *last,
                          int64_t *n)
{
    sqlite3_stmt *s = store_stmt(st, ST_AUDIT_PRUNE);
    int step;
    if (s == NULL)
        return SES_EIO;
    *first = *last = *n = 0;
    sqlite3_bind_int64(s, 1, before_ms);
    while ((step = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t seq = sqlite3_column_int64(s, 0);
        if (*n == 0 || seq < *first)
            *first = seq;
        if (seq > *last)
            *last = seq;
        (*n)++;
    }
    store_done(s);
    return step == SQLITE_DONE ? 0 : SES_EIO;
}

int ses_store_checkpoint_put(struct ses_store *st, uint64_t size, const uint8_t root[32],
                             const char *note, int64_t created_ms)
{
    sqlite3_stmt *s = store_stmt(st, ST_CKPT_PUT);
    if (s == NULL)
        return SES_EIO;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)size);
    sqlite3_bind_blob(s, 2, root, 32, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, note, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, created_ms);
    return store_exec(st, s);
}

int ses_store_checkpoint_latest(struct ses_store *st, uint64_t *size, char *note, size_t cap)
{
    sqlite3_stmt *s = store_stmt(st, ST_CKPT_LATEST);
    int rc = SES_ENOT_FOUND;
    if (s == NULL)
        return SES_EIO;
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(s, 1);
        *size = (uint64_t)sqlite3_column_int64(s, 0);
        rc = snprintf(note, cap, "%s", t ? t : "") < (int)cap ? 0 : SES_EIO;
    } else if (step != SQLITE_DONE) {
        rc = SES_EIO;
    }
    store_done(s);
    return rc;
}

/* One integer from a one-row query; *null when it is NULL. */
static int query_int(struct ses_store *st, const char *sql, int64_t *v, bool *null)
{
    sqlite3_stmt *s = NULL;
    int rc = SES_EIO;
    if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        *null = sqlite3_column_type(s, 0) == SQLITE_NULL;
        *v = sqlite3_column_int64(s, 0);
        rc = 0;
    }
    sqlite3_finalize(s);
    return rc;
}

int ses_store_audit_selfcheck(struct ses_store *st, const char *path)
{
    uint64_t size = 0;
    int64_t v = 0;
    bool null = true;
    if (ses_store_audit_size(st, &size) != 0 ||
        query_int(st, "SELECT min(seq) FROM audit WHERE leaf_hash IS NULL", &v, &null) != 0) {
        SES_LOG(SES_LOG_ERR, "store", "%s: the audit log cannot be read: %s", path,
                sqlite3_errmsg(st->db));
        return SES_EIO;
    }
    if (!null) {
        SES_LOG(SES_LOG_ERR, "store",
                "%s: audit row %lld has no leaf hash: it was written outside sesamed (every "
                "record is hashed when it is written); refusing to start",
                path, (long long)v);
        return SES_ECONFLICT;
    }
    if (query_int(st, "SELECT max(seq) FROM audit", &v, &null) != 0)
        return SES_EIO;
    if (!null && v > (int64_t)size) {
        SES_LOG(SES_LOG_ERR, "store",
                "%s: audit row %lld is past the end of the audit tree (%llu records): it was "
                "written outside sesamed; refusing to start",
                path, (long long)v, (unsigned long long)size);
        return SES_ECONFLICT;
    }
    return 0;
}
