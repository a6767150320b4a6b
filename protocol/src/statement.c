/*
 * statement.c - the stage-2 signed statements (statement.h, PROTOCOL.md §17): encoders, strict
 * parsers, signatures, the roster hash and the roster chain's rules.
 */
#include <string.h>

#include <sodium.h>

#include "sesame/err.h"
#include "sesame/roles.h"
#include "sesame/statement.h"

_Static_assert(SES_SIGN_PK_BYTES == crypto_sign_PUBLICKEYBYTES, "sign pk");
_Static_assert(SES_SIGN_SK_BYTES == crypto_sign_SECRETKEYBYTES, "sign sk");
_Static_assert(SES_SIG_BYTES == crypto_sign_BYTES, "sig");
_Static_assert(SES_STMT_HASH_BYTES <= crypto_generichash_BYTES_MAX, "hash");

/* --- a bounded writer and reader ---------------------------------------------------------------
 */

struct wr {
    uint8_t *p;
    size_t n;
};

static void put(struct wr *w, const void *b, size_t n)
{
    memcpy(w->p + w->n, b, n);
    w->n += n;
}

static void put_be(struct wr *w, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        w->p[w->n + (size_t)i] = (uint8_t)v;
    w->n += (size_t)n;
}

static void put_u8(struct wr *w, uint8_t v)
{
    w->p[w->n++] = v;
}

struct rd {
    const uint8_t *p;
    size_t off;
};

static void get(struct rd *r, void *b, size_t n)
{
    memcpy(b, r->p + r->off, n);
    r->off += n;
}

static uint64_t get_be(struct rd *r, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | r->p[r->off + (size_t)i];
    r->off += (size_t)n;
    return v;
}

static uint8_t get_u8(struct rd *r)
{
    return r->p[r->off++];
}

static bool is_zero(const uint8_t *b, size_t n)
{
    return sodium_is_zero(b, n) == 1;
}

/* The context string and its NUL at in[0..), exactly. */
static bool has_ctx(const uint8_t *in, const char *ctx, size_t ctx_size)
{
    return memcmp(in, ctx, ctx_size) == 0; /* ctx_size counts the NUL */
}

/* Common start of every encoder: arguments and the room for the unsigned bytes. */
static int enc_start(const void *st, uint8_t *out, size_t cap, size_t *len, size_t total,
                     struct wr *w)
{
    if (st == NULL || out == NULL || len == NULL || cap < total - SES_SIG_BYTES)
        return SES_EINVALID_ARG;
    w->p = out;
    w->n = 0;
    return 0;
}

/* Appends the signature of out[0..*len) by sk (the buffer holds cap bytes). */
static int append_sig(uint8_t *out, size_t cap, size_t *len, const uint8_t *sk)
{
    if (cap < *len + SES_SIG_BYTES)
        return SES_EINVALID_ARG;
    if (crypto_sign_detached(out + *len, NULL, out, *len, sk) != 0)
        return SES_EINTERNAL;
    *len += SES_SIG_BYTES;
    return 0;
}

/* Signs into out: encodes into a local buffer first so that nothing is written on failure. */
#define SIGN_BODY(kind, total)                                                                     \
    do {                                                                                           \
        if (sk == NULL || out == NULL || len == NULL)                                              \
            return SES_EINVALID_ARG;                                                               \
        uint8_t buf_[SES_STMT_MAX_BYTES];                                                          \
        size_t n_ = 0;                                                                             \
        int err_ = ses_stmt_##kind##_encode(st, buf_, sizeof buf_, &n_);                           \
        if (err_ == 0 && cap < (total))                                                            \
            err_ = SES_EINVALID_ARG;                                                               \
        if (err_ == 0)                                                                             \
            err_ = append_sig(buf_, sizeof buf_, &n_, sk);                                         \
        if (err_ != 0)                                                                             \
            return err_;                                                                           \
        memcpy(out, buf_, n_);                                                                     \
        *len = n_;                                                                                 \
        return 0;                                                                                  \
    } while (0)

