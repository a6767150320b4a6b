/*
 * cmd_alert.c - structured clinical alerts (PROTOCOL.md §13): `sesame alert raise|list|show|ack|
 * resolve|cancel`, with an alert's note sent first as an encrypted thread message and the
 * closing rules checked locally before anything is sent. What other commands share with these
 * lives in cli_alert.c.
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

#define ALERT_USAGE "sesame alert raise|list|show|ack|resolve|cancel [ARGS]"
#define RAISE_USAGE                                                                                \
    "sesame alert raise THREAD --type CODE [--variant V] [--severity P0|P1|P2|P3|INFO] "           \
    "[--note TEXT]"
#define LIST_USAGE "sesame alert list [--open] [--mine] [--thread THREAD]"
#define SHOW_USAGE "sesame alert show ID"
#define ACK_USAGE "sesame alert ack ID"
#define RESOLVE_USAGE                                                                              \
    "sesame alert resolve ID --code CODE [--outcome none|low|moderate|high|imminent] "             \
    "[--note TEXT]"
#define CANCEL_USAGE "sesame alert cancel ID --code RAISED_IN_ERROR|DUPLICATE|WRONG_PATIENT"

#define DAY_MS 86400000LL
#define MIN_MS 60000LL

/* --- notes ---------------------------------------------------------------------------------- */

/* A note given on the command line: valid UTF-8, 1..65535 bytes. */
static int check_note(const char *usage, const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return cli_usage_error(usage, "the note is empty");
    if (n > SES_ENVELOPE_BODY_MAX)
        return cli_usage_error(usage, "the note is longer than %d bytes", SES_ENVELOPE_BODY_MAX);
    if (!e2e_utf8_valid(s, n))
        return cli_usage_error(usage, "the note is not valid UTF-8");
    return 0;
}

/* Sends text as an alert note (content type 3) to thread. Returns 0 with *seq, or the status. */
static int send_note(struct e2e *x, const char *thread, const char *text, int64_t *seq)
{
    struct e2e_roster *r = NULL;
    json_t *sent = NULL;
    int status = e2e_roster_fetch(x, thread, &r);
    if (status == 0)
        status =
            e2e_send(x, &r, SES_CONTENT_ALERT_NOTE, (const uint8_t *)text, strlen(text), &sent);
    if (status == 0) {
        const json_t *s = json_object_get(sent, "seq");
        *seq = json_is_integer(s) ? (int64_t)json_integer_value(s) : 0;
        if (*seq < 1)
            status = cli_error(CLI_ESERVER, "INTERNAL: the server's reply to send has no seq");
    }
    json_decref(sent);
    free(r);
    return status;
}

/* The message at seq of thread, opened ({"seq","content","text"} or NULL if this device cannot
 * read it: not a member, not wrapped to it, refused). Asks quietly: no error is printed. */
struct one_msg {
    int64_t seq;
    json_t *out;
};

static int take_one(struct e2e *x, const struct e2e_roster *r, struct e2e_msg *m, void *ud)
{
    struct one_msg *o = ud;
    (void)x;
    (void)r;
    if (m->seq == o->seq && m->status == E2E_MSG_OK && m->text != NULL) {
        json_decref(o->out);
        o->out = json_pack("{s:I, s:s, s:s, s:s}", "seq", (json_int_t)m->seq, "content",
                           m->content_type == SES_CONTENT_ALERT_NOTE ? "alert note"
                           : m->content_type == SES_CONTENT_SCALE    ? "scale"
                                                                     : "text",
                           "text", m->text, "sender", m->sender);
    }
    e2e_msg_free(m);
    return 0;
}

