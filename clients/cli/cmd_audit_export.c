/*
 * cmd_audit_export.c - `sesame audit export --from --to [--fhir]`: the records of a period as
 * JSON lines, or as FHIR R4 AuditEvent resources (the mapping table in README.md).
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

/* --- export --- */

/* Parses YYYY-MM-DD into ms since the epoch at 00:00 UTC. Returns 0 or -1. */
static int parse_date(const char *s, long long *ms)
{
    int y, m, d, n = 0;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10 ||
        s[4] != '-' || s[7] != '-' || y < 1970 || m < 1 || m > 12 || d < 1 || d > 31)
        return -1;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != m - 1)
        return -1; /* e.g. 2025-02-30 */
    *ms = (long long)t * 1000;
    return 0;
}

/* DICOM "Audit Event ID" (type) and FHIR action code of a Sesame action (table in README.md). */
struct fhir_map {
    const char *prefix; /* action, or prefix ending in '.' */
    const char *code, *display, *action;
};
static const struct fhir_map fhir_table[] = {
    {"auth.", "110114", "User Authentication", "E"},
    {"authz.denied", "110113", "Security Alert", "E"},
    {"audit.read", "110101", "Audit Log Used", "R"},
    {"audit.prune", "110101", "Audit Log Used", "D"},
    {"user.invite", "110137", "User Security Attributes Changed", "C"},
    {"device.enroll", "110137", "User Security Attributes Changed", "C"},
    {"user.revoke", "110137", "User Security Attributes Changed", "U"},
    {"device.revoke", "110137", "User Security Attributes Changed", "U"},
    {"server.start", "110120", "Application Start", "E"},
    {"server.stop", "110121", "Application Stop", "E"},
    {"init", "110100", "Application Activity", "C"},
};

static const struct fhir_map *fhir_lookup(const char *action)
{
    static const struct fhir_map other = {"", "110100", "Application Activity", "E"};
    for (size_t i = 0; i < sizeof fhir_table / sizeof fhir_table[0]; i++) {
        const struct fhir_map *m = &fhir_table[i];
        size_t n = strlen(m->prefix);
        if (m->prefix[n - 1] == '.' ? strncmp(action, m->prefix, n) == 0
                                    : strcmp(action, m->prefix) == 0)
            return m;
    }
    return &other;
}

/* One FHIR R4 AuditEvent for a parsed record. New reference, or NULL (out of memory). */
static json_t *fhir_event(const json_t *r, const char *server_id)
{
    const char *action = cli_str(r, "action", "");
    const char *outcome = cli_str(r, "outcome", "");
    const json_t *a = json_object_get(r, "actor");
    const char *user = cli_str(a, "user", NULL), *dev = cli_str(a, "device", NULL);
    const char *role = cli_str(a, "role", NULL), *peer = cli_str(r, "peer", NULL);
    const char *object = cli_str(r, "object", NULL);
    const struct fhir_map *m = fhir_lookup(action);
    char id[48], when[48], observer[96];
    snprintf(id, sizeof id, "sesame-%lld", audit_int_or(r, "seq", 0));
    audit_fmt_time_ms(when, sizeof when, audit_int_or(r, "ts", 0));
    snprintf(observer, sizeof observer, "sesamed %s", server_id);
    const char *code = strcmp(outcome, "ok") == 0         ? "0"
                       : strcmp(outcome, "INTERNAL") == 0 ? "8"
                                                          : "4";

    json_t *agent;
    if (user != NULL || dev != NULL) {
        agent = json_pack("{s:{s:{s:s, s:s}}, s:b}", "who", "identifier", "system",
                          user ? "urn:sesame:user" : "urn:sesame:device", "value",
                          user ? user : dev, "requestor", 1);
        if (agent != NULL && user != NULL && dev != NULL)
            json_object_set_new(agent, "altId", json_string(dev));
    } else {
        agent = json_pack("{s:{s:s}, s:b}", "who", "display", "system", "requestor", 1);
    }
    if (agent != NULL && role != NULL)
        json_object_set_new(agent, "role", json_pack("[{s:s}]", "text", role));
    if (agent != NULL && peer != NULL)
        json_object_set_new(agent, "network",
                            json_pack("{s:s, s:s}", "address", peer, "type", "2"));

    json_t *ev =
        json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:[{s:s, s:s}], s:s, s:s, s:s, s:s, s:[o], "
                  "s:{s:{s:s}, s:[{s:s, s:s, s:s}]}}",
                  "resourceType", "AuditEvent", "id", id, "type", "system",
                  "http://dicom.nema.org/resources/ontology/DCM", "code", m->code, "display",
                  m->display, "subtype", "system", "urn:sesame:audit-action", "code", action,
                  "action", m->action, "recorded", when, "outcome", code, "outcomeDesc", outcome,
                  "agent", agent, "source", "observer", "display", observer, "type", "system",
                  "http://terminology.hl7.org/CodeSystem/security-source-type", "code", "4",
                  "display", "Application Server");
    if (ev != NULL && object != NULL)
        json_object_set_new(ev, "entity",
                            json_pack("[{s:{s:{s:s}}}]", "what", "identifier", "value", object));
    return ev;
}

