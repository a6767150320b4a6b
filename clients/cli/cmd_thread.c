/*
 * cmd_thread.c - `sesame thread ...`: caseload threads (PROTOCOL.md §11). create (the title
 * travels only as the thread's first, encrypted message), list (the caseload, titles decrypted),
 * show (every message decrypted and verified, delivery and read marks, then ack and read), info,
 * add, remove and title.
 *
 * Plaintext (titles, messages) lives only in memory and on stdout: never in the local state.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#define CREATE_USAGE                                                                               \
    "sesame thread create --patient REF --title TEXT --member USER_ID [--member USER_ID ...]"
#define LIST_USAGE "sesame thread list"
#define SHOW_USAGE "sesame thread show THREAD"
#define INFO_USAGE "sesame thread info THREAD"
#define ADD_USAGE "sesame thread add THREAD USER_ID"
#define REMOVE_USAGE "sesame thread remove THREAD USER_ID"
#define TITLE_USAGE "sesame thread title THREAD TEXT"
#define THREAD_USAGE "sesame thread create|list|show|info|add|remove|title [ARGS]"

#define MAX_CREATE_MEMBERS 16
#define MAX_PATIENT_REF 32

static int patient_ref_valid(const char *p)
{
    size_t n = strlen(p);
    if (n < 1 || n > MAX_PATIENT_REF)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '_')
            return 0;
    return 1;
}

/* A title or message text given on the command line: valid UTF-8, 1..65535 bytes. */
static int check_text(const char *usage, const char *what, const char *s)
{
    size_t n = strlen(s);
    if (n == 0)
        return cli_usage_error(usage, "the %s is empty", what);
    if (n > SES_ENVELOPE_BODY_MAX)
        return cli_usage_error(usage, "the %s is longer than %d bytes", what,
                               SES_ENVELOPE_BODY_MAX);
    if (!e2e_utf8_valid(s, n))
        return cli_usage_error(usage, "the %s is not valid UTF-8", what);
    return 0;
}

static void print_members(const struct e2e_roster *r)
{
    struct cli_table t;
    const char *hdr[] = {"USER", "ROLE", "NAME", "DEVICES"};
    printf("thread   %s\npatient  %s\nroster   version %u, %zu member%s\n", r->text, r->patient,
           (unsigned)r->version, r->n_members, r->n_members == 1 ? "" : "s");
    if (cli_table_init(&t, 4, hdr) != 0)
        return;
    for (size_t i = 0; i < r->n_members; i++) {
        char n[16];
        snprintf(n, sizeof n, "%zu", r->members[i].n_devices);
        const char *row[] = {r->members[i].text, r->members[i].role, r->members[i].name, n};
        cli_table_add(&t, row);
    }
    cli_table_print(&t);
    cli_table_free(&t);
}

/* --- create --------------------------------------------------------------------------------- */

