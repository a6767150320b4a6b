/*
 * cli_alert.c - what the alert, scale, contact and follow commands share (cli.h; PROTOCOL.md
 * §13): dates on the command line, raising an alert, and printing alerts, their deadlines, the
 * P0 banner and alert events.
 *
 * The server knows an alert's code, severity, owners and deadlines, never the reason in words: a
 * note travels first as an encrypted thread message (content type 3) whose seq the alert names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/alerts.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/roles.h"

#define DAY_MS 86400000LL
#define MIN_MS 60000LL

/* --- shared helpers (cli.h) ----------------------------------------------------------------- */

int cli_take_flag(struct cli *cli, const char *name)
{
    int found = 0;
    for (int i = 0; i < cli->argc; i++) {
        const char *a = cli->argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strncmp(a, "--", 2) == 0 && strcmp(a + 2, name) == 0) {
            found = 1;
            memmove(&cli->argv[i], &cli->argv[i + 1], (size_t)(cli->argc - i) * sizeof *cli->argv);
            cli->argc--;
            i--;
        }
    }
    return found;
}

int cli_date_arg(const char *usage, const char *opt, const char *iso, int32_t *day, int64_t *ms)
{
    int32_t d = 0;
    if (ses_day_parse(iso, &d) != 0)
        return cli_usage_error(usage, "BAD_FIELD: --%s needs a date YYYY-MM-DD (got '%s')", opt,
                               iso);
    if (day != NULL)
        *day = d;
    if (ms != NULL)
        *ms = (int64_t)d * DAY_MS;
    return 0;
}

int32_t cli_today(void)
{
    return (int32_t)((int64_t)ses_client_now_ms() / DAY_MS);
}

/* "2025-01-31" of a time in ms (UTC day), "-" for a non-integer. */
void cli_fmt_day(char out[11], const json_t *ms)
{
    if (!json_is_integer(ms)) {
        snprintf(out, 11, "-");
        return;
    }
    json_int_t v = json_integer_value(ms);
    int64_t d = v >= 0 ? v / DAY_MS : -((-v + DAY_MS - 1) / DAY_MS);
    ses_day_format((int32_t)d, out);
}

/* A duration: "25 min", "3 h 20 min", "6 d 23 h". */
void cli_fmt_dur(char *out, size_t cap, int64_t ms)
{
    int64_t min = ms / MIN_MS;
    if (min < 60)
        snprintf(out, cap, "%lld min", (long long)min);
    else if (min < 24 * 60)
        snprintf(out, cap, "%lld h %lld min", (long long)(min / 60), (long long)(min % 60));
    else
        snprintf(out, cap, "%lld d %lld h", (long long)(min / 1440), (long long)(min % 1440 / 60));
}

