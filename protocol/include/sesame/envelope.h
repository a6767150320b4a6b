/*
 * envelope.h - "SES1" signed multi-recipient end-to-end envelopes, suite 1 (PROTOCOL.md §10;
 * DESIGN.md "End-to-end encryption (suite 1)"; reference/security.md §1.3.3-§1.3.5, §1.3.9).
 *
 * Per message the sender picks a fresh 32-byte key K and a 24-byte nonce, encrypts the inner
 * plaintext once with XChaCha20-Poly1305-IETF (AAD = the header), wraps K to every recipient device
 * with crypto_box_seal, commits to K with a keyed BLAKE2b over msg_id, and signs the whole envelope
 * with its Ed25519 device signing key. Layout (integers big-endian, ids 16 bytes):
 *
 *   off  size  field
 *     0     4  magic "SES1"
 *     4     1  version = 1
 *     5     1  suite = 0x01 (sealed-box wraps, XChaCha20-Poly1305-IETF, Ed25519, BLAKE2b)
 *     6     2  flags = 0 (none defined in version 1; any set bit is SES_EUNSUPPORTED)
 *     8    16  thread_id
 *    24    16  msg_id
 *    40    16  sender_user_id
 *    56    16  sender_device_id
 *    72     8  sender_seq (per sending device and thread, starts at 1, strictly increasing)
 *    80    32  roster_hash (ses_roster_hash of the roster the sender encrypted to)
 *   112     8  created_ms
 *   120     2  alert_type (0 = none)
 *   122     1  severity
 *   123     8  deadline_ms (0 = none)
 *   131    32  kcommit = BLAKE2b-256(key = K, "sesame/v1/kcommit" 0x00 | msg_id)
 *   163    24  nonce
 *   187     1  n_wraps (1..32)
 *   188  96*n  wraps: recipient device_id[16] | crypto_box_seal(K) [80]
 *     h     4  ct_len (h = 188 + 96*n; ct_len = 86 + 256*k, 1 <= k <= 256)
 *   h+4    ct  XChaCha20-Poly1305-IETF(K, nonce, AAD = bytes [0, h)) of the inner plaintext
 *   end    64  sig = Ed25519("sesame/v1/envelope" 0x00 | bytes [0, end)) by the sending device
 *
 * Inner plaintext: inner_ver u8 = 1 | sender_user_id | sender_device_id | msg_id | thread_id |
 * content_type u8 | body_len u32 | sodium_pad(body, 256). Only the body is padded (the 70-byte
 * prefix is constant), so the ciphertext length depends only on the body's 256-byte bucket.
 *
 * Everything here is pure: no I/O, no logging. Functions return 0 or a negative SES_E* value and
 * write their outputs only on success. Key material and plaintext are wiped (sodium_memzero)
 * before memory is released. sodium_init() must have been called.
 */
#ifndef SESAME_ENVELOPE_H
#define SESAME_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "sesame/limits.h"

#define SES_ENVELOPE_MAGIC "SES1" /* 4 bytes, no NUL on the wire */
#define SES_ENVELOPE_VERSION 1
#define SES_ENVELOPE_SUITE 0x01
#define SES_ENVELOPE_INNER_VERSION 1

/* Context strings; each is followed by its NUL in the hashed or signed bytes. */
#define SES_CTX_ENVELOPE "sesame/v1/envelope" /* signature */
#define SES_CTX_KCOMMIT "sesame/v1/kcommit"   /* key commitment */
#define SES_CTX_ROSTER "sesame/v1/roster"     /* roster hash */
#define SES_CTX_REWRAP "sesame/v1/rewrap"     /* history re-wrap statement */

