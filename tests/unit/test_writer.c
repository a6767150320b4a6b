/*
 * test_writer.c - the group-commit writer thread on a real SQLite file and a real libuv loop:
 * every job's done() runs on the loop after its commit, in order; a failing job is undone alone;
 * jobs submitted together share transactions; stopping drains the queue; the loop closes clean;
 * a job's prep() runs once, before its run(), on a prep thread while the writer is busy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sesame/err.h"

#include "store.h"
#include "writer.h"

struct ctx {
    int done_count;
    int64_t order[2000];
    int rcs[2000];
    uv_thread_t loop_thread;
    bool on_writer_thread[2000];
};

struct jarg {
    struct ctx *c;
    int64_t i;
    bool fail;
};

static uv_thread_t main_thread;

static int run_job(struct ses_store *st, void *arg)
{
    struct jarg *a = arg;
    struct ses_audit_rec r = {.ts_ms = a->i, .action = "bench.job", .outcome = "ok"};
    int rc = ses_store_audit_append(st, &r, NULL);
    uv_thread_t self = uv_thread_self();
    a->c->on_writer_thread[a->i] = !uv_thread_equal(&self, &main_thread);
    if (rc == 0 && a->fail)
        return SES_ECONFLICT; /* its append must be undone */
    return rc;
}

static void done_job(void *arg, int rc)
{
    struct jarg *a = arg;
    uv_thread_t self = uv_thread_self();
    assert_true(uv_thread_equal(&self, &main_thread)); /* done() runs on the loop */
    a->c->order[a->c->done_count] = a->i;
    a->c->rcs[a->c->done_count] = rc;
    a->c->done_count++;
    free(a);
}

/* A fresh database in a temporary folder, a loop, and a writer on them. */
struct wfix {
    char dir[32];
    char path[128];
    uv_loop_t loop;
    struct ses_writer *w;
};

static void wfix_start(struct wfix *f)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/sesame-writer-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/sesame.db", f->dir);
    struct ses_store *st = NULL;
    assert_int_equal(ses_store_open(f->path, true, &st), 0);
    ses_store_close(st);
    main_thread = uv_thread_self();
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->w = NULL;
    assert_int_equal(ses_writer_start(&f->loop, f->path, &f->w), 0);
}

/* After ses_writer_stop(): the loop runs dry and closes, the folder goes. */
static void wfix_end(struct wfix *f)
{
    uv_run(&f->loop, UV_RUN_DEFAULT);
    ses_writer_free(f->w);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
}

static void group_commit_order_and_failures(void **state)
{
    (void)state;
    struct wfix f;
    wfix_start(&f);
    struct ses_writer *w = f.w;
    static struct ctx c;
    memset(&c, 0, sizeof c);
    enum { N = 1500 };
    for (int64_t i = 0; i < N; i++) {
        struct jarg *a = calloc(1, sizeof *a);
        a->c = &c;
        a->i = i;
        a->fail = (i % 100) == 7;
        assert_int_equal(ses_writer_submit(w, run_job, done_job, a), 0);
    }
    while (c.done_count < N)
        uv_run(&f.loop, UV_RUN_ONCE);
    for (int i = 0; i < N; i++) {
        assert_int_equal(c.order[i], i);
        assert_int_equal(c.rcs[i], (i % 100) == 7 ? SES_ECONFLICT : 0);
        assert_true(c.on_writer_thread[i]);
    }
    struct ses_writer_stats stats;
    ses_writer_get_stats(w, &stats);
    assert_int_equal(stats.jobs, N);
    assert_true(stats.batches >= 2); /* more than SES_WRITER_MAX_BATCH jobs */
    assert_true(stats.batches < N);  /* ...but grouped */
    assert_true(stats.max_batch <= SES_WRITER_MAX_BATCH);

    /* jobs still queued at stop are run and delivered */
    for (int64_t i = N; i < N + 10; i++) {
        struct jarg *a = calloc(1, sizeof *a);
        a->c = &c;
        a->i = i;
        assert_int_equal(ses_writer_submit(w, run_job, done_job, a), 0);
    }
    ses_writer_stop(w);
    assert_int_equal(c.done_count, N + 10);
    assert_int_equal(ses_writer_submit(w, run_job, done_job, NULL), SES_ECLOSED);

    /* exactly the successful jobs are in the log, in order, as a consistent tree */
    struct ses_store *st = NULL;
    assert_int_equal(ses_store_open(f.path, false, &st), 0);
    uint64_t size = 0;
    assert_int_equal(ses_store_audit_size(st, &size), 0);
    assert_int_equal(size, N + 10 - N / 100);
    uint8_t root[32];
    assert_int_equal(ses_store_audit_root(st, size, root), 0);
    ses_store_close(st);
    wfix_end(&f);
}

/* --- prep(): once per job, before its run(), by a prep thread or the writer --------------------
 */

enum { NP = 600 };

