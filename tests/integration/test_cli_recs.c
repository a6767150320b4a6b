/*
 * test_cli_recs.c - integration: the recommendation loop and its export through the real `sesame`
 * CLI against the real sesamed with its clock moved by the test hook (PROTOCOL.md §16,
 * clients/cli/README.md "Recommendations"). Every command runs as a subprocess.
 *
 * The team: a nurse (Anne), the patient's GP (Claire), another GP of the thread (Marc), a
 * psychiatrist (Hugo), all members of the patient's thread, and a program lead (Paul, a
 * psychiatrist outside it).
 *
 *  - loop: sent -> acknowledged -> accepted -> implemented -> verified, with exactly one audit
 *    record per step, A14 to the GP on sending (cleared by the acknowledgement), A16 on the
 *    decision; refusals change nothing but the audit log: a decline without a reason
 *    (REASON_REQUIRED), the other GP (NOT_OWNER) or the nurse (DENIED) acting for her, a step
 *    out of order (BAD_STATE).
 *  - unacked: a routine recommendation nobody acknowledges raises A15 to the nurse after 7 days;
 *    at 14 days it reaches the psychiatrist and the program lead; the acknowledgement clears it.
 *  - decline_amend: a decline with its reason (sent encrypted, read back by the psychiatrist),
 *    the case back on the review queue as "declined"; the author amends (version 2, the old one
 *    superseded), nobody else may.
 *  - export: the patient card; the XDM package unpacks with its four files and its CDA passes the
 *    header checks; the FHIR Bundle has the Task and the proposals and passes the validator; the
 *    PDF and the e-mail; no card -> a clear refusal; the server's files hold no recommendation
 *    text, drug, dose or identity trait.
 */
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <sodium.h>
#include <zip.h>

#include "harness.h"
#include "wire.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/scales.h"

enum { ADMIN, NURSE, GP, GP2, PSY, LEAD, N_WHO };

static const char *const who_home[N_WHO] = {"admin", "nurse", "gp", "gp2", "psy", "lead"};
static const char *const who_name[N_WHO] = {NULL,         "Anne Martin", "Claire Petit",
                                            "Marc Blanc", "Hugo Roux",   "Paul Lead"};
static const char *const who_role[N_WHO] = {"admin", "nurse",        "gp",
                                            "gp",    "psychiatrist", "psychiatrist"};

#define PATIENT "P-0042"
#define DAY_MS 86400000LL
#define MIN_MS 60000LL
#define DRUG "Sertralinum-test"
#define DOSE "100 mg once daily"
#define SAFETY "No suicidal ideation: item 9 was 0 at the last three contacts"
#define REASON "Patient prefers to stay on 50 mg until the spring"
#define BIRTH_NAME "DUPRÉ-TESTNAME"
#define INS "280047512345658"

struct world {
    struct h_env *e;
    char *home[N_WHO];
    char user[N_WHO][40];
    char thread[40];
    char *rec_file;
    int64_t offset_ms;
    char env_buf[64];
    const char *env[2];
};

#define RUN(r, w, who, ...) h_cli_run((r), (w)->home[(who)], (w)->env, __VA_ARGS__, NULL)

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

/* RUN, asserting exit status and error code. */
#define RUN_ERR(w, who, status, code, ...)                                                         \
    do {                                                                                           \
        struct h_cli r_;                                                                           \
        RUN(&r_, w, who, __VA_ARGS__);                                                             \
        h_cli_assert_error(&r_, (status), (code));                                                 \
        h_cli_free(&r_);                                                                           \
    } while (0)

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

