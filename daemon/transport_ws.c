/*
 * transport_ws.c - libwebsockets 4.1.6 on the daemon's libuv loop (foreign loop), TLS 1.2+, one
 * protocol "sesame.1" (transport.h). The only file that includes libwebsockets.h.
 *
 * Rules from libwebsockets-notes.md and security.md §5: writes only from SERVER_WRITEABLE with
 * LWS_PRE headroom; reassembly and size caps are ours; `in` is never read in
 * HTTP_CONFIRM_UPGRADE; connections that do not ask for sesame.1 are refused.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>

#include <libwebsockets.h>
#include <openssl/ssl.h>

#include "sesame/err.h"
#include "sesame/limits.h"

#include "conn_limits.h"
#include "log.h"
#include "transport.h"

/* queued frames per connection before we give up on a peer that does not read */
#define SES_MAX_OUTQ_BYTES (8u * 1024 * 1024)
/* bytes queued to all the connections of one peer address (slow readers behind one NAT) */
#define SES_MAX_OUTQ_PER_ADDR_BYTES (64u * 1024 * 1024)
/* the TLS handshake and the HTTP upgrade must be done within (lws's network round trips) */
#define SES_HANDSHAKE_TIMEOUT_S 5
/* descriptors kept out of max_conns: the database and its WAL, the log, the listener, libuv */
#define SES_FDS_KEPT 64
/* refusals at accept are logged at most once per this many seconds, with their count */
#define SES_REFUSAL_LOG_S 10
/* a connection closed by us is dropped if the close handshake has not ended by then (a peer that
 * reads nothing never takes the close frame) */
#define SES_CLOSE_TIMEOUT_S 5
/* frames written per WRITEABLE callback at most */
#define SES_FRAMES_PER_WRITEABLE 32

struct outmsg {
    struct outmsg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE headroom + payload */
};

/* One accepted connection's place in the per-address counts (lws opaque user data of its wsi,
 * from adoption to WSI_DESTROY). */
struct conn_rec {
    struct ses_conn_addr *addr;
    bool authed;
};

struct ses_tconn {
    struct lws *wsi;
    void *session;
    struct ses_transport *tp;
    struct conn_rec *rec;
    struct outmsg *head, *tail;
    size_t queued;
    char *rx;
    size_t rx_len, rx_cap, max_frame;
    int discarding; /* skipping the rest of an oversize message */
    int binary;     /* a binary message arrived: the connection is closing */
    int close_code; /* 0 = open */
    int close_sent; /* the close frame was handed to lws */
    char close_reason[64];
};

struct ses_transport {
    struct lws_context *ctx;
    struct lws_vhost *vh;
    const struct ses_transport_cbs *cbs;
    void *ud;
    void *foreign_loops[1];
    /* connections per address, counted at accept (conn_limits.h); by_fd: an accepted socket's
     * address until lws adopts it (then its conn_rec holds it) */
    const char *const *origins; /* allowed_origin values (borrowed from the options) */
    size_t n_origins;
    struct ses_conn_caps caps;
    struct ses_conn_table *conns;
    struct ses_conn_addr **by_fd;
    int by_fd_n;
    int64_t refusal_logged_s;
    unsigned long refusals;
    /* the web client's mounts (they point into these paths) */
    char web_root[4096], web_assets[4110];
    struct lws_http_mount mount_root, mount_assets;
};

/* --- the web client: static files on the WebSocket's origin -------------------------------------
 * Every HTTP response carries these headers. The CSP allows only this origin (no inline script,
 * no third-party origin); 'wasm-unsafe-eval' lets libsodium's WebAssembly start. */
#define PVO(next, name, value)                                                                     \
    {                                                                                              \
        next, NULL, name, value                                                                    \
    }
static const struct lws_protocol_vhost_options hdr_coop =
    PVO(NULL, "cross-origin-opener-policy:", "same-origin");
static const struct lws_protocol_vhost_options hdr_frame =
    PVO(&hdr_coop, "x-frame-options:", "DENY");
static const struct lws_protocol_vhost_options hdr_perm =
    PVO(&hdr_frame,
        "permissions-policy:", "camera=(), microphone=(), geolocation=(), payment=(), usb=()");
static const struct lws_protocol_vhost_options hdr_ref =
    PVO(&hdr_perm, "referrer-policy:", "no-referrer");
