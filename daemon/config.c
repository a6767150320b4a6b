/*
 * config.c - table-driven options for sesamed (config.h).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sesame/alerts.h"
#include "sesame/encode.h"
#include "sesame/limits.h"

#include "config.h"

enum opt_kind {
    OPT_LISTEN,
    OPT_PATH,
    OPT_LEVEL,
    OPT_INT,
    OPT_BOOL,
    OPT_USER,    /* a user id */
    OPT_BACKUP,  /* "USER_ID BACKUP_ID", repeatable */
    OPT_WINDOW,  /* "CODE[/VARIANT] DURATION", repeatable */
    OPT_CHAIN,   /* "CODE[/VARIANT] PARTY[+PARTY],...", repeatable */
    OPT_TEXT,    /* a line of text for people (no control characters) */
    OPT_HOURS,   /* business hours "HH:MM-HH:MM" */
    OPT_DAYS,    /* working ISO weekdays "12345" */
    OPT_HOLIDAY, /* a public holiday "YYYY-MM-DD", repeatable */
    OPT_ORIGIN,  /* a browser origin "https://host[:port]", repeatable */
};

struct opt {
    const char *name;
    enum opt_kind kind;
    size_t offset;
    long min, max; /* OPT_INT */
    const char *help;
};

#define OFF(f) offsetof(struct ses_config, f)
static const struct opt opts[] = {
    {"listen", OPT_LISTEN, 0, 0, 0, "HOST:PORT to listen on (port 0: any free port)"},
    {"cert", OPT_PATH, OFF(cert), 0, 0, "TLS certificate chain, PEM"},
    {"key", OPT_PATH, OFF(key), 0, 0, "TLS private key, PEM (mode 0600)"},
    {"ready_file", OPT_PATH, OFF(ready_file), 0, 0, "file written with port= and pid= when ready"},
    {"web_root", OPT_PATH, OFF(web_root), 0, 0,
     "folder of the web client (index.html), served on the WebSocket's origin"},
    {"log_level", OPT_LEVEL, OFF(log_level), 0, 0, "err, warn, notice, info or debug"},
    {"preauth_timeout", OPT_INT, OFF(preauth_timeout_s), 1, 60, "seconds allowed to log in"},
    {"max_conns", OPT_INT, OFF(max_conns), 1, 1000000,
     "concurrent connections in all (within the file descriptor limit)"},
    {"max_conns_per_ip", OPT_INT, OFF(max_conns_per_ip), 1, 100000,
     "concurrent connections per peer address"},
    {"max_unauth", OPT_INT, OFF(max_unauth), 1, 65535,
     "concurrent connections not logged in yet, in all"},
    {"max_unauth_per_ip", OPT_INT, OFF(max_unauth_per_ip), 1, 65535,
     "concurrent connections not logged in yet per peer address (logged-in ones never count)"},
    {"test_hooks", OPT_BOOL, OFF(test_hooks), 0, 0, "accept test_clock frames (test builds only)"},
    {"checkpoint_every", OPT_INT, OFF(checkpoint_every), 1, 1000000,
     "sign an audit checkpoint after this many records"},
    {"checkpoint_interval", OPT_INT, OFF(checkpoint_interval_s), 1, 86400,
     "sign an audit checkpoint this often (seconds) if the log grew"},
    {"audit_retention_days", OPT_INT, OFF(audit_retention_days), 0, 36500,
     "prune audit record bytes older than this many days (0 = keep)"},
    {"test_clock_offset", OPT_INT, OFF(test_clock_offset_s), 0, 3650 * 86400,
     "start with the clock this many seconds ahead (with test_hooks, test builds only)"},
    {"program_lead", OPT_USER, OFF(program_lead), 0, 0, "user id of the program lead"},
    {"on_duty_psychiatrist", OPT_USER, OFF(on_duty_psychiatrist), 0, 0,
     "user id of the on-duty psychiatrist (else each thread's psychiatrists)"},
    {"emergency_routes", OPT_TEXT, OFF(emergency_routes), 0, 0,
     "the site's emergency routes, shown with every P0 alert (e.g. \"SAMU 15 / 3114\")"},
    {"backup", OPT_BACKUP, 0, 0, 0, "USER_ID BACKUP_ID: who covers for a user (repeatable)"},
    {"alert_window", OPT_WINDOW, 0, 0, 0,
     "CODE[/VARIANT] DURATION (30m, 4h, 7d): acknowledgement window of an alert type"},
    {"alert_chain", OPT_CHAIN, 0, 0, 0,
     "CODE[/VARIANT] STEP,STEP,...: escalation chain (parties nurse, gp, psychiatrist, backup, "
     "on_duty, lead; join with + for one step)"},
    {"business_hours", OPT_HOURS, 0, 0, 0,
     "HH:MM-HH:MM: the site's opening hours (urgent recommendations are due in 1 business day)"},
    {"business_days", OPT_DAYS, 0, 0, 0, "working ISO weekdays, e.g. 12345 (Monday to Friday)"},
    {"holiday", OPT_HOLIDAY, 0, 0, 0, "YYYY-MM-DD: a public holiday (repeatable, at most 64)"},
    {"allowed_origin", OPT_ORIGIN, 0, 0, 0,
     "https://HOST[:PORT]: a web page origin allowed to open sessions besides the daemon's own "
     "(repeatable, at most 8)"},
};
#undef OFF

