/*
 * merkle.c - RFC 6962 / RFC 9162 Merkle tree: hashing, callback-based roots and proofs over stored
 * complete subtrees, the writer's frontier (append), and the RFC 9162 §2.1.3.2 / §2.1.4.2
 * verifiers. See merkle.h for the storage model.
 */
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "sesame/err.h"
#include "sesame/merkle.h"

#define HB SES_MERKLE_HASH_BYTES

void ses_merkle_leaf_hash(uint8_t out[HB], const uint8_t *data, size_t len)
{
    static const uint8_t prefix = 0x00;
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, &prefix, 1);
    if (len > 0)
        crypto_hash_sha256_update(&st, data, len);
    crypto_hash_sha256_final(&st, out);
}

void ses_merkle_node_hash(uint8_t out[HB], const uint8_t left[HB], const uint8_t right[HB])
{
    uint8_t buf[1 + 2 * HB];
    buf[0] = 0x01;
    memcpy(buf + 1, left, HB);
    memcpy(buf + 1 + HB, right, HB);
    crypto_hash_sha256(out, buf, sizeof buf);
}

void ses_merkle_empty_root(uint8_t out[HB])
{
    crypto_hash_sha256(out, NULL, 0);
}

static bool hash_eq(const uint8_t a[HB], const uint8_t b[HB])
{
    return sodium_memcmp(a, b, HB) == 0;
}

/* Callback results: 0 stays 0, negatives pass through, positives become SES_EINTERNAL. */
static int cb_rc(int rc)
{
    return rc > 0 ? SES_EINTERNAL : rc;
}

/* Largest power of two strictly smaller than n (n >= 2, n <= 2^63). */
static uint64_t split_point(uint64_t n)
{
    uint64_t k = 1;
    while ((k << 1) < n)
        k <<= 1;
    return k;
}

/* Hash of the tree node covering leaves [start, end) of a left-balanced tree (start < end, start a
 * multiple of the largest power of two <= end - start). A perfect range is one read; otherwise the
 * range is the perfect pieces given by the bits of end - start, folded from the right. */
static int range_hash(ses_merkle_get_fn get, void *ud, uint64_t start, uint64_t end,
                      uint8_t out[HB])
{
    uint64_t n = end - start, pos = end;
    bool have = false;
    for (unsigned level = 0; level < SES_MERKLE_LEVELS; level++) {
        if (((n >> level) & 1) == 0)
            continue;
        uint8_t h[HB];
        pos -= (uint64_t)1 << level;
        int rc = cb_rc(get(ud, level, pos >> level, h));
        if (rc != 0)
            return rc;
        if (have)
            ses_merkle_node_hash(out, h, out);
        else
            memcpy(out, h, HB);
        have = true;
    }
    return 0;
}

int ses_merkle_root(ses_merkle_get_fn get, void *ud, uint64_t size, uint8_t out[HB])
{
    if (get == NULL || out == NULL || size > SES_MERKLE_MAX_SIZE)
        return SES_EINVALID_ARG;
    if (size == 0) {
        ses_merkle_empty_root(out);
        return 0;
    }
    return range_hash(get, ud, 0, size, out);
}

/* Reverses proof[0..n) in place: the walks below collect siblings from the root down, proofs are
 * ordered from the leaf up. */
static void reverse(uint8_t proof[][HB], size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        uint8_t t[HB];
        memcpy(t, proof[i], HB);
        memcpy(proof[i], proof[n - 1 - i], HB);
        memcpy(proof[n - 1 - i], t, HB);
    }
}

