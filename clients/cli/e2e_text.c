/*
 * e2e_text.c - showing decrypted messages (see e2e.h): UTF-8 validation, text printed without
 * letting it drive the terminal, one message as lines or as JSON, and scale records as JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"
#include "sesame/err.h"

/* --- text ----------------------------------------------------------------------------------- */

int e2e_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= n)
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += n + 1;
    }
    return 1;
}

/* Length of the unsafe sequence at p (0 if safe): C0 but \n and \t, DEL, C1 (C2 80..9F),
 * U+202A..202E, U+2066..2069 (bidirectional overrides and isolates). */
static size_t unsafe_at(const unsigned char *p, int keep_newline)
{
    if (*p < 0x20 && !((*p == '\n' && keep_newline) || *p == '\t'))
        return 1;
    if (*p == 0x7F)
        return 1;
    if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
        return 2;
    if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE)
        return 3;
    if (p[0] == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9)
        return 3;
    return 0;
}

void e2e_print_safe(FILE *f, const char *s, const char *indent)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = unsafe_at(p, 1);
        if (n > 0) {
            fputc('?', f);
            p += n;
            continue;
        }
        fputc(*p, f);
        if (*p == '\n' && indent != NULL && p[1] != '\0')
            fputs(indent, f);
        p++;
    }
}

char *e2e_flatten(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p == '\n' || *p == '\t') {
            *o++ = ' ';
            p++;
            continue;
        }
        size_t n = unsafe_at(p, 0);
        if (n > 0) {
            *o++ = '?';
            p += n;
            continue;
        }
        *o++ = (char)*p++;
    }
    *o = '\0';
    return out;
}

static const char *content_label(uint8_t t)
{
    switch (t) {
    case SES_CONTENT_TEXT:
        return "text";
    case SES_CONTENT_SCALE:
        return "scale";
    case SES_CONTENT_ALERT_NOTE:
        return "alert note";
    case SES_CONTENT_THREAD_TITLE:
        return "title";
    case SES_CONTENT_RECOMMENDATION:
        return "recommendation";
    case SES_CONTENT_PATIENT_CARD:
        return "patient card";
    default:
        return "unsupported";
    }
}

void e2e_print_msg(const struct e2e_msg *m, const char *prefix, const char *marks)
{
    char when[40];
    json_t *ts = json_integer((json_int_t)m->ts);
    cli_fmt_time(when, sizeof when, ts);
    json_decref(ts);
    char *name = e2e_flatten(m->sender_name);
    printf("%s#%lld  %s  %s (%s)", prefix ? prefix : "", (long long)m->seq, when, name ? name : "?",
           m->sender_role);
    free(name);
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_THREAD_TITLE)
        fputs("  [title]", stdout);
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_ALERT_NOTE)
        fputs("  [alert note]", stdout);
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_SCALE)
        fputs(!m->has_record                         ? "  [scale record]"
              : m->record.kind == SES_RECORD_PLAN    ? "  [plan record]"
              : m->record.kind == SES_RECORD_RP_PLAN ? "  [relapse-prevention plan]"
                                                     : "  [scale record]",
              stdout);
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_RECOMMENDATION)
        fputs("  [recommendation]", stdout);
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_PATIENT_CARD)
        fputs("  [patient card]", stdout);
    if (marks != NULL && marks[0] != '\0')
        printf("  %s", marks);
    fputs("\n    ", stdout);
    if (m->status == E2E_MSG_REFUSED) {
        printf("(REFUSED: %s: %s; message dropped)", ses_err_name(m->err), ses_err_msg(m->err));
    } else if (m->status == E2E_MSG_UNVERIFIED) {
        fputs("(not shown: the sender could not be verified)", stdout);
    } else if (m->text != NULL) {
        e2e_print_safe(stdout, m->text, "    ");
    } else if (m->content_type == SES_CONTENT_SCALE) {
        printf("(scale record, %zu bytes)", m->body_len);
    } else if (m->content_type > SES_CONTENT_TYPE_MAX) {
        printf("(unsupported content, type %u)", (unsigned)m->content_type);
    } else {
        fputs("(unreadable text)", stdout);
    }
    fputc('\n', stdout);
    if (m->note[0] != '\0') {
        fputs("    ! ", stdout);
        e2e_print_safe(stdout, m->note, "      ");
        fputc('\n', stdout);
    }
}

