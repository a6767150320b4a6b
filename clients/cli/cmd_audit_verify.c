/*
 * cmd_audit_verify.c - checking the tamper-evident log (PROTOCOL.md §9): `sesame audit
 * checkpoint` (the latest signed checkpoint), `sesame audit prove SEQ` (an inclusion proof,
 * checked locally) and `sesame audit verify` (the whole tree rebuilt from the leaves against the
 * pinned log key and a consistency proof from the last checkpoint that verified).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit_cli.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/merkle.h"
#include "sesame/note.h"

/* --- checkpoint --- */

int audit_checkpoint(struct cli *cli)
{
    int rc = audit_parse_audit_args(cli, NULL, 0, NULL, 0, NULL, CHECKPOINT_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct ses_conn *conn = NULL;
    json_t *reply = NULL;
    int status = audit_open_session(cli, &conn);
    if (status != 0)
        return status;
    status = audit_request(cli, conn, json_pack("{s:s}", "t", "audit_checkpoint"),
                           "audit checkpoint", &reply);
    ses_conn_free(conn);
    if (status != 0)
        return status;
    if (cli->json) {
        cli_print_json(reply);
    } else {
        const char *note = cli_str(reply, "checkpoint", "");
        fputs(note, stdout);
    }
    json_decref(reply);
    return CLI_OK;
}

/* Fetches the latest checkpoint on conn and opens it: against vk if have_vk (signature and
 * origin), else only its body. Returns 0 with *cp and *note (caller json_decref()s), or the exit
 * status (printed). */
static int fetch_checkpoint(const struct cli *cli, struct ses_conn *conn,
                            const struct ses_note_vkey *vk, int have_vk, struct ses_checkpoint *cp,
                            json_t **note_reply)
{
    json_t *reply = NULL;
    *note_reply = NULL;
    int status = audit_request(cli, conn, json_pack("{s:s}", "t", "audit_checkpoint"),
                               "audit checkpoint", &reply);
    if (status != 0)
        return status;
    const json_t *nj = json_object_get(reply, "checkpoint");
    const char *note = json_is_string(nj) ? json_string_value(nj) : "";
    size_t len = json_is_string(nj) ? json_string_length(nj) : 0;
    int rc;
    if (have_vk) {
        rc = ses_checkpoint_open(cp, note, len, vk, vk->name);
        if (rc != 0) {
            struct ses_checkpoint body;
            size_t tl = audit_note_text_len(note, len);
            int parsed = tl > 0 && ses_checkpoint_parse_body(&body, note, tl) == 0;
            json_decref(reply);
            if (rc == SES_EAUTH_FAILED && parsed && strcmp(body.origin, vk->name) != 0)
                return audit_verify_failed(
                    "checkpoint signature: the latest checkpoint's origin '%s' "
                    "is not the pinned log key's name '%s'",
                    body.origin, vk->name);
            if (rc == SES_EAUTH_FAILED)
                return audit_verify_failed(
                    "checkpoint signature: the latest checkpoint is not signed by "
                    "the pinned log key %s",
                    vk->name);
            return audit_verify_failed(
                "checkpoint signature: the latest checkpoint is not a well-formed "
                "signed note");
        }
    } else {
        size_t tl = audit_note_text_len(note, len);
        if (tl == 0 || ses_checkpoint_parse_body(cp, note, tl) != 0) {
            json_decref(reply);
            return audit_verify_failed("the latest checkpoint is not a well-formed signed note");
        }
    }
    if (audit_int_or(reply, "size", -1) != (long long)cp->size) {
        long long said = audit_int_or(reply, "size", -1);
        json_decref(reply);
        return audit_verify_failed(
            "the checkpoint reply says size %lld but the signed note says %llu", said,
            (unsigned long long)cp->size);
    }
    *note_reply = reply;
    return 0;
}

/* --- prove --- */

int audit_prove(struct cli *cli)
{
    long long seq = 0;
    int rc = audit_seq_arg(cli, PROVE_USAGE, "prove", &seq);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;

    char dir[4200];
    struct ses_note_vkey vk;
    int have_vk = 0;
    if (audit_state_dir(cli, dir, sizeof dir) != 0)
        return cli_error(CLI_ELOCAL, "cannot find the profile folder (use --home DIR)");
    int status = audit_load_pinned(dir, &vk, &have_vk);
    if (status != 0)
        return status;

    struct ses_conn *conn = NULL;
    json_t *ck = NULL, *shown = NULL, *proved = NULL;
    struct ses_checkpoint cp;
    if ((status = audit_open_session(cli, &conn)) != 0)
        return status;
    status = fetch_checkpoint(cli, conn, &vk, have_vk, &cp, &ck);
    if (status == 0 && (unsigned long long)seq > cp.size)
        status = cli_error(CLI_ESERVER,
                           "NOT_FOUND: record %lld is not in the latest checkpoint (%llu records)",
                           seq, (unsigned long long)cp.size);
    if (status == 0)
        status = audit_request(cli, conn,
                               json_pack("{s:s, s:I}", "t", "audit_show", "seq", (json_int_t)seq),
                               "audit show", &shown);
    if (status == 0)
        status = audit_request(cli, conn,
                               json_pack("{s:s, s:I, s:I}", "t", "audit_prove", "seq",
                                         (json_int_t)seq, "size", (json_int_t)cp.size),
                               "audit prove", &proved);
    ses_conn_free(conn);
    if (status != 0) {
        json_decref(ck);
        json_decref(shown);
        return status;
    }

    uint8_t leaf[32], computed[32], proof[SES_MERKLE_MAX_PROOF][32];
    size_t count = 0;
    const json_t *rec = json_object_get(shown, "rec");
    int have_leaf = audit_get_hash(shown, "hash", leaf) == 0, bytes_match = 1;
    if (have_leaf && json_is_string(rec)) {
        ses_merkle_leaf_hash(computed, (const uint8_t *)json_string_value(rec),
                             json_string_length(rec));
        bytes_match = memcmp(computed, leaf, 32) == 0;
    }
    if (!have_leaf)
        status = audit_verify_failed("record %lld: the server sent a malformed leaf hash", seq);
    else if (!bytes_match)
        status = audit_verify_failed("record %lld: its bytes do not match its leaf hash", seq);
    else if (audit_int_or(proved, "size", -1) != (long long)cp.size ||
             audit_get_proof(json_object_get(proved, "proof"), proof, &count) != 0)
        status =
            audit_verify_failed("record %lld: the server sent a malformed inclusion proof", seq);
    else if (ses_merkle_verify_inclusion(leaf, (uint64_t)seq - 1, cp.size,
                                         (const uint8_t(*)[32])proof, count, cp.root) != 0)
        status = audit_verify_failed("record %lld: its inclusion proof does not verify against "
                                     "checkpoint %llu",
                                     seq, (unsigned long long)cp.size);
    if (status == 0) {
        char root[B64STD_HASH_LEN];
        audit_b64std(root, cp.root);
        if (cli->json) {
            json_t *out = json_pack(
                "{s:I, s:I, s:s, s:s, s:O, s:b, s:b}", "seq", (json_int_t)seq, "size",
                (json_int_t)cp.size, "root", root, "leaf_hash", cli_str(shown, "hash", ""), "proof",
                json_object_get(proved, "proof"), "verified", 1, "signature_verified", have_vk);
            cli_print_json(out);
            json_decref(out);
        } else {
            size_t i;
            const json_t *h;
            printf("record %lld is in the log of %llu records (checkpoint %s)\n", seq,
                   (unsigned long long)cp.size,
                   have_vk ? "signature verified with the pinned log key"
                           : "signature NOT checked: no pinned log key, run sesame audit verify");
            printf("root:      %s\n", root);
            printf("leaf hash: %s\n", cli_str(shown, "hash", ""));
            printf("proof:\n");
            json_array_foreach(json_object_get(proved, "proof"), i, h)
                printf("  %s\n", json_string_value(h));
            printf("verified: the proof leads from the leaf hash to the root\n");
        }
    }
    json_decref(ck);
    json_decref(shown);
    json_decref(proved);
    return status;
}

/* --- verify --- */

/* Loads the stored checkpoint (HOME/audit/checkpoint) into *prev (size 0 when there is none).
 * Returns 0 or an exit status (printed). */
static int load_stored(const char *dir, const struct ses_note_vkey *vk, struct ses_checkpoint *prev)
{
    char *text = NULL;
    size_t len = 0;
    memset(prev, 0, sizeof *prev);
    int rc = audit_state_read(dir, CHECKPOINT_FILE, &text, &len);
    if (rc == SES_ENOT_FOUND)
        return 0;
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "cannot read the stored checkpoint %s/%s", dir,
                         CHECKPOINT_FILE);
    size_t tl = audit_note_text_len(text, len);
    rc = tl > 0 ? ses_checkpoint_parse_body(prev, text, tl) : SES_EBAD_FIELD;
    free(text);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "the stored checkpoint %s/%s is not a checkpoint note", dir,
                         CHECKPOINT_FILE);
    if (strcmp(prev->origin, vk->name) != 0)
        return cli_error(CLI_ELOCAL,
                         "the stored checkpoint %s/%s is of the log '%s', the pinned key of '%s' "
                         "(move the file away to start over with this log)",
                         dir, CHECKPOINT_FILE, prev->origin, vk->name);
    return 0;
}