int ses_merkle_inclusion_proof(ses_merkle_get_fn get, void *ud, uint64_t index, uint64_t size,
                               uint8_t proof[SES_MERKLE_MAX_PROOF][HB], size_t *count)
{
    if (count != NULL)
        *count = 0;
    if (get == NULL || proof == NULL || count == NULL || size > SES_MERKLE_MAX_SIZE ||
        index >= size)
        return SES_EINVALID_ARG;
    /* RFC 9162 §2.1.3.1 PATH(m, D[n]), unrolled: descend from the root towards the leaf. */
    uint64_t lo = 0, n = size, m = index;
    size_t c = 0;
    while (n > 1) {
        uint64_t k = split_point(n);
        int rc;
        if (m < k) {
            rc = range_hash(get, ud, lo + k, lo + n, proof[c]);
            n = k;
        } else {
            rc = range_hash(get, ud, lo, lo + k, proof[c]);
            lo += k;
            m -= k;
            n -= k;
        }
        if (rc != 0)
            return rc;
        c++;
    }
    reverse(proof, c);
    *count = c;
    return 0;
}

int ses_merkle_consistency_proof(ses_merkle_get_fn get, void *ud, uint64_t size1, uint64_t size2,
                                 uint8_t proof[SES_MERKLE_MAX_PROOF][HB], size_t *count)
{
    if (count != NULL)
        *count = 0;
    if (get == NULL || proof == NULL || count == NULL || size2 > SES_MERKLE_MAX_SIZE ||
        size1 > size2)
        return SES_EINVALID_ARG;
    if (size1 == 0 || size1 == size2)
        return 0;
    /* RFC 9162 §2.1.4.1 SUBPROOF(m, D[n], b), unrolled from the root down. */
    uint64_t lo = 0, n = size2, m = size1;
    bool whole = true; /* b: the current subtree is still the whole old tree's left edge */
    size_t c = 0;
    int rc = 0;
    for (;;) {
        if (m == n) {
            if (!whole)
                rc = range_hash(get, ud, lo, lo + n, proof[c++]);
            break;
        }
        uint64_t k = split_point(n);
        if (m <= k) {
            rc = range_hash(get, ud, lo + k, lo + n, proof[c++]);
            n = k;
        } else {
            rc = range_hash(get, ud, lo, lo + k, proof[c++]);
            lo += k;
            m -= k;
            n -= k;
            whole = false;
        }
        if (rc != 0)
            break;
    }
    if (rc != 0)
        return rc;
    reverse(proof, c);
    *count = c;
    return 0;
}

