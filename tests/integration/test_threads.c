/*
 * test_threads.c - integration: caseload threads and end-to-end encrypted messages
 * (THREADS-DRAFT.md, to become PROTOCOL.md §11; envelopes §10) against the real sesamed.
 *
 * Users are enrolled with the real CLI; everything else goes through the client library
 * (sesame_client) with envelopes sealed and opened in the test with ses_envelope_seal /
 * ses_envelope_open, so the daemon is checked against the protocol, not against the CLI.
 *
 *  - team_thread: a nurse's thread with a psychiatrist and a GP with two devices; thread_info
 *    (members, active device keys equal to the DB's, roster hash recomputed); three messages
 *    wrapped to all four devices, "sent" only after the commit, fetched and decrypted by every
 *    device, pushed to the online ones but not back to the sending connection.
 *  - offline_catch_up: a device offline during the sends catches up with fetch; delivery and read
 *    cursors, receipts and receipt pushes; cursors only move forward (an older mark changes
 *    nothing and is not pushed as a receipt).
 *  - resend_dedup: the same envelope again (same or new connection, pipelined) is acknowledged
 *    with its seq and "duplicate":true; other bytes under a used msg_id are CONFLICT; an old
 *    sender_seq is REPLAYED.
 *  - resend_after_roster_change: a stored envelope resent after the roster moved on (a lost ack
 *    across a membership change) is still acknowledged as a duplicate, not CONFLICT.
 *  - non_member_and_auditor_denied: non-members, auditors and admins get DENIED (the same for an
 *    unknown thread) and nothing is stored.
 *  - server_side_checks: every server check on send, its error and its order; nothing stored.
 *  - membership_changes: remove, roster pushes, GHOST_DEVICE for a removed member's devices,
 *    re-adding, who may manage members; admin-created threads.
 *  - revoked_device_gets_nothing: a revoked device leaves the roster and cannot be wrapped to.
 *  - restart_keeps_acknowledged: pipelined sends, SIGTERM, restart: everything acknowledged is
 *    there, in order, and decrypts (also for sends cut off by the SIGTERM).
 *  - no_plaintext_at_rest: no plaintext or patient name in the database files or the debug log.
 *  - audit_records: exactly one audit record per send, delivery ack, read and membership change.
 *  - history_rewrap: a GP's laptop enrolled after 3 messages cannot open them; the GP's first
 * device re-wraps their keys for it (PROTOCOL.md §12), the laptop fetches and opens all 3; re-wraps
 * for another user's device, with a forged signature, of unknown or not-own messages, or by a
 *    non-member are refused and change nothing; the first re-wrap is kept; one msg.rewrap audit
 *    record per request.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "harness.h"
#include "wire.h"
#include "sesame/encode.h"
#include "sesame/envelope.h"
#include "sesame/err.h"

/* --- the team -----------------------------------------------------------------------------------
 */

enum { ADMIN, NURSE, PSY, GP1, GP2, NURSE2, AUDITOR, N_WHO };

struct team {
    struct h_env *e;
    char *home[N_WHO];
    struct w_dev *dev[N_WHO];
};

static const char *const who_name[N_WHO] = {"admin",        "Anne Martin",  "Hugo Roux",
                                            "Claire Petit", "Claire Petit", "Marc Blanc",
                                            "Ines Weber"};
static const char *const who_role[N_WHO] = {"admin", "nurse", "psychiatrist", "gp",
                                            "gp",    "nurse", "auditor"};

/* Starts the env's daemon and enrols (CLI) a nurse, a psychiatrist, a GP with two devices, a
 * second nurse (not in the threads) and an auditor; loads every device's profile. */
static void team_start(struct team *t, struct h_env *e)
{
    memset(t, 0, sizeof *t);
    t->e = e;
    h_env_start(e, 0);
    t->home[ADMIN] = strdup(e->admin_home);
    t->home[NURSE] = h_add_user_ok(e, "nurse", "nurse", who_name[NURSE], "Lyon-3", NULL, NULL);
    t->home[PSY] = h_add_user_ok(e, "psy", "psychiatrist", who_name[PSY], "Lyon-3", NULL, NULL);
    char gp_user[40];
    t->home[GP1] = h_add_user_ok(e, "gp", "gp", who_name[GP1], "Villeurbanne", gp_user, NULL);
    struct h_cli r;
    h_cli_run(&r, e->admin_home, NULL, "admin", "invite", "--user", gp_user, NULL);
    h_cli_assert_ok(&r);
    t->home[GP2] = h_env_home(e, "gp-phone");
    char u2[40];
    json_decref(h_enroll_ok(e, t->home[GP2], h_jstr(r.json, "code"), "gp-phone", u2, NULL));
    assert_string_equal(u2, gp_user);
    h_cli_free(&r);
    t->home[NURSE2] = h_add_user_ok(e, "nurse2", "nurse", who_name[NURSE2], NULL, NULL, NULL);
    t->home[AUDITOR] = h_add_user_ok(e, "auditor", "auditor", who_name[AUDITOR], NULL, NULL, NULL);
    for (int i = 0; i < N_WHO; i++)
        t->dev[i] = w_dev_load(t->home[i]);
}

static void team_free(struct team *t)
{
    for (int i = 0; i < N_WHO; i++) {
        w_dev_free(t->dev[i]);
        free(t->home[i]);
    }
    memset(t, 0, sizeof *t);
}

static struct ses_conn *login(const struct team *t, int who)
{
    return w_login_settled(t->e, t->dev[who]);
}

static struct ses_conn *login_dev(const struct team *t, const struct w_dev *d)
{
    return w_login_settled(t->e, d);
}

/* --- rosters (thread_info) ----------------------------------------------------------------------
 */

#define MAX_DEVS 32

struct rdev {
    uint8_t id[SES_ID_BYTES], user[SES_ID_BYTES];
    uint8_t sign_pk[32], box_pk[32];
};

struct roster {
    uint8_t thread[SES_ID_BYTES];
    char thread_text[SES_ID_TEXT_LEN + 1];
    char thread_hex[33];
    char patient[64];
    uint32_t version;
    uint8_t hash[32];
    int64_t last_seq;
    size_t n_members;
    uint8_t members[16][SES_ID_BYTES];
    size_t n_devs;
    struct rdev devs[MAX_DEVS];
};

static void b64_exact(const char *s, uint8_t *out, size_t n)
{
    if (ses_b64_decode(out, n, s, strlen(s)) != 0)
        fail_msg("not base64url of %zu bytes: %s", n, s);
}

static void id_exact(const char *s, uint8_t out[SES_ID_BYTES])
{
    if (ses_id_from_text(out, s) != 0)
        fail_msg("not an id: %s", s);
}

static char *b64_of(const uint8_t *bin, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *s = malloc(cap);
    assert_non_null(s);
    sodium_bin2base64(s, cap, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return s;
}

static char *hex_of(const uint8_t *bin, size_t n)
{
    char *s = malloc(2 * n + 1);
    assert_non_null(s);
    sodium_bin2hex(s, 2 * n + 1, bin, n);
    return s;
}

/* Parses a thread_info (or thread) reply or its fields, asserting the exact shape of §11: keys
 * thread, patient, roster_version, roster_hash, last_seq, members (plus t and id when the frame
 * has them), members {user, name, role, devices}, devices {device, sign_pk, box_pk}; and that
 * roster_hash is ses_roster_hash(thread, roster_version, member ids) recomputed here. */
static void parse_roster(const json_t *j, struct roster *r)
{
    memset(r, 0, sizeof *r);
    size_t extra = (json_object_get(j, "t") ? 1u : 0u) + (json_object_get(j, "id") ? 1u : 0u) +
                   (json_object_get(j, "meta") ? 1u : 0u); /* thread_info: the metadata of §13 */
    assert_int_equal(json_object_size(j), 6 + extra);
    snprintf(r->thread_text, sizeof r->thread_text, "%s", h_jstr(j, "thread"));
    id_exact(r->thread_text, r->thread);
    h_id_hex(r->thread_hex, r->thread_text);
    snprintf(r->patient, sizeof r->patient, "%s", h_jstr(j, "patient"));
    int64_t v = h_jint(j, "roster_version");
    assert_true(v >= 1 && v <= UINT32_MAX);
    r->version = (uint32_t)v;
    b64_exact(h_jstr(j, "roster_hash"), r->hash, 32);
    r->last_seq = h_jint(j, "last_seq");
    const json_t *members = json_object_get(j, "members");
    assert_true(json_is_array(members));
    size_t i;
    const json_t *m;
    json_array_foreach(members, i, m)
    {
        assert_true(i < 16);
        assert_int_equal(json_object_size(m), 4);
        id_exact(h_jstr(m, "user"), r->members[i]);
        h_jstr(m, "name");
        h_jstr(m, "role");
        const json_t *devs = json_object_get(m, "devices");
        assert_true(json_is_array(devs));
        size_t k;
        const json_t *dv;
        json_array_foreach(devs, k, dv)
        {
            assert_true(r->n_devs < MAX_DEVS);
            struct rdev *d = &r->devs[r->n_devs++];
            assert_int_equal(json_object_size(dv), 3);
            id_exact(h_jstr(dv, "device"), d->id);
            memcpy(d->user, r->members[i], SES_ID_BYTES);
            b64_exact(h_jstr(dv, "sign_pk"), d->sign_pk, 32);
            b64_exact(h_jstr(dv, "box_pk"), d->box_pk, 32);
        }
        r->n_members++;
    }
    uint8_t want[32];
    assert_int_equal(ses_roster_hash(want, r->thread, r->version,
                                     (const uint8_t(*)[SES_ID_BYTES])r->members, r->n_members),
                     0);
    if (memcmp(want, r->hash, 32) != 0) {
        char *s = json_dumps(j, JSON_COMPACT);
        print_error("roster_hash is not ses_roster_hash(thread, %u, members): %s\n", r->version,
                    s ? s : "?");
        free(s);
        fail();
    }
}

static const struct rdev *roster_dev(const struct roster *r, const uint8_t id[SES_ID_BYTES])
{
    for (size_t i = 0; i < r->n_devs; i++)
        if (memcmp(r->devs[i].id, id, SES_ID_BYTES) == 0)
            return &r->devs[i];
    return NULL;
}

static bool roster_has_user(const struct roster *r, const uint8_t user[SES_ID_BYTES])
{
    for (size_t i = 0; i < r->n_members; i++)
        if (memcmp(r->members[i], user, SES_ID_BYTES) == 0)
            return true;
    return false;
}

/* The roster's devices are exactly `who` (n of them, each with the keys of its profile and of the
 * devices table, an active device of a member), and its members exactly their users. */
static void expect_roster_devices(const struct team *t, const struct roster *r, const int who[],
                                  size_t n)
{
    size_t users = 0;
    for (size_t i = 0; i < n; i++) {
        const struct w_dev *w = t->dev[who[i]];
        bool first = true;
        for (size_t k = 0; k < i; k++)
            first = first && memcmp(t->dev[who[k]]->prof.user_id, w->prof.user_id, 16) != 0;
        users += first;
        const struct rdev *d = roster_dev(r, w->prof.device_id);
        if (d == NULL)
            fail_msg("device %s (%s) is not in the roster", w->device, who_name[who[i]]);
        assert_memory_equal(d->user, w->prof.user_id, SES_ID_BYTES);
        assert_true(roster_has_user(r, w->prof.user_id));
        assert_memory_equal(d->sign_pk, w->prof.keys.sign_pk, 32);
        assert_memory_equal(d->box_pk, w->prof.keys.box_pk, 32);
        char dhex[33];
        h_id_hex(dhex, w->device);
        char *hs = hex_of(d->sign_pk, 32), *hb = hex_of(d->box_pk, 32), *hu = hex_of(d->user, 16);
        char *db_s =
            h_db_text(t->e->db, "SELECT lower(hex(sign_pk)) FROM devices WHERE id = X'%s'", dhex);
        char *db_b =
            h_db_text(t->e->db, "SELECT lower(hex(box_pk)) FROM devices WHERE id = X'%s'", dhex);
        char *db_u =
            h_db_text(t->e->db, "SELECT lower(hex(user_id)) FROM devices WHERE id = X'%s'", dhex);
        char *db_st = h_db_text(t->e->db, "SELECT state FROM devices WHERE id = X'%s'", dhex);
        assert_string_equal(db_s, hs);
        assert_string_equal(db_b, hb);
        assert_string_equal(db_u, hu);
        assert_string_equal(db_st, "active");
        free(hs);
        free(hb);
        free(hu);
        free(db_s);
        free(db_b);
        free(db_u);
        free(db_st);
    }
    assert_int_equal(r->n_devs, n);
    assert_int_equal(r->n_members, users);
}

/* The member entry of a user in a roster reply: name and role as enrolled. */
static void expect_member_entry(const json_t *reply, const struct team *t, int who)
{
    const json_t *members = json_object_get(reply, "members");
    size_t i;
    const json_t *m;
    json_array_foreach(members, i, m)
    {
        if (strcmp(h_jstr(m, "user"), t->dev[who]->user) == 0) {
            assert_string_equal(h_jstr(m, "name"), who_name[who]);
            assert_string_equal(h_jstr(m, "role"), who_role[who]);
            return;
        }
    }
    fail_msg("%s is not a member in the reply", who_name[who]);
}

static json_t *req_thread(const char *type, const char *thread)
{
    json_t *o = json_pack("{s:s, s:s}", "t", type, "thread", thread);
    assert_non_null(o);
    return o;
}

static json_t *req_thread_user(const char *type, const char *thread, const char *user)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "t", type, "thread", thread, "user", user);
    assert_non_null(o);
    return o;
}

/* thread_info by a member; returns the parsed roster. */
static void thread_info_ok(struct ses_conn *c, const char *thread, struct roster *r)
{
    json_t *reply = w_request_ok(c, req_thread("thread_info", thread), "thread_info");
    parse_roster(reply, r);
    assert_string_equal(r->thread_text, thread);
    json_decref(reply);
}

/* thread_create by the caller with members (user ids of `who`); asserts the "thread" reply. */
static void thread_create_ok(struct ses_conn *c, const struct team *t, const char *patient,
                             const int who[], size_t n, struct roster *r)
{
    json_t *members = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(members, json_string(t->dev[who[i]]->user));
    json_t *req =
        json_pack("{s:s, s:s, s:o}", "t", "thread_create", "patient", patient, "members", members);
    json_t *reply = w_request_ok(c, req, "thread");
    parse_roster(reply, r);
    assert_string_equal(r->patient, patient);
    assert_int_equal(r->version, 1);
    assert_int_equal(r->last_seq, 0);
    json_decref(reply);
    assert_int_equal(
        h_db_int(t->e->db, "SELECT count(*) FROM threads WHERE id = X'%s'", r->thread_hex), 1);
    char *p =
        h_db_text(t->e->db, "SELECT patient_ref FROM threads WHERE id = X'%s'", r->thread_hex);
    assert_string_equal(p, patient);
    free(p);
}

