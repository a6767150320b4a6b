/*
 * codec.h - parsing and building the JSON frames of the Sesame wire protocol (v1).
 *
 * A frame is one JSON object: {"t": "<type>", "id": <request id>, ...}. ses_frame_parse() checks
 * the size, the nesting depth (before any parse, so a JSON bomb costs nothing), the JSON itself
 * (duplicate keys are rejected), and the "t"/"id" envelope; ses_frame_parse_flat() is its fast
 * path for the flat frames of the message path. Requests are decoded one way: the key whitelist
 * (ses_fields_only) refuses unknown fields, the typed getters (ses_get_*) check each field, and
 * the typed decoders below do both for one request type, writing their output only on success.
 * The message path's hot replies (the msg push, the sent reply) are written as text directly,
 * byte for byte what jansson would write.
 * No I/O, no logging; depends on jansson and libsodium only.
 */
#ifndef SESAME_CODEC_H
#define SESAME_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "sesame/limits.h"
#include "sesame/roles.h"

struct ses_frame {
    json_t *root;     /* owned; freed by ses_frame_free() */
    const char *type; /* borrowed from root: value of "t" */
    int64_t id;       /* value of "id", 0..SES_REQUEST_ID_MAX */
};

/* Whether s[0..n) is well-formed UTF-8 (shortest forms, no surrogates, at most U+10FFFF) with
 * no U+0000. */
bool ses_utf8_valid(const char *s, size_t n);

/* Deepest nesting of text[0..len) (strings are skipped; 0 for a scalar). Returns depth, and stops
 * counting (returning limit+1) once limit is passed, so it runs in O(len) with no recursion. */
int ses_json_depth(const char *text, size_t len, int limit);

/* Parses one frame of at most max_len bytes. On success fills *out (caller frees it with
 * ses_frame_free) and returns 0. Errors: SES_ETOO_LARGE, SES_ETOO_DEEP, SES_EBAD_JSON,
 * SES_EBAD_FRAME (not an object, "t" not a non-empty string, "id" not an integer in range).
 * If the frame was an object with an integer "id", *id_out gets it even on error (for the reply),
 * else -1. */
int ses_frame_parse(const char *text, size_t len, size_t max_len, struct ses_frame *out,
                    int64_t *id_out);
/* The fast path of ses_frame_parse for flat frames: one object of at most 8 members
 * whose values are strings without escapes (printable ASCII) or non-negative integers of at most
 * 15 digits, such as every send, ack and read. For such a frame that ses_frame_parse accepts, it
 * gives the same frame (same members, same order) without jansson's lexer and returns 0; for
 * anything else it returns SES_FRAME_NOT_FLAT, changes nothing, and the caller runs
 * ses_frame_parse, which gives the answer (and error) it always gave. SES_FRAME_NOT_FLAT is
 * positive: never an SES_E* code. */
#define SES_FRAME_NOT_FLAT 2
int ses_frame_parse_flat(const char *text, size_t len, size_t max_len, struct ses_frame *out,
                         int64_t *id_out);

/* Frees the frame's JSON. NULL-safe; idempotent. */
void ses_frame_free(struct ses_frame *frame);

/* Field getters. Each returns 0, SES_EMISSING_FIELD (absent and required), or SES_EBAD_FIELD
 * (wrong type, length or range). When the field is optional and absent (or null) they return 0
 * and leave *out untouched. Borrowed strings live as long as obj. */
int ses_get_str(const json_t *obj, const char *key, size_t min_len, size_t max_len, bool required,
                const char **out);
int ses_get_int(const json_t *obj, const char *key, int64_t min, int64_t max, bool required,
                int64_t *out);
int ses_get_b64(const json_t *obj, const char *key, uint8_t *out, size_t n);
int ses_get_id(const json_t *obj, const char *key, bool required, uint8_t out[SES_ID_BYTES],
               bool *present);

/* Key whitelists: the one way requests refuse a field they do not know. ses_fields_only: every
 * key of a frame's root is "t", "id" or one of keys; ses_object_only: every key of obj (an object
 * inside a frame, such as a list item) is one of keys. keys is NULL-terminated, or NULL for none.
 * Return 0 or SES_EBAD_FIELD. They check names only: the getters check presence, type and range
 * (call them first where a missing or malformed field must be reported before an unknown one). */
int ses_fields_only(const json_t *root, const char *const keys[]);
int ses_object_only(const json_t *obj, const char *const keys[]);

/* A display name, device name or site: 1..SES_MAX_NAME_LEN bytes of strict UTF-8 without control
 * characters (C0, DEL, C1) and without invisible or bidirectional-override characters
 * (U+200B..200F, U+202A..202E, U+2066..2069, U+FEFF). Returns true if acceptable. */
bool ses_name_valid(const char *s);

/* --- typed requests -------------------------------------------------------------------------- */

