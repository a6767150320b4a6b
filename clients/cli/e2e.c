/*
 * e2e.c - shared machinery of the thread and message commands (see e2e.h): the session with its
 * local state, verified rosters, opening and sealing envelopes, sending with retries, paging,
 * and printing decrypted text without letting it drive the terminal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/encode.h"
#include "sesame/err.h"

/* --- messages to the user ------------------------------------------------------------------- */

int e2e_verify_failed(const char *fmt, ...)
{
    va_list ap;
    fputs("sesame: error: E2E_VERIFY_FAILED: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EVERIFY;
}

void e2e_warn(const char *fmt, ...)
{
    va_list ap;
    fputs("sesame: warning: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Appends to a note buffer ("; " between parts). */
static void note_add(char *note, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note_add(char *note, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(note);
    if (used > 0 && used + 2 < cap) {
        memcpy(note + used, "; ", 3);
        used += 2;
    }
    if (used + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(note + used, cap - used, fmt, ap);
    va_end(ap);
}

/* --- arguments ------------------------------------------------------------------------------ */

int e2e_args(int argc, char **argv, const struct e2e_opt *opts, size_t n_opts, const char *usage,
             const char **pos, int max_pos, int *n_pos)
{
    int only_pos = 0;
    *n_pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!only_pos && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)) {
            printf("usage: %s\n", usage);
            return -1;
        }
        if (!only_pos && strcmp(arg, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (only_pos || strncmp(arg, "--", 2) != 0) {
            if (*n_pos >= max_pos)
                return cli_usage_error(usage, "unexpected argument '%s'", arg);
            pos[(*n_pos)++] = arg;
            continue;
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct e2e_opt *o = NULL;
        for (size_t k = 0; k < n_opts; k++)
            if (strlen(opts[k].name) == nlen && strncmp(opts[k].name, name, nlen) == 0)
                o = &opts[k];
        if (o == NULL)
            return cli_usage_error(usage, "unknown option '--%.*s'", (int)nlen, name);
        const char *val;
        if (eq != NULL) {
            val = eq + 1;
        } else {
            if (i + 1 >= argc)
                return cli_usage_error(usage, "option '--%s' needs a value", o->name);
            val = argv[++i];
        }
        if (o->list != NULL) {
            if (*o->n_list >= o->max_list)
                return cli_usage_error(usage, "too many '--%s' options (at most %d)", o->name,
                                       o->max_list);
            o->list[(*o->n_list)++] = val;
        } else {
            *o->value = val;
        }
    }
    return 0;
}

/* --- session -------------------------------------------------------------------------------- */

int e2e_begin(struct cli *cli, struct e2e *x)
{
    memset(x, 0, sizeof *x);
    x->cli = cli;
    int status = cli_open_session(cli, &x->p, &x->conn);
    if (status != 0)
        return status;
    ses_id_to_text(x->me, x->p.user_id);
    ses_id_to_text(x->my_device, x->p.device_id);
    int rc = cli_state_load(&x->st, x->p.home, x->p.device_id);
    if (rc != 0) {
        status = cli_error(CLI_ELOCAL,
                           "cannot read the local state %s/%s (%s); move it away to start afresh",
                           x->p.home, CLI_STATE_FILE, ses_err_msg(rc));
        ses_conn_free(x->conn);
        x->conn = NULL;
        ses_profile_wipe(&x->p);
        return status;
    }
    x->have_state = 1;
    x->keys_cache = json_object();
    if (x->keys_cache == NULL) {
        cli_state_free(&x->st);
        ses_conn_free(x->conn);
        ses_profile_wipe(&x->p);
        return cli_error(CLI_ELOCAL, "out of memory");
    }
    return 0;
}

int e2e_save(struct e2e *x)
{
    if (!x->have_state)
        return 0;
    int rc = cli_state_save(&x->st);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "cannot write the local state %s/%s: %s", x->p.home,
                         CLI_STATE_FILE, ses_err_msg(rc));
    return 0;
}

int e2e_end(struct e2e *x, int status, int save)
{
    if (save) {
        int s = e2e_save(x);
        if (s != 0 && status == CLI_OK)
            status = s;
    }
    cli_state_free(&x->st);
    x->have_state = 0;
    json_decref(x->keys_cache);
    json_decref(x->directory);
    x->keys_cache = x->directory = NULL;
    ses_conn_free(x->conn);
    x->conn = NULL;
    ses_profile_wipe(&x->p);
    return status;
}

int e2e_request(struct e2e *x, json_t *req, const char *what, json_t **reply)
{
    *reply = NULL;
    if (req == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    json_t *r = NULL;
    int rc = ses_conn_request(x->conn, req, x->cli->timeout_ms, &r);
    if (rc != 0)
        return cli_fail(x->cli, x->conn, rc, r, what);
    *reply = r;
    return 0;
}

int e2e_reconnect(struct e2e *x)
{
    char err[300];
    json_t *reply = NULL;
    ses_conn_free(x->conn);
    x->conn = NULL;
    int rc =
        ses_conn_open_ex(x->p.server, x->p.ca_file, x->cli->timeout_ms, &x->conn, err, sizeof err);
    if (rc != 0) {
        x->conn = NULL;
        return cli_error(CLI_ECONN, "%s: cannot connect to %s: %s", ses_err_name(rc), x->p.server,
                         err);
    }
    ses_conn_set_timeout(x->conn, x->cli->timeout_ms);
    rc = ses_conn_login(x->conn, x->p.device_id, &x->p.keys, &reply);
    if (rc != 0)
        return cli_fail(x->cli, x->conn, rc, reply, "login");
    json_decref(reply);
    return 0;
}

int e2e_resolve_thread(struct e2e *x, const char *arg, char out[E2E_ID_LEN])
{
    uint8_t id[SES_ID_BYTES];
    if (ses_id_from_text(id, arg) == 0) {
        ses_id_to_text(out, id);
        return 0;
    }
    size_t n = strlen(arg);
    if (strcmp(x->p.role, "admin") == 0)
        return cli_usage_error(NULL,
                               "'%s' is not a thread id; an admin has no caseload to match "
                               "a prefix against: give the whole id (26 characters)",
                               arg);
    if (n < 4 || n > SES_ID_TEXT_LEN)
        return cli_usage_error(NULL,
                               "'%s' is not a thread id (26 characters, or a unique prefix "
                               "of at least 4)",
                               arg);
    json_t *reply = NULL;
    int status = e2e_request(x, json_pack("{s:s}", "t", "threads"), "threads", &reply);
    if (status != 0)
        return status;
    int found = 0;
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(reply, "threads"), i, t)
    {
        const char *tid = cli_str(t, "thread", "");
        if (strlen(tid) == SES_ID_TEXT_LEN && strncasecmp(tid, arg, n) == 0) {
            if (found++ == 0)
                snprintf(out, E2E_ID_LEN, "%s", tid);
        }
    }
    json_decref(reply);
    if (found == 0)
        return cli_usage_error(NULL, "no thread of yours starts with '%s'", arg);
    if (found > 1)
        return cli_usage_error(NULL, "'%s' matches %d threads; give more characters", arg, found);
    return 0;
}

int e2e_resolve_alert(struct e2e *x, const char *arg, char out[E2E_ID_LEN])
{
    uint8_t id[SES_ID_BYTES];
    if (ses_id_from_text(id, arg) == 0) {
        ses_id_to_text(out, id);
        return 0;
    }
    size_t n = strlen(arg);
    if (n < 4 || n > SES_ID_TEXT_LEN)
        return cli_usage_error(NULL,
                               "'%s' is not an alert id (26 characters, or a unique prefix "
                               "of at least 4)",
                               arg);
    json_t *reply = NULL;
    int status =
        e2e_request(x, json_pack("{s:s, s:i}", "t", "alerts", "limit", 500), "alerts", &reply);
    if (status != 0)
        return status;
    int found = 0;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(reply, "alerts"), i, a)
    {
        const char *aid = cli_str(a, "alert", "");
        if (strlen(aid) == SES_ID_TEXT_LEN && strncasecmp(aid, arg, n) == 0) {
            if (found++ == 0)
                snprintf(out, E2E_ID_LEN, "%s", aid);
        }
    }
    json_decref(reply);
    if (found == 0)
        return cli_usage_error(NULL, "no alert of yours starts with '%s'", arg);
    if (found > 1)
        return cli_usage_error(NULL, "'%s' matches %d alerts; give more characters", arg, found);
    return 0;
}

/* --- rosters -------------------------------------------------------------------------------- */

static int get_id(const json_t *o, const char *key, uint8_t out[SES_ID_BYTES],
                  char text[E2E_ID_LEN])
{
    const char *s = cli_str(o, key, NULL);
    if (s == NULL || ses_id_from_text(out, s) != 0)
        return -1;
    ses_id_to_text(text, out);
    return 0;
}

static int get_key(const json_t *o, const char *key, uint8_t *out, size_t n)
{
    const char *s = cli_str(o, key, NULL);
    return (s != NULL && ses_b64_decode(out, n, s, strlen(s)) == 0) ? 0 : -1;
}

static int copy_text(char *out, size_t cap, const json_t *o, const char *key)
{
    const char *s = cli_str(o, key, NULL);
    if (s == NULL || strlen(s) >= cap)
        return -1;
    strcpy(out, s);
    return 0;
}

/* Parses the roster fields. Returns 0 or -1 (malformed). */
static int parse_roster(const json_t *reply, struct e2e_roster *r)
{
    const json_t *ver = json_object_get(reply, "roster_version");
    const json_t *last = json_object_get(reply, "last_seq");
    const json_t *members = json_object_get(reply, "members");
    if (get_id(reply, "thread", r->thread, r->text) != 0 ||
        copy_text(r->patient, sizeof r->patient, reply, "patient") != 0 || !json_is_integer(ver) ||
        json_integer_value(ver) < 0 || json_integer_value(ver) > (json_int_t)UINT32_MAX ||
        !json_is_integer(last) || json_integer_value(last) < 0 ||
        get_key(reply, "roster_hash", r->hash, 32) != 0 || !json_is_array(members) ||
        json_array_size(members) > E2E_MAX_MEMBERS)
        return -1;
    r->version = (uint32_t)json_integer_value(ver);
    r->last_seq = (int64_t)json_integer_value(last);
    size_t i;
    json_t *mj;
    json_array_foreach(members, i, mj)
    {
        struct e2e_member *m = &r->members[r->n_members];
        const json_t *devs = json_object_get(mj, "devices");
        if (get_id(mj, "user", m->user, m->text) != 0 ||
            copy_text(m->name, sizeof m->name, mj, "name") != 0 ||
            copy_text(m->role, sizeof m->role, mj, "role") != 0 || !json_is_array(devs) ||
            json_array_size(devs) > E2E_MAX_DEVICES)
            return -1;
        for (size_t k = 0; k < r->n_members; k++)
            if (memcmp(r->members[k].user, m->user, SES_ID_BYTES) == 0)
                return -1; /* a member twice */
        size_t j;
        json_t *dj;
        json_array_foreach(devs, j, dj)
        {
            struct e2e_device *d = &m->devices[m->n_devices];
            if (get_id(dj, "device", d->id, d->text) != 0 ||
                get_key(dj, "sign_pk", d->sign_pk, 32) != 0 ||
                get_key(dj, "box_pk", d->box_pk, 32) != 0)
                return -1;
            for (size_t a = 0; a <= r->n_members; a++)
                for (size_t b = 0; b < r->members[a].n_devices; b++)
                    if (memcmp(r->members[a].devices[b].id, d->id, SES_ID_BYTES) == 0)
                        return -1; /* a device twice */
            m->n_devices++;
        }
        r->n_members++;
    }
    return 0;
}

const struct e2e_member *e2e_roster_member(const struct e2e_roster *r,
                                           const uint8_t user[SES_ID_BYTES])
{
    for (size_t i = 0; i < r->n_members; i++)
        if (memcmp(r->members[i].user, user, SES_ID_BYTES) == 0)
            return &r->members[i];
    return NULL;
}

int e2e_roster_has_me(const struct e2e *x, const struct e2e_roster *r)
{
    return e2e_roster_member(r, x->p.user_id) != NULL;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void e2e_note_devices(struct e2e *x, const char *user, const char *name,
                      const struct e2e_device *devs, size_t n)
{
    char **lines = calloc(n ? n : 1, sizeof *lines);
    json_t *now = json_array();
    if (lines == NULL || now == NULL)
        goto out;
    for (size_t i = 0; i < n; i++) {
        char s[48], b[48];
        ses_b64_encode(s, sizeof s, devs[i].sign_pk, 32);
        ses_b64_encode(b, sizeof b, devs[i].box_pk, 32);
        lines[i] = malloc(E2E_ID_LEN + 2 * sizeof s + 2);
        if (lines[i] == NULL)
            goto out;
        sprintf(lines[i], "%s %s %s", devs[i].text, s, b);
    }
    qsort(lines, n, sizeof *lines, cmp_str);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(now, json_string(lines[i]));

    json_t *users = cli_state_obj(x->st.root, "users");
    json_t *u = users ? cli_state_obj(users, user) : NULL;
    if (u == NULL)
        goto out;
    json_t *before = json_object_get(u, "devices");
    if (json_is_array(before) && !json_equal(before, now)) {
        char added[600] = "", removed[600] = "";
        size_t i;
        json_t *v;
        json_array_foreach(now, i, v)
        {
            int found = 0;
            size_t k;
            json_t *w;
            json_array_foreach(before, k, w) found = found || json_equal(v, w);
            if (!found)
                note_add(added, sizeof added, "%.8s…", json_string_value(v));
        }
        json_array_foreach(before, i, v)
        {
            int found = 0;
            size_t k;
            json_t *w;
            json_array_foreach(now, k, w) found = found || json_equal(v, w);
            if (!found && json_is_string(v))
                note_add(removed, sizeof removed, "%.8s…", json_string_value(v));
        }
        char *safe = e2e_flatten(name);
        e2e_warn("the devices of %s (%.8s…) changed: %s%s%s%s%s; compare safety numbers "
                 "(sesame safety-number %s)",
                 safe ? safe : "?", user, added[0] ? "new or changed " : "", added,
                 added[0] && removed[0] ? "; " : "", removed[0] ? "gone " : "", removed, user);
        free(safe);
    }
    json_object_set(u, "devices", now);
    json_t *keys = cli_state_obj(u, "keys"); /* every signing key ever seen, for old messages */
    for (size_t i = 0; keys != NULL && i < n; i++) {
        char spk[48];
        ses_b64_encode(spk, sizeof spk, devs[i].sign_pk, 32);
        json_object_set_new(keys, devs[i].text, json_string(spk));
    }
out:
    if (lines != NULL)
        for (size_t i = 0; i < n; i++)
            free(lines[i]);
    free(lines);
    json_decref(now);
}

int e2e_roster_parse(struct e2e *x, const json_t *reply, struct e2e_roster **out)
{
    *out = NULL;
    struct e2e_roster *r = calloc(1, sizeof *r);
    if (r == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    if (parse_roster(reply, r) != 0) {
        free(r);
        return e2e_verify_failed("the server's roster of thread %s is malformed",
                                 cli_str(reply, "thread", "?"));
    }
    uint8_t(*ids)[SES_ID_BYTES] = calloc(r->n_members ? r->n_members : 1, SES_ID_BYTES);
    uint8_t hash[SES_ROSTER_HASH_BYTES];
    if (ids == NULL) {
        free(r);
        return cli_error(CLI_ELOCAL, "out of memory");
    }
    for (size_t i = 0; i < r->n_members; i++)
        memcpy(ids[i], r->members[i].user, SES_ID_BYTES);
    int rc = ses_roster_hash(hash, r->thread, r->version, (const uint8_t(*)[SES_ID_BYTES])ids,
                             r->n_members);
    free(ids);
    if (rc != 0 || sodium_memcmp(hash, r->hash, sizeof hash) != 0) {
        int status = e2e_verify_failed("the server's roster hash of thread %s does not match its "
                                       "member list (version %u); refusing to use it",
                                       r->text, (unsigned)r->version);
        free(r);
        return status;
    }
    const struct e2e_member *me = e2e_roster_member(r, x->p.user_id);
    if (me != NULL) {
        int mine = 0;
        for (size_t k = 0; k < me->n_devices; k++) {
            const struct e2e_device *d = &me->devices[k];
            if (memcmp(d->id, x->p.device_id, SES_ID_BYTES) != 0)
                continue;
            if (sodium_memcmp(d->sign_pk, x->p.keys.sign_pk, 32) != 0 ||
                sodium_memcmp(d->box_pk, x->p.keys.box_pk, 32) != 0) {
                free(r);
                return e2e_verify_failed("the server lists this device (%s) with keys that are "
                                         "not this device's",
                                         x->my_device);
            }
            mine = 1;
        }
        if (!mine) {
            int status = e2e_verify_failed("the server's roster of thread %s leaves out this "
                                           "device (%s)",
                                           r->text, x->my_device);
            free(r);
            return status;
        }
    }
    json_t *t = cli_state_thread(&x->st, r->text);
    json_t *known = t ? cli_state_obj(t, "devices") : NULL;
    for (size_t i = 0; i < r->n_members; i++) {
        e2e_note_devices(x, r->members[i].text, r->members[i].name, r->members[i].devices,
                         r->members[i].n_devices);
        for (size_t k = 0; known && k < r->members[i].n_devices; k++)
            json_object_set_new(known, r->members[i].devices[k].text, json_integer(1));
    }
    *out = r;
    return 0;
}

int e2e_roster_fetch(struct e2e *x, const char *thread, struct e2e_roster **out)
{
    json_t *reply = NULL;
    *out = NULL;
    int status = e2e_request(x, json_pack("{s:s, s:s}", "t", "thread_info", "thread", thread),
                             "thread_info", &reply);
    if (status != 0)
        return status;
    if (strcmp(cli_str(reply, "thread", ""), thread) != 0) {
        json_decref(reply);
        return e2e_verify_failed("asked for the roster of thread %s, the server sent another",
                                 thread);
    }
    status = e2e_roster_parse(x, reply, out);
    json_decref(reply);
    return status;
}

/* --- names ---------------------------------------------------------------------------------- */

void e2e_user_label(struct e2e *x, const struct e2e_roster *r, const char *user, char *name,
                    size_t name_cap, char *role, size_t role_cap)
{
    uint8_t id[SES_ID_BYTES];
    if (r != NULL && ses_id_from_text(id, user) == 0) {
        const struct e2e_member *m = e2e_roster_member(r, id);
        if (m != NULL) {
            snprintf(name, name_cap, "%s", m->name);
            snprintf(role, role_cap, "%s", m->role);
            return;
        }
    }
    if (x->directory == NULL) {
        json_t *reply = NULL;
        if (ses_conn_request(x->conn, json_pack("{s:s}", "t", "directory"), x->cli->timeout_ms,
                             &reply) == 0)
            x->directory = reply;
        else
            x->directory = json_object(); /* not allowed or failed: ids only */
        if (reply != NULL && x->directory != reply)
            json_decref(reply);
    }
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(x->directory, "users"), i, u)
    {
        if (strcmp(cli_str(u, "user", ""), user) == 0) {
            snprintf(name, name_cap, "%s", cli_str(u, "name", "?"));
            snprintf(role, role_cap, "%s", cli_str(u, "role", "?"));
            return;
        }
    }
    snprintf(name, name_cap, "%.8s…", user);
    snprintf(role, role_cap, "?");
}

/* --- opening messages ----------------------------------------------------------------------- */

/* Sign key of device (of user) outside the roster, from `keys USER` (cached). */
static int outside_key(struct e2e *x, const char *user, const char *device, uint8_t pk[32])
{
    json_t *reply = json_object_get(x->keys_cache, user);
    if (reply == NULL) {
        json_t *r = NULL;
        int rc = ses_conn_request(x->conn, json_pack("{s:s, s:s}", "t", "keys", "user", user),
                                  x->cli->timeout_ms, &r);
        if (rc != 0) {
            json_decref(r);
            r = json_object(); /* unknown user or not allowed */
            if (r == NULL)
                return SES_ENOMEM;
        }
        json_object_set_new(x->keys_cache, user, r);
        reply = r;
    }
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(reply, "devices"), i, d)
    {
        if (strcmp(cli_str(d, "device", ""), device) == 0 && get_key(d, "sign_pk", pk, 32) == 0)
            return 0;
    }
    return SES_ENOT_FOUND;
}

static int decode_env(const char *b64, uint8_t **out, size_t *len)
{
    size_t tl = strlen(b64);
    if (tl == 0 || tl > SES_ENVELOPE_B64_MAX)
        return SES_EBAD_ENVELOPE;
    size_t n = tl * 3 / 4;
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return SES_ENOMEM;
    if (ses_b64_decode(buf, n, b64, tl) != 0) {
        free(buf);
        return SES_EBAD_ENVELOPE;
    }
    *out = buf;
    *len = n;
    return 0;
}

static void refuse(struct e2e *x, struct e2e_msg *m, int err, const char *detail)
{
    m->status = E2E_MSG_REFUSED;
    m->err = err;
    if (detail != NULL && detail[0] != '\0')
        note_add(m->note, sizeof m->note, "%s", detail);
    x->refused++;
    cli_security_event(x->p.home, m->thread, m->seq, m->device, ses_err_name(err), detail);
}

static int has_wrap(const struct ses_envelope_view *v, const uint8_t dev[SES_ID_BYTES])
{
    for (size_t k = 0; k < v->n_wraps; k++)
        if (memcmp(ses_envelope_wrap_device(v, k), dev, SES_ID_BYTES) == 0)
            return 1;
    return 0;
}

/* Adds dev to the list if absent. */
static void add_dev(uint8_t (*list)[SES_ID_BYTES], size_t *n, size_t cap,
                    const uint8_t dev[SES_ID_BYTES])
{
    for (size_t i = 0; i < *n; i++)
        if (memcmp(list[i], dev, SES_ID_BYTES) == 0)
            return;
    if (*n < cap)
        memcpy(list[(*n)++], dev, SES_ID_BYTES);
}

void e2e_fingerprint(char out[17], const uint8_t sign_pk[SES_SIGN_PK_BYTES])
{
    uint8_t h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, sign_pk, SES_SIGN_PK_BYTES, NULL, 0);
    sodium_bin2hex(out, 17, h, 8);
}

/* A history re-wrap ("rewrap":{"sealed","sig","by"}) of a fetched message. */
struct rewrap_in {
    uint8_t sealed[SES_ENVELOPE_SEALED_BYTES], sig[SES_SIG_BYTES];
    uint8_t by[SES_ID_BYTES], by_pk[SES_SIGN_PK_BYTES];
    char by_text[E2E_ID_LEN];
};

static int open_env(struct e2e *x, const struct rewrap_in *rw, const uint8_t *env, size_t env_len,
                    const uint8_t sign_pk[32], const uint8_t (*expected)[SES_ID_BYTES],
                    size_t n_exp, uint64_t last, struct ses_opened *o)
{
    if (rw == NULL)
        return ses_envelope_open(env, env_len, x->p.device_id, x->p.keys.box_pk, x->p.keys.box_sk,
                                 sign_pk, expected, n_exp, last, o);
    return ses_envelope_open_rewrap(env, env_len, x->p.device_id, x->p.keys.box_pk,
                                    x->p.keys.box_sk, sign_pk, rw->sealed, rw->sig, rw->by,
                                    rw->by_pk, expected, n_exp, last, o);
}

int e2e_open(struct e2e *x, const struct e2e_roster *r, json_t *run, const json_t *mj,
             struct e2e_msg *m)
{
    struct rewrap_in rwb, *rw = NULL;
    uint8_t *env = NULL, sign_pk[32];
    size_t env_len = 0;
    struct ses_envelope_view v;
    struct ses_opened o;
    const json_t *jseq = json_object_get(mj, "seq"), *jts = json_object_get(mj, "ts");
    uint8_t(*expected)[SES_ID_BYTES] = NULL;
    size_t n_exp = 0, cap_exp;
    int rc;

    memset(m, 0, sizeof *m);
    memset(&o, 0, sizeof o);
    snprintf(m->thread, sizeof m->thread, "%s", r->text);
    snprintf(m->patient, sizeof m->patient, "%s", r->patient);
    m->seq = json_is_integer(jseq) ? (int64_t)json_integer_value(jseq) : 0;
    m->ts = json_is_integer(jts) ? (int64_t)json_integer_value(jts) : 0;
    snprintf(m->sender, sizeof m->sender, "%s", cli_str(mj, "sender", "?"));
    snprintf(m->device, sizeof m->device, "%s", cli_str(mj, "device", "?"));
    e2e_user_label(x, r, m->sender, m->sender_name, sizeof m->sender_name, m->sender_role,
                   sizeof m->sender_role);

    if (m->seq < 1 ||
        (rc = decode_env(cli_str(mj, "env", ""), &env, &env_len)) == SES_EBAD_ENVELOPE) {
        refuse(x, m, SES_EBAD_ENVELOPE, "malformed message frame");
        return 0;
    }
    if (rc != 0)
        return rc;
    if ((rc = ses_envelope_parse(env, env_len, &v)) != 0) {
        refuse(x, m, rc, NULL);
        rc = 0;
        goto out;
    }
    char hu[E2E_ID_LEN], hd[E2E_ID_LEN];
    ses_id_to_text(hu, v.hdr.sender_user_id);
    ses_id_to_text(hd, v.hdr.sender_device_id);
    if (strcmp(hu, m->sender) != 0 || strcmp(hd, m->device) != 0 ||
        memcmp(v.hdr.thread_id, r->thread, SES_ID_BYTES) != 0) {
        refuse(x, m, SES_EINNER_MISMATCH,
               "the server's sender, device or thread differs from the envelope's header");
        goto out;
    }
    m->sender_seq = v.hdr.sender_seq;
    m->created_ms = v.hdr.created_ms;

    /* the sender device's signing key: from the roster, else from `keys` of the sender */
    const struct e2e_member *sm = e2e_roster_member(r, v.hdr.sender_user_id);
    int have_key = 0;
    for (size_t k = 0; sm != NULL && k < sm->n_devices; k++) {
        if (memcmp(sm->devices[k].id, v.hdr.sender_device_id, SES_ID_BYTES) == 0) {
            memcpy(sign_pk, sm->devices[k].sign_pk, 32);
            have_key = 1;
        }
    }
    /* this device's persisted replay mark for the sender device */
    json_t *ts = cli_state_thread(&x->st, r->text);
    json_t *senders = ts ? cli_state_obj(ts, "senders") : NULL;
    json_t *mark = senders ? json_object_get(senders, hd) : NULL;
    uint64_t p_seq = cli_state_get(mark, "seq"), p_sseq = cli_state_get(mark, "sender_seq");
    if (!have_key) {
        rc = outside_key(x, hu, hd, sign_pk);
        if (rc == SES_ENOMEM)
            goto out;
        if (rc != 0) {
            /* no longer active: a message this device already verified from it (seq at or
             * below its mark) is checked with the key remembered then; anything newer is not */
            const json_t *users = json_object_get(x->st.root, "users");
            const char *old =
                cli_str(json_object_get(json_object_get(users, hu), "keys"), hd, NULL);
            if (old == NULL || (uint64_t)m->seq > p_seq ||
                ses_b64_decode(sign_pk, 32, old, strlen(old)) != 0) {
                m->status = E2E_MSG_UNVERIFIED;
                note_add(m->note, sizeof m->note,
                         "cannot verify the sender: device %.8s… is not an active device of %s "
                         "(revoked since?)",
                         hd, m->sender_name);
                rc = 0;
                goto out;
            }
            note_add(m->note, sizeof m->note,
                     "sent from device %.8s…, no longer active (revoked since?); verified with "
                     "its key as seen earlier",
                     hd);
        }
        if (sm == NULL)
            note_add(m->note, sizeof m->note, "the sender is no longer a member");
    }

    /* a history re-wrap: only from another active device of this device's own user */
    const json_t *rwj = json_object_get(mj, "rewrap");
    if (rwj != NULL && !json_is_null(rwj) && !has_wrap(&v, x->p.device_id)) {
        rw = &rwb;
        if (!json_is_object(rwj) || get_key(rwj, "sealed", rw->sealed, sizeof rw->sealed) != 0 ||
            get_key(rwj, "sig", rw->sig, sizeof rw->sig) != 0 ||
            get_id(rwj, "by", rw->by, rw->by_text) != 0) {
            refuse(x, m, SES_EBAD_ENVELOPE, "malformed history re-wrap");
            goto out;
        }
        rc = memcmp(rw->by, x->p.device_id, SES_ID_BYTES) == 0
                 ? SES_ENOT_FOUND
                 : outside_key(x, x->me, rw->by_text, rw->by_pk);
        if (rc == SES_ENOMEM)
            goto out;
        if (rc != 0) {
            m->status = E2E_MSG_UNVERIFIED;
            note_add(m->note, sizeof m->note,
                     "cannot verify the history shared with this device: device %.8s… is not "
                     "another active device of yours",
                     rw->by_text);
            rc = 0;
            goto out;
        }
        m->rewrapped = 1;
        note_add(m->note, sizeof m->note, "history shared with this device by your device %.8s…",
                 rw->by_text);
    }

    /* expected recipients: the roster's devices and every device seen in its earlier rosters */
    json_t *known = ts ? json_object_get(ts, "devices") : NULL;
    cap_exp = json_object_size(known) + v.n_wraps + 1;
    for (size_t i = 0; i < r->n_members; i++)
        cap_exp += r->members[i].n_devices;
    if ((expected = calloc(cap_exp, SES_ID_BYTES)) == NULL) {
        rc = SES_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < r->n_members; i++)
        for (size_t k = 0; k < r->members[i].n_devices; k++)
            add_dev(expected, &n_exp, cap_exp, r->members[i].devices[k].id);
    const char *dk;
    json_t *dv;
    json_object_foreach(known, dk, dv)
    {
        uint8_t id[SES_ID_BYTES];
        if (ses_id_from_text(id, dk) == 0)
            add_dev(expected, &n_exp, cap_exp, id);
    }

    /* replay: persisted mark of this sender device, and this run's */
    json_t *run_seq = cli_state_obj(run, "seq");
    uint64_t r_sseq = cli_state_get(run_seq, hd);
    uint64_t last = r_sseq;
    if ((uint64_t)m->seq > p_seq && p_sseq > last)
        last = p_sseq;

    rc = open_env(x, rw, env, env_len, sign_pk, (const uint8_t(*)[SES_ID_BYTES])expected, n_exp,
                  last, &o);
    if (rc == SES_EGHOST_DEVICE) {
        /* wrapped to a device that is not (or no longer) a member's: say so, still show it */
        char ghosts[200] = "";
        for (size_t k = 0; k < v.n_wraps; k++) {
            const uint8_t *w = ses_envelope_wrap_device(&v, k);
            size_t before = n_exp;
            add_dev(expected, &n_exp, cap_exp, w);
            if (n_exp != before) {
                char t[E2E_ID_LEN];
                ses_id_to_text(t, w);
                size_t used = strlen(ghosts);
                snprintf(ghosts + used, sizeof ghosts - used, "%s%.8s…", used ? ", " : "", t);
            }
        }
        note_add(m->note, sizeof m->note,
                 "cannot verify recipients: also wrapped to %s, not an active device of a "
                 "member now (revoked or removed since?)",
                 ghosts);
        rc = open_env(x, rw, env, env_len, sign_pk, (const uint8_t(*)[SES_ID_BYTES])expected, n_exp,
                      last, &o);
    }
    if (rc == SES_ENOMEM)
        goto out;
    if (rc == SES_EREPLAYED) {
        char d[120];
        snprintf(d, sizeof d, "sender_seq %llu is not above %llu, the last seen from that device",
                 (unsigned long long)v.hdr.sender_seq, (unsigned long long)last);
        refuse(x, m, rc, d);
        rc = 0;
        goto out;
    }
    if (rc != 0) {
        refuse(x, m, rc, NULL);
        rc = 0;
        goto out;
    }
    /* an older message shown again: it must agree with the persisted mark */
    if ((uint64_t)m->seq == p_seq ? o.hdr.sender_seq != p_sseq
                                  : ((uint64_t)m->seq < p_seq && o.hdr.sender_seq >= p_sseq)) {
        refuse(x, m, SES_EREPLAYED, "sender_seq disagrees with the one seen earlier at that seq");
        goto out;
    }
    char mid[32];
    ses_b64_encode(mid, sizeof mid, o.hdr.msg_id, 16);
    json_t *ids = cli_state_obj(run, "ids");
    if (ids == NULL) {
        rc = SES_ENOMEM;
        goto out;
    }
    if (json_object_get(ids, mid) != NULL) {
        refuse(x, m, SES_EREPLAYED, "a msg_id seen twice");
        goto out;
    }
    json_object_set_new(ids, mid, json_integer(1));
    json_object_set_new(run_seq, hd, json_integer((json_int_t)o.hdr.sender_seq));
    if ((uint64_t)m->seq > p_seq && senders != NULL)
        json_object_set_new(senders, hd,
                            json_pack("{s:I, s:I}", "seq", (json_int_t)m->seq, "sender_seq",
                                      (json_int_t)o.hdr.sender_seq));

    m->status = E2E_MSG_OK;
    memcpy(m->sender_sign_pk, sign_pk, sizeof sign_pk);
    m->content_type = o.content_type;
    m->body_len = o.body_len;
    if (o.content_type == SES_CONTENT_TEXT || o.content_type == SES_CONTENT_ALERT_NOTE ||
        o.content_type == SES_CONTENT_THREAD_TITLE) {
        if (e2e_utf8_valid((const char *)o.body, o.body_len) &&
            memchr(o.body, 0, o.body_len) == NULL) {
            if ((m->text = malloc(o.body_len + 1)) == NULL) {
                rc = SES_ENOMEM;
                goto out;
            }
            memcpy(m->text, o.body, o.body_len);
            m->text[o.body_len] = '\0';
        } else {
            note_add(m->note, sizeof m->note, "the text is not valid UTF-8");
        }
    } else if (o.content_type == SES_CONTENT_SCALE) {
        /* a structured record: shown as its fallback line, recomputed from the parsed answers so
         * that what is read always matches what is scored */
        char sent_line[SES_RECORD_TEXT_MAX], line[SES_RECORD_TEXT_MAX];
        sent_line[0] = '\0';
        if (ses_record_parse(o.body, o.body_len, &m->record, sent_line, sizeof sent_line) == 0) {
            m->has_record = 1;
            ses_record_text(&m->record, line, sizeof line);
            if ((m->text = strdup(line)) == NULL) {
                rc = SES_ENOMEM;
                goto out;
            }
            if (sent_line[0] != '\0' && strcmp(sent_line, line) != 0)
                note_add(m->note, sizeof m->note,
                         "the record's own text line differs from its answers; the answers "
                         "are shown");
            sodium_memzero(line, sizeof line);
        } else {
            memset(&m->record, 0, sizeof m->record);
            note_add(m->note, sizeof m->note, "the scale record is malformed (BAD_SCALE)");
        }
        sodium_memzero(sent_line, sizeof sent_line);
    }
    /* roster at the time = the current one: name the members' devices left out */
    if (sodium_memcmp(o.hdr.roster_hash, r->hash, 32) == 0) {
        for (size_t i = 0; i < r->n_members; i++)
            for (size_t k = 0; k < r->members[i].n_devices; k++) {
                const struct e2e_device *d = &r->members[i].devices[k];
                if (memcmp(d->id, o.hdr.sender_device_id, SES_ID_BYTES) != 0 &&
                    !has_wrap(&v, d->id) &&
                    (rw == NULL || memcmp(d->id, x->p.device_id, SES_ID_BYTES) != 0))
                    note_add(m->note, sizeof m->note, "not delivered to %s's device %.8s…",
                             r->members[i].name, d->text);
            }
    }
    int64_t skew = (int64_t)o.hdr.created_ms - m->ts;
    if (skew > E2E_SKEW_NOTE_MS || skew < -E2E_SKEW_NOTE_MS) {
        json_t *c = json_integer((json_int_t)o.hdr.created_ms);
        char when[40];
        cli_fmt_time(when, sizeof when, c);
        json_decref(c);
        note_add(m->note, sizeof m->note, "written at %s by the sender's clock", when);
    }
    rc = 0;
out:
    ses_opened_free(&o);
    free(expected);
    if (env != NULL) {
        sodium_memzero(env, env_len);
        free(env);
    }
    sodium_memzero(sign_pk, sizeof sign_pk);
    sodium_memzero(&rwb, sizeof rwb);
    return rc;
}

void e2e_msg_free(struct e2e_msg *m)
{
    if (m == NULL)
        return;
    if (m->text != NULL) {
        sodium_memzero(m->text, strlen(m->text));
        free(m->text);
    }
    json_decref(m->read_by);
    sodium_memzero(m, sizeof *m); /* the parsed record too */
}

/* --- paging, cursors ------------------------------------------------------------------------ */

int e2e_walk(struct e2e *x, const struct e2e_roster *r, int64_t after, int64_t upto, json_t *run,
             e2e_msg_cb cb, void *ud, int64_t *max_seen)
{
    if (max_seen != NULL)
        *max_seen = 0;
    for (int64_t a = after; a < upto;) {
        int64_t limit = upto - a < E2E_FETCH_PAGE ? upto - a : E2E_FETCH_PAGE;
        json_t *reply = NULL;
        int status = e2e_request(x,
                                 json_pack("{s:s, s:s, s:I, s:I}", "t", "fetch", "thread", r->text,
                                           "after", (json_int_t)a, "limit", (json_int_t)limit),
                                 "fetch", &reply);
        if (status != 0)
            return status;
        const json_t *msgs = json_object_get(reply, "messages");
        if (!json_is_array(msgs) || strcmp(cli_str(reply, "thread", ""), r->text) != 0) {
            json_decref(reply);
            return e2e_verify_failed("malformed fetch reply for thread %s", r->text);
        }
        size_t i;
        json_t *mj;
        int64_t prev = a;
        json_array_foreach(msgs, i, mj)
        {
            const json_t *s = json_object_get(mj, "seq");
            int64_t seq = json_is_integer(s) ? (int64_t)json_integer_value(s) : -1;
            if (seq <= prev || seq > a + limit) {
                json_decref(reply);
                return e2e_verify_failed("the server sent messages of thread %s out of order",
                                         r->text);
            }
            prev = seq;
            struct e2e_msg m;
            int rc = e2e_open(x, r, run, mj, &m);
            if (rc != 0) {
                json_decref(reply);
                return cli_error(CLI_ELOCAL, "%s", ses_err_msg(rc));
            }
            if (max_seen != NULL && seq > *max_seen)
                *max_seen = seq;
            status = cb(x, r, &m, ud);
            if (status != 0) {
                json_decref(reply);
                return status;
            }
        }
        json_decref(reply);
        a += limit;
    }
    return 0;
}

int e2e_cursor(struct e2e *x, const char *thread, int read, int64_t seq)
{
    if (seq < 1)
        return 0;
    json_t *reply = NULL;
    int status = e2e_request(x,
                             json_pack("{s:s, s:s, s:I}", "t", read ? "read" : "ack", "thread",
                                       thread, read ? "seq" : "delivered", (json_int_t)seq),
                             read ? "read" : "ack", &reply);
    json_decref(reply);
    return status;
}

/* --- sending -------------------------------------------------------------------------------- */

/* Scans this device's own messages in thread r after seq `after` (they are all wrapped to it):
 * the highest sender_seq, and the seq of the message with msg_id (0 if none or msg_id NULL). */
static int scan_own(struct e2e *x, const struct e2e_roster *r, int64_t after, const uint8_t *msg_id,
                    uint64_t *max_sseq, int64_t *found)
{
    *max_sseq = 0;
    *found = 0;
    for (int64_t a = after; a < r->last_seq; a += E2E_FETCH_PAGE) {
        json_t *reply = NULL;
        int status =
            e2e_request(x,
                        json_pack("{s:s, s:s, s:I, s:I}", "t", "fetch", "thread", r->text, "after",
                                  (json_int_t)a, "limit", (json_int_t)E2E_FETCH_PAGE),
                        "fetch", &reply);
        if (status != 0)
            return status;
        size_t i;
        json_t *mj;
        json_array_foreach(json_object_get(reply, "messages"), i, mj)
        {
            uint8_t *env = NULL;
            size_t len = 0;
            struct ses_envelope_view v;
            const json_t *js = json_object_get(mj, "seq");
            if (strcmp(cli_str(mj, "device", ""), x->my_device) != 0 || !json_is_integer(js) ||
                decode_env(cli_str(mj, "env", ""), &env, &len) != 0)
                continue;
            if (ses_envelope_parse(env, len, &v) == 0 &&
                memcmp(v.hdr.sender_device_id, x->p.device_id, SES_ID_BYTES) == 0 &&
                memcmp(v.hdr.thread_id, r->thread, SES_ID_BYTES) == 0 &&
                ses_envelope_verify_sig(&v, x->p.keys.sign_pk) == 0) {
                if (v.hdr.sender_seq > *max_sseq)
                    *max_sseq = v.hdr.sender_seq;
                if (msg_id != NULL && memcmp(v.hdr.msg_id, msg_id, SES_ID_BYTES) == 0)
                    *found = (int64_t)json_integer_value(js);
            }
            free(env);
        }
        json_decref(reply);
    }
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Seals body to every device of *r. Returns 0 with *b64 (malloc'd) or the exit status. */
static int seal(struct e2e *x, const struct e2e_roster *r, uint64_t floor, uint8_t content_type,
                const uint8_t *body, size_t len, char **b64, uint8_t msg_id[SES_ID_BYTES])
{
    struct ses_recipient rcpt[SES_MAX_RECIPIENTS];
    size_t n = 0;
    for (size_t i = 0; i < r->n_members; i++)
        for (size_t k = 0; k < r->members[i].n_devices; k++) {
            if (n == SES_MAX_RECIPIENTS)
                return cli_error(CLI_EUSAGE,
                                 "TOO_LARGE: the members of thread %s have more than %d devices",
                                 r->text, SES_MAX_RECIPIENTS);
            memcpy(rcpt[n].device_id, r->members[i].devices[k].id, SES_ID_BYTES);
            memcpy(rcpt[n].box_pk, r->members[i].devices[k].box_pk, SES_BOX_PK_BYTES);
            n++;
        }
    struct ses_envelope_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.thread_id, r->thread, SES_ID_BYTES);
    randombytes_buf(h.msg_id, sizeof h.msg_id);
    memcpy(msg_id, h.msg_id, SES_ID_BYTES);
    memcpy(h.sender_user_id, x->p.user_id, SES_ID_BYTES);
    memcpy(h.sender_device_id, x->p.device_id, SES_ID_BYTES);
    memcpy(h.roster_hash, r->hash, SES_ROSTER_HASH_BYTES);
    int rc = cli_state_next_send_seq(&x->st, r->text, floor, &h.sender_seq);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "cannot save the message counter in %s/%s: %s", x->p.home,
                         CLI_STATE_FILE, ses_err_msg(rc));
    h.created_ms = cli_now_ms();
    uint8_t *env = NULL;
    size_t env_len = 0;
    rc = ses_envelope_seal(&env, &env_len, &h, content_type, body, len, rcpt, n, x->p.keys.sign_sk);
    if (rc == SES_ETOO_LARGE)
        return cli_error(CLI_EUSAGE, "TOO_LARGE: the text is longer than %d bytes",
                         SES_ENVELOPE_BODY_MAX);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "cannot seal the message: %s", ses_err_msg(rc));
    size_t cap = ses_b64_len(env_len) + 1;
    *b64 = malloc(cap);
    if (*b64 == NULL || ses_b64_encode(*b64, cap, env, env_len) != 0) {
        free(*b64);
        *b64 = NULL;
        free(env);
        return cli_error(CLI_ELOCAL, "out of memory");
    }
    free(env);
    return 0;
}

/* The reply the server gave (or would have given) for an envelope it already stored. */
static json_t *sent_reply(const struct e2e_roster *r, int64_t seq, const uint8_t msg_id[16])
{
    char id[32];
    ses_b64_encode(id, sizeof id, msg_id, SES_ID_BYTES);
    return json_pack("{s:s, s:s, s:I, s:s, s:b}", "t", "sent", "thread", r->text, "seq",
                     (json_int_t)seq, "msg_id", id, "duplicate", 1);
}

int e2e_send(struct e2e *x, struct e2e_roster **rp, uint8_t content_type, const uint8_t *body,
             size_t len, json_t **sent)
{
    int conflict_retry = 0, replay_retry = 0, status;
    uint64_t floor = 0;
    *sent = NULL;
    if (!e2e_roster_has_me(x, *rp))
        return cli_error(CLI_ESERVER, "DENIED: you are not a member of thread %s", (*rp)->text);
    for (;;) {
        char *b64 = NULL;
        uint8_t msg_id[SES_ID_BYTES];
        int64_t base = (*rp)->last_seq; /* the message, if stored, comes after this */
        if ((status = seal(x, *rp, floor, content_type, body, len, &b64, msg_id)) != 0)
            return status;
        int rc = 0, resent = 0;
        json_t *reply = NULL;
        for (int attempt = 0;; attempt++) {
            json_t *req =
                json_pack("{s:s, s:s, s:s}", "t", "send", "thread", (*rp)->text, "env", b64);
            if (req == NULL) {
                free(b64);
                return cli_error(CLI_ELOCAL, "out of memory");
            }
            reply = NULL;
            resent = attempt > 0;
            rc = x->conn ? ses_conn_request(x->conn, req, x->cli->timeout_ms, &reply)
                         : (json_decref(req), SES_ECLOSED);
            if ((rc != SES_ETIMEOUT && rc != SES_ECLOSED) || attempt >= E2E_SEND_RETRIES)
                break;
            e2e_warn("%s while sending to thread %.8s…; sending the same message again (%d of %d)",
                     rc == SES_ETIMEOUT ? "no answer" : "connection lost", (*rp)->text, attempt + 1,
                     E2E_SEND_RETRIES);
            json_decref(reply);
            sleep_ms(250 << attempt);
            if (e2e_reconnect(x) != 0) {
                ses_conn_free(x->conn);
                x->conn = NULL;
            }
        }
        free(b64);
        if (rc == 0) {
            *sent = reply;
            return 0;
        }
        if (rc == SES_ECONFLICT && !conflict_retry && x->conn != NULL) {
            /* the roster changed since thread_info: encrypt again to the new one */
            json_decref(reply);
            conflict_retry = 1;
            struct e2e_roster *nr = NULL;
            if ((status = e2e_roster_fetch(x, (*rp)->text, &nr)) != 0)
                return status;
            free(*rp);
            *rp = nr;
            if (resent) {
                /* the lost attempt may have been stored before the roster changed: the server
                 * then answers CONFLICT rather than duplicate, so look before sealing anew */
                uint64_t ignored;
                int64_t found = 0;
                if ((status = scan_own(x, *rp, base, msg_id, &ignored, &found)) != 0)
                    return status;
                if (found > 0) {
                    *sent = sent_reply(*rp, found, msg_id);
                    return *sent ? 0 : cli_error(CLI_ELOCAL, "out of memory");
                }
            }
            if (!e2e_roster_has_me(x, *rp))
                return cli_error(CLI_ESERVER, "DENIED: you are no longer a member of thread %s",
                                 (*rp)->text);
            continue;
        }
        if (rc == SES_EREPLAYED && !replay_retry && x->conn != NULL) {
            /* the local counter is behind this device's last message (state lost): catch up */
            json_decref(reply);
            replay_retry = 1;
            struct e2e_roster *nr = NULL;
            int64_t ignored;
            if ((status = e2e_roster_fetch(x, (*rp)->text, &nr)) != 0)
                return status;
            free(*rp);
            *rp = nr;
            if ((status = scan_own(x, *rp, 0, NULL, &floor, &ignored)) != 0)
                return status;
            e2e_warn("the local message counter of thread %.8s… was behind; continuing after %llu",
                     (*rp)->text, (unsigned long long)floor);
            continue;
        }
        return cli_fail(x->cli, x->conn, rc, reply, "send");
    }
}

/* --- text ----------------------------------------------------------------------------------- */

int e2e_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        size_t n;
        uint32_t cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if ((size_t)(end - p) <= n)
            return 0;
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        p += n + 1;
    }
    return 1;
}

