/*
 * cmd_scale.c - `sesame scale record` and `sesame plan record` (PROTOCOL.md §13-§14): PHQ-9,
 * GAD-7 and PHQ-2 answers, or a change of treatment plan, sent end to end as a structured record
 * (content type 2). For scales the CLI scores the answers, reads the episode's earlier records
 * from the thread's history and its phase from the thread's metadata, runs the client-side rules
 * (scales.h) and raises the coded alerts they trigger; the server only ever sees the codes.
 * The record then counts as an assessment contact on its day (contact_record, type assessment,
 * naming the scales whose score is usable). An unanswered item is SES_ITEM_MISSING: an incomplete
 * PHQ-9 is prorated by the scale library when it can be, and is shown as incomplete otherwise.
 *
 * Answers and scores live only in memory and on stdout: never in the local state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#define SCALE_USAGE                                                                                \
    "sesame scale record THREAD --phq9 a,b,c,d,e,f,g,h,i [--gad7 a,b,c,d,e,f,g] [--phq2 a,b] "     \
    "[--date YYYY-MM-DD]"
#define PLAN_USAGE "sesame plan record THREAD [--date YYYY-MM-DD] [--antidepressant]"
#define RP_USAGE "sesame episode rp-plan THREAD --file PLAN.json [--date YYYY-MM-DD]"
#define RP_FILE_MAX (64 * 1024)

#define DAY_MS 86400000LL

/* "2025-01-31" of a time in ms (UTC day), "-" for a non-integer or a time before 1970. */
static void fmt_ms_day(char out[11], const json_t *ms)
{
    if (!json_is_integer(ms) || json_integer_value(ms) < 0)
        snprintf(out, 11, "-");
    else
        ses_day_format((int32_t)(json_integer_value(ms) / DAY_MS), out);
}

/* Parses "a,b,c" into exactly n items 0..3; an empty answer ("1,,2") is SES_ITEM_MISSING (not
 * answered), but at least one must be given. Returns 0 or CLI_EUSAGE after "BAD_SCALE: ...". */
static int parse_items(const char *opt, const char *s, uint8_t *items, size_t n)
{
    size_t k = 0, answered = 0;
    const char *p = s;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (k == n)
            return cli_error(CLI_EUSAGE,
                             "BAD_SCALE: --%s has more than %zu answers; nothing was "
                             "sent",
                             opt, n);
        if (len == 0) {
            items[k++] = SES_ITEM_MISSING;
        } else if (len != 1 || p[0] < '0' || p[0] > '9') {
            return cli_error(CLI_EUSAGE,
                             "BAD_SCALE: --%s: answer %zu is not a number 0..3; nothing was sent",
                             opt, k + 1);
        } else if (p[0] > '3') {
            return cli_error(CLI_EUSAGE,
                             "BAD_SCALE: --%s: answer %zu is %c, out of range 0..3; nothing was "
                             "sent",
                             opt, k + 1, p[0]);
        } else {
            items[k++] = (uint8_t)(p[0] - '0');
            answered++;
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (k != n)
        return cli_error(CLI_EUSAGE, "BAD_SCALE: --%s needs %zu answers, got %zu; nothing was sent",
                         opt, n, k);
    if (answered == 0)
        return cli_error(CLI_EUSAGE,
                         "BAD_SCALE: --%s: no answer given (all %zu are blank); nothing was sent",
                         opt, n);
    return 0;
}

/* The record's date: --date (not after tomorrow, UTC: the answers are a past event) or today. */
static int record_day(const char *usage, const char *date, int32_t *day)
{
    if (date == NULL) {
        *day = cli_today();
        return 0;
    }
    int rc = cli_date_arg(usage, "date", date, day, NULL);
    if (rc == 0 && *day > cli_today() + 1)
        return cli_usage_error(usage, "BAD_FIELD: --date %s is in the future", date);
    return rc;
}

/* --- the episode's earlier records ---------------------------------------------------------- */

static int take_record(struct e2e *x, const struct e2e_roster *r, struct e2e_msg *m, void *ud)
{
    struct cli_records *a = ud;
    (void)x;
    (void)r;
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_THREAD_TITLE && m->text != NULL)
        snprintf(a->title, sizeof a->title, "%s", m->text); /* the latest title */
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_SCALE && m->has_record) {
        if (a->n == a->cap) {
            size_t cap = a->cap ? a->cap * 2 : 16;
            struct ses_record *nv = realloc(a->v, cap * sizeof *nv);
            if (nv == NULL) {
                e2e_msg_free(m);
                return cli_error(CLI_ELOCAL, "out of memory");
            }
            a->v = nv;
            a->cap = cap;
        }
        a->v[a->n++] = m->record;
    }
    e2e_msg_free(m);
    return 0;
}

