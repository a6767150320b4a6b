/*
 * harness.c - the integration-test harness (see harness.h): temp dirs, subprocesses with
 * deadlines, the real sesamed started on port 0 and stopped with SIGTERM, the real CLI, and a
 * read-only view of the daemon's SQLite database.
 *
 * Short-lived programs (CLI, sesamed init, openssl) run through posix_spawn in their own process
 * group, killed as a group at their deadline. The long-lived daemon is started with fork+execve
 * instead, because only that lets the child ask for PR_SET_PDEATHSIG: if the test process dies
 * (a crash, or CTest killing it at its timeout) the daemon dies with it. An atexit handler also
 * kills any daemon still registered, so no process is ever left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "harness.h"
#include "sesame/encode.h"
#include "sesame/err.h"

extern char **environ;

/* --- small utilities ------------------------------------------------------------------------ */

uint64_t h_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int64_t h_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

char *h_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    return s;
}

char *h_path(const char *dir, const char *name)
{
    return h_fmt("%s/%s", dir, name);
}

char *h_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            close(fd);
            return NULL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    if (len != NULL)
        *len = n;
    return buf;
}

int h_write_file(const char *path, const char *data, size_t len, bool append)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0600);
    if (fd < 0)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    return close(fd) == 0 ? 0 : -1;
}

bool h_contains(const char *hay, size_t hay_len, const void *needle, size_t needle_len)
{
    if (needle_len == 0)
        return true;
    return memmem(hay, hay_len, needle, needle_len) != NULL;
}

bool h_dir_contains(const char *dir, const char *text)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    bool found = false;
    struct dirent *de;
    while (!found && (de = readdir(d)) != NULL) {
        char *path = h_path(dir, de->d_name);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            size_t len = 0;
            char *data = h_read_file(path, &len); /* NULL: a -wal or -shm gone at a checkpoint */
            found = data != NULL && h_contains(data, len, text, strlen(text));
            free(data);
        }
        free(path);
    }
    closedir(d);
    return found;
}

void h_expect_users(const json_t *arr, const char (*users)[40], int n_users, unsigned mask)
{
    assert_true(json_is_array(arr));
    assert_int_equal(json_array_size(arr), (size_t)__builtin_popcount(mask));
    size_t i;
    const json_t *v;
    json_array_foreach(arr, i, v)
    {
        int found = -1;
        for (int u = 0; u < n_users; u++)
            if ((mask & (1u << u)) && strcmp(json_string_value(v), users[u]) == 0)
                found = u;
        if (found < 0)
            fail_msg("unexpected user %s", json_string_value(v));
    }
}

char *h_mkdtemp_ok(const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    char *tmpl = h_fmt("%s/sesame-integ-%s-XXXXXX", base, tag);
    if (mkdtemp(tmpl) == NULL)
        fail_msg("mkdtemp(%s): %s", tmpl, strerror(errno));
    return tmpl;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

int h_rmtree(const char *path)
{
    if (path == NULL)
        return 0;
    return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

const char *h_ca_file(void)
{
    return SESAME_CERTS_DIR "/ca.crt";
}

const char *h_cert_file(void)
{
    return SESAME_CERTS_DIR "/server.crt";
}

const char *h_key_file(void)
{
    return SESAME_CERTS_DIR "/server.key";
}

/* --- growable buffer -------------------------------------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    buf_add(b, s, (size_t)n);
    free(s);
}

static char *buf_take(struct buf *b)
{
    if (b->p == NULL)
        buf_add(b, "", 0);
    char *p = b->p;
    memset(b, 0, sizeof *b);
    return p;
}

/* --- subprocesses ----------------------------------------------------------------------------- */

static char **build_env(const char *const extra[])
{
    size_t n = 0, m = 0;
    for (char **e = environ; *e != NULL; e++)
        n++;
    if (extra != NULL)
        while (extra[m] != NULL)
            m++;
    char **env = calloc(n + m + 1, sizeof *env);
    assert_non_null(env);
    size_t k = 0;
    for (char **e = environ; *e != NULL; e++) {
        const char *eq = strchr(*e, '=');
        size_t kl = eq != NULL ? (size_t)(eq - *e) : strlen(*e);
        bool overridden = false;
        for (size_t i = 0; i < m; i++)
            if (strncmp(extra[i], *e, kl) == 0 && extra[i][kl] == '=')
                overridden = true;
        if (!overridden)
            env[k++] = *e;
    }
    for (size_t i = 0; i < m; i++)
        env[k++] = (char *)extra[i];
    env[k] = NULL;
    return env;
}

static int exit_code(int st)
{
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -2;
}

int h_run(const char *const argv[], const char *const extra_env[], const char *stdin_path,
          int timeout_ms, struct h_proc *p)
{
    struct buf out = {0}, err = {0};
    int po[2], pe[2];
    memset(p, 0, sizeof *p);
    if (pipe2(po, O_CLOEXEC) != 0)
        return -1;
    if (pipe2(pe, O_CLOEXEC) != 0) {
        close(po[0]);
        close(po[1]);
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, dflt;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, stdin_path ? stdin_path : "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigemptyset(&dflt);
    sigaddset(&dflt, SIGPIPE);
    sigaddset(&dflt, SIGTERM);
    sigaddset(&dflt, SIGINT);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &dflt);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    char **env = build_env(extra_env);
    pid_t pid = 0;
    uint64_t t0 = h_mono_ms();
    int rc = strchr(argv[0], '/') != NULL
                 ? posix_spawn(&pid, argv[0], &fa, &at, (char *const *)argv, env)
                 : posix_spawnp(&pid, argv[0], &fa, &at, (char *const *)argv, env);
    free(env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        print_error("posix_spawn(%s): %s\n", argv[0], strerror(rc));
        return -1;
    }

    uint64_t deadline = t0 + (uint64_t)timeout_ms;
    uint64_t drain_deadline = 0;
    bool killed = false;
    struct pollfd fds[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    struct buf *bufs[2] = {&out, &err};
    int open_fds = 2;
    while (open_fds > 0) {
        uint64_t now = h_mono_ms();
        if (!killed && now >= deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            killed = true;
            drain_deadline = now + 2000;
        }
        if (killed && now >= drain_deadline)
            break; /* something else holds the pipe: give up reading */
        int wait = (int)((killed ? drain_deadline : deadline) - now);
        int n = poll(fds, 2, wait);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char chunk[16384];
            ssize_t r = read(fds[i].fd, chunk, sizeof chunk);
            if (r > 0) {
                buf_add(bufs[i], chunk, (size_t)r);
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);

    /* The pipes are closed; the child may still be running: wait with the same deadline. */
    int st = 0;
    for (;;) {
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            st = -1;
            break;
        }
        if (!killed && h_mono_ms() >= deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            killed = true;
        }
        h_sleep_ms(2);
    }
    if (killed)
        kill(-pid, SIGKILL); /* stragglers of the group */
    p->elapsed_ms = h_mono_ms() - t0;
    p->timed_out = killed;
    p->status = killed ? -1 : exit_code(st);
    p->out_len = out.len;
    p->out = buf_take(&out);
    p->err_len = err.len;
    p->err = buf_take(&err);
    return 0;
}

void h_proc_free(struct h_proc *p)
{
    if (p == NULL)
        return;
    free(p->out);
    free(p->err);
    memset(p, 0, sizeof *p);
}

/* --- JSON helpers ----------------------------------------------------------------------------- */

const char *h_jstr(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) {
        char *s = json_dumps(o, JSON_COMPACT);
        print_error("field \"%s\" is not a string in %s\n", key, s ? s : "?");
        free(s);
        fail();
    }
    return json_string_value(v);
}

int64_t h_jint(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v)) {
        char *s = json_dumps(o, JSON_COMPACT);
        print_error("field \"%s\" is not an integer in %s\n", key, s ? s : "?");
        free(s);
        fail();
    }
    return (int64_t)json_integer_value(v);
}

