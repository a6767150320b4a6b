/*
 * bench_msg.c - load driver for the message path (PROTOCOL.md §11): N devices on loopback, each a
 * TLS WebSocket (lws client on one libuv loop, pinned CA, subprotocol sesame.1) logged in with its
 * own device key, sending SES1 envelopes into 3-member threads. Prints figures; asserts nothing.
 * bench_msg.sh sets up the daemon and the devices and runs it.
 *
 *   bench_msg --homes DIR [options]        (--help lists them)
 *
 * DIR holds one CLI profile folder per device (profile.json + keys.json + ca.crt, as written by
 * `sesame enroll`), plus one admin profile. bench_msg
 *   1. logs every device in (and the admin);
 *   2. has the admin create the threads (thread_create; thread i = the i-th nurse, psychiatrist
 *      and GP, cycling, so that every device is in at least one thread) and reads their rosters;
 *   3. seals every envelope of the run before timing starts (ses_envelope_seal: a --body byte
 *      body wrapped to every device of the thread's members incl. the sender, signed by the
 *      sender; msg_id = run tag | message index) and writes each into its final send frame;
 *   4. runs one timed phase (a warm-up, then the measured window):
 *        --mode throughput  every device keeps --window sends in flight; each "sent" reply (the
 *                           daemon sends it after the commit: durable) releases the next send;
 *        --mode latency     --rate sends per second in total, issued by a 1 ms uv timer,
 *                           round-robin over every (device, thread) pair;
 *      a send is timed (CLOCK_MONOTONIC) when it is handed to lws; its "sent" reply and every
 *      {"t":"msg"} push to the thread's other devices (found by the msg_id inside the envelope)
 *      are timed on arrival in this same process, so the times compare;
 *   5. prints durable msgs/s, deliveries/s, send->"sent" and send->push percentiles, the CPU per
 *      message of sesamed's loop thread and other threads (--daemon-pid) and of this driver, and
 *      (--perf-fsync) sesamed's fsync/fdatasync calls (the writer's average batch), busy-wait
 *      sleeps, loop iterations and syscalls per message in the window, counted by `perf stat`.
 *
 * Loopback only: the server in the profiles must be localhost or 127.x.x.x. Every wait is
 * bounded (--timeout, default warm-up + duration + 300 s); the process exits by itself.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <libwebsockets.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <uv.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/envelope.h"
#include "sesame/err.h"
#include "sesame/limits.h"
#include "sesame/transcript.h"

#include "profile.h"

extern char **environ;

#define MAX_DEVICES 4096
#define MAX_THREAD_DEVICES 32 /* SES_MAX_RECIPIENTS */
#define RX_MAX (1024 * 1024)
#define ID_BASE 1000 /* request id of message i is ID_BASE + i; lower ids are control requests */

/* ---------------------------------------------------------------------------------------------- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000ull + (uint64_t)ts.tv_nsec / 1000000ull;
}

__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench_msg: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (p == NULL)
        die("out of memory");
    return p;
}

/* ---------------------------------------------------------------------------------------------- */

enum dev_state { D_CONNECTING, D_HELLO, D_AUTH_SENT, D_READY, D_CLOSED };
enum role { R_OTHER, R_NURSE, R_PSY, R_GP, R_ADMIN };

struct ctl { /* a control frame waiting to be written */
    struct ctl *next;
    size_t len;
    unsigned char data[]; /* LWS_PRE headroom + text */
};

struct dev {
    int idx; /* -1: the admin connection */
    struct ses_profile *p;
    enum role role;
    struct lws *wsi;
    enum dev_state state;
    bool want_close, close_sent;
    uint8_t server_id[16], snonce[SES_NONCE_BYTES];
    char *rx;
    size_t rx_len, rx_cap;
    struct ctl *ctl_head, **ctl_tail;
    /* the planned sends, in order */
    uint32_t *plan;
    size_t plan_n;
    size_t plan_next;   /* next plan entry to write */
    size_t plan_allow;  /* entries [0, plan_allow) may be written */
    uint32_t in_flight; /* written, "sent" not yet received */
    int n_threads;
    int *threads;
};

struct bthread {
    uint8_t id[16];
    char id_text[SES_ID_TEXT_LEN + 1];
    uint8_t roster_hash[32];
    int n_rcpt;
    struct ses_recipient rcpt[MAX_THREAD_DEVICES];
    int rcpt_dev[MAX_THREAD_DEVICES]; /* our device index of each recipient, -1 if unknown */
    uint64_t next_seq[MAX_THREAD_DEVICES];
    int n_members;
    uint8_t members[3][16];
};

struct msg {
    unsigned char *frame; /* LWS_PRE + len; NULL after it was written */
    uint32_t len;
    uint32_t dev;
    uint32_t thread;
    uint16_t expected; /* pushes expected: recipients minus the sending device */
    uint16_t delivered;
    uint64_t seq; /* sender_seq (planning) */
    uint64_t t_send, t_ack;
    uint64_t t_push_first, t_push_last;
    bool error;
};

struct lat { /* growable array of nanosecond samples */
    uint64_t *v;
    size_t n, cap;
};

static void lat_add(struct lat *l, uint64_t x)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 4096;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (l->v == NULL)
            die("out of memory");
    }
    l->v[l->n++] = x;
}

enum mode { M_THROUGHPUT, M_LATENCY };
enum phase { P_CONNECT, P_SETUP, P_IDLE, P_RUN, P_DRAIN, P_CLOSE };

struct bench {
    /* options */
    const char *homes;
    enum mode mode;
    int window;
    double rate;
    double duration, warmup;
    size_t body;
    int n_threads_opt;
    size_t msgs_opt;
    int prep_threads;
    int daemon_pid;
    bool perf_fsync;
    int timeout_s;
    int max_devices;
    int batch_write; /* frames written per WRITEABLE callback at most */
    const char *tag;
    const char *dump; /* CSV of every message: send time, ack and push latencies */

    /* connections */
    uv_loop_t loop;
    uv_timer_t tick;
    struct lws_context *ctx;
    SSL_CTX *ssl_ctx;
    char host[256], host_header[300];
    int port;
    struct dev admin;
    struct dev *devs;
    int n_devs;
    int n_role[5];

    /* threads and messages */
    struct bthread *th;
    int n_th;
    int th_replies;
    struct msg *msgs;
    size_t n_msgs;
    uint8_t run_tag[8];
    uint8_t *bodybuf;

    /* run */
    enum phase phase;
    uint64_t t0, t_win0, t_win1, t_stop;
    size_t lat_next; /* latency mode: next message to issue */
    size_t issued, acked, errors, dup_acks, unknown_push;
    int errors_printed;
    bool pool_exhausted;
    struct lat ack_lat, del_lat;
    struct lat del_role[5]; /* send->push by the receiving device's role */
    size_t acks_in_win, pushes_in_win;

    /* accounting */
    double cpu_self0, cpu_self1;
    double cpu_loop0, cpu_loop1, cpu_other0, cpu_other1;
    long rss_kb0, rss_kb1;
    double mach0, mach1, steal0, steal1;
    char loadavg0[64], loadavg1[64];
    pid_t perf_pid;
    char perf_out[256];
    uint64_t t_perf0, t_perf1;
};

static struct bench B;

/* ---------------------------------------------------------------------------------------------- */
/* Accounting: our CPU, the daemon's threads, perf stat for fsyncs */

