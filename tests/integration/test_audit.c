/*
 * test_audit.c - integration: the tamper-evident audit log (PROTOCOL.md §8-§9) through the real
 * `sesame audit` commands against the real sesamed.
 *
 *  - scripted_day: a day of activity, then the auditor's `audit verify` (pinning the key printed
 *    by `sesamed log-key`) passes and stores the checkpoint; a second verify extends it; tail,
 * show, prove and checkpoint return exactly what the database holds; clinicians get DENIED for
 * every audit command, each refusal is an authz.denied record, and every read is an audit.read
 * record.
 *  - pinning: the log key is pinned once, a different key is refused (and --repin does not pin a
 *    key that does not verify the server's checkpoint).
 *  - tamper_*: from one verified state (daemon stopped, the auditor's stored checkpoint of size M),
 *    each case copies the data dir and the auditor's home, changes the SQLite file the way an
 *    attacker with write access to it could (without the log key), restarts the daemon and checks
 *    that `audit verify` exits 6 with exactly the expected reason and keeps the stored checkpoint.
 *  - fhir_export: JSON Lines (the records' canonical bytes) and FHIR R4 AuditEvent NDJSON.
 *  - prune: with audit_retention_days, pruned records keep their leaf hashes and verify passes.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "harness.h"
#include "wire.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/merkle.h"
#include "sesame/note.h"

#define DAY_MS 86400000LL
#define EXIT_VERIFY 6

/* --- helpers -------------------------------------------------------------------------------- */

static void user_hex(char out[33], const char *user)
{
    h_id_hex(out, user);
}

/* The DB's leaf hash of seq as base64url. */
static void db_leaf_b64(const char *db, int64_t seq, char out[64])
{
    char *hex =
        h_db_text(db, "SELECT lower(hex(leaf_hash)) FROM audit WHERE seq = %lld", (long long)seq);
    uint8_t h[32];
    assert_non_null(hex);
    assert_int_equal(sodium_hex2bin(h, 32, hex, strlen(hex), NULL, NULL, NULL), 0);
    assert_int_equal(ses_b64_encode(out, 64, h, 32), 0);
    free(hex);
}

/* The daemon stores a checkpoint through its group-commit writer just after handing it out: wait
 * (bounded) until the row of this size is there. */
static void wait_checkpoint_row(const char *db, int64_t size)
{
    for (int i = 0; i < 200; i++) {
        if (h_db_int(db, "SELECT COUNT(*) FROM audit_checkpoint WHERE size = %lld",
                     (long long)size) == 1)
            return;
        h_sleep_ms(10);
    }
    fail_msg("no stored checkpoint of size %lld after 2 s", (long long)size);
}

/* The DB's checkpoint root of size as standard base64 (as in the note). */
static void db_root_b64(const char *db, int64_t size, char out[64])
{
    wait_checkpoint_row(db, size);
    char *hex = h_db_text(db, "SELECT lower(hex(root)) FROM audit_checkpoint WHERE size = %lld",
                          (long long)size);
    uint8_t h[32];
    assert_non_null(hex);
    assert_int_equal(sodium_hex2bin(h, 32, hex, strlen(hex), NULL, NULL, NULL), 0);
    sodium_bin2base64(out, 64, h, 32, sodium_base64_VARIANT_ORIGINAL);
    free(hex);
}

/* j is null when want is NULL, else the string want. */
static void expect_str_or_null(const json_t *j, const char *want, const char *what)
{
    if (want == NULL ? json_is_null(j)
                     : json_is_string(j) && strcmp(json_string_value(j), want) == 0)
        return;
    char *s = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    print_error("%s: want %s, got %s\n", what, want ? want : "null", s ? s : "(absent)");
    free(s);
    fail();
}

/* An id member (text) against a 16-byte BLOB column (NULL or not). */
static void expect_id_col(const char *db, int64_t seq, const char *col, const json_t *j)
{
    char *hex =
        h_db_text(db, "SELECT lower(hex(%s)) FROM audit WHERE seq = %lld", col, (long long)seq);
    if (hex == NULL || hex[0] == '\0') {
        expect_str_or_null(j, NULL, col);
    } else {
        char got[33];
        assert_true(json_is_string(j));
        h_id_hex(got, json_string_value(j));
        assert_string_equal(got, hex);
    }
    free(hex);
}

/* A parsed record (the canonical bytes) matches its row: every field, and the bytes themselves
 * when rec_text is given. */
static void expect_record_is_row(const char *db, const json_t *r, const char *rec_text)
{
    int64_t seq = h_jint(r, "seq");
    assert_int_equal(h_jint(r, "v"), 1);
    assert_int_equal(h_jint(r, "ts"),
                     h_db_int(db, "SELECT ts_ms FROM audit WHERE seq = %lld", (long long)seq));
    static const char *const cols[] = {"action", "object", "outcome", "peer"};
    for (size_t i = 0; i < 4; i++) {
        char *v = h_db_text(db, "SELECT %s FROM audit WHERE seq = %lld", cols[i], (long long)seq);
        expect_str_or_null(json_object_get(r, cols[i]), v, cols[i]);
        free(v);
    }
    const json_t *a = json_object_get(r, "actor");
    assert_true(json_is_object(a));
    expect_id_col(db, seq, "actor_user", json_object_get(a, "user"));
    expect_id_col(db, seq, "actor_device", json_object_get(a, "device"));
    char *role = h_db_text(db, "SELECT actor_role FROM audit WHERE seq = %lld", (long long)seq);
    expect_str_or_null(json_object_get(a, "role"), role, "actor.role");
    free(role);
    if (rec_text != NULL) {
        char *bytes = h_db_text(db, "SELECT CAST(record AS TEXT) FROM audit WHERE seq = %lld",
                                (long long)seq);
        assert_non_null(bytes);
        assert_string_equal(rec_text, bytes);
        free(bytes);
    }
}

/* Waits until the log has at least want rows (the CLI has exited, so they are committed; this
 * only guards against a slow WAL reader). */
static void wait_seq(const char *db, int64_t want)
{
    uint64_t deadline = h_mono_ms() + H_AUDIT_WAIT_MS;
    while (h_audit_max_seq(db) < want && h_mono_ms() < deadline)
        h_sleep_ms(10);
}

/* After a command refused with DENIED: exactly two new rows, the login and the denial, both by
 * the user (hex). Returns the new highest seq. */
static int64_t expect_login_then_denied(const char *db, int64_t before, const char *uhex)
{
    wait_seq(db, before + 2);
    assert_int_equal(h_db_int(db, "SELECT COUNT(*) FROM audit WHERE seq > %lld", (long long)before),
                     2);
    assert_int_equal(h_db_int(db,
                              "SELECT COUNT(*) FROM audit WHERE seq = %lld AND action = "
                              "'auth.login' AND outcome = 'ok' AND actor_user = X'%s'",
                              (long long)before + 1, uhex),
                     1);
    assert_int_equal(h_db_int(db,
                              "SELECT COUNT(*) FROM audit WHERE seq = %lld AND action = "
                              "'authz.denied' AND outcome = 'DENIED' AND object = 'audit_read' "
                              "AND actor_user = X'%s'",
                              (long long)before + 2, uhex),
                     1);
    return before + 2;
}

static void date_of(char out[16], int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    assert_non_null(gmtime_r(&s, &tm));
    assert_true(strftime(out, 16, "%Y-%m-%d", &tm) == 10);
}

static void iso_ms(char out[40], int64_t ms)
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    char base[32];
    assert_non_null(gmtime_r(&s, &tm));
    assert_true(strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm) > 0);
    snprintf(out, 40, "%s.%03dZ", base, (int)(ms % 1000));
}

/* Splits a text into lines (without their '\n'); every line must end with '\n'. Returns the
 * number of lines; *lines points into *copy (free both). */
static size_t split_lines(const char *text, size_t len, char **copy, char ***lines)
{
    size_t n = 0;
    *copy = strndup(text, len);
    *lines = calloc(len + 1, sizeof **lines);
    assert_non_null(*copy);
    assert_non_null(*lines);
    assert_true(len == 0 || text[len - 1] == '\n');
    for (char *p = *copy; *p != '\0';) {
        char *nl = strchr(p, '\n');
        assert_non_null(nl);
        *nl = '\0';
        (*lines)[n++] = p;
        p = nl + 1;
    }
    return n;
}

static json_t *parse_line(const char *line)
{
    json_error_t jerr;
    json_t *j = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(j))
        fail_msg("not a JSON object: [%s] (%s)", line, jerr.text);
    return j;
}

static int file_mode(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        fail_msg("stat(%s) failed", path);
    return (int)(st.st_mode & 07777);
}

/* `audit verify --json [--log-key KEY]` by home; asserts success and returns the reply. */
static json_t *verify_ok(const char *home, const char *vkey)
{
    struct h_cli r;
    if (vkey != NULL)
        h_cli_run(&r, home, NULL, "audit", "verify", "--log-key", vkey, NULL);
    else
        h_cli_run(&r, home, NULL, "audit", "verify", NULL);
    h_cli_assert_ok(&r);
    json_t *j = json_incref(r.json);
    h_cli_free(&r);
    assert_true(json_is_true(json_object_get(j, "ok")));
    assert_int_equal(h_jint(j, "records"), h_jint(j, "size"));
    assert_int_equal(json_object_size(j), 6);
    return j;
}

