/*
 * test_cli_review.c - integration: episodes and the weekly case review through the real `sesame`
 * CLI against the real sesamed with its clock moved by the test hook (PROTOCOL.md §15,
 * clients/cli/README.md "Case review"). Every command runs as a subprocess.
 *
 * The team: a nurse (Anne), a GP (Claire), a psychiatrist (Hugo), all members of four patients'
 * threads, and a program lead (Paul, a psychiatrist outside them). The patients: P-SAFE (new, a
 * positive item 9), P-NEW (new), P-NI (reviewed 10 weeks ago, not improving: A06), P-AGE
 * (reviewed 9 weeks ago).
 *
 *  - agenda: the next session's live agenda puts the safety follow-up first, the new patients
 *    before day 28, the not-improving patient before the aging one, with their reasons, due dates
 *    and slots (a new patient takes two); a team request (`queue add`) moves the aging patient up
 *    to T4; a nurse sees where her patients stand (`queue list`). Refusals: a nurse adding a
 *    session, a GP recording an outcome: DENIED.
 *  - held: once the session has started its agenda is frozen; an outcome takes a case off the
 *    queue and clears its A06 (recorded on the session's row), the minutes list who attended and
 *    the cases discussed.
 *  - overflow: a one-slot session with a safety follow-up that needs two slots leaves it out: once
 *    held, A20 goes to the program lead and the case has one deferral.
 *  - closed: a closed episode leaves the queue, refuses a request (BAD_STATE) and raises no time
 *    rule any more (no A09 after 61 days).
 *  - no_clinical_text: the nurse's case summary, sent in the thread, is nowhere in the server's
 *    database files.
 *  - caseload: `sesame caseload --json` computes each patient's row on the device: the safety
 *    case first, then the patient not improving after 12 weeks on the plan (18 -> 15, -16 %),
 *    then the one with no contact since enrolment, then the rest; --sort name and --nurse;
 *    --indicators (engagement, caseload size, the recommendation loop with none sent).
 *  - limits: each bound at its edge through the client library (a session of 600 minutes but not
 *    601, weekdays 1..7, times 00:00..23:59, a start after now, a listing of 366 days but not
 *    367, minutes with 16 attendees but not 17, a next review within a year), and the refusals
 *    change nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wire.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/scales.h"

enum { ADMIN, NURSE, GP, PSY, LEAD, N_WHO };
enum { P_SAFE, P_NEW, P_NI, P_AGE, N_PAT };

static const char *const who_home[N_WHO] = {"admin", "nurse", "gp", "psy", "lead"};
static const char *const who_name[N_WHO] = {NULL, "Anne Martin", "Claire Petit", "Hugo Roux",
                                            "Paul Lead"};
static const char *const who_role[N_WHO] = {"admin", "nurse", "gp", "psychiatrist", "psychiatrist"};
static const char *const patient[N_PAT] = {"P-SAFE", "P-NEW", "P-NI", "P-AGE"};

#define DAY_MS 86400000LL
#define SUMMARY "Case summary for the review: sleeping better, PHQ-9 went from 18 to 16"

struct world {
    struct h_env *e;
    char *home[N_WHO];
    char user[N_WHO][40];
    char thread[N_PAT][40];
    int64_t offset_ms;
    char env_buf[64];
    const char *env[2];
};

#define RUN(r, w, who, ...) h_cli_run((r), (w)->home[(who)], (w)->env, __VA_ARGS__, NULL)

/* The timer's pass after the clock moved runs on its own: waits (up to 5 s) until the query
 * counts want. */
static void wait_count(const struct world *w, int64_t want, const char *sql)
{
    int64_t n = -1;
    for (int i = 0; i < 100 && n != want; i++) {
        if ((n = h_db_int(w->e->db, "%s", sql)) != want)
            h_sleep_ms(50);
    }
    assert_int_equal(n, want);
}

static void advance(struct world *w, int64_t ms)
{
    w_clock_advance(w->e, w->home[ADMIN], w->offset_ms, ms);
    w->offset_ms += ms;
    w_clock_env(w->env_buf, w->env, w->offset_ms);
}

/* Today (UTC, by the moved clock) + off days as "YYYY-MM-DD". */
static const char *day_str(const struct world *w, char out[11], int off)
{
    ses_day_format((int32_t)((h_wall_ms() + w->offset_ms) / DAY_MS) + off, out);
    return out;
}

