/*
 * test_audit_vectors.c - re-derives every value of protocol/vectors/audit.json (PROTOCOL.md
 * sections 8 and 9) with the C code, so the file the web client checks itself against is pinned on
 * the C side too: the inputs follow the pattern; the record bytes are what the daemon's store
 * writes for the inputs; leaf hashes, roots, inclusion and consistency proofs are what
 * protocol/merkle.c computes (through its callback interface, over the vector's own leaf hashes)
 * and they verify; keys, key ids, vkeys, checkpoint bodies, signatures and notes are what
 * protocol/note.c makes and opens; and every negative case is refused with the code it names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/merkle.h"
#include "sesame/note.h"

#include "store.h"

#define VECTORS_FILE SESAME_VECTORS_DIR "/audit.json"
#define HB SES_MERKLE_HASH_BYTES
#define MAX_LEAVES 64
#define NOTE_MAX 1024

static json_t *g_vec;

/* --- JSON access --------------------------------------------------------------------------------
 */

static const json_t *get(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    if (v == NULL)
        fail_msg("missing key %s", key);
    return v;
}

static const char *str_at(const json_t *o, const char *key)
{
    const json_t *v = get(o, key);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static const char *str_or_null(const json_t *o, const char *key)
{
    const json_t *v = get(o, key);
    assert_true(json_is_string(v) || json_is_null(v));
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_int_t int_at(const json_t *o, const char *key)
{
    const json_t *v = get(o, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

static void hex_is(const char *text, uint8_t *out, size_t n)
{
    size_t got = 0;
    assert_int_equal(strlen(text), 2 * n);
    assert_int_equal(sodium_hex2bin(out, n, text, 2 * n, NULL, &got, NULL), 0);
    assert_int_equal(got, n);
}

static void hex_at(const json_t *o, const char *key, uint8_t *out, size_t n)
{
    hex_is(str_at(o, key), out, n);
}

static void hex_eq(const json_t *o, const char *key, const uint8_t *want, size_t n)
{
    uint8_t got[128];
    assert_true(n <= sizeof got);
    hex_at(o, key, got, n);
    assert_memory_equal(got, want, n);
}

static const json_t *array_at(const json_t *o, const char *key)
{
    const json_t *v = get(o, key);
    assert_true(json_is_array(v));
    return v;
}

/* A proof array of hex hashes. */
static size_t proof_at(const json_t *o, const char *key, uint8_t proof[SES_MERKLE_MAX_PROOF][HB])
{
    const json_t *a = array_at(o, key);
    assert_true(json_array_size(a) <= SES_MERKLE_MAX_PROOF);
    for (size_t i = 0; i < json_array_size(a); i++) {
        assert_true(json_is_string(json_array_get(a, i)));
        hex_is(json_string_value(json_array_get(a, i)), proof[i], HB);
    }
    return json_array_size(a);
}

/* --- the tree of the vector's leaf hashes, as complete subtrees (what the daemon stores) -------
 */

struct tree {
    uint8_t node[SES_MERKLE_LEVELS][MAX_LEAVES][HB];
    uint64_t size;
};

static struct tree g_tree;

static int tree_put(void *ud, unsigned level, uint64_t index, const uint8_t hash[HB])
{
    struct tree *t = ud;
    assert_true(index < MAX_LEAVES);
    memcpy(t->node[level][index], hash, HB);
    return 0;
}

static int tree_get(void *ud, unsigned level, uint64_t index, uint8_t out[HB])
{
    struct tree *t = ud;
    assert_true(((index + 1) << level) <= t->size);
    memcpy(out, t->node[level][index], HB);
    return 0;
}

static void leaf_of_seq(uint64_t seq, uint8_t out[HB])
{
    const json_t *r = json_array_get(array_at(g_vec, "records"), seq - 1);
    assert_non_null(r);
    hex_at(r, "leaf_hash", out, HB);
}

/* --- fixtures ------------------------------------------------------------------------------------
 */

static int setup(void **state)
{
    (void)state;
    json_error_t jerr;
    if (sodium_init() < 0)
        return -1;
    g_vec = json_load_file(VECTORS_FILE, JSON_REJECT_DUPLICATES, &jerr);
    if (g_vec == NULL) {
        fprintf(stderr, "%s: %s (line %d)\n", VECTORS_FILE, jerr.text, jerr.line);
        return -1;
    }
    const json_t *recs = json_object_get(g_vec, "records");
    if (!json_is_array(recs) || json_array_size(recs) == 0 || json_array_size(recs) > MAX_LEAVES)
        return -1;
    struct ses_merkle_frontier f;
    ses_merkle_frontier_init(&f);
    for (size_t i = 0; i < json_array_size(recs); i++) {
        uint8_t leaf[HB];
        const json_t *h = json_object_get(json_array_get(recs, i), "leaf_hash");
        if (!json_is_string(h) || sodium_hex2bin(leaf, HB, json_string_value(h),
                                                 json_string_length(h), NULL, NULL, NULL) != 0)
            return -1;
        if (ses_merkle_append(&f, leaf, tree_put, &g_tree) != 0)
            return -1;
    }
    g_tree.size = f.size;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(g_vec);
    return 0;
}

/* --- inputs and keys ----------------------------------------------------------------------------
 */

static void test_inputs_follow_the_pattern(void **state)
{
    (void)state;
    const json_t *pat = get(g_vec, "pattern"), *in = get(g_vec, "inputs");
    unsigned start = (unsigned)int_at(pat, "start"), step = (unsigned)int_at(pat, "step"), k = 0;
    const char *singles[] = {"log_seed", "other_seed", "server_id"};
    const size_t lens[] = {32, 32, 16};
    uint8_t buf[32];
    for (size_t i = 0; i < 3; i++) {
        hex_at(in, singles[i], buf, lens[i]);
        for (size_t j = 0; j < lens[i]; j++, k++)
            assert_int_equal(buf[j], (start + step * k) & 0xff);
    }
    const char *lists[] = {"users", "devices"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *a = array_at(in, lists[i]);
        assert_true(json_array_size(a) > 0);
        for (size_t e = 0; e < json_array_size(a); e++) {
            hex_is(json_string_value(json_array_get(a, e)), buf, SES_ID_BYTES);
            for (size_t j = 0; j < SES_ID_BYTES; j++, k++)
                assert_int_equal(buf[j], (start + step * k) & 0xff);
        }
    }
}

/* The log key (log_seed) and the other key, their key ids and vkeys, under the origin. */
struct keys {
    char origin[128];
    uint8_t pk[32], sk[64], other_pk[32], other_sk[64];
    struct ses_note_vkey vk;
};

static void load_keys(struct keys *k)
{
    const json_t *in = get(g_vec, "inputs");
    uint8_t seed[32], sid[16];
    char sid64[32];
    hex_at(in, "server_id", sid, 16);
    assert_int_equal(ses_b64_encode(sid64, sizeof sid64, sid, 16), 0);
    snprintf(k->origin, sizeof k->origin, "sesame/audit/%s", sid64);
    hex_at(in, "log_seed", seed, 32);
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
    hex_at(in, "other_seed", seed, 32);
    crypto_sign_seed_keypair(k->other_pk, k->other_sk, seed);
    assert_int_equal(ses_note_vkey_parse(&k->vk, str_at(get(g_vec, "keys"), "vkey")), 0);
}

static void test_keys(void **state)
{
    (void)state;
    struct keys k;
    load_keys(&k);
    const json_t *kj = get(g_vec, "keys");
    char vkey[SES_NOTE_VKEY_MAX + 1];
    uint8_t id[SES_NOTE_KEY_ID_BYTES];
    assert_string_equal(str_at(kj, "origin"), k.origin);
    hex_eq(kj, "log_pk", k.pk, 32);
    hex_eq(kj, "other_pk", k.other_pk, 32);
    assert_int_equal(ses_note_key_id(id, k.origin, k.pk), 0);
    hex_eq(kj, "key_id", id, sizeof id);
    assert_int_equal(ses_note_key_id(id, k.origin, k.other_pk), 0);
    hex_eq(kj, "other_key_id", id, sizeof id);
    assert_int_equal(ses_note_vkey_format(vkey, sizeof vkey, k.origin, k.pk), 0);
    assert_string_equal(str_at(kj, "vkey"), vkey);
    assert_int_equal(ses_note_vkey_format(vkey, sizeof vkey, k.origin, k.other_pk), 0);
    assert_string_equal(str_at(kj, "other_vkey"), vkey);
    assert_string_equal(k.vk.name, k.origin);
    assert_memory_equal(k.vk.pk, k.pk, 32);
}

/* --- records ------------------------------------------------------------------------------------
 */

struct got_row {
    char text[512];
    size_t len;
    uint8_t leaf[HB];
};

static int take_row(void *ud, const struct ses_audit_row *row)
{
    struct got_row *rows = ud, *r = &rows[row->seq - 1];
    assert_non_null(row->rec);
    assert_true(row->rec_len < sizeof r->text);
    memcpy(r->text, row->rec, row->rec_len);
    r->text[row->rec_len] = '\0';
    r->len = row->rec_len;
    memcpy(r->leaf, row->leaf_hash, HB);
    return 0;
}

/* Appends one record's inputs to st (ids decoded from hex). */
static void append_inputs(struct ses_store *st, const json_t *in, int64_t want_seq)
{
    uint8_t user[SES_ID_BYTES], device[SES_ID_BYTES];
    const char *u = str_or_null(in, "user"), *d = str_or_null(in, "device");
    if (u != NULL)
        hex_is(u, user, SES_ID_BYTES);
    if (d != NULL)
        hex_is(d, device, SES_ID_BYTES);
    struct ses_audit_rec r = {.ts_ms = int_at(in, "ts"),
                              .actor_user = u ? user : NULL,
                              .actor_device = d ? device : NULL,
                              .actor_role = str_or_null(in, "role"),
                              .action = str_at(in, "action"),
                              .object = str_or_null(in, "object"),
                              .outcome = str_at(in, "outcome"),
                              .peer = str_or_null(in, "peer")};
    int64_t seq = 0;
    assert_int_equal(ses_store_audit_append(st, &r, &seq), 0);
    assert_int_equal(seq, want_seq);
}

static void test_records_are_the_stores_bytes(void **state)
{
    (void)state;
    const json_t *recs = array_at(g_vec, "records");
    static struct got_row rows[MAX_LEAVES];
    char dir[256], db[300], side[320];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/sesame-audit-vec-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/sesame.db", dir);
    struct ses_store *st = NULL;
    assert_int_equal(ses_store_open(db, true, &st), 0);
    assert_int_equal(ses_store_begin(st), 0);
    for (size_t i = 0; i < json_array_size(recs); i++) {
        const json_t *r = json_array_get(recs, i);
        assert_int_equal(int_at(r, "seq"), (json_int_t)i + 1);
        append_inputs(st, get(r, "inputs"), (int64_t)i + 1);
    }
    assert_int_equal(ses_store_commit(st), 0);
    assert_int_equal(ses_store_audit_range(st, 1, (int64_t)json_array_size(recs), take_row, rows),
                     0);
    for (size_t i = 0; i < json_array_size(recs); i++) {
        const json_t *r = json_array_get(recs, i);
        uint8_t h[HB];
        assert_string_equal(str_at(r, "text"), rows[i].text);
        ses_merkle_leaf_hash(h, (const uint8_t *)rows[i].text, rows[i].len);
        hex_eq(r, "leaf_hash", h, HB);
        assert_memory_equal(rows[i].leaf, h, HB);
    }
    /* the store's root agrees with merkle.c's over the vector's leaves */
    uint8_t a[HB], b[HB];
    assert_int_equal(ses_store_audit_root(st, g_tree.size, a), 0);
    assert_int_equal(ses_merkle_root(tree_get, &g_tree, g_tree.size, b), 0);
    assert_memory_equal(a, b, HB);
    ses_store_close(st);
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(side, sizeof side, "%s%s", db, suffix[i]);
        unlink(side);
    }
    assert_int_equal(rmdir(dir), 0);
}

/* The escapes of PROTOCOL.md section 8 are in the file: '"', '\\', \u00XX below U+0020 only. */
static void test_record_escapes_are_pinned(void **state)
{
    (void)state;
    const json_t *recs = array_at(g_vec, "records");
    int found = 0;
    for (size_t i = 0; i < json_array_size(recs); i++) {
        const char *t = str_at(json_array_get(recs, i), "text");
        if (strstr(t, "\\\"q\\\" \\\\ \\u0001\\u001f\x7f \xc3\xa9 \xe2\x80\x94") != NULL)
            found++;
    }
    assert_int_equal(found, 1);
}

/* --- roots and proofs ---------------------------------------------------------------------------
 */

static void test_roots(void **state)
{
    (void)state;
    const json_t *roots = array_at(g_vec, "roots");
    assert_int_equal(json_array_size(roots), g_tree.size + 1);
    for (size_t i = 0; i < json_array_size(roots); i++) {
        const json_t *r = json_array_get(roots, i);
        uint8_t got[HB];
        uint64_t n = (uint64_t)int_at(r, "size");
        assert_int_equal(n, i);
        assert_int_equal(ses_merkle_root(tree_get, &g_tree, n, got), 0);
        hex_eq(r, "root", got, HB);
        if (n > 0) {
            struct ses_merkle_frontier f;
            ses_merkle_frontier_init(&f);
            for (uint64_t s = 1; s <= n; s++) {
                uint8_t leaf[HB];
                leaf_of_seq(s, leaf);
                assert_int_equal(ses_merkle_append(&f, leaf, NULL, NULL), 0);
            }
            ses_merkle_frontier_root(&f, got);
            hex_eq(r, "root", got, HB);
        }
    }
}

static void root_of(uint64_t size, uint8_t out[HB])
{
    const json_t *r = json_array_get(array_at(g_vec, "roots"), size);
    assert_non_null(r);
    assert_int_equal(int_at(r, "size"), (json_int_t)size);
    hex_at(r, "root", out, HB);
}

static void test_inclusion_proofs(void **state)
{
    (void)state;
    const json_t *a = array_at(g_vec, "inclusion");
    const uint64_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 16, 17};
    size_t want = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        want += sizes[s];
    assert_int_equal(json_array_size(a), want);
    size_t k = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        for (uint64_t seq = 1; seq <= sizes[s]; seq++, k++) {
            const json_t *p = json_array_get(a, k);
            uint8_t proof[SES_MERKLE_MAX_PROOF][HB], mine[SES_MERKLE_MAX_PROOF][HB], leaf[HB],
                root[HB];
            size_t count = proof_at(p, "proof", proof), mcount = 0;
            assert_int_equal(int_at(p, "seq"), (json_int_t)seq);
            assert_int_equal(int_at(p, "size"), (json_int_t)sizes[s]);
            g_tree.size = sizes[s];
            assert_int_equal(
                ses_merkle_inclusion_proof(tree_get, &g_tree, seq - 1, sizes[s], mine, &mcount), 0);
            assert_int_equal(mcount, count);
            assert_memory_equal(mine, proof, count * HB);
            leaf_of_seq(seq, leaf);
            root_of(sizes[s], root);
            assert_int_equal(ses_merkle_verify_inclusion(leaf, seq - 1, sizes[s],
                                                         (const uint8_t(*)[HB])proof, count, root),
                             0);
        }
    }
    g_tree.size = json_array_size(array_at(g_vec, "records"));
}

static void test_consistency_proofs(void **state)
{
    (void)state;
    const json_t *a = array_at(g_vec, "consistency");
    assert_true(json_array_size(a) >= 45);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *p = json_array_get(a, i);
        uint8_t proof[SES_MERKLE_MAX_PROOF][HB], mine[SES_MERKLE_MAX_PROOF][HB], r1[HB], r2[HB];
        uint64_t m = (uint64_t)int_at(p, "from"), n = (uint64_t)int_at(p, "to");
        size_t count = proof_at(p, "proof", proof), mcount = 0;
        assert_true(1 <= m && m <= n && n <= g_tree.size);
        assert_int_equal(ses_merkle_consistency_proof(tree_get, &g_tree, m, n, mine, &mcount), 0);
        assert_int_equal(mcount, count);
        assert_memory_equal(mine, proof, count * HB);
        root_of(m, r1);
        root_of(n, r2);
        assert_int_equal(
            ses_merkle_verify_consistency(m, n, r1, r2, (const uint8_t(*)[HB])proof, count), 0);
    }
}

