/*
 * cmd_contact.c - a thread's episode metadata and contacts (PROTOCOL.md §13): `sesame contact
 * record` (a contact with the patient, by type) and `sesame thread meta` (read or set the phase,
 * sequence, review date and enrolment).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/alerts.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/roles.h"

#define CONTACT_USAGE                                                                              \
    "sesame contact record THREAD [--date YYYY-MM-DD] [--type in_person|phone|video|assessment]"
#define META_USAGE                                                                                 \
    "sesame thread meta THREAD [--phase active|relapse_prevention] "                               \
    "[--sequence classic|light|none] [--sequence-due YYYY-MM-DD|none] "                            \
    "[--review-date YYYY-MM-DD] [--enrolled YYYY-MM-DD]"

#define DAY_MS 86400000LL
#define MIN_MS 60000LL

/* --- thread metadata and contacts ----------------------------------------------------------- */

void cli_meta_print(const char *thread, const char *patient, const json_t *meta)
{
    char d[11], e[11];
    printf("thread    %s\n", thread);
    if (patient != NULL)
        printf("patient   %s\n", patient);
    cli_fmt_day(d, json_object_get(meta, "enrolled"));
    printf("enrolled  %s\n", d);
    printf("phase     %s\n", cli_str(meta, "phase", "active"));
    cli_fmt_day(d, json_object_get(meta, "last_contact"));
    printf("contacts  %lld (last %s)\n",
           (long long)json_integer_value(json_object_get(meta, "contacts")), d);
    if (json_object_get(meta, "last_phq9") != NULL) { /* servers before the safety pathway */
        cli_fmt_day(d, json_object_get(meta, "last_phq9"));
        printf("PHQ-9     %s\n",
               json_is_integer(json_object_get(meta, "last_phq9")) ? d : "none counted yet");
    }
    cli_fmt_day(d, json_object_get(meta, "last_review"));
    printf("review    %s\n", json_is_integer(json_object_get(meta, "last_review")) ? d : "none");
    cli_fmt_day(e, json_object_get(meta, "sequence_due"));
    if (json_is_string(json_object_get(meta, "sequence_type")) ||
        json_is_integer(json_object_get(meta, "sequence_due")))
        printf("sequence  %s, due %s\n", cli_str(meta, "sequence_type", "-"), e);
    else
        printf("sequence  none\n");
    fflush(stdout);
}

static int contact_record(struct cli *cli)
{
    const char *pos[1], *date = NULL, *type = NULL;
    const struct e2e_opt opts[] = {{"date", &date, NULL, NULL, 0}, {"type", &type, NULL, NULL, 0}};
    int rc = e2e_args1(cli, opts, 2, CONTACT_USAGE, "contact record needs a THREAD", &pos[0]);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (type != NULL && strcmp(type, "in_person") != 0 && strcmp(type, "phone") != 0 &&
        strcmp(type, "video") != 0 && strcmp(type, "assessment") != 0)
        return cli_usage_error(CONTACT_USAGE,
                               "BAD_FIELD: --type is in_person, phone, video or assessment");
    int64_t ms = 0;
    if (date != NULL && (rc = cli_date_arg(CONTACT_USAGE, "date", date, NULL, &ms)) != 0)
        return rc;
    struct e2e x;
    char tid[E2E_ID_LEN];
    json_t *reply = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if ((status = e2e_resolve_thread(&x, pos[0], tid)) == 0) {
        json_t *req = json_pack("{s:s, s:s}", "t", "contact_record", "thread", tid);
        if (req != NULL && date != NULL)
            json_object_set_new(req, "date", json_integer((json_int_t)ms));
        if (req != NULL && type != NULL) /* absent: in_person, the server's default */
            json_object_set_new(req, "type", json_string(type));
        status = e2e_request(&x, req, "contact_record", &reply);
    }
    if (status == 0) {
        if (cli->json) {
            cli_print_json(reply);
        } else {
            printf("contact recorded (%s)\n", type ? type : "in_person");
            cli_meta_print(cli_str(reply, "thread", tid), NULL, json_object_get(reply, "meta"));
        }
    }
    json_decref(reply);
    return e2e_end(&x, status, 0);
}

