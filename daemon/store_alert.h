/*
 * store_alert.h - persistent alerts, incidents, alert timelines, thread metadata and contacts
 * (PROTOCOL.md §13). Same conventions as store.h: 0 or a negative SES_E* code, SES_ENOT_FOUND for
 * a missing row, outputs written only on success; writes belong inside a transaction together
 * with their audit record. Alerts are rare, so these statements are prepared per call.
 */
#ifndef SESAME_STORE_ALERT_H
#define SESAME_STORE_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

#define SES_ALERT_MAX_USERS 16    /* owners or cc of one alert */
#define SES_ALERT_MAX_FORMER 32   /* everyone who ever owned one alert */
#define SES_ALERT_EVENT_MAX_TO 16 /* users named by one timeline event */
#define SES_ALERT_COND_KEY_MAX 48 /* "A09:1767225600000" */

struct ses_alert {
    uint8_t id[SES_ID_BYTES];
    uint8_t thread[SES_ID_BYTES];
    uint8_t incident[SES_ID_BYTES];
    char type[8];
    char variant[24];
    int severity;    /* enum ses_severity */
    char state[12];  /* raised, acked, resolved, cancelled */
    char origin[8];  /* manual, client, daemon */
    bool has_raiser; /* false for the daemon's own alerts */
    uint8_t raised_by[SES_ID_BYTES];
    uint8_t raised_device[SES_ID_BYTES];
    int64_t raised_ms;
    int64_t msg_seq; /* 0 = none */
    int step;        /* 0 = first owners; k = k-th escalation step */
    int n_owners, n_former, n_cc;
    uint8_t owners[SES_ALERT_MAX_USERS][SES_ID_BYTES];
    uint8_t former[SES_ALERT_MAX_FORMER][SES_ID_BYTES]; /* every owner so far, owners included */
    uint8_t cc[SES_ALERT_MAX_USERS][SES_ID_BYTES];
    int64_t deadline_ms; /* 0 = none */
    bool exhausted;      /* escalated past the last step */
    int repeats;
    int64_t acked_ms; /* 0 = not acknowledged */
    uint8_t acked_by[SES_ID_BYTES];
    int64_t resolved_ms; /* 0 = open; also set when cancelled */
    uint8_t resolved_by[SES_ID_BYTES];
    bool has_resolver; /* false when the daemon closed it */
    char resolution[24];
    char outcome[16];
    int64_t resolve_msg_seq;
    char cond_key[SES_ALERT_COND_KEY_MAX]; /* "" unless raised by a time rule */
    int renotified; /* re-notifications since the chain was exhausted (P0/P1) */
};

struct ses_incident {
    uint8_t id[SES_ID_BYTES];
    uint8_t thread[SES_ID_BYTES];
    bool open;
    int severity;
    int64_t opened_ms, closed_ms;
};

struct ses_alert_event {
    int64_t ts_ms;
    char event[16];
    bool has_by;
    uint8_t by[SES_ID_BYTES];
    int n_to;
    uint8_t to[SES_ALERT_EVENT_MAX_TO][SES_ID_BYTES];
    char detail[64]; /* "" = none */
};

struct ses_thread_meta {
    int64_t enrolled_ms;
    char phase[24];          /* active, relapse_prevention */
    int64_t last_contact_ms; /* 0 = none */
    int64_t contacts;
    int64_t last_review_ms;  /* 0 = none */
    char sequence_type[12];  /* "" = none, classic, light */
    int64_t sequence_due_ms; /* 0 = none */
    int64_t last_phq9_ms;    /* date of the latest assessment naming a PHQ-9; 0 = none */
    int64_t closed_ms;       /* the episode's end; 0 = open */
    char closed_reason[24];  /* remission, referred, patient_choice, lost_to_follow_up, ... */
    int64_t next_review_ms;  /* the date the last review outcome set; 0 = none */
    int64_t first_review_ms; /* the earliest review date ever set (kept by the store); 0 = none */
    int review_deferrals;    /* case-review sessions it was left over from since its review */
};

/* A contact (PROTOCOL.md §13): its date, type and, for an assessment, whether it had a PHQ-9. */
struct ses_contact {
    int64_t date_ms;
    char type[12]; /* in_person, phone, video, assessment */
    bool phq9;
};

#define SES_ONCALL_MAX_BACKUPS 256 /* backup rows an admin may set through the server */

/* Chain roles set through the server; a set row overrides sesamed.conf, an all-zero id there
 * means "cleared". */
struct ses_oncall_backup {
    uint8_t user[SES_ID_BYTES], backup[SES_ID_BYTES];
    bool cleared; /* no backup for this user (overrides the config) */
};
struct ses_oncall {
    bool on_duty_set, lead_set;
    uint8_t on_duty[SES_ID_BYTES], lead[SES_ID_BYTES];
    int n_backups;
    struct ses_oncall_backup backups[SES_ONCALL_MAX_BACKUPS];
};