/* Length of the unsafe sequence at p (0 if safe): C0 but \n and \t, DEL, C1 (C2 80..9F),
 * U+202A..202E, U+2066..2069 (bidirectional overrides and isolates). */
static size_t unsafe_at(const unsigned char *p, int keep_newline)
{
    if (*p < 0x20 && !((*p == '\n' && keep_newline) || *p == '\t'))
        return 1;
    if (*p == 0x7F)
        return 1;
    if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F)
        return 2;
    if (p[0] == 0xE2 && p[1] == 0x80 && p[2] >= 0xAA && p[2] <= 0xAE)
        return 3;
    if (p[0] == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9)
        return 3;
    return 0;
}

void e2e_print_safe(FILE *f, const char *s, const char *indent)
{
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = unsafe_at(p, 1);
        if (n > 0) {
            fputc('?', f);
            p += n;
            continue;
        }
        fputc(*p, f);
        if (*p == '\n' && indent != NULL && p[1] != '\0')
            fputs(indent, f);
        p++;
    }
}

char *e2e_flatten(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len + 1), *o = out;
    if (out == NULL)
        return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        if (*p == '\n' || *p == '\t') {
            *o++ = ' ';
            p++;
            continue;
        }
        size_t n = unsafe_at(p, 0);
        if (n > 0) {
            *o++ = '?';
            p += n;
            continue;
        }
        *o++ = (char)*p++;
    }
    *o = '\0';
    return out;
}

