/*
 * alerts.c - the alert catalogue table and its lookups (alerts.h). The rows follow
 * collaborative-care.md §2.2; PROTOCOL.md §13 prints the same table for people.
 */
#include <string.h>

#include "sesame/alerts.h"
#include "sesame/roles.h"

#define MIN (60 * 1000LL)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

#define R_NURSE (1u << SES_ROLE_NURSE)
#define R_PSY (1u << SES_ROLE_PSYCHIATRIST)
#define R_GP (1u << SES_ROLE_GP)
#define R_CLIN (R_NURSE | R_PSY | R_GP)

#define P_NURSE SES_PARTY_NURSE
#define P_GP SES_PARTY_GP
#define P_PSY SES_PARTY_PSYCHIATRIST
#define P_BACKUP SES_PARTY_BACKUP
#define P_DUTY SES_PARTY_ON_DUTY
#define P_LEAD SES_PARTY_LEAD
#define P_OWNER SES_PARTY_OWNER
#define P_FORMER SES_PARTY_FORMER_OWNER

/* Who may resolve (PROTOCOL.md §13 "Who acknowledges, resolves and cancels"): a safety alert only
 * its current owners, the thread's psychiatrists and the on-duty psychiatrist; any other alert its
 * current and former owners, the thread's members in its owning roles and its psychiatrists. */
#define CL_SAFETY (P_OWNER | P_PSY | P_DUTY)
#define CL_TASK(owning_roles) (P_OWNER | P_FORMER | (owning_roles) | P_PSY)

