/*
 * keys.c - generation, consistency check and wiping of a device's key pairs.
 */
#include <stdlib.h>

#include <sodium.h>

#include "keys.h"
#include "sesame/err.h"

void ses_keys_generate(struct ses_keys *k)
{
    if (sodium_init() < 0)
        abort();
    crypto_sign_keypair(k->sign_pk, k->sign_sk);
    crypto_box_keypair(k->box_pk, k->box_sk);
}

int ses_keys_check(const struct ses_keys *k)
{
    uint8_t pk[32];
    int bad = 0;

    if (sodium_init() < 0)
        abort();
    crypto_sign_ed25519_sk_to_pk(pk, k->sign_sk);
    bad |= sodium_memcmp(pk, k->sign_pk, sizeof pk) != 0;
    if (crypto_scalarmult_base(pk, k->box_sk) != 0)
        bad = 1;
    bad |= sodium_memcmp(pk, k->box_pk, sizeof pk) != 0;
    sodium_memzero(pk, sizeof pk);
    return bad ? SES_EINVALID_ARG : 0;
}

void ses_keys_wipe(struct ses_keys *k)
{
    if (k != NULL)
        sodium_memzero(k, sizeof *k);
}
