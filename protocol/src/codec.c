/*
 * codec.c - frame parsing (and its flat fast path), field getters and key whitelists, typed request
 * decoders and reply encoders (codec.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/err.h"

bool ses_utf8_valid(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t len = c == 0               ? 0
                     : c < 0x80           ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
        if (len == 0 || i + len > n || (len == 2 && c < 0xC2) || (len == 4 && c > 0xF4))
            return false;
        for (size_t k = 1; k < len; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80)
                return false;
        unsigned char c1 = len > 1 ? (unsigned char)s[i + 1] : 0;
        if ((len == 3 && c == 0xE0 && c1 < 0xA0) || (len == 3 && c == 0xED && c1 >= 0xA0) ||
            (len == 4 && c == 0xF0 && c1 < 0x90) || (len == 4 && c == 0xF4 && c1 >= 0x90))
            return false;
        i += len;
    }
    return true;
}

int ses_json_depth(const char *text, size_t len, int limit)
{
    int depth = 0, max = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            if (++depth > max) {
                max = depth;
                if (max > limit)
                    return limit + 1;
            }
        } else if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
        }
    }
    return max;
}

/* The "t"/"id" envelope of an object: *id_out gets "id" when it is an integer in
 * 0..SES_REQUEST_ID_MAX (else -1). When "t" is a string of 1..32 bytes too, out takes root and 0
 * is returned; else SES_EBAD_FRAME (root stays the caller's, out untouched). */
static int frame_envelope(json_t *root, struct ses_frame *out, int64_t *id_out)
{
    json_t *id = json_object_get(root, "id"), *t = json_object_get(root, "t");
    *id_out = -1;
    if (json_is_integer(id) && json_integer_value(id) >= 0 &&
        json_integer_value(id) <= SES_REQUEST_ID_MAX)
        *id_out = json_integer_value(id);
    if (*id_out < 0 || !json_is_string(t) || json_string_length(t) == 0 ||
        json_string_length(t) > 32)
        return SES_EBAD_FRAME;
    out->root = root;
    out->type = json_string_value(t);
    out->id = *id_out;
    return 0;
}

int ses_frame_parse(const char *text, size_t len, size_t max_len, struct ses_frame *out,
                    int64_t *id_out)
{
    json_error_t jerr;
    *id_out = -1;
    memset(out, 0, sizeof *out);
    if (len > max_len)
        return SES_ETOO_LARGE;
    if (ses_json_depth(text, len, SES_MAX_JSON_DEPTH) > SES_MAX_JSON_DEPTH)
        return SES_ETOO_DEEP;
    /* JSON_DECODE_ANY: a valid scalar or array is BAD_FRAME (below), not BAD_JSON */
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (root == NULL)
        return SES_EBAD_JSON;
    if (!json_is_object(root)) {
        json_decref(root);
        return SES_EBAD_FRAME;
    }
    if (frame_envelope(root, out, id_out) != 0) {
        json_decref(root);
        return SES_EBAD_FRAME;
    }
    return 0;
}

#define FLAT_MAX_MEMBERS 8
#define FLAT_MAX_DIGITS 15 /* integers well inside int64 and SES_REQUEST_ID_MAX */

/* Characters a plain string may hold: printable ASCII but '"' and '\\' (no escapes). */
static bool plain_char(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static const char *skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* A plain string at p ('"' expected): s and n get its content. NULL if not plain. */
static const char *plain_string(const char *p, const char *end, const char **s, size_t *n)
{
    if (p >= end || *p != '"')
        return NULL;
    const char *q = ++p;
    while (q < end && plain_char((unsigned char)*q))
        q++;
    if (q >= end || *q != '"')
        return NULL;
    *s = p;
    *n = (size_t)(q - p);
    return q + 1;
}

int ses_frame_parse_flat(const char *text, size_t len, size_t max_len, struct ses_frame *out,
                         int64_t *id_out)
{
    const char *p = text, *end = text + len;
    json_t *root = NULL;
    if (len > max_len || (p = skip_ws(p, end)) >= end || *p++ != '{')
        return SES_FRAME_NOT_FLAT;
    if ((root = json_object()) == NULL)
        return SES_FRAME_NOT_FLAT;
    for (int members = 0;; members++) {
        const char *key, *str;
        size_t key_len, str_len;
        char keybuf[64];
        json_t *v;
        p = skip_ws(p, end);
        if (members == FLAT_MAX_MEMBERS || (p = plain_string(p, end, &key, &key_len)) == NULL ||
            key_len >= sizeof keybuf)
            goto not_flat;
        memcpy(keybuf, key, key_len);
        keybuf[key_len] = '\0';
        p = skip_ws(p, end);
        if (p >= end || *p++ != ':')
            goto not_flat;
        p = skip_ws(p, end);
        if (p < end && *p == '"') {
            if ((p = plain_string(p, end, &str, &str_len)) == NULL)
                goto not_flat;
            v = json_stringn_nocheck(str, str_len);
        } else {
            const char *d = p;
            json_int_t x = 0;
            while (p < end && *p >= '0' && *p <= '9' && p - d <= FLAT_MAX_DIGITS)
                x = x * 10 + (*p++ - '0');
            if (p == d || p - d > FLAT_MAX_DIGITS || (*d == '0' && p - d > 1))
                goto not_flat; /* not a plain non-negative integer (or one to leave to jansson) */
            v = json_integer(x);
        }
        if (v == NULL || json_object_get(root, keybuf) != NULL) {
            json_decref(v); /* a duplicate key is the full parser's error to report */
            goto not_flat;
        }
        if (json_object_set_new_nocheck(root, keybuf, v) != 0)
            goto not_flat;
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p >= end || *p++ != '}')
            goto not_flat;
        break;
    }
    if (skip_ws(p, end) != end)
        goto not_flat;
    /* the frame checks of ses_frame_parse: anything they refuse is reported by it */
    int64_t id;
    if (frame_envelope(root, out, &id) != 0)
        goto not_flat;
    *id_out = id;
    return 0;
not_flat:
    json_decref(root);
    return SES_FRAME_NOT_FLAT;
}

