/*
 * test_cli_threads.c - integration: caseload threads and end-to-end encrypted messages through the
 * real `sesame` CLI (clients/cli/README.md "Caseload threads and messages", PROTOCOL.md §10-§11)
 * against the real sesamed. Every command runs as a subprocess with --json; the test keeps a model
 * of each thread (members, roster version, every message with its sender, text and recipient
 * devices, each device's delivery mark, each user's read mark, each device's synced mark) and
 * checks every reply against it exactly, and the database and the stored envelopes against it too.
 *
 * The team: a nurse, a psychiatrist, a GP with two devices, a second nurse (not in the threads)
 * and an auditor, all enrolled with the CLI; every test has its own daemon and data dir.
 *
 *  - care_team_conversation: directory, thread create (title encrypted), send by the three members,
 *    thread show on every member device (decrypted, in seq order, senders, delivered / read_by),
 *    thread list (titles, unread counts dropping to 0), thread info; the stored envelopes are
 *    opened here with the devices' own keys.
 *  - offline_catch_up: GP device 2 stays offline during the exchange in two threads; `sync`
 *    returns everything it missed in order, then nothing; its read mark is not moved.
 *  - follow_receives_live: `sesame follow THREAD --count 2` in the background prints the two
 *    messages sent while it is connected, acknowledges them, and exits 0.
 *  - stored_once: every send is one stored message with a unique msg_id; an envelope sealed by the
 *    CLI and resent (same bytes) is acknowledged as a duplicate and stored once; a lost
 *    state.json is caught up through REPLAYED without storing anything twice.
 *  - denied: a non-member nurse, the auditor, the admin and a non-nurse member get DENIED (exit 1)
 *    for what they may not do; each refusal is one authz.denied record and nothing else changes.
 *  - removal: a removed member is DENIED, is not wrapped to, gets no push and nothing on sync;
 *    re-added, it reads what is sent after, never what was sent while it was out.
 *  - restart: ten acknowledged sends, SIGTERM, restart on the same data dir: all there, in order.
 *  - no_plaintext_anywhere: a full scenario (titles, stdin, a long text, follow, membership
 *    changes, a restart); the SQLite files, the daemon's debug log and the CLI homes never hold
 *    a message text, a title or the patient's name (the pseudonymous reference is in the DB).
 *    Every other test ends with the same scan of its own texts.
 *  - safety_numbers: both sides compute the same 60 digits, equal to the README's algorithm
 *    recomputed here; a new device changes it and is warned about.
 *  - new_laptop_history: README "A new device: reading the history" (PROTOCOL.md §12): the
 *    psychiatrist's new laptop lists none of the earlier messages; its `device fingerprint` is the
 *    one `device share-history` shows on the first device (dry run: exit 2, nothing stored); with
 *    --yes the earlier messages are re-wrapped for it (one msg.rewrap record per request, the
 *    re-wraps open with the laptop's keys), the laptop reads them with the note, a running follow
 *    prints the history event, later messages arrive as usual; a repeat stores nothing; the laptop
 *    passes nothing on; another user's device is refused by the CLI and by the server.
 *  - list_reads_what_is_new: `thread list` remembers where the title is (a seq, never the text)
 *    and reads only that message and the new ones: a message altered in the database before the
 *    mark goes unnoticed by the list and refused by `thread show`; a new title is found.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "harness.h"
#include "wire.h"
#include "sesame/encode.h"
#include "sesame/envelope.h"
#include "sesame/err.h"

/* --- the team --------------------------------------------------------------------------------
 */

enum { ADMIN, NURSE, PSY, GP1, GP2, NURSE2, AUDITOR, PSY2, N_WHO };

#define BIT(who) (1u << (who))

static const char *const who_home[N_WHO] = {"admin",  "nurse",  "psy",   "gp",
                                            "gp-tab", "nurse2", "audit", "psy-tab"};
static const char *const who_name[N_WHO] = {NULL,           "Anne Martin",      "Hugo Roux-Lefèvre",
                                            "Claire Petit", "Claire Petit",     "Marc Blanc",
                                            "Ines Weber",   "Hugo Roux-Lefèvre"};
static const char *const who_role[N_WHO] = {"admin", "nurse", "psychiatrist", "gp",
                                            "gp",    "nurse", "auditor",      "psychiatrist"};
static const char *const who_site[N_WHO] = {NULL,           "Lyon-3", "Lyon-3", "Villeurbanne",
                                            "Villeurbanne", NULL,     NULL,     "Lyon-3"};
/* The user of each device: the GP's and the psychiatrist's second devices are theirs. */
static const int user_of[N_WHO] = {ADMIN, NURSE, PSY, GP1, GP1, NURSE2, AUDITOR, PSY};

static const char *const SKIP_LOGIN[] = {"devices.last_login_ms", NULL};

#define MAX_MSGS 48
#define MAX_THREADS 3
#define MAX_NEEDLES 160

struct xmsg {
    int64_t seq;
    int from;            /* sending device */
    uint8_t ctype;       /* SES_CONTENT_TEXT or SES_CONTENT_THREAD_TITLE */
    const char *text;    /* owned by the world */
    uint64_t sender_seq; /* per (device, thread) */
    unsigned wrapped;    /* devices it was sealed to */
    uint32_t version;    /* roster version it was sealed to */
    char msg_id[32];     /* base64url, from the send reply */
    int n_wraps;         /* the wraps in the stored envelope's order (check_envelope) */
    int wrap_order[N_WHO];
    unsigned rewrapped;   /* devices its key was re-wrapped for (history, PROTOCOL.md §12) */
    int rewrap_by[N_WHO]; /* per such device: the device that re-wrapped it */
};

struct xthread {
    char id[40];
    uint8_t bin[SES_ID_BYTES];
    char hex[33];
    char patient[40];  /* pseudonymous reference */
    const char *pname; /* the patient's name (only ever inside titles and texts) */
    uint32_t version;  /* roster version */
    unsigned members;  /* users (bit of the user's first device) */
    int64_t last_seq;
    int n;
    struct xmsg m[MAX_MSGS];
    int64_t delivered[N_WHO]; /* per device */
    int64_t read[N_WHO];      /* per user */
    int64_t added[N_WHO];     /* per user: last_seq when last added (0: a creator's member) */
    int64_t synced[N_WHO];    /* per device: the CLI's synced mark */
    uint64_t send_seq[N_WHO]; /* per device: the last sender_seq */
    unsigned seen[N_WHO];     /* per device: every device its CLI saw in the thread's rosters */
};

struct world {
    struct h_env *e;
    char *home[N_WHO];
    struct w_dev *dev[N_WHO];
    unsigned enrolled; /* devices */
    int nt;
    struct xthread t[MAX_THREADS];
    int nz;
    char *z[MAX_NEEDLES]; /* every text, title and patient name of the test, and their markers */
};

/* Runs the CLI with --json as device who. */
#define RUN(r, w, who, ...) h_cli_run((r), (w)->home[(who)], NULL, __VA_ARGS__, NULL)

/* Asserts exit 0, one JSON object on stdout and nothing on stderr. */
static void ok_quiet(const struct h_cli *r)
{
    h_cli_assert_ok(r);
    if (r->p.err_len != 0) {
        print_error("sesame exited 0 but wrote on stderr: [%s]\n", r->p.err);
        fail();
    }
}

/* Asserts exit 1 with "sesame: error: DENIED: ..." and nothing on stdout. */
static void expect_denied(const struct h_cli *r)
{
    h_cli_assert_error(r, 1, "DENIED");
    if (r->p.out_len != 0) {
        print_error("a refused command printed on stdout: [%s]\n", r->p.out);
        fail();
    }
}

static const char *uid(const struct world *w, int who)
{
    return w->dev[user_of[who]]->user;
}

static const char *did(const struct world *w, int who)
{
    return w->dev[who]->device;
}

/* A fresh random marker "mk" + 12 hex digits. */
static void marker(char out[16])
{
    uint8_t rnd[6];
    randombytes_buf(rnd, sizeof rnd);
    out[0] = 'm';
    out[1] = 'k';
    sodium_bin2hex(out + 2, 13, rnd, sizeof rnd);
}

static const char *needle_add(struct world *w, char *s)
{
    assert_true(w->nz < MAX_NEEDLES);
    w->z[w->nz++] = s;
    return s;
}

/* A text with a random marker at its end ("... [mkXXXXXXXXXXXX]"); the text and the marker are
 * remembered: neither may ever be found at rest. */
