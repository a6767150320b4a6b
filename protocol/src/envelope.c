/*
 * envelope.c - "SES1" signed multi-recipient envelopes, suite 1 (envelope.h, PROTOCOL.md §10).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/envelope.h"
#include "sesame/err.h"

/* The constants of envelope.h are the libsodium sizes and each other's sums. */
_Static_assert(SES_ENVELOPE_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "K");
_Static_assert(SES_ENVELOPE_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce");
_Static_assert(SES_ENVELOPE_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag");
_Static_assert(SES_ENVELOPE_SEALED_BYTES == crypto_box_SEALBYTES + SES_ENVELOPE_KEY_BYTES, "wrap");
_Static_assert(SES_ENVELOPE_WRAP_BYTES == SES_ID_BYTES + SES_ENVELOPE_SEALED_BYTES, "wrap");
_Static_assert(SES_SIG_BYTES == crypto_sign_BYTES, "sig");
_Static_assert(SES_BOX_PK_BYTES == crypto_box_PUBLICKEYBYTES, "box pk");
_Static_assert(SES_BOX_SK_BYTES == crypto_box_SECRETKEYBYTES, "box sk");
_Static_assert(crypto_box_NONCEBYTES == 24, "seal nonce");
_Static_assert(SES_ENVELOPE_OFF_NONCE + SES_ENVELOPE_NONCE_BYTES == SES_ENVELOPE_OFF_N_WRAPS, "h");
_Static_assert(SES_ENVELOPE_OFF_N_WRAPS + 1 == SES_ENVELOPE_OFF_WRAPS, "fixed header");
_Static_assert(SES_ENVELOPE_INNER_FIXED == 1 + 4 * SES_ID_BYTES + 1 + 4, "inner prefix");
_Static_assert(SES_ENVELOPE_PADDED_BODY_MAX ==
                   (SES_ENVELOPE_BODY_MAX / SES_ENVELOPE_PAD_BLOCK + 1) * SES_ENVELOPE_PAD_BLOCK,
               "padded body max");
_Static_assert(SES_ENVELOPE_CT_MIN ==
                   SES_ENVELOPE_INNER_FIXED + SES_ENVELOPE_PAD_BLOCK + SES_ENVELOPE_TAG_BYTES,
               "ct min");
_Static_assert(SES_ENVELOPE_CT_MAX ==
                   SES_ENVELOPE_INNER_FIXED + SES_ENVELOPE_PADDED_BODY_MAX + SES_ENVELOPE_TAG_BYTES,
               "ct max");
_Static_assert(SES_ENVELOPE_OVERHEAD == SES_ENVELOPE_OFF_WRAPS + 4 + SES_SIG_BYTES, "overhead");
_Static_assert(SES_ENVELOPE_MIN ==
                   SES_ENVELOPE_OVERHEAD + SES_ENVELOPE_WRAP_BYTES + SES_ENVELOPE_CT_MIN,
               "min");
_Static_assert(SES_ENVELOPE_MAX == SES_ENVELOPE_OVERHEAD +
                                       SES_ENVELOPE_WRAP_BYTES * SES_ENVELOPE_MAX_WRAPS +
                                       SES_ENVELOPE_CT_MAX,
               "max");
_Static_assert(SES_ENVELOPE_B64_MAX == (SES_ENVELOPE_MAX / 3) * 4 + (SES_ENVELOPE_MAX % 3) + 1,
               "base64url of max (remainder 1 -> 2 characters)");
_Static_assert(SES_ENVELOPE_MAX % 3 == 1, "see the line above");

#define OFF_INNER_VER 0
#define OFF_INNER_USER 1
#define OFF_INNER_DEVICE 17
#define OFF_INNER_MSG 33
#define OFF_INNER_THREAD 49
#define OFF_INNER_CTYPE 65
#define OFF_INNER_BODY_LEN 66

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(a, b, SES_ID_BYTES);
}

/* 1 if two of the n ids (stride bytes apart) are equal. For the wraps (n <= 32); the expected
 * list is the caller's and may be longer, so it is checked by sorting a copy. */
static int has_duplicate_ids(const uint8_t *ids, size_t stride, size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (memcmp(ids + i * stride, ids + j * stride, SES_ID_BYTES) == 0)
                return 1;
    return 0;
}

static int has_duplicate_sorted(const uint8_t (*ids)[SES_ID_BYTES], size_t n, int *dup)
{
    *dup = 0;
    if (n < 2)
        return 0;
    uint8_t(*copy)[SES_ID_BYTES] = malloc(n * SES_ID_BYTES);
    if (copy == NULL)
        return SES_ENOMEM;
    memcpy(copy, ids, n * SES_ID_BYTES);
    qsort(copy, n, SES_ID_BYTES, cmp_id);
    for (size_t i = 1; i < n && !*dup; i++)
        *dup = memcmp(copy[i - 1], copy[i], SES_ID_BYTES) == 0;
    free(copy);
    return 0;
}

int ses_roster_hash(uint8_t out[SES_ROSTER_HASH_BYTES], const uint8_t thread_id[SES_ID_BYTES],
                    uint32_t roster_version, const uint8_t (*members)[SES_ID_BYTES],
                    size_t n_members)
{
    if (out == NULL || thread_id == NULL || (members == NULL && n_members > 0) ||
        n_members > SES_ROSTER_HASH_MAX_MEMBERS)
        return SES_EINVALID_ARG;
    uint8_t sorted[SES_ROSTER_HASH_MAX_MEMBERS][SES_ID_BYTES];
    if (n_members > 0)
        memcpy(sorted, members, n_members * SES_ID_BYTES);
    qsort(sorted, n_members, SES_ID_BYTES, cmp_id);
    for (size_t i = 1; i < n_members; i++)
        if (memcmp(sorted[i - 1], sorted[i], SES_ID_BYTES) == 0)
            return SES_EINVALID_ARG;
    uint8_t fixed[4 + 1];
    put_be(fixed, roster_version, 4);
    fixed[4] = (uint8_t)n_members;
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, SES_ROSTER_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)SES_CTX_ROSTER, sizeof SES_CTX_ROSTER);
    crypto_generichash_update(&st, thread_id, SES_ID_BYTES);
    crypto_generichash_update(&st, fixed, sizeof fixed);
    crypto_generichash_update(&st, &sorted[0][0], n_members * SES_ID_BYTES);
    crypto_generichash_final(&st, out, SES_ROSTER_HASH_BYTES);
    return 0;
}

