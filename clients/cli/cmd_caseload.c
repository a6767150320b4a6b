/*
 * cmd_caseload.c - `sesame caseload`: the caseload registry (PROTOCOL.md §15 "Registry"), one row
 * per patient thread the user can read, computed on this device from the thread's decrypted scale
 * and plan records (protocol/registry.c) and what the server says of the thread (its metadata,
 * its open alerts, where it stands on the case-review queue). The server never sees a score.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/recommend.h"
#include "sesame/alerts.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/registry.h"
#include "sesame/scales.h"

#define CASELOAD_USAGE                                                                             \
    "sesame caseload [--nurse USER_ID] [--sort attention|name|weeks] | [--indicators [--from "     \
    "YYYY-MM-DD] [--to YYYY-MM-DD]]"
#define DAY_MS 86400000LL
#define CASELOAD_MAX 1000 /* threads one caseload shows */

struct patient {
    char thread[E2E_ID_LEN], patient[40];
    char nurse[SES_MAX_NAME_LEN + 1], nurse_id[E2E_ID_LEN], site[SES_MAX_NAME_LEN + 1];
    json_t *meta;     /* the thread's META */
    json_t *queue;    /* its queue entry, or NULL */
    json_t *rec;      /* its latest current recommendation (REC), or NULL */
    int open_alerts;  /* open alerts of the thread */
    int max_severity; /* the highest, -1 none */
    struct cli_records recs;
    struct ses_registry_facts facts;
    struct ses_registry_row row;
};

static int32_t day_of(const json_t *ms)
{
    if (!json_is_integer(ms))
        return -1;
    json_int_t v = json_integer_value(ms);
    return (int32_t)(v >= 0 ? v / DAY_MS : -((-v + DAY_MS - 1) / DAY_MS));
}

static bool safety_alert(const json_t *a)
{
    const char *t = cli_str(a, "type", ""), *v = cli_str(a, "variant", "");
    return strcmp(t, "A01") == 0 || strcmp(t, "A02") == 0 || strcmp(t, "A03") == 0 ||
           (strcmp(t, "A19") == 0 && strcmp(v, "psychiatric") == 0);
}

/* The open alerts of the patient's thread, out of all the user's open ones. */
static bool alerts_of(struct patient *p, const json_t *alerts)
{
    bool safety = false;
    size_t i;
    const json_t *a;
    p->max_severity = -1;
    json_array_foreach(alerts, i, a)
    {
        if (strcmp(cli_str(a, "thread", ""), p->thread) != 0)
            continue;
        int sev = ses_severity_from_name(cli_str(a, "severity", ""));
        p->open_alerts++;
        if (sev > p->max_severity)
            p->max_severity = sev;
        safety = safety || safety_alert(a);
    }
    return safety;
}

static const json_t *queue_entry(const json_t *entries, const char *thread)
{
    size_t i;
    const json_t *e;
    json_array_foreach(entries, i, e) if (strcmp(cli_str(e, "thread", ""), thread) == 0) return e;
    return NULL;
}

/* The site of user in the directory's nurses, or "". */
static const char *site_of(const json_t *users, const char *user)
{
    size_t i;
    const json_t *u;
    json_array_foreach(users, i, u)
    {
        if (strcmp(cli_str(u, "user", ""), user) == 0)
            return cli_str(u, "site", "");
    }
    return "";
}

