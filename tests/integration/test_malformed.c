/*
 * test_malformed.c - integration: malformed and out-of-place frames sent with the real client
 * library to the real sesamed, before and after login. Each must get exactly its error (code,
 * num and id), the right close code where the protocol closes, and leave the database
 * byte-identical (no audit row either). Size and depth limits are tested at their boundaries.
 * Every test ends with a fresh login to show the daemon still serves.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "harness.h"
#include "wire.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/limits.h"

struct bad {
    const char *text;
    int64_t id; /* expected "id" of the error, -1 = none */
    int err;
};

/* Valid for both phases: each is wrong before any type is looked at. */
static const struct bad envelope_cases[] = {
    {"{\"t\":\"auth\",\"id\":1,", -1, SES_EBAD_JSON},                 /* truncated */
    {"not json at all", -1, SES_EBAD_JSON},                           /* not JSON */
    {"{\"t\":\"ping\",\"id\":2,\"id\":3}", -1, SES_EBAD_JSON},        /* duplicate key */
    {"[\"t\",\"ping\",\"id\",4]", -1, SES_EBAD_FRAME},                /* array */
    {"\"ping\"", -1, SES_EBAD_FRAME},                                 /* scalar */
    {"{\"id\":5}", 5, SES_EBAD_FRAME},                                /* missing "t" */
    {"{\"t\":\"ping\"}", -1, SES_EBAD_FRAME},                         /* missing "id" */
    {"{\"t\":7,\"id\":6}", 6, SES_EBAD_FRAME},                        /* "t" not a string */
    {"{\"t\":\"\",\"id\":8}", 8, SES_EBAD_FRAME},                     /* "t" empty */
    {"{\"t\":\"ping\",\"id\":\"9\"}", -1, SES_EBAD_FRAME},            /* "id" a string */
    {"{\"t\":\"ping\",\"id\":-1}", -1, SES_EBAD_FRAME},               /* "id" negative */
    {"{\"t\":\"ping\",\"id\":9007199254740992}", -1, SES_EBAD_FRAME}, /* "id" 2^53 */
    {"{\"t\":\"ping\",\"id\":1.5}", -1, SES_EBAD_FRAME},              /* "id" not an integer */
};
#define N_ENVELOPE (sizeof envelope_cases / sizeof envelope_cases[0])

static struct w_dev *admin_dev(const struct h_env *e)
{
    return w_dev_load(e->admin_home);
}

/* The daemon still serves a fresh login and a ping. */
static void fresh_login_works(const struct h_env *e, const struct w_dev *d)
{
    struct ses_conn *c = w_login(e, d);
    w_ping_ok(c, 424242);
    ses_conn_free(c);
}

/* Before login: the error, then close 1008. */
static void test_prelogin_malformed(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = admin_dev(e);
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    for (size_t i = 0; i < N_ENVELOPE; i++) {
        print_message("pre-login: %s\n", envelope_cases[i].text);
        struct ses_conn *c = w_open(e);
        w_send(c, envelope_cases[i].text);
        w_recv_error(c, envelope_cases[i].id, envelope_cases[i].err);
        w_expect_closed(c, 1008, H_CONN_TIMEOUT_MS);
        ses_conn_free(c);
    }
    /* a request other than enroll/auth before login */
    static const char *const early[] = {"{\"t\":\"whoami\",\"id\":21}",
                                        "{\"t\":\"ping\",\"id\":21}", "{\"t\":\"users\",\"id\":21}",
                                        "{\"t\":\"nosuchtype\",\"id\":21}"};
    for (size_t i = 0; i < sizeof early / sizeof early[0]; i++) {
        print_message("pre-login: %s\n", early[i]);
        struct ses_conn *c = w_open(e);
        w_send(c, early[i]);
        w_recv_error(c, 21, SES_EUNAUTHENTICATED);
        w_expect_closed(c, 1008, H_CONN_TIMEOUT_MS);
        ses_conn_free(c);
    }
    h_snap_expect_same(&s, e->db);
    h_snap_free(&s);
    fresh_login_works(e, adm);
    w_dev_free(adm);
}

