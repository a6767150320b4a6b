/*
 * auditlog.h - the daemon's side of the tamper-evident audit log (PROTOCOL.md §9): the log's
 * origin and verifier key, signed checkpoints (every N records, every T seconds if the log grew,
 * on request and at shutdown) and retention pruning. The tree itself lives in store_audit.c; the
 * note format in protocol/note.c.
 */
#ifndef SESAME_AUDITLOG_H
#define SESAME_AUDITLOG_H

#include <stddef.h>
#include <stdint.h>

struct ses_daemon;

#define SES_ORIGIN_MAX 96
#define SES_CHECKPOINT_MAX 1024 /* bytes of one signed checkpoint note */

/* "sesame/audit/<server id, base64url>": the checkpoint origin and the log key's name. */
void ses_auditlog_origin(char out[SES_ORIGIN_MAX], const uint8_t server_id[16]);

/* The verifier key string auditors pin (note.h vkey format). Returns 0 or SES_EINVALID_ARG. */
int ses_auditlog_vkey(char *out, size_t cap, const uint8_t server_id[16], const uint8_t pk[32]);

/* Signs and stores a checkpoint of the current tree if it grew since the last one. Returns 0 or
 * an SES_E* code (logged). */
int ses_auditlog_checkpoint(struct ses_daemon *d);

/* Signs a checkpoint when checkpoint_every records were added since the last one (d: the
 * struct ses_daemon; the writer calls it after each delivery of completed jobs). */
void ses_auditlog_after_write(void *d);

/* Prunes record bytes older than audit_retention_days (if set), with an audit.prune record, in a
 * writer job; then(ud, rc), if not NULL, runs on the loop after its commit (at once when there is
 * nothing to prune). Returns 0 or the error of the submission. */
typedef void (*ses_prune_done_fn)(void *ud, int rc);
int ses_auditlog_prune(struct ses_daemon *d, ses_prune_done_fn then, void *ud);

/* Loads the last checkpoint's size, prunes, signs a checkpoint if the log grew while the daemon
 * was stopped, and starts the checkpoint and retention timers on the daemon's loop. stop closes
 * the timers (the daemon signs the final checkpoint once the loop is dry). */
int ses_auditlog_start(struct ses_daemon *d);
void ses_auditlog_stop(struct ses_daemon *d);

#endif