int ses_merkle_verify_inclusion(const uint8_t leaf_hash[HB], uint64_t index, uint64_t size,
                                const uint8_t (*proof)[HB], size_t count, const uint8_t root[HB])
{
    if (leaf_hash == NULL || root == NULL || (proof == NULL && count > 0) ||
        size > SES_MERKLE_MAX_SIZE || index >= size)
        return SES_EINVALID_ARG;
    if (count > SES_MERKLE_MAX_PROOF)
        return SES_EAUTH_FAILED;
    uint64_t fn = index, sn = size - 1;
    uint8_t r[HB];
    memcpy(r, leaf_hash, HB);
    for (size_t i = 0; i < count; i++) {
        if (sn == 0)
            return SES_EAUTH_FAILED; /* proof too long */
        if ((fn & 1) == 1 || fn == sn) {
            ses_merkle_node_hash(r, proof[i], r);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            ses_merkle_node_hash(r, r, proof[i]);
        }
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && hash_eq(r, root) ? 0 : SES_EAUTH_FAILED;
}

int ses_merkle_verify_consistency(uint64_t size1, uint64_t size2, const uint8_t root1[HB],
                                  const uint8_t root2[HB], const uint8_t (*proof)[HB], size_t count)
{
    if (root1 == NULL || root2 == NULL || (proof == NULL && count > 0) ||
        size2 > SES_MERKLE_MAX_SIZE || size1 > size2)
        return SES_EINVALID_ARG;
    uint8_t empty[HB];
    ses_merkle_empty_root(empty);
    if (size1 == size2) {
        if (count != 0 || !hash_eq(root1, root2))
            return SES_EAUTH_FAILED;
        return size1 != 0 || hash_eq(root1, empty) ? 0 : SES_EAUTH_FAILED;
    }
    if (size1 == 0) /* see merkle.h: accepted with an empty proof from the genuine empty root */
        return count == 0 && hash_eq(root1, empty) ? 0 : SES_EAUTH_FAILED;
    if (count == 0 || count > SES_MERKLE_MAX_PROOF)
        return SES_EAUTH_FAILED;

    /* RFC 9162 §2.1.4.2. If size1 is a power of two, root1 is the implicit first path element. */
    bool pow2 = (size1 & (size1 - 1)) == 0;
    size_t total = count + (pow2 ? 1 : 0);
#define PATH(i) (pow2 ? ((i) == 0 ? root1 : proof[(i)-1]) : proof[(i)])
    uint64_t fn = size1 - 1, sn = size2 - 1;
    while ((fn & 1) == 1) {
        fn >>= 1;
        sn >>= 1;
    }
    uint8_t fr[HB], sr[HB];
    memcpy(fr, PATH(0), HB);
    memcpy(sr, PATH(0), HB);
    for (size_t i = 1; i < total; i++) {
        const uint8_t *c = PATH(i);
        if (sn == 0)
            return SES_EAUTH_FAILED; /* proof too long */
        if ((fn & 1) == 1 || fn == sn) {
            ses_merkle_node_hash(fr, c, fr);
            ses_merkle_node_hash(sr, c, sr);
            while ((fn & 1) == 0 && fn != 0) {
                fn >>= 1;
                sn >>= 1;
            }
        } else {
            ses_merkle_node_hash(sr, sr, c);
        }
        fn >>= 1;
        sn >>= 1;
    }
#undef PATH
    return sn == 0 && hash_eq(fr, root1) && hash_eq(sr, root2) ? 0 : SES_EAUTH_FAILED;
}

void ses_merkle_frontier_init(struct ses_merkle_frontier *f)
{
    memset(f, 0, sizeof *f);
}

int ses_merkle_frontier_load(struct ses_merkle_frontier *f, uint64_t size, ses_merkle_get_fn get,
                             void *ud)
{
    if (f == NULL)
        return SES_EINVALID_ARG;
    ses_merkle_frontier_init(f);
    if (get == NULL || size > SES_MERKLE_MAX_SIZE)
        return SES_EINVALID_ARG;
    for (unsigned level = 0; level < SES_MERKLE_LEVELS; level++) {
        if (((size >> level) & 1) == 0)
            continue;
        int rc = cb_rc(get(ud, level, (size >> level) - 1, f->node[level]));
        if (rc != 0) {
            ses_merkle_frontier_init(f);
            return rc;
        }
    }
    f->size = size;
    return 0;
}

int ses_merkle_append(struct ses_merkle_frontier *f, const uint8_t leaf_hash[HB],
                      ses_merkle_emit_fn emit, void *ud)
{
    if (f == NULL || leaf_hash == NULL || f->size >= SES_MERKLE_MAX_SIZE)
        return SES_EINVALID_ARG;
    /* made[l] = the new complete subtree at level l; the carry chain of size + 1. */
    uint8_t made[SES_MERKLE_LEVELS][HB];
    unsigned top = 0;
    memcpy(made[0], leaf_hash, HB);
    while (((f->size >> top) & 1) == 1) {
        ses_merkle_node_hash(made[top + 1], f->node[top], made[top]);
        top++;
    }
    uint64_t next = f->size + 1;
    if (emit != NULL) {
        for (unsigned level = 0; level <= top; level++) {
            int rc = cb_rc(emit(ud, level, (next >> level) - 1, made[level]));
            if (rc != 0)
                return rc;
        }
    }
    memcpy(f->node[top], made[top], HB);
    f->size = next;
    return 0;
}

void ses_merkle_frontier_root(const struct ses_merkle_frontier *f, uint8_t out[HB])
{
    bool have = false;
    for (unsigned level = 0; level < SES_MERKLE_LEVELS; level++) {
        if (((f->size >> level) & 1) == 0)
            continue;
        if (have)
            ses_merkle_node_hash(out, f->node[level], out);
        else
            memcpy(out, f->node[level], HB);
        have = true;
    }
    if (!have)
        ses_merkle_empty_root(out);
}