/* Reads one thread (roster, metadata, every record) and computes its row. */
static int load_patient(struct e2e *x, const char *tid, const json_t *alerts, const json_t *entries,
                        struct patient *p)
{
    struct e2e_roster *r = NULL;
    struct cli_records *recs = &p->recs;
    int status = e2e_roster_fetch_meta(x, tid, &r, &p->meta);
    if (status == 0)
        status = cli_read_records(x, r, recs);
    if (status != 0) {
        free(r);
        return status;
    }
    snprintf(p->thread, sizeof p->thread, "%s", r->text);
    snprintf(p->patient, sizeof p->patient, "%s", r->patient);
    for (size_t i = 0; i < r->n_members; i++)
        if (strcmp(r->members[i].role, "nurse") == 0 && p->nurse[0] == '\0') {
            snprintf(p->nurse, sizeof p->nurse, "%s", r->members[i].name);
            snprintf(p->nurse_id, sizeof p->nurse_id, "%s", r->members[i].text);
        }
    free(r);
    const json_t *q = queue_entry(entries, p->thread);
    p->queue = q ? json_incref((json_t *)q) : NULL;
    struct ses_registry_facts f = {
        .records = recs->v,
        .n_records = recs->n,
        .today = (int32_t)(ses_client_now_ms() / DAY_MS),
        .enrolled_day = day_of(json_object_get(p->meta, "enrolled")),
        .relapse_prevention = strcmp(cli_str(p->meta, "phase", ""), "relapse_prevention") == 0,
        .closed = json_is_integer(json_object_get(p->meta, "closed")),
        .last_contact_day = day_of(json_object_get(p->meta, "last_contact")),
        .last_review_day = day_of(json_object_get(p->meta, "last_review")),
        .first_review_day = day_of(json_object_get(p->meta, "first_review")),
        .next_review_day = day_of(json_object_get(p->meta, "next_review")),
    };
    f.open_safety = alerts_of(p, alerts);
    p->facts = f;
    int rc = ses_registry_row(&f, &p->row);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "%s: thread %s: %s", ses_err_name(rc), p->thread,
                         ses_err_msg(rc));
    return 0;
}

static const char *attention_name(enum ses_attention a)
{
    static const char *const names[] = {"safety", "not_improving", "overdue", "rest", "closed"};
    return (int)a >= 0 && a <= SES_ATTN_CLOSED ? names[a] : "?";
}

static json_t *day_json(int32_t day)
{
    char d[11];
    if (day < 0)
        return json_null();
    ses_day_format(day, d);
    return json_string(d);
}

static json_t *row_json(const struct patient *p)
{
    const struct ses_registry_row *r = &p->row;
    json_t *trend = json_array();
    for (size_t i = 0; trend != NULL && i < r->n_trend; i++)
        json_array_append_new(trend, json_integer(r->trend[i]));
    json_t *phq9 =
        r->has_phq9 ? json_pack("{s:i, s:o, s:i, s:o, s:o, s:s, s:o}", "baseline", r->phq9_baseline,
                                "baseline_date", day_json(r->phq9_baseline_day), "latest",
                                r->phq9_latest, "latest_date", day_json(r->phq9_latest_day), "pct",
                                r->has_change ? json_integer(r->change.pct) : json_null(), "band",
                                ses_band_code(r->phq9_band), "trend", trend)
                    : (json_decref(trend), json_null());
    json_t *gad7 = r->has_gad7 ? json_pack("{s:i, s:o}", "latest", r->gad7_latest, "date",
                                           day_json(r->gad7_day))
                               : json_null();
    json_t *item9 = r->item9 < 0 ? json_null()
                                 : json_pack("{s:o, s:o}", "value",
                                             r->item9 == SES_ITEM_MISSING ? json_null()
                                                                          : json_integer(r->item9),
                                             "date", day_json(r->item9_day));
    const json_t *meta = p->meta;
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:i, s:s, s:o, s:o, s:o, s:o, s:o, s:{s:i, s:o}, s:s, s:b, s:b, "
        "s:b, s:i, s:o, s:o, s:o}",
        "thread", p->thread, "patient", p->patient, "nurse", p->nurse_id, "nurse_name", p->nurse,
        "weeks", r->weeks_in_care, "phase", cli_str(meta, "phase", "active"), "last_contact",
        day_json(day_of(json_object_get(meta, "last_contact"))), "next_contact",
        day_json(r->next_contact_day), "phq9", phq9, "gad7", gad7, "item9", item9, "open_alerts",
        "count", p->open_alerts, "highest",
        p->max_severity >= 0 ? json_string(ses_severity_name(p->max_severity)) : json_null(),
        "attention", attention_name(r->attention), "not_improving", r->not_improving,
        "contact_overdue", r->contact_overdue, "review_overdue", r->review_overdue, "weeks_on_plan",
        r->weeks_on_plan, "queue",
        p->queue ? json_pack("{s:O, s:O}", "tier", json_object_get(p->queue, "tier"), "due",
                             json_object_get(p->queue, "due"))
                 : json_null(),
        "next_review", day_json(day_of(json_object_get(meta, "next_review"))), "recommendation",
        p->rec
            ? json_pack("{s:O, s:O, s:O, s:O, s:O}", "rec", json_object_get(p->rec, "rec"), "state",
                        json_object_get(p->rec, "state"), "urgent",
                        json_object_get(p->rec, "urgent"), "sent", json_object_get(p->rec, "sent"),
                        "overdue", json_object_get(p->rec, "overdue"))
            : json_null());
    if (o != NULL) {
        json_object_set_new(o, "rp_plan", day_json(r->rp_plan_day));
        json_object_set_new(o, "name", p->recs.title[0] ? json_string(p->recs.title) : json_null());
        json_object_set_new(o, "site", p->site[0] ? json_string(p->site) : json_null());
    }
    return o;
}

