/*
 * reserve.h - the disk-space reserve: a file of fixed size kept beside the database while there
 * is room. When the disk fills, the writer deletes it, and the space it held is what the audit
 * records of logins, refusals and the server's start and stop are still written to while every
 * other write is refused with STORAGE_FULL; once the disk has room again the file is made anew.
 */
#ifndef SESAME_RESERVE_H
#define SESAME_RESERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SES_RESERVE_FILE "space.reserve" /* in the data directory, beside the database */
#define SES_RESERVE_BYTES (8u * 1024 * 1024)
/* The reserve is made anew only with at least this much room besides it (a disk that has just
 * the reserve's size free would be full again at once). */
#define SES_RESERVE_ROOM_BYTES (2u * SES_RESERVE_BYTES)

/* Writes the reserve's path for the database at db_path (its directory + SES_RESERVE_FILE).
 * Returns 0, or SES_EINVALID_ARG if it does not fit in cap. */
int ses_reserve_path(const char *db_path, char *out, size_t cap);

/* Makes sure the reserve exists with SES_RESERVE_BYTES allocated on disk: keeps one that does,
 * else makes it (posix_fallocate, then fsync) if the filesystem has room for it and
 * SES_RESERVE_ROOM_BYTES besides (statvfs). Returns 0; SES_ESTORAGE_FULL if there is no such room
 * (nothing is left behind); SES_EIO on another failure (logged). */
int ses_reserve_make(const char *db_path);

/* Deletes the reserve. Returns true if there was one. */
bool ses_reserve_release(const char *db_path);

#endif
