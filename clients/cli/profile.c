/*
 * profile.c - loading and saving the CLI profile folder (profile.json, keys.json, ca.crt).
 *
 * keys.json is written and read without jansson so that the secret keys only ever live in buffers
 * this file wipes; profile.json holds no secrets and goes through jansson.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "profile.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#define PROFILE_FILE "profile.json"
#define KEYS_FILE "keys.json"
#define CA_FILE "ca.crt"
#define MAX_SMALL_FILE (64 * 1024) /* profile.json, keys.json */
#define MAX_CA_FILE (1024 * 1024)  /* a CA bundle */

/* Writes dir/name (cap bytes) into out. Returns 0 or SES_EINVALID_ARG if it does not fit. */
static int join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= cap) ? SES_EINVALID_ARG : 0;
}

int ses_profile_home(char *out, size_t cap, const char *home_opt)
{
    const char *base;
    int n;

    if (home_opt != NULL && home_opt[0] != '\0') {
        n = snprintf(out, cap, "%s", home_opt);
    } else if ((base = getenv("SESAME_HOME")) != NULL && base[0] != '\0') {
        n = snprintf(out, cap, "%s", base);
    } else {
        base = getenv("HOME");
        if (base == NULL || base[0] == '\0') {
            struct passwd *pw = getpwuid(getuid());
            base = pw != NULL ? pw->pw_dir : NULL;
        }
        if (base == NULL || base[0] == '\0')
            return SES_EIO;
        n = snprintf(out, cap, "%s/.config/sesame", base);
    }
    return (n < 0 || (size_t)n >= cap) ? SES_EINVALID_ARG : 0;
}

/* Creates dir and its missing parents; the last component gets mode 0700 (parents 0700 too when
 * created). Returns 0 or SES_EIO. */
static int make_dirs(const char *dir)
{
    char path[4096];
    size_t len = strlen(dir);

    if (len == 0 || len >= sizeof path)
        return SES_EIO;
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return SES_EIO;
        path[i] = saved;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return SES_EIO;
    return 0;
}

/* Reads a whole file of at most max bytes into a malloc'd NUL-terminated buffer (*len without the
 * NUL). Returns 0, SES_ENOT_FOUND, SES_EIO (also when larger than max) or SES_ENOMEM. */
static int read_file(const char *path, size_t max, char **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SES_ENOT_FOUND : SES_EIO;
    char *buf = malloc(max + 1);
    if (buf == NULL) {
        close(fd);
        return SES_ENOMEM;
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (r > 0 && n + (size_t)r > max)) {
            sodium_memzero(buf, max + 1);
            free(buf);
            close(fd);
            return SES_EIO;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Wipes and frees a buffer from read_file(). */
static void free_file(char *buf, size_t len)
{
    if (buf != NULL) {
        sodium_memzero(buf, len);
        free(buf);
    }
}

int ses_write_atomic(const char *dir, const char *name, const void *data, size_t len, mode_t mode)
{
    char tmp[4200], path[4200];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, name) >= (int)sizeof tmp ||
        join(path, sizeof path, dir, name) != 0)
        return SES_EIO;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return SES_EIO;
    int ok = fchmod(fd, mode) == 0;
    const char *p = data;
    size_t left = len;
    while (ok && left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ok = 0;
            break;
        }
        p += w;
        left -= (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    ok = (close(fd) == 0) && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        unlink(tmp);
        return SES_EIO;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* Finds "key": "VALUE" in a small JSON text and decodes VALUE (base64url) into exactly n bytes,
 * with libsodium's constant-time codec (secret keys go through it). Tolerates whitespace; returns
 * 0 or SES_EIO. */
static int find_b64(const char *text, const char *key, uint8_t *out, size_t n)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(text, pat);
    if (p == NULL)
        return SES_EIO;
    p += strlen(pat);
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p++ != ':')
        return SES_EIO;
    while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
        p++;
    if (*p++ != '"')
        return SES_EIO;
    const char *end = strchr(p, '"');
    if (end == NULL)
        return SES_EIO;
    size_t len = (size_t)(end - p), got = 0;
    const char *stop = NULL;
    if (len != ses_b64_len(n) ||
        sodium_base642bin(out, n, p, len, NULL, &got, &stop,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        got != n || stop != end)
        return SES_EIO;
    return 0;
}

/* Copies a JSON string member into out (cap bytes). NULL/absent gives "" when nullable. */
static int copy_str(const json_t *obj, const char *key, char *out, size_t cap, int nullable)
{
    const json_t *v = json_object_get(obj, key);
    if ((v == NULL || json_is_null(v)) && nullable) {
        out[0] = '\0';
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) >= cap)
        return SES_EIO;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

static int load_profile_json(const char *path, struct ses_profile *p)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(path, MAX_SMALL_FILE, &buf, &len);
    if (rc != 0)
        return rc;
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    free_file(buf, len);
    if (!json_is_object(root)) {
        json_decref(root);
        return SES_EIO;
    }
    const json_t *u = json_object_get(root, "user"), *d = json_object_get(root, "device");
    rc = SES_EIO;
    if (copy_str(root, "server", p->server, sizeof p->server, 0) == 0 &&
        copy_str(root, "role", p->role, sizeof p->role, 0) == 0 &&
        copy_str(root, "name", p->name, sizeof p->name, 0) == 0 &&
        copy_str(root, "site", p->site, sizeof p->site, 1) == 0 && json_is_string(u) &&
        json_is_string(d) && ses_id_from_text(p->user_id, json_string_value(u)) == 0 &&
        ses_id_from_text(p->device_id, json_string_value(d)) == 0)
        rc = 0;
    json_decref(root);
    return rc;
}

