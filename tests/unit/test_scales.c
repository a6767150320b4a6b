/*
 * test_scales.c - PHQ-2/PHQ-9/GAD-7 scoring, change metrics, day numbers, the content-type-2
 * record codec and the client-side alert rules (scales.h, PROTOCOL.md section 14): every band
 * boundary, exhaustive sweeps of the integer rules against independent formulations, each rule's
 * trigger and non-trigger, codec round trips and rejections, and every known-answer vector of
 * protocol/vectors/scales.json (which the web client passes too).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "sesame/err.h"
#include "sesame/limits.h"
#include "sesame/scales.h"

#define VECTORS_FILE SESAME_VECTORS_DIR "/scales.json"

static json_t *g_vectors;

static int setup(void **state)
{
    (void)state;
    json_error_t jerr;
    g_vectors = json_load_file(VECTORS_FILE, JSON_REJECT_DUPLICATES, &jerr);
    if (g_vectors == NULL) {
        fprintf(stderr, "%s:%d: %s\n", VECTORS_FILE, jerr.line, jerr.text);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(g_vectors);
    return 0;
}

/* --- helpers --------------------------------------------------------------------------------- */

/* n items summing to total, as even as possible */
static void spread(uint8_t *items, size_t n, int total)
{
    for (size_t i = 0; i < n; i++)
        items[i] = (uint8_t)(total / (int)n + ((int)i < total % (int)n ? 1 : 0));
}

/* A PHQ-9 of that total and item 9 (raised as needed when total is above 24 + item9). */
static struct ses_record phq9_rec(int32_t day, int total, int item9)
{
    struct ses_record r = {.kind = SES_RECORD_SCALES, .day = day, .has_phq9 = true};
    if (total - item9 > 24)
        item9 = total - 24;
    spread(r.phq9, 8, total - item9);
    r.phq9[8] = (uint8_t)item9;
    return r;
}

static struct ses_record gad7_rec(int32_t day, int total)
{
    struct ses_record r = {.kind = SES_RECORD_SCALES, .day = day, .has_gad7 = true};
    spread(r.gad7, 7, total);
    return r;
}

static struct ses_record plan_rec(int32_t day, bool ad)
{
    struct ses_record r = {.kind = SES_RECORD_PLAN, .day = day, .antidepressant = ad};
    return r;
}

static int32_t day_of(const char *iso)
{
    int32_t d = -1;
    assert_int_equal(ses_day_parse(iso, &d), 0);
    return d;
}

static size_t evaluate(const struct ses_record *h, size_t n, const struct ses_record *latest,
                       bool rp, const struct ses_rules_config *cfg, struct ses_episode *ep,
                       struct ses_trigger *out)
{
    size_t nt = 99;
    assert_int_equal(ses_rules_evaluate(h, n, latest, rp, cfg, ep, out, &nt), 0);
    assert_true(nt <= SES_TRIGGERS_MAX);
    for (size_t i = 0; i < nt; i++) {
        assert_non_null(out[i].why);
        assert_true(strlen(out[i].why) > 0);
    }
    return nt;
}

/* Does the trigger list contain type (and variant, if not NULL)? */
static bool has(const struct ses_trigger *t, size_t n, const char *type, const char *variant)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i].type, type) == 0 && (variant == NULL || strcmp(t[i].variant, variant) == 0))
            return true;
    return false;
}

/* Triggers as "A01/item9_2,A04" for comparisons. */
static void joined(const struct ses_trigger *t, size_t n, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t k = strlen(buf);
        snprintf(buf + k, cap - k, "%s%s%s%s", i ? "," : "", t[i].type, t[i].variant[0] ? "/" : "",
                 t[i].variant);
    }
}

static int scale_of(const char *name)
{
    if (strcmp(name, "PHQ-2") == 0)
        return SES_SCALE_PHQ2;
    if (strcmp(name, "PHQ-9") == 0)
        return SES_SCALE_PHQ9;
    if (strcmp(name, "GAD-7") == 0)
        return SES_SCALE_GAD7;
    fail_msg("unknown scale %s", name);
    return 0;
}

/* A JSON item list into items (null = missing); returns the count. */
static size_t items_of(json_t *a, uint8_t *items, size_t cap)
{
    assert_true(json_is_array(a));
    size_t n = json_array_size(a);
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (json_is_null(v)) {
            items[i] = SES_ITEM_MISSING;
        } else {
            assert_true(json_is_integer(v));
            assert_true(json_integer_value(v) >= 0 && json_integer_value(v) < SES_ITEM_MISSING);
            items[i] = (uint8_t)json_integer_value(v);
        }
    }
    return n;
}

/* A vector's record object into a struct. */
static void record_of(json_t *o, struct ses_record *r)
{
    memset(r, 0, sizeof *r);
    const char *kind = json_string_value(json_object_get(o, "kind"));
    assert_non_null(kind);
    r->day = day_of(json_string_value(json_object_get(o, "date")));
    if (strcmp(kind, "plan") == 0) {
        r->kind = SES_RECORD_PLAN;
        r->antidepressant = json_is_true(json_object_get(o, "antidepressant"));
        return;
    }
    assert_string_equal(kind, "scales");
    r->kind = SES_RECORD_SCALES;
    json_t *a;
    if ((a = json_object_get(o, "phq2")) != NULL) {
        r->has_phq2 = true;
        assert_int_equal(items_of(a, r->phq2, SES_PHQ2_ITEMS), SES_PHQ2_ITEMS);
    }
    if ((a = json_object_get(o, "phq9")) != NULL) {
        r->has_phq9 = true;
        assert_int_equal(items_of(a, r->phq9, SES_PHQ9_ITEMS), SES_PHQ9_ITEMS);
    }
    if ((a = json_object_get(o, "gad7")) != NULL) {
        r->has_gad7 = true;
        assert_int_equal(items_of(a, r->gad7, SES_GAD7_ITEMS), SES_GAD7_ITEMS);
    }
}

static void assert_record_equal(const struct ses_record *a, const struct ses_record *b)
{
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->day, b->day);
    if (a->kind == SES_RECORD_PLAN) {
        assert_int_equal(a->antidepressant, b->antidepressant);
        return;
    }
    assert_int_equal(a->has_phq2, b->has_phq2);
    assert_int_equal(a->has_phq9, b->has_phq9);
    assert_int_equal(a->has_gad7, b->has_gad7);
    if (a->has_phq2)
        assert_memory_equal(a->phq2, b->phq2, SES_PHQ2_ITEMS);
    if (a->has_phq9)
        assert_memory_equal(a->phq9, b->phq9, SES_PHQ9_ITEMS);
    if (a->has_gad7)
        assert_memory_equal(a->gad7, b->gad7, SES_GAD7_ITEMS);
}

static void assert_change(json_t *v, const struct ses_change *c, const char *name)
{
    if (json_is_true(json_object_get(v, "applicable")) != c->applicable ||
        json_integer_value(json_object_get(v, "pct")) != c->pct ||
        json_is_true(json_object_get(v, "response")) != c->response ||
        json_is_true(json_object_get(v, "partial")) != c->partial ||
        json_is_true(json_object_get(v, "remission")) != c->remission ||
        json_is_true(json_object_get(v, "improved")) != c->improved)
        fail_msg("%s: change (applicable %d pct %d response %d partial %d remission %d improved "
                 "%d) differs from the vector",
                 name, c->applicable, c->pct, c->response, c->partial, c->remission, c->improved);
}

/* An optional integer of an episode vector: null means "has" is false. */
static void assert_opt(json_t *ep, const char *key, bool has_it, int value, const char *name)
{
    json_t *v = json_object_get(ep, key);
    assert_non_null(v);
    if (json_is_null(v)) {
        if (has_it)
            fail_msg("%s: %s is %d, the vector says null", name, key, value);
    } else if (!has_it || json_integer_value(v) != value) {
        fail_msg("%s: %s is %s%d, the vector says %lld", name, key, has_it ? "" : "absent ", value,
                 (long long)json_integer_value(v));
    }
}

/* --- constants ------------------------------------------------------------------------------- */

static void test_constants(void **state)
{
    (void)state;
    assert_int_equal(SES_ITEM_MISSING, 0xFF);
    assert_int_equal(SES_PHQ2_ITEMS, 2);
    assert_int_equal(SES_PHQ9_ITEMS, 9);
    assert_int_equal(SES_GAD7_ITEMS, 7);
    assert_int_equal(SES_ITEM_MAX, 3);
    assert_int_equal(SES_PHQ2_CUTOFF_DEFAULT, 3);
    assert_int_equal(SES_DAY_MIN, day_of("1970-01-01"));
    assert_int_equal(SES_DAY_MAX, day_of("9999-12-31"));
    assert_int_equal(SES_NOT_IMPROVING_WEEKS_DEFAULT, 10);
    assert_int_equal(SES_PHQ9_PRORATE_MAX_MISSING, 2);
    assert_int_equal(SES_EARLY_WEEKS_MIN_DEFAULT, 4);
    assert_int_equal(SES_EARLY_WEEKS_MAX_DEFAULT, 6);
    assert_int_equal(SES_EBAD_SCALE, -43);
    assert_true(SES_RECORD_MAX <= 65535); /* a body fits content type 2 (PROTOCOL.md section 10) */
    /* seven rules (A01, A04, A05, A11, A06, A10, A06b), at most one trigger each */
    assert_true(SES_TRIGGERS_MAX >= 7);
}

/* --- scoring --------------------------------------------------------------------------------- */