void ses_envelope_kcommit(uint8_t out[SES_ENVELOPE_KCOMMIT_BYTES],
                          const uint8_t key[SES_ENVELOPE_KEY_BYTES],
                          const uint8_t msg_id[SES_ID_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, key, SES_ENVELOPE_KEY_BYTES, SES_ENVELOPE_KCOMMIT_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)SES_CTX_KCOMMIT, sizeof SES_CTX_KCOMMIT);
    crypto_generichash_update(&st, msg_id, SES_ID_BYTES);
    crypto_generichash_final(&st, out, SES_ENVELOPE_KCOMMIT_BYTES);
    sodium_memzero(&st, sizeof st);
}

/* crypto_box_seal with a given ephemeral secret key: epk | crypto_box_easy(m, BLAKE2b-192(epk |
 * pk), pk, esk). */
static int seal_with(uint8_t out[SES_ENVELOPE_SEALED_BYTES], const uint8_t key[32],
                     const uint8_t pk[32], const uint8_t esk[32])
{
    uint8_t epk[crypto_box_PUBLICKEYBYTES], nonce[crypto_box_NONCEBYTES];
    crypto_generichash_state st;
    if (crypto_scalarmult_base(epk, esk) != 0)
        return SES_EINVALID_ARG;
    crypto_generichash_init(&st, NULL, 0, sizeof nonce);
    crypto_generichash_update(&st, epk, sizeof epk);
    crypto_generichash_update(&st, pk, crypto_box_PUBLICKEYBYTES);
    crypto_generichash_final(&st, nonce, sizeof nonce);
    if (crypto_box_easy(out + sizeof epk, key, SES_ENVELOPE_KEY_BYTES, nonce, pk, esk) != 0)
        return SES_EINVALID_ARG; /* a low-order recipient key */
    memcpy(out, epk, sizeof epk);
    return 0;
}

