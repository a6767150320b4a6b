/*
 * test_abuse.c - integration: denial-of-service attempts against the real sesamed, each asserting
 * that legitimate clients (the real CLI, the client library) keep being served within their
 * normal time and that nothing they had is lost.
 *
 *  - idle_tcp_flood: 96 idle TCP connections from three other loopback addresses (more than the
 *    64 lws header buffers there used to be, each address at its cap of connections not logged
 *    in): the next one from those addresses is closed at accept, a CLI login from 127.0.0.1
 *    still takes well under a second, logged-in sessions keep answering, and the idle sockets are
 *    dropped at the handshake timeout, after which the addresses connect again.
 *  - global_caps: with max_unauth 6 and max_conns 10, idle sockets up to max_unauth (the next is
 *    closed at accept, from any address), logins once one goes, connections up to max_conns (the
 *    next closed at accept), room again when they go; the logged-in sessions answer throughout.
 *  - slowloris: TLS done, then an HTTP upgrade whose headers never end, on 8 connections: each
 *    is dropped at the 5 s handshake timeout, and a CLI login meanwhile stays fast.
 *  - unauth_cap_spares_sessions: an address at its cap of connections not logged in still has its
 *    logged-in sessions (they never count against that cap), and a login frees a place.
 *  - login_and_enrol_guessing: 1,000 failed logins from one address and 1,000 enrolment guesses
 *    from another: 5 of each are recorded one by one and refused normally, the rest meet the
 *    back-off (RATE_LIMITED, "try again in N s") with no audit record each but one aggregated
 *    auth.throttled record per address with their count; failures naming a device from 50
 *    addresses (one each) meet that device's back-off, which never stops its own login; a CLI
 *    login from 127.0.0.1 stays fast.
 *  - sql_metacharacters: quotes, semicolons, comment markers and LIKE wildcards in every
 *    plaintext string field the server stores (a user's name and site, a device's name, a patient
 *    reference, an alert's variant, a search) are stored and shown exactly as given or refused
 *    with BAD_FIELD; no table loses or gains a row.
 *  - large_messages_thread: one member fills a caseload thread with 200 messages of 64 KB (the
 *    largest body there is): every member still reads all of it with `thread show` and `sync`,
 *    and every fetch reply stays below the clients' 1 MiB limit, paged by bytes (`through`). A
 *    member's device that stays logged in without reading is closed as a slow reader (its queue
 *    freed) while every send is acknowledged.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "harness.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/limits.h"
#include "wire.h"

#define FLOOD_PER_ADDR 32 /* the daemon's default max_unauth_per_ip */
#define FLOOD_ADDRS 3
#define HANDSHAKE_TIMEOUT_MS 5000 /* SES_HANDSHAKE_TIMEOUT_S in transport_ws.c */
#define LEGIT_LOGIN_MS 1500       /* a CLI command's normal time on loopback, with margin */
#define BIG_MSGS 200
#define BIG_BODY 65535 /* SES_ENVELOPE_BODY_MAX */
#define CLIENT_MAX_RX (1024 * 1024)