/* --- checkpoints --------------------------------------------------------------------------------
 */

static void test_checkpoints(void **state)
{
    (void)state;
    struct keys k;
    load_keys(&k);
    const json_t *a = array_at(g_vec, "checkpoints");
    assert_int_equal(json_array_size(a), 2);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *c = json_array_get(a, i);
        uint64_t size = (uint64_t)int_at(c, "size");
        uint8_t root[HB], sig[64];
        char body[NOTE_MAX], note[NOTE_MAX], r64[64];
        size_t blen = 0, nlen = 0;
        root_of(size, root);
        hex_eq(c, "root", root, HB);
        sodium_bin2base64(r64, sizeof r64, root, HB, sodium_base64_VARIANT_ORIGINAL);
        assert_string_equal(str_at(c, "root_b64"), r64);
        assert_int_equal(ses_checkpoint_body(body, sizeof body, &blen, k.origin, size, root), 0);
        assert_string_equal(str_at(c, "body"), body);
        crypto_sign_detached(sig, NULL, (const uint8_t *)body, blen, k.sk);
        hex_eq(c, "signature", sig, 64);
        assert_int_equal(
            ses_checkpoint_sign(note, sizeof note, &nlen, k.origin, size, root, k.origin, k.sk), 0);
        assert_string_equal(str_at(c, "note"), note);
        struct ses_checkpoint cp;
        assert_int_equal(ses_checkpoint_open(&cp, note, nlen, &k.vk, k.vk.name), 0);
        assert_int_equal(cp.size, size);
        assert_memory_equal(cp.root, root, HB);
        assert_string_equal(cp.origin, k.origin);
    }
}