static int seal_core(uint8_t **out, size_t *out_len, const struct ses_envelope_header *hdr,
                     uint8_t content_type, const uint8_t *body, size_t body_len,
                     const struct ses_recipient *rc, size_t n, const uint8_t *sign_sk,
                     const uint8_t key[SES_ENVELOPE_KEY_BYTES],
                     const uint8_t nonce[SES_ENVELOPE_NONCE_BYTES],
                     const uint8_t (*eph_sk)[SES_BOX_SK_BYTES])
{
    if (out == NULL || out_len == NULL || hdr == NULL || rc == NULL || sign_sk == NULL ||
        (body == NULL && body_len > 0))
        return SES_EINVALID_ARG;
    if (n < 1 || n > SES_ENVELOPE_MAX_WRAPS || content_type < 1 ||
        content_type > SES_CONTENT_TYPE_MAX || hdr->sender_seq == 0 ||
        hdr->sender_seq > SES_ENVELOPE_SEQ_MAX)
        return SES_EINVALID_ARG;
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (memcmp(rc[i].device_id, rc[j].device_id, SES_ID_BYTES) == 0)
                return SES_EINVALID_ARG;
    if (body_len > SES_ENVELOPE_BODY_MAX)
        return SES_ETOO_LARGE;

    const size_t padded_body = (body_len / SES_ENVELOPE_PAD_BLOCK + 1) * SES_ENVELOPE_PAD_BLOCK;
    const size_t pt_len = SES_ENVELOPE_INNER_FIXED + padded_body;
    const size_t ct_len = pt_len + SES_ENVELOPE_TAG_BYTES;
    const size_t h = SES_ENVELOPE_OFF_WRAPS + n * SES_ENVELOPE_WRAP_BYTES;
    const size_t total = h + 4 + ct_len + SES_SIG_BYTES;
    const size_t ctx = sizeof SES_CTX_ENVELOPE; /* signed prefix, context string and NUL */

    /* The envelope is built after its signing context so that it is signed in place, then moved
     * to the start of the buffer. */
    uint8_t *buf = malloc(ctx + total);
    uint8_t *pt = malloc(pt_len);
    if (buf == NULL || pt == NULL) {
        free(buf);
        free(pt);
        return SES_ENOMEM;
    }
    memcpy(buf, SES_CTX_ENVELOPE, ctx);
    uint8_t *e = buf + ctx;

    memcpy(e, SES_ENVELOPE_MAGIC, 4);
    e[SES_ENVELOPE_OFF_VERSION] = SES_ENVELOPE_VERSION;
    e[SES_ENVELOPE_OFF_SUITE] = SES_ENVELOPE_SUITE;
    put_be(e + SES_ENVELOPE_OFF_FLAGS, 0, 2);
    memcpy(e + SES_ENVELOPE_OFF_THREAD, hdr->thread_id, SES_ID_BYTES);
    memcpy(e + SES_ENVELOPE_OFF_MSG, hdr->msg_id, SES_ID_BYTES);
    memcpy(e + SES_ENVELOPE_OFF_SENDER_USER, hdr->sender_user_id, SES_ID_BYTES);
    memcpy(e + SES_ENVELOPE_OFF_SENDER_DEVICE, hdr->sender_device_id, SES_ID_BYTES);
    put_be(e + SES_ENVELOPE_OFF_SEQ, hdr->sender_seq, 8);
    memcpy(e + SES_ENVELOPE_OFF_ROSTER, hdr->roster_hash, SES_ROSTER_HASH_BYTES);
    put_be(e + SES_ENVELOPE_OFF_CREATED, hdr->created_ms, 8);
    put_be(e + SES_ENVELOPE_OFF_ALERT_TYPE, hdr->alert_type, 2);
    e[SES_ENVELOPE_OFF_SEVERITY] = hdr->severity;
    put_be(e + SES_ENVELOPE_OFF_DEADLINE, hdr->deadline_ms, 8);
    ses_envelope_kcommit(e + SES_ENVELOPE_OFF_KCOMMIT, key, hdr->msg_id);
    memcpy(e + SES_ENVELOPE_OFF_NONCE, nonce, SES_ENVELOPE_NONCE_BYTES);
    e[SES_ENVELOPE_OFF_N_WRAPS] = (uint8_t)n;

    int err = 0;
    for (size_t i = 0; i < n && err == 0; i++) {
        uint8_t *w = e + SES_ENVELOPE_OFF_WRAPS + i * SES_ENVELOPE_WRAP_BYTES;
        memcpy(w, rc[i].device_id, SES_ID_BYTES);
        if (eph_sk != NULL)
            err = seal_with(w + SES_ID_BYTES, key, rc[i].box_pk, eph_sk[i]);
        else if (crypto_box_seal(w + SES_ID_BYTES, key, SES_ENVELOPE_KEY_BYTES, rc[i].box_pk) != 0)
            err = SES_EINVALID_ARG;
    }
    put_be(e + h, ct_len, 4);

    /* inner plaintext: fixed prefix, then the body padded in place to its 256-byte bucket */
    pt[OFF_INNER_VER] = SES_ENVELOPE_INNER_VERSION;
    memcpy(pt + OFF_INNER_USER, hdr->sender_user_id, SES_ID_BYTES);
    memcpy(pt + OFF_INNER_DEVICE, hdr->sender_device_id, SES_ID_BYTES);
    memcpy(pt + OFF_INNER_MSG, hdr->msg_id, SES_ID_BYTES);
    memcpy(pt + OFF_INNER_THREAD, hdr->thread_id, SES_ID_BYTES);
    pt[OFF_INNER_CTYPE] = content_type;
    put_be(pt + OFF_INNER_BODY_LEN, body_len, 4);
    if (body_len > 0)
        memcpy(pt + SES_ENVELOPE_INNER_FIXED, body, body_len);
    size_t padded = 0;
    if (err == 0 && (sodium_pad(&padded, pt + SES_ENVELOPE_INNER_FIXED, body_len,
                                SES_ENVELOPE_PAD_BLOCK, padded_body) != 0 ||
                     padded != padded_body))
        err = SES_EINTERNAL;

    unsigned long long clen = 0;
    if (err == 0 && (crypto_aead_xchacha20poly1305_ietf_encrypt(e + h + 4, &clen, pt, pt_len, e, h,
                                                                NULL, nonce, key) != 0 ||
                     clen != ct_len))
        err = SES_EINTERNAL;
    sodium_memzero(pt, pt_len);
    free(pt);
    if (err == 0 && crypto_sign_detached(e + total - SES_SIG_BYTES, NULL, buf,
                                         ctx + total - SES_SIG_BYTES, sign_sk) != 0)
        err = SES_EINTERNAL;
    if (err != 0) {
        free(buf);
        return err;
    }
    memmove(buf, e, total);
    *out = buf;
    *out_len = total;
    return 0;
}