void h_jnull(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_null(v)) {
        char *s = json_dumps(o, JSON_COMPACT);
        print_error("field \"%s\" is not null in %s\n", key, s ? s : "?");
        free(s);
        fail();
    }
}

static json_t *parse_one_object(const char *text, size_t len)
{
    json_error_t jerr;
    /* No JSON_DISABLE_EOF_CHECK: anything after the one object (but whitespace) is an error. */
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* --- the daemon ------------------------------------------------------------------------------- */

#define H_MAX_LIVE 16
static pid_t live_pids[H_MAX_LIVE];
static bool atexit_done;

static void kill_live(void)
{
    for (int i = 0; i < H_MAX_LIVE; i++) {
        if (live_pids[i] > 0) {
            kill(live_pids[i], SIGKILL);
            waitpid(live_pids[i], NULL, 0);
            live_pids[i] = 0;
        }
    }
}

static void live_add(pid_t pid)
{
    if (!atexit_done) {
        atexit(kill_live);
        atexit_done = true;
    }
    for (int i = 0; i < H_MAX_LIVE; i++) {
        if (live_pids[i] == 0) {
            live_pids[i] = pid;
            return;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("too many daemons");
}

static void live_del(pid_t pid)
{
    for (int i = 0; i < H_MAX_LIVE; i++)
        if (live_pids[i] == pid)
            live_pids[i] = 0;
}

__attribute__((constructor)) static void harness_init(void)
{
    /* A peer closing a socket must not kill the test process. */
    signal(SIGPIPE, SIG_IGN);
}

void h_init_ok(const char *data_dir, struct h_init *out)
{
    const char *argv[] = {SESAMED_BIN, "init", "--data", data_dir, "--json", NULL};
    struct h_proc p;
    memset(out, 0, sizeof *out);
    assert_int_equal(h_run(argv, NULL, NULL, H_CLI_TIMEOUT_MS, &p), 0);
    if (p.status != 0) {
        print_error("sesamed init exited %d\nstdout: %s\nstderr: %s\n", p.status, p.out, p.err);
        h_proc_free(&p);
        fail();
    }
    json_t *j = parse_one_object(p.out, p.out_len);
    if (j == NULL) {
        print_error("sesamed init --json: stdout is not exactly one JSON object: [%s]\n", p.out);
        h_proc_free(&p);
        fail();
    }
    h_proc_free(&p);
    out->json = j;
    assert_string_equal(h_jstr(j, "data"), data_dir);
    const char *code = h_jstr(j, "admin_code");
    assert_int_equal(strlen(code), SES_CODE_TEXT_LEN);
    snprintf(out->code, sizeof out->code, "%s", code);
    const char *user = h_jstr(j, "admin_user");
    assert_int_equal(strlen(user), SES_ID_TEXT_LEN);
    snprintf(out->admin_user, sizeof out->admin_user, "%s", user);
    snprintf(out->server_id, sizeof out->server_id, "%s", h_jstr(j, "server_id"));
    out->expires = h_jint(j, "expires");
}

static void print_log_tail(const char *log)
{
    size_t len = 0;
    char *s = h_read_file(log, &len);
    if (s == NULL)
        return;
    size_t from = len > 6000 ? len - 6000 : 0;
    print_error("--- tail of %s ---\n%s\n--- end ---\n", log, s + from);
    free(s);
}

static bool parse_ready(const char *path, int *port, pid_t *pid)
{
    char *s = h_read_file(path, NULL);
    if (s == NULL)
        return false;
    long pt = -1, pd = -1;
    for (char *line = s; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (strncmp(line, "port=", 5) == 0)
            pt = strtol(line + 5, NULL, 10);
        else if (strncmp(line, "pid=", 4) == 0)
            pd = strtol(line + 4, NULL, 10);
        line = nl != NULL ? nl + 1 : NULL;
    }
    free(s);
    if (pt <= 0 || pt > 65535 || pd <= 0)
        return false;
    *port = (int)pt;
    *pid = (pid_t)pd;
    return true;
}

void h_daemon_start_ok(struct h_daemon *d, const char *data_dir, const char *log_path,
                       const char *listen, const char *const extra_args[])
{
    assert_int_equal(d->pid, 0);
    snprintf(d->data, sizeof d->data, "%s", data_dir);
    snprintf(d->log, sizeof d->log, "%s", log_path);
    snprintf(d->ready, sizeof d->ready, "%s.ready", log_path);
    unlink(d->ready);
    d->port = 0;
    d->exit_status = -3;

    const char *argv[64];
    int n = 0;
    argv[n++] = SESAMED_BIN;
    argv[n++] = "serve";
    argv[n++] = "--data";
    argv[n++] = d->data;
    argv[n++] = "--listen";
    argv[n++] = listen != NULL ? listen : "127.0.0.1:0";
    argv[n++] = "--cert";
    argv[n++] = h_cert_file();
    argv[n++] = "--key";
    argv[n++] = h_key_file();
    argv[n++] = "--ready-file";
    argv[n++] = d->ready;
    argv[n++] = "--log-level";
    argv[n++] = "debug";
    for (int i = 0; extra_args != NULL && extra_args[i] != NULL; i++) {
        assert_true(n < 62);
        argv[n++] = extra_args[i];
    }
    argv[n] = NULL;

    /* Everything the child needs is prepared before fork (the test process may have threads). */
    int logfd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(logfd >= 0 && nullfd >= 0);
    char **env = build_env(NULL);
    pid_t parent = getpid();
    sigset_t none;
    sigemptyset(&none);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        dup2(nullfd, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        execve(argv[0], (char *const *)argv, env);
        _exit(127);
    }
    free(env);
    close(logfd);
    close(nullfd);
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    d->pid = pid;
    live_add(pid);

    uint64_t deadline = h_mono_ms() + H_READY_TIMEOUT_MS;
    for (;;) {
        int st;
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            live_del(pid);
            d->pid = 0;
            d->exit_status = exit_code(st);
            print_log_tail(d->log);
            fail_msg("sesamed serve exited with %d before it was ready", d->exit_status);
        }
        int port;
        pid_t rpid;
        if (parse_ready(d->ready, &port, &rpid)) {
            if (rpid != pid) {
                h_daemon_kill(d);
                fail_msg("ready file says pid=%d, the daemon is %d", (int)rpid, (int)pid);
            }
            d->port = port;
            snprintf(d->url, sizeof d->url, "wss://127.0.0.1:%d", port);
            return;
        }
        if (h_mono_ms() >= deadline) {
            h_daemon_kill(d);
            print_log_tail(d->log);
            fail_msg("sesamed serve: no ready file after %d ms", H_READY_TIMEOUT_MS);
        }
        h_sleep_ms(10);
    }
}

int h_daemon_stop(struct h_daemon *d)
{
    if (d->pid <= 0)
        return d->exit_status;
    uint64_t t0 = h_mono_ms();
    kill(d->pid, SIGTERM);
    int st = 0, status = -1;
    for (;;) {
        pid_t w = waitpid(d->pid, &st, WNOHANG);
        if (w == d->pid) {
            status = exit_code(st);
            break;
        }
        if (w < 0 && errno != EINTR) {
            status = -2;
            break;
        }
        if (h_mono_ms() - t0 >= H_STOP_TIMEOUT_MS) {
            print_error("sesamed (pid %d) did not exit %d ms after SIGTERM: SIGKILL\n", (int)d->pid,
                        H_STOP_TIMEOUT_MS);
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
            status = -1;
            break;
        }
        h_sleep_ms(5);
    }
    d->stop_ms = h_mono_ms() - t0;
    live_del(d->pid);
    d->pid = 0;
    d->exit_status = status;
    if (status != 0) {
        print_error("sesamed exited with status %d after SIGTERM\n", status);
        print_log_tail(d->log);
    }
    return status;
}

void h_daemon_kill(struct h_daemon *d)
{
    if (d->pid <= 0)
        return;
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    live_del(d->pid);
    d->pid = 0;
    d->exit_status = 128 + SIGKILL;
}

void h_expect_start_refused(const char *tmp, const char *data, const char *file, const char *fault)
{
    char *ready = h_path(tmp, "ready");
    const char *argv[] = {SESAMED_BIN,    "serve",  "--data",      data,    "--listen",
                          "127.0.0.1:0",  "--cert", h_cert_file(), "--key", h_key_file(),
                          "--ready-file", ready,    NULL};
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, NULL, 10000, &p), 0);
    char *want = h_fmt("%s: %s", file, fault);
    if (p.status <= 0 || p.timed_out || strstr(p.err, want) == NULL) {
        print_error("want a refusal with [%s]; got exit %d%s, stderr [%s]\n", want, p.status,
                    p.timed_out ? " (timed out)" : "", p.err);
        fail();
    }
    assert_int_equal(access(ready, F_OK), -1);
    free(want);
    h_proc_free(&p);
    free(ready);
}