/* --- what must be refused -----------------------------------------------------------------------
 */

static void test_negative_records(void **state)
{
    (void)state;
    const json_t *a = array_at(get(g_vec, "negative"), "records");
    assert_true(json_array_size(a) > 0);
    for (size_t i = 0; i < json_array_size(a); i++) {
        const json_t *r = json_array_get(a, i);
        const char *text = str_at(r, "text");
        uint8_t h[HB], stored[HB];
        ses_merkle_leaf_hash(h, (const uint8_t *)text, strlen(text));
        hex_eq(r, "leaf_hash", h, HB);
        leaf_of_seq((uint64_t)int_at(r, "seq"), stored);
        hex_eq(r, "stored_leaf_hash", stored, HB);
        assert_memory_not_equal(h, stored, HB);
        const char *orig = str_at(
            json_array_get(array_at(g_vec, "records"), (size_t)int_at(r, "seq") - 1), "text");
        assert_string_not_equal(orig, text);
    }
}

static void test_negative_proofs(void **state)
{
    (void)state;
    const json_t *neg = get(g_vec, "negative"), *incl = array_at(neg, "inclusion");
    const json_t *cons = array_at(neg, "consistency");
    assert_true(json_array_size(incl) > 0 && json_array_size(cons) > 0);
    for (size_t i = 0; i < json_array_size(incl); i++) {
        const json_t *p = json_array_get(incl, i);
        uint8_t proof[SES_MERKLE_MAX_PROOF][HB], leaf[HB], root[HB];
        size_t count = proof_at(p, "proof", proof);
        hex_at(p, "leaf_hash", leaf, HB);
        hex_at(p, "root", root, HB);
        assert_int_equal(ses_merkle_verify_inclusion(leaf, (uint64_t)int_at(p, "seq") - 1,
                                                     (uint64_t)int_at(p, "size"),
                                                     (const uint8_t(*)[HB])proof, count, root),
                         SES_EAUTH_FAILED);
    }
    for (size_t i = 0; i < json_array_size(cons); i++) {
        const json_t *p = json_array_get(cons, i);
        uint8_t proof[SES_MERKLE_MAX_PROOF][HB], r1[HB], r2[HB];
        size_t count = proof_at(p, "proof", proof);
        hex_at(p, "root1", r1, HB);
        hex_at(p, "root2", r2, HB);
        assert_int_equal(ses_merkle_verify_consistency((uint64_t)int_at(p, "from"),
                                                       (uint64_t)int_at(p, "to"), r1, r2,
                                                       (const uint8_t(*)[HB])proof, count),
                         SES_EAUTH_FAILED);
    }
}