/* {"items":[... (null: not answered)],"total","complete","prorated","answered","band","label"} of
 * one scale; NULL when out of memory. */
static json_t *scale_json(enum ses_scale scale, const uint8_t *items, size_t n)
{
    struct ses_scale_score sc;
    json_t *arr = json_array();
    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr,
                              items[i] == SES_ITEM_MISSING ? json_null() : json_integer(items[i]));
    if (ses_scale_score(scale, items, n, 0, &sc) != 0) {
        json_decref(arr);
        return json_pack("{s:n}", "items");
    }
    return json_pack("{s:o, s:i, s:b, s:b, s:i, s:s, s:s}", "items", arr, "total", sc.total,
                     "complete", sc.complete, "prorated", sc.prorated, "answered", sc.answered,
                     "band", ses_band_code(sc.band), "label", ses_band_label(sc.band));
}

json_t *e2e_record_json(const struct ses_record *r)
{
    char date[11];
    ses_day_format(r->day, date);
    if (r->kind == SES_RECORD_PLAN)
        return json_pack("{s:s, s:s, s:b}", "kind", "plan", "date", date, "antidepressant",
                         r->antidepressant);
    if (r->kind == SES_RECORD_RP_PLAN) {
        json_t *o = json_pack("{s:s, s:s}", "kind", "rp_plan", "date", date);
        for (int k = 0; o != NULL && k < SES_RP_PARTS; k++)
            json_object_set_new(o, ses_rp_part_key((enum ses_rp_part)k), json_string(r->rp[k]));
        return o;
    }
    json_t *o = json_pack("{s:s, s:s}", "kind", "scales", "date", date);
    if (o == NULL)
        return NULL;
    if (r->has_phq9) {
        json_t *s = scale_json(SES_SCALE_PHQ9, r->phq9, SES_PHQ9_ITEMS);
        if (s != NULL)
            json_object_set_new(s, "item9",
                                r->phq9[SES_PHQ9_ITEMS - 1] == SES_ITEM_MISSING
                                    ? json_null()
                                    : json_integer(r->phq9[SES_PHQ9_ITEMS - 1]));
        json_object_set_new(o, "phq9", s ? s : json_null());
    }
    if (r->has_gad7) {
        json_t *s = scale_json(SES_SCALE_GAD7, r->gad7, SES_GAD7_ITEMS);
        json_object_set_new(o, "gad7", s ? s : json_null());
    }
    if (r->has_phq2) {
        json_t *s = scale_json(SES_SCALE_PHQ2, r->phq2, SES_PHQ2_ITEMS);
        json_object_set_new(o, "phq2", s ? s : json_null());
    }
    return o;
}

json_t *e2e_msg_json(const struct e2e_msg *m, int with_thread)
{
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:b}", "seq", (json_int_t)m->seq, "ts",
                          (json_int_t)m->ts, "sender", m->sender, "sender_name", m->sender_name,
                          "sender_role", m->sender_role, "device", m->device, "verified",
                          m->status == E2E_MSG_OK);
    if (o == NULL)
        return NULL;
    if (with_thread) {
        json_object_set_new(o, "thread", json_string(m->thread));
        json_object_set_new(o, "patient", json_string(m->patient));
    }
    if (m->status == E2E_MSG_OK) {
        json_object_set_new(o, "content_type", json_integer(m->content_type));
        json_object_set_new(o, "content", json_string(content_label(m->content_type)));
        json_object_set_new(o, "created", json_integer((json_int_t)m->created_ms));
        json_object_set_new(o, "sender_seq", json_integer((json_int_t)m->sender_seq));
    } else {
        json_object_set_new(o, "content_type", json_null());
    }
    json_object_set_new(o, "text", m->text ? json_string(m->text) : json_null());
    if (m->status == E2E_MSG_OK && m->has_record)
        json_object_set_new(o, "record", e2e_record_json(&m->record));
    json_object_set_new(o, "error",
                        m->status == E2E_MSG_REFUSED      ? json_string(ses_err_name(m->err))
                        : m->status == E2E_MSG_UNVERIFIED ? json_string("UNVERIFIED_SENDER")
                                                          : json_null());
    json_object_set_new(o, "note", m->note[0] ? json_string(m->note) : json_null());
    return o;
}