static int load_keys_json(const char *path, struct ses_keys *k)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(path, MAX_SMALL_FILE, &buf, &len);
    if (rc != 0)
        return rc;
    rc = SES_EIO;
    if (find_b64(buf, "sign_pk", k->sign_pk, sizeof k->sign_pk) == 0 &&
        find_b64(buf, "sign_sk", k->sign_sk, sizeof k->sign_sk) == 0 &&
        find_b64(buf, "box_pk", k->box_pk, sizeof k->box_pk) == 0 &&
        find_b64(buf, "box_sk", k->box_sk, sizeof k->box_sk) == 0 && ses_keys_check(k) == 0)
        rc = 0;
    free_file(buf, len);
    if (rc != 0)
        ses_keys_wipe(k);
    return rc;
}

int ses_profile_load(const char *home, struct ses_profile *p)
{
    char path[4200];
    int rc;

    memset(p, 0, sizeof *p);
    if (strlen(home) >= sizeof p->home || join(p->ca_file, sizeof p->ca_file, home, CA_FILE) != 0)
        return SES_EINVALID_ARG;
    strcpy(p->home, home);

    if ((rc = join(path, sizeof path, home, PROFILE_FILE)) != 0 ||
        (rc = load_profile_json(path, p)) != 0)
        goto fail;
    if ((rc = join(path, sizeof path, home, KEYS_FILE)) != 0 ||
        (rc = load_keys_json(path, &p->keys)) != 0)
        goto fail;
    p->enrolled = 1;
    return 0;
fail:
    /* keep home and ca_file so that the caller can still report or create the folder */
    memset(p->server, 0, sizeof p->server);
    memset(p->user_id, 0, sizeof p->user_id);
    memset(p->device_id, 0, sizeof p->device_id);
    p->role[0] = p->name[0] = p->site[0] = '\0';
    ses_keys_wipe(&p->keys);
    return rc;
}

int ses_profile_save_keys(const struct ses_profile *p)
{
    /* base64url of 64 bytes is 86 characters; four fields plus framing fit in 512 bytes */
    char sign_pk[48], sign_sk[96], box_pk[48], box_sk[48];
    char text[512];
    int rc = SES_EIO;

    if (make_dirs(p->home) != 0)
        return SES_EIO;
    /* the secret keys through libsodium's constant-time codec (the same text) */
    sodium_bin2base64(sign_sk, sizeof sign_sk, p->keys.sign_sk, 64,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(box_sk, sizeof box_sk, p->keys.box_sk, 32,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (ses_b64_encode(sign_pk, sizeof sign_pk, p->keys.sign_pk, 32) == 0 &&
        ses_b64_encode(box_pk, sizeof box_pk, p->keys.box_pk, 32) == 0) {
        int n = snprintf(text, sizeof text,
                         "{\n  \"v\": 1,\n  \"sign_pk\": \"%s\",\n  \"sign_sk\": \"%s\",\n"
                         "  \"box_pk\": \"%s\",\n  \"box_sk\": \"%s\"\n}\n",
                         sign_pk, sign_sk, box_pk, box_sk);
        if (n > 0 && (size_t)n < sizeof text)
            rc = ses_write_atomic(p->home, KEYS_FILE, text, (size_t)n, 0600);
    }
    sodium_memzero(sign_sk, sizeof sign_sk);
    sodium_memzero(box_sk, sizeof box_sk);
    sodium_memzero(text, sizeof text);
    return rc;
}

int ses_profile_save(const struct ses_profile *p)
{
    char uid[SES_ID_TEXT_LEN + 1], did[SES_ID_TEXT_LEN + 1];
    int rc;

    if (p->server[0] == '\0' || p->role[0] == '\0' || p->name[0] == '\0')
        return SES_EINVALID_ARG;
    if ((rc = ses_profile_save_keys(p)) != 0)
        return rc;
    ses_id_to_text(uid, p->user_id);
    ses_id_to_text(did, p->device_id);
    json_t *root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:o}", "v", 1, "server", p->server,
                             "user", uid, "device", did, "role", p->role, "name", p->name, "site",
                             p->site[0] ? json_string(p->site) : json_null());
    if (root == NULL)
        return SES_EINVALID_ARG; /* e.g. a name that is not valid UTF-8 */
    char *text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    if (text == NULL)
        return SES_ENOMEM;
    size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (with_nl == NULL) {
        free(text);
        return SES_ENOMEM;
    }
    with_nl[len] = '\n';
    with_nl[len + 1] = '\0';
    rc = ses_write_atomic(p->home, PROFILE_FILE, with_nl, len + 1, 0600);
    free(with_nl);
    return rc;
}

int ses_profile_copy_ca(const struct ses_profile *p, const char *src)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = read_file(src, MAX_CA_FILE, &buf, &len);
    if (rc != 0)
        return rc == SES_ENOT_FOUND ? rc : SES_EIO;
    rc = make_dirs(p->home);
    if (rc == 0)
        rc = ses_write_atomic(p->home, CA_FILE, buf, len, 0600);
    free(buf);
    return rc;
}

int ses_profile_remove(const struct ses_profile *p)
{
    static const char *const names[] = {PROFILE_FILE, KEYS_FILE, CA_FILE};
    char path[4200];
    int rc = 0;

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (join(path, sizeof path, p->home, names[i]) != 0)
            return SES_EIO;
        if (unlink(path) != 0 && errno != ENOENT)
            rc = SES_EIO;
    }
    return rc;
}

void ses_profile_wipe(struct ses_profile *p)
{
    if (p != NULL)
        sodium_memzero(p, sizeof *p);
}
