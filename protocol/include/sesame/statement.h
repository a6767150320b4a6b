/*
 * statement.h - the stage-2 signed statements (PROTOCOL.md §17): identity keys, devices
 * certified by them, vouches for a colleague's new identity key, signed rosters in a hash chain
 * from the thread's creation, and a device's rotating mailbox key. Integers are big-endian; each
 * statement starts with its context string and its NUL and ends with a plain Ed25519 signature
 * (RFC 8032) over every byte before it:
 *
 *   identity = "sesame/v2/identity" 0 | user_id[16] | ik_pk[32] | serial u32 (1..)
 *              | created_ms u64 | sig by ik                                        143 bytes
 *   device   = "sesame/v2/device" 0 | user_id[16] | device_id[16] | sign_pk[32] | box_pk[32]
 *              | created_ms u64 | sig by the user's ik                             185 bytes
 *   vouch    = "sesame/v2/vouch" 0 | voucher_user_id[16] | subject_user_id[16]
 *              | subject_ik_pk[32] | subject_serial u32 (1..) | created_ms u64
 *              | sig by the voucher's ik                                           156 bytes
 *   roster   = "sesame/v2/roster" 0 | thread_id[16] | version u32 (1..) | prev_hash[32] (zeros
 *              exactly at version 1) | visibility u8 (1 shared, 2 joined) | n u8 (1..16)
 *              | n x (user_id[16] | role u8 (2 nurse, 3 psychiatrist, 4 gp)), user ids strictly
 *              ascending | created_ms u64 | signer_user_id[16] | sig by the signer's ik
 *                                                                         159 + 17 n bytes
 *   mailbox  = "sesame/v2/mailbox" 0 | device_id[16] | box_pk[32] | serial u32 (1..)
 *              | not_before_ms u64 | not_after_ms u64 (not_before < not_after)
 *              | sig by the device's signing key                                   150 bytes
 *   roster_hash = BLAKE2b-256(the whole roster statement, signature included)
 *
 * For each kind: _encode writes the signed bytes (everything but the signature), _sign the whole
 * statement, _parse checks the structure strictly (no cryptography), _verify parses and checks
 * the signature. Everything here is pure: no I/O, no logging, no allocation. Functions return 0
 * or a negative SES_E* value and write their outputs only on success. sodium_init() must have
 * been called. protocol/vectors/statements.json pins the bytes (gen_statement_vectors).
 */
#ifndef SESAME_STATEMENT_H
#define SESAME_STATEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sesame/limits.h"

/* Context strings; each is followed by its NUL at the start of the statement. */
#define SES_CTX_STMT_IDENTITY "sesame/v2/identity"
#define SES_CTX_STMT_DEVICE "sesame/v2/device"
#define SES_CTX_STMT_VOUCH "sesame/v2/vouch"
#define SES_CTX_STMT_ROSTER "sesame/v2/roster"
#define SES_CTX_STMT_MAILBOX "sesame/v2/mailbox"

/* Sizes of whole statements, signature included. */
#define SES_STMT_IDENTITY_BYTES 143
#define SES_STMT_DEVICE_BYTES 185
#define SES_STMT_VOUCH_BYTES 156
#define SES_STMT_ROSTER_FIXED 159 /* a roster without its members */
#define SES_STMT_ROSTER_MEMBER_BYTES 17
#define SES_STMT_ROSTER_BYTES(n)                                                                   \
    (SES_STMT_ROSTER_FIXED + SES_STMT_ROSTER_MEMBER_BYTES * (size_t)(n))
#define SES_STMT_MAILBOX_BYTES 150
#define SES_STMT_ROSTER_MIN_MEMBERS 1
#define SES_STMT_ROSTER_MAX_MEMBERS 16
#define SES_STMT_ROSTER_MAX_BYTES SES_STMT_ROSTER_BYTES(SES_STMT_ROSTER_MAX_MEMBERS) /* 431 */
#define SES_STMT_MAX_BYTES SES_STMT_ROSTER_MAX_BYTES /* the largest statement of any kind */
#define SES_STMT_HASH_BYTES 32                       /* roster_hash */

_Static_assert(SES_STMT_IDENTITY_BYTES == sizeof SES_CTX_STMT_IDENTITY + SES_ID_BYTES +
                                              SES_SIGN_PK_BYTES + 4 + 8 + SES_SIG_BYTES,
               "identity statement");
