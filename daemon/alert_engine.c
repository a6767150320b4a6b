/*
 * alert_engine.c - the alert engine (alert_engine.h): raise / repeat / upgrade, acknowledge, close,
 * clear, escalation of passed deadlines and the daemon's time-based alerts, in writer transactions;
 * the timer, the JSON and the pushes on the loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#include "alert_logic.h"
#include "alert_engine.h"
#include "rec.h"
#include "log.h"
#include "review.h"
#include "roster.h"
#include "session.h"
#include "writer.h"

void ses_alert_touched_add(struct ses_alert_touched *t, const uint8_t alert[SES_ID_BYTES],
                           const char *event)
{
    if (t == NULL || t->n >= SES_ALERT_TOUCHED_MAX)
        return;
    memcpy(t->items[t->n].alert, alert, SES_ID_BYTES);
    snprintf(t->items[t->n].event, sizeof t->items[t->n].event, "%s", event);
    t->n++;
}

/* --- parties ----------------------------------------------------------------------------------
 */

#define MAX_MEMBERS SES_ROSTER_MAX_MEMBERS

struct parties {
    struct ses_store *st;
    const struct ses_config *cfg;
    struct ses_user members[MAX_MEMBERS];
    int n_members;
    const uint8_t (*owners)[SES_ID_BYTES]; /* current owners, for the backup party */
    int n_owners;
    struct ses_chain_roles roles; /* on duty, lead, backups in force */
    const uint8_t *gp_only;       /* when set, the GP party is this member only */
};

static void collect_member(void *ud, const struct ses_user *u)
{
    struct parties *p = ud;
    if (p->n_members < MAX_MEMBERS && !u->revoked)
        p->members[p->n_members++] = *u;
}

/* The chain roles in force: stored by admins, else the config's. */
int ses_alert_roles_load(struct ses_store *st, const struct ses_config *cfg,
                         struct ses_chain_roles *roles)
{
    struct ses_oncall *db = malloc(sizeof *db);
    if (db == NULL)
        return SES_ENOMEM;
    int rc = ses_store_oncall_get(st, db);
    if (rc == 0)
        ses_chain_roles_resolve(cfg, db, roles);
    free(db);
    return rc;
}

/* p is large (the roles): callers allocate it. */
static int parties_load(struct parties *p, struct ses_store *st, const struct ses_config *cfg,
                        const uint8_t thread[SES_ID_BYTES])
{
    memset(p, 0, sizeof *p);
    p->st = st;
    p->cfg = cfg;
    int rc = ses_alert_roles_load(st, cfg, &p->roles);
    return rc != 0 ? rc : ses_store_member_list(st, thread, collect_member, p);
}

static bool user_active(struct ses_store *st, const uint8_t id[SES_ID_BYTES])
{
    struct ses_user u;
    return ses_store_user_get(st, id, &u) == 0 && !u.revoked;
}

static void add_user(uint8_t (*out)[SES_ID_BYTES], int *n, int max, const uint8_t id[SES_ID_BYTES])
{
    for (int i = 0; i < *n; i++)
        if (memcmp(out[i], id, SES_ID_BYTES) == 0)
            return;
    if (*n < max)
        memcpy(out[(*n)++], id, SES_ID_BYTES);
}

/* The active users a party mask names, added to out (deduplicated). */
static void party_users(struct parties *p, unsigned mask, uint8_t (*out)[SES_ID_BYTES], int *n,
                        int max)
{
    const struct ses_chain_roles *r = &p->roles;
    for (int i = 0; i < p->n_members; i++) {
        unsigned party = ses_party_of_role((int)p->members[i].role);
        if (party == SES_PARTY_GP && p->gp_only != NULL &&
            memcmp(p->gp_only, p->members[i].id, SES_ID_BYTES) != 0)
            continue;
        if (mask & party)
            add_user(out, n, max, p->members[i].id);
    }
    if (mask & SES_PARTY_BACKUP)
        for (int o = 0; o < p->n_owners; o++)
            for (int i = 0; i < r->n_backups; i++)
                if (memcmp(r->backups[i].user, p->owners[o], SES_ID_BYTES) == 0 &&
                    user_active(p->st, r->backups[i].backup))
                    add_user(out, n, max, r->backups[i].backup);
    if (mask & SES_PARTY_ON_DUTY) {
        if (ses_id_is_set(r->on_duty) && user_active(p->st, r->on_duty))
            add_user(out, n, max, r->on_duty);
        else
            party_users(p, SES_PARTY_PSYCHIATRIST, out, n, max);
    }
    if ((mask & SES_PARTY_LEAD) && ses_id_is_set(r->lead) && user_active(p->st, r->lead))
        add_user(out, n, max, r->lead);
}

static bool party_has_users(void *ud, unsigned party)
{
    uint8_t tmp[SES_ALERT_MAX_USERS][SES_ID_BYTES];
    int n = 0;
    party_users(ud, party, tmp, &n, SES_ALERT_MAX_USERS);
    return n > 0;
}