static json_t *read_msg(struct e2e *x, const char *thread, const json_t *jseq)
{
    if (!json_is_integer(jseq) || json_integer_value(jseq) < 1)
        return NULL;
    json_t *reply = NULL;
    if (ses_conn_request(x->conn, json_pack("{s:s, s:s}", "t", "thread_info", "thread", thread),
                         x->cli->timeout_ms, &reply) != 0) {
        json_decref(reply);
        return NULL; /* not a member (an admin), or gone */
    }
    struct e2e_roster *r = NULL;
    int status = e2e_roster_parse(x, reply, &r);
    json_decref(reply);
    if (status != 0)
        return NULL;
    struct one_msg o = {(int64_t)json_integer_value(jseq), NULL};
    json_t *run = json_object();
    if (run != NULL && o.seq <= r->last_seq)
        (void)e2e_walk(x, r, o.seq - 1, o.seq, run, take_one, &o, NULL);
    json_decref(run);
    free(r);
    return o.out;
}

/* --- alert raise ---------------------------------------------------------------------------- */

/* What the CLI can check before a note is sent (so that a refused raise leaves no orphan note):
 * the catalogue row, the minimum severity, the origin and this user's role. Exit 2, nothing sent.
 */
static int precheck_raise(const struct e2e *x, const char *type, const char *variant, int sev)
{
    const struct ses_alert_type *t = ses_alert_type_find(type, variant);
    if (t == NULL)
        return cli_error(CLI_EUSAGE,
                         "UNKNOWN_ALERT_TYPE: no alert type %s%s%s in this CLI's catalogue; "
                         "nothing was sent",
                         type, variant && variant[0] ? "/" : "", variant ? variant : "");
    if (sev >= 0 && sev < (int)t->severity)
        return cli_error(CLI_EUSAGE,
                         "SEVERITY_TOO_LOW: %s is raised at %s or above; nothing was sent", type,
                         ses_severity_name(t->severity));
    if (t->origin == SES_ORIGIN_DAEMON || t->origin == SES_ORIGIN_LATER)
        return cli_error(CLI_EUSAGE,
                         "DENIED: %s %s is raised by the %s, not by hand; nothing was "
                         "sent",
                         type, t->name,
                         t->origin == SES_ORIGIN_DAEMON ? "daemon" : "later features");
    enum ses_role role = ses_role_from_name(x->p.role);
    if (!(t->raisers & (1u << role)))
        return cli_error(CLI_EUSAGE, "DENIED: a %s may not raise %s %s; nothing was sent",
                         x->p.role, type, t->name);
    return 0;
}

static int alert_raise(struct cli *cli)
{
    const char *pos[1], *type = NULL, *variant = NULL, *sev_s = NULL, *note = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"type", &type, NULL, NULL, 0},
                                   {"variant", &variant, NULL, NULL, 0},
                                   {"severity", &sev_s, NULL, NULL, 0},
                                   {"note", &note, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 4, RAISE_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos != 1 || type == NULL)
        return cli_usage_error(RAISE_USAGE, "raise needs a THREAD and --type CODE");
    if (type[0] == '\0' || strlen(type) > 8)
        return cli_usage_error(RAISE_USAGE, "--type needs an alert type code such as A03");
    int sev = -1;
    if (sev_s != NULL && (sev = ses_severity_from_name(sev_s)) < 0)
        return cli_usage_error(RAISE_USAGE, "BAD_FIELD: --severity is one of P0, P1, P2, P3, INFO");
    if (note != NULL && (rc = check_note(RAISE_USAGE, note)) != 0)
        return rc;

    struct e2e x;
    char tid[E2E_ID_LEN];
    int64_t note_seq = 0;
    json_t *reply = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    status = e2e_resolve_thread(&x, pos[0], tid);
    if (status == 0 && note != NULL && (status = precheck_raise(&x, type, variant, sev)) == 0)
        status = send_note(&x, tid, note, &note_seq);
    if (status == 0)
        status = cli_alert_raise(&x, tid, type, variant, sev_s, note_seq, &reply);
    if (status != 0) {
        if (note_seq > 0)
            fprintf(stderr,
                    "sesame: note: the note was sent (seq %lld) but the alert was not "
                    "raised\n",
                    (long long)note_seq);
        return e2e_end(&x, status, 1);
    }
    const json_t *alert = json_object_get(reply, "alert");
    int repeat = json_is_true(json_object_get(reply, "repeat"));
    if (cli->json) {
        json_object_set_new(reply, "note_seq",
                            note_seq > 0 ? json_integer((json_int_t)note_seq) : json_null());
        cli_print_json(reply);
    } else {
        if (note_seq > 0)
            printf("note sent encrypted (seq %lld)\n", (long long)note_seq);
        printf("%s:\n", repeat ? "already open (counted as a repeat)" : "alert raised");
        cli_alert_print(&x, alert, repeat, NULL);
    }
    cli_alert_p0_banner(&x, alert);
    json_decref(reply);
    return e2e_end(&x, 0, 1);
}

