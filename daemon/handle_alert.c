/*
 * handle_alert.c - the alert requests of PROTOCOL.md §13: alert_raise, alerts, alert_show,
 * alert_ack, alert_resolve, alert_cancel, contact_record, thread_meta. Requests are decoded and
 * checked on the loop, the policy (authz.h) deciding on the thread or alert they name (its
 * refusals are audited as authz.denied); changes are one writer job each, which asks the policy
 * and checks the state again inside its transaction, writes the change,
 * its timeline entry and its audit record together, and replies and pushes after the commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#include "alert_logic.h"
#include "alert_engine.h"
#include "resource.h"
#include "session.h"
#include "writer.h"

#define ALERT_LIST_MAX 500
#define ALERT_LIST_DEFAULT 100

static int get_bool(const json_t *root, const char *key, bool *out)
{
    const json_t *v = json_object_get(root, key);
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return SES_EBAD_FIELD;
    *out = json_is_true(v);
    return 0;
}

/* --- the writer job -----------------------------------------------------------------------------
 */

enum alert_op { OP_RAISE, OP_ACK, OP_RESOLVE, OP_CANCEL, OP_CONTACT, OP_META };

enum meta_field {
    MF_PHASE = 1u << 0,
    MF_SEQ_TYPE = 1u << 1,
    MF_SEQ_DUE = 1u << 2,
    MF_REVIEW = 1u << 3,
    MF_ENROLLED = 1u << 4,
};

struct alert_job {
    struct ses_req req;
    enum alert_op op;
    enum ses_action action; /* the one the loop authorized */
    uint8_t thread[SES_ID_BYTES], alert[SES_ID_BYTES];
    const struct ses_alert_type *type; /* raise */
    int severity;
    int64_t msg_seq;
    bool repeat;
    char code[24], outcome[16]; /* resolve, cancel */
    struct ses_contact contact; /* contact */
    bool followup_raised;       /* resolve: an outcome's follow-up alert */
    uint8_t followup[SES_ID_BYTES];
    struct ses_thread_meta meta;
    unsigned fields;
    struct ses_alert_touched touched;
};

static struct alert_job *job_new(struct ses_session *s, const struct ses_frame *f, enum alert_op op,
                                 enum ses_action action)
{
    struct alert_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    ses_req_init(&j->req, s, f->id);
    j->op = op;
    j->action = action;
    return j;
}