/* RUN, asserting exit 0 and a JSON reply; *out (when out is not NULL) gets the reply. */
#define RUN_OK(w, who, out, ...)                                                                   \
    do {                                                                                           \
        struct h_cli r_;                                                                           \
        RUN(&r_, w, who, __VA_ARGS__);                                                             \
        h_cli_assert_ok(&r_);                                                                      \
        json_t **out_ = (out);                                                                     \
        if (out_ != NULL)                                                                          \
            *out_ = json_incref(r_.json);                                                          \
        h_cli_free(&r_);                                                                           \
    } while (0)

static void world_start(struct world *w, struct h_env *e)
{
    memset(w, 0, sizeof *w);
    w->e = e;
    h_env_start(e, H_ENV_TEST_HOOKS);
    w->home[ADMIN] = strdup(e->admin_home);
    snprintf(w->user[ADMIN], sizeof w->user[ADMIN], "%s", e->admin_user);
    for (int i = NURSE; i < N_WHO; i++)
        w->home[i] = h_add_user_ok(e, who_home[i], who_role[i], who_name[i],
                                   i == NURSE ? "Cabinet Voltaire" : NULL, w->user[i], NULL);
    RUN_OK(w, ADMIN, NULL, "admin", "oncall", "set", "--program-lead", w->user[LEAD]);
}

static void world_free(struct world *w)
{
    for (int i = 0; i < N_WHO; i++)
        free(w->home[i]);
    memset(w, 0, sizeof *w);
}

/* Creates the four patients' threads (nurse, GP, psychiatrist) and their histories. */
static void world_patients(struct world *w)
{
    char d[11];
    for (int p = 0; p < N_PAT; p++) {
        struct h_cli r;
        RUN(&r, w, NURSE, "thread", "create", "--patient", patient[p], "--title", "Episode 1",
            "--member", w->user[GP], "--member", w->user[PSY]);
        h_cli_assert_ok(&r);
        snprintf(w->thread[p], sizeof w->thread[p], "%s", h_jstr(r.json, "thread"));
        h_cli_free(&r);
    }
    /* P-SAFE: a positive item 9 today */
    RUN_OK(w, NURSE, NULL, "scale", "record", w->thread[P_SAFE], "--phq9", "1,1,1,1,1,1,1,1,1",
           "--date", day_str(w, d, 0));
    /* P-NI and P-AGE: enrolled 12 weeks ago, reviewed 10 and 9 weeks ago */
    RUN_OK(w, NURSE, NULL, "thread", "meta", w->thread[P_NI], "--enrolled", day_str(w, d, -84));
    RUN_OK(w, NURSE, NULL, "thread", "meta", w->thread[P_AGE], "--enrolled", day_str(w, d, -84));
    RUN_OK(w, PSY, NULL, "thread", "meta", w->thread[P_NI], "--review-date", day_str(w, d, -70));
    RUN_OK(w, PSY, NULL, "thread", "meta", w->thread[P_AGE], "--review-date", day_str(w, d, -63));
    RUN_OK(w, NURSE, NULL, "alert", "raise", w->thread[P_NI], "--type", "A06");
}

/* `session add --date today+off --time 10:00 --minutes K` by the psychiatrist: the session id. */
static void add_session(struct world *w, int off, const char *minutes, char out[40])
{
    char d[11];
    json_t *j = NULL;
    RUN_OK(w, PSY, &j, "session", "add", "--date", day_str(w, d, off), "--time", "10:00",
           "--minutes", minutes);
    const json_t *s = json_object_get(j, "session");
    snprintf(out, 40, "%s", h_jstr(s, "session"));
    assert_string_equal(h_jstr(s, "state"), "planned");
    assert_int_equal(h_jint(s, "slots"), atoi(minutes) / 8);
    json_decref(j);
}

static json_t *agenda(struct world *w, const char *session)
{
    json_t *j = NULL;
    RUN_OK(w, PSY, &j, "queue", "agenda", "--session", session);
    return j;
}

/* Asserts the agenda's rows: patients in order, tiers ("T1 T2 T3 T6"), and reason codes of row
 * k as "code,code" in want_reasons[k]. */
