/*
 * cmd_device.c - `sesame device fingerprint` and `sesame device share-history` (PROTOCOL.md §12):
 * on an existing device, re-wrap the message keys of the thread history for another (new) device
 * of the same user, after the user compared that device's key fingerprint, so that a new laptop
 * can read what was sent before it was enrolled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#define FINGERPRINT_USAGE "sesame device fingerprint"
#define SHARE_USAGE "sesame device share-history DEVICE_ID [--thread THREAD] [--yes]"
#define DEVICE_USAGE                                                                               \
    "sesame device link [--ttl SECONDS] | sesame device fingerprint | "                            \
    "sesame device share-history DEVICE_ID [--thread THREAD] [--yes]"

#define REWRAP_BATCH 200 /* re-wraps per request (the protocol maximum) */

/* "abcd ef01 2345 6789" from 16 hex characters. */
static void group4(char out[20], const char fp[17])
{
    snprintf(out, 20, "%.4s %.4s %.4s %.4s", fp, fp + 4, fp + 8, fp + 12);
}

static int device_fingerprint(struct cli *cli)
{
    int rc = cli_parse_opts(cli->argc, cli->argv, NULL, 0, FINGERPRINT_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    char home[4096];
    struct ses_profile p;
    if (ses_profile_home(home, sizeof home, cli->home_opt) != 0)
        return cli_error(CLI_ELOCAL, "cannot find the profile folder (use --home DIR)");
    rc = ses_profile_load(home, &p);
    if (rc != 0) {
        ses_profile_wipe(&p);
        return cli_error(CLI_ELOCAL, "%s (profile folder %s)",
                         rc == SES_ENOT_FOUND ? "not enrolled: run sesame enroll first"
                                              : "cannot read the profile",
                         home);
    }
    char dev[E2E_ID_LEN], fp[17], grouped[20];
    ses_id_to_text(dev, p.device_id);
    e2e_fingerprint(fp, p.keys.sign_pk);
    group4(grouped, fp);
    if (cli->json) {
        json_t *o = json_pack("{s:s, s:s}", "device", dev, "fingerprint", fp);
        if (o == NULL) {
            ses_profile_wipe(&p);
            return cli_error(CLI_ELOCAL, "out of memory");
        }
        cli_print_json(o);
        json_decref(o);
    } else {
        printf("device:      %s\n", dev);
        printf("fingerprint: %s\n", grouped);
    }
    ses_profile_wipe(&p);
    return CLI_OK;
}

/* --- share-history -------------------------------------------------------------------------- */

struct share {
    struct e2e *x;
    struct e2e_device target;
    char thread[E2E_ID_LEN];
    json_t *items; /* the batch being built */
    long posted, stored, skipped;
};

/* Posts the batch (if any). Returns 0 or the exit status. */
static int flush(struct share *sh)
{
    if (json_array_size(sh->items) == 0)
        return 0;
    size_t n = json_array_size(sh->items);
    json_t *req = json_pack("{s:s, s:s, s:s, s:O}", "t", "rewrap", "thread", sh->thread, "device",
                            sh->target.text, "items", sh->items);
    json_t *reply = NULL;
    int status = e2e_request(sh->x, req, "rewrap", &reply);
    if (status != 0)
        return status;
    const json_t *c = json_object_get(reply, "count");
    if (strcmp(cli_str(reply, "thread", ""), sh->thread) != 0 ||
        strcmp(cli_str(reply, "device", ""), sh->target.text) != 0 || !json_is_integer(c) ||
        json_integer_value(c) < 0 || json_integer_value(c) > (json_int_t)n) {
        json_decref(reply);
        return e2e_verify_failed("malformed rewrap reply for thread %s", sh->thread);
    }
    sh->posted += (long)n;
    sh->stored += (long)json_integer_value(c);
    json_decref(reply);
    json_array_clear(sh->items);
    return 0;
}

static int has_wrap_of(const uint8_t *env, size_t len, const uint8_t dev[SES_ID_BYTES])
{
    struct ses_envelope_view v;
    if (ses_envelope_parse(env, len, &v) != 0)
        return 0;
    for (size_t k = 0; k < v.n_wraps; k++)
        if (memcmp(ses_envelope_wrap_device(&v, k), dev, SES_ID_BYTES) == 0)
            return 1;
    return 0;
}

/* One fetched message: opened with every receiver check; if this device reads it through its own
 * wrap and the target has none, its key is re-wrapped for the target. Returns 0 or the status. */
static int share_one(struct share *sh, const struct e2e_roster *r, json_t *run, const json_t *mj)
{
    struct e2e *x = sh->x;
    struct e2e_msg m;
    int rc = e2e_open(x, r, run, mj, &m);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "%s", ses_err_msg(rc));
    if (m.status != E2E_MSG_OK || m.rewrapped) {
        sh->skipped++; /* not verified here, or not this device's own wrap */
        e2e_msg_free(&m);
        return 0;
    }
    const char *b64 = cli_str(mj, "env", "");
    size_t tl = strlen(b64), len = tl * 3 / 4;
    uint8_t *env = malloc(len ? len : 1), sealed[SES_ENVELOPE_SEALED_BYTES], sig[SES_SIG_BYTES];
    if (env == NULL || ses_b64_decode(env, len, b64, tl) != 0) {
        free(env);
        e2e_msg_free(&m);
        return env == NULL ? cli_error(CLI_ELOCAL, "out of memory") : 0;
    }
    int status = 0;
    if (!has_wrap_of(env, len, sh->target.id)) {
        rc = ses_rewrap_create(env, len, x->p.device_id, x->p.keys.box_pk, x->p.keys.box_sk,
                               m.sender_sign_pk, x->p.keys.sign_sk, sh->target.id,
                               sh->target.box_pk, sealed, sig);
        if (rc != 0) {
            sh->skipped++;
            e2e_warn("message #%lld of thread %s: cannot re-wrap its key: %s", (long long)m.seq,
                     sh->thread, ses_err_msg(rc));
        } else {
            char s[SES_ENVELOPE_SEALED_BYTES * 2], g[SES_SIG_BYTES * 2];
            ses_b64_encode(s, sizeof s, sealed, sizeof sealed);
            ses_b64_encode(g, sizeof g, sig, sizeof sig);
            json_t *it =
                json_pack("{s:I, s:s, s:s}", "seq", (json_int_t)m.seq, "sealed", s, "sig", g);
            if (it == NULL || json_array_append_new(sh->items, it) != 0)
                status = cli_error(CLI_ELOCAL, "out of memory");
            else if (json_array_size(sh->items) >= REWRAP_BATCH)
                status = flush(sh);
        }
    }
    sodium_memzero(env, len);
    free(env);
    e2e_msg_free(&m);
    return status;
}

