/*
 * session.c - connection lifecycle and request dispatch (session.h).
 *
 * Before login a connection may send exactly one frame of at most 1 KiB, `enroll` or `auth`;
 * whatever happens to it, a failure is answered with its error and the connection is closed
 * (1008; 1009 when too large). After login every request is parsed, checked against the dispatch
 * table and the authorization policy, and answered; errors leave the connection open.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/err.h"

#include "authz.h"
#include "log.h"
#include "resource.h"
#include "session.h"
#include "writer.h"

#define CLOSE_NORMAL 1000
#define CLOSE_GOING_AWAY 1001
#define CLOSE_POLICY 1008
#define CLOSE_TOO_BIG 1009
#define CLOSE_REVOKED 4001

struct route {
    const char *type;
    ses_handler_fn fn;
    enum ses_action action; /* the gate before decoding; a request whose action depends on its
                               content (contact_record, thread_meta) is gated by the broadest and
                               authorized for the precise one by its handler */
    bool preauth;           /* allowed (only) before login */
    bool test_hook;
};

static const struct route routes[] = {
    {"enroll", ses_handle_enroll, SES_ACT_COUNT, true, false},
    {"auth", ses_handle_auth, SES_ACT_COUNT, true, false},
    {"ping", ses_handle_ping, SES_ACT_PING, false, false},
    {"whoami", ses_handle_whoami, SES_ACT_WHOAMI, false, false},
    {"invite", ses_handle_invite, SES_ACT_INVITE, false, false},
    {"device_link", ses_handle_device_link, SES_ACT_DEVICE_LINK, false, false},
    {"users", ses_handle_users, SES_ACT_LIST_USERS, false, false},
    {"devices", ses_handle_devices, SES_ACT_LIST_DEVICES, false, false},
    {"revoke", ses_handle_revoke, SES_ACT_REVOKE, false, false},
    {"test_clock", ses_handle_test_clock, SES_ACT_TEST_CLOCK, false, true},
    {"audit_checkpoint", ses_handle_audit_checkpoint, SES_ACT_AUDIT_READ, false, false},
    {"audit_leaves", ses_handle_audit_leaves, SES_ACT_AUDIT_READ, false, false},
    {"audit_tail", ses_handle_audit_tail, SES_ACT_AUDIT_READ, false, false},
    {"audit_show", ses_handle_audit_show, SES_ACT_AUDIT_READ, false, false},
    {"audit_prove", ses_handle_audit_prove, SES_ACT_AUDIT_READ, false, false},
    {"audit_consistency", ses_handle_audit_consistency, SES_ACT_AUDIT_READ, false, false},
    {"thread_create", ses_handle_thread_create, SES_ACT_THREAD_CREATE, false, false},
    {"thread_info", ses_handle_thread_info, SES_ACT_THREAD_READ, false, false},
    {"threads", ses_handle_threads, SES_ACT_THREAD_LIST, false, false},
    {"thread_add", ses_handle_thread_add, SES_ACT_THREAD_ADD, false, false},
    {"thread_remove", ses_handle_thread_remove, SES_ACT_THREAD_REMOVE, false, false},
    {"send", ses_handle_send, SES_ACT_MSG_SEND, false, false},
    {"fetch", ses_handle_fetch, SES_ACT_THREAD_READ, false, false},
    {"rewrap", ses_handle_rewrap, SES_ACT_MSG_REWRAP, false, false},
    {"ack", ses_handle_ack, SES_ACT_MSG_CURSOR, false, false},
    {"read", ses_handle_read, SES_ACT_MSG_CURSOR, false, false},
    {"receipts", ses_handle_receipts, SES_ACT_THREAD_READ, false, false},
    {"directory", ses_handle_directory, SES_ACT_DIRECTORY, false, false},
    {"keys", ses_handle_keys, SES_ACT_DIRECTORY, false, false},
    {"alert_raise", ses_handle_alert_raise, SES_ACT_ALERT_RAISE, false, false},
    {"alerts", ses_handle_alerts, SES_ACT_ALERT_LIST, false, false},
    {"alert_show", ses_handle_alert_show, SES_ACT_ALERT_SHOW, false, false},
    {"alert_ack", ses_handle_alert_ack, SES_ACT_ALERT_ACK, false, false},
    {"alert_resolve", ses_handle_alert_resolve, SES_ACT_ALERT_RESOLVE, false, false},
    {"alert_cancel", ses_handle_alert_cancel, SES_ACT_ALERT_CANCEL, false, false},
    {"contact_record", ses_handle_contact_record, SES_ACT_ASSESSMENT_RECORD, false, false},
    {"thread_meta", ses_handle_thread_meta, SES_ACT_META_READ, false, false},
    {"oncall_show", ses_handle_oncall_show, SES_ACT_ONCALL_READ, false, false},
    {"oncall_set", ses_handle_oncall_set, SES_ACT_ONCALL_SET, false, false},
    {"backup_set", ses_handle_backup_set, SES_ACT_ONCALL_SET, false, false},
    {"review_session_add", ses_handle_review_session_add, SES_ACT_REVIEW_SESSION_SET, false, false},
    {"review_sessions", ses_handle_review_sessions, SES_ACT_REVIEW_SESSIONS, false, false},
    {"review_session_cancel", ses_handle_review_session_cancel, SES_ACT_REVIEW_SESSION_SET, false,
     false},
    {"agenda", ses_handle_agenda, SES_ACT_AGENDA_READ, false, false},
    {"queue", ses_handle_queue, SES_ACT_QUEUE_READ, false, false},
    {"queue_add", ses_handle_queue_add, SES_ACT_QUEUE_ADD, false, false},
    {"review_outcome", ses_handle_review_outcome, SES_ACT_REVIEW_OUTCOME, false, false},
    {"review_minutes", ses_handle_review_minutes, SES_ACT_REVIEW_MINUTES, false, false},
    {"episode_close", ses_handle_episode_close, SES_ACT_EPISODE_CLOSE, false, false},
    {"rec_send", ses_handle_rec_send, SES_ACT_REC_SEND, false, false},
    {"rec_amend", ses_handle_rec_amend, SES_ACT_REC_AMEND, false, false},
    {"rec_ack", ses_handle_rec_ack, SES_ACT_REC_ACK, false, false},
    {"rec_decide", ses_handle_rec_decide, SES_ACT_REC_DECIDE, false, false},
    {"rec_implemented", ses_handle_rec_implemented, SES_ACT_REC_IMPLEMENT, false, false},
    {"rec_verify", ses_handle_rec_verify, SES_ACT_REC_VERIFY, false, false},
    {"recs", ses_handle_recs, SES_ACT_REC_LIST, false, false},
    {"rec_show", ses_handle_rec_show, SES_ACT_REC_READ, false, false},
};

