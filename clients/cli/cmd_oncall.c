/*
 * cmd_oncall.c - who the safety pathway pages when an alert's first owners do not answer
 * (PROTOCOL.md §13): `sesame admin oncall show`, `sesame admin oncall set` (the on-duty
 * psychiatrist and the program lead), `sesame admin backup set` (a clinician's backup), and the
 * plain-words warnings the server gives when either role is unset (also under `alert list`).
 * The server stores and audits the settings (oncall.set, backup.set); only an admin may change
 * them, clinicians may read them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "e2e.h"

#define ONCALL_USAGE "sesame admin oncall show|set [OPTIONS]"
#define ONCALL_SHOW_USAGE "sesame admin oncall show"
#define ONCALL_SET_USAGE                                                                           \
    "sesame admin oncall set [--on-duty-psychiatrist USER_ID|none] [--program-lead USER_ID|none]"
#define BACKUP_USAGE "sesame admin backup set USER_ID BACKUP_ID|none"

/* The plain words and the fix for a warning code of an `alerts` or `oncall` reply. */
static const char *warning_text(const char *code)
{
    if (strcmp(code, "NO_ON_DUTY_PSYCHIATRIST") == 0)
        return "no on-duty psychiatrist is set: escalations that need one go to the thread's "
               "psychiatrists only; ask an admin to run `sesame admin oncall set "
               "--on-duty-psychiatrist ID`";
    if (strcmp(code, "NO_PROGRAM_LEAD") == 0)
        return "no program lead is set: the last step of the escalation chains and the "
               "re-notifications of unacknowledged alerts reach nobody there; ask an admin to run "
               "`sesame admin oncall set --program-lead ID`";
    return NULL;
}

void cli_oncall_warnings(const json_t *warnings)
{
    size_t i;
    json_t *w;
    json_array_foreach(warnings, i, w)
    {
        const char *code = json_is_string(w) ? json_string_value(w) : "?";
        const char *text = warning_text(code);
        if (text != NULL)
            e2e_warn("%s", text);
        else
            e2e_warn("the server warns: %s", code);
    }
}

/* "Hugo Roux (psychiatrist) ABCDEFGH…" for a user id, "none" for null. */
static void person(struct e2e *x, const json_t *id, char *out, size_t cap)
{
    if (!json_is_string(id)) {
        snprintf(out, cap, "none");
        return;
    }
    char name[SES_MAX_NAME_LEN + 1], role[16];
    e2e_user_label(x, NULL, json_string_value(id), name, sizeof name, role, sizeof role);
    char *flat = e2e_flatten(name);
    snprintf(out, cap, "%s (%s) %s", flat ? flat : "?", role, json_string_value(id));
    free(flat);
}

static void print_oncall(struct e2e *x, const json_t *reply)
{
    char a[512], b[512];
    person(x, json_object_get(reply, "on_duty_psychiatrist"), a, sizeof a);
    printf("on-duty psychiatrist  %s\n", a);
    person(x, json_object_get(reply, "program_lead"), a, sizeof a);
    printf("program lead          %s\n", a);
    const json_t *backups = json_object_get(reply, "backups");
    if (json_array_size(backups) == 0)
        printf("backups               none\n");
    size_t i;
    json_t *bk;
    json_array_foreach(backups, i, bk)
    {
        person(x, json_object_get(bk, "user"), a, sizeof a);
        person(x, json_object_get(bk, "backup"), b, sizeof b);
        printf("%s  %s -> backup %s\n", i == 0 ? "backups             " : "                    ", a,
               b);
    }
    printf("emergency routes      ");
    if (json_is_string(json_object_get(reply, "emergency")))
        e2e_print_safe(stdout, cli_str(reply, "emergency", ""), "                      ");
    else
        printf("none configured: a P0 alert tells to phone the on-duty psychiatrist or the "
               "emergency services");
    fputc('\n', stdout);
    json_array_foreach(json_object_get(reply, "warnings"), i, bk)
    {
        const char *code = json_is_string(bk) ? json_string_value(bk) : "?";
        const char *text = warning_text(code);
        printf("warning: %s\n", text ? text : code);
    }
}

/* A USER_ID argument, or "none" (JSON null). NULL when it is not valid text. */
static json_t *id_or_none(const char *arg)
{
    return strcmp(arg, "none") == 0 ? json_null() : json_string(arg);
}

static int oncall_show(struct cli *cli)
{
    int n_pos = 0;
    int rc = e2e_args(cli->argc, cli->argv, NULL, 0, ONCALL_SHOW_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    return e2e_run(cli, json_pack("{s:s}", "t", "oncall_show"), NULL, "oncall_show", print_oncall);
}

static int oncall_set(struct cli *cli)
{
    const char *duty = NULL, *lead = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"on-duty-psychiatrist", &duty, NULL, NULL, 0},
                                   {"program-lead", &lead, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 2, ONCALL_SET_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (duty == NULL && lead == NULL)
        return cli_usage_error(ONCALL_SET_USAGE,
                               "oncall set needs --on-duty-psychiatrist or --program-lead");
    json_t *req = json_pack("{s:s}", "t", "oncall_set");
    json_t *d = duty ? id_or_none(duty) : NULL, *l = lead ? id_or_none(lead) : NULL;
    if (req == NULL || (duty && d == NULL) || (lead && l == NULL)) {
        json_decref(req);
        json_decref(d);
        json_decref(l);
        return cli_usage_error(ONCALL_SET_USAGE, "the ids must be valid UTF-8 text");
    }
    if (d != NULL)
        json_object_set_new(req, "on_duty_psychiatrist", d);
    if (l != NULL)
        json_object_set_new(req, "program_lead", l);
    return e2e_run(cli, req, NULL, "oncall_set", print_oncall);
}

int cmd_admin_oncall(struct cli *cli)
{
    static const struct cli_sub subs[] = {{"show", oncall_show}, {"set", oncall_set}};
    return cli_dispatch(cli, "admin oncall", ONCALL_USAGE, subs, sizeof subs / sizeof subs[0]);
}

static int backup_set(struct cli *cli)
{
    const char *pos[2];
    int n_pos = 0;
    int rc = e2e_args(cli->argc, cli->argv, NULL, 0, BACKUP_USAGE, pos, 2, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos != 2)
        return cli_usage_error(BACKUP_USAGE,
                               "backup set needs a USER_ID and a BACKUP_ID (or none)");
    json_t *b = id_or_none(pos[1]);
    json_t *req = json_pack("{s:s, s:s}", "t", "backup_set", "user", pos[0]);
    if (req == NULL || b == NULL) {
        json_decref(req);
        json_decref(b);
        return cli_usage_error(BACKUP_USAGE, "the ids must be valid UTF-8 text");
    }
    json_object_set_new(req, "backup", b);
    return e2e_run(cli, req, NULL, "backup_set", print_oncall);
}

int cmd_admin_backup(struct cli *cli)
{
    static const struct cli_sub subs[] = {{"set", backup_set}};
    return cli_dispatch(cli, "admin backup", BACKUP_USAGE, subs, 1);
}
