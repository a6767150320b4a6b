/*
 * gen_statement_vectors.c - generator of protocol/vectors/statements.json, the known answers of
 * the stage-2 signed statements (PROTOCOL.md section 17, statement.h): valid statements of each
 * kind with their fields, bytes, signer and roster hash; refused statements with the codes of
 * parse and verify; roster chains with the result of ses_roster_chain_check and the index at
 * fault; and ses_mailbox_valid_at at the edges of a mailbox key's validity.
 *
 * No byte is random: every key comes from crypto_sign_seed_keypair / crypto_box_seed_keypair of
 * a seed written in the file, and Ed25519 signatures are deterministic. Each statement is built
 * twice, by the library and by an independent assembly of the layout in this file (which also
 * builds the refused ones the library's encoders would not), and the generator checks that every
 * vector behaves as its section says; it exits non-zero otherwise.
 *     gen_statement_vectors FILE          writes FILE
 *     gen_statement_vectors --check FILE  exits 1 when FILE is not byte for byte what it would
 *                                         write (ctest unit.statement_vectors)
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "sesame/err.h"
#include "sesame/roles.h"
#include "sesame/statement.h"

static int failures;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gen_statement_vectors: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

static void die(const char *what)
{
    fprintf(stderr, "gen_statement_vectors: %s\n", what);
    exit(2);
}

/* --- sections -------------------------------------------------------------------------------- */

enum sect { S_USERS, S_DEVICES, S_VALID, S_REFUSED, S_CHAINS, S_VALID_AT, S_COUNT };
static const char *const sect_names[S_COUNT] = {"users",   "devices", "valid",
                                                "refused", "chains",  "mailbox_valid_at"};
static json_t *sects[S_COUNT];

static void add(enum sect s, json_t *v)
{
    if (v == NULL || json_array_append_new(sects[s], v) != 0)
        die("out of memory");
}

static void set(json_t *o, const char *key, json_t *v)
{
    if (v == NULL || json_object_set_new(o, key, v) != 0)
        die("out of memory");
}

static json_t *hex(const uint8_t *bin, size_t n)
{
    char buf[2 * (SES_STMT_MAX_BYTES + 64) + 1];
    if (2 * n + 1 > sizeof buf)
        die("hex: too long");
    sodium_bin2hex(buf, sizeof buf, bin, n);
    return json_string(buf);
}

static json_t *dec(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return json_string(buf);
}

static json_t *code(int err)
{
    return json_string(err == 0 ? "OK" : ses_err_name(err));
}

/* --- the principals: users' identity keys, devices, the server's key ---------------------------
 * Principal p: user_id[i] = 0x10 * (p + 1) + i (so ids ascend with p), seed[k] = (0x40 + 0x11 p +
 * (2 p + 1) k) mod 256. A device d of user p: device_id[i] = 0xd0 + 0x08 d + i mod 256, sign_seed
 * and box_seed = (0x90 + 0x21 d + 5 k) and (0x07 + 0x2b d + 11 k) mod 256. */

enum { ANNE, BRUNO, CLAIRE, DAVID, EVE, MALLORY, ANNE2, SERVER, N_PRINCIPALS };
static const char *const pnames[N_PRINCIPALS] = {"anne", "bruno",   "claire", "david",
                                                 "eve",  "mallory", "anne2",  "server"};
static const char *const pabout[N_PRINCIPALS] = {
    "a nurse",
    "a nurse",
    "a psychiatrist",
    "a GP",
    "a GP who joins later",
    "a user of the service the server adds to a thread on its own",
    "anne's second identity key (serial 2), after she lost every device",
    "a key of the server: not a user, trusted by nobody"};

struct principal {
    uint8_t id[16], seed[32], pk[32], sk[64];
};
static struct principal P[N_PRINCIPALS];

struct device {
    const char *name;
    int user;
    uint8_t id[16], sign_seed[32], box_seed[32];
    uint8_t sign_pk[32], sign_sk[64], box_pk[32], box_sk[32];
};
static struct device DEV[2] = {{.name = "anne-laptop", .user = ANNE},
                               {.name = "bruno-phone", .user = BRUNO}};

static void make_principals(void)
{
    for (int p = 0; p < N_PRINCIPALS; p++) {
        int u = p == ANNE2 ? ANNE : p; /* anne2 is anne with another key */
        for (int i = 0; i < 16; i++)
            P[p].id[i] = (uint8_t)(0x10 * (u + 1) + i);
        for (int k = 0; k < 32; k++)
            P[p].seed[k] = (uint8_t)((0x40 + 0x11 * p + (2 * p + 1) * k) & 0xff);
        crypto_sign_seed_keypair(P[p].pk, P[p].sk, P[p].seed);
        json_t *o = json_object();
        set(o, "name", json_string(pnames[p]));
        set(o, "about", json_string(pabout[p]));
        set(o, "user_id", hex(P[p].id, 16));
        set(o, "ik_seed", hex(P[p].seed, 32));
        set(o, "ik_pk", hex(P[p].pk, 32));
        add(S_USERS, o);
    }
    for (int d = 0; d < 2; d++) {
        struct device *v = &DEV[d];
        for (int i = 0; i < 16; i++)
            v->id[i] = (uint8_t)((0xd0 + 0x08 * d + i) & 0xff);
        for (int k = 0; k < 32; k++) {
            v->sign_seed[k] = (uint8_t)((0x90 + 0x21 * d + 5 * k) & 0xff);
            v->box_seed[k] = (uint8_t)((0x07 + 0x2b * d + 11 * k) & 0xff);
        }
        crypto_sign_seed_keypair(v->sign_pk, v->sign_sk, v->sign_seed);
        crypto_box_seed_keypair(v->box_pk, v->box_sk, v->box_seed);
        json_t *o = json_object();
        set(o, "name", json_string(v->name));
        set(o, "user", json_string(pnames[v->user]));
        set(o, "device_id", hex(v->id, 16));
        set(o, "sign_seed", hex(v->sign_seed, 32));
        set(o, "sign_pk", hex(v->sign_pk, 32));
        set(o, "box_seed", hex(v->box_seed, 32));
        set(o, "box_pk", hex(v->box_pk, 32));
        add(S_DEVICES, o);
    }
}

/* --- the independent assembly ----------------------------------------------------------------- */

struct raw {
    uint8_t b[SES_STMT_MAX_BYTES + 64];
    size_t n;
};

static void rput(struct raw *r, const void *p, size_t n)
{
    if (r->n + n > sizeof r->b)
        die("raw: too long");
    memcpy(r->b + r->n, p, n);
    r->n += n;
}

static void rbe(struct raw *r, uint64_t v, int n)
{
    uint8_t t[8];
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        t[i] = (uint8_t)v;
    rput(r, t, (size_t)n);
}

