/*
 * conn.c - the synchronous Sesame client connection (see conn.h).
 *
 * Each ses_conn owns a libuv loop and an lws context that runs on it as a foreign loop, with one
 * client wsi. The public calls run the loop (UV_RUN_ONCE) until their condition holds or a uv
 * timer marks the deadline. lws callbacks only move data: received messages are reassembled and
 * queued; outgoing messages wait in a queue until LWS_CALLBACK_CLIENT_WRITEABLE writes them.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <uv.h>

#include "conn.h"
#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/limits.h"
#include "sesame/transcript.h"

#define CONN_MAX_RX (1024 * 1024) /* largest reassembled message accepted from the server */
/* Bytes lws hands to one SSL_write. Large, so that a big message reaches the kernel in one go:
 * a server that rejects it part-way and drops the connection then most likely still finds it
 * complete, and its error frame reaches us before the reset. */
#define CONN_TX_CHUNK (2 * 1024 * 1024)
#define CONN_CLOSE_WAIT_MS 2000 /* how long ses_conn_free() waits for the close handshake */

/* One received message: parsed JSON object, or NULL when the bytes were not a JSON object. */
struct rx_msg {
    struct rx_msg *next;
    json_t *frame;
    int has_id;
    int64_t id;
    uint64_t seq; /* arrival number, 1, 2, ... */
};

/* One message waiting to be written; data has LWS_PRE bytes of headroom before the payload. */
struct tx_msg {
    struct tx_msg *next;
    uint64_t seq;
    size_t len;
    int wflags; /* lws_write protocol: LWS_WRITE_TEXT, or for tests binary and fragments */
    unsigned char data[];
};

enum conn_state { ST_CONNECTING, ST_OPEN, ST_CLOSED };

struct ses_conn {
    uv_loop_t loop;
    uv_timer_t timer;
    void *foreign_loops[1];
    int loop_ready, timer_ready, timer_fired;
    struct lws_context *ctx;
    SSL_CTX *ssl_ctx; /* ours, handed to lws (provided_client_ssl_ctx); freed after the context */
    struct lws *wsi;
    enum conn_state state;
    int close_code;
    int want_close, close_sent;
    int unflushed_at_close; /* lws still held unsent bytes when the wsi went away */
    int timeout_ms;
    char err[256];

    char host[256];
    char host_header[300];
    int port;

    json_t *hello;
    uint8_t server_id[16];
    uint8_t snonce[SES_NONCE_BYTES];

    char *rx;
    size_t rx_len, rx_cap;
    int rx_discarding; /* the message being received passed CONN_MAX_RX: its bytes are dropped */
    int fail_code;     /* SES_E* the connection was closed for on our side (0: none) */
    struct rx_msg *rx_head, **rx_tail;
    uint64_t rx_seq;

    struct tx_msg *tx_head, **tx_tail;
    uint64_t tx_seq, tx_written;

    int64_t next_id;
};

/* --- helpers --- */

uint64_t ses_client_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
#ifdef SESAME_TEST_HOOKS
    /* test hook (builds with SESAME_TEST_HOOKS only): the integration tests move the daemon's
     * clock and then run the client with the same offset */
    const char *off = getenv("SESAME_TEST_CLOCK_OFFSET_MS");
    if (off != NULL)
        ms += strtoll(off, NULL, 10);
#endif
    return (uint64_t)ms;
}

