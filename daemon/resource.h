/*
 * resource.h - how a user stands to the thread or alert a request names (struct ses_resource of
 * authz.h), read from the store or a loaded roster. The policy (authz.c) decides on it; these
 * only describe.
 */
#ifndef SESAME_RESOURCE_H
#define SESAME_RESOURCE_H

#include <stdint.h>

#include "sesame/alerts.h"

#include "authz.h"
#include "config.h"
#include "roster.h"
#include "store.h"
#include "store_alert.h"
#include "store_rec.h"

/* The thread resource of user: whether the thread exists and user is a current member. */
int ses_resource_thread(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                        const uint8_t user[SES_ID_BYTES], struct ses_resource *out);

/* Writer thread: the policy's decision on user (of role) doing action on thread, described from
 * st: the loop's check again against the committed state (a member removed while the request
 * was queued gets SES_EDENIED). */
int ses_resource_authorize_thread(struct ses_store *st, enum ses_role role, enum ses_action action,
                                  const uint8_t thread[SES_ID_BYTES],
                                  const uint8_t user[SES_ID_BYTES]);

/* The same from a loaded roster (r NULL: an unknown thread). */
void ses_resource_of_roster(const struct ses_roster *r, const uint8_t user[SES_ID_BYTES],
                            struct ses_resource *out);

/* The resource for raising an alert of type t in thread: the thread's, with the roles that raise
 * t (ses_alert_raisers). */
int ses_resource_raise(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                       const uint8_t user[SES_ID_BYTES], const struct ses_alert_type *t,
                       struct ses_resource *out);

/* The pure part of ses_resource_alert: how user stands to a (NULL: an unknown alert), given
 * whether they are a member of its thread and the on-duty psychiatrist. */
void ses_resource_of_alert(const struct ses_alert *a, const uint8_t user[SES_ID_BYTES], bool member,
                           bool on_duty, struct ses_resource *out);

/* The alert resource of user for a (NULL: an unknown alert): membership of its thread,
 * ownership, cc, raiser, on duty (the roles in force, from st and cfg) and the type's closers. */
int ses_resource_alert(struct ses_store *st, const struct ses_config *cfg,
                       const struct ses_alert *a, const uint8_t user[SES_ID_BYTES],
                       struct ses_resource *out);

/* The recommendation resource of user for rec (NULL: an unknown one): membership of its thread,
 * addressee, author. */
int ses_resource_rec(struct ses_store *st, const struct ses_rec *rec,
                     const uint8_t user[SES_ID_BYTES], struct ses_resource *out);

#endif