/* A TCP connection from src (an IPv4 loopback address) to 127.0.0.1:port, or -1. */
static int tcp_from(const char *src, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    assert_int_equal(inet_pton(AF_INET, src, &a.sin_addr), 1);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0)
        fail_msg("bind %s: %s", src, strerror(errno));
    a.sin_port = htons((uint16_t)port);
    assert_int_equal(inet_pton(AF_INET, "127.0.0.1", &a.sin_addr), 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Whether the server closed fd within ms (EOF or reset), sending nothing. */
static bool closed_within(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, ms) <= 0)
        return false;
    char b[64];
    ssize_t n = recv(fd, b, sizeof b, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* A connection from src is closed by the daemon at accept (or not even accepted). */
static void expect_refused_at_accept(const char *src, int port)
{
    int fd = tcp_from(src, port);
    assert_true(fd < 0 || closed_within(fd, 1000));
    if (fd >= 0)
        close(fd);
}

/* A connection from src is accepted and kept open (the test closes it again). */
static void expect_admitted(const char *src, int port)
{
    int fd = tcp_from(src, port);
    assert_true(fd >= 0);
    assert_false(closed_within(fd, 300));
    close(fd);
}

/* `sesame whoami` as home: succeeds, within LEGIT_LOGIN_MS. */
static void legit_ok(const char *home)
{
    struct h_cli r;
    h_cli_run(&r, home, NULL, "whoami", NULL);
    h_cli_assert_ok(&r);
    if (r.p.elapsed_ms > LEGIT_LOGIN_MS)
        fail_msg("a legitimate login took %llu ms during the flood",
                 (unsigned long long)r.p.elapsed_ms);
    h_cli_free(&r);
}

static void test_idle_tcp_flood(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = w_dev_load(e->admin_home);
    struct ses_conn *session = w_login_settled(e, adm);
    static const char *const src[FLOOD_ADDRS] = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};
    int fds[FLOOD_ADDRS][FLOOD_PER_ADDR];
    uint64_t t0 = h_mono_ms();
    for (int a = 0; a < FLOOD_ADDRS; a++)
        for (int i = 0; i < FLOOD_PER_ADDR; i++) {
            fds[a][i] = tcp_from(src[a], e->d.port);
            assert_true(fds[a][i] >= 0);
        }
    /* each address at its cap: one more is closed at accept, at once */
    for (int a = 0; a < FLOOD_ADDRS; a++)
        expect_refused_at_accept(src[a], e->d.port);
    /* the legitimate ones: a new login, a logged-in session */
    legit_ok(e->admin_home);
    w_ping_ok(session, w_raw_id());
    /* the flood was accepted, not dropped early: still open before the handshake timeout */
    if (h_mono_ms() - t0 < HANDSHAKE_TIMEOUT_MS - 1000)
        assert_false(closed_within(fds[0][0], 0));
    /* dropped at the handshake timeout (5 s, a second of margin) */
    for (int a = 0; a < FLOOD_ADDRS; a++)
        for (int i = 0; i < FLOOD_PER_ADDR; i++) {
            int left = (int)(t0 + HANDSHAKE_TIMEOUT_MS + 2000 - h_mono_ms());
            if (!closed_within(fds[a][i], left > 0 ? left : 0))
                fail_msg("idle connection %d from %s still open after %llu ms", i, src[a],
                         (unsigned long long)(h_mono_ms() - t0));
            close(fds[a][i]);
        }
    /* the addresses are welcome again */
    expect_admitted(src[0], e->d.port);
    legit_ok(e->admin_home);
    w_ping_ok(session, w_raw_id());
    ses_conn_free(session);
    w_dev_free(adm);
}

static void test_global_caps(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_NO_START | H_ENV_NO_ADMIN);
    const char *caps[] = {"--max-unauth", "6", "--max-conns", "10", NULL};
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, caps);
    e->admin_home = h_env_home(e, "admin");
    json_decref(h_enroll_ok(e, e->admin_home, e->init.code, "admin-laptop", e->admin_user,
                            e->admin_device));
    struct w_dev *adm = w_dev_load(e->admin_home);
    struct ses_conn *s[5];
    for (int i = 0; i < 3; i++)
        s[i] = w_login(e, adm); /* 3 connections, all logged in */
    int idle[6];
    for (int i = 0; i < 6; i++) { /* 6 not logged in, from two addresses: max_unauth */
        idle[i] = tcp_from(i % 2 ? "127.0.0.2" : "127.0.0.3", e->d.port);
        assert_true(idle[i] >= 0);
    }
    h_sleep_ms(200);
    expect_refused_at_accept("127.0.0.4", e->d.port); /* a third address: still over max_unauth */
    for (int i = 0; i < 3; i++)
        w_ping_ok(s[i], w_raw_id());
    /* one idle socket goes: two logins, one after the other, take its place (each leaves the
     * unauthenticated count once logged in): 5 logged in + 5 idle = max_conns */
    close(idle[0]);
    h_sleep_ms(200);
    s[3] = w_login(e, adm);
    s[4] = w_login(e, adm);
    expect_refused_at_accept("127.0.0.4", e->d.port); /* the 11th, 5 < max_unauth unlogged */
    for (int i = 0; i < 5; i++)
        w_ping_ok(s[i], w_raw_id());
    for (int i = 1; i < 6; i++)
        close(idle[i]);
    h_sleep_ms(200);
    expect_admitted("127.0.0.4", e->d.port); /* room again */
    for (int i = 0; i < 5; i++)
        ses_conn_free(s[i]);
    w_dev_free(adm);
}

