/*
 * test_cli_alerts.c - integration: structured clinical alerts, scale records and contacts through
 * the real `sesame` CLI (clients/cli/README.md "Alerts, scales and contacts", PROTOCOL.md §13)
 * against the real sesamed. Every command runs as a subprocess with --json; replies, the database
 * and the audit log are checked exactly.
 *
 * The team: a nurse (Anne), a GP (Claire), a psychiatrist (Hugo), all members of one thread, and
 * a second nurse outside it; every test has its own daemon and data dir.
 *
 *  - item9_positive: the nurse records a PHQ-9 with item 9 = 2: one A01/item9_2 at P1, deadline
 *    raised + 30 min, owned by the nurse, copied to the GP and the psychiatrist, who both list it;
 *    a running `follow` on the psychiatrist prints the record and the alert_event; the GP reads the
 *    record's fallback line with `thread show`.
 *  - score_rules: a plan, a baseline PHQ-9 of 20 (A04), a drop (nothing), a rise of 5 (A05), a
 *    score below 5 (A10/remission), an item 9 of 1 (A01/item9_1), the same again (a repeat of
 *    that A01, not a new alert); the episode figures of each reply.
 *  - lifecycle: ack by the owner; the GP, only copied, may not close the safety alert (NOT_OWNER,
 *    refused by the CLI before anything is sent, nothing changed); the owner's resolve without an
 *    outcome or without a note is refused by the CLI (OUTCOME_REQUIRED, NOTE_REQUIRED, exit 2,
 *    nothing sent or changed); the thread's psychiatrist resolves it with an outcome and a note
 *    and the incident closes; the timeline is raised, acked, resolved; a manual A03 with an
 *    encrypted note, resolved by the psychiatrist with a resolution note; the audit records
 *    counted exactly.
 *  - bad_input: UNKNOWN_ALERT_TYPE, SEVERITY_TOO_LOW, NOT_OWNER, DENIED (a daemon-only type) from
 *    the server, nothing changed; BAD_SCALE (8 answers, an answer of 4, a GAD-7 with every answer
 *    blank) and a refused raise with a
 *    note from the CLI: exit 2 and nothing sent at all.
 *  - contacts: `thread meta` sets the enrolment date, `contact record` counts a contact and moves
 *    last_contact to that day's 00:00 UTC; a date in the future is BAD_FIELD.
 *
 * Every test ends by scanning the data dir (database, WAL) and the daemon's log for scores: the
 * fallback line, the answer lists and "phq9" are never there.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "harness.h"
#include "sesame/scales.h"

enum { ADMIN, NURSE, GP, PSY, NURSE2, N_WHO };

static const char *const who_home[N_WHO] = {"admin", "nurse", "gp", "psy", "nurse2"};
static const char *const who_name[N_WHO] = {NULL, "Anne Martin", "Claire Petit", "Hugo Roux",
                                            "Marc Blanc"};
static const char *const who_role[N_WHO] = {"admin", "nurse", "gp", "psychiatrist", "nurse"};

static const char *const SKIP_LOGIN[] = {"devices.last_login_ms", NULL};

#define DAY_MS 86400000LL
#define PATIENT "P-7F3A"

struct world {
    struct h_env *e;
    char *home[N_WHO];
    char user[N_WHO][40];
    char device[N_WHO][40];
    char thread[40];
    char hex[33];
    int n_scan;
    char *scan[32]; /* strings that must never be found at rest */
};

#define RUN(r, w, who, ...) h_cli_run((r), (w)->home[(who)], NULL, __VA_ARGS__, NULL)

static void scan_add(struct world *w, char *s)
{
    assert_true(w->n_scan < 32);
    w->scan[w->n_scan++] = s;
}

static void world_start(struct world *w, struct h_env *e)
{
    memset(w, 0, sizeof *w);
    w->e = e;
    h_env_start(e, 0);
    w->home[ADMIN] = strdup(e->admin_home);
    for (int i = NURSE; i < N_WHO; i++)
        w->home[i] =
            h_add_user_ok(e, who_home[i], who_role[i], who_name[i], NULL, w->user[i], w->device[i]);
    struct h_cli r;
    RUN(&r, w, NURSE, "thread", "create", "--patient", PATIENT, "--title", "Episode 1", "--member",
        w->user[GP], "--member", w->user[PSY]);
    h_cli_assert_ok(&r);
    snprintf(w->thread, sizeof w->thread, "%s", h_jstr(r.json, "thread"));
    h_id_hex(w->hex, w->thread);
    h_cli_free(&r);
    scan_add(w, strdup("\"phq9\"")); /* the key of a record body (the server knows only dates) */
}

