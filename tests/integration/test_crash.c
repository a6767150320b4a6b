/*
 * test_crash.c - integration: SIGKILL of the real sesamed at random moments under a steady load
 * from several clients, restarted each time on the same port, and what the clients were told
 * checked against what the daemon kept.
 *
 * The load, each its own process running the real CLI in a loop for the whole campaign:
 *  - three senders (a nurse, the psychiatrist and a GP: sender_who) each sending numbered
 *    messages "<crash cK mN>" into a caseload thread, writing "N STATUS" per send to a file;
 *  - one alert loop: a nurse raises an A17 on one of ALERT_THREADS threads, the thread's GP
 *    acknowledges and resolves it, each step's outcome written to a file; a thread whose cycle
 *    failed after something may have been stored is not used again (a raise there would be a
 *    repeat of the open alert).
 * After each restart an auditor runs `audit verify` (which also checks the new tree against the
 * checkpoint it pinned before the kill). At the end the daemon starts with its clock 4 days on:
 * every A17 still raised is past its 3-day window and escalates now.
 *
 * What must hold: every send the CLI acknowledged (exit 0) is in its thread exactly once, every
 * other at most once, nothing else is; every acknowledged alert step happened exactly once, none
 * twice; every alert still raised escalated exactly once, no acknowledged one did; `audit verify`
 * passes after every restart and at the end.
 *
 * SESAME_CRASH_KILLS (default CRASH_KILLS) sets the number of kills (tests/long/ runs more);
 * SESAME_CRASH_SEED the random moments (printed, to replay a failure).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define CRASH_KILLS 20
#define UP_MIN_MS 300 /* a kill lands this long after the daemon is ready, at the earliest */
#define UP_MAX_MS 1500
#define ALERT_THREADS 40
#define LATER_S (4 * 86400) /* the final start: every A17 deadline (3 days) has passed */
#define N_SENDERS 3
#define MAX_SENDS 200000

enum { NURSE1, NURSE2, PSY, GP1, GP2, AUDITOR, N_WHO };
static const char *const who_role[N_WHO] = {"nurse", "nurse", "psychiatrist",
                                            "gp",    "gp",    "auditor"};
static const char *const who_name[N_WHO] = {"Nina Nurse", "Nora Nurse", "Paul Psy",
                                            "Gina GP",    "Gus GP",     "Ada Auditor"};

struct world {
    struct h_env *e;
    char *home[N_WHO];
    char user[N_WHO][40];
    char *t1, *t2; /* the senders' threads */
    char *alert_thread[ALERT_THREADS];
    char *stop; /* the loops stop when this file exists */
    pid_t pid[N_SENDERS + 1];
    char *res[N_SENDERS + 1];
    char listen[32];
};

/* The senders: who sends into which thread (index into t1/t2). */
static const int sender_who[N_SENDERS] = {NURSE1, PSY, GP1};
static const int sender_thread[N_SENDERS] = {1, 1, 2};

/* --- the load, in child processes (no cmocka there) --------------------------------------------
 */

/* Runs the CLI as home; returns its exit status (-1: not started or timed out); *connect_failed
 * when nothing reached the daemon (it could not connect at all). */
