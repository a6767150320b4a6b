/*
 * test_alerts.c - integration: structured clinical alerts (PROTOCOL.md §13) against the real
 * sesamed, through the real client library, with the daemon's clock moved by the test_clock hook
 * (and by --test-clock-offset across a restart) instead of sleeping.
 *
 * The team: a nurse, her backup nurse, a psychiatrist, a GP, a program lead (a psychiatrist outside
 * the threads) and an auditor; the daemon runs with `backup = NURSE NURSE2` and
 * `program_lead = LEAD`.
 *
 *  - escalation_chain: A01 item 9 >= 2 is P1 with a deadline exactly 30 min after it was raised,
 *    owned by the nurse, copied to the GP and the psychiatrist, pushed to them; at 29 min nothing
 *    moves; at 30 min it escalates to the backup (timeline, push, audit), then the GP, then the
 *    on-duty psychiatrist (= the thread's), then the chain is exhausted: the lead is copied and,
 *    at 59 min nothing, at 60 min and 120 min everyone who owned it, the cc and the lead are told
 *    again (renotified); a former owner acks.
 *  - escalation_survives_restart: an alert raised, the daemon stopped, restarted 31 minutes later
 *    (clock offset at start): the escalation fires at start-up without any request; an
 *    acknowledged alert and a 7-day alert do not move.
 *  - incident_grouping: A01 and A04 on one patient form one incident of the higher severity; a
 *    repeat counts on the open alert; a more urgent repeat upgrades it; the GP, only copied, may
 *    not close the safety alert (NOT_OWNER), the owner not without an outcome, a note, or with a
 *    dismissal above low (nothing changes), and can with them; the incident follows its open
 *    alerts and closes with the last; a later alert opens a new incident.
 *  - bad_input: each refusal with its code, and nothing changed but an authz.denied record where
 *    the refusal is a denial.
 *  - time_rules: the daemon raises A07 at 14 days, A08 (first follow-up) and A22 (no PHQ-9) at
 *    28 days; a contact clears A08, a psychiatric review clears A07 (CONDITION_CLEARED); A08
 *    (active) 21 days after the contact.
 *  - new_signal: item 9 = 3 on an A01 acknowledged two weeks ago, or escalated to the backup,
 *    re-opens it (raised, step 0, the nurse owning it, a fresh 30-minute deadline, the
 *    psychiatrist copied; the timeline says why); a new item 9 = 1 on an acknowledged one too
 *    (reopened, 4 h); a repeat on a running deadline changes nothing.
 *  - outcomes: imminent raises an A02 P0 in the same incident with the site's emergency routes;
 *    the psychiatrist's high raises an A03 owned by the psychiatrist.
 *  - p0_renotified: an unacknowledged A02 goes to the lead, is exhausted, then told again every
 *    15 minutes to all (three times) until the lead acknowledges; nothing after.
 *  - oncall: an admin's on-call settings are validated (DENIED for a nurse, BAD_FIELD, nothing
 *    written), audited, in force (the warnings go), kept across a restart.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "wire.h"
#include "sesame/err.h"

#define MIN_MS (60 * 1000LL)
#define DAY_MS (24 * 60 * MIN_MS)

enum { ADMIN, NURSE, NURSE2, PSY, GP, LEAD, AUDITOR, N_WHO };

static int64_t clock_offset_ms; /* how far the test moved the daemon's clock */

struct team {
    struct h_env *e;
    char *home[N_WHO];
    char user[N_WHO][40];
    struct w_dev *dev[N_WHO];
    const char *args[12];
    char backup_arg[100];
};

/* Starts the daemon with the alert options for this team (extra: more args, NULL-terminated). */
static void team_daemon_start(struct team *t, const char *const extra[])
{
    int n = 0;
    snprintf(t->backup_arg, sizeof t->backup_arg, "%s %s", t->user[NURSE], t->user[NURSE2]);
    t->args[n++] = "--test-hooks";
    t->args[n++] = "--backup";
    t->args[n++] = t->backup_arg;
    t->args[n++] = "--program-lead";
    t->args[n++] = t->user[LEAD];
    for (int i = 0; extra != NULL && extra[i] != NULL && n < 11; i++)
        t->args[n++] = extra[i];
    t->args[n] = NULL;
    h_daemon_start_ok(&t->e->d, t->e->data, t->e->log, NULL, t->args);
    char url[64]; /* the CLI profiles follow the daemon to its new port */
    snprintf(url, sizeof url, "wss://127.0.0.1:%d", t->e->d.port);
    for (int i = 0; i < N_WHO && t->home[i] != NULL; i++)
        h_home_set_server_ok(t->home[i], url);
}

static void team_start(struct team *t, struct h_env *e)
{
    clock_offset_ms = 0;
    static const char *const roles[N_WHO] = {"admin", "nurse",        "nurse",  "psychiatrist",
                                             "gp",    "psychiatrist", "auditor"};
    static const char *const names[N_WHO] = {"admin",     "Anne Martin",  "Lea Morel",
                                             "Hugo Roux", "Claire Petit", "Paul Lead",
                                             "Ines Weber"};
    static const char *const homes[N_WHO] = {"admin", "nurse", "nurse2", "psy",
                                             "gp",    "lead",  "auditor"};
    memset(t, 0, sizeof *t);
    t->e = e;
    h_env_start(e, H_ENV_TEST_HOOKS);
    t->home[ADMIN] = strdup(e->admin_home);
    snprintf(t->user[ADMIN], sizeof t->user[ADMIN], "%s", e->admin_user);
    for (int i = 1; i < N_WHO; i++)
        t->home[i] = h_add_user_ok(e, homes[i], roles[i], names[i], NULL, t->user[i], NULL);
    for (int i = 0; i < N_WHO; i++)
        t->dev[i] = w_dev_load(t->home[i]);
    assert_int_equal(h_daemon_stop(&e->d), 0);
    team_daemon_start(t, NULL);
}

static void team_free(struct team *t)
{
    for (int i = 0; i < N_WHO; i++) {
        w_dev_free(t->dev[i]);
        free(t->home[i]);
    }
}

static struct ses_conn *login(const struct team *t, int who)
{
    return w_login_settled(t->e, t->dev[who]);
}

/* The nurse opens a thread for patient with the psychiatrist and the GP; returns its id. */
static char *thread_ok(const struct team *t, struct ses_conn *nurse, const char *patient)
{
    json_t *req = json_pack("{s:s, s:s, s:[s, s]}", "t", "thread_create", "patient", patient,
                            "members", t->user[PSY], t->user[GP]);
    json_t *r = w_request_ok(nurse, req, "thread");
    char *id = strdup(h_jstr(r, "thread"));
    json_decref(r);
    return id;
}

