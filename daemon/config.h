/*
 * config.h - sesamed's options. One table drives both the config file (DIR/sesamed.conf,
 * "key = value" lines, '#' comments) and the command-line flags (--key value, '_' written '-');
 * flags override the file. Errors name the file, the line and the option.
 */
#ifndef SESAME_CONFIG_H
#define SESAME_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "bizcal.h"
#include "log.h"

#define SES_CONF_FILE "sesamed.conf"
#define SES_PATH_MAX 4096
#define SES_CONF_MAX_BACKUPS 64   /* `backup` lines */
#define SES_CONF_MAX_ORIGINS 8    /* `allowed_origin` lines */
#define SES_CONF_MAX_OVERRIDES 64 /* `alert_window` and `alert_chain` lines */
#define SES_CONF_CHAIN_MAX 4      /* steps of an overridden escalation chain */
#define SES_CONF_TEXT_MAX 160     /* bytes of `emergency_routes` */

/* A site's override of one alert type's acknowledgement window or escalation chain. */
struct ses_alert_override {
    char code[8];        /* "A01" */
    char variant[24];    /* "" = every variant of the type */
    long long window_ms; /* > 0 when this line sets the window */
    bool has_chain;
    unsigned chain[SES_CONF_CHAIN_MAX + 1]; /* party masks (sesame/alerts.h), 0-terminated */
};

struct ses_config {
    char data[SES_PATH_MAX];       /* data directory (required) */
    char listen_host[256];         /* default 127.0.0.1 */
    int listen_port;               /* 0..65535; 0 = any free port; default 8443 */
    char cert[SES_PATH_MAX];       /* TLS certificate chain (PEM) */
    char key[SES_PATH_MAX];        /* TLS private key (PEM), mode 0600 recommended */
    char ready_file[SES_PATH_MAX]; /* written with port= and pid= once listening; "" = none */
    char web_root[SES_PATH_MAX];   /* the web client's files, served over HTTPS; "" = none */
    enum ses_log_level log_level;  /* default notice */
    int preauth_timeout_s;         /* 1..60; default SES_PREAUTH_TIMEOUT_S */
    int max_conns;                 /* 1..1000000; default 10000 (within the fd limit) */
    int max_conns_per_ip;          /* 1..100000; default 256 */
    int max_unauth;                /* not logged in, in all: 1..65535; default 1024 */
    int max_unauth_per_ip;         /* not logged in, per address: 1..65535; default 32 */
    bool test_hooks;               /* accept test_clock frames (only in SESAME_TEST_HOOKS builds) */
    int checkpoint_every;          /* sign a checkpoint after this many records; default 256 */
    int checkpoint_interval_s;     /* ... or this many seconds if the log grew; default 60 */
    int audit_retention_days;      /* prune record bytes older than this; 0 = keep (default) */
    int test_clock_offset_s;       /* start with the clock moved forward (test_hooks only) */
    /* alerts (PROTOCOL.md §13): ids are 16-byte user ids; all-zero = not set */
    unsigned char program_lead[16];
    unsigned char on_duty_psychiatrist[16];
    struct {
        unsigned char user[16], backup[16];
    } backups[SES_CONF_MAX_BACKUPS];
    int n_backups;
    char origins[SES_CONF_MAX_ORIGINS][256]; /* allowed_origin: browser origins besides our own */
    int n_origins;
    char emergency_routes[SES_CONF_TEXT_MAX + 1]; /* "" = none configured */
    struct ses_alert_override overrides[SES_CONF_MAX_OVERRIDES];
    int n_overrides;
    /* the site's business calendar (recommendation deadlines, PROTOCOL.md §16) */
    struct ses_bizcal biz;
};

/* Fills cfg with the defaults. */
void ses_config_defaults(struct ses_config *cfg);

/* Applies one option by name (file spelling, e.g. "listen", "log_level"). Returns 0, or -1 with a
 * message in err (err_len bytes). base_dir, if not NULL, resolves relative paths. */
int ses_config_set(struct ses_config *cfg, const char *name, const char *value,
                   const char *base_dir, char *err, size_t err_len);

/* Reads a config file. A missing file is not an error when optional is true. Returns 0, or -1 with
 * "FILE:LINE: message" in err. */
int ses_config_load_file(struct ses_config *cfg, const char *path, bool optional, char *err,
                         size_t err_len);

/* Whether an option name is a boolean flag (takes no value on the command line). */
bool ses_config_is_flag(const char *name);

/* Cross-field checks before serving (cert and key set, ...). Returns 0 or -1 with err. */
int ses_config_check(const struct ses_config *cfg, char *err, size_t err_len);

/* The commented default config file written by `sesamed init`. Static string. */
const char *ses_config_template(void);

#endif
