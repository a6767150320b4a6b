/*
 * test_envelope.c - the SES1 end-to-end envelope (envelope.h, PROTOCOL.md section 10): round
 * trips, limits, padding buckets, every single-byte tampering, downgrade, truncation, re-signing,
 * an invisible salamander built from a real two-key XChaCha20-Poly1305 collision, ghost devices,
 * replay, the roster hash, and the known-answer vectors of protocol/vectors/envelope.json, rebuilt
 * byte for byte by the library and by an independent assembly of the layout ("hand builder").
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

#include "sesame/encode.h"
#include "sesame/envelope.h"
#include "sesame/err.h"

#define VECTORS_FILE SESAME_VECTORS_DIR "/envelope.json"

/* --- a small world: device 0 sends, device 1 is the sender's other device, devices 2.. belong to
 * one user each ------------------------------------------------------------------------------ */

struct dev {
    uint8_t user[16], id[16];
    uint8_t sign_pk[32], sign_sk[64];
    uint8_t box_pk[32], box_sk[32];
};

#define NDEV 40
static struct dev g[NDEV];
static json_t *g_vectors;

static const uint8_t K1[32] = {0x4b, 0x31, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
                               15,   16,   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30};
static const uint8_t K2[32] = {0x4b, 0x32, 0xfe, 0xfd, 0xfc, 0xfb, 0xfa, 0xf9, 0xf8, 0xf7, 0xf6,
                               0xf5, 0xf4, 0xf3, 0xf2, 0xf1, 0xf0, 0xef, 0xee, 0xed, 0xec, 0xeb,
                               0xea, 0xe9, 0xe8, 0xe7, 0xe6, 0xe5, 0xe4, 0xe3, 0xe2, 0xe1};
static const uint8_t NONCE[24] = {0x6e, 0x6f, 0x6e, 0x63, 0x65, 5,  6,  7,  8,  9,  10, 11,
                                  12,   13,   14,   15,   16,   17, 18, 19, 20, 21, 22, 23};

static void derive(uint8_t *out, size_t n, const char *label, unsigned a, unsigned b)
{
    char buf[64];
    int k = snprintf(buf, sizeof buf, "%s/%u/%u", label, a, b);
    crypto_generichash(out, n, (const uint8_t *)buf, (unsigned long long)(k < 0 ? 0u : (unsigned)k),
                       NULL, 0);
}

static void make_dev(struct dev *d, unsigned user, unsigned devno)
{
    uint8_t seed[32];
    derive(d->user, 16, "user", user, 0);
    derive(d->id, 16, "device", user, devno);
    derive(seed, 32, "sign", user, devno);
    crypto_sign_seed_keypair(d->sign_pk, d->sign_sk, seed);
    derive(seed, 32, "box", user, devno);
    crypto_box_seed_keypair(d->box_pk, d->box_sk, seed);
}

/* ephemeral secret keys for deterministic seals */
static void eph_keys(uint8_t (*esk)[32], size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t seed[32], pk[32];
        derive(seed, 32, "eph", salt, (unsigned)i);
        crypto_box_seed_keypair(pk, esk[i], seed);
    }
}

static int setup(void **state)
{
    (void)state;
    if (sodium_init() < 0)
        return -1;
    make_dev(&g[0], 0, 0);
    make_dev(&g[1], 0, 1);
    for (unsigned i = 2; i < NDEV; i++)
        make_dev(&g[i], i - 1, 0);
    json_error_t jerr;
    g_vectors = json_load_file(VECTORS_FILE, JSON_REJECT_DUPLICATES, &jerr);
    if (g_vectors == NULL) {
        fprintf(stderr, "%s:%d: %s\n", VECTORS_FILE, jerr.line, jerr.text);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(g_vectors);
    sodium_memzero(g, sizeof g);
    return 0;
}

/* The header device `sender` would write for message number seq of the test thread. */
static void make_hdr(struct ses_envelope_header *h, size_t sender, uint64_t seq)
{
    memset(h, 0, sizeof *h);
    derive(h->thread_id, 16, "thread", 1, 0);
    derive(h->msg_id, 16, "msg", (unsigned)seq, (unsigned)sender);
    memcpy(h->sender_user_id, g[sender].user, 16);
    memcpy(h->sender_device_id, g[sender].id, 16);
    h->sender_seq = seq;
    uint8_t members[NDEV - 1][16];
    memcpy(members[0], g[0].user, 16);
    for (size_t i = 2; i < NDEV; i++)
        memcpy(members[i - 1], g[i].user, 16);
    assert_int_equal(
        ses_roster_hash(h->roster_hash, h->thread_id, 3, (const uint8_t(*)[16])members, NDEV - 1),
        0);
    h->created_ms = 1767225600123ULL;
    h->alert_type = 7;
    h->severity = 2;
    h->deadline_ms = h->created_ms + 3600000;
}

static void rcpts_of(struct ses_recipient *rc, const size_t *idx, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        memcpy(rc[i].device_id, g[idx[i]].id, 16);
        memcpy(rc[i].box_pk, g[idx[i]].box_pk, 32);
    }
}

/* Copies an envelope into a buffer of exactly len bytes (so ASan sees any over-read). */
static uint8_t *exact(const uint8_t *env, size_t len)
{
    uint8_t *p = malloc(len > 0 ? len : 1);
    assert_non_null(p);
    if (len > 0)
        memcpy(p, env, len);
    return p;
}

/* Seals with the library (random K, nonce and wraps); returns an exact-size copy. */
static uint8_t *seal_to(size_t sender, const struct ses_envelope_header *h, const size_t *idx,
                        size_t n, const uint8_t *body, size_t body_len, size_t *len)
{
    struct ses_recipient rc[SES_ENVELOPE_MAX_WRAPS];
    uint8_t *env = NULL;
    rcpts_of(rc, idx, n);
    assert_int_equal(
        ses_envelope_seal(&env, len, h, SES_CONTENT_TEXT, body, body_len, rc, n, g[sender].sign_sk),
        0);
    uint8_t *copy = exact(env, *len);
    free(env);
    return copy;
}

/* Seals deterministically (K1, NONCE, ephemeral keys from salt). */
static uint8_t *seal_det_to(size_t sender, const struct ses_envelope_header *h, const size_t *idx,
                            size_t n, const uint8_t *body, size_t body_len, size_t *len)
{
    struct ses_recipient rc[SES_ENVELOPE_MAX_WRAPS];
    uint8_t esk[SES_ENVELOPE_MAX_WRAPS][32];
    uint8_t *env = NULL;
    rcpts_of(rc, idx, n);
    eph_keys(esk, n, 9);
    assert_int_equal(ses_envelope_seal_det(&env, len, h, SES_CONTENT_TEXT, body, body_len, rc, n,
                                           g[sender].sign_sk, K1, NONCE, (const uint8_t(*)[32])esk),
                     0);
    uint8_t *copy = exact(env, *len);
    free(env);
    return copy;
}

/* Opens as device me; expected devices by index. */
static int open_as(size_t me, size_t sender, const uint8_t *env, size_t len, const size_t *exp,
                   size_t n_exp, uint64_t last_seen, struct ses_opened *out)
{
    uint8_t ids[NDEV + 1][16];
    assert_true(n_exp <= NDEV + 1);
    for (size_t i = 0; i < n_exp; i++)
        memcpy(ids[i], g[exp[i]].id, 16);
    return ses_envelope_open(env, len, g[me].id, g[me].box_pk, g[me].box_sk, g[sender].sign_pk,
                             (const uint8_t(*)[16])ids, n_exp, last_seen, out);
}

/* open_as that must fail with want, leaving out untouched. */
static void open_fails(size_t me, size_t sender, const uint8_t *env, size_t len, const size_t *exp,
                       size_t n_exp, uint64_t last_seen, int want)
{
    struct ses_opened o, ref;
    memset(&o, 0x5a, sizeof o);
    memset(&ref, 0x5a, sizeof ref);
    assert_int_equal(open_as(me, sender, env, len, exp, n_exp, last_seen, &o), want);
    assert_memory_equal(&o, &ref, sizeof o);
}

static const size_t ALL[NDEV] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13,
                                 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
                                 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39};

static void hdr_equal(const struct ses_envelope_header *a, const struct ses_envelope_header *b)
{
    assert_memory_equal(a->thread_id, b->thread_id, 16);
    assert_memory_equal(a->msg_id, b->msg_id, 16);
    assert_memory_equal(a->sender_user_id, b->sender_user_id, 16);
    assert_memory_equal(a->sender_device_id, b->sender_device_id, 16);
    assert_true(a->sender_seq == b->sender_seq);
    assert_memory_equal(a->roster_hash, b->roster_hash, 32);
    assert_true(a->created_ms == b->created_ms);
    assert_int_equal(a->alert_type, b->alert_type);
    assert_int_equal(a->severity, b->severity);
    assert_true(a->deadline_ms == b->deadline_ms);
}

static void check_opened(const struct ses_opened *o, const struct ses_envelope_header *h,
                         const uint8_t *body, size_t body_len, size_t n_wraps)
{
    hdr_equal(&o->hdr, h);
    assert_int_equal(o->content_type, SES_CONTENT_TEXT);
    assert_int_equal(o->body_len, body_len);
    assert_non_null(o->body);
    if (body_len > 0)
        assert_memory_equal(o->body, body, body_len);
    assert_int_equal(o->n_wraps, n_wraps);
}

/* --- the hand builder: the layout of PROTOCOL.md section 10 assembled independently of
 * envelope.c, with knobs to build envelopes the library refuses to make ------------------------ */

#define HB_MAX 34

struct hb {
    uint8_t ident[6]; /* magic, version, suite */
    uint16_t flags;
    struct ses_envelope_header hdr;
    uint8_t key[32];        /* encrypts */
    uint8_t commit_key[32]; /* committed to */
    uint8_t nonce[24];
    size_t n;
    uint8_t dev[HB_MAX][16];
    uint8_t pk[HB_MAX][32];
    uint8_t wrap_key[HB_MAX][32]; /* key wrapped to dev[i] */
    uint8_t esk[HB_MAX][32];
    uint8_t inner_ver;
    uint8_t in_user[16], in_dev[16], in_msg[16], in_thread[16];
    uint8_t content_type;
    const uint8_t *body;
    size_t body_len;
    uint32_t body_len_field;
    int pad_mode; /* 0: 0x80 then zeros to the 256-byte bucket; 1: zeros only; 2: no padding */
    const uint8_t *sign_sk;
};

static void hb_init(struct hb *b, size_t sender, uint64_t seq, const size_t *idx, size_t n,
                    const uint8_t *body, size_t body_len)
{
    memset(b, 0, sizeof *b);
    memcpy(b->ident, "SES1\x01\x01", 6);
    make_hdr(&b->hdr, sender, seq);
    memcpy(b->key, K1, 32);
    memcpy(b->commit_key, K1, 32);
    memcpy(b->nonce, NONCE, 24);
    assert_true(n <= HB_MAX);
    b->n = n;
    eph_keys(b->esk, n, 9);
    for (size_t i = 0; i < n; i++) {
        memcpy(b->dev[i], g[idx[i]].id, 16);
        memcpy(b->pk[i], g[idx[i]].box_pk, 32);
        memcpy(b->wrap_key[i], K1, 32);
    }
    b->inner_ver = 1;
    memcpy(b->in_user, b->hdr.sender_user_id, 16);
    memcpy(b->in_dev, b->hdr.sender_device_id, 16);
    memcpy(b->in_msg, b->hdr.msg_id, 16);
    memcpy(b->in_thread, b->hdr.thread_id, 16);
    b->content_type = SES_CONTENT_TEXT;
    b->body = body;
    b->body_len = body_len;
    b->body_len_field = (uint32_t)body_len;
    b->sign_sk = g[sender].sign_sk;
}

