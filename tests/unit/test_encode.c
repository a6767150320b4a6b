/*
 * test_encode.c - unit tests of the wire text encodings (encode.h: base32, base64url, ids,
 * enrolment codes), the error table (err.h) and the role names (roles.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <cmocka.h>

#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/limits.h"
#include "sesame/roles.h"

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static int all_in(const char *s, size_t n, const char *alphabet)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' || strchr(alphabet, s[i]) == NULL)
            return 0;
    return 1;
}

/* --- base32 ---------------------------------------------------------------------------------- */

static void test_b32_len(void **state)
{
    (void)state;
    static const size_t want[] = {0, 2, 4, 5, 7, 8, 10, 12, 13, 15, 16};
    for (size_t n = 0; n < sizeof want / sizeof want[0]; n++)
        assert_int_equal(ses_b32_len(n), want[n]);
    assert_int_equal(ses_b32_len(SES_ID_BYTES), SES_ID_TEXT_LEN);
    assert_int_equal(ses_b32_len(SES_CODE_TICKET_BYTES) + 1 + ses_b32_len(SES_CODE_SECRET_BYTES),
                     SES_CODE_TEXT_LEN);
}

static void test_b32_round_trip(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 40; n++) {
        for (int rep = 0; rep < 8; rep++) {
            uint8_t bin[40], back[41];
            char lower[80], upper[80];
            randombytes_buf(bin, n);
            assert_int_equal(ses_b32_encode(lower, sizeof lower, bin, n, 0), 0);
            assert_int_equal(ses_b32_encode(upper, sizeof upper, bin, n, 1), 0);
            assert_int_equal(strlen(lower), ses_b32_len(n));
            assert_int_equal(strlen(upper), ses_b32_len(n));
            assert_true(all_in(lower, strlen(lower), "abcdefghijklmnopqrstuvwxyz234567"));
            assert_true(all_in(upper, strlen(upper), "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"));
            memset(back, 0xEE, sizeof back);
            assert_int_equal(ses_b32_decode(back, n, lower, strlen(lower)), 0);
            assert_memory_equal(back, bin, n);
            assert_int_equal(back[n], 0xEE); /* writes exactly n bytes */
            memset(back, 0xEE, sizeof back);
            assert_int_equal(ses_b32_decode(back, n, upper, strlen(upper)), 0);
            assert_memory_equal(back, bin, n);
        }
    }
}

/* RFC 4648 section 10 (base32, without the padding). */
static const struct {
    const char *in, *out;
} rfc_b32[] = {
    {"", ""},
    {"f", "MY"},
    {"fo", "MZXQ"},
    {"foo", "MZXW6"},
    {"foob", "MZXW6YQ"},
    {"fooba", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI"},
};

static void test_b32_rfc4648_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rfc_b32 / sizeof rfc_b32[0]; i++) {
        const char *in = rfc_b32[i].in, *want = rfc_b32[i].out;
        size_t n = strlen(in);
        char out[32], lower[32];
        uint8_t back[8];
        assert_int_equal(ses_b32_encode(out, sizeof out, (const uint8_t *)in, n, 1), 0);
        assert_string_equal(out, want);
        for (size_t k = 0; k <= strlen(want); k++)
            lower[k] = (char)(want[k] >= 'A' && want[k] <= 'Z' ? want[k] + 32 : want[k]);
        assert_int_equal(ses_b32_encode(out, sizeof out, (const uint8_t *)in, n, 0), 0);
        assert_string_equal(out, lower);
        assert_int_equal(ses_b32_decode(back, n, want, strlen(want)), 0);
        assert_memory_equal(back, in, n);
        assert_int_equal(ses_b32_decode(back, n, lower, strlen(lower)), 0);
        assert_memory_equal(back, in, n);
    }
}