/* The recommendation file: a dose change and a lab test, next review in 4 weeks. */
static void write_rec_file(struct world *w)
{
    char next[11];
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s}, {s:s, s:s}], s:s, s:s}", "question_code",
        "not_improving", "question", "PHQ-9 still 16 after 10 weeks of treatment", "data_basis",
        "PHQ-9 18 then 16 over 10 weeks, adherent, no side effects", "safety", SAFETY, "items",
        "type", "MED_DOSE_CHANGE", "drug", DRUG, "dose", DOSE, "titration",
        "75 mg for one week, then 100 mg", "type", "LAB", "text", "Sodium level at week 2",
        "contingency", "If PHQ-9 has not fallen by 5 points at week 6, discuss a switch",
        "next_review", day_str(w, next, 28));
    char *text = json_dumps(o, JSON_INDENT(2));
    w->rec_file = h_path(w->e->tmp, "rec.json");
    assert_int_equal(h_write_file(w->rec_file, text, strlen(text), false), 0);
    free(text);
    json_decref(o);
}

static void world_start(struct world *w, struct h_env *e)
{
    memset(w, 0, sizeof *w);
    w->e = e;
    h_env_start(e, H_ENV_TEST_HOOKS);
    w->home[ADMIN] = strdup(e->admin_home);
    snprintf(w->user[ADMIN], sizeof w->user[ADMIN], "%s", e->admin_user);
    for (int i = NURSE; i < N_WHO; i++)
        w->home[i] = h_add_user_ok(e, who_home[i], who_role[i], who_name[i],
                                   i == GP ? "Cabinet Voltaire" : NULL, w->user[i], NULL);
    RUN_OK(w, ADMIN, NULL, "admin", "oncall", "set", "--program-lead", w->user[LEAD]);
    json_t *j = NULL;
    RUN_OK(w, NURSE, &j, "thread", "create", "--patient", PATIENT, "--title", "Marie D.",
           "--member", w->user[GP], "--member", w->user[GP2], "--member", w->user[PSY]);
    snprintf(w->thread, sizeof w->thread, "%s", h_jstr(j, "thread"));
    json_decref(j);
    write_rec_file(w);
}

static void world_free(struct world *w)
{
    for (int i = 0; i < N_WHO; i++)
        free(w->home[i]);
    free(w->rec_file);
    memset(w, 0, sizeof *w);
}

/* The psychiatrist sends the file's recommendation to Claire: its REC into rec (may be NULL),
 * its id into id. */
static void send_rec(struct world *w, char id[40], json_t **rec)
{
    json_t *j = NULL;
    RUN_OK(w, PSY, &j, "rec", "send", w->thread, "--file", w->rec_file, "--gp", w->user[GP]);
    const json_t *r = json_object_get(j, "rec");
    snprintf(id, 40, "%s", h_jstr(r, "rec"));
    if (rec != NULL)
        *rec = json_incref((json_t *)r);
    json_decref(j);
}

static const char *state_of(const json_t *reply)
{
    return h_jstr(json_object_get(reply, "rec"), "state");
}

/* The alert of type on the thread as who sees it (open ones only when open), or NULL. */
static json_t *find_alert(struct world *w, int who, const char *type, bool open)
{
    struct h_cli r;
    if (open)
        RUN(&r, w, who, "alert", "list", "--open", "--thread", w->thread);
    else
        RUN(&r, w, who, "alert", "list", "--thread", w->thread);
    h_cli_assert_ok(&r);
    json_t *found = NULL;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(r.json, "alerts"), i, a)
    {
        if (strcmp(h_jstr(a, "type"), type) == 0 && found == NULL)
            found = json_incref(a);
    }
    h_cli_free(&r);
    return found;
}

/* Asserts that the array of user ids holds exactly the users of mask. */
static void expect_users(const struct world *w, const json_t *arr, unsigned mask)
{
    h_expect_users(arr, (const char(*)[40])w->user, N_WHO, mask);
}

/* The rec.* audit actions with outcome ok, in order, space-separated (malloc'd). */
static char *rec_audit(const struct world *w)
{
    return h_db_text(w->e->db, "SELECT coalesce(group_concat(action, ' '), '') FROM (SELECT action "
                               "FROM audit WHERE action LIKE 'rec.%%' AND outcome = 'ok' ORDER "
                               "BY seq)");
}

