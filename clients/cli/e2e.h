/*
 * e2e.h - what the thread and message commands share (PROTOCOL.md §10-§11): one logged-in
 * session with the local state, a thread's roster as the server states it (checked against its
 * roster hash and this device's own keys), opening envelopes with every receiver check, sealing
 * and sending with retries, paging through a thread, and printing messages safely.
 * Internal to the CLI executable.
 */
#ifndef SESAME_CLI_E2E_H
#define SESAME_CLI_E2E_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cli.h"
#include "sesame/envelope.h"
#include "sesame/limits.h"
#include "sesame/scales.h"
#include "state.h"

#define E2E_MAX_MEMBERS SES_MAX_RECIPIENTS /* members of a roster the CLI accepts */
#define E2E_MAX_DEVICES SES_MAX_RECIPIENTS /* active devices of one member */
#define E2E_FETCH_PAGE 500                 /* messages per fetch request (the protocol maximum) */
#define E2E_SEND_RETRIES 3                 /* resends of the same bytes after a lost connection */
/* A created_ms this far from the server's ts is noted with the message. */
#define E2E_SKEW_NOTE_MS (24LL * 3600 * 1000)
#define E2E_ID_LEN (SES_ID_TEXT_LEN + 1)

struct e2e_device {
    uint8_t id[SES_ID_BYTES];
    char text[E2E_ID_LEN];
    uint8_t sign_pk[SES_SIGN_PK_BYTES];
    uint8_t box_pk[SES_BOX_PK_BYTES];
};

struct e2e_member {
    uint8_t user[SES_ID_BYTES];
    char text[E2E_ID_LEN];
    char name[SES_MAX_NAME_LEN + 1];
    char role[16];
    size_t n_devices;
    struct e2e_device devices[E2E_MAX_DEVICES];
};

/* A thread_info (or thread / thread_add / thread_remove) reply, verified. */
struct e2e_roster {
    uint8_t thread[SES_ID_BYTES];
    char text[E2E_ID_LEN];
    char patient[40];
    uint32_t version;
    uint8_t hash[SES_ROSTER_HASH_BYTES];
    int64_t last_seq;
    size_t n_members;
    struct e2e_member members[E2E_MAX_MEMBERS];
};

/* One logged-in session: profile, connection, local state. */
struct e2e {
    struct cli *cli;
    struct ses_profile p;
    struct ses_conn *conn;
    struct cli_state st;
    int have_state;
    char me[E2E_ID_LEN], my_device[E2E_ID_LEN];
    json_t *keys_cache; /* user id -> "keys" reply (devices of users outside a roster) */
    json_t *directory;  /* "directory" reply, fetched when a name is needed */
    int refused;        /* messages refused by the receiver checks in this run */
};

/* What opening one stored or pushed message gave. */
enum e2e_msg_status {
    E2E_MSG_OK = 0,         /* verified and decrypted */
    E2E_MSG_UNVERIFIED = 1, /* the sender's device key is unknown (revoked?): not shown */
    E2E_MSG_REFUSED = 2,    /* a receiver check failed (err): dropped, security event */
};

struct e2e_msg {
    int64_t seq, ts;
    char thread[E2E_ID_LEN], patient[40];
    char sender[E2E_ID_LEN], device[E2E_ID_LEN];
    char sender_name[SES_MAX_NAME_LEN + 1], sender_role[16];
    enum e2e_msg_status status;
    int err;        /* SES_E* when refused */
    char note[512]; /* warnings to show with the message ("" if none) */
    uint8_t content_type;
    char *text; /* NUL-terminated body of a text, alert note or title; for a scale record
                   (content type 2) its fallback line as recomputed from the parsed record;
                   NULL otherwise */
    size_t body_len;
    uint8_t *body;  /* content types 5 and 6 (recommendation, patient card): the decrypted body
                       (body_len bytes), parsed with ses_rec_doc_parse / ses_patient_card_parse;
                       text is its summary line */
    int has_record; /* content type 2 parsed (ses_record_parse) into record */
    struct ses_record record; /* the parsed scale or plan record (PROTOCOL.md §14) */
    uint64_t sender_seq, created_ms;
    uint8_t sender_sign_pk[SES_SIGN_PK_BYTES]; /* the key the envelope verified with (when OK) */
    int rewrapped; /* opened through a history re-wrap by another device of this user (§12) */
    /* filled by `thread show` from receipts */
    int delivered;
    json_t *read_by; /* array of user ids, or NULL */
    char read_names[512];
};

/* Positional arguments and options ("--name VALUE", "--name=VALUE"; "--" ends the options).
 * An option with list != NULL may repeat (values appended, at most max_list). */
struct e2e_opt {
    const char *name;
    const char **value;
    const char **list;
    int *n_list;
    int max_list;
};
/* Returns 0; -1 after printing the usage line for --help (exit 0); CLI_EUSAGE after the error. */
int e2e_args(int argc, char **argv, const struct e2e_opt *opts, size_t n_opts, const char *usage,
             const char **pos, int max_pos, int *n_pos);

