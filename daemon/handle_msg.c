/*
 * handle_msg.c - the message path (PROTOCOL.md §11): send, fetch, delivery and read cursors.
 *
 * send checks everything the server can check of an envelope it cannot read (security.md
 * §1.3.9) on the loop, then hands the write to the group-commit writer: the message, the thread's
 * last seq and the audit record commit together, and only then is the sender told "sent" and
 * are the recipients' open connections pushed the envelope.
 *
 * rewrap (PROTOCOL.md §12) stores the message keys of a thread's history re-wrapped by one of a
 * user's devices for another of that user's devices; fetch hands them to the target device with
 * the messages they open.
 */
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/envelope.h"
#include "sesame/err.h"
#include "sesame/limits.h"

#include "log.h"
#include "resource.h"
#include "roster_cache.h"
#include "session.h"
#include "roster.h"

#define SES_FETCH_MAX 500 /* messages per fetch reply */

static int get_env(const json_t *obj, uint8_t **out, size_t *len)
{
    const char *b64 = NULL;
    int rc = ses_get_str(obj, "env", 1, SES_ENVELOPE_B64_MAX, true, &b64);
    if (rc != 0)
        return rc;
    size_t n = json_string_length(json_object_get(obj, "env")), cap = n / 4 * 3 + 2;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return SES_ENOMEM;
    if (ses_b64url_decode(buf, cap, b64, n, len) != 0) {
        free(buf);
        return SES_EBAD_FIELD;
    }
    *out = buf;
    return 0;
}

struct send_job {
    struct ses_daemon *d;
    uint64_t session;
    int64_t req_id;
    struct ses_message m;
    uint8_t *env;
    size_t n_wraps;
    uint8_t wraps[SES_MAX_RECIPIENTS][SES_ID_BYTES];
    bool duplicate;
    int64_t now;
    char role[16];
    char peer[64];
    uint8_t sign_pk[SES_SIGN_PK_BYTES]; /* the sending device's key */
    int sig_rc;                         /* the signature check's result (prep_send) */
};

struct dup_check {
    const uint8_t *env;
    size_t env_len;
    const uint8_t *thread;
    int64_t seq;
    bool same;
};

static int check_dup(void *ud, const struct ses_message *m)
{
    struct dup_check *c = ud;
    c->seq = m->seq;
    c->same = m->env_len == c->env_len && memcmp(m->env, c->env, m->env_len) == 0 &&
              memcmp(m->thread, c->thread, SES_ID_BYTES) == 0;
    return 0;
}

