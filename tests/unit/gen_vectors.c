/*
 * gen_vectors.c - one-off generator of protocol/vectors/transcripts.json, the known-answer
 * vectors of the login and enrolment transcripts (PROTOCOL.md section 5).
 *
 * Built with the unit tests but never run by ctest: the frozen JSON is the reference, and
 * test_transcript checks the library against it. Rerun only when adding vectors, then inspect the
 * transcript hex by hand against PROTOCOL.md before committing:
 *     build/tests/unit/gen_vectors protocol/vectors/transcripts.json
 *
 * Inputs are deterministic: for vector v, the input byte strings are consecutive slices, in the
 * order of INPUTS below, of the sequence b(k) = (start + step * k) mod 256, k = 0, 1, 2, ...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/transcript.h"

struct vec_def {
    const char *name;
    const char *about;
    unsigned start, step;
    uint64_t ts_ms;
};

static const struct vec_def VECTORS[] = {
    {"v1-ascending", "realistic time (2026-01-01T00:00:00.123Z)", 0x01, 1, 1767225600123ULL},
    {"v2-step7", "time with every byte distinct and non-zero, above 2^53 (no frames)", 0x80, 7,
     0x0102030405060708ULL},
    {"v3-descending", "time with 7 distinct non-zero low bytes, below 2^53", 0xff, 255,
     0x001FEDCBA9876543ULL},
};

/* The input byte strings, in the order they are cut from the sequence. */
struct inputs {
    uint8_t sign_seed[32], box_seed[32], server_seed[32], snonce[32], cnonce[32];
    uint8_t device_id[SES_ID_BYTES], ticket[SES_CODE_TICKET_BYTES], secret[SES_CODE_SECRET_BYTES];
};

static void fill(const struct vec_def *d, struct inputs *in)
{
    uint8_t *fields[] = {in->sign_seed, in->box_seed,  in->server_seed, in->snonce,
                         in->cnonce,    in->device_id, in->ticket,      in->secret};
    size_t sizes[] = {
        32, 32, 32, 32, 32, SES_ID_BYTES, SES_CODE_TICKET_BYTES, SES_CODE_SECRET_BYTES};
    unsigned k = 0;
    for (size_t f = 0; f < sizeof sizes / sizeof sizes[0]; f++)
        for (size_t i = 0; i < sizes[f]; i++, k++)
            fields[f][i] = (uint8_t)((d->start + d->step * k) & 0xff);
}

static json_t *hex(const uint8_t *bin, size_t n)
{
    char buf[2 * 256 + 1];
    if (n > 256)
        abort();
    sodium_bin2hex(buf, sizeof buf, bin, n);
    return json_string(buf);
}

static json_t *b64(const uint8_t *bin, size_t n)
{
    char buf[512];
    if (ses_b64_encode(buf, sizeof buf, bin, n) != 0)
        abort();
    return json_string(buf);
}

static void set(json_t *o, const char *key, json_t *v)
{
    if (v == NULL || json_object_set_new(o, key, v) != 0)
        abort();
}

static json_t *frame_text(json_t *frame)
{
    char *s = ses_encode(frame);
    json_decref(frame);
    if (s == NULL)
        abort();
    json_t *v = json_string(s);
    free(s);
    return v;
}

