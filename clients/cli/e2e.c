/*
 * e2e.c - the session the thread and message commands share (see e2e.h): messages to the user,
 * the commands' argument parser, opening and closing a logged-in session with its local state,
 * requests, reconnecting, and THREAD and alert ID arguments given as a unique prefix.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "e2e.h"
#include "sesame/encode.h"
#include "sesame/err.h"

/* --- messages to the user ------------------------------------------------------------------- */

int e2e_verify_failed(const char *fmt, ...)
{
    va_list ap;
    fputs("sesame: error: E2E_VERIFY_FAILED: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EVERIFY;
}

void e2e_warn(const char *fmt, ...)
{
    va_list ap;
    fputs("sesame: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void e2e_note_add(char *note, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(note);
    if (used > 0 && used + 2 < cap) {
        memcpy(note + used, "; ", 3);
        used += 2;
    }
    if (used + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note + used, cap - used, fmt, ap);
    va_end(ap);
}

/* --- arguments ------------------------------------------------------------------------------ */

int e2e_run(struct cli *cli, json_t *req, const char *thread, const char *what, e2e_print_fn print)
{
    struct e2e x;
    char tid[E2E_ID_LEN];
    json_t *reply = NULL;
    if (req == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    int status = e2e_begin(cli, &x);
    if (status != 0) {
        json_decref(req);
        return status;
    }
    if (thread != NULL && (status = e2e_resolve_thread(&x, thread, tid)) == 0)
        json_object_set_new(req, "thread", json_string(tid));
    if (status != 0)
        json_decref(req);
    else if ((status = e2e_request(&x, req, what, &reply)) == 0) { /* req consumed */
        if (cli->json)
            cli_print_json(reply);
        else
            print(&x, reply);
    }
    json_decref(reply);
    return e2e_end(&x, status, 0);
}

int e2e_args1(struct cli *cli, const struct e2e_opt *opts, size_t n_opts, const char *usage,
              const char *need, const char **arg)
{
    const char *pos[1] = {NULL};
    int n_pos = 0;
    int rc = e2e_args(cli->argc, cli->argv, opts, n_opts, usage, pos, 1, &n_pos);
    if (rc != 0)
        return rc;
    if (n_pos != 1)
        return cli_usage_error(usage, "%s", need);
    *arg = pos[0];
    return 0;
}

int e2e_args(int argc, char **argv, const struct e2e_opt *opts, size_t n_opts, const char *usage,
             const char **pos, int max_pos, int *n_pos)
{
    int only_pos = 0;
    *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_pos && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            printf("usage: %s\n", usage);
            return -1;
        }
        if (!only_pos && strcmp(arg, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (only_pos || strncmp(arg, "--", 2) != 0) {
            if (*n_pos >= max_pos)
                return cli_usage_error(usage, "unexpected argument '%s'", arg);
            pos[(*n_pos)++] = arg;
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct e2e_opt *o = NULL;
        for (size_t k = 0; k < n_opts; k++)
            if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0)
                o = &opts[k];
        if (o == NULL)
            return cli_usage_error(usage, "unknown option '--%.*s'", (int)nlen, name);
        const char *val;
        if (eq != NULL) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return cli_usage_error(usage, "option '--%s' needs a value", o->name);
            val = argv[++i];
        }
        if (o->list != NULL) {
            if (*o->n_list >= o->max_list)
                return cli_usage_error(usage, "too many '--%s' options (at most %d)", o->name,
                                       o->max_list);
            o->list[(*o->n_list)++] = val;
        } else {
            *o->value = val;
        }
    }
    return 0;
}

/* --- session -------------------------------------------------------------------------------- */

int e2e_begin(struct cli *cli, struct e2e *x)
{
    memset(x, 0, sizeof *x);
    x->cli = cli;
    int status = cli_open_session(cli, &x->p, &x->conn);
    if (status != 0)
        return status;
    ses_id_to_text(x->me, x->p.user_id);
    ses_id_to_text(x->my_device, x->p.device_id);
    int rc = cli_state_load(&x->st, x->p.home, x->p.device_id);
    if (rc != 0) {
        status = cli_error(CLI_ELOCAL,
                           "cannot read the local state %s/%s (%s); move it away to start afresh",
                           x->p.home, CLI_STATE_FILE, ses_err_msg(rc));
        ses_conn_free(x->conn);
        x->conn = NULL;
        ses_profile_wipe(&x->p);
        return status;
    }
    x->have_state = 1;
    x->keys_cache = json_object();
    if (x->keys_cache == NULL) {
        cli_state_free(&x->st);
        ses_conn_free(x->conn);
        ses_profile_wipe(&x->p);
        return cli_error(CLI_ELOCAL, "out of memory");
    }
    return 0;
}

int e2e_save(struct e2e *x)
{
    if (!x->have_state)
        return 0;
    int rc = cli_state_save(&x->st);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "cannot write the local state %s/%s: %s", x->p.home,
                         CLI_STATE_FILE, ses_err_msg(rc));
    return 0;
}

int e2e_end(struct e2e *x, int status, int save)
{
    if (save) {
        int s = e2e_save(x);
        if (s != 0 && status == CLI_OK)
            status = s;
    }
    cli_state_free(&x->st);
    x->have_state = 0;
    json_decref(x->keys_cache);
    json_decref(x->directory);
    x->keys_cache = x->directory = NULL;
    ses_conn_free(x->conn);
    x->conn = NULL;
    ses_profile_wipe(&x->p);
    return status;
}

int e2e_request(struct e2e *x, json_t *req, const char *what, json_t **reply)
{
    *reply = NULL;
    if (req == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    json_t *r = NULL;
    int rc = ses_conn_request(x->conn, req, x->cli->timeout_ms, &r);
    if (rc != 0)
        return cli_fail(x->cli, x->conn, rc, r, what);
    *reply = r;
    return 0;
}

int e2e_reconnect(struct e2e *x)
{
    char err[300];
    json_t *reply = NULL;
    ses_conn_free(x->conn);
    x->conn = NULL;
    int rc =
        ses_conn_open_ex(x->p.server, x->p.ca_file, x->cli->timeout_ms, &x->conn, err, sizeof err);
    if (rc != 0) {
        x->conn = NULL;
        return cli_error(CLI_ECONN, "%s: cannot connect to %s: %s", ses_err_name(rc), x->p.server,
                         err);
    }
    ses_conn_set_timeout(x->conn, x->cli->timeout_ms);
    rc = ses_conn_login(x->conn, x->p.device_id, &x->p.keys, &reply);
    if (rc != 0)
        return cli_fail(x->cli, x->conn, rc, reply, "login");
    json_decref(reply);
    return 0;
}

int e2e_resolve_thread(struct e2e *x, const char *arg, char out[E2E_ID_LEN])
{
    uint8_t id[SES_ID_BYTES];
    if (ses_id_from_text(id, arg) == 0) {
        ses_id_to_text(out, id);
        return 0;
    }
    size_t n = strlen(arg);
    if (strcmp(x->p.role, "admin") == 0)
        return cli_usage_error(NULL,
                               "'%s' is not a thread id; an admin has no caseload to match "
                               "a prefix against: give the whole id (26 characters)",
                               arg);
    if (n < 4 || n > SES_ID_TEXT_LEN)
        return cli_usage_error(NULL,
                               "'%s' is not a thread id (26 characters, or a unique prefix "
                               "of at least 4)",
                               arg);
    json_t *reply = NULL;
    int status = e2e_request(x, json_pack("{s:s}", "t", "threads"), "threads", &reply);
    if (status != 0)
        return status;
    int found = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(reply, "threads"), i, t)
    {
        const char *tid = cli_str(t, "thread", "");
        if (strlen(tid) == SES_ID_TEXT_LEN && strncasecmp(tid, arg, n) == 0) {
            if (found++ == 0)
                snprintf(out, E2E_ID_LEN, "%s", tid);
        }
    }
    json_decref(reply);
    if (found == 0)
        return cli_usage_error(NULL, "no thread of yours starts with '%s'", arg);
    if (found > 1)
        return cli_usage_error(NULL, "'%s' matches %d threads; give more characters", arg, found);
    return 0;
}

int e2e_resolve_listed(struct e2e *x, const char *arg, const char *type, const char *noun,
                       const char *a_noun, char out[E2E_ID_LEN])
{
    uint8_t id[SES_ID_BYTES];
    if (ses_id_from_text(id, arg) == 0) {
        ses_id_to_text(out, id);
        return 0;
    }
    size_t n = strlen(arg);
    if (n < 4 || n > SES_ID_TEXT_LEN)
        return cli_usage_error(NULL,
                               "'%s' is not %s id (26 characters, or a unique prefix "
                               "of at least 4)",
                               arg, a_noun);
    /* the listing: "alerts" lists "alerts" of "alert" ids, "recs" lists "recs" of "rec" ids */
    char key[16];
    snprintf(key, sizeof key, "%.*s", (int)strlen(type) - 1, type);
    json_t *reply = NULL;
    int status = e2e_request(x, json_pack("{s:s, s:i}", "t", type, "limit", 500), type, &reply);
    if (status != 0)
        return status;
    int found = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(reply, type), i, a)
    {
        const char *aid = cli_str(a, key, "");
        if (strlen(aid) == SES_ID_TEXT_LEN && strncasecmp(aid, arg, n) == 0) {
            if (found++ == 0)
                snprintf(out, E2E_ID_LEN, "%s", aid);
        }
    }
    json_decref(reply);
    if (found == 0)
        return cli_usage_error(NULL, "no %s of yours starts with '%s'", noun, arg);
    if (found > 1)
        return cli_usage_error(NULL, "'%s' matches %d %ss; give more characters", arg, found, noun);
    return 0;
}

int e2e_resolve_alert(struct e2e *x, const char *arg, char out[E2E_ID_LEN])
{
    return e2e_resolve_listed(x, arg, "alerts", "alert", "an alert", out);
}
