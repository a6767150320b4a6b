/*
 * test_codec.c - unit tests of the frame codec (codec.h): ses_frame_parse and its limits (size,
 * depth, id range), the flat fast path ses_frame_parse_flat against it, ses_json_depth, the field
 * getters and key whitelists, ses_name_valid, the typed request decoders (enroll, auth, invite,
 * revoke) and the reply encoders (error, and the msg push and sent reply against jansson's bytes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>
#include <sodium.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/envelope.h"
#include "sesame/err.h"
#include "sesame/limits.h"
#include "sesame/roles.h"

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

/* --- helpers --------------------------------------------------------------------------------- */

/* Parses text[0..len) with max_len; checks the frame is empty on error; returns the error. */
static int parse_len(const char *text, size_t len, size_t max_len, int64_t *id_out)
{
    struct ses_frame f;
    int64_t id = 12345;
    memset(&f, 0x5A, sizeof f);
    int rc = ses_frame_parse(text, len, max_len, &f, &id);
    if (rc == 0) {
        assert_non_null(f.root);
        assert_non_null(f.type);
        assert_int_equal(f.id, id);
    } else {
        assert_null(f.root);
    }
    ses_frame_free(&f);
    if (id_out)
        *id_out = id;
    return rc;
}

static int parse(const char *text, int64_t *id_out)
{
    return parse_len(text, strlen(text), SES_MAX_FRAME, id_out);
}

/* Builds a string of n bytes of c (caller frees). */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* A frame {"t":"ping","id":1,"a":...} whose nesting is exactly depth (>= 2): kind 'a' nests arrays,
 * 'o' objects, 'm' alternates. Caller frees. */
static char *nested_frame(int depth, char kind)
{
    size_t cap = 64 + (size_t)depth * 8;
    char *s = malloc(cap);
    assert_non_null(s);
    size_t n = (size_t)snprintf(s, cap, "{\"t\":\"ping\",\"id\":1,\"a\":");
    char closers[4096];
    int nc = 0;
    assert_true(depth < (int)sizeof closers);
    for (int level = 2; level <= depth; level++) {
        int obj = kind == 'o' || (kind == 'm' && level % 2 == 0);
        if (level < depth) {
            n += (size_t)snprintf(s + n, cap - n, obj ? "{\"b\":" : "[");
        } else {
            n += (size_t)snprintf(s + n, cap - n, obj ? "{" : "[");
        }
        closers[nc++] = obj ? '}' : ']';
    }
    while (nc > 0)
        s[n++] = closers[--nc];
    s[n++] = '}';
    s[n] = '\0';
    assert_true(n < cap);
    return s;
}

/* A valid frame of exactly len bytes: {"t":"ping","id":1,"pad":"xxx..."}. Caller frees. */
static char *frame_of_len(size_t len)
{
    static const char head[] = "{\"t\":\"ping\",\"id\":1,\"pad\":\"";
    assert_true(len >= sizeof head - 1 + 2);
    char *s = repeat('x', len);
    memcpy(s, head, sizeof head - 1);
    memcpy(s + len - 2, "\"}", 2);
    return s;
}

/* --- ses_frame_parse ------------------------------------------------------------------------- */

static void test_parse_minimal(void **state)
{
    (void)state;
    static const char text[] = "{\"t\":\"ping\",\"id\":0}";
    struct ses_frame f;
    int64_t id = 99;
    assert_int_equal(ses_frame_parse(text, strlen(text), SES_MAX_PREAUTH_FRAME, &f, &id), 0);
    assert_int_equal(id, 0);
    assert_int_equal(f.id, 0);
    assert_string_equal(f.type, "ping");
    assert_true(json_is_object(f.root));
    assert_int_equal(json_object_size(f.root), 2);
    ses_frame_free(&f);
    assert_null(f.root);
    assert_null(f.type);
    ses_frame_free(&f); /* idempotent */
    ses_frame_free(NULL);

    /* other key order, white space, extra fields */
    static const char spaced[] = "  {\"x\":[1,{}], \"id\" : 42 ,\n\"t\":\"whoami\"}\n";
    assert_int_equal(ses_frame_parse(spaced, strlen(spaced), SES_MAX_FRAME, &f, &id), 0);
    assert_int_equal(id, 42);
    assert_int_equal(f.id, 42);
    assert_string_equal(f.type, "whoami");
    ses_frame_free(&f);
}

static void test_parse_uses_len_only(void **state)
{
    (void)state;
    /* a WebSocket buffer is not NUL-terminated: only text[0..len) counts */
    static const char buf[] = "{\"t\":\"ping\",\"id\":3}GARBAGE{{{{";
    size_t len = strlen("{\"t\":\"ping\",\"id\":3}");
    int64_t id;
    assert_int_equal(parse_len(buf, len, SES_MAX_FRAME, &id), 0);
    assert_int_equal(id, 3);
    assert_int_equal(parse_len(buf, len + 1, SES_MAX_FRAME, &id), SES_EBAD_JSON);
    assert_int_equal(parse_len(buf, len - 1, SES_MAX_FRAME, &id), SES_EBAD_JSON);
}

static void test_parse_id_range(void **state)
{
    (void)state;
    int64_t id;
    assert_int_equal(parse("{\"t\":\"ping\",\"id\":0}", &id), 0);
    assert_int_equal(id, 0);
    assert_int_equal(parse("{\"t\":\"ping\",\"id\":9007199254740991}", &id), 0);
    assert_int_equal(id, SES_REQUEST_ID_MAX);
    assert_int_equal(SES_REQUEST_ID_MAX, (1LL << 53) - 1);
    assert_int_equal(parse("{\"t\":\"ping\",\"id\":-0}", &id), 0);
    assert_int_equal(id, 0);

    assert_int_equal(parse("{\"t\":\"ping\",\"id\":-1}", &id), SES_EBAD_FRAME);
    assert_int_equal(id, -1);
    assert_int_equal(parse("{\"t\":\"ping\",\"id\":9007199254740992}", &id), SES_EBAD_FRAME);
    assert_int_equal(id, -1);
    assert_int_equal(parse("{\"t\":\"ping\",\"id\":9223372036854775807}", &id), SES_EBAD_FRAME);
    assert_int_equal(id, -1);
    assert_int_equal(parse("{\"t\":\"ping\",\"id\":-9223372036854775808}", &id), SES_EBAD_FRAME);
    assert_int_equal(id, -1);
}

static void test_parse_bad_id(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"t\":\"ping\"}",
        "{\"t\":\"ping\",\"id\":1.0}",
        "{\"t\":\"ping\",\"id\":1.5}",
        "{\"t\":\"ping\",\"id\":1e3}",
        "{\"t\":\"ping\",\"id\":\"1\"}",
        "{\"t\":\"ping\",\"id\":null}",
        "{\"t\":\"ping\",\"id\":true}",
        "{\"t\":\"ping\",\"id\":[1]}",
        "{\"t\":\"ping\",\"id\":{}}",
        "{\"t\":\"ping\",\"ID\":1}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t id = 0;
        assert_int_equal(parse(bad[i], &id), SES_EBAD_FRAME);
        assert_int_equal(id, -1);
    }
}

static void test_parse_bad_type(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int64_t id;
    } bad[] = {
        {"{\"id\":7}", 7},
        {"{\"t\":\"\",\"id\":8}", 8},
        {"{\"t\":5,\"id\":9}", 9},
        {"{\"t\":null,\"id\":10}", 10},
        {"{\"t\":true,\"id\":11}", 11},
        {"{\"t\":[\"ping\"],\"id\":12}", 12},
        {"{\"t\":{},\"id\":13}", 13},
        {"{\"T\":\"ping\",\"id\":14}", 14},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t id = 0;
        assert_int_equal(parse(bad[i].text, &id), SES_EBAD_FRAME);
        assert_int_equal(id, bad[i].id); /* usable id is reported for the error reply */
    }
    /* a type name of at most 32 bytes (codec.c's limit, not in codec.h) */
    char text[128], *a32 = repeat('a', 32);
    int64_t id;
    snprintf(text, sizeof text, "{\"t\":\"%s\",\"id\":16}", a32);
    assert_int_equal(parse(text, &id), 0);
    assert_int_equal(id, 16);
    snprintf(text, sizeof text, "{\"t\":\"%sa\",\"id\":17}", a32);
    assert_int_equal(parse(text, &id), SES_EBAD_FRAME);
    assert_int_equal(id, 17);
    free(a32);
}

static void test_parse_not_object(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "[]",  "[{\"t\":\"ping\",\"id\":1}]", "\"ping\"", "42", "-1.5", "true", "false", "null",
        " 0 ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t id = 0;
        assert_int_equal(parse(bad[i], &id), SES_EBAD_FRAME);
        assert_int_equal(id, -1);
    }
}

static void test_parse_bad_json(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        " ",
        "{",
        "}",
        "{\"t\":\"ping\",\"id\":1",
        "{\"t\":\"ping\",\"id\":1,}",
        "{\"t\":\"ping\",\"id\":01}",
        "{'t':'ping','id':1}",
        "{t:\"ping\",id:1}",
        "{\"t\":\"ping\",\"id\":1} x",
        "{\"t\":\"ping\",\"id\":1}{}",
        "{\"t\":\"ping\",\"id\":1,\"x\":NaN}",
        "{\"t\":\"ping\",\"id\":1,\"x\":1e400}",
        "{\"t\":\"ping\",\"id\":1,\"x\":\"a\\u0000b\"}", /* NUL in a string */
        "{\"t\":\"ping\",\"id\":1,\"x\":\"\\ud800\"}",   /* lone surrogate */
        "{\"t\":\"ping\",\"id\":1,\"x\":\"\xff\"}",      /* invalid UTF-8 */
        "{\"t\":\"ping\",\"id\":1,\"x\":\"\xc0\xaf\"}",  /* overlong UTF-8 */
        "{\"t\":\"ping\",\"id\":1,\"x\":\"a\nb\"}",      /* raw control character */
        "\xef\xbb\xbf{\"t\":\"ping\",\"id\":1}",         /* byte order mark */
        "{\"t\":\"ping\",\"id\":99999999999999999999}",  /* beyond int64: jansson refuses it */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t id = 0;
        assert_int_equal(parse(bad[i], &id), SES_EBAD_JSON);
        assert_int_equal(id, -1);
    }
    /* an embedded NUL byte inside the frame */
    static const char nul[] = "{\"t\":\"ping\",\"id\":1}\0";
    assert_int_equal(parse_len(nul, sizeof nul - 1, SES_MAX_FRAME, NULL), SES_EBAD_JSON);
}