/* A clock time: "10:42 UTC" within a day of now, else "2025-02-07 10:42 UTC". */
static void fmt_clock(char *out, size_t cap, int64_t ms, int64_t now)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    int64_t diff = ms > now ? ms - now : now - ms;
    if (gmtime_r(&s, &tm) == NULL ||
        strftime(out, cap, diff < DAY_MS ? "%H:%M UTC" : "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(out, cap, "%lld", (long long)ms);
}

void cli_alert_deadline(char *out, size_t cap, const json_t *alert, int64_t now)
{
    const json_t *dl = json_object_get(alert, "deadline");
    const char *state = cli_str(alert, "state", "");
    char d[48] = "";
    if (strcmp(state, "raised") != 0) {
        snprintf(out, cap, "-");
    } else if (json_is_true(json_object_get(alert, "exhausted"))) {
        /* past the last step: re-notified every 15 min (P0) or hour (P1) until acknowledged */
        const json_t *k = json_object_get(alert, "renotified");
        if (json_is_integer(dl) && json_integer_value(dl) >= now)
            cli_fmt_dur(d, sizeof d, json_integer_value(dl) - now + MIN_MS - 1);
        snprintf(out, cap, "UNACKNOWLEDGED, chain exhausted (renotified %lld%s%s)",
                 json_is_integer(k) ? (long long)json_integer_value(k) : 0LL,
                 d[0] ? ", next in " : "", d);
    } else if (!json_is_integer(dl)) {
        snprintf(out, cap, "none");
    } else if (json_integer_value(dl) >= now) {
        cli_fmt_dur(d, sizeof d, json_integer_value(dl) - now + MIN_MS - 1);
        snprintf(out, cap, "in %s", d);
    } else {
        cli_fmt_dur(d, sizeof d, now - json_integer_value(dl));
        snprintf(out, cap, "overdue %s", d);
    }
}

/* The deadline in a sentence: "09:00 UTC (in 30 min)"; for an alert still raised past the end of
 * its chain "UNACKNOWLEDGED, chain exhausted: re-notified K time(s), next at 12:04 UTC (in 1 h 0
 * min)"; "none" without one. */
void cli_alert_deadline_text(char *out, size_t cap, const json_t *alert, int64_t now)
{
    const json_t *d = json_object_get(alert, "deadline");
    char at[32] = "", rel[32], next[80] = "";
    if (json_is_integer(d))
        fmt_clock(at, sizeof at, (int64_t)json_integer_value(d), now);
    int exhausted = json_is_true(json_object_get(alert, "exhausted")) &&
                    strcmp(cli_str(alert, "state", ""), "raised") == 0;
    if (exhausted) {
        const json_t *k = json_object_get(alert, "renotified");
        if (at[0]) {
            int64_t left = json_integer_value(d) - now;
            cli_fmt_dur(rel, sizeof rel, left > 0 ? left + MIN_MS - 1 : 0);
            snprintf(next, sizeof next, ", next at %s (in %s)", at, rel);
        }
        snprintf(out, cap, "UNACKNOWLEDGED, chain exhausted: re-notified %lld time(s)%s",
                 json_is_integer(k) ? (long long)json_integer_value(k) : 0LL, next);
    } else if (at[0]) {
        char dl[96];
        cli_alert_deadline(dl, sizeof dl, alert, now);
        snprintf(out, cap, "%s (%s)", at, dl);
    } else {
        snprintf(out, cap, "none");
    }
}

/* "Anne Martin (nurse), Claire Petit (gp)" for an array of user ids; "nobody" if empty. */
void cli_names_of(struct e2e *x, const struct e2e_roster *r, const json_t *ids, char *out,
                  size_t cap)
{
    size_t i, used = 0;
    json_t *v;
    out[0] = '\0';
    json_array_foreach(ids, i, v)
    {
        char name[SES_MAX_NAME_LEN + 1], role[16];
        if (!json_is_string(v))
            continue;
        e2e_user_label(x, r, json_string_value(v), name, sizeof name, role, sizeof role);
        char *flat = e2e_flatten(name);
        snprintf(out + used, cap - used, "%s%s (%s)", used ? ", " : "", flat ? flat : "?", role);
        free(flat);
        used = strlen(out);
    }
    if (used == 0)
        snprintf(out, cap, "nobody");
}

void cli_name_of(struct e2e *x, const struct e2e_roster *r, const json_t *id, char *out, size_t cap)
{
    if (!json_is_string(id)) {
        snprintf(out, cap, "the daemon");
        return;
    }
    json_t *a = json_pack("[O]", id);
    cli_names_of(x, r, a, out, cap);
    json_decref(a);
}

/* "A01/item9_2" or "A04". */
void cli_alert_type_text(char *out, size_t cap, const json_t *alert)
{
    const char *v = cli_str(alert, "variant", "");
    snprintf(out, cap, "%s%s%s", cli_str(alert, "type", "?"), v[0] ? "/" : "", v);
}

int cli_alert_is_mine(const struct e2e *x, const json_t *alert)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(alert, "owners"), i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), x->me) == 0)
            return 1;
    }
    return 0;
}

void cli_alert_p0_banner(struct e2e *x, const json_t *alert)
{
    if (strcmp(cli_str(alert, "severity", ""), "P0") != 0)
        return;
    char owners[1024];
    cli_names_of(x, NULL, json_object_get(alert, "owners"), owners, sizeof owners);
    const char *routes = cli_str(alert, "emergency", NULL);
    FILE *f = x->cli->json ? stderr : stdout;
    fprintf(f, "\n!!! P0 %s on %s: possible imminent danger to life.\n",
            cli_str(alert, "name", "?"), cli_str(alert, "patient", "?"));
    if (routes != NULL && routes[0] != '\0') {
        char *flat = e2e_flatten(routes);
        fprintf(f, "!!! phone now: %s — the daemon is not the only channel.\n", flat ? flat : "?");
        free(flat);
    } else {
        fprintf(f, "!!! No emergency routes are configured on this server: phone the on-duty "
                   "psychiatrist or the emergency services now — the daemon is not the only "
                   "channel.\n");
    }
    fprintf(f, "!!! PHONE the owners NOW (emergency pathway): %s\n\n", owners);
    fflush(f);
}