static int audit_msg(struct ses_store *st, int64_t now, const uint8_t *user, const uint8_t *device,
                     const char *role, const char *peer, const char *action,
                     const uint8_t thread[16], int64_t seq)
{
    char object[96], t[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(t, thread);
    snprintf(object, sizeof object, "thread:%s seq:%lld", t, (long long)seq);
    struct ses_audit_rec rec = {.ts_ms = now,
                                .actor_user = user,
                                .actor_device = device,
                                .actor_role = role,
                                .action = action,
                                .object = object,
                                .outcome = "ok",
                                .peer = peer};
    return ses_store_audit_append(st, &rec, NULL);
}

/* A prep thread or the writer, before run_send: the signature, the costliest check, is made
 * off the loop and, on a machine with cores to spare, beside the writer's SQL. */
static void prep_send(void *arg)
{
    struct send_job *j = arg;
    struct ses_envelope_view v;
    j->sig_rc = ses_envelope_parse(j->m.env, j->m.env_len, &v);
    if (j->sig_rc == 0)
        j->sig_rc = ses_envelope_verify_sig(&v, j->sign_pk);
}

/* Writer thread. */
static int run_send(struct ses_store *st, void *arg)
{
    struct send_job *j = arg;
    struct dup_check dc = {.env = j->m.env, .env_len = j->m.env_len, .thread = j->m.thread};
    uint64_t max_seq = 0;
    /* a resend of a stored message first (the loop leaves that to us when the roster accepts):
     * the same bytes are answered as stored, other bytes under a used id are a conflict */
    int rc = ses_store_msg_by_id(st, j->m.msg_id, check_dup, &dc);
    if (rc == 0) {
        if (!dc.same)
            return SES_ECONFLICT; /* a different message under a used id */
        j->duplicate = true;
        j->m.seq = dc.seq;
        return 0;
    }
    if (rc != SES_ENOT_FOUND)
        return rc;
    /* the signature (checked by prep_send; the loop has made every cheaper check already) */
    if (j->sig_rc != 0)
        return j->sig_rc;
    /* removed while the send was queued? */
    if ((rc = ses_resource_authorize_thread(st, ses_role_from_name(j->role), SES_ACT_MSG_SEND,
                                            j->m.thread, j->m.sender_user)) != 0)
        return rc;
    if ((rc = ses_store_msg_max_sender_seq(st, j->m.thread, j->m.sender_device, &max_seq)) != 0)
        return rc;
    if (j->m.sender_seq <= max_seq)
        return SES_EREPLAYED;
    if ((rc = ses_store_msg_insert(st, &j->m)) != 0)
        return rc == SES_EEXISTS ? SES_ECONFLICT : rc;
    return audit_msg(st, j->now, j->m.sender_user, j->m.sender_device, j->role, j->peer,
                     "msg.submit", j->m.thread, j->m.seq);
}

/* m as the wire sees it (the envelope borrowed). */
static struct ses_msg_wire msg_wire(const struct ses_message *m)
{
    return (struct ses_msg_wire){.seq = m->seq,
                                 .ts_ms = m->stored_ms,
                                 .thread = m->thread,
                                 .sender = m->sender_user,
                                 .device = m->sender_device,
                                 .env = m->env,
                                 .env_len = m->env_len};
}

/* Loop thread, after the commit. */
/* {"t":"sent","id","seq","duplicate","thread","msg_id"}: the message is stored (now or before). */
static void reply_sent(struct ses_session *s, int64_t req_id, const uint8_t thread[SES_ID_BYTES],
                       const uint8_t msg_id[16], int64_t seq, bool duplicate)
{
    char text[SES_SENT_TEXT_MAX];
    size_t n = ses_encode_sent(text, sizeof text, req_id, seq, duplicate, thread, msg_id);
    if (n > 0)
        (void)ses_session_send_text(s, text, n);
}

/* The msg push of a stored send, built on its first recipient (ses_registry_push_built). */
static char *msg_frame(void *ud, size_t *len)
{
    struct send_job *j = ud;
    j->m.env = j->env;
    struct ses_msg_wire w = msg_wire(&j->m);
    return ses_encode_msg(&w, len);
}

static void done_send(void *arg, int rc)
{
    struct send_job *j = arg;
    struct ses_session *s = ses_registry_find(&j->d->sessions, j->session);
    if (s != NULL) {
        if (rc != 0) {
            ses_session_reply_error(s, j->req_id, rc);
        } else {
            reply_sent(s, j->req_id, j->m.thread, j->m.msg_id, j->m.seq, j->duplicate);
        }
    }
    if (rc == 0 && !j->duplicate) {
        /* push to every open connection of a wrapped device but the sending one; the frame is
         * built once for all of them */
        struct ses_audience a = {
            .devices = j->wraps, .n_devices = j->n_wraps, .except = j->session};
        (void)ses_registry_push_built(&j->d->sessions, &a, msg_frame, j);
    }
    free(j->env);
    free(j);
}

/* The roster checks of a send against thread's roster: the caller is a current member
 * (*not_member otherwise), the envelope names the roster hash, wraps to exactly the active
 * devices of the members, and comes from one of them; *sign_pk gets the sender's key. */
static int roster_check(const struct ses_roster_entry *e, const struct ses_session *s,
                        const struct ses_envelope_view *v, const uint8_t **sign_pk,
                        bool *not_member)
{
    struct ses_principal p = {.role = s->role, .revoked = false};
    struct ses_resource r = {
        .kind = SES_RES_THREAD, .exists = true, .member = ses_roster_entry_has_user(e, s->user_id)};
    *not_member = ses_authz_check(&p, SES_ACT_MSG_SEND, &r) != 0;
    if (*not_member)
        return SES_EDENIED;
    if (sodium_memcmp(v->hdr.roster_hash, e->hash, 32) != 0)
        return SES_ECONFLICT; /* membership changed: fetch thread_info and encrypt again */
    for (size_t k = 0; k < v->n_wraps; k++)
        if (ses_roster_entry_sign_pk(e, ses_envelope_wrap_device(v, k)) == NULL)
            return SES_EGHOST_DEVICE;
    if ((int)v->n_wraps != e->n_devices)
        return SES_ECONFLICT; /* a member's device was left out */
    if ((*sign_pk = ses_roster_entry_sign_pk(e, s->device_id)) == NULL)
        return SES_EDENIED;
    return 0;
}

/* Loads thread's roster from the store into the cache. SES_ENOT_FOUND for an unknown thread. */
static int roster_fresh(struct ses_daemon *d, const uint8_t thread[SES_ID_BYTES],
                        const struct ses_roster_entry **out)
{
    struct ses_roster *r = malloc(sizeof *r);
    if (r == NULL)
        return SES_ENOMEM;
    int rc = ses_roster_load(d->store, thread, r);
    if (rc == 0 && (*out = ses_roster_cache_put(d->rosters, r)) == NULL)
        rc = SES_ENOMEM;
    free(r);
    return rc;
}

int ses_handle_send(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"thread", "env", NULL};
    uint8_t thread[SES_ID_BYTES], *env = NULL;
    size_t env_len = 0;
    struct ses_envelope_view v;
    const struct ses_roster_entry *e;
    const uint8_t *sign_pk = NULL;
    bool not_member = false;
    struct send_job *j = NULL;
    int rc;
    (void)reply;
    if ((rc = ses_get_id(f->root, "thread", true, thread, NULL)) != 0 ||
        (rc = get_env(f->root, &env, &env_len)) != 0)
        return rc;
    if ((rc = ses_fields_only(f->root, keys)) != 0 ||
        (rc = ses_envelope_parse(env, env_len, &v)) != 0)
        goto out;
    if (memcmp(v.hdr.thread_id, thread, SES_ID_BYTES) != 0 ||
        memcmp(v.hdr.sender_user_id, s->user_id, SES_ID_BYTES) != 0 ||
        memcmp(v.hdr.sender_device_id, s->device_id, SES_ID_BYTES) != 0) {
        rc = SES_EDENIED;
        goto out;
    }
    /* the roster from memory; a cached one that refuses is read again from the store before the
     * refusal stands (the cache is dropped on every change, this only covers the moments between
     * a commit on the writer and its completion on the loop) */
    if ((e = ses_roster_cache_get(s->d->rosters, thread)) != NULL) {
        rc = roster_check(e, s, &v, &sign_pk, &not_member);
        if (rc != 0 && (rc = roster_fresh(s->d, thread, &e)) == 0)
            rc = roster_check(e, s, &v, &sign_pk, &not_member);
    } else if ((rc = roster_fresh(s->d, thread, &e)) == 0) {
        rc = roster_check(e, s, &v, &sign_pk, &not_member);
    }
    if (rc != 0) {
        /* a resend of a stored message (e.g. after a lost ack) is answered whatever the roster is
         * now: the client must not re-encrypt it under a new id and deliver it twice. (When the
         * roster accepts, the writer finds such a resend.) */
        struct dup_check dc = {.env = env, .env_len = env_len, .thread = thread};
        int dup = ses_store_msg_by_id(s->d->store, v.hdr.msg_id, check_dup, &dc);
        if (dup == 0 && !dc.same) {
            rc = SES_ECONFLICT;
        } else if (dup == 0) {
            reply_sent(s, f->id, thread, v.hdr.msg_id, dc.seq, true);
            rc = SES_PENDING; /* replied */
        } else if (dup != SES_ENOT_FOUND) {
            rc = dup;
        } else if (rc == SES_ENOT_FOUND || not_member) {
            ses_session_audit_denied(s, "thread");
            rc = SES_EDENIED; /* the same answer for an unknown thread and someone else's */
        }
        goto out;
    }
    if ((j = calloc(1, sizeof *j)) == NULL) {
        rc = SES_ENOMEM;
        goto out;
    }
    j->d = s->d;
    j->session = s->serial;
    j->req_id = f->id;
    j->now = ses_clock_now_ms(&s->d->clock);
    snprintf(j->role, sizeof j->role, "%s", ses_role_name(s->role));
    snprintf(j->peer, sizeof j->peer, "%s", s->peer);
    memcpy(j->m.thread, thread, SES_ID_BYTES);
    memcpy(j->m.msg_id, v.hdr.msg_id, 16);
    memcpy(j->m.sender_user, s->user_id, SES_ID_BYTES);
    memcpy(j->m.sender_device, s->device_id, SES_ID_BYTES);
    j->m.sender_seq = v.hdr.sender_seq;
    j->m.created_ms = (int64_t)(v.hdr.created_ms > INT64_MAX ? INT64_MAX : v.hdr.created_ms);
    j->m.stored_ms = j->now;
    memcpy(j->sign_pk, sign_pk, sizeof j->sign_pk);
    j->n_wraps = v.n_wraps;
    for (size_t k = 0; k < v.n_wraps; k++)
        memcpy(j->wraps[k], ses_envelope_wrap_device(&v, k), SES_ID_BYTES);
    j->env = env;
    j->m.env = env;
    j->m.env_len = env_len;
    env = NULL;
    if ((rc = ses_writer_submit_prep(s->d->writer, prep_send, run_send, done_send, j)) != 0) {
        env = j->env;
        free(j);
        goto out;
    }
    rc = SES_PENDING;
out:
    free(env);
    return rc;
}