static void world_free(struct world *w)
{
    for (int i = 0; i < N_WHO; i++)
        free(w->home[i]);
    for (int i = 0; i < w->n_scan; i++)
        free(w->scan[i]);
    memset(w, 0, sizeof *w);
}

static int64_t last_seq(const struct world *w)
{
    return h_db_int(w->e->db, "SELECT last_seq FROM threads WHERE id = X'%s'", w->hex);
}

/* "YYYY-MM-DD" of today (UTC) + off days, in out[11]. */
static const char *day_str(char out[11], int off)
{
    ses_day_format((int32_t)(h_wall_ms() / DAY_MS) + off, out);
    return out;
}

static int64_t day_ms(int off)
{
    return (h_wall_ms() / DAY_MS + off) * DAY_MS;
}

/* Parses "a,b,c" (test input, trusted) into items. */
static void items_of(const char *s, uint8_t *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        items[i] = (uint8_t)(s[2 * i] - '0');
}

/* The fallback line of a record with these answers on day off (NULL: scale absent). */
static char *fallback_line(const char *phq9, const char *gad7, int off)
{
    struct ses_record rec;
    memset(&rec, 0, sizeof rec);
    rec.kind = SES_RECORD_SCALES;
    rec.day = (int32_t)(h_wall_ms() / DAY_MS) + off;
    if (phq9 != NULL) {
        rec.has_phq9 = true;
        items_of(phq9, rec.phq9, SES_PHQ9_ITEMS);
    }
    if (gad7 != NULL) {
        rec.has_gad7 = true;
        items_of(gad7, rec.gad7, SES_GAD7_ITEMS);
    }
    char line[SES_RECORD_TEXT_MAX];
    ses_record_text(&rec, line, sizeof line);
    return strdup(line);
}

/* `scale record THREAD --phq9 .. [--gad7 ..] --date today+off` by who. Returns the reply. */
static json_t *scale_ok(struct world *w, int who, const char *phq9, const char *gad7, int off)
{
    char d[11];
    struct h_cli r;
    int64_t before = last_seq(w);
    if (gad7 != NULL)
        RUN(&r, w, who, "scale", "record", w->thread, "--phq9", phq9, "--gad7", gad7, "--date",
            day_str(d, off));
    else
        RUN(&r, w, who, "scale", "record", w->thread, "--phq9", phq9, "--date", day_str(d, off));
    h_cli_assert_ok(&r);
    json_t *j = json_incref(r.json);
    h_cli_free(&r);
    const json_t *rec = json_object_get(j, "record");
    assert_string_equal(h_jstr(rec, "kind"), "scales");
    assert_string_equal(h_jstr(rec, "date"), d);
    const json_t *sent = json_object_get(j, "sent");
    assert_int_equal(h_jint(sent, "seq"), before + 1);
    assert_string_equal(h_jstr(sent, "thread"), w->thread);
    assert_int_equal(last_seq(w), before + 1);
    /* the answers as lists must never be at rest */
    scan_add(w, h_fmt("%s", phq9));
    scan_add(w, h_fmt("[%s]", phq9));
    scan_add(w, fallback_line(phq9, gad7, off));
    return j;
}

/* Asserts the array of user ids equals exactly the users of mask (any order). */
static void expect_users(const struct world *w, const json_t *arr, unsigned mask)
{
    h_expect_users(arr, (const char(*)[40])w->user, N_WHO, mask);
}