struct h_proc h_run_check(const char *data)
{
    const char *argv[] = {SESAMED_BIN, "check", "--data", data, NULL};
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, NULL, 10000, &p), 0);
    return p;
}

void h_expect_check_refused(const char *data, const char *file, const char *fault)
{
    struct h_proc p = h_run_check(data);
    char *want = h_fmt("%s: %s", file, fault);
    if (p.status != 1 || strstr(p.err, want) == NULL) {
        print_error("check: want exit 1 and [%s]; got exit %d, err [%s]\n", want, p.status, p.err);
        fail();
    }
    free(want);
    h_proc_free(&p);
}

void h_s_client(const struct h_env *e, const char *const extra[], const char *stdin_path,
                int timeout_ms, struct h_proc *p)
{
    char *connect = h_fmt("127.0.0.1:%d", e->d.port);
    const char *argv[32];
    int n = 0;
    argv[n++] = "openssl";
    argv[n++] = "s_client";
    argv[n++] = "-connect";
    argv[n++] = connect;
    argv[n++] = "-servername";
    argv[n++] = "localhost";
    argv[n++] = "-CAfile";
    argv[n++] = h_ca_file();
    argv[n++] = "-verify_return_error";
    for (int i = 0; extra[i] != NULL; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    assert_int_equal(h_run(argv, NULL, stdin_path, timeout_ms, p), 0);
    free(connect);
}

char *h_log_key_ok(const char *data_dir)
{
    const char *argv[] = {SESAMED_BIN, "log-key", "--data", data_dir, NULL};
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, NULL, H_CLI_TIMEOUT_MS, &p), 0);
    char *nl = strchr(p.out, '\n');
    if (p.status != 0 || nl == NULL || nl[1] != '\0' || nl == p.out) {
        print_error("sesamed log-key: exit %d, want 0 and one line\nstdout: [%s]\nstderr: [%s]\n",
                    p.status, p.out, p.err);
        h_proc_free(&p);
        fail();
    }
    char *key = strndup(p.out, (size_t)(nl - p.out));
    h_proc_free(&p);
    assert_non_null(key);
    return key;
}