static void rctx(struct raw *r, const char *ctx)
{
    rput(r, ctx, strlen(ctx) + 1);
}

static void rsign(struct raw *r, const uint8_t sk[64])
{
    uint8_t sig[64];
    crypto_sign_detached(sig, NULL, r->b, r->n, sk);
    rput(r, sig, 64);
}

static void raw_identity(struct raw *r, const struct ses_stmt_identity *s, const uint8_t *sk)
{
    r->n = 0;
    rctx(r, "sesame/v2/identity");
    rput(r, s->user_id, 16);
    rput(r, s->ik_pk, 32);
    rbe(r, s->serial, 4);
    rbe(r, s->created_ms, 8);
    rsign(r, sk);
}

static void raw_device(struct raw *r, const struct ses_stmt_device *s, const uint8_t *sk)
{
    r->n = 0;
    rctx(r, "sesame/v2/device");
    rput(r, s->user_id, 16);
    rput(r, s->device_id, 16);
    rput(r, s->sign_pk, 32);
    rput(r, s->box_pk, 32);
    rbe(r, s->created_ms, 8);
    rsign(r, sk);
}

static void raw_vouch(struct raw *r, const struct ses_stmt_vouch *s, const uint8_t *sk)
{
    r->n = 0;
    rctx(r, "sesame/v2/vouch");
    rput(r, s->voucher_user_id, 16);
    rput(r, s->subject_user_id, 16);
    rput(r, s->subject_ik_pk, 32);
    rbe(r, s->subject_serial, 4);
    rbe(r, s->created_ms, 8);
    rsign(r, sk);
}

/* Writes n_members members (up to 17, beyond the library's limit) whatever the count byte says. */
static void raw_roster(struct raw *r, const struct ses_stmt_roster *s, size_t n_written,
                       const struct ses_stmt_member *extra, const uint8_t *sk)
{
    r->n = 0;
    rctx(r, "sesame/v2/roster");
    rput(r, s->thread_id, 16);
    rbe(r, s->version, 4);
    rput(r, s->prev_hash, 32);
    rbe(r, s->visibility, 1);
    rbe(r, s->n_members, 1);
    for (size_t i = 0; i < n_written; i++) {
        const struct ses_stmt_member *m = i < 16 ? &s->members[i] : extra;
        rput(r, m->user_id, 16);
        rbe(r, m->role, 1);
    }
    rbe(r, s->created_ms, 8);
    rput(r, s->signer_user_id, 16);
    rsign(r, sk);
}

static void raw_mailbox(struct raw *r, const struct ses_stmt_mailbox *s, const uint8_t *sk)
{
    r->n = 0;
    rctx(r, "sesame/v2/mailbox");
    rput(r, s->device_id, 16);
    rput(r, s->box_pk, 32);
    rbe(r, s->serial, 4);
    rbe(r, s->not_before_ms, 8);
    rbe(r, s->not_after_ms, 8);
    rsign(r, sk);
}

/* --- fields as JSON ----------------------------------------------------------------------------
 */

static json_t *f_identity(const struct ses_stmt_identity *s)
{
    json_t *o = json_object();
    set(o, "user_id", hex(s->user_id, 16));
    set(o, "ik_pk", hex(s->ik_pk, 32));
    set(o, "serial", json_integer(s->serial));
    set(o, "created_ms", dec(s->created_ms));
    return o;
}

static json_t *f_device(const struct ses_stmt_device *s)
{
    json_t *o = json_object();
    set(o, "user_id", hex(s->user_id, 16));
    set(o, "device_id", hex(s->device_id, 16));
    set(o, "sign_pk", hex(s->sign_pk, 32));
    set(o, "box_pk", hex(s->box_pk, 32));
    set(o, "created_ms", dec(s->created_ms));
    return o;
}

static json_t *f_vouch(const struct ses_stmt_vouch *s)
{
    json_t *o = json_object();
    set(o, "voucher_user_id", hex(s->voucher_user_id, 16));
    set(o, "subject_user_id", hex(s->subject_user_id, 16));
    set(o, "subject_ik_pk", hex(s->subject_ik_pk, 32));
    set(o, "subject_serial", json_integer(s->subject_serial));
    set(o, "created_ms", dec(s->created_ms));
    return o;
}

static json_t *f_roster(const struct ses_stmt_roster *s)
{
    json_t *o = json_object(), *a = json_array();
    set(o, "thread_id", hex(s->thread_id, 16));
    set(o, "version", json_integer(s->version));
    set(o, "prev_hash", hex(s->prev_hash, 32));
    set(o, "visibility", json_integer(s->visibility));
    set(o, "members", a);
    for (size_t i = 0; i < s->n_members; i++) {
        json_t *m = json_object();
        set(m, "user_id", hex(s->members[i].user_id, 16));
        set(m, "role", json_integer(s->members[i].role));
        if (json_array_append_new(a, m) != 0)
            die("out of memory");
    }
    set(o, "created_ms", dec(s->created_ms));
    set(o, "signer_user_id", hex(s->signer_user_id, 16));
    return o;
}

static json_t *f_mailbox(const struct ses_stmt_mailbox *s)
{
    json_t *o = json_object();
    set(o, "device_id", hex(s->device_id, 16));
    set(o, "box_pk", hex(s->box_pk, 32));
    set(o, "serial", json_integer(s->serial));
    set(o, "not_before_ms", dec(s->not_before_ms));
    set(o, "not_after_ms", dec(s->not_after_ms));
    return o;
}

/* --- valid statements --------------------------------------------------------------------------
 */

/* One valid statement (rawfn writes the hand assembly into R): the library's encode and sign
 * against the hand assembly, parse back to the same fields, verify with the signer's public key; a
 * roster's hash. */