static const char *say(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const char *say(struct world *w, const char *fmt, ...)
{
    va_list ap;
    char *body = NULL, mk[16];
    va_start(ap, fmt);
    assert_true(vasprintf(&body, fmt, ap) >= 0);
    va_end(ap);
    marker(mk);
    char *s = h_fmt("%s [%s]", body, mk);
    free(body);
    needle_add(w, h_fmt("%s", mk));
    return needle_add(w, s);
}

/* Enrols a device: a new user (invite), or another device of who's user (invite --user). */
static void enrol(struct world *w, int who)
{
    struct h_env *e = w->e;
    char user[40], device[40];
    if (user_of[who] == who) {
        w->home[who] = h_add_user_ok(e, who_home[who], who_role[who], who_name[who], who_site[who],
                                     user, device);
    } else {
        struct h_cli r;
        h_cli_run(&r, e->admin_home, NULL, "admin", "invite", "--user", uid(w, who), NULL);
        ok_quiet(&r);
        assert_string_equal(h_jstr(r.json, "user"), uid(w, who));
        assert_string_equal(h_jstr(r.json, "role"), who_role[who]);
        w->home[who] = h_env_home(e, who_home[who]);
        json_t *en =
            h_enroll_ok(e, w->home[who], h_jstr(r.json, "code"), who_home[who], user, device);
        assert_string_equal(user, uid(w, who));
        assert_string_equal(h_jstr(en, "role"), who_role[who]);
        json_decref(en);
        h_cli_free(&r);
    }
    w->dev[who] = w_dev_load(w->home[who]);
    assert_string_equal(w->dev[who]->device, device);
    w->enrolled |= BIT(who);
}

static void world_start(struct world *w, struct h_env *e)
{
    memset(w, 0, sizeof *w);
    w->e = e;
    h_env_start(e, 0);
    w->home[ADMIN] = strdup(e->admin_home);
    w->dev[ADMIN] = w_dev_load(e->admin_home);
    w->enrolled = BIT(ADMIN);
    const int order[] = {NURSE, PSY, GP1, GP2, NURSE2, AUDITOR};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        enrol(w, order[i]);
}

static void world_free(struct world *w)
{
    for (int i = 0; i < N_WHO; i++) {
        w_dev_free(w->dev[i]);
        free(w->home[i]);
    }
    for (int i = 0; i < w->nz; i++)
        free(w->z[i]);
    memset(w, 0, sizeof *w);
}

/* The enrolled devices of user u. */
static unsigned devices_of(const struct world *w, int u)
{
    unsigned m = 0;
    for (int d = 0; d < N_WHO; d++)
        if ((w->enrolled & BIT(d)) && user_of[d] == u)
            m |= BIT(d);
    return m;
}

static unsigned member_devices(const struct world *w, const struct xthread *th)
{
    unsigned m = 0;
    for (int u = 0; u < N_WHO; u++)
        if (th->members & BIT(u))
            m |= devices_of(w, u);
    return m;
}

/* Device who's CLI fetched the thread's roster (it remembers the devices it lists: README
 * "Receiving", expected recipients). */
static void saw_roster(const struct world *w, struct xthread *th, int who)
{
    th->seen[who] |= member_devices(w, th);
}

static int popcount(unsigned m)
{
    return __builtin_popcount(m);
}

/* Who among the enrolled devices has this device id (-1 if none). */
static int who_of_device(const struct world *w, const uint8_t id[SES_ID_BYTES])
{
    for (int d = 0; d < N_WHO; d++)
        if ((w->enrolled & BIT(d)) && memcmp(w->dev[d]->prof.device_id, id, SES_ID_BYTES) == 0)
            return d;
    return -1;
}

/* Who (a user's first device) has this user id text (-1 if none). */
static int who_of_user(const struct world *w, const char *user)
{
    for (int d = 0; d < N_WHO; d++)
        if ((w->enrolled & BIT(d)) && user_of[d] == d && strcmp(w->dev[d]->user, user) == 0)
            return d;
    return -1;
}

static int64_t imax(int64_t a, int64_t b)
{
    return a > b ? a : b;
}

/* Device who can read m: it was sealed to it, or one of its user's devices re-wrapped its key. */
static bool visible(const struct xmsg *m, int who)
{
    return ((m->wrapped | m->rewrapped) & BIT(who)) != 0;
}

/* The latest title message device who can read (NULL if none). */
static const char *title_for(const struct xthread *th, int who)
{
    const char *t = NULL;
    for (int i = 0; i < th->n; i++)
        if (th->m[i].ctype == SES_CONTENT_THREAD_TITLE && visible(&th->m[i], who))
            t = th->m[i].text;
    return t;
}

/* The server's unread count for user u: others' messages after u's read mark, and sent since u
 * was last added to the thread. */
static int64_t unread_of(const struct xthread *th, int u)
{
    int64_t n = 0, floor = th->read[u] > th->added[u] ? th->read[u] : th->added[u];
    for (int i = 0; i < th->n; i++)
        if (th->m[i].seq > floor && user_of[th->m[i].from] != u)
            n++;
    return n;
}

/* --- the database ----------------------------------------------------------------------------
 */

static int64_t db_msg_int(const struct world *w, const struct xthread *th, int64_t seq,
                          const char *col)
{
    return h_db_int(w->e->db, "SELECT %s FROM messages WHERE thread_id = X'%s' AND seq = %lld", col,
                    th->hex, (long long)seq);
}

static int64_t db_msg_count(const struct world *w, const struct xthread *th)
{
    return h_db_int(w->e->db, "SELECT count(*) FROM messages WHERE thread_id = X'%s'", th->hex);
}

/* Delivery marks (per device) and read marks (per user) in the DB equal the model's. */
static void check_marks_db(const struct world *w, const struct xthread *th)
{
    for (int d = 0; d < N_WHO; d++) {
        if (!(w->enrolled & BIT(d)))
            continue;
        char dhex[33];
        h_id_hex(dhex, did(w, d));
        int64_t got = h_db_int(w->e->db,
                               "SELECT coalesce((SELECT delivered_seq FROM cursors WHERE "
                               "device_id = X'%s' AND thread_id = X'%s'), 0)",
                               dhex, th->hex);
        if (got != th->delivered[d])
            fail_msg("delivery mark of %s's device %s: want %lld, the DB has %lld", who_role[d],
                     who_home[d], (long long)th->delivered[d], (long long)got);
        if (user_of[d] != d)
            continue;
        char uhex[33];
        h_id_hex(uhex, uid(w, d));
        got = h_db_int(w->e->db,
                       "SELECT coalesce((SELECT read_seq FROM reads WHERE user_id = X'%s' AND "
                       "thread_id = X'%s'), 0)",
                       uhex, th->hex);
        if (got != th->read[d])
            fail_msg("read mark of %s: want %lld, the DB has %lld", who_role[d],
                     (long long)th->read[d], (long long)got);
    }
}

/* The stored envelope of m: its header, its wraps (exactly the devices of the model), its size
 * (PROTOCOL.md §10 "Sizes"), and it opens with the sending device's own keys to m's text. */
static void check_envelope(const struct world *w, const struct xthread *th, struct xmsg *m)
{
    const char *db = w->e->db;
    char *hex =
        h_db_text(db, "SELECT hex(env) FROM messages WHERE thread_id = X'%s' AND seq = %lld",
                  th->hex, (long long)m->seq);
    assert_non_null(hex);
    size_t len = strlen(hex) / 2;
    uint8_t *env = malloc(len);
    assert_non_null(env);
    assert_int_equal(sodium_hex2bin(env, len, hex, strlen(hex), NULL, NULL, NULL), 0);
    free(hex);

    struct ses_envelope_view v;
    assert_int_equal(ses_envelope_parse(env, len, &v), 0);
    const struct w_dev *from = w->dev[m->from];
    assert_memory_equal(v.hdr.thread_id, th->bin, SES_ID_BYTES);
    assert_memory_equal(v.hdr.sender_user_id, from->prof.user_id, SES_ID_BYTES);
    assert_memory_equal(v.hdr.sender_device_id, from->prof.device_id, SES_ID_BYTES);
    assert_int_equal(v.hdr.sender_seq, m->sender_seq);
    uint8_t mid[SES_ID_BYTES];
    assert_int_equal(ses_b64_decode(mid, sizeof mid, m->msg_id, strlen(m->msg_id)), 0);
    assert_memory_equal(v.hdr.msg_id, mid, SES_ID_BYTES);
    assert_int_equal(v.hdr.alert_type, 0);
    assert_int_equal(v.hdr.severity, 0);
    assert_int_equal(v.hdr.deadline_ms, 0);
    assert_int_equal((int64_t)v.hdr.created_ms, db_msg_int(w, th, m->seq, "created_ms"));
    /* the roster it was sealed to */
    uint8_t members[N_WHO][SES_ID_BYTES], rh[32];
    size_t nm = 0;
    for (int u = 0; u < N_WHO; u++)
        if (th->members & BIT(u))
            memcpy(members[nm++], w->dev[u]->prof.user_id, SES_ID_BYTES);
    assert_int_equal(
        ses_roster_hash(rh, th->bin, m->version, (const uint8_t(*)[SES_ID_BYTES])members, nm), 0);
    assert_memory_equal(v.hdr.roster_hash, rh, 32);
    /* wrapped to exactly the model's devices */
    assert_int_equal(v.n_wraps, (size_t)popcount(m->wrapped));
    m->n_wraps = (int)v.n_wraps;
    unsigned seen = 0;
    uint8_t expected[N_WHO][SES_ID_BYTES];
    size_t ne = 0;
    for (size_t i = 0; i < v.n_wraps; i++) {
        int d = who_of_device(w, ses_envelope_wrap_device(&v, i));
        if (d < 0 || !(m->wrapped & BIT(d)) || (seen & BIT(d)))
            fail_msg("seq %lld: wrap %zu is not one of the expected devices", (long long)m->seq, i);
        seen |= BIT(d);
        m->wrap_order[i] = d;
        memcpy(expected[ne++], w->dev[d]->prof.device_id, SES_ID_BYTES);
    }
    /* sizes: ct_len = 86 + 256 k with k = floor(body_len / 256) + 1 */
    size_t body_len = strlen(m->text);
    assert_int_equal(v.ct_len, 86 + 256 * (body_len / 256 + 1));
    assert_int_equal(len, 256 + 96 * v.n_wraps + v.ct_len);
    /* it opens with the sending device's keys (the sender is a recipient) */
    struct ses_opened o;
    assert_int_equal(ses_envelope_open(env, len, from->prof.device_id, from->prof.keys.box_pk,
                                       from->prof.keys.box_sk, from->prof.keys.sign_pk,
                                       (const uint8_t(*)[SES_ID_BYTES])expected, ne, 0, &o),
                     0);
    assert_int_equal(o.content_type, m->ctype);
    assert_int_equal(o.body_len, body_len);
    assert_memory_equal(o.body, m->text, body_len);
    assert_int_equal(o.n_missing, 0);
    ses_opened_free(&o);
    free(env);

    /* the row's own columns */
    char uhex[33], dhex[33];
    h_id_hex(uhex, from->user);
    h_id_hex(dhex, from->device);
    assert_int_equal(h_db_int(db,
                              "SELECT count(*) FROM messages WHERE thread_id = X'%s' AND seq = "
                              "%lld AND sender_user = X'%s' AND sender_device = X'%s' AND "
                              "sender_seq = %llu AND hex(msg_id) = upper('%s')",
                              th->hex, (long long)m->seq, uhex, dhex,
                              (unsigned long long)m->sender_seq,
                              sodium_bin2hex((char[33]){0}, 33, mid, 16)),
                     1);
}

/* --- thread commands -------------------------------------------------------------------------
 */

/* A roster as the CLI prints it (thread info / add / remove): exactly the server's thread_info
 * fields, the members of the model with their enrolled devices and keys, the roster hash
 * recomputed. */
static void check_roster_json(const struct world *w, const struct xthread *th, const json_t *j)
{
    /* thread info also carries the thread's metadata (PROTOCOL.md §13); add/remove do not */
    assert_int_equal(json_object_size(j), json_object_get(j, "meta") ? 7 : 6);
    assert_string_equal(h_jstr(j, "thread"), th->id);
    assert_string_equal(h_jstr(j, "patient"), th->patient);
    assert_int_equal(h_jint(j, "roster_version"), th->version);
    assert_int_equal(h_jint(j, "last_seq"), th->last_seq);
    const json_t *members = json_object_get(j, "members");
    assert_int_equal(json_array_size(members), (size_t)popcount(th->members));
    uint8_t ids[N_WHO][SES_ID_BYTES], rh[32], got_rh[32];
    unsigned seen = 0;
    size_t i;
    const json_t *m;
    json_array_foreach(members, i, m)
    {
        assert_int_equal(json_object_size(m), 4);
        int u = who_of_user(w, h_jstr(m, "user"));
        assert_true(u >= 0 && (th->members & BIT(u)) && !(seen & BIT(u)));
        seen |= BIT(u);
        memcpy(ids[i], w->dev[u]->prof.user_id, SES_ID_BYTES);
        assert_string_equal(h_jstr(m, "name"), who_name[u]);
        assert_string_equal(h_jstr(m, "role"), who_role[u]);
        const json_t *devs = json_object_get(m, "devices");
        unsigned want = devices_of(w, u), got = 0;
        assert_int_equal(json_array_size(devs), (size_t)popcount(want));
        size_t k;
        const json_t *dv;
        json_array_foreach(devs, k, dv)
        {
            assert_int_equal(json_object_size(dv), 3);
            uint8_t id[SES_ID_BYTES], pk[32];
            assert_int_equal(ses_id_from_text(id, h_jstr(dv, "device")), 0);
            int d = who_of_device(w, id);
            assert_true(d >= 0 && (want & BIT(d)) && !(got & BIT(d)));
            got |= BIT(d);
            const char *s = h_jstr(dv, "sign_pk");
            assert_int_equal(ses_b64_decode(pk, 32, s, strlen(s)), 0);
            assert_memory_equal(pk, w->dev[d]->prof.keys.sign_pk, 32);
            s = h_jstr(dv, "box_pk");
            assert_int_equal(ses_b64_decode(pk, 32, s, strlen(s)), 0);
            assert_memory_equal(pk, w->dev[d]->prof.keys.box_pk, 32);
        }
    }
    assert_int_equal(
        ses_roster_hash(rh, th->bin, th->version, (const uint8_t(*)[SES_ID_BYTES])ids, i), 0);
    const char *s = h_jstr(j, "roster_hash");
    assert_int_equal(ses_b64_decode(got_rh, 32, s, strlen(s)), 0);
    assert_memory_equal(got_rh, rh, 32);
    /* and the DB agrees */
    assert_int_equal(
        h_db_int(w->e->db, "SELECT roster_version FROM threads WHERE id = X'%s'", th->hex),
        th->version);
    assert_int_equal(h_db_int(w->e->db,
                              "SELECT count(*) FROM thread_members WHERE thread_id = X'%s' AND "
                              "removed_ms IS NULL",
                              th->hex),
                     popcount(th->members));
}

/* Appends a message to the model (after the server acknowledged it with seq). */
static struct xmsg *model_add(const struct world *w, struct xthread *th, int from, uint8_t ctype,
                              const char *text, int64_t seq, const char *msg_id)
{
    assert_true(th->n < MAX_MSGS);
    struct xmsg *m = &th->m[th->n++];
    memset(m, 0, sizeof *m);
    m->seq = seq;
    m->from = from;
    m->ctype = ctype;
    m->text = text;
    m->sender_seq = ++th->send_seq[from];
    m->wrapped = member_devices(w, th);
    m->version = th->version;
    snprintf(m->msg_id, sizeof m->msg_id, "%s", msg_id);
    th->last_seq = seq;
    return m;
}

/* `thread create` by who (a nurse) with members (users, besides the creator): the thread, its
 * title as message 1. */
static struct xthread *create_ok(struct world *w, int who, const char *patient, unsigned members)
{
    assert_true(w->nt < MAX_THREADS);
    struct xthread *th = &w->t[w->nt++];
    memset(th, 0, sizeof *th);
    snprintf(th->patient, sizeof th->patient, "%s", patient);
    char pn[16];
    marker(pn);
    th->pname = needle_add(w, h_fmt("Jeanne Testpatient-%s", pn + 2));
    const char *title = say(w, "%s, admitted 12/03, ward B, relapse", th->pname);
    const char *argv[16] = {"thread", "create", "--patient", patient, "--title", title};
    int n = 6;
    for (int u = 0; u < N_WHO; u++) {
        if (members & BIT(u)) {
            argv[n++] = "--member";
            argv[n++] = uid(w, u);
        }
    }
    assert_true(n <= 12);
    struct h_cli r;
    h_cli_run(&r, w->home[who], NULL, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6],
              argv[7], n > 8 ? argv[8] : NULL, n > 9 ? argv[9] : NULL, n > 10 ? argv[10] : NULL,
              n > 11 ? argv[11] : NULL, NULL);
    ok_quiet(&r);
    const json_t *j = r.json;
    assert_int_equal(json_object_size(j), 4);
    snprintf(th->id, sizeof th->id, "%s", h_jstr(j, "thread"));
    assert_int_equal(ses_id_from_text(th->bin, th->id), 0);
    h_id_hex(th->hex, th->id);
    assert_string_equal(h_jstr(j, "patient"), patient);
    assert_int_equal(h_jint(j, "seq"), 1);
    th->members = members | BIT(user_of[who]);
    th->version = 1;
    saw_roster(w, th, who);
    const json_t *mem = json_object_get(j, "members");
    assert_int_equal(json_array_size(mem), (size_t)popcount(th->members));
    unsigned seen = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(mem, i, v)
    {
        assert_true(json_is_string(v));
        int u = who_of_user(w, json_string_value(v));
        assert_true(u >= 0 && (th->members & BIT(u)) && !(seen & BIT(u)));
        seen |= BIT(u);
    }
    h_cli_free(&r);
    /* the title's msg_id is only in the DB: take it from there (checked against the envelope) */
    char *mid_hex = h_db_text(
        w->e->db, "SELECT hex(msg_id) FROM messages WHERE thread_id = X'%s' AND seq = 1", th->hex);
    uint8_t mid[16];
    char mid_b64[32];
    assert_int_equal(sodium_hex2bin(mid, 16, mid_hex, strlen(mid_hex), NULL, NULL, NULL), 0);
    free(mid_hex);
    assert_int_equal(ses_b64_encode(mid_b64, sizeof mid_b64, mid, 16), 0);
    struct xmsg *m = model_add(w, th, who, SES_CONTENT_THREAD_TITLE, title, 1, mid_b64);
    /* the DB: the pseudonymous reference, roster v1, one message; the title only encrypted */
    char *ref = h_db_text(w->e->db, "SELECT patient_ref FROM threads WHERE id = X'%s'", th->hex);
    assert_string_equal(ref, patient);
    free(ref);
    assert_int_equal(h_db_int(w->e->db, "SELECT last_seq FROM threads WHERE id = X'%s'", th->hex),
                     1);
    assert_int_equal(db_msg_count(w, th), 1);
    check_envelope(w, th, m);
    return th;
}

/* The reply of `send` / `thread title`: exactly thread, seq, msg_id, duplicate. */
static int64_t check_sent(const struct xthread *th, const json_t *j, bool duplicate)
{
    assert_int_equal(json_object_size(j), 4);
    assert_string_equal(h_jstr(j, "thread"), th->id);
    const char *mid = h_jstr(j, "msg_id");
    uint8_t bin[16];
    assert_int_equal(ses_b64_decode(bin, sizeof bin, mid, strlen(mid)), 0);
    assert_true(json_is_boolean(json_object_get(j, "duplicate")));
    assert_int_equal(json_is_true(json_object_get(j, "duplicate")), duplicate);
    return h_jint(j, "seq");
}