static void test_parse_duplicate_keys(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "{\"t\":\"ping\",\"id\":1,\"t\":\"ping\"}",
        "{\"t\":\"ping\",\"id\":1,\"id\":2}",
        "{\"t\":\"ping\",\"id\":1,\"x\":1,\"x\":1}",
        "{\"t\":\"ping\",\"id\":1,\"x\":{\"a\":1,\"a\":2}}",
        "{\"t\":\"ping\",\"id\":1,\"x\":[{\"a\":1,\"a\":1}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(parse(bad[i], NULL), SES_EBAD_JSON);
    assert_int_equal(parse("{\"t\":\"ping\",\"id\":1,\"x\":{\"a\":1},\"y\":{\"a\":1}}", NULL), 0);
}

static void test_parse_size_limit(void **state)
{
    (void)state;
    static const size_t limits[] = {SES_MAX_PREAUTH_FRAME, SES_MAX_FRAME, 64};
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
        size_t max = limits[i];
        char *at = frame_of_len(max);
        char *over = frame_of_len(max + 1);
        int64_t id = 0;
        assert_int_equal(strlen(at), max);
        assert_int_equal(parse_len(at, max, max, &id), 0);
        assert_int_equal(id, 1);
        assert_int_equal(parse_len(over, max + 1, max, &id), SES_ETOO_LARGE);
        assert_int_equal(id, -1);
        /* the size check comes first, whatever the content */
        assert_int_equal(parse_len(over, max + 1, max + 1, &id), 0);
        memset(over, '[', max + 1);
        assert_int_equal(parse_len(over, max + 1, max, &id), SES_ETOO_LARGE);
        free(at);
        free(over);
    }
    assert_int_equal(SES_MAX_PREAUTH_FRAME, 1024);
    assert_int_equal(SES_MAX_FRAME, 262144);
}

static void test_parse_depth_limit(void **state)
{
    (void)state;
    assert_int_equal(SES_MAX_JSON_DEPTH, 16);
    static const char kinds[] = {'a', 'o', 'm'};
    for (size_t k = 0; k < sizeof kinds; k++) {
        for (int depth = 2; depth <= 20; depth++) {
            char *s = nested_frame(depth, kinds[k]);
            int64_t id = 0;
            assert_int_equal(ses_json_depth(s, strlen(s), 100), depth);
            int rc = parse(s, &id);
            if (depth <= SES_MAX_JSON_DEPTH) {
                assert_int_equal(rc, 0);
                assert_int_equal(id, 1);
            } else {
                assert_int_equal(rc, SES_ETOO_DEEP);
                assert_int_equal(id, -1); /* depth is checked before parsing */
            }
            free(s);
        }
    }
    /* depth is checked before the JSON: an unterminated bomb is TOO_DEEP, not BAD_JSON */
    char *bomb = repeat('[', 100000);
    bomb[0] = '{';
    assert_int_equal(parse(bomb, NULL), SES_ETOO_DEEP);
    free(bomb);
    /* an unterminated frame of depth 16 is just bad JSON */
    char *open16 = repeat('[', 16);
    assert_int_equal(parse(open16, NULL), SES_EBAD_JSON);
    free(open16);
}

static void test_parse_brackets_in_strings(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{\"t\":\"ping\",\"id\":1,\"s\":\"[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{\"}",
        "{\"t\":\"ping\",\"id\":1,\"s\":\"\\\"[[[[[[[[[[[[[[[[[[[[\\\"{{{{{{{{{{{{{{{{{{\"}",
        "{\"t\":\"ping\",\"id\":1,\"[[[[[[[[[[[[[[[[[[[[\":\"{{{{{{{{{{{{{{{{{{{{\"}",
        "{\"t\":\"ping\",\"id\":1,\"s\":\"\\\\\\\"[[[[[[[[[[[[[[[[[[[[\"}",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t id = 0;
        assert_int_equal(parse(ok[i], &id), 0);
        assert_int_equal(id, 1);
    }
    /* closing brackets inside a string must not lower the depth: 1 + 16 = 17 */
    char *deep = nested_frame(16, 'a');
    size_t n = strlen(deep);
    char *text = malloc(n + 128);
    assert_non_null(text);
    snprintf(text, n + 128,
             "{\"t\":\"ping\",\"id\":1,\"s\":\"]]]]]]]]]]]]]]]]]]]]}}}}}}}}}\",\"d\":%s}", deep);
    assert_int_equal(ses_json_depth(text, strlen(text), 100), 17);
    assert_int_equal(parse(text, NULL), SES_ETOO_DEEP);
    free(deep);
    free(text);
    /* an escaped backslash ends the escape: the quote after it closes the string */
    for (int d = 15; d <= 16; d++) {
        char *nest = nested_frame(d, 'o');
        text = malloc(strlen(nest) + 64);
        assert_non_null(text);
        /* {"t":"ping","id":1,"s":"x\\","d":{...d levels...}} */
        sprintf(text, "{\"t\":\"ping\",\"id\":1,\"s\":\"x\\\\\",\"d\":%s}", nest);
        assert_int_equal(ses_json_depth(text, strlen(text), 100), d + 1);
        assert_int_equal(parse(text, NULL), d + 1 <= SES_MAX_JSON_DEPTH ? 0 : SES_ETOO_DEEP);
        free(nest);
        free(text);
    }
}

/* --- ses_json_depth -------------------------------------------------------------------------- */

static int depth(const char *s)
{
    return ses_json_depth(s, strlen(s), 100);
}

/* --- the flat fast path ------------------------------------------------------------------- */

/* ses_frame_parse_flat on text: when flat, the frame ses_frame_parse gives (same id, type,
 * members in order, and the encoding want when not NULL); when not flat, out and id untouched. */
static void flat_case(const char *text, size_t max_len, bool flat, const char *want)
{
    struct ses_frame a, b, untouched;
    int64_t ida = -7, idb = -7;
    memset(&a, 0x5A, sizeof a);
    memcpy(&untouched, &a, sizeof a);
    int ra = ses_frame_parse_flat(text, strlen(text), max_len, &a, &ida);
    if (!flat) {
        assert_int_equal(ra, SES_FRAME_NOT_FLAT);
        assert_int_equal(ida, -7);
        assert_memory_equal(&a, &untouched, sizeof a);
        return;
    }
    if (ra != 0)
        fail_msg("not flat: %s", text);
    assert_int_equal(ses_frame_parse(text, strlen(text), max_len, &b, &idb), 0);
    assert_int_equal(ida, idb);
    assert_int_equal(a.id, b.id);
    assert_string_equal(a.type, b.type);
    char *ea = ses_encode(a.root), *eb = ses_encode(b.root);
    assert_string_equal(ea, eb);
    if (want != NULL)
        assert_string_equal(ea, want);
    free(ea);
    free(eb);
    ses_frame_free(&a);
    ses_frame_free(&b);
}

static void test_flat_known_answers(void **state)
{
    (void)state;
    /* flat: plain strings and integers, any JSON white space, up to 8 members */
    flat_case("{\"t\":\"ping\",\"id\":0}", SES_MAX_FRAME, true, "{\"t\":\"ping\",\"id\":0}");
    flat_case(" \t\r\n{ \"id\" :7 ,\"t\": \"ack\" ,\"thread\":\"abc\",\"delivered\":12}\n",
              SES_MAX_FRAME, true, "{\"id\":7,\"t\":\"ack\",\"thread\":\"abc\",\"delivered\":12}");
    flat_case("{\"t\":\"x\",\"id\":1,\"a\":\"\",\"b\":\" ~!#$%&'()*+,-./:;<=>?@[]^_`{|}\"}",
              SES_MAX_FRAME, true, NULL);
    flat_case("{\"t\":\"x\",\"id\":1,\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6}",
              SES_MAX_FRAME, true, NULL);                                         /* 8 members */
    flat_case("{\"t\":\"x\",\"id\":999999999999999}", SES_MAX_FRAME, true, NULL); /* 15 digits */
    flat_case("{\"t\":\"x\",\"id\":1,\"n\":0}", SES_MAX_FRAME, true, NULL);
    flat_case("{\"t\":\"0123456789abcdef0123456789abcdef\",\"id\":1}", SES_MAX_FRAME, true, NULL);
    flat_case(
        "{\"t\":\"x\",\"id\":1,\"k23456789012345678901234567890123456789012345678901234567890123"
        "\":1}",
        SES_MAX_FRAME, true, NULL);                         /* a 63-byte key */
    flat_case("{\"t\":\"ping\",\"id\":1}", 19, true, NULL); /* exactly max_len */

    /* not flat: whatever the full parser must answer (or refuse) itself */
    static const char *const not_flat[] = {
        "",
        "   ",
        "[1]",
        "\"x\"",
        "{}",
        "{\"t\":\"x\",\"id\":1,\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7}", /* 9 */
        "{\"t\":\"x\",\"id\":1000000000000000}", /* 16 digits */
        "{\"t\":\"x\",\"id\":01}",               /* leading zero */
        "{\"t\":\"x\",\"id\":-1}",
        "{\"t\":\"x\",\"id\":1.0}",
        "{\"t\":\"x\",\"id\":1e3}",
        "{\"t\":\"x\",\"id\":true}",
        "{\"t\":\"x\",\"id\":null}",
        "{\"t\":\"x\",\"id\":1,\"a\":[]}",
        "{\"t\":\"x\",\"id\":1,\"a\":{}}",
        "{\"t\":\"s\\u0065nd\",\"id\":1}", /* an escape */
        "{\"t\":\"x\",\"id\":1,\"a\":\"\\\"\"}",
        "{\"t\":\"caf\xc3\xa9\",\"id\":1}", /* not ASCII */
        "{\"t\":\"x\",\"id\":1,\"a\":\"\x01\"}",
        "{\"t\":\"x\",\"id\":1,\"a\":\"\x7f\"}",
        "{\"t\":\"x\",\"id\":1,\"t\":\"y\"}", /* a duplicate key */
        "{\"t\":\"x\",\"id\":1}x",
        "{\"t\":\"x\",\"id\":1}}",
        "{\"t\":\"x\",\"id\":1,}",
        "{\"t\":\"x\",\"id\":1",
        "{\"t\":\"x\" \"id\":1}",
        "{\"t\" \"x\",\"id\":1}",
        "{t:\"x\",\"id\":1}",
        ("{\"t\":\"x\",\"id\":1,\"k234567890123456789012345678901234567890123456789012345678901234"
         "\":1}"), /* a 64-byte key */
        "{\"t\":\"\",\"id\":1}",
        "{\"t\":\"0123456789abcdef0123456789abcdefX\",\"id\":1}", /* t of 33 bytes */
        "{\"t\":5,\"id\":1}",
        "{\"id\":1}",
        "{\"t\":\"x\"}",
        "{\"t\":\"x\",\"id\":\"1\"}",
        "\xef\xbb\xbf{\"t\":\"x\",\"id\":1}", /* a BOM */
        "{\"t\":\"x\",\"id\":1}\v",
    };
    for (size_t i = 0; i < sizeof not_flat / sizeof not_flat[0]; i++) {
        print_message("not flat: %s\n", not_flat[i]);
        flat_case(not_flat[i], SES_MAX_FRAME, false, NULL);
    }
    /* the size limit stays the full parser's to report */
    flat_case("{\"t\":\"ping\",\"id\":1}", 18, false, NULL);
    int64_t id = -7;
    struct ses_frame f;
    assert_int_equal(ses_frame_parse("{\"t\":\"ping\",\"id\":1}", 19, 18, &f, &id), SES_ETOO_LARGE);
}

