/*
 * envelope_receive.c - the receiver's decision on one delivered message (envelope.h,
 * PROTOCOL.md §10 "Receiver", §12): the frame's claim, the envelope's own checks, ghost wraps
 * tolerated on request, and the replay rules against the caller's marks. Pure: no I/O, no logging.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/envelope.h"
#include "sesame/err.h"

int ses_envelope_parse_claimed(const uint8_t *bytes, size_t len,
                               const struct ses_receive_claim *claim, struct ses_envelope_view *v)
{
    if (bytes == NULL || claim == NULL || v == NULL)
        return SES_EINVALID_ARG;
    struct ses_envelope_view view;
    int err = ses_envelope_parse(bytes, len, &view);
    if (err != 0)
        return err;
    if (memcmp(view.hdr.sender_user_id, claim->sender_user_id, SES_ID_BYTES) != 0 ||
        memcmp(view.hdr.sender_device_id, claim->sender_device_id, SES_ID_BYTES) != 0 ||
        memcmp(view.hdr.thread_id, claim->thread_id, SES_ID_BYTES) != 0)
        return SES_EINNER_MISMATCH;
    *v = view;
    return 0;
}

/* ses_envelope_open or ses_envelope_open_rewrap, as in asks. */
static int open_as(const struct ses_receive_in *in, const uint8_t (*expected)[SES_ID_BYTES],
                   size_t n_expected, uint64_t last_seen, struct ses_opened *o)
{
    const struct ses_receive_rewrap *rw = in->rewrap;
    if (rw == NULL)
        return ses_envelope_open(in->bytes, in->len, in->my_device_id, in->my_box_pk, in->my_box_sk,
                                 in->sender_sign_pk, expected, n_expected, last_seen, o);
    return ses_envelope_open_rewrap(
        in->bytes, in->len, in->my_device_id, in->my_box_pk, in->my_box_sk, in->sender_sign_pk,
        rw->sealed, rw->sig, rw->by_device_id, rw->by_sign_pk, expected, n_expected, last_seen, o);
}

static int listed(const uint8_t (*list)[SES_ID_BYTES], size_t n, const uint8_t id[SES_ID_BYTES])
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(list[i], id, SES_ID_BYTES) == 0)
            return 1;
    return 0;
}

/* A second open after SES_EGHOST_DEVICE: every wrap device not expected is recorded in out->ghosts
 * (in wrap order) and expected for this open. */
static int open_with_ghosts(const struct ses_receive_in *in, const struct ses_envelope_view *v,
                            uint64_t last_seen, struct ses_received *out)
{
    size_t cap = in->n_expected + v->n_wraps, n = in->n_expected;
    uint8_t(*all)[SES_ID_BYTES] = malloc(cap * SES_ID_BYTES);
    if (all == NULL)
        return SES_ENOMEM;
    if (n > 0)
        memcpy(all, in->expected, n * SES_ID_BYTES);
    for (size_t k = 0; k < v->n_wraps; k++) {
        const uint8_t *w = ses_envelope_wrap_device(v, k);
        if (listed((const uint8_t(*)[SES_ID_BYTES])all, n, w))
            continue;
        memcpy(all[n++], w, SES_ID_BYTES);
        memcpy(out->ghosts[out->n_ghosts++], w, SES_ID_BYTES);
    }
    int err = open_as(in, (const uint8_t(*)[SES_ID_BYTES])all, n, last_seen, &out->opened);
    free(all);
    return err;
}

/* Decides with reason; a REPLAYED from the open is the sequence check. */
static int refuse(struct ses_received *out, enum ses_receive_reason reason, int err)
{
    out->reason =
        (reason == SES_RECEIVE_ENVELOPE && err == SES_EREPLAYED) ? SES_RECEIVE_SEQ : reason;
    ses_opened_free(&out->opened);
    return err;
}

int ses_envelope_receive(const struct ses_receive_in *in, struct ses_received *out)
{
    if (out == NULL)
        return SES_EINVALID_ARG;
    memset(out, 0, sizeof *out);
    if (in == NULL || in->claim == NULL || in->claim->seq == 0 || in->my_device_id == NULL ||
        in->my_box_pk == NULL || in->my_box_sk == NULL || in->sender_sign_pk == NULL ||
        (in->expected == NULL && in->n_expected > 0))
        return SES_EINVALID_ARG;
    const struct ses_receive_claim *claim = in->claim;
    const struct ses_receive_marks *mk = &in->marks;

    /* 1. structure and the frame's claim */
    struct ses_envelope_view v;
    int err = ses_envelope_parse_claimed(in->bytes, in->len, claim, &v);
    if (err == SES_EINNER_MISMATCH)
        return refuse(out, SES_RECEIVE_CLAIM, err);
    if (err != 0)
        return err == SES_EINVALID_ARG ? err : refuse(out, SES_RECEIVE_ENVELOPE, err);

    /* 2. the envelope's checks; the sequence bound is this run's, or the persisted mark's for a
     * message newer than the mark */
    out->last_seen = mk->run_sender_seq;
    if (claim->seq > mk->seq && mk->sender_seq > out->last_seen)
        out->last_seen = mk->sender_seq;
    err = open_as(in, in->expected, in->n_expected, out->last_seen, &out->opened);
    if (err == SES_EGHOST_DEVICE && (in->flags & SES_RECEIVE_ALLOW_GHOSTS))
        err = open_with_ghosts(in, &v, out->last_seen, out);
    if (err == SES_ENOMEM || err == SES_EINVALID_ARG)
        return err;
    if (err != 0)
        return refuse(out, SES_RECEIVE_ENVELOPE, err);

    /* 3. an older message shown again agrees with the persisted mark */
    uint64_t sseq = out->opened.hdr.sender_seq;
    if (claim->seq == mk->seq ? sseq != mk->sender_seq
                              : (claim->seq < mk->seq && sseq >= mk->sender_seq))
        return refuse(out, SES_RECEIVE_MARK, SES_EREPLAYED);

    /* 4. a msg_id is opened once */
    if (mk->msg_id_seen != NULL && mk->msg_id_seen(mk->ctx, out->opened.hdr.msg_id))
        return refuse(out, SES_RECEIVE_MSG_ID, SES_EREPLAYED);

    out->reason = SES_RECEIVE_ACCEPTED;
    out->advance_mark = claim->seq > mk->seq;
    return 0;
}

void ses_received_free(struct ses_received *r)
{
    if (r == NULL)
        return;
    ses_opened_free(&r->opened);
    sodium_memzero(r, sizeof *r);
}
