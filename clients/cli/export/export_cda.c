/*
 * export_cda.c - exp_cda: the recommendation as an HL7 CDA R2 document with a French CI-SIS
 * header (realm FR, the CI-SIS header and minimal-structuring templates, INS in recordTarget)
 * and the PDF letter as its nonXMLBody, written with libxml2's xmlTextWriter.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/err.h"
#include "export_int.h"
#include "export_xml.h"

/* Writes <name root=... [extension=...]/>. */
static void ii(struct exp_xw *x, const char *name, const char *root, const char *ext)
{
    exp_xw_start(x, name);
    exp_xw_attr(x, "root", root);
    if (ext != NULL)
        exp_xw_attr(x, "extension", ext);
    exp_xw_end(x);
}

static void value_elem(struct exp_xw *x, const char *name, const char *value)
{
    exp_xw_start(x, name);
    exp_xw_attr(x, "value", value);
    exp_xw_end(x);
}

static void ts(struct exp_xw *x, const char *name, int64_t ms)
{
    char t[32];
    exp_time_hl7(ms, t, sizeof t);
    strcat(t, "+0000");
    value_elem(x, name, t);
}

/* <assignedPerson>-like element with a name. */
static void person(struct exp_xw *x, const char *elem, const struct exp_party *p)
{
    exp_xw_start(x, elem);
    exp_xw_elem(x, "name", exp_party_label(p));
    exp_xw_end(x);
}

void exp_cda_ids(const struct exp_input *in, char id[37], char set_id[37])
{
    char text[256];
    snprintf(text, sizeof text, "sesame-cda|%s|%d", in->rec_id, in->version);
    exp_uuid(text, id);
    snprintf(text, sizeof text, "sesame-cda|%s", in->rec_id);
    exp_uuid(text, set_id);
}

const char *exp_doc_display(const struct ses_rec_doc *d)
{
    return d->review_day >= 0 ? "CR de réunion de concertation pluridisciplinaire"
                              : "CR ou fiche de consultation ou de visite";
}