static const struct lws_protocol_vhost_options hdr_nosniff =
    PVO(&hdr_ref, "x-content-type-options:", "nosniff");
static const struct lws_protocol_vhost_options hdr_hsts =
    PVO(&hdr_nosniff, "strict-transport-security:", "max-age=31536000");
static const struct lws_protocol_vhost_options hdr_csp =
    PVO(&hdr_hsts, "content-security-policy:",
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; manifest-src 'self'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
/* types lws does not know */
static const struct lws_protocol_vhost_options mime_webmanifest =
    PVO(NULL, ".webmanifest", "application/manifest+json");
static const struct lws_protocol_vhost_options mime_wasm =
    PVO(&mime_webmanifest, ".wasm", "application/wasm");
static const struct lws_protocol_vhost_options mime_mjs =
    PVO(&mime_wasm, ".mjs", "text/javascript");
static const struct lws_protocol_vhost_options mime_json =
    PVO(&mime_mjs, ".json", "application/json");
static const struct lws_protocol_vhost_options mime_svg = PVO(&mime_json, ".svg", "image/svg+xml");
#undef PVO

#define WEB_ASSET_MAX_AGE (365 * 86400) /* files named by their content hash never change */

/* Two mounts over root: /assets/ (content-hashed names: cached for a year) and / (index.html and
 * the rest: revalidated on every use). */
static void web_mounts(struct ses_transport *tp, const char *root)
{
    snprintf(tp->web_root, sizeof tp->web_root, "%s", root);
    snprintf(tp->web_assets, sizeof tp->web_assets, "%s/assets", root);
    struct lws_http_mount *a = &tp->mount_assets, *r = &tp->mount_root;
    memset(a, 0, sizeof *a);
    memset(r, 0, sizeof *r);
    a->mount_next = r;
    a->mountpoint = "/assets";
    a->mountpoint_len = 7;
    a->origin = tp->web_assets;
    a->origin_protocol = LWSMPRO_FILE;
    a->extra_mimetypes = &mime_svg;
    a->cache_max_age = WEB_ASSET_MAX_AGE;
    a->cache_reusable = 1;
    a->cache_intermediaries = 0;
    r->mountpoint = "/";
    r->mountpoint_len = 1;
    r->origin = tp->web_root;
    r->def = "index.html";
    r->origin_protocol = LWSMPRO_FILE;
    r->extra_mimetypes = &mime_svg;
    r->cache_revalidate = 1;
}

static void free_queue(struct ses_tconn *tc)
{
    struct outmsg *m = tc->head;
    while (m) {
        struct outmsg *n = m->next;
        free(m);
        m = n;
    }
    if (tc->rec != NULL && tc->rec->addr != NULL)
        ses_conn_queue_sub(tc->rec->addr, tc->queued);
    tc->head = tc->tail = NULL;
    tc->queued = 0;
}

static int on_receive(struct ses_tconn *tc, const char *in, size_t len)
{
    struct lws *wsi = tc->wsi;
    if (lws_is_first_fragment(wsi)) {
        tc->rx_len = 0;
        tc->discarding = 0;
        if (lws_frame_is_binary(wsi))
            tc->binary = 1;
    }
    if (tc->binary) {
        /* the protocol is JSON text: a binary message is never parsed; 1003 = unsupported data */
        ses_transport_close(tc, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE, "text frames only");
        return 0;
    }
    if (!tc->discarding && tc->rx_len + len > tc->max_frame) {
        tc->discarding = 1;
        tc->rx_len = 0;
        if (tc->session && tc->tp->cbs->on_oversize)
            tc->tp->cbs->on_oversize(tc->session);
    }
    if (!tc->discarding && len > 0) {
        if (tc->rx_len + len > tc->rx_cap) {
            size_t cap = tc->rx_cap ? tc->rx_cap : 4096;
            while (cap < tc->rx_len + len)
                cap *= 2;
            char *n = realloc(tc->rx, cap);
            if (n == NULL)
                return -1;
            tc->rx = n;
            tc->rx_cap = cap;
        }
        memcpy(tc->rx + tc->rx_len, in, len);
        tc->rx_len += len;
    }
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
        if (!tc->discarding && tc->session && tc->close_code == 0)
            tc->tp->cbs->on_frame(tc->session, tc->rx, tc->rx_len);
        tc->rx_len = 0;
        tc->discarding = 0;
        /* keep small buffers, drop big ones */
        if (tc->rx_cap > 65536) {
            free(tc->rx);
            tc->rx = NULL;
            tc->rx_cap = 0;
        }
    }
    return 0;
}

