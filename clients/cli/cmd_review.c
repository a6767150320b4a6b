/*
 * cmd_review.c - the weekly case review from the terminal (PROTOCOL.md §15): `sesame session
 * add|list|cancel` (a psychiatrist's review sessions), `sesame queue add|list|agenda|outcome` (team
 * requests, where each patient stands, a session's agenda and why each row is where it is, a
 * reviewed case's outcome), `sesame review minutes` and `sesame episode close`. The server
 * schedules from codes and dates only; times of day are the local time of this machine (a
 * series' time of day is the server's local time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e2e.h"

#define SESSION_USAGE "sesame session add|list|cancel [OPTIONS]"
#define SESSION_ADD_USAGE                                                                          \
    "sesame session add (--weekday D --time HH:MM | --date YYYY-MM-DD --time HH:MM) --minutes N "  \
    "[--psychiatrist USER_ID]"
#define SESSION_LIST_USAGE                                                                         \
    "sesame session list [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--psychiatrist USER_ID]"
#define SESSION_CANCEL_USAGE "sesame session cancel SESSION_ID"
#define QUEUE_USAGE "sesame queue add|list|agenda|outcome [OPTIONS]"
#define QUEUE_ADD_USAGE "sesame queue add THREAD --reason CODE"
#define QUEUE_LIST_USAGE "sesame queue list [THREAD]"
#define QUEUE_AGENDA_USAGE "sesame queue agenda [--session SESSION_ID]"
#define QUEUE_OUTCOME_USAGE "sesame queue outcome THREAD --outcome CODE [--next-review YYYY-MM-DD]"
#define REVIEW_USAGE "sesame review minutes SESSION_ID --attended USER_ID..."
#define EPISODE_CLOSE_USAGE "sesame episode close THREAD --reason REASON"
#define EPISODE_USAGE "sesame episode close|rp-plan THREAD [OPTIONS]"

#define DAY_MS (86400LL * 1000)
#define ATTENDED_MAX 16

/* --- time ---------------------------------------------------------------------------------- */

/* "2026-12-08 14:00 CET (Tue)" of a time in ms, local time; "-" for a non-integer. */
static void fmt_local(char *out, size_t cap, const json_t *ms)
{
    if (!json_is_integer(ms)) {
        snprintf(out, cap, "-");
        return;
    }
    time_t t = (time_t)(json_integer_value(ms) / 1000);
    struct tm tm;
    if (localtime_r(&t, &tm) == NULL || strftime(out, cap, "%Y-%m-%d %H:%M %Z (%a)", &tm) == 0)
        snprintf(out, cap, "?");
}

/* 1 (Monday) .. 7 (Sunday) of "1".."7", "mon".."sun" or the full English name; 0 otherwise. */
static int parse_weekday(const char *d)
{
    static const char *const names[] = {"monday", "tuesday",  "wednesday", "thursday",
                                        "friday", "saturday", "sunday"};
    if (d == NULL)
        return 0;
    if (strlen(d) == 1 && d[0] >= '1' && d[0] <= '7')
        return d[0] - '0';
    for (int i = 0; i < 7; i++)
        if ((strlen(d) == 3 && strncmp(d, names[i], 3) == 0) || strcmp(d, names[i]) == 0)
            return i + 1;
    return 0;
}

/* The local time of day minute on date iso, in ms; CLI_EUSAGE after the error. */
static int local_start(const char *usage, const char *iso, int minute, int64_t *ms)
{
    int y = 0, mo = 0, d = 0;
    int32_t day = 0;
    if (ses_day_parse(iso, &day) != 0 || sscanf(iso, "%4d-%2d-%2d", &y, &mo, &d) != 3)
        return cli_usage_error(usage, "BAD_FIELD: --date needs a date YYYY-MM-DD (got '%s')", iso);
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = minute / 60,
                    .tm_min = minute % 60,
                    .tm_isdst = -1};
    *ms = (int64_t)mktime(&tm) * 1000;
    return 0;
}

/* --- one request --------------------------------------------------------------------------- */

static void person(struct e2e *x, const char *user, char *out, size_t cap)
{
    char name[SES_MAX_NAME_LEN + 1], role[16];
    e2e_user_label(x, NULL, user, name, sizeof name, role, sizeof role);
    char *flat = e2e_flatten(name);
    snprintf(out, cap, "%s", flat ? flat : "?");
    free(flat);
}

