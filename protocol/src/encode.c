/*
 * encode.c - base32 (RFC 4648, no padding), base64url (no padding, table driven) and enrolment code
 * text.
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

static const char b64url_chars[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t ses_b64_len(size_t n)
{
    return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

size_t ses_b64url_encode(char *out, const uint8_t *bin, size_t n)
{
    char *o = out;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)bin[i] << 16 | (uint32_t)bin[i + 1] << 8 | bin[i + 2];
        o[0] = b64url_chars[v >> 18];
        o[1] = b64url_chars[(v >> 12) & 63];
        o[2] = b64url_chars[(v >> 6) & 63];
        o[3] = b64url_chars[v & 63];
        o += 4;
    }
    if (n - i == 1) {
        *o++ = b64url_chars[bin[i] >> 2];
        *o++ = b64url_chars[(bin[i] & 3) << 4];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)bin[i] << 8 | bin[i + 1];
        *o++ = b64url_chars[v >> 10];
        *o++ = b64url_chars[(v >> 4) & 63];
        *o++ = b64url_chars[(v & 15) << 2];
    }
    return (size_t)(o - out);
}

/* 6-bit value of each byte as a URL-safe base64 character, or 64. Bytes >= 0x80 read as '_'
 * (63), as libsodium 1.0.18's decoder reads them (it compares signed chars): the texts it
 * accepts, with the same bytes. */
static const uint8_t b64url_val[256] = {
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 62, 64, 64,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 64, 64, 64, 64, 64, 64, 64, 0,  1,  2,  3,  4,  5,  6,
    7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 64, 64, 64, 64, 63,
    64, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48,
    49, 50, 51, 64, 64, 64, 64, 64, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63,
};

int ses_b64url_decode(uint8_t *out, size_t cap, const char *text, size_t len, size_t *out_len)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t rem = len % 4, o = 0, i = 0;
    if (rem == 1 || len / 4 * 3 + (rem ? rem - 1 : 0) > cap)
        return SES_EBAD_FIELD;
    for (; i + 4 <= len; i += 4) {
        unsigned a = b64url_val[t[i]], b = b64url_val[t[i + 1]], c = b64url_val[t[i + 2]],
                 d = b64url_val[t[i + 3]];
        if ((a | b | c | d) & 64)
            return SES_EBAD_FIELD;
        uint32_t v = a << 18 | b << 12 | c << 6 | d;
        out[o] = (uint8_t)(v >> 16);
        out[o + 1] = (uint8_t)(v >> 8);
        out[o + 2] = (uint8_t)v;
        o += 3;
    }
    if (rem >= 2) {
        unsigned a = b64url_val[t[i]], b = b64url_val[t[i + 1]];
        unsigned c = rem == 3 ? b64url_val[t[i + 2]] : 0;
        if ((a | b | c) & 64)
            return SES_EBAD_FIELD;
        if (rem == 2) {
            if (b & 15)
                return SES_EBAD_FIELD; /* unused bits must be zero */
            out[o++] = (uint8_t)(a << 2 | b >> 4);
        } else {
            if (c & 3)
                return SES_EBAD_FIELD;
            out[o++] = (uint8_t)(a << 2 | b >> 4);
            out[o++] = (uint8_t)((b & 15) << 4 | c >> 2);
        }
    }
    *out_len = o;
    return 0;
}

int ses_b64_encode(char *out, size_t cap, const uint8_t *bin, size_t n)
{
    if (cap < ses_b64_len(n) + 1)
        return SES_EINVALID_ARG;
    out[ses_b64url_encode(out, bin, n)] = '\0';
    return 0;
}

int ses_b64_decode(uint8_t *bin, size_t n, const char *text, size_t len)
{
    size_t got = 0;
    if (text == NULL || len != ses_b64_len(n) || ses_b64url_decode(bin, n, text, len, &got) != 0)
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