/* Sizes of the cryptographic fields. */
#define SES_ENVELOPE_KEY_BYTES 32     /* K (crypto_aead_xchacha20poly1305_ietf_KEYBYTES) */
#define SES_ENVELOPE_NONCE_BYTES 24   /* crypto_aead_xchacha20poly1305_ietf_NPUBBYTES */
#define SES_ENVELOPE_TAG_BYTES 16     /* crypto_aead_xchacha20poly1305_ietf_ABYTES */
#define SES_ENVELOPE_KCOMMIT_BYTES 32 /* BLAKE2b-256 */
#define SES_ENVELOPE_SEALED_BYTES 80  /* crypto_box_SEALBYTES (48) + 32-byte K */
#define SES_ENVELOPE_WRAP_BYTES 96    /* device_id[16] + sealed[80] */
#define SES_ROSTER_HASH_BYTES 32

/* Byte offsets of the header fields (table above). */
#define SES_ENVELOPE_OFF_VERSION 4
#define SES_ENVELOPE_OFF_SUITE 5
#define SES_ENVELOPE_OFF_FLAGS 6
#define SES_ENVELOPE_OFF_THREAD 8
#define SES_ENVELOPE_OFF_MSG 24
#define SES_ENVELOPE_OFF_SENDER_USER 40
#define SES_ENVELOPE_OFF_SENDER_DEVICE 56
#define SES_ENVELOPE_OFF_SEQ 72
#define SES_ENVELOPE_OFF_ROSTER 80
#define SES_ENVELOPE_OFF_CREATED 112
#define SES_ENVELOPE_OFF_ALERT_TYPE 120
#define SES_ENVELOPE_OFF_SEVERITY 122
#define SES_ENVELOPE_OFF_DEADLINE 123
#define SES_ENVELOPE_OFF_KCOMMIT 131
#define SES_ENVELOPE_OFF_NONCE 163
#define SES_ENVELOPE_OFF_N_WRAPS 187
#define SES_ENVELOPE_OFF_WRAPS 188 /* = bytes of the fixed header, magic .. n_wraps */

/* Content types of the inner plaintext. 0 and 7..255 are reserved: the sealer refuses them; a
 * receiver gets any non-zero type back and must show an unknown one as "unsupported content". */
enum ses_content_type {
    SES_CONTENT_TEXT = 1,         /* UTF-8 text */
    SES_CONTENT_SCALE = 2,        /* a scale record (structured payload) */
    SES_CONTENT_ALERT_NOTE = 3,   /* the note that goes with an alert */
    SES_CONTENT_THREAD_TITLE = 4, /* the thread's (encrypted) title */
    SES_CONTENT_RECOMMENDATION = 5, /* a structured recommendation to the GP (PROTOCOL.md §16) */
    SES_CONTENT_PATIENT_CARD = 6,   /* the patient card: identity traits and INS (§16) */
};
#define SES_CONTENT_TYPE_MAX 6

/* Size limits. The inner plaintext is a 70-byte prefix and the padded body; sodium_pad always
 * adds 1..256 bytes, so a body of at most 65,535 bytes pads to at most 65,536 (256 blocks). */
#define SES_ENVELOPE_MAX_WRAPS SES_MAX_RECIPIENTS  /* 32 */
/* The largest sender_seq (2^53 - 1): it must survive a JavaScript number and SQLite's signed
 * 64-bit integer; one above is refused when sealing and parsing (BAD_ENVELOPE). */
#define SES_ENVELOPE_SEQ_MAX 9007199254740991ULL
#define SES_ENVELOPE_PAD_BLOCK 256                 /* sodium_pad block size */
#define SES_ENVELOPE_INNER_FIXED 70                /* inner_ver .. body_len */
#define SES_ENVELOPE_BODY_MAX 65535                /* bytes of a body (64 KiB - 1) */
#define SES_ENVELOPE_PADDED_BODY_MAX (256 * 256)   /* 65,536 */
#define SES_ENVELOPE_CT_MIN (70 + 256 + 16)        /* 342: one pad block */
#define SES_ENVELOPE_CT_MAX (70 + 65536 + 16)      /* 65,622: 256 pad blocks */
#define SES_ENVELOPE_OVERHEAD (188 + 4 + 64)       /* 256: fixed header, ct_len, sig */
#define SES_ENVELOPE_MIN (256 + 96 + 342)          /* 694: one wrap, one block */
#define SES_ENVELOPE_MAX (256 + 96 * 32 + 65622)   /* 68,950 bytes (67.3 KiB) */
#define SES_ENVELOPE_B64_MAX (4 * (68950 / 3) + 2) /* 91,934: base64url of MAX, no padding */
/* The bound: an envelope must stay at most 192 KiB (196,608 bytes), the largest whose base64url
 * (262,144 characters) could fit a 256 KiB frame at all. The real maximum leaves SES_MAX_FRAME -
 * SES_ENVELOPE_B64_MAX = 170,210 bytes of the frame for the JSON around it. */
