/*
 * export_pdf.c - exp_pdf: the printable recommendation letter, an A4 PDF built with libhpdf in
 * the base-14 Helvetica fonts (WinAnsiEncoding: UTF-8 is converted to CP1252, anything outside
 * it prints as '?'), word-wrapped, with page breaks and a footer on every page. Deterministic:
 * the info dictionary's CreationDate is the sent time and nothing else depends on the clock.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hpdf.h>

#include "sesame/err.h"
#include "sesame/scales.h"
#include "export_int.h"

#define MARGIN 56.0f    /* 2 cm */
#define FOOTER_Y 30.0f  /* baseline of the footer */
#define BOTTOM 60.0f    /* the lowest baseline of body text */
#define BODY_SIZE 10.0f /* points */

/* CP1252 bytes 0x80..0x9F and their code points (0: unassigned). */
static const uint16_t cp1252_hi[32] = {
    0x20AC, 0,      0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0,      0x017D, 0,      0,      0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0,      0x017E, 0x0178};

static char cp1252_of(uint32_t c)
{
    if (c == '\n')
        return '\n';
    if (c == '\t')
        return ' ';
    if (c >= 0x20 && c < 0x7F)
        return (char)c;
    if (c >= 0xA0 && c <= 0xFF)
        return (char)(unsigned char)c;
    for (unsigned i = 0; i < 32; i++)
        if (cp1252_hi[i] != 0 && cp1252_hi[i] == c)
            return (char)(unsigned char)(0x80 + i);
    return '?';
}

/* UTF-8 to CP1252, malloc'd (NULL on ENOMEM). */
static char *to_cp1252(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    while (*s != '\0')
        out[o++] = cp1252_of(exp_utf8_next(&s));
    out[o] = '\0';
    return out;
}

/* The page writer. */
struct pw {
    HPDF_Doc pdf;
    HPDF_Page page;
    HPDF_Font reg, bold;
    float y, width, height;
    int pageno;
    char *footer; /* CP1252 */
    bool fail;    /* a libhpdf error or ENOMEM */
    bool nomem;
};

static void HPDF_STDCALL on_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user_data)
{
    (void)detail_no;
    struct pw *w = user_data;
    w->fail = true;
    if (error_no == HPDF_FAILD_TO_ALLOC_MEM)
        w->nomem = true;
}

static void new_page(struct pw *w)
{
    w->page = HPDF_AddPage(w->pdf);
    if (w->page == NULL) {
        w->fail = true;
        return;
    }
    HPDF_Page_SetSize(w->page, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    w->width = HPDF_Page_GetWidth(w->page);
    w->height = HPDF_Page_GetHeight(w->page);
    w->pageno++;
    char foot[400];
    snprintf(foot, sizeof foot, "%s - page %d", w->footer, w->pageno);
    HPDF_Page_SetFontAndSize(w->page, w->reg, 8.0f);
    HPDF_Page_BeginText(w->page);
    HPDF_Page_TextOut(w->page, MARGIN, FOOTER_Y, foot);
    HPDF_Page_EndText(w->page);
    w->y = w->height - MARGIN;
}

/* Writes CP1252 text wrapped to the text width less indent; '\n' starts a new line. */
static void write_cp(struct pw *w, HPDF_Font font, float size, float indent, const char *text)
{
    float leading = size * 1.3f;
    const char *p = text;
    char *line = malloc(strlen(text) + 1);
    if (line == NULL) {
        w->fail = w->nomem = true;
        return;
    }
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t plen = nl != NULL ? (size_t)(nl - p) : strlen(p);
        memcpy(line, p, plen);
        line[plen] = '\0';
        char *rest = line;
        do {
            if (w->fail)
                break;
            if (w->y - leading < BOTTOM)
                new_page(w);
            if (w->fail)
                break;
            HPDF_Page_SetFontAndSize(w->page, font, size);
            float avail = w->width - 2 * MARGIN - indent;
            size_t n = HPDF_Page_MeasureText(w->page, rest, avail, HPDF_TRUE, NULL);
            if (n == 0)
                n = HPDF_Page_MeasureText(w->page, rest, avail, HPDF_FALSE, NULL);
            if (n == 0 && rest[0] != '\0')
                n = 1;
            char keep = rest[n];
            rest[n] = '\0';
            w->y -= leading;
            HPDF_Page_BeginText(w->page);
            HPDF_Page_TextOut(w->page, MARGIN + indent, w->y, rest);
            HPDF_Page_EndText(w->page);
            rest[n] = keep;
            rest += n;
            while (*rest == ' ')
                rest++;
        } while (*rest != '\0');
        if (nl == NULL)
            break;
        p = nl + 1;
    }
    free(line);
}

