/*
 * cmd_scale.c - `sesame scale record` and `sesame plan record` (PROTOCOL.md §13-§14): PHQ-9,
 * GAD-7 and PHQ-2 answers, or a change of treatment plan, sent end to end as a structured record
 * (content type 2). For scales the CLI scores the answers, reads the episode's earlier records
 * from the thread's history and its phase from the thread's metadata, runs the client-side rules
 * (scales.h) and raises the coded alerts they trigger; the server only ever sees the codes.
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

/* Parses "a,b,c" into exactly n items 0..3. Returns 0 or CLI_EUSAGE after "BAD_SCALE: ...". */
static int parse_items(const char *opt, const char *s, uint8_t *items, size_t n)
{
    size_t k = 0;
    const char *p = s;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (k == n)
            return cli_error(CLI_EUSAGE,
                             "BAD_SCALE: --%s has more than %zu answers; nothing was "
                             "sent",
                             opt, n);
        if (len == 0)
            return cli_error(CLI_EUSAGE, "BAD_SCALE: --%s: answer %zu is missing; nothing was sent",
                             opt, k + 1);
        if (len != 1 || p[0] < '0' || p[0] > '9')
            return cli_error(CLI_EUSAGE,
                             "BAD_SCALE: --%s: answer %zu is not a number 0..3; nothing was sent",
                             opt, k + 1);
        if (p[0] > '3')
            return cli_error(CLI_EUSAGE,
                             "BAD_SCALE: --%s: answer %zu is %c, out of range 0..3; nothing was "
                             "sent",
                             opt, k + 1, p[0]);
        items[k++] = (uint8_t)(p[0] - '0');
        if (end == NULL)
            break;
        p = end + 1;
    }
    if (k != n)
        return cli_error(CLI_EUSAGE, "BAD_SCALE: --%s needs %zu answers, got %zu; nothing was sent",
                         opt, n, k);
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

struct records {
    struct ses_record *v;
    size_t n, cap;
    int status;
};

