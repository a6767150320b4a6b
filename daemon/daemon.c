/*
 * daemon.c - wiring: `init` creates a data directory; `serve` owns the libuv loop, signals, the
 * store, the server keys and the transport, and shuts them down in order (daemon.h).
 *
 * Shutdown order (libwebsockets-notes.md): stop accepting and close every connection
 * (lws_context_destroy), close our own handles, run the loop until it is dry, close the store,
 * then uv_loop_close() must return 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/err.h"

#include "alert_engine.h"
#include "daemon.h"
#include "enrol_code.h"
#include "log.h"
#include "reserve.h"
#include "throttle.h"
#include "roster_cache.h"
#include "session.h"

static int path_join(char *out, size_t cap, const char *dir, const char *file)
{
    int n = snprintf(out, cap, "%s/%s", dir, file);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    size_t n = strlen(text);
    int rc = write(fd, text, n) == (ssize_t)n ? 0 : -1;
    close(fd);
    return rc;
}

/* `sesamed init`'s one transaction: the server id, the init record, the first admin and its code.
 */
struct init_txn {
    const struct ses_server_keys *keys;
    const struct ses_user *admin;
    const char *object;
    int64_t now, expires;
    char *code;
};

static int run_init(struct ses_store *st, void *arg)
{
    struct init_txn *t = arg;
    struct ses_audit_rec rec_init = {.ts_ms = t->now, .action = "init", .outcome = "ok"};
    struct ses_audit_rec rec_inv = {
        .ts_ms = t->now, .action = "user.invite", .object = t->object, .outcome = "ok"};
    int rc;
    if ((rc = ses_store_meta_put(st, "server_id", t->keys->server_id, 16)) != 0 ||
        (rc = ses_store_audit_append(st, &rec_init, NULL)) != 0 ||
        (rc = ses_store_user_insert(st, t->admin)) != 0 ||
        (rc = ses_enrol_code_new(st, t->keys->pepper, t->admin->id, t->now, SES_CODE_TTL_DEFAULT_S,
                                 t->code, &t->expires)) != 0)
        return rc;
    return ses_store_audit_append(st, &rec_inv, NULL);
}