static void test_negative_checkpoints_and_vkeys(void **state)
{
    (void)state;
    struct keys k;
    load_keys(&k);
    const json_t *neg = get(g_vec, "negative"), *cks = array_at(neg, "checkpoints");
    const json_t *vks = array_at(neg, "vkeys");
    assert_true(json_array_size(cks) > 0 && json_array_size(vks) > 0);
    for (size_t i = 0; i < json_array_size(cks); i++) {
        const json_t *c = json_array_get(cks, i);
        const char *note = str_at(c, "note"), *reason = str_at(c, "reason");
        struct ses_checkpoint cp;
        int rc = ses_checkpoint_open(&cp, note, strlen(note), &k.vk, k.vk.name);
        assert_string_equal(ses_err_name(rc), str_at(c, "error"));
        /* without the origin check, only the "origin" case opens */
        rc = ses_checkpoint_open(&cp, note, strlen(note), &k.vk, NULL);
        assert_int_equal(rc == 0, strcmp(reason, "origin") == 0);
        assert_true(strcmp(reason, "origin") == 0 || strcmp(reason, "signature") == 0 ||
                    strcmp(reason, "malformed") == 0);
    }
    for (size_t i = 0; i < json_array_size(vks); i++) {
        struct ses_note_vkey vk;
        assert_int_equal(ses_note_vkey_parse(&vk, str_at(json_array_get(vks, i), "vkey")),
                         SES_EBAD_FIELD);
    }
    /* the other key's own vkey does not open the log's checkpoints */
    struct ses_note_vkey other;
    struct ses_checkpoint cp;
    const char *note = str_at(json_array_get(array_at(g_vec, "checkpoints"), 1), "note");
    assert_int_equal(ses_note_vkey_parse(&other, str_at(get(g_vec, "keys"), "other_vkey")), 0);
    assert_int_equal(ses_checkpoint_open(&cp, note, strlen(note), &other, other.name),
                     SES_EAUTH_FAILED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inputs_follow_the_pattern),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_records_are_the_stores_bytes),
        cmocka_unit_test(test_record_escapes_are_pinned),
        cmocka_unit_test(test_roots),
        cmocka_unit_test(test_inclusion_proofs),
        cmocka_unit_test(test_consistency_proofs),
        cmocka_unit_test(test_checkpoints),
        cmocka_unit_test(test_negative_records),
        cmocka_unit_test(test_negative_proofs),
        cmocka_unit_test(test_negative_checkpoints_and_vkeys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