/* --- envelopes -----------------------------------------------------------------------------------
 */

struct sealed {
    uint8_t *env;
    size_t len;
    char *b64;
    struct ses_envelope_header hdr;
    size_t n_to;
    uint8_t to[MAX_DEVS][SES_ID_BYTES]; /* the devices it is wrapped to */
    const char *body;
};

/* The header a member's device would write for roster r. */
static struct ses_envelope_header hdr_for(const struct w_dev *from, const struct roster *r,
                                          uint64_t sender_seq)
{
    struct ses_envelope_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.thread_id, r->thread, SES_ID_BYTES);
    randombytes_buf(h.msg_id, sizeof h.msg_id);
    memcpy(h.sender_user_id, from->prof.user_id, SES_ID_BYTES);
    memcpy(h.sender_device_id, from->prof.device_id, SES_ID_BYTES);
    h.sender_seq = sender_seq;
    memcpy(h.roster_hash, r->hash, 32);
    h.created_ms = (uint64_t)h_wall_ms();
    return h;
}

static void seal_hdr(struct sealed *s, const struct ses_envelope_header *h,
                     const uint8_t sign_sk[64], uint8_t ctype, const char *body,
                     const struct rdev *to, size_t n_to)
{
    memset(s, 0, sizeof *s);
    struct ses_recipient rc[MAX_DEVS];
    assert_true(n_to <= MAX_DEVS);
    for (size_t i = 0; i < n_to; i++) {
        memcpy(rc[i].device_id, to[i].id, SES_ID_BYTES);
        memcpy(rc[i].box_pk, to[i].box_pk, 32);
        memcpy(s->to[i], to[i].id, SES_ID_BYTES);
    }
    s->n_to = n_to;
    s->hdr = *h;
    s->body = body;
    int rc2 = ses_envelope_seal(&s->env, &s->len, h, ctype, (const uint8_t *)body, strlen(body), rc,
                                n_to, sign_sk);
    if (rc2 != 0)
        fail_msg("ses_envelope_seal = %d (%s)", rc2, ses_err_name(rc2));
    s->b64 = b64_of(s->env, s->len);
}

/* A text message from `from`, wrapped to every device of roster r. */
static void seal_msg(struct sealed *s, const struct w_dev *from, const struct roster *r,
                     uint64_t sender_seq, const char *body)
{
    struct ses_envelope_header h = hdr_for(from, r, sender_seq);
    seal_hdr(s, &h, from->prof.keys.sign_sk, SES_CONTENT_TEXT, body, r->devs, r->n_devs);
}

/* Re-encodes after the bytes were changed by hand. */
static void sealed_rewrap(struct sealed *s)
{
    free(s->b64);
    s->b64 = b64_of(s->env, s->len);
}

static void sealed_free(struct sealed *s)
{
    free(s->env);
    free(s->b64);
    memset(s, 0, sizeof *s);
}

/* A roster's device list without the devices of `who` (by device id). */
static size_t devs_without(const struct roster *r, const struct w_dev *const drop[], size_t n_drop,
                           struct rdev *out)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n_devs; i++) {
        bool dropped = false;
        for (size_t k = 0; k < n_drop; k++)
            dropped = dropped || memcmp(r->devs[i].id, drop[k]->prof.device_id, 16) == 0;
        if (!dropped)
            out[n++] = r->devs[i];
    }
    return n;
}

/* The roster entry a device would have (its profile's keys). */
static struct rdev rdev_of(const struct w_dev *w)
{
    struct rdev d;
    memcpy(d.id, w->prof.device_id, 16);
    memcpy(d.user, w->prof.user_id, 16);
    memcpy(d.sign_pk, w->prof.keys.sign_pk, 32);
    memcpy(d.box_pk, w->prof.keys.box_pk, 32);
    return d;
}

/* --- send, fetch, messages -----------------------------------------------------------------------
 */

static json_t *send_req(const char *thread, const struct sealed *s)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "t", "send", "thread", thread, "env", s->b64);
    assert_non_null(o);
    return o;
}

/* Exactly {"t":"sent","id":N,"thread":T,"seq":S,"msg_id":B64,"duplicate":D}. */
static void expect_sent(const json_t *reply, const char *thread, const struct sealed *s,
                        int64_t seq, bool duplicate)
{
    assert_int_equal(json_object_size(reply), 6);
    assert_string_equal(h_jstr(reply, "thread"), thread);
    assert_int_equal(h_jint(reply, "seq"), seq);
    char *mid = b64_of(s->hdr.msg_id, 16);
    assert_string_equal(h_jstr(reply, "msg_id"), mid);
    free(mid);
    const json_t *dup = json_object_get(reply, "duplicate");
    assert_true(json_is_boolean(dup));
    assert_int_equal(json_is_true(dup), duplicate);
}

/* The row of (thread, seq) holds exactly this envelope from this sender. */
static void expect_db_msg(const char *db, const struct roster *r, int64_t seq,
                          const struct sealed *s)
{
    int64_t n = h_db_int(db, "SELECT count(*) FROM messages WHERE thread_id = X'%s' AND seq = %lld",
                         r->thread_hex, (long long)seq);
    if (n != 1)
        fail_msg("no committed messages row for seq %lld when its reply arrived", (long long)seq);
    char *env =
        h_db_text(db, "SELECT lower(hex(env)) FROM messages WHERE thread_id = X'%s' AND seq = %lld",
                  r->thread_hex, (long long)seq);
    char *want = hex_of(s->env, s->len);
    assert_string_equal(env, want);
    free(env);
    free(want);
    char *mid = h_db_text(
        db, "SELECT lower(hex(msg_id)) FROM messages WHERE thread_id = X'%s' AND seq = %lld",
        r->thread_hex, (long long)seq);
    want = hex_of(s->hdr.msg_id, 16);
    assert_string_equal(mid, want);
    free(mid);
    free(want);
    assert_int_equal(
        h_db_int(db, "SELECT sender_seq FROM messages WHERE thread_id = X'%s' AND seq = %lld",
                 r->thread_hex, (long long)seq),
        (int64_t)s->hdr.sender_seq);
}

static int64_t msg_rows(const char *db, const struct roster *r)
{
    return h_db_int(db, "SELECT count(*) FROM messages WHERE thread_id = X'%s'", r->thread_hex);
}

/* send -> "sent" with seq (and the row committed when the reply arrives). */
static void send_ok(const struct team *t, struct ses_conn *c, const struct roster *r,
                    const struct sealed *s, int64_t seq, bool duplicate)
{
    json_t *reply = w_request_ok(c, send_req(r->thread_text, s), "sent");
    expect_sent(reply, r->thread_text, s, seq, duplicate);
    json_decref(reply);
    expect_db_msg(t->e->db, r, seq, s);
}

/* send -> error err, and nothing at all changed in the database (audit included). */
static void send_refused(const struct team *t, struct ses_conn *c, const char *thread,
                         const struct sealed *s, int err)
{
    struct h_snap snap;
    h_snap_take(&snap, t->e->db, NULL);
    w_request_error(c, send_req(thread, s), err);
    /* anything the refusal might have caused has arrived by the pong: not this envelope */
    json_t *got = w_drain(c);
    size_t i;
    json_t *f;
    json_array_foreach(got, i, f)
    {
        const char *env = json_string_value(json_object_get(f, "env"));
        if (env != NULL && strcmp(env, s->b64) == 0)
            fail_msg("a refused envelope was pushed back to its sender");
    }
    json_decref(got);
    h_snap_expect_same(&snap, t->e->db);
    h_snap_free(&snap);
}

/* Hand-sends a send frame with request id `id` (pipelining). */
static void send_raw(struct ses_conn *c, int64_t id, const char *thread, const struct sealed *s)
{
    json_t *o = send_req(thread, s);
    json_object_set_new(o, "id", json_integer(id));
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(txt);
    w_send(c, txt);
    free(txt);
}

static int64_t db_stored_ms(const char *db, const struct roster *r, int64_t seq)
{
    return h_db_int(db, "SELECT stored_ms FROM messages WHERE thread_id = X'%s' AND seq = %lld",
                    r->thread_hex, (long long)seq);
}

/* A message as pushed ({"t":"msg","thread",...}) or fetched (no t, no thread): exact keys, the
 * seq, the sender, ts = the stored time, env = the bytes sent; and it opens on device `me` with
 * ses_envelope_open to exactly body (sender's key and expected devices from roster r). */
