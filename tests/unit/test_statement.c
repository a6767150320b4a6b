/*
 * test_statement.c - the stage-2 signed statements (statement.h, PROTOCOL.md section 17): round
 * trips of the five kinds, every parse refusal at its boundary (sizes, context, counts, order,
 * ranges), signatures by the wrong key, every single-byte change of a signed statement, the
 * roster hash, the roster chain's rules, and the validity window of a mailbox key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "sesame/err.h"
#include "sesame/roles.h"
#include "sesame/statement.h"

/* --- keys and ids ------------------------------------------------------------------------------
 */

struct key {
    uint8_t id[16], pk[32], sk[64];
};

enum { A, B, C, D, E, M, A2, S, NKEYS }; /* nurses A, B; psychiatrist C; GPs D, E; M; A's 2nd */
static struct key k[NKEYS];
static struct ses_trusted_ik rows[NKEYS];
static struct ses_trusted_ik_list trusted;

static const uint8_t THREAD[16] = "thread-one-00001";

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    for (int i = 0; i < NKEYS; i++) {
        uint8_t seed[32];
        char label[32];
        int n = snprintf(label, sizeof label, "test_statement/%d", i);
        crypto_generichash(seed, sizeof seed, (const uint8_t *)label, (unsigned long long)n, NULL,
                           0);
        crypto_sign_seed_keypair(k[i].pk, k[i].sk, seed);
        memset(k[i].id, 0, 16);
        k[i].id[0] = (uint8_t)(0x10 * ((i == A2 ? A : i) + 1)); /* ascending with i */
        k[i].id[15] = 0x5a;
    }
    for (int i = 0; i <= M; i++) {
        memcpy(rows[i].user_id, k[i].id, 16);
        memcpy(rows[i].ik_pk, k[i].pk, 32);
    }
    trusted.rows = rows;
    trusted.n = M + 1;
    return 0;
}

/* --- builders ----------------------------------------------------------------------------------
 */

static struct ses_stmt_roster roster(uint32_t version, const uint8_t *prev, const int *who,
                                     const uint8_t *roles, size_t n, int signer)
{
    struct ses_stmt_roster r;
    memset(&r, 0, sizeof r);
    memcpy(r.thread_id, THREAD, 16);
    r.version = version;
    if (prev != NULL)
        memcpy(r.prev_hash, prev, 32);
    r.visibility = SES_ROSTER_SHARED;
    r.n_members = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        memcpy(r.members[i].user_id, k[who[i]].id, 16);
        r.members[i].role = roles[i];
    }
    r.created_ms = 1767225600123ULL + version;
    memcpy(r.signer_user_id, k[signer].id, 16);
    return r;
}

struct blob {
    uint8_t b[SES_STMT_MAX_BYTES + 32];
    size_t n;
};

static void sign_roster(struct blob *o, const struct ses_stmt_roster *r, int key)
{
    assert_int_equal(ses_stmt_roster_sign(r, k[key].sk, o->b, sizeof o->b, &o->n), 0);
    assert_int_equal(o->n, SES_STMT_ROSTER_BYTES(r->n_members));
}

/* A roster's bytes written by hand with any count byte and n_written members (ids 0x08 (i+1)),
 * signed by A: for the counts the encoder refuses. */
static void hand_roster(struct blob *o, uint8_t count, size_t n_written)
{
    size_t p = 0;
    memcpy(o->b, SES_CTX_STMT_ROSTER, sizeof SES_CTX_STMT_ROSTER);
    p += sizeof SES_CTX_STMT_ROSTER;
    memcpy(o->b + p, THREAD, 16);
    p += 16;
    o->b[p++] = 0, o->b[p++] = 0, o->b[p++] = 0, o->b[p++] = 1; /* version 1 */
    memset(o->b + p, 0, 32);
    p += 32;
    o->b[p++] = SES_ROSTER_SHARED;
    o->b[p++] = count;
    for (size_t i = 0; i < n_written; i++) {
        memset(o->b + p, 0, 16);
        o->b[p] = (uint8_t)(0x08 * (i + 1));
        p += 16;
        o->b[p++] = SES_ROLE_NURSE;
    }
    memset(o->b + p, 0, 8);
    p += 8;
    memset(o->b + p, 0, 16);
    o->b[p] = 0x08; /* the first member signs */
    p += 16;
    crypto_sign_detached(o->b + p, NULL, o->b, p, k[A].sk);
    o->n = p + 64;
}

