/*
 * handle_thread.c - caseload threads (PROTOCOL.md §11): create, list, info (members and their
 * active device keys, roster hash), add and remove members, the team directory, a user's device
 * keys, and receipts. Membership changes are rare and written on the loop with their audit
 * record; the message path goes through the writer (handle_msg.c).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/envelope.h"
#include "sesame/err.h"

#include "alert_engine.h"
#include "log.h"
#include "roster_cache.h"
#include "session.h"
#include "resource.h"
#include "roster.h"

#define SES_MAX_THREAD_MEMBERS SES_ROSTER_MAX_MEMBERS

static bool clinical_role(enum ses_role r)
{
    return r == SES_ROLE_NURSE || r == SES_ROLE_PSYCHIATRIST || r == SES_ROLE_GP;
}

static bool patient_ref_valid(const char *p)
{
    size_t n = strlen(p);
    if (n < 1 || n > SES_MAX_PATIENT_REF)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
            return false;
    return true;
}

static json_t *roster_json(const struct ses_roster *r)
{
    json_t *o =
        json_pack("{s:s, s:I, s:I}", "patient", r->thread.patient, "roster_version",
                  (json_int_t)r->thread.roster_version, "last_seq", (json_int_t)r->thread.last_seq);
    json_t *members = json_array();
    if (o == NULL || members == NULL || ses_set_id(o, "thread", r->thread.id) != 0 ||
        ses_set_b64(o, "roster_hash", r->hash, 32) != 0) {
        json_decref(o);
        json_decref(members);
        return NULL;
    }
    for (int i = 0; i < r->n; i++) {
        const struct ses_roster_member *m = &r->members[i];
        json_t *mj =
            json_pack("{s:s, s:s}", "name", m->user.name, "role", ses_role_name(m->user.role));
        json_t *devs = json_array();
        if (mj == NULL || devs == NULL)
            goto oom;
        ses_set_id(mj, "user", m->user.id);
        for (int k = 0; k < m->n_devices; k++) {
            json_t *dj = json_object();
            if (dj == NULL)
                goto oom;
            ses_set_id(dj, "device", m->devices[k].id);
            ses_set_b64(dj, "sign_pk", m->devices[k].sign_pk, 32);
            ses_set_b64(dj, "box_pk", m->devices[k].box_pk, 32);
            json_array_append_new(devs, dj);
        }
        json_object_set_new(mj, "devices", devs);
        json_array_append_new(members, mj);
        continue;
    oom:
        json_decref(mj);
        json_decref(devs);
        json_decref(members);
        json_decref(o);
        return NULL;
    }
    json_object_set_new(o, "members", members);
    return o;
}

/* The fields of a request that names only a thread. */
static const char *const thread_keys[] = {"thread", NULL};

/* Loads the roster of the request's thread and asks the policy whether the caller may do action
 * on it (an unknown thread gets the same DENIED as a thread the caller is not in). */
static int authorized_roster(struct ses_session *s, const struct ses_frame *f,
                             enum ses_action action, struct ses_roster *r,
                             uint8_t thread[SES_ID_BYTES])
{
    int rc = ses_get_id(f->root, "thread", true, thread, NULL);
    if (rc != 0)
        return rc;
    rc = ses_roster_load(s->d->store, thread, r);
    if (rc != 0 && rc != SES_ENOT_FOUND)
        return rc;
    struct ses_resource res;
    ses_resource_of_roster(rc == 0 ? r : NULL, s->user_id, &res);
    return ses_session_authorize(s, action, &res);
}

static struct ses_roster *roster_new(void)
{
    return calloc(1, sizeof(struct ses_roster));
}

/* Pushes {"t":"roster"} to every open connection of a current member. */
static void push_roster(struct ses_daemon *d, const struct ses_roster *r)
{
    uint8_t ids[SES_ROSTER_MAX_MEMBERS][SES_ID_BYTES];
    struct ses_audience a = {.users = ids};
    ses_roster_ids_of(r, ids, &a.n_users);
    json_t *p = json_pack("{s:s, s:I}", "t", "roster", "roster_version",
                          (json_int_t)r->thread.roster_version);
    if (p && ses_set_id(p, "thread", r->thread.id) == 0)
        (void)ses_registry_push(&d->sessions, &a, p);
    else
        json_decref(p);
}