_Static_assert(SES_ENVELOPE_MAX <= 192 * 1024, "envelope must fit a frame after base64url");
_Static_assert(SES_ENVELOPE_B64_MAX + 1024 <= SES_MAX_FRAME, "base64url envelope fits a frame");

/* A roster has at most 255 members (its count is a u8 in the hashed bytes). */
#define SES_ROSTER_HASH_MAX_MEMBERS 255

/* Header fields the sender chooses (everything but the cryptographic fields). */
struct ses_envelope_header {
    uint8_t thread_id[SES_ID_BYTES];
    uint8_t msg_id[SES_ID_BYTES];
    uint8_t sender_user_id[SES_ID_BYTES];
    uint8_t sender_device_id[SES_ID_BYTES];
    uint64_t sender_seq;
    uint8_t roster_hash[SES_ROSTER_HASH_BYTES];
    uint64_t created_ms;
    uint16_t alert_type;
    uint8_t severity;
    uint64_t deadline_ms;
};

/* One recipient device: its id and its X25519 mailbox (box) public key. */
struct ses_recipient {
    uint8_t device_id[SES_ID_BYTES];
    uint8_t box_pk[SES_BOX_PK_BYTES];
};

/* A structurally valid envelope (ses_envelope_parse). Pointers point into the parsed buffer,
 * which must outlive the view. Nothing in it is authenticated until ses_envelope_verify_sig. */
struct ses_envelope_view {
    struct ses_envelope_header hdr; /* decoded copy of the header fields */
    const uint8_t *kcommit;         /* 32 bytes */
    const uint8_t *nonce;           /* 24 bytes */
    size_t n_wraps;                 /* 1..32, device ids pairwise distinct */
    const uint8_t *wraps;           /* n_wraps * 96 bytes: device_id[16] | sealed[80] */
    size_t header_len;              /* h = 188 + 96 * n_wraps: the AEAD's associated data */
    const uint8_t *ct;              /* ciphertext, ct_len bytes (tag included) */
    size_t ct_len;
    const uint8_t *sig; /* 64 bytes */
    const uint8_t *bytes;
    size_t len; /* the whole envelope */
};

/* What a receiver gets from ses_envelope_open. Release with ses_opened_free. */
struct ses_opened {
    struct ses_envelope_header hdr;
    uint8_t content_type; /* 1..255; see enum ses_content_type */
    uint8_t *body;        /* malloc'd copy (never NULL, even for an empty body) */
    size_t body_len;
    size_t n_wraps;   /* recipient devices the sender wrapped K to */
    size_t n_missing; /* expected devices, other than the sending one, that got no wrap */
};

/* roster_hash = BLAKE2b-256("sesame/v1/roster" 0x00 | thread_id | roster_version u32 | n u8 |
 * member user ids sorted in ascending byte order). members may be in any order; n is 0..255.
 * Returns 0, or SES_EINVALID_ARG (NULL pointer, n > 255, a user id twice). */
int ses_roster_hash(uint8_t out[SES_ROSTER_HASH_BYTES], const uint8_t thread_id[SES_ID_BYTES],
                    uint32_t roster_version, const uint8_t (*members)[SES_ID_BYTES],
                    size_t n_members);

/* kcommit = BLAKE2b-256(key = K, "sesame/v1/kcommit" 0x00 | msg_id). */
void ses_envelope_kcommit(uint8_t out[SES_ENVELOPE_KCOMMIT_BYTES],
                          const uint8_t key[SES_ENVELOPE_KEY_BYTES],
                          const uint8_t msg_id[SES_ID_BYTES]);

