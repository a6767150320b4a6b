/*
 * cmd_enroll.c - `sesame enroll`: generate this device's keys, enrol them with an enrolment code,
 * save the profile, then log in on a new connection to prove the keys work.
 *
 * Order matters: the CA copy and keys.json are written before the code is spent (so an enrolled
 * device can never lose its keys to a full disk), profile.json - the "enrolled" marker - after
 * the server said `enrolled`. A failed enrolment removes what it wrote.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#define ENROLL_USAGE                                                                               \
    "sesame enroll --server wss://HOST:PORT --ca FILE --code CODE [--name DEVICE_NAME]"

/* Fills the identity fields of p from an `enrolled` reply. Returns 0 or SES_EBAD_FIELD. */
static int take_identity(struct ses_profile *p, const json_t *r)
{
    const char *user = cli_str(r, "user", NULL), *device = cli_str(r, "device", NULL);
    const char *role = cli_str(r, "role", NULL), *name = cli_str(r, "name", NULL);
    const char *site = cli_str(r, "site", "");
    if (user == NULL || device == NULL || role == NULL || name == NULL ||
        ses_id_from_text(p->user_id, user) != 0 || ses_id_from_text(p->device_id, device) != 0 ||
        strlen(role) >= sizeof p->role || strlen(name) >= sizeof p->name ||
        strlen(site) >= sizeof p->site)
        return SES_EBAD_FIELD;
    strcpy(p->role, role);
    strcpy(p->name, name);
    strcpy(p->site, site);
    return 0;
}

/* Undoes the files a failed enrolment wrote, and the folder if this command created it. */
static void undo(const struct ses_profile *p, int created_home)
{
    (void)ses_profile_remove(p);
    if (created_home)
        (void)rmdir(p->home);
}

static void print_human(const struct ses_profile *p)
{
    char uid[SES_ID_TEXT_LEN + 1], did[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(uid, p->user_id);
    ses_id_to_text(did, p->device_id);
    printf("Enrolled and logged in.\n");
    printf("  user:    %s\n", uid);
    printf("  device:  %s\n", did);
    printf("  role:    %s\n", p->role);
    printf("  name:    %s\n", p->name);
    printf("  site:    %s\n", p->site[0] ? p->site : "-");
    printf("  server:  %s\n", p->server);
    printf("  profile: %s\n", p->home);
}

int cmd_enroll(struct cli *cli)
{
    const char *server = NULL, *ca = NULL, *code = NULL, *dev_name = NULL;
    const struct cli_opt opts[] = {
        {"server", &server}, {"ca", &ca}, {"code", &code}, {"name", &dev_name}};
    struct ses_profile p;
    struct ses_conn *conn = NULL;
    json_t *reply = NULL;
    char home[4096], err[300];
    struct stat st;
    int rc, status;

    rc = cli_parse_opts(cli->argc, cli->argv, opts, sizeof opts / sizeof opts[0], ENROLL_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (server == NULL || ca == NULL || code == NULL)
        return cli_usage_error(ENROLL_USAGE, "enroll needs --server, --ca and --code");
    if (strlen(server) >= sizeof p.server)
        return cli_usage_error(ENROLL_USAGE, "--server is too long");
    if (ses_profile_home(home, sizeof home, cli->home_opt) != 0)
        return cli_error(CLI_ELOCAL, "cannot find the profile folder (use --home DIR)");

    rc = ses_profile_load(home, &p);
    if (rc == 0) {
        char uid[SES_ID_TEXT_LEN + 1];
        ses_id_to_text(uid, p.user_id);
        ses_profile_wipe(&p);
        return cli_error(CLI_EUSAGE,
                         "%s already holds an enrolled profile (user %s); use another --home", home,
                         uid);
    }
    if (rc != SES_ENOT_FOUND) {
        ses_profile_wipe(&p);
        return cli_error(CLI_ELOCAL, "cannot read the existing profile in %s; not touching it",
                         home);
    }
    /* p: zeroed, with home and ca_file set */
    snprintf(p.server, sizeof p.server, "%s", server);

    FILE *f = fopen(ca, "r");
    if (f == NULL)
        return cli_error(CLI_ELOCAL, "cannot read the CA file %s: %s", ca, strerror(errno));
    fclose(f);

    int created_home = stat(home, &st) != 0;
    if (ses_profile_copy_ca(&p, ca) != 0) {
        undo(&p, created_home);
        return cli_error(CLI_ELOCAL, "cannot write %s", p.ca_file);
    }
    ses_keys_generate(&p.keys);
    if (ses_profile_save_keys(&p) != 0) {
        undo(&p, created_home);
        ses_profile_wipe(&p);
        return cli_error(CLI_ELOCAL, "cannot write the keys into %s", home);
    }

    /* connect with the pinned copy: the very file later logins will use */
    rc = ses_conn_open_ex(server, p.ca_file, cli->timeout_ms, &conn, err, sizeof err);
    if (rc != 0) {
        undo(&p, created_home);
        ses_profile_wipe(&p);
        if (rc == SES_EINVALID_ARG)
            return cli_usage_error(ENROLL_USAGE, "bad --server URL '%s' (expected wss://HOST:PORT)",
                                   server);
        return cli_error(CLI_ECONN, "%s: cannot connect to %s: %s", ses_err_name(rc), server, err);
    }
    ses_conn_set_timeout(conn, cli->timeout_ms);
    rc = ses_conn_enroll(conn, code, &p.keys, dev_name, &reply);
    if (rc != 0) {
        status = cli_fail(cli, conn, rc, reply, "enroll");
        ses_conn_free(conn);
        undo(&p, created_home);
        ses_profile_wipe(&p);
        return status;
    }
    ses_conn_free(conn);
    conn = NULL;

    if (take_identity(&p, reply) != 0) {
        json_decref(reply);
        undo(&p, created_home);
        ses_profile_wipe(&p);
        return cli_error(CLI_ECONN, "the server's enrolled reply is malformed");
    }
    if (ses_profile_save(&p) != 0) {
        status = cli_error(CLI_ELOCAL,
                           "enrolled as user %s device %s, but cannot write %s/profile.json "
                           "(keys.json is in place)",
                           cli_str(reply, "user", "?"), cli_str(reply, "device", "?"), home);
        json_decref(reply);
        ses_profile_wipe(&p);
        return status;
    }

    /* the server closed the enrolment connection: log in on a new one */
    json_t *auth = NULL;
    rc = ses_conn_open_ex(p.server, p.ca_file, cli->timeout_ms, &conn, err, sizeof err);
    if (rc != 0) {
        status = cli_error(CLI_ECONN, "%s: enrolled (profile saved), but cannot connect again: %s",
                           ses_err_name(rc), err);
        goto out;
    }
    ses_conn_set_timeout(conn, cli->timeout_ms);
    rc = ses_conn_login(conn, p.device_id, &p.keys, &auth);
    if (rc != 0) {
        fprintf(stderr, "sesame: enrolled (profile saved), but the first login failed\n");
        status = cli_fail(cli, conn, rc, auth, "login");
        goto out;
    }
    json_decref(auth);

    if (cli->json) {
        json_object_set_new(reply, "server", json_string(p.server));
        cli_print_json(reply);
    } else {
        print_human(&p);
    }
    status = CLI_OK;
out:
    ses_conn_free(conn);
    json_decref(reply);
    ses_profile_wipe(&p);
    return status;
}