static enum ses_band phq9_band_table(int t)
{
    static const struct {
        int lo, hi;
        enum ses_band band;
    } rows[] = {{0, 4, SES_BAND_PHQ_MINIMAL},
                {5, 9, SES_BAND_PHQ_MILD},
                {10, 14, SES_BAND_PHQ_MODERATE},
                {15, 19, SES_BAND_PHQ_MODSEVERE},
                {20, 27, SES_BAND_PHQ_SEVERE}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (t >= rows[i].lo && t <= rows[i].hi)
            return rows[i].band;
    return SES_BAND_INCOMPLETE;
}

static enum ses_band gad7_band_table(int t)
{
    static const struct {
        int lo, hi;
        enum ses_band band;
    } rows[] = {{0, 4, SES_BAND_GAD_MINIMAL},
                {5, 9, SES_BAND_GAD_MILD},
                {10, 14, SES_BAND_GAD_MODERATE},
                {15, 21, SES_BAND_GAD_SEVERE}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        if (t >= rows[i].lo && t <= rows[i].hi)
            return rows[i].band;
    return SES_BAND_INCOMPLETE;
}

static void test_bands_every_total(void **state)
{
    (void)state;
    uint8_t items[9];
    struct ses_scale_score sc;
    for (int t = 0; t <= 27; t++) {
        spread(items, 9, t);
        assert_int_equal(ses_scale_score(SES_SCALE_PHQ9, items, 9, 0, &sc), 0);
        assert_true(sc.complete);
        assert_int_equal(sc.total, t);
        assert_int_equal(sc.band, phq9_band_table(t));
    }
    for (int t = 0; t <= 21; t++) {
        spread(items, 7, t);
        assert_int_equal(ses_scale_score(SES_SCALE_GAD7, items, 7, 0, &sc), 0);
        assert_int_equal(sc.total, t);
        assert_int_equal(sc.band, gad7_band_table(t));
    }
    for (int cut = 0; cut <= 6; cut++)
        for (int t = 0; t <= 6; t++) {
            spread(items, 2, t);
            assert_int_equal(ses_scale_score(SES_SCALE_PHQ2, items, 2, cut, &sc), 0);
            assert_int_equal(sc.total, t);
            int eff = cut ? cut : SES_PHQ2_CUTOFF_DEFAULT;
            assert_int_equal(sc.band, t >= eff ? SES_BAND_PHQ2_POSITIVE : SES_BAND_PHQ2_NEGATIVE);
        }
    /* the boundaries named in collaborative-care.md section 1, pairwise */
    static const struct {
        int total;
        enum ses_band band;
    } phq[] = {{4, SES_BAND_PHQ_MINIMAL},    {5, SES_BAND_PHQ_MILD},
               {9, SES_BAND_PHQ_MILD},       {10, SES_BAND_PHQ_MODERATE},
               {14, SES_BAND_PHQ_MODERATE},  {15, SES_BAND_PHQ_MODSEVERE},
               {19, SES_BAND_PHQ_MODSEVERE}, {20, SES_BAND_PHQ_SEVERE},
               {27, SES_BAND_PHQ_SEVERE}},
      gad[] = {{4, SES_BAND_GAD_MINIMAL},   {5, SES_BAND_GAD_MILD},      {9, SES_BAND_GAD_MILD},
               {10, SES_BAND_GAD_MODERATE}, {14, SES_BAND_GAD_MODERATE}, {15, SES_BAND_GAD_SEVERE},
               {21, SES_BAND_GAD_SEVERE}};
    for (size_t i = 0; i < sizeof phq / sizeof phq[0]; i++) {
        spread(items, 9, phq[i].total);
        assert_int_equal(ses_scale_score(SES_SCALE_PHQ9, items, 9, 0, &sc), 0);
        assert_int_equal(sc.band, phq[i].band);
    }
    for (size_t i = 0; i < sizeof gad / sizeof gad[0]; i++) {
        spread(items, 7, gad[i].total);
        assert_int_equal(ses_scale_score(SES_SCALE_GAD7, items, 7, 0, &sc), 0);
        assert_int_equal(sc.band, gad[i].band);
    }
}

static void test_score_incomplete_and_invalid(void **state)
{
    (void)state;
    struct ses_scale_score sc;
    uint8_t items[10] = {3, 3, 3, 3, SES_ITEM_MISSING, 3, 3, 3, 3, 0};
    /* one PHQ-9 item missing: prorated, 24 * 9 / 8 = 27 */
    assert_int_equal(ses_scale_score(SES_SCALE_PHQ9, items, 9, 0, &sc), 0);
    assert_true(!sc.complete && sc.prorated && ses_scale_usable(&sc));
    assert_int_equal(sc.answered, 8);
    assert_int_equal(sc.sum, 24);
    assert_int_equal(sc.total, 27);
    assert_int_equal(sc.band, SES_BAND_PHQ_SEVERE);
    /* PHQ-2 and GAD-7 are never prorated */
    assert_int_equal(ses_scale_score(SES_SCALE_PHQ2, items + 3, 2, 0, &sc), 0);
    assert_true(!sc.complete && !sc.prorated && !ses_scale_usable(&sc));
    assert_int_equal(sc.band, SES_BAND_INCOMPLETE);
    assert_int_equal(sc.total, 3);
    assert_int_equal(ses_scale_score(SES_SCALE_GAD7, items, 7, 0, &sc), 0);
    assert_true(!sc.complete && !sc.prorated);
    assert_int_equal(sc.band, SES_BAND_INCOMPLETE);
    assert_int_equal(sc.total, 18);
    assert_int_equal(sc.sum, 18);
    assert_int_equal(sc.answered, 6);
    /* item values: 3 is the largest answer, 4..254 are invalid, 255 is missing */
    memset(items, 0, sizeof items);
    for (int v = 0; v <= 255; v++) {
        items[8] = (uint8_t)v;
        int rc = ses_scale_score(SES_SCALE_PHQ9, items, 9, 0, &sc);
        if (v <= 3) {
            assert_int_equal(rc, 0);
            assert_true(sc.complete);
        } else if (v == SES_ITEM_MISSING) {
            assert_int_equal(rc, 0);
            assert_true(!sc.complete && sc.prorated);
        } else {
            assert_int_equal(rc, SES_EBAD_SCALE);
        }
    }
    memset(items, 0, sizeof items);
    /* wrong counts */
    for (size_t n = 0; n <= 10; n++) {
        assert_int_equal(ses_scale_score(SES_SCALE_PHQ2, items, n, 0, &sc),
                         n == 2 ? 0 : SES_EBAD_SCALE);
        assert_int_equal(ses_scale_score(SES_SCALE_PHQ9, items, n, 0, &sc),
                         n == 9 ? 0 : SES_EBAD_SCALE);
        assert_int_equal(ses_scale_score(SES_SCALE_GAD7, items, n, 0, &sc),
                         n == 7 ? 0 : SES_EBAD_SCALE);
    }
    assert_int_equal(ses_scale_score((enum ses_scale)0, items, 9, 0, &sc), SES_EBAD_SCALE);
    assert_int_equal(ses_scale_score((enum ses_scale)4, items, 9, 0, &sc), SES_EBAD_SCALE);
    assert_int_equal(ses_scale_score(SES_SCALE_PHQ9, NULL, 9, 0, &sc), SES_EINVALID_ARG);
    assert_int_equal(ses_scale_score(SES_SCALE_PHQ9, items, 9, 0, NULL), SES_EINVALID_ARG);
    /* cut-off 0..6 */
    assert_int_equal(ses_scale_score(SES_SCALE_PHQ2, items, 2, -1, &sc), SES_EINVALID_ARG);
    assert_int_equal(ses_scale_score(SES_SCALE_PHQ2, items, 2, 7, &sc), SES_EINVALID_ARG);
    assert_int_equal(ses_scale_score(SES_SCALE_PHQ2, items, 2, 6, &sc), 0);
}

/* Every pattern of unanswered PHQ-9 items (512) with every sum of the answered ones: prorated
 * exactly when 1 or 2 are missing, the total sum * 9 / answered rounded half up (checked with
 * doubles: an exact half only occurs with 8 answered, where x.5 is exact); GAD-7 and PHQ-2 are
 * never prorated. */
static void test_score_prorating_every_pattern(void **state)
{
    (void)state;
    struct ses_scale_score sc;
    static const int counts[] = {SES_PHQ2_ITEMS, SES_GAD7_ITEMS, SES_PHQ9_ITEMS};
    for (size_t c = 0; c < 3; c++) {
        int n = counts[c];
        enum ses_scale scale = n == 9 ? SES_SCALE_PHQ9 : n == 7 ? SES_SCALE_GAD7 : SES_SCALE_PHQ2;
        for (unsigned mask = 0; mask < (1u << n); mask++) {
            int missing = 0;
            for (int i = 0; i < n; i++)
                missing += (int)((mask >> i) & 1u);
            int answered = n - missing;
            for (int sum = 0; sum <= 3 * answered; sum++) {
                uint8_t items[9], vals[9];
                spread(vals, (size_t)(answered ? answered : 1), sum);
                for (int i = 0, k = 0; i < n; i++)
                    items[i] = mask & (1u << i) ? SES_ITEM_MISSING : vals[k++];
                assert_int_equal(ses_scale_score(scale, items, (size_t)n, 0, &sc), 0);
                assert_int_equal(sc.answered, answered);
                assert_int_equal(sc.sum, sum);
                assert_int_equal(sc.complete, missing == 0);
                bool pro = n == 9 && missing >= 1 && missing <= 2;
                assert_int_equal(sc.prorated, pro);
                assert_int_equal(ses_scale_usable(&sc), missing == 0 || pro);
                int want = pro ? (int)((double)sum * 9.0 / answered + 0.5) : sum;
                assert_int_equal(sc.total, want);
                assert_true(sc.total >= 0 && sc.total <= 3 * n);
                if (pro)
                    assert_int_equal(sc.band, phq9_band_table(want));
                else if (missing > 0)
                    assert_int_equal(sc.band, SES_BAND_INCOMPLETE);
            }
        }
    }
    /* by hand: the half-up boundary (4.5 -> 5: mild, not minimal), 13.5 -> 14, 22.5 -> 23 */
    static const struct {
        uint8_t items[9];
        int total;
        enum ses_band band;
    } hand[] = {
        {{1, 1, 1, 1, 0, 0, 0, SES_ITEM_MISSING, 0}, 5, SES_BAND_PHQ_MILD},
        {{1, 1, 1, 0, 0, 0, 0, SES_ITEM_MISSING, 0}, 3, SES_BAND_PHQ_MINIMAL},
        {{1, 1, 1, 1, 1, 1, 1, 1, SES_ITEM_MISSING}, 9, SES_BAND_PHQ_MILD},
        {{2, 1, 1, 1, 1, 1, 1, 1, SES_ITEM_MISSING}, 10, SES_BAND_PHQ_MODERATE},
        {{2, 2, 2, 2, 1, 1, 1, SES_ITEM_MISSING, 1}, 14, SES_BAND_PHQ_MODERATE},
        {{3, 3, 3, 2, 2, 2, 2, SES_ITEM_MISSING, 0}, 19, SES_BAND_PHQ_MODSEVERE},
        {{3, 3, 3, 3, 2, 2, 2, SES_ITEM_MISSING, 0}, 20, SES_BAND_PHQ_SEVERE},
        {{3, 3, 3, 3, 2, 2, 2, SES_ITEM_MISSING, 2}, 23, SES_BAND_PHQ_SEVERE},
        {{SES_ITEM_MISSING, SES_ITEM_MISSING, 3, 3, 3, 3, 3, 3, 3}, 27, SES_BAND_PHQ_SEVERE},
        {{1, 1, 1, 1, 1, 1, SES_ITEM_MISSING, SES_ITEM_MISSING, 1}, 9, SES_BAND_PHQ_MILD},
        {{2, 1, 1, 1, 1, 1, SES_ITEM_MISSING, SES_ITEM_MISSING, 1}, 10, SES_BAND_PHQ_MODERATE},
    };
    for (size_t i = 0; i < sizeof hand / sizeof hand[0]; i++) {
        assert_int_equal(ses_scale_score(SES_SCALE_PHQ9, hand[i].items, 9, 0, &sc), 0);
        assert_true(sc.prorated && !sc.complete);
        assert_int_equal(sc.total, hand[i].total);
        assert_int_equal(sc.band, hand[i].band);
    }
    /* three missing: incomplete, total = sum */
    static const uint8_t three[9] = {
        SES_ITEM_MISSING, SES_ITEM_MISSING, SES_ITEM_MISSING, 3, 3, 3, 3, 3, 3};
    assert_int_equal(ses_scale_score(SES_SCALE_PHQ9, three, 9, 0, &sc), 0);
    assert_true(!sc.complete && !sc.prorated && !ses_scale_usable(&sc));
    assert_int_equal(sc.total, 18);
    assert_int_equal(sc.band, SES_BAND_INCOMPLETE);
    assert_false(ses_scale_usable(NULL));
}

static void test_band_strings(void **state)
{
    (void)state;
    static const char *codes[] = {"INCOMPLETE",    "PHQ_MINIMAL", "PHQ_MILD",      "PHQ_MODERATE",
                                  "PHQ_MODSEVERE", "PHQ_SEVERE",  "GAD_MINIMAL",   "GAD_MILD",
                                  "GAD_MODERATE",  "GAD_SEVERE",  "PHQ2_NEGATIVE", "PHQ2_POSITIVE"};
    static const char *labels[] = {"incomplete",        "minimal", "mild",     "moderate",
                                   "moderately severe", "severe",  "minimal",  "mild",
                                   "moderate",          "severe",  "negative", "positive"};
    for (int b = SES_BAND_INCOMPLETE; b <= SES_BAND_PHQ2_POSITIVE; b++) {
        assert_string_equal(ses_band_code((enum ses_band)b), codes[b]);
        assert_string_equal(ses_band_label((enum ses_band)b), labels[b]);
    }
    assert_string_equal(ses_band_code((enum ses_band)99), "INCOMPLETE");
    assert_string_equal(ses_band_label((enum ses_band) - 1), "incomplete");
}

/* --- change ---------------------------------------------------------------------------------- */

/* Every pair of totals, against the percentage: with truncation toward zero and a non-negative
 * numerator, pct >= 50 is exactly 2*latest <= baseline and pct >= 25 exactly 4*latest <=
 * 3*baseline. */
static void test_change_exhaustive(void **state)
{
    (void)state;
    struct ses_change c;
    for (int b = 0; b <= 27; b++)
        for (int l = 0; l <= 27; l++) {
            ses_change_compute(b, l, &c);
            assert_int_equal(c.applicable, b > 9);
            int pct = 0;
            if (b > 0) {
                int num = (b - l) * 100;
                pct = num >= 0 ? num / b : -((-num) / b);
            }
            assert_int_equal(c.pct, pct);
            bool resp = c.applicable && pct >= 50;
            assert_int_equal(c.response, resp);
            assert_int_equal(c.partial, c.applicable && pct >= 25 && pct < 50);
            assert_int_equal(c.remission, c.applicable && l <= 4);
            assert_int_equal(c.improved, l <= 9 || resp);
        }
    /* the boundaries by hand */
    ses_change_compute(10, 5, &c);
    assert_true(c.applicable && c.response && !c.partial && !c.remission && c.improved);
    assert_int_equal(c.pct, 50);
    ses_change_compute(9, 4, &c);
    assert_true(!c.applicable && !c.response && !c.remission && c.improved);
    ses_change_compute(20, 15, &c);
    assert_true(c.partial && !c.response);
    assert_int_equal(c.pct, 25);
    ses_change_compute(20, 16, &c);
    assert_true(!c.partial && !c.response && !c.improved);
    ses_change_compute(15, 20, &c);
    assert_int_equal(c.pct, -33);
    /* out of range: all zero */
    ses_change_compute(28, 0, &c);
    assert_false(c.applicable || c.improved || c.pct);
    ses_change_compute(10, -1, &c);
    assert_false(c.applicable || c.improved || c.pct);
    ses_change_compute(2147483647, 0, &c);
    assert_false(c.applicable);
    ses_change_compute(10, 5, NULL); /* no crash */
}

/* --- days ------------------------------------------------------------------------------------ */

static void test_day_parse_format(void **state)
{
    (void)state;
    int32_t d;
    char buf[11];
    assert_int_equal(day_of("1970-01-01"), 0);
    assert_int_equal(day_of("1970-01-02"), 1);
    assert_int_equal(day_of("1970-12-31"), 364);
    assert_int_equal(day_of("1971-01-01"), 365);
    assert_int_equal(day_of("2000-02-29"), 11016);
    assert_int_equal(day_of("2000-03-01"), 11017);
    assert_int_equal(day_of("2026-01-01"), 20454);
    assert_int_equal(day_of("2024-02-29") + 1, day_of("2024-03-01"));
    assert_int_equal(day_of("2400-02-29") + 1, day_of("2400-03-01"));
    assert_int_equal(day_of("2038-01-19"), 24855); /* 2^31 seconds */
    static const char *bad[] = {
        "2026-02-29",       "2100-02-29", "1900-02-29", "2026-13-01",   "2026-00-10",
        "2026-01-00",       "2026-01-32", "2026-04-31", "2026-06-31",   "2026-09-31",
        "2026-11-31",       "2026-1-01",  "2026-01-1",  "2026-01-010",  "26-01-01",
        "02026-01-01",      "",           "2026",       "2026-01-01 ",  " 2026-01-01",
        "2026-01-01T00:00", "2026/01/01", "2026_01-01", "+026-01-01",   "-026-01-01",
        "2026-0a-01",       "1969-12-31", "0000-01-01", "2026-01-01\n", "２０２６-01-01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = 12345;
        if (ses_day_parse(bad[i], &d) != SES_EBAD_FIELD)
            fail_msg("\"%s\" was accepted", bad[i]);
        assert_int_equal(d, 12345);
    }
    assert_int_equal(ses_day_parse(NULL, &d), SES_EINVALID_ARG);
    assert_int_equal(ses_day_parse("2026-01-01", NULL), SES_EINVALID_ARG);
    /* times of day: 00:00..23:59, exactly HH:MM */
    assert_int_equal(ses_time_of_day_parse("00:00"), 0);
    assert_int_equal(ses_time_of_day_parse("23:59"), 1439);
    assert_int_equal(ses_time_of_day_parse("09:05"), 545);
    static const char *bad_t[] = {"24:00", "23:60", "9:00",  "09:0", "0900",  "09:00 ",
                                  "09-00", "+9:00", "09:0a", "",     "１0:00"};
    for (size_t i = 0; i < sizeof bad_t / sizeof bad_t[0]; i++)
        if (ses_time_of_day_parse(bad_t[i]) != -1)
            fail_msg("\"%s\" was accepted", bad_t[i]);
    assert_int_equal(ses_time_of_day_parse(NULL), -1);
    ses_day_format(0, buf);
    assert_string_equal(buf, "1970-01-01");
    ses_day_format(SES_DAY_MAX, buf);
    assert_string_equal(buf, "9999-12-31");
    ses_day_format(SES_DAY_MIN - 1, buf);
    assert_string_equal(buf, "0000-00-00");
    ses_day_format(SES_DAY_MAX + 1, buf);
    assert_string_equal(buf, "0000-00-00");
    ses_day_format(INT32_MIN, buf);
    assert_string_equal(buf, "0000-00-00");
    assert_int_equal(ses_day_parse("10000-01-01", &d), SES_EBAD_FIELD);

    /* every day of the range, against a calendar counted one day at a time */
    int y = 1970, m = 1, dd = 1;
    for (int32_t day = SES_DAY_MIN; day <= SES_DAY_MAX; day++) {
        char want[40];
        snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, dd);
        ses_day_format(day, buf);
        if (strcmp(buf, want) != 0)
            fail_msg("day %d formats as %s, want %s", (int)day, buf, want);
        assert_int_equal(ses_day_parse(want, &d), 0);
        assert_int_equal(d, day);
        static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int len = mdays[m - 1] + (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
        if (++dd > len) {
            dd = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
    assert_int_equal(y, 10000);
}

/* --- record codec ---------------------------------------------------------------------------- */

static void roundtrip(const struct ses_record *r, const char *want_body, const char *want_text)
{
    uint8_t body[SES_RECORD_MAX];
    size_t len = 0;
    assert_int_equal(ses_record_encode(r, body, sizeof body, &len), 0);
    if (want_body != NULL) {
        if (len != strlen(want_body) || memcmp(body, want_body, len) != 0)
            fail_msg("encoded %.*s\nwant    %s", (int)len, (const char *)body, want_body);
    }
    /* deterministic, and exactly len bytes needed */
    uint8_t again[SES_RECORD_MAX];
    size_t len2 = 0;
    assert_int_equal(ses_record_encode(r, again, len, &len2), 0);
    assert_int_equal(len2, len);
    assert_memory_equal(again, body, len);
    assert_int_equal(ses_record_encode(r, again, len - 1, &len2), SES_ETOO_LARGE);
    assert_int_equal(len2, 0);
    struct ses_record back;
    char text[SES_RECORD_TEXT_MAX];
    assert_int_equal(ses_record_parse(body, len, &back, text, sizeof text), 0);
    assert_record_equal(&back, r);
    char gen[SES_RECORD_TEXT_MAX];
    ses_record_text(r, gen, sizeof gen);
    assert_string_equal(text, gen);
    if (want_text != NULL)
        assert_string_equal(text, want_text);
}

static void test_record_codec_direct(void **state)
{
    (void)state;
    struct ses_record r = {
        .kind = SES_RECORD_SCALES, .day = day_of("2026-11-23"), .has_phq9 = true, .has_gad7 = true};
    static const uint8_t p[9] = {2, 2, 2, 2, 2, 1, 1, 1, 1}, g[7] = {2, 1, 1, 1, 1, 1, 1};
    memcpy(r.phq9, p, 9);
    memcpy(r.gad7, g, 7);
    roundtrip(&r,
              "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"phq9\":[2,2,2,2,2,1,1,1,1],"
              "\"gad7\":[2,1,1,1,1,1,1],\"text\":\"PHQ-9 14 (moderate), item 9: 1; GAD-7 8 "
              "(mild)\"}",
              "PHQ-9 14 (moderate), item 9: 1; GAD-7 8 (mild)");
    struct ses_record plan = plan_rec(day_of("2026-11-01"), true);
    roundtrip(&plan,
              "{\"v\":1,\"kind\":\"plan\",\"date\":\"2026-11-01\",\"antidepressant\":true,"
              "\"text\":\"Treatment plan changed on 2026-11-01 (antidepressant)\"}",
              "Treatment plan changed on 2026-11-01 (antidepressant)");
    /* a plan record's scale fields are not encoded */
    plan.has_phq9 = true;
    plan.phq9[0] = 200;
    roundtrip(&plan, NULL, NULL);

    /* every scale combination, every total of each scale */
    for (int mask = 1; mask < 8; mask++)
        for (int t = 0; t <= 27; t++) {
            struct ses_record s = {.kind = SES_RECORD_SCALES, .day = 20000 + t};
            s.has_phq2 = mask & 1;
            s.has_phq9 = mask & 2;
            s.has_gad7 = mask & 4;
            spread(s.phq2, 2, t % 7);
            spread(s.phq9, 9, t);
            spread(s.gad7, 7, t % 22);
            roundtrip(&s, NULL, NULL);
        }
    /* day limits */
    struct ses_record s = phq9_rec(SES_DAY_MIN, 5, 0);
    roundtrip(&s, NULL, NULL);
    s.day = SES_DAY_MAX;
    roundtrip(&s, NULL, NULL);
    uint8_t body[SES_RECORD_MAX];
    size_t len = 99;
    s.day = SES_DAY_MAX + 1;
    assert_int_equal(ses_record_encode(&s, body, sizeof body, &len), SES_EBAD_SCALE);
    assert_int_equal(len, 0);
    s.day = SES_DAY_MIN - 1;
    assert_int_equal(ses_record_encode(&s, body, sizeof body, &len), SES_EBAD_SCALE);
    /* invalid records */
    s = phq9_rec(100, 5, 0);
    s.phq9[3] = 4;
    assert_int_equal(ses_record_encode(&s, body, sizeof body, &len), SES_EBAD_SCALE);
    s.phq9[3] = 3;
    assert_int_equal(ses_record_encode(&s, body, sizeof body, &len), 0);
    s.has_phq9 = false;
    assert_int_equal(ses_record_encode(&s, body, sizeof body, &len), SES_EBAD_SCALE);
    s = gad7_rec(100, 5);
    s.gad7[6] = 4;
    assert_int_equal(ses_record_encode(&s, body, sizeof body, &len), SES_EBAD_SCALE);
    s = gad7_rec(100, 5);
    s.has_phq2 = true;
    s.phq2[1] = 9;
    assert_int_equal(ses_record_encode(&s, body, sizeof body, &len), SES_EBAD_SCALE);
    s = gad7_rec(100, 5);
    s.kind = (enum ses_record_kind)0;
    assert_int_equal(ses_record_encode(&s, body, sizeof body, &len), SES_EBAD_SCALE);
    s.kind = (enum ses_record_kind)3;
    assert_int_equal(ses_record_encode(&s, body, sizeof body, &len), SES_EBAD_SCALE);
    assert_int_equal(ses_record_encode(NULL, body, sizeof body, &len), SES_EINVALID_ARG);
    s = gad7_rec(100, 5);
    assert_int_equal(ses_record_encode(&s, NULL, sizeof body, &len), SES_EINVALID_ARG);
    assert_int_equal(ses_record_encode(&s, body, sizeof body, NULL), SES_EINVALID_ARG);
    assert_int_equal(ses_record_encode(&s, body, 0, &len), SES_ETOO_LARGE);
}

static void test_record_parse_limits(void **state)
{
    (void)state;
    struct ses_record r;
    char text[64];
    /* SES_RECORD_MAX exactly, and one byte more */
    static const char prefix[] = "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"gad7\":["
                                 "0,0,0,0,0,0,0],\"text\":\"";
    char *big = malloc(SES_RECORD_MAX + 2);
    assert_non_null(big);
    for (size_t total = SES_RECORD_MAX; total <= SES_RECORD_MAX + 1; total++) {
        size_t pl = strlen(prefix);
        memcpy(big, prefix, pl);
        memset(big + pl, 'y', total - pl - 2);
        memcpy(big + total - 2, "\"}", 2);
        int rc = ses_record_parse((const uint8_t *)big, total, &r, text, sizeof text);
        assert_int_equal(rc, total <= SES_RECORD_MAX ? 0 : SES_EBAD_SCALE);
        if (rc == 0)
            assert_int_equal(strlen(text), sizeof text - 1); /* truncated to fit */
    }
    free(big);
    /* text truncation never splits a UTF-8 character; NULL text and a zero cap are fine */
    static const char euro[] = "{\"v\":1,\"kind\":\"plan\",\"date\":\"2026-11-01\","
                               "\"antidepressant\":false,\"text\":\"ab\xE2\x82\xAC\xE2\x82\xAC\"}";
    char small[9];
    for (size_t cap = 1; cap <= sizeof small; cap++) {
        memset(small, 'Z', sizeof small);
        assert_int_equal(ses_record_parse((const uint8_t *)euro, strlen(euro), &r, small, cap), 0);
        static const size_t want[] = {0, 0, 1, 2, 2, 2, 5, 5, 5, 8};
        assert_int_equal(strlen(small), want[cap]);
    }
    assert_int_equal(ses_record_parse((const uint8_t *)euro, strlen(euro), &r, NULL, 0), 0);
    assert_int_equal(ses_record_parse((const uint8_t *)euro, strlen(euro), &r, small, 0), 0);
    assert_int_equal(r.kind, SES_RECORD_PLAN);
    assert_false(r.antidepressant);
    /* bad arguments */
    assert_int_equal(ses_record_parse(NULL, 0, &r, NULL, 0), SES_EBAD_SCALE);
    assert_int_equal(ses_record_parse(NULL, 5, &r, NULL, 0), SES_EINVALID_ARG);
    assert_int_equal(ses_record_parse((const uint8_t *)euro, strlen(euro), NULL, NULL, 0),
                     SES_EINVALID_ARG);
    /* a failed parse leaves a zeroed record and an empty text */
    memset(&r, 0x5A, sizeof r);
    strcpy(text, "old");
    assert_int_equal(
        ses_record_parse((const uint8_t *)euro, strlen(euro) - 1, &r, text, sizeof text),
        SES_EBAD_SCALE);
    assert_int_equal(r.kind, 0);
    assert_int_equal(r.day, 0);
    assert_string_equal(text, "");
    /* a record that failed late (after the date) is zeroed too */
    static const char late[] = "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"phq9\":["
                               "1,1,1,1,1,1,1,1,4],\"text\":\"t\"}";
    memset(&r, 0x5A, sizeof r);
    assert_int_equal(ses_record_parse((const uint8_t *)late, strlen(late), &r, text, sizeof text),
                     SES_EBAD_SCALE);
    assert_int_equal(r.day, 0);
    assert_false(r.has_phq9);
}

static void test_record_text(void **state)
{
    (void)state;
    char out[SES_RECORD_TEXT_MAX];
    struct ses_record r = {.kind = SES_RECORD_SCALES, .day = 0, .has_phq2 = true};
    r.phq2[0] = 1;
    r.phq2[1] = 1;
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "PHQ-2 2 (negative)");
    r.phq2[1] = 2;
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "PHQ-2 3 (positive: complete PHQ-9 and GAD-7)");
    r = phq9_rec(0, 17, 3);
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "PHQ-9 17 (moderately severe), item 9: 3");
    r.phq9[0] = SES_ITEM_MISSING; /* 15 of 8 items: 16.875 -> 17 */
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "PHQ-9 17 (moderately severe, prorated from 8 of 9 items), item 9: 3");
    r.phq9[8] = SES_ITEM_MISSING; /* 12 of 7 items: 15.43 -> 15 */
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "PHQ-9 15 (moderately severe, prorated from 7 of 9 items), item 9: "
                             "not answered");
    r.phq9[1] = SES_ITEM_MISSING;
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "PHQ-9 incomplete (6 of 9 answered), item 9: not answered");
    r.phq9[8] = 3; /* 13 of 7 items: 16.71 -> 17 */
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "PHQ-9 17 (moderately severe, prorated from 7 of 9 items), item 9: 3");
    r.phq9[2] = SES_ITEM_MISSING;
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "PHQ-9 incomplete (6 of 9 answered), item 9: 3");
    memset(r.phq9, SES_ITEM_MISSING, sizeof r.phq9);
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "PHQ-9 incomplete (0 of 9 answered), item 9: not answered");
    r.phq9[8] = 7;
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "PHQ-9 invalid");
    r = gad7_rec(0, 21);
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "GAD-7 21 (severe)");
    r.has_phq2 = true;
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "PHQ-2 0 (negative); GAD-7 21 (severe)");
    r = plan_rec(day_of("2026-11-01"), false);
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "Treatment plan changed on 2026-11-01");
    /* truncation, cap 0, NULL record, unknown kind */
    char tiny[6] = "xxxxx";
    ses_record_text(&r, tiny, sizeof tiny);
    assert_string_equal(tiny, "Treat");
    ses_record_text(&r, tiny, 1);
    assert_string_equal(tiny, "");
    tiny[0] = 'q';
    ses_record_text(&r, tiny, 0);
    assert_int_equal(tiny[0], 'q');
    ses_record_text(NULL, out, sizeof out);
    assert_string_equal(out, "");
    r.kind = (enum ses_record_kind)9;
    ses_record_text(&r, out, sizeof out);
    assert_string_equal(out, "");
}