/* Signs blob[0..n-64) again with key (after a change to the signed bytes). */
static void resign(struct blob *o, int key)
{
    crypto_sign_detached(o->b + o->n - 64, NULL, o->b, o->n - 64, k[key].sk);
}

/* --- round trips -------------------------------------------------------------------------------
 */

static void identity_round_trip(void **state)
{
    (void)state;
    struct ses_stmt_identity s, back;
    memset(&s, 0, sizeof s);
    memcpy(s.user_id, k[A].id, 16);
    memcpy(s.ik_pk, k[A].pk, 32);
    s.serial = 1;
    s.created_ms = 0x0102030405060708ULL;
    uint8_t enc[200], out[200];
    size_t elen = 0, olen = 0;
    assert_int_equal(ses_stmt_identity_encode(&s, enc, sizeof enc, &elen), 0);
    assert_int_equal(elen, SES_STMT_IDENTITY_BYTES - 64);
    assert_memory_equal(enc, "sesame/v2/identity", 19);
    assert_int_equal(enc[19 + 16 + 32 + 3], 1);    /* serial, big-endian */
    assert_int_equal(enc[19 + 16 + 32 + 4], 0x01); /* created_ms, big-endian */
    assert_int_equal(enc[19 + 16 + 32 + 4 + 7], 0x08);
    assert_int_equal(ses_stmt_identity_sign(&s, k[A].sk, out, sizeof out, &olen), 0);
    assert_int_equal(olen, SES_STMT_IDENTITY_BYTES);
    assert_memory_equal(out, enc, elen);
    assert_int_equal(ses_stmt_identity_parse(out, olen, &back), 0);
    assert_memory_equal(back.user_id, s.user_id, 16);
    assert_memory_equal(back.ik_pk, s.ik_pk, 32);
    assert_int_equal(back.serial, 1);
    assert_true(back.created_ms == s.created_ms);
    assert_memory_equal(back.sig, out + elen, 64);
    assert_int_equal(ses_stmt_identity_verify(out, olen, k[A].pk), 0);
    /* another key: the statement's own ik_pk is required, and the signature */
    assert_int_equal(ses_stmt_identity_verify(out, olen, k[B].pk), SES_EBAD_SIGNATURE);
    /* signing with a key that is not ik_pk's is refused */
    assert_int_equal(ses_stmt_identity_sign(&s, k[B].sk, out, sizeof out, &olen), SES_EINVALID_ARG);
    /* a statement signed by another key than the ik_pk it carries */
    uint8_t raw[SES_STMT_IDENTITY_BYTES];
    memcpy(raw, enc, elen);
    crypto_sign_detached(raw + elen, NULL, raw, elen, k[B].sk);
    assert_int_equal(ses_stmt_identity_verify(raw, sizeof raw, k[A].pk), SES_EBAD_SIGNATURE);
    assert_int_equal(ses_stmt_identity_verify(raw, sizeof raw, k[B].pk), SES_EBAD_SIGNATURE);
    /* serial 0 */
    s.serial = 0;
    assert_int_equal(ses_stmt_identity_encode(&s, enc, sizeof enc, &elen), SES_EBAD_FIELD);
    memcpy(raw, out, sizeof raw);
    memset(raw + 19 + 16 + 32, 0, 4);
    assert_int_equal(ses_stmt_identity_parse(raw, sizeof raw, &back), SES_EBAD_FIELD);
    s.serial = UINT32_MAX;
    assert_int_equal(ses_stmt_identity_sign(&s, k[A].sk, out, sizeof out, &olen), 0);
    assert_int_equal(ses_stmt_identity_parse(out, olen, &back), 0);
    assert_true(back.serial == UINT32_MAX);
    /* room */
    assert_int_equal(ses_stmt_identity_encode(&s, enc, SES_STMT_IDENTITY_BYTES - 65, &elen),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_stmt_identity_sign(&s, k[A].sk, out, SES_STMT_IDENTITY_BYTES - 1, &olen),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_stmt_identity_parse(NULL, 0, &back), SES_EINVALID_ARG);
}

