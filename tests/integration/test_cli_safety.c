/*
 * test_cli_safety.c - integration: the safety pathway through the real `sesame` CLI against the
 * real sesamed (clients/cli/README.md "Alerts, scales and contacts", PROTOCOL.md §13-§14). Every
 * command runs as a subprocess; replies, the database and the audit log are checked exactly.
 *
 * The team: a nurse (Anne), her backup nurse (Lea), a GP (Claire), a psychiatrist (Hugo), all
 * but Lea members of one thread, and a program lead (Paul, a psychiatrist outside it).
 *
 *  - follow_catchup: `follow` started after an A01 was raised prints it first (a catch-up line,
 *    "catchup":true), leaves out an open alert that does not concern the follower, then prints
 *    a live A03 once, as a push.
 *  - oncall: the on-call warnings of `alert list` (psychiatrist only); a nurse's `admin oncall
 *    set` is DENIED (nothing changed); the admin sets the on-duty psychiatrist, the lead and a
 *    backup (a nurse as on-duty: BAD_FIELD); `oncall show` shows them by name, they survive a
 *    restart, and each change is one audit record per role (oncall.set, backup.set) that
 *    `sesame audit tail --action` shows.
 *  - incomplete_phq9: a PHQ-9 with one blank answer and item 9 = 3 raises A01/item9_2 (prorated,
 *    the blank a null); one with item 9 blank raises A01/item9_unanswered (P3) and says to ask it;
 *    one with three blanks is shown as incomplete and raises nothing; each counts as an
 *    assessment contact.
 *  - backdated: a record dated two weeks before the latest one raises no A05 (the rules follow
 *    the dates), and its contact, before the enrolment, is refused with a warning only.
 *  - biweekly: a PHQ-9 every two weeks (the daemon's clock moved by the test hook) raises no A08
 *    and no A22 for eight weeks; three weeks without one raises A08/active.
 *  - resolve_refusals: a cc-only GP's resolve of the nurse's A01 is refused NOT_OWNER before
 *    anything is sent; the owner's resolve without --note (NOTE_REQUIRED) or with DUPLICATE and a
 *    high risk (OUTCOME_CONFLICT) likewise; nothing changes.
 *  - imminent: resolving an A01 with outcome imminent raises an A02 P0 follow-up, and the CLI
 *    prints it with the site's emergency routes (sesamed.conf emergency_routes).
 *  - exhausted: an acknowledged A01/item9_1 re-opened by an item 9 of 2 (`alert show`: upgraded,
 *    "item9_1 P1 -> item9_2 P1"); unacknowledged past its chain it is listed as UNACKNOWLEDGED,
 *    chain exhausted, and re-notified hourly (`alert show`: the renotified event).
 *  - escalated_then_worse: an A01/item9_1 unacknowledged for 4 h goes to the nurse's backup
 *    (step 1); an item 9 of 3 then re-opens the same alert as item9_2, the nurse's again at step
 *    0 with 30 min, the psychiatrist in cc and told (upgraded, "..., was escalated").
 *  - p0_to_lead: an A02 (P0) unacknowledged for 15 min goes to the program lead, 15 min later
 *    its chain is exhausted and every 15 min all are told again (renotified, the lead listed
 *    UNACKNOWLEDGED); the lead's ack stops it (no more alert.renotify records).
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harness.h"
#include "wire.h"
#include "sesame/scales.h"

enum { ADMIN, NURSE, NURSE2, GP, PSY, LEAD, N_WHO };

static const char *const who_home[N_WHO] = {"admin", "nurse", "nurse2", "gp", "psy", "lead"};
static const char *const who_name[N_WHO] = {NULL,           "Anne Martin", "Lea Morel",
                                            "Claire Petit", "Hugo Roux",   "Paul Lead"};
static const char *const who_role[N_WHO] = {"admin", "nurse",        "nurse",
                                            "gp",    "psychiatrist", "psychiatrist"};

static const char *const SKIP_LOGIN[] = {"devices.last_login_ms", NULL};

#define MIN_MS 60000LL
#define DAY_MS 86400000LL
#define PATIENT "P-5AFE"
#define ITEM9_2 "2,2,2,2,1,1,1,1,2"
#define ROUTES "SAMU 15 / 3114"

struct world {
    struct h_env *e;
    char *home[N_WHO];
    char user[N_WHO][40];
    char thread[40];
    char hex[33];
    int64_t offset_ms;    /* how far the daemon's clock was moved (test hook) */
    char env_buf[64];     /* SESAME_TEST_CLOCK_OFFSET_MS=... for the CLI */
    const char *env[2];   /* NULL until the clock moves */
    const char *args[16]; /* sesamed serve options of this world */
};

#define RUN(r, w, who, ...) h_cli_run((r), (w)->home[(who)], (w)->env, __VA_ARGS__, NULL)
#define RUN_TEXT(r, w, who, ...) h_cli_run_text((r), (w)->home[(who)], (w)->env, __VA_ARGS__, NULL)

/* The daemon of the world, with hooks and, when routes, the emergency routes in sesamed.conf. */
static void world_daemon_start(struct world *w, bool hooks)
{
    int n = 0;
    if (hooks)
        w->args[n++] = "--test-hooks";
    w->args[n] = NULL;
    h_daemon_start_ok(&w->e->d, w->e->data, w->e->log, NULL, w->args);
    for (int i = 0; i < N_WHO; i++)
        h_home_set_server_ok(w->home[i], w->e->d.url);
}

static void world_restart(struct world *w, bool hooks)
{
    assert_int_equal(h_daemon_stop(&w->e->d), 0);
    world_daemon_start(w, hooks);
}

/* The team and one thread (nurse, GP, psychiatrist). flags: H_ENV_TEST_HOOKS. routes: write
 * emergency_routes into sesamed.conf and restart. */