static double self_cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* utime + stime (seconds) of /proc/PID/task/TID/stat. */
static double task_cpu(const char *path)
{
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (p == NULL)
        return -1;
    unsigned long long ut = 0, st = 0;
    /* after ") ": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
     * stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Busy CPU seconds of the whole machine (every CPU) and steal, from /proc/stat. These are tick
 * samples: short bursts on an otherwise idle machine are under-counted, so "other processes"
 * (machine minus sesamed minus us) is a lower bound, good for spotting someone else's build. */
static void machine_cpu(double *busy, double *steal)
{
    unsigned long long v[8] = {0};
    *busy = *steal = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return;
    if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
               &v[5], &v[6], &v[7]) == 8) {
        double tck = (double)sysconf(_SC_CLK_TCK);
        *busy = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / tck;
        *steal = (double)v[7] / tck;
    }
    fclose(f);
}

static void daemon_cpu(double *loop, double *other, long *rss_kb)
{
    *loop = *other = 0;
    *rss_kb = 0;
    if (B.daemon_pid <= 0)
        return;
    char dir[64], path[384];
    snprintf(dir, sizeof dir, "/proc/%d/task", B.daemon_pid);
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        snprintf(path, sizeof path, "%s/%s/stat", dir, e->d_name);
        double c = task_cpu(path);
        if (c < 0)
            continue;
        if (atoi(e->d_name) == B.daemon_pid)
            *loop += c;
        else
            *other += c;
    }
    closedir(d);
    snprintf(path, sizeof path, "/proc/%d/status", B.daemon_pid);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "VmRSS:", 6) == 0)
                *rss_kb = strtol(line + 6, NULL, 10);
        fclose(f);
    }
}

static void perf_start(void)
{
    if (!B.perf_fsync || B.daemon_pid <= 0)
        return;
    char pid[32];
    snprintf(pid, sizeof pid, "%d", B.daemon_pid);
    snprintf(B.perf_out, sizeof B.perf_out, "/tmp/bench_msg_perf.%d", (int)getpid());
    char *argv[] = {"perf",
                    "stat",
                    "--per-thread",
                    "-x,",
                    "-o",
                    B.perf_out,
                    "-e",
                    "syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,"
                    "syscalls:sys_enter_clock_nanosleep,syscalls:sys_enter_nanosleep,"
                    "syscalls:sys_enter_epoll_wait,syscalls:sys_enter_epoll_pwait,"
                    "syscalls:sys_enter_epoll_ctl,raw_syscalls:sys_enter",
                    "-p",
                    pid,
                    NULL};
    if (posix_spawnp(&B.perf_pid, "perf", NULL, NULL, argv, environ) != 0) {
        fprintf(stderr, "bench_msg: cannot start perf; no fsync count\n");
        B.perf_pid = 0;
    }
    B.t_perf0 = now_ns();
}

struct perf_counts {
    long fdatasync, fsync; /* every thread of the daemon */
    long sleep_loop;       /* (clock_)nanosleep calls of the loop thread (SQLite busy waits) */
    long sleep_other;
    long loop_polls;    /* epoll_wait/epoll_pwait of the loop thread: loop iterations */
    long loop_ctl;      /* epoll_ctl of the loop thread */
    long loop_syscalls; /* every syscall of the loop thread */
    long other_syscalls;
};

/* Ends perf's count at the end of the window, without waiting for it (a blocking wait here
 * would stall this loop and add perf's exit time to the latency of the last messages). */
static void perf_signal(void)
{
    if (B.perf_pid <= 0)
        return;
    B.t_perf1 = now_ns();
    kill(B.perf_pid, SIGINT);
}

/* Waits for perf (signalled by perf_signal) and reads its counts. Returns 0, or -1 without perf. */
static int perf_stop(struct perf_counts *c)
{
    memset(c, 0, sizeof *c);
    if (B.perf_pid <= 0)
        return -1;
    int st;
    waitpid(B.perf_pid, &st, 0);
    B.perf_pid = 0;
    FILE *f = fopen(B.perf_out, "r");
    if (f == NULL)
        return -1;
    char line[512];
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        /* --per-thread -x,: COMM-TID,COUNT,UNIT,EVENT,... */
        char *c1 = strchr(line, ',');
        if (c1 == NULL || strstr(line, "syscalls:sys_enter") == NULL)
            continue;
        *c1 = '\0';
        char *dash = strrchr(line, '-');
        int tid = dash ? atoi(dash + 1) : 0;
        long v = strtol(c1 + 1, NULL, 10);
        if (strstr(c1 + 1, "raw_syscalls:sys_enter")) {
            if (tid == B.daemon_pid)
                c->loop_syscalls += v;
            else
                c->other_syscalls += v;
            found++;
            continue;
        }
        const char *ev = strstr(c1 + 1, "syscalls:sys_enter_") + strlen("syscalls:sys_enter_");
        if (strncmp(ev, "epoll_ctl", 9) == 0) {
            if (tid == B.daemon_pid)
                c->loop_ctl += v;
        } else if (strncmp(ev, "epoll_", 6) == 0) {
            if (tid == B.daemon_pid)
                c->loop_polls += v;
        } else if (strncmp(ev, "fdatasync", 9) == 0)
            c->fdatasync += v;
        else if (strncmp(ev, "fsync", 5) == 0)
            c->fsync += v;
        else if (tid == B.daemon_pid)
            c->sleep_loop += v;
        else
            c->sleep_other += v;
        found++;
    }
    fclose(f);
    unlink(B.perf_out);
    return found ? 0 : -1;
}

/* ---------------------------------------------------------------------------------------------- */
/* Frames out */

static void queue_ctl(struct dev *d, const char *text, size_t len)
{
    struct ctl *c = xcalloc(1, sizeof *c + LWS_PRE + len);
    c->len = len;
    memcpy(c->data + LWS_PRE, text, len);
    *d->ctl_tail = c;
    d->ctl_tail = &c->next;
    if (d->wsi)
        lws_callback_on_writable(d->wsi);
}

static void send_auth(struct dev *d)
{
    uint8_t cnonce[SES_NONCE_BYTES], tr[SES_LOGIN_TRANSCRIPT_LEN], sig[SES_SIG_BYTES];
    char dev_text[SES_ID_TEXT_LEN + 1], sn[64], cn[64], sg[128], text[1024];
    randombytes_buf(cnonce, sizeof cnonce);
    uint64_t ts = wall_ms();
    ses_transcript_login(tr, d->server_id, d->snonce, cnonce, d->p->device_id, ts);
    ses_sign(sig, tr, sizeof tr, d->p->keys.sign_sk);
    ses_id_to_text(dev_text, d->p->device_id);
    ses_b64_encode(sn, sizeof sn, d->snonce, sizeof d->snonce);
    ses_b64_encode(cn, sizeof cn, cnonce, sizeof cnonce);
    ses_b64_encode(sg, sizeof sg, sig, sizeof sig);
    int n =
        snprintf(text, sizeof text,
                 "{\"t\":\"auth\",\"id\":1,\"device\":\"%s\",\"snonce\":\"%s\",\"cnonce\":\"%s\","
                 "\"ts\":%" PRIu64 ",\"sig\":\"%s\"}",
                 dev_text, sn, cn, ts, sg);
    queue_ctl(d, text, (size_t)n);
    d->state = D_AUTH_SENT;
}

/* Allows dev d to write k more of its planned frames. */
static void allow(struct dev *d, size_t k)
{
    size_t a = d->plan_allow + k;
    if (a > d->plan_n) {
        a = d->plan_n;
        B.pool_exhausted = true;
    }
    if (a > d->plan_allow) {
        d->plan_allow = a;
        if (d->wsi)
            lws_callback_on_writable(d->wsi);
    }
}

