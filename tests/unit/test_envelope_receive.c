/*
 * test_envelope_receive.c - the receiver's decision on one delivered message
 * (ses_envelope_receive, envelope.h; PROTOCOL.md §10 "Receiver", §12), on the known-answer
 * envelopes of protocol/vectors/envelope.json: the accept path as every recipient of every vector,
 * then one test per refusal code (BAD_ENVELOPE and UNSUPPORTED, INNER_MISMATCH of the frame's
 * claim and of the inner ids, BAD_SIGNATURE, GHOST_DEVICE and its tolerated form,
 * NOT_A_RECIPIENT, DECRYPT_FAILED, BAD_COMMITMENT, REPLAYED by sequence, by persisted mark and by
 * msg_id), a history re-wrap, and the argument errors. Tampered envelopes are re-signed with the
 * vector's sender key, so that each reaches the check it is meant for.
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

#include "sesame/envelope.h"
#include "sesame/err.h"

#define VECTORS_FILE SESAME_VECTORS_DIR "/envelope.json"
#define MAXR 3 /* recipients of a vector */

static json_t *g_root;

/* One vector, decoded: the envelope and what its recipients need to open it. */
struct kat {
    uint8_t sign_pk[32], sign_sk[64];
    uint8_t thread[16], sender_user[16], sender_device[16], msg[16];
    uint8_t key[32], nonce[24];
    size_t n; /* recipient devices */
    uint8_t dev[MAXR][16], box_pk[MAXR][32], box_sk[MAXR][32];
    uint64_t sender_seq;
    uint8_t content_type;
    uint8_t *body, *inner, *env;
    size_t body_len, inner_len, len, header_len;
};

/* Decodes the lower-case hex string obj[key] of exactly n bytes (n 0: any length, malloc'd). */
static uint8_t *unhex(const json_t *obj, const char *key, uint8_t *out, size_t n, size_t *got)
{
    const json_t *s = json_object_get(obj, key);
    assert_true(json_is_string(s));
    size_t hl = json_string_length(s), bin = 0;
    if (n == 0) {
        assert_int_equal(hl % 2, 0);
        out = malloc(hl / 2 + 1);
        assert_non_null(out);
    }
    assert_int_equal(hl, n == 0 ? hl : 2 * n);
    assert_int_equal(sodium_hex2bin(out, hl / 2 + 1, json_string_value(s), hl, NULL, &bin, NULL),
                     0);
    assert_int_equal(bin, hl / 2);
    if (got != NULL)
        *got = bin;
    return out;
}

static void load(size_t i, struct kat *k)
{
    const json_t *v = json_array_get(json_object_get(g_root, "vectors"), i);
    assert_non_null(v);
    const json_t *in = json_object_get(v, "inputs");
    uint8_t seed[32];
    memset(k, 0, sizeof *k);
    unhex(in, "sign_seed", seed, 32, NULL);
    crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);
    unhex(in, "thread_id", k->thread, 16, NULL);
    unhex(in, "sender_user_id", k->sender_user, 16, NULL);
    unhex(in, "sender_device_id", k->sender_device, 16, NULL);
    unhex(in, "msg_id", k->msg, 16, NULL);
    unhex(in, "key", k->key, 32, NULL);
    unhex(in, "nonce", k->nonce, 24, NULL);
    const json_t *rs = json_object_get(in, "recipients");
    k->n = json_array_size(rs);
    assert_true(k->n >= 2 && k->n <= MAXR);
    for (size_t r = 0; r < k->n; r++) {
        const json_t *x = json_array_get(rs, r);
        unhex(x, "device_id", k->dev[r], 16, NULL);
        unhex(x, "box_seed", seed, 32, NULL);
        crypto_box_seed_keypair(k->box_pk[r], k->box_sk[r], seed);
    }
    k->sender_seq = strtoull(json_string_value(json_object_get(in, "sender_seq")), NULL, 10);
    k->content_type = (uint8_t)json_integer_value(json_object_get(in, "content_type"));
    k->body = unhex(in, "body", NULL, 0, &k->body_len);
    k->inner = unhex(v, "inner", NULL, 0, &k->inner_len);
    k->env = unhex(v, "envelope", NULL, 0, &k->len);
    k->header_len = (size_t)json_integer_value(json_object_get(v, "header_len"));
    sodium_memzero(seed, sizeof seed);
}

static void unload(struct kat *k)
{
    free(k->body);
    free(k->inner);
    free(k->env);
    sodium_memzero(k, sizeof *k);
}

