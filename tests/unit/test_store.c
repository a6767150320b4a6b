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
#include <unistd.h>

#include <cmocka.h>

#include "sesame/err.h"

#include "store.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_refuses_existing_and_reopens, setup, teardown),
        cmocka_unit_test_setup_teardown(users, setup, teardown),
        cmocka_unit_test_setup_teardown(devices, setup, teardown),
        cmocka_unit_test_setup_teardown(codes, setup, teardown),
        cmocka_unit_test_setup_teardown(audit_and_transactions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
