/*
 * enrol_code.h - single-use enrolment codes (PROTOCOL.md §5): making one for a user (an invite,
 * a device link, the first admin at init) and checking one presented by an enrolling device. The
 * server stores only a ticket and the secret's hash keyed by the server's pepper; the text is
 * shown once. Both run inside the caller's transaction (the writer's, or init's).
 */
#ifndef SESAME_ENROL_CODE_H
#define SESAME_ENROL_CODE_H

#include <stdint.h>

#include "sesame/limits.h"

#include "store.h"

/* Makes a code for user_id valid ttl_s from now_ms: stores its ticket and keyed secret hash and
 * writes its text into code_text, its expiry into *expires_ms. Returns 0 or an SES_E* code. */
int ses_enrol_code_new(struct ses_store *st, const uint8_t pepper[32], const uint8_t user_id[16],
                       int64_t now_ms, uint32_t ttl_s, char code_text[SES_CODE_TEXT_LEN + 1],
                       int64_t *expires_ms);

/* Checks the code (ticket, secret) at now_ms: SES_ECODE_INVALID (unknown, or a wrong secret,
 * which costs one attempt), SES_ECODE_LOCKED (no attempts left), SES_ECODE_USED,
 * SES_ECODE_EXPIRED; 0 with the code's row in *out. The caller marks it used. */
int ses_enrol_code_check(struct ses_store *st, const uint8_t pepper[32],
                         const uint8_t ticket[SES_CODE_TICKET_BYTES],
                         const uint8_t secret[SES_CODE_SECRET_BYTES], int64_t now_ms,
                         struct ses_code *out) __attribute__((warn_unused_result));

#endif