/* --- alert list ----------------------------------------------------------------------------- */

static int alert_list(struct cli *cli)
{
    int open = cli_take_flag(cli, "open"), mine = cli_take_flag(cli, "mine");
    const char *thread = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"thread", &thread, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 1, LIST_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct e2e x;
    char tid[E2E_ID_LEN];
    json_t *reply = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if (thread != NULL && (status = e2e_resolve_thread(&x, thread, tid)) != 0)
        return e2e_end(&x, status, 0);
    json_t *req = json_pack("{s:s, s:i}", "t", "alerts", "limit", 500);
    if (req != NULL && thread != NULL)
        json_object_set_new(req, "thread", json_string(tid));
    if (req != NULL && open)
        json_object_set_new(req, "open", json_true());
    if (req != NULL && mine)
        json_object_set_new(req, "mine", json_true());
    if ((status = e2e_request(&x, req, "alerts", &reply)) != 0)
        return e2e_end(&x, status, 0);
    cli_oncall_warnings(json_object_get(reply, "warnings"));
    if (cli->json) {
        cli_print_json(reply);
        json_decref(reply);
        return e2e_end(&x, 0, 0);
    }
    struct cli_table t;
    const char *hdr[] = {"ID",    "PATIENT", "TYPE",     "NAME",    "SEV",
                         "STATE", "OWNERS",  "DEADLINE", "INCIDENT"};
    if (cli_table_init(&t, 9, hdr) != 0) {
        json_decref(reply);
        return e2e_end(&x, cli_error(CLI_ELOCAL, "out of memory"), 0);
    }
    int64_t now = (int64_t)ses_client_now_ms();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(reply, "alerts"), i, a)
    {
        char id[12], type[48], owners[1024], dl[96], inc[40];
        snprintf(id, sizeof id, "%.8s", cli_str(a, "alert", "?"));
        cli_alert_type_text(type, sizeof type, a);
        cli_names_of(&x, NULL, json_object_get(a, "owners"), owners, sizeof owners);
        if (cli_alert_is_mine(&x, a))
            snprintf(owners + strlen(owners), sizeof owners - strlen(owners), " *");
        cli_alert_deadline(dl, sizeof dl, a, now);
        snprintf(inc, sizeof inc, "%.8s %s", cli_str(a, "incident", "-"),
                 cli_str(a, "incident_severity", ""));
        const char *row[] = {id,
                             cli_str(a, "patient", "?"),
                             type,
                             cli_str(a, "name", "?"),
                             cli_str(a, "severity", "?"),
                             cli_str(a, "state", "?"),
                             owners,
                             dl,
                             inc};
        cli_table_add(&t, row);
    }
    if (t.rows == 1)
        printf("no alerts\n");
    else
        cli_table_print(&t);
    cli_table_free(&t);
    json_decref(reply);
    return e2e_end(&x, 0, 0);
}

/* --- alert show ----------------------------------------------------------------------------- */

static void print_after(const char *label, const json_t *alert, const char *key, const char *by,
                        struct e2e *x)
{
    const json_t *t = json_object_get(alert, key), *raised = json_object_get(alert, "raised");
    if (!json_is_integer(t))
        return;
    char when[40], dur[48], who[512];
    cli_fmt_time(when, sizeof when, t);
    cli_fmt_dur(dur, sizeof dur,
                json_is_integer(raised) ? json_integer_value(t) - json_integer_value(raised) : 0);
    cli_name_of(x, NULL, json_object_get(alert, by), who, sizeof who);
    printf("%-10s%s by %s, %s after it was raised\n", label, when, who, dur);
}

