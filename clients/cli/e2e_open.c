/*
 * e2e_open.c - reading a thread (see e2e.h): opening one stored or pushed message with every
 * receiver check, the sender's key from the roster or `keys`, history re-wraps, refusals recorded
 * as security events; paging through a thread and moving its delivery and read cursors.
 */
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/encode.h"
#include "sesame/recommend.h"
#include "sesame/err.h"

/* A recommendation or patient card: its body kept for the commands that read it, its summary line
 * as the text (a body that does not parse is noted). Returns 0 or SES_ENOMEM. */
static int keep_structured(struct e2e_msg *m, uint8_t type, const uint8_t *body, size_t len)
{
    char line[160] = "";
    if (type == SES_CONTENT_RECOMMENDATION) {
        struct ses_rec_doc *d = malloc(sizeof *d);
        if (d == NULL)
            return SES_ENOMEM;
        if (ses_rec_doc_parse(body, len, d) == 0)
            ses_rec_doc_line(d, line, sizeof line);
        sodium_memzero(d, sizeof *d);
        free(d);
    } else {
        struct ses_patient_card c;
        if (ses_patient_card_parse(body, len, &c) == 0)
            snprintf(line, sizeof line, "Patient card%s", c.ins_kind ? " (with INS)" : "");
        sodium_memzero(&c, sizeof c);
    }
    if (line[0] == '\0') {
        e2e_note_add(m->note, sizeof m->note, "the %s is malformed (BAD_FIELD)",
                     type == SES_CONTENT_RECOMMENDATION ? "recommendation" : "patient card");
        return 0;
    }
    if ((m->body = malloc(len > 0 ? len : 1)) == NULL || (m->text = strdup(line)) == NULL)
        return SES_ENOMEM;
    memcpy(m->body, body, len);
    return 0;
}

/* --- opening messages ----------------------------------------------------------------------- */

/* Sign key of device (of user) outside the roster, from `keys USER` (cached). */
static int outside_key(struct e2e *x, const char *user, const char *device, uint8_t pk[32])
{
    json_t *reply = json_object_get(x->keys_cache, user);
    if (reply == NULL) {
        json_t *r = NULL;
        int rc = ses_conn_request(x->conn, json_pack("{s:s, s:s}", "t", "keys", "user", user),
                                  x->cli->timeout_ms, &r);
        if (rc != 0) {
            json_decref(r);
            r = json_object(); /* unknown user or not allowed */
            if (r == NULL)
                return SES_ENOMEM;
        }
        json_object_set_new(x->keys_cache, user, r);
        reply = r;
    }
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(reply, "devices"), i, d)
    {
        if (strcmp(cli_str(d, "device", ""), device) == 0 && e2e_get_key(d, "sign_pk", pk, 32) == 0)
            return 0;
    }
    return SES_ENOT_FOUND;
}

int e2e_decode_env(const char *b64, uint8_t **out, size_t *len)
{
    size_t tl = strlen(b64);
    if (tl == 0 || tl > SES_ENVELOPE_B64_MAX)
        return SES_EBAD_ENVELOPE;
    size_t n = tl * 3 / 4;
    uint8_t *buf = malloc(n ? n : 1);
    if (buf == NULL)
        return SES_ENOMEM;
    if (ses_b64_decode(buf, n, b64, tl) != 0) {
        free(buf);
        return SES_EBAD_ENVELOPE;
    }
    *out = buf;
    *len = n;
    return 0;
}

static void refuse(struct e2e *x, struct e2e_msg *m, int err, const char *detail)
{
    m->status = E2E_MSG_REFUSED;
    m->err = err;
    if (detail != NULL && detail[0] != '\0')
        e2e_note_add(m->note, sizeof m->note, "%s", detail);
    x->refused++;
    cli_security_event(x->p.home, m->thread, m->seq, m->device, ses_err_name(err), detail);
}

static int has_wrap(const struct ses_envelope_view *v, const uint8_t dev[SES_ID_BYTES])
{
    for (size_t k = 0; k < v->n_wraps; k++)
        if (memcmp(ses_envelope_wrap_device(v, k), dev, SES_ID_BYTES) == 0)
            return 1;
    return 0;
}