static int cli(const char *home, bool *connect_failed, char *out, size_t out_cap,
               const char *const args[])
{
    const char *argv[16] = {SESAME_BIN, "--home", home, "--json", "--timeout", "3000"};
    int n = 6;
    for (int i = 0; args[i] != NULL && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct h_proc p;
    if (h_run(argv, NULL, NULL, 20000, &p) != 0)
        return -1;
    int st = p.timed_out ? -1 : p.status;
    if (connect_failed != NULL)
        *connect_failed = st != 0 && strstr(p.err, "cannot connect") != NULL;
    if (out != NULL)
        snprintf(out, out_cap, "%s", p.out);
    h_proc_free(&p);
    return st;
}

static void sender_main(struct world *w, int k)
{
    FILE *f = fopen(w->res[k], "w");
    if (f == NULL)
        _exit(1);
    setvbuf(f, NULL, _IOLBF, 0);
    const char *thread = sender_thread[k] == 1 ? w->t1 : w->t2;
    for (int n = 1; n <= MAX_SENDS && access(w->stop, F_OK) != 0; n++) {
        char text[64];
        snprintf(text, sizeof text, "<crash c%d m%d>", k, n);
        const char *args[] = {"send", thread, text, NULL};
        int st = cli(w->home[sender_who[k]], NULL, NULL, 0, args);
        fprintf(f, "%d %d\n", n, st);
        if (st != 0)
            usleep(50000);
    }
    fclose(f);
    _exit(0);
}

/* One line per step: "THREAD_INDEX STEP STATUS ALERT_ID" (STEP raise, ack, resolve; ALERT_ID "-"
 * when the raise was not acknowledged). */
static void alert_main(struct world *w)
{
    FILE *f = fopen(w->res[N_SENDERS], "w");
    if (f == NULL)
        _exit(1);
    setvbuf(f, NULL, _IOLBF, 0);
    bool dirty[ALERT_THREADS] = {false};
    int t = 0;
    while (access(w->stop, F_OK) != 0) {
        int tries = 0;
        while (dirty[t] && tries++ < ALERT_THREADS)
            t = (t + 1) % ALERT_THREADS;
        if (dirty[t]) {
            usleep(100000); /* every thread used up: nothing more to raise */
            continue;
        }
        char out[8192], id[40] = "-";
        bool no_conn = false;
        const char *raise[] = {"alert", "raise", w->alert_thread[t], "--type", "A17", NULL};
        int st = cli(w->home[NURSE2], &no_conn, out, sizeof out, raise);
        if (st == 0) {
            json_t *j = json_loads(out, 0, NULL);
            const char *s =
                json_string_value(json_object_get(json_object_get(j, "alert"), "alert"));
            snprintf(id, sizeof id, "%s", s ? s : "?");
            json_decref(j);
        }
        fprintf(f, "%d raise %d %s\n", t, st, id);
        if (st != 0) {
            dirty[t] = !no_conn;
            usleep(50000);
            continue;
        }
        const char *ack[] = {"alert", "ack", id, NULL};
        st = cli(w->home[GP2], NULL, NULL, 0, ack);
        fprintf(f, "%d ack %d %s\n", t, st, id);
        if (st != 0) {
            dirty[t] = true;
            continue;
        }
        const char *resolve[] = {"alert", "resolve", id, "--code", "ADDRESSED", NULL};
        st = cli(w->home[GP2], NULL, NULL, 0, resolve);
        fprintf(f, "%d resolve %d %s\n", t, st, id);
        dirty[t] = st != 0;
        t = (t + 1) % ALERT_THREADS;
    }
    fclose(f);
    _exit(0);
}

static void start_loops(struct world *w)
{
    for (int k = 0; k <= N_SENDERS; k++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test leaves no load running */
            if (k < N_SENDERS)
                sender_main(w, k);
            alert_main(w);
        }
        w->pid[k] = pid;
    }
}

static void stop_loops(struct world *w)
{
    assert_int_equal(h_write_file(w->stop, "", 0, false), 0);
    for (int k = 0; k <= N_SENDERS; k++) {
        uint64_t until = h_mono_ms() + 30000;
        int st = 0;
        pid_t r;
        while ((r = waitpid(w->pid[k], &st, WNOHANG)) == 0 && h_mono_ms() < until)
            h_sleep_ms(20);
        if (r == 0) {
            kill(w->pid[k], SIGKILL);
            waitpid(w->pid[k], &st, 0);
            fail_msg("load process %d did not stop", k);
        }
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        w->pid[k] = 0;
    }
}

/* --- the world --------------------------------------------------------------------------------
 */

