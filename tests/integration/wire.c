/*
 * wire.c - integration-test helpers on top of the real client library (see wire.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wire.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/transcript.h"

struct w_dev *w_dev_load(const char *home)
{
    struct w_dev *d = calloc(1, sizeof *d);
    assert_non_null(d);
    int rc = ses_profile_load(home, &d->prof);
    if (rc != 0) {
        free(d);
        fail_msg("ses_profile_load(%s) = %d (%s)", home, rc, ses_err_name(rc));
    }
    assert_true(d->prof.enrolled);
    ses_id_to_text(d->device, d->prof.device_id);
    ses_id_to_text(d->user, d->prof.user_id);
    return d;
}

void w_dev_free(struct w_dev *d)
{
    if (d == NULL)
        return;
    ses_profile_wipe(&d->prof);
    free(d);
}

struct ses_conn *w_open(const struct h_env *e)
{
    struct ses_conn *c = NULL;
    int rc = ses_conn_open(e->d.url, h_ca_file(), H_CONN_TIMEOUT_MS, &c);
    if (rc != 0 || c == NULL)
        fail_msg("ses_conn_open(%s) = %d (%s)", e->d.url, rc, ses_err_name(rc));
    const json_t *hello = ses_conn_hello(c);
    assert_non_null(hello);
    assert_string_equal(h_jstr(hello, "t"), "hello");
    assert_int_equal(h_jint(hello, "v"), 1);
    return c;
}

struct ses_conn *w_login(const struct h_env *e, const struct w_dev *d)
{
    struct ses_conn *c = w_open(e);
    json_t *reply = NULL;
    int rc = ses_conn_login(c, d->prof.device_id, &d->prof.keys, &reply);
    if (rc != 0) {
        char *s = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
        print_error("ses_conn_login = %d (%s), reply %s\n", rc, ses_err_name(rc), s ? s : "-");
        free(s);
        json_decref(reply);
        ses_conn_free(c);
        fail();
    }
    assert_non_null(reply);
    assert_string_equal(h_jstr(reply, "t"), "auth_ok");
    assert_string_equal(h_jstr(reply, "device"), d->device);
    assert_string_equal(h_jstr(reply, "user"), d->user);
    json_decref(reply);
    return c;
}

struct ses_conn *w_login_settled(const struct h_env *e, const struct w_dev *d)
{
    int64_t before = h_audit_count(e->db, "auth.login", "ok");
    struct ses_conn *c = w_login(e, d);
    h_audit_wait_count(e->db, "auth.login", "ok", before + 1);
    return c;
}

static void b64_field(const json_t *o, const char *key, uint8_t *out, size_t n)
{
    const char *s = h_jstr(o, key);
    if (ses_b64_decode(out, n, s, strlen(s)) != 0)
        fail_msg("hello.%s is not base64url of %zu bytes: %s", key, n, s);
}

void w_hello(const struct ses_conn *c, uint8_t server_id[16], uint8_t snonce[32], int64_t *time_ms)
{
    const json_t *hello = ses_conn_hello(c);
    assert_non_null(hello);
    b64_field(hello, "server_id", server_id, 16);
    b64_field(hello, "nonce", snonce, 32);
    *time_ms = h_jint(hello, "time");
}

static char *dump_free(json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    assert_non_null(s);
    return s;
}

static void set_b64(json_t *o, const char *key, const uint8_t *bin, size_t n)
{
    char txt[256];
    assert_int_equal(ses_b64_encode(txt, sizeof txt, bin, n), 0);
    json_object_set_new(o, key, json_string(txt));
}

char *w_auth_frame(const struct ses_conn *c, int64_t id, const uint8_t device_id[16],
                   const struct ses_keys *k, int64_t ts_delta_ms, bool bad_sig)
{
    uint8_t server_id[16], snonce[32], cnonce[32], sig[SES_SIG_BYTES];
    uint8_t tr[SES_LOGIN_TRANSCRIPT_LEN];
    int64_t now;
    char dev[SES_ID_TEXT_LEN + 1];
    w_hello(c, server_id, snonce, &now);
    randombytes_buf(cnonce, sizeof cnonce);
    uint64_t ts = (uint64_t)(now + ts_delta_ms);
    ses_transcript_login(tr, server_id, snonce, cnonce, device_id, ts);
    ses_sign(sig, tr, sizeof tr, k->sign_sk);
    if (bad_sig)
        sig[17] ^= 0x01;
    ses_id_to_text(dev, device_id);
    json_t *o = json_object();
    json_object_set_new(o, "t", json_string("auth"));
    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "device", json_string(dev));
    set_b64(o, "snonce", snonce, 32);
    set_b64(o, "cnonce", cnonce, 32);
    json_object_set_new(o, "ts", json_integer((json_int_t)ts));
    set_b64(o, "sig", sig, sizeof sig);
    return dump_free(o);
}

char *w_enroll_frame(const struct ses_conn *c, int64_t id, const char *code,
                     const struct ses_keys *k)
{
    uint8_t server_id[16], snonce[32], sig[SES_SIG_BYTES];
    uint8_t ticket[SES_CODE_TICKET_BYTES] = {0}, secret[SES_CODE_SECRET_BYTES];
    uint8_t tr[SES_ENROLL_TRANSCRIPT_LEN];
    int64_t now;
    w_hello(c, server_id, snonce, &now);
    if (ses_code_parse(ticket, secret, code) != 0)
        memset(ticket, 0, sizeof ticket);
    sodium_memzero(secret, sizeof secret);
    ses_transcript_enroll(tr, server_id, snonce, ticket, k->sign_pk, k->box_pk, (uint64_t)now);
    ses_sign(sig, tr, sizeof tr, k->sign_sk);
    json_t *o = json_object();
    json_object_set_new(o, "t", json_string("enroll"));
    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "code", json_string(code));
    set_b64(o, "sign_pk", k->sign_pk, 32);
    set_b64(o, "box_pk", k->box_pk, 32);
    json_object_set_new(o, "ts", json_integer(now));
    set_b64(o, "sig", sig, sizeof sig);
    return dump_free(o);
}

void w_send_len(struct ses_conn *c, const char *text, size_t len)
{
    int rc = ses_conn_send_text(c, text, len);
    if (rc != 0)
        fail_msg("ses_conn_send_text(%zu bytes) = %d (%s)", len, rc, ses_err_name(rc));
}

void w_send(struct ses_conn *c, const char *text)
{
    w_send_len(c, text, strlen(text));
}

json_t *w_recv(struct ses_conn *c, int timeout_ms)
{
    json_t *f = NULL;
    int rc = ses_conn_recv(c, timeout_ms, &f);
    if (rc != 0 || f == NULL)
        fail_msg("ses_conn_recv = %d (%s), close code %d: expected a frame within %d ms", rc,
                 ses_err_name(rc), ses_conn_close_code(c), timeout_ms);
    return f;
}

void w_expect_type(const json_t *frame, const char *type, int64_t id)
{
    json_t *t = json_object_get(frame, "t");
    json_t *jid = json_object_get(frame, "id");
    bool ok = json_is_string(t) && strcmp(json_string_value(t), type) == 0;
    if (id < 0)
        ok = ok && jid == NULL;
    else
        ok = ok && json_is_integer(jid) && json_integer_value(jid) == id;
    if (!ok) {
        char *s = json_dumps(frame, JSON_COMPACT);
        print_error("expected a \"%s\" frame with id %lld; got %s\n", type, (long long)id,
                    s ? s : "?");
        free(s);
        fail();
    }
}

void w_expect_error(json_t *frame, int64_t id, int err)
{
    json_t *code = json_object_get(frame, "code");
    json_t *num = json_object_get(frame, "num");
    json_t *jid = json_object_get(frame, "id");
    json_t *t = json_object_get(frame, "t");
    bool ok = json_is_string(t) && strcmp(json_string_value(t), "error") == 0 &&
              json_is_string(code) && strcmp(json_string_value(code), ses_err_name(err)) == 0 &&
              json_is_integer(num) && json_integer_value(num) == err &&
              json_is_string(json_object_get(frame, "msg"));
    if (id < 0)
        ok = ok && jid == NULL;
    else
        ok = ok && json_is_integer(jid) && json_integer_value(jid) == id;
    if (!ok) {
        char *s = json_dumps(frame, JSON_COMPACT);
        print_error("expected {\"t\":\"error\",%s%lld,\"code\":\"%s\",\"num\":%d,\"msg\":...}\n"
                    "     got %s\n",
                    id < 0 ? "no id " : "\"id\":", (long long)(id < 0 ? 0 : id), ses_err_name(err),
                    err, s ? s : "?");
        free(s);
        json_decref(frame);
        fail();
    }
    json_decref(frame);
}

void w_recv_error(struct ses_conn *c, int64_t id, int err)
{
    w_expect_error(w_recv(c, H_CONN_TIMEOUT_MS), id, err);
}

void w_expect_closed(struct ses_conn *c, int close_code, int timeout_ms)
{
    json_t *f = NULL;
    int rc = ses_conn_recv(c, timeout_ms, &f);
    if (rc == 0) {
        char *s = f ? json_dumps(f, JSON_COMPACT) : NULL;
        json_decref(f);
        print_error("expected the connection to close with %d; got a frame %s\n", close_code,
                    s ? s : "?");
        free(s);
        fail();
    }
    if (rc != SES_ECLOSED)
        fail_msg("expected the connection to close with %d within %d ms; ses_conn_recv = %d (%s)",
                 close_code, timeout_ms, rc, ses_err_name(rc));
    assert_int_equal(ses_conn_close_code(c), close_code);
}

void w_ping_ok(struct ses_conn *c, int64_t id)
{
    char *s = h_fmt("{\"t\":\"ping\",\"id\":%lld}", (long long)id);
    w_send(c, s);
    free(s);
    json_t *f = w_recv(c, H_CONN_TIMEOUT_MS);
    w_expect_type(f, "pong", id);
    h_jint(f, "time");
    json_decref(f);
}

int64_t w_raw_id(void)
{
    static int64_t next = (int64_t)1 << 40;
    return next++;
}

/* Compact JSON of o, cut to 160 bytes ("..." appended) for messages. Returns malloc'd text. */
static char *short_dump(const json_t *o)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (s != NULL && strlen(s) > 160)
        memcpy(s + 157, "...", 4);
    return s;
}