static void device_vouch_round_trip(void **state)
{
    (void)state;
    struct ses_stmt_device d, db;
    memset(&d, 0, sizeof d);
    memcpy(d.user_id, k[A].id, 16);
    memset(d.device_id, 0xd1, 16);
    memcpy(d.sign_pk, k[M].pk, 32);
    memset(d.box_pk, 0xb0, 32);
    d.created_ms = 42;
    uint8_t out[300];
    size_t n = 0;
    assert_int_equal(ses_stmt_device_sign(&d, k[A].sk, out, sizeof out, &n), 0);
    assert_int_equal(n, SES_STMT_DEVICE_BYTES);
    assert_int_equal(ses_stmt_device_parse(out, n, &db), 0);
    assert_memory_equal(db.device_id, d.device_id, 16);
    assert_memory_equal(db.sign_pk, d.sign_pk, 32);
    assert_memory_equal(db.box_pk, d.box_pk, 32);
    assert_true(db.created_ms == 42);
    assert_int_equal(ses_stmt_device_verify(out, n, k[A].pk), 0);
    assert_int_equal(ses_stmt_device_verify(out, n, k[S].pk), SES_EBAD_SIGNATURE);
    /* a device minted by someone else's key (the server's) */
    assert_int_equal(ses_stmt_device_sign(&d, k[S].sk, out, sizeof out, &n), 0);
    assert_int_equal(ses_stmt_device_verify(out, n, k[A].pk), SES_EBAD_SIGNATURE);

    struct ses_stmt_vouch v, vb;
    memset(&v, 0, sizeof v);
    memcpy(v.voucher_user_id, k[B].id, 16);
    memcpy(v.subject_user_id, k[A2].id, 16);
    memcpy(v.subject_ik_pk, k[A2].pk, 32);
    v.subject_serial = 2;
    v.created_ms = 7;
    assert_int_equal(ses_stmt_vouch_sign(&v, k[B].sk, out, sizeof out, &n), 0);
    assert_int_equal(n, SES_STMT_VOUCH_BYTES);
    assert_int_equal(ses_stmt_vouch_parse(out, n, &vb), 0);
    assert_int_equal(vb.subject_serial, 2);
    assert_memory_equal(vb.subject_ik_pk, k[A2].pk, 32);
    assert_int_equal(ses_stmt_vouch_verify(out, n, k[B].pk), 0);
    assert_int_equal(ses_stmt_vouch_verify(out, n, k[A2].pk), SES_EBAD_SIGNATURE);
    v.subject_serial = 0;
    assert_int_equal(ses_stmt_vouch_sign(&v, k[B].sk, out, sizeof out, &n), SES_EBAD_FIELD);
}

static void mailbox_round_trip_and_window(void **state)
{
    (void)state;
    struct ses_stmt_mailbox m, mb;
    memset(&m, 0, sizeof m);
    memset(m.device_id, 0xd1, 16);
    memset(m.box_pk, 0xb1, 32);
    m.serial = 3;
    m.not_before_ms = 1000;
    m.not_after_ms = 2000;
    uint8_t out[200];
    size_t n = 0;
    assert_int_equal(ses_stmt_mailbox_sign(&m, k[M].sk, out, sizeof out, &n), 0);
    assert_int_equal(n, SES_STMT_MAILBOX_BYTES);
    assert_int_equal(ses_stmt_mailbox_parse(out, n, &mb), 0);
    assert_true(mb.not_before_ms == 1000 && mb.not_after_ms == 2000 && mb.serial == 3);
    assert_int_equal(ses_stmt_mailbox_verify(out, n, k[M].pk), 0);
    assert_int_equal(ses_stmt_mailbox_verify(out, n, k[A].pk), SES_EBAD_SIGNATURE);
    assert_false(ses_mailbox_valid_at(&mb, 999));
    assert_true(ses_mailbox_valid_at(&mb, 1000));
    assert_true(ses_mailbox_valid_at(&mb, 2000));
    assert_false(ses_mailbox_valid_at(&mb, 2001));
    assert_false(ses_mailbox_valid_at(NULL, 1500));
    /* not_before < not_after strictly; serial >= 1 */
    m.not_after_ms = 1000;
    assert_int_equal(ses_stmt_mailbox_encode(&m, out, sizeof out, &n), SES_EBAD_FIELD);
    m.not_after_ms = 2000;
    m.serial = 0;
    assert_int_equal(ses_stmt_mailbox_encode(&m, out, sizeof out, &n), SES_EBAD_FIELD);
    m.serial = 1;
    assert_int_equal(ses_stmt_mailbox_sign(&m, k[M].sk, out, sizeof out, &n), 0);
    /* on the wire: not_after = not_before (offset 18 + 16 + 32 + 4 + 8), signed again */
    struct blob b;
    memcpy(b.b, out, n);
    b.n = n;
    memcpy(b.b + 78, b.b + 70, 8);
    resign(&b, M);
    assert_int_equal(ses_stmt_mailbox_parse(b.b, b.n, &mb), SES_EBAD_FIELD);
}