static int audit_thread_op(struct ses_store *st, const struct alert_job *j, const char *action,
                           const char *extra)
{
    char object[128], t[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(t, j->thread);
    snprintf(object, sizeof object, "thread:%s%s%s", t, extra ? " " : "", extra ? extra : "");
    return ses_req_audit(st, &j->req, action, object, 0);
}

static int run_contact(struct ses_store *st, struct alert_job *j, const struct ses_alert_actor *by)
{
    static const char *const cleared[] = {"A08", "A09", "A09b", NULL};
    static const char *const a22[] = {"A22", NULL};
    char extra[48];
    snprintf(extra, sizeof extra, "type:%s%s", j->contact.type, j->contact.phq9 ? " phq9" : "");
    int rc = ses_store_contact_add(st, j->thread, &j->contact, j->req.user, j->req.now);
    if (rc == 0)
        rc = audit_thread_op(st, j, "contact.record", extra);
    if (rc == 0)
        rc = ses_alert_clear_txn(st, j->thread, cleared, by, j->req.now, &j->touched);
    if (rc == 0 && j->contact.phq9)
        rc = ses_alert_clear_txn(st, j->thread, a22, by, j->req.now, &j->touched);
    return rc;
}

static int run_meta(struct ses_store *st, struct alert_job *j, const struct ses_alert_actor *by)
{
    static const char *const a07[] = {"A07", NULL}, *const a12[] = {"A12", NULL};
    struct ses_thread_meta cur;
    char fields[96] = "fields:";
    int rc = ses_store_thread_meta_get(st, j->thread, &cur);
    if (rc != 0)
        return rc;
    bool due_changed = (j->fields & MF_SEQ_DUE) && cur.sequence_due_ms != j->meta.sequence_due_ms;
    if (j->fields & MF_PHASE) {
        snprintf(cur.phase, sizeof cur.phase, "%s", j->meta.phase);
        strcat(fields, "phase,");
    }
    if (j->fields & MF_SEQ_TYPE) {
        snprintf(cur.sequence_type, sizeof cur.sequence_type, "%s", j->meta.sequence_type);
        strcat(fields, "sequence_type,");
    }
    if (j->fields & MF_SEQ_DUE) {
        cur.sequence_due_ms = j->meta.sequence_due_ms;
        strcat(fields, "sequence_due,");
    }
    if (j->fields & MF_REVIEW) {
        cur.last_review_ms = j->meta.last_review_ms;
        strcat(fields, "last_review,");
    }
    if (j->fields & MF_ENROLLED) {
        cur.enrolled_ms = j->meta.enrolled_ms;
        strcat(fields, "enrolled,");
    }
    fields[strlen(fields) - 1] = '\0';
    if ((rc = ses_store_thread_meta_put(st, j->thread, &cur)) == 0)
        rc = audit_thread_op(st, j, "thread.meta", fields);
    if (rc == 0 && (j->fields & MF_REVIEW))
        rc = ses_alert_clear_txn(st, j->thread, a07, by, j->req.now, &j->touched);
    if (rc == 0 && due_changed)
        rc = ses_alert_clear_txn(st, j->thread, a12, by, j->req.now, &j->touched);
    if (rc == 0)
        rc = ses_store_thread_rules_stale(st, j->thread);
    return rc;
}

/* Raises the follow-up an assessment's outcome calls for (A03 for high, A02 for imminent), on
 * behalf of the resolver, with the resolver's note. */
static int raise_followup(struct ses_store *st, struct alert_job *j, const char *code,
                          const struct ses_alert_actor *by)
{
    const struct ses_alert_type *t = ses_alert_type_find(code, NULL);
    if (t == NULL)
        return SES_EINTERNAL;
    struct ses_raise r = {.type = t,
                          .severity = (int)t->severity,
                          .origin = "manual",
                          .by = *by,
                          .msg_seq = j->msg_seq,
                          .now = j->req.now};
    bool repeat = false;
    int rc =
        ses_alert_raise_txn(st, &j->req.d->cfg, j->thread, &r, j->followup, &repeat, &j->touched);
    j->followup_raised = rc == 0;
    return rc;
}

/* Writer thread: a resolve, checked against the committed state; an outcome of high or imminent
 * raises its follow-up first when its type differs (the incident stays open), else right after. */
static int run_resolve(struct ses_store *st, struct alert_job *j, struct ses_alert *a,
                       const struct ses_alert_actor *by)
{
    const struct ses_alert_type *t = ses_alert_type_find(a->type, a->variant);
    const char *outcome = j->outcome[0] ? j->outcome : NULL;
    int rc = ses_alert_resolve_check(a, t, j->code, outcome, j->msg_seq != 0);
    if (rc != 0)
        return rc;
    const char *fu = ses_alert_followup_code(outcome);
    bool first = fu != NULL && strcmp(fu, a->type) != 0;
    if (first)
        rc = raise_followup(st, j, fu, by);
    if (rc == 0)
        rc = ses_alert_close_txn(st, a, "resolved", j->code, outcome, j->msg_seq, by, j->req.now,
                                 &j->touched);
    if (rc == 0 && fu != NULL && !first)
        rc = raise_followup(st, j, fu, by);
    if (rc == 0 && strcmp(a->origin, "daemon") == 0)
        rc = ses_store_thread_rules_stale(st, a->thread);
    return rc;
}

/* Writer thread: the policy's decision again, on the committed state (a member removed, an
 * owner changed while the request was queued); a or NULL for a thread's request. */
static int authorize_again(struct ses_store *st, const struct alert_job *j,
                           const struct ses_alert *a)
{
    struct ses_principal p = {.role = j->req.role, .revoked = false};
    struct ses_resource r;
    int rc = a != NULL           ? ses_resource_alert(st, &j->req.d->cfg, a, j->req.user, &r)
             : j->op == OP_RAISE ? ses_resource_raise(st, j->thread, j->req.user, j->type, &r)
                                 : ses_resource_thread(st, j->thread, j->req.user, &r);
    return rc != 0 ? rc : ses_authz_check(&p, j->action, &r);
}

/* Writer thread: the change, checked again against the committed state. */
static int run_alert(struct ses_store *st, void *arg)
{
    struct alert_job *j = arg;
    struct ses_alert_actor by = {.user = j->req.user,
                                 .device = j->req.device,
                                 .role = ses_role_name(j->req.role),
                                 .peer = j->req.peer};
    struct ses_alert a;
    bool on_alert = j->op == OP_ACK || j->op == OP_RESOLVE || j->op == OP_CANCEL;
    int rc;
    j->touched.n = 0;
    if (on_alert) {
        if ((rc = ses_store_alert_get(st, j->alert, &a)) != 0)
            return rc == SES_ENOT_FOUND ? SES_EDENIED : rc;
        memcpy(j->thread, a.thread, SES_ID_BYTES);
    }
    if ((rc = authorize_again(st, j, on_alert ? &a : NULL)) != 0)
        return rc;
    switch (j->op) {
    case OP_RAISE: {
        struct ses_raise r = {.type = j->type,
                              .severity = j->severity,
                              .origin = j->type->origin == SES_ORIGIN_MANUAL ? "manual" : "client",
                              .by = by,
                              .msg_seq = j->msg_seq,
                              .now = j->req.now};
        return ses_alert_raise_txn(st, &j->req.d->cfg, j->thread, &r, j->alert, &j->repeat,
                                   &j->touched);
    }
    case OP_ACK:
        if ((rc = ses_alert_ack_check(&a)) != 0)
            return rc;
        return ses_alert_ack_txn(st, &a, &by, j->req.now, &j->touched);
    case OP_RESOLVE:
        return run_resolve(st, j, &a, &by);
    case OP_CANCEL:
        rc = ses_alert_cancel_check(&a, ses_alert_type_find(a.type, a.variant), j->code);
        if (rc == 0)
            rc = ses_alert_close_txn(st, &a, "cancelled", j->code, NULL, 0, &by, j->req.now,
                                     &j->touched);
        return rc;
    case OP_CONTACT:
        return run_contact(st, j, &by);
    case OP_META:
        return run_meta(st, j, &by);
    }
    return SES_EINTERNAL;
}

/* The follow-up alerts a resolve raised, as an array of ALERT. */
static json_t *followups_json(struct ses_daemon *d, const struct alert_job *j)
{
    json_t *arr = json_array();
    struct ses_alert f;
    if (arr != NULL && j->followup_raised && ses_store_alert_get(d->store, j->followup, &f) == 0) {
        json_t *o = ses_alert_json(d, &f);
        if (o != NULL)
            json_array_append_new(arr, o);
    }
    return arr;
}

/* Loop thread, after the commit: the reply, the pushes, the timer. */
static void done_alert(void *arg, int rc)
{
    struct alert_job *j = arg;
    struct ses_daemon *d = j->req.d;
    struct ses_session *s = ses_req_session(&j->req);
    if (s != NULL && rc != 0) {
        ses_session_reply_error(s, j->req.id, rc);
    } else if (s != NULL && (j->op == OP_CONTACT || j->op == OP_META)) {
        struct ses_thread_meta m;
        json_t *body = NULL;
        if (ses_store_thread_meta_get(d->store, j->thread, &m) == 0)
            body = json_pack("{s:o}", "meta", ses_thread_meta_json(&m));
        if (body != NULL && ses_set_id(body, "thread", j->thread) == 0)
            (void)ses_session_reply(s, "thread_meta", j->req.id, body);
        else
            ses_session_reply_error(s, j->req.id, SES_ENOMEM);
    } else if (s != NULL) {
        struct ses_alert a;
        json_t *aj = NULL;
        if (ses_store_alert_get(d->store, j->alert, &a) == 0)
            aj = ses_alert_json(d, &a);
        json_t *body = aj ? json_pack("{s:o}", "alert", aj) : NULL;
        if (body != NULL && j->op == OP_RAISE)
            json_object_set_new(body, "repeat", json_boolean(j->repeat));
        if (body != NULL && j->op == OP_RESOLVE)
            json_object_set_new(body, "followups", followups_json(d, j));
        if (body != NULL)
            (void)ses_session_reply(s, "alert", j->req.id, body);
        else
            ses_session_reply_error(s, j->req.id, SES_ENOMEM);
    }
    if (rc == 0) {
        ses_alerts_push(d, &j->touched);
        ses_alerts_kick(d);
    }
    free(j);
}

static int submit(struct alert_job *j)
{
    return ses_req_submit(&j->req, run_alert, done_alert, j);
}

/* A message of the thread sent by the caller's user (an alert note or a scale record). */
struct seq_check {
    const uint8_t *user;
    bool ok;
};

static int check_seq_sender(void *ud, const struct ses_message *m)
{
    struct seq_check *c = ud;
    c->ok = memcmp(m->sender_user, c->user, SES_ID_BYTES) == 0;
    return 0;
}

int ses_session_check_own_msg(struct ses_session *s, const uint8_t thread[SES_ID_BYTES],
                              int64_t seq)
{
    struct seq_check c = {.user = s->user_id, .ok = false};
    int rc = ses_store_msg_get(s->d->store, thread, seq, check_seq_sender, &c);
    if (rc == SES_ENOT_FOUND)
        return SES_EBAD_FIELD;
    return rc != 0 ? rc : c.ok ? 0 : SES_EBAD_FIELD;
}

/* --- requests -----------------------------------------------------------------------------------
 */

int ses_handle_alert_raise(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"thread", "type", "variant", "severity", "msg_seq", NULL};
    uint8_t thread[SES_ID_BYTES];
    const char *code = NULL, *variant = NULL, *sev = NULL;
    int64_t msg_seq = 0;
    int severity = -1, rc;
    (void)reply;
    if ((rc = ses_fields_only(f->root, keys)) != 0 ||
        (rc = ses_get_id(f->root, "thread", true, thread, NULL)) != 0 ||
        (rc = ses_get_str(f->root, "type", 1, 7, true, &code)) != 0 ||
        (rc = ses_get_str(f->root, "variant", 1, 23, false, &variant)) != 0 ||
        (rc = ses_get_str(f->root, "severity", 1, 4, false, &sev)) != 0 ||
        (rc = ses_get_int(f->root, "msg_seq", 1, INT64_MAX, false, &msg_seq)) != 0)
        return rc;
    if (sev != NULL && (severity = ses_severity_from_name(sev)) < 0)
        return SES_EBAD_FIELD;
    const struct ses_alert_type *t = ses_alert_type_find(code, variant);
    if (t == NULL || (variant != NULL && strcmp(t->variant, variant) != 0))
        return SES_EUNKNOWN_ALERT_TYPE;
    struct ses_resource res;
    if ((rc = ses_resource_raise(s->d->store, thread, s->user_id, t, &res)) != 0 ||
        (rc = ses_session_authorize(s, SES_ACT_ALERT_RAISE, &res)) != 0 ||
        (rc = ses_alert_raise_check(t, severity)) != 0)
        return rc;
    if (msg_seq != 0 && (rc = ses_session_check_own_msg(s, thread, msg_seq)) != 0)
        return rc;
    struct alert_job *j = job_new(s, f, OP_RAISE, SES_ACT_ALERT_RAISE);
    if (j == NULL)
        return SES_ENOMEM;
    memcpy(j->thread, thread, SES_ID_BYTES);
    j->type = t;
    j->severity = severity < 0 ? (int)t->severity : severity;
    j->msg_seq = msg_seq;
    return submit(j);
}

