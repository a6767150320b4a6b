/*
 * cli_util.c - helpers shared by the sesame commands: option parsing, error reporting and exit
 * statuses, JSON and table output, and opening a logged-in session from the profile.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "sesame/err.h"

int cli_error(int status, const char *fmt, ...)
{
    va_list ap;
    fputs("sesame: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return status;
}

int cli_dispatch(struct cli *cli, const char *group, const char *usage_line,
                 const struct cli_sub *subs, size_t n_subs)
{
    const char *sub = cli->argc > 0 ? cli->argv[0] : NULL;
    if (sub == NULL)
        return cli_usage_error(usage_line, "%s needs a subcommand", group);
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        cli_print_usage(stdout);
        return CLI_OK;
    }
    cli->argc--;
    cli->argv++;
    for (size_t i = 0; i < n_subs; i++)
        if (strcmp(sub, subs[i].name) == 0)
            return subs[i].run(cli);
    return cli_usage_error(usage_line, "unknown %s command '%s'", group, sub);
}

int cli_usage_error(const char *usage_line, const char *fmt, ...)
{
    va_list ap;
    fputs("sesame: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (usage_line != NULL)
        fprintf(stderr, "usage: %s\n", usage_line);
    fputs("Run 'sesame help' for every command and option.\n", stderr);
    return CLI_EUSAGE;
}

int cli_parse_opts(int argc, char **argv, const struct cli_opt *opts, size_t n_opts,
                   const char *usage_line)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            printf("usage: %s\n", usage_line);
            return -1;
        }
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
            return cli_usage_error(usage_line, "unexpected argument '%s'", arg);
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct cli_opt *o = NULL;
        for (size_t k = 0; k < n_opts; k++)
            if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0)
                o = &opts[k];
        if (o == NULL)
            return cli_usage_error(usage_line, "unknown option '--%.*s'", (int)nlen, name);
        if (eq != NULL) {
            *o->value = eq + 1;
        } else {
            if (i + 1 >= argc)
                return cli_usage_error(usage_line, "option '--%s' needs a value", o->name);
            *o->value = argv[++i];
        }
    }
    return 0;
}

void cli_print_json(json_t *obj)
{
    json_object_del(obj, "t");
    json_object_del(obj, "id");
    char *text = json_dumps(obj, JSON_COMPACT | JSON_ENCODE_ANY);
    if (text != NULL) {
        puts(text);
        free(text);
    }
    fflush(stdout);
}

const char *cli_str(const json_t *obj, const char *key, const char *dflt)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

void cli_fmt_time(char *out, size_t cap, const json_t *ms)
{
    struct tm tm;
    if (!json_is_integer(ms)) {
        snprintf(out, cap, "-");
        return;
    }
    json_int_t v = json_integer_value(ms);
    time_t s = (time_t)(v / 1000);
    if (gmtime_r(&s, &tm) == NULL || strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, cap, "%lld", (long long)v);
}

int cli_fail(const struct cli *cli, struct ses_conn *conn, int rc, json_t *reply, const char *what)
{
    int status;
    const json_t *t = json_object_get(reply, "t");
    if (reply != NULL && json_is_string(t) && strcmp(json_string_value(t), "error") == 0) {
        const char *code = cli_str(reply, "code", ses_err_name(rc));
        const char *msg = cli_str(reply, "msg", ses_err_msg(rc));
        status = cli_error(CLI_ESERVER, "%s: %s", code, msg);
    } else if (rc == SES_ETIMEOUT) {
        status = cli_error(CLI_ECONN, "TIMEOUT: %s: no answer from the server within %d ms", what,
                           cli->timeout_ms);
    } else if (rc == SES_ECLOSED) {
        int code = conn ? ses_conn_close_code(conn) : 0;
        if (code != 0)
            status = cli_error(CLI_ECONN, "CLOSED: %s: the server closed the connection (%d)", what,
                               code);
        else
            status = cli_error(CLI_ECONN, "CLOSED: %s: the connection was closed", what);
    } else if (rc == SES_ECODE_INVALID) {
        status = cli_error(CLI_ESERVER, "CODE_INVALID: the enrolment code is malformed "
                                        "(expected TTTTTTTT-SSSSSSSSSSSSSSSSSSSSSSSSSS)");
    } else if (rc == SES_EBAD_FIELD) {
        status =
            cli_error(CLI_EUSAGE, "BAD_FIELD: %s: a value is not valid UTF-8 or too long", what);
    } else if (rc == SES_ENOMEM) {
        status = cli_error(CLI_ELOCAL, "%s: out of memory", what);
    } else {
        status = cli_error(CLI_ECONN, "%s: %s: %s", ses_err_name(rc), what, ses_err_msg(rc));
    }
    json_decref(reply);
    return status;
}

int cli_open_session(const struct cli *cli, struct ses_profile *p, struct ses_conn **conn)
{
    char home[4096], err[300];
    json_t *reply = NULL;
    int rc;

    *conn = NULL;
    if (ses_profile_home(home, sizeof home, cli->home_opt) != 0)
        return cli_error(CLI_ELOCAL, "cannot find the profile folder (use --home DIR)");
    rc = ses_profile_load(home, p);
    if (rc == SES_ENOT_FOUND) {
        ses_profile_wipe(p);
        return cli_error(CLI_ELOCAL, "not enrolled: run sesame enroll first (profile folder %s)",
                         home);
    }
    if (rc != 0) {
        ses_profile_wipe(p);
        return cli_error(CLI_ELOCAL, "cannot read the profile in %s (profile.json, keys.json)",
                         home);
    }
    FILE *f = fopen(p->ca_file, "r");
    if (f == NULL) {
        int status = cli_error(CLI_ELOCAL, "cannot read the pinned CA certificate %s", p->ca_file);
        ses_profile_wipe(p);
        return status;
    }
    fclose(f);
    rc = ses_conn_open_ex(p->server, p->ca_file, cli->timeout_ms, conn, err, sizeof err);
    if (rc != 0) {
        int status = rc == SES_EINVALID_ARG ? CLI_ELOCAL : CLI_ECONN;
        cli_error(status, "%s: cannot connect to %s: %s", ses_err_name(rc), p->server, err);
        ses_profile_wipe(p);
        return status;
    }
    ses_conn_set_timeout(*conn, cli->timeout_ms);
    rc = ses_conn_login(*conn, p->device_id, &p->keys, &reply);
    if (rc != 0) {
        int status = cli_fail(cli, *conn, rc, reply, "login");
        ses_conn_free(*conn);
        *conn = NULL;
        ses_profile_wipe(p);
        return status;
    }
    json_decref(reply);
    return 0;
}

/* --- tables --- */

