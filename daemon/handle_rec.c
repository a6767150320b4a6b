/*
 * handle_rec.c - the recommendation requests (PROTOCOL.md §16): rec_send, rec_amend, rec_ack,
 * rec_decide, rec_implemented, rec_verify, recs and rec_show. Each change is one writer job with
 * its audit record; the policy is asked at the loop (quick audited refusal) and again on the
 * writer against the committed state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/recommend.h"

#include "alert_engine.h"
#include "clock.h"
#include "daemon.h"
#include "rec.h"
#include "resource.h"
#include "session.h"
#include "store_rec.h"

static json_t *id_json(const uint8_t id[SES_ID_BYTES])
{
    char t[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(t, id);
    return json_string(t);
}

static json_t *opt_id(bool has, const uint8_t id[SES_ID_BYTES])
{
    return has ? id_json(id) : json_null();
}

static json_t *opt_int(int64_t v)
{
    return v != 0 ? json_integer(v) : json_null();
}

/* REC (PROTOCOL.md §16). */
static json_t *rec_json(struct ses_store *st, const struct ses_rec *r, int64_t now)
{
    struct ses_thread t;
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "rec", id_json(r->id));
    json_object_set_new(o, "thread", id_json(r->thread));
    if (ses_store_thread_get(st, r->thread, &t) == 0)
        json_object_set_new(o, "patient", json_string(t.patient));
    json_object_set_new(o, "version", json_integer(r->version));
    json_object_set_new(o, "supersedes", opt_id(r->has_supersedes, r->supersedes));
    json_object_set_new(o, "superseded_by", opt_id(r->has_superseded_by, r->superseded_by));
    json_object_set_new(o, "author", id_json(r->author));
    json_object_set_new(o, "gp", id_json(r->gp));
    json_object_set_new(o, "urgent", json_boolean(r->urgent));
    json_object_set_new(o, "state", json_string(r->state));
    json_object_set_new(o, "msg_seq", json_integer(r->msg_seq));
    json_object_set_new(o, "sent", json_integer(r->sent_ms));
    json_object_set_new(o, "deadline", json_integer(r->deadline_ms));
    json_object_set_new(o, "overdue",
                        json_boolean(strcmp(r->state, "sent") == 0 && now >= r->deadline_ms));
    json_object_set_new(o, "acked", opt_int(r->acked_ms));
    json_object_set_new(o, "decision", r->decision[0] ? json_string(r->decision) : json_null());
    json_object_set_new(o, "decided", opt_int(r->decided_ms));
    json_object_set_new(o, "reason_seq", opt_int(r->reason_seq));
    json_object_set_new(o, "implemented", opt_int(r->implemented_ms));
    json_object_set_new(o, "verified", opt_int(r->verified_ms));
    json_object_set_new(o, "verified_by", opt_id(r->has_verified_by, r->verified_by));
    return o;
}

/* --- the writer job ------------------------------------------------------------------------ */

struct rec_job {
    struct ses_req req;
    enum ses_rec_event event; /* 0: send */
    struct ses_rec rec;       /* the stored one (not for a send); after the commit: the result */
    uint8_t thread[SES_ID_BYTES], gp[SES_ID_BYTES];
    bool urgent;
    int64_t msg_seq, reason_seq;
    struct ses_alert_touched touched;
};

static const enum ses_action event_action[] = {
    [0] = SES_ACT_REC_SEND,
    [SES_REC_EV_ACK] = SES_ACT_REC_ACK,
    [SES_REC_EV_ACCEPT] = SES_ACT_REC_DECIDE,
    [SES_REC_EV_MODIFY] = SES_ACT_REC_DECIDE,
    [SES_REC_EV_DECLINE] = SES_ACT_REC_DECIDE,
    [SES_REC_EV_IMPLEMENT] = SES_ACT_REC_IMPLEMENT,
    [SES_REC_EV_VERIFY] = SES_ACT_REC_VERIFY,
    [SES_REC_EV_AMEND] = SES_ACT_REC_AMEND,
};

static const char *const event_audit[] = {
    [0] = "rec.send",
    [SES_REC_EV_ACK] = "rec.ack",
    [SES_REC_EV_ACCEPT] = "rec.decide",
    [SES_REC_EV_MODIFY] = "rec.decide",
    [SES_REC_EV_DECLINE] = "rec.decide",
    [SES_REC_EV_IMPLEMENT] = "rec.implemented",
    [SES_REC_EV_VERIFY] = "rec.verify",
    [SES_REC_EV_AMEND] = "rec.amend",
};