static json_t *make_vector(const struct vec_def *d)
{
    struct inputs in;
    uint8_t sign_pk[32], sign_sk[64], box_pk[32], box_sk[32], server_pk[32], server_sk[64];
    uint8_t server_id[16], kid[16], ts_be[8];
    uint8_t login[SES_LOGIN_TRANSCRIPT_LEN], enroll[SES_ENROLL_TRANSCRIPT_LEN];
    uint8_t login_sig[SES_SIG_BYTES], enroll_sig[SES_SIG_BYTES];
    char ts_dec[24], id_text[SES_ID_TEXT_LEN + 1], code[SES_CODE_TEXT_LEN + 1];

    fill(d, &in);
    crypto_sign_seed_keypair(sign_pk, sign_sk, in.sign_seed);
    crypto_box_seed_keypair(box_pk, box_sk, in.box_seed);
    crypto_sign_seed_keypair(server_pk, server_sk, in.server_seed);
    ses_kid16(server_id, server_pk, sizeof server_pk);
    ses_kid16(kid, sign_pk, sizeof sign_pk);
    for (int i = 0; i < 8; i++)
        ts_be[i] = (uint8_t)(d->ts_ms >> (56 - 8 * i));
    snprintf(ts_dec, sizeof ts_dec, "%llu", (unsigned long long)d->ts_ms);

    ses_transcript_login(login, server_id, in.snonce, in.cnonce, in.device_id, d->ts_ms);
    ses_transcript_enroll(enroll, server_id, in.snonce, in.ticket, sign_pk, box_pk, d->ts_ms);
    ses_sign(login_sig, login, sizeof login, sign_sk);
    ses_sign(enroll_sig, enroll, sizeof enroll, sign_sk);
    if (ses_verify(login_sig, login, sizeof login, sign_pk) != 0 ||
        ses_verify(enroll_sig, enroll, sizeof enroll, sign_pk) != 0)
        abort();
    ses_id_to_text(id_text, in.device_id);
    ses_code_format(code, in.ticket, in.secret);

    json_t *v = json_object(), *o;
    set(v, "name", json_string(d->name));
    set(v, "about", json_string(d->about));
    set(v, "pattern", o = json_object());
    set(o, "start", json_integer(d->start));
    set(o, "step", json_integer(d->step));

    set(v, "inputs", o = json_object());
    set(o, "sign_seed", hex(in.sign_seed, 32));
    set(o, "box_seed", hex(in.box_seed, 32));
    set(o, "server_seed", hex(in.server_seed, 32));
    set(o, "snonce", hex(in.snonce, 32));
    set(o, "cnonce", hex(in.cnonce, 32));
    set(o, "device_id", hex(in.device_id, SES_ID_BYTES));
    set(o, "ticket", hex(in.ticket, SES_CODE_TICKET_BYTES));
    set(o, "secret", hex(in.secret, SES_CODE_SECRET_BYTES));
    set(o, "ts_ms", json_string(ts_dec));
    set(o, "ts_be", hex(ts_be, 8));

    set(v, "keys", o = json_object());
    set(o, "sign_pk", hex(sign_pk, 32));
    set(o, "sign_kid16", hex(kid, 16));
    set(o, "box_pk", hex(box_pk, 32));
    set(o, "server_pk", hex(server_pk, 32));
    set(o, "server_id", hex(server_id, 16));

    set(v, "login", o = json_object());
    set(o, "len", json_integer((json_int_t)sizeof login));
    set(o, "transcript", hex(login, sizeof login));
    set(o, "sig", hex(login_sig, sizeof login_sig));

    set(v, "enroll", o = json_object());
    set(o, "len", json_integer((json_int_t)sizeof enroll));
    set(o, "transcript", hex(enroll, sizeof enroll));
    set(o, "sig", hex(enroll_sig, sizeof enroll_sig));

    set(v, "text", o = json_object());
    set(o, "device_id", json_string(id_text));
    set(o, "code", json_string(code));
    set(o, "sign_pk", b64(sign_pk, 32));
    set(o, "box_pk", b64(box_pk, 32));
    set(o, "server_id", b64(server_id, 16));
    set(o, "snonce", b64(in.snonce, 32));
    set(o, "cnonce", b64(in.cnonce, 32));
    set(o, "login_sig", b64(login_sig, 64));
    set(o, "enroll_sig", b64(enroll_sig, 64));

    /* wire frames only where ts is an exact JavaScript number */
    if (d->ts_ms <= (uint64_t)SES_REQUEST_ID_MAX) {
        json_t *f;
        set(v, "frames", o = json_object());
        f = json_object();
        set(f, "t", json_string("auth"));
        set(f, "id", json_integer(1));
        set(f, "device", json_string(id_text));
        set(f, "snonce", b64(in.snonce, 32));
        set(f, "cnonce", b64(in.cnonce, 32));
        set(f, "ts", json_integer((json_int_t)d->ts_ms));
        set(f, "sig", b64(login_sig, 64));
        set(o, "auth", frame_text(f));
        f = json_object();
        set(f, "t", json_string("enroll"));
        set(f, "id", json_integer(1));
        set(f, "code", json_string(code));
        set(f, "sign_pk", b64(sign_pk, 32));
        set(f, "box_pk", b64(box_pk, 32));
        set(f, "ts", json_integer((json_int_t)d->ts_ms));
        set(f, "sig", b64(enroll_sig, 64));
        set(f, "device_name", json_string("practice PC"));
        set(o, "enroll", frame_text(f));
    }
    sodium_memzero(sign_sk, sizeof sign_sk);
    sodium_memzero(box_sk, sizeof box_sk);
    sodium_memzero(server_sk, sizeof server_sk);
    return v;
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
    set(root, "format", json_string("sesame transcript vectors v1"));
    set(root, "about",
        json_string("Known answers for PROTOCOL.md section 5; see protocol/vectors/README.md. "
                    "Bytes are lower-case hex unless under \"text\" or \"frames\"."));
    set(root, "vectors", arr);
    for (size_t i = 0; i < sizeof VECTORS / sizeof VECTORS[0]; i++)
        if (json_array_append_new(arr, make_vector(&VECTORS[i])) != 0)
            abort();
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
