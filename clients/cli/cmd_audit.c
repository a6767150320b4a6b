/*
 * cmd_audit.c - `sesame audit ...`: the auditor's commands over the tamper-evident audit log
 * (PROTOCOL.md §8 and §9): their dispatch and what they share (audit_cli.h); tail and show live
 * in cmd_audit_log.c, checkpoint, prove and verify in cmd_audit_verify.c, export in
 * cmd_audit_export.c. Each logs in with the profile and talks to the server over one connection
 * (the server logs that first read as an `audit.read` record); only the auditor and admin roles
 * may read the log, others get DENIED.
 *
 * `verify` and `prove` check what the server says locally with the shared Merkle and signed-note
 * code (protocol/merkle.h, protocol/note.h). The auditor's state lives in HOME/audit/ (0700):
 *   log.vkey    (0600) the pinned log verifier key, one line
 *   checkpoint  (0600) the last checkpoint note that verified, as the server signed it
 * Both written atomically (temporary file, fsync, rename).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit_cli.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/merkle.h"
#include "sesame/note.h"

/* --- small helpers ---------------------------------------------------------------------------- */

/* Prints "sesame: error: AUDIT_VERIFY_FAILED: MSG" and returns CLI_EVERIFY. */
int audit_verify_failed(const char *fmt, ...)
{
    va_list ap;
    fputs("sesame: error: AUDIT_VERIFY_FAILED: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EVERIFY;
}

/* Parses a decimal integer in [min, max]. Returns 0 or -1. */
int audit_parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Takes the boolean flags and at most one positional argument (when positional is not NULL) out
 * of cli->argv, then parses the remaining "--name VALUE" options with cli_parse_opts. Returns 0,
 * CLI_EUSAGE (printed), or -1 after printing help. */
int audit_parse_audit_args(struct cli *cli, const struct audit_flag *flags, size_t n_flags,
                           const struct cli_opt *opts, size_t n_opts, const char **positional,
                           const char *usage)
{
    int kept = 0;
    for (int i = 0; i < cli->argc; i++) {
        char *a = cli->argv[i];
        int taken = 0;
        for (size_t k = 0; k < n_flags; k++)
            if (strncmp(a, "--", 2) == 0 && strcmp(a + 2, flags[k].name) == 0) {
                *flags[k].value = 1;
                taken = 1;
            }
        if (taken)
            continue;
        if (strncmp(a, "--", 2) == 0 && strchr(a, '=') == NULL) {
            cli->argv[kept++] = a;
            for (size_t k = 0; k < n_opts; k++)
                if (strcmp(a + 2, opts[k].name) == 0 && i + 1 < cli->argc) {
                    cli->argv[kept++] = cli->argv[++i];
                    break;
                }
            continue;
        }
        if (positional != NULL && *positional == NULL && a[0] != '-') {
            *positional = a;
            continue;
        }
        cli->argv[kept++] = a;
    }
    cli->argc = kept;
    return cli_parse_opts(cli->argc, cli->argv, opts, n_opts, usage);
}

/* "2025-01-31T10:15:02.123Z" (UTC, milliseconds). */
void audit_fmt_time_ms(char *out, size_t cap, long long ms)
{
    struct tm tm;
    time_t s = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    int frac = (int)(ms - (long long)s * 1000);
    char base[40];
    if (gmtime_r(&s, &tm) == NULL || strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(out, cap, "%lld", ms);
        return;
    }
    snprintf(out, cap, "%s.%03dZ", base, frac);
}

void audit_b64std(char out[B64STD_HASH_LEN], const uint8_t h[32])
{
    sodium_bin2base64(out, B64STD_HASH_LEN, h, 32, sodium_base64_VARIANT_ORIGINAL);
}

/* Decodes a base64url hash member of o. Returns 0 or -1. */
int audit_get_hash(const json_t *o, const char *key, uint8_t out[32])
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return -1;
    return ses_b64_decode(out, 32, json_string_value(v), json_string_length(v)) == 0 ? 0 : -1;
}

/* Decodes a JSON array of base64url hashes (at most SES_MERKLE_MAX_PROOF). Returns 0 or -1. */
int audit_get_proof(const json_t *arr, uint8_t proof[SES_MERKLE_MAX_PROOF][32], size_t *count)
{
    size_t i;
    const json_t *v;
    if (!json_is_array(arr) || json_array_size(arr) > SES_MERKLE_MAX_PROOF)
        return -1;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_string(v) ||
            ses_b64_decode(proof[i], 32, json_string_value(v), json_string_length(v)) != 0)
            return -1;
    }
    *count = json_array_size(arr);
    return 0;
}

