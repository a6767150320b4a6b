/*
 * test_transcript.c - known-answer tests of the signed transcripts (transcript.h, PROTOCOL.md
 * section 5) against protocol/vectors/transcripts.json: keys from fixed seeds, kid16, login and
 * enrolment transcript bytes, Ed25519 signatures, their text forms and the sample wire frames.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/transcript.h"

#define VECTORS_FILE SESAME_VECTORS_DIR "/transcripts.json"

static json_t *g_root;

static int setup(void **state)
{
    (void)state;
    json_error_t jerr;
    if (sodium_init() < 0)
        return -1;
    g_root = json_load_file(VECTORS_FILE, JSON_REJECT_DUPLICATES, &jerr);
    if (g_root == NULL) {
        fprintf(stderr, "%s:%d: %s\n", VECTORS_FILE, jerr.line, jerr.text);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(g_root);
    return 0;
}

static json_t *vectors(void)
{
    json_t *a = json_object_get(g_root, "vectors");
    assert_true(json_is_array(a));
    return a;
}

/* obj[key] (a '/'-separated path) as a string; fails the test if absent. */
static const char *str_at(const json_t *obj, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const json_t *v = obj;
    for (char *save = NULL, *k = strtok_r(buf, "/", &save); k; k = strtok_r(NULL, "/", &save))
        v = json_object_get(v, k);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

/* Decodes the hex at path into exactly n bytes (strict: the whole string, lower-case). */
static void hex_at(const json_t *obj, const char *path, uint8_t *out, size_t n)
{
    const char *h = str_at(obj, path);
    size_t got = 0;
    const char *end = NULL;
    assert_int_equal(strlen(h), 2 * n);
    for (const char *p = h; *p; p++)
        assert_non_null(strchr("0123456789abcdef", *p));
    assert_int_equal(sodium_hex2bin(out, n, h, 2 * n, NULL, &got, &end), 0);
    assert_int_equal(got, n);
    assert_ptr_equal(end, h + 2 * n);
}

struct vec {
    const json_t *json;
    uint8_t sign_seed[32], box_seed[32], server_seed[32], snonce[32], cnonce[32];
    uint8_t device_id[16], ticket[5], secret[16];
    uint64_t ts_ms;
    uint8_t sign_pk[32], sign_sk[64], box_pk[32], box_sk[32], server_pk[32], server_sk[64];
};

static void load_vec(const json_t *j, struct vec *v)
{
    memset(v, 0, sizeof *v);
    v->json = j;
    hex_at(j, "inputs/sign_seed", v->sign_seed, 32);
    hex_at(j, "inputs/box_seed", v->box_seed, 32);
    hex_at(j, "inputs/server_seed", v->server_seed, 32);
    hex_at(j, "inputs/snonce", v->snonce, 32);
    hex_at(j, "inputs/cnonce", v->cnonce, 32);
    hex_at(j, "inputs/device_id", v->device_id, 16);
    hex_at(j, "inputs/ticket", v->ticket, 5);
    hex_at(j, "inputs/secret", v->secret, 16);
    const char *ts = str_at(j, "inputs/ts_ms");
    char *end = NULL;
    assert_true(ts[0] >= '0' && ts[0] <= '9');
    v->ts_ms = strtoull(ts, &end, 10);
    assert_true(*end == '\0');
    crypto_sign_seed_keypair(v->sign_pk, v->sign_sk, v->sign_seed);
    crypto_box_seed_keypair(v->box_pk, v->box_sk, v->box_seed);
    crypto_sign_seed_keypair(v->server_pk, v->server_sk, v->server_seed);
}

static void wipe_vec(struct vec *v)
{
    sodium_memzero(v, sizeof *v);
}

/* --- the file itself ------------------------------------------------------------------------- */

static void test_file_shape(void **state)
{
    (void)state;
    assert_string_equal(str_at(g_root, "format"), "sesame transcript vectors v1");
    json_t *a = vectors();
    assert_true(json_array_size(a) >= 2);
    size_t i, j;
    json_t *v, *w;
    json_array_foreach(a, i, v)
    {
        /* names unique */
        json_array_foreach(a, j, w)
        {
            if (j < i)
                assert_string_not_equal(str_at(v, "name"), str_at(w, "name"));
        }
        /* the lengths in the file are the library's */
        assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "login"), "len")),
                         SES_LOGIN_TRANSCRIPT_LEN);
        assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "enroll"), "len")),
                         SES_ENROLL_TRANSCRIPT_LEN);
    }
    /* the layout of PROTOCOL.md section 5, counted by hand */
    assert_int_equal(SES_LOGIN_TRANSCRIPT_LEN, 16 + 16 + 32 + 32 + 16 + 8);
    assert_int_equal(SES_LOGIN_TRANSCRIPT_LEN, 120);
    assert_int_equal(SES_ENROLL_TRANSCRIPT_LEN, 17 + 16 + 32 + 5 + 32 + 32 + 8);
    assert_int_equal(SES_ENROLL_TRANSCRIPT_LEN, 142);
}

