/*
 * fuzz_statement.c - libFuzzer target for the stage-2 signed statements (statement.h), which a
 * client reads from the server and from other members: the five strict parsers and verifiers,
 * ses_roster_stmt_hash and ses_roster_chain_check. The whole input goes to every parser, to every
 * verifier (each with a fixed key that signs statements of that kind in
 * protocol/vectors/statements.json: anne's identity key for identity, device and roster, bruno's
 * for vouch, anne-laptop's signing key for mailbox; an identity statement also with its own ik_pk)
 * and to the hash; then the input, cut into rosters by their count byte (159 + 17 n bytes each,
 * the last piece taking what remains, at most CHAIN_MAX pieces, each copied into a buffer of its
 * exact size), goes to the chain check with the trusted keys of the vectors' chains. The seeds
 * (seeds.py) are the vectors' statements and their chains concatenated. Invariants, any
 * difference aborts:
 *  - a parse gives 0 or SES_EBAD_FIELD; a statement that parses re-encodes (_encode) to exactly
 *    the input's bytes before the signature, and its sig is the input's last 64 bytes; a refused
 *    one leaves *out as it was; AddressSanitizer catches a read outside the input;
 *  - _verify gives SES_EBAD_FIELD exactly when _parse refuses, otherwise 0 exactly when the
 *    signature verifies with the key (crypto_sign_verify_detached here), and for an identity
 *    statement the key is its ik_pk, else SES_EBAD_SIGNATURE;
 *  - a parsed roster's prev_hash is zero exactly at version 1;
 *  - a parsed mailbox key is valid at both ends of its window and not just outside it;
 *  - ses_roster_stmt_hash succeeds exactly when the roster parses, with BLAKE2b-256 of the input,
 *    and leaves its output alone when it refuses;
 *  - the chain check gives 0, SES_EBAD_FIELD, SES_EBAD_SIGNATURE or SES_EROSTER_BROKEN, with the
 *    code, index at fault and head of a model written here from the rules of statement.h; head is
 *    left alone on a refusal.
 * Build: cmake -DSESAME_FUZZ=ON -DCMAKE_C_COMPILER=clang; run: build/tests/fuzz/fuzz_statement
 * -max_total_time=60 (or tests/fuzz/run.sh, which seeds it from protocol/vectors/statements.json).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/err.h"
#include "sesame/roles.h"
#include "sesame/statement.h"

#define FUZZ_NAME "fuzz_statement"
#include "fuzz_util.h"

#define CHAIN_MAX 8  /* statements of one chain */
#define PATTERN 0xa5 /* what an output holds before a call that must leave it alone */

/* Offset of a roster's count byte n (statement.h's layout). */
#define ROSTER_OFF_N (sizeof SES_CTX_STMT_ROSTER + SES_ID_BYTES + 4 + SES_STMT_HASH_BYTES + 1)

/* statements.json: the users of its chains' trusted table (anne, bruno, claire, david, eve,
 * mallory) as user id, identity public key; and anne-laptop's signing key (its mailbox key's
 * signer). */
static const char *const trusted_hex[][2] = {
    {"101112131415161718191a1b1c1d1e1f",
     "2543b92ff1095511476adc8369db6ddc933665a11978dda1404ee1066ca9559d"},
    {"202122232425262728292a2b2c2d2e2f",
     "ba9a981831a6dd0b5ba5ab46393efc2c9e92ab3079bb5efef9c9939cb7cafd6c"},
    {"303132333435363738393a3b3c3d3e3f",
     "e7bed753df1ad5afa001fa23905df6f5dfc78203e888b396912743a36601f8ed"},
    {"404142434445464748494a4b4c4d4e4f",
     "cbadf4de7f7b00a9045fbce9e62793a01e0e8fef381751779e8db5a64947f9fc"},
    {"505152535455565758595a5b5c5d5e5f",
     "9d01b1540d7322266e1612823be6a3fabe6d6997f54bf9749988a7c734042945"},
    {"606162636465666768696a6b6c6d6e6f",
     "93addec6a3fed188a5ccc06d9944b48db733b11fe09604802c7d35dd174bf055"},
};
#define N_TRUSTED (sizeof trusted_hex / sizeof trusted_hex[0])
#define ANNE 0
#define BRUNO 1
#define ANNE_LAPTOP_SIGN_PK "682392edecb43d655179f7ba73948c6506f73fdc99143e0405de11fdebc13f14"

