/*
 * session.h - one client connection's protocol state: hello and nonce, the single pre-login
 * frame, login, then request dispatch with authorization. Replies and pushes go out through the
 * transport; the daemon keeps every session in a list so revocation can close them.
 */
#ifndef SESAME_SESSION_H
#define SESAME_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "sesame/codec.h"
#include "sesame/limits.h"
#include "sesame/roles.h"

#include "authz.h"
#include "daemon.h"
#include "transport.h"

enum ses_session_state { SES_S_PREAUTH, SES_S_AUTHED, SES_S_CLOSING };

struct ses_session {
    struct ses_daemon *d;
    struct ses_tconn *tc; /* NULL once the transport closed */
    char peer[64];
    enum ses_session_state state;
    uint8_t snonce[SES_NONCE_BYTES];
    bool snonce_used;
    uint8_t user_id[SES_ID_BYTES]; /* valid when state == SES_S_AUTHED */
    uint8_t device_id[SES_ID_BYTES];
    enum ses_role role;
    bool audit_read_logged; /* this connection's first audit read was recorded */
    int64_t cur_id;         /* the request being dispatched (for a deferred denial) */
    struct deny_job *deny;  /* the denial recorded while dispatching it, replied after commit */
    uint64_t serial;        /* unique per daemon run: finds the session again after a commit */
    struct ses_session *prev, *next;
};

/* The callbacks the transport calls (transport.h); ud is the struct ses_daemon. */
extern const struct ses_transport_cbs ses_session_cbs;

/* Handlers: decode f, act, set *reply (a new object without "t"/"id"; the caller adds them) and
 * return 0, or return a negative SES_E* code (the caller sends the error frame). */
typedef int (*ses_handler_fn)(struct ses_session *s, const struct ses_frame *f, json_t **reply);

/* Sends an already encoded frame (copied). Returns 0 or an SES_E* code. */
int ses_session_send_text(struct ses_session *s, const char *text, size_t len);
/* Sends a reply or push (stolen). Returns 0 or an SES_E* code. */
int ses_session_send(struct ses_session *s, json_t *msg);

/* Records a denial (object: what was refused) through the writer: every DENY is audited. When the
 * request being dispatched then fails, its error reply waits for that commit; a record that cannot
 * be written is logged. */
void ses_session_audit_denied(struct ses_session *s, const char *what);

/* What a request's writer job needs of its session, copied (the session may close before the
 * commit): the daemon, the session serial, the request id, the time and the actor. */
struct ses_req {
    struct ses_daemon *d;
    uint64_t session;
    int64_t id, now;
    bool authed;
    uint8_t user[SES_ID_BYTES], device[SES_ID_BYTES];
    enum ses_role role; /* SES_ROLE_NONE before login */
    char peer[64];
};
void ses_req_init(struct ses_req *r, struct ses_session *s, int64_t id);
/* Writer thread: an audit record by the request's actor (outcome 0 = "ok"). */
int ses_req_audit(struct ses_store *st, const struct ses_req *r, const char *action,
                  const char *object, int outcome);
/* Loop thread: the request's session if it is still open, else NULL. */
struct ses_session *ses_req_session(const struct ses_req *r);
/* Loop thread: submits job (whose first member is r's request) to the writer: SES_PENDING (the
 * done function replies after the commit), or the submission's error with job freed. */
int ses_req_submit(const struct ses_req *r, ses_write_fn run, ses_write_done_fn done, void *job);

/* For a request that must record something before it is answered (the first audit read): writes
 * the audit record (action, object) through the writer, then, after the commit, runs the frame
 * through `again` on the loop and sends its reply (or error). Returns SES_PENDING, or an error. */
int ses_session_record_then(struct ses_session *s, const struct ses_frame *f, const char *action,
                            const char *object, ses_handler_fn again, bool audit_read);

/* Loop thread: sends what a handler returned (rc 0 with reply, an error, or nothing when
 * SES_PENDING) as dispatch does. Steals reply. */
void ses_session_finish(struct ses_session *s, const char *type, int64_t id, int rc, json_t *reply);

