/*
 * export.h - the client-side export of a psychiatrist's recommendation into the formats a French
 * GP's software files: the printable letter (PDF), a CDA R2 document with the letter in a
 * nonXMLBody, an IHE XDM package (IHE_XDM.ZIP), a FHIR R4 Bundle and an RFC 5322 message for a
 * secure health mailbox (MSSanté). Every builder is a pure function of its input: no clock, no
 * randomness, the same bytes for the same input, so tests compare with expected files.
 */
#ifndef SESAME_EXPORT_H
#define SESAME_EXPORT_H

#include <stddef.h>
#include <stdint.h>

#include "sesame/recommend.h"

/* A user: id (base32 text) and display name; name may be "". */
struct exp_party {
    const char *id;
    const char *name;
};

/* Everything an export needs. Strings are NUL-terminated UTF-8; optional ones may be NULL. */
struct exp_input {
    const struct ses_rec_doc *doc;       /* required */
    const struct ses_patient_card *card; /* may be NULL: then XDM/CDA/EML refuse (SES_EBAD_FIELD);
                                            PDF and FHIR work without it */
    const char *rec_id;                  /* the recommendation's id (base32, 26 chars) */
    int version;                         /* 1.. */
    const char *thread_id, *patient_ref; /* thread id and the pseudonymous patient reference,
                                            e.g. "P-0042" */
    enum ses_rec_state state;
    const char *decision; /* "accepted"|"modified"|"declined" or NULL */
    const char *reason;   /* the GP's reason text (modified/declined) or NULL */
    int64_t sent_ms, acked_ms, decided_ms, implemented_ms, verified_ms; /* 0 = not yet */
    struct exp_party author;                                            /* the psychiatrist */
    struct exp_party gp;                                                /* the addressed GP */
    struct exp_party nurse; /* the presenting nurse (name may be "") */
    const char *site;       /* the GP practice / site name, may be "" */
    const char *org_oid;    /* the custodian organisation OID root, e.g. "1.2.250.1.999.1" */
};

/*
 * Every builder returns 0 and a malloc'd output the caller frees, or a negative SES_E* code
 * (sesame/err.h) and no output: SES_EINVALID_ARG (a NULL argument), SES_EBAD_FIELD (a missing
 * or malformed input field: no doc, no rec_id, a version below 1, a string that is not UTF-8, or
 * for CDA, XDM and EML no card or a card without an INS), SES_ENOMEM, SES_EIO (a library
 * failure). The output is byte-for-byte a function of the input.
 */

/* The printable letter: an A4 PDF in Helvetica (WinAnsiEncoding: characters outside CP1252
 * print as '?'), its CreationDate the sent time. */
int exp_pdf(const struct exp_input *in, uint8_t **out, size_t *len);
/* A CDA R2 document (UTF-8 XML, CI-SIS header) whose nonXMLBody carries exp_pdf's letter in
 * base64. Its id is a UUID derived from rec_id and version, its setId one from rec_id. */
int exp_cda(const struct exp_input *in, uint8_t **out, size_t *len);
/* The IHE XDM package (IHE_XDM.ZIP): README.TXT, INDEX.HTM, IHE_XDM/SUBSET01/METADATA.XML (ebRIM
 * 3.0 submission set and document entry) and IHE_XDM/SUBSET01/DOC0001.XML (exp_cda), deflated,
 * every entry dated at the sent time (DOS time fields in UTC). */
int exp_xdm(const struct exp_input *in, uint8_t **out, size_t *len);
/* A FHIR R4 Bundle (type collection) as indented JSON text, NUL-terminated: the Patient, the
 * two Practitioners, the Task that tracks the loop, one MedicationRequest or ServiceRequest per
 * item and a CommunicationRequest for the contingency plan, all of intent proposal. */
int exp_fhir(const struct exp_input *in, char **out);
/* An RFC 5322 message (CRLF lines) from from to to, dated date_ms: a text/plain covering note,
 * the letter (recommandation.pdf) and the XDM package (IHE_XDM.ZIP), with the MSSanté headers
 * X-MSS-CODECDA and X-MSS-INS and a Disposition-Notification-To. from and to are addresses
 * ("name@host" or "Name <name@host>"). */
int exp_eml(const struct exp_input *in, const char *from, const char *to, int64_t date_ms,
            uint8_t **out, size_t *len);
/* The LOINC document code the CDA uses: "34794-8" when d->review_day >= 0 (case-review report),
 * else "11488-4". Static. */
const char *exp_doc_code(const struct ses_rec_doc *d);

#endif