/* After login: the error, and the connection stays usable. */
static void test_postlogin_malformed(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = admin_dev(e);
    struct ses_conn *c = w_login_settled(e, adm);
    char name65[66];
    memset(name65, 'n', 65);
    name65[65] = '\0';
    char *long_name =
        h_fmt("{\"t\":\"invite\",\"id\":40,\"role\":\"nurse\",\"name\":\"%s\"}", name65);
    char *deep16 = w_deep_frame("nosuchtype", 41, 16);
    char *deep17 = w_deep_frame("nosuchtype", 42, 17);
    const struct bad typed[] = {
        {"{\"t\":\"nosuchtype\",\"id\":30}", 30, SES_EUNKNOWN_TYPE},
        {"{\"t\":\"invite\",\"id\":31,\"role\":5,\"name\":\"Anne Martin\"}", 31, SES_EBAD_FIELD},
        {"{\"t\":\"invite\",\"id\":32,\"role\":\"nurse\",\"name\":[\"Anne\"]}", 32, SES_EBAD_FIELD},
        {"{\"t\":\"invite\",\"id\":33,\"role\":\"nurse\"}", 33, SES_EMISSING_FIELD},
        {"{\"t\":\"invite\",\"id\":34,\"name\":\"Anne Martin\"}", 34, SES_EMISSING_FIELD},
        {"{\"t\":\"invite\",\"id\":35,\"role\":\"janitor\",\"name\":\"Anne Martin\"}", 35,
         SES_EBAD_FIELD},
        {"{\"t\":\"invite\",\"id\":36,\"role\":\"nurse\",\"name\":\"\"}", 36, SES_EBAD_FIELD},
        {"{\"t\":\"invite\",\"id\":37,\"role\":\"nurse\",\"name\":\"Anne\\u0007\"}", 37,
         SES_EBAD_FIELD},
        {"{\"t\":\"invite\",\"id\":38,\"role\":\"nurse\",\"name\":\"Anne\",\"ttl\":59}", 38,
         SES_EBAD_FIELD},
        {"{\"t\":\"invite\",\"id\":39,\"role\":\"nurse\",\"name\":\"Anne\",\"ttl\":604801}", 39,
         SES_EBAD_FIELD},
        {long_name, 40, SES_EBAD_FIELD},
        {deep16, 41, SES_EUNKNOWN_TYPE}, /* depth 16 is a frame */
        {deep17, -1, SES_ETOO_DEEP},     /* depth 17 is refused before parsing: no id */
        {"{\"t\":\"revoke\",\"id\":43}", 43, SES_EMISSING_FIELD},
        {"{\"t\":\"revoke\",\"id\":44,\"device\":\"not-an-id\"}", 44, SES_EBAD_FIELD},
        {"{\"t\":\"revoke\",\"id\":45,\"device\":12}", 45, SES_EBAD_FIELD},
        {"{\"t\":\"devices\",\"id\":46,\"user\":true}", 46, SES_EBAD_FIELD},
    };
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    for (size_t i = 0; i < N_ENVELOPE; i++) {
        print_message("post-login: %s\n", envelope_cases[i].text);
        w_send(c, envelope_cases[i].text);
        w_recv_error(c, envelope_cases[i].id, envelope_cases[i].err);
    }
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        print_message("post-login: %.120s\n", typed[i].text);
        w_send(c, typed[i].text);
        w_recv_error(c, typed[i].id, typed[i].err);
    }
    w_ping_ok(c, 50);
    h_snap_expect_same(&s, e->db);
    h_snap_free(&s);
    ses_conn_free(c);
    free(long_name);
    free(deep16);
    free(deep17);
    fresh_login_works(e, adm);
    w_dev_free(adm);
}