static int on_writeable(struct dev *d, struct lws *wsi)
{
    if (d->want_close) {
        if (!d->close_sent) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_KEEPALIVE_IDLE, LWS_TO_KILL_ASYNC);
            d->close_sent = true;
        }
        return 0;
    }
    int written = 0;
    while (written < B.batch_write && !(written > 0 && lws_send_pipe_choked(wsi))) {
        if (d->ctl_head != NULL) {
            struct ctl *c = d->ctl_head;
            d->ctl_head = c->next;
            if (d->ctl_head == NULL)
                d->ctl_tail = &d->ctl_head;
            int n = lws_write(wsi, c->data + LWS_PRE, c->len, LWS_WRITE_TEXT);
            size_t want = c->len;
            free(c);
            if (n < (int)want)
                return -1;
        } else if (d->plan_next < d->plan_allow && (B.phase == P_RUN || B.phase == P_DRAIN)) {
            uint32_t i = d->plan[d->plan_next++];
            struct msg *m = &B.msgs[i];
            m->t_send = now_ns();
            int n = lws_write(wsi, m->frame + LWS_PRE, m->len, LWS_WRITE_TEXT);
            free(m->frame); /* lws masked it in place; each frame goes out once */
            m->frame = NULL;
            d->in_flight++;
            B.issued++;
            if (n < (int)m->len)
                return -1;
        } else {
            return 0;
        }
        written++;
    }
    if (d->ctl_head != NULL || d->plan_next < d->plan_allow)
        lws_callback_on_writable(wsi);
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Frames in */

/* Value of the top-level string field key in compact JSON text (the daemon's frames), or NULL. */
static const char *find_str(const char *s, size_t len, const char *key, size_t *vlen)
{
    char pat[40];
    int pl = snprintf(pat, sizeof pat, "\"%s\":\"", key);
    const char *p = memmem(s, len, pat, (size_t)pl);
    if (p == NULL)
        return NULL;
    p += pl;
    const char *e = memchr(p, '"', (size_t)(s + len - p));
    if (e == NULL)
        return NULL;
    *vlen = (size_t)(e - p);
    return p;
}

static bool find_int(const char *s, size_t len, const char *key, int64_t *out)
{
    char pat[40];
    int pl = snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = memmem(s, len, pat, (size_t)pl);
    if (p == NULL)
        return false;
    p += pl;
    char *end;
    long long v = strtoll(p, &end, 10);
    if (end == p)
        return false;
    *out = v;
    return true;
}