static void expect_rows(const struct world *w, const json_t *ag, const int *order, size_t n,
                        const char *tiers, const char *const *want_reasons)
{
    const json_t *rows = json_object_get(ag, "rows");
    char got[64] = "";
    assert_int_equal(json_array_size(rows), n);
    for (size_t i = 0; i < n; i++) {
        const json_t *row = json_array_get(rows, i);
        assert_string_equal(h_jstr(row, "thread"), w->thread[order[i]]);
        assert_string_equal(h_jstr(row, "patient"), patient[order[i]]);
        assert_int_equal(h_jint(row, "position"), (int64_t)i + 1);
        strcat(got, i ? " " : "");
        strcat(got, h_jstr(row, "tier"));
        char codes[128] = "";
        size_t k;
        const json_t *rs;
        json_array_foreach(json_object_get(row, "reasons"), k, rs)
        {
            strcat(codes, k ? "," : "");
            strcat(codes, h_jstr(rs, "code"));
        }
        assert_string_equal(codes, want_reasons[i]);
    }
    assert_string_equal(got, tiers);
}

static void test_agenda(void **state)
{
    struct world w;
    world_start(&w, *state);
    world_patients(&w);
    char s1[40];
    add_session(&w, 1, "60", s1);
    json_t *ag = agenda(&w, s1);
    const int order[] = {P_SAFE, P_NEW, P_NI, P_AGE};
    const char *const reasons[] = {"safety,new_patient", "new_patient", "not_improving,aging",
                                   "aging"};
    expect_rows(&w, ag, order, 4, "T1 T2 T3 T6", reasons);
    assert_false(json_is_true(json_object_get(ag, "frozen")));
    assert_int_equal(h_jint(ag, "slots"), 7);
    assert_int_equal(h_jint(ag, "used"), 6); /* two new patients take two slots each */
    const json_t *rows = json_object_get(ag, "rows");
    assert_int_equal(h_jint(json_array_get(rows, 0), "units"), 2);
    /* a new patient is due by enrolment + 28 days */
    const json_t *nr = json_array_get(json_object_get(json_array_get(rows, 1), "reasons"), 0);
    int64_t created = h_db_int(w.e->db, "SELECT created_ms FROM threads WHERE patient_ref = "
                                        "'P-NEW'");
    assert_int_equal(h_jint(nr, "due"), created + 28 * DAY_MS);
    json_decref(ag);

    /* a team request moves the aging patient up to T4 */
    json_t *j = NULL;
    RUN_OK(&w, NURSE, &j, "queue", "add", w.thread[P_AGE], "--reason", "MEDICATION");
    assert_string_equal(h_jstr(j, "reason"), "MEDICATION");
    json_decref(j);
    ag = agenda(&w, s1);
    const char *const reasons2[] = {"safety,new_patient", "new_patient", "not_improving,aging",
                                    "request,aging"};
    expect_rows(&w, ag, order, 4, "T1 T2 T3 T4", reasons2);
    json_decref(ag);
    assert_int_equal(h_audit_count(w.e->db, "review.request", "ok"), 1);

    /* the nurse sees where her patients stand */
    RUN_OK(&w, NURSE, &j, "queue", "list");
    const json_t *entries = json_object_get(j, "entries");
    assert_int_equal(json_array_size(entries), 4);
    size_t i;
    const json_t *en;
    json_array_foreach(entries, i, en)
    {
        assert_string_equal(h_jstr(json_object_get(en, "session"), "session"), s1);
        assert_true(json_is_true(json_object_get(en, "in")));
        if (strcmp(h_jstr(en, "patient"), "P-NI") == 0)
            assert_int_equal(h_jint(en, "position"), 3);
    }
    json_decref(j);

    /* refusals */
    struct h_cli r;
    char d[11];
    RUN(&r, &w, NURSE, "session", "add", "--date", day_str(&w, d, 2), "--time", "10:00",
        "--minutes", "60");
    h_cli_assert_error(&r, 1, "DENIED");
    h_cli_free(&r);
    RUN(&r, &w, GP, "queue", "outcome", w.thread[P_NI], "--outcome", "CONTINUE", "--next-review",
        day_str(&w, d, 28));
    h_cli_assert_error(&r, 1, "DENIED");
    h_cli_free(&r);
    RUN(&r, &w, PSY, "queue", "outcome", w.thread[P_NI], "--outcome", "CONTINUE");
    h_cli_assert_error(&r, 1, "MISSING_FIELD"); /* every outcome but a discharge sets the date */
    h_cli_free(&r);
    world_free(&w);
}

/* The open alerts of type in thread who sees. */
static size_t open_of_type(struct world *w, int who, const char *thread, const char *type)
{
    json_t *j = NULL;
    RUN_OK(w, who, &j, "alert", "list", "--open", "--thread", thread);
    size_t i, n = 0;
    const json_t *a;
    json_array_foreach(json_object_get(j, "alerts"), i, a) n +=
        strcmp(h_jstr(a, "type"), type) == 0;
    json_decref(j);
    return n;
}

