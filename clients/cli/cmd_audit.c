/*
 * cmd_audit.c - `sesame audit ...`: the auditor's commands over the tamper-evident audit log
 * (PROTOCOL.md §8 and §9): tail, show, checkpoint, prove, verify and export. Each logs in with the
 * profile and talks to the server over one connection (the server logs that first read as an
 * `audit.read` record); only the auditor and admin roles may read the log, others get DENIED.
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

#include "cli.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/merkle.h"
#include "sesame/note.h"

#define TAIL_USAGE "sesame audit tail [--since SEQ] [--actor USER_ID] [--action NAME] [--limit N]"
#define SHOW_USAGE "sesame audit show SEQ"
#define CHECKPOINT_USAGE "sesame audit checkpoint"
#define PROVE_USAGE "sesame audit prove SEQ"
#define VERIFY_USAGE "sesame audit verify [--log-key VKEY [--repin]]"
#define EXPORT_USAGE "sesame audit export --from YYYY-MM-DD --to YYYY-MM-DD [--fhir]"
#define AUDIT_USAGE "sesame audit tail|show|checkpoint|prove|verify|export [OPTIONS]"

#define PAGE 1000           /* records per audit_leaves / audit_tail request (the maximum) */
#define MAX_STATE_FILE 4096 /* log.vkey, checkpoint */
#define B64STD_HASH_LEN 45  /* standard base64 of 32 bytes + NUL */
#define DAY_MS 86400000LL

#define VKEY_FILE "log.vkey"
#define CHECKPOINT_FILE "checkpoint"

/* --- small helpers ---------------------------------------------------------------------------- */

/* Prints "sesame: error: AUDIT_VERIFY_FAILED: MSG" and returns CLI_EVERIFY. */
static int verify_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int verify_failed(const char *fmt, ...)
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
static int parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* A boolean option (no value). */
struct audit_flag {
    const char *name; /* without the dashes */
    int *value;
};

/* Takes the boolean flags and at most one positional argument (when positional is not NULL) out
 * of cli->argv, then parses the remaining "--name VALUE" options with cli_parse_opts. Returns 0,
 * CLI_EUSAGE (printed), or -1 after printing help. */
