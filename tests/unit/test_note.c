/*
 * test_note.c - unit tests of C2SP signed notes and tlog checkpoints (note.h): the reference
 * vectors of golang.org/x/mod/sumdb/note and the C2SP signed-note example, a frozen checkpoint
 * signed by a fixed key, sign/open round trips, and every strictness rule of the parser.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sodium.h>

#include "sesame/err.h"
#include "sesame/note.h"

#define EM "\xE2\x80\x94" /* U+2014 EM DASH */

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

/* golang.org/x/mod/sumdb/note note_test.go (TestSign, TestOpen, TestNewVerifier): the
 * PeterNeumann key (skey "PRIVATE+KEY+PeterNeumann+c74f20a3+<base64(0x01 || seed)>"), its vkey,
 * the EnochRoot vkey, the text and both published signature lines. */
static const char go_peter_seed_b64[] = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char go_peter_vkey[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
static const char go_enoch_vkey[] =
    "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
static const char go_text[] = "If you think cryptography is the answer to your problem,\n"
                              "then you don't know what your problem is.\n";
static const char go_peter_sig[] =
    EM " PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIu"
       "GUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
static const char go_enoch_sig[] =
    EM " EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOH"
       "p+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

/* C2SP signed-note.md, "Verifier keys" example (github.com/C2SP/C2SP). */
static const char c2sp_vkey[] =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
static const char c2sp_note[] = "This is an example message.\n\n" EM
                                " example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2"
                                "ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

/* C2SP tlog-checkpoint.md example (its vkey is not published: body parsing only). */
static const char c2sp_checkpoint[] =
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n" EM
    " example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q"
    "1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";

/* Sesame's fixed test key: Ed25519 seed 00 01 02 .. 1f, name "sesame/test-server/audit". The key
 * id, vkey and signed checkpoint below were computed at development time with Python's
 * `cryptography` package (independently of libsodium and of note.c) and frozen. The root is the
 * 8-leaf CT reference root 5dc9da79...4328 (see test_merkle.c). */
#define TEST_NAME "sesame/test-server/audit"
static const uint8_t test_key_id[4] = {0xdf, 0xa9, 0x56, 0xb7};
static const char test_vkey[] = TEST_NAME "+dfa956b7+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
static const char test_body[] = TEST_NAME "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n";
static const char test_note[] =
    TEST_NAME "\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n" EM " " TEST_NAME
              " 36lWtzY9wp8vj9w2PVQ1YbtAjR60avl4B9N7KmJdVYCZiZsxpaclBHJyO+xEdqZtxJQ9QEqP10T3g3I+VK/"
              "7oyzjgQY=\n";
static const char ct_root8_hex[] =
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";

static void test_key(uint8_t pk[32], uint8_t sk[64])
{
    uint8_t seed[32];
    for (int i = 0; i < 32; i++)
        seed[i] = (uint8_t)i;
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
}

static void root8(uint8_t root[32])
{
    assert_int_equal(sodium_hex2bin(root, 32, ct_root8_hex, 64, NULL, NULL, NULL), 0);
}

static void vkey(struct ses_note_vkey *vk, const char *text)
{
    assert_int_equal(ses_note_vkey_parse(vk, text), 0);
}

/* A checkpoint note signed by the test key over an arbitrary text (so that malformed bodies get
 * past the signature check and are rejected by the body parser). Returns a static buffer. */
static const char *signed_text(const char *text)
{
    static char out[4096];
    uint8_t pk[32], sk[64];
    test_key(pk, sk);
    assert_int_equal(ses_note_sign(out, sizeof out, NULL, text, strlen(text), TEST_NAME, sk), 0);
    return out;
}

static int open_cp(const char *note, const char *origin)
{
    struct ses_note_vkey vk;
    struct ses_checkpoint cp;
    vkey(&vk, test_vkey);
    return ses_checkpoint_open(&cp, note, strlen(note), &vk, origin);
}

/* --- reference vectors ----------------------------------------------------------------------- */

static void test_go_reference_sign(void **state)
{
    (void)state;
    uint8_t raw[33], pk[32], sk[64], id[4];
    size_t n = 0;
    assert_int_equal(sodium_base642bin(raw, sizeof raw, go_peter_seed_b64,
                                       strlen(go_peter_seed_b64), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_int_equal(n, 33);
    assert_int_equal(raw[0], 0x01);
    assert_int_equal(crypto_sign_seed_keypair(pk, sk, raw + 1), 0);

    char text[SES_NOTE_VKEY_MAX + 1];
    assert_int_equal(ses_note_vkey_format(text, sizeof text, "PeterNeumann", pk), 0);
    assert_string_equal(text, go_peter_vkey);
    assert_int_equal(ses_note_key_id(id, "PeterNeumann", pk), 0);
    assert_memory_equal(id, "\xc7\x4f\x20\xa3", 4);

    char out[512], want[512];
    size_t len = 0;
    snprintf(want, sizeof want, "%s\n%s", go_text, go_peter_sig);
    assert_int_equal(
        ses_note_sign(out, sizeof out, &len, go_text, strlen(go_text), "PeterNeumann", sk), 0);
    assert_string_equal(out, want);
    assert_int_equal(len, strlen(want));
}

static void test_go_reference_open(void **state)
{
    (void)state;
    struct ses_note_vkey peter, enoch;
    char note[2048];
    size_t tl = 0;
    vkey(&peter, go_peter_vkey);
    vkey(&enoch, go_enoch_vkey);
    assert_string_equal(peter.name, "PeterNeumann");
    assert_memory_equal(peter.id, "\xc7\x4f\x20\xa3", 4);

    /* one signature verified, one by an unknown key ignored; either key alone suffices */
    snprintf(note, sizeof note, "%s\n%s%s", go_text, go_peter_sig, go_enoch_sig);
    assert_int_equal(ses_note_open(note, strlen(note), &peter, &tl), 0);
    assert_int_equal(tl, strlen(go_text));
    assert_memory_equal(note, go_text, tl);
    assert_int_equal(ses_note_open(note, strlen(note), &enoch, &tl), 0);
    assert_int_equal(tl, strlen(go_text));

    /* no signature by the known key */
    snprintf(note, sizeof note, "%s\n%s", go_text, go_enoch_sig);
    assert_int_equal(ses_note_open(note, strlen(note), &peter, &tl), SES_EAUTH_FAILED);
    assert_int_equal(tl, 0);

    /* repeated signatures by the known key are fine (TestOpen "Duplicated verified ...") */
    snprintf(note, sizeof note, "%s\n%s%s%s%s", go_text, go_peter_sig, go_peter_sig, go_enoch_sig,
             go_enoch_sig);
    assert_int_equal(ses_note_open(note, strlen(note), &peter, NULL), 0);

    /* TestOpen "Invalid signature": "ABCD" inserted into the known key's signature */
    char sig[256];
    snprintf(sig, sizeof sig, "%.60sABCD%s", go_peter_sig, go_peter_sig + 60);
    snprintf(note, sizeof note, "%s\n%s", go_text, sig);
    assert_int_equal(ses_note_open(note, strlen(note), &peter, NULL), SES_EAUTH_FAILED);
    /* ... and into an unknown key's: ignored */
    snprintf(sig, sizeof sig, "%.60sABCD%s", go_enoch_sig, go_enoch_sig + 60);
    snprintf(note, sizeof note, "%s\n%s%s", go_text, go_peter_sig, sig);
    assert_int_equal(ses_note_open(note, strlen(note), &peter, NULL), 0);

    /* TestOpen badMsgs: all malformed */
    char bad[7][512];
    snprintf(bad[0], sizeof bad[0], "%s", go_text);
    snprintf(bad[1], sizeof bad[1], "%s\n", go_text);
    snprintf(bad[2], sizeof bad[2], "%s\n%.*s", go_text, (int)strlen(go_peter_sig) - 1,
             go_peter_sig);
    snprintf(bad[3], sizeof bad[3], "\x01%s\n%s", go_text, go_peter_sig);
    snprintf(bad[4], sizeof bad[4], "\xff%s\n%s", go_text, go_peter_sig);
    snprintf(bad[5], sizeof bad[5],
             "%s\n" EM " Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
             "KvqfqdngotpRZb6KE6RyyBwJnAM=",
             go_text);
    snprintf(bad[6], sizeof bad[6], "%s\n%sUnexpected line.\n", go_text, go_peter_sig);
    for (int i = 0; i < 7; i++)
        assert_int_equal(ses_note_open(bad[i], strlen(bad[i]), &peter, NULL), SES_EBAD_FIELD);
}

static void test_c2sp_examples(void **state)
{
    (void)state;
    struct ses_note_vkey vk;
    struct ses_checkpoint cp;
    size_t tl = 0;
    vkey(&vk, c2sp_vkey);
    assert_string_equal(vk.name, "example.com/foo");
    assert_memory_equal(vk.id, "\x53\x0d\x90\x3a", 4);
    uint8_t id[4];
    assert_int_equal(ses_note_key_id(id, vk.name, vk.pk), 0);
    assert_memory_equal(id, vk.id, 4);
    char again[SES_NOTE_VKEY_MAX + 1];
    assert_int_equal(ses_note_vkey_format(again, sizeof again, vk.name, vk.pk), 0);
    assert_string_equal(again, c2sp_vkey);
    assert_int_equal(ses_note_open(c2sp_note, strlen(c2sp_note), &vk, &tl), 0);
    assert_int_equal(tl, strlen("This is an example message.\n"));
    /* not a checkpoint: one line */
    assert_int_equal(ses_checkpoint_open(&cp, c2sp_note, strlen(c2sp_note), &vk, NULL),
                     SES_EBAD_FIELD);

    /* the tlog-checkpoint example: body parses; its signer is unknown to us */
    const char *end = strstr(c2sp_checkpoint, "\n\n");
    assert_non_null(end);
    assert_int_equal(
        ses_checkpoint_parse_body(&cp, c2sp_checkpoint, (size_t)(end - c2sp_checkpoint) + 1), 0);
    assert_string_equal(cp.origin, "example.com/behind-the-sofa");
    assert_int_equal(cp.size, 20852163);
    uint8_t want[32];
    assert_int_equal(sodium_base642bin(want, 32, "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=", 44,
                                       NULL, NULL, NULL, sodium_base64_VARIANT_ORIGINAL),
                     0);
    assert_memory_equal(cp.root, want, 32);
    assert_int_equal(open_cp(c2sp_checkpoint, NULL), SES_EAUTH_FAILED);
}

/* --- Sesame's checkpoints -------------------------------------------------------------------- */

static void test_fixed_key_and_frozen_checkpoint(void **state)
{
    (void)state;
    uint8_t pk[32], sk[64], id[4], root[32];
    test_key(pk, sk);
    root8(root);
    assert_int_equal(ses_note_key_id(id, TEST_NAME, pk), 0);
    assert_memory_equal(id, test_key_id, 4);
    char vt[SES_NOTE_VKEY_MAX + 1];
    assert_int_equal(ses_note_vkey_format(vt, sizeof vt, TEST_NAME, pk), 0);
    assert_string_equal(vt, test_vkey);
    struct ses_note_vkey vk;
    vkey(&vk, test_vkey);
    assert_string_equal(vk.name, TEST_NAME);
    assert_memory_equal(vk.id, test_key_id, 4);
    assert_memory_equal(vk.pk, pk, 32);

    char out[512];
    size_t len = 0;
    assert_int_equal(ses_checkpoint_body(out, sizeof out, &len, TEST_NAME, 8, root), 0);
    assert_string_equal(out, test_body);
    assert_int_equal(len, strlen(test_body));
    assert_int_equal(ses_checkpoint_sign(out, sizeof out, &len, TEST_NAME, 8, root, TEST_NAME, sk),
                     0);
    assert_string_equal(out, test_note);
    assert_int_equal(len, strlen(test_note));

    struct ses_checkpoint cp;
    assert_int_equal(ses_checkpoint_open(&cp, test_note, strlen(test_note), &vk, TEST_NAME), 0);
    assert_string_equal(cp.origin, TEST_NAME);
    assert_int_equal(cp.size, 8);
    assert_memory_equal(cp.root, root, 32);
}

static void test_body_exact_bytes(void **state)
{
    (void)state;
    uint8_t root[32], empty[32];
    char out[512];
    size_t len = 0;
    crypto_hash_sha256(empty, NULL, 0);
    root8(root);
    assert_int_equal(
        ses_checkpoint_body(out, sizeof out, &len, "sesame/AAAAAAAAAAAAAAAAAAAAAA/audit", 0, empty),
        0);
    assert_string_equal(out, "sesame/AAAAAAAAAAAAAAAAAAAAAA/audit\n0\n"
                             "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
    assert_int_equal(ses_checkpoint_body(out, sizeof out, &len, "o", UINT64_MAX, root), 0);
    assert_string_equal(out,
                        "o\n18446744073709551615\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n");
    assert_int_equal(len, 2 + 21 + 45);
    /* the buffer must hold the text and its NUL */
    assert_int_equal(ses_checkpoint_body(out, len + 1, NULL, "o", UINT64_MAX, root), 0);
    assert_int_equal(ses_checkpoint_body(out, len, &len, "o", UINT64_MAX, root), SES_EINVALID_ARG);
    assert_int_equal(len, 0);
    /* origins: non-empty, <= 255 bytes, UTF-8, no control characters */
    char o[300];
    memset(o, 'a', sizeof o);
    o[255] = '\0';
    assert_int_equal(ses_checkpoint_body(out, sizeof out, NULL, o, 1, root), 0);
    o[255] = 'a';
    o[256] = '\0';
    assert_int_equal(ses_checkpoint_body(out, sizeof out, NULL, o, 1, root), SES_EINVALID_ARG);
    const char *bad_origins[] = {"", "a\nb", "a\tb", "a\rb", "a\x7f", "\xc3", "\xc0\xaf"};
    for (size_t i = 0; i < sizeof bad_origins / sizeof bad_origins[0]; i++)
        assert_int_equal(ses_checkpoint_body(out, sizeof out, NULL, bad_origins[i], 1, root),
                         SES_EINVALID_ARG);
    assert_int_equal(ses_checkpoint_body(out, sizeof out, NULL, "caf\xc3\xa9 log", 1, root), 0);
    assert_int_equal(ses_checkpoint_body(NULL, sizeof out, NULL, "o", 1, root), SES_EINVALID_ARG);
    assert_int_equal(ses_checkpoint_body(out, sizeof out, NULL, NULL, 1, root), SES_EINVALID_ARG);
    assert_int_equal(ses_checkpoint_body(out, sizeof out, NULL, "o", 1, NULL), SES_EINVALID_ARG);
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t pk[32], sk[64];
    crypto_sign_keypair(pk, sk);
    char vt[SES_NOTE_VKEY_MAX + 1];
    const char *name = "sesame/qVBYuqDe2pY9QrGeGlm5PA/audit";
    assert_int_equal(ses_note_vkey_format(vt, sizeof vt, name, pk), 0);
    struct ses_note_vkey vk;
    vkey(&vk, vt);
    const uint64_t sizes[] = {0, 1, 9, 10, 255, 256, 1000000, UINT64_MAX - 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint8_t root[32];
        randombytes_buf(root, sizeof root);
        char note[1024];
        size_t len = 0;
        assert_int_equal(
            ses_checkpoint_sign(note, sizeof note, &len, name, sizes[i], root, name, sk), 0);
        assert_int_equal(len, strlen(note));
        struct ses_checkpoint cp;
        assert_int_equal(ses_checkpoint_open(&cp, note, len, &vk, name), 0);
        assert_string_equal(cp.origin, name);
        assert_int_equal(cp.size, sizes[i]);
        assert_memory_equal(cp.root, root, 32);
        assert_int_equal(ses_checkpoint_open(&cp, note, len, &vk, NULL), 0);
        /* origin mismatch (prefix, longer, other) */
        assert_int_equal(ses_checkpoint_open(&cp, note, len, &vk, "sesame/qVBYuqDe2pY9QrGeGlm5PA"),
                         SES_EAUTH_FAILED);
        assert_int_equal(
            ses_checkpoint_open(&cp, note, len, &vk, "sesame/qVBYuqDe2pY9QrGeGlm5PA/auditx"),
            SES_EAUTH_FAILED);
        assert_int_equal(cp.size, 0);
        assert_string_equal(cp.origin, "");
        /* any single-byte change in the text breaks the signature (or the syntax) */
        for (size_t k = 0; k < strlen(name) + 3; k++) {
            char copy[1024];
            memcpy(copy, note, len + 1);
            copy[k] = copy[k] == 'x' ? 'y' : 'x';
            int rc = ses_checkpoint_open(&cp, copy, len, &vk, NULL);
            assert_true(rc == SES_EAUTH_FAILED || rc == SES_EBAD_FIELD);
        }
    }
    /* a note signed by another key, or by the same key under another name */
    uint8_t pk2[32], sk2[64], root[32] = {0};
    crypto_sign_keypair(pk2, sk2);
    char note[1024];
    assert_int_equal(ses_checkpoint_sign(note, sizeof note, NULL, name, 1, root, name, sk2), 0);
    assert_int_equal(open_cp(note, NULL), SES_EAUTH_FAILED);
    struct ses_checkpoint cp;
    assert_int_equal(ses_checkpoint_open(&cp, note, strlen(note), &vk, name), SES_EAUTH_FAILED);
    assert_int_equal(ses_checkpoint_sign(note, sizeof note, NULL, name, 1, root, "other", sk), 0);
    assert_int_equal(ses_checkpoint_open(&cp, note, strlen(note), &vk, name), SES_EAUTH_FAILED);
    /* a forged vkey: right name and id, other public key */
    struct ses_note_vkey forged = vk;
    memcpy(forged.pk, pk2, 32);
    assert_int_equal(ses_checkpoint_sign(note, sizeof note, NULL, name, 1, root, name, sk), 0);
    assert_int_equal(ses_checkpoint_open(&cp, note, strlen(note), &forged, name), SES_EAUTH_FAILED);
    assert_int_equal(ses_checkpoint_open(&cp, note, strlen(note), &vk, name), 0);
}

static void test_signature_rejections(void **state)
{
    (void)state;
    char note[4096];
    size_t blen = strlen(test_body);
    assert_int_equal(open_cp(test_note, NULL), 0);

    /* bad signature: one base64 character changed (still valid base64) */
    snprintf(note, sizeof note, "%s", test_note);
    char *b64 = note + blen + 1 + 4 + strlen(TEST_NAME) + 1;
    b64[20] = b64[20] == 'A' ? 'B' : 'A';
    assert_int_equal(open_cp(note, NULL), SES_EAUTH_FAILED);
    /* the signature bytes of the key id changed: now an unknown key, so no known signature */
    snprintf(note, sizeof note, "%s", test_note);
    b64 = note + blen + 1 + 4 + strlen(TEST_NAME) + 1;
    b64[0] = b64[0] == 'A' ? 'B' : 'A';
    assert_int_equal(open_cp(note, NULL), SES_EAUTH_FAILED);
    /* the body changed under a valid signature */
    snprintf(note, sizeof note, "%s", test_note);
    note[strlen(TEST_NAME) + 1] = '9';
    assert_int_equal(open_cp(note, NULL), SES_EAUTH_FAILED);
    /* the known key's signature truncated to 63 bytes / extended to 65 */
    snprintf(note, sizeof note,
             "%s\n" EM " " TEST_NAME " 36lWtzY9wp8vj9w2PVQ1YbtAjR60avl4B9N7KmJd"
             "VYCZiZsxpaclBHJyO+xEdqZtxJQ9QEqP10T3g3I+VK/7oyzjgQ==\n",
             test_body);
    assert_int_equal(open_cp(note, NULL), SES_EAUTH_FAILED);
    snprintf(note, sizeof note,
             "%s\n" EM " " TEST_NAME " 36lWtzY9wp8vj9w2PVQ1YbtAjR60avl4B9N7KmJd"
             "VYCZiZsxpaclBHJyO+xEdqZtxJQ9QEqP10T3g3I+VK/7oyzjgQYA\n",
             test_body);
    assert_int_equal(open_cp(note, NULL), SES_EAUTH_FAILED);
    /* a good signature plus a 63-byte one by the known key */
    snprintf(note, sizeof note,
             "%s" EM " " TEST_NAME " 36lWtzY9wp8vj9w2PVQ1YbtAjR60avl4B9N7KmJd"
             "VYCZiZsxpaclBHJyO+xEdqZtxJQ9QEqP10T3g3I+VK/7oyzjgQ==\n",
             test_note);
    assert_int_equal(open_cp(note, NULL), SES_EAUTH_FAILED);
    /* missing the known key's signature: only unknown keys */
    snprintf(note, sizeof note, "%s\n%s", test_body, go_peter_sig);
    assert_int_equal(open_cp(note, NULL), SES_EAUTH_FAILED);
    /* ... and a good signature plus a bad one by the known key: rejected */
    snprintf(note, sizeof note, "%s%s", test_note, test_note + blen + 1);
    assert_int_equal(open_cp(note, NULL), 0);
    snprintf(note, sizeof note,
             "%s" EM " " TEST_NAME " 36lWtzY9wp8vj9w2PVQ1YbtAjR60avl4B9N7KmJd"
             "VYCZiZsxpaclBHJyO+xEdqZtxJQ9QEqP10T3g3I+VK/7oyzjgQA=\n",
             test_note);
    assert_int_equal(open_cp(note, NULL), SES_EAUTH_FAILED);
}

static void test_unknown_signatures_ignored(void **state)
{
    (void)state;
    char note[16384];
    size_t blen = strlen(test_body);
    const char *sig = test_note + blen + 1;
    /* same name other id; same id other name; other key entirely; a long (post-quantum sized)
     * signature; all before and after the known one */
    static char longsig[8192];
    uint8_t blob[2424];
    memcpy(blob, "\x01\x02\x03\x04", 4);
    memset(blob + 4, 0x5a, sizeof blob - 4);
    char b64[4096];
    sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
    snprintf(longsig, sizeof longsig, EM " pq.example/log %s\n", b64);
    snprintf(note, sizeof note,
             "%s\n" EM " " TEST_NAME " AAAAAHNpZ25hdHVyZQ==\n" EM
             " other.example 36lWtzZzaWduYXR1cmU=\n%s%s%s",
             test_body, go_enoch_sig, sig, longsig);
    assert_int_equal(open_cp(note, TEST_NAME), 0);

    /* 16 signature lines in all are accepted, 17 are not */
    snprintf(note, sizeof note, "%s\n", test_body);
    for (int i = 0; i < 15; i++)
        strcat(note, go_enoch_sig);
    strcat(note, sig);
    assert_int_equal(open_cp(note, NULL), 0);
    strcat(note, go_enoch_sig);
    assert_int_equal(open_cp(note, NULL), SES_EBAD_FIELD);
    snprintf(note, sizeof note, "%s\n", test_body);
    for (int i = 0; i < 17; i++)
        strcat(note, sig);
    assert_int_equal(open_cp(note, NULL), SES_EBAD_FIELD);
}

static void test_note_syntax_rejections(void **state)
{
    (void)state;
    char note[4096];
    const char *sig = test_note + strlen(test_body) + 1;
    /* note = body, mid, the known signature line, tail */
    struct {
        const char *mid, *tail;
        int rc;
    } cases[] = {
        {"", "", SES_EBAD_FIELD},                            /* no blank line */
        {"\n\n", "", SES_EAUTH_FAILED},                      /* extra blank line joins the text */
        {"\n", "\n", SES_EBAD_FIELD},                        /* trailing blank line */
        {"\n", "extra\n", SES_EBAD_FIELD},                   /* a line that is not a signature */
        {"\n", EM " x\n", SES_EBAD_FIELD},                   /* name without signature */
        {"\n", EM " x \n", SES_EBAD_FIELD},                  /* empty signature */
        {"\n", EM "  AAAAAAA=\n", SES_EBAD_FIELD},           /* empty name */
        {"\n", EM " a+b AAAAAAA=\n", SES_EBAD_FIELD},        /* '+' in a name */
        {"\n", EM " a\xc2\xa0z AAAAAAA=\n", SES_EBAD_FIELD}, /* U+00A0 in a name */
        {"\n", EM " a AAAA\n", SES_EBAD_FIELD},              /* 3 bytes: no room for id + sig */
        {"\n", EM " a AAAAAA==\n", SES_EBAD_FIELD},          /* 4 bytes */
        {"\n", EM " a AAAAAAA\n", SES_EBAD_FIELD},           /* missing padding */
        {"\n", EM " a AAAAAAB=\n", SES_EBAD_FIELD},          /* non-canonical final bits */
        {"\n", EM " a AAAA-AA=\n", SES_EBAD_FIELD},          /* base64url alphabet */
        {"\n", EM " a AAAAAAA= \n", SES_EBAD_FIELD},         /* trailing space */
        {"\n", "- a AAAAAAA=\n", SES_EBAD_FIELD},            /* hyphen instead of em dash */
        {"\n", EM "a AAAAAAA=\n", SES_EBAD_FIELD},           /* no space after the dash */
        {"\n", EM " a AAAAAAA=", SES_EBAD_FIELD},            /* no final newline */
        {"\n", EM " a AAAAAAA=\r\n", SES_EBAD_FIELD},        /* CR */
        {"\n", EM " a AAAAAAA=\n", 0},                       /* (control: well-formed) */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(note, sizeof note, "%s%s%s%s", test_body, cases[i].mid, sig, cases[i].tail);
        assert_int_equal(open_cp(note, NULL), cases[i].rc);
    }
    /* control characters and invalid UTF-8 anywhere in the note */
    const char *inject[] = {"\x01",     "\t",           "\r",
                            "\x7f",     "\xff",         "\x80",
                            "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                            "\xe2\x80"};
    for (size_t i = 0; i < sizeof inject / sizeof inject[0]; i++) {
        /* in the origin line */
        snprintf(note, sizeof note,
                 "sesame%s\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n%s", inject[i], sig);
        assert_int_equal(open_cp(note, NULL), SES_EBAD_FIELD);
        /* in an unknown signature line */
        snprintf(note, sizeof note, "%s\n%s" EM " a%s AAAAAAA=\n", test_body, sig, inject[i]);
        assert_int_equal(open_cp(note, NULL), SES_EBAD_FIELD);
    }
    /* NUL inside the note (length given explicitly) */
    snprintf(note, sizeof note, "%s", test_note);
    size_t len = strlen(note);
    note[3] = '\0';
    struct ses_note_vkey vk;
    struct ses_checkpoint cp;
    vkey(&vk, test_vkey);
    assert_int_equal(ses_checkpoint_open(&cp, note, len, &vk, NULL), SES_EBAD_FIELD);
    assert_int_equal(ses_note_open(note, len, &vk, NULL), SES_EBAD_FIELD);
    /* multi-byte UTF-8 is fine in unknown names */
    snprintf(note, sizeof note, "%s\n%s" EM " caf\xc3\xa9\xf0\x9f\x94\x91 AAAAAAA=\n", test_body,
             sig);
    assert_int_equal(open_cp(note, NULL), 0);
    assert_int_equal(ses_note_open(NULL, 0, &vk, NULL), SES_EINVALID_ARG);
    assert_int_equal(ses_note_open(test_note, strlen(test_note), NULL, NULL), SES_EINVALID_ARG);
    assert_int_equal(ses_checkpoint_open(NULL, test_note, strlen(test_note), &vk, NULL),
                     SES_EINVALID_ARG);
}

static void test_body_rejections(void **state)
{
    (void)state;
    static const char r[] = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
    char text[1024];
    struct {
        const char *origin, *size, *root, *extra;
    } bad[] = {
        {"o", "08", r, ""},
        {"o", "00", r, ""},
        {"o", "+8", r, ""},
        {"o", "-8", r, ""},
        {"o", " 8", r, ""},
        {"o", "8 ", r, ""},
        {"o", "", r, ""},
        {"o", "0x8", r, ""},
        {"o", "18446744073709551616", r, ""},                            /* 2^64 */
        {"o", "99999999999999999999", r, ""},                            /* 20 digits, > 2^64 */
        {"o", "100000000000000000000", r, ""},                           /* 21 digits */
        {"o", "8", "!cnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", ""},  /* not base64 */
        {"o", "8", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQw==", ""},  /* 31 bytes */
        {"o", "8", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyhA", ""},  /* 33 bytes */
        {"o", "8", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg", ""},   /* no padding */
        {"o", "8", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyh=", ""},  /* non-canonical */
        {"o", "8", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz-Nw7_RgQyg=", ""},  /* base64url */
        {"o", "8", "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg= ", ""}, /* trailing space */
        {"o", "8", "", ""},
        {"o", "8", r, "extension\n"}, /* extension lines are not accepted */
        {"o", "8", r, "\n"},
        {"", "8", r, ""}, /* empty origin */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, "%s\n%s\n%s\n%s", bad[i].origin, bad[i].size, bad[i].root,
                 bad[i].extra);
        struct ses_checkpoint cp;
        memset(&cp, 0xAA, sizeof cp);
        assert_int_equal(ses_checkpoint_parse_body(&cp, text, strlen(text)), SES_EBAD_FIELD);
        assert_int_equal(cp.size, 0);
        assert_int_equal(cp.origin[0], '\0');
        /* signed by the known key, so the body parser is what rejects it */
        assert_int_equal(open_cp(signed_text(text), NULL), SES_EBAD_FIELD);
    }
    /* two lines, missing final newline, empty */
    const char *shapes[] = {"o\n8\n", "o\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=", "",
                            "\n", "o\n\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        struct ses_checkpoint cp;
        assert_int_equal(ses_checkpoint_parse_body(&cp, shapes[i], strlen(shapes[i])),
                         SES_EBAD_FIELD);
    }
    assert_int_equal(open_cp(signed_text("o\n8\n"), NULL), SES_EBAD_FIELD);
    /* limits that are accepted */
    struct ses_checkpoint cp;
    snprintf(text, sizeof text, "o\n0\n%s\n", r);
    assert_int_equal(ses_checkpoint_parse_body(&cp, text, strlen(text)), 0);
    assert_int_equal(cp.size, 0);
    snprintf(text, sizeof text, "o\n18446744073709551615\n%s\n", r);
    assert_int_equal(ses_checkpoint_parse_body(&cp, text, strlen(text)), 0);
    assert_int_equal(cp.size, UINT64_MAX);
    assert_int_equal(open_cp(signed_text(text), "o"), 0);
    char o[300];
    memset(o, 'a', 256);
    o[255] = '\0';
    snprintf(text, sizeof text, "%s\n1\n%s\n", o, r);
    assert_int_equal(ses_checkpoint_parse_body(&cp, text, strlen(text)), 0);
    assert_string_equal(cp.origin, o);
    o[255] = 'a';
    o[256] = '\0';
    snprintf(text, sizeof text, "%s\n1\n%s\n", o, r);
    assert_int_equal(ses_checkpoint_parse_body(&cp, text, strlen(text)), SES_EBAD_FIELD);
    assert_int_equal(ses_checkpoint_parse_body(NULL, text, strlen(text)), SES_EINVALID_ARG);
    assert_int_equal(ses_checkpoint_parse_body(&cp, NULL, 0), SES_EINVALID_ARG);
}

static void test_vkey_parse_rejections(void **state)
{
    (void)state;
    struct ses_note_vkey vk;
    char b[256];
    const size_t n = strlen(go_peter_vkey);
    /* TestNewVerifier: every proper substring and every single-byte increment fails */
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i + 1; j <= n; j++) {
            if (i == 0 && j == n)
                continue;
            snprintf(b, sizeof b, "%.*s", (int)(j - i), go_peter_vkey + i);
            assert_int_equal(ses_note_vkey_parse(&vk, b), SES_EBAD_FIELD);
        }
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(b, sizeof b, "%s", go_peter_vkey);
        b[i]++;
        assert_int_equal(ses_note_vkey_parse(&vk, b), SES_EBAD_FIELD);
        assert_int_equal(vk.name[0], '\0');
    }
    /* wrong key length, unknown algorithm (each with a matching key hash), upper-case hex */
    assert_int_equal(ses_note_vkey_parse(&vk, "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVk"
                                              "mqq/LDE4izWy10TWBADKEY=="),
                     SES_EBAD_FIELD);
    assert_int_equal(ses_note_vkey_parse(&vk, "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVk"
                                              "mqq/LDE4izWy10TW"),
                     SES_EBAD_FIELD);
    assert_int_equal(ses_note_vkey_parse(&vk, "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVk"
                                              "mqq/LDE4izWy10TW"),
                     SES_EBAD_FIELD);
    snprintf(b, sizeof b, "%s ", go_peter_vkey);
    assert_int_equal(ses_note_vkey_parse(&vk, b), SES_EBAD_FIELD);
    /* a small-order public key (the identity point), with its correct key id */
    uint8_t ident[32] = {1}, id[4];
    char vt[SES_NOTE_VKEY_MAX + 1];
    assert_int_equal(ses_note_vkey_format(vt, sizeof vt, "x", ident), 0);
    assert_int_equal(ses_note_key_id(id, "x", ident), 0);
    assert_int_equal(ses_note_vkey_parse(&vk, vt), SES_EBAD_FIELD);
    assert_int_equal(ses_note_vkey_parse(NULL, go_peter_vkey), SES_EINVALID_ARG);
    assert_int_equal(ses_note_vkey_parse(&vk, NULL), SES_EINVALID_ARG);
}

static void test_name_and_sign_arguments(void **state)
{
    (void)state;
    uint8_t pk[32], sk[64], id[4];
    test_key(pk, sk);
    char out[1024];
    const char *bad_names[] = {"",      "a b",       "a+b",           "a\nb",          "a\tb",
                               "a\x7f", "a\xc2\xa0", "a\xe2\x80\x83", "a\xe3\x80\x80", "\xff",
                               "\xc3"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        assert_int_equal(ses_note_key_id(id, bad_names[i], pk), SES_EINVALID_ARG);
        assert_int_equal(ses_note_vkey_format(out, sizeof out, bad_names[i], pk), SES_EINVALID_ARG);
        assert_int_equal(ses_note_sign(out, sizeof out, NULL, "t\n", 2, bad_names[i], sk),
                         SES_EINVALID_ARG);
    }
    char name[300];
    memset(name, 'n', sizeof name);
    name[SES_NOTE_NAME_MAX] = '\0';
    assert_int_equal(ses_note_vkey_format(out, sizeof out, name, pk), 0);
    assert_int_equal(strlen(out), SES_NOTE_VKEY_MAX);
    struct ses_note_vkey vk;
    assert_int_equal(ses_note_vkey_parse(&vk, out), 0);
    assert_int_equal(ses_note_vkey_format(out, SES_NOTE_VKEY_MAX, name, pk), SES_EINVALID_ARG);
    name[SES_NOTE_NAME_MAX] = 'n';
    name[SES_NOTE_NAME_MAX + 1] = '\0';
    assert_int_equal(ses_note_key_id(id, name, pk), SES_EINVALID_ARG);

    /* texts: non-empty, ending in a newline, no control characters */
    size_t len = 99;
    assert_int_equal(ses_note_sign(out, sizeof out, &len, "t", 1, "k", sk), SES_EINVALID_ARG);
    assert_int_equal(len, 0);
    assert_int_equal(ses_note_sign(out, sizeof out, NULL, "", 0, "k", sk), SES_EINVALID_ARG);
    assert_int_equal(ses_note_sign(out, sizeof out, NULL, "a\tb\n", 4, "k", sk), SES_EINVALID_ARG);
    assert_int_equal(ses_note_sign(out, sizeof out, NULL, "a\0b\n", 4, "k", sk), SES_EINVALID_ARG);
    assert_int_equal(ses_note_sign(out, sizeof out, NULL, "\xff\n", 2, "k", sk), SES_EINVALID_ARG);
    /* exact capacity: text + blank line + "— k " + 92 + "\n" + NUL */
    size_t need = 2 + 1 + 4 + 1 + 1 + 92 + 1;
    assert_int_equal(ses_note_sign(out, need + 1, &len, "t\n", 2, "k", sk), 0);
    assert_int_equal(len, need);
    assert_int_equal(strlen(out), need);
    assert_int_equal(ses_note_sign(out, need, &len, "t\n", 2, "k", sk), SES_EINVALID_ARG);
    assert_int_equal(ses_checkpoint_sign(out, 60, &len, "o", 1, pk, "k", sk), SES_EINVALID_ARG);
    assert_int_equal(len, 0);
    assert_int_equal(ses_note_sign(NULL, 10, NULL, "t\n", 2, "k", sk), SES_EINVALID_ARG);
    assert_int_equal(ses_note_sign(out, sizeof out, NULL, NULL, 2, "k", sk), SES_EINVALID_ARG);
    assert_int_equal(ses_note_sign(out, sizeof out, NULL, "t\n", 2, NULL, sk), SES_EINVALID_ARG);
    assert_int_equal(ses_note_sign(out, sizeof out, NULL, "t\n", 2, "k", NULL), SES_EINVALID_ARG);
    /* a generic multi-line note with empty lines inside the text round-trips */
    const char *text = "line one\n\nline three\n";
    assert_int_equal(ses_note_sign(out, sizeof out, &len, text, strlen(text), "k", sk), 0);
    char vt[SES_NOTE_VKEY_MAX + 1];
    assert_int_equal(ses_note_vkey_format(vt, sizeof vt, "k", pk), 0);
    assert_int_equal(ses_note_vkey_parse(&vk, vt), 0);
    size_t tl = 0;
    assert_int_equal(ses_note_open(out, len, &vk, &tl), 0);
    assert_int_equal(tl, strlen(text));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_go_reference_sign),
        cmocka_unit_test(test_go_reference_open),
        cmocka_unit_test(test_c2sp_examples),
        cmocka_unit_test(test_fixed_key_and_frozen_checkpoint),
        cmocka_unit_test(test_body_exact_bytes),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_signature_rejections),
        cmocka_unit_test(test_unknown_signatures_ignored),
        cmocka_unit_test(test_note_syntax_rejections),
        cmocka_unit_test(test_body_rejections),
        cmocka_unit_test(test_vkey_parse_rejections),
        cmocka_unit_test(test_name_and_sign_arguments),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