/* Display width of a UTF-8 string: the number of code points (continuation bytes not counted). */
static size_t utf8_width(const char *s)
{
    size_t w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            w++;
    return w;
}

int cli_table_init(struct cli_table *t, size_t cols, const char *const *header)
{
    memset(t, 0, sizeof *t);
    t->cols = cols;
    return cli_table_add(t, header);
}

int cli_table_add(struct cli_table *t, const char *const *row)
{
    if (t->rows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **nc = realloc(t->cells, cap * t->cols * sizeof *nc);
        if (nc == NULL)
            return -1;
        t->cells = nc;
        t->cap = cap;
    }
    for (size_t i = 0; i < t->cols; i++) {
        char *cell = strdup(row[i] ? row[i] : "-");
        if (cell == NULL) {
            while (i-- > 0)
                free(t->cells[t->rows * t->cols + i]);
            return -1;
        }
        /* control characters would break the layout (the server refuses them in names anyway) */
        for (char *q = cell; *q; q++)
            if ((unsigned char)*q < 0x20 || *q == 0x7f)
                *q = '?';
        t->cells[t->rows * t->cols + i] = cell;
    }
    t->rows++;
    return 0;
}

void cli_table_print(const struct cli_table *t)
{
    size_t width[16] = {0};
    size_t cols = t->cols < 16 ? t->cols : 16;
    for (size_t r = 0; r < t->rows; r++)
        for (size_t c = 0; c < cols; c++) {
            size_t w = utf8_width(t->cells[r * t->cols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < t->rows; r++) {
        for (size_t c = 0; c < cols; c++) {
            const char *cell = t->cells[r * t->cols + c];
            fputs(cell, stdout);
            if (c + 1 < cols)
                for (size_t pad = utf8_width(cell); pad < width[c] + 2; pad++)
                    fputc(' ', stdout);
        }
        fputc('\n', stdout);
    }
    fflush(stdout);
}

void cli_table_free(struct cli_table *t)
{
    for (size_t i = 0; i < t->rows * t->cols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

void cli_shell_quote(char *out, size_t cap, const char *s)
{
    int plain = s[0] != '\0';
    for (const char *p = s; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@[]", *p))
            plain = 0;
    if (plain) {
        snprintf(out, cap, "%s", s);
        return;
    }
    size_t o = 0;
    if (cap < 3) {
        if (cap > 0)
            out[0] = '\0';
        return;
    }
    out[o++] = '\'';
    for (const char *p = s; *p && o + 5 < cap; p++) {
        if (*p == '\'') {
            memcpy(out + o, "'\\''", 4);
            o += 4;
        } else {
            out[o++] = *p;
        }
    }
    out[o++] = '\'';
    out[o] = '\0';
}
