/*
 * handle_admin.c - requests after login: ping, whoami, and the admin's invite, users, devices and
 * revoke (PROTOCOL.md §7), plus the test_clock hook of test builds. Authorization has already
 * been checked by the dispatcher; every change is one writer job with its audit record, replied
 * to after the commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/err.h"

#include "enrol_code.h"
#include "log.h"
#include "alert_engine.h"
#include "roster_cache.h"
#include "session.h"
#include "writer.h"

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

/* --- invite, device link, revoke: one writer job each, replied to after the commit ---------- */

enum admin_op { AJ_INVITE, AJ_LINK, AJ_REVOKE };

struct admin_job {
    struct ses_req req;
    enum admin_op op;
    /* invite */
    bool for_user;
    struct ses_user u;
    uint32_t ttl_s;
    char code[SES_CODE_TEXT_LEN + 1]; /* the new code: wiped once replied */
    int64_t expires;
    /* revoke */
    struct ses_revoke_req rev;
    char object[64];
};

static int audit_user(struct ses_store *st, const struct admin_job *j, const char *action,
                      const uint8_t user[SES_ID_BYTES])
{
    char object[64], id_txt[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(id_txt, user);
    snprintf(object, sizeof object, "user:%s", id_txt);
    return ses_req_audit(st, &j->req, action, object, 0);
}

static int run_invite(struct ses_store *st, struct admin_job *j)
{
    int rc = 0;
    if (j->for_user) {
        rc = ses_store_user_get(st, j->u.id, &j->u);
        if (rc == 0 && j->u.revoked)
            rc = SES_ECONFLICT;
    } else {
        rc = ses_store_user_insert(st, &j->u);
    }
    if (rc == 0)
        rc = ses_enrol_code_new(st, j->req.d->keys->pepper, j->u.id, j->req.now, j->ttl_s, j->code,
                                &j->expires);
    return rc == 0 ? audit_user(st, j, "user.invite", j->u.id) : rc;
}

static int run_link(struct ses_store *st, struct admin_job *j)
{
    int open = 0;
    int rc = ses_store_code_open_count(st, j->req.user, j->req.now, &open);
    if (rc == 0 && open >= SES_LINK_MAX_OPEN)
        rc = SES_ERATE_LIMITED; /* use or let expire the codes already made */
    if (rc == 0)
        rc = ses_enrol_code_new(st, j->req.d->keys->pepper, j->req.user, j->req.now, j->ttl_s,
                                j->code, &j->expires);
    return rc == 0 ? audit_user(st, j, "device.link", j->req.user) : rc;
}

static int run_revoke(struct ses_store *st, struct admin_job *j)
{
    int rc;
    if (j->rev.is_user) {
        int admins = 0;
        struct ses_user u;
        rc = ses_store_user_get(st, j->rev.target, &u);
        if (rc == 0 && u.revoked)
            rc = SES_ECONFLICT;
        if (rc == 0 && u.role == SES_ROLE_ADMIN &&
            (rc = ses_store_count_active_admins(st, &admins)) == 0 && admins <= 1)
            rc = SES_ECONFLICT; /* never lock the team out */
        if (rc == 0)
            rc = ses_store_user_revoke(st, j->rev.target, j->req.now);
        if (rc == 0)
            rc = ses_store_device_revoke_user(st, j->rev.target, j->req.now);
    } else {
        rc = ses_store_device_revoke(st, j->rev.target, j->req.now);
    }
    return rc == 0 ? ses_req_audit(st, &j->req, j->rev.is_user ? "user.revoke" : "device.revoke",
                                   j->object, 0)
                   : rc;
}

static int run_admin(struct ses_store *st, void *arg)
{
    struct admin_job *j = arg;
    switch (j->op) {
    case AJ_INVITE:
        return run_invite(st, j);
    case AJ_LINK:
        return run_link(st, j);
    case AJ_REVOKE:
        return run_revoke(st, j);
    }
    return SES_EINTERNAL;
}

static json_t *invite_reply(const struct admin_job *j)
{
    char id_txt[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(id_txt, j->u.id);
    SES_LOG(SES_LOG_NOTICE, "admin", "invite user=%s role=%s", id_txt, ses_role_name(j->u.role));
    json_t *r =
        json_pack("{s:s, s:s, s:s, s:o, s:s, s:I}", "t", "invited", "role",
                  ses_role_name(j->u.role), "name", j->u.name, "site", str_or_null(j->u.site),
                  "code", j->code, "expires", (json_int_t)j->expires);
    if (r != NULL && ses_set_id(r, "user", j->u.id) != 0) {
        json_decref(r);
        r = NULL;
    }
    return r;
}

static json_t *link_reply(const struct admin_job *j)
{
    char id_txt[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(id_txt, j->req.user);
    SES_LOG(SES_LOG_NOTICE, "admin", "link code for user=%s", id_txt);
    json_t *r = json_pack("{s:s, s:s, s:I}", "t", "link_code", "code", j->code, "expires",
                          (json_int_t)j->expires);
    if (r != NULL && ses_set_id(r, "user", j->req.user) != 0) {
        json_decref(r);
        r = NULL;
    }
    return r;
}

/* Committed: the revoked sessions end now, and no later message is wrapped to them. */
static json_t *revoke_reply(struct admin_job *j)
{
    struct ses_daemon *d = j->req.d;
    char id_txt[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(id_txt, j->rev.target);
    ses_roster_cache_clear(d->rosters);
    int closed = ses_sessions_close_revoked(d, j->rev.is_user ? NULL : j->rev.target,
                                            j->rev.is_user ? j->rev.target : NULL);
    SES_LOG(SES_LOG_NOTICE, "admin", "revoke %s sessions_closed=%d", j->object, closed);
    return json_pack("{s:s, s:s, s:i}", "t", "revoked", j->rev.is_user ? "user" : "device", id_txt,
                     "sessions_closed", closed);
}

static void done_admin(void *arg, int rc)
{
    struct admin_job *j = arg;
    json_t *reply = NULL;
    if (rc == 0) {
        reply = j->op == AJ_INVITE ? invite_reply(j)
                : j->op == AJ_LINK ? link_reply(j)
                                   : revoke_reply(j);
        if (reply == NULL)
            rc = SES_ENOMEM;
    }
    sodium_memzero(j->code, sizeof j->code);
    struct ses_session *s = ses_req_session(&j->req);
    if (s != NULL)
        ses_session_finish(s, NULL, j->req.id, rc, reply);
    else
        json_decref(reply);
    free(j);
}

static struct admin_job *admin_job_new(struct ses_session *s, const struct ses_frame *f,
                                       enum admin_op op)
{
    struct admin_job *j = calloc(1, sizeof *j);
    if (j != NULL) {
        ses_req_init(&j->req, s, f->id);
        j->op = op;
    }
    return j;
}

static int admin_submit(struct admin_job *j)
{
    return ses_req_submit(&j->req, run_admin, done_admin, j);
}

int ses_handle_invite(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    struct ses_invite_req req;
    (void)reply;
    int rc = ses_decode_invite(f->root, &req);
    if (rc != 0)
        return rc;
    struct admin_job *j = admin_job_new(s, f, AJ_INVITE);
    if (j == NULL)
        return SES_ENOMEM;
    j->for_user = req.for_user;
    j->ttl_s = req.ttl_s;
    if (req.for_user) {
        memcpy(j->u.id, req.user_id, SES_ID_BYTES);
    } else {
        randombytes_buf(j->u.id, sizeof j->u.id);
        j->u.role = req.role;
        snprintf(j->u.name, sizeof j->u.name, "%s", req.name);
        if (req.site)
            snprintf(j->u.site, sizeof j->u.site, "%s", req.site);
        j->u.created_ms = j->req.now;
    }
    return admin_submit(j);
}

int ses_handle_device_link(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"ttl", NULL};
    int64_t ttl = SES_LINK_TTL_DEFAULT_S;
    (void)reply;
    int rc = ses_get_int(f->root, "ttl", SES_LINK_TTL_MIN_S, SES_LINK_TTL_MAX_S, false, &ttl);
    if (rc != 0 || (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    struct admin_job *j = admin_job_new(s, f, AJ_LINK);
    if (j == NULL)
        return SES_ENOMEM;
    j->ttl_s = (uint32_t)ttl;
    return admin_submit(j);
}

int ses_handle_revoke(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    struct ses_revoke_req req;
    char id_txt[SES_ID_TEXT_LEN + 1];
    (void)reply;
    int rc = ses_decode_revoke(f->root, &req);
    if (rc != 0)
        return rc;
    struct admin_job *j = admin_job_new(s, f, AJ_REVOKE);
    if (j == NULL)
        return SES_ENOMEM;
    j->rev = req;
    ses_id_to_text(id_txt, req.target);
    snprintf(j->object, sizeof j->object, "%s:%s", req.is_user ? "user" : "device", id_txt);
    return admin_submit(j);
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

static void clock_moved(void *ud, int rc)
{
    (void)rc; /* a failed retention pass is logged; the clock moved all the same */
    struct ses_req *req = ud;
    struct ses_session *s = ses_req_session(req);
    json_t *reply = json_pack("{s:I}", "now", (json_int_t)ses_clock_now_ms(&req->d->clock));
    if (s != NULL)
        ses_session_finish(s, "test_clock", req->id, reply ? 0 : SES_ENOMEM, reply);
    else
        json_decref(reply);
    free(req);
}

int ses_handle_test_clock(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    int64_t ms = 0;
    int rc = ses_get_int(f->root, "advance_ms", 0, (int64_t)365 * 86400 * 1000, true, &ms);
    if (rc != 0)
        return rc;
    ses_clock_advance(&s->d->clock, ms);
    SES_LOG(SES_LOG_NOTICE, "test", "clock advanced by %lld ms", (long long)ms);
    ses_alerts_kick(s->d);
    struct ses_req *req = malloc(sizeof *req);
    if (req == NULL)
        return SES_ENOMEM;
    ses_req_init(req, s, f->id);
    /* time-based jobs see the new time at once: the reply follows the retention pass */
    (void)ses_auditlog_prune(&s->d->audit, clock_moved, req);
    return SES_PENDING;
}
