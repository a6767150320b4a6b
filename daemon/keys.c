/*
 * keys.c - server key file (keys.h). Layout: "SESKEY1\n" | sign_sk[64] | pepper[32] (104 bytes).
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

#define MAGIC "SESKEY1\n"
#define FILE_LEN (8 + 64 + 32)

static struct ses_server_keys *alloc_keys(void)
{
    struct ses_server_keys *k = sodium_malloc(sizeof *k);
    if (k != NULL)
        memset(k, 0, sizeof *k);
    return k;
}

void ses_server_keys_free(struct ses_server_keys *k)
{
    if (k != NULL)
        sodium_free(k); /* sodium_free wipes */
}

int ses_server_keys_create(const char *path, struct ses_server_keys **out)
{
    uint8_t buf[FILE_LEN];
    struct ses_server_keys *k = alloc_keys();
    int rc = SES_EIO;
    if (k == NULL)
        return SES_ENOMEM;
    crypto_sign_keypair(k->sign_pk, k->sign_sk);
    randombytes_buf(k->pepper, sizeof k->pepper);
    ses_kid16(k->server_id, k->sign_pk, sizeof k->sign_pk);
    memcpy(buf, MAGIC, 8);
    memcpy(buf + 8, k->sign_sk, 64);
    memcpy(buf + 72, k->pepper, 32);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = errno == EEXIST ? SES_EEXISTS : SES_EIO;
        SES_LOG(SES_LOG_ERR, "keys", "cannot create %s: %s", path, strerror(errno));
        goto out;
    }
    if (write(fd, buf, sizeof buf) != (ssize_t)sizeof buf || fsync(fd) != 0) {
        SES_LOG(SES_LOG_ERR, "keys", "cannot write %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        goto out;
    }
    close(fd);
    rc = 0;
out:
    sodium_memzero(buf, sizeof buf);
    if (rc != 0)
        ses_server_keys_free(k);
    else
        *out = k;
    return rc;
}

int ses_server_keys_load(const char *path, struct ses_server_keys **out)
{
    uint8_t buf[FILE_LEN + 1];
    struct stat sb;
    struct ses_server_keys *k = NULL;
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
    ssize_t n = read(fd, buf, sizeof buf);
    if (n != FILE_LEN || memcmp(buf, MAGIC, 8) != 0) {
        SES_LOG(SES_LOG_ERR, "keys", "%s is not a Sesame server key file", path);
        goto out;
    }
    if ((k = alloc_keys()) == NULL) {
        rc = SES_ENOMEM;
        goto out;
    }
    memcpy(k->sign_sk, buf + 8, 64);
    memcpy(k->pepper, buf + 72, 32);
    crypto_sign_ed25519_sk_to_pk(k->sign_pk, k->sign_sk);
    ses_kid16(k->server_id, k->sign_pk, sizeof k->sign_pk);
    *out = k;
    k = NULL;
    rc = 0;
out:
    sodium_memzero(buf, sizeof buf);
    ses_server_keys_free(k);
    close(fd);
    return rc;
}