/* --- scripted day ----------------------------------------------------------------------------- */

static void test_scripted_day(void **state)
{
    struct h_env *e = *state;
    struct h_cli r;
    h_env_start(e, 0);
    char *vkey = h_log_key_ok(e->data);
    assert_string_equal(vkey, h_jstr(e->init.json, "log_key"));

    char nurse[40], psy[40], psydev[40], gp[40], aud[40];
    char *nhome = h_add_user_ok(e, "nurse", "nurse", "Anne Martin", "Lyon-3", nurse, NULL);
    char *phome = h_add_user_ok(e, "psy", "psychiatrist", "Paul Durand", "Lyon-3", psy, psydev);
    char *ghome = h_add_user_ok(e, "gp", "gp", "Claire Petit", "Villeurbanne", gp, NULL);
    char *ahome = h_add_user_ok(e, "auditor", "auditor", "Marc Leroy", NULL, aud, NULL);
    const char *homes[] = {e->admin_home, nhome, phome, ghome, ahome};
    for (size_t i = 0; i < 5; i++) {
        h_cli_run(&r, homes[i], NULL, "whoami", NULL);
        h_cli_assert_ok(&r);
        h_cli_free(&r);
    }
    h_cli_run(&r, e->admin_home, NULL, "admin", "users", NULL);
    h_cli_assert_ok(&r);
    h_cli_free(&r);
    h_cli_run(&r, nhome, NULL, "admin", "users", NULL); /* a clinician tries an admin command */
    h_cli_assert_error(&r, 1, "DENIED");
    h_cli_free(&r);
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--device", psydev, NULL);
    h_cli_assert_ok(&r);
    h_cli_free(&r);
    h_cli_run(&r, phome, NULL, "whoami", NULL);
    h_cli_assert_error(&r, 1, "REVOKED");
    h_cli_free(&r);
    int64_t denied_seq = h_db_int(e->db, "SELECT seq FROM audit WHERE action = 'authz.denied'");
    char nhex[33], ghex[33], ahex[33];
    user_hex(nhex, nurse);
    user_hex(ghex, gp);
    user_hex(ahex, aud);

    /* the auditor's first verify pins the key and stores the checkpoint */
    int64_t before = h_audit_max_seq(e->db);
    h_cli_run_text(&r, ahome, NULL, "audit", "verify", "--log-key", vkey, NULL);
    if (r.p.status != 0)
        fail_msg("audit verify: exit %d\nstdout: %s\nstderr: %s", r.p.status, r.p.out, r.p.err);
    long long n1 = 0, n1b = 0;
    char root1[64] = "", want_root[64];
    assert_int_equal(sscanf(r.p.out,
                            "OK: %lld records verified against checkpoint %lld (root %44s)", &n1,
                            &n1b, root1),
                     3);
    assert_int_equal(n1, n1b);
    assert_int_equal(r.p.err_len, 0);
    h_cli_free(&r);
    /* the verify's own session: its login, then audit.read, both inside the checkpoint */
    assert_int_equal(n1, before + 2);
    assert_int_equal(h_audit_max_seq(e->db), n1);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM audit"), n1);
    assert_int_equal(h_db_int(e->db,
                              "SELECT COUNT(*) FROM audit WHERE seq = %lld AND action = "
                              "'auth.login' AND actor_user = X'%s'",
                              n1 - 1, ahex),
                     1);
    assert_int_equal(h_db_int(e->db,
                              "SELECT COUNT(*) FROM audit WHERE seq = %lld AND action = "
                              "'audit.read' AND object = 'checkpoint' AND outcome = 'ok' AND "
                              "actor_user = X'%s' AND actor_role = 'auditor'",
                              n1, ahex),
                     1);
    db_root_b64(e->db, n1, want_root);
    assert_string_equal(root1, want_root);
    /* the auditor's state: the pinned key and the checkpoint note exactly as signed */
    char *adir = h_path(ahome, "audit");
    char *vfile = h_path(adir, "log.vkey"), *cfile = h_path(adir, "checkpoint");
    assert_int_equal(file_mode(adir), 0700);
    assert_int_equal(file_mode(vfile), 0600);
    assert_int_equal(file_mode(cfile), 0600);
    char *pinned = h_read_file(vfile, NULL), *stored = h_read_file(cfile, NULL);
    char *want_pin = h_fmt("%s\n", vkey);
    assert_string_equal(pinned, want_pin);
    wait_checkpoint_row(e->db, n1);
    char *note1 =
        h_db_text(e->db, "SELECT note FROM audit_checkpoint WHERE size = %lld", (long long)n1);
    assert_string_equal(stored, note1);
    free(pinned);
    free(stored);
    free(want_pin);

    /* a second verify (pinned key, no --log-key) extends the stored checkpoint */
    json_t *v2 = verify_ok(ahome, NULL);
    assert_int_equal(h_jint(v2, "previous_size"), n1);
    assert_int_equal(h_jint(v2, "size"), n1 + 2);
    assert_int_equal(h_jint(v2, "pruned"), 0);
    assert_int_equal(h_audit_max_seq(e->db), n1 + 2);
    db_root_b64(e->db, n1 + 2, want_root);
    assert_string_equal(h_jstr(v2, "root"), want_root);
    json_decref(v2);
    stored = h_read_file(cfile, NULL);
    wait_checkpoint_row(e->db, n1 + 2);
    char *note2 =
        h_db_text(e->db, "SELECT note FROM audit_checkpoint WHERE size = %lld", (long long)n1 + 2);
    assert_string_equal(stored, note2);
    free(stored);
    free(note2);

    /* tail: every record, oldest first, field by field as in the database */
    h_cli_run(&r, ahome, NULL, "audit", "tail", "--limit", "1000", NULL);
    h_cli_assert_ok(&r);
    const json_t *recs = json_object_get(r.json, "records");
    assert_int_equal(json_object_size(r.json), 1);
    assert_int_equal(json_array_size(recs), h_db_int(e->db, "SELECT COUNT(*) FROM audit"));
    size_t i;
    const json_t *rec;
    json_array_foreach(recs, i, rec)
    {
        assert_int_equal(h_jint(rec, "seq"), (int64_t)i + 1);
        expect_record_is_row(e->db, rec, NULL);
    }
    h_cli_free(&r);
    /* filters */
    h_cli_run(&r, ahome, NULL, "audit", "tail", "--action", "authz.denied", NULL);
    h_cli_assert_ok(&r);
    recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs), 1);
    assert_int_equal(h_jint(json_array_get(recs, 0), "seq"), denied_seq);
    h_cli_free(&r);
    h_cli_run(&r, ahome, NULL, "audit", "tail", "--actor", nurse, "--limit", "1000", NULL);
    h_cli_assert_ok(&r);
    recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs),
                     h_db_int(e->db, "SELECT COUNT(*) FROM audit WHERE actor_user = X'%s'", nhex));
    json_array_foreach(recs, i, rec)
        assert_string_equal(h_jstr(json_object_get(rec, "actor"), "user"), nurse);
    h_cli_free(&r);
    h_cli_run(&r, ahome, NULL, "audit", "tail", "--since", "5", "--limit", "3", NULL);
    h_cli_assert_ok(&r);
    recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs), 3);
    for (i = 0; i < 3; i++)
        assert_int_equal(h_jint(json_array_get(recs, i), "seq"), 6 + (int64_t)i);
    h_cli_free(&r);
    /* the human table: a header and one line per record */
    h_cli_run_text(&r, ahome, NULL, "audit", "tail", "--action", "authz.denied", NULL);
    assert_int_equal(r.p.status, 0);
    char *want_head = h_fmt("SEQ");
    assert_int_equal(strncmp(r.p.out, want_head, 3), 0);
    assert_non_null(strstr(r.p.out, "authz.denied"));
    assert_non_null(strstr(r.p.out, "DENIED"));
    char *actor_cell = h_fmt("nurse:%.8s", nurse);
    assert_non_null(strstr(r.p.out, actor_cell));
    free(actor_cell);
    free(want_head);
    h_cli_free(&r);

    /* show: the record, its exact bytes and its stored leaf hash */
    char sseq[32], want_hash[64];
    snprintf(sseq, sizeof sseq, "%lld", (long long)denied_seq);
    h_cli_run(&r, ahome, NULL, "audit", "show", sseq, NULL);
    h_cli_assert_ok(&r);
    expect_record_is_row(e->db, r.json, h_jstr(r.json, "rec"));
    assert_int_equal(h_jint(r.json, "seq"), denied_seq);
    assert_string_equal(h_jstr(r.json, "action"), "authz.denied");
    assert_string_equal(h_jstr(r.json, "outcome"), "DENIED");
    assert_string_equal(h_jstr(json_object_get(r.json, "actor"), "user"), nurse);
    db_leaf_b64(e->db, denied_seq, want_hash);
    assert_string_equal(h_jstr(r.json, "hash"), want_hash);
    assert_int_equal(json_object_size(r.json), 10); /* 8 record keys + rec + hash */
    h_cli_free(&r);
    h_cli_run(&r, ahome, NULL, "audit", "show", "999999", NULL);
    h_cli_assert_error(&r, 1, "NOT_FOUND");
    h_cli_free(&r);

    /* prove: checked locally against the freshly signed checkpoint */
    h_cli_run(&r, ahome, NULL, "audit", "prove", sseq, NULL);
    h_cli_assert_ok(&r);
    assert_true(json_is_true(json_object_get(r.json, "verified")));
    assert_true(json_is_true(json_object_get(r.json, "signature_verified")));
    assert_int_equal(h_jint(r.json, "seq"), denied_seq);
    int64_t psize = h_jint(r.json, "size");
    assert_int_equal(psize, h_audit_max_seq(e->db));
    db_root_b64(e->db, psize, want_root);
    assert_string_equal(h_jstr(r.json, "root"), want_root);
    assert_string_equal(h_jstr(r.json, "leaf_hash"), want_hash);
    assert_true(json_array_size(json_object_get(r.json, "proof")) > 0);
    h_cli_free(&r);

    /* checkpoint: the signed note as it is */
    h_cli_run_text(&r, ahome, NULL, "audit", "checkpoint", NULL);
    assert_int_equal(r.p.status, 0);
    int64_t csize = h_audit_max_seq(e->db);
    wait_checkpoint_row(e->db, csize);
    char *note =
        h_db_text(e->db, "SELECT note FROM audit_checkpoint WHERE size = %lld", (long long)csize);
    assert_string_equal(r.p.out, note);
    char *copy, **lines;
    size_t nl = split_lines(r.p.out, r.p.out_len, &copy, &lines);
    assert_int_equal(nl, 5);
    char *origin = h_fmt("sesame/audit/%s", e->init.server_id);
    assert_string_equal(lines[0], origin);
    char *size_line = h_fmt("%lld", (long long)csize);
    assert_string_equal(lines[1], size_line);
    db_root_b64(e->db, csize, want_root);
    assert_string_equal(lines[2], want_root);
    assert_string_equal(lines[3], "");
    char *sig_prefix = h_fmt("\xe2\x80\x94 %s ", origin);
    assert_int_equal(strncmp(lines[4], sig_prefix, strlen(sig_prefix)), 0);
    free(sig_prefix);
    free(size_line);
    free(copy);
    free(lines);
    free(note);
    h_cli_free(&r);
    h_cli_run(&r, ahome, NULL, "audit", "checkpoint", NULL);
    h_cli_assert_ok(&r);
    csize = h_jint(r.json, "size");
    wait_checkpoint_row(e->db, csize);
    note =
        h_db_text(e->db, "SELECT note FROM audit_checkpoint WHERE size = %lld", (long long)csize);
    assert_string_equal(h_jstr(r.json, "checkpoint"), note);
    assert_int_equal(json_object_size(r.json), 2);
    free(note);
    h_cli_free(&r);

    /* the admin may read the log too */
    h_cli_run(&r, e->admin_home, NULL, "audit", "tail", "--limit", "1", NULL);
    h_cli_assert_ok(&r);
    assert_int_equal(json_array_size(json_object_get(r.json, "records")), 1);
    h_cli_free(&r);

    /* clinicians: DENIED for every audit command, each refusal recorded, nothing read */
    char today[16];
    date_of(today, h_wall_ms());
    const char *who[] = {nhome, ghome};
    const char *whohex[] = {nhex, ghex};
    for (size_t k = 0; k < 2; k++) {
        const char *const cmds[][8] = {
            {"audit", "tail", NULL},
            {"audit", "show", "1", NULL},
            {"audit", "checkpoint", NULL},
            {"audit", "prove", "1", NULL},
            {"audit", "verify", "--log-key", vkey, NULL},
            {"audit", "export", "--from", today, "--to", today, NULL},
            {"audit", "export", "--from", today, "--to", today, "--fhir", NULL},
        };
        for (size_t c = 0; c < sizeof cmds / sizeof cmds[0]; c++) {
            before = h_audit_max_seq(e->db);
            h_cli_run(&r, who[k], NULL, cmds[c][0], cmds[c][1], cmds[c][2], cmds[c][3], cmds[c][4],
                      cmds[c][5], cmds[c][6], NULL);
            h_cli_assert_error(&r, 1, "DENIED");
            assert_int_equal(r.p.out_len, 0);
            h_cli_free(&r);
            expect_login_then_denied(e->db, before, whohex[k]);
        }
        /* the refused verify pinned nothing */
        char *kdir = h_path(who[k], "audit");
        char *kvkey = h_path(kdir, "log.vkey");
        assert_null(h_read_file(kvkey, NULL));
        free(kvkey);
        free(kdir);
    }
    assert_int_equal(h_db_int(e->db,
                              "SELECT COUNT(*) FROM audit WHERE action = 'audit.read' AND "
                              "actor_user IN (X'%s', X'%s')",
                              nhex, ghex),
                     0);
    /* every audit session of the auditor was recorded as one audit.read */
    assert_true(h_db_int(e->db,
                         "SELECT COUNT(*) FROM audit WHERE action = 'audit.read' AND "
                         "actor_user = X'%s'",
                         ahex) >= 10);

    /* and the whole day still verifies */
    json_t *v3 = verify_ok(ahome, NULL);
    assert_int_equal(h_jint(v3, "previous_size"), n1 + 2);
    assert_int_equal(h_jint(v3, "size"), h_audit_max_seq(e->db));
    json_decref(v3);

    free(note1);
    free(origin);
    free(vfile);
    free(cfile);
    free(adir);
    free(nhome);
    free(phome);
    free(ghome);
    free(ahome);
    free(vkey);
}