/* Adds dev to the list if absent. */
static void add_dev(uint8_t (*list)[SES_ID_BYTES], size_t *n, size_t cap,
                    const uint8_t dev[SES_ID_BYTES])
{
    for (size_t i = 0; i < *n; i++)
        if (memcmp(list[i], dev, SES_ID_BYTES) == 0)
            return;
    if (*n < cap)
        memcpy(list[(*n)++], dev, SES_ID_BYTES);
}

/* A history re-wrap ("rewrap":{"sealed","sig","by"}) of a fetched message. */
struct rewrap_in {
    uint8_t sealed[SES_ENVELOPE_SEALED_BYTES], sig[SES_SIG_BYTES];
    uint8_t by[SES_ID_BYTES], by_pk[SES_SIGN_PK_BYTES];
    char by_text[E2E_ID_LEN];
};

/* ses_receive_marks.msg_id_seen: the run's "ids" object (base64url msg ids). */
static int msg_id_seen(void *ctx, const uint8_t msg_id[SES_ID_BYTES])
{
    char mid[32];
    ses_b64_encode(mid, sizeof mid, msg_id, 16);
    return json_object_get(ctx, mid) != NULL;
}

/* Names the unexpected wrap devices ses_envelope_receive found. */
static void note_ghosts(struct e2e_msg *m, const struct ses_received *got)
{
    char ghosts[200] = "";
    for (size_t k = 0; k < got->n_ghosts; k++) {
        char t[E2E_ID_LEN];
        ses_id_to_text(t, got->ghosts[k]);
        size_t used = strlen(ghosts);
        snprintf(ghosts + used, sizeof ghosts - used, "%s%.8s…", used ? ", " : "", t);
    }
    e2e_note_add(m->note, sizeof m->note,
                 "cannot verify recipients: also wrapped to %s, not an active device of a member "
                 "now (revoked or removed since?)",
                 ghosts);
}

/* A refusal of ses_envelope_receive, with the words of its reason. */
static void refuse_received(struct e2e *x, struct e2e_msg *m, const struct ses_envelope_view *v,
                            const struct ses_received *got, int err)
{
    char d[120];
    switch (got->reason) {
    case SES_RECEIVE_SEQ:
        snprintf(d, sizeof d, "sender_seq %llu is not above %llu, the last seen from that device",
                 (unsigned long long)v->hdr.sender_seq, (unsigned long long)got->last_seen);
        break;
    case SES_RECEIVE_MARK:
        snprintf(d, sizeof d, "sender_seq disagrees with the one seen earlier at that seq");
        break;
    case SES_RECEIVE_MSG_ID:
        snprintf(d, sizeof d, "a msg_id seen twice");
        break;
    case SES_RECEIVE_CLAIM:
        snprintf(d, sizeof d, "the server's sender, device or thread differs from the header");
        break;
    default:
        d[0] = '\0';
    }
    refuse(x, m, err, d[0] ? d : NULL);
}

int e2e_open(struct e2e *x, const struct e2e_roster *r, json_t *run, const json_t *mj,
             struct e2e_msg *m)
{
    struct rewrap_in rwb, *rw = NULL;
    uint8_t *env = NULL, sign_pk[32];
    size_t env_len = 0;
    struct ses_envelope_view v;
    struct ses_receive_rewrap rwr;
    struct ses_received got;
    const json_t *jseq = json_object_get(mj, "seq"), *jts = json_object_get(mj, "ts");
    uint8_t(*expected)[SES_ID_BYTES] = NULL;
    size_t n_exp = 0, cap_exp;
    int rc;

    memset(m, 0, sizeof *m);
    memset(&got, 0, sizeof got);
    memset(&rwr, 0, sizeof rwr);
    snprintf(m->thread, sizeof m->thread, "%s", r->text);
    snprintf(m->patient, sizeof m->patient, "%s", r->patient);
    m->seq = json_is_integer(jseq) ? (int64_t)json_integer_value(jseq) : 0;
    m->ts = json_is_integer(jts) ? (int64_t)json_integer_value(jts) : 0;
    snprintf(m->sender, sizeof m->sender, "%s", cli_str(mj, "sender", "?"));
    snprintf(m->device, sizeof m->device, "%s", cli_str(mj, "device", "?"));
    e2e_user_label(x, r, m->sender, m->sender_name, sizeof m->sender_name, m->sender_role,
                   sizeof m->sender_role);