/* Loads an alert and asks the policy whether the caller may do action on it (SES_EDENIED, audited,
 * the same for an unknown alert; SES_ENOT_OWNER when they see it but may not close it). */
static int authorized_alert(struct ses_session *s, enum ses_action action,
                            const uint8_t id[SES_ID_BYTES], struct ses_alert *a)
{
    int rc = ses_store_alert_get(s->d->store, id, a);
    if (rc != 0 && rc != SES_ENOT_FOUND)
        return rc;
    struct ses_resource res;
    int rr = ses_resource_alert(s->d->store, &s->d->cfg, rc == 0 ? a : NULL, s->user_id, &res);
    return rr != 0 ? rr : ses_session_authorize(s, action, &res);
}

struct list_acc {
    struct ses_session *s;
    json_t *arr;
    bool mine;
    int rc;
};

static int add_alert(void *ud, const struct ses_alert *a)
{
    struct list_acc *acc = ud;
    if (acc->mine && !ses_alert_owned_by(a, acc->s->user_id))
        return 0;
    json_t *o = ses_alert_json(acc->s->d, a);
    if (o == NULL) {
        acc->rc = SES_ENOMEM;
        return 1;
    }
    json_array_append_new(acc->arr, o);
    return 0;
}

int ses_handle_alerts(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"thread", "open", "mine", "limit", NULL};
    uint8_t thread[SES_ID_BYTES];
    bool has_thread = false, open = false, mine = false;
    int64_t limit = ALERT_LIST_DEFAULT;
    int rc;
    if ((rc = ses_fields_only(f->root, keys)) != 0 ||
        (rc = ses_get_id(f->root, "thread", false, thread, &has_thread)) != 0 ||
        (rc = get_bool(f->root, "open", &open)) != 0 ||
        (rc = get_bool(f->root, "mine", &mine)) != 0 ||
        (rc = ses_get_int(f->root, "limit", 1, ALERT_LIST_MAX, false, &limit)) != 0)
        return rc;
    if (has_thread && (rc = ses_session_authorize_thread(s, SES_ACT_ALERT_LIST, thread)) != 0)
        return rc;
    struct ses_alert_query q = {.user = s->role == SES_ROLE_ADMIN ? NULL : s->user_id,
                                .thread = has_thread ? thread : NULL,
                                .open_only = open,
                                .limit = (int)limit};
    struct list_acc acc = {.s = s, .arr = json_array(), .mine = mine};
    if (acc.arr == NULL)
        return SES_ENOMEM;
    rc = ses_store_alert_list(s->d->store, &q, add_alert, &acc);
    if (rc == 1 || (rc == 0 && acc.rc != 0))
        rc = acc.rc;
    if (rc != 0) {
        json_decref(acc.arr);
        return rc;
    }
    *reply = json_pack("{s:o}", "alerts", acc.arr);
    if (*reply != NULL && (s->role == SES_ROLE_ADMIN || s->role == SES_ROLE_PSYCHIATRIST))
        json_object_set_new(*reply, "warnings", ses_oncall_warnings_json(s->d));
    return *reply ? 0 : SES_ENOMEM;
}