/* e2e_args for a command of exactly one positional argument (*arg): none or more is a usage
 * error with the message need. Same returns. */
int e2e_args1(struct cli *cli, const struct e2e_opt *opts, size_t n_opts, const char *usage,
              const char *need, const char **arg);

/* One request from start to end: logs in, resolves thread (a THREAD argument, or NULL) into the
 * request's "thread", sends req (owned), prints the reply with --json or with print (the text
 * form), logs out. Returns the exit status. */
typedef void (*e2e_print_fn)(struct e2e *x, const json_t *reply);
int e2e_run(struct cli *cli, json_t *req, const char *thread, const char *what, e2e_print_fn print);

/* Opens the session (cli_open_session) and loads the local state. Returns the exit status. */
int e2e_begin(struct cli *cli, struct e2e *x);
/* Saves the state (when loaded) if save, closes the connection, wipes the profile. Returns status,
 * or CLI_ELOCAL if the save failed while status was CLI_OK. */
int e2e_end(struct e2e *x, int status, int save);
/* Saves the local state. Returns 0 or CLI_ELOCAL (error printed). */
int e2e_save(struct e2e *x);

/* Sends req (owned) and waits for its reply. Returns 0 with *reply, or the exit status after
 * printing the error (cli_fail). */
int e2e_request(struct e2e *x, json_t *req, const char *what, json_t **reply);

/* Reconnects and logs in again (after a lost connection). Returns 0 or the exit status. */
int e2e_reconnect(struct e2e *x);

/* THREAD argument: a whole thread id, or a unique prefix (>= 4 characters) of one of the caller's
 * threads. Writes the id into out. Returns 0 or the exit status (CLI_EUSAGE if none or several
 * match). */
int e2e_resolve_thread(struct e2e *x, const char *arg, char out[E2E_ID_LEN]);

/* ID argument of the alert commands: a whole alert id, or a unique prefix (>= 4 characters) of
 * an alert in the caller's `alerts` list (every state, the 500 most urgent). Writes the id into
 * out. Returns 0 or the exit status (CLI_EUSAGE if none or several match). */
int e2e_resolve_alert(struct e2e *x, const char *arg, char out[E2E_ID_LEN]);
/* The same for the ids a listing request lists: type "alerts" (ids "alert") or "recs" ("rec");
 * noun and a_noun name them in errors ("alert", "an alert"). */
int e2e_resolve_listed(struct e2e *x, const char *arg, const char *type, const char *noun,
                       const char *a_noun, char out[E2E_ID_LEN]);

/* Parses and checks a roster reply: well-formed, the roster hash recomputed from the member ids
 * and version equals the server's, this device (when the caller is a member) is listed with this
 * device's own keys. Warns on stderr when a member's devices changed since last seen, and
 * remembers the roster's devices in the state. *out is calloc'd (free()). Returns 0 or the exit
 * status (CLI_EVERIFY for a roster that does not verify). */
int e2e_roster_parse(struct e2e *x, const json_t *reply, struct e2e_roster **out);
/* thread_info of thread, checked to be that thread's, + e2e_roster_parse. */
int e2e_roster_fetch(struct e2e *x, const char *thread, struct e2e_roster **out);
/* The same; when meta is not NULL, *meta gets the reply's "meta" object (json_decref; an empty
 * object if the server sent none). */
int e2e_roster_fetch_meta(struct e2e *x, const char *thread, struct e2e_roster **out,
                          json_t **meta);

const struct e2e_member *e2e_roster_member(const struct e2e_roster *r,
                                           const uint8_t user[SES_ID_BYTES]);
int e2e_roster_has_me(const struct e2e *x, const struct e2e_roster *r);

/* Remembers a user's current device keys and warns on stderr ("the devices of NAME changed")
 * when they differ from the ones last seen. */
void e2e_note_devices(struct e2e *x, const char *user, const char *name,
                      const struct e2e_device *devs, size_t n);

/* Opens one message of thread r ({"seq","sender","device","ts","env"[,"rewrap"]}, from fetch or a
 * push). A message without a wrap for this device but with "rewrap":{"sealed","sig","by"} (a
 * history re-wrap, PROTOCOL.md §12) is opened with ses_envelope_open_rewrap once "by" is checked
 * to be an active device of this device's own user (`keys`): otherwise the same checks.
 * every receiver check of PROTOCOL.md §10 with the sender device's key from the roster (or, for a
 * sender outside it, the `keys` of the sender), expected devices = the roster's devices and every
 * device seen in earlier rosters of the thread, and the replay check against the state
 * (per sender device) and against the messages already opened in this run (run, an object the
 * caller keeps per thread). Updates the state's per-sender marks. Refusals are recorded in
 * HOME/security.log and counted in x->refused. Returns 0 (see out->status) or SES_ENOMEM. */
int e2e_open(struct e2e *x, const struct e2e_roster *r, json_t *run, const json_t *m,
             struct e2e_msg *out);
void e2e_msg_free(struct e2e_msg *m);

/* 16 hex characters identifying a device's signing key: the first 8 bytes of BLAKE2b-256 of
 * sign_pk (what `device share-history` shows and `device fingerprint` prints on the device). */
