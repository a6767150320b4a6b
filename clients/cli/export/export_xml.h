/*
 * export_xml.h - a thin error-collecting wrapper of libxml2's xmlTextWriter for the XML the
 * export writes (CDA, XDM metadata, the XDM index page): the first failure sticks and the
 * result is checked once at the end.
 */
#ifndef SESAME_EXPORT_XML_H
#define SESAME_EXPORT_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/xmlwriter.h>

struct exp_xw {
    xmlBufferPtr buf;
    xmlTextWriterPtr w;
    bool fail;
};

/* Opens an indented in-memory writer and writes the XML declaration (UTF-8). 0 or SES_ENOMEM. */
int exp_xw_open(struct exp_xw *x);
/* Starts element name (with "prefix:name" written as given). */
void exp_xw_start(struct exp_xw *x, const char *name);
/* Writes attribute name="value". */
void exp_xw_attr(struct exp_xw *x, const char *name, const char *value);
/* Writes escaped text content. */
void exp_xw_text(struct exp_xw *x, const char *text);
/* Ends the current element. */
void exp_xw_end(struct exp_xw *x);
/* An element with text content. */
void exp_xw_elem(struct exp_xw *x, const char *name, const char *text);
/* Ends the document and hands over the bytes (malloc'd). 0, SES_ENOMEM or SES_EIO; frees the
 * writer either way. */
int exp_xw_close(struct exp_xw *x, uint8_t **out, size_t *len);

#endif
