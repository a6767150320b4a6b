/*
 * fuzz_recommend.c - libFuzzer target for the recommendation and patient-card codecs
 * (recommend.h), which a client runs on the decrypted body of another member's message (content
 * types 5 and 6): ses_rec_doc_parse, ses_rec_body_problem and ses_patient_card_parse on the whole
 * input, then the checks and encoders on what they accept. The parsers take any key order and
 * layout and ignore unknown keys, so the invariants are the canonical form's; any difference
 * aborts:
 *  - a parse gives 0 or SES_EBAD_FIELD (or SES_ENOMEM); a refused body leaves the struct zeroed;
 *    no body is both a recommendation and a card;
 *  - ses_rec_body_problem is NULL exactly when ses_rec_doc_parse accepts;
 *  - an accepted recommendation passes ses_rec_doc_check (ses_rec_doc_problem NULL), an accepted
 *    card ses_patient_card_check;
 *  - its encoding E parses back to the same struct (compared field by field) and encodes again to
 *    E byte for byte. The encoder may refuse with SES_ETOO_LARGE only when E could not fit: E is
 *    the input without its layout, unknown keys and escapes, plus the generated "text" line
 *    (at most TEXT_GROWTH bytes more than an empty "text"), so only an input within TEXT_GROWTH
 *    bytes of SES_REC_BODY_MAX may give one.
 * Build: cmake -DSESAME_FUZZ=ON -DCMAKE_C_COMPILER=clang; run: build/tests/fuzz/fuzz_recommend
 * -max_total_time=60 (or tests/fuzz/run.sh, which seeds it from protocol/vectors/recommend.json).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesame/err.h"
#include "sesame/recommend.h"

#define FUZZ_NAME "fuzz_recommend"
#include "fuzz_util.h"

/* The longest generated "text": "Recommendation of 9999-12-31 (urgent): 20 items" (47 bytes)
 * and "Patient card (with INS)"; an input's "text" may be "". */
#define TEXT_GROWTH 64

static int same_item(const struct ses_rec_item *a, const struct ses_rec_item *b)
{
    return a->type == b->type && strcmp(a->drug, b->drug) == 0 && strcmp(a->dose, b->dose) == 0 &&
           strcmp(a->titration, b->titration) == 0 && strcmp(a->monitoring, b->monitoring) == 0 &&
           strcmp(a->text, b->text) == 0;
}

static int same_doc(const struct ses_rec_doc *a, const struct ses_rec_doc *b)
{
    if (a->day != b->day || a->review_day != b->review_day || a->urgent != b->urgent ||
        a->question_code != b->question_code || strcmp(a->question, b->question) != 0 ||
        strcmp(a->data_basis, b->data_basis) != 0 || strcmp(a->safety, b->safety) != 0 ||
        strcmp(a->diagnosis, b->diagnosis) != 0 || a->n_items != b->n_items ||
        strcmp(a->narrative, b->narrative) != 0 || strcmp(a->contingency, b->contingency) != 0 ||
        a->next_review_day != b->next_review_day || strcmp(a->disclaimer, b->disclaimer) != 0)
        return 0;
    for (size_t i = 0; i < a->n_items && i < SES_REC_ITEMS_MAX; i++)
        if (!same_item(&a->items[i], &b->items[i]))
            return 0;
    return 1;
}

static int same_card(const struct ses_patient_card *a, const struct ses_patient_card *b)
{
    return a->day == b->day && strcmp(a->birth_name, b->birth_name) == 0 &&
           strcmp(a->given_names, b->given_names) == 0 &&
           strcmp(a->first_given, b->first_given) == 0 && strcmp(a->used_name, b->used_name) == 0 &&
           a->birth_day == b->birth_day && a->sex == b->sex && a->ins_kind == b->ins_kind &&
           strcmp(a->ins, b->ins) == 0 && strcmp(a->birth_place, b->birth_place) == 0;
}