/* --- loop ---------------------------------------------------------------------------------- */

/* What a refused request still changes: the device's login time. */
static const char *const logins[] = {"devices.last_login_ms", NULL};

static void test_loop(void **state)
{
    struct world w;
    world_start(&w, *state);
    char id[40];
    json_t *rec = NULL;
    send_rec(&w, id, &rec);
    assert_string_equal(h_jstr(rec, "state"), "sent");
    assert_string_equal(h_jstr(rec, "thread"), w.thread);
    assert_string_equal(h_jstr(rec, "patient"), PATIENT);
    assert_string_equal(h_jstr(rec, "author"), w.user[PSY]);
    assert_string_equal(h_jstr(rec, "gp"), w.user[GP]);
    assert_int_equal(h_jint(rec, "version"), 1);
    assert_false(json_is_true(json_object_get(rec, "urgent")));
    assert_int_equal(h_jint(rec, "deadline") - h_jint(rec, "sent"), 7 * DAY_MS);
    json_decref(rec);
    /* A14 to the addressed GP, the nurse in cc */
    json_t *a14 = find_alert(&w, GP, "A14", true);
    assert_non_null(a14);
    assert_string_equal(h_jstr(a14, "variant"), "routine");
    expect_users(&w, json_object_get(a14, "owners"), 1u << GP);
    expect_users(&w, json_object_get(a14, "cc"), 1u << NURSE);
    json_decref(a14);

    /* everyone of the thread reads it, decrypted on their device */
    json_t *j = NULL;
    RUN_OK(&w, GP, &j, "rec", "show", id);
    const json_t *items = json_object_get(json_object_get(j, "doc"), "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(h_jstr(json_array_get(items, 0), "drug"), DRUG);
    assert_string_equal(h_jstr(json_array_get(items, 0), "dose"), DOSE);
    assert_string_equal(h_jstr(json_object_get(j, "doc"), "safety"), SAFETY);
    json_decref(j);

    /* before the acknowledgement: a decision or an implementation is out of order */
    RUN_ERR(&w, GP, 1, "BAD_STATE", "rec", "implemented", id);
    /* only the addressed GP acknowledges */
    struct h_snap s;
    h_snap_take(&s, w.e->db, logins);
    RUN_ERR(&w, NURSE, 1, "DENIED", "rec", "ack", id); /* not a GP */
    RUN_ERR(&w, GP2, 1, "NOT_OWNER", "rec", "ack", id);
    /* a psychiatrist of another caseload (the program lead is not in this thread): nothing of
     * it, whatever the step */
    RUN_ERR(&w, LEAD, 1, "DENIED", "rec", "show", id);
    RUN_ERR(&w, LEAD, 1, "DENIED", "rec", "ack", id);
    RUN_ERR(&w, LEAD, 1, "DENIED", "rec", "decide", id, "--decision", "accepted");
    RUN_ERR(&w, LEAD, 1, "DENIED", "rec", "implemented", id);
    RUN_ERR(&w, LEAD, 1, "DENIED", "rec", "verify", id);
    RUN_ERR(&w, LEAD, 1, "DENIED", "rec", "amend", id, "--file", w.rec_file);
    h_snap_expect_rest_same(&s, w.e->db);
    h_snap_free(&s);
    RUN_OK(&w, GP, &j, "rec", "ack", id);
    assert_string_equal(state_of(j), "acknowledged");
    json_decref(j);
    assert_null(find_alert(&w, GP, "A14", true)); /* cleared */

    /* decisions: a decline needs a reason, only Claire decides */
    h_snap_take(&s, w.e->db, logins);
    RUN_ERR(&w, GP, 1, "REASON_REQUIRED", "rec", "decide", id, "--decision", "declined");
    RUN_ERR(&w, GP, 1, "REASON_REQUIRED", "rec", "decide", id, "--decision", "modified");
    RUN_ERR(&w, GP2, 1, "NOT_OWNER", "rec", "decide", id, "--decision", "accepted");
    h_snap_expect_rest_same(&s, w.e->db);
    h_snap_free(&s);
    RUN_OK(&w, GP, &j, "rec", "decide", id, "--decision", "accepted");
    assert_string_equal(state_of(j), "accepted");
    assert_string_equal(h_jstr(json_object_get(j, "rec"), "decision"), "accepted");
    json_decref(j);
    json_t *a16 = find_alert(&w, PSY, "A16", false);
    assert_non_null(a16);
    json_decref(a16);

    RUN_ERR(&w, NURSE, 1, "DENIED", "rec", "implemented", id);
    RUN_OK(&w, GP, &j, "rec", "implemented", id);
    assert_string_equal(state_of(j), "implemented");
    json_decref(j);
    RUN_ERR(&w, GP, 1, "DENIED", "rec", "verify", id); /* the nurse verifies */
    RUN_OK(&w, NURSE, &j, "rec", "verify", id);
    assert_string_equal(state_of(j), "verified");
    assert_string_equal(h_jstr(json_object_get(j, "rec"), "verified_by"), w.user[NURSE]);
    json_decref(j);
    RUN_ERR(&w, NURSE, 1, "BAD_STATE", "rec", "verify", id);

    /* exactly one audit record per step, in order */
    char *acts = rec_audit(&w);
    assert_string_equal(acts, "rec.send rec.ack rec.decide rec.implemented rec.verify");
    free(acts);
    assert_int_equal(h_db_int(w.e->db,
                              "SELECT count(*) FROM audit WHERE action = 'rec.decide' "
                              "AND outcome = 'ok' AND object LIKE '%%decision:accepted%%'"),
                     1);

    /* the timeline and the listing */
    RUN_OK(&w, PSY, &j, "rec", "show", id);
    char evs[160] = "";
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(j, "events"), i, ev)
    {
        strcat(evs, i ? " " : "");
        strcat(evs, h_jstr(ev, "event"));
    }
    assert_string_equal(evs, "sent acknowledged accepted implemented verified");
    json_decref(j);
    RUN_OK(&w, NURSE, &j, "rec", "list", "--state", "verified");
    assert_int_equal(json_array_size(json_object_get(j, "recs")), 1);
    json_decref(j);
    RUN_OK(&w, NURSE, &j, "rec", "list", "--state", "sent");
    assert_int_equal(json_array_size(json_object_get(j, "recs")), 0);
    json_decref(j);
    /* the caseload shows it, and Q11 counts it */
    RUN_OK(&w, NURSE, &j, "caseload");
    const json_t *row = json_array_get(json_object_get(j, "caseload"), 0);
    assert_string_equal(h_jstr(json_object_get(row, "recommendation"), "state"), "verified");
    assert_string_equal(h_jstr(json_object_get(row, "recommendation"), "rec"), id);
    char next[11];
    assert_string_equal(h_jstr(row, "next_contact"), day_str(&w, next, 14)); /* the cadence */
    json_decref(j);
    RUN_OK(&w, NURSE, &j, "caseload", "--indicators");
    const json_t *q11 = json_array_get(json_object_get(j, "indicators"), 10);
    assert_string_equal(h_jstr(q11, "code"), "Q11");
    assert_int_equal(h_jint(q11, "num"), 1);
    assert_int_equal(h_jint(q11, "den"), 1);
    assert_int_equal(h_jint(q11, "median_hours_to_ack"), 0);
    json_decref(j);
    /* the text form */
    struct h_cli r;
    h_cli_run_text(&r, w.home[PSY], w.env, "rec", "show", id, NULL);
    assert_int_equal(r.p.status, 0);
    assert_true(strstr(r.p.out, "MED_DOSE_CHANGE  " DRUG " " DOSE) != NULL);
    assert_true(strstr(r.p.out, "Verified") != NULL);
    h_cli_free(&r);
    world_free(&w);
}