static void expect_message(const struct team *t, const json_t *m, bool push, const struct roster *r,
                           const struct w_dev *me, const struct w_dev *sender, int64_t seq,
                           const struct sealed *s)
{
    if (push) {
        assert_int_equal(json_object_size(m), 7);
        assert_string_equal(h_jstr(m, "t"), "msg");
        assert_null(json_object_get(m, "id"));
        assert_string_equal(h_jstr(m, "thread"), r->thread_text);
    } else {
        assert_int_equal(json_object_size(m), 5);
    }
    assert_int_equal(h_jint(m, "seq"), seq);
    assert_string_equal(h_jstr(m, "sender"), sender->user);
    assert_string_equal(h_jstr(m, "device"), sender->device);
    assert_int_equal(h_jint(m, "ts"), db_stored_ms(t->e->db, r, seq));
    const char *b64 = h_jstr(m, "env");
    assert_string_equal(b64, s->b64);
    size_t len = strlen(b64);
    uint8_t *env = malloc(len);
    size_t env_len = 0;
    assert_non_null(env);
    assert_int_equal(sodium_base642bin(env, len, b64, len, NULL, &env_len, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    const struct rdev *sd = roster_dev(r, sender->prof.device_id);
    assert_non_null(sd);
    struct ses_opened o;
    memset(&o, 0, sizeof o);
    int rc = ses_envelope_open(
        env, env_len, me->prof.device_id, me->prof.keys.box_pk, me->prof.keys.box_sk, sd->sign_pk,
        (const uint8_t(*)[SES_ID_BYTES])s->to, s->n_to, s->hdr.sender_seq - 1, &o);
    if (rc != 0)
        fail_msg("ses_envelope_open of seq %lld on %s = %d (%s)", (long long)seq, me->device, rc,
                 ses_err_name(rc));
    assert_int_equal(o.body_len, strlen(s->body));
    assert_memory_equal(o.body, s->body, o.body_len);
    assert_int_equal(o.n_missing, 0);
    assert_memory_equal(o.hdr.msg_id, s->hdr.msg_id, 16);
    ses_opened_free(&o);
    free(env);
}

/* fetch -> exactly {"t":"messages","id","thread","last_seq","through","messages":[...]}, the
 * page's messages within after < seq <= through <= after + limit (100 by default); returns the
 * array. */
static json_t *fetch_ok(struct ses_conn *c, const struct roster *r, int64_t after, int64_t limit)
{
    json_t *req = json_pack("{s:s, s:s, s:I}", "t", "fetch", "thread", r->thread_text, "after",
                            (json_int_t)after);
    if (limit > 0)
        json_object_set_new(req, "limit", json_integer(limit));
    json_t *reply = w_request_ok(c, req, "messages");
    assert_int_equal(json_object_size(reply), 6);
    assert_true(h_jint(reply, "last_seq") >= 0);
    assert_string_equal(h_jstr(reply, "thread"), r->thread_text);
    int64_t through = h_jint(reply, "through");
    assert_true(through >= after && through <= after + (limit > 0 ? limit : 100));
    json_t *msgs = json_incref(json_object_get(reply, "messages"));
    assert_true(json_is_array(msgs));
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
        assert_true(h_jint(m, "seq") > after && h_jint(m, "seq") <= through);
    json_decref(reply);
    return msgs;
}

/* The next frame on c is the push of message seq. */
static void expect_push(const struct team *t, struct ses_conn *c, const struct roster *r,
                        const struct w_dev *me, const struct w_dev *sender, int64_t seq,
                        const struct sealed *s)
{
    json_t *f = w_recv(c, H_CONN_TIMEOUT_MS);
    expect_message(t, f, true, r, me, sender, seq, s);
    json_decref(f);
}

/* The next frame on c is {"t":"roster","thread":T,"roster_version":V}. */
static void expect_roster_push(struct ses_conn *c, const char *thread, int64_t version)
{
    json_t *f = w_recv(c, H_CONN_TIMEOUT_MS);
    w_expect_type(f, "roster", -1);
    assert_int_equal(json_object_size(f), 3);
    assert_string_equal(h_jstr(f, "thread"), thread);
    assert_int_equal(h_jint(f, "roster_version"), version);
    json_decref(f);
}

/* The next frame on c is {"t":"receipt","thread","user","kind","seq"}. */
static void expect_receipt_push(struct ses_conn *c, const char *thread, const struct w_dev *who,
                                const char *kind, int64_t seq)
{
    json_t *f = w_recv(c, H_CONN_TIMEOUT_MS);
    w_expect_type(f, "receipt", -1);
    assert_int_equal(json_object_size(f), 5);
    assert_string_equal(h_jstr(f, "thread"), thread);
    assert_string_equal(h_jstr(f, "user"), who->user);
    assert_string_equal(h_jstr(f, "kind"), kind);
    assert_int_equal(h_jint(f, "seq"), seq);
    json_decref(f);
}

static const char *const ONLY_ROSTER[] = {"roster", NULL};

static json_t *cursor_req(const char *kind, const char *thread, int64_t seq)
{
    bool read = strcmp(kind, "read") == 0;
    json_t *o = json_pack("{s:s, s:s, s:I}", "t", kind, "thread", thread,
                          read ? "seq" : "delivered", (json_int_t)seq);
    assert_non_null(o);
    return o;
}

/* ack / read -> exactly {"t":"ok","id":N}. */
static void cursor_ok(struct ses_conn *c, const char *kind, const char *thread, int64_t seq)
{
    json_t *reply = w_request_ok(c, cursor_req(kind, thread, seq), "ok");
    assert_int_equal(json_object_size(reply), 2);
    json_decref(reply);
}

/* receipts -> exactly one entry per member, each {"user","delivered","read"} as given. */
static void expect_receipts(struct ses_conn *c, const struct roster *r,
                            const struct w_dev *const who[], const int64_t delivered[],
                            const int64_t read[], size_t n)
{
    json_t *reply = w_request_ok(c, req_thread("receipts", r->thread_text), "receipts");
    assert_int_equal(json_object_size(reply), 4);
    assert_string_equal(h_jstr(reply, "thread"), r->thread_text);
    const json_t *members = json_object_get(reply, "members");
    assert_int_equal(json_array_size(members), n);
    for (size_t k = 0; k < n; k++) {
        size_t i, found = 0;
        const json_t *m;
        json_array_foreach(members, i, m)
        {
            assert_int_equal(json_object_size(m), 3);
            if (strcmp(h_jstr(m, "user"), who[k]->user) != 0)
                continue;
            found++;
            if (h_jint(m, "delivered") != delivered[k] || h_jint(m, "read") != read[k]) {
                char *s = json_dumps(reply, JSON_COMPACT);
                print_error("receipts of %s: want delivered %lld read %lld; got %s\n", who[k]->user,
                            (long long)delivered[k], (long long)read[k], s);
                free(s);
                fail();
            }
        }
        assert_int_equal(found, 1);
    }
    json_decref(reply);
}

/* The caller's `threads` line of thread r (asserts exactly one, with the exact keys). */
static json_t *threads_line(struct ses_conn *c, const struct roster *r, size_t want_total)
{
    json_t *reply = w_request_ok(c, json_pack("{s:s}", "t", "threads"), "threads");
    assert_int_equal(json_object_size(reply), 3);
    const json_t *arr = json_object_get(reply, "threads");
    assert_int_equal(json_array_size(arr), want_total);
    json_t *line = NULL;
    size_t i;
    json_t *l;
    json_array_foreach(arr, i, l)
    {
        assert_int_equal(json_object_size(l), 7);
        if (r != NULL && strcmp(h_jstr(l, "thread"), r->thread_text) == 0) {
            assert_null(line);
            line = json_incref(l);
        }
    }
    if (r != NULL)
        assert_non_null(line);
    json_decref(reply);
    return line;
}

/* A snapshot of what a refused request must not change: everything but the audit log (and the
 * devices' last login times, which the logins of the test move). */
static const char *const SKIP_LOGIN[] = {"devices.last_login_ms", NULL};

/* --- 1. team_thread ------------------------------------------------------------------------------
 */

static void test_team_thread(void **state)
{
    struct team t;
    team_start(&t, *state);
    const char *db = t.e->db;
    struct ses_conn *cn = login(&t, NURSE);
    struct ses_conn *cg1 = login(&t, GP1); /* online during the sends */

    /* the directory and the GP's keys (what a client uses to pick members) */
    json_t *dir =
        w_request_ok(cn, json_pack("{s:s, s:s}", "t", "directory", "role", "gp"), "directory");
    assert_int_equal(json_object_size(dir), 3);
    const json_t *users = json_object_get(dir, "users");
    assert_int_equal(json_array_size(users), 1);
    const json_t *u0 = json_array_get(users, 0);
    assert_int_equal(json_object_size(u0), 4);
    assert_string_equal(h_jstr(u0, "user"), t.dev[GP1]->user);
    assert_string_equal(h_jstr(u0, "name"), who_name[GP1]);
    assert_string_equal(h_jstr(u0, "role"), "gp");
    assert_string_equal(h_jstr(u0, "site"), "Villeurbanne");
    json_decref(dir);
    json_t *keys =
        w_request_ok(cn, json_pack("{s:s, s:s}", "t", "keys", "user", t.dev[GP1]->user), "keys");
    assert_int_equal(json_object_size(keys), 4);
    assert_string_equal(h_jstr(keys, "user"), t.dev[GP1]->user);
    assert_int_equal(json_array_size(json_object_get(keys, "devices")), 2);
    for (size_t i = 0; i < 2; i++) {
        const json_t *kd = json_array_get(json_object_get(keys, "devices"), i);
        assert_int_equal(json_object_size(kd), 4);
        const struct w_dev *w =
            strcmp(h_jstr(kd, "device"), t.dev[GP1]->device) == 0 ? t.dev[GP1] : t.dev[GP2];
        assert_string_equal(h_jstr(kd, "device"), w->device);
        uint8_t pk[32];
        b64_exact(h_jstr(kd, "sign_pk"), pk, 32);
        assert_memory_equal(pk, w->prof.keys.sign_pk, 32);
        b64_exact(h_jstr(kd, "box_pk"), pk, 32);
        assert_memory_equal(pk, w->prof.keys.box_pk, 32);
        char dhex[33];
        h_id_hex(dhex, w->device);
        assert_int_equal(h_jint(kd, "created"),
                         h_db_int(db, "SELECT created_ms FROM devices WHERE id = X'%s'", dhex));
    }
    json_decref(keys);

    struct roster r;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-7F3A", members, 2, &r);
    const int devs4[] = {NURSE, PSY, GP1, GP2};
    expect_roster_devices(&t, &r, devs4, 4);
    assert_int_equal(r.n_members, 3);
    assert_int_equal(h_db_int(db,
                              "SELECT count(*) FROM thread_members WHERE thread_id = X'%s' AND "
                              "removed_ms IS NULL",
                              r.thread_hex),
                     3);
    expect_roster_push(cg1, r.thread_text, 1); /* the GP learns about the new thread */

    /* thread_info by every member: the same roster */
    struct ses_conn *cp = login(&t, PSY);
    struct roster r2;
    thread_info_ok(cp, r.thread_text, &r2);
    assert_memory_equal(r2.hash, r.hash, 32);
    expect_roster_devices(&t, &r2, devs4, 4);
    json_t *info = w_request_ok(cn, req_thread("thread_info", r.thread_text), "thread_info");
    for (int who = NURSE; who <= GP1; who++)
        expect_member_entry(info, &t, who);
    assert_string_equal(h_jstr(info, "patient"), "P-7F3A");
    json_decref(info);

    /* another connection of the nurse's own device: a wrapped device like the others */
    struct ses_conn *cn2 = login(&t, NURSE);

    /* three messages, wrapped to all four devices (the nurse's own included) */
    const char *bodies[3] = {"Patient agitated overnight, slept 2 h.",
                             "Lithium level due tomorrow 8:00.", "Family meeting Thursday 14:00."};
    struct sealed m[3];
    for (int i = 0; i < 3; i++) {
        seal_msg(&m[i], t.dev[NURSE], &r, (uint64_t)i + 1, bodies[i]);
        send_ok(&t, cn, &r, &m[i], i + 1, false);
    }
    assert_int_equal(msg_rows(db, &r), 3);
    assert_int_equal(h_db_int(db, "SELECT last_seq FROM threads WHERE id = X'%s'", r.thread_hex),
                     3);

    /* the online GP device got each message pushed, in order, and nothing else */
    for (int i = 0; i < 3; i++)
        expect_push(&t, cg1, &r, t.dev[GP1], t.dev[NURSE], i + 1, &m[i]);
    assert_int_equal(w_drain_only(cg1, NULL), 0);
    /* the psychiatrist logged in after the creation: she got the messages pushed too */
    for (int i = 0; i < 3; i++)
        expect_push(&t, cp, &r, t.dev[PSY], t.dev[NURSE], i + 1, &m[i]);
    assert_int_equal(w_drain_only(cp, NULL), 0);
    /* the sending connection: no push of its own messages (only the creation's roster push);
     * the same device's other connection: each one */
    w_drain_only(cn, ONLY_ROSTER);
    for (int i = 0; i < 3; i++)
        expect_push(&t, cn2, &r, t.dev[NURSE], t.dev[NURSE], i + 1, &m[i]);
    assert_int_equal(w_drain_only(cn2, NULL), 0);
    ses_conn_free(cn2);

    /* every device fetches and decrypts each message, in order */
    struct ses_conn *cg2 = login(&t, GP2);
    struct {
        struct ses_conn *c;
        int who;
    } readers[4] = {{cp, PSY}, {cg1, GP1}, {cg2, GP2}, {cn, NURSE}};
    for (int k = 0; k < 4; k++) {
        json_t *msgs = fetch_ok(readers[k].c, &r, 0, 0);
        assert_int_equal(json_array_size(msgs), 3);
        for (int i = 0; i < 3; i++)
            expect_message(&t, json_array_get(msgs, (size_t)i), false, &r, t.dev[readers[k].who],
                           t.dev[NURSE], i + 1, &m[i]);
        json_decref(msgs);
    }
    /* thread_info and the threads list now say last_seq 3 */
    thread_info_ok(cg2, r.thread_text, &r2);
    assert_int_equal(r2.last_seq, 3);
    assert_int_equal(r2.version, 1);
    json_t *line = threads_line(cp, &r, 1);
    assert_string_equal(h_jstr(line, "patient"), "P-7F3A");
    assert_int_equal(h_jint(line, "roster_version"), 1);
    assert_int_equal(h_jint(line, "last_seq"), 3);
    assert_int_equal(h_jint(line, "last_ms"),
                     h_db_int(db, "SELECT last_ms FROM threads WHERE id = X'%s'", r.thread_hex));
    assert_int_equal(h_jint(line, "last_ms"), db_stored_ms(db, &r, 3));
    assert_int_equal(h_jint(line, "read_seq"), 0);
    assert_int_equal(h_jint(line, "unread"), 3);
    json_decref(line);

    for (int i = 0; i < 3; i++)
        sealed_free(&m[i]);
    ses_conn_free(cn);
    ses_conn_free(cp);
    ses_conn_free(cg1);
    ses_conn_free(cg2);
    team_free(&t);
}

/* --- 2. offline_catch_up -------------------------------------------------------------------------
 */

static void test_offline_catch_up(void **state)
{
    struct team t;
    team_start(&t, *state);
    struct ses_conn *cn = login(&t, NURSE);
    struct ses_conn *cg2 = login(&t, GP2);
    struct roster r;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-0C41", members, 2, &r);
    expect_roster_push(cg2, r.thread_text, 1);
    ses_conn_free(cg2); /* GP device 2 goes offline */

    const char *bodies[3] = {"BP 150/95 at 07:00", "Refused breakfast", "Calmer after visit"};
    struct sealed m[3];
    for (int i = 0; i < 3; i++) {
        seal_msg(&m[i], t.dev[NURSE], &r, (uint64_t)i + 1, bodies[i]);
        send_ok(&t, cn, &r, &m[i], i + 1, false);
    }
    w_drain_only(cn, ONLY_ROSTER);

    /* back online: everything since 0, in order; then windows of it */
    cg2 = login(&t, GP2);
    json_t *msgs = fetch_ok(cg2, &r, 0, 0);
    assert_int_equal(json_array_size(msgs), 3);
    for (int i = 0; i < 3; i++)
        expect_message(&t, json_array_get(msgs, (size_t)i), false, &r, t.dev[GP2], t.dev[NURSE],
                       i + 1, &m[i]);
    json_decref(msgs);
    msgs = fetch_ok(cg2, &r, 1, 0);
    assert_int_equal(json_array_size(msgs), 2);
    expect_message(&t, json_array_get(msgs, 0), false, &r, t.dev[GP2], t.dev[NURSE], 2, &m[1]);
    json_decref(msgs);
    msgs = fetch_ok(cg2, &r, 0, 1);
    assert_int_equal(json_array_size(msgs), 1);
    expect_message(&t, json_array_get(msgs, 0), false, &r, t.dev[GP2], t.dev[NURSE], 1, &m[0]);
    json_decref(msgs);
    msgs = fetch_ok(cg2, &r, 3, 500);
    assert_int_equal(json_array_size(msgs), 0);
    json_decref(msgs);
    /* limit is 1..500 */
    for (int k = 0; k < 2; k++) {
        json_t *req = json_pack("{s:s, s:s, s:i, s:i}", "t", "fetch", "thread", r.thread_text,
                                "after", 0, "limit", k == 0 ? 0 : 501);
        w_request_error(cg2, req, SES_EBAD_FIELD);
    }

    /* receipts before any cursor: zeros for the three members */
    const struct w_dev *who[3] = {t.dev[NURSE], t.dev[PSY], t.dev[GP1]};
    int64_t del[3] = {0, 0, 0}, rd[3] = {0, 0, 0};
    expect_receipts(cn, &r, who, del, rd, 3);

    /* delivery ack by GP device 2: the GP's delivered mark is 3, the nurse is told */
    cursor_ok(cg2, "ack", r.thread_text, 3);
    expect_receipt_push(cn, r.thread_text, t.dev[GP1], "delivered", 3);
    del[2] = 3;
    expect_receipts(cn, &r, who, del, rd, 3);
    char dhex[33], uhex[33];
    h_id_hex(dhex, t.dev[GP2]->device);
    h_id_hex(uhex, t.dev[GP2]->user);
    assert_int_equal(h_db_int(t.e->db,
                              "SELECT delivered_seq FROM cursors WHERE device_id = X'%s' AND "
                              "thread_id = X'%s'",
                              dhex, r.thread_hex),
                     3);
    /* read: read = 3 */
    cursor_ok(cg2, "read", r.thread_text, 3);
    expect_receipt_push(cn, r.thread_text, t.dev[GP1], "read", 3);
    rd[2] = 3;
    expect_receipts(cg2, &r, who, del, rd, 3);
    assert_int_equal(
        h_db_int(t.e->db, "SELECT read_seq FROM reads WHERE user_id = X'%s' AND thread_id = X'%s'",
                 uhex, r.thread_hex),
        3);
    json_t *line = threads_line(cg2, &r, 1);
    assert_int_equal(h_jint(line, "read_seq"), 3);
    assert_int_equal(h_jint(line, "unread"), 0);
    json_decref(line);
    assert_int_equal(w_drain_only(cn, NULL), 0);

    /* 1 <= S <= last seq */
    struct h_snap snap;
    h_snap_take(&snap, t.e->db, SKIP_LOGIN);
    w_request_error(cg2, cursor_req("ack", r.thread_text, 4), SES_EBAD_FIELD);
    w_request_error(cg2, cursor_req("read", r.thread_text, 4), SES_EBAD_FIELD);
    w_request_error(cg2, cursor_req("ack", r.thread_text, 0), SES_EBAD_FIELD);
    w_request_error(cg2, cursor_req("read", r.thread_text, 0), SES_EBAD_FIELD);
    h_snap_expect_rest_same(&snap, t.e->db);
    h_snap_free(&snap);
    assert_int_equal(w_drain_only(cn, NULL), 0);

    /* cursors only move forward: an older mark changes nothing and is no news to the members */
    h_snap_take(&snap, t.e->db, SKIP_LOGIN);
    json_t *req = cursor_req("ack", r.thread_text, 1);
    json_t *reply = NULL;
    int rc = ses_conn_request(cg2, req, H_CONN_TIMEOUT_MS, &reply);
    json_decref(reply);
    req = cursor_req("read", r.thread_text, 2);
    reply = NULL;
    int rc2 = ses_conn_request(cg2, req, H_CONN_TIMEOUT_MS, &reply);
    json_decref(reply);
    assert_true(rc == 0 || rc == SES_EBAD_FIELD || rc == SES_ECONFLICT);
    assert_true(rc2 == 0 || rc2 == SES_EBAD_FIELD || rc2 == SES_ECONFLICT);
    h_snap_expect_rest_same(&snap, t.e->db);
    h_snap_free(&snap);
    expect_receipts(cn, &r, who, del, rd, 3);
    json_t *late = w_drain(cn);
    if (json_array_size(late) != 0) {
        char *s = json_dumps(late, JSON_COMPACT);
        print_error("ack 1 / read 2 after 3 (replies %d, %d): a cursor that did not move was "
                    "pushed as a receipt: %s\n",
                    rc, rc2, s);
        free(s);
        json_decref(late);
        fail();
    }
    json_decref(late);

    for (int i = 0; i < 3; i++)
        sealed_free(&m[i]);
    ses_conn_free(cn);
    ses_conn_free(cg2);
    team_free(&t);
}

/* --- 3. resend_dedup -----------------------------------------------------------------------------
 */

static void test_resend_dedup(void **state)
{
    struct team t;
    team_start(&t, *state);
    const char *db = t.e->db;
    struct ses_conn *cn = login(&t, NURSE);
    struct roster r;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-D0D0", members, 2, &r);

    struct sealed a;
    seal_msg(&a, t.dev[NURSE], &r, 1, "first message");
    send_ok(&t, cn, &r, &a, 1, false);
    /* the same bytes again on the same connection */
    send_ok(&t, cn, &r, &a, 1, true);
    /* and on a new connection, as after a lost ack */
    ses_conn_free(cn);
    cn = login(&t, NURSE);
    send_ok(&t, cn, &r, &a, 1, true);
    assert_int_equal(msg_rows(db, &r), 1);
    char *mid = hex_of(a.hdr.msg_id, 16);
    assert_int_equal(h_db_int(db, "SELECT count(*) FROM messages WHERE msg_id = X'%s'", mid), 1);
    free(mid);
    assert_int_equal(h_db_int(db, "SELECT last_seq FROM threads WHERE id = X'%s'", r.thread_hex),
                     1);

    /* pipelined: a new envelope twice back to back */
    struct sealed b;
    seal_msg(&b, t.dev[NURSE], &r, 2, "second message");
    int64_t id1 = w_raw_id(), id2 = w_raw_id();
    send_raw(cn, id1, r.thread_text, &b);
    send_raw(cn, id2, r.thread_text, &b);
    for (int k = 0; k < 2; k++) {
        json_t *f = w_recv(cn, H_CONN_TIMEOUT_MS);
        w_expect_type(f, "sent", k == 0 ? id1 : id2);
        expect_sent(f, r.thread_text, &b, 2, k == 1);
        json_decref(f);
    }
    assert_int_equal(msg_rows(db, &r), 2);
    expect_db_msg(db, &r, 2, &b);

    /* the same msg_id with other bytes (sealed again: fresh key and nonce): CONFLICT */
    struct sealed a2;
    seal_hdr(&a2, &a.hdr, t.dev[NURSE]->prof.keys.sign_sk, SES_CONTENT_TEXT, "first message",
             r.devs, r.n_devs);
    assert_memory_not_equal(a2.env, a.env, a.len);
    send_refused(&t, cn, r.thread_text, &a2, SES_ECONFLICT);
    /* ... also with another sender_seq */
    struct ses_envelope_header h = a.hdr;
    h.sender_seq = 7;
    struct sealed a3;
    seal_hdr(&a3, &h, t.dev[NURSE]->prof.keys.sign_sk, SES_CONTENT_TEXT, "first message", r.devs,
             r.n_devs);
    send_refused(&t, cn, r.thread_text, &a3, SES_ECONFLICT);

    /* a new msg_id with a sender_seq at or below a stored one: REPLAYED */
    struct sealed rp;
    seal_msg(&rp, t.dev[NURSE], &r, 2, "replayed seq 2");
    send_refused(&t, cn, r.thread_text, &rp, SES_EREPLAYED);
    sealed_free(&rp);
    seal_msg(&rp, t.dev[NURSE], &r, 1, "replayed seq 1");
    send_refused(&t, cn, r.thread_text, &rp, SES_EREPLAYED);
    sealed_free(&rp);
    /* sender_seq may skip numbers; it counts per device: the psychiatrist starts at 1 */
    seal_msg(&rp, t.dev[NURSE], &r, 10, "seq 10");
    send_ok(&t, cn, &r, &rp, 3, false);
    sealed_free(&rp);
    struct ses_conn *cp = login(&t, PSY);
    seal_msg(&rp, t.dev[PSY], &r, 1, "psy seq 1");
    send_ok(&t, cp, &r, &rp, 4, false);
    sealed_free(&rp);
    assert_int_equal(msg_rows(db, &r), 4);
    /* a resend is recognised by its bytes, even after later messages of the same device */
    send_ok(&t, cn, &r, &a, 1, true);
    assert_int_equal(msg_rows(db, &r), 4);

    sealed_free(&a);
    sealed_free(&a2);
    sealed_free(&a3);
    sealed_free(&b);
    ses_conn_free(cn);
    ses_conn_free(cp);
    team_free(&t);
}

/* A lost ack across a membership change: the stored envelope (old roster hash) is resent after
 * the roster moved on. It is already stored, so it is acknowledged again with its seq (a CONFLICT
 * would make the client encrypt the same message again under a new msg_id: a double delivery). */
static void test_resend_after_roster_change(void **state)
{
    struct team t;
    team_start(&t, *state);
    struct ses_conn *cn = login(&t, NURSE);
    struct roster r;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-D1D1", members, 2, &r);
    struct sealed a;
    seal_msg(&a, t.dev[NURSE], &r, 1, "sent just before the change");
    send_ok(&t, cn, &r, &a, 1, false);
    json_decref(w_request_ok(cn, req_thread_user("thread_add", r.thread_text, t.dev[NURSE2]->user),
                             "thread_info"));
    ses_conn_free(cn);
    cn = login(&t, NURSE);
    send_ok(&t, cn, &r, &a, 1, true);
    assert_int_equal(msg_rows(t.e->db, &r), 1);
    sealed_free(&a);
    ses_conn_free(cn);
    team_free(&t);
}

/* --- 4. non_member_and_auditor_denied ------------------------------------------------------------
 */

/* thread_info, fetch, send, receipts, ack, read on thread by c: each DENIED. */
static void all_denied(struct ses_conn *c, const char *thread, const struct sealed *s)
{
    w_request_error(c, req_thread("thread_info", thread), SES_EDENIED);
    w_request_error(c, json_pack("{s:s, s:s, s:i}", "t", "fetch", "thread", thread, "after", 0),
                    SES_EDENIED);
    w_request_error(c, send_req(thread, s), SES_EDENIED);
    w_request_error(c, req_thread("receipts", thread), SES_EDENIED);
    w_request_error(c, cursor_req("ack", thread, 1), SES_EDENIED);
    w_request_error(c, cursor_req("read", thread, 1), SES_EDENIED);
}

static void test_non_member_and_auditor_denied(void **state)
{
    struct team t;
    team_start(&t, *state);
    const char *db = t.e->db;
    struct ses_conn *cn = login(&t, NURSE);
    struct roster r;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-AB12", members, 2, &r);
    struct sealed m;
    seal_msg(&m, t.dev[NURSE], &r, 1, "members only");
    send_ok(&t, cn, &r, &m, 1, false);
    cursor_ok(cn, "ack", r.thread_text, 1);
    cursor_ok(cn, "read", r.thread_text, 1);

    struct ses_conn *c2 = login(&t, NURSE2);
    struct ses_conn *ca = login(&t, AUDITOR);
    struct ses_conn *cadm = login(&t, ADMIN);
    struct h_snap snap;
    h_snap_take(&snap, db, SKIP_LOGIN);
    int64_t denied0 = h_audit_count(db, "authz.denied", "DENIED");

    /* a nurse who is not a member, with a well-formed envelope of her own for the current roster
     * (the roster hash and the devices she can work out from the directory and keys) */
    struct sealed s2;
    seal_msg(&s2, t.dev[NURSE2], &r, 1, "not a member");
    all_denied(c2, r.thread_text, &s2);
    json_t *line = threads_line(c2, NULL, 0);
    json_decref(line);
    /* the same answers for a thread that does not exist */
    struct roster unknown = r;
    randombytes_buf(unknown.thread, 16);
    ses_id_to_text(unknown.thread_text, unknown.thread);
    struct sealed su;
    seal_msg(&su, t.dev[NURSE2], &unknown, 1, "no such thread");
    all_denied(c2, unknown.thread_text, &su);
    struct sealed sun;
    seal_msg(&sun, t.dev[NURSE], &unknown, 2, "no such thread");
    all_denied(cn, unknown.thread_text, &sun);
    /* a non-member cannot manage members either */
    w_request_error(c2, req_thread_user("thread_add", r.thread_text, t.dev[NURSE2]->user),
                    SES_EDENIED);
    w_request_error(c2, req_thread_user("thread_remove", r.thread_text, t.dev[PSY]->user),
                    SES_EDENIED);

    /* auditor and admin: every thread request of a member is refused by role */
    struct sealed sa, sad;
    seal_msg(&sa, t.dev[AUDITOR], &r, 1, "auditor");
    seal_msg(&sad, t.dev[ADMIN], &r, 1, "admin");
    all_denied(ca, r.thread_text, &sa);
    all_denied(cadm, r.thread_text, &sad);
    w_request_error(ca, json_pack("{s:s}", "t", "threads"), SES_EDENIED);
    w_request_error(cadm, json_pack("{s:s}", "t", "threads"), SES_EDENIED);
    w_request_error(ca, req_thread_user("thread_add", r.thread_text, t.dev[NURSE2]->user),
                    SES_EDENIED);
    w_request_error(
        ca, json_pack("{s:s, s:s, s:[]}", "t", "thread_create", "patient", "P-1", "members"),
        SES_EDENIED);
    /* every refusal is an authz.denied record: 16 by role (9 for the auditor, 7 for the admin,
     * object = the action) and 20 by membership (6 + 6 + 6 requests of all_denied and the two
     * membership changes, object = "thread") */
    h_audit_wait_count(db, "authz.denied", "DENIED", denied0 + 36);
    assert_int_equal(h_db_int(db, "SELECT COUNT(*) FROM audit WHERE action = 'authz.denied' AND "
                                  "object = 'thread' AND seq > (SELECT max(seq) - 36 FROM audit)"),
                     20);

    /* nothing else was stored: no message, cursor, read, member or thread changed */
    h_snap_expect_rest_same(&snap, db);
    h_snap_free(&snap);
    assert_int_equal(msg_rows(db, &r), 1);
    assert_int_equal(h_audit_count(db, "msg.submit", NULL), 1);
    assert_int_equal(h_audit_count(db, "msg.deliver", NULL), 1);
    assert_int_equal(h_audit_count(db, "msg.read", NULL), 1);

    sealed_free(&m);
    sealed_free(&s2);
    sealed_free(&su);
    sealed_free(&sun);
    sealed_free(&sa);
    sealed_free(&sad);
    ses_conn_free(cn);
    ses_conn_free(c2);
    ses_conn_free(ca);
    ses_conn_free(cadm);
    team_free(&t);
}

/* --- 5. server_side_checks -----------------------------------------------------------------------
 */

static void test_server_side_checks(void **state)
{
    struct team t;
    team_start(&t, *state);
    const char *db = t.e->db;
    struct ses_conn *cn = login(&t, NURSE);
    struct roster a, b;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-AAAA", members, 2, &a);
    thread_create_ok(cn, &t, "P-BBBB", members, 2, &b);
    const uint8_t *sk = t.dev[NURSE]->prof.keys.sign_sk;
    uint64_t seq = 1;
    struct sealed s;

    /* the base case is accepted */
    seal_msg(&s, t.dev[NURSE], &a, seq++, "valid");
    send_ok(&t, cn, &a, &s, 1, false);
    sealed_free(&s);

    /* an envelope for thread A sent as thread B (she is a member of both) */
    seal_msg(&s, t.dev[NURSE], &a, seq++, "wrong thread");
    send_refused(&t, cn, b.thread_text, &s, SES_EDENIED);
    sealed_free(&s);

    /* sender ids that are not the caller's (signed with her own key) */
    struct ses_envelope_header h = hdr_for(t.dev[NURSE], &a, seq++);
    memcpy(h.sender_user_id, t.dev[PSY]->prof.user_id, 16);
    seal_hdr(&s, &h, sk, SES_CONTENT_TEXT, "as the psychiatrist", a.devs, a.n_devs);
    send_refused(&t, cn, a.thread_text, &s, SES_EDENIED);
    sealed_free(&s);
    h = hdr_for(t.dev[NURSE], &a, seq++);
    memcpy(h.sender_device_id, t.dev[GP1]->prof.device_id, 16);
    seal_hdr(&s, &h, sk, SES_CONTENT_TEXT, "as another device", a.devs, a.n_devs);
    send_refused(&t, cn, a.thread_text, &s, SES_EDENIED);
    sealed_free(&s);
    /* the psychiatrist's own valid envelope, submitted on the nurse's connection */
    seal_msg(&s, t.dev[PSY], &a, 1, "psychiatrist's envelope");
    send_refused(&t, cn, a.thread_text, &s, SES_EDENIED);
    sealed_free(&s);

    /* a wrap to a device that is not in the thread (the auditor's) */
    struct rdev to[MAX_DEVS];
    memcpy(to, a.devs, a.n_devs * sizeof to[0]);
    to[a.n_devs] = rdev_of(t.dev[AUDITOR]);
    h = hdr_for(t.dev[NURSE], &a, seq++);
    seal_hdr(&s, &h, sk, SES_CONTENT_TEXT, "ghost", to, a.n_devs + 1);
    send_refused(&t, cn, a.thread_text, &s, SES_EGHOST_DEVICE);
    sealed_free(&s);
    /* ... instead of a member's device (same count) */
    memcpy(to, a.devs, a.n_devs * sizeof to[0]);
    for (size_t i = 0; i < a.n_devs; i++)
        if (memcmp(to[i].id, t.dev[GP2]->prof.device_id, 16) == 0)
            to[i] = rdev_of(t.dev[AUDITOR]);
    h = hdr_for(t.dev[NURSE], &a, seq++);
    seal_hdr(&s, &h, sk, SES_CONTENT_TEXT, "ghost 2", to, a.n_devs);
    send_refused(&t, cn, a.thread_text, &s, SES_EGHOST_DEVICE);
    sealed_free(&s);
    /* a member's device left out: CONFLICT; the sending device left out: CONFLICT too */
    const struct w_dev *drop_gp2[] = {t.dev[GP2]}, *drop_self[] = {t.dev[NURSE]};
    size_t n = devs_without(&a, drop_gp2, 1, to);
    assert_int_equal(n, 3);
    h = hdr_for(t.dev[NURSE], &a, seq++);
    seal_hdr(&s, &h, sk, SES_CONTENT_TEXT, "left out", to, n);
    send_refused(&t, cn, a.thread_text, &s, SES_ECONFLICT);
    sealed_free(&s);
    n = devs_without(&a, drop_self, 1, to);
    h = hdr_for(t.dev[NURSE], &a, seq++);
    seal_hdr(&s, &h, sk, SES_CONTENT_TEXT, "own device left out", to, n);
    send_refused(&t, cn, a.thread_text, &s, SES_ECONFLICT);
    sealed_free(&s);

    /* a flipped signature byte */
    seal_msg(&s, t.dev[NURSE], &a, seq++, "bad signature");
    s.env[s.len - 1] ^= 0x40;
    sealed_rewrap(&s);
    send_refused(&t, cn, a.thread_text, &s, SES_EBAD_SIGNATURE);
    /* ... or a flipped ciphertext byte (the signature covers it) */
    s.env[s.len - 1] ^= 0x40;
    s.env[s.len - 70] ^= 0x01;
    sealed_rewrap(&s);
    send_refused(&t, cn, a.thread_text, &s, SES_EBAD_SIGNATURE);
    sealed_free(&s);
    /* signed by another device's key */
    h = hdr_for(t.dev[NURSE], &a, seq++);
    seal_hdr(&s, &h, t.dev[PSY]->prof.keys.sign_sk, SES_CONTENT_TEXT, "foreign key", a.devs,
             a.n_devs);
    send_refused(&t, cn, a.thread_text, &s, SES_EBAD_SIGNATURE);
    sealed_free(&s);

    /* structure: garbage after a valid identification is BAD_ENVELOPE ... */
    seal_msg(&s, t.dev[NURSE], &a, seq++, "structure");
    uint8_t *orig = malloc(s.len);
    size_t orig_len = s.len;
    assert_non_null(orig);
    memcpy(orig, s.env, s.len);
    randombytes_buf(s.env + 8, s.len - 8);
    s.env[SES_ENVELOPE_OFF_N_WRAPS] = 4;
    sealed_rewrap(&s);
    send_refused(&t, cn, a.thread_text, &s, SES_EBAD_ENVELOPE);
    memcpy(s.env, orig, orig_len);
    s.len = orig_len - 1; /* truncated */
    sealed_rewrap(&s);
    send_refused(&t, cn, a.thread_text, &s, SES_EBAD_ENVELOPE);
    s.env = realloc(s.env, orig_len + 1); /* a trailing byte */
    assert_non_null(s.env);
    memcpy(s.env, orig, orig_len);
    s.env[orig_len] = 0;
    s.len = orig_len + 1;
    sealed_rewrap(&s);
    send_refused(&t, cn, a.thread_text, &s, SES_EBAD_ENVELOPE);
    s.len = orig_len;
    memcpy(s.env, orig, orig_len);
    s.env[SES_ENVELOPE_OFF_N_WRAPS] = 0; /* no wraps */
    sealed_rewrap(&s);
    send_refused(&t, cn, a.thread_text, &s, SES_EBAD_ENVELOPE);
    memcpy(s.env, orig, orig_len); /* the same device wrapped twice */
    memcpy(s.env + SES_ENVELOPE_OFF_WRAPS + SES_ENVELOPE_WRAP_BYTES, s.env + SES_ENVELOPE_OFF_WRAPS,
           16);
    sealed_rewrap(&s);
    send_refused(&t, cn, a.thread_text, &s, SES_EBAD_ENVELOPE);
    s.len = 8; /* just the identification */
    memcpy(s.env, orig, orig_len);
    sealed_rewrap(&s);
    send_refused(&t, cn, a.thread_text, &s, SES_EBAD_ENVELOPE);
    /* ... an unknown suite, version, flag or magic is UNSUPPORTED */
    const size_t offs[] = {SES_ENVELOPE_OFF_SUITE, SES_ENVELOPE_OFF_VERSION,
                           SES_ENVELOPE_OFF_FLAGS + 1, 0};
    const uint8_t vals[] = {0x02, 0x02, 0x01, 'X'};
    for (size_t i = 0; i < 4; i++) {
        s.len = orig_len;
        memcpy(s.env, orig, orig_len);
        s.env[offs[i]] = vals[i];
        sealed_rewrap(&s);
        send_refused(&t, cn, a.thread_text, &s, SES_EUNSUPPORTED);
    }
    /* ... and env that is not base64url at all is a bad field */
    free(s.b64);
    s.b64 = strdup("not*base64");
    send_refused(&t, cn, a.thread_text, &s, SES_EBAD_FIELD);
    s.len = orig_len;
    memcpy(s.env, orig, orig_len);
    free(orig);
    sealed_free(&s);

    /* the order of the checks: the first failing one decides */
    h = hdr_for(t.dev[NURSE], &a, seq++); /* ghost wrap and bad signature: GHOST_DEVICE */
    memcpy(to, a.devs, a.n_devs * sizeof to[0]);
    to[a.n_devs] = rdev_of(t.dev[AUDITOR]);
    seal_hdr(&s, &h, t.dev[PSY]->prof.keys.sign_sk, SES_CONTENT_TEXT, "order 1", to, a.n_devs + 1);
    send_refused(&t, cn, a.thread_text, &s, SES_EGHOST_DEVICE);
    sealed_free(&s);
    h = hdr_for(t.dev[NURSE], &a, 1); /* bad signature and replayed seq: BAD_SIGNATURE */
    seal_hdr(&s, &h, t.dev[PSY]->prof.keys.sign_sk, SES_CONTENT_TEXT, "order 2", a.devs, a.n_devs);
    send_refused(&t, cn, a.thread_text, &s, SES_EBAD_SIGNATURE);
    sealed_free(&s);
    h = hdr_for(t.dev[NURSE], &a, seq++); /* wrong thread and unsupported suite: UNSUPPORTED */
    seal_hdr(&s, &h, sk, SES_CONTENT_TEXT, "order 3", a.devs, a.n_devs);
    s.env[SES_ENVELOPE_OFF_SUITE] = 2;
    sealed_rewrap(&s);
    send_refused(&t, cn, b.thread_text, &s, SES_EUNSUPPORTED);
    sealed_free(&s);

    /* a membership change: the old roster hash is stale (CONFLICT); with the new hash, the new
     * member's device left out is CONFLICT; a hash of the right members but another version too */
    json_t *reply = w_request_ok(
        cn, req_thread_user("thread_add", a.thread_text, t.dev[NURSE2]->user), "thread_info");
    struct roster a2;
    parse_roster(reply, &a2);
    json_decref(reply);
    assert_int_equal(a2.version, 2);
    seal_msg(&s, t.dev[NURSE], &a, seq++, "stale roster");
    send_refused(&t, cn, a.thread_text, &s, SES_ECONFLICT);
    sealed_free(&s);
    h = hdr_for(t.dev[NURSE], &a2, seq++);
    seal_hdr(&s, &h, sk, SES_CONTENT_TEXT, "new hash, old devices", a.devs, a.n_devs);
    send_refused(&t, cn, a.thread_text, &s, SES_ECONFLICT);
    sealed_free(&s);
    h = hdr_for(t.dev[NURSE], &a2, seq++);
    assert_int_equal(ses_roster_hash(h.roster_hash, a2.thread, 3,
                                     (const uint8_t(*)[SES_ID_BYTES])a2.members, a2.n_members),
                     0);
    seal_hdr(&s, &h, sk, SES_CONTENT_TEXT, "future version", a2.devs, a2.n_devs);
    send_refused(&t, cn, a.thread_text, &s, SES_ECONFLICT);
    sealed_free(&s);
    /* the current roster is accepted, and seq continues */
    seal_msg(&s, t.dev[NURSE], &a2, seq++, "current roster");
    send_ok(&t, cn, &a2, &s, 2, false);
    sealed_free(&s);
    assert_int_equal(msg_rows(db, &a), 2);
    assert_int_equal(msg_rows(db, &b), 0);

    /* most recent first: A (a message), then B; after a message in B, B first */
    json_t *lst = w_request_ok(cn, json_pack("{s:s}", "t", "threads"), "threads");
    assert_int_equal(json_array_size(json_object_get(lst, "threads")), 2);
    assert_string_equal(h_jstr(json_array_get(json_object_get(lst, "threads"), 0), "thread"),
                        a.thread_text);
    json_decref(lst);
    h_sleep_ms(3);
    seal_msg(&s, t.dev[NURSE], &b, 1, "in B");
    send_ok(&t, cn, &b, &s, 1, false);
    sealed_free(&s);
    lst = w_request_ok(cn, json_pack("{s:s}", "t", "threads"), "threads");
    assert_string_equal(h_jstr(json_array_get(json_object_get(lst, "threads"), 0), "thread"),
                        b.thread_text);
    assert_string_equal(h_jstr(json_array_get(json_object_get(lst, "threads"), 1), "thread"),
                        a.thread_text);
    json_decref(lst);

    ses_conn_free(cn);
    team_free(&t);
}

/* --- 6. membership_changes -----------------------------------------------------------------------
 */

static void test_membership_changes(void **state)
{
    struct team t;
    team_start(&t, *state);
    const char *db = t.e->db;
    struct ses_conn *cn = login(&t, NURSE), *cp = login(&t, PSY), *cg = login(&t, GP1);
    struct roster r1, r2, r3;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-5EED", members, 2, &r1);
    expect_roster_push(cp, r1.thread_text, 1);
    expect_roster_push(cg, r1.thread_text, 1);
    w_drain_only(cn, ONLY_ROSTER);
    struct sealed m1;
    seal_msg(&m1, t.dev[NURSE], &r1, 1, "before the removal");
    send_ok(&t, cn, &r1, &m1, 1, false);
    expect_push(&t, cp, &r1, t.dev[PSY], t.dev[NURSE], 1, &m1);
    expect_push(&t, cg, &r1, t.dev[GP1], t.dev[NURSE], 1, &m1);

    /* the nurse removes the GP: new roster (v2: nurse, psychiatrist; 2 devices), pushed to the
     * members; the GP is no longer a member */
    json_t *reply = w_request_ok(
        cn, req_thread_user("thread_remove", r1.thread_text, t.dev[GP1]->user), "thread_info");
    parse_roster(reply, &r2);
    json_decref(reply);
    assert_int_equal(r2.version, 2);
    const int devs2[] = {NURSE, PSY};
    expect_roster_devices(&t, &r2, devs2, 2);
    expect_roster_push(cp, r1.thread_text, 2);
    assert_int_equal(w_drain_only(cp, NULL), 0);
    char gphex[33];
    h_id_hex(gphex, t.dev[GP1]->user);
    assert_true(h_db_int(db,
                         "SELECT removed_ms FROM thread_members WHERE thread_id = X'%s' AND "
                         "user_id = X'%s'",
                         r1.thread_hex, gphex) > 0);
    assert_int_equal(
        h_db_int(db, "SELECT roster_version FROM threads WHERE id = X'%s'", r1.thread_hex), 2);

    /* the removed GP: fetch, thread_info, receipts, send, cursors are DENIED; not listed */
    struct sealed g;
    seal_msg(&g, t.dev[GP1], &r1, 1, "still here?");
    all_denied(cg, r1.thread_text, &g);
    sealed_free(&g);
    json_decref(threads_line(cg, NULL, 0));
    w_drain_only(cg, ONLY_ROSTER); /* whether the removed GP is told is not specified */

    /* a message after the removal: wrapping the GP's devices is GHOST_DEVICE (new hash), the old
     * roster is CONFLICT, the new roster is fine and not pushed to the GP */
    struct ses_envelope_header h = hdr_for(t.dev[NURSE], &r2, 2);
    struct sealed s;
    seal_hdr(&s, &h, t.dev[NURSE]->prof.keys.sign_sk, SES_CONTENT_TEXT, "to the GP too", r1.devs,
             r1.n_devs);
    send_refused(&t, cn, r1.thread_text, &s, SES_EGHOST_DEVICE);
    sealed_free(&s);
    seal_msg(&s, t.dev[NURSE], &r1, 2, "old roster");
    send_refused(&t, cn, r1.thread_text, &s, SES_ECONFLICT);
    sealed_free(&s);
    struct sealed m2;
    seal_msg(&m2, t.dev[NURSE], &r2, 2, "while the GP is out");
    send_ok(&t, cn, &r2, &m2, 2, false);
    expect_push(&t, cp, &r2, t.dev[PSY], t.dev[NURSE], 2, &m2);
    assert_int_equal(w_drain_only(cg, NULL), 0); /* the removed GP gets nothing */

    /* only nurse members and admins manage members: the psychiatrist is DENIED */
    struct h_snap snap;
    h_snap_take(&snap, db, SKIP_LOGIN);
    w_request_error(cp, req_thread_user("thread_add", r1.thread_text, t.dev[GP1]->user),
                    SES_EDENIED);
    w_request_error(cp, req_thread_user("thread_remove", r1.thread_text, t.dev[NURSE]->user),
                    SES_EDENIED);
    h_snap_expect_rest_same(&snap, db);
    h_snap_free(&snap);

    /* re-adding the GP: v3 with both GP devices; pushed to every member, the GP included */
    reply = w_request_ok(cn, req_thread_user("thread_add", r1.thread_text, t.dev[GP1]->user),
                         "thread_info");
    parse_roster(reply, &r3);
    json_decref(reply);
    assert_int_equal(r3.version, 3);
    const int devs4[] = {NURSE, PSY, GP1, GP2};
    expect_roster_devices(&t, &r3, devs4, 4);
    expect_roster_push(cp, r1.thread_text, 3);
    expect_roster_push(cg, r1.thread_text, 3);
    /* the GP reads what was wrapped to his device: seq 1, not seq 2 */
    json_t *msgs = fetch_ok(cg, &r3, 0, 0);
    assert_int_equal(json_array_size(msgs), 1);
    expect_message(&t, json_array_get(msgs, 0), false, &r1, t.dev[GP1], t.dev[NURSE], 1, &m1);
    json_decref(msgs);
    struct sealed m3;
    seal_msg(&m3, t.dev[NURSE], &r3, 3, "welcome back");
    send_ok(&t, cn, &r3, &m3, 3, false);
    expect_push(&t, cg, &r3, t.dev[GP1], t.dev[NURSE], 3, &m3);
    msgs = fetch_ok(cg, &r3, 1, 0);
    assert_int_equal(json_array_size(msgs), 1);
    expect_message(&t, json_array_get(msgs, 0), false, &r3, t.dev[GP1], t.dev[NURSE], 3, &m3);
    json_decref(msgs);

    /* an admin manages members without being one */
    struct ses_conn *cadm = login(&t, ADMIN);
    struct roster r4, r5;
    reply = w_request_ok(cadm, req_thread_user("thread_add", r1.thread_text, t.dev[NURSE2]->user),
                         "thread_info");
    parse_roster(reply, &r4);
    json_decref(reply);
    assert_int_equal(r4.version, 4);
    assert_int_equal(r4.n_members, 4);
    assert_false(roster_has_user(&r4, t.dev[ADMIN]->prof.user_id));
    reply = w_request_ok(
        cadm, req_thread_user("thread_remove", r1.thread_text, t.dev[NURSE2]->user), "thread_info");
    parse_roster(reply, &r5);
    json_decref(reply);
    assert_int_equal(r5.version, 5);
    expect_roster_devices(&t, &r5, devs4, 4);
    /* admins and auditors cannot be members; a member cannot be added twice */
    h_snap_take(&snap, db, SKIP_LOGIN);
    w_request_error(cadm, req_thread_user("thread_add", r1.thread_text, t.dev[AUDITOR]->user),
                    SES_EBAD_FIELD);
    w_request_error(cadm, req_thread_user("thread_add", r1.thread_text, t.dev[ADMIN]->user),
                    SES_EBAD_FIELD);
    w_request_error(cn, req_thread_user("thread_add", r1.thread_text, t.dev[PSY]->user),
                    SES_ECONFLICT);
    h_snap_expect_rest_same(&snap, db);
    h_snap_free(&snap);

    /* who may create, and with what: a psychiatrist may not; a patient reference is 1..32
     * letters, digits, '-' and '_'; admins and auditors cannot be members */
    h_snap_take(&snap, db, SKIP_LOGIN);
    w_request_error(cp,
                    json_pack("{s:s, s:s, s:[s]}", "t", "thread_create", "patient", "P-1",
                              "members", t.dev[NURSE]->user),
                    SES_EDENIED);
    const char *bad_refs[] = {"P 7F3A", "", "P-\u00e9", "P-1234567890123456789012345678901"};
    for (size_t i = 0; i < 4; i++)
        w_request_error(cn,
                        json_pack("{s:s, s:s, s:[s]}", "t", "thread_create", "patient", bad_refs[i],
                                  "members", t.dev[PSY]->user),
                        SES_EBAD_FIELD);
    w_request_error(cn,
                    json_pack("{s:s, s:s, s:[s]}", "t", "thread_create", "patient", "P-1",
                              "members", t.dev[AUDITOR]->user),
                    SES_EBAD_FIELD);
    h_snap_expect_rest_same(&snap, db);
    h_snap_free(&snap);
    struct roster r32;
    const int one[] = {PSY};
    thread_create_ok(cn, &t, "P_0123456789-abcdefghijklmnopqrs", one, 1, &r32);
    assert_int_equal(strlen(r32.patient), 32);

    /* a thread created by an admin: the admin is not a member */
    json_t *req = json_pack("{s:s, s:s, s:[s, s]}", "t", "thread_create", "patient", "P-ADM1",
                            "members", t.dev[NURSE]->user, t.dev[PSY]->user);
    reply = w_request_ok(cadm, req, "thread");
    struct roster ra;
    parse_roster(reply, &ra);
    json_decref(reply);
    const int devs_np[] = {NURSE, PSY};
    expect_roster_devices(&t, &ra, devs_np, 2);
    w_request_error(cadm, req_thread("thread_info", ra.thread_text), SES_EDENIED);
    thread_info_ok(cn, ra.thread_text, &r5);
    assert_memory_equal(r5.hash, ra.hash, 32);

    sealed_free(&m1);
    sealed_free(&m2);
    sealed_free(&m3);
    ses_conn_free(cn);
    ses_conn_free(cp);
    ses_conn_free(cg);
    ses_conn_free(cadm);
    team_free(&t);
}

/* --- 7. revoked_device_gets_nothing --------------------------------------------------------------
 */

static void test_revoked_device_gets_nothing(void **state)
{
    struct team t;
    team_start(&t, *state);
    struct ses_conn *cn = login(&t, NURSE);
    struct roster r, rv;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-4E40", members, 2, &r);
    assert_int_equal(r.n_devs, 4);
    struct ses_conn *cg2 = login(&t, GP2);

    struct h_cli cli;
    h_cli_run(&cli, t.e->admin_home, NULL, "admin", "revoke", "--device", t.dev[GP2]->device, NULL);
    h_cli_assert_ok(&cli);
    h_cli_free(&cli);
    /* the revoked device's connection is closed (its queue may still hold the roster push) */
    for (;;) {
        json_t *f = NULL;
        int rc = ses_conn_recv(cg2, H_CONN_TIMEOUT_MS, &f);
        if (rc != 0) {
            assert_int_equal(rc, SES_ECLOSED);
            break;
        }
        const char *ty = h_jstr(f, "t");
        assert_true(strcmp(ty, "roster") == 0 || strcmp(ty, "closing") == 0);
        json_decref(f);
    }
    assert_int_equal(ses_conn_close_code(cg2), 4001);
    ses_conn_free(cg2);

    thread_info_ok(cn, r.thread_text, &rv);
    const int devs3[] = {NURSE, PSY, GP1};
    expect_roster_devices(&t, &rv, devs3, 3);
    assert_int_equal(rv.version, r.version);
    assert_memory_equal(rv.hash, r.hash, 32); /* members unchanged */
    json_t *keys =
        w_request_ok(cn, json_pack("{s:s, s:s}", "t", "keys", "user", t.dev[GP1]->user), "keys");
    assert_int_equal(json_array_size(json_object_get(keys, "devices")), 1);
    json_decref(keys);

    struct sealed s;
    seal_msg(&s, t.dev[NURSE], &r, 1, "to the revoked device too");
    send_refused(&t, cn, r.thread_text, &s, SES_EGHOST_DEVICE);
    sealed_free(&s);
    seal_msg(&s, t.dev[NURSE], &rv, 1, "three devices");
    send_ok(&t, cn, &rv, &s, 1, false);
    struct ses_conn *cg1 = login(&t, GP1);
    json_t *msgs = fetch_ok(cg1, &rv, 0, 0);
    assert_int_equal(json_array_size(msgs), 1);
    expect_message(&t, json_array_get(msgs, 0), false, &rv, t.dev[GP1], t.dev[NURSE], 1, &s);
    json_decref(msgs);
    sealed_free(&s);

    ses_conn_free(cn);
    ses_conn_free(cg1);
    team_free(&t);
}

/* --- 8. restart_keeps_acknowledged ---------------------------------------------------------------
 */

#define N_PIPE 20
#define N_CUT 10

static void test_restart_keeps_acknowledged(void **state)
{
    struct team t;
    team_start(&t, *state);
    struct h_env *e = t.e;
    struct ses_conn *cn = login(&t, NURSE);
    struct roster r;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-2E57", members, 2, &r);
    w_drain_only(cn, ONLY_ROSTER);

    /* 20 sends pipelined, then the 20 replies: seq 1..20 in request order */
    struct sealed m[N_PIPE + N_CUT];
    char bodies[N_PIPE + N_CUT][48];
    int64_t ids[N_PIPE + N_CUT];
    for (int i = 0; i < N_PIPE + N_CUT; i++) {
        snprintf(bodies[i], sizeof bodies[i], "pipelined message %d", i + 1);
        seal_msg(&m[i], t.dev[NURSE], &r, (uint64_t)i + 1, bodies[i]);
        ids[i] = w_raw_id();
    }
    for (int i = 0; i < N_PIPE; i++)
        send_raw(cn, ids[i], r.thread_text, &m[i]);
    for (int i = 0; i < N_PIPE; i++) {
        json_t *f = w_recv(cn, H_CONN_TIMEOUT_MS);
        w_expect_type(f, "sent", ids[i]);
        expect_sent(f, r.thread_text, &m[i], i + 1, false);
        json_decref(f);
    }
    /* 10 more, and SIGTERM right away: whatever was acknowledged must survive */
    for (int i = N_PIPE; i < N_PIPE + N_CUT; i++)
        send_raw(cn, ids[i], r.thread_text, &m[i]);
    assert_int_equal(h_daemon_stop(&e->d), 0);
    int acked = N_PIPE;
    for (;;) {
        json_t *f = NULL;
        if (ses_conn_recv(cn, 2000, &f) != 0)
            break;
        const char *ty = json_string_value(json_object_get(f, "t"));
        if (ty != NULL && strcmp(ty, "sent") == 0) {
            assert_true(acked < N_PIPE + N_CUT);
            w_expect_type(f, "sent", ids[acked]);
            expect_sent(f, r.thread_text, &m[acked], acked + 1, false);
            acked++;
        }
        json_decref(f); /* anything else (pushes, a refusal of a send that was cut off) */
    }
    ses_conn_free(cn);
    print_message("%d of %d cut-off sends were acknowledged before the shutdown\n", acked - N_PIPE,
                  N_CUT);

    /* restart on the same data dir */
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, NULL);
    int64_t stored = msg_rows(e->db, &r);
    print_message("%lld of %d sends stored\n", (long long)stored, N_PIPE + N_CUT);
    assert_true(stored >= acked && stored <= N_PIPE + N_CUT);
    cn = login(&t, NURSE);
    struct roster r2;
    thread_info_ok(cn, r.thread_text, &r2);
    assert_int_equal(r2.last_seq, stored);
    assert_memory_equal(r2.hash, r.hash, 32);
    struct ses_conn *cg = login(&t, GP1);
    json_t *all = fetch_ok(cg, &r, 0, 500);
    assert_int_equal(json_array_size(all), (size_t)stored);
    for (int i = 0; i < stored; i++) {
        expect_message(&t, json_array_get(all, (size_t)i), false, &r, t.dev[GP1], t.dev[NURSE],
                       i + 1, &m[i]);
        expect_db_msg(e->db, &r, i + 1, &m[i]);
    }
    json_decref(all);
    json_t *page = fetch_ok(cg, &r, 5, 5);
    assert_int_equal(json_array_size(page), 5);
    expect_message(&t, json_array_get(page, 0), false, &r, t.dev[GP1], t.dev[NURSE], 6, &m[5]);
    json_decref(page);
    /* the dedup and sender_seq state survived too */
    send_ok(&t, cn, &r, &m[stored - 1], stored, true);
    struct sealed late;
    seal_msg(&late, t.dev[NURSE], &r, (uint64_t)stored, "a reused sender_seq");
    send_refused(&t, cn, r.thread_text, &late, SES_EREPLAYED);
    sealed_free(&late);
    for (int i = 0; i < N_PIPE + N_CUT; i++)
        sealed_free(&m[i]);
    ses_conn_free(cn);
    ses_conn_free(cg);
    team_free(&t);
}

/* --- 9. no_plaintext_at_rest ---------------------------------------------------------------------
 */

struct needles {
    int n;
    char s[16][96];
};

/* Every regular file of dir (and the log) as raw bytes: none holds any needle. Returns how many
 * of the files hold `control` (a string that must be found somewhere). */
static int scan_files(const char *dir, const char *log, const struct needles *z,
                      const char *control)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    int found_control = 0, leaks = 0, files = 0;
    char *paths[64];
    int np = 0;
    while ((de = readdir(d)) != NULL && np < 63) {
        char *p = h_path(dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode))
            paths[np++] = p;
        else
            free(p);
    }
    closedir(d);
    paths[np++] = strdup(log);
    for (int i = 0; i < np; i++) {
        size_t len = 0;
        char *data = h_read_file(paths[i], &len);
        if (data == NULL) { /* the -wal or -shm may go away at a checkpoint */
            free(paths[i]);
            continue;
        }
        files++;
        for (int k = 0; k < z->n; k++) {
            if (h_contains(data, len, z->s[k], strlen(z->s[k]))) {
                print_error("%s holds plaintext \"%s\"\n", paths[i], z->s[k]);
                leaks++;
            }
        }
        if (control != NULL && h_contains(data, len, control, strlen(control)))
            found_control++;
        free(data);
        free(paths[i]);
    }
    assert_true(files >= 3);
    assert_int_equal(leaks, 0);
    return found_control;
}