/* Verifies the trailing signature of in[0..len) (already parsed) with pk. */
static int check_sig(const uint8_t *in, size_t len, const uint8_t *pk)
{
    return crypto_sign_verify_detached(in + len - SES_SIG_BYTES, in, len - SES_SIG_BYTES, pk) == 0
               ? 0
               : SES_EBAD_SIGNATURE;
}

/* --- identity ----------------------------------------------------------------------------------
 */

static bool identity_ok(const struct ses_stmt_identity *st)
{
    return st->serial >= 1;
}

int ses_stmt_identity_encode(const struct ses_stmt_identity *st, uint8_t *out, size_t cap,
                             size_t *len)
{
    struct wr w;
    int err = enc_start(st, out, cap, len, SES_STMT_IDENTITY_BYTES, &w);
    if (err != 0)
        return err;
    if (!identity_ok(st))
        return SES_EBAD_FIELD;
    put(&w, SES_CTX_STMT_IDENTITY, sizeof SES_CTX_STMT_IDENTITY);
    put(&w, st->user_id, SES_ID_BYTES);
    put(&w, st->ik_pk, SES_SIGN_PK_BYTES);
    put_be(&w, st->serial, 4);
    put_be(&w, st->created_ms, 8);
    *len = w.n;
    return 0;
}

int ses_stmt_identity_sign(const struct ses_stmt_identity *st, const uint8_t sk[SES_SIGN_SK_BYTES],
                           uint8_t *out, size_t cap, size_t *len)
{
    uint8_t pk[SES_SIGN_PK_BYTES];
    if (st == NULL || sk == NULL || crypto_sign_ed25519_sk_to_pk(pk, sk) != 0 ||
        sodium_memcmp(pk, st->ik_pk, sizeof pk) != 0)
        return SES_EINVALID_ARG;
    SIGN_BODY(identity, SES_STMT_IDENTITY_BYTES);
}

int ses_stmt_identity_parse(const uint8_t *in, size_t len, struct ses_stmt_identity *out)
{
    if (in == NULL || out == NULL)
        return SES_EINVALID_ARG;
    if (len != SES_STMT_IDENTITY_BYTES ||
        !has_ctx(in, SES_CTX_STMT_IDENTITY, sizeof SES_CTX_STMT_IDENTITY))
        return SES_EBAD_FIELD;
    struct ses_stmt_identity st;
    memset(&st, 0, sizeof st);
    struct rd r = {in, sizeof SES_CTX_STMT_IDENTITY};
    get(&r, st.user_id, SES_ID_BYTES);
    get(&r, st.ik_pk, SES_SIGN_PK_BYTES);
    st.serial = (uint32_t)get_be(&r, 4);
    st.created_ms = get_be(&r, 8);
    get(&r, st.sig, SES_SIG_BYTES);
    if (!identity_ok(&st))
        return SES_EBAD_FIELD;
    *out = st;
    return 0;
}

int ses_stmt_identity_verify(const uint8_t *in, size_t len, const uint8_t pk[SES_SIGN_PK_BYTES])
{
    struct ses_stmt_identity st;
    if (pk == NULL)
        return SES_EINVALID_ARG;
    int err = ses_stmt_identity_parse(in, len, &st);
    if (err != 0)
        return err;
    if (sodium_memcmp(st.ik_pk, pk, SES_SIGN_PK_BYTES) != 0)
        return SES_EBAD_SIGNATURE;
    return check_sig(in, len, pk);
}

/* --- device ------------------------------------------------------------------------------------
 */

int ses_stmt_device_encode(const struct ses_stmt_device *st, uint8_t *out, size_t cap, size_t *len)
{
    struct wr w;
    int err = enc_start(st, out, cap, len, SES_STMT_DEVICE_BYTES, &w);
    if (err != 0)
        return err;
    put(&w, SES_CTX_STMT_DEVICE, sizeof SES_CTX_STMT_DEVICE);
    put(&w, st->user_id, SES_ID_BYTES);
    put(&w, st->device_id, SES_ID_BYTES);
    put(&w, st->sign_pk, SES_SIGN_PK_BYTES);
    put(&w, st->box_pk, SES_BOX_PK_BYTES);
    put_be(&w, st->created_ms, 8);
    *len = w.n;
    return 0;
}