/* Seals body to the recipient devices (1..32, distinct device ids; the sender's own devices are
 * recipients too, the sending device included if it wants to read the message back) and signs with
 * the sending device's Ed25519 secret key. K, the nonce and the ephemeral wrap keys are fresh
 * random values. On success *out is a malloc'd envelope (the caller frees it) of *out_len bytes.
 * Errors: SES_EINVALID_ARG (NULL pointer, 0 or more than 32 recipients, a device twice,
 * content_type not 1..SES_CONTENT_TYPE_MAX, sender_seq 0, an unusable recipient key),
 * SES_ETOO_LARGE (body_len > SES_ENVELOPE_BODY_MAX), SES_ENOMEM. body may be NULL if body_len is 0.
 */
int ses_envelope_seal(uint8_t **out, size_t *out_len, const struct ses_envelope_header *hdr,
                      uint8_t content_type, const uint8_t *body, size_t body_len,
                      const struct ses_recipient *recipients, size_t n_recipients,
                      const uint8_t sign_sk[SES_SIGN_SK_BYTES]);

/* ses_envelope_seal with every random input given: K (key), the nonce, and one ephemeral X25519
 * secret key per recipient (eph_sk[i] wraps to recipients[i]). The wrap is exactly
 * crypto_box_seal's construction: epk | crypto_box_easy(K, nonce = BLAKE2b-192(epk | pk), pk,
 * esk) with epk = X25519 base point * esk, so crypto_box_seal_open opens it. FOR KNOWN-ANSWER
 * VECTORS AND TESTS ONLY: reusing K, a nonce or an ephemeral key across messages is fatal. */
int ses_envelope_seal_det(uint8_t **out, size_t *out_len, const struct ses_envelope_header *hdr,
                          uint8_t content_type, const uint8_t *body, size_t body_len,
                          const struct ses_recipient *recipients, size_t n_recipients,
                          const uint8_t sign_sk[SES_SIGN_SK_BYTES],
                          const uint8_t key[SES_ENVELOPE_KEY_BYTES],
                          const uint8_t nonce[SES_ENVELOPE_NONCE_BYTES],
                          const uint8_t (*eph_sk)[SES_BOX_SK_BYTES]);

/* Strict structural parse, no cryptography (what the server can check, §1.3.9 step 1): magic,
 * version and suite exact and flags 0 (else SES_EUNSUPPORTED, checked on the bytes present, so a
 * truncated SES1 prefix is SES_EBAD_ENVELOPE); len <= SES_ENVELOPE_MAX; n_wraps 1..32 with
 * distinct device ids; ct_len = 86 + 256*k (1 <= k <= 256) and exactly the rest of the envelope
 * before the signature, no trailing bytes (else SES_EBAD_ENVELOPE). SES_EINVALID_ARG for NULL. */
int ses_envelope_parse(const uint8_t *bytes, size_t len, struct ses_envelope_view *out)
    __attribute__((warn_unused_result));

/* Verifies the Ed25519 signature of a parsed envelope with the sending device's signing key
 * (§1.3.9 step 4). Returns 0, SES_EBAD_SIGNATURE, SES_ENOMEM or SES_EINVALID_ARG. */
int ses_envelope_verify_sig(const struct ses_envelope_view *v,
                            const uint8_t sign_pk[SES_SIGN_PK_BYTES])
    __attribute__((warn_unused_result));

/* Device id of wrap i (i < v->n_wraps) of a parsed envelope. */
const uint8_t *ses_envelope_wrap_device(const struct ses_envelope_view *v, size_t i);