static int on_writeable(struct ses_tconn *tc)
{
    /* several frames per callback while the socket takes them: a busy member's connection must
     * not be limited to one frame per loop iteration */
    int written = 0;
    while (tc->head != NULL && written < SES_FRAMES_PER_WRITEABLE) {
        struct outmsg *m = tc->head;
        if (written > 0 && lws_send_pipe_choked(tc->wsi))
            break;
        int n = lws_write(tc->wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
        tc->head = m->next;
        if (tc->head == NULL)
            tc->tail = NULL;
        tc->queued -= m->len;
        if (tc->rec != NULL && tc->rec->addr != NULL)
            ses_conn_queue_sub(tc->rec->addr, m->len);
        size_t want = m->len;
        free(m);
        if (n < (int)want)
            return -1;
        written++;
    }
    if (written > 0) {
        if (tc->head != NULL || tc->close_code != 0)
            lws_callback_on_writable(tc->wsi);
        return 0;
    }
    if (tc->close_code != 0 && !tc->close_sent) {
        /* Returning -1 here would drop the socket before the close frame is written (Debian's
         * 4.1.6 closes twice on libuv); an async kill with this reason lets lws send the close
         * frame with our code and finish the close handshake. */
        lws_close_reason(tc->wsi, (enum lws_close_status)tc->close_code,
                         (unsigned char *)tc->close_reason, strlen(tc->close_reason));
        lws_set_timeout(tc->wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, LWS_TO_KILL_ASYNC);
        tc->close_sent = 1;
    }
    return 0;
}

/* A browser names the page that opens a WebSocket in Origin: only the web client's own origin
 * (https:// and the Host it asked for, i.e. the page this daemon served) and the configured
 * allowed_origin ones may open a session; a client with no Origin (the CLI) is not a browser. A
 * page of any other site cannot use a logged-in browser's device against us. */
static bool origin_allowed(const struct ses_transport *tp, struct lws *wsi)
{
    char origin[256], host[256], own[300];
    int n = lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
    if (n <= 0)
        return lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) == 0; /* none, or too long: refused */
    if (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) > 0) {
        snprintf(own, sizeof own, "https://%s", host);
        if (strcasecmp(origin, own) == 0)
            return true;
    }
    for (size_t i = 0; i < tp->n_origins; i++)
        if (strcasecmp(origin, tp->origins[i]) == 0)
            return true;
    SES_LOG(SES_LOG_WARN, "transport", "WebSocket refused: Origin %s is not allowed", origin);
    return false;
}

static int callback_sesame(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                           size_t len)
{
    struct ses_tconn *tc = user;
    struct ses_transport *tp = lws_context_user(lws_get_context(wsi));
    char peer[64];

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return origin_allowed(tp, wsi) ? 0 : -1;
    case LWS_CALLBACK_ESTABLISHED:
        memset(tc, 0, sizeof *tc);
        tc->wsi = wsi;
        tc->tp = tp;
        tc->rec = lws_get_opaque_user_data(wsi);
        tc->max_frame = SES_MAX_PREAUTH_FRAME;
        peer[0] = '\0';
        lws_get_peer_simple(wsi, peer, sizeof peer);
        tc->session = tp->cbs->on_open(tp->ud, tc, peer);
        if (tc->session == NULL)
            return -1;
        break;
    case LWS_CALLBACK_RECEIVE:
        if (tc->session == NULL)
            return -1;
        return on_receive(tc, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(tc);
    case LWS_CALLBACK_CLOSED:
        if (tc->session != NULL) {
            tp->cbs->on_close(tc->session);
            tc->session = NULL;
        }
        free_queue(tc);
        free(tc->rx);
        tc->rx = NULL;
        break;
    default:
        break;
    }
    return 0;
}

/* protocols[0] serves plain HTTP (the web client's mounts, else 404) and refuses WebSocket
 * upgrades that did not ask for sesame.1. Its `in` is never read on HTTP_CONFIRM_UPGRADE (lws 4.1.6
 * use-after-free). */