static void roster_round_trip(void **state)
{
    (void)state;
    static const int who[] = {A, C, D};
    static const uint8_t roles[] = {2, 3, 4};
    struct ses_stmt_roster r = roster(1, NULL, who, roles, 3, A), back;
    struct blob b;
    sign_roster(&b, &r, A);
    assert_int_equal(b.n, 159 + 3 * 17);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &back), 0);
    assert_int_equal(back.n_members, 3);
    assert_int_equal(back.members[2].role, 4);
    assert_memory_equal(back.members[1].user_id, k[C].id, 16);
    assert_memory_equal(back.signer_user_id, k[A].id, 16);
    assert_int_equal(ses_stmt_roster_verify(b.b, b.n, k[A].pk), 0);
    assert_int_equal(ses_stmt_roster_verify(b.b, b.n, k[B].pk), SES_EBAD_SIGNATURE);
    uint8_t h[32], h2[32];
    assert_int_equal(ses_roster_stmt_hash(b.b, b.n, h), 0);
    crypto_generichash(h2, 32, b.b, b.n, NULL, 0);
    assert_memory_equal(h, h2, 32);
    assert_int_equal(ses_roster_stmt_hash(b.b, b.n - 1, h), SES_EBAD_FIELD);
    /* a version 2 round trip keeps its prev_hash */
    struct ses_stmt_roster r2 = roster(2, h2, who, roles, 3, A);
    sign_roster(&b, &r2, A);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &back), 0);
    assert_memory_equal(back.prev_hash, h2, 32);
    assert_int_equal(back.version, 2);
}

/* --- parse refusals ----------------------------------------------------------------------------
 */

static void roster_counts(void **state)
{
    (void)state;
    struct blob b;
    struct ses_stmt_roster out;
    hand_roster(&b, 0, 0);
    assert_int_equal(b.n, 159);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    hand_roster(&b, 1, 1);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), 0);
    assert_int_equal(ses_stmt_roster_verify(b.b, b.n, k[A].pk), 0);
    hand_roster(&b, 16, 16);
    assert_int_equal(b.n, SES_STMT_ROSTER_MAX_BYTES);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), 0);
    assert_int_equal(out.n_members, 16);
    hand_roster(&b, 17, 17);
    assert_int_equal(b.n, 159 + 17 * 17);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    /* the count and the length must agree */
    hand_roster(&b, 3, 2);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    hand_roster(&b, 2, 3);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    hand_roster(&b, 255, 16);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    /* the encoder refuses the same counts */
    struct ses_stmt_roster r;
    memset(&r, 0, sizeof r);
    r.version = 1;
    r.visibility = 1;
    for (int i = 0; i < 16; i++) {
        r.members[i].user_id[0] = (uint8_t)(i + 1);
        r.members[i].role = SES_ROLE_GP;
    }
    uint8_t buf[SES_STMT_MAX_BYTES];
    size_t n = 0;
    r.n_members = 0;
    assert_int_equal(ses_stmt_roster_encode(&r, buf, sizeof buf, &n), SES_EBAD_FIELD);
    r.n_members = 17;
    assert_int_equal(ses_stmt_roster_encode(&r, buf, sizeof buf, &n), SES_EBAD_FIELD);
    r.n_members = 16;
    assert_int_equal(ses_stmt_roster_encode(&r, buf, sizeof buf, &n), 0);
    assert_int_equal(n, SES_STMT_ROSTER_MAX_BYTES - 64);
    assert_int_equal(ses_stmt_roster_encode(&r, buf, n - 1, &n), SES_EINVALID_ARG);
}

/* Offsets in a roster statement. */
#define R_VERSION 33
#define R_PREV 37
#define R_VIS 69
#define R_N 70
#define R_MEMBERS 71