int ses_daemon_init_data(const char *dir, bool json, const char *admin_name)
{
    struct ses_server_keys *keys = NULL;
    struct ses_log_key *log_key = NULL;
    struct ses_store *store = NULL;
    struct ses_clock clock = {0};
    char db_path[SES_PATH_MAX], key_path[SES_PATH_MAX], conf_path[SES_PATH_MAX];
    char log_path[SES_PATH_MAX], vkey[512];
    char code[SES_CODE_TEXT_LEN + 1], user_txt[SES_ID_TEXT_LEN + 1], sid[64];
    struct ses_user admin;
    int64_t expires = 0, now;
    int rc, status = 1;
    bool created_dir = false;

    if (path_join(db_path, sizeof db_path, dir, SES_DB_FILE) != 0 ||
        path_join(key_path, sizeof key_path, dir, SES_KEY_FILE) != 0 ||
        path_join(conf_path, sizeof conf_path, dir, SES_CONF_FILE) != 0 ||
        path_join(log_path, sizeof log_path, dir, SES_LOG_KEY_FILE) != 0) {
        fprintf(stderr, "sesamed: data directory path too long\n");
        return 2;
    }
    if (access(db_path, F_OK) == 0 || access(key_path, F_OK) == 0 || access(log_path, F_OK) == 0) {
        fprintf(stderr, "sesamed: %s already holds a Sesame data directory; refusing to touch it\n",
                dir);
        return 1;
    }
    if (mkdir(dir, 0700) == 0)
        created_dir = true;
    else if (errno != EEXIST) {
        fprintf(stderr, "sesamed: cannot create %s: %s\n", dir, strerror(errno));
        return 1;
    }
    umask(077);
    if (ses_server_keys_create(key_path, &keys) != 0 ||
        ses_log_key_create(log_path, &log_key) != 0) {
        fprintf(stderr, "sesamed: cannot create the server keys in %s\n", dir);
        goto fail;
    }
    if ((rc = ses_store_open(db_path, true, &store)) != 0) {
        fprintf(stderr, "sesamed: cannot create the database %s: %s\n", db_path, ses_err_msg(rc));
        goto fail;
    }
    now = ses_clock_now_ms(&clock);
    memset(&admin, 0, sizeof admin);
    randombytes_buf(admin.id, sizeof admin.id);
    admin.role = SES_ROLE_ADMIN;
    snprintf(admin.name, sizeof admin.name, "%s", admin_name);
    admin.created_ms = now;
    ses_id_to_text(user_txt, admin.id);
    char object[64];
    snprintf(object, sizeof object, "user:%s", user_txt);
    struct init_txn t = {.keys = keys, .admin = &admin, .object = object, .now = now, .code = code};
    if ((rc = ses_store_txn(store, run_init, &t)) == 0)
        expires = t.expires;
    if (rc != 0) {
        fprintf(stderr, "sesamed: cannot initialise the database: %s\n", ses_err_msg(rc));
        goto fail;
    }
    if (access(conf_path, F_OK) != 0 && write_file(conf_path, ses_config_template(), 0600) != 0)
        fprintf(stderr, "sesamed: warning: cannot write %s\n", conf_path);
    (void)ses_b64_encode(sid, sizeof sid, keys->server_id, 16);
    (void)ses_auditlog_vkey(vkey, sizeof vkey, keys->server_id, log_key->pk);
    if (json) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "data", dir, "admin_code", code,
                              "admin_user", user_txt, "expires", (json_int_t)expires, "server_id",
                              sid, "log_key", vkey);
        char *text = o ? ses_encode(o) : NULL;
        if (text)
            printf("%s\n", text);
        free(text);
        json_decref(o);
    } else {
        printf("Sesame data directory ready: %s\n"
               "Server id: %s\n"
               "Audit log key (auditors pin it: sesame audit verify --log-key KEY):\n    %s\n"
               "First admin enrolment code (single use, expires in 24 h):\n\n    %s\n\n"
               "Enrol the admin's device with:\n"
               "    sesame enroll --server wss://localhost:PORT --ca CA_FILE --code %s\n",
               dir, sid, vkey, code, code);
    }
    fflush(stdout);
    sodium_memzero(code, sizeof code);
    status = 0;
    ses_store_close(store);
    ses_server_keys_free(keys);
    ses_log_key_free(log_key);
    return status;
fail:
    ses_store_close(store);
    ses_server_keys_free(keys);
    ses_log_key_free(log_key);
    unlink(db_path);
    unlink(log_path);
    char side[SES_PATH_MAX + 8];
    snprintf(side, sizeof side, "%s-wal", db_path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db_path);
    unlink(side);
    unlink(key_path);
    if (created_dir)
        rmdir(dir);
    return status;
}

int ses_daemon_print_log_key(const char *dir)
{
    char key_path[SES_PATH_MAX], log_path[SES_PATH_MAX], vkey[512];
    struct ses_server_keys *keys = NULL;
    struct ses_log_key *lk = NULL;
    int status = 1;
    if (path_join(key_path, sizeof key_path, dir, SES_KEY_FILE) != 0 ||
        path_join(log_path, sizeof log_path, dir, SES_LOG_KEY_FILE) != 0)
        return 2;
    if (ses_server_keys_load(key_path, &keys) == 0 && ses_log_key_load(log_path, &lk) == 0 &&
        ses_auditlog_vkey(vkey, sizeof vkey, keys->server_id, lk->pk) == 0) {
        printf("%s\n", vkey);
        status = 0;
    } else {
        fprintf(stderr,
                "sesamed: cannot read the keys of %s (a lost log key is replaced with "
                "sesamed log-key --data DIR --new)\n",
                dir);
    }
    ses_server_keys_free(keys);
    ses_log_key_free(lk);
    return status;
}

struct new_key_txn {
    const char *object;
    int64_t now;
};

static int run_new_key(struct ses_store *st, void *arg)
{
    const struct new_key_txn *t = arg;
    struct ses_audit_rec rec = {
        .ts_ms = t->now, .action = "audit.log_key_new", .object = t->object, .outcome = "ok"};
    return ses_store_audit_append(st, &rec, NULL);
}

