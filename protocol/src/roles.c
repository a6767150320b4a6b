/*
 * roles.c - wire names of the roles in roles.h.
 */
#include <string.h>

#include "sesame/roles.h"

static const char *const role_names[SES_ROLE_COUNT] = {
    [SES_ROLE_NONE] = "none",   [SES_ROLE_ADMIN] = "admin",
    [SES_ROLE_NURSE] = "nurse", [SES_ROLE_PSYCHIATRIST] = "psychiatrist",
    [SES_ROLE_GP] = "gp",       [SES_ROLE_AUDITOR] = "auditor",
};

const char *ses_role_name(enum ses_role role)
{
    if ((int)role < 0 || (int)role >= SES_ROLE_COUNT)
        return "none";
    return role_names[role];
}

enum ses_role ses_role_from_name(const char *name)
{
    if (name == NULL)
        return SES_ROLE_NONE;
    for (int r = SES_ROLE_ADMIN; r < SES_ROLE_COUNT; r++)
        if (strcmp(name, role_names[r]) == 0)
            return (enum ses_role)r;
    return SES_ROLE_NONE;
}