/* Writes printf-formatted UTF-8 text. */
static void __attribute__((format(printf, 5, 6)))
para(struct pw *w, HPDF_Font font, float size, float indent, const char *fmt, ...)
{
    if (w->fail)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    char *cp = n >= 0 ? to_cp1252(s) : NULL;
    if (n >= 0)
        free(s);
    if (cp == NULL) {
        w->fail = w->nomem = true;
        return;
    }
    write_cp(w, font, size, indent, cp);
    free(cp);
}

static void heading(struct pw *w, const char *title)
{
    w->y -= 6.0f;
    para(w, w->bold, 11.0f, 0.0f, "%s", title);
}

static void field(struct pw *w, const char *label, const char *value)
{
    para(w, w->reg, BODY_SIZE, 0.0f, "%s: %s", label, value);
}

static void ms_field(struct pw *w, const char *label, int64_t ms)
{
    char t[32];
    exp_time_text(ms, t, sizeof t);
    field(w, label, ms > 0 ? t : "not yet");
}

static const char *sex_words(char sex)
{
    return sex == 'F' ? "female" : sex == 'M' ? "male" : "unknown";
}

static void letter(struct pw *w, const struct exp_input *in)
{
    const struct ses_rec_doc *d = in->doc;
    char day[11];
    para(w, w->bold, 16.0f, 0.0f, "Psychiatric case-review recommendation%s",
         d->urgent ? " (urgent)" : "");
    para(w, w->reg, 9.0f, 0.0f, "Indirect consultation through the Sesame collaborative-care team");

    heading(w, "Patient");
    const struct ses_patient_card *c = in->card;
    if (c != NULL) {
        field(w, "Birth name", c->birth_name);
        field(w, "Given names", c->given_names);
        field(w, "First given name", c->first_given);
        if (c->used_name[0] != '\0')
            field(w, "Used name", c->used_name);
        ses_day_format(c->birth_day, day);
        field(w, "Birth date", day);
        field(w, "Sex", sex_words(c->sex));
        if (exp_has_ins(c))
            para(w, w->reg, BODY_SIZE, 0.0f, "INS: %s (OID %s)", c->ins, ses_ins_oid(c->ins_kind));
        else
            field(w, "INS", "not entered");
    }
    field(w, "Pseudonymous reference", exp_str(in->patient_ref));

    heading(w, "Care team");
    field(w, "Psychiatrist", exp_party_label(&in->author));
    field(w, "General practitioner", exp_party_label(&in->gp));
    field(w, "Presenting nurse", exp_party_label(&in->nurse));
    if (in->site != NULL && in->site[0] != '\0')
        field(w, "Site", in->site);

    heading(w, "Dates");
    ses_day_format(d->day, day);
    field(w, "Written", day);
    if (d->review_day >= 0) {
        ses_day_format(d->review_day, day);
        field(w, "Case review", day);
    } else {
        field(w, "Case review", "ad hoc (outside a case-review session)");
    }

    heading(w, "Question addressed");
    para(w, w->reg, BODY_SIZE, 0.0f, "%s. %s", exp_question_words(d->question_code), d->question);
    heading(w, "Data basis");
    para(w, w->reg, BODY_SIZE, 0.0f, "%s", d->data_basis);
    heading(w, "Safety assessment");
    para(w, w->reg, BODY_SIZE, 0.0f, "%s", d->safety);
    if (d->diagnosis[0] != '\0') {
        heading(w, "Diagnosis");
        para(w, w->reg, BODY_SIZE, 0.0f, "%s", d->diagnosis);
    }
    if (d->n_items > 0) {
        heading(w, "Recommendations");
        for (size_t i = 0; i < d->n_items; i++) {
            const struct ses_rec_item *it = &d->items[i];
            if (ses_rec_item_is_med(it->type))
                para(w, w->bold, BODY_SIZE, 0.0f, "%zu. %s: %s", i + 1,
                     exp_item_type_words(it->type), it->drug);
            else
                para(w, w->bold, BODY_SIZE, 0.0f, "%zu. %s", i + 1, exp_item_type_words(it->type));
            if (it->dose[0] != '\0')
                para(w, w->reg, BODY_SIZE, 14.0f, "Dose: %s", it->dose);
            if (it->titration[0] != '\0')
                para(w, w->reg, BODY_SIZE, 14.0f, "Titration: %s", it->titration);
            if (it->monitoring[0] != '\0')
                para(w, w->reg, BODY_SIZE, 14.0f, "Monitoring: %s", it->monitoring);
            if (it->text[0] != '\0')
                para(w, w->reg, BODY_SIZE, 14.0f, "%s", it->text);
        }
    }
    if (d->narrative[0] != '\0') {
        heading(w, "Narrative");
        para(w, w->reg, BODY_SIZE, 0.0f, "%s", d->narrative);
    }
    heading(w, "Contingency plan");
    para(w, w->reg, BODY_SIZE, 0.0f, "%s", d->contingency);
    heading(w, "Next review");
    ses_day_format(d->next_review_day, day);
    para(w, w->reg, BODY_SIZE, 0.0f, "%s", day);

    heading(w, "State of the recommendation");
    field(w, "Current state", exp_state_name(in->state));
    ms_field(w, "Sent", in->sent_ms);
    ms_field(w, "Acknowledged", in->acked_ms);
    ms_field(w, "Decided", in->decided_ms);
    if (in->decision != NULL && in->decision[0] != '\0')
        field(w, "Decision", in->decision);
    if (in->reason != NULL && in->reason[0] != '\0')
        field(w, "Reason", in->reason);
    ms_field(w, "Implemented", in->implemented_ms);
    ms_field(w, "Verified with the patient", in->verified_ms);
    para(w, w->reg, BODY_SIZE, 0.0f, "Version %d of recommendation %s", in->version, in->rec_id);

    heading(w, "Disclaimer");
    para(w, w->reg, 8.5f, 0.0f, "%s", d->disclaimer);
}