static void roster_fields(void **state)
{
    (void)state;
    static const int who[] = {A, B, C, D};
    static const uint8_t roles[] = {2, 2, 3, 4};
    uint8_t h[32];
    memset(h, 0x77, 32);
    struct ses_stmt_roster r = roster(2, h, who, roles, 4, A), out;
    struct blob good, b;
    sign_roster(&good, &r, A);
    assert_int_equal(ses_stmt_roster_parse(good.b, good.n, &out), 0);

    /* visibility 0 and 3 (1 and 2 parse) */
    static const struct {
        size_t off;
        uint8_t v;
        int want;
    } bytes[] = {
        {R_VIS, 0, SES_EBAD_FIELD},
        {R_VIS, 1, 0},
        {R_VIS, 2, 0},
        {R_VIS, 3, SES_EBAD_FIELD},
        {R_MEMBERS + 16, 1, SES_EBAD_FIELD}, /* role of member 0 */
        {R_MEMBERS + 16, 2, 0},
        {R_MEMBERS + 16, 4, 0},
        {R_MEMBERS + 16, 5, SES_EBAD_FIELD},
        {R_MEMBERS + 16, 0, SES_EBAD_FIELD},
        {R_MEMBERS + 3 * 17 + 16, 5, SES_EBAD_FIELD}, /* role of the last member */
    };
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
        b = good;
        b.b[bytes[i].off] = bytes[i].v;
        resign(&b, A);
        assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), bytes[i].want);
        assert_int_equal(ses_stmt_roster_verify(b.b, b.n, k[A].pk),
                         bytes[i].want == 0 ? 0 : SES_EBAD_FIELD);
    }
    /* user ids: swapped (unsorted), repeated, one byte of order at the end of the id */
    b = good;
    memcpy(b.b + R_MEMBERS + 17, k[C].id, 16);
    memcpy(b.b + R_MEMBERS + 34, k[B].id, 16);
    resign(&b, A);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    b = good;
    memcpy(b.b + R_MEMBERS + 17, k[A].id, 16);
    resign(&b, A);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    b = good;
    memcpy(b.b + R_MEMBERS + 17, k[A].id, 16);
    b.b[R_MEMBERS + 17 + 15] = (uint8_t)(k[A].id[15] + 1); /* just above A: ascending again */
    resign(&b, A);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), 0);
    b.b[R_MEMBERS + 17 + 15] = k[A].id[15]; /* equal to A */
    resign(&b, A);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    /* version 0; version 1 with a non-zero prev_hash; version 2 with a zero one */
    b = good;
    memset(b.b + R_VERSION, 0, 4);
    resign(&b, A);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    b.b[R_VERSION + 3] = 1;
    resign(&b, A);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    memset(b.b + R_PREV, 0, 32);
    b.b[R_PREV + 31] = 1; /* a single non-zero byte is enough */
    resign(&b, A);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    memset(b.b + R_PREV, 0, 32);
    resign(&b, A);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), 0);
    b.b[R_VERSION + 3] = 2;
    resign(&b, A);
    assert_int_equal(ses_stmt_roster_parse(b.b, b.n, &out), SES_EBAD_FIELD);
    /* the encoder refuses the same */
    uint8_t buf[SES_STMT_MAX_BYTES];
    size_t n = 0;
    struct ses_stmt_roster x = r;
    x.version = 1;
    assert_int_equal(ses_stmt_roster_encode(&x, buf, sizeof buf, &n), SES_EBAD_FIELD);
    x = r;
    memset(x.prev_hash, 0, 32);
    assert_int_equal(ses_stmt_roster_encode(&x, buf, sizeof buf, &n), SES_EBAD_FIELD);
    x = r;
    x.members[3].role = SES_ROLE_AUDITOR;
    assert_int_equal(ses_stmt_roster_encode(&x, buf, sizeof buf, &n), SES_EBAD_FIELD);
    x = r;
    x.visibility = 3;
    assert_int_equal(ses_stmt_roster_encode(&x, buf, sizeof buf, &n), SES_EBAD_FIELD);
    x = r;
    memcpy(x.members[1].user_id, x.members[0].user_id, 16);
    assert_int_equal(ses_stmt_roster_encode(&x, buf, sizeof buf, &n), SES_EBAD_FIELD);
    x = r;
    x.version = 0;
    assert_int_equal(ses_stmt_roster_encode(&x, buf, sizeof buf, &n), SES_EBAD_FIELD);
}

/* Length and context refusals, and every single-byte change, of each kind. */
typedef int (*verify_fn)(const uint8_t *, size_t, const uint8_t *);