static const struct route *find_route(const struct ses_daemon *d, const char *type)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(routes[i].type, type) != 0)
            continue;
#ifdef SESAME_TEST_HOOKS
        if (routes[i].test_hook && !d->cfg.test_hooks)
            return NULL;
#else
        (void)d;
        if (routes[i].test_hook)
            return NULL;
#endif
        return &routes[i];
    }
    return NULL;
}

int ses_session_send_text(struct ses_session *s, const char *text, size_t len)
{
    return s->tc != NULL ? ses_transport_send(s->tc, text, len) : SES_ECLOSED;
}

int ses_session_send(struct ses_session *s, json_t *msg)
{
    int rc = SES_ECLOSED;
    if (msg == NULL)
        return SES_ENOMEM;
    if (s->tc != NULL) {
        char *text = ses_encode(msg);
        rc = text ? ses_transport_send(s->tc, text, strlen(text)) : SES_ENOMEM;
        free(text);
    }
    json_decref(msg);
    return rc;
}

static void send_error(struct ses_session *s, int64_t id, int err)
{
    /* codes local to a program (I/O, memory...) never reach the peer: it sees INTERNAL, the
     * operator's log gets the detail */
    if ((err >= SES_EEXISTS && err <= SES_ETIMEOUT) || err == SES_EINTERNAL) {
        SES_LOG(SES_LOG_WARN, "session", "peer=%s request %lld failed: %s", s->peer, (long long)id,
                ses_err_name(err));
        err = SES_EINTERNAL;
    }
    char *text = ses_encode_error(id, err, NULL);
    if (text != NULL && s->tc != NULL)
        (void)ses_transport_send(s->tc, text, strlen(text));
    free(text);
}

void ses_session_close(struct ses_session *s, int code, const char *reason)
{
    if (s->tc != NULL && s->state != SES_S_CLOSING)
        ses_transport_close(s->tc, code, reason);
    s->state = SES_S_CLOSING;
}

