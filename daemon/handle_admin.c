/*
 * handle_admin.c - requests after login: ping, whoami, and the admin's invite, users, devices and
 * revoke (PROTOCOL.md §7), plus the test_clock hook of test builds. Authorization has already
 * been checked by the dispatcher; every change is audited in its own transaction.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/err.h"

#include "log.h"
#include "alert_engine.h"
#include "roster_cache.h"
#include "session.h"

static json_t *str_or_null(const char *s)
{
    return s && s[0] ? json_string(s) : json_null();
}

static json_t *ms_or_null(int64_t ms)
{
    return ms ? json_integer(ms) : json_null();
}

int ses_handle_ping(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)f;
    *reply =
        json_pack("{s:s, s:I}", "t", "pong", "time", (json_int_t)ses_clock_now_ms(&s->d->clock));
    return *reply ? 0 : SES_ENOMEM;
}

int ses_handle_whoami(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    struct ses_user u;
    struct ses_device dev;
    int rc;
    (void)f;
    if ((rc = ses_store_user_get(s->d->store, s->user_id, &u)) != 0 ||
        (rc = ses_store_device_get(s->d->store, s->device_id, &dev)) != 0)
        return rc;
    json_t *r = json_pack("{s:s, s:s}", "role", ses_role_name(u.role), "name", u.name);
    if (r == NULL || ses_set_id(r, "user", u.id) != 0 || ses_set_id(r, "device", dev.id) != 0 ||
        json_object_set_new(r, "site", str_or_null(u.site)) != 0 ||
        json_object_set_new(r, "device_name", str_or_null(dev.name)) != 0) {
        json_decref(r);
        return SES_ENOMEM;
    }
    *reply = r;
    return 0;
}

int ses_daemon_new_code(struct ses_daemon *d, const uint8_t user_id[16], int64_t now_ms,
                        uint32_t ttl_s, char code_text[36], int64_t *expires_ms)
{
    struct ses_code c;
    uint8_t secret[SES_CODE_SECRET_BYTES];
    int rc = SES_EEXISTS;
    memset(&c, 0, sizeof c);
    memcpy(c.user_id, user_id, SES_ID_BYTES);
    c.created_ms = now_ms;
    c.expires_ms = now_ms + (int64_t)ttl_s * 1000;
    c.attempts_left = SES_CODE_MAX_ATTEMPTS;
    randombytes_buf(secret, sizeof secret);
    crypto_generichash(c.secret_hash, sizeof c.secret_hash, secret, sizeof secret, d->keys->pepper,
                       sizeof d->keys->pepper);
    for (int tries = 0; tries < 8 && rc == SES_EEXISTS; tries++) {
        randombytes_buf(c.ticket, sizeof c.ticket);
        rc = ses_store_code_insert(d->store, &c);
    }
    if (rc == 0) {
        ses_code_format(code_text, c.ticket, secret);
        *expires_ms = c.expires_ms;
    }
    sodium_memzero(secret, sizeof secret);
    return rc;
}

int ses_handle_invite(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    struct ses_invite_req req;
    struct ses_user u;
    struct ses_store *st = s->d->store;
    char code[SES_CODE_TEXT_LEN + 1], object[64], id_txt[SES_ID_TEXT_LEN + 1];
    int64_t now = ses_clock_now_ms(&s->d->clock), expires = 0;
    int rc = ses_decode_invite(f->root, &req);
    if (rc != 0)
        return rc;
    if ((rc = ses_store_begin(st)) != 0)
        return rc;
    if (req.for_user) {
        rc = ses_store_user_get(st, req.user_id, &u);
        if (rc == 0 && u.revoked)
            rc = SES_ECONFLICT;
    } else {
        memset(&u, 0, sizeof u);
        randombytes_buf(u.id, sizeof u.id);
        u.role = req.role;
        snprintf(u.name, sizeof u.name, "%s", req.name);
        if (req.site)
            snprintf(u.site, sizeof u.site, "%s", req.site);
        u.created_ms = now;
        rc = ses_store_user_insert(st, &u);
    }
    if (rc == 0)
        rc = ses_daemon_new_code(s->d, u.id, now, req.ttl_s, code, &expires);
    if (rc == 0) {
        ses_id_to_text(id_txt, u.id);
        snprintf(object, sizeof object, "user:%s", id_txt);
        rc = ses_session_audit(s, "user.invite", object, 0);
    }
    if (rc == 0)
        rc = ses_store_commit(st);
    if (rc != 0) {
        ses_store_rollback(st);
        sodium_memzero(code, sizeof code);
        return rc;
    }
    SES_LOG(SES_LOG_NOTICE, "admin", "invite user=%s role=%s", id_txt, ses_role_name(u.role));
    json_t *r = json_pack("{s:s, s:s, s:s, s:o, s:s, s:I}", "t", "invited", "role",
                          ses_role_name(u.role), "name", u.name, "site", str_or_null(u.site),
                          "code", code, "expires", (json_int_t)expires);
    sodium_memzero(code, sizeof code);
    if (r == NULL || ses_set_id(r, "user", u.id) != 0) {
        json_decref(r);
        return SES_ENOMEM;
    }
    *reply = r;
    return 0;
}

int ses_handle_device_link(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"ttl", NULL};
    struct ses_store *st = s->d->store;
    char code[SES_CODE_TEXT_LEN + 1], object[64], id_txt[SES_ID_TEXT_LEN + 1];
    int64_t now = ses_clock_now_ms(&s->d->clock), expires = 0, ttl = SES_LINK_TTL_DEFAULT_S;
    int open = 0;
    int rc = ses_get_int(f->root, "ttl", SES_LINK_TTL_MIN_S, SES_LINK_TTL_MAX_S, false, &ttl);
    if (rc != 0 || (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    if ((rc = ses_store_code_open_count(st, s->user_id, now, &open)) != 0)
        return rc;
    if (open >= SES_LINK_MAX_OPEN)
        return SES_ERATE_LIMITED; /* use or let expire the codes already made */
    if ((rc = ses_store_begin(st)) != 0)
        return rc;
    rc = ses_daemon_new_code(s->d, s->user_id, now, (uint32_t)ttl, code, &expires);
    if (rc == 0) {
        ses_id_to_text(id_txt, s->user_id);
        snprintf(object, sizeof object, "user:%s", id_txt);
        rc = ses_session_audit(s, "device.link", object, 0);
    }
    if (rc == 0)
        rc = ses_store_commit(st);
    if (rc != 0) {
        ses_store_rollback(st);
        sodium_memzero(code, sizeof code);
        return rc;
    }
    SES_LOG(SES_LOG_NOTICE, "admin", "link code for user=%s", id_txt);
    json_t *r = json_pack("{s:s, s:s, s:I}", "t", "link_code", "code", code, "expires",
                          (json_int_t)expires);
    sodium_memzero(code, sizeof code);
    if (r == NULL || ses_set_id(r, "user", s->user_id) != 0) {
        json_decref(r);
        return SES_ENOMEM;
    }
    *reply = r;
    return 0;
}

