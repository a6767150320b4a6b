/*
 * keys.h - a device's long-term key pairs: an Ed25519 signing key (login and enrolment
 * signatures) and a separate X25519 mailbox key (end-to-end encryption). Never converted into
 * each other.
 */
#ifndef SESAME_CLI_KEYS_H
#define SESAME_CLI_KEYS_H

#include <stdint.h>

struct ses_keys {
    uint8_t sign_pk[32];
    uint8_t sign_sk[64];
    uint8_t box_pk[32];
    uint8_t box_sk[32];
};

/* Fills k with fresh key pairs (crypto_sign_keypair + crypto_box_keypair). Calls sodium_init()
 * itself; aborts the process if libsodium cannot be initialised. The caller wipes k with
 * ses_keys_wipe() when done. */
void ses_keys_generate(struct ses_keys *k);

/* Returns 0 if the public halves match the secret halves, SES_EINVALID_ARG otherwise. */
int ses_keys_check(const struct ses_keys *k);

/* Zeroes every byte of k (sodium_memzero). NULL-safe. */
void ses_keys_wipe(struct ses_keys *k);

#endif