/* Every message of one thread. Returns 0 or the exit status. */
static int share_thread(struct share *sh, const char *thread)
{
    struct e2e *x = sh->x;
    struct e2e_roster *r = NULL;
    int status = e2e_roster_fetch(x, thread, &r);
    if (status != 0)
        return status;
    snprintf(sh->thread, sizeof sh->thread, "%s", r->text);
    /* the roster's entry of the target (if listed) must carry the keys `keys` gave */
    const struct e2e_member *me = e2e_roster_member(r, x->p.user_id);
    for (size_t k = 0; me != NULL && k < me->n_devices; k++) {
        const struct e2e_device *d = &me->devices[k];
        if (memcmp(d->id, sh->target.id, SES_ID_BYTES) == 0 &&
            (sodium_memcmp(d->sign_pk, sh->target.sign_pk, 32) != 0 ||
             sodium_memcmp(d->box_pk, sh->target.box_pk, 32) != 0)) {
            free(r);
            return e2e_verify_failed("the roster of thread %s lists device %s with other keys",
                                     thread, sh->target.text);
        }
    }
    json_t *run = json_object();
    if (run == NULL) {
        free(r);
        return cli_error(CLI_ELOCAL, "out of memory");
    }
    for (int64_t a = 0, through = 0; status == 0 && a < r->last_seq; a = through) {
        json_t *reply = NULL;
        if ((status = e2e_fetch_page(x, r, a, E2E_FETCH_PAGE, &reply, &through)) != 0)
            break;
        size_t i;
        json_t *mj;
        json_array_foreach(json_object_get(reply, "messages"), i, mj)
        {
            if ((status = share_one(sh, r, run, mj)) != 0)
                break;
        }
        json_decref(reply);
        if (through == a)
            break; /* past the thread's end */
    }
    if (status == 0)
        status = flush(sh);
    json_decref(run);
    free(r);
    return status;
}

