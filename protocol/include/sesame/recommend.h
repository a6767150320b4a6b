/*
 * recommend.h - the psychiatrist's structured recommendation to the GP and the patient card, the
 * two end-to-end encrypted records of the recommendation loop (content types 5 and 6,
 * PROTOCOL.md §16), and the loop's state machine (who may move a recommendation from which state
 * to which). Pure functions: the codec uses jansson, no I/O, no clock. The server never parses a
 * record: it sees only the recommendation's state, its dates and who acted.
 */
#ifndef SESAME_RECOMMEND_H
#define SESAME_RECOMMEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SES_REC_BODY_MAX 16384 /* bytes of an encoded recommendation or card body */
#define SES_REC_ITEMS_MAX 20   /* numbered items of one recommendation */
#define SES_REC_TEXT_MAX 1000  /* question, safety, diagnosis, contingency, item texts */
#define SES_REC_LONG_MAX 2000  /* data basis, narrative, disclaimer */
#define SES_REC_SHORT_MAX 120  /* drug, dose; card names */
#define SES_REC_LIST_MAX 500   /* recommendations one `recs` reply lists */

/* The typed items of collaborative-care.md §5.2. */
enum ses_rec_item_type {
    SES_REC_MED_START = 1,
    SES_REC_MED_DOSE_CHANGE,
    SES_REC_MED_SWITCH,
    SES_REC_MED_AUGMENT,
    SES_REC_MED_STOP,
    SES_REC_LAB,
    SES_REC_PSYCHOTHERAPY,
    SES_REC_REFERRAL,
    SES_REC_GP_VISIT,
    SES_REC_MONITORING,
    SES_REC_ITEM_TYPE_MAX = SES_REC_MONITORING
};
/* Wire name of t ("MED_START"), or NULL. Static. */
const char *ses_rec_item_type_name(enum ses_rec_item_type t);
/* The type named name, or 0. */
enum ses_rec_item_type ses_rec_item_type_parse(const char *name);
/* Whether t is a medication item (MED_*): drug required, and dose for all but MED_STOP. */
bool ses_rec_item_is_med(enum ses_rec_item_type t);

/* Why the case was reviewed. */
enum ses_rec_question {
    SES_REC_Q_NEW_PATIENT = 1,
    SES_REC_Q_NOT_IMPROVING,
    SES_REC_Q_SAFETY,
    SES_REC_Q_REQUEST,
    SES_REC_Q_DECISION_POINT,
    SES_REC_Q_OTHER,
    SES_REC_Q_MAX = SES_REC_Q_OTHER
};
/* Wire name ("not_improving"), or NULL. Static. */
const char *ses_rec_question_name(enum ses_rec_question q);
enum ses_rec_question ses_rec_question_parse(const char *name);

/* One numbered item. Strings are NUL-terminated UTF-8 without U+0000, "" when absent. A MED_*
 * item needs drug (and dose, but for MED_STOP); every other type needs text. */
struct ses_rec_item {
    enum ses_rec_item_type type;
    char drug[SES_REC_SHORT_MAX + 1];
    char dose[SES_REC_SHORT_MAX + 1];
    char titration[SES_REC_TEXT_MAX + 1];
    char monitoring[SES_REC_TEXT_MAX + 1];
    char text[SES_REC_TEXT_MAX + 1];
};

/* A structured recommendation (collaborative-care.md §5.2). The header's patient pseudonym,
 * presenting nurse, psychiatrist and GP come from the thread and the server's record of the
 * recommendation, not from the body. */
struct ses_rec_doc {
    int32_t day;        /* the day it was written (days since 1970-01-01) */
    int32_t review_day; /* the case-review session it came from, or -1 (ad hoc) */
    bool urgent;
    enum ses_rec_question question_code;
    char question[SES_REC_TEXT_MAX + 1];   /* required: the question addressed */
    char data_basis[SES_REC_LONG_MAX + 1]; /* required: scores, treatment, adherence */
    char safety[SES_REC_TEXT_MAX + 1];     /* required: the explicit safety statement */
    char diagnosis[SES_REC_TEXT_MAX + 1];  /* optional: working diagnosis, differentials */
    size_t n_items;                        /* 0..SES_REC_ITEMS_MAX; 0 only with a narrative */
    struct ses_rec_item items[SES_REC_ITEMS_MAX];
    char narrative[SES_REC_LONG_MAX + 1];   /* optional free text of the letter */
    char contingency[SES_REC_TEXT_MAX + 1]; /* required: what to do if it does not work */
    int32_t next_review_day;                /* required: the next review date */
    char disclaimer[SES_REC_LONG_MAX + 1];  /* required: the indirect-consultation disclaimer */
};

/* The standard disclaimer (AIMS model wording), for a client to fill in. Static. */
const char *ses_rec_disclaimer_default(void);

/* Whether d may be sent: 0, SES_EBAD_FIELD (a missing required part, an item without its drug,
 * dose or text, an unknown type or question, a day outside SES_DAY_MIN..SES_DAY_MAX, a next
 * review before the day written, no item and no narrative, text not UTF-8 or too long), or
 * SES_EINVALID_ARG (NULL). The encoder and the parser apply exactly this. */
int ses_rec_doc_check(const struct ses_rec_doc *d);
/* The first reason d may not be sent, in words ("the safety statement is missing or too long
 * (1000 bytes at most)"), or NULL when ses_rec_doc_check accepts it. Static. */