    if (m->seq < 1 ||
        (rc = e2e_decode_env(cli_str(mj, "env", ""), &env, &env_len)) == SES_EBAD_ENVELOPE) {
        refuse(x, m, SES_EBAD_ENVELOPE, "malformed message frame");
        return 0;
    }
    if (rc != 0)
        return rc;
    /* the frame's claim (its sender, device and thread) against the envelope's header */
    struct ses_receive_claim claim = {.seq = (uint64_t)m->seq};
    memcpy(claim.thread_id, r->thread, SES_ID_BYTES);
    if (ses_id_from_text(claim.sender_user_id, m->sender) != 0 ||
        ses_id_from_text(claim.sender_device_id, m->device) != 0)
        memset(claim.sender_user_id, 0, sizeof claim.sender_user_id); /* never a header's */
    if ((rc = ses_envelope_parse_claimed(env, env_len, &claim, &v)) != 0) {
        refuse(x, m, rc,
               rc == SES_EINNER_MISMATCH
                   ? "the server's sender, device or thread differs from the envelope's header"
                   : NULL);
        rc = 0;
        goto out;
    }
    char hu[E2E_ID_LEN], hd[E2E_ID_LEN];
    ses_id_to_text(hu, v.hdr.sender_user_id);
    ses_id_to_text(hd, v.hdr.sender_device_id);
    m->sender_seq = v.hdr.sender_seq;
    m->created_ms = v.hdr.created_ms;

    /* the sender device's signing key: from the roster, else from `keys` of the sender */
    const struct e2e_member *sm = e2e_roster_member(r, v.hdr.sender_user_id);
    int have_key = 0;
    for (size_t k = 0; sm != NULL && k < sm->n_devices; k++) {
        if (memcmp(sm->devices[k].id, v.hdr.sender_device_id, SES_ID_BYTES) == 0) {
            memcpy(sign_pk, sm->devices[k].sign_pk, 32);
            have_key = 1;
        }
    }
    /* this device's persisted replay mark for the sender device */
    json_t *ts = cli_state_thread(&x->st, r->text);
    json_t *senders = ts ? cli_state_obj(ts, "senders") : NULL;
    json_t *mark = senders ? json_object_get(senders, hd) : NULL;
    uint64_t p_seq = cli_state_get(mark, "seq"), p_sseq = cli_state_get(mark, "sender_seq");
    if (!have_key) {
        rc = outside_key(x, hu, hd, sign_pk);
        if (rc == SES_ENOMEM)
            goto out;
        if (rc != 0) {
            /* no longer active: a message this device already verified from it (seq at or
             * below its mark) is checked with the key remembered then; anything newer is not */
            const json_t *users = json_object_get(x->st.root, "users");
            const char *old =
                cli_str(json_object_get(json_object_get(users, hu), "keys"), hd, NULL);
            if (old == NULL || (uint64_t)m->seq > p_seq ||
                ses_b64_decode(sign_pk, 32, old, strlen(old)) != 0) {
                m->status = E2E_MSG_UNVERIFIED;
                e2e_note_add(m->note, sizeof m->note,
                             "cannot verify the sender: device %.8s… is not an active device of %s "
                             "(revoked since?)",
                             hd, m->sender_name);
                rc = 0;
                goto out;
            }
            e2e_note_add(m->note, sizeof m->note,
                         "sent from device %.8s…, no longer active (revoked since?); verified with "
                         "its key as seen earlier",
                         hd);
        }
        if (sm == NULL)
            e2e_note_add(m->note, sizeof m->note, "the sender is no longer a member");
    }