static const char *content_label(uint8_t t)
{
    switch (t) {
    case SES_CONTENT_TEXT:
        return "text";
    case SES_CONTENT_SCALE:
        return "scale";
    case SES_CONTENT_ALERT_NOTE:
        return "alert note";
    case SES_CONTENT_THREAD_TITLE:
        return "title";
    default:
        return "unsupported";
    }
}

void e2e_print_msg(const struct e2e_msg *m, const char *prefix, const char *marks)
{
    char when[40];
    json_t *ts = json_integer((json_int_t)m->ts);
    cli_fmt_time(when, sizeof when, ts);
    json_decref(ts);
    char *name = e2e_flatten(m->sender_name);
    printf("%s#%lld  %s  %s (%s)", prefix ? prefix : "", (long long)m->seq, when, name ? name : "?",
           m->sender_role);
    free(name);
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_THREAD_TITLE)
        fputs("  [title]", stdout);
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_ALERT_NOTE)
        fputs("  [alert note]", stdout);
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_SCALE)
        fputs(m->has_record && m->record.kind == SES_RECORD_PLAN ? "  [plan record]"
                                                                 : "  [scale record]",
              stdout);
    if (marks != NULL && marks[0] != '\0')
        printf("  %s", marks);
    fputs("\n    ", stdout);
    if (m->status == E2E_MSG_REFUSED) {
        printf("(REFUSED: %s: %s; message dropped)", ses_err_name(m->err), ses_err_msg(m->err));
    } else if (m->status == E2E_MSG_UNVERIFIED) {
        fputs("(not shown: the sender could not be verified)", stdout);
    } else if (m->text != NULL) {
        e2e_print_safe(stdout, m->text, "    ");
    } else if (m->content_type == SES_CONTENT_SCALE) {
        printf("(scale record, %zu bytes)", m->body_len);
    } else if (m->content_type > SES_CONTENT_TYPE_MAX) {
        printf("(unsupported content, type %u)", (unsigned)m->content_type);
    } else {
        fputs("(unreadable text)", stdout);
    }
    fputc('\n', stdout);
    if (m->note[0] != '\0') {
        fputs("    ! ", stdout);
        e2e_print_safe(stdout, m->note, "      ");
        fputc('\n', stdout);
    }
}

