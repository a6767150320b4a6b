/*
 * note.c - C2SP signed notes (Ed25519) and tlog checkpoints: key ids, vkeys, signing, strict
 * parsing and verification. See note.h for the formats and the strictness rules.
 */
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "sesame/err.h"
#include "sesame/note.h"

#define SIG_PREFIX "\xE2\x80\x94 " /* U+2014 EM DASH, space */
#define SIG_PREFIX_LEN 4
#define ED_SIG_BYTES (SES_NOTE_KEY_ID_BYTES + 64)
#define ED_SIG_B64_LEN 92   /* base64 of 68 bytes */
#define VKEY_KEY_B64_LEN 44 /* base64 of 0x01 || 32-byte key */
#define ROOT_B64_LEN 44     /* base64 of 32 bytes */

/* --- text checks ----------------------------------------------------------------------------- */

/* Decodes one UTF-8 sequence at s[*i] (strict: shortest form, no surrogates, <= U+10FFFF). */
static bool utf8_next(const uint8_t *s, size_t len, size_t *i, uint32_t *cp)
{
    uint8_t b = s[*i];
    size_t n;
    uint32_t c, min;
    if (b < 0x80) {
        *cp = b;
        (*i)++;
        return true;
    } else if ((b & 0xE0) == 0xC0) {
        n = 1, c = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
        n = 2, c = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
        n = 3, c = b & 0x07, min = 0x10000;
    } else {
        return false;
    }
    if (len - *i <= n)
        return false;
    for (size_t k = 1; k <= n; k++) {
        uint8_t t = s[*i + k];
        if ((t & 0xC0) != 0x80)
            return false;
        c = (c << 6) | (t & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return false;
    *cp = c;
    *i += n + 1;
    return true;
}

static bool is_control(uint32_t c)
{
    return c < 0x20 || c == 0x7F;
}

/* Unicode White_Space (as Go's unicode.IsSpace, which the reference note parser uses). */
static bool is_space(uint32_t c)
{
    switch (c) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
        return true;
    default:
        return c >= 0x2000 && c <= 0x200A;
    }
}

/* Valid UTF-8 with no control characters except, if allowed, '\n'. */
static bool text_ok(const char *s, size_t len, bool newlines)
{
    const uint8_t *u = (const uint8_t *)s;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        if (!utf8_next(u, len, &i, &c))
            return false;
        if (is_control(c) && !(newlines && c == '\n'))
            return false;
    }
    return true;
}

/* Key name: 1..SES_NOTE_NAME_MAX bytes of valid UTF-8, no control character, space or '+'. */
static bool name_ok(const char *s, size_t len)
{
    const uint8_t *u = (const uint8_t *)s;
    if (len == 0 || len > SES_NOTE_NAME_MAX)
        return false;
    for (size_t i = 0; i < len;) {
        uint32_t c;
        if (!utf8_next(u, len, &i, &c) || is_control(c) || is_space(c) || c == '+')
            return false;
    }
    return true;
}

/* --- base64 (RFC 4648 §4, padded) ------------------------------------------------------------ */

static size_t b64_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

static int b64_val(char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    if (ch == '+')
        return 62;
    if (ch == '/')
        return 63;
    return -1;
}

/* Strict decoder: length a multiple of 4, '=' only as the final one or two characters, unused
 * bits zero. Writes at most cap bytes to out (the rest is validated and counted, not stored) and
 * the full decoded length to *total. Returns false on any malformation. */
static bool b64_decode(const char *s, size_t len, uint8_t *out, size_t cap, size_t *total)
{
    size_t o = 0;
    if (len % 4 != 0)
        return false;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        int v[4];
        size_t pad = 0;
        for (size_t k = 0; k < 4; k++) {
            v[k] = b64_val(s[i + k]);
            if (v[k] < 0) {
                if (s[i + k] != '=' || !last || k < 2)
                    return false;
                v[k] = 0;
                pad++;
            } else if (pad > 0) {
                return false; /* data after padding */
            }
        }
        uint32_t acc =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        if ((pad == 1 && (acc & 0xFF) != 0) || (pad == 2 && (acc & 0xFFFF) != 0))
            return false; /* non-canonical trailing bits */
        uint8_t b[3] = {(uint8_t)(acc >> 16), (uint8_t)(acc >> 8), (uint8_t)acc};
        for (size_t k = 0; k < 3 - pad; k++, o++)
            if (o < cap)
                out[o] = b[k];
    }
    *total = o;
    return true;
}

