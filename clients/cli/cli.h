/*
 * cli.h - what the `sesame` commands share: global options, exit codes, option parsing, error
 * reporting, output helpers (JSON, aligned tables, times) and opening a logged-in session.
 * Internal to the CLI executable (not part of the sesame_client library).
 */
#ifndef SESAME_CLI_CLI_H
#define SESAME_CLI_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "conn.h"
#include "profile.h"

/* Exit statuses of the sesame command. */
enum cli_exit {
    CLI_OK = 0,
    CLI_ESERVER = 1, /* the server answered with an error */
    CLI_EUSAGE = 2,  /* unknown command or option, missing argument, refused local state */
    CLI_ECONN = 3,   /* connection, TLS or timeout */
    CLI_ELOCAL = 4,  /* local files: profile missing or unreadable, CA file, ... */
    CLI_EVERIFY = 6, /* the audit log (audit verify/prove), a roster or a message failed
                        verification */
};

/* Global options (accepted anywhere on the command line) and the command's own arguments. */
struct cli {
    const char *home_opt; /* --home DIR or NULL */
    int json;             /* --json */
    int timeout_ms;       /* --timeout MS, default 10000 */
    int argc;             /* arguments after the command word(s) */
    char **argv;
};

/* One command option that takes a value ("--name VALUE" or "--name=VALUE"). */
struct cli_opt {
    const char *name; /* without the leading dashes */
    const char **value;
};

/* Parses argv against opts. Returns 0; CLI_EUSAGE after printing the error and usage_line to
 * stderr; or -1 after printing help (usage_line) to stdout for --help/-h (the caller exits 0). */
int cli_parse_opts(int argc, char **argv, const struct cli_opt *opts, size_t n_opts,
                   const char *usage_line);

/* One subcommand of a command group (`sesame thread list`: group "thread", name "list"). */
struct cli_sub {
    const char *name;
    int (*run)(struct cli *cli);
};

/* Runs the subcommand argv[0] names, with argv starting after it: none is a usage error
 * ("GROUP needs a subcommand"), help/--help/-h prints the usage (exit 0), an unknown name is a
 * usage error. Returns the exit status. */
int cli_dispatch(struct cli *cli, const char *group, const char *usage_line,
                 const struct cli_sub *subs, size_t n_subs);