static void framing(const struct blob *good, size_t ctx_len, verify_fn verify, int key)
{
    struct blob b = *good;
    assert_int_equal(verify(b.b, b.n, k[key].pk), 0);
    assert_int_equal(verify(b.b, b.n - 1, k[key].pk), SES_EBAD_FIELD);
    b.b[b.n] = 0;
    assert_int_equal(verify(b.b, b.n + 1, k[key].pk), SES_EBAD_FIELD);
    assert_int_equal(verify(b.b, 0, k[key].pk), SES_EBAD_FIELD);
    for (size_t i = 0; i < ctx_len; i++) { /* each context byte, the NUL included */
        b = *good;
        b.b[i] ^= 0x01;
        resign(&b, key);
        assert_int_equal(verify(b.b, b.n, k[key].pk), SES_EBAD_FIELD);
    }
    for (size_t i = 0; i < good->n; i++) { /* any change: refused, whatever the code */
        b = *good;
        b.b[i] ^= 0x40;
        int rc = verify(b.b, b.n, k[key].pk);
        assert_true(rc == SES_EBAD_FIELD || rc == SES_EBAD_SIGNATURE);
    }
    assert_int_equal(verify(good->b, good->n, k[S].pk), SES_EBAD_SIGNATURE); /* wrong key */
    assert_int_equal(verify(NULL, good->n, k[key].pk), SES_EINVALID_ARG);
    assert_int_equal(verify(good->b, good->n, NULL), SES_EINVALID_ARG);
}

static int v_identity(const uint8_t *b, size_t n, const uint8_t *pk)
{
    return ses_stmt_identity_verify(b, n, pk);
}
static int v_device(const uint8_t *b, size_t n, const uint8_t *pk)
{
    return ses_stmt_device_verify(b, n, pk);
}
static int v_vouch(const uint8_t *b, size_t n, const uint8_t *pk)
{
    return ses_stmt_vouch_verify(b, n, pk);
}
static int v_roster(const uint8_t *b, size_t n, const uint8_t *pk)
{
    return ses_stmt_roster_verify(b, n, pk);
}
static int v_mailbox(const uint8_t *b, size_t n, const uint8_t *pk)
{
    return ses_stmt_mailbox_verify(b, n, pk);
}

static void framing_all_kinds(void **state)
{
    (void)state;
    struct blob b;
    struct ses_stmt_identity id = {.serial = 1, .created_ms = 5};
    memcpy(id.user_id, k[A].id, 16);
    memcpy(id.ik_pk, k[A].pk, 32);
    assert_int_equal(ses_stmt_identity_sign(&id, k[A].sk, b.b, sizeof b.b, &b.n), 0);
    framing(&b, sizeof SES_CTX_STMT_IDENTITY, v_identity, A);

    struct ses_stmt_device dv = {.created_ms = 6};
    memcpy(dv.user_id, k[A].id, 16);
    assert_int_equal(ses_stmt_device_sign(&dv, k[A].sk, b.b, sizeof b.b, &b.n), 0);
    framing(&b, sizeof SES_CTX_STMT_DEVICE, v_device, A);
    /* a device statement is no identity statement, and the other way round */
    assert_int_equal(ses_stmt_identity_verify(b.b, b.n, k[A].pk), SES_EBAD_FIELD);

    struct ses_stmt_vouch vc = {.subject_serial = 2, .created_ms = 7};
    assert_int_equal(ses_stmt_vouch_sign(&vc, k[B].sk, b.b, sizeof b.b, &b.n), 0);
    framing(&b, sizeof SES_CTX_STMT_VOUCH, v_vouch, B);

    static const int who[] = {A, C};
    static const uint8_t roles[] = {2, 3};
    struct ses_stmt_roster r = roster(1, NULL, who, roles, 2, A);
    sign_roster(&b, &r, A);
    framing(&b, sizeof SES_CTX_STMT_ROSTER, v_roster, A);

    struct ses_stmt_mailbox mb = {.serial = 1, .not_before_ms = 1, .not_after_ms = 2};
    assert_int_equal(ses_stmt_mailbox_sign(&mb, k[M].sk, b.b, sizeof b.b, &b.n), 0);
    framing(&b, sizeof SES_CTX_STMT_MAILBOX, v_mailbox, M);
}

/* --- chains ------------------------------------------------------------------------------------
 */

struct chain {
    struct blob b[6];
    struct ses_stmt_roster r[6];
    uint8_t h[6][32];
};

static void hash_into(struct chain *c, int i)
{
    assert_int_equal(ses_roster_stmt_hash(c->b[i].b, c->b[i].n, c->h[i]), 0);
}