static int parse_audit_args(struct cli *cli, const struct audit_flag *flags, size_t n_flags,
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
static void fmt_time_ms(char *out, size_t cap, long long ms)
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

static void b64std(char out[B64STD_HASH_LEN], const uint8_t h[32])
{
    sodium_bin2base64(out, B64STD_HASH_LEN, h, 32, sodium_base64_VARIANT_ORIGINAL);
}

/* Decodes a base64url hash member of o. Returns 0 or -1. */
static int get_hash(const json_t *o, const char *key, uint8_t out[32])
{
    const json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        return -1;
    return ses_b64_decode(out, 32, json_string_value(v), json_string_length(v)) == 0 ? 0 : -1;
}

/* Decodes a JSON array of base64url hashes (at most SES_MERKLE_MAX_PROOF). Returns 0 or -1. */
static int get_proof(const json_t *arr, uint8_t proof[SES_MERKLE_MAX_PROOF][32], size_t *count)
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
static json_t *parse_rec(const char *rec, size_t len)
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
static long long int_or(const json_t *o, const char *key, long long dflt)
{
    const json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* Sends req (owned) and takes its reply. Returns 0 with *reply, or the exit status (printed). */
static int request(const struct cli *cli, struct ses_conn *conn, json_t *req, const char *what,
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

static int state_dir(const struct cli *cli, char *out, size_t cap)
{
    char home[4096];
    if (ses_profile_home(home, sizeof home, cli->home_opt) != 0)
        return -1;
    int n = snprintf(out, cap, "%s/audit", home);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Reads dir/name (at most MAX_STATE_FILE bytes) into a malloc'd NUL-terminated buffer.
 * Returns 0, SES_ENOT_FOUND or SES_EIO. */
static int state_read(const char *dir, const char *name, char **out, size_t *len)
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
static int state_write(const char *dir, const char *name, const char *data, size_t len)
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
static int load_pinned(const char *dir, struct ses_note_vkey *vk, int *have)
{
    char *text = NULL;
    size_t len = 0;
    *have = 0;
    int rc = state_read(dir, VKEY_FILE, &text, &len);
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

static int same_vkey(const struct ses_note_vkey *a, const struct ses_note_vkey *b)
{
    return strcmp(a->name, b->name) == 0 && memcmp(a->id, b->id, sizeof a->id) == 0 &&
           memcmp(a->pk, b->pk, sizeof a->pk) == 0;
}

/* Length of the text of a signed note (up to and including the '\n' before the blank line), or 0
 * if there is no blank line. */
static size_t note_text_len(const char *note, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (note[i] == '\n' && note[i + 1] == '\n')
            return i + 1;
    return 0;
}

/* Starts a session: profile, connection, login. */
static int open_session(const struct cli *cli, struct ses_conn **conn)
{
    struct ses_profile p;
    int status = cli_open_session(cli, &p, conn);
    if (status == 0)
        ses_profile_wipe(&p);
    return status;
}

/* --- rendering records ------------------------------------------------------------------------ */

/* "nurse:abcdefgh" (role and the first 8 characters of the user id), "device:abcdefgh", or "-". */
static void fmt_actor(char *out, size_t cap, const json_t *rec)
{
    const json_t *a = json_object_get(rec, "actor");
    const char *user = cli_str(a, "user", NULL), *role = cli_str(a, "role", NULL);
    const char *dev = cli_str(a, "device", NULL);
    if (user != NULL)
        snprintf(out, cap, "%s:%.8s", role ? role : "?", user);
    else if (dev != NULL)
        snprintf(out, cap, "device:%.8s", dev);
    else if (role != NULL)
        snprintf(out, cap, "%s", role);
    else
        snprintf(out, cap, "-");
}

/* The record object of one {"seq":S,"rec":TEXT|null} entry: the parsed canonical bytes, or
 * {"seq":S,"rec":null} once pruned (or if the bytes are not a JSON object). New reference. */
static json_t *entry_record(const json_t *entry)
{
    const json_t *rec = json_object_get(entry, "rec");
    if (json_is_string(rec)) {
        json_t *o = parse_rec(json_string_value(rec), json_string_length(rec));
        if (o != NULL)
            return o;
    }
    return json_pack("{s:I, s:n}", "seq", (json_int_t)int_or(entry, "seq", 0), "rec");
}

/* --- tail --- */

static int audit_tail(struct cli *cli)
{
    const char *since = NULL, *actor = NULL, *action = NULL, *limit = NULL;
    const struct cli_opt opts[] = {
        {"since", &since}, {"actor", &actor}, {"action", &action}, {"limit", &limit}};
    long long since_v = 0, limit_v = 0;
    int rc = parse_audit_args(cli, NULL, 0, opts, 4, NULL, TAIL_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (since != NULL && parse_int(since, 0, (1LL << 53) - 1, &since_v) != 0)
        return cli_usage_error(TAIL_USAGE, "--since needs a record number (0 or more)");
    if (limit != NULL && parse_int(limit, 1, PAGE, &limit_v) != 0)
        return cli_usage_error(TAIL_USAGE, "--limit needs a number from 1 to %d", PAGE);

    json_t *req = json_pack("{s:s}", "t", "audit_tail");
    int bad = req == NULL;
    if (!bad && since != NULL)
        bad |= json_object_set_new(req, "since", json_integer(since_v));
    if (!bad && actor != NULL)
        bad |= json_object_set_new(req, "actor", json_string(actor));
    if (!bad && action != NULL)
        bad |= json_object_set_new(req, "action", json_string(action));
    if (!bad && limit != NULL)
        bad |= json_object_set_new(req, "limit", json_integer(limit_v));
    if (bad) {
        json_decref(req);
        return cli_usage_error(TAIL_USAGE, "values must be valid UTF-8 text");
    }

    struct ses_conn *conn = NULL;
    json_t *reply = NULL;
    int status = open_session(cli, &conn);
    if (status != 0) {
        json_decref(req);
        return status;
    }
    status = request(cli, conn, req, "audit tail", &reply);
    ses_conn_free(conn);
    if (status != 0)
        return status;

    const json_t *records = json_object_get(reply, "records");
    size_t i;
    const json_t *entry;
    if (cli->json) {
        json_t *out = json_pack("{s:[]}", "records");
        json_t *arr = json_object_get(out, "records");
        json_array_foreach(records, i, entry) json_array_append_new(arr, entry_record(entry));
        cli_print_json(out);
        json_decref(out);
    } else {
        static const char *const header[] = {"SEQ",    "TIME",    "ACTOR", "ACTION",
                                             "OBJECT", "OUTCOME", "PEER"};
        struct cli_table t;
        if (cli_table_init(&t, 7, header) == 0) {
            json_array_foreach(records, i, entry)
            {
                json_t *r = entry_record(entry);
                char seq[32], when[40], who[64];
                snprintf(seq, sizeof seq, "%lld", int_or(r, "seq", 0));
                cli_fmt_time(when, sizeof when, json_object_get(r, "ts"));
                fmt_actor(who, sizeof who, r);
                int pruned = json_is_null(json_object_get(entry, "rec"));
                const char *row[] = {seq,
                                     when,
                                     who,
                                     pruned ? "(pruned)" : cli_str(r, "action", "-"),
                                     cli_str(r, "object", "-"),
                                     cli_str(r, "outcome", "-"),
                                     cli_str(r, "peer", "-")};
                int added = cli_table_add(&t, row);
                json_decref(r);
                if (added != 0)
                    break;
            }
            cli_table_print(&t);
            cli_table_free(&t);
        }
    }
    json_decref(reply);
    return CLI_OK;
}

/* --- show --- */

static int audit_show(struct cli *cli)
{
    const char *seq_s = NULL;
    long long seq = 0;
    int rc = parse_audit_args(cli, NULL, 0, NULL, 0, &seq_s, SHOW_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (seq_s == NULL || parse_int(seq_s, 1, (1LL << 53) - 1, &seq) != 0)
        return cli_usage_error(SHOW_USAGE, "show needs a record number (1 or more)");

    struct ses_conn *conn = NULL;
    json_t *reply = NULL;
    int status = open_session(cli, &conn);
    if (status != 0)
        return status;
    status = request(cli, conn, json_pack("{s:s, s:I}", "t", "audit_show", "seq", (json_int_t)seq),
                     "audit show", &reply);
    ses_conn_free(conn);
    if (status != 0)
        return status;

    const json_t *rec = json_object_get(reply, "rec");
    const char *hash = cli_str(reply, "hash", "");
    uint8_t stored[32], computed[32];
    int have_hash = get_hash(reply, "hash", stored) == 0;
    int matches = 0;
    if (json_is_string(rec)) {
        ses_merkle_leaf_hash(computed, (const uint8_t *)json_string_value(rec),
                             json_string_length(rec));
        matches = have_hash && memcmp(computed, stored, 32) == 0;
    }
    json_t *parsed =
        json_is_string(rec) ? parse_rec(json_string_value(rec), json_string_length(rec)) : NULL;
    if (cli->json) {
        json_t *out = parsed ? json_incref(parsed) : json_pack("{s:I}", "seq", (json_int_t)seq);
        json_object_set(out, "rec", json_is_string(rec) ? (json_t *)rec : json_null());
        json_object_set_new(out, "hash", json_string(hash));
        cli_print_json(out);
        json_decref(out);
    } else if (parsed != NULL) {
        char when[48];
        const json_t *a = json_object_get(parsed, "actor");
        fmt_time_ms(when, sizeof when, int_or(parsed, "ts", 0));
        printf("seq:       %lld\n", int_or(parsed, "seq", seq));
        printf("time:      %s\n", when);
        printf("actor:     user %s, device %s, role %s\n", cli_str(a, "user", "-"),
               cli_str(a, "device", "-"), cli_str(a, "role", "-"));
        printf("action:    %s\n", cli_str(parsed, "action", "-"));
        printf("object:    %s\n", cli_str(parsed, "object", "-"));
        printf("outcome:   %s\n", cli_str(parsed, "outcome", "-"));
        printf("peer:      %s\n", cli_str(parsed, "peer", "-"));
        printf("leaf hash: %s (%s)\n", hash,
               matches ? "matches the record bytes" : "DOES NOT MATCH the record bytes");
        printf("record:    %s\n", json_string_value(rec));
    } else {
        printf("seq:       %lld\n", seq);
        if (json_is_string(rec))
            printf("record:    %s (not a JSON object)\n", json_string_value(rec));
        else
            printf("record:    pruned (only its leaf hash is kept)\n");
        printf("leaf hash: %s\n", hash);
    }
    json_decref(parsed);
    json_decref(reply);
    return CLI_OK;
}

/* --- checkpoint --- */

static int audit_checkpoint(struct cli *cli)
{
    int rc = parse_audit_args(cli, NULL, 0, NULL, 0, NULL, CHECKPOINT_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct ses_conn *conn = NULL;
    json_t *reply = NULL;
    int status = open_session(cli, &conn);
    if (status != 0)
        return status;
    status =
        request(cli, conn, json_pack("{s:s}", "t", "audit_checkpoint"), "audit checkpoint", &reply);
    ses_conn_free(conn);
    if (status != 0)
        return status;
    if (cli->json) {
        cli_print_json(reply);
    } else {
        const char *note = cli_str(reply, "checkpoint", "");
        fputs(note, stdout);
    }
    json_decref(reply);
    return CLI_OK;
}

/* Fetches the latest checkpoint on conn and opens it: against vk if have_vk (signature and
 * origin), else only its body. Returns 0 with *cp and *note (caller json_decref()s), or the exit
 * status (printed). */
static int fetch_checkpoint(const struct cli *cli, struct ses_conn *conn,
                            const struct ses_note_vkey *vk, int have_vk, struct ses_checkpoint *cp,
                            json_t **note_reply)
{
    json_t *reply = NULL;
    *note_reply = NULL;
    int status =
        request(cli, conn, json_pack("{s:s}", "t", "audit_checkpoint"), "audit checkpoint", &reply);
    if (status != 0)
        return status;
    const json_t *nj = json_object_get(reply, "checkpoint");
    const char *note = json_is_string(nj) ? json_string_value(nj) : "";
    size_t len = json_is_string(nj) ? json_string_length(nj) : 0;
    int rc;
    if (have_vk) {
        rc = ses_checkpoint_open(cp, note, len, vk, vk->name);
        if (rc != 0) {
            struct ses_checkpoint body;
            size_t tl = note_text_len(note, len);
            int parsed = tl > 0 && ses_checkpoint_parse_body(&body, note, tl) == 0;
            json_decref(reply);
            if (rc == SES_EAUTH_FAILED && parsed && strcmp(body.origin, vk->name) != 0)
                return verify_failed("checkpoint signature: the latest checkpoint's origin '%s' "
                                     "is not the pinned log key's name '%s'",
                                     body.origin, vk->name);
            if (rc == SES_EAUTH_FAILED)
                return verify_failed("checkpoint signature: the latest checkpoint is not signed by "
                                     "the pinned log key %s",
                                     vk->name);
            return verify_failed("checkpoint signature: the latest checkpoint is not a well-formed "
                                 "signed note");
        }
    } else {
        size_t tl = note_text_len(note, len);
        if (tl == 0 || ses_checkpoint_parse_body(cp, note, tl) != 0) {
            json_decref(reply);
            return verify_failed("the latest checkpoint is not a well-formed signed note");
        }
    }
    if (int_or(reply, "size", -1) != (long long)cp->size) {
        long long said = int_or(reply, "size", -1);
        json_decref(reply);
        return verify_failed("the checkpoint reply says size %lld but the signed note says %llu",
                             said, (unsigned long long)cp->size);
    }
    *note_reply = reply;
    return 0;
}

/* --- prove --- */

static int audit_prove(struct cli *cli)
{
    const char *seq_s = NULL;
    long long seq = 0;
    int rc = parse_audit_args(cli, NULL, 0, NULL, 0, &seq_s, PROVE_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (seq_s == NULL || parse_int(seq_s, 1, (1LL << 53) - 1, &seq) != 0)
        return cli_usage_error(PROVE_USAGE, "prove needs a record number (1 or more)");

    char dir[4200];
    struct ses_note_vkey vk;
    int have_vk = 0;
    if (state_dir(cli, dir, sizeof dir) != 0)
        return cli_error(CLI_ELOCAL, "cannot find the profile folder (use --home DIR)");
    int status = load_pinned(dir, &vk, &have_vk);
    if (status != 0)
        return status;

    struct ses_conn *conn = NULL;
    json_t *ck = NULL, *shown = NULL, *proved = NULL;
    struct ses_checkpoint cp;
    if ((status = open_session(cli, &conn)) != 0)
        return status;
    status = fetch_checkpoint(cli, conn, &vk, have_vk, &cp, &ck);
    if (status == 0 && (unsigned long long)seq > cp.size)
        status = cli_error(CLI_ESERVER,
                           "NOT_FOUND: record %lld is not in the latest checkpoint (%llu records)",
                           seq, (unsigned long long)cp.size);
    if (status == 0)
        status =
            request(cli, conn, json_pack("{s:s, s:I}", "t", "audit_show", "seq", (json_int_t)seq),
                    "audit show", &shown);
    if (status == 0)
        status = request(cli, conn,
                         json_pack("{s:s, s:I, s:I}", "t", "audit_prove", "seq", (json_int_t)seq,
                                   "size", (json_int_t)cp.size),
                         "audit prove", &proved);
    ses_conn_free(conn);
    if (status != 0) {
        json_decref(ck);
        json_decref(shown);
        return status;
    }

    uint8_t leaf[32], computed[32], proof[SES_MERKLE_MAX_PROOF][32];
    size_t count = 0;
    const json_t *rec = json_object_get(shown, "rec");
    int have_leaf = get_hash(shown, "hash", leaf) == 0, bytes_match = 1;
    if (have_leaf && json_is_string(rec)) {
        ses_merkle_leaf_hash(computed, (const uint8_t *)json_string_value(rec),
                             json_string_length(rec));
        bytes_match = memcmp(computed, leaf, 32) == 0;
    }
    if (!have_leaf)
        status = verify_failed("record %lld: the server sent a malformed leaf hash", seq);
    else if (!bytes_match)
        status = verify_failed("record %lld: its bytes do not match its leaf hash", seq);
    else if (int_or(proved, "size", -1) != (long long)cp.size ||
             get_proof(json_object_get(proved, "proof"), proof, &count) != 0)
        status = verify_failed("record %lld: the server sent a malformed inclusion proof", seq);
    else if (ses_merkle_verify_inclusion(leaf, (uint64_t)seq - 1, cp.size,
                                         (const uint8_t(*)[32])proof, count, cp.root) != 0)
        status = verify_failed("record %lld: its inclusion proof does not verify against "
                               "checkpoint %llu",
                               seq, (unsigned long long)cp.size);
    if (status == 0) {
        char root[B64STD_HASH_LEN];
        b64std(root, cp.root);
        if (cli->json) {
            json_t *out = json_pack(
                "{s:I, s:I, s:s, s:s, s:O, s:b, s:b}", "seq", (json_int_t)seq, "size",
                (json_int_t)cp.size, "root", root, "leaf_hash", cli_str(shown, "hash", ""), "proof",
                json_object_get(proved, "proof"), "verified", 1, "signature_verified", have_vk);
            cli_print_json(out);
            json_decref(out);
        } else {
            size_t i;
            const json_t *h;
            printf("record %lld is in the log of %llu records (checkpoint %s)\n", seq,
                   (unsigned long long)cp.size,
                   have_vk ? "signature verified with the pinned log key"
                           : "signature NOT checked: no pinned log key, run sesame audit verify");
            printf("root:      %s\n", root);
            printf("leaf hash: %s\n", cli_str(shown, "hash", ""));
            printf("proof:\n");
            json_array_foreach(json_object_get(proved, "proof"), i, h)
                printf("  %s\n", json_string_value(h));
            printf("verified: the proof leads from the leaf hash to the root\n");
        }
    }
    json_decref(ck);
    json_decref(shown);
    json_decref(proved);
    return status;
}

/* --- verify --- */

/* Loads the stored checkpoint (HOME/audit/checkpoint) into *prev (size 0 when there is none).
 * Returns 0 or an exit status (printed). */
static int load_stored(const char *dir, const struct ses_note_vkey *vk, struct ses_checkpoint *prev)
{
    char *text = NULL;
    size_t len = 0;
    memset(prev, 0, sizeof *prev);
    int rc = state_read(dir, CHECKPOINT_FILE, &text, &len);
    if (rc == SES_ENOT_FOUND)
        return 0;
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "cannot read the stored checkpoint %s/%s", dir,
                         CHECKPOINT_FILE);
    size_t tl = note_text_len(text, len);
    rc = tl > 0 ? ses_checkpoint_parse_body(prev, text, tl) : SES_EBAD_FIELD;
    free(text);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "the stored checkpoint %s/%s is not a checkpoint note", dir,
                         CHECKPOINT_FILE);
    if (strcmp(prev->origin, vk->name) != 0)
        return cli_error(CLI_ELOCAL,
                         "the stored checkpoint %s/%s is of the log '%s', the pinned key of '%s' "
                         "(move the file away to start over with this log)",
                         dir, CHECKPOINT_FILE, prev->origin, vk->name);
    return 0;
}

struct pruned_run {
    uint64_t first, last; /* a run of consecutive pruned records */
};

struct rebuild {
    struct ses_merkle_frontier f;
    const struct ses_checkpoint *prev; /* stored (m, r1); prev->size 0 when none */
    uint64_t pruned;
    uint64_t announced; /* highest `last` of the intact audit.prune records ("seq:FIRST-LAST") */
    struct pruned_run *runs;
    size_t n_runs, cap_runs;
};

/* Remembers that record seq has no bytes (runs of consecutive seqs). Returns 0 or -1 (memory). */
static int note_pruned(struct rebuild *rb, uint64_t seq)
{
    rb->pruned++;
    if (rb->n_runs > 0 && rb->runs[rb->n_runs - 1].last + 1 == seq) {
        rb->runs[rb->n_runs - 1].last = seq;
        return 0;
    }
    if (rb->n_runs == rb->cap_runs) {
        size_t cap = rb->cap_runs ? rb->cap_runs * 2 : 16;
        struct pruned_run *nr = realloc(rb->runs, cap * sizeof *nr);
        if (nr == NULL)
            return -1;
        rb->runs = nr;
        rb->cap_runs = cap;
    }
    rb->runs[rb->n_runs++] = (struct pruned_run){seq, seq};
    return 0;
}

/* An intact (hash-checked) record: if it is a retention run's audit.prune record, the range it
 * announces. */
static void note_announcement(struct rebuild *rb, const json_t *rec)
{
    unsigned long long first = 0, last = 0;
    int n = 0;
    const char *object = cli_str(rec, "object", "");
    if (strcmp(cli_str(rec, "action", ""), "audit.prune") != 0 ||
        strcmp(cli_str(rec, "outcome", ""), "ok") != 0 ||
        sscanf(object, "seq:%llu-%llu%n", &first, &last, &n) != 2 || object[n] != '\0' ||
        first > last || last >= (uint64_t)int_or(rec, "seq", 0))
        return;
    if (last > rb->announced)
        rb->announced = last;
}

/* Retention prunes the oldest records and records each run as an audit.prune record announcing
 * "seq:FIRST-LAST"; a later run may prune an earlier run's record, but its own range reaches past
 * everything pruned before. So every pruned record must lie at or below the highest announced
 * LAST; one above it had its bytes removed by something else. Returns 0 or CLI_EVERIFY. */
static int check_pruned_announced(const struct rebuild *rb)
{
    for (size_t i = 0; i < rb->n_runs; i++)
        if (rb->runs[i].last > rb->announced) {
            uint64_t k = rb->runs[i].first > rb->announced ? rb->runs[i].first : rb->announced + 1;
            return verify_failed("record %llu: its bytes were removed but no audit.prune record "
                                 "announces it",
                                 (unsigned long long)k);
        }
    return 0;
}

/* Checks one page of audit_leaves entries starting at *next and appends them to the frontier.
 * Returns 0 or CLI_EVERIFY (printed). */
static int check_leaves(struct rebuild *rb, const json_t *leaves, uint64_t *next, uint64_t want)
{
    size_t i;
    const json_t *lf;
    if (!json_is_array(leaves))
        return verify_failed("record %llu: the server sent a malformed audit_leaves reply",
                             (unsigned long long)*next);
    if (json_array_size(leaves) > want)
        return verify_failed("record %llu: the server sent %zu records where %llu were asked for",
                             (unsigned long long)*next, json_array_size(leaves),
                             (unsigned long long)want);
    json_array_foreach(leaves, i, lf)
    {
        uint64_t pos = *next;
        long long seq = int_or(lf, "seq", -1);
        const json_t *rec = json_object_get(lf, "rec");
        uint8_t stored[32], computed[32];
        if (seq < 1 || (!json_is_string(rec) && !json_is_null(rec)) ||
            get_hash(lf, "hash", stored) != 0)
            return verify_failed("record %llu: the server sent a malformed leaf",
                                 (unsigned long long)pos);
        if ((uint64_t)seq > pos)
            return verify_failed("record %llu missing: the server sent record %lld after "
                                 "record %llu",
                                 (unsigned long long)pos, seq, (unsigned long long)(pos - 1));
        if ((uint64_t)seq < pos)
            return verify_failed("record %lld: sent out of order (record %llu expected)", seq,
                                 (unsigned long long)pos);
        if (json_is_string(rec)) {
            const char *bytes = json_string_value(rec);
            size_t len = json_string_length(rec);
            json_t *o = parse_rec(bytes, len);
            long long field = int_or(o, "seq", -1);
            if (o == NULL)
                return verify_failed("record %llu: its bytes are not a JSON object",
                                     (unsigned long long)pos);
            if (field != seq) {
                json_decref(o);
                return verify_failed("record %llu: its seq field is %lld", (unsigned long long)pos,
                                     field);
            }
            ses_merkle_leaf_hash(computed, (const uint8_t *)bytes, len);
            if (memcmp(computed, stored, 32) != 0) {
                json_decref(o);
                return verify_failed("record %llu: its bytes do not match its leaf hash",
                                     (unsigned long long)pos);
            }
            note_announcement(rb, o);
            json_decref(o);
        } else if (note_pruned(rb, pos) != 0) {
            return cli_error(CLI_ELOCAL, "out of memory");
        }
        if (ses_merkle_append(&rb->f, stored, NULL, NULL) != 0)
            return verify_failed("record %llu: the tree is full", (unsigned long long)pos);
        if (rb->f.size == rb->prev->size) {
            uint8_t root[32];
            ses_merkle_frontier_root(&rb->f, root);
            if (memcmp(root, rb->prev->root, 32) != 0)
                return verify_failed("records 1..%llu do not rebuild the root of the stored "
                                     "checkpoint %llu",
                                     (unsigned long long)rb->prev->size,
                                     (unsigned long long)rb->prev->size);
        }
        (*next)++;
    }
    if (json_array_size(leaves) < want)
        return verify_failed("record %llu missing: the server sent no record %llu",
                             (unsigned long long)*next, (unsigned long long)*next);
    return 0;
}

static int audit_verify(struct cli *cli)
{
    const char *log_key = NULL;
    int repin = 0;
    const struct cli_opt opts[] = {{"log-key", &log_key}};
    const struct audit_flag flags[] = {{"repin", &repin}};
    int rc = parse_audit_args(cli, flags, 1, opts, 1, NULL, VERIFY_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (repin && log_key == NULL)
        return cli_usage_error(VERIFY_USAGE, "--repin needs --log-key with the new key");

    char dir[4200];
    struct ses_note_vkey vk, given;
    int have_vk = 0, status;
    if (state_dir(cli, dir, sizeof dir) != 0)
        return cli_error(CLI_ELOCAL, "cannot find the profile folder (use --home DIR)");
    if ((status = load_pinned(dir, &vk, &have_vk)) != 0)
        return status;
    int pin = 0;
    if (log_key != NULL) {
        if (ses_note_vkey_parse(&given, log_key) != 0)
            return cli_usage_error(
                VERIFY_USAGE, "--log-key is not a log verifier key (NAME+KEYID+KEY, as printed "
                              "by sesamed log-key --data DIR)");
        if (have_vk && !same_vkey(&vk, &given) && !repin)
            return cli_error(CLI_EUSAGE,
                             "--log-key differs from the log key pinned in %s/%s (%s); if the "
                             "operator really replaced the log key, add --repin",
                             dir, VKEY_FILE, vk.name);
        pin = !have_vk || !same_vkey(&vk, &given);
        vk = given;
        have_vk = 1;
    }
    if (!have_vk)
        return cli_error(CLI_EUSAGE, "no log key pinned: get it from the server's operator "
                                     "(sesamed log-key --data DIR) and run sesame audit verify "
                                     "--log-key KEY");
    struct ses_checkpoint prev, cp;
    if ((status = load_stored(dir, &vk, &prev)) != 0)
        return status;

    struct ses_conn *conn = NULL;
    json_t *ck = NULL;
    if ((status = open_session(cli, &conn)) != 0)
        return status;

    /* 1. the latest checkpoint: signature and origin; a new key is pinned once it verified one */
    status = fetch_checkpoint(cli, conn, &vk, 1, &cp, &ck);
    if (status == 0 && pin) {
        char line[SES_NOTE_VKEY_MAX + 2];
        int n = snprintf(line, sizeof line, "%s\n", log_key);
        if (n <= 0 || (size_t)n >= sizeof line || state_write(dir, VKEY_FILE, line, (size_t)n) != 0)
            status = cli_error(CLI_ELOCAL, "cannot write the pinned log key %s/%s", dir, VKEY_FILE);
    }
    /* 2. it extends the stored one */
    if (status == 0 && cp.size < prev.size)
        status = verify_failed("the log shrank: the latest checkpoint has %llu records, the "
                               "stored checkpoint %llu",
                               (unsigned long long)cp.size, (unsigned long long)prev.size);
    if (status == 0 && prev.size > 0 && prev.size == cp.size && memcmp(prev.root, cp.root, 32) != 0)
        status = verify_failed("the log is not consistent with the stored checkpoint: both "
                               "have %llu records but different roots",
                               (unsigned long long)cp.size);
    if (status == 0 && prev.size > 0 && prev.size < cp.size) {
        json_t *reply = NULL;
        status = request(cli, conn,
                         json_pack("{s:s, s:I, s:I}", "t", "audit_consistency", "from",
                                   (json_int_t)prev.size, "to", (json_int_t)cp.size),
                         "audit consistency", &reply);
        uint8_t proof[SES_MERKLE_MAX_PROOF][32];
        size_t count = 0;
        if (status == 0 && get_proof(json_object_get(reply, "proof"), proof, &count) != 0)
            status = verify_failed("the server sent a malformed consistency proof");
        else if (status == 0 &&
                 ses_merkle_verify_consistency(prev.size, cp.size, prev.root, cp.root,
                                               (const uint8_t(*)[32])proof, count) != 0)
            status = verify_failed("the log is not consistent with the stored checkpoint: the "
                                   "consistency proof from %llu to %llu records does not verify",
                                   (unsigned long long)prev.size, (unsigned long long)cp.size);
        json_decref(reply);
    }
    /* 3. every record 1..n, rebuilt into the tree */
    struct rebuild rb = {.prev = &prev};
    ses_merkle_frontier_init(&rb.f);
    uint64_t next = 1;
    while (status == 0 && next <= cp.size) {
        uint64_t want = cp.size - next + 1 < PAGE ? cp.size - next + 1 : PAGE;
        json_t *reply = NULL;
        status = request(cli, conn,
                         json_pack("{s:s, s:I, s:I}", "t", "audit_leaves", "from", (json_int_t)next,
                                   "count", (json_int_t)want),
                         "audit leaves", &reply);
        if (status == 0)
            status = check_leaves(&rb, json_object_get(reply, "leaves"), &next, want);
        json_decref(reply);
    }
    ses_conn_free(conn);
    uint8_t root[32];
    ses_merkle_frontier_root(&rb.f, root);
    if (status == 0 && memcmp(root, cp.root, 32) != 0)
        status = verify_failed("records 1..%llu do not rebuild the signed root of checkpoint %llu",
                               (unsigned long long)cp.size, (unsigned long long)cp.size);
    if (status == 0)
        status = check_pruned_announced(&rb);
    free(rb.runs);
    /* 4. the new checkpoint becomes the stored one */
    if (status == 0) {
        const json_t *note = json_object_get(ck, "checkpoint");
        if (state_write(dir, CHECKPOINT_FILE, json_string_value(note), json_string_length(note)) !=
            0)
            status = cli_error(CLI_ELOCAL, "verified, but cannot store the checkpoint in %s/%s",
                               dir, CHECKPOINT_FILE);
    }
    if (status == 0) {
        char r64[B64STD_HASH_LEN];
        b64std(r64, cp.root);
        if (cli->json) {
            json_t *out =
                json_pack("{s:b, s:I, s:s, s:I, s:I, s:I}", "ok", 1, "size", (json_int_t)cp.size,
                          "root", r64, "previous_size", (json_int_t)prev.size, "records",
                          (json_int_t)(next - 1), "pruned", (json_int_t)rb.pruned);
            cli_print_json(out);
            json_decref(out);
        } else {
            printf("OK: %llu records verified against checkpoint %llu (root %s)\n",
                   (unsigned long long)(next - 1), (unsigned long long)cp.size, r64);
            if (prev.size > 0)
                printf("consistent with the stored checkpoint of %llu records\n",
                       (unsigned long long)prev.size);
            if (rb.pruned > 0)
                printf("%llu pruned records checked by their leaf hash only\n",
                       (unsigned long long)rb.pruned);
        }
    }
    json_decref(ck);
    return status;
}

/* --- export --- */

/* Parses YYYY-MM-DD into ms since the epoch at 00:00 UTC. Returns 0 or -1. */
static int parse_date(const char *s, long long *ms)
{
    int y, m, d, n = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        s[4] != '-' || s[7] != '-' || y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != m - 1)
        return -1; /* e.g. 2025-02-30 */
    *ms = (long long)t * 1000;
    return 0;
}

/* DICOM "Audit Event ID" (type) and FHIR action code of a Sesame action (table in README.md). */
struct fhir_map {
    const char *prefix; /* action, or prefix ending in '.' */
    const char *code, *display, *action;
};
static const struct fhir_map fhir_table[] = {
    {"auth.", "110114", "User Authentication", "E"},
    {"authz.denied", "110113", "Security Alert", "E"},
    {"audit.read", "110101", "Audit Log Used", "R"},
    {"audit.prune", "110101", "Audit Log Used", "D"},
    {"user.invite", "110137", "User Security Attributes Changed", "C"},
    {"device.enroll", "110137", "User Security Attributes Changed", "C"},
    {"user.revoke", "110137", "User Security Attributes Changed", "U"},
    {"device.revoke", "110137", "User Security Attributes Changed", "U"},
    {"server.start", "110120", "Application Start", "E"},
    {"server.stop", "110121", "Application Stop", "E"},
    {"init", "110100", "Application Activity", "C"},
};

static const struct fhir_map *fhir_lookup(const char *action)
{
    static const struct fhir_map other = {"", "110100", "Application Activity", "E"};
    for (size_t i = 0; i < sizeof fhir_table / sizeof fhir_table[0]; i++) {
        const struct fhir_map *m = &fhir_table[i];
        size_t n = strlen(m->prefix);
        if (m->prefix[n - 1] == '.' ? strncmp(action, m->prefix, n) == 0
                                    : strcmp(action, m->prefix) == 0)
            return m;
    }
    return &other;
}

/* One FHIR R4 AuditEvent for a parsed record. New reference, or NULL (out of memory). */
static json_t *fhir_event(const json_t *r, const char *server_id)
{
    const char *action = cli_str(r, "action", "");
    const char *outcome = cli_str(r, "outcome", "");
    const json_t *a = json_object_get(r, "actor");
    const char *user = cli_str(a, "user", NULL), *dev = cli_str(a, "device", NULL);
    const char *role = cli_str(a, "role", NULL), *peer = cli_str(r, "peer", NULL);
    const char *object = cli_str(r, "object", NULL);
    const struct fhir_map *m = fhir_lookup(action);
    char id[48], when[48], observer[96];
    snprintf(id, sizeof id, "sesame-%lld", int_or(r, "seq", 0));
    fmt_time_ms(when, sizeof when, int_or(r, "ts", 0));
    snprintf(observer, sizeof observer, "sesamed %s", server_id);
    const char *code = strcmp(outcome, "ok") == 0         ? "0"
                       : strcmp(outcome, "INTERNAL") == 0 ? "8"
                                                          : "4";

    json_t *agent;
    if (user != NULL || dev != NULL) {
        agent = json_pack("{s:{s:{s:s, s:s}}, s:b}", "who", "identifier", "system",
                          user ? "urn:sesame:user" : "urn:sesame:device", "value",
                          user ? user : dev, "requestor", 1);
        if (agent != NULL && user != NULL && dev != NULL)
            json_object_set_new(agent, "altId", json_string(dev));
    } else {
        agent = json_pack("{s:{s:s}, s:b}", "who", "display", "system", "requestor", 1);
    }
    if (agent != NULL && role != NULL)
        json_object_set_new(agent, "role", json_pack("[{s:s}]", "text", role));
    if (agent != NULL && peer != NULL)
        json_object_set_new(agent, "network",
                            json_pack("{s:s, s:s}", "address", peer, "type", "2"));

    json_t *ev =
        json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:[{s:s, s:s}], s:s, s:s, s:s, s:s, s:[o], "
                  "s:{s:{s:s}, s:[{s:s, s:s, s:s}]}}",
                  "resourceType", "AuditEvent", "id", id, "type", "system",
                  "http://dicom.nema.org/resources/ontology/DCM", "code", m->code, "display",
                  m->display, "subtype", "system", "urn:sesame:audit-action", "code", action,
                  "action", m->action, "recorded", when, "outcome", code, "outcomeDesc", outcome,
                  "agent", agent, "source", "observer", "display", observer, "type", "system",
                  "http://terminology.hl7.org/CodeSystem/security-source-type", "code", "4",
                  "display", "Application Server");
    if (ev != NULL && object != NULL)
        json_object_set_new(ev, "entity",
                            json_pack("[{s:{s:{s:s}}}]", "what", "identifier", "value", object));
    return ev;
}

static int audit_export(struct cli *cli)
{
    const char *from = NULL, *to = NULL;
    int fhir = 0;
    long long from_ms = 0, to_ms = 0;
    const struct cli_opt opts[] = {{"from", &from}, {"to", &to}};
    const struct audit_flag flags[] = {{"fhir", &fhir}};
    int rc = parse_audit_args(cli, flags, 1, opts, 2, NULL, EXPORT_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (from == NULL || to == NULL)
        return cli_usage_error(EXPORT_USAGE, "export needs --from and --to");
    if (parse_date(from, &from_ms) != 0 || parse_date(to, &to_ms) != 0)
        return cli_usage_error(EXPORT_USAGE, "dates are YYYY-MM-DD (UTC)");
    if (to_ms < from_ms)
        return cli_usage_error(EXPORT_USAGE, "--to is before --from");
    to_ms += DAY_MS - 1; /* the whole --to day */

    struct ses_conn *conn = NULL;
    int status = open_session(cli, &conn);
    if (status != 0)
        return status;
    const char *server_id = cli_str(ses_conn_hello(conn), "server_id", "?");
    long long since = 0;
    for (;;) {
        json_t *reply = NULL;
        status = request(cli, conn,
                         json_pack("{s:s, s:I, s:I, s:I, s:i}", "t", "audit_tail", "since",
                                   (json_int_t)since, "from_ts", (json_int_t)from_ms, "to_ts",
                                   (json_int_t)to_ms, "limit", PAGE),
                         "audit tail", &reply);
        if (status != 0)
            break;
        const json_t *records = json_object_get(reply, "records");
        size_t i, n = json_array_size(records);
        const json_t *entry;
        json_array_foreach(records, i, entry)
        {
            const json_t *rec = json_object_get(entry, "rec");
            json_t *r = entry_record(entry);
            int intact = json_is_string(rec) && json_object_get(r, "rec") == NULL;
            if (!fhir && intact &&
                memchr(json_string_value(rec), '\n', json_string_length(rec)) == NULL) {
                /* the record's canonical bytes as they are: leaf hashes can be recomputed */
                fwrite(json_string_value(rec), 1, json_string_length(rec), stdout);
                fputc('\n', stdout);
            } else if (!fhir || intact) {
                json_t *line = fhir ? fhir_event(r, server_id) : json_incref(r);
                char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
                if (text != NULL)
                    puts(text);
                free(text);
                json_decref(line);
            } /* else: a pruned record has nothing left to map to an AuditEvent */
            long long seq = int_or(entry, "seq", since);
            json_decref(r);
            if (seq > since)
                since = seq;
        }
        json_decref(reply);
        if (n < PAGE)
            break;
    }
    ses_conn_free(conn);
    return status;
}

int cmd_audit(struct cli *cli)
{
    static const struct cli_sub subs[] = {
        {"tail", audit_tail},   {"show", audit_show},     {"checkpoint", audit_checkpoint},
        {"prove", audit_prove}, {"verify", audit_verify}, {"export", audit_export}};
    return cli_dispatch(cli, "audit", AUDIT_USAGE, subs, sizeof subs / sizeof subs[0]);
}
