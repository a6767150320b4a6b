/*
 * fuzz_note.c - libFuzzer target for the signed-note parsers (note.h) on text from a peer or a
 * file: the vkey parser, the checkpoint body parser, ses_note_open and ses_checkpoint_open, all on
 * the whole input. The known key is the audit log key of protocol/vectors/audit.json (its seed is
 * below), so the checkpoint notes of that file, which the seeds hold, open, and the fuzzer mutates
 * notes that carry a genuine signature. Invariants, any difference aborts:
 *  - a parsed vkey formats back to exactly the input (the text is canonical: lower-case hex,
 *    canonical base64), with the key id ses_note_key_id gives; a refused one leaves vk zeroed;
 *  - a parsed checkpoint body is exactly what ses_checkpoint_body writes for its fields; a refused
 *    one leaves cp zeroed;
 *  - an opened note's text is a prefix ending in '\n' followed by a blank line; the text signed
 *    again opens with the same length; with one more signature line by an unknown key (while
 *    under SES_NOTE_MAX_SIGS lines) it still opens, with the same length; a note refused leaves
 *    *text_len 0;
 *  - ses_checkpoint_open accepts exactly when ses_note_open does, the text is a checkpoint body
 *    and its origin is the key name, and gives that body's fields.
 * Build: cmake -DSESAME_FUZZ=ON -DCMAKE_C_COMPILER=clang; run: build/tests/fuzz/fuzz_note
 * -max_total_time=60 (or tests/fuzz/run.sh, which seeds it from the vectors).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/note.h"

#define FUZZ_NAME "fuzz_note"
#include "fuzz_util.h"

/* audit.json: inputs.log_seed, keys.origin (also the key name) */
#define LOG_SEED "1114171a1d202326292c2f3235383b3e4144474a4d505356595c5f6265686b6e"
#define LOG_NAME "sesame/audit/0dTX2t3g4-bp7O_y9fj7_g"
/* audit.json: keys.vkey, which the key above must give */
#define LOG_VKEY LOG_NAME "+9b49b581+AU6k9zlUQqvu3VgQs0CrXkKiYIVpS1hhVDzbwSyvSuJU"
/* another key and name, for the signature line the known key must ignore */
#define OTHER_NAME "fuzz-other"

static void check_vkey(const uint8_t *data, size_t size, const char *text)
{
    struct ses_note_vkey vk;
    if (ses_note_vkey_parse(&vk, text) != 0) {
        if (!all_zero(&vk, sizeof vk))
            differ("vkey refused but not zeroed", data, size);
        return;
    }
    char out[SES_NOTE_VKEY_MAX + 1];
    uint8_t id[SES_NOTE_KEY_ID_BYTES];
    if (ses_note_vkey_format(out, sizeof out, vk.name, vk.pk) != 0 || strcmp(out, text) != 0)
        differ("vkey parsed but formats differently", data, size);
    if (ses_note_key_id(id, vk.name, vk.pk) != 0 || memcmp(id, vk.id, sizeof id) != 0)
        differ("vkey parsed with another key id", data, size);
}

static void check_body(const uint8_t *data, size_t size)
{
    struct ses_checkpoint cp;
    if (ses_checkpoint_parse_body(&cp, (const char *)data, size) != 0) {
        if (!all_zero(&cp, sizeof cp))
            differ("checkpoint body refused but not zeroed", data, size);
        return;
    }
    char out[SES_CHECKPOINT_ORIGIN_MAX + 96];
    size_t n = 0;
    if (ses_checkpoint_body(out, sizeof out, &n, cp.origin, cp.size, cp.root) != 0 || n != size ||
        memcmp(out, data, size) != 0)
        differ("checkpoint body parsed but written differently", data, size);
}

/* Opens note[0..len) with vk; returns the text length, or 0 if refused (checking *text_len). */
static size_t open_len(const char *note, size_t len, const struct ses_note_vkey *vk)
{
    size_t tlen = 99;
    if (ses_note_open(note, len, vk, &tlen) != 0) {
        if (tlen != 0)
            differ("note refused with a text length", (const uint8_t *)note, len);
        return 0;
    }
    return tlen;
}

static void check_open(const uint8_t *data, size_t size, const struct ses_note_vkey *vk,
                       const uint8_t sk[64], const uint8_t other_sk[64])
{
    const char *note = (const char *)data;
    size_t tlen = open_len(note, size, vk);

    struct ses_checkpoint cp, want;
    int rc = ses_checkpoint_open(&cp, note, size, vk, LOG_NAME);
    int ok = tlen > 0 && ses_checkpoint_parse_body(&want, note, tlen) == 0 &&
             strcmp(want.origin, LOG_NAME) == 0;
    if ((rc == 0) != ok || (ok && memcmp(&cp, &want, sizeof cp) != 0))
        differ("ses_checkpoint_open and ses_note_open + body parse", data, size);
    if (rc != 0 && !all_zero(&cp, sizeof cp))
        differ("checkpoint refused but not zeroed", data, size);
    if (tlen == 0)
        return;

    if (tlen + 2 > size || note[tlen - 1] != '\n' || note[tlen] != '\n')
        differ("opened note's text is not followed by a blank line", data, size);
    size_t sig_lines = 0;
    for (size_t i = tlen + 1; i < size; i++)
        sig_lines += note[i] == '\n';

    /* Room for the note and one more signature line of either name. */
    size_t cap = size + 1 + 4 + SES_NOTE_NAME_MAX + 1 + 92 + 2;
    char *buf = malloc(cap);
    if (buf == NULL)
        abort();

    /* The text alone, signed again by the known key, opens with the same length. */
    size_t n = 0;
    if (ses_note_sign(buf, cap, &n, note, tlen, LOG_NAME, sk) != 0 || open_len(buf, n, vk) != tlen)
        differ("opened note's text does not open once signed again", data, size);

    /* A signature by an unknown key is ignored. ses_note_sign over the text gives the line. */
    if (sig_lines < SES_NOTE_MAX_SIGS) {
        if (ses_note_sign(buf, cap, &n, note, tlen, OTHER_NAME, other_sk) != 0)
            differ("opened note's text cannot be signed", data, size);
        size_t line_len = n - tlen - 1; /* "— fuzz-other <base64>\n" */
        memmove(buf + size, buf + tlen + 1, line_len);
        memcpy(buf, note, size);
        if (open_len(buf, size + line_len, vk) != tlen)
            differ("a signature line by an unknown key changes the verdict", data, size);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static uint8_t pk[32], sk[64], other_pk[32], other_sk[64];
    static struct ses_note_vkey vk;
    if (!ready) {
        uint8_t seed[32];
        char text[SES_NOTE_VKEY_MAX + 1];
        if (sodium_init() < 0 ||
            sodium_hex2bin(seed, sizeof seed, LOG_SEED, strlen(LOG_SEED), NULL, NULL, NULL) != 0)
            abort();
        crypto_sign_seed_keypair(pk, sk, seed);
        memset(seed, 0x5a, sizeof seed);
        crypto_sign_seed_keypair(other_pk, other_sk, seed);
        if (ses_note_vkey_format(text, sizeof text, LOG_NAME, pk) != 0 ||
            strcmp(text, LOG_VKEY) != 0 || ses_note_vkey_parse(&vk, text) != 0)
            abort();
        ready = 1;
    }

    char *text = malloc(size + 1); /* the vkey parser takes a NUL-terminated string */
    if (text == NULL)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    check_vkey(data, size, text);
    free(text);

    check_body(data, size);
    check_open(data, size, &vk, sk, other_sk);
    return 0;
}
