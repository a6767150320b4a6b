/*
 * gen_export_sample.c - writes an export of the fixed sample recommendation (export_sample.h):
 *   gen_export_sample BUNDLE.json   the FHIR R4 Bundle (ctest unit.export_fhir_valid validates it)
 *   gen_export_sample --cda FILE    the CDA (regenerates tests/unit/expected/rec_sample_cda.xml)
 *   gen_export_sample --pdf FILE | --xdm FILE | --eml FILE   the other formats, to inspect
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesame/err.h"
#include "export.h"
#include "export_sample.h"

static int write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct export_sample s;
    export_sample(&s);
    const char *what = "--fhir", *path = NULL;
    if (argc == 2 && argv[1][0] != '-') {
        path = argv[1];
    } else if (argc == 3) {
        what = argv[1];
        path = argv[2];
    } else {
        fprintf(stderr, "usage: %s BUNDLE.json | --cda|--pdf|--xdm|--eml|--fhir FILE\n", argv[0]);
        return 2;
    }
    uint8_t *out = NULL;
    size_t len = 0;
    int rc;
    if (strcmp(what, "--fhir") == 0) {
        char *json = NULL;
        rc = exp_fhir(&s.in, &json);
        out = (uint8_t *)json;
        len = json != NULL ? strlen(json) : 0;
    } else if (strcmp(what, "--cda") == 0) {
        rc = exp_cda(&s.in, &out, &len);
    } else if (strcmp(what, "--pdf") == 0) {
        rc = exp_pdf(&s.in, &out, &len);
    } else if (strcmp(what, "--xdm") == 0) {
        rc = exp_xdm(&s.in, &out, &len);
    } else if (strcmp(what, "--eml") == 0) {
        rc = exp_eml(&s.in, "Dr Camille Leger <camille.leger@psy.mssante.fr>",
                     "Dr Jean Moreau <jean.moreau@medecin.mssante.fr>", s.in.sent_ms, &out, &len);
    } else {
        fprintf(stderr, "unknown format %s\n", what);
        return 2;
    }
    if (rc != 0) {
        fprintf(stderr, "export failed: %d\n", rc);
        return 1;
    }
    int ret = write_file(path, out, len);
    free(out);
    return ret;
}