static json_t *raise_req(const char *thread, const char *type, const char *variant,
                         const char *severity)
{
    json_t *req = json_pack("{s:s, s:s, s:s}", "t", "alert_raise", "thread", thread, "type", type);
    if (variant)
        json_object_set_new(req, "variant", json_string(variant));
    if (severity)
        json_object_set_new(req, "severity", json_string(severity));
    return req;
}

/* Raises and returns the ALERT object (caller decrefs); *repeat gets the reply's flag. */
static json_t *raise_ok(struct ses_conn *c, const char *thread, const char *type,
                        const char *variant, bool *repeat)
{
    json_t *r = w_request_ok(c, raise_req(thread, type, variant, NULL), "alert");
    assert_true(json_is_boolean(json_object_get(r, "repeat")));
    if (repeat)
        *repeat = json_is_true(json_object_get(r, "repeat"));
    json_t *a = json_incref(json_object_get(r, "alert"));
    json_decref(r);
    assert_non_null(a);
    return a;
}

static json_t *show_ok(struct ses_conn *c, const char *alert)
{
    return w_request_ok(c, json_pack("{s:s, s:s}", "t", "alert_show", "alert", alert), "alert");
}

static int64_t advance(struct ses_conn *c, int64_t ms)
{
    clock_offset_ms += ms;
    json_t *r =
        w_request_ok(c, json_pack("{s:s, s:I}", "t", "test_clock", "advance_ms", ms), "test_clock");
    int64_t now = h_jint(r, "now");
    json_decref(r);
    return now;
}

/* Polls alert_show (<= 5 s) until the alert's step is `step` (or, for step < 0, it is exhausted);
 * returns the show reply. */
static json_t *wait_step(struct ses_conn *c, const char *alert, int step)
{
    uint64_t until = h_mono_ms() + 5000;
    for (;;) {
        json_t *r = show_ok(c, alert);
        const json_t *a = json_object_get(r, "alert");
        if (step >= 0 ? h_jint(a, "step") == step : json_is_true(json_object_get(a, "exhausted")))
            return r;
        json_decref(r);
        if (h_mono_ms() > until)
            fail_msg("alert %s did not reach step %d", alert, step);
        h_sleep_ms(20);
    }
}

static void expect_ids(const json_t *arr, const char *const ids[], size_t n)
{
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), n);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t k = 0; k < n; k++)
            found = found || strcmp(json_string_value(json_array_get(arr, k)), ids[i]) == 0;
        if (!found)
            fail_msg("%s missing", ids[i]);
    }
}

/* The next frame on c is an alert_event push for alert with this event. */
static void expect_push(struct ses_conn *c, const char *alert, const char *event)
{
    json_t *p = w_recv(c, 5000);
    w_expect_type(p, "alert_event", -1);
    assert_string_equal(h_jstr(p, "event"), event);
    assert_string_equal(h_jstr(json_object_get(p, "alert"), "alert"), alert);
    json_decref(p);
}

static const json_t *last_event(const json_t *show)
{
    const json_t *tl = json_object_get(show, "timeline");
    return json_array_get(tl, json_array_size(tl) - 1);
}

