/*
 * handle_auth.c - the two pre-login requests: `enroll` (a new device registers its keys with an
 * enrolment code) and `auth` (challenge-response login). PROTOCOL.md §4-§7.
 *
 * Every well-formed attempt, successful or not, leaves one audit record, written in the same
 * transaction as the change it makes (device row, code consumed, attempt counter, last login).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/transcript.h"

#include "log.h"
#include "session.h"

static bool skewed(int64_t now, uint64_t ts)
{
    int64_t t = ts > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)ts;
    return t > now + SES_AUTH_SKEW_MS || t < now - SES_AUTH_SKEW_MS;
}

static void code_hash(uint8_t out[32], const uint8_t secret[SES_CODE_SECRET_BYTES],
                      const uint8_t pepper[32])
{
    crypto_generichash(out, 32, secret, SES_CODE_SECRET_BYTES, pepper, 32);
}

/* The enrolment decision, inside the caller's transaction. On success fills *dev. */
static int enroll_txn(struct ses_session *s, const struct ses_enroll_req *req,
                      struct ses_device *dev, struct ses_user *user)
{
    struct ses_daemon *d = s->d;
    struct ses_code code;
    uint8_t hash[32], transcript[SES_ENROLL_TRANSCRIPT_LEN];
    int64_t now = ses_clock_now_ms(&d->clock);
    int rc;

    if (s->snonce_used)
        return SES_EREPLAY;
    s->snonce_used = true;
    if (skewed(now, req->ts_ms))
        return SES_ECLOCK_SKEW;
    rc = ses_store_code_get(d->store, req->ticket, &code);
    if (rc == SES_ENOT_FOUND)
        return SES_ECODE_INVALID;
    if (rc != 0)
        return rc;
    if (code.attempts_left <= 0)
        return SES_ECODE_LOCKED;
    code_hash(hash, req->secret, d->keys->pepper);
    rc = sodium_memcmp(hash, code.secret_hash, sizeof hash);
    sodium_memzero(hash, sizeof hash);
    if (rc != 0) {
        rc = ses_store_code_set_attempts(d->store, req->ticket, code.attempts_left - 1);
        return rc != 0 ? rc : SES_ECODE_INVALID;
    }
    if (code.used_ms != 0)
        return SES_ECODE_USED;
    if (now >= code.expires_ms)
        return SES_ECODE_EXPIRED;
    ses_transcript_enroll(transcript, d->keys->server_id, s->snonce, req->ticket, req->sign_pk,
                          req->box_pk, req->ts_ms);
    if (ses_verify(req->sig, transcript, sizeof transcript, req->sign_pk) != 0)
        return SES_EAUTH_FAILED;
    if ((rc = ses_store_user_get(d->store, code.user_id, user)) != 0)
        return rc == SES_ENOT_FOUND ? SES_EINTERNAL : rc;
    if (user->revoked)
        return SES_EREVOKED;

    memset(dev, 0, sizeof *dev);
    randombytes_buf(dev->id, sizeof dev->id);
    memcpy(dev->user_id, code.user_id, SES_ID_BYTES);
    if (req->device_name)
        snprintf(dev->name, sizeof dev->name, "%s", req->device_name);
    memcpy(dev->sign_pk, req->sign_pk, sizeof dev->sign_pk);
    memcpy(dev->box_pk, req->box_pk, sizeof dev->box_pk);
    dev->created_ms = now;
    rc = ses_store_device_insert(d->store, dev);
    if (rc == SES_EEXISTS)
        return SES_ECONFLICT; /* this signing key is already enrolled */
    if (rc != 0)
        return rc;
    return ses_store_code_mark_used(d->store, req->ticket, now, dev->id);
}