static void world_start(struct world *w, struct h_env *e, int flags, bool routes)
{
    memset(w, 0, sizeof *w);
    w->e = e;
    h_env_start(e, flags);
    w->home[ADMIN] = strdup(e->admin_home);
    snprintf(w->user[ADMIN], sizeof w->user[ADMIN], "%s", e->admin_user);
    for (int i = NURSE; i < N_WHO; i++)
        w->home[i] =
            h_add_user_ok(e, who_home[i], who_role[i], who_name[i], NULL, w->user[i], NULL);
    if (routes) {
        char *conf = h_path(e->data, "sesamed.conf");
        const char line[] = "\nemergency_routes = " ROUTES "\n";
        assert_int_equal(h_write_file(conf, line, strlen(line), true), 0);
        free(conf);
        world_restart(w, (flags & H_ENV_TEST_HOOKS) != 0);
    }
    struct h_cli r;
    RUN(&r, w, NURSE, "thread", "create", "--patient", PATIENT, "--title", "Episode 1", "--member",
        w->user[GP], "--member", w->user[PSY]);
    h_cli_assert_ok(&r);
    snprintf(w->thread, sizeof w->thread, "%s", h_jstr(r.json, "thread"));
    h_id_hex(w->hex, w->thread);
    h_cli_free(&r);
}

static void world_free(struct world *w)
{
    for (int i = 0; i < N_WHO; i++)
        free(w->home[i]);
    memset(w, 0, sizeof *w);
}

static int64_t last_seq(const struct world *w)
{
    return h_db_int(w->e->db, "SELECT last_seq FROM threads WHERE id = X'%s'", w->hex);
}

/* Today (UTC, by the moved clock) + off days: "YYYY-MM-DD" in out, and its 00:00 in ms. */
static const char *day_str(const struct world *w, char out[11], int off)
{
    ses_day_format((int32_t)((h_wall_ms() + w->offset_ms) / DAY_MS) + off, out);
    return out;
}

static int64_t day_ms(const struct world *w, int off)
{
    return ((h_wall_ms() + w->offset_ms) / DAY_MS + off) * DAY_MS;
}

/* Moves the daemon's clock (test_clock, as the admin) and the CLI's with it. */
static void advance(struct world *w, int64_t ms)
{
    w_clock_advance(w->e, w->home[ADMIN], w->offset_ms, ms);
    w->offset_ms += ms;
    w_clock_env(w->env_buf, w->env, w->offset_ms);
}

/* `scale record THREAD --phq9 ANSWERS [--date today+off]` by who; exit 0. Returns the reply. */
static json_t *scale_ok(struct world *w, int who, const char *thread, const char *phq9, int off)
{
    char d[11];
    struct h_cli r;
    RUN(&r, w, who, "scale", "record", thread, "--phq9", phq9, "--date", day_str(w, d, off));
    h_cli_assert_ok(&r);
    json_t *j = json_incref(r.json);
    h_cli_free(&r);
    assert_string_equal(h_jstr(json_object_get(j, "record"), "date"), d);
    return j;
}

/* The alerts of a `scale record` reply: exactly n. */
static const json_t *alerts_of(const json_t *j, size_t n)
{
    const json_t *a = json_object_get(j, "alerts");
    assert_true(json_is_array(a));
    if (json_array_size(a) != n)
        fail_msg("want %zu alerts, got %s", n, json_dumps(a, JSON_COMPACT));
    return a;
}

/* Asserts the array of user ids equals exactly the users of mask (any order). */
static void expect_users(const struct world *w, const json_t *arr, unsigned mask)
{
    h_expect_users(arr, (const char(*)[40])w->user, N_WHO, mask);
}

/* `alert list --json [--thread T]` by who: the alerts array (caller decrefs). */
static json_t *list_alerts(const struct world *w, int who, const char *thread)
{
    struct h_cli r;
    if (thread != NULL)
        RUN(&r, w, who, "alert", "list", "--thread", thread);
    else
        RUN(&r, w, who, "alert", "list");
    h_cli_assert_ok(&r);
    json_t *a = json_incref(json_object_get(r.json, "alerts"));
    h_cli_free(&r);
    return a;
}

/* How many alerts of type (any state) who sees in the world's thread. */
static size_t count_type(const struct world *w, int who, const char *type)
{
    json_t *all = list_alerts(w, who, w->thread);
    size_t i, n = 0;
    const json_t *a;
    json_array_foreach(all, i, a)
    {
        if (strcmp(h_jstr(a, "type"), type) == 0)
            n++;
    }
    json_decref(all);
    return n;
}

static void assert_has(const char *hay, const char *needle)
{
    if (strstr(hay, needle) == NULL)
        fail_msg("expected \"%s\" in:\n%s", needle, hay);
}

static json_t *json_lines(const char *out)
{
    json_t *a = json_array();
    for (const char *p = out; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            fail_msg("follow: output does not end with a newline: [%s]", p);
        json_t *o = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(o))
            fail_msg("follow: not a JSON object line: [%.*s]", (int)(nl - p), p);
        json_array_append_new(a, o);
        p = nl + 1;
    }
    return a;
}

/* The nurse records a PHQ-9 with item 9 = 2: the A01's id. */
static void a01_ok(struct world *w, char id[40])
{
    json_t *j = scale_ok(w, NURSE, w->thread, ITEM9_2, 0);
    const json_t *a = json_array_get(alerts_of(j, 1), 0);
    assert_string_equal(h_jstr(a, "type"), "A01");
    assert_string_equal(h_jstr(a, "variant"), "item9_2");
    snprintf(id, 40, "%s", h_jstr(a, "alert"));
    json_decref(j);
}

/* --- 1. follow_catchup ------------------------------------------------------------------------
 */