static void test_escalation_chain(void **state)
{
    struct h_env *e = *state;
    struct team t;
    team_start(&t, e);
    struct ses_conn *nurse = login(&t, NURSE), *backup = login(&t, NURSE2), *gp = login(&t, GP),
                    *psy = login(&t, PSY), *lead = login(&t, LEAD);
    char *th = thread_ok(&t, nurse, "P-7F3A");
    json_decref(w_drain(nurse));
    json_decref(w_drain(gp));
    json_decref(w_drain(psy));

    int64_t audit0 = h_audit_max_seq(e->db);
    json_t *a = raise_ok(nurse, th, "A01", "item9_2", NULL);
    const char *id = h_jstr(a, "alert");
    assert_string_equal(h_jstr(a, "type"), "A01");
    assert_string_equal(h_jstr(a, "variant"), "item9_2");
    assert_string_equal(h_jstr(a, "name"), "SAFETY_ITEM9_POSITIVE");
    assert_string_equal(h_jstr(a, "severity"), "P1");
    assert_string_equal(h_jstr(a, "state"), "raised");
    assert_string_equal(h_jstr(a, "origin"), "client");
    assert_string_equal(h_jstr(a, "patient"), "P-7F3A");
    assert_string_equal(h_jstr(a, "raised_by"), t.user[NURSE]);
    assert_int_equal(h_jint(a, "deadline") - h_jint(a, "raised"), 30 * MIN_MS);
    assert_int_equal(h_jint(a, "step"), 0);
    const char *owner[] = {t.user[NURSE]}, *cc[] = {t.user[GP], t.user[PSY]};
    expect_ids(json_object_get(a, "owners"), owner, 1);
    expect_ids(json_object_get(a, "cc"), cc, 2);
    assert_int_equal(h_audit_expect_one(e->db, audit0, "alert.raise", "ok"), audit0 + 1);
    expect_push(gp, id, "raised");
    expect_push(psy, id, "raised");
    expect_push(nurse, id, "raised");
    assert_int_equal(w_drain_only(backup, NULL), 0); /* not concerned yet */

    /* 29 minutes: nothing moves */
    advance(nurse, 29 * MIN_MS);
    h_sleep_ms(300);
    json_t *s = show_ok(nurse, id);
    assert_int_equal(h_jint(json_object_get(s, "alert"), "step"), 0);
    json_decref(s);

    /* 30 minutes: to the backup nurse */
    int64_t t30 = advance(nurse, 1 * MIN_MS);
    s = wait_step(nurse, id, 1);
    const json_t *sa = json_object_get(s, "alert");
    const char *backup_id[] = {t.user[NURSE2]};
    expect_ids(json_object_get(sa, "owners"), backup_id, 1);
    assert_string_equal(h_jstr(sa, "state"), "raised");
    const json_t *ev = last_event(s);
    assert_string_equal(h_jstr(ev, "event"), "escalated");
    assert_string_equal(h_jstr(ev, "detail"), "deadline_passed");
    h_jnull(ev, "by");
    expect_ids(json_object_get(ev, "to"), backup_id, 1);
    assert_true(h_jint(ev, "ts") >= t30);
    assert_int_equal(h_jint(sa, "deadline") - h_jint(ev, "ts"), 30 * MIN_MS);
    assert_int_equal(json_array_size(json_object_get(s, "timeline")), 2);
    json_decref(s);
    expect_push(backup, id, "escalated");
    assert_int_equal(h_audit_count(e->db, "alert.escalate", "ok"), 1);

    /* then the GP, then the on-duty psychiatrist (the thread's), then nobody is left */
    advance(nurse, 30 * MIN_MS);
    s = wait_step(nurse, id, 2);
    const char *gp_id[] = {t.user[GP]};
    expect_ids(json_object_get(json_object_get(s, "alert"), "owners"), gp_id, 1);
    json_decref(s);
    advance(nurse, 30 * MIN_MS);
    s = wait_step(nurse, id, 3);
    const char *psy_id[] = {t.user[PSY]};
    expect_ids(json_object_get(json_object_get(s, "alert"), "owners"), psy_id, 1);
    json_decref(s);
    advance(nurse, 30 * MIN_MS);
    s = wait_step(nurse, id, -1);
    sa = json_object_get(s, "alert");
    assert_int_equal(h_jint(sa, "step"), 3);
    assert_string_equal(h_jstr(last_event(s), "event"), "exhausted");
    /* never silence: the lead is copied, and the next re-notification is due in an hour (P1) */
    assert_int_equal(h_jint(sa, "deadline") - h_jint(last_event(s), "ts"), 60 * MIN_MS);
    const char *cc_lead[] = {t.user[GP], t.user[PSY], t.user[LEAD]};
    expect_ids(json_object_get(sa, "cc"), cc_lead, 3);
    assert_int_equal(h_jint(sa, "renotified"), 0);
    json_decref(s);
    assert_int_equal(h_audit_count(e->db, "alert.escalate", "ok"), 4);
    json_decref(w_drain(lead));
    advance(nurse, 59 * MIN_MS);
    h_sleep_ms(300);
    s = show_ok(nurse, id);
    assert_int_equal(h_jint(json_object_get(s, "alert"), "renotified"), 0);
    json_decref(s);
    advance(nurse, MIN_MS);
    for (int k = 1; k <= 2; k++) {
        uint64_t until = h_mono_ms() + 5000;
        for (;;) {
            s = show_ok(nurse, id);
            if (h_jint(json_object_get(s, "alert"), "renotified") == k)
                break;
            json_decref(s);
            if (h_mono_ms() > until)
                fail_msg("no re-notification %d", k);
            h_sleep_ms(20);
        }
        ev = last_event(s);
        assert_string_equal(h_jstr(ev, "event"), "renotified");
        const char *everyone[] = {t.user[NURSE], t.user[NURSE2], t.user[PSY], t.user[GP],
                                  t.user[LEAD]};
        expect_ids(json_object_get(ev, "to"), everyone, 5);
        json_decref(s);
        expect_push(lead, id, "renotified");
        if (k == 1)
            advance(nurse, 60 * MIN_MS);
    }
    assert_int_equal(h_audit_count(e->db, "alert.renotify", "ok"), 2);
    ses_conn_free(lead);

    /* the first owner, a former owner now, acknowledges */
    json_t *r =
        w_request_ok(nurse, json_pack("{s:s, s:s}", "t", "alert_ack", "alert", id), "alert");
    sa = json_object_get(r, "alert");
    assert_string_equal(h_jstr(sa, "state"), "acked");
    assert_string_equal(h_jstr(sa, "acked_by"), t.user[NURSE]);
    json_decref(r);
    assert_int_equal(h_audit_count(e->db, "alert.ack", "ok"), 1);

    json_decref(a);
    free(th);
    ses_conn_free(nurse);
    ses_conn_free(backup);
    ses_conn_free(gp);
    ses_conn_free(psy);
    team_free(&t);
}

static void test_escalation_survives_restart(void **state)
{
    struct h_env *e = *state;
    struct team t;
    team_start(&t, e);
    struct ses_conn *nurse = login(&t, NURSE);
    char *th = thread_ok(&t, nurse, "P-RST1");
    char *th2 = thread_ok(&t, nurse, "P-RST2");
    char *th3 = thread_ok(&t, nurse, "P-RST3");
    json_t *a = raise_ok(nurse, th, "A01", "item9_2", NULL);
    json_t *acked = raise_ok(nurse, th2, "A01", "item9_2", NULL);
    json_t *slow = raise_ok(nurse, th3, "A05", NULL, NULL);
    json_decref(w_request_ok(
        nurse, json_pack("{s:s, s:s}", "t", "alert_ack", "alert", h_jstr(acked, "alert")),
        "alert"));
    ses_conn_free(nurse);
    assert_int_equal(h_daemon_stop(&e->d), 0);

    /* 31 minutes later, the daemon starts again: the escalation due while it was down fires */
    const char *const later[] = {"--test-clock-offset", "1860", NULL};
    team_daemon_start(&t, later);
    char *id_hex = NULL;
    uint64_t until = h_mono_ms() + 5000;
    while (h_audit_count(e->db, "alert.escalate", "ok") < 1) {
        if (h_mono_ms() > until)
            fail_msg("no escalation at start-up");
        h_sleep_ms(20);
    }
    setenv("SESAME_TEST_CLOCK_OFFSET_MS", "1860000", 1);
    nurse = login(&t, NURSE);
    unsetenv("SESAME_TEST_CLOCK_OFFSET_MS");
    json_t *s = wait_step(nurse, h_jstr(a, "alert"), 1);
    const char *backup_id[] = {t.user[NURSE2]};
    expect_ids(json_object_get(json_object_get(s, "alert"), "owners"), backup_id, 1);
    json_decref(s);
    s = show_ok(nurse, h_jstr(acked, "alert"));
    assert_int_equal(h_jint(json_object_get(s, "alert"), "step"), 0);
    assert_string_equal(h_jstr(json_object_get(s, "alert"), "state"), "acked");
    json_decref(s);
    s = show_ok(nurse, h_jstr(slow, "alert"));
    assert_int_equal(h_jint(json_object_get(s, "alert"), "step"), 0);
    json_decref(s);
    assert_int_equal(h_audit_count(e->db, "alert.escalate", "ok"), 1);
    free(id_hex);
    json_decref(a);
    json_decref(acked);
    json_decref(slow);
    free(th);
    free(th2);
    free(th3);
    ses_conn_free(nurse);
    team_free(&t);
}

/* Sends a note to thread through the real CLI as `who` (at the moved clock); returns its seq. */
static int64_t note_seq(const struct team *t, int who, const char *thread, const char *text)
{
    char off[32];
    snprintf(off, sizeof off, "SESAME_TEST_CLOCK_OFFSET_MS=%lld", (long long)clock_offset_ms);
    const char *const env[] = {off, NULL};
    struct h_cli r;
    h_cli_run(&r, t->home[who], env, "send", thread, text, NULL);
    h_cli_assert_ok(&r);
    int64_t seq = h_jint(r.json, "seq");
    h_cli_free(&r);
    return seq;
}