/* The policy's decision (authz.h) on the caller doing action on r (NULL: the gate before the
 * resource is known): 0, SES_ENOT_OWNER, or SES_EDENIED audited as authz.denied. */
int ses_session_authorize(struct ses_session *s, enum ses_action action,
                          const struct ses_resource *r);
/* The same on thread, described from the store: a non-member (or an unknown thread) gets
 * SES_EDENIED audited with object "thread"; SES_EIO if the store fails. */
int ses_session_authorize_thread(struct ses_session *s, enum ses_action action,
                                 const uint8_t thread[SES_ID_BYTES]);

/* Whether seq names a message of thread sent by the caller's user: 0, SES_EBAD_FIELD, SES_EIO. */
int ses_session_check_own_msg(struct ses_session *s, const uint8_t thread[SES_ID_BYTES],
                              int64_t seq);

/* Returned by a handler that will reply later (from a writer completion). */
#define SES_PENDING 1

/* Sends {"t":type,"id":id, ...body} (body stolen, may be NULL). */
int ses_session_reply(struct ses_session *s, const char *type, int64_t id, json_t *body);
/* Closes after the queued frames are written (WebSocket close code and reason). */
void ses_session_close(struct ses_session *s, int code, const char *reason);
/* Sends the error frame for err (local codes become INTERNAL). */
void ses_session_reply_error(struct ses_session *s, int64_t id, int err);
/* The same with a message of our own instead of the table's (e.g. how long to wait). */
void ses_session_reply_error_msg(struct ses_session *s, int64_t id, int err, const char *msg);

/* Closes every session of device (or, when device is NULL, of user) with the push
 * {"t":"closing","reason":"revoked"} and close code 4001. Returns how many were closed. */
int ses_sessions_close_revoked(struct ses_daemon *d, const uint8_t *device, const uint8_t *user);

/* Closes every session (shutdown), with code 1001. */
void ses_sessions_close_all(struct ses_daemon *d);

int ses_handle_enroll(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_auth(struct ses_session *s, const struct ses_frame *f, json_t **reply);
/* The back-off of failed logins and enrolments (throttle.h): creates d->throttle and starts the
 * timer that writes, every SES_THROTTLE_AUDIT_MS, one auth.throttled audit record per key with
 * the count of attempts refused or left unrecorded. Returns 0 or SES_ENOMEM. */
int ses_auth_throttle_start(struct ses_daemon *d);
/* Writes the last counts (through the writer, before it stops) and closes the timer. */
void ses_auth_throttle_stop(struct ses_daemon *d);
int ses_handle_ping(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_whoami(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_invite(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_device_link(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_users(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_devices(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_revoke(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_test_clock(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_audit_checkpoint(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_audit_leaves(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_audit_tail(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_audit_show(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_audit_prove(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_audit_consistency(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_thread_create(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_thread_info(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_threads(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_thread_add(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_thread_remove(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_send(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_fetch(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_rewrap(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_ack(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_read(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_receipts(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_directory(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_keys(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_alert_raise(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_alerts(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_alert_show(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_alert_ack(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_alert_resolve(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_alert_cancel(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_contact_record(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_thread_meta(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_oncall_show(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_oncall_set(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_backup_set(struct ses_session *s, const struct ses_frame *f, json_t **reply);
/* The weekly case review (handle_review.c, PROTOCOL.md §15). */
int ses_handle_review_session_add(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_review_sessions(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_review_session_cancel(struct ses_session *s, const struct ses_frame *f,
                                     json_t **reply);
int ses_handle_agenda(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_queue(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_queue_add(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_review_outcome(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_review_minutes(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_episode_close(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_rec_send(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_rec_amend(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_rec_ack(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_rec_decide(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_rec_implemented(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_rec_verify(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_recs(struct ses_session *s, const struct ses_frame *f, json_t **reply);
int ses_handle_rec_show(struct ses_session *s, const struct ses_frame *f, json_t **reply);
/* {"NO_ON_DUTY_PSYCHIATRIST","NO_PROGRAM_LEAD"} as far as they apply (handle_oncall.c). */
json_t *ses_oncall_warnings_json(struct ses_daemon *d);

#endif
