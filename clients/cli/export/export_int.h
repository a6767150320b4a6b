/*
 * export_int.h - helpers shared by the export builders (export_*.c), not part of export.h: the
 * names of items, questions, states and INS kinds, deterministic UUIDs, time formats, input
 * checks and text transliteration. Wire names come from recommend.h.
 */
#ifndef SESAME_EXPORT_INT_H
#define SESAME_EXPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "export.h"

/* The type in words, "Switch medication", or "Item". Static. */
const char *exp_item_type_words(enum ses_rec_item_type t);
/* The question code in words ("Not improving"), or "Other". Static. */
const char *exp_question_words(enum ses_rec_question q);
/* The wire name of a state ("acknowledged"), or "unknown". Static. */
const char *exp_state_name(enum ses_rec_state s);
/* Whether card is given with an INS and its OID (what CDA, XDM and EML need). */
bool exp_has_ins(const struct ses_patient_card *card);

/* 0 when in can be exported (doc, rec_id, version >= 1, org_oid, and every string valid UTF-8),
 * SES_EBAD_FIELD otherwise, SES_EINVALID_ARG when in is NULL. With need_ins, also a card with
 * an INS. */
int exp_input_check(const struct exp_input *in, bool need_ins);
/* s, or "" when s is NULL. */
const char *exp_str(const char *s);
/* A party's name, or its id when the name is empty, or "". */
const char *exp_party_label(const struct exp_party *p);

/* A lowercase 8-4-4-4-12 UUID (RFC 4122 version 4 and variant bits) from the first 16 bytes of
 * the BLAKE2b-256 (crypto_generichash) of text: out has 37 bytes. */
void exp_uuid(const char *text, char out[37]);
/* The same UUID as an OID under 2.25 (its 128 bits in decimal): out has at least 48 bytes. */
void exp_uuid_oid(const char *uuid, char *out, size_t cap);
/* The time of ms (milliseconds since 1970, UTC) as "YYYYMMDDHHMMSS" (cap >= 15). */
void exp_time_hl7(int64_t ms, char *out, size_t cap);
/* As "YYYY-MM-DDTHH:MM:SSZ" (cap >= 21). */
void exp_time_iso(int64_t ms, char *out, size_t cap);
/* As "YYYY-MM-DD HH:MM UTC" (cap >= 21). */
void exp_time_text(int64_t ms, char *out, size_t cap);
/* A day number as "YYYYMMDD" (cap >= 9). */
void exp_day_hl7(int32_t day, char *out, size_t cap);

/* The next code point of UTF-8 text at *p (advanced), or 0xFFFD on a malformed sequence. */
uint32_t exp_utf8_next(const char **p);
/* s transliterated to printable ASCII (accented Latin letters lose their accents; CR, LF and TAB
 * stay; anything else becomes '?'), malloc'd; NULL on ENOMEM. */
char *exp_ascii(const char *s);

/* The CDA's id and setId UUIDs (export_cda.c): from "sesame-cda|" rec_id "|" version, and from
 * "sesame-cda|" rec_id. */
void exp_cda_ids(const struct exp_input *in, char id[37], char set_id[37]);
/* The displayName of exp_doc_code(d). Static. */
const char *exp_doc_display(const struct ses_rec_doc *d);

/* A growable byte buffer. */
struct exp_buf {
    char *p;
    size_t len, cap;
    bool err; /* an allocation failed: the content is incomplete */
};
/* Appends printf-formatted text. */
void exp_buf_printf(struct exp_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void exp_buf_free(struct exp_buf *b);

#endif