static json_t *resolve_req(const char *alert, const char *code, const char *outcome, int64_t note)
{
    json_t *req = json_pack("{s:s, s:s, s:s}", "t", "alert_resolve", "alert", alert, "code", code);
    if (outcome)
        json_object_set_new(req, "outcome", json_string(outcome));
    if (note > 0)
        json_object_set_new(req, "msg_seq", json_integer(note));
    return req;
}

static void resolve_error(struct ses_conn *c, const char *alert, const char *code,
                          const char *outcome, int64_t note, int err)
{
    w_request_error(c, resolve_req(alert, code, outcome, note), err);
}

static json_t *resolve_ok(struct ses_conn *c, const char *alert, const char *code,
                          const char *outcome, int64_t note)
{
    return w_request_ok(c, resolve_req(alert, code, outcome, note), "alert");
}

static void test_incident_grouping(void **state)
{
    struct h_env *e = *state;
    struct team t;
    team_start(&t, e);
    struct ses_conn *nurse = login(&t, NURSE), *gp = login(&t, GP);
    char *th = thread_ok(&t, nurse, "P-INC9");
    int64_t gp_note = note_seq(&t, GP, th, "GP: seen in clinic");
    int64_t note = note_seq(&t, NURSE, th, "Phoned: passive thoughts, no plan");
    json_decref(w_drain(nurse));
    json_decref(w_drain(gp));
    bool repeat = true;
    json_t *a01 = raise_ok(nurse, th, "A01", "item9_1", &repeat);
    assert_false(repeat);
    assert_int_equal(h_jint(a01, "deadline") - h_jint(a01, "raised"), 4 * 60 * MIN_MS);
    const char *cc1[] = {t.user[GP]};
    expect_ids(json_object_get(a01, "cc"), cc1, 1);
    json_t *a04 = raise_ok(nurse, th, "A04", NULL, &repeat);
    assert_false(repeat);
    const char *inc = h_jstr(a01, "incident");
    assert_string_equal(h_jstr(a04, "incident"), inc);
    assert_string_equal(h_jstr(a04, "severity"), "P2");
    assert_string_equal(h_jstr(a04, "incident_severity"), "P1");
    const char *a01_id = h_jstr(a01, "alert"), *a04_id = h_jstr(a04, "alert");

    /* the same type again: counted on the open alert, no new alert */
    json_t *rep = raise_ok(nurse, th, "A01", "item9_1", &repeat);
    assert_true(repeat);
    assert_string_equal(h_jstr(rep, "alert"), a01_id);
    assert_int_equal(h_jint(rep, "repeats"), 1);
    assert_int_equal(h_jint(rep, "deadline"), h_jint(a01, "deadline"));
    json_decref(rep);
    /* more urgent: upgraded to item9_2 with the 30-minute deadline, the psychiatrist copied */
    advance(nurse, 5 * MIN_MS);
    json_decref(w_drain(gp));
    rep = raise_ok(nurse, th, "A01", "item9_2", &repeat);
    assert_true(repeat);
    assert_string_equal(h_jstr(rep, "alert"), a01_id);
    assert_string_equal(h_jstr(rep, "variant"), "item9_2");
    assert_int_equal(h_jint(rep, "repeats"), 2);
    /* now + 30 min, now = raised + 5 min (+ the real time the requests took) */
    assert_in_range(h_jint(rep, "deadline") - (h_jint(a01, "raised") + 35 * MIN_MS), 0, 5000);
    const char *cc2[] = {t.user[GP], t.user[PSY]};
    expect_ids(json_object_get(rep, "cc"), cc2, 2);
    json_decref(rep);
    assert_int_equal(h_db_int(e->db, "SELECT count(*) FROM alerts"), 2);
    assert_int_equal(h_db_int(e->db, "SELECT count(*) FROM incidents"), 1);
    assert_int_equal(h_audit_count(e->db, "alert.repeat", "ok"), 2);

    /* only an owner or a psychiatrist closes a safety alert, with an outcome and a note; the GP,
     * only copied, never (whatever the code): nothing changes */
    struct h_snap snap;
    h_snap_take(&snap, e->db, NULL);
    resolve_error(gp, a01_id, "DUPLICATE", "imminent", gp_note, SES_ENOT_OWNER);
    resolve_error(gp, a01_id, "RISK_ASSESSED", "low", gp_note, SES_ENOT_OWNER);
    resolve_error(nurse, a01_id, "RISK_ASSESSED", NULL, note, SES_EOUTCOME_REQUIRED);
    resolve_error(nurse, a01_id, "RISK_ASSESSED", "low", 0, SES_ENOTE_REQUIRED);
    resolve_error(nurse, a01_id, "RISK_ASSESSED", "maybe", note, SES_EBAD_FIELD);
    resolve_error(nurse, a01_id, "FIXED", "low", note, SES_EBAD_FIELD);
    resolve_error(nurse, a01_id, "NO_ACTION_NEEDED", "high", note, SES_EOUTCOME_CONFLICT);
    resolve_error(nurse, a01_id, "DUPLICATE", "moderate", note, SES_EOUTCOME_CONFLICT);
    h_snap_expect_same(&snap, e->db);
    h_snap_free(&snap);
    json_t *r = resolve_ok(nurse, a01_id, "RISK_ASSESSED", "low", note);
    const json_t *ra = json_object_get(r, "alert");
    assert_string_equal(h_jstr(ra, "state"), "resolved");
    assert_string_equal(h_jstr(ra, "resolved_by"), t.user[NURSE]);
    assert_string_equal(h_jstr(ra, "resolution"), "RISK_ASSESSED");
    assert_string_equal(h_jstr(ra, "outcome"), "low");
    assert_int_equal(h_jint(ra, "resolve_msg_seq"), note);
    assert_int_equal(json_array_size(json_object_get(r, "followups")), 0);
    assert_string_equal(h_jstr(ra, "incident_severity"), "P2"); /* the open A04 remains */
    json_decref(r);
    assert_int_equal(h_db_int(e->db, "SELECT count(*) FROM incidents WHERE state = 'open'"), 1);
    resolve_error(nurse, a01_id, "ADDRESSED", NULL, 0, SES_EBAD_STATE);
    r = resolve_ok(nurse, a04_id, "ADDRESSED", NULL, 0);
    json_decref(r);
    assert_int_equal(h_db_int(e->db, "SELECT count(*) FROM incidents WHERE state = 'closed' "
                                     "AND closed_ms IS NOT NULL"),
                     1);
    /* a new alert opens a new incident */
    json_t *a17 = raise_ok(nurse, th, "A17", NULL, &repeat);
    assert_false(repeat);
    assert_string_not_equal(h_jstr(a17, "incident"), inc);
    const char *gp_owner[] = {t.user[GP]};
    expect_ids(json_object_get(a17, "owners"), gp_owner, 1);
    assert_int_equal(h_jint(a17, "deadline") - h_jint(a17, "raised"), 3 * DAY_MS);
    /* the timeline of the safety alert */
    json_t *s = show_ok(nurse, a01_id);
    const json_t *tl = json_object_get(s, "timeline");
    static const char *const events[] = {"raised", "repeat", "upgraded", "resolved"};
    assert_int_equal(json_array_size(tl), 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(h_jstr(json_array_get(tl, i), "event"), events[i]);
    assert_string_equal(h_jstr(json_array_get(tl, 3), "detail"), "RISK_ASSESSED low");
    json_decref(s);
    /* the lists: open only, mine */
    r = w_request_ok(nurse, json_pack("{s:s, s:b}", "t", "alerts", "open", 1), "alerts");
    assert_int_equal(json_array_size(json_object_get(r, "alerts")), 1);
    json_decref(r);
    r = w_request_ok(gp, json_pack("{s:s, s:b}", "t", "alerts", "mine", 1), "alerts");
    assert_int_equal(json_array_size(json_object_get(r, "alerts")), 1);
    assert_string_equal(h_jstr(json_array_get(json_object_get(r, "alerts"), 0), "alert"),
                        h_jstr(a17, "alert"));
    json_decref(r);
    r = w_request_ok(nurse, json_pack("{s:s}", "t", "alerts"), "alerts");
    assert_int_equal(json_array_size(json_object_get(r, "alerts")), 3);
    json_decref(r);
    json_decref(a01);
    json_decref(a04);
    json_decref(a17);
    free(th);
    ses_conn_free(nurse);
    ses_conn_free(gp);
    team_free(&t);
}

static void test_bad_input(void **state)
{
    struct h_env *e = *state;
    struct team t;
    team_start(&t, e);
    struct ses_conn *nurse = login(&t, NURSE), *gp = login(&t, GP), *other = login(&t, NURSE2),
                    *aud = login(&t, AUDITOR);
    char *th = thread_ok(&t, nurse, "P-BAD1");
    json_t *a = raise_ok(nurse, th, "A01", "item9_2", NULL);
    const char *id = h_jstr(a, "alert");
    json_decref(w_drain(nurse));
    json_decref(w_drain(gp));
    struct h_snap snap;
    h_snap_take(&snap, e->db, NULL);
    w_request_error(nurse, raise_req(th, "A99", NULL, NULL), SES_EUNKNOWN_ALERT_TYPE);
    w_request_error(nurse, raise_req(th, "A01", "item9_9", NULL), SES_EUNKNOWN_ALERT_TYPE);
    w_request_error(nurse, raise_req(th, "A02", NULL, "P1"), SES_ESEVERITY_TOO_LOW);
    w_request_error(nurse, raise_req(th, "A04", NULL, "P3"), SES_ESEVERITY_TOO_LOW);
    w_request_error(nurse, raise_req(th, "A04", NULL, "P9"), SES_EBAD_FIELD);
    json_t *req = raise_req(th, "A04", NULL, NULL);
    json_object_set_new(req, "msg_seq", json_integer(99)); /* no such message */
    w_request_error(nurse, req, SES_EBAD_FIELD);
    req = raise_req(th, "A04", NULL, NULL);
    json_object_set_new(req, "score", json_integer(22)); /* the server takes no score */
    w_request_error(nurse, req, SES_EBAD_FIELD);
    w_request_error(gp, json_pack("{s:s, s:s}", "t", "alert_ack", "alert", id), SES_ENOT_OWNER);
    w_request_error(
        nurse,
        json_pack("{s:s, s:s, s:s}", "t", "alert_cancel", "alert", id, "code", "RAISED_IN_ERROR"),
        SES_EBAD_STATE); /* a safety alert is closed only by its risk assessment */
    w_request_error(nurse,
                    json_pack("{s:s, s:s, s:I}", "t", "contact_record", "thread", th, "date",
                              (json_int_t)(h_wall_ms() + DAY_MS)),
                    SES_EBAD_FIELD); /* in the future */
    w_request_error(
        nurse, json_pack("{s:s, s:s, s:s}", "t", "thread_meta", "thread", th, "phase", "remission"),
        SES_EBAD_FIELD);
    h_snap_expect_same(&snap, e->db);
    h_snap_free(&snap);

    /* denials: each one authz.denied record and nothing else */
    struct {
        struct ses_conn *c;
        json_t *req;
    } denied[] = {
        {nurse, raise_req(th, "A07", NULL, NULL)}, /* the daemon's own */
        {nurse, raise_req(th, "A14", NULL, NULL)}, /* a later feature's */
        {gp, raise_req(th, "A13", NULL, NULL)},    /* nurses ask for consults */
        {other, raise_req(th, "A02", NULL, NULL)}, /* not a member */
        {other, json_pack("{s:s, s:s}", "t", "alert_show", "alert", id)},
        {gp, json_pack("{s:s, s:s}", "t", "contact_record", "thread", th)},
        {aud, raise_req(th, "A02", NULL, NULL)},
    };
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        h_snap_take(&snap, e->db, NULL);
        w_request_error(denied[i].c, denied[i].req, SES_EDENIED);
        h_snap_expect_one_audit(&snap, e->db, "authz.denied", "DENIED");
        h_snap_free(&snap);
    }
    /* acknowledged twice */
    json_decref(
        w_request_ok(nurse, json_pack("{s:s, s:s}", "t", "alert_ack", "alert", id), "alert"));
    h_snap_take(&snap, e->db, NULL);
    w_request_error(nurse, json_pack("{s:s, s:s}", "t", "alert_ack", "alert", id), SES_EBAD_STATE);
    h_snap_expect_same(&snap, e->db);
    h_snap_free(&snap);
    json_decref(a);
    free(th);
    ses_conn_free(nurse);
    ses_conn_free(gp);
    ses_conn_free(other);
    ses_conn_free(aud);
    team_free(&t);
}