/* The inputs follow the documented pattern: consecutive slices of b(k) = start + step*k mod 256
 * (README.md), so another implementation can regenerate them without the file. */
static void test_inputs_follow_pattern(void **state)
{
    (void)state;
    static const struct {
        const char *key;
        size_t n;
    } order[] = {{"sign_seed", 32}, {"box_seed", 32},  {"server_seed", 32}, {"snonce", 32},
                 {"cnonce", 32},    {"device_id", 16}, {"ticket", 5},       {"secret", 16}};
    size_t i;
    json_t *v;
    json_array_foreach(vectors(), i, v)
    {
        json_t *p = json_object_get(v, "pattern");
        json_int_t start = json_integer_value(json_object_get(p, "start"));
        json_int_t step = json_integer_value(json_object_get(p, "step"));
        assert_true(json_is_integer(json_object_get(p, "start")));
        assert_true(json_is_integer(json_object_get(p, "step")));
        unsigned k = 0;
        for (size_t f = 0; f < sizeof order / sizeof order[0]; f++) {
            char path[64];
            uint8_t got[32];
            snprintf(path, sizeof path, "inputs/%s", order[f].key);
            hex_at(v, path, got, order[f].n);
            for (size_t b = 0; b < order[f].n; b++, k++)
                assert_int_equal(got[b], (uint8_t)((start + step * (json_int_t)k) & 0xff));
        }
        /* ts_be is ts_ms big-endian */
        struct vec vec;
        uint8_t be[8];
        load_vec(v, &vec);
        hex_at(v, "inputs/ts_be", be, 8);
        uint64_t ts = 0;
        for (int b = 0; b < 8; b++)
            ts = ts << 8 | be[b];
        assert_true(ts == vec.ts_ms);
        wipe_vec(&vec);
    }
}

/* At least one vector has a time whose 8 bytes are all distinct (catches byte-order bugs). */
static void test_endianness_coverage(void **state)
{
    (void)state;
    int found = 0;
    size_t i;
    json_t *v;
    json_array_foreach(vectors(), i, v)
    {
        uint8_t be[8];
        hex_at(v, "inputs/ts_be", be, 8);
        int distinct = 1;
        for (int a = 0; a < 8; a++)
            for (int b = 0; b < a; b++)
                if (be[a] == be[b])
                    distinct = 0;
        found |= distinct && be[0] != 0;
    }
    assert_true(found);
}

/* --- keys ------------------------------------------------------------------------------------ */

static void test_keys_and_kid(void **state)
{
    (void)state;
    size_t i;
    json_t *j;
    json_array_foreach(vectors(), i, j)
    {
        struct vec v;
        uint8_t want[32], kid[16], ref[16], buf[14 + 32];
        load_vec(j, &v);
        hex_at(j, "keys/sign_pk", want, 32);
        assert_memory_equal(v.sign_pk, want, 32);
        hex_at(j, "keys/box_pk", want, 32);
        assert_memory_equal(v.box_pk, want, 32);
        hex_at(j, "keys/server_pk", want, 32);
        assert_memory_equal(v.server_pk, want, 32);

        /* kid16 of the device signing key and of the server key (= server_id) */
        ses_kid16(kid, v.sign_pk, 32);
        hex_at(j, "keys/sign_kid16", want, 16);
        assert_memory_equal(kid, want, 16);
        /* the same by hand: BLAKE2b-128 of "sesame/v1/kid" NUL pk, unkeyed */
        assert_int_equal(sizeof SES_CTX_KID, 14);
        memcpy(buf, "sesame/v1/kid\0", 14);
        memcpy(buf + 14, v.sign_pk, 32);
        crypto_generichash(ref, 16, buf, sizeof buf, NULL, 0);
        assert_memory_equal(kid, ref, 16);

        ses_kid16(kid, v.server_pk, 32);
        hex_at(j, "keys/server_id", want, 16);
        assert_memory_equal(kid, want, 16);
        wipe_vec(&v);
    }
}

