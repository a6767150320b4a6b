/*
 * rec.c - the recommendation loop on the writer: state changes with their alerts and timeline,
 * and the pass that raises A15. See rec.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/err.h"

#include "rec.h"

#define DAY_MS 86400000LL

static const char *const event_names[] = {
    "sent",     "acknowledged", "accepted", "modified",
    "declined", "implemented",  "verified", "amended",
};

const char *ses_rec_event_name(enum ses_rec_event e)
{
    return (int)e >= 0 && e <= SES_REC_EV_AMEND ? event_names[e] : "?";
}

enum ses_rec_event ses_rec_decision_event(const char *decision)
{
    if (decision == NULL)
        return 0;
    if (strcmp(decision, "accepted") == 0)
        return SES_REC_EV_ACCEPT;
    if (strcmp(decision, "modified") == 0)
        return SES_REC_EV_MODIFY;
    if (strcmp(decision, "declined") == 0)
        return SES_REC_EV_DECLINE;
    return 0;
}

int64_t ses_rec_deadline(const struct ses_config *cfg, bool urgent, int64_t sent_ms, int times)
{
    if (!urgent)
        return sent_ms + (int64_t)times * SES_REC_ROUTINE_DAYS * DAY_MS;
    return ses_bizcal_add(&cfg->biz, sent_ms,
                          (int64_t)times * SES_REC_URGENT_BIZ_DAYS * ses_bizcal_day_ms(&cfg->biz));
}

/* Raises a daemon alert (type code/variant) on rec's thread. */
static int raise_on(struct ses_store *st, const struct ses_config *cfg, const struct ses_rec *rec,
                    const char *code, const char *variant, int64_t deadline_ms,
                    const struct ses_alert_actor *by, int64_t now, struct ses_alert_touched *t)
{
    const struct ses_alert_type *type = ses_alert_type_find(code, variant);
    if (type == NULL)
        return SES_EINTERNAL;
    struct ses_raise r = {.type = type,
                          .severity = (int)type->severity,
                          .origin = "daemon",
                          .by = by ? *by : (struct ses_alert_actor){0},
                          .msg_seq = rec->msg_seq,
                          .deadline_ms = deadline_ms,
                          .now = now,
                          .gp = rec->gp};
    uint8_t id[SES_ID_BYTES];
    bool repeat = false;
    return ses_alert_raise_txn(st, cfg, rec->thread, &r, id, &repeat, t);
}

/* A14 and A15 of rec's thread are cleared once no recommendation of it waits for an
 * acknowledgement any more (except: the one being acknowledged or replaced). */
static int clear_waiting(struct ses_store *st, const struct ses_rec *rec, const uint8_t *except,
                         const struct ses_alert_actor *by, int64_t now, struct ses_alert_touched *t)
{
    static const char *const codes[] = {"A14", "A15", NULL};
    int n = 0;
    int rc = ses_store_recs_count(st, rec->thread, "sent", except, &n);
    if (rc != 0 || n > 0)
        return rc;
    return ses_alert_clear_txn(st, rec->thread, codes, by, now, t);
}

/* A new recommendation (first version, or the version after old) sent now. */
static int send_new(struct ses_store *st, const struct ses_config *cfg, struct ses_rec *rec,
                    const struct ses_rec_act *a, const struct ses_rec *old,
                    struct ses_alert_touched *t)
{
    memset(rec, 0, sizeof *rec);
    randombytes_buf(rec->id, sizeof rec->id);
    memcpy(rec->thread, old ? old->thread : a->thread, SES_ID_BYTES);
    memcpy(rec->gp, old ? old->gp : a->gp, SES_ID_BYTES);
    memcpy(rec->author, a->user, SES_ID_BYTES);
    rec->version = old ? old->version + 1 : 1;
    if (old != NULL) {
        rec->has_supersedes = true;
        memcpy(rec->supersedes, old->id, SES_ID_BYTES);
    }
    rec->urgent = a->urgent;
    snprintf(rec->state, sizeof rec->state, "%s", ses_rec_state_name(SES_REC_SENT));
    rec->msg_seq = a->msg_seq;
    rec->sent_ms = rec->updated_ms = a->now;
    rec->deadline_ms = ses_rec_deadline(cfg, rec->urgent, a->now, 1);
    rec->deadline2_ms = ses_rec_deadline(cfg, rec->urgent, a->now, 2);
    int rc = ses_store_rec_insert(st, rec);
    if (rc == 0)
        rc = ses_store_rec_event(st, rec->id, a->now, "sent", a->user);
    if (rc == 0)
        rc = raise_on(st, cfg, rec, "A14", rec->urgent ? "urgent" : "routine", rec->deadline_ms,
                      &a->by, a->now, t);
    return rc;
}

