/*
 * export_xml.c - the xmlTextWriter wrapper of export_xml.h.
 */
#include <stdlib.h>
#include <string.h>

#include "sesame/err.h"
#include "export_xml.h"

#define X(s) ((const xmlChar *)(s))

int exp_xw_open(struct exp_xw *x)
{
    memset(x, 0, sizeof *x);
    x->buf = xmlBufferCreate();
    if (x->buf == NULL)
        return SES_ENOMEM;
    x->w = xmlNewTextWriterMemory(x->buf, 0);
    if (x->w == NULL) {
        xmlBufferFree(x->buf);
        x->buf = NULL;
        return SES_ENOMEM;
    }
    if (xmlTextWriterSetIndent(x->w, 1) < 0 || xmlTextWriterSetIndentString(x->w, X("  ")) < 0 ||
        xmlTextWriterStartDocument(x->w, "1.0", "UTF-8", NULL) < 0)
        x->fail = true;
    return 0;
}

void exp_xw_start(struct exp_xw *x, const char *name)
{
    if (!x->fail && xmlTextWriterStartElement(x->w, X(name)) < 0)
        x->fail = true;
}

void exp_xw_attr(struct exp_xw *x, const char *name, const char *value)
{
    if (!x->fail && xmlTextWriterWriteAttribute(x->w, X(name), X(value)) < 0)
        x->fail = true;
}

void exp_xw_text(struct exp_xw *x, const char *text)
{
    if (!x->fail && xmlTextWriterWriteString(x->w, X(text)) < 0)
        x->fail = true;
}

void exp_xw_end(struct exp_xw *x)
{
    if (!x->fail && xmlTextWriterEndElement(x->w) < 0)
        x->fail = true;
}

void exp_xw_elem(struct exp_xw *x, const char *name, const char *text)
{
    exp_xw_start(x, name);
    exp_xw_text(x, text);
    exp_xw_end(x);
}

int exp_xw_close(struct exp_xw *x, uint8_t **out, size_t *len)
{
    if (!x->fail && xmlTextWriterEndDocument(x->w) < 0)
        x->fail = true;
    xmlFreeTextWriter(x->w); /* flushes into buf */
    x->w = NULL;
    int rc = x->fail ? SES_EIO : 0;
    if (rc == 0) {
        size_t n = (size_t)xmlBufferLength(x->buf);
        uint8_t *p = malloc(n + 1);
        if (p == NULL) {
            rc = SES_ENOMEM;
        } else {
            memcpy(p, xmlBufferContent(x->buf), n);
            p[n] = '\0';
            *out = p;
            *len = n;
        }
    }
    xmlBufferFree(x->buf);
    x->buf = NULL;
    return rc;
}