/* --- unacked ------------------------------------------------------------------------------- */

static void test_unacked(void **state)
{
    struct world w;
    world_start(&w, *state);
    char id[40];
    send_rec(&w, id, NULL);
    advance(&w, 7 * DAY_MS - 10 * MIN_MS);
    h_sleep_ms(300);
    assert_null(find_alert(&w, NURSE, "A15", true)); /* not yet */

    advance(&w, 11 * MIN_MS);
    json_t *a15 = NULL;
    for (int k = 0; k < 50 && a15 == NULL; k++)
        if ((a15 = find_alert(&w, NURSE, "A15", true)) == NULL)
            h_sleep_ms(100);
    assert_non_null(a15);
    assert_string_equal(h_jstr(a15, "severity"), "P2");
    assert_int_equal(h_jint(a15, "step"), 0);
    expect_users(&w, json_object_get(a15, "owners"), 1u << NURSE);
    char aid[40];
    snprintf(aid, sizeof aid, "%s", h_jstr(a15, "alert"));
    json_decref(a15);
    json_t *j = NULL;
    RUN_OK(&w, NURSE, &j, "rec", "show", id);
    assert_true(json_is_true(json_object_get(json_object_get(j, "rec"), "overdue")));
    json_decref(j);

    /* at twice the deadline: the psychiatrist and the program lead */
    advance(&w, 7 * DAY_MS);
    json_t *a = NULL;
    for (int k = 0; k < 50; k++) {
        RUN_OK(&w, NURSE, &j, "alert", "show", aid);
        a = json_incref(json_object_get(j, "alert"));
        json_decref(j);
        if (h_jint(a, "step") == 1)
            break;
        json_decref(a);
        a = NULL;
        h_sleep_ms(100);
    }
    assert_non_null(a);
    expect_users(&w, json_object_get(a, "owners"), (1u << PSY) | (1u << LEAD));
    json_decref(a);

    /* the acknowledgement clears it */
    RUN_OK(&w, GP, &j, "rec", "ack", id);
    json_decref(j);
    assert_null(find_alert(&w, NURSE, "A15", true));
    world_free(&w);
}