    /* a history re-wrap: only from another active device of this device's own user */
    const json_t *rwj = json_object_get(mj, "rewrap");
    if (rwj != NULL && !json_is_null(rwj) && !has_wrap(&v, x->p.device_id)) {
        rw = &rwb;
        if (!json_is_object(rwj) ||
            e2e_get_key(rwj, "sealed", rw->sealed, sizeof rw->sealed) != 0 ||
            e2e_get_key(rwj, "sig", rw->sig, sizeof rw->sig) != 0 ||
            e2e_get_id(rwj, "by", rw->by, rw->by_text) != 0) {
            refuse(x, m, SES_EBAD_ENVELOPE, "malformed history re-wrap");
            rc = 0; /* a refused message, not a local error (rc may hold the key lookup's) */
            goto out;
        }
        rc = memcmp(rw->by, x->p.device_id, SES_ID_BYTES) == 0
                 ? SES_ENOT_FOUND
                 : outside_key(x, x->me, rw->by_text, rw->by_pk);
        if (rc == SES_ENOMEM)
            goto out;
        if (rc != 0) {
            m->status = E2E_MSG_UNVERIFIED;
            e2e_note_add(m->note, sizeof m->note,
                         "cannot verify the history shared with this device: device %.8s… is not "
                         "another active device of yours",
                         rw->by_text);
            rc = 0;
            goto out;
        }
        m->rewrapped = 1;
        e2e_note_add(m->note, sizeof m->note,
                     "history shared with this device by your device %.8s…", rw->by_text);
    }

    /* expected recipients: the roster's devices and every device seen in its earlier rosters */
    json_t *known = ts ? json_object_get(ts, "devices") : NULL;
    cap_exp = json_object_size(known) + v.n_wraps + 1;
    for (size_t i = 0; i < r->n_members; i++)
        cap_exp += r->members[i].n_devices;
    if ((expected = calloc(cap_exp, SES_ID_BYTES)) == NULL) {
        rc = SES_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < r->n_members; i++)
        for (size_t k = 0; k < r->members[i].n_devices; k++)
            add_dev(expected, &n_exp, cap_exp, r->members[i].devices[k].id);
    const char *dk;
    json_t *dv;
    json_object_foreach(known, dk, dv)
    {
        uint8_t id[SES_ID_BYTES];
        if (ses_id_from_text(id, dk) == 0)
            add_dev(expected, &n_exp, cap_exp, id);
    }

    /* the receiver's decision (PROTOCOL.md §10 "Receiver"): the envelope's checks against the
     * expected devices, ghost wraps shown but named, the replay rules against this run's and
     * the persisted marks */
    json_t *run_seq = cli_state_obj(run, "seq");
    json_t *ids = cli_state_obj(run, "ids");
    if (run_seq == NULL || ids == NULL) {
        rc = SES_ENOMEM;
        goto out;
    }
    struct ses_receive_in in = {
        .bytes = env,
        .len = env_len,
        .claim = &claim,
        .my_device_id = x->p.device_id,
        .my_box_pk = x->p.keys.box_pk,
        .my_box_sk = x->p.keys.box_sk,
        .sender_sign_pk = sign_pk,
        .rewrap = rw != NULL ? &rwr : NULL,
        .expected = (const uint8_t(*)[SES_ID_BYTES])expected,
        .n_expected = n_exp,
        .marks = {.seq = p_seq,
                  .sender_seq = p_sseq,
                  .run_sender_seq = cli_state_get(run_seq, hd),
                  .msg_id_seen = msg_id_seen,
                  .ctx = ids},
        .flags = SES_RECEIVE_ALLOW_GHOSTS,
    };
    if (rw != NULL) {
        memcpy(rwr.sealed, rw->sealed, sizeof rwr.sealed);
        memcpy(rwr.sig, rw->sig, sizeof rwr.sig);
        memcpy(rwr.by_device_id, rw->by, sizeof rwr.by_device_id);
        memcpy(rwr.by_sign_pk, rw->by_pk, sizeof rwr.by_sign_pk);
    }
    rc = ses_envelope_receive(&in, &got);
    if (got.n_ghosts > 0) /* wrapped to a device that is not (or no longer) a member's */
        note_ghosts(m, &got);
    if (rc == SES_ENOMEM || rc == SES_EINVALID_ARG)
        goto out;
    if (rc != 0) {
        refuse_received(x, m, &v, &got, rc);
        rc = 0;
        goto out;
    }
    const struct ses_opened *op = &got.opened;
    char mid[32];
    ses_b64_encode(mid, sizeof mid, op->hdr.msg_id, 16);
    json_object_set_new(ids, mid, json_integer(1));
    json_object_set_new(run_seq, hd, json_integer((json_int_t)op->hdr.sender_seq));
    if (got.advance_mark && senders != NULL)
        json_object_set_new(senders, hd,
                            json_pack("{s:I, s:I}", "seq", (json_int_t)m->seq, "sender_seq",
                                      (json_int_t)op->hdr.sender_seq));