/* The address of an accepted socket as 16 bytes (IPv4 as ::ffff:a.b.c.d, like a mapped one). */
static void addr_key(const struct sockaddr_storage *ss, uint8_t key[SES_CONN_ADDR_BYTES])
{
    memset(key, 0, SES_CONN_ADDR_BYTES);
    if (ss->ss_family == AF_INET6) {
        memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, SES_CONN_ADDR_BYTES);
    } else if (ss->ss_family == AF_INET) {
        key[10] = key[11] = 0xff;
        memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
    }
}

/* A refused connection: one log line per SES_REFUSAL_LOG_S with the count since the last. */
static void log_refusal(struct ses_transport *tp, const struct sockaddr_storage *ss,
                        enum ses_conn_refusal why)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    tp->refusals++;
    if (ts.tv_sec - tp->refusal_logged_s < SES_REFUSAL_LOG_S && tp->refusal_logged_s != 0)
        return;
    char peer[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, peer, sizeof peer);
    else if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, peer, sizeof peer);
    SES_LOG(SES_LOG_WARN, "transport",
            "peer=%s refused at accept: %s (%lu refusals since the last notice; %d connections, "
            "%d not logged in)",
            peer, ses_conn_refusal_text(why), tp->refusals, ses_conn_total(tp->conns),
            ses_conn_unauth(tp->conns));
    tp->refusal_logged_s = ts.tv_sec;
    tp->refusals = 0;
}

/* LWS_CALLBACK_FILTER_NETWORK_CONNECTION: counts the accepted socket against the caps before lws
 * gives it a TLS session or a header buffer. Returns non-zero to close it at once. */
static int admit(struct ses_transport *tp, const struct lws_filter_network_conn_args *f)
{
    int fd = (int)f->accept_fd;
    if (fd < 0 || fd >= tp->by_fd_n) {
        log_refusal(tp, &f->cli_addr, SES_CONN_FULL);
        return -1;
    }
    if (tp->by_fd[fd] != NULL) { /* that socket was never adopted: its count goes */
        ses_conn_release(tp->conns, tp->by_fd[fd], false);
        tp->by_fd[fd] = NULL;
    }
    uint8_t key[SES_CONN_ADDR_BYTES];
    addr_key(&f->cli_addr, key);
    enum ses_conn_refusal why = ses_conn_admit(tp->conns, key, &tp->by_fd[fd]);
    if (why != SES_CONN_OK) {
        log_refusal(tp, &f->cli_addr, why);
        return -1;
    }
    return 0;
}

/* lws adopted the socket: its count moves to the wsi, until WSI_DESTROY. */
static int adopted(struct ses_transport *tp, struct lws *wsi)
{
    int fd = (int)lws_get_socket_fd(wsi);
    struct conn_rec *rec = calloc(1, sizeof *rec);
    if (rec == NULL)
        return -1;
    if (fd >= 0 && fd < tp->by_fd_n) {
        rec->addr = tp->by_fd[fd];
        tp->by_fd[fd] = NULL;
    }
    lws_set_opaque_user_data(wsi, rec);
    return 0;
}

static void destroyed(struct ses_transport *tp, struct lws *wsi)
{
    struct conn_rec *rec = lws_get_opaque_user_data(wsi);
    if (rec == NULL)
        return;
    if (rec->addr != NULL)
        ses_conn_release(tp->conns, rec->addr, rec->authed);
    lws_set_opaque_user_data(wsi, NULL);
    free(rec);
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    struct ses_transport *tp = lws_context_user(lws_get_context(wsi));
    switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
        return admit(tp, user);
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
        return adopted(tp, wsi);
    case LWS_CALLBACK_WSI_DESTROY:
        destroyed(tp, wsi);
        return 0;
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return -1;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        return 0;
    case LWS_CALLBACK_HTTP:
        if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL))
            return -1;
        return lws_http_transaction_completed(wsi);
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

