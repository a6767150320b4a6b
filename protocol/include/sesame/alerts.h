/*
 * alerts.h - the structured clinical alert catalogue (PROTOCOL.md §13, collaborative-care.md §2):
 * one table of type codes with their variants, default (= minimum) severities, who may raise
 * them, who owns them and who is copied, acknowledgement deadlines and escalation chains. The
 * daemon applies it (site overrides of deadlines and chains come from its config); clients use it
 * to name and explain alerts. Pure data and lookups: no allocation, no I/O.
 */
#ifndef SESAME_ALERTS_H
#define SESAME_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Severities, ordered: a larger value is more severe. */
enum ses_severity {
    SES_SEV_INFO = 0, /* status notification, no acknowledgement */
    SES_SEV_P3 = 1,   /* routine: task for the next scheduled contact */
    SES_SEV_P2 = 2,   /* high: before the next weekly case review */
    SES_SEV_P1 = 3,   /* urgent: same business day (30 min for A01 item 9 >= 2) */
    SES_SEV_P0 = 4,   /* critical: possible imminent danger to life */
};
#define SES_SEV_COUNT 5

/* Who raises a type. */
enum ses_alert_origin {
    SES_ORIGIN_MANUAL = 1, /* a user, by hand (optional encrypted note) */
    SES_ORIGIN_CLIENT = 2, /* a client, from scale records it scored (the server never sees them) */
    SES_ORIGIN_DAEMON = 3, /* the daemon, from thread metadata and time */
    SES_ORIGIN_LATER = 4,  /* catalogued, raised by a later feature (recommendations, capacity) */
};

/* Parties an alert is addressed to, relative to its thread (bit masks). */
enum ses_party {
    SES_PARTY_NURSE = 1u << 0,        /* the thread's nurse members */
    SES_PARTY_GP = 1u << 1,           /* the thread's GP members */
    SES_PARTY_PSYCHIATRIST = 1u << 2, /* the thread's psychiatrist members */
    SES_PARTY_BACKUP = 1u << 3,       /* each current owner's designated backup (config) */
    SES_PARTY_ON_DUTY = 1u << 4,      /* the on-duty psychiatrist (config; else the thread's) */
    SES_PARTY_LEAD = 1u << 5,         /* the program lead (config) */
    SES_PARTY_OWNER = 1u << 6,        /* the alert's current owners (closers only) */
    SES_PARTY_FORMER_OWNER = 1u << 7, /* everyone who owned the alert before (closers only) */
};

/* The party of the thread's members of role (SES_PARTY_NURSE, _GP, _PSYCHIATRIST); 0 for a role
 * that is no party (admin, auditor). role is an enum ses_role. */
unsigned ses_party_of_role(int role);

#define SES_ALERT_CHAIN_MAX 4 /* escalation steps after the first owners */

struct ses_alert_type {
    const char *code;           /* "A01" */
    const char *variant;        /* "" when the type has one row; else e.g. "item9_2" */
    const char *name;           /* "SAFETY_ITEM9_POSITIVE" */
    enum ses_severity severity; /* default, and the minimum a raiser may ask for */
    enum ses_alert_origin origin;
    unsigned raisers;                        /* roles allowed to raise (1u << enum ses_role) */
    unsigned owners;                         /* parties owning it when raised */
    unsigned cc;                             /* parties copied */
    int64_t ack_ms;                          /* acknowledgement window per step; 0: none */
    unsigned chain[SES_ALERT_CHAIN_MAX + 1]; /* escalation steps (one party mask each), 0 ends */
    bool safety;      /* A01-A03, A19/psychiatric: closed only with a risk outcome and a note */
    unsigned closers; /* parties who may resolve it (SES_PARTY_OWNER, roles, on duty, ...) */
};

/* The row for code and variant; variant NULL or "" gives the type's first (default) row.
 * NULL if there is none. */
const struct ses_alert_type *ses_alert_type_find(const char *code, const char *variant);
/* Rows in table order (i < ses_alert_type_count()), for listing and tests. */
size_t ses_alert_type_count(void);
const struct ses_alert_type *ses_alert_type_at(size_t i);

/* "INFO", "P3", "P2", "P1", "P0"; "?" out of range. Static. */
const char *ses_severity_name(enum ses_severity sev);
/* Severity for a wire name, or -1. */
int ses_severity_from_name(const char *name);

/* Risk-assessment outcomes that close a safety alert: "none", "low", "moderate", "high",
 * "imminent". True if name is one of them. */
bool ses_risk_outcome_valid(const char *name);
/* Rank of a risk outcome: none 0, low 1, moderate 2, high 3, imminent 4; -1 if not one. */
int ses_risk_outcome_rank(const char *name);
/* Resolution codes a user may give (PROTOCOL.md §13). True if valid for a user. */
bool ses_resolution_valid(const char *name);
/* Cancellation codes. */
bool ses_cancel_code_valid(const char *name);

#endif