static int take_record(struct e2e *x, const struct e2e_roster *r, struct e2e_msg *m, void *ud)
{
    struct records *a = ud;
    (void)x;
    (void)r;
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

static void free_records(struct records *a)
{
    if (a->v != NULL)
        sodium_memzero(a->v, a->cap * sizeof *a->v);
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* Reads every record of thread r (e2e_walk over all its messages), oldest first. */
static int read_history(struct e2e *x, const struct e2e_roster *r, struct records *a)
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

static void print_scale(const char *label, enum ses_scale s, const uint8_t *items, size_t n,
                        int item9)
{
    struct ses_scale_score sc;
    if (ses_scale_score(s, items, n, 0, &sc) != 0)
        return;
    printf("  %-6s %2d  %s", label, sc.total, ses_band_label(sc.band));
    if (item9)
        printf("   item 9: %u%s", (unsigned)items[n - 1],
               items[n - 1] > 0 ? "  (thoughts of death or self-harm)" : "");
    fputc('\n', stdout);
}

static void print_episode(const struct ses_record *rec, const struct ses_episode *ep)
{
    char day[11];
    if (rec->has_phq9 && ep->has_baseline) {
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
            printf("  previous PHQ-9: %d%s\n", ep->previous, ep->has_nadir ? "" : "");
    } else {
        printf("  change vs baseline: N/A (no PHQ-9)\n");
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

struct raised {
    json_t *reply; /* {"repeat","alert"}; NULL if the raise failed */
    const struct ses_trigger *trig;
};

int cmd_scale(struct cli *cli)
{
    const char *sub = cli->argc > 0 ? cli->argv[0] : NULL;
    if (sub == NULL)
        return cli_usage_error(SCALE_USAGE, "scale needs a subcommand (record)");
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        cli_print_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(sub, "record") != 0)
        return cli_usage_error(SCALE_USAGE, "unknown scale command '%s'", sub);
    const char *pos[1], *phq9 = NULL, *gad7 = NULL, *phq2 = NULL, *date = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"phq9", &phq9, NULL, NULL, 0},
                                   {"gad7", &gad7, NULL, NULL, 0},
                                   {"phq2", &phq2, NULL, NULL, 0},
                                   {"date", &date, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc - 1, cli->argv + 1, opts, 4, SCALE_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos != 1)
        return cli_usage_error(SCALE_USAGE, "scale record needs a THREAD");
    if (phq9 == NULL && gad7 == NULL && phq2 == NULL)
        return cli_error(CLI_EUSAGE, "BAD_SCALE: give the answers of at least one scale (--phq9, "
                                     "--gad7, --phq2); nothing was sent");
    struct ses_record rec;
    memset(&rec, 0, sizeof rec);
    rec.kind = SES_RECORD_SCALES;
    if ((phq9 && (rc = parse_items("phq9", phq9, rec.phq9, SES_PHQ9_ITEMS)) != 0) ||
        (gad7 && (rc = parse_items("gad7", gad7, rec.gad7, SES_GAD7_ITEMS)) != 0) ||
        (phq2 && (rc = parse_items("phq2", phq2, rec.phq2, SES_PHQ2_ITEMS)) != 0))
        return rc;
    rec.has_phq9 = phq9 != NULL;
    rec.has_gad7 = gad7 != NULL;
    rec.has_phq2 = phq2 != NULL;
    if ((rc = record_day(SCALE_USAGE, date, &rec.day)) != 0)
        return rc;

    struct e2e x;
    char tid[E2E_ID_LEN];
    struct e2e_roster *r = NULL;
    json_t *meta = NULL, *sent = NULL;
    struct records hist = {0};
    struct ses_episode ep;
    struct ses_trigger trig[SES_TRIGGERS_MAX];
    struct raised raised[SES_TRIGGERS_MAX];
    size_t n_trig = 0;
    memset(&ep, 0, sizeof ep);
    memset(raised, 0, sizeof raised);
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if ((status = e2e_resolve_thread(&x, pos[0], tid)) == 0 &&
        (status = cli_thread_info(&x, tid, &r, &meta)) == 0)
        status = read_history(&x, r, &hist);
    if (status == 0) {
        int relapse = strcmp(cli_str(meta, "phase", "active"), "relapse_prevention") == 0;
        rc = ses_rules_evaluate(hist.v, hist.n, &rec, relapse, NULL, &ep, trig, &n_trig);
        if (rc != 0)
            status = cli_error(CLI_ELOCAL, "%s: cannot evaluate the record: %s", ses_err_name(rc),
                               ses_err_msg(rc));
    }
    free_records(&hist);
    if (status == 0)
        status = send_record(&x, &r, &rec, &sent);
    if (status != 0) {
        sodium_memzero(&rec, sizeof rec);
        sodium_memzero(&ep, sizeof ep);
        json_decref(meta);
        free(r);
        return e2e_end(&x, status, 1);
    }
    int64_t seq = (int64_t)json_integer_value(json_object_get(sent, "seq"));
    /* one raise per trigger, most urgent first; a refusal does not stop the others */
    int first_err = 0;
    for (size_t i = 0; i < n_trig; i++) {
        raised[i].trig = &trig[i];
        int s = cli_alert_raise(&x, r->text, trig[i].type, trig[i].variant, NULL, seq,
                                &raised[i].reply);
        if (s != 0 && first_err == 0)
            first_err = s;
    }

    if (cli->json) {
        json_t *alerts = json_array();
        for (size_t i = 0; alerts && i < n_trig; i++) {
            if (raised[i].reply == NULL)
                continue;
            json_t *a = json_deep_copy(json_object_get(raised[i].reply, "alert"));
            if (a == NULL)
                continue;
            json_object_set(a, "repeat", json_object_get(raised[i].reply, "repeat"));
            json_object_set_new(a, "why", json_string(trig[i].why ? trig[i].why : ""));
            json_array_append_new(alerts, a);
        }
        json_t *out =
            json_pack("{s:o?, s:o?, s:{s:s, s:s, s:O?, s:O?, s:O?}, s:o}", "record",
                      e2e_record_json(&rec), "episode", episode_json(&ep, rec.has_phq9), "sent",
                      "thread", r->text, "patient", r->patient, "seq", json_object_get(sent, "seq"),
                      "msg_id", json_object_get(sent, "msg_id"), "duplicate",
                      json_object_get(sent, "duplicate"), "alerts", alerts ? alerts : json_array());
        if (out != NULL)
            cli_print_json(out);
        json_decref(out);
    } else {
        char day[11];
        ses_day_format(rec.day, day);
        printf("Scales recorded for %s (thread %.8s), %s: sent encrypted (seq %lld)\n", r->patient,
               r->text, day, (long long)seq);
        if (rec.has_phq9)
            print_scale("PHQ-9", SES_SCALE_PHQ9, rec.phq9, SES_PHQ9_ITEMS, 1);
        if (rec.has_gad7)
            print_scale("GAD-7", SES_SCALE_GAD7, rec.gad7, SES_GAD7_ITEMS, 0);
        if (rec.has_phq2)
            print_scale("PHQ-2", SES_SCALE_PHQ2, rec.phq2, SES_PHQ2_ITEMS, 0);
        print_episode(&rec, &ep);
        if (n_trig == 0)
            printf("No alert raised.\n");
        else
            printf("Alerts:\n");
        for (size_t i = 0; i < n_trig; i++) {
            if (raised[i].reply == NULL) {
                printf("  %s%s%s: NOT raised (error above)\n", trig[i].type,
                       trig[i].variant[0] ? "/" : "", trig[i].variant);
                continue;
            }
            cli_alert_print(&x, json_object_get(raised[i].reply, "alert"),
                            json_is_true(json_object_get(raised[i].reply, "repeat")), trig[i].why);
        }
    }
    for (size_t i = 0; i < n_trig; i++) {
        if (raised[i].reply != NULL)
            cli_alert_p0_banner(&x, json_object_get(raised[i].reply, "alert"));
        json_decref(raised[i].reply);
    }
    sodium_memzero(&rec, sizeof rec);
    sodium_memzero(&ep, sizeof ep);
    json_decref(sent);
    json_decref(meta);
    free(r);
    return e2e_end(&x, first_err, 1);
}

/* --- plan record ---------------------------------------------------------------------------- */

int cmd_plan(struct cli *cli)
{
    const char *sub = cli->argc > 0 ? cli->argv[0] : NULL;
    if (sub == NULL)
        return cli_usage_error(PLAN_USAGE, "plan needs a subcommand (record)");
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        cli_print_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(sub, "record") != 0)
        return cli_usage_error(PLAN_USAGE, "unknown plan command '%s'", sub);
    cli->argc--;
    cli->argv++;
    int ad = cli_take_flag(cli, "antidepressant");
    const char *pos[1], *date = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"date", &date, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 1, PLAN_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos != 1)
        return cli_usage_error(PLAN_USAGE, "plan record needs a THREAD");
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