static void test_slowloris(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    char *req = h_fmt("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nX-Slow: ",
                      e->d.port); /* no end of headers */
    char *path = h_path(e->tmp, "slow.txt");
    assert_int_equal(h_write_file(path, req, strlen(req), false), 0);
    free(req);
    struct h_bg slow[8];
    for (int i = 0; i < 8; i++) {
        /* the unfinished request, then -ign_eof: the client keeps the connection open until the
         * server closes it */
        char *cmd = h_fmt("cat '%s' | openssl s_client -connect 127.0.0.1:%d -servername localhost "
                          "-quiet -ign_eof",
                          path, e->d.port);
        char *out = h_fmt("%s/slow%d.out", e->tmp, i), *err = h_fmt("%s/slow%d.err", e->tmp, i);
        const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        h_bg_start_ok(&slow[i], argv, NULL, out, err);
        free(cmd);
        free(out);
        free(err);
    }
    h_sleep_ms(500);
    legit_ok(e->admin_home);
    for (int i = 0; i < 8; i++) {
        struct h_proc p;
        h_bg_wait(&slow[i], 9000, &p);
        if (p.timed_out)
            fail_msg("a connection with unfinished headers was still open after 9 s");
        h_proc_free(&p);
    }
    free(path);
}

static void test_unauth_cap_spares_sessions(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_NO_START | H_ENV_NO_ADMIN);
    const char *caps[] = {"--max-unauth-per-ip", "4", NULL};
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, caps);
    e->admin_home = h_env_home(e, "admin");
    json_decref(h_enroll_ok(e, e->admin_home, e->init.code, "admin-laptop", e->admin_user,
                            e->admin_device));
    struct w_dev *adm = w_dev_load(e->admin_home);
    /* 3 sessions logged in from 127.0.0.1, then 4 idle sockets: the cap of 4 is reached */
    struct ses_conn *s[3];
    for (int i = 0; i < 3; i++)
        s[i] = w_login(e, adm);
    int idle[4];
    for (int i = 0; i < 4; i++) {
        idle[i] = tcp_from("127.0.0.1", e->d.port);
        assert_true(idle[i] >= 0);
    }
    expect_refused_at_accept("127.0.0.1", e->d.port);
    for (int i = 0; i < 3; i++) /* the logged-in ones never counted */
        w_ping_ok(s[i], w_raw_id());
    /* one idle socket goes: a login takes its place and, logged in, frees it again */
    close(idle[0]);
    h_sleep_ms(100);
    struct ses_conn *more = w_login(e, adm);
    idle[0] = tcp_from("127.0.0.1", e->d.port);
    assert_true(idle[0] >= 0);
    assert_false(closed_within(idle[0], 300));
    w_ping_ok(more, w_raw_id());
    for (int i = 0; i < 4; i++)
        close(idle[i]);
    for (int i = 0; i < 3; i++)
        ses_conn_free(s[i]);
    ses_conn_free(more);
    w_dev_free(adm);
}

#define GUESSES 1000
#define FREE_FAILS 5 /* SES_THROTTLE_FREE in throttle.h */

struct guess_tally {
    int refused;      /* the normal refusal (AUTH_FAILED, CODE_INVALID) */
    int rate_limited; /* the back-off */
    int for_device;   /* of which the device's back-off */
};

/* One attempt on a new connection from src: a login of device with a bad signature, or an
 * enrolment with a random code. Counts the answer; anything else fails the test. */