static void add_user(void *ud, const struct ses_user *u)
{
    json_t *o =
        json_pack("{s:s, s:s, s:o, s:s, s:I, s:i}", "name", u->name, "role", ses_role_name(u->role),
                  "site", str_or_null(u->site), "state", u->revoked ? "revoked" : "active",
                  "created", (json_int_t)u->created_ms, "devices", u->n_devices);
    if (o == NULL)
        return;
    ses_set_id(o, "user", u->id);
    json_array_append_new(ud, o);
}

int ses_handle_users(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    int rc = ses_fields_only(f->root, NULL);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    rc = arr ? ses_store_user_list(s->d->store, add_user, arr) : SES_ENOMEM;
    if (rc != 0) {
        json_decref(arr);
        return rc;
    }
    *reply = json_pack("{s:o}", "users", arr);
    return *reply ? 0 : SES_ENOMEM;
}

static void add_device(void *ud, const struct ses_device *d)
{
    json_t *o = json_pack("{s:o, s:s, s:I, s:o}", "name", str_or_null(d->name), "state",
                          d->revoked ? "revoked" : "active", "created", (json_int_t)d->created_ms,
                          "last_login", ms_or_null(d->last_login_ms));
    if (o == NULL)
        return;
    ses_set_id(o, "device", d->id);
    ses_set_id(o, "user", d->user_id);
    ses_set_b64(o, "sign_pk", d->sign_pk, sizeof d->sign_pk);
    ses_set_b64(o, "box_pk", d->box_pk, sizeof d->box_pk);
    json_array_append_new(ud, o);
}

