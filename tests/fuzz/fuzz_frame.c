/*
 * fuzz_frame.c - libFuzzer target for everything a peer's frame goes through before a handler
 * acts: the flat fast path (ses_frame_parse_flat), compared on every input with the full parser
 * (ses_frame_parse: size, depth, JSON, envelope), which must accept whatever the fast path accepts,
 * with the same id, type and members; every typed request decoder; and the base64url decoder,
 * compared with libsodium's on the raw input. Any difference aborts.
 * Build: cmake -DSESAME_FUZZ=ON -DCMAKE_C_COMPILER=clang; run: build/tests/fuzz/fuzz_frame
 * -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/limits.h"

static void differ(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_frame: %s differ on %zu bytes: %.*s\n", what, size, (int)size,
            (const char *)data);
    abort();
}

/* The flat parser accepts only what the full parser accepts, and gives the same frame. */
static void check_flat(const uint8_t *data, size_t size)
{
    struct ses_frame a, b;
    int64_t ida = -7, idb = -7;
    int ra = ses_frame_parse_flat((const char *)data, size, SES_MAX_FRAME, &a, &ida);
    if (ra == SES_FRAME_NOT_FLAT) {
        if (ida != -7)
            differ("flat parser (id changed when not flat)", data, size);
        return;
    }
    if (ra != 0)
        differ("flat parser (return code)", data, size);
    if (ses_frame_parse((const char *)data, size, SES_MAX_FRAME, &b, &idb) != 0)
        differ("flat and full parsers (verdict)", data, size);
    char *ea = ses_encode(a.root), *eb = ses_encode(b.root);
    if (ida != idb || a.id != b.id || strcmp(a.type, b.type) != 0 || ea == NULL || eb == NULL ||
        strcmp(ea, eb) != 0)
        differ("flat and full parsers (frame)", data, size);
    free(ea);
    free(eb);
    ses_frame_free(&a);
    ses_frame_free(&b);
}

/* ses_b64url_decode gives libsodium's verdict and bytes on the raw input. */
static void check_b64url(const uint8_t *data, size_t size)
{
    static uint8_t a[SES_MAX_FRAME], b[SES_MAX_FRAME];
    size_t na = 0, nb = 0;
    const char *end = NULL, *text = (const char *)data;
    if (size > SES_MAX_FRAME)
        return;
    int ra = ses_b64url_decode(a, sizeof a, text, size, &na);
    int rb = sodium_base642bin(b, sizeof b, text, size, NULL, &nb, &end,
                               sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
                     end == text + size
                 ? 0
                 : -1;
    if ((ra == 0) != (rb == 0) || (ra == 0 && (na != nb || memcmp(a, b, na) != 0)))
        differ("ses_b64url_decode and libsodium", data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ses_frame f;
    int64_t id;
    check_flat(data, size);
    check_b64url(data, size);
    if (ses_frame_parse((const char *)data, size, SES_MAX_FRAME, &f, &id) != 0)
        return 0;
    struct ses_enroll_req e;
    struct ses_auth_req a;
    struct ses_invite_req i;
    struct ses_revoke_req r;
    (void)ses_decode_enroll(f.root, &e);
    (void)ses_decode_auth(f.root, &a);
    (void)ses_decode_invite(f.root, &i);
    (void)ses_decode_revoke(f.root, &r);
    ses_frame_free(&f);
    return 0;
}
