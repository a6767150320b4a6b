/*
 * recommend.c - the recommendation and patient-card records (content types 5 and 6, PROTOCOL.md
 * §16), the INS check and the recommendation loop's state machine. See recommend.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sesame/codec.h"
#include "sesame/err.h"
#include "sesame/limits.h"
#include "sesame/recommend.h"
#include "sesame/scales.h"

/* --- names ----------------------------------------------------------------------------------- */

static const char *const item_names[] = {
    NULL,  "MED_START",     "MED_DOSE_CHANGE", "MED_SWITCH", "MED_AUGMENT", "MED_STOP",
    "LAB", "PSYCHOTHERAPY", "REFERRAL",        "GP_VISIT",   "MONITORING",
};
static const char *const question_names[] = {
    NULL, "new_patient", "not_improving", "safety", "request", "decision_point", "other",
};
static const char *const state_names[] = {
    NULL,       "sent",        "acknowledged", "accepted",   "modified",
    "declined", "implemented", "verified",     "superseded",
};

static int name_index(const char *const *names, int max, const char *name)
{
    if (name == NULL)
        return 0;
    for (int i = 1; i <= max; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return 0;
}

const char *ses_rec_item_type_name(enum ses_rec_item_type t)
{
    return (int)t >= 1 && t <= SES_REC_ITEM_TYPE_MAX ? item_names[t] : NULL;
}

enum ses_rec_item_type ses_rec_item_type_parse(const char *name)
{
    return (enum ses_rec_item_type)name_index(item_names, SES_REC_ITEM_TYPE_MAX, name);
}

bool ses_rec_item_is_med(enum ses_rec_item_type t)
{
    return t >= SES_REC_MED_START && t <= SES_REC_MED_STOP;
}

const char *ses_rec_question_name(enum ses_rec_question q)
{
    return (int)q >= 1 && q <= SES_REC_Q_MAX ? question_names[q] : NULL;
}

enum ses_rec_question ses_rec_question_parse(const char *name)
{
    return (enum ses_rec_question)name_index(question_names, SES_REC_Q_MAX, name);
}

const char *ses_rec_state_name(enum ses_rec_state s)
{
    return (int)s >= 1 && s <= SES_REC_STATE_MAX ? state_names[s] : NULL;
}

enum ses_rec_state ses_rec_state_parse(const char *name)
{
    return (enum ses_rec_state)name_index(state_names, SES_REC_STATE_MAX, name);
}

const char *ses_rec_disclaimer_default(void)
{
    return "These recommendations rest on the care manager's presentation and the registry "
           "information; the psychiatric consultant has not examined the patient. This indirect "
           "consultation creates no physician-patient relationship: the treating physician "
           "decides and prescribes.";
}

/* --- checks ---------------------------------------------------------------------------------- */

/* Whether the string field s (array of cap bytes) holds 0..max bytes of valid UTF-8; required:
 * at least one. */
static bool text_ok(const char *s, size_t cap, size_t max, bool required)
{
    size_t n = strnlen(s, cap);
    if (n == cap || n > max || (required && n == 0))
        return false;
    return ses_utf8_valid(s, n);
}

#define TEXT_OK(field, max, req) text_ok((field), sizeof(field), (max), (req))

static bool day_ok(int32_t day)
{
    return day >= SES_DAY_MIN && day <= SES_DAY_MAX;
}

/* The first problem of one item, or NULL. */
static const char *item_problem(const struct ses_rec_item *it)
{
    if (ses_rec_item_type_name(it->type) == NULL)
        return "an item has an unknown type";
    if (!TEXT_OK(it->drug, SES_REC_SHORT_MAX, false) ||
        !TEXT_OK(it->dose, SES_REC_SHORT_MAX, false))
        return "an item's drug or dose is too long (120 bytes at most) or not UTF-8";
    if (!TEXT_OK(it->titration, SES_REC_TEXT_MAX, false) ||
        !TEXT_OK(it->monitoring, SES_REC_TEXT_MAX, false) ||
        !TEXT_OK(it->text, SES_REC_TEXT_MAX, false))
        return "an item's titration, monitoring or text is too long (1000 bytes at most) or not "
               "UTF-8";
    if (ses_rec_item_is_med(it->type) && it->drug[0] == '\0')
        return "a medication item has no drug";
    if (ses_rec_item_is_med(it->type) && it->type != SES_REC_MED_STOP && it->dose[0] == '\0')
        return "a medication item (but MED_STOP) has no dose";
    if (!ses_rec_item_is_med(it->type) && it->text[0] == '\0')
        return "an item that is not a medication has no text";
    return NULL;
}

const char *ses_rec_doc_problem(const struct ses_rec_doc *d)
{
    if (d == NULL)
        return "no recommendation";
    if (!day_ok(d->day) || (d->review_day != -1 && !day_ok(d->review_day)))
        return "its date or review date is out of range";
    if (!day_ok(d->next_review_day) || d->next_review_day < d->day)
        return "the next review date is missing or before the recommendation's date";
    if (ses_rec_question_name(d->question_code) == NULL)
        return "the question code is not one of new_patient, not_improving, safety, request, "
               "decision_point, other";
    if (!TEXT_OK(d->question, SES_REC_TEXT_MAX, true))
        return "the question addressed is missing or too long (1000 bytes at most)";
    if (!TEXT_OK(d->data_basis, SES_REC_LONG_MAX, true))
        return "the data basis is missing or too long (2000 bytes at most)";
    if (!TEXT_OK(d->safety, SES_REC_TEXT_MAX, true))
        return "the safety statement is missing or too long (1000 bytes at most)";
    if (!TEXT_OK(d->diagnosis, SES_REC_TEXT_MAX, false))
        return "the diagnosis is too long (1000 bytes at most)";
    if (!TEXT_OK(d->narrative, SES_REC_LONG_MAX, false))
        return "the narrative is too long (2000 bytes at most)";
    if (!TEXT_OK(d->contingency, SES_REC_TEXT_MAX, true))
        return "the contingency plan is missing or too long (1000 bytes at most)";
    if (!TEXT_OK(d->disclaimer, SES_REC_LONG_MAX, true))
        return "the disclaimer is missing or too long (2000 bytes at most)";
    if (d->n_items > SES_REC_ITEMS_MAX)
        return "more than 20 items";
    if (d->n_items == 0 && d->narrative[0] == '\0')
        return "no item and no narrative";
    for (size_t i = 0; i < d->n_items; i++) {
        const char *why = item_problem(&d->items[i]);
        if (why != NULL)
            return why;
    }
    return NULL;
}

int ses_rec_doc_check(const struct ses_rec_doc *d)
{
    if (d == NULL)
        return SES_EINVALID_ARG;
    return ses_rec_doc_problem(d) == NULL ? 0 : SES_EBAD_FIELD;
}

static const char *const ins_oids[] = {
    NULL,
    "1.2.250.1.213.1.4.8",
    "1.2.250.1.213.1.4.9",
    "1.2.250.1.213.1.4.10",
    "1.2.250.1.213.1.4.11",
};

const char *ses_ins_oid(enum ses_ins_kind k)
{
    return (int)k >= SES_INS_NIR && k <= SES_INS_NIA_TEST ? ins_oids[k] : NULL;
}

enum ses_ins_kind ses_ins_kind_of_oid(const char *oid)
{
    return (enum ses_ins_kind)name_index(ins_oids, SES_INS_NIA_TEST, oid);
}

bool ses_ins_valid(const char *ins)
{
    if (ins == NULL || strlen(ins) != SES_INS_LEN)
        return false;
    /* the key is 97 - (the 13-character number mod 97), Corsica's 2A and 2B read as 19 and 18 */
    char digits[SES_INS_LEN + 1];
    memcpy(digits, ins, sizeof digits);
    if (digits[5] == '2' && (digits[6] == 'A' || digits[6] == 'B')) {
        digits[5] = '1';
        digits[6] = digits[6] == 'A' ? '9' : '8';
    }
    uint64_t mod = 0;
    for (int i = 0; i < SES_INS_LEN; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            return false;
        if (i < 13)
            mod = (mod * 10 + (uint64_t)(digits[i] - '0')) % 97;
    }
    int key = (digits[13] - '0') * 10 + (digits[14] - '0');
    return key == (int)(97 - mod);
}

int ses_patient_card_check(const struct ses_patient_card *c)
{
    if (c == NULL)
        return SES_EINVALID_ARG;
    if (!day_ok(c->day) || !day_ok(c->birth_day) || c->birth_day > c->day)
        return SES_EBAD_FIELD;
    if (!TEXT_OK(c->birth_name, SES_REC_SHORT_MAX, true) ||
        !TEXT_OK(c->given_names, SES_REC_SHORT_MAX, true) ||
        !TEXT_OK(c->first_given, SES_REC_SHORT_MAX, true) ||
        !TEXT_OK(c->used_name, SES_REC_SHORT_MAX, false))
        return SES_EBAD_FIELD;
    if (c->sex != 'F' && c->sex != 'M' && c->sex != 'U')
        return SES_EBAD_FIELD;
    if (c->ins_kind == SES_INS_NONE ? c->ins[0] != '\0'
                                    : ses_ins_oid(c->ins_kind) == NULL || !ses_ins_valid(c->ins))
        return SES_EBAD_FIELD;
    size_t bp = strnlen(c->birth_place, sizeof c->birth_place);
    if (bp != 0 && bp != 5)
        return SES_EBAD_FIELD;
    for (size_t i = 0; i < bp; i++)
        if (!((c->birth_place[i] >= '0' && c->birth_place[i] <= '9') ||
              (i == 1 && (c->birth_place[i] == 'A' || c->birth_place[i] == 'B'))))
            return SES_EBAD_FIELD;
    return 0;
}

/* --- state machine --------------------------------------------------------------------------- */

int ses_rec_transition(enum ses_rec_state from, enum ses_rec_event event, enum ses_rec_state *to)
{
    if (to == NULL || ses_rec_state_name(from) == NULL)
        return SES_EINVALID_ARG;
    enum ses_rec_state next = 0;
    switch (event) {
    case SES_REC_EV_ACK:
        next = from == SES_REC_SENT ? SES_REC_ACKNOWLEDGED : 0;
        break;
    case SES_REC_EV_ACCEPT:
    case SES_REC_EV_MODIFY:
    case SES_REC_EV_DECLINE:
        if (from == SES_REC_ACKNOWLEDGED)
            next = event == SES_REC_EV_ACCEPT   ? SES_REC_ACCEPTED
                   : event == SES_REC_EV_MODIFY ? SES_REC_MODIFIED
                                                : SES_REC_DECLINED;
        break;
    case SES_REC_EV_IMPLEMENT:
        next = from == SES_REC_ACCEPTED || from == SES_REC_MODIFIED ? SES_REC_IMPLEMENTED : 0;
        break;
    case SES_REC_EV_VERIFY:
        next = from == SES_REC_IMPLEMENTED ? SES_REC_VERIFIED : 0;
        break;
    case SES_REC_EV_AMEND:
        next = from <= SES_REC_DECLINED ? SES_REC_SUPERSEDED : 0;
        break;
    default:
        return SES_EINVALID_ARG;
    }
    if (next == 0)
        return SES_EBAD_STATE;
    *to = next;
    return 0;
}

/* --- encoding -------------------------------------------------------------------------------- */

static int set_str(json_t *o, const char *key, const char *s)
{
    return json_object_set_new(o, key, json_string(s));
}

static int set_opt(json_t *o, const char *key, const char *s)
{
    return s[0] == '\0' ? 0 : set_str(o, key, s);
}

static int set_day(json_t *o, const char *key, int32_t day)
{
    char buf[11];
    ses_day_format(day, buf);
    return set_str(o, key, buf);
}

/* Serialises root compactly in insertion order into *out (bounded by SES_REC_BODY_MAX); consumes
 * root. */
static int dump_body(json_t *root, int rc, uint8_t **out, size_t *len)
{
    char *s = rc == 0 && root != NULL ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(root);
    if (s == NULL)
        return SES_ENOMEM;
    size_t n = strlen(s);
    if (n > SES_REC_BODY_MAX) {
        free(s);
        return SES_ETOO_LARGE;
    }
    *out = (uint8_t *)s;
    *len = n;
    return 0;
}

void ses_rec_doc_line(const struct ses_rec_doc *d, char *out, size_t cap)
{
    char day[11];
    ses_day_format(d->day, day);
    snprintf(out, cap, "Recommendation of %s%s: %zu item%s", day, d->urgent ? " (urgent)" : "",
             d->n_items, d->n_items == 1 ? "" : "s");
}

static json_t *item_json(const struct ses_rec_item *it)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    int rc = set_str(o, "type", ses_rec_item_type_name(it->type));
    rc |= set_opt(o, "drug", it->drug);
    rc |= set_opt(o, "dose", it->dose);
    rc |= set_opt(o, "titration", it->titration);
    rc |= set_opt(o, "monitoring", it->monitoring);
    rc |= set_opt(o, "text", it->text);
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int ses_rec_doc_encode(const struct ses_rec_doc *d, uint8_t **out, size_t *len)
{
    if (out == NULL || len == NULL)
        return SES_EINVALID_ARG;
    int rc = ses_rec_doc_check(d);
    if (rc != 0)
        return rc;
    json_t *o = json_object(), *items = json_array();
    if (o == NULL || items == NULL) {
        json_decref(o);
        json_decref(items);
        return SES_ENOMEM;
    }
    rc = json_object_set_new(o, "v", json_integer(1));
    rc |= set_str(o, "kind", "recommendation");
    rc |= set_day(o, "date", d->day);
    if (d->review_day >= 0)
        rc |= set_day(o, "review_date", d->review_day);
    rc |= set_str(o, "urgency", d->urgent ? "urgent" : "routine");
    rc |= set_str(o, "question_code", ses_rec_question_name(d->question_code));
    rc |= set_str(o, "question", d->question);
    rc |= set_str(o, "data_basis", d->data_basis);
    rc |= set_str(o, "safety", d->safety);
    rc |= set_opt(o, "diagnosis", d->diagnosis);
    for (size_t i = 0; i < d->n_items; i++)
        rc |= json_array_append_new(items, item_json(&d->items[i]));
    rc |= json_object_set_new(o, "items", items);
    rc |= set_opt(o, "narrative", d->narrative);
    rc |= set_str(o, "contingency", d->contingency);
    rc |= set_day(o, "next_review", d->next_review_day);
    rc |= set_str(o, "disclaimer", d->disclaimer);
    char line[128];
    ses_rec_doc_line(d, line, sizeof line);
    rc |= set_str(o, "text", line);
    return dump_body(o, rc, out, len);
}

int ses_patient_card_encode(const struct ses_patient_card *c, uint8_t **out, size_t *len)
{
    if (out == NULL || len == NULL)
        return SES_EINVALID_ARG;
    int rc = ses_patient_card_check(c);
    if (rc != 0)
        return rc;
    json_t *o = json_object();
    if (o == NULL)
        return SES_ENOMEM;
    char sex[2] = {c->sex, '\0'};
    rc = json_object_set_new(o, "v", json_integer(1));
    rc |= set_str(o, "kind", "patient_card");
    rc |= set_day(o, "date", c->day);
    rc |= set_str(o, "birth_name", c->birth_name);
    rc |= set_str(o, "given_names", c->given_names);
    rc |= set_str(o, "first_given", c->first_given);
    rc |= set_opt(o, "used_name", c->used_name);
    rc |= set_day(o, "birth_date", c->birth_day);
    rc |= set_str(o, "sex", sex);
    if (c->ins_kind != SES_INS_NONE) {
        rc |= set_str(o, "ins", c->ins);
        rc |= set_str(o, "ins_oid", ses_ins_oid(c->ins_kind));
    }
    rc |= set_opt(o, "birth_place", c->birth_place);
    rc |=
        set_str(o, "text",
                c->ins_kind != SES_INS_NONE ? "Patient card (with INS)" : "Patient card (no INS)");
    return dump_body(o, rc, out, len);
}

/* --- parsing --------------------------------------------------------------------------------- */

/* Copies the string member key of o into out (cap bytes). Absent: "" (refused when required). A
 * non-string, an embedded NUL or too long a string is refused. */
static bool get_text(json_t *o, const char *key, char *out, size_t cap, bool required)
{
    out[0] = '\0';
    json_t *v = json_object_get(o, key);
    if (v == NULL)
        return !required;
    if (!json_is_string(v))
        return false;
    size_t n = json_string_length(v);
    if (n >= cap || memchr(json_string_value(v), 0, n) != NULL)
        return false;
    memcpy(out, json_string_value(v), n);
    out[n] = '\0';
    return !required || n > 0;
}

#define GET_TEXT(o, key, field, req) get_text((o), (key), (field), sizeof(field), (req))

static bool get_day(json_t *o, const char *key, int32_t *day, bool required)
{
    json_t *v = json_object_get(o, key);
    if (v == NULL) {
        *day = -1;
        return !required;
    }
    return json_is_string(v) && ses_day_parse(json_string_value(v), day) == 0;
}

static bool header_ok(json_t *root, const char *kind)
{
    json_t *v = json_object_get(root, "v"), *k = json_object_get(root, "kind");
    return json_is_integer(v) && json_integer_value(v) == 1 && json_is_string(k) &&
           strcmp(json_string_value(k), kind) == 0 && json_is_string(json_object_get(root, "text"));
}

/* Loads body as one JSON object within the limits, or NULL. */
static json_t *load_body(const uint8_t *body, size_t len)
{
    if (body == NULL || len == 0 || len > SES_REC_BODY_MAX ||
        ses_json_depth((const char *)body, len, SES_MAX_JSON_DEPTH) > SES_MAX_JSON_DEPTH)
        return NULL;
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root != NULL && !json_is_object(root)) {
        json_decref(root);
        root = NULL;
    }
    return root;
}