void cli_records_free(struct cli_records *a)
{
    if (a->v != NULL)
        sodium_memzero(a->v, a->cap * sizeof *a->v);
    free(a->v);
    memset(a, 0, sizeof *a);
}

int cli_read_records(struct e2e *x, const struct e2e_roster *r, struct cli_records *a)
{
    json_t *run = json_object();
    if (run == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    int status = e2e_walk(x, r, 0, r->last_seq, run, take_record, a, NULL);
    json_decref(run);
    return status;
}

/* Encodes rec and sends it as content type 2. Returns 0 with *sent, or the exit status. */
static int send_record(struct e2e *x, struct e2e_roster **r, const struct ses_record *rec,
                       json_t **sent)
{
    uint8_t body[SES_RECORD_MAX];
    size_t len = 0;
    int rc = ses_record_encode(rec, body, sizeof body, &len);
    if (rc != 0)
        return cli_error(rc == SES_EBAD_SCALE ? CLI_EUSAGE : CLI_ELOCAL,
                         "%s: cannot encode the record: %s", ses_err_name(rc), ses_err_msg(rc));
    int status = e2e_send(x, r, SES_CONTENT_SCALE, body, len, sent);
    sodium_memzero(body, sizeof body);
    return status;
}

/* --- output --------------------------------------------------------------------------------- */

static json_t *opt_int(bool has, int v)
{
    return has ? json_integer(v) : json_null();
}

static json_t *episode_json(const struct ses_episode *ep, bool has_phq9)
{
    char day[11];
    json_t *plan = json_null();
    if (ep->has_plan) {
        ses_day_format(ep->plan_day, day);
        plan = json_pack("{s:s, s:b, s:o}", "since", day, "antidepressant", ep->plan_antidepressant,
                         "start_score", opt_int(ep->has_plan_start_score, ep->plan_start_score));
    }
    json_t *change = json_null();
    if (has_phq9 && ep->has_baseline)
        change =
            json_pack("{s:b, s:o, s:b, s:b, s:b, s:b}", "applicable", ep->change.applicable, "pct",
                      ep->change.applicable ? json_integer(ep->change.pct) : json_null(),
                      "response", ep->change.response, "partial", ep->change.partial, "remission",
                      ep->change.remission, "improved", ep->change.improved);
    return json_pack(
        "{s:o, s:o, s:o, s:o, s:o, s:i, s:o}", "baseline", opt_int(ep->has_baseline, ep->baseline),
        "previous", opt_int(ep->has_previous, ep->previous), "nadir",
        opt_int(ep->has_nadir, ep->nadir), "gad_previous",
        opt_int(ep->has_gad_previous, ep->gad_previous), "plan", plan ? plan : json_null(),
        "weeks_on_plan", ep->weeks_on_plan, "change", change ? change : json_null());
}

/* A scale's score for display and for the contact: usable when complete or prorated. */
static int scale_usable(enum ses_scale s, const uint8_t *items, size_t n)
{
    struct ses_scale_score sc;
    return ses_scale_score(s, items, n, 0, &sc) == 0 && (sc.complete || sc.prorated);
}

/* "  PHQ-9  14  moderate", "  PHQ-9  13  (prorated from 8 of 9 answers) moderate" or
 * "  PHQ-9  incomplete (6 of 9 answered)"; for the PHQ-9 also item 9, or that it was not
 * answered. */
static void print_scale(const char *label, enum ses_scale s, const uint8_t *items, size_t n,
                        int item9)
{
    struct ses_scale_score sc;
    if (ses_scale_score(s, items, n, 0, &sc) != 0)
        return;
    if (sc.complete)
        printf("  %-6s %2d  %s", label, sc.total, ses_band_label(sc.band));
    else if (sc.prorated)
        printf("  %-6s %2d  (prorated from %d of %zu answers) %s", label, sc.total, sc.answered, n,
               ses_band_label(sc.band));
    else
        printf("  %-6s incomplete (%d of %zu answered): no score, no band", label, sc.answered, n);
    if (item9 && items[n - 1] == SES_ITEM_MISSING)
        printf("   item 9: not answered — ask it directly");
    else if (item9)
        printf("   item 9: %u%s", (unsigned)items[n - 1],
               items[n - 1] > 0 ? "  (thoughts of death or self-harm)" : "");
    fputc('\n', stdout);
}

static void print_episode(const struct ses_record *rec, const struct ses_episode *ep)
{
    char day[11];
    if (rec->has_phq9 && ep->has_baseline &&
        scale_usable(SES_SCALE_PHQ9, rec->phq9, SES_PHQ9_ITEMS)) {
        if (!ep->has_previous) {
            printf("  baseline: this PHQ-9 (%d) is the episode's first\n", ep->baseline);
        } else if (!ep->change.applicable) {
            printf("  change vs baseline %d: N/A (baseline 9 or below)\n", ep->baseline);
        } else {
            int pct = ep->change.pct;
            printf("  change vs baseline %d: %d %% %s; response: %s; remission: %s\n", ep->baseline,
                   pct < 0 ? -pct : pct, pct < 0 ? "worse" : "better",
                   ep->change.response  ? "yes"
                   : ep->change.partial ? "partial"
                                        : "no",
                   ep->change.remission ? "yes" : "no");
        }
        if (ep->has_previous)
            printf("  previous PHQ-9: %d\n", ep->previous);
    } else {
        printf("  change vs baseline: N/A (no usable PHQ-9)\n");
    }
    if (ep->has_plan) {
        ses_day_format(ep->plan_day, day);
        printf("  weeks on plan: %d (since %s%s)\n", ep->weeks_on_plan, day,
               ep->plan_antidepressant ? ", antidepressant" : "");
    } else {
        printf("  weeks on plan: -\n");
    }
}

/* --- scale record --------------------------------------------------------------------------- */

/* One `scale record` run: the record, what the thread says about it, what was sent and raised. */
struct scale_job {
    struct ses_record rec;
    struct e2e_roster *r;
    json_t *meta;    /* the thread's metadata before the record */
    json_t *sent;    /* the send reply of the record */
    json_t *contact; /* META after the assessment contact, or NULL */
    char contact_err[32];
    struct ses_episode ep;
    struct ses_trigger trig[SES_TRIGGERS_MAX];
    json_t *raised[SES_TRIGGERS_MAX]; /* {"repeat","alert"} per trigger; NULL if refused */
    size_t n_trig;
};

static void job_free(struct scale_job *j)
{
    for (size_t i = 0; i < j->n_trig; i++)
        json_decref(j->raised[i]);
    json_decref(j->meta);
    json_decref(j->sent);
    json_decref(j->contact);
    free(j->r);
    sodium_memzero(j, sizeof *j);
}

/* The command line of `scale record`: THREAD into *thread and the answers and date into rec. */
static int scale_args(struct cli *cli, const char **thread, struct ses_record *rec)
{
    const char *pos[1], *phq9 = NULL, *gad7 = NULL, *phq2 = NULL, *date = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"phq9", &phq9, NULL, NULL, 0},
                                   {"gad7", &gad7, NULL, NULL, 0},
                                   {"phq2", &phq2, NULL, NULL, 0},
                                   {"date", &date, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 4, SCALE_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc;
    if (n_pos != 1)
        return cli_usage_error(SCALE_USAGE, "scale record needs a THREAD");
    if (phq9 == NULL && gad7 == NULL && phq2 == NULL)
        return cli_error(CLI_EUSAGE, "BAD_SCALE: give the answers of at least one scale (--phq9, "
                                     "--gad7, --phq2); nothing was sent");
    memset(rec, 0, sizeof *rec);
    rec->kind = SES_RECORD_SCALES;
    if ((phq9 && (rc = parse_items("phq9", phq9, rec->phq9, SES_PHQ9_ITEMS)) != 0) ||
        (gad7 && (rc = parse_items("gad7", gad7, rec->gad7, SES_GAD7_ITEMS)) != 0) ||
        (phq2 && (rc = parse_items("phq2", phq2, rec->phq2, SES_PHQ2_ITEMS)) != 0))
        return rc;
    rec->has_phq9 = phq9 != NULL;
    rec->has_gad7 = gad7 != NULL;
    rec->has_phq2 = phq2 != NULL;
    *thread = pos[0];
    return record_day(SCALE_USAGE, date, &rec->day);
}

/* The thread's roster and phase, its earlier records, and the rules on the new one. */
static int evaluate(struct e2e *x, const char *tid, struct scale_job *j)
{
    struct cli_records hist = {0};
    int status = e2e_roster_fetch_meta(x, tid, &j->r, &j->meta);
    if (status == 0)
        status = cli_read_records(x, j->r, &hist);
    if (status == 0) {
        int relapse = strcmp(cli_str(j->meta, "phase", "active"), "relapse_prevention") == 0;
        int rc =
            ses_rules_evaluate(hist.v, hist.n, &j->rec, relapse, NULL, &j->ep, j->trig, &j->n_trig);
        if (rc != 0)
            status = cli_error(CLI_ELOCAL, "%s: cannot evaluate the record: %s", ses_err_name(rc),
                               ses_err_msg(rc));
    }
    cli_records_free(&hist);
    return status;
}

/* One raise per trigger, most urgent first; a refusal does not stop the others. Returns the first
 * refusal's exit status, or 0. */
static int raise_all(struct e2e *x, struct scale_job *j)
{
    int64_t seq = (int64_t)json_integer_value(json_object_get(j->sent, "seq"));
    int first_err = 0;
    for (size_t i = 0; i < j->n_trig; i++) {
        int s = cli_alert_raise(x, j->r->text, j->trig[i].type, j->trig[i].variant, NULL, seq,
                                &j->raised[i]);
        if (s != 0 && first_err == 0)
            first_err = s;
    }
    return first_err;
}

/* The record counts as an assessment contact on its day: contact_record with type assessment and
 * the scales whose score is usable. A refusal is a warning (j->contact_err), never an error. */
static void record_contact(struct e2e *x, struct scale_job *j)
{
    json_t *scales = json_array(), *reply = NULL;
    if (j->rec.has_phq9 && scale_usable(SES_SCALE_PHQ9, j->rec.phq9, SES_PHQ9_ITEMS))
        json_array_append_new(scales, json_string("phq9"));
    if (j->rec.has_gad7 && scale_usable(SES_SCALE_GAD7, j->rec.gad7, SES_GAD7_ITEMS))
        json_array_append_new(scales, json_string("gad7"));
    if (j->rec.has_phq2 && scale_usable(SES_SCALE_PHQ2, j->rec.phq2, SES_PHQ2_ITEMS))
        json_array_append_new(scales, json_string("phq2"));
    json_t *req = json_pack("{s:s, s:s, s:s, s:I}", "t", "contact_record", "thread", j->r->text,
                            "type", "assessment", "date", (json_int_t)j->rec.day * DAY_MS);
    if (req != NULL && json_array_size(scales) > 0)
        json_object_set(req, "scales", scales);
    json_decref(scales);
    int rc = ses_conn_request(x->conn, req, x->cli->timeout_ms, &reply);
    if (rc == 0 && json_is_object(json_object_get(reply, "meta"))) {
        j->contact = json_incref(json_object_get(reply, "meta"));
    } else {
        const char *code = cli_str(reply, "code", ses_err_name(rc ? rc : SES_EINTERNAL));
        snprintf(j->contact_err, sizeof j->contact_err, "%s", code);
        e2e_warn("not counted as a contact: %s: %s", code,
                 cli_str(reply, "msg", ses_err_msg(rc ? rc : SES_EINTERNAL)));
    }
    json_decref(reply);
}

static void print_scale_json(const struct scale_job *j)
{
    json_t *alerts = json_array();
    for (size_t i = 0; alerts && i < j->n_trig; i++) {
        if (j->raised[i] == NULL)
            continue;
        json_t *a = json_deep_copy(json_object_get(j->raised[i], "alert"));
        if (a == NULL)
            continue;
        json_object_set(a, "repeat", json_object_get(j->raised[i], "repeat"));
        json_object_set_new(a, "why", json_string(j->trig[i].why ? j->trig[i].why : ""));
        json_array_append_new(alerts, a);
    }
    const json_t *sent = j->sent;
    json_t *out = json_pack(
        "{s:o?, s:o?, s:{s:s, s:s, s:O?, s:O?, s:O?}, s:o, s:O}", "record",
        e2e_record_json(&j->rec), "episode", episode_json(&j->ep, j->rec.has_phq9), "sent",
        "thread", j->r->text, "patient", j->r->patient, "seq", json_object_get(sent, "seq"),
        "msg_id", json_object_get(sent, "msg_id"), "duplicate", json_object_get(sent, "duplicate"),
        "alerts", alerts ? alerts : json_array(), "contact", j->contact ? j->contact : json_null());
    if (out != NULL && j->contact_err[0])
        json_object_set_new(out, "contact_error", json_string(j->contact_err));
    if (out != NULL)
        cli_print_json(out);
    json_decref(out);
}

static void print_scale_text(struct e2e *x, const struct scale_job *j)
{
    char day[11];
    ses_day_format(j->rec.day, day);
    printf("Scales recorded for %s (thread %.8s), %s: sent encrypted (seq %lld)\n", j->r->patient,
           j->r->text, day, (long long)json_integer_value(json_object_get(j->sent, "seq")));
    if (j->rec.has_phq9)
        print_scale("PHQ-9", SES_SCALE_PHQ9, j->rec.phq9, SES_PHQ9_ITEMS, 1);
    if (j->rec.has_gad7)
        print_scale("GAD-7", SES_SCALE_GAD7, j->rec.gad7, SES_GAD7_ITEMS, 0);
    if (j->rec.has_phq2)
        print_scale("PHQ-2", SES_SCALE_PHQ2, j->rec.phq2, SES_PHQ2_ITEMS, 0);
    print_episode(&j->rec, &j->ep);
    printf(j->n_trig == 0 ? "No alert raised.\n" : "Alerts:\n");
    for (size_t i = 0; i < j->n_trig; i++) {
        const struct ses_trigger *t = &j->trig[i];
        if (j->raised[i] == NULL)
            printf("  %s%s%s: NOT raised (error above)\n", t->type, t->variant[0] ? "/" : "",
                   t->variant);
        else
            cli_alert_print(x, json_object_get(j->raised[i], "alert"),
                            json_is_true(json_object_get(j->raised[i], "repeat")), t->why);
    }
    if (j->contact != NULL) {
        fmt_ms_day(day, json_object_get(j->contact, "last_contact"));
        printf("Counted as an assessment contact: %lld contact(s), the last on %s\n",
               (long long)json_integer_value(json_object_get(j->contact, "contacts")), day);
    }
}

static int scale_record(struct cli *cli)
{
    const char *thread = NULL;
    struct scale_job j;
    memset(&j, 0, sizeof j);
    int rc = scale_args(cli, &thread, &j.rec);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;

    struct e2e x;
    char tid[E2E_ID_LEN];
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if ((status = e2e_resolve_thread(&x, thread, tid)) == 0 &&
        (status = evaluate(&x, tid, &j)) == 0)
        status = send_record(&x, &j.r, &j.rec, &j.sent);
    if (status != 0) {
        job_free(&j);
        return e2e_end(&x, status, 1);
    }
    status = raise_all(&x, &j);
    record_contact(&x, &j);
    if (cli->json)
        print_scale_json(&j);
    else
        print_scale_text(&x, &j);
    for (size_t i = 0; i < j.n_trig; i++)
        if (j.raised[i] != NULL)
            cli_alert_p0_banner(&x, json_object_get(j.raised[i], "alert"));
    job_free(&j);
    return e2e_end(&x, status, 1);
}

int cmd_scale(struct cli *cli)
{
    static const struct cli_sub subs[] = {{"record", scale_record}};
    return cli_dispatch(cli, "scale", SCALE_USAGE, subs, 1);
}

/* --- plan record ---------------------------------------------------------------------------- */

static int plan_record(struct cli *cli)
{
    int ad = cli_take_flag(cli, "antidepressant");
    const char *pos[1], *date = NULL;
    const struct e2e_opt opts[] = {{"date", &date, NULL, NULL, 0}};
    int rc = e2e_args1(cli, opts, 1, PLAN_USAGE, "plan record needs a THREAD", &pos[0]);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct ses_record rec;
    memset(&rec, 0, sizeof rec);
    rec.kind = SES_RECORD_PLAN;
    rec.antidepressant = ad != 0;
    if ((rc = record_day(PLAN_USAGE, date, &rec.day)) != 0)
        return rc;

    struct e2e x;
    char tid[E2E_ID_LEN];
    struct e2e_roster *r = NULL;
    json_t *sent = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if ((status = e2e_resolve_thread(&x, pos[0], tid)) == 0 &&
        (status = e2e_roster_fetch(&x, tid, &r)) == 0)
        status = send_record(&x, &r, &rec, &sent);
    if (status == 0) {
        if (cli->json) {
            json_t *out =
                json_pack("{s:o?, s:{s:s, s:s, s:O?, s:O?, s:O?}}", "record", e2e_record_json(&rec),
                          "sent", "thread", r->text, "patient", r->patient, "seq",
                          json_object_get(sent, "seq"), "msg_id", json_object_get(sent, "msg_id"),
                          "duplicate", json_object_get(sent, "duplicate"));
            if (out != NULL)
                cli_print_json(out);
            json_decref(out);
        } else {
            char day[11];
            ses_day_format(rec.day, day);
            printf("Treatment plan change recorded for %s (thread %.8s), %s%s: sent encrypted "
                   "(seq %lld)\n",
                   r->patient, r->text, day, rec.antidepressant ? ", antidepressant" : "",
                   (long long)json_integer_value(json_object_get(sent, "seq")));
        }
    }
    json_decref(sent);
    free(r);
    return e2e_end(&x, status, 1);
}

int cmd_plan(struct cli *cli)
{
    static const struct cli_sub subs[] = {{"record", plan_record}};
    return cli_dispatch(cli, "plan", PLAN_USAGE, subs, 1);
}

/* --- relapse-prevention plan ---------------------------------------------------------------- */

/* The plan's parts from PLAN.json: one object with exactly the five keys, each a string. */
static int rp_parts(const char *path, struct ses_record *rec)
{
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return cli_usage_error(RP_USAGE, "BAD_FIELD: %s: %s (line %d)", path, jerr.text, jerr.line);
    int rc = json_is_object(root) ? 0 : CLI_EUSAGE;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v)
    {
        int known = 0;
        for (int k = 0; k < SES_RP_PARTS; k++)
            known = known || strcmp(key, ses_rp_part_key((enum ses_rp_part)k)) == 0;
        if (!known && rc == 0)
            rc = cli_usage_error(RP_USAGE, "BAD_FIELD: %s: unknown key \"%s\"", path, key);
    }
    for (int k = 0; rc == 0 && k < SES_RP_PARTS; k++) {
        const char *name = ses_rp_part_key((enum ses_rp_part)k);
        json_t *part = json_object_get(root, name);
        size_t n = json_string_length(part);
        if (!json_is_string(part) || n == 0 || n > SES_RP_TEXT_MAX)
            rc = cli_usage_error(RP_USAGE, "BAD_FIELD: %s: \"%s\" must be a text of 1..%d bytes",
                                 path, name, SES_RP_TEXT_MAX);
        else
            memcpy(rec->rp[k], json_string_value(part), n + 1);
    }
    if (rc == CLI_EUSAGE && json_is_object(root) == 0)
        rc = cli_usage_error(RP_USAGE, "BAD_FIELD: %s is not one JSON object", path);
    json_decref(root);
    return rc;
}