/* Exactly n bytes from exactly b64_len(n) characters. */
static bool b64_decode_exact(uint8_t *out, size_t n, const char *s, size_t len)
{
    size_t total = 0;
    return len == b64_len(n) && b64_decode(s, len, out, n, &total) && total == n;
}

/* --- keys ------------------------------------------------------------------------------------ */

static void key_id(uint8_t id[SES_NOTE_KEY_ID_BYTES], const char *name, size_t name_len,
                   const uint8_t pk[32])
{
    static const uint8_t sep[2] = {0x0A, SES_NOTE_ALG_ED25519};
    uint8_t h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, name_len);
    crypto_hash_sha256_update(&st, sep, sizeof sep);
    crypto_hash_sha256_update(&st, pk, 32);
    crypto_hash_sha256_final(&st, h);
    memcpy(id, h, SES_NOTE_KEY_ID_BYTES);
}

int ses_note_key_id(uint8_t id[SES_NOTE_KEY_ID_BYTES], const char *name, const uint8_t pk[32])
{
    if (id == NULL || name == NULL || pk == NULL || !name_ok(name, strlen(name)))
        return SES_EINVALID_ARG;
    key_id(id, name, strlen(name), pk);
    return 0;
}

int ses_note_vkey_format(char *out, size_t cap, const char *name, const uint8_t pk[32])
{
    if (out == NULL || name == NULL || pk == NULL)
        return SES_EINVALID_ARG;
    size_t nl = strlen(name);
    if (!name_ok(name, nl) || cap < nl + 1 + 8 + 1 + VKEY_KEY_B64_LEN + 1)
        return SES_EINVALID_ARG;
    uint8_t id[SES_NOTE_KEY_ID_BYTES], key[33];
    key_id(id, name, nl, pk);
    key[0] = SES_NOTE_ALG_ED25519;
    memcpy(key + 1, pk, 32);
    char *p = out;
    memcpy(p, name, nl);
    p += nl;
    *p++ = '+';
    sodium_bin2hex(p, 9, id, sizeof id);
    p += 8;
    *p++ = '+';
    sodium_bin2base64(p, VKEY_KEY_B64_LEN + 1, key, sizeof key, sodium_base64_VARIANT_ORIGINAL);
    return 0;
}

