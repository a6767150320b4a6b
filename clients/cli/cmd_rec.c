/*
 * cmd_rec.c - the recommendation loop from the terminal (PROTOCOL.md §16): `sesame rec send`
 * (a psychiatrist's structured recommendation, sent end-to-end encrypted as content type 5 and
 * then registered with the server), `rec list`, `rec show` (the decrypted letter, the loop's
 * state and timeline), and the loop's steps `rec ack`, `rec decide`, `rec implemented`,
 * `rec verify`, `rec amend`. The export lives in cmd_rec_export.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "e2e.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/recommend.h"

#define REC_USAGE "sesame rec send|list|show|ack|decide|implemented|verify|amend|export [OPTIONS]"
#define REC_DOC_OPTS                                                                               \
    "(--file REC.json | --text TEXT --question TEXT --data-basis TEXT --safety TEXT "              \
    "--contingency TEXT --next-review YYYY-MM-DD [--question-code CODE]) [--urgent]"
#define REC_SEND_USAGE "sesame rec send THREAD " REC_DOC_OPTS " [--gp USER_ID]"
#define REC_AMEND_USAGE "sesame rec amend ID " REC_DOC_OPTS
#define REC_LIST_USAGE "sesame rec list [--state STATE] [--thread THREAD]"
#define REC_SHOW_USAGE "sesame rec show ID"
#define REC_DECIDE_USAGE                                                                           \
    "sesame rec decide ID --decision accepted|modified|declined [--reason TEXT]"
#define REC_FILE_MAX SES_REC_BODY_MAX

/* --- the recommendation's content ---------------------------------------------------------- */

struct doc_opts {
    const char *file, *text, *question, *question_code, *data_basis, *safety, *contingency,
        *next_review, *review_date;
    int urgent;
};

/* The file's JSON object with the parts a writer may leave out filled in (v, kind, date today,
 * urgency, question code, disclaimer, text); NULL after the error. */
static json_t *load_doc_file(const char *path, const char *usage)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        cli_error(CLI_ELOCAL, "cannot open %s", path);
        return NULL;
    }
    char *buf = malloc(REC_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, REC_FILE_MAX + 1, f) : 0;
    fclose(f);
    if (buf == NULL || n > REC_FILE_MAX) {
        free(buf);
        cli_usage_error(usage, "BAD_FIELD: %s is larger than %d bytes", path, REC_FILE_MAX);
        return NULL;
    }
    json_error_t jerr;
    json_t *o = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &jerr);
    sodium_memzero(buf, n);
    free(buf);
    if (!json_is_object(o)) {
        json_decref(o);
        cli_usage_error(usage, "BAD_FIELD: %s is not one JSON object (line %d: %s)", path,
                        jerr.line, jerr.text);
        return NULL;
    }
    char today[11];
    ses_day_format(cli_today(), today);
    json_t *dflt =
        json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:[]}", "v", 1, "kind", "recommendation",
                  "date", today, "urgency", "routine", "question_code", "other", "disclaimer",
                  ses_rec_disclaimer_default(), "text", "", "items");
    if (dflt == NULL || json_object_update_missing(o, dflt) != 0) {
        json_decref(dflt);
        json_decref(o);
        cli_error(CLI_ELOCAL, "out of memory");
        return NULL;
    }
    json_decref(dflt);
    return o;
}

/* The names of the required parts o lacks ("safety, contingency"), "" if none. */
static void missing_parts(const json_t *o, char *out, size_t cap)
{
    static const char *const required[] = {"question", "data_basis", "safety", "contingency",
                                           "next_review"};
    out[0] = '\0';
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (json_object_get(o, required[i]) == NULL)
            e2e_note_add(out, cap, "%s", required[i]);
}

/* The recommendation of --file, or of --text with the other options. Returns 0 or the exit
 * status (error printed). */
