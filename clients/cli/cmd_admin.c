/*
 * cmd_admin.c - `sesame admin ...`: the administrator's commands (invite, users, devices,
 * revoke; oncall and backup are in cmd_oncall.c). Each logs in with the profile, sends one request
 * and prints the reply; the server decides who may do what (DENIED for other roles).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define INVITE_USAGE                                                                               \
    "sesame admin invite --role ROLE --name NAME [--site SITE] [--ttl SECONDS]\n"                  \
    "       sesame admin invite --user USER_ID [--ttl SECONDS]"
#define USERS_USAGE "sesame admin users"
#define DEVICES_USAGE "sesame admin devices [--user USER_ID]"
#define REVOKE_USAGE "sesame admin revoke --device DEVICE_ID | --user USER_ID"
#define ADMIN_USAGE "sesame admin invite|users|devices|revoke|oncall|backup [OPTIONS]"

/* Logs in, sends req (owned), and on success hands the reply to print (human mode) or prints it
 * as JSON. Returns the exit status. */
static int run_request(struct cli *cli, json_t *req, const char *what,
                       void (*print)(const struct cli *cli, const struct ses_profile *p,
                                     json_t *reply))
{
    struct ses_profile p;
    struct ses_conn *conn = NULL;
    json_t *reply = NULL;
    int status;

    if (req == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    if ((status = cli_open_session(cli, &p, &conn)) != 0) {
        json_decref(req);
        return status;
    }
    int rc = ses_conn_request(conn, req, cli->timeout_ms, &reply);
    if (rc != 0) {
        status = cli_fail(cli, conn, rc, reply, what);
    } else {
        if (cli->json)
            cli_print_json(reply);
        else
            print(cli, &p, reply);
        json_decref(reply);
        status = CLI_OK;
    }
    ses_conn_free(conn);
    ses_profile_wipe(&p);
    return status;
}

/* --- invite --- */

static void print_invited(const struct cli *cli, const struct ses_profile *p, json_t *r)
{
    char expires[40], server_q[1100];
    const char *code = cli_str(r, "code", "?");
    const char *site = cli_str(r, "site", NULL);
    (void)cli;
    cli_fmt_time(expires, sizeof expires, json_object_get(r, "expires"));
    cli_shell_quote(server_q, sizeof server_q, p->server);
    printf("Enrolment code for %s (%s%s%s)\n", cli_str(r, "name", "?"), cli_str(r, "role", "?"),
           site ? ", site " : "", site ? site : "");
    printf("  code:    %s\n", code);
    printf("  user:    %s\n", cli_str(r, "user", "?"));
    printf("  expires: %s\n", expires);
    printf("The invitee runs (CA_FILE: the server's CA certificate, handed over with the code):\n");
    printf("  sesame enroll --server %s --ca CA_FILE --code %s\n", server_q, code);
}

/* Parses a positive integer option. Returns 0 or -1. */
static int parse_ttl(const char *s, json_int_t *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0)
        return -1;
    *out = (json_int_t)v;
    return 0;
}