static void set_err(struct ses_conn *c, const char *what, const char *detail)
{
    if (c->err[0] != '\0')
        return; /* keep the first (root) cause */
    snprintf(c->err, sizeof c->err, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

/* lws logging stays silent unless SESAME_DEBUG is set (SESAME_DEBUG=2: also info/debug). */
static void set_log_level(void)
{
    const char *dbg = getenv("SESAME_DEBUG");
    int level = 0;
    if (dbg != NULL && dbg[0] != '\0' && strcmp(dbg, "0") != 0) {
        level = LLL_ERR | LLL_WARN | LLL_NOTICE;
        if (atoi(dbg) >= 2)
            level |= LLL_INFO | LLL_DEBUG | LLL_CLIENT;
    }
    lws_set_log_level(level, NULL);
}

/* Parses "wss://HOST[:PORT][/]" into c->host, c->port, c->host_header. IPv6 literals are
 * refused: lws 4.1.6 cuts the TLS host name at the first ':' of the Host header. */
static int parse_url(struct ses_conn *c, const char *url)
{
    const char *p, *hs;

    if (url == NULL || strncasecmp(url, "wss://", 6) != 0)
        return SES_EINVALID_ARG;
    p = hs = url + 6;
    while (*p != '\0' && *p != ':' && *p != '/')
        p++;
    size_t hlen = (size_t)(p - hs);
    if (hlen == 0 || hlen >= sizeof c->host)
        return SES_EINVALID_ARG;
    for (const char *q = hs; q < p; q++) {
        char ch = *q;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '.' || ch == '-' || ch == '_'))
            return SES_EINVALID_ARG;
    }
    memcpy(c->host, hs, hlen);
    c->host[hlen] = '\0';
    c->port = 443;
    if (*p == ':') {
        long port = 0;
        int digits = 0;
        for (p++; *p >= '0' && *p <= '9' && digits < 6; p++, digits++)
            port = port * 10 + (*p - '0');
        if (digits == 0 || port < 1 || port > 65535)
            return SES_EINVALID_ARG;
        c->port = (int)port;
    }
    if (*p == '/')
        p++;
    if (*p != '\0')
        return SES_EINVALID_ARG;
    snprintf(c->host_header, sizeof c->host_header, "%s:%d", c->host, c->port);
    return 0;
}

/* Appends one complete received message to the queue (parsing it). Returns 0 or -1 on OOM. */
static int queue_rx(struct ses_conn *c, const char *text, size_t len)
{
    struct rx_msg *m = calloc(1, sizeof *m);
    if (m == NULL)
        return -1;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root != NULL && !json_is_object(root)) {
        json_decref(root);
        root = NULL;
    }
    m->frame = root;
    json_t *id = root ? json_object_get(root, "id") : NULL;
    if (json_is_integer(id)) {
        m->has_id = 1;
        m->id = json_integer_value(id);
    }
    m->seq = ++c->rx_seq;
    *c->rx_tail = m;
    c->rx_tail = &m->next;
    return 0;
}

/* Unlinks *pp (a node of the rx queue) and returns it. */
static struct rx_msg *unlink_rx(struct ses_conn *c, struct rx_msg **pp)
{
    struct rx_msg *m = *pp;
    *pp = m->next;
    if (c->rx_tail == &m->next)
        c->rx_tail = pp;
    m->next = NULL;
    return m;
}

static void free_queues(struct ses_conn *c)
{
    while (c->rx_head != NULL) {
        struct rx_msg *m = unlink_rx(c, &c->rx_head);
        json_decref(m->frame);
        free(m);
    }
    while (c->tx_head != NULL) {
        struct tx_msg *t = c->tx_head;
        c->tx_head = t->next;
        sodium_memzero(t->data, LWS_PRE + t->len);
        free(t);
    }
    c->tx_tail = &c->tx_head;
    if (c->rx != NULL) {
        sodium_memzero(c->rx, c->rx_cap);
        free(c->rx);
        c->rx = NULL;
    }
    c->rx_len = c->rx_cap = 0;
}

/* The connection is gone (error, close or destroy): remember whether bytes were left unsent. */
static void mark_closed(struct ses_conn *c, struct lws *wsi)
{
    if (wsi != NULL && wsi == c->wsi && lws_partial_buffered(wsi))
        c->unflushed_at_close = 1;
    c->wsi = NULL;
    c->state = ST_CLOSED;
}

/* --- lws callback --- */

static void wake(struct ses_conn *c);