static void test_follow_catchup(void **state)
{
    struct world w;
    world_start(&w, *state, 0, false);
    char a01[40], a03[40], a13[40];
    a01_ok(&w, a01);
    /* a consult request: the psychiatrist's, nothing to do with the GP */
    struct h_cli r;
    RUN(&r, &w, NURSE, "alert", "raise", w.thread, "--type", "A13");
    h_cli_assert_ok(&r);
    snprintf(a13, sizeof a13, "%s", h_jstr(json_object_get(r.json, "alert"), "alert"));
    h_cli_free(&r);

    /* the GP (cc of the A01) starts following: the catch-up comes first */
    struct h_bg bg;
    h_cli_start_ok(&bg, w.e->tmp, "follow-gp", w.home[GP], NULL, "follow", "--timeout-exit", "3000",
                   NULL);
    uint64_t until = h_mono_ms() + H_CLI_TIMEOUT_MS;
    for (;;) {
        size_t len = 0;
        char *out = h_bg_out(&bg, &len);
        bool some = len > 0 && strchr(out, '\n') != NULL;
        free(out);
        if (some)
            break;
        if (h_mono_ms() > until)
            fail_msg("follow printed nothing");
        h_sleep_ms(20);
    }
    /* then a live one: the psychiatrist raises an A03 (cc the GP) */
    RUN(&r, &w, PSY, "alert", "raise", w.thread, "--type", "A03");
    h_cli_assert_ok(&r);
    snprintf(a03, sizeof a03, "%s", h_jstr(json_object_get(r.json, "alert"), "alert"));
    h_cli_free(&r);

    struct h_proc p;
    h_bg_wait(&bg, H_CLI_TIMEOUT_MS, &p);
    assert_int_equal(p.status, 0);
    json_t *lines = json_lines(p.out);
    const json_t *first = json_array_get(lines, 0);
    assert_string_equal(h_jstr(first, "event"), "alert_event");
    assert_string_equal(h_jstr(first, "what"), "open");
    assert_true(json_is_true(json_object_get(first, "catchup")));
    assert_string_equal(h_jstr(json_object_get(first, "alert"), "alert"), a01);
    int n_alert = 0;
    size_t i;
    const json_t *o;
    json_array_foreach(lines, i, o)
    {
        if (strcmp(h_jstr(o, "event"), "alert_event") != 0)
            continue;
        const char *id = h_jstr(json_object_get(o, "alert"), "alert");
        assert_string_not_equal(id, a13);
        if (n_alert++ == 0)
            continue;
        assert_int_equal(n_alert, 2); /* the catch-up, then exactly one live event */
        assert_string_equal(id, a03);
        assert_string_equal(h_jstr(o, "what"), "raised");
        assert_null(json_object_get(o, "catchup"));
    }
    assert_int_equal(n_alert, 2);
    json_decref(lines);
    h_proc_free(&p);

    /* the same in words */
    const char *const argv[] = {SESAME_BIN,       "--home", w.home[GP], "follow",
                                "--timeout-exit", "500",    NULL};
    char *out_path = h_path(w.e->tmp, "follow-text.out");
    char *err_path = h_path(w.e->tmp, "follow-text.err");
    h_bg_start_ok(&bg, argv, NULL, out_path, err_path);
    free(out_path);
    free(err_path);
    h_bg_wait(&bg, H_CLI_TIMEOUT_MS, &p);
    assert_int_equal(p.status, 0);
    assert_has(p.out, "== open alerts for you (owner or cc)");
    assert_has(p.out, "A01/item9_2 SAFETY_ITEM9_POSITIVE open, raised on " PATIENT);
    assert_has(p.out, "A03 SAFETY_MODERATE open, raised on " PATIENT);
    assert_has(p.out, "- cc to you");
    h_proc_free(&p);
    world_free(&w);
}

/* --- 2. oncall --------------------------------------------------------------------------------
 */

/* `admin oncall show --json` by who: the reply (caller decrefs). */
static json_t *oncall_ok(const struct world *w, int who)
{
    struct h_cli r;
    RUN(&r, w, who, "admin", "oncall", "show");
    h_cli_assert_ok(&r);
    json_t *j = json_incref(r.json);
    h_cli_free(&r);
    return j;
}

static void expect_warnings(const json_t *arr, const char *a, const char *b)
{
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), (size_t)(a != NULL) + (b != NULL));
    if (a != NULL)
        assert_string_equal(json_string_value(json_array_get(arr, 0)), a);
    if (b != NULL)
        assert_string_equal(json_string_value(json_array_get(arr, 1)), b);
}

static void expect_oncall_set(const struct world *w, const json_t *j)
{
    assert_string_equal(h_jstr(j, "on_duty_psychiatrist"), w->user[PSY]);
    assert_string_equal(h_jstr(j, "program_lead"), w->user[LEAD]);
    const json_t *b = json_object_get(j, "backups");
    assert_int_equal(json_array_size(b), 1);
    assert_string_equal(h_jstr(json_array_get(b, 0), "user"), w->user[NURSE]);
    assert_string_equal(h_jstr(json_array_get(b, 0), "backup"), w->user[NURSE2]);
    expect_warnings(json_object_get(j, "warnings"), NULL, NULL);
}