static int build_doc(const struct doc_opts *o, const char *usage, struct ses_rec_doc *d)
{
    if ((o->file != NULL) == (o->text != NULL))
        return cli_usage_error(usage, "give either --file REC.json or --text TEXT");
    json_t *j = NULL;
    if (o->file != NULL) {
        if ((j = load_doc_file(o->file, usage)) == NULL)
            return CLI_EUSAGE;
    } else {
        char today[11];
        ses_day_format(cli_today(), today);
        j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:s}", "v", 1, "kind",
                      "recommendation", "date", today, "urgency", "routine", "question_code",
                      o->question_code ? o->question_code : "other", "disclaimer",
                      ses_rec_disclaimer_default(), "text", "", "items", "narrative", o->text);
        const char *keys[] = {"question", "data_basis", "safety", "contingency", "next_review"};
        const char *vals[] = {o->question, o->data_basis, o->safety, o->contingency,
                              o->next_review};
        for (size_t i = 0; j != NULL && i < 5; i++)
            if (vals[i] != NULL)
                json_object_set_new(j, keys[i], json_string(vals[i]));
        if (j != NULL && o->review_date != NULL)
            json_object_set_new(j, "review_date", json_string(o->review_date));
    }
    if (j != NULL && o->urgent)
        json_object_set_new(j, "urgency", json_string("urgent"));
    char missing[160];
    if (j != NULL)
        missing_parts(j, missing, sizeof missing);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (body == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    int status = CLI_OK;
    if (missing[0] != '\0') {
        status = cli_usage_error(usage, "BAD_FIELD: a recommendation needs %s (%s)", missing,
                                 o->file ? o->file
                                         : "options --question, --data-basis, --safety, "
                                           "--contingency, --next-review");
    } else if (ses_rec_doc_parse((const uint8_t *)body, strlen(body), d) != 0) {
        status = cli_usage_error(usage, "BAD_FIELD: the recommendation cannot be sent: %s",
                                 ses_rec_body_problem((const uint8_t *)body, strlen(body)));
    }
    sodium_memzero(body, strlen(body));
    free(body);
    return status;
}

/* Encodes d and sends it to the thread as content type 5. Returns 0 with *seq, or the status. */
static int send_doc(struct e2e *x, struct e2e_roster **r, const struct ses_rec_doc *d, int64_t *seq)
{
    uint8_t *body = NULL;
    size_t len = 0;
    int rc = ses_rec_doc_encode(d, &body, &len);
    if (rc != 0)
        return cli_error(CLI_EUSAGE, "%s: %s", ses_err_name(rc),
                         ses_rec_doc_problem(d) ? ses_rec_doc_problem(d) : ses_err_msg(rc));
    json_t *sent = NULL;
    int status = e2e_send(x, r, SES_CONTENT_RECOMMENDATION, body, len, &sent);
    sodium_memzero(body, len);
    free(body);
    if (status == 0)
        *seq = (int64_t)json_integer_value(json_object_get(sent, "seq"));
    json_decref(sent);
    return status;
}

/* --- printing ------------------------------------------------------------------------------ */

static void when(char *out, size_t cap, const json_t *rec, const char *key)
{
    cli_fmt_time(out, cap, json_object_get(rec, key));
}

/* "acknowledge by 2026-12-10T09:00:00Z (in 6 d 23 h)" or "(overdue 2 h 3 min)". */
static void deadline_text(char *out, size_t cap, const json_t *rec)
{
    const json_t *dl = json_object_get(rec, "deadline");
    if (strcmp(cli_str(rec, "state", ""), "sent") != 0 || !json_is_integer(dl)) {
        snprintf(out, cap, "-");
        return;
    }
    char at[32], dur[32];
    int64_t left = (int64_t)json_integer_value(dl) - (int64_t)ses_client_now_ms();
    cli_fmt_time(at, sizeof at, dl);
    cli_fmt_dur(dur, sizeof dur, left < 0 ? -left : left);
    snprintf(out, cap, "%s (%s %s)", at, left < 0 ? "overdue" : "in", dur);
}

