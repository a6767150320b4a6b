/*
 * test_merkle.c - unit tests of the RFC 6962 / RFC 9162 Merkle tree (merkle.h): known answers from
 * the Certificate Transparency reference tests, the appender against an in-test reference MTH,
 * every inclusion and consistency proof of trees up to 64 leaves (generated through the callback
 * API, compared with the RFC 6962 recursive definitions, verified, and tampered with), read counts
 * at very large sizes, and error propagation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "sesame/err.h"
#include "sesame/merkle.h"

#define HB SES_MERKLE_HASH_BYTES
#define NMAX 64

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

static void hex32(uint8_t out[HB], const char *hex)
{
    size_t n = 0;
    assert_int_equal(strlen(hex), 2 * HB);
    assert_int_equal(sodium_hex2bin(out, HB, hex, 2 * HB, NULL, &n, NULL), 0);
    assert_int_equal(n, HB);
}

static void assert_hash_hex(const uint8_t h[HB], const char *hex)
{
    uint8_t want[HB];
    hex32(want, hex);
    assert_memory_equal(h, want, HB);
}

/* --- known answers --------------------------------------------------------------------------- */

/* Leaf inputs of the Certificate Transparency reference tests (hex), as in
 * transparency-dev/merkle testonly/constants.go LeafInputs(). */
static const char *const ct_leaf_hex[8] = {
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
};

/* Roots of the trees of 0..8 of those leaves: transparency-dev/merkle testonly/constants.go
 * RootHashes() (the same values as the CT C++/Go reference tests). */