int cli_episode_rp_plan(struct cli *cli)
{
    const char *pos[1], *date = NULL, *file = NULL;
    const struct e2e_opt opts[] = {{"date", &date, NULL, NULL, 0}, {"file", &file, NULL, NULL, 0}};
    int rc = e2e_args1(cli, opts, 2, RP_USAGE, "episode rp-plan needs a THREAD", &pos[0]);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (file == NULL)
        return cli_usage_error(RP_USAGE, "episode rp-plan needs --file PLAN.json");
    struct ses_record rec;
    memset(&rec, 0, sizeof rec);
    rec.kind = SES_RECORD_RP_PLAN;
    if ((rc = record_day(RP_USAGE, date, &rec.day)) != 0 || (rc = rp_parts(file, &rec)) != 0)
        return rc;
    if (ses_record_check(&rec) != 0)
        return cli_usage_error(RP_USAGE, "BAD_FIELD: %s: a part is not valid UTF-8", file);

    struct e2e x;
    char tid[E2E_ID_LEN];
    struct e2e_roster *r = NULL;
    json_t *sent = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0) {
        sodium_memzero(&rec, sizeof rec);
        return status;
    }
    if ((status = e2e_resolve_thread(&x, pos[0], tid)) == 0 &&
        (status = e2e_roster_fetch(&x, tid, &r)) == 0)
        status = send_record(&x, &r, &rec, &sent);
    if (status == 0) {
        char day[11];
        ses_day_format(rec.day, day);
        if (cli->json) {
            json_t *out =
                json_pack("{s:o?, s:{s:s, s:s, s:O?, s:O?}}", "record", e2e_record_json(&rec),
                          "sent", "thread", r->text, "patient", r->patient, "seq",
                          json_object_get(sent, "seq"), "msg_id", json_object_get(sent, "msg_id"));
            if (out != NULL)
                cli_print_json(out);
            json_decref(out);
        } else {
            printf("Relapse-prevention plan recorded for %s (thread %.8s), %s: sent encrypted "
                   "(seq %lld)\n",
                   r->patient, r->text, day,
                   (long long)json_integer_value(json_object_get(sent, "seq")));
        }
    }
    sodium_memzero(&rec, sizeof rec);
    json_decref(sent);
    free(r);
    return e2e_end(&x, status, 1);
}