static void test_no_plaintext_at_rest(void **state)
{
    struct team t;
    team_start(&t, *state);
    struct h_env *e = t.e;
    uint8_t rnd[6];
    char tag[13];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(tag, sizeof tag, rnd, sizeof rnd);
    struct needles z = {0};
    snprintf(z.s[z.n++], 96, "Jeanne-Testpatient-%s", tag);
    for (int i = 0; i < 6; i++)
        snprintf(z.s[z.n++], 96, "ZEBRA-PLAINTEXT-%s-%d", tag, i);
    char patient_ref[32];
    snprintf(patient_ref, sizeof patient_ref, "P-%.4s", tag);

    struct ses_conn *cn = login(&t, NURSE), *cp = login(&t, PSY), *cg = login(&t, GP1);
    struct roster r;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, patient_ref, members, 2, &r);
    /* the title (with the patient's name) as the first message */
    char title[160];
    snprintf(title, sizeof title, "%s, admitted 12/03, ward B", z.s[0]);
    struct ses_envelope_header h = hdr_for(t.dev[NURSE], &r, 1);
    struct sealed s[8];
    seal_hdr(&s[0], &h, t.dev[NURSE]->prof.keys.sign_sk, SES_CONTENT_THREAD_TITLE, title, r.devs,
             r.n_devs);
    send_ok(&t, cn, &r, &s[0], 1, false);
    const struct w_dev *senders[3] = {t.dev[NURSE], t.dev[PSY], t.dev[GP1]};
    struct ses_conn *conns[3] = {cn, cp, cg};
    uint64_t sseq[3] = {2, 1, 1};
    for (int i = 1; i < 7; i++) {
        int k = i % 3;
        seal_msg(&s[i], senders[k], &r, sseq[k]++, z.s[i]);
        send_ok(&t, conns[k], &r, &s[i], i + 1, false);
    }
    /* receiving, cursors, a membership change, a fetch on every device */
    json_decref(fetch_ok(cp, &r, 0, 0));
    json_decref(fetch_ok(cg, &r, 0, 0));
    cursor_ok(cp, "ack", r.thread_text, 7);
    cursor_ok(cp, "read", r.thread_text, 7);
    json_decref(w_request_ok(cn, req_thread_user("thread_remove", r.thread_text, t.dev[GP1]->user),
                             "thread_info"));
    json_t *msgs = fetch_ok(cn, &r, 0, 0);
    assert_int_equal(json_array_size(msgs), 7);
    expect_message(&t, json_array_get(msgs, 0), false, &r, t.dev[NURSE], t.dev[NURSE], 1, &s[0]);
    json_decref(msgs);

    /* while running (WAL), then after a clean stop (checkpointed) */
    scan_files(e->data, e->log, &z, NULL);
    ses_conn_free(cn);
    ses_conn_free(cp);
    ses_conn_free(cg);
    assert_int_equal(h_daemon_stop(&e->d), 0);
    int control = scan_files(e->data, e->log, &z, patient_ref);
    assert_true(control >= 1); /* the scan does see what is stored (the pseudonymous reference) */
    size_t loglen = 0;
    char *log = h_read_file(e->log, &loglen);
    assert_non_null(log);
    assert_true(loglen > 0);
    free(log);

    for (int i = 0; i < 7; i++)
        sealed_free(&s[i]);
    team_free(&t);
}

