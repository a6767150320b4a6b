/*
 * authz.c - the policy table (authz.h). Each row lists the roles allowed to perform an action and
 * the relation to the resource they need; anything not listed is denied.
 */
#include <stddef.h>

#include "sesame/alerts.h"
#include "sesame/err.h"

#include "authz.h"

#define R(role) (1u << (role))
#define EVERY_ROLE                                                                                 \
    (R(SES_ROLE_ADMIN) | R(SES_ROLE_NURSE) | R(SES_ROLE_PSYCHIATRIST) | R(SES_ROLE_GP) |           \
     R(SES_ROLE_AUDITOR))

#define CLINICAL (R(SES_ROLE_NURSE) | R(SES_ROLE_PSYCHIATRIST) | R(SES_ROLE_GP))

/* The relation to the resource an action needs, beyond the role. */
enum need {
    NEED_NONE = 0,        /* the role suffices */
    NEED_MEMBER,          /* a current member of the thread */
    NEED_MEMBER_OR_ADMIN, /* a member, or an admin (who manages threads without being in them) */
    NEED_RAISER,          /* a member whose role raises the alert type */
    NEED_SEE,             /* the alert is visible: admin, member of its thread, owner, former, cc */
    NEED_ACK,             /* visible, and a current or former owner (else NOT_OWNER) */
    NEED_CLOSE,           /* visible, a clinician member, owner or on duty, among the closers (an
                             admin passes the gate, and sees the alert, but never closes one) */
    NEED_CANCEL,          /* visible, and the raiser or an admin */
    NEED_SESSION,         /* the session's psychiatrist, or an admin when the row allows one */
    NEED_REC_SEE,         /* a recommendation of a thread one is a member of */
    NEED_REC_ADDRESSEE,   /* visible, and addressed to one (else NOT_OWNER) */
    NEED_REC_AUTHOR,      /* visible, and written by one (else NOT_OWNER) */
};

