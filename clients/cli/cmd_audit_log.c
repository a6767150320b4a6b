/*
 * cmd_audit_log.c - reading the audit log (PROTOCOL.md §8): `sesame audit tail` (the newest
 * records, filtered by actor or action) and `sesame audit show SEQ` (one record, its bytes and
 * its leaf hash checked locally).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "audit_cli.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/merkle.h"
#include "sesame/note.h"

/* --- rendering records ------------------------------------------------------------------------ */

/* "nurse:abcdefgh" (role and the first 8 characters of the user id), "device:abcdefgh", or "-". */
static void fmt_actor(char *out, size_t cap, const json_t *rec)
{
    const json_t *a = json_object_get(rec, "actor");
    const char *user = cli_str(a, "user", NULL), *role = cli_str(a, "role", NULL);
    const char *dev = cli_str(a, "device", NULL);
    if (user != NULL)
        snprintf(out, cap, "%s:%.8s", role ? role : "?", user);
    else if (dev != NULL)
        snprintf(out, cap, "device:%.8s", dev);
    else if (role != NULL)
        snprintf(out, cap, "%s", role);
    else
        snprintf(out, cap, "-");
}

/* The record object of one {"seq":S,"rec":TEXT|null} entry: the parsed canonical bytes, or
 * {"seq":S,"rec":null} once pruned (or if the bytes are not a JSON object). New reference. */
json_t *audit_entry_record(const json_t *entry)
{
    const json_t *rec = json_object_get(entry, "rec");
    if (json_is_string(rec)) {
        json_t *o = audit_parse_rec(json_string_value(rec), json_string_length(rec));
        if (o != NULL)
            return o;
    }
    return json_pack("{s:I, s:n}", "seq", (json_int_t)audit_int_or(entry, "seq", 0), "rec");
}

/* --- tail --- */

