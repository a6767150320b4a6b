/*
 * conn.h - a synchronous Sesame client connection: TLS WebSocket (subprotocol "sesame.1") driven by
 * libwebsockets on a private libuv loop. Every call runs that loop until its condition is met or
 * its deadline passes, so the API looks blocking; nothing runs between calls. One ses_conn per
 * thread at a time; a connection must not be shared between threads.
 *
 * Received frames are queued in arrival order. ses_conn_request() takes the reply with its id out
 * of the queue and leaves everything else (pushes without id) for ses_conn_recv().
 */
#ifndef SESAME_CLI_CONN_H
#define SESAME_CLI_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "keys.h"

struct ses_conn;

/* Connects to url ("wss://HOST[:PORT][/]", HOST a DNS name or IPv4 address; port 443 when absent;
 * IPv6 literals are not supported), verifying
 * the server certificate (chain and host name) against the CA certificate(s) in ca_file only - the
 * system trust store is not used, self-signed or expired certificates are refused. Waits at most
 * timeout_ms (negative: no limit) until the server's hello frame has arrived; timeout_ms is also
 * the default deadline of ses_conn_enroll(), ses_conn_login() and ses_conn_send_text().
 * On success *out is a connection the caller frees with ses_conn_free(); on error *out is NULL.
 * Errors: SES_EINVALID_ARG (bad url), SES_EIO (ca_file unreadable, lws/libuv set-up failed, or the
 * first frame was not a hello), SES_EUNSUPPORTED (hello with another protocol version),
 * SES_ECLOSED (refused, TLS or WebSocket handshake failure, closed before hello), SES_ETIMEOUT. */
int ses_conn_open(const char *url, const char *ca_file, int timeout_ms, struct ses_conn **out);

/* Same as ses_conn_open(); on failure also writes a one-line reason (e.g. the TLS verification
 * error from libwebsockets) into err (errcap bytes; err may be NULL). */
int ses_conn_open_ex(const char *url, const char *ca_file, int timeout_ms, struct ses_conn **out,
                     char *err, size_t errcap);

/* The server's hello frame, borrowed: valid until ses_conn_free(). */
const json_t *ses_conn_hello(const struct ses_conn *c);

/* Changes the default deadline (see ses_conn_open). */
void ses_conn_set_timeout(struct ses_conn *c, int timeout_ms);

/* Sends text[0..len) as ONE WebSocket text message, whatever the bytes are (invalid JSON or larger
 * than any protocol limit is fine: tests use this for malformed input). Returns 0 once the whole
 * message has been handed to the kernel; SES_ECLOSED if the connection is (or becomes) closed
 * before that; SES_ETIMEOUT if it could not be written within the default deadline;
 * SES_ENOMEM. Frames that arrive meanwhile are queued. */
int ses_conn_send_text(struct ses_conn *c, const char *text, size_t len);
/* The same as one WebSocket binary message (the protocol has none: tests of the refusal). */
int ses_conn_send_binary(struct ses_conn *c, const void *data, size_t len);
/* The same as one text message in fragments of frag bytes (tests of reassembly). */
int ses_conn_send_fragments(struct ses_conn *c, const char *text, size_t len, size_t frag);

/* Takes the next received frame (queued ones first, else waits at most timeout_ms; 0 polls,
 * negative waits without limit). On success *frame is a new reference the caller json_decref()s.
 * Errors (*frame NULL): SES_ETIMEOUT; SES_ECLOSED when the peer closed and every frame received
 * before the close was already taken; SES_EBAD_JSON if the next frame was not a JSON object (it is
 * consumed). */
int ses_conn_recv(struct ses_conn *c, int timeout_ms, json_t **frame);

/* Close code the peer sent (1000, 1008, 1009, 4001, ...); 0 if none was received. */
int ses_conn_close_code(const struct ses_conn *c);

/* 1 while the WebSocket is open, 0 once it was closed by either side or failed. */
int ses_conn_is_open(const struct ses_conn *c);

/* Sends a request and waits for its reply. Takes ownership of req (a JSON object with at least
 * "t"), also on error; sets req "id" to the connection's next id (1, 2, ...). Frames with another
 * or no id that arrive meanwhile stay queued for ses_conn_recv(). If the connection closes before
 * the reply and an error frame without id (e.g. TOO_LARGE, whose id the server cannot read) came
 * in since the request was sent, that frame is taken as the reply.
 * Returns 0 with *reply (caller json_decref()s) when the reply's "t" is not "error"; the error's
 * "num" (a negative SES_E* from the server) with *reply set when it is an error frame; or, with
 * *reply NULL: SES_ETIMEOUT, SES_ECLOSED, SES_ENOMEM, SES_EINVALID_ARG (req not an object). */
int ses_conn_request(struct ses_conn *c, json_t *req, int timeout_ms, json_t **reply);

/* Enrols keys k with the enrolment code (PROTOCOL.md section 7): parses the code (case-insensitive,
 * dash optional), signs the enroll transcript bound to this connection's hello (server_id, nonce)
 * and the current time, and sends {"t":"enroll",...} with device_name if non-NULL. Waits up to the
 * default deadline. Returns like ses_conn_request(); SES_ECODE_INVALID without sending anything if
 * the code is malformed. On success the server closes the connection (1000): log in on a new one.
 */
int ses_conn_enroll(struct ses_conn *c, const char *code, const struct ses_keys *k,
                    const char *device_name, json_t **reply);

/* Logs in as device_id with keys k: fresh random cnonce, current time, signature over the login
 * transcript with this connection's server_id and nonce. Waits up to the default deadline.
 * Returns like ses_conn_request() (0 with the auth_ok frame in *reply). */
int ses_conn_login(struct ses_conn *c, const uint8_t device_id[16], const struct ses_keys *k,
                   json_t **reply);

/* Closes the connection politely (close code 1000, waiting at most 2 s for the server's answer)
 * if it is still open, destroys the lws context, runs the loop until every handle is closed,
 * closes the loop and frees everything. NULL-safe. */
void ses_conn_free(struct ses_conn *c);

/* The client's one clock: wall-clock time in ms (the signed "ts" fields, envelopes' created_ms,
 * the CLI's dates). In test builds (SESAME_TEST_HOOKS) SESAME_TEST_CLOCK_OFFSET_MS moves it with
 * the daemon's test clock. */
uint64_t ses_client_now_ms(void);

#endif
