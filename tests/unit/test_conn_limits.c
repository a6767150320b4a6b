/*
 * test_conn_limits.c - unit: connections counted per address at accept (conn_limits.h). Every cap
 * at its boundary: the last connection under it is admitted, the next one refused with its
 * reason and nothing counted; a login frees a place under the caps on connections not logged in
 * (never under the per-address total); releases give places back; an address leaves the table
 * with its last connection; queued bytes per address stop at their cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conn_limits.h"

static const struct ses_conn_caps CAPS = {
    .max_total = 10,
    .max_per_addr = 5,
    .max_unauth_per_addr = 3,
    .max_unauth_total = 8,
    .max_queued_per_addr = 1000,
};

static void addr_of(uint8_t a[SES_CONN_ADDR_BYTES], uint8_t last)
{
    memset(a, 0, SES_CONN_ADDR_BYTES);
    a[10] = a[11] = 0xff;
    a[12] = 10;
    a[15] = last;
}

static struct ses_conn_addr *admit_ok(struct ses_conn_table *t, uint8_t last)
{
    uint8_t a[SES_CONN_ADDR_BYTES];
    addr_of(a, last);
    struct ses_conn_addr *out = NULL;
    assert_int_equal(ses_conn_admit(t, a, &out), SES_CONN_OK);
    assert_non_null(out);
    return out;
}

static void admit_refused(struct ses_conn_table *t, uint8_t last, enum ses_conn_refusal want)
{
    uint8_t a[SES_CONN_ADDR_BYTES];
    addr_of(a, last);
    int total = ses_conn_total(t), unauth = ses_conn_unauth(t);
    struct ses_conn_addr *out = (struct ses_conn_addr *)&out;
    assert_int_equal(ses_conn_admit(t, a, &out), want);
    assert_null(out);
    assert_int_equal(ses_conn_total(t), total);
    assert_int_equal(ses_conn_unauth(t), unauth);
}

/* max_unauth_per_addr, then the login that frees a place, then max_per_addr. */
static void per_address(void **state)
{
    (void)state;
    struct ses_conn_table *t = ses_conn_table_new(&CAPS);
    assert_non_null(t);
    struct ses_conn_addr *a = admit_ok(t, 1);
    assert_ptr_equal(admit_ok(t, 1), a); /* the same address, the same counts */
    assert_ptr_equal(admit_ok(t, 1), a);
    assert_int_equal(ses_conn_addr_count(a), 3);
    admit_refused(t, 1, SES_CONN_ADDR_UNAUTH); /* 3 not logged in: the 4th waits */
    struct ses_conn_addr *b = admit_ok(t, 2);  /* another address is not concerned */
    assert_ptr_not_equal(a, b);
    ses_conn_authed(t, a); /* a login: a place under the unauthenticated cap again */
    assert_ptr_equal(admit_ok(t, 1), a);
    admit_refused(t, 1, SES_CONN_ADDR_UNAUTH);
    ses_conn_authed(t, a);
    ses_conn_authed(t, a);
    assert_ptr_equal(admit_ok(t, 1), a); /* the 5th connection of the address */
    assert_int_equal(ses_conn_addr_count(a), 5);
    admit_refused(t, 1, SES_CONN_ADDR_FULL); /* logged in or not, 5 is the address's total */
    ses_conn_release(t, a, true);
    assert_ptr_equal(admit_ok(t, 1), a);
    assert_int_equal(ses_conn_total(t), 6); /* 5 of this address, 1 of the other */
    assert_int_equal(ses_conn_unauth(t), 4);
    ses_conn_table_free(t);
}

/* max_unauth_total and max_total across addresses; an address leaves with its last connection. */
static void totals(void **state)
{
    (void)state;
    struct ses_conn_table *t = ses_conn_table_new(&CAPS);
    struct ses_conn_addr *c[10];
    for (int i = 0; i < 8; i++)
        c[i] = admit_ok(t, (uint8_t)(10 + i));
    admit_refused(t, 30, SES_CONN_UNAUTH_FULL);
    for (int i = 0; i < 8; i++)
        ses_conn_authed(t, c[i]);
    assert_int_equal(ses_conn_unauth(t), 0);
    c[8] = admit_ok(t, 30);
    c[9] = admit_ok(t, 31);
    assert_int_equal(ses_conn_total(t), 10);
    admit_refused(t, 32, SES_CONN_FULL);
    ses_conn_release(t, c[9], false);
    assert_int_equal(ses_conn_total(t), 9);
    assert_int_equal(ses_conn_unauth(t), 1);
    struct ses_conn_addr *again = admit_ok(t, 31); /* its address had left: counted afresh */
    assert_int_equal(ses_conn_addr_count(again), 1);
    for (int i = 0; i < 8; i++)
        ses_conn_release(t, c[i], true);
    ses_conn_release(t, c[8], false);
    ses_conn_release(t, again, false);
    assert_int_equal(ses_conn_total(t), 0);
    assert_int_equal(ses_conn_unauth(t), 0);
    ses_conn_table_free(t);
}

/* Queued bytes per address: up to the cap exactly, then refused without a change. */
static void queued(void **state)
{
    (void)state;
    struct ses_conn_table *t = ses_conn_table_new(&CAPS);
    struct ses_conn_addr *a = admit_ok(t, 1);
    assert_true(ses_conn_queue_add(t, a, 999));
    assert_true(ses_conn_queue_add(t, a, 1));
    assert_false(ses_conn_queue_add(t, a, 1));
    ses_conn_queue_sub(a, 500);
    assert_false(ses_conn_queue_add(t, a, 501));
    assert_true(ses_conn_queue_add(t, a, 500));
    assert_false(ses_conn_queue_add(t, a, SIZE_MAX)); /* no overflow */
    ses_conn_queue_sub(a, SIZE_MAX);                  /* never below zero */
    assert_true(ses_conn_queue_add(t, a, 1000));
    ses_conn_release(t, a, false);
    ses_conn_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(per_address),
        cmocka_unit_test(totals),
        cmocka_unit_test(queued),
    };
    return cmocka_run_group_tests_name("unit.conn_limits", tests, NULL, NULL);
}