void ses_config_defaults(struct ses_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->listen_host, sizeof cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 8443;
    cfg->log_level = SES_LOG_NOTICE;
    ses_bizcal_defaults(&cfg->biz);
    cfg->preauth_timeout_s = SES_PREAUTH_TIMEOUT_S;
    cfg->max_conns = 10000;
    cfg->max_conns_per_ip = 256;
    cfg->max_unauth = 1024;
    cfg->max_unauth_per_ip = 32;
    cfg->checkpoint_every = 256;
    cfg->checkpoint_interval_s = 60;
    cfg->audit_retention_days = 0;
}

static const struct opt *find_opt(const char *name)
{
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

bool ses_config_is_flag(const char *name)
{
    const struct opt *o = find_opt(name);
    return o != NULL && o->kind == OPT_BOOL;
}

static int parse_listen(struct ses_config *cfg, const char *v, char *err, size_t err_len)
{
    const char *colon = strrchr(v, ':');
    char *end = NULL;
    if (colon == NULL || colon == v || (size_t)(colon - v) >= sizeof cfg->listen_host) {
        snprintf(err, err_len, "listen: expected HOST:PORT, got '%s'", v);
        return -1;
    }
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno != 0 || end == colon + 1 || *end != '\0' || port < 0 || port > 65535) {
        snprintf(err, err_len, "listen: port must be 0..65535, got '%s'", colon + 1);
        return -1;
    }
    const char *h = v;
    size_t hl = (size_t)(colon - v);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { /* [::1]:8443 */
        h++;
        hl -= 2;
    }
    char host[sizeof cfg->listen_host];
    unsigned char addr[16];
    memcpy(host, h, hl);
    host[hl] = '\0';
    if (inet_pton(AF_INET, host, addr) != 1 && inet_pton(AF_INET6, host, addr) != 1) {
        /* a name could stand for several addresses: the daemon binds exactly one */
        snprintf(err, err_len,
                 "listen: HOST must be an IPv4 or IPv6 address (0.0.0.0 or [::] for all), got "
                 "'%s'",
                 host);
        return -1;
    }
    memcpy(cfg->listen_host, host, hl + 1);
    cfg->listen_port = (int)port;
    return 0;
}

/* "CODE[/VARIANT]" at the start of v, checked against the catalogue; *rest after the spaces. */
static int parse_type_ref(const char *name, const char *v, struct ses_alert_override *o,
                          const char **rest, char *err, size_t err_len)
{
    size_t n = strcspn(v, " \t");
    char ref[40];
    if (n == 0 || n >= sizeof ref || v[n] == '\0') {
        snprintf(err, err_len, "%s: expected 'CODE[/VARIANT] VALUE', got '%s'", name, v);
        return -1;
    }
    memcpy(ref, v, n);
    ref[n] = '\0';
    char *slash = strchr(ref, '/');
    if (slash != NULL)
        *slash++ = '\0';
    if (strlen(ref) >= sizeof o->code || (slash && strlen(slash) >= sizeof o->variant) ||
        ses_alert_type_find(ref, slash) == NULL ||
        (slash && strcmp(ses_alert_type_find(ref, slash)->variant, slash) != 0)) {
        snprintf(err, err_len, "%s: unknown alert type '%s'", name, v);
        return -1;
    }
    memcpy(o->code, ref, strlen(ref) + 1); /* lengths checked above */
    if (slash != NULL)
        memcpy(o->variant, slash, strlen(slash) + 1);
    else
        o->variant[0] = '\0';
    v += n;
    while (*v == ' ' || *v == '\t')
        v++;
    *rest = v;
    return 0;
}