/* Writer: the policy again on the committed state (a member removed meanwhile is refused). */
static int authorize_txn(struct ses_store *st, struct rec_job *j)
{
    struct ses_principal p = {.role = j->req.role};
    struct ses_resource r;
    int rc;
    if (j->event == 0)
        return ses_resource_authorize_thread(st, j->req.role, SES_ACT_REC_SEND, j->thread,
                                             j->req.user);
    if ((rc = ses_store_rec_get(st, j->rec.id, &j->rec)) != 0)
        return rc == SES_ENOT_FOUND ? SES_EDENIED : rc;
    if ((rc = ses_resource_rec(st, &j->rec, j->req.user, &r)) != 0)
        return rc;
    return ses_authz_check(&p, event_action[j->event], &r);
}

static int run_rec(struct ses_store *st, void *arg)
{
    struct rec_job *j = arg;
    j->touched.n = 0;
    int rc = authorize_txn(st, j);
    if (rc != 0)
        return rc;
    struct ses_rec_act a = {.event = j->event,
                            .user = j->req.user,
                            .by = {.user = j->req.user,
                                   .device = j->req.device,
                                   .role = ses_role_name(j->req.role),
                                   .peer = j->req.peer},
                            .now = j->req.now,
                            .urgent = j->urgent,
                            .msg_seq = j->msg_seq,
                            .reason_seq = j->reason_seq};
    memcpy(a.thread, j->thread, SES_ID_BYTES);
    memcpy(a.gp, j->gp, SES_ID_BYTES);
    uint8_t old[SES_ID_BYTES];
    memcpy(old, j->rec.id, SES_ID_BYTES);
    if ((rc = ses_rec_apply_txn(st, &j->req.d->cfg, &j->rec, &a, &j->touched)) != 0)
        return rc;
    char rec_id[SES_ID_TEXT_LEN + 1], thread[SES_ID_TEXT_LEN + 1], who[SES_ID_TEXT_LEN + 1];
    char object[256];
    ses_id_to_text(rec_id, j->rec.id);
    ses_id_to_text(thread, j->rec.thread);
    int n = snprintf(object, sizeof object, "rec:%s thread:%s", rec_id, thread);
    if (j->event == 0 || j->event == SES_REC_EV_AMEND) {
        ses_id_to_text(who, j->rec.gp);
        n += snprintf(object + n, sizeof object - (size_t)n, " gp:%s version:%d urgency:%s", who,
                      j->rec.version, j->rec.urgent ? "urgent" : "routine");
    }
    if (j->event == SES_REC_EV_AMEND) {
        ses_id_to_text(who, old);
        snprintf(object + n, sizeof object - (size_t)n, " supersedes:%s", who);
    } else if (j->event >= SES_REC_EV_ACCEPT && j->event <= SES_REC_EV_DECLINE) {
        snprintf(object + n, sizeof object - (size_t)n, " decision:%s", j->rec.decision);
    }
    return ses_req_audit(st, &j->req, event_audit[j->event], object, 0);
}

static void done_rec(void *arg, int rc)
{
    struct rec_job *j = arg;
    struct ses_daemon *d = j->req.d;
    struct ses_session *s = ses_req_session(&j->req);
    if (s != NULL && rc != 0) {
        ses_session_reply_error(s, j->req.id, rc);
    } else if (s != NULL) {
        json_t *r = rec_json(d->store, &j->rec, ses_clock_now_ms(&d->clock));
        if (r != NULL)
            (void)ses_session_reply(s, "rec", j->req.id, json_pack("{s:o}", "rec", r));
        else
            ses_session_reply_error(s, j->req.id, SES_ENOMEM);
    }
    if (rc == 0) {
        ses_alerts_push(d, &j->touched);
        ses_alerts_kick(d);
    }
    free(j);
}

static int submit(struct ses_session *s, const struct ses_frame *f, struct rec_job *j)
{
    ses_req_init(&j->req, s, f->id);
    return ses_req_submit(&j->req, run_rec, done_rec, j);
}