static void row_text(const struct patient *p, char cells[][96])
{
    const struct ses_registry_row *r = &p->row;
    char d[11], spark[3 * SES_REGISTRY_TREND_MAX + 1];
    int c = 0;
    snprintf(cells[c++], 96, "%s", p->patient);
    snprintf(cells[c++], 96, "%s", p->nurse[0] ? p->nurse : "-");
    snprintf(cells[c++], 96, "%s", p->site[0] ? p->site : "-");
    snprintf(cells[c++], 96, "%d", r->weeks_in_care);
    snprintf(cells[c++], 96, "%s", cli_str(p->meta, "phase", "active"));
    ses_day_format(day_of(json_object_get(p->meta, "last_contact")), d);
    snprintf(cells[c++], 96, "%s%s",
             json_is_integer(json_object_get(p->meta, "last_contact")) ? d : "-",
             r->contact_overdue ? " overdue" : "");
    if (r->next_contact_day >= 0)
        ses_day_format(r->next_contact_day, d);
    snprintf(cells[c++], 96, "%s", r->next_contact_day >= 0 ? d : "-");
    if (r->has_phq9) {
        ses_day_format(r->phq9_latest_day, d);
        snprintf(cells[c++], 96, "%d -> %d (%s)", r->phq9_baseline, r->phq9_latest, d);
        if (r->has_change)
            snprintf(cells[c++], 96, "%+d %%", -r->change.pct);
        else
            snprintf(cells[c++], 96, "-");
        snprintf(cells[c++], 96, "%s", ses_band_label(r->phq9_band));
    } else {
        snprintf(cells[c++], 96, "-");
        snprintf(cells[c++], 96, "-");
        snprintf(cells[c++], 96, "-");
    }
    ses_registry_sparkline(r, spark, sizeof spark);
    snprintf(cells[c++], 96, "%s", spark[0] ? spark : "-");
    if (r->has_gad7)
        snprintf(cells[c++], 96, "%d", r->gad7_latest);
    else
        snprintf(cells[c++], 96, "-");
    if (r->item9 == SES_ITEM_MISSING)
        snprintf(cells[c++], 96, "unanswered");
    else if (r->item9 >= 0)
        snprintf(cells[c++], 96, "%d", r->item9);
    else
        snprintf(cells[c++], 96, "-");
    if (p->open_alerts > 0)
        snprintf(cells[c++], 96, "%d (%s)", p->open_alerts, ses_severity_name(p->max_severity));
    else
        snprintf(cells[c++], 96, "-");
    snprintf(cells[c++], 96, "%s", p->queue ? cli_str(p->queue, "tier", "?") : "-");
    ses_day_format(day_of(json_object_get(p->meta, "next_review")), d);
    snprintf(cells[c++], 96, "%s%s",
             json_is_integer(json_object_get(p->meta, "next_review")) ? d : "-",
             r->review_overdue ? " overdue" : "");
    snprintf(cells[c++], 96, "%s%s", p->rec ? cli_str(p->rec, "state", "?") : "-",
             p->rec && json_is_true(json_object_get(p->rec, "overdue")) ? " overdue" : "");
    snprintf(cells[c++], 96, "%s", attention_name(r->attention));
}