/* A second auth or enroll on a logged-in connection: ALREADY_AUTHENTICATED, still usable. */
static void test_already_authenticated(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = admin_dev(e);
    struct ses_conn *c = w_login_settled(e, adm);
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    char *auth = w_auth_frame(c, 60, adm->prof.device_id, &adm->prof.keys, 0, false);
    w_send(c, auth);
    free(auth);
    w_recv_error(c, 60, SES_EALREADY_AUTHENTICATED);
    w_ping_ok(c, 61);
    uint8_t ticket[SES_CODE_TICKET_BYTES], secret[SES_CODE_SECRET_BYTES];
    char code[SES_CODE_TEXT_LEN + 1];
    randombytes_buf(ticket, sizeof ticket);
    randombytes_buf(secret, sizeof secret);
    ses_code_format(code, ticket, secret);
    struct ses_keys k;
    ses_keys_generate(&k);
    char *enroll = w_enroll_frame(c, 62, code, &k);
    ses_keys_wipe(&k);
    w_send(c, enroll);
    free(enroll);
    w_recv_error(c, 62, SES_EALREADY_AUTHENTICATED);
    w_ping_ok(c, 63);
    h_snap_expect_same(&s, e->db);
    h_snap_free(&s);
    ses_conn_free(c);
    fresh_login_works(e, adm);
    w_dev_free(adm);
}

/* After login: 262144 bytes is a frame, 262145 is TOO_LARGE and close 1009. */
static void test_size_limit_postlogin(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = admin_dev(e);
    struct ses_conn *c = w_login_settled(e, adm);
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);

    /* a ping padded with whitespace to exactly the limit is still a ping */
    char *ping = w_pad_ws("{\"t\":\"ping\",\"id\":70}", SES_MAX_FRAME);
    assert_int_equal(strlen(ping), 262144);
    w_send(c, ping);
    free(ping);
    json_t *f = w_recv(c, H_CONN_TIMEOUT_MS);
    w_expect_type(f, "pong", 70);
    json_decref(f);
    /* an unknown type with a long string field, exactly at the limit */
    char *big = w_padded_frame("nosuchtype", 71, SES_MAX_FRAME);
    assert_int_equal(strlen(big), 262144);
    w_send(c, big);
    free(big);
    w_recv_error(c, 71, SES_EUNKNOWN_TYPE);
    w_ping_ok(c, 72);
    /* one byte more */
    char *over = w_pad_ws("{\"t\":\"ping\",\"id\":73}", SES_MAX_FRAME + 1);
    assert_int_equal(strlen(over), 262145);
    w_send(c, over);
    free(over);
    w_recv_error(c, -1, SES_ETOO_LARGE);
    w_expect_closed(c, 1009, H_CONN_TIMEOUT_MS);
    ses_conn_free(c);

    h_snap_expect_same(&s, e->db);
    h_snap_free(&s);
    fresh_login_works(e, adm);
    w_dev_free(adm);
}

/* Fragments are reassembled up to the frame limit whatever their number: a ping in 1-byte
 * fragments is a ping; a frame at the limit in 2,048 fragments of 128 bytes is answered; one byte
 * more in 512-byte fragments is TOO_LARGE and the connection closes (1009), nothing kept. */
static void test_fragment_flood(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = admin_dev(e);
    struct ses_conn *c = w_login_settled(e, adm);
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    static const char ping[] = "{\"t\":\"ping\",\"id\":80}";
    assert_int_equal(ses_conn_send_fragments(c, ping, sizeof ping - 1, 1), 0);
    json_t *f = w_recv(c, H_CONN_TIMEOUT_MS);
    w_expect_type(f, "pong", 80);
    json_decref(f);
    char *at_limit = w_pad_ws("{\"t\":\"ping\",\"id\":81}", SES_MAX_FRAME);
    assert_int_equal(ses_conn_send_fragments(c, at_limit, SES_MAX_FRAME, 128), 0);
    free(at_limit);
    f = w_recv(c, H_CONN_TIMEOUT_MS);
    w_expect_type(f, "pong", 81);
    json_decref(f);
    char *over = w_pad_ws("{\"t\":\"ping\",\"id\":82}", SES_MAX_FRAME + 1);
    (void)ses_conn_send_fragments(c, over, SES_MAX_FRAME + 1, 512); /* may see the close */
    free(over);
    w_recv_error(c, -1, SES_ETOO_LARGE);
    w_expect_closed(c, 1009, H_CONN_TIMEOUT_MS);
    ses_conn_free(c);
    h_snap_expect_same(&s, e->db);
    h_snap_free(&s);
    fresh_login_works(e, adm);
    w_dev_free(adm);
}

