/*
 * ids.h - lists of 16-byte ids (users, devices): membership of one id.
 */
#ifndef SESAME_IDS_H
#define SESAME_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "sesame/limits.h"

/* Whether id is among the first n of ids. */
static inline bool ses_id_among(const uint8_t (*ids)[SES_ID_BYTES], size_t n,
                                const uint8_t id[SES_ID_BYTES])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(ids[i], id, SES_ID_BYTES) == 0)
            return true;
    return false;
}

#endif