static int add_event(void *ud, const struct ses_alert_event *e)
{
    char by[SES_ID_TEXT_LEN + 1], t[SES_ID_TEXT_LEN + 1];
    json_t *to = json_array();
    for (int i = 0; to != NULL && i < e->n_to; i++) {
        ses_id_to_text(t, e->to[i]);
        json_array_append_new(to, json_string(t));
    }
    if (e->has_by)
        ses_id_to_text(by, e->by);
    json_t *o = json_pack("{s:I, s:s, s:o, s:o, s:o}", "ts", (json_int_t)e->ts_ms, "event",
                          e->event, "by", e->has_by ? json_string(by) : json_null(), "to", to,
                          "detail", e->detail[0] ? json_string(e->detail) : json_null());
    if (o == NULL)
        return SES_ENOMEM;
    json_array_append_new(ud, o);
    return 0;
}

int ses_handle_alert_show(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"alert", NULL};
    uint8_t id[SES_ID_BYTES];
    struct ses_alert a;
    int rc;
    if ((rc = ses_fields_only(f->root, keys)) != 0 ||
        (rc = ses_get_id(f->root, "alert", true, id, NULL)) != 0 ||
        (rc = authorized_alert(s, SES_ACT_ALERT_SHOW, id, &a)) != 0)
        return rc;
    json_t *timeline = json_array(), *aj = ses_alert_json(s->d, &a);
    if (timeline == NULL || aj == NULL ||
        (rc = ses_store_alert_events(s->d->store, id, add_event, timeline)) != 0) {
        json_decref(timeline);
        json_decref(aj);
        return rc != 0 ? rc : SES_ENOMEM;
    }
    *reply = json_pack("{s:o, s:o}", "alert", aj, "timeline", timeline);
    if (*reply != NULL)
        json_object_set_new(*reply, "t", json_string("alert"));
    return *reply ? 0 : SES_ENOMEM;
}