/* {"t":"enroll","id":N,"code":CODE,"sign_pk":B64,"box_pk":B64,"ts":MS,"sig":B64[,"device_name":S]}
 */
struct ses_enroll_req {
    uint8_t ticket[SES_CODE_TICKET_BYTES];
    uint8_t secret[SES_CODE_SECRET_BYTES]; /* wipe after use */
    uint8_t sign_pk[SES_SIGN_PK_BYTES];
    uint8_t box_pk[SES_BOX_PK_BYTES];
    uint64_t ts_ms;
    uint8_t sig[SES_SIG_BYTES];
    const char *device_name; /* borrowed from the frame; NULL if absent */
};
int ses_decode_enroll(const json_t *obj, struct ses_enroll_req *out);

/* {"t":"auth","id":N,"device":ID,"snonce":B64,"cnonce":B64,"ts":MS,"sig":B64} */
struct ses_auth_req {
    uint8_t device_id[SES_ID_BYTES];
    uint8_t snonce[SES_NONCE_BYTES];
    uint8_t cnonce[SES_NONCE_BYTES];
    uint64_t ts_ms;
    uint8_t sig[SES_SIG_BYTES];
};
int ses_decode_auth(const json_t *obj, struct ses_auth_req *out);

/* {"t":"invite","id":N,"role":R,"name":S[,"site":S][,"ttl":SECONDS]}
 * or, for another device of an existing user, {"t":"invite","id":N,"user":ID[,"ttl":SECONDS]} */
struct ses_invite_req {
    bool for_user; /* true: "user" given, role/name/site absent */
    uint8_t user_id[SES_ID_BYTES];
    enum ses_role role;
    const char *name; /* borrowed */
    const char *site; /* borrowed; NULL if absent */
    uint32_t ttl_s;   /* 60..SES_CODE_TTL_MAX_S, default SES_CODE_TTL_DEFAULT_S */
};
int ses_decode_invite(const json_t *obj, struct ses_invite_req *out);

/* {"t":"revoke","id":N,"device":ID} or {"t":"revoke","id":N,"user":ID} (exactly one) */
struct ses_revoke_req {
    bool is_user;
    uint8_t target[SES_ID_BYTES];
};
int ses_decode_revoke(const json_t *obj, struct ses_revoke_req *out);

/* --- replies --------------------------------------------------------------------------------- */

/* Builds {"t":"error","id":id,"code":NAME,"num":err,"msg":msg-or-table-message} (id omitted when
 * id < 0). Returns a malloc'd NUL-terminated string the caller frees with free(), or NULL on OOM.
 */
char *ses_encode_error(int64_t id, int err, const char *msg);

/* Serialises obj compactly (keys in insertion order). Caller frees with free(). NULL on OOM. */
char *ses_encode(const json_t *obj);

/* A stored message as the "msg" push and the "messages" reply carry it (PROTOCOL.md §11). */
struct ses_msg_wire {
    int64_t seq;
    int64_t ts_ms;         /* when the server stored it */
    const uint8_t *thread; /* SES_ID_BYTES */
    const uint8_t *sender; /* the sending user, SES_ID_BYTES */
    const uint8_t *device; /* the sending device, SES_ID_BYTES */
    const uint8_t *env;    /* the envelope, env_len bytes */
    size_t env_len;
};

/* {"t":"msg","seq":S,"ts":MS,"thread":ID,"sender":ID,"device":ID,"env":B64} as an object, or
 * NULL on OOM. */
json_t *ses_msg_json(const struct ses_msg_wire *m);

/* The same push as one compact text, byte for byte ses_encode(ses_msg_json(m)), written without
 * building objects (the base64url envelope is nearly all of it): malloc'd and NUL-terminated,
 * *len_out gets its length; NULL on OOM. */
char *ses_encode_msg(const struct ses_msg_wire *m, size_t *len_out);

/* {"t":"sent","id":N,"seq":S,"duplicate":B,"thread":ID,"msg_id":B64} (msg_id: 16 bytes), byte for
 * byte the compact encoding of that object, written into out (cap bytes, NUL-terminated). Returns
 * its length, or 0 when cap is too small (SES_SENT_TEXT_MAX always suffices). */
#define SES_SENT_TEXT_MAX 256
size_t ses_encode_sent(char *out, size_t cap, int64_t id, int64_t seq, bool duplicate,
                       const uint8_t thread[SES_ID_BYTES], const uint8_t msg_id[16]);

/* Sets obj[key] = base64url(bin[0..n)) / base32 id text. Returns 0, SES_ENOMEM, or
 * SES_EINVALID_ARG when n > 383 (the encoder's buffer). */
int ses_set_b64(json_t *obj, const char *key, const uint8_t *bin, size_t n);
int ses_set_id(json_t *obj, const char *key, const uint8_t id[SES_ID_BYTES]);

#endif