static const struct {
    const char *name;
    unsigned roles;
    enum need need;
} policy[SES_ACT_COUNT] = {
    [SES_ACT_PING] = {"ping", EVERY_ROLE, NEED_NONE},
    [SES_ACT_WHOAMI] = {"whoami", EVERY_ROLE, NEED_NONE},
    [SES_ACT_INVITE] = {"invite", R(SES_ROLE_ADMIN), NEED_NONE},
    [SES_ACT_LIST_USERS] = {"users", R(SES_ROLE_ADMIN), NEED_NONE},
    [SES_ACT_LIST_DEVICES] = {"devices", R(SES_ROLE_ADMIN), NEED_NONE},
    [SES_ACT_REVOKE] = {"revoke", R(SES_ROLE_ADMIN), NEED_NONE},
    [SES_ACT_TEST_CLOCK] = {"test_clock", EVERY_ROLE, NEED_NONE},
    [SES_ACT_AUDIT_READ] = {"audit_read", R(SES_ROLE_AUDITOR) | R(SES_ROLE_ADMIN), NEED_NONE},
    [SES_ACT_THREAD_CREATE] = {"thread_create", R(SES_ROLE_NURSE) | R(SES_ROLE_ADMIN), NEED_NONE},
    [SES_ACT_THREAD_LIST] = {"threads", CLINICAL, NEED_NONE},
    [SES_ACT_THREAD_READ] = {"thread_read", CLINICAL, NEED_MEMBER},
    [SES_ACT_THREAD_ADD] = {"thread_add", R(SES_ROLE_NURSE) | R(SES_ROLE_ADMIN),
                            NEED_MEMBER_OR_ADMIN},
    [SES_ACT_THREAD_REMOVE] = {"thread_remove", R(SES_ROLE_NURSE) | R(SES_ROLE_ADMIN),
                               NEED_MEMBER_OR_ADMIN},
    [SES_ACT_MSG_SEND] = {"send", CLINICAL, NEED_MEMBER},
    [SES_ACT_MSG_REWRAP] = {"rewrap", CLINICAL, NEED_MEMBER},
    [SES_ACT_MSG_CURSOR] = {"cursor", CLINICAL, NEED_MEMBER},
    [SES_ACT_DIRECTORY] = {"directory", CLINICAL | R(SES_ROLE_ADMIN), NEED_NONE},
    [SES_ACT_ALERT_RAISE] = {"alert_raise", CLINICAL, NEED_RAISER},
    [SES_ACT_ALERT_LIST] = {"alerts", CLINICAL | R(SES_ROLE_ADMIN), NEED_MEMBER_OR_ADMIN},
    [SES_ACT_ALERT_SHOW] = {"alert_show", CLINICAL | R(SES_ROLE_ADMIN), NEED_SEE},
    [SES_ACT_ALERT_ACK] = {"alert_ack", CLINICAL | R(SES_ROLE_ADMIN), NEED_ACK},
    [SES_ACT_ALERT_RESOLVE] = {"alert_resolve", CLINICAL | R(SES_ROLE_ADMIN), NEED_CLOSE},
    [SES_ACT_ALERT_CANCEL] = {"alert_cancel", CLINICAL | R(SES_ROLE_ADMIN), NEED_CANCEL},
    [SES_ACT_CONTACT_RECORD] = {"contact_record", R(SES_ROLE_NURSE), NEED_MEMBER},
    [SES_ACT_ASSESSMENT_RECORD] = {"assessment_record", CLINICAL, NEED_MEMBER},
    [SES_ACT_META_READ] = {"thread_meta", CLINICAL, NEED_MEMBER},
    [SES_ACT_META_EPISODE] = {"thread_meta_episode", R(SES_ROLE_NURSE), NEED_MEMBER},
    [SES_ACT_META_REVIEW] = {"thread_meta_review", R(SES_ROLE_PSYCHIATRIST), NEED_MEMBER},
    [SES_ACT_DEVICE_LINK] = {"device_link", EVERY_ROLE, NEED_NONE},
    [SES_ACT_ONCALL_READ] = {"oncall_read", CLINICAL | R(SES_ROLE_ADMIN), NEED_NONE},
    [SES_ACT_ONCALL_SET] = {"oncall_set", R(SES_ROLE_ADMIN), NEED_NONE},
    [SES_ACT_REVIEW_SESSIONS] = {"review_sessions", CLINICAL | R(SES_ROLE_ADMIN), NEED_NONE},
    [SES_ACT_REVIEW_SESSION_SET] = {"review_session_set",
                                    R(SES_ROLE_PSYCHIATRIST) | R(SES_ROLE_ADMIN), NEED_SESSION},
    [SES_ACT_AGENDA_READ] = {"agenda", R(SES_ROLE_PSYCHIATRIST) | R(SES_ROLE_ADMIN), NEED_SESSION},
    [SES_ACT_REVIEW_MINUTES] = {"review_minutes", R(SES_ROLE_PSYCHIATRIST), NEED_SESSION},
    [SES_ACT_QUEUE_READ] = {"queue", CLINICAL, NEED_NONE},
    [SES_ACT_QUEUE_ADD] = {"queue_add", CLINICAL, NEED_MEMBER},
    [SES_ACT_REVIEW_OUTCOME] = {"review_outcome", R(SES_ROLE_PSYCHIATRIST), NEED_MEMBER},
    [SES_ACT_EPISODE_CLOSE] = {"episode_close", R(SES_ROLE_NURSE), NEED_MEMBER},
    [SES_ACT_REC_SEND] = {"rec_send", R(SES_ROLE_PSYCHIATRIST), NEED_MEMBER},
    [SES_ACT_REC_LIST] = {"recs", CLINICAL, NEED_NONE},
    [SES_ACT_REC_READ] = {"rec_read", CLINICAL, NEED_REC_SEE},
    [SES_ACT_REC_ACK] = {"rec_ack", R(SES_ROLE_GP), NEED_REC_ADDRESSEE},
    [SES_ACT_REC_DECIDE] = {"rec_decide", R(SES_ROLE_GP), NEED_REC_ADDRESSEE},
    [SES_ACT_REC_IMPLEMENT] = {"rec_implemented", R(SES_ROLE_GP), NEED_REC_ADDRESSEE},
    [SES_ACT_REC_VERIFY] = {"rec_verify", R(SES_ROLE_NURSE), NEED_REC_SEE},
    [SES_ACT_REC_AMEND] = {"rec_amend", R(SES_ROLE_PSYCHIATRIST), NEED_REC_AUTHOR},
};

static struct ses_authz verdict(int rc, const char *object)
{
    return (struct ses_authz){.rc = rc, .object = object};
}

/* Whether the resource's alert is among what p may see. */
static bool sees(const struct ses_principal *p, const struct ses_resource *r)
{
    return p->role == SES_ROLE_ADMIN || r->member || r->owner || r->former || r->cc;
}