static void test_b32_encode_capacity(void **state)
{
    (void)state;
    const uint8_t bin[3] = {1, 2, 3};
    char out[6];
    /* 3 bytes -> 5 characters + NUL: 6 is enough, 5 is not */
    assert_int_equal(ses_b32_encode(out, 6, bin, 3, 0), 0);
    assert_string_equal(out, "aebag");
    assert_int_equal(ses_b32_encode(out, 5, bin, 3, 0), SES_EINVALID_ARG);
    assert_int_equal(ses_b32_encode(out, 0, bin, 3, 0), SES_EINVALID_ARG);
    assert_int_equal(ses_b32_encode(out, 1, bin, 0, 0), 0);
    assert_string_equal(out, "");
}

static void test_b32_decode_strict(void **state)
{
    (void)state;
    uint8_t b[8];
    /* wrong lengths for "foo" (3 bytes = 5 characters) */
    assert_int_equal(ses_b32_decode(b, 3, "MZXW", 4), SES_EBAD_FIELD);
    assert_int_equal(ses_b32_decode(b, 3, "MZXW6Y", 6), SES_EBAD_FIELD);
    assert_int_equal(ses_b32_decode(b, 3, "MZXW6===", 8), SES_EBAD_FIELD); /* padding */
    assert_int_equal(ses_b32_decode(b, 1, "", 0), SES_EBAD_FIELD);
    assert_int_equal(ses_b32_decode(b, 0, "A", 1), SES_EBAD_FIELD);
    assert_int_equal(ses_b32_decode(b, 1, NULL, 2), SES_EBAD_FIELD);
    /* characters outside the alphabet, in every position */
    static const char bad[] = "0189=-_ +/.\n\x80";
    for (size_t k = 0; k < sizeof bad - 1; k++) {
        for (size_t pos = 0; pos < 5; pos++) {
            char t[6] = "MZXW6";
            t[pos] = bad[k];
            assert_int_equal(ses_b32_decode(b, 3, t, 5), SES_EBAD_FIELD);
        }
    }
    /* a NUL inside the counted length */
    assert_int_equal(ses_b32_decode(b, 3, "MZ\0W6", 5), SES_EBAD_FIELD);
    /* non-canonical trailing bits: "f" is MY (Y = 11000, last 2 bits unused) */
    assert_int_equal(ses_b32_decode(b, 1, "MY", 2), 0);
    assert_int_equal(b[0], 'f');
    assert_int_equal(ses_b32_decode(b, 1, "MZ", 2), SES_EBAD_FIELD); /* 11001 */
    assert_int_equal(ses_b32_decode(b, 1, "M7", 2), SES_EBAD_FIELD); /* 11111 */
    /* "foo" = MZXW6 (6 = 11110, last bit unused) */
    assert_int_equal(ses_b32_decode(b, 3, "MZXW7", 5), SES_EBAD_FIELD);
    /* "foob" = MZXW6YQ (Q = 10000, last 3 bits unused): R = 10001, U = 10100 are not canonical,
     * while Y = 11000 is (another value) */
    assert_int_equal(ses_b32_decode(b, 4, "MZXW6YR", 7), SES_EBAD_FIELD);
    assert_int_equal(ses_b32_decode(b, 4, "MZXW6YU", 7), SES_EBAD_FIELD);
    assert_int_equal(ses_b32_decode(b, 4, "MZXW6YY", 7), 0);
    assert_memory_equal(b, "fooc", 4);
    /* 5 bytes = 8 characters: no unused bits, every final character is fine */
    assert_int_equal(ses_b32_decode(b, 5, "MZXW6YT7", 8), 0);
}

static void test_b32_decode_case_insensitive(void **state)
{
    (void)state;
    uint8_t b[6];
    assert_int_equal(ses_b32_decode(b, 6, "mZxW6yTbOi", 10), 0);
    assert_memory_equal(b, "foobar", 6);
    assert_int_equal(ses_b32_decode(b, 6, "mzxw6ytboi", 10), 0);
    assert_memory_equal(b, "foobar", 6);
}

/* --- ids ------------------------------------------------------------------------------------- */