void ses_req_init(struct ses_req *r, struct ses_session *s, int64_t id)
{
    memset(r, 0, sizeof *r);
    r->d = s->d;
    r->session = s->serial;
    r->id = id;
    r->now = ses_clock_now_ms(&s->d->clock);
    r->authed = s->state == SES_S_AUTHED;
    if (r->authed) {
        memcpy(r->user, s->user_id, SES_ID_BYTES);
        memcpy(r->device, s->device_id, SES_ID_BYTES);
        r->role = s->role;
    }
    snprintf(r->peer, sizeof r->peer, "%s", s->peer);
}

int ses_req_audit(struct ses_store *st, const struct ses_req *r, const char *action,
                  const char *object, int outcome)
{
    struct ses_audit_rec rec = {
        .ts_ms = r->now,
        .actor_user = r->authed ? r->user : NULL,
        .actor_device = r->authed ? r->device : NULL,
        .actor_role = r->authed ? ses_role_name(r->role) : NULL,
        .action = action,
        .object = object,
        .outcome = outcome == 0 ? "ok" : ses_err_name(outcome),
        .peer = r->peer,
    };
    return ses_store_audit_append(st, &rec, NULL);
}

struct ses_session *ses_req_session(const struct ses_req *r)
{
    return ses_registry_find(&r->d->sessions, r->session);
}

int ses_req_submit(const struct ses_req *r, ses_write_fn run, ses_write_done_fn done, void *job)
{
    int rc = ses_writer_submit(r->d->writer, run, done, job);
    if (rc != 0) {
        free(job);
        return rc;
    }
    return SES_PENDING;
}

/* --- denials and records written before the answer ---------------------------------------------
 */

struct deny_job {
    struct ses_req req;
    char what[64];
    bool reply; /* the request failed: its error waits for this commit */
    int err;
};

static int run_deny(struct ses_store *st, void *arg)
{
    struct deny_job *j = arg;
    return ses_req_audit(st, &j->req, "authz.denied", j->what, SES_EDENIED);
}

static void done_deny(void *arg, int rc)
{
    struct deny_job *j = arg;
    struct ses_session *s = ses_req_session(&j->req);
    if (rc != 0)
        SES_LOG(SES_LOG_ERR, "session", "peer=%s cannot record authz.denied (%s): %s", j->req.peer,
                j->what, ses_err_name(rc));
    if (s != NULL && s->deny == j)
        s->deny = NULL;
    if (s != NULL && j->reply)
        send_error(s, j->req.id, j->err);
    free(j);
}

void ses_session_audit_denied(struct ses_session *s, const char *what)
{
    struct deny_job *j = calloc(1, sizeof *j);
    if (j == NULL) {
        SES_LOG(SES_LOG_ERR, "session", "peer=%s cannot record authz.denied (%s): out of memory",
                s->peer, what);
        return;
    }
    ses_req_init(&j->req, s, s->cur_id);
    snprintf(j->what, sizeof j->what, "%s", what);
    int rc = ses_writer_submit_essential(s->d->writer, run_deny, done_deny, j);
    if (rc != 0) {
        SES_LOG(SES_LOG_ERR, "session", "peer=%s cannot record authz.denied (%s): %s", s->peer,
                what, ses_err_name(rc));
        free(j);
        return;
    }
    if (s->deny == NULL)
        s->deny = j; /* the first denial of this request carries its error reply */
}

struct record_job {
    struct ses_req req;
    char action[32], object[64];
    json_t *root; /* the request, run again after the commit */
    ses_handler_fn again;
    bool audit_read; /* the connection's first audit read (s->audit_read_logged) */
};

static int run_record(struct ses_store *st, void *arg)
{
    struct record_job *j = arg;
    return ses_req_audit(st, &j->req, j->action, j->object, 0);
}

static void done_record(void *arg, int rc)
{
    struct record_job *j = arg;
    struct ses_session *s = ses_req_session(&j->req);
    if (s != NULL) {
        struct ses_frame f = {.root = j->root,
                              .type = json_string_value(json_object_get(j->root, "t")),
                              .id = j->req.id};
        json_t *reply = NULL;
        if (rc != 0 && j->audit_read)
            s->audit_read_logged = false; /* not recorded: the next read tries again */
        if (rc == 0) {
            s->cur_id = f.id;
            rc = j->again(s, &f, &reply);
        }
        ses_session_finish(s, f.type, f.id, rc, reply);
    }
    json_decref(j->root);
    free(j);
}

