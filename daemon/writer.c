/*
 * writer.c - group-commit writer thread (writer.h).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>

#include "sesame/err.h"

#include "log.h"
#include "reserve.h"
#include "writer.h"

enum prep_state { PREP_NONE, PREP_QUEUED, PREP_RUNNING, PREP_DONE };

struct job {
    struct job *next;
    struct job *prep_next; /* in the prep queue (mu) */
    ses_write_prep_fn prep;
    ses_write_fn run;
    ses_write_done_fn done;
    void *arg;
    int rc;
    enum prep_state prep_state; /* mu */
    bool essential;             /* still written from the reserve when the disk is full */
    bool selected;              /* writer thread: run in the current pass over its batch */
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
    uint64_t reset_not_before_ns; /* writer thread: no WAL reset before (uv_hrtime) */
    /* jobs whose prep() nobody has started, in submission order (a sub-sequence of the jobs
     * queued and being run): prep threads take the head; so does the writer, which reaches them
     * in order, when no prep thread was quicker */
    struct job *prep_head, *prep_tail; /* mu */
    uv_cond_t prep_cond;               /* wakes the prep threads (mu) */
    uv_cond_t prep_done_cond;          /* a prep thread finished one (mu) */
    bool writer_busy;                  /* the writer is running or committing a batch (mu) */
    uv_thread_t prep_threads[SES_WRITER_MAX_PREP_THREADS];
    unsigned n_prep_threads;
    struct ses_writer_stats stats; /* guarded by mu */
    void (*after)(void *ud);       /* loop thread: after the done() calls of a delivery */
    void *after_ud;
    /* writer thread: the disk is full; only essential jobs run until the reserve is back */
    bool full;
    uint64_t probe_not_before_ns; /* writer thread: next look for room (uv_hrtime) */
};

static void append(struct job **head, struct job **tail, struct job *first, struct job *last)
{
    if (*tail)
        (*tail)->next = first;
    else
        *head = first;
    *tail = last;
}

/* Takes j off the head of the prep queue if nobody has started its prep(). Caller holds mu. */
static bool claim_prep(struct ses_writer *w, struct job *j)
{
    if (j->prep_state != PREP_QUEUED)
        return false;
    /* every queued prep before j is claimed already (jobs are prepped and run in order) */
    w->prep_head = j->prep_next;
    if (w->prep_head == NULL)
        w->prep_tail = NULL;
    j->prep_state = PREP_RUNNING;
    return true;
}

/* A prep thread: runs prep() of queued jobs ahead of the writer. */
static void prep_main(void *arg)
{
    struct ses_writer *w = arg;
    uv_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stopping && w->prep_head == NULL)
            uv_cond_wait(&w->prep_cond, &w->mu);
        if (w->stopping)
            break;
        struct job *j = w->prep_head;
        claim_prep(w, j);
        uv_mutex_unlock(&w->mu);
        j->prep(j->arg);
        uv_mutex_lock(&w->mu);
        j->prep_state = PREP_DONE;
        w->stats.preps_ahead++;
        uv_cond_broadcast(&w->prep_done_cond);
    }
    uv_mutex_unlock(&w->mu);
}

/* Every prep() of the batch done: the writer runs those nobody started, then waits for the rest
 * (which prep threads are running). */
static void prep_batch(struct ses_writer *w, struct job *batch)
{
    for (struct job *j = batch; j; j = j->next) {
        if (j->prep == NULL)
            continue;
        uv_mutex_lock(&w->mu);
        bool mine = claim_prep(w, j);
        uv_mutex_unlock(&w->mu);
        if (mine) {
            j->prep(j->arg);
            j->prep_state = PREP_DONE; /* nobody else looks at a job the writer claimed */
        }
    }
    uv_mutex_lock(&w->mu);
    for (struct job *j = batch; j; j = j->next)
        while (j->prep_state == PREP_RUNNING)
            uv_cond_wait(&w->prep_done_cond, &w->mu);
    uv_mutex_unlock(&w->mu);
}