static const struct lws_protocols protocols[] = {
    {"http", callback_http, 0, 0, 0, NULL, 0},
    {SES_SUBPROTOCOL, callback_sesame, sizeof(struct ses_tconn), 16384, 0, NULL, 16384},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_log_bridge(int level, const char *line)
{
    size_t n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        n--;
    SES_LOG(level == LLL_ERR ? SES_LOG_WARN : SES_LOG_DEBUG, "lws", "%.*s", (int)n, line);
}

/* The caps, within the process's file descriptor limit; the per-address table and the accepted
 * sockets' slots. */
static int caps_init(struct ses_transport *tp, const struct ses_conn_caps *caps)
{
    struct rlimit rl;
    int fds = 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        fds = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1u << 20) ? 1 << 20 : (int)rl.rlim_cur;
    tp->caps = *caps;
    tp->caps.max_queued_per_addr = SES_MAX_OUTQ_PER_ADDR_BYTES;
    /* the database, the log, the listener and libuv need a few descriptors of their own */
    if (tp->caps.max_total > fds - SES_FDS_KEPT) {
        tp->caps.max_total = fds - SES_FDS_KEPT > 1 ? fds - SES_FDS_KEPT : 1;
        SES_LOG(SES_LOG_NOTICE, "transport",
                "max_conns lowered to %d: the file descriptor limit is %d (raise it with "
                "ulimit -n or LimitNOFILE=)",
                tp->caps.max_total, fds);
    }
    if (tp->caps.max_unauth_total > tp->caps.max_total)
        tp->caps.max_unauth_total = tp->caps.max_total;
    tp->by_fd_n = fds;
    tp->by_fd = calloc((size_t)fds, sizeof *tp->by_fd);
    tp->conns = ses_conn_table_new(&tp->caps);
    return tp->by_fd != NULL && tp->conns != NULL ? 0 : -1;
}

static void transport_release(struct ses_transport *tp)
{
    ses_conn_table_free(tp->conns);
    free(tp->by_fd);
    free(tp);
}

int ses_transport_start(uv_loop_t *loop, const struct ses_transport_opts *opts,
                        const struct ses_transport_cbs *cbs, void *ud, struct ses_transport **out,
                        int *port_out)
{
    struct lws_context_creation_info info;
    struct ses_transport *tp = calloc(1, sizeof *tp);
    if (tp == NULL)
        return SES_ENOMEM;
    tp->cbs = cbs;
    tp->ud = ud;
    tp->foreign_loops[0] = loop;
    tp->origins = opts->origins;
    tp->n_origins = opts->n_origins;
    if (caps_init(tp, &opts->caps) != 0) {
        transport_release(tp);
        return SES_ENOMEM;
    }

    lws_set_log_level(ses_log_get_level() >= SES_LOG_DEBUG ? (LLL_ERR | LLL_WARN) : LLL_ERR,
                      lws_log_bridge);

    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
                   LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.foreign_loops = tp->foreign_loops;
    info.user = tp;
    info.pcontext = &tp->ctx;
    info.timeout_secs = SES_HANDSHAKE_TIMEOUT_S;
    info.timeout_secs_ah_idle = SES_HANDSHAKE_TIMEOUT_S;
    info.max_http_header_data = 4096;
    /* one header buffer for each connection that may be waiting for its upgrade: none waits for
     * a buffer held by another (64 idle sockets used to stall every newcomer) */
    info.max_http_header_pool = (unsigned short)tp->caps.max_unauth_total;
    tp->ctx = lws_create_context(&info);
    if (tp->ctx == NULL) {
        SES_LOG(SES_LOG_ERR, "transport",
                "lws_create_context failed (is libwebsockets-evlib-uv "
                "installed?)");
        transport_release(tp);
        return SES_EIO;
    }

    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 |
                   LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND |
                   LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.port = opts->port;
    info.timeout_secs_ah_idle = SES_HANDSHAKE_TIMEOUT_S; /* the vhost's own, else 10 s */
    info.iface = opts->host;
    /* with IPv6 on, 4.1.6 binds an IPv4 address's port on every address ([::]): an IPv4 listener
     * is an IPv4 socket bound to exactly that address */
    unsigned char a4[4];
    if (inet_pton(AF_INET, opts->host, a4) == 1)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.protocols = protocols;
    info.vhost_name = "sesame";
    info.ssl_cert_filepath = opts->cert_file;
    info.ssl_private_key_filepath = opts->key_file;
    info.alpn = "http/1.1";
    info.ssl_options_set = SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 | SSL_OP_NO_RENEGOTIATION;
    info.ssl_cipher_list = "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                           "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
                           "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
    info.tls1_3_plus_cipher_list =
        "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256";
    info.foreign_loops = tp->foreign_loops;
    info.headers = &hdr_csp;
    if (opts->web_root != NULL && opts->web_root[0] != '\0') {
        web_mounts(tp, opts->web_root);
        info.mounts = &tp->mount_assets;
    }
    tp->vh = lws_create_vhost(tp->ctx, &info);
    if (tp->vh == NULL) {
        SES_LOG(SES_LOG_ERR, "transport", "cannot listen on %s:%d with the given certificate",
                opts->host, opts->port);
        lws_context_destroy(tp->ctx);
        transport_release(tp);
        return SES_EIO;
    }
    *port_out = lws_get_vhost_listen_port(tp->vh);
    *out = tp;
    return 0;
}