static void test_oncall(void **state)
{
    struct world w;
    world_start(&w, *state, 0, false);
    const char *db = w.e->db;
    struct h_cli r;

    /* nothing set: the psychiatrist is warned in words, the nurse is not told */
    RUN(&r, &w, PSY, "alert", "list");
    h_cli_assert_ok(&r);
    expect_warnings(json_object_get(r.json, "warnings"), "NO_ON_DUTY_PSYCHIATRIST",
                    "NO_PROGRAM_LEAD");
    assert_has(r.p.err, "no on-duty psychiatrist is set");
    assert_has(r.p.err, "sesame admin oncall set --on-duty-psychiatrist ID");
    assert_has(r.p.err, "no program lead is set");
    h_cli_free(&r);
    RUN(&r, &w, NURSE, "alert", "list");
    h_cli_assert_ok(&r);
    assert_null(json_object_get(r.json, "warnings"));
    assert_int_equal(r.p.err_len, 0);
    h_cli_free(&r);
    json_t *j = oncall_ok(&w, ADMIN);
    h_jnull(j, "on_duty_psychiatrist");
    h_jnull(j, "program_lead");
    h_jnull(j, "emergency");
    assert_int_equal(json_array_size(json_object_get(j, "backups")), 0);
    expect_warnings(json_object_get(j, "warnings"), "NO_ON_DUTY_PSYCHIATRIST", "NO_PROGRAM_LEAD");
    json_decref(j);

    /* a nurse may not change it: DENIED, nothing changed but the denial's record */
    struct h_snap snap;
    h_snap_take(&snap, db, SKIP_LOGIN);
    RUN(&r, &w, NURSE, "admin", "oncall", "set", "--on-duty-psychiatrist", w.user[PSY]);
    h_cli_assert_error(&r, 1, "DENIED");
    assert_int_equal(r.p.out_len, 0);
    h_cli_free(&r);
    RUN(&r, &w, NURSE, "admin", "backup", "set", w.user[NURSE], w.user[NURSE2]);
    h_cli_assert_error(&r, 1, "DENIED");
    h_cli_free(&r);
    /* nor may a nurse be on duty as the psychiatrist */
    RUN(&r, &w, ADMIN, "admin", "oncall", "set", "--on-duty-psychiatrist", w.user[NURSE]);
    h_cli_assert_error(&r, 1, "BAD_FIELD");
    h_cli_free(&r);
    /* and neither option is a usage error before any connection */
    RUN(&r, &w, ADMIN, "admin", "oncall", "set");
    assert_int_equal(r.p.status, 2);
    assert_has(r.p.err, "oncall set needs --on-duty-psychiatrist or --program-lead");
    h_cli_free(&r);
    h_snap_expect_rest_same(&snap, db);
    h_snap_free(&snap);
    assert_int_equal(h_audit_count(db, "oncall.set", NULL), 0);
    assert_int_equal(h_audit_count(db, "backup.set", NULL), 0);

    /* the admin sets them */
    RUN(&r, &w, ADMIN, "admin", "oncall", "set", "--on-duty-psychiatrist", w.user[PSY],
        "--program-lead", w.user[LEAD]);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(r.json, "on_duty_psychiatrist"), w.user[PSY]);
    assert_string_equal(h_jstr(r.json, "program_lead"), w.user[LEAD]);
    expect_warnings(json_object_get(r.json, "warnings"), NULL, NULL);
    h_cli_free(&r);
    h_audit_wait_count(db, "oncall.set", "ok", 2); /* one record per role */
    RUN(&r, &w, ADMIN, "admin", "backup", "set", w.user[NURSE], w.user[NURSE2]);
    h_cli_assert_ok(&r);
    expect_oncall_set(&w, r.json);
    h_cli_free(&r);
    h_audit_wait_count(db, "backup.set", "ok", 1);

    /* shown by name; read by a clinician too; no warning any more */
    RUN_TEXT(&r, &w, ADMIN, "admin", "oncall", "show");
    assert_int_equal(r.p.status, 0);
    assert_has(r.p.out, "on-duty psychiatrist  Hugo Roux (psychiatrist)");
    assert_has(r.p.out, "program lead          Paul Lead (psychiatrist)");
    assert_has(r.p.out, "Anne Martin (nurse)");
    assert_has(r.p.out, "-> backup Lea Morel (nurse)");
    assert_has(r.p.out, "emergency routes      none configured");
    h_cli_free(&r);
    j = oncall_ok(&w, NURSE);
    expect_oncall_set(&w, j);
    json_decref(j);
    RUN(&r, &w, PSY, "alert", "list");
    h_cli_assert_ok(&r);
    expect_warnings(json_object_get(r.json, "warnings"), NULL, NULL);
    assert_int_equal(r.p.err_len, 0);
    h_cli_free(&r);

    /* stored: the same after a restart */
    world_restart(&w, false);
    j = oncall_ok(&w, ADMIN);
    expect_oncall_set(&w, j);
    json_decref(j);
    assert_int_equal(h_audit_count(db, "oncall.set", NULL), 2);
    assert_int_equal(h_audit_count(db, "backup.set", NULL), 1);

    /* cleared with none */
    RUN(&r, &w, ADMIN, "admin", "oncall", "set", "--program-lead", "none");
    h_cli_assert_ok(&r);
    h_jnull(r.json, "program_lead");
    assert_string_equal(h_jstr(r.json, "on_duty_psychiatrist"), w.user[PSY]);
    expect_warnings(json_object_get(r.json, "warnings"), "NO_PROGRAM_LEAD", NULL);
    h_cli_free(&r);
    h_audit_wait_count(db, "oncall.set", "ok", 3);

    /* the audit log names each change, actor the admin */
    char *want[4];
    want[0] = h_fmt("oncall:on_duty_psychiatrist user:%s", w.user[PSY]);
    want[1] = h_fmt("oncall:program_lead user:%s", w.user[LEAD]);
    want[2] = h_fmt("oncall:program_lead user:none");
    want[3] = h_fmt("user:%s backup:%s", w.user[NURSE], w.user[NURSE2]);
    RUN(&r, &w, ADMIN, "audit", "tail", "--action", "oncall.set");
    h_cli_assert_ok(&r);
    const json_t *recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs), 3);
    for (size_t i = 0; i < 3; i++) {
        const json_t *rec = json_array_get(recs, i);
        assert_string_equal(h_jstr(rec, "object"), want[i]);
        assert_string_equal(h_jstr(rec, "outcome"), "ok");
        assert_string_equal(h_jstr(json_object_get(rec, "actor"), "user"), w.user[ADMIN]);
    }
    h_cli_free(&r);
    RUN(&r, &w, ADMIN, "audit", "tail", "--action", "backup.set");
    h_cli_assert_ok(&r);
    recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs), 1);
    assert_string_equal(h_jstr(json_array_get(recs, 0), "object"), want[3]);
    h_cli_free(&r);
    for (int i = 0; i < 4; i++)
        free(want[i]);
    world_free(&w);
}

/* --- 3. incomplete_phq9 -----------------------------------------------------------------------
 */