int exp_pdf(const struct exp_input *in, uint8_t **out, size_t *len)
{
    if (out == NULL || len == NULL)
        return SES_EINVALID_ARG;
    *out = NULL;
    *len = 0;
    int rc = exp_input_check(in, false);
    if (rc != 0)
        return rc;
    struct pw w = {0};
    char *foot = NULL;
    if (asprintf(&foot, "Sesame - %s - recommendation %s v%d", exp_str(in->patient_ref), in->rec_id,
                 in->version) < 0)
        return SES_ENOMEM;
    w.footer = to_cp1252(foot);
    free(foot);
    if (w.footer == NULL)
        return SES_ENOMEM;
    w.pdf = HPDF_New(on_error, &w);
    if (w.pdf == NULL) {
        free(w.footer);
        return SES_ENOMEM;
    }
    HPDF_SetCompressionMode(w.pdf, HPDF_COMP_ALL);
    w.reg = HPDF_GetFont(w.pdf, "Helvetica", "WinAnsiEncoding");
    w.bold = HPDF_GetFont(w.pdf, "Helvetica-Bold", "WinAnsiEncoding");

    struct tm tm;
    time_t t = (time_t)(in->sent_ms / 1000);
    if (gmtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof tm);
    HPDF_Date date = {.year = tm.tm_year + 1900,
                      .month = tm.tm_mon + 1,
                      .day = tm.tm_mday,
                      .hour = tm.tm_hour,
                      .minutes = tm.tm_min,
                      .seconds = tm.tm_sec,
                      .ind = '+'}; /* +00'00': UTC */
    HPDF_SetInfoDateAttr(w.pdf, HPDF_INFO_CREATION_DATE, date);
    HPDF_SetInfoAttr(w.pdf, HPDF_INFO_TITLE, "Psychiatric case-review recommendation");
    HPDF_SetInfoAttr(w.pdf, HPDF_INFO_CREATOR, "Sesame");

    if (!w.fail)
        new_page(&w);
    if (!w.fail)
        letter(&w, in);
    if (!w.fail)
        HPDF_SaveToStream(w.pdf);
    uint8_t *buf = NULL;
    HPDF_UINT32 size = w.fail ? 0 : HPDF_GetStreamSize(w.pdf);
    if (!w.fail && size > 0) {
        buf = malloc(size);
        if (buf == NULL) {
            w.fail = w.nomem = true;
        } else {
            HPDF_UINT32 got = size;
            HPDF_STATUS st = HPDF_ReadFromStream(w.pdf, buf, &got);
            if ((st != HPDF_OK && st != HPDF_STREAM_EOF) || got != size)
                w.fail = true;
            else
                w.fail = false; /* HPDF_STREAM_EOF at the end is reported as an error */
        }
    } else {
        w.fail = true;
    }
    HPDF_Free(w.pdf);
    free(w.footer);
    if (w.fail) {
        free(buf);
        return w.nomem ? SES_ENOMEM : SES_EIO;
    }
    *out = buf;
    *len = size;
    return 0;
}