/* Unanswered items on the wire: null in the array, both ways; a scale with no answer refused. */
static void test_record_codec_nulls(void **state)
{
    (void)state;
    const uint8_t M = SES_ITEM_MISSING;
    struct ses_record r = {
        .kind = SES_RECORD_SCALES, .day = day_of("2026-11-23"), .has_phq9 = true};
    static const uint8_t p[9] = {1, 1, SES_ITEM_MISSING, 1, 1, 1, 1, 1, 3};
    memcpy(r.phq9, p, 9);
    assert_int_equal(ses_record_check(&r), 0);
    roundtrip(
        &r,
        "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"phq9\":[1,1,null,1,1,1,1,1,3],"
        "\"text\":\"PHQ-9 11 (moderate, prorated from 8 of 9 items), item 9: 3\"}",
        "PHQ-9 11 (moderate, prorated from 8 of 9 items), item 9: 3");
    /* every single answered item of each scale, every single unanswered item */
    for (int scale = 0; scale < 3; scale++) {
        size_t n = scale == 0 ? SES_PHQ2_ITEMS : scale == 1 ? SES_PHQ9_ITEMS : SES_GAD7_ITEMS;
        for (size_t k = 0; k < n; k++)
            for (int one = 0; one <= 1; one++) {
                struct ses_record s = {.kind = SES_RECORD_SCALES, .day = 20000};
                uint8_t *items = scale == 0 ? s.phq2 : scale == 1 ? s.phq9 : s.gad7;
                *(scale == 0 ? &s.has_phq2 : scale == 1 ? &s.has_phq9 : &s.has_gad7) = true;
                for (size_t i = 0; i < n; i++)
                    items[i] = (i == k) == one ? (uint8_t)(i % 4) : M;
                roundtrip(&s, NULL, NULL);
            }
    }
    /* a present scale with no answer at all: refused by the check, the encoder and the parser */
    uint8_t body[SES_RECORD_MAX];
    size_t len = 99;
    struct ses_record all = r;
    memset(all.phq9, M, sizeof all.phq9);
    assert_int_equal(ses_record_check(&all), SES_EBAD_SCALE);
    assert_int_equal(ses_record_encode(&all, body, sizeof body, &len), SES_EBAD_SCALE);
    assert_int_equal(len, 0);
    all.has_gad7 = true; /* another scale answered does not save it */
    spread(all.gad7, 7, 5);
    assert_int_equal(ses_record_check(&all), SES_EBAD_SCALE);
    all.has_phq9 = false;
    assert_int_equal(ses_record_check(&all), 0);
    memset(all.phq2, M, sizeof all.phq2);
    all.has_phq2 = true;
    assert_int_equal(ses_record_check(&all), SES_EBAD_SCALE);
    assert_int_equal(ses_record_check(NULL), SES_EINVALID_ARG);
    struct ses_record plan = plan_rec(100, false);
    memset(plan.phq9, M, sizeof plan.phq9); /* a plan's scale fields are not looked at */
    plan.has_phq9 = true;
    assert_int_equal(ses_record_check(&plan), 0);
    struct ses_record back;
    static const char *refused[] = {
        "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"phq9\":[null,null,null,null,null,"
        "null,null,null,null],\"text\":\"t\"}",
        "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"gad7\":[null,null,null,null,null,"
        "null,null],\"phq2\":[1,1],\"text\":\"t\"}",
        "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"phq2\":[null,null],\"text\":\"t\"}",
        "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"phq2\":[null],\"text\":\"t\"}",
        "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"phq2\":[1,null,null],\"text\":"
        "\"t\"}",
        "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"phq2\":[1,\"null\"],\"text\":"
        "\"t\"}",
        "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"phq2\":[1,255],\"text\":\"t\"}",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        if (ses_record_parse((const uint8_t *)refused[i], strlen(refused[i]), &back, NULL, 0) !=
            SES_EBAD_SCALE)
            fail_msg("accepted %s", refused[i]);
    /* the parser maps null to SES_ITEM_MISSING */
    static const char ok[] = "{\"v\":1,\"kind\":\"scales\",\"date\":\"2026-11-23\",\"phq2\":[null,"
                             "2],\"gad7\":[0,null,0,null,0,null,3],\"text\":\"t\"}";
    assert_int_equal(ses_record_parse((const uint8_t *)ok, strlen(ok), &back, NULL, 0), 0);
    assert_true(back.has_phq2 && back.has_gad7 && !back.has_phq9);
    assert_int_equal(back.phq2[0], M);
    assert_int_equal(back.phq2[1], 2);
    static const uint8_t g[7] = {0, SES_ITEM_MISSING, 0, SES_ITEM_MISSING, 0, SES_ITEM_MISSING, 3};
    assert_memory_equal(back.gad7, g, 7);
}

/* --- rules, direct --------------------------------------------------------------------------- */

static void test_rules_arguments(void **state)
{
    (void)state;
    struct ses_episode ep;
    struct ses_trigger t[SES_TRIGGERS_MAX];
    size_t n;
    struct ses_record latest = phq9_rec(100, 10, 0), plan = plan_rec(90, true);
    struct ses_record h[2] = {phq9_rec(50, 12, 0), plan};
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, NULL, &ep, t, &n), 0);
    assert_int_equal(ses_rules_evaluate(NULL, 0, &latest, false, NULL, &ep, t, &n), 0);
    assert_int_equal(ses_rules_evaluate(NULL, 1, &latest, false, NULL, &ep, t, &n),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_rules_evaluate(h, 2, NULL, false, NULL, &ep, t, &n), SES_EINVALID_ARG);
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, NULL, NULL, t, &n), SES_EINVALID_ARG);
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, NULL, &ep, NULL, &n),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, NULL, &ep, t, NULL),
                     SES_EINVALID_ARG);
    assert_int_equal(ses_rules_evaluate(h, 2, &plan, false, NULL, &ep, t, &n), SES_EINVALID_ARG);
    /* config limits */
    struct ses_rules_config cfg = {SES_RULES_WEEKS_MAX, 0, SES_RULES_WEEKS_MAX};
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, &cfg, &ep, t, &n), 0);
    cfg.not_improving_weeks = SES_RULES_WEEKS_MAX + 1;
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, &cfg, &ep, t, &n), SES_EINVALID_ARG);
    cfg.not_improving_weeks = -1;
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, &cfg, &ep, t, &n), SES_EINVALID_ARG);
    cfg = (struct ses_rules_config){8, -1, 6};
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, &cfg, &ep, t, &n), SES_EINVALID_ARG);
    cfg = (struct ses_rules_config){8, 4, SES_RULES_WEEKS_MAX + 1};
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, &cfg, &ep, t, &n), SES_EINVALID_ARG);
    cfg = (struct ses_rules_config){8, 7, 6};
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, &cfg, &ep, t, &n), SES_EINVALID_ARG);
    cfg = (struct ses_rules_config){8, 6, 6};
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, &cfg, &ep, t, &n), 0);
    /* invalid records, in history or latest */
    struct ses_record bad = phq9_rec(60, 10, 0);
    bad.phq9[2] = 4;
    h[0] = bad;
    assert_int_equal(ses_rules_evaluate(h, 2, &latest, false, NULL, &ep, t, &n), SES_EBAD_SCALE);
    assert_int_equal(ses_rules_evaluate(NULL, 0, &bad, false, NULL, &ep, t, &n), SES_EBAD_SCALE);
    bad = phq9_rec(60, 10, 0);
    bad.has_phq9 = false; /* no scale at all */
    assert_int_equal(ses_rules_evaluate(NULL, 0, &bad, false, NULL, &ep, t, &n), SES_EBAD_SCALE);
    h[0] = bad;
    assert_int_equal(ses_rules_evaluate(h, 1, &latest, false, NULL, &ep, t, &n), SES_EBAD_SCALE);
    h[0] = phq9_rec(SES_DAY_MAX + 1, 10, 0);
    assert_int_equal(ses_rules_evaluate(h, 1, &latest, false, NULL, &ep, t, &n), SES_EBAD_SCALE);
    h[0] = plan_rec(-1, true);
    assert_int_equal(ses_rules_evaluate(h, 1, &latest, false, NULL, &ep, t, &n), SES_EBAD_SCALE);
    h[0] = phq9_rec(60, 10, 0);
    h[0].kind = (enum ses_record_kind)7;
    assert_int_equal(ses_rules_evaluate(h, 1, &latest, false, NULL, &ep, t, &n), SES_EBAD_SCALE);
    /* missing items are allowed here, even a scale with none answered (incomplete scales count
     * as absent) */
    h[0] = phq9_rec(60, 10, 0);
    h[0].phq9[0] = h[0].phq9[1] = h[0].phq9[2] = SES_ITEM_MISSING;
    assert_int_equal(ses_rules_evaluate(h, 1, &latest, false, NULL, &ep, t, &n), 0);
    assert_int_equal(ep.baseline, 10); /* the latest's own */
    assert_false(ep.has_previous);
    memset(h[0].phq9, SES_ITEM_MISSING, sizeof h[0].phq9);
    assert_int_equal(ses_rules_evaluate(h, 1, &latest, false, NULL, &ep, t, &n), 0);
    assert_false(ep.has_previous);
    assert_int_equal(ses_rules_evaluate(NULL, 0, &h[0], false, NULL, &ep, t, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].variant, "item9_unanswered");
}

