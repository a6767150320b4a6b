/*
 * encode.h - text encodings used on the wire: base32 (RFC 4648 alphabet, no padding,
 * case-insensitive on input) for ids and enrolment codes, base64url without padding for keys,
 * nonces, signatures and envelopes, and the enrolment code format. Pure functions, no allocation.
 */
#ifndef SESAME_ENCODE_H
#define SESAME_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "sesame/limits.h"

/* Length of the base32 text for n bytes (no padding), without NUL. */
size_t ses_b32_len(size_t n);

/* Writes the lower-case base32 text of bin[0..n) and a NUL into out (cap bytes).
 * Returns 0, or SES_EINVALID_ARG if out is too small. */
int ses_b32_encode(char *out, size_t cap, const uint8_t *bin, size_t n, int upper);

/* Decodes exactly n bytes from text[0..len) (case-insensitive, no padding, no other characters).
 * Returns 0, or SES_EBAD_FIELD if the text is not exactly the encoding of n bytes. */
int ses_b32_decode(uint8_t *bin, size_t n, const char *text, size_t len);

/* Text of a 16-byte id (26 lower-case base32 characters + NUL). */
void ses_id_to_text(char out[SES_ID_TEXT_LEN + 1], const uint8_t id[SES_ID_BYTES]);
/* Parses an id's text. Returns 0 or SES_EBAD_FIELD. */
int ses_id_from_text(uint8_t id[SES_ID_BYTES], const char *text);

/* base64url without padding: the one codec of the tree, table driven and not constant time (for
 * public bytes: keys, nonces, signatures, envelopes; secrets go through libsodium's
 * sodium_bin2base64/sodium_base642bin). The decoder accepts exactly what
 * sodium_base642bin(URLSAFE_NO_PADDING, no ignored characters) accepts in full: URL-safe
 * characters only (and, like libsodium 1.0.18, bytes >= 0x80 as '_'), no padding,
 * len % 4 != 1, zero unused bits.
 *
 * ses_b64_len: the text length of n bytes, without NUL.
 * ses_b64url_encode: writes ses_b64_len(n) characters, no NUL, and returns that count.
 * ses_b64url_decode: writes len * 3 / 4 bytes (cap must hold them: SES_EBAD_FIELD otherwise,
 * nothing overrun), sets *out_len and returns 0, or SES_EBAD_FIELD (out may be partly written). */
size_t ses_b64_len(size_t n);
size_t ses_b64url_encode(char *out, const uint8_t *bin, size_t n);
int ses_b64url_decode(uint8_t *out, size_t cap, const char *text, size_t len, size_t *out_len);

/* Fixed-size fields. encode: out needs ses_b64_len(n)+1 bytes (text and NUL); returns 0 or
 * SES_EINVALID_ARG. decode: exactly n bytes; returns 0, or SES_EBAD_FIELD on any other length or
 * character. */
int ses_b64_encode(char *out, size_t cap, const uint8_t *bin, size_t n);
int ses_b64_decode(uint8_t *bin, size_t n, const char *text, size_t len);

/* Formats an enrolment code as "TTTTTTTT-SSSSSSSSSSSSSSSSSSSSSSSSSS" (upper case) + NUL. */
void ses_code_format(char out[SES_CODE_TEXT_LEN + 1], const uint8_t ticket[SES_CODE_TICKET_BYTES],
                     const uint8_t secret[SES_CODE_SECRET_BYTES]);
/* Parses a code (case-insensitive; the dash is optional). Returns 0 or SES_ECODE_INVALID. */
int ses_code_parse(uint8_t ticket[SES_CODE_TICKET_BYTES], uint8_t secret[SES_CODE_SECRET_BYTES],
                   const char *text);

#endif