/* {"items":[... (null: not answered)],"total","complete","prorated","answered","band","label"} of
 * one scale; NULL when out of memory. */
static json_t *scale_json(enum ses_scale scale, const uint8_t *items, size_t n)
{
    struct ses_scale_score sc;
    json_t *arr = json_array();
    if (arr == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr,
                              items[i] == SES_ITEM_MISSING ? json_null() : json_integer(items[i]));
    if (ses_scale_score(scale, items, n, 0, &sc) != 0) {
        json_decref(arr);
        return json_pack("{s:n}", "items");
    }
    return json_pack("{s:o, s:i, s:b, s:b, s:i, s:s, s:s}", "items", arr, "total", sc.total,
                     "complete", sc.complete, "prorated", sc.prorated, "answered", sc.answered,
                     "band", ses_band_code(sc.band), "label", ses_band_label(sc.band));
}

json_t *e2e_record_json(const struct ses_record *r)
{
    char date[11];
    ses_day_format(r->day, date);
    if (r->kind == SES_RECORD_PLAN)
        return json_pack("{s:s, s:s, s:b}", "kind", "plan", "date", date, "antidepressant",
                         r->antidepressant);
    json_t *o = json_pack("{s:s, s:s}", "kind", "scales", "date", date);
    if (o == NULL)
        return NULL;
    if (r->has_phq9) {
        json_t *s = scale_json(SES_SCALE_PHQ9, r->phq9, SES_PHQ9_ITEMS);
        if (s != NULL)
            json_object_set_new(s, "item9",
                                r->phq9[SES_PHQ9_ITEMS - 1] == SES_ITEM_MISSING
                                    ? json_null()
                                    : json_integer(r->phq9[SES_PHQ9_ITEMS - 1]));
        json_object_set_new(o, "phq9", s ? s : json_null());
    }
    if (r->has_gad7) {
        json_t *s = scale_json(SES_SCALE_GAD7, r->gad7, SES_GAD7_ITEMS);
        json_object_set_new(o, "gad7", s ? s : json_null());
    }
    if (r->has_phq2) {
        json_t *s = scale_json(SES_SCALE_PHQ2, r->phq2, SES_PHQ2_ITEMS);
        json_object_set_new(o, "phq2", s ? s : json_null());
    }
    return o;
}