struct pruned_run {
    uint64_t first, last; /* a run of consecutive pruned records */
};

struct rebuild {
    struct ses_merkle_frontier f;
    const struct ses_checkpoint *prev; /* stored (m, r1); prev->size 0 when none */
    uint64_t pruned;
    uint64_t announced; /* highest `last` of the intact audit.prune records ("seq:FIRST-LAST") */
    struct pruned_run *runs;
    size_t n_runs, cap_runs;
};

/* Remembers that record seq has no bytes (runs of consecutive seqs). Returns 0 or -1 (memory). */
static int note_pruned(struct rebuild *rb, uint64_t seq)
{
    rb->pruned++;
    if (rb->n_runs > 0 && rb->runs[rb->n_runs - 1].last + 1 == seq) {
        rb->runs[rb->n_runs - 1].last = seq;
        return 0;
    }
    if (rb->n_runs == rb->cap_runs) {
        size_t cap = rb->cap_runs ? rb->cap_runs * 2 : 16;
        struct pruned_run *nr = realloc(rb->runs, cap * sizeof *nr);
        if (nr == NULL)
            return -1;
        rb->runs = nr;
        rb->cap_runs = cap;
    }
    rb->runs[rb->n_runs++] = (struct pruned_run){seq, seq};
    return 0;
}