/* --- sessions ------------------------------------------------------------------------------ */

static void session_line(struct e2e *x, const json_t *s)
{
    char start[64], who[SES_MAX_NAME_LEN + 1];
    fmt_local(start, sizeof start, json_object_get(s, "start"));
    person(x, cli_str(s, "psychiatrist", ""), who, sizeof who);
    printf("%s  %s  %lld min  %lld slots  %s  %s", cli_str(s, "session", "?"), start,
           (long long)json_integer_value(json_object_get(s, "minutes")),
           (long long)json_integer_value(json_object_get(s, "slots")), cli_str(s, "state", "?"),
           who);
    if (json_is_integer(json_object_get(s, "entries")))
        printf("  (%lld on the agenda, %lld past due)",
               (long long)json_integer_value(json_object_get(s, "entries")),
               (long long)json_integer_value(json_object_get(s, "missed_due")));
    fputc('\n', stdout);
}

static void print_session(struct e2e *x, const json_t *reply)
{
    session_line(x, json_object_get(reply, "session"));
}

static void print_series(struct e2e *x, const json_t *reply)
{
    (void)x;
    static const char *const days[] = {"?",        "Monday", "Tuesday",  "Wednesday",
                                       "Thursday", "Friday", "Saturday", "Sunday"};
    long long wd = (long long)json_integer_value(json_object_get(reply, "weekday"));
    long long minute = (long long)json_integer_value(json_object_get(reply, "minute"));
    printf("Weekly case review %s every %s at %02lld:%02lld (server time), %lld min: sessions "
           "planned 12 weeks ahead (sesame session list)\n",
           cli_str(reply, "series", "?"), days[wd >= 1 && wd <= 7 ? wd : 0], minute / 60,
           minute % 60, (long long)json_integer_value(json_object_get(reply, "minutes")));
}

static int session_add(struct cli *cli)
{
    const char *weekday = NULL, *date = NULL, *time = NULL, *minutes = NULL, *psy = NULL;
    const struct e2e_opt opts[] = {{"weekday", &weekday, NULL, NULL, 0},
                                   {"date", &date, NULL, NULL, 0},
                                   {"time", &time, NULL, NULL, 0},
                                   {"minutes", &minutes, NULL, NULL, 0},
                                   {"psychiatrist", &psy, NULL, NULL, 0}};
    int n_pos = 0, rc = e2e_args(cli->argc, cli->argv, opts, 5, SESSION_ADD_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    int minute = ses_time_of_day_parse(time), wd = parse_weekday(weekday);
    char *end = NULL;
    long len = minutes ? strtol(minutes, &end, 10) : 0;
    if (minute < 0)
        return cli_usage_error(SESSION_ADD_USAGE, "BAD_FIELD: --time needs HH:MM");
    if (minutes == NULL || *end != '\0' || len < 1 || len > 600)
        return cli_usage_error(SESSION_ADD_USAGE, "BAD_FIELD: --minutes needs 1..600");
    if ((weekday != NULL) == (date != NULL))
        return cli_usage_error(SESSION_ADD_USAGE, "give either --weekday or --date");
    if (weekday != NULL && wd == 0)
        return cli_usage_error(SESSION_ADD_USAGE, "BAD_FIELD: --weekday is 1..7 or mon..sun");
    json_t *req = json_pack("{s:s, s:i}", "t", "review_session_add", "minutes", (int)len);
    if (req != NULL && psy != NULL)
        json_object_set_new(req, "psychiatrist", json_string(psy));
    if (req != NULL && weekday != NULL) {
        json_object_set_new(req, "weekday", json_integer(wd));
        json_object_set_new(req, "time", json_string(time));
        return e2e_run(cli, req, NULL, "review_series", print_series);
    }
    int64_t start = 0;
    if (req != NULL && (rc = local_start(SESSION_ADD_USAGE, date, minute, &start)) != 0) {
        json_decref(req);
        return rc;
    }
    if (req != NULL)
        json_object_set_new(req, "start", json_integer((json_int_t)start));
    return e2e_run(cli, req, NULL, "review_session", print_session);
}

static void print_sessions(struct e2e *x, const json_t *reply)
{
    const json_t *arr = json_object_get(reply, "sessions");
    if (json_array_size(arr) == 0)
        printf("(no case-review session in this period)\n");
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s) session_line(x, s);
}