static void be(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* crypto_box_seal by hand with a given ephemeral key. */
static void hand_seal(uint8_t out[80], const uint8_t m[32], const uint8_t pk[32],
                      const uint8_t esk[32])
{
    uint8_t epk[32], in[64], nonce[24];
    assert_int_equal(crypto_scalarmult_base(epk, esk), 0);
    memcpy(in, epk, 32);
    memcpy(in + 32, pk, 32);
    crypto_generichash(nonce, 24, in, 64, NULL, 0);
    assert_int_equal(crypto_box_easy(out + 32, m, 32, nonce, pk, esk), 0);
    memcpy(out, epk, 32);
}

static void hand_kcommit(uint8_t out[32], const uint8_t key[32], const uint8_t msg[16])
{
    uint8_t in[18 + 16];
    memcpy(in, "sesame/v1/kcommit", 18); /* with its NUL */
    memcpy(in + 18, msg, 16);
    crypto_generichash(out, 32, in, sizeof in, key, 32);
}

/* Header bytes [0, h); returns h. out needs 188 + 96 * HB_MAX bytes. */
static size_t hb_header(const struct hb *b, uint8_t *out)
{
    memcpy(out, b->ident, 6);
    be(out + 6, b->flags, 2);
    memcpy(out + 8, b->hdr.thread_id, 16);
    memcpy(out + 24, b->hdr.msg_id, 16);
    memcpy(out + 40, b->hdr.sender_user_id, 16);
    memcpy(out + 56, b->hdr.sender_device_id, 16);
    be(out + 72, b->hdr.sender_seq, 8);
    memcpy(out + 80, b->hdr.roster_hash, 32);
    be(out + 112, b->hdr.created_ms, 8);
    be(out + 120, b->hdr.alert_type, 2);
    out[122] = b->hdr.severity;
    be(out + 123, b->hdr.deadline_ms, 8);
    hand_kcommit(out + 131, b->commit_key, b->hdr.msg_id);
    memcpy(out + 163, b->nonce, 24);
    out[187] = (uint8_t)b->n;
    for (size_t i = 0; i < b->n; i++) {
        memcpy(out + 188 + 96 * i, b->dev[i], 16);
        hand_seal(out + 188 + 96 * i + 16, b->wrap_key[i], b->pk[i], b->esk[i]);
    }
    return 188 + 96 * b->n;
}

#define HB_PT_MAX (70 + 65536 + 256)

/* Inner plaintext; returns its length. out needs HB_PT_MAX bytes. */
static size_t hb_inner(const struct hb *b, uint8_t *out)
{
    out[0] = b->inner_ver;
    memcpy(out + 1, b->in_user, 16);
    memcpy(out + 17, b->in_dev, 16);
    memcpy(out + 33, b->in_msg, 16);
    memcpy(out + 49, b->in_thread, 16);
    out[65] = b->content_type;
    be(out + 66, b->body_len_field, 4);
    if (b->body_len > 0)
        memcpy(out + 70, b->body, b->body_len);
    size_t end = 70 + b->body_len;
    if (b->pad_mode == 2)
        return end;
    size_t bucket = 70 + (b->body_len / 256 + 1) * 256;
    memset(out + end, 0, bucket - end);
    if (b->pad_mode == 0)
        out[end] = 0x80;
    return bucket;
}

/* header | ct_len | ct | Ed25519 signature; an exact-size malloc'd buffer. */
static uint8_t *hb_assemble(const struct hb *b, const uint8_t *hdr, size_t h, const uint8_t *ct,
                            size_t ct_len, size_t *len)
{
    size_t total = h + 4 + ct_len + 64;
    uint8_t *e = malloc(total), *m = malloc(19 + total - 64);
    assert_non_null(e);
    assert_non_null(m);
    memcpy(e, hdr, h);
    be(e + h, ct_len, 4);
    memcpy(e + h + 4, ct, ct_len);
    memcpy(m, "sesame/v1/envelope", 19); /* with its NUL */
    memcpy(m + 19, e, total - 64);
    crypto_sign_detached(e + total - 64, NULL, m, 19 + total - 64, b->sign_sk);
    free(m);
    *len = total;
    return e;
}

static uint8_t *hb_build(const struct hb *b, size_t *len)
{
    uint8_t *hdr = malloc(188 + 96 * HB_MAX), *pt = malloc(HB_PT_MAX), *ct = malloc(HB_PT_MAX + 16);
    assert_non_null(hdr);
    assert_non_null(pt);
    assert_non_null(ct);
    size_t h = hb_header(b, hdr), pt_len = hb_inner(b, pt);
    crypto_aead_xchacha20poly1305_ietf_encrypt(ct, NULL, pt, pt_len, hdr, h, NULL, b->nonce,
                                               b->key);
    uint8_t *e = hb_assemble(b, hdr, h, ct, pt_len + 16, len);
    free(hdr);
    free(pt);
    free(ct);
    return e;
}

/* --- constants ------------------------------------------------------------------------------ */

static void test_constants(void **state)
{
    (void)state;
    assert_int_equal(SES_ENVELOPE_OFF_WRAPS,
                     4 + 1 + 1 + 2 + 16 * 4 + 8 + 32 + 8 + 2 + 1 + 8 + 32 + 24 + 1);
    assert_int_equal(SES_ENVELOPE_OFF_WRAPS, 188);
    assert_int_equal(SES_ENVELOPE_INNER_FIXED, 70);
    assert_int_equal(SES_ENVELOPE_MIN, 694);
    assert_int_equal(SES_ENVELOPE_MAX, 68950);
    assert_true(SES_ENVELOPE_MAX <= 192 * 1024);
    assert_int_equal(ses_b64_len(SES_ENVELOPE_MAX), SES_ENVELOPE_B64_MAX);
    assert_int_equal(ses_b64_len(192 * 1024), SES_MAX_FRAME);
    assert_int_equal(sizeof SES_CTX_ENVELOPE, 19);
    assert_int_equal(sizeof SES_CTX_KCOMMIT, 18);
    assert_int_equal(sizeof SES_CTX_ROSTER, 17);
    assert_int_equal(crypto_box_SEALBYTES + 32, SES_ENVELOPE_SEALED_BYTES);
    /* the error numbers of PROTOCOL.md §3 */
    assert_int_equal(SES_EBAD_SIGNATURE, -30);
    assert_int_equal(SES_EBAD_COMMITMENT, -31);
    assert_int_equal(SES_EGHOST_DEVICE, -32);
    assert_int_equal(SES_ENOT_A_RECIPIENT, -33);
    assert_int_equal(SES_EREPLAYED, -34);
    assert_int_equal(SES_EBAD_ENVELOPE, -35);
    assert_int_equal(SES_EDECRYPT_FAILED, -36);
    assert_int_equal(SES_EINNER_MISMATCH, -37);
    assert_string_equal(ses_err_name(SES_EGHOST_DEVICE), "GHOST_DEVICE");
}

/* --- round trips ---------------------------------------------------------------------------- */

static void roundtrip(size_t n)
{
    static const uint8_t body[] = "Patient vu ce matin, PHQ-9 = 14; on en parle jeudi.";
    struct ses_envelope_header h;
    size_t len;
    make_hdr(&h, 0, 42);
    /* recipients 1..n: the sender's other device first */
    uint8_t *env = seal_to(0, &h, ALL + 1, n, body, sizeof body - 1, &len);
    assert_int_equal(len, SES_ENVELOPE_OVERHEAD + 96 * n + SES_ENVELOPE_CT_MIN);

    struct ses_envelope_view v;
    assert_int_equal(ses_envelope_parse(env, len, &v), 0);
    assert_int_equal(v.n_wraps, n);
    assert_int_equal(ses_envelope_verify_sig(&v, g[0].sign_pk), 0);
    for (size_t i = 0; i < n; i++)
        assert_memory_equal(ses_envelope_wrap_device(&v, i), g[1 + i].id, 16);

    uint8_t *first_body = NULL;
    for (size_t r = 1; r <= n; r++) {
        struct ses_opened o;
        assert_int_equal(open_as(r, 0, env, len, ALL, n + 1, 41, &o), 0);
        check_opened(&o, &h, body, sizeof body - 1, n);
        assert_int_equal(o.n_missing, 0);
        if (first_body == NULL) {
            first_body = malloc(o.body_len);
            assert_non_null(first_body);
            memcpy(first_body, o.body, o.body_len);
        }
        assert_memory_equal(o.body, first_body, o.body_len);
        ses_opened_free(&o);
        assert_null(o.body);
    }
    free(first_body);
    /* the sending device itself has no wrap */
    open_fails(0, 0, env, len, ALL, n + 1, 41, SES_ENOT_A_RECIPIENT);
    free(env);
}

static void test_roundtrip_1(void **state)
{
    (void)state;
    roundtrip(1);
}

static void test_roundtrip_3(void **state)
{
    (void)state;
    roundtrip(3);
}

static void test_roundtrip_15(void **state)
{
    (void)state;
    roundtrip(15);
}

static void test_roundtrip_32(void **state)
{
    (void)state;
    roundtrip(32);
}

/* Every content type and an empty body survive; random seals differ, deterministic ones repeat. */
static void test_content_types_and_determinism(void **state)
{
    (void)state;
    struct ses_envelope_header h;
    struct ses_recipient rc[2];
    static const size_t idx[] = {1, 2};
    rcpts_of(rc, idx, 2);
    make_hdr(&h, 0, 5);
    for (uint8_t ct = 1; ct <= SES_CONTENT_TYPE_MAX; ct++) {
        uint8_t *env = NULL;
        size_t len;
        assert_int_equal(ses_envelope_seal(&env, &len, &h, ct, (const uint8_t *)"x",
                                           ct == 4 ? 0 : 1, rc, 2, g[0].sign_sk),
                         0);
        uint8_t *e = exact(env, len);
        free(env);
        struct ses_opened o;
        assert_int_equal(open_as(2, 0, e, len, ALL, 3, 0, &o), 0);
        assert_int_equal(o.content_type, ct);
        assert_int_equal(o.body_len, ct == 4 ? 0 : 1);
        assert_non_null(o.body);
        ses_opened_free(&o);
        free(e);
    }
    size_t l1, l2, l3, l4;
    uint8_t *a = seal_to(0, &h, idx, 2, (const uint8_t *)"same", 4, &l1);
    uint8_t *b = seal_to(0, &h, idx, 2, (const uint8_t *)"same", 4, &l2);
    assert_int_equal(l1, l2);
    assert_memory_not_equal(a + SES_ENVELOPE_OFF_KCOMMIT, b + SES_ENVELOPE_OFF_KCOMMIT, 32);
    assert_memory_not_equal(a + SES_ENVELOPE_OFF_NONCE, b + SES_ENVELOPE_OFF_NONCE, 24);
    assert_memory_not_equal(a + 188 + 16, b + 188 + 16, 32); /* ephemeral keys */
    uint8_t *c = seal_det_to(0, &h, idx, 2, (const uint8_t *)"same", 4, &l3);
    uint8_t *d = seal_det_to(0, &h, idx, 2, (const uint8_t *)"same", 4, &l4);
    assert_int_equal(l3, l4);
    assert_memory_equal(c, d, l3);
    free(a);
    free(b);
    free(c);
    free(d);
}

/* --- sealing limits and arguments ----------------------------------------------------------- */

static void seal_fails(const struct ses_envelope_header *h, uint8_t ct, const uint8_t *body,
                       size_t blen, const struct ses_recipient *rc, size_t n, const uint8_t *sk,
                       int want)
{
    uint8_t *env = (uint8_t *)(uintptr_t)0x1234;
    size_t len = 777;
    uint8_t esk[40][32];
    eph_keys(esk, n < 40 ? n : 40, 1);
    assert_int_equal(ses_envelope_seal(&env, &len, h, ct, body, blen, rc, n, sk), want);
    assert_ptr_equal(env, (uint8_t *)(uintptr_t)0x1234);
    assert_int_equal(len, 777);
    if (n <= 40) {
        assert_int_equal(ses_envelope_seal_det(&env, &len, h, ct, body, blen, rc, n, sk, K1, NONCE,
                                               (const uint8_t(*)[32])esk),
                         want);
        assert_ptr_equal(env, (uint8_t *)(uintptr_t)0x1234);
        assert_int_equal(len, 777);
    }
}

static void test_seal_limits(void **state)
{
    (void)state;
    struct ses_envelope_header h;
    struct ses_recipient rc[34];
    make_hdr(&h, 0, 1);
    rcpts_of(rc, ALL + 1, 34);
    const uint8_t *sk = g[0].sign_sk;
    const uint8_t *body = (const uint8_t *)"hi";

    /* recipients: 1..32 */
    seal_fails(&h, 1, body, 2, rc, 0, sk, SES_EINVALID_ARG);
    seal_fails(&h, 1, body, 2, rc, 33, sk, SES_EINVALID_ARG);
    seal_fails(&h, 1, body, 2, rc, 34, sk, SES_EINVALID_ARG);
    /* a device twice (first and last, adjacent) */
    struct ses_recipient dup[32];
    memcpy(dup, rc, sizeof dup);
    dup[31] = dup[0];
    seal_fails(&h, 1, body, 2, dup, 32, sk, SES_EINVALID_ARG);
    memcpy(dup, rc, sizeof dup);
    dup[2] = dup[1];
    seal_fails(&h, 1, body, 2, dup, 3, sk, SES_EINVALID_ARG);
    /* the same device id with different keys is still the same device */
    memcpy(dup, rc, sizeof dup);
    memcpy(dup[1].device_id, dup[0].device_id, 16);
    seal_fails(&h, 1, body, 2, dup, 2, sk, SES_EINVALID_ARG);
    /* content types 1..SES_CONTENT_TYPE_MAX only */
    seal_fails(&h, 0, body, 2, rc, 2, sk, SES_EINVALID_ARG);
    seal_fails(&h, SES_CONTENT_TYPE_MAX + 1, body, 2, rc, 2, sk, SES_EINVALID_ARG);
    seal_fails(&h, 255, body, 2, rc, 2, sk, SES_EINVALID_ARG);
    /* sequence numbers start at 1 */
    struct ses_envelope_header h0 = h;
    h0.sender_seq = 0;
    seal_fails(&h0, 1, body, 2, rc, 2, sk, SES_EINVALID_ARG);
    h0.sender_seq = SES_ENVELOPE_SEQ_MAX + 1; /* and end at 2^53 - 1 */
    seal_fails(&h0, 1, body, 2, rc, 2, sk, SES_EINVALID_ARG);
    /* body too large; NULL body with a length */
    uint8_t *big = calloc(1, SES_ENVELOPE_BODY_MAX + 1);
    assert_non_null(big);
    seal_fails(&h, 1, big, SES_ENVELOPE_BODY_MAX + 1, rc, 2, sk, SES_ETOO_LARGE);
    free(big);
    seal_fails(&h, 1, NULL, 1, rc, 2, sk, SES_EINVALID_ARG);
    /* NULL arguments */
    seal_fails(NULL, 1, body, 2, rc, 2, sk, SES_EINVALID_ARG);
    seal_fails(&h, 1, body, 2, NULL, 2, sk, SES_EINVALID_ARG);
    seal_fails(&h, 1, body, 2, rc, 2, NULL, SES_EINVALID_ARG);
    size_t len;
    uint8_t *env;
    assert_int_equal(ses_envelope_seal(NULL, &len, &h, 1, body, 2, rc, 2, sk), SES_EINVALID_ARG);
    assert_int_equal(ses_envelope_seal(&env, NULL, &h, 1, body, 2, rc, 2, sk), SES_EINVALID_ARG);
    assert_int_equal(ses_envelope_seal_det(&env, &len, &h, 1, body, 2, rc, 2, sk, NULL, NONCE,
                                           (const uint8_t(*)[32])K1),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_envelope_seal_det(&env, &len, &h, 1, body, 2, rc, 2, sk, K1, NONCE, NULL),
                     SES_EINVALID_ARG);
    /* an unusable (all-zero, low-order) recipient key */
    struct ses_recipient bad[2];
    memcpy(bad, rc, sizeof bad);
    memset(bad[1].box_pk, 0, 32);
    seal_fails(&h, 1, body, 2, bad, 2, sk, SES_EINVALID_ARG);
}

/* The largest envelope is exactly SES_ENVELOPE_MAX and fits a frame after base64url. */
static void test_max_and_min_size(void **state)
{
    (void)state;
    struct ses_envelope_header h;
    size_t len;
    make_hdr(&h, 0, 9);
    uint8_t *body = malloc(SES_ENVELOPE_BODY_MAX);
    assert_non_null(body);
    for (size_t i = 0; i < SES_ENVELOPE_BODY_MAX; i++)
        body[i] = (uint8_t)(i * 7);
    uint8_t *env = seal_to(0, &h, ALL + 1, 32, body, SES_ENVELOPE_BODY_MAX, &len);
    assert_int_equal(len, SES_ENVELOPE_MAX);
    assert_int_equal(ses_b64_len(len), SES_ENVELOPE_B64_MAX);
    char *text = malloc(SES_ENVELOPE_B64_MAX + 1);
    assert_non_null(text);
    assert_int_equal(ses_b64_encode(text, SES_ENVELOPE_B64_MAX + 1, env, len), 0);
    assert_int_equal(strlen(text), SES_ENVELOPE_B64_MAX);
    assert_true(strlen(text) + 1024 <= SES_MAX_FRAME);
    free(text);
    struct ses_opened o;
    assert_int_equal(open_as(32, 0, env, len, ALL, 33, 0, &o), 0);
    check_opened(&o, &h, body, SES_ENVELOPE_BODY_MAX, 32);
    ses_opened_free(&o);
    free(env);
    free(body);

    env = seal_to(0, &h, ALL + 1, 1, NULL, 0, &len);
    assert_int_equal(len, SES_ENVELOPE_MIN);
    assert_int_equal(open_as(1, 0, env, len, ALL, 2, 0, &o), 0);
    check_opened(&o, &h, NULL, 0, 1);
    ses_opened_free(&o);
    free(env);
}

/* Only the body's 256-byte bucket shows in the length (security.md T-ML-1). */
static void test_padding_buckets(void **state)
{
    (void)state;
    static const struct {
        size_t body, ct_len;
    } cases[] = {{0, 342},   {1, 342},   {200, 342}, {255, 342},    {256, 598},
                 {300, 598}, {511, 598}, {512, 854}, {65535, 65622}};
    struct ses_envelope_header h;
    make_hdr(&h, 0, 3);
    uint8_t *body = calloc(1, 65535);
    assert_non_null(body);
    memset(body, 'a', 65535);
    size_t len1 = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        uint8_t *env = seal_to(0, &h, ALL + 1, 2, body, cases[i].body, &len);
        struct ses_envelope_view v;
        assert_int_equal(ses_envelope_parse(env, len, &v), 0);
        assert_int_equal(v.ct_len, cases[i].ct_len);
        assert_int_equal(len, SES_ENVELOPE_OVERHEAD + 2 * 96 + cases[i].ct_len);
        if (cases[i].body == 1)
            len1 = len;
        if (cases[i].body == 200)
            assert_int_equal(len, len1); /* 1 and 200 bytes: the same length */
        if (cases[i].body == 300)
            assert_int_equal(len, len1 + 256); /* 300: the next bucket */
        struct ses_opened o;
        assert_int_equal(open_as(2, 0, env, len, ALL, 3, 0, &o), 0);
        assert_int_equal(o.body_len, cases[i].body);
        ses_opened_free(&o);
        free(env);
    }
    free(body);
}