/* --- requests ------------------------------------------------------------------------------ */

/* The recommendation the request names and the policy's decision on action: 0 with *rec, or the
 * refusal (an unknown one is DENIED, audited, like one of another thread). */
static int named_rec(struct ses_session *s, const struct ses_frame *f, enum ses_action action,
                     struct ses_rec *rec)
{
    uint8_t id[SES_ID_BYTES];
    struct ses_resource r;
    int rc = ses_get_id(f->root, "rec", true, id, NULL);
    if (rc != 0)
        return rc;
    rc = ses_store_rec_get(s->d->store, id, rec);
    if (rc != 0 && rc != SES_ENOT_FOUND)
        return rc;
    int rr = ses_resource_rec(s->d->store, rc == 0 ? rec : NULL, s->user_id, &r);
    return rr != 0 ? rr : ses_session_authorize(s, action, &r);
}

static int check_urgent(const json_t *root, bool *urgent)
{
    json_t *v = json_object_get(root, "urgent");
    if (v == NULL)
        return 0;
    if (!json_is_boolean(v))
        return SES_EBAD_FIELD;
    *urgent = json_is_true(v);
    return 0;
}

int ses_handle_rec_send(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"thread", "msg_seq", "gp", "urgent", NULL};
    (void)reply;
    struct rec_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return SES_ENOMEM;
    struct ses_user gp;
    struct ses_resource gp_in;
    int rc = ses_get_id(f->root, "thread", true, j->thread, NULL);
    if (rc == 0)
        rc = ses_get_id(f->root, "gp", true, j->gp, NULL);
    if (rc == 0)
        rc = ses_get_int(f->root, "msg_seq", 1, INT64_MAX, true, &j->msg_seq);
    if (rc == 0)
        rc = check_urgent(f->root, &j->urgent);
    if (rc == 0)
        rc = ses_fields_only(f->root, keys);
    if (rc == 0)
        rc = ses_session_authorize_thread(s, SES_ACT_REC_SEND, j->thread);
    if (rc == 0) /* the content: a message of the thread by the author */
        rc = ses_session_check_own_msg(s, j->thread, j->msg_seq);
    if (rc == 0) /* addressed to an active GP member of the thread */
        rc = ses_store_user_get(s->d->store, j->gp, &gp);
    if (rc == 0)
        rc = ses_resource_thread(s->d->store, j->thread, j->gp, &gp_in);
    if (rc == SES_ENOT_FOUND ||
        (rc == 0 && (gp.revoked || gp.role != SES_ROLE_GP || !gp_in.member)))
        rc = SES_EBAD_FIELD;
    if (rc != 0) {
        free(j);
        return rc;
    }
    return submit(s, f, j);
}

int ses_handle_rec_amend(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"rec", "msg_seq", "urgent", NULL};
    (void)reply;
    struct rec_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return SES_ENOMEM;
    int rc = ses_get_int(f->root, "msg_seq", 1, INT64_MAX, true, &j->msg_seq);
    if (rc == 0)
        rc = ses_fields_only(f->root, keys);
    if (rc == 0)
        rc = named_rec(s, f, SES_ACT_REC_AMEND, &j->rec);
    j->urgent = j->rec.urgent; /* unless the new version says otherwise */
    if (rc == 0)
        rc = check_urgent(f->root, &j->urgent);
    if (rc == 0)
        rc = ses_session_check_own_msg(s, j->rec.thread, j->msg_seq);
    if (rc != 0) {
        free(j);
        return rc;
    }
    j->event = SES_REC_EV_AMEND;
    return submit(s, f, j);
}

/* rec_ack, rec_implemented, rec_verify: the recommendation and nothing else. */
static int simple(struct ses_session *s, const struct ses_frame *f, enum ses_rec_event ev)
{
    static const char *const keys[] = {"rec", NULL};
    struct rec_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return SES_ENOMEM;
    int rc = ses_fields_only(f->root, keys);
    if (rc == 0)
        rc = named_rec(s, f, event_action[ev], &j->rec);
    if (rc != 0) {
        free(j);
        return rc;
    }
    j->event = ev;
    return submit(s, f, j);
}

int ses_handle_rec_ack(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return simple(s, f, SES_REC_EV_ACK);
}

int ses_handle_rec_implemented(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return simple(s, f, SES_REC_EV_IMPLEMENT);
}