int ses_daemon_new_log_key(const char *dir)
{
    char key_path[SES_PATH_MAX], log_path[SES_PATH_MAX], db_path[SES_PATH_MAX], vkey[512];
    char ckpt_path[SES_PATH_MAX];
    struct ses_server_keys *keys = NULL;
    struct ses_log_key *lk = NULL;
    struct ses_store *store = NULL;
    struct ses_clock clock = {0};
    int rc, status = 1;
    if (path_join(key_path, sizeof key_path, dir, SES_KEY_FILE) != 0 ||
        path_join(log_path, sizeof log_path, dir, SES_LOG_KEY_FILE) != 0 ||
        path_join(db_path, sizeof db_path, dir, SES_DB_FILE) != 0)
        return 2;
    if (access(log_path, F_OK) == 0) {
        fprintf(stderr, "sesamed: %s exists; refusing to replace the audit log's key\n", log_path);
        return 1;
    }
    umask(077);
    if (ses_server_keys_load(key_path, &keys) != 0 ||
        (rc = ses_store_open(db_path, false, &store)) != 0 ||
        (rc = ses_store_selfcheck(store, db_path)) != 0) {
        fprintf(stderr, "sesamed: cannot open the data directory %s\n", dir);
        goto out;
    }
    if (ses_log_key_create(log_path, &lk) != 0 ||
        ses_auditlog_vkey(vkey, sizeof vkey, keys->server_id, lk->pk) != 0) {
        fprintf(stderr, "sesamed: cannot create %s\n", log_path);
        goto out;
    }
    struct new_key_txn t = {.object = vkey, .now = ses_clock_now_ms(&clock)};
    if ((rc = ses_store_txn(store, run_new_key, &t)) != 0) {
        fprintf(stderr, "sesamed: cannot record the new key in %s: %s\n", db_path, ses_err_msg(rc));
        unlink(log_path);
        goto out;
    }
    if (path_join(ckpt_path, sizeof ckpt_path, dir, SES_CKPT_FILE) != 0 ||
        ses_auditlog_file_sign(ckpt_path, store, keys->server_id, lk) != 0) {
        fprintf(stderr, "sesamed: cannot write %s/%s\n", dir, SES_CKPT_FILE);
        goto out;
    }
    printf("%s\n", vkey);
    fprintf(stderr, "sesamed: a new audit log key was created and recorded in the log "
                    "(audit.log_key_new); auditors pin it with sesame audit verify --log-key KEY "
                    "--repin\n");
    status = 0;
out:
    ses_store_close(store);
    ses_server_keys_free(keys);
    ses_log_key_free(lk);
    return status;
}

