/*
 * gen_audit_vectors.c - one-off generator of protocol/vectors/audit.json, the known-answer vectors
 * of the audit records and the tamper-evident log (PROTOCOL.md sections 8 and 9): canonical record
 * bytes and leaf hashes, tree roots, inclusion and consistency proofs, signed checkpoints, and the
 * cases a verifier must refuse.
 *
 * Built with the unit tests but never run by ctest: the frozen JSON is the reference, and
 * test_audit_vectors re-derives every value of it with the C library. Rerun only when adding
 * vectors, then check with `git diff` that the existing values did not change:
 *     build/tests/unit/gen_audit_vectors protocol/vectors/audit.json
 *
 * No byte is random. The input byte strings are consecutive slices, in this order, of
 * b(k) = (START + STEP * k) mod 256, k = 0, 1, 2, ...:
 *     log_seed 32 | other_seed 32 | server_id 16 | users 3 x 16 | devices 4 x 16
 * The records are written by the daemon's own store (ses_store_audit_append, in a temporary
 * database), so their bytes are the ones sesamed serves; roots and proofs come from the store too
 * and are checked against protocol/merkle.c before they are written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/merkle.h"
#include "sesame/note.h"

#include "store.h"

#define START 0x11
#define STEP 3
#define N_USERS 3
#define N_DEVICES 4
#define N_RECORDS 17
#define NOTE_MAX 1024
#define B64_STD_ROOT 44 /* standard base64 of 32 bytes */

/* Byte strings cut from the pattern. */
struct inputs {
    uint8_t log_seed[32], other_seed[32], server_id[16];
    uint8_t users[N_USERS][SES_ID_BYTES], devices[N_DEVICES][SES_ID_BYTES];
};

/* One record: indexes into the users/devices (-1 = null); object "%U"/"%D" + index is expanded
 * to "user:ID" / "device:ID". */
struct rec_def {
    int64_t dt_ms; /* after the previous record's ts (the first: after T0) */
    int user, device;
    const char *role, *action, *object, *outcome, *peer;
};

#define T0 1767225600123LL /* 2026-01-01T00:00:00.123Z */

static const struct rec_def RECORDS[N_RECORDS] = {
    {0, -1, -1, NULL, "init", NULL, "ok", NULL},
    {1, -1, -1, NULL, "user.invite", "%U0", "ok", NULL},
    {812, -1, -1, NULL, "server.start", NULL, "ok", NULL},
    {61250, 0, 0, "admin", "device.enroll", "%D0", "ok", "127.0.0.1"},
    {433, 0, 0, "admin", "auth.login", "%D0", "ok", "127.0.0.1"},
    {90210, 0, 0, "admin", "user.invite", "%U1", "ok", "127.0.0.1"},
    {5000, -1, 3, NULL, "auth.login", "%D3", "AUTH_FAILED", "192.0.2.7"},
    {3600000, 1, 1, "nurse", "device.enroll", "%D1", "ok", "::1"},
    {17, 1, 1, "nurse", "authz.denied", "audit_tail", "DENIED", "::1"},
    {86400000, 0, 0, "admin", "user.invite", "%U2", "ok", "127.0.0.1"},
    {1234, 2, 2, "auditor", "auth.login", "%D2", "ok", "2001:db8::5"},
    {2, 2, 2, "auditor", "audit.read", "checkpoint", "ok", "2001:db8::5"},
    {600000, 0, 0, "admin", "device.revoke", "%D1", "ok", "127.0.0.1"},
    /* every escape of PROTOCOL.md section 8 and literal UTF-8 (no record holds such text today) */
    {45, 1, 3, "nurse", "device.link", "x:\"q\" \\ \x01\x1f\x7f \xc3\xa9 \xe2\x80\x94", "ok",
     "::1"},
    {2592000000LL, -1, -1, NULL, "audit.prune", "seq:1-3", "ok", NULL},
    {9, -1, -1, NULL, "server.stop", NULL, "ok", NULL},
    {120000, -1, -1, NULL, "server.start", NULL, "ok", NULL},
};