static void guess(const struct h_env *e, const char *src, const uint8_t device[16],
                  const struct ses_keys *k, struct guess_tally *t)
{
    setenv("SESAME_TEST_SOURCE_ADDR", src, 1);
    struct ses_conn *c = w_open(e);
    unsetenv("SESAME_TEST_SOURCE_ADDR");
    char *frame;
    if (device != NULL) {
        frame = w_auth_frame(c, 1, device, k, 0, true);
    } else {
        uint8_t ticket[SES_CODE_TICKET_BYTES], secret[SES_CODE_SECRET_BYTES];
        char code[SES_CODE_TEXT_LEN + 1];
        randombytes_buf(ticket, sizeof ticket);
        randombytes_buf(secret, sizeof secret);
        ses_code_format(code, ticket, secret);
        frame = w_enroll_frame(c, 1, code, k);
    }
    w_send(c, frame);
    free(frame);
    json_t *f = w_recv(c, H_CONN_TIMEOUT_MS);
    const char *code = json_string_value(json_object_get(f, "code"));
    const char *msg = json_string_value(json_object_get(f, "msg"));
    assert_non_null(code);
    if (strcmp(code, "RATE_LIMITED") == 0) {
        if (strstr(msg, "too many failed attempts from this address: try again in") == NULL &&
            strstr(msg, "too many failed attempts for this device: try again in") == NULL)
            fail_msg("RATE_LIMITED with [%s]", msg);
        t->rate_limited++;
        t->for_device += strstr(msg, "for this device") != NULL;
    } else if (strcmp(code, device != NULL ? "AUTH_FAILED" : "CODE_INVALID") == 0) {
        t->refused++;
    } else {
        fail_msg("unexpected answer %s to a guess from %s", code, src);
    }
    json_decref(f);
    ses_conn_free(c);
}

/* The count of the aggregated auth.throttled record of key (-1 if none). */
static int64_t throttled_count(const struct h_env *e, const char *key)
{
    int64_t n = h_db_int(e->db,
                         "SELECT COUNT(*) FROM audit WHERE action = 'auth.throttled' AND "
                         "object LIKE '%s count:%%'",
                         key);
    if (n == 0)
        return -1;
    return h_db_int(e->db,
                    "SELECT SUM(CAST(substr(object, length('%s count:') + 1) AS INTEGER)) FROM "
                    "audit WHERE action = 'auth.throttled' AND object LIKE '%s count:%%'",
                    key, key);
}