static void test_id_text(void **state)
{
    (void)state;
    uint8_t id[SES_ID_BYTES], back[SES_ID_BYTES];
    char text[SES_ID_TEXT_LEN + 1];

    memset(id, 0, sizeof id);
    ses_id_to_text(text, id);
    assert_string_equal(text, "aaaaaaaaaaaaaaaaaaaaaaaaaa");

    memset(id, 0xff, sizeof id);
    ses_id_to_text(text, id);
    assert_string_equal(text, "77777777777777777777777774"); /* 125 bits of 1, then 111|00 */
    assert_int_equal(ses_id_from_text(back, text), 0);
    assert_memory_equal(back, id, SES_ID_BYTES);
    /* last character carries 3 bits + 2 unused ones: only 0b..100 with zero tail */
    assert_int_equal(ses_id_from_text(back, "77777777777777777777777777"), SES_EBAD_FIELD);
    assert_int_equal(ses_id_from_text(back, "77777777777777777777777775"), SES_EBAD_FIELD);

    for (uint8_t i = 0; i < SES_ID_BYTES; i++)
        id[i] = i;
    ses_id_to_text(text, id);
    assert_string_equal(text, "aaaqeayeaudaocajbifqydiob4");

    for (int rep = 0; rep < 100; rep++) {
        char upper[SES_ID_TEXT_LEN + 1];
        randombytes_buf(id, sizeof id);
        ses_id_to_text(text, id);
        assert_int_equal(strlen(text), SES_ID_TEXT_LEN);
        assert_true(all_in(text, SES_ID_TEXT_LEN, "abcdefghijklmnopqrstuvwxyz234567"));
        memset(back, 0, sizeof back);
        assert_int_equal(ses_id_from_text(back, text), 0);
        assert_memory_equal(back, id, SES_ID_BYTES);
        for (size_t k = 0; k <= SES_ID_TEXT_LEN; k++)
            upper[k] = (char)(text[k] >= 'a' && text[k] <= 'z' ? text[k] - 32 : text[k]);
        assert_int_equal(ses_id_from_text(back, upper), 0);
        assert_memory_equal(back, id, SES_ID_BYTES);
    }
    assert_int_equal(ses_id_from_text(back, NULL), SES_EBAD_FIELD);
    assert_int_equal(ses_id_from_text(back, ""), SES_EBAD_FIELD);
    assert_int_equal(ses_id_from_text(back, "aaaaaaaaaaaaaaaaaaaaaaaaa"), SES_EBAD_FIELD); /* 25 */
    assert_int_equal(ses_id_from_text(back, "aaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                     SES_EBAD_FIELD); /* 27 */
    assert_int_equal(ses_id_from_text(back, "aaaaaaaaaaaaaaaaaaaaaaaaa1"), SES_EBAD_FIELD);
    assert_int_equal(ses_id_from_text(back, "aaaaaaaaaaaa aaaaaaaaaaaaa"), SES_EBAD_FIELD);
}

/* --- base64url ------------------------------------------------------------------------------- */

static void test_b64_round_trip(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 40; n++) {
        for (int rep = 0; rep < 8; rep++) {
            uint8_t bin[40], back[41];
            char text[64];
            randombytes_buf(bin, n);
            assert_int_equal(ses_b64_len(n), (n * 4 + 2) / 3);
            assert_int_equal(ses_b64_encode(text, sizeof text, bin, n), 0);
            assert_int_equal(strlen(text), ses_b64_len(n));
            assert_true(all_in(text, strlen(text),
                               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"));
            memset(back, 0xEE, sizeof back);
            assert_int_equal(ses_b64_decode(back, n, text, strlen(text)), 0);
            assert_memory_equal(back, bin, n);
            assert_int_equal(back[n], 0xEE);
        }
    }
}

static void test_b64_vectors(void **state)
{
    (void)state;
    /* RFC 4648 section 10 without padding, plus the two url-safe characters */
    static const struct {
        const char *in, *out;
    } v[] = {
        {"", ""},
        {"f", "Zg"},
        {"fo", "Zm8"},
        {"foo", "Zm9v"},
        {"foob", "Zm9vYg"},
        {"fooba", "Zm9vYmE"},
        {"foobar", "Zm9vYmFy"},
        {"\xfb\xff\xbf", "-_-_"},
        {"\xff\xff", "__8"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char out[16];
        uint8_t back[8];
        size_t n = strlen(v[i].in);
        assert_int_equal(ses_b64_encode(out, sizeof out, (const uint8_t *)v[i].in, n), 0);
        assert_string_equal(out, v[i].out);
        assert_int_equal(ses_b64_decode(back, n, v[i].out, strlen(v[i].out)), 0);
        assert_memory_equal(back, v[i].in, n);
    }
    char out[5];
    assert_int_equal(ses_b64_encode(out, 5, (const uint8_t *)"foo", 3), 0); /* 4 + NUL */
    assert_int_equal(ses_b64_encode(out, 4, (const uint8_t *)"foo", 3), SES_EINVALID_ARG);
}

static void test_b64_decode_strict(void **state)
{
    (void)state;
    uint8_t b[8];
    assert_int_equal(ses_b64_decode(b, 3, "Zm9", 3), SES_EBAD_FIELD);
    assert_int_equal(ses_b64_decode(b, 3, "Zm9vY", 5), SES_EBAD_FIELD);
    assert_int_equal(ses_b64_decode(b, 1, "Zg==", 4), SES_EBAD_FIELD); /* padding */
    assert_int_equal(ses_b64_decode(b, 1, "Zg=", 3), SES_EBAD_FIELD);
    assert_int_equal(ses_b64_decode(b, 1, NULL, 2), SES_EBAD_FIELD);
    assert_int_equal(ses_b64_decode(b, 1, "", 0), SES_EBAD_FIELD);
    /* standard-alphabet characters and others are not base64url */
    assert_int_equal(ses_b64_decode(b, 3, "+/+/", 4), SES_EBAD_FIELD);
    assert_int_equal(ses_b64_decode(b, 3, "Zm9+", 4), SES_EBAD_FIELD);
    assert_int_equal(ses_b64_decode(b, 3, "Zm9/", 4), SES_EBAD_FIELD);
    assert_int_equal(ses_b64_decode(b, 3, "Zm 9", 4), SES_EBAD_FIELD);
    assert_int_equal(ses_b64_decode(b, 3, "Zm9.", 4), SES_EBAD_FIELD);
    assert_int_equal(ses_b64_decode(b, 3, "Zm\09", 4), SES_EBAD_FIELD);
    /* non-canonical trailing bits: "f" = Zg (g = 100000, 4 unused bits) */
    assert_int_equal(ses_b64_decode(b, 1, "Zh", 2), SES_EBAD_FIELD);
    assert_int_equal(ses_b64_decode(b, 1, "Z_", 2), SES_EBAD_FIELD);
    /* "fo" = Zm8 (8 = 111100, 2 unused bits) */
    assert_int_equal(ses_b64_decode(b, 2, "Zm9", 3), SES_EBAD_FIELD);
    /* base64 is case-sensitive */
    assert_int_equal(ses_b64_decode(b, 3, "zM9V", 4), 0);
    assert_true(memcmp(b, "foo", 3) != 0);
}

/* The variable-length codec at its boundaries: n = 0..3 mod 3 on both sides, no NUL written, the
 * characters and padding it refuses, and the output capacity. */
static void test_b64url_boundaries(void **state)
{
    (void)state;
    static const struct {
        const char *bin;
        size_t n;
        const char *text;
    } v[] = {
        {"", 0, ""},
        {"f", 1, "Zg"},
        {"fo", 2, "Zm8"},
        {"foo", 3, "Zm9v"},
        {"foob", 4, "Zm9vYg"},
        {"fooba", 5, "Zm9vYmE"},
        {"foobar", 6, "Zm9vYmFy"},
        {"\xfb\xff\xbf", 3, "-_-_"},
        {"\0", 1, "AA"},
        {"\0\0", 2, "AAA"},
        {"\xff", 1, "_w"},
        {"\xff\xff", 2, "__8"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = v[i].n, tl = strlen(v[i].text), got = 99;
        char text[16];
        uint8_t back[16];
        memset(text, '#', sizeof text);
        assert_int_equal(ses_b64_len(n), tl);
        assert_int_equal(ses_b64url_encode(text, (const uint8_t *)v[i].bin, n), tl);
        assert_memory_equal(text, v[i].text, tl);
        assert_int_equal(text[tl], '#'); /* no NUL */
        memset(back, 0xEE, sizeof back);
        assert_int_equal(ses_b64url_decode(back, n, v[i].text, tl, &got), 0); /* cap = n exactly */
        assert_int_equal(got, n);
        assert_memory_equal(back, v[i].bin, n);
        assert_int_equal(back[n], 0xEE);
        /* one byte less of room is refused, and nothing is written beyond it */
        if (n > 0) {
            memset(back, 0xEE, sizeof back);
            assert_int_equal(ses_b64url_decode(back, n - 1, v[i].text, tl, &got), SES_EBAD_FIELD);
            assert_int_equal(back[n - 1], 0xEE);
        }
    }
    size_t got = 0;
    uint8_t b[8];
    assert_int_equal(ses_b64url_decode(b, 0, NULL, 0, &got), 0);
    assert_int_equal(got, 0);
    /* len % 4 == 1 is never an encoding */
    assert_int_equal(ses_b64url_decode(b, sizeof b, "Z", 1, &got), SES_EBAD_FIELD);
    assert_int_equal(ses_b64url_decode(b, sizeof b, "Zm9vY", 5, &got), SES_EBAD_FIELD);
    /* padding is refused wherever it stands */
    static const char *const padded[] = {"Zg==", "Zm8=", "Zg=", "=", "====", "Zm9v====", "Zm=v"};
    for (size_t i = 0; i < sizeof padded / sizeof padded[0]; i++)
        assert_int_equal(ses_b64url_decode(b, sizeof b, padded[i], strlen(padded[i]), &got),
                         SES_EBAD_FIELD);
    /* every character outside the URL-safe alphabet (below 0x80), at every position of a quartet
     * and of a 2- and 3-character tail */
    for (int c = 0; c < 0x80; c++) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_')
            continue;
        for (size_t at = 0; at < 4; at++) {
            char q[4] = {'Z', 'm', '9', 'v'}, t3[3] = {'Z', 'm', '8'}, t2[2] = {'Z', 'g'};
            q[at] = (char)c;
            assert_int_equal(ses_b64url_decode(b, sizeof b, q, 4, &got), SES_EBAD_FIELD);
            if (at < 3) {
                t3[at] = (char)c;
                assert_int_equal(ses_b64url_decode(b, sizeof b, t3, 3, &got), SES_EBAD_FIELD);
            }
            if (at < 2) {
                t2[at] = (char)c;
                assert_int_equal(ses_b64url_decode(b, sizeof b, t2, 2, &got), SES_EBAD_FIELD);
            }
        }
    }
    /* bytes >= 0x80 read as '_', as libsodium 1.0.18 reads them */
    uint8_t u[3];
    assert_int_equal(ses_b64url_decode(b, sizeof b, "Zm9\xff", 4, &got), 0);
    assert_int_equal(ses_b64url_decode(u, sizeof u, "Zm9_", 4, &got), 0);
    assert_memory_equal(b, u, 3);
    /* unused bits must be zero */
    assert_int_equal(ses_b64url_decode(b, sizeof b, "Zh", 2, &got), SES_EBAD_FIELD);
    assert_int_equal(ses_b64url_decode(b, sizeof b, "Zm9", 3, &got), SES_EBAD_FIELD);
}

/* The fixed-size decoder gives libsodium's verdict and bytes on random and corrupted texts of
 * the right length (it used to be libsodium's codec). */
static void test_b64_decode_matches_libsodium(void **state)
{
    (void)state;
    for (int round = 0; round < 100000; round++) {
        size_t n = randombytes_uniform(40), len = ses_b64_len(n), got = 0;
        uint8_t bin[40], a[40], b[40];
        char text[64];
        const char *end = NULL;
        randombytes_buf(bin, n);
        assert_int_equal(ses_b64_encode(text, sizeof text, bin, n), 0);
        for (int e = (int)randombytes_uniform(3); e > 0 && len > 0; e--)
            text[randombytes_uniform((uint32_t)len)] = randombytes_uniform(2)
                                                           ? (char)randombytes_uniform(256)
                                                           : "AQgw-_+/=. "[randombytes_uniform(11)];
        int ra = ses_b64_decode(a, n, text, len);
        int rb = sodium_base642bin(b, n, text, len, NULL, &got, &end,
                                   sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
                         got == n && end == text + len
                     ? 0
                     : SES_EBAD_FIELD;
        assert_int_equal(ra, rb);
        if (ra == 0)
            assert_memory_equal(a, b, n);
    }
}

/* --- enrolment codes ------------------------------------------------------------------------- */

static void test_code_format_parse(void **state)
{
    (void)state;
    uint8_t ticket[SES_CODE_TICKET_BYTES], secret[SES_CODE_SECRET_BYTES];
    uint8_t t2[SES_CODE_TICKET_BYTES], s2[SES_CODE_SECRET_BYTES];
    char code[SES_CODE_TEXT_LEN + 1];

    memset(ticket, 0, sizeof ticket);
    memset(secret, 0, sizeof secret);
    ses_code_format(code, ticket, secret);
    assert_string_equal(code, "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAA");

    const uint8_t kt[5] = {'f', 'o', 'o', 'b', 'a'};
    memset(secret, 0xff, sizeof secret);
    ses_code_format(code, kt, secret);
    assert_string_equal(code, "MZXW6YTB-77777777777777777777777774");
    assert_int_equal(ses_code_parse(t2, s2, code), 0);
    assert_memory_equal(t2, kt, 5);
    assert_memory_equal(s2, secret, 16);

    for (int rep = 0; rep < 100; rep++) {
        char variant[64];
        randombytes_buf(ticket, sizeof ticket);
        randombytes_buf(secret, sizeof secret);
        ses_code_format(code, ticket, secret);
        assert_int_equal(strlen(code), SES_CODE_TEXT_LEN);
        assert_int_equal(code[8], '-');
        assert_true(all_in(code, 8, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"));
        assert_true(all_in(code + 9, 26, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"));

        memset(t2, 0, sizeof t2);
        memset(s2, 0, sizeof s2);
        assert_int_equal(ses_code_parse(t2, s2, code), 0);
        assert_memory_equal(t2, ticket, sizeof ticket);
        assert_memory_equal(s2, secret, sizeof secret);

        /* without the dash */
        memcpy(variant, code, 8);
        memcpy(variant + 8, code + 9, 27);
        memset(t2, 0, sizeof t2);
        memset(s2, 0, sizeof s2);
        assert_int_equal(ses_code_parse(t2, s2, variant), 0);
        assert_memory_equal(t2, ticket, sizeof ticket);
        assert_memory_equal(s2, secret, sizeof secret);

        /* lower case, with and without the dash */
        for (size_t k = 0; k <= SES_CODE_TEXT_LEN; k++)
            variant[k] = (char)(code[k] >= 'A' && code[k] <= 'Z' ? code[k] + 32 : code[k]);
        memset(t2, 0, sizeof t2);
        memset(s2, 0, sizeof s2);
        assert_int_equal(ses_code_parse(t2, s2, variant), 0);
        assert_memory_equal(t2, ticket, sizeof ticket);
        assert_memory_equal(s2, secret, sizeof secret);
        memmove(variant + 8, variant + 9, 27);
        assert_int_equal(ses_code_parse(t2, s2, variant), 0);
        assert_memory_equal(t2, ticket, sizeof ticket);
        assert_memory_equal(s2, secret, sizeof secret);
    }
}

static void test_code_parse_invalid(void **state)
{
    (void)state;
    uint8_t t[SES_CODE_TICKET_BYTES], s[SES_CODE_SECRET_BYTES];
    static const char *const bad[] = {
        "",
        "-",
        "AAAAAAAA",
        "AAAAAAAA-",
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAA",   /* secret 25 */
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAAA", /* secret 27 */
        "AAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAAA",  /* ticket 7, 34 characters in all */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",    /* 33 without the dash */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",  /* 35 without the dash */
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAA--AAAAAAAAAAAAAAAAAAAAAAAAAA",  /* two dashes */
        "AAAAAAAA-AAAAAAAAAAAAAA-AAAAAAAAAAAA",  /* a second dash elsewhere */
        "AAAA-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* dash in the wrong place */
        "-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",   /* leading dash */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-",   /* trailing dash */
        "AAAAAAA1-AAAAAAAAAAAAAAAAAAAAAAAAAA",   /* 1 is not base32 */
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAA0",   /* 0 is not base32 */
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAA8",   /* 8 is not base32 */
        "AAAAAAAA AAAAAAAAAAAAAAAAAAAAAAAAAA",   /* space for the dash */
        "AAAAAAAA_AAAAAAAAAAAAAAAAAAAAAAAAAA",   /* underscore for the dash */
        " AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAA",  /* surrounding white space */
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAA\n", /* trailing newline */
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAB",   /* secret: non-canonical trailing bits */
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAA7",   /* likewise */
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAA\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ses_code_parse(t, s, bad[i]), SES_ECODE_INVALID);
    assert_int_equal(ses_code_parse(t, s, NULL), SES_ECODE_INVALID);
    /* the last secret character holds 3 bits + 2 zero bits: E (00100) is canonical */
    assert_int_equal(ses_code_parse(t, s, "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAE"), 0);
    assert_int_equal(s[15], 0x01);
}

/* --- errors ---------------------------------------------------------------------------------- */

struct err_entry {
    const char *name;
    int num;
    const char *msg;
    int enum_value;
};
static const struct err_entry err_table[] = {
#define XX(name, num, msg) {#name, num, msg, SES_E##name},
    SES_ERR_MAP(XX)
#undef XX
};
#define ERR_COUNT (sizeof err_table / sizeof err_table[0])

static void test_err_table(void **state)
{
    (void)state;
    assert_int_equal(ERR_COUNT, 48);
    for (size_t i = 0; i < ERR_COUNT; i++) {
        const struct err_entry *e = &err_table[i];
        assert_true(e->num < 0);
        assert_int_equal(e->enum_value, e->num);
        /* stable numbering: the table is -1, -2, ... in order, never reused */
        assert_int_equal(e->num, -(int)(i + 1));
        assert_true(strlen(e->name) > 0);
        assert_true(strlen(e->msg) > 0);
        assert_string_equal(ses_err_name(e->num), e->name);
        assert_string_equal(ses_err_msg(e->num), e->msg);
        assert_int_equal(ses_err_from_name(e->name), e->num);
        for (size_t j = 0; j < i; j++) {
            assert_string_not_equal(err_table[j].name, e->name);
            assert_int_not_equal(err_table[j].num, e->num);
        }
    }
    /* a few pinned by PROTOCOL.md */
    assert_int_equal(SES_EBAD_JSON, -1);
    assert_int_equal(SES_EBAD_FRAME, -2);
    assert_int_equal(SES_ETOO_DEEP, -7);
    assert_int_equal(SES_EAUTH_FAILED, -10);
    assert_int_equal(SES_ECODE_LOCKED, -17);
    assert_int_equal(SES_EUNSUPPORTED, -23);
    assert_int_equal(SES_EEXISTS, -29);
    assert_int_equal(SES_EBAD_SIGNATURE, -30);
    assert_int_equal(SES_EINNER_MISMATCH, -37);
    assert_int_equal(SES_EUNKNOWN_ALERT_TYPE, -38);
    assert_int_equal(SES_EBAD_SCALE, -43);
    assert_int_equal(SES_ENOTE_REQUIRED, -44);
    assert_int_equal(SES_EOUTCOME_CONFLICT, -45);
    assert_int_equal(SES_ESTORAGE_FULL, -47);
    assert_int_equal(SES_EROSTER_BROKEN, -48);
    assert_string_equal(ses_err_name(SES_ETOO_LARGE), "TOO_LARGE");
}

static void test_err_unknown(void **state)
{
    (void)state;
    static const int unknown[] = {1, 2, 100, -49, -50, -1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_string_equal(ses_err_name(unknown[i]), "UNKNOWN");
        assert_string_equal(ses_err_msg(unknown[i]), "unknown error");
    }
    assert_string_equal(ses_err_name(0), "OK");
    assert_string_equal(ses_err_msg(0), "ok");
    static const char *const names[] = {"UNKNOWN",   "OK",  "",  "bad_json",
                                        "BAD_JSON ", "BAD", "E", "SES_EBAD_JSON"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_int_equal(ses_err_from_name(names[i]), 0);
    assert_int_equal(ses_err_from_name(NULL), 0);
}

/* Every row "| -N | NAME | ..." of PROTOCOL.md's error table names the same number as err.h. */
static void test_err_table_matches_protocol_md(void **state)
{
    (void)state;
    FILE *f = fopen(SESAME_PROTOCOL_MD, "r");
    assert_non_null(f);
    char line[512];
    int rows = 0;
    while (fgets(line, sizeof line, f)) {
        int num;
        char name[64];
        if (sscanf(line, "| %d | %63[A-Z_] |", &num, name) == 2) {
            assert_int_equal(ses_err_from_name(name), num);
            rows++;
        }
    }
    fclose(f);
    assert_int_equal(rows, 42); /* -1..-23, -30..-48; -24..-29 are one row of local-only errors */
}

/* --- roles ----------------------------------------------------------------------------------- */

static void test_roles(void **state)
{
    (void)state;
    static const struct {
        enum ses_role role;
        const char *name;
    } r[] = {
        {SES_ROLE_ADMIN, "admin"},
        {SES_ROLE_NURSE, "nurse"},
        {SES_ROLE_PSYCHIATRIST, "psychiatrist"},
        {SES_ROLE_GP, "gp"},
        {SES_ROLE_AUDITOR, "auditor"},
    };
    for (size_t i = 0; i < sizeof r / sizeof r[0]; i++) {
        assert_string_equal(ses_role_name(r[i].role), r[i].name);
        assert_int_equal(ses_role_from_name(r[i].name), r[i].role);
    }
    assert_int_equal(SES_ROLE_COUNT, 6);
    assert_string_equal(ses_role_name(SES_ROLE_NONE), "none");
    assert_string_equal(ses_role_name((enum ses_role)SES_ROLE_COUNT), "none");
    assert_string_equal(ses_role_name((enum ses_role)100), "none");
    assert_string_equal(ses_role_name((enum ses_role) - 1), "none");
    static const char *const unknown[] = {"none",   "root", "",  "Admin",  "ADMIN",
                                          "admin ", " gp",  "g", "nurses", "superuser"};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        assert_int_equal(ses_role_from_name(unknown[i]), SES_ROLE_NONE);
    assert_int_equal(ses_role_from_name(NULL), SES_ROLE_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b32_len),
        cmocka_unit_test(test_b32_round_trip),
        cmocka_unit_test(test_b32_rfc4648_vectors),
        cmocka_unit_test(test_b32_encode_capacity),
        cmocka_unit_test(test_b32_decode_strict),
        cmocka_unit_test(test_b32_decode_case_insensitive),
        cmocka_unit_test(test_id_text),
        cmocka_unit_test(test_b64_round_trip),
        cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_b64_decode_strict),
        cmocka_unit_test(test_b64url_boundaries),
        cmocka_unit_test(test_b64_decode_matches_libsodium),
        cmocka_unit_test(test_code_format_parse),
        cmocka_unit_test(test_code_parse_invalid),
        cmocka_unit_test(test_err_table),
        cmocka_unit_test(test_err_unknown),
        cmocka_unit_test(test_err_table_matches_protocol_md),
        cmocka_unit_test(test_roles),
    };
    return cmocka_run_group_tests_name("encode", tests, setup, NULL);
}