static void print_table(const struct patient *ps, size_t n)
{
    static const char *const header[] = {
        "PATIENT",      "NURSE",  "SITE",   "WEEKS",       "PHASE",    "LAST CONTACT",
        "NEXT CONTACT", "PHQ-9",  "CHANGE", "BAND",        "TREND",    "GAD-7",
        "ITEM 9",       "ALERTS", "QUEUE",  "NEXT REVIEW", "LAST REC", "ATTENTION"};
    enum { COLS = sizeof header / sizeof header[0] };
    struct cli_table t;
    if (n == 0) {
        printf("(no patient thread)\n");
        return;
    }
    if (cli_table_init(&t, COLS, header) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        char cells[COLS][96];
        const char *row[COLS];
        row_text(&ps[i], cells);
        for (int k = 0; k < COLS; k++)
            row[k] = cells[k];
        (void)cli_table_add(&t, row);
    }
    cli_table_print(&t);
    cli_table_free(&t);
}

#define SESSIONS_MAX 400 /* held sessions Q15 counts */

/* The held sessions of the window [from, to] (review_sessions: at most 366 days, the latest). */
static int held_sessions(struct e2e *x, int32_t from, int32_t to, struct ses_session_use *out,
                         size_t *n)
{
    json_t *reply = NULL;
    int64_t lo = (int64_t)(to - from > 365 ? to - 365 : from) * DAY_MS;
    int64_t hi = (int64_t)to * DAY_MS + DAY_MS;
    *n = 0;
    int status = e2e_request(x,
                             json_pack("{s:s, s:I, s:I}", "t", "review_sessions", "from",
                                       (json_int_t)lo, "to", (json_int_t)hi),
                             "review_sessions", &reply);
    size_t i;
    const json_t *s;
    json_array_foreach(json_object_get(reply, "sessions"), i, s)
    {
        if (strcmp(cli_str(s, "state", ""), "held") != 0 || *n >= SESSIONS_MAX)
            continue;
        out[*n].slots = (int)json_integer_value(json_object_get(s, "slots"));
        out[(*n)++].used = (int)json_integer_value(json_object_get(s, "used"));
    }
    json_decref(reply);
    return status;
}

/* The thread's newest recommendation that is not superseded (recs are newest first), or NULL. */
static json_t *latest_rec(const json_t *recs, const char *thread)
{
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        if (strcmp(cli_str(r, "thread", ""), thread) == 0 &&
            strcmp(cli_str(r, "state", ""), "superseded") != 0)
            return json_incref(r);
    }
    return NULL;
}