/* code, variant, name, severity, origin, raisers, owners, cc, ack window, chain, safety, closers */
static const struct ses_alert_type table[] = {
    {"A01",
     "item9_1",
     "SAFETY_ITEM9_POSITIVE",
     SES_SEV_P1,
     SES_ORIGIN_CLIENT,
     R_CLIN,
     P_NURSE,
     P_GP,
     4 * HOUR,
     {P_BACKUP, P_GP, P_DUTY},
     true,
     CL_SAFETY},
    {"A01",
     "item9_2",
     "SAFETY_ITEM9_POSITIVE",
     SES_SEV_P1,
     SES_ORIGIN_CLIENT,
     R_CLIN,
     P_NURSE,
     P_GP | P_PSY,
     30 * MIN,
     {P_BACKUP, P_GP, P_DUTY},
     true,
     CL_SAFETY},
    {"A01",
     "item9_unanswered",
     "SAFETY_ITEM9_UNANSWERED",
     SES_SEV_P3,
     SES_ORIGIN_CLIENT,
     R_CLIN,
     P_NURSE,
     0,
     7 * DAY,
     {P_BACKUP, P_GP},
     true,
     CL_SAFETY},
    {"A02",
     "",
     "SAFETY_IMMINENT",
     SES_SEV_P0,
     SES_ORIGIN_MANUAL,
     R_CLIN,
     P_GP | P_PSY,
     P_NURSE,
     15 * MIN,
     {P_LEAD},
     true,
     CL_SAFETY},
    {"A03",
     "",
     "SAFETY_MODERATE",
     SES_SEV_P1,
     SES_ORIGIN_MANUAL,
     R_CLIN,
     P_PSY,
     P_GP,
     4 * HOUR,
     {P_DUTY, P_LEAD},
     true,
     CL_SAFETY},
    {"A04",
     "",
     "SEVERE_SYMPTOMS",
     SES_SEV_P2,
     SES_ORIGIN_CLIENT,
     R_CLIN,
     P_NURSE,
     P_PSY | P_GP,
     7 * DAY,
     {P_PSY},
     false,
     CL_TASK(P_NURSE)},
    {"A05",
     "",
     "WORSENING",
     SES_SEV_P2,
     SES_ORIGIN_CLIENT,
     R_CLIN,
     P_NURSE,
     P_PSY,
     7 * DAY,
     {P_PSY},
     false,
     CL_TASK(P_NURSE)},
    {"A06",
     "",
     "NOT_IMPROVING",
     SES_SEV_P2,
     SES_ORIGIN_CLIENT,
     R_CLIN,
     P_NURSE,
     P_PSY,
     7 * DAY,
     {P_PSY | P_LEAD},
     false,
     CL_TASK(P_NURSE)},
    {"A06b",
     "",
     "EARLY_NONRESPONSE",
     SES_SEV_INFO,
     SES_ORIGIN_CLIENT,
     R_CLIN,
     P_NURSE,
     0,
     0,
     {0},
     false,
     CL_TASK(P_NURSE)},
    {"A07",
     "",
     "NEW_PATIENT_UNREVIEWED",
     SES_SEV_P3,
     SES_ORIGIN_DAEMON,
     0,
     P_NURSE,
     P_PSY,
     14 * DAY,
     {P_PSY, P_LEAD},
     false,
     CL_TASK(P_NURSE)},
    {"A08",
     "first_followup",
     "FOLLOWUP_OVERDUE",
     SES_SEV_P2,
     SES_ORIGIN_DAEMON,
     0,
     P_NURSE,
     P_GP,
     7 * DAY,
     {P_LEAD},
     false,
     CL_TASK(P_NURSE)},
    {"A08",
     "active",
     "FOLLOWUP_OVERDUE",
     SES_SEV_P3,
     SES_ORIGIN_DAEMON,
     0,
     P_NURSE,
     0,
     7 * DAY,
     {P_LEAD},
     false,
     CL_TASK(P_NURSE)},
    {"A08",
     "relapse_prevention",
     "FOLLOWUP_OVERDUE",
     SES_SEV_P3,
     SES_ORIGIN_DAEMON,
     0,
     P_NURSE,
     0,
     7 * DAY,
     {P_LEAD},
     false,
     CL_TASK(P_NURSE)},
    {"A09",
     "",
     "LOST_TO_FOLLOW_UP",
     SES_SEV_P2,
     SES_ORIGIN_DAEMON,
     0,
     P_NURSE | P_GP,
     0,
     7 * DAY,
     {P_LEAD},
     false,
     CL_TASK(P_NURSE | P_GP)},
    {"A09b",
     "",
     "EPISODE_AUTO_CLOSE",
     SES_SEV_INFO,
     SES_ORIGIN_DAEMON,
     0,
     P_NURSE,
     P_GP | P_PSY,
     0,
     {0},
     false,
     CL_TASK(P_NURSE)},
    {"A10",
     "response",
     "RESPONSE_REACHED",
     SES_SEV_INFO,
     SES_ORIGIN_CLIENT,
     R_CLIN,
     P_NURSE,
     P_GP | P_PSY,
     0,
     {0},
     false,
     CL_TASK(P_NURSE)},
    {"A10",
     "remission",
     "REMISSION_REACHED",
     SES_SEV_P3,
     SES_ORIGIN_CLIENT,
     R_CLIN,
     P_NURSE,
     P_GP | P_PSY,
     14 * DAY,
     {0},
     false,
     CL_TASK(P_NURSE)},
    {"A11",
     "",
     "RELAPSE_SUSPECTED",
     SES_SEV_P2,
     SES_ORIGIN_CLIENT,
     R_CLIN,
     P_NURSE,
     P_GP | P_PSY,
     7 * DAY,
     {P_PSY},
     false,
     CL_TASK(P_NURSE)},
    {"A12",
     "",
     "EPISODE_DECISION_DUE",
     SES_SEV_P3,
     SES_ORIGIN_DAEMON,
     0,
     P_NURSE | P_PSY,
     P_GP,
     7 * DAY,
     {P_LEAD},
     false,
     CL_TASK(P_NURSE | P_PSY)},
    {"A13",
     "routine",
     "CONSULT_REQUEST",
     SES_SEV_P2,
     SES_ORIGIN_MANUAL,
     R_NURSE,
     P_PSY,
     0,
     7 * DAY,
     {P_DUTY},
     false,
     CL_TASK(P_PSY)},
    {"A13",
     "urgent",
     "CONSULT_REQUEST",
     SES_SEV_P1,
     SES_ORIGIN_MANUAL,
     R_NURSE,
     P_PSY,
     0,
     4 * HOUR,
     {P_DUTY},
     false,
     CL_TASK(P_PSY)},
    {"A14",
     "routine",
     "RECOMMENDATION_ISSUED",
     SES_SEV_P3,
     SES_ORIGIN_DAEMON,
     0,
     P_GP,
     P_NURSE,
     7 * DAY,
     {0},
     false,
     CL_TASK(P_GP)},
    {"A14",
     "urgent",
     "RECOMMENDATION_ISSUED",
     SES_SEV_P1,
     SES_ORIGIN_DAEMON,
     0,
     P_GP,
     P_NURSE,
     1 * DAY,
     {0},
     false,
     CL_TASK(P_GP)},
    {"A15",
     "",
     "RECOMMENDATION_UNACKED",
     SES_SEV_P2,
     SES_ORIGIN_DAEMON,
     0,
     P_NURSE,
     0,
     7 * DAY,
     {P_PSY | P_LEAD},
     false,
     CL_TASK(P_NURSE)},
    {"A16",
     "",
     "GP_DECISION_RECORDED",
     SES_SEV_INFO,
     SES_ORIGIN_DAEMON,
     0,
     P_NURSE | P_PSY,
     0,
     0,
     {0},
     false,
     CL_TASK(P_NURSE | P_PSY)},
    {"A17",
     "",
     "MEDICATION_ISSUE",
     SES_SEV_P2,
     SES_ORIGIN_MANUAL,
     R_NURSE,
     P_GP,
     P_PSY,
     3 * DAY,
     {P_PSY},
     false,
     CL_TASK(P_GP)},
    {"A18",
     "",
     "SPECIALTY_REFERRAL_RECOMMENDED",
     SES_SEV_P2,
     SES_ORIGIN_MANUAL,
     R_PSY,
     P_GP,
     P_NURSE,
     7 * DAY,
     {P_LEAD},
     false,
     CL_TASK(P_GP)},
    {"A19",
     "routine",
     "GP_EVENT",
     SES_SEV_P2,
     SES_ORIGIN_MANUAL,
     R_GP,
     P_NURSE,
     P_PSY,
     7 * DAY,
     {0},
     false,
     CL_TASK(P_NURSE)},
    {"A19",
     "psychiatric",
     "GP_EVENT",
     SES_SEV_P1,
     SES_ORIGIN_MANUAL,
     R_GP,
     P_NURSE,
     P_PSY,
     4 * HOUR,
     {P_PSY, P_DUTY, P_LEAD},
     true,
     CL_SAFETY},
    {"A22",
     "",
     "PHQ9_OVERDUE",
     SES_SEV_P3,
     SES_ORIGIN_DAEMON,
     0,
     P_NURSE,
     0,
     7 * DAY,
     {P_LEAD},
     false,
     CL_TASK(P_NURSE)},
    {"A20",
     "",
     "CAPACITY_ALERT",
     SES_SEV_INFO,
     SES_ORIGIN_DAEMON,
     0,
     P_LEAD,
     0,
     0,
     {0},
     false,
     CL_TASK(P_LEAD)},
    {"A21",
     "",
     "TIME_THRESHOLD",
     SES_SEV_INFO,
     SES_ORIGIN_LATER,
     0,
     P_NURSE,
     0,
     0,
     {0},
     false,
     CL_TASK(P_NURSE)},
};