/* --- parse and the server's view ------------------------------------------------------------ */

static void test_parse_view(void **state)
{
    (void)state;
    struct ses_envelope_header h;
    size_t len;
    make_hdr(&h, 0, 0x001F0E0D0C0B0A09ULL); /* 7 distinct bytes, below 2^53 */
    h.alert_type = 0xA1B2;
    h.severity = 0xC3;
    h.created_ms = 0x1112131415161718ULL;
    h.deadline_ms = 0x2122232425262728ULL;
    uint8_t *env = seal_det_to(0, &h, ALL + 1, 3, (const uint8_t *)"abc", 3, &len);
    struct ses_envelope_view v;
    memset(&v, 0, sizeof v);
    assert_int_equal(ses_envelope_parse(env, len, &v), 0);
    hdr_equal(&v.hdr, &h); /* every field decoded */
    assert_ptr_equal(v.kcommit, env + 131);
    assert_ptr_equal(v.nonce, env + 163);
    assert_memory_equal(v.nonce, NONCE, 24);
    uint8_t kc[32];
    hand_kcommit(kc, K1, h.msg_id);
    assert_memory_equal(v.kcommit, kc, 32);
    assert_int_equal(v.n_wraps, 3);
    assert_ptr_equal(v.wraps, env + 188);
    assert_int_equal(v.header_len, 188 + 3 * 96);
    assert_ptr_equal(v.ct, env + v.header_len + 4);
    assert_int_equal(v.ct_len, 342);
    assert_ptr_equal(v.sig, env + len - 64);
    assert_ptr_equal(v.bytes, env);
    assert_int_equal(v.len, len);
    /* big-endian on the wire */
    assert_memory_equal(env + 72, "\x00\x1F\x0E\x0D\x0C\x0B\x0A\x09", 8);
    assert_memory_equal(env + 112, "\x11\x12\x13\x14\x15\x16\x17\x18", 8);
    assert_memory_equal(env + 120, "\xA1\xB2\xC3\x21\x22\x23\x24\x25\x26\x27\x28", 11);
    assert_memory_equal(env + v.header_len, "\x00\x00\x01\x56", 4); /* 342 */
    assert_memory_equal(env, "SES1\x01\x01\x00\x00", 8);
    for (size_t i = 0; i < 3; i++)
        assert_memory_equal(ses_envelope_wrap_device(&v, i), g[1 + i].id, 16);
    assert_null(ses_envelope_wrap_device(&v, 3));
    assert_null(ses_envelope_wrap_device(NULL, 0));
    /* the server's checks: structure, then the signature with the sender's key only */
    assert_int_equal(ses_envelope_verify_sig(&v, g[0].sign_pk), 0);
    assert_int_equal(ses_envelope_verify_sig(&v, g[1].sign_pk), SES_EBAD_SIGNATURE);
    assert_int_equal(ses_envelope_verify_sig(&v, g[0].box_pk), SES_EBAD_SIGNATURE);
    assert_int_equal(ses_envelope_verify_sig(NULL, g[0].sign_pk), SES_EINVALID_ARG);
    assert_int_equal(ses_envelope_verify_sig(&v, NULL), SES_EINVALID_ARG);
    assert_int_equal(ses_envelope_parse(NULL, len, &v), SES_EINVALID_ARG);
    assert_int_equal(ses_envelope_parse(env, len, NULL), SES_EINVALID_ARG);
    free(env);
}

/* The deterministic wrap is crypto_box_seal's construction: crypto_box_seal_open opens it. */
static void test_det_wrap_is_a_sealed_box(void **state)
{
    (void)state;
    struct ses_envelope_header h;
    size_t len;
    make_hdr(&h, 0, 1);
    uint8_t *env = seal_det_to(0, &h, ALL + 1, 5, (const uint8_t *)"k", 1, &len);
    uint8_t esk[5][32];
    eph_keys(esk, 5, 9);
    for (size_t i = 0; i < 5; i++) {
        const uint8_t *w = env + 188 + 96 * i;
        uint8_t epk[32], k[32], mine[80];
        assert_memory_equal(w, g[1 + i].id, 16);
        assert_int_equal(crypto_scalarmult_base(epk, esk[i]), 0);
        assert_memory_equal(w + 16, epk, 32);
        assert_int_equal(crypto_box_seal_open(k, w + 16, 80, g[1 + i].box_pk, g[1 + i].box_sk), 0);
        assert_memory_equal(k, K1, 32);
        /* not with another device's key */
        assert_int_not_equal(crypto_box_seal_open(k, w + 16, 80, g[2 + i].box_pk, g[2 + i].box_sk),
                             0);
        hand_seal(mine, K1, g[1 + i].box_pk, esk[i]);
        assert_memory_equal(w + 16, mine, 80);
    }
    free(env);
}

/* --- tampering ------------------------------------------------------------------------------ */

/* The code a single-byte change at offset i must give: a structural field decides first. */
static int tamper_code(size_t i, uint8_t mask, size_t h)
{
    if (i < 8)
        return SES_EUNSUPPORTED; /* magic, version, suite, flags */
    if (i == SES_ENVELOPE_OFF_N_WRAPS || (i >= h && i < h + 4))
        return SES_EBAD_ENVELOPE; /* n_wraps, ct_len */
    /* sender_seq (7) past 2^53 - 1: its top byte, or the top 3 bits of the next one */
    if (i == SES_ENVELOPE_OFF_SEQ || (i == SES_ENVELOPE_OFF_SEQ + 1 && (mask & 0xe0) != 0))
        return SES_EBAD_ENVELOPE;
    return SES_EBAD_SIGNATURE;
}

static void test_tamper_every_byte(void **state)
{
    (void)state;
    static const size_t exp[] = {0, 1, 2, 3};
    static const uint8_t masks[] = {0x01, 0x80, 0xff};
    struct ses_envelope_header h;
    size_t len;
    make_hdr(&h, 0, 7);
    uint8_t *env = seal_det_to(0, &h, ALL + 1, 3, (const uint8_t *)"tamper me", 9, &len);
    size_t hl = 188 + 3 * 96;
    struct ses_opened o;
    assert_int_equal(open_as(2, 0, env, len, exp, 4, 0, &o), 0);
    ses_opened_free(&o);
    size_t counts[4] = {0};
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < sizeof masks; k++) {
            int want = tamper_code(i, masks[k], hl);
            env[i] ^= masks[k];
            open_fails(2, 0, env, len, exp, 4, 0, want);
            /* the server's path gives the same answer */
            struct ses_envelope_view v;
            int rc = ses_envelope_parse(env, len, &v);
            if (rc == 0)
                rc = ses_envelope_verify_sig(&v, g[0].sign_pk);
            assert_int_equal(rc, want);
            env[i] ^= masks[k];
            counts[want == SES_EUNSUPPORTED ? 0 : want == SES_EBAD_ENVELOPE ? 1 : 2]++;
        }
    }
    assert_int_equal(counts[0], 8 * 3);
    assert_int_equal(counts[1], 5 * 3 + 3 + 2); /* n_wraps, ct_len; sender_seq's top bits */
    assert_int_equal(counts[2], (len - 13) * 3 - 5);
    assert_int_equal(open_as(2, 0, env, len, exp, 4, 0, &o), 0);
    ses_opened_free(&o);
    free(env);
}

/* Version, suite, magic and flags: anything but SES1 v1 suite 1 flags 0 is refused, even when
 * correctly signed (no downgrade, no unknown feature). */