static int write_ready_file(const char *path, int port)
{
    char tmp[SES_PATH_MAX + 8], text[64];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(text, sizeof text, "port=%d\npid=%ld\n", port, (long)getpid());
    unlink(tmp);
    if (write_file(tmp, text, 0644) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

#define SES_SHUTDOWN_GRACE_MS 1000 /* time given to clients to complete the close handshake */

/* Second half of shutdown: the sessions are closed (or the grace time is over). */
static void finish_stop(struct ses_daemon *d)
{
    if (d->tp == NULL || uv_is_closing((uv_handle_t *)&d->grace))
        return;
    uv_timer_stop(&d->grace);
    uv_close((uv_handle_t *)&d->grace, NULL);
    ses_alerts_stop(d);
    ses_auth_throttle_stop(d);  /* its last aggregated records go before the writer stops */
    ses_writer_stop(d->writer); /* commits what is queued; late replies find no session */
    ses_auditlog_stop(&d->audit);
    ses_transport_stop(d->tp);
    uv_signal_stop(&d->sig_term);
    uv_signal_stop(&d->sig_int);
    uv_close((uv_handle_t *)&d->sig_term, NULL);
    uv_close((uv_handle_t *)&d->sig_int, NULL);
}

static void on_grace(uv_timer_t *t)
{
    finish_stop(t->data);
}

void ses_daemon_session_gone(struct ses_daemon *d)
{
    if (d->stopping && d->sessions.n == 0)
        finish_stop(d);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct ses_daemon *d = h->data;
    if (d->stopping)
        return;
    d->stopping = true;
    SES_LOG(SES_LOG_NOTICE, "daemon", "signal %d: shutting down", signum);
    if (d->sessions.n == 0) {
        finish_stop(d);
        return;
    }
    ses_sessions_close_all(d); /* close 1001; each on_close counts down */
    uv_timer_start(&d->grace, on_grace, SES_SHUTDOWN_GRACE_MS, 0);
}

/* server.start and server.stop, with no actor. */
static int run_server_event(struct ses_store *st, void *arg)
{
    struct ses_audit_rec *rec = arg;
    return ses_store_audit_append(st, rec, NULL);
}

static void done_server_event(void *arg, int rc)
{
    struct ses_audit_rec *rec = arg;
    if (rc != 0)
        SES_LOG(SES_LOG_ERR, "daemon", "the %s audit record could not be written: %s", rec->action,
                ses_err_name(rc));
    free(rec);
}

/* Through the writer while serving; directly on st once the loop has ended (shutdown). */
static void audit_server_event(struct ses_daemon *d, struct ses_store *st, const char *action)
{
    struct ses_audit_rec *rec = calloc(1, sizeof *rec);
    if (rec == NULL) {
        SES_LOG(SES_LOG_WARN, "daemon", "cannot write the %s audit record: out of memory", action);
        return;
    }
    rec->ts_ms = ses_clock_now_ms(&d->clock);
    rec->action = action;
    rec->outcome = "ok";
    if (st == NULL) {
        int rc = ses_writer_submit_essential(d->writer, run_server_event, done_server_event, rec);
        if (rc != 0)
            done_server_event(rec, rc);
        return;
    }
    char db_path[SES_PATH_MAX];
    int rc = ses_store_txn(st, run_server_event, rec);
    if (rc == SES_ESTORAGE_FULL &&
        path_join(db_path, sizeof db_path, d->cfg.data, SES_DB_FILE) == 0 &&
        ses_reserve_release(db_path))
        rc = ses_store_txn(st, run_server_event, rec); /* the reserve's room is for this */
    done_server_event(rec, rc);
}

/* A start-up that fails once the writer runs: the writer finishes, the loop closes its handles
 * (the caller has asked for the others to be closed). */
static void abandon_start(struct ses_daemon *d)
{
    ses_auth_throttle_stop(d);
    ses_writer_stop(d->writer);
    uv_run(&d->loop, UV_RUN_DEFAULT);
    ses_writer_free(d->writer);
    d->writer = NULL;
    uv_loop_close(&d->loop);
}

/* The start-up checks, shared by `serve` and `check`: dir holds a database, its server keys, and
 * the audit log's key; the database passes its self-check and belongs to those keys. Logs the
 * fault naming the file; on success *keys and *store are the caller's. Returns 0 or an SES_E*. */
static int open_checked(const char *dir, const char *db_path, const char *key_path,
                        const char *log_path, struct ses_server_keys **keys,
                        struct ses_log_key **lk, struct ses_store **store)
{
    char ckpt_path[SES_PATH_MAX];
    uint8_t stored_id[16];
    size_t stored_len = 0;
    int rc;
    if (access(db_path, F_OK) != 0) {
        SES_LOG(SES_LOG_ERR, "daemon", "%s is not a Sesame data directory (run sesamed init)", dir);
        return SES_ENOT_FOUND;
    }
    if ((rc = ses_server_keys_load(key_path, keys)) != 0)
        return rc;
    if (access(log_path, F_OK) != 0) {
        /* never replaced silently: auditors would then see "not signed by the pinned key" */
        SES_LOG(SES_LOG_ERR, "daemon",
                "%s: missing: the audit log's signing key is gone; restore it from the backup, or "
                "create a new one with `sesamed log-key --data %s --new` (audited; auditors then "
                "pin the new key); refusing to start",
                log_path, dir);
        return SES_ENOT_FOUND;
    }
    if ((rc = ses_log_key_load(log_path, lk)) != 0 ||
        (rc = ses_store_open(db_path, false, store)) != 0 ||
        (rc = ses_store_selfcheck(*store, db_path)) != 0)
        return rc;
    if (ses_store_meta_get(*store, "server_id", stored_id, sizeof stored_id, &stored_len) != 0 ||
        stored_len != 16 || sodium_memcmp(stored_id, (*keys)->server_id, 16) != 0) {
        SES_LOG(SES_LOG_ERR, "daemon", "%s does not belong to the database in %s", key_path, dir);
        return SES_ECONFLICT;
    }
    if (path_join(ckpt_path, sizeof ckpt_path, dir, SES_CKPT_FILE) != 0)
        return SES_EINVALID_ARG;
    return ses_auditlog_file_check(ckpt_path, *store, (*keys)->server_id, (*lk)->pk);
}

int ses_daemon_check(const char *dir)
{
    char key_path[SES_PATH_MAX], log_path[SES_PATH_MAX], db_path[SES_PATH_MAX];
    struct ses_server_keys *keys = NULL;
    struct ses_log_key *lk = NULL;
    struct ses_store *store = NULL;
    uint64_t size = 0;
    int status = 1;
    if (path_join(key_path, sizeof key_path, dir, SES_KEY_FILE) != 0 ||
        path_join(log_path, sizeof log_path, dir, SES_LOG_KEY_FILE) != 0 ||
        path_join(db_path, sizeof db_path, dir, SES_DB_FILE) != 0)
        return 2;
    if (open_checked(dir, db_path, key_path, log_path, &keys, &lk, &store) == 0 &&
        ses_store_audit_size(store, &size) == 0) {
        printf("%s: ok: schema %d, %llu audit records, keys match\n", dir, SES_SCHEMA_VERSION,
               (unsigned long long)size);
        status = 0;
    } else {
        fprintf(stderr, "sesamed: %s: the check failed (the fault is named above)\n", dir);
    }
    ses_store_close(store);
    ses_server_keys_free(keys);
    ses_log_key_free(lk);
    return status;
}

int ses_daemon_serve(const struct ses_config *cfg)
{
    struct ses_daemon *d = calloc(1, sizeof *d);
    char db_path[SES_PATH_MAX], key_path[SES_PATH_MAX], log_path[SES_PATH_MAX];
    int status = 1, rc;
    if (d == NULL)
        return 1;
    d->cfg = *cfg;
    ses_log_set_level(cfg->log_level);
#ifdef SESAME_TEST_HOOKS
    if (cfg->test_hooks)
        ses_clock_advance(&d->clock, (int64_t)cfg->test_clock_offset_s * 1000);
#endif
    if (path_join(db_path, sizeof db_path, cfg->data, SES_DB_FILE) != 0 ||
        path_join(key_path, sizeof key_path, cfg->data, SES_KEY_FILE) != 0) {
        free(d);
        return 2;
    }
    if (path_join(log_path, sizeof log_path, cfg->data, SES_LOG_KEY_FILE) != 0)
        goto out_free;
    if ((rc = open_checked(cfg->data, db_path, key_path, log_path, &d->keys, &d->audit.key,
                           &d->store)) != 0 ||
        path_join(d->audit.ckpt_file, sizeof d->audit.ckpt_file, cfg->data, SES_CKPT_FILE) != 0)
        goto out_free;
    if ((d->rosters = ses_roster_cache_new(SES_ROSTER_CACHE_MAX)) == NULL)
        goto out_free;
    if (uv_loop_init(&d->loop) != 0)
        goto out_free;
    if (ses_writer_start(&d->loop, db_path, &d->writer) != 0) {
        uv_run(&d->loop, UV_RUN_DEFAULT);
        uv_loop_close(&d->loop);
        goto out_free;
    }
    if (ses_auth_throttle_start(d) != 0) {
        SES_LOG(SES_LOG_ERR, "daemon", "out of memory");
        abandon_start(d);
        goto out_free;
    }
    d->audit.store = d->store;
    d->audit.writer = d->writer;
    d->audit.clock = &d->clock;
    d->audit.cfg = &d->cfg;
    ses_writer_on_delivered(d->writer, ses_auditlog_after_write, &d->audit);
    /* from here on every write is a writer job: the loop's connection refuses changes */
    if (ses_store_set_read_only(d->store, true) != 0) {
        SES_LOG(SES_LOG_ERR, "daemon", "cannot make the loop's connection to %s read-only",
                db_path);
        abandon_start(d);
        goto out_free;
    }
    bool term_ok = uv_signal_init(&d->loop, &d->sig_term) == 0;
    bool int_ok = term_ok && uv_signal_init(&d->loop, &d->sig_int) == 0;
    if (!int_ok) {
        SES_LOG(SES_LOG_ERR, "daemon", "cannot set up the SIGTERM and SIGINT handlers");
        if (term_ok)
            uv_close((uv_handle_t *)&d->sig_term, NULL);
        abandon_start(d);
        goto out_free;
    }
    (void)uv_timer_init(&d->loop, &d->grace); /* a timer's init cannot fail (libuv) */
    d->sig_term.data = d->sig_int.data = d->grace.data = d;
    uv_signal_start(&d->sig_term, on_signal, SIGTERM);
    uv_signal_start(&d->sig_int, on_signal, SIGINT);

    const char *origin_list[SES_CONF_MAX_ORIGINS];
    for (int i = 0; i < cfg->n_origins; i++)
        origin_list[i] = d->cfg.origins[i]; /* d->cfg outlives the transport */
    struct ses_transport_opts topts = {.host = cfg->listen_host,
                                       .port = cfg->listen_port,
                                       .cert_file = cfg->cert,
                                       .key_file = cfg->key,
                                       .web_root = cfg->web_root,
                                       .origins = origin_list,
                                       .n_origins = (size_t)cfg->n_origins,
                                       .caps = {.max_total = cfg->max_conns,
                                                .max_per_addr = cfg->max_conns_per_ip,
                                                .max_unauth_per_addr = cfg->max_unauth_per_ip,
                                                .max_unauth_total = cfg->max_unauth}};
    if (ses_transport_start(&d->loop, &topts, &ses_session_cbs, d, &d->tp, &d->port) != 0) {
        uv_close((uv_handle_t *)&d->grace, NULL);
        uv_close((uv_handle_t *)&d->sig_term, NULL);
        uv_close((uv_handle_t *)&d->sig_int, NULL);
        abandon_start(d);
        goto out_free;
    }
    audit_server_event(d, NULL, "server.start");
    if (ses_auditlog_start(&d->audit, &d->loop, d->keys->server_id) != 0) {
        SES_LOG(SES_LOG_ERR, "daemon", "cannot start the audit log's timers");
        status = 1;
        d->stopping = true;
        finish_stop(d);
    }
    ses_alerts_start(d); /* escalations due while the daemon was down fire now */
    SES_LOG(SES_LOG_NOTICE, "daemon", "listening on wss://%s:%d (subprotocol sesame.1)",
            cfg->listen_host, d->port);
    status = 0;
    if (cfg->ready_file[0] && write_ready_file(cfg->ready_file, d->port) != 0) {
        SES_LOG(SES_LOG_ERR, "daemon", "cannot write ready file %s", cfg->ready_file);
        status = 1;
        d->stopping = true;
        finish_stop(d);
    }
    uv_run(&d->loop, UV_RUN_DEFAULT);
    ses_transport_free(d->tp);
    ses_writer_free(d->writer);
    d->writer = d->audit.writer = NULL;
    if (d->sessions.n != 0) {
        SES_LOG(SES_LOG_ERR, "daemon", "%d sessions left at shutdown", d->sessions.n);
        status = 1;
    }
    /* the loop and the writer are done: the last records go on the loop's connection */
    if (ses_store_set_read_only(d->store, false) != 0)
        status = 1;
    if (status == 0)
        audit_server_event(d, d->store, "server.stop");
    (void)ses_auditlog_checkpoint(&d->audit); /* the final checkpoint covers server.stop */
    rc = uv_loop_close(&d->loop);
    if (rc != 0) {
        SES_LOG(SES_LOG_ERR, "daemon", "uv_loop_close: %s", uv_strerror(rc));
        status = 1;
    }
    if (cfg->ready_file[0])
        unlink(cfg->ready_file);
    SES_LOG(SES_LOG_NOTICE, "daemon", "stopped");
out_free:
    ses_throttle_free(d->throttle);
    ses_roster_cache_free(d->rosters);
    ses_store_close(d->store);
    ses_server_keys_free(d->keys);
    ses_log_key_free(d->audit.key);
    free(d);
    return status;
}