/* --- pinning ---------------------------------------------------------------------------------- */

static void test_pinning(void **state)
{
    struct h_env *e = *state;
    struct h_cli r;
    h_env_start(e, 0);
    char *vkey = h_log_key_ok(e->data);
    char *ahome = h_add_user_ok(e, "auditor", "auditor", "Marc Leroy", NULL, NULL, NULL);
    char *vfile = h_fmt("%s/audit/log.vkey", ahome);
    char *cfile = h_fmt("%s/audit/checkpoint", ahome);

    /* no key pinned and none given: where to get it */
    h_cli_run(&r, ahome, NULL, "audit", "verify", NULL);
    assert_int_equal(r.p.status, 2);
    assert_non_null(strstr(r.p.err, "sesame: error: no log key pinned"));
    assert_non_null(strstr(r.p.err, "sesamed log-key --data DIR"));
    h_cli_free(&r);
    /* not a key */
    h_cli_run(&r, ahome, NULL, "audit", "verify", "--log-key", "sesame/audit/x+00000000+AAAA",
              NULL);
    assert_int_equal(r.p.status, 2);
    assert_non_null(strstr(r.p.err, "--log-key is not a log verifier key"));
    h_cli_free(&r);
    /* a well-formed key that did not sign the server's checkpoints: exit 6, nothing pinned */
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    char other[SES_NOTE_VKEY_MAX + 1], name[128];
    snprintf(name, sizeof name, "sesame/audit/%s", e->init.server_id);
    assert_int_equal(ses_note_vkey_format(other, sizeof other, name, pk), 0);
    h_cli_run(&r, ahome, NULL, "audit", "verify", "--log-key", other, NULL);
    char *want = h_fmt("sesame: error: AUDIT_VERIFY_FAILED: checkpoint signature: the latest "
                       "checkpoint is not signed by the pinned log key %s\n",
                       name);
    assert_int_equal(r.p.status, EXIT_VERIFY);
    assert_string_equal(r.p.err, want);
    free(want);
    h_cli_free(&r);
    assert_null(h_read_file(vfile, NULL));
    assert_null(h_read_file(cfile, NULL));

    /* the right key is pinned */
    json_decref(verify_ok(ahome, vkey));
    char *pinned = h_read_file(vfile, NULL);
    char *want_pin = h_fmt("%s\n", vkey);
    assert_string_equal(pinned, want_pin);
    free(pinned);
    /* the same key again is fine; another one is refused, even if it would not verify */
    json_decref(verify_ok(ahome, vkey));
    h_cli_run(&r, ahome, NULL, "audit", "verify", "--log-key", other, NULL);
    assert_int_equal(r.p.status, 2);
    assert_non_null(strstr(r.p.err, "--log-key differs from the log key pinned in"));
    assert_non_null(strstr(r.p.err, "--repin"));
    h_cli_free(&r);
    /* --repin with a key that does not verify the checkpoint: exit 6, the old pin stays */
    h_cli_run(&r, ahome, NULL, "audit", "verify", "--log-key", other, "--repin", NULL);
    assert_int_equal(r.p.status, EXIT_VERIFY);
    h_cli_free(&r);
    pinned = h_read_file(vfile, NULL);
    assert_string_equal(pinned, want_pin);
    free(pinned);
    /* --repin without a key is a usage error */
    h_cli_run(&r, ahome, NULL, "audit", "verify", "--repin", NULL);
    assert_int_equal(r.p.status, 2);
    h_cli_free(&r);
    /* prove uses the pinned key */
    h_cli_run(&r, ahome, NULL, "audit", "prove", "1", NULL);
    h_cli_assert_ok(&r);
    assert_true(json_is_true(json_object_get(r.json, "signature_verified")));
    h_cli_free(&r);

    free(want_pin);
    free(vfile);
    free(cfile);
    free(ahome);
    free(vkey);
}