static void test_downgrade(void **state)
{
    (void)state;
    static const size_t exp[] = {0, 1, 2};
    struct ses_envelope_header h;
    size_t len;
    make_hdr(&h, 0, 7);
    uint8_t *env = seal_det_to(0, &h, ALL + 1, 2, (const uint8_t *)"v", 1, &len);
    static const struct {
        size_t off;
        uint8_t val;
    } bytes[] = {{4, 0x00}, {4, 0x02}, {4, 0xff}, {5, 0x00}, {5, 0x02}, {5, 0xff},
                 {0, 'M'},  {3, '0'},  {3, '2'},  {0, 's'},  {6, 0x80}, {7, 0x01}};
    for (size_t i = 0; i < sizeof bytes / sizeof bytes[0]; i++) {
        uint8_t *e = exact(env, len);
        e[bytes[i].off] = bytes[i].val;
        open_fails(1, 0, e, len, exp, 3, 0, SES_EUNSUPPORTED);
        free(e);
    }
    /* correctly signed by the sender, still refused */
    for (int which = 0; which < 8; which++) {
        struct hb b;
        hb_init(&b, 0, 7, ALL + 1, 2, (const uint8_t *)"v", 1);
        switch (which) {
        case 0:
            b.ident[4] = 0;
            break;
        case 1:
            b.ident[4] = 2;
            break;
        case 2:
            b.ident[5] = 0x00;
            break;
        case 3:
            b.ident[5] = 0x02;
            break;
        case 4:
            b.ident[5] = 0xff;
            break;
        case 5:
            memcpy(b.ident, "MHE1", 4);
            break;
        case 6:
            b.flags = 1;
            break;
        default:
            b.flags = 0x8000;
            break;
        }
        uint8_t *e = hb_build(&b, &len);
        open_fails(1, 0, e, len, exp, 3, 0, SES_EUNSUPPORTED);
        free(e);
    }
    /* the unchanged hand-built one opens: the knobs are the only difference */
    struct hb b;
    hb_init(&b, 0, 7, ALL + 1, 2, (const uint8_t *)"v", 1);
    uint8_t *e = hb_build(&b, &len);
    struct ses_opened o;
    assert_int_equal(open_as(1, 0, e, len, exp, 3, 0, &o), 0);
    ses_opened_free(&o);
    free(e);
    free(env);
}

static void test_truncation_and_trailing(void **state)
{
    (void)state;
    static const size_t exp[] = {0, 1, 2};
    struct ses_envelope_header h;
    size_t len;
    make_hdr(&h, 0, 7);
    uint8_t *env = seal_det_to(0, &h, ALL + 1, 2, (const uint8_t *)"cut", 3, &len);
    for (size_t k = 0; k < len; k++) {
        uint8_t *e = exact(env, k);
        struct ses_envelope_view v;
        assert_int_equal(ses_envelope_parse(e, k, &v), SES_EBAD_ENVELOPE);
        open_fails(1, 0, e, k, exp, 3, 0, SES_EBAD_ENVELOPE);
        free(e);
    }
    uint8_t *e = malloc(len + 1);
    assert_non_null(e);
    memcpy(e, env, len);
    for (int t = 0; t < 2; t++) {
        e[len] = t ? 0xff : 0x00;
        open_fails(1, 0, e, len + 1, exp, 3, 0, SES_EBAD_ENVELOPE);
    }
    free(e);
    /* longer than any envelope */
    e = calloc(1, SES_ENVELOPE_MAX + 1);
    assert_non_null(e);
    memcpy(e, env, len);
    struct ses_envelope_view v;
    assert_int_equal(ses_envelope_parse(e, SES_ENVELOPE_MAX + 1, &v), SES_EBAD_ENVELOPE);
    free(e);
    free(env);
}

/* Structural errors in envelopes that are correctly signed. */
static void test_structure_signed(void **state)
{
    (void)state;
    static const size_t exp[] = {0, 1, 2, 3};
    size_t len;
    uint8_t body[300];
    memset(body, 'b', sizeof body);
    struct hb b;
    /* 0 wraps, 33 wraps */
    size_t idx33[33];
    for (size_t i = 0; i < 33; i++)
        idx33[i] = 1 + i;
    size_t counts[] = {0, 33};
    for (size_t c = 0; c < 2; c++) {
        hb_init(&b, 0, 7, idx33, counts[c], body, 10);
        uint8_t *e = hb_build(&b, &len);
        open_fails(1, 0, e, len, exp, 4, 0, SES_EBAD_ENVELOPE);
        free(e);
    }
    /* the same device wrapped twice */
    static const size_t twice[] = {1, 2, 1};
    hb_init(&b, 0, 7, twice, 3, body, 10);
    uint8_t *e = hb_build(&b, &len);
    open_fails(2, 0, e, len, exp, 4, 0, SES_EBAD_ENVELOPE);
    free(e);
    /* ciphertext not on the padding grid (body not padded) */
    hb_init(&b, 0, 7, ALL + 1, 2, body, 300);
    b.pad_mode = 2;
    e = hb_build(&b, &len);
    open_fails(1, 0, e, len, exp, 4, 0, SES_EBAD_ENVELOPE);
    free(e);
}

/* Malformed inner plaintext, correctly encrypted and signed. */
static void test_inner_malformed(void **state)
{
    (void)state;
    static const size_t exp[] = {0, 1, 2};
    size_t len;
    static const uint8_t body[] = "inner";
    struct hb b;
    for (int which = 0; which < 6; which++) {
        hb_init(&b, 0, 7, ALL + 1, 2, body, 5);
        switch (which) {
        case 0:
            b.inner_ver = 2;
            break;
        case 1:
            b.inner_ver = 0;
            break;
        case 2:
            b.content_type = 0;
            break;
        case 3:
            b.body_len_field = 6;
            break;
        case 4:
            b.body_len_field = 4;
            break;
        default:
            b.pad_mode = 1; /* zeros without the 0x80 marker */
            break;
        }
        uint8_t *e = hb_build(&b, &len);
        open_fails(1, 0, e, len, exp, 3, 0, SES_EBAD_ENVELOPE);
        free(e);
    }
    /* a reserved content type is returned, not refused: the application shows "unsupported" */
    hb_init(&b, 0, 7, ALL + 1, 2, body, 5);
    b.content_type = 200;
    uint8_t *e = hb_build(&b, &len);
    struct ses_opened o;
    assert_int_equal(open_as(1, 0, e, len, exp, 3, 0, &o), 0);
    assert_int_equal(o.content_type, 200);
    assert_int_equal(o.body_len, 5);
    ses_opened_free(&o);
    free(e);
}

/* --- re-signing and inner/outer binding ----------------------------------------------------- */

static void test_resigned(void **state)
{
    (void)state;
    static const size_t exp[] = {0, 1, 2, 3, 4};
    const size_t mallory = 4;
    static const uint8_t body[] = "Alice's words";
    struct ses_envelope_header h;
    size_t len;
    make_hdr(&h, 0, 7);
    static const size_t to[] = {1, 2, 4};
    uint8_t *env = seal_det_to(0, &h, to, 3, body, sizeof body - 1, &len);

    /* 1. the same bytes re-signed by another key: bad signature under the sender's key */
    uint8_t *e = exact(env, len);
    uint8_t *m = malloc(19 + len - 64);
    assert_non_null(m);
    memcpy(m, "sesame/v1/envelope", 19);
    memcpy(m + 19, e, len - 64);
    crypto_sign_detached(e + len - 64, NULL, m, 19 + len - 64, g[mallory].sign_sk);
    open_fails(2, 0, e, len, exp, 5, 0, SES_EBAD_SIGNATURE);
    struct ses_envelope_view v;
    assert_int_equal(ses_envelope_parse(e, len, &v), 0);
    assert_int_equal(ses_envelope_verify_sig(&v, g[0].sign_pk), SES_EBAD_SIGNATURE);
    assert_int_equal(ses_envelope_verify_sig(&v, g[mallory].sign_pk), 0);
    free(m);
    free(e);

    /* 2. Mallory puts her own ids in the header and signs: the header is the AEAD's associated
     * data, so the ciphertext no longer decrypts for anyone */
    e = exact(env, len);
    memcpy(e + 40, g[mallory].user, 16);
    memcpy(e + 56, g[mallory].id, 16);
    m = malloc(19 + len - 64);
    assert_non_null(m);
    memcpy(m, "sesame/v1/envelope", 19);
    memcpy(m + 19, e, len - 64);
    crypto_sign_detached(e + len - 64, NULL, m, 19 + len - 64, g[mallory].sign_sk);
    open_fails(2, mallory, e, len, exp, 5, 0, SES_EDECRYPT_FAILED);
    free(m);
    free(e);

    /* 3. Mallory, a recipient, decrypts Alice's inner plaintext and re-encrypts it unchanged
     * (Alice's ids inside) under a header with her own ids: the inner/outer check refuses it */
    struct ses_opened o;
    assert_int_equal(open_as(mallory, 0, env, len, exp, 5, 0, &o), 0);
    struct hb b;
    hb_init(&b, mallory, 7, to, 3, o.body, o.body_len);
    memcpy(b.hdr.msg_id, h.msg_id, 16);
    memcpy(b.in_user, g[0].user, 16);
    memcpy(b.in_dev, g[0].id, 16);
    memcpy(b.in_msg, h.msg_id, 16);
    e = hb_build(&b, &len);
    ses_opened_free(&o);
    open_fails(2, mallory, e, len, exp, 5, 0, SES_EINNER_MISMATCH);
    free(e);

    /* each inner field on its own */
    for (int which = 0; which < 4; which++) {
        hb_init(&b, 0, 7, to, 3, body, sizeof body - 1);
        uint8_t *f = which == 0   ? b.in_user
                     : which == 1 ? b.in_dev
                     : which == 2 ? b.in_msg
                                  : b.in_thread;
        f[15] ^= 1;
        e = hb_build(&b, &len);
        open_fails(1, 0, e, len, exp, 5, 0, SES_EINNER_MISMATCH);
        free(e);
    }
    free(env);
}

/* --- invisible salamanders ------------------------------------------------------------------
 * Poly1305 is not key-committing: a sender can find one ciphertext and tag that authenticate
 * under two keys K1 and K2 (Len, Grubbs, Ristenpart, "Partitioning Oracle Attacks", 2021). We
 * build one for XChaCha20-Poly1305-IETF by solving for one 16-byte ciphertext block: with
 * h_k(m) = H_k + m * r_k^e (mod p = 2^130 - 5), tags are equal when H_1 + m r_1^e + s_1 = H_2 +
 * m r_2^e + s_2 as integers, which holds for m = (H_2 - H_1 + s_2 - s_1) / (r_1^e - r_2^e) mod p
 * whenever m is a valid block (2^128 <= m < 2^129) and no reduction mod p separates the sums;
 * otherwise change another block and retry. Then commit to K1, wrap K1 to A and K2 to B. */

typedef struct {
    uint64_t l[5]; /* 26-bit limbs */
} fe;
#define M26 0x3ffffffULL

static uint64_t le32(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
}

static void fe_load(fe *r, const uint8_t b[16], int hibit)
{
    uint64_t t0 = le32(b), t1 = le32(b + 4), t2 = le32(b + 8), t3 = le32(b + 12);
    r->l[0] = t0 & M26;
    r->l[1] = ((t0 >> 26) | (t1 << 6)) & M26;
    r->l[2] = ((t1 >> 20) | (t2 << 12)) & M26;
    r->l[3] = ((t2 >> 14) | (t3 << 18)) & M26;
    r->l[4] = (t3 >> 8) | ((uint64_t)hibit << 24);
}

static void fe_carry(fe *r)
{
    for (;;) {
        uint64_t c = 0;
        for (int i = 0; i < 5; i++) {
            r->l[i] += c;
            c = r->l[i] >> 26;
            r->l[i] &= M26;
        }
        if (c == 0)
            return;
        r->l[0] += 5 * c;
    }
}

static void fe_canon(fe *r)
{
    fe_carry(r);
    fe t = *r;
    uint64_t c = 5;
    for (int i = 0; i < 5; i++) {
        t.l[i] += c;
        c = t.l[i] >> 26;
        t.l[i] &= M26;
    }
    if (c) /* r >= p: r - p = r + 5 - 2^130 */
        *r = t;
}

static void fe_add(fe *r, const fe *a, const fe *b)
{
    for (int i = 0; i < 5; i++)
        r->l[i] = a->l[i] + b->l[i];
    fe_carry(r);
}

static void fe_sub(fe *r, const fe *a, const fe *b)
{
    fe t = *b;
    fe_canon(&t);
    for (int i = 0; i < 5; i++) /* a + 2p - b */
        r->l[i] = a->l[i] + (i == 0 ? 2 * (M26 - 4) : 2 * M26) - t.l[i];
    fe_carry(r);
}

static void fe_mul(fe *r, const fe *a, const fe *b)
{
    uint64_t d[9] = {0};
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            d[i + j] += a->l[i] * b->l[j];
    for (int k = 8; k >= 5; k--)
        d[k - 5] += 5 * d[k]; /* 2^130 = 5 (mod p) */
    for (int i = 0; i < 5; i++)
        r->l[i] = d[i];
    fe_carry(r);
}

static void fe_pow(fe *r, const fe *a, const uint8_t e[17])
{
    fe x = {{1, 0, 0, 0, 0}};
    for (int bit = 17 * 8 - 1; bit >= 0; bit--) {
        fe_mul(&x, &x, &x);
        if (e[bit / 8] >> (bit % 8) & 1)
            fe_mul(&x, &x, a);
    }
    *r = x;
}

static void fe_inv(fe *r, const fe *a)
{
    uint8_t pm2[17]; /* p - 2 = 2^130 - 7, little-endian */
    memset(pm2, 0xff, sizeof pm2);
    pm2[0] = 0xf9;
    pm2[16] = 0x03;
    fe_pow(r, a, pm2);
}