/* An intact (hash-checked) record: if it is a retention run's audit.prune record, the range it
 * announces. */
static void note_announcement(struct rebuild *rb, const json_t *rec)
{
    unsigned long long first = 0, last = 0;
    int n = 0;
    const char *object = cli_str(rec, "object", "");
    if (strcmp(cli_str(rec, "action", ""), "audit.prune") != 0 ||
        strcmp(cli_str(rec, "outcome", ""), "ok") != 0 ||
        sscanf(object, "seq:%llu-%llu%n", &first, &last, &n) != 2 || object[n] != '\0' ||
        first > last || last >= (uint64_t)audit_int_or(rec, "seq", 0))
        return;
    if (last > rb->announced)
        rb->announced = last;
}

/* Retention prunes the oldest records and records each run as an audit.prune record announcing
 * "seq:FIRST-LAST"; a later run may prune an earlier run's record, but its own range reaches past
 * everything pruned before. So every pruned record must lie at or below the highest announced
 * LAST; one above it had its bytes removed by something else. Returns 0 or CLI_EVERIFY. */
static int check_pruned_announced(const struct rebuild *rb)
{
    for (size_t i = 0; i < rb->n_runs; i++)
        if (rb->runs[i].last > rb->announced) {
            uint64_t k = rb->runs[i].first > rb->announced ? rb->runs[i].first : rb->announced + 1;
            return audit_verify_failed(
                "record %llu: its bytes were removed but no audit.prune record "
                "announces it",
                (unsigned long long)k);
        }
    return 0;
}

/* Checks one page of audit_leaves entries starting at *next and appends them to the frontier.
 * Returns 0 or CLI_EVERIFY (printed). */
