/*
 * authz.h - authorization as one pure function of (principal, action, resource): default deny.
 * No I/O, no clock, no store. The caller describes how the principal stands to the resource a
 * request names (struct ses_resource, built from the store by resource.h); the policy table
 * decides. A revoked or unknown principal may do nothing. The closing table of alerts (who may
 * acknowledge, resolve, cancel: PROTOCOL.md §13) is part of this policy.
 */
#ifndef SESAME_AUTHZ_H
#define SESAME_AUTHZ_H

#include <stdbool.h>

#include "sesame/roles.h"

/* One action per kind of request (a request whose kind depends on its content, contact_record
 * or thread_meta, is authorized for the precise one by its handler). */
enum ses_action {
    SES_ACT_PING = 0,
    SES_ACT_WHOAMI,
    SES_ACT_INVITE,
    SES_ACT_LIST_USERS,
    SES_ACT_LIST_DEVICES,
    SES_ACT_REVOKE,
    SES_ACT_TEST_CLOCK,
    SES_ACT_AUDIT_READ,     /* every audit_* read of the log */
    SES_ACT_THREAD_CREATE,  /* open a caseload thread */
    SES_ACT_THREAD_LIST,    /* the caller's threads */
    SES_ACT_THREAD_READ,    /* a thread's roster, messages and receipts (members) */
    SES_ACT_THREAD_ADD,     /* add a member (nurse members, admins) */
    SES_ACT_THREAD_REMOVE,  /* remove a member (nurse members, admins) */
    SES_ACT_MSG_SEND,       /* post to a thread (members) */
    SES_ACT_MSG_REWRAP,     /* share a thread's history with one's own new device (members) */
    SES_ACT_MSG_CURSOR,     /* delivery acks and read marks (members) */
    SES_ACT_DIRECTORY,      /* the team directory and users' device keys */
    SES_ACT_ALERT_RAISE,    /* raise an alert of a type the role raises (members) */
    SES_ACT_ALERT_LIST,     /* list alerts: one's own threads' and those naming one; admins all */
    SES_ACT_ALERT_SHOW,     /* one alert and its timeline (admins, members, named users) */
    SES_ACT_ALERT_ACK,      /* acknowledge (current or former owners) */
    SES_ACT_ALERT_RESOLVE,  /* resolve (the type's closers) */
    SES_ACT_ALERT_CANCEL,   /* cancel (the raiser, admins) */
    SES_ACT_CONTACT_RECORD, /* record a contact (nurse members) */
    SES_ACT_ASSESSMENT_RECORD,  /* record an assessment contact (clinician members) */
    SES_ACT_META_READ,          /* a thread's episode metadata (members) */
    SES_ACT_META_EPISODE,       /* set phase, sequence, enrolment (nurse members) */
    SES_ACT_META_REVIEW,        /* set the last case-review date (psychiatrist members) */
    SES_ACT_DEVICE_LINK,        /* an enrolled device makes a code for another device of its user */
    SES_ACT_ONCALL_READ,        /* the escalation roles in force (on duty, lead, backups) */
    SES_ACT_ONCALL_SET,         /* set them through the server (admins) */
    SES_ACT_REVIEW_SESSIONS,    /* list case-review sessions */
    SES_ACT_REVIEW_SESSION_SET, /* add or cancel a session (its psychiatrist, admins) */
    SES_ACT_AGENDA_READ,        /* a session's agenda (its psychiatrist, admins) */
    SES_ACT_REVIEW_MINUTES,     /* record a session's minutes (its psychiatrist) */
    SES_ACT_QUEUE_READ,         /* the queue entries of one's threads */
    SES_ACT_QUEUE_ADD,          /* put a patient on the queue with a reason (clinician members) */
    SES_ACT_REVIEW_OUTCOME,     /* a reviewed case's outcome (psychiatrist members) */
    SES_ACT_EPISODE_CLOSE,      /* end an episode (nurse members) */
    SES_ACT_REC_SEND,           /* send a recommendation to a GP of the thread (psychiatrists) */
    SES_ACT_REC_LIST,           /* list the recommendations of one's threads */
    SES_ACT_REC_READ,           /* one recommendation and its timeline (members) */
    SES_ACT_REC_ACK,            /* acknowledge (the addressed GP) */
    SES_ACT_REC_DECIDE,         /* accept, modify or decline (the addressed GP) */
    SES_ACT_REC_IMPLEMENT,      /* mark implemented (the addressed GP) */
    SES_ACT_REC_VERIFY,         /* confirm with the patient (nurse members) */
    SES_ACT_REC_AMEND,          /* a new version (its author) */
    SES_ACT_COUNT
};

struct ses_principal {
    enum ses_role role;
    bool revoked;
};

enum ses_resource_kind {
    SES_RES_NONE = 0, /* the action names no resource */
    SES_RES_THREAD,   /* a thread */
    SES_RES_ALERT,    /* an alert */
    SES_RES_SESSION,  /* a case-review session (or the psychiatrist one is adding one for) */
    SES_RES_REC,      /* a recommendation (member: of its thread) */
};

/* How the principal stands to the resource. For an alert, member is about the alert's thread
 * (the principal's role there is their role). */
struct ses_resource {
    enum ses_resource_kind kind;
    bool exists;      /* the thread or alert exists (an unknown one is refused to everyone) */
    bool member;      /* a current member of the thread */
    unsigned raisers; /* SES_ACT_ALERT_RAISE: roles that raise the type by hand (1u << role) */
    bool owner;       /* among the alert's current owners */
    bool former;      /* among its former owners */
    bool cc;          /* copied on it */
    bool raiser;      /* the user who raised it */
    bool on_duty;     /* the on-duty psychiatrist in force */
    unsigned closers; /* the type's closers (SES_PARTY_OWNER, SES_PARTY_NURSE, ...) */
    bool session_own; /* SES_RES_SESSION: the principal is its psychiatrist */
    bool addressee;   /* SES_RES_REC: the GP it is addressed to */
    bool author;      /* SES_RES_REC: the psychiatrist who wrote it */
};

struct ses_authz {
    int rc; /* 0, SES_EDENIED or SES_ENOT_OWNER (sees the alert or recommendation, may not do
               this to it) */
    const char *object; /* a refusal's authz.denied object: "thread" (not a member or unknown),
                           "alert" (neither visible nor known), "session" (unknown), "rec" (neither
                           visible nor known), else the action's name; static */
};

/* The decision on action by p on r. r NULL: the gate before the request's resource is known
 * (whether p's role performs action on any resource at all). SES_ENOT_OWNER refusals are not
 * audited as denials: the user may see the alert. */
struct ses_authz ses_authz_decide(const struct ses_principal *p, enum ses_action action,
                                  const struct ses_resource *r) __attribute__((warn_unused_result));

/* ses_authz_decide(p, action, r).rc. */
int ses_authz_check(const struct ses_principal *p, enum ses_action action,
                    const struct ses_resource *r) __attribute__((warn_unused_result));

/* Name of an action for audit records ("invite"), or "unknown". Static string. */
const char *ses_action_name(enum ses_action action);

#endif