/* Version 1 by A (A, C, D); 2 by A adds B; 3 by B removes D; 4 by B adds E. */
static void valid_chain(struct chain *c)
{
    static const int w1[] = {A, C, D}, w2[] = {A, B, C, D}, w3[] = {A, B, C}, w4[] = {A, B, C, E};
    static const uint8_t r1[] = {2, 3, 4}, r2[] = {2, 2, 3, 4}, r3[] = {2, 2, 3},
                         r4[] = {2, 2, 3, 4};
    c->r[0] = roster(1, NULL, w1, r1, 3, A);
    sign_roster(&c->b[0], &c->r[0], A);
    hash_into(c, 0);
    c->r[1] = roster(2, c->h[0], w2, r2, 4, A);
    sign_roster(&c->b[1], &c->r[1], A);
    hash_into(c, 1);
    c->r[2] = roster(3, c->h[1], w3, r3, 3, B);
    sign_roster(&c->b[2], &c->r[2], B);
    hash_into(c, 2);
    c->r[3] = roster(4, c->h[2], w4, r4, 4, B);
    sign_roster(&c->b[3], &c->r[3], B);
    hash_into(c, 3);
}

static int check(const struct chain *c, size_t n, size_t *at)
{
    const uint8_t *stmts[6];
    size_t lens[6];
    for (size_t i = 0; i < n; i++) {
        stmts[i] = c->b[i].b;
        lens[i] = c->b[i].n;
    }
    *at = 99;
    return ses_roster_chain_check(stmts, lens, n, ses_trusted_ik_table, &trusted, at, NULL);
}