static const struct {
    const char *name;
    unsigned party;
} party_names[] = {
    {"nurse", SES_PARTY_NURSE},
    {"gp", SES_PARTY_GP},
    {"psychiatrist", SES_PARTY_PSYCHIATRIST},
    {"backup", SES_PARTY_BACKUP},
    {"on_duty", SES_PARTY_ON_DUTY},
    {"lead", SES_PARTY_LEAD},
};

static int parse_chain(const char *name, const char *v, unsigned chain[SES_CONF_CHAIN_MAX + 1],
                       char *err, size_t err_len)
{
    int steps = 0;
    memset(chain, 0, sizeof(unsigned) * (SES_CONF_CHAIN_MAX + 1));
    while (*v != '\0') {
        size_t n = strcspn(v, ",+");
        unsigned party = 0;
        for (size_t i = 0; i < sizeof party_names / sizeof party_names[0]; i++)
            if (strlen(party_names[i].name) == n && strncmp(party_names[i].name, v, n) == 0)
                party = party_names[i].party;
        if (party == 0 || steps >= SES_CONF_CHAIN_MAX) {
            snprintf(err, err_len,
                     "%s: expected up to %d steps of nurse, gp, psychiatrist, backup, "
                     "on_duty, lead (',' between steps, '+' within one)",
                     name, SES_CONF_CHAIN_MAX);
            return -1;
        }
        chain[steps] |= party;
        v += n;
        if (*v == ',')
            steps++;
        if (*v != '\0')
            v++;
    }
    return 0;
}

/* "30m", "4h", "7d" (1 minute .. 90 days). */
static int parse_duration(const char *name, const char *v, long long *ms, char *err, size_t err_len)
{
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10), unit = 0;
    if (end != NULL && end[0] != '\0' && end[1] == '\0')
        unit = end[0] == 'm' ? 60000LL : end[0] == 'h' ? 3600000LL : end[0] == 'd' ? 86400000LL : 0;
    /* divided, not multiplied: a huge count must not overflow (found by fuzz_config) */
    if (errno != 0 || end == v || unit == 0 || x < 1 || x > 90LL * 86400000LL / unit) {
        snprintf(err, err_len, "%s: expected a duration like 30m, 4h or 7d (at most 90d), got '%s'",
                 name, v);
        return -1;
    }
    *ms = x * unit;
    return 0;
}

static struct ses_alert_override *new_override(struct ses_config *cfg, const char *name, char *err,
                                               size_t err_len)
{
    if (cfg->n_overrides >= SES_CONF_MAX_OVERRIDES) {
        snprintf(err, err_len, "%s: at most %d alert_window and alert_chain lines", name,
                 SES_CONF_MAX_OVERRIDES);
        return NULL;
    }
    struct ses_alert_override *o = &cfg->overrides[cfg->n_overrides];
    memset(o, 0, sizeof *o);
    return o;
}

/* allowed_origin: "https://" and a host (letters, digits, '.', '-', '[', ']', ':' for a port or an
 * IPv6 address), no path, as browsers send it in Origin. */
static int parse_origin(struct ses_config *cfg, const char *name, const char *value, char *err,
                        size_t err_len)
{
    size_t n = strlen(value);
    bool ok = n > 8 && n < sizeof cfg->origins[0] && strncmp(value, "https://", 8) == 0;
    for (size_t i = 8; ok && i < n; i++)
        ok = isalnum((unsigned char)value[i]) || strchr(".-[]:", value[i]) != NULL;
    if (!ok) {
        snprintf(err, err_len, "%s: expected https://HOST[:PORT] (no path), got '%s'", name, value);
        return -1;
    }
    if (cfg->n_origins >= SES_CONF_MAX_ORIGINS) {
        snprintf(err, err_len, "%s: at most %d lines", name, SES_CONF_MAX_ORIGINS);
        return -1;
    }
    memcpy(cfg->origins[cfg->n_origins++], value, n + 1);
    return 0;
}