/* --- tampering -------------------------------------------------------------------------------- */

/* The verified state every tamper case starts from (built once, daemon stopped). */
struct base {
    struct h_env *e;
    char *ahome; /* the auditor's home: pinned key, stored checkpoint of size m */
    char *vkey;
    int64_t m;       /* the stored checkpoint's size */
    int64_t denied;  /* seq of the nurse's authz.denied record (well inside 1..m) */
    int64_t total;   /* records in the file after the stop */
    char *ckpt;      /* the stored checkpoint file's bytes */
    char *vkey_file; /* the pinned key file's bytes */
};
static struct base *g_base;

static char *home_file(const char *home, const char *name)
{
    char *p = h_fmt("%s/audit/%s", home, name);
    char *s = h_read_file(p, NULL);
    free(p);
    return s;
}

static struct base *base_get(void)
{
    if (g_base != NULL)
        return g_base;
    struct base *b = calloc(1, sizeof *b);
    struct h_cli r;
    assert_non_null(b);
    b->e = h_env_new("audit-base");
    g_base = b; /* freed by the group teardown, even if the rest fails */
    h_env_start(b->e, 0);
    struct h_env *e = b->e;
    b->vkey = h_log_key_ok(e->data);
    char gp[40];
    char *nhome = h_add_user_ok(e, "nurse", "nurse", "Anne Martin", "Lyon-3", NULL, NULL);
    char *ghome = h_add_user_ok(e, "gp", "gp", "Claire Petit", NULL, gp, NULL);
    b->ahome = h_add_user_ok(e, "auditor", "auditor", "Marc Leroy", NULL, NULL, NULL);
    h_cli_run(&r, nhome, NULL, "admin", "users", NULL);
    h_cli_assert_error(&r, 1, "DENIED");
    h_cli_free(&r);
    b->denied = h_db_int(e->db, "SELECT seq FROM audit WHERE action = 'authz.denied'");
    h_cli_run(&r, ghome, NULL, "whoami", NULL);
    h_cli_assert_ok(&r);
    h_cli_free(&r);
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--user", gp, NULL);
    h_cli_assert_ok(&r);
    h_cli_free(&r);
    h_cli_run(&r, e->admin_home, NULL, "admin", "users", NULL);
    h_cli_assert_ok(&r);
    h_cli_free(&r);
    json_t *v = verify_ok(b->ahome, b->vkey);
    b->m = h_jint(v, "size");
    json_decref(v);
    assert_true(b->denied + 6 <= b->m);
    for (int i = 0; i < 2; i++) { /* the log grows past the stored checkpoint */
        h_cli_run(&r, nhome, NULL, "whoami", NULL);
        h_cli_assert_ok(&r);
        h_cli_free(&r);
    }
    assert_int_equal(h_daemon_stop(&e->d), 0);
    b->total = h_audit_max_seq(e->db);
    assert_int_equal(b->total, b->m + 3); /* two logins and server.stop */
    b->ckpt = home_file(b->ahome, "checkpoint");
    b->vkey_file = home_file(b->ahome, "log.vkey");
    assert_non_null(b->ckpt);
    assert_non_null(b->vkey_file);
    free(nhome);
    free(ghome);
    return b;
}

static int base_free(void **state)
{
    (void)state;
    struct base *b = g_base;
    g_base = NULL;
    if (b == NULL)
        return 0;
    int rc = h_env_free(b->e);
    free(b->ahome);
    free(b->vkey);
    free(b->ckpt);
    free(b->vkey_file);
    free(b);
    return rc;
}

/* One tamper case: copies of the base's data dir and auditor home, its own daemon. */
struct tcase {
    char *tmp, *data, *db, *log, *ahome;
    struct h_daemon d;
};

static int case_setup(void **state)
{
    struct tcase *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->tmp = h_mkdtemp_ok("audit-case");
    c->data = h_path(c->tmp, "data");
    c->db = h_path(c->data, "sesame.db");
    c->log = h_path(c->tmp, "sesamed.log");
    c->ahome = h_path(c->tmp, "home-auditor");
    *state = c;
    return 0;
}

static int case_teardown(void **state)
{
    struct tcase *c = *state;
    int rc = 0;
    if (c == NULL)
        return 0;
    if (c->d.pid > 0 && h_daemon_stop(&c->d) != 0)
        rc = -1;
    if (getenv("SESAME_INTEG_KEEP") != NULL)
        print_message("kept %s\n", c->tmp);
    else
        h_rmtree(c->tmp);
    free(c->tmp);
    free(c->data);
    free(c->db);
    free(c->log);
    free(c->ahome);
    free(c);
    *state = NULL;
    return rc;
}

/* Copies the verified state into the case. */
static struct base *case_copy(struct tcase *c)
{
    struct base *b = base_get();
    h_copy_tree_ok(b->e->data, c->data);
    h_copy_tree_ok(b->ahome, c->ahome);
    return b;
}

/* Starts the daemon on the (tampered) copy and runs the auditor's `audit verify` from the stored
 * checkpoint. */
static void case_verify(struct tcase *c, struct h_cli *r)
{
    h_daemon_start_ok(&c->d, c->data, c->log, NULL, NULL);
    h_home_set_server_ok(c->ahome, c->d.url);
    h_cli_run(r, c->ahome, NULL, "audit", "verify", NULL);
}

/* Exit 6, exactly "sesame: error: AUDIT_VERIFY_FAILED: <why>" on stderr, nothing on stdout, and
 * the auditor's state untouched. */
static void expect_verify_failed(const struct base *b, struct tcase *c, struct h_cli *r,
                                 const char *why)
{
    char *want = h_fmt("sesame: error: AUDIT_VERIFY_FAILED: %s\n", why);
    if (r->p.status != EXIT_VERIFY || strcmp(r->p.err, want) != 0 || r->p.out_len != 0) {
        print_error("want exit %d and stderr [%s]\ngot exit %d, stdout [%s], stderr [%s]\n",
                    EXIT_VERIFY, want, r->p.status, r->p.out, r->p.err);
        free(want);
        fail();
    }
    free(want);
    h_cli_free(r);
    char *ck = home_file(c->ahome, "checkpoint"), *vk = home_file(c->ahome, "log.vkey");
    assert_non_null(ck);
    assert_non_null(vk);
    assert_string_equal(ck, b->ckpt);
    assert_string_equal(vk, b->vkey_file);
    free(ck);
    free(vk);
}

/* Leaf hash of a text as a hex literal body. */
static void leaf_hex(char out[65], const char *text)
{
    uint8_t h[32];
    ses_merkle_leaf_hash(h, (const uint8_t *)text, strlen(text));
    sodium_bin2hex(out, 65, h, 32);
}

/* Untampered copy: verify passes and extends the stored checkpoint (the control case). */
static void test_tamper_control(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    struct h_cli r;
    case_verify(c, &r);
    h_cli_assert_ok(&r);
    assert_int_equal(h_jint(r.json, "previous_size"), b->m);
    /* server.start, the auditor's login and audit.read came after the stop */
    assert_int_equal(h_jint(r.json, "size"), b->total + 3);
    assert_int_equal(h_jint(r.json, "size"), h_audit_max_seq(c->db));
    h_cli_free(&r);
}

/* (a) one record's bytes changed (the denial made to look like a success), hash left alone. */
static void test_tamper_modified(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    long long k = b->denied;
    h_db_exec(c->db,
              "UPDATE audit SET record = CAST(replace(CAST(record AS TEXT), "
              "'\"outcome\":\"DENIED\"', '\"outcome\":\"ok\"') AS BLOB), outcome = 'ok' "
              "WHERE seq = %lld",
              k);
    assert_int_equal(h_db_int(c->db,
                              "SELECT COUNT(*) FROM audit WHERE seq = %lld AND "
                              "instr(CAST(record AS TEXT), '\"outcome\":\"ok\"') > 0",
                              k),
                     1);
    struct h_cli r;
    case_verify(c, &r);
    char *why = h_fmt("record %lld: its bytes do not match its leaf hash", k);
    expect_verify_failed(b, c, &r, why);
    /* prove checks the record too */
    char sk[32];
    snprintf(sk, sizeof sk, "%lld", k);
    h_cli_run(&r, c->ahome, NULL, "audit", "prove", sk, NULL);
    expect_verify_failed(b, c, &r, why);
    free(why);
}

/* (a') the same change with its leaf hash recomputed too (the tree nodes left alone). */
static void test_tamper_modified_rehashed(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    long long k = b->denied;
    char *text = h_db_text(c->db, "SELECT CAST(record AS TEXT) FROM audit WHERE seq = %lld", k);
    char *p = strstr(text, "\"outcome\":\"DENIED\"");
    assert_non_null(p);
    char *forged = h_fmt("%.*s\"outcome\":\"ok\"%s", (int)(p - text), text,
                         p + strlen("\"outcome\":\"DENIED\""));
    char hex[65];
    leaf_hex(hex, forged);
    h_db_exec(c->db,
              "UPDATE audit SET record = CAST('%s' AS BLOB), leaf_hash = X'%s', outcome = 'ok' "
              "WHERE seq = %lld",
              forged, hex, k);
    free(text);
    free(forged);
    struct h_cli r;
    case_verify(c, &r);
    char *why = h_fmt("records 1..%lld do not rebuild the root of the stored checkpoint %lld",
                      (long long)b->m, (long long)b->m);
    expect_verify_failed(b, c, &r, why);
    free(why);
    /* the tree nodes still hold the old leaf hash: the record's inclusion proof fails */
    char sk[32];
    snprintf(sk, sizeof sk, "%lld", k);
    h_cli_run(&r, c->ahome, NULL, "audit", "prove", sk, NULL);
    long long n_now = h_audit_max_seq(c->db);
    why =
        h_fmt("record %lld: its inclusion proof does not verify against checkpoint %lld", k, n_now);
    expect_verify_failed(b, c, &r, why);
    free(why);
}