/* Signs the envelope again with the vector's sender key (after a change to its bytes). */
static void resign(const struct kat *k)
{
    size_t body = k->len - SES_SIG_BYTES, ctx = sizeof SES_CTX_ENVELOPE;
    uint8_t *m = malloc(ctx + body);
    assert_non_null(m);
    memcpy(m, SES_CTX_ENVELOPE, ctx);
    memcpy(m + ctx, k->env, body);
    assert_int_equal(crypto_sign_detached(k->env + body, NULL, m, ctx + body, k->sign_sk), 0);
    free(m);
}

/* What recipient me of k passes in: the frame's claim of the vector's sender at seq 1, every
 * recipient device and the sending device expected, no marks. */
struct call {
    struct ses_receive_claim claim;
    uint8_t expected[MAXR + 1][16];
    struct ses_receive_in in;
    struct ses_received out;
};

static void prepare(const struct kat *k, size_t me, struct call *c)
{
    memset(c, 0, sizeof *c);
    memcpy(c->claim.thread_id, k->thread, 16);
    memcpy(c->claim.sender_user_id, k->sender_user, 16);
    memcpy(c->claim.sender_device_id, k->sender_device, 16);
    c->claim.seq = 1;
    for (size_t r = 0; r < k->n; r++)
        memcpy(c->expected[r], k->dev[r], 16);
    memcpy(c->expected[k->n], k->sender_device, 16);
    c->in.bytes = k->env;
    c->in.len = k->len;
    c->in.claim = &c->claim;
    c->in.my_device_id = k->dev[me];
    c->in.my_box_pk = k->box_pk[me];
    c->in.my_box_sk = k->box_sk[me];
    c->in.sender_sign_pk = k->sign_pk;
    c->in.expected = (const uint8_t(*)[16])c->expected;
    c->in.n_expected = k->n + 1;
}

/* Vector vec, read as its recipient me. */
static void begin(struct kat *k, struct call *c, size_t vec, size_t me)
{
    load(vec, k);
    prepare(k, me, c);
}

/* Receives and expects code with reason; on acceptance the opened message is the vector's. */
static void receive_is(const struct kat *k, struct call *c, int code, enum ses_receive_reason why)
{
    int rc = ses_envelope_receive(&c->in, &c->out);
    assert_int_equal(rc, code);
    assert_int_equal(c->out.reason, why);
    if (code == 0) {
        assert_int_equal(c->out.opened.content_type, k->content_type);
        assert_int_equal(c->out.opened.body_len, k->body_len);
        assert_memory_equal(c->out.opened.body, k->body, k->body_len);
        assert_memory_equal(c->out.opened.hdr.msg_id, k->msg, 16);
        assert_int_equal(c->out.opened.hdr.sender_seq, k->sender_seq);
    } else {
        assert_null(c->out.opened.body);
    }
    ses_received_free(&c->out);
}

/* The vectors file, once for every test. */
static int setup(void **state)
{
    json_error_t jerr;
    (void)state;
    g_root =
        sodium_init() >= 0 ? json_load_file(VECTORS_FILE, JSON_REJECT_DUPLICATES, &jerr) : NULL;
    return json_array_size(json_object_get(g_root, "vectors")) >= 3 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(g_root);
    return 0;
}

/* --- accepted ------------------------------------------------------------------------------- */

static void test_accept_every_recipient(void **state)
{
    (void)state;
    size_t nv = json_array_size(json_object_get(g_root, "vectors"));
    for (size_t i = 0; i < nv; i++) {
        struct kat k;
        load(i, &k);
        for (size_t me = 0; me < k.n; me++) {
            struct call c;
            prepare(&k, me, &c);
            assert_int_equal(ses_envelope_receive(&c.in, &c.out), 0);
            assert_int_equal(c.out.reason, SES_RECEIVE_ACCEPTED);
            assert_int_equal(c.out.last_seen, 0);
            assert_int_equal(c.out.n_ghosts, 0);
            assert_int_equal(c.out.advance_mark, 1);
            assert_int_equal(c.out.opened.n_wraps, k.n);
            assert_int_equal(c.out.opened.n_missing, 0);
            ses_received_free(&c.out);
            receive_is(&k, &c, 0, SES_RECEIVE_ACCEPTED);
        }
        unload(&k);
    }
}

/* --- one test per refusal ------------------------------------------------------------------- */