static void fe_store17(uint8_t out[17], const fe *a)
{
    fe t = *a;
    fe_canon(&t);
    uint64_t lo = t.l[0] | t.l[1] << 26 | t.l[2] << 52;
    uint64_t hi = t.l[2] >> 12 | t.l[3] << 14 | t.l[4] << 40;
    for (int i = 0; i < 8; i++) {
        out[i] = (uint8_t)(lo >> (8 * i));
        out[8 + i] = (uint8_t)(hi >> (8 * i));
    }
    out[16] = (uint8_t)(t.l[4] >> 24);
}

/* Poly1305's polynomial over the 16-byte blocks of msg, block `skip` counted as 0. */
static void poly_h(fe *h, const uint8_t *msg, size_t nblocks, const fe *r, size_t skip)
{
    memset(h, 0, sizeof *h);
    for (size_t i = 0; i < nblocks; i++) {
        fe m = {{0}};
        if (i != skip)
            fe_load(&m, msg + 16 * i, 1);
        fe_add(h, h, &m);
        fe_mul(h, h, r);
    }
}

/* One-time key of XChaCha20-Poly1305-IETF for (key, nonce): r (clamped) and s; and the
 * ChaCha20-IETF subkey and nonce that produce its keystream. */
struct aead_keys {
    fe r, s;
    uint8_t rs[32], subkey[32], npub2[12];
};

static void aead_keys(struct aead_keys *k, const uint8_t key[32], const uint8_t nonce[24])
{
    crypto_core_hchacha20(k->subkey, nonce, key, NULL);
    memset(k->npub2, 0, 4);
    memcpy(k->npub2 + 4, nonce + 16, 8);
    crypto_stream_chacha20_ietf(k->rs, 32, k->npub2, k->subkey);
    uint8_t r[16];
    memcpy(r, k->rs, 16);
    r[3] &= 15;
    r[7] &= 15;
    r[11] &= 15;
    r[15] &= 15;
    r[4] &= 252;
    r[8] &= 252;
    r[12] &= 252;
    fe_load(&k->r, r, 0);
    fe_load(&k->s, k->rs + 16, 0);
}

/* Poly1305 input of the AEAD: aad | pad16 | c | pad16 | le64(aad_len) | le64(c_len). */
static size_t mac_input(uint8_t *out, const uint8_t *aad, size_t alen, const uint8_t *c,
                        size_t clen)
{
    size_t p = 0;
    memcpy(out, aad, alen);
    p = (alen + 15) / 16 * 16;
    memset(out + alen, 0, p - alen);
    memcpy(out + p, c, clen);
    size_t q = p + (clen + 15) / 16 * 16;
    memset(out + p + clen, 0, q - p - clen);
    for (size_t i = 0; i < 8; i++) {
        out[q + i] = (uint8_t)((uint64_t)alen >> (8 * i));
        out[q + 8 + i] = (uint8_t)((uint64_t)clen >> (8 * i));
    }
    return q + 16;
}

/* Finds a ciphertext of b's inner plaintext (b->body is varied) under K1 whose tag also
 * authenticates under K2, for the associated data hdr[0, h). Writes the K1 plaintext to pt and
 * ciphertext | tag to ct; returns the plaintext length. */
static size_t two_key_ciphertext(struct hb *b, uint8_t *body, const uint8_t *hdr, size_t h,
                                 uint8_t pt[512], uint8_t ct[512 + 16])
{
    struct aead_keys k1, k2;
    aead_keys(&k1, K1, NONCE);
    aead_keys(&k2, K2, NONCE);
    const size_t free_block = 5; /* ciphertext bytes 80..95 = body bytes 10..25 */
    uint8_t c[512], mac[2048], other[512];
    for (uint32_t attempt = 0; attempt < 4096; attempt++) {
        for (int i = 0; i < 4; i++) /* body bytes 0..3: ciphertext block 4 */
            body[i] = (uint8_t)(attempt >> (8 * i));
        size_t pt_len = hb_inner(b, pt);
        assert_int_equal(pt_len, 70 + 256);
        crypto_stream_chacha20_ietf_xor_ic(c, pt, pt_len, k1.npub2, 1, k1.subkey);
        size_t mlen = mac_input(mac, hdr, h, c, pt_len);
        size_t q = mlen / 16, gb = (h + 15) / 16 + free_block;
        fe h1, h2, num, den, t1, t2, m;
        poly_h(&h1, mac, q, &k1.r, gb);
        poly_h(&h2, mac, q, &k2.r, gb);
        fe_sub(&num, &h2, &h1);
        fe_add(&num, &num, &k2.s);
        fe_sub(&num, &num, &k1.s);
        uint8_t e[17] = {0};
        e[0] = (uint8_t)(q - gb); /* r^(q - gb) multiplies block gb */
        fe_pow(&t1, &k1.r, e);
        fe_pow(&t2, &k2.r, e);
        fe_sub(&den, &t1, &t2);
        fe_inv(&den, &den);
        fe_mul(&m, &num, &den);
        uint8_t m17[17];
        fe_store17(m17, &m);
        if (m17[16] != 1) /* not a 16-byte block with its 2^128 bit */
            continue;
        memcpy(c + 16 * free_block, m17, 16);
        /* the plaintext that encrypts to this ciphertext under K1, and its real tag */
        crypto_stream_chacha20_ietf_xor_ic(pt, c, pt_len, k1.npub2, 1, k1.subkey);
        unsigned long long clen = 0;
        crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, pt, pt_len, hdr, h, NULL, NONCE, K1);
        assert_int_equal(clen, pt_len + 16);
        assert_memory_equal(ct, c, pt_len);
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(other, NULL, NULL, ct, clen, hdr, h, NONCE,
                                                       K2) != 0)
            continue; /* the sums differ by p: try again */
        /* one ciphertext and tag, two keys, two different plaintexts */
        assert_memory_not_equal(other, pt, pt_len);
        return pt_len;
    }
    fail_msg("no two-key ciphertext in 4096 attempts");
    return 0;
}

static void test_salamander(void **state)
{
    (void)state;
    const size_t A = 2, B = 3;
    static const size_t to[] = {2, 3};
    static const size_t exp[] = {0, 2, 3};

    /* sanity: our Poly1305 is libsodium's */
    struct aead_keys k1;
    aead_keys(&k1, K1, NONCE);
    uint8_t msg[64], tag[16], h17[17], mine[16];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 13 + 1);
    crypto_onetimeauth_poly1305(tag, msg, sizeof msg, k1.rs);
    fe hh;
    poly_h(&hh, msg, 4, &k1.r, SIZE_MAX);
    fe_store17(h17, &hh);
    unsigned carry = 0;
    for (int i = 0; i < 16; i++) {
        carry += h17[i] + k1.rs[16 + i];
        mine[i] = (uint8_t)carry;
        carry >>= 8;
    }
    assert_memory_equal(mine, tag, 16);

    /* a sender with a valid signature commits to K1, wraps K1 to A and K2 to B */
    struct hb b;
    uint8_t body[100], hdr[188 + 2 * 96], pt[512], ct[512 + 16];
    memset(body, 'z', sizeof body);
    hb_init(&b, 0, 11, to, 2, body, sizeof body);
    memcpy(b.wrap_key[0], K1, 32);
    memcpy(b.wrap_key[1], K2, 32);
    size_t h = hb_header(&b, hdr);
    assert_int_equal(h, sizeof hdr);
    size_t pt_len = two_key_ciphertext(&b, body, hdr, h, pt, ct);
    size_t len;
    uint8_t *env = hb_assemble(&b, hdr, h, ct, pt_len + 16, &len);
    /* A (key K1, the committed one) reads the message */
    struct ses_opened o;
    assert_int_equal(open_as(A, 0, env, len, exp, 3, 0, &o), 0);
    assert_int_equal(o.body_len, sizeof body);
    assert_memory_equal(o.body, pt + 70, sizeof body);
    ses_opened_free(&o);
    /* B's K2 would pass the AEAD (checked above), but not the commitment */
    open_fails(B, 0, env, len, exp, 3, 0, SES_EBAD_COMMITMENT);
    free(env);

    /* committing to K2 instead (a new header, so a new collision): A fails the commitment; B's
     * K2 decrypts "successfully" to bytes that are no inner plaintext */
    memcpy(b.commit_key, K2, 32);
    h = hb_header(&b, hdr);
    pt_len = two_key_ciphertext(&b, body, hdr, h, pt, ct);
    env = hb_assemble(&b, hdr, h, ct, pt_len + 16, &len);
    open_fails(A, 0, env, len, exp, 3, 0, SES_EBAD_COMMITMENT);
    open_fails(B, 0, env, len, exp, 3, 0, SES_EBAD_ENVELOPE);
    free(env);
}

/* --- recipients: ghosts, missing devices, not mine, wrong key ------------------------------- */

static void test_recipient_set(void **state)
{
    (void)state;
    struct ses_envelope_header h;
    size_t len;
    make_hdr(&h, 0, 20);
    static const size_t to[] = {1, 2, 3};
    uint8_t *env = seal_to(0, &h, to, 3, (const uint8_t *)"who", 3, &len);
    struct ses_opened o;

    /* a wrap to device 3, which the receiver does not expect: a ghost */
    static const size_t no3[] = {0, 1, 2};
    open_fails(2, 0, env, len, no3, 3, 0, SES_EGHOST_DEVICE);
    open_fails(3, 0, env, len, no3, 3, 0, SES_EGHOST_DEVICE);
    open_fails(2, 0, env, len, NULL, 0, 0, SES_EGHOST_DEVICE);

    /* expected devices without a wrap are counted, the sending device excepted */
    static const size_t more[] = {0, 1, 2, 3, 4, 5};
    assert_int_equal(open_as(2, 0, env, len, more, 6, 0, &o), 0);
    assert_int_equal(o.n_wraps, 3);
    assert_int_equal(o.n_missing, 2);
    ses_opened_free(&o);
    static const size_t just[] = {3, 2, 1};
    assert_int_equal(open_as(1, 0, env, len, just, 3, 0, &o), 0);
    assert_int_equal(o.n_missing, 0);
    ses_opened_free(&o);

    /* an expected device that is not among the wraps */
    open_fails(4, 0, env, len, more, 6, 0, SES_ENOT_A_RECIPIENT);
    open_fails(0, 0, env, len, more, 6, 0, SES_ENOT_A_RECIPIENT);

    /* the expected list: distinct, non-NULL when non-empty */
    static const size_t twice[] = {0, 1, 2, 3, 2};
    open_fails(2, 0, env, len, twice, 5, 0, SES_EINVALID_ARG);
    struct ses_opened ref;
    memset(&o, 0x5a, sizeof o);
    memset(&ref, 0x5a, sizeof ref);
    assert_int_equal(ses_envelope_open(env, len, g[2].id, g[2].box_pk, g[2].box_sk, g[0].sign_pk,
                                       NULL, 3, 0, &o),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_envelope_open(NULL, len, g[2].id, g[2].box_pk, g[2].box_sk, g[0].sign_pk,
                                       NULL, 0, 0, &o),
                     SES_EINVALID_ARG);
    assert_int_equal(
        ses_envelope_open(env, len, NULL, g[2].box_pk, g[2].box_sk, g[0].sign_pk, NULL, 0, 0, &o),
        SES_EINVALID_ARG);
    assert_memory_equal(&o, &ref, sizeof o);
    assert_int_equal(ses_envelope_open(env, len, g[2].id, g[2].box_pk, g[2].box_sk, g[0].sign_pk,
                                       NULL, 0, 0, NULL),
                     SES_EINVALID_ARG);
    free(env);

    /* my device id, but the key wrapped to someone else's box key */
    struct ses_recipient rc[2];
    rcpts_of(rc, to, 2);
    memcpy(rc[1].box_pk, g[3].box_pk, 32);
    uint8_t *x = NULL;
    assert_int_equal(ses_envelope_seal(&x, &len, &h, SES_CONTENT_TEXT, (const uint8_t *)"k", 1, rc,
                                       2, g[0].sign_sk),
                     0);
    env = exact(x, len);
    free(x);
    static const size_t exp[] = {0, 1, 2};
    open_fails(2, 0, env, len, exp, 3, 0, SES_EDECRYPT_FAILED);
    assert_int_equal(open_as(1, 0, env, len, exp, 3, 0, &o), 0);
    ses_opened_free(&o);
    free(env);

    /* a commitment that matches nothing */
    struct hb b;
    hb_init(&b, 0, 20, to, 3, (const uint8_t *)"c", 1);
    memcpy(b.commit_key, K2, 32);
    env = hb_build(&b, &len);
    open_fails(1, 0, env, len, more, 6, 0, SES_EBAD_COMMITMENT);
    free(env);
}