static void print_note(const char *label, const json_t *note)
{
    if (note == NULL)
        return;
    printf(strlen(label) < 10 ? "%-10s" : "%s ", label);
    printf("(seq %lld, %s) ", (long long)json_integer_value(json_object_get(note, "seq")),
           cli_str(note, "content", "?"));
    e2e_print_safe(stdout, cli_str(note, "text", ""), "          ");
    fputc('\n', stdout);
}

/* Opens the session, resolves the alert ID argument arg into aid and sends req (stolen) with
 * "alert" set to it; what names the request in errors. Returns the exit status; *begun tells
 * whether the session was opened (then the caller ends it with e2e_end). */
static int request_on_alert(struct cli *cli, struct e2e *x, int *begun, const char *arg,
                            char aid[E2E_ID_LEN], json_t *req, const char *what, json_t **reply)
{
    int status = e2e_begin(cli, x);
    *begun = status == 0;
    if (status == 0)
        status = e2e_resolve_alert(x, arg, aid);
    if (status != 0 || json_object_set_new(req, "alert", json_string(aid)) != 0) {
        json_decref(req);
        return status != 0 ? status : CLI_ELOCAL;
    }
    return e2e_request(x, req, what, reply);
}

static int alert_show(struct cli *cli)
{
    const char *pos[1];
    int rc = e2e_args1(cli, NULL, 0, SHOW_USAGE, "show needs an alert ID", &pos[0]);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct e2e x;
    char aid[E2E_ID_LEN];
    json_t *reply = NULL;
    int begun = 0;
    int status = request_on_alert(cli, &x, &begun, pos[0], aid,
                                  json_pack("{s:s}", "t", "alert_show"), "alert_show", &reply);
    if (!begun)
        return status;
    if (status != 0)
        return e2e_end(&x, status, 0);
    const json_t *a = json_object_get(reply, "alert");
    const char *thread = cli_str(a, "thread", "");
    json_t *note = read_msg(&x, thread, json_object_get(a, "msg_seq"));
    json_t *rnote = read_msg(&x, thread, json_object_get(a, "resolve_msg_seq"));
    if (cli->json) {
        json_object_set_new(reply, "note", note ? note : json_null());
        json_object_set_new(reply, "resolve_note", rnote ? rnote : json_null());
        cli_print_json(reply);
        json_decref(reply);
        return e2e_end(&x, 0, 1);
    }
    int64_t now = (int64_t)ses_client_now_ms();
    char type[48], who[1024], when[40], dl[160];
    cli_alert_type_text(type, sizeof type, a);
    const struct ses_alert_type *cat =
        ses_alert_type_find(cli_str(a, "type", ""), cli_str(a, "variant", ""));
    printf("alert     %s\n", cli_str(a, "alert", "?"));
    printf("patient   %s  (thread %s)\n", cli_str(a, "patient", "?"), thread);
    printf("type      %s %s  severity %s%s\n", type, cli_str(a, "name", "?"),
           cli_str(a, "severity", "?"), cat && cat->safety ? "  (safety alert)" : "");
    printf("state     %s  (incident %.8s, %s)\n", cli_str(a, "state", "?"),
           cli_str(a, "incident", "-"), cli_str(a, "incident_severity", "-"));
    cli_fmt_time(when, sizeof when, json_object_get(a, "raised"));
    cli_name_of(&x, NULL, json_object_get(a, "raised_by"), who, sizeof who);
    printf("raised    %s by %s (%s)\n", when, who, cli_str(a, "origin", "?"));
    cli_names_of(&x, NULL, json_object_get(a, "owners"), who, sizeof who);
    printf("owners    %s%s  (step %lld)\n", who, cli_alert_is_mine(&x, a) ? " - yours" : "",
           (long long)json_integer_value(json_object_get(a, "step")));
    cli_names_of(&x, NULL, json_object_get(a, "cc"), who, sizeof who);
    printf("cc        %s\n", who);
    cli_alert_deadline_text(dl, sizeof dl, a, now);
    printf("deadline  %s\n", dl);
    printf("repeats   %lld\n", (long long)json_integer_value(json_object_get(a, "repeats")));
    if (json_integer_value(json_object_get(a, "renotified")) > 0)
        printf("renotified %lld time(s) after the chain was exhausted\n",
               (long long)json_integer_value(json_object_get(a, "renotified")));
    if (json_is_string(json_object_get(a, "emergency"))) {
        printf("emergency ");
        e2e_print_safe(stdout, cli_str(a, "emergency", ""), "          ");
        fputc('\n', stdout);
    }
    print_after("acked", a, "acked", "acked_by", &x);
    print_after("resolved", a, "resolved", "resolved_by", &x);
    if (json_is_string(json_object_get(a, "resolution")))
        printf("          %s%s%s\n", cli_str(a, "resolution", ""),
               json_is_string(json_object_get(a, "outcome")) ? ", risk outcome " : "",
               cli_str(a, "outcome", ""));
    if (json_is_integer(json_object_get(a, "msg_seq")) && note == NULL)
        printf("note      (seq %lld: not readable on this device)\n",
               (long long)json_integer_value(json_object_get(a, "msg_seq")));
    print_note("note", note);
    print_note("resolution note", rnote);
    printf("timeline\n");
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(reply, "timeline"), i, ev)
    {
        char by[512], to[1024];
        cli_fmt_time(when, sizeof when, json_object_get(ev, "ts"));
        cli_name_of(&x, NULL, json_object_get(ev, "by"), by, sizeof by);
        cli_names_of(&x, NULL, json_object_get(ev, "to"), to, sizeof to);
        printf("  %s  %-10s by %s", when, cli_str(ev, "event", "?"), by);
        if (json_array_size(json_object_get(ev, "to")) > 0)
            printf("  to %s", to);
        if (json_is_string(json_object_get(ev, "detail"))) {
            char *flat = e2e_flatten(cli_str(ev, "detail", ""));
            printf("  (%s)", flat ? flat : "?");
            free(flat);
        }
        fputc('\n', stdout);
    }
    json_decref(note);
    json_decref(rnote);
    json_decref(reply);
    return e2e_end(&x, 0, 1);
}