static void test_login_and_enrol_guessing(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = w_dev_load(e->admin_home);
    int64_t audit0 = h_audit_max_seq(e->db);
    struct guess_tally login = {0}, enrol = {0}, device = {0};
    uint64_t t0 = h_mono_ms();
    uint8_t nobody[16]; /* a device id nobody has: the admin's device stays out of it */
    randombytes_buf(nobody, sizeof nobody);
    for (int i = 0; i < GUESSES; i++)
        guess(e, "127.0.0.2", nobody, &adm->prof.keys, &login);
    uint64_t login_ms = h_mono_ms() - t0;
    legit_ok(e->admin_home); /* another address: not concerned */
    for (int i = 0; i < GUESSES; i++)
        guess(e, "127.0.0.3", NULL, &adm->prof.keys, &enrol);
    /* the back-off doubles from 1 s: over the run only a few more failures get through */
    int extra = 0;
    for (uint64_t wait = 1000, at = 0; at + wait <= login_ms + 1000; at += wait, wait *= 2)
        extra++;
    print_message("guessing: logins %d refused, %d rate-limited in %llu ms; enrolments %d refused, "
                  "%d rate-limited\n",
                  login.refused, login.rate_limited, (unsigned long long)login_ms, enrol.refused,
                  enrol.rate_limited);
    assert_true(login.refused >= FREE_FAILS && login.refused <= FREE_FAILS + extra + 1);
    assert_int_equal(login.refused + login.rate_limited, GUESSES);
    assert_true(enrol.refused >= FREE_FAILS && enrol.refused <= FREE_FAILS + 6);
    assert_int_equal(enrol.refused + enrol.rate_limited, GUESSES);
    /* recorded one by one: the first 5 of each address only */
    assert_int_equal(h_db_int(e->db,
                              "SELECT COUNT(*) FROM audit WHERE seq > %lld AND action = "
                              "'auth.login' AND outcome = 'AUTH_FAILED' AND peer = '127.0.0.2'",
                              (long long)audit0),
                     FREE_FAILS);
    assert_int_equal(h_db_int(e->db,
                              "SELECT COUNT(*) FROM audit WHERE seq > %lld AND action = "
                              "'device.enroll' AND peer = '127.0.0.3'",
                              (long long)audit0),
                     FREE_FAILS);
    /* failures naming the admin's device from 50 addresses, one each (no address back-off):
     * the device's own back-off, but never against its own login */
    for (int i = 0; i < 50; i++) {
        char src[32];
        snprintf(src, sizeof src, "127.0.3.%d", i + 1);
        guess(e, src, adm->prof.device_id, &adm->prof.keys, &device);
    }
    print_message("guessing a device from 50 addresses: %d refused, %d rate-limited\n",
                  device.refused, device.rate_limited);
    assert_true(device.refused >= FREE_FAILS && device.refused <= FREE_FAILS + 6);
    assert_int_equal(device.for_device, device.rate_limited);
    assert_true(device.rate_limited >= 40);
    struct ses_conn *c = w_login(e, adm);
    w_ping_ok(c, w_raw_id());
    ses_conn_free(c);
    legit_ok(e->admin_home); /* the CLI too, from its usual address */
    /* the rest in one aggregated record per address, written at the latest at the stop */
    assert_int_equal(h_daemon_stop(&e->d), 0);
    assert_int_equal(throttled_count(e, "peer:127.0.0.2"),
                     login.rate_limited + login.refused - FREE_FAILS);
    assert_int_equal(throttled_count(e, "peer:127.0.0.3"),
                     enrol.rate_limited + enrol.refused - FREE_FAILS);
    char *dkey = h_fmt("device:%s", adm->device);
    assert_int_equal(throttled_count(e, dkey), device.rate_limited + device.refused - FREE_FAILS);
    free(dkey);
    assert_true(h_audit_max_seq(e->db) - audit0 < 50); /* not 2,050 records */
    w_dev_free(adm);
}

static void test_sql_metacharacters(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    static const char name[] = "Ann O'Brien\"; DROP TABLE users; --";
    static const char site[] = "Lyon-3' OR '1'='1";
    static const char dev[] = "pc'); DELETE FROM devices; --%_";
    json_t *inv = h_invite_ok(e, "nurse", name, site, 0);
    char *home = h_env_home(e, "nurse");
    char user[40];
    json_decref(h_enroll_ok(e, home, h_jstr(inv, "code"), dev, user, NULL));
    char uhex[33];
    h_id_hex(uhex, user);
    char *got = h_db_text(e->db, "SELECT name FROM users WHERE id = X'%s'", uhex);
    assert_string_equal(got, name);
    free(got);
    got = h_db_text(e->db, "SELECT site FROM users WHERE id = X'%s'", uhex);
    assert_string_equal(got, site);
    free(got);
    got = h_db_text(e->db, "SELECT name FROM devices WHERE user_id = X'%s'", uhex);
    assert_string_equal(got, dev);
    free(got);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM users"), 2);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM devices"), 2);
    /* shown back exactly */
    struct h_cli r;
    h_cli_run(&r, e->admin_home, NULL, "admin", "users", NULL);
    h_cli_assert_ok(&r);
    char *dump = json_dumps(r.json, JSON_COMPACT);
    assert_non_null(strstr(dump, "O'Brien\\\"; DROP TABLE users; --"));
    free(dump);
    h_cli_free(&r);
    /* identifiers with metacharacters are refused before any query */
    struct h_snap snap;
    h_snap_take(&snap, e->db, NULL);
    static const char *const refs[] = {"P-1'--", "P%", "P_1;DROP", "P-1\" OR 1=1"};
    for (size_t k = 0; k < sizeof refs / sizeof refs[0]; k++) {
        h_cli_run(&r, home, NULL, "thread", "create", "--patient", refs[k], "--title", "t",
                  "--member", e->admin_user, NULL);
        if (r.p.status != 2 || strstr(r.p.err, "needs a pseudonymous reference") == NULL)
            fail_msg("patient ref [%s]: exit %d [%s]", refs[k], r.p.status, r.p.err);
        h_cli_free(&r);
    }
    /* a raw request with them in every id and name field */
    struct w_dev *d = w_dev_load(home);
    struct ses_conn *c = w_login_settled(e, d);
    h_snap_free(&snap);
    h_snap_take(&snap, e->db, NULL);
    for (size_t k = 0; k < sizeof refs / sizeof refs[0]; k++) /* the server refuses them too */
        w_request_error(c,
                        json_pack("{s:s, s:s, s:[s]}", "t", "thread_create", "patient", refs[k],
                                  "members", e->admin_user),
                        SES_EBAD_FIELD);
    w_request_error(c, json_pack("{s:s, s:s}", "t", "thread_info", "thread", "x' OR 1=1 --"),
                    SES_EBAD_FIELD);
    w_request_error(c, json_pack("{s:s, s:s, s:s}", "t", "fetch", "thread", "%%", "after", "0"),
                    SES_EBAD_FIELD);
    w_request_error(c, json_pack("{s:s, s:s}", "t", "keys", "user", "'; DROP TABLE keys; --"),
                    SES_EBAD_FIELD);
    h_snap_expect_rest_same(&snap, e->db);
    h_snap_free(&snap);
    ses_conn_free(c);
    w_dev_free(d);
    free(home);
    json_decref(inv);
}

