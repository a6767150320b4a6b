/*
 * test_recommend.c - the recommendation loop's state machine (every state × every event), the
 * recommendation and patient-card codecs (round trip, each required part, the limits at their
 * boundary) and the INS key check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sesame/err.h"
#include "sesame/recommend.h"
#include "sesame/scales.h"

/* The whole table: the state each event leads to from each state, 0 = BAD_STATE. */
static void test_transitions(void **state)
{
    (void)state;
    enum { S = SES_REC_SENT, K = SES_REC_ACKNOWLEDGED, A = SES_REC_ACCEPTED, M = SES_REC_MODIFIED };
    enum { D = SES_REC_DECLINED, I = SES_REC_IMPLEMENTED, V = SES_REC_VERIFIED };
    enum { X = SES_REC_SUPERSEDED };
    /* rows: from sent .. superseded; columns: ack accept modify decline implement verify amend */
    static const int want[8][7] = {
        {K, 0, 0, 0, 0, 0, X}, /* sent */
        {0, A, M, D, 0, 0, X}, /* acknowledged */
        {0, 0, 0, 0, I, 0, X}, /* accepted */
        {0, 0, 0, 0, I, 0, X}, /* modified */
        {0, 0, 0, 0, 0, 0, X}, /* declined */
        {0, 0, 0, 0, 0, V, 0}, /* implemented */
        {0, 0, 0, 0, 0, 0, 0}, /* verified */
        {0, 0, 0, 0, 0, 0, 0}, /* superseded */
    };
    for (int from = SES_REC_SENT; from <= SES_REC_STATE_MAX; from++)
        for (int ev = SES_REC_EV_ACK; ev <= SES_REC_EV_AMEND; ev++) {
            enum ses_rec_state to = 0;
            int rc = ses_rec_transition((enum ses_rec_state)from, (enum ses_rec_event)ev, &to);
            int w = want[from - 1][ev - 1];
            if (w == 0) {
                assert_int_equal(rc, SES_EBAD_STATE);
                assert_int_equal(to, 0);
            } else {
                assert_int_equal(rc, 0);
                assert_int_equal(to, w);
            }
        }
    enum ses_rec_state to;
    assert_int_equal(ses_rec_transition(0, SES_REC_EV_ACK, &to), SES_EINVALID_ARG);
    assert_int_equal(ses_rec_transition(SES_REC_SENT, 99, &to), SES_EINVALID_ARG);
    for (int s = 1; s <= SES_REC_STATE_MAX; s++)
        assert_int_equal(ses_rec_state_parse(ses_rec_state_name((enum ses_rec_state)s)), s);
    assert_null(ses_rec_state_name(SES_REC_STATE_MAX + 1));
}

static void sample(struct ses_rec_doc *d)
{
    memset(d, 0, sizeof *d);
    assert_int_equal(ses_day_parse("2026-12-03", &d->day), 0);
    assert_int_equal(ses_day_parse("2026-12-02", &d->review_day), 0);
    assert_int_equal(ses_day_parse("2027-01-07", &d->next_review_day), 0);
    d->question_code = SES_REC_Q_NOT_IMPROVING;
    strcpy(d->question, "PHQ-9 not 50 % lower after 10 weeks on sertraline");
    strcpy(d->data_basis, "PHQ-9 19 → 16 over 10 weeks; sertraline 100 mg; good adherence");
    strcpy(d->safety, "No suicidal ideation reported (item 9 = 0 for 6 weeks)");
    d->n_items = 2;
    d->items[0].type = SES_REC_MED_SWITCH;
    strcpy(d->items[0].drug, "escitalopram");
    strcpy(d->items[0].dose, "10 mg once daily");
    strcpy(d->items[0].titration, "cross-taper over 2 weeks, then 20 mg if tolerated");
    d->items[1].type = SES_REC_MONITORING;
    strcpy(d->items[1].text, "PHQ-9 every 2 weeks");
    strcpy(d->contingency, "If PHQ-9 has not fallen by 50 % at week 8: refer to psychiatry");
    strcpy(d->disclaimer, ses_rec_disclaimer_default());
}

