/*
 * fuzz_util.h - what the fuzz targets share: the abort on a broken invariant, with the input
 * printed, and the check that a refusal left its output zeroed. Header-only (each target is one
 * translation unit).
 */
#ifndef SESAME_FUZZ_UTIL_H
#define SESAME_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef FUZZ_NAME
#error "define FUZZ_NAME (the target's name) before including fuzz_util.h"
#endif

/* An invariant failed on this input: print it and abort (libFuzzer saves the input). */
static void differ(const char *what, const uint8_t *data, size_t size)
{
    fprintf(stderr, FUZZ_NAME ": %s on %zu bytes: %.*s\n", what, size, (int)size,
            (const char *)data);
    abort();
}

/* Whether the n bytes at p are all zero (what a refusing parser leaves in its output). */
static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return 0;
    return 1;
}

#endif