static int64_t request_id(struct ses_conn *c, json_t *req, json_t **reply)
{
    json_incref(req);
    int rc = ses_conn_request(c, req, H_CONN_TIMEOUT_MS, reply);
    json_t *jid = json_object_get(req, "id");
    int64_t id = json_is_integer(jid) ? json_integer_value(jid) : -1;
    char *txt = short_dump(req);
    json_decref(req);
    if (*reply == NULL) {
        print_error("request %s: ses_conn_request = %d (%s), no reply\n", txt ? txt : "?", rc,
                    ses_err_name(rc));
        free(txt);
        fail();
    }
    free(txt);
    return id;
}

json_t *w_request_ok(struct ses_conn *c, json_t *req, const char *type)
{
    json_t *reply = NULL;
    char *txt = short_dump(req);
    int64_t id = request_id(c, req, &reply);
    const char *t = json_string_value(json_object_get(reply, "t"));
    if (t == NULL || strcmp(t, type) != 0) {
        char *got = short_dump(reply);
        print_error("request %s: expected a \"%s\" reply; got %s\n", txt ? txt : "?", type,
                    got ? got : "?");
        free(got);
        free(txt);
        json_decref(reply);
        fail();
    }
    free(txt);
    w_expect_type(reply, type, id);
    return reply;
}