void ses_transport_stop(struct ses_transport *tp)
{
    if (tp == NULL)
        return;
    if (tp->ctx != NULL)
        lws_context_destroy(tp->ctx);
}

void ses_transport_free(struct ses_transport *tp)
{
    if (tp == NULL)
        return;
    /* with a foreign loop, 4.1.6 frees the context only on a second destroy once the loop ran */
    if (tp->ctx != NULL)
        lws_context_destroy(tp->ctx);
    transport_release(tp);
}

int ses_transport_send(struct ses_tconn *tc, const char *data, size_t len)
{
    if (tc->close_code != 0)
        return SES_ECLOSED;
    if (tc->queued + len > SES_MAX_OUTQ_BYTES) {
        SES_LOG(SES_LOG_WARN, "transport", "peer does not read; closing");
        free_queue(tc); /* never to be delivered: the memory goes back now, not at disconnect */
        ses_transport_close(tc, LWS_CLOSE_STATUS_POLICY_VIOLATION, "slow reader");
        return SES_ETOO_LARGE;
    }
    struct ses_conn_addr *addr = tc->rec != NULL ? tc->rec->addr : NULL;
    if (addr != NULL && !ses_conn_queue_add(tc->tp->conns, addr, len)) {
        SES_LOG(SES_LOG_WARN, "transport",
                "the connections of this peer address do not read (%u MiB queued); closing",
                SES_MAX_OUTQ_PER_ADDR_BYTES >> 20);
        free_queue(tc);
        ses_transport_close(tc, LWS_CLOSE_STATUS_POLICY_VIOLATION, "slow reader");
        return SES_ETOO_LARGE;
    }
    struct outmsg *m = malloc(sizeof *m + LWS_PRE + len);
    if (m == NULL) {
        if (addr != NULL)
            ses_conn_queue_sub(addr, len);
        return SES_ENOMEM;
    }
    m->next = NULL;
    m->len = len;
    memcpy(m->buf + LWS_PRE, data, len);
    if (tc->tail)
        tc->tail->next = m;
    else
        tc->head = m;
    tc->tail = m;
    tc->queued += len;
    lws_callback_on_writable(tc->wsi);
    return 0;
}

void ses_transport_close(struct ses_tconn *tc, int code, const char *reason)
{
    if (tc->close_code != 0)
        return;
    tc->close_code = code;
    snprintf(tc->close_reason, sizeof tc->close_reason, "%s", reason ? reason : "");
    lws_set_timeout(tc->wsi, PENDING_TIMEOUT_CLOSE_SEND, SES_CLOSE_TIMEOUT_S);
    lws_callback_on_writable(tc->wsi);
}

void ses_transport_set_authed(struct ses_tconn *tc)
{
    if (tc->rec == NULL || tc->rec->authed)
        return;
    tc->rec->authed = true;
    if (tc->rec->addr != NULL)
        ses_conn_authed(tc->tp->conns, tc->rec->addr);
}

void ses_transport_set_limit(struct ses_tconn *tc, size_t max_frame)
{
    tc->max_frame = max_frame;
}

void ses_transport_set_timeout(struct ses_tconn *tc, int secs)
{
    if (secs > 0)
        lws_set_timeout(tc->wsi, PENDING_TIMEOUT_USER_OK, secs);
    else
        lws_set_timeout(tc->wsi, NO_PENDING_TIMEOUT, 0);
}
