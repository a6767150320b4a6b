/*
 * gen_rec_vectors.c - generator of protocol/vectors/recommend.json, the known answers of the
 * recommendation and patient-card records (content types 5 and 6, PROTOCOL.md section 16,
 * recommend.h): canonical documents and cards with their exact bodies, other layouts that parse to
 * a given document, refused bodies with the error and ses_rec_body_problem's words, and the
 * refusals of ses_rec_doc_check / ses_patient_card_check with the field at fault.
 *
 * Every answer is the C library's own (encode, parse, check, problem); the generator also checks
 * that each vector behaves as its section says (a canonical document parses back to itself, a
 * refused body is refused, ...) and exits non-zero otherwise. The `field` of a check vector is
 * the web client's name of the field the vector changes.
 *     gen_rec_vectors FILE          writes FILE
 *     gen_rec_vectors --check FILE  exits 1 when FILE is not byte for byte what it would write
 *                                   (ctest unit.rec_vectors)
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sesame/codec.h"
#include "sesame/err.h"
#include "sesame/limits.h"
#include "sesame/recommend.h"
#include "sesame/scales.h"

static int failures;

static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gen_rec_vectors: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    failures++;
}

static void die(const char *what)
{
    fprintf(stderr, "gen_rec_vectors: %s\n", what);
    exit(2);
}

/* --- sections -------------------------------------------------------------------------------- */

enum sect {
    S_INS,
    S_DOCS,
    S_DOC_PARSE,
    S_DOC_REJECT,
    S_DOC_CHECK,
    S_DOC_TOO_LARGE,
    S_CARDS,
    S_CARD_PARSE,
    S_CARD_REJECT,
    S_CARD_CHECK,
    S_COUNT
};
static const char *const sect_names[S_COUNT] = {
    "ins",           "docs",  "doc_parse",  "doc_reject",  "doc_check",
    "doc_too_large", "cards", "card_parse", "card_reject", "card_check",
};
static json_t *sects[S_COUNT];

static void add(enum sect s, json_t *v)
{
    if (v == NULL || json_array_append_new(sects[s], v) != 0)
        die("out of memory");
}

/* --- helpers --------------------------------------------------------------------------------- */

static int32_t day(const char *iso)
{
    int32_t d = 0;
    if (ses_day_parse(iso, &d) != 0)
        die("bad date in the generator");
    return d;
}

#define SET(field, s) snprintf((field), sizeof(field), "%s", (s))

/* Writes n bytes into field (cap bytes): unit repeated, completed with 'x'; NUL-terminated when
 * n < cap (n == cap: a field with no terminator, which the checks refuse as too long). */
static void fill(char *field, size_t cap, size_t n, const char *unit)
{
    size_t u = strlen(unit), i = 0;
    if (n > cap)
        die("fill: too long");
    while (i + u <= n) {
        memcpy(field + i, unit, u);
        i += u;
    }
    while (i < n)
        field[i++] = 'x';
    if (n < cap)
        field[n] = '\0';
}
#define FILL(field, n, unit) fill((field), sizeof(field), (n), (unit))

/* A JSON string of n bytes (unit repeated, completed with 'x'). */
static json_t *text_n(size_t n, const char *unit)
{
    char *buf = malloc(n + 1);
    if (buf == NULL)
        die("out of memory");
    fill(buf, n + 1, n, unit);
    json_t *v = json_stringn(buf, n);
    free(buf);
    if (v == NULL)
        die("text_n: not UTF-8");
    return v;
}

static json_t *field_js(const char *s, size_t cap)
{
    json_t *v = json_stringn(s, strnlen(s, cap));
    if (v == NULL)
        die("a field is not UTF-8");
    return v;
}
#define JF(field) field_js((field), sizeof(field))

static const char *or_empty(const char *s)
{
    return s == NULL ? "" : s;
}

static json_t *item_js(const struct ses_rec_item *it)
{
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "type",
                     or_empty(ses_rec_item_type_name(it->type)), "drug", JF(it->drug), "dose",
                     JF(it->dose), "titration", JF(it->titration), "monitoring", JF(it->monitoring),
                     "text", JF(it->text));
}

/* The document in the web client's shape (RecDoc). n_items above SES_REC_ITEMS_MAX repeats the
 * last item (the checks refuse the count before they read any item). */
static json_t *doc_js(const struct ses_rec_doc *d)
{
    json_t *items = json_array();
    for (size_t i = 0; i < d->n_items; i++)
        json_array_append_new(
            items, item_js(&d->items[i < SES_REC_ITEMS_MAX ? i : SES_REC_ITEMS_MAX - 1]));
    json_t *o = json_pack("{s:i, s:i, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:i, s:o}",
                          "day", (int)d->day, "reviewDay", (int)d->review_day, "urgent", d->urgent,
                          "questionCode", or_empty(ses_rec_question_name(d->question_code)),
                          "question", JF(d->question), "dataBasis", JF(d->data_basis), "safety",
                          JF(d->safety), "diagnosis", JF(d->diagnosis), "items", items, "narrative",
                          JF(d->narrative), "contingency", JF(d->contingency), "nextReviewDay",
                          (int)d->next_review_day, "disclaimer", JF(d->disclaimer));
    if (o == NULL)
        die("doc_js");
    return o;
}

static const char *ins_kind_name(enum ses_ins_kind k)
{
    static const char *const names[] = {"none", "nir", "nia", "nir_test", "nia_test"};
    return (int)k >= 0 && k <= SES_INS_NIA_TEST ? names[k] : "";
}

static json_t *card_js(const struct ses_patient_card *c)
{
    char sex[2] = {c->sex, '\0'};
    json_t *o = json_pack(
        "{s:i, s:o, s:o, s:o, s:o, s:i, s:s, s:s, s:o, s:o}", "day", (int)c->day, "birthName",
        JF(c->birth_name), "givenNames", JF(c->given_names), "firstGiven", JF(c->first_given),
        "usedName", JF(c->used_name), "birthDay", (int)c->birth_day, "sex", sex, "insKind",
        ins_kind_name(c->ins_kind), "ins", JF(c->ins), "birthPlace", JF(c->birth_place));
    if (o == NULL)
        die("card_js");
    return o;
}