static int check_leaves(struct rebuild *rb, const json_t *leaves, uint64_t *next, uint64_t want)
{
    size_t i;
    const json_t *lf;
    if (!json_is_array(leaves))
        return audit_verify_failed("record %llu: the server sent a malformed audit_leaves reply",
                                   (unsigned long long)*next);
    if (json_array_size(leaves) > want)
        return audit_verify_failed(
            "record %llu: the server sent %zu records where %llu were asked for",
            (unsigned long long)*next, json_array_size(leaves), (unsigned long long)want);
    json_array_foreach(leaves, i, lf)
    {
        uint64_t pos = *next;
        long long seq = audit_int_or(lf, "seq", -1);
        const json_t *rec = json_object_get(lf, "rec");
        uint8_t stored[32], computed[32];
        if (seq < 1 || (!json_is_string(rec) && !json_is_null(rec)) ||
            audit_get_hash(lf, "hash", stored) != 0)
            return audit_verify_failed("record %llu: the server sent a malformed leaf",
                                       (unsigned long long)pos);
        if ((uint64_t)seq > pos)
            return audit_verify_failed("record %llu missing: the server sent record %lld after "
                                       "record %llu",
                                       (unsigned long long)pos, seq, (unsigned long long)(pos - 1));
        if ((uint64_t)seq < pos)
            return audit_verify_failed("record %lld: sent out of order (record %llu expected)", seq,
                                       (unsigned long long)pos);
        if (json_is_string(rec)) {
            const char *bytes = json_string_value(rec);
            size_t len = json_string_length(rec);
            json_t *o = audit_parse_rec(bytes, len);
            long long field = audit_int_or(o, "seq", -1);
            if (o == NULL)
                return audit_verify_failed("record %llu: its bytes are not a JSON object",
                                           (unsigned long long)pos);
            if (field != seq) {
                json_decref(o);
                return audit_verify_failed("record %llu: its seq field is %lld",
                                           (unsigned long long)pos, field);
            }
            ses_merkle_leaf_hash(computed, (const uint8_t *)bytes, len);
            if (memcmp(computed, stored, 32) != 0) {
                json_decref(o);
                return audit_verify_failed("record %llu: its bytes do not match its leaf hash",
                                           (unsigned long long)pos);
            }
            note_announcement(rb, o);
            json_decref(o);
        } else if (note_pruned(rb, pos) != 0) {
            return cli_error(CLI_ELOCAL, "out of memory");
        }
        if (ses_merkle_append(&rb->f, stored, NULL, NULL) != 0)
            return audit_verify_failed("record %llu: the tree is full", (unsigned long long)pos);
        if (rb->f.size == rb->prev->size) {
            uint8_t root[32];
            ses_merkle_frontier_root(&rb->f, root);
            if (memcmp(root, rb->prev->root, 32) != 0)
                return audit_verify_failed("records 1..%llu do not rebuild the root of the stored "
                                           "checkpoint %llu",
                                           (unsigned long long)rb->prev->size,
                                           (unsigned long long)rb->prev->size);
        }
        (*next)++;
    }
    if (json_array_size(leaves) < want)
        return audit_verify_failed("record %llu missing: the server sent no record %llu",
                                   (unsigned long long)*next, (unsigned long long)*next);
    return 0;
}