int audit_export(struct cli *cli)
{
    const char *from = NULL, *to = NULL;
    int fhir = 0;
    long long from_ms = 0, to_ms = 0;
    const struct cli_opt opts[] = {{"from", &from}, {"to", &to}};
    const struct audit_flag flags[] = {{"fhir", &fhir}};
    int rc = audit_parse_audit_args(cli, flags, 1, opts, 2, NULL, EXPORT_USAGE);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (from == NULL || to == NULL)
        return cli_usage_error(EXPORT_USAGE, "export needs --from and --to");
    if (parse_date(from, &from_ms) != 0 || parse_date(to, &to_ms) != 0)
        return cli_usage_error(EXPORT_USAGE, "dates are YYYY-MM-DD (UTC)");
    if (to_ms < from_ms)
        return cli_usage_error(EXPORT_USAGE, "--to is before --from");
    to_ms += DAY_MS - 1; /* the whole --to day */

    struct ses_conn *conn = NULL;
    int status = audit_open_session(cli, &conn);
    if (status != 0)
        return status;
    const char *server_id = cli_str(ses_conn_hello(conn), "server_id", "?");
    long long since = 0;
    for (;;) {
        json_t *reply = NULL;
        status = audit_request(cli, conn,
                               json_pack("{s:s, s:I, s:I, s:I, s:i}", "t", "audit_tail", "since",
                                         (json_int_t)since, "from_ts", (json_int_t)from_ms, "to_ts",
                                         (json_int_t)to_ms, "limit", PAGE),
                               "audit tail", &reply);
        if (status != 0)
            break;
        const json_t *records = json_object_get(reply, "records");
        size_t i, n = json_array_size(records);
        const json_t *entry;
        json_array_foreach(records, i, entry)
        {
            const json_t *rec = json_object_get(entry, "rec");
            json_t *r = audit_entry_record(entry);
            int intact = json_is_string(rec) && json_object_get(r, "rec") == NULL;
            if (!fhir && intact &&
                memchr(json_string_value(rec), '\n', json_string_length(rec)) == NULL) {
                /* the record's canonical bytes as they are: leaf hashes can be recomputed */
                fwrite(json_string_value(rec), 1, json_string_length(rec), stdout);
                fputc('\n', stdout);
            } else if (!fhir || intact) {
                json_t *line = fhir ? fhir_event(r, server_id) : json_incref(r);
                char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
                if (text != NULL)
                    puts(text);
                free(text);
                json_decref(line);
            } /* else: a pruned record has nothing left to map to an AuditEvent */
            long long seq = audit_int_or(entry, "seq", since);
            json_decref(r);
            if (seq > since)
                since = seq;
        }
        json_decref(reply);
        if (n < PAGE)
            break;
    }
    ses_conn_free(conn);
    return status;
}