static int hex_val(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

int ses_note_vkey_parse(struct ses_note_vkey *vk, const char *text)
{
    if (vk == NULL || text == NULL)
        return SES_EINVALID_ARG;
    memset(vk, 0, sizeof *vk);
    size_t len = strlen(text);
    const char *plus = memchr(text, '+', len);
    if (plus == NULL)
        return SES_EBAD_FIELD;
    size_t nl = (size_t)(plus - text);
    /* name '+' 8 hex '+' 44 base64 */
    if (!name_ok(text, nl) || len != nl + 1 + 8 + 1 + VKEY_KEY_B64_LEN || plus[9] != '+')
        return SES_EBAD_FIELD;
    uint8_t id[SES_NOTE_KEY_ID_BYTES], key[33], want[SES_NOTE_KEY_ID_BYTES];
    for (size_t i = 0; i < SES_NOTE_KEY_ID_BYTES; i++) {
        int hi = hex_val(plus[1 + 2 * i]), lo = hex_val(plus[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return SES_EBAD_FIELD;
        id[i] = (uint8_t)(hi << 4 | lo);
    }
    if (!b64_decode_exact(key, sizeof key, plus + 10, VKEY_KEY_B64_LEN) ||
        key[0] != SES_NOTE_ALG_ED25519 || crypto_core_ed25519_is_valid_point(key + 1) != 1)
        return SES_EBAD_FIELD;
    key_id(want, text, nl, key + 1);
    if (memcmp(id, want, sizeof id) != 0)
        return SES_EBAD_FIELD;
    memcpy(vk->name, text, nl);
    vk->name[nl] = '\0';
    memcpy(vk->id, id, sizeof id);
    memcpy(vk->pk, key + 1, 32);
    return 0;
}

/* --- notes ----------------------------------------------------------------------------------- */

int ses_note_sign(char *out, size_t cap, size_t *out_len, const char *text, size_t len,
                  const char *key_name, const uint8_t sk[64])
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || text == NULL || key_name == NULL || sk == NULL)
        return SES_EINVALID_ARG;
    size_t nl = strlen(key_name);
    if (len == 0 || text[len - 1] != '\n' || !text_ok(text, len, true) || !name_ok(key_name, nl))
        return SES_EINVALID_ARG;
    size_t need = len + 1 + SIG_PREFIX_LEN + nl + 1 + ED_SIG_B64_LEN + 1;
    if (cap < need + 1)
        return SES_EINVALID_ARG;
    uint8_t blob[ED_SIG_BYTES];
    key_id(blob, key_name, nl, sk + 32);
    crypto_sign_detached(blob + SES_NOTE_KEY_ID_BYTES, NULL, (const uint8_t *)text, len, sk);
    char *p = out;
    memmove(p, text, len); /* text may live in out already */
    p += len;
    *p++ = '\n';
    memcpy(p, SIG_PREFIX, SIG_PREFIX_LEN);
    p += SIG_PREFIX_LEN;
    memcpy(p, key_name, nl);
    p += nl;
    *p++ = ' ';
    sodium_bin2base64(p, ED_SIG_B64_LEN + 1, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    p += ED_SIG_B64_LEN;
    *p++ = '\n';
    *p = '\0';
    if (out_len != NULL)
        *out_len = need;
    return 0;
}

int ses_note_open(const char *note, size_t len, const struct ses_note_vkey *vk, size_t *text_len)
{
    if (text_len != NULL)
        *text_len = 0;
    if (note == NULL || vk == NULL)
        return SES_EINVALID_ARG;
    if (!text_ok(note, len, true))
        return SES_EBAD_FIELD;
    /* The text ends at the last blank line: note = text (ending '\n') '\n' signature lines. */
    size_t split = len;
    for (size_t i = len; i >= 2; i--) {
        if (note[i - 2] == '\n' && note[i - 1] == '\n') {
            split = i - 2;
            break;
        }
    }
    if (split == len)
        return SES_EBAD_FIELD;
    size_t tlen = split + 1;
    const char *sigs = note + split + 2, *end = note + len;
    if (sigs == end || end[-1] != '\n')
        return SES_EBAD_FIELD;

    /* Structural pass over every signature line; keep the known key's signatures. */
    uint8_t known[SES_NOTE_MAX_SIGS][64];
    size_t nknown = 0, nsigs = 0, vk_nl = strlen(vk->name);
    bool known_malformed = false;
    for (const char *line = sigs; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (++nsigs > SES_NOTE_MAX_SIGS)
            return SES_EBAD_FIELD;
        if ((size_t)(eol - line) < SIG_PREFIX_LEN || memcmp(line, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
            return SES_EBAD_FIELD;
        const char *name = line + SIG_PREFIX_LEN;
        const char *sp = memchr(name, ' ', (size_t)(eol - name));
        if (sp == NULL || !name_ok(name, (size_t)(sp - name)))
            return SES_EBAD_FIELD;
        uint8_t blob[ED_SIG_BYTES];
        size_t total = 0;
        if (!b64_decode(sp + 1, (size_t)(eol - sp - 1), blob, sizeof blob, &total) ||
            total < SES_NOTE_KEY_ID_BYTES + 1)
            return SES_EBAD_FIELD;
        size_t nl = (size_t)(sp - name);
        if (nl == vk_nl && memcmp(name, vk->name, nl) == 0 &&
            memcmp(blob, vk->id, SES_NOTE_KEY_ID_BYTES) == 0) {
            if (total != ED_SIG_BYTES)
                known_malformed = true;
            else
                memcpy(known[nknown++], blob + SES_NOTE_KEY_ID_BYTES, 64);
        }
        line = eol + 1;
    }
    if (known_malformed || nknown == 0)
        return SES_EAUTH_FAILED;
    for (size_t i = 0; i < nknown; i++)
        if (crypto_sign_verify_detached(known[i], (const uint8_t *)note, tlen, vk->pk) != 0)
            return SES_EAUTH_FAILED;
    if (text_len != NULL)
        *text_len = tlen;
    return 0;
}

/* --- checkpoints ----------------------------------------------------------------------------- */

int ses_checkpoint_body(char *out, size_t cap, size_t *out_len, const char *origin, uint64_t size,
                        const uint8_t root[SES_NOTE_ROOT_BYTES])
{
    if (out_len != NULL)
        *out_len = 0;
    if (out == NULL || origin == NULL || root == NULL)
        return SES_EINVALID_ARG;
    size_t ol = strlen(origin);
    if (ol == 0 || ol > SES_CHECKPOINT_ORIGIN_MAX || !text_ok(origin, ol, false))
        return SES_EINVALID_ARG;
    char digits[21];
    size_t dl = 0;
    do {
        digits[dl++] = (char)('0' + size % 10);
        size /= 10;
    } while (size != 0);
    size_t need = ol + 1 + dl + 1 + ROOT_B64_LEN + 1;
    if (cap < need + 1)
        return SES_EINVALID_ARG;
    char *p = out;
    memcpy(p, origin, ol);
    p += ol;
    *p++ = '\n';
    while (dl > 0)
        *p++ = digits[--dl];
    *p++ = '\n';
    sodium_bin2base64(p, ROOT_B64_LEN + 1, root, SES_NOTE_ROOT_BYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    p += ROOT_B64_LEN;
    *p++ = '\n';
    *p = '\0';
    if (out_len != NULL)
        *out_len = need;
    return 0;
}

static int parse_body(struct ses_checkpoint *cp, const char *text, size_t len)
{
    if (!text_ok(text, len, true) || len == 0 || text[len - 1] != '\n')
        return SES_EBAD_FIELD;
    const char *line[3], *end = text + len;
    size_t ll[3], n = 0;
    for (const char *p = text; p < end; n++) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (n == 3)
            return SES_EBAD_FIELD; /* extension lines are not accepted */
        line[n] = p;
        ll[n] = (size_t)(eol - p);
        p = eol + 1;
    }
    if (n != 3 || ll[0] == 0 || ll[0] > SES_CHECKPOINT_ORIGIN_MAX)
        return SES_EBAD_FIELD;
    /* size: 1..20 decimal digits, no leading zero unless exactly "0", no overflow */
    if (ll[1] == 0 || ll[1] > 20 || (ll[1] > 1 && line[1][0] == '0'))
        return SES_EBAD_FIELD;
    uint64_t size = 0;
    for (size_t i = 0; i < ll[1]; i++) {
        char ch = line[1][i];
        if (ch < '0' || ch > '9')
            return SES_EBAD_FIELD;
        uint64_t d = (uint64_t)(ch - '0');
        if (size > (UINT64_MAX - d) / 10)
            return SES_EBAD_FIELD;
        size = size * 10 + d;
    }
    if (!b64_decode_exact(cp->root, SES_NOTE_ROOT_BYTES, line[2], ll[2]))
        return SES_EBAD_FIELD;
    memcpy(cp->origin, line[0], ll[0]);
    cp->origin[ll[0]] = '\0';
    cp->size = size;
    return 0;
}

int ses_checkpoint_parse_body(struct ses_checkpoint *cp, const char *text, size_t len)
{
    if (cp == NULL || text == NULL)
        return SES_EINVALID_ARG;
    memset(cp, 0, sizeof *cp);
    int rc = parse_body(cp, text, len);
    if (rc != 0)
        memset(cp, 0, sizeof *cp);
    return rc;
}

int ses_checkpoint_sign(char *out, size_t cap, size_t *out_len, const char *origin, uint64_t size,
                        const uint8_t root[SES_NOTE_ROOT_BYTES], const char *key_name,
                        const uint8_t sk[64])
{
    size_t blen = 0;
    int rc = ses_checkpoint_body(out, cap, &blen, origin, size, root);
    if (rc == 0)
        rc = ses_note_sign(out, cap, out_len, out, blen, key_name, sk);
    if (rc != 0 && out_len != NULL)
        *out_len = 0;
    return rc;
}

int ses_checkpoint_open(struct ses_checkpoint *cp, const char *note, size_t len,
                        const struct ses_note_vkey *vk, const char *expected_origin)
{
    if (cp == NULL || note == NULL || vk == NULL)
        return SES_EINVALID_ARG;
    memset(cp, 0, sizeof *cp);
    size_t tlen = 0;
    int rc = ses_note_open(note, len, vk, &tlen);
    if (rc == 0)
        rc = parse_body(cp, note, tlen);
    if (rc == 0 && expected_origin != NULL && strcmp(cp->origin, expected_origin) != 0)
        rc = SES_EAUTH_FAILED;
    if (rc != 0)
        memset(cp, 0, sizeof *cp);
    return rc;
}