static void print_rec_line(struct e2e *x, const json_t *rec)
{
    char gp[SES_MAX_NAME_LEN + 32], sent[32], dl[96];
    cli_name_of(x, NULL, json_object_get(rec, "gp"), gp, sizeof gp);
    when(sent, sizeof sent, rec, "sent");
    deadline_text(dl, sizeof dl, rec);
    printf("Recommendation %.8s v%lld for %s: %s, %s, to %s, sent %s", cli_str(rec, "rec", "?"),
           (long long)json_integer_value(json_object_get(rec, "version")),
           cli_str(rec, "patient", "?"), cli_str(rec, "state", "?"),
           json_is_true(json_object_get(rec, "urgent")) ? "urgent" : "routine", gp, sent);
    if (strcmp(dl, "-") != 0)
        printf("; acknowledgement due %s", dl);
    fputc('\n', stdout);
}

static void print_rec_reply(struct e2e *x, const json_t *reply)
{
    print_rec_line(x, json_object_get(reply, "rec"));
}

static void print_recs(struct e2e *x, const json_t *reply)
{
    const json_t *arr = json_object_get(reply, "recs");
    if (json_array_size(arr) == 0) {
        printf("(no recommendation)\n");
        return;
    }
    const char *hdr[] = {"REC", "PATIENT", "VER", "STATE", "URGENCY", "SENT", "GP", "ACK DUE"};
    struct cli_table t;
    if (cli_table_init(&t, 8, hdr) != 0)
        return;
    size_t i;
    json_t *rec;
    json_array_foreach(arr, i, rec)
    {
        char id[9], ver[12], sent[32], gp[SES_MAX_NAME_LEN + 32], dl[96];
        snprintf(id, sizeof id, "%.8s", cli_str(rec, "rec", "?"));
        snprintf(ver, sizeof ver, "%lld",
                 (long long)json_integer_value(json_object_get(rec, "version")));
        when(sent, sizeof sent, rec, "sent");
        cli_name_of(x, NULL, json_object_get(rec, "gp"), gp, sizeof gp);
        deadline_text(dl, sizeof dl, rec);
        const char *row[] = {id,
                             cli_str(rec, "patient", "?"),
                             ver,
                             cli_str(rec, "state", "?"),
                             json_is_true(json_object_get(rec, "urgent")) ? "urgent" : "routine",
                             sent,
                             gp,
                             dl};
        cli_table_add(&t, row);
    }
    cli_table_print(&t);
    cli_table_free(&t);
}

/* --- reading one message ------------------------------------------------------------------- */

static int take_one(struct e2e *x, const struct e2e_roster *r, struct e2e_msg *m, void *ud)
{
    (void)x;
    (void)r;
    struct e2e_msg *out = ud;
    e2e_msg_free(out);
    *out = *m; /* ownership moves */
    return 0;
}