static void test_replay(void **state)
{
    (void)state;
    static const size_t exp[] = {0, 1, 2};
    struct ses_envelope_header h;
    size_t len;
    make_hdr(&h, 0, 10);
    uint8_t *env = seal_to(0, &h, ALL + 1, 2, (const uint8_t *)"once", 4, &len);
    struct ses_opened o;
    assert_int_equal(open_as(2, 0, env, len, exp, 3, 9, &o), 0);
    ses_opened_free(&o);
    assert_int_equal(open_as(2, 0, env, len, exp, 3, 0, &o), 0);
    ses_opened_free(&o);
    open_fails(2, 0, env, len, exp, 3, 10, SES_EREPLAYED);
    open_fails(2, 0, env, len, exp, 3, 11, SES_EREPLAYED);
    open_fails(2, 0, env, len, exp, 3, UINT64_MAX, SES_EREPLAYED);
    free(env);

    /* the last sequence number there is: 2^53 - 1 */
    make_hdr(&h, 0, SES_ENVELOPE_SEQ_MAX);
    env = seal_to(0, &h, ALL + 1, 2, (const uint8_t *)"last", 4, &len);
    assert_int_equal(open_as(2, 0, env, len, exp, 3, SES_ENVELOPE_SEQ_MAX - 1, &o), 0);
    assert_true(o.hdr.sender_seq == SES_ENVELOPE_SEQ_MAX);
    ses_opened_free(&o);
    open_fails(2, 0, env, len, exp, 3, SES_ENVELOPE_SEQ_MAX, SES_EREPLAYED);
    free(env);

    /* sequence 0 and sequences past 2^53 - 1 (which the sealer refuses) are never accepted: a
     * store or a reader keeping them in a signed 64-bit integer would see them negative */
    static const uint64_t bad[] = {0, SES_ENVELOPE_SEQ_MAX + 1, (uint64_t)INT64_MAX + 1,
                                   UINT64_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct hb b;
        hb_init(&b, 0, bad[i], ALL + 1, 2, (const uint8_t *)"bad seq", 7);
        env = hb_build(&b, &len);
        open_fails(2, 0, env, len, exp, 3, 0, SES_EBAD_ENVELOPE);
        free(env);
    }
}

/* --- roster hash ---------------------------------------------------------------------------- */

static void hand_roster(uint8_t out[32], const uint8_t thread[16], uint32_t version,
                        const uint8_t (*sorted)[16], size_t n)
{
    uint8_t *in = malloc(17 + 16 + 4 + 1 + 16 * n);
    assert_non_null(in);
    memcpy(in, "sesame/v1/roster", 17);
    memcpy(in + 17, thread, 16);
    be(in + 33, version, 4);
    in[37] = (uint8_t)n;
    if (n > 0)
        memcpy(in + 38, sorted, 16 * n);
    crypto_generichash(out, 32, in, 38 + 16 * n, NULL, 0);
    free(in);
}

static void test_roster_hash(void **state)
{
    (void)state;
    uint8_t thread[16], ids[256][16], sorted[3][16], a[32], b[32], want[32];
    derive(thread, 16, "thread", 1, 0);
    for (size_t i = 0; i < 256; i++)
        derive(ids[i], 16, "member", (unsigned)i, 0);
    /* three members in two orders, checked against the sorted bytes by hand */
    uint8_t three[3][16], rev[3][16];
    memcpy(three, ids, sizeof three);
    for (size_t i = 0; i < 3; i++)
        memcpy(rev[i], ids[2 - i], 16);
    memcpy(sorted, three, sizeof sorted);
    /* sorted by hand, in memcmp order */
    for (size_t i = 0; i < 3; i++)
        for (size_t j = i + 1; j < 3; j++)
            if (memcmp(sorted[j], sorted[i], 16) < 0) {
                uint8_t t[16];
                memcpy(t, sorted[i], 16);
                memcpy(sorted[i], sorted[j], 16);
                memcpy(sorted[j], t, 16);
            }
    hand_roster(want, thread, 0x01020304, (const uint8_t(*)[16])sorted, 3);
    assert_int_equal(ses_roster_hash(a, thread, 0x01020304, (const uint8_t(*)[16])three, 3), 0);
    assert_int_equal(ses_roster_hash(b, thread, 0x01020304, (const uint8_t(*)[16])rev, 3), 0);
    assert_memory_equal(a, want, 32);
    assert_memory_equal(b, want, 32);
    /* every input matters */
    assert_int_equal(ses_roster_hash(b, thread, 0x01020305, (const uint8_t(*)[16])three, 3), 0);
    assert_memory_not_equal(a, b, 32);
    assert_int_equal(ses_roster_hash(b, thread, 0x01020304, (const uint8_t(*)[16])three, 2), 0);
    assert_memory_not_equal(a, b, 32);
    thread[0] ^= 1;
    assert_int_equal(ses_roster_hash(b, thread, 0x01020304, (const uint8_t(*)[16])three, 3), 0);
    assert_memory_not_equal(a, b, 32);
    thread[0] ^= 1;
    /* empty roster, 255 members; 256 members and duplicates refused, out untouched */
    hand_roster(want, thread, 0, NULL, 0);
    assert_int_equal(ses_roster_hash(a, thread, 0, NULL, 0), 0);
    assert_memory_equal(a, want, 32);
    assert_int_equal(ses_roster_hash(a, thread, 1, (const uint8_t(*)[16])ids, 255), 0);
    memset(b, 0x33, 32);
    memcpy(want, b, 32);
    assert_int_equal(ses_roster_hash(b, thread, 1, (const uint8_t(*)[16])ids, 256),
                     SES_EINVALID_ARG);
    memcpy(ids[7], ids[3], 16);
    assert_int_equal(ses_roster_hash(b, thread, 1, (const uint8_t(*)[16])ids, 8), SES_EINVALID_ARG);
    assert_memory_equal(b, want, 32);
    assert_int_equal(ses_roster_hash(b, thread, 1, NULL, 1), SES_EINVALID_ARG);
    assert_int_equal(ses_roster_hash(b, NULL, 1, (const uint8_t(*)[16])ids, 1), SES_EINVALID_ARG);
    assert_int_equal(ses_roster_hash(NULL, thread, 1, (const uint8_t(*)[16])ids, 1),
                     SES_EINVALID_ARG);
}

/* --- known-answer vectors ------------------------------------------------------------------- */

