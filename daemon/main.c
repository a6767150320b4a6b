/*
 * main.c - sesamed's command line: `init` and `serve`. Thin: parse, then hand over to daemon.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "daemon.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage:\n"
            "  sesamed init --data DIR [--json] [--admin-name NAME]\n"
            "      create a data directory and print the first admin's enrolment code\n"
            "  sesamed log-key --data DIR [--new]\n"
            "      print the audit log's verifier key, for auditors to pin; --new creates a\n"
            "      new key where the old one was lost (recorded in the audit log)\n"
            "  sesamed check --data DIR\n"
            "      run the start-up self-check offline and say what is wrong, naming the file\n"
            "  sesamed serve --data DIR [--listen HOST:PORT] [--cert FILE] [--key FILE]\n"
            "                [--ready-file FILE] [--log-level LEVEL] [--preauth-timeout S]\n"
            "                [--max-conns-per-ip N] [--checkpoint-every N]\n"
            "                [--checkpoint-interval S] [--audit-retention-days D]\n"
            "                [--web-root DIR]%s\n"
            "      serve wss://HOST:PORT (default 127.0.0.1:8443); options also come from\n"
            "      DIR/sesamed.conf (key = value); flags override the file\n",
#ifdef SESAME_TEST_HOOKS
            " [--test-hooks]"
#else
            ""
#endif
    );
}

/* "--ready-file" -> "ready_file" */
static void flag_to_name(char *out, size_t cap, const char *flag)
{
    snprintf(out, cap, "%s", flag + 2);
    for (char *p = out; *p; p++)
        if (*p == '-')
            *p = '_';
}

static int cmd_init(int argc, char **argv)
{
    const char *data = NULL, *admin_name = "Administrator";
    bool json = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            json = true;
        else if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[++i];
        else if (strcmp(argv[i], "--admin-name") == 0 && i + 1 < argc)
            admin_name = argv[++i];
        else {
            fprintf(stderr, "sesamed init: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (data == NULL) {
        fprintf(stderr, "sesamed init: --data DIR is required\n");
        return 2;
    }
    return ses_daemon_init_data(data, json, admin_name);
}

static int cmd_serve(int argc, char **argv)
{
    struct ses_config cfg;
    char name[64], err[1024], conf[SES_PATH_MAX + 32];
    const char *data = NULL;
    ses_config_defaults(&cfg);
    /* the data directory first: its config file comes before the other flags */
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--data") == 0 && i + 1 < argc)
            data = argv[i + 1];
    if (data == NULL) {
        fprintf(stderr, "sesamed serve: --data DIR is required\n");
        return 2;
    }
    snprintf(cfg.data, sizeof cfg.data, "%s", data);
    snprintf(conf, sizeof conf, "%s/%s", data, SES_CONF_FILE);
    if (access(conf, F_OK) != 0 && errno == ENOENT)
        fprintf(stderr, "sesamed: notice: %s not found: running on the defaults and the flags\n",
                conf);
    if (ses_config_load_file(&cfg, conf, true, err, sizeof err) != 0) {
        fprintf(stderr, "sesamed: %s\n", err);
        return 2;
    }
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--data") == 0) {
            i++;
            continue;
        }
        if (strncmp(argv[i], "--", 2) != 0 || strlen(argv[i]) >= sizeof name) {
            fprintf(stderr, "sesamed serve: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
        flag_to_name(name, sizeof name, argv[i]);
        const char *value = "true";
        if (!ses_config_is_flag(name)) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sesamed serve: %s needs a value\n", argv[i]);
                return 2;
            }
            value = argv[++i];
        }
#ifndef SESAME_TEST_HOOKS
        if (strcmp(name, "test_hooks") == 0) {
            fprintf(stderr, "sesamed serve: this build has no test hooks\n");
            return 2;
        }
#endif
        if (ses_config_set(&cfg, name, value, NULL, err, sizeof err) != 0) {
            fprintf(stderr, "sesamed serve: %s\n", err);
            return 2;
        }
    }
    if (ses_config_check(&cfg, err, sizeof err) != 0) {
        fprintf(stderr, "sesamed serve: %s\n", err);
        return 2;
    }
    return ses_daemon_serve(&cfg);
}

int main(int argc, char **argv)
{
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core); /* key material must not end up in core files */
    signal(SIGPIPE, SIG_IGN);
    if (sodium_init() < 0) {
        fprintf(stderr, "sesamed: libsodium failed to initialise\n");
        return 1;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "init") == 0)
        return cmd_init(argc - 2, argv + 2);
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc - 2, argv + 2);
    if (strcmp(argv[1], "log-key") == 0) {
        bool fresh = argc == 5 && strcmp(argv[4], "--new") == 0;
        if ((argc != 4 && !fresh) || strcmp(argv[2], "--data") != 0) {
            fprintf(stderr, "usage: sesamed log-key --data DIR [--new]\n");
            return 2;
        }
        return fresh ? ses_daemon_new_log_key(argv[3]) : ses_daemon_print_log_key(argv[3]);
    }
    if (strcmp(argv[1], "check") == 0) {
        if (argc != 4 || strcmp(argv[2], "--data") != 0) {
            fprintf(stderr, "usage: sesamed check --data DIR\n");
            return 2;
        }
        return ses_daemon_check(argv[3]);
    }
    fprintf(stderr, "sesamed: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