/* Parses a record's canonical bytes (a JSON object). NULL if they are not one. */
json_t *audit_parse_rec(const char *rec, size_t len)
{
    json_error_t jerr;
    json_t *o = json_loadb(rec, len, JSON_REJECT_DUPLICATES, &jerr);
    if (o != NULL && !json_is_object(o)) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* The integer member key of o, or -1. */
long long audit_int_or(const json_t *o, const char *key, long long dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* Sends req (owned) and takes its reply. Returns 0 with *reply, or the exit status (printed). */
int audit_request(const struct cli *cli, struct ses_conn *conn, json_t *req, const char *what,
                  json_t **reply)
{
    *reply = NULL;
    if (req == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    json_t *r = NULL;
    int rc = ses_conn_request(conn, req, cli->timeout_ms, &r);
    if (rc != 0)
        return cli_fail(cli, conn, rc, r, what);
    *reply = r;
    return 0;
}

/* --- the auditor's state folder ------------------------------------------------------------ */

int audit_state_dir(const struct cli *cli, char *out, size_t cap)
{
    char home[4096];
    if (ses_profile_home(home, sizeof home, cli->home_opt) != 0)
        return -1;
    int n = snprintf(out, cap, "%s/audit", home);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Reads dir/name (at most MAX_STATE_FILE bytes) into a malloc'd NUL-terminated buffer.
 * Returns 0, SES_ENOT_FOUND or SES_EIO. */
int audit_state_read(const char *dir, const char *name, char **out, size_t *len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SES_ENOT_FOUND : SES_EIO;
    char *buf = malloc(MAX_STATE_FILE + 1);
    size_t n = 0;
    while (buf != NULL) {
        ssize_t r = read(fd, buf + n, MAX_STATE_FILE + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || n + (size_t)(r > 0 ? r : 0) > MAX_STATE_FILE) {
            free(buf);
            buf = NULL;
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (buf == NULL)
        return SES_EIO;
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* Writes dir/name atomically (mode 0600), creating dir (0700). Returns 0 or -1. */
int audit_state_write(const char *dir, const char *name, const char *data, size_t len)
{
    char tmp[4200], path[4200];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return -1;
    snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, name);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    int ok = fchmod(fd, 0600) == 0;
    while (ok && len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ok = 0;
            break;
        }
        data += w;
        len -= (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    ok = (close(fd) == 0) && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok) {
        unlink(tmp);
        return -1;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* Loads the pinned vkey. Returns 0 (*have 1 or 0) or an exit status (printed). */
int audit_load_pinned(const char *dir, struct ses_note_vkey *vk, int *have)
{
    char *text = NULL;
    size_t len = 0;
    *have = 0;
    int rc = audit_state_read(dir, VKEY_FILE, &text, &len);
    if (rc == SES_ENOT_FOUND)
        return 0;
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "cannot read the pinned log key %s/%s", dir, VKEY_FILE);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    rc = ses_note_vkey_parse(vk, text);
    free(text);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "the pinned log key in %s/%s is not a valid verifier key", dir,
                         VKEY_FILE);
    *have = 1;
    return 0;
}

int audit_same_vkey(const struct ses_note_vkey *a, const struct ses_note_vkey *b)
{
    return strcmp(a->name, b->name) == 0 && memcmp(a->id, b->id, sizeof a->id) == 0 &&
           memcmp(a->pk, b->pk, sizeof a->pk) == 0;
}

/* Length of the text of a signed note (up to and including the '\n' before the blank line), or 0
 * if there is no blank line. */
size_t audit_note_text_len(const char *note, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (note[i] == '\n' && note[i + 1] == '\n')
            return i + 1;
    return 0;
}

/* Starts a session: profile, connection, login. */
int audit_open_session(const struct cli *cli, struct ses_conn **conn)
{
    struct ses_profile p;
    int status = cli_open_session(cli, &p, conn);
    if (status == 0)
        ses_profile_wipe(&p);
    return status;
}

int audit_seq_arg(struct cli *cli, const char *usage, const char *what, long long *seq)
{
    const char *seq_s = NULL;
    int rc = audit_parse_audit_args(cli, NULL, 0, NULL, 0, &seq_s, usage);
    if (rc != 0)
        return rc;
    if (seq_s == NULL || audit_parse_int(seq_s, 1, (1LL << 53) - 1, seq) != 0)
        return cli_usage_error(usage, "%s needs a record number (1 or more)", what);
    return 0;
}

int cmd_audit(struct cli *cli)
{
    static const struct cli_sub subs[] = {
        {"tail", audit_tail},   {"show", audit_show},     {"checkpoint", audit_checkpoint},
        {"prove", audit_prove}, {"verify", audit_verify}, {"export", audit_export}};
    return cli_dispatch(cli, "audit", AUDIT_USAGE, subs, sizeof subs / sizeof subs[0]);
}
