/*
 * auditlog.c - checkpoints and retention of the audit log (auditlog.h).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/note.h"

#include "auditlog.h"
#include "log.h"
#include "writer.h"

#define DAY_MS (86400LL * 1000)

void ses_auditlog_origin(char out[SES_ORIGIN_MAX], const uint8_t server_id[16])
{
    char sid[32];
    (void)ses_b64_encode(sid, sizeof sid, server_id, 16);
    snprintf(out, SES_ORIGIN_MAX, "sesame/audit/%s", sid);
}

int ses_auditlog_vkey(char *out, size_t cap, const uint8_t server_id[16], const uint8_t pk[32])
{
    char origin[SES_ORIGIN_MAX];
    ses_auditlog_origin(origin, server_id);
    return ses_note_vkey_format(out, cap, origin, pk) == 0 ? 0 : SES_EINVALID_ARG;
}

struct ckpt_job {
    uint64_t size;
    uint8_t root[32];
    int64_t now;
    char note[SES_CHECKPOINT_MAX];
    char file[SES_CKPT_PATH_MAX]; /* "" : no copy outside the database */
};

/* Writes len bytes of buf to path through a temporary file, fsynced, renamed over path, and the
 * directory fsynced: after a crash path holds the old bytes or the new ones. */
static int write_durably(const char *path, const char *buf, size_t len)
{
    char tmp[SES_CKPT_PATH_MAX + 8], dir[SES_CKPT_PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return SES_EINVALID_ARG;
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return SES_EIO;
    bool ok = write(fd, buf, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return SES_EIO;
    }
    if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
        ok = fsync(fd) == 0;
        close(fd);
    }
    return ok ? 0 : SES_EIO;
}

/* The checkpoint's records are committed already: the file may say so before the checkpoint's own
 * row is (it claims only what is true); a failure to write it is logged, the row still stored. */
static int run_ckpt(struct ses_store *st, void *arg)
{
    struct ckpt_job *j = arg;
    if (j->file[0] && write_durably(j->file, j->note, strlen(j->note)) != 0)
        SES_LOG(SES_LOG_ERR, "audit", "%s: cannot write the checkpoint of size %llu", j->file,
                (unsigned long long)j->size);
    return ses_store_checkpoint_put(st, j->size, j->root, j->note, j->now);
}

int ses_auditlog_file_sign(const char *file, struct ses_store *st, const uint8_t server_id[16],
                           const struct ses_log_key *key)
{
    char note[SES_CHECKPOINT_MAX], origin[SES_ORIGIN_MAX];
    uint8_t root[32];
    uint64_t size = 0;
    size_t len = 0;
    int rc;
    ses_auditlog_origin(origin, server_id);
    if ((rc = ses_store_audit_size(st, &size)) != 0 ||
        (rc = ses_store_audit_root(st, size, root)) != 0 ||
        (rc = ses_checkpoint_sign(note, sizeof note, &len, origin, size, root, origin, key->sk)) !=
            0)
        return rc;
    return write_durably(file, note, len);
}

int ses_auditlog_file_check(const char *file, struct ses_store *st, const uint8_t server_id[16],
                            const uint8_t pk[32])
{
    char note[SES_CHECKPOINT_MAX], vkey[512], origin[SES_ORIGIN_MAX];
    struct ses_note_vkey vk;
    struct ses_checkpoint cp;
    uint64_t size = 0;
    uint8_t root[32];
    FILE *f = fopen(file, "rb");
    if (f == NULL)
        return 0; /* none yet: written with the first checkpoint */
    size_t len = fread(note, 1, sizeof note - 1, f);
    fclose(f);
    note[len] = '\0';
    ses_auditlog_origin(origin, server_id);
    if (ses_auditlog_vkey(vkey, sizeof vkey, server_id, pk) != 0 ||
        ses_note_vkey_parse(&vk, vkey) != 0 ||
        ses_checkpoint_open(&cp, note, len, &vk, origin) != 0) {
        SES_LOG(SES_LOG_ERR, "audit",
                "%s: not a checkpoint signed by this log's key; restore it from the backup; "
                "refusing to start",
                file);
        return SES_ECONFLICT;
    }
    if (ses_store_audit_size(st, &size) != 0)
        return SES_EIO;
    if (size < cp.size) {
        SES_LOG(SES_LOG_ERR, "audit",
                "%s: the database is behind its latest signed checkpoint: it holds %llu audit "
                "records, %llu were committed; acknowledged data was lost (a deleted or truncated "
                "write-ahead log?); restore the backup, or move this file aside to accept the "
                "loss; refusing to start",
                file, (unsigned long long)size, (unsigned long long)cp.size);
        return SES_ECONFLICT;
    }
    if (ses_store_audit_root(st, cp.size, root) != 0 || memcmp(root, cp.root, 32) != 0) {
        SES_LOG(SES_LOG_ERR, "audit",
                "%s: the audit tree does not match the latest signed checkpoint (size %llu): the "
                "history was rewritten; refusing to start",
                file, (unsigned long long)cp.size);
        return SES_ECONFLICT;
    }
    return 0;
}

