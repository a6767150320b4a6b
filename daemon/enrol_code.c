/*
 * enrol_code.c - making and checking enrolment codes (enrol_code.h).
 */
#include <string.h>

#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/err.h"

#include "enrol_code.h"

/* The stored hash of a code's secret, keyed by the server's pepper. */
static void secret_hash(uint8_t out[32], const uint8_t secret[SES_CODE_SECRET_BYTES],
                        const uint8_t pepper[32])
{
    crypto_generichash(out, 32, secret, SES_CODE_SECRET_BYTES, pepper, 32);
}

int ses_enrol_code_new(struct ses_store *st, const uint8_t pepper[32], const uint8_t user_id[16],
                       int64_t now_ms, uint32_t ttl_s, char code_text[SES_CODE_TEXT_LEN + 1],
                       int64_t *expires_ms)
{
    struct ses_code c;
    uint8_t secret[SES_CODE_SECRET_BYTES];
    int rc = SES_EEXISTS;
    memset(&c, 0, sizeof c);
    memcpy(c.user_id, user_id, SES_ID_BYTES);
    c.created_ms = now_ms;
    c.expires_ms = now_ms + (int64_t)ttl_s * 1000;
    c.attempts_left = SES_CODE_MAX_ATTEMPTS;
    randombytes_buf(secret, sizeof secret);
    secret_hash(c.secret_hash, secret, pepper);
    for (int tries = 0; tries < 8 && rc == SES_EEXISTS; tries++) {
        randombytes_buf(c.ticket, sizeof c.ticket);
        rc = ses_store_code_insert(st, &c);
    }
    if (rc == 0) {
        ses_code_format(code_text, c.ticket, secret);
        *expires_ms = c.expires_ms;
    }
    sodium_memzero(secret, sizeof secret);
    return rc;
}

int ses_enrol_code_check(struct ses_store *st, const uint8_t pepper[32],
                         const uint8_t ticket[SES_CODE_TICKET_BYTES],
                         const uint8_t secret[SES_CODE_SECRET_BYTES], int64_t now_ms,
                         struct ses_code *out)
{
    uint8_t hash[32];
    int rc = ses_store_code_get(st, ticket, out);
    if (rc == SES_ENOT_FOUND)
        return SES_ECODE_INVALID;
    if (rc != 0)
        return rc;
    if (out->attempts_left <= 0)
        return SES_ECODE_LOCKED;
    secret_hash(hash, secret, pepper);
    rc = sodium_memcmp(hash, out->secret_hash, sizeof hash);
    sodium_memzero(hash, sizeof hash);
    if (rc != 0) {
        rc = ses_store_code_set_attempts(st, ticket, out->attempts_left - 1);
        return rc != 0 ? rc : SES_ECODE_INVALID;
    }
    if (out->used_ms != 0)
        return SES_ECODE_USED;
    return now_ms >= out->expires_ms ? SES_ECODE_EXPIRED : 0;
}