static bool parse_item(json_t *o, struct ses_rec_item *it)
{
    if (!json_is_object(o))
        return false;
    json_t *t = json_object_get(o, "type");
    it->type = json_is_string(t) ? ses_rec_item_type_parse(json_string_value(t)) : 0;
    return it->type != 0 && GET_TEXT(o, "drug", it->drug, false) &&
           GET_TEXT(o, "dose", it->dose, false) && GET_TEXT(o, "titration", it->titration, false) &&
           GET_TEXT(o, "monitoring", it->monitoring, false) && GET_TEXT(o, "text", it->text, false);
}

static bool parse_doc(json_t *root, struct ses_rec_doc *d)
{
    if (!header_ok(root, "recommendation"))
        return false;
    json_t *u = json_object_get(root, "urgency"), *q = json_object_get(root, "question_code");
    if (!json_is_string(u) || !json_is_string(q))
        return false;
    if (strcmp(json_string_value(u), "urgent") == 0)
        d->urgent = true;
    else if (strcmp(json_string_value(u), "routine") != 0)
        return false;
    d->question_code = ses_rec_question_parse(json_string_value(q));
    if (!get_day(root, "date", &d->day, true) ||
        !get_day(root, "review_date", &d->review_day, false) ||
        !get_day(root, "next_review", &d->next_review_day, true))
        return false;
    if (!GET_TEXT(root, "question", d->question, true) ||
        !GET_TEXT(root, "data_basis", d->data_basis, true) ||
        !GET_TEXT(root, "safety", d->safety, true) ||
        !GET_TEXT(root, "diagnosis", d->diagnosis, false) ||
        !GET_TEXT(root, "narrative", d->narrative, false) ||
        !GET_TEXT(root, "contingency", d->contingency, true) ||
        !GET_TEXT(root, "disclaimer", d->disclaimer, true))
        return false;
    json_t *items = json_object_get(root, "items");
    if (!json_is_array(items) || json_array_size(items) > SES_REC_ITEMS_MAX)
        return false;
    d->n_items = json_array_size(items);
    for (size_t i = 0; i < d->n_items; i++)
        if (!parse_item(json_array_get(items, i), &d->items[i]))
            return false;
    return true;
}