/* `send THREAD TEXT` (or `thread title THREAD TEXT` when ctype is the title's) by device who,
 * THREAD given as arg (the id or a prefix): acknowledged with the next seq, stored as modelled. */
static struct xmsg *send_as(struct world *w, struct xthread *th, int who, const char *arg,
                            uint8_t ctype, const char *text)
{
    struct h_cli r;
    if (ctype == SES_CONTENT_THREAD_TITLE)
        RUN(&r, w, who, "thread", "title", arg, text);
    else
        RUN(&r, w, who, "send", arg, text);
    ok_quiet(&r);
    saw_roster(w, th, who);
    int64_t seq = check_sent(th, r.json, false);
    assert_int_equal(seq, th->last_seq + 1);
    struct xmsg *m = model_add(w, th, who, ctype, text, seq, h_jstr(r.json, "msg_id"));
    h_cli_free(&r);
    assert_int_equal(h_db_int(w->e->db, "SELECT last_seq FROM threads WHERE id = X'%s'", th->hex),
                     seq);
    assert_int_equal(db_msg_count(w, th), th->n);
    check_envelope(w, th, m);
    return m;
}

static struct xmsg *send_ok(struct world *w, struct xthread *th, int who, const char *text)
{
    return send_as(w, th, who, th->id, SES_CONTENT_TEXT, text);
}

/* The note the CLI shows with m when device who reads it now (clients/cli/README.md
 * "Receiving"): the sender no longer a member; wraps to devices that are neither a current
 * member's nor seen by this CLI in the thread's earlier rosters; for a message sealed to the
 * current roster, each member's device without a wrap. */
static void expected_note(const struct world *w, const struct xthread *th, int who,
                          const struct xmsg *m, char *out, size_t cap)
{
    out[0] = '\0';
    if (!(th->members & BIT(user_of[m->from])))
        snprintf(out, cap, "the sender is no longer a member");
    /* read through a history re-wrap rather than a wrap of its own */
    bool via_rewrap = !(m->wrapped & BIT(who)) && (m->rewrapped & BIT(who));
    if (via_rewrap) {
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%shistory shared with this device by your device %.8s…",
                 used ? "; " : "", did(w, m->rewrap_by[who]));
    }
    /* wrapped to a device this CLI never saw in the thread's rosters (removed before it looked) */
    unsigned known = member_devices(w, th) | th->seen[who];
    char ghosts[200] = "";
    for (int i = 0; i < m->n_wraps; i++) {
        int d = m->wrap_order[i];
        if (known & BIT(d))
            continue;
        size_t used = strlen(ghosts);
        snprintf(ghosts + used, sizeof ghosts - used, "%s%.8s…", used ? ", " : "", did(w, d));
    }
    if (ghosts[0] != '\0') {
        size_t used = strlen(out);
        snprintf(out + used, cap - used,
                 "%scannot verify recipients: also wrapped to %s, not an active device of a "
                 "member now (revoked or removed since?)",
                 used ? "; " : "", ghosts);
    }
    if (m->version != th->version)
        return;
    /* members in the roster's order (user ids ascending; their text form sorts the same) */
    int order[N_WHO], n = 0;
    for (int u = 0; u < N_WHO; u++)
        if (th->members & BIT(u))
            order[n++] = u;
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && strcmp(uid(w, order[k - 1]), uid(w, order[k])) > 0; k--) {
            int t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    for (int i = 0; i < n; i++)
        for (int d = 0; d < N_WHO; d++) {
            if (!(devices_of(w, order[i]) & BIT(d)) || d == m->from || (m->wrapped & BIT(d)) ||
                (d == who && via_rewrap))
                continue;
            size_t used = strlen(out);
            snprintf(out + used, cap - used, "%snot delivered to %s's device %.8s…",
                     used ? "; " : "", who_name[order[i]], did(w, d));
        }
}

/* One message object (README "--json": a message object) as device who sees m: exactly its 14
 * fields plus `extra` more (checked by the caller). */
static void expect_msg(const struct world *w, const struct xthread *th, int who, const json_t *o,
                       const struct xmsg *m, size_t extra)
{
    if (o == NULL || json_object_size(o) != 14 + extra) {
        char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
        print_error("seq %lld as seen by %s: want a message object with %zu fields, got %s\n",
                    (long long)m->seq, who_home[who], 14 + extra, s ? s : "nothing");
        free(s);
        fail();
    }
    assert_int_equal(h_jint(o, "seq"), m->seq);
    assert_int_equal(h_jint(o, "ts"), db_msg_int(w, th, m->seq, "stored_ms"));
    assert_string_equal(h_jstr(o, "sender"), uid(w, m->from));
    assert_string_equal(h_jstr(o, "sender_name"), who_name[m->from]);
    assert_string_equal(h_jstr(o, "sender_role"), who_role[m->from]);
    assert_string_equal(h_jstr(o, "device"), did(w, m->from));
    assert_true(json_is_true(json_object_get(o, "verified")));
    assert_int_equal(h_jint(o, "content_type"), m->ctype);
    assert_string_equal(h_jstr(o, "content"),
                        m->ctype == SES_CONTENT_THREAD_TITLE ? "title" : "text");
    assert_int_equal(h_jint(o, "created"), db_msg_int(w, th, m->seq, "created_ms"));
    assert_int_equal(h_jint(o, "sender_seq"), m->sender_seq);
    assert_string_equal(h_jstr(o, "text"), m->text);
    h_jnull(o, "error");
    char note[512];
    expected_note(w, th, who, m, note, sizeof note);
    if (note[0] == '\0')
        h_jnull(o, "note");
    else
        assert_string_equal(h_jstr(o, "note"), note);
}

/* `thread show` by device who (THREAD given as arg): every message sealed to this device, in seq
 * order, verified and decrypted; the title; the members; then (the show moved this device's
 * delivery mark and the user's read mark to the last seq shown) `delivered` and `read_by` of each
 * message from the model's marks. */
static void show_ok(struct world *w, struct xthread *th, int who, const char *arg)
{
    struct h_cli r;
    RUN(&r, w, who, "thread", "show", arg);
    ok_quiet(&r);
    saw_roster(w, th, who);
    int64_t max_seen = 0;
    for (int i = 0; i < th->n; i++)
        if (visible(&th->m[i], who))
            max_seen = th->m[i].seq;
    th->delivered[who] = imax(th->delivered[who], max_seen);
    th->read[user_of[who]] = imax(th->read[user_of[who]], max_seen);
    th->synced[who] = imax(th->synced[who], th->last_seq);

    const json_t *j = r.json;
    assert_int_equal(json_object_size(j), 6);
    assert_string_equal(h_jstr(j, "thread"), th->id);
    assert_string_equal(h_jstr(j, "patient"), th->patient);
    const char *title = title_for(th, who);
    if (title == NULL)
        h_jnull(j, "title");
    else
        assert_string_equal(h_jstr(j, "title"), title);
    assert_int_equal(h_jint(j, "roster_version"), th->version);
    const json_t *mem = json_object_get(j, "members");
    assert_int_equal(json_array_size(mem), (size_t)popcount(th->members));
    unsigned seen = 0;
    size_t i;
    const json_t *v;
    json_array_foreach(mem, i, v)
    {
        assert_int_equal(json_object_size(v), 3);
        int u = who_of_user(w, h_jstr(v, "user"));
        assert_true(u >= 0 && (th->members & BIT(u)) && !(seen & BIT(u)));
        seen |= BIT(u);
        assert_string_equal(h_jstr(v, "name"), who_name[u]);
        assert_string_equal(h_jstr(v, "role"), who_role[u]);
    }
    const json_t *msgs = json_object_get(j, "messages");
    assert_true(json_is_array(msgs));
    size_t k = 0;
    for (int n = 0; n < th->n; n++) {
        const struct xmsg *m = &th->m[n];
        if (!visible(m, who))
            continue;
        const json_t *o = json_array_get(msgs, k++);
        expect_msg(w, th, who, o, m, 2);
        /* delivered: every other member has a device whose mark is at or above the seq */
        bool all = true;
        unsigned want_read = 0;
        for (int u = 0; u < N_WHO; u++) {
            if (!(th->members & BIT(u)) || u == user_of[m->from])
                continue;
            int64_t mark = 0;
            for (int d = 0; d < N_WHO; d++)
                if (user_of[d] == u)
                    mark = imax(mark, th->delivered[d]);
            if (mark < m->seq)
                all = false;
            if (th->read[u] >= m->seq)
                want_read |= BIT(u);
        }
        if (json_is_true(json_object_get(o, "delivered")) != all ||
            !json_is_boolean(json_object_get(o, "delivered")))
            fail_msg("seq %lld as seen by %s: delivered should be %s", (long long)m->seq,
                     who_home[who], all ? "true" : "false");
        const json_t *rb = json_object_get(o, "read_by");
        assert_true(json_is_array(rb));
        unsigned got_read = 0;
        size_t q;
        json_array_foreach(rb, q, v)
        {
            assert_true(json_is_string(v));
            int u = who_of_user(w, json_string_value(v));
            assert_true(u >= 0 && !(got_read & BIT(u)));
            got_read |= BIT(u);
        }
        if (got_read != want_read)
            fail_msg("seq %lld as seen by %s: read_by is 0x%x, want 0x%x (bits: users)",
                     (long long)m->seq, who_home[who], got_read, want_read);
    }
    assert_int_equal(json_array_size(msgs), k);
    h_cli_free(&r);
    check_marks_db(w, th);
}

/* Threads of user u, most recent activity first (as the server lists them). */
static int threads_of(const struct world *w, int u, int out[MAX_THREADS])
{
    int n = 0;
    for (int i = 0; i < w->nt; i++)
        if (w->t[i].members & BIT(u))
            out[n++] = i;
    int64_t ms[MAX_THREADS], cr[MAX_THREADS];
    for (int i = 0; i < n; i++) {
        ms[i] =
            h_db_int(w->e->db, "SELECT last_ms FROM threads WHERE id = X'%s'", w->t[out[i]].hex);
        cr[i] =
            h_db_int(w->e->db, "SELECT created_ms FROM threads WHERE id = X'%s'", w->t[out[i]].hex);
    }
    for (int i = 1; i < n; i++)
        for (int k = i; k > 0 && (ms[k - 1] < ms[k] || (ms[k - 1] == ms[k] && cr[k - 1] < cr[k]));
             k--) {
            int t = out[k];
            out[k] = out[k - 1];
            out[k - 1] = t;
            int64_t x = ms[k];
            ms[k] = ms[k - 1];
            ms[k - 1] = x;
            x = cr[k];
            cr[k] = cr[k - 1];
            cr[k - 1] = x;
        }
    return n;
}

/* `thread list` by device who: the user's threads, most recent first, titles decrypted, unread
 * counts and last activity as modelled / stored. */
static void list_ok(struct world *w, int who)
{
    struct h_cli r;
    RUN(&r, w, who, "thread", "list");
    ok_quiet(&r);
    assert_int_equal(json_object_size(r.json), 1);
    const json_t *ts = json_object_get(r.json, "threads");
    int idx[MAX_THREADS];
    int n = threads_of(w, user_of[who], idx);
    assert_int_equal(json_array_size(ts), (size_t)n);
    for (int i = 0; i < n; i++)
        saw_roster(w, &w->t[idx[i]], who); /* titles: every thread is fetched */
    for (int i = 0; i < n; i++) {
        const struct xthread *th = &w->t[idx[i]];
        const json_t *o = json_array_get(ts, (size_t)i);
        assert_int_equal(json_object_size(o), 6);
        assert_string_equal(h_jstr(o, "thread"), th->id);
        assert_string_equal(h_jstr(o, "patient"), th->patient);
        const char *title = title_for(th, who);
        if (title == NULL)
            h_jnull(o, "title");
        else
            assert_string_equal(h_jstr(o, "title"), title);
        assert_int_equal(
            h_jint(o, "last_ms"),
            h_db_int(w->e->db, "SELECT last_ms FROM threads WHERE id = X'%s'", th->hex));
        assert_int_equal(h_jint(o, "last_ms"), db_msg_int(w, th, th->last_seq, "stored_ms"));
        assert_int_equal(h_jint(o, "unread"), unread_of(th, user_of[who]));
        assert_int_equal(h_jint(o, "last_seq"), th->last_seq);
    }
    h_cli_free(&r);
}

/* The messages `sync` (or follow's catch-up) owes device who, in order: per thread of the user
 * (most recent first), those sealed to the device after its synced mark. */
static int owed(struct world *w, int who, struct xthread *th_out[], const struct xmsg *m_out[],
                int cap)
{
    int idx[MAX_THREADS], n = 0;
    int nt = threads_of(w, user_of[who], idx);
    for (int i = 0; i < nt; i++) {
        struct xthread *th = &w->t[idx[i]];
        if (th->last_seq <= th->synced[who])
            continue;
        saw_roster(w, th, who);
        for (int k = 0; k < th->n; k++) {
            const struct xmsg *m = &th->m[k];
            if (m->seq > th->synced[who] && visible(m, who)) {
                assert_true(n < cap);
                th_out[n] = th;
                m_out[n++] = m;
            }
        }
    }
    return n;
}

/* Moves the model's marks as sync does: each thread with new messages is synced to its last seq,
 * the device's delivery mark to the last message it got. */
static void model_synced(struct world *w, int who)
{
    for (int i = 0; i < w->nt; i++) {
        struct xthread *th = &w->t[i];
        if (!(th->members & BIT(user_of[who])) || th->last_seq <= th->synced[who])
            continue;
        for (int k = 0; k < th->n; k++)
            if (th->m[k].seq > th->synced[who] && visible(&th->m[k], who))
                th->delivered[who] = imax(th->delivered[who], th->m[k].seq);
        th->synced[who] = th->last_seq;
    }
}

/* `sync` by device who: exactly the owed messages (with thread and patient), in order; then the
 * marks. Returns how many. */