/* ack, resolve and cancel: decode, check on the loop (for a quick, audited refusal), submit. */
static int handle_change(struct ses_session *s, const struct ses_frame *f, enum alert_op op)
{
    static const char *const ack_keys[] = {"alert", NULL};
    static const char *const resolve_keys[] = {"alert", "code", "outcome", "msg_seq", NULL};
    static const char *const cancel_keys[] = {"alert", "code", NULL};
    uint8_t id[SES_ID_BYTES];
    const char *code = NULL, *outcome = NULL;
    int64_t msg_seq = 0;
    struct ses_alert a;
    enum ses_action action = op == OP_ACK       ? SES_ACT_ALERT_ACK
                             : op == OP_RESOLVE ? SES_ACT_ALERT_RESOLVE
                                                : SES_ACT_ALERT_CANCEL;
    int rc = ses_fields_only(f->root, op == OP_ACK       ? ack_keys
                                      : op == OP_RESOLVE ? resolve_keys
                                                         : cancel_keys);
    if (rc == 0)
        rc = ses_get_id(f->root, "alert", true, id, NULL);
    if (rc == 0 && op != OP_ACK)
        rc = ses_get_str(f->root, "code", 1, 23, true, &code);
    if (rc == 0 && op == OP_RESOLVE)
        rc = ses_get_str(f->root, "outcome", 1, 15, false, &outcome);
    if (rc == 0 && op == OP_RESOLVE)
        rc = ses_get_int(f->root, "msg_seq", 1, INT64_MAX, false, &msg_seq);
    if (rc == 0)
        rc = authorized_alert(s, action, id, &a);
    if (rc != 0)
        return rc;
    const struct ses_alert_type *t = ses_alert_type_find(a.type, a.variant);
    if (op == OP_ACK)
        rc = ses_alert_ack_check(&a);
    else if (op == OP_RESOLVE)
        rc = ses_alert_resolve_check(&a, t, code, outcome, msg_seq != 0);
    else
        rc = ses_alert_cancel_check(&a, t, code);
    if (rc == 0 && msg_seq != 0)
        rc = ses_session_check_own_msg(s, a.thread, msg_seq);
    if (rc != 0)
        return rc;
    struct alert_job *j = job_new(s, f, op, action);
    if (j == NULL)
        return SES_ENOMEM;
    memcpy(j->alert, id, SES_ID_BYTES);
    memcpy(j->thread, a.thread, SES_ID_BYTES);
    snprintf(j->code, sizeof j->code, "%s", code ? code : "");
    snprintf(j->outcome, sizeof j->outcome, "%s", outcome ? outcome : "");
    j->msg_seq = msg_seq;
    return submit(j);
}