int ses_envelope_seal(uint8_t **out, size_t *out_len, const struct ses_envelope_header *hdr,
                      uint8_t content_type, const uint8_t *body, size_t body_len,
                      const struct ses_recipient *recipients, size_t n_recipients,
                      const uint8_t sign_sk[SES_SIGN_SK_BYTES])
{
    uint8_t key[SES_ENVELOPE_KEY_BYTES], nonce[SES_ENVELOPE_NONCE_BYTES];
    crypto_aead_xchacha20poly1305_ietf_keygen(key);
    randombytes_buf(nonce, sizeof nonce);
    int rc = seal_core(out, out_len, hdr, content_type, body, body_len, recipients, n_recipients,
                       sign_sk, key, nonce, NULL);
    sodium_memzero(key, sizeof key);
    return rc;
}

int ses_envelope_seal_det(uint8_t **out, size_t *out_len, const struct ses_envelope_header *hdr,
                          uint8_t content_type, const uint8_t *body, size_t body_len,
                          const struct ses_recipient *recipients, size_t n_recipients,
                          const uint8_t sign_sk[SES_SIGN_SK_BYTES],
                          const uint8_t key[SES_ENVELOPE_KEY_BYTES],
                          const uint8_t nonce[SES_ENVELOPE_NONCE_BYTES],
                          const uint8_t (*eph_sk)[SES_BOX_SK_BYTES])
{
    if (key == NULL || nonce == NULL || eph_sk == NULL)
        return SES_EINVALID_ARG;
    return seal_core(out, out_len, hdr, content_type, body, body_len, recipients, n_recipients,
                     sign_sk, key, nonce, eph_sk);
}

int ses_envelope_parse(const uint8_t *b, size_t len, struct ses_envelope_view *out)
{
    static const uint8_t ident[6] = {'S', 'E', 'S', '1', SES_ENVELOPE_VERSION, SES_ENVELOPE_SUITE};
    if (b == NULL || out == NULL)
        return SES_EINVALID_ARG;
    /* what this is (magic, version, suite, flags), as far as the bytes go */
    size_t id_len = len < sizeof ident ? len : sizeof ident;
    if (memcmp(b, ident, id_len) != 0)
        return SES_EUNSUPPORTED;
    if (len >= SES_ENVELOPE_OFF_THREAD && get_be(b + SES_ENVELOPE_OFF_FLAGS, 2) != 0)
        return SES_EUNSUPPORTED;
    if (len < SES_ENVELOPE_MIN || len > SES_ENVELOPE_MAX)
        return SES_EBAD_ENVELOPE;
    size_t n = b[SES_ENVELOPE_OFF_N_WRAPS];
    if (n < 1 || n > SES_ENVELOPE_MAX_WRAPS)
        return SES_EBAD_ENVELOPE;
    size_t h = SES_ENVELOPE_OFF_WRAPS + n * SES_ENVELOPE_WRAP_BYTES;
    if (len < h + 4)
        return SES_EBAD_ENVELOPE;
    size_t ct_len = (size_t)get_be(b + h, 4);
    if (ct_len < SES_ENVELOPE_CT_MIN || ct_len > SES_ENVELOPE_CT_MAX ||
        (ct_len - SES_ENVELOPE_INNER_FIXED - SES_ENVELOPE_TAG_BYTES) % SES_ENVELOPE_PAD_BLOCK != 0)
        return SES_EBAD_ENVELOPE;
    if (len != h + 4 + ct_len + SES_SIG_BYTES)
        return SES_EBAD_ENVELOPE;
    if (has_duplicate_ids(b + SES_ENVELOPE_OFF_WRAPS, SES_ENVELOPE_WRAP_BYTES, n))
        return SES_EBAD_ENVELOPE;

    struct ses_envelope_view v;
    memset(&v, 0, sizeof v);
    memcpy(v.hdr.thread_id, b + SES_ENVELOPE_OFF_THREAD, SES_ID_BYTES);
    memcpy(v.hdr.msg_id, b + SES_ENVELOPE_OFF_MSG, SES_ID_BYTES);
    memcpy(v.hdr.sender_user_id, b + SES_ENVELOPE_OFF_SENDER_USER, SES_ID_BYTES);
    memcpy(v.hdr.sender_device_id, b + SES_ENVELOPE_OFF_SENDER_DEVICE, SES_ID_BYTES);
    v.hdr.sender_seq = get_be(b + SES_ENVELOPE_OFF_SEQ, 8);
    if (v.hdr.sender_seq == 0 || v.hdr.sender_seq > SES_ENVELOPE_SEQ_MAX)
        return SES_EBAD_ENVELOPE;
    memcpy(v.hdr.roster_hash, b + SES_ENVELOPE_OFF_ROSTER, SES_ROSTER_HASH_BYTES);
    v.hdr.created_ms = get_be(b + SES_ENVELOPE_OFF_CREATED, 8);
    v.hdr.alert_type = (uint16_t)get_be(b + SES_ENVELOPE_OFF_ALERT_TYPE, 2);
    v.hdr.severity = b[SES_ENVELOPE_OFF_SEVERITY];
    v.hdr.deadline_ms = get_be(b + SES_ENVELOPE_OFF_DEADLINE, 8);
    v.kcommit = b + SES_ENVELOPE_OFF_KCOMMIT;
    v.nonce = b + SES_ENVELOPE_OFF_NONCE;
    v.n_wraps = n;
    v.wraps = b + SES_ENVELOPE_OFF_WRAPS;
    v.header_len = h;
    v.ct = b + h + 4;
    v.ct_len = ct_len;
    v.sig = b + len - SES_SIG_BYTES;
    v.bytes = b;
    v.len = len;
    *out = v;
    return 0;
}

