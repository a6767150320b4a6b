/*
 * writer.c - group-commit writer thread (writer.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sesame/err.h"

#include "log.h"
#include "writer.h"

struct job {
    struct job *next;
    ses_write_fn run;
    ses_write_done_fn done;
    void *arg;
    int rc;
};

struct ses_writer {
    uv_loop_t *loop;
    uv_async_t async;
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t cond;
    struct job *in_head, *in_tail;     /* submitted, not yet taken (guarded by mu) */
    struct job *done_head, *done_tail; /* committed, waiting for the loop (guarded by mu) */
    bool stopping;                     /* guarded by mu */
    struct ses_store *st;              /* writer thread only */
    char db_path[4096];
    uv_thread_t ckpt_thread; /* copies the WAL back into the database */
    uv_cond_t ckpt_cond;     /* wakes it (guarded by mu) */
    int wal_pages;           /* WAL size after the writer's last commit (mu) */
    bool ckpt_running;       /* the checkpointer is copying (mu) */
    bool restarting;         /* the writer resets the WAL: no checkpointer pass meanwhile (mu) */
    uv_cond_t idle_cond;     /* signalled when ckpt_running goes false (mu) */
    bool ckpt_started;
    struct ses_writer_stats stats; /* guarded by mu */
};

static void append(struct job **head, struct job **tail, struct job *first, struct job *last)
{
    if (*tail)
        (*tail)->next = first;
    else
        *head = first;
    *tail = last;
}

static void run_batch(struct ses_writer *w, struct job *batch, size_t n)
{
    int rc = ses_store_begin(w->st);
    for (struct job *j = batch; j; j = j->next) {
        if (rc != 0) {
            j->rc = rc;
            continue;
        }
        if (ses_store_savepoint(w->st) != 0) {
            j->rc = SES_EIO;
            continue;
        }
        j->rc = j->run(w->st, j->arg);
        if (j->rc != 0)
            ses_store_savepoint_rollback(w->st);
        else
            ses_store_savepoint_release(w->st);
    }
    if (rc == 0 && ses_store_commit(w->st) != 0) {
        SES_LOG(SES_LOG_ERR, "writer", "commit of %zu jobs failed; none was stored", n);
        for (struct job *j = batch; j; j = j->next)
            j->rc = SES_EIO;
    }
}

/* The checkpointer: its own connection and thread copy the WAL back into the database, so that
 * neither a commit nor the writer's next batch waits for it (WAL readers and the appending writer
 * run alongside a PASSIVE checkpoint). */
static void ckpt_main(void *arg)
{
    struct ses_writer *w = arg;
    struct ses_store *st = NULL;
    if (ses_store_open(w->db_path, false, &st) != 0)
        return; /* the WAL then grows until the next start; logged by the store */
    uv_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stopping && (w->wal_pages < SES_WRITER_CKPT_PAGES || w->restarting))
            uv_cond_wait(&w->ckpt_cond, &w->mu);
        if (w->stopping)
            break;
        w->wal_pages = 0;
        w->ckpt_running = true;
        uv_mutex_unlock(&w->mu);
        (void)ses_store_wal_checkpoint(st, false);
        uv_mutex_lock(&w->mu);
        w->ckpt_running = false;
        uv_cond_signal(&w->idle_cond);
    }
    uv_mutex_unlock(&w->mu);
    ses_store_close(st);
}

/* Tells the checkpointer how large the WAL got. */
static void note_wal(struct ses_writer *w)
{
    int pages = ses_store_wal_pages(w->st);
    uv_mutex_lock(&w->mu);
    w->wal_pages = pages;
    if (pages >= SES_WRITER_CKPT_PAGES)
        uv_cond_signal(&w->ckpt_cond);
    uv_mutex_unlock(&w->mu);
}

/* Between two batches (their results already on their way to the loop): once the checkpointer
 * is idle, copies what it has not copied yet and has the next commit write the WAL from its
 * start. Under steady load a PASSIVE checkpoint alone never gets there (the WAL only starts over
 * when a write begins with every frame copied and no reader on a WAL snapshot), and the file
 * grows without end. */
static void reset_wal(struct ses_writer *w)
{
    uv_mutex_lock(&w->mu);
    w->restarting = true;
    while (w->ckpt_running)
        uv_cond_wait(&w->idle_cond, &w->mu);
    uv_mutex_unlock(&w->mu);
    (void)ses_store_wal_checkpoint(w->st, true);
    uv_mutex_lock(&w->mu);
    w->restarting = false;
    w->wal_pages = ses_store_wal_pages(w->st);
    uv_mutex_unlock(&w->mu);
}