/* Receiver procedure (§1.3.5), in this order, the first failure deciding the code:
 *  1. ses_envelope_parse (SES_EUNSUPPORTED, SES_EBAD_ENVELOPE);
 *  2. the signature with sender_sign_pk, before anything else is trusted (SES_EBAD_SIGNATURE);
 *  3. every wrap's device is in expected_devices (SES_EGHOST_DEVICE); expected devices, other
 *     than the sending one, without a wrap are counted in out->n_missing, not an error;
 *  4. my_device_id has a wrap (SES_ENOT_A_RECIPIENT), which opens with my box key pair
 *     (SES_EDECRYPT_FAILED);
 *  5. kcommit matches K (SES_EBAD_COMMITMENT), before K decrypts anything;
 *  6. AEAD decryption (SES_EDECRYPT_FAILED); inner version, padding, body_len and content_type
 *     (SES_EBAD_ENVELOPE);
 *  7. inner sender user, sender device, msg_id and thread_id equal the header's
 *     (SES_EINNER_MISMATCH);
 *  8. sender_seq > last_seen_seq (SES_EREPLAYED; pass 0 when nothing was seen yet).
 * The caller still checks what needs state: roster_hash is the thread's current roster (or the
 * previous one within a grace period), the sender is a member, msg_id is unseen and created_ms is
 * within the allowed skew. expected_devices (n_expected of them, distinct, may be NULL when 0) are
 * the active devices of the roster's members. Errors also SES_EINVALID_ARG, SES_ENOMEM.
 * On success fills *out (release with ses_opened_free); on failure *out is untouched. */
int ses_envelope_open(const uint8_t *bytes, size_t len, const uint8_t my_device_id[SES_ID_BYTES],
                      const uint8_t my_box_pk[SES_BOX_PK_BYTES],
                      const uint8_t my_box_sk[SES_BOX_SK_BYTES],
                      const uint8_t sender_sign_pk[SES_SIGN_PK_BYTES],
                      const uint8_t (*expected_devices)[SES_ID_BYTES], size_t n_expected,
                      uint64_t last_seen_seq, struct ses_opened *out)
    __attribute__((warn_unused_result));

/* Wipes and frees the body and zeroes *o. NULL and a zeroed struct are fine. */
void ses_opened_free(struct ses_opened *o);

/* --- history re-wrap for a user's new device (PROTOCOL.md §12) ---------------------------------
 *
 * A device of a user that can open a stored envelope re-wraps its K for another (newer) device of
 * the SAME user, which joined after the message was sent and has no wrap in it:
 *
 *   sealed    = crypto_box_seal(K, target box_pk)                                      80 bytes
 *   statement = "sesame/v1/rewrap" 0x00 | thread_id[16] | msg_id[16] | kcommit[32]
 *               | target_device_id[16] | sealed[80] | by_device_id[16]                193 bytes
 *   sig       = Ed25519(statement) by the re-wrapping device's signing key              64 bytes
 *
 * thread_id, msg_id and kcommit are the envelope's, so a re-wrap is bound to one message, one
 * target and one signer; the server checks the signature (it knows all three from the stored
 * envelope) and the target's ownership; the target checks everything again. */
#define SES_REWRAP_STATEMENT_BYTES                                                                 \
    (sizeof SES_CTX_REWRAP + 2 * SES_ID_BYTES + SES_ENVELOPE_KCOMMIT_BYTES + SES_ID_BYTES +        \
     SES_ENVELOPE_SEALED_BYTES + SES_ID_BYTES) /* 193 */

/* The signed statement bytes of a re-wrap (layout above). */
void ses_rewrap_statement(uint8_t out[SES_REWRAP_STATEMENT_BYTES],
                          const uint8_t thread_id[SES_ID_BYTES], const uint8_t msg_id[SES_ID_BYTES],
                          const uint8_t kcommit[SES_ENVELOPE_KCOMMIT_BYTES],
                          const uint8_t target_device_id[SES_ID_BYTES],
                          const uint8_t sealed[SES_ENVELOPE_SEALED_BYTES],
                          const uint8_t by_device_id[SES_ID_BYTES]);