static void test_bad_envelope(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    begin(&k, &c, 0, 1);
    c.in.len = k.len - 1; /* truncated */
    receive_is(&k, &c, SES_EBAD_ENVELOPE, SES_RECEIVE_ENVELOPE);
    c.in.len = SES_ENVELOPE_OFF_WRAPS; /* the fixed header only */
    receive_is(&k, &c, SES_EBAD_ENVELOPE, SES_RECEIVE_ENVELOPE);
    c.in.len = k.len;
    k.env[SES_ENVELOPE_OFF_VERSION] = 2; /* a downgrade or a future version */
    receive_is(&k, &c, SES_EUNSUPPORTED, SES_RECEIVE_ENVELOPE);
    unload(&k);
}

static void test_claim_mismatch(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    struct ses_envelope_view v;
    load(0, &k);
    uint8_t *fields[3];
    prepare(&k, 1, &c);
    fields[0] = c.claim.thread_id;
    fields[1] = c.claim.sender_user_id;
    fields[2] = c.claim.sender_device_id;
    for (size_t f = 0; f < 3; f++) {
        fields[f][15] ^= 1; /* the server names another thread, sender or device */
        assert_int_equal(ses_envelope_parse_claimed(k.env, k.len, &c.claim, &v),
                         SES_EINNER_MISMATCH);
        receive_is(&k, &c, SES_EINNER_MISMATCH, SES_RECEIVE_CLAIM);
        fields[f][15] ^= 1;
    }
    assert_int_equal(ses_envelope_parse_claimed(k.env, k.len, &c.claim, &v), 0);
    assert_memory_equal(v.hdr.msg_id, k.msg, 16);
    /* the structure is checked first */
    c.claim.seq = 7;
    c.claim.sender_device_id[0] ^= 1;
    c.in.len = k.len - 1;
    receive_is(&k, &c, SES_EBAD_ENVELOPE, SES_RECEIVE_ENVELOPE);
    unload(&k);
}

static void test_inner_mismatch(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    begin(&k, &c, 1, 0);
    /* the inner msg_id (offset 33) differs from the header's: encrypted and signed again */
    k.inner[33] ^= 0x40;
    unsigned long long ct_len = 0;
    uint8_t *ct = k.env + k.header_len + 4;
    assert_int_equal(crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, k.inner, k.inner_len,
                                                                k.env, k.header_len, NULL, k.nonce,
                                                                k.key),
                     0);
    assert_int_equal(ct_len, k.inner_len + SES_ENVELOPE_TAG_BYTES);
    resign(&k);
    receive_is(&k, &c, SES_EINNER_MISMATCH, SES_RECEIVE_ENVELOPE);
    unload(&k);
}

static void test_bad_signature(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    begin(&k, &c, 0, 1);
    c.in.sender_sign_pk = k.box_pk[0]; /* not the sender's key */
    receive_is(&k, &c, SES_EBAD_SIGNATURE, SES_RECEIVE_ENVELOPE);
    c.in.sender_sign_pk = k.sign_pk;
    k.env[k.len - 1] ^= 1;
    receive_is(&k, &c, SES_EBAD_SIGNATURE, SES_RECEIVE_ENVELOPE);
    k.env[k.len - 1] ^= 1;
    k.env[SES_ENVELOPE_OFF_CREATED] ^= 1; /* a header byte, not signed again */
    receive_is(&k, &c, SES_EBAD_SIGNATURE, SES_RECEIVE_ENVELOPE);
    unload(&k);
}

static void test_ghost_device(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    begin(&k, &c, 1, 1);
    /* recipient 0 is no longer expected: the first of the list replaced by the last */
    memcpy(c.expected[0], c.expected[k.n], 16);
    c.in.n_expected = k.n;
    receive_is(&k, &c, SES_EGHOST_DEVICE, SES_RECEIVE_ENVELOPE);
    /* tolerated: listed, and the message opened */
    c.in.flags = SES_RECEIVE_ALLOW_GHOSTS;
    assert_int_equal(ses_envelope_receive(&c.in, &c.out), 0);
    assert_int_equal(c.out.n_ghosts, 1);
    assert_memory_equal(c.out.ghosts[0], k.dev[0], 16);
    ses_received_free(&c.out);
    receive_is(&k, &c, 0, SES_RECEIVE_ACCEPTED);
    /* the signature still comes first: no ghost is reported for a forgery */
    k.env[k.len - 1] ^= 1;
    assert_int_equal(ses_envelope_receive(&c.in, &c.out), SES_EBAD_SIGNATURE);
    assert_int_equal(c.out.n_ghosts, 0);
    ses_received_free(&c.out);
    unload(&k);
}