static void test_json_depth(void **state)
{
    (void)state;
    assert_int_equal(depth(""), 0);
    assert_int_equal(depth("42"), 0);
    assert_int_equal(depth("\"[{\""), 0);
    assert_int_equal(depth("{}"), 1);
    assert_int_equal(depth("[][]{}"), 1);
    assert_int_equal(depth("[[]]"), 2);
    assert_int_equal(depth("[[],[[]],{}]"), 3);
    assert_int_equal(depth("{\"a\":{\"b\":[1,{\"c\":[]}]}}"), 5);
    assert_int_equal(depth("[\"[[[\"]"), 1);
    assert_int_equal(depth("[\"\\\"[[\"]"), 1);       /* ["\"[["] */
    assert_int_equal(depth("[\"\\\\\",[[]]]"), 3);    /* ["\\",[[]]] */
    assert_int_equal(depth("[\"\\\\\\\"[\",[]]"), 2); /* ["\\\"[",[]] */
    assert_int_equal(depth("]]]]{}"), 1);             /* stray closers do not go below 0 */
    /* limit: returns the depth up to the limit, limit+1 past it */
    assert_int_equal(ses_json_depth("[[[[]]]]", 8, 4), 4);
    assert_int_equal(ses_json_depth("[[[[[]]]]]", 10, 4), 5);
    assert_int_equal(ses_json_depth("[[[[[[[[[[]]]]]]]]]]", 20, 4), 5);
    assert_int_equal(ses_json_depth("{}", 2, 0), 1);
    /* len bounds the scan */
    assert_int_equal(ses_json_depth("[[[[", 2, 100), 2);
}

static void test_json_depth_huge(void **state)
{
    (void)state;
    char *s = repeat('[', 100000);
    assert_int_equal(ses_json_depth(s, 100000, SES_MAX_JSON_DEPTH), SES_MAX_JSON_DEPTH + 1);
    free(s);
    /* a million levels under a higher limit: no recursion, so no stack overflow */
    size_t n = 1000000;
    s = malloc(2 * n);
    assert_non_null(s);
    memset(s, '[', n);
    memset(s + n, ']', n);
    assert_int_equal(ses_json_depth(s, 2 * n, 2000000), 1000000);
    assert_int_equal(ses_json_depth(s, 2 * n, 999999), 1000000);
    free(s);
}

/* --- field getters --------------------------------------------------------------------------- */

static json_t *obj_with(const char *key, json_t *value)
{
    json_t *o = json_object();
    assert_non_null(o);
    if (value)
        assert_int_equal(json_object_set_new(o, key, value), 0);
    return o;
}

static void test_get_str(void **state)
{
    (void)state;
    const char *sentinel = "untouched", *out = sentinel;
    json_t *o = obj_with("k", NULL);
    assert_int_equal(ses_get_str(o, "k", 1, 4, true, &out), SES_EMISSING_FIELD);
    assert_ptr_equal(out, sentinel);
    assert_int_equal(ses_get_str(o, "k", 1, 4, false, &out), 0);
    assert_ptr_equal(out, sentinel);
    json_decref(o);

    json_t *wrong[] = {json_integer(1), json_real(1.5), json_true(),
                       json_null(),     json_array(),   json_object()};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        o = obj_with("k", wrong[i]);
        assert_int_equal(ses_get_str(o, "k", 0, 100, true, &out), SES_EBAD_FIELD);
        /* an optional field sent as null means absent */
        assert_int_equal(ses_get_str(o, "k", 0, 100, false, &out),
                         json_is_null(wrong[i]) ? 0 : SES_EBAD_FIELD);
        assert_ptr_equal(out, sentinel);
        json_decref(o);
    }

    static const struct {
        const char *s;
        int rc;
    } len[] = {{"", SES_EBAD_FIELD},
               {"a", SES_EBAD_FIELD},
               {"ab", 0},
               {"abcd", 0},
               {"abcde", SES_EBAD_FIELD}};
    for (size_t i = 0; i < sizeof len / sizeof len[0]; i++) {
        o = obj_with("k", json_string(len[i].s));
        out = sentinel;
        assert_int_equal(ses_get_str(o, "k", 2, 4, true, &out), len[i].rc);
        if (len[i].rc == 0) {
            assert_string_equal(out, len[i].s);
            assert_ptr_equal(out, json_string_value(json_object_get(o, "k"))); /* borrowed */
        } else {
            assert_ptr_equal(out, sentinel);
        }
        json_decref(o);
    }
    /* lengths are bytes: "é" is 2 */
    o = obj_with("k", json_string("\xc3\xa9"));
    assert_int_equal(ses_get_str(o, "k", 1, 1, true, &out), SES_EBAD_FIELD);
    assert_int_equal(ses_get_str(o, "k", 2, 2, true, &out), 0);
    json_decref(o);
    /* empty allowed when min is 0 */
    o = obj_with("k", json_string(""));
    assert_int_equal(ses_get_str(o, "k", 0, 4, true, &out), 0);
    assert_string_equal(out, "");
    json_decref(o);
    /* embedded NUL (jansson allows it when built in memory) */
    o = obj_with("k", json_stringn("a\0b", 3));
    out = sentinel;
    assert_int_equal(ses_get_str(o, "k", 1, 64, true, &out), SES_EBAD_FIELD);
    assert_ptr_equal(out, sentinel);
    json_decref(o);
    /* another key is not this one */
    o = obj_with("K", json_string("x"));
    assert_int_equal(ses_get_str(o, "k", 0, 4, true, &out), SES_EMISSING_FIELD);
    json_decref(o);
}

static void test_get_int(void **state)
{
    (void)state;
    int64_t out = 777;
    json_t *o = obj_with("k", NULL);
    assert_int_equal(ses_get_int(o, "k", 0, 10, true, &out), SES_EMISSING_FIELD);
    assert_int_equal(ses_get_int(o, "k", 0, 10, false, &out), 0);
    assert_int_equal(out, 777);
    json_decref(o);

    json_t *wrong[] = {json_string("1"), json_real(1.0), json_real(1.5), json_true(),
                       json_null(),      json_array(),   json_object()};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        o = obj_with("k", wrong[i]);
        assert_int_equal(ses_get_int(o, "k", -100, 100, true, &out), SES_EBAD_FIELD);
        assert_int_equal(ses_get_int(o, "k", -100, 100, false, &out),
                         json_is_null(wrong[i]) ? 0 : SES_EBAD_FIELD);
        assert_int_equal(out, 777);
        json_decref(o);
    }

    static const struct {
        int64_t v;
        int rc;
    } range[] = {{59, SES_EBAD_FIELD},
                 {60, 0},
                 {61, 0},
                 {604799, 0},
                 {604800, 0},
                 {604801, SES_EBAD_FIELD},
                 {-60, SES_EBAD_FIELD},
                 {0, SES_EBAD_FIELD}};
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++) {
        o = obj_with("k", json_integer(range[i].v));
        out = 777;
        assert_int_equal(ses_get_int(o, "k", 60, 604800, true, &out), range[i].rc);
        assert_int_equal(out, range[i].rc == 0 ? range[i].v : 777);
        json_decref(o);
    }
    /* the full int64 range */
    o = obj_with("k", json_integer(INT64_MIN));
    assert_int_equal(ses_get_int(o, "k", INT64_MIN, INT64_MAX, true, &out), 0);
    assert_true(out == INT64_MIN);
    assert_int_equal(ses_get_int(o, "k", INT64_MIN + 1, INT64_MAX, true, &out), SES_EBAD_FIELD);
    json_decref(o);
    o = obj_with("k", json_integer(INT64_MAX));
    assert_int_equal(ses_get_int(o, "k", 0, INT64_MAX, true, &out), 0);
    assert_true(out == INT64_MAX);
    assert_int_equal(ses_get_int(o, "k", 0, INT64_MAX - 1, true, &out), SES_EBAD_FIELD);
    json_decref(o);
}