json_t *e2e_msg_json(const struct e2e_msg *m, int with_thread)
{
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s, s:b}", "seq", (json_int_t)m->seq, "ts",
                          (json_int_t)m->ts, "sender", m->sender, "sender_name", m->sender_name,
                          "sender_role", m->sender_role, "device", m->device, "verified",
                          m->status == E2E_MSG_OK);
    if (o == NULL)
        return NULL;
    if (with_thread) {
        json_object_set_new(o, "thread", json_string(m->thread));
        json_object_set_new(o, "patient", json_string(m->patient));
    }
    if (m->status == E2E_MSG_OK) {
        json_object_set_new(o, "content_type", json_integer(m->content_type));
        json_object_set_new(o, "content", json_string(content_label(m->content_type)));
        json_object_set_new(o, "created", json_integer((json_int_t)m->created_ms));
        json_object_set_new(o, "sender_seq", json_integer((json_int_t)m->sender_seq));
    } else {
        json_object_set_new(o, "content_type", json_null());
    }
    json_object_set_new(o, "text", m->text ? json_string(m->text) : json_null());
    if (m->status == E2E_MSG_OK && m->has_record)
        json_object_set_new(o, "record", e2e_record_json(&m->record));
    json_object_set_new(o, "error",
                        m->status == E2E_MSG_REFUSED      ? json_string(ses_err_name(m->err))
                        : m->status == E2E_MSG_UNVERIFIED ? json_string("UNVERIFIED_SENDER")
                                                          : json_null());
    json_object_set_new(o, "note", m->note[0] ? json_string(m->note) : json_null());
    return o;
}
