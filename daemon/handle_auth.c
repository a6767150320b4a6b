/*
 * handle_auth.c - the two pre-login requests: `enroll` (a new device registers its keys with an
 * enrolment code) and `auth` (challenge-response login). PROTOCOL.md §4-§7.
 *
 * Every well-formed attempt, successful or not, leaves one audit record, written in the same
 * transaction as the change it makes (device row, code consumed, attempt counter, last login).
 * The decision and its writes run as a job of the group-commit writer (its thread, its SQLite
 * connection), so a burst of logins never makes the loop wait for fsync; the reply goes out from
 * the job's completion, after the commit.
 *
 * Failed attempts are throttled on the loop (throttle.h): per peer address, one past its back-off
 * is refused with RATE_LIMITED before any database work; so is one naming a device in its
 * back-off, unless its signature verifies (a device's own login always goes through); per device
 * id and per address, failures
 * past SES_THROTTLE_FREE are no longer recorded one by one but counted into one auth.throttled
 * record per key and minute; an enrolment ticket is locked for an address after
 * SES_CODE_SOURCE_ATTEMPTS wrong secrets from it, before its global lock (SES_CODE_MAX_ATTEMPTS).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/transcript.h"

#include "enrol_code.h"
#include "log.h"
#include "roster_cache.h"
#include "session.h"
#include "throttle.h"

#define SES_THROTTLE_AUDIT_MS 60000 /* the aggregated records are written this often */

static bool skewed(int64_t now, uint64_t ts)
{
    int64_t t = ts > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)ts;
    return t > now + SES_AUTH_SKEW_MS || t < now - SES_AUTH_SKEW_MS;
}

/* One pre-login request on its way through the writer. Everything the writer thread reads is
 * copied in here (the server key material it needs is immutable while the daemon runs). */
struct pre_job {
    struct ses_daemon *d;
    uint64_t session;
    int64_t req_id;
    bool is_enroll;
    bool replay;   /* decided on the loop: the nonce was not this connection's, or was used */
    bool bad_code; /* enroll: the code text could not be parsed */
    char device_name[SES_MAX_NAME_LEN + 1]; /* copied: the request frame is gone by then */
    struct ses_enroll_req enroll;
    struct ses_auth_req auth;
    uint8_t snonce[SES_NONCE_BYTES];
    char peer[64];
    int64_t now;
    int result; /* the decision: 0 or an SES_E* code sent to the client */
    /* throttle keys (throttle.h): the address, the device (login), the ticket at the address
     * (enrolment with a parsed code); "" when none */
    char akey[SES_THROTTLE_KEY_MAX], dkey[SES_THROTTLE_KEY_MAX], tkey[SES_THROTTLE_KEY_MAX];
    bool quiet; /* a failure is counted into the aggregated record, not recorded alone */
    struct ses_user user;
    struct ses_device dev;
};

static void throttle_failed(struct pre_job *j);

static void pre_job_free(struct pre_job *j)
{
    sodium_memzero(j, sizeof *j);
    free(j);
}

/* The enrolment decision and its writes, inside the writer's transaction. */
static int enroll_decide(struct ses_store *st, struct pre_job *j)
{
    const struct ses_server_keys *keys = j->d->keys;
    const struct ses_enroll_req *req = &j->enroll;
    struct ses_code code;
    uint8_t transcript[SES_ENROLL_TRANSCRIPT_LEN];
    int rc;

    if (j->replay)
        return SES_EREPLAY;
    if (skewed(j->now, req->ts_ms))
        return SES_ECLOCK_SKEW;
    if ((rc = ses_enrol_code_check(st, keys->pepper, req->ticket, req->secret, j->now, &code)) != 0)
        return rc;
    ses_transcript_enroll(transcript, keys->server_id, j->snonce, req->ticket, req->sign_pk,
                          req->box_pk, req->ts_ms);
    if (ses_verify(req->sig, transcript, sizeof transcript, req->sign_pk) != 0)
        return SES_EAUTH_FAILED;
    if ((rc = ses_store_user_get(st, code.user_id, &j->user)) != 0)
        return rc == SES_ENOT_FOUND ? SES_EINTERNAL : rc;
    if (j->user.revoked)
        return SES_EREVOKED;

    struct ses_device *dev = &j->dev;
    memset(dev, 0, sizeof *dev);
    randombytes_buf(dev->id, sizeof dev->id);
    memcpy(dev->user_id, code.user_id, SES_ID_BYTES);
    snprintf(dev->name, sizeof dev->name, "%s", j->device_name);
    memcpy(dev->sign_pk, req->sign_pk, sizeof dev->sign_pk);
    memcpy(dev->box_pk, req->box_pk, sizeof dev->box_pk);
    dev->created_ms = j->now;
    rc = ses_store_device_insert(st, dev);
    if (rc == SES_EEXISTS)
        return SES_ECONFLICT; /* this signing key is already enrolled */
    if (rc != 0)
        return rc;
    return ses_store_code_mark_used(st, req->ticket, j->now, dev->id);
}