/* Prints "sesame: error: MSG" and a usage hint to stderr. Returns CLI_EUSAGE. */
int cli_usage_error(const char *usage_line, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prints "sesame: error: MSG" to stderr and returns status. */
int cli_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports a failed request or login: an error frame in reply gives "sesame: error: CODE: msg" and
 * CLI_ESERVER; otherwise rc (SES_ETIMEOUT, SES_ECLOSED, ...) gives a connection error naming what
 * (CLI_ECONN) or a local one (CLI_ELOCAL). Consumes reply. Returns the exit status. */
int cli_fail(const struct cli *cli, struct ses_conn *conn, int rc, json_t *reply, const char *what);

/* Loads the profile (home from --home/$SESAME_HOME/default), connects to its server and logs in.
 * On success returns 0 with *conn open and logged in (caller frees it and wipes *p); on failure
 * prints the error and returns the exit status (nothing to free; *p wiped). */
int cli_open_session(const struct cli *cli, struct ses_profile *p, struct ses_conn **conn);

/* --json output: removes "t" and "id" from obj and prints it compactly on one line. */
void cli_print_json(json_t *obj);

/* "2025-01-31T10:15:02Z" for a time in ms since the epoch (UTC); "-" for a non-integer. */
void cli_fmt_time(char *out, size_t cap, const json_t *ms);

/* String member of obj, or dflt when absent, null or not a string. */
const char *cli_str(const json_t *obj, const char *key, const char *dflt);

/* A text table printed with aligned columns (widths in UTF-8 characters). */
struct cli_table {
    size_t cols, rows, cap;
    char **cells; /* rows * cols strdup'd cells; row 0 is the header */
};
int cli_table_init(struct cli_table *t, size_t cols, const char *const *header);
int cli_table_add(struct cli_table *t, const char *const *row);
void cli_table_print(const struct cli_table *t);
void cli_table_free(struct cli_table *t);

/* Quotes s for a POSIX shell when needed (into out, cap bytes). */
void cli_shell_quote(char *out, size_t cap, const char *s);

/* --- shared by the alert, scale and follow commands (cmd_alert.c; PROTOCOL.md §13) --------- */

struct e2e;
struct e2e_roster;

/* Removes every "--NAME" (a flag without a value) from cli->argv before a "--". Returns 1 if it
 * was there. */
int cli_take_flag(struct cli *cli, const char *name);
/* Parses a --OPT YYYY-MM-DD value (ses_day_parse): *day (days since 1970-01-01, may be NULL) and
 * *ms (00:00 UTC of that day, may be NULL). Returns 0 or CLI_EUSAGE after "BAD_FIELD: ...". */
int cli_date_arg(const char *usage, const char *opt, const char *iso, int32_t *day, int64_t *ms);
/* Today, UTC, in days since 1970-01-01 (ses_client_now_ms). */
int32_t cli_today(void);
/* Sends alert_raise (variant, severity NULL/"" and msg_seq < 1: absent). Returns 0 with *reply
 * ({"repeat","alert"}) or the exit status (error printed). */
int cli_alert_raise(struct e2e *x, const char *thread, const char *type, const char *variant,
                    const char *severity, int64_t msg_seq, json_t **reply);
/* Prints one alert (ALERT object) in a few indented lines: severity, type, name, id prefix,
 * patient, why (may be NULL), "already open: counted as a repeat" when repeat, owners and cc by
 * name (" - yours" for the caller), deadline (UTC clock time and relative). */
void cli_alert_print(struct e2e *x, const json_t *alert, int repeat, const char *why);
/* For a P0 alert: the prominent lines (stdout; stderr with --json): the site's emergency routes
 * from the alert's "emergency" ("phone now: SAMU 15 / 3114 — the daemon is not the only
 * channel"; when none are configured, to phone the on-duty psychiatrist or the emergency
 * services) and the owners to phone. Nothing for another severity. */
void cli_alert_p0_banner(struct e2e *x, const json_t *alert);
/* "in 25 min", "overdue 3 min", "UNACKNOWLEDGED, chain exhausted (renotified K, next in 14 min)",
 * "none", or "-" (not raised). */
void cli_alert_deadline(char *out, size_t cap, const json_t *alert, int64_t now_ms);
/* One alert_event push as a line (`follow`): "[ALERT P1] A01/item9_2 SAFETY_ITEM9_POSITIVE raised
 * on P-7F3A (alert 3f7a9c2b) - owner: Anne Martin (nurse), deadline 10:42 UTC"; with --json
 * {"event":"alert_event","what":EVENT,"alert":ALERT} on one line. */
void cli_alert_event_print(struct e2e *x, const json_t *push);
/* One open alert of `follow`'s catch-up, like an event "open" ("[ALERT P1] ... open, raised on
 * ..."; --json adds "catchup":true), with the P0 banner for a P0. */
void cli_alert_catchup_print(struct e2e *x, const json_t *alert);
/* 1 if the caller is among the alert's owners or cc. */
int cli_alert_concerns_me(const struct e2e *x, const json_t *alert);
/* Thread metadata (META of PROTOCOL.md §13) in aligned lines; patient may be NULL. */
/* The "warnings" of an `alerts` or `oncall` reply ("NO_ON_DUTY_PSYCHIATRIST", "NO_PROGRAM_LEAD")
 * as "sesame: warning: ..." lines on stderr, in plain words with the fix (cmd_oncall.c). NULL or
 * an empty array prints nothing. */
void cli_oncall_warnings(const json_t *warnings);
void cli_meta_print(const char *thread, const char *patient, const json_t *meta);

/* Commands: each returns the process exit status. */
int cmd_enroll(struct cli *cli);
int cmd_whoami(struct cli *cli);
int cmd_admin(struct cli *cli);  /* argv[0] is the admin subcommand */
int cmd_audit(struct cli *cli);  /* argv[0] is the audit subcommand */
int cmd_thread(struct cli *cli); /* argv[0] is the thread subcommand */
int cmd_send(struct cli *cli);
int cmd_sync(struct cli *cli);
int cmd_follow(struct cli *cli);
int cmd_directory(struct cli *cli);
int cmd_safety_number(struct cli *cli);
int cmd_device(struct cli *cli);          /* argv[0] is the device subcommand */
int cmd_alert(struct cli *cli);           /* argv[0] is the alert subcommand */
int cmd_scale(struct cli *cli);           /* argv[0] is "record" */
int cmd_plan(struct cli *cli);            /* argv[0] is "record" */
int cmd_contact(struct cli *cli);         /* argv[0] is "record" */
int cmd_thread_meta(struct cli *cli);     /* `thread meta`: argv[0] is THREAD */
int cmd_device_link(struct cli *cli);     /* `device link`: a code for another own device */
int cmd_admin_oncall(struct cli *cli);    /* `admin oncall`: argv[0] is show or set */
int cmd_admin_backup(struct cli *cli);    /* `admin backup`: argv[0] is set */
int cmd_caseload(struct cli *cli);        /* the caseload registry (cmd_caseload.c) */
int cmd_session(struct cli *cli);         /* argv[0] is add, list or cancel (cmd_review.c) */
int cmd_queue(struct cli *cli);           /* argv[0] is add, list, agenda or outcome */
int cmd_review(struct cli *cli);          /* argv[0] is minutes */
int cmd_episode(struct cli *cli);         /* argv[0] is close or rp-plan */
int cli_episode_rp_plan(struct cli *cli); /* `episode rp-plan` (cmd_scale.c) */
int cmd_rec(struct cli *cli);             /* argv[0] is the rec subcommand (cmd_rec.c) */
int cmd_thread_card(struct cli *cli);     /* `thread card`: argv[0] is THREAD (cmd_rec_read.c) */

/* --- recommendations (cmd_rec.c, cmd_rec_read.c; PROTOCOL.md §16) --- */

struct e2e_msg;
struct ses_rec_doc;
/* `rec show` and `rec export` (cmd_rec_read.c). */
int cli_rec_show(struct cli *cli);
int cli_rec_export(struct cli *cli);
/* ID argument of the rec commands: a whole id, or a unique prefix (>= 4 characters) of one of the
 * caller's recommendations, into out (E2E_ID_LEN bytes). Returns 0 or the exit status. */
int cli_resolve_rec(struct e2e *x, const char *arg, char *out);
/* Message seq of thread r, verified and opened, into *out (e2e_msg_free). Returns 0 or the exit
 * status: one that is not delivered to this device or does not verify is an error. */
int cli_read_msg(struct e2e *x, const struct e2e_roster *r, int64_t seq, struct e2e_msg *out);
/* rec_show of the recommendation arg names: *reply {"rec":REC,"events":[...]} and the thread's
 * roster *r (caller frees both); with d, the decrypted record too (a message that is not a
 * well-formed recommendation fails verification). Returns 0 or the exit status. */
int cli_rec_fetch(struct e2e *x, const char *arg, json_t **reply, struct e2e_roster **r,
                  struct ses_rec_doc *d);

/* --- alert lines (cli_alert.c), shared by the alert, contact, scale and review commands --- */

/* "2025-01-31" of a time in ms (UTC day), "-" for a non-integer. */
void cli_fmt_day(char out[11], const json_t *ms);
/* A duration: "25 min", "3 h 20 min", "6 d 23 h". */
void cli_fmt_dur(char *out, size_t cap, int64_t ms);
/* The deadline in a sentence: "09:00 UTC (in 30 min)"; for an alert still raised past the end of
 * its chain "UNACKNOWLEDGED, chain exhausted: re-notified K time(s), next at 12:04 UTC (in 1 h 0
 * min)"; "none" without one. */
void cli_alert_deadline_text(char *out, size_t cap, const json_t *alert, int64_t now);
/* "Anne Martin (nurse), Claire Petit (gp)" for an array of user ids; "nobody" if empty. */
void cli_names_of(struct e2e *x, const struct e2e_roster *r, const json_t *ids, char *out,
                  size_t cap);
/* "Anne Martin (nurse)" for one user id (the roster's names first, then the directory's). */
void cli_name_of(struct e2e *x, const struct e2e_roster *r, const json_t *id, char *out,
                 size_t cap);
/* "A01/item9_2" or "A04". */
void cli_alert_type_text(char *out, size_t cap, const json_t *alert);
/* Whether this device's user is among the alert's current owners. */
int cli_alert_is_mine(const struct e2e *x, const json_t *alert);

/* --- a thread's scale and plan records (cmd_scale.c) --- */

struct ses_record;
struct cli_records {
    struct ses_record *v;
    size_t n, cap;
    int status;
    char title[256]; /* the thread's title message (its decrypted name), "" if none */
};
/* Reads every record of thread r (e2e_walk over all its messages, each verified and opened),
 * in entry order, into *a (zeroed first by the caller). Returns 0 or the exit status. */
int cli_read_records(struct e2e *x, const struct e2e_roster *r, struct cli_records *a);
/* Wipes and frees a's records. */
void cli_records_free(struct cli_records *a);

/* Full usage text. */
void cli_print_usage(FILE *out);

#endif