static void test_held(void **state)
{
    struct world w;
    world_start(&w, *state);
    world_patients(&w);
    char s1[40], d[11];
    add_session(&w, 1, "60", s1);
    advance(&w, 2 * DAY_MS); /* the session has started: held */
    wait_count(&w, 1, "SELECT count(*) FROM review_sessions WHERE state = 'held'");
    json_t *ag = agenda(&w, s1);
    assert_true(json_is_true(json_object_get(ag, "frozen")));
    assert_string_equal(h_jstr(json_object_get(ag, "session"), "state"), "held");
    const int order[] = {P_SAFE, P_NEW, P_NI, P_AGE};
    const char *const reasons[] = {"safety,new_patient", "new_patient", "not_improving,aging",
                                   "aging"};
    expect_rows(&w, ag, order, 4, "T1 T2 T3 T6", reasons);
    json_decref(ag);
    assert_int_equal(open_of_type(&w, NURSE, w.thread[P_NI], "A06"), 1);

    /* the outcome: reviewed, off the queue, A06 cleared, recorded on the session's row */
    json_t *j = NULL;
    RUN_OK(&w, PSY, &j, "queue", "outcome", w.thread[P_NI], "--outcome", "CONTINUE",
           "--next-review", day_str(&w, d, 28));
    assert_string_equal(h_jstr(j, "session"), s1);
    const json_t *meta = json_object_get(j, "meta");
    assert_int_equal(h_jint(meta, "review_deferrals"), 0);
    assert_true(h_jint(meta, "last_review") > h_wall_ms());
    json_decref(j);
    assert_int_equal(open_of_type(&w, NURSE, w.thread[P_NI], "A06"), 0);
    assert_int_equal(h_audit_count(w.e->db, "review.outcome", "ok"), 1);
    RUN_OK(&w, NURSE, &j, "queue", "list", w.thread[P_NI]);
    assert_int_equal(json_array_size(json_object_get(j, "entries")), 0);
    json_decref(j);
    ag = agenda(&w, s1);
    const json_t *row = json_array_get(json_object_get(ag, "rows"), 2);
    assert_string_equal(h_jstr(row, "outcome"), "CONTINUE");
    json_decref(ag);

    /* the minutes: who attended, the cases discussed */
    RUN_OK(&w, PSY, &j, "review", "minutes", s1, "--attended", w.user[PSY], w.user[NURSE]);
    assert_int_equal(json_array_size(json_object_get(j, "attended")), 2);
    const json_t *disc = json_object_get(j, "discussed");
    assert_int_equal(json_array_size(disc), 4);
    assert_string_equal(h_jstr(json_array_get(disc, 2), "outcome"), "CONTINUE");
    h_jnull(json_array_get(disc, 0), "outcome");
    json_decref(j);
    assert_int_equal(h_audit_count(w.e->db, "review.minutes", "ok"), 1);
    /* a held session cannot be cancelled */
    struct h_cli r;
    RUN(&r, &w, PSY, "session", "cancel", s1);
    h_cli_assert_error(&r, 1, "BAD_STATE");
    h_cli_free(&r);
    world_free(&w);
}

static void test_overflow(void **state)
{
    struct world w;
    world_start(&w, *state);
    world_patients(&w);
    char s1[40];
    add_session(&w, 1, "8", s1); /* one slot: the new patient with a safety reason needs two */
    json_t *ag = agenda(&w, s1);
    assert_int_equal(h_jint(ag, "slots"), 1);
    assert_int_equal(h_jint(ag, "used"), 0);
    assert_true(h_jint(ag, "overflow") >= 1);
    json_decref(ag);
    advance(&w, 2 * DAY_MS);
    wait_count(&w, 1, "SELECT count(*) FROM alerts WHERE type = 'A20'");
    /* A20 to the program lead, on the first urgent case left out */
    json_t *j = NULL;
    RUN_OK(&w, LEAD, &j, "alert", "list", "--open");
    size_t i, n = 0;
    const json_t *a;
    json_array_foreach(json_object_get(j, "alerts"), i, a)
    {
        if (strcmp(h_jstr(a, "type"), "A20") != 0)
            continue;
        n++;
        assert_string_equal(h_jstr(a, "thread"), w.thread[P_SAFE]);
        assert_string_equal(h_jstr(a, "origin"), "daemon");
        assert_string_equal(json_string_value(json_array_get(json_object_get(a, "owners"), 0)),
                            w.user[LEAD]);
    }
    assert_int_equal(n, 1);
    json_decref(j);
    /* every case was left over: one deferral each */
    for (int p = 0; p < N_PAT; p++) {
        char hex[33];
        h_id_hex(hex, w.thread[p]);
        assert_int_equal(
            h_db_int(w.e->db, "SELECT review_deferrals FROM threads WHERE id = X'%s'", hex), 1);
    }
    world_free(&w);
}

