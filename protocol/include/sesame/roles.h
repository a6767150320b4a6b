/*
 * roles.h - the five roles of a Sesame team and their wire names.
 */
#ifndef SESAME_ROLES_H
#define SESAME_ROLES_H

enum ses_role {
    SES_ROLE_NONE = 0, /* not a role: an unauthenticated or unknown principal */
    SES_ROLE_ADMIN = 1,
    SES_ROLE_NURSE = 2,
    SES_ROLE_PSYCHIATRIST = 3,
    SES_ROLE_GP = 4,
    SES_ROLE_AUDITOR = 5,
};
#define SES_ROLE_COUNT 6

/* Wire name ("admin", "nurse", "psychiatrist", "gp", "auditor"), or "none". Static string. */
const char *ses_role_name(enum ses_role role);
/* Role for a wire name, or SES_ROLE_NONE if the name is not a role. */
enum ses_role ses_role_from_name(const char *name);

#endif
