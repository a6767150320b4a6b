/*
 * note.h - C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures, and transparency log
 * checkpoints (c2sp.org/tlog-checkpoint) for the audit log (security.md §3).
 *
 * A signed note is UTF-8 text ending in '\n', a blank line, then signature lines
 * "— <key name> <base64(key id[4] || signature)>\n" (U+2014 EM DASH, space). Key id =
 * SHA-256(key name || 0x0A || 0x01 || Ed25519 public key)[:4]; the signature is Ed25519 over the
 * text. A verifier key (vkey) is "<name>+<8 lower-case hex key id>+<base64(0x01 || public key)>".
 * A checkpoint's text is exactly "<origin>\n<size in decimal>\n<base64(root)>\n" (Sesame signs no
 * extension lines and accepts none). base64 is RFC 4648 §4 (standard alphabet, with padding).
 *
 * Parsing is strict (security.md §3.5): valid UTF-8, no ASCII control characters (U+0000-U+001F,
 * U+007F) other than '\n', at most SES_NOTE_MAX_SIGS signature lines, signatures by unknown keys
 * ignored, every signature by the known key must verify and at least one must be present.
 * Pure functions: no allocation, no I/O, no logging. Errors: SES_EINVALID_ARG (caller mistake,
 * buffer too small), SES_EBAD_FIELD (malformed text), SES_EAUTH_FAILED (signature missing or
 * wrong, origin mismatch).
 */
#ifndef SESAME_NOTE_H
#define SESAME_NOTE_H

#include <stddef.h>
#include <stdint.h>

#define SES_NOTE_MAX_SIGS 16  /* signature lines accepted in one note (the spec's minimum) */
#define SES_NOTE_NAME_MAX 255 /* bytes of a key name */
#define SES_NOTE_KEY_ID_BYTES 4
#define SES_NOTE_ALG_ED25519 0x01     /* signature type byte of Ed25519 keys */
#define SES_CHECKPOINT_ORIGIN_MAX 255 /* bytes of a checkpoint origin */
#define SES_NOTE_ROOT_BYTES 32
/* Longest vkey text: name + '+' + 8 hex + '+' + 44 base64 characters (no NUL). */
#define SES_NOTE_VKEY_MAX (SES_NOTE_NAME_MAX + 1 + 8 + 1 + 44)

/* A parsed Ed25519 verifier key. */
struct ses_note_vkey {
    char name[SES_NOTE_NAME_MAX + 1]; /* NUL-terminated */
    uint8_t id[SES_NOTE_KEY_ID_BYTES];
    uint8_t pk[32];
};

/* A parsed checkpoint body. */
struct ses_checkpoint {
    char origin[SES_CHECKPOINT_ORIGIN_MAX + 1]; /* NUL-terminated */
    uint64_t size;
    uint8_t root[SES_NOTE_ROOT_BYTES];
};

/* Key id of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || pk)[:4].
 * Returns 0, or SES_EINVALID_ARG if name is not a valid key name (non-empty, at most
 * SES_NOTE_NAME_MAX bytes of valid UTF-8, no control characters, no Unicode space, no '+'). */
int ses_note_key_id(uint8_t id[SES_NOTE_KEY_ID_BYTES], const char *name, const uint8_t pk[32]);

/* Writes the vkey text of (name, pk) and a NUL into out (cap bytes; SES_NOTE_VKEY_MAX + 1 always
 * suffices). Returns 0, or SES_EINVALID_ARG (invalid name, out too small). */
int ses_note_vkey_format(char *out, size_t cap, const char *name, const uint8_t pk[32]);

/* Parses a NUL-terminated vkey text: valid name, exactly 8 lower-case hex digits, base64 of exactly
 * 0x01 || 32-byte key, and the key id must match the name and key. Returns 0 or SES_EBAD_FIELD
 * (SES_EINVALID_ARG for NULL pointers); vk is zeroed on error. */
int ses_note_vkey_parse(struct ses_note_vkey *vk, const char *text)
    __attribute__((warn_unused_result));

/* Signs a note text: writes text || "\n" || "— <name> <base64(id || Ed25519(sk, text))>\n" and a
 * NUL into out (cap bytes), and its length (without NUL) into *out_len (may be NULL). The text
 * (len bytes) must be a valid note text: non-empty, ending in '\n', valid UTF-8 without control
 * characters other than '\n'. sk is a libsodium Ed25519 secret key (seed || pk); its public half
 * gives the key id. Returns 0, or SES_EINVALID_ARG (invalid text or name, out too small). */
int ses_note_sign(char *out, size_t cap, size_t *out_len, const char *text, size_t len,
                  const char *key_name, const uint8_t sk[64]);

/* Parses the signed note note[0..len) strictly (see the header comment) and verifies it against
 * the one known key vk. On success *text_len (may be NULL) is the length of the note text, which
 * is the prefix note[0..*text_len) and ends in '\n'. Returns 0, SES_EBAD_FIELD (malformed,
 * including more than SES_NOTE_MAX_SIGS signature lines), SES_EAUTH_FAILED (no signature by vk, or
 * one that does not verify) or SES_EINVALID_ARG (NULL pointers). */
int ses_note_open(const char *note, size_t len, const struct ses_note_vkey *vk, size_t *text_len)
    __attribute__((warn_unused_result));

/* Writes the checkpoint text "<origin>\n<size>\n<base64(root)>\n" and a NUL into out (cap bytes),
 * its length (without NUL) into *out_len (may be NULL). origin must be non-empty, at most
 * SES_CHECKPOINT_ORIGIN_MAX bytes of valid UTF-8 without control characters.
 * Returns 0 or SES_EINVALID_ARG (invalid origin, out too small). */
int ses_checkpoint_body(char *out, size_t cap, size_t *out_len, const char *origin, uint64_t size,
                        const uint8_t root[SES_NOTE_ROOT_BYTES]);

/* Parses a checkpoint text (exactly three lines, each ending in '\n'; size in decimal without sign
 * or leading zeros except "0", fitting in 64 bits; root the canonical base64 of exactly 32 bytes;
 * no extension lines). The text is not checked for signatures: use ses_checkpoint_open for notes.
 * Returns 0 or SES_EBAD_FIELD (SES_EINVALID_ARG for NULL pointers); cp is zeroed on error. */
int ses_checkpoint_parse_body(struct ses_checkpoint *cp, const char *text, size_t len);

/* Builds and signs a checkpoint note (ses_checkpoint_body then ses_note_sign) into out (cap bytes,
 * NUL-terminated), length into *out_len (may be NULL). Returns 0 or SES_EINVALID_ARG. */
int ses_checkpoint_sign(char *out, size_t cap, size_t *out_len, const char *origin, uint64_t size,
                        const uint8_t root[SES_NOTE_ROOT_BYTES], const char *key_name,
                        const uint8_t sk[64]);

/* Opens a signed checkpoint note: ses_note_open against vk, then ses_checkpoint_parse_body on its
 * text, then, if expected_origin is not NULL, requires the origin to equal it byte for byte.
 * Returns 0, SES_EBAD_FIELD, SES_EAUTH_FAILED (as ses_note_open, or origin mismatch) or
 * SES_EINVALID_ARG; cp is zeroed on error. */
int ses_checkpoint_open(struct ses_checkpoint *cp, const char *note, size_t len,
                        const struct ses_note_vkey *vk, const char *expected_origin)
    __attribute__((warn_unused_result));

#endif