/* Applies a state change (not a send) to *rec. */
static int transition(struct ses_store *st, const struct ses_config *cfg, struct ses_rec *rec,
                      const struct ses_rec_act *a, struct ses_alert_touched *t)
{
    enum ses_rec_state to;
    int rc = ses_rec_transition(ses_rec_state_parse(rec->state), a->event, &to);
    if (rc != 0)
        return rc;
    snprintf(rec->state, sizeof rec->state, "%s", ses_rec_state_name(to));
    rec->updated_ms = a->now;
    switch (a->event) {
    case SES_REC_EV_ACK:
        rec->acked_ms = a->now;
        break;
    case SES_REC_EV_ACCEPT:
    case SES_REC_EV_MODIFY:
    case SES_REC_EV_DECLINE:
        rec->decided_ms = a->now;
        rec->reason_seq = a->reason_seq;
        snprintf(rec->decision, sizeof rec->decision, "%s", ses_rec_state_name(to));
        break;
    case SES_REC_EV_IMPLEMENT:
        rec->implemented_ms = a->now;
        break;
    case SES_REC_EV_VERIFY:
        rec->verified_ms = a->now;
        rec->has_verified_by = true;
        memcpy(rec->verified_by, a->user, SES_ID_BYTES);
        break;
    default:
        break;
    }
    if ((rc = ses_store_rec_put(st, rec)) != 0 ||
        (rc = ses_store_rec_event(st, rec->id, a->now, ses_rec_event_name(a->event), a->user)) != 0)
        return rc;
    if (a->event == SES_REC_EV_ACK)
        return clear_waiting(st, rec, rec->id, &a->by, a->now, t);
    if (a->event == SES_REC_EV_IMPLEMENT || a->event == SES_REC_EV_ACCEPT ||
        a->event == SES_REC_EV_MODIFY || a->event == SES_REC_EV_DECLINE)
        return raise_on(st, cfg, rec, "A16", NULL, 0, &a->by, a->now, t);
    return 0;
}

/* Amends *rec: the old version superseded, *rec becomes the new one. */
static int amend(struct ses_store *st, const struct ses_config *cfg, struct ses_rec *rec,
                 const struct ses_rec_act *a, struct ses_alert_touched *t)
{
    struct ses_rec old = *rec;
    int rc = transition(st, cfg, &old, a, t);
    if (rc != 0)
        return rc;
    if ((rc = clear_waiting(st, &old, NULL, &a->by, a->now, t)) != 0 ||
        (rc = send_new(st, cfg, rec, a, &old, t)) != 0)
        return rc;
    old.has_superseded_by = true;
    memcpy(old.superseded_by, rec->id, SES_ID_BYTES);
    return ses_store_rec_put(st, &old);
}

int ses_rec_apply_txn(struct ses_store *st, const struct ses_config *cfg, struct ses_rec *rec,
                      const struct ses_rec_act *a, struct ses_alert_touched *t)
{
    if (a->event == 0)
        return send_new(st, cfg, rec, a, NULL, t);
    if (a->event == SES_REC_EV_AMEND)
        return amend(st, cfg, rec, a, t);
    return transition(st, cfg, rec, a, t);
}

struct due {
    int n;
    struct ses_rec list[SES_REC_PASS_MAX];
};

static int collect_due(void *ud, const struct ses_rec *r)
{
    struct due *d = ud;
    if (d->n < SES_REC_PASS_MAX)
        d->list[d->n++] = *r;
    return 0;
}

int ses_rec_pass(struct ses_store *st, const struct ses_config *cfg, int64_t now,
                 struct ses_alert_touched *t)
{
    struct due *d = calloc(1, sizeof *d);
    if (d == NULL)
        return SES_ENOMEM;
    int rc = ses_store_recs_due(st, now, SES_REC_PASS_MAX, collect_due, d);
    for (int i = 0; rc == 0 && i < d->n; i++) {
        struct ses_rec *r = &d->list[i];
        /* to the nurse now; its escalation at twice the deadline reaches the psychiatrist and
         * the lead */
        r->unacked = 1;
        r->updated_ms = now;
        if ((rc = raise_on(st, cfg, r, "A15", NULL, r->deadline2_ms, NULL, now, t)) == 0 &&
            (rc = ses_store_rec_put(st, r)) == 0)
            rc = ses_store_rec_event(st, r->id, now, "unacknowledged", NULL);
    }
    free(d);
    return rc;
}