int ses_handle_enroll(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    struct ses_enroll_req req;
    struct ses_device dev;
    struct ses_user user;
    struct ses_store *st = s->d->store;
    char object[64], ticket_txt[16], dev_txt[SES_ID_TEXT_LEN + 1];
    int rc = ses_decode_enroll(f->root, &req);
    if (rc == SES_ECODE_INVALID) {
        /* a well-formed request with a code that cannot be one: still an enrolment attempt */
        s->snonce_used = true;
        if (ses_store_begin(st) == 0) {
            if (ses_session_audit(s, "device.enroll", NULL, rc) != 0 || ses_store_commit(st) != 0)
                ses_store_rollback(st);
        }
        return rc;
    }
    if (rc != 0)
        return rc;
    (void)ses_b32_encode(ticket_txt, sizeof ticket_txt, req.ticket, SES_CODE_TICKET_BYTES, 1);
    if ((rc = ses_store_begin(st)) != 0)
        goto out;
    rc = enroll_txn(s, &req, &dev, &user);
    if (rc == SES_EIO || rc == SES_ENOMEM || rc == SES_EINTERNAL) {
        ses_store_rollback(st);
        goto out;
    }
    if (rc == 0) {
        ses_id_to_text(dev_txt, dev.id);
        snprintf(object, sizeof object, "device:%s", dev_txt);
    } else {
        snprintf(object, sizeof object, "ticket:%s", ticket_txt);
    }
    int arc = ses_session_audit(s, "device.enroll", object, rc);
    if (arc == 0)
        arc = ses_store_commit(st);
    if (arc != 0) {
        ses_store_rollback(st);
        rc = arc;
        goto out;
    }
    /* the ticket is part of the code: it goes to the audit record, never to the log */
    SES_LOG(SES_LOG_NOTICE, "auth", "peer=%s enroll outcome=%s", s->peer,
            rc == 0 ? "ok" : ses_err_name(rc));
    if (rc == 0) {
        json_t *r = json_pack("{s:s, s:s, s:s}", "t", "enrolled", "role", ses_role_name(user.role),
                              "name", user.name);
        if (r == NULL || ses_set_id(r, "user", user.id) != 0 || ses_set_id(r, "device", dev.id) ||
            json_object_set_new(r, "site", user.site[0] ? json_string(user.site) : json_null())) {
            json_decref(r);
            rc = SES_ENOMEM;
            goto out;
        }
        *reply = r;
    }
out:
    sodium_memzero(&req, sizeof req);
    return rc;
}

/* The login decision, inside the caller's transaction. */
static int auth_txn(struct ses_session *s, const struct ses_auth_req *req, struct ses_user *user)
{
    struct ses_daemon *d = s->d;
    struct ses_device dev;
    uint8_t transcript[SES_LOGIN_TRANSCRIPT_LEN];
    int64_t now = ses_clock_now_ms(&d->clock);
    bool nonce_ok = sodium_memcmp(req->snonce, s->snonce, SES_NONCE_BYTES) == 0;
    int rc;

    if (!nonce_ok || s->snonce_used)
        return SES_EREPLAY;
    s->snonce_used = true;
    if (skewed(now, req->ts_ms))
        return SES_ECLOCK_SKEW;
    rc = ses_store_device_get(d->store, req->device_id, &dev);
    if (rc == SES_ENOT_FOUND)
        return SES_EAUTH_FAILED;
    if (rc != 0)
        return rc;
    ses_transcript_login(transcript, d->keys->server_id, s->snonce, req->cnonce, req->device_id,
                         req->ts_ms);
    if (ses_verify(req->sig, transcript, sizeof transcript, dev.sign_pk) != 0)
        return SES_EAUTH_FAILED;
    if ((rc = ses_store_user_get(d->store, dev.user_id, user)) != 0)
        return rc == SES_ENOT_FOUND ? SES_EINTERNAL : rc;
    if (dev.revoked || user->revoked)
        return SES_EREVOKED;
    return ses_store_device_touch_login(d->store, dev.id, now);
}

int ses_handle_auth(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    struct ses_auth_req req;
    struct ses_user user;
    struct ses_store *st = s->d->store;
    char object[64], dev_txt[SES_ID_TEXT_LEN + 1];
    int rc = ses_decode_auth(f->root, &req);
    if (rc != 0)
        return rc;
    ses_id_to_text(dev_txt, req.device_id);
    snprintf(object, sizeof object, "device:%s", dev_txt);
    if ((rc = ses_store_begin(st)) != 0)
        return rc;
    rc = auth_txn(s, &req, &user);
    if (rc == SES_EIO || rc == SES_ENOMEM || rc == SES_EINTERNAL) {
        ses_store_rollback(st);
        return rc;
    }
    if (rc == 0) {
        /* the record names the principal that just logged in */
        memcpy(s->user_id, user.id, SES_ID_BYTES);
        memcpy(s->device_id, req.device_id, SES_ID_BYTES);
        s->role = user.role;
        s->state = SES_S_AUTHED;
    }
    int arc = ses_session_audit(s, "auth.login", object, rc);
    if (arc == 0)
        arc = ses_store_commit(st);
    if (arc != 0) {
        ses_store_rollback(st);
        s->state = SES_S_PREAUTH;
        return arc;
    }
    SES_LOG(SES_LOG_NOTICE, "auth", "peer=%s login device=%s outcome=%s", s->peer, dev_txt,
            rc == 0 ? "ok" : ses_err_name(rc));
    if (rc != 0)
        return rc;
    ses_transport_set_limit(s->tc, SES_MAX_FRAME);
    ses_transport_set_timeout(s->tc, 0);
    json_t *r = json_pack("{s:s, s:s, s:s}", "t", "auth_ok", "role", ses_role_name(user.role),
                          "name", user.name);
    if (r == NULL || ses_set_id(r, "user", user.id) != 0 ||
        ses_set_id(r, "device", req.device_id) != 0 ||
        json_object_set_new(r, "site", user.site[0] ? json_string(user.site) : json_null())) {
        json_decref(r);
        return SES_ENOMEM;
    }
    *reply = r;
    return 0;
}
