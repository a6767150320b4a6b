/*
 * gen_export_json.c - runs one C export builder on an input given as JSON, so that the web
 * client's builders (clients/web/src/protocol/export) can be compared byte for byte with the C
 * ones (tests/web/export_*.test.mjs):
 *   gen_export_json pdf|cda|xdm|fhir IN.json OUT
 * IN.json is an ExportInput in the web client's shape (camelCase keys, see
 * clients/web/src/protocol/export): {doc, card, recId, version, threadId, patientRef, state,
 * decision, reason, sentMs, ackedMs, decidedMs, implementedMs, verifiedMs, author: {id, name},
 * gp, nurse, site, orgOid}, doc and card mirroring struct ses_rec_doc and ses_patient_card.
 * Wire names become enums through the protocol's parse functions (an unknown name gives 0, as
 * they do, so the builders' fallback words can be tested); insKind is one of none, nir, nia,
 * nir_test, nia_test. A missing key or null gives "" for a record field and NULL for a pointer
 * of struct exp_input. Exit 0 and OUT written; 1 and the error's name (ses_err_name) on stderr
 * when the builder refuses; 2 on a usage error or a bad JSON input (unreadable, a wrong type, a
 * number out of range, a string too long for its field, more than SES_REC_ITEMS_MAX items).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sesame/err.h"
#include "sesame/recommend.h"
#include "export.h"

/* Everything the input points to. */
struct gen {
    struct ses_rec_doc doc;
    struct ses_patient_card card;
    struct exp_input in;
    const char *bad; /* the first bad key, for the message */
};

static void bad(struct gen *g, const char *key)
{
    if (g->bad == NULL)
        g->bad = key;
}

/* Copies the string member key of o into out (cap bytes); missing or null: "". */
static void get_field(struct gen *g, const json_t *o, const char *key, char *out, size_t cap)
{
    out[0] = '\0';
    const json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v))
        return;
    if (!json_is_string(v) || json_string_length(v) >= cap) {
        bad(g, key);
        return;
    }
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
}

/* The string member key of o (owned by o), or NULL when missing or null. */
static const char *get_ptr(struct gen *g, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (v == NULL || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        bad(g, key);
        return NULL;
    }
    return json_string_value(v);
}

/* The integer member key of o within lo..hi; missing: dflt. */
static long long get_int(struct gen *g, const json_t *o, const char *key, long long lo,
                         long long hi, long long dflt)
{
    const json_t *v = json_object_get(o, key);
    if (v == NULL)
        return dflt;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        bad(g, key);
        return dflt;
    }
    return json_integer_value(v);
}

#define FIELD(g, o, key, arr) get_field((g), (o), (key), (arr), sizeof(arr))
#define I32_MIN (-2147483647LL - 1)
#define I32_MAX 2147483647LL

static void get_party(struct gen *g, const json_t *o, const char *key, struct exp_party *p)
{
    const json_t *v = json_object_get(o, key);
    p->id = p->name = NULL;
    if (v == NULL || json_is_null(v))
        return;
    if (!json_is_object(v)) {
        bad(g, key);
        return;
    }
    p->id = get_ptr(g, v, "id");
    p->name = get_ptr(g, v, "name");
}

static void get_doc(struct gen *g, const json_t *o)
{
    struct ses_rec_doc *d = &g->doc;
    d->day = (int32_t)get_int(g, o, "day", I32_MIN, I32_MAX, 0);
    d->review_day = (int32_t)get_int(g, o, "reviewDay", I32_MIN, I32_MAX, -1);
    const json_t *u = json_object_get(o, "urgent");
    if (u != NULL && !json_is_boolean(u))
        bad(g, "urgent");
    d->urgent = u != NULL && json_is_true(u);
    const char *q = get_ptr(g, o, "questionCode");
    d->question_code = ses_rec_question_parse(q != NULL ? q : "");
    FIELD(g, o, "question", d->question);
    FIELD(g, o, "dataBasis", d->data_basis);
    FIELD(g, o, "safety", d->safety);
    FIELD(g, o, "diagnosis", d->diagnosis);
    const json_t *items = json_object_get(o, "items");
    if (items != NULL && !json_is_null(items)) {
        if (!json_is_array(items) || json_array_size(items) > SES_REC_ITEMS_MAX) {
            bad(g, "items");
        } else {
            d->n_items = json_array_size(items);
            for (size_t i = 0; i < d->n_items; i++) {
                const json_t *v = json_array_get(items, i);
                struct ses_rec_item *it = &d->items[i];
                if (!json_is_object(v)) {
                    bad(g, "items");
                    continue;
                }
                const char *t = get_ptr(g, v, "type");
                it->type = ses_rec_item_type_parse(t != NULL ? t : "");
                FIELD(g, v, "drug", it->drug);
                FIELD(g, v, "dose", it->dose);
                FIELD(g, v, "titration", it->titration);
                FIELD(g, v, "monitoring", it->monitoring);
                FIELD(g, v, "text", it->text);
            }
        }
    }
    FIELD(g, o, "narrative", d->narrative);
    FIELD(g, o, "contingency", d->contingency);
    d->next_review_day = (int32_t)get_int(g, o, "nextReviewDay", I32_MIN, I32_MAX, 0);
    FIELD(g, o, "disclaimer", d->disclaimer);
}