/* (a'') two neighbouring records swapped (bytes and hashes): positions no longer match. */
static void test_tamper_swapped(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    long long k = b->denied;
    h_db_exec(c->db,
              "UPDATE audit SET seq = -seq WHERE seq IN (%lld, %lld);"
              "UPDATE audit SET seq = %lld WHERE seq = %lld;"
              "UPDATE audit SET seq = %lld WHERE seq = %lld;",
              k, k + 1, k + 1, -k, k, -(k + 1));
    struct h_cli r;
    case_verify(c, &r);
    char *why = h_fmt("record %lld: its seq field is %lld", k, k + 1);
    expect_verify_failed(b, c, &r, why);
    free(why);
}

/* (b) one record deleted in the middle. */
static void test_tamper_deleted(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    long long k = b->denied;
    h_db_exec(c->db, "DELETE FROM audit WHERE seq = %lld", k);
    struct h_cli r;
    case_verify(c, &r);
    char *why = h_fmt("record %lld missing: the server sent record %lld after record %lld", k,
                      k + 1, k - 1);
    expect_verify_failed(b, c, &r, why);
    free(why);
}

/* (b') one record's bytes erased as if pruned (its leaf hash left): without an audit.prune record
 * that announces it, this is tampering, not retention. */
static void test_tamper_erased(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    long long k = b->denied;
    h_db_exec(c->db, "UPDATE audit SET record = NULL WHERE seq = %lld", k);
    struct h_cli r;
    case_verify(c, &r);
    char *why =
        h_fmt("record %lld: its bytes were removed but no audit.prune record announces it", k);
    expect_verify_failed(b, c, &r, why);
    free(why);
}

static int put_node(void *ud, unsigned level, uint64_t index, const uint8_t hash[32])
{
    sqlite3_stmt *st = ud;
    sqlite3_bind_int(st, 1, (int)level);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)index);
    sqlite3_bind_blob(st, 3, hash, 32, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : SES_EIO;
}

static void sql_ok(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("sqlite: %s: %s", sql, msg ? msg : "?");
}

static void expect_start_refused(struct tcase *c, const char *file, const char *fault);

/* The operator's way past a refusal over checkpoint.latest: moving the file aside (what the
 * refusal says to do to accept a loss). What auditors then see is what each test checks next. */
static char *ckpt_file(struct tcase *c)
{
    return h_path(c->data, "checkpoint.latest");
}

static void ckpt_move_aside(struct tcase *c)
{
    char *f = ckpt_file(c), *to = h_fmt("%s.aside", f);
    assert_int_equal(rename(f, to), 0);
    free(f);
    free(to);
}

/* (c) a forged record inserted in the middle by someone with write access to the file but not
 * the log key, done thoroughly: later records renumbered (seq column and the seq in their bytes),
 * every leaf hash recomputed, every tree node rebuilt and the checkpoints that no longer match
 * deleted - the daemon then signs the forged tree itself. Only the auditor's stored checkpoint
 * can tell. */
static void test_tamper_inserted(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    long long k = b->denied;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(c->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sql_ok(db, "BEGIN");
    char *sql = h_fmt("UPDATE audit SET seq = -(seq + 1) WHERE seq >= %lld;"
                      "UPDATE audit SET seq = -seq WHERE seq < 0;",
                      k);
    sql_ok(db, sql);
    free(sql);
    /* renumber the bytes of the moved records */
    sqlite3_stmt *sel = NULL, *upd = NULL, *ins = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT seq, CAST(record AS TEXT) FROM audit WHERE seq > "
                                        "?1 ORDER BY seq",
                                        -1, &sel, NULL),
                     SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "UPDATE audit SET record = ?2, leaf_hash = ?3 WHERE seq = ?1", -1,
                           &upd, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(sel, 1, k);
    int n = 0;
    while (sqlite3_step(sel) == SQLITE_ROW) {
        long long seq = sqlite3_column_int64(sel, 0);
        const char *text = (const char *)sqlite3_column_text(sel, 1);
        char *old = h_fmt("\"seq\":%lld,", seq - 1), *neu = h_fmt("\"seq\":%lld,", seq);
        const char *p = strstr(text, old);
        assert_non_null(p);
        char *moved = h_fmt("%.*s%s%s", (int)(p - text), text, neu, p + strlen(old));
        uint8_t h[32];
        ses_merkle_leaf_hash(h, (const uint8_t *)moved, strlen(moved));
        sqlite3_bind_int64(upd, 1, seq);
        sqlite3_bind_blob(upd, 2, moved, (int)strlen(moved), SQLITE_TRANSIENT);
        sqlite3_bind_blob(upd, 3, h, 32, SQLITE_TRANSIENT);
        assert_int_equal(sqlite3_step(upd), SQLITE_DONE);
        sqlite3_reset(upd);
        free(old);
        free(neu);
        free(moved);
        n++;
    }
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    assert_int_equal(n, b->total - k + 1);
    /* the forged record: a server stop that never happened, at the time of record k - 1 */
    sqlite3_stmt *ts = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT ts_ms FROM audit WHERE seq = ?1", -1, &ts, NULL), SQLITE_OK);
    sqlite3_bind_int64(ts, 1, k - 1);
    assert_int_equal(sqlite3_step(ts), SQLITE_ROW);
    long long t = sqlite3_column_int64(ts, 0);
    sqlite3_finalize(ts);
    char *forged = h_fmt("{\"v\":1,\"seq\":%lld,\"ts\":%lld,\"actor\":{\"user\":null,"
                         "\"device\":null,\"role\":null},\"action\":\"server.stop\","
                         "\"object\":null,\"outcome\":\"ok\",\"peer\":null}",
                         k, t);
    uint8_t fh[32];
    ses_merkle_leaf_hash(fh, (const uint8_t *)forged, strlen(forged));
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO audit(seq, ts_ms, action, outcome, record, "
                                        "leaf_hash) VALUES(?1, ?2, 'server.stop', 'ok', ?3, ?4)",
                                        -1, &ins, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(ins, 1, k);
    sqlite3_bind_int64(ins, 2, t);
    sqlite3_bind_blob(ins, 3, forged, (int)strlen(forged), SQLITE_TRANSIENT);
    sqlite3_bind_blob(ins, 4, fh, 32, SQLITE_TRANSIENT);
    assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
    sqlite3_finalize(ins);
    free(forged);
    /* rebuild every tree node from the leaf hashes; drop the checkpoints that now disagree */
    sql_ok(db, "DELETE FROM audit_node");
    sqlite3_stmt *leaves = NULL, *put = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT leaf_hash FROM audit ORDER BY seq", -1, &leaves, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO audit_node(level, idx, hash) "
                                        "VALUES(?1, ?2, ?3)",
                                        -1, &put, NULL),
                     SQLITE_OK);
    struct ses_merkle_frontier f;
    ses_merkle_frontier_init(&f);
    while (sqlite3_step(leaves) == SQLITE_ROW) {
        assert_int_equal(sqlite3_column_bytes(leaves, 0), 32);
        assert_int_equal(ses_merkle_append(&f, sqlite3_column_blob(leaves, 0), put_node, put), 0);
    }
    sqlite3_finalize(leaves);
    sqlite3_finalize(put);
    assert_int_equal((long long)f.size, b->total + 1);
    sql = h_fmt("DELETE FROM audit_checkpoint WHERE size >= %lld", k);
    sql_ok(db, sql);
    free(sql);
    sql_ok(db, "COMMIT");
    sqlite3_close(db);

    /* the checkpoint kept beside the database no longer matches the tree: refused at start */
    char *ck = ckpt_file(c);
    char *fault = h_fmt("the audit tree does not match the latest signed checkpoint (size %lld)",
                        (long long)b->total);
    expect_start_refused(c, ck, fault);
    free(fault);
    free(ck);
    ckpt_move_aside(c);
    struct h_cli r;
    case_verify(c, &r);
    /* the daemon signed the forged tree: server.start, login and audit.read on top of it */
    long long n_now = h_audit_max_seq(c->db);
    assert_int_equal(n_now, b->total + 1 + 3);
    char *why = h_fmt("the log is not consistent with the stored checkpoint: the consistency "
                      "proof from %lld to %lld records does not verify",
                      (long long)b->m, n_now);
    expect_verify_failed(b, c, &r, why);
    free(why);
}