/* Which jobs of a batch a pass runs. */
enum batch_mode {
    RUN_ALL,       /* every job */
    RUN_ESSENTIAL, /* the disk is full: the essential ones; the others fail with STORAGE_FULL */
    RUN_RETRY,     /* the reserve was just released: the essential ones the full disk refused */
};

/* Marks the jobs this pass runs; in RUN_ESSENTIAL the others get STORAGE_FULL. Returns how many
 * are run. */
static size_t select_jobs(struct job *batch, enum batch_mode mode)
{
    size_t n = 0;
    for (struct job *j = batch; j; j = j->next) {
        j->selected = mode == RUN_ALL || (mode == RUN_ESSENTIAL && j->essential) ||
                      (mode == RUN_RETRY && j->essential && j->rc == SES_ESTORAGE_FULL);
        if (mode == RUN_ESSENTIAL && !j->essential)
            j->rc = SES_ESTORAGE_FULL;
        n += j->selected;
    }
    return n;
}

/* Runs the selected jobs of the batch in one transaction. Returns true if the disk was full for
 * one of them (its rc, or every selected one's if the commit failed, is SES_ESTORAGE_FULL). */
static bool run_batch(struct ses_writer *w, struct job *batch, enum batch_mode mode)
{
    size_t n = select_jobs(batch, mode);
    prep_batch(w, batch); /* every job leaves the prep queue, run or not */
    if (n == 0)
        return false;
    int rc = ses_store_begin(w->st);
    bool full = false;
    for (struct job *j = batch; j; j = j->next) {
        if (!j->selected)
            continue;
        if (rc != 0) {
            j->rc = rc;
            continue;
        }
        if (ses_store_savepoint(w->st) != 0) {
            j->rc = SES_EIO;
            continue;
        }
        j->rc = j->run(w->st, j->arg);
        full = full || j->rc == SES_ESTORAGE_FULL;
        if (j->rc != 0 && ses_store_txn_lost(w->st)) {
            /* SQLite undid the whole batch (a full disk): nothing of it is stored */
            rc = j->rc;
            for (struct job *k = batch; k != j; k = k->next)
                if (k->selected)
                    k->rc = rc;
            continue;
        }
        if (j->rc != 0)
            ses_store_savepoint_rollback(w->st);
        else
            ses_store_savepoint_release(w->st);
    }
    int crc = rc == 0 ? ses_store_commit(w->st) : 0;
    if (crc != 0) {
        if (crc != SES_ESTORAGE_FULL) /* that one is logged by the store, rate-limited */
            SES_LOG(SES_LOG_ERR, "writer", "commit of %zu jobs failed; none was stored", n);
        for (struct job *j = batch; j; j = j->next)
            if (j->selected)
                j->rc = crc;
    }
    return full || crc == SES_ESTORAGE_FULL;
}

/* The disk just filled: the reserve's room goes to the essential jobs from now on. */
static void enter_full(struct ses_writer *w)
{
    bool released = ses_reserve_release(w->db_path);
    w->full = true;
    w->probe_not_before_ns = uv_hrtime() + SES_WRITER_FULL_PROBE_MS * 1000000ull;
    SES_LOG(SES_LOG_ERR, "writer",
            "the disk is full: %s; logins, refusals and the server's start and stop are still "
            "recorded, every other write is refused with STORAGE_FULL until there is room again",
            released ? "the reserve is released for them" : "there is no reserve left");
}

/* Full: once the disk has room again for the reserve and more, makes it and accepts every write
 * again. At most once per SES_WRITER_FULL_PROBE_MS. */
static void probe_room(struct ses_writer *w)
{
    uint64_t now = uv_hrtime();
    if (now < w->probe_not_before_ns)
        return;
    w->probe_not_before_ns = now + SES_WRITER_FULL_PROBE_MS * 1000000ull;
    if (ses_reserve_make(w->db_path) != 0)
        return;
    w->full = false;
    SES_LOG(SES_LOG_NOTICE, "writer",
            "the disk has room again: the reserve is back, every write "
            "is accepted");
}

