/*
 * transcript.c - enrolment and login transcripts, Ed25519 sign/verify, key ids (PROTOCOL.md §5).
 */
#include <string.h>

#include <sodium.h>

#include "sesame/err.h"
#include "sesame/transcript.h"

static uint8_t *put(uint8_t *p, const void *src, size_t n)
{
    memcpy(p, src, n);
    return p + n;
}

static uint8_t *put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--)
        *p++ = (uint8_t)(v >> (i * 8));
    return p;
}

void ses_transcript_login(uint8_t out[SES_LOGIN_TRANSCRIPT_LEN], const uint8_t server_id[16],
                          const uint8_t snonce[32], const uint8_t cnonce[32],
                          const uint8_t device_id[16], uint64_t ts_ms)
{
    uint8_t *p = put(out, SES_CTX_LOGIN, sizeof SES_CTX_LOGIN);
    p = put(p, server_id, 16);
    p = put(p, snonce, 32);
    p = put(p, cnonce, 32);
    p = put(p, device_id, 16);
    (void)put_u64(p, ts_ms);
}

void ses_transcript_enroll(uint8_t out[SES_ENROLL_TRANSCRIPT_LEN], const uint8_t server_id[16],
                           const uint8_t snonce[32], const uint8_t ticket[SES_CODE_TICKET_BYTES],
                           const uint8_t sign_pk[32], const uint8_t box_pk[32], uint64_t ts_ms)
{
    uint8_t *p = put(out, SES_CTX_ENROLL, sizeof SES_CTX_ENROLL);
    p = put(p, server_id, 16);
    p = put(p, snonce, 32);
    p = put(p, ticket, SES_CODE_TICKET_BYTES);
    p = put(p, sign_pk, 32);
    p = put(p, box_pk, 32);
    (void)put_u64(p, ts_ms);
}

void ses_sign(uint8_t sig[SES_SIG_BYTES], const uint8_t *msg, size_t len,
              const uint8_t sk[SES_SIGN_SK_BYTES])
{
    crypto_sign_detached(sig, NULL, msg, len, sk);
}

int ses_verify(const uint8_t sig[SES_SIG_BYTES], const uint8_t *msg, size_t len,
               const uint8_t pk[SES_SIGN_PK_BYTES])
{
    return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? 0 : SES_EAUTH_FAILED;
}

void ses_kid16(uint8_t out[16], const uint8_t *pk, size_t pk_len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 16);
    crypto_generichash_update(&st, (const uint8_t *)SES_CTX_KID, sizeof SES_CTX_KID);
    crypto_generichash_update(&st, pk, pk_len);
    crypto_generichash_final(&st, out, 16);
}