_Static_assert(SES_STMT_DEVICE_BYTES == sizeof SES_CTX_STMT_DEVICE + 2 * SES_ID_BYTES +
                                            SES_SIGN_PK_BYTES + SES_BOX_PK_BYTES + 8 +
                                            SES_SIG_BYTES,
               "device statement");
_Static_assert(SES_STMT_VOUCH_BYTES == sizeof SES_CTX_STMT_VOUCH + 2 * SES_ID_BYTES +
                                           SES_SIGN_PK_BYTES + 4 + 8 + SES_SIG_BYTES,
               "vouch statement");
_Static_assert(SES_STMT_ROSTER_FIXED == sizeof SES_CTX_STMT_ROSTER + SES_ID_BYTES + 4 +
                                            SES_STMT_HASH_BYTES + 1 + 1 + 8 + SES_ID_BYTES +
                                            SES_SIG_BYTES,
               "roster statement");
_Static_assert(SES_STMT_ROSTER_MEMBER_BYTES == SES_ID_BYTES + 1, "roster member");
_Static_assert(SES_STMT_ROSTER_BYTES(1) == 176 && SES_STMT_ROSTER_MAX_BYTES == 431, "roster");
_Static_assert(SES_STMT_MAILBOX_BYTES == sizeof SES_CTX_STMT_MAILBOX + SES_ID_BYTES +
                                             SES_BOX_PK_BYTES + 4 + 8 + 8 + SES_SIG_BYTES,
               "mailbox statement");

/* A roster's visibility of the history to members who join later (§17). */
enum ses_roster_visibility {
    SES_ROSTER_SHARED = 1, /* a new member gets the history (re-wrapped by a member's device) */
    SES_ROSTER_JOINED = 2, /* a new member reads from the version that added it on */
};

/* The fields of each statement. sig is ignored by _encode and _sign and filled by _parse. */
struct ses_stmt_identity {
    uint8_t user_id[SES_ID_BYTES];
    uint8_t ik_pk[SES_SIGN_PK_BYTES];
    uint32_t serial; /* 1.. (+1 for each new identity key of the user) */
    uint64_t created_ms;
    uint8_t sig[SES_SIG_BYTES];
};

struct ses_stmt_device {
    uint8_t user_id[SES_ID_BYTES];
    uint8_t device_id[SES_ID_BYTES];
    uint8_t sign_pk[SES_SIGN_PK_BYTES];
    uint8_t box_pk[SES_BOX_PK_BYTES];
    uint64_t created_ms;
    uint8_t sig[SES_SIG_BYTES];
};

struct ses_stmt_vouch {
    uint8_t voucher_user_id[SES_ID_BYTES];
    uint8_t subject_user_id[SES_ID_BYTES];
    uint8_t subject_ik_pk[SES_SIGN_PK_BYTES];
    uint32_t subject_serial; /* 1.. */
    uint64_t created_ms;
    uint8_t sig[SES_SIG_BYTES];
};

struct ses_stmt_member {
    uint8_t user_id[SES_ID_BYTES];
    uint8_t role; /* SES_ROLE_NURSE (2), SES_ROLE_PSYCHIATRIST (3) or SES_ROLE_GP (4) */
};

struct ses_stmt_roster {
    uint8_t thread_id[SES_ID_BYTES];
    uint32_t version;                                            /* 1.. */
    uint8_t prev_hash[SES_STMT_HASH_BYTES];                      /* zeros exactly at version 1 */
    uint8_t visibility;                                          /* enum ses_roster_visibility */
    uint8_t n_members;                                           /* 1..16 */
    struct ses_stmt_member members[SES_STMT_ROSTER_MAX_MEMBERS]; /* ids strictly ascending */
    uint64_t created_ms;
    uint8_t signer_user_id[SES_ID_BYTES];
    uint8_t sig[SES_SIG_BYTES];
};

struct ses_stmt_mailbox {
    uint8_t device_id[SES_ID_BYTES];
    uint8_t box_pk[SES_BOX_PK_BYTES];
    uint32_t serial; /* 1.. */
    uint64_t not_before_ms;
    uint64_t not_after_ms; /* > not_before_ms */
    uint8_t sig[SES_SIG_BYTES];
};

