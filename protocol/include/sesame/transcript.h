/*
 * transcript.h - the signed byte strings of enrolment and login (PROTOCOL.md, "Transcripts").
 *
 * Signed bytes are never JSON text: each transcript is a fixed binary layout that starts with a
 * NUL-terminated context string (domain separation), then fixed-size fields, integers big-endian.
 * Signatures are plain Ed25519 (crypto_sign_detached) over the whole transcript.
 */
#ifndef SESAME_TRANSCRIPT_H
#define SESAME_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "sesame/limits.h"

#define SES_CTX_LOGIN "sesame/v1/login"   /* followed by its NUL in the transcript */
#define SES_CTX_ENROLL "sesame/v1/enroll" /* likewise */
#define SES_CTX_KID "sesame/v1/kid"       /* key id derivation */

/* login = "sesame/v1/login\0" | server_id[16] | snonce[32] | cnonce[32] | device_id[16] | ts u64 */
#define SES_LOGIN_TRANSCRIPT_LEN (sizeof SES_CTX_LOGIN + 16 + 32 + 32 + 16 + 8)
/* enroll = "sesame/v1/enroll\0" | server_id[16] | snonce[32] | ticket[5] | sign_pk[32] |
 *          box_pk[32] | ts u64 */
#define SES_ENROLL_TRANSCRIPT_LEN (sizeof SES_CTX_ENROLL + 16 + 32 + 5 + 32 + 32 + 8)

/* Writes the login transcript into out (exactly SES_LOGIN_TRANSCRIPT_LEN bytes). */
void ses_transcript_login(uint8_t out[SES_LOGIN_TRANSCRIPT_LEN], const uint8_t server_id[16],
                          const uint8_t snonce[32], const uint8_t cnonce[32],
                          const uint8_t device_id[16], uint64_t ts_ms);

/* Writes the enrolment transcript into out (exactly SES_ENROLL_TRANSCRIPT_LEN bytes). */
void ses_transcript_enroll(uint8_t out[SES_ENROLL_TRANSCRIPT_LEN], const uint8_t server_id[16],
                           const uint8_t snonce[32], const uint8_t ticket[SES_CODE_TICKET_BYTES],
                           const uint8_t sign_pk[32], const uint8_t box_pk[32], uint64_t ts_ms);

/* Signs / verifies a transcript with an Ed25519 key. Verify returns 0 or SES_EAUTH_FAILED. */
void ses_sign(uint8_t sig[SES_SIG_BYTES], const uint8_t *msg, size_t len,
              const uint8_t sk[SES_SIGN_SK_BYTES]);
int ses_verify(const uint8_t sig[SES_SIG_BYTES], const uint8_t *msg, size_t len,
               const uint8_t pk[SES_SIGN_PK_BYTES]) __attribute__((warn_unused_result));

/* kid16(pk) = BLAKE2b-128("sesame/v1/kid\0" | pk): the server id is the kid of its signing key. */
void ses_kid16(uint8_t out[16], const uint8_t *pk, size_t pk_len);

#endif