/* (d) the log truncated: the last records, their tree nodes and the checkpoints over them gone. */
static void test_tamper_truncated(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    long long t = b->m - 6;
    h_db_exec(c->db,
              "DELETE FROM audit WHERE seq > %lld;"
              "DELETE FROM audit_node WHERE ((idx + 1) << level) > %lld;"
              "DELETE FROM audit_checkpoint WHERE size > %lld;",
              t, t, t);
    assert_int_equal(h_db_int(c->db, "SELECT MAX(idx) + 1 FROM audit_node WHERE level = 0"), t);
    char *ck = ckpt_file(c);
    char *fault = h_fmt("the database is behind its latest signed checkpoint: it holds %lld audit "
                        "records, %lld were committed",
                        t, (long long)b->total);
    expect_start_refused(c, ck, fault);
    free(fault);
    free(ck);
    ckpt_move_aside(c);
    struct h_cli r;
    case_verify(c, &r);
    long long n_now = h_audit_max_seq(c->db);
    assert_int_equal(n_now, t + 3); /* server.start, the auditor's login and audit.read */
    char *why = h_fmt("the log shrank: the latest checkpoint has %lld records, the stored "
                      "checkpoint %lld",
                      n_now, (long long)b->m);
    expect_verify_failed(b, c, &r, why);
    free(why);
}

/* The daemon refuses to start on the tampered copy: a non-zero exit within 10 s, stderr naming
 * the file and the fault, no ready file. */
static void expect_start_refused(struct tcase *c, const char *file, const char *fault)
{
    h_expect_start_refused(c->tmp, c->data, file, fault);
}

/* (f) a forged row appended while the daemon is stopped, with no record bytes and no leaf hash
 * (as rows were before the Merkle log): it is never hashed into the tree and signed (the
 * backfill is a migration, run once), the daemon refuses to start. */
static void test_tamper_appended_unhashed(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    long long next = h_audit_max_seq(c->db) + 1;
    h_db_exec(c->db,
              "INSERT INTO audit(seq, ts_ms, action, outcome) VALUES(%lld, 0, 'admin.user_add', "
              "'ok')",
              next);
    char *fault = h_fmt("audit row %lld has no leaf hash", next);
    expect_start_refused(c, c->db, fault);
    free(fault);
    assert_int_equal(h_db_int(c->db, "SELECT COUNT(*) FROM audit WHERE leaf_hash IS NULL"), 1);
    assert_int_equal(h_db_int(c->db, "SELECT MAX(idx) + 1 FROM audit_node WHERE level = 0"),
                     next - 1);
    (void)b;
}

/* (g) a stray row appended with a leaf hash but no tree node: the daemon refuses to start
 * instead of starting "ready" with every audited request (every login) colliding with it. */
static void test_tamper_appended_stray(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    long long next = h_audit_max_seq(c->db) + 1;
    char *forged = h_fmt("{\"v\":1,\"seq\":%lld,\"ts\":0,\"actor\":{\"user\":null,"
                         "\"device\":null,\"role\":null},\"action\":\"server.stop\","
                         "\"object\":null,\"outcome\":\"ok\",\"peer\":null}",
                         next);
    char hex[65];
    leaf_hex(hex, forged);
    h_db_exec(c->db,
              "INSERT INTO audit(seq, ts_ms, action, outcome, record, leaf_hash) "
              "VALUES(%lld, 0, 'server.stop', 'ok', CAST('%s' AS BLOB), X'%s')",
              next, forged, hex);
    free(forged);
    char *fault =
        h_fmt("audit row %lld is past the end of the audit tree (%lld records)", next, next - 1);
    expect_start_refused(c, c->db, fault);
    free(fault);
    (void)b;
}

/* Runs `sesamed check --data DATA`; returns the process (caller frees). */
static void expect_check_refused(struct tcase *c, const char *file, const char *fault)
{
    h_expect_check_refused(c->data, file, fault);
}

/* (i) `sesamed check` says a sound data directory is sound; a zeroed database page makes it and
 * the daemon refuse, naming the file ("damaged"), before anything is served. */
static void test_damaged_page(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    struct h_proc p = h_run_check(c->data);
    if (p.status != 0 || strstr(p.out, ": ok: schema") == NULL) {
        print_error("check of a sound directory: exit %d, out [%s], err [%s]\n", p.status, p.out,
                    p.err);
        fail();
    }
    h_proc_free(&p);
    int64_t page = h_db_int(c->db, "PRAGMA page_size");
    int64_t pages = h_db_int(c->db, "PRAGMA page_count");
    assert_true(pages > 2);
    FILE *f = fopen(c->db, "r+b");
    assert_non_null(f);
    char *zero = calloc(1, (size_t)page);
    assert_int_equal(fseek(f, (long)(page * (pages / 2)), SEEK_SET), 0); /* a page in the middle */
    assert_int_equal(fwrite(zero, 1, (size_t)page, f), (size_t)page);
    assert_int_equal(fclose(f), 0);
    free(zero);
    expect_start_refused(c, c->db, "damaged");
    expect_check_refused(c, c->db, "damaged");
    (void)b;
}

/* (j) acknowledged data rolled back (the database of an earlier moment, as a deleted WAL leaves
 * it) under the checkpoint kept beside it: refused at start, naming the loss; `check` says it. */
static void test_rollback_detected(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    char *old = h_path(c->tmp, "sesame.db.old");
    h_copy_tree_ok(c->db, old);
    h_daemon_start_ok(&c->d, c->data, c->log, NULL, NULL);
    assert_int_equal(h_daemon_stop(&c->d), 0); /* server.start and server.stop committed */
    long long now = h_audit_max_seq(c->db);
    assert_int_equal(now, b->total + 2);
    h_copy_tree_ok(old, c->db);
    char *wal = h_fmt("%s-wal", c->db);
    unlink(wal);
    free(wal);
    char *ck = ckpt_file(c);
    char *fault = h_fmt("the database is behind its latest signed checkpoint: it holds %lld audit "
                        "records, %lld were committed",
                        (long long)b->total, now);
    expect_start_refused(c, ck, fault);
    expect_check_refused(c, ck, fault);
    free(fault);
    free(ck);
    free(old);
}

/* (k) a truncated database (a copy cut short): refused at start and by `check`, naming the file. */
static void test_truncated_db(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    int64_t page = h_db_int(c->db, "PRAGMA page_size");
    int64_t pages = h_db_int(c->db, "PRAGMA page_count");
    assert_int_equal(truncate(c->db, (off_t)(page * (pages / 2))), 0);
    expect_start_refused(c, c->db, "cannot be used: database disk image is malformed");
    expect_check_refused(c, c->db, "cannot be used");
    (void)b;
}

/* (h) the log key deleted: the daemon refuses to start rather than sign with a new key; the
 * operator's `log-key --new` creates one, records it in the log, and refuses to run twice. */
static void test_log_key_lost(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    char *key = h_path(c->data, "log.key");
    assert_int_equal(unlink(key), 0);
    expect_start_refused(c, key, "missing: the audit log's signing key is gone");
    assert_int_equal(access(key, F_OK), -1);
    const char *argv[] = {SESAMED_BIN, "log-key", "--data", c->data, "--new", NULL};
    struct h_proc p;
    assert_int_equal(h_run(argv, NULL, NULL, 10000, &p), 0);
    assert_int_equal(p.status, 0);
    assert_true(p.out_len > 1 && p.out[p.out_len - 1] == '\n');
    p.out[p.out_len - 1] = '\0';
    assert_null(strchr(p.out, '\n'));
    assert_string_not_equal(p.out, b->vkey);
    char *printed = h_log_key_ok(c->data);
    assert_string_equal(printed, p.out);
    assert_int_equal(h_db_int(c->db,
                              "SELECT COUNT(*) FROM audit WHERE seq = (SELECT MAX(seq) FROM audit) "
                              "AND action = 'audit.log_key_new' AND object = '%s' AND "
                              "json_extract(record, '$.object') = '%s'",
                              printed, printed),
                     1);
    h_proc_free(&p);
    assert_int_equal(h_run(argv, NULL, NULL, 10000, &p), 0);
    assert_int_equal(p.status, 1);
    assert_non_null(strstr(p.err, "exists; refusing to replace"));
    h_proc_free(&p);
    /* with the new key in place the daemon starts and signs with it */
    h_daemon_start_ok(&c->d, c->data, c->log, NULL, NULL);
    free(printed);
    free(key);
}

/* (e) a checkpoint written into the file, signed with a key that is not the log key. */
static void test_tamper_forged_checkpoint(void **state)
{
    struct tcase *c = *state;
    struct base *b = case_copy(c);
    uint8_t pk[32], sk[64], root[32];
    crypto_sign_keypair(pk, sk);
    randombytes_buf(root, sizeof root);
    char origin[128], note[1024], rhex[65];
    snprintf(origin, sizeof origin, "sesame/audit/%s", b->e->init.server_id);
    assert_int_equal(
        ses_checkpoint_sign(note, sizeof note, NULL, origin, 1000000, root, origin, sk), 0);
    sodium_bin2hex(rhex, sizeof rhex, root, 32);
    h_db_exec(c->db,
              "INSERT INTO audit_checkpoint(size, root, note, created_ms) "
              "VALUES(1000000, X'%s', '%s', 0)",
              rhex, note);
    struct h_cli r;
    /* the daemon checks its latest stored checkpoint at start: it says the file was tampered
     * with, never serves the forgery, and keeps signing its real tree, which still verifies */
    case_verify(c, &r);
    h_cli_assert_ok(&r);
    assert_true(json_is_true(json_object_get(r.json, "ok")));
    assert_true(h_jint(r.json, "size") < 1000000);
    h_cli_free(&r);
    size_t len = 0;
    char *log = h_read_file(c->log, &len);
    assert_non_null(log);
    assert_non_null(strstr(log, "the latest stored checkpoint (size 1000000) is not a valid "
                                "checkpoint of this log"));
    free(log);
    (void)b;
}

