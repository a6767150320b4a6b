/*
 * keys.h - the server's secret material, each in its own owner-only file of the data directory:
 * server.key holds its Ed25519 identity key (server_id = kid16 of the public key) and the pepper
 * that keys enrolment-code hashes; log.key holds the Ed25519 key that signs audit-log checkpoints
 * and nothing else. Held in sodium_malloc'd memory and wiped on free.
 */
#ifndef SESAME_KEYS_H
#define SESAME_KEYS_H

#include <stdint.h>

#define SES_KEY_FILE "server.key"
#define SES_LOG_KEY_FILE "log.key"

struct ses_server_keys {
    uint8_t sign_pk[32];
    uint8_t sign_sk[64];
    uint8_t pepper[32];
    uint8_t server_id[16];
};

/* Creates a new key file at path (must not exist; mode 0600). *out is freed with
 * ses_server_keys_free(). Errors: SES_EEXISTS, SES_EIO, SES_ENOMEM. */
int ses_server_keys_create(const char *path, struct ses_server_keys **out);
/* Loads the key file; refuses a file readable by group or others. SES_EIO with a logged reason. */
int ses_server_keys_load(const char *path, struct ses_server_keys **out)
    __attribute__((warn_unused_result));
/* Wipes and frees. NULL-safe. */
void ses_server_keys_free(struct ses_server_keys *k);

struct ses_log_key {
    uint8_t pk[32];
    uint8_t sk[64];
};

/* Same contracts as the server key functions, for log.key. */
int ses_log_key_create(const char *path, struct ses_log_key **out);
int ses_log_key_load(const char *path, struct ses_log_key **out)
    __attribute__((warn_unused_result));
void ses_log_key_free(struct ses_log_key *k);

#endif