static void test_not_a_recipient(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    uint8_t pk[32], sk[32];
    begin(&k, &c, 0, 0);
    crypto_box_keypair(pk, sk);
    c.in.my_device_id = k.sender_device; /* the sending device has no wrap in e1 */
    c.in.my_box_pk = pk;
    c.in.my_box_sk = sk;
    receive_is(&k, &c, SES_ENOT_A_RECIPIENT, SES_RECEIVE_ENVELOPE);
    sodium_memzero(sk, sizeof sk);
    unload(&k);
}

static void test_decrypt_failed(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    begin(&k, &c, 2, 1);
    /* recipient 1's wrap does not open with recipient 0's box keys */
    c.in.my_box_pk = k.box_pk[0];
    c.in.my_box_sk = k.box_sk[0];
    receive_is(&k, &c, SES_EDECRYPT_FAILED, SES_RECEIVE_ENVELOPE);
    /* a ciphertext byte changed and signed again: the AEAD refuses it */
    prepare(&k, 1, &c);
    k.env[k.header_len + 4 + 10] ^= 1;
    resign(&k);
    receive_is(&k, &c, SES_EDECRYPT_FAILED, SES_RECEIVE_ENVELOPE);
    unload(&k);
}

static void test_bad_commitment(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    begin(&k, &c, 0, 1);
    k.env[SES_ENVELOPE_OFF_KCOMMIT + 5] ^= 0x80;
    resign(&k);
    receive_is(&k, &c, SES_EBAD_COMMITMENT, SES_RECEIVE_ENVELOPE);
    unload(&k);
}

static void test_replayed_sequence(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    begin(&k, &c, 1, 2);
    /* this run already opened sender_seq from that device */
    c.in.marks.run_sender_seq = k.sender_seq;
    assert_int_equal(ses_envelope_receive(&c.in, &c.out), SES_EREPLAYED);
    assert_int_equal(c.out.reason, SES_RECEIVE_SEQ);
    assert_int_equal(c.out.last_seen, k.sender_seq);
    ses_received_free(&c.out);
    c.in.marks.run_sender_seq = k.sender_seq - 1;
    receive_is(&k, &c, 0, SES_RECEIVE_ACCEPTED);
    /* a newer message than the persisted mark must be above the mark's sender_seq */
    c.in.marks.run_sender_seq = 0;
    c.in.marks.seq = 3;
    c.in.marks.sender_seq = k.sender_seq;
    c.claim.seq = 4;
    assert_int_equal(ses_envelope_receive(&c.in, &c.out), SES_EREPLAYED);
    assert_int_equal(c.out.reason, SES_RECEIVE_SEQ);
    assert_int_equal(c.out.last_seen, k.sender_seq);
    ses_received_free(&c.out);
    /* an older one is not bound by the mark's sender_seq, only below it */
    c.in.marks.sender_seq = k.sender_seq + 1;
    c.claim.seq = 2;
    assert_int_equal(ses_envelope_receive(&c.in, &c.out), 0);
    assert_int_equal(c.out.last_seen, 0);
    assert_int_equal(c.out.advance_mark, 0);
    ses_received_free(&c.out);
    unload(&k);
}

static void test_replayed_mark(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    begin(&k, &c, 0, 0);
    /* the message at the mark's seq carries another sender_seq than the one seen there */
    c.claim.seq = 5;
    c.in.marks.seq = 5;
    c.in.marks.sender_seq = k.sender_seq + 1;
    receive_is(&k, &c, SES_EREPLAYED, SES_RECEIVE_MARK);
    c.in.marks.sender_seq = k.sender_seq; /* the same: shown again */
    assert_int_equal(ses_envelope_receive(&c.in, &c.out), 0);
    assert_int_equal(c.out.advance_mark, 0);
    ses_received_free(&c.out);
    /* below the mark's seq, a sender_seq at or above the mark's */
    c.claim.seq = 4;
    receive_is(&k, &c, SES_EREPLAYED, SES_RECEIVE_MARK);
    unload(&k);
}

struct seen {
    const uint8_t *id;
    int calls;
};

static int seen_cb(void *ctx, const uint8_t msg_id[16])
{
    struct seen *s = ctx;
    s->calls++;
    return s->id != NULL && memcmp(s->id, msg_id, 16) == 0;
}