static int sync_ok(struct world *w, int who)
{
    struct xthread *ths[MAX_MSGS * MAX_THREADS];
    const struct xmsg *ms[MAX_MSGS * MAX_THREADS];
    int n = owed(w, who, ths, ms, MAX_MSGS * MAX_THREADS);
    struct h_cli r;
    RUN(&r, w, who, "sync");
    ok_quiet(&r);
    assert_int_equal(json_object_size(r.json), 1);
    const json_t *msgs = json_object_get(r.json, "messages");
    assert_true(json_is_array(msgs));
    if (json_array_size(msgs) != (size_t)n) {
        print_error("sync by %s: want %d messages, got %zu: %s\n", who_home[who], n,
                    json_array_size(msgs), r.p.out);
        fail();
    }
    for (int i = 0; i < n; i++) {
        const json_t *o = json_array_get(msgs, (size_t)i);
        expect_msg(w, ths[i], who, o, ms[i], 2);
        assert_string_equal(h_jstr(o, "thread"), ths[i]->id);
        assert_string_equal(h_jstr(o, "patient"), ths[i]->patient);
    }
    h_cli_free(&r);
    model_synced(w, who);
    for (int i = 0; i < w->nt; i++)
        check_marks_db(w, &w->t[i]);
    return n;
}

/* `thread add` / `thread remove` by device who: the new roster. */
static void member_ok(struct world *w, struct xthread *th, int who, bool add, int user)
{
    struct h_cli r;
    RUN(&r, w, who, "thread", add ? "add" : "remove", th->id, uid(w, user));
    ok_quiet(&r);
    if (add) {
        th->members |= BIT(user);
        th->added[user] = th->last_seq;
    } else {
        th->members &= ~BIT(user);
    }
    th->version++;
    saw_roster(w, th, who);
    check_roster_json(w, th, r.json);
    h_cli_free(&r);
}

/* Lines of `follow --json` output: each exactly one JSON object. Returns a JSON array. */
static json_t *json_lines(const char *out)
{
    json_t *a = json_array();
    for (const char *p = out; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        if (nl == NULL)
            fail_msg("follow: output does not end with a newline: [%s]", p);
        json_error_t jerr;
        json_t *o = json_loadb(p, (size_t)(nl - p), JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(o))
            fail_msg("follow: not a JSON object line: [%.*s]", (int)(nl - p), p);
        json_array_append_new(a, o);
        p = nl + 1;
    }
    return a;
}

/* A follow line for message m of th as device who sees it. */
static void expect_follow_msg(const struct world *w, const struct xthread *th, int who,
                              const json_t *o, const struct xmsg *m)
{
    assert_string_equal(h_jstr(o, "event"), "msg");
    assert_string_equal(h_jstr(o, "thread"), th->id);
    assert_string_equal(h_jstr(o, "patient"), th->patient);
    expect_msg(w, th, who, o, m, 3);
}

static int64_t login_count(const struct world *w, int who)
{
    char dhex[33];
    h_id_hex(dhex, did(w, who));
    return h_db_int(w->e->db,
                    "SELECT count(*) FROM audit WHERE action = 'auth.login' AND outcome = 'ok' AND "
                    "actor_device = X'%s'",
                    dhex);
}

/* Starts `follow ARGS...` for device who in the background and waits until it has logged in
 * (its auth.login record). */
#define FOLLOW_START(b, w, who, tag, ...)                                                          \
    do {                                                                                           \
        int64_t logins0_ = login_count((w), (who));                                                \
        h_cli_start_ok((b), (w)->e->tmp, (tag), (w)->home[(who)], NULL, "follow", __VA_ARGS__,     \
                       NULL);                                                                      \
        uint64_t deadline_ = h_mono_ms() + H_CLI_TIMEOUT_MS;                                       \
        while (login_count((w), (who)) == logins0_ && h_mono_ms() < deadline_)                     \
            h_sleep_ms(10);                                                                        \
        assert_int_equal(login_count((w), (who)), logins0_ + 1);                                   \
    } while (0)

/* --- scanning for plaintext ------------------------------------------------------------------
 */

/* Appends the regular files of dir (and of its subdirectories, one level) to paths. */
static void list_files(const char *dir, char **paths, int *np, int cap, int depth)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        char *p = h_path(dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            assert_true(*np < cap);
            paths[(*np)++] = p;
        } else if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && depth > 0) {
            list_files(p, paths, np, cap, depth - 1);
            free(p);
        } else {
            free(p);
        }
    }
    closedir(d);
}

/* Reads every file (raw bytes); fails on any needle found. Returns how many files hold control
 * (may be NULL). extra: more needles (NULL-terminated, or NULL). */
static int scan(const struct world *w, char **paths, int np, const char *const extra[],
                const char *control)
{
    int leaks = 0, found = 0;
    for (int i = 0; i < np; i++) {
        size_t len = 0;
        char *data = h_read_file(paths[i], &len);
        if (data == NULL) /* the -wal or -shm may go away at a checkpoint */
            continue;
        for (int k = 0; k < w->nz; k++)
            if (h_contains(data, len, w->z[k], strlen(w->z[k]))) {
                print_error("%s holds plaintext \"%s\"\n", paths[i], w->z[k]);
                leaks++;
            }
        for (int k = 0; extra != NULL && extra[k] != NULL; k++)
            if (h_contains(data, len, extra[k], strlen(extra[k]))) {
                print_error("%s holds \"%s\"\n", paths[i], extra[k]);
                leaks++;
            }
        if (control != NULL && h_contains(data, len, control, strlen(control)))
            found++;
        free(data);
    }
    assert_int_equal(leaks, 0);
    return found;
}

/* The data dir (sesame.db, -wal, -shm and the rest) and the daemon's log hold no text, title or
 * patient name of this test; returns for each thread whether its pseudonymous reference was
 * found in the data dir (all must be, once the daemon has stopped). */
static void scan_server(const struct world *w, bool expect_refs)
{
    char *paths[64];
    int np = 0;
    list_files(w->e->data, paths, &np, 63, 0);
    assert_true(np >= 1);
    char *db_paths[64];
    int ndb = np;
    memcpy(db_paths, paths, sizeof(char *) * (size_t)np);
    paths[np++] = strdup(w->e->log);
    scan(w, paths, np, NULL, NULL);
    for (int t = 0; expect_refs && t < w->nt; t++)
        if (scan(w, db_paths, ndb, NULL, w->t[t].patient) < 1)
            fail_msg("the pseudonymous reference %s is not in the data dir: the scan is blind",
                     w->t[t].patient);
    for (int i = 0; i < np; i++)
        free(paths[i]);
    size_t loglen = 0;
    char *log = h_read_file(w->e->log, &loglen);
    assert_non_null(log);
    assert_true(loglen > 0);
    free(log);
}

/* The CLI homes hold no text, title, patient name or patient reference (README: "No message text,
 * title or patient reference is ever written to disk"). */
static void scan_homes(const struct world *w)
{
    char *paths[128];
    int np = 0;
    for (int d = 0; d < N_WHO; d++)
        if (w->home[d] != NULL)
            list_files(w->home[d], paths, &np, 127, 1);
    const char *refs[MAX_THREADS + 1] = {NULL};
    for (int t = 0; t < w->nt; t++)
        refs[t] = w->t[t].patient;
    scan(w, paths, np, refs, NULL);
    for (int i = 0; i < np; i++)
        free(paths[i]);
}

/* The end of every test: scan while running, stop the daemon (exit 0), scan again (checkpointed),
 * the pseudonymous references found; the homes. */
static void world_finish(struct world *w)
{
    scan_server(w, false);
    assert_int_equal(h_daemon_stop(&w->e->d), 0);
    scan_server(w, true);
    scan_homes(w);
}

/* --- 1. care_team_conversation ---------------------------------------------------------------
 */

static void test_care_team_conversation(void **state)
{
    struct world w;
    world_start(&w, *state);
    const char *db = w.e->db;

    /* the directory: the psychiatrist by role; everyone active with what the DB holds */
    struct h_cli r;
    RUN(&r, &w, NURSE, "directory", "--role", "psychiatrist");
    ok_quiet(&r);
    assert_int_equal(json_object_size(r.json), 1);
    const json_t *users = json_object_get(r.json, "users");
    assert_int_equal(json_array_size(users), 1);
    const json_t *u = json_array_get(users, 0);
    assert_int_equal(json_object_size(u), 4);
    assert_string_equal(h_jstr(u, "user"), uid(&w, PSY));
    assert_string_equal(h_jstr(u, "name"), who_name[PSY]);
    assert_string_equal(h_jstr(u, "role"), "psychiatrist");
    assert_string_equal(h_jstr(u, "site"), who_site[PSY]);
    h_cli_free(&r);
    RUN(&r, &w, GP1, "directory");
    ok_quiet(&r);
    users = json_object_get(r.json, "users");
    assert_int_equal(json_array_size(users), 6);
    assert_int_equal(h_db_int(db, "SELECT count(*) FROM users WHERE state = 'active'"), 6);
    size_t i;
    json_array_foreach(users, i, u)
    {
        assert_int_equal(json_object_size(u), 4);
        char hex[33];
        h_id_hex(hex, h_jstr(u, "user"));
        char *name = h_db_text(db, "SELECT name FROM users WHERE id = X'%s'", hex);
        char *role = h_db_text(db, "SELECT role FROM users WHERE id = X'%s'", hex);
        char *site = h_db_text(db, "SELECT site FROM users WHERE id = X'%s'", hex);
        assert_string_equal(h_jstr(u, "name"), name);
        assert_string_equal(h_jstr(u, "role"), role);
        if (site == NULL)
            h_jnull(u, "site");
        else
            assert_string_equal(h_jstr(u, "site"), site);
        free(name);
        free(role);
        free(site);
        int who = who_of_user(&w, h_jstr(u, "user"));
        assert_true(who >= 0);
        if (who != ADMIN)
            assert_string_equal(h_jstr(u, "name"), who_name[who]);
    }
    h_cli_free(&r);

    /* the nurse opens the thread; the three members write, each by a thread id prefix */
    struct xthread *th = create_ok(&w, NURSE, "P-7F3A", BIT(PSY) | BIT(GP1));
    char prefix[9];
    snprintf(prefix, sizeof prefix, "%.8s", th->id);
    send_as(&w, th, NURSE, prefix, SES_CONTENT_TEXT,
            say(&w, "%s slept 4 h, PHQ-9 now 14, asks for a review", th->pname));
    send_as(&w, th, PSY, prefix, SES_CONTENT_TEXT,
            say(&w, "Humeur basse, pas d'idées suicidaires ✓ — I will see her Thursday"));
    send_as(&w, th, GP1, prefix, SES_CONTENT_TEXT,
            say(&w, "Lithium level 0.8 mmol/L on 11/03; renal function normal"));

    /* nobody has read anything: unread = the others' messages */
    list_ok(&w, NURSE);
    list_ok(&w, PSY);
    list_ok(&w, GP1);
    list_ok(&w, GP2);
    assert_int_equal(unread_of(th, NURSE), 2);
    assert_int_equal(unread_of(th, PSY), 3);
    assert_int_equal(unread_of(th, GP1), 3);

    /* thread info: the roster with the GP's two devices */
    RUN(&r, &w, PSY, "thread", "info", prefix);
    ok_quiet(&r);
    saw_roster(&w, th, PSY);
    check_roster_json(&w, th, r.json);
    h_cli_free(&r);

    /* each member device shows the thread: marks after each (see show_ok) */
    show_ok(&w, th, NURSE, prefix);
    list_ok(&w, NURSE);
    show_ok(&w, th, PSY, prefix);
    show_ok(&w, th, GP1, th->id);
    list_ok(&w, PSY);
    list_ok(&w, GP1);
    list_ok(&w, GP2); /* the GP's read mark is the user's: read on the other device */
    for (int k = 0; k < 3; k++)
        assert_int_equal(unread_of(th, (const int[]){NURSE, PSY, GP1}[k]), 0);
    show_ok(&w, th, GP2, prefix);
    /* after everyone has shown it: everything delivered, read by every other member */
    show_ok(&w, th, NURSE, prefix);
    for (int k = 0; k < th->n; k++) {
        int64_t seq = th->m[k].seq;
        for (int who = NURSE; who <= GP2; who++)
            assert_true(th->delivered[who] >= seq);
        for (int who = NURSE; who <= GP1; who++)
            assert_true(th->read[who] >= seq);
    }

    /* a reply after the reads: one unread for the others, not for the sender */
    send_ok(&w, th, PSY, say(&w, "Olanzapine 5 mg at night from today"));
    list_ok(&w, NURSE);
    list_ok(&w, PSY);
    list_ok(&w, GP1);
    assert_int_equal(unread_of(th, NURSE), 1);
    assert_int_equal(unread_of(th, PSY), 0);
    show_ok(&w, th, GP1, prefix);
    show_ok(&w, th, PSY, prefix);
    assert_int_equal(
        h_db_int(db, "SELECT count(*) FROM audit WHERE action = 'msg.submit' AND outcome = 'ok'"),
        th->n);
    world_finish(&w);
    world_free(&w);
}

/* --- 2. offline_catch_up ---------------------------------------------------------------------
 */

static void test_offline_catch_up(void **state)
{
    struct world w;
    world_start(&w, *state);
    /* two threads; GP device 2 does nothing meanwhile */
    struct xthread *a = create_ok(&w, NURSE, "P-7F3A", BIT(PSY) | BIT(GP1));
    send_ok(&w, a, NURSE, say(&w, "%s missed her depot injection", a->pname));
    send_ok(&w, a, GP1, say(&w, "I will call her this afternoon"));
    struct xthread *b = create_ok(&w, NURSE, "P-2B9C", BIT(GP1));
    send_ok(&w, a, PSY, say(&w, "Bring the appointment forward"));
    send_ok(&w, b, GP1, say(&w, "%s: blood pressure 150/95", b->pname));
    send_ok(&w, b, NURSE, say(&w, "Rechecked: 138/88"));
    show_ok(&w, a, GP1, a->id); /* the other device reading does not sync this one */
    send_ok(&w, a, NURSE, say(&w, "She came in, injection given"));
    assert_int_equal(a->delivered[GP2], 0);
    check_marks_db(&w, a);
    check_marks_db(&w, b);

    /* one sync: everything it missed, thread by thread, in seq order (thread a is the most
     * recent), including the GP's own messages from the other device */
    int64_t gp_read_a = a->read[GP1], gp_read_b = b->read[GP1];
    assert_int_equal(sync_ok(&w, GP2), a->n + b->n);
    /* sync moves the delivery mark only: the read marks are the GP's from device 1 */
    assert_int_equal(a->read[GP1], gp_read_a);
    assert_int_equal(b->read[GP1], gp_read_b);
    assert_int_equal(a->delivered[GP2], a->last_seq);
    assert_int_equal(b->delivered[GP2], b->last_seq);
    /* again: nothing */
    assert_int_equal(sync_ok(&w, GP2), 0);
    /* one more message: only that one */
    send_ok(&w, b, NURSE, say(&w, "GP review booked for Monday"));
    assert_int_equal(sync_ok(&w, GP2), 1);
    assert_int_equal(sync_ok(&w, GP2), 0);
    /* the psychiatrist, in thread a only, catches up in one go too */
    assert_int_equal(sync_ok(&w, PSY), a->n);
    list_ok(&w, GP2);
    /* the delivery mark counts for the GP in receipts: shown by the nurse */
    show_ok(&w, b, NURSE, b->id);
    world_finish(&w);
    world_free(&w);
}