/* --- alert ack, resolve, cancel ------------------------------------------------------------- */

static void print_changed(struct e2e *x, const char *what, json_t *reply)
{
    const json_t *a = json_object_get(reply, "alert");
    if (x->cli->json) {
        cli_print_json(reply);
        return;
    }
    char type[48];
    cli_alert_type_text(type, sizeof type, a);
    printf("%s alert %.8s (%s %s on %s): state %s\n", what, cli_str(a, "alert", "?"), type,
           cli_str(a, "name", "?"), cli_str(a, "patient", "?"), cli_str(a, "state", "?"));
    const json_t *inc = json_object_get(a, "incident_severity");
    if (json_is_string(inc))
        printf("incident %.8s: %s\n", cli_str(a, "incident", "?"), json_string_value(inc));
}

static int alert_ack(struct cli *cli)
{
    const char *pos[1];
    int rc = e2e_args1(cli, NULL, 0, ACK_USAGE, "ack needs an alert ID", &pos[0]);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct e2e x;
    char aid[E2E_ID_LEN];
    json_t *reply = NULL;
    int begun = 0;
    int status = request_on_alert(cli, &x, &begun, pos[0], aid,
                                  json_pack("{s:s}", "t", "alert_ack"), "alert_ack", &reply);
    if (!begun)
        return status;
    if (status == 0) {
        print_changed(&x, "acknowledged", reply);
        if (!cli->json)
            printf("escalation stopped; resolve it with: sesame alert resolve %.8s --code CODE\n",
                   aid);
    }
    json_decref(reply);
    return e2e_end(&x, status, 0);
}

/* What the CLI refuses from the options alone: an unknown code or outcome, a bad note, and a
 * "nothing to do" code (DUPLICATE, NO_ACTION_NEEDED) for a risk above low (OUTCOME_CONFLICT). */