int audit_verify(struct cli *cli)
{
    const char *log_key = NULL;
    int repin = 0;
    const struct cli_opt opts[] = {{"log-key", &log_key}};
    const struct audit_flag flags[] = {{"repin", &repin}};
    int rc = audit_parse_audit_args(cli, flags, 1, opts, 1, NULL, VERIFY_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (repin && log_key == NULL)
        return cli_usage_error(VERIFY_USAGE, "--repin needs --log-key with the new key");

    char dir[4200];
    struct ses_note_vkey vk, given;
    int have_vk = 0, status;
    if (audit_state_dir(cli, dir, sizeof dir) != 0)
        return cli_error(CLI_ELOCAL, "cannot find the profile folder (use --home DIR)");
    if ((status = audit_load_pinned(dir, &vk, &have_vk)) != 0)
        return status;
    int pin = 0;
    if (log_key != NULL) {
        if (ses_note_vkey_parse(&given, log_key) != 0)
            return cli_usage_error(
                VERIFY_USAGE, "--log-key is not a log verifier key (NAME+KEYID+KEY, as printed "
                              "by sesamed log-key --data DIR)");
        if (have_vk && !audit_same_vkey(&vk, &given) && !repin)
            return cli_error(CLI_EUSAGE,
                             "--log-key differs from the log key pinned in %s/%s (%s); if the "
                             "operator really replaced the log key, add --repin",
                             dir, VKEY_FILE, vk.name);
        pin = !have_vk || !audit_same_vkey(&vk, &given);
        vk = given;
        have_vk = 1;
    }
    if (!have_vk)
        return cli_error(CLI_EUSAGE, "no log key pinned: get it from the server's operator "
                                     "(sesamed log-key --data DIR) and run sesame audit verify "
                                     "--log-key KEY");
    struct ses_checkpoint prev, cp;
    if ((status = load_stored(dir, &vk, &prev)) != 0)
        return status;

    struct ses_conn *conn = NULL;
    json_t *ck = NULL;
    if ((status = audit_open_session(cli, &conn)) != 0)
        return status;

    /* 1. the latest checkpoint: signature and origin; a new key is pinned once it verified one */
    status = fetch_checkpoint(cli, conn, &vk, 1, &cp, &ck);
    if (status == 0 && pin) {
        char line[SES_NOTE_VKEY_MAX + 2];
        int n = snprintf(line, sizeof line, "%s\n", log_key);
        if (n <= 0 || (size_t)n >= sizeof line ||
            audit_state_write(dir, VKEY_FILE, line, (size_t)n) != 0)
            status = cli_error(CLI_ELOCAL, "cannot write the pinned log key %s/%s", dir, VKEY_FILE);
    }
    /* 2. it extends the stored one */
    if (status == 0 && cp.size < prev.size)
        status = audit_verify_failed("the log shrank: the latest checkpoint has %llu records, the "
                                     "stored checkpoint %llu",
                                     (unsigned long long)cp.size, (unsigned long long)prev.size);
    if (status == 0 && prev.size > 0 && prev.size == cp.size && memcmp(prev.root, cp.root, 32) != 0)
        status = audit_verify_failed("the log is not consistent with the stored checkpoint: both "
                                     "have %llu records but different roots",
                                     (unsigned long long)cp.size);
    if (status == 0 && prev.size > 0 && prev.size < cp.size) {
        json_t *reply = NULL;
        status = audit_request(cli, conn,
                               json_pack("{s:s, s:I, s:I}", "t", "audit_consistency", "from",
                                         (json_int_t)prev.size, "to", (json_int_t)cp.size),
                               "audit consistency", &reply);
        uint8_t proof[SES_MERKLE_MAX_PROOF][32];
        size_t count = 0;
        if (status == 0 && audit_get_proof(json_object_get(reply, "proof"), proof, &count) != 0)
            status = audit_verify_failed("the server sent a malformed consistency proof");
        else if (status == 0 &&
                 ses_merkle_verify_consistency(prev.size, cp.size, prev.root, cp.root,
                                               (const uint8_t(*)[32])proof, count) != 0)
            status =
                audit_verify_failed("the log is not consistent with the stored checkpoint: the "
                                    "consistency proof from %llu to %llu records does not verify",
                                    (unsigned long long)prev.size, (unsigned long long)cp.size);
        json_decref(reply);
    }
    /* 3. every record 1..n, rebuilt into the tree */
    struct rebuild rb = {.prev = &prev};
    ses_merkle_frontier_init(&rb.f);
    uint64_t next = 1;
    while (status == 0 && next <= cp.size) {
        uint64_t want = cp.size - next + 1 < PAGE ? cp.size - next + 1 : PAGE;
        json_t *reply = NULL;
        status = audit_request(cli, conn,
                               json_pack("{s:s, s:I, s:I}", "t", "audit_leaves", "from",
                                         (json_int_t)next, "count", (json_int_t)want),
                               "audit leaves", &reply);
        if (status == 0)
            status = check_leaves(&rb, json_object_get(reply, "leaves"), &next, want);
        json_decref(reply);
    }
    ses_conn_free(conn);
    uint8_t root[32];
    ses_merkle_frontier_root(&rb.f, root);
    if (status == 0 && memcmp(root, cp.root, 32) != 0)
        status =
            audit_verify_failed("records 1..%llu do not rebuild the signed root of checkpoint %llu",
                                (unsigned long long)cp.size, (unsigned long long)cp.size);
    if (status == 0)
        status = check_pruned_announced(&rb);
    free(rb.runs);
    /* 4. the new checkpoint becomes the stored one */
    if (status == 0) {
        const json_t *note = json_object_get(ck, "checkpoint");
        if (audit_state_write(dir, CHECKPOINT_FILE, json_string_value(note),
                              json_string_length(note)) != 0)
            status = cli_error(CLI_ELOCAL, "verified, but cannot store the checkpoint in %s/%s",
                               dir, CHECKPOINT_FILE);
    }
    if (status == 0) {
        char r64[B64STD_HASH_LEN];
        audit_b64std(r64, cp.root);
        if (cli->json) {
            json_t *out =
                json_pack("{s:b, s:I, s:s, s:I, s:I, s:I}", "ok", 1, "size", (json_int_t)cp.size,
                          "root", r64, "previous_size", (json_int_t)prev.size, "records",
                          (json_int_t)(next - 1), "pruned", (json_int_t)rb.pruned);
            cli_print_json(out);
            json_decref(out);
        } else {
            printf("OK: %llu records verified against checkpoint %llu (root %s)\n",
                   (unsigned long long)(next - 1), (unsigned long long)cp.size, r64);
            if (prev.size > 0)
                printf("consistent with the stored checkpoint of %llu records\n",
                       (unsigned long long)prev.size);
            if (rb.pruned > 0)
                printf("%llu pruned records checked by their leaf hash only\n",
                       (unsigned long long)rb.pruned);
        }
    }
    json_decref(ck);
    return status;
}
