/*
 * conn_limits.h - counting connections per peer address, at accept, against three caps: every
 * connection the daemon holds, those of one address, and those of one address not logged in
 * yet (a practice behind one NAT address keeps its logged-in users whatever a stranger behind the
 * same address opens). Also the bytes queued to the connections of one address. Pure: no I/O,
 * no lws; transport_ws.c calls it on the loop thread.
 */
#ifndef SESAME_CONN_LIMITS_H
#define SESAME_CONN_LIMITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SES_CONN_ADDR_BYTES 16 /* an IPv6 address, or an IPv4 one as ::ffff:a.b.c.d */

struct ses_conn_caps {
    int max_total;              /* every connection, logged in or not */
    int max_per_addr;           /* the connections of one address */
    int max_unauth_per_addr;    /* those of one address that have not logged in */
    int max_unauth_total;       /* every connection not logged in (lws's HTTP header pool) */
    size_t max_queued_per_addr; /* bytes queued to the connections of one address */
};

enum ses_conn_refusal {
    SES_CONN_OK = 0,
    SES_CONN_FULL,        /* max_total */
    SES_CONN_ADDR_FULL,   /* max_per_addr */
    SES_CONN_ADDR_UNAUTH, /* max_unauth_per_addr */
    SES_CONN_UNAUTH_FULL, /* max_unauth_total */
};

struct ses_conn_table;
struct ses_conn_addr; /* one address's counts; valid while it has a connection */

/* A table for these caps (copied). NULL if out of memory. */
struct ses_conn_table *ses_conn_table_new(const struct ses_conn_caps *caps);
/* Frees the table and every address left in it. NULL-safe. */
void ses_conn_table_free(struct ses_conn_table *t);

/* A new connection from addr (SES_CONN_ADDR_BYTES). Returns SES_CONN_OK with *out counted (one
 * connection, not logged in), or the cap it would pass (nothing counted, *out NULL). */
enum ses_conn_refusal ses_conn_admit(struct ses_conn_table *t, const uint8_t *addr,
                                     struct ses_conn_addr **out);
/* One of a's connections logged in: it stops counting as unauthenticated. */
void ses_conn_authed(struct ses_conn_table *t, struct ses_conn_addr *a);
/* One of a's connections is gone (authed: whether it had logged in). a may be freed. */
void ses_conn_release(struct ses_conn_table *t, struct ses_conn_addr *a, bool authed);

/* Bytes queued to a's connections: adds n if that stays within max_queued_per_addr (returns
 * true), else changes nothing and returns false. */
bool ses_conn_queue_add(struct ses_conn_table *t, struct ses_conn_addr *a, size_t n);
/* n queued bytes were written or dropped. */
void ses_conn_queue_sub(struct ses_conn_addr *a, size_t n);

/* Counts, for logs and tests. */
int ses_conn_total(const struct ses_conn_table *t);
int ses_conn_unauth(const struct ses_conn_table *t);
int ses_conn_addr_count(const struct ses_conn_addr *a);
/* Text of a refusal ("the connection limit", ...). Static. */
const char *ses_conn_refusal_text(enum ses_conn_refusal r);

#endif
