/*
 * resource.c - the resource descriptions of resource.h.
 */
#include <stdlib.h>
#include <string.h>

#include "sesame/alerts.h"
#include "sesame/err.h"

#include "ids.h"
#include "alert_engine.h"
#include "alert_logic.h"
#include "resource.h"

int ses_resource_thread(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                        const uint8_t user[SES_ID_BYTES], struct ses_resource *out)
{
    memset(out, 0, sizeof *out);
    out->kind = SES_RES_THREAD;
    int rc = ses_store_member_is(st, thread, user, &out->member);
    if (rc != 0)
        return rc;
    out->exists = out->member; /* a thread always has a member */
    if (!out->exists) {
        struct ses_thread t;
        rc = ses_store_thread_get(st, thread, &t);
        out->exists = rc == 0;
        if (rc == SES_ENOT_FOUND)
            rc = 0;
    }
    return rc;
}

int ses_resource_authorize_thread(struct ses_store *st, enum ses_role role, enum ses_action action,
                                  const uint8_t thread[SES_ID_BYTES],
                                  const uint8_t user[SES_ID_BYTES])
{
    struct ses_principal p = {.role = role, .revoked = false};
    struct ses_resource r;
    int rc = ses_resource_thread(st, thread, user, &r);
    return rc != 0 ? rc : ses_authz_check(&p, action, &r);
}

void ses_resource_of_roster(const struct ses_roster *r, const uint8_t user[SES_ID_BYTES],
                            struct ses_resource *out)
{
    memset(out, 0, sizeof *out);
    out->kind = SES_RES_THREAD;
    out->exists = r != NULL;
    out->member = r != NULL && ses_roster_has_user(r, user);
}

int ses_resource_raise(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                       const uint8_t user[SES_ID_BYTES], const struct ses_alert_type *t,
                       struct ses_resource *out)
{
    int rc = ses_resource_thread(st, thread, user, out);
    out->raisers = ses_alert_raisers(t);
    return rc;
}

void ses_resource_of_alert(const struct ses_alert *a, const uint8_t user[SES_ID_BYTES], bool member,
                           bool on_duty, struct ses_resource *out)
{
    memset(out, 0, sizeof *out);
    out->kind = SES_RES_ALERT;
    if (a == NULL)
        return;
    const struct ses_alert_type *t = ses_alert_type_find(a->type, a->variant);
    out->exists = true;
    out->member = member;
    out->on_duty = on_duty;
    out->owner = ses_alert_owned_by(a, user);
    out->former = !out->owner && ses_alert_is_owner(a, user);
    out->cc = ses_id_among(a->cc, (size_t)a->n_cc, user);
    out->raiser = a->has_raiser && memcmp(a->raised_by, user, SES_ID_BYTES) == 0;
    out->closers = t != NULL ? t->closers : (SES_PARTY_OWNER | SES_PARTY_FORMER_OWNER);
}

int ses_resource_alert(struct ses_store *st, const struct ses_config *cfg,
                       const struct ses_alert *a, const uint8_t user[SES_ID_BYTES],
                       struct ses_resource *out)
{
    bool member = false, on_duty = false;
    int rc = a != NULL ? ses_store_member_is(st, a->thread, user, &member) : 0;
    if (rc == 0 && a != NULL) {
        struct ses_chain_roles *roles = malloc(sizeof *roles);
        if (roles == NULL)
            return SES_ENOMEM;
        if ((rc = ses_alert_roles_load(st, cfg, roles)) == 0)
            on_duty = memcmp(roles->on_duty, user, SES_ID_BYTES) == 0;
        free(roles);
    }
    ses_resource_of_alert(a, user, member, on_duty, out);
    return rc;
}

int ses_resource_rec(struct ses_store *st, const struct ses_rec *rec,
                     const uint8_t user[SES_ID_BYTES], struct ses_resource *out)
{
    memset(out, 0, sizeof *out);
    out->kind = SES_RES_REC;
    if (rec == NULL)
        return 0;
    out->exists = true;
    out->addressee = memcmp(rec->gp, user, SES_ID_BYTES) == 0;
    out->author = memcmp(rec->author, user, SES_ID_BYTES) == 0;
    return ses_store_member_is(st, rec->thread, user, &out->member);
}