/* --- 3. follow_receives_live -----------------------------------------------------------------
 */

static void test_follow_receives_live(void **state)
{
    struct world w;
    world_start(&w, *state);
    struct xthread *th = create_ok(&w, NURSE, "P-7F3A", BIT(PSY) | BIT(GP1));
    send_ok(&w, th, NURSE, say(&w, "%s is on the ward again", th->pname));
    /* no backlog: the psychiatrist syncs first */
    assert_int_equal(sync_ok(&w, PSY), 2);

    struct h_bg bg;
    FOLLOW_START(&bg, &w, PSY, "follow-psy", th->id, "--count", "2", "--timeout-exit", "10000");
    const struct xmsg *m1 = send_ok(&w, th, NURSE, say(&w, "Agitated since 14:00, PRN given"));
    const struct xmsg *m2 = send_ok(&w, th, GP1, say(&w, "Bloods sent, results tomorrow"));
    struct h_proc p;
    h_bg_wait(&bg, H_CLI_TIMEOUT_MS, &p);
    if (p.status != 0 || p.err_len != 0) {
        print_error("follow: exit %d (want 0), stdout [%s], stderr [%s]\n", p.status, p.out, p.err);
        h_proc_free(&p);
        fail();
    }
    assert_true(p.elapsed_ms < 10000); /* it stopped at --count, not at --timeout-exit */
    json_t *lines = json_lines(p.out);
    assert_int_equal(json_array_size(lines), 2);
    expect_follow_msg(&w, th, PSY, json_array_get(lines, 0), m1);
    expect_follow_msg(&w, th, PSY, json_array_get(lines, 1), m2);
    json_decref(lines);
    h_proc_free(&p);
    /* it acknowledged them and moved its synced mark: sync has nothing */
    th->delivered[PSY] = m2->seq;
    th->synced[PSY] = m2->seq;
    saw_roster(&w, th, PSY); /* follow fetched the roster */
    check_marks_db(&w, th);
    assert_int_equal(sync_ok(&w, PSY), 0);

    /* follow first prints what the device has not seen (like tail -f): the backlog, then live */
    const struct xmsg *m3 = send_ok(&w, th, NURSE, say(&w, "Settled after 16:00"));
    FOLLOW_START(&bg, &w, PSY, "follow-psy-2", "--count", "2", "--timeout-exit", "10000");
    const struct xmsg *m4 = send_ok(&w, th, NURSE, say(&w, "Slept through the night"));
    h_bg_wait(&bg, H_CLI_TIMEOUT_MS, &p);
    assert_int_equal(p.status, 0);
    assert_int_equal(p.err_len, 0);
    lines = json_lines(p.out);
    assert_int_equal(json_array_size(lines), 2);
    expect_follow_msg(&w, th, PSY, json_array_get(lines, 0), m3);
    expect_follow_msg(&w, th, PSY, json_array_get(lines, 1), m4);
    json_decref(lines);
    h_proc_free(&p);
    th->delivered[PSY] = m4->seq;
    th->synced[PSY] = m4->seq;
    saw_roster(&w, th, PSY); /* follow fetched the roster */
    check_marks_db(&w, th);
    assert_int_equal(sync_ok(&w, PSY), 0);
    /* follow never moves the read mark */
    assert_int_equal(th->read[PSY], 0);
    show_ok(&w, th, NURSE, th->id);
    world_finish(&w);
    world_free(&w);
}

/* --- 4. stored_once --------------------------------------------------------------------------
 */

static void test_stored_once(void **state)
{
    struct world w;
    world_start(&w, *state);
    const char *db = w.e->db;
    struct xthread *th = create_ok(&w, NURSE, "P-7F3A", BIT(PSY) | BIT(GP1));
    /* two sends, two texts: two messages; the same text twice: still two messages */
    const struct xmsg *a = send_ok(&w, th, NURSE, say(&w, "Care plan updated"));
    const struct xmsg *b = send_ok(&w, th, NURSE, say(&w, "Family meeting on Friday"));
    assert_int_equal(b->seq, a->seq + 1);
    assert_string_not_equal(a->msg_id, b->msg_id);
    const char *same = say(&w, "Noted");
    send_ok(&w, th, PSY, same);
    send_ok(&w, th, PSY, same);
    int sends = 5; /* the title included */
    assert_int_equal(th->n, sends);
    assert_int_equal(db_msg_count(&w, th), sends);
    assert_int_equal(h_db_int(db, "SELECT count(DISTINCT msg_id) FROM messages"), sends);
    assert_int_equal(h_db_int(db, "SELECT count(*) FROM messages"), sends);
    assert_int_equal(h_db_int(db,
                              "SELECT count(DISTINCT seq) FROM messages WHERE thread_id = "
                              "X'%s' AND seq BETWEEN 1 AND %d",
                              th->hex, sends),
                     sends);
    assert_int_equal(h_audit_count(db, "msg.submit", "ok"), sends);

    /* the bytes the CLI sealed, resent as they are (a lost "sent" reply): the same seq,
     * "duplicate":true, nothing stored */
    char *hex =
        h_db_text(db, "SELECT hex(env) FROM messages WHERE thread_id = X'%s' AND seq = %lld",
                  th->hex, (long long)b->seq);
    size_t len = strlen(hex) / 2;
    uint8_t *env = malloc(len);
    assert_non_null(env);
    assert_int_equal(sodium_hex2bin(env, len, hex, strlen(hex), NULL, NULL, NULL), 0);
    free(hex);
    size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *b64 = malloc(cap);
    assert_non_null(b64);
    sodium_bin2base64(b64, cap, env, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    free(env);
    struct ses_conn *c = w_login_settled(w.e, w.dev[NURSE]);
    for (int k = 0; k < 2; k++) {
        json_t *reply = w_request_ok(
            c, json_pack("{s:s, s:s, s:s}", "t", "send", "thread", th->id, "env", b64), "sent");
        assert_int_equal(h_jint(reply, "seq"), b->seq);
        assert_string_equal(h_jstr(reply, "msg_id"), b->msg_id);
        assert_true(json_is_true(json_object_get(reply, "duplicate")));
        json_decref(reply);
    }
    ses_conn_free(c);
    free(b64);
    assert_int_equal(db_msg_count(&w, th), sends);
    assert_int_equal(h_db_int(db, "SELECT count(*) FROM messages"), sends);
    assert_int_equal(h_audit_count(db, "msg.submit", "ok"), sends);

    /* a lost state.json: the next send is REPLAYED, the CLI raises its counter above the last
     * stored one and seals anew once: stored once, with the next sender_seq */
    char *st = h_path(w.home[NURSE], "state.json"), *st2 = h_path(w.e->tmp, "nurse-state.json");
    assert_int_equal(rename(st, st2), 0);
    th->seen[NURSE] = 0; /* what the nurse's CLI remembered is gone */
    th->synced[NURSE] = 0;
    const char *after = say(&w, "Discharge planned for next week");
    struct h_cli r;
    RUN(&r, &w, NURSE, "send", th->id, after);
    h_cli_assert_ok(&r);
    saw_roster(&w, th, NURSE);
    int64_t seq = check_sent(th, r.json, false);
    assert_int_equal(seq, th->last_seq + 1);
    struct xmsg *m =
        model_add(&w, th, NURSE, SES_CONTENT_TEXT, after, seq, h_jstr(r.json, "msg_id"));
    char *want = h_fmt("sesame: warning: the local message counter of thread %.8s… was behind; "
                       "continuing after %llu\n",
                       th->id, (unsigned long long)(m->sender_seq - 1));
    assert_string_equal(r.p.err, want);
    free(want);
    h_cli_free(&r);
    free(st);
    free(st2);
    check_envelope(&w, th, m);
    assert_int_equal(db_msg_count(&w, th), sends + 1);
    assert_int_equal(h_db_int(db, "SELECT count(DISTINCT msg_id) FROM messages"), sends + 1);
    assert_int_equal(h_audit_count(db, "msg.submit", "ok"), sends + 1);

    /* every device reads each message once */
    show_ok(&w, th, PSY, th->id);
    show_ok(&w, th, GP1, th->id);
    assert_int_equal(sync_ok(&w, GP2), th->n);
    world_finish(&w);
    world_free(&w);
}

/* --- 5. denied -------------------------------------------------------------------------------
 */

static void test_denied(void **state)
{
    struct world w;
    world_start(&w, *state);
    const char *db = w.e->db;
    struct xthread *th = create_ok(&w, NURSE, "P-7F3A", BIT(PSY) | BIT(GP1));
    send_ok(&w, th, NURSE, say(&w, "%s: first contact today", th->pname));
    struct h_cli r;

    /* the non-member nurse sees no thread; everything about it is DENIED */
    RUN(&r, &w, NURSE2, "thread", "list");
    ok_quiet(&r);
    assert_int_equal(json_array_size(json_object_get(r.json, "threads")), 0);
    h_cli_free(&r);
    assert_int_equal(sync_ok(&w, NURSE2), 0);

    struct h_snap snap;
    h_snap_take(&snap, db, SKIP_LOGIN);
    int64_t denied = h_audit_count(db, "authz.denied", "DENIED");
    int64_t msgs = h_db_int(db, "SELECT count(*) FROM messages");
#define DENIED_AS(who, ...)                                                                        \
    do {                                                                                           \
        RUN(&r, &w, (who), __VA_ARGS__);                                                           \
        expect_denied(&r);                                                                         \
        h_cli_free(&r);                                                                            \
        h_audit_wait_count(db, "authz.denied", "DENIED", ++denied);                                \
    } while (0)
    DENIED_AS(NURSE2, "thread", "show", th->id);
    DENIED_AS(NURSE2, "send", th->id, say(&w, "Not my patient"));
    DENIED_AS(NURSE2, "thread", "info", th->id);
    DENIED_AS(NURSE2, "thread", "add", th->id, uid(&w, NURSE2));
    DENIED_AS(NURSE2, "thread", "title", th->id, say(&w, "%s (renamed)", th->pname));
    DENIED_AS(NURSE2, "follow", th->id, "--count", "1");
    /* the auditor reads the audit log, not the caseload */
    DENIED_AS(AUDITOR, "thread", "list");
    DENIED_AS(AUDITOR, "thread", "show", th->id);
    DENIED_AS(AUDITOR, "send", th->id, say(&w, "Audit note"));
    DENIED_AS(AUDITOR, "sync");
    DENIED_AS(AUDITOR, "directory");
    DENIED_AS(AUDITOR, "thread", "create", "--patient", "P-A0D1", "--title",
              say(&w, "Auditor's thread"), "--member", uid(&w, PSY));
    /* the admin manages members but reads nothing */
    DENIED_AS(ADMIN, "thread", "show", th->id);
    DENIED_AS(ADMIN, "send", th->id, say(&w, "Admin here"));
    DENIED_AS(ADMIN, "thread", "list");
    /* a member who is not a nurse does not manage members; a GP creates no thread */
    DENIED_AS(PSY, "thread", "remove", th->id, uid(&w, NURSE));
    DENIED_AS(PSY, "thread", "add", th->id, uid(&w, NURSE2));
    DENIED_AS(GP1, "thread", "create", "--patient", "P-A0D2", "--title", say(&w, "GP's own thread"),
              "--member", uid(&w, PSY));
#undef DENIED_AS
    /* nothing but the refusals' audit records (and logins) */
    h_snap_expect_rest_same(&snap, db);
    h_snap_free(&snap);
    assert_int_equal(h_db_int(db, "SELECT count(*) FROM messages"), msgs);
    assert_int_equal(h_db_int(db, "SELECT count(*) FROM threads"), 1);
    /* the refusals name the thread at most, never the patient reference */
    assert_int_equal(h_db_int(db,
                              "SELECT count(*) FROM audit WHERE instr(coalesce(object, ''), "
                              "'%s') > 0",
                              th->patient),
                     0);
    /* the members are not affected */
    show_ok(&w, th, PSY, th->id);
    list_ok(&w, NURSE2);
    world_finish(&w);
    world_free(&w);
}

/* --- 6. removal ------------------------------------------------------------------------------
 */

static void test_removal(void **state)
{
    struct world w;
    world_start(&w, *state);
    struct xthread *th = create_ok(&w, NURSE, "P-7F3A", BIT(PSY) | BIT(GP1));
    send_ok(&w, th, NURSE, say(&w, "%s transferred to the day unit", th->pname));
    send_ok(&w, th, GP1, say(&w, "Thanks, I will follow up"));
    show_ok(&w, th, GP1, th->id);
    assert_int_equal(sync_ok(&w, GP2), 3);

    /* the GP follows the thread live on device 1 while being removed and re-added */
    struct h_bg bg;
    FOLLOW_START(&bg, &w, GP1, "follow-gp", th->id, "--count", "1", "--timeout-exit", "15000");

    member_ok(&w, th, NURSE, false, GP1);
    struct h_cli r;
    RUN(&r, &w, GP1, "thread", "list");
    ok_quiet(&r);
    assert_int_equal(json_array_size(json_object_get(r.json, "threads")), 0);
    h_cli_free(&r);
    RUN(&r, &w, GP1, "thread", "show", th->id);
    expect_denied(&r);
    h_cli_free(&r);
    RUN(&r, &w, GP2, "send", th->id, say(&w, "Am I still in?"));
    expect_denied(&r);
    h_cli_free(&r);

    /* sent while the GP is out: sealed to the nurse's and the psychiatrist's devices only */
    const struct xmsg *out = send_ok(&w, th, NURSE, say(&w, "Psychosis relapse, not for the GP"));
    assert_int_equal(out->wrapped, BIT(NURSE) | BIT(PSY));
    assert_int_equal(sync_ok(&w, GP2), 0);
    show_ok(&w, th, PSY, th->id);

    /* back in: reads what is sent from now on, never what was sent while out */
    member_ok(&w, th, NURSE, true, GP1);
    const struct xmsg *back = send_ok(&w, th, NURSE, say(&w, "Welcome back: discharge letter"));
    assert_int_equal(back->wrapped, BIT(NURSE) | BIT(PSY) | BIT(GP1) | BIT(GP2));
    /* unread: only what was sent after the GP came back, not the message sent while out */
    assert_int_equal(th->read[GP1], out->seq - 1);
    assert_int_equal(unread_of(th, GP1), 1);
    struct h_proc p;
    h_bg_wait(&bg, H_CLI_TIMEOUT_MS, &p);
    if (p.status != 0 || p.err_len != 0) {
        print_error("follow: exit %d (want 0), stdout [%s], stderr [%s]\n", p.status, p.out, p.err);
        h_proc_free(&p);
        fail();
    }
    /* [whether the removed GP is told of its removal is not specified: roster v2 or not], roster
     * v3 (the GP is a member again), then the message sent after: never the one while out */
    json_t *lines = json_lines(p.out);
    size_t nl = json_array_size(lines), k = 0;
    assert_true(nl == 2 || nl == 3);
    for (int v = nl == 3 ? 2 : 3; v <= 3; v++, k++) {
        const json_t *o = json_array_get(lines, k);
        assert_int_equal(json_object_size(o), 3);
        assert_string_equal(h_jstr(o, "event"), "roster");
        assert_string_equal(h_jstr(o, "thread"), th->id);
        assert_int_equal(h_jint(o, "roster_version"), v);
    }
    expect_follow_msg(&w, th, GP1, json_array_get(lines, k), back);
    json_decref(lines);
    assert_false(h_contains(p.out, p.out_len, out->text, strlen(out->text)));
    h_proc_free(&p);
    th->delivered[GP1] = back->seq;
    th->synced[GP1] = back->seq;
    saw_roster(&w, th, GP1); /* follow fetched the roster */
    check_marks_db(&w, th);
    list_ok(&w, GP1); /* unread 1 */

    assert_int_equal(sync_ok(&w, GP2), 1);
    RUN(&r, &w, GP1, "thread", "show", th->id);
    ok_quiet(&r);
    assert_false(h_contains(r.p.out, r.p.out_len, out->text, strlen(out->text)));
    h_cli_free(&r);
    show_ok(&w, th, GP1, th->id); /* all but the message sent while out */
    show_ok(&w, th, NURSE, th->id);
    list_ok(&w, GP1);
    world_finish(&w);
    world_free(&w);
}

/* --- 7. restart ------------------------------------------------------------------------------
 */

#define N_RESTART 10

static void test_restart(void **state)
{
    struct world w;
    world_start(&w, *state);
    struct h_env *e = w.e;
    struct xthread *th = create_ok(&w, NURSE, "P-7F3A", BIT(PSY) | BIT(GP1));
    /* ten sends, each acknowledged with its seq */
    for (int i = 0; i < N_RESTART; i++)
        send_ok(&w, th, i % 3 == 2 ? GP1 : NURSE,
                say(&w, "Observation %d: %s calm, eating, no self-harm", i + 1, th->pname));
    show_ok(&w, th, GP2, th->id);

    assert_int_equal(h_daemon_stop(&e->d), 0);
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, NULL);
    for (int d = 0; d < N_WHO; d++)
        if (w.home[d] != NULL)
            h_home_set_server_ok(w.home[d], e->d.url);

    /* everything acknowledged is there, in order, decrypted; the marks survived */
    assert_int_equal(db_msg_count(&w, th), N_RESTART + 1);
    check_marks_db(&w, th);
    list_ok(&w, PSY);
    show_ok(&w, th, PSY, th->id);
    /* the counters survived on both sides: the next send continues */
    send_ok(&w, th, NURSE, say(&w, "After the restart"));
    assert_int_equal(sync_ok(&w, GP1), th->n);
    show_ok(&w, th, GP2, th->id);
    world_finish(&w);
    world_free(&w);
}

