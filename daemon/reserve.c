/*
 * reserve.c - the disk-space reserve (reserve.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "sesame/err.h"

#include "log.h"
#include "reserve.h"

/* The directory of the database at db_path ("." for a bare name, "/" at the root). */
static int dir_of(const char *db_path, char *out, size_t cap)
{
    const char *slash = strrchr(db_path, '/');
    int n = slash == NULL      ? snprintf(out, cap, ".")
            : slash == db_path ? snprintf(out, cap, "/")
                               : snprintf(out, cap, "%.*s", (int)(slash - db_path), db_path);
    return n < 0 || (size_t)n >= cap ? SES_EINVALID_ARG : 0;
}

int ses_reserve_path(const char *db_path, char *out, size_t cap)
{
    char dir[4096];
    if (dir_of(db_path, dir, sizeof dir) != 0)
        return SES_EINVALID_ARG;
    int n = snprintf(out, cap, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", SES_RESERVE_FILE);
    return n < 0 || (size_t)n >= cap ? SES_EINVALID_ARG : 0;
}

/* Whether the filesystem of the database has room for the reserve and SES_RESERVE_ROOM_BYTES. */
static bool has_room(const char *db_path)
{
    char dir[4096];
    struct statvfs vfs;
    if (dir_of(db_path, dir, sizeof dir) != 0 || statvfs(dir, &vfs) != 0)
        return false;
    return (uint64_t)vfs.f_bavail * vfs.f_frsize >=
           (uint64_t)SES_RESERVE_BYTES + SES_RESERVE_ROOM_BYTES;
}

int ses_reserve_make(const char *db_path)
{
    char path[4096];
    struct stat sb;
    if (ses_reserve_path(db_path, path, sizeof path) != 0)
        return SES_EINVALID_ARG;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        if (sb.st_size == (off_t)SES_RESERVE_BYTES &&
            (uint64_t)sb.st_blocks * 512 >= SES_RESERVE_BYTES)
            return 0;
        unlink(path); /* a partial one (a crash while it was made) */
    }
    if (!has_room(db_path))
        return SES_ESTORAGE_FULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        SES_LOG(SES_LOG_ERR, "reserve", "%s: cannot be created: %s", path, strerror(errno));
        return SES_EIO;
    }
    int err = posix_fallocate(fd, 0, (off_t)SES_RESERVE_BYTES);
    if (err == 0 && fsync(fd) != 0)
        err = errno;
    close(fd);
    if (err == 0)
        return 0;
    unlink(path); /* a partial reserve would only take room */
    if (err == ENOSPC || err == EDQUOT)
        return SES_ESTORAGE_FULL;
    SES_LOG(SES_LOG_ERR, "reserve", "%s: cannot be allocated: %s", path, strerror(err));
    return SES_EIO;
}

bool ses_reserve_release(const char *db_path)
{
    char path[4096];
    return ses_reserve_path(db_path, path, sizeof path) == 0 && unlink(path) == 0;
}