/* --- export ----------------------------------------------------------------------------------- */

static void test_fhir_export(void **state)
{
    struct h_env *e = *state;
    struct h_cli r;
    h_env_start(e, 0);
    char nurse[40], ndev[40];
    char *nhome = h_add_user_ok(e, "nurse", "nurse", "Anne Martin", "Lyon-3", nurse, ndev);
    char *ahome = h_add_user_ok(e, "auditor", "auditor", "Marc Leroy", NULL, NULL, NULL);
    h_cli_run(&r, nhome, NULL, "admin", "users", NULL);
    h_cli_assert_error(&r, 1, "DENIED");
    h_cli_free(&r);
    h_cli_run(&r, e->admin_home, NULL, "admin", "revoke", "--user", nurse, NULL);
    h_cli_assert_ok(&r);
    h_cli_free(&r);

    char from[16], to[16];
    date_of(from, h_db_int(e->db, "SELECT MIN(ts_ms) FROM audit"));
    date_of(to, h_wall_ms() + 60000);
    int64_t from_ms = h_db_int(e->db, "SELECT MIN(ts_ms) FROM audit");

    /* JSON Lines: each record's canonical bytes, as stored and hashed */
    h_cli_run_text(&r, ahome, NULL, "audit", "export", "--from", from, "--to", to, NULL);
    if (r.p.status != 0)
        fail_msg("audit export: exit %d: %s", r.p.status, r.p.err);
    assert_int_equal(r.p.err_len, 0);
    char *copy, **lines;
    size_t n = split_lines(r.p.out, r.p.out_len, &copy, &lines);
    /* the export's own login and audit.read are in it */
    int64_t total = h_audit_max_seq(e->db);
    assert_int_equal((int64_t)n, total);
    assert_int_equal(
        h_db_int(e->db, "SELECT COUNT(*) FROM audit WHERE ts_ms >= %lld", (long long)from_ms),
        total);
    for (size_t i = 0; i < n; i++) {
        json_t *j = parse_line(lines[i]);
        assert_int_equal(h_jint(j, "seq"), (int64_t)i + 1);
        expect_record_is_row(e->db, j, lines[i]);
        json_decref(j);
    }
    free(copy);
    free(lines);
    h_cli_free(&r);
    assert_int_equal(h_db_int(e->db,
                              "SELECT COUNT(*) FROM audit WHERE seq = %lld AND action = "
                              "'audit.read' AND object = 'tail'",
                              (long long)total),
                     1);

    /* FHIR R4 AuditEvent, one per line */
    h_cli_run_text(&r, ahome, NULL, "audit", "export", "--from", from, "--to", to, "--fhir", NULL);
    if (r.p.status != 0)
        fail_msg("audit export --fhir: exit %d: %s", r.p.status, r.p.err);
    n = split_lines(r.p.out, r.p.out_len, &copy, &lines);
    assert_int_equal((int64_t)n, total + 2);
    assert_int_equal((int64_t)n, h_audit_max_seq(e->db));
    char observer[96];
    snprintf(observer, sizeof observer, "sesamed %s", e->init.server_id);
    int seen_denied = 0, seen_login = 0, seen_read = 0, seen_revoke = 0, seen_start = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *ev = parse_line(lines[i]);
        long long seq = (long long)i + 1;
        char id[32], when[40];
        snprintf(id, sizeof id, "sesame-%lld", seq);
        assert_string_equal(h_jstr(ev, "resourceType"), "AuditEvent");
        assert_string_equal(h_jstr(ev, "id"), id);
        const json_t *type = json_object_get(ev, "type");
        assert_string_equal(h_jstr(type, "system"), "http://dicom.nema.org/resources/ontology/DCM");
        assert_true(strlen(h_jstr(type, "code")) == 6);
        assert_true(strlen(h_jstr(type, "display")) > 0);
        iso_ms(when, h_db_int(e->db, "SELECT ts_ms FROM audit WHERE seq = %lld", seq));
        assert_string_equal(h_jstr(ev, "recorded"), when);
        const char *action = h_jstr(ev, "action");
        assert_true(strlen(action) == 1 && strchr("CRUDE", action[0]) != NULL);
        char *outcome = h_db_text(e->db, "SELECT outcome FROM audit WHERE seq = %lld", seq);
        assert_string_equal(h_jstr(ev, "outcomeDesc"), outcome);
        assert_string_equal(h_jstr(ev, "outcome"), strcmp(outcome, "ok") == 0 ? "0" : "4");
        const json_t *agents = json_object_get(ev, "agent");
        assert_true(json_array_size(agents) >= 1);
        const json_t *agent = json_array_get(agents, 0);
        assert_true(json_is_true(json_object_get(agent, "requestor")));
        const json_t *whoj = json_object_get(agent, "who");
        assert_true(json_is_object(whoj));
        char *uhex =
            h_db_text(e->db, "SELECT lower(hex(actor_user)) FROM audit WHERE seq = %lld", seq);
        if (uhex != NULL && uhex[0] != '\0') {
            const json_t *ident = json_object_get(whoj, "identifier");
            char got[33];
            assert_string_equal(h_jstr(ident, "system"), "urn:sesame:user");
            h_id_hex(got, h_jstr(ident, "value"));
            assert_string_equal(got, uhex);
        }
        free(uhex);
        char *peer = h_db_text(e->db, "SELECT peer FROM audit WHERE seq = %lld", seq);
        if (peer != NULL) {
            const json_t *net = json_object_get(agent, "network");
            assert_string_equal(h_jstr(net, "address"), peer);
            assert_string_equal(h_jstr(net, "type"), "2");
        }
        free(peer);
        const json_t *src = json_object_get(ev, "source");
        assert_string_equal(h_jstr(json_object_get(src, "observer"), "display"), observer);
        const json_t *st = json_array_get(json_object_get(src, "type"), 0);
        assert_string_equal(h_jstr(st, "system"),
                            "http://terminology.hl7.org/CodeSystem/security-source-type");
        assert_string_equal(h_jstr(st, "code"), "4");
        char *object = h_db_text(e->db, "SELECT object FROM audit WHERE seq = %lld", seq);
        const json_t *entity = json_object_get(ev, "entity");
        if (object == NULL) {
            assert_null(entity);
        } else {
            const json_t *what = json_object_get(json_array_get(entity, 0), "what");
            assert_string_equal(h_jstr(json_object_get(what, "identifier"), "value"), object);
        }
        free(object);
        /* the mapping table (README) for the actions of this day */
        char *act = h_db_text(e->db, "SELECT action FROM audit WHERE seq = %lld", seq);
        const char *code = h_jstr(type, "code");
        if (strcmp(act, "authz.denied") == 0) {
            assert_string_equal(code, "110113");
            assert_string_equal(action, "E");
            seen_denied++;
        } else if (strcmp(act, "auth.login") == 0) {
            assert_string_equal(code, "110114");
            assert_string_equal(action, "E");
            seen_login++;
        } else if (strcmp(act, "audit.read") == 0) {
            assert_string_equal(code, "110101");
            assert_string_equal(action, "R");
            seen_read++;
        } else if (strcmp(act, "user.revoke") == 0) {
            assert_string_equal(code, "110137");
            assert_string_equal(action, "U");
            seen_revoke++;
        } else if (strcmp(act, "server.start") == 0) {
            assert_string_equal(code, "110120");
            assert_string_equal(h_jstr(whoj, "display"), "system");
            seen_start++;
        }
        free(act);
        free(outcome);
        json_decref(ev);
    }
    assert_int_equal(seen_denied, 1);
    assert_int_equal(seen_revoke, 1);
    assert_int_equal(seen_start, 1);
    assert_int_equal(seen_read, 2);
    assert_true(seen_login >= 5);
    free(copy);
    free(lines);
    h_cli_free(&r);

    /* bad dates: usage */
    h_cli_run(&r, ahome, NULL, "audit", "export", "--from", "2025-02-30", "--to", to, NULL);
    assert_int_equal(r.p.status, 2);
    h_cli_free(&r);
    h_cli_run(&r, ahome, NULL, "audit", "export", "--from", to, "--to", "1999-01-01", NULL);
    assert_int_equal(r.p.status, 2);
    h_cli_free(&r);
    free(nhome);
    free(ahome);
}

/* --- paging ---------------------------------------------------------------------------------- */

/* More than one page (1000 records) for verify's audit_leaves and export's audit_tail: 1100
 * refused requests on one nurse connection are 1100 authz.denied records. */