/* --- 10. audit_records ---------------------------------------------------------------------------
 */

/* Every row of action: outcome ok, actor = the device that did it (counted per actor), object names
 * the thread and not the patient reference. */
static void expect_audit_rows(const struct team *t, const struct roster *r, const char *action,
                              const int who[], const int64_t count[], size_t n)
{
    const char *db = t->e->db;
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const struct w_dev *d = t->dev[who[i]];
        char uhex[33], dhex[33];
        h_id_hex(uhex, d->user);
        h_id_hex(dhex, d->device);
        int64_t got =
            h_db_int(db,
                     "SELECT count(*) FROM audit WHERE action = '%s' AND outcome = 'ok' AND "
                     "actor_user = X'%s' AND actor_device = X'%s' AND actor_role = '%s' AND "
                     "instr(object, '%s') > 0",
                     action, uhex, dhex, who_role[who[i]], r->thread_text);
        if (got != count[i])
            fail_msg("audit %s by %s: want %lld rows, got %lld", action, who_name[who[i]],
                     (long long)count[i], (long long)got);
        total += count[i];
    }
    assert_int_equal(h_audit_count(db, action, NULL), total);
    assert_int_equal(h_db_int(db,
                              "SELECT count(*) FROM audit WHERE action = '%s' AND "
                              "instr(object, '%s') > 0",
                              action, r->patient),
                     0);
}

