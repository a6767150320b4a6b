/*
 * wire.h - integration-test helpers on top of the real client library (sesame_client): open a
 * TLS WebSocket to the test daemon, log in as a device enrolled by the CLI, send raw or hand-built
 * frames (auth/enroll built with ses_transcript_* + ses_sign) and assert exactly what comes back:
 * the error frame's code, num and id, or the close code. Every wait has a deadline.
 */
#ifndef SESAME_INTEG_WIRE_H
#define SESAME_INTEG_WIRE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "conn.h"
#include "keys.h"
#include "profile.h"

#include "harness.h"

/* A device loaded from a CLI home (ses_profile_load), on the heap (the profile is large). */
struct w_dev {
    struct ses_profile prof;
    char device[40]; /* id text */
    char user[40];
};
/* Loads the profile in home (asserts it is enrolled). Free with w_dev_free (wipes the keys). */
struct w_dev *w_dev_load(const char *home);
void w_dev_free(struct w_dev *d);

/* Opens a connection to the env's daemon and waits for the hello. Asserts. */
struct ses_conn *w_open(const struct h_env *e);
/* Opens and logs in as dev with ses_conn_login; asserts auth_ok. */
struct ses_conn *w_login(const struct h_env *e, const struct w_dev *d);

/* w_login, then waits for the login's ('auth.login','ok') audit row, so that a snapshot taken
 * next is stable. */
struct ses_conn *w_login_settled(const struct h_env *e, const struct w_dev *d);

/* Hello fields of a connection. */
void w_hello(const struct ses_conn *c, uint8_t server_id[16], uint8_t snonce[32], int64_t *time_ms);

/* A hand-built auth frame for device_id signed with k over this connection's hello, with
 * ts = hello.time + ts_delta_ms; bad_sig flips one bit of the signature. Returns malloc'd text. */
char *w_auth_frame(const struct ses_conn *c, int64_t id, const uint8_t device_id[16],
                   const struct ses_keys *k, int64_t ts_delta_ms, bool bad_sig);
/* A hand-built enroll frame with the given code text (not parsed here, so any garbage goes out
 * as is); the signature covers ticket bytes parsed from the code when it parses, zeros otherwise.
 */
char *w_enroll_frame(const struct ses_conn *c, int64_t id, const char *code,
                     const struct ses_keys *k);

/* Sends text as one message. Asserts. */
void w_send(struct ses_conn *c, const char *text);
void w_send_len(struct ses_conn *c, const char *text, size_t len);
/* Receives one frame within timeout_ms; asserts one arrives. Caller decrefs. */
json_t *w_recv(struct ses_conn *c, int timeout_ms);
/* Asserts frame is {"t":"error","code":NAME(err),"num":err,...} with "id" == id (id < 0: no
 * "id" member). Decrefs frame. */
void w_expect_error(json_t *frame, int64_t id, int err);
/* Receives and checks the error frame. */
void w_recv_error(struct ses_conn *c, int64_t id, int err);
/* Asserts the next event is the peer closing with close_code (no other frame first). */
void w_expect_closed(struct ses_conn *c, int close_code, int timeout_ms);
/* Asserts frame["t"] == type and frame["id"] == id (id < 0: no id). Does not decref. */
void w_expect_type(const json_t *frame, const char *type, int64_t id);
/* ping -> pong on a logged-in connection. */
void w_ping_ok(struct ses_conn *c, int64_t id);

/* A request id for hand-sent frames (w_send): from 2^40 upwards, so it never collides with the
 * ids ses_conn_request() gives (1, 2, ...). */
int64_t w_raw_id(void);
/* ses_conn_request(req) (req stolen) and asserts the reply is a `type` frame with the request's
 * id. Returns the reply (caller decrefs). */
json_t *w_request_ok(struct ses_conn *c, json_t *req, const char *type);
/* ses_conn_request(req) (req stolen) and asserts the reply is the error frame of err with the
 * request's id. */
void w_request_error(struct ses_conn *c, json_t *req, int err);
/* Ping round trip: returns, as a new JSON array, every frame that arrived before the pong (the
 * pushes the server had queued for this connection before it answered the ping), in order. */
json_t *w_drain(struct ses_conn *c);
/* w_drain, then asserts every drained frame is a push (no "id") whose "t" is one of the allowed
 * types (NULL-terminated list, or NULL for none). Returns how many there were. */
size_t w_drain_only(struct ses_conn *c, const char *const allowed[]);

/* Copy of a JSON text with spaces inserted after its first '{' so that it is exactly total
 * bytes (still the same JSON value). */
char *w_pad_ws(const char *text, size_t total);
/* Builds {"t":T,"id":ID,"pad":"xxx..."} of exactly total bytes. Returns malloc'd text. */
char *w_padded_frame(const char *type, int64_t id, size_t total);
/* Builds {"t":T,"id":ID,"x":[[...]]} whose nesting depth is exactly depth (>= 2). */
char *w_deep_frame(const char *type, int64_t id, int depth);

/* Moves the daemon's clock ahead by ms with the test_clock hook, logged in as the admin of
 * admin_home whose CLI clock is already offset_ms ahead (the login's timestamp follows it). */
void w_clock_advance(const struct h_env *e, const char *admin_home, int64_t offset_ms, int64_t ms);
/* The CLI's environment for a clock offset_ms ahead: env[0] = "SESAME_TEST_CLOCK_OFFSET_MS=..."
 * (written into buf), env[1] = NULL. */
void w_clock_env(char buf[64], const char *env[2], int64_t offset_ms);

#endif
