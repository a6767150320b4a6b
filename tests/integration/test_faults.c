/*
 * test_faults.c - integration: the real sesamed on a filesystem that fills up and on a database
 * that cannot be written. The test process first enters a private mount namespace of its own
 * (as root; otherwise in a user namespace too) so that it can mount a small tmpfs and make
 * read-only bind mounts that nobody else sees and that vanish with it.
 *
 *  - disk_full: with the data directory on a 48 MiB tmpfs filled to the last byte, a send is
 *    refused with STORAGE_FULL (exit 2, nothing stored), logins, reads and the record of a
 *    refusal go on from the released reserve, the log says so once, not per refusal; when space
 *    returns writes resume by themselves and the reserve is made again; server.stop and
 *    server.start are recorded on a full disk, and the audit log still verifies.
 *  - read_only_db / read_only_dir: a database file or data directory on a read-only mount is
 *    refused at start and by `sesamed check`, naming the file (root is not stopped by modes).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "reserve.h"

#define FS_MIB 48 /* the tmpfs: the database, its WAL, the reserve, and room to fill */

/* --- the private mount namespace ---------------------------------------------------------------
 */

static int write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Before any thread exists (unshare of the mount namespace needs an unshared fs). */
static int enter_private_mounts(void)
{
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWNS) != 0) {
        char map[64];
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) {
            fprintf(stderr, "integ.faults: cannot make a private mount namespace: %s\n",
                    strerror(errno));
            return -1;
        }
        snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
        if (write_text("/proc/self/setgroups", "deny") != 0 ||
            write_text("/proc/self/uid_map", map) != 0) {
            fprintf(stderr, "integ.faults: cannot map the user namespace: %s\n", strerror(errno));
            return -1;
        }
        snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
        (void)write_text("/proc/self/gid_map", map);
    }
    if (mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
        fprintf(stderr, "integ.faults: cannot make / private: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static void bind_read_only_ok(const char *path)
{
    if (mount(path, path, NULL, MS_BIND, NULL) != 0 ||
        mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0)
        fail_msg("read-only bind mount of %s: %s", path, strerror(errno));
}

static void unmount_ok(const char *path)
{
    if (umount2(path, MNT_DETACH) != 0)
        fail_msg("umount %s: %s", path, strerror(errno));
}

/* --- the environment: data directory on a small tmpfs -------------------------------------------
 */

struct fenv {
    struct h_env *e;
    char *fs;     /* the tmpfs mount point (tmp/fs), or NULL */
    char *filler; /* fs/filler */
};

static int f_setup(void **state)
{
    struct fenv *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->e = h_env_new("faults");
    *state = f;
    return 0;
}

static int f_teardown(void **state)
{
    struct fenv *f = *state;
    int rc = 0;
    if (f->e->d.pid > 0 && h_daemon_stop(&f->e->d) != 0)
        rc = -1; /* stopped before the tmpfs goes */
    if (f->fs != NULL && umount2(f->fs, MNT_DETACH) != 0)
        rc = -1;
    (void)umount2(f->e->db, MNT_DETACH); /* a read-only test that failed half-way */
    (void)umount2(f->e->data, MNT_DETACH);
    if (h_env_free(f->e) != 0)
        rc = -1;
    free(f->fs);
    free(f->filler);
    free(f);
    return rc;
}

/* Mounts the tmpfs and moves the env's data directory onto it. */
static void on_tmpfs(struct fenv *f)
{
    f->fs = h_path(f->e->tmp, "fs");
    f->filler = h_path(f->fs, "filler");
    assert_int_equal(mkdir(f->fs, 0700), 0);
    char *opts = h_fmt("size=%dm,mode=0700", FS_MIB);
    if (mount("sesame-test", f->fs, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0)
        fail_msg("mount tmpfs on %s: %s", f->fs, strerror(errno));
    free(opts);
    free(f->e->data);
    free(f->e->db);
    f->e->data = h_path(f->fs, "data");
    f->e->db = h_path(f->e->data, "sesame.db");
}

/* Takes every free byte of the tmpfs into the filler file (appending to it). */
static void fill_ok(struct fenv *f)
{
    int fd = open(f->filler, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    struct stat sb;
    assert_int_equal(fstat(fd, &sb), 0);
    off_t at = sb.st_size;
    for (off_t chunk = 1 << 20; chunk >= 4096; chunk /= 2)
        while (posix_fallocate(fd, at, chunk) == 0)
            at += chunk;
    close(fd);
    /* the last page: the tmpfs has no block left for anyone */
    fd = open(f->filler, O_WRONLY | O_APPEND | O_CLOEXEC);
    assert_true(fd >= 0);
    char page[4096] = {0};
    while (write(fd, page, sizeof page) > 0)
        ;
    assert_int_equal(errno, ENOSPC);
    close(fd);
}

static void unfill_ok(struct fenv *f)
{
    assert_int_equal(unlink(f->filler), 0);
}

static off_t reserve_size(struct fenv *f)
{
    char *p = h_path(f->e->data, SES_RESERVE_FILE);
    struct stat sb;
    off_t n = stat(p, &sb) == 0 ? sb.st_size : -1;
    free(p);
    return n;
}

static char *last_action(const struct h_env *e)
{
    return h_db_text(e->db, "SELECT action FROM audit ORDER BY seq DESC LIMIT 1");
}

/* Occurrences of needle in the daemon's log. */
static int log_count(const struct h_env *e, const char *needle)
{
    size_t len = 0;
    char *log = h_read_file(e->log, &len);
    assert_non_null(log);
    int n = 0;
    for (const char *p = log; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    free(log);
    return n;
}

static void send_expect(const char *home, const char *thread, const char *text, const char *code)
{
    struct h_cli r;
    h_cli_run(&r, home, NULL, "send", thread, text, NULL);
    if (code == NULL)
        h_cli_assert_ok(&r);
    else
        h_cli_assert_error(&r, 1, code); /* a server-side failure: try again later */
    h_cli_free(&r);
}

/* On a full disk a small write may still fit in pages the database or its WAL already hold:
 * sends large messages until one is refused with STORAGE_FULL (at most 100). Returns how many
 * were stored first. */
static int send_until_full(const char *home, const char *thread)
{
    char *pad = malloc(60001);
    assert_non_null(pad);
    memset(pad, 'x', 60000);
    pad[60000] = '\0';
    for (int i = 0; i < 100; i++) {
        char *text = h_fmt("stored while the disk filled %d %s", i, pad);
        struct h_cli r;
        h_cli_run(&r, home, NULL, "send", thread, text, NULL);
        free(text);
        if (r.p.status != 0) {
            h_cli_assert_error(&r, 1, "STORAGE_FULL");
            h_cli_free(&r);
            free(pad);
            return i;
        }
        h_cli_free(&r);
    }
    free(pad);
    fail_msg("100 sends of 60 kB stored on a full disk");
    return -1;
}

/* Sends until one is stored (a full daemon looks for room once a second): at most 5 s. */
static void send_until_ok(const char *home, const char *thread, const char *text)
{
    uint64_t t0 = h_mono_ms();
    for (;;) {
        struct h_cli r;
        h_cli_run(&r, home, NULL, "send", thread, text, NULL);
        bool ok = r.p.status == 0;
        if (!ok && (h_mono_ms() - t0 > 5000 || strstr(r.p.err, "STORAGE_FULL") == NULL))
            h_cli_assert_ok(&r);
        h_cli_free(&r);
        if (ok)
            return;
        h_sleep_ms(200);
    }
}

/* `thread show` by home: exit 0 and every text in want[] (NULL-terminated) shown, refused absent.
 */
static void show_has(const char *home, const char *thread, const char *const want[],
                     const char *absent)
{
    struct h_cli r;
    h_cli_run_text(&r, home, NULL, "thread", "show", thread, NULL);
    if (r.p.status != 0)
        fail_msg("thread show on a full disk: exit %d, stderr [%s]", r.p.status, r.p.err);
    for (int i = 0; want[i] != NULL; i++)
        if (strstr(r.p.out, want[i]) == NULL)
            fail_msg("thread show lacks [%s]: [%s]", want[i], r.p.out);
    assert_null(strstr(r.p.out, absent));
    h_cli_free(&r);
}

static void check_sound(const struct h_env *e)
{
    struct h_proc p = h_run_check(e->data);
    if (p.status != 0)
        fail_msg("sesamed check after the full disk: exit %d, [%s]", p.status, p.err);
    h_proc_free(&p);
}

static void test_disk_full(void **state)
{
    struct fenv *f = *state;
    struct h_env *e = f->e;
    on_tmpfs(f);
    h_env_start(e, 0);
    assert_int_equal(reserve_size(f), (off_t)SES_RESERVE_BYTES);
    char psy_user[40];
    char *nurse = h_add_user_ok(e, "nurse", "nurse", "Nina Nurse", "site-a", NULL, NULL);
    char *psy = h_add_user_ok(e, "psy", "psychiatrist", "Paul Psy", NULL, psy_user, NULL);
    struct h_cli r;
    h_cli_run(&r, nurse, NULL, "thread", "create", "--patient", "P-FULL1", "--title",
              "follow-up, full disk", "--member", psy_user, NULL);
    h_cli_assert_ok(&r);
    char *thread = strdup(h_jstr(r.json, "thread"));
    h_cli_free(&r);
    send_expect(nurse, thread, "before the disk filled", NULL);

    /* full: the send is refused with its code, nothing stored; the reserve goes to the rest */
    fill_ok(f);
    int64_t n_msgs = h_db_int(e->db, "SELECT COUNT(*) FROM messages");
    n_msgs += send_until_full(nurse, thread);
    assert_int_equal(reserve_size(f), -1);
    for (int i = 0; i < 5; i++)
        send_expect(nurse, thread, "refused on a full disk", "STORAGE_FULL");
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM messages"), n_msgs);
    /* logins and reads go on; so does the record of a refusal */
    const char *want[] = {"follow-up, full disk", "before the disk filled", NULL};
    show_has(psy, thread, want, "refused on a full disk");
    int64_t denied = h_audit_count(e->db, "authz.denied", NULL);
    h_cli_run(&r, nurse, NULL, "admin", "users", NULL);
    h_cli_assert_error(&r, 1, "DENIED");
    h_cli_free(&r);
    h_audit_wait_count(e->db, "authz.denied", NULL, denied + 1);
    assert_true(h_audit_count(e->db, "auth.login", "ok") >= 9);
    /* said once when the disk filled, not per refusal */
    assert_int_equal(log_count(e, "the disk is full: the reserve is released"), 1);
    assert_true(log_count(e, "writes are refused with STORAGE_FULL (") <= 1);

    /* room again: writes resume by themselves, the reserve is back */
    unfill_ok(f);
    send_until_ok(nurse, thread, "after the disk was freed");
    assert_int_equal(reserve_size(f), (off_t)SES_RESERVE_BYTES);
    assert_int_equal(log_count(e, "the disk has room again"), 1);

    /* a stop and a start on a full disk are recorded all the same, with the reserve and then
     * with none left */
    fill_ok(f);
    char *listen = h_fmt("127.0.0.1:%d", e->d.port); /* where the CLI profiles point */
    for (int round = 1; round <= 2; round++) {
        assert_int_equal(h_daemon_stop(&e->d), 0);
        char *act = last_action(e);
        assert_string_equal(act, "server.stop");
        free(act);
        h_daemon_start_ok(&e->d, e->data, e->log, listen, NULL);
        h_audit_wait_count(e->db, "server.start", NULL, 1 + round);
        n_msgs += send_until_full(nurse, thread);
        assert_int_equal(reserve_size(f), -1);
        const char *want2[] = {"before the disk filled", "after the disk was freed", NULL};
        show_has(psy, thread, want2, "refused on a full disk");
    }
    /* the second start at the latest found the reserve gone (released at the first stop, or by
     * the first start's refusals) and no room to make it */
    assert_true(log_count(e, "no room for the 8 MiB reserve") >= 1);
    unfill_ok(f);
    send_until_ok(nurse, thread, "after the second fill");
    assert_int_equal(reserve_size(f), (off_t)SES_RESERVE_BYTES);
    assert_int_equal(h_daemon_stop(&e->d), 0);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM messages"), n_msgs + 2);
    assert_int_equal(h_audit_count(e->db, "server.stop", NULL), 3);
    check_sound(e);
    free(listen);
    free(thread);
    free(nurse);
    free(psy);
}

/* path (the database file or the data directory) on a read-only mount: start and check refuse,
 * naming it; sound again once the mount is gone. */
static void read_only_refused(struct fenv *f, const char *path, const char *fault)
{
    struct h_env *e = f->e;
    h_env_start(e, H_ENV_NO_START);
    bind_read_only_ok(path);
    h_expect_start_refused(e->tmp, e->data, path, fault);
    h_expect_check_refused(e->data, path, fault);
    unmount_ok(path);
    check_sound(e);
}

/* A database file on a read-only mount (root ignores modes). */
static void test_read_only_db(void **state)
{
    struct fenv *f = *state;
    read_only_refused(f, f->e->db, "read-only");
}

/* The data directory read-only (the WAL cannot be made there). */
static void test_read_only_dir(void **state)
{
    struct fenv *f = *state;
    read_only_refused(f, f->e->data, "the data directory is not writable");
}

int main(int argc, char **argv)
{
    if (enter_private_mounts() != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_disk_full, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_db, f_setup, f_teardown),
        cmocka_unit_test_setup_teardown(test_read_only_dir, f_setup, f_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.faults", tests, NULL, NULL);
}