static char *thread_ok(struct world *w, int who, const char *patient, const int *members, int n)
{
    const char *argv[12] = {"thread", "create", "--patient", patient, "--title", patient};
    int a = 6;
    for (int i = 0; i < n; i++) {
        argv[a++] = "--member";
        argv[a++] = w->user[members[i]];
    }
    while (a < 12)
        argv[a++] = NULL;
    struct h_cli r;
    h_cli_run(&r, w->home[who], NULL, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6],
              argv[7], argv[8], argv[9], argv[10], argv[11], NULL);
    h_cli_assert_ok(&r);
    char *id = strdup(h_jstr(r.json, "thread"));
    h_cli_free(&r);
    return id;
}

static void world_make(struct world *w, struct h_env *e)
{
    memset(w, 0, sizeof *w);
    w->e = e;
    h_env_start(e, H_ENV_TEST_HOOKS);
    snprintf(w->listen, sizeof w->listen, "127.0.0.1:%d", e->d.port);
    for (int i = 0; i < N_WHO; i++) {
        char tag[16];
        snprintf(tag, sizeof tag, "who%d", i);
        w->home[i] =
            h_add_user_ok(e, tag, who_role[i], who_name[i],
                          strcmp(who_role[i], "nurse") == 0 ? "site-a" : NULL, w->user[i], NULL);
    }
    const int m1[] = {PSY, GP1}, ma[] = {PSY, GP2};
    w->t1 = thread_ok(w, NURSE1, "P-CRASH1", m1, 2);
    w->t2 = thread_ok(w, NURSE2, "P-CRASH2", m1, 2);
    for (int i = 0; i < ALERT_THREADS; i++) {
        char patient[16];
        snprintf(patient, sizeof patient, "P-ALRT%02d", i);
        w->alert_thread[i] = thread_ok(w, NURSE2, patient, ma, 2);
    }
    w->stop = h_path(e->tmp, "stop");
    for (int k = 0; k <= N_SENDERS; k++)
        w->res[k] = h_fmt("%s/load%d.txt", e->tmp, k);
}

static void world_free(struct world *w)
{
    for (int i = 0; i < N_WHO; i++)
        free(w->home[i]);
    for (int i = 0; i < ALERT_THREADS; i++)
        free(w->alert_thread[i]);
    for (int k = 0; k <= N_SENDERS; k++) {
        if (w->pid[k] > 0) {
            kill(w->pid[k], SIGKILL);
            waitpid(w->pid[k], NULL, 0);
        }
        free(w->res[k]);
    }
    free(w->t1);
    free(w->t2);
    free(w->stop);
}

static void verify_ok(struct world *w, const char *const env[])
{
    struct h_cli r;
    h_cli_run(&r, w->home[AUDITOR], env, "audit", "verify", NULL);
    if (r.p.status != 0 || !json_is_true(json_object_get(r.json, "ok")))
        fail_msg("audit verify after a restart: exit %d, [%s] [%s]", r.p.status, r.p.out, r.p.err);
    h_cli_free(&r);
}

/* --- the checks -------------------------------------------------------------------------------
 */

struct tally {
    long acked, unacked, lost, duplicated, stray;
};

/* Every "<crash cK mN>" in text counted into seen[N] (n_max entries); *stray for a number that
 * was never sent. */
static void count_tokens(const char *text, int k, int *seen, int n_max, long *stray)
{
    char prefix[32];
    int len = snprintf(prefix, sizeof prefix, "<crash c%d m", k);
    for (const char *p = text; (p = strstr(p, prefix)) != NULL; p += len) {
        int n = atoi(p + len);
        if (n >= 1 && n <= n_max)
            seen[n]++;
        else
            (*stray)++;
    }
}