/* --- decline_amend ------------------------------------------------------------------------- */

static void test_decline_amend(void **state)
{
    struct world w;
    world_start(&w, *state);
    char id[40];
    send_rec(&w, id, NULL);
    json_t *j = NULL;
    RUN_OK(&w, GP, &j, "rec", "ack", id);
    json_decref(j);
    RUN_OK(&w, GP, &j, "rec", "decide", id, "--decision", "declined", "--reason", REASON);
    const json_t *rec = json_object_get(j, "rec");
    assert_string_equal(h_jstr(rec, "state"), "declined");
    assert_true(h_jint(rec, "reason_seq") > 0);
    json_decref(j);
    /* the psychiatrist reads the reason, decrypted */
    RUN_OK(&w, PSY, &j, "rec", "show", id);
    assert_true(strstr(h_jstr(j, "reason"), REASON) != NULL);
    json_decref(j);
    /* and the case is back on the review queue */
    RUN_OK(&w, PSY, &j, "queue", "list", w.thread);
    char *dump = json_dumps(j, 0);
    assert_true(strstr(dump, "\"declined\"") != NULL);
    free(dump);
    json_decref(j);

    /* only the author amends: a new version, the old one kept */
    RUN_ERR(&w, GP, 1, "DENIED", "rec", "amend", id, "--file", w.rec_file);
    RUN_ERR(&w, NURSE, 1, "DENIED", "rec", "amend", id, "--file", w.rec_file);
    RUN_OK(&w, PSY, &j, "rec", "amend", id, "--file", w.rec_file, "--urgent");
    rec = json_object_get(j, "rec");
    char id2[40];
    snprintf(id2, sizeof id2, "%s", h_jstr(rec, "rec"));
    assert_int_equal(h_jint(rec, "version"), 2);
    assert_string_equal(h_jstr(rec, "supersedes"), id);
    assert_string_equal(h_jstr(rec, "state"), "sent");
    assert_true(json_is_true(json_object_get(rec, "urgent")));
    json_decref(j);
    RUN_OK(&w, GP, &j, "rec", "show", id);
    assert_string_equal(state_of(j), "superseded");
    assert_string_equal(h_jstr(json_object_get(j, "rec"), "superseded_by"), id2);
    json_decref(j);
    RUN_ERR(&w, GP, 1, "BAD_STATE", "rec", "ack", id);
    RUN_OK(&w, NURSE, &j, "caseload");
    const json_t *row = json_array_get(json_object_get(j, "caseload"), 0);
    assert_string_equal(h_jstr(json_object_get(row, "recommendation"), "rec"), id2);
    assert_string_equal(h_jstr(json_object_get(row, "recommendation"), "state"), "sent");
    json_decref(j);
    world_free(&w);
}