static void test_get_b64(void **state)
{
    (void)state;
    uint8_t bin[33], out[32];
    char text[128];
    randombytes_buf(bin, sizeof bin);

    json_t *o = json_object();
    assert_int_equal(ses_set_b64(o, "k", bin, 32), 0);
    assert_int_equal(strlen(json_string_value(json_object_get(o, "k"))), 43);
    memset(out, 0, sizeof out);
    assert_int_equal(ses_get_b64(o, "k", out, 32), 0);
    assert_memory_equal(out, bin, 32);
    /* always required */
    assert_int_equal(ses_get_b64(o, "missing", out, 32), SES_EMISSING_FIELD);
    json_decref(o);

    /* wrong lengths: 31 and 33 bytes, and text longer than 4n. (Unlike ses_get_id, ses_get_b64
     * may leave partial output on error; the typed decoders do not, see below.) */
    for (size_t n = 31; n <= 33; n += 2) {
        o = json_object();
        assert_int_equal(ses_set_b64(o, "k", bin, n), 0);
        assert_int_equal(ses_get_b64(o, "k", out, 32), SES_EBAD_FIELD);
        json_decref(o);
    }
    char *longtext = repeat('A', 4 * 32 + 1);
    o = obj_with("k", json_string(longtext));
    assert_int_equal(ses_get_b64(o, "k", out, 32), SES_EBAD_FIELD);
    json_decref(o);
    free(longtext);

    /* bad characters, padding, non-canonical tail, NUL, wrong types */
    ses_b64_encode(text, sizeof text, bin, 32);
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    static const struct {
        size_t pos;
        char c;
    } subst[] = {{0, '+'}, {10, '/'}, {42, '='}, {5, ' '}, {20, '.'}, {42, 0}};
    for (size_t i = 0; i < sizeof subst / sizeof subst[0]; i++) {
        char t[44];
        memcpy(t, text, 44);
        if (subst[i].c == 0) /* 32 bytes leave 2 unused bits in the last character: set one */
            t[42] = alpha[(strchr(alpha, t[42]) - alpha) | 1];
        else
            t[subst[i].pos] = subst[i].c;
        o = obj_with("k", json_string(t));
        assert_int_equal(ses_get_b64(o, "k", out, 32), SES_EBAD_FIELD);
        json_decref(o);
    }
    char padded[200];
    snprintf(padded, sizeof padded, "%s=", text);
    o = obj_with("k", json_string(padded));
    assert_int_equal(ses_get_b64(o, "k", out, 32), SES_EBAD_FIELD);
    json_decref(o);
    char withnul[44];
    memcpy(withnul, text, 43);
    withnul[20] = '\0';
    o = obj_with("k", json_stringn(withnul, 43));
    assert_int_equal(ses_get_b64(o, "k", out, 32), SES_EBAD_FIELD);
    json_decref(o);
    json_t *wrong[] = {json_string(""), json_integer(0), json_null(), json_true(), json_array()};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        o = obj_with("k", wrong[i]);
        assert_int_equal(ses_get_b64(o, "k", out, 32), SES_EBAD_FIELD);
        json_decref(o);
    }
}

static void test_get_id(void **state)
{
    (void)state;
    uint8_t id[SES_ID_BYTES], out[SES_ID_BYTES], keep[SES_ID_BYTES];
    char text[SES_ID_TEXT_LEN + 1];
    bool present = false;
    randombytes_buf(id, sizeof id);
    memset(keep, 0x77, sizeof keep);

    json_t *o = json_object();
    assert_int_equal(ses_set_id(o, "k", id), 0);
    ses_id_to_text(text, id);
    assert_string_equal(json_string_value(json_object_get(o, "k")), text);
    memset(out, 0, sizeof out);
    assert_int_equal(ses_get_id(o, "k", true, out, &present), 0);
    assert_true(present);
    assert_memory_equal(out, id, sizeof id);
    memset(out, 0, sizeof out);
    assert_int_equal(ses_get_id(o, "k", false, out, NULL), 0); /* present may be NULL */
    assert_memory_equal(out, id, sizeof id);

    /* missing: required vs optional */
    present = true;
    memcpy(out, keep, sizeof out);
    assert_int_equal(ses_get_id(o, "other", true, out, &present), SES_EMISSING_FIELD);
    assert_false(present);
    present = true;
    assert_int_equal(ses_get_id(o, "other", false, out, &present), 0);
    assert_false(present);
    assert_memory_equal(out, keep, sizeof out);
    json_decref(o);

    /* upper case is the same id (base32 input is case-insensitive) */
    char upper[SES_ID_TEXT_LEN + 1];
    for (size_t k = 0; k <= SES_ID_TEXT_LEN; k++)
        upper[k] = (char)(text[k] >= 'a' && text[k] <= 'z' ? text[k] - 32 : text[k]);
    o = obj_with("k", json_string(upper));
    assert_int_equal(ses_get_id(o, "k", true, out, &present), 0);
    assert_memory_equal(out, id, sizeof id);
    json_decref(o);

    char shorter[SES_ID_TEXT_LEN], longer[SES_ID_TEXT_LEN + 2], badc[SES_ID_TEXT_LEN + 1];
    memcpy(shorter, text, SES_ID_TEXT_LEN - 1);
    shorter[SES_ID_TEXT_LEN - 1] = '\0';
    snprintf(longer, sizeof longer, "%sa", text);
    memcpy(badc, text, sizeof badc);
    badc[3] = '1';
    char *very_long = repeat('a', 65);
    json_t *bad[] = {
        json_string(shorter),
        json_string(longer),
        json_string(badc),
        json_string("77777777777777777777777777"), /* non-canonical tail */
        json_string(""),
        json_string(very_long),
        json_stringn("aaaaaaaaaaaaa\0aaaaaaaaaaaa", 26),
        json_integer(1),
        json_null(),
        json_true(),
        json_array(),
    };
    free(very_long);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = obj_with("k", bad[i]);
        memcpy(out, keep, sizeof out);
        present = true;
        assert_int_equal(ses_get_id(o, "k", true, out, &present), SES_EBAD_FIELD);
        assert_false(present);
        present = true;
        assert_int_equal(ses_get_id(o, "k", false, out, &present),
                         json_is_null(bad[i]) ? 0 : SES_EBAD_FIELD);
        assert_false(present);
        assert_memory_equal(out, keep, sizeof out);
        json_decref(o);
    }
}

/* --- ses_name_valid -------------------------------------------------------------------------- */

/* The key whitelists: names only, "t" and "id" implied for a frame's root and not for an object
 * inside it, NULL for no field. */
static void test_fields_only(void **state)
{
    (void)state;
    static const char *const keys[] = {"thread", "limit", NULL};
    static const char *const none[] = {NULL};
    json_t *o = json_loads("{\"t\":\"x\",\"id\":1}", 0, NULL);
    assert_int_equal(ses_fields_only(o, keys), 0);
    assert_int_equal(ses_fields_only(o, NULL), 0);
    assert_int_equal(ses_fields_only(o, none), 0);
    assert_int_equal(ses_object_only(o, keys), SES_EBAD_FIELD); /* "t" is not listed */
    json_decref(o);
    /* present or not, and whatever the value (null, wrong type): the getters' business */
    o = json_loads("{\"t\":\"x\",\"id\":1,\"limit\":null,\"thread\":[1]}", 0, NULL);
    assert_int_equal(ses_fields_only(o, keys), 0);
    assert_int_equal(ses_fields_only(o, NULL), SES_EBAD_FIELD);
    json_decref(o);
    /* an unknown key anywhere, a prefix, a longer name, another case, an empty key (jansson refuses
     * a key with a NUL in it before anything else sees it) */
    static const char *const bad[] = {
        "{\"zz\":1,\"t\":\"x\",\"id\":1}",     "{\"t\":\"x\",\"id\":1,\"thread\":1,\"zz\":1}",
        "{\"t\":\"x\",\"id\":1,\"thr\":1}",    "{\"t\":\"x\",\"id\":1,\"threads\":1}",
        "{\"t\":\"x\",\"id\":1,\"Thread\":1}", "{\"t\":\"x\",\"id\":1,\"\":1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        o = json_loads(bad[i], 0, NULL);
        assert_non_null(o);
        assert_int_equal(ses_fields_only(o, keys), SES_EBAD_FIELD);
        json_decref(o);
    }
    /* objects inside a frame: exactly the keys listed */
    static const char *const item[] = {"seq", "sig", NULL};
    o = json_loads("{\"seq\":1,\"sig\":\"AA\"}", 0, NULL);
    assert_int_equal(ses_object_only(o, item), 0);
    assert_int_equal(ses_object_only(o, NULL), SES_EBAD_FIELD);
    json_decref(o);
    o = json_loads("{\"seq\":1,\"id\":2}", 0, NULL);
    assert_int_equal(ses_object_only(o, item), SES_EBAD_FIELD);
    json_decref(o);
    o = json_object();
    assert_int_equal(ses_object_only(o, NULL), 0);
    json_decref(o);
}