/* --- the CLI ---------------------------------------------------------------------------------- */

static void cli_run_va(struct h_cli *r, const char *home, const char *const extra_env[], bool json,
                       va_list ap)
{
    const char *argv[64];
    int n = 0;
    memset(r, 0, sizeof *r);
    argv[n++] = SESAME_BIN;
    if (home != NULL) {
        argv[n++] = "--home";
        argv[n++] = home;
    }
    if (json)
        argv[n++] = "--json";
    for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
        if (n >= 62)
            fail_msg("too many CLI arguments");
        argv[n++] = a;
    }
    argv[n] = NULL;
    if (h_run(argv, extra_env, NULL, H_CLI_TIMEOUT_MS, &r->p) != 0)
        fail_msg("cannot run %s", SESAME_BIN);
    if (json && r->p.status == 0)
        r->json = parse_one_object(r->p.out, r->p.out_len);
}

void h_cli_run(struct h_cli *r, const char *home, const char *const extra_env[], ...)
{
    va_list ap;
    va_start(ap, extra_env);
    cli_run_va(r, home, extra_env, true, ap);
    va_end(ap);
}

void h_cli_run_text(struct h_cli *r, const char *home, const char *const extra_env[], ...)
{
    va_list ap;
    va_start(ap, extra_env);
    cli_run_va(r, home, extra_env, false, ap);
    va_end(ap);
}

void h_cli_free(struct h_cli *r)
{
    if (r == NULL)
        return;
    h_proc_free(&r->p);
    json_decref(r->json);
    r->json = NULL;
}

void h_cli_assert_ok(const struct h_cli *r)
{
    if (r->p.status != 0 || r->json == NULL) {
        print_error("sesame exited %d%s\nstdout: [%s]\nstderr: [%s]\n", r->p.status,
                    r->p.status == 0 ? " but stdout is not exactly one JSON object" : "", r->p.out,
                    r->p.err);
        fail();
    }
}

void h_cli_assert_error(const struct h_cli *r, int status, const char *code)
{
    char *want = h_fmt("sesame: error: %s: ", code);
    bool found = strncmp(r->p.err, want, strlen(want)) == 0;
    if (!found) {
        char *nl_want = h_fmt("\n%s", want);
        found = strstr(r->p.err, nl_want) != NULL;
        free(nl_want);
    }
    if (r->p.status != status || !found) {
        print_error("expected exit %d and \"%s...\" on stderr; got exit %d\nstdout: [%s]\n"
                    "stderr: [%s]\n",
                    status, want, r->p.status, r->p.out, r->p.err);
        free(want);
        fail();
    }
    free(want);
}

/* --- background processes --------------------------------------------------------------------
 */

void h_bg_start_ok(struct h_bg *b, const char *const argv[], const char *const extra_env[],
                   const char *out_path, const char *err_path)
{
    memset(b, 0, sizeof *b);
    snprintf(b->out_path, sizeof b->out_path, "%s", out_path);
    snprintf(b->err_path, sizeof b->err_path, "%s", err_path);
    /* Everything the child needs is prepared before fork (as for the daemon). */
    int outfd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int errfd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(outfd >= 0 && errfd >= 0 && nullfd >= 0);
    char **env = build_env(extra_env);
    pid_t parent = getpid();
    sigset_t none;
    sigemptyset(&none);
    b->t0 = h_mono_ms();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        signal(SIGPIPE, SIG_DFL);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setpgid(0, 0);
        dup2(nullfd, 0);
        dup2(outfd, 1);
        dup2(errfd, 2);
        execve(argv[0], (char *const *)argv, env);
        _exit(127);
    }
    free(env);
    close(outfd);
    close(errfd);
    close(nullfd);
    if (pid < 0)
        fail_msg("fork: %s", strerror(errno));
    setpgid(pid, pid); /* also from here: no race with a kill(-pid) right after */
    b->pid = pid;
    live_add(pid);
}