/* An ALERT object: type, variant, severity, state, owners, cc; the window from raised. */
static void expect_alert(const struct world *w, const json_t *a, const char *type,
                         const char *variant, const char *sev, const char *state, unsigned owners,
                         unsigned cc, int64_t window_ms)
{
    assert_string_equal(h_jstr(a, "type"), type);
    assert_string_equal(h_jstr(a, "variant"), variant);
    assert_string_equal(h_jstr(a, "severity"), sev);
    assert_string_equal(h_jstr(a, "state"), state);
    assert_string_equal(h_jstr(a, "thread"), w->thread);
    assert_string_equal(h_jstr(a, "patient"), PATIENT);
    expect_users(w, json_object_get(a, "owners"), owners);
    expect_users(w, json_object_get(a, "cc"), cc);
    if (window_ms > 0)
        assert_int_equal(h_jint(a, "deadline") - h_jint(a, "raised"), window_ms);
    else
        h_jnull(a, "deadline");
}

/* The alerts of a `scale record` reply: exactly n, returned for inspection. */
static const json_t *alerts_of(const json_t *j, size_t n)
{
    const json_t *a = json_object_get(j, "alerts");
    assert_true(json_is_array(a));
    if (json_array_size(a) != n)
        fail_msg("want %zu alerts, got %s", n, json_dumps(a, JSON_COMPACT));
    return a;
}

/* `alert list [--open] --thread THREAD` as who contains alert id (or not). */
static bool listed(const struct world *w, int who, const char *id, bool open)
{
    struct h_cli r;
    if (open)
        RUN(&r, w, who, "alert", "list", "--open", "--thread", w->thread);
    else
        RUN(&r, w, who, "alert", "list", "--thread", w->thread);
    h_cli_assert_ok(&r);
    bool found = false;
    size_t i;
    const json_t *a;
    json_array_foreach(json_object_get(r.json, "alerts"), i, a)
    {
        if (strcmp(h_jstr(a, "alert"), id) == 0)
            found = true;
    }
    h_cli_free(&r);
    return found;
}

static size_t open_count(const struct world *w, int who)
{
    struct h_cli r;
    RUN(&r, w, who, "alert", "list", "--open", "--thread", w->thread);
    h_cli_assert_ok(&r);
    size_t n = json_array_size(json_object_get(r.json, "alerts"));
    h_cli_free(&r);
    return n;
}

