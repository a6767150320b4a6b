/*
 * auditlog.h - the daemon's side of the tamper-evident audit log (PROTOCOL.md §9): the log's
 * origin and verifier key, signed checkpoints (every N records, every T seconds if the log grew,
 * on request and at shutdown) and retention pruning. The tree itself lives in store_audit.c; the
 * note format in protocol/note.c.
 */
#ifndef SESAME_AUDITLOG_H
#define SESAME_AUDITLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "clock.h"
#include "config.h"
#include "keys.h"
#include "store.h"
#include "writer.h"

#define SES_ORIGIN_MAX 96
#define SES_CHECKPOINT_MAX 1024 /* bytes of one signed checkpoint note */
#define SES_CKPT_PATH_MAX 4096
/* The latest signed checkpoint is also kept outside the database, in this file beside it
 * (fsynced, replaced atomically): a database found behind it lost acknowledged data. */
#define SES_CKPT_FILE "checkpoint.latest"

/* The audit log's state and what it uses; the daemon fills the first five before start. */
struct ses_auditlog {
    struct ses_store *store;   /* the loop's connection (read-only while serving) */
    struct ses_writer *writer; /* NULL once the loop has ended: a checkpoint is stored directly */
    struct ses_clock *clock;
    const struct ses_config *cfg;
    struct ses_log_key *key;            /* signs checkpoints only (the daemon owns it) */
    char origin[SES_ORIGIN_MAX];        /* the log's origin, the log key's name */
    uint64_t ckpt_size;                 /* size of the latest signed checkpoint */
    char ckpt_note[SES_CHECKPOINT_MAX]; /* its signed note ("" before the first) */
    char ckpt_file[SES_CKPT_PATH_MAX];  /* SES_CKPT_FILE's path ("": no copy outside) */
    uv_timer_t ckpt_timer, prune_timer;
    bool timers_on;
};

/* The start-up check against SES_CKPT_FILE at file (absent: 0): the note must be signed by the log
 * key pk of server_id, the database's audit tree at least as large, and its root at that size the
 * note's. Logs the fault naming the file; SES_ECONFLICT for a fault, SES_EIO, or 0. */
/* Signs a checkpoint of st's whole tree with key and writes it to file (SES_CKPT_FILE), replacing
 * what is there: `sesamed log-key --new` re-bases the file on the new key. Returns 0 or SES_E*. */
int ses_auditlog_file_sign(const char *file, struct ses_store *st, const uint8_t server_id[16],
                           const struct ses_log_key *key);
int ses_auditlog_file_check(const char *file, struct ses_store *st, const uint8_t server_id[16],
                            const uint8_t pk[32]);

/* "sesame/audit/<server id, base64url>": the checkpoint origin and the log key's name. */
void ses_auditlog_origin(char out[SES_ORIGIN_MAX], const uint8_t server_id[16]);

/* The verifier key string auditors pin (note.h vkey format). Returns 0 or SES_EINVALID_ARG. */
int ses_auditlog_vkey(char *out, size_t cap, const uint8_t server_id[16], const uint8_t pk[32]);

/* Signs and stores a checkpoint of the current tree if it grew since the last one. Returns 0 or
 * an SES_E* code (logged). */
int ses_auditlog_checkpoint(struct ses_auditlog *a);

/* Signs a checkpoint when checkpoint_every records were added since the last one (a: the struct
 * ses_auditlog; the writer calls it after each delivery of completed jobs). */
void ses_auditlog_after_write(void *a);

/* Prunes record bytes older than audit_retention_days (if set), with an audit.prune record, in a
 * writer job; then(ud, rc), if not NULL, runs on the loop after its commit (at once when there is
 * nothing to prune). Returns 0 or the error of the submission. */
typedef void (*ses_prune_done_fn)(void *ud, int rc);
int ses_auditlog_prune(struct ses_auditlog *a, ses_prune_done_fn then, void *ud);

/* Sets the origin from server_id, loads the last checkpoint's size (checked against the tree and
 * the log key), prunes, signs a checkpoint if the log grew while the daemon was stopped, and
 * starts the checkpoint and retention timers on loop. Returns 0 or SES_EIO (a timer). stop
 * closes the timers (the daemon signs the final checkpoint once the loop is dry). */
int ses_auditlog_start(struct ses_auditlog *a, uv_loop_t *loop, const uint8_t server_id[16]);
void ses_auditlog_stop(struct ses_auditlog *a);

#endif