static int thread_create(struct cli *cli)
{
    const char *patient = NULL, *title = NULL, *members[MAX_CREATE_MEMBERS + 1];
    int n_members = 0, n_pos = 0;
    const struct e2e_opt opts[] = {{"patient", &patient, NULL, NULL, 0},
                                   {"title", &title, NULL, NULL, 0},
                                   {"member", NULL, members, &n_members, MAX_CREATE_MEMBERS}};
    int rc = e2e_args(cli->argc, cli->argv, opts, 3, CREATE_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (patient == NULL || title == NULL || n_members == 0)
        return cli_usage_error(CREATE_USAGE, "create needs --patient, --title and --member");
    if (!patient_ref_valid(patient))
        return cli_usage_error(CREATE_USAGE, "--patient needs a pseudonymous reference: 1..32 "
                                             "letters, digits, '-' or '_' (e.g. P-7F3A)");
    if ((rc = check_text(CREATE_USAGE, "title", title)) != 0)
        return rc;
    json_t *ids = json_array();
    if (ids == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    for (int i = 0; i < n_members; i++) {
        uint8_t id[SES_ID_BYTES];
        char text[E2E_ID_LEN];
        if (ses_id_from_text(id, members[i]) != 0) {
            json_decref(ids);
            return cli_usage_error(CREATE_USAGE, "'%s' is not a user id (see sesame directory)",
                                   members[i]);
        }
        ses_id_to_text(text, id);
        json_array_append_new(ids, json_string(text));
    }

    struct e2e x;
    int status = e2e_begin(cli, &x);
    if (status != 0) {
        json_decref(ids);
        return status;
    }
    json_t *reply = NULL, *sent = NULL;
    struct e2e_roster *r = NULL;
    status = e2e_request(
        &x, json_pack("{s:s, s:s, s:o}", "t", "thread_create", "patient", patient, "members", ids),
        "thread_create", &reply);
    if (status == 0)
        status = e2e_roster_parse(&x, reply, &r);
    json_decref(reply);
    if (status != 0)
        return e2e_end(&x, status, 1);

    int title_status = 0;
    if (e2e_roster_has_me(&x, r)) {
        title_status = e2e_send(&x, &r, SES_CONTENT_THREAD_TITLE, (const uint8_t *)title,
                                strlen(title), &sent);
        if (title_status != 0)
            fprintf(stderr,
                    "sesame: error: thread %s was created but its title was not sent; "
                    "send it with: sesame thread title %s TEXT\n",
                    r->text, r->text);
    } else {
        e2e_warn("you are not a member of the new thread, so its title was not sent; a member "
                 "sets it with: sesame thread title %s TEXT",
                 r->text);
    }
    const json_t *seq = json_object_get(sent, "seq");
    if (cli->json) {
        json_t *mem = json_array();
        for (size_t i = 0; mem && i < r->n_members; i++)
            json_array_append_new(mem, json_string(r->members[i].text));
        json_t *out =
            json_pack("{s:s, s:s, s:o, s:O}", "thread", r->text, "patient", r->patient, "members",
                      mem ? mem : json_array(), "seq", json_is_integer(seq) ? seq : json_null());
        if (out != NULL)
            cli_print_json(out);
        json_decref(out);
    } else {
        printf("Created thread %s\n", r->text);
        printf("  patient: %s\n  members: ", r->patient);
        for (size_t i = 0; i < r->n_members; i++) {
            char *n = e2e_flatten(r->members[i].name);
            printf("%s%s (%s)", i ? ", " : "", n ? n : "?", r->members[i].role);
            free(n);
        }
        if (json_is_integer(seq))
            printf("\n  title:   sent encrypted (seq %lld)\n", (long long)json_integer_value(seq));
        else
            printf("\n  title:   not sent\n");
    }
    json_decref(sent);
    free(r);
    return e2e_end(&x, title_status, 1);
}

/* --- list ----------------------------------------------------------------------------------- */

struct title_acc {
    char *title; /* latest verified title */
    int64_t seq; /* its seq */
};

static int take_title(struct e2e *x, const struct e2e_roster *r, struct e2e_msg *m, void *ud)
{
    struct title_acc *a = ud;
    (void)x;
    (void)r;
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_THREAD_TITLE && m->text) {
        if (a->title != NULL) {
            sodium_memzero(a->title, strlen(a->title));
            free(a->title);
        }
        a->title = m->text;
        a->seq = m->seq;
        m->text = NULL;
    }
    e2e_msg_free(m);
    return 0;
}

/* Walks r's messages after < seq <= upto into acc, with a fresh replay run. */
static int walk_titles(struct e2e *x, const struct e2e_roster *r, int64_t after, int64_t upto,
                       struct title_acc *acc)
{
    json_t *run = json_object();
    if (run == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    int status = e2e_walk(x, r, after, upto, run, take_title, acc, NULL);
    json_decref(run);
    return status;
}

/* The latest title of r this device can read. The state remembers the seq of the title last
 * found ("title_seq", a number, never the text) and up to where titles were looked for
 * ("titles_upto"): then only that message and the ones after the mark are fetched, not the
 * whole thread again. With no title known (or marks that do not fit the thread) every message
 * is read, as when a title sent before this device joined becomes readable by a history
 * re-wrap. Moves the marks on. */
static int find_title(struct e2e *x, const struct e2e_roster *r, struct title_acc *acc)
{
    json_t *ts = x->have_state ? cli_state_thread(&x->st, r->text) : NULL;
    int64_t title_seq = (int64_t)cli_state_get(ts, "title_seq");
    int64_t upto = (int64_t)cli_state_get(ts, "titles_upto");
    int status;
    if (title_seq > 0 && title_seq <= upto && upto <= r->last_seq) {
        /* in seq order, one run: the remembered title, then what came since */
        status = walk_titles(x, r, title_seq - 1, title_seq, acc);
        if (status == 0 && acc->title != NULL)
            status = walk_titles(x, r, upto, r->last_seq, acc);
        else if (status == 0)
            status = walk_titles(x, r, 0, r->last_seq, acc); /* gone or refused now: look again */
    } else {
        status = walk_titles(x, r, 0, r->last_seq, acc);
    }
    if (status == 0 && ts != NULL) {
        if (acc->title != NULL)
            cli_state_set_max(ts, "title_seq", (uint64_t)acc->seq);
        cli_state_set_max(ts, "titles_upto", (uint64_t)r->last_seq);
    }
    return status;
}

static void free_title(struct title_acc *a)
{
    if (a->title != NULL) {
        sodium_memzero(a->title, strlen(a->title));
        free(a->title);
        a->title = NULL;
    }
}

static int thread_list(struct cli *cli)
{
    int n_pos = 0;
    int rc = e2e_args(cli->argc, cli->argv, NULL, 0, LIST_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct e2e x;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    json_t *reply = NULL;
    status = e2e_request(&x, json_pack("{s:s}", "t", "threads"), "threads", &reply);
    if (status != 0)
        return e2e_end(&x, status, 0);
    json_t *out = json_array();
    struct cli_table t;
    const char *hdr[] = {"THREAD", "PATIENT", "TITLE", "LAST ACTIVITY", "UNREAD"};
    if (out == NULL || cli_table_init(&t, 5, hdr) != 0) {
        json_decref(out);
        json_decref(reply);
        return e2e_end(&x, cli_error(CLI_ELOCAL, "out of memory"), 0);
    }
    size_t i;
    json_t *th;
    json_array_foreach(json_object_get(reply, "threads"), i, th)
    {
        const char *tid = cli_str(th, "thread", "");
        struct e2e_roster *r = NULL;
        struct title_acc acc = {NULL, 0};
        status = e2e_roster_fetch(&x, tid, &r);
        if (status == 0)
            status = find_title(&x, r, &acc);
        if (status != 0) {
            free(r);
            free_title(&acc);
            break;
        }
        const json_t *last_ms = json_object_get(th, "last_ms");
        const json_t *unread = json_object_get(th, "unread");
        if (cli->json) {
            json_t *o =
                json_pack("{s:s, s:s, s:o, s:O, s:O, s:I}", "thread", r->text, "patient",
                          r->patient, "title", acc.title ? json_string(acc.title) : json_null(),
                          "last_ms", last_ms ? last_ms : json_null(), "unread",
                          unread ? unread : json_null(), "last_seq", (json_int_t)r->last_seq);
            if (o != NULL)
                json_array_append_new(out, o);
        } else {
            char when[40], unr[24];
            if (json_is_integer(last_ms) && json_integer_value(last_ms) > 0)
                cli_fmt_time(when, sizeof when, last_ms);
            else
                snprintf(when, sizeof when, "-");
            snprintf(unr, sizeof unr, "%lld",
                     json_is_integer(unread) ? (long long)json_integer_value(unread) : 0LL);
            char *flat = acc.title ? e2e_flatten(acc.title) : NULL;
            const char *row[] = {r->text, r->patient, flat ? flat : "-", when, unr};
            cli_table_add(&t, row);
            if (flat != NULL) {
                sodium_memzero(flat, strlen(flat));
                free(flat);
            }
        }
        free(r);
        free_title(&acc);
    }
    json_decref(reply);
    if (status == 0) {
        if (cli->json) {
            json_t *o = json_pack("{s:O}", "threads", out);
            if (o != NULL)
                cli_print_json(o);
            json_decref(o);
        } else if (t.rows == 1) {
            printf("no threads\n");
        } else {
            cli_table_print(&t);
        }
    }
    json_decref(out);
    cli_table_free(&t);
    if (status == 0 && x.refused > 0)
        status = e2e_verify_failed("%d message(s) refused while reading titles (see %s/%s)",
                                   x.refused, x.p.home, CLI_SECURITY_LOG);
    return e2e_end(&x, status, 1);
}

/* --- show ----------------------------------------------------------------------------------- */

struct msgs {
    struct e2e_msg *v;
    size_t n, cap;
};

static int collect(struct e2e *x, const struct e2e_roster *r, struct e2e_msg *m, void *ud)
{
    struct msgs *a = ud;
    (void)r;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 32;
        struct e2e_msg *nv = realloc(a->v, cap * sizeof *nv);
        if (nv == NULL) {
            e2e_msg_free(m);
            (void)x;
            return cli_error(CLI_ELOCAL, "out of memory");
        }
        a->v = nv;
        a->cap = cap;
    }
    a->v[a->n++] = *m; /* moved */
    return 0;
}

static void free_msgs(struct msgs *a)
{
    for (size_t i = 0; i < a->n; i++)
        e2e_msg_free(&a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

/* Delivery and read marks of each message from a receipts reply. */
static void apply_receipts(struct e2e *x, const struct e2e_roster *r, struct msgs *a,
                           const json_t *receipts)
{
    const json_t *members = json_object_get(receipts, "members");
    for (size_t i = 0; i < a->n; i++) {
        struct e2e_msg *m = &a->v[i];
        size_t k;
        json_t *u;
        int all = 1;
        m->read_by = json_array();
        json_array_foreach(members, k, u)
        {
            const char *user = cli_str(u, "user", "");
            const json_t *d = json_object_get(u, "delivered"), *rd = json_object_get(u, "read");
            if (strcmp(user, m->sender) == 0)
                continue; /* the sender has it */
            if (!json_is_integer(d) || json_integer_value(d) < m->seq)
                all = 0;
            if (json_is_integer(rd) && json_integer_value(rd) >= m->seq) {
                char name[SES_MAX_NAME_LEN + 1], role[16];
                json_array_append_new(m->read_by, json_string(user));
                e2e_user_label(x, r, user, name, sizeof name, role, sizeof role);
                char *flat = e2e_flatten(name);
                size_t used = strlen(m->read_names);
                snprintf(m->read_names + used, sizeof m->read_names - used, "%s%s",
                         used ? ", " : "", flat ? flat : "?");
                free(flat);
            }
        }
        m->delivered = all && json_is_array(members);
    }
}

static int thread_show(struct cli *cli)
{
    const char *pos[1];
    int rc = e2e_args1(cli, NULL, 0, SHOW_USAGE, "show needs a THREAD", &pos[0]);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct e2e x;
    char tid[E2E_ID_LEN];
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if ((status = e2e_resolve_thread(&x, pos[0], tid)) != 0)
        return e2e_end(&x, status, 0);
    struct e2e_roster *r = NULL;
    struct msgs a = {0};
    int64_t max_seen = 0;
    json_t *run = json_object(), *receipts = NULL;
    if (run == NULL)
        return e2e_end(&x, cli_error(CLI_ELOCAL, "out of memory"), 0);
    status = e2e_roster_fetch(&x, tid, &r);
    if (status == 0)
        status = e2e_walk(&x, r, 0, r->last_seq, run, collect, &a, &max_seen);
    json_decref(run);
    if (status == 0) {
        cli_state_set_max(cli_state_thread(&x.st, r->text), "synced", (uint64_t)r->last_seq);
        status = e2e_cursor(&x, r->text, 0, max_seen);
    }
    if (status == 0)
        status = e2e_cursor(&x, r->text, 1, max_seen);
    if (status == 0)
        status = e2e_request(&x, json_pack("{s:s, s:s}", "t", "receipts", "thread", r->text),
                             "receipts", &receipts);
    if (status != 0) {
        free_msgs(&a);
        free(r);
        return e2e_end(&x, status, 1);
    }
    apply_receipts(&x, r, &a, receipts);
    json_decref(receipts);

    const char *title = NULL;
    for (size_t i = 0; i < a.n; i++)
        if (a.v[i].status == E2E_MSG_OK && a.v[i].content_type == SES_CONTENT_THREAD_TITLE &&
            a.v[i].text != NULL)
            title = a.v[i].text;
    if (cli->json) {
        json_t *msgs = json_array(), *mem = json_array();
        for (size_t i = 0; msgs && i < a.n; i++) {
            json_t *o = e2e_msg_json(&a.v[i], 0);
            if (o == NULL)
                continue;
            json_object_set_new(o, "delivered", json_boolean(a.v[i].delivered));
            json_object_set(o, "read_by", a.v[i].read_by ? a.v[i].read_by : json_array());
            json_array_append_new(msgs, o);
        }
        for (size_t i = 0; mem && i < r->n_members; i++)
            json_array_append_new(mem,
                                  json_pack("{s:s, s:s, s:s}", "user", r->members[i].text, "name",
                                            r->members[i].name, "role", r->members[i].role));
        json_t *out = json_pack("{s:s, s:s, s:o, s:I, s:o, s:o}", "thread", r->text, "patient",
                                r->patient, "title", title ? json_string(title) : json_null(),
                                "roster_version", (json_int_t)r->version, "members",
                                mem ? mem : json_array(), "messages", msgs ? msgs : json_array());
        if (out != NULL)
            cli_print_json(out);
        json_decref(out);
    } else {
        printf("thread   %s\npatient  %s\ntitle    ", r->text, r->patient);
        e2e_print_safe(stdout, title ? title : "-", NULL);
        printf("\nmembers  ");
        for (size_t i = 0; i < r->n_members; i++) {
            char *n = e2e_flatten(r->members[i].name);
            printf("%s%s (%s)", i ? ", " : "", n ? n : "?", r->members[i].role);
            free(n);
        }
        printf("\n\n");
        if (a.n == 0)
            printf("(no messages)\n");
        for (size_t i = 0; i < a.n; i++) {
            char marks[700] = "";
            if (a.v[i].status == E2E_MSG_OK) {
                snprintf(marks, sizeof marks, "%s%s%s%s", a.v[i].delivered ? "delivered" : "",
                         a.v[i].delivered && a.v[i].read_names[0] ? "; " : "",
                         a.v[i].read_names[0] ? "read by: " : "", a.v[i].read_names);
            }
            e2e_print_msg(&a.v[i], NULL, marks);
        }
        fflush(stdout);
    }
    free_msgs(&a);
    free(r);
    if (x.refused > 0)
        status = e2e_verify_failed("%d message(s) of thread %s refused (see %s/%s)", x.refused, tid,
                                   x.p.home, CLI_SECURITY_LOG);
    return e2e_end(&x, status, 1);
}

/* --- info, add, remove ---------------------------------------------------------------------- */

static int print_roster_reply(struct cli *cli, struct e2e *x, json_t *reply)
{
    struct e2e_roster *r = NULL;
    int status = e2e_roster_parse(x, reply, &r);
    if (status != 0)
        return status;
    if (cli->json)
        cli_print_json(reply);
    else
        print_members(r);
    free(r);
    return 0;
}

static int thread_info(struct cli *cli)
{
    const char *pos[1];
    int rc = e2e_args1(cli, NULL, 0, INFO_USAGE, "info needs a THREAD", &pos[0]);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct e2e x;
    char tid[E2E_ID_LEN];
    json_t *reply = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if ((status = e2e_resolve_thread(&x, pos[0], tid)) == 0)
        status = e2e_request(&x, json_pack("{s:s, s:s}", "t", "thread_info", "thread", tid),
                             "thread_info", &reply);
    if (status == 0)
        status = print_roster_reply(cli, &x, reply);
    json_decref(reply);
    return e2e_end(&x, status, status == 0);
}

static int change_member(struct cli *cli, int add)
{
    const char *usage = add ? ADD_USAGE : REMOVE_USAGE;
    const char *pos[2];
    int n_pos = 0;
    int rc = e2e_args(cli->argc, cli->argv, NULL, 0, usage, pos, 2, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos != 2)
        return cli_usage_error(usage, "%s needs a THREAD and a USER_ID", add ? "add" : "remove");
    uint8_t uid[SES_ID_BYTES];
    if (ses_id_from_text(uid, pos[1]) != 0)
        return cli_usage_error(usage, "'%s' is not a user id (see sesame directory)", pos[1]);
    struct e2e x;
    char tid[E2E_ID_LEN], user[E2E_ID_LEN];
    json_t *reply = NULL;
    ses_id_to_text(user, uid);
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if ((status = e2e_resolve_thread(&x, pos[0], tid)) == 0)
        status = e2e_request(&x,
                             json_pack("{s:s, s:s, s:s}", "t", add ? "thread_add" : "thread_remove",
                                       "thread", tid, "user", user),
                             add ? "thread_add" : "thread_remove", &reply);
    if (status == 0)
        status = print_roster_reply(cli, &x, reply);
    json_decref(reply);
    return e2e_end(&x, status, status == 0);
}

static int thread_add(struct cli *cli)
{
    return change_member(cli, 1);
}

static int thread_remove(struct cli *cli)
{
    return change_member(cli, 0);
}

/* --- title ---------------------------------------------------------------------------------- */

static int thread_title(struct cli *cli)
{
    const char *pos[2];
    int n_pos = 0;
    int rc = e2e_args(cli->argc, cli->argv, NULL, 0, TITLE_USAGE, pos, 2, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (n_pos != 2)
        return cli_usage_error(TITLE_USAGE, "title needs a THREAD and the TEXT");
    if ((rc = check_text(TITLE_USAGE, "title", pos[1])) != 0)
        return rc;
    struct e2e x;
    char tid[E2E_ID_LEN];
    struct e2e_roster *r = NULL;
    json_t *sent = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if ((status = e2e_resolve_thread(&x, pos[0], tid)) == 0 &&
        (status = e2e_roster_fetch(&x, tid, &r)) == 0)
        status = e2e_send(&x, &r, SES_CONTENT_THREAD_TITLE, (const uint8_t *)pos[1], strlen(pos[1]),
                          &sent);
    if (status == 0) {
        if (cli->json) {
            cli_print_json(sent);
        } else {
            const json_t *dup = json_object_get(sent, "duplicate");
            printf("title sent (seq %lld)%s\n",
                   (long long)json_integer_value(json_object_get(sent, "seq")),
                   json_is_true(dup) ? " (already stored: duplicate)" : "");
        }
    }
    json_decref(sent);
    free(r);
    return e2e_end(&x, status, 1);
}

int cmd_thread(struct cli *cli)
{
    static const struct cli_sub subs[] = {{"create", thread_create}, {"list", thread_list},
                                          {"show", thread_show},     {"info", thread_info},
                                          {"add", thread_add},       {"remove", thread_remove},
                                          {"title", thread_title}};
    return cli_dispatch(cli, "thread", THREAD_USAGE, subs, sizeof subs / sizeof subs[0]);
}