int cli_read_msg(struct e2e *x, const struct e2e_roster *r, int64_t seq, struct e2e_msg *out)
{
    memset(out, 0, sizeof *out);
    if (seq < 1)
        return cli_error(CLI_EUSAGE, "no message %lld", (long long)seq);
    json_t *run = json_object();
    if (run == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    int status = e2e_walk(x, r, seq - 1, seq, run, take_one, out, NULL);
    json_decref(run);
    if (status == 0 && out->seq != seq)
        status = cli_error(CLI_EVERIFY,
                           "message %lld of the thread was not delivered to this device (no "
                           "key for it here: another device can share history)",
                           (long long)seq);
    else if (status == 0 && out->status != E2E_MSG_OK)
        status = e2e_verify_failed("message %lld of the thread did not verify (%s)", (long long)seq,
                                   out->note);
    if (status != 0)
        e2e_msg_free(out);
    return status;
}

int cli_rec_fetch(struct e2e *x, const char *arg, json_t **reply, struct e2e_roster **r,
                  struct ses_rec_doc *d)
{
    char id[E2E_ID_LEN];
    *reply = NULL;
    *r = NULL;
    int status = cli_resolve_rec(x, arg, id);
    if (status == 0)
        status =
            e2e_request(x, json_pack("{s:s, s:s}", "t", "rec_show", "rec", id), "rec_show", reply);
    const json_t *rec = json_object_get(*reply, "rec");
    if (status == 0)
        status = e2e_roster_fetch(x, cli_str(rec, "thread", ""), r);
    struct e2e_msg m;
    if (status == 0 && d != NULL &&
        (status = cli_read_msg(x, *r, (int64_t)json_integer_value(json_object_get(rec, "msg_seq")),
                               &m)) == 0) {
        if (m.content_type != SES_CONTENT_RECOMMENDATION || m.body == NULL ||
            ses_rec_doc_parse(m.body, m.body_len, d) != 0)
            status = e2e_verify_failed("message %lld is not a well-formed recommendation",
                                       (long long)m.seq);
        e2e_msg_free(&m);
    }
    if (status != 0) {
        json_decref(*reply);
        free(*r);
        *reply = NULL;
        *r = NULL;
    }
    return status;
}

int cli_resolve_rec(struct e2e *x, const char *arg, char *out)
{
    return e2e_resolve_listed(x, arg, "recs", "recommendation", "a recommendation", out);
}

/* --- send and amend ------------------------------------------------------------------------ */

/* The addressed GP: gp_opt, else the thread's only GP member. */
static int pick_gp(const struct e2e_roster *r, const char *gp_opt, char out[E2E_ID_LEN])
{
    if (gp_opt != NULL) {
        snprintf(out, E2E_ID_LEN, "%s", gp_opt);
        return 0;
    }
    int n = 0;
    for (size_t i = 0; i < r->n_members; i++)
        if (strcmp(r->members[i].role, "gp") == 0 && n++ == 0)
            snprintf(out, E2E_ID_LEN, "%s", r->members[i].text);
    if (n == 1)
        return 0;
    return cli_usage_error(REC_SEND_USAGE,
                           n == 0 ? "the thread has no GP member: add the patient's GP first "
                                    "(sesame thread add)"
                                  : "the thread has several GPs: say which with --gp USER_ID");
}

#define DOC_OPTS(o)                                                                                \
    {"file", &(o).file, NULL, NULL, 0}, {"text", &(o).text, NULL, NULL, 0},                        \
        {"question", &(o).question, NULL, NULL, 0},                                                \
        {"question-code", &(o).question_code, NULL, NULL, 0},                                      \
        {"data-basis", &(o).data_basis, NULL, NULL, 0}, {"safety", &(o).safety, NULL, NULL, 0},    \
        {"contingency", &(o).contingency, NULL, NULL, 0},                                          \
        {"next-review", &(o).next_review, NULL, NULL, 0},                                          \
    {                                                                                              \
        "review-date", &(o).review_date, NULL, NULL, 0                                             \
    }
#define N_DOC_OPTS 9

static int rec_send(struct cli *cli)
{
    struct doc_opts o = {0};
    const char *gp = NULL, *thread = NULL;
    o.urgent = cli_take_flag(cli, "urgent");
    const struct e2e_opt opts[] = {DOC_OPTS(o), {"gp", &gp, NULL, NULL, 0}};
    int rc =
        e2e_args1(cli, opts, N_DOC_OPTS + 1, REC_SEND_USAGE, "rec send needs a THREAD", &thread);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct ses_rec_doc *d = calloc(1, sizeof *d);
    if (d == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    int status = build_doc(&o, REC_SEND_USAGE, d);
    if (status != 0) {
        free(d);
        return status;
    }
    struct e2e x;
    char tid[E2E_ID_LEN], gp_id[E2E_ID_LEN];
    struct e2e_roster *r = NULL;
    int64_t seq = 0;
    if ((status = e2e_begin(cli, &x)) != 0) {
        free(d);
        return status;
    }
    if ((status = e2e_resolve_thread(&x, thread, tid)) == 0 &&
        (status = e2e_roster_fetch(&x, tid, &r)) == 0 && (status = pick_gp(r, gp, gp_id)) == 0)
        status = send_doc(&x, &r, d, &seq);
    json_t *reply = NULL;
    if (status == 0)
        status =
            e2e_request(&x,
                        json_pack("{s:s, s:s, s:I, s:s, s:b}", "t", "rec_send", "thread", tid,
                                  "msg_seq", (json_int_t)seq, "gp", gp_id, "urgent", d->urgent),
                        "rec_send", &reply);
    if (status == 0 && cli->json)
        cli_print_json(reply);
    else if (status == 0)
        print_rec_reply(&x, reply);
    json_decref(reply);
    sodium_memzero(d, sizeof *d);
    free(d);
    free(r);
    return e2e_end(&x, status, 1);
}

static int rec_amend(struct cli *cli)
{
    struct doc_opts o = {0};
    const char *arg = NULL;
    o.urgent = cli_take_flag(cli, "urgent");
    const struct e2e_opt opts[] = {DOC_OPTS(o)};
    int rc = e2e_args1(cli, opts, N_DOC_OPTS, REC_AMEND_USAGE, "rec amend needs an ID", &arg);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct ses_rec_doc *d = calloc(1, sizeof *d);
    if (d == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    int status = build_doc(&o, REC_AMEND_USAGE, d);
    struct e2e x;
    if (status == 0 && (status = e2e_begin(cli, &x)) == 0) {
        json_t *old = NULL, *reply = NULL;
        struct e2e_roster *r = NULL;
        int64_t seq = 0;
        if ((status = cli_rec_fetch(&x, arg, &old, &r, NULL)) == 0 &&
            (status = send_doc(&x, &r, d, &seq)) == 0)
            status = e2e_request(&x,
                                 json_pack("{s:s, s:O, s:I, s:b}", "t", "rec_amend", "rec",
                                           json_object_get(json_object_get(old, "rec"), "rec"),
                                           "msg_seq", (json_int_t)seq, "urgent", d->urgent),
                                 "rec_amend", &reply);
        if (status == 0 && cli->json)
            cli_print_json(reply);
        else if (status == 0)
            print_rec_reply(&x, reply);
        json_decref(reply);
        json_decref(old);
        free(r);
        status = e2e_end(&x, status, 1);
    }
    sodium_memzero(d, sizeof *d);
    free(d);
    return status;
}

/* --- the loop's steps ---------------------------------------------------------------------- */

/* rec_ack, rec_implemented or rec_verify of ID. */
static int simple_step(struct cli *cli, const char *type, const char *usage)
{
    const char *arg = NULL;
    char need[64];
    snprintf(need, sizeof need, "%s needs a recommendation ID", type);
    int rc = e2e_args1(cli, NULL, 0, usage, need, &arg);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct e2e x;
    char id[E2E_ID_LEN];
    json_t *reply = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    if ((status = cli_resolve_rec(&x, arg, id)) == 0)
        status = e2e_request(&x, json_pack("{s:s, s:s}", "t", type, "rec", id), type, &reply);
    if (status == 0 && cli->json)
        cli_print_json(reply);
    else if (status == 0)
        print_rec_reply(&x, reply);
    json_decref(reply);
    return e2e_end(&x, status, 1);
}

static int rec_ack(struct cli *cli)
{
    return simple_step(cli, "rec_ack", "sesame rec ack ID");
}

static int rec_implemented(struct cli *cli)
{
    return simple_step(cli, "rec_implemented", "sesame rec implemented ID");
}

static int rec_verify(struct cli *cli)
{
    return simple_step(cli, "rec_verify", "sesame rec verify ID");
}

static int rec_decide(struct cli *cli)
{
    const char *arg = NULL, *decision = NULL, *reason = NULL;
    const struct e2e_opt opts[] = {{"decision", &decision, NULL, NULL, 0},
                                   {"reason", &reason, NULL, NULL, 0}};
    int rc = e2e_args1(cli, opts, 2, REC_DECIDE_USAGE, "rec decide needs an ID", &arg);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (decision == NULL ||
        (strcmp(decision, "accepted") != 0 && strcmp(decision, "modified") != 0 &&
         strcmp(decision, "declined") != 0))
        return cli_usage_error(REC_DECIDE_USAGE,
                               "BAD_FIELD: --decision is accepted, modified or declined");
    if (reason != NULL && (reason[0] == '\0' || strlen(reason) > SES_REC_TEXT_MAX ||
                           !e2e_utf8_valid(reason, strlen(reason))))
        return cli_usage_error(REC_DECIDE_USAGE, "BAD_FIELD: --reason is 1..%d bytes of UTF-8 text",
                               SES_REC_TEXT_MAX);
    struct e2e x;
    json_t *show = NULL, *reply = NULL;
    struct e2e_roster *r = NULL;
    int status = e2e_begin(cli, &x);
    if (status != 0)
        return status;
    status = cli_rec_fetch(&x, arg, &show, &r, NULL);
    const json_t *rec = json_object_get(show, "rec");
    json_t *req = status == 0 ? json_pack("{s:s, s:O, s:s}", "t", "rec_decide", "rec",
                                          json_object_get(rec, "rec"), "decision", decision)
                              : NULL;
    if (status == 0 && reason != NULL) { /* the reason goes to the thread, encrypted */
        char *text = NULL;
        json_t *sent = NULL;
        if (asprintf(&text, "Decision on recommendation %.8s (%s): %s", cli_str(rec, "rec", "?"),
                     decision, reason) < 0)
            text = NULL;
        status =
            text ? e2e_send(&x, &r, SES_CONTENT_TEXT, (const uint8_t *)text, strlen(text), &sent)
                 : cli_error(CLI_ELOCAL, "out of memory");
        if (status == 0)
            json_object_set(req, "reason_seq", json_object_get(sent, "seq"));
        json_decref(sent);
        free(text);
    }
    if (status == 0)
        status = e2e_request(&x, req, "rec_decide", &reply);
    else
        json_decref(req);
    if (status == 0 && cli->json)
        cli_print_json(reply);
    else if (status == 0)
        print_rec_reply(&x, reply);
    json_decref(reply);
    json_decref(show);
    free(r);
    return e2e_end(&x, status, 1);
}

static int rec_list(struct cli *cli)
{
    const char *state = NULL, *thread = NULL;
    const struct e2e_opt opts[] = {{"state", &state, NULL, NULL, 0},
                                   {"thread", &thread, NULL, NULL, 0}};
    int n_pos = 0, rc = e2e_args(cli->argc, cli->argv, opts, 2, REC_LIST_USAGE, NULL, 0, &n_pos);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    if (state != NULL && ses_rec_state_parse(state) == 0)
        return cli_usage_error(REC_LIST_USAGE,
                               "BAD_FIELD: --state is sent, acknowledged, accepted, modified, "
                               "declined, implemented, verified or superseded");
    json_t *req = json_pack("{s:s, s:i}", "t", "recs", "limit", SES_REC_LIST_MAX);
    if (req != NULL && state != NULL)
        json_object_set_new(req, "state", json_string(state));
    return e2e_run(cli, req, thread, "recs", print_recs);
}

int cmd_rec(struct cli *cli)
{
    static const struct cli_sub subs[] = {
        {"send", rec_send},     {"list", rec_list},     {"show", cli_rec_show},
        {"ack", rec_ack},       {"decide", rec_decide}, {"implemented", rec_implemented},
        {"verify", rec_verify}, {"amend", rec_amend},   {"export", cli_rec_export}};
    return cli_dispatch(cli, "rec", REC_USAGE, subs, sizeof subs / sizeof subs[0]);
}