#define ADD_VALID(kind, s, sk, pk, seed, signer_name, name_, about_, rawfn)                        \
    do {                                                                                           \
        uint8_t enc_[SES_STMT_MAX_BYTES], out_[SES_STMT_MAX_BYTES];                                \
        size_t elen_ = 0, olen_ = 0;                                                               \
        rawfn;                                                                                     \
        if (ses_stmt_##kind##_encode((s), enc_, sizeof enc_, &elen_) != 0 ||                       \
            ses_stmt_##kind##_sign((s), (sk), out_, sizeof out_, &olen_) != 0)                     \
            fail("%s: the library refuses it", name_);                                             \
        else if (olen_ != R.n || memcmp(out_, R.b, olen_) != 0 ||                                  \
                 elen_ != olen_ - SES_SIG_BYTES || memcmp(enc_, out_, elen_) != 0)                 \
            fail("%s: the library's bytes differ from the layout", name_);                         \
        struct ses_stmt_##kind back_;                                                              \
        if (ses_stmt_##kind##_parse(out_, olen_, &back_) != 0 ||                                   \
            ses_stmt_##kind##_verify(out_, olen_, (pk)) != 0)                                      \
            fail("%s: does not parse or verify", name_);                                           \
        uint8_t enc2_[SES_STMT_MAX_BYTES];                                                         \
        size_t elen2_ = 0;                                                                         \
        if (ses_stmt_##kind##_encode(&back_, enc2_, sizeof enc2_, &elen2_) != 0 ||                 \
            elen2_ != elen_ || memcmp(enc2_, enc_, elen_) != 0 ||                                  \
            memcmp(back_.sig, out_ + elen_, SES_SIG_BYTES) != 0)                                   \
            fail("%s: parses to other fields", name_);                                             \
        json_t *o_ = json_object();                                                                \
        set(o_, "name", json_string(name_));                                                       \
        set(o_, "about", json_string(about_));                                                     \
        set(o_, "kind", json_string(#kind));                                                       \
        set(o_, "fields", f_##kind(s));                                                            \
        set(o_, "signer", json_string(signer_name));                                               \
        set(o_, "signer_seed", hex((seed), 32));                                                   \
        set(o_, "signer_pk", hex((pk), 32));                                                       \
        set(o_, "len", json_integer((json_int_t)olen_));                                           \
        set(o_, "bytes", hex(out_, olen_));                                                        \
        if (strcmp(#kind, "roster") == 0) {                                                        \
            uint8_t h_[32];                                                                        \
            if (ses_roster_stmt_hash(out_, olen_, h_) != 0)                                        \
                fail("%s: no hash", name_);                                                        \
            set(o_, "roster_hash", hex(h_, 32));                                                   \
        }                                                                                          \
        add(S_VALID, o_);                                                                          \
    } while (0)

static const uint8_t THREAD[16] = {0x74, 0x68, 0x72, 0x65, 0x61, 0x64, 0x2d, 0x31,
                                   0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
static const uint8_t THREAD2[16] = {0x74, 0x68, 0x72, 0x65, 0x61, 0x64, 0x2d, 0x32,
                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
#define T0 1767225600123ULL /* 2026-01-01T00:00:00.123Z */
#define DAY 86400000ULL

static struct ses_stmt_identity identity_of(int p, uint32_t serial, uint64_t created)
{
    struct ses_stmt_identity s;
    memset(&s, 0, sizeof s);
    memcpy(s.user_id, P[p].id, 16);
    memcpy(s.ik_pk, P[p].pk, 32);
    s.serial = serial;
    s.created_ms = created;
    return s;
}

static struct ses_stmt_device device_of(const struct device *d, uint64_t created)
{
    struct ses_stmt_device s;
    memset(&s, 0, sizeof s);
    memcpy(s.user_id, P[d->user].id, 16);
    memcpy(s.device_id, d->id, 16);
    memcpy(s.sign_pk, d->sign_pk, 32);
    memcpy(s.box_pk, d->box_pk, 32);
    s.created_ms = created;
    return s;
}

static struct ses_stmt_vouch vouch_of(int voucher, int subject_key, uint32_t serial,
                                      uint64_t created)
{
    struct ses_stmt_vouch s;
    memset(&s, 0, sizeof s);
    memcpy(s.voucher_user_id, P[voucher].id, 16);
    memcpy(s.subject_user_id, P[subject_key].id, 16);
    memcpy(s.subject_ik_pk, P[subject_key].pk, 32);
    s.subject_serial = serial;
    s.created_ms = created;
    return s;
}

/* A roster of the principals in who[] (ascending), with their roles. */
static struct ses_stmt_roster roster_of(const uint8_t thread[16], uint32_t version,
                                        const uint8_t *prev, uint8_t vis, const int *who,
                                        const uint8_t *roles, size_t n, uint64_t created,
                                        int signer)
{
    struct ses_stmt_roster s;
    memset(&s, 0, sizeof s);
    memcpy(s.thread_id, thread, 16);
    s.version = version;
    if (prev != NULL)
        memcpy(s.prev_hash, prev, 32);
    s.visibility = vis;
    s.n_members = (uint8_t)n;
    for (size_t i = 0; i < n; i++) {
        memcpy(s.members[i].user_id, P[who[i]].id, 16);
        s.members[i].role = roles[i];
    }
    s.created_ms = created;
    memcpy(s.signer_user_id, P[signer].id, 16);
    return s;
}

static struct ses_stmt_mailbox mailbox_of(const struct device *d, uint32_t serial, uint64_t nb,
                                          uint64_t na)
{
    struct ses_stmt_mailbox s;
    memset(&s, 0, sizeof s);
    memcpy(s.device_id, d->id, 16);
    memcpy(s.box_pk, d->box_pk, 32);
    s.serial = serial;
    s.not_before_ms = nb;
    s.not_after_ms = na;
    return s;
}

/* The signed roster s by key principal k into r (library; the hand assembly is checked in
 * ADD_VALID for the valid ones, and here for the others). */
static void sign_roster(struct raw *r, const struct ses_stmt_roster *s, int k)
{
    raw_roster(r, s, s->n_members, NULL, P[k].sk);
    uint8_t out[SES_STMT_MAX_BYTES];
    size_t n = 0;
    if (ses_stmt_roster_sign(s, P[k].sk, out, sizeof out, &n) != 0 || n != r->n ||
        memcmp(out, r->b, n) != 0)
        fail("a roster of a chain: the library's bytes differ from the layout");
}

static void hash_of(const struct raw *r, uint8_t h[32])
{
    if (ses_roster_stmt_hash(r->b, r->n, h) != 0)
        fail("a roster of a chain does not hash");
}

/* The four versions of the valid chain: anne creates (anne, claire, david), adds bruno, bruno
 * removes david, bruno adds eve. */
static struct ses_stmt_roster CH[4];
static struct raw CHR[4];
static uint8_t CHH[4][32];

static const int W1[] = {ANNE, CLAIRE, DAVID}, W2[] = {ANNE, BRUNO, CLAIRE, DAVID},
                 W3[] = {ANNE, BRUNO, CLAIRE}, W4[] = {ANNE, BRUNO, CLAIRE, EVE};
static const uint8_t R1[] = {2, 3, 4}, R2[] = {2, 2, 3, 4}, R3[] = {2, 2, 3}, R4[] = {2, 2, 3, 4};

static void make_chain(void)
{
    CH[0] = roster_of(THREAD, 1, NULL, SES_ROSTER_SHARED, W1, R1, 3, T0, ANNE);
    sign_roster(&CHR[0], &CH[0], ANNE);
    hash_of(&CHR[0], CHH[0]);
    CH[1] = roster_of(THREAD, 2, CHH[0], SES_ROSTER_SHARED, W2, R2, 4, T0 + DAY, ANNE);
    sign_roster(&CHR[1], &CH[1], ANNE);
    hash_of(&CHR[1], CHH[1]);
    CH[2] = roster_of(THREAD, 3, CHH[1], SES_ROSTER_SHARED, W3, R3, 3, T0 + 2 * DAY, BRUNO);
    sign_roster(&CHR[2], &CH[2], BRUNO);
    hash_of(&CHR[2], CHH[2]);
    CH[3] = roster_of(THREAD, 4, CHH[2], SES_ROSTER_SHARED, W4, R4, 4, T0 + 3 * DAY, BRUNO);
    sign_roster(&CHR[3], &CH[3], BRUNO);
    hash_of(&CHR[3], CHH[3]);
}

static void gen_valid(void)
{
    struct raw *rr = malloc(sizeof *rr);
    if (rr == NULL)
        die("out of memory");
#define R (*rr)
    struct ses_stmt_identity id;
    id = identity_of(ANNE, 1, T0);
    ADD_VALID(identity, &id, P[ANNE].sk, P[ANNE].pk, P[ANNE].seed, "anne", "identity-anne-1",
              "anne's first identity key, made at her enrolment",
              raw_identity(&R, &id, P[ANNE].sk));
    id = identity_of(ANNE2, 2, T0 + 30 * DAY);
    ADD_VALID(identity, &id, P[ANNE2].sk, P[ANNE2].pk, P[ANNE2].seed, "anne2", "identity-anne-2",
              "anne's second identity key (serial 2) after she lost every device",
              raw_identity(&R, &id, P[ANNE2].sk));
    id = identity_of(BRUNO, 0xfedcba98u, 0x0102030405060708ULL);
    ADD_VALID(identity, &id, P[BRUNO].sk, P[BRUNO].pk, P[BRUNO].seed, "bruno",
              "identity-bruno-byte-order",
              "every byte of serial and created_ms distinct and non-zero: a byte-order bug "
              "cannot pass",
              raw_identity(&R, &id, P[BRUNO].sk));

    struct ses_stmt_device dv;
    dv = device_of(&DEV[0], T0 + 1000);
    ADD_VALID(device, &dv, P[ANNE].sk, P[ANNE].pk, P[ANNE].seed, "anne", "device-anne-laptop",
              "anne's identity key certifies her laptop's signing and box keys",
              raw_device(&R, &dv, P[ANNE].sk));
    dv = device_of(&DEV[1], 0x1112131415161718ULL);
    ADD_VALID(device, &dv, P[BRUNO].sk, P[BRUNO].pk, P[BRUNO].seed, "bruno", "device-bruno-phone",
              "bruno's phone; created_ms with distinct bytes", raw_device(&R, &dv, P[BRUNO].sk));

    struct ses_stmt_vouch vc;
    vc = vouch_of(BRUNO, ANNE2, 2, T0 + 30 * DAY + 5000);
    ADD_VALID(vouch, &vc, P[BRUNO].sk, P[BRUNO].pk, P[BRUNO].seed, "bruno",
              "vouch-bruno-for-anne-2",
              "bruno, who compared safety numbers with anne in person, vouches for her new key",
              raw_vouch(&R, &vc, P[BRUNO].sk));
    vc = vouch_of(CLAIRE, ANNE2, 0x21222324u, 0x3132333435363738ULL);
    ADD_VALID(vouch, &vc, P[CLAIRE].sk, P[CLAIRE].pk, P[CLAIRE].seed, "claire",
              "vouch-claire-byte-order", "distinct bytes in subject_serial and created_ms",
              raw_vouch(&R, &vc, P[CLAIRE].sk));

    static const char *const about[4] = {
        "version 1: anne creates the thread with claire and david (shared history)",
        "version 2: anne adds bruno", "version 3: bruno, a nurse of version 2, removes david",
        "version 4: bruno adds eve"};
    static const char *const names[4] = {"roster-v1", "roster-v2", "roster-v3", "roster-v4"};
    static const int signers[4] = {ANNE, ANNE, BRUNO, BRUNO};
    for (int v = 0; v < 4; v++) {
        int k = signers[v];
        ADD_VALID(roster, &CH[v], P[k].sk, P[k].pk, P[k].seed, pnames[k], names[v], about[v],
                  raw_roster(&R, &CH[v], CH[v].n_members, NULL, P[k].sk));
    }
    static const int W_ONE[] = {ANNE};
    static const uint8_t R_ONE[] = {SES_ROLE_NURSE};
    struct ses_stmt_roster ro =
        roster_of(THREAD2, 1, NULL, SES_ROSTER_JOINED, W_ONE, R_ONE, 1, T0 + 7, ANNE);
    ADD_VALID(roster, &ro, P[ANNE].sk, P[ANNE].pk, P[ANNE].seed, "anne", "roster-n1-joined",
              "the smallest roster: one member, joined visibility",
              raw_roster(&R, &ro, 1, NULL, P[ANNE].sk));
    /* 16 members: ids 0x01 + 0x0f i ..., roles 2, 3, 4 in turn; a high version and prev_hash */
    memset(&ro, 0, sizeof ro);
    memcpy(ro.thread_id, THREAD, 16);
    ro.version = 0x01020304u;
    for (int i = 0; i < 32; i++)
        ro.prev_hash[i] = (uint8_t)(0xa0 + i);
    ro.visibility = SES_ROSTER_SHARED;
    ro.n_members = 16;
    for (int m = 0; m < 16; m++) {
        for (int i = 0; i < 16; i++)
            ro.members[m].user_id[i] = (uint8_t)(0x01 + 0x0f * m + i);
        ro.members[m].role = (uint8_t)(2 + m % 3);
    }
    memcpy(ro.members[1].user_id, P[ANNE].id, 16); /* 0x10.. sorts second */
    ro.members[1].role = SES_ROLE_NURSE;
    ro.created_ms = 0x0a0b0c0d0e0f1011ULL;
    memcpy(ro.signer_user_id, P[ANNE].id, 16);
    ADD_VALID(roster, &ro, P[ANNE].sk, P[ANNE].pk, P[ANNE].seed, "anne", "roster-n16",
              "the largest roster: 16 members, every role; version, prev_hash and created_ms "
              "with distinct bytes",
              raw_roster(&R, &ro, 16, NULL, P[ANNE].sk));

    struct ses_stmt_mailbox mb;
    mb = mailbox_of(&DEV[0], 1, T0, T0 + 7 * DAY);
    ADD_VALID(mailbox, &mb, DEV[0].sign_sk, DEV[0].sign_pk, DEV[0].sign_seed, "anne-laptop",
              "mailbox-anne-laptop-1", "the laptop's first mailbox key, valid 7 days",
              raw_mailbox(&R, &mb, DEV[0].sign_sk));
    mb = mailbox_of(&DEV[1], 0x41424344u, 0x5152535455565758ULL, 0x6162636465666768ULL);
    ADD_VALID(mailbox, &mb, DEV[1].sign_sk, DEV[1].sign_pk, DEV[1].sign_seed, "bruno-phone",
              "mailbox-bruno-phone-byte-order", "distinct bytes in serial and both times",
              raw_mailbox(&R, &mb, DEV[1].sign_sk));
#undef R
    free(rr);
}

/* --- refused statements ------------------------------------------------------------------------
 */

typedef int (*parse_any_fn)(const uint8_t *, size_t);
typedef int (*verify_any_fn)(const uint8_t *, size_t, const uint8_t *);

static int p_identity(const uint8_t *b, size_t n)
{
    struct ses_stmt_identity s;
    return ses_stmt_identity_parse(b, n, &s);
}
static int p_device(const uint8_t *b, size_t n)
{
    struct ses_stmt_device s;
    return ses_stmt_device_parse(b, n, &s);
}
static int p_vouch(const uint8_t *b, size_t n)
{
    struct ses_stmt_vouch s;
    return ses_stmt_vouch_parse(b, n, &s);
}
static int p_roster(const uint8_t *b, size_t n)
{
    struct ses_stmt_roster s;
    return ses_stmt_roster_parse(b, n, &s);
}
static int p_mailbox(const uint8_t *b, size_t n)
{
    struct ses_stmt_mailbox s;
    return ses_stmt_mailbox_parse(b, n, &s);
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

static const struct {
    const char *kind;
    parse_any_fn parse;
    verify_any_fn verify;
} KINDS[] = {{"identity", p_identity, v_identity},
             {"device", p_device, v_device},
             {"vouch", p_vouch, v_vouch},
             {"roster", p_roster, v_roster},
             {"mailbox", p_mailbox, v_mailbox}};

/* A refused statement: its parse and verify (with pk) codes must be parse_want and verify_want. */
static void refuse(int kind, const char *name, const char *about, const uint8_t *b, size_t n,
                   const uint8_t pk[32], int parse_want, int verify_want)
{
    int pc = KINDS[kind].parse(b, n), vc = KINDS[kind].verify(b, n, pk);
    if (pc != parse_want || vc != verify_want)
        fail("refused %s: parse %s verify %s, expected %s and %s", name, ses_err_name(pc),
             ses_err_name(vc), ses_err_name(parse_want), ses_err_name(verify_want));
    json_t *o = json_object();
    set(o, "name", json_string(name));
    set(o, "about", json_string(about));
    set(o, "kind", json_string(KINDS[kind].kind));
    set(o, "pk", hex(pk, 32));
    set(o, "len", json_integer((json_int_t)n));
    set(o, "bytes", hex(b, n));
    set(o, "parse", code(pc));
    set(o, "verify", code(vc));
    add(S_REFUSED, o);
}

enum { K_IDENTITY, K_DEVICE, K_VOUCH, K_ROSTER, K_MAILBOX };

/* Length and context refusals of a valid statement r signed by sk (pk to verify). */
static void refuse_framing(int kind, const char *prefix, const struct raw *r, const uint8_t *sk,
                           const uint8_t *pk)
{
    char name[80];
    struct raw t = *r;
    snprintf(name, sizeof name, "%s-short", prefix);
    refuse(kind, name, "one byte short (the last byte of the signature dropped)", t.b, t.n - 1, pk,
           SES_EBAD_FIELD, SES_EBAD_FIELD);
    t.b[t.n] = 0;
    snprintf(name, sizeof name, "%s-long", prefix);
    refuse(kind, name, "one byte long (a zero byte after the signature)", t.b, t.n + 1, pk,
           SES_EBAD_FIELD, SES_EBAD_FIELD);
    /* a flipped context byte, signed again: only the context string is wrong */
    t = *r;
    t.n -= 64;
    t.b[10] ^= 0x01;
    rsign(&t, sk);
    snprintf(name, sizeof name, "%s-context", prefix);
    refuse(kind, name, "byte 10 of the context string flipped, signed again", t.b, t.n, pk,
           SES_EBAD_FIELD, SES_EBAD_FIELD);
    t = *r;
    t.b[t.n - 64 - 1] ^= 0x80; /* the last signed byte: the signature no longer covers it */
    snprintf(name, sizeof name, "%s-tampered", prefix);
    refuse(kind, name, "the last signed byte changed after signing", t.b, t.n, pk, 0,
           SES_EBAD_SIGNATURE);
}

static void gen_refused(void)
{
    struct raw r;
    /* identity */
    struct ses_stmt_identity id = identity_of(ANNE, 1, T0);
    raw_identity(&r, &id, P[ANNE].sk);
    refuse_framing(K_IDENTITY, "identity", &r, P[ANNE].sk, P[ANNE].pk);
    refuse(K_IDENTITY, "identity-other-pk",
           "a good identity statement verified with another key than its own ik_pk", r.b, r.n,
           P[BRUNO].pk, 0, SES_EBAD_SIGNATURE);
    struct raw t;
    raw_identity(&t, &id, P[BRUNO].sk);
    refuse(K_IDENTITY, "identity-signed-by-another-key",
           "anne's ik_pk, but the signature is by bruno's key", t.b, t.n, P[ANNE].pk, 0,
           SES_EBAD_SIGNATURE);
    id.serial = 0;
    raw_identity(&t, &id, P[ANNE].sk);
    refuse(K_IDENTITY, "identity-serial-0", "serial 0 (serials start at 1)", t.b, t.n, P[ANNE].pk,
           SES_EBAD_FIELD, SES_EBAD_FIELD);

    /* device */
    struct ses_stmt_device dv = device_of(&DEV[0], T0 + 1000);
    raw_device(&r, &dv, P[ANNE].sk);
    refuse_framing(K_DEVICE, "device", &r, P[ANNE].sk, P[ANNE].pk);
    raw_device(&t, &dv, DEV[0].sign_sk);
    refuse(K_DEVICE, "device-self-signed",
           "a device statement signed by the device's own key, not by its user's identity key", t.b,
           t.n, P[ANNE].pk, 0, SES_EBAD_SIGNATURE);
    raw_device(&t, &dv, P[SERVER].sk);
    refuse(K_DEVICE, "device-minted-by-the-server",
           "a device for anne's account signed by the server's key (admin invite --user)", t.b, t.n,
           P[ANNE].pk, 0, SES_EBAD_SIGNATURE);
    refuse(K_IDENTITY, "identity-given-a-device", "a device statement read as an identity", r.b,
           r.n, P[ANNE].pk, SES_EBAD_FIELD, SES_EBAD_FIELD);

    /* vouch */
    struct ses_stmt_vouch vc = vouch_of(BRUNO, ANNE2, 2, T0 + 30 * DAY + 5000);
    raw_vouch(&r, &vc, P[BRUNO].sk);
    refuse_framing(K_VOUCH, "vouch", &r, P[BRUNO].sk, P[BRUNO].pk);
    raw_vouch(&t, &vc, P[ANNE2].sk);
    refuse(K_VOUCH, "vouch-by-the-subject", "a vouch signed by the new key it vouches for", t.b,
           t.n, P[BRUNO].pk, 0, SES_EBAD_SIGNATURE);
    vc.subject_serial = 0;
    raw_vouch(&t, &vc, P[BRUNO].sk);
    refuse(K_VOUCH, "vouch-serial-0", "subject_serial 0", t.b, t.n, P[BRUNO].pk, SES_EBAD_FIELD,
           SES_EBAD_FIELD);

    /* roster: version 2 of the chain, changed one field at a time and signed again by anne */
    struct ses_stmt_roster base = CH[1], ro;
    refuse_framing(K_ROSTER, "roster", &CHR[1], P[ANNE].sk, P[ANNE].pk);
    raw_roster(&t, &base, 4, NULL, P[BRUNO].sk);
    refuse(K_ROSTER, "roster-signed-by-another-key",
           "version 2 signed by bruno's key, verified with anne's (its signer)", t.b, t.n,
           P[ANNE].pk, 0, SES_EBAD_SIGNATURE);
    ro = base;
    ro.n_members = 0;
    raw_roster(&t, &ro, 0, NULL, P[ANNE].sk);
    refuse(K_ROSTER, "roster-n-0", "n = 0 and no member (159 bytes)", t.b, t.n, P[ANNE].pk,
           SES_EBAD_FIELD, SES_EBAD_FIELD);
    ro = CH[1];
    ro.n_members = 3;
    raw_roster(&t, &ro, 4, NULL, P[ANNE].sk);
    refuse(K_ROSTER, "roster-n-short-of-the-members",
           "n = 3 in a statement with 4 members (the length of n = 4)", t.b, t.n, P[ANNE].pk,
           SES_EBAD_FIELD, SES_EBAD_FIELD);
    {
        /* 17 members: the 16 of a full roster and one more above them */
        struct ses_stmt_roster full;
        memset(&full, 0, sizeof full);
        memcpy(full.thread_id, THREAD, 16);
        full.version = 1;
        full.visibility = SES_ROSTER_SHARED;
        full.n_members = 17;
        for (int m = 0; m < 16; m++) {
            memset(full.members[m].user_id, 0, 16);
            full.members[m].user_id[0] = (uint8_t)(0x08 * (m + 1));
            full.members[m].role = SES_ROLE_NURSE;
        }
        struct ses_stmt_member extra = {{0xf0}, SES_ROLE_GP};
        memcpy(full.signer_user_id, full.members[0].user_id, 16);
        full.created_ms = T0;
        raw_roster(&t, &full, 17, &extra, P[ANNE].sk);
        refuse(K_ROSTER, "roster-n-17", "17 members (the limit is 16), ids ascending", t.b, t.n,
               P[ANNE].pk, SES_EBAD_FIELD, SES_EBAD_FIELD);
    }
    ro = base;
    memcpy(ro.members[1].user_id, P[CLAIRE].id, 16);
    memcpy(ro.members[2].user_id, P[BRUNO].id, 16);
    raw_roster(&t, &ro, 4, NULL, P[ANNE].sk);
    refuse(K_ROSTER, "roster-unsorted", "members 2 and 3 swapped: user ids not ascending", t.b, t.n,
           P[ANNE].pk, SES_EBAD_FIELD, SES_EBAD_FIELD);
    ro = base;
    memcpy(ro.members[2].user_id, P[BRUNO].id, 16);
    raw_roster(&t, &ro, 4, NULL, P[ANNE].sk);
    refuse(K_ROSTER, "roster-repeated", "bruno twice: user ids not strictly ascending", t.b, t.n,
           P[ANNE].pk, SES_EBAD_FIELD, SES_EBAD_FIELD);
    static const struct {
        const char *name, *about;
        int field, value;
    } bad[] = {
        {"roster-visibility-0", "visibility 0", 0, 0},
        {"roster-visibility-3", "visibility 3", 0, 3},
        {"roster-role-1", "a member with role 1 (admin: not a member role)", 1, 1},
        {"roster-role-5", "a member with role 5 (auditor: not a member role)", 1, 5},
        {"roster-role-0", "a member with role 0", 1, 0},
        {"roster-version-0", "version 0 (versions start at 1)", 2, 0},
        {"roster-version-1-with-prev-hash",
         "version 1 with a non-zero prev_hash (version 2's, hash of version 1)", 2, 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ro = base;
        if (bad[i].field == 0)
            ro.visibility = (uint8_t)bad[i].value;
        else if (bad[i].field == 1)
            ro.members[3].role = (uint8_t)bad[i].value;
        else
            ro.version = (uint32_t)bad[i].value;
        raw_roster(&t, &ro, 4, NULL, P[ANNE].sk);
        refuse(K_ROSTER, bad[i].name, bad[i].about, t.b, t.n, P[ANNE].pk, SES_EBAD_FIELD,
               SES_EBAD_FIELD);
    }
    ro = base;
    memset(ro.prev_hash, 0, 32);
    raw_roster(&t, &ro, 4, NULL, P[ANNE].sk);
    refuse(K_ROSTER, "roster-version-2-zero-prev-hash", "version 2 with a zero prev_hash", t.b, t.n,
           P[ANNE].pk, SES_EBAD_FIELD, SES_EBAD_FIELD);

    /* mailbox */
    struct ses_stmt_mailbox mb = mailbox_of(&DEV[0], 1, T0, T0 + 7 * DAY), m2;
    raw_mailbox(&r, &mb, DEV[0].sign_sk);
    refuse_framing(K_MAILBOX, "mailbox", &r, DEV[0].sign_sk, DEV[0].sign_pk);
    raw_mailbox(&t, &mb, P[ANNE].sk);
    refuse(K_MAILBOX, "mailbox-signed-by-the-identity-key",
           "a mailbox key signed by the user's identity key, not by the device's signing key", t.b,
           t.n, DEV[0].sign_pk, 0, SES_EBAD_SIGNATURE);
    m2 = mb;
    m2.serial = 0;
    raw_mailbox(&t, &m2, DEV[0].sign_sk);
    refuse(K_MAILBOX, "mailbox-serial-0", "serial 0", t.b, t.n, DEV[0].sign_pk, SES_EBAD_FIELD,
           SES_EBAD_FIELD);
    m2 = mb;
    m2.not_after_ms = m2.not_before_ms;
    raw_mailbox(&t, &m2, DEV[0].sign_sk);
    refuse(K_MAILBOX, "mailbox-empty-validity", "not_before_ms = not_after_ms", t.b, t.n,
           DEV[0].sign_pk, SES_EBAD_FIELD, SES_EBAD_FIELD);
    m2 = mb;
    m2.not_after_ms = m2.not_before_ms - 1;
    raw_mailbox(&t, &m2, DEV[0].sign_sk);
    refuse(K_MAILBOX, "mailbox-reversed-validity", "not_before_ms > not_after_ms", t.b, t.n,
           DEV[0].sign_pk, SES_EBAD_FIELD, SES_EBAD_FIELD);
}

/* --- chains ------------------------------------------------------------------------------------
 */

/* A chain of statements r[0..n), the verifier trusting the identity keys of trusted[0..nt) (each
 * a principal; anne2 stands for anne with her second key), expecting (want, want_at). */
static void chain(const char *name, const char *about, const struct raw *const r[], size_t n,
                  const int *trusted, size_t nt, int want, size_t want_at)
{
    struct ses_trusted_ik rows[N_PRINCIPALS];
    for (size_t i = 0; i < nt; i++) {
        memcpy(rows[i].user_id, P[trusted[i]].id, 16);
        memcpy(rows[i].ik_pk, P[trusted[i]].pk, 32);
    }
    struct ses_trusted_ik_list list = {rows, nt};
    const uint8_t *stmts[8];
    size_t lens[8], at = 99;
    for (size_t i = 0; i < n; i++) {
        stmts[i] = r[i]->b;
        lens[i] = r[i]->n;
    }
    struct ses_stmt_roster head;
    int rc = ses_roster_chain_check(stmts, lens, n, ses_trusted_ik_table, &list, &at, &head);
    if (rc != want || (rc != 0 && at != want_at))
        fail("chain %s: %s at %zu, expected %s at %zu", name, ses_err_name(rc), at,
             ses_err_name(want), want_at);
    json_t *o = json_object(), *a = json_array(), *tr = json_array();
    set(o, "name", json_string(name));
    set(o, "about", json_string(about));
    set(o, "trusted", tr);
    for (size_t i = 0; i < nt; i++) {
        json_t *x = json_object();
        set(x, "user_id", hex(rows[i].user_id, 16));
        set(x, "ik_pk", hex(rows[i].ik_pk, 32));
        if (json_array_append_new(tr, x) != 0)
            die("out of memory");
    }
    set(o, "statements", a);
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(a, hex(r[i]->b, r[i]->n)) != 0)
            die("out of memory");
    set(o, "code", code(rc));
    if (rc != 0)
        set(o, "index", json_integer((json_int_t)at));
    else
        set(o, "head_version", json_integer(head.version));
    add(S_CHAINS, o);
}

static void gen_chains(void)
{
    static const int ALL[] = {ANNE, BRUNO, CLAIRE, DAVID, EVE, MALLORY};
    static const int NO_BRUNO[] = {ANNE, CLAIRE, DAVID, EVE, MALLORY};
    const size_t NALL = sizeof ALL / sizeof ALL[0];
    const struct raw *c[4] = {&CHR[0], &CHR[1], &CHR[2], &CHR[3]};
    chain("valid-4-versions", "anne creates, adds bruno; bruno removes david, adds eve", c, 4, ALL,
          NALL, 0, 0);
    chain("valid-first-version-only", "version 1 alone", c, 1, ALL, NALL, 0, 0);
    static struct raw x, y;
    struct ses_stmt_roster ro;

    ro = CH[2];
    memcpy(ro.prev_hash, CHH[0], 32);
    sign_roster(&x, &ro, BRUNO);
    const struct raw *b1[3] = {&CHR[0], &CHR[1], &x};
    chain("broken-prev-hash", "version 3's prev_hash is the hash of version 1, not of version 2",
          b1, 3, ALL, NALL, SES_EROSTER_BROKEN, 2);

    ro = CH[2];
    ro.visibility = SES_ROSTER_JOINED;
    sign_roster(&x, &ro, BRUNO);
    chain("changed-visibility", "version 3 turns a shared history into joined", b1, 3, ALL, NALL,
          SES_EROSTER_BROKEN, 2);

    ro = CH[1];
    memcpy(ro.thread_id, THREAD2, 16);
    sign_roster(&x, &ro, ANNE);
    const struct raw *b2[2] = {&CHR[0], &x};
    chain("other-thread", "version 2 names another thread", b2, 2, ALL, NALL, SES_EROSTER_BROKEN,
          1);

    ro = CH[2];
    ro.version = 4;
    sign_roster(&x, &ro, BRUNO);
    chain("skipped-version", "version 2 followed by a version 4 whose prev_hash is version 2's", b1,
          3, ALL, NALL, SES_EROSTER_BROKEN, 2);

    const struct raw *b3[1] = {&CHR[1]};
    chain("starts-at-version-2", "a chain that does not start at the thread's creation", b3, 1, ALL,
          NALL, SES_EROSTER_BROKEN, 0);

    ro = CH[0];
    memcpy(ro.signer_user_id, P[BRUNO].id, 16);
    sign_roster(&x, &ro, BRUNO);
    const struct raw *b4[1] = {&x};
    chain("first-signer-not-member", "version 1 signed by bruno, who is not among its members", b4,
          1, ALL, NALL, SES_EROSTER_BROKEN, 0);

    ro = CH[2];
    memcpy(ro.signer_user_id, P[CLAIRE].id, 16);
    sign_roster(&x, &ro, CLAIRE);
    chain("signer-psychiatrist", "version 3 signed by claire, a psychiatrist of version 2", b1, 3,
          ALL, NALL, SES_EROSTER_BROKEN, 2);

    ro = CH[1];
    memcpy(ro.signer_user_id, P[BRUNO].id, 16);
    sign_roster(&x, &ro, BRUNO);
    chain("signer-added-by-itself",
          "version 2 adds bruno as a nurse and is signed by bruno, not a member of version 1", b2,
          2, ALL, NALL, SES_EROSTER_BROKEN, 1);

    ro = CH[1];
    memcpy(ro.signer_user_id, P[DAVID].id, 16);
    sign_roster(&x, &ro, DAVID);
    chain("signer-gp", "version 2 signed by david, a GP of version 1", b2, 2, ALL, NALL,
          SES_EROSTER_BROKEN, 1);

    sign_roster(&x, &CH[1], ANNE2);
    chain("untrusted-key",
          "version 2 signed with anne's second key while the verifier trusts her first", b2, 2, ALL,
          NALL, SES_EBAD_SIGNATURE, 1);

    chain("signer-without-trusted-key", "the verifier trusts no identity key for bruno", c, 4,
          NO_BRUNO, sizeof NO_BRUNO / sizeof NO_BRUNO[0], SES_EBAD_SIGNATURE, 2);

    /* the server adds mallory to version 3 */
    static const int WM[] = {ANNE, BRUNO, CLAIRE, DAVID, MALLORY};
    static const uint8_t RM[] = {2, 2, 3, 4, 2};
    ro = roster_of(THREAD, 3, CHH[1], SES_ROSTER_SHARED, WM, RM, 5, T0 + 2 * DAY, ANNE);
    sign_roster(&x, &ro, SERVER);
    chain("server-injected-member",
          "the server writes a version 3 adding mallory in anne's name, signed by its own key", b1,
          3, ALL, NALL, SES_EBAD_SIGNATURE, 2);
    memcpy(ro.signer_user_id, P[MALLORY].id, 16);
    sign_roster(&x, &ro, MALLORY);
    chain("server-injected-member-signed-by-mallory",
          "the same version 3 signed by mallory herself, who is no member of version 2", b1, 3, ALL,
          NALL, SES_EROSTER_BROKEN, 2);

    y = CHR[1];
    y.n -= 1;
    const struct raw *b5[2] = {&CHR[0], &y};
    chain("malformed-statement", "version 2 one byte short", b5, 2, ALL, NALL, SES_EBAD_FIELD, 1);

    y = CHR[3];
    y.b[y.n - 1] ^= 0x01;
    const struct raw *b6[4] = {&CHR[0], &CHR[1], &CHR[2], &y};
    chain("tampered-signature", "version 4's last signature byte flipped", b6, 4, ALL, NALL,
          SES_EBAD_SIGNATURE, 3);
}

/* --- mailbox validity --------------------------------------------------------------------------
 */

static void gen_valid_at(void)
{
    struct ses_stmt_mailbox mb = mailbox_of(&DEV[0], 1, T0, T0 + 7 * DAY);
    const uint64_t at[] = {
        0, T0 - 1, T0, T0 + 1, T0 + 7 * DAY - 1, T0 + 7 * DAY, T0 + 7 * DAY + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        json_t *o = json_object();
        set(o, "statement", json_string("mailbox-anne-laptop-1"));
        set(o, "now_ms", dec(at[i]));
        set(o, "valid", json_boolean(ses_mailbox_valid_at(&mb, at[i])));
        add(S_VALID_AT, o);
    }
}

/* --- output ------------------------------------------------------------------------------------
 */

static char *dump(const json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (s == NULL)
        die("json_dumps");
    return s;
}

static char *render(size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (f == NULL)
        die("open_memstream");
    json_t *head = json_object();
    set(head, "format", json_string("sesame statement vectors v1"));
    set(head, "about",
        json_string("Known answers of the stage-2 signed statements, PROTOCOL.md section 17, "
                    "written by tests/unit/gen_statement_vectors.c with the C library; see "
                    "README.md. Bytes are lower-case hex; 64-bit integers are decimal strings."));
    json_t *sizes = json_object();
    set(sizes, "identity", json_integer(SES_STMT_IDENTITY_BYTES));
    set(sizes, "device", json_integer(SES_STMT_DEVICE_BYTES));
    set(sizes, "vouch", json_integer(SES_STMT_VOUCH_BYTES));
    set(sizes, "roster_fixed", json_integer(SES_STMT_ROSTER_FIXED));
    set(sizes, "roster_member", json_integer(SES_STMT_ROSTER_MEMBER_BYTES));
    set(sizes, "mailbox", json_integer(SES_STMT_MAILBOX_BYTES));
    set(head, "sizes", sizes);
    fputs("{\n", f);
    const char *key;
    json_t *val;
    json_object_foreach(head, key, val)
    {
        char *s = dump(val);
        fprintf(f, "\"%s\": %s,\n", key, s);
        free(s);
    }
    for (int s = 0; s < S_COUNT; s++) {
        fprintf(f, "\"%s\": [\n", sect_names[s]);
        for (size_t i = 0; i < json_array_size(sects[s]); i++) {
            char *v = dump(json_array_get(sects[s], i));
            fprintf(f, "  %s%s\n", v, i + 1 < json_array_size(sects[s]) ? "," : "");
            free(v);
        }
        fprintf(f, "]%s\n", s + 1 < S_COUNT ? "," : "");
    }
    fputs("}\n", f);
    json_decref(head);
    if (fclose(f) != 0)
        die("render");
    return buf;
}

int main(int argc, char **argv)
{
    bool check = argc == 3 && strcmp(argv[1], "--check") == 0;
    if (!(argc == 2 || check)) {
        fprintf(stderr, "usage: gen_statement_vectors [--check] FILE\n");
        return 2;
    }
    if (sodium_init() < 0)
        die("sodium_init");
    const char *path = argv[argc - 1];
    for (int s = 0; s < S_COUNT; s++)
        sects[s] = json_array();
    make_principals();
    make_chain();
    gen_valid();
    gen_refused();
    gen_chains();
    gen_valid_at();
    size_t len = 0;
    char *text = render(&len);
    if (failures != 0) {
        fprintf(stderr, "gen_statement_vectors: %d vectors do not behave as their section says\n",
                failures);
        free(text);
        return 1;
    }
    int rc = 0;
    if (check) {
        FILE *f = fopen(path, "rb");
        char *old = malloc(len + 2);
        size_t n = f != NULL && old != NULL ? fread(old, 1, len + 1, f) : 0;
        if (f == NULL || n != len || memcmp(old, text, len) != 0) {
            fprintf(stderr,
                    "gen_statement_vectors: %s is not what the C library gives now: regenerate "
                    "it (gen_statement_vectors %s) and review the diff\n",
                    path, path);
            rc = 1;
        }
        if (f != NULL)
            fclose(f);
        free(old);
    } else {
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, "gen_statement_vectors: cannot write %s\n", path);
            rc = 1;
        }
    }
    for (int s = 0; s < S_COUNT; s++)
        json_decref(sects[s]);
    for (int p = 0; p < N_PRINCIPALS; p++)
        sodium_memzero(P[p].sk, sizeof P[p].sk);
    for (int d = 0; d < 2; d++) {
        sodium_memzero(DEV[d].sign_sk, sizeof DEV[d].sign_sk);
        sodium_memzero(DEV[d].box_sk, sizeof DEV[d].box_sk);
    }
    free(text);
    return rc;
}