/* The open alerts of thread with this type, as the nurse lists them. */
static json_t *open_of_type(struct ses_conn *c, const char *thread, const char *type)
{
    json_t *r = w_request_ok(
        c, json_pack("{s:s, s:s, s:b}", "t", "alerts", "thread", thread, "open", 1), "alerts");
    json_t *out = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(r, "alerts"), i, a)
    {
        if (strcmp(h_jstr(a, "type"), type) == 0)
            json_array_append(out, a);
    }
    json_decref(r);
    return out;
}

static json_t *wait_open(struct ses_conn *c, const char *thread, const char *type)
{
    uint64_t until = h_mono_ms() + 5000;
    for (;;) {
        json_t *l = open_of_type(c, thread, type);
        if (json_array_size(l) == 1) {
            json_t *a = json_incref(json_array_get(l, 0));
            json_decref(l);
            return a;
        }
        assert_int_equal(json_array_size(l), 0);
        json_decref(l);
        if (h_mono_ms() > until)
            fail_msg("no open %s", type);
        h_sleep_ms(20);
    }
}

static void test_time_rules(void **state)
{
    struct h_env *e = *state;
    struct team t;
    team_start(&t, e);
    struct ses_conn *nurse = login(&t, NURSE), *psy = login(&t, PSY);
    char *th = thread_ok(&t, nurse, "P-TIME");
    json_t *info = w_request_ok(nurse, json_pack("{s:s, s:s}", "t", "thread_info", "thread", th),
                                "thread_info");
    const json_t *meta = json_object_get(info, "meta");
    assert_string_equal(h_jstr(meta, "phase"), "active");
    assert_int_equal(h_jint(meta, "contacts"), 0);
    h_jnull(meta, "last_contact");
    int64_t enrolled = h_jint(meta, "enrolled");
    json_decref(info);

    advance(nurse, 14 * DAY_MS - MIN_MS);
    h_sleep_ms(300);
    json_t *none = open_of_type(nurse, th, "A07");
    assert_int_equal(json_array_size(none), 0);
    json_decref(none);
    advance(nurse, MIN_MS);
    json_t *a07 = wait_open(nurse, th, "A07");
    assert_string_equal(h_jstr(a07, "origin"), "daemon");
    assert_string_equal(h_jstr(a07, "severity"), "P3");
    h_jnull(a07, "raised_by");
    const char *nurse_id[] = {t.user[NURSE]}, *psy_id[] = {t.user[PSY]};
    expect_ids(json_object_get(a07, "owners"), nurse_id, 1);
    expect_ids(json_object_get(a07, "cc"), psy_id, 1);
    assert_true(h_jint(a07, "raised") >= enrolled + 14 * DAY_MS);

    advance(nurse, 14 * DAY_MS);
    json_t *a08 = wait_open(nurse, th, "A08");
    assert_string_equal(h_jstr(a08, "variant"), "first_followup");
    assert_string_equal(h_jstr(a08, "severity"), "P2");
    json_t *a22 = wait_open(nurse, th, "A22"); /* and no PHQ-9 for 28 days */
    assert_string_equal(h_jstr(a22, "severity"), "P3");
    expect_ids(json_object_get(a22, "owners"), nurse_id, 1);
    json_decref(a22);
    assert_int_equal(h_audit_count(e->db, "alert.raise", "ok"), 3);

    /* a contact clears A08; a psychiatric review clears A07 */
    json_t *r = w_request_ok(nurse, json_pack("{s:s, s:s}", "t", "contact_record", "thread", th),
                             "thread_meta");
    assert_int_equal(h_jint(json_object_get(r, "meta"), "contacts"), 1);
    int64_t contact = h_jint(json_object_get(r, "meta"), "last_contact");
    json_decref(r);
    json_t *s = show_ok(nurse, h_jstr(a08, "alert"));
    assert_string_equal(h_jstr(json_object_get(s, "alert"), "state"), "resolved");
    assert_string_equal(h_jstr(json_object_get(s, "alert"), "resolution"), "CONDITION_CLEARED");
    assert_string_equal(h_jstr(json_object_get(s, "alert"), "resolved_by"), t.user[NURSE]);
    json_decref(s);
    json_t *still = open_of_type(nurse, th, "A07");
    assert_int_equal(json_array_size(still), 1);
    json_decref(still);
    r = w_request_ok(psy,
                     json_pack("{s:s, s:s, s:I}", "t", "thread_meta", "thread", th, "last_review",
                               (json_int_t)contact),
                     "thread_meta");
    json_decref(r);
    s = show_ok(nurse, h_jstr(a07, "alert"));
    assert_string_equal(h_jstr(json_object_get(s, "alert"), "resolution"), "CONDITION_CLEARED");
    json_decref(s);
    assert_int_equal(h_audit_count(e->db, "contact.record", "ok"), 1);
    assert_int_equal(h_audit_count(e->db, "thread.meta", "ok"), 1);
    assert_int_equal(h_audit_count(e->db, "alert.resolve", "ok"), 2);

    /* active phase: 21 days after the contact */
    advance(nurse, 21 * DAY_MS);
    json_t *b = wait_open(nurse, th, "A08");
    assert_string_equal(h_jstr(b, "variant"), "active");
    assert_string_equal(h_jstr(b, "severity"), "P3");
    json_decref(b);
    json_decref(a07);
    json_decref(a08);
    free(th);
    ses_conn_free(nurse);
    ses_conn_free(psy);
    team_free(&t);
}

