/*
 * export_xdm.c - exp_xdm: the IHE XDM package (ITI TF-1 §16) a GP's software imports from a
 * secure mailbox: README.TXT, INDEX.HTM, IHE_XDM/SUBSET01/METADATA.XML (an ebRIM 3.0
 * SubmitObjectsRequest: the submission set, the document entry, their association) and
 * IHE_XDM/SUBSET01/DOC0001.XML (the CDA of exp_cda), zipped in memory with libzip.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <zip.h>

#include "sesame/err.h"
#include "sesame/scales.h"
#include "export_int.h"
#include "export_xml.h"

#define DOC_PATH "IHE_XDM/SUBSET01/DOC0001.XML"
#define META_PATH "IHE_XDM/SUBSET01/METADATA.XML"

/* ebRIM and XDS identifiers (ITI TF-3 §4.2.5). */
#define OBJTYPE_CLASSIFICATION                                                                     \
    "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification"
#define OBJTYPE_EXTID "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier"
#define DE_OBJECT_TYPE "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1"
#define DE_CLASS_CODE "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
#define DE_CONF_CODE "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
#define DE_FORMAT_CODE "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
#define DE_FACILITY_CODE "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
#define DE_PRACTICE_CODE "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
#define DE_TYPE_CODE "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
#define DE_PATIENT_ID "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
#define DE_UNIQUE_ID "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"
#define SS_NODE "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
#define SS_CONTENT_TYPE "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
#define SS_UNIQUE_ID "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"
#define SS_SOURCE_ID "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
#define SS_PATIENT_ID "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"

/* urn:uuid: ids of the package's registry objects, derived from the recommendation. */
static void obj_id(const struct exp_input *in, const char *what, char out[46])
{
    char text[256], uuid[37];
    snprintf(text, sizeof text, "sesame-xdm|%s|%d|%s", in->rec_id, in->version, what);
    exp_uuid(text, uuid);
    snprintf(out, 46, "urn:uuid:%s", uuid);
}

static void slot(struct exp_xw *x, const char *name, const char *value)
{
    exp_xw_start(x, "rim:Slot");
    exp_xw_attr(x, "name", name);
    exp_xw_start(x, "rim:ValueList");
    exp_xw_elem(x, "rim:Value", value);
    exp_xw_end(x);
    exp_xw_end(x);
}

static void name(struct exp_xw *x, const char *value)
{
    exp_xw_start(x, "rim:Name");
    exp_xw_start(x, "rim:LocalizedString");
    exp_xw_attr(x, "value", value);
    exp_xw_end(x);
    exp_xw_end(x);
}

static void classification(struct exp_xw *x, const struct exp_input *in, const char *scheme,
                           const char *object, const char *code, const char *coding_scheme,
                           const char *display)
{
    char id[46], what[160];
    snprintf(what, sizeof what, "class|%s|%s", scheme, object);
    obj_id(in, what, id);
    exp_xw_start(x, "rim:Classification");
    exp_xw_attr(x, "id", id);
    exp_xw_attr(x, "objectType", OBJTYPE_CLASSIFICATION);
    exp_xw_attr(x, "classificationScheme", scheme);
    exp_xw_attr(x, "classifiedObject", object);
    exp_xw_attr(x, "nodeRepresentation", code);
    slot(x, "codingScheme", coding_scheme);
    name(x, display);
    exp_xw_end(x);
}

static void ext_id(struct exp_xw *x, const struct exp_input *in, const char *scheme,
                   const char *object, const char *value, const char *label)
{
    char id[46], what[160];
    snprintf(what, sizeof what, "extid|%s|%s", scheme, object);
    obj_id(in, what, id);
    exp_xw_start(x, "rim:ExternalIdentifier");
    exp_xw_attr(x, "id", id);
    exp_xw_attr(x, "objectType", OBJTYPE_EXTID);
    exp_xw_attr(x, "identificationScheme", scheme);
    exp_xw_attr(x, "registryObject", object);
    exp_xw_attr(x, "value", value);
    name(x, label);
    exp_xw_end(x);
}

static int sha1_hex(const uint8_t *p, size_t n, char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (EVP_Digest(p, n, md, &md_len, EVP_sha1(), NULL) != 1 || md_len != 20)
        return SES_EIO;
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 20; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 0x0F];
    }
    out[40] = '\0';
    return 0;
}