    m->status = E2E_MSG_OK;
    memcpy(m->sender_sign_pk, sign_pk, sizeof sign_pk);
    m->content_type = op->content_type;
    m->body_len = op->body_len;
    if (op->content_type == SES_CONTENT_TEXT || op->content_type == SES_CONTENT_ALERT_NOTE ||
        op->content_type == SES_CONTENT_THREAD_TITLE) {
        if (e2e_utf8_valid((const char *)op->body, op->body_len) &&
            memchr(op->body, 0, op->body_len) == NULL) {
            if ((m->text = malloc(op->body_len + 1)) == NULL) {
                rc = SES_ENOMEM;
                goto out;
            }
            memcpy(m->text, op->body, op->body_len);
            m->text[op->body_len] = '\0';
        } else {
            e2e_note_add(m->note, sizeof m->note, "the text is not valid UTF-8");
        }
    } else if (op->content_type == SES_CONTENT_SCALE) {
        /* a structured record: shown as its fallback line, recomputed from the parsed answers so
         * that what is read always matches what is scored */
        char sent_line[SES_RECORD_TEXT_MAX], line[SES_RECORD_TEXT_MAX];
        sent_line[0] = '\0';
        if (ses_record_parse(op->body, op->body_len, &m->record, sent_line, sizeof sent_line) ==
            0) {
            m->has_record = 1;
            ses_record_text(&m->record, line, sizeof line);
            if ((m->text = strdup(line)) == NULL) {
                rc = SES_ENOMEM;
                goto out;
            }
            if (sent_line[0] != '\0' && strcmp(sent_line, line) != 0)
                e2e_note_add(m->note, sizeof m->note,
                             "the record's own text line differs from its answers; the answers "
                             "are shown");
            sodium_memzero(line, sizeof line);
        } else {
            memset(&m->record, 0, sizeof m->record);
            e2e_note_add(m->note, sizeof m->note, "the scale record is malformed (BAD_SCALE)");
        }
        sodium_memzero(sent_line, sizeof sent_line);
    } else if (op->content_type == SES_CONTENT_RECOMMENDATION ||
               op->content_type == SES_CONTENT_PATIENT_CARD) {
        if ((rc = keep_structured(m, op->content_type, op->body, op->body_len)) != 0)
            goto out;
    }
    /* roster at the time = the current one: name the members' devices left out */
    if (sodium_memcmp(op->hdr.roster_hash, r->hash, 32) == 0) {
        for (size_t i = 0; i < r->n_members; i++)
            for (size_t k = 0; k < r->members[i].n_devices; k++) {
                const struct e2e_device *d = &r->members[i].devices[k];
                if (memcmp(d->id, op->hdr.sender_device_id, SES_ID_BYTES) != 0 &&
                    !has_wrap(&v, d->id) &&
                    (rw == NULL || memcmp(d->id, x->p.device_id, SES_ID_BYTES) != 0))
                    e2e_note_add(m->note, sizeof m->note, "not delivered to %s's device %.8s…",
                                 r->members[i].name, d->text);
            }
    }
    int64_t skew = (int64_t)op->hdr.created_ms - m->ts;
    if (skew > E2E_SKEW_NOTE_MS || skew < -E2E_SKEW_NOTE_MS) {
        json_t *c = json_integer((json_int_t)op->hdr.created_ms);
        char when[40];
        cli_fmt_time(when, sizeof when, c);
        json_decref(c);
        e2e_note_add(m->note, sizeof m->note, "written at %s by the sender's clock", when);
    }
    rc = 0;
out:
    ses_received_free(&got);
    free(expected);
    if (env != NULL) {
        sodium_memzero(env, env_len);
        free(env);
    }
    sodium_memzero(sign_pk, sizeof sign_pk);
    sodium_memzero(&rwb, sizeof rwb);
    sodium_memzero(&rwr, sizeof rwr);
    return rc;
}