static void test_paging(void **state)
{
    struct h_env *e = *state;
    struct h_cli r;
    h_env_start(e, 0);
    char *vkey = h_log_key_ok(e->data);
    char *nhome = h_add_user_ok(e, "nurse", "nurse", "Anne Martin", "Lyon-3", NULL, NULL);
    char *ahome = h_add_user_ok(e, "auditor", "auditor", "Marc Leroy", NULL, NULL, NULL);
    json_t *v = verify_ok(ahome, vkey);
    int64_t m = h_jint(v, "size");
    json_decref(v);

    struct w_dev *nurse = w_dev_load(nhome);
    struct ses_conn *c = w_login(e, nurse);
    for (int i = 0; i < 1100; i++) {
        json_t *reply = NULL;
        int rc =
            ses_conn_request(c, json_pack("{s:s}", "t", "audit_tail"), H_CONN_TIMEOUT_MS, &reply);
        assert_int_equal(rc, SES_EDENIED);
        json_decref(reply);
    }
    ses_conn_free(c);
    w_dev_free(nurse);
    assert_int_equal(h_audit_count(e->db, "authz.denied", "DENIED"), 1100);

    v = verify_ok(ahome, NULL);
    assert_int_equal(h_jint(v, "previous_size"), m);
    assert_int_equal(h_jint(v, "size"), h_audit_max_seq(e->db));
    /* the nurse's login, 1100 denials, the auditor's login and audit.read */
    assert_int_equal(h_jint(v, "size"), m + 1 + 1100 + 2);
    json_decref(v);

    char from[16], to[16];
    date_of(from, h_db_int(e->db, "SELECT MIN(ts_ms) FROM audit"));
    date_of(to, h_wall_ms() + 60000);
    h_cli_run_text(&r, ahome, NULL, "audit", "export", "--from", from, "--to", to, NULL);
    assert_int_equal(r.p.status, 0);
    char *copy, **lines;
    size_t n = split_lines(r.p.out, r.p.out_len, &copy, &lines);
    assert_int_equal((int64_t)n, h_audit_max_seq(e->db));
    for (size_t i = 0; i < n; i++) {
        json_t *j = parse_line(lines[i]);
        assert_int_equal(h_jint(j, "seq"), (int64_t)i + 1);
        json_decref(j);
    }
    free(copy);
    free(lines);
    h_cli_free(&r);
    free(nhome);
    free(ahome);
    free(vkey);
}

/* --- retention -------------------------------------------------------------------------------- */

/* Records older than audit_retention_days lose their bytes, keep their leaf hashes; verify still
 * passes from the stored checkpoint. The daemon prunes at start and daily, so the test ages the
 * first records' ts_ms column while the daemon is stopped (the bytes, and so the hashes, are
 * untouched) and restarts it with --audit-retention-days 1. */
/* Moves the daemon's clock forward by ms (it prunes at once) and this process's clients with it:
 * the CLI and the client library read SESAME_TEST_CLOCK_OFFSET_MS. */
static void advance_days(const struct h_env *e, int64_t *offset_ms, int days)
{
    struct w_dev *adm = w_dev_load(e->admin_home);
    struct ses_conn *c = w_login(e, adm);
    json_t *reply = NULL;
    int64_t ms = (int64_t)days * DAY_MS;
    int rc = ses_conn_request(c, json_pack("{s:s, s:I}", "t", "test_clock", "advance_ms", ms),
                              H_CONN_TIMEOUT_MS, &reply);
    assert_int_equal(rc, 0);
    json_decref(reply);
    ses_conn_free(c);
    w_dev_free(adm);
    *offset_ms += ms;
    char txt[32];
    snprintf(txt, sizeof txt, "%lld", (long long)*offset_ms);
    assert_int_equal(setenv("SESAME_TEST_CLOCK_OFFSET_MS", txt, 1), 0);
}

/* Retention prunes the bytes of records older than audit_retention_days (by the time inside the
 * hashed bytes), announces it with an audit.prune record, and verify still passes. */
static void test_prune(void **state)
{
    struct h_env *e = *state;
    struct h_cli r;
    int64_t offset = 0;
    h_env_start(e, 0);
    char *vkey = h_log_key_ok(e->data);
    char *ahome = h_add_user_ok(e, "auditor", "auditor", "Marc Leroy", NULL, NULL, NULL);
    json_t *v = verify_ok(ahome, vkey);
    int64_t m = h_jint(v, "size");
    json_decref(v);
    assert_int_equal(h_daemon_stop(&e->d), 0);
    const char *args[] = {"--audit-retention-days", "1", "--test-hooks", NULL};
    h_daemon_start_ok(&e->d, e->data, e->log, NULL, args);
    h_home_set_server_ok(ahome, e->d.url); /* a new port */
    /* nothing is a day old yet */
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM audit WHERE record IS NULL"), 0);

    advance_days(e, &offset, 2);
    int64_t p1 = h_db_int(e->db, "SELECT seq FROM audit WHERE action = 'audit.prune'");
    assert_true(p1 > m);
    /* every record before the announcement was older than a day on the moved clock */
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM audit WHERE record IS NULL"), p1 - 1);
    assert_int_equal(h_db_int(e->db,
                              "SELECT COUNT(*) FROM audit WHERE record IS NULL AND seq < "
                              "%lld AND length(leaf_hash) = 32",
                              (long long)p1),
                     p1 - 1);
    char *obj = h_db_text(e->db, "SELECT object FROM audit WHERE seq = %lld", (long long)p1);
    char *want_obj = h_fmt("seq:1-%lld", (long long)(p1 - 1));
    assert_string_equal(obj, want_obj);
    free(obj);
    free(want_obj);
    assert_int_equal(h_db_int(e->db,
                              "SELECT COUNT(*) FROM audit WHERE seq = %lld AND outcome = "
                              "'ok' AND actor_user IS NULL",
                              (long long)p1),
                     1);

    v = verify_ok(ahome, NULL);
    assert_int_equal(h_jint(v, "previous_size"), m);
    assert_int_equal(h_jint(v, "pruned"), p1 - 1);
    assert_int_equal(h_jint(v, "size"), h_audit_max_seq(e->db));
    json_decref(v);

    char want_hash[64];
    db_leaf_b64(e->db, 2, want_hash);
    h_cli_run(&r, ahome, NULL, "audit", "show", "2", NULL);
    h_cli_assert_ok(&r);
    assert_int_equal(h_jint(r.json, "seq"), 2);
    h_jnull(r.json, "rec");
    assert_string_equal(h_jstr(r.json, "hash"), want_hash);
    assert_int_equal(json_object_size(r.json), 3);
    h_cli_free(&r);
    h_cli_run_text(&r, ahome, NULL, "audit", "show", "2", NULL);
    assert_int_equal(r.p.status, 0);
    assert_non_null(strstr(r.p.out, "pruned"));
    h_cli_free(&r);
    h_cli_run(&r, ahome, NULL, "audit", "prove", "2", NULL);
    h_cli_assert_ok(&r);
    assert_true(json_is_true(json_object_get(r.json, "verified")));
    assert_string_equal(h_jstr(r.json, "leaf_hash"), want_hash);
    h_cli_free(&r);
    /* an unfiltered tail lists pruned records without bytes */
    h_cli_run(&r, ahome, NULL, "audit", "tail", "--limit", "4", NULL);
    h_cli_assert_ok(&r);
    const json_t *recs = json_object_get(r.json, "records");
    assert_int_equal(json_array_size(recs), 4);
    for (size_t i = 0; i < 4; i++) {
        const json_t *x = json_array_get(recs, i);
        assert_int_equal(h_jint(x, "seq"), (int64_t)i + 1);
        h_jnull(x, "rec");
        assert_int_equal(json_object_size(x), 2);
    }
    h_cli_free(&r);

    /* a second retention run prunes the first run's own audit.prune record: its announcement
     * is gone, but the new run's range reaches past every pruned record, so verify passes */
    int64_t before = h_audit_max_seq(e->db);
    advance_days(e, &offset, 2);
    int64_t p2 = h_db_int(e->db, "SELECT max(seq) FROM audit WHERE action = 'audit.prune'");
    assert_true(p2 > before);
    assert_int_equal(h_db_int(e->db, "SELECT COUNT(*) FROM audit WHERE record IS NULL"), p2 - 1);
    obj = h_db_text(e->db, "SELECT object FROM audit WHERE seq = %lld", (long long)p2);
    want_obj = h_fmt("seq:%lld-%lld", (long long)p1, (long long)(p2 - 1));
    assert_string_equal(obj, want_obj);
    free(obj);
    free(want_obj);
    v = verify_ok(ahome, NULL);
    assert_int_equal(h_jint(v, "pruned"), p2 - 1);
    assert_int_equal(h_jint(v, "size"), h_audit_max_seq(e->db));
    json_decref(v);
    assert_int_equal(unsetenv("SESAME_TEST_CLOCK_OFFSET_MS"), 0);
    free(ahome);
    free(vkey);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scripted_day, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_pinning, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_control, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_modified, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_modified_rehashed, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_swapped, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_deleted, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_erased, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_inserted, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_truncated, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_forged_checkpoint, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_appended_unhashed, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_tamper_appended_stray, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_log_key_lost, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_damaged_page, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_rollback_detected, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_db, case_setup, case_teardown),
        cmocka_unit_test_setup_teardown(test_fhir_export, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_paging, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_prune, h_setup, h_teardown),
    };
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests_name("integ.audit", tests, NULL, base_free);
}