static void test_incomplete_phq9(void **state)
{
    struct world w;
    world_start(&w, *state, 0, false);
    struct h_cli r;

    /* item 3 blank, item 9 = 3: prorated, and item 9 raises A01/item9_2 */
    json_t *j = scale_ok(&w, NURSE, w.thread, "1,1,,1,1,1,1,1,3", 0);
    const json_t *phq = json_object_get(json_object_get(j, "record"), "phq9");
    assert_true(json_is_null(json_array_get(json_object_get(phq, "items"), 2)));
    assert_int_equal(h_jint(phq, "answered"), 8);
    assert_true(json_is_true(json_object_get(phq, "prorated")));
    assert_false(json_is_true(json_object_get(phq, "complete")));
    assert_int_equal(h_jint(phq, "item9"), 3);
    const json_t *a = json_array_get(alerts_of(j, 1), 0);
    assert_string_equal(h_jstr(a, "type"), "A01");
    assert_string_equal(h_jstr(a, "variant"), "item9_2");
    assert_string_equal(h_jstr(a, "severity"), "P1");
    const json_t *meta = json_object_get(j, "contact");
    assert_true(json_is_object(meta));
    assert_int_equal(h_jint(meta, "contacts"), 1);
    assert_int_equal(h_jint(meta, "last_contact"), day_ms(&w, 0));
    assert_null(json_object_get(j, "contact_error"));
    json_t *first = j;

    /* another patient: item 9 blank, in words */
    RUN(&r, &w, NURSE, "thread", "create", "--patient", "P-0B2", "--title", "Episode 2", "--member",
        w.user[GP]);
    h_cli_assert_ok(&r);
    char t2[40];
    snprintf(t2, sizeof t2, "%s", h_jstr(r.json, "thread"));
    h_cli_free(&r);
    RUN_TEXT(&r, &w, NURSE, "scale", "record", t2, "--phq9", "1,1,1,1,1,1,1,1,");
    assert_int_equal(r.p.status, 0);
    assert_has(r.p.out, "(prorated from 8 of 9 answers)");
    assert_has(r.p.out, "item 9: not answered — ask it directly");
    assert_has(r.p.out, "[P3] A01/item9_unanswered SAFETY_ITEM9_UNANSWERED");
    assert_has(r.p.out, "Counted as an assessment contact: 1 contact(s)");
    h_cli_free(&r);
    json_t *all = list_alerts(&w, NURSE, t2);
    assert_int_equal(json_array_size(all), 1);
    a = json_array_get(all, 0);
    assert_string_equal(h_jstr(a, "type"), "A01");
    assert_string_equal(h_jstr(a, "variant"), "item9_unanswered");
    assert_string_equal(h_jstr(a, "severity"), "P3");
    expect_users(&w, json_object_get(a, "owners"), 1u << NURSE);
    json_decref(all);

    /* three blanks: incomplete, no score, nothing raised, still a contact */
    RUN_TEXT(&r, &w, NURSE, "scale", "record", t2, "--phq9", "1,1,,,,1,1,1,0");
    assert_int_equal(r.p.status, 0);
    assert_has(r.p.out, "incomplete (6 of 9 answered)");
    assert_has(r.p.out, "No alert raised.");
    assert_has(r.p.out, "Counted as an assessment contact: 2 contact(s)");
    h_cli_free(&r);

    /* no answer at all is refused before anything is sent */
    int64_t seq = last_seq(&w);
    RUN(&r, &w, NURSE, "scale", "record", w.thread, "--phq9", ",,,,,,,,");
    h_cli_assert_error(&r, 2, "BAD_SCALE");
    h_cli_free(&r);
    assert_int_equal(last_seq(&w), seq);
    /* the first assessment counted its (prorated) PHQ-9 */
    assert_int_equal(h_jint(json_object_get(first, "contact"), "last_phq9"), day_ms(&w, 0));
    json_decref(first);
    world_free(&w);
}

/* --- 4. backdated -----------------------------------------------------------------------------
 */

static void test_backdated(void **state)
{
    struct world w;
    world_start(&w, *state, 0, false);
    struct h_cli r;
    char d[11];
    RUN(&r, &w, NURSE, "thread", "meta", w.thread, "--enrolled", day_str(&w, d, -7));
    h_cli_assert_ok(&r);
    h_cli_free(&r);

    /* 5 today */
    json_t *j = scale_ok(&w, NURSE, w.thread, "1,1,0,1,1,0,1,0,0", 0);
    alerts_of(j, 0);
    assert_int_equal(h_jint(json_object_get(j, "contact"), "contacts"), 1);
    json_decref(j);
    /* 12 two weeks ago, entered late: the patient improved since, no worsening */
    j = scale_ok(&w, NURSE, w.thread, "2,2,1,1,2,1,1,2,0", -14);
    alerts_of(j, 0);
    assert_int_equal(count_type(&w, NURSE, "A05"), 0);
    /* before the enrolment: not a contact, a warning, and the record stands (exit 0) */
    assert_true(json_is_null(json_object_get(j, "contact")));
    assert_string_equal(h_jstr(j, "contact_error"), "BAD_FIELD");
    json_decref(j);
    RUN(&r, &w, NURSE, "thread", "meta", w.thread);
    h_cli_assert_ok(&r);
    assert_int_equal(h_jint(json_object_get(r.json, "meta"), "contacts"), 1);
    assert_int_equal(h_jint(json_object_get(r.json, "meta"), "last_contact"), day_ms(&w, 0));
    h_cli_free(&r);
    RUN_TEXT(&r, &w, NURSE, "scale", "record", w.thread, "--phq9", "1,1,0,1,1,0,1,0,0", "--date",
             day_str(&w, d, -10));
    assert_int_equal(r.p.status, 0);
    assert_has(r.p.err, "sesame: warning: not counted as a contact: BAD_FIELD");
    h_cli_free(&r);
    world_free(&w);
}

/* --- 5. biweekly ------------------------------------------------------------------------------
 */

/* Waits (<= 5 s) until who sees an alert of type/variant in the thread. */
static void wait_alert(const struct world *w, int who, const char *type, const char *variant)
{
    uint64_t until = h_mono_ms() + 5000;
    for (;;) {
        json_t *all = list_alerts(w, who, w->thread);
        size_t i;
        const json_t *a;
        bool found = false;
        json_array_foreach(all, i, a)
        {
            if (strcmp(h_jstr(a, "type"), type) == 0 && strcmp(h_jstr(a, "variant"), variant) == 0)
                found = true;
        }
        json_decref(all);
        if (found)
            return;
        if (h_mono_ms() > until)
            fail_msg("no %s/%s was raised", type, variant);
        h_sleep_ms(100);
    }
}

static void test_biweekly(void **state)
{
    struct world w;
    world_start(&w, *state, H_ENV_TEST_HOOKS, false);
    json_t *last = NULL;
    int64_t last_day = 0;
    for (int week = 0; week <= 8; week += 2) {
        if (week > 0) {
            advance(&w, 14 * DAY_MS);
            h_sleep_ms(300); /* the time rules run on the daemon's timer */
        }
        json_t *j = scale_ok(&w, NURSE, w.thread, "1,1,1,1,1,1,1,1,0", 0);
        alerts_of(j, 0);
        assert_int_equal(h_jint(json_object_get(j, "contact"), "last_contact"), day_ms(&w, 0));
        json_decref(last);
        last = j;
        assert_int_equal(count_type(&w, NURSE, "A08"), 0);
        assert_int_equal(count_type(&w, NURSE, "A22"), 0);
        last_day = day_ms(&w, 0);
    }
    /* the control: three weeks without a contact */
    advance(&w, 22 * DAY_MS);
    wait_alert(&w, NURSE, "A08", "active");
    assert_int_equal(count_type(&w, NURSE, "A22"), 0);
    /* the last assessment's PHQ-9 day is the thread's */
    assert_int_equal(h_jint(json_object_get(last, "contact"), "last_phq9"), last_day);
    json_decref(last);
    world_free(&w);
}