static void test_name_valid(void **state)
{
    (void)state;
    char *s;
    assert_int_equal(SES_MAX_NAME_LEN, 64);
    assert_false(ses_name_valid(NULL));
    assert_false(ses_name_valid(""));
    assert_true(ses_name_valid("a"));
    assert_true(ses_name_valid(" "));
    s = repeat('a', 64);
    assert_true(ses_name_valid(s));
    free(s);
    s = repeat('a', 65);
    assert_false(ses_name_valid(s));
    free(s);

    /* every C0 control character and DEL, alone and inside a name */
    for (int c = 1; c < 0x20; c++) {
        char one[2] = {(char)c, 0}, mid[4] = {'a', (char)c, 'b', 0};
        assert_false(ses_name_valid(one));
        assert_false(ses_name_valid(mid));
    }
    assert_false(ses_name_valid("\x7f"));
    assert_false(ses_name_valid("Anne\x7fMartin"));
    assert_false(ses_name_valid("Anne\tMartin"));
    assert_false(ses_name_valid("Anne Martin\n"));
    assert_false(ses_name_valid("\x1b[31mred"));
    /* printable ASCII boundaries */
    assert_true(ses_name_valid("~"));
    assert_true(ses_name_valid("Anne Martin (IDE) - Lyon-3"));

    /* multi-byte UTF-8 */
    assert_true(ses_name_valid("Cl\xc3\xa9mence M\xc3\xbcller")); /* é ü */
    assert_true(ses_name_valid("\xe5\xb1\xb1\xe7\x94\xb0"));      /* 山田 */
    assert_true(ses_name_valid("\xf0\x9f\x98\x80"));              /* U+1F600 */
    assert_true(ses_name_valid("\xc2\xa0"));                      /* U+00A0 NBSP */
    assert_true(ses_name_valid("\xef\xbf\xbd"));                  /* U+FFFD */
    assert_true(ses_name_valid("\xf4\x8f\xbf\xbf"));              /* U+10FFFF */
    /* the limit is in bytes: 16 four-byte characters = 64, then one more byte */
    char buf[80] = "";
    for (int i = 0; i < 16; i++)
        strcat(buf, "\xf0\x9f\x98\x80");
    assert_int_equal(strlen(buf), 64);
    assert_true(ses_name_valid(buf));
    strcat(buf, "a");
    assert_false(ses_name_valid(buf));
    buf[0] = '\0';
    for (int i = 0; i < 21; i++)
        strcat(buf, "\xe5\xb1\xb1"); /* 63 bytes */
    assert_true(ses_name_valid(buf));
    strcat(buf, "\xc3\xa9"); /* 65 bytes */
    assert_false(ses_name_valid(buf));

    /* C1 control characters (U+0080..U+009F) are control characters too */
    assert_false(ses_name_valid("\xc2\x80"));
    assert_false(ses_name_valid("a\xc2\x85"
                                "b")); /* NEL */
    assert_false(ses_name_valid("\xc2\x9b"
                                "31m")); /* CSI */
    assert_false(ses_name_valid("\xc2\x9f"));

    /* invalid UTF-8 (ses_name_valid is also used on text that did not come through jansson) */
    static const char *const invalid[] = {
        "\xff",
        "\xfe",
        "\x80",
        "a\xbf",
        "\xc3",
        "ab\xc3",
        "\xc3\x28",
        "\xc0\xaf",
        "\xc1\xbf",
        "\xe0\x80\xaf",
        "\xe0\x9f\xbf",
        "\xed\xa0\x80",
        "\xed\xbf\xbf",
        "\xe5\xb1",
        "\xf0\x8f\xbf\xbf",
        "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80",
        "\xf8\x88\x80\x80\x80",
        "\xf0\x9f\x98",
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++)
        assert_false(ses_name_valid(invalid[i]));
}

/* --- typed decoders: shared machinery -------------------------------------------------------- */

typedef int (*decode_fn)(const json_t *obj);

/* Each wrapper runs the decoder on a poisoned output and checks it is untouched on failure. */
static int dec_enroll(const json_t *obj)
{
    struct ses_enroll_req r, before;
    memset(&r, 0xA5, sizeof r);
    memcpy(&before, &r, sizeof r);
    int rc = ses_decode_enroll(obj, &r);
    if (rc != 0)
        assert_memory_equal(&r, &before, sizeof r);
    return rc;
}

static int dec_auth(const json_t *obj)
{
    struct ses_auth_req r, before;
    memset(&r, 0xA5, sizeof r);
    memcpy(&before, &r, sizeof r);
    int rc = ses_decode_auth(obj, &r);
    if (rc != 0)
        assert_memory_equal(&r, &before, sizeof r);
    return rc;
}

static int dec_invite(const json_t *obj)
{
    struct ses_invite_req r, before;
    memset(&r, 0xA5, sizeof r);
    memcpy(&before, &r, sizeof r);
    int rc = ses_decode_invite(obj, &r);
    if (rc != 0)
        assert_memory_equal(&r, &before, sizeof r);
    return rc;
}

static int dec_revoke(const json_t *obj)
{
    struct ses_revoke_req r, before;
    memset(&r, 0xA5, sizeof r);
    memcpy(&before, &r, sizeof r);
    int rc = ses_decode_revoke(obj, &r);
    if (rc != 0)
        assert_memory_equal(&r, &before, sizeof r);
    return rc;
}

/* Decodes base with obj[key] replaced by value (deleted if value is NULL); returns the error. */
static int with_field(decode_fn dec, const json_t *base, const char *key, json_t *value)
{
    json_t *o = json_deep_copy(base);
    assert_non_null(o);
    if (value == NULL)
        assert_int_equal(json_object_del(o, key), 0);
    else
        assert_int_equal(json_object_set_new(o, key, value), 0);
    int rc = dec(o);
    json_decref(o);
    return rc;
}

/* A base64url string of n random bytes. */
static json_t *b64_of(size_t n)
{
    uint8_t b[128];
    char t[200];
    randombytes_buf(b, n);
    assert_int_equal(ses_b64_encode(t, sizeof t, b, n), 0);
    return json_string(t);
}

/* Checks the type/length errors common to every base64 field of n bytes. */
static void check_b64_field(decode_fn dec, const json_t *base, const char *key, size_t n)
{
    assert_int_equal(with_field(dec, base, key, NULL), SES_EMISSING_FIELD);
    assert_int_equal(with_field(dec, base, key, b64_of(n)), 0);
    assert_int_equal(with_field(dec, base, key, b64_of(n - 1)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, key, b64_of(n + 1)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, key, json_string("")), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, key, json_integer(0)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, key, json_null()), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, key, json_array()), SES_EBAD_FIELD);
    /* standard base64 of the same bytes uses + and / (here forced into the text) */
    json_t *v = b64_of(n);
    char t[200];
    snprintf(t, sizeof t, "%s", json_string_value(v));
    json_decref(v);
    t[0] = '+';
    assert_int_equal(with_field(dec, base, key, json_string(t)), SES_EBAD_FIELD);
}

/* Checks the errors common to every id field. */
static void check_id_field(decode_fn dec, const json_t *base, const char *key, int missing_rc)
{
    uint8_t id[SES_ID_BYTES];
    char text[SES_ID_TEXT_LEN + 1];
    randombytes_buf(id, sizeof id);
    ses_id_to_text(text, id);
    assert_int_equal(with_field(dec, base, key, NULL), missing_rc);
    text[SES_ID_TEXT_LEN - 1] = '\0';
    assert_int_equal(with_field(dec, base, key, json_string(text)), SES_EBAD_FIELD); /* 25 */
    assert_int_equal(with_field(dec, base, key, json_string("aaaaaaaaaaaaaaaaaaaaaaaaaaa")),
                     SES_EBAD_FIELD); /* 27 */
    assert_int_equal(with_field(dec, base, key, json_string("aaaaaaaaaaaaaaaaaaaaaaaaa1")),
                     SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, key, json_string("")), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, key, json_integer(1)), SES_EBAD_FIELD);
    /* null: a required id (auth's device) is a bad field; an optional one is absent */
    assert_int_equal(with_field(dec, base, key, json_null()),
                     dec == dec_auth ? SES_EBAD_FIELD : missing_rc);
    assert_int_equal(with_field(dec, base, key, json_object()), SES_EBAD_FIELD);
}

/* Checks a timestamp field: required, integer, 0..INT64_MAX. */
static void check_ts_field(decode_fn dec, const json_t *base)
{
    assert_int_equal(with_field(dec, base, "ts", NULL), SES_EMISSING_FIELD);
    assert_int_equal(with_field(dec, base, "ts", json_integer(0)), 0);
    assert_int_equal(with_field(dec, base, "ts", json_integer(INT64_MAX)), 0);
    assert_int_equal(with_field(dec, base, "ts", json_integer(-1)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, "ts", json_real(1.0)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, "ts", json_real(1767225600123.5)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, "ts", json_string("1767225600123")), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, "ts", json_null()), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, "ts", json_true()), SES_EBAD_FIELD);
}

/* Unknown keys are refused; "t" and "id" are not the decoder's business. */
static void check_unknown_keys(decode_fn dec, const json_t *base)
{
    assert_int_equal(with_field(dec, base, "extra", json_integer(1)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, "Extra", json_null()), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, "", json_string("")), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec, base, "t", NULL), 0);
    assert_int_equal(with_field(dec, base, "id", NULL), 0);
}

static void set_str(json_t *o, const char *key, const char *value)
{
    assert_int_equal(json_object_set_new(o, key, json_string(value)), 0);
}

static void set_int(json_t *o, const char *key, json_int_t value)
{
    assert_int_equal(json_object_set_new(o, key, json_integer(value)), 0);
}

/* --- enroll ---------------------------------------------------------------------------------- */

struct enroll_fix {
    uint8_t ticket[SES_CODE_TICKET_BYTES], secret[SES_CODE_SECRET_BYTES];
    uint8_t sign_pk[32], box_pk[32], sig[64];
    int64_t ts;
};

static json_t *enroll_obj(struct enroll_fix *f, const char *device_name)
{
    char code[SES_CODE_TEXT_LEN + 1];
    randombytes_buf(f->ticket, sizeof f->ticket);
    randombytes_buf(f->secret, sizeof f->secret);
    randombytes_buf(f->sign_pk, sizeof f->sign_pk);
    randombytes_buf(f->box_pk, sizeof f->box_pk);
    randombytes_buf(f->sig, sizeof f->sig);
    f->ts = 1767225600123LL;
    ses_code_format(code, f->ticket, f->secret);
    json_t *o = json_object();
    set_str(o, "t", "enroll");
    set_int(o, "id", 1);
    set_str(o, "code", code);
    assert_int_equal(ses_set_b64(o, "sign_pk", f->sign_pk, 32), 0);
    assert_int_equal(ses_set_b64(o, "box_pk", f->box_pk, 32), 0);
    set_int(o, "ts", f->ts);
    assert_int_equal(ses_set_b64(o, "sig", f->sig, 64), 0);
    if (device_name)
        set_str(o, "device_name", device_name);
    return o;
}