static void test_doc_round_trip(void **state)
{
    (void)state;
    struct ses_rec_doc d, back;
    sample(&d);
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_equal(ses_rec_doc_encode(&d, &body, &len), 0);
    const char *head = "{\"v\":1,\"kind\":\"recommendation\",\"date\":\"2026-12-03\","
                       "\"review_date\":\"2026-12-02\",\"urgency\":\"routine\","
                       "\"question_code\":\"not_improving\",";
    assert_memory_equal(body, head, strlen(head));
    assert_non_null(strstr((char *)body, "\"text\":\"Recommendation of 2026-12-03: 2 items\"}"));
    assert_int_equal(ses_rec_doc_parse(body, len, &back), 0);
    assert_memory_equal(&d, &back, sizeof d);
    free(body);

    d.review_day = -1;
    d.urgent = true;
    assert_int_equal(ses_rec_doc_encode(&d, &body, &len), 0);
    assert_null(strstr((char *)body, "review_date"));
    assert_int_equal(ses_rec_doc_parse(body, len, &back), 0);
    assert_int_equal(back.review_day, -1);
    assert_true(back.urgent);
    free(body);
}

/* Each refusal leaves the check at BAD_FIELD. */
static void test_doc_refusals(void **state)
{
    (void)state;
    struct ses_rec_doc d;
#define REFUSE(stmt)                                                                               \
    do {                                                                                           \
        sample(&d);                                                                                \
        stmt;                                                                                      \
        assert_int_equal(ses_rec_doc_check(&d), SES_EBAD_FIELD);                                   \
        assert_non_null(ses_rec_doc_problem(&d));                                                  \
    } while (0)
    REFUSE(d.safety[0] = '\0');
    assert_string_equal(ses_rec_doc_problem(&d),
                        "the safety statement is missing or too long (1000 bytes at most)");
    REFUSE(d.items[0].dose[0] = '\0');
    assert_string_equal(ses_rec_doc_problem(&d), "a medication item (but MED_STOP) has no dose");
    REFUSE(d.question[0] = '\0');
    REFUSE(d.data_basis[0] = '\0');
    REFUSE(d.contingency[0] = '\0');
    REFUSE(d.disclaimer[0] = '\0');
    REFUSE(d.items[0].drug[0] = '\0');
    REFUSE(d.items[0].dose[0] = '\0');
    REFUSE(d.items[1].text[0] = '\0');
    REFUSE(d.items[1].type = 0);
    REFUSE(d.items[1].type = SES_REC_ITEM_TYPE_MAX + 1);
    REFUSE(d.question_code = 0);
    REFUSE(d.n_items = 0);
    REFUSE(d.n_items = SES_REC_ITEMS_MAX + 1);
    REFUSE(d.next_review_day = d.day - 1);
    REFUSE(d.safety[0] = (char)0xC3);               /* a cut UTF-8 sequence */
    REFUSE(memset(d.safety, 'x', sizeof d.safety)); /* no room for the NUL: too long */
    /* the boundaries themselves pass */
    sample(&d);
    memset(d.safety, 'x', SES_REC_TEXT_MAX);
    d.safety[SES_REC_TEXT_MAX] = '\0';
    assert_int_equal(ses_rec_doc_check(&d), 0);
    assert_null(ses_rec_doc_problem(&d));
    sample(&d);
    d.items[0].type = SES_REC_MED_STOP;
    d.items[0].dose[0] = '\0';
    assert_int_equal(ses_rec_doc_check(&d), 0);
    sample(&d);
    d.n_items = 0;
    strcpy(d.narrative, "Free-text recommendation");
    assert_int_equal(ses_rec_doc_check(&d), 0);
    sample(&d);
    d.n_items = SES_REC_ITEMS_MAX;
    for (size_t i = 2; i < SES_REC_ITEMS_MAX; i++)
        d.items[i] = d.items[1];
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_equal(ses_rec_doc_encode(&d, &body, &len), 0);
    free(body);
#undef REFUSE
}