/* --- fetch --------------------------------------------------------------------------------------
 */

struct fetch_acc {
    struct ses_store *st;
    const uint8_t *device;
    json_t *arr;
    size_t bytes;    /* of envelopes in arr (base64url) */
    int64_t through; /* the last seq the page covers so far */
    bool cut;        /* the page ended at SES_FETCH_MAX_BYTES */
};

#define FETCH_STOP 1 /* add_visible: the page is full (not an error) */

static bool env_wraps(const struct ses_envelope_view *v, const uint8_t device[SES_ID_BYTES])
{
    for (size_t k = 0; k < v->n_wraps; k++)
        if (memcmp(ses_envelope_wrap_device(v, k), device, SES_ID_BYTES) == 0)
            return true;
    return false;
}

static int add_visible(void *ud, const struct ses_message *m)
{
    struct fetch_acc *a = ud;
    struct ses_envelope_view v;
    struct ses_rewrap rw;
    json_t *rj = NULL;
    if (ses_envelope_parse(m->env, m->env_len, &v) != 0) {
        a->through = m->seq;
        return 0; /* stored envelopes were parsed on the way in */
    }
    if (!env_wraps(&v, a->device)) {
        /* not wrapped to this device (it joined later): shown if one of its user's other devices
         * re-wrapped the key for it (§12) */
        int rc = ses_store_rewrap_get(a->st, m->thread, m->seq, a->device, &rw);
        if (rc == SES_ENOT_FOUND) {
            a->through = m->seq;
            return 0;
        }
        if (rc != 0)
            return rc;
        if ((rj = json_object()) == NULL || ses_set_b64(rj, "sealed", rw.sealed, 80) != 0 ||
            ses_set_b64(rj, "sig", rw.sig, 64) != 0 || ses_set_id(rj, "by", rw.by_device) != 0) {
            json_decref(rj);
            return SES_ENOMEM;
        }
    }
    size_t b64 = (m->env_len * 4 + 2) / 3;
    if (json_array_size(a->arr) > 0 && a->bytes + b64 > SES_FETCH_MAX_BYTES) {
        json_decref(rj);
        a->cut = true; /* this one opens the next page */
        return FETCH_STOP;
    }
    struct ses_msg_wire w = msg_wire(m);
    json_t *p = ses_msg_json(&w);
    if (p == NULL) {
        json_decref(rj);
        return SES_ENOMEM;
    }
    json_object_del(p, "t");
    json_object_del(p, "thread");
    if (rj != NULL && json_object_set_new(p, "rewrap", rj) != 0) {
        json_decref(p);
        return SES_ENOMEM;
    }
    if (json_array_append_new(a->arr, p) != 0)
        return SES_ENOMEM;
    a->bytes += b64;
    a->through = m->seq;
    return 0;
}