/* --- export -------------------------------------------------------------------------------- */

static char *xpath_str(xmlDocPtr doc, const char *expr)
{
    xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
    assert_non_null(ctx);
    xmlXPathRegisterNs(ctx, BAD_CAST "h", BAD_CAST "urn:hl7-org:v3");
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    assert_non_null(o);
    xmlChar *v = xmlXPathCastToString(o);
    char *s = strdup((const char *)v);
    xmlFree(v);
    xmlXPathFreeObject(o);
    xmlXPathFreeContext(ctx);
    return s;
}

static void expect_xpath(xmlDocPtr doc, const char *path, const char *want)
{
    char e[300];
    snprintf(e, sizeof e, "string(/h:ClinicalDocument/%s)", path);
    char *got = xpath_str(doc, e);
    if (strcmp(got, want) != 0)
        fail_msg("%s: got \"%s\", want \"%s\"", path, got, want);
    free(got);
}

static void expect_xpath_set(xmlDocPtr doc, const char *path)
{
    char e[300];
    snprintf(e, sizeof e, "string(/h:ClinicalDocument/%s)", path);
    char *got = xpath_str(doc, e);
    if (got[0] == '\0')
        fail_msg("%s is missing or empty", path);
    free(got);
}

/* Reads one entry of an open zip archive (malloc'd, *len bytes). */
static char *zip_entry(zip_t *z, const char *name, size_t *len)
{
    zip_stat_t st;
    if (zip_stat(z, name, 0, &st) != 0)
        fail_msg("the XDM package has no %s", name);
    zip_file_t *f = zip_fopen(z, name, 0);
    assert_non_null(f);
    char *buf = malloc(st.size + 1);
    assert_int_equal(zip_fread(f, buf, st.size), (zip_int64_t)st.size);
    zip_fclose(f);
    buf[st.size] = '\0';
    *len = st.size;
    return buf;
}