/* A01, A04: every value, one record. */
static void test_rules_a01_a04_sweep(void **state)
{
    (void)state;
    struct ses_episode ep;
    struct ses_trigger t[SES_TRIGGERS_MAX];
    for (int item9 = 0; item9 <= 3; item9++)
        for (int p = item9; p <= 24 + item9; p++)
            for (int rp = 0; rp <= 1; rp++) {
                struct ses_record r = phq9_rec(1000, p, item9);
                size_t n = evaluate(NULL, 0, &r, rp, NULL, &ep, t);
                assert_int_equal(has(t, n, "A01", "item9_1"), item9 == 1);
                assert_int_equal(has(t, n, "A01", "item9_2"), item9 >= 2);
                if (item9 > 0)
                    assert_string_equal(t[0].type, "A01");
                assert_int_equal(has(t, n, "A04", ""), p >= 20);
                assert_false(has(t, n, "A05", NULL) || has(t, n, "A06", NULL) ||
                             has(t, n, "A10", NULL) || has(t, n, "A06b", NULL));
                assert_int_equal(has(t, n, "A11", ""), rp && p >= 10);
                assert_true(ep.has_baseline && ep.baseline == p && !ep.has_previous);
            }
    for (int g = 0; g <= 21; g++) {
        struct ses_record r = gad7_rec(1000, g);
        size_t n = evaluate(NULL, 0, &r, false, NULL, &ep, t);
        assert_int_equal(n, g >= 15 ? 1 : 0);
        assert_false(ep.has_baseline || ep.has_plan);
    }
}

