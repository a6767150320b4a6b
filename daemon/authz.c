/*
 * authz.c - the policy table (authz.h). Each row lists the roles allowed to perform an action;
 * anything not listed is denied.
 */
#include <stddef.h>

#include "sesame/err.h"

#include "authz.h"

#define R(role) (1u << (role))
#define EVERY_ROLE                                                                                 \
    (R(SES_ROLE_ADMIN) | R(SES_ROLE_NURSE) | R(SES_ROLE_PSYCHIATRIST) | R(SES_ROLE_GP) |           \
     R(SES_ROLE_AUDITOR))

#define CLINICAL (R(SES_ROLE_NURSE) | R(SES_ROLE_PSYCHIATRIST) | R(SES_ROLE_GP))

static const struct {
    const char *name;
    unsigned roles;
} policy[SES_ACT_COUNT] = {
    [SES_ACT_PING] = {"ping", EVERY_ROLE},
    [SES_ACT_WHOAMI] = {"whoami", EVERY_ROLE},
    [SES_ACT_INVITE] = {"invite", R(SES_ROLE_ADMIN)},
    [SES_ACT_LIST_USERS] = {"users", R(SES_ROLE_ADMIN)},
    [SES_ACT_LIST_DEVICES] = {"devices", R(SES_ROLE_ADMIN)},
    [SES_ACT_REVOKE] = {"revoke", R(SES_ROLE_ADMIN)},
    [SES_ACT_TEST_CLOCK] = {"test_clock", EVERY_ROLE},
    [SES_ACT_AUDIT_READ] = {"audit_read", R(SES_ROLE_AUDITOR) | R(SES_ROLE_ADMIN)},
    [SES_ACT_THREAD_CREATE] = {"thread_create", R(SES_ROLE_NURSE) | R(SES_ROLE_ADMIN)},
    [SES_ACT_THREAD_USE] = {"thread_use", CLINICAL},
    [SES_ACT_THREAD_MANAGE] = {"thread_manage", R(SES_ROLE_NURSE) | R(SES_ROLE_ADMIN)},
    [SES_ACT_DIRECTORY] = {"directory", CLINICAL | R(SES_ROLE_ADMIN)},
    [SES_ACT_ALERT_RAISE] = {"alert_raise", CLINICAL},
    [SES_ACT_ALERT_READ] = {"alert_read", CLINICAL | R(SES_ROLE_ADMIN)},
    [SES_ACT_ALERT_HANDLE] = {"alert_handle", CLINICAL | R(SES_ROLE_ADMIN)},
    [SES_ACT_DEVICE_LINK] = {"device_link", EVERY_ROLE},
    [SES_ACT_ONCALL_READ] = {"oncall_read", CLINICAL | R(SES_ROLE_ADMIN)},
    [SES_ACT_ONCALL_SET] = {"oncall_set", R(SES_ROLE_ADMIN)},
};

int ses_authz_check(const struct ses_principal *p, enum ses_action action)
{
    if (p == NULL || p->revoked || (int)action < 0 || action >= SES_ACT_COUNT)
        return SES_EDENIED;
    if ((int)p->role <= SES_ROLE_NONE || (int)p->role >= SES_ROLE_COUNT)
        return SES_EDENIED;
    return (policy[action].roles & R(p->role)) ? 0 : SES_EDENIED;
}

const char *ses_action_name(enum ses_action action)
{
    if ((int)action < 0 || action >= SES_ACT_COUNT)
        return "unknown";
    return policy[action].name;
}