static int metadata(const struct exp_input *in, const uint8_t *doc, size_t doc_len, uint8_t **out,
                    size_t *len)
{
    const struct ses_rec_doc *d = in->doc;
    const struct ses_patient_card *c = in->card;
    char hash[41], size[32], created[32], start[32], pid[200], de[46], ss[46], assoc[46];
    char cda_id[37], set_id[37], ss_uid[64];
    int rc = sha1_hex(doc, doc_len, hash);
    if (rc != 0)
        return rc;
    snprintf(size, sizeof size, "%zu", doc_len);
    exp_time_hl7(in->sent_ms, created, sizeof created);
    exp_day_hl7(d->review_day >= 0 ? d->review_day : d->day, start, sizeof start);
    snprintf(pid, sizeof pid, "%s^^^&%s&ISO", c->ins, ses_ins_oid(c->ins_kind));
    exp_cda_ids(in, cda_id, set_id);
    obj_id(in, "document", de);
    obj_id(in, "submissionset", ss);
    obj_id(in, "association", assoc);
    {
        char text[256], uuid[37];
        snprintf(text, sizeof text, "sesame-xdm|%s|%d|submissionset-uid", in->rec_id, in->version);
        exp_uuid(text, uuid);
        exp_uuid_oid(uuid, ss_uid, sizeof ss_uid);
    }
    const char *title = d->urgent ? "Psychiatric case-review recommendation (urgent)"
                                  : "Psychiatric case-review recommendation";

    struct exp_xw x;
    rc = exp_xw_open(&x);
    if (rc != 0)
        return rc;
    exp_xw_start(&x, "lcm:SubmitObjectsRequest");
    exp_xw_attr(&x, "xmlns:lcm", "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0");
    exp_xw_attr(&x, "xmlns:rim", "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0");
    exp_xw_start(&x, "rim:RegistryObjectList");

    /* The document entry. */
    exp_xw_start(&x, "rim:ExtrinsicObject");
    exp_xw_attr(&x, "id", de);
    exp_xw_attr(&x, "mimeType", "text/xml");
    exp_xw_attr(&x, "objectType", DE_OBJECT_TYPE);
    slot(&x, "creationTime", created);
    slot(&x, "languageCode", "fr-FR");
    slot(&x, "serviceStartTime", start);
    slot(&x, "sourcePatientId", pid);
    slot(&x, "hash", hash);
    slot(&x, "size", size);
    slot(&x, "URI", "DOC0001.XML");
    name(&x, title);
    classification(&x, in, DE_CLASS_CODE, de, "10", "1.2.250.1.213.1.1.4.1", "Compte rendu");
    classification(&x, in, DE_CONF_CODE, de, "N", "2.16.840.1.113883.5.25", "Normal");
    classification(&x, in, DE_FORMAT_CODE, de, "urn:ihe:iti:xds-sd:pdf:2008",
                   "1.3.6.1.4.1.19376.1.2.3", "Document a corps non structure en PDF");
    classification(&x, in, DE_FACILITY_CODE, de, "SA07", "1.2.250.1.71.4.2.4", "Cabinet de groupe");
    classification(&x, in, DE_PRACTICE_CODE, de, "AMBULATOIRE", "1.2.250.1.213.1.1.4.9",
                   "Ambulatoire");
    classification(&x, in, DE_TYPE_CODE, de, exp_doc_code(d), "2.16.840.1.113883.6.1",
                   exp_doc_display(d));
    ext_id(&x, in, DE_PATIENT_ID, de, pid, "XDSDocumentEntry.patientId");
    ext_id(&x, in, DE_UNIQUE_ID, de, cda_id, "XDSDocumentEntry.uniqueId");
    exp_xw_end(&x);

    /* The submission set. */
    exp_xw_start(&x, "rim:RegistryPackage");
    exp_xw_attr(&x, "id", ss);
    slot(&x, "submissionTime", created);
    name(&x, title);
    classification(&x, in, SS_CONTENT_TYPE, ss, exp_doc_code(d), "2.16.840.1.113883.6.1",
                   exp_doc_display(d));
    ext_id(&x, in, SS_UNIQUE_ID, ss, ss_uid, "XDSSubmissionSet.uniqueId");
    ext_id(&x, in, SS_SOURCE_ID, ss, in->org_oid, "XDSSubmissionSet.sourceId");
    ext_id(&x, in, SS_PATIENT_ID, ss, pid, "XDSSubmissionSet.patientId");
    exp_xw_end(&x);
    {
        char id[46];
        obj_id(in, "submissionset-node", id);
        exp_xw_start(&x, "rim:Classification");
        exp_xw_attr(&x, "id", id);
        exp_xw_attr(&x, "objectType", OBJTYPE_CLASSIFICATION);
        exp_xw_attr(&x, "classifiedObject", ss);
        exp_xw_attr(&x, "classificationNode", SS_NODE);
        exp_xw_end(&x);
    }
    exp_xw_start(&x, "rim:Association");
    exp_xw_attr(&x, "id", assoc);
    exp_xw_attr(&x, "associationType", "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember");
    exp_xw_attr(&x, "sourceObject", ss);
    exp_xw_attr(&x, "targetObject", de);
    slot(&x, "SubmissionSetStatus", "Original");
    exp_xw_end(&x);

    exp_xw_end(&x); /* RegistryObjectList */
    exp_xw_end(&x); /* SubmitObjectsRequest */
    return exp_xw_close(&x, out, len);
}