/* A batch: everything, or only the essential jobs while the disk is full; when the disk fills
 * under it, the essential jobs it refused run again on the released reserve. */
static void write_batch(struct ses_writer *w, struct job *batch)
{
    if (w->full)
        probe_room(w);
    if (w->full) {
        (void)run_batch(w, batch, RUN_ESSENTIAL);
        return;
    }
    if (run_batch(w, batch, RUN_ALL)) {
        enter_full(w);
        (void)run_batch(w, batch, RUN_RETRY);
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
        w->writer_busy = true;
        if (w->prep_head != NULL && w->prep_head->prep_next != NULL)
            uv_cond_signal(&w->prep_cond); /* a second job to prep: share them */
        uv_mutex_unlock(&w->mu);

        write_batch(w, batch);
        note_wal(w);

        uv_mutex_lock(&w->mu);
        w->writer_busy = false;
        append(&w->done_head, &w->done_tail, batch, last);
        w->stats.jobs += n;
        w->stats.batches++;
        if (n > w->stats.max_batch)
            w->stats.max_batch = n;
        uv_mutex_unlock(&w->mu);
        uv_async_send(&w->async);
        if (ses_store_wal_pages(w->st) >= SES_WRITER_WAL_RESET_PAGES &&
            uv_hrtime() >= w->reset_not_before_ns) {
            reset_wal(w);
            /* still that large: a reader holds an old snapshot; try again later, not per batch */
            if (ses_store_wal_pages(w->st) >= SES_WRITER_WAL_RESET_PAGES)
                w->reset_not_before_ns = uv_hrtime() + SES_WRITER_RESET_RETRY_MS * 1000000ull;
        }
    }
}

static void on_async(uv_async_t *a)
{
    struct ses_writer *w = a->data;
    uv_mutex_lock(&w->mu);
    struct job *j = w->done_head;
    w->done_head = w->done_tail = NULL;
    uv_mutex_unlock(&w->mu);
    bool any = j != NULL;
    while (j) {
        struct job *next = j->next;
        if (j->done)
            j->done(j->arg, j->rc);
        free(j);
        j = next;
    }
    if (any && w->after != NULL)
        w->after(w->after_ud);
}

void ses_writer_on_delivered(struct ses_writer *w, void (*after)(void *ud), void *ud)
{
    w->after = after;
    w->after_ud = ud;
}

static void free_on_close(uv_handle_t *h)
{
    ses_writer_free(h->data);
}