static const char *const ct_root_hex[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

/* Every complete subtree of the 8-leaf tree, [level][index]: transparency-dev/merkle
 * testonly/constants.go NodeHashes(). */
static const char *const ct_node_hex[4][8] = {
    {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    },
    {
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    },
    {
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    },
    {
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    },
};

/* Published proofs over the 8 CT leaves: transparency-dev/merkle cmd/proofgen/main.go
 * inclusionProofs / consistencyProofs (its 1-based leaf numbers converted to 0-based indices), the
 * same as testdata/{inclusion,consistency}/N/happy-path.json. */
struct kat_proof {
    uint64_t a, b; /* inclusion: index, size; consistency: size1, size2 */
    size_t n;
    const char *hex[3];
};

static const struct kat_proof ct_inclusion[] = {
    {0, 1, 0, {NULL}},
    {0,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     3,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, 1, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {1,
     5,
     3,
     {"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
};

static const struct kat_proof ct_consistency[] = {
    {1, 1, 0, {NULL}},
    {1,
     8,
     3,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     2,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {6,
     7,
     3,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
};

/* --- in-test reference (RFC 6962 §2.1 recursive definitions over an array) -------------------- */

static uint64_t ref_split(uint64_t n) /* largest power of two < n, n >= 2 */
{
    uint64_t k = (uint64_t)1 << 62;
    while (k >= n)
        k >>= 1;
    return k;
}

static void ref_mth(uint8_t out[HB], const uint8_t (*l)[HB], uint64_t n)
{
    if (n == 0) {
        crypto_hash_sha256(out, NULL, 0);
    } else if (n == 1) {
        memcpy(out, l[0], HB);
    } else {
        uint64_t k = ref_split(n);
        uint8_t buf[1 + 2 * HB];
        buf[0] = 0x01;
        ref_mth(buf + 1, l, k);
        ref_mth(buf + 1 + HB, l + k, n - k);
        crypto_hash_sha256(out, buf, sizeof buf);
    }
}

/* PATH(m, D[n]) */
static size_t ref_path(uint8_t out[][HB], uint64_t m, const uint8_t (*l)[HB], uint64_t n)
{
    if (n <= 1)
        return 0;
    uint64_t k = ref_split(n);
    size_t c;
    if (m < k) {
        c = ref_path(out, m, l, k);
        ref_mth(out[c], l + k, n - k);
    } else {
        c = ref_path(out, m - k, l + k, n - k);
        ref_mth(out[c], l, k);
    }
    return c + 1;
}

/* SUBPROOF(m, D[n], b) */
static size_t ref_subproof(uint8_t out[][HB], uint64_t m, const uint8_t (*l)[HB], uint64_t n,
                           bool b)
{
    if (m == n) {
        if (b)
            return 0;
        ref_mth(out[0], l, n);
        return 1;
    }
    uint64_t k = ref_split(n);
    size_t c;
    if (m <= k) {
        c = ref_subproof(out, m, l, k, b);
        ref_mth(out[c], l + k, n - k);
    } else {
        c = ref_subproof(out, m - k, l + k, n - k, false);
        ref_mth(out[c], l, k);
    }
    return c + 1;
}

/* --- a store of complete subtrees, filled by the appender ------------------------------------ */

struct store {
    uint8_t node[7][NMAX][HB]; /* levels 0..6 of a 64-leaf tree */
    uint64_t count[7];         /* nodes emitted per level (they arrive left to right) */
    uint64_t view;             /* the tree size the code under test was given */
    unsigned reads;
    int fail_level; /* get/emit fails at this level (-1: never) */
    int fail_rc;
};

static int store_get(void *ud, unsigned level, uint64_t index, uint8_t out[HB])
{
    struct store *s = ud;
    s->reads++;
    if ((int)level == s->fail_level)
        return s->fail_rc;
    /* contract: only complete subtrees inside the tree size that was asked about */
    assert_true(level < 7);
    assert_true(((index + 1) << level) <= s->view);
    assert_true(index < s->count[level]);
    memcpy(out, s->node[level][index], HB);
    return 0;
}

static int store_emit(void *ud, unsigned level, uint64_t index, const uint8_t hash[HB])
{
    struct store *s = ud;
    if ((int)level == s->fail_level)
        return s->fail_rc;
    assert_true(level < 7);
    assert_int_equal(index, s->count[level]); /* in order, none skipped or repeated */
    memcpy(s->node[level][index], hash, HB);
    s->count[level]++;
    return 0;
}

/* 64 leaves: the 8 CT inputs, then "sesame leaf <i>". */
static void make_leaves(uint8_t leaves[NMAX][HB])
{
    for (int i = 0; i < NMAX; i++) {
        uint8_t data[64];
        size_t n = 0;
        if (i < 8) {
            size_t hl = strlen(ct_leaf_hex[i]);
            if (hl > 0)
                assert_int_equal(
                    sodium_hex2bin(data, sizeof data, ct_leaf_hex[i], hl, NULL, &n, NULL), 0);
        } else {
            n = (size_t)snprintf((char *)data, sizeof data, "sesame leaf %d", i);
        }
        ses_merkle_leaf_hash(leaves[i], data, n);
    }
}

/* Fills the store by appending all 64 leaves. */
static void build_store(struct store *s, uint8_t leaves[NMAX][HB])
{
    struct ses_merkle_frontier f;
    memset(s, 0, sizeof *s);
    s->fail_level = -1;
    make_leaves(leaves);
    ses_merkle_frontier_init(&f);
    for (int i = 0; i < NMAX; i++)
        assert_int_equal(ses_merkle_append(&f, leaves[i], store_emit, s), 0);
    assert_int_equal(f.size, NMAX);
}

/* --- tests ----------------------------------------------------------------------------------- */

static void test_hash_known_answers(void **state)
{
    (void)state;
    uint8_t h[HB], l0[HB], l1[HB];
    ses_merkle_empty_root(h);
    assert_hash_hex(h, ct_root_hex[0]);
    ses_merkle_leaf_hash(l0, NULL, 0);
    assert_hash_hex(l0, ct_node_hex[0][0]);
    ses_merkle_leaf_hash(l1, (const uint8_t *)"\x00", 1);
    assert_hash_hex(l1, ct_node_hex[0][1]);
    ses_merkle_node_hash(h, l0, l1);
    assert_hash_hex(h, ct_node_hex[1][0]);
    /* aliasing out with an input is allowed */
    memcpy(h, l0, HB);
    ses_merkle_node_hash(h, h, l1);
    assert_hash_hex(h, ct_node_hex[1][0]);
}

static void test_ct_roots_and_nodes(void **state)
{
    (void)state;
    static struct store s;
    uint8_t leaves[NMAX][HB], h[HB];
    build_store(&s, leaves);
    for (int level = 0; level < 4; level++)
        for (int i = 0; i < (8 >> level); i++)
            assert_hash_hex(s.node[level][i], ct_node_hex[level][i]);

    struct ses_merkle_frontier f;
    ses_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= 8; n++) {
        if (n > 0)
            assert_int_equal(ses_merkle_append(&f, leaves[n - 1], NULL, NULL), 0);
        ref_mth(h, (const uint8_t(*)[HB])leaves, n);
        assert_hash_hex(h, ct_root_hex[n]);
        ses_merkle_frontier_root(&f, h);
        assert_hash_hex(h, ct_root_hex[n]);
        s.view = n;
        s.reads = 0;
        assert_int_equal(ses_merkle_root(store_get, &s, n, h), 0);
        assert_hash_hex(h, ct_root_hex[n]);
        assert_int_equal(s.reads, __builtin_popcountll(n));
    }
}

static void test_ct_proof_vectors(void **state)
{
    (void)state;
    static struct store s;
    uint8_t leaves[NMAX][HB], proof[SES_MERKLE_MAX_PROOF][HB], root[HB], root1[HB];
    size_t count = 99;
    build_store(&s, leaves);
    for (size_t v = 0; v < sizeof ct_inclusion / sizeof ct_inclusion[0]; v++) {
        const struct kat_proof *k = &ct_inclusion[v];
        s.view = k->b;
        assert_int_equal(ses_merkle_inclusion_proof(store_get, &s, k->a, k->b, proof, &count), 0);
        assert_int_equal(count, k->n);
        for (size_t i = 0; i < k->n; i++)
            assert_hash_hex(proof[i], k->hex[i]);
        hex32(root, ct_root_hex[k->b]);
        assert_int_equal(ses_merkle_verify_inclusion(leaves[k->a], k->a, k->b,
                                                     (const uint8_t(*)[HB])proof, count, root),
                         0);
    }
    for (size_t v = 0; v < sizeof ct_consistency / sizeof ct_consistency[0]; v++) {
        const struct kat_proof *k = &ct_consistency[v];
        s.view = k->b;
        assert_int_equal(ses_merkle_consistency_proof(store_get, &s, k->a, k->b, proof, &count), 0);
        assert_int_equal(count, k->n);
        for (size_t i = 0; i < k->n; i++)
            assert_hash_hex(proof[i], k->hex[i]);
        hex32(root1, ct_root_hex[k->a]);
        hex32(root, ct_root_hex[k->b]);
        assert_int_equal(ses_merkle_verify_consistency(k->a, k->b, root1, root,
                                                       (const uint8_t(*)[HB])proof, count),
                         0);
    }
}

/* Tampered variants from transparency-dev/merkle testdata/consistency/1/ (sizes 1 -> 8) and
 * testdata/inclusion/2/ (leaf 5 of 8), transcribed: each must fail. */
static void test_tdm_tampered_vectors(void **state)
{
    (void)state;
    uint8_t p[4][HB], r1[HB], r8[HB], leaf5[HB], empty[HB];
    hex32(r1, ct_root_hex[1]);
    hex32(r8, ct_root_hex[8]);
    hex32(empty, ct_root_hex[0]);
    for (int i = 0; i < 3; i++)
        hex32(p[i], ct_consistency[1].hex[i]);
    const uint8_t(*cp)[HB] = (const uint8_t(*)[HB])p;
    assert_int_equal(ses_merkle_verify_consistency(1, 8, r1, r8, cp, 3), 0);
    /* empty-proof, truncated-proof, swapped-roots, size2-div-@2, size2-mul-@2, size1-plus-@1 */
    assert_int_equal(ses_merkle_verify_consistency(1, 8, r1, r8, cp, 0), SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_consistency(1, 8, r1, r8, cp, 2), SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_consistency(1, 8, r8, r1, cp, 3), SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_consistency(1, 4, r1, r8, cp, 3), SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_consistency(1, 16, r1, r8, cp, 3), SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_consistency(2, 8, r1, r8, cp, 3), SES_EAUTH_FAILED);
    /* preceding-proof-@0 (the proof's first node repeated in front) */
    uint8_t q[4][HB];
    memcpy(q[0], p[0], HB);
    memcpy(q[1], p, 3 * HB);
    assert_int_equal(ses_merkle_verify_consistency(1, 8, r1, r8, (const uint8_t(*)[HB])q, 4),
                     SES_EAUTH_FAILED);
    /* additional/consistency-check-on-empty-tree-size1-is-zero-is-useless: 0 -> 1 with a node */
    assert_int_equal(
        ses_merkle_verify_consistency(0, 1, empty, empty, (const uint8_t(*)[HB]) & empty, 1),
        SES_EAUTH_FAILED);
    /* additional/sizes-match-but-proof-is-not-empty-and-sizes-are-{zero,one} */
    assert_int_equal(
        ses_merkle_verify_consistency(0, 0, empty, empty, (const uint8_t(*)[HB]) & empty, 1),
        SES_EAUTH_FAILED);
    assert_int_equal(
        ses_merkle_verify_consistency(1, 1, empty, empty, (const uint8_t(*)[HB]) & empty, 1),
        SES_EAUTH_FAILED);

    hex32(leaf5, ct_node_hex[0][5]);
    for (int i = 0; i < 3; i++)
        hex32(p[i], ct_inclusion[2].hex[i]);
    assert_int_equal(ses_merkle_verify_inclusion(leaf5, 5, 8, cp, 3, r8), 0);
    /* leafIdx-plus-@1, leafIdx-sub-@1, leafIdx-XOR-@2, treeSize-div-@2, treeSize-mul-@2,
     * removed-component, empty-root, wrong root */
    assert_int_equal(ses_merkle_verify_inclusion(leaf5, 6, 8, cp, 3, r8), SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_inclusion(leaf5, 4, 8, cp, 3, r8), SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_inclusion(leaf5, 7, 8, cp, 3, r8), SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_inclusion(leaf5, 5, 4, cp, 3, r8), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_inclusion(leaf5, 5, 16, cp, 3, r8), SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_inclusion(leaf5, 5, 8, cp, 2, r8), SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_inclusion(leaf5, 5, 8, cp, 3, empty), SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_inclusion(leaf5, 5, 8, cp, 3, r1), SES_EAUTH_FAILED);
    /* inserted-component: an extra node anywhere */
    for (int at = 0; at <= 3; at++) {
        uint8_t ins[4][HB];
        for (int i = 0, j = 0; i < 4; i++)
            memcpy(ins[i], i == at ? r8 : p[j++], HB);
        assert_int_equal(ses_merkle_verify_inclusion(leaf5, 5, 8, (const uint8_t(*)[HB])ins, 4, r8),
                         SES_EAUTH_FAILED);
    }
    /* single-entry/matching-root-and-leaf: size 1, empty proof, root == leaf hash */
    assert_int_equal(ses_merkle_verify_inclusion(leaf5, 0, 1, NULL, 0, leaf5), 0);
    assert_int_equal(ses_merkle_verify_inclusion(leaf5, 0, 1, NULL, 0, r8), SES_EAUTH_FAILED);
}

static void test_appender_matches_reference(void **state)
{
    (void)state;
    static struct store s;
    uint8_t leaves[NMAX][HB], want[HB], got[HB];
    build_store(&s, leaves);
    /* every complete subtree of the 64-leaf tree was emitted exactly once and is right */
    for (unsigned level = 0; level < 7; level++) {
        assert_int_equal(s.count[level], NMAX >> level);
        for (uint64_t i = 0; i < s.count[level]; i++) {
            ref_mth(want, (const uint8_t(*)[HB])leaves + (i << level), (uint64_t)1 << level);
            assert_memory_equal(s.node[level][i], want, HB);
        }
    }
    /* the frontier's root and a frontier reloaded from the store agree with MTH at every size */
    struct ses_merkle_frontier f, g;
    ses_merkle_frontier_init(&f);
    for (uint64_t n = 0; n <= NMAX; n++) {
        if (n > 0)
            assert_int_equal(ses_merkle_append(&f, leaves[n - 1], NULL, NULL), 0);
        assert_int_equal(f.size, n);
        ref_mth(want, (const uint8_t(*)[HB])leaves, n);
        ses_merkle_frontier_root(&f, got);
        assert_memory_equal(got, want, HB);
        s.view = n;
        s.reads = 0;
        assert_int_equal(ses_merkle_frontier_load(&g, n, store_get, &s), 0);
        assert_int_equal(s.reads, __builtin_popcountll(n));
        assert_int_equal(g.size, n);
        for (unsigned level = 0; level < SES_MERKLE_LEVELS; level++)
            if ((n >> level) & 1)
                assert_memory_equal(g.node[level], f.node[level], HB);
        ses_merkle_frontier_root(&g, got);
        assert_memory_equal(got, want, HB);
        assert_int_equal(ses_merkle_root(store_get, &s, n, got), 0);
        assert_memory_equal(got, want, HB);
    }
}

static void test_inclusion_all_sizes(void **state)
{
    (void)state;
    static struct store s;
    uint8_t leaves[NMAX][HB], roots[NMAX + 1][HB];
    uint8_t proof[SES_MERKLE_MAX_PROOF][HB], ref[SES_MERKLE_MAX_PROOF][HB],
        bad[SES_MERKLE_MAX_PROOF + 1][HB];
    build_store(&s, leaves);
    for (uint64_t n = 0; n <= NMAX; n++)
        ref_mth(roots[n], (const uint8_t(*)[HB])leaves, n);
    unsigned checked = 0;
    for (uint64_t n = 1; n <= NMAX; n++) {
        for (uint64_t i = 0; i < n; i++) {
            size_t count = 99;
            s.view = n;
            s.reads = 0;
            assert_int_equal(ses_merkle_inclusion_proof(store_get, &s, i, n, proof, &count), 0);
            size_t rc = ref_path(ref, i, (const uint8_t(*)[HB])leaves, n);
            assert_int_equal(count, rc);
            assert_memory_equal(proof, ref, count * HB);
            assert_true(s.reads <= 2 * 6);
            const uint8_t(*p)[HB] = (const uint8_t(*)[HB])proof;
            assert_int_equal(ses_merkle_verify_inclusion(leaves[i], i, n, p, count, roots[n]), 0);
            checked++;

            /* a bit flipped in any element */
            for (size_t e = 0; e < count; e++) {
                memcpy(bad, proof, count * HB);
                bad[e][(e * 7 + i) % HB] ^= (uint8_t)(1u << ((e + i) % 8));
                assert_int_equal(ses_merkle_verify_inclusion(
                                     leaves[i], i, n, (const uint8_t(*)[HB])bad, count, roots[n]),
                                 SES_EAUTH_FAILED);
            }
            /* wrong leaf, wrong root */
            assert_int_equal(
                ses_merkle_verify_inclusion(leaves[(i + 1) % NMAX], i, n, p, count, roots[n]),
                SES_EAUTH_FAILED);
            assert_int_equal(ses_merkle_verify_inclusion(leaves[i], i, n, p, count, roots[n - 1]),
                             SES_EAUTH_FAILED);
            /* every other index */
            for (uint64_t j = 0; j < n + 2; j++) {
                if (j == i)
                    continue;
                assert_int_equal(ses_merkle_verify_inclusion(leaves[i], j, n, p, count, roots[n]),
                                 j < n ? SES_EAUTH_FAILED : SES_EINVALID_ARG);
            }
            /* one element short, one extra (trailing garbage), one extra in front */
            if (count > 0)
                assert_int_equal(
                    ses_merkle_verify_inclusion(leaves[i], i, n, p, count - 1, roots[n]),
                    SES_EAUTH_FAILED);
            memcpy(bad, proof, count * HB);
            memcpy(bad[count], roots[n], HB);
            assert_int_equal(ses_merkle_verify_inclusion(leaves[i], i, n, (const uint8_t(*)[HB])bad,
                                                         count + 1, roots[n]),
                             SES_EAUTH_FAILED);
            memcpy(bad[0], leaves[i], HB);
            memcpy(bad[1], proof, count * HB);
            assert_int_equal(ses_merkle_verify_inclusion(leaves[i], i, n, (const uint8_t(*)[HB])bad,
                                                         count + 1, roots[n]),
                             SES_EAUTH_FAILED);
            /* claimed in another tree size (with that tree's true root): accepted only where
             * the RFC 6962 path for that size is the very same list of nodes */
            for (uint64_t n2 = 1; n2 <= NMAX; n2++) {
                if (n2 == n)
                    continue;
                if (i >= n2) {
                    assert_int_equal(
                        ses_merkle_verify_inclusion(leaves[i], i, n2, p, count, roots[n2]),
                        SES_EINVALID_ARG);
                    continue;
                }
                size_t c2 = ref_path(ref, i, (const uint8_t(*)[HB])leaves, n2);
                bool same = c2 == count && memcmp(ref, proof, count * HB) == 0;
                assert_int_equal(ses_merkle_verify_inclusion(leaves[i], i, n2, p, count, roots[n2]),
                                 same ? 0 : SES_EAUTH_FAILED);
            }
        }
    }
    assert_int_equal(checked, NMAX * (NMAX + 1) / 2);
}

static void test_consistency_all_sizes(void **state)
{
    (void)state;
    static struct store s;
    uint8_t leaves[NMAX][HB], roots[NMAX + 1][HB];
    uint8_t proof[SES_MERKLE_MAX_PROOF][HB], ref[SES_MERKLE_MAX_PROOF][HB],
        bad[SES_MERKLE_MAX_PROOF + 1][HB];
    build_store(&s, leaves);
    for (uint64_t n = 0; n <= NMAX; n++)
        ref_mth(roots[n], (const uint8_t(*)[HB])leaves, n);
    unsigned checked = 0;
    for (uint64_t n = 1; n <= NMAX; n++) {
        /* from the empty tree: empty proof, and only from the genuine empty root */
        size_t count = 99;
        s.view = n;
        s.reads = 0;
        assert_int_equal(ses_merkle_consistency_proof(store_get, &s, 0, n, proof, &count), 0);
        assert_int_equal(count, 0);
        assert_int_equal(s.reads, 0);
        assert_int_equal(ses_merkle_verify_consistency(0, n, roots[0], roots[n], NULL, 0), 0);
        assert_int_equal(ses_merkle_verify_consistency(0, n, roots[1], roots[n], NULL, 0),
                         SES_EAUTH_FAILED);
        assert_int_equal(
            ses_merkle_verify_consistency(0, n, roots[0], roots[n], (const uint8_t(*)[HB])roots, 1),
            SES_EAUTH_FAILED);

        for (uint64_t m = 1; m <= n; m++) {
            s.view = n;
            s.reads = 0;
            assert_int_equal(ses_merkle_consistency_proof(store_get, &s, m, n, proof, &count), 0);
            size_t rc = m == n ? 0 : ref_subproof(ref, m, (const uint8_t(*)[HB])leaves, n, true);
            assert_int_equal(count, rc);
            assert_memory_equal(proof, ref, count * HB);
            assert_true(s.reads <= 2 * 7);
            const uint8_t(*p)[HB] = (const uint8_t(*)[HB])proof;
            assert_int_equal(ses_merkle_verify_consistency(m, n, roots[m], roots[n], p, count), 0);
            checked++;

            for (size_t e = 0; e < count; e++) {
                memcpy(bad, proof, count * HB);
                bad[e][(e * 5 + m) % HB] ^= (uint8_t)(1u << ((e + n) % 8));
                assert_int_equal(ses_merkle_verify_consistency(m, n, roots[m], roots[n],
                                                               (const uint8_t(*)[HB])bad, count),
                                 SES_EAUTH_FAILED);
            }
            if (count > 0)
                assert_int_equal(
                    ses_merkle_verify_consistency(m, n, roots[m], roots[n], p, count - 1),
                    SES_EAUTH_FAILED);
            memcpy(bad, proof, count * HB);
            memcpy(bad[count], roots[n], HB);
            assert_int_equal(ses_merkle_verify_consistency(m, n, roots[m], roots[n],
                                                           (const uint8_t(*)[HB])bad, count + 1),
                             SES_EAUTH_FAILED);
            memcpy(bad[0], roots[m], HB);
            memcpy(bad[1], proof, count * HB);
            assert_int_equal(ses_merkle_verify_consistency(m, n, roots[m], roots[n],
                                                           (const uint8_t(*)[HB])bad, count + 1),
                             SES_EAUTH_FAILED);
            if (m < n) {
                /* swapped roots, wrong first root, wrong second root */
                assert_int_equal(ses_merkle_verify_consistency(m, n, roots[n], roots[m], p, count),
                                 SES_EAUTH_FAILED);
                assert_int_equal(
                    ses_merkle_verify_consistency(m, n, roots[m - 1], roots[n], p, count),
                    SES_EAUTH_FAILED);
                assert_int_equal(
                    ses_merkle_verify_consistency(m, n, roots[m], roots[n - 1], p, count),
                    SES_EAUTH_FAILED);
                /* same two trees, other claimed first size (with its true root): accepted
                 * only where the RFC 6962 proof is the very same list of nodes */
                for (uint64_t m2 = 1; m2 < n; m2++) {
                    if (m2 == m)
                        continue;
                    size_t c2 = ref_subproof(ref, m2, (const uint8_t(*)[HB])leaves, n, true);
                    bool same = c2 == count && memcmp(ref, proof, count * HB) == 0;
                    assert_int_equal(
                        ses_merkle_verify_consistency(m2, n, roots[m2], roots[n], p, count),
                        same ? 0 : SES_EAUTH_FAILED);
                }
                /* other claimed second size (with its true root) */
                for (uint64_t n2 = m + 1; n2 <= NMAX; n2++) {
                    if (n2 == n)
                        continue;
                    size_t c2 = ref_subproof(ref, m, (const uint8_t(*)[HB])leaves, n2, true);
                    bool same = c2 == count && memcmp(ref, proof, count * HB) == 0;
                    assert_int_equal(
                        ses_merkle_verify_consistency(m, n2, roots[m], roots[n2], p, count),
                        same ? 0 : SES_EAUTH_FAILED);
                }
                assert_int_equal(ses_merkle_verify_consistency(n, m, roots[n], roots[m], p, count),
                                 SES_EINVALID_ARG);
            } else {
                assert_int_equal(ses_merkle_verify_consistency(m, m, roots[m], roots[m - 1], p, 0),
                                 SES_EAUTH_FAILED);
            }
        }
    }
    assert_int_equal(checked, NMAX * (NMAX + 1) / 2);
    /* both sizes zero: empty proof, both roots the empty root */
    assert_int_equal(ses_merkle_verify_consistency(0, 0, roots[0], roots[0], NULL, 0), 0);
    assert_int_equal(ses_merkle_verify_consistency(0, 0, roots[1], roots[1], NULL, 0),
                     SES_EAUTH_FAILED);
    assert_int_equal(ses_merkle_verify_consistency(0, 0, roots[0], roots[1], NULL, 0),
                     SES_EAUTH_FAILED);
}

/* --- very large trees: every leaf is the same, so a complete subtree's hash depends only on its
 * level and can be served for any size; reads are counted and range-checked. */

struct uniform {
    uint8_t level[SES_MERKLE_LEVELS][HB];
    uint64_t view;
    unsigned reads;
};

static int uniform_get(void *ud, unsigned level, uint64_t index, uint8_t out[HB])
{
    struct uniform *u = ud;
    u->reads++;
    assert_true(level < SES_MERKLE_LEVELS);
    assert_true(index < (u->view >> level)); /* (index + 1) * 2^level <= view, no overflow */
    memcpy(out, u->level[level], HB);
    return 0;
}

static void test_large_sizes_read_counts(void **state)
{
    (void)state;
    static struct uniform u;
    ses_merkle_leaf_hash(u.level[0], (const uint8_t *)"x", 1);
    for (unsigned l = 1; l < SES_MERKLE_LEVELS; l++)
        ses_merkle_node_hash(u.level[l], u.level[l - 1], u.level[l - 1]);

    const uint64_t max = SES_MERKLE_MAX_SIZE;
    const uint64_t sizes[] = {1000000,       1000001, (uint64_t)1 << 20, 1048577,
                              4294979641ull, max / 3, max - 1,           max};
    uint8_t proof[SES_MERKLE_MAX_PROOF][HB], root[HB], root1[HB];
    size_t count;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint64_t n = sizes[s];
        u.view = n;
        u.reads = 0;
        assert_int_equal(ses_merkle_root(uniform_get, &u, n, root), 0);
        assert_int_equal(u.reads, __builtin_popcountll(n));
        const uint64_t idx[] = {0, 1, n / 2, n / 3, n - 2, n - 1};
        for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++) {
            u.reads = 0;
            assert_int_equal(ses_merkle_inclusion_proof(uniform_get, &u, idx[k], n, proof, &count),
                             0);
            assert_true(u.reads <= 2 * 63);
            assert_true(count <= 63);
            assert_int_equal(ses_merkle_verify_inclusion(u.level[0], idx[k], n,
                                                         (const uint8_t(*)[HB])proof, count, root),
                             0);
        }
        const uint64_t firsts[] = {1, 2, 3, n / 3, n / 2, n - 1, (uint64_t)1 << 19};
        for (size_t k = 0; k < sizeof firsts / sizeof firsts[0]; k++) {
            uint64_t m = firsts[k];
            if (m == 0 || m > n)
                continue;
            u.view = m;
            assert_int_equal(ses_merkle_root(uniform_get, &u, m, root1), 0);
            u.view = n;
            u.reads = 0;
            assert_int_equal(ses_merkle_consistency_proof(uniform_get, &u, m, n, proof, &count), 0);
            assert_true(u.reads <= 2 * 64);
            assert_true(count <= SES_MERKLE_MAX_PROOF);
            assert_int_equal(ses_merkle_verify_consistency(m, n, root1, root,
                                                           (const uint8_t(*)[HB])proof, count),
                             0);
        }
    }
    /* the longest proofs: 63 (inclusion) and 64 (consistency) nodes */
    u.view = max;
    assert_int_equal(ses_merkle_inclusion_proof(uniform_get, &u, 0, max, proof, &count), 0);
    assert_int_equal(count, 63);
    u.view = max - 1;
    assert_int_equal(ses_merkle_root(uniform_get, &u, max - 1, root), 0);
    u.view = 2;
    assert_int_equal(ses_merkle_root(uniform_get, &u, 2, root1), 0);
    u.view = max - 1;
    assert_int_equal(ses_merkle_consistency_proof(uniform_get, &u, 2, max - 1, proof, &count), 0);
    assert_int_equal(
        ses_merkle_verify_consistency(2, max - 1, root1, root, (const uint8_t(*)[HB])proof, count),
        0);
    u.view = max - 1;
    uint8_t r3[HB];
    u.view = 3;
    assert_int_equal(ses_merkle_root(uniform_get, &u, 3, r3), 0);
    u.view = max - 1;
    assert_int_equal(ses_merkle_consistency_proof(uniform_get, &u, 3, max - 1, proof, &count), 0);
    assert_int_equal(count, 64);
    assert_int_equal(
        ses_merkle_verify_consistency(3, max - 1, r3, root, (const uint8_t(*)[HB])proof, count), 0);

    /* the frontier up to the size limit */
    struct ses_merkle_frontier f;
    u.view = max - 1;
    u.reads = 0;
    assert_int_equal(ses_merkle_frontier_load(&f, max - 1, uniform_get, &u), 0);
    assert_int_equal(u.reads, 63);
    ses_merkle_frontier_root(&f, root1);
    assert_memory_equal(root1, root, HB);
    assert_int_equal(ses_merkle_append(&f, u.level[0], NULL, NULL), 0);
    assert_int_equal(f.size, max);
    ses_merkle_frontier_root(&f, root1);
    assert_memory_equal(root1, u.level[63], HB);
    assert_int_equal(ses_merkle_append(&f, u.level[0], NULL, NULL), SES_EINVALID_ARG);
    assert_int_equal(f.size, max);
}

/* --- errors ---------------------------------------------------------------------------------- */

struct failing_emit {
    int level; /* fail at this level (-1: never) */
    int rc;
    unsigned calls;
};

static int failing_emit_cb(void *ud, unsigned level, uint64_t index, const uint8_t hash[HB])
{
    struct failing_emit *fe = ud;
    (void)index;
    (void)hash;
    fe->calls++;
    return (int)level == fe->level ? fe->rc : 0;
}

static void test_callback_errors(void **state)
{
    (void)state;
    static struct store s;
    uint8_t leaves[NMAX][HB], proof[SES_MERKLE_MAX_PROOF][HB], h[HB];
    size_t count = 99;
    build_store(&s, leaves);

    /* a failing read is returned as is, with no proof */
    s.view = 13;
    s.fail_level = 2;
    s.fail_rc = SES_EIO;
    assert_int_equal(ses_merkle_root(store_get, &s, 13, h), SES_EIO);
    assert_int_equal(ses_merkle_inclusion_proof(store_get, &s, 0, 13, proof, &count), SES_EIO);
    assert_int_equal(count, 0);
    count = 99;
    assert_int_equal(ses_merkle_consistency_proof(store_get, &s, 3, 13, proof, &count), SES_EIO);
    assert_int_equal(count, 0);
    struct ses_merkle_frontier f;
    assert_int_equal(ses_merkle_frontier_load(&f, 13, store_get, &s), SES_EIO);
    assert_int_equal(f.size, 0);
    s.fail_rc = 7; /* a positive return is not passed through as success */
    assert_int_equal(ses_merkle_root(store_get, &s, 13, h), SES_EINTERNAL);
    s.fail_level = -1;

    /* a failing emit aborts the append and leaves the frontier unchanged */
    struct ses_merkle_frontier g, before;
    ses_merkle_frontier_init(&g);
    for (int i = 0; i < 7; i++)
        assert_int_equal(ses_merkle_append(&g, leaves[i], NULL, NULL), 0);
    before = g;
    struct failing_emit fe = {.level = 2, .rc = SES_EIO}; /* leaf 8 completes levels 1..3 */
    assert_int_equal(ses_merkle_append(&g, leaves[7], failing_emit_cb, &fe), SES_EIO);
    assert_int_equal(fe.calls, 3);
    assert_memory_equal(&g, &before, sizeof g);
    fe.rc = 1;
    assert_int_equal(ses_merkle_append(&g, leaves[7], failing_emit_cb, &fe), SES_EINTERNAL);
    assert_memory_equal(&g, &before, sizeof g);
    fe.level = -1;
    fe.calls = 0;
    assert_int_equal(ses_merkle_append(&g, leaves[7], failing_emit_cb, &fe), 0);
    assert_int_equal(fe.calls, 4);
    ses_merkle_frontier_root(&g, h);
    assert_hash_hex(h, ct_root_hex[8]);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    static struct store s;
    uint8_t leaves[NMAX][HB], proof[SES_MERKLE_MAX_PROOF][HB], h[HB];
    size_t count = 99;
    build_store(&s, leaves);
    s.view = 8;
    const uint64_t big = SES_MERKLE_MAX_SIZE + 1;

    assert_int_equal(ses_merkle_root(NULL, &s, 8, h), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_root(store_get, &s, 8, NULL), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_root(store_get, &s, big, h), SES_EINVALID_ARG);

    assert_int_equal(ses_merkle_inclusion_proof(store_get, &s, 8, 8, proof, &count),
                     SES_EINVALID_ARG);
    assert_int_equal(count, 0);
    assert_int_equal(ses_merkle_inclusion_proof(store_get, &s, 0, 0, proof, &count),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_inclusion_proof(store_get, &s, 0, big, proof, &count),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_inclusion_proof(NULL, &s, 0, 8, proof, &count), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_inclusion_proof(store_get, &s, 0, 8, NULL, &count),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_inclusion_proof(store_get, &s, 0, 8, proof, NULL),
                     SES_EINVALID_ARG);

    assert_int_equal(ses_merkle_consistency_proof(store_get, &s, 5, 4, proof, &count),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_consistency_proof(store_get, &s, 1, big, proof, &count),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_consistency_proof(NULL, &s, 1, 8, proof, &count), SES_EINVALID_ARG);
    s.reads = 0;
    count = 99;
    assert_int_equal(ses_merkle_consistency_proof(store_get, &s, 8, 8, proof, &count), 0);
    assert_int_equal(count, 0);
    assert_int_equal(s.reads, 0);

    uint8_t r[HB];
    ses_merkle_empty_root(r);
    assert_int_equal(ses_merkle_verify_inclusion(leaves[0], 0, 0, NULL, 0, r), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_inclusion(leaves[0], 3, 3, NULL, 0, r), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_inclusion(leaves[0], 0, big, NULL, 0, r), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_inclusion(NULL, 0, 1, NULL, 0, r), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_inclusion(leaves[0], 0, 1, NULL, 0, NULL), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_inclusion(leaves[0], 0, 2, NULL, 1, r), SES_EINVALID_ARG);
    static uint8_t many[SES_MERKLE_MAX_PROOF + 1][HB];
    assert_int_equal(ses_merkle_verify_inclusion(leaves[0], 0, SES_MERKLE_MAX_SIZE,
                                                 (const uint8_t(*)[HB])many,
                                                 SES_MERKLE_MAX_PROOF + 1, r),
                     SES_EAUTH_FAILED);

    assert_int_equal(ses_merkle_verify_consistency(2, 1, r, r, NULL, 0), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_consistency(1, 0, r, r, NULL, 0), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_consistency(1, big, r, r, NULL, 0), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_consistency(1, 2, NULL, r, NULL, 0), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_consistency(1, 2, r, NULL, NULL, 0), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_consistency(1, 2, r, r, NULL, 1), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_verify_consistency(3, SES_MERKLE_MAX_SIZE, r, r,
                                                   (const uint8_t(*)[HB])many,
                                                   SES_MERKLE_MAX_PROOF + 1),
                     SES_EAUTH_FAILED);

    struct ses_merkle_frontier f;
    assert_int_equal(ses_merkle_frontier_load(NULL, 1, store_get, &s), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_frontier_load(&f, 1, NULL, &s), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_frontier_load(&f, big, store_get, &s), SES_EINVALID_ARG);
    ses_merkle_frontier_init(&f);
    assert_int_equal(ses_merkle_append(NULL, leaves[0], NULL, NULL), SES_EINVALID_ARG);
    assert_int_equal(ses_merkle_append(&f, NULL, NULL, NULL), SES_EINVALID_ARG);
    assert_int_equal(f.size, 0);
    ses_merkle_frontier_root(&f, h);
    assert_memory_equal(h, r, HB);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_known_answers),
        cmocka_unit_test(test_ct_roots_and_nodes),
        cmocka_unit_test(test_ct_proof_vectors),
        cmocka_unit_test(test_tdm_tampered_vectors),
        cmocka_unit_test(test_appender_matches_reference),
        cmocka_unit_test(test_inclusion_all_sizes),
        cmocka_unit_test(test_consistency_all_sizes),
        cmocka_unit_test(test_large_sizes_read_counts),
        cmocka_unit_test(test_callback_errors),
        cmocka_unit_test(test_invalid_arguments),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
