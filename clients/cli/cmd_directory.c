/*
 * cmd_directory.c - `sesame directory` (the team's active users, PROTOCOL.md §11) and
 * `sesame safety-number USER_ID`: a Signal-style 60-digit number over both users' current device
 * signing keys, to compare in person or over a trusted channel (security.md §1.3.6).
 *
 * Stage 1 has no per-user identity key, so each user's half is computed over the sorted list of
 * their active devices' Ed25519 keys: it changes whenever either user gains or loses a device.
 * Per user (Signal's NumericFingerprintGenerator, version 0, 5200 iterations):
 *   h = 0x0000 | keys | user_id;  5200 times h = SHA-512(h | keys);
 *   the first 30 bytes as six 5-byte big-endian integers, each mod 100000, as 5 digits.
 * The two 30-digit halves are sorted and concatenated: both users see the same 60 digits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#define DIRECTORY_USAGE "sesame directory [--role ROLE]"
#define SAFETY_USAGE "sesame safety-number USER_ID"

#define SAFETY_ITERATIONS 5200
#define SAFETY_VERSION 0

int cmd_directory(struct cli *cli)
{
    const char *role = NULL;
    int n_pos = 0;
    const struct e2e_opt opts[] = {{"role", &role, NULL, NULL, 0}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 1, DIRECTORY_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct ses_profile p;
    struct ses_conn *conn = NULL;
    json_t *reply = NULL;
    int status = cli_open_session(cli, &p, &conn);
    if (status != 0)
        return status;
    json_t *req = json_pack("{s:s}", "t", "directory");
    if (req != NULL && role != NULL && json_object_set_new(req, "role", json_string(role)) != 0) {
        json_decref(req);
        req = NULL;
    }
    if (req == NULL) {
        status = cli_usage_error(DIRECTORY_USAGE, "--role must be valid UTF-8 text");
    } else if ((rc = ses_conn_request(conn, req, cli->timeout_ms, &reply)) != 0) {
        status = cli_fail(cli, conn, rc, reply, "directory");
    } else {
        if (cli->json) {
            cli_print_json(reply);
        } else {
            struct cli_table t;
            const char *hdr[] = {"USER", "ROLE", "NAME", "SITE"};
            if (cli_table_init(&t, 4, hdr) == 0) {
                size_t i;
                json_t *u;
                json_array_foreach(json_object_get(reply, "users"), i, u)
                {
                    const char *row[] = {cli_str(u, "user", "?"), cli_str(u, "role", "?"),
                                         cli_str(u, "name", "?"), cli_str(u, "site", "-")};
                    cli_table_add(&t, row);
                }
                cli_table_print(&t);
                cli_table_free(&t);
            }
        }
        json_decref(reply);
    }
    ses_conn_free(conn);
    ses_profile_wipe(&p);
    return status;
}

/* --- safety numbers ------------------------------------------------------------------------- */

static int cmp_key(const void *a, const void *b)
{
    return memcmp(a, b, SES_SIGN_PK_BYTES);
}

/* 30 digits (+ NUL) of one user: Signal's iterated SHA-512 over keys (already in the order to
 * hash) and the user's stable identifier. */
static int safety_half(char out[31], const uint8_t *keys, size_t keys_len, const uint8_t *id,
                       size_t id_len)
{
    uint8_t hash[crypto_hash_sha512_BYTES];
    size_t first_len = 2 + keys_len + id_len;
    uint8_t *first = malloc(first_len);
    if (first == NULL)
        return SES_ENOMEM;
    first[0] = (uint8_t)(SAFETY_VERSION >> 8);
    first[1] = (uint8_t)(SAFETY_VERSION & 0xff);
    memcpy(first + 2, keys, keys_len);
    memcpy(first + 2 + keys_len, id, id_len);
    for (int i = 0; i < SAFETY_ITERATIONS; i++) {
        crypto_hash_sha512_state st;
        crypto_hash_sha512_init(&st);
        if (i == 0)
            crypto_hash_sha512_update(&st, first, first_len);
        else
            crypto_hash_sha512_update(&st, hash, sizeof hash);
        crypto_hash_sha512_update(&st, keys, keys_len);
        crypto_hash_sha512_final(&st, hash);
    }
    free(first);
    for (int c = 0; c < 6; c++) {
        uint64_t v = 0;
        for (int k = 0; k < 5; k++)
            v = (v << 8) | hash[c * 5 + k];
        snprintf(out + c * 5, 6, "%05u", (unsigned)(v % 100000));
    }
    return 0;
}