/* --- encode: the signed bytes, without the signature ---------------------------------------------
 * Each writes the statement's bytes before the signature (its size minus SES_SIG_BYTES) into out
 * (cap bytes) and their count into *len. Returns 0; SES_EBAD_FIELD when a field is out of the
 * ranges _parse accepts (serial or version 0, visibility not 1 or 2, n not 1..16, a role not
 * 2..4, user ids not strictly ascending, prev_hash zero at a version other than 1 or non-zero at
 * version 1, not_before_ms >= not_after_ms); SES_EINVALID_ARG for NULL or cap too small. */
int ses_stmt_identity_encode(const struct ses_stmt_identity *st, uint8_t *out, size_t cap,
                             size_t *len);
int ses_stmt_device_encode(const struct ses_stmt_device *st, uint8_t *out, size_t cap, size_t *len);
int ses_stmt_vouch_encode(const struct ses_stmt_vouch *st, uint8_t *out, size_t cap, size_t *len);
int ses_stmt_roster_encode(const struct ses_stmt_roster *st, uint8_t *out, size_t cap, size_t *len);
int ses_stmt_mailbox_encode(const struct ses_stmt_mailbox *st, uint8_t *out, size_t cap,
                            size_t *len);

/* --- sign: the whole statement ---------------------------------------------------------------
 * Each encodes st and appends the Ed25519 signature by sk (libsodium's 64-byte secret key, seed
 * then public key): the identity key for identity, device and vouch statements (the user's, the
 * user's and the voucher's), the signer's identity key for a roster, the device's signing key for
 * a mailbox key. Writes the statement into out (cap bytes) and its size into *len. Returns 0, the
 * codes of _encode, or SES_EINVALID_ARG also when an identity statement's sk is not the secret
 * half of its ik_pk (a self-signature by another key could never verify). st->sig is ignored. */
int ses_stmt_identity_sign(const struct ses_stmt_identity *st, const uint8_t sk[SES_SIGN_SK_BYTES],
                           uint8_t *out, size_t cap, size_t *len);
int ses_stmt_device_sign(const struct ses_stmt_device *st, const uint8_t sk[SES_SIGN_SK_BYTES],
                         uint8_t *out, size_t cap, size_t *len);
int ses_stmt_vouch_sign(const struct ses_stmt_vouch *st, const uint8_t sk[SES_SIGN_SK_BYTES],
                        uint8_t *out, size_t cap, size_t *len);
int ses_stmt_roster_sign(const struct ses_stmt_roster *st, const uint8_t sk[SES_SIGN_SK_BYTES],
                         uint8_t *out, size_t cap, size_t *len);
int ses_stmt_mailbox_sign(const struct ses_stmt_mailbox *st, const uint8_t sk[SES_SIGN_SK_BYTES],
                          uint8_t *out, size_t cap, size_t *len);

/* --- parse: strict structure, no cryptography --------------------------------------------------
 * Each accepts exactly one statement of its kind: the exact length (for a roster, 159 + 17 n with
 * n its count byte), the context string and its NUL, and every field in range (as _encode). Fills
 * *out, sig included. Returns 0, SES_EBAD_FIELD (anything else), or SES_EINVALID_ARG (NULL).
 * Nothing parsed is authenticated until the matching _verify succeeds. */
int ses_stmt_identity_parse(const uint8_t *in, size_t len, struct ses_stmt_identity *out)
    __attribute__((warn_unused_result));
int ses_stmt_device_parse(const uint8_t *in, size_t len, struct ses_stmt_device *out)
    __attribute__((warn_unused_result));
int ses_stmt_vouch_parse(const uint8_t *in, size_t len, struct ses_stmt_vouch *out)
    __attribute__((warn_unused_result));
int ses_stmt_roster_parse(const uint8_t *in, size_t len, struct ses_stmt_roster *out)
    __attribute__((warn_unused_result));
int ses_stmt_mailbox_parse(const uint8_t *in, size_t len, struct ses_stmt_mailbox *out)
    __attribute__((warn_unused_result));