static int on_receive(struct ses_conn *c, struct lws *wsi, const void *in, size_t len)
{
    if (c->rx_discarding || c->rx_len + len > CONN_MAX_RX) {
        /* Not return -1: with Debian's lws 4.1.6 on libuv that left the socket readable and lws
         * serving it in a loop inside one uv_run (100 % CPU, no timeout). The rest of the message
         * is dropped, then the connection closes through the normal handshake, and the waiting
         * request ends with TOO_LARGE. */
        c->rx_discarding = 1;
        c->rx_len = 0;
        if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
            return 0;
        c->rx_discarding = 0;
        set_err(c, "message from server larger than 1 MiB", NULL);
        c->fail_code = SES_ETOO_LARGE;
        c->want_close = 1;
        lws_callback_on_writable(wsi);
        return 0;
    }
    if (c->rx_len + len > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 4096;
        while (cap < c->rx_len + len)
            cap *= 2;
        if (cap > CONN_MAX_RX)
            cap = CONN_MAX_RX;
        char *nb = realloc(c->rx, cap);
        if (nb == NULL) {
            set_err(c, "out of memory", NULL);
            return -1;
        }
        c->rx = nb;
        c->rx_cap = cap;
    }
    if (len > 0)
        memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(wsi))
        return 0;
    int rc = queue_rx(c, c->rx, c->rx_len);
    c->rx_len = 0;
    if (rc != 0) {
        set_err(c, "out of memory", NULL);
        return -1;
    }
    return 0;
}

static int on_writeable(struct ses_conn *c, struct lws *wsi)
{
    if (c->want_close) {
        /* Not lws_close_reason() + return -1: Debian's lws 4.1.6 is built with _DEBUG, and with
         * libuv its "close_and_handled uv repeat test" closes the wsi a second time at once,
         * killing the socket before the queued close frame goes out. Closing through an
         * immediate timeout runs lws' normal close handshake (send 1000, await the answer);
         * HTTP_KEEPALIVE_IDLE is the one timeout reason lws does not treat as a dead socket. */
        if (!c->close_sent) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, LWS_TO_KILL_ASYNC);
            c->close_sent = 1;
        }
        return 0;
    }
    struct tx_msg *t = c->tx_head;
    if (t == NULL)
        return 0;
    c->tx_head = t->next;
    if (c->tx_head == NULL)
        c->tx_tail = &c->tx_head;
    /* lws buffers whatever the socket does not take now and sends it before the next
     * WRITEABLE; lws_partial_buffered() tells when that is done */
    int n = lws_write(wsi, t->data + LWS_PRE, t->len, (enum lws_write_protocol)t->wflags);
    int ok = n >= 0 && (size_t)n >= t->len;
    uint64_t seq = t->seq;
    sodium_memzero(t->data, LWS_PRE + t->len);
    free(t);
    if (!ok) {
        set_err(c, "write failed", NULL);
        return -1;
    }
    c->tx_written = seq;
    if (c->tx_head != NULL)
        lws_callback_on_writable(wsi);
    return 0;
}

