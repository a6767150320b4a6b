/*
 * conn_limits.c - connections counted per address (conn_limits.h). A chained hash table of the
 * addresses that have at least one connection; an address leaves it with its last connection.
 */
#include <stdlib.h>
#include <string.h>

#include "conn_limits.h"

#define N_BUCKETS 1024 /* a power of two */

struct ses_conn_addr {
    struct ses_conn_addr *next;
    uint8_t addr[SES_CONN_ADDR_BYTES];
    int conns;  /* open connections */
    int unauth; /* of which not logged in */
    size_t queued;
};

struct ses_conn_table {
    struct ses_conn_caps caps;
    int total, unauth;
    struct ses_conn_addr *buckets[N_BUCKETS];
};

static unsigned bucket_of(const uint8_t *addr)
{
    uint32_t h = 2166136261u; /* FNV-1a: addresses are not secret, a caller cannot pick many */
    for (int i = 0; i < SES_CONN_ADDR_BYTES; i++)
        h = (h ^ addr[i]) * 16777619u;
    return h & (N_BUCKETS - 1);
}

struct ses_conn_table *ses_conn_table_new(const struct ses_conn_caps *caps)
{
    struct ses_conn_table *t = calloc(1, sizeof *t);
    if (t != NULL)
        t->caps = *caps;
    return t;
}

void ses_conn_table_free(struct ses_conn_table *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < N_BUCKETS; i++) {
        struct ses_conn_addr *a = t->buckets[i];
        while (a != NULL) {
            struct ses_conn_addr *n = a->next;
            free(a);
            a = n;
        }
    }
    free(t);
}

static struct ses_conn_addr *find(const struct ses_conn_table *t, const uint8_t *addr)
{
    for (struct ses_conn_addr *a = t->buckets[bucket_of(addr)]; a != NULL; a = a->next)
        if (memcmp(a->addr, addr, SES_CONN_ADDR_BYTES) == 0)
            return a;
    return NULL;
}

enum ses_conn_refusal ses_conn_admit(struct ses_conn_table *t, const uint8_t *addr,
                                     struct ses_conn_addr **out)
{
    *out = NULL;
    if (t->total >= t->caps.max_total)
        return SES_CONN_FULL;
    if (t->unauth >= t->caps.max_unauth_total)
        return SES_CONN_UNAUTH_FULL;
    struct ses_conn_addr *a = find(t, addr);
    if (a != NULL && a->conns >= t->caps.max_per_addr)
        return SES_CONN_ADDR_FULL;
    if (a != NULL && a->unauth >= t->caps.max_unauth_per_addr)
        return SES_CONN_ADDR_UNAUTH;
    if (a == NULL) {
        if ((a = calloc(1, sizeof *a)) == NULL)
            return SES_CONN_FULL; /* out of memory: as if full */
        memcpy(a->addr, addr, SES_CONN_ADDR_BYTES);
        unsigned b = bucket_of(addr);
        a->next = t->buckets[b];
        t->buckets[b] = a;
    }
    a->conns++;
    a->unauth++;
    t->total++;
    t->unauth++;
    *out = a;
    return SES_CONN_OK;
}

void ses_conn_authed(struct ses_conn_table *t, struct ses_conn_addr *a)
{
    if (a->unauth > 0) {
        a->unauth--;
        t->unauth--;
    }
}

void ses_conn_release(struct ses_conn_table *t, struct ses_conn_addr *a, bool authed)
{
    a->conns--;
    t->total--;
    if (!authed) {
        a->unauth--;
        t->unauth--;
    }
    if (a->conns > 0)
        return;
    struct ses_conn_addr **p = &t->buckets[bucket_of(a->addr)];
    while (*p != a)
        p = &(*p)->next;
    *p = a->next;
    free(a);
}

bool ses_conn_queue_add(struct ses_conn_table *t, struct ses_conn_addr *a, size_t n)
{
    if (n > t->caps.max_queued_per_addr || a->queued > t->caps.max_queued_per_addr - n)
        return false;
    a->queued += n;
    return true;
}

void ses_conn_queue_sub(struct ses_conn_addr *a, size_t n)
{
    a->queued = n > a->queued ? 0 : a->queued - n;
}

int ses_conn_total(const struct ses_conn_table *t)
{
    return t->total;
}

int ses_conn_unauth(const struct ses_conn_table *t)
{
    return t->unauth;
}

int ses_conn_addr_count(const struct ses_conn_addr *a)
{
    return a->conns;
}

const char *ses_conn_refusal_text(enum ses_conn_refusal r)
{
    switch (r) {
    case SES_CONN_OK:
        return "admitted";
    case SES_CONN_FULL:
        return "the connection limit (max_conns)";
    case SES_CONN_ADDR_FULL:
        return "this address's connection limit (max_conns_per_ip)";
    case SES_CONN_ADDR_UNAUTH:
        return "this address's limit of connections not logged in (max_unauth_per_ip)";
    case SES_CONN_UNAUTH_FULL:
        return "the limit of connections not logged in (max_unauth)";
    }
    return "?";
}