/* A05 and A11: every (previous, latest) pair, with an independent statement of each rule. */
static void test_rules_a05_a11_sweep(void **state)
{
    (void)state;
    struct ses_episode ep;
    struct ses_trigger t[SES_TRIGGERS_MAX];
    for (int prev = 0; prev <= 27; prev++)
        for (int p = 0; p <= 27; p++) {
            struct ses_record h[1] = {phq9_rec(1000, prev, 0)}, r = phq9_rec(1014, p, 0);
            size_t n = evaluate(h, 1, &r, false, NULL, &ep, t);
            bool worse = p - prev >= 5 || (prev <= 14 && p >= 15);
            assert_int_equal(has(t, n, "A05", ""), worse);
            assert_false(has(t, n, "A11", NULL));
            n = evaluate(h, 1, &r, true, NULL, &ep, t);
            assert_false(has(t, n, "A05", NULL));
            assert_int_equal(has(t, n, "A11", ""), p >= 10 || p - prev >= 5);
            /* GAD-7 */
            if (prev <= 21 && p <= 21) {
                struct ses_record hg[1] = {gad7_rec(1000, prev)}, rg = gad7_rec(1014, p);
                n = evaluate(hg, 1, &rg, false, NULL, &ep, t);
                assert_int_equal(has(t, n, "A05", ""), p - prev >= 4 || (prev <= 14 && p >= 15));
                /* relapse prevention: the GAD-7 rules of A05 still apply */
                n = evaluate(hg, 1, &rg, true, NULL, &ep, t);
                assert_int_equal(has(t, n, "A05", ""), p - prev >= 4 || (prev <= 14 && p >= 15));
                assert_false(has(t, n, "A11", NULL));
            }
        }
    /* nadir: previous 10, nadir 6 */
    for (int p = 0; p <= 27; p++) {
        struct ses_record h[3] = {phq9_rec(0, 12, 0), phq9_rec(14, 6, 0), phq9_rec(28, 10, 0)};
        struct ses_record r = phq9_rec(42, p, 0);
        size_t n = evaluate(h, 3, &r, false, NULL, &ep, t);
        assert_int_equal(ep.nadir, 6);
        assert_int_equal(ep.previous, 10);
        assert_int_equal(has(t, n, "A05", ""), p >= 11);
    }
}

/* A06 and A06b: weeks on the plan x latest, plan start score 16. */
static void test_rules_a06_sweep(void **state)
{
    (void)state;
    struct ses_episode ep;
    struct ses_trigger t[SES_TRIGGERS_MAX];
    for (int ad = 0; ad <= 1; ad++)
        for (int days = 0; days <= 100; days++)
            for (int p = 0; p <= 27; p++) {
                struct ses_record h[2] = {phq9_rec(1000, 16, 0), plan_rec(1000, ad)};
                struct ses_record r = phq9_rec(1000 + days, p, 0);
                size_t n = evaluate(h, 2, &r, false, NULL, &ep, t);
                int weeks = days / 7;
                assert_int_equal(ep.weeks_on_plan, weeks);
                assert_true(ep.plan_recorded && ep.has_plan_start_score);
                assert_int_equal(ep.plan_start_score, 16);
                /* less than 50 % below 16 is 9 or more; not in remission is 5 or more */
                assert_int_equal(has(t, n, "A06", ""), weeks >= 10 && p >= 9);
                /* < 25 % reduction from 16 is a latest of 13 or more */
                assert_int_equal(has(t, n, "A06b", ""), ad && weeks >= 4 && weeks <= 6 && p >= 13);
            }
    /* the plan record's day caps at the latest's: a later plan is ignored */
    struct ses_record h[2] = {phq9_rec(1000, 18, 0), plan_rec(1071, true)};
    struct ses_record r = phq9_rec(1070, 12, 0);
    size_t n = evaluate(h, 2, &r, false, NULL, &ep, t);
    assert_false(ep.plan_recorded);
    assert_int_equal(ep.plan_day, 1000);
    assert_int_equal(ep.weeks_on_plan, 10);
    assert_true(has(t, n, "A06", ""));
    /* a latest dated before the history's PHQ-9 is the baseline itself: the implicit plan starts
     * on its day, weeks_on_plan is 0, not negative */
    r = phq9_rec(990, 12, 0);
    evaluate(h, 1, &r, false, NULL, &ep, t);
    assert_true(ep.has_baseline && ep.baseline == 12 && ep.baseline_day == 990);
    assert_false(ep.has_previous);
    assert_true(ep.has_plan && ep.plan_day == 990);
    assert_int_equal(ep.weeks_on_plan, 0);
}

/* A10: every (baseline, previous, latest) triple. */
static void test_rules_a10_sweep(void **state)
{
    (void)state;
    struct ses_episode ep;
    struct ses_trigger t[SES_TRIGGERS_MAX];
    for (int b = 0; b <= 27; b++)
        for (int prev = 0; prev <= 27; prev++)
            for (int p = 0; p <= 27; p++) {
                struct ses_record h[2] = {phq9_rec(1000, b, 0), phq9_rec(1014, prev, 0)};
                struct ses_record r = phq9_rec(1028, p, 0);
                size_t n = evaluate(h, 2, &r, false, NULL, &ep, t);
                bool remission = b >= 10 && p <= 4 && prev >= 5;
                /* response: at least half off the baseline now, not before */
                bool response = b >= 10 && !remission && p * 2 <= b && prev * 2 > b;
                assert_int_equal(has(t, n, "A10", "remission"), remission);
                assert_int_equal(has(t, n, "A10", "response"), response);
                assert_int_equal(ep.baseline, b);
                assert_int_equal(ep.nadir, b < prev ? b : prev);
            }
}

/* The episode figures, and plan-start rules, on one hand-built history. */
static void test_rules_episode(void **state)
{
    (void)state;
    struct ses_episode ep;
    struct ses_trigger t[SES_TRIGGERS_MAX];
    struct ses_record h[] = {
        gad7_rec(990, 9),      /* GAD-7 before any PHQ-9 */
        phq9_rec(1000, 20, 0), /* baseline */
        plan_rec(1007, false), /* first plan */
        phq9_rec(1014, 12, 0), /* nadir */
        plan_rec(1028, true),  /* current plan */
        phq9_rec(1035, 17, 0), /* previous; the plan start is 12, the last on or before 1028 */
        gad7_rec(1036, 11),    /* gad_previous */
        plan_rec(2000, false), /* after the latest: ignored */
    };
    struct ses_record r = phq9_rec(1063, 16, 0);
    r.has_gad7 = true;
    spread(r.gad7, 7, 6);
    size_t n = evaluate(h, sizeof h / sizeof h[0], &r, false, NULL, &ep, t);
    assert_true(ep.has_baseline && ep.baseline == 20);
    assert_true(ep.has_previous && ep.previous == 17);
    assert_true(ep.has_nadir && ep.nadir == 12);
    assert_true(ep.has_gad_previous && ep.gad_previous == 11);
    assert_true(ep.has_plan && ep.plan_recorded && ep.plan_day == 1028 && ep.plan_antidepressant);
    assert_true(ep.has_plan_start_score && ep.plan_start_score == 12); /* last on/before 1028 */
    assert_int_equal(ep.weeks_on_plan, 5);
    assert_true(ep.change.applicable);
    assert_int_equal(ep.change.pct, 20);
    char got[128];
    joined(t, n, got, sizeof got);
    /* 16 >= nadir 12 + 4 only: no A05; 4*16 > 3*12: A06b */
    assert_string_equal(got, "A06b");
    r.phq9[0] = (uint8_t)(r.phq9[0] + 1); /* 17 = nadir + 5 */
    n = evaluate(h, sizeof h / sizeof h[0], &r, false, NULL, &ep, t);
    joined(t, n, got, sizeof got);
    assert_string_equal(got, "A05,A06b");
}

/* Triggers joined, for one evaluation: "A01/item9_2,A04". */
static const char *eval_str(const struct ses_record *h, size_t n, const struct ses_record *latest,
                            bool rp, const struct ses_rules_config *cfg, struct ses_episode *ep)
{
    static char buf[256];
    struct ses_trigger t[SES_TRIGGERS_MAX];
    size_t nt = evaluate(h, n, latest, rp, cfg, ep, t);
    joined(t, nt, buf, sizeof buf);
    return buf;
}

/* A PHQ-9 of that total (item 9 = 0) with its first `missing` items unanswered. */
static struct ses_record phq9_missing(int32_t day, int total, int missing)
{
    struct ses_record r = phq9_rec(day, total, 0);
    for (int i = 0; i < missing; i++)
        r.phq9[i] = SES_ITEM_MISSING;
    return r;
}

/* A01/item9_unanswered whenever the latest's PHQ-9 lacks item 9, whatever else is missing; the
 * other variants from the item's value whatever else is missing. */