/* Whether the login's signature verifies with sign_pk over this connection's transcript. */
static bool login_sig_ok(const struct pre_job *j, const uint8_t sign_pk[SES_SIGN_PK_BYTES])
{
    const struct ses_auth_req *req = &j->auth;
    uint8_t transcript[SES_LOGIN_TRANSCRIPT_LEN];
    ses_transcript_login(transcript, j->d->keys->server_id, j->snonce, req->cnonce, req->device_id,
                         req->ts_ms);
    return ses_verify(req->sig, transcript, sizeof transcript, sign_pk) == 0;
}

/* The login decision and its writes, inside the writer's transaction. */
static int auth_decide(struct ses_store *st, struct pre_job *j)
{
    const struct ses_auth_req *req = &j->auth;
    int rc;

    if (j->replay)
        return SES_EREPLAY;
    if (skewed(j->now, req->ts_ms))
        return SES_ECLOCK_SKEW;
    rc = ses_store_device_get(st, req->device_id, &j->dev);
    if (rc == SES_ENOT_FOUND)
        return SES_EAUTH_FAILED;
    if (rc != 0)
        return rc;
    if (!login_sig_ok(j, j->dev.sign_pk))
        return SES_EAUTH_FAILED;
    if ((rc = ses_store_user_get(st, j->dev.user_id, &j->user)) != 0)
        return rc == SES_ENOT_FOUND ? SES_EINTERNAL : rc;
    if (j->dev.revoked || j->user.revoked)
        return SES_EREVOKED;
    return ses_store_device_touch_login(st, j->dev.id, j->now);
}

static bool local_failure(int rc)
{
    return rc == SES_EIO || rc == SES_ENOMEM || rc == SES_EINTERNAL || rc == SES_ESTORAGE_FULL;
}

/* Writer thread: decide, then record the attempt whatever its outcome. */
static int run_pre(struct ses_store *st, void *arg)
{
    struct pre_job *j = arg;
    char object[64], txt[16];
    if (j->bad_code)
        j->result = SES_ECODE_INVALID;
    else
        j->result = j->is_enroll ? enroll_decide(st, j) : auth_decide(st, j);
    if (local_failure(j->result))
        return j->result; /* undo this job's changes; the client gets INTERNAL or STORAGE_FULL */
    if (j->result != 0 && j->quiet)
        return 0; /* past the back-off threshold: counted on the loop, recorded in aggregate */
    bool ok = j->result == 0;
    if (j->is_enroll && ok) {
        ses_id_to_text(object + 7, j->dev.id);
        memcpy(object, "device:", 7);
    } else if (j->is_enroll && j->bad_code) {
        object[0] = '\0';
    } else if (j->is_enroll) {
        (void)ses_b32_encode(txt, sizeof txt, j->enroll.ticket, SES_CODE_TICKET_BYTES, 1);
        snprintf(object, sizeof object, "ticket:%s", txt);
    } else {
        ses_id_to_text(object + 7, j->auth.device_id);
        memcpy(object, "device:", 7);
    }
    /* a login names the principal that just logged in; an enrolment happens before login */
    bool named = ok && !j->is_enroll;
    struct ses_audit_rec rec = {
        .ts_ms = j->now,
        .actor_user = named ? j->user.id : NULL,
        .actor_device = named ? j->dev.id : NULL,
        .actor_role = named ? ses_role_name(j->user.role) : NULL,
        .action = j->is_enroll ? "device.enroll" : "auth.login",
        .object = object[0] ? object : NULL,
        .outcome = ok ? "ok" : ses_err_name(j->result),
        .peer = j->peer,
    };
    return ses_store_audit_append(st, &rec, NULL);
}

