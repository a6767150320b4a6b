/*
 * gen_envelope_vectors.c - one-off generator of protocol/vectors/envelope.json, the known-answer
 * vectors of the "SES1" end-to-end envelope (PROTOCOL.md section 10, envelope.h).
 *
 * Built with the unit tests but never run by ctest: the frozen JSON is the reference, and
 * test_envelope rebuilds every envelope byte for byte (with the library and with an independent
 * assembly of the layout) and opens it as each recipient. Rerun only when adding vectors:
 *     build/tests/unit/gen_envelope_vectors protocol/vectors/envelope.json
 *
 * No byte is random. For vector v the input byte strings are consecutive slices, in the order
 * below, of b(k) = (start + step * k) mod 256, k = 0, 1, 2, ...:
 *     sign_seed 32 | sender_user_id 16 | sender_device_id 16 | thread_id 16 | msg_id 16 |
 *     key 32 | nonce 24 | the other members' user ids (16 each) |
 *     per recipient: device_id 16 | box_seed 32 | eph_seed 32
 * Keys: crypto_sign_seed_keypair(sign_seed); per recipient crypto_box_seed_keypair(box_seed)
 * (its mailbox key) and crypto_box_seed_keypair(eph_seed) (the ephemeral key of its wrap).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/envelope.h"
#include "sesame/err.h"

#define MAX_RCPT 3
#define MAX_MEMBERS 3

struct vec_def {
    const char *name;
    const char *about;
    unsigned start, step;
    size_t n_members;           /* the sender is member 0; the others are cut from the pattern */
    size_t n_rcpt;              /* recipient devices */
    size_t rcpt_user[MAX_RCPT]; /* member index of each recipient device's user */
    uint32_t roster_version;
    uint64_t seq, created_ms, deadline_ms;
    uint16_t alert_type;
    uint8_t severity;
    uint8_t content_type;
    const char *body;      /* UTF-8 text body, or NULL: body_len bytes of (i * 37 + 11) mod 256 */
    size_t body_len;       /* used when body is NULL */
    const char *body_kind; /* "text" (body_text is included) or "binary" */
};

static const struct vec_def VECTORS[] = {
    {"e1-text-two-devices",
     "a text message to the sender's own other device and one colleague; realistic times",
     0x01,
     1,
     2,
     2,
     {0, 1},
     1,
     1,
     1767225600123ULL,
     0,
     0,
     0,
     SES_CONTENT_TEXT,
     "Bonjour, Mme D. revue jeudi 14h \xe2\x80\x94 PHQ-9 \xc3\xa0 refaire. Merci !",
     0,
     "text"},
    {"e2-alert-note-three-devices",
     "an alert note, second 256-byte bucket (300-byte body); every integer field has distinct "
     "non-zero bytes (sender_seq: its 7 low bytes, as it stays below 2^53), so a byte-order bug "
     "cannot pass",
     0x80,
     7,
     3,
     3,
     {1, 2, 0},
     0x01020304,
     0x001F0E0D0C0B0A09ULL,
     0x1112131415161718ULL,
     0x2122232425262728ULL,
     0x3132,
     0x33,
     SES_CONTENT_ALERT_NOTE,
     "Alerte: PHQ-9 item 9 positif. Appel du patient fait a 10h05, pas de plan, soutien "
     "familial present. Rappel infirmier prevu demain matin; avis du psychiatre demande avant "
     "la revue de jeudi. Merci de confirmer la prise en charge et de noter ici toute nouvelle "
     "information. -- IDE coordinatrice, Lyon-3.",
     0,
     "text"},
    {"e3-binary-scale-record",
     "a binary scale record (255 bytes: the largest body of the first bucket) to two devices "
     "of one colleague; sender_seq below 2^53 with 7 distinct bytes",
     0xff,
     255,
     2,
     2,
     {1, 1},
     7,
     0x001FEDCBA9876543ULL,
     1767225600123ULL + 86400000ULL,
     0,
     0,
     0,
     SES_CONTENT_SCALE,
     NULL,
     255,
     "binary"},
};

struct inputs {
    uint8_t sign_seed[32], sender_user[16], sender_device[16], thread[16], msg[16];
    uint8_t key[32], nonce[24];
    uint8_t members[MAX_MEMBERS][16];
    uint8_t rcpt_device[MAX_RCPT][16], box_seed[MAX_RCPT][32], eph_seed[MAX_RCPT][32];
};