const char *ses_rec_body_problem(const uint8_t *body, size_t len)
{
    json_t *root = load_body(body, len);
    if (root == NULL)
        return "it is not one JSON object within 16384 bytes";
    struct ses_rec_doc *d = calloc(1, sizeof *d);
    const char *why = d == NULL ? "out of memory"
                      : !parse_doc(root, d)
                          ? "a part is missing or of the wrong type (v 1, kind \"recommendation\", "
                            "texts are strings, dates YYYY-MM-DD, urgency routine or urgent, items "
                            "an array of objects with a known type)"
                          : ses_rec_doc_problem(d);
    json_decref(root);
    if (d != NULL)
        memset(d, 0, sizeof *d);
    free(d);
    return why;
}

int ses_rec_doc_parse(const uint8_t *body, size_t len, struct ses_rec_doc *d)
{
    if (d == NULL)
        return SES_EINVALID_ARG;
    memset(d, 0, sizeof *d);
    json_t *root = load_body(body, len);
    bool ok = root != NULL && parse_doc(root, d) && ses_rec_doc_check(d) == 0;
    json_decref(root);
    if (!ok) {
        memset(d, 0, sizeof *d);
        return SES_EBAD_FIELD;
    }
    return 0;
}

static bool parse_card(json_t *root, struct ses_patient_card *c)
{
    if (!header_ok(root, "patient_card"))
        return false;
    if (!get_day(root, "date", &c->day, true) || !get_day(root, "birth_date", &c->birth_day, true))
        return false;
    char sex[4], oid[32];
    if (!GET_TEXT(root, "birth_name", c->birth_name, true) ||
        !GET_TEXT(root, "given_names", c->given_names, true) ||
        !GET_TEXT(root, "first_given", c->first_given, true) ||
        !GET_TEXT(root, "used_name", c->used_name, false) || !GET_TEXT(root, "sex", sex, true) ||
        !GET_TEXT(root, "ins", c->ins, false) || !GET_TEXT(root, "ins_oid", oid, false) ||
        !GET_TEXT(root, "birth_place", c->birth_place, false))
        return false;
    if (strlen(sex) != 1)
        return false;
    c->sex = sex[0];
    c->ins_kind = ses_ins_kind_of_oid(oid);
    return (oid[0] == '\0') == (c->ins[0] == '\0') && (oid[0] == '\0' || c->ins_kind != 0);
}

int ses_patient_card_parse(const uint8_t *body, size_t len, struct ses_patient_card *c)
{
    if (c == NULL)
        return SES_EINVALID_ARG;
    memset(c, 0, sizeof *c);
    json_t *root = load_body(body, len);
    bool ok = root != NULL && parse_card(root, c) && ses_patient_card_check(c) == 0;
    json_decref(root);
    if (!ok) {
        memset(c, 0, sizeof *c);
        return SES_EBAD_FIELD;
    }
    return 0;
}