int ses_stmt_device_sign(const struct ses_stmt_device *st, const uint8_t sk[SES_SIGN_SK_BYTES],
                         uint8_t *out, size_t cap, size_t *len)
{
    SIGN_BODY(device, SES_STMT_DEVICE_BYTES);
}

int ses_stmt_device_parse(const uint8_t *in, size_t len, struct ses_stmt_device *out)
{
    if (in == NULL || out == NULL)
        return SES_EINVALID_ARG;
    if (len != SES_STMT_DEVICE_BYTES ||
        !has_ctx(in, SES_CTX_STMT_DEVICE, sizeof SES_CTX_STMT_DEVICE))
        return SES_EBAD_FIELD;
    struct ses_stmt_device st;
    memset(&st, 0, sizeof st);
    struct rd r = {in, sizeof SES_CTX_STMT_DEVICE};
    get(&r, st.user_id, SES_ID_BYTES);
    get(&r, st.device_id, SES_ID_BYTES);
    get(&r, st.sign_pk, SES_SIGN_PK_BYTES);
    get(&r, st.box_pk, SES_BOX_PK_BYTES);
    st.created_ms = get_be(&r, 8);
    get(&r, st.sig, SES_SIG_BYTES);
    *out = st;
    return 0;
}

int ses_stmt_device_verify(const uint8_t *in, size_t len, const uint8_t pk[SES_SIGN_PK_BYTES])
{
    struct ses_stmt_device st;
    if (pk == NULL)
        return SES_EINVALID_ARG;
    int err = ses_stmt_device_parse(in, len, &st);
    return err != 0 ? err : check_sig(in, len, pk);
}

/* --- vouch -------------------------------------------------------------------------------------
 */

static bool vouch_ok(const struct ses_stmt_vouch *st)
{
    return st->subject_serial >= 1;
}

int ses_stmt_vouch_encode(const struct ses_stmt_vouch *st, uint8_t *out, size_t cap, size_t *len)
{
    struct wr w;
    int err = enc_start(st, out, cap, len, SES_STMT_VOUCH_BYTES, &w);
    if (err != 0)
        return err;
    if (!vouch_ok(st))
        return SES_EBAD_FIELD;
    put(&w, SES_CTX_STMT_VOUCH, sizeof SES_CTX_STMT_VOUCH);
    put(&w, st->voucher_user_id, SES_ID_BYTES);
    put(&w, st->subject_user_id, SES_ID_BYTES);
    put(&w, st->subject_ik_pk, SES_SIGN_PK_BYTES);
    put_be(&w, st->subject_serial, 4);
    put_be(&w, st->created_ms, 8);
    *len = w.n;
    return 0;
}

int ses_stmt_vouch_sign(const struct ses_stmt_vouch *st, const uint8_t sk[SES_SIGN_SK_BYTES],
                        uint8_t *out, size_t cap, size_t *len)
{
    SIGN_BODY(vouch, SES_STMT_VOUCH_BYTES);
}

int ses_stmt_vouch_parse(const uint8_t *in, size_t len, struct ses_stmt_vouch *out)
{
    if (in == NULL || out == NULL)
        return SES_EINVALID_ARG;
    if (len != SES_STMT_VOUCH_BYTES || !has_ctx(in, SES_CTX_STMT_VOUCH, sizeof SES_CTX_STMT_VOUCH))
        return SES_EBAD_FIELD;
    struct ses_stmt_vouch st;
    memset(&st, 0, sizeof st);
    struct rd r = {in, sizeof SES_CTX_STMT_VOUCH};
    get(&r, st.voucher_user_id, SES_ID_BYTES);
    get(&r, st.subject_user_id, SES_ID_BYTES);
    get(&r, st.subject_ik_pk, SES_SIGN_PK_BYTES);
    st.subject_serial = (uint32_t)get_be(&r, 4);
    st.created_ms = get_be(&r, 8);
    get(&r, st.sig, SES_SIG_BYTES);
    if (!vouch_ok(&st))
        return SES_EBAD_FIELD;
    *out = st;
    return 0;
}

