/*
 * throttle.c - back-off of failed pre-login attempts (throttle.h). A chained hash table of at
 * most SES_THROTTLE_MAX_KEYS keys; when it is full, forgotten keys go first, else the one whose
 * last failure is the oldest.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"

#define N_BUCKETS 4096 /* a power of two */

struct entry {
    struct entry *next;
    char key[SES_THROTTLE_KEY_MAX];
    int fails;
    int64_t last_fail_ms;
    int64_t until_ms; /* closed until */
    uint64_t noted;   /* refused or unrecorded attempts since the last take_notes */
};

struct ses_throttle {
    struct entry *buckets[N_BUCKETS];
    size_t n;
};

static unsigned bucket_of(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h & (N_BUCKETS - 1);
}

struct ses_throttle *ses_throttle_new(void)
{
    return calloc(1, sizeof(struct ses_throttle));
}

void ses_throttle_free(struct ses_throttle *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < N_BUCKETS; i++)
        for (struct entry *e = t->buckets[i], *n; e != NULL; e = n) {
            n = e->next;
            free(e);
        }
    free(t);
}

static bool forgotten(const struct entry *e, int64_t now)
{
    return e->noted == 0 && now - e->last_fail_ms >= SES_THROTTLE_FORGET_MS;
}

static struct entry *find(const struct ses_throttle *t, const char *key, int64_t now)
{
    for (struct entry *e = t->buckets[bucket_of(key)]; e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0)
            return forgotten(e, now) ? NULL : e;
    return NULL;
}

static void unlink_entry(struct ses_throttle *t, struct entry *e)
{
    struct entry **p = &t->buckets[bucket_of(e->key)];
    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
    t->n--;
    free(e);
}

/* Full: drops every forgotten key, or else the one that failed longest ago. */
static void make_room(struct ses_throttle *t, int64_t now)
{
    struct entry *oldest = NULL;
    size_t before = t->n;
    for (int i = 0; i < N_BUCKETS; i++)
        for (struct entry *e = t->buckets[i], *n; e != NULL; e = n) {
            n = e->next;
            if (forgotten(e, now))
                unlink_entry(t, e);
            else if (oldest == NULL || e->last_fail_ms < oldest->last_fail_ms)
                oldest = e;
        }
    if (t->n == before && oldest != NULL)
        unlink_entry(t, oldest);
}

static struct entry *get(struct ses_throttle *t, const char *key, int64_t now)
{
    for (struct entry *e = t->buckets[bucket_of(key)]; e != NULL; e = e->next)
        if (strcmp(e->key, key) == 0) {
            if (forgotten(e, now)) {
                e->fails = 0;
                e->until_ms = 0;
            }
            return e;
        }
    if (t->n >= SES_THROTTLE_MAX_KEYS)
        make_room(t, now);
    struct entry *e = calloc(1, sizeof *e);
    if (e == NULL)
        return NULL;
    snprintf(e->key, sizeof e->key, "%s", key);
    e->last_fail_ms = now;
    unsigned b = bucket_of(e->key);
    e->next = t->buckets[b];
    t->buckets[b] = e;
    t->n++;
    return e;
}

int64_t ses_throttle_wait_ms(const struct ses_throttle *t, const char *key, int64_t now)
{
    const struct entry *e = find(t, key, now);
    return e != NULL && e->until_ms > now ? e->until_ms - now : 0;
}

bool ses_throttle_over(const struct ses_throttle *t, const char *key, int64_t now)
{
    const struct entry *e = find(t, key, now);
    return e != NULL && e->fails >= SES_THROTTLE_FREE;
}

int ses_throttle_failures(const struct ses_throttle *t, const char *key, int64_t now)
{
    const struct entry *e = find(t, key, now);
    return e != NULL ? e->fails : 0;
}

void ses_throttle_failed(struct ses_throttle *t, const char *key, int64_t now)
{
    struct entry *e = get(t, key, now);
    if (e == NULL)
        return; /* out of memory: no back-off rather than none for everyone */
    e->fails++;
    e->last_fail_ms = now;
    if (e->fails < SES_THROTTLE_FREE)
        return;
    int shift = e->fails - SES_THROTTLE_FREE;
    int64_t wait = shift >= 15 ? SES_THROTTLE_MAX_MS : (int64_t)SES_THROTTLE_BASE_MS << shift;
    e->until_ms = now + (wait < SES_THROTTLE_MAX_MS ? wait : SES_THROTTLE_MAX_MS);
}

void ses_throttle_note(struct ses_throttle *t, const char *key, int64_t now)
{
    struct entry *e = get(t, key, now);
    if (e != NULL)
        e->noted++;
}

size_t ses_throttle_noted_keys(const struct ses_throttle *t)
{
    size_t n = 0;
    for (int i = 0; i < N_BUCKETS; i++)
        for (const struct entry *e = t->buckets[i]; e != NULL; e = e->next)
            n += e->noted > 0;
    return n;
}

size_t ses_throttle_take_notes(struct ses_throttle *t,
                               void (*cb)(void *ud, const char *key, uint64_t count), void *ud)
{
    size_t n = 0;
    for (int i = 0; i < N_BUCKETS; i++)
        for (struct entry *e = t->buckets[i]; e != NULL; e = e->next)
            if (e->noted > 0) {
                cb(ud, e->key, e->noted);
                e->noted = 0;
                n++;
            }
    return n;
}