/* Active devices of user from a `keys` reply, parsed and with keys sorted. */
struct user_keys {
    char user[E2E_ID_LEN];
    uint8_t id[SES_ID_BYTES];
    size_t n;
    struct e2e_device devs[E2E_MAX_DEVICES];
    uint8_t sorted[E2E_MAX_DEVICES][SES_SIGN_PK_BYTES];
};

static int fetch_keys(struct e2e *x, const char *user, struct user_keys *k)
{
    json_t *reply = NULL;
    memset(k, 0, sizeof *k);
    int status = e2e_request(x, json_pack("{s:s, s:s}", "t", "keys", "user", user), "keys", &reply);
    if (status != 0)
        return status;
    snprintf(k->user, sizeof k->user, "%s", user);
    ses_id_from_text(k->id, user);
    const json_t *devs = json_object_get(reply, "devices");
    if (strcmp(cli_str(reply, "user", ""), user) != 0 || !json_is_array(devs) ||
        json_array_size(devs) > E2E_MAX_DEVICES) {
        json_decref(reply);
        return e2e_verify_failed("malformed keys reply for user %s", user);
    }
    size_t i;
    json_t *d;
    json_array_foreach(devs, i, d)
    {
        struct e2e_device *e = &k->devs[k->n];
        const char *id = cli_str(d, "device", ""), *s = cli_str(d, "sign_pk", ""),
                   *b = cli_str(d, "box_pk", "");
        if (ses_id_from_text(e->id, id) != 0 || ses_b64_decode(e->sign_pk, 32, s, strlen(s)) != 0 ||
            ses_b64_decode(e->box_pk, 32, b, strlen(b)) != 0) {
            json_decref(reply);
            return e2e_verify_failed("malformed keys reply for user %s", user);
        }
        ses_id_to_text(e->text, e->id);
        memcpy(k->sorted[k->n], e->sign_pk, SES_SIGN_PK_BYTES);
        k->n++;
    }
    json_decref(reply);
    qsort(k->sorted, k->n, SES_SIGN_PK_BYTES, cmp_key);
    return 0;
}

static json_t *devices_json(const struct user_keys *k)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < k->n; i++) {
        char s[48];
        ses_b64_encode(s, sizeof s, k->devs[i].sign_pk, 32);
        json_array_append_new(a, json_pack("{s:s, s:s}", "device", k->devs[i].text, "sign_pk", s));
    }
    return a;
}