/* Tree sizes whose inclusion proofs (every leaf) and consistency proofs (every pair) are given. */
static const uint64_t SIZES[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17};
#define N_SIZES (sizeof SIZES / sizeof SIZES[0])

/* The stored (m) and latest (n) checkpoints of the verify scenario. */
#define CKPT_OLD 9
#define CKPT_NEW 17

/* --- small helpers ---------------------------------------------------------------------------- */

static void die(const char *what)
{
    fprintf(stderr, "gen_audit_vectors: %s\n", what);
    exit(1);
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

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void fill(struct inputs *in)
{
    uint8_t *fields[2 + 1 + N_USERS + N_DEVICES] = {in->log_seed, in->other_seed, in->server_id};
    size_t sizes[2 + 1 + N_USERS + N_DEVICES] = {32, 32, 16};
    size_t nf = 3;
    for (int i = 0; i < N_USERS; i++, nf++) {
        fields[nf] = in->users[i];
        sizes[nf] = SES_ID_BYTES;
    }
    for (int i = 0; i < N_DEVICES; i++, nf++) {
        fields[nf] = in->devices[i];
        sizes[nf] = SES_ID_BYTES;
    }
    unsigned k = 0;
    for (size_t f = 0; f < nf; f++)
        for (size_t i = 0; i < sizes[f]; i++, k++)
            fields[f][i] = (uint8_t)((START + STEP * k) & 0xff);
}

/* "%U<i>" -> "user:<id>", "%D<i>" -> "device:<id>", anything else unchanged. */
static void expand_object(char *out, size_t cap, const char *object, const struct inputs *in)
{
    char id[SES_ID_TEXT_LEN + 1];
    if (object[0] == '%' && (object[1] == 'U' || object[1] == 'D')) {
        int i = object[2] - '0';
        ses_id_to_text(id, object[1] == 'U' ? in->users[i] : in->devices[i]);
        snprintf(out, cap, "%s:%s", object[1] == 'U' ? "user" : "device", id);
    } else {
        snprintf(out, cap, "%s", object);
    }
}

/* --- the store: records, roots and proofs ------------------------------------------------------
 */

struct row_copy {
    char text[512];
    size_t len;
    uint8_t leaf[32];
};

static int take_row(void *ud, const struct ses_audit_row *row)
{
    struct row_copy *rows = ud, *r = &rows[row->seq - 1];
    if (row->rec == NULL || row->rec_len >= sizeof r->text)
        return SES_EINTERNAL;
    memcpy(r->text, row->rec, row->rec_len);
    r->text[row->rec_len] = '\0';
    r->len = row->rec_len;
    memcpy(r->leaf, row->leaf_hash, 32);
    return 0;
}

static json_t *proof_json(uint8_t proof[][32], size_t count)
{
    json_t *a = json_array();
    for (size_t i = 0; i < count; i++)
        append(a, hex(proof[i], 32));
    return a;
}

static json_t *records_json(struct ses_store *st, const struct inputs *in, struct row_copy *rows)
{
    json_t *arr = json_array();
    char objects[N_RECORDS][160];
    int64_t ts = T0;
    if (ses_store_begin(st) != 0)
        die("begin");
    for (int i = 0; i < N_RECORDS; i++) {
        const struct rec_def *d = &RECORDS[i];
        ts += d->dt_ms;
        if (d->object != NULL)
            expand_object(objects[i], sizeof objects[i], d->object, in);
        struct ses_audit_rec r = {.ts_ms = ts,
                                  .actor_user = d->user >= 0 ? in->users[d->user] : NULL,
                                  .actor_device = d->device >= 0 ? in->devices[d->device] : NULL,
                                  .actor_role = d->role,
                                  .action = d->action,
                                  .object = d->object ? objects[i] : NULL,
                                  .outcome = d->outcome,
                                  .peer = d->peer};
        int64_t seq = 0;
        if (ses_store_audit_append(st, &r, &seq) != 0 || seq != i + 1)
            die("append");
        json_t *inp = json_object();
        set(inp, "ts", json_integer(ts));
        set(inp, "user", d->user >= 0 ? hex(in->users[d->user], SES_ID_BYTES) : json_null());
        set(inp, "device",
            d->device >= 0 ? hex(in->devices[d->device], SES_ID_BYTES) : json_null());
        set(inp, "role", str_or_null(d->role));
        set(inp, "action", json_string(d->action));
        set(inp, "object", str_or_null(d->object ? objects[i] : NULL));
        set(inp, "outcome", json_string(d->outcome));
        set(inp, "peer", str_or_null(d->peer));
        json_t *o = json_object();
        set(o, "seq", json_integer(seq));
        set(o, "inputs", inp);
        append(arr, o);
    }
    if (ses_store_commit(st) != 0 || ses_store_audit_range(st, 1, N_RECORDS, take_row, rows) != 0)
        die("commit or read back");
    for (int i = 0; i < N_RECORDS; i++) {
        json_t *o = json_array_get(arr, (size_t)i);
        uint8_t h[32];
        ses_merkle_leaf_hash(h, (const uint8_t *)rows[i].text, rows[i].len);
        if (memcmp(h, rows[i].leaf, 32) != 0)
            die("stored leaf hash");
        set(o, "text", json_stringn(rows[i].text, rows[i].len));
        set(o, "leaf_hash", hex(rows[i].leaf, 32));
    }
    return arr;
}

static json_t *roots_json(struct ses_store *st, uint8_t roots[N_RECORDS + 1][32])
{
    json_t *arr = json_array();
    for (uint64_t n = 0; n <= N_RECORDS; n++) {
        if (n == 0)
            ses_merkle_empty_root(roots[0]);
        else if (ses_store_audit_root(st, n, roots[n]) != 0)
            die("root");
        json_t *o = json_object();
        set(o, "size", json_integer((json_int_t)n));
        set(o, "root", hex(roots[n], 32));
        append(arr, o);
    }
    return arr;
}

static json_t *inclusion_json(struct ses_store *st, const struct row_copy *rows,
                              uint8_t roots[N_RECORDS + 1][32])
{
    json_t *arr = json_array();
    for (size_t s = 0; s < N_SIZES; s++) {
        uint64_t n = SIZES[s];
        for (uint64_t i = 0; i < n; i++) {
            uint8_t proof[SES_MERKLE_MAX_PROOF][32];
            size_t count = 0;
            if (ses_store_audit_inclusion(st, i, n, proof, &count) != 0 ||
                ses_merkle_verify_inclusion(rows[i].leaf, i, n, (const uint8_t(*)[32])proof, count,
                                            roots[n]) != 0)
                die("inclusion proof");
            json_t *o = json_object();
            set(o, "seq", json_integer((json_int_t)i + 1));
            set(o, "size", json_integer((json_int_t)n));
            set(o, "proof", proof_json(proof, count));
            append(arr, o);
        }
    }
    return arr;
}

static json_t *consistency_json(struct ses_store *st, uint8_t roots[N_RECORDS + 1][32])
{
    json_t *arr = json_array();
    for (size_t a = 0; a < N_SIZES; a++) {
        for (size_t b = a; b < N_SIZES; b++) {
            uint64_t m = SIZES[a], n = SIZES[b];
            uint8_t proof[SES_MERKLE_MAX_PROOF][32];
            size_t count = 0;
            if (m == n && n != N_RECORDS)
                continue; /* one equal pair is enough: the empty proof */
            if (ses_store_audit_consistency(st, m, n, proof, &count) != 0 ||
                ses_merkle_verify_consistency(m, n, roots[m], roots[n], (const uint8_t(*)[32])proof,
                                              count) != 0)
                die("consistency proof");
            json_t *o = json_object();
            set(o, "from", json_integer((json_int_t)m));
            set(o, "to", json_integer((json_int_t)n));
            set(o, "proof", proof_json(proof, count));
            append(arr, o);
        }
    }
    return arr;
}

/* --- keys and checkpoints ----------------------------------------------------------------------
 */

struct keys {
    char origin[128];
    uint8_t pk[32], sk[64], other_pk[32], other_sk[64];
    char vkey[SES_NOTE_VKEY_MAX + 1], other_vkey[SES_NOTE_VKEY_MAX + 1];
};

static json_t *keys_json(const struct inputs *in, struct keys *k)
{
    char sid[32];
    uint8_t id[SES_NOTE_KEY_ID_BYTES], other_id[SES_NOTE_KEY_ID_BYTES];
    if (ses_b64_encode(sid, sizeof sid, in->server_id, 16) != 0)
        die("server id");
    snprintf(k->origin, sizeof k->origin, "sesame/audit/%s", sid);
    crypto_sign_seed_keypair(k->pk, k->sk, in->log_seed);
    crypto_sign_seed_keypair(k->other_pk, k->other_sk, in->other_seed);
    if (ses_note_key_id(id, k->origin, k->pk) != 0 ||
        ses_note_key_id(other_id, k->origin, k->other_pk) != 0 ||
        ses_note_vkey_format(k->vkey, sizeof k->vkey, k->origin, k->pk) != 0 ||
        ses_note_vkey_format(k->other_vkey, sizeof k->other_vkey, k->origin, k->other_pk) != 0)
        die("vkey");
    json_t *o = json_object();
    set(o, "origin", json_string(k->origin));
    set(o, "log_pk", hex(k->pk, 32));
    set(o, "key_id", hex(id, sizeof id));
    set(o, "vkey", json_string(k->vkey));
    set(o, "other_pk", hex(k->other_pk, 32));
    set(o, "other_key_id", hex(other_id, sizeof other_id));
    set(o, "other_vkey", json_string(k->other_vkey));
    return o;
}

/* A checkpoint note of (size, root) by sk (key name = the origin), written to note. */
static size_t sign_checkpoint(char note[NOTE_MAX], const char *origin, uint64_t size,
                              const uint8_t root[32], const char *key_name, const uint8_t sk[64])
{
    size_t len = 0;
    if (ses_checkpoint_sign(note, NOTE_MAX, &len, origin, size, root, key_name, sk) != 0)
        die("sign checkpoint");
    return len;
}

static json_t *checkpoint_json(const struct keys *k, uint64_t size, const uint8_t root[32])
{
    char body[NOTE_MAX], note[NOTE_MAX], r64[B64_STD_ROOT + 1];
    size_t blen = 0;
    uint8_t sig[64];
    if (ses_checkpoint_body(body, sizeof body, &blen, k->origin, size, root) != 0)
        die("checkpoint body");
    crypto_sign_detached(sig, NULL, (const uint8_t *)body, blen, k->sk);
    size_t nlen = sign_checkpoint(note, k->origin, size, root, k->origin, k->sk);
    sodium_bin2base64(r64, sizeof r64, root, 32, sodium_base64_VARIANT_ORIGINAL);
    json_t *o = json_object();
    set(o, "size", json_integer((json_int_t)size));
    set(o, "root", hex(root, 32));
    set(o, "root_b64", json_string(r64));
    set(o, "body", json_stringn(body, blen));
    set(o, "signature", hex(sig, 64));
    set(o, "note", json_stringn(note, nlen));
    return o;
}

/* --- what a verifier must refuse ---------------------------------------------------------------
 */

static void flip(uint8_t h[32])
{
    h[0] ^= 0x01;
}

static json_t *bad_record(const struct row_copy *rows, int seq, const char *from, const char *to)
{
    char text[512];
    const struct row_copy *r = &rows[seq - 1];
    const char *p = strstr(r->text, from);
    if (p == NULL)
        die("bad record");
    snprintf(text, sizeof text, "%.*s%s%s", (int)(p - r->text), r->text, to, p + strlen(from));
    uint8_t h[32];
    ses_merkle_leaf_hash(h, (const uint8_t *)text, strlen(text));
    json_t *o = json_object();
    set(o, "about", json_string("record bytes changed after they were hashed"));
    set(o, "seq", json_integer(seq));
    set(o, "text", json_string(text));
    set(o, "leaf_hash", hex(h, 32));
    set(o, "stored_leaf_hash", hex(r->leaf, 32));
    return o;
}

static json_t *bad_inclusion(struct ses_store *st, const char *about, uint64_t seq, uint64_t size,
                             const uint8_t leaf[32], const uint8_t root[32], int edit)
{
    uint8_t proof[SES_MERKLE_MAX_PROOF][32];
    size_t count = 0;
    if (ses_store_audit_inclusion(st, seq - 1, size, proof, &count) != 0 || count < 2)
        die("bad inclusion");
    if (edit == 1)
        flip(proof[1]);
    else if (edit == 2)
        count--;
    else if (edit == 3)
        memcpy(proof[count++], root, 32);
    uint64_t as_seq = edit == 4 ? seq + 1 : seq;
    if (ses_merkle_verify_inclusion(leaf, as_seq - 1, size, (const uint8_t(*)[32])proof, count,
                                    root) != SES_EAUTH_FAILED)
        die("bad inclusion verifies");
    json_t *o = json_object();
    set(o, "about", json_string(about));
    set(o, "seq", json_integer((json_int_t)as_seq));
    set(o, "size", json_integer((json_int_t)size));
    set(o, "leaf_hash", hex(leaf, 32));
    set(o, "proof", proof_json(proof, count));
    set(o, "root", hex(root, 32));
    return o;
}

static json_t *bad_consistency(struct ses_store *st, const char *about, uint64_t m, uint64_t n,
                               uint8_t roots[N_RECORDS + 1][32], int edit)
{
    uint8_t proof[SES_MERKLE_MAX_PROOF][32];
    size_t count = 0;
    const uint8_t *root1 = edit == 4 ? roots[m - 1] : roots[m];
    if (ses_store_audit_consistency(st, m, n, proof, &count) != 0 || count < 1)
        die("bad consistency");
    if (edit == 1)
        flip(proof[0]);
    else if (edit == 2)
        count--;
    else if (edit == 3)
        memcpy(proof[count++], roots[1], 32);
    if (ses_merkle_verify_consistency(m, n, root1, roots[n], (const uint8_t(*)[32])proof, count) !=
        SES_EAUTH_FAILED)
        die("bad consistency verifies");
    json_t *o = json_object();
    set(o, "about", json_string(about));
    set(o, "from", json_integer((json_int_t)m));
    set(o, "to", json_integer((json_int_t)n));
    set(o, "root1", hex(root1, 32));
    set(o, "root2", hex(roots[n], 32));
    set(o, "proof", proof_json(proof, count));
    return o;
}

/* A note that ses_checkpoint_open must refuse with want (reason: origin, signature, malformed). */
static json_t *bad_note(const struct keys *k, const char *about, const char *note, int want,
                        const char *reason)
{
    struct ses_note_vkey vk;
    struct ses_checkpoint cp;
    if (ses_note_vkey_parse(&vk, k->vkey) != 0 ||
        ses_checkpoint_open(&cp, note, strlen(note), &vk, vk.name) != want)
        die("bad checkpoint opens");
    json_t *o = json_object();
    set(o, "about", json_string(about));
    set(o, "note", json_string(note));
    set(o, "error", json_string(ses_err_name(want)));
    set(o, "reason", json_string(reason));
    return o;
}

static json_t *bad_checkpoints(const struct keys *k, const uint8_t root[32])
{
    json_t *arr = json_array();
    char note[NOTE_MAX], text[NOTE_MAX], r64[B64_STD_ROOT + 1];
    sign_checkpoint(note, k->origin, CKPT_NEW, root, k->origin, k->other_sk);
    append(arr, bad_note(k, "signed by another key under the log's name", note, SES_EAUTH_FAILED,
                         "signature"));
    sign_checkpoint(note, k->origin, CKPT_NEW, root, "someone-else", k->sk);
    append(arr, bad_note(k, "signed by the log key under another name", note, SES_EAUTH_FAILED,
                         "signature"));
    sign_checkpoint(note, k->origin, CKPT_NEW, root, k->origin, k->sk);
    char *nl = strchr(note, '\n');
    nl[1] = '1', nl[2] = '8'; /* size 17 -> 18, signature unchanged */
    append(arr, bad_note(k, "size changed after signing", note, SES_EAUTH_FAILED, "signature"));
    sign_checkpoint(note, "sesame/audit/AAAAAAAAAAAAAAAAAAAAAA", CKPT_NEW, root, k->origin, k->sk);
    append(arr, bad_note(k, "signed by the log key, but of another log (origin)", note,
                         SES_EAUTH_FAILED, "origin"));
    sodium_bin2base64(r64, sizeof r64, root, 32, sodium_base64_VARIANT_ORIGINAL);
    snprintf(text, sizeof text, "%s\n%d\n%s\nextension\n", k->origin, CKPT_NEW, r64);
    if (ses_note_sign(note, sizeof note, NULL, text, strlen(text), k->origin, k->sk) != 0)
        die("sign extension");
    append(arr, bad_note(k, "signed by the log key, with an extension line", note, SES_EBAD_FIELD,
                         "malformed"));
    snprintf(note, sizeof note, "%s\n%d\n%s\n", k->origin, CKPT_NEW, r64);
    append(arr, bad_note(k, "no signature lines at all", note, SES_EBAD_FIELD, "malformed"));
    return arr;
}

static json_t *bad_vkeys(const struct keys *k)
{
    json_t *arr = json_array();
    char v[SES_NOTE_VKEY_MAX + 1];
    struct ses_note_vkey vk;
    const char *about[] = {"key id does not match the name and key", "upper-case key id",
                           "key type byte is not 0x01 (Ed25519)", "no key"};
    for (int i = 0; i < 4; i++) {
        snprintf(v, sizeof v, "%s", k->vkey);
        char *id = strchr(v, '+') + 1, *key = id + 9;
        if (i == 0)
            id[0] = id[0] == '0' ? '1' : '0';
        else if (i == 1)
            for (int j = 0; j < 8; j++)
                id[j] = (char)(id[j] >= 'a' ? id[j] - 32 : id[j]);
        else if (i == 2)
            key[1] = 'E'; /* 0x01 -> 0x11: "AQ" -> "EQ" */
        else
            id[8] = '\0';
        if (i == 1 && strcmp(v, k->vkey) == 0)
            die("key id has no letter");
        if (ses_note_vkey_parse(&vk, v) != SES_EBAD_FIELD)
            die("bad vkey parses");
        json_t *o = json_object();
        set(o, "about", json_string(about[i]));
        set(o, "vkey", json_string(v));
        append(arr, o);
    }
    return arr;
}

static json_t *negative_json(struct ses_store *st, const struct keys *k,
                             const struct row_copy *rows, uint8_t roots[N_RECORDS + 1][32])
{
    json_t *o = json_object(), *incl = json_array(), *cons = json_array();
    json_t *bad = bad_record(rows, 9, "\"outcome\":\"DENIED\"", "\"outcome\":\"ok\"");
    uint8_t changed[32];
    if (sodium_hex2bin(changed, 32, json_string_value(json_object_get(bad, "leaf_hash")), 64, NULL,
                       NULL, NULL) != 0)
        die("hex");
    json_t *records = json_array();
    append(records, bad);
    set(o, "records", records);
    append(incl, bad_inclusion(st, "one proof node changed", 5, 17, rows[4].leaf, roots[17], 1));
    append(incl, bad_inclusion(st, "the changed record's hash with the genuine proof", 9, 17,
                               changed, roots[17], 0));
    append(incl, bad_inclusion(st, "the proof of another leaf", 5, 17, rows[4].leaf, roots[17], 4));
    append(incl, bad_inclusion(st, "the last node dropped", 5, 17, rows[4].leaf, roots[17], 2));
    append(incl, bad_inclusion(st, "an extra node", 5, 17, rows[4].leaf, roots[17], 3));
    set(o, "inclusion", incl);
    append(cons, bad_consistency(st, "one proof node changed", CKPT_OLD, CKPT_NEW, roots, 1));
    append(cons, bad_consistency(st, "the old root is wrong", CKPT_OLD, CKPT_NEW, roots, 4));
    append(cons, bad_consistency(st, "the last node dropped", 7, 16, roots, 2));
    append(cons, bad_consistency(st, "an extra node", 5, 17, roots, 3));
    set(o, "consistency", cons);
    set(o, "checkpoints", bad_checkpoints(k, roots[CKPT_NEW]));
    set(o, "vkeys", bad_vkeys(k));
    return o;
}

/* --- main --------------------------------------------------------------------------------------
 */

static json_t *build(struct ses_store *st)
{
    static struct row_copy rows[N_RECORDS];
    static uint8_t roots[N_RECORDS + 1][32];
    struct inputs in;
    struct keys k;
    fill(&in);
    json_t *root = json_object(), *inp = json_object(), *users = json_array();
    json_t *devices = json_array(), *pat = json_object(), *ck = json_array();
    set(root, "format", json_string("sesame audit vectors v1"));
    set(root, "about",
        json_string("Known answers for PROTOCOL.md sections 8 and 9 (audit records, the Merkle "
                    "tree, checkpoints); see protocol/vectors/README.md. Bytes are lower-case "
                    "hex; seq is the leaf index + 1."));
    set(pat, "start", json_integer(START));
    set(pat, "step", json_integer(STEP));
    set(root, "pattern", pat);
    set(inp, "log_seed", hex(in.log_seed, 32));
    set(inp, "other_seed", hex(in.other_seed, 32));
    set(inp, "server_id", hex(in.server_id, 16));
    for (int i = 0; i < N_USERS; i++)
        append(users, hex(in.users[i], SES_ID_BYTES));
    for (int i = 0; i < N_DEVICES; i++)
        append(devices, hex(in.devices[i], SES_ID_BYTES));
    set(inp, "users", users);
    set(inp, "devices", devices);
    set(root, "inputs", inp);
    set(root, "keys", keys_json(&in, &k));
    set(root, "records", records_json(st, &in, rows));
    set(root, "roots", roots_json(st, roots));
    set(root, "inclusion", inclusion_json(st, rows, roots));
    set(root, "consistency", consistency_json(st, roots));
    append(ck, checkpoint_json(&k, CKPT_OLD, roots[CKPT_OLD]));
    append(ck, checkpoint_json(&k, CKPT_NEW, roots[CKPT_NEW]));
    set(root, "checkpoints", ck);
    set(root, "negative", negative_json(st, &k, rows, roots));
    sodium_memzero(&k, sizeof k);
    return root;
}

static int write_out(const char *path, const json_t *root)
{
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s == NULL)
        return 1;
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (f == NULL) {
        perror(path);
        free(s);
        return 1;
    }
    int ok = fprintf(f, "%s\n", s) >= 0;
    free(s);
    if (f != stdout)
        ok = fclose(f) == 0 && ok;
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTPUT.json   (\"-\" for stdout)\n", argv[0]);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    const char *tmp = getenv("TMPDIR");
    char dir[256], db[300], side[320];
    snprintf(dir, sizeof dir, "%s/sesame-gen-audit-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        die("mkdtemp");
    snprintf(db, sizeof db, "%s/sesame.db", dir);
    struct ses_store *st = NULL;
    if (ses_store_open(db, true, &st) != 0)
        die("store");
    json_t *root = build(st);
    ses_store_close(st);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", db, suffix[i]);
        unlink(side);
    }
    rmdir(dir);
    int rc = write_out(argv[1], root);
    json_decref(root);
    return rc;
}