static int64_t login_count(const struct world *w, int who)
{
    char dhex[33];
    h_id_hex(dhex, w->device[who]);
    return h_db_int(w->e->db,
                    "SELECT count(*) FROM audit WHERE action = 'auth.login' AND outcome = 'ok' AND "
                    "actor_device = X'%s'",
                    dhex);
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

/* --- scanning for scores ---------------------------------------------------------------------
 */

static void scan_files(const struct world *w, const char *dir, const char *also, bool want_ref)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int leaks = 0, refs = 0;
    char *paths[64];
    int np = 0;
    while ((de = readdir(d)) != NULL && np < 63) {
        char *p = h_path(dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            paths[np++] = p;
        else
            free(p);
    }
    closedir(d);
    if (also != NULL)
        paths[np++] = strdup(also);
    for (int i = 0; i < np; i++) {
        size_t len = 0;
        char *data = h_read_file(paths[i], &len);
        if (data == NULL)
            continue; /* a -wal or -shm gone at a checkpoint */
        for (int k = 0; k < w->n_scan; k++)
            if (h_contains(data, len, w->scan[k], strlen(w->scan[k]))) {
                print_error("%s holds \"%s\"\n", paths[i], w->scan[k]);
                leaks++;
            }
        if (h_contains(data, len, PATIENT, strlen(PATIENT)))
            refs++;
        free(data);
        free(paths[i]);
    }
    assert_int_equal(leaks, 0);
    if (want_ref && refs == 0)
        fail_msg("the patient reference is not in the data dir: the scan is blind");
}

/* The data dir and the daemon's log hold no score, while running and after a clean stop. */
static void world_finish(struct world *w)
{
    scan_files(w, w->e->data, w->e->log, false);
    assert_int_equal(h_daemon_stop(&w->e->d), 0);
    scan_files(w, w->e->data, w->e->log, true);
}

/* --- 1. item9_positive -----------------------------------------------------------------------
 */

#define ITEM9_2 "2,2,2,2,1,1,1,1,2"
#define GAD_7 "1,1,1,1,1,1,1"

static void test_item9_positive(void **state)
{
    struct world w;
    world_start(&w, *state);

    /* the psychiatrist follows the thread */
    struct h_bg bg;
    int64_t logins0 = login_count(&w, PSY);
    h_cli_start_ok(&bg, w.e->tmp, "follow-psy", w.home[PSY], NULL, "follow", w.thread,
                   "--timeout-exit", "4000", NULL);
    uint64_t deadline = h_mono_ms() + H_CLI_TIMEOUT_MS;
    while (login_count(&w, PSY) == logins0 && h_mono_ms() < deadline)
        h_sleep_ms(10);
    assert_int_equal(login_count(&w, PSY), logins0 + 1);

    json_t *j = scale_ok(&w, NURSE, ITEM9_2, GAD_7, 0);
    const json_t *rec = json_object_get(j, "record");
    const json_t *phq = json_object_get(rec, "phq9");
    assert_int_equal(h_jint(phq, "total"), 14);
    assert_int_equal(h_jint(phq, "item9"), 2);
    assert_string_equal(h_jstr(phq, "band"), "PHQ_MODERATE");
    assert_int_equal(h_jint(json_object_get(rec, "gad7"), "total"), 7);
    assert_int_equal(h_jint(json_object_get(j, "episode"), "baseline"), 14);
    int64_t seq = h_jint(json_object_get(j, "sent"), "seq");
    assert_int_equal(seq, 2);
    const json_t *a = json_array_get(alerts_of(j, 1), 0);
    expect_alert(&w, a, "A01", "item9_2", "P1", "raised", 1u << NURSE, (1u << GP) | (1u << PSY),
                 1800000);
    assert_false(json_is_true(json_object_get(a, "repeat")));
    assert_string_equal(h_jstr(a, "origin"), "client");
    assert_string_equal(h_jstr(a, "raised_by"), w.user[NURSE]);
    assert_int_equal(h_jint(a, "msg_seq"), seq);
    char id[40];
    snprintf(id, sizeof id, "%s", h_jstr(a, "alert"));
    h_audit_wait_count(w.e->db, "alert.raise", "ok", 1);

    /* the copied GP and psychiatrist see it among the open alerts */
    assert_true(listed(&w, GP, id, true));
    assert_true(listed(&w, PSY, id, true));

    /* follow printed the record and the alert event */
    struct h_proc p;
    h_bg_wait(&bg, H_CLI_TIMEOUT_MS, &p);
    assert_int_equal(p.status, 0);
    json_t *lines = json_lines(p.out);
    char *line = fallback_line(ITEM9_2, GAD_7, 0);
    bool saw_msg = false, saw_alert = false;
    size_t i;
    json_t *o;
    json_array_foreach(lines, i, o)
    {
        const char *ev = h_jstr(o, "event");
        if (strcmp(ev, "msg") == 0 && h_jint(o, "seq") == seq) {
            assert_int_equal(h_jint(o, "content_type"), 2);
            assert_string_equal(h_jstr(o, "text"), line);
            saw_msg = true;
        } else if (strcmp(ev, "alert_event") == 0) {
            assert_false(saw_alert);
            assert_string_equal(h_jstr(o, "what"), "raised");
            assert_string_equal(h_jstr(json_object_get(o, "alert"), "alert"), id);
            saw_alert = true;
        }
    }
    assert_true(saw_msg);
    assert_true(saw_alert);
    json_decref(lines);
    h_proc_free(&p);

    /* the GP decrypts the record: its fallback line and its answers */
    struct h_cli r;
    RUN(&r, &w, GP, "thread", "show", w.thread);
    h_cli_assert_ok(&r);
    const json_t *m = json_array_get(json_object_get(r.json, "messages"), 1);
    assert_int_equal(h_jint(m, "seq"), seq);
    assert_int_equal(h_jint(m, "content_type"), 2);
    assert_string_equal(h_jstr(m, "content"), "scale");
    assert_string_equal(h_jstr(m, "text"), line);
    assert_int_equal(h_jint(json_object_get(json_object_get(m, "record"), "phq9"), "total"), 14);
    h_cli_free(&r);
    free(line);
    json_decref(j);
    assert_int_equal(h_audit_count(w.e->db, "alert.raise", NULL), 1);
    world_finish(&w);
    world_free(&w);
}

/* --- 2. score_rules --------------------------------------------------------------------------
 */

static void test_score_rules(void **state)
{
    struct world w;
    world_start(&w, *state);
    const int d0 = -28;
    char d[11];
    struct h_cli r;

    /* a plan with an antidepressant on day 0 */
    RUN(&r, &w, NURSE, "plan", "record", w.thread, "--date", day_str(d, d0), "--antidepressant");
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(json_object_get(r.json, "record"), "kind"), "plan");
    assert_true(json_is_true(json_object_get(json_object_get(r.json, "record"), "antidepressant")));
    assert_int_equal(h_jint(json_object_get(r.json, "sent"), "seq"), 2);
    h_cli_free(&r);

    /* baseline 20: severe (A04) */
    json_t *j = scale_ok(&w, NURSE, "3,3,3,3,2,2,2,2,0", NULL, d0);
    const json_t *a = json_array_get(alerts_of(j, 1), 0);
    expect_alert(&w, a, "A04", "", "P2", "raised", 1u << NURSE, (1u << GP) | (1u << PSY),
                 7 * DAY_MS);
    const json_t *ep = json_object_get(j, "episode");
    assert_int_equal(h_jint(ep, "baseline"), 20);
    h_jnull(ep, "previous");
    json_decref(j);

    /* 12 a week later: better, but no response yet; nothing raised */
    j = scale_ok(&w, NURSE, "2,2,1,1,1,1,2,2,0", NULL, d0 + 7);
    alerts_of(j, 0);
    ep = json_object_get(j, "episode");
    assert_int_equal(h_jint(ep, "previous"), 20);
    assert_int_equal(h_jint(json_object_get(ep, "change"), "pct"), 40);
    assert_false(json_is_true(json_object_get(json_object_get(ep, "change"), "response")));
    json_decref(j);

    /* 17: up 5 from the previous score (A05, worsening) */
    j = scale_ok(&w, PSY, "2,2,2,2,2,2,2,3,0", NULL, d0 + 14);
    a = json_array_get(alerts_of(j, 1), 0);
    expect_alert(&w, a, "A05", "", "P2", "raised", 1u << NURSE, 1u << PSY, 7 * DAY_MS);
    assert_string_equal(h_jstr(a, "raised_by"), w.user[PSY]);
    json_decref(j);

    /* 3: below 5 from a baseline of 20 (A10/remission) */
    j = scale_ok(&w, NURSE, "0,0,0,1,1,1,0,0,0", NULL, d0 + 21);
    a = json_array_get(alerts_of(j, 1), 0);
    expect_alert(&w, a, "A10", "remission", "P3", "raised", 1u << NURSE, (1u << GP) | (1u << PSY),
                 14 * DAY_MS);
    ep = json_object_get(j, "episode");
    assert_true(json_is_true(json_object_get(json_object_get(ep, "change"), "remission")));
    assert_int_equal(h_jint(ep, "weeks_on_plan"), 3);
    assert_true(json_is_true(json_object_get(json_object_get(ep, "plan"), "antidepressant")));
    json_decref(j);

    /* item 9 = 1: A01/item9_1 (4 h); then the same again: a repeat of that alert */
    j = scale_ok(&w, NURSE, "0,0,0,0,0,0,0,0,1", NULL, d0 + 28);
    a = json_array_get(alerts_of(j, 1), 0);
    expect_alert(&w, a, "A01", "item9_1", "P1", "raised", 1u << NURSE, 1u << GP, 4 * 3600000LL);
    assert_false(json_is_true(json_object_get(a, "repeat")));
    char id[40];
    snprintf(id, sizeof id, "%s", h_jstr(a, "alert"));
    json_decref(j);
    j = scale_ok(&w, NURSE, "0,0,0,0,0,0,0,0,1", NULL, d0 + 28);
    a = json_array_get(alerts_of(j, 1), 0);
    assert_true(json_is_true(json_object_get(a, "repeat")));
    assert_string_equal(h_jstr(a, "alert"), id);
    assert_int_equal(h_jint(a, "repeats"), 1);
    json_decref(j);

    /* open: A04, A05, A10, A01 */
    assert_int_equal(open_count(&w, GP), 4);
    h_audit_wait_count(w.e->db, "alert.raise", "ok", 4);
    h_audit_wait_count(w.e->db, "alert.repeat", "ok", 1);
    world_finish(&w);
    world_free(&w);
}