static int64_t ms_or_0(const json_t *rec, const char *key)
{
    const json_t *v = json_object_get(rec, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* Q11 over the recommendations of the listed patients' threads. Returns 0 or a SES_E* code. */
static int q11_of(const json_t *recs, const struct patient *ps, size_t n, int32_t from, int32_t to,
                  struct ses_indicator *q)
{
    size_t cap = json_array_size(recs), k = 0;
    struct ses_rec_use *use = calloc(cap ? cap : 1, sizeof *use);
    if (use == NULL)
        return SES_ENOMEM;
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r)
    {
        bool listed = false;
        for (size_t p = 0; p < n && !listed; p++)
            listed = strcmp(ps[p].thread, cli_str(r, "thread", "")) == 0;
        if (!listed)
            continue;
        use[k++] =
            (struct ses_rec_use){ms_or_0(r, "sent"), ms_or_0(r, "acked"), ms_or_0(r, "implemented"),
                                 strcmp(cli_str(r, "state", ""), "superseded") == 0};
    }
    int rc = ses_registry_q11(use, k, from, to, q);
    free(use);
    return rc;
}

/* --indicators: Q1..Q15 over the patients and the held sessions, window [from, to]. */
static int print_indicators(struct e2e *x, const struct cli *cli, const struct patient *ps,
                            size_t n, const json_t *recs, int32_t from, int32_t to)
{
    struct ses_indicator_patient *ip = calloc(n ? n : 1, sizeof *ip);
    struct ses_session_use *held = calloc(SESSIONS_MAX, sizeof *held);
    struct ses_indicator q[SES_INDICATORS];
    size_t n_held = 0;
    int status = ip && held ? held_sessions(x, from, to, held, &n_held)
                            : cli_error(CLI_ELOCAL, "out of memory");
    if (status != 0) {
        free(ip);
        free(held);
        return status;
    }
    for (size_t i = 0; i < n; i++) {
        ip[i].facts = ps[i].facts;
        ip[i].contacts = json_integer_value(json_object_get(ps[i].meta, "contacts"));
    }
    int rc = ses_registry_indicators(ip, n, held, n_held, from, to, q);
    free(ip);
    free(held);
    if (rc == 0)
        rc = q11_of(recs, ps, n, from, to, &q[10]);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "%s: %s", ses_err_name(rc), ses_err_msg(rc));
    char f[11], t[11];
    ses_day_format(from, f);
    ses_day_format(to, t);
    json_t *arr = json_array();
    if (!cli->json)
        printf("Quality indicators, %s to %s, %zu patients\n", f, t, n);
    for (int k = 0; k < SES_INDICATORS; k++) {
        const struct ses_indicator *qi = &q[k];
        json_t *o = json_pack("{s:s, s:s, s:b}", "code", qi->code, "name", qi->name, "available",
                              qi->available);
        if (qi->available) {
            json_object_set_new(o, "num", json_integer(qi->num));
            json_object_set_new(o, "den", json_integer(qi->den));
            json_object_set_new(o, "pct",
                                qi->den > 0 && k != 13 ? json_integer(qi->num * 100 / qi->den)
                                                       : json_null());
            if (k == 10)
                json_object_set_new(o, "median_hours_to_ack",
                                    qi->median_hours >= 0 ? json_integer(qi->median_hours)
                                                          : json_null());
        } else {
            json_object_set_new(o, "why_not", json_string(qi->why_not));
        }
        json_array_append_new(arr, o);
        if (cli->json)
            continue;
        if (!qi->available)
            printf("%-4s %-66s n/a: %s\n", qi->code, qi->name, qi->why_not);
        else if (k == 13)
            printf("%-4s %-66s %d\n", qi->code, qi->name, qi->num);
        else if (qi->den == 0)
            printf("%-4s %-66s -    (no patient qualifies)\n", qi->code, qi->name);
        else if (k == 10 && qi->median_hours >= 0)
            printf("%-4s %-66s %3d %% (%d of %d), %d h\n", qi->code, qi->name,
                   qi->num * 100 / qi->den, qi->num, qi->den, qi->median_hours);
        else
            printf("%-4s %-66s %3d %% (%d of %d)\n", qi->code, qi->name, qi->num * 100 / qi->den,
                   qi->num, qi->den);
    }
    if (cli->json) {
        json_t *out = json_pack("{s:s, s:s, s:i, s:o}", "from", f, "to", t, "patients", (int)n,
                                "indicators", arr);
        cli_print_json(out);
        json_decref(out);
    } else {
        json_decref(arr);
    }
    return 0;
}

static int sort_mode;

static int cmp_patients(const void *pa, const void *pb)
{
    const struct patient *a = pa, *b = pb;
    if (sort_mode == 1)
        return strcmp(a->patient, b->patient);
    if (sort_mode == 2 && a->row.weeks_in_care != b->row.weeks_in_care)
        return a->row.weeks_in_care > b->row.weeks_in_care ? -1 : 1;
    if (sort_mode == 2)
        return strcmp(a->patient, b->patient);
    return ses_registry_attention_cmp(&a->row, a->patient, &b->row, b->patient);
}

/* The user's threads, their open alerts, the queue, the nurses' sites and the recommendations:
 * five requests for the whole caseload. */
static int caseload_lists(struct e2e *x, json_t **threads, json_t **alerts, json_t **queue,
                          json_t **nurses, json_t **recs)
{
    int status = e2e_request(x, json_pack("{s:s}", "t", "threads"), "threads", threads);
    if (status == 0)
        status = e2e_request(x, json_pack("{s:s, s:s}", "t", "directory", "role", "nurse"),
                             "directory", nurses);
    if (status == 0)
        status =
            e2e_request(x, json_pack("{s:s, s:b, s:i}", "t", "alerts", "open", 1, "limit", 500),
                        "alerts", alerts);
    if (status == 0)
        status = e2e_request(x, json_pack("{s:s}", "t", "queue"), "queue", queue);
    if (status == 0)
        status = e2e_request(x, json_pack("{s:s, s:i}", "t", "recs", "limit", SES_REC_LIST_MAX),
                             "recs", recs);
    return status;
}