int ses_handle_alert_ack(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return handle_change(s, f, OP_ACK);
}

int ses_handle_alert_resolve(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return handle_change(s, f, OP_RESOLVE);
}

int ses_handle_alert_cancel(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    (void)reply;
    return handle_change(s, f, OP_CANCEL);
}

/* Start of the UTC day of ms. */
static int64_t day_start(int64_t ms)
{
    return ms - ((ms % SES_DAY_MS) + SES_DAY_MS) % SES_DAY_MS;
}

static bool contact_type_valid(const char *type)
{
    static const char *const v[] = {"in_person", "phone", "video", "assessment"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (strcmp(type, v[i]) == 0)
            return true;
    return false;
}

/* "scales" of an assessment: a non-empty list of distinct names among phq9, gad7, phq2. */
static int contact_scales(const json_t *root, bool *phq9)
{
    static const char *const names[] = {"phq9", "gad7", "phq2"};
    const json_t *arr = json_object_get(root, "scales");
    unsigned seen = 0;
    *phq9 = false;
    if (arr == NULL)
        return 0;
    if (!json_is_array(arr) || json_array_size(arr) == 0 || json_array_size(arr) > 3)
        return SES_EBAD_FIELD;
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *n = json_string_value(json_array_get(arr, i));
        size_t k = 0;
        while (n != NULL && k < 3 && strcmp(n, names[k]) != 0)
            k++;
        if (n == NULL || k == 3 || (seen & (1u << k)))
            return SES_EBAD_FIELD;
        seen |= 1u << k;
    }
    *phq9 = (seen & 1u) != 0;
    return 0;
}