struct pctx {
    uv_thread_t writer;
    bool writer_known; /* set by job 0's run() */
    int preps[NP];     /* prep() calls per job */
    bool prepped_at_run[NP];
    bool by_prep_thread[NP];
    int done_count;
    int order[NP];
    uv_mutex_t mu;
    int ahead; /* preps made by a prep thread */
};

struct parg {
    struct pctx *c;
    int i;
    bool prepped;
};

static void prep_job(void *arg)
{
    struct parg *a = arg;
    uv_thread_t self = uv_thread_self();
    uv_mutex_lock(&a->c->mu);
    a->c->preps[a->i]++;
    bool helper = !uv_thread_equal(&self, &main_thread) &&
                  !(a->c->writer_known && uv_thread_equal(&self, &a->c->writer));
    a->c->by_prep_thread[a->i] = helper;
    if (helper)
        a->c->ahead++;
    uv_mutex_unlock(&a->c->mu);
    a->prepped = true;
}

static int run_pjob(struct ses_store *st, void *arg)
{
    struct parg *a = arg;
    (void)st;
    if (a->i == 0) {
        /* the writer is busy here: the jobs queued meanwhile go to the prep threads */
        uv_mutex_lock(&a->c->mu);
        a->c->writer = uv_thread_self();
        a->c->writer_known = true;
        uv_mutex_unlock(&a->c->mu);
        for (int k = 0; k < 5000; k++) {
            uv_mutex_lock(&a->c->mu);
            bool go = a->c->ahead >= 10 || uv_available_parallelism() < 2;
            uv_mutex_unlock(&a->c->mu);
            if (go)
                break;
            usleep(1000);
        }
    }
    a->c->prepped_at_run[a->i] = a->prepped;
    return 0;
}

static void done_pjob(void *arg, int rc)
{
    struct parg *a = arg;
    assert_int_equal(rc, 0);
    a->c->order[a->c->done_count++] = a->i;
    free(a);
}

static void prep_once_before_run(void **state)
{
    (void)state;
    struct wfix f;
    wfix_start(&f);
    struct ses_writer *w = f.w;
    static struct pctx c;
    memset(&c, 0, sizeof c);
    uv_mutex_init(&c.mu);
    struct parg *a0 = calloc(1, sizeof *a0);
    a0->c = &c;
    assert_int_equal(ses_writer_submit(w, run_pjob, done_pjob, a0), 0); /* job 0: no prep */
    for (int k = 0; k < 5000; k++) {
        uv_mutex_lock(&c.mu);
        bool running = c.writer_known;
        uv_mutex_unlock(&c.mu);
        if (running)
            break;
        usleep(1000);
    }
    for (int i = 1; i < NP; i++) {
        struct parg *a = calloc(1, sizeof *a);
        a->c = &c;
        a->i = i;
        if (i % 5 == 3)
            assert_int_equal(ses_writer_submit(w, run_pjob, done_pjob, a), 0);
        else
            assert_int_equal(ses_writer_submit_prep(w, prep_job, run_pjob, done_pjob, a), 0);
    }
    while (c.done_count < NP)
        uv_run(&f.loop, UV_RUN_ONCE);
    for (int i = 0; i < NP; i++) {
        bool has_prep = i != 0 && i % 5 != 3;
        assert_int_equal(c.order[i], i);
        assert_int_equal(c.preps[i], has_prep ? 1 : 0);
        assert_int_equal(c.prepped_at_run[i], has_prep);
    }
    struct ses_writer_stats stats;
    ses_writer_get_stats(w, &stats);
    assert_int_equal(stats.preps_ahead, (uint64_t)c.ahead);
    if (uv_available_parallelism() >= 2)
        assert_true(c.ahead >= 10); /* the prep threads worked while the writer was busy */
    else
        assert_int_equal(c.ahead, 0);
    printf("preps by prep threads: %d of %d\n", c.ahead, NP - 1 - NP / 5);

    /* stopping with preps queued: the writer makes them */
    for (int i = 0; i < 50; i++) {
        struct parg *a = calloc(1, sizeof *a);
        a->c = &c;
        a->i = NP - 1; /* counted again on the last slot */
        assert_int_equal(ses_writer_submit_prep(w, prep_job, run_pjob, done_pjob, a), 0);
    }
    c.done_count = 0;
    ses_writer_stop(w);
    assert_int_equal(c.done_count, 50);
    assert_int_equal(c.preps[NP - 1], 51);
    uv_mutex_destroy(&c.mu);
    wfix_end(&f);
}

static void start_fails_cleanly(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct ses_writer *w = NULL;
    assert_int_equal(ses_writer_start(&loop, "/nonexistent/dir/sesame.db", &w), SES_EIO);
    assert_null(w);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(group_commit_order_and_failures),
        cmocka_unit_test(prep_once_before_run),
        cmocka_unit_test(start_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