int audit_tail(struct cli *cli)
{
    const char *since = NULL, *actor = NULL, *action = NULL, *limit = NULL;
    const struct cli_opt opts[] = {
        {"since", &since}, {"actor", &actor}, {"action", &action}, {"limit", &limit}};
    long long since_v = 0, limit_v = 0;
    int rc = audit_parse_audit_args(cli, NULL, 0, opts, 4, NULL, TAIL_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (since != NULL && audit_parse_int(since, 0, (1LL << 53) - 1, &since_v) != 0)
        return cli_usage_error(TAIL_USAGE, "--since needs a record number (0 or more)");
    if (limit != NULL && audit_parse_int(limit, 1, PAGE, &limit_v) != 0)
        return cli_usage_error(TAIL_USAGE, "--limit needs a number from 1 to %d", PAGE);

    json_t *req = json_pack("{s:s}", "t", "audit_tail");
    int bad = req == NULL;
    if (!bad && since != NULL)
        bad |= json_object_set_new(req, "since", json_integer(since_v));
    if (!bad && actor != NULL)
        bad |= json_object_set_new(req, "actor", json_string(actor));
    if (!bad && action != NULL)
        bad |= json_object_set_new(req, "action", json_string(action));
    if (!bad && limit != NULL)
        bad |= json_object_set_new(req, "limit", json_integer(limit_v));
    if (bad) {
        json_decref(req);
        return cli_usage_error(TAIL_USAGE, "values must be valid UTF-8 text");
    }

    struct ses_conn *conn = NULL;
    json_t *reply = NULL;
    int status = audit_open_session(cli, &conn);
    if (status != 0) {
        json_decref(req);
        return status;
    }
    status = audit_request(cli, conn, req, "audit tail", &reply);
    ses_conn_free(conn);
    if (status != 0)
        return status;

    const json_t *records = json_object_get(reply, "records");
    size_t i;
    const json_t *entry;
    if (cli->json) {
        json_t *out = json_pack("{s:[]}", "records");
        json_t *arr = json_object_get(out, "records");
        json_array_foreach(records, i, entry) json_array_append_new(arr, audit_entry_record(entry));
        cli_print_json(out);
        json_decref(out);
    } else {
        static const char *const header[] = {"SEQ",    "TIME",    "ACTOR", "ACTION",
                                             "OBJECT", "OUTCOME", "PEER"};
        struct cli_table t;
        if (cli_table_init(&t, 7, header) == 0) {
            json_array_foreach(records, i, entry)
            {
                json_t *r = audit_entry_record(entry);
                char seq[32], when[40], who[64];
                snprintf(seq, sizeof seq, "%lld", audit_int_or(r, "seq", 0));
                cli_fmt_time(when, sizeof when, json_object_get(r, "ts"));
                fmt_actor(who, sizeof who, r);
                int pruned = json_is_null(json_object_get(entry, "rec"));
                const char *row[] = {seq,
                                     when,
                                     who,
                                     pruned ? "(pruned)" : cli_str(r, "action", "-"),
                                     cli_str(r, "object", "-"),
                                     cli_str(r, "outcome", "-"),
                                     cli_str(r, "peer", "-")};
                int added = cli_table_add(&t, row);
                json_decref(r);
                if (added != 0)
                    break;
            }
            cli_table_print(&t);
            cli_table_free(&t);
        }
    }
    json_decref(reply);
    return CLI_OK;
}

/* --- show --- */

int audit_show(struct cli *cli)
{
    long long seq = 0;
    int rc = audit_seq_arg(cli, SHOW_USAGE, "show", &seq);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;

    struct ses_conn *conn = NULL;
    json_t *reply = NULL;
    int status = audit_open_session(cli, &conn);
    if (status != 0)
        return status;
    status =
        audit_request(cli, conn, json_pack("{s:s, s:I}", "t", "audit_show", "seq", (json_int_t)seq),
                      "audit show", &reply);
    ses_conn_free(conn);
    if (status != 0)
        return status;

    const json_t *rec = json_object_get(reply, "rec");
    const char *hash = cli_str(reply, "hash", "");
    uint8_t stored[32], computed[32];
    int have_hash = audit_get_hash(reply, "hash", stored) == 0;
    int matches = 0;
    if (json_is_string(rec)) {
        ses_merkle_leaf_hash(computed, (const uint8_t *)json_string_value(rec),
                             json_string_length(rec));
        matches = have_hash && memcmp(computed, stored, 32) == 0;
    }
    json_t *parsed = json_is_string(rec)
                         ? audit_parse_rec(json_string_value(rec), json_string_length(rec))
                         : NULL;
    if (cli->json) {
        json_t *out = parsed ? json_incref(parsed) : json_pack("{s:I}", "seq", (json_int_t)seq);
        json_object_set(out, "rec", json_is_string(rec) ? (json_t *)rec : json_null());
        json_object_set_new(out, "hash", json_string(hash));
        cli_print_json(out);
        json_decref(out);
    } else if (parsed != NULL) {
        char when[48];
        const json_t *a = json_object_get(parsed, "actor");
        audit_fmt_time_ms(when, sizeof when, audit_int_or(parsed, "ts", 0));
        printf("seq:       %lld\n", audit_int_or(parsed, "seq", seq));
        printf("time:      %s\n", when);
        printf("actor:     user %s, device %s, role %s\n", cli_str(a, "user", "-"),
               cli_str(a, "device", "-"), cli_str(a, "role", "-"));
        printf("action:    %s\n", cli_str(parsed, "action", "-"));
        printf("object:    %s\n", cli_str(parsed, "object", "-"));
        printf("outcome:   %s\n", cli_str(parsed, "outcome", "-"));
        printf("peer:      %s\n", cli_str(parsed, "peer", "-"));
        printf("leaf hash: %s (%s)\n", hash,
               matches ? "matches the record bytes" : "DOES NOT MATCH the record bytes");
        printf("record:    %s\n", json_string_value(rec));
    } else {
        printf("seq:       %lld\n", seq);
        if (json_is_string(rec))
            printf("record:    %s (not a JSON object)\n", json_string_value(rec));
        else
            printf("record:    pruned (only its leaf hash is kept)\n");
        printf("leaf hash: %s\n", hash);
    }
    json_decref(parsed);
    json_decref(reply);
    return CLI_OK;
}