/* --- 6. resolve_refusals ----------------------------------------------------------------------
 */

static void test_resolve_refusals(void **state)
{
    struct world w;
    world_start(&w, *state, 0, false);
    const char *db = w.e->db;
    char id[40];
    a01_ok(&w, id);
    h_audit_wait_count(db, "alert.raise", "ok", 1);
    int64_t seq = last_seq(&w);
    struct h_cli r;
    struct h_snap snap;
    h_snap_take(&snap, db, SKIP_LOGIN);

    /* the GP is only copied: not a closer of a safety alert */
    RUN(&r, &w, GP, "alert", "resolve", id, "--code", "RISK_ASSESSED", "--outcome", "low", "--note",
        "never sent");
    h_cli_assert_error(&r, 1, "NOT_OWNER");
    assert_int_equal(r.p.out_len, 0);
    h_cli_free(&r);
    /* the owner, without the note of the assessment */
    RUN(&r, &w, NURSE, "alert", "resolve", id, "--code", "RISK_ASSESSED", "--outcome", "low");
    h_cli_assert_error(&r, 2, "NOTE_REQUIRED");
    h_cli_free(&r);
    /* "nothing to do" for a high risk */
    RUN(&r, &w, NURSE, "alert", "resolve", id, "--code", "DUPLICATE", "--outcome", "high", "--note",
        "never sent");
    h_cli_assert_error(&r, 2, "OUTCOME_CONFLICT");
    h_cli_free(&r);
    h_snap_expect_rest_same(&snap, db);
    h_snap_free(&snap);
    assert_int_equal(last_seq(&w), seq);
    assert_int_equal(h_audit_count(db, "alert.resolve", NULL), 0);

    /* the psychiatrist (copied, a closer) may */
    RUN(&r, &w, PSY, "alert", "resolve", id, "--code", "RISK_ASSESSED", "--outcome", "low",
        "--note", "Seen with the nurse, safety plan in place");
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(json_object_get(r.json, "alert"), "state"), "resolved");
    assert_int_equal(json_array_size(json_object_get(r.json, "followups")), 0);
    h_cli_free(&r);
    h_audit_wait_count(db, "alert.resolve", "ok", 1);
    world_free(&w);
}

/* --- 8. exhausted -----------------------------------------------------------------------------
 */

/* `alert show --json ID` by who: the ALERT (caller decrefs). */
static json_t *show_alert(const struct world *w, int who, const char *id)
{
    struct h_cli r;
    RUN(&r, w, who, "alert", "show", id);
    h_cli_assert_ok(&r);
    json_t *a = json_incref(json_object_get(r.json, "alert"));
    h_cli_free(&r);
    return a;
}

/* Moves the clock by ms and waits (<= 5 s) until the alert's step or renotified count moves. */
static json_t *advance_until_moved(struct world *w, const char *id, int64_t ms)
{
    json_t *a = show_alert(w, NURSE, id);
    int64_t step = h_jint(a, "step"), k = h_jint(a, "renotified");
    bool ex = json_is_true(json_object_get(a, "exhausted"));
    json_decref(a);
    advance(w, ms);
    uint64_t until = h_mono_ms() + 5000;
    for (;;) {
        a = show_alert(w, NURSE, id);
        if (h_jint(a, "step") != step || h_jint(a, "renotified") != k ||
            json_is_true(json_object_get(a, "exhausted")) != ex)
            return a;
        json_decref(a);
        if (h_mono_ms() > until)
            fail_msg("alert %s did not move", id);
        h_sleep_ms(100);
    }
}

static void test_exhausted(void **state)
{
    struct world w;
    world_start(&w, *state, H_ENV_TEST_HOOKS, false);
    struct h_cli r;

    /* item 9 = 1, acknowledged; then item 9 = 2: the new signal re-opens it */
    json_t *j = scale_ok(&w, NURSE, w.thread, "0,0,0,0,0,0,0,0,1", 0);
    char id[40];
    snprintf(id, sizeof id, "%s", h_jstr(json_array_get(alerts_of(j, 1), 0), "alert"));
    json_decref(j);
    RUN(&r, &w, NURSE, "alert", "ack", id);
    h_cli_assert_ok(&r);
    h_cli_free(&r);
    j = scale_ok(&w, NURSE, w.thread, "1,0,0,0,0,0,0,0,2", 0);
    const json_t *a = json_array_get(alerts_of(j, 1), 0);
    assert_string_equal(h_jstr(a, "alert"), id);
    assert_true(json_is_true(json_object_get(a, "repeat")));
    assert_string_equal(h_jstr(a, "variant"), "item9_2");
    assert_string_equal(h_jstr(a, "state"), "raised");
    json_decref(j);
    RUN_TEXT(&r, &w, GP, "alert", "show", id);
    assert_int_equal(r.p.status, 0);
    assert_has(r.p.out, "upgraded   by Anne Martin (nurse)");
    assert_has(r.p.out, "(item9_1 P1 -> item9_2 P1");
    h_cli_free(&r);

    /* nobody acknowledges: the chain runs out (30 min a step), then hourly re-notifications */
    json_t *cur = NULL;
    for (int i = 0; i < 5; i++) {
        json_decref(cur);
        cur = advance_until_moved(&w, id, 31 * MIN_MS);
        if (json_is_true(json_object_get(cur, "exhausted")))
            break;
    }
    assert_true(json_is_true(json_object_get(cur, "exhausted")));
    assert_string_equal(h_jstr(cur, "state"), "raised");
    json_decref(cur);
    cur = advance_until_moved(&w, id, 61 * MIN_MS);
    assert_int_equal(h_jint(cur, "renotified"), 1);
    json_decref(cur);
    RUN_TEXT(&r, &w, NURSE, "alert", "list", "--thread", w.thread);
    assert_int_equal(r.p.status, 0);
    assert_has(r.p.out, "UNACKNOWLEDGED, chain exhausted (renotified 1, next in");
    h_cli_free(&r);
    RUN_TEXT(&r, &w, NURSE, "alert", "show", id);
    assert_int_equal(r.p.status, 0);
    assert_has(r.p.out, "renotified 1 time(s) after the chain was exhausted");
    assert_has(r.p.out,
               "deadline  UNACKNOWLEDGED, chain exhausted: re-notified 1 time(s), next at ");
    assert_has(r.p.out, "renotified by the daemon  to ");
    h_cli_free(&r);
    world_free(&w);
}

