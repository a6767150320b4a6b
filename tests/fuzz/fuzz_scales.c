/*
 * fuzz_scales.c - libFuzzer target for the content-type-2 record codec (scales.h), which every
 * receiver runs on a decrypted body from a peer: ses_record_parse, then the checks, the encoder,
 * the fallback line and the client-side rules on what it accepts. The parser accepts
 * non-canonical bodies (any key order, spaces, unknown keys, any "text"), so the invariant is the
 * canonical form's, any difference aborts:
 *  - a record the parser accepts passes ses_record_check;
 *  - its encoding E (ses_record_encode) parses back to the very same record, with
 *    ses_record_text of it as the text, and E encodes again to E byte for byte; an input equal to
 *    E (a canonical body) gives that text too. The encoder may refuse only with SES_ETOO_LARGE
 *    and only a relapse-prevention plan (its five texts fill a body that the longer generated
 *    "text" then overflows); every other record fits in SES_RECORD_MAX;
 *  - a refused body leaves the record zeroed and the text empty;
 *  - ses_rules_evaluate takes an accepted scales record (with itself as history) and gives at most
 *    SES_TRIGGERS_MAX triggers.
 * Build: cmake -DSESAME_FUZZ=ON -DCMAKE_C_COMPILER=clang; run: build/tests/fuzz/fuzz_scales
 * -max_total_time=60 (or tests/fuzz/run.sh, which seeds it from protocol/vectors/scales.json).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesame/err.h"
#include "sesame/scales.h"

#define FUZZ_NAME "fuzz_scales"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ses_record r, r2;
    static uint8_t enc[SES_RECORD_MAX], enc2[SES_RECORD_MAX];
    char text[SES_RECORD_TEXT_MAX], text2[SES_RECORD_TEXT_MAX], want[SES_RECORD_TEXT_MAX];
    memset(text, 'x', sizeof text);
    if (ses_record_parse(data, size, &r, text, sizeof text) != 0) {
        if (!all_zero(&r, sizeof r) || text[0] != '\0')
            differ("refused body leaves a record or a text", data, size);
        return 0;
    }
    if (memchr(text, '\0', sizeof text) == NULL)
        differ("parsed text not NUL-terminated", data, size);
    if (ses_record_check(&r) != 0)
        differ("parsed record fails ses_record_check", data, size);

    size_t n = 0, n2 = 0;
    int rc = ses_record_encode(&r, enc, sizeof enc, &n);
    if (rc == SES_ETOO_LARGE && r.kind == SES_RECORD_RP_PLAN && n == 0)
        return 0;
    if (rc != 0 || n == 0 || n > sizeof enc)
        differ("parsed record does not encode", data, size);
    if (ses_record_parse(enc, n, &r2, text2, sizeof text2) != 0)
        differ("encoding of a parsed record is refused", data, size);
    if (memcmp(&r, &r2, sizeof r) != 0)
        differ("encoding parses to another record", data, size);
    ses_record_text(&r, want, sizeof want);
    if (strcmp(text2, want) != 0)
        differ("encoding carries another text than ses_record_text", data, size);
    if (ses_record_encode(&r2, enc2, sizeof enc2, &n2) != 0 || n2 != n || memcmp(enc, enc2, n) != 0)
        differ("encoding is not a fixed point", data, size);
    if (size == n && memcmp(data, enc, n) == 0 && strcmp(text, want) != 0)
        differ("canonical body parsed with another text", data, size);

    if (r.kind == SES_RECORD_SCALES) {
        struct ses_episode ep;
        struct ses_trigger out[SES_TRIGGERS_MAX];
        size_t n_out = SES_TRIGGERS_MAX + 1;
        if (ses_rules_evaluate(&r, 1, &r, false, NULL, &ep, out, &n_out) != 0 ||
            n_out > SES_TRIGGERS_MAX)
            differ("rules refuse a parsed scales record", data, size);
        n_out = SES_TRIGGERS_MAX + 1;
        if (ses_rules_evaluate(NULL, 0, &r, true, NULL, &ep, out, &n_out) != 0 ||
            n_out > SES_TRIGGERS_MAX)
            differ("rules refuse a parsed scales record (no history)", data, size);
    }
    return 0;
}