static void test_enroll_round_trip(void **state)
{
    (void)state;
    struct enroll_fix f;
    struct ses_enroll_req r;
    json_t *o = enroll_obj(&f, "practice PC");
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(ses_decode_enroll(o, &r), 0);
    assert_memory_equal(r.ticket, f.ticket, sizeof f.ticket);
    assert_memory_equal(r.secret, f.secret, sizeof f.secret);
    assert_memory_equal(r.sign_pk, f.sign_pk, 32);
    assert_memory_equal(r.box_pk, f.box_pk, 32);
    assert_memory_equal(r.sig, f.sig, 64);
    assert_true(r.ts_ms == (uint64_t)f.ts);
    assert_string_equal(r.device_name, "practice PC");
    assert_ptr_equal(r.device_name, json_string_value(json_object_get(o, "device_name")));
    json_decref(o);

    /* device_name is optional */
    o = enroll_obj(&f, NULL);
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(ses_decode_enroll(o, &r), 0);
    assert_null(r.device_name);
    assert_memory_equal(r.secret, f.secret, sizeof f.secret);

    /* through the wire text and ses_frame_parse too */
    char *text = ses_encode(o);
    struct ses_frame fr;
    int64_t id;
    assert_non_null(text);
    assert_true(strlen(text) <= SES_MAX_PREAUTH_FRAME);
    assert_int_equal(ses_frame_parse(text, strlen(text), SES_MAX_PREAUTH_FRAME, &fr, &id), 0);
    assert_string_equal(fr.type, "enroll");
    memset(&r, 0, sizeof r);
    assert_int_equal(ses_decode_enroll(fr.root, &r), 0);
    assert_memory_equal(r.ticket, f.ticket, sizeof f.ticket);
    assert_memory_equal(r.secret, f.secret, sizeof f.secret);
    assert_memory_equal(r.sig, f.sig, 64);
    ses_frame_free(&fr);
    free(text);
    json_decref(o);
}

static void test_enroll_fields(void **state)
{
    (void)state;
    struct enroll_fix f;
    json_t *base = enroll_obj(&f, "practice PC");
    assert_int_equal(dec_enroll(base), 0);

    check_b64_field(dec_enroll, base, "sign_pk", 32);
    check_b64_field(dec_enroll, base, "box_pk", 32);
    check_b64_field(dec_enroll, base, "sig", 64);
    check_ts_field(dec_enroll, base);
    check_unknown_keys(dec_enroll, base);
    assert_int_equal(with_field(dec_enroll, base, "device", json_string("x")), SES_EBAD_FIELD);

    /* code */
    assert_int_equal(with_field(dec_enroll, base, "code", NULL), SES_EMISSING_FIELD);
    assert_int_equal(with_field(dec_enroll, base, "code", json_integer(1)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_enroll, base, "code", json_null()), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_enroll, base, "code", json_string("")), SES_EBAD_FIELD);
    char *s65 = repeat('A', 65), *s64 = repeat('A', 64);
    assert_int_equal(with_field(dec_enroll, base, "code", json_string(s65)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_enroll, base, "code", json_string(s64)), SES_ECODE_INVALID);
    free(s65);
    free(s64);
    static const char *const bad_codes[] = {
        "A",
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAA1",
        "AAAAAAAA-AAAAAAAAAAAAAAAAAAAAAAAAAB",
        "AAAAAAAA--AAAAAAAAAAAAAAAAAAAAAAAAAA",
        "AAAAAAAA AAAAAAAAAAAAAAAAAAAAAAAAAA",
    };
    for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++)
        assert_int_equal(with_field(dec_enroll, base, "code", json_string(bad_codes[i])),
                         SES_ECODE_INVALID);
    /* lower case and no dash are the same code */
    char code[SES_CODE_TEXT_LEN + 1], lower[SES_CODE_TEXT_LEN + 1], nodash[SES_CODE_TEXT_LEN];
    ses_code_format(code, f.ticket, f.secret);
    for (size_t k = 0; k <= SES_CODE_TEXT_LEN; k++)
        lower[k] = (char)(code[k] >= 'A' && code[k] <= 'Z' ? code[k] + 32 : code[k]);
    memcpy(nodash, code, 8);
    memcpy(nodash + 8, code + 9, 27);
    const char *variants[2];
    variants[0] = lower;
    variants[1] = nodash;
    for (int i = 0; i < 2; i++) {
        json_t *o = json_deep_copy(base);
        struct ses_enroll_req r;
        set_str(o, "code", variants[i]);
        assert_int_equal(ses_decode_enroll(o, &r), 0);
        assert_memory_equal(r.ticket, f.ticket, sizeof f.ticket);
        assert_memory_equal(r.secret, f.secret, sizeof f.secret);
        json_decref(o);
    }

    /* device_name: optional, 1..64 bytes of UTF-8 without control characters */
    char *n64 = repeat('n', 64), *n65 = repeat('n', 65);
    assert_int_equal(with_field(dec_enroll, base, "device_name", NULL), 0);
    assert_int_equal(with_field(dec_enroll, base, "device_name", json_string(n64)), 0);
    assert_int_equal(with_field(dec_enroll, base, "device_name", json_string("\xc3\xa9")), 0);
    assert_int_equal(with_field(dec_enroll, base, "device_name", json_string(n65)), SES_EBAD_FIELD);
    free(n64);
    free(n65);
    assert_int_equal(with_field(dec_enroll, base, "device_name", json_string("")), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_enroll, base, "device_name", json_string("a\nb")),
                     SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_enroll, base, "device_name", json_string("a\x7f")),
                     SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_enroll, base, "device_name", json_stringn("a\0b", 3)),
                     SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_enroll, base, "device_name", json_integer(1)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_enroll, base, "device_name", json_null()), 0); /* = absent */
    json_decref(base);
}

/* --- auth ------------------------------------------------------------------------------------ */

struct auth_fix {
    uint8_t device[SES_ID_BYTES], snonce[32], cnonce[32], sig[64];
    int64_t ts;
};

static json_t *auth_obj(struct auth_fix *f)
{
    randombytes_buf(f, sizeof *f);
    f->ts = 1767225600123LL;
    json_t *o = json_object();
    set_str(o, "t", "auth");
    set_int(o, "id", 1);
    assert_int_equal(ses_set_id(o, "device", f->device), 0);
    assert_int_equal(ses_set_b64(o, "snonce", f->snonce, 32), 0);
    assert_int_equal(ses_set_b64(o, "cnonce", f->cnonce, 32), 0);
    set_int(o, "ts", f->ts);
    assert_int_equal(ses_set_b64(o, "sig", f->sig, 64), 0);
    return o;
}

static void test_auth_round_trip(void **state)
{
    (void)state;
    struct auth_fix f;
    struct ses_auth_req r;
    json_t *o = auth_obj(&f);
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(ses_decode_auth(o, &r), 0);
    assert_memory_equal(r.device_id, f.device, sizeof f.device);
    assert_memory_equal(r.snonce, f.snonce, 32);
    assert_memory_equal(r.cnonce, f.cnonce, 32);
    assert_memory_equal(r.sig, f.sig, 64);
    assert_true(r.ts_ms == (uint64_t)f.ts);
    /* the wire text fits the pre-login limit */
    char *text = ses_encode(o);
    assert_non_null(text);
    assert_true(strlen(text) <= SES_MAX_PREAUTH_FRAME);
    free(text);
    json_decref(o);
}

static void test_auth_fields(void **state)
{
    (void)state;
    struct auth_fix f;
    json_t *base = auth_obj(&f);
    assert_int_equal(dec_auth(base), 0);
    check_id_field(dec_auth, base, "device", SES_EMISSING_FIELD);
    check_b64_field(dec_auth, base, "snonce", 32);
    check_b64_field(dec_auth, base, "cnonce", 32);
    check_b64_field(dec_auth, base, "sig", 64);
    check_ts_field(dec_auth, base);
    check_unknown_keys(dec_auth, base);
    assert_int_equal(with_field(dec_auth, base, "code", json_string("x")), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_auth, base, "user", json_string("x")), SES_EBAD_FIELD);
    json_decref(base);
}

/* --- invite ---------------------------------------------------------------------------------- */

static json_t *invite_obj(const char *role, const char *name, const char *site, int64_t ttl)
{
    json_t *o = json_object();
    set_str(o, "t", "invite");
    set_int(o, "id", 5);
    if (role)
        set_str(o, "role", role);
    if (name)
        set_str(o, "name", name);
    if (site)
        set_str(o, "site", site);
    if (ttl >= 0)
        set_int(o, "ttl", ttl);
    return o;
}

static void test_invite_round_trip(void **state)
{
    (void)state;
    struct ses_invite_req r;
    json_t *o = invite_obj("nurse", "Anne Martin", "Lyon-3", 3600);
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(ses_decode_invite(o, &r), 0);
    assert_false(r.for_user);
    assert_int_equal(r.role, SES_ROLE_NURSE);
    assert_string_equal(r.name, "Anne Martin");
    assert_ptr_equal(r.name, json_string_value(json_object_get(o, "name")));
    assert_string_equal(r.site, "Lyon-3");
    assert_ptr_equal(r.site, json_string_value(json_object_get(o, "site")));
    assert_int_equal(r.ttl_s, 3600);
    json_decref(o);

    /* site and ttl optional */
    o = invite_obj("admin", "Dr B", NULL, -1);
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(ses_decode_invite(o, &r), 0);
    assert_false(r.for_user);
    assert_int_equal(r.role, SES_ROLE_ADMIN);
    assert_string_equal(r.name, "Dr B");
    assert_null(r.site);
    assert_int_equal(r.ttl_s, SES_CODE_TTL_DEFAULT_S);
    assert_int_equal(SES_CODE_TTL_DEFAULT_S, 86400);
    json_decref(o);

    /* another device for an existing user */
    uint8_t user[SES_ID_BYTES];
    randombytes_buf(user, sizeof user);
    o = invite_obj(NULL, NULL, NULL, 60);
    assert_int_equal(ses_set_id(o, "user", user), 0);
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(ses_decode_invite(o, &r), 0);
    assert_true(r.for_user);
    assert_memory_equal(r.user_id, user, sizeof user);
    assert_int_equal(r.ttl_s, 60);
    json_decref(o);
    o = invite_obj(NULL, NULL, NULL, -1);
    assert_int_equal(ses_set_id(o, "user", user), 0);
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(ses_decode_invite(o, &r), 0);
    assert_true(r.for_user);
    assert_memory_equal(r.user_id, user, sizeof user);
    assert_int_equal(r.ttl_s, SES_CODE_TTL_DEFAULT_S);
    json_decref(o);
}