int ses_session_record_then(struct ses_session *s, const struct ses_frame *f, const char *action,
                            const char *object, ses_handler_fn again, bool audit_read)
{
    struct record_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return SES_ENOMEM;
    ses_req_init(&j->req, s, f->id);
    snprintf(j->action, sizeof j->action, "%s", action);
    snprintf(j->object, sizeof j->object, "%s", object);
    j->root = json_incref(f->root);
    j->again = again;
    j->audit_read = audit_read;
    if (audit_read)
        s->audit_read_logged = true; /* recorded once per connection, by this job */
    int rc = ses_writer_submit_essential(s->d->writer, run_record, done_record, j);
    if (rc != 0) {
        if (audit_read)
            s->audit_read_logged = false;
        json_decref(j->root);
        free(j);
        return rc;
    }
    return SES_PENDING;
}

int ses_session_authorize(struct ses_session *s, enum ses_action action,
                          const struct ses_resource *r)
{
    struct ses_principal p = {.role = s->role, .revoked = false};
    struct ses_authz z = ses_authz_decide(&p, action, r);
    if (z.rc == SES_EDENIED)
        ses_session_audit_denied(s, z.object);
    return z.rc;
}

int ses_session_authorize_thread(struct ses_session *s, enum ses_action action,
                                 const uint8_t thread[SES_ID_BYTES])
{
    struct ses_resource r;
    int rc = ses_resource_thread(s->d->store, thread, s->user_id, &r);
    return rc != 0 ? rc : ses_session_authorize(s, action, &r);
}

static void *on_open(void *ud, struct ses_tconn *tc, const char *peer)
{
    struct ses_daemon *d = ud;
    if (d->stopping)
        return NULL;
    /* the caps per address were applied at accept (transport, conn_limits.h) */
    struct ses_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->d = d;
    s->tc = tc;
    snprintf(s->peer, sizeof s->peer, "%s", peer);
    randombytes_buf(s->snonce, sizeof s->snonce);
    ses_registry_add(&d->sessions, s);

    ses_transport_set_limit(tc, SES_MAX_PREAUTH_FRAME);
    ses_transport_set_timeout(tc, d->cfg.preauth_timeout_s);
    json_t *hello = json_pack("{s:s, s:i}", "t", "hello", "v", SES_PROTO_VERSION);
    if (hello == NULL || ses_set_b64(hello, "server_id", d->keys->server_id, 16) != 0 ||
        ses_set_b64(hello, "nonce", s->snonce, sizeof s->snonce) != 0 ||
        json_object_set_new(hello, "time", json_integer(ses_clock_now_ms(&d->clock))) != 0) {
        json_decref(hello);
        ses_session_close(s, CLOSE_POLICY, "internal error");
        return s;
    }
    (void)ses_session_send(s, hello);
    SES_LOG(SES_LOG_INFO, "session", "peer=%s connected", peer);
    return s;
}

void ses_session_finish(struct ses_session *s, const char *type, int64_t id, int rc, json_t *reply)
{
    if (rc == SES_PENDING) {
        json_decref(reply);
    } else if (rc == 0 && reply != NULL) {
        /* reply gets "t" (the handler's choice, default = request type) and "id" first */
        json_t *out = json_object();
        json_t *t = json_object_get(reply, "t");
        json_object_set_new(out, "t", t ? json_incref(t) : json_string(type ? type : "?"));
        json_object_set_new(out, "id", json_integer(id));
        json_object_del(reply, "t");
        json_object_update(out, reply);
        json_decref(reply);
        (void)ses_session_send(s, out);
    } else if (rc != 0) {
        json_decref(reply);
        send_error(s, id, rc);
    }
}

