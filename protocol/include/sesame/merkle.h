/*
 * merkle.h - RFC 6962 / RFC 9162 Merkle tree hashing, proofs and proof verification for the
 * tamper-evident audit log (security.md §3).
 *
 * Leaf hash = SHA-256(0x00 || data), node hash = SHA-256(0x01 || left || right), the tree over n
 * leaves is split at the largest power of two < n, the empty tree hashes to SHA-256("").
 *
 * Storage model: the writer keeps the hashes of *complete* (perfect) subtrees, addressed by
 * (level, index): the subtree covering leaves [index * 2^level, (index + 1) * 2^level); level 0 is
 * the leaf hashes themselves. The appender (ses_merkle_frontier) reports each such node as it comes
 * into existence; proofs and roots are computed through a caller callback that reads those nodes
 * back, with O(log n) reads per proof. Pure functions: no allocation, no I/O, no logging.
 *
 * Tree sizes are limited to SES_MERKLE_MAX_SIZE (2^63) leaves so that every proof fits in
 * SES_MERKLE_MAX_PROOF hashes.
 */
#ifndef SESAME_MERKLE_H
#define SESAME_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define SES_MERKLE_HASH_BYTES 32
#define SES_MERKLE_MAX_PROOF 64                 /* hashes in any inclusion/consistency proof */
#define SES_MERKLE_MAX_SIZE ((uint64_t)1 << 63) /* largest supported tree size (leaves) */
#define SES_MERKLE_LEVELS 64                    /* levels 0..63 of complete subtrees */

/* leaf hash = SHA-256(0x00 || data[0..len)). data may be NULL when len is 0. */
void ses_merkle_leaf_hash(uint8_t out[SES_MERKLE_HASH_BYTES], const uint8_t *data, size_t len);

/* node hash = SHA-256(0x01 || left || right). out may alias left or right. */
void ses_merkle_node_hash(uint8_t out[SES_MERKLE_HASH_BYTES],
                          const uint8_t left[SES_MERKLE_HASH_BYTES],
                          const uint8_t right[SES_MERKLE_HASH_BYTES]);

/* Root of the empty tree: SHA-256 of the empty string (e3b0c442...b855). */
void ses_merkle_empty_root(uint8_t out[SES_MERKLE_HASH_BYTES]);

/* Reads the hash of the complete subtree (level, index) into out. The library only ever asks for
 * subtrees that lie entirely inside the tree size it was given, i.e. (index + 1) * 2^level <= size.
 * Returns 0, or a negative SES_E* code which the caller of the proof/root function gets back
 * unchanged (a positive return is reported as SES_EINTERNAL). */
typedef int (*ses_merkle_get_fn)(void *ud, unsigned level, uint64_t index,
                                 uint8_t out[SES_MERKLE_HASH_BYTES]);

/* Root hash (MTH) of the tree of the first `size` leaves, using popcount(size) <= 63 reads.
 * size 0 gives the empty root without any read.
 * Returns 0, SES_EINVALID_ARG (NULL get/out, size > SES_MERKLE_MAX_SIZE) or get's error. */
int ses_merkle_root(ses_merkle_get_fn get, void *ud, uint64_t size,
                    uint8_t out[SES_MERKLE_HASH_BYTES]);

/* Inclusion proof (RFC 9162 §2.1.3.1, ordered from the leaf upwards) of leaf `index` in the tree of
 * `size` leaves, written to proof[0..*count). Uses at most 2 * 63 reads.
 * Returns 0, SES_EINVALID_ARG (NULL pointers, index >= size, size > SES_MERKLE_MAX_SIZE) or get's
 * error; on error *count is 0. */
int ses_merkle_inclusion_proof(ses_merkle_get_fn get, void *ud, uint64_t index, uint64_t size,
                               uint8_t proof[SES_MERKLE_MAX_PROOF][SES_MERKLE_HASH_BYTES],
                               size_t *count);

/* Consistency proof (RFC 9162 §2.1.4.1) from the tree of size1 leaves to the tree of size2 leaves,
 * written to proof[0..*count). size1 == 0 and size1 == size2 give an empty proof (see
 * ses_merkle_verify_consistency). Uses at most 2 * 64 reads.
 * Returns 0, SES_EINVALID_ARG (NULL pointers, size1 > size2, size2 > SES_MERKLE_MAX_SIZE) or get's
 * error; on error *count is 0. */