void h_cli_start_ok(struct h_bg *b, const char *dir, const char *tag, const char *home,
                    const char *const extra_env[], ...)
{
    const char *argv[64];
    int n = 0;
    argv[n++] = SESAME_BIN;
    if (home != NULL) {
        argv[n++] = "--home";
        argv[n++] = home;
    }
    argv[n++] = "--json";
    va_list ap;
    va_start(ap, extra_env);
    for (const char *a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *)) {
        if (n >= 62) {
            va_end(ap);
            fail_msg("too many CLI arguments");
        }
        argv[n++] = a;
    }
    va_end(ap);
    argv[n] = NULL;
    char *leaf_out = h_fmt("%s.out", tag), *leaf_err = h_fmt("%s.err", tag);
    char *out = h_path(dir, leaf_out), *err = h_path(dir, leaf_err);
    h_bg_start_ok(b, argv, extra_env, out, err);
    free(leaf_out);
    free(leaf_err);
    free(out);
    free(err);
}

char *h_bg_out(const struct h_bg *b, size_t *len)
{
    size_t n = 0;
    char *s = h_read_file(b->out_path, &n);
    if (s == NULL) {
        s = strdup("");
        assert_non_null(s);
    }
    if (len != NULL)
        *len = n;
    return s;
}

void h_bg_wait(struct h_bg *b, int timeout_ms, struct h_proc *p)
{
    memset(p, 0, sizeof *p);
    uint64_t deadline = h_mono_ms() + (uint64_t)timeout_ms;
    int st = 0;
    bool killed = false;
    while (b->pid > 0) {
        pid_t w = waitpid(b->pid, &st, WNOHANG);
        if (w == b->pid)
            break;
        if (w < 0 && errno != EINTR) {
            st = -1;
            break;
        }
        if (h_mono_ms() >= deadline) {
            kill(-b->pid, SIGKILL);
            kill(b->pid, SIGKILL);
            waitpid(b->pid, &st, 0);
            killed = true;
            break;
        }
        h_sleep_ms(5);
    }
    if (b->pid > 0) {
        if (killed)
            kill(-b->pid, SIGKILL); /* stragglers of the group */
        live_del(b->pid);
    }
    p->elapsed_ms = h_mono_ms() - b->t0;
    p->timed_out = killed;
    p->status = killed ? -1 : b->pid > 0 ? exit_code(st) : -2;
    b->pid = 0;
    p->out = h_read_file(b->out_path, &p->out_len);
    p->err = h_read_file(b->err_path, &p->err_len);
    if (p->out == NULL) {
        p->out = strdup("");
        p->out_len = 0;
    }
    if (p->err == NULL) {
        p->err = strdup("");
        p->err_len = 0;
    }
    assert_true(p->out != NULL && p->err != NULL);
}

void h_bg_kill(struct h_bg *b)
{
    if (b == NULL || b->pid <= 0)
        return;
    kill(-b->pid, SIGKILL);
    kill(b->pid, SIGKILL);
    waitpid(b->pid, NULL, 0);
    live_del(b->pid);
    b->pid = 0;
}

/* --- the database ----------------------------------------------------------------------------- */

static sqlite3 *db_open_ro(const char *path)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
    if (rc != SQLITE_OK) {
        print_error("sqlite3_open_v2(%s, READONLY): %s\n", path,
                    db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        fail();
    }
    sqlite3_busy_timeout(db, 5000);
    return db;
}

static sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        print_error("sqlite: %s: %s\n", sql, sqlite3_errmsg(db));
        sqlite3_close(db);
        fail();
    }
    return st;
}

static void db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        print_error("sqlite: %s: %s\n", sql, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        fail();
    }
}