/* --- 8. no_plaintext_anywhere ----------------------------------------------------------------
 */

/* `send THREAD -` with the text on stdin (one trailing newline dropped). */
static const struct xmsg *send_stdin_ok(struct world *w, struct xthread *th, int who,
                                        const char *text)
{
    char *path = h_path(w->e->tmp, "stdin.txt");
    char *with_nl = h_fmt("%s\n", text);
    assert_int_equal(h_write_file(path, with_nl, strlen(with_nl), false), 0);
    const char *argv[] = {SESAME_BIN, "--home", w->home[who], "--json", "send", th->id, "-", NULL};
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, path, H_CLI_TIMEOUT_MS, &p), 0);
    if (p.status != 0 || p.err_len != 0)
        fail_msg("send -: exit %d, stderr [%s]", p.status, p.err);
    json_error_t jerr;
    json_t *j = json_loadb(p.out, p.out_len, JSON_REJECT_DUPLICATES, &jerr);
    assert_true(json_is_object(j));
    saw_roster(w, th, who);
    int64_t seq = check_sent(th, j, false);
    assert_int_equal(seq, th->last_seq + 1);
    struct xmsg *m = model_add(w, th, who, SES_CONTENT_TEXT, text, seq, h_jstr(j, "msg_id"));
    json_decref(j);
    h_proc_free(&p);
    unlink(path); /* the test's own copy of the plaintext */
    free(path);
    free(with_nl);
    check_envelope(w, th, m);
    return m;
}

static void test_no_plaintext_anywhere(void **state)
{
    struct world w;
    world_start(&w, *state);
    struct h_env *e = w.e;
    struct xthread *th = create_ok(&w, NURSE, "P-7F3A", BIT(PSY) | BIT(GP1));
    struct xthread *th2 = create_ok(&w, NURSE, "P-2B9C", BIT(GP1));
    send_ok(&w, th, NURSE, say(&w, "%s, 34, bipolar I, admitted under section 2", th->pname));
    send_ok(&w, th, PSY, say(&w, "%s reports voices again; increase to 10 mg", th->pname));
    send_ok(&w, th, GP1, say(&w, "ECG normal, QTc 410 ms"));
    send_stdin_ok(&w, th, GP2, say(&w, "From the tablet: %s's sister called", th->pname));
    /* a long text (several padding blocks) */
    char long_text[1400];
    size_t off = 0;
    while (off + 60 < sizeof long_text - 100)
        off +=
            (size_t)snprintf(long_text + off, sizeof long_text - off,
                             "Ward round notes for %.24s; mood and sleep improving. ", th->pname);
    send_ok(&w, th, NURSE, say(&w, "%s", long_text));
    send_as(&w, th, PSY, th->id, SES_CONTENT_THREAD_TITLE,
            say(&w, "%s, transferred to ward C", th->pname));
    send_ok(&w, th2, GP1, say(&w, "%s: diabetes review due", th2->pname));
    /* reading on every device, live, syncing; a membership change */
    for (int d = NURSE; d <= GP2; d++)
        show_ok(&w, th, d, th->id);
    list_ok(&w, NURSE);
    list_ok(&w, GP1);
    struct h_bg bg;
    FOLLOW_START(&bg, &w, PSY, "follow-psy", "--count", "1", "--timeout-exit", "10000");
    const struct xmsg *live = send_ok(&w, th, NURSE, say(&w, "%s calmer this evening", th->pname));
    struct h_proc p;
    h_bg_wait(&bg, H_CLI_TIMEOUT_MS, &p);
    assert_int_equal(p.status, 0);
    json_t *lines = json_lines(p.out);
    assert_int_equal(json_array_size(lines), 1);
    expect_follow_msg(&w, th, PSY, json_array_get(lines, 0), live);
    json_decref(lines);
    h_proc_free(&p);
    th->delivered[PSY] = live->seq;
    th->synced[PSY] = live->seq;
    saw_roster(&w, th, PSY); /* follow fetched the roster */
    member_ok(&w, th, NURSE, false, GP1);
    send_ok(&w, th, NURSE, say(&w, "%s: safeguarding concern", th->pname));
    member_ok(&w, th, NURSE, true, GP1);
    assert_int_equal(sync_ok(&w, GP2), 3); /* th2's two, and "calmer" in th */

    /* the files while running (WAL), after a clean stop, and after a restart */
    scan_server(&w, false);
    scan_homes(&w);
    assert_int_equal(h_daemon_stop(&e->d), 0);
    scan_server(&w, true);
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, NULL);
    for (int d = 0; d < N_WHO; d++)
        if (w.home[d] != NULL)
            h_home_set_server_ok(w.home[d], e->d.url);
    send_ok(&w, th, GP1, say(&w, "%s seen in clinic after the restart", th->pname));
    show_ok(&w, th, PSY, th->id);
    /* the log scanned is this daemon's (control: it names the devices that logged in) */
    size_t loglen = 0;
    char *log = h_read_file(e->log, &loglen);
    assert_non_null(log);
    for (int d = NURSE; d <= GP2; d++)
        assert_true(h_contains(log, loglen, did(&w, d), strlen(did(&w, d))));
    free(log);
    world_finish(&w);
    world_free(&w);
}

/* --- 9. safety_numbers -----------------------------------------------------------------------
 */

static int cmp32(const void *a, const void *b)
{
    return memcmp(a, b, 32);
}

/* README "Devices and safety numbers": one user's 30 digits. */
static void safety_half(char out[31], const struct world *w, int u)
{
    uint8_t keys[N_WHO][32];
    size_t n = 0;
    for (int d = 0; d < N_WHO; d++)
        if (devices_of(w, u) & BIT(d))
            memcpy(keys[n++], w->dev[d]->prof.keys.sign_pk, 32);
    qsort(keys, n, 32, cmp32);
    size_t klen = 32 * n;
    uint8_t *first = malloc(2 + klen + 16 + klen);
    assert_non_null(first);
    first[0] = first[1] = 0;
    memcpy(first + 2, keys, klen);
    memcpy(first + 2 + klen, w->dev[u]->prof.user_id, 16);
    memcpy(first + 2 + klen + 16, keys, klen);
    uint8_t h[64];
    crypto_hash_sha512(h, first, 2 + klen + 16 + klen);
    free(first);
    uint8_t *buf = malloc(64 + klen);
    assert_non_null(buf);
    for (int i = 1; i < 5200; i++) {
        memcpy(buf, h, 64);
        memcpy(buf + 64, keys, klen);
        crypto_hash_sha512(h, buf, 64 + klen);
    }
    free(buf);
    for (int i = 0; i < 6; i++) {
        uint64_t v = 0;
        for (int k = 0; k < 5; k++)
            v = (v << 8) | h[i * 5 + k];
        snprintf(out + 5 * i, 6, "%05llu", (unsigned long long)(v % 100000));
    }
}

static void safety_number(char out[61], const struct world *w, int a, int b)
{
    char ha[31], hb[31];
    safety_half(ha, w, a);
    safety_half(hb, w, b);
    snprintf(out, 61, "%s%s", strcmp(ha, hb) <= 0 ? ha : hb, strcmp(ha, hb) <= 0 ? hb : ha);
}

/* `safety-number` of device who with user `other`: the README's fields, the devices of both, and
 * the number; returns it (61 bytes). warn: the exact stderr wanted ("" for none). */
static void safety_ok(const struct world *w, int who, int other, const char *warn, char out[61])
{
    struct h_cli r;
    h_cli_run(&r, w->home[who], NULL, "safety-number", uid(w, other), NULL);
    h_cli_assert_ok(&r);
    assert_string_equal(r.p.err, warn);
    const json_t *j = r.json;
    assert_int_equal(json_object_size(j), 5);
    assert_string_equal(h_jstr(j, "user"), uid(w, other));
    assert_string_equal(h_jstr(j, "name"), who_name[other]);
    const char *num = h_jstr(j, "safety_number");
    assert_int_equal(strlen(num), 60);
    for (int i = 0; i < 60; i++)
        assert_true(num[i] >= '0' && num[i] <= '9');
    char want[61];
    safety_number(want, w, user_of[who], other);
    assert_string_equal(num, want);
    snprintf(out, 61, "%s", num);
    const char *keys[2] = {"devices", "my_devices"};
    const int of[2] = {other, user_of[who]};
    for (int s = 0; s < 2; s++) {
        const json_t *devs = json_object_get(j, keys[s]);
        unsigned want_d = devices_of(w, of[s]), got = 0;
        assert_int_equal(json_array_size(devs), (size_t)popcount(want_d));
        size_t i;
        const json_t *dv;
        json_array_foreach(devs, i, dv)
        {
            assert_int_equal(json_object_size(dv), 2);
            uint8_t id[SES_ID_BYTES], pk[32];
            assert_int_equal(ses_id_from_text(id, h_jstr(dv, "device")), 0);
            int d = who_of_device(w, id);
            assert_true(d >= 0 && (want_d & BIT(d)) && !(got & BIT(d)));
            got |= BIT(d);
            const char *pks = h_jstr(dv, "sign_pk");
            assert_int_equal(ses_b64_decode(pk, 32, pks, strlen(pks)), 0);
            assert_memory_equal(pk, w->dev[d]->prof.keys.sign_pk, 32);
        }
    }
    h_cli_free(&r);
}