static void get_card(struct gen *g, const json_t *o)
{
    static const char *const kinds[] = {"none", "nir", "nia", "nir_test", "nia_test"};
    struct ses_patient_card *c = &g->card;
    c->day = (int32_t)get_int(g, o, "day", I32_MIN, I32_MAX, 0);
    FIELD(g, o, "birthName", c->birth_name);
    FIELD(g, o, "givenNames", c->given_names);
    FIELD(g, o, "firstGiven", c->first_given);
    FIELD(g, o, "usedName", c->used_name);
    c->birth_day = (int32_t)get_int(g, o, "birthDay", I32_MIN, I32_MAX, 0);
    const char *sex = get_ptr(g, o, "sex");
    if (sex != NULL && strlen(sex) != 1)
        bad(g, "sex");
    c->sex = sex != NULL ? sex[0] : 'U';
    const char *kind = get_ptr(g, o, "insKind");
    c->ins_kind = SES_INS_NONE;
    if (kind != NULL) {
        size_t k = 0;
        while (k < sizeof kinds / sizeof kinds[0] && strcmp(kinds[k], kind) != 0)
            k++;
        if (k == sizeof kinds / sizeof kinds[0])
            bad(g, "insKind");
        else
            c->ins_kind = (enum ses_ins_kind)k;
    }
    FIELD(g, o, "ins", c->ins);
    FIELD(g, o, "birthPlace", c->birth_place);
}

static void get_input(struct gen *g, const json_t *root)
{
    struct exp_input *in = &g->in;
    const json_t *doc = json_object_get(root, "doc");
    if (json_is_object(doc)) {
        get_doc(g, doc);
        in->doc = &g->doc;
    } else if (doc != NULL && !json_is_null(doc)) {
        bad(g, "doc");
    }
    const json_t *card = json_object_get(root, "card");
    if (json_is_object(card)) {
        get_card(g, card);
        in->card = &g->card;
    } else if (card != NULL && !json_is_null(card)) {
        bad(g, "card");
    }
    in->rec_id = get_ptr(g, root, "recId");
    in->version = (int)get_int(g, root, "version", I32_MIN, I32_MAX, 0);
    in->thread_id = get_ptr(g, root, "threadId");
    in->patient_ref = get_ptr(g, root, "patientRef");
    const char *st = get_ptr(g, root, "state");
    in->state = ses_rec_state_parse(st != NULL ? st : "");
    in->decision = get_ptr(g, root, "decision");
    in->reason = get_ptr(g, root, "reason");
    const long long ms_max = 9007199254740991LL; /* what a JS number holds exactly */
    in->sent_ms = get_int(g, root, "sentMs", -ms_max, ms_max, 0);
    in->acked_ms = get_int(g, root, "ackedMs", -ms_max, ms_max, 0);
    in->decided_ms = get_int(g, root, "decidedMs", -ms_max, ms_max, 0);
    in->implemented_ms = get_int(g, root, "implementedMs", -ms_max, ms_max, 0);
    in->verified_ms = get_int(g, root, "verifiedMs", -ms_max, ms_max, 0);
    get_party(g, root, "author", &in->author);
    get_party(g, root, "gp", &in->gp);
    get_party(g, root, "nurse", &in->nurse);
    in->site = get_ptr(g, root, "site");
    in->org_oid = get_ptr(g, root, "orgOid");
}

static int write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        return 2;
    }
    if (fwrite(p, 1, n, f) != n) {
        perror(path);
        fclose(f);
        return 2;
    }
    if (fclose(f) != 0) {
        perror(path);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s pdf|cda|xdm|fhir IN.json OUT\n", argv[0]);
        return 2;
    }
    const char *what = argv[1];
    if (strcmp(what, "pdf") != 0 && strcmp(what, "cda") != 0 && strcmp(what, "xdm") != 0 &&
        strcmp(what, "fhir") != 0) {
        fprintf(stderr, "unknown format %s (pdf, cda, xdm or fhir)\n", what);
        return 2;
    }
    json_error_t jerr;
    json_t *root = json_load_file(argv[2], JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        fprintf(stderr, "%s:%d: %s\n", argv[2], jerr.line, jerr.text);
        return 2;
    }
    if (!json_is_object(root)) {
        fprintf(stderr, "%s: not a JSON object\n", argv[2]);
        json_decref(root);
        return 2;
    }
    struct gen *g = calloc(1, sizeof *g);
    if (g == NULL) {
        json_decref(root);
        return 2;
    }
    get_input(g, root);
    if (g->bad != NULL) {
        fprintf(stderr, "%s: bad value for \"%s\"\n", argv[2], g->bad);
        free(g);
        json_decref(root);
        return 2;
    }
    uint8_t *out = NULL;
    size_t len = 0;
    int rc;
    if (strcmp(what, "pdf") == 0) {
        rc = exp_pdf(&g->in, &out, &len);
    } else if (strcmp(what, "cda") == 0) {
        rc = exp_cda(&g->in, &out, &len);
    } else if (strcmp(what, "xdm") == 0) {
        rc = exp_xdm(&g->in, &out, &len);
    } else {
        char *text = NULL;
        rc = exp_fhir(&g->in, &text);
        out = (uint8_t *)text;
        len = text != NULL ? strlen(text) : 0;
    }
    int ret;
    if (rc != 0) {
        fprintf(stderr, "%s\n", ses_err_name(rc));
        ret = 1;
    } else {
        ret = write_file(argv[3], out, len);
    }
    free(out);
    free(g);
    json_decref(root);
    return ret;
}
