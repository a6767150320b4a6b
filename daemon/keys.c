/*
 * keys.c - the server's secret key files (keys.h).
 *   server.key = "SESKEY1\n" | identity sign_sk[64] | pepper[32]   (104 bytes)
 *   log.key    = "SESLOG1\n" | log sign_sk[64]                       (72 bytes)
 * Files are created 0600 with O_EXCL and refused if group or others can read them.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sesame/err.h"
#include "sesame/transcript.h"

#include "keys.h"
#include "log.h"

#define SERVER_MAGIC "SESKEY1\n"
#define SERVER_LEN (8 + 64 + 32)
#define LOG_MAGIC "SESLOG1\n"
#define LOG_LEN (8 + 64)

static void *alloc_secret(size_t n)
{
    void *p = sodium_malloc(n);
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

/* Writes len bytes to a new file (0600). SES_EEXISTS or SES_EIO. */
static int write_secret(const char *path, const uint8_t *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        SES_LOG(SES_LOG_ERR, "keys", "cannot create %s: %s", path, strerror(errno));
        return errno == EEXIST ? SES_EEXISTS : SES_EIO;
    }
    if (write(fd, buf, len) != (ssize_t)len || fsync(fd) != 0) {
        SES_LOG(SES_LOG_ERR, "keys", "cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return SES_EIO;
    }
    close(fd);
    return 0;
}

/* Reads exactly len bytes starting with magic from an owner-only file. SES_EIO (logged). */
static int read_secret(const char *path, const char *magic, uint8_t *buf, size_t len)
{
    uint8_t tmp[128];
    struct stat sb;
    int rc = SES_EIO;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        SES_LOG(SES_LOG_ERR, "keys", "cannot open %s: %s", path, strerror(errno));
        return SES_EIO;
    }
    if (fstat(fd, &sb) != 0 || (sb.st_mode & 077) != 0) {
        SES_LOG(SES_LOG_ERR, "keys", "%s must be readable by its owner only (chmod 600)", path);
        goto out;
    }
    ssize_t n = read(fd, tmp, sizeof tmp);
    if (n != (ssize_t)len || memcmp(tmp, magic, 8) != 0) {
        SES_LOG(SES_LOG_ERR, "keys", "%s is not a Sesame key file of this kind", path);
        goto out;
    }
    memcpy(buf, tmp, len);
    rc = 0;
out:
    sodium_memzero(tmp, sizeof tmp);
    close(fd);
    return rc;
}

void ses_server_keys_free(struct ses_server_keys *k)
{
    if (k != NULL)
        sodium_free(k); /* sodium_free wipes */
}

int ses_server_keys_create(const char *path, struct ses_server_keys **out)
{
    uint8_t buf[SERVER_LEN];
    struct ses_server_keys *k = alloc_secret(sizeof *k);
    if (k == NULL)
        return SES_ENOMEM;
    crypto_sign_keypair(k->sign_pk, k->sign_sk);
    randombytes_buf(k->pepper, sizeof k->pepper);
    ses_kid16(k->server_id, k->sign_pk, sizeof k->sign_pk);
    memcpy(buf, SERVER_MAGIC, 8);
    memcpy(buf + 8, k->sign_sk, 64);
    memcpy(buf + 72, k->pepper, 32);
    int rc = write_secret(path, buf, sizeof buf);
    sodium_memzero(buf, sizeof buf);
    if (rc != 0) {
        ses_server_keys_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

int ses_server_keys_load(const char *path, struct ses_server_keys **out)
{
    uint8_t buf[SERVER_LEN];
    struct ses_server_keys *k = alloc_secret(sizeof *k);
    if (k == NULL)
        return SES_ENOMEM;
    int rc = read_secret(path, SERVER_MAGIC, buf, sizeof buf);
    if (rc == 0) {
        memcpy(k->sign_sk, buf + 8, 64);
        memcpy(k->pepper, buf + 72, 32);
        crypto_sign_ed25519_sk_to_pk(k->sign_pk, k->sign_sk);
        ses_kid16(k->server_id, k->sign_pk, sizeof k->sign_pk);
        *out = k;
    } else {
        ses_server_keys_free(k);
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}

void ses_log_key_free(struct ses_log_key *k)
{
    if (k != NULL)
        sodium_free(k);
}

int ses_log_key_create(const char *path, struct ses_log_key **out)
{
    uint8_t buf[LOG_LEN];
    struct ses_log_key *k = alloc_secret(sizeof *k);
    if (k == NULL)
        return SES_ENOMEM;
    crypto_sign_keypair(k->pk, k->sk);
    memcpy(buf, LOG_MAGIC, 8);
    memcpy(buf + 8, k->sk, 64);
    int rc = write_secret(path, buf, sizeof buf);
    sodium_memzero(buf, sizeof buf);
    if (rc != 0) {
        ses_log_key_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

int ses_log_key_load(const char *path, struct ses_log_key **out)
{
    uint8_t buf[LOG_LEN];
    struct ses_log_key *k = alloc_secret(sizeof *k);
    if (k == NULL)
        return SES_ENOMEM;
    int rc = read_secret(path, LOG_MAGIC, buf, sizeof buf);
    if (rc == 0) {
        memcpy(k->sk, buf + 8, 64);
        crypto_sign_ed25519_sk_to_pk(k->pk, k->sk);
        *out = k;
    } else {
        ses_log_key_free(k);
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}