static struct ses_trusted_ik trusted[N_TRUSTED];
static struct ses_trusted_ik_list trusted_list = {trusted, N_TRUSTED};
static uint8_t device_pk[SES_SIGN_PK_BYTES];

static void hex(uint8_t *out, size_t n, const char *text)
{
    if (sodium_hex2bin(out, n, text, strlen(text), NULL, NULL, NULL) != 0)
        abort();
}

static int setup(void)
{
    if (sodium_init() < 0)
        return -1;
    for (size_t i = 0; i < N_TRUSTED; i++) {
        hex(trusted[i].user_id, SES_ID_BYTES, trusted_hex[i][0]);
        hex(trusted[i].ik_pk, SES_SIGN_PK_BYTES, trusted_hex[i][1]);
    }
    hex(device_pk, sizeof device_pk, ANNE_LAPTOP_SIGN_PK);
    return 0;
}

/* Whether the signature of a parsed statement in[0..len) verifies with pk. */
static int sig_ok(const uint8_t *in, size_t len, const uint8_t *pk)
{
    return crypto_sign_verify_detached(in + len - SES_SIG_BYTES, in, len - SES_SIG_BYTES, pk) == 0;
}

/* The checks common to the five kinds: parse, re-encode, verify with pk. KIND is the kind's
 * name, T its struct; sets *parsed (0 or 1) and leaves the statement in st. own_key: an identity
 * statement, which verifies only with its own ik_pk. */
