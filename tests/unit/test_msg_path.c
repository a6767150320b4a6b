/*
 * test_msg_path.c - the message path's helpers: the roster cache (snapshots, lookups, drop,
 * clear, the bound on entries); the table-driven base64url codec, checked against libsodium's on
 * every length and on random and corrupted texts; and the flat-frame parser, checked against
 * ses_frame_parse on valid frames and on random mutations of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#include "roster_cache.h"

/* A roster of n_members members with devs devices each; ids are derived from seed. */
static struct ses_roster *make_roster(uint8_t seed, int n_members, int devs)
{
    struct ses_roster *r = calloc(1, sizeof *r);
    assert_non_null(r);
    memset(r->thread.id, seed, SES_ID_BYTES);
    r->n = n_members;
    for (int i = 0; i < n_members; i++) {
        struct ses_roster_member *m = &r->members[i];
        memset(m->user.id, 0x40 + i, SES_ID_BYTES);
        m->user.id[0] = seed;
        m->n_devices = devs;
        for (int k = 0; k < devs; k++) {
            memset(m->devices[k].id, 0x80 + i * 8 + k, SES_ID_BYTES);
            m->devices[k].id[0] = seed;
            memset(m->devices[k].sign_pk, i * 8 + k, SES_SIGN_PK_BYTES);
        }
    }
    memset(r->hash, seed ^ 0x5a, sizeof r->hash);
    return r;
}

static void cache_snapshot_and_invalidation(void **state)
{
    (void)state;
    struct ses_roster_cache *c = ses_roster_cache_new(16);
    assert_non_null(c);
    struct ses_roster *r = make_roster(1, 3, 2);
    assert_null(ses_roster_cache_get(c, r->thread.id));
    const struct ses_roster_entry *e = ses_roster_cache_put(c, r);
    assert_non_null(e);
    assert_ptr_equal(ses_roster_cache_get(c, r->thread.id), e);
    assert_int_equal(e->n_users, 3);
    assert_int_equal(e->n_devices, 6);
    assert_memory_equal(e->hash, r->hash, 32);
    assert_true(ses_roster_entry_has_user(e, r->members[2].user.id));
    const uint8_t *pk = ses_roster_entry_sign_pk(e, r->members[1].devices[1].id);
    assert_non_null(pk);
    assert_memory_equal(pk, r->members[1].devices[1].sign_pk, SES_SIGN_PK_BYTES);
    uint8_t other[SES_ID_BYTES];
    memset(other, 0xee, sizeof other);
    assert_false(ses_roster_entry_has_user(e, other));
    assert_null(ses_roster_entry_sign_pk(e, other));

    /* a new snapshot of the same thread replaces the old one (a removed member, a device less) */
    r->n = 2;
    r->members[0].n_devices = 1;
    e = ses_roster_cache_put(c, r);
    assert_non_null(e);
    assert_int_equal(e->n_users, 2);
    assert_int_equal(e->n_devices, 3);
    assert_false(ses_roster_entry_has_user(e, r->members[2].user.id));

    struct ses_roster *r2 = make_roster(2, 1, 1);
    assert_non_null(ses_roster_cache_put(c, r2));
    ses_roster_cache_drop(c, r->thread.id);
    assert_null(ses_roster_cache_get(c, r->thread.id));
    assert_non_null(ses_roster_cache_get(c, r2->thread.id));
    ses_roster_cache_drop(c, r->thread.id); /* not there: nothing happens */
    ses_roster_cache_clear(c);
    assert_null(ses_roster_cache_get(c, r2->thread.id));

    /* an empty roster (every device revoked) is cached as such */
    struct ses_roster *r3 = make_roster(3, 2, 0);
    e = ses_roster_cache_put(c, r3);
    assert_non_null(e);
    assert_int_equal(e->n_devices, 0);
    free(r);
    free(r2);
    free(r3);
    ses_roster_cache_free(c);
    ses_roster_cache_clear(NULL);
    ses_roster_cache_drop(NULL, other);
    ses_roster_cache_free(NULL);
}