static int index_htm(const struct exp_input *in, uint8_t **out, size_t *len)
{
    struct exp_xw x;
    int rc = exp_xw_open(&x);
    if (rc != 0)
        return rc;
    char day[11];
    ses_day_format(in->doc->day, day);
    exp_xw_start(&x, "html");
    exp_xw_attr(&x, "xmlns", "http://www.w3.org/1999/xhtml");
    exp_xw_attr(&x, "xml:lang", "fr");
    exp_xw_start(&x, "head");
    exp_xw_elem(&x, "title", "IHE XDM - Sesame");
    exp_xw_end(&x);
    exp_xw_start(&x, "body");
    exp_xw_elem(&x, "h1", "IHE XDM package");
    exp_xw_start(&x, "p");
    exp_xw_text(&x, "Sent by ");
    exp_xw_text(&x, exp_party_label(&in->author));
    exp_xw_text(&x, " to ");
    exp_xw_text(&x, exp_party_label(&in->gp));
    exp_xw_text(&x, " through Sesame.");
    exp_xw_end(&x);
    exp_xw_start(&x, "ul");
    exp_xw_start(&x, "li");
    exp_xw_start(&x, "a");
    exp_xw_attr(&x, "href", DOC_PATH);
    exp_xw_text(&x, "Psychiatric case-review recommendation of ");
    exp_xw_text(&x, day);
    exp_xw_text(&x, " (CDA R2, ");
    exp_xw_text(&x, exp_doc_code(in->doc));
    exp_xw_text(&x, ")");
    exp_xw_end(&x);
    exp_xw_end(&x);
    exp_xw_end(&x);
    exp_xw_end(&x); /* body */
    exp_xw_end(&x); /* html */
    return exp_xw_close(&x, out, len);
}

static int readme(const struct exp_input *in, uint8_t **out, size_t *len)
{
    char *author = exp_ascii(exp_party_label(&in->author));
    char *gp = exp_ascii(exp_party_label(&in->gp));
    char *site = exp_ascii(in->site != NULL && in->site[0] != '\0' ? in->site : "Sesame");
    char day[11];
    ses_day_format(in->doc->day, day);
    struct exp_buf b = {0};
    if (author == NULL || gp == NULL || site == NULL)
        b.err = true;
    exp_buf_printf(&b,
                   "IHE XDM package (IHE ITI Cross-Enterprise Document Media Interchange)\r\n"
                   "\r\n"
                   "Content: one psychiatric case-review recommendation of %s, an HL7 CDA R2\r\n"
                   "document with a PDF body, in %s (metadata in %s).\r\n"
                   "Patient reference: %s\r\n"
                   "\r\n"
                   "Sent by: %s (psychiatrist), through Sesame, %s\r\n"
                   "Addressed to: %s (general practitioner)\r\n"
                   "Point of contact: %s, via the Sesame care thread %s\r\n",
                   day, DOC_PATH, META_PATH, exp_str(in->patient_ref), author, site, gp, author,
                   exp_str(in->thread_id));
    free(author);
    free(gp);
    free(site);
    if (b.err) {
        exp_buf_free(&b);
        return SES_ENOMEM;
    }
    /* exp_ascii makes the names ASCII; the thread id and reference are ASCII by contract, and
     * anything else is replaced too. */
    char *ascii = exp_ascii(b.p);
    exp_buf_free(&b);
    if (ascii == NULL)
        return SES_ENOMEM;
    *out = (uint8_t *)ascii;
    *len = strlen(ascii);
    return 0;
}