int ses_handle_devices(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"user", NULL};
    uint8_t user[SES_ID_BYTES];
    bool has_user = false;
    int rc = ses_get_id(f->root, "user", false, user, &has_user);
    if (rc != 0 || (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    json_t *arr = json_array();
    rc = arr ? ses_store_device_list(s->d->store, has_user ? user : NULL, add_device, arr)
             : SES_ENOMEM;
    if (rc != 0) {
        json_decref(arr);
        return rc;
    }
    *reply = json_pack("{s:o}", "devices", arr);
    return *reply ? 0 : SES_ENOMEM;
}

int ses_handle_revoke(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    struct ses_revoke_req req;
    struct ses_store *st = s->d->store;
    struct ses_user u;
    char object[64], id_txt[SES_ID_TEXT_LEN + 1];
    int64_t now = ses_clock_now_ms(&s->d->clock);
    int rc = ses_decode_revoke(f->root, &req);
    if (rc != 0)
        return rc;
    ses_id_to_text(id_txt, req.target);
    snprintf(object, sizeof object, "%s:%s", req.is_user ? "user" : "device", id_txt);
    if ((rc = ses_store_begin(st)) != 0)
        return rc;
    if (req.is_user) {
        int admins = 0;
        rc = ses_store_user_get(st, req.target, &u);
        if (rc == 0 && u.revoked)
            rc = SES_ECONFLICT;
        if (rc == 0 && u.role == SES_ROLE_ADMIN &&
            (rc = ses_store_count_active_admins(st, &admins)) == 0 && admins <= 1)
            rc = SES_ECONFLICT; /* never lock the team out */
        if (rc == 0)
            rc = ses_store_user_revoke(st, req.target, now);
        if (rc == 0)
            rc = ses_store_device_revoke_user(st, req.target, now);
    } else {
        rc = ses_store_device_revoke(st, req.target, now);
    }
    if (rc == 0)
        rc = ses_session_audit(s, req.is_user ? "user.revoke" : "device.revoke", object, 0);
    if (rc == 0)
        rc = ses_store_commit(st);
    if (rc != 0) {
        ses_store_rollback(st);
        return rc;
    }
    /* committed: the revoked sessions end now, and no later message is wrapped to them */
    ses_roster_cache_clear(s->d->rosters);
    int closed = ses_sessions_close_revoked(s->d, req.is_user ? NULL : req.target,
                                            req.is_user ? req.target : NULL);
    SES_LOG(SES_LOG_NOTICE, "admin", "revoke %s sessions_closed=%d", object, closed);
    json_t *r = json_pack("{s:s, s:s, s:i}", "t", "revoked", req.is_user ? "user" : "device",
                          id_txt, "sessions_closed", closed);
    if (r == NULL)
        return SES_ENOMEM;
    *reply = r;
    return 0;
}

int ses_handle_test_clock(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    int64_t ms = 0;
    int rc = ses_get_int(f->root, "advance_ms", 0, (int64_t)365 * 86400 * 1000, true, &ms);
    if (rc != 0)
        return rc;
    ses_clock_advance(&s->d->clock, ms);
    SES_LOG(SES_LOG_NOTICE, "test", "clock advanced by %lld ms", (long long)ms);
    (void)ses_auditlog_prune(s->d); /* time-based jobs see the new time at once */
    ses_alerts_kick(s->d);
    *reply = json_pack("{s:I}", "now", (json_int_t)ses_clock_now_ms(&s->d->clock));
    return *reply ? 0 : SES_ENOMEM;
}