static int session_list(struct cli *cli)
{
    const char *from = NULL, *to = NULL, *psy = NULL;
    const struct e2e_opt opts[] = {{"from", &from, NULL, NULL, 0},
                                   {"to", &to, NULL, NULL, 0},
                                   {"psychiatrist", &psy, NULL, NULL, 0}};
    int n_pos = 0,
        rc = e2e_args(cli->argc, cli->argv, opts, 3, SESSION_LIST_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    int64_t ms = 0;
    json_t *req = json_pack("{s:s}", "t", "review_sessions");
    if (req != NULL && from != NULL &&
        (rc = cli_date_arg(SESSION_LIST_USAGE, "from", from, NULL, &ms)) == 0)
        json_object_set_new(req, "from", json_integer((json_int_t)ms));
    if (req != NULL && rc == 0 && to != NULL &&
        (rc = cli_date_arg(SESSION_LIST_USAGE, "to", to, NULL, &ms)) == 0)
        json_object_set_new(req, "to", json_integer((json_int_t)(ms + DAY_MS)));
    if (req != NULL && psy != NULL)
        json_object_set_new(req, "psychiatrist", json_string(psy));
    if (rc != 0) {
        json_decref(req);
        return rc;
    }
    return e2e_run(cli, req, NULL, "review_sessions", print_sessions);
}

static int session_cancel(struct cli *cli)
{
    const char *pos[1];
    int rc =
        e2e_args1(cli, NULL, 0, SESSION_CANCEL_USAGE, "session cancel needs a SESSION_ID", &pos[0]);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    return e2e_run(cli, json_pack("{s:s, s:s}", "t", "review_session_cancel", "session", pos[0]),
                   NULL, "review_session", print_session);
}

int cmd_session(struct cli *cli)
{
    static const struct cli_sub subs[] = {
        {"add", session_add}, {"list", session_list}, {"cancel", session_cancel}};
    return cli_dispatch(cli, "session", SESSION_USAGE, subs, sizeof subs / sizeof subs[0]);
}

/* --- the queue and the agenda -------------------------------------------------------------- */

/* "new_patient since 2026-11-02, due 2026-11-30; aging due 2026-12-01" */
static void reasons_text(const json_t *row, char *out, size_t cap)
{
    size_t n = 0, i;
    json_t *r;
    out[0] = '\0';
    json_array_foreach(json_object_get(row, "reasons"), i, r)
    {
        char since[11], due[11];
        cli_fmt_day(since, json_object_get(r, "since"));
        cli_fmt_day(due, json_object_get(r, "due"));
        const char *code = cli_str(r, "code", "?");
        int w = snprintf(out + n, n < cap ? cap - n : 0, "%s%s since %s, due %s%s", i ? "; " : "",
                         code, since, due,
                         strcmp(code, "declined") == 0
                             ? " (the GP declined a recommendation: its reason in sesame rec list "
                               "--state declined, then rec show)"
                             : "");
        n += w > 0 ? (size_t)w : 0;
    }
    const char *promoted = cli_str(row, "promoted", NULL);
    if (promoted != NULL && n < cap)
        snprintf(out + n, cap - n, "; moved up from %s: %s", cli_str(row, "base_tier", "?"),
                 promoted);
}

static void row_line(const json_t *row, int queue)
{
    char due[11], why[1024];
    cli_fmt_day(due, json_object_get(row, "due"));
    reasons_text(row, why, sizeof why);
    const json_t *pos = json_object_get(row, "position");
    const json_t *in = json_object_get(row, "in");
    char place[32];
    if (json_is_integer(pos))
        snprintf(place, sizeof place, "#%lld%s", (long long)json_integer_value(pos),
                 json_is_true(in) ? "" : " (over capacity)");
    else
        snprintf(place, sizeof place, "not scheduled");
    printf("%-4s %-14s %s  %-24s %s", cli_str(row, "tier", "?"), cli_str(row, "patient", "?"), due,
           place, why);
    if (!queue && json_is_string(json_object_get(row, "outcome"))) {
        char next[11];
        cli_fmt_day(next, json_object_get(row, "next_review"));
        printf("; outcome %s, next review %s", cli_str(row, "outcome", "?"), next);
    }
    fputc('\n', stdout);
}

static void print_agenda(struct e2e *x, const json_t *reply)
{
    const json_t *s = json_object_get(reply, "session");
    char start[64], who[SES_MAX_NAME_LEN + 1];
    fmt_local(start, sizeof start, json_object_get(s, "start"));
    person(x, cli_str(s, "psychiatrist", ""), who, sizeof who);
    printf("Case review %s, %s, %lld min: %lld of %lld slots (%s)\n", start, who,
           (long long)json_integer_value(json_object_get(s, "minutes")),
           (long long)json_integer_value(json_object_get(reply, "used")),
           (long long)json_integer_value(json_object_get(reply, "slots")),
           json_is_true(json_object_get(reply, "frozen")) ? "held: the agenda as it was"
                                                          : "the queue as it stands");
    const json_t *rows = json_object_get(reply, "rows");
    if (json_array_size(rows) == 0)
        printf("(nobody on the queue)\n");
    else
        printf("TIER PATIENT        DUE         PLACE                    WHY\n");
    size_t i;
    json_t *r;
    json_array_foreach(rows, i, r) row_line(r, 0);
    long long overflow = (long long)json_integer_value(json_object_get(reply, "overflow"));
    long long missed = (long long)json_integer_value(json_object_get(reply, "missed_due"));
    if (overflow > 0)
        printf("warning: %lld urgent case(s) due by the next session do not fit: add a session "
               "(sesame session add) or more minutes\n",
               overflow);
    if (missed > 0)
        printf("note: %lld case(s) already past their due date\n", missed);
}

static int queue_agenda(struct cli *cli)
{
    const char *session = NULL;
    const struct e2e_opt opts[] = {{"session", &session, NULL, NULL, 0}};
    int n_pos = 0,
        rc = e2e_args(cli->argc, cli->argv, opts, 1, QUEUE_AGENDA_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    json_t *req = json_pack("{s:s}", "t", "agenda");
    if (req != NULL && session != NULL)
        json_object_set_new(req, "session", json_string(session));
    return e2e_run(cli, req, NULL, "agenda", print_agenda);
}

static void print_queue(struct e2e *x, const json_t *reply)
{
    (void)x;
    const json_t *arr = json_object_get(reply, "entries");
    if (json_array_size(arr) == 0) {
        printf("(none of these patients is on the case-review queue)\n");
        return;
    }
    printf("TIER PATIENT        DUE         PLACE                    WHY\n");
    size_t i;
    json_t *r;
    json_array_foreach(arr, i, r) row_line(r, 1);
}

static int queue_list(struct cli *cli)
{
    const char *pos[1];
    int n_pos = 0;
    int rc = e2e_args(cli->argc, cli->argv, NULL, 0, QUEUE_LIST_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    return e2e_run(cli, json_pack("{s:s}", "t", "queue"), n_pos ? pos[0] : NULL, "queue",
                   print_queue);
}

static void print_queued(struct e2e *x, const json_t *reply)
{
    (void)x;
    printf("Queued for the case review (%s): thread %.8s; see where it stands with `sesame queue "
           "list`\n",
           cli_str(reply, "reason", "?"), cli_str(reply, "thread", "?"));
}

static int queue_add(struct cli *cli)
{
    const char *pos[1], *reason = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"reason", &reason, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 1, QUEUE_ADD_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos != 1 || reason == NULL)
        return cli_usage_error(QUEUE_ADD_USAGE, "queue add needs a THREAD and --reason");
    return e2e_run(cli, json_pack("{s:s, s:s}", "t", "queue_add", "reason", reason), pos[0],
                   "queued", print_queued);
}

static void print_outcome(struct e2e *x, const json_t *reply)
{
    (void)x;
    char next[11];
    const json_t *meta = json_object_get(reply, "meta");
    cli_fmt_day(next, json_object_get(meta, "next_review"));
    printf("Reviewed: thread %.8s, next review %s%s\n", cli_str(reply, "thread", "?"), next,
           json_is_string(json_object_get(reply, "session")) ? " (recorded on the session's agenda)"
                                                             : "");
}

static int queue_outcome(struct cli *cli)
{
    const char *pos[1], *outcome = NULL, *next = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"outcome", &outcome, NULL, NULL, 0},
                                   {"next-review", &next, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 2, QUEUE_OUTCOME_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos != 1 || outcome == NULL)
        return cli_usage_error(QUEUE_OUTCOME_USAGE, "queue outcome needs a THREAD and --outcome");
    int64_t ms = 0;
    if (next != NULL &&
        (rc = cli_date_arg(QUEUE_OUTCOME_USAGE, "next-review", next, NULL, &ms)) != 0)
        return rc;
    json_t *req = json_pack("{s:s, s:s}", "t", "review_outcome", "outcome", outcome);
    if (req != NULL && next != NULL)
        json_object_set_new(req, "next_review", json_integer((json_int_t)ms));
    return e2e_run(cli, req, pos[0], "review_outcome", print_outcome);
}

int cmd_queue(struct cli *cli)
{
    static const struct cli_sub subs[] = {{"add", queue_add},
                                          {"list", queue_list},
                                          {"agenda", queue_agenda},
                                          {"outcome", queue_outcome}};
    return cli_dispatch(cli, "queue", QUEUE_USAGE, subs, sizeof subs / sizeof subs[0]);
}

/* --- minutes, episodes --------------------------------------------------------------------- */

static void print_minutes(struct e2e *x, const json_t *reply)
{
    size_t i;
    json_t *v;
    printf("Minutes of session %s, attended by:", cli_str(reply, "session", "?"));
    json_array_foreach(json_object_get(reply, "attended"), i, v)
    {
        char who[SES_MAX_NAME_LEN + 1];
        person(x, json_string_value(v), who, sizeof who);
        printf("%s %s", i ? "," : "", who);
    }
    printf("\nCases discussed:\n");
    json_array_foreach(json_object_get(reply, "discussed"), i, v)
        printf("  %-14s %s\n", cli_str(v, "patient", "?"),
               cli_str(v, "outcome", "(no outcome yet: stays on the queue)"));
}

static int review_minutes(struct cli *cli)
{
    /* --attended A B C, or --attended A --attended B: the words after the session id are
     * attendees too */
    const char *pos[1 + ATTENDED_MAX], *attended[ATTENDED_MAX];
    int n_pos = 0, n_att = 0;
    const struct e2e_opt opts[] = {{"attended", NULL, attended, &n_att, ATTENDED_MAX}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 1, REVIEW_USAGE, pos, 1 + ATTENDED_MAX, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos < 1 || n_att == 0)
        return cli_usage_error(REVIEW_USAGE, "review minutes needs a SESSION_ID and --attended");
    if (n_att + n_pos - 1 > ATTENDED_MAX)
        return cli_usage_error(REVIEW_USAGE, "at most %d attendees", ATTENDED_MAX);
    json_t *ids = json_array();
    for (int i = 0; ids != NULL && i < n_att; i++)
        json_array_append_new(ids, json_string(attended[i]));
    for (int i = 1; ids != NULL && i < n_pos; i++)
        json_array_append_new(ids, json_string(pos[i]));
    json_t *req = ids ? json_pack("{s:s, s:s, s:o}", "t", "review_minutes", "session", pos[0],
                                  "attended", ids)
                      : NULL;
    return e2e_run(cli, req, NULL, "review_minutes", print_minutes);
}

int cmd_review(struct cli *cli)
{
    static const struct cli_sub subs[] = {{"minutes", review_minutes}};
    return cli_dispatch(cli, "review", REVIEW_USAGE, subs, 1);
}

static void print_closed(struct e2e *x, const json_t *reply)
{
    (void)x;
    cli_meta_print(cli_str(reply, "thread", "?"), NULL, json_object_get(reply, "meta"));
}

int cli_episode_close(struct cli *cli)
{
    const char *pos[1], *reason = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"reason", &reason, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 1, EPISODE_CLOSE_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos != 1 || reason == NULL)
        return cli_usage_error(EPISODE_CLOSE_USAGE, "episode close needs a THREAD and --reason");
    return e2e_run(cli, json_pack("{s:s, s:s}", "t", "episode_close", "reason", reason), pos[0],
                   "thread_meta", print_closed);
}

int cmd_episode(struct cli *cli)
{
    static const struct cli_sub subs[] = {{"close", cli_episode_close},
                                          {"rp-plan", cli_episode_rp_plan}};
    return cli_dispatch(cli, "episode", EPISODE_USAGE, subs, 2);
}