/* --- transcripts ----------------------------------------------------------------------------- */

/* The login transcript assembled field by field, independently of transcript.c. */
static void login_by_hand(uint8_t out[120], const struct vec *v, const uint8_t server_id[16])
{
    uint8_t *p = out;
    memcpy(p, "sesame/v1/login", 15);
    p[15] = 0;
    p += 16;
    memcpy(p, server_id, 16);
    p += 16;
    memcpy(p, v->snonce, 32);
    p += 32;
    memcpy(p, v->cnonce, 32);
    p += 32;
    memcpy(p, v->device_id, 16);
    p += 16;
    for (int i = 0; i < 8; i++)
        *p++ = (uint8_t)(v->ts_ms >> (56 - 8 * i));
    assert_int_equal(p - out, 120);
}

static void enroll_by_hand(uint8_t out[142], const struct vec *v, const uint8_t server_id[16])
{
    uint8_t *p = out;
    memcpy(p, "sesame/v1/enroll", 16);
    p[16] = 0;
    p += 17;
    memcpy(p, server_id, 16);
    p += 16;
    memcpy(p, v->snonce, 32);
    p += 32;
    memcpy(p, v->ticket, 5);
    p += 5;
    memcpy(p, v->sign_pk, 32);
    p += 32;
    memcpy(p, v->box_pk, 32);
    p += 32;
    for (int i = 0; i < 8; i++)
        *p++ = (uint8_t)(v->ts_ms >> (56 - 8 * i));
    assert_int_equal(p - out, 142);
}

/* Every single-byte change of msg (each bit 0 and bit 7 flip) or of sig must fail to verify. */
static void check_tamper(const uint8_t *msg, size_t len, const uint8_t sig[64],
                         const uint8_t pk[32])
{
    uint8_t m[256], s[64];
    assert_true(len <= sizeof m);
    memcpy(m, msg, len);
    memcpy(s, sig, 64);
    assert_int_equal(ses_verify(s, m, len, pk), 0);
    for (size_t i = 0; i < len; i++) {
        static const uint8_t masks[] = {0x01, 0x80, 0xff};
        for (size_t k = 0; k < sizeof masks; k++) {
            m[i] ^= masks[k];
            assert_int_equal(ses_verify(s, m, len, pk), SES_EAUTH_FAILED);
            m[i] ^= masks[k];
        }
    }
    for (size_t i = 0; i < 64; i++) {
        s[i] ^= 0x01;
        assert_int_equal(ses_verify(s, m, len, pk), SES_EAUTH_FAILED);
        s[i] ^= 0x01;
    }
    /* truncated or extended message */
    assert_int_equal(ses_verify(s, m, len - 1, pk), SES_EAUTH_FAILED);
    m[len] = 0;
    assert_int_equal(ses_verify(s, m, len + 1, pk), SES_EAUTH_FAILED);
    assert_int_equal(ses_verify(s, m, len, pk), 0);
}

static void test_login_transcript(void **state)
{
    (void)state;
    size_t i;
    json_t *j;
    json_array_foreach(vectors(), i, j)
    {
        struct vec v;
        uint8_t server_id[16], t[SES_LOGIN_TRANSCRIPT_LEN], want[SES_LOGIN_TRANSCRIPT_LEN];
        uint8_t hand[120], sig[64], want_sig[64];
        load_vec(j, &v);
        hex_at(j, "keys/server_id", server_id, 16);
        memset(t, 0xEE, sizeof t);
        ses_transcript_login(t, server_id, v.snonce, v.cnonce, v.device_id, v.ts_ms);
        hex_at(j, "login/transcript", want, sizeof want);
        assert_memory_equal(t, want, sizeof t);
        login_by_hand(hand, &v, server_id);
        assert_memory_equal(t, hand, sizeof t);
        /* context string and its NUL first; time big-endian last */
        assert_memory_equal(t, "sesame/v1/login\0", 16);
        uint8_t be[8];
        hex_at(j, "inputs/ts_be", be, 8);
        assert_memory_equal(t + 112, be, 8);

        ses_sign(sig, t, sizeof t, v.sign_sk);
        hex_at(j, "login/sig", want_sig, 64);
        assert_memory_equal(sig, want_sig, 64); /* Ed25519 is deterministic */
        assert_int_equal(ses_verify(want_sig, t, sizeof t, v.sign_pk), 0);
        check_tamper(t, sizeof t, want_sig, v.sign_pk);
        /* not with the server's key, nor the box key read as a signing key */
        assert_int_equal(ses_verify(want_sig, t, sizeof t, v.server_pk), SES_EAUTH_FAILED);
        assert_int_equal(ses_verify(want_sig, t, sizeof t, v.box_pk), SES_EAUTH_FAILED);
        wipe_vec(&v);
    }
}

