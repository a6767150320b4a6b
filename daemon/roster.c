/*
 * roster.c - a thread's roster as the server sees it (roster.h): the thread row, its current
 * members with their active device keys, and the roster hash senders encrypt to.
 */
#include <string.h>

#include "sesame/envelope.h"
#include "sesame/err.h"

#include "roster.h"

struct member_acc {
    struct ses_store *st;
    struct ses_roster *r;
    int rc;
};

static void add_device_key(void *ud, const struct ses_device *d)
{
    struct ses_roster_member *m = ud;
    if (d->revoked || m->n_devices >= SES_ROSTER_MAX_DEVICES)
        return;
    m->devices[m->n_devices++] = *d;
}

static void add_member(void *ud, const struct ses_user *u)
{
    struct member_acc *a = ud;
    if (a->rc != 0)
        return;
    if (a->r->n >= SES_ROSTER_MAX_MEMBERS) {
        a->rc = SES_EINTERNAL;
        return;
    }
    struct ses_roster_member *m = &a->r->members[a->r->n++];
    memset(m, 0, sizeof *m);
    m->user = *u;
    a->rc = ses_store_device_list(a->st, u->id, add_device_key, m);
}

int ses_roster_load(struct ses_store *st, const uint8_t thread[SES_ID_BYTES], struct ses_roster *r)
{
    struct member_acc a = {.st = st, .r = r};
    memset(r, 0, sizeof *r);
    int rc = ses_store_thread_get(st, thread, &r->thread);
    if (rc != 0)
        return rc;
    if ((rc = ses_store_member_list(st, thread, add_member, &a)) != 0)
        return rc;
    if (a.rc != 0)
        return a.rc;
    uint8_t users[SES_ROSTER_MAX_MEMBERS][SES_ID_BYTES];
    for (int i = 0; i < r->n; i++)
        memcpy(users[i], r->members[i].user.id, SES_ID_BYTES);
    ses_roster_hash(r->hash, thread, r->thread.roster_version, (const uint8_t(*)[16])users,
                    (size_t)r->n);
    return 0;
}

bool ses_roster_has_user(const struct ses_roster *r, const uint8_t user[SES_ID_BYTES])
{
    for (int i = 0; i < r->n; i++)
        if (memcmp(r->members[i].user.id, user, SES_ID_BYTES) == 0)
            return true;
    return false;
}

const struct ses_device *ses_roster_device(const struct ses_roster *r,
                                           const uint8_t device[SES_ID_BYTES])
{
    for (int i = 0; i < r->n; i++)
        for (int k = 0; k < r->members[i].n_devices; k++)
            if (memcmp(r->members[i].devices[k].id, device, SES_ID_BYTES) == 0)
                return &r->members[i].devices[k];
    return NULL;
}

int ses_roster_device_count(const struct ses_roster *r)
{
    int n = 0;
    for (int i = 0; i < r->n; i++)
        n += r->members[i].n_devices;
    return n;
}

struct ids_acc {
    uint8_t (*ids)[SES_ID_BYTES];
    size_t n;
};

static void add_id(void *ud, const struct ses_user *u)
{
    struct ids_acc *a = ud;
    if (a->n < SES_ROSTER_MAX_MEMBERS)
        memcpy(a->ids[a->n++], u->id, SES_ID_BYTES);
}

int ses_roster_member_ids(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                          uint8_t ids[SES_ROSTER_MAX_MEMBERS][SES_ID_BYTES], size_t *n)
{
    struct ids_acc a = {.ids = ids, .n = 0};
    int rc = ses_store_member_list(st, thread, add_id, &a);
    *n = a.n;
    return rc;
}

void ses_roster_ids_of(const struct ses_roster *r,
                       uint8_t ids[SES_ROSTER_MAX_MEMBERS][SES_ID_BYTES], size_t *n)
{
    *n = 0;
    for (int i = 0; i < r->n && i < SES_ROSTER_MAX_MEMBERS; i++)
        memcpy(ids[(*n)++], r->members[i].user.id, SES_ID_BYTES);
}