/* The existing device my_device_id (box keys my_box_pk/my_box_sk, signing key my_sign_sk) re-wraps
 * the K of an envelope it can open for target_device_id (target_box_pk). In this order: parse
 * (SES_EUNSUPPORTED, SES_EBAD_ENVELOPE); the envelope's signature with sender_sign_pk
 * (SES_EBAD_SIGNATURE); a wrap for my_device_id (SES_ENOT_A_RECIPIENT) that opens
 * (SES_EDECRYPT_FAILED); kcommit (SES_EBAD_COMMITMENT); the ciphertext decrypts and its inner
 * layout and ids are right (SES_EDECRYPT_FAILED, SES_EBAD_ENVELOPE, SES_EINNER_MISMATCH): only a
 * key that opens the message is passed on. Then sealed = crypto_box_seal(K, target_box_pk) and sig
 * over the statement. The caller makes sure the target is an active device of ITS OWN user (the
 * server refuses anything else). SES_EINVALID_ARG for NULL pointers, a target equal to
 * my_device_id, or an unusable target key; SES_ENOMEM. Outputs are written only on success; K is
 * wiped. */
int ses_rewrap_create(const uint8_t *bytes, size_t len, const uint8_t my_device_id[SES_ID_BYTES],
                      const uint8_t my_box_pk[SES_BOX_PK_BYTES],
                      const uint8_t my_box_sk[SES_BOX_SK_BYTES],
                      const uint8_t sender_sign_pk[SES_SIGN_PK_BYTES],
                      const uint8_t my_sign_sk[SES_SIGN_SK_BYTES],
                      const uint8_t target_device_id[SES_ID_BYTES],
                      const uint8_t target_box_pk[SES_BOX_PK_BYTES],
                      uint8_t sealed[SES_ENVELOPE_SEALED_BYTES], uint8_t sig[SES_SIG_BYTES]);

/* Verifies a re-wrap signature for a parsed envelope (what the server checks): the statement of
 * (v's thread_id, msg_id, kcommit, target_device_id, sealed, by_device_id) signed by by_sign_pk.
 * Returns 0, SES_EBAD_SIGNATURE or SES_EINVALID_ARG. */
int ses_rewrap_verify(const struct ses_envelope_view *v,
                      const uint8_t target_device_id[SES_ID_BYTES],
                      const uint8_t sealed[SES_ENVELOPE_SEALED_BYTES],
                      const uint8_t by_device_id[SES_ID_BYTES], const uint8_t sig[SES_SIG_BYTES],
                      const uint8_t by_sign_pk[SES_SIGN_PK_BYTES])
    __attribute__((warn_unused_result));

/* ses_envelope_open for a device that has no wrap in the envelope but a re-wrap (sealed, sig) by
 * by_device_id (signing key by_sign_pk). In this order, the first failure deciding:
 *  1. ses_envelope_parse (SES_EUNSUPPORTED, SES_EBAD_ENVELOPE);
 *  2. the envelope's signature with sender_sign_pk, first (SES_EBAD_SIGNATURE);
 *  3. every wrap's device is in expected_devices (SES_EGHOST_DEVICE); n_missing as in open, this
 *     device (which has no wrap by definition) not counted;
 *  4. by_device_id has a wrap in the envelope: only a recipient knows K (SES_ENOT_A_RECIPIENT);
 *  5. the re-wrap signature over the statement with target = my_device_id (SES_EBAD_SIGNATURE:
 *     a re-wrap for another device, of another message or by another signer does not verify);
 *  6. sealed opens with my box key pair (SES_EDECRYPT_FAILED);
 *  7.-10. kcommit (SES_EBAD_COMMITMENT), AEAD and inner layout (SES_EDECRYPT_FAILED,
 *     SES_EBAD_ENVELOPE), inner ids (SES_EINNER_MISMATCH), sender_seq > last_seen_seq
 *     (SES_EREPLAYED), exactly as in ses_envelope_open.
 * THE CALLER MUST CHECK that by_device_id is an active device of the same user as my_device_id
 * (and that by_sign_pk is that device's key): a re-wrap by anyone else is refused by the server,
 * but only this check makes it a property of the receiver. Errors also SES_EINVALID_ARG,
 * SES_ENOMEM. On success fills *out (release with ses_opened_free); on failure *out is untouched.
 */
