/*
 * handle_audit.c - the auditor's requests (PROTOCOL.md §9): the latest signed checkpoint, records
 * with their leaf hashes, filtered tails, inclusion and consistency proofs. The dispatcher has
 * checked the role (auditor or admin); the first audit request of a connection is itself recorded
 * as audit.read, through the writer, before it is answered.
 */
#include <stdio.h>
#include <string.h>

#include "sesame/encode.h"
#include "sesame/err.h"

#include "auditlog.h"
#include "session.h"

#define SES_AUDIT_PAGE_MAX 1000 /* records per audit_leaves / audit_tail reply */

/* The first audit request of a connection is recorded (audit.read) through the writer before it
 * is answered: returns 0 when that is done, else SES_PENDING (the request runs again after the
 * commit) or an error. */
static int note_read(struct ses_session *s, const struct ses_frame *f, const char *what,
                     ses_handler_fn again)
{
    if (s->audit_read_logged)
        return 0;
    return ses_session_record_then(s, f, "audit.read", what, again, true);
}

static json_t *row_json(const struct ses_audit_row *row, bool with_hash)
{
    json_t *o = json_pack("{s:I}", "seq", (json_int_t)row->seq);
    if (o == NULL)
        return NULL;
    json_object_set_new(o, "rec", row->rec ? json_stringn(row->rec, row->rec_len) : json_null());
    if (with_hash && ses_set_b64(o, "hash", row->leaf_hash, 32) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

struct collect {
    json_t *arr;
    bool with_hash;
};

static int collect_row(void *ud, const struct ses_audit_row *row)
{
    struct collect *c = ud;
    json_t *o = row_json(row, c->with_hash);
    if (o == NULL || json_array_append_new(c->arr, o) != 0)
        return SES_ENOMEM;
    return 0;
}

static json_t *proof_json(uint8_t proof[64][32], size_t count)
{
    json_t *arr = json_array();
    char b64[64];
    for (size_t i = 0; arr && i < count; i++) {
        (void)ses_b64_encode(b64, sizeof b64, proof[i], 32);
        json_array_append_new(arr, json_string(b64));
    }
    return arr;
}

int ses_handle_audit_checkpoint(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    int rc;
    if ((rc = ses_fields_only(f->root, NULL)) != 0 ||
        (rc = note_read(s, f, "checkpoint", ses_handle_audit_checkpoint)) != 0)
        return rc;
    (void)ses_auditlog_checkpoint(&s->d->audit); /* fresh if the log grew */
    if (s->d->audit.ckpt_note[0] == '\0')
        return SES_ENOT_FOUND;
    *reply = json_pack("{s:I, s:s}", "size", (json_int_t)s->d->audit.ckpt_size, "checkpoint",
                       s->d->audit.ckpt_note);
    return *reply ? 0 : SES_ENOMEM;
}

int ses_handle_audit_leaves(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"from", "count", NULL};
    int64_t from = 0, count = 0;
    uint64_t size = 0;
    int rc;
    if ((rc = ses_get_int(f->root, "from", 1, INT64_MAX / 2, true, &from)) != 0 ||
        (rc = ses_get_int(f->root, "count", 1, SES_AUDIT_PAGE_MAX, true, &count)) != 0 ||
        (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    if ((rc = note_read(s, f, "leaves", ses_handle_audit_leaves)) != 0 ||
        (rc = ses_store_audit_size(s->d->store, &size)) != 0)
        return rc;
    struct collect c = {.arr = json_array(), .with_hash = true};
    if (c.arr == NULL)
        return SES_ENOMEM;
    if ((rc = ses_store_audit_range(s->d->store, from, count, collect_row, &c)) != 0) {
        json_decref(c.arr);
        return rc;
    }
    *reply = json_pack("{s:I, s:o}", "size", (json_int_t)size, "leaves", c.arr);
    return *reply ? 0 : SES_ENOMEM;
}

int ses_handle_audit_tail(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"since", "actor", "action", "from_ts",
                                       "to_ts", "limit", NULL};
    struct ses_audit_query q = {.limit = 100};
    uint8_t actor[SES_ID_BYTES];
    bool has_actor = false;
    int64_t limit = 100;
    int rc;
    if ((rc = ses_fields_only(f->root, keys)) != 0 ||
        (rc = ses_get_int(f->root, "since", 0, INT64_MAX, false, &q.since)) != 0 ||
        (rc = ses_get_id(f->root, "actor", false, actor, &has_actor)) != 0 ||
        (rc = ses_get_str(f->root, "action", 1, 64, false, &q.action)) != 0 ||
        (rc = ses_get_int(f->root, "from_ts", 0, INT64_MAX, false, &q.from_ts)) != 0 ||
        (rc = ses_get_int(f->root, "to_ts", 0, INT64_MAX, false, &q.to_ts)) != 0 ||
        (rc = ses_get_int(f->root, "limit", 1, SES_AUDIT_PAGE_MAX, false, &limit)) != 0)
        return rc;
    q.actor = has_actor ? actor : NULL;
    q.limit = (int)limit;
    if ((rc = note_read(s, f, "tail", ses_handle_audit_tail)) != 0)
        return rc;
    struct collect c = {.arr = json_array(), .with_hash = false};
    if (c.arr == NULL)
        return SES_ENOMEM;
    if ((rc = ses_store_audit_query(s->d->store, &q, collect_row, &c)) != 0) {
        json_decref(c.arr);
        return rc;
    }
    *reply = json_pack("{s:o}", "records", c.arr);
    return *reply ? 0 : SES_ENOMEM;
}

static int one_row(void *ud, const struct ses_audit_row *row)
{
    json_t **out = ud;
    *out = row_json(row, true);
    return *out ? 0 : SES_ENOMEM;
}

int ses_handle_audit_show(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"seq", NULL};
    int64_t seq = 0;
    int rc;
    if ((rc = ses_get_int(f->root, "seq", 1, INT64_MAX, true, &seq)) != 0 ||
        (rc = ses_fields_only(f->root, keys)) != 0)
        return rc;
    if ((rc = note_read(s, f, "show", ses_handle_audit_show)) != 0)
        return rc;
    json_t *row = NULL;
    rc = ses_store_audit_get(s->d->store, seq, one_row, &row);
    if (rc != 0) {
        json_decref(row);
        return rc;
    }
    *reply = row;
    return 0;
}

int ses_handle_audit_prove(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"seq", "size", NULL};
    uint8_t proof[64][32];
    size_t count = 0;
    int64_t seq = 0, size = 0;
    int rc;
    if ((rc = ses_get_int(f->root, "seq", 1, INT64_MAX, true, &seq)) != 0 ||
        (rc = ses_get_int(f->root, "size", 1, INT64_MAX, true, &size)) != 0)
        return rc;
    if (ses_fields_only(f->root, keys) != 0 || seq > size)
        return SES_EBAD_FIELD;
    if ((rc = note_read(s, f, "prove", ses_handle_audit_prove)) != 0 ||
        (rc = ses_store_audit_inclusion(s->d->store, (uint64_t)seq - 1, (uint64_t)size, proof,
                                        &count)) != 0)
        return rc;
    *reply = json_pack("{s:I, s:I, s:o}", "seq", (json_int_t)seq, "size", (json_int_t)size, "proof",
                       proof_json(proof, count));
    return *reply ? 0 : SES_ENOMEM;
}

int ses_handle_audit_consistency(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"from", "to", NULL};
    uint8_t proof[64][32];
    size_t count = 0;
    int64_t from = 0, to = 0;
    int rc;
    if ((rc = ses_get_int(f->root, "from", 1, INT64_MAX, true, &from)) != 0 ||
        (rc = ses_get_int(f->root, "to", 1, INT64_MAX, true, &to)) != 0)
        return rc;
    if (ses_fields_only(f->root, keys) != 0 || from > to)
        return SES_EBAD_FIELD;
    if ((rc = note_read(s, f, "consistency", ses_handle_audit_consistency)) != 0 ||
        (rc = ses_store_audit_consistency(s->d->store, (uint64_t)from, (uint64_t)to, proof,
                                          &count)) != 0)
        return rc;
    *reply = json_pack("{s:I, s:I, s:o}", "from", (json_int_t)from, "to", (json_int_t)to, "proof",
                       proof_json(proof, count));
    return *reply ? 0 : SES_ENOMEM;
}