static void header(struct exp_xw *x, const struct exp_input *in)
{
    const struct ses_rec_doc *d = in->doc;
    const struct ses_patient_card *c = in->card;
    char id[37], set_id[37], oid[200], buf[64];
    exp_cda_ids(in, id, set_id);

    exp_xw_start(x, "realmCode");
    exp_xw_attr(x, "code", "FR");
    exp_xw_end(x);
    ii(x, "typeId", "2.16.840.1.113883.1.3", "POCD_HD000040");
    ii(x, "templateId", "1.2.250.1.213.1.1.1.1", NULL);
    ii(x, "templateId", "1.2.250.1.213.1.1.1.55", NULL);
    ii(x, "id", id, NULL);
    exp_xw_start(x, "code");
    exp_xw_attr(x, "code", exp_doc_code(d));
    exp_xw_attr(x, "codeSystem", "2.16.840.1.113883.6.1");
    exp_xw_attr(x, "codeSystemName", "LOINC");
    exp_xw_attr(x, "displayName", exp_doc_display(d));
    exp_xw_end(x);
    exp_xw_elem(x, "title",
                d->urgent ? "Psychiatric case-review recommendation (urgent)"
                          : "Psychiatric case-review recommendation");
    ts(x, "effectiveTime", in->sent_ms);
    exp_xw_start(x, "confidentialityCode");
    exp_xw_attr(x, "code", "N");
    exp_xw_attr(x, "codeSystem", "2.16.840.1.113883.5.25");
    exp_xw_end(x);
    exp_xw_start(x, "languageCode");
    exp_xw_attr(x, "code", "fr-FR");
    exp_xw_end(x);
    ii(x, "setId", set_id, NULL);
    snprintf(buf, sizeof buf, "%d", in->version);
    value_elem(x, "versionNumber", buf);

    /* recordTarget */
    exp_xw_start(x, "recordTarget");
    exp_xw_start(x, "patientRole");
    ii(x, "id", ses_ins_oid(c->ins_kind), c->ins);
    snprintf(oid, sizeof oid, "%s.1", in->org_oid);
    if (in->patient_ref != NULL && in->patient_ref[0] != '\0')
        ii(x, "id", oid, in->patient_ref);
    exp_xw_start(x, "patient");
    exp_xw_start(x, "name");
    exp_xw_start(x, "family");
    exp_xw_attr(x, "qualifier", "BR");
    exp_xw_text(x, c->birth_name);
    exp_xw_end(x);
    exp_xw_elem(x, "given", c->first_given[0] != '\0' ? c->first_given : c->given_names);
    if (c->used_name[0] != '\0') {
        exp_xw_start(x, "family");
        exp_xw_attr(x, "qualifier", "SP");
        exp_xw_text(x, c->used_name);
        exp_xw_end(x);
    }
    exp_xw_end(x); /* name */
    exp_xw_start(x, "administrativeGenderCode");
    exp_xw_attr(x, "code", c->sex == 'F' ? "F" : c->sex == 'M' ? "M" : "UN");
    exp_xw_attr(x, "codeSystem", "2.16.840.1.113883.5.1");
    exp_xw_end(x);
    exp_day_hl7(c->birth_day, buf, sizeof buf);
    value_elem(x, "birthTime", buf);
    exp_xw_end(x); /* patient */
    exp_xw_end(x); /* patientRole */
    exp_xw_end(x); /* recordTarget */

    /* author */
    snprintf(oid, sizeof oid, "%s.2", in->org_oid);
    exp_xw_start(x, "author");
    ts(x, "time", in->sent_ms);
    exp_xw_start(x, "assignedAuthor");
    ii(x, "id", oid, exp_str(in->author.id));
    person(x, "assignedPerson", &in->author);
    exp_xw_end(x);
    exp_xw_end(x);

    /* custodian */
    exp_xw_start(x, "custodian");
    exp_xw_start(x, "assignedCustodian");
    exp_xw_start(x, "representedCustodianOrganization");
    ii(x, "id", in->org_oid, NULL);
    exp_xw_elem(x, "name", in->site != NULL && in->site[0] != '\0' ? in->site : "Sesame");
    exp_xw_end(x);
    exp_xw_end(x);
    exp_xw_end(x);

    /* informationRecipient: the GP */
    exp_xw_start(x, "informationRecipient");
    exp_xw_start(x, "intendedRecipient");
    ii(x, "id", oid, exp_str(in->gp.id));
    person(x, "informationRecipient", &in->gp);
    exp_xw_end(x);
    exp_xw_end(x);

    /* legalAuthenticator: the psychiatrist */
    exp_xw_start(x, "legalAuthenticator");
    ts(x, "time", in->sent_ms);
    exp_xw_start(x, "signatureCode");
    exp_xw_attr(x, "code", "S");
    exp_xw_end(x);
    exp_xw_start(x, "assignedEntity");
    ii(x, "id", oid, exp_str(in->author.id));
    person(x, "assignedPerson", &in->author);
    exp_xw_end(x);
    exp_xw_end(x);

    /* documentationOf: the case review (or the day written) */
    exp_xw_start(x, "documentationOf");
    exp_xw_start(x, "serviceEvent");
    exp_day_hl7(d->review_day >= 0 ? d->review_day : d->day, buf, sizeof buf);
    exp_xw_start(x, "effectiveTime");
    value_elem(x, "low", buf);
    value_elem(x, "high", buf);
    exp_xw_end(x);
    exp_xw_end(x);
    exp_xw_end(x);
}

int exp_cda(const struct exp_input *in, uint8_t **out, size_t *len)
{
    if (out == NULL || len == NULL)
        return SES_EINVALID_ARG;
    *out = NULL;
    *len = 0;
    int rc = exp_input_check(in, true);
    if (rc != 0)
        return rc;
    if (sodium_init() < 0)
        return SES_EIO;
    uint8_t *pdf;
    size_t pdf_len;
    rc = exp_pdf(in, &pdf, &pdf_len);
    if (rc != 0)
        return rc;
    size_t b64_cap = sodium_base64_ENCODED_LEN(pdf_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_cap);
    if (b64 == NULL) {
        free(pdf);
        return SES_ENOMEM;
    }
    sodium_bin2base64(b64, b64_cap, pdf, pdf_len, sodium_base64_VARIANT_ORIGINAL);
    free(pdf);

    struct exp_xw x;
    rc = exp_xw_open(&x);
    if (rc != 0) {
        free(b64);
        return rc;
    }
    exp_xw_start(&x, "ClinicalDocument");
    exp_xw_attr(&x, "xmlns", "urn:hl7-org:v3");
    exp_xw_attr(&x, "xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance");
    header(&x, in);
    exp_xw_start(&x, "component");
    exp_xw_start(&x, "nonXMLBody");
    exp_xw_start(&x, "text");
    exp_xw_attr(&x, "mediaType", "application/pdf");
    exp_xw_attr(&x, "representation", "B64");
    exp_xw_text(&x, b64);
    exp_xw_end(&x);
    exp_xw_end(&x);
    exp_xw_end(&x);
    exp_xw_end(&x); /* ClinicalDocument */
    free(b64);
    return exp_xw_close(&x, out, len);
}