int ses_envelope_verify_sig(const struct ses_envelope_view *v,
                            const uint8_t sign_pk[SES_SIGN_PK_BYTES])
{
    if (v == NULL || v->bytes == NULL || sign_pk == NULL || v->len < SES_ENVELOPE_MIN ||
        v->len > SES_ENVELOPE_MAX)
        return SES_EINVALID_ARG;
    /* Ed25519 (not Ed25519ph) needs the signed bytes contiguous: context | envelope - sig */
    const size_t ctx = sizeof SES_CTX_ENVELOPE, body = v->len - SES_SIG_BYTES;
    uint8_t *m = malloc(ctx + body);
    if (m == NULL)
        return SES_ENOMEM;
    memcpy(m, SES_CTX_ENVELOPE, ctx);
    memcpy(m + ctx, v->bytes, body);
    int ok = crypto_sign_verify_detached(v->bytes + body, m, ctx + body, sign_pk) == 0;
    free(m);
    return ok ? 0 : SES_EBAD_SIGNATURE;
}

const uint8_t *ses_envelope_wrap_device(const struct ses_envelope_view *v, size_t i)
{
    if (v == NULL || v->wraps == NULL || i >= v->n_wraps)
        return NULL;
    return v->wraps + i * SES_ENVELOPE_WRAP_BYTES;
}

static int id_in(const uint8_t id[SES_ID_BYTES], const uint8_t (*list)[SES_ID_BYTES], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(list[i], id, SES_ID_BYTES) == 0)
            return 1;
    return 0;
}

static int wrapped_to(const struct ses_envelope_view *v, const uint8_t id[SES_ID_BYTES])
{
    for (size_t i = 0; i < v->n_wraps; i++)
        if (memcmp(v->wraps + i * SES_ENVELOPE_WRAP_BYTES, id, SES_ID_BYTES) == 0)
            return 1;
    return 0;
}

/* Decrypts and checks the inner plaintext; on success *body is a malloc'd copy. */
static int open_inner(const struct ses_envelope_view *v, const uint8_t key[32],
                      uint8_t *content_type, uint8_t **body, size_t *body_len)
{
    const size_t pt_len = v->ct_len - SES_ENVELOPE_TAG_BYTES;
    uint8_t *pt = malloc(pt_len);
    if (pt == NULL)
        return SES_ENOMEM;
    unsigned long long got = 0;
    int err = 0;
    size_t unpadded = 0, blen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(pt, &got, NULL, v->ct, v->ct_len, v->bytes,
                                                   v->header_len, v->nonce, key) != 0 ||
        got != pt_len)
        err = SES_EDECRYPT_FAILED;
    else if (pt[OFF_INNER_VER] != SES_ENVELOPE_INNER_VERSION || pt[OFF_INNER_CTYPE] == 0)
        err = SES_EBAD_ENVELOPE;
    else if (sodium_unpad(&unpadded, pt + SES_ENVELOPE_INNER_FIXED,
                          pt_len - SES_ENVELOPE_INNER_FIXED, SES_ENVELOPE_PAD_BLOCK) != 0 ||
             (blen = (size_t)get_be(pt + OFF_INNER_BODY_LEN, 4)) != unpadded)
        err = SES_EBAD_ENVELOPE;
    else if (memcmp(pt + OFF_INNER_USER, v->hdr.sender_user_id, SES_ID_BYTES) != 0 ||
             memcmp(pt + OFF_INNER_DEVICE, v->hdr.sender_device_id, SES_ID_BYTES) != 0 ||
             memcmp(pt + OFF_INNER_MSG, v->hdr.msg_id, SES_ID_BYTES) != 0 ||
             memcmp(pt + OFF_INNER_THREAD, v->hdr.thread_id, SES_ID_BYTES) != 0)
        err = SES_EINNER_MISMATCH;
    else if ((*body = malloc(blen > 0 ? blen : 1)) == NULL)
        err = SES_ENOMEM;
    if (err == 0) {
        if (blen > 0)
            memcpy(*body, pt + SES_ENVELOPE_INNER_FIXED, blen);
        *body_len = blen;
        *content_type = pt[OFF_INNER_CTYPE];
    }
    sodium_memzero(pt, pt_len);
    free(pt);
    return err;
}