/* The mutex and the five conditions; on a failure, nothing stays initialised. */
static int sync_init(struct ses_writer *w)
{
    uv_cond_t *conds[] = {&w->cond, &w->ckpt_cond, &w->idle_cond, &w->prep_cond,
                          &w->prep_done_cond};
    size_t n = 0;
    if (uv_mutex_init(&w->mu) != 0)
        return -1;
    while (n < sizeof conds / sizeof conds[0] && uv_cond_init(conds[n]) == 0)
        n++;
    if (n == sizeof conds / sizeof conds[0])
        return 0;
    while (n > 0)
        uv_cond_destroy(conds[--n]);
    uv_mutex_destroy(&w->mu);
    return -1;
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
    if (ses_reserve_make(db_path) == SES_ESTORAGE_FULL) {
        w->full = true; /* the first batch looks for room */
        SES_LOG(SES_LOG_ERR, "writer",
                "the disk is full: no room for the %u MiB reserve; logins, refusals and the "
                "server's start and stop are still recorded while there is room, every other write "
                "is refused with STORAGE_FULL until there is room again",
                SES_RESERVE_BYTES >> 20);
    }
    if (sync_init(w) != 0) {
        ses_store_close(w->st);
        free(w);
        return SES_EIO;
    }
    if (uv_async_init(loop, &w->async, on_async) != 0) {
        ses_store_close(w->st);
        ses_writer_free(w); /* destroys the mutex and the conditions */
        return SES_EIO;
    }
    w->async.data = w;
    w->ckpt_started = uv_thread_create(&w->ckpt_thread, ckpt_main, w) == 0;
    unsigned cpus = uv_available_parallelism();
    unsigned want = cpus > 1 ? cpus - 1 : 0;
    if (want > SES_WRITER_MAX_PREP_THREADS)
        want = SES_WRITER_MAX_PREP_THREADS;
    while (w->n_prep_threads < want &&
           uv_thread_create(&w->prep_threads[w->n_prep_threads], prep_main, w) == 0)
        w->n_prep_threads++; /* with fewer (none), the writer preps alone */
    if (uv_thread_create(&w->thread, writer_main, w) != 0) {
        uv_mutex_lock(&w->mu);
        w->stopping = true;
        uv_cond_signal(&w->ckpt_cond);
        uv_cond_broadcast(&w->prep_cond);
        uv_mutex_unlock(&w->mu);
        if (w->ckpt_started)
            uv_thread_join(&w->ckpt_thread);
        for (unsigned i = 0; i < w->n_prep_threads; i++)
            uv_thread_join(&w->prep_threads[i]);
        w->n_prep_threads = 0;
        ses_store_close(w->st);
        w->st = NULL;
        uv_close((uv_handle_t *)&w->async, free_on_close); /* frees w once the loop runs */
        return SES_EIO;
    }
    *out = w;
    return 0;
}

static int submit(struct ses_writer *w, ses_write_prep_fn prep, ses_write_fn run,
                  ses_write_done_fn done, void *arg, bool essential)
{
    struct job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return SES_ENOMEM;
    j->essential = essential;
    j->prep = prep;
    j->prep_state = prep ? PREP_QUEUED : PREP_NONE;
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
    if (prep) {
        if (w->prep_tail)
            w->prep_tail->prep_next = j;
        else
            w->prep_head = j;
        w->prep_tail = j;
        /* an idle writer takes the job at once and preps it itself: a prep thread would only add
         * a hand-over; a busy one leaves it to the prep threads meanwhile */
        if (w->writer_busy)
            uv_cond_signal(&w->prep_cond);
    }
    uv_mutex_unlock(&w->mu);
    return 0;
}

int ses_writer_submit_prep(struct ses_writer *w, ses_write_prep_fn prep, ses_write_fn run,
                           ses_write_done_fn done, void *arg)
{
    return submit(w, prep, run, done, arg, false);
}

int ses_writer_submit(struct ses_writer *w, ses_write_fn run, ses_write_done_fn done, void *arg)
{
    return submit(w, NULL, run, done, arg, false);
}

int ses_writer_submit_essential(struct ses_writer *w, ses_write_fn run, ses_write_done_fn done,
                                void *arg)
{
    return submit(w, NULL, run, done, arg, true);
}

void ses_writer_stop(struct ses_writer *w)
{
    if (w == NULL || uv_is_closing((uv_handle_t *)&w->async))
        return;
    uv_mutex_lock(&w->mu);
    w->stopping = true;
    uv_cond_signal(&w->cond);
    uv_cond_signal(&w->ckpt_cond);
    uv_cond_broadcast(&w->prep_cond);
    uv_mutex_unlock(&w->mu);
    /* a prep thread finishes the prep() it runs, then stops; the writer preps what is left */
    for (unsigned i = 0; i < w->n_prep_threads; i++)
        uv_thread_join(&w->prep_threads[i]);
    w->n_prep_threads = 0;
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
    uv_cond_destroy(&w->prep_cond);
    uv_cond_destroy(&w->prep_done_cond);
    free(w);
}

void ses_writer_get_stats(const struct ses_writer *w, struct ses_writer_stats *out)
{
    uv_mutex_lock((uv_mutex_t *)&w->mu);
    *out = w->stats;
    uv_mutex_unlock((uv_mutex_t *)&w->mu);
}