static const char *str_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static json_int_t int_at(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static uint64_t dec_at(const json_t *obj, const char *key)
{
    const char *s = str_at(obj, key);
    char *end = NULL;
    assert_true(s[0] >= '0' && s[0] <= '9');
    unsigned long long v = strtoull(s, &end, 10);
    assert_true(*end == '\0');
    return v;
}

/* Strict lower-case hex of exactly n bytes. */
static void hex_is(const char *h, uint8_t *out, size_t n)
{
    size_t got = 0;
    const char *end = NULL;
    assert_int_equal(strlen(h), 2 * n);
    for (const char *p = h; *p; p++)
        assert_non_null(strchr("0123456789abcdef", *p));
    assert_int_equal(sodium_hex2bin(out, n, h, 2 * n, NULL, &got, &end), 0);
    assert_int_equal(got, n);
}

static void hex_at(const json_t *obj, const char *key, uint8_t *out, size_t n)
{
    hex_is(str_at(obj, key), out, n);
}

/* hex of unknown length: malloc'd, *n bytes */
static uint8_t *hex_alloc(const json_t *obj, const char *key, size_t *n)
{
    const char *h = str_at(obj, key);
    assert_int_equal(strlen(h) % 2, 0);
    *n = strlen(h) / 2;
    uint8_t *p = malloc(*n > 0 ? *n : 1);
    assert_non_null(p);
    hex_is(h, p, *n);
    return p;
}

#define VMAX 3

struct vec {
    uint8_t sign_seed[32], sign_pk[32], sign_sk[64];
    struct ses_envelope_header hdr;
    uint8_t key[32], nonce[24];
    size_t n_members, n;
    uint8_t members[VMAX][16];
    uint8_t dev[VMAX][16], box_seed[VMAX][32], eph_seed[VMAX][32];
    uint8_t box_pk[VMAX][32], box_sk[VMAX][32], eph_pk[VMAX][32], eph_sk[VMAX][32];
    size_t member_of[VMAX];
    uint32_t roster_version;
    uint8_t content_type;
    uint8_t *body;
    size_t body_len;
};

static void load_vec(const json_t *j, struct vec *v)
{
    memset(v, 0, sizeof *v);
    const json_t *in = json_object_get(j, "inputs");
    assert_non_null(in);
    hex_at(in, "sign_seed", v->sign_seed, 32);
    crypto_sign_seed_keypair(v->sign_pk, v->sign_sk, v->sign_seed);
    hex_at(in, "sender_user_id", v->hdr.sender_user_id, 16);
    hex_at(in, "sender_device_id", v->hdr.sender_device_id, 16);
    hex_at(in, "thread_id", v->hdr.thread_id, 16);
    hex_at(in, "msg_id", v->hdr.msg_id, 16);
    hex_at(in, "key", v->key, 32);
    hex_at(in, "nonce", v->nonce, 24);
    const json_t *m = json_object_get(in, "members");
    assert_true(json_is_array(m));
    v->n_members = json_array_size(m);
    assert_true(v->n_members >= 1 && v->n_members <= VMAX);
    for (size_t i = 0; i < v->n_members; i++) {
        const json_t *x = json_array_get(m, i);
        assert_true(json_is_string(x));
        hex_is(json_string_value(x), v->members[i], 16);
    }
    assert_memory_equal(v->members[0], v->hdr.sender_user_id, 16); /* the sender is member 0 */
    const json_t *r = json_object_get(in, "recipients");
    assert_true(json_is_array(r));
    v->n = json_array_size(r);
    assert_true(v->n >= 2 && v->n <= VMAX);
    for (size_t i = 0; i < v->n; i++) {
        const json_t *x = json_array_get(r, i);
        hex_at(x, "device_id", v->dev[i], 16);
        hex_at(x, "box_seed", v->box_seed[i], 32);
        hex_at(x, "eph_seed", v->eph_seed[i], 32);
        json_int_t mi = int_at(x, "member");
        assert_true(mi >= 0 && (size_t)mi < v->n_members);
        v->member_of[i] = (size_t)mi;
        crypto_box_seed_keypair(v->box_pk[i], v->box_sk[i], v->box_seed[i]);
        crypto_box_seed_keypair(v->eph_pk[i], v->eph_sk[i], v->eph_seed[i]);
    }
    json_int_t rv = int_at(in, "roster_version");
    assert_true(rv >= 0 && rv <= (json_int_t)UINT32_MAX);
    v->roster_version = (uint32_t)rv;
    v->hdr.sender_seq = dec_at(in, "sender_seq");
    v->hdr.created_ms = dec_at(in, "created_ms");
    v->hdr.deadline_ms = dec_at(in, "deadline_ms");
    json_int_t at = int_at(in, "alert_type"), sev = int_at(in, "severity");
    json_int_t ct = int_at(in, "content_type");
    assert_true(at >= 0 && at <= 0xffff && sev >= 0 && sev <= 0xff && ct >= 1 && ct <= 4);
    v->hdr.alert_type = (uint16_t)at;
    v->hdr.severity = (uint8_t)sev;
    v->content_type = (uint8_t)ct;
    v->body = hex_alloc(in, "body", &v->body_len);
    hex_at(j, "roster_hash", v->hdr.roster_hash, 32);
}

static void free_vec(struct vec *v)
{
    free(v->body);
    sodium_memzero(v, sizeof *v);
}

static json_t *vectors(void)
{
    json_t *a = json_object_get(g_vectors, "vectors");
    assert_true(json_is_array(a));
    return a;
}

static void test_vectors_shape(void **state)
{
    (void)state;
    assert_string_equal(str_at(g_vectors, "format"), "sesame envelope vectors v1");
    json_t *a = vectors();
    assert_true(json_array_size(a) >= 2);
    int endian = 0, bucket2 = 0, own_device = 0;
    size_t i;
    json_t *j;
    json_array_foreach(a, i, j)
    {
        struct vec v;
        load_vec(j, &v);
        /* inputs are the documented pattern, cut in the documented order */
        const json_t *p = json_object_get(j, "pattern");
        json_int_t start = int_at(p, "start"), step = int_at(p, "step");
        uint8_t *seq = malloc(4096);
        assert_non_null(seq);
        size_t k = 0;
#define TAKE(src, n)                                                                               \
    do {                                                                                           \
        memcpy(seq + k, (src), (n));                                                               \
        k += (n);                                                                                  \
    } while (0)
        TAKE(v.sign_seed, 32);
        TAKE(v.hdr.sender_user_id, 16);
        TAKE(v.hdr.sender_device_id, 16);
        TAKE(v.hdr.thread_id, 16);
        TAKE(v.hdr.msg_id, 16);
        TAKE(v.key, 32);
        TAKE(v.nonce, 24);
        for (size_t m = 1; m < v.n_members; m++)
            TAKE(v.members[m], 16);
        for (size_t r = 0; r < v.n; r++) {
            TAKE(v.dev[r], 16);
            TAKE(v.box_seed[r], 32);
            TAKE(v.eph_seed[r], 32);
        }
#undef TAKE
        for (size_t b = 0; b < k; b++)
            assert_int_equal(seq[b], (uint8_t)((start + step * (json_int_t)b) & 0xff));
        free(seq);
        /* coverage: distinct-byte integers, a second bucket, the sender's other device */
        uint8_t s8[8];
        be(s8, v.hdr.sender_seq, 8);
        int distinct = 1; /* the 7 low bytes (a sender_seq stays below 2^53) */
        for (int x = 1; x < 8; x++)
            for (int y = 1; y < x; y++)
                distinct &= s8[x] != s8[y];
        endian |= distinct && s8[1] != 0 && v.roster_version > 0xffffff;
        bucket2 |= v.body_len > 255;
        for (size_t r = 0; r < v.n; r++)
            own_device |= v.member_of[r] == 0;
        free_vec(&v);
    }
    assert_true(endian);
    assert_true(bucket2);
    assert_true(own_device);
}

static void test_vectors(void **state)
{
    (void)state;
    size_t i;
    json_t *j;
    json_array_foreach(vectors(), i, j)
    {
        struct vec v;
        uint8_t want[64], got[64];
        load_vec(j, &v);
        const json_t *keys = json_object_get(j, "keys");
        hex_at(keys, "sign_pk", want, 32);
        assert_memory_equal(v.sign_pk, want, 32);
        const json_t *kr = json_object_get(keys, "recipients");
        assert_int_equal(json_array_size(kr), v.n);
        for (size_t r = 0; r < v.n; r++) {
            hex_at(json_array_get(kr, r), "box_pk", want, 32);
            assert_memory_equal(v.box_pk[r], want, 32);
            hex_at(json_array_get(kr, r), "eph_pk", want, 32);
            assert_memory_equal(v.eph_pk[r], want, 32);
        }

        /* roster hash: the helper (members in file order and reversed) and by hand */
        uint8_t rev[VMAX][16], sorted[VMAX][16];
        for (size_t m = 0; m < v.n_members; m++)
            memcpy(rev[m], v.members[v.n_members - 1 - m], 16);
        assert_int_equal(ses_roster_hash(got, v.hdr.thread_id, v.roster_version,
                                         (const uint8_t(*)[16])v.members, v.n_members),
                         0);
        assert_memory_equal(got, v.hdr.roster_hash, 32);
        assert_int_equal(ses_roster_hash(got, v.hdr.thread_id, v.roster_version,
                                         (const uint8_t(*)[16])rev, v.n_members),
                         0);
        assert_memory_equal(got, v.hdr.roster_hash, 32);
        memcpy(sorted, v.members, sizeof sorted);
        for (size_t x = 0; x < v.n_members; x++)
            for (size_t y = x + 1; y < v.n_members; y++)
                if (memcmp(sorted[y], sorted[x], 16) < 0) {
                    uint8_t t[16];
                    memcpy(t, sorted[x], 16);
                    memcpy(sorted[x], sorted[y], 16);
                    memcpy(sorted[y], t, 16);
                }
        hand_roster(got, v.hdr.thread_id, v.roster_version, (const uint8_t(*)[16])sorted,
                    v.n_members);
        assert_memory_equal(got, v.hdr.roster_hash, 32);

        /* kcommit */
        hex_at(j, "kcommit", want, 32);
        ses_envelope_kcommit(got, v.key, v.hdr.msg_id);
        assert_memory_equal(got, want, 32);
        hand_kcommit(got, v.key, v.hdr.msg_id);
        assert_memory_equal(got, want, 32);

        /* the envelope, byte for byte, from the library */
        size_t len = 0, flen;
        uint8_t *file = hex_alloc(j, "envelope", &flen);
        assert_int_equal(int_at(j, "len"), flen);
        struct ses_recipient rc[VMAX];
        for (size_t r = 0; r < v.n; r++) {
            memcpy(rc[r].device_id, v.dev[r], 16);
            memcpy(rc[r].box_pk, v.box_pk[r], 32);
        }
        uint8_t *env = NULL;
        assert_int_equal(ses_envelope_seal_det(&env, &len, &v.hdr, v.content_type, v.body,
                                               v.body_len, rc, v.n, v.sign_sk, v.key, v.nonce,
                                               (const uint8_t(*)[32])v.eph_sk),
                         0);
        assert_int_equal(len, flen);
        assert_memory_equal(env, file, flen);
        free(env);

        /* and from the hand builder */
        struct hb b;
        memset(&b, 0, sizeof b);
        memcpy(b.ident, "SES1\x01\x01", 6);
        b.hdr = v.hdr;
        memcpy(b.key, v.key, 32);
        memcpy(b.commit_key, v.key, 32);
        memcpy(b.nonce, v.nonce, 24);
        b.n = v.n;
        for (size_t r = 0; r < v.n; r++) {
            memcpy(b.dev[r], v.dev[r], 16);
            memcpy(b.pk[r], v.box_pk[r], 32);
            memcpy(b.wrap_key[r], v.key, 32);
            memcpy(b.esk[r], v.eph_sk[r], 32);
        }
        b.inner_ver = 1;
        memcpy(b.in_user, v.hdr.sender_user_id, 16);
        memcpy(b.in_dev, v.hdr.sender_device_id, 16);
        memcpy(b.in_msg, v.hdr.msg_id, 16);
        memcpy(b.in_thread, v.hdr.thread_id, 16);
        b.content_type = v.content_type;
        b.body = v.body;
        b.body_len = v.body_len;
        b.body_len_field = (uint32_t)v.body_len;
        b.sign_sk = v.sign_sk;
        env = hb_build(&b, &len);
        assert_int_equal(len, flen);
        assert_memory_equal(env, file, flen);
        free(env);

        /* the intermediate values */
        struct ses_envelope_view pv;
        assert_int_equal(ses_envelope_parse(file, flen, &pv), 0);
        assert_int_equal(int_at(j, "header_len"), pv.header_len);
        assert_int_equal(int_at(j, "ct_len"), pv.ct_len);
        const json_t *wr = json_object_get(j, "wraps");
        assert_int_equal(json_array_size(wr), v.n);
        for (size_t r = 0; r < v.n; r++) {
            uint8_t w[96], k[32];
            assert_true(json_is_string(json_array_get(wr, r)));
            hex_is(json_string_value(json_array_get(wr, r)), w, 96);
            assert_memory_equal(pv.wraps + 96 * r, w, 96);
            assert_memory_equal(w, v.dev[r], 16);
            assert_memory_equal(w + 16, v.eph_pk[r], 32);
            assert_int_equal(crypto_box_seal_open(k, w + 16, 80, v.box_pk[r], v.box_sk[r]), 0);
            assert_memory_equal(k, v.key, 32);
        }
        size_t n_ct, n_inner;
        uint8_t *fct = hex_alloc(j, "ct", &n_ct), *finner = hex_alloc(j, "inner", &n_inner);
        assert_int_equal(n_ct, pv.ct_len);
        assert_memory_equal(pv.ct, fct, n_ct);
        hex_at(j, "sig", want, 64);
        assert_memory_equal(pv.sig, want, 64);
        uint8_t *pt = malloc(n_ct), *hpt = malloc(HB_PT_MAX);
        assert_non_null(pt);
        assert_non_null(hpt);
        unsigned long long ptl = 0;
        assert_int_equal(crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &ptl, NULL, fct, n_ct, file,
                                                                    pv.header_len, v.nonce, v.key),
                         0);
        assert_int_equal(ptl, n_inner);
        assert_memory_equal(pt, finner, n_inner);
        assert_int_equal(hb_inner(&b, hpt), n_inner);
        assert_memory_equal(hpt, finner, n_inner);
        free(pt);
        free(hpt);
        free(fct);
        free(finner);

        /* base64url text */
        char *text = malloc(ses_b64_len(flen) + 1);
        assert_non_null(text);
        assert_int_equal(ses_b64_encode(text, ses_b64_len(flen) + 1, file, flen), 0);
        assert_string_equal(text, str_at(j, "envelope_b64url"));
        free(text);

        /* the text body, when there is one, is the body's bytes */
        const json_t *bt = json_object_get(json_object_get(j, "inputs"), "body_text");
        if (bt != NULL) {
            assert_true(json_is_string(bt));
            assert_int_equal(strlen(json_string_value(bt)), v.body_len);
            assert_memory_equal(json_string_value(bt), v.body, v.body_len);
        }

        /* every recipient opens it; the sending device is expected but has no wrap */
        uint8_t exp_ids[VMAX + 1][16];
        for (size_t r = 0; r < v.n; r++)
            memcpy(exp_ids[r], v.dev[r], 16);
        memcpy(exp_ids[v.n], v.hdr.sender_device_id, 16);
        uint8_t *fx = exact(file, flen);
        for (size_t r = 0; r < v.n; r++) {
            struct ses_opened o;
            assert_int_equal(ses_envelope_open(fx, flen, v.dev[r], v.box_pk[r], v.box_sk[r],
                                               v.sign_pk, (const uint8_t(*)[16])exp_ids, v.n + 1,
                                               v.hdr.sender_seq - 1, &o),
                             0);
            hdr_equal(&o.hdr, &v.hdr);
            assert_int_equal(o.content_type, v.content_type);
            assert_int_equal(o.body_len, v.body_len);
            assert_memory_equal(o.body, v.body, v.body_len);
            assert_int_equal(o.n_wraps, v.n);
            assert_int_equal(o.n_missing, 0);
            ses_opened_free(&o);
        }
        free(fx);
        free(file);
        free_vec(&v);
    }
}

/* --- PROTOCOL.md section 10 says what the code does ----------------------------------------- */

static void test_protocol_md_layout(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        unsigned off, size;
    } header[] = {{"magic", 0, 4},
                  {"version", 4, 1},
                  {"suite", 5, 1},
                  {"flags", 6, 2},
                  {"thread_id", 8, 16},
                  {"msg_id", 24, 16},
                  {"sender_user_id", 40, 16},
                  {"sender_device_id", 56, 16},
                  {"sender_seq", 72, 8},
                  {"roster_hash", 80, 32},
                  {"created_ms", 112, 8},
                  {"alert_type", 120, 2},
                  {"severity", 122, 1},
                  {"deadline_ms", 123, 8},
                  {"kcommit", 131, 32},
                  {"nonce", 163, 24},
                  {"n_wraps", 187, 1}},
      inner[] = {{"inner_ver", 0, 1}, {"sender_user_id", 1, 16}, {"sender_device_id", 17, 16},
                 {"msg_id", 33, 16},  {"thread_id", 49, 16},     {"content_type", 65, 1},
                 {"body_len", 66, 4}};
    FILE *f = fopen(SESAME_PROTOCOL_MD, "r");
    assert_non_null(f);
    char line[1024];
    int section = 0, part = 0; /* part 1: header table, 2: inner table */
    size_t nh = 0, ni = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "## ", 3) == 0)
            section = strncmp(line, "## 10. ", 7) == 0;
        if (!section)
            continue;
        if (strncmp(line, "### ", 4) == 0)
            part = strstr(line, "Layout") ? 1 : strstr(line, "Inner") ? 2 : 0;
        unsigned off, size;
        char name[64];
        if (sscanf(line, "| %u | %u | `%63[a-z_]` |", &off, &size, name) != 3)
            continue;
        if (part == 1) {
            assert_true(nh < sizeof header / sizeof header[0]);
            assert_string_equal(name, header[nh].name);
            assert_int_equal(off, header[nh].off);
            assert_int_equal(size, header[nh].size);
            nh++;
        } else if (part == 2) {
            assert_true(ni < sizeof inner / sizeof inner[0]);
            assert_string_equal(name, inner[ni].name);
            assert_int_equal(off, inner[ni].off);
            assert_int_equal(size, inner[ni].size);
            ni++;
        }
    }
    fclose(f);
    assert_int_equal(nh, sizeof header / sizeof header[0]);
    assert_int_equal(ni, sizeof inner / sizeof inner[0]);
    /* the offsets in the table are the library's */
    assert_int_equal(SES_ENVELOPE_OFF_KCOMMIT, 131);
    assert_int_equal(SES_ENVELOPE_OFF_NONCE, 163);
    assert_int_equal(SES_ENVELOPE_OFF_N_WRAPS, 187);
    assert_int_equal(SES_ENVELOPE_OFF_DEADLINE, 123);
}

/* --- history re-wrap (§12) ------------------------------------------------------------------ */

/* User 0 has devices 0 (existing) and 1 (new, joined after the message); device 2 (user 1) sends
 * to devices 2, 0 and 3 (user 2). Device 0 re-wraps for device 1. */
static const size_t RW_TO[3] = {2, 0, 3};
static const size_t RW_EXP[4] = {2, 0, 3, 1};

static const uint8_t RW_BODY[] = "Bilan du 12/03: sommeil meilleur, PHQ-9 = 9.";

static uint8_t *rw_env(uint64_t seq, size_t *len)
{
    struct ses_envelope_header h;
    make_hdr(&h, 2, seq);
    return seal_det_to(2, &h, RW_TO, 3, RW_BODY, sizeof RW_BODY - 1, len); /* K1 */
}

static int rw_open(size_t me, const uint8_t *env, size_t len, const uint8_t sealed[80],
                   const uint8_t sig[64], size_t by, size_t by_key, uint64_t last,
                   struct ses_opened *o)
{
    uint8_t ids[4][16];
    for (size_t i = 0; i < 4; i++)
        memcpy(ids[i], g[RW_EXP[i]].id, 16);
    return ses_envelope_open_rewrap(env, len, g[me].id, g[me].box_pk, g[me].box_sk, g[2].sign_pk,
                                    sealed, sig, g[by].id, g[by_key].sign_pk,
                                    (const uint8_t(*)[16])ids, 4, last, o);
}