int ses_handle_contact_record(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"thread", "date", "type", "scales", NULL};
    uint8_t thread[SES_ID_BYTES];
    struct ses_thread_meta m;
    const char *type = "in_person";
    int64_t now = ses_clock_now_ms(&s->d->clock), date = now;
    bool phq9 = false;
    int rc;
    (void)reply;
    if ((rc = ses_fields_only(f->root, keys)) != 0 ||
        (rc = ses_get_id(f->root, "thread", true, thread, NULL)) != 0 ||
        (rc = ses_get_int(f->root, "date", 1, INT64_MAX, false, &date)) != 0 ||
        (rc = ses_get_str(f->root, "type", 1, 11, false, &type)) != 0 ||
        (rc = contact_scales(f->root, &phq9)) != 0)
        return rc;
    if (type == NULL)
        type = "in_person";
    bool assessment = strcmp(type, "assessment") == 0;
    if (!contact_type_valid(type) || (json_object_get(f->root, "scales") && !assessment))
        return SES_EBAD_FIELD;
    /* nurses record every contact; a psychiatrist or GP the assessments they entered */
    enum ses_action action = assessment ? SES_ACT_ASSESSMENT_RECORD : SES_ACT_CONTACT_RECORD;
    if ((rc = ses_session_authorize_thread(s, action, thread)) != 0)
        return rc;
    if ((rc = ses_store_thread_meta_get(s->d->store, thread, &m)) != 0)
        return rc;
    if (date > now || date < day_start(m.enrolled_ms))
        return SES_EBAD_FIELD; /* not in the future, not before the enrolment day */
    struct alert_job *j = job_new(s, f, OP_CONTACT, action);
    if (j == NULL)
        return SES_ENOMEM;
    memcpy(j->thread, thread, SES_ID_BYTES);
    j->contact.date_ms = date;
    snprintf(j->contact.type, sizeof j->contact.type, "%s", type);
    j->contact.phq9 = phq9;
    return submit(j);
}

