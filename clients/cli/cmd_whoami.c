/*
 * cmd_whoami.c - `sesame whoami`: log in with the profile and show what the server knows about
 * this device (user, role, name, site, device name).
 */
#include <stdio.h>

#include "cli.h"

#define WHOAMI_USAGE "sesame whoami"

int cmd_whoami(struct cli *cli)
{
    struct ses_profile p;
    struct ses_conn *conn = NULL;
    json_t *reply = NULL;
    int rc, status;

    rc = cli_parse_opts(cli->argc, cli->argv, NULL, 0, WHOAMI_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if ((status = cli_open_session(cli, &p, &conn)) != 0)
        return status;

    json_t *req = json_pack("{s:s}", "t", "whoami");
    rc = ses_conn_request(conn, req, cli->timeout_ms, &reply);
    if (rc != 0) {
        status = cli_fail(cli, conn, rc, reply, "whoami");
    } else if (cli->json) {
        cli_print_json(reply);
        status = CLI_OK;
    } else {
        printf("user:        %s\n", cli_str(reply, "user", "-"));
        printf("device:      %s\n", cli_str(reply, "device", "-"));
        printf("role:        %s\n", cli_str(reply, "role", "-"));
        printf("name:        %s\n", cli_str(reply, "name", "-"));
        printf("site:        %s\n", cli_str(reply, "site", "-"));
        printf("device name: %s\n", cli_str(reply, "device_name", "-"));
        printf("server:      %s\n", p.server);
        status = CLI_OK;
    }
    if (status == CLI_OK)
        json_decref(reply);
    ses_conn_free(conn);
    ses_profile_wipe(&p);
    return status;
}
