/*
 * export_sample.h - the fixed sample recommendation that test_export and gen_export_sample
 * export: two items (a MED_SWITCH with drug, dose and titration, and a MONITORING), a patient
 * card with a test INS (NIR test OID 1.2.250.1.213.1.4.10, key 97 - (n mod 97)), accepted by the
 * GP. Fill with export_sample(); the strings it points to are static.
 */
#ifndef SESAME_TEST_EXPORT_SAMPLE_H
#define SESAME_TEST_EXPORT_SAMPLE_H

#include <stdio.h>
#include <string.h>

#include "export.h"

struct export_sample {
    struct ses_rec_doc doc;
    struct ses_patient_card card;
    struct exp_input in;
};

#define SAMPLE_INS "2800175123456" /* the 13-digit number; its key is 10 */

static inline void export_sample(struct export_sample *s)
{
    memset(s, 0, sizeof *s);
    struct ses_rec_doc *d = &s->doc;
    d->day = 20524;        /* 2026-03-12 */
    d->review_day = 20522; /* 2026-03-10 */
    d->urgent = false;
    d->question_code = SES_REC_Q_NOT_IMPROVING;
    snprintf(d->question, sizeof d->question, "%s",
             "PHQ-9 still 16 after 10 weeks of sertraline 100 mg: what next?");
    snprintf(d->data_basis, sizeof d->data_basis, "%s",
             "PHQ-9 19 → 17 → 16 over 10 weeks; GAD-7 12. Sertraline 100 mg since week 2, "
             "good adherence reported by the nurse. Item 9 = 0 at every visit (score ≥ 0).");
    snprintf(d->safety, sizeof d->safety, "%s",
             "No suicidal ideation reported (PHQ-9 item 9 = 0); no safety concern today.");
    snprintf(d->diagnosis, sizeof d->diagnosis, "%s",
             "Major depressive episode, moderate, without psychotic features.");
    d->n_items = 2;
    d->items[0].type = SES_REC_MED_SWITCH;
    snprintf(d->items[0].drug, sizeof d->items[0].drug, "%s", "venlafaxine LP");
    snprintf(d->items[0].dose, sizeof d->items[0].dose, "%s", "75 mg once daily");
    snprintf(d->items[0].titration, sizeof d->items[0].titration, "%s",
             "Cross-taper: sertraline 50 mg for 1 week then stop; venlafaxine 37.5 mg for 1 week "
             "then 75 mg.");
    snprintf(d->items[0].monitoring, sizeof d->items[0].monitoring, "%s",
             "Blood pressure at 4 weeks.");
    d->items[1].type = SES_REC_MONITORING;
    snprintf(d->items[1].text, sizeof d->items[1].text, "%s",
             "PHQ-9 every 2 weeks by the care manager; call the psychiatrist if it rises by 5.");
    snprintf(d->narrative, sizeof d->narrative, "%s",
             "Partial response only; a switch to an SNRI is reasonable before augmentation.");
    snprintf(d->contingency, sizeof d->contingency, "%s",
             "If PHQ-9 has not fallen by 5 points in 6 weeks, or on any suicidal ideation, "
             "contact the psychiatrist – same-day review for safety.");
    d->next_review_day = 20552; /* 2026-04-09 */
    snprintf(d->disclaimer, sizeof d->disclaimer, "%s",
             "These recommendations are based on a review of the patient's record and "
             "discussion with the care manager, without a direct examination of the patient. "
             "The treating physician remains responsible for the decision.");

    struct ses_patient_card *c = &s->card;
    c->day = 20500;
    snprintf(c->birth_name, sizeof c->birth_name, "%s", "DUPRÉ");
    snprintf(c->given_names, sizeof c->given_names, "%s", "Élodie Marie");
    snprintf(c->first_given, sizeof c->first_given, "%s", "Élodie");
    snprintf(c->used_name, sizeof c->used_name, "%s", "MARTIN");
    c->birth_day = 3656; /* 1980-01-05 */
    c->sex = 'F';
    c->ins_kind = SES_INS_NIR_TEST;
    snprintf(c->ins, sizeof c->ins, "%s%02d", SAMPLE_INS, 10);
    snprintf(c->birth_place, sizeof c->birth_place, "%s", "75056");

    struct exp_input *in = &s->in;
    in->doc = d;
    in->card = c;
    in->rec_id = "01JQ7ZK4X2M8N5P3R6T9V0W1YA";
    in->version = 1;
    in->thread_id = "01JQ7ZJ0A1B2C3D4E5F6G7H8JK";
    in->patient_ref = "P-0042";
    in->state = SES_REC_ACCEPTED;
    in->decision = "accepted";
    in->reason = NULL;
    in->sent_ms = 1773325800000;    /* 2026-03-12 14:30:00 UTC */
    in->acked_ms = 1773329400000;   /* +1 h */
    in->decided_ms = 1773412200000; /* +1 day */
    in->implemented_ms = 0;
    in->verified_ms = 0;
    in->author = (struct exp_party){"AUTH0RPSYCH1ATR1STXXXXXXXX", "Dr Camille Léger"};
    in->gp = (struct exp_party){"GPGENERALPRACT1T10NERXXXXX", "Dr Jean Moreau"};
    in->nurse = (struct exp_party){"NURSECAREMANAGERXXXXXXXXXX", ""};
    in->site = "Maison de santé des Lilas";
    in->org_oid = "1.2.250.1.999.1";
}

#endif