static void test_audit_records(void **state)
{
    struct team t;
    team_start(&t, *state);
    const char *db = t.e->db;
    static const char *const actions[] = {"msg.submit",        "msg.deliver",
                                          "msg.read",          "thread.create",
                                          "thread.member.add", "thread.member.remove"};
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(h_audit_count(db, actions[i], NULL), 0);
    struct ses_conn *cn = login(&t, NURSE), *cp = login(&t, PSY), *cg1 = login(&t, GP1);
    struct ses_conn *cg2 = login(&t, GP2), *cadm = login(&t, ADMIN);
    struct roster r;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-A0D1", members, 2, &r);
    assert_int_equal(h_audit_count(db, "thread.create", "ok"), 1); /* with the change */

    /* 3 sends by the nurse, 2 by the psychiatrist; each record is there when "sent" arrives */
    struct sealed s;
    uint64_t nseq = 1, pseq = 1;
    for (int i = 0; i < 5; i++) {
        bool nurse = i != 1 && i != 3;
        seal_msg(&s, t.dev[nurse ? NURSE : PSY], &r, nurse ? nseq++ : pseq++, "audited");
        send_ok(&t, nurse ? cn : cp, &r, &s, i + 1, false);
        assert_int_equal(h_audit_count(db, "msg.submit", "ok"), i + 1);
        sealed_free(&s);
    }
    /* refused sends are not submissions */
    seal_msg(&s, t.dev[NURSE], &r, nseq, "bad signature");
    s.env[s.len - 1] ^= 1;
    sealed_rewrap(&s);
    send_refused(&t, cn, r.thread_text, &s, SES_EBAD_SIGNATURE);
    sealed_free(&s);

    /* delivery acks: GP device 1 and 2 and the psychiatrist; reads: the GP and the psychiatrist */
    cursor_ok(cg1, "ack", r.thread_text, 5);
    cursor_ok(cg2, "ack", r.thread_text, 3);
    cursor_ok(cp, "ack", r.thread_text, 5);
    assert_int_equal(h_audit_count(db, "msg.deliver", "ok"), 3);
    cursor_ok(cg1, "read", r.thread_text, 5);
    cursor_ok(cp, "read", r.thread_text, 2);
    assert_int_equal(h_audit_count(db, "msg.read", "ok"), 2);

    /* membership: the nurse removes the GP, the admin adds the second nurse, the nurse re-adds the
     * GP; the psychiatrist's attempt is refused (authz.denied, not a membership change) */
    json_decref(w_request_ok(cn, req_thread_user("thread_remove", r.thread_text, t.dev[GP1]->user),
                             "thread_info"));
    assert_int_equal(h_audit_count(db, "thread.member.remove", "ok"), 1);
    json_decref(w_request_ok(
        cadm, req_thread_user("thread_add", r.thread_text, t.dev[NURSE2]->user), "thread_info"));
    json_decref(w_request_ok(cn, req_thread_user("thread_add", r.thread_text, t.dev[GP1]->user),
                             "thread_info"));
    assert_int_equal(h_audit_count(db, "thread.member.add", "ok"), 2);
    int64_t denied0 = h_audit_count(db, "authz.denied", NULL);
    w_request_error(cp, req_thread_user("thread_remove", r.thread_text, t.dev[NURSE]->user),
                    SES_EDENIED);
    h_audit_wait_count(db, "authz.denied", "DENIED", denied0 + 1);

    /* exactly: who did what, on this thread, never naming the patient reference */
    {
        const int w[] = {NURSE, PSY};
        const int64_t c[] = {3, 2};
        expect_audit_rows(&t, &r, "msg.submit", w, c, 2);
    }
    {
        const int w[] = {GP1, GP2, PSY};
        const int64_t c[] = {1, 1, 1};
        expect_audit_rows(&t, &r, "msg.deliver", w, c, 3);
    }
    {
        const int w[] = {GP1, PSY};
        const int64_t c[] = {1, 1};
        expect_audit_rows(&t, &r, "msg.read", w, c, 2);
    }
    {
        const int w[] = {NURSE};
        const int64_t c[] = {1};
        expect_audit_rows(&t, &r, "thread.create", w, c, 1);
        expect_audit_rows(&t, &r, "thread.member.remove", w, c, 1);
    }
    {
        const int w[] = {NURSE, ADMIN};
        const int64_t c[] = {1, 1};
        expect_audit_rows(&t, &r, "thread.member.add", w, c, 2);
    }
    /* the membership records name the member concerned */
    char obj[128];
    snprintf(obj, sizeof obj, "%s", t.dev[GP1]->user);
    assert_int_equal(h_db_int(db,
                              "SELECT count(*) FROM audit WHERE action IN ('thread.member.add', "
                              "'thread.member.remove') AND instr(object, '%s') > 0",
                              obj),
                     2);
    snprintf(obj, sizeof obj, "%s", t.dev[NURSE2]->user);
    assert_int_equal(h_db_int(db,
                              "SELECT count(*) FROM audit WHERE action = 'thread.member.add' AND "
                              "instr(object, '%s') > 0",
                              obj),
                     1);
    /* one msg.submit per stored message */
    assert_int_equal(msg_rows(db, &r), h_audit_count(db, "msg.submit", "ok"));

    ses_conn_free(cn);
    ses_conn_free(cp);
    ses_conn_free(cg1);
    ses_conn_free(cg2);
    ses_conn_free(cadm);
    team_free(&t);
}