static void fill(const struct vec_def *d, struct inputs *in)
{
    unsigned k = 0;
#define CUT(field, n)                                                                              \
    for (size_t i_ = 0; i_ < (n); i_++, k++)                                                       \
        (field)[i_] = (uint8_t)((d->start + d->step * k) & 0xff);
    CUT(in->sign_seed, 32);
    CUT(in->sender_user, 16);
    CUT(in->sender_device, 16);
    CUT(in->thread, 16);
    CUT(in->msg, 16);
    CUT(in->key, 32);
    CUT(in->nonce, 24);
    memcpy(in->members[0], in->sender_user, 16);
    for (size_t m = 1; m < d->n_members; m++) {
        CUT(in->members[m], 16);
    }
    for (size_t r = 0; r < d->n_rcpt; r++) {
        CUT(in->rcpt_device[r], 16);
        CUT(in->box_seed[r], 32);
        CUT(in->eph_seed[r], 32);
    }
#undef CUT
}

static json_t *hex(const uint8_t *bin, size_t n)
{
    char *buf = malloc(2 * n + 1);
    if (buf == NULL)
        abort();
    sodium_bin2hex(buf, 2 * n + 1, bin, n);
    json_t *v = json_string(buf);
    free(buf);
    return v;
}

static json_t *dec(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return json_string(buf);
}

static void set(json_t *o, const char *key, json_t *v)
{
    if (v == NULL || json_object_set_new(o, key, v) != 0)
        abort();
}

static void append(json_t *a, json_t *v)
{
    if (v == NULL || json_array_append_new(a, v) != 0)
        abort();
}

