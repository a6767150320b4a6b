/*
 * bench_audit.c - what the Merkle audit log costs on the write path, and a filler for the
 * verify benchmark. Prints figures; asserts nothing (performance is measured, not tested).
 *
 *   bench_audit append [--records N] [--batch K]   appends/s, plain row inserts vs audit appends,
 *                                                  K records per transaction (group commit)
 *   bench_audit fill DATA_DIR N                    appends N records to a stopped daemon's log
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sesame/err.h"

#include "store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct ses_audit_rec sample(int64_t i, const uint8_t user[16], const uint8_t dev[16])
{
    struct ses_audit_rec r = {
        .ts_ms = 1767225600000 + i,
        .actor_user = user,
        .actor_device = dev,
        .actor_role = "nurse",
        .action = "msg.submit",
        .object = "thread:aaaaaaaaaaaaaaaaaaaaaaaaaa",
        .outcome = "ok",
        .peer = "127.0.0.1",
    };
    return r;
}

/* Appends n records in transactions of batch records. Returns seconds, or -1. */
static double run_appends(struct ses_store *st, int64_t n, int batch, int with_tree)
{
    uint8_t user[16], dev[16];
    randombytes_buf(user, sizeof user);
    randombytes_buf(dev, sizeof dev);
    double t0 = now_s();
    for (int64_t i = 0; i < n;) {
        if (ses_store_begin(st) != 0)
            return -1;
        for (int k = 0; k < batch && i < n; k++, i++) {
            struct ses_audit_rec r = sample(i, user, dev);
            /* the "plain" variant writes the same row as a user insert of similar size, to give
             * the cost of one durable row without the tree */
            int rc;
            if (with_tree) {
                rc = ses_store_audit_append(st, &r, NULL);
            } else {
                struct ses_user u;
                memset(&u, 0, sizeof u);
                randombytes_buf(u.id, sizeof u.id);
                u.role = SES_ROLE_NURSE;
                snprintf(u.name, sizeof u.name, "bench %lld", (long long)i);
                u.created_ms = r.ts_ms;
                rc = ses_store_user_insert(st, &u);
            }
            if (rc != 0) {
                ses_store_rollback(st);
                return -1;
            }
        }
        if (ses_store_commit(st) != 0)
            return -1;
    }
    return now_s() - t0;
}

static int cmd_append(int64_t n, int batch)
{
    char dir[] = "/tmp/sesame-bench-XXXXXX", path[128];
    struct ses_store *st = NULL;
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof path, "%s/sesame.db", dir);
    if (ses_store_open(path, true, &st) != 0)
        return 1;
    double plain = run_appends(st, n, batch, 0);
    double tree = run_appends(st, n, batch, 1);
    uint64_t size = 0;
    uint8_t root[32];
    double t0 = now_s();
    (void)ses_store_audit_size(st, &size);
    (void)ses_store_audit_root(st, size, root);
    double root_s = now_s() - t0;
    ses_store_close(st);
    printf("records=%lld batch=%d (records per transaction, synchronous=FULL, WAL)\n",
           (long long)n, batch);
    printf("plain row inserts : %10.0f rows/s   (%.3f s)\n", (double)n / plain, plain);
    printf("audit appends     : %10.0f records/s (%.3f s) = %.2fx the plain row cost\n",
           (double)n / tree, tree, tree / plain);
    printf("root of %llu leaves: %.3f ms (O(log n) node reads)\n", (unsigned long long)size,
           root_s * 1e3);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : 1;
}

static int cmd_fill(const char *data, int64_t n)
{
    char path[4096];
    struct ses_store *st = NULL;
    snprintf(path, sizeof path, "%s/%s", data, SES_DB_FILE);
    if (ses_store_open(path, false, &st) != 0) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    double s = run_appends(st, n, 10000, 1);
    ses_store_close(st);
    if (s < 0)
        return 1;
    printf("filled %lld records in %.1f s (%.0f records/s)\n", (long long)n, s, (double)n / s);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    if (argc >= 2 && strcmp(argv[1], "append") == 0) {
        int64_t n = 100000;
        int batch = 256;
        for (int i = 2; i + 1 < argc; i += 2) {
            if (strcmp(argv[i], "--records") == 0)
                n = atoll(argv[i + 1]);
            else if (strcmp(argv[i], "--batch") == 0)
                batch = atoi(argv[i + 1]);
        }
        if (n <= 0 || batch <= 0)
            return 2;
        return cmd_append(n, batch);
    }
    if (argc == 4 && strcmp(argv[1], "fill") == 0)
        return cmd_fill(argv[2], atoll(argv[3]));
    fprintf(stderr, "usage: bench_audit append [--records N] [--batch K]\n"
                    "       bench_audit fill DATA_DIR N\n");
    return 2;
}