/* Before login: 1024 bytes is a frame (a whitespace-padded auth logs in), 1025 is TOO_LARGE. */
static void test_size_limit_prelogin(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = admin_dev(e);

    /* 1024 bytes: a valid auth frame padded with whitespace logs in */
    int64_t logins = h_audit_count(e->db, "auth.login", "ok");
    struct ses_conn *c = w_open(e);
    char *auth = w_auth_frame(c, 80, adm->prof.device_id, &adm->prof.keys, 0, false);
    char *padded = w_pad_ws(auth, SES_MAX_PREAUTH_FRAME);
    free(auth);
    assert_int_equal(strlen(padded), 1024);
    w_send(c, padded);
    free(padded);
    json_t *f = w_recv(c, H_CONN_TIMEOUT_MS);
    w_expect_type(f, "auth_ok", 80);
    json_decref(f);
    w_ping_ok(c, 81);
    ses_conn_free(c);
    h_audit_wait_count(e->db, "auth.login", "ok", logins + 1);

    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    /* 1024 bytes of a request that is not allowed before login: a frame, so UNAUTHENTICATED */
    c = w_open(e);
    char *ping = w_padded_frame("ping", 82, SES_MAX_PREAUTH_FRAME);
    w_send(c, ping);
    free(ping);
    w_recv_error(c, 82, SES_EUNAUTHENTICATED);
    w_expect_closed(c, 1008, H_CONN_TIMEOUT_MS);
    ses_conn_free(c);

    /* 1025 bytes: the same valid auth, one space more */
    c = w_open(e);
    auth = w_auth_frame(c, 83, adm->prof.device_id, &adm->prof.keys, 0, false);
    padded = w_pad_ws(auth, SES_MAX_PREAUTH_FRAME + 1);
    free(auth);
    assert_int_equal(strlen(padded), 1025);
    w_send(c, padded);
    free(padded);
    w_recv_error(c, -1, SES_ETOO_LARGE);
    w_expect_closed(c, 1009, H_CONN_TIMEOUT_MS);
    ses_conn_free(c);

    h_snap_expect_same(&s, e->db);
    h_snap_free(&s);
    fresh_login_works(e, adm);
    w_dev_free(adm);
}

/* Only one pre-login frame: after a failed auth the connection is closed, not re-usable. */
static void test_unauthenticated_closes(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = admin_dev(e);
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    struct ses_conn *c = w_open(e);
    w_send(c, "{\"t\":\"whoami\",\"id\":90}");
    w_recv_error(c, 90, SES_EUNAUTHENTICATED);
    w_expect_closed(c, 1008, H_CONN_TIMEOUT_MS);
    ses_conn_free(c);
    h_snap_expect_same(&s, e->db);
    h_snap_free(&s);
    fresh_login_works(e, adm);
    w_dev_free(adm);
}

/* A binary WebSocket message is never parsed (the protocol is JSON text): before and after login
 * the connection is closed with 1003 (unsupported data), whatever the bytes are, and nothing
 * changes. */
static void test_binary_refused(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = admin_dev(e);
    struct ses_conn *pre = w_open(e), *post = w_login_settled(e, adm);
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    static const char ping[] = "{\"t\":\"ping\",\"id\":7}"; /* valid JSON, as binary */
    assert_int_equal(ses_conn_send_binary(pre, ping, sizeof ping - 1), 0);
    w_expect_closed(pre, 1003, H_CONN_TIMEOUT_MS);
    assert_int_equal(ses_conn_send_binary(post, ping, sizeof ping - 1), 0);
    w_expect_closed(post, 1003, H_CONN_TIMEOUT_MS);
    ses_conn_free(pre);
    ses_conn_free(post);
    h_snap_expect_same(&s, e->db);
    h_snap_free(&s);
    fresh_login_works(e, adm);
    w_dev_free(adm);
}

/* Every request that takes fields refuses a key it does not know with BAD_FIELD, before it looks
 * anything up or writes anything (the admin may send all of these); the whitelist checks names
 * only. */