void ses_frame_free(struct ses_frame *frame)
{
    if (frame == NULL)
        return;
    json_decref(frame->root);
    frame->root = NULL;
    frame->type = NULL;
}

int ses_get_str(const json_t *obj, const char *key, size_t min_len, size_t max_len, bool required,
                const char **out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || (!required && json_is_null(v)))
        return required ? SES_EMISSING_FIELD : 0;
    if (!json_is_string(v))
        return SES_EBAD_FIELD;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n < min_len || n > max_len || strlen(s) != n) /* no embedded NUL */
        return SES_EBAD_FIELD;
    *out = s;
    return 0;
}

int ses_get_int(const json_t *obj, const char *key, int64_t min, int64_t max, bool required,
                int64_t *out)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || (!required && json_is_null(v)))
        return required ? SES_EMISSING_FIELD : 0;
    if (!json_is_integer(v))
        return SES_EBAD_FIELD;
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        return SES_EBAD_FIELD;
    *out = x;
    return 0;
}

int ses_get_b64(const json_t *obj, const char *key, uint8_t *out, size_t n)
{
    const char *s = NULL;
    uint8_t tmp[256];
    int rc = ses_get_str(obj, key, 1, 4 * n, true, &s);
    if (rc != 0)
        return rc;
    if (n > sizeof tmp)
        return SES_EINVALID_ARG;
    rc = ses_b64_decode(tmp, n, s, strlen(s));
    if (rc == 0)
        memcpy(out, tmp, n); /* output written only on success */
    sodium_memzero(tmp, sizeof tmp);
    return rc;
}

int ses_get_id(const json_t *obj, const char *key, bool required, uint8_t out[SES_ID_BYTES],
               bool *present)
{
    const char *s = NULL;
    if (present)
        *present = false;
    int rc = ses_get_str(obj, key, 1, 64, required, &s);
    if (rc != 0 || s == NULL)
        return rc;
    uint8_t tmp[SES_ID_BYTES];
    if (ses_id_from_text(tmp, s) != 0)
        return SES_EBAD_FIELD;
    memcpy(out, tmp, SES_ID_BYTES);
    if (present)
        *present = true;
    return 0;
}