static void test_enroll_transcript(void **state)
{
    (void)state;
    size_t i;
    json_t *j;
    json_array_foreach(vectors(), i, j)
    {
        struct vec v;
        uint8_t server_id[16], t[SES_ENROLL_TRANSCRIPT_LEN], want[SES_ENROLL_TRANSCRIPT_LEN];
        uint8_t hand[142], sig[64], want_sig[64];
        load_vec(j, &v);
        hex_at(j, "keys/server_id", server_id, 16);
        memset(t, 0xEE, sizeof t);
        ses_transcript_enroll(t, server_id, v.snonce, v.ticket, v.sign_pk, v.box_pk, v.ts_ms);
        hex_at(j, "enroll/transcript", want, sizeof want);
        assert_memory_equal(t, want, sizeof t);
        enroll_by_hand(hand, &v, server_id);
        assert_memory_equal(t, hand, sizeof t);
        assert_memory_equal(t, "sesame/v1/enroll\0", 17);
        uint8_t be[8];
        hex_at(j, "inputs/ts_be", be, 8);
        assert_memory_equal(t + 134, be, 8);

        ses_sign(sig, t, sizeof t, v.sign_sk);
        hex_at(j, "enroll/sig", want_sig, 64);
        assert_memory_equal(sig, want_sig, 64);
        assert_int_equal(ses_verify(want_sig, t, sizeof t, v.sign_pk), 0);
        check_tamper(t, sizeof t, want_sig, v.sign_pk);
        assert_int_equal(ses_verify(want_sig, t, sizeof t, v.server_pk), SES_EAUTH_FAILED);
        wipe_vec(&v);
    }
}

/* Signatures do not cross over: a login signature is no enrolment signature and vectors differ. */
static void test_domain_separation(void **state)
{
    (void)state;
    json_t *a = vectors();
    size_t n = json_array_size(a);
    for (size_t x = 0; x < n; x++) {
        struct vec v;
        uint8_t login[120], enroll[142], lsig[64], esig[64];
        load_vec(json_array_get(a, x), &v);
        hex_at(v.json, "login/transcript", login, sizeof login);
        hex_at(v.json, "enroll/transcript", enroll, sizeof enroll);
        hex_at(v.json, "login/sig", lsig, 64);
        hex_at(v.json, "enroll/sig", esig, 64);
        assert_memory_not_equal(lsig, esig, 64);
        assert_int_equal(ses_verify(lsig, enroll, sizeof enroll, v.sign_pk), SES_EAUTH_FAILED);
        assert_int_equal(ses_verify(esig, login, sizeof login, v.sign_pk), SES_EAUTH_FAILED);
        for (size_t y = 0; y < n; y++) {
            if (y == x)
                continue;
            struct vec w;
            load_vec(json_array_get(a, y), &w);
            assert_memory_not_equal(v.sign_pk, w.sign_pk, 32);
            assert_int_equal(ses_verify(lsig, login, sizeof login, w.sign_pk), SES_EAUTH_FAILED);
            assert_int_equal(ses_verify(esig, enroll, sizeof enroll, w.sign_pk), SES_EAUTH_FAILED);
            wipe_vec(&w);
        }
        wipe_vec(&v);
    }
}

/* --- text forms and frames ------------------------------------------------------------------- */

static void check_b64(const json_t *j, const char *path, const uint8_t *bin, size_t n)
{
    char buf[128];
    assert_int_equal(ses_b64_encode(buf, sizeof buf, bin, n), 0);
    assert_string_equal(str_at(j, path), buf);
}

static void test_text_forms(void **state)
{
    (void)state;
    size_t i;
    json_t *j;
    json_array_foreach(vectors(), i, j)
    {
        struct vec v;
        uint8_t b[64];
        char id[SES_ID_TEXT_LEN + 1], code[SES_CODE_TEXT_LEN + 1];
        load_vec(j, &v);
        ses_id_to_text(id, v.device_id);
        assert_string_equal(str_at(j, "text/device_id"), id);
        ses_code_format(code, v.ticket, v.secret);
        assert_string_equal(str_at(j, "text/code"), code);
        check_b64(j, "text/sign_pk", v.sign_pk, 32);
        check_b64(j, "text/box_pk", v.box_pk, 32);
        hex_at(j, "keys/server_id", b, 16);
        check_b64(j, "text/server_id", b, 16);
        check_b64(j, "text/snonce", v.snonce, 32);
        check_b64(j, "text/cnonce", v.cnonce, 32);
        hex_at(j, "login/sig", b, 64);
        check_b64(j, "text/login_sig", b, 64);
        hex_at(j, "enroll/sig", b, 64);
        check_b64(j, "text/enroll_sig", b, 64);
        wipe_vec(&v);
    }
}