static int audit_thread(struct ses_store *st, const struct ses_req *req, const char *action,
                        const uint8_t thread[16], const uint8_t *user)
{
    char object[96], t[SES_ID_TEXT_LEN + 1], u[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(t, thread);
    if (user) {
        ses_id_to_text(u, user);
        snprintf(object, sizeof object, "thread:%s user:%s", t, u);
    } else {
        snprintf(object, sizeof object, "thread:%s", t);
    }
    return ses_req_audit(st, req, action, object, 0);
}

static void count_active(void *ud, const struct ses_device *d)
{
    if (!d->revoked)
        (*(int *)ud)++;
}

/* Active devices of a user (0 when unknown). */
static int active_devices(struct ses_store *st, const uint8_t user[SES_ID_BYTES])
{
    int n = 0;
    (void)ses_store_device_list(st, user, count_active, &n);
    return n;
}

/* Checks that a user id may be a member: exists, active, clinical role. */
static int check_member_user(struct ses_store *st, const uint8_t user[SES_ID_BYTES])
{
    struct ses_user u;
    int rc = ses_store_user_get(st, user, &u);
    if (rc == SES_ENOT_FOUND)
        return SES_ENOT_FOUND;
    if (rc != 0)
        return rc;
    if (u.revoked)
        return SES_ECONFLICT;
    return clinical_role(u.role) ? 0 : SES_EBAD_FIELD;
}

/* --- thread creation and membership changes: one writer job each ---------------------------- */

enum thread_op { TJ_CREATE, TJ_ADD, TJ_REMOVE };

struct thread_job {
    struct ses_req req;
    enum thread_op op;
    struct ses_thread t; /* create */
    uint8_t ids[SES_MAX_THREAD_MEMBERS + 1][SES_ID_BYTES];
    size_t n;
    uint8_t thread[SES_ID_BYTES], user[SES_ID_BYTES]; /* add, remove */
};

static int run_create(struct ses_store *st, struct thread_job *j)
{
    int devices = 0, rc = 0;
    for (size_t i = 0; i < j->n && rc == 0; i++) {
        rc = check_member_user(st, j->ids[i]);
        devices += active_devices(st, j->ids[i]);
    }
    if (rc == 0 && devices > SES_MAX_RECIPIENTS)
        rc = SES_ECONFLICT; /* more devices than an envelope can wrap to */
    if (rc == 0)
        rc = ses_store_thread_insert(st, &j->t);
    for (size_t i = 0; i < j->n && rc == 0; i++)
        rc = ses_store_member_put(st, j->t.id, j->ids[i], j->t.created_ms);
    if (rc == 0)
        rc = audit_thread(st, &j->req, "thread.create", j->t.id, NULL);
    return rc;
}

/* Checked against the committed roster, inside the writer's transaction. */
static int run_member(struct ses_store *st, struct thread_job *j)
{
    bool add = j->op == TJ_ADD;
    struct ses_roster *r = roster_new();
    int rc = r ? ses_roster_load(st, j->thread, r) : SES_ENOMEM;
    if (rc == 0) { /* the caller removed, or a nurse no more a member, while it was queued? */
        struct ses_principal p = {.role = j->req.role};
        struct ses_resource res;
        ses_resource_of_roster(r, j->req.user, &res);
        rc = ses_authz_check(&p, add ? SES_ACT_THREAD_ADD : SES_ACT_THREAD_REMOVE, &res);
    }
    if (rc == 0 && add) {
        rc = check_member_user(st, j->user);
        if (rc == 0 && (ses_roster_has_user(r, j->user) || r->n >= SES_MAX_THREAD_MEMBERS))
            rc = SES_ECONFLICT;
        if (rc == 0 &&
            ses_roster_device_count(r) + active_devices(st, j->user) > SES_MAX_RECIPIENTS)
            rc = SES_ECONFLICT; /* nobody could send to the thread any more */
        if (rc == 0)
            rc = ses_store_member_put(st, j->thread, j->user, j->req.now);
    } else if (rc == 0) {
        rc = ses_store_member_remove(st, j->thread, j->user, j->req.now);
        if (rc == 0 && r->n <= 1)
            rc = SES_ECONFLICT; /* a thread keeps at least one member */
    }
    free(r);
    if (rc == 0)
        rc = ses_store_thread_bump_roster(st, j->thread);
    if (rc == 0)
        rc = audit_thread(st, &j->req, add ? "thread.member.add" : "thread.member.remove",
                          j->thread, j->user);
    return rc;
}

static int run_thread_job(struct ses_store *st, void *arg)
{
    struct thread_job *j = arg;
    return j->op == TJ_CREATE ? run_create(st, j) : run_member(st, j);
}

/* Loop thread, after the commit: the new roster to every member, and the reply. */
static void done_thread_job(void *arg, int rc)
{
    struct thread_job *j = arg;
    struct ses_daemon *d = j->req.d;
    const uint8_t *thread = j->op == TJ_CREATE ? j->t.id : j->thread;
    json_t *reply = NULL;
    if (rc == 0) {
        if (j->op == TJ_CREATE)
            ses_alerts_kick(d); /* the new thread's time rules */
        else
            ses_roster_cache_drop(d->rosters, thread); /* the next send sees the change */
        struct ses_roster *r = roster_new();
        rc = r ? ses_roster_load(d->store, thread, r) : SES_ENOMEM;
        if (rc == 0) {
            push_roster(d, r);
            if ((reply = roster_json(r)) == NULL)
                rc = SES_ENOMEM;
            else
                json_object_set_new(reply, "t",
                                    json_string(j->op == TJ_CREATE ? "thread" : "thread_info"));
        }
        free(r);
    }
    struct ses_session *s = ses_req_session(&j->req);
    if (s != NULL)
        ses_session_finish(s, NULL, j->req.id, rc, reply);
    else
        json_decref(reply);
    free(j);
}

static int submit_thread_job(struct thread_job *j)
{
    return ses_req_submit(&j->req, run_thread_job, done_thread_job, j);
}

int ses_handle_thread_create(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"patient", "members", NULL};
    (void)reply;
    const char *patient = NULL;
    uint8_t ids[SES_MAX_THREAD_MEMBERS + 1][SES_ID_BYTES];
    size_t n = 0;
    int rc;
    if ((rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    if ((rc = ses_get_str(f->root, "patient", 1, SES_MAX_PATIENT_REF, true, &patient)) != 0)
        return rc;
    if (!patient_ref_valid(patient))
        return SES_EBAD_FIELD;
    json_t *members = json_object_get(f->root, "members");
    if (members == NULL)
        return SES_EMISSING_FIELD;
    if (!json_is_array(members) || json_array_size(members) > SES_MAX_THREAD_MEMBERS)
        return SES_EBAD_FIELD;
    if (s->role != SES_ROLE_ADMIN)
        memcpy(ids[n++], s->user_id, SES_ID_BYTES); /* the creating nurse is a member */
    for (size_t i = 0; i < json_array_size(members); i++) {
        json_t *e = json_array_get(members, i);
        uint8_t id[SES_ID_BYTES];
        if (!json_is_string(e) || ses_id_from_text(id, json_string_value(e)) != 0)
            return SES_EBAD_FIELD;
        bool dup = false;
        for (size_t j = 0; j < n; j++)
            dup = dup || memcmp(ids[j], id, SES_ID_BYTES) == 0;
        if (dup)
            continue;
        if (n >= SES_MAX_THREAD_MEMBERS)
            return SES_EBAD_FIELD;
        memcpy(ids[n++], id, SES_ID_BYTES);
    }
    if (n == 0)
        return SES_EMISSING_FIELD;
    struct thread_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return SES_ENOMEM;
    ses_req_init(&j->req, s, f->id);
    j->op = TJ_CREATE;
    randombytes_buf(j->t.id, sizeof j->t.id);
    snprintf(j->t.patient, sizeof j->t.patient, "%s", patient);
    memcpy(j->t.created_by, s->user_id, SES_ID_BYTES);
    j->t.created_ms = j->req.now;
    j->t.roster_version = 1;
    memcpy(j->ids, ids, sizeof ids);
    j->n = n;
    return submit_thread_job(j);
}

int ses_handle_thread_info(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    uint8_t thread[SES_ID_BYTES];
    struct ses_roster *r = roster_new();
    int rc = r ? authorized_roster(s, f, SES_ACT_THREAD_READ, r, thread) : SES_ENOMEM;
    if (rc == 0)
        rc = ses_fields_only(f->root, thread_keys);
    if (rc == 0 && (*reply = roster_json(r)) == NULL)
        rc = SES_ENOMEM;
    struct ses_thread_meta m;
    if (rc == 0 && (rc = ses_store_thread_meta_get(s->d->store, thread, &m)) == 0)
        json_object_set_new(*reply, "meta", ses_thread_meta_json(&m));
    free(r);
    return rc;
}

static int change_member(struct ses_session *s, const struct ses_frame *f, bool add)
{
    static const char *const keys[] = {"thread", "user", NULL};
    uint8_t thread[SES_ID_BYTES], user[SES_ID_BYTES];
    struct ses_roster *r = roster_new();
    int rc = r ? 0 : SES_ENOMEM;
    if (rc == 0 && (rc = ses_get_id(f->root, "user", true, user, NULL)) == 0)
        rc = ses_fields_only(f->root, keys);
    if (rc == 0)
        rc = authorized_roster(s, f, add ? SES_ACT_THREAD_ADD : SES_ACT_THREAD_REMOVE, r, thread);
    free(r);
    if (rc != 0)
        return rc;
    struct thread_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return SES_ENOMEM;
    ses_req_init(&j->req, s, f->id);
    j->op = add ? TJ_ADD : TJ_REMOVE;
    memcpy(j->thread, thread, SES_ID_BYTES);
    memcpy(j->user, user, SES_ID_BYTES);
    return submit_thread_job(j);
}

int ses_handle_thread_add(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return change_member(s, f, true);
}

int ses_handle_thread_remove(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return change_member(s, f, false);
}

static void add_line(void *ud, const struct ses_thread_line *l)
{
    json_t *o = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "patient", l->t.patient,
                          "roster_version", (json_int_t)l->t.roster_version, "last_seq",
                          (json_int_t)l->t.last_seq, "last_ms", (json_int_t)l->t.last_ms,
                          "read_seq", (json_int_t)l->read_seq, "unread", (json_int_t)l->unread);
    if (o == NULL)
        return;
    ses_set_id(o, "thread", l->t.id);
    json_array_append_new(ud, o);
}

int ses_handle_threads(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    int rc = ses_fields_only(f->root, NULL);
    if (rc != 0)
        return rc;
    json_t *arr = json_array();
    rc = arr ? ses_store_threads_of_user(s->d->store, s->user_id, add_line, arr) : SES_ENOMEM;
    if (rc != 0) {
        json_decref(arr);
        return rc;
    }
    *reply = json_pack("{s:o}", "threads", arr);
    return *reply ? 0 : SES_ENOMEM;
}

static void add_dir_user(void *ud, const struct ses_user *u)
{
    json_t *o = json_pack("{s:s, s:s, s:o}", "name", u->name, "role", ses_role_name(u->role),
                          "site", u->site[0] ? json_string(u->site) : json_null());
    if (o == NULL)
        return;
    ses_set_id(o, "user", u->id);
    json_array_append_new(ud, o);
}

int ses_handle_directory(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"role", NULL};
    const char *role_name = NULL;
    enum ses_role role = SES_ROLE_NONE;
    int rc = ses_get_str(f->root, "role", 1, 32, false, &role_name);
    if (rc != 0)
        return rc;
    if (role_name && (role = ses_role_from_name(role_name)) == SES_ROLE_NONE)
        return SES_EBAD_FIELD;
    if ((rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    json_t *arr = json_array();
    rc = arr ? ses_store_users_active(s->d->store, role, add_dir_user, arr) : SES_ENOMEM;
    if (rc != 0) {
        json_decref(arr);
        return rc;
    }
    *reply = json_pack("{s:o}", "users", arr);
    return *reply ? 0 : SES_ENOMEM;
}

static void add_key(void *ud, const struct ses_device *d)
{
    if (d->revoked)
        return;
    json_t *o = json_pack("{s:I}", "created", (json_int_t)d->created_ms);
    if (o == NULL)
        return;
    ses_set_id(o, "device", d->id);
    ses_set_b64(o, "sign_pk", d->sign_pk, 32);
    ses_set_b64(o, "box_pk", d->box_pk, 32);
    json_array_append_new(ud, o);
}

int ses_handle_keys(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"user", NULL};
    uint8_t user[SES_ID_BYTES];
    struct ses_user u;
    int rc = ses_get_id(f->root, "user", true, user, NULL);
    if (rc != 0 || (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    if ((rc = ses_store_user_get(s->d->store, user, &u)) != 0)
        return rc;
    json_t *arr = json_array();
    rc = arr ? ses_store_device_list(s->d->store, user, add_key, arr) : SES_ENOMEM;
    if (rc != 0) {
        json_decref(arr);
        return rc;
    }
    *reply = json_pack("{s:o}", "devices", arr);
    if (*reply == NULL || ses_set_id(*reply, "user", user) != 0)
        return SES_ENOMEM;
    return 0;
}

static void add_receipt(void *ud, const uint8_t user[SES_ID_BYTES], int64_t delivered, int64_t read)
{
    json_t *o =
        json_pack("{s:I, s:I}", "delivered", (json_int_t)delivered, "read", (json_int_t)read);
    if (o == NULL)
        return;
    ses_set_id(o, "user", user);
    json_array_append_new(ud, o);
}

int ses_handle_receipts(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    uint8_t thread[SES_ID_BYTES];
    struct ses_roster *r = roster_new();
    int rc = r ? authorized_roster(s, f, SES_ACT_THREAD_READ, r, thread) : SES_ENOMEM;
    free(r);
    if (rc != 0 || (rc = ses_fields_only(f->root, thread_keys)) != 0)
        return rc;
    json_t *arr = json_array();
    rc = arr ? ses_store_receipts(s->d->store, thread, add_receipt, arr) : SES_ENOMEM;
    if (rc != 0) {
        json_decref(arr);
        return rc;
    }
    *reply = json_pack("{s:o}", "members", arr);
    if (*reply == NULL || ses_set_id(*reply, "thread", thread) != 0)
        return SES_ENOMEM;
    return 0;
}
