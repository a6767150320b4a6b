/*
 * test_tls.c - integration: the real sesamed's TLS and WebSocket front door, probed with the
 * openssl command-line client (a subprocess with a deadline): TLS 1.0 and 1.1, and TLS 1.2 suites
 * without AEAD or without forward secrecy, are refused even to a client willing to use them,
 * TLS 1.2 and 1.3 are accepted with a certificate that verifies against the dev CA, and the
 * WebSocket upgrade is granted only to clients that ask for the sesame.1 subprotocol. With
 * --web-root the same origin serves the web client's files with the security headers (content
 * security policy, HSTS, nosniff, no referrer, permissions policy), content-hashed assets cached
 * for a year and the rest revalidated, nothing outside the folder, and the WebSocket still
 * upgrades; a web root without index.html stops the daemon from starting. A browser's WebSocket is
 * accepted only from the daemon's own origin (https:// and the Host it asked for) or a configured
 * allowed_origin; another site's page is refused; no Origin (the CLI) is not a browser. `--listen
 * 127.0.0.1:PORT` binds that address only: another loopback address (127.0.0.2) and IPv6 (::1) are
 * refused at TCP level.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static void test_tls_versions(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_NO_ADMIN);
    struct h_proc p;

    /* TLS 1.0 and 1.1 from a client that allows them (security level 0), and TLS 1.2 offering
     * only suites without AEAD (CBC with HMAC) or without forward secrecy: refused */
    const char *v10[] = {"-tls1", "-cipher", "DEFAULT:@SECLEVEL=0", NULL};
    const char *v11[] = {"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", NULL};
    const char *cbc[] = {"-tls1_2", "-cipher",
                         "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-"
                         "SHA:ECDHE-ECDSA-AES256-SHA:@SECLEVEL=0",
                         NULL};
    const char *rsa_kx[] = {"-tls1_2", "-cipher",
                            "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA:@SECLEVEL=0", NULL};
    const char *const *refused[] = {v10, v11, cbc, rsa_kx};
    const char *what[] = {"TLS 1.0", "TLS 1.1", "TLS 1.2 CBC suites", "TLS 1.2 RSA key exchange"};
    for (int i = 0; i < 4; i++) {
        h_s_client(e, refused[i], NULL, 10000, &p);
        if (p.status == 0 || p.timed_out || strstr(p.out, "Cipher is (NONE)") == NULL) {
            print_error("%s handshake: status %d\nstdout: %s\nstderr: %s\n", what[i], p.status,
                        p.out, p.err);
            h_proc_free(&p);
            fail();
        }
        h_proc_free(&p);
    }

    /* TLS 1.2 and 1.3: accepted, certificate verified */
    const char *v12[] = {"-tls1_2", NULL};
    const char *v13[] = {"-tls1_3", NULL};
    const char *const *ok[] = {v12, v13};
    const char *proto[] = {"TLSv1.2", "TLSv1.3"};
    for (int i = 0; i < 2; i++) {
        h_s_client(e, ok[i], NULL, 10000, &p);
        char *want = h_fmt("Protocol  : %s", proto[i]);
        bool good = p.status == 0 && strstr(p.out, "Verify return code: 0 (ok)") != NULL &&
                    (strstr(p.out, want) != NULL || strstr(p.out, proto[i]) != NULL);
        if (!good) {
            print_error("%s handshake: status %d%s\nstdout: %s\nstderr: %s\n", proto[i], p.status,
                        p.timed_out ? " (timed out)" : "", p.out, p.err);
            free(want);
            h_proc_free(&p);
            fail();
        }
        free(want);
        h_proc_free(&p);
    }
}

/* Sends an HTTP upgrade request through TLS and returns what came back (stdout of s_client). */
static char *upgrade(const struct h_env *e, const char *protocol_header, size_t *len)
{
    char *req = h_fmt("GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
                      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      "Sec-WebSocket-Version: 13\r\n%s\r\n",
                      e->d.port, protocol_header);
    char *path = h_path(e->tmp, "upgrade.txt");
    assert_int_equal(h_write_file(path, req, strlen(req), false), 0);
    free(req);
    /* -quiet: no session dump, just the server's bytes; -ign_eof: keep reading after stdin ends.
     * The daemon closes a connection that does not log in within its pre-auth timeout (1 s
     * here), so s_client ends by itself; the deadline is only a safety net. */
    const char *extra[] = {"-quiet", "-ign_eof", NULL};
    struct h_proc p;
    h_s_client(e, extra, path, 8000, &p);
    free(path);
    char *out = p.out; /* may hold binary WebSocket frames after the headers */
    *len = p.out_len;
    p.out = NULL;
    h_proc_free(&p);
    return out;
}