void cli_alert_print(struct e2e *x, const json_t *alert, int repeat, const char *why)
{
    int64_t now = (int64_t)ses_client_now_ms();
    char type[48], owners[1024], cc[1024], dl[160];
    cli_alert_type_text(type, sizeof type, alert);
    cli_names_of(x, NULL, json_object_get(alert, "owners"), owners, sizeof owners);
    cli_names_of(x, NULL, json_object_get(alert, "cc"), cc, sizeof cc);
    printf("  [%s] %s %s  alert %.8s on %s\n", cli_str(alert, "severity", "?"), type,
           cli_str(alert, "name", "?"), cli_str(alert, "alert", "?"),
           cli_str(alert, "patient", "?"));
    if (why != NULL && why[0] != '\0')
        printf("       why: %s\n", why);
    if (repeat) {
        const json_t *n = json_object_get(alert, "repeats");
        printf("       already open: counted as a repeat (%lld so far); state %s\n",
               json_is_integer(n) ? (long long)json_integer_value(n) : 0LL,
               cli_str(alert, "state", "?"));
    }
    printf("       owners: %s%s; cc: %s\n", owners, cli_alert_is_mine(x, alert) ? " - yours" : "",
           strcmp(cc, "nobody") == 0 ? "-" : cc);
    const json_t *d = json_object_get(alert, "deadline");
    if (strcmp(cli_str(alert, "severity", ""), "INFO") == 0) {
        printf("       information only: no acknowledgement, no deadline\n");
    } else if (json_is_integer(d) || json_is_true(json_object_get(alert, "exhausted"))) {
        cli_alert_deadline_text(dl, sizeof dl, alert, now);
        printf("       deadline: %s\n", dl);
    }
    fflush(stdout);
}

static int has_me(const struct e2e *x, const json_t *ids)
{
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        if (json_is_string(v) && strcmp(json_string_value(v), x->me) == 0)
            return 1;
    }
    return 0;
}

int cli_alert_concerns_me(const struct e2e *x, const json_t *alert)
{
    return has_me(x, json_object_get(alert, "owners")) || has_me(x, json_object_get(alert, "cc"));
}

/* One alert as a `follow` line: event (a push's event, or "open" for the catch-up) and, with
 * --json, {"event":"alert_event","what":EVENT,"alert":ALERT} plus "catchup":true. */
static void event_line(struct e2e *x, const char *event, const json_t *alert, int catchup)
{
    if (x->cli->json) {
        json_t *line = json_pack("{s:s, s:s, s:O}", "event", "alert_event", "what", event, "alert",
                                 alert ? alert : json_null());
        if (line != NULL && catchup)
            json_object_set_new(line, "catchup", json_true());
        if (line != NULL)
            cli_print_json(line);
        json_decref(line);
        return;
    }
    char type[48], owners[1024], at[80] = "";
    int64_t now = (int64_t)ses_client_now_ms();
    cli_alert_type_text(type, sizeof type, alert);
    cli_names_of(x, NULL, json_object_get(alert, "owners"), owners, sizeof owners);
    const json_t *d = json_object_get(alert, "deadline");
    if (json_is_true(json_object_get(alert, "exhausted")))
        cli_alert_deadline(at, sizeof at, alert, now);
    else if (json_is_integer(d) && strcmp(cli_str(alert, "state", ""), "raised") == 0)
        fmt_clock(at, sizeof at, (int64_t)json_integer_value(d), now);
    printf("[ALERT %s] %s %s %s%s%s on %s (alert %.8s) - %s: %s%s%s%s\n",
           cli_str(alert, "severity", "?"), type, cli_str(alert, "name", "?"), event,
           catchup ? ", " : "", catchup ? cli_str(alert, "state", "?") : "",
           cli_str(alert, "patient", "?"), cli_str(alert, "alert", "?"),
           json_array_size(json_object_get(alert, "owners")) == 1 ? "owner" : "owners", owners,
           at[0] ? (json_is_true(json_object_get(alert, "exhausted")) ? ", " : ", deadline ") : "",
           at,
           cli_alert_is_mine(x, alert)               ? " - yours"
           : has_me(x, json_object_get(alert, "cc")) ? " - cc to you"
                                                     : "");
    fflush(stdout);
}

void cli_alert_event_print(struct e2e *x, const json_t *push)
{
    const json_t *alert = json_object_get(push, "alert");
    const char *event = cli_str(push, "event", "?");
    event_line(x, event, alert, 0);
    if (strcmp(event, "raised") == 0 || strcmp(event, "upgraded") == 0 ||
        strcmp(event, "renotified") == 0)
        cli_alert_p0_banner(x, alert);
}

void cli_alert_catchup_print(struct e2e *x, const json_t *alert)
{
    event_line(x, "open", alert, 1);
    cli_alert_p0_banner(x, alert);
}

int cli_alert_raise(struct e2e *x, const char *thread, const char *type, const char *variant,
                    const char *severity, int64_t msg_seq, json_t **reply)
{
    json_t *req = json_pack("{s:s, s:s, s:s}", "t", "alert_raise", "thread", thread, "type", type);
    if (req != NULL && variant != NULL && variant[0] != '\0')
        json_object_set_new(req, "variant", json_string(variant));
    if (req != NULL && severity != NULL)
        json_object_set_new(req, "severity", json_string(severity));
    if (req != NULL && msg_seq > 0)
        json_object_set_new(req, "msg_seq", json_integer((json_int_t)msg_seq));
    return e2e_request(x, req, "alert_raise", reply);
}