int ses_handle_thread_meta(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {
        "thread", "phase", "sequence_type", "sequence_due", "last_review", "enrolled", NULL};
    uint8_t thread[SES_ID_BYTES];
    const char *phase = NULL, *seq_type = NULL;
    int64_t now = ses_clock_now_ms(&s->d->clock), due = 0, review = 0, enrolled = 0;
    unsigned fields = 0;
    int rc;
    if ((rc = ses_fields_only(f->root, keys)) != 0 ||
        (rc = ses_get_id(f->root, "thread", true, thread, NULL)) != 0 ||
        (rc = ses_get_str(f->root, "phase", 1, 23, false, &phase)) != 0 ||
        (rc = ses_get_str(f->root, "sequence_type", 1, 11, false, &seq_type)) != 0 ||
        (rc = ses_get_int(f->root, "sequence_due", 1, INT64_MAX, false, &due)) != 0 ||
        (rc = ses_get_int(f->root, "last_review", 1, now, false, &review)) != 0 ||
        (rc = ses_get_int(f->root, "enrolled", 1, now, false, &enrolled)) != 0)
        return rc;
    if (phase && strcmp(phase, "active") != 0 && strcmp(phase, "relapse_prevention") != 0)
        return SES_EBAD_FIELD;
    if (seq_type && strcmp(seq_type, "classic") != 0 && strcmp(seq_type, "light") != 0)
        return SES_EBAD_FIELD;
    fields |= phase ? MF_PHASE : 0;
    fields |= json_object_get(f->root, "sequence_type") ? MF_SEQ_TYPE : 0; /* null clears */
    fields |= json_object_get(f->root, "sequence_due") ? MF_SEQ_DUE : 0;   /* null clears */
    fields |= review ? MF_REVIEW : 0;
    fields |= enrolled ? MF_ENROLLED : 0;
    if ((rc = ses_session_authorize_thread(s, SES_ACT_META_READ, thread)) != 0)
        return rc;
    struct ses_thread_meta m;
    if ((rc = ses_store_thread_meta_get(s->d->store, thread, &m)) != 0)
        return rc;
    if (fields == 0) { /* a read */
        *reply = json_pack("{s:o}", "meta", ses_thread_meta_json(&m));
        if (*reply == NULL || ses_set_id(*reply, "thread", thread) != 0)
            return SES_ENOMEM;
        return 0;
    }
    /* nurses keep the episode's metadata; the review date is the psychiatrist's (a request
     * with both is refused to everyone) */
    enum ses_action action =
        (fields & ~(unsigned)MF_REVIEW) ? SES_ACT_META_EPISODE : SES_ACT_META_REVIEW;
    if ((rc = ses_session_authorize_thread(s, action, thread)) != 0)
        return rc;
    if (action == SES_ACT_META_EPISODE && (fields & MF_REVIEW) &&
        (rc = ses_session_authorize_thread(s, SES_ACT_META_REVIEW, thread)) != 0)
        return rc;
    if (review && review < day_start(enrolled ? enrolled : m.enrolled_ms))
        return SES_EBAD_FIELD;
    struct alert_job *j = job_new(s, f, OP_META, action);
    if (j == NULL)
        return SES_ENOMEM;
    memcpy(j->thread, thread, SES_ID_BYTES);
    j->fields = fields;
    snprintf(j->meta.phase, sizeof j->meta.phase, "%s", phase ? phase : "");
    snprintf(j->meta.sequence_type, sizeof j->meta.sequence_type, "%s", seq_type ? seq_type : "");
    j->meta.sequence_due_ms = due;
    j->meta.last_review_ms = review;
    j->meta.enrolled_ms = enrolled;
    return submit(j);
}