static void test_subprotocol_required(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_NO_START);
    const char *args[] = {"--preauth-timeout", "1", NULL};
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, args);

    size_t len = 0;
    char *out = upgrade(e, "Sec-WebSocket-Protocol: sesame.1\r\n", &len);
    if (strncmp(out, "HTTP/1.1 101", 12) != 0 ||
        strcasestr(out, "Sec-WebSocket-Protocol: sesame.1") == NULL) {
        print_error("upgrade with sesame.1: expected 101 naming sesame.1; got [%s]\n", out);
        free(out);
        fail();
    }
    free(out);
    static const char *const refused[] = {"", "Sec-WebSocket-Protocol: chat\r\n",
                                          "Sec-WebSocket-Protocol: sesame.2\r\n"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        out = upgrade(e, refused[i], &len);
        if (h_contains(out, len, " 101 ", 5) || h_contains(out, len, "\"hello\"", 7)) {
            print_error("upgrade with [%s]: expected a refusal; got [%s]\n", refused[i], out);
            free(out);
            fail();
        }
        free(out);
    }
}

/* One HTTP/1.1 GET of path through TLS: the raw response (headers and body). */
static char *http_get(const struct h_env *e, const char *path, size_t *len)
{
    char *req = h_fmt("GET %s HTTP/1.1\r\nHost: localhost:%d\r\nConnection: close\r\n\r\n", path,
                      e->d.port);
    char *file = h_path(e->tmp, "get.txt");
    assert_int_equal(h_write_file(file, req, strlen(req), false), 0);
    free(req);
    const char *extra[] = {"-quiet", "-ign_eof", NULL};
    struct h_proc p;
    h_s_client(e, extra, file, 8000, &p);
    free(file);
    char *out = p.out;
    *len = p.out_len;
    p.out = NULL;
    h_proc_free(&p);
    return out;
}

static void expect_in(const char *out, const char *want, const char *what)
{
    if (strcasestr(out, want) == NULL) {
        print_error("%s: no \"%s\" in [%s]\n", what, want, out);
        fail();
    }
}

static void test_web_root(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_NO_START);
    char *web = h_path(e->tmp, "web"), *assets = h_path(web, "assets");
    assert_int_equal(mkdir(web, 0700), 0);
    /* no index.html: refused at start, naming the folder */
    const char *argv[] = {SESAMED_BIN,   "serve",  "--data",      e->data, "--listen",
                          "127.0.0.1:0", "--cert", h_cert_file(), "--key", h_key_file(),
                          "--web-root",  web,      NULL};
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, NULL, 10000, &p), 0);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, web));
    assert_non_null(strstr(p.err, "index.html"));
    h_proc_free(&p);

    assert_int_equal(mkdir(assets, 0700), 0);
    char *index = h_path(web, "index.html"), *js = h_path(assets, "app.3f9a2c1d.js");
    const char *html = "<!doctype html><title>Sesame</title><script type=module "
                       "src=/assets/app.3f9a2c1d.js></script>";
    assert_int_equal(h_write_file(index, html, strlen(html), false), 0);
    assert_int_equal(h_write_file(js, "export {};\n", 11, false), 0);
    char *secret = h_path(e->tmp, "secret.txt");
    assert_int_equal(h_write_file(secret, "not-for-the-web", 15, false), 0);
    const char *args[] = {"--preauth-timeout", "1", "--web-root", web, NULL};
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, args);

    size_t len = 0;
    char *out = http_get(e, "/", &len);
    expect_in(out, "HTTP/1.1 200", "GET /");
    expect_in(out, "content-security-policy: default-src 'none'; script-src 'self'", "GET /");
    expect_in(out, "frame-ancestors 'none'", "GET /");
    expect_in(out, "strict-transport-security: max-age=31536000", "GET /");
    expect_in(out, "x-content-type-options: nosniff", "GET /");
    expect_in(out, "referrer-policy: no-referrer", "GET /");
    expect_in(out, "permissions-policy: camera=()", "GET /");
    expect_in(out, "content-type: text/html", "GET /");
    expect_in(out, "cache-control: no-store", "GET /");
    expect_in(out, "<title>Sesame</title>", "GET /");
    free(out);
    out = http_get(e, "/assets/app.3f9a2c1d.js", &len);
    expect_in(out, "HTTP/1.1 200", "GET asset");
    expect_in(out, "content-type: text/javascript", "GET asset");
    expect_in(out, "max-age=31536000", "GET asset");
    expect_in(out, "content-security-policy:", "GET asset");
    free(out);
    const char *outside[] = {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/../../secret.txt",
                             "/nothing-here.js"};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        out = http_get(e, outside[i], &len);
        if (h_contains(out, len, "not-for-the-web", 15) || strstr(out, " 200 ") != NULL) {
            print_error("GET %s: expected a refusal; got [%s]\n", outside[i], out);
            fail();
        }
        free(out);
    }
    /* the WebSocket still upgrades on the same origin */
    out = upgrade(e, "Sec-WebSocket-Protocol: sesame.1\r\n", &len);
    expect_in(out, "HTTP/1.1 101", "upgrade with a web root");
    free(out);
    free(web);
    free(assets);
    free(index);
    free(js);
    free(secret);
}