/* The sample frames decode to the inputs and their signatures verify over recomputed transcripts,
 * exactly as sesamed does it. Frames exist only where ts fits a JavaScript number. */
static void test_frames(void **state)
{
    (void)state;
    size_t i, with_frames = 0;
    json_t *j;
    json_array_foreach(vectors(), i, j)
    {
        json_t *frames = json_object_get(j, "frames");
        struct vec v;
        load_vec(j, &v);
        if (frames == NULL) {
            assert_true(v.ts_ms > (uint64_t)SES_REQUEST_ID_MAX);
            wipe_vec(&v);
            continue;
        }
        with_frames++;
        uint8_t server_id[16], sig[64];
        hex_at(j, "keys/server_id", server_id, 16);

        /* auth */
        const char *text = str_at(frames, "auth");
        struct ses_frame f;
        struct ses_auth_req a;
        int64_t id;
        assert_int_equal(ses_frame_parse(text, strlen(text), SES_MAX_PREAUTH_FRAME, &f, &id), 0);
        assert_string_equal(f.type, "auth");
        assert_int_equal(id, 1);
        assert_int_equal(ses_decode_auth(f.root, &a), 0);
        assert_memory_equal(a.device_id, v.device_id, 16);
        assert_memory_equal(a.snonce, v.snonce, 32);
        assert_memory_equal(a.cnonce, v.cnonce, 32);
        assert_true(a.ts_ms == v.ts_ms);
        hex_at(j, "login/sig", sig, 64);
        assert_memory_equal(a.sig, sig, 64);
        uint8_t lt[SES_LOGIN_TRANSCRIPT_LEN];
        ses_transcript_login(lt, server_id, a.snonce, a.cnonce, a.device_id, a.ts_ms);
        assert_int_equal(ses_verify(a.sig, lt, sizeof lt, v.sign_pk), 0);
        /* the same frame on another connection (another snonce) does not verify */
        lt[16 + 16] ^= 1;
        assert_int_equal(ses_verify(a.sig, lt, sizeof lt, v.sign_pk), SES_EAUTH_FAILED);
        ses_frame_free(&f);

        /* enroll */
        text = str_at(frames, "enroll");
        struct ses_enroll_req e;
        assert_int_equal(ses_frame_parse(text, strlen(text), SES_MAX_PREAUTH_FRAME, &f, &id), 0);
        assert_string_equal(f.type, "enroll");
        assert_int_equal(ses_decode_enroll(f.root, &e), 0);
        assert_memory_equal(e.ticket, v.ticket, 5);
        assert_memory_equal(e.secret, v.secret, 16);
        assert_memory_equal(e.sign_pk, v.sign_pk, 32);
        assert_memory_equal(e.box_pk, v.box_pk, 32);
        assert_true(e.ts_ms == v.ts_ms);
        assert_string_equal(e.device_name, "practice PC");
        hex_at(j, "enroll/sig", sig, 64);
        assert_memory_equal(e.sig, sig, 64);
        uint8_t et[SES_ENROLL_TRANSCRIPT_LEN];
        ses_transcript_enroll(et, server_id, v.snonce, e.ticket, e.sign_pk, e.box_pk, e.ts_ms);
        assert_int_equal(ses_verify(e.sig, et, sizeof et, e.sign_pk), 0);
        sodium_memzero(&e, sizeof e);
        ses_frame_free(&f);
        wipe_vec(&v);
    }
    assert_true(with_frames >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_shape),
        cmocka_unit_test(test_inputs_follow_pattern),
        cmocka_unit_test(test_endianness_coverage),
        cmocka_unit_test(test_keys_and_kid),
        cmocka_unit_test(test_login_transcript),
        cmocka_unit_test(test_enroll_transcript),
        cmocka_unit_test(test_domain_separation),
        cmocka_unit_test(test_text_forms),
        cmocka_unit_test(test_frames),
    };
    return cmocka_run_group_tests_name("transcript", tests, setup, teardown);
}