static void test_unknown_fields(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, 0);
    struct w_dev *adm = admin_dev(e);
    struct ses_conn *c = w_login_settled(e, adm);
    const char *id = "aaaaaaaaaaaaaaaaaaaaaaaaaa";
    char *frames[] = {
        h_fmt("{\"t\":\"users\",\"id\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"devices\",\"id\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"devices\",\"id\":1,\"user\":\"%s\",\"zz\":1}", adm->user),
        h_fmt("{\"t\":\"invite\",\"id\":1,\"role\":\"nurse\",\"name\":\"Anne\",\"zz\":1}"),
        h_fmt("{\"t\":\"revoke\",\"id\":1,\"device\":\"%s\",\"zz\":1}", id),
        h_fmt("{\"t\":\"device_link\",\"id\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"device_link\",\"id\":1,\"ttl\":600,\"zz\":1}"),
        h_fmt("{\"t\":\"directory\",\"id\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"directory\",\"id\":1,\"role\":\"nurse\",\"zz\":1}"),
        h_fmt("{\"t\":\"keys\",\"id\":1,\"user\":\"%s\",\"zz\":1}", adm->user),
        h_fmt("{\"t\":\"thread_create\",\"id\":1,\"patient\":\"P-1\",\"members\":[],\"zz\":1}"),
        h_fmt("{\"t\":\"thread_add\",\"id\":1,\"thread\":\"%s\",\"user\":\"%s\",\"zz\":1}", id, id),
        h_fmt("{\"t\":\"thread_remove\",\"id\":1,\"thread\":\"%s\",\"user\":\"%s\",\"zz\":1}", id,
              id),
        h_fmt("{\"t\":\"audit_checkpoint\",\"id\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"audit_leaves\",\"id\":1,\"from\":1,\"count\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"audit_tail\",\"id\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"audit_show\",\"id\":1,\"seq\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"audit_prove\",\"id\":1,\"seq\":1,\"size\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"audit_consistency\",\"id\":1,\"from\":1,\"to\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"alerts\",\"id\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"alert_show\",\"id\":1,\"alert\":\"%s\",\"zz\":1}", id),
        h_fmt("{\"t\":\"alert_ack\",\"id\":1,\"alert\":\"%s\",\"zz\":1}", id),
        h_fmt("{\"t\":\"alert_resolve\",\"id\":1,\"alert\":\"%s\",\"code\":\"REVIEWED\",\"zz\":1}",
              id),
        h_fmt("{\"t\":\"alert_cancel\",\"id\":1,\"alert\":\"%s\",\"code\":\"X\",\"zz\":1}", id),
        h_fmt("{\"t\":\"oncall_show\",\"id\":1,\"zz\":1}"),
        h_fmt("{\"t\":\"oncall_set\",\"id\":1,\"program_lead\":null,\"zz\":1}"),
        h_fmt("{\"t\":\"backup_set\",\"id\":1,\"user\":\"%s\",\"backup\":null,\"zz\":1}", id),
    };
    struct h_snap s;
    h_snap_take(&s, e->db, NULL);
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        print_message("unknown field: %s\n", frames[i]);
        w_send(c, frames[i]);
        w_recv_error(c, 1, SES_EBAD_FIELD);
        free(frames[i]);
    }
    /* names only: a null is an absent optional field (PROTOCOL.md §4), a missing one is
     * MISSING_FIELD */
    json_decref(w_request_ok(c, json_pack("{s:s, s:n}", "t", "devices", "user"), "devices"));
    json_decref(w_request_ok(c, json_pack("{s:s, s:n}", "t", "directory", "role"), "directory"));
    w_request_error(c, json_pack("{s:s, s:s}", "t", "thread_add", "user", id), SES_EMISSING_FIELD);
    w_ping_ok(c, 50);
    h_snap_expect_same(&s, e->db);
    h_snap_free(&s);
    ses_conn_free(c);
    fresh_login_works(e, adm);
    w_dev_free(adm);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prelogin_malformed, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_postlogin_malformed, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_unauthenticated_closes, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_already_authenticated, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_size_limit_postlogin, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_size_limit_prelogin, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_unknown_fields, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_binary_refused, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_fragment_flood, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.malformed", tests, NULL, NULL);
}