/* --- verify: parse, then the signature -------------------------------------------------------
 * Each parses in (SES_EBAD_FIELD) and checks its signature with pk (SES_EBAD_SIGNATURE): the key
 * the caller trusts for the signer (an identity key, or for a mailbox statement the device's
 * signing key). An identity statement verifies only when pk is also its own ik_pk (else
 * SES_EBAD_SIGNATURE). Returns 0 or those codes; SES_EINVALID_ARG for NULL. Which key to trust for
 * a user is the caller's decision (§17: its first one, a vouched one, or one trusted explicitly).
 */
int ses_stmt_identity_verify(const uint8_t *in, size_t len, const uint8_t pk[SES_SIGN_PK_BYTES])
    __attribute__((warn_unused_result));
int ses_stmt_device_verify(const uint8_t *in, size_t len, const uint8_t pk[SES_SIGN_PK_BYTES])
    __attribute__((warn_unused_result));
int ses_stmt_vouch_verify(const uint8_t *in, size_t len, const uint8_t pk[SES_SIGN_PK_BYTES])
    __attribute__((warn_unused_result));
int ses_stmt_roster_verify(const uint8_t *in, size_t len, const uint8_t pk[SES_SIGN_PK_BYTES])
    __attribute__((warn_unused_result));
int ses_stmt_mailbox_verify(const uint8_t *in, size_t len, const uint8_t pk[SES_SIGN_PK_BYTES])
    __attribute__((warn_unused_result));

/* roster_hash = BLAKE2b-256 of the whole roster statement in[0..len), signature included, into
 * out. Returns 0, SES_EBAD_FIELD (in is not a well-formed roster statement: ses_stmt_roster_parse)
 * or SES_EINVALID_ARG (NULL). */
int ses_roster_stmt_hash(const uint8_t *in, size_t len, uint8_t out[SES_STMT_HASH_BYTES])
    __attribute__((warn_unused_result));

/* The identity key the verifier trusts for user_id: writes it to ik_pk and returns 0, or returns
 * non-zero when it trusts none for that user. */
typedef int (*ses_trusted_ik_fn)(void *ctx, const uint8_t user_id[SES_ID_BYTES],
                                 uint8_t ik_pk[SES_SIGN_PK_BYTES]);

/* A table of trusted identity keys, for ses_trusted_ik_table (distinct user ids). */
struct ses_trusted_ik {
    uint8_t user_id[SES_ID_BYTES];
    uint8_t ik_pk[SES_SIGN_PK_BYTES];
};
struct ses_trusted_ik_list {
    const struct ses_trusted_ik *rows;
    size_t n;
};

/* A ses_trusted_ik_fn over ctx = a const struct ses_trusted_ik_list *: the row of user_id. */
int ses_trusted_ik_table(void *ctx, const uint8_t user_id[SES_ID_BYTES],
                         uint8_t ik_pk[SES_SIGN_PK_BYTES]);

/* Checks a thread's roster chain stmts[0..n) (stmts[i] of lens[i] bytes), oldest first, from the
 * thread's creation. For each statement i in order, the first failure deciding:
 *  1. ses_stmt_roster_parse (SES_EBAD_FIELD);
 *  2. the signer's trusted identity key (trusted_ik(ctx, signer_user_id)) exists and the
 *     signature verifies with it (SES_EBAD_SIGNATURE: nothing in a statement is used before);
 *  3. i = 0: version 1 and its signer among its members; i > 0: version = the previous one + 1,
 *     prev_hash = ses_roster_stmt_hash of the previous statement, the same thread_id and
 *     visibility, and a signer who is a member of the previous version with role nurse
 *     (SES_EROSTER_BROKEN).
 * Returns 0 (then *head, if not NULL, is the last version, parsed) or the first failure's code,
 * with *failed_at (if not NULL) the index of the statement at fault; SES_EINVALID_ARG (NULL
 * pointers, n = 0) with *failed_at = n. */
int ses_roster_chain_check(const uint8_t *const stmts[], const size_t lens[], size_t n,
                           ses_trusted_ik_fn trusted_ik, void *ctx, size_t *failed_at,
                           struct ses_stmt_roster *head) __attribute__((warn_unused_result));

/* True when a mailbox key may be used at now_ms: not_before_ms <= now_ms <= not_after_ms (both
 * ends included). False for NULL. */
bool ses_mailbox_valid_at(const struct ses_stmt_mailbox *m, uint64_t now_ms);

#endif