/* --- 3. lifecycle ----------------------------------------------------------------------------
 */

static void test_lifecycle(void **state)
{
    struct world w;
    world_start(&w, *state);
    const char *db = w.e->db;
    json_t *j = scale_ok(&w, NURSE, ITEM9_2, NULL, 0);
    char id[40], prefix[9];
    snprintf(id, sizeof id, "%s", h_jstr(json_array_get(alerts_of(j, 1), 0), "alert"));
    snprintf(prefix, sizeof prefix, "%.8s", id);
    json_decref(j);
    struct h_cli r;

    /* the owner acknowledges (by prefix) */
    RUN(&r, &w, NURSE, "alert", "ack", prefix);
    h_cli_assert_ok(&r);
    const json_t *a = json_object_get(r.json, "alert");
    assert_string_equal(h_jstr(a, "alert"), id);
    assert_string_equal(h_jstr(a, "state"), "acked");
    assert_string_equal(h_jstr(a, "acked_by"), w.user[NURSE]);
    assert_true(h_jint(a, "acked") >= h_jint(a, "raised"));
    h_cli_free(&r);

    /* a cc-only member never closes a safety alert, and no safety alert is closed without the
     * risk assessment and its note: the CLI refuses before anything is sent, nothing changes */
    struct h_snap snap;
    int64_t seq1 = last_seq(&w);
    h_snap_take(&snap, db, SKIP_LOGIN);
    RUN(&r, &w, GP, "alert", "resolve", id, "--code", "RISK_ASSESSED");
    h_cli_assert_error(&r, 1, "NOT_OWNER");
    assert_int_equal(r.p.out_len, 0);
    h_cli_free(&r);
    RUN(&r, &w, NURSE, "alert", "resolve", id, "--code", "RISK_ASSESSED");
    h_cli_assert_error(&r, 2, "OUTCOME_REQUIRED");
    assert_int_equal(r.p.out_len, 0);
    h_cli_free(&r);
    RUN(&r, &w, NURSE, "alert", "resolve", id, "--code", "RISK_ASSESSED", "--outcome", "low");
    h_cli_assert_error(&r, 2, "NOTE_REQUIRED");
    assert_int_equal(r.p.out_len, 0);
    h_cli_free(&r);
    h_snap_expect_rest_same(&snap, db);
    h_snap_free(&snap);
    assert_int_equal(h_audit_count(db, "alert.resolve", NULL), 0);

    RUN(&r, &w, PSY, "alert", "resolve", id, "--code", "RISK_ASSESSED", "--outcome", "low",
        "--note", "Phoned the patient: passive thoughts, no plan; safety plan reviewed.");
    h_cli_assert_ok(&r);
    a = json_object_get(r.json, "alert");
    assert_string_equal(h_jstr(a, "state"), "resolved");
    assert_string_equal(h_jstr(a, "resolved_by"), w.user[PSY]);
    assert_int_equal(h_jint(a, "resolve_msg_seq"), seq1 + 1);
    assert_string_equal(h_jstr(a, "resolution"), "RISK_ASSESSED");
    assert_string_equal(h_jstr(a, "outcome"), "low");
    h_cli_free(&r);
    /* the incident is closed: nothing open in the thread */
    assert_int_equal(open_count(&w, NURSE), 0);
    assert_true(listed(&w, NURSE, id, false));

    RUN(&r, &w, PSY, "alert", "show", prefix);
    h_cli_assert_ok(&r);
    const json_t *tl = json_object_get(r.json, "timeline");
    assert_int_equal(json_array_size(tl), 3);
    const char *want[] = {"raised", "acked", "resolved"};
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(h_jstr(json_array_get(tl, i), "event"), want[i]);
    assert_string_equal(h_jstr(json_array_get(tl, 1), "by"), w.user[NURSE]);
    assert_string_equal(h_jstr(json_array_get(tl, 2), "by"), w.user[PSY]);
    /* the note of a record-raised alert is the record itself */
    assert_string_equal(h_jstr(json_object_get(r.json, "note"), "content"), "scale");
    h_cli_free(&r);

    /* by hand, with an encrypted note; resolved with a note */
    int64_t seq0 = last_seq(&w);
    RUN(&r, &w, PSY, "alert", "raise", w.thread, "--type", "A03", "--note",
        "Call with the patient, moderate risk");
    h_cli_assert_ok(&r);
    assert_int_equal(h_jint(r.json, "note_seq"), seq0 + 1);
    a = json_object_get(r.json, "alert");
    expect_alert(&w, a, "A03", "", "P1", "raised", 1u << PSY, 1u << GP, 4 * 3600000LL);
    assert_string_equal(h_jstr(a, "origin"), "manual");
    assert_int_equal(h_jint(a, "msg_seq"), seq0 + 1);
    char id2[40];
    snprintf(id2, sizeof id2, "%s", h_jstr(a, "alert"));
    h_cli_free(&r);
    RUN(&r, &w, PSY, "alert", "resolve", id2, "--code", "RISK_ASSESSED", "--outcome", "moderate",
        "--note", "Seen today, safety plan agreed");
    h_cli_assert_ok(&r);
    assert_int_equal(h_jint(json_object_get(r.json, "alert"), "resolve_msg_seq"), seq0 + 2);
    h_cli_free(&r);
    RUN(&r, &w, NURSE, "alert", "show", id2);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(json_object_get(r.json, "note"), "text"),
                        "Call with the patient, moderate risk");
    assert_string_equal(h_jstr(json_object_get(r.json, "resolve_note"), "text"),
                        "Seen today, safety plan agreed");
    h_cli_free(&r);
    scan_add(&w, strdup("Call with the patient"));
    scan_add(&w, strdup("passive thoughts, no plan"));
    scan_add(&w, strdup("safety plan agreed"));

    h_audit_wait_count(db, "alert.raise", "ok", 2);
    assert_int_equal(h_audit_count(db, "alert.raise", NULL), 2);
    assert_int_equal(h_audit_count(db, "alert.ack", NULL), 1);
    assert_int_equal(h_audit_count(db, "alert.resolve", NULL), 2);
    assert_int_equal(h_audit_count(db, "alert.resolve", "ok"), 2);
    world_finish(&w);
    world_free(&w);
}

