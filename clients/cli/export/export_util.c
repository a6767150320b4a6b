/*
 * export_util.c - the export builders' shared helpers (export_int.h): names, deterministic
 * UUIDs, UTC time formats, the input check, UTF-8 handling and a growable buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sesame/codec.h"
#include "sesame/err.h"
#include "sesame/scales.h"
#include "export_int.h"

const char *exp_item_type_words(enum ses_rec_item_type t)
{
    switch (t) {
    case SES_REC_MED_START:
        return "Start medication";
    case SES_REC_MED_DOSE_CHANGE:
        return "Change dose";
    case SES_REC_MED_SWITCH:
        return "Switch medication";
    case SES_REC_MED_AUGMENT:
        return "Augment medication";
    case SES_REC_MED_STOP:
        return "Stop medication";
    case SES_REC_LAB:
        return "Laboratory test";
    case SES_REC_PSYCHOTHERAPY:
        return "Psychotherapy";
    case SES_REC_REFERRAL:
        return "Referral";
    case SES_REC_GP_VISIT:
        return "GP visit";
    case SES_REC_MONITORING:
        return "Monitoring";
    }
    return "Item";
}

const char *exp_question_words(enum ses_rec_question q)
{
    switch (q) {
    case SES_REC_Q_NEW_PATIENT:
        return "New patient";
    case SES_REC_Q_NOT_IMPROVING:
        return "Not improving";
    case SES_REC_Q_SAFETY:
        return "Safety concern";
    case SES_REC_Q_REQUEST:
        return "Requested by the care team";
    case SES_REC_Q_DECISION_POINT:
        return "Treatment decision point";
    case SES_REC_Q_OTHER:
        return "Other";
    }
    return "Other";
}

const char *exp_state_name(enum ses_rec_state s)
{
    const char *n = ses_rec_state_name(s);
    return n != NULL ? n : "unknown";
}

bool exp_has_ins(const struct ses_patient_card *card)
{
    return card != NULL && ses_ins_oid(card->ins_kind) != NULL && card->ins[0] != '\0';
}

const char *exp_str(const char *s)
{
    return s != NULL ? s : "";
}

const char *exp_party_label(const struct exp_party *p)
{
    if (p->name != NULL && p->name[0] != '\0')
        return p->name;
    return exp_str(p->id);
}

static bool str_ok(const char *s)
{
    return s == NULL || ses_utf8_valid(s, strlen(s));
}

/* A fixed-size field of a record: NUL-terminated within its array and valid UTF-8. */
static bool field_ok(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    return n < cap && ses_utf8_valid(s, n);
}
#define FIELD_OK(f) field_ok((f), sizeof(f))

static bool doc_ok(const struct ses_rec_doc *d)
{
    if (d->n_items > SES_REC_ITEMS_MAX)
        return false;
    if (!FIELD_OK(d->question) || !FIELD_OK(d->data_basis) || !FIELD_OK(d->safety) ||
        !FIELD_OK(d->diagnosis) || !FIELD_OK(d->narrative) || !FIELD_OK(d->contingency) ||
        !FIELD_OK(d->disclaimer))
        return false;
    for (size_t i = 0; i < d->n_items; i++) {
        const struct ses_rec_item *it = &d->items[i];
        if (!FIELD_OK(it->drug) || !FIELD_OK(it->dose) || !FIELD_OK(it->titration) ||
            !FIELD_OK(it->monitoring) || !FIELD_OK(it->text))
            return false;
    }
    return true;
}

static bool card_ok(const struct ses_patient_card *c)
{
    return FIELD_OK(c->birth_name) && FIELD_OK(c->given_names) && FIELD_OK(c->first_given) &&
           FIELD_OK(c->used_name) && FIELD_OK(c->ins) && FIELD_OK(c->birth_place);
}

int exp_input_check(const struct exp_input *in, bool need_ins)
{
    if (in == NULL)
        return SES_EINVALID_ARG;
    if (in->doc == NULL || in->rec_id == NULL || in->rec_id[0] == '\0' || in->version < 1 ||
        in->org_oid == NULL || in->org_oid[0] == '\0')
        return SES_EBAD_FIELD;
    if (!doc_ok(in->doc) || (in->card != NULL && !card_ok(in->card)))
        return SES_EBAD_FIELD;
    const char *strs[] = {in->rec_id,  in->thread_id, in->patient_ref, in->decision,
                          in->reason,  in->author.id, in->author.name, in->gp.id,
                          in->gp.name, in->nurse.id,  in->nurse.name,  in->site,
                          in->org_oid};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (!str_ok(strs[i]))
            return SES_EBAD_FIELD;
    if (need_ins && !exp_has_ins(in->card))
        return SES_EBAD_FIELD;
    return 0;
}

void exp_uuid(const char *text, char out[37])
{
    unsigned char h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, (const unsigned char *)text, strlen(text), NULL, 0);
    h[6] = (unsigned char)((h[6] & 0x0F) | 0x40);
    h[8] = (unsigned char)((h[8] & 0x3F) | 0x80);
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[h[i] >> 4];
        out[o++] = hex[h[i] & 0x0F];
    }
    out[o] = '\0';
}

