/*
 * fuzz_envelope.c - libFuzzer target for what the server and every receiver do with envelope
 * bytes from a peer: the strict structural parse, the signature check, and the full receiver
 * procedure (open) with a fixed recipient key.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "sesame/envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static uint8_t sign_pk[32], sign_sk[64], box_pk[32], box_sk[32], seed[32];
    static uint8_t devices[2][16];
    if (!ready) {
        if (sodium_init() < 0)
            return 0;
        memset(seed, 7, sizeof seed);
        crypto_sign_seed_keypair(sign_pk, sign_sk, seed);
        crypto_box_seed_keypair(box_pk, box_sk, seed);
        memset(devices[0], 1, 16);
        memset(devices[1], 2, 16);
        ready = 1;
    }
    struct ses_envelope_view v;
    if (ses_envelope_parse(data, size, &v) == 0) {
        if (ses_envelope_verify_sig(&v, sign_pk) == 0)
            __builtin_trap(); /* random bytes never carry a signature by this key */
        for (size_t i = 0; i < v.n_wraps; i++)
            (void)ses_envelope_wrap_device(&v, i);
    }
    struct ses_opened o;
    if (ses_envelope_open(data, size, devices[0], box_pk, box_sk, sign_pk,
                          (const uint8_t(*)[16])devices, 2, 0, &o) == 0)
        ses_opened_free(&o);
    return 0;
}