/* An alert's current state (show reply's "alert"), polled until its field `key` equals want. */
static json_t *wait_int(struct ses_conn *c, const char *alert, const char *key, int64_t want)
{
    uint64_t until = h_mono_ms() + 5000;
    for (;;) {
        json_t *r = show_ok(c, alert);
        if (h_jint(json_object_get(r, "alert"), key) == want)
            return r;
        json_decref(r);
        if (h_mono_ms() > until)
            fail_msg("alert %s: %s never reached %lld", alert, key, (long long)want);
        h_sleep_ms(20);
    }
}

static void ack_ok(struct ses_conn *c, const char *alert)
{
    json_decref(
        w_request_ok(c, json_pack("{s:s, s:s}", "t", "alert_ack", "alert", alert), "alert"));
}

/* New signal, new obligation: a worse item 9 on an acknowledged or escalated A01 re-opens it with
 * a fresh 30-minute deadline, the nurse owning it again and the psychiatrist copied; a new
 * positive item 9 on an acknowledged A01 re-opens it too; a repeat on a running deadline does
 * not. */
static void test_new_signal(void **state)
{
    struct h_env *e = *state;
    struct team t;
    team_start(&t, e);
    struct ses_conn *nurse = login(&t, NURSE), *psy = login(&t, PSY);
    char *th1 = thread_ok(&t, nurse, "P-ACK1"), *th2 = thread_ok(&t, nurse, "P-ESC2"),
         *th3 = thread_ok(&t, nurse, "P-REP3");
    const char *nurse_id[] = {t.user[NURSE]}, *cc2[] = {t.user[GP], t.user[PSY]};

    /* acknowledged two weeks ago, then item 9 = 3 */
    json_t *a = raise_ok(nurse, th1, "A01", "item9_1", NULL);
    char id1[40], id2[40], id3[40];
    snprintf(id1, sizeof id1, "%s", h_jstr(a, "alert"));
    ack_ok(nurse, id1);
    int64_t now = advance(nurse, 14 * DAY_MS);
    json_decref(w_drain(psy));
    bool repeat = false;
    json_t *up = raise_ok(nurse, th1, "A01", "item9_2", &repeat);
    assert_true(repeat);
    assert_string_equal(h_jstr(up, "alert"), id1);
    assert_string_equal(h_jstr(up, "state"), "raised");
    assert_string_equal(h_jstr(up, "variant"), "item9_2");
    h_jnull(up, "acked");
    assert_int_equal(h_jint(up, "step"), 0);
    assert_in_range(h_jint(up, "deadline") - now, 30 * MIN_MS, 30 * MIN_MS + 5000);
    expect_ids(json_object_get(up, "owners"), nurse_id, 1);
    expect_ids(json_object_get(up, "cc"), cc2, 2);
    json_t *sh = show_ok(nurse, id1);
    const json_t *ev = last_event(sh);
    assert_string_equal(h_jstr(ev, "event"), "upgraded");
    const char *told[] = {t.user[NURSE], t.user[GP], t.user[PSY]};
    expect_ids(json_object_get(ev, "to"), told, 3);
    assert_string_equal(h_jstr(ev, "detail"), "item9_1 P1 -> item9_2 P1, was acked");
    json_decref(sh);
    json_decref(up);
    json_decref(a);
    /* it escalates again if nobody answers within 30 minutes */
    advance(nurse, 30 * MIN_MS);
    json_decref(wait_step(nurse, id1, 1));

    /* escalated to the backup nurse on the 4-hour variant, then item 9 = 2 */
    (void)psy;
    a = raise_ok(nurse, th2, "A01", "item9_1", NULL);
    snprintf(id2, sizeof id2, "%s", h_jstr(a, "alert"));
    advance(nurse, 4 * 60 * MIN_MS);
    json_decref(wait_step(nurse, id2, 1));
    now = advance(nurse, MIN_MS);
    up = raise_ok(nurse, th2, "A01", "item9_2", NULL);
    assert_int_equal(h_jint(up, "step"), 0);
    assert_string_equal(h_jstr(up, "variant"), "item9_2");
    assert_in_range(h_jint(up, "deadline") - now, 30 * MIN_MS, 30 * MIN_MS + 5000);
    expect_ids(json_object_get(up, "owners"), nurse_id, 1);
    expect_ids(json_object_get(up, "cc"), cc2, 2);
    sh = show_ok(nurse, id2);
    assert_string_equal(h_jstr(last_event(sh), "detail"),
                        "item9_1 P1 -> item9_2 P1, was escalated");
    json_decref(sh);
    json_decref(up);
    json_decref(a);

    /* the same variant: on an acknowledged A01 a new obligation, on a running one a repeat */
    a = raise_ok(nurse, th3, "A01", "item9_1", NULL);
    snprintf(id3, sizeof id3, "%s", h_jstr(a, "alert"));
    json_t *rep = raise_ok(nurse, th3, "A01", "item9_1", NULL);
    assert_int_equal(h_jint(rep, "deadline"), h_jint(a, "deadline"));
    json_decref(rep);
    ack_ok(nurse, id3);
    now = advance(nurse, DAY_MS);
    rep = raise_ok(nurse, th3, "A01", "item9_1", NULL);
    assert_string_equal(h_jstr(rep, "state"), "raised");
    assert_in_range(h_jint(rep, "deadline") - now, 4 * 60 * MIN_MS, 4 * 60 * MIN_MS + 5000);
    json_decref(rep);
    sh = show_ok(nurse, id3);
    assert_string_equal(h_jstr(last_event(sh), "event"), "reopened");
    json_decref(sh);
    json_decref(a);
    free(th1);
    free(th2);
    free(th3);
    ses_conn_free(nurse);
    ses_conn_free(psy);
    team_free(&t);
}