/* Established TCP connections whose local port is port (the daemon's side), from
 * /proc/net/tcp (IPv4: the daemon listens on 127.0.0.1). */
static int established_to(int port)
{
    FILE *f = fopen("/proc/net/tcp", "r");
    assert_non_null(f);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned lport = 0, st = 0;
        if (sscanf(line, " %*d: %*8x:%4x %*8x:%*4x %2x", &lport, &st) == 2 && (int)lport == port &&
            st == 0x01)
            n++;
    }
    fclose(f);
    return n;
}

/* `sesame ARGS` as home (text output): exit 0; returns stdout (malloc'd). */
static char *cli_text_ok(const char *home, const char *a1, const char *a2, const char *a3)
{
    struct h_cli r;
    h_cli_run_text(&r, home, NULL, a1, a2, a3, NULL);
    if (r.p.status != 0)
        fail_msg("sesame %s %s: exit %d [%s]", a1, a2 ? a2 : "", r.p.status, r.p.err);
    char *out = strdup(r.p.out);
    h_cli_free(&r);
    return out;
}

/* Every "<big N>" for N in 1..BIG_MSGS exactly once in text. */
static void expect_all_big(const char *text, const char *who)
{
    for (int n = 1; n <= BIG_MSGS; n++) {
        char tag[32];
        snprintf(tag, sizeof tag, "<big %d>", n);
        const char *p = strstr(text, tag);
        if (p == NULL || strstr(p + 1, tag) != NULL)
            fail_msg("%s: message %d shown %s", who, n, p == NULL ? "not at all" : "twice");
    }
}

