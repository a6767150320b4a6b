/*
 * scales.c - PHQ-2 / PHQ-9 / GAD-7 scoring, change metrics, dates as day numbers, the
 * content-type-2 record codec and the client-side alert rules (scales.h, PROTOCOL.md §14,
 * collaborative-care.md §1 and §2.2). Integer arithmetic only; no I/O, no logging.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sesame/codec.h"
#include "sesame/err.h"
#include "sesame/limits.h"
#include "sesame/scales.h"

#define PHQ9_ITEM9 8 /* index of PHQ-9 item 9 (thoughts of death or self-harm) */
#define PHQ_SEVERE 20
#define GAD_SEVERE 15
#define PHQ_MCID 5 /* worsening: PHQ-9 up 5 or more */
#define GAD_MCID 4 /* worsening: GAD-7 up 4 or more */
#define CROSSING 15
#define PHQ_RELAPSE 10
#define APPLICABLE_ABOVE 9 /* response/remission only for a baseline > 9 */
#define REMISSION_BELOW 5
#define IMPROVED_BELOW 10
#define TOTAL_MAX 27
#define PHQ2_CUTOFF_MAX 6

/* --- scoring --------------------------------------------------------------------------------- */

static size_t scale_items(enum ses_scale scale)
{
    switch (scale) {
    case SES_SCALE_PHQ2:
        return SES_PHQ2_ITEMS;
    case SES_SCALE_PHQ9:
        return SES_PHQ9_ITEMS;
    case SES_SCALE_GAD7:
        return SES_GAD7_ITEMS;
    }
    return 0;
}

static enum ses_band phq9_band(int t)
{
    if (t <= 4)
        return SES_BAND_PHQ_MINIMAL;
    if (t <= 9)
        return SES_BAND_PHQ_MILD;
    if (t <= 14)
        return SES_BAND_PHQ_MODERATE;
    if (t <= 19)
        return SES_BAND_PHQ_MODSEVERE;
    return SES_BAND_PHQ_SEVERE;
}

static enum ses_band gad7_band(int t)
{
    if (t <= 4)
        return SES_BAND_GAD_MINIMAL;
    if (t <= 9)
        return SES_BAND_GAD_MILD;
    if (t <= 14)
        return SES_BAND_GAD_MODERATE;
    return SES_BAND_GAD_SEVERE;
}

int ses_scale_score(enum ses_scale scale, const uint8_t *items, size_t n, int phq2_cutoff,
                    struct ses_scale_score *out)
{
    if (items == NULL || out == NULL || phq2_cutoff < 0 || phq2_cutoff > PHQ2_CUTOFF_MAX)
        return SES_EINVALID_ARG;
    memset(out, 0, sizeof *out);
    size_t want = scale_items(scale);
    if (want == 0 || n != want)
        return SES_EBAD_SCALE;
    int sum = 0, answered = 0;
    for (size_t i = 0; i < n; i++) {
        if (items[i] == SES_ITEM_MISSING)
            continue;
        if (items[i] > SES_ITEM_MAX)
            return SES_EBAD_SCALE;
        sum += items[i];
        answered++;
    }
    int missing = (int)n - answered;
    out->complete = missing == 0;
    out->prorated =
        scale == SES_SCALE_PHQ9 && missing >= 1 && missing <= SES_PHQ9_PRORATE_MAX_MISSING;
    out->answered = answered;
    out->sum = sum;
    /* sum * 9 / answered, rounded half up */
    out->total = out->prorated ? (2 * sum * SES_PHQ9_ITEMS + answered) / (2 * answered) : sum;
    if (!out->complete && !out->prorated) {
        out->band = SES_BAND_INCOMPLETE;
    } else if (scale == SES_SCALE_PHQ2) {
        int cut = phq2_cutoff ? phq2_cutoff : SES_PHQ2_CUTOFF_DEFAULT;
        out->band = out->total >= cut ? SES_BAND_PHQ2_POSITIVE : SES_BAND_PHQ2_NEGATIVE;
    } else if (scale == SES_SCALE_PHQ9) {
        out->band = phq9_band(out->total);
    } else {
        out->band = gad7_band(out->total);
    }
    return 0;
}

bool ses_scale_usable(const struct ses_scale_score *sc)
{
    return sc != NULL && (sc->complete || sc->prorated);
}