/* The time_t whose local broken-down time is the UTC time of ms: libzip writes DOS times in
 * local time, so this keeps the archive independent of the time zone. */
static time_t dos_mtime(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return t;
    tm.tm_isdst = -1;
    time_t local = mktime(&tm);
    return local == (time_t)-1 ? t : local;
}

struct entry {
    const char *name;
    uint8_t *data;
    size_t len;
};

static int zip_all(const struct exp_input *in, const struct entry *e, size_t n, uint8_t **out,
                   size_t *len)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    if (src == NULL) {
        zip_error_fini(&ze);
        return SES_ENOMEM;
    }
    zip_source_keep(src);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    int rc = 0;
    if (za == NULL) {
        rc = SES_EIO;
        goto done;
    }
    time_t mtime = dos_mtime(in->sent_ms);
    for (size_t i = 0; i < n && rc == 0; i++) {
        zip_source_t *s = zip_source_buffer(za, e[i].data, e[i].len, 0);
        if (s == NULL) {
            rc = SES_ENOMEM;
            break;
        }
        zip_int64_t idx = zip_file_add(za, e[i].name, s, ZIP_FL_ENC_UTF_8);
        if (idx < 0) {
            zip_source_free(s);
            rc = SES_EIO;
            break;
        }
        if (zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 9) != 0 ||
            zip_file_set_mtime(za, (zip_uint64_t)idx, mtime, 0) != 0)
            rc = SES_EIO;
    }
    if (rc != 0) {
        zip_discard(za);
        goto done;
    }
    if (zip_close(za) != 0) {
        zip_discard(za);
        rc = SES_EIO;
        goto done;
    }
    if (zip_source_open(src) != 0) {
        rc = SES_EIO;
        goto done;
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_source_stat(src, &st) != 0 || (st.valid & ZIP_STAT_SIZE) == 0) {
        zip_source_close(src);
        rc = SES_EIO;
        goto done;
    }
    uint8_t *buf = malloc(st.size > 0 ? (size_t)st.size : 1);
    if (buf == NULL) {
        zip_source_close(src);
        rc = SES_ENOMEM;
        goto done;
    }
    zip_int64_t got = zip_source_read(src, buf, st.size);
    zip_source_close(src);
    if (got < 0 || (zip_uint64_t)got != st.size) {
        free(buf);
        rc = SES_EIO;
        goto done;
    }
    *out = buf;
    *len = (size_t)st.size;
done:
    zip_source_free(src);
    zip_error_fini(&ze);
    return rc;
}

int exp_xdm(const struct exp_input *in, uint8_t **out, size_t *len)
{
    if (out == NULL || len == NULL)
        return SES_EINVALID_ARG;
    *out = NULL;
    *len = 0;
    int rc = exp_input_check(in, true);
    if (rc != 0)
        return rc;
    struct entry e[4] = {
        {"README.TXT", NULL, 0}, {"INDEX.HTM", NULL, 0}, {META_PATH, NULL, 0}, {DOC_PATH, NULL, 0}};
    rc = exp_cda(in, &e[3].data, &e[3].len);
    if (rc == 0)
        rc = metadata(in, e[3].data, e[3].len, &e[2].data, &e[2].len);
    if (rc == 0)
        rc = index_htm(in, &e[1].data, &e[1].len);
    if (rc == 0)
        rc = readme(in, &e[0].data, &e[0].len);
    if (rc == 0)
        rc = zip_all(in, e, 4, out, len);
    for (size_t i = 0; i < 4; i++)
        free(e[i].data);
    return rc;
}
