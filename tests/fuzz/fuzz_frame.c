/*
 * fuzz_frame.c - libFuzzer target for everything a peer's frame goes through before a handler
 * acts: ses_frame_parse (size, depth, JSON, envelope) and every typed request decoder.
 * Build: cmake -DSESAME_FUZZ=ON -DCMAKE_C_COMPILER=clang; run: build/tests/fuzz/fuzz_frame
 * -max_total_time=60
 */
#include <stddef.h>
#include <stdint.h>

#include "sesame/codec.h"
#include "sesame/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ses_frame f;
    int64_t id;
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