/* Whether an encoder's SES_ETOO_LARGE is possible for an input of size bytes. */
static int may_be_too_large(size_t size)
{
    return size + TEXT_GROWTH > SES_REC_BODY_MAX;
}

/* Returns whether the body is a recommendation. */
static int check_doc(const uint8_t *data, size_t size)
{
    static struct ses_rec_doc d, d2;
    int rc = ses_rec_doc_parse(data, size, &d);
    const char *why = ses_rec_body_problem(data, size);
    if (rc == SES_ENOMEM)
        return 0;
    if (rc != 0 && rc != SES_EBAD_FIELD)
        differ("recommendation parse gives an undocumented code", data, size);
    if ((why == NULL) != (rc == 0))
        differ("ses_rec_body_problem disagrees with ses_rec_doc_parse", data, size);
    if (rc != 0) {
        if (!all_zero(&d, sizeof d))
            differ("refused recommendation leaves a struct", data, size);
        return 0;
    }
    if (ses_rec_doc_check(&d) != 0 || ses_rec_doc_problem(&d) != NULL)
        differ("parsed recommendation fails ses_rec_doc_check", data, size);
    char line[160];
    ses_rec_doc_line(&d, line, sizeof line);

    uint8_t *enc = NULL, *enc2 = NULL;
    size_t n = 0, n2 = 0;
    rc = ses_rec_doc_encode(&d, &enc, &n);
    if (rc == SES_ENOMEM || (rc == SES_ETOO_LARGE && may_be_too_large(size)))
        return 1;
    if (rc != 0 || enc == NULL || n == 0 || n > SES_REC_BODY_MAX)
        differ("parsed recommendation does not encode", data, size);
    if (ses_rec_doc_parse(enc, n, &d2) != 0 || !same_doc(&d, &d2))
        differ("encoded recommendation parses to another one", data, size);
    if (ses_rec_body_problem(enc, n) != NULL)
        differ("encoded recommendation has a problem", data, size);
    if (ses_rec_doc_encode(&d2, &enc2, &n2) != 0 || n2 != n || memcmp(enc, enc2, n) != 0)
        differ("recommendation encoding is not a fixed point", data, size);
    free(enc);
    free(enc2);
    return 1;
}

/* Returns whether the body is a patient card. */
static int check_card(const uint8_t *data, size_t size)
{
    static struct ses_patient_card c, c2;
    int rc = ses_patient_card_parse(data, size, &c);
    if (rc == SES_ENOMEM)
        return 0;
    if (rc != 0 && rc != SES_EBAD_FIELD)
        differ("card parse gives an undocumented code", data, size);
    if (rc != 0) {
        if (!all_zero(&c, sizeof c))
            differ("refused card leaves a struct", data, size);
        return 0;
    }
    if (ses_patient_card_check(&c) != 0)
        differ("parsed card fails ses_patient_card_check", data, size);

    uint8_t *enc = NULL, *enc2 = NULL;
    size_t n = 0, n2 = 0;
    rc = ses_patient_card_encode(&c, &enc, &n);
    if (rc == SES_ENOMEM || (rc == SES_ETOO_LARGE && may_be_too_large(size)))
        return 1;
    if (rc != 0 || enc == NULL || n == 0 || n > SES_REC_BODY_MAX)
        differ("parsed card does not encode", data, size);
    if (ses_patient_card_parse(enc, n, &c2) != 0 || !same_card(&c, &c2))
        differ("encoded card parses to another one", data, size);
    if (ses_patient_card_encode(&c2, &enc2, &n2) != 0 || n2 != n || memcmp(enc, enc2, n) != 0)
        differ("card encoding is not a fixed point", data, size);
    free(enc);
    free(enc2);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int doc = check_doc(data, size);
    int card = check_card(data, size);
    if (doc && card)
        differ("a body parses as a recommendation and as a card", data, size);
    return 0;
}