int ses_handle_rec_verify(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return simple(s, f, SES_REC_EV_VERIFY);
}

int ses_handle_rec_decide(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"rec", "decision", "reason_seq", NULL};
    (void)reply;
    const char *decision = NULL;
    struct rec_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return SES_ENOMEM;
    int rc = ses_get_str(f->root, "decision", 1, 16, true, &decision);
    if (rc == 0)
        rc = ses_get_int(f->root, "reason_seq", 1, INT64_MAX, false, &j->reason_seq);
    if (rc == 0)
        rc = ses_fields_only(f->root, keys);
    if (rc == 0 && (j->event = ses_rec_decision_event(decision)) == 0)
        rc = SES_EBAD_FIELD;
    if (rc == 0)
        rc = named_rec(s, f, SES_ACT_REC_DECIDE, &j->rec);
    if (rc == 0 && j->reason_seq == 0 && j->event != SES_REC_EV_ACCEPT)
        rc = SES_EREASON_REQUIRED;
    if (rc == 0 && j->reason_seq != 0) /* the GP's own encrypted message of the thread */
        rc = ses_session_check_own_msg(s, j->rec.thread, j->reason_seq);
    if (rc != 0) {
        free(j);
        return rc;
    }
    return submit(s, f, j);
}

struct list_ctx {
    struct ses_store *st;
    int64_t now;
    json_t *arr;
};

static int add_rec(void *ud, const struct ses_rec *r)
{
    struct list_ctx *c = ud;
    json_t *o = rec_json(c->st, r, c->now);
    return o != NULL && json_array_append_new(c->arr, o) == 0 ? 0 : SES_ENOMEM;
}

int ses_handle_recs(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"thread", "state", "limit", NULL};
    uint8_t thread[SES_ID_BYTES];
    bool has_thread = false;
    const char *state = "";
    int64_t limit = 100;
    int rc = ses_get_id(f->root, "thread", false, thread, &has_thread);
    if (rc == 0)
        rc = ses_get_str(f->root, "state", 1, 15, false, &state);
    if (rc == 0)
        rc = ses_get_int(f->root, "limit", 1, SES_REC_LIST_MAX, false, &limit);
    if (rc == 0)
        rc = ses_fields_only(f->root, keys);
    if (rc == 0 && state[0] != '\0' && ses_rec_state_parse(state) == 0)
        rc = SES_EBAD_FIELD;
    if (rc == 0 && has_thread)
        rc = ses_session_authorize_thread(s, SES_ACT_THREAD_READ, thread); /* members */
    if (rc != 0)
        return rc;
    struct list_ctx c = {s->d->store, ses_clock_now_ms(&s->d->clock), json_array()};
    if (c.arr == NULL)
        return SES_ENOMEM;
    rc = ses_store_recs(s->d->store, has_thread ? thread : NULL, has_thread ? NULL : s->user_id,
                        state, (int)limit, add_rec, &c);
    if (rc != 0) {
        json_decref(c.arr);
        return rc;
    }
    *reply = json_pack("{s:o}", "recs", c.arr);
    return *reply ? 0 : SES_ENOMEM;
}

static int add_event(void *ud, int64_t ts, const char *event, const uint8_t *by)
{
    json_t *o = json_pack("{s:I, s:s, s:o}", "ts", (json_int_t)ts, "event", event, "by",
                          by ? id_json(by) : json_null());
    return o != NULL && json_array_append_new(ud, o) == 0 ? 0 : SES_ENOMEM;
}

int ses_handle_rec_show(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"rec", NULL};
    struct ses_rec rec;
    int rc = ses_fields_only(f->root, keys);
    if (rc == 0)
        rc = named_rec(s, f, SES_ACT_REC_READ, &rec);
    if (rc != 0)
        return rc;
    json_t *events = json_array();
    if (events == NULL)
        return SES_ENOMEM;
    if ((rc = ses_store_rec_events(s->d->store, rec.id, add_event, events)) != 0) {
        json_decref(events);
        return rc;
    }
    *reply =
        json_pack("{s:o, s:o}", "rec", rec_json(s->d->store, &rec, ses_clock_now_ms(&s->d->clock)),
                  "events", events);
    return *reply ? 0 : SES_ENOMEM;
}
