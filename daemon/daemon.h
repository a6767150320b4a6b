/*
 * daemon.h - struct ses_daemon, the handles of sesamed's modules (the loop, config, clock, store,
 * keys, transport, session registry, writer, alert engine, audit log), and its entry points:
 * `init` (create a data directory) and `serve` (run the event loop). Each module keeps its own
 * state in its own struct; only daemon.c wires them together.
 */
#ifndef SESAME_DAEMON_H
#define SESAME_DAEMON_H

#include <stdbool.h>

#include <uv.h>

#include "alert_engine.h"
#include "auditlog.h"
#include "clock.h"
#include "config.h"
#include "keys.h"
#include "registry.h"
#include "store.h"
#include "transport.h"
#include "writer.h"

struct ses_session;
struct ses_roster_cache;

struct ses_daemon {
    uv_loop_t loop;
    struct ses_config cfg;
    struct ses_clock clock;
    struct ses_store *store;
    struct ses_server_keys *keys;
    struct ses_auditlog audit; /* checkpoints and retention (auditlog.h) */
    struct ses_transport *tp;
    uv_signal_t sig_term, sig_int;
    uv_timer_t grace;             /* bounds the wait for close handshakes at shutdown */
    struct ses_registry sessions; /* every open connection (registry.h) */
    struct ses_writer *writer;    /* group commit for the message path */
    struct ses_alerts alerts;     /* the alert engine's timers (alert_engine.h) */
    bool stopping;
    int port;
    /* thread rosters for the send path (roster_cache.h) */
    struct ses_roster_cache *rosters;
    /* failed pre-login attempts per address, device and ticket (throttle.h), and the timer that
     * writes their aggregated audit records (handle_auth.c) */
    struct ses_throttle *throttle;
    uv_timer_t throttle_timer;
};

/* `sesamed init`: creates dir (0700) with the database, the server key, a commented config file,
 * and a first admin user with a single-use enrolment code, which it prints (JSON when json).
 * Refuses, changing nothing, if dir already holds a database or key. Returns the exit status. */
int ses_daemon_init_data(const char *dir, bool json, const char *admin_name);

/* `sesamed log-key`: prints the audit log's verifier key (vkey) for auditors to pin. */
int ses_daemon_print_log_key(const char *dir);
/* `sesamed log-key --data DIR --new`: creates a new audit log key where DIR's is missing (never
 * over an existing one), records it in the log (audit.log_key_new, the new verifier key as its
 * object) and prints the verifier key. Returns the exit status. */
int ses_daemon_new_log_key(const char *dir);

/* `sesamed check --data DIR`: the start-up checks offline (files present, database writable and
 * undamaged, audit rows all in the tree, keys matching); prints the result. Returns the exit
 * status: 0 sound, 1 a fault (named on stderr), 2 a bad argument. */
int ses_daemon_check(const char *dir);

/* `sesamed serve`: runs until SIGTERM/SIGINT. Returns the exit status (0 on clean shutdown). */
int ses_daemon_serve(const struct ses_config *cfg);

/* Called by the session layer when a session ends: finishes a shutdown once the last one is gone.
 */
void ses_daemon_session_gone(struct ses_daemon *d);

#endif