static void test_safety_numbers(void **state)
{
    struct world w;
    world_start(&w, *state);
    char n_nurse[61], n_psy[61], n_gp[61], n_gp2[61];
    safety_ok(&w, NURSE, PSY, "", n_nurse);
    safety_ok(&w, PSY, NURSE, "", n_psy);
    assert_string_equal(n_nurse, n_psy);
    /* the GP has two devices: both give the same number, and it covers both */
    safety_ok(&w, GP1, NURSE, "", n_gp);
    safety_ok(&w, GP2, NURSE, "", n_gp2);
    assert_string_equal(n_gp, n_gp2);
    assert_string_not_equal(n_gp, n_nurse);
    struct xthread *th = create_ok(&w, NURSE, "P-7F3A", BIT(PSY) | BIT(GP1));
    send_ok(&w, th, NURSE, say(&w, "%s: before the new device", th->pname));

    /* the psychiatrist enrols a tablet: the number changes, the nurse is warned once */
    enrol(&w, PSY2);
    char *warn = h_fmt("sesame: warning: the devices of %s (%.8s…) changed: new or changed %.8s…; "
                       "compare safety numbers (sesame safety-number %s)\n",
                       who_name[PSY], uid(&w, PSY), did(&w, PSY2), uid(&w, PSY));
    char n2_nurse[61], n2_psy[61], n2_tab[61];
    safety_ok(&w, NURSE, PSY, warn, n2_nurse);
    assert_string_not_equal(n2_nurse, n_nurse);
    safety_ok(&w, NURSE, PSY, "", n2_nurse); /* once */
    /* the psychiatrist's first device sees its own user's new device too */
    safety_ok(&w, PSY, NURSE, warn, n2_psy);
    assert_string_equal(n2_psy, n2_nurse);
    safety_ok(&w, PSY2, NURSE, "", n2_tab); /* first sight: silent */
    assert_string_equal(n2_tab, n2_nurse);
    free(warn);
    /* the unchanged pair keeps its number */
    char n3_gp[61];
    safety_ok(&w, GP1, NURSE, "", n3_gp);
    assert_string_equal(n3_gp, n_gp);

    /* the new device is a recipient from now on; older messages say it was not delivered to it */
    send_ok(&w, th, NURSE, say(&w, "After the tablet"));
    assert_true(visible(&th->m[th->n - 1], PSY2));
    assert_false(visible(&th->m[0], PSY2));
    show_ok(&w, th, GP1, th->id);
    show_ok(&w, th, PSY2, th->id);
    world_finish(&w);
    world_free(&w);
}

/* --- 10. new_laptop_history ------------------------------------------------------------------
 */

/* The psychiatrist's second device is the new laptop of clients/cli/README.md "A new device:
 * reading the history". */
#define LAPTOP PSY2

static const char *const SKIP_LOGIN_REWRAPS[] = {"devices.last_login_ms", "rewraps", NULL};

/* README `device fingerprint`: the first 16 hex digits of BLAKE2b-256 of the signing key. */
static void fingerprint_of(char out[17], const struct world *w, int who)
{
    uint8_t h[32];
    assert_int_equal(crypto_generichash(h, sizeof h, w->dev[who]->prof.keys.sign_pk, 32, NULL, 0),
                     0);
    sodium_bin2hex(out, 17, h, 8);
}

/* One BLOB of exactly one row (sql returns hex()), decoded; malloc'd. */
static uint8_t *db_blob(const struct world *w, char *sql, size_t *len)
{
    char *hex = h_db_text(w->e->db, "%s", sql);
    free(sql);
    assert_non_null(hex);
    size_t n = strlen(hex) / 2;
    uint8_t *b = malloc(n ? n : 1);
    assert_non_null(b);
    assert_int_equal(sodium_hex2bin(b, n, hex, strlen(hex), NULL, NULL, NULL), 0);
    free(hex);
    *len = n;
    return b;
}

static uint8_t *db_env(const struct world *w, const struct xthread *th, int64_t seq, size_t *len)
{
    return db_blob(w,
                   h_fmt("SELECT hex(env) FROM messages WHERE thread_id = X'%s' AND seq = %lld",
                         th->hex, (long long)seq),
                   len);
}

/* The stored re-wrap of m for device target (PROTOCOL.md §12): one row, by device `by`, stored
 * at created_ms; its signature verifies for target only, and the laptop's own keys open the
 * envelope through it to m's text. */
static void check_rewrap(const struct world *w, const struct xthread *th, const struct xmsg *m,
                         int target, int by, int64_t created_ms)
{
    char thex[33], bhex[33];
    h_id_hex(thex, did(w, target));
    h_id_hex(bhex, did(w, by));
    assert_int_equal(h_db_int(w->e->db,
                              "SELECT count(*) FROM rewraps WHERE thread_id = X'%s' AND seq = %lld "
                              "AND device_id = X'%s' AND by_device = X'%s' AND created_ms = %lld",
                              th->hex, (long long)m->seq, thex, bhex, (long long)created_ms),
                     1);
    size_t len, sl, gl;
    uint8_t *env = db_env(w, th, m->seq, &len);
    uint8_t *sealed = db_blob(w,
                              h_fmt("SELECT hex(sealed) FROM rewraps WHERE thread_id = X'%s' AND "
                                    "seq = %lld AND device_id = X'%s'",
                                    th->hex, (long long)m->seq, thex),
                              &sl);
    uint8_t *sig = db_blob(w,
                           h_fmt("SELECT hex(sig) FROM rewraps WHERE thread_id = X'%s' AND seq = "
                                 "%lld AND device_id = X'%s'",
                                 th->hex, (long long)m->seq, thex),
                           &gl);
    assert_int_equal(sl, SES_ENVELOPE_SEALED_BYTES);
    assert_int_equal(gl, SES_SIG_BYTES);
    const struct w_dev *t = w->dev[target], *b = w->dev[by];
    /* bound to the target: the same signature does not verify for another device */
    struct ses_envelope_view v;
    assert_int_equal(ses_envelope_parse(env, len, &v), 0);
    assert_int_equal(ses_rewrap_verify(&v, t->prof.device_id, sealed, b->prof.device_id, sig,
                                       b->prof.keys.sign_pk),
                     0);
    assert_int_equal(ses_rewrap_verify(&v, w->dev[NURSE]->prof.device_id, sealed, b->prof.device_id,
                                       sig, b->prof.keys.sign_pk),
                     SES_EBAD_SIGNATURE);
    uint8_t expected[N_WHO][SES_ID_BYTES];
    size_t ne = 0;
    for (int d = 0; d < N_WHO; d++)
        if (m->wrapped & BIT(d))
            memcpy(expected[ne++], w->dev[d]->prof.device_id, SES_ID_BYTES);
    struct ses_opened o;
    assert_int_equal(ses_envelope_open_rewrap(
                         env, len, t->prof.device_id, t->prof.keys.box_pk, t->prof.keys.box_sk,
                         w->dev[m->from]->prof.keys.sign_pk, sealed, sig, b->prof.device_id,
                         b->prof.keys.sign_pk, (const uint8_t(*)[SES_ID_BYTES])expected, ne, 0, &o),
                     0);
    assert_int_equal(o.content_type, m->ctype);
    assert_int_equal(o.body_len, strlen(m->text));
    assert_memory_equal(o.body, m->text, o.body_len);
    ses_opened_free(&o);
    free(env);
    free(sealed);
    free(sig);
}

/* The `share-history --yes --json` reply: exactly its seven fields. */
static void check_shared(const json_t *j, const char *device, const char *fp, int64_t threads,
                         int64_t rewrapped, int64_t stored, int64_t skipped)
{
    assert_int_equal(json_object_size(j), 7);
    assert_string_equal(h_jstr(j, "device"), device);
    assert_string_equal(h_jstr(j, "fingerprint"), fp);
    assert_int_equal(h_jint(j, "threads"), threads);
    assert_int_equal(h_jint(j, "rewrapped"), rewrapped);
    assert_int_equal(h_jint(j, "stored"), stored);
    assert_int_equal(h_jint(j, "skipped"), skipped);
    assert_true(json_is_true(json_object_get(j, "done")));
}

/* The msg.rewrap audit record at seq: by the psychiatrist's first device, with this object. */
static void check_rewrap_audit(const struct world *w, int64_t seq, const char *object)
{
    const char *db = w->e->db;
    char uhex[33], dhex[33];
    h_id_hex(uhex, uid(w, PSY));
    h_id_hex(dhex, did(w, PSY));
    assert_int_equal(h_db_int(db,
                              "SELECT count(*) FROM audit WHERE seq = %lld AND action = "
                              "'msg.rewrap' AND outcome = 'ok' AND actor_user = X'%s' AND "
                              "actor_device = X'%s' AND actor_role = 'psychiatrist'",
                              (long long)seq, uhex, dhex),
                     1);
    char *got = h_db_text(db, "SELECT object FROM audit WHERE seq = %lld", (long long)seq);
    assert_string_equal(got, object);
    free(got);
}