static bool in_list(const char *const list[], const char *s)
{
    for (int i = 0; list != NULL && list[i] != NULL; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static void dump_value(struct buf *b, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        buf_add(b, "NULL", 4);
        break;
    case SQLITE_INTEGER:
        buf_printf(b, "i:%lld", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        buf_printf(b, "r:%.17g", sqlite3_column_double(st, i));
        break;
    case SQLITE_TEXT: {
        const unsigned char *t = sqlite3_column_text(st, i);
        int n = sqlite3_column_bytes(st, i);
        buf_add(b, "t:\"", 3);
        for (int k = 0; k < n; k++) {
            if (t[k] < 0x20 || t[k] == '"' || t[k] == '\\' || t[k] == 0x7f)
                buf_printf(b, "\\x%02x", t[k]);
            else
                buf_add(b, (const char *)&t[k], 1);
        }
        buf_add(b, "\"", 1);
        break;
    }
    default: {
        const unsigned char *x = sqlite3_column_blob(st, i);
        int n = sqlite3_column_bytes(st, i);
        buf_add(b, "x:", 2);
        for (int k = 0; k < n; k++)
            buf_printf(b, "%02x", x[k]);
        break;
    }
    }
}

char *h_db_dump(const char *db_path, const char *only, const char *const skip[])
{
    sqlite3 *db = db_open_ro(db_path);
    struct buf out = {0};
    char *tables[64];
    int nt = 0;
    db_exec(db, "BEGIN"); /* one read transaction: a consistent snapshot of every table */
    sqlite3_stmt *tl = db_prepare(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                      "name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
    while (sqlite3_step(tl) == SQLITE_ROW && nt < 64)
        tables[nt++] = strdup((const char *)sqlite3_column_text(tl, 0));
    sqlite3_finalize(tl);
    for (int t = 0; t < nt; t++) {
        const char *name = tables[t];
        if ((only != NULL && strcmp(only, name) != 0) || in_list(skip, name))
            continue;
        /* columns and primary key */
        char *sql = h_fmt("PRAGMA table_info(\"%s\")", name);
        sqlite3_stmt *ti = db_prepare(db, sql);
        free(sql);
        struct buf cols = {0}, order = {0};
        char *pk[16] = {0};
        int npk = 0, ncols = 0;
        while (sqlite3_step(ti) == SQLITE_ROW) {
            const char *col = (const char *)sqlite3_column_text(ti, 1);
            int pkpos = sqlite3_column_int(ti, 5);
            if (pkpos > 0 && pkpos <= 16) {
                pk[pkpos - 1] = strdup(col);
                npk = pkpos > npk ? pkpos : npk;
            }
            char *qual = h_fmt("%s.%s", name, col);
            bool skipped = in_list(skip, qual);
            free(qual);
            if (skipped)
                continue;
            buf_printf(&cols, "%s\"%s\"", ncols ? ", " : "", col);
            ncols++;
        }
        sqlite3_finalize(ti);
        for (int k = 0; k < npk; k++) {
            buf_printf(&order, "%s\"%s\"", k ? ", " : "", pk[k] ? pk[k] : "rowid");
            free(pk[k]);
        }
        if (npk == 0)
            buf_add(&order, "rowid", 5);
        buf_printf(&out, "[%s]\n", name);
        if (ncols > 0) {
            sql = h_fmt("SELECT %s FROM \"%s\" ORDER BY %s", cols.p, name, order.p);
            sqlite3_stmt *st = db_prepare(db, sql);
            free(sql);
            int rc;
            while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                for (int i = 0; i < sqlite3_column_count(st); i++) {
                    buf_printf(&out, "%s%s=", i ? " | " : "", sqlite3_column_name(st, i));
                    dump_value(&out, st, i);
                }
                buf_add(&out, "\n", 1);
            }
            sqlite3_finalize(st);
            if (rc != SQLITE_DONE) {
                print_error("sqlite: dumping %s: %s\n", name, sqlite3_errmsg(db));
                sqlite3_close(db);
                fail();
            }
        }
        free(cols.p);
        free(order.p);
    }
    for (int t = 0; t < nt; t++)
        free(tables[t]);
    db_exec(db, "COMMIT");
    sqlite3_close(db);
    return buf_take(&out);
}

static sqlite3_stmt *db_one_row(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = db_prepare(db, sql);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        print_error("sqlite: %s: expected one row, got %s\n", sql,
                    rc == SQLITE_DONE ? "none" : sqlite3_errmsg(db));
        sqlite3_finalize(st);
        sqlite3_close(db);
        fail();
    }
    return st;
}

static void db_no_more_rows(sqlite3 *db, sqlite3_stmt *st, const char *sql)
{
    if (sqlite3_step(st) != SQLITE_DONE) {
        print_error("sqlite: %s: more than one row\n", sql);
        sqlite3_finalize(st);
        sqlite3_close(db);
        fail();
    }
    sqlite3_finalize(st);
}

int64_t h_db_int(const char *db_path, const char *fmt, ...)
{
    va_list ap;
    char *sql = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&sql, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    sqlite3 *db = db_open_ro(db_path);
    sqlite3_stmt *st = db_one_row(db, sql);
    int64_t v = sqlite3_column_type(st, 0) == SQLITE_NULL ? INT64_MIN : sqlite3_column_int64(st, 0);
    db_no_more_rows(db, st, sql);
    sqlite3_close(db);
    free(sql);
    return v;
}

char *h_db_text(const char *db_path, const char *fmt, ...)
{
    va_list ap;
    char *sql = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&sql, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    sqlite3 *db = db_open_ro(db_path);
    sqlite3_stmt *st = db_one_row(db, sql);
    char *v = sqlite3_column_type(st, 0) == SQLITE_NULL
                  ? NULL
                  : strdup((const char *)sqlite3_column_text(st, 0));
    db_no_more_rows(db, st, sql);
    sqlite3_close(db);
    free(sql);
    return v;
}

void h_db_exec(const char *db_path, const char *fmt, ...)
{
    va_list ap;
    char *sql = NULL;
    va_start(ap, fmt);
    int n = vasprintf(&sql, fmt, ap);
    va_end(ap);
    assert_true(n >= 0);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        print_error("sqlite3_open_v2(%s, READWRITE): %s\n", db_path, db ? sqlite3_errmsg(db) : "?");
        sqlite3_close(db);
        fail();
    }
    sqlite3_busy_timeout(db, 5000);
    db_exec(db, sql);
    sqlite3_close(db);
    free(sql);
}

void h_copy_tree_ok(const char *src, const char *dst)
{
    const char *argv[] = {"cp", "-a", src, dst, NULL};
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, NULL, H_CLI_TIMEOUT_MS, &p), 0);
    if (p.status != 0) {
        print_error("cp -a %s %s: exit %d: %s\n", src, dst, p.status, p.err);
        h_proc_free(&p);
        fail();
    }
    h_proc_free(&p);
}

void h_home_set_server_ok(const char *home, const char *url)
{
    char *path = h_path(home, "profile.json");
    json_error_t jerr;
    json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(j))
        fail_msg("%s: %s", path, jerr.text);
    assert_int_equal(json_object_set_new(j, "server", json_string(url)), 0);
    char *text = json_dumps(j, JSON_INDENT(2));
    assert_non_null(text);
    char *with_nl = h_fmt("%s\n", text);
    assert_int_equal(h_write_file(path, with_nl, strlen(with_nl), false), 0);
    free(with_nl);
    free(text);
    json_decref(j);
    free(path);
}

void h_id_hex(char out[33], const char *id_text)
{
    uint8_t id[SES_ID_BYTES];
    if (ses_id_from_text(id, id_text) != 0)
        fail_msg("not an id: \"%s\"", id_text);
    for (int i = 0; i < SES_ID_BYTES; i++)
        snprintf(out + 2 * i, 3, "%02x", id[i]);
}

int64_t h_audit_max_seq(const char *db_path)
{
    return h_db_int(db_path, "SELECT COALESCE(MAX(seq), 0) FROM audit");
}

