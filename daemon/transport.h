/*
 * transport.h - the narrow interface between Sesame's sessions and the network.
 *
 * transport_ws.c implements it with libwebsockets (wss, subprotocol sesame.1) on the daemon's
 * libuv loop; it is the only file that includes libwebsockets.h. It moves whole text frames: it
 * reassembles fragments up to the limit the session sets, queues outgoing frames per connection,
 * and reports lifecycle events up through struct ses_transport_cbs. All calls happen on the loop
 * thread.
 */
#ifndef SESAME_TRANSPORT_H
#define SESAME_TRANSPORT_H

#include <stddef.h>

#include <uv.h>

#include "conn_limits.h"

struct ses_transport;
struct ses_tconn; /* one connection; valid from on_open until on_close returns */

struct ses_transport_cbs {
    /* A WebSocket connection was established. Returns the session object to associate, or NULL
     * to refuse (the connection is closed). */
    void *(*on_open)(void *ud, struct ses_tconn *tc, const char *peer);
    /* A whole frame arrived (len <= the connection's limit). data is valid during the call. */
    void (*on_frame)(void *session, const char *data, size_t len);
    /* A frame exceeded the connection's limit; its bytes are discarded. */
    void (*on_oversize)(void *session);
    /* The connection is gone; the session must forget tc. */
    void (*on_close)(void *session);
};

struct ses_transport_opts {
    const char *host;      /* address to bind */
    int port;              /* 0 = any free port */
    const char *cert_file; /* PEM */
    const char *key_file;  /* PEM */
    const char *web_root;  /* NULL or "": no web client (HTTP requests get 404) */
    /* browser origins allowed besides the daemon's own (https://HOST of the request); the
     * strings stay borrowed for the transport's life */
    const char *const *origins;
    size_t n_origins;
    /* connections counted at accept (conn_limits.h); max_queued_per_addr is the transport's */
    struct ses_conn_caps caps;
};

/* Starts listening on loop. cbs/ud stay borrowed for the transport's life. On success *out is
 * set and *port_out holds the bound port. Errors: SES_EIO (TLS files, bind, lws failure). */
int ses_transport_start(uv_loop_t *loop, const struct ses_transport_opts *opts,
                        const struct ses_transport_cbs *cbs, void *ud, struct ses_transport **out,
                        int *port_out);

/* Begins shutdown: every connection is closed (on_close runs for each) and lws releases its
 * handles; keep running the loop until it is dry, then call ses_transport_free(). */
void ses_transport_stop(struct ses_transport *tp);
/* Frees the transport after ses_transport_stop() and the loop has run dry. NULL-safe. */
void ses_transport_free(struct ses_transport *tp);

/* Queues a copy of data[0..len) as one text frame. Returns 0, or SES_ECLOSED if the connection is
 * closing, SES_ENOMEM, or SES_ETOO_LARGE when the outgoing queue passed its cap (the connection is
 * then closed). */
int ses_transport_send(struct ses_tconn *tc, const char *data, size_t len);

/* Closes after the queued frames are written, with a WebSocket close code and short reason. */
void ses_transport_close(struct ses_tconn *tc, int code, const char *reason);

/* The connection logged in: from now on it no longer counts against the caps on connections
 * that have not (max_unauth_per_ip, max_unauth). */
void ses_transport_set_authed(struct ses_tconn *tc);

/* Largest incoming frame accepted from now on. */
void ses_transport_set_limit(struct ses_tconn *tc, size_t max_frame);

/* Closes the connection after secs seconds unless cleared with secs = 0. */
void ses_transport_set_timeout(struct ses_tconn *tc, int secs);

#endif
