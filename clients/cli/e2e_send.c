/*
 * e2e_send.c - sealing and sending a message (see e2e.h): to every active device of every member
 * with the next persisted sender_seq, resending the same bytes after a lost connection, sealing
 * anew once when the roster changed or the local counter was behind.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/encode.h"
#include "sesame/err.h"

/* --- sending -------------------------------------------------------------------------------- */

/* Scans this device's own messages in thread r after seq `after` (they are all wrapped to it):
 * the highest sender_seq, and the seq of the message with msg_id (0 if none or msg_id NULL). */
static int scan_own(struct e2e *x, const struct e2e_roster *r, int64_t after, const uint8_t *msg_id,
                    uint64_t *max_sseq, int64_t *found)
{
    *max_sseq = 0;
    *found = 0;
    for (int64_t a = after, through = after; a < r->last_seq; a = through) {
        json_t *reply = NULL;
        int status = e2e_fetch_page(x, r, a, E2E_FETCH_PAGE, &reply, &through);
        if (status != 0)
            return status;
        size_t i;
        json_t *mj;
        json_array_foreach(json_object_get(reply, "messages"), i, mj)
        {
            uint8_t *env = NULL;
            size_t len = 0;
            struct ses_envelope_view v;
            const json_t *js = json_object_get(mj, "seq");
            if (strcmp(cli_str(mj, "device", ""), x->my_device) != 0 || !json_is_integer(js) ||
                e2e_decode_env(cli_str(mj, "env", ""), &env, &len) != 0)
                continue;
            if (ses_envelope_parse(env, len, &v) == 0 &&
                memcmp(v.hdr.sender_device_id, x->p.device_id, SES_ID_BYTES) == 0 &&
                memcmp(v.hdr.thread_id, r->thread, SES_ID_BYTES) == 0 &&
                ses_envelope_verify_sig(&v, x->p.keys.sign_pk) == 0) {
                if (v.hdr.sender_seq > *max_sseq)
                    *max_sseq = v.hdr.sender_seq;
                if (msg_id != NULL && memcmp(v.hdr.msg_id, msg_id, SES_ID_BYTES) == 0)
                    *found = (int64_t)json_integer_value(js);
            }
            free(env);
        }
        json_decref(reply);
        if (through == a)
            break; /* past the thread's end */
    }
    return 0;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Seals body to every device of *r. Returns 0 with *b64 (malloc'd) or the exit status. */
static int seal(struct e2e *x, const struct e2e_roster *r, uint64_t floor, uint8_t content_type,
                const uint8_t *body, size_t len, char **b64, uint8_t msg_id[SES_ID_BYTES])
{
    struct ses_recipient rcpt[SES_MAX_RECIPIENTS];
    size_t n = 0;
    for (size_t i = 0; i < r->n_members; i++)
        for (size_t k = 0; k < r->members[i].n_devices; k++) {
            if (n == SES_MAX_RECIPIENTS)
                return cli_error(CLI_EUSAGE,
                                 "TOO_LARGE: the members of thread %s have more than %d devices",
                                 r->text, SES_MAX_RECIPIENTS);
            memcpy(rcpt[n].device_id, r->members[i].devices[k].id, SES_ID_BYTES);
            memcpy(rcpt[n].box_pk, r->members[i].devices[k].box_pk, SES_BOX_PK_BYTES);
            n++;
        }
    struct ses_envelope_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.thread_id, r->thread, SES_ID_BYTES);
    randombytes_buf(h.msg_id, sizeof h.msg_id);
    memcpy(msg_id, h.msg_id, SES_ID_BYTES);
    memcpy(h.sender_user_id, x->p.user_id, SES_ID_BYTES);
    memcpy(h.sender_device_id, x->p.device_id, SES_ID_BYTES);
    memcpy(h.roster_hash, r->hash, SES_ROSTER_HASH_BYTES);
    int rc = cli_state_next_send_seq(&x->st, r->text, floor, &h.sender_seq);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "cannot save the message counter in %s/%s: %s", x->p.home,
                         CLI_STATE_FILE, ses_err_msg(rc));
    h.created_ms = ses_client_now_ms();
    uint8_t *env = NULL;
    size_t env_len = 0;
    rc = ses_envelope_seal(&env, &env_len, &h, content_type, body, len, rcpt, n, x->p.keys.sign_sk);
    if (rc == SES_ETOO_LARGE)
        return cli_error(CLI_EUSAGE, "TOO_LARGE: the text is longer than %d bytes",
                         SES_ENVELOPE_BODY_MAX);
    if (rc != 0)
        return cli_error(CLI_ELOCAL, "cannot seal the message: %s", ses_err_msg(rc));
    size_t cap = ses_b64_len(env_len) + 1;
    *b64 = malloc(cap);
    if (*b64 == NULL || ses_b64_encode(*b64, cap, env, env_len) != 0) {
        free(*b64);
        *b64 = NULL;
        free(env);
        return cli_error(CLI_ELOCAL, "out of memory");
    }
    free(env);
    return 0;
}