static int admin_invite(struct cli *cli)
{
    const char *role = NULL, *name = NULL, *site = NULL, *ttl = NULL, *user = NULL;
    const struct cli_opt opts[] = {
        {"role", &role}, {"name", &name}, {"site", &site}, {"ttl", &ttl}, {"user", &user}};
    json_int_t ttl_s = 0;

    int rc = cli_parse_opts(cli->argc, cli->argv, opts, sizeof opts / sizeof opts[0], INVITE_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (user != NULL && (role != NULL || name != NULL || site != NULL))
        return cli_usage_error(INVITE_USAGE, "--user cannot be combined with --role/--name/--site");
    if (user == NULL && (role == NULL || name == NULL))
        return cli_usage_error(INVITE_USAGE, "invite needs --role and --name (or --user)");
    if (ttl != NULL && parse_ttl(ttl, &ttl_s) != 0)
        return cli_usage_error(INVITE_USAGE, "--ttl needs a number of seconds");

    json_t *req = json_pack("{s:s}", "t", "invite");
    if (req == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    int bad = 0;
    if (user != NULL) {
        bad |= json_object_set_new(req, "user", json_string(user));
    } else {
        bad |= json_object_set_new(req, "role", json_string(role));
        bad |= json_object_set_new(req, "name", json_string(name));
        if (site != NULL)
            bad |= json_object_set_new(req, "site", json_string(site));
    }
    if (ttl != NULL)
        bad |= json_object_set_new(req, "ttl", json_integer(ttl_s));
    if (bad) {
        json_decref(req);
        return cli_usage_error(INVITE_USAGE, "values must be valid UTF-8 text");
    }
    return run_request(cli, req, "invite", print_invited);
}

/* --- device link (any role, for the caller's own user; PROTOCOL.md §7) --- */

#define LINK_USAGE "sesame device link [--ttl SECONDS]"

static void print_link(const struct cli *cli, const struct ses_profile *p, json_t *r)
{
    char expires[40], server_q[1100];
    const char *code = cli_str(r, "code", "?");
    (void)cli;
    cli_fmt_time(expires, sizeof expires, json_object_get(r, "expires"));
    cli_shell_quote(server_q, sizeof server_q, p->server);
    printf("Code for a new device of your own user (single use)\n");
    printf("  code:    %s\n", code);
    printf("  expires: %s\n", expires);
    printf("On the new device (CA_FILE: the server's CA certificate):\n");
    printf("  sesame enroll --server %s --ca CA_FILE --code %s\n", server_q, code);
    printf("Then, to let it read the earlier messages, compare its `sesame device fingerprint`\n"
           "and run here: sesame device share-history NEW_DEVICE_ID --yes\n");
}

int cmd_device_link(struct cli *cli)
{
    const char *ttl = NULL;
    const struct cli_opt opts[] = {{"ttl", &ttl}};
    json_int_t ttl_s = 0;
    int rc = cli_parse_opts(cli->argc, cli->argv, opts, 1, LINK_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (ttl != NULL && parse_ttl(ttl, &ttl_s) != 0)
        return cli_usage_error(LINK_USAGE, "--ttl needs a number of seconds");
    json_t *req = json_pack("{s:s}", "t", "device_link");
    if (req == NULL || (ttl != NULL && json_object_set_new(req, "ttl", json_integer(ttl_s)) != 0)) {
        json_decref(req);
        return cli_error(CLI_ELOCAL, "out of memory");
    }
    return run_request(cli, req, "device link", print_link);
}

/* --- users --- */

static void print_users(const struct cli *cli, const struct ses_profile *p, json_t *r)
{
    static const char *const header[] = {"USER", "ROLE", "NAME", "SITE", "STATE", "DEVICES"};
    struct cli_table t;
    const json_t *users = json_object_get(r, "users");
    size_t i;
    json_t *u;
    (void)cli;
    (void)p;
    if (cli_table_init(&t, 6, header) != 0)
        return;
    json_array_foreach(users, i, u)
    {
        char devices[32];
        const json_t *d = json_object_get(u, "devices");
        snprintf(devices, sizeof devices, "%lld",
                 json_is_integer(d) ? (long long)json_integer_value(d) : 0LL);
        const char *row[] = {cli_str(u, "user", "-"),  cli_str(u, "role", "-"),
                             cli_str(u, "name", "-"),  cli_str(u, "site", "-"),
                             cli_str(u, "state", "-"), devices};
        if (cli_table_add(&t, row) != 0)
            break;
    }
    cli_table_print(&t);
    cli_table_free(&t);
}

static int admin_users(struct cli *cli)
{
    int rc = cli_parse_opts(cli->argc, cli->argv, NULL, 0, USERS_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    return run_request(cli, json_pack("{s:s}", "t", "users"), "users", print_users);
}

/* --- devices --- */

static void print_devices(const struct cli *cli, const struct ses_profile *p, json_t *r)
{
    static const char *const header[] = {"DEVICE", "USER",    "NAME",
                                         "STATE",  "CREATED", "LAST LOGIN"};
    struct cli_table t;
    const json_t *devices = json_object_get(r, "devices");
    size_t i;
    json_t *d;
    (void)cli;
    (void)p;
    if (cli_table_init(&t, 6, header) != 0)
        return;
    json_array_foreach(devices, i, d)
    {
        char created[40], last[40];
        cli_fmt_time(created, sizeof created, json_object_get(d, "created"));
        cli_fmt_time(last, sizeof last, json_object_get(d, "last_login"));
        const char *row[] = {cli_str(d, "device", "-"),
                             cli_str(d, "user", "-"),
                             cli_str(d, "name", "-"),
                             cli_str(d, "state", "-"),
                             created,
                             last};
        if (cli_table_add(&t, row) != 0)
            break;
    }
    cli_table_print(&t);
    cli_table_free(&t);
}

static int admin_devices(struct cli *cli)
{
    const char *user = NULL;
    const struct cli_opt opts[] = {{"user", &user}};
    int rc = cli_parse_opts(cli->argc, cli->argv, opts, 1, DEVICES_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    json_t *req = json_pack("{s:s}", "t", "devices");
    if (req != NULL && user != NULL && json_object_set_new(req, "user", json_string(user)) != 0) {
        json_decref(req);
        return cli_usage_error(DEVICES_USAGE, "--user must be valid UTF-8 text");
    }
    return run_request(cli, req, "devices", print_devices);
}

/* --- revoke --- */

static void print_revoked(const struct cli *cli, const struct ses_profile *p, json_t *r)
{
    const json_t *n = json_object_get(r, "sessions_closed");
    const char *dev = cli_str(r, "device", NULL);
    (void)cli;
    (void)p;
    if (dev != NULL)
        printf("Revoked device %s", dev);
    else
        printf("Revoked user %s and all their devices", cli_str(r, "user", "?"));
    printf("; %lld open session(s) closed.\n",
           json_is_integer(n) ? (long long)json_integer_value(n) : 0LL);
}

static int admin_revoke(struct cli *cli)
{
    const char *device = NULL, *user = NULL;
    const struct cli_opt opts[] = {{"device", &device}, {"user", &user}};
    int rc = cli_parse_opts(cli->argc, cli->argv, opts, 2, REVOKE_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if ((device == NULL) == (user == NULL))
        return cli_usage_error(REVOKE_USAGE, "revoke needs exactly one of --device and --user");
    json_t *req = json_pack("{s:s}", "t", "revoke");
    if (req != NULL && json_object_set_new(req, device ? "device" : "user",
                                           json_string(device ? device : user)) != 0) {
        json_decref(req);
        return cli_usage_error(REVOKE_USAGE, "the id must be valid UTF-8 text");
    }
    return run_request(cli, req, "revoke", print_revoked);
}

int cmd_admin(struct cli *cli)
{
    static const struct cli_sub subs[] = {
        {"invite", admin_invite}, {"users", admin_users},       {"devices", admin_devices},
        {"revoke", admin_revoke}, {"oncall", cmd_admin_oncall}, {"backup", cmd_admin_backup}};
    return cli_dispatch(cli, "admin", ADMIN_USAGE, subs, sizeof subs / sizeof subs[0]);
}