/* Receiver steps 1-3 shared by ses_envelope_open and ses_envelope_open_rewrap: arguments,
 * structure, the sender's signature, no ghost wraps; *missing counts expected devices without a
 * wrap other than the sending one and this one. */
static int open_prelude(const uint8_t *bytes, size_t len, const uint8_t my_device_id[SES_ID_BYTES],
                        const uint8_t sender_sign_pk[SES_SIGN_PK_BYTES],
                        const uint8_t (*expected_devices)[SES_ID_BYTES], size_t n_expected,
                        struct ses_envelope_view *v, size_t *missing)
{
    int dup, err = has_duplicate_sorted(expected_devices, n_expected, &dup);
    if (err != 0)
        return err;
    if (dup)
        return SES_EINVALID_ARG;
    if ((err = ses_envelope_parse(bytes, len, v)) != 0)
        return err;
    if ((err = ses_envelope_verify_sig(v, sender_sign_pk)) != 0)
        return err;
    for (size_t i = 0; i < v->n_wraps; i++)
        if (!id_in(v->wraps + i * SES_ENVELOPE_WRAP_BYTES, expected_devices, n_expected))
            return SES_EGHOST_DEVICE;
    *missing = 0;
    for (size_t i = 0; i < n_expected; i++)
        if (memcmp(expected_devices[i], v->hdr.sender_device_id, SES_ID_BYTES) != 0 &&
            memcmp(expected_devices[i], my_device_id, SES_ID_BYTES) != 0 &&
            !wrapped_to(v, expected_devices[i]))
            *missing += 1;
    return 0;
}

/* The wrap (sealed K, 80 bytes) of device id in v, or NULL. */
static const uint8_t *wrap_of(const struct ses_envelope_view *v, const uint8_t id[SES_ID_BYTES])
{
    for (size_t i = 0; i < v->n_wraps; i++) {
        const uint8_t *w = v->wraps + i * SES_ENVELOPE_WRAP_BYTES;
        if (memcmp(w, id, SES_ID_BYTES) == 0)
            return w + SES_ID_BYTES;
    }
    return NULL;
}

/* Opens a sealed K and checks it against kcommit (DECRYPT_FAILED, BAD_COMMITMENT). */
static int unwrap_key(const struct ses_envelope_view *v, const uint8_t *sealed,
                      const uint8_t my_box_pk[SES_BOX_PK_BYTES],
                      const uint8_t my_box_sk[SES_BOX_SK_BYTES],
                      uint8_t key[SES_ENVELOPE_KEY_BYTES])
{
    uint8_t commit[SES_ENVELOPE_KCOMMIT_BYTES];
    int err = 0;
    if (crypto_box_seal_open(key, sealed, SES_ENVELOPE_SEALED_BYTES, my_box_pk, my_box_sk) != 0) {
        err = SES_EDECRYPT_FAILED;
    } else {
        ses_envelope_kcommit(commit, key, v->hdr.msg_id);
        if (sodium_memcmp(commit, v->kcommit, SES_ENVELOPE_KCOMMIT_BYTES) != 0)
            err = SES_EBAD_COMMITMENT;
    }
    sodium_memzero(commit, sizeof commit);
    if (err != 0)
        sodium_memzero(key, SES_ENVELOPE_KEY_BYTES);
    return err;
}

/* Receiver steps from the unwrap on: K from sealed (DECRYPT_FAILED), kcommit, decryption and
 * inner checks, replay; fills *out on success. */