/* The CDA's header checks (CI-SIS minimal structuration) and its PDF body. */
static void check_cda(const struct world *w, const char *cda, size_t len)
{
    xmlDocPtr doc = xmlReadMemory(cda, (int)len, "DOC0001.XML", NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    expect_xpath(doc, "h:typeId/@root", "2.16.840.1.113883.1.3");
    expect_xpath(doc, "h:typeId/@extension", "POCD_HD000040");
    expect_xpath(doc, "h:templateId[1]/@root", "1.2.250.1.213.1.1.1.1");
    expect_xpath_set(doc, "h:id/@root");
    expect_xpath(doc, "h:code/@code", "11488-4"); /* ad hoc: a consultation note */
    expect_xpath(doc, "h:code/@codeSystem", "2.16.840.1.113883.6.1");
    expect_xpath_set(doc, "h:effectiveTime/@value");
    expect_xpath(doc, "h:confidentialityCode/@code", "N");
    expect_xpath(doc, "h:recordTarget/h:patientRole/h:id[1]/@root", "1.2.250.1.213.1.4.10");
    expect_xpath(doc, "h:recordTarget/h:patientRole/h:id[1]/@extension", INS);
    expect_xpath(doc, "h:recordTarget/h:patientRole/h:patient/h:name/h:family[@qualifier='BR']",
                 BIRTH_NAME);
    expect_xpath(doc, "h:recordTarget/h:patientRole/h:patient/h:administrativeGenderCode/@code",
                 "F");
    expect_xpath(doc, "h:recordTarget/h:patientRole/h:patient/h:birthTime/@value", "19800105");
    expect_xpath(doc, "h:author/h:assignedAuthor/h:id/@extension", w->user[PSY]);
    expect_xpath(doc, "h:author/h:assignedAuthor/h:assignedPerson/h:name", "Hugo Roux");
    expect_xpath(doc,
                 "h:custodian/h:assignedCustodian/h:representedCustodianOrganization/h:id/@root",
                 "1.2.250.1.999.1");
    expect_xpath(doc, "h:component/h:nonXMLBody/h:text/@mediaType", "application/pdf");
    expect_xpath(doc, "h:component/h:nonXMLBody/h:text/@representation", "B64");
    char *b64 = xpath_str(doc, "string(/h:ClinicalDocument/h:component/h:nonXMLBody/h:text)");
    size_t blen = strlen(b64), bin_len = 0;
    uint8_t *bin = malloc(blen + 1);
    assert_int_equal(sodium_base642bin(bin, blen, b64, blen, " \r\n", &bin_len, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_true(bin_len > 5 && memcmp(bin, "%PDF-", 5) == 0);
    free(bin);
    free(b64);
    xmlFreeDoc(doc);
}

static void check_xdm(const struct world *w, const char *path)
{
    int err = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &err);
    assert_non_null(z);
    assert_int_equal(zip_get_num_entries(z, 0), 4);
    const char *names[] = {"README.TXT", "INDEX.HTM", "IHE_XDM/SUBSET01/METADATA.XML"};
    for (int i = 0; i < 3; i++) {
        size_t n = 0;
        free(zip_entry(z, names[i], &n));
        assert_true(n > 0);
    }
    size_t len = 0;
    char *cda = zip_entry(z, "IHE_XDM/SUBSET01/DOC0001.XML", &len);
    check_cda(w, cda, len);
    free(cda);
    zip_close(z);
}

static void check_fhir(const struct world *w, const char *path)
{
    size_t len = 0;
    char *text = h_read_file(path, &len);
    assert_non_null(text);
    json_error_t jerr;
    json_t *b = json_loads(text, 0, &jerr);
    free(text);
    assert_non_null(b);
    assert_string_equal(h_jstr(b, "resourceType"), "Bundle");
    int tasks = 0, meds = 0, services = 0;
    size_t i;
    json_t *en;
    json_array_foreach(json_object_get(b, "entry"), i, en)
    {
        const json_t *res = json_object_get(en, "resource");
        const char *type = h_jstr(res, "resourceType");
        if (strcmp(type, "Task") == 0) {
            tasks++;
            assert_string_equal(h_jstr(res, "status"), "requested"); /* sent, not yet acked */
        }
        if (strcmp(type, "MedicationRequest") == 0 || strcmp(type, "ServiceRequest") == 0) {
            assert_string_equal(h_jstr(res, "intent"), "proposal");
            meds += type[0] == 'M';
            services += type[0] == 'S';
        }
    }
    assert_int_equal(tasks, 1);
    assert_int_equal(meds, 1);
    assert_int_equal(services, 1);
    json_decref(b);
    /* the npm fhir validator */
    char *script = h_fmt("%s/tests/fhir/validate.mjs", SESAME_SRCDIR);
    const char *argv[] = {NODE_BIN, script, path, NULL};
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, NULL, 60000, &p), 0);
    if (p.status != 0)
        fail_msg("validate.mjs: exit %d: %s%s", p.status, p.out, p.err);
    h_proc_free(&p);
    free(script);
    (void)w;
}