static const struct {
    const char *code, *label;
} bands[] = {
    [SES_BAND_INCOMPLETE] = {"INCOMPLETE", "incomplete"},
    [SES_BAND_PHQ_MINIMAL] = {"PHQ_MINIMAL", "minimal"},
    [SES_BAND_PHQ_MILD] = {"PHQ_MILD", "mild"},
    [SES_BAND_PHQ_MODERATE] = {"PHQ_MODERATE", "moderate"},
    [SES_BAND_PHQ_MODSEVERE] = {"PHQ_MODSEVERE", "moderately severe"},
    [SES_BAND_PHQ_SEVERE] = {"PHQ_SEVERE", "severe"},
    [SES_BAND_GAD_MINIMAL] = {"GAD_MINIMAL", "minimal"},
    [SES_BAND_GAD_MILD] = {"GAD_MILD", "mild"},
    [SES_BAND_GAD_MODERATE] = {"GAD_MODERATE", "moderate"},
    [SES_BAND_GAD_SEVERE] = {"GAD_SEVERE", "severe"},
    [SES_BAND_PHQ2_NEGATIVE] = {"PHQ2_NEGATIVE", "negative"},
    [SES_BAND_PHQ2_POSITIVE] = {"PHQ2_POSITIVE", "positive"},
};

const char *ses_band_code(enum ses_band band)
{
    if ((unsigned)band >= sizeof bands / sizeof bands[0])
        return "INCOMPLETE";
    return bands[band].code;
}

const char *ses_band_label(enum ses_band band)
{
    if ((unsigned)band >= sizeof bands / sizeof bands[0])
        return "incomplete";
    return bands[band].label;
}

/* --- change ---------------------------------------------------------------------------------- */

void ses_change_compute(int baseline, int latest, struct ses_change *out)
{
    if (out == NULL)
        return;
    memset(out, 0, sizeof *out);
    if (baseline < 0 || baseline > TOTAL_MAX || latest < 0 || latest > TOTAL_MAX)
        return;
    out->applicable = baseline > APPLICABLE_ABOVE;
    out->pct = baseline > 0 ? (baseline - latest) * 100 / baseline : 0;
    if (out->applicable) {
        out->response = 2 * latest <= baseline;
        out->partial = 4 * latest <= 3 * baseline && !out->response;
        out->remission = latest < REMISSION_BELOW;
    }
    out->improved = latest < IMPROVED_BELOW || out->response;
}

/* --- dates ----------------------------------------------------------------------------------- */

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's days_from_civil), y >= 1. */
static int32_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int era = y / 400;
    int yoe = y - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + doe - 719468);
}

int ses_time_of_day_parse(const char *hhmm)
{
    if (hhmm == NULL || strlen(hhmm) != 5 || hhmm[2] != ':')
        return -1;
    for (int i = 0; i < 5; i++)
        if (i != 2 && (hhmm[i] < '0' || hhmm[i] > '9'))
            return -1;
    int h = (hhmm[0] - '0') * 10 + (hhmm[1] - '0'), m = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
}

int ses_day_parse(const char *iso, int32_t *day)
{
    if (iso == NULL || day == NULL)
        return SES_EINVALID_ARG;
    for (int i = 0; i < 10; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? iso[i] != '-' : (iso[i] < '0' || iso[i] > '9'))
            return SES_EBAD_FIELD;
    }
    if (iso[10] != '\0')
        return SES_EBAD_FIELD;
    int y = (iso[0] - '0') * 1000 + (iso[1] - '0') * 100 + (iso[2] - '0') * 10 + (iso[3] - '0');
    int m = (iso[5] - '0') * 10 + (iso[6] - '0');
    int d = (iso[8] - '0') * 10 + (iso[9] - '0');
    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
        return SES_EBAD_FIELD;
    *day = days_from_civil(y, m, d);
    return 0;
}

void ses_day_format(int32_t day, char out[11])
{
    if (day < SES_DAY_MIN || day > SES_DAY_MAX) {
        memcpy(out, "0000-00-00", 11);
        return;
    }
    /* H. Hinnant's civil_from_days, for day >= 0 */
    int z = day + 719468;
    int era = z / 146097;
    int doe = z - era * 146097;
    int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int mp = (5 * doy + 2) / 153;
    int d = doy - (153 * mp + 2) / 5 + 1;
    int m = mp < 10 ? mp + 3 : mp - 9;
    int y = yoe + era * 400 + (m <= 2);
    const int parts[3] = {y, m, d}, widths[3] = {4, 2, 2};
    char *o = out;
    for (int k = 0; k < 3; k++) {
        for (int i = widths[k] - 1, v = parts[k]; i >= 0; i--, v /= 10)
            o[i] = (char)('0' + v % 10);
        o += widths[k];
        *o++ = k < 2 ? '-' : '\0';
    }
}