/* --- 4. bad_input ----------------------------------------------------------------------------
 */

static void test_bad_input(void **state)
{
    struct world w;
    world_start(&w, *state);
    const char *db = w.e->db;
    json_t *j = scale_ok(&w, NURSE, ITEM9_2, NULL, 0);
    char id[40];
    snprintf(id, sizeof id, "%s", h_jstr(json_array_get(alerts_of(j, 1), 0), "alert"));
    json_decref(j);
    h_audit_wait_count(db, "alert.raise", "ok", 1);
    struct h_cli r;

    /* refused by the server: exit 1, nothing changed */
    struct h_snap snap;
    h_snap_take(&snap, db, SKIP_LOGIN);
#define REFUSED(who, code, ...)                                                                    \
    do {                                                                                           \
        RUN(&r, &w, (who), __VA_ARGS__);                                                           \
        h_cli_assert_error(&r, 1, (code));                                                         \
        assert_int_equal(r.p.out_len, 0);                                                          \
        h_cli_free(&r);                                                                            \
    } while (0)
    REFUSED(NURSE, "UNKNOWN_ALERT_TYPE", "alert", "raise", w.thread, "--type", "A99");
    REFUSED(NURSE, "UNKNOWN_ALERT_TYPE", "alert", "raise", w.thread, "--type", "A01", "--variant",
            "item9_7");
    REFUSED(NURSE, "SEVERITY_TOO_LOW", "alert", "raise", w.thread, "--type", "A02", "--severity",
            "P1");
    REFUSED(GP, "NOT_OWNER", "alert", "ack", id);
    REFUSED(NURSE, "DENIED", "alert", "raise", w.thread, "--type", "A07");
#undef REFUSED
    h_snap_expect_rest_same(&snap, db);
    h_snap_free(&snap);
    assert_int_equal(h_audit_count(db, "alert.raise", NULL), 1);
    assert_int_equal(h_audit_count(db, "alert.ack", NULL), 0);

    /* refused by the CLI before anything is sent: exit 2, not even a login */
    int64_t seq = last_seq(&w);
    h_snap_take(&snap, db, NULL);
    RUN(&r, &w, NURSE, "scale", "record", w.thread, "--phq9", "1,1,1,1,1,1,1,1");
    h_cli_assert_error(&r, 2, "BAD_SCALE");
    h_cli_free(&r);
    RUN(&r, &w, NURSE, "scale", "record", w.thread, "--phq9", "1,1,1,4,1,1,1,1,1");
    h_cli_assert_error(&r, 2, "BAD_SCALE");
    h_cli_free(&r);
    RUN(&r, &w, NURSE, "scale", "record", w.thread, "--phq9", "1,1,1,1,1,1,1,1,1", "--gad7",
        ",,,,,,");
    h_cli_assert_error(&r, 2, "BAD_SCALE");
    h_cli_free(&r);
    h_snap_expect_same(&snap, db);
    h_snap_free(&snap);
    assert_int_equal(last_seq(&w), seq);

    /* with a note, the CLI checks the catalogue before the note goes out */
    RUN(&r, &w, NURSE, "alert", "raise", w.thread, "--type", "A99", "--note", "never sent");
    h_cli_assert_error(&r, 2, "UNKNOWN_ALERT_TYPE");
    h_cli_free(&r);
    RUN(&r, &w, NURSE, "alert", "raise", w.thread, "--type", "A07", "--note", "never sent");
    h_cli_assert_error(&r, 2, "DENIED");
    h_cli_free(&r);
    assert_int_equal(last_seq(&w), seq);
    world_finish(&w);
    world_free(&w);
}