static void dispatch(struct ses_session *s, const char *data, size_t len)
{
    struct ses_frame f;
    int64_t id = -1;
    bool preauth = s->state == SES_S_PREAUTH;
    json_t *reply = NULL;
    bool pending = false;
    size_t max = preauth ? SES_MAX_PREAUTH_FRAME : SES_MAX_FRAME;
    int rc = ses_frame_parse_flat(data, len, max, &f, &id);
    if (rc == SES_FRAME_NOT_FLAT)
        rc = ses_frame_parse(data, len, max, &f, &id);
    const struct route *r = NULL;
    s->cur_id = id;
    s->deny = NULL;
    if (rc != 0)
        goto done;
    r = find_route(s->d, f.type);
    if (r == NULL) {
        rc = preauth ? SES_EUNAUTHENTICATED : SES_EUNKNOWN_TYPE;
    } else if (preauth && !r->preauth) {
        rc = SES_EUNAUTHENTICATED;
    } else if (!preauth && r->preauth) {
        rc = SES_EALREADY_AUTHENTICATED;
    } else {
        if (!preauth) {
            rc = ses_session_authorize(s, r->action, NULL);
        }
        if (rc == 0)
            rc = r->fn(s, &f, &reply);
    }
done:
    pending = rc == SES_PENDING; /* the handler replies later, after a commit */
    if (s->deny != NULL && !pending && rc != 0) {
        s->deny->reply = true; /* the error follows the denial's audit record */
        s->deny->err = rc;
        json_decref(reply);
        reply = NULL;
        pending = true;
    }
    s->deny = NULL;
    ses_session_finish(s, f.type, id, pending ? SES_PENDING : rc, reply);
    if (pending)
        rc = 0;
    ses_frame_free(&f);
    if (preauth && !pending && s->state != SES_S_AUTHED)
        ses_session_close(s, rc == 0 ? CLOSE_NORMAL : CLOSE_POLICY,
                          rc == 0 ? "enrolled" : "refused");
}

static void on_frame(void *session, const char *data, size_t len)
{
    struct ses_session *s = session;
    if (s->state == SES_S_CLOSING)
        return;
    dispatch(s, data, len);
}

static void on_oversize(void *session)
{
    struct ses_session *s = session;
    if (s->state == SES_S_CLOSING)
        return;
    send_error(s, -1, SES_ETOO_LARGE);
    ses_session_close(s, CLOSE_TOO_BIG, "frame too large");
}

static void on_close(void *session)
{
    struct ses_session *s = session;
    struct ses_daemon *d = s->d;
    ses_registry_remove(&d->sessions, s);
    SES_LOG(SES_LOG_INFO, "session", "peer=%s closed", s->peer);
    sodium_memzero(s->snonce, sizeof s->snonce);
    free(s);
    ses_daemon_session_gone(d);
}

const struct ses_transport_cbs ses_session_cbs = {
    .on_open = on_open,
    .on_frame = on_frame,
    .on_oversize = on_oversize,
    .on_close = on_close,
};

int ses_session_reply(struct ses_session *s, const char *type, int64_t id, json_t *body)
{
    json_t *out = json_pack("{s:s, s:I}", "t", type, "id", (json_int_t)id);
    if (out == NULL || (body && json_object_update(out, body) != 0)) {
        json_decref(out);
        json_decref(body);
        return SES_ENOMEM;
    }
    json_decref(body);
    return ses_session_send(s, out);
}

void ses_session_reply_error(struct ses_session *s, int64_t id, int err)
{
    send_error(s, id, err);
}

void ses_session_reply_error_msg(struct ses_session *s, int64_t id, int err, const char *msg)
{
    char *text = ses_encode_error(id, err, msg);
    if (text != NULL && s->tc != NULL)
        (void)ses_transport_send(s->tc, text, strlen(text));
    free(text);
}

static void close_revoked(void *ud, struct ses_session *s)
{
    (void)ud;
    (void)ses_session_send(s, json_pack("{s:s, s:s}", "t", "closing", "reason", "revoked"));
    ses_session_close(s, CLOSE_REVOKED, "revoked");
}

int ses_sessions_close_revoked(struct ses_daemon *d, const uint8_t *device, const uint8_t *user)
{
    struct ses_audience a = {.users = (const uint8_t(*)[SES_ID_BYTES])user, .n_users = 1};
    if (device != NULL)
        a = (struct ses_audience){.devices = (const uint8_t(*)[SES_ID_BYTES])device,
                                  .n_devices = 1};
    else if (user == NULL)
        return 0;
    return ses_registry_each(&d->sessions, &a, close_revoked, NULL);
}

static void close_going_away(void *ud, struct ses_session *s)
{
    (void)ud;
    ses_session_close(s, CLOSE_GOING_AWAY, "server shutting down");
}

void ses_sessions_close_all(struct ses_daemon *d)
{
    (void)ses_registry_each(&d->sessions, NULL, close_going_away, NULL);
}