/* --- records --------------------------------------------------------------------------------- */

/* Items 0..3 or SES_ITEM_MISSING; need_answer: at least one answered. */
static bool items_valid(const uint8_t *items, size_t n, bool need_answer)
{
    bool answered = false;
    for (size_t i = 0; i < n; i++) {
        if (items[i] == SES_ITEM_MISSING)
            continue;
        if (items[i] > SES_ITEM_MAX)
            return false;
        answered = true;
    }
    return answered || !need_answer;
}

const char *ses_rp_part_key(enum ses_rp_part part)
{
    static const char *const keys[SES_RP_PARTS] = {"triggers", "warning_signs", "coping",
                                                   "supports", "emergency"};
    return (int)part >= 0 && part < SES_RP_PARTS ? keys[part] : NULL;
}

/* Whether s (its first cap bytes) is 1..SES_RP_TEXT_MAX bytes of well-formed UTF-8 ending in NUL
 * (shortest forms, no surrogates, at most U+10FFFF). */
static bool rp_text_valid(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n > 0 && n <= SES_RP_TEXT_MAX && n < cap && ses_utf8_valid(s, n);
}

/* A record the codec (need_answer: every present scale has an answer) or the rules accept. */
static bool record_valid(const struct ses_record *r, bool need_answer)
{
    if (r->day < SES_DAY_MIN || r->day > SES_DAY_MAX)
        return false;
    if (r->kind == SES_RECORD_PLAN)
        return true;
    if (r->kind == SES_RECORD_RP_PLAN) {
        for (int k = 0; k < SES_RP_PARTS; k++)
            if (!rp_text_valid(r->rp[k], sizeof r->rp[k]))
                return false;
        return true;
    }
    if (r->kind != SES_RECORD_SCALES || !(r->has_phq2 || r->has_phq9 || r->has_gad7))
        return false;
    return (!r->has_phq2 || items_valid(r->phq2, SES_PHQ2_ITEMS, need_answer)) &&
           (!r->has_phq9 || items_valid(r->phq9, SES_PHQ9_ITEMS, need_answer)) &&
           (!r->has_gad7 || items_valid(r->gad7, SES_GAD7_ITEMS, need_answer));
}

int ses_record_check(const struct ses_record *r)
{
    if (r == NULL)
        return SES_EINVALID_ARG;
    return record_valid(r, true) ? 0 : SES_EBAD_SCALE;
}