int ses_stmt_vouch_verify(const uint8_t *in, size_t len, const uint8_t pk[SES_SIGN_PK_BYTES])
{
    struct ses_stmt_vouch st;
    if (pk == NULL)
        return SES_EINVALID_ARG;
    int err = ses_stmt_vouch_parse(in, len, &st);
    return err != 0 ? err : check_sig(in, len, pk);
}

/* --- roster ------------------------------------------------------------------------------------
 */

static bool roster_ok(const struct ses_stmt_roster *st)
{
    if (st->version < 1 || (st->version == 1) != is_zero(st->prev_hash, SES_STMT_HASH_BYTES))
        return false;
    if (st->visibility != SES_ROSTER_SHARED && st->visibility != SES_ROSTER_JOINED)
        return false;
    if (st->n_members < SES_STMT_ROSTER_MIN_MEMBERS || st->n_members > SES_STMT_ROSTER_MAX_MEMBERS)
        return false;
    for (size_t i = 0; i < st->n_members; i++) {
        uint8_t role = st->members[i].role;
        if (role != SES_ROLE_NURSE && role != SES_ROLE_PSYCHIATRIST && role != SES_ROLE_GP)
            return false;
        if (i > 0 && memcmp(st->members[i - 1].user_id, st->members[i].user_id, SES_ID_BYTES) >= 0)
            return false;
    }
    return true;
}

int ses_stmt_roster_encode(const struct ses_stmt_roster *st, uint8_t *out, size_t cap, size_t *len)
{
    if (st == NULL || out == NULL || len == NULL)
        return SES_EINVALID_ARG;
    if (!roster_ok(st))
        return SES_EBAD_FIELD;
    struct wr w;
    int err = enc_start(st, out, cap, len, SES_STMT_ROSTER_BYTES(st->n_members), &w);
    if (err != 0)
        return err;
    put(&w, SES_CTX_STMT_ROSTER, sizeof SES_CTX_STMT_ROSTER);
    put(&w, st->thread_id, SES_ID_BYTES);
    put_be(&w, st->version, 4);
    put(&w, st->prev_hash, SES_STMT_HASH_BYTES);
    put_u8(&w, st->visibility);
    put_u8(&w, st->n_members);
    for (size_t i = 0; i < st->n_members; i++) {
        put(&w, st->members[i].user_id, SES_ID_BYTES);
        put_u8(&w, st->members[i].role);
    }
    put_be(&w, st->created_ms, 8);
    put(&w, st->signer_user_id, SES_ID_BYTES);
    *len = w.n;
    return 0;
}

int ses_stmt_roster_sign(const struct ses_stmt_roster *st, const uint8_t sk[SES_SIGN_SK_BYTES],
                         uint8_t *out, size_t cap, size_t *len)
{
    if (st == NULL)
        return SES_EINVALID_ARG;
    SIGN_BODY(roster, SES_STMT_ROSTER_BYTES(st->n_members));
}

/* Offset of the count byte n in a roster statement. */
#define ROSTER_OFF_N (sizeof SES_CTX_STMT_ROSTER + SES_ID_BYTES + 4 + SES_STMT_HASH_BYTES + 1)

int ses_stmt_roster_parse(const uint8_t *in, size_t len, struct ses_stmt_roster *out)
{
    if (in == NULL || out == NULL)
        return SES_EINVALID_ARG;
    if (len < SES_STMT_ROSTER_FIXED ||
        !has_ctx(in, SES_CTX_STMT_ROSTER, sizeof SES_CTX_STMT_ROSTER))
        return SES_EBAD_FIELD;
    size_t n = in[ROSTER_OFF_N];
    if (n < SES_STMT_ROSTER_MIN_MEMBERS || n > SES_STMT_ROSTER_MAX_MEMBERS ||
        len != SES_STMT_ROSTER_BYTES(n))
        return SES_EBAD_FIELD;
    struct ses_stmt_roster st;
    memset(&st, 0, sizeof st);
    struct rd r = {in, sizeof SES_CTX_STMT_ROSTER};
    get(&r, st.thread_id, SES_ID_BYTES);
    st.version = (uint32_t)get_be(&r, 4);
    get(&r, st.prev_hash, SES_STMT_HASH_BYTES);
    st.visibility = get_u8(&r);
    st.n_members = get_u8(&r);
    for (size_t i = 0; i < n; i++) {
        get(&r, st.members[i].user_id, SES_ID_BYTES);
        st.members[i].role = get_u8(&r);
    }
    st.created_ms = get_be(&r, 8);
    get(&r, st.signer_user_id, SES_ID_BYTES);
    get(&r, st.sig, SES_SIG_BYTES);
    if (!roster_ok(&st))
        return SES_EBAD_FIELD;
    *out = st;
    return 0;
}