int cmd_contact(struct cli *cli)
{
    static const struct cli_sub subs[] = {{"record", contact_record}};
    return cli_dispatch(cli, "contact", CONTACT_USAGE, subs, sizeof subs / sizeof subs[0]);
}

int cmd_thread_meta(struct cli *cli)
{
    const char *pos[1], *phase = NULL, *seq = NULL, *due = NULL, *review = NULL, *enrolled = NULL;
    const struct e2e_opt opts[] = {{"phase", &phase, NULL, NULL, 0},
                                   {"sequence", &seq, NULL, NULL, 0},
                                   {"sequence-due", &due, NULL, NULL, 0},
                                   {"review-date", &review, NULL, NULL, 0},
                                   {"enrolled", &enrolled, NULL, NULL, 0}};
    int rc = e2e_args1(cli, opts, 5, META_USAGE, "thread meta needs a THREAD", &pos[0]);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    json_t *req = json_pack("{s:s}", "t", "thread_meta");
    if (req == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    int64_t ms = 0;
    if (phase != NULL) {
        if (strcmp(phase, "active") != 0 && strcmp(phase, "relapse_prevention") != 0)
            rc = cli_usage_error(META_USAGE, "BAD_FIELD: --phase is active or relapse_prevention");
        else
            json_object_set_new(req, "phase", json_string(phase));
    }
    if (rc == 0 && seq != NULL) {
        if (strcmp(seq, "none") == 0)
            json_object_set_new(req, "sequence_type", json_null());
        else if (strcmp(seq, "classic") == 0 || strcmp(seq, "light") == 0)
            json_object_set_new(req, "sequence_type", json_string(seq));
        else
            rc = cli_usage_error(META_USAGE, "BAD_FIELD: --sequence is classic, light or none");
    }
    if (rc == 0 && due != NULL) {
        if (strcmp(due, "none") == 0)
            json_object_set_new(req, "sequence_due", json_null());
        else if ((rc = cli_date_arg(META_USAGE, "sequence-due", due, NULL, &ms)) == 0)
            json_object_set_new(req, "sequence_due", json_integer((json_int_t)ms));
    }
    if (rc == 0 && review != NULL &&
        (rc = cli_date_arg(META_USAGE, "review-date", review, NULL, &ms)) == 0)
        json_object_set_new(req, "last_review", json_integer((json_int_t)ms));
    if (rc == 0 && enrolled != NULL &&
        (rc = cli_date_arg(META_USAGE, "enrolled", enrolled, NULL, &ms)) == 0)
        json_object_set_new(req, "enrolled", json_integer((json_int_t)ms));
    if (rc != 0) {
        json_decref(req);
        return rc;
    }
    int set = json_object_size(req) > 1;

    struct e2e x;
    char tid[E2E_ID_LEN];
    json_t *reply = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0) {
        json_decref(req);
        return status;
    }
    if ((status = e2e_resolve_thread(&x, pos[0], tid)) != 0) {
        json_decref(req);
        return e2e_end(&x, status, 0);
    }
    if (set) {
        json_object_set_new(req, "thread", json_string(tid));
        status = e2e_request(&x, req, "thread_meta", &reply);
        if (status == 0) {
            if (cli->json)
                cli_print_json(reply);
            else
                cli_meta_print(cli_str(reply, "thread", tid), NULL, json_object_get(reply, "meta"));
        }
        json_decref(reply);
        return e2e_end(&x, status, 0);
    }
    json_decref(req);
    struct e2e_roster *r = NULL;
    json_t *meta = NULL;
    if ((status = e2e_roster_fetch_meta(&x, tid, &r, &meta)) == 0) {
        if (cli->json) {
            json_t *out = json_pack("{s:s, s:s, s:O}", "thread", r->text, "patient", r->patient,
                                    "meta", meta);
            if (out != NULL)
                cli_print_json(out);
            json_decref(out);
        } else {
            cli_meta_print(r->text, r->patient, meta);
        }
    }
    json_decref(meta);
    free(r);
    return e2e_end(&x, status, status == 0);
}