static void test_doc_parse_refusals(void **state)
{
    (void)state;
    struct ses_rec_doc d;
    static const char *const bad[] = {
        "",
        "[]",
        "{\"v\":1,\"kind\":\"recommendation\"}",
        "{\"v\":2,\"kind\":\"recommendation\",\"text\":\"x\"}",
        "{\"v\":1,\"kind\":\"rp_plan\",\"text\":\"x\"}",
        "{\"v\":1,\"v\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ses_rec_doc_parse((const uint8_t *)bad[i], strlen(bad[i]), &d),
                         SES_EBAD_FIELD);
    /* a valid body with one field broken at a time */
    struct ses_rec_doc ok;
    sample(&ok);
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_equal(ses_rec_doc_encode(&ok, &body, &len), 0);
    static const char *const breaks[][2] = {
        {"\"urgency\":\"routine\"", "\"urgency\":\"soon!!!\""},
        {"\"type\":\"MED_SWITCH\"", "\"type\":\"MED_WHATEVER\""},
        {"\"next_review\":\"2027-01-07\"", "\"next_review\":\"2027-02-30\""},
        {"\"items\":[", "\"items\":{\"a\":[]},\"x\":["},
    };
    for (size_t i = 0; i < sizeof breaks / sizeof breaks[0]; i++) {
        char *s = malloc(len + 64);
        const char *at = strstr((char *)body, breaks[i][0]);
        assert_non_null(at);
        size_t pre = (size_t)(at - (char *)body);
        snprintf(s, len + 64, "%.*s%s%s", (int)pre, (char *)body, breaks[i][1],
                 at + strlen(breaks[i][0]));
        assert_int_equal(ses_rec_doc_parse((uint8_t *)s, strlen(s), &d), SES_EBAD_FIELD);
        free(s);
    }
    assert_int_equal(ses_rec_doc_parse(body, SES_REC_BODY_MAX + 1, &d), SES_EBAD_FIELD);
    free(body);
}

static void card(struct ses_patient_card *c)
{
    memset(c, 0, sizeof *c);
    assert_int_equal(ses_day_parse("2026-12-01", &c->day), 0);
    assert_int_equal(ses_day_parse("1980-04-12", &c->birth_day), 0);
    strcpy(c->birth_name, "DUPONT");
    strcpy(c->given_names, "MARIE CLAIRE");
    strcpy(c->first_given, "MARIE");
    c->sex = 'F';
    c->ins_kind = SES_INS_NIR_TEST;
    strcpy(c->ins, "280047512345658");
    strcpy(c->birth_place, "75056");
}

static void test_ins(void **state)
{
    (void)state;
    assert_true(ses_ins_valid("280047512345658"));
    assert_false(ses_ins_valid("280047512345659")); /* wrong key */
    assert_false(ses_ins_valid("28004751234565"));  /* 14 characters */
    assert_false(ses_ins_valid("2800475123456580"));
    assert_true(ses_ins_valid("155122A12345663")); /* Corsica: 2A reads 19 */
    assert_true(ses_ins_valid("155122B12345690")); /* 2B reads 18 */
    assert_false(ses_ins_valid("155122C12345690"));
    assert_false(ses_ins_valid("15512A212345663"));
    assert_string_equal(ses_ins_oid(SES_INS_NIR), "1.2.250.1.213.1.4.8");
    assert_int_equal(ses_ins_kind_of_oid("1.2.250.1.213.1.4.11"), SES_INS_NIA_TEST);
    assert_int_equal(ses_ins_kind_of_oid("1.2.250.1.213.1.4.12"), SES_INS_NONE);
}

static void test_card(void **state)
{
    (void)state;
    struct ses_patient_card c, back;
    card(&c);
    uint8_t *body = NULL;
    size_t len = 0;
    assert_int_equal(ses_patient_card_encode(&c, &body, &len), 0);
    assert_int_equal(ses_patient_card_parse(body, len, &back), 0);
    assert_memory_equal(&c, &back, sizeof c);
    free(body);
    /* without an INS */
    c.ins_kind = SES_INS_NONE;
    c.ins[0] = '\0';
    assert_int_equal(ses_patient_card_encode(&c, &body, &len), 0);
    assert_null(strstr((char *)body, "ins"));
    assert_int_equal(ses_patient_card_parse(body, len, &back), 0);
    assert_int_equal(back.ins_kind, SES_INS_NONE);
    free(body);
#define REFUSE(stmt)                                                                               \
    do {                                                                                           \
        card(&c);                                                                                  \
        stmt;                                                                                      \
        assert_int_equal(ses_patient_card_check(&c), SES_EBAD_FIELD);                              \
    } while (0)
    REFUSE(c.birth_name[0] = '\0');
    REFUSE(c.first_given[0] = '\0');
    REFUSE(c.sex = 'X');
    REFUSE(c.ins[14] = '9');
    REFUSE(c.ins_kind = SES_INS_NONE);
    REFUSE(c.ins[0] = '\0');
    REFUSE(strcpy(c.birth_place, "7505"));
    REFUSE(c.birth_day = c.day + 1);
#undef REFUSE
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),  cmocka_unit_test(test_doc_round_trip),
        cmocka_unit_test(test_doc_refusals), cmocka_unit_test(test_doc_parse_refusals),
        cmocka_unit_test(test_ins),          cmocka_unit_test(test_card),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