static int parse_alert_option(struct ses_config *cfg, const struct opt *o, const char *value,
                              char *err, size_t err_len)
{
    const char *rest = NULL;
    if (o->kind == OPT_BACKUP) {
        char a[64], b[64], extra[2];
        if (cfg->n_backups >= SES_CONF_MAX_BACKUPS) {
            snprintf(err, err_len, "%s: at most %d lines", o->name, SES_CONF_MAX_BACKUPS);
            return -1;
        }
        if (sscanf(value, "%63s %63s %1s", a, b, extra) != 2 || /* nothing after the two */
            ses_id_from_text(cfg->backups[cfg->n_backups].user, a) != 0 ||
            ses_id_from_text(cfg->backups[cfg->n_backups].backup, b) != 0 ||
            memcmp(cfg->backups[cfg->n_backups].user, cfg->backups[cfg->n_backups].backup,
                   sizeof cfg->backups[0].user) == 0) { /* ids are case-insensitive text */
            snprintf(err, err_len, "%s: expected 'USER_ID BACKUP_ID' (two different user ids)",
                     o->name);
            return -1;
        }
        cfg->n_backups++;
        return 0;
    }
    struct ses_alert_override *ov = new_override(cfg, o->name, err, err_len);
    if (ov == NULL || parse_type_ref(o->name, value, ov, &rest, err, err_len) != 0)
        return -1;
    if (o->kind == OPT_WINDOW) {
        if (parse_duration(o->name, rest, &ov->window_ms, err, err_len) != 0)
            return -1;
    } else {
        if (parse_chain(o->name, rest, ov->chain, err, err_len) != 0)
            return -1;
        ov->has_chain = true;
    }
    cfg->n_overrides++;
    return 0;
}

int ses_config_set(struct ses_config *cfg, const char *name, const char *value,
                   const char *base_dir, char *err, size_t err_len)
{
    const struct opt *o = find_opt(name);
    if (o == NULL) {
        snprintf(err, err_len, "unknown option '%s'", name);
        return -1;
    }
    char *field = (char *)cfg + o->offset;
    switch (o->kind) {
    case OPT_LISTEN:
        return parse_listen(cfg, value, err, err_len);
    case OPT_PATH: {
        int n;
        if (value[0] == '\0') {
            snprintf(err, err_len, "%s: empty path", name);
            return -1;
        }
        if (value[0] != '/' && base_dir != NULL)
            n = snprintf(field, SES_PATH_MAX, "%s/%s", base_dir, value);
        else
            n = snprintf(field, SES_PATH_MAX, "%s", value);
        if (n < 0 || n >= SES_PATH_MAX) {
            snprintf(err, err_len, "%s: path too long", name);
            return -1;
        }
        return 0;
    }
    case OPT_LEVEL:
        if (ses_log_level_parse(value, (enum ses_log_level *)(void *)field) != 0) {
            snprintf(err, err_len, "%s: expected err, warn, notice, info or debug, got '%s'", name,
                     value);
            return -1;
        }
        return 0;
    case OPT_INT: {
        char *end = NULL;
        errno = 0;
        long x = strtol(value, &end, 10);
        if (errno != 0 || end == value || *end != '\0' || x < o->min || x > o->max) {
            snprintf(err, err_len, "%s: expected an integer %ld..%ld, got '%s'", name, o->min,
                     o->max, value);
            return -1;
        }
        *(int *)(void *)field = (int)x;
        return 0;
    }
    case OPT_USER:
        if (ses_id_from_text((uint8_t *)field, value) != 0) {
            snprintf(err, err_len, "%s: expected a user id, got '%s'", name, value);
            return -1;
        }
        return 0;
    case OPT_BACKUP:
    case OPT_WINDOW:
    case OPT_CHAIN:
        return parse_alert_option(cfg, o, value, err, err_len);
    case OPT_HOURS:
    case OPT_DAYS:
    case OPT_HOLIDAY: {
        int bad = o->kind == OPT_HOURS  ? ses_bizcal_set_hours(&cfg->biz, value)
                  : o->kind == OPT_DAYS ? ses_bizcal_set_days(&cfg->biz, value)
                                        : ses_bizcal_add_holiday(&cfg->biz, value);
        if (bad != 0) {
            snprintf(err, err_len, "%s: expected %s, got '%s'", name,
                     o->kind == OPT_HOURS  ? "HH:MM-HH:MM with the opening before the closing"
                     : o->kind == OPT_DAYS ? "distinct ISO weekday digits 1..7"
                                           : "a date YYYY-MM-DD (at most 64 holidays)",
                     value);
            return -1;
        }
        return 0;
    }
    case OPT_ORIGIN:
        return parse_origin(cfg, name, value, err, err_len);
    case OPT_TEXT:
        for (const unsigned char *c = (const unsigned char *)value; *c; c++)
            if (*c < 0x20 || *c == 0x7f) {
                snprintf(err, err_len, "%s: control characters are not allowed", name);
                return -1;
            }
        if (strlen(value) > SES_CONF_TEXT_MAX) {
            snprintf(err, err_len, "%s: longer than %d bytes", name, SES_CONF_TEXT_MAX);
            return -1;
        }
        snprintf(field, SES_CONF_TEXT_MAX + 1, "%s", value);
        return 0;
    case OPT_BOOL:
        if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
            *(bool *)(void *)field = true;
        else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 || strcmp(value, "0") == 0)
            *(bool *)(void *)field = false;
        else {
            snprintf(err, err_len, "%s: expected true or false, got '%s'", name, value);
            return -1;
        }
        return 0;
    }
    return -1;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

