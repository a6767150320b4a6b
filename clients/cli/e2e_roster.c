/*
 * e2e_roster.c - a thread's roster as the server states it (see e2e.h): the reply parsed, its
 * roster hash recomputed from the member ids, this device's own keys checked in it, device key
 * changes of its members warned about and remembered, and display names of users.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/encode.h"
#include "sesame/err.h"

/* --- JSON fields ---------------------------------------------------------------------------- */

int e2e_get_id(const json_t *o, const char *key, uint8_t out[SES_ID_BYTES], char text[E2E_ID_LEN])
{
    const char *s = cli_str(o, key, NULL);
    if (s == NULL || ses_id_from_text(out, s) != 0)
        return -1;
    ses_id_to_text(text, out);
    return 0;
}

int e2e_get_key(const json_t *o, const char *key, uint8_t *out, size_t n)
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

/* --- rosters -------------------------------------------------------------------------------- */

/* Parses the roster fields. Returns 0 or -1 (malformed). */
static int parse_roster(const json_t *reply, struct e2e_roster *r)
{
    const json_t *ver = json_object_get(reply, "roster_version");
    const json_t *last = json_object_get(reply, "last_seq");
    const json_t *members = json_object_get(reply, "members");
    if (e2e_get_id(reply, "thread", r->thread, r->text) != 0 ||
        copy_text(r->patient, sizeof r->patient, reply, "patient") != 0 || !json_is_integer(ver) ||
        json_integer_value(ver) < 0 || json_integer_value(ver) > (json_int_t)UINT32_MAX ||
        !json_is_integer(last) || json_integer_value(last) < 0 ||
        e2e_get_key(reply, "roster_hash", r->hash, 32) != 0 || !json_is_array(members) ||
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
        if (e2e_get_id(mj, "user", m->user, m->text) != 0 ||
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
            if (e2e_get_id(dj, "device", d->id, d->text) != 0 ||
                e2e_get_key(dj, "sign_pk", d->sign_pk, 32) != 0 ||
                e2e_get_key(dj, "box_pk", d->box_pk, 32) != 0)
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
                e2e_note_add(added, sizeof added, "%.8s…", json_string_value(v));
        }
        json_array_foreach(before, i, v)
        {
            int found = 0;
            size_t k;
            json_t *w;
            json_array_foreach(now, k, w) found = found || json_equal(v, w);
            if (!found && json_is_string(v))
                e2e_note_add(removed, sizeof removed, "%.8s…", json_string_value(v));
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

int e2e_roster_fetch_meta(struct e2e *x, const char *thread, struct e2e_roster **out, json_t **meta)
{
    json_t *reply = NULL;
    *out = NULL;
    if (meta != NULL)
        *meta = NULL;
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
    if (status == 0 && meta != NULL) {
        json_t *m = json_object_get(reply, "meta");
        *meta = json_is_object(m) ? json_incref(m) : json_object();
    }
    json_decref(reply);
    return status;
}

int e2e_roster_fetch(struct e2e *x, const char *thread, struct e2e_roster **out)
{
    return e2e_roster_fetch_meta(x, thread, out, NULL);
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

/* --- device keys ---------------------------------------------------------------------------- */

void e2e_fingerprint(char out[17], const uint8_t sign_pk[SES_SIGN_PK_BYTES])
{
    uint8_t h[crypto_generichash_BYTES];
    crypto_generichash(h, sizeof h, sign_pk, SES_SIGN_PK_BYTES, NULL, 0);
    sodium_bin2hex(out, 17, h, 8);
}