static void test_closed(void **state)
{
    struct world w;
    world_start(&w, *state);
    world_patients(&w);
    char s1[40], hex[33];
    add_session(&w, 7, "60", s1);
    json_t *j = NULL;
    RUN_OK(&w, NURSE, &j, "episode", "close", w.thread[P_AGE], "--reason", "remission");
    const json_t *meta = json_object_get(j, "meta");
    assert_string_equal(h_jstr(meta, "phase"), "completed");
    assert_string_equal(h_jstr(meta, "closed_reason"), "remission");
    json_decref(j);
    assert_int_equal(h_audit_count(w.e->db, "episode.close", "ok"), 1);
    /* off the queue and the agenda */
    RUN_OK(&w, NURSE, &j, "queue", "list", w.thread[P_AGE]);
    assert_int_equal(json_array_size(json_object_get(j, "entries")), 0);
    json_decref(j);
    json_t *ag = agenda(&w, s1);
    assert_int_equal(json_array_size(json_object_get(ag, "rows")), 3);
    json_decref(ag);
    struct h_cli r;
    RUN(&r, &w, NURSE, "queue", "add", w.thread[P_AGE], "--reason", "OTHER");
    h_cli_assert_error(&r, 1, "BAD_STATE");
    h_cli_free(&r);
    RUN(&r, &w, NURSE, "episode", "close", w.thread[P_AGE], "--reason", "remission");
    h_cli_assert_error(&r, 1, "BAD_STATE");
    h_cli_free(&r);
    /* no time rule any more: its open time-based alerts were cleared (the A09 its back-dated
     * enrolment raised), and 61 days without a contact raise nothing new on it (but on the
     * others) */
    h_id_hex(hex, w.thread[P_AGE]);
    assert_int_equal(h_db_int(w.e->db,
                              "SELECT count(*) FROM alerts WHERE thread_id = X'%s' AND origin = "
                              "'daemon' AND state IN ('raised', 'acked')",
                              hex),
                     0);
    int64_t before = h_db_int(w.e->db, "SELECT count(*) FROM alerts WHERE thread_id = X'%s'", hex);
    advance(&w, 61 * DAY_MS);
    assert_int_equal(h_db_int(w.e->db, "SELECT count(*) FROM alerts WHERE thread_id = X'%s'", hex),
                     before);
    h_id_hex(hex, w.thread[P_NEW]);
    char *sql = h_fmt("SELECT count(*) FROM alerts WHERE type = 'A09' AND thread_id = X'%s'", hex);
    wait_count(&w, 1, sql);
    free(sql);
    h_id_hex(hex, w.thread[P_AGE]); /* and by then nothing new on the closed one */
    assert_int_equal(h_db_int(w.e->db, "SELECT count(*) FROM alerts WHERE thread_id = X'%s'", hex),
                     before);
    world_free(&w);
}

/* Whether text is in the database file or its WAL. */
static bool in_db(const struct world *w, const char *text)
{
    return h_dir_contains(w->e->data, text);
}

static void test_no_clinical_text(void **state)
{
    struct world w;
    world_start(&w, *state);
    world_patients(&w);
    json_t *j = NULL;
    RUN_OK(&w, NURSE, &j, "send", w.thread[P_NI], SUMMARY);
    json_decref(j);
    RUN_OK(&w, NURSE, &j, "queue", "add", w.thread[P_NI], "--reason", "TREATMENT_RESPONSE");
    json_decref(j);
    assert_false(in_db(&w, SUMMARY));
    assert_false(in_db(&w, "sleeping better"));
    assert_false(in_db(&w, "1,1,1,1,1,1,1,1,1"));
    assert_true(in_db(&w, "TREATMENT_RESPONSE")); /* the code is there: the search works */
    world_free(&w);
}

