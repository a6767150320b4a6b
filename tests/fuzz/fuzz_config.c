/*
 * fuzz_config.c - libFuzzer target for sesamed's config file parser (daemon/config.c): the input
 * is the text of a sesamed.conf, written to a memfd and read by ses_config_load_file through
 * /proc/self/fd/N (config.c has no parser of text in memory), then ses_config_check on what it
 * accepts. Invariants, any difference aborts:
 *  - a refused file gives "PATH:LINE: message" with LINE one of the input's lines and a
 *    non-empty message; the lines before it load (every earlier line was accepted), and the file
 *    cut after it gives the same error (nothing after the line counts);
 *  - an accepted file gives a config within the option table's limits (every integer in its
 *    range, the port 0..65535, the host an IP address, the counts of repeatable lines within
 *    their maxima, each escalation chain 0-terminated, the business hours in order, every string
 *    NUL-terminated, no control character in emergency_routes), the same config when loaded
 *    again, and ses_config_check then answers 0 or -1 with a message.
 * Build: cmake -DSESAME_FUZZ=ON -DCMAKE_C_COMPILER=clang; run: build/tests/fuzz/fuzz_config
 * -max_len=8192 -max_total_time=60 (lines are up to 4351 bytes; tests/fuzz/run.sh passes it).
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

static int fd = -1;
static char path[64];

static void differ(const char *what, const char *err, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_config: %s (%s) on %zu bytes:\n%.*s\n", what, err, size, (int)size,
            (const char *)data);
    abort();
}

/* Loads data[0..size) as the config file into a fresh config; returns its verdict. */
static int load(const uint8_t *data, size_t size, struct ses_config *cfg, char *err, size_t cap)
{
    if (ftruncate(fd, 0) != 0 || (size > 0 && pwrite(fd, data, size, 0) != (ssize_t)size))
        abort();
    ses_config_defaults(cfg);
    err[0] = '\0';
    return ses_config_load_file(cfg, path, false, err, cap);
}

static int terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

/* The offset just after line n (1-based) of data, or size if data has fewer '\n'. */
static size_t line_end(const uint8_t *data, size_t size, long n)
{
    size_t i = 0;
    for (long k = 0; k < n && i < size; k++) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        i = nl == NULL ? size : (size_t)(nl - data) + 1;
    }
    return i;
}

static void check_refused(const uint8_t *data, size_t size, const char *err)
{
    static struct ses_config cfg;
    static char err2[1024];
    size_t pl = strlen(path);
    char *end = NULL;
    if (strncmp(err, path, pl) != 0 || err[pl] != ':')
        differ("error does not name the file", err, data, size);
    long line = strtol(err + pl + 1, &end, 10);
    size_t lines = 0;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    if (size > 0 && data[size - 1] != '\n')
        lines++;
    if (end == err + pl + 1 || line < 1 || (size_t)line > lines)
        differ("error does not name a line of the file", err, data, size);
    if (end[0] != ':' || end[1] != ' ' || end[2] == '\0')
        differ("error has no message after the line", err, data, size);

    if (load(data, line_end(data, size, line - 1), &cfg, err2, sizeof err2) != 0)
        differ("the lines before the one named do not load", err2, data, size);
    if (load(data, line_end(data, size, line), &cfg, err2, sizeof err2) == 0 ||
        strcmp(err, err2) != 0)
        differ("the file cut after the line named gives another verdict", err2, data, size);
}