static const char *party_name(unsigned party)
{
    static const struct {
        unsigned party;
        const char *name;
    } names[] = {{SES_PARTY_NURSE, "nurse"},
                 {SES_PARTY_GP, "gp"},
                 {SES_PARTY_PSYCHIATRIST, "psychiatrist"},
                 {SES_PARTY_BACKUP, "backup"},
                 {SES_PARTY_ON_DUTY, "on_duty"},
                 {SES_PARTY_LEAD, "lead"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (party & names[i].party)
            return names[i].name; /* the first named party of a step */
    return "?";
}

/* --- audit and timeline -----------------------------------------------------------------------
 */

static int audit_alert(struct ses_store *st, const struct ses_alert_actor *by, int64_t now,
                       const char *action, const struct ses_alert *a, const char *extra)
{
    char object[160], id[SES_ID_TEXT_LEN + 1], th[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(id, a->id);
    ses_id_to_text(th, a->thread);
    snprintf(object, sizeof object, "alert:%s thread:%s type:%s%s%s", id, th, a->type,
             extra ? " " : "", extra ? extra : "");
    struct ses_audit_rec rec = {.ts_ms = now,
                                .actor_user = by ? by->user : NULL,
                                .actor_device = by ? by->device : NULL,
                                .actor_role = by ? by->role : NULL,
                                .action = action,
                                .object = object,
                                .outcome = "ok",
                                .peer = by ? by->peer : NULL};
    return ses_store_audit_append(st, &rec, NULL);
}

static int event_add(struct ses_store *st, const struct ses_alert *a, int64_t now, const char *ev,
                     const struct ses_alert_actor *by, const uint8_t (*to)[SES_ID_BYTES], int n_to,
                     const char *detail)
{
    struct ses_alert_event e;
    memset(&e, 0, sizeof e);
    e.ts_ms = now;
    snprintf(e.event, sizeof e.event, "%s", ev);
    if (by != NULL && by->user != NULL) {
        e.has_by = true;
        memcpy(e.by, by->user, SES_ID_BYTES);
    }
    for (int i = 0; i < n_to && i < SES_ALERT_EVENT_MAX_TO; i++)
        memcpy(e.to[e.n_to++], to[i], SES_ID_BYTES);
    snprintf(e.detail, sizeof e.detail, "%s", detail ? detail : "");
    return ses_store_alert_event_add(st, a->id, &e);
}

/* --- raise --------------------------------------------------------------------------------------
 */

static void set_owners(struct ses_alert *a, const uint8_t (*ids)[SES_ID_BYTES], int n)
{
    a->n_owners = 0;
    for (int i = 0; i < n && i < SES_ALERT_MAX_USERS; i++) {
        memcpy(a->owners[a->n_owners++], ids[i], SES_ID_BYTES);
        add_user(a->former, &a->n_former, SES_ALERT_MAX_FORMER, ids[i]);
    }
}

/* The first owners of an alert of type ty: its owning parties, else the first step of its chain
 * that names somebody (*step), else the raiser. */
static void first_owners(struct parties *p, const struct ses_config *cfg,
                         const struct ses_alert_type *ty, const uint8_t *raiser,
                         uint8_t (*owners)[SES_ID_BYTES], int *n, int *step)
{
    unsigned chain[SES_ALERT_CHAIN_MAX + 1], skipped = 0;
    *n = 0;
    *step = 0;
    party_users(p, ty->owners, owners, n, SES_ALERT_MAX_USERS);
    if (*n > 0)
        return;
    ses_alert_chain(cfg, ty, chain);
    p->owners = (const uint8_t(*)[SES_ID_BYTES])owners;
    p->n_owners = 0;
    *step = ses_escalation_next(chain, 0, party_has_users, p, &skipped);
    if (*step > 0)
        party_users(p, chain[*step - 1], owners, n, SES_ALERT_MAX_USERS);
    else if (raiser != NULL)
        add_user(owners, n, SES_ALERT_MAX_USERS, raiser);
}

/* Adds ty's cc parties to a's cc (never an owner). */
static void add_cc(struct parties *p, const struct ses_alert_type *ty, struct ses_alert *a)
{
    uint8_t cc[SES_ALERT_MAX_USERS][SES_ID_BYTES];
    int n = 0;
    party_users(p, ty->cc, cc, &n, SES_ALERT_MAX_USERS);
    for (int i = 0; i < n; i++) {
        bool owner = false;
        for (int k = 0; k < a->n_owners; k++)
            owner = owner || memcmp(a->owners[k], cc[i], SES_ID_BYTES) == 0;
        if (!owner)
            add_user(a->cc, &a->n_cc, SES_ALERT_MAX_USERS, cc[i]);
    }
}

/* New signal, new obligation: the alert is raised again under the more urgent of its variant and
 * the new one, owned afresh at step 0 with a full window of the new signal's variant. */
static int reopen(struct ses_store *st, const struct ses_config *cfg, struct ses_alert *a,
                  const struct ses_alert_type *cur, const struct ses_raise *r, bool higher,
                  char *detail, size_t cap)
{
    const struct ses_alert_type *eff = higher || cur == NULL ? r->type : cur;
    int old_sev = a->severity, step = 0, n = 0;
    char old_var[24];
    snprintf(old_var, sizeof old_var, "%s", a->variant);
    const char *was = strcmp(a->state, "acked") == 0 ? ", was acked"
                      : a->exhausted                 ? ", was exhausted"
                      : a->step > 0                  ? ", was escalated"
                                                     : "";
    struct parties *p = malloc(sizeof *p);
    if (p == NULL)
        return SES_ENOMEM;
    int rc = parties_load(p, st, cfg, a->thread);
    p->gp_only = r->gp;
    if (rc == 0) {
        uint8_t owners[SES_ALERT_MAX_USERS][SES_ID_BYTES];
        first_owners(p, cfg, eff, a->has_raiser ? a->raised_by : NULL, owners, &n, &step);
        set_owners(a, (const uint8_t(*)[SES_ID_BYTES])owners, n);
        add_cc(p, eff, a);
    }
    free(p);
    if (rc != 0)
        return rc;
    snprintf(a->variant, sizeof a->variant, "%s", eff->variant);
    if (r->severity > a->severity)
        a->severity = r->severity;
    snprintf(a->state, sizeof a->state, "raised");
    a->acked_ms = 0;
    memset(a->acked_by, 0, SES_ID_BYTES);
    a->step = step;
    a->exhausted = false;
    a->renotified = 0;
    int64_t win = ses_alert_window(cfg, r->type);
    if (win == 0)
        win = ses_alert_window(cfg, eff);
    a->deadline_ms = r->deadline_ms ? r->deadline_ms : win > 0 ? r->now + win : 0;
    char sev_old[8], sev_new[8];
    snprintf(sev_old, sizeof sev_old, "%s", ses_severity_name((enum ses_severity)old_sev));
    snprintf(sev_new, sizeof sev_new, "%s", ses_severity_name((enum ses_severity)a->severity));
    if (snprintf(detail, cap, "%.18s %s -> %.18s %s%s", old_var[0] ? old_var : "-", sev_old,
                 a->variant[0] ? a->variant : "-", sev_new, was) < 0)
        detail[0] = '\0';
    return 0;
}

/* A repeat of an open alert: counted; a more urgent one (or a new positive item 9 on an
 * acknowledged A01) re-opens the acknowledgement and tells the new owners and cc. */
static int repeat_txn(struct ses_store *st, const struct ses_config *cfg, struct ses_alert *a,
                      const struct ses_raise *r, struct ses_alert_touched *t)
{
    const struct ses_alert_type *cur = ses_alert_type_find(a->type, a->variant);
    enum ses_repeat_kind kind = ses_alert_repeat_kind(cfg, a, r->type, r->severity);
    bool higher = kind == SES_REPEAT_UPGRADE, renew = kind != SES_REPEAT_COUNT;
    const char *ev = higher ? "upgraded" : renew ? "reopened" : "repeat";
    char detail[64];
    snprintf(detail, sizeof detail, "%s", ses_severity_name((enum ses_severity)r->severity));
    a->repeats++;
    int rc = renew ? reopen(st, cfg, a, cur, r, higher, detail, sizeof detail) : 0;
    if (rc == 0)
        rc = ses_store_alert_update(st, a);
    if (rc == 0) {
        uint8_t to[SES_ALERT_EVENT_MAX_TO][SES_ID_BYTES];
        int n_to = 0;
        for (int i = 0; i < a->n_owners; i++)
            add_user(to, &n_to, SES_ALERT_EVENT_MAX_TO, a->owners[i]);
        for (int i = 0; renew && i < a->n_cc; i++)
            add_user(to, &n_to, SES_ALERT_EVENT_MAX_TO, a->cc[i]);
        rc = event_add(st, a, r->now, ev, &r->by, (const uint8_t(*)[SES_ID_BYTES])to, n_to, detail);
    }
    if (rc == 0)
        rc = audit_alert(st, &r->by, r->now, "alert.repeat", a, renew ? ev : NULL);
    if (rc == 0)
        rc = ses_store_incident_refresh(st, a->incident, r->now);
    if (rc == 0)
        ses_alert_touched_add(t, a->id, ev);
    return rc;
}

/* A11 (relapse suspected) puts the patient back on the active phase's two-week cadence. */
static int relapse_to_active(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                             const struct ses_raise *r)
{
    struct ses_thread_meta m;
    int rc = ses_store_thread_meta_get(st, thread, &m);
    if (rc != 0 || strcmp(m.phase, "active") == 0)
        return rc;
    snprintf(m.phase, sizeof m.phase, "active");
    char object[96], th[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(th, thread);
    snprintf(object, sizeof object, "thread:%s fields:phase reason:A11", th);
    struct ses_audit_rec rec = {.ts_ms = r->now,
                                .actor_user = r->by.user,
                                .actor_device = r->by.device,
                                .actor_role = r->by.role,
                                .action = "thread.meta",
                                .object = object,
                                .outcome = "ok",
                                .peer = r->by.peer};
    if ((rc = ses_store_thread_meta_put(st, thread, &m)) == 0)
        rc = ses_store_audit_append(st, &rec, NULL);
    return rc != 0 ? rc : ses_store_thread_rules_stale(st, thread);
}

static int insert_new(struct ses_store *st, const struct ses_config *cfg,
                      const uint8_t thread[SES_ID_BYTES], const struct ses_raise *r,
                      struct ses_alert *a, struct ses_alert_touched *t)
{
    memset(a, 0, sizeof *a);
    randombytes_buf(a->id, sizeof a->id);
    memcpy(a->thread, thread, SES_ID_BYTES);
    snprintf(a->type, sizeof a->type, "%s", r->type->code);
    snprintf(a->variant, sizeof a->variant, "%s", r->type->variant);
    a->severity = r->severity;
    snprintf(a->state, sizeof a->state, "raised");
    snprintf(a->origin, sizeof a->origin, "%s", r->origin);
    if (r->by.user != NULL) {
        a->has_raiser = true;
        memcpy(a->raised_by, r->by.user, SES_ID_BYTES);
        memcpy(a->raised_device, r->by.device, SES_ID_BYTES);
    }
    a->raised_ms = r->now;
    a->msg_seq = r->msg_seq;
    snprintf(a->cond_key, sizeof a->cond_key, "%s", r->cond_key ? r->cond_key : "");
    struct parties *p = malloc(sizeof *p);
    if (p == NULL)
        return SES_ENOMEM;
    int rc = parties_load(p, st, cfg, thread), n_owners = 0;
    p->gp_only = r->gp;
    if (rc == 0) {
        uint8_t owners[SES_ALERT_MAX_USERS][SES_ID_BYTES];
        first_owners(p, cfg, r->type, r->by.user, owners, &n_owners, &a->step);
        set_owners(a, (const uint8_t(*)[SES_ID_BYTES])owners, n_owners);
        add_cc(p, r->type, a);
    }
    free(p);
    if (rc != 0)
        return rc;
    int64_t window = ses_alert_window(cfg, r->type);
    if (window > 0)
        a->deadline_ms = r->deadline_ms ? r->deadline_ms : r->now + window;

    struct ses_incident inc;
    rc = ses_store_incident_open_of_thread(st, thread, &inc);
    if (rc == SES_ENOT_FOUND) {
        memset(&inc, 0, sizeof inc);
        randombytes_buf(inc.id, sizeof inc.id);
        memcpy(inc.thread, thread, SES_ID_BYTES);
        inc.severity = a->severity;
        inc.opened_ms = r->now;
        rc = ses_store_incident_insert(st, &inc);
    }
    if (rc != 0)
        return rc;
    memcpy(a->incident, inc.id, SES_ID_BYTES);
    uint8_t to[SES_ALERT_EVENT_MAX_TO][SES_ID_BYTES];
    int n_to = 0;
    for (int i = 0; i < a->n_owners; i++)
        add_user(to, &n_to, SES_ALERT_EVENT_MAX_TO, a->owners[i]);
    for (int i = 0; i < a->n_cc; i++)
        add_user(to, &n_to, SES_ALERT_EVENT_MAX_TO, a->cc[i]);
    if ((rc = ses_store_alert_insert(st, a)) == 0)
        rc = event_add(st, a, r->now, "raised", &r->by, (const uint8_t(*)[SES_ID_BYTES])to, n_to,
                       ses_severity_name((enum ses_severity)a->severity));
    if (rc == 0)
        rc = audit_alert(st, &r->by, r->now, "alert.raise", a, NULL);
    if (rc == 0)
        rc = ses_store_incident_refresh(st, a->incident, r->now);
    if (rc == 0)
        ses_alert_touched_add(t, a->id, "raised");
    return rc;
}

int ses_alert_raise_txn(struct ses_store *st, const struct ses_config *cfg,
                        const uint8_t thread[SES_ID_BYTES], const struct ses_raise *r,
                        uint8_t alert[SES_ID_BYTES], bool *repeat, struct ses_alert_touched *t)
{
    struct ses_alert a;
    int rc = ses_store_alert_open_of_type(st, thread, r->type->code, &a);
    if (rc != 0 && rc != SES_ENOT_FOUND)
        return rc;
    *repeat = rc == 0;
    rc = *repeat ? repeat_txn(st, cfg, &a, r, t) : insert_new(st, cfg, thread, r, &a, t);
    if (rc == 0 && strcmp(r->type->code, "A11") == 0)
        rc = relapse_to_active(st, thread, r);
    if (rc == 0)
        memcpy(alert, a.id, SES_ID_BYTES);
    return rc;
}

/* --- acknowledge, close, clear ------------------------------------------------------------------
 */

int ses_alert_ack_txn(struct ses_store *st, struct ses_alert *a, const struct ses_alert_actor *by,
                      int64_t now, struct ses_alert_touched *t)
{
    snprintf(a->state, sizeof a->state, "acked");
    a->acked_ms = now;
    memcpy(a->acked_by, by->user, SES_ID_BYTES);
    a->deadline_ms = 0; /* acknowledged in time or late: the escalation stops */
    int rc = ses_store_alert_update(st, a);
    if (rc == 0)
        rc = event_add(st, a, now, "acked", by, NULL, 0, NULL);
    if (rc == 0)
        rc = audit_alert(st, by, now, "alert.ack", a, NULL);
    if (rc == 0)
        ses_alert_touched_add(t, a->id, "acked");
    return rc;
}

int ses_alert_close_txn(struct ses_store *st, struct ses_alert *a, const char *state,
                        const char *code, const char *outcome, int64_t msg_seq,
                        const struct ses_alert_actor *by, int64_t now, struct ses_alert_touched *t)
{
    char detail[64];
    bool resolved = strcmp(state, "resolved") == 0;
    snprintf(a->state, sizeof a->state, "%s", state);
    a->resolved_ms = now;
    a->has_resolver = by != NULL && by->user != NULL;
    if (a->has_resolver)
        memcpy(a->resolved_by, by->user, SES_ID_BYTES);
    snprintf(a->resolution, sizeof a->resolution, "%s", code);
    snprintf(a->outcome, sizeof a->outcome, "%s", outcome ? outcome : "");
    a->resolve_msg_seq = msg_seq;
    a->deadline_ms = 0;
    snprintf(detail, sizeof detail, "%s%s%s", code, outcome ? " " : "", outcome ? outcome : "");
    int rc = ses_store_alert_update(st, a);
    if (rc == 0)
        rc = event_add(st, a, now, resolved ? "resolved" : "cancelled", by, NULL, 0, detail);
    if (rc == 0)
        rc = audit_alert(st, by, now, resolved ? "alert.resolve" : "alert.cancel", a, detail);
    if (rc == 0)
        rc = ses_store_incident_refresh(st, a->incident, now);
    if (rc == 0)
        ses_alert_touched_add(t, a->id, resolved ? "resolved" : "cancelled");
    return rc;
}

struct clear_acc {
    const char *const *codes;
    bool any_origin; /* every open alert of codes, not only the daemon's own */
    int n;
    struct ses_alert list[SES_TIME_RULES_MAX * 2];
};

static int collect_clearable(void *ud, const struct ses_alert *a)
{
    struct clear_acc *c = ud;
    if (!c->any_origin && strcmp(a->origin, "daemon") != 0)
        return 0; /* only the daemon's own alerts clear by themselves */
    for (int i = 0; c->codes[i] != NULL; i++)
        if (strcmp(c->codes[i], a->type) == 0 && c->n < (int)(sizeof c->list / sizeof c->list[0]))
            c->list[c->n++] = *a;
    return 0;
}

/* Both clears: the daemon's own alerts of codes, or (any_origin) every open alert of them. */
static int clear_txn(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                     const char *const codes[], bool any_origin, const struct ses_alert_actor *by,
                     int64_t now, struct ses_alert_touched *t)
{
    struct clear_acc *c = calloc(1, sizeof *c);
    if (c == NULL)
        return SES_ENOMEM;
    c->codes = codes;
    c->any_origin = any_origin;
    int rc = ses_store_alert_open_of_thread(st, thread, collect_clearable, c);
    for (int i = 0; rc == 0 && i < c->n; i++)
        rc = ses_alert_close_txn(st, &c->list[i], "resolved", "CONDITION_CLEARED", NULL, 0, by, now,
                                 t);
    free(c);
    if (rc == 0)
        rc = ses_store_thread_rules_stale(st, thread);
    return rc;
}

int ses_alert_clear_txn(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                        const char *const codes[], const struct ses_alert_actor *by, int64_t now,
                        struct ses_alert_touched *t)
{
    return clear_txn(st, thread, codes, false, by, now, t);
}

int ses_alert_review_clear_txn(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                               const char *const codes[], const struct ses_alert_actor *by,
                               int64_t now, struct ses_alert_touched *t)
{
    return clear_txn(st, thread, codes, true, by, now, t);
}

/* --- escalation and time rules (one writer job per timer pass) ----------------------------------
 */

/* Past the last step: P0 and P1 are never left in silence. The program lead is copied, and
 * every owner, cc and the lead are told again every 15 minutes (P0) or hour (P1) until someone
 * acknowledges; the deadline is the next re-notification. Lower severities stay overdue. */
static int exhaust(struct ses_store *st, struct parties *p, struct ses_alert *a, int64_t now,
                   struct ses_alert_touched *t)
{
    int64_t every = ses_alert_renotify_ms(a->severity);
    a->exhausted = true;
    a->deadline_ms = every > 0 ? now + every : 0;
    if (every > 0) {
        uint8_t lead[1][SES_ID_BYTES];
        int n = 0;
        party_users(p, SES_PARTY_LEAD, lead, &n, 1);
        if (n == 1 && !ses_alert_is_owner(a, lead[0]))
            add_user(a->cc, &a->n_cc, SES_ALERT_MAX_USERS, lead[0]);
    }
    int rc = ses_store_alert_update(st, a);
    if (rc == 0)
        rc = event_add(st, a, now, "exhausted", NULL, NULL, 0, "deadline_passed");
    if (rc == 0)
        rc = audit_alert(st, NULL, now, "alert.escalate", a, "exhausted");
    if (rc == 0)
        ses_alert_touched_add(t, a->id, "exhausted");
    return rc;
}

/* An exhausted P0/P1 still unacknowledged: everyone who owned it, the cc and the lead (copied at
 * exhaustion) are told again. */
static int renotify(struct ses_store *st, struct ses_alert *a, int64_t now,
                    struct ses_alert_touched *t)
{
    uint8_t to[SES_ALERT_EVENT_MAX_TO][SES_ID_BYTES];
    int n_to = 0;
    char detail[32];
    for (int i = 0; i < a->n_former; i++) /* every owner so far, the current ones included */
        add_user(to, &n_to, SES_ALERT_EVENT_MAX_TO, a->former[i]);
    for (int i = 0; i < a->n_cc; i++)
        add_user(to, &n_to, SES_ALERT_EVENT_MAX_TO, a->cc[i]);
    a->renotified++;
    int64_t every = ses_alert_renotify_ms(a->severity);
    a->deadline_ms = every > 0 ? now + every : 0;
    snprintf(detail, sizeof detail, "unacknowledged:%d", a->renotified);
    int rc = ses_store_alert_update(st, a);
    if (rc == 0)
        rc = event_add(st, a, now, "renotified", NULL, (const uint8_t(*)[SES_ID_BYTES])to, n_to,
                       detail);
    if (rc == 0)
        rc = audit_alert(st, NULL, now, "alert.renotify", a, detail);
    if (rc == 0)
        ses_alert_touched_add(t, a->id, "renotified");
    return rc;
}

static int escalate_step(struct ses_store *st, const struct ses_config *cfg, struct parties *p,
                         struct ses_alert *a, const struct ses_alert_type *ty, int64_t now,
                         struct ses_alert_touched *t)
{
    p->owners = (const uint8_t(*)[SES_ID_BYTES])a->owners;
    p->n_owners = a->n_owners;
    unsigned chain[SES_ALERT_CHAIN_MAX + 1], skipped = 0;
    ses_alert_chain(cfg, ty, chain);
    int step = ses_escalation_next(chain, a->step, party_has_users, p, &skipped), rc = 0;
    for (int k = a->step + 1; k <= SES_ALERT_CHAIN_MAX && rc == 0; k++)
        if (skipped & (1u << (k - 1)))
            rc = event_add(st, a, now, "skipped", NULL, NULL, 0, party_name(chain[k - 1]));
    if (rc != 0)
        return rc;
    if (step == 0)
        return exhaust(st, p, a, now, t);
    uint8_t owners[SES_ALERT_MAX_USERS][SES_ID_BYTES];
    int n = 0;
    party_users(p, chain[step - 1], owners, &n, SES_ALERT_MAX_USERS);
    set_owners(a, (const uint8_t(*)[SES_ID_BYTES])owners, n);
    a->step = step;
    int64_t window = ses_alert_window(cfg, ty);
    a->deadline_ms = window > 0 ? now + window : 0;
    char extra[32];
    snprintf(extra, sizeof extra, "step:%d", step);
    if ((rc = ses_store_alert_update(st, a)) == 0)
        rc = event_add(st, a, now, "escalated", NULL, (const uint8_t(*)[SES_ID_BYTES])owners, n,
                       "deadline_passed");
    if (rc == 0)
        rc = audit_alert(st, NULL, now, "alert.escalate", a, extra);
    if (rc == 0)
        ses_alert_touched_add(t, a->id, "escalated");
    return rc;
}

/* A raised alert whose deadline passed: the next step of its chain, or exhaustion, or (already
 * exhausted) a re-notification. */
static int escalate_one(struct ses_store *st, const struct ses_config *cfg, struct ses_alert *a,
                        int64_t now, struct ses_alert_touched *t)
{
    const struct ses_alert_type *ty = ses_alert_type_find(a->type, a->variant);
    if (ty == NULL)
        return SES_EINTERNAL;
    if (a->exhausted)
        return renotify(st, a, now, t);
    struct parties *p = malloc(sizeof *p);
    if (p == NULL)
        return SES_ENOMEM;
    int rc = parties_load(p, st, cfg, a->thread);
    if (rc == 0)
        rc = escalate_step(st, cfg, p, a, ty, now, t);
    free(p);
    return rc;
}

struct due_job {
    struct ses_daemon *d;
    const struct ses_config *cfg;
    int64_t now;
    int n_alerts, n_threads;
    struct ses_alert alerts[SES_ALERT_PASS_MAX];
    uint8_t threads[SES_ALERT_PASS_MAX][SES_ID_BYTES];
    bool more; /* a full pass: look again at once */
    struct ses_alert_touched touched;
};

static int collect_due_alert(void *ud, const struct ses_alert *a)
{
    struct due_job *j = ud;
    j->alerts[j->n_alerts++] = *a;
    return 0;
}

static int collect_due_thread(void *ud, const uint8_t thread[SES_ID_BYTES])
{
    struct due_job *j = ud;
    memcpy(j->threads[j->n_threads++], thread, SES_ID_BYTES);
    return 0;
}

struct seen_ctx {
    struct ses_store *st;
    const uint8_t *thread;
    int rc;
};

/* A rule is not raised again for the same anchor, nor while its type is open in the thread. */
static bool cond_seen(void *ud, const char *cond_key)
{
    struct seen_ctx *c = ud;
    bool exists = false;
    char code[8];
    size_t n = strcspn(cond_key, ":");
    if (c->rc == 0)
        c->rc = ses_store_alert_cond_exists(c->st, c->thread, cond_key, &exists);
    if (exists || c->rc != 0)
        return true;
    snprintf(code, sizeof code, "%.*s", (int)(n < 4 ? n : 4), cond_key);
    if (strcmp(code, "A08a") == 0 || strcmp(code, "A08b") == 0 || strcmp(code, "A08c") == 0)
        code[3] = '\0';
    struct ses_alert a;
    int rc = ses_store_alert_open_of_type(c->st, c->thread, code, &a);
    if (rc != 0 && rc != SES_ENOT_FOUND)
        c->rc = rc;
    return rc == 0;
}

static int rules_one(struct ses_store *st, const struct ses_config *cfg,
                     const uint8_t thread[SES_ID_BYTES], int64_t now, struct ses_alert_touched *t)
{
    struct ses_thread_meta m;
    struct ses_rule_hit hits[SES_TIME_RULES_MAX];
    struct seen_ctx seen = {.st = st, .thread = thread};
    int64_t next = -1;
    int rc = ses_store_thread_meta_get(st, thread, &m);
    if (rc != 0)
        return rc;
    if (m.closed_ms != 0) /* a closed episode has no time rules */
        return ses_store_thread_set_next_rule(st, thread, -1);
    size_t n = ses_time_rules(&m, now, cond_seen, &seen, hits, &next);
    if (seen.rc != 0)
        return seen.rc;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct ses_raise r = {.type = hits[i].type,
                              .severity = (int)hits[i].type->severity,
                              .origin = "daemon",
                              .cond_key = hits[i].cond_key,
                              .deadline_ms = hits[i].deadline_ms,
                              .now = now};
        uint8_t id[SES_ID_BYTES];
        bool repeat = false;
        rc = ses_alert_raise_txn(st, cfg, thread, &r, id, &repeat, t);
    }
    if (rc == 0)
        rc = ses_store_thread_set_next_rule(st, thread, next);
    return rc;
}

/* Writer thread: one pass over what is due. */
static int run_due(struct ses_store *st, void *arg)
{
    struct due_job *j = arg;
    j->n_alerts = j->n_threads = 0;
    j->touched.n = 0;
    int rc = ses_store_alert_due(st, j->now, SES_ALERT_PASS_MAX, collect_due_alert, j);
    for (int i = 0; rc == 0 && i < j->n_alerts; i++)
        rc = escalate_one(st, j->cfg, &j->alerts[i], j->now, &j->touched);
    if (rc == 0)
        rc = ses_store_threads_rule_due(st, j->now, SES_ALERT_PASS_MAX, collect_due_thread, j);
    for (int i = 0; rc == 0 && i < j->n_threads; i++)
        rc = rules_one(st, j->cfg, j->threads[i], j->now, &j->touched);
    if (rc == 0) /* case-review sessions that have started are held */
        rc = ses_review_pass(st, j->cfg, j->now, &j->touched);
    if (rc == 0) /* recommendations not acknowledged in time raise A15 */
        rc = ses_rec_pass(st, j->cfg, j->now, &j->touched);
    j->more = j->n_alerts == SES_ALERT_PASS_MAX || j->n_threads == SES_ALERT_PASS_MAX;
    return rc;
}

static void on_alert_timer(uv_timer_t *h);

static void done_due(void *arg, int rc)
{
    struct due_job *j = arg;
    struct ses_daemon *d = j->d;
    d->alerts.job_pending = false;
    if (rc != 0)
        SES_LOG(SES_LOG_ERR, "alerts", "escalation pass failed: %s (retried)", ses_err_name(rc));
    else
        ses_alerts_push(d, &j->touched);
    if (rc == 0 && j->touched.n > 0)
        SES_LOG(SES_LOG_INFO, "alerts", "pass: %d alert changes", j->touched.n);
    bool more = rc == 0 && j->more;
    free(j);
    if (d->stopping || !d->alerts.timer_on)
        return;
    if (rc != 0) /* back off: a failing pass is retried, not spun */
        uv_timer_start(&d->alerts.timer, on_alert_timer, SES_ALERT_RETRY_MS, 0);
    else if (more)
        uv_timer_start(&d->alerts.timer, on_alert_timer, 0, 0);
    else
        ses_alerts_kick(d);
}

static void on_alert_timer(uv_timer_t *h)
{
    struct ses_daemon *d = h->data;
    if (d->stopping || d->alerts.job_pending)
        return;
    struct due_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return;
    j->d = d;
    j->cfg = &d->cfg;
    j->now = ses_clock_now_ms(&d->clock);
    if (ses_writer_submit(d->writer, run_due, done_due, j) != 0) {
        free(j);
        return;
    }
    d->alerts.job_pending = true;
}

void ses_alerts_kick(struct ses_daemon *d)
{
    int64_t deadline = 0, rule = -1, now = ses_clock_now_ms(&d->clock), at = -1;
    if (d->stopping || d->alerts.job_pending || !d->alerts.timer_on)
        return; /* a pending pass re-arms when it is done */
    int64_t session = -1, rec = -1;
    if (ses_store_alert_next_deadline(d->store, &deadline) != 0 ||
        ses_store_threads_next_rule(d->store, &rule) != 0 ||
        ses_store_review_next_start(d->store, &session) != 0 ||
        ses_store_recs_next_due(d->store, &rec) != 0) {
        at = now + 1000; /* try again soon */
    } else {
        if (deadline > 0)
            at = deadline;
        if (rule >= 0 && (at < 0 || rule < at))
            at = rule;
        if (session >= 0 && (at < 0 || session < at))
            at = session;
        if (rec >= 0 && (at < 0 || rec < at))
            at = rec;
    }
    int64_t delay = at < 0 ? SES_ALERT_TIMER_MAX_MS : at - now;
    if (delay < 0)
        delay = 0;
    if (delay > SES_ALERT_TIMER_MAX_MS)
        delay = SES_ALERT_TIMER_MAX_MS;
    uv_timer_start(&d->alerts.timer, on_alert_timer, (uint64_t)delay, 0);
}

/* At start and every hour: a warning in the log while an escalation chain could end with nobody
 * (no on-duty psychiatrist or no program lead in force). */
static void on_oncall_timer(uv_timer_t *h)
{
    struct ses_daemon *d = h->data;
    json_t *w = ses_oncall_warnings_json(d);
    size_t i;
    json_t *v;
    json_array_foreach(w, i, v)
    {
        SES_LOG(SES_LOG_WARN, "alerts",
                "%s: escalation chains that need %s stop short; set it "
                "with `sesame admin oncall set`",
                json_string_value(v),
                strcmp(json_string_value(v), "NO_PROGRAM_LEAD") == 0 ? "a program lead"
                                                                     : "an on-duty psychiatrist");
    }
    json_decref(w);
}

void ses_alerts_start(struct ses_daemon *d)
{
    (void)uv_timer_init(&d->loop, &d->alerts.timer); /* a timer's init cannot fail (libuv) */
    d->alerts.timer.data = d;
    (void)uv_timer_init(&d->loop, &d->alerts.oncall_timer);
    d->alerts.oncall_timer.data = d;
    d->alerts.timer_on = true;
    uv_timer_start(&d->alerts.oncall_timer, on_oncall_timer, 0, SES_ONCALL_WARN_MS);
    ses_alerts_kick(d);
}

void ses_alerts_stop(struct ses_daemon *d)
{
    if (!d->alerts.timer_on)
        return;
    d->alerts.timer_on = false;
    uv_timer_stop(&d->alerts.timer);
    uv_close((uv_handle_t *)&d->alerts.timer, NULL);
    uv_timer_stop(&d->alerts.oncall_timer);
    uv_close((uv_handle_t *)&d->alerts.oncall_timer, NULL);
}

/* --- JSON and pushes (loop thread) --------------------------------------------------------------
 */

static json_t *ids_json(const uint8_t (*ids)[SES_ID_BYTES], int n)
{
    json_t *arr = json_array();
    char t[SES_ID_TEXT_LEN + 1];
    for (int i = 0; arr != NULL && i < n; i++) {
        ses_id_to_text(t, ids[i]);
        json_array_append_new(arr, json_string(t));
    }
    return arr;
}

static json_t *opt_int(int64_t v)
{
    return v != 0 ? json_integer(v) : json_null();
}

static json_t *opt_str(const char *s)
{
    return s[0] != '\0' ? json_string(s) : json_null();
}

static json_t *opt_id(bool has, const uint8_t id[SES_ID_BYTES])
{
    char t[SES_ID_TEXT_LEN + 1];
    if (!has)
        return json_null();
    ses_id_to_text(t, id);
    return json_string(t);
}

json_t *ses_alert_json(struct ses_daemon *d, const struct ses_alert *a)
{
    struct ses_thread th;
    struct ses_incident inc;
    const struct ses_alert_type *ty = ses_alert_type_find(a->type, a->variant);
    if (ses_store_thread_get(d->store, a->thread, &th) != 0 ||
        ses_store_incident_get(d->store, a->incident, &inc) != 0)
        return NULL;
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:I, s:o, s:o, s:o, s:i, s:o, s:b, s:i, s:o, "
        "s:o, s:o, s:o, s:o, s:o, s:o}",
        "patient", th.patient, "incident_severity",
        ses_severity_name((enum ses_severity)inc.severity), "type", a->type, "variant", a->variant,
        "name", ty ? ty->name : "?", "severity", ses_severity_name((enum ses_severity)a->severity),
        "state", a->state, "origin", json_string(a->origin), "raised", (json_int_t)a->raised_ms,
        "raised_by", opt_id(a->has_raiser, a->raised_by), "msg_seq", opt_int(a->msg_seq), "owners",
        ids_json((const uint8_t(*)[SES_ID_BYTES])a->owners, a->n_owners), "step", a->step,
        "deadline", opt_int(a->deadline_ms), "exhausted", a->exhausted, "repeats", a->repeats, "cc",
        ids_json((const uint8_t(*)[SES_ID_BYTES])a->cc, a->n_cc), "acked", opt_int(a->acked_ms),
        "acked_by", opt_id(a->acked_ms != 0, a->acked_by), "resolved", opt_int(a->resolved_ms),
        "resolved_by", opt_id(a->has_resolver, a->resolved_by), "resolution",
        opt_str(a->resolution), "outcome", opt_str(a->outcome));
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "resolve_msg_seq", opt_int(a->resolve_msg_seq));
    json_object_set_new(o, "renotified", json_integer(a->renotified));
    json_object_set_new(o, "emergency",
                        a->severity == SES_SEV_P0 && d->cfg.emergency_routes[0]
                            ? json_string(d->cfg.emergency_routes)
                            : json_null());
    if (ses_set_id(o, "alert", a->id) != 0 || ses_set_id(o, "thread", a->thread) != 0 ||
        ses_set_id(o, "incident", a->incident) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *ses_thread_meta_json(const struct ses_thread_meta *m)
{
    json_t *o = json_pack(
        "{s:I, s:s, s:o, s:I, s:o, s:o, s:o, s:o}", "enrolled", (json_int_t)m->enrolled_ms, "phase",
        m->closed_ms ? "completed" : m->phase, "last_contact", opt_int(m->last_contact_ms),
        "contacts", (json_int_t)m->contacts, "last_review", opt_int(m->last_review_ms),
        "sequence_type", opt_str(m->sequence_type), "sequence_due", opt_int(m->sequence_due_ms),
        "last_phq9", opt_int(m->last_phq9_ms));
    if (o != NULL) {
        json_object_set_new(o, "closed", opt_int(m->closed_ms));
        json_object_set_new(o, "closed_reason", opt_str(m->closed_reason));
        json_object_set_new(o, "next_review", opt_int(m->next_review_ms));
        json_object_set_new(o, "review_deferrals", json_integer(m->review_deferrals));
        json_object_set_new(o, "first_review", opt_int(m->first_review_ms));
    }
    return o;
}

void ses_alerts_push(struct ses_daemon *d, const struct ses_alert_touched *t)
{
    enum { MAX_AUDIENCE = SES_ROSTER_MAX_MEMBERS + SES_ALERT_MAX_FORMER + SES_ALERT_MAX_USERS };
    for (int i = 0; t != NULL && i < t->n; i++) {
        struct ses_alert a;
        uint8_t users[MAX_AUDIENCE][SES_ID_BYTES];
        size_t n_members = 0;
        if (ses_store_alert_get(d->store, t->items[i].alert, &a) != 0)
            continue;
        /* the thread's members, everyone who owned it, everyone copied */
        (void)ses_roster_member_ids(d->store, a.thread, users, &n_members);
        int n = (int)n_members;
        for (int k = 0; k < a.n_former; k++)
            add_user(users, &n, MAX_AUDIENCE, a.former[k]);
        for (int k = 0; k < a.n_cc; k++)
            add_user(users, &n, MAX_AUDIENCE, a.cc[k]);
        json_t *aj = ses_alert_json(d, &a);
        if (aj == NULL)
            continue;
        struct ses_audience aud = {.users = users, .n_users = (size_t)n};
        (void)ses_registry_push(&d->sessions, &aud,
                                json_pack("{s:s, s:s, s:o}", "t", "alert_event", "event",
                                          t->items[i].event, "alert", aj));
    }
}