static void check_sender(struct world *w, int k, const char *shown, struct tally *t)
{
    size_t len = 0;
    char *res = h_read_file(w->res[k], &len);
    assert_non_null(res);
    int *status = calloc(MAX_SENDS + 1, sizeof *status),
        *seen = calloc(MAX_SENDS + 1, sizeof *seen);
    assert_true(status != NULL && seen != NULL);
    int n_max = 0, n, st;
    for (const char *p = res; sscanf(p, "%d %d", &n, &st) == 2; p = strchr(p, '\n') + 1) {
        assert_true(n == n_max + 1 && n <= MAX_SENDS);
        status[n] = st;
        n_max = n;
        if (strchr(p, '\n') == NULL)
            break;
    }
    count_tokens(shown, k, seen, n_max, &t->stray);
    for (n = 1; n <= n_max; n++) {
        if (status[n] == 0) {
            t->acked++;
            t->lost += seen[n] == 0;
        } else {
            t->unacked++;
        }
        t->duplicated += seen[n] > 1;
        if ((status[n] == 0 && seen[n] != 1) || seen[n] > 1)
            print_error("sender %d message %d: acknowledged %s, in the thread %d times\n", k, n,
                        status[n] == 0 ? "yes" : "no", seen[n]);
    }
    free(status);
    free(seen);
    free(res);
}

static int64_t events(const struct h_env *e, const char *id_hex, const char *ev)
{
    return h_db_int(e->db,
                    "SELECT COUNT(*) FROM alert_events WHERE alert_id = X'%s' AND event = '%s'",
                    id_hex, ev);
}

struct alert_tally {
    long steps_acked, steps_unacked, wrong, escalated;
};