void e2e_fingerprint(char out[17], const uint8_t sign_pk[SES_SIGN_PK_BYTES]);

/* One fetch page of thread r: the messages after seq a, at most limit seqs, which the server may
 * end early to keep its reply small (PROTOCOL.md: `through`). Checks the reply (its thread, the
 * seqs increasing within a < seq <= *through, a < *through <= a + limit, or *through == a for a
 * page past the thread's end). *reply is the caller's (json_decref). Returns 0 or an exit status.
 */
int e2e_fetch_page(struct e2e *x, const struct e2e_roster *r, int64_t a, int64_t limit,
                   json_t **reply, int64_t *through);

/* Calls cb for each message of r with after < seq <= upto (fetch in windows of 500 seqs; the
 * server leaves out messages not wrapped to this device), in order. *max_seen (may be NULL) gets
 * the highest seq delivered to cb. cb returns 0 or an exit status that stops the walk; it owns
 * the message (e2e_msg_free). Returns 0 or the exit status. */
typedef int (*e2e_msg_cb)(struct e2e *x, const struct e2e_roster *r, struct e2e_msg *m, void *ud);
int e2e_walk(struct e2e *x, const struct e2e_roster *r, int64_t after, int64_t upto, json_t *run,
             e2e_msg_cb cb, void *ud, int64_t *max_seen);

/* ack (delivered) or read cursor to seq (nothing for seq < 1). Returns 0 or the exit status. */
int e2e_cursor(struct e2e *x, const char *thread, int read, int64_t seq);

/* Seals body (content_type) to every active device of every member of *r, this device included,
 * with a fresh msg_id and the next persisted sender_seq, and sends it: a lost connection or a
 * timeout resends the same bytes (same msg_id) up to 3 times on a new connection (the server
 * answers duplicate:true if it had stored it); CONFLICT (the roster changed) fetches the roster
 * again into *r and seals anew once (new msg_id); REPLAYED (the local counter was lost) raises the
 * counter above this device's last message in the thread and seals anew once. On success *sent
 * is the server's "sent" reply. Returns 0 or the exit status. */
int e2e_send(struct e2e *x, struct e2e_roster **r, uint8_t content_type, const uint8_t *body,
             size_t len, json_t **sent);

/* 1 if s[0..len) is valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF). */
int e2e_utf8_valid(const char *s, size_t len);
/* Writes s to f with every terminal control character (C0 but newline and tab, DEL, C1) and
 * bidirectional override replaced by '?'; each line after a newline starts with indent. */
void e2e_print_safe(FILE *f, const char *s, const char *indent);
/* s with control characters and newlines replaced (for one table cell); malloc'd. */
char *e2e_flatten(const char *s);

/* Prints one message: header line "#SEQ  TIME  NAME (role)  marks", then its text indented, then
 * its notes. prefix (e.g. "[P-7F3A abcdefgh] ") or NULL. */
void e2e_print_msg(const struct e2e_msg *m, const char *prefix, const char *marks);
/* The message as a JSON object (see README.md): seq, ts, created, sender, sender_name, device,
 * content_type, text, verified, error, note, and record (e2e_record_json) for a parsed scale
 * record; with_thread adds thread and patient. */
json_t *e2e_msg_json(const struct e2e_msg *m, int with_thread);

/* A scale or plan record as JSON: {"kind":"scales","date":"YYYY-MM-DD","phq9":{"items":[...],
 * "total":N,"complete":B,"prorated":B,"answered":N,"band":CODE,"label":TEXT,"item9":N|null},
 * "gad7":{...},"phq2":{...}} or {"kind":"plan","date":...,"antidepressant":B}; an unanswered
 * item is null. NULL when out of memory. */
json_t *e2e_record_json(const struct ses_record *r);

/* Display name of a user: the roster's, else the directory's, else the id's first 8 chars. */
void e2e_user_label(struct e2e *x, const struct e2e_roster *r, const char *user, char *name,
                    size_t name_cap, char *role, size_t role_cap);

/* Appends to a note buffer of cap bytes ("; " between parts; what does not fit is cut). */
void e2e_note_add(char *note, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The id text o[key] decoded into out, its canonical text into text. Returns 0 or -1 (absent or
 * not an id). */
int e2e_get_id(const json_t *o, const char *key, uint8_t out[SES_ID_BYTES], char text[E2E_ID_LEN]);
/* The base64url text o[key] decoded into exactly n bytes. Returns 0 or -1. */
int e2e_get_key(const json_t *o, const char *key, uint8_t *out, size_t n);
/* An envelope's base64url text (a message's "env") decoded into *out (malloc'd, *len bytes).
 * Returns 0, SES_EBAD_ENVELOPE (empty, longer than any envelope, or not base64url) or
 * SES_ENOMEM. */
int e2e_decode_env(const char *b64, uint8_t **out, size_t *len);

/* Prints "sesame: error: E2E_VERIFY_FAILED: ..." and returns CLI_EVERIFY. */
int e2e_verify_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "sesame: warning: ..." on stderr. */
void e2e_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