/* Sets "body" (UTF-8 text without U+0000) or "body_hex" of v. */
static void set_body(json_t *v, const uint8_t *b, size_t n)
{
    if (ses_utf8_valid((const char *)b, n)) {
        json_object_set_new(v, "body", json_stringn((const char *)b, n));
        return;
    }
    char *hex = malloc(2 * n + 1);
    if (hex == NULL)
        die("out of memory");
    for (size_t i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
    json_object_set_new(v, "body_hex", json_stringn(hex, 2 * n));
    free(hex);
}

static char *dump(const json_t *o, size_t flags)
{
    char *s = json_dumps(o, flags | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    if (s == NULL)
        die("json_dumps");
    return s;
}

static struct ses_rec_doc *new_doc(void)
{
    struct ses_rec_doc *d = calloc(1, sizeof *d);
    if (d == NULL)
        die("out of memory");
    return d;
}

/* --- recommendations: vectors ---------------------------------------------------------------- */

static void base_doc(struct ses_rec_doc *d)
{
    memset(d, 0, sizeof *d);
    d->day = day("2026-03-10");
    d->review_day = day("2026-03-09");
    d->question_code = SES_REC_Q_NOT_IMPROVING;
    SET(d->question, "PHQ-9 not 50 % lower after 10 weeks on sertraline: what next?");
    SET(d->data_basis, "PHQ-9 19 → 17 → 16 (weeks 0, 6, 10); GAD-7 11; sertraline 50 mg since "
                       "2025-12-30, good adherence");
    SET(d->safety, "No suicidal ideation (PHQ-9 item 9 = 0 at every contact)");
    SET(d->diagnosis, "Major depressive episode, moderate; rule out hypothyroidism");
    d->n_items = 2;
    d->items[0].type = SES_REC_MED_DOSE_CHANGE;
    SET(d->items[0].drug, "sertraline");
    SET(d->items[0].dose, "100 mg once daily");
    SET(d->items[0].titration, "75 mg for 1 week, then 100 mg");
    SET(d->items[0].monitoring, "side effects at 2 weeks");
    d->items[1].type = SES_REC_LAB;
    SET(d->items[1].text, "TSH");
    SET(d->contingency, "If PHQ-9 has not fallen by 5 points in 6 weeks: switch to escitalopram");
    d->next_review_day = day("2026-04-21");
    SET(d->disclaimer, "Indirect consultation: the treating physician decides.");
}

/* A canonical document: its body is the encoder's, and it parses back to itself. */
static void add_doc(const char *name, const struct ses_rec_doc *d)
{
    uint8_t *b = NULL;
    size_t n = 0;
    int rc = ses_rec_doc_encode(d, &b, &n);
    if (rc != 0) {
        fail("docs %s: encode %s (%s)", name, ses_err_name(rc), or_empty(ses_rec_doc_problem(d)));
        return;
    }
    struct ses_rec_doc *p = new_doc();
    json_t *want = doc_js(d);
    rc = ses_rec_doc_parse(b, n, p);
    json_t *got = rc == 0 ? doc_js(p) : json_null();
    if (rc != 0 || !json_equal(want, got) || ses_rec_body_problem(b, n) != NULL)
        fail("docs %s: does not parse back (%s)", name, ses_err_name(rc));
    char line[128];
    ses_rec_doc_line(d, line, sizeof line);
    json_t *v = json_pack("{s:s, s:o, s:i}", "name", name, "doc", want, "len", (int)n);
    set_body(v, b, n);
    json_object_set_new(v, "line", json_string(line));
    add(S_DOCS, v);
    json_decref(got);
    free(p);
    free(b);
}

/* A body the parser accepts: the document it gives. */
static void add_doc_parse(const char *name, const char *body, size_t n)
{
    struct ses_rec_doc *p = new_doc();
    int rc = ses_rec_doc_parse((const uint8_t *)body, n, p);
    if (rc != 0 || ses_rec_body_problem((const uint8_t *)body, n) != NULL) {
        fail("doc_parse %s: refused (%s)", name,
             or_empty(ses_rec_body_problem((const uint8_t *)body, n)));
        free(p);
        return;
    }
    json_t *v = json_pack("{s:s}", "name", name);
    set_body(v, (const uint8_t *)body, n);
    json_object_set_new(v, "doc", doc_js(p));
    add(S_DOC_PARSE, v);
    free(p);
}

/* A body the parser refuses: the error and ses_rec_body_problem's words. */
static void add_doc_reject(const char *name, const char *body, size_t n)
{
    struct ses_rec_doc *p = new_doc();
    int rc = ses_rec_doc_parse((const uint8_t *)body, n, p);
    const char *why = ses_rec_body_problem((const uint8_t *)body, n);
    free(p);
    if (rc == 0 || why == NULL) {
        fail("doc_reject %s: accepted", name);
        return;
    }
    json_t *v = json_pack("{s:s}", "name", name);
    set_body(v, (const uint8_t *)body, n);
    json_object_set_new(v, "error", json_string(ses_err_name(rc)));
    json_object_set_new(v, "problem", json_string(why));
    add(S_DOC_REJECT, v);
}

/* A document ses_rec_doc_check refuses (and so the encoder): error, words and field. */
static void add_doc_check(const char *name, const struct ses_rec_doc *d, const char *field)
{
    int rc = ses_rec_doc_check(d);
    uint8_t *b = NULL;
    size_t n = 0;
    int erc = ses_rec_doc_encode(d, &b, &n);
    const char *why = ses_rec_doc_problem(d);
    if (rc != SES_EBAD_FIELD || erc != rc || why == NULL) {
        fail("doc_check %s: check %d, encode %d", name, rc, erc);
        free(b);
        return;
    }
    add(S_DOC_CHECK, json_pack("{s:s, s:o, s:s, s:s, s:s}", "name", name, "doc", doc_js(d), "error",
                               ses_err_name(rc), "problem", why, "field", field));
}

/* A document the checks accept whose body is over SES_REC_BODY_MAX. */
static void add_doc_too_large(const char *name, const struct ses_rec_doc *d)
{
    uint8_t *b = NULL;
    size_t n = 0;
    int rc = ses_rec_doc_encode(d, &b, &n);
    if (ses_rec_doc_check(d) != 0 || rc != SES_ETOO_LARGE) {
        fail("doc_too_large %s: encode %d", name, rc);
        free(b);
        return;
    }
    add(S_DOC_TOO_LARGE,
        json_pack("{s:s, s:o, s:s}", "name", name, "doc", doc_js(d), "error", ses_err_name(rc)));
}

/* The base document's canonical body as an object, to change one part of. */
static json_t *base_obj(void)
{
    struct ses_rec_doc *d = new_doc();
    base_doc(d);
    uint8_t *b = NULL;
    size_t n = 0;
    if (ses_rec_doc_encode(d, &b, &n) != 0)
        die("base document");
    json_error_t err;
    json_t *o = json_loadb((const char *)b, n, 0, &err);
    free(b);
    free(d);
    if (o == NULL)
        die("base body");
    return o;
}

/* The base body with key set to v (NULL: removed); item >= 0: in that item. Consumes v. */
static char *body_with(int item, const char *key, json_t *v)
{
    json_t *o = base_obj();
    json_t *target = item < 0 ? o : json_array_get(json_object_get(o, "items"), (size_t)item);
    if (target == NULL)
        die("body_with: no such item");
    if (v == NULL)
        json_object_del(target, key);
    else
        json_object_set_new(target, key, v);
    char *s = dump(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static void rej(const char *name, int item, const char *key, json_t *v)
{
    char *s = body_with(item, key, v);
    add_doc_reject(name, s, strlen(s));
    free(s);
}

static void acc(const char *name, int item, const char *key, json_t *v)
{
    char *s = body_with(item, key, v);
    add_doc_parse(name, s, strlen(s));
    free(s);
}

static void acc_text(const char *name, const char *body)
{
    add_doc_parse(name, body, strlen(body));
}

static void rej_text(const char *name, const char *body)
{
    add_doc_reject(name, body, strlen(body));
}

/* The base body with text inserted after its first n bytes. */
static char *spliced(size_t n, const char *text)
{
    json_t *o = base_obj();
    char *s = dump(o, JSON_COMPACT);
    json_decref(o);
    size_t len = strlen(s), t = strlen(text);
    char *out = malloc(len + t + 1);
    if (out == NULL || n > len)
        die("spliced");
    memcpy(out, s, n);
    memcpy(out + n, text, t);
    memcpy(out + n + t, s + n, len - n + 1);
    free(s);
    return out;
}

/* n ('[' x depth ']' x depth) as the value of an unknown key of the base body. */
static char *nested(int depth)
{
    char buf[128] = "\"deep\":";
    size_t k = strlen(buf);
    for (int i = 0; i < depth; i++)
        buf[k++] = '[';
    for (int i = 0; i < depth; i++)
        buf[k++] = ']';
    buf[k++] = ',';
    buf[k] = '\0';
    return spliced(1, buf);
}

/* The body of d padded with spaces after its first '{' to exactly n bytes. */
static char *padded(const struct ses_rec_doc *d, size_t n)
{
    uint8_t *b = NULL;
    size_t len = 0;
    if (ses_rec_doc_encode(d, &b, &len) != 0 || len > n)
        die("padded");
    char *out = malloc(n + 1);
    if (out == NULL)
        die("out of memory");
    out[0] = '{';
    memset(out + 1, ' ', n - len);
    memcpy(out + 1 + (n - len), b + 1, len - 1);
    out[n] = '\0';
    free(b);
    return out;
}

/* The documents whose encoding is exactly n bytes: 20 long items, the narrative sized to fit. */
static void doc_of_size(struct ses_rec_doc *d, size_t n)
{
    base_doc(d);
    d->n_items = SES_REC_ITEMS_MAX;
    for (size_t i = 0; i < SES_REC_ITEMS_MAX; i++) {
        struct ses_rec_item *it = &d->items[i];
        memset(it, 0, sizeof *it);
        it->type = i % 2 == 0 ? SES_REC_MED_AUGMENT : SES_REC_PSYCHOTHERAPY;
        if (i % 2 == 0) {
            SET(it->drug, "aripiprazole");
            SET(it->dose, "2 mg");
        }
        FILL(it->text, 700, "plan ");
    }
    SET(d->narrative, "x");
    uint8_t *b = NULL;
    size_t len = 0;
    if (ses_rec_doc_encode(d, &b, &len) != 0 || len > n || n - len + 1 > SES_REC_LONG_MAX)
        die("doc_of_size");
    free(b);
    FILL(d->narrative, n - len + 1, "narrative ");
}

static void gen_docs(void)
{
    struct ses_rec_doc *d = new_doc();

    base_doc(d);
    add_doc("base: routine, from a review, a dose change and a lab test", d);

    base_doc(d);
    SET(d->disclaimer, ses_rec_disclaimer_default());
    add_doc("the default disclaimer", d);

    base_doc(d);
    d->urgent = true;
    d->review_day = -1;
    d->n_items = 1;
    d->diagnosis[0] = '\0';
    add_doc("urgent, ad hoc (no review date), one item, no diagnosis", d);

    base_doc(d);
    d->n_items = 0;
    SET(d->narrative, "Letter only: continue the current plan; see the contingency below.");
    add_doc("no item, a narrative", d);

    base_doc(d);
    SET(d->narrative, "Both items and a narrative.");
    add_doc("items and a narrative", d);

    /* every item type with only its required parts */
    base_doc(d);
    d->n_items = SES_REC_ITEM_TYPE_MAX;
    for (int t = 1; t <= SES_REC_ITEM_TYPE_MAX; t++) {
        struct ses_rec_item *it = &d->items[t - 1];
        memset(it, 0, sizeof *it);
        it->type = (enum ses_rec_item_type)t;
        if (ses_rec_item_is_med(it->type)) {
            SET(it->drug, "drug");
            if (it->type != SES_REC_MED_STOP)
                SET(it->dose, "5 mg");
        } else {
            SET(it->text, "what to do");
        }
    }
    add_doc("every item type, each with only its required parts (MED_STOP: no dose)", d);

    /* every item type with every part */
    base_doc(d);
    d->n_items = SES_REC_ITEM_TYPE_MAX;
    for (int t = 1; t <= SES_REC_ITEM_TYPE_MAX; t++) {
        struct ses_rec_item *it = &d->items[t - 1];
        it->type = (enum ses_rec_item_type)t;
        SET(it->drug, "quetiapine XR");
        SET(it->dose, "50 mg at night");
        SET(it->titration, "150 mg after 1 week");
        SET(it->monitoring, "weight, fasting glucose, lipids at 12 weeks");
        SET(it->text, "explain to the patient");
    }
    add_doc("every item type with every part", d);

    for (int q = 1; q <= SES_REC_Q_MAX; q++) {
        char name[64];
        base_doc(d);
        d->question_code = (enum ses_rec_question)q;
        snprintf(name, sizeof name, "question code %s", ses_rec_question_name(d->question_code));
        add_doc(name, d);
    }

    base_doc(d);
    SET(d->question, "quote \" backslash \\ slash / tab \t newline \n cr \r bs \b ff \f "
                     "\x01\x02\x1f del \x7f é € 😀 \u2028 \u2029 \xef\xbb\xbf <script>");
    SET(d->safety, "\"\\\"");
    add_doc("escapes: quotes, backslash, every kind of control character, DEL, U+2028, BOM", d);

    base_doc(d);
    for (int c = 1; c < 0x20; c++)
        d->narrative[c - 1] = (char)c;
    d->narrative[0x1f] = '\0';
    add_doc("a narrative of the control characters U+0001..U+001F", d);

    base_doc(d);
    d->day = SES_DAY_MIN;
    d->review_day = SES_DAY_MIN;
    d->next_review_day = SES_DAY_MAX;
    add_doc("dates at their limits: 1970-01-01 and 9999-12-31", d);

    base_doc(d);
    d->day = day("2024-02-29");
    d->review_day = day("2024-02-28");
    d->next_review_day = d->day;
    add_doc("a leap day; the next review on the day written", d);

    base_doc(d);
    FILL(d->question, SES_REC_TEXT_MAX, "q");
    FILL(d->safety, SES_REC_TEXT_MAX, "s");
    FILL(d->diagnosis, SES_REC_TEXT_MAX, "d");
    FILL(d->contingency, SES_REC_TEXT_MAX, "c");
    add_doc("question, safety, diagnosis, contingency of 1000 bytes", d);

    base_doc(d);
    FILL(d->question, SES_REC_TEXT_MAX, "é");
    FILL(d->safety, SES_REC_TEXT_MAX, "€");
    FILL(d->contingency, SES_REC_TEXT_MAX, "😀");
    add_doc("1000 bytes of 2-, 3- and 4-byte characters", d);

    base_doc(d);
    FILL(d->data_basis, SES_REC_LONG_MAX, "b");
    FILL(d->narrative, SES_REC_LONG_MAX, "n");
    FILL(d->disclaimer, SES_REC_LONG_MAX, "é");
    add_doc("data basis, narrative, disclaimer of 2000 bytes", d);

    base_doc(d);
    FILL(d->items[0].drug, SES_REC_SHORT_MAX, "d");
    FILL(d->items[0].dose, SES_REC_SHORT_MAX, "€");
    FILL(d->items[0].titration, SES_REC_TEXT_MAX, "t");
    FILL(d->items[0].monitoring, SES_REC_TEXT_MAX, "m");
    FILL(d->items[0].text, SES_REC_TEXT_MAX, "x");
    add_doc("a 120-byte drug and dose, 1000-byte titration, monitoring and text", d);

    base_doc(d);
    d->n_items = SES_REC_ITEMS_MAX;
    for (size_t i = 2; i < SES_REC_ITEMS_MAX; i++)
        d->items[i] = d->items[i % 2];
    add_doc("20 items", d);

    doc_of_size(d, SES_REC_BODY_MAX);
    add_doc("a body of exactly 16384 bytes", d);

    free(d);
}

static void gen_doc_parse(void)
{
    /* the base body in reverse key order, indented */
    json_t *o = base_obj(), *r = json_object();
    const char *keys[32];
    size_t n = 0;
    const char *key;
    json_t *val;
    json_object_foreach(o, key, val)
    {
        keys[n++] = key;
    }
    while (n > 0) {
        n--;
        json_object_set(r, keys[n], json_object_get(o, keys[n]));
    }
    char *s = dump(r, JSON_INDENT(2));
    add_doc_parse("the base body, keys in reverse order, indented", s, strlen(s));
    free(s);
    json_decref(r);
    json_decref(o);

    acc_text("every layout and escape",
             " \t\r\n{ \"v\" : 1 ,\n\t\"kind\":\"recommendation\",\"date\":\"2026-03-10\","
             "\"urgency\":\"urgent\",\"question_code\":\"\\u0073afety\",\"que\\u0073tion\":"
             "\"caf\\u00e9 \\ud83d\\ude00 \\/ \\\" \\\\ \\b\\f\\n\\r\\t \\u00E9\","
             "\"data_basis\":\"d\",\"safety\":\"s\",\"items\":[ {\"type\":\"MED_STOP\","
             "\"drug\":\"lithium\"} ] ,\"contingency\":\"c\",\"next_review\":\"2026-03-10\","
             "\"disclaimer\":\"x\",\"text\":\"\"} \n");
    acc_text("unknown keys of every type, at the top and in an item",
             "{\"v\":1,\"kind\":\"recommendation\",\"date\":\"2026-03-10\",\"x\":null,"
             "\"urgency\":\"routine\",\"question_code\":\"other\",\"question\":\"q\","
             "\"data_basis\":\"d\",\"safety\":\"s\",\"items\":[{\"type\":\"REFERRAL\","
             "\"text\":\"CMP\",\"priority\":[1,2.5,-3e2,true,false,null,{\"a\":{}}]}],"
             "\"contingency\":\"c\",\"next_review\":\"2026-05-01\",\"disclaimer\":\"x\","
             "\"text\":\"t\",\"version\":{\"major\":2},\"urgent\":true,\"Text\":7}");
    acc("an empty diagnosis present", -1, "diagnosis", json_string(""));
    acc("an empty narrative with items", -1, "narrative", json_string(""));
    acc("an item's empty drug and dose on a non-medication item", 1, "drug", json_string(""));
    acc("the text line need not match", -1, "text", json_string("anything at all"));
    acc("an empty text line", -1, "text", json_string(""));
    acc("no review date: ad hoc", -1, "review_date", NULL);
    acc("MED_STOP without a dose", 0, "type", json_string("MED_STOP"));

    char *deep = nested(SES_MAX_JSON_DEPTH - 1);
    add_doc_parse("nested 16 deep (the limit)", deep, strlen(deep));
    free(deep);

    struct ses_rec_doc *d = new_doc();
    base_doc(d);
    char *p = padded(d, SES_REC_BODY_MAX);
    add_doc_parse("padded with spaces to exactly 16384 bytes", p, SES_REC_BODY_MAX);
    free(p);

    base_doc(d);
    FILL(d->question, SES_REC_TEXT_MAX, "\t");
    uint8_t *b = NULL;
    size_t len = 0;
    if (ses_rec_doc_encode(d, &b, &len) != 0)
        die("tabs");
    add_doc_parse("1000 tab characters written \\t", (const char *)b, len);
    free(b);
    free(d);
}

static void gen_doc_reject(void)
{
    rej_text("empty", "");
    rej_text("only whitespace", " ");
    rej_text("not JSON", "recommendation");
    rej_text("an array", "[]");
    rej_text("a string", "\"x\"");
    rej_text("null", "null");
    rej_text("truncated", "{\"v\":1,\"kind\":\"recommendation\"");
    char *s = spliced(0, "{}");
    rej_text("two objects", s);
    free(s);
    s = spliced(0, "\xef\xbb\xbf");
    rej_text("a byte-order mark before the object", s);
    free(s);
    s = spliced(1, "\"question\":\"again\",");
    rej_text("a duplicate key", s);
    free(s);
    s = spliced(1, "\"qu\\u0065stion\":\"again\",");
    rej_text("a duplicate key written with an escape", s);
    free(s);
    s = spliced(1, "\"x\":{\"a\":1,\"a\":2},");
    rej_text("a duplicate key in an unknown object", s);
    free(s);
    s = spliced(1, "\"x\":\"\\u0000\",");
    rej_text("\\u0000 in an unknown string", s);
    free(s);
    s = spliced(1, "\"x\":\"\\ud800\",");
    rej_text("a lone high surrogate escape", s);
    free(s);
    s = spliced(1, "\"x\":\"\\udc00\\ud800\",");
    rej_text("surrogates in the wrong order", s);
    free(s);
    s = spliced(1, "\"x\":\"\xc3\",");
    rej_text("a truncated UTF-8 sequence", s);
    free(s);
    s = spliced(1, "\"x\":\"\xc0\xaf\",");
    rej_text("an overlong UTF-8 form", s);
    free(s);
    s = spliced(1, "\"x\":\"\xed\xa0\x80\",");
    rej_text("a UTF-8 surrogate", s);
    free(s);
    s = spliced(1, "\"x\":\"\x01\",");
    rej_text("a raw control character in a string", s);
    free(s);
    s = spliced(1, "\"x\":01,");
    rej_text("a leading zero", s);
    free(s);
    s = spliced(1, "\"x\":99999999999999999999,");
    rej_text("an integer beyond int64", s);
    free(s);
    s = spliced(1, "\"x\":1,,");
    rej_text("two commas", s);
    free(s);
    {
        json_t *o = base_obj();
        char *c = dump(o, JSON_COMPACT);
        size_t n = strlen(c);
        c = realloc(c, n + 2);
        if (c == NULL)
            die("out of memory");
        c[n] = '\0';
        add_doc_reject("a NUL byte after the object", c, n + 1);
        c[n] = ',';
        c[n - 1] = ',';
        c[n] = '}';
        add_doc_reject("a trailing comma", c, n + 1);
        free(c);
        json_decref(o);
    }
    char *deep = nested(SES_MAX_JSON_DEPTH);
    rej_text("nested 17 deep", deep);
    free(deep);
    struct ses_rec_doc *d = new_doc();
    base_doc(d);
    char *p = padded(d, SES_REC_BODY_MAX + 1);
    rej_text("padded with spaces to 16385 bytes", p);
    free(p);
    free(d);

    rej("no v", -1, "v", NULL);
    rej("v 2", -1, "v", json_integer(2));
    rej("v 0", -1, "v", json_integer(0));
    rej("v 1.0", -1, "v", json_real(1.0));
    rej("v \"1\"", -1, "v", json_string("1"));
    rej("v true", -1, "v", json_true());
    rej("no kind", -1, "kind", NULL);
    rej("kind patient_card", -1, "kind", json_string("patient_card"));
    rej("kind Recommendation", -1, "kind", json_string("Recommendation"));
    rej("no text", -1, "text", NULL);
    rej("text a number", -1, "text", json_integer(1));
    rej("text null", -1, "text", json_null());
    rej("no date", -1, "date", NULL);
    rej("date 2026-3-10", -1, "date", json_string("2026-3-10"));
    rej("date 2026-02-29", -1, "date", json_string("2026-02-29"));
    rej("date 1969-12-31", -1, "date", json_string("1969-12-31"));
    rej("date with a time", -1, "date", json_string("2026-03-10T00:00"));
    rej("date a number", -1, "date", json_integer(20522));
    rej("review_date 2026-13-01", -1, "review_date", json_string("2026-13-01"));
    rej("review_date null", -1, "review_date", json_null());
    rej("review_date empty", -1, "review_date", json_string(""));
    rej("no next_review", -1, "next_review", NULL);
    rej("next_review 2026-04-31", -1, "next_review", json_string("2026-04-31"));
    rej("next_review before the date", -1, "next_review", json_string("2026-03-09"));
    rej("no urgency", -1, "urgency", NULL);
    rej("urgency URGENT", -1, "urgency", json_string("URGENT"));
    rej("urgency high", -1, "urgency", json_string("high"));
    rej("urgency true", -1, "urgency", json_true());
    rej("no question_code", -1, "question_code", NULL);
    rej("question_code a number", -1, "question_code", json_integer(2));
    rej("question_code unknown", -1, "question_code", json_string("second_opinion"));
    rej("question_code empty", -1, "question_code", json_string(""));
    rej("question_code in capitals", -1, "question_code", json_string("SAFETY"));

    static const struct {
        const char *key;
        size_t max;
        bool required;
    } texts[] = {
        {"question", SES_REC_TEXT_MAX, true},   {"data_basis", SES_REC_LONG_MAX, true},
        {"safety", SES_REC_TEXT_MAX, true},     {"diagnosis", SES_REC_TEXT_MAX, false},
        {"narrative", SES_REC_LONG_MAX, false}, {"contingency", SES_REC_TEXT_MAX, true},
        {"disclaimer", SES_REC_LONG_MAX, true},
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        char name[96];
        if (texts[i].required) {
            snprintf(name, sizeof name, "no %s", texts[i].key);
            rej(name, -1, texts[i].key, NULL);
            snprintf(name, sizeof name, "%s empty", texts[i].key);
            rej(name, -1, texts[i].key, json_string(""));
        }
        snprintf(name, sizeof name, "%s a number", texts[i].key);
        rej(name, -1, texts[i].key, json_integer(0));
        snprintf(name, sizeof name, "%s null", texts[i].key);
        rej(name, -1, texts[i].key, json_null());
        snprintf(name, sizeof name, "%s of %zu bytes", texts[i].key, texts[i].max + 1);
        rej(name, -1, texts[i].key, text_n(texts[i].max + 1, "a"));
        snprintf(name, sizeof name, "%s of %zu bytes of 2-byte characters", texts[i].key,
                 texts[i].max + 1);
        rej(name, -1, texts[i].key, text_n(texts[i].max + 1, "é"));
    }
    rej("question of 1001 bytes of 3-byte characters", -1, "question",
        text_n(SES_REC_TEXT_MAX + 1, "€"));

    rej("no items", -1, "items", NULL);
    rej("items an object", -1, "items", json_object());
    rej("items null", -1, "items", json_null());
    rej("no item and no narrative", -1, "items", json_array());
    {
        json_t *items = json_array();
        for (int i = 0; i < SES_REC_ITEMS_MAX + 1; i++)
            json_array_append_new(items, json_pack("{s:s, s:s}", "type", "LAB", "text", "TSH"));
        rej("21 items", -1, "items", items);
    }
    {
        json_t *items = json_pack("[s]", "LAB");
        rej("an item that is a string", -1, "items", items);
        rej("an item that is null", -1, "items", json_pack("[n]"));
        rej("an item that is an array", -1, "items", json_pack("[[]]"));
    }
    rej("an item without a type", 0, "type", NULL);
    rej("an item of type med_start", 0, "type", json_string("med_start"));
    rej("an item of an unknown type", 0, "type", json_string("MED_TAPER"));
    rej("an item's type a number", 0, "type", json_integer(1));
    rej("an item's drug of 121 bytes", 0, "drug", text_n(SES_REC_SHORT_MAX + 1, "d"));
    rej("an item's dose of 121 bytes", 0, "dose", text_n(SES_REC_SHORT_MAX + 1, "é"));
    rej("an item's titration of 1001 bytes", 0, "titration", text_n(SES_REC_TEXT_MAX + 1, "t"));
    rej("an item's monitoring of 1001 bytes", 0, "monitoring", text_n(SES_REC_TEXT_MAX + 1, "m"));
    rej("an item's text of 1001 bytes", 1, "text", text_n(SES_REC_TEXT_MAX + 1, "x"));
    rej("an item's drug a number", 0, "drug", json_integer(5));
    rej("an item's text null", 1, "text", json_null());
    rej("a medication item without a drug", 0, "drug", NULL);
    rej("a medication item with an empty drug", 0, "drug", json_string(""));
    rej("a dose change without a dose", 0, "dose", NULL);
    rej("a lab test without a text", 1, "text", NULL);
    for (int t = 1; t <= SES_REC_ITEM_TYPE_MAX; t++) {
        char name[96];
        json_t *it = json_pack("{s:s}", "type", ses_rec_item_type_name((enum ses_rec_item_type)t));
        enum ses_rec_item_type type = (enum ses_rec_item_type)t;
        if (ses_rec_item_is_med(type)) {
            json_object_set_new(it, "dose", json_string("5 mg"));
            json_object_set_new(it, "text", json_string("why"));
            snprintf(name, sizeof name, "%s with a dose and a text but no drug",
                     ses_rec_item_type_name(type));
            rej(name, -1, "items", json_pack("[O]", it));
            if (type != SES_REC_MED_STOP) {
                json_object_del(it, "dose");
                json_object_set_new(it, "drug", json_string("lithium"));
                snprintf(name, sizeof name, "%s with a drug but no dose",
                         ses_rec_item_type_name(type));
                rej(name, -1, "items", json_pack("[O]", it));
            }
        } else {
            json_object_set_new(it, "drug", json_string("lithium"));
            json_object_set_new(it, "dose", json_string("400 mg"));
            snprintf(name, sizeof name, "%s with a drug and a dose but no text",
                     ses_rec_item_type_name(type));
            rej(name, -1, "items", json_pack("[O]", it));
        }
        json_decref(it);
    }
}

static void gen_doc_check(void)
{
    struct ses_rec_doc *d = new_doc();
#define CHECK(name, field, change)                                                                 \
    do {                                                                                           \
        base_doc(d);                                                                               \
        change;                                                                                    \
        add_doc_check((name), d, (field));                                                         \
    } while (0)

    CHECK("day -1", "day", d->day = -1);
    CHECK("day after 9999-12-31", "day", d->day = SES_DAY_MAX + 1);
    CHECK("review day -2", "reviewDay", d->review_day = -2);
    CHECK("review day after 9999-12-31", "reviewDay", d->review_day = SES_DAY_MAX + 1);
    CHECK("day and next review both bad: the day is reported", "day",
          (d->day = -5, d->next_review_day = -5));
    CHECK("next review the day before", "nextReviewDay", d->next_review_day = d->day - 1);
    CHECK("next review -1", "nextReviewDay", d->next_review_day = -1);
    CHECK("next review after 9999-12-31", "nextReviewDay", d->next_review_day = SES_DAY_MAX + 1);
    CHECK("question code 0", "questionCode", d->question_code = 0);
    CHECK("question code past the last", "questionCode", d->question_code = SES_REC_Q_MAX + 1);
    CHECK("question empty", "question", d->question[0] = '\0');
    CHECK("question of 1001 bytes", "question", FILL(d->question, SES_REC_TEXT_MAX + 1, "q"));
    CHECK("data basis empty", "dataBasis", d->data_basis[0] = '\0');
    CHECK("data basis of 2001 bytes", "dataBasis", FILL(d->data_basis, SES_REC_LONG_MAX + 1, "b"));
    CHECK("safety empty", "safety", d->safety[0] = '\0');
    CHECK("safety of 1001 bytes", "safety", FILL(d->safety, SES_REC_TEXT_MAX + 1, "é"));
    CHECK("diagnosis of 1001 bytes", "diagnosis", FILL(d->diagnosis, SES_REC_TEXT_MAX + 1, "d"));
    CHECK("narrative of 2001 bytes", "narrative", FILL(d->narrative, SES_REC_LONG_MAX + 1, "n"));
    CHECK("contingency empty", "contingency", d->contingency[0] = '\0');
    CHECK("contingency of 1001 bytes", "contingency",
          FILL(d->contingency, SES_REC_TEXT_MAX + 1, "c"));
    CHECK("disclaimer empty", "disclaimer", d->disclaimer[0] = '\0');
    CHECK("disclaimer of 2001 bytes", "disclaimer", FILL(d->disclaimer, SES_REC_LONG_MAX + 1, "x"));
    CHECK("question and safety empty: the question is reported", "question",
          (d->question[0] = '\0', d->safety[0] = '\0'));
    CHECK("21 items", "items", d->n_items = SES_REC_ITEMS_MAX + 1);
    CHECK("no item and no narrative", "items", d->n_items = 0);
    CHECK("item type 0", "items[1].type", d->items[1].type = 0);
    CHECK("item type past the last", "items[0].type", d->items[0].type = SES_REC_ITEM_TYPE_MAX + 1);
    CHECK("a drug of 121 bytes", "items[0].drug",
          FILL(d->items[0].drug, SES_REC_SHORT_MAX + 1, "d"));
    CHECK("a dose of 121 bytes", "items[0].dose",
          FILL(d->items[0].dose, SES_REC_SHORT_MAX + 1, "d"));
    CHECK("a titration of 1001 bytes", "items[0].titration",
          FILL(d->items[0].titration, SES_REC_TEXT_MAX + 1, "t"));
    CHECK("a monitoring of 1001 bytes", "items[1].monitoring",
          FILL(d->items[1].monitoring, SES_REC_TEXT_MAX + 1, "m"));
    CHECK("an item text of 1001 bytes", "items[1].text",
          FILL(d->items[1].text, SES_REC_TEXT_MAX + 1, "x"));
    CHECK("item 0 fine, item 1 without its text", "items[1].text", d->items[1].text[0] = '\0');
    CHECK("a long dose before a missing drug: the length is reported", "items[0].dose",
          (d->items[0].drug[0] = '\0', FILL(d->items[0].dose, SES_REC_SHORT_MAX + 1, "d")));
    CHECK("drug and dose of 121 bytes: the drug is reported", "items[0].drug",
          (FILL(d->items[0].drug, SES_REC_SHORT_MAX + 1, "d"),
           FILL(d->items[0].dose, SES_REC_SHORT_MAX + 1, "d")));
    CHECK("titration and text of 1001 bytes: the titration is reported", "items[0].titration",
          (FILL(d->items[0].titration, SES_REC_TEXT_MAX + 1, "t"),
           FILL(d->items[0].text, SES_REC_TEXT_MAX + 1, "x")));
    CHECK("the first bad item is reported", "items[0].drug",
          (d->items[0].drug[0] = '\0', d->items[1].text[0] = '\0'));
    for (int t = 1; t <= SES_REC_ITEM_TYPE_MAX; t++) {
        enum ses_rec_item_type type = (enum ses_rec_item_type)t;
        char name[96];
        base_doc(d);
        d->n_items = 3;
        struct ses_rec_item *it = &d->items[2];
        memset(it, 0, sizeof *it);
        it->type = type;
        SET(it->titration, "t");
        SET(it->monitoring, "m");
        if (ses_rec_item_is_med(type)) {
            SET(it->dose, "1 mg");
            SET(it->text, "why");
            snprintf(name, sizeof name, "%s without its drug", ses_rec_item_type_name(type));
            add_doc_check(name, d, "items[2].drug");
            if (type != SES_REC_MED_STOP) {
                SET(it->drug, "lithium");
                it->dose[0] = '\0';
                snprintf(name, sizeof name, "%s without its dose", ses_rec_item_type_name(type));
                add_doc_check(name, d, "items[2].dose");
            }
        } else {
            SET(it->drug, "lithium");
            SET(it->dose, "1 mg");
            snprintf(name, sizeof name, "%s without its text", ses_rec_item_type_name(type));
            add_doc_check(name, d, "items[2].text");
        }
    }
#undef CHECK

    doc_of_size(d, SES_REC_BODY_MAX + 1);
    add_doc_too_large("a body of 16385 bytes", d);
    base_doc(d);
    memset(d->narrative, 0x01, SES_REC_LONG_MAX);
    d->narrative[SES_REC_LONG_MAX] = '\0';
    memset(d->data_basis, 0x1f, SES_REC_LONG_MAX);
    d->data_basis[SES_REC_LONG_MAX] = '\0';
    add_doc_too_large("control characters: 4000 bytes written as \\u0001 and \\u001F", d);
    free(d);
}

/* --- patient cards --------------------------------------------------------------------------- */

/* The INS of a 13-character number: the number, then its key 97 - (number mod 97), with 2A and
 * 2B read as 19 and 18 (computed on the whole number, not digit by digit as recommend.c does). */
static void ins_make(char out[SES_INS_LEN + 1], const char *num13)
{
    char digits[14];
    memcpy(digits, num13, 13);
    digits[13] = '\0';
    if (digits[5] == '2' && (digits[6] == 'A' || digits[6] == 'B')) {
        digits[5] = '1';
        digits[6] = digits[6] == 'A' ? '9' : '8';
    }
    unsigned long long n = strtoull(digits, NULL, 10);
    snprintf(out, SES_INS_LEN + 1, "%.13s%02llu", num13, 97 - n % 97);
}

static void add_ins(const char *ins, bool want, const char *why)
{
    if (ses_ins_valid(ins) != want)
        fail("ins %s: ses_ins_valid is %d", ins, !want);
    add(S_INS, json_pack("{s:s, s:b, s:s}", "ins", ins, "valid", want, "about", why));
}

static void gen_ins(void)
{
    char ins[SES_INS_LEN + 1], bad[SES_INS_LEN + 4];
    static const char *const nums[] = {"2800175123456", "1850775123052", "2560299123456",
                                       "172022A004123", "294032B033456", "1000000000000"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        ins_make(ins, nums[i]);
        add_ins(ins, true, "its key");
        snprintf(bad, sizeof bad, "%.13s%02d", ins, (atoi(ins + 13) + 1) % 100);
        add_ins(bad, false, "its key plus one");
    }
    /* a number that is a multiple of 97: the key is 97 */
    for (int k = 0; k < 97; k++) {
        char num[14];
        snprintf(num, sizeof num, "1850775123%03d", k);
        if (strtoull(num, NULL, 10) % 97 == 0) {
            ins_make(ins, num);
            add_ins(ins, true, "a multiple of 97: key 97");
            snprintf(bad, sizeof bad, "%.13s00", num);
            add_ins(bad, false, "a multiple of 97 with key 00");
            break;
        }
    }
    ins_make(ins, "172022A004123");
    bad[0] = '\0';
    snprintf(bad, sizeof bad, "%s", ins);
    bad[6] = 'a';
    add_ins(bad, false, "2a in lower case");
    bad[6] = 'C';
    add_ins(bad, false, "2C is not Corsica");
    snprintf(bad, sizeof bad, "17202A2004123%s", ins + 13);
    add_ins(bad, false, "A in position 5");
    snprintf(bad, sizeof bad, "172023A004123%s", ins + 13);
    add_ins(bad, false, "3A: only 2A and 2B");
    add_ins("28001751234561", false, "14 characters");
    add_ins("2800175123456100", false, "16 characters");
    add_ins("", false, "empty");
    add_ins("28001751234561O", false, "a letter O in the key");
    add_ins("2800175123456 0", false, "a space in the key");
    add_ins("-80017512345610", false, "a sign");
    add_ins("2800175123456\xc3\xa9", false, "a non-ASCII key");
}

static void base_card(struct ses_patient_card *c)
{
    memset(c, 0, sizeof *c);
    c->day = day("2026-03-10");
    SET(c->birth_name, "DUPONT");
    SET(c->given_names, "Marie Anne");
    SET(c->first_given, "Marie");
    c->birth_day = day("1980-01-15");
    c->sex = 'F';
    c->ins_kind = SES_INS_NIR_TEST;
    ins_make(c->ins, "2800175123456");
    SET(c->birth_place, "75112");
}

static void add_card(const char *name, const struct ses_patient_card *c)
{
    uint8_t *b = NULL;
    size_t n = 0;
    int rc = ses_patient_card_encode(c, &b, &n);
    if (rc != 0) {
        fail("cards %s: encode %s", name, ses_err_name(rc));
        return;
    }
    struct ses_patient_card p;
    json_t *want = card_js(c);
    rc = ses_patient_card_parse(b, n, &p);
    json_t *got = rc == 0 ? card_js(&p) : json_null();
    if (rc != 0 || !json_equal(want, got))
        fail("cards %s: does not parse back (%s)", name, ses_err_name(rc));
    json_t *v = json_pack("{s:s, s:o}", "name", name, "card", want);
    set_body(v, b, n);
    add(S_CARDS, v);
    json_decref(got);
    free(b);
}

static void card_body(const char *name, const char *body, size_t n, bool accept)
{
    struct ses_patient_card p;
    if (n == (size_t)-1)
        n = strlen(body);
    int rc = ses_patient_card_parse((const uint8_t *)body, n, &p);
    if ((rc == 0) != accept || (rc != 0 && rc != SES_EBAD_FIELD)) {
        fail("card %s: parse %s", name, ses_err_name(rc));
        return;
    }
    json_t *v = json_pack("{s:s}", "name", name);
    set_body(v, (const uint8_t *)body, n);
    if (accept) {
        json_object_set_new(v, "card", card_js(&p));
        add(S_CARD_PARSE, v);
    } else {
        json_object_set_new(v, "error", json_string(ses_err_name(rc)));
        add(S_CARD_REJECT, v);
    }
}

/* The base card's body with key set to v (NULL: removed); consumes v. */
static void card_with(const char *name, const char *key, json_t *v, bool accept)
{
    struct ses_patient_card c;
    base_card(&c);
    uint8_t *b = NULL;
    size_t n = 0;
    json_error_t err;
    if (ses_patient_card_encode(&c, &b, &n) != 0)
        die("base card");
    json_t *o = json_loadb((const char *)b, n, 0, &err);
    free(b);
    if (o == NULL)
        die("base card body");
    if (v == NULL)
        json_object_del(o, key);
    else
        json_object_set_new(o, key, v);
    char *s = dump(o, JSON_COMPACT);
    card_body(name, s, strlen(s), accept);
    free(s);
    json_decref(o);
}

static void add_card_check(const char *name, const struct ses_patient_card *c, const char *field)
{
    int rc = ses_patient_card_check(c);
    uint8_t *b = NULL;
    size_t n = 0;
    int erc = ses_patient_card_encode(c, &b, &n);
    if (rc != SES_EBAD_FIELD || erc != rc) {
        fail("card_check %s: check %d, encode %d", name, rc, erc);
        free(b);
        return;
    }
    add(S_CARD_CHECK, json_pack("{s:s, s:o, s:s, s:s}", "name", name, "card", card_js(c), "error",
                                ses_err_name(rc), "field", field));
}

static void gen_cards(void)
{
    struct ses_patient_card c;
    base_card(&c);
    add_card("base: a test NIR, a birth place", &c);
    static const enum ses_ins_kind kinds[] = {SES_INS_NIR, SES_INS_NIA, SES_INS_NIA_TEST};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        char name[64];
        base_card(&c);
        c.ins_kind = kinds[i];
        snprintf(name, sizeof name, "INS kind %s", ins_kind_name(kinds[i]));
        add_card(name, &c);
    }
    base_card(&c);
    c.ins_kind = SES_INS_NONE;
    c.ins[0] = '\0';
    c.birth_place[0] = '\0';
    SET(c.used_name, "MARTIN");
    c.sex = 'U';
    add_card("no INS, a used name, no birth place, sex unknown", &c);
    base_card(&c);
    c.sex = 'M';
    ins_make(c.ins, "172022A004123");
    SET(c.birth_place, "2A004");
    add_card("Corsica: INS with 2A, birth place 2A004", &c);
    base_card(&c);
    ins_make(c.ins, "294032B033456");
    SET(c.birth_place, "2B033");
    add_card("Corsica: INS with 2B, birth place 2B033", &c);
    base_card(&c);
    FILL(c.birth_name, SES_REC_SHORT_MAX, "É");
    FILL(c.given_names, SES_REC_SHORT_MAX, "Zoé ");
    FILL(c.first_given, SES_REC_SHORT_MAX, "z");
    FILL(c.used_name, SES_REC_SHORT_MAX, "\"\\");
    add_card("names of 120 bytes, with escapes", &c);
    base_card(&c);
    c.birth_day = c.day;
    add_card("born on the day it was entered", &c);
    base_card(&c);
    c.birth_day = SES_DAY_MIN;
    c.day = SES_DAY_MAX;
    add_card("dates at their limits", &c);

    card_body("other key order, layout and unknown keys",
              "{ \"text\" : \"\", \"sex\":\"M\", \"birth_date\":\"1972-02-29\", \"x\":[{}],"
              "\"first_given\":\"Jean\",\"given_names\":\"Jean Pierre\",\"birth_name\":\"L\\u00c9"
              "VY\",\"date\":\"2026-03-10\",\"kind\":\"patient_card\",\"v\":1}\n",
              (size_t)-1, true);
    card_with("ins empty with an ins_oid", "ins", json_string(""), false);
    {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"v\":1,\"kind\":\"patient_card\",\"date\":\"2026-03-10\",\"birth_name\":"
                 "\"DUPONT\",\"given_names\":\"Marie\",\"first_given\":\"Marie\",\"used_name\":"
                 "\"\",\"birth_date\":\"1980-01-15\",\"sex\":\"F\",\"ins\":\"\",\"ins_oid\":\"\","
                 "\"birth_place\":\"\",\"text\":\"t\"}");
        card_body("empty optional traits, empty ins and ins_oid: no INS", body, strlen(body), true);
    }
    card_with("empty text line", "text", json_string(""), true);
    card_with("no birth place", "birth_place", NULL, true);

    card_with("no v", "v", NULL, false);
    card_with("v 2", "v", json_integer(2), false);
    card_with("kind recommendation", "kind", json_string("recommendation"), false);
    card_with("no text", "text", NULL, false);
    card_with("no date", "date", NULL, false);
    card_with("date 2026-02-30", "date", json_string("2026-02-30"), false);
    card_with("no birth_date", "birth_date", NULL, false);
    card_with("birth_date after the date", "birth_date", json_string("2026-03-11"), false);
    card_with("birth_date 1969-12-31", "birth_date", json_string("1969-12-31"), false);
    static const char *const names[] = {"birth_name", "given_names", "first_given"};
    for (size_t i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "no %s", names[i]);
        card_with(name, names[i], NULL, false);
        snprintf(name, sizeof name, "%s empty", names[i]);
        card_with(name, names[i], json_string(""), false);
        snprintf(name, sizeof name, "%s of 121 bytes", names[i]);
        card_with(name, names[i], text_n(SES_REC_SHORT_MAX + 1, "é"), false);
        snprintf(name, sizeof name, "%s a number", names[i]);
        card_with(name, names[i], json_integer(1), false);
    }
    card_with("used_name of 121 bytes", "used_name", text_n(SES_REC_SHORT_MAX + 1, "u"), false);
    card_with("used_name null", "used_name", json_null(), false);
    card_with("no sex", "sex", NULL, false);
    card_with("sex empty", "sex", json_string(""), false);
    card_with("sex f", "sex", json_string("f"), false);
    card_with("sex X", "sex", json_string("X"), false);
    card_with("sex FM", "sex", json_string("FM"), false);
    card_with("sex Female", "sex", json_string("Female"), false);
    card_with("ins without ins_oid", "ins_oid", NULL, false);
    card_with("ins_oid without ins", "ins", NULL, false);
    card_with("an unknown OID", "ins_oid", json_string("1.2.250.1.213.1.4.2"), false);
    card_with("an OID with a trailing dot", "ins_oid", json_string("1.2.250.1.213.1.4.8."), false);
    card_with("ins with a bad key", "ins", json_string("280017512345611"), false);
    card_with("ins of 14 characters", "ins", json_string("28001751234561"), false);
    card_with("ins of 16 characters", "ins", json_string("2800175123456100"), false);
    card_with("ins a number", "ins", json_integer(280017512345610), false);
    card_with("birth_place of 4 digits", "birth_place", json_string("7511"), false);
    card_with("birth_place of 6 digits", "birth_place", json_string("751120"), false);
    card_with("birth_place A2004", "birth_place", json_string("A2004"), false);
    card_with("birth_place 20A04", "birth_place", json_string("20A04"), false);
    card_with("birth_place 2a004", "birth_place", json_string("2a004"), false);
    card_with("birth_place a number", "birth_place", json_integer(75112), false);
    rej_text("a patient card body", "{\"v\":1,\"kind\":\"patient_card\",\"text\":\"\"}");
    card_body("empty", "", 0, false);
    card_body("an array", "[]", 2, false);
    {
        const char *dup = "{\"v\":1,\"v\":1,\"kind\":\"patient_card\",\"date\":\"2026-03-10\","
                          "\"birth_name\":\"D\",\"given_names\":\"M\",\"first_given\":\"M\","
                          "\"birth_date\":\"1980-01-15\",\"sex\":\"F\",\"text\":\"t\"}";
        card_body("a duplicate key", dup, strlen(dup), false);
        char once[512];
        snprintf(once, sizeof once, "{%s", dup + 7);
        card_body("the same without the duplicate", once, strlen(once), true);
    }

#define CCHECK(name, field, change)                                                                \
    do {                                                                                           \
        base_card(&c);                                                                             \
        change;                                                                                    \
        add_card_check((name), &c, (field));                                                       \
    } while (0)
    CCHECK("day -1", "day", c.day = -1);
    CCHECK("day after 9999-12-31", "day", c.day = SES_DAY_MAX + 1);
    CCHECK("birth day -1", "birthDay", c.birth_day = -1);
    CCHECK("birth day after the day", "birthDay", c.birth_day = c.day + 1);
    CCHECK("birth name empty", "birthName", c.birth_name[0] = '\0');
    CCHECK("birth name of 121 bytes", "birthName", FILL(c.birth_name, SES_REC_SHORT_MAX + 1, "B"));
    CCHECK("given names empty", "givenNames", c.given_names[0] = '\0');
    CCHECK("given names of 121 bytes", "givenNames",
           FILL(c.given_names, SES_REC_SHORT_MAX + 1, "g"));
    CCHECK("first given empty", "firstGiven", c.first_given[0] = '\0');
    CCHECK("first given of 121 bytes", "firstGiven",
           FILL(c.first_given, SES_REC_SHORT_MAX + 1, "f"));
    CCHECK("used name of 121 bytes", "usedName", FILL(c.used_name, SES_REC_SHORT_MAX + 1, "u"));
    CCHECK("sex f", "sex", c.sex = 'f');
    CCHECK("sex X", "sex", c.sex = 'X');
    CCHECK("an INS with no kind", "ins", c.ins_kind = SES_INS_NONE);
    CCHECK("an INS with a bad key", "ins", c.ins[14] = c.ins[14] == '9' ? '0' : c.ins[14] + 1);
    CCHECK("a kind with no INS", "ins", c.ins[0] = '\0');
    CCHECK("an unknown INS kind", "insKind", c.ins_kind = (enum ses_ins_kind)7);
    CCHECK("birth place of 4 digits", "birthPlace", c.birth_place[4] = '\0');
    CCHECK("birth place of 6 digits", "birthPlace", FILL(c.birth_place, 6, "7"));
    CCHECK("birth place A2004", "birthPlace", SET(c.birth_place, "A2004"));
    CCHECK("birth place 20A04", "birthPlace", SET(c.birth_place, "20A04"));
    CCHECK("birth place 2C004", "birthPlace", SET(c.birth_place, "2C004"));
    CCHECK("birth name and sex bad: the name is reported", "birthName",
           (c.birth_name[0] = '\0', c.sex = 'X'));
    CCHECK("sex and INS bad: the sex is reported", "sex", (c.sex = 'X', c.ins[0] = '\0'));
#undef CCHECK
}

/* --- output ---------------------------------------------------------------------------------- */

static char *render(size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (f == NULL)
        die("open_memstream");
    json_t *head = json_object();
    json_object_set_new(
        head, "about",
        json_string("Known answers of the recommendation (content type 5) and patient card "
                    "(content type 6) records, PROTOCOL.md section 16, written by "
                    "tests/unit/gen_rec_vectors.c with the C library; see README.md"));
    json_object_set_new(head, "limits",
                        json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "REC_BODY_MAX",
                                  SES_REC_BODY_MAX, "REC_ITEMS_MAX", SES_REC_ITEMS_MAX,
                                  "REC_TEXT_MAX", SES_REC_TEXT_MAX, "REC_LONG_MAX",
                                  SES_REC_LONG_MAX, "REC_SHORT_MAX", SES_REC_SHORT_MAX,
                                  "REC_LIST_MAX", SES_REC_LIST_MAX, "INS_LEN", SES_INS_LEN));
    json_object_set_new(head, "disclaimer_default", json_string(ses_rec_disclaimer_default()));
    json_t *types = json_array(), *meds = json_array(), *qs = json_array(), *states = json_array();
    for (int t = 1; ses_rec_item_type_name((enum ses_rec_item_type)t) != NULL; t++) {
        const char *name = ses_rec_item_type_name((enum ses_rec_item_type)t);
        if ((int)ses_rec_item_type_parse(name) != t)
            fail("item type %s does not parse back", name);
        json_array_append_new(types, json_string(name));
        if (ses_rec_item_is_med((enum ses_rec_item_type)t))
            json_array_append_new(meds, json_string(name));
    }
    for (int q = 1; ses_rec_question_name((enum ses_rec_question)q) != NULL; q++)
        json_array_append_new(qs, json_string(ses_rec_question_name((enum ses_rec_question)q)));
    for (int s = 1; ses_rec_state_name((enum ses_rec_state)s) != NULL; s++)
        json_array_append_new(states, json_string(ses_rec_state_name((enum ses_rec_state)s)));
    json_object_set_new(head, "item_types", types);
    json_object_set_new(head, "med_item_types", meds);
    json_object_set_new(head, "question_codes", qs);
    json_object_set_new(head, "states", states);
    json_t *oids = json_object();
    for (int k = SES_INS_NIR; k <= SES_INS_NIA_TEST; k++) {
        const char *oid = ses_ins_oid((enum ses_ins_kind)k);
        if (ses_ins_kind_of_oid(oid) != (enum ses_ins_kind)k)
            fail("OID %s does not map back", oid);
        json_object_set_new(oids, ins_kind_name((enum ses_ins_kind)k), json_string(oid));
    }
    json_object_set_new(head, "ins_oids", oids);

    fputs("{\n", f);
    const char *key;
    json_t *val;
    json_object_foreach(head, key, val)
    {
        char *s = dump(val, JSON_COMPACT);
        fprintf(f, "\"%s\": %s,\n", key, s);
        free(s);
    }
    for (int s = 0; s < S_COUNT; s++) {
        fprintf(f, "\"%s\": [\n", sect_names[s]);
        for (size_t i = 0; i < json_array_size(sects[s]); i++) {
            char *v = dump(json_array_get(sects[s], i), JSON_COMPACT);
            fprintf(f, "  %s%s\n", v, i + 1 < json_array_size(sects[s]) ? "," : "");
            free(v);
        }
        fprintf(f, "]%s\n", s + 1 < S_COUNT ? "," : "");
    }
    fputs("}\n", f);
    json_decref(head);
    if (fclose(f) != 0)
        die("render");
    return buf;
}

