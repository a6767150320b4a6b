/*
 * roster_cache.c - thread rosters kept in memory for the send path (roster_cache.h): a chained
 * hash table keyed by thread id (ids are random, so their first bytes are the hash).
 */
#include <stdlib.h>
#include <string.h>

#include "ids.h"
#include "roster_cache.h"

#define N_BUCKETS 1024 /* power of two */

struct ses_roster_cache {
    size_t count, max;
    struct ses_roster_entry *buckets[N_BUCKETS];
};

static size_t bucket_of(const uint8_t thread[SES_ID_BYTES])
{
    uint32_t h;
    memcpy(&h, thread, sizeof h);
    return h & (N_BUCKETS - 1);
}

struct ses_roster_cache *ses_roster_cache_new(size_t max_entries)
{
    struct ses_roster_cache *c = calloc(1, sizeof *c);
    if (c != NULL)
        c->max = max_entries > 0 ? max_entries : 1;
    return c;
}

void ses_roster_cache_clear(struct ses_roster_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < N_BUCKETS; i++) {
        struct ses_roster_entry *e = c->buckets[i];
        while (e != NULL) {
            struct ses_roster_entry *next = e->next;
            free(e);
            e = next;
        }
        c->buckets[i] = NULL;
    }
    c->count = 0;
}

void ses_roster_cache_free(struct ses_roster_cache *c)
{
    ses_roster_cache_clear(c);
    free(c);
}

const struct ses_roster_entry *ses_roster_cache_get(struct ses_roster_cache *c,
                                                    const uint8_t thread[SES_ID_BYTES])
{
    for (struct ses_roster_entry *e = c->buckets[bucket_of(thread)]; e; e = e->next)
        if (memcmp(e->thread, thread, SES_ID_BYTES) == 0)
            return e;
    return NULL;
}

void ses_roster_cache_drop(struct ses_roster_cache *c, const uint8_t thread[SES_ID_BYTES])
{
    if (c == NULL)
        return;
    for (struct ses_roster_entry **p = &c->buckets[bucket_of(thread)]; *p; p = &(*p)->next) {
        if (memcmp((*p)->thread, thread, SES_ID_BYTES) == 0) {
            struct ses_roster_entry *e = *p;
            *p = e->next;
            free(e);
            c->count--;
            return;
        }
    }
}

const struct ses_roster_entry *ses_roster_cache_put(struct ses_roster_cache *c,
                                                    const struct ses_roster *r)
{
    int n_devices = ses_roster_device_count(r);
    if (r->n < 0 || r->n > SES_ROSTER_MAX_MEMBERS || n_devices < 0)
        return NULL;
    ses_roster_cache_drop(c, r->thread.id);
    if (c->count >= c->max)
        ses_roster_cache_clear(c); /* rosters are cheap to load again; keep memory bounded */
    struct ses_roster_entry *e =
        malloc(sizeof *e + (size_t)n_devices * sizeof(struct ses_roster_key));
    if (e == NULL)
        return NULL;
    memcpy(e->thread, r->thread.id, SES_ID_BYTES);
    memcpy(e->hash, r->hash, sizeof e->hash);
    e->n_users = r->n;
    e->n_devices = 0;
    for (int i = 0; i < r->n; i++) {
        const struct ses_roster_member *m = &r->members[i];
        memcpy(e->users[i], m->user.id, SES_ID_BYTES);
        for (int k = 0; k < m->n_devices; k++) {
            struct ses_roster_key *key = &e->devices[e->n_devices++];
            memcpy(key->id, m->devices[k].id, SES_ID_BYTES);
            memcpy(key->sign_pk, m->devices[k].sign_pk, SES_SIGN_PK_BYTES);
        }
    }
    size_t b = bucket_of(e->thread);
    e->next = c->buckets[b];
    c->buckets[b] = e;
    c->count++;
    return e;
}

bool ses_roster_entry_has_user(const struct ses_roster_entry *e, const uint8_t user[SES_ID_BYTES])
{
    return ses_id_among(e->users, (size_t)e->n_users, user);
}

const uint8_t *ses_roster_entry_sign_pk(const struct ses_roster_entry *e,
                                        const uint8_t device[SES_ID_BYTES])
{
    for (int i = 0; i < e->n_devices; i++)
        if (memcmp(e->devices[i].id, device, SES_ID_BYTES) == 0)
            return e->devices[i].sign_pk;
    return NULL;
}
