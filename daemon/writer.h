/*
 * writer.h - the one writer: a thread that owns a SQLite connection and commits many changes per
 * transaction (group commit), so the event loop never waits for fsync; beside it a checkpointer
 * thread copies the WAL back into the database so that no commit waits for that either.
 *
 * A job is a pair of callbacks: run() executes on the writer thread inside the batch's
 * transaction, within its own savepoint (a job that fails is rolled back alone); done() executes
 * later on the loop thread, after the batch committed (or failed), with the job's result. A
 * client is told "stored" only from done(), i.e. after the commit. Jobs run in submission order.
 *
 * When the disk fills, the writer releases its reserve (reserve.h) and runs only the essential
 * jobs until there is room again; the others end with SES_ESTORAGE_FULL without running.
 *
 * A job may also have a prep() callback: CPU work that needs no database (an envelope's
 * signature check), run before run() either by a prep thread or by the writer itself, whichever
 * comes first. Prep threads work ahead on queued jobs while the writer runs or commits a batch,
 * so that on a machine with more than one core the writer's own work is only the SQL.
 */
#ifndef SESAME_WRITER_H
#define SESAME_WRITER_H

#include <stdint.h>

#include <uv.h>

#include "store.h"

#define SES_WRITER_MAX_BATCH 1024 /* jobs per transaction */
/* The checkpointer copies the WAL back past this many frames. Small on purpose: a checkpoint ends
 * with an fsync of the database, and the commits' fdatasync of the WAL waits behind its writes;
 * 1000 frames (up to 4 MB) every ~0.14 s at 500 msgs/s put p99 at 2.8-3.4 ms, 256 at 1.9-2.2 ms
 * (tests/bench/bench_msg.sh). */
#define SES_WRITER_CKPT_PAGES 256
#define SES_WRITER_CACHE_MIB 64 /* the writer connection's page cache */
/* Past this many WAL frames the writer, between two batches, finishes the checkpoint itself: with
 * nothing appended meanwhile it reaches the end of the WAL, and the next commit writes the WAL
 * from its start again instead of growing the file without end under steady load. */
#define SES_WRITER_WAL_RESET_PAGES 8192
/* A reset that a reader's old snapshot stopped (it never waits for one) is tried again after: */
#define SES_WRITER_RESET_RETRY_MS 1000
/* While the disk is full the writer looks this often whether there is room again (reserve.h): */
#define SES_WRITER_FULL_PROBE_MS 1000
/* Prep threads: one per CPU beyond the first (the loop and the writer need the rest), at most: */
#define SES_WRITER_MAX_PREP_THREADS 3

struct ses_writer;

/* Runs on the writer thread. Returns 0 or an SES_E* code (the job's changes are then undone). */
typedef int (*ses_write_fn)(struct ses_store *st, void *arg);
/* Runs on the loop thread after the commit: rc is run()'s result, or SES_EIO (SES_ESTORAGE_FULL:
 * the disk is full) when the batch's
 * commit failed (nothing of it was stored). Owns arg from then on. */
typedef void (*ses_write_done_fn)(void *arg, int rc);
/* Runs on a prep thread or the writer thread, before run(), with no database: it may read arg
 * and write only to it (its result travels in arg to run()). Never after the job's run(). */
typedef void (*ses_write_prep_fn)(void *arg);

struct ses_writer_stats {
    uint64_t jobs;    /* jobs completed */
    uint64_t batches; /* transactions committed or failed */
    uint64_t max_batch;
    uint64_t preps_ahead; /* prep() calls a prep thread made (the rest: the writer's) */
};

/* Opens db_path on a new thread and starts it. The async handle lives on loop. */
int ses_writer_start(uv_loop_t *loop, const char *db_path, struct ses_writer **out);

/* Queues a job. Returns 0, SES_ENOMEM, or SES_ECLOSED once stopping. Thread: loop only. */
int ses_writer_submit(struct ses_writer *w, ses_write_fn run, ses_write_done_fn done, void *arg);
/* The same, with prep(arg) run before run(arg) (see above). */
int ses_writer_submit_prep(struct ses_writer *w, ses_write_prep_fn prep, ses_write_fn run,
                           ses_write_done_fn done, void *arg);

/* The same for a job that must be written even when the disk is full (the audit record of a
 * login, an enrolment attempt, a refusal, an audit read, a delivery or read mark, the server's
 * start, a checkpoint): while other writes
 * are refused with SES_ESTORAGE_FULL, these go on into the room of the released reserve
 * (reserve.h), and one refused at the moment the disk filled runs again on it. */
int ses_writer_submit_essential(struct ses_writer *w, ses_write_fn run, ses_write_done_fn done,
                                void *arg);

/* Loop thread: after(ud) runs once after each delivery of done() calls (at least one job), e.g.
 * to look whether the audit log grew enough for a checkpoint. */
void ses_writer_on_delivered(struct ses_writer *w, void (*after)(void *ud), void *ud);

/* Runs every queued job, joins the thread, delivers the last done() calls and closes the async
 * handle; run the loop afterwards until it is dry, then ses_writer_free(). */
void ses_writer_stop(struct ses_writer *w);
void ses_writer_free(struct ses_writer *w);

void ses_writer_get_stats(const struct ses_writer *w, struct ses_writer_stats *out);

#endif