static json_t *make_vector(const struct vec_def *d)
{
    struct inputs in;
    uint8_t sign_pk[32], sign_sk[64];
    uint8_t box_pk[MAX_RCPT][32], box_sk[MAX_RCPT][32], eph_pk[MAX_RCPT][32], eph_sk[MAX_RCPT][32];
    struct ses_recipient rc[MAX_RCPT];
    struct ses_envelope_header h;
    uint8_t body[SES_ENVELOPE_PAD_BLOCK];
    size_t body_len;

    memset(&in, 0, sizeof in);
    fill(d, &in);
    crypto_sign_seed_keypair(sign_pk, sign_sk, in.sign_seed);
    for (size_t r = 0; r < d->n_rcpt; r++) {
        crypto_box_seed_keypair(box_pk[r], box_sk[r], in.box_seed[r]);
        crypto_box_seed_keypair(eph_pk[r], eph_sk[r], in.eph_seed[r]);
        memcpy(rc[r].device_id, in.rcpt_device[r], 16);
        memcpy(rc[r].box_pk, box_pk[r], 32);
    }
    const uint8_t *bodyp = body;
    if (d->body != NULL) {
        bodyp = (const uint8_t *)d->body;
        body_len = strlen(d->body);
    } else {
        body_len = d->body_len;
        for (size_t i = 0; i < body_len; i++)
            body[i] = (uint8_t)((i * 37 + 11) & 0xff);
    }

    memset(&h, 0, sizeof h);
    memcpy(h.thread_id, in.thread, 16);
    memcpy(h.msg_id, in.msg, 16);
    memcpy(h.sender_user_id, in.sender_user, 16);
    memcpy(h.sender_device_id, in.sender_device, 16);
    h.sender_seq = d->seq;
    if (ses_roster_hash(h.roster_hash, in.thread, d->roster_version,
                        (const uint8_t(*)[16])in.members, d->n_members) != 0)
        abort();
    h.created_ms = d->created_ms;
    h.alert_type = d->alert_type;
    h.severity = d->severity;
    h.deadline_ms = d->deadline_ms;

    uint8_t *env = NULL;
    size_t len = 0;
    if (ses_envelope_seal_det(&env, &len, &h, d->content_type, bodyp, body_len, rc, d->n_rcpt,
                              sign_sk, in.key, in.nonce, (const uint8_t(*)[32])eph_sk) != 0)
        abort();

    /* every intermediate value, from the parsed envelope */
    struct ses_envelope_view v;
    if (ses_envelope_parse(env, len, &v) != 0 || ses_envelope_verify_sig(&v, sign_pk) != 0)
        abort();
    uint8_t kcommit[32];
    ses_envelope_kcommit(kcommit, in.key, in.msg);
    if (memcmp(kcommit, v.kcommit, 32) != 0)
        abort();
    size_t pt_len = v.ct_len - SES_ENVELOPE_TAG_BYTES;
    uint8_t *pt = malloc(pt_len);
    unsigned long long got = 0;
    if (pt == NULL ||
        crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &got, NULL, v.ct, v.ct_len, env,
                                                   v.header_len, in.nonce, in.key) != 0 ||
        got != pt_len)
        abort();
    /* every recipient opens it */
    uint8_t expected[MAX_RCPT + 1][16];
    for (size_t r = 0; r < d->n_rcpt; r++)
        memcpy(expected[r], in.rcpt_device[r], 16);
    memcpy(expected[d->n_rcpt], in.sender_device, 16);
    for (size_t r = 0; r < d->n_rcpt; r++) {
        struct ses_opened o;
        if (ses_envelope_open(env, len, in.rcpt_device[r], box_pk[r], box_sk[r], sign_pk,
                              (const uint8_t(*)[16])expected, d->n_rcpt + 1, d->seq - 1, &o) != 0 ||
            o.body_len != body_len || memcmp(o.body, bodyp, body_len) != 0)
            abort();
        ses_opened_free(&o);
    }

    json_t *j = json_object(), *o, *a;
    set(j, "name", json_string(d->name));
    set(j, "about", json_string(d->about));
    set(j, "pattern", o = json_object());
    set(o, "start", json_integer(d->start));
    set(o, "step", json_integer(d->step));

    set(j, "inputs", o = json_object());
    set(o, "sign_seed", hex(in.sign_seed, 32));
    set(o, "sender_user_id", hex(in.sender_user, 16));
    set(o, "sender_device_id", hex(in.sender_device, 16));
    set(o, "thread_id", hex(in.thread, 16));
    set(o, "msg_id", hex(in.msg, 16));
    set(o, "key", hex(in.key, 32));
    set(o, "nonce", hex(in.nonce, 24));
    set(o, "members", a = json_array());
    for (size_t m = 0; m < d->n_members; m++)
        append(a, hex(in.members[m], 16));
    set(o, "recipients", a = json_array());
    for (size_t r = 0; r < d->n_rcpt; r++) {
        json_t *x = json_object();
        set(x, "member", json_integer((json_int_t)d->rcpt_user[r]));
        set(x, "device_id", hex(in.rcpt_device[r], 16));
        set(x, "box_seed", hex(in.box_seed[r], 32));
        set(x, "eph_seed", hex(in.eph_seed[r], 32));
        append(a, x);
    }
    set(o, "roster_version", json_integer((json_int_t)d->roster_version));
    set(o, "sender_seq", dec(d->seq));
    set(o, "created_ms", dec(d->created_ms));
    set(o, "alert_type", json_integer(d->alert_type));
    set(o, "severity", json_integer(d->severity));
    set(o, "deadline_ms", dec(d->deadline_ms));
    set(o, "content_type", json_integer(d->content_type));
    set(o, "body", hex(bodyp, body_len));
    if (d->body != NULL)
        set(o, "body_text", json_string(d->body));

    set(j, "keys", o = json_object());
    set(o, "sign_pk", hex(sign_pk, 32));
    set(o, "recipients", a = json_array());
    for (size_t r = 0; r < d->n_rcpt; r++) {
        json_t *x = json_object();
        set(x, "box_pk", hex(box_pk[r], 32));
        set(x, "eph_pk", hex(eph_pk[r], 32));
        append(a, x);
    }

    set(j, "roster_hash", hex(h.roster_hash, 32));
    set(j, "kcommit", hex(kcommit, 32));
    set(j, "header_len", json_integer((json_int_t)v.header_len));
    set(j, "wraps", a = json_array());
    for (size_t r = 0; r < v.n_wraps; r++)
        append(a, hex(v.wraps + r * SES_ENVELOPE_WRAP_BYTES, SES_ENVELOPE_WRAP_BYTES));
    set(j, "inner", hex(pt, pt_len));
    set(j, "ct_len", json_integer((json_int_t)v.ct_len));
    set(j, "ct", hex(v.ct, v.ct_len));
    set(j, "sig", hex(v.sig, SES_SIG_BYTES));
    set(j, "len", json_integer((json_int_t)len));
    set(j, "envelope", hex(env, len));
    char *b64 = malloc(ses_b64_len(len) + 1);
    if (b64 == NULL || ses_b64_encode(b64, ses_b64_len(len) + 1, env, len) != 0)
        abort();
    set(j, "envelope_b64url", json_string(b64));
    free(b64);

    sodium_memzero(pt, pt_len);
    free(pt);
    free(env);
    sodium_memzero(sign_sk, sizeof sign_sk);
    sodium_memzero(box_sk, sizeof box_sk);
    sodium_memzero(eph_sk, sizeof eph_sk);
    return j;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTPUT.json   (\"-\" for stdout)\n", argv[0]);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    json_t *root = json_object(), *arr = json_array();
    set(root, "format", json_string("sesame envelope vectors v1"));
    set(root, "about",
        json_string("Known answers for PROTOCOL.md section 10 (SES1 envelopes, suite 1); see "
                    "protocol/vectors/README.md. Bytes are lower-case hex; 64-bit integers are "
                    "decimal strings."));
    set(root, "vectors", arr);
    for (size_t i = 0; i < sizeof VECTORS / sizeof VECTORS[0]; i++)
        append(arr, make_vector(&VECTORS[i]));
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (s == NULL)
        return 1;
    FILE *f = strcmp(argv[1], "-") == 0 ? stdout : fopen(argv[1], "w");
    if (f == NULL) {
        perror(argv[1]);
        free(s);
        return 1;
    }
    int ok = fprintf(f, "%s\n", s) >= 0;
    free(s);
    if (f != stdout)
        ok = fclose(f) == 0 && ok;
    return ok ? 0 : 1;
}