int ses_envelope_open_rewrap(
    const uint8_t *bytes, size_t len, const uint8_t my_device_id[SES_ID_BYTES],
    const uint8_t my_box_pk[SES_BOX_PK_BYTES], const uint8_t my_box_sk[SES_BOX_SK_BYTES],
    const uint8_t sender_sign_pk[SES_SIGN_PK_BYTES],
    const uint8_t sealed[SES_ENVELOPE_SEALED_BYTES], const uint8_t sig[SES_SIG_BYTES],
    const uint8_t by_device_id[SES_ID_BYTES], const uint8_t by_sign_pk[SES_SIGN_PK_BYTES],
    const uint8_t (*expected_devices)[SES_ID_BYTES], size_t n_expected, uint64_t last_seen_seq,
    struct ses_opened *out) __attribute__((warn_unused_result));

/* --- the receiver's checks of one delivered message (PROTOCOL.md §10 "Receiver", §12) ----------
 *
 * ses_envelope_receive is the whole decision a receiving device makes about one stored or pushed
 * message once it has the keys: the frame's claim against the header, ses_envelope_open (or
 * ses_envelope_open_rewrap), and the replay rules across runs. It is pure: what needs I/O (the
 * sending device's signing key, the devices of earlier rosters, the persisted replay marks) is
 * looked up by the caller and passed in; nothing is written but *out. */

/* What the server's frame says about a message (a fetch reply or a push), and where it was read. */
struct ses_receive_claim {
    uint8_t thread_id[SES_ID_BYTES];        /* the thread the message was fetched from */
    uint8_t sender_user_id[SES_ID_BYTES];   /* the frame's "sender" */
    uint8_t sender_device_id[SES_ID_BYTES]; /* the frame's "device" */
    uint64_t seq;                           /* the frame's "seq": its place in the thread, >= 1 */
};

/* A history re-wrap of the message for this device by another device of its own user (§12). */
struct ses_receive_rewrap {
    uint8_t sealed[SES_ENVELOPE_SEALED_BYTES];
    uint8_t sig[SES_SIG_BYTES];
    uint8_t by_device_id[SES_ID_BYTES];
    uint8_t by_sign_pk[SES_SIGN_PK_BYTES]; /* the caller checked: an active device of this user */
};

/* The receiver's replay state for the sending device in this thread. */
struct ses_receive_marks {
    uint64_t seq;            /* persisted: the highest thread seq verified from that device, 0 */
    uint64_t sender_seq;     /* persisted: the sender_seq of that message */
    uint64_t run_sender_seq; /* the highest sender_seq opened from that device in this run, 0 */
    /* 1 if a message with msg_id was already opened in this run, else 0; NULL: none was. */
    int (*msg_id_seen)(void *ctx, const uint8_t msg_id[SES_ID_BYTES]);
    void *ctx;
};

/* Flag of ses_envelope_receive: wraps to unexpected devices (revoked or removed since) are listed
 * in out->ghosts and the message is still opened. */
#define SES_RECEIVE_ALLOW_GHOSTS 1u

struct ses_receive_in {
    const uint8_t *bytes; /* the envelope, len bytes */
    size_t len;
    const struct ses_receive_claim *claim;
    const uint8_t *my_device_id; /* SES_ID_BYTES: the receiving device and its box key pair */
    const uint8_t *my_box_pk;    /* SES_BOX_PK_BYTES */
    const uint8_t *my_box_sk;    /* SES_BOX_SK_BYTES */
    /* SES_SIGN_PK_BYTES: the sending device's signing key (the roster's, or the one the caller
     * found for a device no longer in it) */
    const uint8_t *sender_sign_pk;
    const struct ses_receive_rewrap *rewrap; /* NULL: opened with this device's own wrap */
    /* the expected recipient devices (distinct; NULL when 0): the active devices of the current
     * members, and those of earlier rosters the caller has seen */
    const uint8_t (*expected)[SES_ID_BYTES];
    size_t n_expected;
    struct ses_receive_marks marks;
    unsigned flags; /* SES_RECEIVE_* */
};