/* Outcomes: imminent raises an A02 P0 (with the site's emergency routes) in the same incident;
 * high raises an A03 owned by the psychiatrist. */
static void test_outcomes(void **state)
{
    struct h_env *e = *state;
    struct team t;
    team_start(&t, e);
    assert_int_equal(h_daemon_stop(&e->d), 0);
    const char *const routes[] = {"--emergency-routes", "SAMU 15 / 3114", NULL};
    team_daemon_start(&t, routes);
    struct ses_conn *nurse = login(&t, NURSE), *psy = login(&t, PSY);
    char *th = thread_ok(&t, nurse, "P-OUT1");
    int64_t note = note_seq(&t, NURSE, th, "Plan and means: called 15");
    int64_t note2 = note_seq(&t, PSY, th, "Admitted; still high risk");
    json_t *a = raise_ok(nurse, th, "A01", "item9_2", NULL);
    h_jnull(a, "emergency");
    json_t *r = resolve_ok(nurse, h_jstr(a, "alert"), "RISK_ASSESSED", "imminent", note);
    const json_t *f = json_array_get(json_object_get(r, "followups"), 0);
    assert_non_null(f);
    assert_int_equal(json_array_size(json_object_get(r, "followups")), 1);
    assert_string_equal(h_jstr(f, "type"), "A02");
    assert_string_equal(h_jstr(f, "severity"), "P0");
    assert_string_equal(h_jstr(f, "state"), "raised");
    assert_string_equal(h_jstr(f, "emergency"), "SAMU 15 / 3114");
    assert_string_equal(h_jstr(f, "raised_by"), t.user[NURSE]);
    assert_int_equal(h_jint(f, "msg_seq"), note);
    assert_string_equal(h_jstr(f, "incident"), h_jstr(a, "incident"));
    assert_string_equal(h_jstr(f, "incident_severity"), "P0");
    const char *owners[] = {t.user[GP], t.user[PSY]};
    expect_ids(json_object_get(f, "owners"), owners, 2);
    char a02[40];
    snprintf(a02, sizeof a02, "%s", h_jstr(f, "alert"));
    json_decref(r);
    r = resolve_ok(psy, a02, "REFERRED", "high", note2);
    f = json_array_get(json_object_get(r, "followups"), 0);
    assert_string_equal(h_jstr(f, "type"), "A03");
    const char *psy_id[] = {t.user[PSY]};
    expect_ids(json_object_get(f, "owners"), psy_id, 1);
    h_jnull(f, "emergency");
    json_decref(r);
    assert_int_equal(h_db_int(e->db, "SELECT count(*) FROM incidents"), 1);
    assert_int_equal(h_db_int(e->db, "SELECT count(*) FROM alerts WHERE state = 'raised'"), 1);
    assert_int_equal(h_audit_count(e->db, "alert.raise", "ok"), 3);
    json_decref(a);
    free(th);
    ses_conn_free(nurse);
    ses_conn_free(psy);
    team_free(&t);
}

