/*
 * test_throttle.c - unit: the back-off of failed pre-login attempts (throttle.h) at each of its
 * boundaries: SES_THROTTLE_FREE failures before any wait, the first wait SES_THROTTLE_BASE_MS,
 * doubling up to SES_THROTTLE_MAX_MS, keys independent, a key forgotten after
 * SES_THROTTLE_FORGET_MS without failure, notes handed once, and the table bounded by
 * SES_THROTTLE_MAX_KEYS (the oldest key goes first).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "throttle.h"

static void backoff(void **state)
{
    (void)state;
    struct ses_throttle *t = ses_throttle_new();
    assert_non_null(t);
    int64_t now = 1000000;
    for (int i = 1; i < SES_THROTTLE_FREE; i++) {
        ses_throttle_failed(t, "peer:a", now);
        assert_int_equal(ses_throttle_wait_ms(t, "peer:a", now), 0);
        assert_false(ses_throttle_over(t, "peer:a", now));
    }
    ses_throttle_failed(t, "peer:a", now); /* the 5th: closed for the first back-off */
    assert_true(ses_throttle_over(t, "peer:a", now));
    assert_int_equal(ses_throttle_wait_ms(t, "peer:a", now), SES_THROTTLE_BASE_MS);
    assert_int_equal(ses_throttle_wait_ms(t, "peer:a", now + SES_THROTTLE_BASE_MS - 1), 1);
    assert_int_equal(ses_throttle_wait_ms(t, "peer:a", now + SES_THROTTLE_BASE_MS), 0);
    assert_int_equal(ses_throttle_wait_ms(t, "peer:b", now), 0); /* another key */
    int64_t want = SES_THROTTLE_BASE_MS;
    for (int i = 0; i < 10; i++) {
        want = want * 2 > SES_THROTTLE_MAX_MS ? SES_THROTTLE_MAX_MS : want * 2;
        ses_throttle_failed(t, "peer:a", now);
        assert_int_equal(ses_throttle_wait_ms(t, "peer:a", now), want);
    }
    assert_int_equal(want, SES_THROTTLE_MAX_MS);
    for (int i = 0; i < 100; i++) /* no overflow however many */
        ses_throttle_failed(t, "peer:a", now);
    assert_int_equal(ses_throttle_wait_ms(t, "peer:a", now), SES_THROTTLE_MAX_MS);
    assert_int_equal(ses_throttle_failures(t, "peer:a", now), SES_THROTTLE_FREE + 110);
    /* quiet for the forget period: a fresh start */
    int64_t later = now + SES_THROTTLE_FORGET_MS;
    assert_int_equal(ses_throttle_failures(t, "peer:a", later - 1), SES_THROTTLE_FREE + 110);
    assert_int_equal(ses_throttle_failures(t, "peer:a", later), 0);
    assert_false(ses_throttle_over(t, "peer:a", later));
    ses_throttle_failed(t, "peer:a", later);
    assert_int_equal(ses_throttle_failures(t, "peer:a", later), 1);
    assert_int_equal(ses_throttle_wait_ms(t, "peer:a", later), 0);
    ses_throttle_free(t);
}

static void count_cb(void *ud, const char *key, uint64_t count)
{
    char *out = ud;
    size_t len = strlen(out);
    snprintf(out + len, 256 - len, "%s=%llu;", key, (unsigned long long)count);
}

static void notes(void **state)
{
    (void)state;
    struct ses_throttle *t = ses_throttle_new();
    char out[256] = "";
    assert_int_equal(ses_throttle_take_notes(t, count_cb, out), 0);
    assert_int_equal(ses_throttle_noted_keys(t), 0);
    for (int i = 0; i < 3; i++)
        ses_throttle_note(t, "peer:x", 5);
    assert_int_equal(ses_throttle_noted_keys(t), 1);
    assert_int_equal(ses_throttle_take_notes(t, count_cb, out), 1);
    assert_int_equal(ses_throttle_noted_keys(t), 0);
    assert_string_equal(out, "peer:x=3;");
    out[0] = '\0';
    assert_int_equal(ses_throttle_take_notes(t, count_cb, out), 0); /* handed once */
    assert_string_equal(out, "");
    /* a key with notes not yet handed is kept past the forget period */
    ses_throttle_note(t, "peer:y", 5);
    assert_int_equal(ses_throttle_take_notes(t, count_cb, out), 1);
    ses_throttle_free(t);
}

static void bounded(void **state)
{
    (void)state;
    struct ses_throttle *t = ses_throttle_new();
    char key[32];
    for (int i = 0; i < SES_THROTTLE_MAX_KEYS; i++) {
        snprintf(key, sizeof key, "device:%d", i);
        ses_throttle_failed(t, key, 1000 + i); /* device:0 failed longest ago */
    }
    assert_int_equal(ses_throttle_failures(t, "device:0", 1000 + SES_THROTTLE_MAX_KEYS), 1);
    ses_throttle_failed(t, "device:new", 1000 + SES_THROTTLE_MAX_KEYS);
    assert_int_equal(ses_throttle_failures(t, "device:new", 1000 + SES_THROTTLE_MAX_KEYS), 1);
    assert_int_equal(ses_throttle_failures(t, "device:0", 1000 + SES_THROTTLE_MAX_KEYS), 0);
    assert_int_equal(ses_throttle_failures(t, "device:1", 1000 + SES_THROTTLE_MAX_KEYS), 1);
    ses_throttle_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff),
        cmocka_unit_test(notes),
        cmocka_unit_test(bounded),
    };
    return cmocka_run_group_tests_name("unit.throttle", tests, NULL, NULL);
}
