/*
 * state.h - the CLI's local client state for caseload threads: HOME/state.json (mode 0600).
 *
 * It holds no secret and no clinical content (never a message, a title or a patient name), only
 * counters and public keys that make end-to-end checks work across runs:
 *
 *   {"v":1, "device":ID,
 *    "threads": {THREAD_ID: {
 *        "send_seq": N,            last sender_seq this device used in the thread (§10)
 *        "synced": S,              server seq up to which this device has shown/synced the thread
 *        "title_seq": S, "titles_upto": U
 *                                  seq of the latest title found, and up to where `thread list`
 *                                  looked for titles (it then fetches only what is new)
 *        "senders": {DEVICE_ID: {"seq": S, "sender_seq": N}},
 *                                  highest server seq seen from that device and its sender_seq
 *        "devices": {DEVICE_ID: 1}  every device seen in the thread's rosters (recipient check of
 *                                  older messages)
 *    }},
 *    "users": {USER_ID: {"devices": ["DEVICE_ID SIGN_PK BOX_PK", ...],
 *                        "keys": {DEVICE_ID: SIGN_PK}}}
 *                                  the device keys last seen per user, sorted (key-change
 *                                  warnings), and every signing key ever seen (so that messages
 *                                  this device verified before a revocation still verify)
 *   }
 *
 * Several sesame processes may share one HOME (a `follow` running while `send` is used): every
 * save takes an exclusive lock (HOME/state.lock, flock), re-reads the file, merges this process's
 * view into it (integers: the larger wins; objects: merged key by key; anything else: ours) and
 * writes it atomically (temporary file, fsync, rename, fsync of the folder). Counters therefore
 * never go backwards. A state.json written for another device id is ignored and replaced.
 */
#ifndef SESAME_CLI_STATE_H
#define SESAME_CLI_STATE_H

#include <stdint.h>

#include <jansson.h>

#include "sesame/limits.h"

#define CLI_STATE_FILE "state.json"
#define CLI_STATE_LOCK "state.lock"
#define CLI_SECURITY_LOG "security.log"

struct cli_state {
    char home[4096];
    char device[SES_ID_TEXT_LEN + 1];
    json_t *root; /* the object above */
};

/* Loads HOME/state.json for this device (an absent file, or one of another device, gives an empty
 * state). Returns 0, SES_EIO (unreadable or not a state file: the caller refuses to go on rather
 * than lose replay protection), SES_EINVALID_ARG (home too long) or SES_ENOMEM. */
int cli_state_load(struct cli_state *st, const char *home, const uint8_t device[SES_ID_BYTES]);

/* Merges st into the file under the lock and writes it (see above); st->root becomes the merged
 * state. Returns 0, SES_EIO or SES_ENOMEM. */
int cli_state_save(struct cli_state *st);

void cli_state_free(struct cli_state *st);

/* The object of a thread (created empty when absent; NULL only when out of memory). */
json_t *cli_state_thread(struct cli_state *st, const char *thread);
/* The object obj[key], created empty when absent (NULL only when out of memory). */
json_t *cli_state_obj(json_t *obj, const char *key);
/* Non-negative integer obj[key], 0 when absent. */
uint64_t cli_state_get(const json_t *obj, const char *key);
/* obj[key] = max(obj[key], v). */
void cli_state_set_max(json_t *obj, const char *key, uint64_t v);

/* Reserves the next sender_seq of this device in thread: under the lock, reads the file,
 * takes max(send_seq on disk, st's, floor) + 1, writes it and fsyncs before returning it in *out
 * (PROTOCOL.md §10 "persisted before sending"). st is updated too. Returns 0, SES_EIO or
 * SES_ENOMEM. */
int cli_state_next_send_seq(struct cli_state *st, const char *thread, uint64_t floor,
                            uint64_t *out);

/* Appends one line {"ts","thread","seq","device","code","detail"} to HOME/security.log (0600):
 * the local record of a refused envelope (PROTOCOL.md §10 "Receiver"). Never message content.
 * Best effort. */
void cli_security_event(const char *home, const char *thread, int64_t seq, const char *device,
                        const char *code, const char *detail);

#endif