/* --- 7. imminent ------------------------------------------------------------------------------
 */

static void test_imminent(void **state)
{
    struct world w;
    world_start(&w, *state, 0, true);
    char id[40];
    a01_ok(&w, id);
    struct h_cli r;
    RUN_TEXT(&r, &w, NURSE, "alert", "resolve", id, "--code", "RISK_ASSESSED", "--outcome",
             "imminent", "--note", "Plan and means, not safe at home");
    assert_int_equal(r.p.status, 0);
    assert_has(r.p.out, "resolved alert");
    assert_has(r.p.out, "Follow-up raised:");
    assert_has(r.p.out, "[P0] A02 SAFETY_IMMINENT");
    assert_has(r.p.out, "phone now: " ROUTES " — the daemon is not the only channel");
    assert_has(r.p.out, "PHONE the owners NOW");
    h_cli_free(&r);

    json_t *all = list_alerts(&w, GP, w.thread);
    const json_t *a02 = NULL, *a;
    size_t i;
    json_array_foreach(all, i, a)
    {
        if (strcmp(h_jstr(a, "type"), "A02") == 0)
            a02 = a;
        else
            assert_string_equal(h_jstr(a, "state"), "resolved"); /* the A01 */
    }
    assert_non_null(a02);
    assert_string_equal(h_jstr(a02, "severity"), "P0");
    assert_string_equal(h_jstr(a02, "state"), "raised");
    assert_string_equal(h_jstr(a02, "emergency"), ROUTES);
    expect_users(&w, json_object_get(a02, "owners"), (1u << GP) | (1u << PSY));
    assert_int_equal(h_jint(a02, "deadline") - h_jint(a02, "raised"), 15 * MIN_MS);
    json_decref(all);
    world_free(&w);
}

/* --- 9. escalated_then_worse ------------------------------------------------------------------
 */

/* `alert show --json ID` by who: the last event of its timeline (caller decrefs). */
static json_t *last_event(const struct world *w, int who, const char *id)
{
    struct h_cli r;
    RUN(&r, w, who, "alert", "show", id);
    h_cli_assert_ok(&r);
    const json_t *tl = json_object_get(r.json, "timeline");
    assert_true(json_array_size(tl) > 0);
    json_t *ev = json_incref(json_array_get(tl, json_array_size(tl) - 1));
    h_cli_free(&r);
    return ev;
}

/* The alert id of an alerts array, or NULL. */
static const json_t *find_alert(const json_t *arr, const char *id)
{
    size_t i;
    const json_t *a;
    json_array_foreach(arr, i, a)
    {
        if (strcmp(h_jstr(a, "alert"), id) == 0)
            return a;
    }
    return NULL;
}

static void test_escalated_then_worse(void **state)
{
    struct world w;
    world_start(&w, *state, H_ENV_TEST_HOOKS, false);
    struct h_cli r;
    RUN(&r, &w, ADMIN, "admin", "backup", "set", w.user[NURSE], w.user[NURSE2]);
    h_cli_assert_ok(&r);
    h_cli_free(&r);

    /* item 9 = 1: the nurse's, 4 h to acknowledge */
    json_t *j = scale_ok(&w, NURSE, w.thread, "0,0,0,0,0,0,0,0,1", 0);
    const json_t *a = json_array_get(alerts_of(j, 1), 0);
    char id[40];
    snprintf(id, sizeof id, "%s", h_jstr(a, "alert"));
    assert_string_equal(h_jstr(a, "type"), "A01");
    assert_string_equal(h_jstr(a, "variant"), "item9_1");
    assert_string_equal(h_jstr(a, "severity"), "P1");
    expect_users(&w, json_object_get(a, "owners"), 1u << NURSE);
    assert_int_equal(h_jint(a, "step"), 0);
    assert_int_equal(h_jint(a, "deadline") - h_jint(a, "raised"), 240 * MIN_MS);
    json_decref(j);

    /* nobody acknowledges: the backup nurse's at step 1 */
    json_t *cur = advance_until_moved(&w, id, 240 * MIN_MS);
    assert_int_equal(h_jint(cur, "step"), 1);
    expect_users(&w, json_object_get(cur, "owners"), 1u << NURSE2);
    assert_string_equal(h_jstr(cur, "state"), "raised");
    assert_false(json_is_true(json_object_get(cur, "exhausted")));
    json_decref(cur);
    json_t *ev = last_event(&w, NURSE, id);
    assert_string_equal(h_jstr(ev, "event"), "escalated");
    expect_users(&w, json_object_get(ev, "to"), 1u << NURSE2);
    json_decref(ev);

    /* then item 9 = 3: the same alert, the nurse's again with the new signal's 30 min */
    int64_t before = h_wall_ms() + w.offset_ms;
    j = scale_ok(&w, NURSE, w.thread, "0,0,0,0,0,0,0,0,3", 0);
    int64_t after = h_wall_ms() + w.offset_ms;
    a = json_array_get(alerts_of(j, 1), 0);
    assert_string_equal(h_jstr(a, "alert"), id);
    assert_true(json_is_true(json_object_get(a, "repeat")));
    json_decref(j);
    cur = show_alert(&w, NURSE, id);
    assert_string_equal(h_jstr(cur, "type"), "A01");
    assert_string_equal(h_jstr(cur, "variant"), "item9_2");
    assert_string_equal(h_jstr(cur, "severity"), "P1");
    assert_string_equal(h_jstr(cur, "state"), "raised");
    assert_int_equal(h_jint(cur, "step"), 0);
    assert_false(json_is_true(json_object_get(cur, "exhausted")));
    expect_users(&w, json_object_get(cur, "owners"), 1u << NURSE);
    expect_users(&w, json_object_get(cur, "cc"), (1u << GP) | (1u << PSY));
    int64_t deadline = h_jint(cur, "deadline");
    assert_in_range(deadline, before + 30 * MIN_MS - 5000, after + 30 * MIN_MS + 5000);
    json_decref(cur);
    ev = last_event(&w, NURSE, id);
    assert_string_equal(h_jstr(ev, "event"), "upgraded");
    assert_string_equal(h_jstr(ev, "by"), w.user[NURSE]);
    assert_string_equal(h_jstr(ev, "detail"), "item9_1 P1 -> item9_2 P1, was escalated");
    assert_int_equal(deadline - h_jint(ev, "ts"), 30 * MIN_MS);
    expect_users(&w, json_object_get(ev, "to"), (1u << NURSE) | (1u << GP) | (1u << PSY));
    json_decref(ev);

    /* the psychiatrist is reached: among the open alerts */
    RUN(&r, &w, PSY, "alert", "list", "--open");
    h_cli_assert_ok(&r);
    a = find_alert(json_object_get(r.json, "alerts"), id);
    if (a == NULL)
        fail_msg("alert %s not in the psychiatrist's open alerts", id);
    assert_string_equal(h_jstr(a, "variant"), "item9_2");
    assert_string_equal(h_jstr(a, "state"), "raised");
    h_cli_free(&r);
    world_free(&w);
}