static int open_finish(const struct ses_envelope_view *v, const uint8_t *sealed,
                       const uint8_t my_box_pk[SES_BOX_PK_BYTES],
                       const uint8_t my_box_sk[SES_BOX_SK_BYTES], uint64_t last_seen_seq,
                       size_t missing, struct ses_opened *out)
{
    uint8_t key[SES_ENVELOPE_KEY_BYTES];
    uint8_t content_type = 0, *body = NULL;
    size_t body_len = 0;
    int err = unwrap_key(v, sealed, my_box_pk, my_box_sk, key);
    if (err == 0)
        err = open_inner(v, key, &content_type, &body, &body_len);
    sodium_memzero(key, sizeof key);
    if (err == 0 && v->hdr.sender_seq <= last_seen_seq)
        err = SES_EREPLAYED;
    if (err != 0) {
        if (body != NULL) {
            sodium_memzero(body, body_len);
            free(body);
        }
        return err;
    }
    memset(out, 0, sizeof *out);
    out->hdr = v->hdr;
    out->content_type = content_type;
    out->body = body;
    out->body_len = body_len;
    out->n_wraps = v->n_wraps;
    out->n_missing = missing;
    return 0;
}

int ses_envelope_open(const uint8_t *bytes, size_t len, const uint8_t my_device_id[SES_ID_BYTES],
                      const uint8_t my_box_pk[SES_BOX_PK_BYTES],
                      const uint8_t my_box_sk[SES_BOX_SK_BYTES],
                      const uint8_t sender_sign_pk[SES_SIGN_PK_BYTES],
                      const uint8_t (*expected_devices)[SES_ID_BYTES], size_t n_expected,
                      uint64_t last_seen_seq, struct ses_opened *out)
{
    if (bytes == NULL || my_device_id == NULL || my_box_pk == NULL || my_box_sk == NULL ||
        sender_sign_pk == NULL || out == NULL || (expected_devices == NULL && n_expected > 0))
        return SES_EINVALID_ARG;
    struct ses_envelope_view v;
    size_t missing = 0;
    int err = open_prelude(bytes, len, my_device_id, sender_sign_pk, expected_devices, n_expected,
                           &v, &missing);
    if (err != 0)
        return err;
    const uint8_t *mine = wrap_of(&v, my_device_id);
    if (mine == NULL)
        return SES_ENOT_A_RECIPIENT;
    return open_finish(&v, mine, my_box_pk, my_box_sk, last_seen_seq, missing, out);
}

/* --- history re-wrap (§12) -------------------------------------------------------------------- */

_Static_assert(SES_REWRAP_STATEMENT_BYTES == 17 + 16 + 16 + 32 + 16 + 80 + 16, "statement");

void ses_rewrap_statement(uint8_t out[SES_REWRAP_STATEMENT_BYTES],
                          const uint8_t thread_id[SES_ID_BYTES], const uint8_t msg_id[SES_ID_BYTES],
                          const uint8_t kcommit[SES_ENVELOPE_KCOMMIT_BYTES],
                          const uint8_t target_device_id[SES_ID_BYTES],
                          const uint8_t sealed[SES_ENVELOPE_SEALED_BYTES],
                          const uint8_t by_device_id[SES_ID_BYTES])
{
    uint8_t *p = out;
    memcpy(p, SES_CTX_REWRAP, sizeof SES_CTX_REWRAP);
    p += sizeof SES_CTX_REWRAP;
    memcpy(p, thread_id, SES_ID_BYTES);
    p += SES_ID_BYTES;
    memcpy(p, msg_id, SES_ID_BYTES);
    p += SES_ID_BYTES;
    memcpy(p, kcommit, SES_ENVELOPE_KCOMMIT_BYTES);
    p += SES_ENVELOPE_KCOMMIT_BYTES;
    memcpy(p, target_device_id, SES_ID_BYTES);
    p += SES_ID_BYTES;
    memcpy(p, sealed, SES_ENVELOPE_SEALED_BYTES);
    p += SES_ENVELOPE_SEALED_BYTES;
    memcpy(p, by_device_id, SES_ID_BYTES);
}

int ses_rewrap_verify(const struct ses_envelope_view *v,
                      const uint8_t target_device_id[SES_ID_BYTES],
                      const uint8_t sealed[SES_ENVELOPE_SEALED_BYTES],
                      const uint8_t by_device_id[SES_ID_BYTES], const uint8_t sig[SES_SIG_BYTES],
                      const uint8_t by_sign_pk[SES_SIGN_PK_BYTES])
{
    if (v == NULL || v->kcommit == NULL || target_device_id == NULL || sealed == NULL ||
        by_device_id == NULL || sig == NULL || by_sign_pk == NULL)
        return SES_EINVALID_ARG;
    uint8_t st[SES_REWRAP_STATEMENT_BYTES];
    ses_rewrap_statement(st, v->hdr.thread_id, v->hdr.msg_id, v->kcommit, target_device_id, sealed,
                         by_device_id);
    return crypto_sign_verify_detached(sig, st, sizeof st, by_sign_pk) == 0 ? 0
                                                                            : SES_EBAD_SIGNATURE;
}