void w_request_error(struct ses_conn *c, json_t *req, int err)
{
    json_t *reply = NULL;
    char *txt = short_dump(req);
    int64_t id = request_id(c, req, &reply);
    const char *code = json_string_value(json_object_get(reply, "code"));
    if (code == NULL || strcmp(code, ses_err_name(err)) != 0)
        print_error("request %s: expected error %s\n", txt ? txt : "?", ses_err_name(err));
    free(txt);
    w_expect_error(reply, id, err);
}

json_t *w_drain(struct ses_conn *c)
{
    int64_t id = w_raw_id();
    char *s = h_fmt("{\"t\":\"ping\",\"id\":%lld}", (long long)id);
    w_send(c, s);
    free(s);
    json_t *got = json_array();
    assert_non_null(got);
    for (;;) {
        json_t *f = w_recv(c, H_CONN_TIMEOUT_MS);
        json_t *jid = json_object_get(f, "id");
        const char *t = json_string_value(json_object_get(f, "t"));
        if (t != NULL && strcmp(t, "pong") == 0 && json_is_integer(jid) &&
            json_integer_value(jid) == id) {
            json_decref(f);
            return got;
        }
        json_array_append_new(got, f);
    }
}

size_t w_drain_only(struct ses_conn *c, const char *const allowed[])
{
    json_t *got = w_drain(c);
    size_t i, n = json_array_size(got);
    json_t *f;
    json_array_foreach(got, i, f)
    {
        const char *t = json_string_value(json_object_get(f, "t"));
        bool ok = t != NULL && json_object_get(f, "id") == NULL;
        bool listed = false;
        for (size_t k = 0; ok && allowed != NULL && allowed[k] != NULL; k++)
            listed = listed || strcmp(allowed[k], t) == 0;
        if (!ok || !listed) {
            char *s = short_dump(f);
            print_error("unexpected frame on this connection: %s\n", s ? s : "?");
            free(s);
            json_decref(got);
            fail();
        }
    }
    json_decref(got);
    return n;
}