typedef int (*ses_alert_cb)(void *ud, const struct ses_alert *a);
typedef int (*ses_alert_event_cb)(void *ud, const struct ses_alert_event *e);
typedef int (*ses_thread_id_cb)(void *ud, const uint8_t thread[SES_ID_BYTES]);

int ses_store_alert_insert(struct ses_store *st, const struct ses_alert *a);
/* Rewrites every mutable column of the alert with a's id. SES_ENOT_FOUND. */
int ses_store_alert_update(struct ses_store *st, const struct ses_alert *a);
int ses_store_alert_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES], struct ses_alert *a);
/* The open (raised or acked) alert of type code in thread. SES_ENOT_FOUND. */
int ses_store_alert_open_of_type(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                 const char *code, struct ses_alert *a);
/* *exists = some alert of thread was raised with cond_key (time rules raise once per anchor). */
int ses_store_alert_cond_exists(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                const char *cond_key, bool *exists);

struct ses_alert_query {
    const uint8_t *user;   /* alerts of the user's threads or naming the user; NULL = all */
    const uint8_t *thread; /* only this thread, or NULL */
    bool open_only;        /* raised or acked */
    int limit;             /* 1..500 */
};
/* Most urgent first: open before closed, severity, earliest deadline, latest raised. */
int ses_store_alert_list(struct ses_store *st, const struct ses_alert_query *q, ses_alert_cb cb,
                         void *ud);
/* Open alerts of thread (for clearing and incidents). */
int ses_store_alert_open_of_thread(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                   ses_alert_cb cb, void *ud);
/* Raised alerts whose deadline is <= now, earliest first, at most limit. */
int ses_store_alert_due(struct ses_store *st, int64_t now_ms, int limit, ses_alert_cb cb, void *ud);
/* Earliest deadline of a raised alert; *ms = 0 when none. */
int ses_store_alert_next_deadline(struct ses_store *st, int64_t *ms);

/* Appends a timeline event (numbered after the alert's last one). */
int ses_store_alert_event_add(struct ses_store *st, const uint8_t alert[SES_ID_BYTES],
                              const struct ses_alert_event *e);
int ses_store_alert_events(struct ses_store *st, const uint8_t alert[SES_ID_BYTES],
                           ses_alert_event_cb cb, void *ud);

int ses_store_incident_insert(struct ses_store *st, const struct ses_incident *i);
int ses_store_incident_get(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                           struct ses_incident *i);
/* The thread's open incident. SES_ENOT_FOUND. */
int ses_store_incident_open_of_thread(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                      struct ses_incident *i);
/* Recomputes the incident from its alerts: severity = the highest of its open alerts; closed
 * (at now_ms) when none is open. */
int ses_store_incident_refresh(struct ses_store *st, const uint8_t id[SES_ID_BYTES],
                               int64_t now_ms);

int ses_store_thread_meta_get(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                              struct ses_thread_meta *m);
/* Writes enrolled, phase, last_review, sequence type and due date (not the contacts). */
int ses_store_thread_meta_put(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                              const struct ses_thread_meta *m);
/* Records a contact; the thread's last contact (and, for an assessment with a PHQ-9, its last
 * PHQ-9) becomes the latest date recorded. */
int ses_store_contact_add(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                          const struct ses_contact *c, const uint8_t by[SES_ID_BYTES],
                          int64_t now_ms);
/* When the time rules of thread next need a look: ms, or -1 for never. */
int ses_store_thread_set_next_rule(struct ses_store *st, const uint8_t thread[SES_ID_BYTES],
                                   int64_t ms);
/* Marks the thread's time rules for recomputation at the next pass (its metadata or alerts
 * changed). */
int ses_store_thread_rules_stale(struct ses_store *st, const uint8_t thread[SES_ID_BYTES]);
/* Threads whose rules are due (next_rule_ms unset or <= now), at most limit. */
int ses_store_threads_rule_due(struct ses_store *st, int64_t now_ms, int limit, ses_thread_id_cb cb,
                               void *ud);
/* Earliest next_rule_ms over all threads (an unset one counts as 0 = now); -1 when none. */
int ses_store_threads_next_rule(struct ses_store *st, int64_t *ms);

/* The chain roles stored by admins (every row; at most SES_ONCALL_MAX_BACKUPS backups). */
int ses_store_oncall_get(struct ses_store *st, struct ses_oncall *o);
/* Sets role ("on_duty_psychiatrist" or "program_lead") to user, or clears it (user NULL). */
int ses_store_oncall_put(struct ses_store *st, const char *role, const uint8_t *user,
                         const uint8_t by[SES_ID_BYTES], int64_t now_ms);
/* Sets user's backup, or clears it (backup NULL). */
int ses_store_backup_put(struct ses_store *st, const uint8_t user[SES_ID_BYTES],
                         const uint8_t *backup, const uint8_t by[SES_ID_BYTES], int64_t now_ms);
/* *n = backup rows stored for users other than except. */
int ses_store_backup_count(struct ses_store *st, const uint8_t except[SES_ID_BYTES], int64_t *n);

#endif