size_t ses_alert_type_count(void)
{
    return sizeof table / sizeof table[0];
}

const struct ses_alert_type *ses_alert_type_at(size_t i)
{
    return i < ses_alert_type_count() ? &table[i] : NULL;
}

const struct ses_alert_type *ses_alert_type_find(const char *code, const char *variant)
{
    if (code == NULL)
        return NULL;
    for (size_t i = 0; i < ses_alert_type_count(); i++) {
        if (strcmp(table[i].code, code) != 0)
            continue;
        if (variant == NULL || variant[0] == '\0' || strcmp(table[i].variant, variant) == 0)
            return &table[i];
    }
    return NULL;
}

unsigned ses_party_of_role(int role)
{
    switch (role) {
    case SES_ROLE_NURSE:
        return P_NURSE;
    case SES_ROLE_GP:
        return P_GP;
    case SES_ROLE_PSYCHIATRIST:
        return P_PSY;
    default:
        return 0;
    }
}

static const char *const sev_names[SES_SEV_COUNT] = {"INFO", "P3", "P2", "P1", "P0"};

const char *ses_severity_name(enum ses_severity sev)
{
    return (unsigned)sev < SES_SEV_COUNT ? sev_names[sev] : "?";
}

int ses_severity_from_name(const char *name)
{
    for (int i = 0; name != NULL && i < SES_SEV_COUNT; i++)
        if (strcmp(sev_names[i], name) == 0)
            return i;
    return -1;
}

static bool in_list(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; name != NULL && i < n; i++)
        if (strcmp(list[i], name) == 0)
            return true;
    return false;
}

#define IN_LIST(name, list) in_list(name, list, sizeof list / sizeof list[0])

bool ses_risk_outcome_valid(const char *name)
{
    static const char *const v[] = {"none", "low", "moderate", "high", "imminent"};
    return IN_LIST(name, v);
}

int ses_risk_outcome_rank(const char *name)
{
    static const char *const v[] = {"none", "low", "moderate", "high", "imminent"};
    for (int i = 0; name != NULL && i < (int)(sizeof v / sizeof v[0]); i++)
        if (strcmp(v[i], name) == 0)
            return i;
    return -1;
}

bool ses_resolution_valid(const char *name)
{
    static const char *const v[] = {"ADDRESSED", "RISK_ASSESSED", "NO_ACTION_NEEDED",
                                    "REVIEWED",  "REFERRED",      "DUPLICATE"};
    return IN_LIST(name, v);
}

bool ses_cancel_code_valid(const char *name)
{
    static const char *const v[] = {"RAISED_IN_ERROR", "DUPLICATE", "WRONG_PATIENT"};
    return IN_LIST(name, v);
}