static int resolve_check_opts(const char *code, const char *outcome, const char *note)
{
    if (!ses_resolution_valid(code))
        return cli_usage_error(RESOLVE_USAGE,
                               "BAD_FIELD: --code is one of ADDRESSED, RISK_ASSESSED, "
                               "NO_ACTION_NEEDED, REVIEWED, REFERRED, DUPLICATE");
    if (outcome != NULL && !ses_risk_outcome_valid(outcome))
        return cli_usage_error(RESOLVE_USAGE, "BAD_FIELD: --outcome is one of none, low, "
                                              "moderate, high, imminent");
    if (outcome != NULL && ses_risk_outcome_rank(outcome) > ses_risk_outcome_rank("low") &&
        (strcmp(code, "DUPLICATE") == 0 || strcmp(code, "NO_ACTION_NEEDED") == 0))
        return cli_error(CLI_EUSAGE,
                         "OUTCOME_CONFLICT: --code %s cannot close a risk assessed as %s: use "
                         "RISK_ASSESSED, ADDRESSED or REFERRED; nothing was sent",
                         code, outcome);
    return note != NULL ? check_note(RESOLVE_USAGE, note) : 0;
}

/* 0 when the caller may be one of the alert's closers, or when the CLI cannot tell (a row whose
 * closers include former owners, the backup or the lead: the server decides); 1 when the caller
 * certainly is not (a safety alert: neither a current owner nor a psychiatrist). */
static int surely_not_closer(const struct e2e *x, const struct ses_alert_type *t,
                             const json_t *alert)
{
    unsigned c = t->closers;
    if (c & (SES_PARTY_FORMER_OWNER | SES_PARTY_BACKUP | SES_PARTY_LEAD))
        return 0;
    if ((c & SES_PARTY_OWNER) && cli_alert_is_mine(x, alert))
        return 0;
    enum ses_role role = ses_role_from_name(x->p.role);
    if (role == SES_ROLE_PSYCHIATRIST && (c & (SES_PARTY_PSYCHIATRIST | SES_PARTY_ON_DUTY)))
        return 0; /* the thread's or the on-duty psychiatrist: the server checks which */
    if ((role == SES_ROLE_NURSE && (c & SES_PARTY_NURSE)) ||
        (role == SES_ROLE_GP && (c & SES_PARTY_GP)))
        return 0;
    return 1;
}

/* What the server would refuse, checked on the alert (alert_show) before anything is sent: a
 * closed alert (BAD_STATE), a caller who is surely not a closer (NOT_OWNER, exit 1 like the
 * server's refusal: no command line would change it), a safety alert without
 * a risk outcome (OUTCOME_REQUIRED) or without a note of the assessment (NOTE_REQUIRED). Fills
 * thread (the alert's). Returns 0 or the status. */
static int resolve_precheck(struct e2e *x, const char *aid, const char *outcome, const char *note,
                            char thread[E2E_ID_LEN])
{
    json_t *reply = NULL;
    int status = e2e_request(x, json_pack("{s:s, s:s}", "t", "alert_show", "alert", aid),
                             "alert_show", &reply);
    if (status != 0)
        return status;
    const json_t *a = json_object_get(reply, "alert");
    const char *state = cli_str(a, "state", "");
    const struct ses_alert_type *t =
        ses_alert_type_find(cli_str(a, "type", ""), cli_str(a, "variant", ""));
    snprintf(thread, E2E_ID_LEN, "%s", cli_str(a, "thread", ""));
    if (strcmp(state, "raised") != 0 && strcmp(state, "acked") != 0)
        status = cli_error(CLI_EUSAGE, "BAD_STATE: the alert is %s; nothing was sent", state);
    else if (t != NULL && surely_not_closer(x, t, a)) /* a refusal, not a usage error */
        status = cli_error(CLI_ESERVER,
                           "NOT_OWNER: only its owners and the psychiatrists may resolve %s %s; "
                           "nothing was sent",
                           t->code, t->name);
    else if (t != NULL && t->safety && outcome == NULL)
        status = cli_error(CLI_EUSAGE,
                           "OUTCOME_REQUIRED: %s %s is a safety alert: give the risk assessment "
                           "with --outcome none|low|moderate|high|imminent; nothing was sent",
                           t->code, t->name);
    else if (t != NULL && t->safety && note == NULL)
        status = cli_error(CLI_EUSAGE,
                           "NOTE_REQUIRED: %s %s is a safety alert: describe the assessment with "
                           "--note TEXT (sent encrypted); nothing was sent",
                           t->code, t->name);
    json_decref(reply);
    return status;
}