/* A bounded string builder: appends while it fits, remembers that something did not. */
struct sbuf {
    char *p;
    size_t cap, len;
    bool over;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
    if (b->over || n > b->cap - b->len) {
        b->over = true;
        return;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void sb_str(struct sbuf *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_int(struct sbuf *b, int v)
{
    char tmp[16];
    int k = snprintf(tmp, sizeof tmp, "%d", v);
    sb_add(b, tmp, (size_t)k);
}

static void sb_items(struct sbuf *b, const char *key, const uint8_t *items, size_t n)
{
    sb_str(b, ",\"");
    sb_str(b, key);
    sb_str(b, "\":[");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            sb_str(b, ",");
        if (items[i] == SES_ITEM_MISSING)
            sb_str(b, "null");
        else
            sb_int(b, items[i]);
    }
    sb_str(b, "]");
}

/* A JSON string as JSON.stringify writes it: ", \ and control characters escaped, the rest as is
 * (the generated text is plain ASCII, but the encoder does not rely on it). */
static void sb_json_string(struct sbuf *b, const char *s)
{
    sb_str(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        switch (c) {
        case '"':
            sb_str(b, "\\\"");
            break;
        case '\\':
            sb_str(b, "\\\\");
            break;
        case '\b':
            sb_str(b, "\\b");
            break;
        case '\f':
            sb_str(b, "\\f");
            break;
        case '\n':
            sb_str(b, "\\n");
            break;
        case '\r':
            sb_str(b, "\\r");
            break;
        case '\t':
            sb_str(b, "\\t");
            break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                sb_str(b, esc);
            } else {
                sb_add(b, (const char *)&c, 1);
            }
        }
    }
    sb_str(b, "\"");
}

/* "A of N" */
static void sb_of(struct sbuf *b, int answered, size_t n)
{
    sb_int(b, answered);
    sb_str(b, " of ");
    sb_int(b, (int)n);
}

/* " 14 (moderate)", " 14 (moderate, prorated from 8 of 9 items)" or " incomplete (6 of 9
 * answered)" */
static void text_score(struct sbuf *b, const struct ses_scale_score *sc, size_t n)
{
    if (!ses_scale_usable(sc)) {
        sb_str(b, " incomplete (");
        sb_of(b, sc->answered, n);
        sb_str(b, " answered)");
        return;
    }
    sb_str(b, " ");
    sb_int(b, sc->total);
    sb_str(b, " (");
    sb_str(b, ses_band_label(sc->band));
    if (sc->band == SES_BAND_PHQ2_POSITIVE)
        sb_str(b, ": complete PHQ-9 and GAD-7");
    if (sc->prorated) {
        sb_str(b, ", prorated from ");
        sb_of(b, sc->answered, n);
        sb_str(b, " items");
    }
    sb_str(b, ")");
}

static void text_scale(struct sbuf *b, const char *name, enum ses_scale scale, const uint8_t *items,
                       size_t n)
{
    struct ses_scale_score sc;
    sb_str(b, name);
    if (ses_scale_score(scale, items, n, 0, &sc) != 0) {
        sb_str(b, " invalid");
        return;
    }
    text_score(b, &sc, n);
    if (scale == SES_SCALE_PHQ9) {
        sb_str(b, ", item 9: ");
        if (items[PHQ9_ITEM9] == SES_ITEM_MISSING)
            sb_str(b, "not answered");
        else
            sb_int(b, items[PHQ9_ITEM9]);
    }
}

/* Writes the fallback line into b (no NUL). */
static void text_build(struct sbuf *b, const struct ses_record *r)
{
    if (r->kind == SES_RECORD_PLAN) {
        char date[11];
        ses_day_format(r->day, date);
        sb_str(b, "Treatment plan changed on ");
        sb_str(b, date);
        if (r->antidepressant)
            sb_str(b, " (antidepressant)");
        return;
    }
    if (r->kind == SES_RECORD_RP_PLAN) {
        char date[11];
        ses_day_format(r->day, date);
        sb_str(b, "Relapse-prevention plan written on ");
        sb_str(b, date);
        return;
    }
    if (r->kind != SES_RECORD_SCALES)
        return;
    const char *sep = "";
    if (r->has_phq2) {
        text_scale(b, "PHQ-2", SES_SCALE_PHQ2, r->phq2, SES_PHQ2_ITEMS);
        sep = "; ";
    }
    if (r->has_phq9) {
        sb_str(b, sep);
        text_scale(b, "PHQ-9", SES_SCALE_PHQ9, r->phq9, SES_PHQ9_ITEMS);
        sep = "; ";
    }
    if (r->has_gad7) {
        sb_str(b, sep);
        text_scale(b, "GAD-7", SES_SCALE_GAD7, r->gad7, SES_GAD7_ITEMS);
    }
}

void ses_record_text(const struct ses_record *r, char *out, size_t cap)
{
    if (out == NULL || cap == 0)
        return;
    char buf[SES_RECORD_TEXT_MAX];
    struct sbuf b = {buf, sizeof buf, 0, false};
    if (r != NULL)
        text_build(&b, r);
    size_t n = b.len < cap - 1 ? b.len : cap - 1; /* the text is ASCII: any cut is clean */
    memcpy(out, buf, n);
    out[n] = '\0';
}

int ses_record_encode(const struct ses_record *r, uint8_t *out, size_t cap, size_t *len)
{
    if (r == NULL || out == NULL || len == NULL)
        return SES_EINVALID_ARG;
    *len = 0;
    if (!record_valid(r, true))
        return SES_EBAD_SCALE;
    char text[SES_RECORD_TEXT_MAX];
    ses_record_text(r, text, sizeof text);
    char date[11];
    ses_day_format(r->day, date);

    struct sbuf b = {(char *)out, cap < SES_RECORD_MAX ? cap : SES_RECORD_MAX, 0, false};
    sb_str(&b, "{\"v\":1,\"kind\":");
    sb_str(&b, r->kind == SES_RECORD_SCALES ? "\"scales\""
               : r->kind == SES_RECORD_PLAN ? "\"plan\""
                                            : "\"rp_plan\"");
    sb_str(&b, ",\"date\":\"");
    sb_str(&b, date);
    sb_str(&b, "\"");
    if (r->kind == SES_RECORD_SCALES) {
        if (r->has_phq2)
            sb_items(&b, "phq2", r->phq2, SES_PHQ2_ITEMS);
        if (r->has_phq9)
            sb_items(&b, "phq9", r->phq9, SES_PHQ9_ITEMS);
        if (r->has_gad7)
            sb_items(&b, "gad7", r->gad7, SES_GAD7_ITEMS);
    } else if (r->kind == SES_RECORD_PLAN) {
        sb_str(&b, r->antidepressant ? ",\"antidepressant\":true" : ",\"antidepressant\":false");
    } else {
        for (int k = 0; k < SES_RP_PARTS; k++) {
            sb_str(&b, ",\"");
            sb_str(&b, ses_rp_part_key((enum ses_rp_part)k));
            sb_str(&b, "\":");
            sb_json_string(&b, r->rp[k]);
        }
    }
    sb_str(&b, ",\"text\":");
    sb_json_string(&b, text);
    sb_str(&b, "}");
    if (b.over)
        return SES_ETOO_LARGE;
    *len = b.len;
    return 0;
}

/* Reads key as exactly n items, each an integer 0..3 or null (SES_ITEM_MISSING), at least one
 * answered, into items. absent: *has = false. */
static bool parse_items(json_t *root, const char *key, uint8_t *items, size_t n, bool *has)
{
    json_t *a = json_object_get(root, key);
    *has = a != NULL;
    if (a == NULL)
        return true;
    if (!json_is_array(a) || json_array_size(a) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (json_is_null(v)) {
            items[i] = SES_ITEM_MISSING;
            continue;
        }
        if (!json_is_integer(v))
            return false;
        json_int_t x = json_integer_value(v);
        if (x < 0 || x > SES_ITEM_MAX)
            return false;
        items[i] = (uint8_t)x;
    }
    return items_valid(items, n, true);
}

/* Copies s (valid UTF-8, no NUL: jansson guarantees both) into out, cut at a character boundary. */
static void copy_text(const char *s, size_t n, char *out, size_t cap)
{
    if (out == NULL || cap == 0)
        return;
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

static int parse_root(json_t *root, struct ses_record *r, char *text, size_t text_cap)
{
    if (!json_is_object(root))
        return SES_EBAD_SCALE;
    json_t *v = json_object_get(root, "v");
    if (!json_is_integer(v) || json_integer_value(v) != 1)
        return SES_EBAD_SCALE;
    const char *kind = json_string_value(json_object_get(root, "kind"));
    const char *date = json_string_value(json_object_get(root, "date"));
    json_t *t = json_object_get(root, "text");
    if (kind == NULL || date == NULL || !json_is_string(t))
        return SES_EBAD_SCALE;
    /* jansson refuses \u0000 (no JSON_ALLOW_NUL), so these strings end at their first NUL */
    if (ses_day_parse(date, &r->day) != 0)
        return SES_EBAD_SCALE;
    json_t *ad = json_object_get(root, "antidepressant");
    bool any_scale_key = json_object_get(root, "phq2") || json_object_get(root, "phq9") ||
                         json_object_get(root, "gad7");
    if (strcmp(kind, "scales") == 0) {
        r->kind = SES_RECORD_SCALES;
        if (ad != NULL)
            return SES_EBAD_SCALE;
        if (!parse_items(root, "phq2", r->phq2, SES_PHQ2_ITEMS, &r->has_phq2) ||
            !parse_items(root, "phq9", r->phq9, SES_PHQ9_ITEMS, &r->has_phq9) ||
            !parse_items(root, "gad7", r->gad7, SES_GAD7_ITEMS, &r->has_gad7))
            return SES_EBAD_SCALE;
        if (!(r->has_phq2 || r->has_phq9 || r->has_gad7))
            return SES_EBAD_SCALE;
    } else if (strcmp(kind, "plan") == 0) {
        r->kind = SES_RECORD_PLAN;
        if (!json_is_boolean(ad) || any_scale_key)
            return SES_EBAD_SCALE;
        r->antidepressant = json_is_true(ad);
    } else if (strcmp(kind, "rp_plan") == 0) {
        r->kind = SES_RECORD_RP_PLAN;
        if (ad != NULL || any_scale_key)
            return SES_EBAD_SCALE;
        for (int k = 0; k < SES_RP_PARTS; k++) {
            json_t *part = json_object_get(root, ses_rp_part_key((enum ses_rp_part)k));
            size_t n = json_string_length(part);
            if (!json_is_string(part) || n == 0 || n > SES_RP_TEXT_MAX)
                return SES_EBAD_SCALE;
            memcpy(r->rp[k], json_string_value(part), n);
            r->rp[k][n] = '\0';
        }
    } else {
        return SES_EBAD_SCALE;
    }
    copy_text(json_string_value(t), json_string_length(t), text, text_cap);
    return 0;
}

int ses_record_parse(const uint8_t *body, size_t len, struct ses_record *r, char *text,
                     size_t text_cap)
{
    if (r == NULL || (body == NULL && len > 0))
        return SES_EINVALID_ARG;
    memset(r, 0, sizeof *r);
    if (text != NULL && text_cap > 0)
        text[0] = '\0';
    if (body == NULL || len == 0 || len > SES_RECORD_MAX)
        return SES_EBAD_SCALE;
    if (ses_json_depth((const char *)body, len, SES_MAX_JSON_DEPTH) > SES_MAX_JSON_DEPTH)
        return SES_EBAD_SCALE;
    json_error_t jerr;
    json_t *root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return SES_EBAD_SCALE;
    int rc = parse_root(root, r, text, text_cap);
    json_decref(root);
    if (rc != 0) {
        memset(r, 0, sizeof *r);
        if (text != NULL && text_cap > 0)
            text[0] = '\0';
    }
    return rc;
}

/* --- rules ----------------------------------------------------------------------------------- */

/* The usable total (complete or prorated) of a scale, or -1 (absent or unusable). */
static int usable_total(bool has, enum ses_scale scale, const uint8_t *items, size_t n)
{
    struct ses_scale_score sc;
    if (!has || ses_scale_score(scale, items, n, 0, &sc) != 0 || !ses_scale_usable(&sc))
        return -1;
    return sc.total;
}

static int phq9_of(const struct ses_record *r)
{
    if (r->kind != SES_RECORD_SCALES)
        return -1;
    return usable_total(r->has_phq9, SES_SCALE_PHQ9, r->phq9, SES_PHQ9_ITEMS);
}

static int gad7_of(const struct ses_record *r)
{
    if (r->kind != SES_RECORD_SCALES)
        return -1;
    return usable_total(r->has_gad7, SES_SCALE_GAD7, r->gad7, SES_GAD7_ITEMS);
}

struct dated {
    const struct ses_record *r;
    size_t entry; /* entry order: history index, n_history for the latest */
};

/* The episode's records in date order: by day, same-day records in entry order (history's order,
 * then the latest). */
struct timeline {
    struct dated *rec; /* n entries, sorted */
    size_t n;          /* n_history + 1 */
    size_t latest;     /* the latest's index in rec */
};

static int dated_cmp(const void *a, const void *b)
{
    const struct dated *x = a, *y = b;
    if (x->r->day != y->r->day)
        return x->r->day < y->r->day ? -1 : 1;
    return x->entry < y->entry ? -1 : x->entry > y->entry; /* a total order: the sort is stable */
}

/* Sorts a copy of the history and the latest. Returns 0 or SES_ENOMEM; free tl->rec. */
static int timeline_build(const struct ses_record *h, size_t n, const struct ses_record *latest,
                          struct timeline *tl)
{
    memset(tl, 0, sizeof *tl);
    if (n >= SIZE_MAX / sizeof(struct dated))
        return SES_ENOMEM;
    struct dated *d = malloc((n + 1) * sizeof *d);
    if (d == NULL)
        return SES_ENOMEM;
    for (size_t i = 0; i < n; i++)
        d[i] = (struct dated){&h[i], i};
    d[n] = (struct dated){latest, n};
    qsort(d, n + 1, sizeof *d, dated_cmp);
    for (size_t k = 0; k <= n; k++)
        if (d[k].entry == n)
            tl->latest = k;
    tl->rec = d;
    tl->n = n + 1;
    return 0;
}

/* baseline: the first usable PHQ-9 of the whole timeline, the latest's included */
static void find_baseline(const struct timeline *tl, struct ses_episode *ep)
{
    for (size_t k = 0; k < tl->n; k++) {
        int s = phq9_of(tl->rec[k].r);
        if (s >= 0) {
            ep->has_baseline = true;
            ep->baseline = s;
            ep->baseline_day = tl->rec[k].r->day;
            return;
        }
    }
}

/* previous, nadir, gad_previous and the recorded plan: from the records before the latest */
static void scan_earlier(const struct timeline *tl, struct ses_episode *ep)
{
    for (size_t k = 0; k < tl->latest; k++) {
        const struct ses_record *r = tl->rec[k].r;
        int s = phq9_of(r), g = gad7_of(r);
        if (s >= 0) {
            ep->has_previous = true;
            ep->previous = s;
            if (!ep->has_nadir || s < ep->nadir)
                ep->nadir = s;
            ep->has_nadir = true;
        }
        if (g >= 0) {
            ep->has_gad_previous = true;
            ep->gad_previous = g;
        }
        if (r->kind == SES_RECORD_PLAN) {
            ep->plan_recorded = true;
            ep->plan_day = r->day;
            ep->plan_antidepressant = r->antidepressant;
        }
    }
}

/* plan_start_score: the last earlier PHQ-9 on or before the plan day, else the first earlier one
 * after it, else p (the latest's own, if usable) */
static void find_plan_start(const struct timeline *tl, int p, struct ses_episode *ep)
{
    int before = -1, after = -1;
    for (size_t k = 0; k < tl->latest; k++) {
        int s = phq9_of(tl->rec[k].r);
        if (s < 0)
            continue;
        if (tl->rec[k].r->day <= ep->plan_day)
            before = s;
        else if (after < 0)
            after = s;
    }
    int pss = before >= 0 ? before : after >= 0 ? after : p;
    if (pss >= 0) {
        ep->has_plan_start_score = true;
        ep->plan_start_score = pss;
    }
}

static void episode_build(const struct timeline *tl, struct ses_episode *ep)
{
    const struct ses_record *latest = tl->rec[tl->latest].r;
    int p = phq9_of(latest);
    find_baseline(tl, ep);
    scan_earlier(tl, ep);
    if (ep->plan_recorded) {
        ep->has_plan = true;
    } else if (ep->has_baseline && ep->baseline_day <= latest->day) {
        /* no plan record yet: the plan runs from the baseline, never from a later-dated one */
        ep->has_plan = true;
        ep->plan_day = ep->baseline_day;
    }
    if (ep->has_plan) {
        find_plan_start(tl, p, ep);
        int32_t d = latest->day - ep->plan_day;
        ep->weeks_on_plan = d > 0 ? (int)(d / 7) : 0;
    }
    if (p >= 0 && ep->has_baseline) {
        ep->has_change = true;
        ses_change_compute(ep->baseline, p, &ep->change);
    }
}

struct triggers {
    struct ses_trigger *v;
    size_t n;
};

static void add(struct triggers *t, const char *type, const char *variant, const char *why)
{
    if (t->n >= SES_TRIGGERS_MAX)
        return;
    struct ses_trigger *o = &t->v[t->n++];
    snprintf(o->type, sizeof o->type, "%s", type);
    snprintf(o->variant, sizeof o->variant, "%s", variant);
    o->why = why;
}

/* A01 from item 9 itself, whatever else is unanswered (safety first) */
static void rule_a01(const struct ses_record *latest, struct triggers *t)
{
    if (!latest->has_phq9)
        return;
    uint8_t item9 = latest->phq9[PHQ9_ITEM9];
    if (item9 == SES_ITEM_MISSING)
        add(t, "A01", "item9_unanswered", "PHQ-9 item 9 not answered: ask it directly");
    else if (item9 == 1)
        add(t, "A01", "item9_1",
            "PHQ-9 item 9 (thoughts of death or self-harm) answered 'several days'");
    else if (item9 >= 2)
        add(t, "A01", "item9_2", "PHQ-9 item 9 answered 'more than half the days' or more");
}

static bool phq9_worse(const struct ses_episode *ep, int p)
{
    return p >= 0 && ((ep->has_previous && p >= ep->previous + PHQ_MCID) ||
                      (ep->has_nadir && p >= ep->nadir + PHQ_MCID) ||
                      (ep->has_previous && ep->previous < CROSSING && p >= CROSSING));
}

static bool gad7_worse(const struct ses_episode *ep, int g)
{
    return g >= 0 && ep->has_gad_previous &&
           (g >= ep->gad_previous + GAD_MCID || (ep->gad_previous < CROSSING && g >= CROSSING));
}

/* A05 (worsening; in relapse prevention the GAD-7 part only) and A11 (relapse) */
static void rule_worse(const struct ses_episode *ep, int p, int g, bool rp, struct triggers *t)
{
    if (!rp && phq9_worse(ep, p))
        add(t, "A05", "",
            "PHQ-9 up 5 or more (from the previous score or the episode low), GAD-7 up 4 or "
            "more, or a rise to 15 or more");
    else if (gad7_worse(ep, g))
        add(t, "A05", "", "GAD-7 up 4 or more from the previous GAD-7, or a rise to 15 or more");
    if (rp && p >= 0 &&
        (p >= PHQ_RELAPSE || (ep->has_previous && p >= ep->previous + PHQ_MCID) ||
         (ep->has_nadir && p >= ep->nadir + PHQ_MCID)))
        add(t, "A11", "",
            "relapse prevention: PHQ-9 10 or more, or up 5 or more from the previous score or "
            "the episode low");
}

/* A06 (AIMS): on the plan long enough, less than 50 % better than at its start, not in
 * remission */
static void rule_a06(const struct ses_episode *ep, int p, const struct ses_rules_config *cfg,
                     struct triggers *t)
{
    if (p >= REMISSION_BELOW && ep->has_plan && ep->weeks_on_plan >= cfg->not_improving_weeks &&
        ep->has_plan_start_score && 2 * p > ep->plan_start_score)
        add(t, "A06", "",
            "weeks on the current plan without improvement: PHQ-9 less than 50% below its score "
            "at the plan's start, and not in remission");
}

static void rule_a10(const struct ses_episode *ep, int p, struct triggers *t)
{
    if (p < 0 || !ep->has_baseline || ep->baseline <= APPLICABLE_ABOVE || !ep->has_previous)
        return;
    if (p < REMISSION_BELOW && ep->previous >= REMISSION_BELOW)
        add(t, "A10", "remission", "PHQ-9 below 5: remission reached");
    else if (2 * p <= ep->baseline && 2 * ep->previous > ep->baseline)
        add(t, "A10", "response",
            "PHQ-9 at least 50% below the episode baseline: response reached");
}

static void rule_a06b(const struct ses_episode *ep, int p, const struct ses_rules_config *cfg,
                      struct triggers *t)
{
    if (p >= 0 && ep->has_plan && ep->plan_antidepressant &&
        ep->weeks_on_plan >= cfg->early_weeks_min && ep->weeks_on_plan <= cfg->early_weeks_max &&
        ep->has_plan_start_score && 4 * p > 3 * ep->plan_start_score)
        add(t, "A06b", "",
            "early weeks on an antidepressant with less than 25% reduction from the plan's start");
}

static bool config_valid(const struct ses_rules_config *cfg)
{
    return cfg->not_improving_weeks >= 0 && cfg->not_improving_weeks <= SES_RULES_WEEKS_MAX &&
           cfg->early_weeks_min >= 0 && cfg->early_weeks_max <= SES_RULES_WEEKS_MAX &&
           cfg->early_weeks_min <= cfg->early_weeks_max;
}

int ses_rules_evaluate(const struct ses_record *history, size_t n_history,
                       const struct ses_record *latest, bool relapse_prevention,
                       const struct ses_rules_config *cfg, struct ses_episode *ep,
                       struct ses_trigger out[SES_TRIGGERS_MAX], size_t *n_out)
{
    static const struct ses_rules_config defaults = {
        SES_NOT_IMPROVING_WEEKS_DEFAULT, SES_EARLY_WEEKS_MIN_DEFAULT, SES_EARLY_WEEKS_MAX_DEFAULT};
    if (latest == NULL || ep == NULL || out == NULL || n_out == NULL ||
        (history == NULL && n_history > 0))
        return SES_EINVALID_ARG;
    *n_out = 0;
    memset(ep, 0, sizeof *ep);
    if (cfg == NULL)
        cfg = &defaults;
    if (!config_valid(cfg) || latest->kind != SES_RECORD_SCALES)
        return SES_EINVALID_ARG;
    if (!record_valid(latest, false))
        return SES_EBAD_SCALE;
    for (size_t i = 0; i < n_history; i++)
        if (!record_valid(&history[i], false))
            return SES_EBAD_SCALE;
    struct timeline tl;
    int rc = timeline_build(history, n_history, latest, &tl);
    if (rc != 0)
        return rc;
    episode_build(&tl, ep);
    free(tl.rec);

    int p = phq9_of(latest), g = gad7_of(latest);
    struct triggers t = {out, 0};
    rule_a01(latest, &t);
    if (p >= PHQ_SEVERE || g >= GAD_SEVERE)
        add(&t, "A04", "", "PHQ-9 20 or more, or GAD-7 15 or more (severe range)");
    rule_worse(ep, p, g, relapse_prevention, &t);
    rule_a06(ep, p, cfg, &t);
    rule_a10(ep, p, &t);
    rule_a06b(ep, p, cfg, &t);
    *n_out = t.n;
    return 0;
}