/* Whether p is among the closers of the resource's alert (PROTOCOL.md §13). */
static bool closes(const struct ses_principal *p, const struct ses_resource *r)
{
    unsigned c = r->closers;
    return ((c & SES_PARTY_OWNER) && r->owner) || ((c & SES_PARTY_FORMER_OWNER) && r->former) ||
           ((c & SES_PARTY_ON_DUTY) && r->on_duty) ||
           (r->member && (c & ses_party_of_role((int)p->role)) != 0);
}

/* The relation part of the decision, the role being allowed. */
static struct ses_authz relation(const struct ses_principal *p, enum ses_action a, enum need need,
                                 const struct ses_resource *r)
{
    const char *name = policy[a].name;
    bool thread = r->kind == SES_RES_THREAD && r->exists;
    bool alert = r->kind == SES_RES_ALERT && r->exists;
    bool admin = p->role == SES_ROLE_ADMIN;
    switch (need) {
    case NEED_NONE:
        return verdict(r->kind == SES_RES_NONE ? 0 : SES_EDENIED, name);
    case NEED_MEMBER:
        return verdict(thread && r->member ? 0 : SES_EDENIED, "thread");
    case NEED_MEMBER_OR_ADMIN:
        if (r->kind == SES_RES_NONE && a == SES_ACT_ALERT_LIST)
            return verdict(0, name); /* every alert of one's threads, or naming one */
        return verdict(thread && (r->member || admin) ? 0 : SES_EDENIED, "thread");
    case NEED_RAISER:
        if (!thread || !r->member)
            return verdict(SES_EDENIED, "thread");
        return verdict((r->raisers & R(p->role)) ? 0 : SES_EDENIED, name);
    case NEED_SESSION:
        if (r->kind != SES_RES_SESSION || !r->exists)
            return verdict(SES_EDENIED, "session");
        return verdict(r->session_own || admin ? 0 : SES_EDENIED, name);
    case NEED_REC_SEE:
    case NEED_REC_ADDRESSEE:
    case NEED_REC_AUTHOR:
        if (r->kind != SES_RES_REC || !r->exists || !r->member)
            return verdict(SES_EDENIED, "rec"); /* the same answer for an unknown one */
        if (need == NEED_REC_ADDRESSEE && !r->addressee)
            return verdict(SES_ENOT_OWNER, name);
        if (need == NEED_REC_AUTHOR && !r->author)
            return verdict(SES_ENOT_OWNER, name);
        return verdict(0, name);
    case NEED_SEE:
    case NEED_ACK:
    case NEED_CLOSE:
    case NEED_CANCEL:
        break;
    }
    if (!alert || !sees(p, r))
        return verdict(SES_EDENIED, "alert"); /* the same answer for an unknown alert */
    switch (need) {
    case NEED_ACK:
        return verdict(r->owner || r->former ? 0 : SES_ENOT_OWNER, name);
    case NEED_CLOSE:
        if (admin || !(r->member || r->owner || r->on_duty))
            return verdict(SES_EDENIED, name);
        return verdict(closes(p, r) ? 0 : SES_ENOT_OWNER, name);
    case NEED_CANCEL:
        return verdict(r->raiser || admin ? 0 : SES_EDENIED, name);
    default:
        return verdict(0, name);
    }
}

struct ses_authz ses_authz_decide(const struct ses_principal *p, enum ses_action action,
                                  const struct ses_resource *r)
{
    if ((int)action < 0 || action >= SES_ACT_COUNT)
        return verdict(SES_EDENIED, "unknown");
    const char *name = policy[action].name;
    if (p == NULL || p->revoked || (int)p->role <= SES_ROLE_NONE || (int)p->role >= SES_ROLE_COUNT)
        return verdict(SES_EDENIED, name);
    if ((policy[action].roles & R(p->role)) == 0)
        return verdict(SES_EDENIED, name);
    return r == NULL ? verdict(0, name) : relation(p, action, policy[action].need, r);
}

int ses_authz_check(const struct ses_principal *p, enum ses_action action,
                    const struct ses_resource *r)
{
    return ses_authz_decide(p, action, r).rc;
}

const char *ses_action_name(enum ses_action action)
{
    if ((int)action < 0 || action >= SES_ACT_COUNT)
        return "unknown";
    return policy[action].name;
}