int ses_stmt_roster_verify(const uint8_t *in, size_t len, const uint8_t pk[SES_SIGN_PK_BYTES])
{
    struct ses_stmt_roster st;
    if (pk == NULL)
        return SES_EINVALID_ARG;
    int err = ses_stmt_roster_parse(in, len, &st);
    return err != 0 ? err : check_sig(in, len, pk);
}

int ses_roster_stmt_hash(const uint8_t *in, size_t len, uint8_t out[SES_STMT_HASH_BYTES])
{
    struct ses_stmt_roster st;
    if (out == NULL)
        return SES_EINVALID_ARG;
    int err = ses_stmt_roster_parse(in, len, &st);
    if (err != 0)
        return err;
    crypto_generichash(out, SES_STMT_HASH_BYTES, in, len, NULL, 0);
    return 0;
}

int ses_trusted_ik_table(void *ctx, const uint8_t user_id[SES_ID_BYTES],
                         uint8_t ik_pk[SES_SIGN_PK_BYTES])
{
    const struct ses_trusted_ik_list *t = ctx;
    if (t == NULL || user_id == NULL || ik_pk == NULL || (t->rows == NULL && t->n != 0))
        return -1;
    for (size_t i = 0; i < t->n; i++)
        if (memcmp(t->rows[i].user_id, user_id, SES_ID_BYTES) == 0) {
            memcpy(ik_pk, t->rows[i].ik_pk, SES_SIGN_PK_BYTES);
            return 0;
        }
    return -1;
}

/* The member of st with user_id, or NULL. */
static const struct ses_stmt_member *member_of(const struct ses_stmt_roster *st,
                                               const uint8_t user_id[SES_ID_BYTES])
{
    for (size_t i = 0; i < st->n_members; i++)
        if (memcmp(st->members[i].user_id, user_id, SES_ID_BYTES) == 0)
            return &st->members[i];
    return NULL;
}

/* Rule 3 of ses_roster_chain_check for cur, given the previous version (NULL for the first) and
 * the roster hash of its statement. */
static int chain_rule(const struct ses_stmt_roster *cur, const struct ses_stmt_roster *prev,
                      const uint8_t prev_hash[SES_STMT_HASH_BYTES])
{
    if (prev == NULL)
        return cur->version == 1 && member_of(cur, cur->signer_user_id) != NULL
                   ? 0
                   : SES_EROSTER_BROKEN;
    if (prev->version == UINT32_MAX || cur->version != prev->version + 1 ||
        sodium_memcmp(cur->prev_hash, prev_hash, SES_STMT_HASH_BYTES) != 0 ||
        memcmp(cur->thread_id, prev->thread_id, SES_ID_BYTES) != 0 ||
        cur->visibility != prev->visibility)
        return SES_EROSTER_BROKEN;
    const struct ses_stmt_member *m = member_of(prev, cur->signer_user_id);
    return m != NULL && m->role == SES_ROLE_NURSE ? 0 : SES_EROSTER_BROKEN;
}