char *w_pad_ws(const char *text, size_t total)
{
    size_t n = strlen(text);
    assert_true(n <= total && text[0] == '{');
    char *s = malloc(total + 1);
    assert_non_null(s);
    s[0] = '{';
    memset(s + 1, ' ', total - n);
    memcpy(s + 1 + (total - n), text + 1, n - 1);
    s[total] = '\0';
    return s;
}

char *w_padded_frame(const char *type, int64_t id, size_t total)
{
    char *head = h_fmt("{\"t\":\"%s\",\"id\":%lld,\"pad\":\"", type, (long long)id);
    size_t hl = strlen(head);
    assert_true(total >= hl + 2);
    char *s = malloc(total + 1);
    assert_non_null(s);
    memcpy(s, head, hl);
    memset(s + hl, 'x', total - hl - 2);
    memcpy(s + total - 2, "\"}", 2);
    s[total] = '\0';
    free(head);
    return s;
}

char *w_deep_frame(const char *type, int64_t id, int depth)
{
    assert_true(depth >= 2);
    int arrays = depth - 1; /* the frame object itself is depth 1 */
    char *head = h_fmt("{\"t\":\"%s\",\"id\":%lld,\"x\":", type, (long long)id);
    size_t hl = strlen(head), n = hl + 2 * (size_t)arrays + 2;
    char *s = malloc(n);
    assert_non_null(s);
    memcpy(s, head, hl);
    size_t na = (size_t)arrays;
    for (size_t i = 0; i < na; i++)
        s[hl + i] = '[';
    for (size_t i = 0; i < na; i++)
        s[hl + na + i] = ']';
    s[hl + 2 * na] = '}';
    s[hl + 2 * na + 1] = '\0';
    free(head);
    return s;
}

void w_clock_advance(const struct h_env *e, const char *admin_home, int64_t offset_ms, int64_t ms)
{
    struct w_dev *d = w_dev_load(admin_home);
    char off[32];
    snprintf(off, sizeof off, "%lld", (long long)offset_ms);
    setenv("SESAME_TEST_CLOCK_OFFSET_MS", off, 1); /* the login's ts, by the daemon's clock */
    struct ses_conn *c = w_login(e, d);
    unsetenv("SESAME_TEST_CLOCK_OFFSET_MS");
    json_decref(w_request_ok(c, json_pack("{s:s, s:I}", "t", "test_clock", "advance_ms", ms),
                             "test_clock"));
    ses_conn_free(c);
    w_dev_free(d);
}

void w_clock_env(char buf[64], const char *env[2], int64_t offset_ms)
{
    snprintf(buf, 64, "SESAME_TEST_CLOCK_OFFSET_MS=%lld", (long long)offset_ms);
    env[0] = buf;
    env[1] = NULL;
}