static void check_alerts(struct world *w, struct alert_tally *t)
{
    const struct h_env *e = w->e;
    size_t len = 0;
    char *res = h_read_file(w->res[N_SENDERS], &len);
    assert_non_null(res);
    char *save = NULL;
    for (char *line = strtok_r(res, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        int ti, st;
        char step[16], id[40], hex[33];
        assert_int_equal(sscanf(line, "%d %15s %d %39s", &ti, step, &st, id), 4);
        if (st != 0) {
            t->steps_unacked++;
            continue;
        }
        t->steps_acked++;
        h_id_hex(hex, id);
        const char *ev = strcmp(step, "raise") == 0 ? "raised"
                         : strcmp(step, "ack") == 0 ? "acked"
                                                    : "resolved";
        if (events(e, hex, ev) != 1) {
            print_error("alert %s: %s acknowledged, %lld '%s' events\n", id, step,
                        (long long)events(e, hex, ev), ev);
            t->wrong++;
        }
    }
    free(res);
    /* whatever the clients were told: no step twice on any alert */
    t->wrong += h_db_int(e->db, "SELECT COUNT(*) FROM (SELECT alert_id, event FROM alert_events "
                                "WHERE event IN ('raised', 'acked', 'resolved') GROUP BY "
                                "alert_id, event HAVING COUNT(*) > 1)");
    /* no deadline lost: each alert still raised escalated exactly once, no other did */
    t->wrong += h_db_int(e->db, "SELECT COUNT(*) FROM alerts a WHERE (SELECT COUNT(*) FROM "
                                "alert_events v WHERE v.alert_id = a.id AND v.event = "
                                "'escalated') != (a.state = 'raised')");
    t->escalated = h_db_int(e->db, "SELECT COUNT(*) FROM alert_events WHERE event = 'escalated'");
    assert_int_equal(h_audit_count(e->db, "alert.escalate", "ok"), t->escalated);
}

static char *show_text(struct world *w, const char *thread, const char *const env[])
{
    struct h_cli r;
    h_cli_run_text(&r, w->home[PSY], env, "thread", "show", thread, NULL);
    if (r.p.status != 0)
        fail_msg("thread show: exit %d [%s]", r.p.status, r.p.err);
    char *out = strdup(r.p.out);
    h_cli_free(&r);
    return out;
}

static void test_crash(void **state)
{
    struct h_env *e = *state;
    struct world w;
    world_make(&w, e);
    const char *kills_env = getenv("SESAME_CRASH_KILLS");
    int kills = kills_env ? atoi(kills_env) : CRASH_KILLS;
    unsigned seed = getenv("SESAME_CRASH_SEED") ? (unsigned)atoi(getenv("SESAME_CRASH_SEED"))
                                                : (unsigned)h_wall_ms();
    print_message("crash: %d kills, seed %u\n", kills, seed);
    srand(seed);
    const char *hooks[] = {"--test-hooks", NULL};
    char *vkey = h_log_key_ok(e->data);
    struct h_cli r;
    h_cli_run(&r, w.home[AUDITOR], NULL, "audit", "verify", "--log-key", vkey, NULL);
    h_cli_assert_ok(&r); /* the auditor pins the key and the first checkpoint */
    h_cli_free(&r);
    free(vkey);
    start_loops(&w);
    uint64_t t0 = h_mono_ms();
    for (int i = 0; i < kills; i++) {
        h_sleep_ms(UP_MIN_MS + rand() % (UP_MAX_MS - UP_MIN_MS));
        h_daemon_kill(&e->d);
        h_daemon_start_ok(&e->d, e->data, e->log, w.listen, hooks);
        verify_ok(&w, NULL);
    }
    h_sleep_ms(UP_MIN_MS);
    stop_loops(&w);
    uint64_t campaign_ms = h_mono_ms() - t0;

    /* the last start, 4 days on: the deadlines that passed meanwhile fire */
    assert_int_equal(h_daemon_stop(&e->d), 0);
    char later[32], off[64];
    snprintf(later, sizeof later, "%d", LATER_S);
    const char *late_args[] = {"--test-hooks", "--test-clock-offset", later, NULL};
    h_daemon_start_ok(&e->d, e->data, e->log, w.listen, late_args);
    snprintf(off, sizeof off, "SESAME_TEST_CLOCK_OFFSET_MS=%lld", (long long)LATER_S * 1000);
    const char *const env[] = {off, NULL};
    int64_t still_raised = h_db_int(e->db, "SELECT COUNT(*) FROM alerts WHERE state = 'raised'");
    uint64_t until = h_mono_ms() + 10000;
    while (h_db_int(e->db, "SELECT COUNT(*) FROM alert_events WHERE event = 'escalated'") <
               still_raised &&
           h_mono_ms() < until)
        h_sleep_ms(50);
    h_sleep_ms(200); /* a second escalation of one alert would show now */
    verify_ok(&w, env);

    struct tally t = {0};
    char *shown1 = show_text(&w, w.t1, env), *shown2 = show_text(&w, w.t2, env);
    for (int k = 0; k < N_SENDERS; k++)
        check_sender(&w, k, sender_thread[k] == 1 ? shown1 : shown2, &t);
    free(shown1);
    free(shown2);
    struct alert_tally a = {0};
    check_alerts(&w, &a);
    print_message("crash: %d kills in %.1f s; messages: %ld acknowledged, %ld not (daemon down or "
                  "killed mid-request), %ld lost, %ld duplicated, %ld stray; alert steps: %ld "
                  "acknowledged, %ld not, %ld wrong; %lld alerts left raised, %ld escalated once "
                  "each at the deadline\n",
                  kills, (double)campaign_ms / 1000.0, t.acked, t.unacked, t.lost, t.duplicated,
                  t.stray, a.steps_acked, a.steps_unacked, a.wrong, (long long)still_raised,
                  a.escalated);
    assert_int_equal(t.lost, 0);
    assert_int_equal(t.duplicated, 0);
    assert_int_equal(t.stray, 0);
    assert_int_equal(a.wrong, 0);
    assert_int_equal(a.escalated, still_raised);
    assert_true(t.acked >= kills); /* the load really ran between the kills */
    assert_true(a.steps_acked >= 3);
    world_free(&w);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crash, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.crash", tests, NULL, NULL);
}