static void expect_upgrade(const struct h_env *e, const char *origin, bool accepted)
{
    char *hdr = h_fmt("Sec-WebSocket-Protocol: sesame.1\r\n%s%s%s", origin ? "Origin: " : "",
                      origin ? origin : "", origin ? "\r\n" : "");
    size_t len = 0;
    char *out = upgrade(e, hdr, &len);
    bool ok = strncmp(out, "HTTP/1.1 101", 12) == 0;
    if (ok != accepted) {
        print_error("upgrade with Origin [%s]: expected %s; got [%s]\n", origin ? origin : "-",
                    accepted ? "101" : "a refusal", out);
        fail();
    }
    free(out);
    free(hdr);
}

static void test_origin(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_NO_START);
    const char *args[] = {"--preauth-timeout", "1", "--allowed-origin", "https://care.example",
                          NULL};
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, args);
    char *own = h_fmt("https://127.0.0.1:%d", e->d.port);
    char *own_http = h_fmt("http://127.0.0.1:%d", e->d.port);
    expect_upgrade(e, NULL, true);                   /* the CLI */
    expect_upgrade(e, own, true);                    /* the web client this daemon serves */
    expect_upgrade(e, "https://care.example", true); /* allowed_origin */
    expect_upgrade(e, "https://evil.example", false);
    expect_upgrade(e, own_http, false); /* not over TLS */
    expect_upgrade(e, "https://care.example.evil.example", false);
    expect_upgrade(e, "null", false); /* a sandboxed frame or a file: page */
    free(own);
    free(own_http);
    /* a bad allowed_origin stops the start with the option named */
    const char *argv[] = {
        SESAMED_BIN, "serve", "--data", e->data, "--allowed-origin", "https://x.example/path",
        NULL};
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, NULL, 10000, &p), 0);
    assert_int_equal(p.status, 2);
    assert_non_null(strstr(p.err, "allowed_origin: expected https://HOST[:PORT]"));
    h_proc_free(&p);
}

/* A plain TCP connect to addr:port (IPv4 or IPv6 text): 0 if it connected, else the errno. */
static int tcp_connect(const char *addr, int port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        len = sizeof *a4;
    } else {
        assert_int_equal(inet_pton(AF_INET6, addr, &a6->sin6_addr), 1);
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        len = sizeof *a6;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno; /* no IPv6 on this machine: nothing could connect there either */
    int rc = connect(fd, (struct sockaddr *)&ss, len) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

static void test_binds_exact_address(void **state)
{
    struct h_env *e = *state;
    h_env_start(e, H_ENV_NO_ADMIN); /* --listen 127.0.0.1:0 */
    assert_int_equal(tcp_connect("127.0.0.1", e->d.port), 0);
    assert_int_not_equal(tcp_connect("127.0.0.2", e->d.port), 0);
    assert_int_not_equal(tcp_connect("::1", e->d.port), 0);
    /* the daemon is still there for the address it was given */
    assert_int_equal(tcp_connect("127.0.0.1", e->d.port), 0);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tls_versions, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_subprotocol_required, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_web_root, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_binds_exact_address, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_origin, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.tls", tests, NULL, NULL);
}