/* Which check decided (out->reason). */
enum ses_receive_reason {
    SES_RECEIVE_ACCEPTED = 0,
    SES_RECEIVE_CLAIM,    /* SES_EINNER_MISMATCH: the frame's sender, device or thread differs
                             from the envelope's header */
    SES_RECEIVE_ENVELOPE, /* a code of parse, ses_envelope_open or ses_envelope_open_rewrap */
    SES_RECEIVE_SEQ,      /* SES_EREPLAYED: sender_seq is not above out->last_seen */
    SES_RECEIVE_MARK,     /* SES_EREPLAYED: a message at or below marks.seq whose sender_seq
                             disagrees with marks.sender_seq */
    SES_RECEIVE_MSG_ID,   /* SES_EREPLAYED: a msg_id seen twice */
};

struct ses_received {
    enum ses_receive_reason reason;
    /* the bound sender_seq had to exceed: run_sender_seq, or marks.sender_seq when larger and
     * claim->seq is above marks.seq (an older message shown again is checked against its mark) */
    uint64_t last_seen;
    size_t n_ghosts; /* SES_RECEIVE_ALLOW_GHOSTS: wrap devices not expected, in wrap order */
    uint8_t ghosts[SES_ENVELOPE_MAX_WRAPS][SES_ID_BYTES];
    int advance_mark;         /* accepted and claim->seq > marks.seq: the caller's new mark is
                                 (claim->seq, opened.hdr.sender_seq) */
    struct ses_opened opened; /* filled when accepted only */
};

/* Receiver step 1 (ses_envelope_receive's first): ses_envelope_parse (SES_EUNSUPPORTED,
 * SES_EBAD_ENVELOPE), then the claim's thread, sender user and sender device equal the header's
 * (SES_EINNER_MISMATCH). For a caller that needs the (still unauthenticated) header to find the
 * sender's key. Returns 0 with *v, an error above, or SES_EINVALID_ARG (NULL pointer). */
__attribute__((warn_unused_result)) int
ses_envelope_parse_claimed(const uint8_t *bytes, size_t len, const struct ses_receive_claim *claim,
                           struct ses_envelope_view *v);

/* The receiver's decision on one message, in this order, the first failure deciding:
 *  1. ses_envelope_parse_claimed (SES_EUNSUPPORTED, SES_EBAD_ENVELOPE; SES_EINNER_MISMATCH with
 *     SES_RECEIVE_CLAIM);
 *  2. ses_envelope_open, or ses_envelope_open_rewrap with in->rewrap, against in->expected and
 *     last_seen (every code of those, SES_RECEIVE_ENVELOPE; SES_EREPLAYED is SES_RECEIVE_SEQ).
 *     With SES_RECEIVE_ALLOW_GHOSTS a SES_EGHOST_DEVICE (which comes after a good signature) is
 *     not final: the unexpected wrap devices go to out->ghosts and the envelope is opened again
 *     with them expected;
 *  3. the persisted mark: a message at marks.seq must carry marks.sender_seq, one below marks.seq
 *     a smaller sender_seq (SES_EREPLAYED, SES_RECEIVE_MARK);
 *  4. msg_id not seen before (SES_EREPLAYED, SES_RECEIVE_MSG_ID).
 * Returns 0 (accepted: out->opened filled, out->advance_mark set) or the refusal's code; also
 * SES_EINVALID_ARG (a NULL pointer, claim->seq 0, expected devices not distinct) and SES_ENOMEM,
 * which are not the envelope's fault. *out is always written (zeroed first): on a refusal its
 * reason, last_seen and ghosts say why. Release with ses_received_free. Secrets are wiped. */
__attribute__((warn_unused_result)) int ses_envelope_receive(const struct ses_receive_in *in,
                                                             struct ses_received *out);

/* Releases out->opened (ses_opened_free) and zeroes *r. NULL and a zeroed struct are fine. */
void ses_received_free(struct ses_received *r);

#endif