static void done_ckpt(void *arg, int rc)
{
    struct ckpt_job *j = arg;
    if (rc != 0)
        SES_LOG(SES_LOG_ERR, "audit", "cannot store the checkpoint of size %llu: %s",
                (unsigned long long)j->size, ses_err_name(rc));
    free(j);
}

int ses_auditlog_checkpoint(struct ses_auditlog *a)
{
    struct ckpt_job *j;
    size_t len = 0;
    uint64_t size = 0;
    int rc = ses_store_audit_size(a->store, &size);
    if (rc != 0 || size <= a->ckpt_size)
        return rc;
    if ((j = calloc(1, sizeof *j)) == NULL)
        return SES_ENOMEM;
    j->size = size;
    j->now = ses_clock_now_ms(a->clock);
    snprintf(j->file, sizeof j->file, "%s", a->ckpt_file);
    if ((rc = ses_store_audit_root(a->store, size, j->root)) != 0 ||
        (rc = ses_checkpoint_sign(j->note, sizeof j->note, &len, a->origin, size, j->root,
                                  a->origin, a->key->sk)) != 0) {
        SES_LOG(SES_LOG_ERR, "audit", "cannot sign a checkpoint of size %llu: %s",
                (unsigned long long)size, ses_err_name(rc));
        free(j);
        return rc;
    }
    /* the signed note is valid as soon as it exists (its records are committed): serve it now,
     * store it through the writer so the loop never waits for that fsync */
    a->ckpt_size = size;
    memcpy(a->ckpt_note, j->note, sizeof a->ckpt_note);
    SES_LOG(SES_LOG_INFO, "audit", "checkpoint size=%llu", (unsigned long long)size);
    if (a->writer != NULL && ses_writer_submit_essential(a->writer, run_ckpt, done_ckpt, j) == 0)
        return 0;
    /* no writer (shutdown, after the loop): store it here */
    rc = ses_store_txn(a->store, run_ckpt, j);
    done_ckpt(j, rc);
    return rc;
}

void ses_auditlog_after_write(void *ud)
{
    struct ses_auditlog *a = ud;
    uint64_t size = 0;
    if (ses_store_audit_size(a->store, &size) == 0 &&
        size >= a->ckpt_size + (uint64_t)a->cfg->checkpoint_every)
        (void)ses_auditlog_checkpoint(a);
}

struct prune_job {
    int64_t now, before;
    int64_t first, last, n;
    ses_prune_done_fn then;
    void *ud;
};

static int run_prune(struct ses_store *st, void *arg)
{
    struct prune_job *j = arg;
    char object[64];
    int rc = ses_store_audit_prune(st, j->before, &j->first, &j->last, &j->n);
    if (rc == 0 && j->n > 0) {
        snprintf(object, sizeof object, "seq:%lld-%lld", (long long)j->first, (long long)j->last);
        struct ses_audit_rec rec = {
            .ts_ms = j->now, .action = "audit.prune", .object = object, .outcome = "ok"};
        rc = ses_store_audit_append(st, &rec, NULL);
    }
    return rc;
}