static int share_history(struct cli *cli)
{
    const char *pos[1], *thread_s = NULL;
    int n_pos = 0, yes = 0;
    /* --yes is a flag: taken out before the options with values are parsed */
    char **args = calloc((size_t)cli->argc + 1, sizeof *args);
    int n_args = 0;
    if (args == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    for (int i = 0; i < cli->argc; i++) {
        if (strcmp(cli->argv[i], "--yes") == 0)
            yes = 1;
        else
            args[n_args++] = cli->argv[i];
    }
    const struct e2e_opt opts[] = {{"thread", &thread_s, NULL, NULL, 0}};
    int rc = e2e_args(n_args, args, opts, 1, SHARE_USAGE, pos, 1, &n_pos);
    free(args);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    uint8_t target[SES_ID_BYTES];
    if (n_pos != 1)
        return cli_usage_error(SHARE_USAGE, "share-history needs the DEVICE_ID of your new device");
    if (ses_id_from_text(target, pos[0]) != 0)
        return cli_usage_error(SHARE_USAGE, "'%s' is not a device id", pos[0]);

    struct e2e x;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    struct share sh;
    memset(&sh, 0, sizeof sh);
    sh.x = &x;
    if (memcmp(target, x.p.device_id, SES_ID_BYTES) == 0)
        return e2e_end(&x,
                       cli_usage_error(SHARE_USAGE, "that is this device: give the id of your "
                                                    "new device (sesame device fingerprint there)"),
                       0);

    /* the target must be an active device of this user (`keys` of the caller) */
    json_t *reply = NULL;
    if ((status = e2e_request(&x, json_pack("{s:s, s:s}", "t", "keys", "user", x.me), "keys",
                              &reply)) != 0)
        return e2e_end(&x, status, 0);
    int found = 0;
    char created[40] = "-";
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(reply, "devices"), i, d)
    {
        const char *id = cli_str(d, "device", ""), *s = cli_str(d, "sign_pk", ""),
                   *b = cli_str(d, "box_pk", "");
        uint8_t did[SES_ID_BYTES];
        if (ses_id_from_text(did, id) != 0 || memcmp(did, target, SES_ID_BYTES) != 0)
            continue;
        if (ses_b64_decode(sh.target.sign_pk, 32, s, strlen(s)) != 0 ||
            ses_b64_decode(sh.target.box_pk, 32, b, strlen(b)) != 0) {
            json_decref(reply);
            return e2e_end(&x, e2e_verify_failed("malformed keys reply for user %s", x.me), 0);
        }
        memcpy(sh.target.id, target, SES_ID_BYTES);
        ses_id_to_text(sh.target.text, target);
        cli_fmt_time(created, sizeof created, json_object_get(d, "created"));
        found = 1;
    }
    json_decref(reply);
    if (!found) {
        char t[E2E_ID_LEN];
        ses_id_to_text(t, target);
        return e2e_end(&x,
                       cli_error(CLI_EUSAGE,
                                 "DENIED: device %s is not an active device of yours; only your "
                                 "own devices can receive your history",
                                 t),
                       0);
    }
    char fp[17], grouped[20];
    e2e_fingerprint(fp, sh.target.sign_pk);
    group4(grouped, fp);

    /* the threads: the one given, else all of the caller's */
    json_t *threads = json_array();
    if (threads == NULL)
        return e2e_end(&x, cli_error(CLI_ELOCAL, "out of memory"), 0);
    if (thread_s != NULL) {
        char tid[E2E_ID_LEN];
        if ((status = e2e_resolve_thread(&x, thread_s, tid)) == 0)
            json_array_append_new(threads, json_string(tid));
    } else if ((status = e2e_request(&x, json_pack("{s:s}", "t", "threads"), "threads", &reply)) ==
               0) {
        json_t *th;
        json_array_foreach(json_object_get(reply, "threads"), i, th)
        {
            const char *tid = cli_str(th, "thread", "");
            if (strlen(tid) == SES_ID_TEXT_LEN)
                json_array_append_new(threads, json_string(tid));
        }
        json_decref(reply);
    }
    if (status != 0) {
        json_decref(threads);
        return e2e_end(&x, status, 0);
    }

    if (!yes) {
        if (cli->json) {
            json_t *o = json_pack("{s:s, s:s, s:O, s:b}", "device", sh.target.text, "fingerprint",
                                  fp, "threads", threads, "done", 0);
            if (o != NULL)
                cli_print_json(o);
            json_decref(o);
        } else {
            printf("device %s is one of your active devices (enrolled %s)\n", sh.target.text,
                   created);
            printf("its key fingerprint: %s\n", grouped);
            printf("would share the history of %zu thread(s) with it: every message this device "
                   "can read gets its key re-wrapped for that device (signed by this device).\n",
                   json_array_size(threads));
            printf("Compare the fingerprint with `sesame device fingerprint` on that device, "
                   "then run again with --yes.\n");
        }
        json_decref(threads);
        return e2e_end(&x, CLI_EUSAGE, 0);
    }

    sh.items = json_array();
    if (sh.items == NULL) {
        json_decref(threads);
        return e2e_end(&x, cli_error(CLI_ELOCAL, "out of memory"), 0);
    }
    json_t *th;
    json_array_foreach(threads, i, th)
    {
        if ((status = share_thread(&sh, json_string_value(th))) != 0)
            break;
    }
    json_decref(sh.items);
    if (status == 0) {
        if (cli->json) {
            json_t *o = json_pack(
                "{s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "device", sh.target.text, "fingerprint", fp,
                "threads", (json_int_t)json_array_size(threads), "rewrapped", (json_int_t)sh.posted,
                "stored", (json_int_t)sh.stored, "skipped", (json_int_t)sh.skipped, "done", 1);
            if (o != NULL)
                cli_print_json(o);
            json_decref(o);
        } else {
            printf("shared the keys of %ld message(s) of %zu thread(s) with device %s "
                   "(fingerprint %s)",
                   sh.posted, json_array_size(threads), sh.target.text, grouped);
            if (sh.posted > sh.stored)
                printf("; %ld already shared before", sh.posted - sh.stored);
            printf("\n");
            if (sh.skipped > 0)
                printf("%ld message(s) this device cannot read or verify were skipped\n",
                       sh.skipped);
        }
    }
    json_decref(threads);
    if (status == 0 && x.refused > 0)
        e2e_warn("%d message(s) refused (see %s/%s)", x.refused, x.p.home, CLI_SECURITY_LOG);
    return e2e_end(&x, status, 1);
}

int cmd_device(struct cli *cli)
{
    const char *sub = cli->argc > 0 ? cli->argv[0] : NULL;
    if (sub == NULL)
        return cli_usage_error(DEVICE_USAGE, "device needs a subcommand");
    if (strcmp(sub, "help") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        printf("usage: %s\n", DEVICE_USAGE);
        return CLI_OK;
    }
    cli->argc--;
    cli->argv++;
    if (strcmp(sub, "fingerprint") == 0)
        return device_fingerprint(cli);
    if (strcmp(sub, "link") == 0)
        return cmd_device_link(cli);
    if (strcmp(sub, "share-history") == 0)
        return share_history(cli);
    return cli_usage_error(DEVICE_USAGE, "unknown device subcommand '%s'", sub);
}