int ses_merkle_consistency_proof(ses_merkle_get_fn get, void *ud, uint64_t size1, uint64_t size2,
                                 uint8_t proof[SES_MERKLE_MAX_PROOF][SES_MERKLE_HASH_BYTES],
                                 size_t *count);

/* Verifies an inclusion proof per RFC 9162 §2.1.3.2: leaf_hash is leaf `index` of the tree of
 * `size` leaves whose root is `root`. The proof must have exactly the expected length.
 * Returns 0, SES_EAUTH_FAILED (the proof does not verify: wrong hashes, too short, too long) or
 * SES_EINVALID_ARG (index >= size, size > SES_MERKLE_MAX_SIZE, NULL pointers). */
int ses_merkle_verify_inclusion(const uint8_t leaf_hash[SES_MERKLE_HASH_BYTES], uint64_t index,
                                uint64_t size, const uint8_t (*proof)[SES_MERKLE_HASH_BYTES],
                                size_t count, const uint8_t root[SES_MERKLE_HASH_BYTES])
    __attribute__((warn_unused_result));

/* Verifies a consistency proof per RFC 9162 §2.1.4.2: the tree of size2 leaves with root2 extends
 * the tree of size1 leaves with root1.
 *  - size1 == size2: the proof must be empty and root1 == root2 (for size 0, both must also be the
 *    empty root).
 *  - size1 == 0 < size2: RFC 9162 defines proofs only for 0 < size1; the empty tree is a prefix of
 *    every tree, so an empty proof is accepted provided root1 is the empty root. This proves
 *    nothing about root2 (transparency-dev/merkle rejects this case outright).
 *  - otherwise the proof must verify with exactly the expected length.
 * Returns 0, SES_EAUTH_FAILED (the proof does not verify) or SES_EINVALID_ARG (size1 > size2,
 * size2 > SES_MERKLE_MAX_SIZE, NULL pointers). */
int ses_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                  const uint8_t root1[SES_MERKLE_HASH_BYTES],
                                  const uint8_t root2[SES_MERKLE_HASH_BYTES],
                                  const uint8_t (*proof)[SES_MERKLE_HASH_BYTES], size_t count)
    __attribute__((warn_unused_result));

/* The writer's right edge: for each set bit `level` of size, node[level] is the hash of the
 * complete subtree (level, (size >> level) - 1). Plain value, caller-owned; copy freely. */
struct ses_merkle_frontier {
    uint64_t size;
    uint8_t node[SES_MERKLE_LEVELS][SES_MERKLE_HASH_BYTES];
};

/* Called by ses_merkle_append for every complete subtree the new leaf creates, in increasing level:
 * first (0, leaf index, leaf hash), then each new parent. Returns 0 or a negative SES_E* code,
 * which aborts the append (a positive return is reported as SES_EINTERNAL). */
typedef int (*ses_merkle_emit_fn)(void *ud, unsigned level, uint64_t index,
                                  const uint8_t hash[SES_MERKLE_HASH_BYTES]);

/* Empty tree. */
void ses_merkle_frontier_init(struct ses_merkle_frontier *f);

/* Rebuilds the frontier of the tree of `size` leaves from stored nodes (popcount(size) reads), e.g.
 * at writer start-up. Returns 0, SES_EINVALID_ARG or get's error (f is then the empty tree). */
int ses_merkle_frontier_load(struct ses_merkle_frontier *f, uint64_t size, ses_merkle_get_fn get,
                             void *ud);

/* Appends one leaf hash. emit (may be NULL) sees every new complete subtree; if it fails, f is left
 * unchanged and its error returned. Returns 0, SES_EINVALID_ARG (NULL f/leaf_hash, tree already at
 * SES_MERKLE_MAX_SIZE) or emit's error. */
int ses_merkle_append(struct ses_merkle_frontier *f, const uint8_t leaf_hash[SES_MERKLE_HASH_BYTES],
                      ses_merkle_emit_fn emit, void *ud);

/* Root hash of the tree the frontier describes (empty root for size 0). */
void ses_merkle_frontier_root(const struct ses_merkle_frontier *f,
                              uint8_t out[SES_MERKLE_HASH_BYTES]);

#endif