int cmd_caseload(struct cli *cli)
{
    int indicators = cli_take_flag(cli, "indicators");
    const char *nurse = NULL, *sort = NULL, *from_s = NULL, *to_s = NULL;
    const struct e2e_opt opts[] = {{"nurse", &nurse, NULL, NULL, 0},
                                   {"sort", &sort, NULL, NULL, 0},
                                   {"from", &from_s, NULL, NULL, 0},
                                   {"to", &to_s, NULL, NULL, 0}};
    int n_pos = 0, rc = e2e_args(cli->argc, cli->argv, opts, 4, CASELOAD_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    int32_t to = (int32_t)(ses_client_now_ms() / DAY_MS), from = to - 365;
    if ((from_s || to_s) && !indicators)
        return cli_usage_error(CASELOAD_USAGE, "--from and --to go with --indicators");
    if ((from_s != NULL && (rc = cli_date_arg(CASELOAD_USAGE, "from", from_s, &from, NULL)) != 0) ||
        (to_s != NULL && (rc = cli_date_arg(CASELOAD_USAGE, "to", to_s, &to, NULL)) != 0))
        return rc;
    if (from > to)
        return cli_usage_error(CASELOAD_USAGE, "BAD_FIELD: --from is after --to");
    sort_mode = sort == NULL || strcmp(sort, "attention") == 0 ? 0
                : strcmp(sort, "name") == 0                    ? 1
                : strcmp(sort, "weeks") == 0                   ? 2
                                                               : -1;
    if (sort_mode < 0)
        return cli_usage_error(CASELOAD_USAGE, "BAD_FIELD: --sort is attention, name or weeks");
    struct e2e x;
    json_t *threads = NULL, *alerts = NULL, *queue = NULL, *nurses = NULL, *recs = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    status = caseload_lists(&x, &threads, &alerts, &queue, &nurses, &recs);
    const json_t *list = json_object_get(threads, "threads");
    size_t n = 0, cap = json_array_size(list) < CASELOAD_MAX ? json_array_size(list) : CASELOAD_MAX;
    struct patient *ps = status == 0 ? calloc(cap ? cap : 1, sizeof *ps) : NULL;
    if (status == 0 && ps == NULL)
        status = cli_error(CLI_ELOCAL, "out of memory");
    for (size_t i = 0; status == 0 && i < cap; i++) {
        const char *tid = cli_str(json_array_get(list, i), "thread", "");
        status = load_patient(&x, tid, json_object_get(alerts, "alerts"),
                              json_object_get(queue, "entries"), &ps[n]);
        if (status != 0)
            break;
        snprintf(ps[n].site, sizeof ps[n].site, "%s",
                 site_of(json_object_get(nurses, "users"), ps[n].nurse_id));
        ps[n].rec = latest_rec(json_object_get(recs, "recs"), tid);
        if (nurse != NULL && strcmp(ps[n].nurse_id, nurse) != 0) {
            json_decref(ps[n].meta);
            json_decref(ps[n].queue);
            json_decref(ps[n].rec);
            cli_records_free(&ps[n].recs);
            memset(&ps[n], 0, sizeof ps[n]);
            continue;
        }
        n++;
    }
    if (status == 0 && indicators) {
        status = print_indicators(&x, cli, ps, n, json_object_get(recs, "recs"), from, to);
    } else if (status == 0) {
        qsort(ps, n, sizeof *ps, cmp_patients);
        if (cli->json) {
            json_t *arr = json_array();
            for (size_t i = 0; arr != NULL && i < n; i++)
                json_array_append_new(arr, row_json(&ps[i]));
            json_t *out = json_pack("{s:o}", "caseload", arr);
            cli_print_json(out);
            json_decref(out);
        } else {
            print_table(ps, n);
        }
    }
    for (size_t i = 0; ps != NULL && i < cap; i++) {
        json_decref(ps[i].meta);
        json_decref(ps[i].queue);
        json_decref(ps[i].rec);
        cli_records_free(&ps[i].recs);
    }
    if (ps != NULL)
        sodium_memzero(ps, cap * sizeof *ps);
    free(ps);
    json_decref(threads);
    json_decref(alerts);
    json_decref(queue);
    json_decref(nurses);
    json_decref(recs);
    return e2e_end(&x, status, 1);
}