static void test_rules_item9_unanswered(void **state)
{
    (void)state;
    struct ses_episode ep;
    struct ses_trigger t[SES_TRIGGERS_MAX];
    for (int others = 0; others <= 8; others++)
        for (int item9 = 0; item9 <= 4; item9++)
            for (int rp = 0; rp <= 1; rp++) {
                struct ses_record r = phq9_rec(1000, 0, 0);
                for (int i = 0; i < others; i++)
                    r.phq9[i] = SES_ITEM_MISSING;
                r.phq9[8] = item9 == 4 ? SES_ITEM_MISSING : (uint8_t)item9;
                size_t n = evaluate(NULL, 0, &r, rp, NULL, &ep, t);
                const char *want = item9 == 4   ? "item9_unanswered"
                                   : item9 == 1 ? "item9_1"
                                   : item9 >= 2 ? "item9_2"
                                                : NULL;
                size_t a01 = 0;
                for (size_t k = 0; k < n; k++)
                    a01 += strcmp(t[k].type, "A01") == 0;
                assert_int_equal(a01, want != NULL);
                if (want != NULL) {
                    assert_string_equal(t[0].type, "A01");
                    assert_string_equal(t[0].variant, want);
                }
            }
    struct ses_record r = phq9_rec(1000, 12, 0);
    r.phq9[8] = SES_ITEM_MISSING;
    size_t n = evaluate(NULL, 0, &r, false, NULL, &ep, t);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].why, "PHQ-9 item 9 not answered: ask it directly");
    /* only the latest's item 9 counts; a GAD-7 alone has none */
    struct ses_record h[1] = {r};
    struct ses_record latest = phq9_rec(1014, 12, 0);
    assert_string_equal(eval_str(h, 1, &latest, false, NULL, &ep), "");
    latest = gad7_rec(1014, 3);
    latest.gad7[0] = SES_ITEM_MISSING;
    assert_string_equal(eval_str(h, 1, &latest, false, NULL, &ep), "");
    /* with the other rules: prorated 27 (A04), a rise from 12 (A05) */
    latest = phq9_rec(1014, 24, 0);
    latest.phq9[8] = SES_ITEM_MISSING;
    struct ses_record h2[1] = {phq9_rec(1000, 12, 0)};
    assert_string_equal(eval_str(h2, 1, &latest, false, NULL, &ep), "A01/item9_unanswered,A04,A05");
}

/* Only usable scores (complete or prorated) count for totals, baseline, previous, nadir,
 * plan-start score and change. */
static void test_rules_usable_only(void **state)
{
    (void)state;
    struct ses_episode ep;
    /* incomplete history PHQ-9s are no baseline, previous or nadir; prorated ones are */
    struct ses_record h[3] = {phq9_missing(1000, 20, 3), phq9_missing(1014, 4, 3),
                              phq9_missing(1021, 12, 1)};
    struct ses_record r = phq9_rec(1028, 17, 0);
    assert_string_equal(eval_str(h, 2, &r, false, NULL, &ep), "");
    assert_true(ep.has_baseline && ep.baseline == 17 && ep.baseline_day == 1028);
    assert_false(ep.has_previous || ep.has_nadir);
    assert_true(ep.has_change && ep.change.pct == 0);
    /* the prorated 11 (10 of 8 items: 11.25 -> 11) is baseline, previous and nadir: 17 = +6 */
    assert_string_equal(eval_str(h, 3, &r, false, NULL, &ep), "A05");
    assert_true(ep.baseline == 11 && ep.previous == 11 && ep.nadir == 11);
    assert_int_equal(ep.baseline_day, 1021);
    /* a latest incomplete PHQ-9: no totals rule, no change, even from a sum of 24 */
    struct ses_record hi[1] = {phq9_rec(1000, 4, 0)};
    r = phq9_missing(1030, 27, 3);
    r.phq9[8] = 0;
    assert_string_equal(eval_str(hi, 1, &r, true, NULL, &ep), "");
    assert_true(ep.has_baseline && ep.baseline == 4 && ep.has_previous);
    assert_false(ep.has_change);
    assert_false(ep.change.applicable || ep.change.improved);
    /* the same latest prorated (one missing): 24 of 8 items -> 27: A04, A11 */
    r = phq9_missing(1030, 27, 1);
    r.phq9[8] = 0;
    r.phq9[1] = 3;
    assert_string_equal(eval_str(hi, 1, &r, true, NULL, &ep), "A04,A11");
    assert_true(ep.has_change);
    /* the plan start skips an incomplete PHQ-9 on the plan day */
    struct ses_record hp[3] = {phq9_rec(1000, 20, 0), plan_rec(1000, true),
                               phq9_missing(1000, 2, 3)};
    r = phq9_rec(1028, 16, 0); /* 4*16 = 64 > 3*20: A06b */
    assert_string_equal(eval_str(hp, 3, &r, false, NULL, &ep), "A06b");
    assert_int_equal(ep.plan_start_score, 20);
    /* GAD-7: an incomplete previous is skipped, an incomplete latest raises nothing */
    struct ses_record hg[2] = {gad7_rec(1000, 6), gad7_rec(1014, 0)};
    hg[1].gad7[0] = SES_ITEM_MISSING;
    r = gad7_rec(1028, 10);
    assert_string_equal(eval_str(hg, 2, &r, false, NULL, &ep), "A05");
    assert_int_equal(ep.gad_previous, 6);
    r = gad7_rec(1028, 21);
    r.gad7[6] = SES_ITEM_MISSING; /* sum 18 */
    assert_string_equal(eval_str(hg, 2, &r, false, NULL, &ep), "");
}

static bool episode_equal(const struct ses_episode *a, const struct ses_episode *b)
{
    return a->has_baseline == b->has_baseline && a->baseline == b->baseline &&
           a->baseline_day == b->baseline_day && a->has_previous == b->has_previous &&
           a->previous == b->previous && a->has_nadir == b->has_nadir && a->nadir == b->nadir &&
           a->has_gad_previous == b->has_gad_previous && a->gad_previous == b->gad_previous &&
           a->has_plan == b->has_plan && a->plan_day == b->plan_day &&
           a->plan_antidepressant == b->plan_antidepressant &&
           a->has_plan_start_score == b->has_plan_start_score &&
           a->plan_start_score == b->plan_start_score && a->weeks_on_plan == b->weeks_on_plan &&
           a->has_change == b->has_change && a->change.pct == b->change.pct &&
           a->change.response == b->change.response && a->change.remission == b->change.remission &&
           a->plan_recorded == b->plan_recorded;
}

/* Records are read by their day, same-day ones in entry order, the latest entered last. */
static void test_rules_date_order(void **state)
{
    (void)state;
    struct ses_episode ep;
    const int32_t D = 20000;
    /* the brief's case: 20 on D, 10 on D+28; an 18 dated D+14 entered last is no worsening */
    struct ses_record h[8] = {phq9_rec(D, 20, 0), phq9_rec(D + 28, 10, 0)};
    struct ses_record r = phq9_rec(D + 14, 18, 0);
    assert_string_equal(eval_str(h, 2, &r, false, NULL, &ep), "");
    assert_true(ep.baseline == 20 && ep.previous == 20 && ep.nadir == 20);
    assert_string_equal(eval_str(h, 2, &r, true, NULL, &ep), "A11"); /* 18 >= 10 */
    /* and no A10 against the later-dated record: previous is 8 (D+7), not 14 (D+28) */
    struct ses_record h3[3] = {phq9_rec(D, 20, 0), phq9_rec(D + 7, 8, 0), phq9_rec(D + 28, 14, 0)};
    r = phq9_rec(D + 14, 9, 0);
    assert_string_equal(eval_str(h3, 3, &r, false, NULL, &ep), "");
    assert_int_equal(ep.previous, 8);
    /* a later-dated baseline: the new record dated before all others is the baseline */
    h[0] = phq9_rec(D + 28, 12, 0);
    r = phq9_rec(D, 20, 0);
    assert_string_equal(eval_str(h, 1, &r, false, NULL, &ep), "A04");
    assert_true(ep.has_baseline && ep.baseline == 20 && ep.baseline_day == D);
    assert_false(ep.has_previous || ep.has_nadir);
    assert_true(ep.has_plan && ep.plan_day == D && ep.weeks_on_plan == 0);
    /* a baseline entered after a later-dated record still is the baseline */
    h[0] = phq9_rec(D + 14, 20, 0);
    h[1] = phq9_rec(D, 16, 0);
    r = phq9_rec(D + 28, 12, 0);
    assert_string_equal(eval_str(h, 2, &r, false, NULL, &ep), "");
    assert_true(ep.baseline == 16 && ep.baseline_day == D && ep.previous == 20 && ep.nadir == 16);
    assert_int_equal(ep.weeks_on_plan, 4);
    /* without a usable PHQ-9 of its own, the latest has no implicit plan from a later baseline */
    r = gad7_rec(D - 7, 5);
    evaluate(h, 2, &r, false, NULL, &ep, (struct ses_trigger[SES_TRIGGERS_MAX]){0});
    assert_true(ep.has_baseline && ep.baseline == 16);
    assert_false(ep.has_plan || ep.has_previous || ep.has_change);
    /* same day: history counts as before the latest, and among itself in entry order */
    h[0] = phq9_rec(D, 20, 0);
    h[1] = phq9_rec(D + 14, 8, 0);
    h[2] = phq9_rec(D + 14, 12, 0);
    r = phq9_rec(D + 14, 10, 0);
    assert_string_equal(eval_str(h, 3, &r, false, NULL, &ep), "A10/response");
    assert_int_equal(ep.previous, 12);
    h[1] = phq9_rec(D + 14, 12, 0);
    h[2] = phq9_rec(D + 14, 8, 0);
    assert_string_equal(eval_str(h, 3, &r, false, NULL, &ep), "");
    assert_int_equal(ep.previous, 8);
    /* plans: the last dated on or before the latest (same-day ones in entry order) */
    h[0] = plan_rec(D, true);
    h[1] = plan_rec(D, false);
    h[2] = phq9_rec(D, 16, 0);
    h[3] = plan_rec(D + 29, true); /* after the latest */
    r = phq9_rec(D + 28, 13, 0);
    assert_string_equal(eval_str(h, 4, &r, false, NULL, &ep), "");
    assert_true(ep.plan_recorded && ep.plan_day == D && !ep.plan_antidepressant);
    h[0] = plan_rec(D, false);
    h[1] = plan_rec(D, true);
    assert_string_equal(eval_str(h, 4, &r, false, NULL, &ep), "A06b");
    h[3] = plan_rec(D + 28, false); /* on the latest's day: the current plan, weeks 0 */
    assert_string_equal(eval_str(h, 4, &r, false, NULL, &ep), "");
    assert_true(ep.plan_day == D + 28 && ep.weeks_on_plan == 0 && ep.plan_start_score == 16);
    /* plan start: the first earlier PHQ-9 after the plan by date, not by entry */
    h[0] = plan_rec(D, true);
    h[1] = phq9_rec(D + 21, 16, 0);
    h[2] = phq9_rec(D + 7, 20, 0);
    r = phq9_rec(D + 35, 13, 0);
    assert_string_equal(eval_str(h, 3, &r, false, NULL, &ep), "");
    assert_int_equal(ep.plan_start_score, 20);
    /* nor from a record dated after the latest: the latest's own */
    h[1] = phq9_rec(D + 70, 10, 0);
    r = phq9_rec(D + 14, 18, 0);
    evaluate(h, 2, &r, false, NULL, &ep, (struct ses_trigger[SES_TRIGGERS_MAX]){0});
    assert_int_equal(ep.plan_start_score, 18);
}

/* The entry order of records on distinct days does not matter: every shuffle of one history
 * gives the figures and triggers of its date order. */
static void test_rules_date_order_shuffled(void **state)
{
    (void)state;
    const struct ses_record base[8] = {
        phq9_rec(1000, 19, 0), gad7_rec(1003, 9),    plan_rec(1007, true),  phq9_rec(1014, 11, 0),
        gad7_rec(1020, 6),     phq9_rec(1035, 4, 0), plan_rec(1080, false), phq9_rec(1090, 2, 0)};
    struct ses_record latest = phq9_rec(1049, 13, 1);
    latest.has_gad7 = true;
    spread(latest.gad7, 7, 10);
    struct ses_episode want, ep;
    char want_t[256];
    snprintf(want_t, sizeof want_t, "%s", eval_str(base, 8, &latest, false, NULL, &want));
    assert_string_equal(want_t, "A01/item9_1,A05");
    assert_true(want.baseline == 19 && want.previous == 4 && want.nadir == 4 &&
                want.gad_previous == 6 && want.plan_day == 1007 && want.plan_start_score == 19);
    uint32_t seed = 12345;
    for (int round = 0; round < 2000; round++) {
        struct ses_record h[8];
        memcpy(h, base, sizeof h);
        for (size_t i = 7; i > 0; i--) {
            seed = seed * 1103515245u + 12345u;
            size_t j = (seed >> 16) % (i + 1);
            struct ses_record tmp = h[i];
            h[i] = h[j];
            h[j] = tmp;
        }
        const char *got = eval_str(h, 8, &latest, false, NULL, &ep);
        if (strcmp(got, want_t) != 0 || !episode_equal(&ep, &want))
            fail_msg("round %d: triggers [%s], want [%s]", round, got, want_t);
    }
}

