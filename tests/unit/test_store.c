/*
 * test_store.c - the SQLite store on a temporary file: schema creation and reopening, users,
 * devices, enrolment codes, audit records, transactions, and the error codes of each function.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "sesame/err.h"
#include "sesame/merkle.h"

#include "store.h"
#include "store_alert.h"
#include "store_internal.h" /* the connection, for its page limit */

struct fixture {
    char dir[64];
    char path[128];
    struct ses_store *st;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/sesame-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/sesame.db", f->dir);
    if (ses_store_open(f->path, true, &f->st) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char p[160];
    ses_store_close(f->st);
    unlink(f->path);
    snprintf(p, sizeof p, "%s-wal", f->path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct ses_user mk_user(uint8_t tag, enum ses_role role)
{
    struct ses_user u;
    memset(&u, 0, sizeof u);
    memset(u.id, tag, sizeof u.id);
    u.role = role;
    snprintf(u.name, sizeof u.name, "User %u", tag);
    u.created_ms = 1000 + tag;
    return u;
}

static struct ses_device mk_device(uint8_t tag, const uint8_t user[16])
{
    struct ses_device d;
    memset(&d, 0, sizeof d);
    memset(d.id, tag, sizeof d.id);
    memcpy(d.user_id, user, 16);
    memset(d.sign_pk, tag, sizeof d.sign_pk);
    memset(d.box_pk, tag + 1, sizeof d.box_pk);
    d.created_ms = 2000 + tag;
    return d;
}

static void create_refuses_existing_and_reopens(void **state)
{
    struct fixture *f = *state;
    struct ses_store *other = NULL;
    assert_int_equal(ses_store_open(f->path, true, &other), SES_EEXISTS);
    assert_null(other);
    struct ses_user u = mk_user(1, SES_ROLE_ADMIN);
    assert_int_equal(ses_store_user_insert(f->st, &u), 0);
    ses_store_close(f->st);
    f->st = NULL;
    assert_int_equal(ses_store_open(f->path, false, &f->st), 0);
    struct ses_user got;
    assert_int_equal(ses_store_user_get(f->st, u.id, &got), 0);
    assert_string_equal(got.name, "User 1");
}

static void users(void **state)
{
    struct fixture *f = *state;
    struct ses_user a = mk_user(1, SES_ROLE_ADMIN), n = mk_user(2, SES_ROLE_NURSE), got;
    snprintf(n.site, sizeof n.site, "Lyon");
    assert_int_equal(ses_store_user_insert(f->st, &a), 0);
    assert_int_equal(ses_store_user_insert(f->st, &n), 0);
    assert_int_equal(ses_store_user_insert(f->st, &n), SES_EEXISTS);
    assert_int_equal(ses_store_user_get(f->st, n.id, &got), 0);
    assert_int_equal(got.role, SES_ROLE_NURSE);
    assert_string_equal(got.site, "Lyon");
    assert_false(got.revoked);
    assert_int_equal(got.created_ms, 1002);
    uint8_t none[16] = {9};
    assert_int_equal(ses_store_user_get(f->st, none, &got), SES_ENOT_FOUND);
    int admins = -1;
    assert_int_equal(ses_store_count_active_admins(f->st, &admins), 0);
    assert_int_equal(admins, 1);
    assert_int_equal(ses_store_user_revoke(f->st, n.id, 5000), 0);
    assert_int_equal(ses_store_user_revoke(f->st, n.id, 5001), SES_ECONFLICT);
    assert_int_equal(ses_store_user_revoke(f->st, none, 5001), SES_ENOT_FOUND);
    assert_int_equal(ses_store_user_get(f->st, n.id, &got), 0);
    assert_true(got.revoked);
}

static void count_cb(void *ud, const struct ses_device *d)
{
    (void)d;
    (*(int *)ud)++;
}

static void devices(void **state)
{
    struct fixture *f = *state;
    struct ses_user u = mk_user(1, SES_ROLE_GP), v = mk_user(2, SES_ROLE_NURSE);
    assert_int_equal(ses_store_user_insert(f->st, &u), 0);
    assert_int_equal(ses_store_user_insert(f->st, &v), 0);
    struct ses_device d1 = mk_device(10, u.id), d2 = mk_device(20, u.id), d3 = mk_device(30, v.id);
    assert_int_equal(ses_store_device_insert(f->st, &d1), 0);
    assert_int_equal(ses_store_device_insert(f->st, &d2), 0);
    assert_int_equal(ses_store_device_insert(f->st, &d3), 0);
    struct ses_device dup = mk_device(40, u.id);
    memcpy(dup.sign_pk, d1.sign_pk, 32); /* same signing key: refused */
    assert_int_equal(ses_store_device_insert(f->st, &dup), SES_EEXISTS);
    int n = 0;
    assert_int_equal(ses_store_device_list(f->st, NULL, count_cb, &n), 0);
    assert_int_equal(n, 3);
    n = 0;
    assert_int_equal(ses_store_device_list(f->st, u.id, count_cb, &n), 0);
    assert_int_equal(n, 2);
    struct ses_user got_u;
    assert_int_equal(ses_store_user_get(f->st, u.id, &got_u), 0);
    assert_int_equal(got_u.n_devices, 2);
    assert_int_equal(ses_store_device_touch_login(f->st, d1.id, 7777), 0);
    struct ses_device got;
    assert_int_equal(ses_store_device_get(f->st, d1.id, &got), 0);
    assert_int_equal(got.last_login_ms, 7777);
    assert_memory_equal(got.sign_pk, d1.sign_pk, 32);
    assert_memory_equal(got.box_pk, d1.box_pk, 32);
    assert_int_equal(ses_store_device_revoke(f->st, d1.id, 8000), 0);
    assert_int_equal(ses_store_device_revoke(f->st, d1.id, 8000), SES_ECONFLICT);
    assert_int_equal(ses_store_device_revoke_user(f->st, u.id, 8001), 0);
    assert_int_equal(ses_store_device_get(f->st, d2.id, &got), 0);
    assert_true(got.revoked);
    assert_int_equal(ses_store_device_get(f->st, d3.id, &got), 0);
    assert_false(got.revoked);
    uint8_t none[16] = {1, 2, 3};
    assert_int_equal(ses_store_device_get(f->st, none, &got), SES_ENOT_FOUND);
    assert_int_equal(ses_store_device_revoke(f->st, none, 1), SES_ENOT_FOUND);
}

static void codes(void **state)
{
    struct fixture *f = *state;
    struct ses_user u = mk_user(1, SES_ROLE_NURSE);
    assert_int_equal(ses_store_user_insert(f->st, &u), 0);
    struct ses_code c, got;
    memset(&c, 0, sizeof c);
    memcpy(c.ticket, "\x01\x02\x03\x04\x05", 5);
    memset(c.secret_hash, 0xab, 32);
    memcpy(c.user_id, u.id, 16);
    c.created_ms = 10;
    c.expires_ms = 20;
    c.attempts_left = 5;
    assert_int_equal(ses_store_code_insert(f->st, &c), 0);
    assert_int_equal(ses_store_code_insert(f->st, &c), SES_EEXISTS);
    assert_int_equal(ses_store_code_get(f->st, c.ticket, &got), 0);
    assert_memory_equal(got.secret_hash, c.secret_hash, 32);
    assert_int_equal(got.attempts_left, 5);
    assert_int_equal(got.used_ms, 0);
    assert_int_equal(ses_store_code_set_attempts(f->st, c.ticket, 4), 0);
    uint8_t dev[16] = {7};
    assert_int_equal(ses_store_code_mark_used(f->st, c.ticket, 15, dev), 0);
    assert_int_equal(ses_store_code_mark_used(f->st, c.ticket, 16, dev), SES_ECONFLICT);
    assert_int_equal(ses_store_code_get(f->st, c.ticket, &got), 0);
    assert_int_equal(got.attempts_left, 4);
    assert_int_equal(got.used_ms, 15);
    uint8_t other[5] = {9, 9, 9, 9, 9};
    assert_int_equal(ses_store_code_get(f->st, other, &got), SES_ENOT_FOUND);
}

static void audit_and_transactions(void **state)
{
    struct fixture *f = *state;
    struct ses_audit_rec r = {.ts_ms = 1, .action = "init", .outcome = "ok"};
    int64_t seq = 0;
    assert_int_equal(ses_store_audit_append(f->st, &r, &seq), 0);
    assert_int_equal(seq, 1);
    /* a rolled-back transaction leaves nothing behind */
    struct ses_user u = mk_user(3, SES_ROLE_AUDITOR), got;
    assert_int_equal(ses_store_begin(f->st), 0);
    assert_int_equal(ses_store_user_insert(f->st, &u), 0);
    assert_int_equal(ses_store_audit_append(f->st, &r, &seq), 0);
    assert_int_equal(seq, 2);
    ses_store_rollback(f->st);
    assert_int_equal(ses_store_user_get(f->st, u.id, &got), SES_ENOT_FOUND);
    assert_int_equal(ses_store_audit_append(f->st, &r, &seq), 0);
    assert_int_equal(seq, 2);
    /* a committed one keeps both */
    assert_int_equal(ses_store_begin(f->st), 0);
    assert_int_equal(ses_store_user_insert(f->st, &u), 0);
    assert_int_equal(ses_store_commit(f->st), 0);
    assert_int_equal(ses_store_user_get(f->st, u.id, &got), 0);
    uint8_t buf[16];
    size_t n = 0;
    assert_int_equal(ses_store_meta_get(f->st, "server_id", buf, sizeof buf, &n), SES_ENOT_FOUND);
    assert_int_equal(ses_store_meta_put(f->st, "server_id", "0123456789abcdef", 16), 0);
    assert_int_equal(ses_store_meta_get(f->st, "server_id", buf, sizeof buf, &n), 0);
    assert_int_equal(n, 16);
    assert_int_equal(ses_store_meta_get(f->st, "server_id", buf, 8, &n), SES_EIO);
}

/* --- the audit log as a Merkle tree ------------------------------------------------------------
 */

struct rows {
    int64_t seq[300];
    char *rec[300];
    uint8_t hash[300][32];
    int n;
};

static int take_row(void *ud, const struct ses_audit_row *row)
{
    struct rows *r = ud;
    r->seq[r->n] = row->seq;
    r->rec[r->n] = row->rec ? strndup(row->rec, row->rec_len) : NULL;
    memcpy(r->hash[r->n], row->leaf_hash, 32);
    r->n++;
    return 0;
}

static void free_rows(struct rows *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->rec[i]);
    r->n = 0;
}

static void append_n(struct ses_store *st, int n, int64_t ts0)
{
    uint8_t user[16] = {1, 2, 3}, dev[16] = {4, 5, 6};
    for (int i = 0; i < n; i++) {
        char obj[32];
        snprintf(obj, sizeof obj, "device:%d", i);
        struct ses_audit_rec r = {.ts_ms = ts0 + i,
                                  .actor_user = i % 2 ? user : NULL,
                                  .actor_device = i % 2 ? dev : NULL,
                                  .actor_role = i % 2 ? "admin" : NULL,
                                  .action = "auth.login",
                                  .object = obj,
                                  .outcome = i % 3 ? "ok" : "AUTH_FAILED",
                                  .peer = "127.0.0.1"};
        int64_t seq = 0;
        assert_int_equal(ses_store_audit_append(st, &r, &seq), 0);
    }
}

static void audit_canonical_bytes(void **state)
{
    struct fixture *f = *state;
    uint8_t user[16], dev[16];
    for (int i = 0; i < 16; i++) {
        user[i] = (uint8_t)i;
        dev[i] = (uint8_t)(0xf0 + i);
    }
    struct ses_audit_rec r = {.ts_ms = 1767225600123,
                              .actor_user = user,
                              .actor_device = dev,
                              .actor_role = "nurse",
                              .action = "auth.login",
                              .object = "a\"b\\c\n",
                              .outcome = "ok",
                              .peer = "127.0.0.1"};
    /* expected ids below were checked against an independent base32 encoder */
    struct ses_audit_rec anon = {.ts_ms = 5, .action = "init", .outcome = "ok"};
    int64_t seq = 0;
    assert_int_equal(ses_store_audit_append(f->st, &anon, &seq), 0);
    assert_int_equal(seq, 1);
    assert_int_equal(ses_store_audit_append(f->st, &r, &seq), 0);
    assert_int_equal(seq, 2);
    struct rows rows = {.n = 0};
    assert_int_equal(ses_store_audit_range(f->st, 1, 10, take_row, &rows), 0);
    assert_int_equal(rows.n, 2);
    assert_string_equal(rows.rec[0], "{\"v\":1,\"seq\":1,\"ts\":5,\"actor\":{\"user\":null,"
                                     "\"device\":null,\"role\":null},\"action\":\"init\","
                                     "\"object\":null,\"outcome\":\"ok\",\"peer\":null}");
    assert_string_equal(rows.rec[1],
                        "{\"v\":1,\"seq\":2,\"ts\":1767225600123,\"actor\":{\"user\":"
                        "\"aaaqeayeaudaocajbifqydiob4\",\"device\":\"6dy7f47u6x3pp6hz7l57z7p674\","
                        "\"role\":\"nurse\"},\"action\":\"auth.login\",\"object\":\"a\\\"b\\\\c"
                        "\\u000a\",\"outcome\":\"ok\",\"peer\":\"127.0.0.1\"}");
    /* the stored leaf hash is SHA-256(0x00 || bytes) of exactly those bytes */
    for (int i = 0; i < 2; i++) {
        uint8_t want[32];
        ses_merkle_leaf_hash(want, (const uint8_t *)rows.rec[i], strlen(rows.rec[i]));
        assert_memory_equal(rows.hash[i], want, 32);
    }
    free_rows(&rows);
}

static void audit_tree_roots_and_proofs(void **state)
{
    struct fixture *f = *state;
    enum { N = 100 };
    append_n(f->st, N, 1000);
    uint64_t size = 0;
    assert_int_equal(ses_store_audit_size(f->st, &size), 0);
    assert_int_equal(size, N);
    struct rows rows = {.n = 0};
    assert_int_equal(ses_store_audit_range(f->st, 1, N, take_row, &rows), 0);
    assert_int_equal(rows.n, N);
    /* reference roots for every size, from the leaf hashes with an in-memory frontier */
    static uint8_t roots[N + 1][32];
    struct ses_merkle_frontier fr;
    ses_merkle_frontier_init(&fr);
    for (int k = 0; k < N; k++) {
        assert_int_equal(rows.seq[k], k + 1);
        assert_int_equal(ses_merkle_append(&fr, rows.hash[k], NULL, NULL), 0);
        ses_merkle_frontier_root(&fr, roots[k + 1]);
        uint8_t got[32];
        assert_int_equal(ses_store_audit_root(f->st, (uint64_t)k + 1, got), 0);
        assert_memory_equal(got, roots[k + 1], 32);
    }
    uint8_t proof[64][32], got[32];
    size_t count = 0;
    for (uint64_t n = 1; n <= N; n += 7)
        for (uint64_t i = 0; i < n; i++) {
            assert_int_equal(ses_store_audit_inclusion(f->st, i, n, proof, &count), 0);
            assert_int_equal(ses_merkle_verify_inclusion(
                                 rows.hash[i], i, n, (const uint8_t(*)[32])proof, count, roots[n]),
                             0);
        }
    for (uint64_t m = 1; m <= N; m += 5)
        for (uint64_t n = m; n <= N; n += 3) {
            assert_int_equal(ses_store_audit_consistency(f->st, m, n, proof, &count), 0);
            assert_int_equal(ses_merkle_verify_consistency(m, n, roots[m], roots[n],
                                                           (const uint8_t(*)[32])proof, count),
                             0);
        }
    /* impossible sizes are refused */
    assert_int_equal(ses_store_audit_root(f->st, N + 1, got), SES_EBAD_FIELD);
    assert_int_equal(ses_store_audit_inclusion(f->st, N, N, proof, &count), SES_EBAD_FIELD);
    assert_int_equal(ses_store_audit_inclusion(f->st, 0, N + 1, proof, &count), SES_EBAD_FIELD);
    assert_int_equal(ses_store_audit_consistency(f->st, 0, N, proof, &count), SES_EBAD_FIELD);
    assert_int_equal(ses_store_audit_consistency(f->st, 5, 4, proof, &count), SES_EBAD_FIELD);
    free_rows(&rows);
}

static void audit_rollback_takes_the_leaf(void **state)
{
    struct fixture *f = *state;
    append_n(f->st, 3, 0);
    uint8_t before[32], after[32];
    assert_int_equal(ses_store_audit_root(f->st, 3, before), 0);
    assert_int_equal(ses_store_begin(f->st), 0);
    append_n(f->st, 5, 100);
    ses_store_rollback(f->st);
    uint64_t size = 0;
    assert_int_equal(ses_store_audit_size(f->st, &size), 0);
    assert_int_equal(size, 3);
    append_n(f->st, 1, 200);
    assert_int_equal(ses_store_audit_size(f->st, &size), 0);
    assert_int_equal(size, 4);
    assert_int_equal(ses_store_audit_root(f->st, 3, after), 0);
    assert_memory_equal(before, after, 32);
}

static void audit_prune_keeps_hashes(void **state)
{
    struct fixture *f = *state;
    append_n(f->st, 20, 1000); /* ts 1000..1019 */
    uint8_t before[32], after[32];
    assert_int_equal(ses_store_audit_root(f->st, 20, before), 0);
    int64_t first = -1, last = -1, n = -1;
    assert_int_equal(ses_store_audit_prune(f->st, 1010, &first, &last, &n), 0);
    assert_int_equal(first, 1);
    assert_int_equal(last, 10);
    assert_int_equal(n, 10);
    assert_int_equal(ses_store_audit_prune(f->st, 1010, &first, &last, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ses_store_audit_root(f->st, 20, after), 0);
    assert_memory_equal(before, after, 32);
    struct rows rows = {.n = 0};
    assert_int_equal(ses_store_audit_range(f->st, 9, 4, take_row, &rows), 0);
    assert_int_equal(rows.n, 4);
    assert_null(rows.rec[0]);
    assert_null(rows.rec[1]);
    assert_non_null(rows.rec[2]);
    uint8_t zero[32] = {0};
    assert_memory_not_equal(rows.hash[0], zero, 32);
    free_rows(&rows);
    /* tail filters */
    struct ses_audit_query q = {.since = 15, .action = "auth.login", .limit = 3};
    assert_int_equal(ses_store_audit_query(f->st, &q, take_row, &rows), 0);
    assert_int_equal(rows.n, 3);
    assert_int_equal(rows.seq[0], 16);
    assert_int_equal(rows.seq[2], 18);
    free_rows(&rows);
    struct ses_audit_query none = {.action = "device.revoke", .limit = 10};
    assert_int_equal(ses_store_audit_query(f->st, &none, take_row, &rows), 0);
    assert_int_equal(rows.n, 0);
    assert_int_equal(ses_store_audit_get(f->st, 21, take_row, &rows), SES_ENOT_FOUND);
}

static void schema1_rows_are_backfilled(void **state)
{
    struct fixture *f = *state;
    ses_store_close(f->st);
    f->st = NULL;
    unlink(f->path);
    /* a database as schema version 1 left it: audit rows without bytes or tree */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);"
                                  "CREATE TABLE users(id BLOB PRIMARY KEY, role TEXT NOT NULL, "
                                  "name TEXT NOT NULL, site TEXT, state TEXT NOT NULL, created_ms "
                                  "INTEGER NOT NULL, revoked_ms INTEGER);"
                                  "CREATE TABLE devices(id BLOB PRIMARY KEY, user_id BLOB, name "
                                  "TEXT, sign_pk BLOB UNIQUE, box_pk BLOB, state TEXT, created_ms "
                                  "INTEGER, last_login_ms INTEGER, revoked_ms INTEGER);"
                                  "CREATE TABLE enrol_codes(ticket BLOB PRIMARY KEY, secret_hash "
                                  "BLOB, user_id BLOB, created_ms INTEGER, expires_ms INTEGER, "
                                  "attempts_left INTEGER, used_ms INTEGER, used_by_device BLOB);"
                                  "CREATE TABLE audit(seq INTEGER PRIMARY KEY, ts_ms INTEGER NOT "
                                  "NULL, actor_user BLOB, actor_device BLOB, actor_role TEXT, "
                                  "action TEXT NOT NULL, object TEXT, outcome TEXT NOT NULL, peer "
                                  "TEXT);"
                                  "INSERT INTO audit(ts_ms, action, outcome) VALUES(5, 'init', "
                                  "'ok');"
                                  "INSERT INTO audit(ts_ms, action, object, outcome, peer) "
                                  "VALUES(6, 'auth.login', 'device:x', 'AUTH_FAILED', '::1');"
                                  "PRAGMA user_version = 1;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(ses_store_open(f->path, false, &f->st), 0);
    uint64_t size = 0;
    assert_int_equal(ses_store_audit_size(f->st, &size), 0);
    assert_int_equal(size, 2);
    struct rows rows = {.n = 0};
    assert_int_equal(ses_store_audit_range(f->st, 1, 2, take_row, &rows), 0);
    assert_string_equal(rows.rec[0], "{\"v\":1,\"seq\":1,\"ts\":5,\"actor\":{\"user\":null,"
                                     "\"device\":null,\"role\":null},\"action\":\"init\","
                                     "\"object\":null,\"outcome\":\"ok\",\"peer\":null}");
    uint8_t l0[32], l1[32], want[32], got[32];
    ses_merkle_leaf_hash(l0, (const uint8_t *)rows.rec[0], strlen(rows.rec[0]));
    ses_merkle_leaf_hash(l1, (const uint8_t *)rows.rec[1], strlen(rows.rec[1]));
    ses_merkle_node_hash(want, l0, l1);
    assert_int_equal(ses_store_audit_root(f->st, 2, got), 0);
    assert_memory_equal(got, want, 32);
    free_rows(&rows);
    append_n(f->st, 1, 7); /* appending continues at seq 3 */
    assert_int_equal(ses_store_audit_size(f->st, &size), 0);
    assert_int_equal(size, 3);
}

/* --- schema 5 -> 6: envelopes move to a rowid table, members get added_seq -------------------- */

struct msgs {
    int n;
    int64_t seq[8];
    uint8_t env[8][64];
    size_t len[8];
};

static int take_msg(void *ud, const struct ses_message *m)
{
    struct msgs *a = ud;
    assert_true(a->n < 8 && m->env_len <= sizeof a->env[0]);
    a->seq[a->n] = m->seq;
    memcpy(a->env[a->n], m->env, m->env_len);
    a->len[a->n++] = m->env_len;
    return 0;
}

static void put_msg(struct ses_store *st, const uint8_t thread[16], const struct ses_user *u,
                    uint8_t tag, int64_t stored_ms, int64_t want_seq)
{
    uint8_t env[48];
    memset(env, tag, sizeof env);
    struct ses_message m = {.sender_seq = tag,
                            .created_ms = stored_ms,
                            .stored_ms = stored_ms,
                            .env = env,
                            .env_len = sizeof env};
    memcpy(m.thread, thread, 16);
    memset(m.msg_id, tag, 16);
    memcpy(m.sender_user, u->id, 16);
    memcpy(m.sender_device, u->id, 16); /* a device id per user is enough here */
    assert_int_equal(ses_store_msg_insert(st, &m), 0);
    assert_int_equal(m.seq, want_seq);
}

static void take_line(void *ud, const struct ses_thread_line *l)
{
    *(int64_t *)ud = l->unread;
}

static int64_t unread(struct ses_store *st, const struct ses_user *u)
{
    int64_t n = -1;
    assert_int_equal(ses_store_threads_of_user(st, u->id, take_line, &n), 0);
    return n;
}

/* The loop's connection is read-only while the daemon serves: every change is refused, with
 * nothing written, and reads go on. */
static void read_only_connection(void **state)
{
    struct fixture *f = *state;
    struct ses_user a = mk_user(1, SES_ROLE_NURSE), b = mk_user(2, SES_ROLE_GP), got;
    assert_int_equal(ses_store_user_insert(f->st, &a), 0);
    assert_int_equal(ses_store_set_read_only(f->st, true), 0);
    assert_int_equal(ses_store_begin(f->st), SES_EIO); /* BEGIN IMMEDIATE is a write */
    assert_int_not_equal(ses_store_user_insert(f->st, &b), 0);
    struct ses_audit_rec rec = {.ts_ms = 1, .action = "x", .outcome = "ok"};
    assert_int_not_equal(ses_store_audit_append(f->st, &rec, NULL), 0);
    assert_int_equal(ses_store_user_get(f->st, a.id, &got), 0);
    assert_int_equal(ses_store_user_get(f->st, b.id, &got), SES_ENOT_FOUND);
    uint64_t size = 1;
    assert_int_equal(ses_store_audit_size(f->st, &size), 0);
    assert_int_equal(size, 0);
    assert_int_equal(ses_store_set_read_only(f->st, false), 0);
    assert_int_equal(ses_store_user_insert(f->st, &b), 0);
}

/* What schemas 7, 8 and 9 added, taken away again (to test the migrations from earlier
 * versions). */
#define SCHEMA9_UNDO "DROP TABLE recs; DROP TABLE rec_events;"
#define SCHEMA8_UNDO                                                                               \
    SCHEMA9_UNDO                                                                                   \
    "ALTER TABLE threads DROP COLUMN closed_ms;"                                                   \
    "ALTER TABLE threads DROP COLUMN closed_reason;"                                               \
    "ALTER TABLE threads DROP COLUMN next_review_ms;"                                              \
    "ALTER TABLE threads DROP COLUMN first_review_ms;"                                             \
    "ALTER TABLE threads DROP COLUMN review_deferrals;"                                            \
    "DROP TABLE review_series; DROP TABLE review_sessions; DROP TABLE review_requests;"            \
    "DROP TABLE review_agenda; DROP TABLE review_minutes;"
#define SCHEMA7_UNDO                                                                               \
    SCHEMA8_UNDO                                                                                   \
    "ALTER TABLE alerts DROP COLUMN renotified;"                                                   \
    "ALTER TABLE contacts DROP COLUMN type;"                                                       \
    "ALTER TABLE threads DROP COLUMN last_phq9_ms;"                                                \
    "DROP TABLE oncall; DROP TABLE backups;"

/* 6 -> 7: the new columns get their defaults, the chain-role tables start empty. */
static void schema6_to_7(void **state)
{
    struct fixture *f = *state;
    ses_store_close(f->st);
    f->st = NULL;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, SCHEMA7_UNDO "PRAGMA user_version = 6;", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(ses_store_open(f->path, false, &f->st), 0);
    struct ses_oncall *o = calloc(1, sizeof *o);
    assert_non_null(o);
    assert_int_equal(ses_store_oncall_get(f->st, o), 0);
    assert_false(o->on_duty_set || o->lead_set);
    assert_int_equal(o->n_backups, 0);
    const uint8_t u[16] = {7}, b[16] = {8};
    assert_int_equal(ses_store_begin(f->st), 0);
    assert_int_equal(ses_store_oncall_put(f->st, "program_lead", u, u, 1), 0);
    assert_int_equal(ses_store_oncall_put(f->st, "on_duty_psychiatrist", NULL, u, 1), 0);
    assert_int_equal(ses_store_backup_put(f->st, u, b, u, 1), 0);
    assert_int_equal(ses_store_backup_put(f->st, b, NULL, u, 2), 0);
    assert_int_equal(ses_store_commit(f->st), 0);
    assert_int_equal(ses_store_oncall_get(f->st, o), 0);
    assert_true(o->lead_set && o->on_duty_set);
    assert_memory_equal(o->lead, u, 16);
    assert_int_equal(o->n_backups, 2);
    assert_false(o->backups[0].cleared);
    assert_memory_equal(o->backups[0].backup, b, 16);
    assert_true(o->backups[1].cleared);
    int64_t n = -1;
    assert_int_equal(ses_store_backup_count(f->st, u, &n), 0);
    assert_int_equal(n, 1);
    free(o);
}

static void schema5_messages_move(void **state)
{
    struct fixture *f = *state;
    struct ses_user a = mk_user(1, SES_ROLE_NURSE), b = mk_user(2, SES_ROLE_GP),
                    c = mk_user(3, SES_ROLE_PSYCHIATRIST);
    struct ses_thread t = {.created_ms = 5, .roster_version = 1};
    memset(t.id, 9, sizeof t.id);
    memcpy(t.created_by, a.id, 16);
    snprintf(t.patient, sizeof t.patient, "P-7F3A");
    assert_int_equal(ses_store_user_insert(f->st, &a), 0);
    assert_int_equal(ses_store_user_insert(f->st, &b), 0);
    assert_int_equal(ses_store_user_insert(f->st, &c), 0);
    assert_int_equal(ses_store_thread_insert(f->st, &t), 0);
    assert_int_equal(ses_store_member_put(f->st, t.id, a.id, 10), 0);
    assert_int_equal(ses_store_member_put(f->st, t.id, b.id, 10), 0);
    put_msg(f->st, t.id, &a, 1, 20, 1);
    put_msg(f->st, t.id, &b, 2, 30, 2);
    assert_int_equal(ses_store_member_put(f->st, t.id, c.id, 35), 0);
    put_msg(f->st, t.id, &a, 3, 40, 3);
    ses_store_close(f->st);
    f->st = NULL;

    /* the database as schema 5 had it: the same rows in a WITHOUT ROWID table, no added_seq */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db,
                     "CREATE TABLE m5(thread_id BLOB NOT NULL, seq INTEGER NOT NULL, msg_id BLOB "
                     "NOT NULL UNIQUE, sender_user BLOB NOT NULL, sender_device BLOB NOT NULL, "
                     "sender_seq INTEGER NOT NULL, created_ms INTEGER NOT NULL, stored_ms "
                     "INTEGER NOT NULL, env BLOB NOT NULL, PRIMARY KEY(thread_id, seq)) WITHOUT "
                     "ROWID;"
                     "INSERT INTO m5 SELECT thread_id, seq, msg_id, sender_user, sender_device, "
                     "sender_seq, created_ms, stored_ms, env FROM messages;"
                     "DROP TABLE messages;"
                     "ALTER TABLE m5 RENAME TO messages;"
                     "CREATE UNIQUE INDEX messages_sender_seq ON messages(thread_id, "
                     "sender_device, sender_seq);"
                     "ALTER TABLE thread_members DROP COLUMN added_seq;" SCHEMA7_UNDO
                     "PRAGMA user_version = 5;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(ses_store_open(f->path, false, &f->st), 0);
    /* a rowid table now, with its two indexes */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT (SELECT count(*) FROM sqlite_master WHERE name = "
                                        "'messages' AND sql LIKE '%WITHOUT ROWID%'), (SELECT "
                                        "count(*) FROM sqlite_master WHERE name IN "
                                        "('messages_thread_seq', 'messages_sender_seq')), "
                                        "(SELECT user_version FROM pragma_user_version)",
                                        -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), 0);
    assert_int_equal(sqlite3_column_int(q, 1), 2);
    assert_int_equal(sqlite3_column_int(q, 2), SES_SCHEMA_VERSION);
    sqlite3_finalize(q);
    sqlite3_close(db);
    /* the same messages, in order, byte for byte */
    struct msgs got = {.n = 0};
    assert_int_equal(ses_store_msg_range(f->st, t.id, 0, 10, take_msg, &got), 0);
    assert_int_equal(got.n, 3);
    for (int i = 0; i < 3; i++) {
        uint8_t want[48];
        memset(want, i + 1, sizeof want);
        assert_int_equal(got.seq[i], i + 1);
        assert_int_equal(got.len[i], sizeof want);
        assert_memory_equal(got.env[i], want, sizeof want);
    }
    uint8_t id2[16];
    memset(id2, 2, sizeof id2);
    struct msgs one = {.n = 0};
    assert_int_equal(ses_store_msg_by_id(f->st, id2, take_msg, &one), 0);
    assert_int_equal(one.seq[0], 2);
    uint64_t max = 0;
    assert_int_equal(ses_store_msg_max_sender_seq(f->st, t.id, a.id, &max), 0);
    assert_int_equal(max, 3);
    /* a used msg_id or sender_seq is still refused, and numbering goes on */
    uint8_t env[4] = {0};
    struct ses_message dup = {.sender_seq = 9, .env = env, .env_len = sizeof env};
    memcpy(dup.thread, t.id, 16);
    memcpy(dup.msg_id, id2, 16);
    memcpy(dup.sender_user, a.id, 16);
    memcpy(dup.sender_device, a.id, 16);
    assert_int_equal(ses_store_msg_insert(f->st, &dup), SES_EEXISTS);
    memset(dup.msg_id, 8, 16);
    dup.sender_seq = 3;
    assert_int_equal(ses_store_msg_insert(f->st, &dup), SES_EEXISTS);

    /* added_seq backfilled: c was added after seq 2, so only seq 3 is unread for c */
    assert_int_equal(unread(f->st, &a), 1);
    assert_int_equal(unread(f->st, &b), 2);
    assert_int_equal(unread(f->st, &c), 1);

    /* removed, a message, re-added: what was sent meanwhile (and before) is not unread */
    assert_int_equal(ses_store_member_remove(f->st, t.id, b.id, 50), 0);
    put_msg(f->st, t.id, &a, 4, 55, 4);
    assert_int_equal(ses_store_member_put(f->st, t.id, b.id, 60), 0);
    assert_int_equal(unread(f->st, &b), 0);
    put_msg(f->st, t.id, &a, 5, 65, 5);
    assert_int_equal(unread(f->st, &b), 1);
    assert_int_equal(unread(f->st, &c), 3);
    /* putting a current member again changes nothing */
    assert_int_equal(ses_store_member_put(f->st, t.id, c.id, 70), 0);
    assert_int_equal(unread(f->st, &c), 3);
}

static void checkpoints(void **state)
{
    struct fixture *f = *state;
    char note[256];
    uint64_t size = 0;
    uint8_t root[32] = {7};
    assert_int_equal(ses_store_checkpoint_latest(f->st, &size, note, sizeof note), SES_ENOT_FOUND);
    assert_int_equal(ses_store_checkpoint_put(f->st, 3, root, "note three", 1), 0);
    assert_int_equal(ses_store_checkpoint_put(f->st, 9, root, "note nine", 2), 0);
    assert_int_equal(ses_store_checkpoint_put(f->st, 5, root, "note five", 3), 0);
    assert_int_equal(ses_store_checkpoint_latest(f->st, &size, note, sizeof note), 0);
    assert_int_equal(size, 9);
    assert_string_equal(note, "note nine");
    assert_int_equal(ses_store_checkpoint_latest(f->st, &size, note, 4), SES_EIO);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Issue 15, defect 7: an outside reader (a sqlite3 shell, a backup) holding a read transaction
 * must not hold the writer's RESTART checkpoint for the busy timeout: it returns at once, leaving
 * the frames the reader may still need, and completes once the reader is gone. */
static void restart_checkpoint_never_waits_for_a_reader(void **state)
{
    struct fixture *f = *state;
    uint8_t v[512] = {1};
    assert_int_equal(ses_store_meta_put(f->st, "k1", v, sizeof v), 0);
    sqlite3 *reader = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &reader, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(reader, "SELECT count(*) FROM meta", -1, &q, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW); /* the read snapshot is now held */
    assert_int_equal(ses_store_meta_put(f->st, "k2", v, sizeof v), 0);
    double t0 = now_ms();
    assert_int_equal(ses_store_wal_checkpoint(f->st, true), 0);
    double waited = now_ms() - t0;
    assert_true(waited < SES_STORE_BUSY_MS / 5); /* before the fix: the whole busy timeout */
    sqlite3_finalize(q);
    assert_int_equal(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(reader);
    assert_int_equal(ses_store_wal_checkpoint(f->st, true), 0);
    assert_int_equal(ses_store_wal_pages(f->st), 0); /* everything copied back */
    /* a statement still waits for another connection's lock (the busy timeout is restored) */
    assert_int_equal(ses_store_meta_put(f->st, "k3", v, sizeof v), 0);
}

/* Issue 15, defect 6: a full disk (here the database's page limit, which SQLite reports the same
 * way, SQLITE_FULL) is a coded STORAGE_FULL, changes nothing, and writes resume once space is
 * back. */
static void full_disk_is_storage_full(void **state)
{
    struct fixture *f = *state;
    static uint8_t big[256 * 1024];
    memset(big, 7, sizeof big);
    int64_t pages = 0;
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA page_count", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    pages = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA max_page_count = %lld", (long long)pages + 2);
    assert_int_equal(sqlite3_exec(f->st->db, pragma, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(ses_store_begin(f->st), 0);
    assert_int_equal(ses_store_meta_put(f->st, "big", big, sizeof big), SES_ESTORAGE_FULL);
    ses_store_rollback(f->st);
    uint8_t back[8];
    size_t len = 0;
    assert_int_equal(ses_store_meta_get(f->st, "big", back, sizeof back, &len), SES_ENOT_FOUND);
    snprintf(pragma, sizeof pragma, "PRAGMA max_page_count = %lld", (long long)pages + 1000);
    assert_int_equal(sqlite3_exec(f->st->db, pragma, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(ses_store_meta_put(f->st, "big", big, sizeof big), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_refuses_existing_and_reopens, setup, teardown),
        cmocka_unit_test_setup_teardown(users, setup, teardown),
        cmocka_unit_test_setup_teardown(devices, setup, teardown),
        cmocka_unit_test_setup_teardown(codes, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_and_transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_canonical_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_tree_roots_and_proofs, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_rollback_takes_the_leaf, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_prune_keeps_hashes, setup, teardown),
        cmocka_unit_test_setup_teardown(schema1_rows_are_backfilled, setup, teardown),
        cmocka_unit_test_setup_teardown(read_only_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(schema6_to_7, setup, teardown),
        cmocka_unit_test_setup_teardown(schema5_messages_move, setup, teardown),
        cmocka_unit_test_setup_teardown(checkpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(restart_checkpoint_never_waits_for_a_reader, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(full_disk_is_storage_full, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