const char *ses_rec_doc_problem(const struct ses_rec_doc *d);
/* Encodes d as a content-type-5 body (compact JSON, keys in the order of PROTOCOL.md §16, with a
 * plain-text line "text"). Allocates *out (free()); *len its length (no NUL). Returns 0,
 * SES_EBAD_FIELD (ses_rec_doc_check), SES_ETOO_LARGE (above SES_REC_BODY_MAX), SES_ENOMEM. */
int ses_rec_doc_encode(const struct ses_rec_doc *d, uint8_t **out, size_t *len);
/* Parses a content-type-5 body into d (any key order and layout; unknown keys ignored). Returns
 * 0 or SES_EBAD_FIELD (malformed, over SES_REC_BODY_MAX, nested too deep, duplicate keys,
 * refused by ses_rec_doc_check), SES_ENOMEM. */
int ses_rec_doc_parse(const uint8_t *body, size_t len, struct ses_rec_doc *d);
/* Why ses_rec_doc_parse refuses body, in words, or NULL when it accepts it. Static. */
const char *ses_rec_body_problem(const uint8_t *body, size_t len);
/* The one-line summary ("Recommendation of 2026-12-03 (urgent): 2 items"). */
void ses_rec_doc_line(const struct ses_rec_doc *d, char *out, size_t cap);

/* The patient card: the identity traits the GP's software needs to file a document (INS with its
 * OID and the traits of the national identity reference), entered by the nurse, never seen by
 * the server. */
#define SES_INS_LEN 15
enum ses_ins_kind {
    SES_INS_NONE = 0, /* no INS entered (identity not qualified: exports that need it refuse) */
    SES_INS_NIR,      /* 1.2.250.1.213.1.4.8 */
    SES_INS_NIA,      /* 1.2.250.1.213.1.4.9 */
    SES_INS_NIR_TEST, /* 1.2.250.1.213.1.4.10 */
    SES_INS_NIA_TEST, /* 1.2.250.1.213.1.4.11 */
};
/* The OID of k ("1.2.250.1.213.1.4.8"), or NULL. Static. */
const char *ses_ins_oid(enum ses_ins_kind k);
/* The kind of an OID string, or SES_INS_NONE. */
enum ses_ins_kind ses_ins_kind_of_oid(const char *oid);
/* Whether ins is 15 characters (13 of the number, 2A/2B allowed for Corsica in positions 6-7,
 * then a 2-digit key) whose key is 97 - (number mod 97). */
bool ses_ins_valid(const char *ins);

struct ses_patient_card {
    int32_t day;                             /* the day it was entered */
    char birth_name[SES_REC_SHORT_MAX + 1];  /* required */
    char given_names[SES_REC_SHORT_MAX + 1]; /* required: all birth given names */
    char first_given[SES_REC_SHORT_MAX + 1]; /* required: the first given name */
    char used_name[SES_REC_SHORT_MAX + 1];   /* optional */
    int32_t birth_day;                       /* required */
    char sex;                                /* 'F', 'M' or 'U' (unknown) */
    enum ses_ins_kind ins_kind;              /* SES_INS_NONE: no INS */
    char ins[SES_INS_LEN + 1];               /* with ins_kind */
    char birth_place[6];                     /* optional INSEE code of the birth place */
};
/* 0, SES_EBAD_FIELD (a missing trait, a bad sex, an INS with a bad key or without its OID, a
 * birth place not 5 characters) or SES_EINVALID_ARG. */
int ses_patient_card_check(const struct ses_patient_card *c);
/* Encodes c as a content-type-6 body; as ses_rec_doc_encode. */
int ses_patient_card_encode(const struct ses_patient_card *c, uint8_t **out, size_t *len);
/* Parses a content-type-6 body; as ses_rec_doc_parse. */
int ses_patient_card_parse(const uint8_t *body, size_t len, struct ses_patient_card *c);

/* The loop's states (collaborative-care.md §5.3). */
enum ses_rec_state {
    SES_REC_SENT = 1,
    SES_REC_ACKNOWLEDGED,
    SES_REC_ACCEPTED,
    SES_REC_MODIFIED,
    SES_REC_DECLINED,
    SES_REC_IMPLEMENTED,
    SES_REC_VERIFIED,
    SES_REC_SUPERSEDED, /* amended by its author: a newer version replaces it */
    SES_REC_STATE_MAX = SES_REC_SUPERSEDED
};
const char *ses_rec_state_name(enum ses_rec_state s);
enum ses_rec_state ses_rec_state_parse(const char *name);

/* What a user does to a recommendation. */
enum ses_rec_event {
    SES_REC_EV_ACK = 1,   /* the addressed GP acknowledges */
    SES_REC_EV_ACCEPT,    /* the addressed GP decides */
    SES_REC_EV_MODIFY,    /* with a reason */
    SES_REC_EV_DECLINE,   /* with a reason */
    SES_REC_EV_IMPLEMENT, /* the addressed GP: prescription or order done */
    SES_REC_EV_VERIFY,    /* a nurse of the thread: confirmed with the patient */
    SES_REC_EV_AMEND,     /* its author: a new version */
};

/* The state machine (states only; who may send each event is the daemon's authorization policy):
 * the state event moves a recommendation in from to. Returns 0 and *to, or SES_EBAD_STATE (not
 * from this state), SES_EINVALID_ARG. Acknowledge from sent; accept, modify, decline from
 * acknowledged; implement from accepted or modified; verify from implemented; amend from any state
 * before implemented (the old version becomes superseded). Pure. */
int ses_rec_transition(enum ses_rec_state from, enum ses_rec_event event, enum ses_rec_state *to)
    __attribute__((warn_unused_result));

#endif