static void chain_valid(void **state)
{
    (void)state;
    struct chain c;
    valid_chain(&c);
    const uint8_t *stmts[4] = {c.b[0].b, c.b[1].b, c.b[2].b, c.b[3].b};
    size_t lens[4] = {c.b[0].n, c.b[1].n, c.b[2].n, c.b[3].n}, at = 99;
    struct ses_stmt_roster head;
    assert_int_equal(
        ses_roster_chain_check(stmts, lens, 4, ses_trusted_ik_table, &trusted, &at, &head), 0);
    assert_int_equal(head.version, 4);
    assert_int_equal(head.n_members, 4);
    assert_memory_equal(head.members[3].user_id, k[E].id, 16);
    for (size_t n = 1; n <= 4; n++)
        assert_int_equal(check(&c, n, &at), 0);
    /* arguments */
    assert_int_equal(
        ses_roster_chain_check(stmts, lens, 0, ses_trusted_ik_table, &trusted, &at, NULL),
        SES_EINVALID_ARG);
    assert_int_equal(at, 0);
    assert_int_equal(ses_roster_chain_check(stmts, lens, 4, NULL, &trusted, &at, NULL),
                     SES_EINVALID_ARG);
    /* the chain out of order, or a version twice */
    c.b[4] = c.b[1];
    c.b[1] = c.b[2];
    c.b[2] = c.b[4];
    assert_int_equal(check(&c, 3, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 1);
    valid_chain(&c);
    c.b[2] = c.b[1];
    assert_int_equal(check(&c, 3, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 2);
    /* a chain that does not start at version 1 */
    c.b[0] = c.b[1];
    assert_int_equal(check(&c, 1, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 0);
}

static void chain_broken(void **state)
{
    (void)state;
    struct chain c;
    size_t at;
    struct ses_stmt_roster x;

    /* version 3's prev_hash is version 1's hash */
    valid_chain(&c);
    x = c.r[2];
    memcpy(x.prev_hash, c.h[0], 32);
    sign_roster(&c.b[2], &x, B);
    assert_int_equal(check(&c, 4, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 2);
    /* one bit of prev_hash */
    valid_chain(&c);
    x = c.r[3];
    x.prev_hash[31] ^= 1;
    sign_roster(&c.b[3], &x, B);
    assert_int_equal(check(&c, 4, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 3);
    /* a changed visibility */
    valid_chain(&c);
    x = c.r[1];
    x.visibility = SES_ROSTER_JOINED;
    sign_roster(&c.b[1], &x, A);
    assert_int_equal(check(&c, 4, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 1);
    /* another thread */
    valid_chain(&c);
    x = c.r[1];
    x.thread_id[0] ^= 1;
    sign_roster(&c.b[1], &x, A);
    assert_int_equal(check(&c, 2, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 1);
    /* a skipped version */
    valid_chain(&c);
    x = c.r[2];
    x.version = 4;
    sign_roster(&c.b[2], &x, B);
    assert_int_equal(check(&c, 3, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 2);
    /* version 3 signed by C, a psychiatrist of version 2 */
    valid_chain(&c);
    x = c.r[2];
    memcpy(x.signer_user_id, k[C].id, 16);
    sign_roster(&c.b[2], &x, C);
    assert_int_equal(check(&c, 3, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 2);
    /* version 2 signed by D, a GP of version 1 */
    valid_chain(&c);
    x = c.r[1];
    memcpy(x.signer_user_id, k[D].id, 16);
    sign_roster(&c.b[1], &x, D);
    assert_int_equal(check(&c, 2, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 1);
    /* version 2 signed by B, whom it adds as a nurse: not a member of version 1 */
    valid_chain(&c);
    x = c.r[1];
    memcpy(x.signer_user_id, k[B].id, 16);
    sign_roster(&c.b[1], &x, B);
    assert_int_equal(check(&c, 2, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 1);
    /* version 1 signed by B, not among its members */
    valid_chain(&c);
    x = c.r[0];
    memcpy(x.signer_user_id, k[B].id, 16);
    sign_roster(&c.b[0], &x, B);
    assert_int_equal(check(&c, 1, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 0);
    /* version 1 signed by C, a member (any role creates) */
    x = c.r[0];
    memcpy(x.signer_user_id, k[C].id, 16);
    sign_roster(&c.b[0], &x, C);
    assert_int_equal(check(&c, 1, &at), 0);
}

static void chain_keys(void **state)
{
    (void)state;
    struct chain c;
    size_t at;
    struct ses_stmt_roster x;

    /* version 2 by A, signed with A's second key while the verifier trusts the first */
    valid_chain(&c);
    sign_roster(&c.b[1], &c.r[1], A2);
    assert_int_equal(check(&c, 4, &at), SES_EBAD_SIGNATURE);
    assert_int_equal(at, 1);
    /* no trusted key for B */
    valid_chain(&c);
    trusted.n = B; /* rows A only */
    assert_int_equal(check(&c, 2, &at), 0);
    assert_int_equal(check(&c, 4, &at), SES_EBAD_SIGNATURE);
    assert_int_equal(at, 2);
    trusted.n = M + 1;
    /* the server adds M to version 3 in A's name, signed by its own key */
    static const int wm[] = {A, B, C, D, M};
    static const uint8_t rm[] = {2, 2, 3, 4, 2};
    x = roster(3, c.h[1], wm, rm, 5, A);
    sign_roster(&c.b[2], &x, S);
    assert_int_equal(check(&c, 3, &at), SES_EBAD_SIGNATURE);
    assert_int_equal(at, 2);
    /* ... signed by B's key while naming A: only the named signer's trusted key counts */
    sign_roster(&c.b[2], &x, B);
    assert_int_equal(check(&c, 3, &at), SES_EBAD_SIGNATURE);
    assert_int_equal(at, 2);
    x = roster(3, c.h[1], wm, rm, 5, B);
    sign_roster(&c.b[2], &x, B);
    assert_int_equal(check(&c, 3, &at), 0); /* a nurse member may add M: that is the point */
    /* ... signed by M herself, trusted but no member of version 2 */
    x = roster(3, c.h[1], wm, rm, 5, M);
    sign_roster(&c.b[2], &x, M);
    assert_int_equal(check(&c, 3, &at), SES_EROSTER_BROKEN);
    assert_int_equal(at, 2);
    /* a signature byte changed, and a malformed version */
    valid_chain(&c);
    c.b[3].b[c.b[3].n - 1] ^= 1;
    assert_int_equal(check(&c, 4, &at), SES_EBAD_SIGNATURE);
    assert_int_equal(at, 3);
    valid_chain(&c);
    c.b[1].n--;
    assert_int_equal(check(&c, 4, &at), SES_EBAD_FIELD);
    assert_int_equal(at, 1);
    /* the table lookup itself */
    uint8_t pk[32];
    assert_int_equal(ses_trusted_ik_table(&trusted, k[C].id, pk), 0);
    assert_memory_equal(pk, k[C].pk, 32);
    assert_int_not_equal(ses_trusted_ik_table(&trusted, k[S].id, pk), 0);
    assert_int_not_equal(ses_trusted_ik_table(NULL, k[C].id, pk), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identity_round_trip),
        cmocka_unit_test(device_vouch_round_trip),
        cmocka_unit_test(mailbox_round_trip_and_window),
        cmocka_unit_test(roster_round_trip),
        cmocka_unit_test(roster_counts),
        cmocka_unit_test(roster_fields),
        cmocka_unit_test(framing_all_kinds),
        cmocka_unit_test(chain_valid),
        cmocka_unit_test(chain_broken),
        cmocka_unit_test(chain_keys),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