int cmd_safety_number(struct cli *cli)
{
    const char *pos[1];
    int n_pos = 0;
    int rc = e2e_args(cli->argc, cli->argv, NULL, 0, SAFETY_USAGE, pos, 1, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    uint8_t uid[SES_ID_BYTES];
    if (n_pos != 1)
        return cli_usage_error(SAFETY_USAGE, "safety-number needs a USER_ID");
    if (ses_id_from_text(uid, pos[0]) != 0)
        return cli_usage_error(SAFETY_USAGE, "'%s' is not a user id (see sesame directory)",
                               pos[0]);
    char user[E2E_ID_LEN];
    ses_id_to_text(user, uid);

    struct e2e x;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if (strcmp(user, x.me) == 0)
        return e2e_end(&x, cli_usage_error(SAFETY_USAGE, "that is you: give the other user's id"),
                       0);
    struct user_keys *mine = calloc(1, sizeof *mine), *theirs = calloc(1, sizeof *theirs);
    if (mine == NULL || theirs == NULL) {
        free(mine);
        free(theirs);
        return e2e_end(&x, cli_error(CLI_ELOCAL, "out of memory"), 0);
    }
    char name[SES_MAX_NAME_LEN + 1], role[16], my_name[SES_MAX_NAME_LEN + 1], my_role[16];
    if ((status = fetch_keys(&x, x.me, mine)) == 0)
        status = fetch_keys(&x, user, theirs);
    if (status == 0 && theirs->n == 0)
        status = cli_error(CLI_ESERVER, "NOT_FOUND: user %s has no active device", user);
    char half_a[31], half_b[31], number[61];
    if (status == 0) {
        e2e_user_label(&x, NULL, user, name, sizeof name, role, sizeof role);
        e2e_user_label(&x, NULL, x.me, my_name, sizeof my_name, my_role, sizeof my_role);
        e2e_note_devices(&x, user, name, theirs->devs, theirs->n);
        e2e_note_devices(&x, x.me, my_name, mine->devs, mine->n);
        if (safety_half(half_a, &mine->sorted[0][0], mine->n * SES_SIGN_PK_BYTES, mine->id,
                        SES_ID_BYTES) != 0 ||
            safety_half(half_b, &theirs->sorted[0][0], theirs->n * SES_SIGN_PK_BYTES, theirs->id,
                        SES_ID_BYTES) != 0)
            status = cli_error(CLI_ELOCAL, "out of memory");
    }
    if (status == 0) {
        if (strcmp(half_a, half_b) <= 0)
            snprintf(number, sizeof number, "%s%s", half_a, half_b);
        else
            snprintf(number, sizeof number, "%s%s", half_b, half_a);
        if (cli->json) {
            json_t *out = json_pack("{s:s, s:s, s:s, s:o, s:o}", "user", user, "name", name,
                                    "safety_number", number, "devices", devices_json(theirs),
                                    "my_devices", devices_json(mine));
            if (out != NULL)
                cli_print_json(out);
            json_decref(out);
        } else {
            char *n = e2e_flatten(name);
            printf("Safety number with %s (%s):\n\n", n ? n : "?", role);
            free(n);
            for (int row = 0; row < 3; row++) {
                printf("    ");
                for (int g = 0; g < 4; g++)
                    printf("%.5s%s", number + (row * 4 + g) * 5, g < 3 ? " " : "\n");
            }
            printf("\nCompare it with theirs (sesame safety-number %s on their side) in person "
                   "or over a channel you trust.\nIt covers %zu device key%s of yours and %zu of "
                   "theirs; it changes when either of you gains or loses a device.\n",
                   x.me, mine->n, mine->n == 1 ? "" : "s", theirs->n);
        }
    }
    free(mine);
    free(theirs);
    return e2e_end(&x, status, status == 0);
}

#ifdef SESAME_SAFETY_SELFTEST
/* Structural check against Signal's published vector (libsignal NumericFingerprintGeneratorTest,
 * 33-byte keys, phone numbers as identifiers): the same encoding must give the same 60 digits. */
int safety_selftest(void);
int safety_selftest(void)
{
    static const uint8_t alice[33] = {0x05, 0x06, 0x86, 0x3b, 0xc6, 0x6d, 0x02, 0xb4, 0x0d,
                                      0x27, 0xb8, 0xd4, 0x9c, 0xa7, 0xc0, 0x9e, 0x92, 0x39,
                                      0x23, 0x6f, 0x9d, 0x7d, 0x25, 0xd6, 0xfc, 0xca, 0x5c,
                                      0xe1, 0x3c, 0x70, 0x64, 0xd8, 0x68};
    static const uint8_t bob[33] = {0x05, 0xf7, 0x81, 0xb6, 0xfb, 0x32, 0xfe, 0xd9, 0xba,
                                    0x1c, 0xf2, 0xde, 0x97, 0x8d, 0x4d, 0x5d, 0xa2, 0x8d,
                                    0xc3, 0x40, 0x46, 0xae, 0x81, 0x44, 0x02, 0xb5, 0xc0,
                                    0xdb, 0xd9, 0x6f, 0xda, 0x90, 0x7b};
    char a[31], b[31], n[61];
    safety_half(a, alice, 33, (const uint8_t *)"+14152222222", 12);
    safety_half(b, bob, 33, (const uint8_t *)"+14153333333", 12);
    snprintf(n, sizeof n, "%s%s", strcmp(a, b) <= 0 ? a : b, strcmp(a, b) <= 0 ? b : a);
    return strcmp(n, "300354477692869396892869876765458257569162576843440918079131") == 0 ? 0 : -1;
}
#endif