static void test_caseload(void **state)
{
    struct world w;
    world_start(&w, *state);
    world_patients(&w);
    char d[11];
    /* P-NI: a plan and a PHQ-9 every four weeks for twelve weeks, 18 down to 15 */
    RUN_OK(&w, NURSE, NULL, "plan", "record", w.thread[P_NI], "--date", day_str(&w, d, -84),
           "--antidepressant");
    const char *const phq9[] = {"3,3,3,3,2,2,1,1,0", "3,3,3,2,2,2,1,1,0", "3,3,3,2,2,1,1,1,0",
                                "3,3,2,2,2,1,1,1,0"};
    for (int i = 0; i < 4; i++)
        RUN_OK(&w, NURSE, NULL, "scale", "record", w.thread[P_NI], "--phq9", phq9[i], "--date",
               day_str(&w, d, -84 + 28 * i));
    json_t *j = NULL;
    RUN_OK(&w, NURSE, &j, "caseload");
    const json_t *rows = json_object_get(j, "caseload");
    assert_int_equal(json_array_size(rows), 4);
    const int order[] = {P_SAFE, P_NI, P_AGE, P_NEW};
    const char *const attention[] = {"safety", "not_improving", "overdue", "rest"};
    for (int i = 0; i < 4; i++) {
        const json_t *r = json_array_get(rows, (size_t)i);
        assert_string_equal(h_jstr(r, "patient"), patient[order[i]]);
        assert_string_equal(h_jstr(r, "attention"), attention[i]);
        assert_string_equal(h_jstr(r, "nurse_name"), "Anne Martin");
        assert_string_equal(h_jstr(r, "name"), "Episode 1");        /* the decrypted title */
        assert_string_equal(h_jstr(r, "site"), "Cabinet Voltaire"); /* the nurse's */
    }
    const json_t *safe = json_array_get(rows, 0), *ni = json_array_get(rows, 1);
    assert_int_equal(h_jint(json_object_get(safe, "item9"), "value"), 1);
    assert_int_equal(h_jint(json_object_get(safe, "open_alerts"), "count"), 1);
    assert_string_equal(h_jstr(json_object_get(safe, "queue"), "tier"), "T1");
    const json_t *p9 = json_object_get(ni, "phq9");
    assert_int_equal(h_jint(p9, "baseline"), 18);
    assert_int_equal(h_jint(p9, "latest"), 15);
    assert_int_equal(h_jint(p9, "pct"), 16);
    assert_string_equal(h_jstr(p9, "band"), "PHQ_MODSEVERE");
    const json_t *trend = json_object_get(p9, "trend");
    assert_int_equal(json_array_size(trend), 4);
    assert_int_equal(json_integer_value(json_array_get(trend, 2)), 16);
    assert_int_equal(h_jint(ni, "weeks_on_plan"), 12);
    assert_true(json_is_true(json_object_get(json_array_get(rows, 2), "contact_overdue")));
    json_decref(j);
    /* by name; one nurse's patients (here all of them, nobody's for the GP's id) */
    RUN_OK(&w, PSY, &j, "caseload", "--sort", "name");
    rows = json_object_get(j, "caseload");
    assert_string_equal(h_jstr(json_array_get(rows, 0), "patient"), "P-AGE");
    assert_string_equal(h_jstr(json_array_get(rows, 3), "patient"), "P-SAFE");
    json_decref(j);
    RUN_OK(&w, PSY, &j, "caseload", "--nurse", w.user[GP]);
    assert_int_equal(json_array_size(json_object_get(j, "caseload")), 0);
    json_decref(j);
    /* a relapse-prevention plan for P-AGE, moved to relapse prevention: shown, and Q13 counts it */
    char *plan_path = h_path(w.e->tmp, "plan.json");
    const char plan[] = "{\"triggers\":\"conflict at work\",\"warning_signs\":\"sleep < 5 h\","
                        "\"coping\":\"daily walk\",\"supports\":\"sister\",\"emergency\":\"3114\"}";
    assert_int_equal(h_write_file(plan_path, plan, strlen(plan), false), 0);
    RUN_OK(&w, NURSE, &j, "episode", "rp-plan", w.thread[P_AGE], "--file", plan_path);
    assert_string_equal(h_jstr(json_object_get(j, "record"), "kind"), "rp_plan");
    assert_string_equal(h_jstr(json_object_get(j, "record"), "coping"), "daily walk");
    json_decref(j);
    RUN_OK(&w, NURSE, NULL, "thread", "meta", w.thread[P_AGE], "--phase", "relapse_prevention");
    char *bad_path = h_path(w.e->tmp, "bad.json");
    const char bad[] = "{\"triggers\":\"x\",\"coping\":\"y\"}";
    assert_int_equal(h_write_file(bad_path, bad, strlen(bad), false), 0);
    struct h_cli rb;
    RUN(&rb, &w, NURSE, "episode", "rp-plan", w.thread[P_AGE], "--file", bad_path);
    h_cli_assert_error(&rb, 2, "BAD_FIELD"); /* a part missing: nothing sent */
    h_cli_free(&rb);
    free(bad_path);
    free(plan_path);
    RUN_OK(&w, NURSE, &j, "caseload", "--sort", "name");
    assert_string_equal(h_jstr(json_array_get(json_object_get(j, "caseload"), 0), "rp_plan"),
                        day_str(&w, d, 0));
    json_decref(j);

    /* the quality indicators of the caseload */
    RUN_OK(&w, NURSE, &j, "caseload", "--indicators");
    const json_t *qs = json_object_get(j, "indicators");
    assert_int_equal(json_array_size(qs), 15);
    assert_int_equal(h_jint(j, "patients"), 4);
    const json_t *q2 = json_array_get(qs, 1), *q11 = json_array_get(qs, 10);
    assert_string_equal(h_jstr(q2, "code"), "Q2");
    assert_int_equal(h_jint(q2, "num"), 1); /* P-NI's four assessments */
    assert_int_equal(h_jint(q2, "den"), 4);
    assert_int_equal(h_jint(json_array_get(qs, 13), "num"), 4);
    assert_int_equal(h_jint(json_array_get(qs, 12), "num"), 1); /* Q13: P-AGE's plan */
    assert_int_equal(h_jint(json_array_get(qs, 12), "den"), 1);
    assert_true(json_is_true(json_object_get(q11, "available"))); /* no recommendation yet */
    assert_int_equal(h_jint(q11, "den"), 0);
    h_jnull(q11, "median_hours_to_ack");
    json_decref(j);
    struct h_cli r;
    h_cli_run_text(&r, w.home[NURSE], w.env, "caseload", NULL);
    assert_int_equal(r.p.status, 0);
    assert_non_null(strstr(r.p.out, "PATIENT"));
    assert_non_null(strstr(r.p.out, "18 -> 15"));
    h_cli_free(&r);
    world_free(&w);
}