/* The reply the server gave (or would have given) for an envelope it already stored. */
static json_t *sent_reply(const struct e2e_roster *r, int64_t seq, const uint8_t msg_id[16])
{
    char id[32];
    ses_b64_encode(id, sizeof id, msg_id, SES_ID_BYTES);
    return json_pack("{s:s, s:s, s:I, s:s, s:b}", "t", "sent", "thread", r->text, "seq",
                     (json_int_t)seq, "msg_id", id, "duplicate", 1);
}

int e2e_send(struct e2e *x, struct e2e_roster **rp, uint8_t content_type, const uint8_t *body,
             size_t len, json_t **sent)
{
    int conflict_retry = 0, replay_retry = 0, status;
    uint64_t floor = 0;
    *sent = NULL;
    if (!e2e_roster_has_me(x, *rp))
        return cli_error(CLI_ESERVER, "DENIED: you are not a member of thread %s", (*rp)->text);
    for (;;) {
        char *b64 = NULL;
        uint8_t msg_id[SES_ID_BYTES];
        int64_t base = (*rp)->last_seq; /* the message, if stored, comes after this */
        if ((status = seal(x, *rp, floor, content_type, body, len, &b64, msg_id)) != 0)
            return status;
        int rc = 0, resent = 0;
        json_t *reply = NULL;
        for (int attempt = 0;; attempt++) {
            json_t *req =
                json_pack("{s:s, s:s, s:s}", "t", "send", "thread", (*rp)->text, "env", b64);
            if (req == NULL) {
                free(b64);
                return cli_error(CLI_ELOCAL, "out of memory");
            }
            reply = NULL;
            resent = attempt > 0;
            rc = x->conn ? ses_conn_request(x->conn, req, x->cli->timeout_ms, &reply)
                         : (json_decref(req), SES_ECLOSED);
            if ((rc != SES_ETIMEOUT && rc != SES_ECLOSED) || attempt >= E2E_SEND_RETRIES)
                break;
            e2e_warn("%s while sending to thread %.8s…; sending the same message again (%d of %d)",
                     rc == SES_ETIMEOUT ? "no answer" : "connection lost", (*rp)->text, attempt + 1,
                     E2E_SEND_RETRIES);
            json_decref(reply);
            sleep_ms(250 << attempt);
            if (e2e_reconnect(x) != 0) {
                ses_conn_free(x->conn);
                x->conn = NULL;
            }
        }
        free(b64);
        if (rc == 0) {
            *sent = reply;
            return 0;
        }
        if (rc == SES_ECONFLICT && !conflict_retry && x->conn != NULL) {
            /* the roster changed since thread_info: encrypt again to the new one */
            json_decref(reply);
            conflict_retry = 1;
            struct e2e_roster *nr = NULL;
            if ((status = e2e_roster_fetch(x, (*rp)->text, &nr)) != 0)
                return status;
            free(*rp);
            *rp = nr;
            if (resent) {
                /* the lost attempt may have been stored before the roster changed: the server
                 * then answers CONFLICT rather than duplicate, so look before sealing anew */
                uint64_t ignored;
                int64_t found = 0;
                if ((status = scan_own(x, *rp, base, msg_id, &ignored, &found)) != 0)
                    return status;
                if (found > 0) {
                    *sent = sent_reply(*rp, found, msg_id);
                    return *sent ? 0 : cli_error(CLI_ELOCAL, "out of memory");
                }
            }
            if (!e2e_roster_has_me(x, *rp))
                return cli_error(CLI_ESERVER, "DENIED: you are no longer a member of thread %s",
                                 (*rp)->text);
            continue;
        }
        if (rc == SES_EREPLAYED && !replay_retry && x->conn != NULL) {
            /* the local counter is behind this device's last message (state lost): catch up */
            json_decref(reply);
            replay_retry = 1;
            struct e2e_roster *nr = NULL;
            int64_t ignored;
            if ((status = e2e_roster_fetch(x, (*rp)->text, &nr)) != 0)
                return status;
            free(*rp);
            *rp = nr;
            if ((status = scan_own(x, *rp, 0, NULL, &floor, &ignored)) != 0)
                return status;
            e2e_warn("the local message counter of thread %.8s… was behind; continuing after %llu",
                     (*rp)->text, (unsigned long long)floor);
            continue;
        }
        return cli_fail(x->cli, x->conn, rc, reply, "send");
    }
}
