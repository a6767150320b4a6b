/*
 * encode.c - base32 (RFC 4648, no padding), base64url (no padding) and enrolment code text.
 * Decoders are strict: exact length, canonical trailing bits, no stray characters.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/err.h"

static const char b32_upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
static const char b32_lower[] = "abcdefghijklmnopqrstuvwxyz234567";

size_t ses_b32_len(size_t n)
{
    return (n * 8 + 4) / 5;
}

int ses_b32_encode(char *out, size_t cap, const uint8_t *bin, size_t n, int upper)
{
    const char *alpha = upper ? b32_upper : b32_lower;
    size_t need = ses_b32_len(n);
    if (cap < need + 1)
        return SES_EINVALID_ARG;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        acc = (acc << 8) | bin[i];
        bits += 8;
        while (bits >= 5) {
            out[o++] = alpha[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0)
        out[o++] = alpha[(acc << (5 - bits)) & 31];
    out[o] = '\0';
    return 0;
}

static int b32_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= '2' && c <= '7')
        return c - '2' + 26;
    return -1;
}

int ses_b32_decode(uint8_t *bin, size_t n, const char *text, size_t len)
{
    if (text == NULL || len != ses_b32_len(n))
        return SES_EBAD_FIELD;
    uint8_t tmp[64];
    if (n > sizeof tmp)
        return SES_EINVALID_ARG;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b32_val(text[i]);
        if (v < 0)
            return SES_EBAD_FIELD;
        acc = (acc << 5) | (uint32_t)v;
        bits += 5;
        if (bits >= 8) {
            tmp[o++] = (uint8_t)(acc >> (bits - 8));
            bits -= 8;
        }
    }
    /* leftover bits must be zero (canonical encoding) */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return SES_EBAD_FIELD;
    if (o != n) {
        sodium_memzero(tmp, sizeof tmp);
        return SES_EBAD_FIELD;
    }
    memcpy(bin, tmp, n);
    sodium_memzero(tmp, sizeof tmp);
    return 0;
}

void ses_id_to_text(char out[SES_ID_TEXT_LEN + 1], const uint8_t id[SES_ID_BYTES])
{
    (void)ses_b32_encode(out, SES_ID_TEXT_LEN + 1, id, SES_ID_BYTES, 0);
}

int ses_id_from_text(uint8_t id[SES_ID_BYTES], const char *text)
{
    if (text == NULL)
        return SES_EBAD_FIELD;
    return ses_b32_decode(id, SES_ID_BYTES, text, strlen(text));
}

size_t ses_b64_len(size_t n)
{
    return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1;
}

int ses_b64_encode(char *out, size_t cap, const uint8_t *bin, size_t n)
{
    if (cap < ses_b64_len(n) + 1)
        return SES_EINVALID_ARG;
    sodium_bin2base64(out, cap, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return 0;
}

int ses_b64_decode(uint8_t *bin, size_t n, const char *text, size_t len)
{
    size_t got = 0;
    const char *end = NULL;
    if (text == NULL || len != ses_b64_len(n))
        return SES_EBAD_FIELD;
    if (sodium_base642bin(bin, n, text, len, NULL, &got, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        got != n || end != text + len)
        return SES_EBAD_FIELD;
    return 0;
}

void ses_code_format(char out[SES_CODE_TEXT_LEN + 1], const uint8_t ticket[SES_CODE_TICKET_BYTES],
                     const uint8_t secret[SES_CODE_SECRET_BYTES])
{
    (void)ses_b32_encode(out, 9, ticket, SES_CODE_TICKET_BYTES, 1);
    out[8] = '-';
    (void)ses_b32_encode(out + 9, 27, secret, SES_CODE_SECRET_BYTES, 1);
}

int ses_code_parse(uint8_t ticket[SES_CODE_TICKET_BYTES], uint8_t secret[SES_CODE_SECRET_BYTES],
                   const char *text)
{
    char compact[40];
    size_t n = 0;
    bool dash = false;
    int rc = SES_ECODE_INVALID;
    if (text == NULL)
        return SES_ECODE_INVALID;
    for (const char *p = text; *p; p++) {
        if (*p == '-' && n == 8 && !dash) { /* at most one dash, after the ticket */
            dash = true;
            continue;
        }
        if (n >= 34)
            goto out; /* too long */
        compact[n++] = *p;
    }
    if (n == 34 && ses_b32_decode(ticket, SES_CODE_TICKET_BYTES, compact, 8) == 0 &&
        ses_b32_decode(secret, SES_CODE_SECRET_BYTES, compact + 8, 26) == 0)
        rc = 0;
out:
    sodium_memzero(compact, sizeof compact); /* every path: it holds secret characters */
    return rc;
}