int ses_handle_fetch(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"thread", "after", "limit", NULL};
    uint8_t thread[SES_ID_BYTES];
    int64_t after = 0, limit = 100;
    int rc;
    if ((rc = ses_get_id(f->root, "thread", true, thread, NULL)) != 0 ||
        (rc = ses_get_int(f->root, "after", 0, INT64_MAX, true, &after)) != 0 ||
        (rc = ses_get_int(f->root, "limit", 1, SES_FETCH_MAX, false, &limit)) != 0 ||
        (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    if ((rc = ses_session_authorize_thread(s, SES_ACT_THREAD_READ, thread)) != 0)
        return rc;
    struct fetch_acc a = {
        .st = s->d->store, .device = s->device_id, .arr = json_array(), .through = after};
    if (a.arr == NULL)
        return SES_ENOMEM;
    rc = ses_store_msg_range(s->d->store, thread, after, (int)limit, add_visible, &a);
    if (rc != 0 && rc != FETCH_STOP) {
        json_decref(a.arr);
        return rc;
    }
    struct ses_thread t;
    if ((rc = ses_store_thread_get(s->d->store, thread, &t)) != 0) {
        json_decref(a.arr);
        return rc;
    }
    /* the page covers seqs after+1..through (every one the query saw, up to limit, or fewer
     * when the bytes ran out); entries not wrapped (nor re-wrapped) to this device are left out */
    *reply = json_pack("{s:s, s:o, s:I, s:I}", "t", "messages", "messages", a.arr, "last_seq",
                       (json_int_t)t.last_seq, "through", (json_int_t)a.through);
    if (*reply == NULL || ses_set_id(*reply, "thread", thread) != 0)
        return SES_ENOMEM;
    return 0;
}

/* --- delivery and read cursors -----------------------------------------------------------------
 */

struct cursor_job {
    struct ses_daemon *d;
    uint64_t session;
    int64_t req_id;
    bool read; /* read cursor (per user) rather than delivery (per device) */
    uint8_t thread[SES_ID_BYTES], user[SES_ID_BYTES], device[SES_ID_BYTES];
    char role[16];
    char peer[64];
    int64_t seq, now;
    bool moved; /* the mark went forward (else nothing changed, nothing is pushed) */
};

static int run_cursor(struct ses_store *st, void *arg)
{
    struct cursor_job *j = arg;
    struct ses_thread t;
    int rc = ses_store_thread_get(st, j->thread, &t);
    if (rc != 0)
        return rc == SES_ENOT_FOUND ? SES_EDENIED : rc;
    if (j->seq > t.last_seq)
        return SES_EBAD_FIELD; /* beyond the newest message */
    int64_t old = 0;
    rc = j->read ? ses_store_read_get(st, j->user, j->thread, &old)
                 : ses_store_cursor_get(st, j->device, j->thread, &old);
    if (rc != 0 || j->seq <= old)
        return rc; /* marks only move forward: an older one changes nothing */
    j->moved = true;
    rc = j->read ? ses_store_read_set(st, j->user, j->thread, j->seq)
                 : ses_store_cursor_set(st, j->device, j->thread, j->seq);
    if (rc == 0)
        rc = audit_msg(st, j->now, j->user, j->device, j->role, j->peer,
                       j->read ? "msg.read" : "msg.deliver", j->thread, j->seq);
    return rc;
}

static void done_cursor(void *arg, int rc)
{
    struct cursor_job *j = arg;
    struct ses_session *s = ses_registry_find(&j->d->sessions, j->session);
    if (s != NULL) {
        if (rc != 0)
            ses_session_reply_error(s, j->req_id, rc);
        else
            (void)ses_session_reply(s, "ok", j->req_id, NULL);
    }
    uint8_t ids[SES_ROSTER_MAX_MEMBERS][SES_ID_BYTES];
    struct ses_audience a = {.users = ids};
    if (rc == 0 && j->moved &&
        ses_roster_member_ids(j->d->store, j->thread, ids, &a.n_users) == 0) {
        /* members' open connections learn the new mark (members read once, not per session) */
        json_t *p = json_pack("{s:s, s:s, s:I}", "t", "receipt", "kind",
                              j->read ? "read" : "delivered", "seq", (json_int_t)j->seq);
        if (p && ses_set_id(p, "thread", j->thread) == 0 && ses_set_id(p, "user", j->user) == 0)
            (void)ses_registry_push(&j->d->sessions, &a, p);
        else
            json_decref(p);
    }
    free(j);
}

static int submit_cursor(struct ses_session *s, const struct ses_frame *f, bool read)
{
    static const char *const ack_keys[] = {"thread", "delivered", NULL};
    static const char *const read_keys[] = {"thread", "seq", NULL};
    struct cursor_job *j;
    uint8_t thread[SES_ID_BYTES];
    int64_t seq = 0;
    int rc;
    if ((rc = ses_get_id(f->root, "thread", true, thread, NULL)) != 0 ||
        (rc = ses_get_int(f->root, read ? "seq" : "delivered", 1, INT64_MAX, true, &seq)) != 0 ||
        (rc = ses_fields_only(f->root, read ? read_keys : ack_keys)) != 0)
        return rc;
    if ((rc = ses_session_authorize_thread(s, SES_ACT_MSG_CURSOR, thread)) != 0)
        return rc;
    if ((j = calloc(1, sizeof *j)) == NULL)
        return SES_ENOMEM;
    j->d = s->d;
    j->session = s->serial;
    j->req_id = f->id;
    j->read = read;
    memcpy(j->thread, thread, SES_ID_BYTES);
    memcpy(j->user, s->user_id, SES_ID_BYTES);
    memcpy(j->device, s->device_id, SES_ID_BYTES);
    snprintf(j->role, sizeof j->role, "%s", ses_role_name(s->role));
    snprintf(j->peer, sizeof j->peer, "%s", s->peer);
    j->seq = seq;
    j->now = ses_clock_now_ms(&s->d->clock);
    if ((rc = ses_writer_submit_essential(s->d->writer, run_cursor, done_cursor, j)) != 0) {
        free(j);
        return rc;
    }
    return SES_PENDING;
}

int ses_handle_ack(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return submit_cursor(s, f, false);
}

int ses_handle_read(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return submit_cursor(s, f, true);
}

/* --- history re-wrap (§12) ---------------------------------------------------------------------
 */

#define SES_REWRAP_MAX_ITEMS 200 /* re-wraps per request */

struct rewrap_job {
    struct ses_daemon *d;
    uint64_t session;
    int64_t req_id;
    uint8_t thread[SES_ID_BYTES], user[SES_ID_BYTES], device[SES_ID_BYTES];
    uint8_t target[SES_ID_BYTES];
    char role[16];
    char peer[64];
    int64_t now;
    size_t n;
    int64_t count; /* newly stored */
    struct ses_rewrap items[SES_REWRAP_MAX_ITEMS];
};

/* target is an active device of user other than device. */
static int own_other_device(struct ses_store *st, const uint8_t user[SES_ID_BYTES],
                            const uint8_t device[SES_ID_BYTES], const uint8_t target[SES_ID_BYTES])
{
    struct ses_device t;
    int rc = ses_store_device_get(st, target, &t);
    if (rc == SES_ENOT_FOUND)
        return SES_EDENIED;
    if (rc != 0)
        return rc;
    if (t.revoked || memcmp(t.user_id, user, SES_ID_BYTES) != 0 ||
        memcmp(target, device, SES_ID_BYTES) == 0)
        return SES_EDENIED;
    return 0;
}

/* Writer thread: every item of the request and one audit record, in one job. */
static int run_rewrap(struct ses_store *st, void *arg)
{
    struct rewrap_job *j = arg;
    /* removed while the request was queued? */
    int rc = ses_resource_authorize_thread(st, ses_role_from_name(j->role), SES_ACT_MSG_REWRAP,
                                           j->thread, j->user);
    if (rc != 0)
        return rc;
    if ((rc = own_other_device(st, j->user, j->device, j->target)) != 0)
        return rc; /* revoked while queued */
    j->count = 0;
    for (size_t i = 0; i < j->n; i++) {
        bool stored = false;
        if ((rc = ses_store_rewrap_put(st, &j->items[i], &stored)) != 0)
            return rc;
        j->count += stored; /* an existing (thread, seq, device) keeps its first re-wrap */
    }
    char object[160], t[SES_ID_TEXT_LEN + 1], d[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(t, j->thread);
    ses_id_to_text(d, j->target);
    snprintf(object, sizeof object, "thread:%s device:%s count:%lld", t, d, (long long)j->count);
    struct ses_audit_rec rec = {.ts_ms = j->now,
                                .actor_user = j->user,
                                .actor_device = j->device,
                                .actor_role = j->role,
                                .action = "msg.rewrap",
                                .object = object,
                                .outcome = "ok",
                                .peer = j->peer};
    return ses_store_audit_append(st, &rec, NULL);
}

/* Loop thread, after the commit. */
static void done_rewrap(void *arg, int rc)
{
    struct rewrap_job *j = arg;
    struct ses_session *s = ses_registry_find(&j->d->sessions, j->session);
    if (s != NULL) {
        if (rc != 0) {
            ses_session_reply_error(s, j->req_id, rc);
        } else {
            json_t *body = json_pack("{s:I}", "count", (json_int_t)j->count);
            if (body) {
                ses_set_id(body, "thread", j->thread);
                ses_set_id(body, "device", j->target);
            }
            (void)ses_session_reply(s, "rewrapped", j->req_id, body);
        }
    }
    if (rc == 0 && j->count > 0) {
        /* the target device's open connections learn that history can now be fetched */
        struct ses_audience a = {.devices = (const uint8_t(*)[SES_ID_BYTES])j->target,
                                 .n_devices = 1};
        json_t *p = json_pack("{s:s, s:I}", "t", "rewrap_done", "count", (json_int_t)j->count);
        if (p && ses_set_id(p, "thread", j->thread) == 0)
            (void)ses_registry_push(&j->d->sessions, &a, p);
        else
            json_decref(p);
    }
    free(j);
}

struct rewrap_check {
    struct rewrap_job *j;
    const struct ses_rewrap *item;
    const uint8_t *sign_pk; /* the caller device's */
    int rc;
};

/* The stored envelope of an item: wrapped to the caller's device (BAD_FIELD) and the re-wrap
 * signed by it over (thread, msg_id, kcommit, target, sealed, caller device) (BAD_SIGNATURE). */
static int check_item(void *ud, const struct ses_message *m)
{
    struct rewrap_check *c = ud;
    struct ses_envelope_view v;
    if (ses_envelope_parse(m->env, m->env_len, &v) != 0 || !env_wraps(&v, c->j->device))
        c->rc = SES_EBAD_FIELD;
    else
        c->rc = ses_rewrap_verify(&v, c->j->target, c->item->sealed, c->j->device, c->item->sig,
                                  c->sign_pk);
    return 0;
}

int ses_handle_rewrap(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"thread", "device", "items", NULL};
    static const char *const item_keys[] = {"seq", "sealed", "sig", NULL};
    uint8_t thread[SES_ID_BYTES], target[SES_ID_BYTES];
    struct rewrap_job *j = NULL;
    struct ses_device me;
    int rc;
    (void)reply;
    if ((rc = ses_get_id(f->root, "thread", true, thread, NULL)) != 0 ||
        (rc = ses_get_id(f->root, "device", true, target, NULL)) != 0)
        return rc;
    const json_t *items = json_object_get(f->root, "items");
    if (items == NULL || json_is_null(items))
        return SES_EMISSING_FIELD;
    if (!json_is_array(items) || json_array_size(items) < 1 ||
        json_array_size(items) > SES_REWRAP_MAX_ITEMS || ses_fields_only(f->root, keys) != 0)
        return SES_EBAD_FIELD;
    if ((j = calloc(1, sizeof *j)) == NULL)
        return SES_ENOMEM;
    size_t i;
    const json_t *it;
    json_array_foreach(items, i, it)
    {
        struct ses_rewrap *w = &j->items[i];
        int64_t seq = 0;
        if (!json_is_object(it)) {
            rc = SES_EBAD_FIELD;
            goto out;
        }
        if ((rc = ses_get_int(it, "seq", 1, INT64_MAX, true, &seq)) != 0 ||
            (rc = ses_get_b64(it, "sealed", w->sealed, sizeof w->sealed)) != 0 ||
            (rc = ses_get_b64(it, "sig", w->sig, sizeof w->sig)) != 0 ||
            (rc = ses_object_only(it, item_keys)) != 0)
            goto out;
        for (size_t k = 0; k < i; k++) {
            if (j->items[k].seq == seq) {
                rc = SES_EBAD_FIELD; /* a seq twice */
                goto out;
            }
        }
        w->seq = seq;
    }
    j->n = json_array_size(items);
    if ((rc = ses_session_authorize_thread(s, SES_ACT_MSG_REWRAP, thread)) != 0)
        goto out;
    if ((rc = own_other_device(s->d->store, s->user_id, s->device_id, target)) != 0) {
        if (rc == SES_EDENIED)
            ses_session_audit_denied(s, "rewrap");
        goto out;
    }
    if ((rc = ses_store_device_get(s->d->store, s->device_id, &me)) != 0)
        goto out;
    j->d = s->d;
    j->session = s->serial;
    j->req_id = f->id;
    j->now = ses_clock_now_ms(&s->d->clock);
    memcpy(j->thread, thread, SES_ID_BYTES);
    memcpy(j->user, s->user_id, SES_ID_BYTES);
    memcpy(j->device, s->device_id, SES_ID_BYTES);
    memcpy(j->target, target, SES_ID_BYTES);
    snprintf(j->role, sizeof j->role, "%s", ses_role_name(s->role));
    snprintf(j->peer, sizeof j->peer, "%s", s->peer);
    for (i = 0; i < j->n; i++) {
        struct ses_rewrap *w = &j->items[i];
        struct rewrap_check c = {.j = j, .item = w, .sign_pk = me.sign_pk, .rc = 0};
        memcpy(w->thread, thread, SES_ID_BYTES);
        memcpy(w->device, target, SES_ID_BYTES);
        memcpy(w->by_device, s->device_id, SES_ID_BYTES);
        w->created_ms = j->now;
        rc = ses_store_msg_get(s->d->store, thread, w->seq, check_item, &c);
        if (rc == SES_ENOT_FOUND)
            rc = SES_EBAD_FIELD; /* no such message */
        if (rc == 0)
            rc = c.rc;
        if (rc != 0)
            goto out;
    }
    if ((rc = ses_writer_submit(s->d->writer, run_rewrap, done_rewrap, j)) != 0)
        goto out;
    return SES_PENDING;
out:
    free(j);
    return rc;
}