/* The follow-up alerts a risk outcome raised (outcome high: an A03, imminent: an A02 P0). */
static void print_followups(struct e2e *x, const json_t *reply)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(reply, "followups"), i, f)
    {
        if (!x->cli->json) {
            printf("Follow-up raised:\n");
            cli_alert_print(x, f, 0, NULL);
        }
        cli_alert_p0_banner(x, f);
    }
}

static int alert_resolve(struct cli *cli)
{
    const char *pos[1], *code = NULL, *outcome = NULL, *note = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"code", &code, NULL, NULL, 0},
                                   {"outcome", &outcome, NULL, NULL, 0},
                                   {"note", &note, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 3, RESOLVE_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos != 1 || code == NULL)
        return cli_usage_error(RESOLVE_USAGE, "resolve needs an alert ID and --code CODE");
    if ((rc = resolve_check_opts(code, outcome, note)) != 0)
        return rc;
    struct e2e x;
    char aid[E2E_ID_LEN], thread[E2E_ID_LEN];
    int64_t note_seq = 0;
    json_t *reply = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if ((status = e2e_resolve_alert(&x, pos[0], aid)) == 0)
        status = resolve_precheck(&x, aid, outcome, note, thread);
    if (status == 0 && note != NULL)
        status = send_note(&x, thread, note, &note_seq);
    if (status == 0) {
        json_t *req =
            json_pack("{s:s, s:s, s:s}", "t", "alert_resolve", "alert", aid, "code", code);
        if (req != NULL && outcome != NULL)
            json_object_set_new(req, "outcome", json_string(outcome));
        if (req != NULL && note_seq > 0)
            json_object_set_new(req, "msg_seq", json_integer((json_int_t)note_seq));
        status = e2e_request(&x, req, "alert_resolve", &reply);
        if (status != 0 && note_seq > 0)
            fprintf(stderr,
                    "sesame: note: the note was sent (seq %lld) but the alert was not "
                    "resolved\n",
                    (long long)note_seq);
    }
    if (status == 0) {
        print_changed(&x, "resolved", reply);
        print_followups(&x, reply);
    }
    json_decref(reply);
    return e2e_end(&x, status, 1);
}

static int alert_cancel(struct cli *cli)
{
    const char *pos[1], *code = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"code", &code, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 1, CANCEL_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos != 1 || code == NULL)
        return cli_usage_error(CANCEL_USAGE, "cancel needs an alert ID and --code CODE");
    if (!ses_cancel_code_valid(code))
        return cli_usage_error(CANCEL_USAGE, "BAD_FIELD: --code is one of RAISED_IN_ERROR, "
                                             "DUPLICATE, WRONG_PATIENT");
    struct e2e x;
    char aid[E2E_ID_LEN];
    json_t *reply = NULL;
    int begun = 0;
    int status = request_on_alert(cli, &x, &begun, pos[0], aid,
                                  json_pack("{s:s, s:s}", "t", "alert_cancel", "code", code),
                                  "alert_cancel", &reply);
    if (!begun)
        return status;
    if (status == 0)
        print_changed(&x, "cancelled", reply);
    json_decref(reply);
    return e2e_end(&x, status, 0);
}

int cmd_alert(struct cli *cli)
{
    static const struct cli_sub subs[] = {{"raise", alert_raise},     {"list", alert_list},
                                          {"show", alert_show},       {"ack", alert_ack},
                                          {"resolve", alert_resolve}, {"cancel", alert_cancel}};
    return cli_dispatch(cli, "alert", ALERT_USAGE, subs, sizeof subs / sizeof subs[0]);
}
