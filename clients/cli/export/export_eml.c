/*
 * export_eml.c - exp_eml: the message a secure health mailbox (MSSanté) delivers to the GP,
 * built with GMime 3: multipart/mixed with a text/plain covering note, the PDF letter and the
 * IHE XDM package, the MSSanté headers (X-MSS-CODECDA, X-MSS-INS) and a read-receipt request.
 * Deterministic: the Date is date_ms, the Message-ID and the boundary derive from the
 * recommendation's id and version.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "sesame/codec.h"
#include "sesame/err.h"
#include "export_int.h"

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;

static void gmime_start(void)
{
    g_mime_init(); /* once per process; its tables stay until exit */
}

/* An attachment part holding a copy of data. */
static GMimePart *attachment(const char *type, const char *subtype, const char *filename,
                             const uint8_t *data, size_t len)
{
    GMimePart *part = g_mime_part_new_with_type(type, subtype);
    GMimeStream *s = g_mime_stream_mem_new_with_buffer((const char *)data, len);
    GMimeDataWrapper *dw = g_mime_data_wrapper_new_with_stream(s, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(part, dw);
    g_object_unref(dw);
    g_object_unref(s);
    g_mime_part_set_filename(part, filename);
    g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
    return part;
}

/* Appends the addresses of text to list; false when none parses. */
static bool add_addresses(InternetAddressList *list, const char *text)
{
    InternetAddressList *parsed = internet_address_list_parse(NULL, text);
    if (parsed == NULL)
        return false;
    bool ok = internet_address_list_length(parsed) > 0;
    internet_address_list_append(list, parsed);
    g_object_unref(parsed);
    return ok;
}

static char *covering_note(const struct exp_input *in)
{
    struct exp_buf b = {0};
    exp_buf_printf(&b,
                   "Bonjour,\n\n"
                   "Veuillez trouver ci-joint la recommandation psychiatrique (version %d) "
                   "concernant le patient %s, rédigée par %s à votre attention.\n\n"
                   "Please find attached the psychiatric case-review recommendation (version %d) "
                   "for patient %s, written by %s for %s.\n\n"
                   "Pièces jointes / attachments:\n"
                   "- recommandation.pdf: the printable letter\n"
                   "- IHE_XDM.ZIP: the IHE XDM package with the CDA R2 document (%s) for your "
                   "software\n\n"
                   "-- \nSesame\n",
                   in->version, exp_str(in->patient_ref), exp_party_label(&in->author), in->version,
                   exp_str(in->patient_ref), exp_party_label(&in->author), exp_party_label(&in->gp),
                   exp_doc_code(in->doc));
    if (b.err) {
        exp_buf_free(&b);
        return NULL;
    }
    return b.p;
}

static int build(const struct exp_input *in, const char *from, const char *to, int64_t date_ms,
                 const uint8_t *pdf, size_t pdf_len, const uint8_t *xdm, size_t xdm_len,
                 uint8_t **out, size_t *len)
{
    char *note = covering_note(in);
    if (note == NULL)
        return SES_ENOMEM;
    int rc = 0;
    GMimeMessage *msg = g_mime_message_new(TRUE);
    if (!add_addresses(g_mime_message_get_from(msg), from) ||
        !add_addresses(g_mime_message_get_to(msg), to)) {
        rc = SES_EBAD_FIELD;
        goto out_msg;
    }
    char *subject = NULL;
    if (asprintf(&subject,
                 "Recommandation psychiatrique / case-review recommendation \xE2\x80\x93 %s",
                 exp_str(in->patient_ref)) < 0) {
        rc = SES_ENOMEM;
        goto out_msg;
    }
    g_mime_message_set_subject(msg, subject, "utf-8");
    free(subject);
    GDateTime *date = g_date_time_new_from_unix_utc(date_ms / 1000);
    if (date == NULL) {
        rc = SES_EBAD_FIELD;
        goto out_msg;
    }
    g_mime_message_set_date(msg, date);
    g_date_time_unref(date);
    char mid[200];
    snprintf(mid, sizeof mid, "%s.%d@sesame", in->rec_id, in->version);
    g_mime_message_set_message_id(msg, mid);
    GMimeObject *obj = GMIME_OBJECT(msg);
    g_mime_object_set_header(obj, "X-MSS-CODECDA", exp_doc_code(in->doc), NULL);
    g_mime_object_set_header(obj, "X-MSS-INS", in->card->ins, NULL);
    g_mime_object_set_header(obj, "Disposition-Notification-To", from, NULL);

    GMimeMultipart *mp = g_mime_multipart_new_with_subtype("mixed");
    char boundary[200];
    snprintf(boundary, sizeof boundary, "=_sesame_%s_%d", in->rec_id, in->version);
    g_mime_multipart_set_boundary(mp, boundary);

    /* The note as UTF-8 bytes (g_mime_text_part_set_text would pick a narrower charset). */
    GMimeTextPart *text = g_mime_text_part_new_with_subtype("plain");
    GMimeStream *ns = g_mime_stream_mem_new_with_buffer(note, strlen(note));
    GMimeDataWrapper *nw = g_mime_data_wrapper_new_with_stream(ns, GMIME_CONTENT_ENCODING_DEFAULT);
    g_mime_part_set_content(GMIME_PART(text), nw);
    g_object_unref(nw);
    g_object_unref(ns);
    g_mime_text_part_set_charset(text, "utf-8");
    g_mime_part_set_content_encoding(GMIME_PART(text), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
    g_mime_multipart_add(mp, GMIME_OBJECT(text));
    g_object_unref(text);
    GMimePart *p = attachment("application", "pdf", "recommandation.pdf", pdf, pdf_len);
    g_mime_multipart_add(mp, GMIME_OBJECT(p));
    g_object_unref(p);
    p = attachment("application", "zip", "IHE_XDM.ZIP", xdm, xdm_len);
    g_mime_multipart_add(mp, GMIME_OBJECT(p));
    g_object_unref(p);
    g_mime_message_set_mime_part(msg, GMIME_OBJECT(mp));
    g_object_unref(mp);

    GMimeFormatOptions *fo = g_mime_format_options_new();
    g_mime_format_options_set_newline_format(fo, GMIME_NEWLINE_FORMAT_DOS);
    GMimeStream *ms = g_mime_stream_mem_new();
    if (g_mime_object_write_to_stream(obj, fo, ms) < 0) {
        rc = SES_EIO;
    } else {
        GByteArray *ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(ms));
        uint8_t *buf = malloc(ba->len + 1);
        if (buf == NULL) {
            rc = SES_ENOMEM;
        } else {
            memcpy(buf, ba->data, ba->len);
            buf[ba->len] = '\0';
            *out = buf;
            *len = ba->len;
        }
    }
    g_object_unref(ms);
    g_mime_format_options_free(fo);
out_msg:
    g_object_unref(msg);
    free(note);
    return rc;
}

int exp_eml(const struct exp_input *in, const char *from, const char *to, int64_t date_ms,
            uint8_t **out, size_t *len)
{
    if (out == NULL || len == NULL)
        return SES_EINVALID_ARG;
    *out = NULL;
    *len = 0;
    int rc = exp_input_check(in, true);
    if (rc != 0)
        return rc;
    if (from == NULL || to == NULL || !ses_utf8_valid(from, strlen(from)) ||
        !ses_utf8_valid(to, strlen(to)) || strpbrk(from, "\r\n") != NULL ||
        strpbrk(to, "\r\n") != NULL)
        return SES_EBAD_FIELD;
    if (pthread_once(&gmime_once, gmime_start) != 0)
        return SES_EIO;
    uint8_t *pdf = NULL, *xdm = NULL;
    size_t pdf_len = 0, xdm_len = 0;
    rc = exp_pdf(in, &pdf, &pdf_len);
    if (rc == 0)
        rc = exp_xdm(in, &xdm, &xdm_len);
    if (rc == 0)
        rc = build(in, from, to, date_ms, pdf, pdf_len, xdm, xdm_len, out, len);
    free(pdf);
    free(xdm);
    return rc;
}
