/*
 * authz.h - authorization as a pure function of (principal, action): default deny.
 * No I/O, no clock, no store. A role may do an action only if the policy table says so
 * explicitly; a revoked or unknown principal may do nothing.
 */
#ifndef SESAME_AUTHZ_H
#define SESAME_AUTHZ_H

#include <stdbool.h>

#include "sesame/roles.h"

enum ses_action {
    SES_ACT_PING = 0,
    SES_ACT_WHOAMI,
    SES_ACT_INVITE,
    SES_ACT_LIST_USERS,
    SES_ACT_LIST_DEVICES,
    SES_ACT_REVOKE,
    SES_ACT_TEST_CLOCK,
    SES_ACT_AUDIT_READ,
    SES_ACT_THREAD_CREATE, /* open a caseload thread */
    SES_ACT_THREAD_USE,    /* list threads, read and send in threads one is a member of */
    SES_ACT_THREAD_MANAGE, /* add and remove members (nurse members, admins) */
    SES_ACT_DIRECTORY,     /* the team directory and users' device keys */
    SES_ACT_ALERT_RAISE,   /* raise alerts, record contacts and thread metadata (members) */
    SES_ACT_ALERT_READ,    /* list and show alerts; clinicians see their threads', admins all */
    SES_ACT_ALERT_HANDLE,  /* acknowledge, resolve, cancel (owners, members, raisers, admins) */
    SES_ACT_DEVICE_LINK,   /* an enrolled device makes a code for another device of its user */
    SES_ACT_ONCALL_READ,   /* the escalation roles in force (on duty, lead, backups) */
    SES_ACT_ONCALL_SET,    /* set them through the server (admins) */
    SES_ACT_COUNT
};

struct ses_principal {
    enum ses_role role;
    bool revoked;
};

/* Returns 0 if p may perform action, SES_EDENIED otherwise (also for out-of-range values). */
int ses_authz_check(const struct ses_principal *p, enum ses_action action)
    __attribute__((warn_unused_result));

/* Name of an action for audit records ("invite"), or "unknown". Static string. */
const char *ses_action_name(enum ses_action action);

#endif