int main(int argc, char **argv)
{
    bool check = argc == 3 && strcmp(argv[1], "--check") == 0;
    if (!(argc == 2 || check)) {
        fprintf(stderr, "usage: gen_rec_vectors [--check] FILE\n");
        return 2;
    }
    const char *path = argv[argc - 1];
    for (int s = 0; s < S_COUNT; s++)
        sects[s] = json_array();
    gen_ins();
    gen_docs();
    gen_doc_parse();
    gen_doc_reject();
    gen_doc_check();
    gen_cards();
    size_t len = 0;
    char *text = render(&len);
    if (failures != 0) {
        fprintf(stderr, "gen_rec_vectors: %d vectors do not behave as their section says\n",
                failures);
        free(text);
        return 1;
    }
    int rc = 0;
    if (check) {
        FILE *f = fopen(path, "rb");
        char *old = malloc(len + 2);
        size_t n = f != NULL && old != NULL ? fread(old, 1, len + 1, f) : 0;
        if (f == NULL || n != len || memcmp(old, text, len) != 0) {
            fprintf(stderr,
                    "gen_rec_vectors: %s is not what the C library gives now: regenerate it "
                    "(gen_rec_vectors %s) and review the diff\n",
                    path, path);
            rc = 1;
        }
        if (f != NULL)
            fclose(f);
        free(old);
    } else {
        FILE *f = fopen(path, "wb");
        if (f == NULL || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
            fprintf(stderr, "gen_rec_vectors: cannot write %s\n", path);
            rc = 1;
        }
    }
    for (int s = 0; s < S_COUNT; s++)
        json_decref(sects[s]);
    free(text);
    return rc;
}
