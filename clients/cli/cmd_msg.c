/*
 * cmd_msg.c - `sesame send`, `sesame sync` and `sesame follow` (PROTOCOL.md §11): encrypt and
 * send a message to a thread; fetch, decrypt and print what this device has not seen yet; stay
 * connected and print pushed messages (and alert events, PROTOCOL.md §13, after a catch-up of the
 * open alerts that concern the user) as they arrive. Each
 * acknowledges delivery of what it printed; the local state (state.h) remembers how far each
 * thread was synced.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#define SEND_USAGE "sesame send THREAD [TEXT|-]"
#define SYNC_USAGE "sesame sync"
#define FOLLOW_USAGE "sesame follow [THREAD] [--count N] [--timeout-exit MS]"

#define FOLLOW_POLL_MS 200

/* --- send ----------------------------------------------------------------------------------- */

/* Reads stdin (at most SES_ENVELOPE_BODY_MAX bytes) into a malloc'd NUL-terminated buffer, minus
 * one trailing newline. Returns 0, CLI_EUSAGE (too long) or CLI_ELOCAL. */
static int read_stdin(char **out, size_t *len)
{
    size_t cap = SES_ENVELOPE_BODY_MAX + 2, n = 0;
    char *buf = malloc(cap);
    if (buf == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    for (;;) {
        ssize_t r = read(STDIN_FILENO, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return cli_error(CLI_ELOCAL, "cannot read the text from stdin");
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > SES_ENVELOPE_BODY_MAX) {
            sodium_memzero(buf, cap);
            free(buf);
            return cli_usage_error(SEND_USAGE, "the text on stdin is longer than %d bytes",
                                   SES_ENVELOPE_BODY_MAX);
        }
    }
    if (n > 0 && buf[n - 1] == '\n')
        n--;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

int cmd_send(struct cli *cli)
{
    const char *pos[2];
    int n_pos = 0;
    int rc = e2e_args(cli->argc, cli->argv, NULL, 0, SEND_USAGE, pos, 2, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos < 1)
        return cli_usage_error(SEND_USAGE, "send needs a THREAD");
    char *text = NULL;
    size_t len = 0;
    if (n_pos == 1 || strcmp(pos[1], "-") == 0) {
        if ((rc = read_stdin(&text, &len)) != 0)
            return rc;
    } else {
        len = strlen(pos[1]);
        if (len > SES_ENVELOPE_BODY_MAX)
            return cli_usage_error(SEND_USAGE, "the text is longer than %d bytes",
                                   SES_ENVELOPE_BODY_MAX);
        if ((text = strdup(pos[1])) == NULL)
            return cli_error(CLI_ELOCAL, "out of memory");
    }
    int status = 0;
    if (len == 0)
        status = cli_usage_error(SEND_USAGE, "the text is empty");
    else if (!e2e_utf8_valid(text, len) || memchr(text, 0, len) != NULL)
        status = cli_usage_error(SEND_USAGE, "the text is not valid UTF-8");
    if (status != 0) {
        sodium_memzero(text, len);
        free(text);
        return status;
    }

    struct e2e x;
    char tid[E2E_ID_LEN];
    struct e2e_roster *r = NULL;
    json_t *sent = NULL;
    status = e2e_begin(cli, &x);
    if (status == 0) {
        if ((status = e2e_resolve_thread(&x, pos[0], tid)) == 0 &&
            (status = e2e_roster_fetch(&x, tid, &r)) == 0)
            status = e2e_send(&x, &r, SES_CONTENT_TEXT, (const uint8_t *)text, len, &sent);
        if (status == 0) {
            if (cli->json) {
                cli_print_json(sent);
            } else {
                printf("sent (seq %lld)%s\n",
                       (long long)json_integer_value(json_object_get(sent, "seq")),
                       json_is_true(json_object_get(sent, "duplicate"))
                           ? " - the server already had it (duplicate)"
                           : "");
            }
        }
        json_decref(sent);
        free(r);
        status = e2e_end(&x, status, 1);
    }
    sodium_memzero(text, len);
    free(text);
    return status;
}

/* --- printing messages of several threads (sync, follow) -------------------------------------- */

struct out {
    struct cli *cli;
    json_t *collect;    /* sync --json: messages gathered for one object */
    int lines;          /* follow --json: one object per line */
    int printed;        /* messages printed */
    int limit;          /* follow --count (0: none) */
    const char *header; /* sync: thread header printed before the first message */
    int header_done;
    int64_t last_done; /* seq of the last message handled */
};

#define STOP_WALK (-1) /* print_one: --count reached */

static int print_one(struct e2e *x, const struct e2e_roster *r, struct e2e_msg *m, void *ud)
{
    struct out *o = ud;
    (void)x;
    if (o->limit > 0 && o->printed >= o->limit) {
        e2e_msg_free(m);
        return STOP_WALK;
    }
    if (o->collect != NULL || o->lines) {
        json_t *j = e2e_msg_json(m, 1);
        if (j != NULL && o->lines) {
            json_t *line = json_pack("{s:s}", "event", "msg");
            if (line != NULL && json_object_update(line, j) == 0)
                cli_print_json(line);
            json_decref(line);
            json_decref(j);
        } else if (j != NULL) {
            json_array_append_new(o->collect, j);
        }
    } else {
        if (o->header != NULL && !o->header_done) {
            printf("== %s  thread %s\n", r->patient, r->text);
            o->header_done = 1;
        }
        char prefix[64] = "";
        if (o->header == NULL)
            snprintf(prefix, sizeof prefix, "[%s %.8s] ", r->patient, r->text);
        e2e_print_msg(m, prefix, NULL);
        fflush(stdout);
    }
    o->printed++;
    o->last_done = m->seq;
    e2e_msg_free(m);
    return 0;
}

/* Prints thread r's messages after the synced mark up to upto, acknowledges delivery of the last
 * one and moves the mark. Returns 0 or the exit status. */
static int catch_up(struct e2e *x, const struct e2e_roster *r, int64_t upto, struct out *o)
{
    json_t *ts = cli_state_thread(&x->st, r->text);
    int64_t synced = (int64_t)cli_state_get(ts, "synced"), max_seen = 0;
    if (upto <= synced)
        return 0;
    json_t *run = json_object();
    if (run == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    o->last_done = 0;
    int status = e2e_walk(x, r, synced, upto, run, print_one, o, &max_seen);
    json_decref(run);
    if (status == STOP_WALK) {
        /* --count reached: only what was printed counts as delivered and synced */
        upto = max_seen = o->last_done;
        status = 0;
    }
    if (status == 0)
        status = e2e_cursor(x, r->text, 0, max_seen);
    if (status == 0) {
        cli_state_set_max(ts, "synced", (uint64_t)upto);
        status = e2e_save(x);
    }
    return status;
}

/* --- sync ----------------------------------------------------------------------------------- */

int cmd_sync(struct cli *cli)
{
    int n_pos = 0;
    int rc = e2e_args(cli->argc, cli->argv, NULL, 0, SYNC_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct e2e x;
    json_t *reply = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if ((status = e2e_request(&x, json_pack("{s:s}", "t", "threads"), "threads", &reply)) != 0)
        return e2e_end(&x, status, 0);
    struct out o = {cli, cli->json ? json_array() : NULL, 0, 0, 0, NULL, 0, 0};
    if (cli->json && o.collect == NULL) {
        json_decref(reply);
        return e2e_end(&x, cli_error(CLI_ELOCAL, "out of memory"), 0);
    }
    size_t i;
    json_t *th;
    json_array_foreach(json_object_get(reply, "threads"), i, th)
    {
        const char *tid = cli_str(th, "thread", "");
        const json_t *last = json_object_get(th, "last_seq");
        int64_t last_seq = json_is_integer(last) ? (int64_t)json_integer_value(last) : 0;
        if (last_seq <= (int64_t)cli_state_get(cli_state_thread(&x.st, tid), "synced"))
            continue;
        struct e2e_roster *r = NULL;
        if ((status = e2e_roster_fetch(&x, tid, &r)) != 0)
            break;
        o.header = "";
        o.header_done = 0;
        status = catch_up(&x, r, last_seq < r->last_seq ? last_seq : r->last_seq, &o);
        free(r);
        if (status != 0)
            break;
    }
    json_decref(reply);
    if (status == 0) {
        if (cli->json) {
            json_t *out = json_pack("{s:O}", "messages", o.collect);
            if (out != NULL)
                cli_print_json(out);
            json_decref(out);
        } else if (o.printed == 0) {
            printf("no new messages\n");
        }
    }
    json_decref(o.collect);
    if (status == 0 && x.refused > 0)
        status = e2e_verify_failed("%d message(s) refused (see %s/%s)", x.refused, x.p.home,
                                   CLI_SECURITY_LOG);
    return e2e_end(&x, status, 1);
}

/* --- follow --------------------------------------------------------------------------------- */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int parse_positive(const char *s, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > max)
        return -1;
    *out = v;
    return 0;
}

/* One pushed {"t":"msg"}: fills a gap since the synced mark first, then prints it, acknowledges
 * delivery and moves the mark. */
static int follow_msg(struct e2e *x, const json_t *push, struct out *o)
{
    const char *tid = cli_str(push, "thread", "");
    const json_t *js = json_object_get(push, "seq");
    int64_t seq = json_is_integer(js) ? (int64_t)json_integer_value(js) : 0;
    json_t *ts = cli_state_thread(&x->st, tid);
    int64_t synced = (int64_t)cli_state_get(ts, "synced");
    if (seq < 1 || seq <= synced)
        return 0; /* shown already */
    struct e2e_roster *r = NULL;
    /* the roster now: members, their devices (a device enrolled since, a revocation) */
    int status = e2e_roster_fetch(x, tid, &r);
    if (status != 0)
        return status;
    if (seq > synced + 1 && (status = catch_up(x, r, seq - 1, o)) != 0) {
        free(r);
        return status;
    }
    if (o->limit > 0 && o->printed >= o->limit) {
        free(r); /* --count reached while filling the gap: this one stays for later */
        return 0;
    }
    json_t *run = json_object();
    struct e2e_msg m;
    if (run == NULL || e2e_open(x, r, run, push, &m) != 0) {
        json_decref(run);
        free(r);
        return cli_error(CLI_ELOCAL, "out of memory");
    }
    json_decref(run);
    o->header = NULL;
    status = print_one(x, r, &m, o);
    if (status == 0)
        status = e2e_cursor(x, r->text, 0, seq);
    if (status == 0) {
        cli_state_set_max(ts, "synced", (uint64_t)seq);
        status = e2e_save(x);
    }
    free(r);
    return status;
}

/* The open alerts that concern this user (owner or cc), most urgent first, printed before going
 * live; each is remembered in seen (id -> ALERT) so that a push about it that was queued while
 * the catch-up was fetched is not printed twice. The session is logged in, so pushes are already
 * queued: nothing raised in between is missed. A refusal is a warning; returns the exit status
 * of a connection failure, else 0. */
static int alerts_catch_up(struct e2e *x, const char *only, json_t *seen)
{
    json_t *req = json_pack("{s:s, s:b, s:i}", "t", "alerts", "open", 1, "limit", 500),
           *reply = NULL;
    if (req != NULL && only[0])
        json_object_set_new(req, "thread", json_string(only));
    int rc = ses_conn_request(x->conn, req, x->cli->timeout_ms, &reply);
    if (rc != 0 && reply == NULL)
        return cli_fail(x->cli, x->conn, rc, NULL, "alerts");
    if (rc != 0) {
        e2e_warn("cannot list the open alerts: %s", cli_str(reply, "code", ses_err_name(rc)));
        json_decref(reply);
        return 0;
    }
    size_t i, n = 0;
    json_t *a;
    json_array_foreach(json_object_get(reply, "alerts"), i, a)
    {
        if (!cli_alert_concerns_me(x, a))
            continue;
        if (n++ == 0 && !x->cli->json)
            printf("== open alerts for you (owner or cc), most urgent first\n");
        cli_alert_catchup_print(x, a);
        json_object_set(seen, cli_str(a, "alert", ""), a);
    }
    if (n > 0 && !x->cli->json) {
        printf("== live\n");
        fflush(stdout);
    }
    json_decref(reply);
    return 0;
}

/* An alert_event push already shown by the catch-up: its raise, or the same alert unchanged. */
static int caught_up(const json_t *seen, const json_t *push)
{
    const json_t *a = json_object_get(push, "alert");
    const json_t *old = json_object_get(seen, cli_str(a, "alert", ""));
    return old != NULL && (strcmp(cli_str(push, "event", ""), "raised") == 0 || json_equal(old, a));
}

int cmd_follow(struct cli *cli)
{
    const char *pos[1], *count_s = NULL, *quiet_s = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"count", &count_s, NULL, NULL, 0},
                                   {"timeout-exit", &quiet_s, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 2, FOLLOW_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    long count = 0, quiet_ms = 0;
    if (count_s != NULL && parse_positive(count_s, 1000000000L, &count) != 0)
        return cli_usage_error(FOLLOW_USAGE, "--count needs a number of messages (1..10^9)");
    if (quiet_s != NULL && parse_positive(quiet_s, 86400000L * 365, &quiet_ms) != 0)
        return cli_usage_error(FOLLOW_USAGE, "--timeout-exit needs milliseconds");

    struct e2e x;
    char only[E2E_ID_LEN] = "";
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if (n_pos == 1) {
        struct e2e_roster *r = NULL;
        if ((status = e2e_resolve_thread(&x, pos[0], only)) == 0)
            status = e2e_roster_fetch(&x, only, &r); /* a member? */
        free(r);
        if (status != 0)
            return e2e_end(&x, status, 0);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    g_stop = 0;

    struct out o = {cli, NULL, cli->json, 0, (int)count, NULL, 0, 0};
    json_t *seen = json_object();
    if (seen == NULL)
        return e2e_end(&x, cli_error(CLI_ELOCAL, "out of memory"), 0);
    if ((status = alerts_catch_up(&x, only, seen)) != 0) {
        json_decref(seen);
        return e2e_end(&x, status, 0);
    }

    /* first what this device has not seen yet (like tail -f), then live pushes */
    json_t *reply = NULL;
    status = e2e_request(&x, json_pack("{s:s}", "t", "threads"), "threads", &reply);
    size_t i;
    json_t *th;
    json_array_foreach(json_object_get(reply, "threads"), i, th)
    {
        const char *tid = cli_str(th, "thread", "");
        if (status != 0 || (only[0] && strcmp(tid, only) != 0))
            continue;
        const json_t *last = json_object_get(th, "last_seq");
        int64_t last_seq = json_is_integer(last) ? (int64_t)json_integer_value(last) : 0;
        if (last_seq <= (int64_t)cli_state_get(cli_state_thread(&x.st, tid), "synced"))
            continue;
        struct e2e_roster *r = NULL;
        if ((status = e2e_roster_fetch(&x, tid, &r)) == 0)
            status = catch_up(&x, r, last_seq < r->last_seq ? last_seq : r->last_seq, &o);
        free(r);
    }
    json_decref(reply);

    uint64_t quiet_since = mono_ms();
    int closing = 0;
    while (status == 0) {
        if (g_stop)
            break;
        if (count > 0 && o.printed >= count)
            break;
        if (quiet_ms > 0 && mono_ms() - quiet_since >= (uint64_t)quiet_ms)
            break;
        json_t *f = NULL;
        rc = ses_conn_recv(x.conn, FOLLOW_POLL_MS, &f);
        if (rc == SES_ETIMEOUT || rc == SES_EBAD_JSON)
            continue;
        if (rc != 0) {
            if (closing)
                status = cli_error(CLI_ECONN, "REVOKED: the server closed the session: this "
                                              "device or its user was revoked");
            else
                status = cli_fail(cli, x.conn, rc, NULL, "follow");
            break;
        }
        const char *t = cli_str(f, "t", "");
        const char *tid = cli_str(f, "thread", "");
        if (strcmp(t, "msg") == 0) {
            if (!only[0] || strcmp(tid, only) == 0) {
                int before = o.printed;
                status = follow_msg(&x, f, &o);
                if (o.printed != before)
                    quiet_since = mono_ms();
                if (status == CLI_ESERVER || status == CLI_EVERIFY)
                    status = 0; /* that thread refused or failed (printed): keep following */
            }
        } else if (strcmp(t, "roster") == 0) {
            if (!only[0] || strcmp(tid, only) == 0) {
                const json_t *v = json_object_get(f, "roster_version");
                if (cli->json) {
                    json_t *line = json_pack("{s:s, s:s, s:O}", "event", "roster", "thread", tid,
                                             "roster_version", v ? v : json_null());
                    if (line != NULL)
                        cli_print_json(line);
                    json_decref(line);
                } else {
                    printf("[roster] the members of thread %s changed (roster version %lld)\n", tid,
                           json_is_integer(v) ? (long long)json_integer_value(v) : -1LL);
                    fflush(stdout);
                }
            }
        } else if (strcmp(t, "rewrap_done") == 0) {
            /* another device of this user shared earlier messages with this one (§12) */
            if (!only[0] || strcmp(tid, only) == 0) {
                const json_t *n = json_object_get(f, "count");
                if (cli->json) {
                    json_t *line = json_pack("{s:s, s:s, s:O}", "event", "history", "thread", tid,
                                             "count", n ? n : json_null());
                    if (line != NULL)
                        cli_print_json(line);
                    json_decref(line);
                } else {
                    printf("[history] %lld earlier message(s) of thread %s were shared with this "
                           "device: sesame thread show %s\n",
                           json_is_integer(n) ? (long long)json_integer_value(n) : -1LL, tid, tid);
                    fflush(stdout);
                }
            }
        } else if (strcmp(t, "alert_event") == 0) {
            /* an alert of one of this user's threads, or addressed to this user (§13); not
             * counted by --count, which counts messages */
            const char *atid = cli_str(json_object_get(f, "alert"), "thread", "");
            if ((!only[0] || strcmp(atid, only) == 0) && !caught_up(seen, f))
                cli_alert_event_print(&x, f);
        } else if (strcmp(t, "closing") == 0) {
            closing = 1;
            if (cli->json) {
                json_t *line = json_pack("{s:s, s:s}", "event", "closing", "reason",
                                         cli_str(f, "reason", "?"));
                if (line != NULL)
                    cli_print_json(line);
                json_decref(line);
            } else {
                printf("[closing] the server is closing this session (%s)\n",
                       cli_str(f, "reason", "?"));
                fflush(stdout);
            }
        }
        json_decref(f);
    }
    json_decref(seen);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    if (status == 0 && x.refused > 0)
        e2e_warn("%d message(s) refused (see %s/%s)", x.refused, x.p.home, CLI_SECURITY_LOG);
    return e2e_end(&x, status, 1);
}