void exp_uuid_oid(const char *uuid, char *out, size_t cap)
{
    /* The 128-bit value, big-endian, divided by 10 repeatedly. */
    unsigned char v[16] = {0};
    size_t n = 0;
    for (const char *p = uuid; *p != '\0' && n < 32; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else
            continue;
        v[n / 2] = (unsigned char)(v[n / 2] | (n % 2 == 0 ? d << 4 : d));
        n++;
    }
    char digits[48];
    size_t nd = 0;
    bool zero;
    do {
        unsigned rem = 0;
        zero = true;
        for (size_t i = 0; i < 16; i++) {
            unsigned cur = (rem << 8) | v[i];
            v[i] = (unsigned char)(cur / 10);
            rem = cur % 10;
            if (v[i] != 0)
                zero = false;
        }
        digits[nd++] = (char)('0' + rem);
    } while (!zero && nd < sizeof digits);
    size_t o = 0;
    const char *prefix = "2.25.";
    for (const char *p = prefix; *p != '\0' && o + 1 < cap; p++)
        out[o++] = *p;
    while (nd > 0 && o + 1 < cap)
        out[o++] = digits[--nd];
    if (cap > 0)
        out[o] = '\0';
}

static void utc_tm(int64_t ms, struct tm *tm)
{
    int64_t s = ms / 1000;
    if (ms < 0 && ms % 1000 != 0)
        s--;
    time_t t = (time_t)s;
    if (gmtime_r(&t, tm) == NULL)
        memset(tm, 0, sizeof *tm);
}

void exp_time_hl7(int64_t ms, char *out, size_t cap)
{
    struct tm tm;
    utc_tm(ms, &tm);
    if (strftime(out, cap, "%Y%m%d%H%M%S", &tm) == 0 && cap > 0)
        out[0] = '\0';
}

void exp_time_iso(int64_t ms, char *out, size_t cap)
{
    struct tm tm;
    utc_tm(ms, &tm);
    if (strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0 && cap > 0)
        out[0] = '\0';
}

void exp_time_text(int64_t ms, char *out, size_t cap)
{
    struct tm tm;
    utc_tm(ms, &tm);
    if (strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm) == 0 && cap > 0)
        out[0] = '\0';
}

void exp_day_hl7(int32_t day, char *out, size_t cap)
{
    char iso[11];
    ses_day_format(day, iso);
    snprintf(out, cap, "%.4s%.2s%.2s", iso, iso + 5, iso + 8);
}

uint32_t exp_utf8_next(const char **p)
{
    const unsigned char *s = (const unsigned char *)*p;
    uint32_t c = s[0];
    size_t n;
    uint32_t min;
    if (c < 0x80) {
        *p += 1;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        n = 1, c &= 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        n = 2, c &= 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        n = 3, c &= 0x07, min = 0x10000;
    } else {
        *p += 1;
        return 0xFFFD;
    }
    for (size_t i = 1; i <= n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *p += i;
            return 0xFFFD;
        }
        c = (c << 6) | (s[i] & 0x3F);
    }
    *p += n + 1;
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0xFFFD;
    return c;
}

/* The base letter of U+00C0..U+00FF, or 0. */
static char latin1_base(uint32_t c)
{
    static const char tab[] = "AAAAAAACEEEEIIIIDNOOOOOxOUUUUYTs"
                              "aaaaaaaceeeeiiiidnooooo/ouuuuyty";
    if (c < 0xC0 || c > 0xFF)
        return 0;
    return tab[c - 0xC0];
}

char *exp_ascii(const char *s)
{
    size_t n = strlen(s);
    char *out = malloc(2 * n + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    while (*s != '\0') {
        uint32_t c = exp_utf8_next(&s);
        char b = latin1_base(c);
        const char *lig = c == 0xC6    ? "AE"
                          : c == 0xE6  ? "ae"
                          : c == 0x152 ? "OE"
                          : c == 0x153 ? "oe"
                          : c == 0xDF  ? "ss"
                                       : NULL;
        if (lig != NULL) {
            out[o++] = lig[0], out[o++] = lig[1];
        } else if (b != 0) {
            out[o++] = b;
        } else if (c == '\n' || c == '\r' || c == '\t' || (c >= 0x20 && c < 0x7F)) {
            out[o++] = (char)c;
        } else if (c == 0x2013 || c == 0x2014) {
            out[o++] = '-';
        } else if (c == 0x2018 || c == 0x2019) {
            out[o++] = '\'';
        } else if (c == 0x201C || c == 0x201D) {
            out[o++] = '"';
        } else if (c == 0xA0) {
            out[o++] = ' ';
        } else {
            out[o++] = '?';
        }
    }
    out[o] = '\0';
    return out;
}

void exp_buf_printf(struct exp_buf *b, const char *fmt, ...)
{
    if (b->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->err = true;
        va_end(ap2);
        return;
    }
    size_t need = b->len + (size_t)n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->err = true;
            va_end(ap2);
            return;
        }
        b->p = p, b->cap = cap;
    }
    vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap2);
    va_end(ap2);
    b->len += (size_t)n;
}

void exp_buf_free(struct exp_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

const char *exp_doc_code(const struct ses_rec_doc *d)
{
    return d != NULL && d->review_day >= 0 ? "34794-8" : "11488-4";
}