static void done_prune(void *arg, int rc)
{
    struct prune_job *j = arg;
    if (rc != 0)
        SES_LOG(SES_LOG_ERR, "audit", "pruning failed: %s", ses_err_name(rc));
    else if (j->n > 0)
        SES_LOG(SES_LOG_NOTICE, "audit", "pruned the bytes of %lld records (seq %lld-%lld)",
                (long long)j->n, (long long)j->first, (long long)j->last);
    if (j->then != NULL)
        j->then(j->ud, rc);
    free(j);
}

int ses_auditlog_prune(struct ses_auditlog *a, ses_prune_done_fn then, void *ud)
{
    int64_t now = ses_clock_now_ms(a->clock);
    int64_t days = a->cfg->audit_retention_days;
    struct prune_job *j = days > 0 ? calloc(1, sizeof *j) : NULL;
    if (j == NULL) {
        int rc = days > 0 ? SES_ENOMEM : 0;
        if (then != NULL)
            then(ud, rc); /* nothing to prune */
        return rc;
    }
    j->now = now;
    j->before = now - days * DAY_MS;
    j->then = then;
    j->ud = ud;
    int rc = ses_writer_submit(a->writer, run_prune, done_prune, j);
    if (rc != 0) {
        SES_LOG(SES_LOG_ERR, "audit", "pruning failed: %s", ses_err_name(rc));
        free(j);
        if (then != NULL)
            then(ud, rc);
    }
    return rc;
}

static void on_ckpt_timer(uv_timer_t *t)
{
    (void)ses_auditlog_checkpoint(t->data);
}

static void on_prune_timer(uv_timer_t *t)
{
    (void)ses_auditlog_prune(t->data, NULL, NULL);
}

/* The latest stored checkpoint must be ours and match the tree: anything else means the database
 * was edited; say so loudly, and keep signing the tree as it is. */
static void load_latest(struct ses_auditlog *a, const uint8_t server_id[16])
{
    char note[SES_CHECKPOINT_MAX], vkey[512];
    uint64_t size = 0;
    struct ses_note_vkey vk;
    struct ses_checkpoint cp;
    uint8_t root[32];
    if (ses_store_checkpoint_latest(a->store, &size, note, sizeof note) != 0)
        return; /* none yet */
    if (ses_auditlog_vkey(vkey, sizeof vkey, server_id, a->key->pk) == 0 &&
        ses_note_vkey_parse(&vk, vkey) == 0 &&
        ses_checkpoint_open(&cp, note, strlen(note), &vk, a->origin) == 0 && cp.size == size &&
        ses_store_audit_root(a->store, size, root) == 0 && memcmp(root, cp.root, 32) == 0) {
        a->ckpt_size = size;
        return;
    }
    SES_LOG(SES_LOG_ERR, "audit",
            "the latest stored checkpoint (size %llu) is not a valid checkpoint of this log: the "
            "database may have been tampered with; auditors' verify will say where",
            (unsigned long long)size);
}

int ses_auditlog_start(struct ses_auditlog *a, uv_loop_t *loop, const uint8_t server_id[16])
{
    ses_auditlog_origin(a->origin, server_id);
    load_latest(a, server_id);
    (void)ses_auditlog_prune(a, NULL, NULL);
    (void)ses_auditlog_checkpoint(a);
    uint64_t every = (uint64_t)a->cfg->checkpoint_interval_s * 1000;
    if (uv_timer_init(loop, &a->ckpt_timer) != 0)
        return SES_EIO;
    if (uv_timer_init(loop, &a->prune_timer) != 0) {
        uv_close((uv_handle_t *)&a->ckpt_timer, NULL);
        return SES_EIO;
    }
    a->timers_on = true;
    a->ckpt_timer.data = a->prune_timer.data = a;
    uv_timer_start(&a->ckpt_timer, on_ckpt_timer, every, every);
    uv_timer_start(&a->prune_timer, on_prune_timer, DAY_MS, DAY_MS);
    return 0;
}

void ses_auditlog_stop(struct ses_auditlog *a)
{
    if (!a->timers_on)
        return;
    a->timers_on = false;
    uv_timer_stop(&a->ckpt_timer);
    uv_timer_stop(&a->prune_timer);
    uv_close((uv_handle_t *)&a->ckpt_timer, NULL);
    uv_close((uv_handle_t *)&a->prune_timer, NULL);
}