static bool in_db(const struct world *w, const char *text)
{
    return h_dir_contains(w->e->data, text);
}

static void test_export(void **state)
{
    struct world w;
    world_start(&w, *state);
    char id[40];
    send_rec(&w, id, NULL);
    char *xdm = h_path(w.e->tmp, "IHE_XDM.ZIP");
    /* no patient card yet: the GP's software could not file it */
    RUN_ERR(&w, GP, 2, "BAD_FIELD", "rec", "export", id, "--format", "xdm", "--out", xdm);
    /* the card: a bad INS key is refused on the device */
    RUN_ERR(&w, NURSE, 2, "BAD_FIELD", "thread", "card", w.thread, "--birth-name", BIRTH_NAME,
            "--given-names", "Marie Louise", "--birth-date", "1980-01-05", "--sex", "F", "--ins",
            "280047512345659", "--ins-kind", "nir-test");
    json_t *j = NULL;
    RUN_OK(&w, NURSE, &j, "thread", "card", w.thread, "--birth-name", BIRTH_NAME, "--given-names",
           "Marie Louise", "--birth-date", "1980-01-05", "--sex", "F", "--ins", INS, "--ins-kind",
           "nir-test");
    assert_string_equal(h_jstr(json_object_get(j, "card"), "first_given"), "Marie");
    json_decref(j);
    RUN_OK(&w, GP, &j, "thread", "card", w.thread);
    assert_string_equal(h_jstr(json_object_get(j, "card"), "ins"), INS);
    json_decref(j);

    RUN_OK(&w, GP, &j, "rec", "export", id, "--format", "xdm", "--out", xdm);
    json_decref(j);
    check_xdm(&w, xdm);

    char *fhir = h_path(w.e->tmp, "bundle.json");
    RUN_OK(&w, NURSE, &j, "rec", "export", id, "--format", "fhir", "--out", fhir);
    json_decref(j);
    check_fhir(&w, fhir);

    char *pdf = h_path(w.e->tmp, "letter.pdf");
    RUN_OK(&w, GP, &j, "rec", "export", id, "--format", "pdf", "--out", pdf);
    json_decref(j);
    size_t len = 0;
    char *data = h_read_file(pdf, &len);
    assert_true(len > 5 && memcmp(data, "%PDF-", 5) == 0);
    free(data);

    char *eml = h_path(w.e->tmp, "message.eml");
    struct h_cli r;
    RUN(&r, &w, GP, "rec", "export", id, "--format", "eml", "--out", eml); /* no addresses */
    assert_int_equal(r.p.status, 2);
    assert_true(strstr(r.p.err, "--from and --to") != NULL);
    h_cli_free(&r);
    RUN_OK(&w, GP, &j, "rec", "export", id, "--format", "eml", "--out", eml, "--from",
           "claire.petit@medecin.mssante.fr", "--to", "dossier@cabinet.mssante.fr");
    json_decref(j);
    data = h_read_file(eml, &len);
    assert_non_null(data);
    assert_true(strstr(data, "X-MSS-CODECDA:") != NULL);
    assert_true(strstr(data, "X-MSS-INS:") != NULL);
    assert_true(strstr(data, "Disposition-Notification-To:") != NULL);
    assert_true(strstr(data, "IHE_XDM.ZIP") != NULL);
    free(data);

    /* the server holds none of it */
    const char *secret[] = {DRUG, DOSE, SAFETY, "Sodium level", BIRTH_NAME, INS, "Marie Louise"};
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++)
        if (in_db(&w, secret[i]))
            fail_msg("the server's database holds \"%s\"", secret[i]);
    assert_true(in_db(&w, PATIENT)); /* the pseudonym is there: the search works */
    free(xdm);
    free(fhir);
    free(pdf);
    free(eml);
    world_free(&w);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_loop, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_unacked, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_decline_amend, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_export, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.cli_recs", tests, NULL, NULL);
}