static void check_accepted(const uint8_t *data, size_t size, const struct ses_config *c)
{
    static struct ses_config again;
    static char err[1024];
    unsigned char addr[16];
    const int ints[][3] = {
        {c->preauth_timeout_s, 1, 60},
        {c->max_conns, 1, 1000000},
        {c->max_conns_per_ip, 1, 100000},
        {c->max_unauth, 1, 65535},
        {c->max_unauth_per_ip, 1, 65535},
        {c->checkpoint_every, 1, 1000000},
        {c->checkpoint_interval_s, 1, 86400},
        {c->audit_retention_days, 0, 36500},
        {c->test_clock_offset_s, 0, 3650 * 86400},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (ints[i][0] < ints[i][1] || ints[i][0] > ints[i][2])
            differ("an integer option out of its range", "", data, size);
    if (c->listen_port < 0 || c->listen_port > 65535 ||
        !terminated(c->listen_host, sizeof c->listen_host) ||
        (inet_pton(AF_INET, c->listen_host, addr) != 1 &&
         inet_pton(AF_INET6, c->listen_host, addr) != 1))
        differ("listen out of range", c->listen_host, data, size);
    if ((int)c->log_level < SES_LOG_ERR || c->log_level > SES_LOG_DEBUG)
        differ("log_level out of range", "", data, size);
    if (!terminated(c->data, sizeof c->data) || !terminated(c->cert, sizeof c->cert) ||
        !terminated(c->key, sizeof c->key) || !terminated(c->ready_file, sizeof c->ready_file) ||
        !terminated(c->web_root, sizeof c->web_root) ||
        !terminated(c->emergency_routes, sizeof c->emergency_routes))
        differ("a string option not NUL-terminated", "", data, size);
    for (const unsigned char *p = (const unsigned char *)c->emergency_routes; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            differ("a control character in emergency_routes", "", data, size);
    if (c->n_backups < 0 || c->n_backups > SES_CONF_MAX_BACKUPS || c->n_origins < 0 ||
        c->n_origins > SES_CONF_MAX_ORIGINS || c->n_overrides < 0 ||
        c->n_overrides > SES_CONF_MAX_OVERRIDES)
        differ("a repeatable option over its maximum", "", data, size);
    for (int i = 0; i < c->n_backups; i++)
        if (memcmp(c->backups[i].user, c->backups[i].backup, sizeof c->backups[i].user) == 0)
            differ("a backup line names one user twice", "backup", data, size);
    for (int i = 0; i < c->n_origins; i++)
        if (!terminated(c->origins[i], sizeof c->origins[i]) ||
            strncmp(c->origins[i], "https://", 8) != 0 || strchr(c->origins[i] + 8, '/') != NULL)
            differ("an allowed_origin not https://HOST[:PORT]", c->origins[i], data, size);
    for (int i = 0; i < c->n_overrides; i++) {
        const struct ses_alert_override *o = &c->overrides[i];
        if (!terminated(o->code, sizeof o->code) || o->code[0] == '\0' ||
            !terminated(o->variant, sizeof o->variant) || o->chain[SES_CONF_CHAIN_MAX] != 0 ||
            (o->has_chain ? o->window_ms != 0 || o->chain[0] == 0
                          : o->window_ms < 60000 || o->window_ms > 90LL * 86400000))
            differ("an alert_window or alert_chain out of range", o->code, data, size);
    }
    if (c->biz.open_min < 0 || c->biz.open_min >= c->biz.close_min || c->biz.close_min > 24 * 60 ||
        (c->biz.weekdays & ~0xFEu) != 0 || c->biz.n_holidays < 0 ||
        c->biz.n_holidays > SES_BIZ_HOLIDAYS_MAX)
        differ("the business calendar out of range", "", data, size);

    if (load(data, size, &again, err, sizeof err) != 0 || memcmp(c, &again, sizeof again) != 0)
        differ("the same file loads differently", err, data, size);
    err[0] = '\0';
    int rc = ses_config_check(c, err, sizeof err);
    if ((rc != 0 && rc != -1) || (rc == -1 && err[0] == '\0'))
        differ("ses_config_check answers without a message", err, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ses_config cfg;
    static char err[1024];
    if (fd < 0) {
        fd = memfd_create("sesamed.conf", MFD_CLOEXEC);
        if (fd < 0)
            abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (load(data, size, &cfg, err, sizeof err) != 0)
        check_refused(data, size, err);
    else
        check_accepted(data, size, &cfg);
    return 0;
}