bool ses_name_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n < 1 || n > SES_MAX_NAME_LEN)
        return false;
    /* strict UTF-8 (callers are not only jansson strings); no C0, DEL or C1 controls */
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned char c = *p;
        uint32_t cp;
        int more;
        if (c < 0x80) {
            cp = c, more = 0;
        } else if (c >= 0xc2 && c <= 0xdf) {
            cp = c & 0x1f, more = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            cp = c & 0x0f, more = 2;
        } else if (c >= 0xf0 && c <= 0xf4) {
            cp = c & 0x07, more = 3;
        } else {
            return false;
        }
        if (end - p <= more)
            return false;
        for (int i = 1; i <= more; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((more == 2 && cp < 0x800) || (more == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false; /* overlong, out of range, surrogate */
        if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
            return false;
        /* invisible and bidirectional-override characters can disguise a name shown to
         * clinicians: zero-width and direction marks, embeddings/overrides, isolates, BOM */
        if ((cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff)
            return false;
        p += more + 1;
    }
    return true;
}

static bool listed(const char *key, const char *const keys[])
{
    for (size_t i = 0; keys != NULL && keys[i] != NULL; i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

/* Every key of obj is in keys (or, for a frame's root, "t" or "id"). */
static int keys_only(const json_t *obj, const char *const keys[], bool frame)
{
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val)
    {
        (void)val;
        if (!(frame && (strcmp(key, "t") == 0 || strcmp(key, "id") == 0)) && !listed(key, keys))
            return SES_EBAD_FIELD;
    }
    return 0;
}

int ses_fields_only(const json_t *root, const char *const keys[])
{
    return keys_only(root, keys, true);
}

int ses_object_only(const json_t *obj, const char *const keys[])
{
    return keys_only(obj, keys, false);
}

int ses_decode_enroll(const json_t *obj, struct ses_enroll_req *out)
{
    static const char *const keys[] = {"code", "sign_pk",     "box_pk", "ts",
                                       "sig",  "device_name", NULL};
    struct ses_enroll_req r;
    const char *code = NULL;
    int64_t ts = 0;
    int rc;
    memset(&r, 0, sizeof r);
    if ((rc = ses_get_str(obj, "code", 1, 64, true, &code)) != 0 ||
        (rc = ses_get_b64(obj, "sign_pk", r.sign_pk, sizeof r.sign_pk)) != 0 ||
        (rc = ses_get_b64(obj, "box_pk", r.box_pk, sizeof r.box_pk)) != 0 ||
        (rc = ses_get_int(obj, "ts", 0, INT64_MAX, true, &ts)) != 0 ||
        (rc = ses_get_b64(obj, "sig", r.sig, sizeof r.sig)) != 0 ||
        (rc = ses_get_str(obj, "device_name", 1, SES_MAX_NAME_LEN, false, &r.device_name)) != 0 ||
        (rc = ses_fields_only(obj, keys)) != 0)
        goto out;
    if (r.device_name != NULL && !ses_name_valid(r.device_name)) {
        rc = SES_EBAD_FIELD;
        goto out;
    }
    if ((rc = ses_code_parse(r.ticket, r.secret, code)) != 0)
        goto out;
    r.ts_ms = (uint64_t)ts;
    *out = r;
out:
    sodium_memzero(&r, sizeof r);
    return rc;
}

int ses_decode_auth(const json_t *obj, struct ses_auth_req *out)
{
    static const char *const keys[] = {"device", "snonce", "cnonce", "ts", "sig", NULL};
    struct ses_auth_req r;
    int64_t ts = 0;
    int rc;
    memset(&r, 0, sizeof r);
    if ((rc = ses_get_id(obj, "device", true, r.device_id, NULL)) != 0 ||
        (rc = ses_get_b64(obj, "snonce", r.snonce, sizeof r.snonce)) != 0 ||
        (rc = ses_get_b64(obj, "cnonce", r.cnonce, sizeof r.cnonce)) != 0 ||
        (rc = ses_get_int(obj, "ts", 0, INT64_MAX, true, &ts)) != 0 ||
        (rc = ses_get_b64(obj, "sig", r.sig, sizeof r.sig)) != 0 ||
        (rc = ses_fields_only(obj, keys)) != 0)
        return rc;
    r.ts_ms = (uint64_t)ts;
    *out = r;
    return 0;
}

int ses_decode_invite(const json_t *obj, struct ses_invite_req *out)
{
    static const char *const keys[] = {"role", "name", "site", "ttl", "user", NULL};
    struct ses_invite_req r;
    const char *role = NULL;
    int64_t ttl = SES_CODE_TTL_DEFAULT_S;
    bool has_user = false;
    int rc;
    memset(&r, 0, sizeof r);
    if ((rc = ses_fields_only(obj, keys)) != 0 ||
        (rc = ses_get_int(obj, "ttl", 60, SES_CODE_TTL_MAX_S, false, &ttl)) != 0 ||
        (rc = ses_get_id(obj, "user", false, r.user_id, &has_user)) != 0)
        return rc;
    r.ttl_s = (uint32_t)ttl;
    if (has_user) {
        if (json_object_get(obj, "role") || json_object_get(obj, "name") ||
            json_object_get(obj, "site"))
            return SES_EBAD_FIELD;
        r.for_user = true;
        *out = r;
        return 0;
    }
    if ((rc = ses_get_str(obj, "role", 1, 32, true, &role)) != 0 ||
        (rc = ses_get_str(obj, "name", 1, SES_MAX_NAME_LEN, true, &r.name)) != 0 ||
        (rc = ses_get_str(obj, "site", 1, SES_MAX_NAME_LEN, false, &r.site)) != 0)
        return rc;
    r.role = ses_role_from_name(role);
    if (r.role == SES_ROLE_NONE || !ses_name_valid(r.name) ||
        (r.site != NULL && !ses_name_valid(r.site)))
        return SES_EBAD_FIELD;
    *out = r;
    return 0;
}

int ses_decode_revoke(const json_t *obj, struct ses_revoke_req *out)
{
    static const char *const keys[] = {"device", "user", NULL};
    struct ses_revoke_req r;
    bool has_dev = false, has_user = false;
    uint8_t dev[SES_ID_BYTES], user[SES_ID_BYTES];
    int rc;
    memset(&r, 0, sizeof r);
    if ((rc = ses_fields_only(obj, keys)) != 0 ||
        (rc = ses_get_id(obj, "device", false, dev, &has_dev)) != 0 ||
        (rc = ses_get_id(obj, "user", false, user, &has_user)) != 0)
        return rc;
    if (!has_dev && !has_user)
        return SES_EMISSING_FIELD;
    if (has_dev && has_user)
        return SES_EBAD_FIELD;
    r.is_user = has_user;
    memcpy(r.target, has_user ? user : dev, SES_ID_BYTES);
    *out = r;
    return 0;
}

char *ses_encode(const json_t *obj)
{
    return json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
}

char *ses_encode_error(int64_t id, int err, const char *msg)
{
    json_t *o = json_object();
    char *s = NULL;
    if (o == NULL)
        return NULL;
    if (json_object_set_new(o, "t", json_string("error")) != 0 ||
        (id >= 0 && json_object_set_new(o, "id", json_integer(id)) != 0) ||
        json_object_set_new(o, "code", json_string(ses_err_name(err))) != 0 ||
        json_object_set_new(o, "num", json_integer(err)) != 0 ||
        json_object_set_new(o, "msg", json_string(msg ? msg : ses_err_msg(err))) != 0)
        goto out;
    s = ses_encode(o);
out:
    json_decref(o);
    return s;
}

json_t *ses_msg_json(const struct ses_msg_wire *m)
{
    json_t *p = json_pack("{s:s, s:I, s:I}", "t", "msg", "seq", (json_int_t)m->seq, "ts",
                          (json_int_t)m->ts_ms);
    char *b64 = malloc(ses_b64_len(m->env_len) + 1);
    if (p == NULL || b64 == NULL || ses_set_id(p, "thread", m->thread) != 0 ||
        ses_set_id(p, "sender", m->sender) != 0 || ses_set_id(p, "device", m->device) != 0 ||
        ses_b64_encode(b64, ses_b64_len(m->env_len) + 1, m->env, m->env_len) != 0 ||
        json_object_set_new(p, "env", json_string(b64)) != 0) {
        json_decref(p);
        p = NULL;
    }
    free(b64);
    return p;
}

char *ses_encode_msg(const struct ses_msg_wire *m, size_t *len_out)
{
    char thread[SES_ID_TEXT_LEN + 1], sender[SES_ID_TEXT_LEN + 1], device[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(thread, m->thread);
    ses_id_to_text(sender, m->sender);
    ses_id_to_text(device, m->device);
    size_t cap = 256 + ses_b64_len(m->env_len);
    char *text = malloc(cap);
    if (text == NULL)
        return NULL;
    int n = snprintf(text, cap,
                     "{\"t\":\"msg\",\"seq\":%lld,\"ts\":%lld,\"thread\":\"%s\",\"sender\":\"%s\","
                     "\"device\":\"%s\",\"env\":\"",
                     (long long)m->seq, (long long)m->ts_ms, thread, sender, device);
    if (n < 0 || (size_t)n >= 256) {
        free(text);
        return NULL;
    }
    size_t len = (size_t)n + ses_b64url_encode(text + n, m->env, m->env_len);
    memcpy(text + len, "\"}", 3);
    *len_out = len + 2;
    return text;
}

size_t ses_encode_sent(char *out, size_t cap, int64_t id, int64_t seq, bool duplicate,
                       const uint8_t thread[SES_ID_BYTES], const uint8_t msg_id[16])
{
    char t[SES_ID_TEXT_LEN + 1], mid[32];
    ses_id_to_text(t, thread);
    mid[ses_b64url_encode(mid, msg_id, 16)] = '\0';
    int n = snprintf(out, cap,
                     "{\"t\":\"sent\",\"id\":%lld,\"seq\":%lld,\"duplicate\":%s,\"thread\":\"%s\","
                     "\"msg_id\":\"%s\"}",
                     (long long)id, (long long)seq, duplicate ? "true" : "false", t, mid);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

int ses_set_b64(json_t *obj, const char *key, const uint8_t *bin, size_t n)
{
    char buf[512];
    if (ses_b64_encode(buf, sizeof buf, bin, n) != 0)
        return SES_EINVALID_ARG;
    return json_object_set_new(obj, key, json_string(buf)) == 0 ? 0 : SES_ENOMEM;
}

int ses_set_id(json_t *obj, const char *key, const uint8_t id[SES_ID_BYTES])
{
    char buf[SES_ID_TEXT_LEN + 1];
    ses_id_to_text(buf, id);
    return json_object_set_new(obj, key, json_string(buf)) == 0 ? 0 : SES_ENOMEM;
}