static json_t *principal_json(const struct ses_user *u, const uint8_t device[SES_ID_BYTES])
{
    json_t *r = json_pack("{s:s, s:s}", "role", ses_role_name(u->role), "name", u->name);
    if (r == NULL || ses_set_id(r, "user", u->id) != 0 || ses_set_id(r, "device", device) != 0 ||
        json_object_set_new(r, "site", u->site[0] ? json_string(u->site) : json_null()) != 0) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* Loop thread, after the commit. */
static void done_pre(void *arg, int rc)
{
    struct pre_job *j = arg;
    struct ses_session *s = ses_registry_find(&j->d->sessions, j->session);
    int result = rc != 0 ? rc : j->result;
    char dev_txt[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(dev_txt, j->is_enroll ? j->dev.id : j->auth.device_id);
    /* the ticket is part of the code: it goes to the audit record, never to the log */
    if (j->is_enroll)
        SES_LOG(SES_LOG_NOTICE, "auth", "peer=%s enroll outcome=%s", j->peer,
                result == 0 ? "ok" : ses_err_name(result));
    else
        SES_LOG(SES_LOG_NOTICE, "auth", "peer=%s login device=%s outcome=%s", j->peer, dev_txt,
                result == 0 ? "ok" : ses_err_name(result));
    if (j->is_enroll && result == 0)
        ses_roster_cache_clear(j->d->rosters); /* the user's threads have one more device */
    if (result != 0 && !local_failure(result))
        throttle_failed(j);
    if (s == NULL) {
        pre_job_free(j);
        return;
    }
    if (result != 0) {
        ses_session_reply_error(s, j->req_id, result);
        ses_session_close(s, 1008, "refused");
    } else if (j->is_enroll) {
        (void)ses_session_reply(s, "enrolled", j->req_id, principal_json(&j->user, j->dev.id));
        ses_session_close(s, 1000, "enrolled");
    } else {
        memcpy(s->user_id, j->user.id, SES_ID_BYTES);
        memcpy(s->device_id, j->dev.id, SES_ID_BYTES);
        s->role = j->user.role;
        s->state = SES_S_AUTHED;
        ses_transport_set_limit(s->tc, SES_MAX_FRAME);
        ses_transport_set_timeout(s->tc, 0);
        ses_transport_set_authed(s->tc);
        (void)ses_session_reply(s, "auth_ok", j->req_id, principal_json(&j->user, j->dev.id));
    }
    pre_job_free(j);
}

/* --- throttling ---------------------------------------------------------------------------- */

static int64_t mono_ms(const struct ses_daemon *d)
{
    return (int64_t)uv_now((uv_loop_t *)&d->loop);
}

/* The keys of an attempt. */
static void throttle_keys(struct pre_job *j)
{
    char txt[SES_ID_TEXT_LEN + 1];
    snprintf(j->akey, sizeof j->akey, "peer:%s", j->peer);
    if (!j->is_enroll) {
        ses_id_to_text(txt, j->auth.device_id);
        snprintf(j->dkey, sizeof j->dkey, "device:%s", txt);
    } else if (!j->bad_code) {
        char t[16];
        (void)ses_b32_encode(t, sizeof t, j->enroll.ticket, SES_CODE_TICKET_BYTES, 1);
        snprintf(j->tkey, sizeof j->tkey, "ticket:%s@%s", t, j->peer);
    }
}

/* Loop: a failed attempt counts against each of its keys; one that was not recorded alone is
 * noted for the aggregated record. */
static void throttle_failed(struct pre_job *j)
{
    struct ses_throttle *t = j->d->throttle;
    int64_t now = mono_ms(j->d);
    if (j->quiet)
        ses_throttle_note(t, ses_throttle_over(t, j->akey, now) ? j->akey : j->dkey, now);
    ses_throttle_failed(t, j->akey, now);
    if (j->dkey[0])
        ses_throttle_failed(t, j->dkey, now);
    if (j->tkey[0])
        ses_throttle_failed(t, j->tkey, now);
}

/* Loop: a device in its back-off is tried only by a login whose signature verifies (read on the
 * loop's own connection): its own user is never locked out by others' failures. */
static bool device_backoff(struct ses_session *s, const struct pre_job *j, int64_t now)
{
    struct ses_device dev;
    if (!j->dkey[0] || ses_throttle_wait_ms(s->d->throttle, j->dkey, now) == 0)
        return false;
    bool ok = ses_store_device_get(s->d->store, j->auth.device_id, &dev) == 0 &&
              login_sig_ok(j, dev.sign_pk);
    sodium_memzero(&dev, sizeof dev);
    return !ok;
}

/* Loop, before any database work: an address in its back-off, or a device in its back-off with a
 * signature that does not verify, is refused with RATE_LIMITED, a ticket locked for this address
 * with CODE_LOCKED; the connection then closes. Returns true if the attempt was refused (j is
 * freed). */
static bool throttle_refused(struct ses_session *s, const struct ses_frame *f, struct pre_job *j)
{
    struct ses_throttle *t = s->d->throttle;
    int64_t now = mono_ms(s->d);
    int64_t wait = ses_throttle_wait_ms(t, j->akey, now);
    bool dev_wait = wait == 0 && device_backoff(s, j, now);
    if (dev_wait)
        wait = ses_throttle_wait_ms(t, j->dkey, now);
    bool locked = j->tkey[0] && ses_throttle_failures(t, j->tkey, now) >= SES_CODE_SOURCE_ATTEMPTS;
    j->quiet =
        ses_throttle_over(t, j->akey, now) || (j->dkey[0] && ses_throttle_over(t, j->dkey, now));
    if (wait == 0 && !locked)
        return false;
    char msg[160];
    if (locked)
        snprintf(msg, sizeof msg,
                 "this code is locked for this address after %d wrong tries: ask its "
                 "administrator for a new one",
                 SES_CODE_SOURCE_ATTEMPTS);
    else
        snprintf(msg, sizeof msg, "too many failed attempts %s: try again in %lld s",
                 dev_wait ? "for this device" : "from this address",
                 (long long)(wait + 999) / 1000);
    ses_throttle_note(t, locked ? j->tkey : dev_wait ? j->dkey : j->akey, now);
    s->snonce_used = true;
    ses_session_reply_error_msg(s, f->id, locked ? SES_ECODE_LOCKED : SES_ERATE_LIMITED, msg);
    ses_session_close(s, 1008, "refused");
    pre_job_free(j);
    return true;
}

struct agg_job {
    int64_t now;
    size_t n, cap;
    struct agg_item {
        char object[SES_THROTTLE_KEY_MAX + 32];
        char peer[64];
    } items[];
};

static void agg_count(void *ud, const char *key, uint64_t count)
{
    struct agg_job *j = ud;
    if (j->n == j->cap)
        return; /* not reached: counted and taken in the same turn of the loop */
    struct agg_item *it = &j->items[j->n++];
    snprintf(it->object, sizeof it->object, "%s count:%llu", key, (unsigned long long)count);
    it->peer[0] = '\0';
    if (strncmp(key, "peer:", 5) == 0)
        snprintf(it->peer, sizeof it->peer, "%s", key + 5);
}

static int run_agg(struct ses_store *st, void *arg)
{
    struct agg_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        struct ses_audit_rec rec = {.ts_ms = j->now,
                                    .action = "auth.throttled",
                                    .object = j->items[i].object,
                                    .outcome = ses_err_name(SES_ERATE_LIMITED),
                                    .peer = j->items[i].peer[0] ? j->items[i].peer : NULL};
        int rc = ses_store_audit_append(st, &rec, NULL);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void done_agg(void *arg, int rc)
{
    struct agg_job *j = arg;
    if (rc != 0)
        SES_LOG(SES_LOG_ERR, "auth", "cannot write %zu auth.throttled audit records: %s", j->n,
                ses_err_name(rc));
    free(j);
}

/* One writer job with an auth.throttled record per key noted since the last flush. */
static void flush_notes(struct ses_daemon *d)
{
    size_t cap = ses_throttle_noted_keys(d->throttle);
    if (cap == 0)
        return; /* nothing to record: nothing allocated, no writer job */
    struct agg_job *j = calloc(1, sizeof *j + cap * sizeof j->items[0]);
    if (j == NULL) {
        SES_LOG(SES_LOG_ERR, "auth",
                "cannot write the auth.throttled audit records: out of memory");
        return;
    }
    j->cap = cap;
    j->now = ses_clock_now_ms(&d->clock);
    if (ses_throttle_take_notes(d->throttle, agg_count, j) == 0 ||
        ses_writer_submit_essential(d->writer, run_agg, done_agg, j) != 0)
        free(j);
}

static void on_throttle_timer(uv_timer_t *t)
{
    flush_notes(t->data);
}

int ses_auth_throttle_start(struct ses_daemon *d)
{
    if ((d->throttle = ses_throttle_new()) == NULL)
        return SES_ENOMEM;
    (void)uv_timer_init(&d->loop, &d->throttle_timer); /* a timer's init cannot fail (libuv) */
    d->throttle_timer.data = d;
    uv_timer_start(&d->throttle_timer, on_throttle_timer, SES_THROTTLE_AUDIT_MS,
                   SES_THROTTLE_AUDIT_MS);
    return 0;
}

void ses_auth_throttle_stop(struct ses_daemon *d)
{
    if (d->throttle == NULL || uv_is_closing((uv_handle_t *)&d->throttle_timer))
        return;
    flush_notes(d);
    uv_timer_stop(&d->throttle_timer);
    uv_close((uv_handle_t *)&d->throttle_timer, NULL);
}

static int submit_pre(struct ses_session *s, const struct ses_frame *f, struct pre_job *j)
{
    j->d = s->d;
    j->session = s->serial;
    j->req_id = f->id;
    j->now = ses_clock_now_ms(&s->d->clock);
    memcpy(j->snonce, s->snonce, sizeof j->snonce);
    snprintf(j->peer, sizeof j->peer, "%s", s->peer);
    throttle_keys(j);
    if (throttle_refused(s, f, j))
        return SES_PENDING; /* answered and closing */
    s->snonce_used = true;  /* one attempt per connection nonce */
    int rc = ses_writer_submit_essential(s->d->writer, run_pre, done_pre, j);
    if (rc != 0) {
        pre_job_free(j);
        return rc;
    }
    return SES_PENDING;
}

int ses_handle_enroll(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    struct pre_job *j = calloc(1, sizeof *j);
    (void)reply;
    if (j == NULL)
        return SES_ENOMEM;
    j->is_enroll = true;
    int rc = ses_decode_enroll(f->root, &j->enroll);
    if (rc == SES_ECODE_INVALID) {
        /* a well-formed request with a text that cannot be a code: still an attempt, recorded */
        j->bad_code = true;
    } else if (rc != 0) {
        pre_job_free(j);
        return rc;
    }
    if (j->enroll.device_name != NULL)
        snprintf(j->device_name, sizeof j->device_name, "%s", j->enroll.device_name);
    j->enroll.device_name = NULL; /* borrowed from the frame, freed when this returns */
    j->replay = s->snonce_used;
    return submit_pre(s, f, j);
}

int ses_handle_auth(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    struct pre_job *j = calloc(1, sizeof *j);
    (void)reply;
    if (j == NULL)
        return SES_ENOMEM;
    int rc = ses_decode_auth(f->root, &j->auth);
    if (rc != 0) {
        pre_job_free(j);
        return rc;
    }
    j->replay = s->snonce_used || sodium_memcmp(j->auth.snonce, s->snonce, SES_NONCE_BYTES) != 0;
    return submit_pre(s, f, j);
}