static json_t *req(const char *type)
{
    return json_pack("{s:s}", "t", type);
}

static json_t *with(json_t *o, const char *key, json_t *v)
{
    json_object_set_new(o, key, v);
    return o;
}

static void test_limits(void **state)
{
    struct world w;
    world_start(&w, *state);
    world_patients(&w);
    struct w_dev *d = w_dev_load(w.home[PSY]);
    struct ses_conn *c = w_login(w.e, d);
    int64_t now = h_wall_ms();
    struct h_snap snap;
    h_snap_take(&snap, w.e->db, NULL);
    /* sessions: minutes 1..600, weekday 1..7, HH:MM, a start after now, one form or the other */
    const char *const bad_times[] = {"24:00", "23:60", "9:00", "09:0a", "0900", NULL};
    for (int i = 0; bad_times[i] != NULL; i++)
        w_request_error(c,
                        with(with(with(req("review_session_add"), "weekday", json_integer(2)),
                                  "time", json_string(bad_times[i])),
                             "minutes", json_integer(60)),
                        SES_EBAD_FIELD);
    w_request_error(c,
                    with(with(with(req("review_session_add"), "weekday", json_integer(8)), "time",
                              json_string("10:00")),
                         "minutes", json_integer(60)),
                    SES_EBAD_FIELD);
    w_request_error(c,
                    with(with(req("review_session_add"), "start", json_integer(now + DAY_MS)),
                         "minutes", json_integer(601)),
                    SES_EBAD_FIELD);
    w_request_error(c,
                    with(with(req("review_session_add"), "start", json_integer(now + DAY_MS)),
                         "minutes", json_integer(0)),
                    SES_EBAD_FIELD);
    w_request_error(c,
                    with(with(req("review_session_add"), "start", json_integer(now - DAY_MS)),
                         "minutes", json_integer(60)),
                    SES_EBAD_FIELD);
    w_request_error(
        c,
        with(with(with(with(req("review_session_add"), "start", json_integer(now + DAY_MS)),
                       "weekday", json_integer(2)),
                  "time", json_string("10:00")),
             "minutes", json_integer(60)),
        SES_EBAD_FIELD);
    w_request_error(c, with(req("review_session_add"), "start", json_integer(now + DAY_MS)),
                    SES_EMISSING_FIELD);
    /* a listing of 366 days, not 367 */
    w_request_error(c,
                    with(with(req("review_sessions"), "from", json_integer(now)), "to",
                         json_integer(now + 367 * DAY_MS)),
                    SES_EBAD_FIELD);
    json_decref(w_request_ok(c,
                             with(with(req("review_sessions"), "from", json_integer(now)), "to",
                                  json_integer(now + 366 * DAY_MS)),
                             "review_sessions"));
    /* an outcome's next review within a year; an unknown outcome; a closed list of codes */
    w_request_error(c,
                    with(with(with(req("review_outcome"), "thread", json_string(w.thread[P_NI])),
                              "outcome", json_string("CONTINUE")),
                         "next_review", json_integer(now + 366 * DAY_MS)),
                    SES_EBAD_FIELD);
    w_request_error(c,
                    with(with(with(req("review_outcome"), "thread", json_string(w.thread[P_NI])),
                              "outcome", json_string("CURE")),
                         "next_review", json_integer(now + DAY_MS)),
                    SES_EBAD_FIELD);
    w_request_error(c, with(req("agenda"), "session", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAA")),
                    SES_EDENIED); /* an unknown session: the same answer as someone else's */
    h_snap_expect_one_audit(&snap, w.e->db, "authz.denied", "DENIED");
    h_snap_free(&snap);
    /* the edges that are allowed */
    json_t *r =
        w_request_ok(c,
                     with(with(req("review_session_add"), "start", json_integer(now + DAY_MS)),
                          "minutes", json_integer(600)),
                     "review_session");
    char sid[40];
    snprintf(sid, sizeof sid, "%s", h_jstr(json_object_get(r, "session"), "session"));
    assert_int_equal(h_jint(json_object_get(r, "session"), "slots"), 75);
    json_decref(r);
    json_decref(w_request_ok(c,
                             with(with(with(req("review_session_add"), "weekday", json_integer(7)),
                                       "time", json_string("23:59")),
                                  "minutes", json_integer(1)),
                             "review_series"));
    json_decref(
        w_request_ok(c,
                     with(with(with(req("review_outcome"), "thread", json_string(w.thread[P_NI])),
                               "outcome", json_string("CONTINUE")),
                          "next_review", json_integer(now + 364 * DAY_MS)),
                     "review_outcome"));
    /* minutes: 16 attendees, not 17 (the session must have taken place first) */
    ses_conn_free(c);
    advance(&w, 2 * DAY_MS);
    /* the 600-minute ad hoc session (the Sunday 23:59 series may be held too, on a Saturday) */
    wait_count(&w, 1,
               "SELECT count(*) FROM review_sessions WHERE state = 'held' AND minutes = 600");
    char off[32];
    snprintf(off, sizeof off, "%lld", (long long)w.offset_ms);
    setenv("SESAME_TEST_CLOCK_OFFSET_MS", off, 1);
    c = w_login(w.e, d);
    unsetenv("SESAME_TEST_CLOCK_OFFSET_MS");
    json_t *ids = json_array();
    for (int i = 0; i < 16; i++)
        json_array_append_new(ids, json_string(w.user[i % 2 ? NURSE : PSY]));
    w_request_error(c,
                    with(with(req("review_minutes"), "session", json_string(sid)), "attended",
                         json_incref(ids)),
                    SES_EBAD_FIELD); /* a user twice */
    json_decref(ids);
    ids = json_array();
    const int people[] = {ADMIN, NURSE, GP, PSY, LEAD};
    for (int i = 0; i < 5; i++)
        json_array_append_new(ids, json_string(w.user[people[i]]));
    json_decref(w_request_ok(c,
                             with(with(req("review_minutes"), "session", json_string(sid)),
                                  "attended", json_incref(ids)),
                             "review_minutes"));
    for (int i = 0; i < 12; i++)
        json_array_append_new(ids, json_string("AAAAAAAAAAAAAAAAAAAAAAAAAA"));
    assert_int_equal(json_array_size(ids), 17);
    w_request_error(c,
                    with(with(req("review_minutes"), "session", json_string(sid)), "attended", ids),
                    SES_EBAD_FIELD); /* 17 */
    ses_conn_free(c);
    w_dev_free(d);
    world_free(&w);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_agenda, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_held, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_overflow, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_closed, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_no_clinical_text, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_caseload, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_limits, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.cli_review", tests, NULL, NULL);
}