static void cache_stays_bounded(void **state)
{
    (void)state;
    struct ses_roster_cache *c = ses_roster_cache_new(8);
    struct ses_roster *r = make_roster(0, 2, 3);
    for (int i = 0; i < 100; i++) {
        memset(r->thread.id, 0, SES_ID_BYTES);
        r->thread.id[0] = (uint8_t)i; /* same low bits for some: chains too */
        r->thread.id[5] = (uint8_t)(i * 7);
        const struct ses_roster_entry *e = ses_roster_cache_put(c, r);
        assert_non_null(e);
        assert_ptr_equal(ses_roster_cache_get(c, r->thread.id), e);
    }
    int present = 0;
    for (int i = 0; i < 100; i++) {
        memset(r->thread.id, 0, SES_ID_BYTES);
        r->thread.id[0] = (uint8_t)i;
        r->thread.id[5] = (uint8_t)(i * 7);
        present += ses_roster_cache_get(c, r->thread.id) != NULL;
    }
    assert_true(present >= 1 && present <= 8);
    free(r);
    ses_roster_cache_free(c);
}

/* libsodium's verdict and bytes for text, as the old send path decoded an envelope */
static int sodium_decode(uint8_t *out, size_t cap, const char *text, size_t len, size_t *n)
{
    const char *end = NULL;
    if (sodium_base642bin(out, cap, text, len, NULL, n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        end != text + len)
        return -1;
    return 0;
}

static void b64url_matches_libsodium(void **state)
{
    (void)state;
    uint8_t bin[300], a[300], b[300];
    char text[420], ref[420];
    randombytes_buf(bin, sizeof bin);
    for (size_t n = 0; n <= sizeof bin - 1; n++) {
        size_t len = ses_b64url_encode(text, bin, n);
        assert_int_equal(len, ses_b64_len(n));
        sodium_bin2base64(ref, sizeof ref, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        assert_int_equal(len, strlen(ref));
        assert_memory_equal(text, ref, len);
        size_t got = 0;
        assert_int_equal(ses_b64url_decode(a, sizeof a, text, len, &got), 0);
        assert_int_equal(got, n);
        assert_memory_equal(a, bin, n);
    }
    /* corrupted texts: every verdict and every accepted byte string is libsodium's */
    for (int round = 0; round < 300000; round++) {
        size_t len = randombytes_uniform(24);
        for (size_t i = 0; i < len; i++)
            text[i] = randombytes_uniform(4) == 0
                          ? (char)randombytes_uniform(256) /* any byte, NUL and >= 0x80 too */
                          : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                                [randombytes_uniform(64)];
        size_t na = 0, nb = 0;
        int ra = ses_b64url_decode(a, sizeof a, text, len, &na);
        int rb = sodium_decode(b, sizeof b, text, len, &nb);
        assert_int_equal(ra == 0, rb == 0);
        if (ra == 0) {
            assert_int_equal(na, nb);
            assert_memory_equal(a, b, na);
        } else {
            assert_int_equal(ra, SES_EBAD_FIELD);
        }
    }
    /* an output buffer that is too small is refused, never overrun */
    size_t got = 0;
    assert_int_equal(ses_b64url_decode(a, 2, "AAAA", 4, &got), SES_EBAD_FIELD);
    assert_int_equal(ses_b64url_decode(a, 3, "AAAA", 4, &got), 0);
}

/* Whatever ses_frame_parse_flat accepts, ses_frame_parse accepts with the same id, type and
 * members in the same order. */
static void check_same(const char *text, size_t len, int *flat_hits)
{
    struct ses_frame a, b;
    int64_t ida = -7, idb = -7;
    int ra = ses_frame_parse_flat(text, len, SES_MAX_FRAME, &a, &ida);
    if (ra == SES_FRAME_NOT_FLAT) {
        assert_int_equal(ida, -7); /* nothing changed */
        return;
    }
    assert_int_equal(ra, 0);
    (*flat_hits)++;
    int rb = ses_frame_parse(text, len, SES_MAX_FRAME, &b, &idb);
    if (rb != 0)
        fprintf(stderr, "flat accepted what the parser refuses (%d): %.*s\n", rb, (int)len, text);
    assert_int_equal(rb, 0);
    assert_int_equal(ida, idb);
    assert_int_equal(a.id, b.id);
    assert_string_equal(a.type, b.type);
    char *ea = ses_encode(a.root), *eb = ses_encode(b.root);
    assert_string_equal(ea, eb);
    free(ea);
    free(eb);
    ses_frame_free(&a);
    ses_frame_free(&b);
}

static void flat_frames_match_the_parser(void **state)
{
    (void)state;
    const char *seeds[] = {
        ("{\"t\":\"send\",\"id\":12,\"thread\":\"abcdefghijklmnopqrstuvwxyz\",\"env\":\"U0VTMQ-_"
         "x\"}"),
        " {\"id\" : 0 , \"t\":\"ack\",\"thread\":\"t\",\"delivered\":5}\r\n",
        "{\"t\":\"read\",\"id\":999999999999999,\"thread\":\"q\",\"seq\":1}",
        "{\"t\":\"ping\",\"id\":3}",
        "{\"t\":\"x\",\"id\":1,\"\":\"\"}",
        "{\"t\":\"send\",\"id\":1,\"t\":\"send\"}",
        "{\"t\":\"send\",\"id\":01}",
        "{\"t\":\"send\",\"id\":-1}",
        "{\"t\":\"send\",\"id\":1.5}",
        "{\"t\":\"s\\u0065nd\",\"id\":1}",
        "{\"t\":\"send\",\"id\":9007199254740992}",
        "{\"t\":\"\",\"id\":1}",
        "{\"t\":5,\"id\":1}",
        "{\"t\":\"send\",\"id\":1}x",
        "{\"t\":\"send\",\"id\":1,}",
        "{\"t\":\"send\",\"id\":true}",
        "[1]",
        "",
    };
    const char noise[] = "{}[]\":,. \t\n\r\\0123456789-eE+abtidnul\x01\x7f\x80\xc3\xa9";
    int hits = 0;
    char buf[256];
    for (size_t k = 0; k < sizeof seeds / sizeof seeds[0]; k++)
        check_same(seeds[k], strlen(seeds[k]), &hits);
    for (int round = 0; round < 200000; round++) {
        const char *seed = seeds[randombytes_uniform(sizeof seeds / sizeof seeds[0])];
        size_t len = strlen(seed);
        memcpy(buf, seed, len);
        int edits = 1 + (int)randombytes_uniform(3);
        for (int e = 0; e < edits; e++) {
            uint32_t op = randombytes_uniform(3), at = len ? randombytes_uniform((uint32_t)len) : 0;
            char c = noise[randombytes_uniform(sizeof noise - 1)];
            if (op == 0 && len > 0) {
                buf[at] = c; /* replace */
            } else if (op == 1 && len + 1 < sizeof buf) {
                memmove(buf + at + 1, buf + at, len - at); /* insert */
                buf[at] = c;
                len++;
            } else if (len > 0) {
                memmove(buf + at, buf + at + 1, len - at - 1); /* delete */
                len--;
            }
        }
        check_same(buf, len, &hits);
    }
    assert_true(hits > 1000); /* the fast path did take frames */
    /* the size limit stays the parser's */
    struct ses_frame f;
    int64_t id = -7;
    assert_int_equal(ses_frame_parse_flat(seeds[3], strlen(seeds[3]), 5, &f, &id),
                     SES_FRAME_NOT_FLAT);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cache_snapshot_and_invalidation),
        cmocka_unit_test(cache_stays_bounded),
        cmocka_unit_test(b64url_matches_libsodium),
        cmocka_unit_test(flat_frames_match_the_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