int ses_rewrap_create(const uint8_t *bytes, size_t len, const uint8_t my_device_id[SES_ID_BYTES],
                      const uint8_t my_box_pk[SES_BOX_PK_BYTES],
                      const uint8_t my_box_sk[SES_BOX_SK_BYTES],
                      const uint8_t sender_sign_pk[SES_SIGN_PK_BYTES],
                      const uint8_t my_sign_sk[SES_SIGN_SK_BYTES],
                      const uint8_t target_device_id[SES_ID_BYTES],
                      const uint8_t target_box_pk[SES_BOX_PK_BYTES],
                      uint8_t sealed[SES_ENVELOPE_SEALED_BYTES], uint8_t sig[SES_SIG_BYTES])
{
    if (bytes == NULL || my_device_id == NULL || my_box_pk == NULL || my_box_sk == NULL ||
        sender_sign_pk == NULL || my_sign_sk == NULL || target_device_id == NULL ||
        target_box_pk == NULL || sealed == NULL || sig == NULL ||
        memcmp(target_device_id, my_device_id, SES_ID_BYTES) == 0)
        return SES_EINVALID_ARG;
    struct ses_envelope_view v;
    int err = ses_envelope_parse(bytes, len, &v);
    if (err != 0 || (err = ses_envelope_verify_sig(&v, sender_sign_pk)) != 0)
        return err;
    const uint8_t *mine = wrap_of(&v, my_device_id);
    if (mine == NULL)
        return SES_ENOT_A_RECIPIENT;
    uint8_t key[SES_ENVELOPE_KEY_BYTES], out_sealed[SES_ENVELOPE_SEALED_BYTES];
    uint8_t st[SES_REWRAP_STATEMENT_BYTES];
    uint8_t content_type = 0, *body = NULL;
    size_t body_len = 0;
    if ((err = unwrap_key(&v, mine, my_box_pk, my_box_sk, key)) != 0)
        return err;
    /* only a key that really opens this message is passed on */
    err = open_inner(&v, key, &content_type, &body, &body_len);
    if (body != NULL) {
        sodium_memzero(body, body_len);
        free(body);
    }
    if (err == 0 && crypto_box_seal(out_sealed, key, SES_ENVELOPE_KEY_BYTES, target_box_pk) != 0)
        err = SES_EINVALID_ARG;
    sodium_memzero(key, sizeof key);
    if (err != 0)
        return err;
    ses_rewrap_statement(st, v.hdr.thread_id, v.hdr.msg_id, v.kcommit, target_device_id, out_sealed,
                         my_device_id);
    if (crypto_sign_detached(sig, NULL, st, sizeof st, my_sign_sk) != 0)
        return SES_EINTERNAL;
    memcpy(sealed, out_sealed, sizeof out_sealed);
    return 0;
}

int ses_envelope_open_rewrap(
    const uint8_t *bytes, size_t len, const uint8_t my_device_id[SES_ID_BYTES],
    const uint8_t my_box_pk[SES_BOX_PK_BYTES], const uint8_t my_box_sk[SES_BOX_SK_BYTES],
    const uint8_t sender_sign_pk[SES_SIGN_PK_BYTES],
    const uint8_t sealed[SES_ENVELOPE_SEALED_BYTES], const uint8_t sig[SES_SIG_BYTES],
    const uint8_t by_device_id[SES_ID_BYTES], const uint8_t by_sign_pk[SES_SIGN_PK_BYTES],
    const uint8_t (*expected_devices)[SES_ID_BYTES], size_t n_expected, uint64_t last_seen_seq,
    struct ses_opened *out)
{
    if (bytes == NULL || my_device_id == NULL || my_box_pk == NULL || my_box_sk == NULL ||
        sender_sign_pk == NULL || sealed == NULL || sig == NULL || by_device_id == NULL ||
        by_sign_pk == NULL || out == NULL || (expected_devices == NULL && n_expected > 0))
        return SES_EINVALID_ARG;
    struct ses_envelope_view v;
    size_t missing = 0;
    int err = open_prelude(bytes, len, my_device_id, sender_sign_pk, expected_devices, n_expected,
                           &v, &missing);
    if (err != 0)
        return err;
    if (wrap_of(&v, by_device_id) == NULL)
        return SES_ENOT_A_RECIPIENT; /* the re-wrapping device never had K */
    if ((err = ses_rewrap_verify(&v, my_device_id, sealed, by_device_id, sig, by_sign_pk)) != 0)
        return err;
    return open_finish(&v, sealed, my_box_pk, my_box_sk, last_seen_seq, missing, out);
}

void ses_opened_free(struct ses_opened *o)
{
    if (o == NULL)
        return;
    if (o->body != NULL) {
        sodium_memzero(o->body, o->body_len);
        free(o->body);
    }
    sodium_memzero(o, sizeof *o);
}