int ses_config_load_file(struct ses_config *cfg, const char *path, bool optional, char *err,
                         size_t err_len)
{
    char line[SES_PATH_MAX + 256], base[SES_PATH_MAX], msg[512];
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (optional && errno == ENOENT)
            return 0;
        snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    snprintf(base, sizeof base, "%s", path);
    char *slash = strrchr(base, '/');
    if (slash != NULL)
        *slash = '\0';
    else
        snprintf(base, sizeof base, ".");
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            snprintf(err, err_len, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            snprintf(err, err_len, "%s:%d: expected 'key = value', got '%s'", path, lineno, s);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        if (ses_config_set(cfg, k, v, base, msg, sizeof msg) != 0) {
            snprintf(err, err_len, "%s:%d: %s", path, lineno, msg);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int ses_config_check(const struct ses_config *cfg, char *err, size_t err_len)
{
    if (cfg->data[0] == '\0') {
        snprintf(err, err_len, "--data DIR is required");
        return -1;
    }
    if (cfg->cert[0] == '\0' || cfg->key[0] == '\0') {
        snprintf(err, err_len, "a TLS certificate and key are required (--cert F --key F)");
        return -1;
    }
    if (cfg->web_root[0] != '\0') {
        char index[SES_PATH_MAX + 16];
        snprintf(index, sizeof index, "%s/index.html", cfg->web_root);
        if (access(index, R_OK) != 0) {
            snprintf(err, err_len, "web_root %s: no readable index.html (%s)", cfg->web_root,
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

const char *ses_config_template(void)
{
    return "# sesamed.conf - options of `sesamed serve` for this data directory.\n"
           "# One 'key = value' per line; command-line flags (--key value) override these.\n"
           "# Relative paths are relative to this file's directory.\n"
           "#\n"
           "# listen = 127.0.0.1:8443\n"
           "# cert = /etc/sesame/server.crt\n"
           "# key = /etc/sesame/server.key\n"
           "# ready_file = ready\n"
           "# log_level = notice\n"
           "# preauth_timeout = 10\n"
           "# max_conns = 10000\n"
           "# max_conns_per_ip = 256\n"
           "# max_unauth = 1024\n"
           "# max_unauth_per_ip = 32\n"
           "# checkpoint_every = 256\n"
           "# checkpoint_interval = 60\n"
           "# audit_retention_days = 0\n"
           "#\n"
           "# Alerts (PROTOCOL.md §13): user ids from `sesame directory`.\n"
           "# program_lead = USER_ID\n"
           "# on_duty_psychiatrist = USER_ID          (admins can also set these through the\n"
           "#                                          server: sesame admin oncall set)\n"
           "# emergency_routes = SAMU 15 / 3114       (shown with every P0 alert)\n"
           "# backup = NURSE_ID BACKUP_NURSE_ID          (one line per covered user)\n"
           "# alert_window = A01/item9_2 30m             (m, h or d)\n"
           "# alert_chain = A01 backup,gp,on_duty,lead   (',' between steps, '+' within one)\n"
           "#\n"
           "# Business calendar (urgent recommendations are due within 1 business day):\n"
           "# business_hours = 08:00-18:00\n"
           "# business_days = 12345                   (ISO weekdays, 1 = Monday)\n"
           "# holiday = 2026-12-25                    (one line per public holiday)\n"
           "#\n"
           "# Browsers may open sessions only from the web client this daemon serves (its own\n"
           "# origin); another page that must, one line each:\n"
           "# allowed_origin = https://sesame.example.org\n";
}