static void rw_fails(size_t me, const uint8_t *env, size_t len, const uint8_t sealed[80],
                     const uint8_t sig[64], size_t by, size_t by_key, uint64_t last, int want)
{
    struct ses_opened o, ref;
    memset(&o, 0x5a, sizeof o);
    memset(&ref, 0x5a, sizeof ref);
    assert_int_equal(rw_open(me, env, len, sealed, sig, by, by_key, last, &o), want);
    assert_memory_equal(&o, &ref, sizeof o);
}

/* A re-wrap signed by device `by` of arbitrary parts (to build what the library never makes). */
static void rw_sign(uint8_t sig[64], const struct ses_envelope_view *v, const uint8_t kcommit[32],
                    size_t target, const uint8_t sealed[80], size_t by)
{
    uint8_t st[SES_REWRAP_STATEMENT_BYTES];
    ses_rewrap_statement(st, v->hdr.thread_id, v->hdr.msg_id, kcommit, g[target].id, sealed,
                         g[by].id);
    assert_int_equal(crypto_sign_detached(sig, NULL, st, sizeof st, g[by].sign_sk), 0);
}

static void test_rewrap_statement(void **state)
{
    (void)state;
    assert_int_equal(SES_REWRAP_STATEMENT_BYTES, 193);
    assert_int_equal(sizeof SES_CTX_REWRAP, 17);
    uint8_t t[16], m[16], k[32], d[16], s[80], b[16], st[SES_REWRAP_STATEMENT_BYTES], want[193];
    derive(t, 16, "t", 1, 0);
    derive(m, 16, "m", 1, 0);
    derive(k, 32, "k", 1, 0);
    derive(d, 16, "d", 1, 0);
    derive(s, 64, "s", 1, 0);
    derive(s + 64, 16, "s", 1, 1);
    derive(b, 16, "b", 1, 0);
    ses_rewrap_statement(st, t, m, k, d, s, b);
    memcpy(want, "sesame/v1/rewrap", 17); /* with its NUL */
    memcpy(want + 17, t, 16);
    memcpy(want + 33, m, 16);
    memcpy(want + 49, k, 32);
    memcpy(want + 81, d, 16);
    memcpy(want + 97, s, 80);
    memcpy(want + 177, b, 16);
    assert_memory_equal(st, want, sizeof want);
}

static void test_rewrap_roundtrip(void **state)
{
    (void)state;
    size_t len;
    uint8_t *env = rw_env(5, &len), sealed[80], sig[64];
    /* the new device cannot open it on its own */
    open_fails(1, 2, env, len, RW_EXP, 4, 0, SES_ENOT_A_RECIPIENT);
    assert_int_equal(ses_rewrap_create(env, len, g[0].id, g[0].box_pk, g[0].box_sk, g[2].sign_pk,
                                       g[0].sign_sk, g[1].id, g[1].box_pk, sealed, sig),
                     0);
    /* sealed is a sealed box of K to the target */
    uint8_t k[32];
    assert_int_equal(crypto_box_seal_open(k, sealed, 80, g[1].box_pk, g[1].box_sk), 0);
    assert_memory_equal(k, K1, 32);
    struct ses_opened o;
    assert_int_equal(rw_open(1, env, len, sealed, sig, 0, 0, 4, &o), 0);
    struct ses_envelope_header h;
    make_hdr(&h, 2, 5);
    check_opened(&o, &h, RW_BODY, sizeof RW_BODY - 1, 3);
    assert_int_equal(o.n_missing, 0); /* the new device itself is not "missing" */
    ses_opened_free(&o);
    /* the server's check: the statement verifies with the signer's key only */
    struct ses_envelope_view v;
    assert_int_equal(ses_envelope_parse(env, len, &v), 0);
    assert_int_equal(ses_rewrap_verify(&v, g[1].id, sealed, g[0].id, sig, g[0].sign_pk), 0);
    for (size_t other = 1; other < 6; other++)
        assert_int_equal(ses_rewrap_verify(&v, g[1].id, sealed, g[0].id, sig, g[other].sign_pk),
                         SES_EBAD_SIGNATURE);
    /* a re-wrap by a device of another user (3) verifies as such - whether that user may re-wrap
     * for device 1 is the caller's check (the server refuses it; the receiver checks the user) */
    uint8_t s3[80], sig3[64];
    assert_int_equal(ses_rewrap_create(env, len, g[3].id, g[3].box_pk, g[3].box_sk, g[2].sign_pk,
                                       g[3].sign_sk, g[1].id, g[1].box_pk, s3, sig3),
                     0);
    assert_int_equal(ses_rewrap_verify(&v, g[1].id, s3, g[3].id, sig3, g[3].sign_pk), 0);
    assert_int_equal(ses_rewrap_verify(&v, g[1].id, s3, g[0].id, sig3, g[0].sign_pk),
                     SES_EBAD_SIGNATURE);
    rw_fails(1, env, len, s3, sig3, 0, 0, 4, SES_EBAD_SIGNATURE); /* claimed to be device 0's */
    /* replay as in open */
    rw_fails(1, env, len, sealed, sig, 0, 0, 5, SES_EREPLAYED);
    /* ghost wraps as in open: device 3 not expected */
    {
        uint8_t ids[3][16];
        memcpy(ids[0], g[2].id, 16);
        memcpy(ids[1], g[0].id, 16);
        memcpy(ids[2], g[1].id, 16);
        assert_int_equal(ses_envelope_open_rewrap(env, len, g[1].id, g[1].box_pk, g[1].box_sk,
                                                  g[2].sign_pk, sealed, sig, g[0].id, g[0].sign_pk,
                                                  (const uint8_t(*)[16])ids, 3, 0, &o),
                         SES_EGHOST_DEVICE);
    }
    free(env);
}

static void test_rewrap_create_checks(void **state)
{
    (void)state;
    size_t len;
    uint8_t *env = rw_env(6, &len), sealed[80], sig[64], ref[144];
    memset(sealed, 0x77, sizeof sealed);
    memset(sig, 0x77, sizeof sig);
    memset(ref, 0x77, sizeof ref);
#define CREATE(me, sender, target, target_pk)                                                      \
    ses_rewrap_create(env, len, g[me].id, g[me].box_pk, g[me].box_sk, g[sender].sign_pk,           \
                      g[me].sign_sk, g[target].id, target_pk, sealed, sig)
    assert_int_equal(CREATE(0, 2, 0, g[0].box_pk), SES_EINVALID_ARG); /* to itself */
    assert_int_equal(CREATE(1, 2, 4, g[4].box_pk), SES_ENOT_A_RECIPIENT);
    assert_int_equal(CREATE(0, 3, 1, g[1].box_pk), SES_EBAD_SIGNATURE); /* wrong sender key */
    assert_memory_equal(sealed, ref, 80);
    assert_memory_equal(sig, ref, 64);
    env[len - 1] ^= 1;
    assert_int_equal(CREATE(0, 2, 1, g[1].box_pk), SES_EBAD_SIGNATURE);
    env[len - 1] ^= 1;
    assert_int_equal(ses_rewrap_create(NULL, len, g[0].id, g[0].box_pk, g[0].box_sk, g[2].sign_pk,
                                       g[0].sign_sk, g[1].id, g[1].box_pk, sealed, sig),
                     SES_EINVALID_ARG);
    assert_int_equal(CREATE(0, 2, 1, g[1].box_pk), 0);
#undef CREATE
    free(env);
}

static void test_rewrap_tampering(void **state)
{
    (void)state;
    size_t len;
    uint8_t *env = rw_env(7, &len), sealed[80], sig[64], bad[80], bsig[64];
    assert_int_equal(ses_rewrap_create(env, len, g[0].id, g[0].box_pk, g[0].box_sk, g[2].sign_pk,
                                       g[0].sign_sk, g[1].id, g[1].box_pk, sealed, sig),
                     0);
    struct ses_envelope_view v;
    assert_int_equal(ses_envelope_parse(env, len, &v), 0);
    /* every bit of sealed and of sig is covered */
    for (size_t i = 0; i < 80; i++) {
        memcpy(bad, sealed, 80);
        bad[i] ^= (uint8_t)(1u << (i % 8));
        rw_fails(1, env, len, bad, sig, 0, 0, 0, SES_EBAD_SIGNATURE);
        assert_int_equal(ses_rewrap_verify(&v, g[1].id, bad, g[0].id, sig, g[0].sign_pk),
                         SES_EBAD_SIGNATURE);
    }
    for (size_t i = 0; i < 64; i++) {
        memcpy(bsig, sig, 64);
        bsig[i] ^= (uint8_t)(1u << (i % 8));
        rw_fails(1, env, len, sealed, bsig, 0, 0, 0, SES_EBAD_SIGNATURE);
    }
    /* the envelope itself: any change breaks the sender's signature, checked first */
    for (size_t i = 0; i < len; i += 7) {
        env[i] ^= 0x20;
        struct ses_opened o;
        memset(&o, 0, sizeof o);
        int rc = rw_open(1, env, len, sealed, sig, 0, 0, 0, &o);
        assert_true(rc == SES_EBAD_SIGNATURE || rc == SES_EUNSUPPORTED || rc == SES_EBAD_ENVELOPE);
        env[i] ^= 0x20;
    }
    /* the statement's kcommit, target, message and signer are bound */
    uint8_t kc[32];
    memcpy(kc, v.kcommit, 32);
    kc[0] ^= 1;
    rw_sign(bsig, &v, kc, 1, sealed, 0);
    rw_fails(1, env, len, sealed, bsig, 0, 0, 0, SES_EBAD_SIGNATURE);
    rw_sign(bsig, &v, v.kcommit, 4, sealed, 0); /* for another target */
    rw_fails(1, env, len, sealed, bsig, 0, 0, 0, SES_EBAD_SIGNATURE);
    rw_fails(4, env, len, sealed, sig, 0, 0, 0, SES_EBAD_SIGNATURE); /* device 4 uses 1's */
    size_t len2;
    uint8_t *env2 = rw_env(8, &len2); /* another message, same K1 */
    rw_fails(1, env2, len2, sealed, sig, 0, 0, 0, SES_EBAD_SIGNATURE);
    free(env2);
    rw_fails(1, env, len, sealed, sig, 3, 3, 0, SES_EBAD_SIGNATURE); /* other signer claimed */
    rw_fails(1, env, len, sealed, sig, 0, 3, 0, SES_EBAD_SIGNATURE); /* other signer's key */
    /* a signer that never had K (no wrap in the envelope) */
    rw_sign(bsig, &v, v.kcommit, 1, sealed, 4);
    rw_fails(1, env, len, sealed, bsig, 4, 4, 0, SES_ENOT_A_RECIPIENT);
    /* a correctly signed re-wrap of another key: the commitment catches it */
    assert_int_equal(crypto_box_seal(bad, K2, 32, g[1].box_pk), 0);
    rw_sign(bsig, &v, v.kcommit, 1, bad, 0);
    rw_fails(1, env, len, bad, bsig, 0, 0, 0, SES_EBAD_COMMITMENT);
    /* K sealed to the wrong key */
    assert_int_equal(crypto_box_seal(bad, K1, 32, g[4].box_pk), 0);
    rw_sign(bsig, &v, v.kcommit, 1, bad, 0);
    rw_fails(1, env, len, bad, bsig, 0, 0, 0, SES_EDECRYPT_FAILED);
    /* K sealed by hand to the right key, correctly signed: accepted */
    assert_int_equal(crypto_box_seal(bad, K1, 32, g[1].box_pk), 0);
    rw_sign(bsig, &v, v.kcommit, 1, bad, 0);
    struct ses_opened o;
    assert_int_equal(rw_open(1, env, len, bad, bsig, 0, 0, 0, &o), 0);
    ses_opened_free(&o);
    free(env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_roundtrip_1),
        cmocka_unit_test(test_roundtrip_3),
        cmocka_unit_test(test_roundtrip_15),
        cmocka_unit_test(test_roundtrip_32),
        cmocka_unit_test(test_content_types_and_determinism),
        cmocka_unit_test(test_seal_limits),
        cmocka_unit_test(test_max_and_min_size),
        cmocka_unit_test(test_padding_buckets),
        cmocka_unit_test(test_parse_view),
        cmocka_unit_test(test_det_wrap_is_a_sealed_box),
        cmocka_unit_test(test_tamper_every_byte),
        cmocka_unit_test(test_downgrade),
        cmocka_unit_test(test_truncation_and_trailing),
        cmocka_unit_test(test_structure_signed),
        cmocka_unit_test(test_inner_malformed),
        cmocka_unit_test(test_resigned),
        cmocka_unit_test(test_salamander),
        cmocka_unit_test(test_recipient_set),
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_roster_hash),
        cmocka_unit_test(test_vectors_shape),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_protocol_md_layout),
        cmocka_unit_test(test_rewrap_statement),
        cmocka_unit_test(test_rewrap_roundtrip),
        cmocka_unit_test(test_rewrap_create_checks),
        cmocka_unit_test(test_rewrap_tampering),
    };
    return cmocka_run_group_tests_name("envelope", tests, setup, teardown);
}
