/*
 * alert_logic.h - the pure rules of the alert engine (PROTOCOL.md §13): who may raise, acknowledge,
 * resolve or cancel; the escalation state machine; the time-based rules computed from thread
 * metadata; site overrides of windows and chains. No I/O, no clock, no store: every input is a
 * parameter, so each rule is unit-tested as a table (tests/unit/test_alert_logic.c).
 */
#ifndef SESAME_ALERT_LOGIC_H
#define SESAME_ALERT_LOGIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sesame/alerts.h"
#include "sesame/roles.h"

#include "config.h"
#include "store_alert.h"

#define SES_DAY_MS (86400000LL)
#define SES_RULE_A07_DAYS 14        /* enrolled, no psychiatric review yet */
#define SES_RULE_A08_FIRST_DAYS 28  /* no follow-up contact after the initial assessment */
#define SES_RULE_A08_ACTIVE_DAYS 21 /* active phase: 14 days + 7 grace */
#define SES_RULE_A08_RP_DAYS 44     /* relapse prevention: 30 days + 14 grace */
#define SES_RULE_A09_DAYS 60        /* lost to follow-up */
#define SES_RULE_A09B_DAYS 182      /* six months without service */
#define SES_RULE_A12_LEAD_DAYS 7    /* decision due: on the agenda 7 days before */
#define SES_RULE_A22_DAYS 28        /* active phase: no PHQ-9 for four weeks */
#define SES_TIME_RULES_MAX 8
#define SES_RENOTIFY_P0_MS (15 * 60000LL) /* an exhausted P0 is told again every 15 minutes */
#define SES_RENOTIFY_P1_MS (60 * 60000LL) /* an exhausted P1 every hour */
#define SES_CHAIN_BACKUPS_MAX (SES_CONF_MAX_BACKUPS + SES_ONCALL_MAX_BACKUPS)

/* The escalation roles in force: the ones an admin set through the server (store), else the
 * config's. An all-zero id is "nobody". */
struct ses_chain_roles {
    uint8_t on_duty[SES_ID_BYTES], lead[SES_ID_BYTES];
    int n_backups;
    struct {
        uint8_t user[SES_ID_BYTES], backup[SES_ID_BYTES];
    } backups[SES_CHAIN_BACKUPS_MAX];
};
/* Merges the stored roles db (may be NULL) over the config's into out. */
void ses_chain_roles_resolve(const struct ses_config *cfg, const struct ses_oncall *db,
                             struct ses_chain_roles *out);
/* Whether id is set (not all zero). */
bool ses_id_is_set(const uint8_t id[SES_ID_BYTES]);

/* How often an exhausted alert of severity sev is notified again; 0: never (P2 and below). */
int64_t ses_alert_renotify_ms(int severity);

/* The acknowledgement window of t at this site (config override, else the catalogue's). */
int64_t ses_alert_window(const struct ses_config *cfg, const struct ses_alert_type *t);
/* Its escalation chain (party masks, 0-terminated) at this site. */
void ses_alert_chain(const struct ses_config *cfg, const struct ses_alert_type *t,
                     unsigned chain[SES_ALERT_CHAIN_MAX + 1]);

/* The roles that raise t (1u << role): its raisers, none for the daemon's own types and those a
 * later feature raises. */
unsigned ses_alert_raisers(const struct ses_alert_type *t);
/* Checks a raise of t at severity (-1 = the default), its raiser allowed by the policy:
 * SES_EUNKNOWN_ALERT_TYPE for t NULL, SES_ESEVERITY_TOO_LOW below the type's severity,
 * SES_EBAD_FIELD out of range. */
int ses_alert_raise_check(const struct ses_alert_type *t, int severity);

/* What a raise of new_t (at new_sev) does to the open alert a of the same type (PROTOCOL.md §13
 * "New signal, new obligation"): SES_REPEAT_COUNT (counted only), SES_REPEAT_UPGRADE (more
 * urgent: a higher severity, or the same with a shorter window at this site) or
 * SES_REPEAT_REOPEN (a new positive item 9 on an acknowledged A01). Upgrades and re-openings both
 * re-open the acknowledgement. */
enum ses_repeat_kind { SES_REPEAT_COUNT = 0, SES_REPEAT_UPGRADE, SES_REPEAT_REOPEN };
enum ses_repeat_kind ses_alert_repeat_kind(const struct ses_config *cfg, const struct ses_alert *a,
                                           const struct ses_alert_type *new_t, int new_sev);

/* Whether user is among a's current owners. */
bool ses_alert_owned_by(const struct ses_alert *a, const uint8_t user[SES_ID_BYTES]);
/* Whether user is among a's current or former owners. */
bool ses_alert_is_owner(const struct ses_alert *a, const uint8_t user[SES_ID_BYTES]);

/* The checks below follow the policy's decision (authz.h: who may acknowledge, resolve, cancel)
 * and judge the request itself. */
/* Checks an acknowledge: SES_EBAD_STATE unless raised. */
int ses_alert_ack_check(const struct ses_alert *a);
/* Checks a resolve: SES_EBAD_STATE (closed), SES_EBAD_FIELD (code not a user resolution code, or
 * an outcome that is not a risk level), SES_EOUTCOME_REQUIRED (safety alert without an outcome),
 * SES_ENOTE_REQUIRED (safety alert without a note), SES_EOUTCOME_CONFLICT (DUPLICATE or
 * NO_ACTION_NEEDED with an outcome above low). outcome may be NULL; has_note: a note message
 * (msg_seq) comes with it. */
int ses_alert_resolve_check(const struct ses_alert *a, const struct ses_alert_type *t,
                            const char *code, const char *outcome, bool has_note);
/* The follow-up a safety assessment's outcome calls for: "A03" for high, "A02" for imminent,
 * NULL otherwise. */
const char *ses_alert_followup_code(const char *outcome);
/* Checks a cancel: SES_EBAD_STATE (closed or a safety alert), SES_EBAD_FIELD (code). */
int ses_alert_cancel_check(const struct ses_alert *a, const struct ses_alert_type *t,
                           const char *code);

/* Escalation: the step after from_step (1-based steps index chain[step-1]) whose party has
 * somebody to notify (has_users). Steps passed over are OR-ed into *skipped (bit k-1 = step k).
 * Returns the new step, or 0 when the chain is exhausted. */
typedef bool (*ses_party_has_users_fn)(void *ud, unsigned party);
int ses_escalation_next(const unsigned chain[SES_ALERT_CHAIN_MAX + 1], int from_step,
                        ses_party_has_users_fn has_users, void *ud, unsigned *skipped);

/* A time-based alert due now. */
struct ses_rule_hit {
    const struct ses_alert_type *type;
    char cond_key[SES_ALERT_COND_KEY_MAX]; /* "A09:<anchor ms>": raised once per anchor */
    int64_t deadline_ms;                   /* 0: raised + window */
};
/* Whether an alert with this cond_key was already raised in the thread. */
typedef bool (*ses_cond_seen_fn)(void *ud, const char *cond_key);

/* The time rules of one thread at now: fills out with the alerts due (not yet raised) and
 * *next_ms with the earliest later moment a rule becomes due (-1: none). Returns the count. */
size_t ses_time_rules(const struct ses_thread_meta *m, int64_t now, ses_cond_seen_fn seen, void *ud,
                      struct ses_rule_hit out[SES_TIME_RULES_MAX], int64_t *next_ms);

#endif