/* No chain ends in silence: an unacknowledged P0 goes to the lead, then is told again to every
 * owner, cc and the lead every 15 minutes until someone acknowledges. */
static void test_p0_renotified(void **state)
{
    struct h_env *e = *state;
    struct team t;
    team_start(&t, e);
    struct ses_conn *nurse = login(&t, NURSE), *lead = login(&t, LEAD);
    char *th = thread_ok(&t, nurse, "P-P0");
    json_t *a = raise_ok(nurse, th, "A02", NULL, NULL);
    const char *id = h_jstr(a, "alert");
    assert_int_equal(h_jint(a, "deadline") - h_jint(a, "raised"), 15 * MIN_MS);
    advance(nurse, 15 * MIN_MS);
    json_decref(wait_step(nurse, id, 1)); /* the chain: the program lead */
    advance(nurse, 15 * MIN_MS);
    json_decref(wait_step(nurse, id, -1));
    json_decref(w_drain(lead));
    for (int k = 1; k <= 3; k++) {
        advance(nurse, 15 * MIN_MS);
        json_t *s = wait_int(nurse, id, "renotified", k);
        const json_t *ev = last_event(s);
        assert_string_equal(h_jstr(ev, "event"), "renotified");
        const char *to[] = {t.user[LEAD], t.user[GP], t.user[PSY], t.user[NURSE]};
        expect_ids(json_object_get(ev, "to"), to, 4);
        json_decref(s);
        expect_push(lead, id, "renotified");
    }
    ack_ok(lead, id);
    advance(nurse, 30 * MIN_MS);
    h_sleep_ms(300);
    json_t *s = show_ok(nurse, id);
    assert_string_equal(h_jstr(json_object_get(s, "alert"), "state"), "acked");
    assert_int_equal(h_jint(json_object_get(s, "alert"), "renotified"), 3);
    json_decref(s);
    assert_int_equal(h_audit_count(e->db, "alert.renotify", "ok"), 3);
    json_decref(a);
    free(th);
    ses_conn_free(nurse);
    ses_conn_free(lead);
    team_free(&t);
}

static json_t *warnings_of(struct ses_conn *c)
{
    json_t *r = w_request_ok(c, json_pack("{s:s}", "t", "alerts"), "alerts");
    json_t *w = json_incref(json_object_get(r, "warnings"));
    json_decref(r);
    return w;
}

/* Chain roles set by an admin through the server: validated, audited, shown, kept across a
 * restart, and in force (the warnings go). */
static void test_oncall(void **state)
{
    struct h_env *e = *state;
    struct team t;
    team_start(&t, e);
    struct ses_conn *admin = login(&t, ADMIN), *psy = login(&t, PSY), *nurse = login(&t, NURSE);
    json_t *w = warnings_of(psy);
    assert_int_equal(json_array_size(w), 1);
    assert_string_equal(json_string_value(json_array_get(w, 0)), "NO_ON_DUTY_PSYCHIATRIST");
    json_decref(w);
    w = warnings_of(nurse);
    assert_null(w); /* nurses are not shown the operator's warning */
    struct h_snap snap;
    h_snap_take(&snap, e->db, NULL);
    w_request_error(nurse,
                    json_pack("{s:s, s:s}", "t", "oncall_set", "program_lead", t.user[NURSE]),
                    SES_EDENIED);
    h_snap_expect_rest_same(&snap, e->db);
    h_snap_free(&snap);
    int64_t audit0 = h_audit_max_seq(e->db);
    w_request_error(admin,
                    json_pack("{s:s, s:s}", "t", "oncall_set", "on_duty_psychiatrist", t.user[GP]),
                    SES_EBAD_FIELD);
    w_request_error(admin, json_pack("{s:s}", "t", "oncall_set"), SES_EMISSING_FIELD);
    w_request_error(admin,
                    json_pack("{s:s, s:s, s:s}", "t", "backup_set", "user", t.user[NURSE], "backup",
                              t.user[NURSE]),
                    SES_EBAD_FIELD);
    assert_int_equal(h_audit_max_seq(e->db), audit0);
    json_t *r = w_request_ok(admin,
                             json_pack("{s:s, s:s, s:s}", "t", "oncall_set", "on_duty_psychiatrist",
                                       t.user[PSY], "program_lead", t.user[NURSE2]),
                             "oncall");
    assert_string_equal(h_jstr(r, "on_duty_psychiatrist"), t.user[PSY]);
    assert_string_equal(h_jstr(r, "program_lead"), t.user[NURSE2]);
    assert_int_equal(json_array_size(json_object_get(r, "warnings")), 0);
    json_decref(r);
    r = w_request_ok(
        admin, json_pack("{s:s, s:s, s:n}", "t", "backup_set", "user", t.user[NURSE], "backup"),
        "oncall");
    assert_int_equal(json_array_size(json_object_get(r, "backups")), 0); /* the config's cleared */
    json_decref(r);
    assert_int_equal(h_audit_count(e->db, "oncall.set", "ok"), 2);
    assert_int_equal(h_audit_count(e->db, "backup.set", "ok"), 1);
    ses_conn_free(admin);
    ses_conn_free(psy);
    ses_conn_free(nurse);

    assert_int_equal(h_daemon_stop(&e->d), 0);
    team_daemon_start(&t, NULL);
    psy = login(&t, PSY);
    r = w_request_ok(psy, json_pack("{s:s}", "t", "oncall_show"), "oncall");
    assert_string_equal(h_jstr(r, "on_duty_psychiatrist"), t.user[PSY]);
    assert_string_equal(h_jstr(r, "program_lead"), t.user[NURSE2]);
    assert_int_equal(json_array_size(json_object_get(r, "backups")), 0);
    json_decref(r);
    w = warnings_of(psy);
    assert_int_equal(json_array_size(w), 0);
    json_decref(w);
    ses_conn_free(psy);
    team_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_escalation_chain, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_escalation_survives_restart, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_incident_grouping, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_time_rules, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_new_signal, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_outcomes, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_p0_renotified, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_oncall, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
