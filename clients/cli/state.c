/*
 * state.c - the CLI's local client state (see state.h): HOME/state.json, merged and written
 * atomically under an flock, and the local security log.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sesame/encode.h"
#include "sesame/err.h"
#include "conn.h"
#include "profile.h"
#include "state.h"

#define STATE_MAX_FILE (64 * 1024 * 1024)

static int path_in(char *out, size_t cap, const char *home, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", home, name);
    return (n < 0 || (size_t)n >= cap) ? SES_EINVALID_ARG : 0;
}

static json_t *empty_state(const char *device)
{
    return json_pack("{s:i, s:s, s:{}, s:{}}", "v", 1, "device", device, "threads", "users");
}

/* Reads the state file into *out: an empty state when the file is absent or belongs to another
 * device. Returns 0, SES_EIO or SES_ENOMEM. */
static int read_state(const char *home, const char *device, json_t **out)
{
    char path[4200];
    struct stat sb;
    if (path_in(path, sizeof path, home, CLI_STATE_FILE) != 0)
        return SES_EIO;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            return SES_EIO;
        *out = empty_state(device);
        return *out ? 0 : SES_ENOMEM;
    }
    if (fstat(fd, &sb) != 0 || sb.st_size > STATE_MAX_FILE) {
        close(fd);
        return SES_EIO;
    }
    json_error_t jerr;
    FILE *f = fdopen(fd, "r");
    if (f == NULL) {
        close(fd);
        return SES_EIO;
    }
    json_t *root = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
    fclose(f);
    if (!json_is_object(root) || !json_is_object(json_object_get(root, "threads")) ||
        !json_is_object(json_object_get(root, "users"))) {
        json_decref(root);
        return SES_EIO;
    }
    const json_t *dev = json_object_get(root, "device");
    if (!json_is_string(dev) || strcmp(json_string_value(dev), device) != 0) {
        json_decref(root); /* another device's state: start afresh */
        root = empty_state(device);
        if (root == NULL)
            return SES_ENOMEM;
    }
    *out = root;
    return 0;
}

int cli_state_load(struct cli_state *st, const char *home, const uint8_t device[SES_ID_BYTES])
{
    memset(st, 0, sizeof *st);
    if (strlen(home) >= sizeof st->home)
        return SES_EINVALID_ARG;
    strcpy(st->home, home);
    ses_id_to_text(st->device, device);
    return read_state(home, st->device, &st->root);
}

void cli_state_free(struct cli_state *st)
{
    if (st != NULL) {
        json_decref(st->root);
        st->root = NULL;
    }
}

/* Merges src into dst: objects key by key, integers by maximum, anything else replaced. */
static int merge(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v)
    {
        json_t *d = json_object_get(dst, k);
        if (json_is_object(d) && json_is_object(v)) {
            if (merge(d, v) != 0)
                return SES_ENOMEM;
        } else if (json_is_integer(d) && json_is_integer(v)) {
            if (json_integer_value(v) > json_integer_value(d))
                json_integer_set(d, json_integer_value(v));
        } else if (json_object_set_new(dst, k, json_deep_copy(v)) != 0) {
            return SES_ENOMEM;
        }
    }
    return 0;
}

/* Writes text to HOME/state.json atomically. Returns 0 or SES_EIO. */
static int write_state(const char *home, const char *text)
{
    return ses_write_atomic(home, CLI_STATE_FILE, text, strlen(text), 0600);
}

static int lock_state(const char *home)
{
    char path[4200];
    if (path_in(path, sizeof path, home, CLI_STATE_LOCK) != 0)
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static void unlock_state(int fd)
{
    (void)flock(fd, LOCK_UN);
    close(fd);
}

/* Under the lock already taken: disk + st -> file and st. */
static int save_locked(struct cli_state *st)
{
    json_t *disk = NULL;
    int rc = read_state(st->home, st->device, &disk);
    if (rc != 0)
        return rc;
    if ((rc = merge(disk, st->root)) != 0) {
        json_decref(disk);
        return rc;
    }
    json_object_set_new(disk, "v", json_integer(1));
    json_object_set_new(disk, "device", json_string(st->device));
    char *text = json_dumps(disk, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (text == NULL) {
        json_decref(disk);
        return SES_ENOMEM;
    }
    rc = write_state(st->home, text);
    free(text);
    if (rc != 0) {
        json_decref(disk);
        return rc;
    }
    json_decref(st->root);
    st->root = disk;
    return 0;
}

int cli_state_save(struct cli_state *st)
{
    int fd = lock_state(st->home);
    if (fd < 0)
        return SES_EIO;
    int rc = save_locked(st);
    unlock_state(fd);
    return rc;
}

json_t *cli_state_obj(json_t *obj, const char *key)
{
    json_t *o = json_object_get(obj, key);
    if (json_is_object(o))
        return o;
    o = json_object();
    if (o == NULL || json_object_set_new(obj, key, o) != 0)
        return NULL;
    return o;
}

json_t *cli_state_thread(struct cli_state *st, const char *thread)
{
    json_t *threads = cli_state_obj(st->root, "threads");
    return threads ? cli_state_obj(threads, thread) : NULL;
}

uint64_t cli_state_get(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_integer(v) && json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
}

void cli_state_set_max(json_t *obj, const char *key, uint64_t v)
{
    if (obj == NULL || v > (uint64_t)INT64_MAX)
        return;
    if (cli_state_get(obj, key) < v)
        json_object_set_new(obj, key, json_integer((json_int_t)v));
}

int cli_state_next_send_seq(struct cli_state *st, const char *thread, uint64_t floor, uint64_t *out)
{
    int fd = lock_state(st->home);
    if (fd < 0)
        return SES_EIO;
    json_t *disk = NULL;
    int rc = read_state(st->home, st->device, &disk);
    if (rc == 0) {
        json_t *threads = json_object_get(disk, "threads");
        uint64_t last = cli_state_get(json_object_get(threads, thread), "send_seq");
        uint64_t mine = cli_state_get(cli_state_thread(st, thread), "send_seq");
        if (mine > last)
            last = mine;
        if (floor > last)
            last = floor;
        json_decref(disk);
        json_t *t = cli_state_thread(st, thread);
        if (t == NULL || last >= (uint64_t)INT64_MAX) {
            rc = SES_ENOMEM;
        } else {
            json_object_set_new(t, "send_seq", json_integer((json_int_t)(last + 1)));
            rc = save_locked(st); /* fsync'd before the envelope leaves */
            if (rc == 0)
                *out = last + 1;
        }
    }
    unlock_state(fd);
    return rc;
}

void cli_security_event(const char *home, const char *thread, int64_t seq, const char *device,
                        const char *code, const char *detail)
{
    char path[4200];
    if (path_in(path, sizeof path, home, CLI_SECURITY_LOG) != 0)
        return;
    json_t *e = json_pack("{s:I, s:s, s:I, s:s, s:s, s:s}", "ts", (json_int_t)ses_client_now_ms(),
                          "thread", thread, "seq", (json_int_t)seq, "device", device ? device : "",
                          "code", code, "detail", detail ? detail : "");
    char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;
    json_decref(e);
    if (text == NULL)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd >= 0) {
        size_t len = strlen(text);
        text[len] = '\0';
        if (write(fd, text, len) == (ssize_t)len)
            (void)!write(fd, "\n", 1);
        close(fd);
    }
    free(text);
}