/* --- 10. p0_to_lead ---------------------------------------------------------------------------
 */

static void test_p0_to_lead(void **state)
{
    struct world w;
    world_start(&w, *state, H_ENV_TEST_HOOKS, false);
    const char *db = w.e->db;
    struct h_cli r;
    RUN(&r, &w, ADMIN, "admin", "oncall", "set", "--program-lead", w.user[LEAD]);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(r.json, "program_lead"), w.user[LEAD]);
    h_cli_free(&r);

    /* imminent risk: the GP's and the psychiatrist's, 15 min */
    RUN(&r, &w, NURSE, "alert", "raise", w.thread, "--type", "A02", "--note",
        "Says she has a plan for tonight");
    h_cli_assert_ok(&r);
    const json_t *a = json_object_get(r.json, "alert");
    char id[40];
    snprintf(id, sizeof id, "%s", h_jstr(a, "alert"));
    assert_string_equal(h_jstr(a, "type"), "A02");
    assert_string_equal(h_jstr(a, "severity"), "P0");
    assert_string_equal(h_jstr(a, "state"), "raised");
    assert_int_equal(h_jint(a, "step"), 0);
    expect_users(&w, json_object_get(a, "owners"), (1u << GP) | (1u << PSY));
    assert_int_equal(h_jint(a, "deadline") - h_jint(a, "raised"), 15 * MIN_MS);
    h_cli_free(&r);

    /* 15 min: the lead's; 15 more: the chain is exhausted */
    json_t *cur = advance_until_moved(&w, id, 15 * MIN_MS);
    assert_int_equal(h_jint(cur, "step"), 1);
    expect_users(&w, json_object_get(cur, "owners"), 1u << LEAD);
    assert_false(json_is_true(json_object_get(cur, "exhausted")));
    json_decref(cur);
    cur = advance_until_moved(&w, id, 15 * MIN_MS);
    assert_true(json_is_true(json_object_get(cur, "exhausted")));
    assert_string_equal(h_jstr(cur, "state"), "raised");
    assert_int_equal(h_jint(cur, "renotified"), 0);
    json_decref(cur);

    /* then everyone again every 15 min */
    for (int k = 1; k <= 2; k++) {
        cur = advance_until_moved(&w, id, 15 * MIN_MS);
        assert_int_equal(h_jint(cur, "renotified"), k);
        assert_string_equal(h_jstr(cur, "state"), "raised");
        json_decref(cur);
        json_t *ev = last_event(&w, NURSE, id);
        assert_string_equal(h_jstr(ev, "event"), "renotified");
        expect_users(&w, json_object_get(ev, "to"),
                     (1u << NURSE) | (1u << GP) | (1u << PSY) | (1u << LEAD));
        json_decref(ev);
    }
    RUN_TEXT(&r, &w, LEAD, "alert", "list");
    assert_int_equal(r.p.status, 0);
    assert_has(r.p.out, "UNACKNOWLEDGED, chain exhausted (renotified 2, next in");
    h_cli_free(&r);
    assert_int_equal(h_audit_count(db, "alert.renotify", NULL), 2);

    /* the lead acknowledges: the re-notifications stop */
    RUN(&r, &w, LEAD, "alert", "ack", id);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(json_object_get(r.json, "alert"), "state"), "acked");
    h_cli_free(&r);
    /* a control on another thread, due within the next 30 min: once it has moved, the timer
     * pass past the acked alert's next re-notification has run */
    RUN(&r, &w, NURSE, "thread", "create", "--patient", "P-0B2", "--title", "Episode 2", "--member",
        w.user[GP], "--member", w.user[PSY]);
    h_cli_assert_ok(&r);
    char t2[40];
    snprintf(t2, sizeof t2, "%s", h_jstr(r.json, "thread"));
    h_cli_free(&r);
    RUN(&r, &w, NURSE, "alert", "raise", t2, "--type", "A02");
    h_cli_assert_ok(&r);
    char control[40];
    snprintf(control, sizeof control, "%s", h_jstr(json_object_get(r.json, "alert"), "alert"));
    h_cli_free(&r);
    cur = advance_until_moved(&w, control, 30 * MIN_MS);
    assert_int_equal(h_jint(cur, "step"), 1);
    json_decref(cur);
    cur = show_alert(&w, LEAD, id);
    assert_string_equal(h_jstr(cur, "state"), "acked");
    assert_string_equal(h_jstr(cur, "acked_by"), w.user[LEAD]);
    assert_int_equal(h_jint(cur, "renotified"), 2);
    h_jnull(cur, "deadline");
    json_decref(cur);
    assert_int_equal(h_audit_count(db, "alert.renotify", NULL), 2);
    world_free(&w);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_follow_catchup, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_oncall, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_incomplete_phq9, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_backdated, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_biweekly, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_resolve_refusals, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_imminent, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_exhausted, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_escalated_then_worse, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_p0_to_lead, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.cli_safety", tests, NULL, NULL);
}