/* A long history is sorted on the heap, not the stack; the figures still follow the dates. */
static void test_rules_long_history(void **state)
{
    (void)state;
    const size_t n = 50000;
    struct ses_record *h = calloc(n, sizeof *h);
    assert_non_null(h);
    /* days 2000..51999 in a scrambled entry order (7919 is prime to n) */
    for (size_t i = 0; i < n; i++) {
        int32_t day = 2000 + (int32_t)((i * 7919) % n);
        h[i] = phq9_rec(day, 8 + (int)(day % 5), 0);
    }
    struct ses_record r = phq9_rec(30000, 13, 0);
    struct ses_episode ep;
    const char *got = eval_str(h, n, &r, false, NULL, &ep);
    assert_int_equal(ep.baseline_day, 2000);
    assert_int_equal(ep.baseline, 8 + 2000 % 5);
    assert_int_equal(ep.previous, 8 + 30000 % 5); /* the same-day history record */
    assert_int_equal(ep.nadir, 8);
    /* 13 = nadir 8 + 5; 78 weeks on the implicit plan, from 8 at its start */
    assert_string_equal(got, "A05,A06");
    assert_int_equal(ep.plan_day, 2000);
    assert_int_equal(ep.plan_start_score, 8 + 2000 % 5);
    free(h);
}

/* Relapse prevention: the PHQ-9 rules are A11, the GAD-7 ones still A05. */
static void test_rules_relapse_prevention(void **state)
{
    (void)state;
    struct ses_episode ep;
    struct ses_trigger t[SES_TRIGGERS_MAX];
    struct ses_record h[1] = {gad7_rec(1000, 5)};
    struct ses_record r = gad7_rec(1014, 9);
    size_t n = evaluate(h, 1, &r, true, NULL, &ep, t);
    assert_int_equal(n, 1);
    assert_string_equal(t[0].type, "A05");
    assert_string_equal(t[0].why, "GAD-7 up 4 or more from the previous GAD-7, or a rise to 15 or "
                                  "more");
    r = gad7_rec(1014, 8);
    assert_string_equal(eval_str(h, 1, &r, true, NULL, &ep), "");
    h[0] = gad7_rec(1000, 14);
    r = gad7_rec(1014, 15);
    assert_string_equal(eval_str(h, 1, &r, true, NULL, &ep), "A04,A05");
    /* a PHQ-9 rise raises A11, never A05, in relapse prevention */
    h[0] = phq9_rec(1000, 3, 0);
    r = phq9_rec(1014, 8, 0);
    assert_string_equal(eval_str(h, 1, &r, true, NULL, &ep), "A11");
    assert_string_equal(eval_str(h, 1, &r, false, NULL, &ep), "A05");
    /* both */
    h[0].has_gad7 = true;
    spread(h[0].gad7, 7, 6);
    r = phq9_rec(1014, 10, 0);
    r.has_gad7 = true;
    spread(r.gad7, 7, 10);
    assert_string_equal(eval_str(h, 1, &r, true, NULL, &ep), "A05,A11");
}

/* A06 (AIMS): 10 weeks (configurable), less than 50 % improvement from the plan's start, and not
 * in remission (P >= 5); no more "P >= 10". */
static void test_rules_a06_aims(void **state)
{
    (void)state;
    struct ses_episode ep;
    struct ses_record h[2] = {phq9_rec(1000, 20, 0), plan_rec(1000, false)};
    struct ses_record r = phq9_rec(1000 + 69, 11, 0); /* 9 weeks and 6 days */
    assert_string_equal(eval_str(h, 2, &r, false, NULL, &ep), "");
    assert_int_equal(ep.weeks_on_plan, 9);
    r.day = 1000 + 70;
    assert_string_equal(eval_str(h, 2, &r, false, NULL, &ep), "A06");
    assert_int_equal(ep.weeks_on_plan, 10);
    /* exactly 50 % (10 from 20): improved enough; also a response */
    r = phq9_rec(1070, 10, 0);
    assert_string_equal(eval_str(h, 2, &r, false, NULL, &ep), "A10/response");
    /* P 4 / 5 from a plan start of 6: remission / not */
    h[0] = phq9_rec(1000, 6, 0);
    r = phq9_rec(1070, 4, 0);
    assert_string_equal(eval_str(h, 2, &r, false, NULL, &ep), "");
    r = phq9_rec(1070, 5, 0);
    assert_string_equal(eval_str(h, 2, &r, false, NULL, &ep), "A06");
    /* P 9 from 12: not improved, although below 10 */
    h[0] = phq9_rec(1000, 12, 0);
    r = phq9_rec(1070, 9, 0);
    assert_string_equal(eval_str(h, 2, &r, false, NULL, &ep), "A06");
    r = phq9_rec(1070, 6, 0); /* 50 %: improved (and a response) */
    assert_string_equal(eval_str(h, 2, &r, false, NULL, &ep), "A10/response");
    /* the weeks are configurable */
    struct ses_rules_config cfg = {8, 4, 6};
    r = phq9_rec(1056, 9, 0);
    assert_string_equal(eval_str(h, 2, &r, false, &cfg, &ep), "A06");
    assert_string_equal(eval_str(h, 2, &r, false, NULL, &ep), "");
    /* every (plan start, latest) pair at 10 weeks */
    for (int s0 = 0; s0 <= 27; s0++)
        for (int p = 0; p <= 27; p++) {
            struct ses_record hh[2] = {phq9_rec(1000, s0, 0), plan_rec(1001, false)};
            struct ses_record rr = phq9_rec(1071, p, 0);
            struct ses_trigger t[SES_TRIGGERS_MAX];
            size_t n = evaluate(hh, 2, &rr, false, NULL, &ep, t);
            assert_int_equal(ep.plan_start_score, s0);
            /* improvement (s0 - p) / s0 below one half, in hundredths */
            bool below_half = s0 == 0 || (s0 - p) * 100 < 50 * s0;
            assert_int_equal(has(t, n, "A06", ""), p >= 5 && below_half);
        }
}

/* --- vectors --------------------------------------------------------------------------------- */

static json_t *section(const char *name, size_t min)
{
    json_t *a = json_object_get(g_vectors, name);
    assert_true(json_is_array(a));
    if (json_array_size(a) < min)
        fail_msg("scales.json: %s has %zu vectors, expected at least %zu", name, json_array_size(a),
                 min);
    return a;
}

static void test_vectors_shape(void **state)
{
    (void)state;
    /* every band boundary the brief names is in the file */
    static const struct {
        const char *scale;
        int total;
    } need[] = {{"PHQ-2", 2},  {"PHQ-2", 3},  {"PHQ-9", 0},  {"PHQ-9", 4},  {"PHQ-9", 5},
                {"PHQ-9", 9},  {"PHQ-9", 10}, {"PHQ-9", 14}, {"PHQ-9", 15}, {"PHQ-9", 19},
                {"PHQ-9", 20}, {"PHQ-9", 27}, {"GAD-7", 0},  {"GAD-7", 4},  {"GAD-7", 5},
                {"GAD-7", 9},  {"GAD-7", 10}, {"GAD-7", 14}, {"GAD-7", 15}, {"GAD-7", 21}};
    json_t *sc = section("scoring", 30);
    for (size_t k = 0; k < sizeof need / sizeof need[0]; k++) {
        bool found = false;
        size_t i;
        json_t *v;
        json_array_foreach(sc, i, v)
        {
            json_t *tot = json_object_get(v, "total");
            if (strcmp(json_string_value(json_object_get(v, "scale")), need[k].scale) == 0 &&
                json_is_true(json_object_get(v, "complete")) &&
                json_object_get(v, "cutoff") == NULL && json_integer_value(tot) == need[k].total)
                found = true;
        }
        if (!found)
            fail_msg("scales.json lacks %s total %d", need[k].scale, need[k].total);
    }
    section("change", 20);
    json_t *rules = section("rules", 40);
    /* each rule both triggers and does not somewhere */
    static const char *types[] = {"A01", "A04", "A05", "A06", "A06b", "A10", "A11"};
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        size_t yes = 0, i, j;
        json_t *v, *tr;
        json_array_foreach(rules, i, v)
        {
            json_array_foreach(json_object_get(v, "triggers"), j, tr)
            {
                if (strcmp(json_string_value(json_object_get(tr, "type")), types[k]) == 0)
                    yes++;
            }
        }
        if (yes == 0)
            fail_msg("no rules vector triggers %s", types[k]);
    }
    /* the variants that need their own vectors */
    static const char *variants[] = {"item9_1", "item9_2", "item9_unanswered", "remission",
                                     "response"};
    for (size_t k = 0; k < sizeof variants / sizeof variants[0]; k++) {
        bool found = false;
        size_t i, j;
        json_t *v, *tr;
        json_array_foreach(rules, i, v)
        {
            json_array_foreach(json_object_get(v, "triggers"), j, tr)
            {
                if (strcmp(json_string_value(json_object_get(tr, "variant")), variants[k]) == 0)
                    found = true;
            }
        }
        if (!found)
            fail_msg("no rules vector triggers variant %s", variants[k]);
    }
    /* prorated and incomplete scores are pinned, and records with null items */
    size_t prorated = 0, incomplete = 0, i;
    json_t *v;
    json_array_foreach(sc, i, v)
    {
        prorated += json_is_true(json_object_get(v, "prorated"));
        incomplete += json_object_get(v, "error") == NULL &&
                      strcmp(json_string_value(json_object_get(v, "band")), "INCOMPLETE") == 0;
    }
    assert_true(prorated >= 10 && incomplete >= 5);
    size_t nulls = 0;
    json_array_foreach(section("records", 1), i, v)
    {
        nulls += strstr(json_string_value(json_object_get(v, "body")), "null") != NULL;
    }
    assert_true(nulls >= 5);
    section("records", 10);
    section("parse", 4);
    section("reject", 40);
}

static void test_vectors_scoring(void **state)
{
    (void)state;
    size_t i;
    json_t *v;
    json_array_foreach(section("scoring", 1), i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        uint8_t items[16];
        size_t n = items_of(json_object_get(v, "items"), items, sizeof items);
        int cut = (int)json_integer_value(json_object_get(v, "cutoff"));
        struct ses_scale_score sc;
        int rc = ses_scale_score(
            (enum ses_scale)scale_of(json_string_value(json_object_get(v, "scale"))), items, n, cut,
            &sc);
        json_t *err = json_object_get(v, "error");
        if (err != NULL) {
            if (rc != ses_err_from_name(json_string_value(err)))
                fail_msg("%s: got %d, want %s", name, rc, json_string_value(err));
            continue;
        }
        if (rc != 0)
            fail_msg("%s: got %d", name, rc);
        if (sc.total != json_integer_value(json_object_get(v, "total")) ||
            sc.complete != json_is_true(json_object_get(v, "complete")) ||
            sc.prorated != json_is_true(json_object_get(v, "prorated")) ||
            sc.answered != json_integer_value(json_object_get(v, "answered")) ||
            sc.sum != json_integer_value(json_object_get(v, "sum")) ||
            strcmp(ses_band_code(sc.band), json_string_value(json_object_get(v, "band"))) != 0 ||
            strcmp(ses_band_label(sc.band), json_string_value(json_object_get(v, "label"))) != 0)
            fail_msg("%s: got total %d complete %d prorated %d answered %d sum %d band %s", name,
                     sc.total, sc.complete, sc.prorated, sc.answered, sc.sum,
                     ses_band_code(sc.band));
    }
}

static void test_vectors_change(void **state)
{
    (void)state;
    size_t i;
    json_t *v;
    json_array_foreach(section("change", 1), i, v)
    {
        char name[32];
        int b = (int)json_integer_value(json_object_get(v, "baseline"));
        int l = (int)json_integer_value(json_object_get(v, "latest"));
        snprintf(name, sizeof name, "change %d -> %d", b, l);
        struct ses_change c;
        ses_change_compute(b, l, &c);
        assert_change(v, &c, name);
    }
}

