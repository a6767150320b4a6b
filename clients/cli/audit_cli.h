/*
 * audit_cli.h - what the `sesame audit` commands share (cmd_audit.c): their usage lines and
 * limits, the auditor's state folder (HOME/audit: the pinned log key, the last checkpoint that
 * verified), option parsing, requests over one connection, and decoding the server's hashes,
 * proofs and records. Internal to the CLI.
 */
#ifndef SESAME_CLI_AUDIT_CLI_H
#define SESAME_CLI_AUDIT_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cli.h"
#include "sesame/merkle.h"
#include "sesame/note.h"

#define TAIL_USAGE "sesame audit tail [--since SEQ] [--actor USER_ID] [--action NAME] [--limit N]"
#define SHOW_USAGE "sesame audit show SEQ"
#define CHECKPOINT_USAGE "sesame audit checkpoint"
#define PROVE_USAGE "sesame audit prove SEQ"
#define VERIFY_USAGE "sesame audit verify [--log-key VKEY [--repin]]"
#define EXPORT_USAGE "sesame audit export --from YYYY-MM-DD --to YYYY-MM-DD [--fhir]"
#define AUDIT_USAGE "sesame audit tail|show|checkpoint|prove|verify|export [OPTIONS]"

#define PAGE 1000           /* records per audit_leaves / audit_tail request (the maximum) */
#define MAX_STATE_FILE 4096 /* log.vkey, checkpoint */
#define B64STD_HASH_LEN 45  /* standard base64 of 32 bytes + NUL */
#define DAY_MS 86400000LL

#define VKEY_FILE "log.vkey"
#define CHECKPOINT_FILE "checkpoint"

/* A boolean option (no value). */
struct audit_flag {
    const char *name; /* without the dashes */
    int *value;
};

/* Prints "sesame: error: AUDIT_VERIFY_FAILED: MSG" and returns CLI_EVERIFY. */
int audit_verify_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses a decimal integer in [min, max]. Returns 0 or -1. */
int audit_parse_int(const char *s, long long min, long long max, long long *out);

/* Takes the boolean flags and at most one positional argument (when positional is not NULL) out
 * of cli->argv, then parses the remaining "--name VALUE" options with cli_parse_opts. Returns 0,
 * CLI_EUSAGE (printed), or -1 after printing help. */
int audit_parse_audit_args(struct cli *cli, const struct audit_flag *flags, size_t n_flags,
                           const struct cli_opt *opts, size_t n_opts, const char **positional,
                           const char *usage);

/* "2025-01-31T10:15:02.123Z" (UTC, milliseconds). */
void audit_fmt_time_ms(char *out, size_t cap, long long ms);

void audit_b64std(char out[B64STD_HASH_LEN], const uint8_t h[32]);

/* Decodes a base64url hash member of o. Returns 0 or -1. */
int audit_get_hash(const json_t *o, const char *key, uint8_t out[32]);

/* Decodes a JSON array of base64url hashes (at most SES_MERKLE_MAX_PROOF). Returns 0 or -1. */
int audit_get_proof(const json_t *arr, uint8_t proof[SES_MERKLE_MAX_PROOF][32], size_t *count);

/* The integer member key of o, or -1. */
long long audit_int_or(const json_t *o, const char *key, long long dflt);

/* Sends req (owned) and takes its reply. Returns 0 with *reply, or the exit status (printed). */
int audit_request(const struct cli *cli, struct ses_conn *conn, json_t *req, const char *what,
                  json_t **reply);

int audit_state_dir(const struct cli *cli, char *out, size_t cap);

/* Reads dir/name (at most MAX_STATE_FILE bytes) into a malloc'd NUL-terminated buffer.
 * Returns 0, SES_ENOT_FOUND or SES_EIO. */
int audit_state_read(const char *dir, const char *name, char **out, size_t *len);

/* Writes dir/name atomically (mode 0600), creating dir (0700). Returns 0 or -1. */
int audit_state_write(const char *dir, const char *name, const char *data, size_t len);

/* Loads the pinned vkey. Returns 0 (*have 1 or 0) or an exit status (printed). */
int audit_load_pinned(const char *dir, struct ses_note_vkey *vk, int *have);

int audit_same_vkey(const struct ses_note_vkey *a, const struct ses_note_vkey *b);

/* Length of the text of a signed note (up to and including the '\n' before the blank line), or 0
 * if there is no blank line. */
size_t audit_note_text_len(const char *note, size_t len);

/* Starts a session: profile, connection, login. */
int audit_open_session(const struct cli *cli, struct ses_conn **conn);

/* Parses a record's canonical bytes (a JSON object). NULL if they are not one. */
json_t *audit_parse_rec(const char *rec, size_t len);

/* The record object of one {"seq":S,"rec":TEXT|null} entry: the parsed canonical bytes, or
 * {"seq":S,"rec":null} once pruned (or if the bytes are not a JSON object). New reference. */
json_t *audit_entry_record(const json_t *entry);

/* The SEQ argument of show and prove (1..2^53-1): 0, CLI_EUSAGE (printed), or -1 after help. */
int audit_seq_arg(struct cli *cli, const char *usage, const char *what, long long *seq);

/* The subcommands (cmd_audit_log.c, cmd_audit_verify.c, cmd_audit_export.c). */
int audit_tail(struct cli *cli);
int audit_show(struct cli *cli);
int audit_checkpoint(struct cli *cli);
int audit_prove(struct cli *cli);
int audit_verify(struct cli *cli);
int audit_export(struct cli *cli);

#endif