void e2e_msg_free(struct e2e_msg *m)
{
    if (m == NULL)
        return;
    if (m->body != NULL) {
        sodium_memzero(m->body, m->body_len);
        free(m->body);
    }
    if (m->text != NULL) {
        sodium_memzero(m->text, strlen(m->text));
        free(m->text);
    }
    json_decref(m->read_by);
    sodium_memzero(m, sizeof *m); /* the parsed record too */
}

/* --- paging, cursors ------------------------------------------------------------------------ */

int e2e_fetch_page(struct e2e *x, const struct e2e_roster *r, int64_t a, int64_t limit,
                   json_t **reply, int64_t *through)
{
    *reply = NULL;
    int status = e2e_request(x,
                             json_pack("{s:s, s:s, s:I, s:I}", "t", "fetch", "thread", r->text,
                                       "after", (json_int_t)a, "limit", (json_int_t)limit),
                             "fetch", reply);
    if (status != 0)
        return status;
    const json_t *msgs = json_object_get(*reply, "messages");
    const json_t *th = json_object_get(*reply, "through");
    *through = json_is_integer(th) ? (int64_t)json_integer_value(th) : -1;
    bool ok = json_is_array(msgs) && strcmp(cli_str(*reply, "thread", ""), r->text) == 0 &&
              *through >= a && *through <= a + limit;
    size_t i;
    json_t *mj;
    int64_t prev = a;
    json_array_foreach(msgs, i, mj)
    {
        const json_t *js = json_object_get(mj, "seq");
        int64_t seq = json_is_integer(js) ? (int64_t)json_integer_value(js) : -1;
        ok = ok && seq > prev && seq <= *through;
        prev = seq;
    }
    if (ok)
        return 0;
    json_decref(*reply);
    *reply = NULL;
    return e2e_verify_failed("malformed or out-of-order fetch reply for thread %s", r->text);
}

int e2e_walk(struct e2e *x, const struct e2e_roster *r, int64_t after, int64_t upto, json_t *run,
             e2e_msg_cb cb, void *ud, int64_t *max_seen)
{
    if (max_seen != NULL)
        *max_seen = 0;
    for (int64_t a = after, through = after; a < upto; a = through) {
        int64_t limit = upto - a < E2E_FETCH_PAGE ? upto - a : E2E_FETCH_PAGE;
        json_t *reply = NULL;
        int status = e2e_fetch_page(x, r, a, limit, &reply, &through);
        if (status != 0)
            return status;
        size_t i;
        json_t *mj;
        json_array_foreach(json_object_get(reply, "messages"), i, mj)
        {
            int64_t seq = (int64_t)json_integer_value(json_object_get(mj, "seq"));
            struct e2e_msg m;
            int rc = e2e_open(x, r, run, mj, &m);
            if (rc != 0) {
                json_decref(reply);
                return cli_error(CLI_ELOCAL, "%s", ses_err_msg(rc));
            }
            if (max_seen != NULL && seq > *max_seen)
                *max_seen = seq;
            status = cb(x, r, &m, ud);
            if (status != 0) {
                json_decref(reply);
                return status;
            }
        }
        json_decref(reply);
        if (through == a)
            break; /* past the thread's end */
    }
    return 0;
}

int e2e_cursor(struct e2e *x, const char *thread, int read, int64_t seq)
{
    if (seq < 1)
        return 0;
    json_t *reply = NULL;
    int status = e2e_request(x,
                             json_pack("{s:s, s:s, s:I}", "t", read ? "read" : "ack", "thread",
                                       thread, read ? "seq" : "delivered", (json_int_t)seq),
                             read ? "read" : "ack", &reply);
    json_decref(reply);
    return status;
}
