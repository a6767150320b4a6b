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
int cmd_device(struct cli *cli); /* argv[0] is the device subcommand */

/* Full usage text. */
void cli_print_usage(FILE *out);

#endif