/* --- 11. history_rewrap -------------------------------------------------------------------------
 */

/* The envelope of a fetched message (malloc'd). */
static uint8_t *env_of(const json_t *m, size_t *len)
{
    const char *b64 = h_jstr(m, "env");
    size_t cap = strlen(b64);
    uint8_t *env = malloc(cap);
    assert_non_null(env);
    assert_int_equal(sodium_base642bin(env, cap, b64, strlen(b64), NULL, len, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    return env;
}

/* {"t":"rewrap","thread":T,"device":TARGET,"items":[...]}: device `by` re-wraps every message of
 * msgs (fetched by `by`; senders' keys from roster r) for target. */
static json_t *rewrap_req(const struct roster *r, const struct w_dev *by, const json_t *msgs,
                          const struct w_dev *target)
{
    json_t *items = json_array();
    size_t i;
    const json_t *m;
    json_array_foreach(msgs, i, m)
    {
        size_t len = 0;
        uint8_t *env = env_of(m, &len), sealed[80], sig[64];
        uint8_t sender[SES_ID_BYTES];
        id_exact(h_jstr(m, "device"), sender);
        const struct rdev *sd = roster_dev(r, sender);
        assert_non_null(sd);
        int rc = ses_rewrap_create(env, len, by->prof.device_id, by->prof.keys.box_pk,
                                   by->prof.keys.box_sk, sd->sign_pk, by->prof.keys.sign_sk,
                                   target->prof.device_id, target->prof.keys.box_pk, sealed, sig);
        if (rc != 0)
            fail_msg("ses_rewrap_create = %d (%s)", rc, ses_err_name(rc));
        char *bs = b64_of(sealed, 80), *bg = b64_of(sig, 64);
        json_array_append_new(
            items, json_pack("{s:I, s:s, s:s}", "seq", h_jint(m, "seq"), "sealed", bs, "sig", bg));
        free(bs);
        free(bg);
        free(env);
    }
    json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "t", "rewrap", "thread", r->thread_text, "device",
                          target->device, "items", items);
    assert_non_null(o);
    return o;
}

/* rewrap -> exactly {"t":"rewrapped","id","thread","device","count"} with count. */
static void rewrap_ok(struct ses_conn *c, json_t *req, const struct roster *r,
                      const struct w_dev *target, int64_t count)
{
    json_t *reply = w_request_ok(c, req, "rewrapped");
    assert_int_equal(json_object_size(reply), 5);
    assert_string_equal(h_jstr(reply, "thread"), r->thread_text);
    assert_string_equal(h_jstr(reply, "device"), target->device);
    assert_int_equal(h_jint(reply, "count"), count);
    json_decref(reply);
}

/* rewrap -> err; nothing but (when audit_denied) one authz.denied record changes. */
static void rewrap_refused(const struct team *t, struct ses_conn *c, json_t *req, int err,
                           bool audit_denied)
{
    struct h_snap snap;
    h_snap_take(&snap, t->e->db, SKIP_LOGIN);
    w_request_error(c, req, err);
    if (audit_denied)
        h_snap_expect_one_audit(&snap, t->e->db, "authz.denied", "DENIED");
    else
        h_snap_expect_same(&snap, t->e->db);
    h_snap_free(&snap);
}

static int64_t rewrap_rows(const char *db, const struct roster *r)
{
    return h_db_int(db, "SELECT count(*) FROM rewraps WHERE thread_id = X'%s'", r->thread_hex);
}

static void test_history_rewrap(void **state)
{
    struct team t;
    team_start(&t, *state);
    const char *db = t.e->db;
    struct ses_conn *cn = login(&t, NURSE), *cp = login(&t, PSY), *cg1 = login(&t, GP1);
    struct roster r;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-5E70", members, 2, &r);
    assert_int_equal(r.n_devs, 4);

    /* three messages before the GP's laptop exists */
    struct sealed s[4];
    seal_msg(&s[0], t.dev[NURSE], &r, 1, "history 1: admitted, ward B");
    seal_msg(&s[1], t.dev[PSY], &r, 1, "history 2: PHQ-9 = 14");
    seal_msg(&s[2], t.dev[NURSE], &r, 2, "history 3: family meeting on Thursday");
    send_ok(&t, cn, &r, &s[0], 1, false);
    send_ok(&t, cp, &r, &s[1], 2, false);
    send_ok(&t, cn, &r, &s[2], 3, false);

    /* the laptop: another device of the GP (admin invite --user) */
    struct h_cli cli;
    h_cli_run(&cli, t.e->admin_home, NULL, "admin", "invite", "--user", t.dev[GP1]->user, NULL);
    h_cli_assert_ok(&cli);
    char *lhome = h_env_home(t.e, "gp-laptop");
    char lu[40];
    json_decref(h_enroll_ok(t.e, lhome, h_jstr(cli.json, "code"), "gp-laptop", lu, NULL));
    h_cli_free(&cli);
    assert_string_equal(lu, t.dev[GP1]->user);
    struct w_dev *lap = w_dev_load(lhome);
    struct ses_conn *cl = login_dev(&t, lap);
    struct roster r2;
    thread_info_ok(cn, r.thread_text, &r2);
    assert_int_equal(r2.n_devs, 5);
    assert_memory_equal(r2.hash, r.hash, 32); /* the members did not change */
    assert_non_null(roster_dev(&r2, lap->prof.device_id));

    /* the laptop gets none of the history, and could not open it anyway */
    json_t *none = fetch_ok(cl, &r2, 0, 0);
    assert_int_equal(json_array_size(none), 0);
    json_decref(none);
    for (int i = 0; i < 3; i++) {
        struct ses_opened o;
        const struct rdev *sd = roster_dev(&r2, s[i].hdr.sender_device_id);
        assert_int_equal(ses_envelope_open(s[i].env, s[i].len, lap->prof.device_id,
                                           lap->prof.keys.box_pk, lap->prof.keys.box_sk,
                                           sd->sign_pk, (const uint8_t(*)[SES_ID_BYTES])s[i].to,
                                           s[i].n_to, 0, &o),
                         SES_ENOT_A_RECIPIENT);
    }

    /* refusals, each changing nothing (but the authz.denied record of a DENIED) */
    json_t *hist = fetch_ok(cg1, &r2, 0, 0);
    assert_int_equal(json_array_size(hist), 3);
    w_drain_only(cl, NULL);
    /* for another user's device (the psychiatrist's), for the caller's own device */
    rewrap_refused(&t, cg1, rewrap_req(&r2, t.dev[GP1], hist, t.dev[PSY]), SES_EDENIED, true);
    {
        json_t *req = rewrap_req(&r2, t.dev[GP1], hist, lap);
        json_object_set_new(req, "device", json_string(t.dev[GP1]->device));
        rewrap_refused(&t, cg1, req, SES_EDENIED, true);
        /* an unknown device */
        req = rewrap_req(&r2, t.dev[GP1], hist, lap);
        uint8_t rnd[16];
        char rid[SES_ID_TEXT_LEN + 1];
        randombytes_buf(rnd, sizeof rnd);
        ses_id_to_text(rid, rnd);
        json_object_set_new(req, "device", json_string(rid));
        rewrap_refused(&t, cg1, req, SES_EDENIED, true);
    }
    /* a forged signature (one bit of the last item's), a sealed key that is not the signed one */
    {
        json_t *req = rewrap_req(&r2, t.dev[GP1], hist, lap);
        json_t *it = json_array_get(json_object_get(req, "items"), 2);
        uint8_t sig[64];
        b64_exact(h_jstr(it, "sig"), sig, 64);
        sig[17] ^= 0x04;
        char *bs = b64_of(sig, 64);
        json_object_set_new(it, "sig", json_string(bs));
        free(bs);
        rewrap_refused(&t, cg1, req, SES_EBAD_SIGNATURE, false);
        req = rewrap_req(&r2, t.dev[GP1], hist, lap);
        json_t *it0 = json_array_get(json_object_get(req, "items"), 0);
        json_t *it1 = json_array_get(json_object_get(req, "items"), 1);
        json_object_set(it0, "sealed", json_object_get(it1, "sealed"));
        rewrap_refused(&t, cg1, req, SES_EBAD_SIGNATURE, false);
        /* signed by the GP's phone, sent by device 1 (the server checks with the caller's key) */
        req = rewrap_req(&r2, t.dev[GP2], hist, lap);
        rewrap_refused(&t, cg1, req, SES_EBAD_SIGNATURE, false);
    }
    /* no such seq; a seq twice; malformed items */
    {
        json_t *req = rewrap_req(&r2, t.dev[GP1], hist, lap);
        json_object_set_new(json_array_get(json_object_get(req, "items"), 1), "seq",
                            json_integer(99));
        rewrap_refused(&t, cg1, req, SES_EBAD_FIELD, false);
        req = rewrap_req(&r2, t.dev[GP1], hist, lap);
        json_object_set_new(json_array_get(json_object_get(req, "items"), 1), "seq",
                            json_integer(1));
        rewrap_refused(&t, cg1, req, SES_EBAD_FIELD, false);
        req = rewrap_req(&r2, t.dev[GP1], hist, lap);
        json_object_set_new(json_array_get(json_object_get(req, "items"), 0), "sealed",
                            json_string("AAAA"));
        rewrap_refused(&t, cg1, req, SES_EBAD_FIELD, false);
        req = rewrap_req(&r2, t.dev[GP1], hist, lap);
        json_object_set_new(req, "items", json_array());
        rewrap_refused(&t, cg1, req, SES_EBAD_FIELD, false);
    }
    /* a non-member (the second nurse) */
    struct ses_conn *cn2 = login(&t, NURSE2);
    {
        json_t *req = rewrap_req(&r2, t.dev[GP1], hist, lap);
        rewrap_refused(&t, cn2, req, SES_EDENIED, true);
    }
    assert_int_equal(rewrap_rows(db, &r2), 0);
    assert_int_equal(h_audit_count(db, "msg.rewrap", NULL), 0);

    /* the GP's first device re-wraps the three keys for the laptop: one request, one record */
    rewrap_ok(cg1, rewrap_req(&r2, t.dev[GP1], hist, lap), &r2, lap, 3);
    assert_int_equal(rewrap_rows(db, &r2), 3);
    assert_int_equal(h_audit_count(db, "msg.rewrap", "ok"), 1);
    char lhex[33], g1hex[33], u1hex[33];
    h_id_hex(lhex, lap->device);
    h_id_hex(g1hex, t.dev[GP1]->device);
    h_id_hex(u1hex, t.dev[GP1]->user);
    assert_int_equal(h_db_int(db,
                              "SELECT count(*) FROM audit WHERE action = 'msg.rewrap' AND "
                              "outcome = 'ok' AND actor_user = X'%s' AND actor_device = X'%s' AND "
                              "actor_role = 'gp' AND object = 'thread:%s device:%s count:3'",
                              u1hex, g1hex, r2.thread_text, lap->device),
                     1);
    assert_int_equal(h_db_int(db,
                              "SELECT count(*) FROM rewraps WHERE thread_id = X'%s' AND "
                              "device_id = X'%s' AND by_device = X'%s'",
                              r2.thread_hex, lhex, g1hex),
                     3);
    /* the laptop's connection is told */
    json_t *push = w_recv(cl, H_CONN_TIMEOUT_MS);
    w_expect_type(push, "rewrap_done", -1);
    assert_int_equal(json_object_size(push), 3);
    assert_string_equal(h_jstr(push, "thread"), r2.thread_text);
    assert_int_equal(h_jint(push, "count"), 3);
    json_decref(push);

    /* again (the same request, and the phone's own re-wraps): the first ones are kept, nothing
     * new is stored, and each request is still one record */
    char *before = h_db_text(db, "SELECT group_concat(hex(sealed) || hex(sig), ',') FROM "
                                 "(SELECT * FROM rewraps ORDER BY seq)");
    rewrap_ok(cg1, rewrap_req(&r2, t.dev[GP1], hist, lap), &r2, lap, 0);
    struct ses_conn *cg2 = login(&t, GP2);
    json_t *hist2 = fetch_ok(cg2, &r2, 0, 0);
    rewrap_ok(cg2, rewrap_req(&r2, t.dev[GP2], hist2, lap), &r2, lap, 0);
    json_decref(hist2);
    char *after = h_db_text(db, "SELECT group_concat(hex(sealed) || hex(sig), ',') FROM "
                                "(SELECT * FROM rewraps ORDER BY seq)");
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(rewrap_rows(db, &r2), 3);
    assert_int_equal(h_audit_count(db, "msg.rewrap", "ok"), 3);
    w_drain_only(cl, NULL); /* no push for nothing new */

    /* a message after the laptop joined is wrapped to it as usual */
    seal_msg(&s[3], t.dev[PSY], &r2, 2, "after the laptop: see you Thursday");
    send_ok(&t, cp, &r2, &s[3], 4, false);

    /* the laptop fetches the whole thread and opens every message */
    json_t *msgs = fetch_ok(cl, &r2, 0, 0);
    assert_int_equal(json_array_size(msgs), 4);
    for (size_t i = 0; i < 4; i++) {
        const json_t *m = json_array_get(msgs, i);
        assert_int_equal(h_jint(m, "seq"), (int64_t)i + 1);
        assert_string_equal(h_jstr(m, "env"), s[i].b64);
        const json_t *rw = json_object_get(m, "rewrap");
        if (i == 3) {
            assert_null(rw);
            expect_message(&t, m, false, &r2, lap, t.dev[PSY], 4, &s[3]);
            continue;
        }
        assert_int_equal(json_object_size(m), 6);
        assert_true(json_is_object(rw));
        assert_int_equal(json_object_size(rw), 3);
        /* the re-wrapping device is one of the laptop's own user's (the caller's check) */
        assert_string_equal(h_jstr(rw, "by"), t.dev[GP1]->device);
        uint8_t by[16], sealed[80], sig[64];
        id_exact(h_jstr(rw, "by"), by);
        const struct rdev *bd = roster_dev(&r2, by);
        assert_non_null(bd);
        assert_memory_equal(bd->user, lap->prof.user_id, 16);
        b64_exact(h_jstr(rw, "sealed"), sealed, 80);
        b64_exact(h_jstr(rw, "sig"), sig, 64);
        const struct rdev *sd = roster_dev(&r2, s[i].hdr.sender_device_id);
        struct ses_opened o;
        int rc = ses_envelope_open_rewrap(
            s[i].env, s[i].len, lap->prof.device_id, lap->prof.keys.box_pk, lap->prof.keys.box_sk,
            sd->sign_pk, sealed, sig, by, bd->sign_pk, (const uint8_t(*)[SES_ID_BYTES])s[i].to,
            s[i].n_to, s[i].hdr.sender_seq - 1, &o);
        if (rc != 0)
            fail_msg("ses_envelope_open_rewrap of seq %zu = %d (%s)", i + 1, rc, ses_err_name(rc));
        assert_int_equal(o.body_len, strlen(s[i].body));
        assert_memory_equal(o.body, s[i].body, o.body_len);
        ses_opened_free(&o);
        /* and only the laptop: the same re-wrap does not open on the phone's keys */
        rc = ses_envelope_open_rewrap(s[i].env, s[i].len, t.dev[GP2]->prof.device_id,
                                      t.dev[GP2]->prof.keys.box_pk, t.dev[GP2]->prof.keys.box_sk,
                                      sd->sign_pk, sealed, sig, by, bd->sign_pk,
                                      (const uint8_t(*)[SES_ID_BYTES])s[i].to, s[i].n_to, 0, &o);
        assert_int_equal(rc, SES_EBAD_SIGNATURE);
    }
    json_decref(msgs);
    /* other devices' fetches are unchanged: no re-wraps for them */
    json_t *pm = fetch_ok(cp, &r2, 0, 0);
    assert_int_equal(json_array_size(pm), 4);
    for (size_t i = 0; i < 4; i++)
        assert_null(json_object_get(json_array_get(pm, i), "rewrap"));
    json_decref(pm);

    /* the laptop cannot re-wrap what was not wrapped to it (the history) */
    {
        json_t *req = rewrap_req(&r2, t.dev[GP1], hist, t.dev[GP2]);
        rewrap_refused(&t, cl, req, SES_EBAD_FIELD, false);
    }

    json_decref(hist);
    for (int i = 0; i < 4; i++)
        sealed_free(&s[i]);
    ses_conn_free(cn);
    ses_conn_free(cp);
    ses_conn_free(cg1);
    ses_conn_free(cg2);
    ses_conn_free(cn2);
    ses_conn_free(cl);
    w_dev_free(lap);
    free(lhome);
    team_free(&t);
}

/* Every request about one caseload's thread or alert (registry, review queue, alerts,
 * recommendations list), by clinicians of another caseload (a nurse and a GP who are not members,
 * whose roles may make such requests for their own patients): DENIED each time, one authz.denied
 * record each, nothing else changed. */
static void test_other_caseload_every_request(void **state)
{
    struct team t;
    team_start(&t, *state);
    const char *db = t.e->db;
    struct ses_conn *cn = login(&t, NURSE);
    struct roster r;
    const int members[] = {PSY, GP1};
    thread_create_ok(cn, &t, "P-OC01", members, 2, &r);
    json_t *raised = w_request_ok(
        cn,
        json_pack("{s:s, s:s, s:s}", "t", "alert_raise", "thread", r.thread_text, "type", "A17"),
        "alert");
    char alert[40];
    snprintf(alert, sizeof alert, "%s", h_jstr(json_object_get(raised, "alert"), "alert"));
    json_decref(raised);
    const char *th = r.thread_text;
    /* a nurse and a GP of another caseload (GP2 is the member GP's second device) */
    char *gpb_home = h_add_user_ok(t.e, "gp-b", "gp", "Other GP", "Bron", NULL, NULL);
    struct w_dev *gpb = w_dev_load(gpb_home);
    const struct w_dev *outsiders[] = {t.dev[NURSE2], gpb};
    for (size_t o = 0; o < 2; o++) {
        bool nurse = o == 0;
        struct ses_conn *c = login_dev(&t, outsiders[o]);
        struct h_snap snap;
        h_snap_take(&snap, db, SKIP_LOGIN);
        int64_t denied0 = h_audit_count(db, "authz.denied", "DENIED");
        int64_t week = h_wall_ms() + 7 * 86400000LL;
        json_t *reqs[] = {
            json_pack("{s:s, s:s, s:s}", "t", "contact_record", "thread", th, "type",
                      nurse ? "phone" : "assessment"),
            json_pack("{s:s, s:s, s:s}", "t", "queue_add", "thread", th, "reason", "RISK"),
            json_pack("{s:s, s:s, s:s}", "t", "episode_close", "thread", th, "reason", "remission"),
            json_pack("{s:s, s:s, s:s, s:I}", "t", "review_outcome", "thread", th, "outcome",
                      "CONTINUE", "next_review", (json_int_t)week),
            json_pack("{s:s, s:s}", "t", "alerts", "thread", th),
            json_pack("{s:s, s:s}", "t", "recs", "thread", th),
            json_pack("{s:s, s:s, s:s}", "t", "alert_raise", "thread", th, "type",
                      nurse ? "A17" : "A19"),
            json_pack("{s:s, s:s}", "t", "alert_show", "alert", alert),
            json_pack("{s:s, s:s}", "t", "alert_ack", "alert", alert),
            json_pack("{s:s, s:s, s:s}", "t", "alert_resolve", "alert", alert, "code", "ADDRESSED"),
            json_pack("{s:s, s:s, s:s}", "t", "alert_cancel", "alert", alert, "code",
                      "RAISED_IN_ERROR"),
            json_pack("{s:s, s:s}", "t", "thread_meta", "thread", th),
        };
        size_t n = sizeof reqs / sizeof reqs[0];
        for (size_t k = 0; k < n; k++) {
            char *text = json_dumps(reqs[k], JSON_COMPACT);
            json_t *reply = NULL;
            int rc = ses_conn_request(c, reqs[k], H_CONN_TIMEOUT_MS, &reply);
            if (rc != SES_EDENIED) {
                char *got = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
                fail_msg("%s as a non-member: %d (%s) %s, want DENIED", text, rc, ses_err_name(rc),
                         got ? got : "");
            }
            json_decref(reply);
            free(text);
        }
        h_audit_wait_count(db, "authz.denied", "DENIED", denied0 + (int64_t)n);
        h_snap_expect_rest_same(&snap, db);
        h_snap_free(&snap);
        ses_conn_free(c);
    }
    w_dev_free(gpb);
    free(gpb_home);
    ses_conn_free(cn);
    team_free(&t);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_team_thread, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_offline_catch_up, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_resend_dedup, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_resend_after_roster_change, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_non_member_and_auditor_denied, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_other_caseload_every_request, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_server_side_checks, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_membership_changes, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_revoked_device_gets_nothing, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_restart_keeps_acknowledged, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_no_plaintext_at_rest, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_audit_records, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_history_rewrap, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.threads", tests, NULL, NULL);
}