int64_t h_audit_count(const char *db_path, const char *action, const char *outcome)
{
    char *where = h_fmt("WHERE 1 %s%s%s %s%s%s", action ? "AND action = '" : "",
                        action ? action : "", action ? "'" : "", outcome ? "AND outcome = '" : "",
                        outcome ? outcome : "", outcome ? "'" : "");
    int64_t n = h_db_int(db_path, "SELECT COUNT(*) FROM audit %s", where);
    free(where);
    return n;
}

int64_t h_audit_expect_one(const char *db_path, int64_t after_seq, const char *action,
                           const char *outcome)
{
    uint64_t deadline = h_mono_ms() + H_AUDIT_WAIT_MS;
    while (h_audit_max_seq(db_path) <= after_seq && h_mono_ms() < deadline)
        h_sleep_ms(10);
    int64_t n =
        h_db_int(db_path, "SELECT COUNT(*) FROM audit WHERE seq > %lld", (long long)after_seq);
    char *got_action = NULL, *got_outcome = NULL;
    if (n >= 1) {
        got_action =
            h_db_text(db_path, "SELECT action FROM audit WHERE seq > %lld ORDER BY seq LIMIT 1",
                      (long long)after_seq);
        got_outcome =
            h_db_text(db_path, "SELECT outcome FROM audit WHERE seq > %lld ORDER BY seq LIMIT 1",
                      (long long)after_seq);
    }
    if (n != 1 || got_action == NULL || got_outcome == NULL || strcmp(got_action, action) != 0 ||
        strcmp(got_outcome, outcome) != 0) {
        print_error(
            "expected exactly one new audit row (%s, %s); got %lld new rows, first (%s, %s)\n",
            action, outcome, (long long)n, got_action ? got_action : "-",
            got_outcome ? got_outcome : "-");
        char *dump = h_db_dump(db_path, "audit", NULL);
        print_error("%s", dump);
        free(dump);
        free(got_action);
        free(got_outcome);
        fail();
    }
    free(got_action);
    free(got_outcome);
    return h_audit_max_seq(db_path);
}

void h_audit_wait_count(const char *db_path, const char *action, const char *outcome, int64_t want)
{
    uint64_t deadline = h_mono_ms() + H_AUDIT_WAIT_MS;
    int64_t n;
    while ((n = h_audit_count(db_path, action, outcome)) < want && h_mono_ms() < deadline)
        h_sleep_ms(10);
    if (n != want) {
        print_error("audit rows (%s, %s): want %lld, got %lld\n", action ? action : "*",
                    outcome ? outcome : "*", (long long)want, (long long)n);
        fail();
    }
}

/* --- snapshots ---------------------------------------------------------------------------------
 */

static const char **skip_plus_audit(const char *const skip[])
{
    int n = 0;
    while (skip != NULL && skip[n] != NULL)
        n++;
    const char **l = calloc((size_t)n + 4, sizeof *l);
    assert_non_null(l);
    for (int i = 0; i < n; i++)
        l[i] = skip[i];
    /* the audit log: its records, and the Merkle nodes and checkpoints derived from them */
    l[n] = "audit";
    l[n + 1] = "audit_node";
    l[n + 2] = "audit_checkpoint";
    return l;
}

void h_snap_take(struct h_snap *s, const char *db_path, const char *const skip[])
{
    const char **l = skip_plus_audit(skip);
    memset(s, 0, sizeof *s);
    s->full = h_db_dump(db_path, NULL, NULL);
    s->rest = h_db_dump(db_path, NULL, l);
    s->audit = h_db_dump(db_path, "audit", NULL);
    s->seq = h_audit_max_seq(db_path);
    s->skip = skip;
    free(l);
}

/* Prints the lines of a that are not in b ("-") and of b not in a ("+"). */
static void print_line_diff(const char *a, const char *b)
{
    const char *sides[2][2] = {{a, b}, {b, a}};
    for (int k = 0; k < 2; k++) {
        const char *x = sides[k][0], *y = sides[k][1];
        for (const char *p = x; *p != '\0';) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);
            char *line = strndup(p, n);
            bool found = false;
            for (const char *q = y; q != NULL && *q != '\0';) {
                const char *m = strstr(q, line);
                if (m == NULL)
                    break;
                if (m == y || m[-1] == '\n') {
                    found = true;
                    break;
                }
                q = m + 1;
            }
            if (!found)
                print_error("%c %s%s", k == 0 ? '-' : '+', line, nl ? "" : "\n");
            free(line);
            p += n;
        }
    }
}

void h_snap_expect_same(const struct h_snap *s, const char *db_path)
{
    char *now = h_db_dump(db_path, NULL, NULL);
    if (strcmp(now, s->full) != 0) {
        print_error("the database changed (- before, + after):\n");
        print_line_diff(s->full, now);
        free(now);
        fail();
    }
    free(now);
}

void h_snap_expect_rest_same(const struct h_snap *s, const char *db_path)
{
    const char **l = skip_plus_audit(s->skip);
    char *rest = h_db_dump(db_path, NULL, l);
    free(l);
    if (strcmp(rest, s->rest) != 0) {
        print_error("the database changed beyond the audit table (- before, + after):\n");
        print_line_diff(s->rest, rest);
        free(rest);
        fail();
    }
    free(rest);
}

void h_snap_expect_one_audit(const struct h_snap *s, const char *db_path, const char *action,
                             const char *outcome)
{
    h_audit_expect_one(db_path, s->seq, action, outcome);
    h_snap_expect_rest_same(s, db_path);
    char *audit = h_db_dump(db_path, "audit", NULL);
    bool prefix = strncmp(audit, s->audit, strlen(s->audit)) == 0;
    if (!prefix) {
        print_error("old audit rows changed (- before, + after):\n");
        print_line_diff(s->audit, audit);
        free(audit);
        fail();
    }
    free(audit);
}