static int conn_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    struct lws_context *ctx = lws_get_context(wsi);
    struct ses_conn *c = ctx ? lws_context_user(ctx) : NULL;
    if (c == NULL)
        return 0;
    if (reason == LWS_CALLBACK_CLIENT_RECEIVE || reason == LWS_CALLBACK_CLIENT_WRITEABLE ||
        reason == LWS_CALLBACK_CLIENT_ESTABLISHED || reason == LWS_CALLBACK_CLIENT_CLOSED ||
        reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR || reason == LWS_CALLBACK_WSI_DESTROY ||
        reason == LWS_CALLBACK_WS_PEER_INITIATED_CLOSE)
        wake(c);

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        set_err(c, "connection failed", in ? (const char *)in : NULL);
        mark_closed(c, wsi);
        break;
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
        /* user: the X509_STORE_CTX, len: OpenSSL's verdict. Only note the reason for the error
         * message; the verdict itself stays OpenSSL's. */
        if (len == 0 && user != NULL) {
            int e = X509_STORE_CTX_get_error((X509_STORE_CTX *)user);
            set_err(c, "TLS certificate verification failed", X509_verify_cert_error_string(e));
        }
        return 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        c->state = ST_OPEN;
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return on_receive(c, wsi, in, len);
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return on_writeable(c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (in != NULL && len >= 2 && c->close_code == 0) {
            const unsigned char *b = in;
            c->close_code = (b[0] << 8) | b[1];
        }
        return 0; /* lws answers with a close frame and hangs up */
    case LWS_CALLBACK_CLIENT_CLOSED:
        mark_closed(c, wsi);
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (wsi == c->wsi)
            mark_closed(c, wsi);
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {SES_SUBPROTOCOL, conn_callback, 0, 0, 0, NULL, CONN_TX_CHUNK},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* --- running the loop --- */

/* uv_run(UV_RUN_ONCE) blocks in poll even when a timer (ours or lws') already ran in the same
 * iteration, so anything that may end a wait also calls uv_stop(): poll then does not block and
 * uv_run returns. */
static void wake(struct ses_conn *c)
{
    uv_stop(&c->loop);
}

static void on_timer(uv_timer_t *t)
{
    struct ses_conn *c = t->data;
    c->timer_fired = 1;
    wake(c);
}

typedef int (*done_fn)(struct ses_conn *c, const void *arg);

/* Runs the loop until done(c, arg) is true (returns 0) or timeout_ms passed (SES_ETIMEOUT).
 * timeout_ms < 0: no deadline. */
static int run_until(struct ses_conn *c, int timeout_ms, done_fn done, const void *arg)
{
    if (done(c, arg))
        return 0;
    c->timer_fired = 0;
    if (timeout_ms >= 0)
        uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    while (!done(c, arg) && !c->timer_fired)
        uv_run(&c->loop, UV_RUN_ONCE);
    uv_timer_stop(&c->timer);
    return done(c, arg) ? 0 : SES_ETIMEOUT;
}

static int done_rx_or_closed(struct ses_conn *c, const void *arg)
{
    (void)arg;
    return c->rx_head != NULL || c->state == ST_CLOSED;
}

static int done_closed(struct ses_conn *c, const void *arg)
{
    (void)arg;
    return c->state == ST_CLOSED;
}

/* Sent: message number *arg was written by lws_write and lws holds no unsent bytes. */
static int is_flushed(const struct ses_conn *c, uint64_t seq)
{
    if (c->tx_written < seq)
        return 0;
    return c->wsi != NULL ? !lws_partial_buffered(c->wsi) : !c->unflushed_at_close;
}

static int done_flushed(struct ses_conn *c, const void *arg)
{
    return is_flushed(c, *(const uint64_t *)arg) || c->state == ST_CLOSED;
}

/* --- open / close --- */

static int read_hello(struct ses_conn *c)
{
    struct rx_msg *m = unlink_rx(c, &c->rx_head);
    json_t *h = m->frame;
    free(m);
    const json_t *t = json_object_get(h, "t");
    int64_t v = 0;
    if (h == NULL || !json_is_string(t) || strcmp(json_string_value(t), "hello") != 0) {
        json_decref(h);
        set_err(c, "the server's first frame was not a hello", NULL);
        return SES_EIO;
    }
    c->hello = h;
    if (ses_get_int(h, "v", 0, INT32_MAX, true, &v) != 0 ||
        ses_get_b64(h, "server_id", c->server_id, sizeof c->server_id) != 0 ||
        ses_get_b64(h, "nonce", c->snonce, sizeof c->snonce) != 0) {
        set_err(c, "malformed hello from the server", NULL);
        return SES_EIO;
    }
    if (v != SES_PROTO_VERSION) {
        set_err(c, "the server speaks another protocol version", NULL);
        return SES_EUNSUPPORTED;
    }
    return 0;
}

/* The client TLS context: TLS 1.2+, trusting only the certificate(s) in ca_file (no system
 * store). lws sets peer verification, the host name check, SNI and ALPN on each connection.
 * We build it ourselves (instead of client_ssl_ca_filepath) because lws 4.1.6 re-allocates its
 * global OpenSSL ex_data indexes for every new context, after which it can no longer find, and so
 * leaks, the client SSL_CTX of any context created earlier that is still alive. */
static SSL_CTX *make_ssl_ctx(struct ses_conn *c, const char *ca_file)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) {
        set_err(c, "cannot create the TLS context", NULL);
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        set_err(c, "cannot load CA certificate(s) from", ca_file);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int ses_conn_open_ex(const char *url, const char *ca_file, int timeout_ms, struct ses_conn **out,
                     char *err, size_t errcap)
{
    struct lws_context_creation_info info;
    struct lws_client_connect_info ci;
    int rc;

    *out = NULL;
    if (err != NULL && errcap > 0)
        err[0] = '\0';
    if (sodium_init() < 0)
        return SES_EIO;
    struct ses_conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        return SES_ENOMEM;
    c->rx_tail = &c->rx_head;
    c->tx_tail = &c->tx_head;
    c->next_id = 1;
    c->timeout_ms = timeout_ms;

    if ((rc = parse_url(c, url)) != 0) {
        set_err(c, "bad server URL (expected wss://HOST:PORT)", NULL);
        goto fail;
    }
    FILE *f = ca_file ? fopen(ca_file, "r") : NULL;
    if (f == NULL) {
        set_err(c, "cannot read the CA file", ca_file);
        rc = SES_EIO;
        goto fail;
    }
    fclose(f);
    if ((c->ssl_ctx = make_ssl_ctx(c, ca_file)) == NULL) {
        rc = SES_EIO;
        goto fail;
    }

    if (uv_loop_init(&c->loop) != 0) {
        rc = SES_EIO;
        goto fail;
    }
    c->loop_ready = 1;
    uv_timer_init(&c->loop, &c->timer);
    c->timer.data = c;
    c->timer_ready = 1;

    set_log_level();
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS; /* no system store, in any case */
    c->foreign_loops[0] = &c->loop;
    info.foreign_loops = c->foreign_loops;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.provided_client_ssl_ctx = c->ssl_ctx;
    info.user = c;
    /* a small fd table: lws then looks sockets up by search, whatever their number */
    info.fd_limit_per_thread = 16;
    /* lws' own handshake timeouts must not fire before our deadline */
    info.timeout_secs = timeout_ms > 0 ? (unsigned int)(timeout_ms / 1000 + 5) : 3600;
    c->ctx = lws_create_context(&info);
    if (c->ctx == NULL) {
        set_err(c, "cannot create the libwebsockets context", NULL);
        rc = SES_EIO;
        goto fail;
    }

    memset(&ci, 0, sizeof ci);
    ci.context = c->ctx;
    ci.address = c->host;
    ci.port = c->port;
    ci.ssl_connection = LCCSCF_USE_SSL;
    ci.path = "/";
    ci.host = c->host_header;
    ci.protocol = SES_SUBPROTOCOL;
    ci.alpn = "http/1.1";
    ci.pwsi = &c->wsi;
#ifdef SESAME_TEST_HOOKS
    /* test hook (SESAME_TEST_HOOKS builds only): the abuse tests play several clients behind
     * different addresses with one loopback */
    ci.iface = getenv("SESAME_TEST_SOURCE_ADDR");
#endif
    c->state = ST_CONNECTING;
    if (lws_client_connect_via_info(&ci) == NULL) {
        c->wsi = NULL;
        c->state = ST_CLOSED;
    }

    rc = run_until(c, timeout_ms, done_rx_or_closed, NULL);
    if (rc != 0) {
        set_err(c, "timed out waiting for the server", NULL);
        goto fail;
    }
    if (c->rx_head == NULL) {
        set_err(c, "connection closed before the server's hello", NULL);
        rc = SES_ECLOSED;
        goto fail;
    }
    if ((rc = read_hello(c)) != 0)
        goto fail;
    *out = c;
    return 0;

fail:
    if (err != NULL && errcap > 0)
        snprintf(err, errcap, "%s", c->err[0] ? c->err : ses_err_msg(rc));
    ses_conn_free(c);
    return rc;
}

int ses_conn_open(const char *url, const char *ca_file, int timeout_ms, struct ses_conn **out)
{
    return ses_conn_open_ex(url, ca_file, timeout_ms, out, NULL, 0);
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

void ses_conn_free(struct ses_conn *c)
{
    if (c == NULL)
        return;
    if (c->ctx != NULL && c->wsi != NULL && c->state == ST_OPEN) {
        c->want_close = 1;
        lws_callback_on_writable(c->wsi);
        (void)run_until(c, CONN_CLOSE_WAIT_MS, done_closed, NULL);
    }
    if (c->ctx != NULL) {
        /* lws 4.1.6 on a foreign libuv loop: the first destroy closes every wsi and lws' own uv
         * handles asynchronously; once the loop has run those closes, a second destroy frees the
         * vhosts, the TLS contexts and the context itself (without it they leak). */
        lws_context_destroy(c->ctx);
        c->wsi = NULL;
        while (uv_run(&c->loop, UV_RUN_DEFAULT) != 0) /* returns early after a wake() */
            ;
        lws_context_destroy(c->ctx);
        c->ctx = NULL;
    }
    if (c->ssl_ctx != NULL) {
        SSL_CTX_free(c->ssl_ctx);
        c->ssl_ctx = NULL;
    }
    if (c->loop_ready) {
        /* then our own handles */
        while (uv_run(&c->loop, UV_RUN_DEFAULT) != 0)
            ;
        if (c->timer_ready)
            uv_close((uv_handle_t *)&c->timer, NULL);
        while (uv_run(&c->loop, UV_RUN_DEFAULT) != 0)
            ;
        if (uv_loop_close(&c->loop) != 0) {
            /* should not happen; never free a loop that still has handles */
            uv_walk(&c->loop, close_any, NULL);
            uv_run(&c->loop, UV_RUN_DEFAULT);
            if (uv_loop_close(&c->loop) != 0)
                abort();
        }
    }
    free_queues(c);
    json_decref(c->hello);
    sodium_memzero(c, sizeof *c);
    free(c);
}

/* --- queries --- */

const json_t *ses_conn_hello(const struct ses_conn *c)
{
    return c->hello;
}

void ses_conn_set_timeout(struct ses_conn *c, int timeout_ms)
{
    c->timeout_ms = timeout_ms;
}

int ses_conn_close_code(const struct ses_conn *c)
{
    return c->close_code;
}

int ses_conn_is_open(const struct ses_conn *c)
{
    return c->state == ST_OPEN && c->wsi != NULL;
}

/* --- sending and receiving --- */

/* Queues text as one message and asks for a WRITEABLE callback. Returns 0, SES_ECLOSED or
 * SES_ENOMEM; *seq gets the message's number. */
static int queue_tx(struct ses_conn *c, const char *text, size_t len, int wflags, uint64_t *seq)
{
    if (c->state != ST_OPEN || c->wsi == NULL)
        return SES_ECLOSED;
    if (len > SIZE_MAX - LWS_PRE - sizeof(struct tx_msg))
        return SES_ENOMEM;
    struct tx_msg *t = malloc(sizeof *t + LWS_PRE + len);
    if (t == NULL)
        return SES_ENOMEM;
    t->next = NULL;
    t->len = len;
    t->wflags = wflags;
    t->seq = ++c->tx_seq;
    if (len > 0)
        memcpy(t->data + LWS_PRE, text, len);
    *c->tx_tail = t;
    c->tx_tail = &t->next;
    *seq = t->seq;
    lws_callback_on_writable(c->wsi);
    return 0;
}

/* Runs the loop until message number seq was completely handed to the kernel. */
static int flush_to(struct ses_conn *c, uint64_t seq, int timeout_ms)
{
    int rc = run_until(c, timeout_ms, done_flushed, &seq);
    if (is_flushed(c, seq))
        return 0;
    return rc == SES_ETIMEOUT ? SES_ETIMEOUT : SES_ECLOSED;
}

/* Queues text and runs the loop until it was completely handed to the kernel. */
static int send_flush(struct ses_conn *c, const char *text, size_t len, int wflags, int timeout_ms)
{
    uint64_t seq = 0;
    int rc = queue_tx(c, text, len, wflags, &seq);
    return rc != 0 ? rc : flush_to(c, seq, timeout_ms);
}

int ses_conn_send_text(struct ses_conn *c, const char *text, size_t len)
{
    return send_flush(c, text, len, LWS_WRITE_TEXT, c->timeout_ms);
}

int ses_conn_send_binary(struct ses_conn *c, const void *data, size_t len)
{
    return send_flush(c, data, len, LWS_WRITE_BINARY, c->timeout_ms);
}

int ses_conn_send_fragments(struct ses_conn *c, const char *text, size_t len, size_t frag)
{
    uint64_t seq = 0;
    if (frag == 0 || len == 0)
        return SES_EINVALID_ARG;
    for (size_t at = 0; at < len; at += frag) {
        size_t n = len - at < frag ? len - at : frag;
        int flags = lws_write_ws_flags(LWS_WRITE_TEXT, at == 0, at + n == len);
        int rc = queue_tx(c, text + at, n, flags, &seq);
        if (rc != 0)
            return rc;
    }
    return flush_to(c, seq, c->timeout_ms);
}

int ses_conn_recv(struct ses_conn *c, int timeout_ms, json_t **frame)
{
    *frame = NULL;
    (void)run_until(c, timeout_ms, done_rx_or_closed, NULL);
    if (c->rx_head == NULL)
        return c->state == ST_CLOSED ? SES_ECLOSED : SES_ETIMEOUT;
    struct rx_msg *m = unlink_rx(c, &c->rx_head);
    *frame = m->frame;
    free(m);
    return *frame != NULL ? 0 : SES_EBAD_JSON;
}

struct reply_wait {
    int64_t id;
    uint64_t after_seq; /* only frames that arrived after the request count for the fallback */
};

static struct rx_msg **find_reply(struct ses_conn *c, const struct reply_wait *w)
{
    for (struct rx_msg **pp = &c->rx_head; *pp != NULL; pp = &(*pp)->next)
        if ((*pp)->frame != NULL && (*pp)->has_id && (*pp)->id == w->id)
            return pp;
    return NULL;
}

/* An error frame without id that arrived after the request (used once the peer closed). */
static struct rx_msg **find_idless_error(struct ses_conn *c, const struct reply_wait *w)
{
    for (struct rx_msg **pp = &c->rx_head; *pp != NULL; pp = &(*pp)->next) {
        const struct rx_msg *m = *pp;
        const json_t *t = m->frame ? json_object_get(m->frame, "t") : NULL;
        if (m->seq > w->after_seq && !m->has_id && json_is_string(t) &&
            strcmp(json_string_value(t), "error") == 0)
            return pp;
    }
    return NULL;
}

static int done_reply(struct ses_conn *c, const void *arg)
{
    return find_reply(c, arg) != NULL || c->state == ST_CLOSED || c->fail_code != 0;
}

/* Hands a reply frame back: 0, or the error number of an error frame. */
static int take_reply(struct ses_conn *c, struct rx_msg **pp, json_t **reply)
{
    struct rx_msg *m = unlink_rx(c, pp);
    *reply = m->frame;
    free(m);
    const json_t *t = json_object_get(*reply, "t");
    if (json_is_string(t) && strcmp(json_string_value(t), "error") == 0) {
        const json_t *num = json_object_get(*reply, "num");
        json_int_t n = json_is_integer(num) ? json_integer_value(num) : 0;
        if (n >= 0 || n < INT32_MIN) {
            const json_t *code = json_object_get(*reply, "code");
            n = json_is_string(code) ? ses_err_from_name(json_string_value(code)) : 0;
            if (n == 0)
                n = SES_EINTERNAL;
        }
        return (int)n;
    }
    return 0;
}

/* Sends text (a request carrying id) and waits for the reply with that id. */
static int send_and_wait(struct ses_conn *c, int64_t id, const char *text, size_t len,
                         int timeout_ms, json_t **reply)
{
    struct reply_wait w = {id, c->rx_seq};
    uint64_t t0 = uv_now(&c->loop);
    int rc = send_flush(c, text, len, LWS_WRITE_TEXT, timeout_ms);

    if (rc == SES_ETIMEOUT)
        return rc;
    if (rc == 0) {
        int left = timeout_ms;
        if (timeout_ms >= 0) {
            uv_update_time(&c->loop);
            uint64_t spent = uv_now(&c->loop) - t0;
            left = spent >= (uint64_t)timeout_ms ? 0 : timeout_ms - (int)spent;
        }
        rc = run_until(c, left, done_reply, &w);
    }
    struct rx_msg **pp = find_reply(c, &w);
    if (pp == NULL && c->state == ST_CLOSED)
        pp = find_idless_error(c, &w);
    if (pp != NULL)
        return take_reply(c, pp, reply);
    if (c->fail_code != 0)
        return c->fail_code;
    return c->state == ST_CLOSED ? SES_ECLOSED : (rc != 0 ? rc : SES_ETIMEOUT);
}

int ses_conn_request(struct ses_conn *c, json_t *req, int timeout_ms, json_t **reply)
{
    *reply = NULL;
    if (!json_is_object(req)) {
        json_decref(req);
        return SES_EINVALID_ARG;
    }
    int64_t id = c->next_id++;
    if (json_object_set_new(req, "id", json_integer(id)) != 0) {
        json_decref(req);
        return SES_ENOMEM;
    }
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (text == NULL)
        return SES_ENOMEM;
    size_t len = strlen(text);
    int rc = send_and_wait(c, id, text, len, timeout_ms, reply);
    sodium_memzero(text, len);
    free(text);
    return rc;
}

int ses_conn_enroll(struct ses_conn *c, const char *code, const struct ses_keys *k,
                    const char *device_name, json_t **reply)
{
    uint8_t ticket[SES_CODE_TICKET_BYTES], secret[SES_CODE_SECRET_BYTES];
    uint8_t tr[SES_ENROLL_TRANSCRIPT_LEN], sig[SES_SIG_BYTES];
    char code_text[SES_CODE_TEXT_LEN + 1], sign_pk[48], box_pk[48], sig_b64[96];
    char text[1024];
    char *name_json = NULL;
    int rc;

    *reply = NULL;
    if (code == NULL || ses_code_parse(ticket, secret, code) != 0)
        return SES_ECODE_INVALID;
    ses_code_format(code_text, ticket, secret);
    sodium_memzero(secret, sizeof secret);

    uint64_t ts = ses_client_now_ms();
    ses_transcript_enroll(tr, c->server_id, c->snonce, ticket, k->sign_pk, k->box_pk, ts);
    ses_sign(sig, tr, sizeof tr, k->sign_sk);
    ses_b64_encode(sign_pk, sizeof sign_pk, k->sign_pk, 32);
    ses_b64_encode(box_pk, sizeof box_pk, k->box_pk, 32);
    ses_b64_encode(sig_b64, sizeof sig_b64, sig, sizeof sig);

    if (device_name != NULL) {
        json_t *s = json_string(device_name);
        name_json = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
        json_decref(s);
        if (name_json == NULL) {
            rc = SES_EBAD_FIELD; /* not UTF-8 */
            goto out;
        }
    }
    /* built by hand so that the code only ever sits in buffers wiped here */
    int64_t id = c->next_id++;
    int n = snprintf(text, sizeof text,
                     "{\"t\":\"enroll\",\"id\":%lld,\"code\":\"%s\",\"sign_pk\":\"%s\","
                     "\"box_pk\":\"%s\",\"ts\":%llu,\"sig\":\"%s\"%s%s}",
                     (long long)id, code_text, sign_pk, box_pk, (unsigned long long)ts, sig_b64,
                     name_json ? ",\"device_name\":" : "", name_json ? name_json : "");
    if (n < 0 || (size_t)n >= sizeof text) {
        rc = SES_EBAD_FIELD; /* device name far too long for a pre-login frame */
        goto out;
    }
    rc = send_and_wait(c, id, text, (size_t)n, c->timeout_ms, reply);
out:
    free(name_json);
    sodium_memzero(text, sizeof text);
    sodium_memzero(code_text, sizeof code_text);
    sodium_memzero(ticket, sizeof ticket);
    return rc;
}

int ses_conn_login(struct ses_conn *c, const uint8_t device_id[16], const struct ses_keys *k,
                   json_t **reply)
{
    uint8_t cnonce[SES_NONCE_BYTES], tr[SES_LOGIN_TRANSCRIPT_LEN], sig[SES_SIG_BYTES];

    *reply = NULL;
    randombytes_buf(cnonce, sizeof cnonce);
    uint64_t ts = ses_client_now_ms();
    ses_transcript_login(tr, c->server_id, c->snonce, cnonce, device_id, ts);
    ses_sign(sig, tr, sizeof tr, k->sign_sk);

    json_t *req = json_object();
    if (req == NULL || json_object_set_new(req, "t", json_string("auth")) != 0 ||
        ses_set_id(req, "device", device_id) != 0 ||
        ses_set_b64(req, "snonce", c->snonce, sizeof c->snonce) != 0 ||
        ses_set_b64(req, "cnonce", cnonce, sizeof cnonce) != 0 ||
        json_object_set_new(req, "ts", json_integer((json_int_t)ts)) != 0 ||
        ses_set_b64(req, "sig", sig, sizeof sig) != 0) {
        json_decref(req);
        return SES_ENOMEM;
    }
    return ses_conn_request(c, req, c->timeout_ms, reply);
}