static void test_vectors_rules(void **state)
{
    (void)state;
    size_t i;
    json_t *v;
    json_array_foreach(section("rules", 1), i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        json_t *hist = json_object_get(v, "history");
        size_t nh = json_array_size(hist);
        struct ses_record *h = calloc(nh ? nh : 1, sizeof *h);
        assert_non_null(h);
        for (size_t k = 0; k < nh; k++)
            record_of(json_array_get(hist, k), &h[k]);
        struct ses_record latest;
        record_of(json_object_get(v, "latest"), &latest);
        struct ses_rules_config cfg, *pcfg = NULL;
        json_t *c = json_object_get(v, "config");
        if (c != NULL) {
            cfg.not_improving_weeks =
                (int)json_integer_value(json_object_get(c, "not_improving_weeks"));
            cfg.early_weeks_min = (int)json_integer_value(json_object_get(c, "early_weeks_min"));
            cfg.early_weeks_max = (int)json_integer_value(json_object_get(c, "early_weeks_max"));
            pcfg = &cfg;
        }
        struct ses_episode ep;
        struct ses_trigger t[SES_TRIGGERS_MAX];
        size_t n = evaluate(h, nh, &latest, json_is_true(json_object_get(v, "relapse_prevention")),
                            pcfg, &ep, t);
        free(h);
        char got[256], want[256] = "";
        joined(t, n, got, sizeof got);
        size_t k;
        json_t *tr;
        json_array_foreach(json_object_get(v, "triggers"), k, tr)
        {
            size_t w = strlen(want);
            const char *va = json_string_value(json_object_get(tr, "variant"));
            snprintf(want + w, sizeof want - w, "%s%s%s%s", k ? "," : "",
                     json_string_value(json_object_get(tr, "type")), va[0] ? "/" : "", va);
        }
        if (strcmp(got, want) != 0)
            fail_msg("%s: triggers [%s], want [%s]", name, got, want);
        json_t *e = json_object_get(v, "episode");
        assert_opt(e, "baseline", ep.has_baseline, ep.baseline, name);
        assert_opt(e, "previous", ep.has_previous, ep.previous, name);
        assert_opt(e, "nadir", ep.has_nadir, ep.nadir, name);
        assert_opt(e, "gad_previous", ep.has_gad_previous, ep.gad_previous, name);
        assert_opt(e, "plan_start_score", ep.has_plan_start_score, ep.plan_start_score, name);
        json_t *pd = json_object_get(e, "plan_day");
        if (json_is_null(pd)) {
            if (ep.has_plan)
                fail_msg("%s: has a plan, the vector has none", name);
        } else {
            char d[11];
            ses_day_format(ep.plan_day, d);
            if (!ep.has_plan || strcmp(d, json_string_value(pd)) != 0)
                fail_msg("%s: plan day %s, want %s", name, ep.has_plan ? d : "none",
                         json_string_value(pd));
        }
        if (ep.plan_recorded != json_is_true(json_object_get(e, "plan_recorded")) ||
            ep.plan_antidepressant != json_is_true(json_object_get(e, "plan_antidepressant")) ||
            ep.weeks_on_plan != json_integer_value(json_object_get(e, "weeks_on_plan")))
            fail_msg("%s: plan recorded %d antidepressant %d weeks %d differ", name,
                     ep.plan_recorded, ep.plan_antidepressant, ep.weeks_on_plan);
        assert_change(json_object_get(e, "change"), &ep.change, name);
    }
}

static void test_vectors_records(void **state)
{
    (void)state;
    size_t i;
    json_t *v;
    json_array_foreach(section("records", 1), i, v)
    {
        struct ses_record r;
        record_of(json_object_get(v, "record"), &r);
        roundtrip(&r, json_string_value(json_object_get(v, "body")),
                  json_string_value(json_object_get(v, "text")));
    }
    json_array_foreach(section("parse", 1), i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        json_t *b = json_object_get(v, "body");
        struct ses_record want, got;
        record_of(json_object_get(v, "record"), &want);
        char text[SES_RECORD_MAX];
        int rc = ses_record_parse((const uint8_t *)json_string_value(b), json_string_length(b),
                                  &got, text, sizeof text);
        if (rc != 0)
            fail_msg("%s: rejected (%d)", name, rc);
        assert_record_equal(&got, &want);
        assert_string_equal(text, json_string_value(json_object_get(v, "text")));
    }
}

static void test_vectors_reject(void **state)
{
    (void)state;
    size_t i;
    json_t *v;
    json_array_foreach(section("reject", 1), i, v)
    {
        const char *name = json_string_value(json_object_get(v, "name"));
        uint8_t buf[SES_RECORD_MAX + 16];
        size_t len;
        json_t *b = json_object_get(v, "body");
        if (b != NULL) {
            len = json_string_length(b);
            assert_true(len <= sizeof buf);
            memcpy(buf, json_string_value(b), len);
        } else {
            const char *hex = json_string_value(json_object_get(v, "body_hex"));
            assert_non_null(hex);
            len = strlen(hex) / 2;
            assert_true(len <= sizeof buf);
            for (size_t k = 0; k < len; k++) {
                unsigned x;
                assert_int_equal(sscanf(hex + 2 * k, "%2x", &x), 1);
                buf[k] = (uint8_t)x;
            }
        }
        struct ses_record r;
        char text[64];
        int rc = ses_record_parse(buf, len, &r, text, sizeof text);
        if (rc != SES_EBAD_SCALE)
            fail_msg("%s: got %d, want BAD_SCALE", name, rc);
    }
}

/* A relapse-prevention plan record: encoded deterministically (keys in order, texts escaped as
 * JSON.stringify writes them), parsed back to the same parts; every part required, bounded,
 * UTF-8; no key of another kind. */
static void test_rp_plan_record(void **state)
{
    (void)state;
    struct ses_record r, back;
    memset(&r, 0, sizeof r);
    r.kind = SES_RECORD_RP_PLAN;
    assert_int_equal(ses_day_parse("2026-11-30", &r.day), 0);
    snprintf(r.rp[SES_RP_TRIGGERS], sizeof r.rp[0], "conflict at work, \"anniversaries\"");
    snprintf(r.rp[SES_RP_WARNING_SIGNS], sizeof r.rp[0], "sleep <5 h\nwithdrawal");
    snprintf(r.rp[SES_RP_COPING], sizeof r.rp[0], "walk daily, call a friend");
    snprintf(r.rp[SES_RP_SUPPORTS], sizeof r.rp[0], "sister; GP Dr Petit");
    snprintf(r.rp[SES_RP_EMERGENCY], sizeof r.rp[0], "3114 or the nurse, \u00e0 toute heure");
    uint8_t body[SES_RECORD_MAX];
    size_t len = 0;
    assert_int_equal(ses_record_encode(&r, body, sizeof body, &len), 0);
    const char *want =
        "{\"v\":1,\"kind\":\"rp_plan\",\"date\":\"2026-11-30\",\"triggers\":\"conflict at work, "
        "\\\"anniversaries\\\"\",\"warning_signs\":\"sleep <5 h\\nwithdrawal\",\"coping\":\"walk "
        "daily, call a friend\",\"supports\":\"sister; GP Dr Petit\",\"emergency\":\"3114 or the "
        "nurse, \u00e0 toute heure\",\"text\":\"Relapse-prevention plan written on 2026-11-30\"}";
    assert_int_equal(len, strlen(want));
    assert_memory_equal(body, want, len);
    char text[SES_RECORD_TEXT_MAX];
    assert_int_equal(ses_record_parse(body, len, &back, text, sizeof text), 0);
    assert_int_equal(back.kind, SES_RECORD_RP_PLAN);
    assert_int_equal(back.day, r.day);
    for (int k = 0; k < SES_RP_PARTS; k++)
        assert_string_equal(back.rp[k], r.rp[k]);
    assert_string_equal(text, "Relapse-prevention plan written on 2026-11-30");
    /* the parts: each required, at most SES_RP_TEXT_MAX bytes (the bound itself is fine), UTF-8 */
    struct ses_record bad = r;
    bad.rp[SES_RP_COPING][0] = '\0';
    assert_int_equal(ses_record_check(&bad), SES_EBAD_SCALE);
    bad = r;
    memset(bad.rp[SES_RP_SUPPORTS], 'a', SES_RP_TEXT_MAX);
    bad.rp[SES_RP_SUPPORTS][SES_RP_TEXT_MAX] = '\0';
    assert_int_equal(ses_record_check(&bad), 0);
    bad = r;
    snprintf(bad.rp[SES_RP_TRIGGERS], sizeof bad.rp[0], "bad \xc3\x28 byte");
    assert_int_equal(ses_record_check(&bad), SES_EBAD_SCALE);
    bad = r;
    snprintf(bad.rp[SES_RP_TRIGGERS], sizeof bad.rp[0], "surrogate \xed\xa0\x80");
    assert_int_equal(ses_record_check(&bad), SES_EBAD_SCALE);
    /* parse refusals: a missing part, an empty one, a key of another kind */
    const char *const refused[] = {
        "{\"v\":1,\"kind\":\"rp_plan\",\"date\":\"2026-11-30\",\"triggers\":\"a\",\"warning_"
        "signs\":"
        "\"b\",\"coping\":\"c\",\"supports\":\"d\",\"text\":\"x\"}",
        "{\"v\":1,\"kind\":\"rp_plan\",\"date\":\"2026-11-30\",\"triggers\":\"\",\"warning_signs\":"
        "\"b\",\"coping\":\"c\",\"supports\":\"d\",\"emergency\":\"e\",\"text\":\"x\"}",
        "{\"v\":1,\"kind\":\"rp_plan\",\"date\":\"2026-11-30\",\"triggers\":\"a\",\"warning_"
        "signs\":"
        "\"b\",\"coping\":\"c\",\"supports\":\"d\",\"emergency\":\"e\",\"antidepressant\":true,"
        "\"text\":\"x\"}",
        "{\"v\":1,\"kind\":\"rp_plan\",\"date\":\"2026-11-30\",\"triggers\":7,\"warning_signs\":"
        "\"b\",\"coping\":\"c\",\"supports\":\"d\",\"emergency\":\"e\",\"text\":\"x\"}",
    };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++)
        assert_int_equal(
            ses_record_parse((const uint8_t *)refused[i], strlen(refused[i]), &back, NULL, 0),
            SES_EBAD_SCALE);
    /* in an episode's history the plan is neither a score nor a treatment change */
    struct ses_record latest;
    memset(&latest, 0, sizeof latest);
    latest.kind = SES_RECORD_SCALES;
    latest.day = r.day + 1;
    latest.has_phq9 = true;
    struct ses_episode ep;
    struct ses_trigger trig[SES_TRIGGERS_MAX];
    size_t n_trig = 0;
    assert_int_equal(ses_rules_evaluate(&r, 1, &latest, true, NULL, &ep, trig, &n_trig), 0);
    assert_false(ep.has_previous);
    assert_false(ep.plan_recorded);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constants),
        cmocka_unit_test(test_bands_every_total),
        cmocka_unit_test(test_score_incomplete_and_invalid),
        cmocka_unit_test(test_score_prorating_every_pattern),
        cmocka_unit_test(test_band_strings),
        cmocka_unit_test(test_change_exhaustive),
        cmocka_unit_test(test_day_parse_format),
        cmocka_unit_test(test_record_codec_direct),
        cmocka_unit_test(test_record_parse_limits),
        cmocka_unit_test(test_record_text),
        cmocka_unit_test(test_record_codec_nulls),
        cmocka_unit_test(test_rules_arguments),
        cmocka_unit_test(test_rules_a01_a04_sweep),
        cmocka_unit_test(test_rules_a05_a11_sweep),
        cmocka_unit_test(test_rules_a06_sweep),
        cmocka_unit_test(test_rules_a10_sweep),
        cmocka_unit_test(test_rules_episode),
        cmocka_unit_test(test_rules_item9_unanswered),
        cmocka_unit_test(test_rules_usable_only),
        cmocka_unit_test(test_rules_date_order),
        cmocka_unit_test(test_rules_date_order_shuffled),
        cmocka_unit_test(test_rules_long_history),
        cmocka_unit_test(test_rules_relapse_prevention),
        cmocka_unit_test(test_rules_a06_aims),
        cmocka_unit_test(test_vectors_shape),
        cmocka_unit_test(test_vectors_scoring),
        cmocka_unit_test(test_vectors_change),
        cmocka_unit_test(test_vectors_rules),
        cmocka_unit_test(test_vectors_records),
        cmocka_unit_test(test_vectors_reject),
        cmocka_unit_test(test_rp_plan_record),
    };
    return cmocka_run_group_tests_name("scales", tests, setup, teardown);
}