/* The message index encoded in an envelope's msg_id (run tag[8] | index u64 BE), or -1. */
static int64_t env_index(const char *b64, size_t len)
{
    /* msg_id sits at bytes 24..39; base64 char 32 starts byte 24: decode 24 chars -> 18 bytes */
    uint8_t b[18];
    size_t bl = 0;
    if (len < 56 ||
        sodium_base642bin(b, sizeof b, b64 + 32, 24, NULL, &bl, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        bl != 18)
        return -1;
    if (memcmp(b, B.run_tag, 8) != 0)
        return -1;
    uint64_t idx = 0;
    for (int k = 8; k < 16; k++)
        idx = idx << 8 | b[k];
    return idx < B.n_msgs ? (int64_t)idx : -1;
}

static void on_thread_reply(json_t *root);

static void on_error_frame(struct dev *d, const char *text, size_t len)
{
    int64_t id = -1;
    find_int(text, len, "id", &id);
    B.errors++;
    if (id >= ID_BASE && (uint64_t)(id - ID_BASE) < B.n_msgs) {
        struct msg *m = &B.msgs[id - ID_BASE];
        if (!m->error) {
            m->error = true;
            if (d->in_flight)
                d->in_flight--;
            if (B.mode == M_THROUGHPUT && B.phase == P_RUN)
                allow(d, 1); /* keep the window full */
        }
    }
    if (B.errors_printed++ < 5)
        fprintf(stderr, "bench_msg: device %d got %.*s\n", d->idx, (int)(len > 300 ? 300 : len),
                text);
}

static void release_next(struct dev *d)
{
    if (B.mode == M_THROUGHPUT && B.phase == P_RUN)
        allow(d, 1);
}

static int handle_frame(struct dev *d, const char *text, size_t len)
{
    size_t tl = 0;
    const char *t = find_str(text, len < 64 ? len : 64, "t", &tl);
    uint64_t now = now_ns();
    if (t == NULL) {
        fprintf(stderr, "bench_msg: frame without type: %.*s\n", (int)(len > 200 ? 200 : len),
                text);
        return 0;
    }
    if (tl == 4 && memcmp(t, "sent", 4) == 0) {
        int64_t id = -1;
        if (!find_int(text, len, "id", &id) || id < ID_BASE || (uint64_t)(id - ID_BASE) >= B.n_msgs)
            return 0;
        struct msg *m = &B.msgs[id - ID_BASE];
        if (m->t_ack != 0) {
            B.dup_acks++;
            return 0;
        }
        m->t_ack = now;
        B.acked++;
        if (memmem(text, len, "\"duplicate\":true", 16) != NULL)
            B.dup_acks++;
        if (m->t_send >= B.t_win0 && m->t_send < B.t_win1)
            lat_add(&B.ack_lat, now - m->t_send);
        if (now >= B.t_win0 && now < B.t_win1)
            B.acks_in_win++;
        if (d->in_flight)
            d->in_flight--;
        release_next(d);
        return 0;
    }
    if (tl == 3 && memcmp(t, "msg", 3) == 0) {
        size_t el = 0;
        const char *env = find_str(text, len, "env", &el);
        int64_t idx = env ? env_index(env, el) : -1;
        if (idx < 0) {
            B.unknown_push++;
            return 0;
        }
        struct msg *m = &B.msgs[idx];
        m->delivered++;
        if (m->t_push_first == 0)
            m->t_push_first = now;
        m->t_push_last = now;
        if (now >= B.t_win0 && now < B.t_win1)
            B.pushes_in_win++;
        if (m->t_send != 0 && m->t_send >= B.t_win0 && m->t_send < B.t_win1) {
            lat_add(&B.del_lat, now - m->t_send);
            lat_add(&B.del_role[d->role], now - m->t_send);
        }
        return 0;
    }
    if (tl == 5 && memcmp(t, "error", 5) == 0) {
        on_error_frame(d, text, len);
        return 0;
    }
    if ((tl == 6 && memcmp(t, "roster", 6) == 0) || (tl == 7 && memcmp(t, "receipt", 7) == 0))
        return 0;

    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    if (root == NULL)
        return 0;
    const char *type = json_string_value(json_object_get(root, "t"));
    if (type == NULL) {
        json_decref(root);
        return 0;
    }
    if (strcmp(type, "hello") == 0 && d->state == D_HELLO) {
        if (ses_get_b64(root, "server_id", d->server_id, 16) != 0 ||
            ses_get_b64(root, "nonce", d->snonce, sizeof d->snonce) != 0)
            die("malformed hello");
        send_auth(d);
    } else if (strcmp(type, "auth_ok") == 0 && d->state == D_AUTH_SENT) {
        d->state = D_READY;
    } else if (strcmp(type, "thread") == 0 && d == &B.admin) {
        on_thread_reply(root);
    }
    json_decref(root);
    return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* lws */

static int on_receive(struct dev *d, struct lws *wsi, const void *in, size_t len)
{
    if (lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi) && d->rx_len == 0)
        return handle_frame(d, in, len); /* the common case: no copy */
    if (d->rx_len + len > RX_MAX)
        die("device %d: frame from the server larger than 1 MiB", d->idx);
    if (d->rx_len + len > d->rx_cap) {
        size_t cap = d->rx_cap ? d->rx_cap : 8192;
        while (cap < d->rx_len + len)
            cap *= 2;
        d->rx = realloc(d->rx, cap);
        if (d->rx == NULL)
            die("out of memory");
        d->rx_cap = cap;
    }
    memcpy(d->rx + d->rx_len, in, len);
    d->rx_len += len;
    if (!lws_is_final_fragment(wsi))
        return 0;
    int rc = handle_frame(d, d->rx, d->rx_len);
    d->rx_len = 0;
    (void)wsi;
    return rc;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    struct dev *d = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
        if (len == 0 && user != NULL) {
            int e = X509_STORE_CTX_get_error((X509_STORE_CTX *)user);
            fprintf(stderr, "bench_msg: TLS verification failed: %s\n",
                    X509_verify_cert_error_string(e));
        }
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (d) {
            fprintf(stderr, "bench_msg: device %d: connection error: %s\n", d->idx,
                    in ? (const char *)in : "?");
            d->state = D_CLOSED;
            d->wsi = NULL;
        }
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (d)
            d->state = D_HELLO;
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        return d ? on_receive(d, wsi, in, len) : 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        return d ? on_writeable(d, wsi) : 0;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (d && B.phase != P_CLOSE && in != NULL && len >= 2)
            fprintf(stderr, "bench_msg: device %d: server closed the connection (%d)\n", d->idx,
                    ((const unsigned char *)in)[0] << 8 | ((const unsigned char *)in)[1]);
        return 0;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_WSI_DESTROY:
        if (d && d->wsi == wsi) {
            if (B.phase != P_CLOSE && d->state != D_CLOSED)
                fprintf(stderr, "bench_msg: device %d: connection closed\n", d->idx);
            d->state = D_CLOSED;
            d->wsi = NULL;
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {SES_SUBPROTOCOL, callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static int parse_url(const char *url)
{
    const char *p, *hs;
    if (strncmp(url, "wss://", 6) != 0)
        return -1;
    p = hs = url + 6;
    while (*p && *p != ':' && *p != '/')
        p++;
    size_t hl = (size_t)(p - hs);
    if (hl == 0 || hl >= sizeof B.host)
        return -1;
    memcpy(B.host, hs, hl);
    B.host[hl] = '\0';
    B.port = 443;
    if (*p == ':')
        B.port = atoi(p + 1);
    if (strcmp(B.host, "localhost") != 0 && strncmp(B.host, "127.", 4) != 0)
        return -2; /* loopback only */
    snprintf(B.host_header, sizeof B.host_header, "%s:%d", B.host, B.port);
    return 0;
}

static void connect_dev(struct dev *d)
{
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = B.ctx;
    ci.address = B.host;
    ci.port = B.port;
    ci.ssl_connection = LCCSCF_USE_SSL;
    ci.path = "/";
    ci.host = B.host_header;
    ci.protocol = SES_SUBPROTOCOL;
    ci.alpn = "http/1.1";
    ci.pwsi = &d->wsi;
    ci.opaque_user_data = d;
    d->state = D_CONNECTING;
    if (lws_client_connect_via_info(&ci) == NULL) {
        d->state = D_CLOSED;
        d->wsi = NULL;
    }
}

static void on_tick(uv_timer_t *t);

static void setup_lws(void)
{
    if (uv_loop_init(&B.loop) != 0)
        die("uv_loop_init");
    uv_timer_init(&B.loop, &B.tick);
    B.ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (B.ssl_ctx == NULL)
        die("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(B.ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(B.ssl_ctx, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(B.ssl_ctx, B.admin.p->ca_file, NULL) != 1)
        die("cannot load the pinned CA %s", B.admin.p->ca_file);

    const char *dbg = getenv("SESAME_DEBUG");
    lws_set_log_level(dbg && atoi(dbg) > 0 ? (LLL_ERR | LLL_WARN) : 0, NULL);
    struct lws_context_creation_info info;
    void *loops[1] = {&B.loop};
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS;
    info.foreign_loops = loops;
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.provided_client_ssl_ctx = B.ssl_ctx;
    info.timeout_secs = 30;
    B.ctx = lws_create_context(&info);
    if (B.ctx == NULL)
        die("lws_create_context failed (is libwebsockets-evlib-uv installed?)");
    uv_timer_start(&B.tick, on_tick, 1, 1);
}

/* Runs the loop until cond() holds or timeout_s passed. Returns true if cond() held. */
static bool run_until(bool (*cond)(void), double timeout_s)
{
    uint64_t end = now_ns() + (uint64_t)(timeout_s * 1e9);
    while (!cond()) {
        if (now_ns() > end)
            return false;
        uv_run(&B.loop, UV_RUN_ONCE);
    }
    return true;
}

static bool all_ready(void)
{
    if (B.admin.state != D_READY && B.admin.state != D_CLOSED)
        return false;
    for (int i = 0; i < B.n_devs; i++)
        if (B.devs[i].state != D_READY && B.devs[i].state != D_CLOSED)
            return false;
    return true;
}

static bool all_closed(void)
{
    if (B.admin.state != D_CLOSED)
        return false;
    for (int i = 0; i < B.n_devs; i++)
        if (B.devs[i].state != D_CLOSED)
            return false;
    return true;
}

/* ---------------------------------------------------------------------------------------------- */
/* Profiles */

static enum role role_of(const char *r)
{
    if (strcmp(r, "nurse") == 0)
        return R_NURSE;
    if (strcmp(r, "psychiatrist") == 0)
        return R_PSY;
    if (strcmp(r, "gp") == 0)
        return R_GP;
    if (strcmp(r, "admin") == 0)
        return R_ADMIN;
    return R_OTHER;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_profiles(void)
{
    DIR *dir = opendir(B.homes);
    if (dir == NULL)
        die("cannot open %s: %s", B.homes, strerror(errno));
    char **names = xcalloc(MAX_DEVICES + 1, sizeof *names);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL && n < MAX_DEVICES + 1) {
        if (e->d_name[0] == '.')
            continue;
        names[n++] = strdup(e->d_name);
    }
    closedir(dir);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    B.devs = xcalloc((size_t)n, sizeof *B.devs);
    for (int i = 0; i < n; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", B.homes, names[i]);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        struct ses_profile *p = xcalloc(1, sizeof *p);
        if (ses_profile_load(path, p) != 0) {
            free(p);
            continue;
        }
        enum role r = role_of(p->role);
        if (r == R_ADMIN && B.admin.p == NULL) {
            B.admin.p = p;
            B.admin.idx = -1;
            B.admin.role = r;
        } else if ((r == R_NURSE || r == R_PSY || r == R_GP) &&
                   (B.max_devices <= 0 || B.n_devs < B.max_devices)) {
            struct dev *d = &B.devs[B.n_devs];
            d->idx = B.n_devs++;
            d->p = p;
            d->role = r;
            B.n_role[r]++;
        } else {
            ses_profile_wipe(p);
            free(p);
        }
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (B.admin.p == NULL)
        die("no admin profile under %s", B.homes);
    if (B.n_role[R_NURSE] == 0 || B.n_role[R_PSY] == 0 || B.n_role[R_GP] == 0)
        die("need at least one nurse, one psychiatrist and one GP profile under %s", B.homes);
    for (int i = 0; i < B.n_devs; i++) {
        B.devs[i].ctl_tail = &B.devs[i].ctl_head;
        B.devs[i].threads = xcalloc((size_t)B.n_devs + 64, sizeof(int));
    }
    B.admin.ctl_tail = &B.admin.ctl_head;
    int rc = parse_url(B.admin.p->server);
    if (rc == -2)
        die("refusing a non-loopback server %s", B.admin.p->server);
    if (rc != 0)
        die("bad server URL %s", B.admin.p->server);
}

/* ---------------------------------------------------------------------------------------------- */
/* Threads */

static int dev_by_id(const uint8_t id[16])
{
    for (int i = 0; i < B.n_devs; i++)
        if (memcmp(B.devs[i].p->device_id, id, 16) == 0)
            return i;
    return -1;
}

/* Members of thread i: the i-th GP, nurse and psychiatrist (cycling), by device index. */
static void thread_members(int i, int out[3])
{
    int want[3] = {R_NURSE, R_PSY, R_GP};
    for (int k = 0; k < 3; k++) {
        int nth = i % B.n_role[want[k]], seen = 0;
        for (int j = 0; j < B.n_devs; j++) {
            if (B.devs[j].role != (enum role)want[k])
                continue;
            if (seen++ == nth) {
                out[k] = j;
                break;
            }
        }
    }
}

static void create_threads(void)
{
    char text[512];
    for (int i = 0; i < B.n_th; i++) {
        int m[3];
        thread_members(i, m);
        char u[3][SES_ID_TEXT_LEN + 1];
        for (int k = 0; k < 3; k++) {
            ses_id_to_text(u[k], B.devs[m[k]].p->user_id);
            memcpy(B.th[i].members[k], B.devs[m[k]].p->user_id, 16);
        }
        B.th[i].n_members = 3;
        int n = snprintf(text, sizeof text,
                         "{\"t\":\"thread_create\",\"id\":%d,\"patient\":\"B%s-%d\",\"members\":"
                         "[\"%s\",\"%s\",\"%s\"]}",
                         i + 2, B.tag, i, u[0], u[1], u[2]);
        queue_ctl(&B.admin, text, (size_t)n);
    }
}

static void on_thread_reply(json_t *root)
{
    json_int_t id = json_integer_value(json_object_get(root, "id"));
    int i = (int)id - 2;
    if (i < 0 || i >= B.n_th)
        return;
    struct bthread *t = &B.th[i];
    if (ses_get_id(root, "thread", true, t->id, NULL) != 0 ||
        ses_get_b64(root, "roster_hash", t->roster_hash, 32) != 0)
        die("malformed thread reply");
    ses_id_to_text(t->id_text, t->id);
    /* check the server's roster hash against the protocol's definition */
    uint8_t h[32];
    json_int_t rv = json_integer_value(json_object_get(root, "roster_version"));
    ses_roster_hash(h, t->id, (uint32_t)rv, (const uint8_t(*)[16])t->members, 3);
    if (memcmp(h, t->roster_hash, 32) != 0)
        die("thread %d: the server's roster hash differs from ses_roster_hash", i);
    json_t *members = json_object_get(root, "members");
    size_t mi;
    json_t *mj;
    json_array_foreach(members, mi, mj)
    {
        size_t di;
        json_t *dj;
        json_array_foreach(json_object_get(mj, "devices"), di, dj)
        {
            if (t->n_rcpt >= MAX_THREAD_DEVICES)
                die("thread %d has more than 32 devices", i);
            struct ses_recipient *r = &t->rcpt[t->n_rcpt];
            if (ses_get_id(dj, "device", true, r->device_id, NULL) != 0 ||
                ses_get_b64(dj, "box_pk", r->box_pk, 32) != 0)
                die("malformed device in a thread reply");
            int dv = dev_by_id(r->device_id);
            t->rcpt_dev[t->n_rcpt] = dv;
            t->next_seq[t->n_rcpt] = 1;
            t->n_rcpt++;
            if (dv >= 0) {
                struct dev *d = &B.devs[dv];
                d->threads[d->n_threads++] = i;
            }
        }
    }
    B.th_replies++;
}

static bool threads_done(void)
{
    return B.th_replies >= B.n_th || B.errors > 0 || B.admin.state == D_CLOSED;
}

/* ---------------------------------------------------------------------------------------------- */
/* Planning and sealing */

static uint64_t take_seq(struct bthread *t, int dev)
{
    for (int k = 0; k < t->n_rcpt; k++)
        if (t->rcpt_dev[k] == dev)
            return t->next_seq[k]++;
    die("device %d is not in thread %s", dev, t->id_text);
    return 0;
}

static void plan_add(struct dev *d, size_t cap, uint32_t i)
{
    if (d->plan == NULL)
        d->plan = xcalloc(cap, sizeof *d->plan);
    d->plan[d->plan_n++] = i;
}

static void plan_messages(void)
{
    int senders = 0;
    for (int i = 0; i < B.n_devs; i++)
        senders += B.devs[i].n_threads > 0;
    if (senders == 0)
        die("no device is in a thread");
    size_t n = B.msgs_opt;
    if (n == 0) {
        if (B.mode == M_LATENCY)
            n = (size_t)(B.rate * (B.warmup + B.duration) * 1.02) + 16;
        else
            n = (size_t)(20000.0 * (B.warmup + B.duration)); /* override with --msgs */
    }
    B.n_msgs = n;
    B.msgs = xcalloc(n, sizeof *B.msgs);
    if (B.mode == M_THROUGHPUT) {
        /* every device the same share, round-robin over its threads */
        size_t per = n / (size_t)senders, i = 0;
        for (int dv = 0; dv < B.n_devs; dv++) {
            struct dev *d = &B.devs[dv];
            if (d->n_threads == 0)
                continue;
            for (size_t k = 0; k < per; k++, i++) {
                int th = d->threads[k % (size_t)d->n_threads];
                B.msgs[i].dev = (uint32_t)dv;
                B.msgs[i].thread = (uint32_t)th;
                B.msgs[i].seq = take_seq(&B.th[th], dv);
                plan_add(d, per, (uint32_t)i);
            }
        }
        B.n_msgs = i;
    } else {
        /* round-robin over every (device, thread) pair, in a shuffled order */
        size_t np = 0;
        for (int dv = 0; dv < B.n_devs; dv++)
            np += (size_t)B.devs[dv].n_threads;
        uint32_t(*pairs)[2] = xcalloc(np, sizeof *pairs);
        size_t k = 0;
        for (int dv = 0; dv < B.n_devs; dv++)
            for (int j = 0; j < B.devs[dv].n_threads; j++) {
                pairs[k][0] = (uint32_t)dv;
                pairs[k][1] = (uint32_t)B.devs[dv].threads[j];
                k++;
            }
        for (size_t a = np - 1; a > 0; a--) {
            size_t b = randombytes_uniform((uint32_t)(a + 1));
            uint32_t tmp0 = pairs[a][0], tmp1 = pairs[a][1];
            pairs[a][0] = pairs[b][0];
            pairs[a][1] = pairs[b][1];
            pairs[b][0] = tmp0;
            pairs[b][1] = tmp1;
        }
        for (size_t i = 0; i < n; i++) {
            uint32_t dv = pairs[i % np][0], th = pairs[i % np][1];
            B.msgs[i].dev = dv;
            B.msgs[i].thread = th;
            B.msgs[i].seq = take_seq(&B.th[th], (int)dv);
            plan_add(&B.devs[dv], n, (uint32_t)i);
        }
        free(pairs);
    }
}

struct seal_job {
    uv_thread_t tid;
    size_t from, to;
    int rc;
    size_t env_len, frame_len;
};

static void seal_range(void *arg)
{
    struct seal_job *j = arg;
    for (size_t i = j->from; i < j->to; i++) {
        struct msg *m = &B.msgs[i];
        struct bthread *t = &B.th[m->thread];
        struct dev *d = &B.devs[m->dev];
        struct ses_envelope_header h;
        memset(&h, 0, sizeof h);
        memcpy(h.thread_id, t->id, 16);
        memcpy(h.msg_id, B.run_tag, 8);
        for (int k = 0; k < 8; k++)
            h.msg_id[8 + k] = (uint8_t)((uint64_t)i >> (56 - 8 * k));
        memcpy(h.sender_user_id, d->p->user_id, 16);
        memcpy(h.sender_device_id, d->p->device_id, 16);
        h.sender_seq = m->seq;
        memcpy(h.roster_hash, t->roster_hash, 32);
        h.created_ms = wall_ms();
        uint8_t *env = NULL;
        size_t env_len = 0;
        int rc = ses_envelope_seal(&env, &env_len, &h, SES_CONTENT_TEXT, B.bodybuf, B.body, t->rcpt,
                                   (size_t)t->n_rcpt, d->p->keys.sign_sk);
        if (rc != 0) {
            j->rc = rc;
            return;
        }
        size_t b64 = sodium_base64_ENCODED_LEN(env_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        size_t cap = LWS_PRE + 128 + b64 + 8;
        m->frame = malloc(cap);
        if (m->frame == NULL) {
            j->rc = SES_ENOMEM;
            free(env);
            return;
        }
        char *p = (char *)m->frame + LWS_PRE;
        int n = snprintf(p, 128, "{\"t\":\"send\",\"id\":%zu,\"thread\":\"%s\",\"env\":\"",
                         (size_t)ID_BASE + i, t->id_text);
        sodium_bin2base64(p + n, b64, env, env_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        size_t len = (size_t)n + strlen(p + n);
        memcpy(p + len, "\"}", 3);
        m->len = (uint32_t)(len + 2);
        m->expected = (uint16_t)(t->n_rcpt - 1);
        j->env_len = env_len;
        j->frame_len = m->len;
        free(env);
    }
}

static void seal_all(size_t *env_len, size_t *frame_len, double *secs)
{
    B.bodybuf = xcalloc(B.body ? B.body : 1, 1);
    randombytes_buf(B.bodybuf, B.body);
    int nt = B.prep_threads;
    struct seal_job *jobs = xcalloc((size_t)nt, sizeof *jobs);
    uint64_t t = now_ns();
    for (int k = 0; k < nt; k++) {
        jobs[k].from = B.n_msgs * (size_t)k / (size_t)nt;
        jobs[k].to = B.n_msgs * (size_t)(k + 1) / (size_t)nt;
        if (uv_thread_create(&jobs[k].tid, seal_range, &jobs[k]) != 0)
            die("uv_thread_create");
    }
    for (int k = 0; k < nt; k++) {
        uv_thread_join(&jobs[k].tid);
        if (jobs[k].rc != 0)
            die("ses_envelope_seal failed: %s", ses_err_name(jobs[k].rc));
        if (jobs[k].env_len) {
            *env_len = jobs[k].env_len;
            *frame_len = jobs[k].frame_len;
        }
    }
    *secs = (double)(now_ns() - t) / 1e9;
    free(jobs);
}

/* ---------------------------------------------------------------------------------------------- */
/* Run */

static void read_loadavg(char *out, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    out[0] = '\0';
    if (f) {
        if (fgets(out, (int)cap, f) == NULL)
            out[0] = '\0';
        fclose(f);
    }
    out[strcspn(out, "\n")] = '\0';
}

static void window_open(void)
{
    read_loadavg(B.loadavg0, sizeof B.loadavg0);
    machine_cpu(&B.mach0, &B.steal0);
    B.cpu_self0 = self_cpu();
    daemon_cpu(&B.cpu_loop0, &B.cpu_other0, &B.rss_kb0);
    perf_start();
}

static void window_close(void)
{
    B.cpu_self1 = self_cpu();
    daemon_cpu(&B.cpu_loop1, &B.cpu_other1, &B.rss_kb1);
    machine_cpu(&B.mach1, &B.steal1);
    read_loadavg(B.loadavg1, sizeof B.loadavg1);
    perf_signal();
}

static bool win_opened, win_closed;

static void on_tick(uv_timer_t *t)
{
    (void)t;
    if (B.phase != P_RUN)
        return;
    uint64_t now = now_ns();
    if (!win_opened && now >= B.t_win0) {
        win_opened = true;
        window_open();
    }
    if (now >= B.t_stop ||
        (B.mode == M_THROUGHPUT && B.pool_exhausted && B.t_win1 > now && now > B.t_win0)) {
        /* end of the timed phase: in throughput mode a device that ran out of prepared
         * envelopes ends the window early (the rate would drop from there on) */
        if (now < B.t_win1)
            B.t_win1 = now;
        if (!win_closed) {
            win_closed = true;
            window_close();
        }
        B.phase = P_DRAIN;
        return;
    }
    if (B.mode == M_LATENCY) {
        double el = (double)(now - B.t0) / 1e9;
        size_t due = (size_t)(el * B.rate);
        if (due > B.n_msgs)
            due = B.n_msgs;
        while (B.lat_next < due) {
            struct msg *m = &B.msgs[B.lat_next++];
            allow(&B.devs[m->dev], 1);
        }
    }
}

static bool drained(void)
{
    if (B.issued > B.acked + B.errors)
        return false;
    for (size_t i = 0; i < B.n_msgs; i++) {
        const struct msg *m = &B.msgs[i];
        if (m->t_send != 0 && !m->error && m->delivered < m->expected)
            return false;
    }
    return true;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const struct lat *l, double p)
{
    if (l->n == 0)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)l->n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > l->n)
        k = l->n;
    return (double)l->v[k - 1] / 1000.0;
}

static void print_lat(const char *name, struct lat *l)
{
    qsort(l->v, l->n, sizeof *l->v, cmp_u64);
    double sum = 0;
    for (size_t i = 0; i < l->n; i++)
        sum += (double)l->v[i];
    printf("%-14s: n=%zu  p50 %.0f us  p90 %.0f us  p99 %.0f us  p99.9 %.0f us  max %.0f us  "
           "mean %.0f us\n",
           name, l->n, pct(l, 50), pct(l, 90), pct(l, 99), pct(l, 99.9), pct(l, 100),
           l->n ? sum / (double)l->n / 1000.0 : 0);
}

static void usage(void)
{
    fputs(
        "usage: bench_msg --homes DIR [--mode throughput|latency] [--window W] [--rate R]\n"
        "                 [--duration S] [--warmup S] [--body BYTES] [--threads T] [--msgs N]\n"
        "                 [--prep-threads K] [--devices N] [--daemon-pid PID] [--perf-fsync]\n"
        "                 [--batch-write K] [--timeout S] [--tag TEXT]\n"
        "  --homes DIR      CLI profile folders: one admin and the devices "
        "(nurse/psychiatrist/gp)\n"
        "  --mode           throughput (default): W sends in flight per device;\n"
        "                   latency: R sends/s in total\n"
        "  --window W       sends in flight per device (throughput; default 4)\n"
        "  --rate R         sends per second in total (latency; default 500)\n"
        "  --duration S     measured seconds (default 10); --warmup S before it (default 2)\n"
        "  --body BYTES     message body size (default 1024)\n"
        "  --threads T      threads to create (default: most devices of one role)\n"
        "  --msgs N         envelopes to prepare (throughput default 20000/s x (warmup+duration);\n"
        "                   the window ends early if a device runs out)\n"
        "  --daemon-pid PID CPU of sesamed's loop thread and other threads per message\n"
        "  --perf-fsync     count sesamed's fsync/fdatasync calls in the window (perf stat)\n"
        "  --batch-write K  frames written per WRITEABLE callback at most (default 8)\n"
        "  --dump FILE      CSV per message: send time (ms from start), us to \"sent\", to the\n"
        "                   first and the last push, sender role\n",
        stderr);
    exit(2);
}

static void parse_args(int argc, char **argv)
{
    B.mode = M_THROUGHPUT;
    B.window = 4;
    B.rate = 500;
    B.duration = 10;
    B.warmup = 2;
    B.body = 1024;
    B.prep_threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    B.timeout_s = 0;
    B.batch_write = 8;
    B.tag = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && v != NULL && (i++, 1))
        if (OPT("--homes"))
            B.homes = v;
        else if (OPT("--mode")) {
            if (strcmp(v, "throughput") == 0)
                B.mode = M_THROUGHPUT;
            else if (strcmp(v, "latency") == 0)
                B.mode = M_LATENCY;
            else
                usage();
        } else if (OPT("--window"))
            B.window = atoi(v);
        else if (OPT("--rate"))
            B.rate = atof(v);
        else if (OPT("--duration"))
            B.duration = atof(v);
        else if (OPT("--warmup"))
            B.warmup = atof(v);
        else if (OPT("--body"))
            B.body = (size_t)strtoul(v, NULL, 10);
        else if (OPT("--threads"))
            B.n_threads_opt = atoi(v);
        else if (OPT("--msgs"))
            B.msgs_opt = (size_t)strtoull(v, NULL, 10);
        else if (OPT("--prep-threads"))
            B.prep_threads = atoi(v);
        else if (OPT("--devices"))
            B.max_devices = atoi(v);
        else if (OPT("--daemon-pid"))
            B.daemon_pid = atoi(v);
        else if (OPT("--batch-write"))
            B.batch_write = atoi(v);
        else if (OPT("--timeout"))
            B.timeout_s = atoi(v);
        else if (OPT("--tag"))
            B.tag = v;
        else if (OPT("--dump"))
            B.dump = v;
        else if (strcmp(a, "--perf-fsync") == 0)
            B.perf_fsync = true;
        else
            usage();
#undef OPT
    }
    if (B.homes == NULL || B.window < 1 || B.rate <= 0 || B.duration <= 0 || B.warmup < 0 ||
        B.body > SES_ENVELOPE_BODY_MAX || B.prep_threads < 1 || B.batch_write < 1)
        usage();
    if (B.timeout_s <= 0)
        B.timeout_s = (int)(B.warmup + B.duration) + 300;
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "bench_msg: overall timeout, giving up\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(3);
}

static const char *cpu_model(void)
{
    static char model[256] = "?";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    snprintf(model, sizeof model, "%s", c + 2);
                    model[strcspn(model, "\n")] = '\0';
                }
                break;
            }
        fclose(f);
    }
    return model;
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    if (sodium_init() < 0)
        die("sodium_init");
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
    alarm((unsigned)B.timeout_s);
    randombytes_buf(B.run_tag, sizeof B.run_tag);
    char tagbuf[32];
    if (B.tag == NULL) {
        snprintf(tagbuf, sizeof tagbuf, "%02x%02x%02x", B.run_tag[0], B.run_tag[1], B.run_tag[2]);
        B.tag = tagbuf;
    }

    load_profiles();
    B.n_th = B.n_threads_opt > 0 ? B.n_threads_opt : B.n_role[R_NURSE];
    if (B.n_th < B.n_role[R_PSY])
        B.n_th = B.n_role[R_PSY];
    if (B.n_threads_opt <= 0 && B.n_th < B.n_role[R_GP])
        B.n_th = B.n_role[R_GP];
    B.th = xcalloc((size_t)B.n_th, sizeof *B.th);

    /* 1. connect and log in */
    setup_lws();
    uint64_t t = now_ns();
    B.phase = P_CONNECT;
    connect_dev(&B.admin);
    for (int i = 0; i < B.n_devs; i++)
        connect_dev(&B.devs[i]);
    if (!run_until(all_ready, 30))
        die("devices did not all log in within 30 s");
    int ready = 0;
    for (int i = 0; i < B.n_devs; i++)
        ready += B.devs[i].state == D_READY;
    if (ready != B.n_devs || B.admin.state != D_READY)
        die("only %d of %d devices logged in", ready, B.n_devs);
    double t_login = (double)(now_ns() - t) / 1e9;

    /* 2. threads */
    B.phase = P_SETUP;
    t = now_ns();
    create_threads();
    if (!run_until(threads_done, 60) || B.th_replies < B.n_th)
        die("thread creation failed (%d of %d threads)", B.th_replies, B.n_th);
    double t_threads = (double)(now_ns() - t) / 1e9;

    /* 3. envelopes */
    B.phase = P_IDLE;
    plan_messages();
    size_t env_len = 0, frame_len = 0;
    double t_seal = 0;
    seal_all(&env_len, &frame_len, &t_seal);
    uv_update_time(&B.loop);
    /* let the loop take in anything that arrived meanwhile (roster pushes) */
    for (int k = 0; k < 20; k++)
        uv_run(&B.loop, UV_RUN_NOWAIT);

    int senders = 0, min_th = 1 << 30, max_th = 0, n_pairs = 0;
    for (int i = 0; i < B.n_devs; i++) {
        senders += B.devs[i].n_threads > 0;
        n_pairs += B.devs[i].n_threads;
        if (B.devs[i].n_threads < min_th)
            min_th = B.devs[i].n_threads;
        if (B.devs[i].n_threads > max_th)
            max_th = B.devs[i].n_threads;
    }
    int rcpt = B.th[0].n_rcpt;

    printf("== bench_msg: sesamed message path over loopback TLS (%s, %s) ==\n", B.host_header,
           B.mode == M_THROUGHPUT ? "throughput" : "latency");
    printf("machine       : %ld CPUs online (%s)\n", sysconf(_SC_NPROCESSORS_ONLN), cpu_model());
    printf("devices       : %d connected and logged in (%d nurse, %d psychiatrist, %d gp), "
           "%d sending; login %.2f s\n",
           B.n_devs, B.n_role[R_NURSE], B.n_role[R_PSY], B.n_role[R_GP], senders, t_login);
    printf("threads       : %d of 3 members (%d devices each; a device is in %d..%d threads); "
           "created in %.2f s\n",
           B.n_th, rcpt, min_th, max_th, t_threads);
    printf("envelopes     : %zu prepared in %.1f s (%d threads); body %zu B -> envelope %zu B, "
           "frame %zu B\n",
           B.n_msgs, t_seal, B.prep_threads, B.body, env_len, frame_len);
    if (B.mode == M_THROUGHPUT)
        printf("load          : window %d per device (%d in flight), warm-up %.1f s, measured "
               "%.1f s\n",
               B.window, B.window * senders, B.warmup, B.duration);
    else
        printf("load          : %.0f msgs/s in total over %d (device, thread) pairs, warm-up "
               "%.1f s, measured %.1f s\n",
               B.rate, n_pairs, B.warmup, B.duration);
    fflush(stdout);

    /* 4. timed phase */
    B.phase = P_RUN;
    uint64_t t0_wall = wall_ms();
    B.t0 = now_ns();
    B.t_win0 = B.t0 + (uint64_t)(B.warmup * 1e9);
    B.t_win1 = B.t_win0 + (uint64_t)(B.duration * 1e9);
    B.t_stop = B.t_win1;
    if (B.warmup == 0) {
        win_opened = true;
        window_open();
    }
    if (B.mode == M_THROUGHPUT)
        for (int i = 0; i < B.n_devs; i++)
            if (B.devs[i].n_threads > 0)
                allow(&B.devs[i], (size_t)B.window);
    while (B.phase == P_RUN)
        uv_run(&B.loop, UV_RUN_ONCE);
    bool ok = run_until(drained, 15);
    struct perf_counts pc;
    int have_perf = perf_stop(&pc);

    /* 5. report */
    double win = (double)(B.t_win1 - B.t_win0) / 1e9;
    size_t sent_in_win = 0, deliv_expected = 0, deliv_got = 0, missing_acks = 0;
    for (size_t i = 0; i < B.n_msgs; i++) {
        const struct msg *m = &B.msgs[i];
        if (m->t_send == 0)
            continue;
        if (m->t_send >= B.t_win0 && m->t_send < B.t_win1)
            sent_in_win++;
        if (!m->error && m->t_ack == 0)
            missing_acks++;
        if (!m->error) {
            deliv_expected += m->expected;
            deliv_got += m->delivered < m->expected ? m->delivered : m->expected;
        }
    }
    double rate = (double)B.acks_in_win / win;
    {
        time_t ts = (time_t)(t0_wall / 1000);
        struct tm tm;
        char when[32];
        gmtime_r(&ts, &tm);
        strftime(when, sizeof when, "%H:%M:%S", &tm);
        printf("timed phase   : started %s.%03dZ (t=0 of --dump)\n", when, (int)(t0_wall % 1000));
    }
    printf("window        : %.2f s%s\n", win,
           B.pool_exhausted && B.mode == M_THROUGHPUT
               ? " (ended early: a device used up its prepared envelopes; use --msgs)"
               : "");
    printf("durable msgs/s: %.0f  (\"sent\" replies in the window: %zu; sends issued in it: %zu)\n",
           rate, B.acks_in_win, sent_in_win);
    printf("deliveries/s  : %.0f pushes received in the window, for %.0f expected (%d devices per "
           "thread but the sender)%s\n",
           (double)B.pushes_in_win / win, rate * (rcpt - 1), rcpt - 1,
           (double)B.pushes_in_win < 0.95 * rate * (rcpt - 1) * win ? " -- DELIVERY FALLS BEHIND"
                                                                    : "");
    print_lat("send->sent", &B.ack_lat);
    print_lat("send->push", &B.del_lat);
    static const char *const rname[5] = {"", "  to nurses", "  to psychiatr.", "  to GPs", ""};
    for (int r = R_NURSE; r <= R_GP; r++)
        print_lat(rname[r], &B.del_role[r]);
    double n_acks = (double)B.acks_in_win;
    if (B.daemon_pid > 0 && n_acks > 0) {
        double lp = B.cpu_loop1 - B.cpu_loop0, op = B.cpu_other1 - B.cpu_other0;
        printf("sesamed CPU   : loop thread %.0f%% of a core (%.1f us/msg), other threads %.0f%% "
               "(%.1f us/msg); RSS %ld -> %ld KiB\n",
               100 * lp / win, 1e6 * lp / n_acks, 100 * op / win, 1e6 * op / n_acks, B.rss_kb0,
               B.rss_kb1);
    }
    if (n_acks > 0) {
        double sc = B.cpu_self1 - B.cpu_self0;
        printf("driver CPU    : %.0f%% of a core (%.1f us/msg)\n", 100 * sc / win,
               1e6 * sc / n_acks);
    }
    {
        double all = B.mach1 - B.mach0, sc = B.cpu_self1 - B.cpu_self0;
        double dm =
            B.daemon_pid > 0 ? (B.cpu_loop1 - B.cpu_loop0) + (B.cpu_other1 - B.cpu_other0) : 0;
        double rest = all - sc - dm;
        printf("machine load  : other processes about %.0f%% of a core%s; steal %.0f%%; loadavg "
               "%s -> %s\n",
               100 * (rest > 0 ? rest : 0) / win,
               rest / win > 0.10 ? " (NOT QUIET: figures are contaminated)" : "",
               100 * (B.steal1 - B.steal0) / win, B.loadavg0, B.loadavg1);
    }
    if (have_perf == 0) {
        double pw = (double)(B.t_perf1 - B.t_perf0) / 1e9;
        long syncs = pc.fdatasync + pc.fsync;
        printf("sesamed syncs : %ld in %.2f s (fdatasync %ld, fsync %ld) = %.0f/s -> about %.1f "
               "msgs per sync (the writer's group commit)\n",
               syncs, pw, pc.fdatasync, pc.fsync, (double)syncs / pw,
               syncs ? rate * pw / (double)syncs : 0.0);
        printf("sesamed sleeps: loop thread %ld (clock_)nanosleep calls, other threads %ld "
               "(SQLite's busy handler sleeps this way)\n",
               pc.sleep_loop, pc.sleep_other);
        printf("sesamed loop  : %.0f iterations/s (epoll waits), %.1f msgs per iteration; "
               "syscalls per msg: loop thread %.1f (epoll_ctl %.1f), other threads %.1f\n",
               (double)pc.loop_polls / pw, pc.loop_polls ? rate * pw / (double)pc.loop_polls : 0,
               (double)pc.loop_syscalls / (rate * pw), (double)pc.loop_ctl / (rate * pw),
               (double)pc.other_syscalls / (rate * pw));
    }
    printf("errors        : %zu error replies, %zu missing \"sent\", %zu of %zu pushes missing, "
           "%zu duplicate acks, %zu unknown pushes%s\n",
           B.errors, missing_acks, deliv_expected - deliv_got, deliv_expected, B.dup_acks,
           B.unknown_push, ok ? "" : " (drain timed out after 15 s)");
    printf("RESULT mode=%s devices=%d threads=%d body=%zu %s=%g msgs_per_s=%.0f ack_p50_us=%.0f "
           "ack_p99_us=%.0f push_p50_us=%.0f push_p99_us=%.0f push_max_us=%.0f errors=%zu\n",
           B.mode == M_THROUGHPUT ? "throughput" : "latency", B.n_devs, B.n_th, B.body,
           B.mode == M_THROUGHPUT ? "window" : "rate",
           B.mode == M_THROUGHPUT ? (double)B.window : B.rate, rate, pct(&B.ack_lat, 50),
           pct(&B.ack_lat, 99), pct(&B.del_lat, 50), pct(&B.del_lat, 99), pct(&B.del_lat, 100),
           B.errors + missing_acks + (deliv_expected - deliv_got));
    fflush(stdout);
    if (B.dump != NULL) {
        FILE *f = fopen(B.dump, "w");
        if (f == NULL)
            die("cannot write %s", B.dump);
        fprintf(f, "idx,t_send_ms,ack_us,push_first_us,push_last_us,sender_role,in_window\n");
        for (size_t i = 0; i < B.n_msgs; i++) {
            const struct msg *m = &B.msgs[i];
            if (m->t_send == 0)
                continue;
            static const char *const rn[5] = {"?", "nurse", "psychiatrist", "gp", "admin"};
            fprintf(f, "%zu,%.3f,%.1f,%.1f,%.1f,%s,%d\n", i, (double)(m->t_send - B.t0) / 1e6,
                    m->t_ack ? (double)(m->t_ack - m->t_send) / 1e3 : -1.0,
                    m->t_push_first ? (double)(m->t_push_first - m->t_send) / 1e3 : -1.0,
                    m->t_push_last ? (double)(m->t_push_last - m->t_send) / 1e3 : -1.0,
                    rn[B.devs[m->dev].role], m->t_send >= B.t_win0 && m->t_send < B.t_win1);
        }
        fclose(f);
    }

    /* 6. close */
    B.phase = P_CLOSE;
    uv_timer_stop(&B.tick);
    B.admin.want_close = true;
    if (B.admin.wsi)
        lws_callback_on_writable(B.admin.wsi);
    for (int i = 0; i < B.n_devs; i++) {
        B.devs[i].want_close = true;
        if (B.devs[i].wsi)
            lws_callback_on_writable(B.devs[i].wsi);
    }
    uv_timer_start(&B.tick, on_tick, 10, 10);
    (void)run_until(all_closed, 3);
    uv_timer_stop(&B.tick);
    lws_context_destroy(B.ctx);
    uv_close((uv_handle_t *)&B.tick, NULL);
    while (uv_run(&B.loop, UV_RUN_DEFAULT) != 0)
        ;
    lws_context_destroy(B.ctx);
    SSL_CTX_free(B.ssl_ctx);
    while (uv_run(&B.loop, UV_RUN_DEFAULT) != 0)
        ;
    if (uv_loop_close(&B.loop) != 0)
        fprintf(stderr, "bench_msg: loop still had handles at exit\n");
    for (size_t i = 0; i < B.n_msgs; i++)
        free(B.msgs[i].frame);
    return (B.errors || missing_acks) ? 1 : 0;
}