static void test_large_messages_thread(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    char psy_user[40], gp_user[40];
    char *nurse = h_add_user_ok(e, "nurse", "nurse", "Nina Nurse", "site-a", NULL, NULL);
    char *psy = h_add_user_ok(e, "psy", "psychiatrist", "Paul Psy", NULL, psy_user, NULL);
    char *gp = h_add_user_ok(e, "gp", "gp", "Gina GP", NULL, gp_user, NULL);
    struct h_cli r;
    h_cli_run(&r, nurse, NULL, "thread", "create", "--patient", "P-BIG1", "--title", "big",
              "--member", psy_user, "--member", gp_user, NULL);
    h_cli_assert_ok(&r);
    char *thread = strdup(h_jstr(r.json, "thread"));
    h_cli_free(&r);
    /* the psychiatrist's device logs in and then reads nothing: 200 pushes of ~88 KB are more
     * than its 8 MiB queue and the socket buffers hold */
    struct w_dev *psy_dev = w_dev_load(psy);
    struct ses_conn *slow = w_login(e, psy_dev);
    /* 200 bodies of 64 KB from the GP (any member could) */
    char *body_path = h_path(e->tmp, "body");
    char *body = malloc(BIG_BODY + 1);
    assert_non_null(body);
    for (int n = 1; n <= BIG_MSGS; n++) {
        int k = snprintf(body, BIG_BODY + 1, "<big %d>", n);
        memset(body + k, 'x', (size_t)(BIG_BODY - k));
        assert_int_equal(h_write_file(body_path, body, BIG_BODY, false), 0);
        const char *argv[] = {SESAME_BIN, "--home", gp, "send", thread, "-", NULL};
        struct h_proc p;
        assert_int_equal(h_run(argv, NULL, body_path, H_CLI_TIMEOUT_MS, &p), 0);
        if (p.status != 0)
            fail_msg("send %d: exit %d [%s]", n, p.status, p.err);
        h_proc_free(&p);
    }
    free(body);
    free(body_path);
    h_sleep_ms(300); /* the last pushes reach the queue */
    size_t log_len = 0;
    char *log = h_read_file(e->log, &log_len);
    assert_non_null(log);
    assert_non_null(strstr(log, "peer does not read; closing"));
    free(log);
    /* and its connection is gone on the daemon's side (the close frame it never reads times
     * out), while the client still holds its end: the queue and the socket are released */
    uint64_t until = h_mono_ms() + 7000;
    while (established_to(e->d.port) > 0 && h_mono_ms() < until)
        h_sleep_ms(100);
    assert_int_equal(established_to(e->d.port), 0);
    ses_conn_free(slow);
    w_dev_free(psy_dev);
    /* every member reads it all */
    const char *homes[] = {nurse, psy, gp};
    const char *names[] = {"nurse", "psychiatrist", "gp"};
    for (int i = 0; i < 3; i++) {
        char *out = cli_text_ok(homes[i], "thread", "show", thread);
        expect_all_big(out, names[i]);
        free(out);
    }
    char *synced = cli_text_ok(psy, "sync", NULL, NULL); /* nothing new after the show */
    assert_non_null(strstr(synced, "no new messages"));
    free(synced);
    /* the pages: each reply below 1 MiB, following `through`, covering the thread */
    struct w_dev *d = w_dev_load(nurse);
    struct ses_conn *c = w_login(e, d);
    int64_t after = 0, seen = 0, pages = 0, last = BIG_MSGS + 1; /* the title is seq 1 */
    while (after < last) {
        json_t *req = json_pack("{s:s, s:s, s:I, s:i}", "t", "fetch", "thread", thread, "after",
                                (json_int_t)after, "limit", 500);
        json_t *reply = w_request_ok(c, req, "messages");
        char *text = json_dumps(reply, JSON_COMPACT);
        assert_true(strlen(text) < CLIENT_MAX_RX);
        free(text);
        int64_t through = h_jint(reply, "through");
        size_t n = json_array_size(json_object_get(reply, "messages"));
        assert_true(n >= 1 && through > after && through <= after + 500);
        const json_t *msgs = json_object_get(reply, "messages");
        assert_int_equal(h_jint(json_array_get(msgs, n - 1), "seq"), through);
        assert_int_equal(h_jint(reply, "last_seq"), last);
        seen += (int64_t)n;
        after = through;
        pages++;
        json_decref(reply);
    }
    assert_int_equal(seen, last);
    assert_true(pages >= BIG_MSGS / 8); /* 64 KB bodies: a handful per 512 KiB page */
    ses_conn_free(c);
    w_dev_free(d);
    free(thread);
    free(nurse);
    free(psy);
    free(gp);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idle_tcp_flood, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_global_caps, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_slowloris, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_unauth_cap_spares_sessions, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sql_metacharacters, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_large_messages_thread, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_login_and_enrol_guessing, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.abuse", tests, NULL, NULL);
}