int ses_roster_chain_check(const uint8_t *const stmts[], const size_t lens[], size_t n,
                           ses_trusted_ik_fn trusted_ik, void *ctx, size_t *failed_at,
                           struct ses_stmt_roster *head)
{
    if (stmts == NULL || lens == NULL || n == 0 || trusted_ik == NULL) {
        if (failed_at != NULL)
            *failed_at = n;
        return SES_EINVALID_ARG;
    }
    struct ses_stmt_roster prev, cur;
    uint8_t prev_hash[SES_STMT_HASH_BYTES];
    int err = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        uint8_t ik[SES_SIGN_PK_BYTES];
        if (stmts[i] == NULL) {
            err = SES_EBAD_FIELD;
            break;
        }
        if ((err = ses_stmt_roster_parse(stmts[i], lens[i], &cur)) != 0)
            break;
        if (trusted_ik(ctx, cur.signer_user_id, ik) != 0) {
            err = SES_EBAD_SIGNATURE;
            break;
        }
        if ((err = check_sig(stmts[i], lens[i], ik)) != 0)
            break;
        if ((err = chain_rule(&cur, i == 0 ? NULL : &prev, prev_hash)) != 0)
            break;
        crypto_generichash(prev_hash, sizeof prev_hash, stmts[i], lens[i], NULL, 0);
        prev = cur;
    }
    if (err != 0) {
        if (failed_at != NULL)
            *failed_at = i;
        return err;
    }
    if (head != NULL)
        *head = prev;
    return 0;
}

/* --- mailbox -----------------------------------------------------------------------------------
 */

static bool mailbox_ok(const struct ses_stmt_mailbox *st)
{
    return st->serial >= 1 && st->not_before_ms < st->not_after_ms;
}

int ses_stmt_mailbox_encode(const struct ses_stmt_mailbox *st, uint8_t *out, size_t cap,
                            size_t *len)
{
    struct wr w;
    int err = enc_start(st, out, cap, len, SES_STMT_MAILBOX_BYTES, &w);
    if (err != 0)
        return err;
    if (!mailbox_ok(st))
        return SES_EBAD_FIELD;
    put(&w, SES_CTX_STMT_MAILBOX, sizeof SES_CTX_STMT_MAILBOX);
    put(&w, st->device_id, SES_ID_BYTES);
    put(&w, st->box_pk, SES_BOX_PK_BYTES);
    put_be(&w, st->serial, 4);
    put_be(&w, st->not_before_ms, 8);
    put_be(&w, st->not_after_ms, 8);
    *len = w.n;
    return 0;
}

int ses_stmt_mailbox_sign(const struct ses_stmt_mailbox *st, const uint8_t sk[SES_SIGN_SK_BYTES],
                          uint8_t *out, size_t cap, size_t *len)
{
    SIGN_BODY(mailbox, SES_STMT_MAILBOX_BYTES);
}

int ses_stmt_mailbox_parse(const uint8_t *in, size_t len, struct ses_stmt_mailbox *out)
{
    if (in == NULL || out == NULL)
        return SES_EINVALID_ARG;
    if (len != SES_STMT_MAILBOX_BYTES ||
        !has_ctx(in, SES_CTX_STMT_MAILBOX, sizeof SES_CTX_STMT_MAILBOX))
        return SES_EBAD_FIELD;
    struct ses_stmt_mailbox st;
    memset(&st, 0, sizeof st);
    struct rd r = {in, sizeof SES_CTX_STMT_MAILBOX};
    get(&r, st.device_id, SES_ID_BYTES);
    get(&r, st.box_pk, SES_BOX_PK_BYTES);
    st.serial = (uint32_t)get_be(&r, 4);
    st.not_before_ms = get_be(&r, 8);
    st.not_after_ms = get_be(&r, 8);
    get(&r, st.sig, SES_SIG_BYTES);
    if (!mailbox_ok(&st))
        return SES_EBAD_FIELD;
    *out = st;
    return 0;
}

int ses_stmt_mailbox_verify(const uint8_t *in, size_t len, const uint8_t pk[SES_SIGN_PK_BYTES])
{
    struct ses_stmt_mailbox st;
    if (pk == NULL)
        return SES_EINVALID_ARG;
    int err = ses_stmt_mailbox_parse(in, len, &st);
    return err != 0 ? err : check_sig(in, len, pk);
}

bool ses_mailbox_valid_at(const struct ses_stmt_mailbox *m, uint64_t now_ms)
{
    return m != NULL && m->not_before_ms <= now_ms && now_ms <= m->not_after_ms;
}