void h_snap_free(struct h_snap *s)
{
    free(s->full);
    free(s->rest);
    free(s->audit);
    memset(s, 0, sizeof *s);
}

int h_setup(void **state)
{
    *state = h_env_new(program_invocation_short_name);
    return 0;
}

int h_teardown(void **state)
{
    int rc = h_env_free(*state);
    *state = NULL;
    return rc;
}

/* --- a whole test environment ----------------------------------------------------------------- */

struct h_env *h_env_new(const char *tag)
{
    struct h_env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->tmp = h_mkdtemp_ok(tag);
    e->data = h_path(e->tmp, "data");
    e->db = h_path(e->data, "sesame.db");
    e->log = h_path(e->tmp, "sesamed.log");
    return e;
}

void h_env_start(struct h_env *e, int flags)
{
    h_init_ok(e->data, &e->init);
    if (flags & H_ENV_NO_START)
        return;
    const char *hooks[] = {"--test-hooks", NULL};
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, (flags & H_ENV_TEST_HOOKS) ? hooks : NULL);
    if (flags & H_ENV_NO_ADMIN)
        return;
    e->admin_home = h_env_home(e, "admin");
    json_t *r =
        h_enroll_ok(e, e->admin_home, e->init.code, "admin-laptop", e->admin_user, e->admin_device);
    assert_string_equal(e->admin_user, e->init.admin_user);
    assert_string_equal(h_jstr(r, "role"), "admin");
    json_decref(r);
}

int h_env_free(struct h_env *e)
{
    if (e == NULL)
        return 0;
    int rc = 0;
    if (e->d.pid > 0) {
        int st = h_daemon_stop(&e->d);
        if (st != 0) {
            print_error("teardown: sesamed exited with %d after SIGTERM (want 0)\n", st);
            rc = -1;
        }
    }
    if (getenv("SESAME_INTEG_KEEP") != NULL)
        print_message("kept %s\n", e->tmp);
    else if (h_rmtree(e->tmp) != 0)
        print_error("teardown: cannot remove %s\n", e->tmp);
    json_decref(e->init.json);
    free(e->tmp);
    free(e->data);
    free(e->db);
    free(e->log);
    free(e->admin_home);
    free(e);
    return rc;
}

char *h_env_home(const struct h_env *e, const char *name)
{
    char *leaf = h_fmt("home-%s", name);
    char *p = h_path(e->tmp, leaf);
    free(leaf);
    return p;
}

json_t *h_enroll_ok(const struct h_env *e, const char *home, const char *code, const char *devname,
                    char *user_out, char *device_out)
{
    struct h_cli r;
    if (devname != NULL)
        h_cli_run(&r, home, NULL, "enroll", "--server", e->d.url, "--ca", h_ca_file(), "--code",
                  code, "--name", devname, NULL);
    else
        h_cli_run(&r, home, NULL, "enroll", "--server", e->d.url, "--ca", h_ca_file(), "--code",
                  code, NULL);
    h_cli_assert_ok(&r);
    json_t *j = json_incref(r.json);
    h_cli_free(&r);
    if (user_out != NULL)
        snprintf(user_out, 40, "%s", h_jstr(j, "user"));
    if (device_out != NULL)
        snprintf(device_out, 40, "%s", h_jstr(j, "device"));
    assert_int_equal(strlen(h_jstr(j, "user")), SES_ID_TEXT_LEN);
    assert_int_equal(strlen(h_jstr(j, "device")), SES_ID_TEXT_LEN);
    return j;
}

json_t *h_invite_ok(const struct h_env *e, const char *role, const char *name, const char *site,
                    int ttl)
{
    struct h_cli r;
    char ttls[32];
    snprintf(ttls, sizeof ttls, "%d", ttl);
    if (site != NULL && ttl > 0)
        h_cli_run(&r, e->admin_home, NULL, "admin", "invite", "--role", role, "--name", name,
                  "--site", site, "--ttl", ttls, NULL);
    else if (site != NULL)
        h_cli_run(&r, e->admin_home, NULL, "admin", "invite", "--role", role, "--name", name,
                  "--site", site, NULL);
    else if (ttl > 0)
        h_cli_run(&r, e->admin_home, NULL, "admin", "invite", "--role", role, "--name", name,
                  "--ttl", ttls, NULL);
    else
        h_cli_run(&r, e->admin_home, NULL, "admin", "invite", "--role", role, "--name", name, NULL);
    h_cli_assert_ok(&r);
    json_t *j = json_incref(r.json);
    h_cli_free(&r);
    assert_string_equal(h_jstr(j, "role"), role);
    assert_string_equal(h_jstr(j, "name"), name);
    if (site != NULL)
        assert_string_equal(h_jstr(j, "site"), site);
    else
        h_jnull(j, "site");
    assert_int_equal(strlen(h_jstr(j, "code")), SES_CODE_TEXT_LEN);
    assert_int_equal(strlen(h_jstr(j, "user")), SES_ID_TEXT_LEN);
    return j;
}

char *h_add_user_ok(const struct h_env *e, const char *homename, const char *role, const char *name,
                    const char *site, char *user_out, char *device_out)
{
    json_t *inv = h_invite_ok(e, role, name, site, 0);
    char *home = h_env_home(e, homename);
    char *devname = h_fmt("%s-device", homename);
    json_t *en = h_enroll_ok(e, home, h_jstr(inv, "code"), devname, user_out, device_out);
    free(devname);
    assert_string_equal(h_jstr(en, "user"), h_jstr(inv, "user"));
    assert_string_equal(h_jstr(en, "role"), role);
    assert_string_equal(h_jstr(en, "name"), name);
    if (site != NULL)
        assert_string_equal(h_jstr(en, "site"), site);
    else
        h_jnull(en, "site");
    json_decref(inv);
    json_decref(en);
    return home;
}