/* --- 5. contacts -----------------------------------------------------------------------------
 */

static void test_contacts(void **state)
{
    struct world w;
    world_start(&w, *state);
    const char *db = w.e->db;
    char d[11];
    struct h_cli r;

    /* enrolled a month ago; one contact yesterday */
    RUN(&r, &w, NURSE, "thread", "meta", w.thread, "--enrolled", day_str(d, -30));
    h_cli_assert_ok(&r);
    assert_int_equal(h_jint(json_object_get(r.json, "meta"), "enrolled"), day_ms(-30));
    h_cli_free(&r);
    RUN(&r, &w, NURSE, "contact", "record", w.thread, "--date", day_str(d, -1));
    h_cli_assert_ok(&r);
    const json_t *m = json_object_get(r.json, "meta");
    assert_int_equal(h_jint(m, "contacts"), 1);
    assert_int_equal(h_jint(m, "last_contact"), day_ms(-1));
    h_cli_free(&r);

    RUN(&r, &w, GP, "thread", "meta", w.thread);
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(r.json, "thread"), w.thread);
    m = json_object_get(r.json, "meta");
    assert_int_equal(h_jint(m, "contacts"), 1);
    assert_int_equal(h_jint(m, "last_contact"), day_ms(-1));
    assert_string_equal(h_jstr(m, "phase"), "active");
    h_cli_free(&r);

    /* a contact in the future is refused; nothing changes */
    struct h_snap snap;
    h_snap_take(&snap, db, SKIP_LOGIN);
    RUN(&r, &w, NURSE, "contact", "record", w.thread, "--date", day_str(d, 2));
    h_cli_assert_error(&r, 1, "BAD_FIELD");
    h_cli_free(&r);
    h_snap_expect_rest_same(&snap, db);
    h_snap_free(&snap);

    RUN(&r, &w, NURSE, "thread", "meta", w.thread, "--phase", "relapse_prevention");
    h_cli_assert_ok(&r);
    assert_string_equal(h_jstr(json_object_get(r.json, "meta"), "phase"), "relapse_prevention");
    assert_int_equal(h_jint(json_object_get(r.json, "meta"), "contacts"), 1);
    h_cli_free(&r);
    world_finish(&w);
    world_free(&w);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_item9_positive, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_score_rules, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_lifecycle, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_contacts, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.cli_alerts", tests, NULL, NULL);
}