#define CHECK_KIND(KIND, T, st, pk, own_key, parsed)                                               \
    do {                                                                                           \
        T before_;                                                                                 \
        memset(&(st), PATTERN, sizeof(st));                                                        \
        memset(&before_, PATTERN, sizeof before_);                                                 \
        int rc_ = ses_stmt_##KIND##_parse(data, size, &(st));                                      \
        if (rc_ != 0 && rc_ != SES_EBAD_FIELD)                                                     \
            differ(#KIND ": parse gives an undocumented code", data, size);                        \
        *(parsed) = rc_ == 0;                                                                      \
        if (rc_ != 0 && memcmp(&(st), &before_, sizeof(st)) != 0)                                  \
            differ(#KIND ": refused but *out written", data, size);                                \
        if (rc_ == 0) {                                                                            \
            uint8_t enc_[SES_STMT_MAX_BYTES];                                                      \
            size_t n_ = 0;                                                                         \
            if (ses_stmt_##KIND##_encode(&(st), enc_, sizeof enc_, &n_) != 0 ||                    \
                n_ + SES_SIG_BYTES != size || memcmp(enc_, data, n_) != 0 ||                       \
                memcmp((st).sig, data + n_, SES_SIG_BYTES) != 0)                                   \
                differ(#KIND ": parsed but does not re-encode to the input", data, size);          \
        }                                                                                          \
        int vrc_ = ses_stmt_##KIND##_verify(data, size, (pk));                                     \
        int want_ = rc_ != 0 ? SES_EBAD_FIELD                                                      \
                    : (own_key) && memcmp((pk), (own_key), SES_SIGN_PK_BYTES) != 0                 \
                        ? SES_EBAD_SIGNATURE                                                       \
                    : sig_ok(data, size, (pk)) ? 0                                                 \
                                               : SES_EBAD_SIGNATURE;                               \
        if (vrc_ != want_)                                                                         \
            differ(#KIND ": verify disagrees with parse and the signature", data, size);           \
    } while (0)

static void check_single(const uint8_t *data, size_t size)
{
    int parsed = 0;
    const uint8_t *none = NULL;

    struct ses_stmt_identity id;
    uint8_t own[SES_SIGN_PK_BYTES];
    const uint8_t *id_pk = id.ik_pk, *own_pk = own;
    CHECK_KIND(identity, struct ses_stmt_identity, id, trusted[ANNE].ik_pk, id_pk, &parsed);
    if (parsed) { /* again with its own key (CHECK_KIND overwrites id first) */
        memcpy(own, id.ik_pk, sizeof own);
        CHECK_KIND(identity, struct ses_stmt_identity, id, own_pk, own_pk, &parsed);
    }

    struct ses_stmt_device dev;
    CHECK_KIND(device, struct ses_stmt_device, dev, trusted[ANNE].ik_pk, none, &parsed);

    struct ses_stmt_vouch vouch;
    CHECK_KIND(vouch, struct ses_stmt_vouch, vouch, trusted[BRUNO].ik_pk, none, &parsed);

    struct ses_stmt_roster roster;
    CHECK_KIND(roster, struct ses_stmt_roster, roster, trusted[ANNE].ik_pk, none, &parsed);
    if (parsed && (roster.version == 1) != all_zero(roster.prev_hash, sizeof roster.prev_hash))
        differ("roster parsed with prev_hash zero at another version than 1", data, size);
    uint8_t h[SES_STMT_HASH_BYTES], want[SES_STMT_HASH_BYTES];
    memset(h, PATTERN, sizeof h);
    int rc = ses_roster_stmt_hash(data, size, h);
    if (parsed) {
        crypto_generichash(want, sizeof want, data, size, NULL, 0);
        if (rc != 0 || memcmp(h, want, sizeof h) != 0)
            differ("roster hash is not BLAKE2b-256 of the statement", data, size);
    } else {
        memset(want, PATTERN, sizeof want);
        if (rc != SES_EBAD_FIELD || memcmp(h, want, sizeof h) != 0)
            differ("roster hash of a refused roster", data, size);
    }

    struct ses_stmt_mailbox mb;
    CHECK_KIND(mailbox, struct ses_stmt_mailbox, mb, device_pk, none, &parsed);
    if (parsed &&
        (!ses_mailbox_valid_at(&mb, mb.not_before_ms) ||
         !ses_mailbox_valid_at(&mb, mb.not_after_ms) ||
         (mb.not_before_ms > 0 && ses_mailbox_valid_at(&mb, mb.not_before_ms - 1)) ||
         (mb.not_after_ms < UINT64_MAX && ses_mailbox_valid_at(&mb, mb.not_after_ms + 1))))
        differ("mailbox key validity window", data, size);
}

/* The trusted key of user_id in the fixed table, or NULL. */
static const uint8_t *trusted_key(const uint8_t user_id[SES_ID_BYTES])
{
    for (size_t i = 0; i < N_TRUSTED; i++)
        if (memcmp(trusted[i].user_id, user_id, SES_ID_BYTES) == 0)
            return trusted[i].ik_pk;
    return NULL;
}

/* The role of user_id in r, or 0 when it is not a member. */
static uint8_t role_in(const struct ses_stmt_roster *r, const uint8_t user_id[SES_ID_BYTES])
{
    for (size_t i = 0; i < r->n_members; i++)
        if (memcmp(r->members[i].user_id, user_id, SES_ID_BYTES) == 0)
            return r->members[i].role;
    return 0;
}

/* ses_roster_chain_check's rules as statement.h states them: the code, *at the index at fault,
 * *head the last version on success. */
static int model_chain(const uint8_t *const stmts[], const size_t lens[], size_t n, size_t *at,
                       struct ses_stmt_roster *head)
{
    struct ses_stmt_roster prev, cur;
    uint8_t prev_hash[SES_STMT_HASH_BYTES];
    for (size_t i = 0; i < n; i++) {
        *at = i;
        if (ses_stmt_roster_parse(stmts[i], lens[i], &cur) != 0)
            return SES_EBAD_FIELD;
        const uint8_t *ik = trusted_key(cur.signer_user_id);
        if (ik == NULL || !sig_ok(stmts[i], lens[i], ik))
            return SES_EBAD_SIGNATURE;
        if (i == 0) {
            if (cur.version != 1 || role_in(&cur, cur.signer_user_id) == 0)
                return SES_EROSTER_BROKEN;
        } else if ((uint64_t)cur.version != (uint64_t)prev.version + 1 ||
                   memcmp(cur.prev_hash, prev_hash, sizeof prev_hash) != 0 ||
                   memcmp(cur.thread_id, prev.thread_id, SES_ID_BYTES) != 0 ||
                   cur.visibility != prev.visibility ||
                   role_in(&prev, cur.signer_user_id) != SES_ROLE_NURSE) {
            return SES_EROSTER_BROKEN;
        }
        crypto_generichash(prev_hash, sizeof prev_hash, stmts[i], lens[i], NULL, 0);
        prev = cur;
    }
    *head = prev;
    return 0;
}

/* Whether two parsed rosters are the same statement (their encodings and signatures). */
static int same_roster(const struct ses_stmt_roster *a, const struct ses_stmt_roster *b)
{
    uint8_t ea[SES_STMT_MAX_BYTES], eb[SES_STMT_MAX_BYTES];
    size_t na = 0, nb = 0;
    return ses_stmt_roster_encode(a, ea, sizeof ea, &na) == 0 &&
           ses_stmt_roster_encode(b, eb, sizeof eb, &nb) == 0 && na == nb &&
           memcmp(ea, eb, na) == 0 && memcmp(a->sig, b->sig, SES_SIG_BYTES) == 0;
}

static void check_chain(const uint8_t *data, size_t size)
{
    uint8_t *stmts[CHAIN_MAX];
    size_t lens[CHAIN_MAX], n = 0, off = 0;
    while (off < size && n < CHAIN_MAX) {
        size_t left = size - off, len = left;
        if (n + 1 < CHAIN_MAX && left > ROSTER_OFF_N) {
            len = SES_STMT_ROSTER_BYTES(data[off + ROSTER_OFF_N]);
            if (len > left)
                len = left;
        }
        stmts[n] = malloc(len); /* its own buffer: a read past its end is caught */
        if (stmts[n] == NULL)
            abort();
        memcpy(stmts[n], data + off, len);
        lens[n++] = len;
        off += len;
    }
    if (n == 0)
        return;

    struct ses_stmt_roster head, before, want;
    memset(&head, PATTERN, sizeof head);
    memset(&before, PATTERN, sizeof before);
    size_t at = n + 1, want_at = n + 1;
    int rc = ses_roster_chain_check((const uint8_t *const *)stmts, lens, n, ses_trusted_ik_table,
                                    &trusted_list, &at, &head);
    if (rc != 0 && rc != SES_EBAD_FIELD && rc != SES_EBAD_SIGNATURE && rc != SES_EROSTER_BROKEN)
        differ("chain check gives an undocumented code", data, size);
    int want_rc = model_chain((const uint8_t *const *)stmts, lens, n, &want_at, &want);
    if (rc != want_rc)
        differ("chain check disagrees with the rules", data, size);
    if (rc != 0 && (at != want_at || memcmp(&head, &before, sizeof head) != 0))
        differ("refused chain: another index at fault, or head written", data, size);
    if (rc == 0 && (!same_roster(&head, &want) || head.version != n))
        differ("accepted chain with another head", data, size);
    for (size_t i = 0; i < n; i++)
        free(stmts[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (setup() != 0)
            return 0;
        ready = 1;
    }
    check_single(data, size);
    check_chain(data, size);
    return 0;
}