static void test_invite_roles(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum ses_role role;
    } roles[] = {{"admin", SES_ROLE_ADMIN},
                 {"nurse", SES_ROLE_NURSE},
                 {"psychiatrist", SES_ROLE_PSYCHIATRIST},
                 {"gp", SES_ROLE_GP},
                 {"auditor", SES_ROLE_AUDITOR}};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        struct ses_invite_req r;
        json_t *o = invite_obj(roles[i].name, "Name", NULL, -1);
        memset(&r, 0, sizeof r);
        assert_int_equal(ses_decode_invite(o, &r), 0);
        assert_int_equal(r.role, roles[i].role);
        json_decref(o);
    }
    static const char *const bad[] = {"root", "none", "Admin", "ADMIN", "admin ", "", "gp\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        json_t *o = invite_obj(bad[i], "Name", NULL, -1);
        assert_int_equal(dec_invite(o), SES_EBAD_FIELD);
        json_decref(o);
    }
    json_t *base = invite_obj("gp", "Name", "Site", 600);
    assert_int_equal(with_field(dec_invite, base, "role", NULL), SES_EMISSING_FIELD);
    assert_int_equal(with_field(dec_invite, base, "role", json_integer(1)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_invite, base, "role", json_null()), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_invite, base, "role", json_stringn("gp\0x", 4)),
                     SES_EBAD_FIELD);
    json_decref(base);
}

static void test_invite_fields(void **state)
{
    (void)state;
    json_t *base = invite_obj("psychiatrist", "Name", "Site", 600);
    assert_int_equal(dec_invite(base), 0);
    check_unknown_keys(dec_invite, base);
    assert_int_equal(with_field(dec_invite, base, "device", json_string("x")), SES_EBAD_FIELD);

    /* ttl: 60..604800 seconds */
    assert_int_equal(SES_CODE_TTL_MAX_S, 604800);
    static const struct {
        int64_t ttl;
        int rc;
    } ttl[] = {{59, SES_EBAD_FIELD},
               {60, 0},
               {604800, 0},
               {604801, SES_EBAD_FIELD},
               {0, SES_EBAD_FIELD},
               {-1, SES_EBAD_FIELD},
               {INT64_MAX, SES_EBAD_FIELD}};
    for (size_t i = 0; i < sizeof ttl / sizeof ttl[0]; i++) {
        struct ses_invite_req r;
        json_t *o = json_deep_copy(base);
        set_int(o, "ttl", ttl[i].ttl);
        memset(&r, 0, sizeof r);
        assert_int_equal(dec_invite(o), ttl[i].rc);
        if (ttl[i].rc == 0) {
            assert_int_equal(ses_decode_invite(o, &r), 0);
            assert_int_equal(r.ttl_s, ttl[i].ttl);
        }
        json_decref(o);
    }
    assert_int_equal(with_field(dec_invite, base, "ttl", json_string("600")), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_invite, base, "ttl", json_real(600.0)), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_invite, base, "ttl", json_null()), 0); /* = absent */

    /* name: required; site: optional; both 1..64 bytes, no control characters */
    assert_int_equal(with_field(dec_invite, base, "name", NULL), SES_EMISSING_FIELD);
    assert_int_equal(with_field(dec_invite, base, "site", NULL), 0);
    static const char *const fields[] = {"name", "site"};
    char *s64 = repeat('s', 64), *s65 = repeat('s', 65);
    for (size_t i = 0; i < 2; i++) {
        const char *k = fields[i];
        assert_int_equal(with_field(dec_invite, base, k, json_string(s64)), 0);
        assert_int_equal(with_field(dec_invite, base, k, json_string("\xe5\xb1\xb1")), 0);
        assert_int_equal(with_field(dec_invite, base, k, json_string(s65)), SES_EBAD_FIELD);
        assert_int_equal(with_field(dec_invite, base, k, json_string("")), SES_EBAD_FIELD);
        assert_int_equal(with_field(dec_invite, base, k, json_string("a\tb")), SES_EBAD_FIELD);
        assert_int_equal(with_field(dec_invite, base, k, json_string("\x7f")), SES_EBAD_FIELD);
        assert_int_equal(with_field(dec_invite, base, k, json_string("a\xc2\x85")), SES_EBAD_FIELD);
        assert_int_equal(with_field(dec_invite, base, k, json_stringn("a\0b", 3)), SES_EBAD_FIELD);
        assert_int_equal(with_field(dec_invite, base, k, json_integer(1)), SES_EBAD_FIELD);
        /* null: the required name is a bad field; the optional site is absent */
        assert_int_equal(with_field(dec_invite, base, k, json_null()),
                         strcmp(k, "site") == 0 ? 0 : SES_EBAD_FIELD);
        /* invisible / bidi-override characters can disguise a name */
        assert_int_equal(with_field(dec_invite, base, k, json_string("Dr\xe2\x80\xaeX")),
                         SES_EBAD_FIELD); /* U+202E */
        assert_int_equal(with_field(dec_invite, base, k,
                                    json_string("A\xe2\x80\x8b"
                                                "B")),
                         SES_EBAD_FIELD); /* U+200B */
        assert_int_equal(with_field(dec_invite, base, k,
                                    json_string("A\xe2\x81\xa6"
                                                "B")),
                         SES_EBAD_FIELD); /* U+2066 */
        assert_int_equal(with_field(dec_invite, base, k,
                                    json_string("A\xe2\x80\x94"
                                                "B")),
                         0); /* an em dash is fine */
    }
    free(s64);
    free(s65);
    json_decref(base);

    /* the user form: no role, name or site with it */
    uint8_t user[SES_ID_BYTES];
    randombytes_buf(user, sizeof user);
    json_t *ubase = invite_obj(NULL, NULL, NULL, 600);
    assert_int_equal(ses_set_id(ubase, "user", user), 0);
    assert_int_equal(dec_invite(ubase), 0);
    assert_int_equal(with_field(dec_invite, ubase, "role", json_string("nurse")), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_invite, ubase, "name", json_string("Name")), SES_EBAD_FIELD);
    assert_int_equal(with_field(dec_invite, ubase, "site", json_string("Site")), SES_EBAD_FIELD);
    check_id_field(dec_invite, ubase, "user", SES_EMISSING_FIELD); /* absent: role required */
    check_unknown_keys(dec_invite, ubase);
    json_decref(ubase);
    /* role + name + user */
    json_t *both = invite_obj("nurse", "Name", NULL, -1);
    assert_int_equal(ses_set_id(both, "user", user), 0);
    assert_int_equal(dec_invite(both), SES_EBAD_FIELD);
    json_decref(both);
    /* nothing at all */
    json_t *empty = invite_obj(NULL, NULL, NULL, -1);
    assert_int_equal(dec_invite(empty), SES_EMISSING_FIELD);
    json_decref(empty);
}

/* --- revoke ---------------------------------------------------------------------------------- */

static void test_revoke(void **state)
{
    (void)state;
    uint8_t dev[SES_ID_BYTES], user[SES_ID_BYTES];
    struct ses_revoke_req r;
    randombytes_buf(dev, sizeof dev);
    randombytes_buf(user, sizeof user);

    json_t *d = json_object();
    set_str(d, "t", "revoke");
    set_int(d, "id", 9);
    assert_int_equal(ses_set_id(d, "device", dev), 0);
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(ses_decode_revoke(d, &r), 0);
    assert_false(r.is_user);
    assert_memory_equal(r.target, dev, sizeof dev);

    json_t *u = json_object();
    set_str(u, "t", "revoke");
    set_int(u, "id", 9);
    assert_int_equal(ses_set_id(u, "user", user), 0);
    memset(&r, 0xA5, sizeof r);
    assert_int_equal(ses_decode_revoke(u, &r), 0);
    assert_true(r.is_user);
    assert_memory_equal(r.target, user, sizeof user);

    /* neither, both */
    assert_int_equal(with_field(dec_revoke, d, "device", NULL), SES_EMISSING_FIELD);
    json_t *b = json_deep_copy(d);
    assert_int_equal(ses_set_id(b, "user", user), 0);
    assert_int_equal(dec_revoke(b), SES_EBAD_FIELD);
    json_decref(b);

    check_id_field(dec_revoke, d, "device", SES_EMISSING_FIELD);
    check_id_field(dec_revoke, u, "user", SES_EMISSING_FIELD);
    check_unknown_keys(dec_revoke, d);
    check_unknown_keys(dec_revoke, u);
    assert_int_equal(with_field(dec_revoke, d, "reason", json_string("left")), SES_EBAD_FIELD);
    json_decref(d);
    json_decref(u);
}

/* --- replies --------------------------------------------------------------------------------- */

static void check_error_reply(int64_t id, int err, const char *msg, const char *want_text)
{
    char *s = ses_encode_error(id, err, msg);
    assert_non_null(s);
    assert_string_equal(s, want_text);
    json_error_t jerr;
    json_t *o = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
    assert_non_null(o);
    assert_int_equal(json_object_size(o), id >= 0 ? 5 : 4);
    assert_string_equal(json_string_value(json_object_get(o, "t")), "error");
    if (id >= 0) {
        assert_true(json_is_integer(json_object_get(o, "id")));
        assert_true(json_integer_value(json_object_get(o, "id")) == id);
    } else {
        assert_null(json_object_get(o, "id"));
    }
    assert_string_equal(json_string_value(json_object_get(o, "code")), ses_err_name(err));
    assert_true(json_is_integer(json_object_get(o, "num")));
    assert_int_equal(json_integer_value(json_object_get(o, "num")), err);
    assert_string_equal(json_string_value(json_object_get(o, "msg")), msg ? msg : ses_err_msg(err));
    json_decref(o);
    free(s);
}