static void test_new_laptop_history(void **state)
{
    struct world w;
    world_start(&w, *state);
    const char *db = w.e->db;
    struct h_cli r;
    struct h_snap snap;

    /* the nurse and the psychiatrist: the thread (its title is message 1), three messages */
    struct xthread *th = create_ok(&w, NURSE, "P-7F3A", BIT(PSY));
    send_ok(&w, th, NURSE, say(&w, "%s refuses her evening lithium since Sunday", th->pname));
    send_ok(&w, th, PSY, say(&w, "Check the level tomorrow; I will see her at 10"));
    send_ok(&w, th, NURSE, say(&w, "Level drawn, she agreed to the review"));
    const int n_before = th->n;
    assert_int_equal(n_before, 4);
    show_ok(&w, th, PSY, th->id);
    show_ok(&w, th, NURSE, th->id);

    /* 1-2. an admin code for the psychiatrist's user (invite --user), the laptop enrols with it
     * in a new home: the same user, another device */
    enrol(&w, LAPTOP);
    assert_string_equal(uid(&w, LAPTOP), uid(&w, PSY));
    assert_string_not_equal(did(&w, LAPTOP), did(&w, PSY));
    for (int k = 0; k < n_before; k++)
        assert_false(visible(&th->m[k], LAPTOP));

    /* the laptop cannot read the earlier messages: `thread show` fetches only what is wrapped
     * (or re-wrapped) to it, so it lists none of them and has no title */
    RUN(&r, &w, LAPTOP, "thread", "show", th->id);
    ok_quiet(&r);
    assert_int_equal(json_object_size(r.json), 6);
    assert_string_equal(h_jstr(r.json, "thread"), th->id);
    assert_string_equal(h_jstr(r.json, "patient"), th->patient);
    h_jnull(r.json, "title");
    assert_int_equal(h_jint(r.json, "roster_version"), 1);
    assert_int_equal(json_array_size(json_object_get(r.json, "members")), 2);
    assert_true(json_is_array(json_object_get(r.json, "messages")));
    assert_int_equal(json_array_size(json_object_get(r.json, "messages")), 0);
    for (int k = 0; k < n_before; k++)
        assert_false(h_contains(r.p.out, r.p.out_len, th->m[k].text, strlen(th->m[k].text)));
    h_cli_free(&r);
    saw_roster(&w, th, LAPTOP);
    th->synced[LAPTOP] = th->last_seq;
    check_marks_db(&w, th);
    show_ok(&w, th, LAPTOP, th->id); /* the same through the model */
    list_ok(&w, LAPTOP);             /* title null */

    /* 2. on the laptop: its id and fingerprint, from the profile only (no connection) */
    char fp[17], grouped[20];
    fingerprint_of(fp, &w, LAPTOP);
    snprintf(grouped, sizeof grouped, "%.4s %.4s %.4s %.4s", fp, fp + 4, fp + 8, fp + 12);
    h_snap_take(&snap, db, SKIP_LOGIN);
    RUN(&r, &w, LAPTOP, "device", "fingerprint");
    ok_quiet(&r);
    assert_int_equal(json_object_size(r.json), 2);
    assert_string_equal(h_jstr(r.json, "device"), did(&w, LAPTOP));
    assert_string_equal(h_jstr(r.json, "fingerprint"), fp);
    char laptop_fp[17];
    snprintf(laptop_fp, sizeof laptop_fp, "%s", h_jstr(r.json, "fingerprint"));
    h_cli_free(&r);
    h_cli_run_text(&r, w.home[LAPTOP], NULL, "device", "fingerprint", NULL);
    assert_int_equal(r.p.status, 0);
    assert_string_equal(r.p.err, "");
    char *want = h_fmt("device:      %s\nfingerprint: %s\n", did(&w, LAPTOP), grouped);
    assert_string_equal(r.p.out, want);
    free(want);
    h_cli_free(&r);
    h_snap_expect_same(&snap, db);
    h_snap_free(&snap);

    /* 3. on the first device, without --yes: the laptop's id and fingerprint (the laptop's own)
     * and the thread it would share; exit 2, nothing stored (a login only) */
    h_snap_take(&snap, db, SKIP_LOGIN);
    RUN(&r, &w, PSY, "device", "share-history", did(&w, LAPTOP));
    assert_int_equal(r.p.status, 2);
    assert_string_equal(r.p.err, "");
    json_t *lines = json_lines(r.p.out); /* exactly one object, on one line */
    assert_int_equal(json_array_size(lines), 1);
    const json_t *dry = json_array_get(lines, 0);
    assert_int_equal(json_object_size(dry), 4);
    assert_string_equal(h_jstr(dry, "device"), did(&w, LAPTOP));
    assert_string_equal(h_jstr(dry, "fingerprint"), laptop_fp);
    const json_t *tl = json_object_get(dry, "threads");
    assert_int_equal(json_array_size(tl), 1);
    assert_string_equal(json_string_value(json_array_get(tl, 0)), th->id);
    assert_true(json_is_false(json_object_get(dry, "done")));
    json_decref(lines);
    h_cli_free(&r);
    h_snap_expect_one_audit(&snap, db, "auth.login", "ok");
    h_snap_free(&snap);
    assert_int_equal(h_db_int(db, "SELECT count(*) FROM rewraps"), 0);
    /* the same in words: the enrolment time, the grouped fingerprint, the count */
    h_snap_take(&snap, db, SKIP_LOGIN);
    h_cli_run_text(&r, w.home[PSY], NULL, "device", "share-history", did(&w, LAPTOP), NULL);
    assert_int_equal(r.p.status, 2);
    assert_string_equal(r.p.err, "");
    char lhex[33], created[40];
    h_id_hex(lhex, did(&w, LAPTOP));
    time_t secs =
        (time_t)(h_db_int(db, "SELECT created_ms FROM devices WHERE id = X'%s'", lhex) / 1000);
    struct tm tm;
    assert_non_null(gmtime_r(&secs, &tm));
    assert_true(strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0);
    want = h_fmt("device %s is one of your active devices (enrolled %s)\n"
                 "its key fingerprint: %s\n"
                 "would share the history of 1 thread(s) with it: every message this device can "
                 "read gets its key re-wrapped for that device (signed by this device).\n"
                 "Compare the fingerprint with `sesame device fingerprint` on that device, then "
                 "run again with --yes.\n",
                 did(&w, LAPTOP), created, grouped);
    assert_string_equal(r.p.out, want);
    free(want);
    h_cli_free(&r);
    h_snap_expect_one_audit(&snap, db, "auth.login", "ok");
    h_snap_free(&snap);
    assert_int_equal(h_db_int(db, "SELECT count(*) FROM rewraps"), 0);
    assert_int_equal(h_audit_count(db, "msg.rewrap", NULL), 0);

    /* the laptop follows the thread meanwhile */
    struct h_bg bg;
    FOLLOW_START(&bg, &w, LAPTOP, "follow-laptop", th->id, "--count", "1", "--timeout-exit",
                 "15000");

    /* 3. the same fingerprint: --yes. The four earlier messages re-wrapped for the laptop in one
     * request, one msg.rewrap record; nothing else changed */
    int64_t s0 = h_audit_max_seq(db);
    h_snap_take(&snap, db, SKIP_LOGIN_REWRAPS);
    RUN(&r, &w, PSY, "device", "share-history", did(&w, LAPTOP), "--yes");
    h_cli_assert_ok(&r);
    /* it fetched the thread's roster: the first device notes its user's new device, once */
    char *new_dev = h_fmt("sesame: warning: the devices of %s (%.8s…) changed: new or changed "
                          "%.8s…; compare safety numbers (sesame safety-number %s)\n",
                          who_name[PSY], uid(&w, PSY), did(&w, LAPTOP), uid(&w, PSY));
    assert_string_equal(r.p.err, new_dev);
    check_shared(r.json, did(&w, LAPTOP), laptop_fp, 1, n_before, n_before, 0);
    h_cli_free(&r);
    saw_roster(&w, th, PSY);
    h_audit_wait_count(db, "msg.rewrap", "ok", 1);
    assert_int_equal(h_audit_max_seq(db), s0 + 2);
    char phex[33];
    h_id_hex(phex, did(&w, PSY));
    assert_int_equal(h_db_int(db,
                              "SELECT count(*) FROM audit WHERE seq = %lld AND action = "
                              "'auth.login' AND outcome = 'ok' AND actor_device = X'%s'",
                              (long long)(s0 + 1), phex),
                     1);
    char *object = h_fmt("thread:%s device:%s count:%d", th->id, did(&w, LAPTOP), n_before);
    check_rewrap_audit(&w, s0 + 2, object);
    free(object);
    h_snap_expect_rest_same(&snap, db);
    h_snap_free(&snap);
    int64_t rw_ms = h_db_int(db, "SELECT ts_ms FROM audit WHERE seq = %lld", (long long)(s0 + 2));
    assert_int_equal(h_db_int(db, "SELECT count(*) FROM rewraps"), n_before);
    for (int k = 0; k < n_before; k++) {
        struct xmsg *m = &th->m[k];
        check_rewrap(&w, th, m, LAPTOP, PSY, rw_ms);
        m->rewrapped |= BIT(LAPTOP);
        m->rewrap_by[LAPTOP] = PSY;
    }

    /* 5. a message sent after: sealed to the laptop like to every device; the follow printed
     * the history event, then that message. (The nurse's CLI first notes the new device.) */
    RUN(&r, &w, NURSE, "thread", "info", th->id);
    h_cli_assert_ok(&r);
    assert_string_equal(r.p.err, new_dev);
    free(new_dev);
    saw_roster(&w, th, NURSE);
    check_roster_json(&w, th, r.json);
    h_cli_free(&r);
    const struct xmsg *after = send_ok(&w, th, NURSE, say(&w, "Lithium 0.7 mmol/L, dose kept"));
    assert_int_equal(after->wrapped, BIT(NURSE) | BIT(PSY) | BIT(LAPTOP));
    struct h_proc p;
    h_bg_wait(&bg, H_CLI_TIMEOUT_MS, &p);
    if (p.status != 0 || p.err_len != 0) {
        print_error("follow: exit %d (want 0), stdout [%s], stderr [%s]\n", p.status, p.out, p.err);
        h_proc_free(&p);
        fail();
    }
    lines = json_lines(p.out);
    assert_int_equal(json_array_size(lines), 2);
    const json_t *ev = json_array_get(lines, 0);
    assert_int_equal(json_object_size(ev), 3);
    assert_string_equal(h_jstr(ev, "event"), "history");
    assert_string_equal(h_jstr(ev, "thread"), th->id);
    assert_int_equal(h_jint(ev, "count"), n_before);
    expect_follow_msg(&w, th, LAPTOP, json_array_get(lines, 1), after);
    json_decref(lines);
    h_proc_free(&p);
    th->delivered[LAPTOP] = after->seq;
    th->synced[LAPTOP] = after->seq;
    check_marks_db(&w, th);

    /* 4. the laptop's thread show: every earlier message and the title decrypted and verified,
     * each with the note naming the device that shared it; the new one without a note */
    show_ok(&w, th, LAPTOP, th->id);
    RUN(&r, &w, LAPTOP, "thread", "show", th->id);
    ok_quiet(&r);
    assert_string_equal(h_jstr(r.json, "title"), th->m[0].text);
    const json_t *msgs = json_object_get(r.json, "messages");
    assert_int_equal(json_array_size(msgs), (size_t)th->n);
    char *note = h_fmt("history shared with this device by your device %.8s…", did(&w, PSY));
    for (int k = 0; k < th->n; k++) {
        const json_t *o = json_array_get(msgs, (size_t)k);
        assert_int_equal(h_jint(o, "seq"), th->m[k].seq);
        assert_true(json_is_true(json_object_get(o, "verified")));
        h_jnull(o, "error");
        assert_string_equal(h_jstr(o, "text"), th->m[k].text);
        assert_string_equal(h_jstr(o, "content"), k == 0 ? "title" : "text");
        if (k < n_before)
            assert_string_equal(h_jstr(o, "note"), note);
        else
            h_jnull(o, "note");
    }
    free(note);
    h_cli_free(&r);
    list_ok(&w, LAPTOP);                      /* the title, decrypted */
    assert_int_equal(sync_ok(&w, LAPTOP), 0); /* sync: only after its synced mark */

    /* again: the server keeps the first re-wraps (none stored), the message sealed to the laptop
     * is not re-wrapped; one more request, one more record */
    char *rewraps = h_db_dump(db, "rewraps", NULL);
    RUN(&r, &w, PSY, "device", "share-history", did(&w, LAPTOP), "--yes");
    ok_quiet(&r);
    check_shared(r.json, did(&w, LAPTOP), laptop_fp, 1, n_before, 0, 0);
    h_cli_free(&r);
    h_audit_wait_count(db, "msg.rewrap", "ok", 2);
    object = h_fmt("thread:%s device:%s count:0", th->id, did(&w, LAPTOP));
    check_rewrap_audit(&w, h_audit_max_seq(db), object);
    free(object);
    char *rewraps2 = h_db_dump(db, "rewraps", NULL);
    assert_string_equal(rewraps2, rewraps);
    free(rewraps2);

    /* the laptop passes on nothing it only reads through re-wraps: shared with the first device,
     * the four are skipped, nothing is posted (no request, no record) */
    RUN(&r, &w, LAPTOP, "device", "share-history", did(&w, PSY), "--yes");
    ok_quiet(&r);
    char psy_fp[17];
    fingerprint_of(psy_fp, &w, PSY);
    check_shared(r.json, did(&w, PSY), psy_fp, 1, 0, 0, n_before);
    h_cli_free(&r);

    /* another user's device: refused before anything is sent (exit 2, DENIED), nothing stored */
    h_snap_take(&snap, db, SKIP_LOGIN);
    RUN(&r, &w, PSY, "device", "share-history", did(&w, NURSE), "--yes");
    h_cli_assert_error(&r, 2, "DENIED");
    assert_int_equal(r.p.out_len, 0);
    want = h_fmt("sesame: error: DENIED: device %s is not an active device of yours; only your own "
                 "devices can receive your history\n",
                 did(&w, NURSE));
    assert_string_equal(r.p.err, want);
    free(want);
    h_cli_free(&r);
    h_snap_expect_one_audit(&snap, db, "auth.login", "ok");
    h_snap_free(&snap);
    /* and the server refuses it too (PROTOCOL.md §12): a correctly signed re-wrap of message 1
     * for the nurse's device, sent by hand: DENIED, one authz.denied record, nothing stored */
    struct ses_conn *c = w_login_settled(w.e, w.dev[PSY]);
    h_snap_take(&snap, db, SKIP_LOGIN);
    size_t len;
    uint8_t *env = db_env(&w, th, 1, &len), sealed[SES_ENVELOPE_SEALED_BYTES], sig[SES_SIG_BYTES];
    const struct w_dev *pd = w.dev[PSY], *nd = w.dev[NURSE];
    assert_int_equal(ses_rewrap_create(env, len, pd->prof.device_id, pd->prof.keys.box_pk,
                                       pd->prof.keys.box_sk, nd->prof.keys.sign_pk,
                                       pd->prof.keys.sign_sk, nd->prof.device_id,
                                       nd->prof.keys.box_pk, sealed, sig),
                     0);
    free(env);
    char sealed64[SES_ENVELOPE_SEALED_BYTES * 2], sig64[SES_SIG_BYTES * 2];
    assert_int_equal(ses_b64_encode(sealed64, sizeof sealed64, sealed, sizeof sealed), 0);
    assert_int_equal(ses_b64_encode(sig64, sizeof sig64, sig, sizeof sig), 0);
    w_request_error(c,
                    json_pack("{s:s, s:s, s:s, s:[{s:i, s:s, s:s}]}", "t", "rewrap", "thread",
                              th->id, "device", did(&w, NURSE), "items", "seq", 1, "sealed",
                              sealed64, "sig", sig64),
                    SES_EDENIED);
    ses_conn_free(c);
    h_snap_expect_one_audit(&snap, db, "authz.denied", "DENIED");
    char *obj =
        h_db_text(db, "SELECT object FROM audit WHERE seq = %lld", (long long)h_audit_max_seq(db));
    assert_string_equal(obj, "rewrap");
    free(obj);
    h_snap_free(&snap);

    /* one msg.rewrap record per request, no other re-wrap than the laptop's four */
    assert_int_equal(h_audit_count(db, "msg.rewrap", NULL), 2);
    assert_int_equal(h_db_int(db, "SELECT count(*) FROM rewraps"), n_before);
    free(rewraps);

    /* the others read as before; the earlier messages were never sealed to the laptop */
    show_ok(&w, th, PSY, th->id);
    show_ok(&w, th, NURSE, th->id);
    world_finish(&w);
    world_free(&w);
}

/* --- 11. list_reads_what_is_new ------------------------------------------------------------
 */

/* The title marks of thread th in device who's state.json. */
static void title_marks(const struct world *w, const struct xthread *th, int who, int64_t *title,
                        int64_t *upto)
{
    char *path = h_path(w->home[who], "state.json");
    size_t len = 0;
    char *text = h_read_file(path, &len);
    json_t *st = json_loadb(text, len, 0, NULL);
    const json_t *t = json_object_get(json_object_get(st, "threads"), th->id);
    assert_non_null(t);
    *title = h_jint(t, "title_seq");
    *upto = h_jint(t, "titles_upto");
    json_decref(st);
    free(text);
    free(path);
}

static void test_list_reads_what_is_new(void **state)
{
    struct world w;
    world_start(&w, *state);
    struct xthread *th = create_ok(&w, NURSE, "P-7F3A", BIT(PSY) | BIT(GP1));
    send_ok(&w, th, NURSE, say(&w, "%s: first visit", th->pname));
    send_ok(&w, th, PSY, say(&w, "Seen, notes to follow"));
    list_ok(&w, PSY);
    int64_t title = 0, upto = 0;
    title_marks(&w, th, PSY, &title, &upto);
    assert_int_equal(title, 1);
    assert_int_equal(upto, 3);

    /* seq 2 altered behind everyone's back (seq 3's envelope put in its place) */
    h_db_exec(w.e->db,
              "UPDATE messages SET env = (SELECT env FROM messages WHERE thread_id = X'%s' AND "
              "seq = 3) WHERE thread_id = X'%s' AND seq = 2",
              th->hex, th->hex);
    list_ok(&w, PSY); /* read: the title (seq 1) and nothing after seq 3 */
    struct h_cli r;
    RUN(&r, &w, PSY, "thread", "show", th->id);
    assert_int_equal(r.p.status, 6); /* reading everything finds it (exit 6: verification) */
    h_cli_free(&r);
    th->delivered[PSY] = th->read[PSY] = 3; /* the rest was shown */
    check_marks_db(&w, th);

    /* a new title is found among the new messages; the marks move on */
    send_as(&w, th, NURSE, th->id, SES_CONTENT_THREAD_TITLE, say(&w, "%s (day unit)", th->pname));
    send_ok(&w, th, GP1, say(&w, "Noted"));
    list_ok(&w, PSY);
    title_marks(&w, th, PSY, &title, &upto);
    assert_int_equal(title, 4);
    assert_int_equal(upto, 5);
    world_finish(&w);
    world_free(&w);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_care_team_conversation, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_offline_catch_up, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_follow_receives_live, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_stored_once, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_denied, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_removal, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_restart, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_no_plaintext_anywhere, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_safety_numbers, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_new_laptop_history, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_list_reads_what_is_new, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.cli_threads", tests, NULL, NULL);
}