static void writer_main(void *arg)
{
    struct ses_writer *w = arg;
    for (;;) {
        uv_mutex_lock(&w->mu);
        while (w->in_head == NULL && !w->stopping)
            uv_cond_wait(&w->cond, &w->mu);
        if (w->in_head == NULL && w->stopping) {
            uv_mutex_unlock(&w->mu);
            break;
        }
        /* take up to SES_WRITER_MAX_BATCH jobs: everything that arrived while we committed */
        struct job *batch = w->in_head, *last = batch;
        size_t n = 1;
        while (last->next && n < SES_WRITER_MAX_BATCH) {
            last = last->next;
            n++;
        }
        w->in_head = last->next;
        if (w->in_head == NULL)
            w->in_tail = NULL;
        last->next = NULL;
        uv_mutex_unlock(&w->mu);

        run_batch(w, batch, n);
        note_wal(w);

        uv_mutex_lock(&w->mu);
        append(&w->done_head, &w->done_tail, batch, last);
        w->stats.jobs += n;
        w->stats.batches++;
        if (n > w->stats.max_batch)
            w->stats.max_batch = n;
        uv_mutex_unlock(&w->mu);
        uv_async_send(&w->async);
        if (ses_store_wal_pages(w->st) >= SES_WRITER_WAL_RESET_PAGES)
            reset_wal(w);
    }
}

static void on_async(uv_async_t *a)
{
    struct ses_writer *w = a->data;
    uv_mutex_lock(&w->mu);
    struct job *j = w->done_head;
    w->done_head = w->done_tail = NULL;
    uv_mutex_unlock(&w->mu);
    while (j) {
        struct job *next = j->next;
        if (j->done)
            j->done(j->arg, j->rc);
        free(j);
        j = next;
    }
}

static void free_on_close(uv_handle_t *h)
{
    ses_writer_free(h->data);
}

int ses_writer_start(uv_loop_t *loop, const char *db_path, struct ses_writer **out)
{
    struct ses_writer *w = calloc(1, sizeof *w);
    int rc;
    if (w == NULL)
        return SES_ENOMEM;
    w->loop = loop;
    if ((rc = ses_store_open(db_path, false, &w->st)) != 0) {
        free(w);
        return rc;
    }
    ses_store_cache_mib(w->st, SES_WRITER_CACHE_MIB);
    snprintf(w->db_path, sizeof w->db_path, "%s", db_path);
    uv_mutex_init(&w->mu);
    uv_cond_init(&w->cond);
    uv_cond_init(&w->ckpt_cond);
    uv_cond_init(&w->idle_cond);
    uv_async_init(loop, &w->async, on_async);
    w->async.data = w;
    w->ckpt_started = uv_thread_create(&w->ckpt_thread, ckpt_main, w) == 0;
    if (uv_thread_create(&w->thread, writer_main, w) != 0) {
        uv_mutex_lock(&w->mu);
        w->stopping = true;
        uv_cond_signal(&w->ckpt_cond);
        uv_mutex_unlock(&w->mu);
        if (w->ckpt_started)
            uv_thread_join(&w->ckpt_thread);
        ses_store_close(w->st);
        w->st = NULL;
        uv_close((uv_handle_t *)&w->async, free_on_close); /* frees w once the loop runs */
        return SES_EIO;
    }
    *out = w;
    return 0;
}

int ses_writer_submit(struct ses_writer *w, ses_write_fn run, ses_write_done_fn done, void *arg)
{
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return SES_ENOMEM;
    j->run = run;
    j->done = done;
    j->arg = arg;
    uv_mutex_lock(&w->mu);
    if (w->stopping) {
        uv_mutex_unlock(&w->mu);
        free(j);
        return SES_ECLOSED;
    }
    append(&w->in_head, &w->in_tail, j, j);
    uv_cond_signal(&w->cond);
    uv_mutex_unlock(&w->mu);
    return 0;
}

void ses_writer_stop(struct ses_writer *w)
{
    if (w == NULL || uv_is_closing((uv_handle_t *)&w->async))
        return;
    uv_mutex_lock(&w->mu);
    w->stopping = true;
    uv_cond_signal(&w->cond);
    uv_cond_signal(&w->ckpt_cond);
    uv_mutex_unlock(&w->mu);
    uv_thread_join(&w->thread);
    if (w->ckpt_started)
        uv_thread_join(&w->ckpt_thread);
    w->ckpt_started = false;
    on_async(&w->async); /* deliver what the last batches finished */
    ses_store_close(w->st);
    w->st = NULL;
    uv_close((uv_handle_t *)&w->async, NULL);
}

void ses_writer_free(struct ses_writer *w)
{
    if (w == NULL)
        return;
    uv_mutex_destroy(&w->mu);
    uv_cond_destroy(&w->cond);
    uv_cond_destroy(&w->ckpt_cond);
    uv_cond_destroy(&w->idle_cond);
    free(w);
}

void ses_writer_get_stats(const struct ses_writer *w, struct ses_writer_stats *out)
{
    uv_mutex_lock((uv_mutex_t *)&w->mu);
    *out = w->stats;
    uv_mutex_unlock((uv_mutex_t *)&w->mu);
}