static void test_encode_error(void **state)
{
    (void)state;
    check_error_reply(7, SES_EBAD_FIELD, NULL,
                      "{\"t\":\"error\",\"id\":7,\"code\":\"BAD_FIELD\",\"num\":-4,"
                      "\"msg\":\"a field has the wrong type or is out of range\"}");
    check_error_reply(0, SES_EBAD_JSON, NULL,
                      "{\"t\":\"error\",\"id\":0,\"code\":\"BAD_JSON\",\"num\":-1,"
                      "\"msg\":\"frame is not valid JSON\"}");
    check_error_reply(-1, SES_EBAD_JSON, NULL,
                      "{\"t\":\"error\",\"code\":\"BAD_JSON\",\"num\":-1,"
                      "\"msg\":\"frame is not valid JSON\"}");
    check_error_reply(-5, SES_ETOO_LARGE, NULL,
                      "{\"t\":\"error\",\"code\":\"TOO_LARGE\",\"num\":-6,"
                      "\"msg\":\"frame exceeds the size limit\"}");
    check_error_reply(SES_REQUEST_ID_MAX, SES_EDENIED, "admins only",
                      "{\"t\":\"error\",\"id\":9007199254740991,\"code\":\"DENIED\",\"num\":-18,"
                      "\"msg\":\"admins only\"}");
    check_error_reply(3, SES_EINVALID_ARG, "quote \" and \\ and \xc3\xa9",
                      "{\"t\":\"error\",\"id\":3,\"code\":\"INVALID_ARG\",\"num\":-28,"
                      "\"msg\":\"quote \\\" and \\\\ and \xc3\xa9\"}");
    check_error_reply(4, -999, NULL,
                      "{\"t\":\"error\",\"id\":4,\"code\":\"UNKNOWN\",\"num\":-999,"
                      "\"msg\":\"unknown error\"}");
    /* every table entry */
#define XX(name, num, msg)                                                                         \
    {                                                                                              \
        char *s = ses_encode_error(1, num, NULL);                                                  \
        char want[256];                                                                            \
        snprintf(want, sizeof want,                                                                \
                 "{\"t\":\"error\",\"id\":1,\"code\":\"%s\",\"num\":%d,"                           \
                 "\"msg\":%s}",                                                                    \
                 #name, num, #msg);                                                                \
        assert_non_null(s);                                                                        \
        assert_string_equal(s, want);                                                              \
        free(s);                                                                                   \
    }
    SES_ERR_MAP(XX)
#undef XX
}

static void test_encode_and_set(void **state)
{
    (void)state;
    json_t *o = json_object();
    set_str(o, "t", "pong");
    set_int(o, "id", 5);
    set_int(o, "time", 1767225600123LL);
    uint8_t id[SES_ID_BYTES] = {0};
    assert_int_equal(ses_set_id(o, "user", id), 0);
    const uint8_t foo[3] = {'f', 'o', 'o'};
    assert_int_equal(ses_set_b64(o, "k", foo, 3), 0);
    assert_int_equal(ses_set_b64(o, "e", foo, 0), 0);
    char *s = ses_encode(o);
    assert_non_null(s);
    assert_string_equal(s, "{\"t\":\"pong\",\"id\":5,\"time\":1767225600123,"
                           "\"user\":\"aaaaaaaaaaaaaaaaaaaaaaaaaa\",\"k\":\"Zm9v\",\"e\":\"\"}");
    free(s);
    /* ses_set_b64 replaces an existing key */
    assert_int_equal(ses_set_b64(o, "k", foo, 1), 0);
    assert_string_equal(json_string_value(json_object_get(o, "k")), "Zg");
    /* the encoder's buffer: 383 bytes fit (511 characters), 384 do not */
    uint8_t big[400];
    memset(big, 0xff, sizeof big);
    assert_int_equal(ses_set_b64(o, "big", big, 383), 0);
    assert_int_equal(strlen(json_string_value(json_object_get(o, "big"))), 511);
    assert_int_equal(ses_set_b64(o, "big2", big, 384), SES_EINVALID_ARG);
    assert_null(json_object_get(o, "big2"));
    json_decref(o);
}

/* The "msg" push, for reference built with json_pack and libsodium's base64url. */
static json_t *msg_ref(const struct ses_msg_wire *m)
{
    char th[SES_ID_TEXT_LEN + 1], se[SES_ID_TEXT_LEN + 1], de[SES_ID_TEXT_LEN + 1];
    size_t cap = sodium_base64_ENCODED_LEN(m->env_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    char *b64 = malloc(cap);
    assert_non_null(b64);
    sodium_bin2base64(b64, cap, m->env, m->env_len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    ses_id_to_text(th, m->thread);
    ses_id_to_text(se, m->sender);
    ses_id_to_text(de, m->device);
    json_t *o =
        json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:s}", "t", "msg", "seq", (json_int_t)m->seq,
                  "ts", (json_int_t)m->ts_ms, "thread", th, "sender", se, "device", de, "env", b64);
    free(b64);
    assert_non_null(o);
    return o;
}

/* ses_encode_msg and ses_msg_json give, byte for byte, jansson's encoding of the same object. */
static void test_encode_msg(void **state)
{
    (void)state;
    static const int64_t nums[] = {0, 1, 9, 10, 1767225600123LL, INT64_MAX, -1, INT64_MIN};
    uint8_t ids[3][SES_ID_BYTES], *env = malloc(SES_ENVELOPE_MAX);
    assert_non_null(env);
    randombytes_buf(env, SES_ENVELOPE_MAX);
    for (int round = 0; round < 400; round++) {
        randombytes_buf(ids, sizeof ids);
        struct ses_msg_wire m = {
            .seq = nums[round % 8],
            .ts_ms = nums[(round / 8) % 8],
            .thread = ids[0],
            .sender = ids[1],
            .device = ids[2],
            .env = env,
            .env_len = round < 300 ? (size_t)round : randombytes_uniform(SES_ENVELOPE_MAX + 1),
        };
        if (round == 399)
            m.env_len = SES_ENVELOPE_MAX;
        json_t *ref = msg_ref(&m), *o = ses_msg_json(&m);
        assert_non_null(o);
        char *want = ses_encode(ref), *got_json = ses_encode(o);
        size_t len = 0;
        char *got = ses_encode_msg(&m, &len);
        assert_non_null(got);
        assert_int_equal(len, strlen(want));
        assert_string_equal(got, want);
        assert_string_equal(got_json, want);
        free(want);
        free(got_json);
        free(got);
        json_decref(ref);
        json_decref(o);
    }
    free(env);
}

/* ses_encode_sent gives, byte for byte, jansson's encoding of the same object; a buffer too small
 * gives 0. */
static void test_encode_sent(void **state)
{
    (void)state;
    static const int64_t ids[] = {0, 1, 12, SES_REQUEST_ID_MAX};
    static const int64_t seqs[] = {1, 10, 1767225600123LL, INT64_MAX, 0, -1, INT64_MIN};
    for (size_t i = 0; i < 4; i++) {
        for (size_t k = 0; k < 7; k++) {
            for (int dup = 0; dup < 2; dup++) {
                uint8_t thread[SES_ID_BYTES], msg_id[16];
                char th[SES_ID_TEXT_LEN + 1], mid[32], text[SES_SENT_TEXT_MAX];
                randombytes_buf(thread, sizeof thread);
                randombytes_buf(msg_id, sizeof msg_id);
                ses_id_to_text(th, thread);
                sodium_bin2base64(mid, sizeof mid, msg_id, 16,
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
                json_t *ref = json_pack("{s:s, s:I, s:I, s:b, s:s, s:s}", "t", "sent", "id",
                                        (json_int_t)ids[i], "seq", (json_int_t)seqs[k], "duplicate",
                                        dup, "thread", th, "msg_id", mid);
                char *want = ses_encode(ref);
                size_t n = ses_encode_sent(text, sizeof text, ids[i], seqs[k], dup, thread, msg_id);
                assert_int_equal(n, strlen(want));
                assert_string_equal(text, want);
                /* exactly the room for the text and its NUL, and one byte less */
                assert_int_equal(ses_encode_sent(text, n + 1, ids[i], seqs[k], dup, thread, msg_id),
                                 n);
                assert_int_equal(ses_encode_sent(text, n, ids[i], seqs[k], dup, thread, msg_id), 0);
                free(want);
                json_decref(ref);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_minimal),
        cmocka_unit_test(test_parse_uses_len_only),
        cmocka_unit_test(test_parse_id_range),
        cmocka_unit_test(test_parse_bad_id),
        cmocka_unit_test(test_parse_bad_type),
        cmocka_unit_test(test_parse_not_object),
        cmocka_unit_test(test_parse_bad_json),
        cmocka_unit_test(test_parse_duplicate_keys),
        cmocka_unit_test(test_parse_size_limit),
        cmocka_unit_test(test_parse_depth_limit),
        cmocka_unit_test(test_parse_brackets_in_strings),
        cmocka_unit_test(test_flat_known_answers),
        cmocka_unit_test(test_json_depth),
        cmocka_unit_test(test_json_depth_huge),
        cmocka_unit_test(test_get_str),
        cmocka_unit_test(test_get_int),
        cmocka_unit_test(test_get_b64),
        cmocka_unit_test(test_get_id),
        cmocka_unit_test(test_fields_only),
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_enroll_round_trip),
        cmocka_unit_test(test_enroll_fields),
        cmocka_unit_test(test_auth_round_trip),
        cmocka_unit_test(test_auth_fields),
        cmocka_unit_test(test_invite_round_trip),
        cmocka_unit_test(test_invite_roles),
        cmocka_unit_test(test_invite_fields),
        cmocka_unit_test(test_revoke),
        cmocka_unit_test(test_encode_error),
        cmocka_unit_test(test_encode_and_set),
        cmocka_unit_test(test_encode_msg),
        cmocka_unit_test(test_encode_sent),
    };
    return cmocka_run_group_tests_name("codec", tests, setup, NULL);
}