static void test_replayed_msg_id(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    struct seen s = {NULL, 0};
    begin(&k, &c, 2, 0);
    c.in.marks.msg_id_seen = seen_cb;
    c.in.marks.ctx = &s;
    receive_is(&k, &c, 0, SES_RECEIVE_ACCEPTED);
    assert_int_equal(s.calls, 1);
    s.id = k.msg;
    receive_is(&k, &c, SES_EREPLAYED, SES_RECEIVE_MSG_ID);
    /* asked only once everything else passed */
    c.in.marks.run_sender_seq = k.sender_seq;
    s.calls = 0;
    receive_is(&k, &c, SES_EREPLAYED, SES_RECEIVE_SEQ);
    assert_int_equal(s.calls, 0);
    unload(&k);
}

/* --- a history re-wrap (§12) ---------------------------------------------------------------- */

static void test_rewrap(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    struct ses_receive_rewrap rw;
    uint8_t t_id[16], t_pk[32], t_sk[32], by_pk[32], by_sk[64];
    load(0, &k);
    /* recipient 0 (signing key by_pk) re-wraps K for a new device t of its user */
    memset(t_id, 0x7a, sizeof t_id);
    crypto_box_keypair(t_pk, t_sk);
    crypto_sign_keypair(by_pk, by_sk);
    assert_int_equal(ses_rewrap_create(k.env, k.len, k.dev[0], k.box_pk[0], k.box_sk[0], k.sign_pk,
                                       by_sk, t_id, t_pk, rw.sealed, rw.sig),
                     0);
    memcpy(rw.by_device_id, k.dev[0], 16);
    memcpy(rw.by_sign_pk, by_pk, 32);
    prepare(&k, 0, &c);
    c.in.my_device_id = t_id;
    c.in.my_box_pk = t_pk;
    c.in.my_box_sk = t_sk;
    c.in.rewrap = &rw;
    receive_is(&k, &c, 0, SES_RECEIVE_ACCEPTED);
    /* without the re-wrap, the new device has no key */
    c.in.rewrap = NULL;
    receive_is(&k, &c, SES_ENOT_A_RECIPIENT, SES_RECEIVE_ENVELOPE);
    c.in.rewrap = &rw;
    rw.sig[0] ^= 1;
    receive_is(&k, &c, SES_EBAD_SIGNATURE, SES_RECEIVE_ENVELOPE);
    rw.sig[0] ^= 1;
    memcpy(rw.by_device_id, k.sender_device, 16); /* a device without a wrap never had K */
    receive_is(&k, &c, SES_ENOT_A_RECIPIENT, SES_RECEIVE_ENVELOPE);
    sodium_memzero(t_sk, sizeof t_sk);
    sodium_memzero(by_sk, sizeof by_sk);
    unload(&k);
}

/* --- not the envelope's fault --------------------------------------------------------------- */

static void test_invalid_args(void **state)
{
    (void)state;
    struct kat k;
    struct call c;
    begin(&k, &c, 0, 1);
    assert_int_equal(ses_envelope_receive(NULL, &c.out), SES_EINVALID_ARG);
    assert_int_equal(ses_envelope_receive(&c.in, NULL), SES_EINVALID_ARG);
    c.claim.seq = 0;
    assert_int_equal(ses_envelope_receive(&c.in, &c.out), SES_EINVALID_ARG);
    assert_int_equal(c.out.reason, SES_RECEIVE_ACCEPTED);
    c.claim.seq = 1;
    memcpy(c.expected[1], c.expected[0], 16); /* a device twice */
    assert_int_equal(ses_envelope_receive(&c.in, &c.out), SES_EINVALID_ARG);
    assert_null(c.out.opened.body);
    ses_received_free(NULL);
    unload(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_every_recipient),
        cmocka_unit_test(test_bad_envelope),
        cmocka_unit_test(test_claim_mismatch),
        cmocka_unit_test(test_inner_mismatch),
        cmocka_unit_test(test_bad_signature),
        cmocka_unit_test(test_ghost_device),
        cmocka_unit_test(test_not_a_recipient),
        cmocka_unit_test(test_decrypt_failed),
        cmocka_unit_test(test_bad_commitment),
        cmocka_unit_test(test_replayed_sequence),
        cmocka_unit_test(test_replayed_mark),
        cmocka_unit_test(test_replayed_msg_id),
        cmocka_unit_test(test_rewrap),
        cmocka_unit_test(test_invalid_args),
    };
    return cmocka_run_group_tests_name("envelope_receive", tests, setup, teardown);
}
