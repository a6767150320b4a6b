/*
 * cmd_rec_read.c - reading a recommendation on this device (PROTOCOL.md §16): `sesame rec show`
 * (the decrypted letter, the GP's reason, the loop's state and timeline), `sesame rec export`
 * (PDF letter, CDA in an IHE XDM package, FHIR Bundle or MSSanté e-mail, built here from the
 * decrypted record and the thread's patient card: nothing leaves the device but the file) and
 * `sesame thread card` (the patient card: identity traits and INS, end-to-end encrypted).
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "e2e.h"
#include "export.h"
#include "sesame/encode.h"
#include "sesame/err.h"
#include "sesame/recommend.h"

#define REC_SHOW_USAGE "sesame rec show ID"
#define REC_EXPORT_USAGE                                                                           \
    "sesame rec export ID --format xdm|fhir|pdf|eml --out FILE [--org-oid OID] [--from ADDR "      \
    "--to ADDR]"
#define CARD_USAGE                                                                                 \
    "sesame thread card THREAD [--birth-name NAME --given-names NAMES --birth-date YYYY-MM-DD "    \
    "--sex F|M|U [--first-given NAME] [--used-name NAME] [--ins N --ins-kind "                     \
    "nir|nia|nir-test|nia-test] [--birth-place INSEE]]"
/* The custodian OID root when the site gives none (--org-oid): Sesame's documented example root,
 * to be replaced by the site's own registered OID for real exchanges. */
#define REC_DEFAULT_ORG_OID "1.2.250.1.999.1"

/* --- the thread's latest patient card and the GP's reason ---------------------------------- */

struct card_walk {
    struct ses_patient_card card;
    int found;
};

static int take_card(struct e2e *x, const struct e2e_roster *r, struct e2e_msg *m, void *ud)
{
    (void)x;
    (void)r;
    struct card_walk *w = ud;
    if (m->status == E2E_MSG_OK && m->content_type == SES_CONTENT_PATIENT_CARD && m->body != NULL &&
        ses_patient_card_parse(m->body, m->body_len, &w->card) == 0)
        w->found = 1; /* the latest one wins */
    e2e_msg_free(m);
    return 0;
}

/* The thread's latest card into *w (w->found 0 when there is none). Returns 0 or the status. */
static int read_card(struct e2e *x, const struct e2e_roster *r, struct card_walk *w)
{
    memset(w, 0, sizeof *w);
    json_t *run = json_object();
    if (run == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    int status = e2e_walk(x, r, 0, r->last_seq, run, take_card, w, NULL);
    json_decref(run);
    return status;
}

/* The GP's reason (the text of message reason_seq), malloc'd, or NULL without one. */
static char *read_reason(struct e2e *x, const struct e2e_roster *r, const json_t *rec, int *status)
{
    const json_t *seq = json_object_get(rec, "reason_seq");
    if (!json_is_integer(seq))
        return NULL;
    struct e2e_msg m;
    if ((*status = cli_read_msg(x, r, (int64_t)json_integer_value(seq), &m)) != 0)
        return NULL;
    char *text = m.text != NULL ? strdup(m.text) : NULL;
    e2e_msg_free(&m);
    return text;
}

/* --- rec show ------------------------------------------------------------------------------ */

static void field(const char *label, const char *text)
{
    if (text == NULL || text[0] == '\0')
        return;
    printf("  %-13s", label);
    e2e_print_safe(stdout, text, "               ");
    fputc('\n', stdout);
}

static void print_items(const struct ses_rec_doc *d)
{
    if (d->n_items > 0)
        printf("  Items\n");
    for (size_t i = 0; i < d->n_items; i++) {
        const struct ses_rec_item *it = &d->items[i];
        char head[3 * SES_REC_SHORT_MAX + 64];
        snprintf(head, sizeof head, "%s%s%s%s%s", ses_rec_item_type_name(it->type),
                 it->drug[0] ? "  " : "", it->drug, it->dose[0] ? " " : "", it->dose);
        printf("    %zu. ", i + 1);
        e2e_print_safe(stdout, head, "       ");
        fputc('\n', stdout);
        const char *labels[] = {"titration: ", "monitoring: ", ""};
        const char *texts[] = {it->titration, it->monitoring, it->text};
        for (int k = 0; k < 3; k++) {
            if (texts[k][0] == '\0')
                continue;
            printf("       %s", labels[k]);
            e2e_print_safe(stdout, texts[k], "       ");
            fputc('\n', stdout);
        }
    }
}

static void print_state(struct e2e *x, const struct e2e_roster *r, const json_t *rec,
                        const char *reason)
{
    char t[32], who[SES_MAX_NAME_LEN + 32];
    const char *decision = cli_str(rec, "decision", NULL);
    if (json_is_integer(json_object_get(rec, "acked"))) {
        cli_fmt_time(t, sizeof t, json_object_get(rec, "acked"));
        printf("  %-13s%s\n", "Acknowledged", t);
    }
    if (decision != NULL) {
        cli_fmt_time(t, sizeof t, json_object_get(rec, "decided"));
        printf("  %-13s%s on %s\n", "Decision", decision, t);
        field("GP's reason", reason);
    }
    if (json_is_integer(json_object_get(rec, "implemented"))) {
        cli_fmt_time(t, sizeof t, json_object_get(rec, "implemented"));
        printf("  %-13s%s\n", "Implemented", t);
    }
    if (json_is_integer(json_object_get(rec, "verified"))) {
        cli_fmt_time(t, sizeof t, json_object_get(rec, "verified"));
        cli_name_of(x, r, json_object_get(rec, "verified_by"), who, sizeof who);
        printf("  %-13s%s by %s\n", "Verified", t, who);
    }
    if (json_is_string(json_object_get(rec, "supersedes")))
        printf("  %-13s%.8s (an earlier version)\n", "Supersedes", cli_str(rec, "supersedes", ""));
    if (json_is_string(json_object_get(rec, "superseded_by")))
        printf("  %-13s%.8s: this version is no longer current\n", "Superseded",
               cli_str(rec, "superseded_by", ""));
}

static void print_show(struct e2e *x, const struct e2e_roster *r, const json_t *reply,
                       const struct ses_rec_doc *d, const char *reason)
{
    const json_t *rec = json_object_get(reply, "rec");
    char psy[SES_MAX_NAME_LEN + 32], gp[SES_MAX_NAME_LEN + 32], sent[32], day[11], next[11];
    cli_name_of(x, r, json_object_get(rec, "author"), psy, sizeof psy);
    cli_name_of(x, r, json_object_get(rec, "gp"), gp, sizeof gp);
    cli_fmt_time(sent, sizeof sent, json_object_get(rec, "sent"));
    ses_day_format(d->day, day);
    ses_day_format(d->next_review_day, next);
    printf("Recommendation %s v%lld for %s (thread %.8s): %s, %s%s\n", cli_str(rec, "rec", "?"),
           (long long)json_integer_value(json_object_get(rec, "version")),
           cli_str(rec, "patient", "?"), cli_str(rec, "thread", "?"), cli_str(rec, "state", "?"),
           d->urgent ? "URGENT" : "routine",
           json_is_true(json_object_get(rec, "overdue")) ? ", acknowledgement OVERDUE" : "");
    printf("  %-13s%s to %s (cc the nurse), sent %s\n", "From", psy, gp, sent);
    if (d->review_day >= 0) {
        char rd[11];
        ses_day_format(d->review_day, rd);
        printf("  %-13s%s, from the case review of %s\n", "Written", day, rd);
    } else {
        printf("  %-13s%s (ad hoc)\n", "Written", day);
    }
    printf("  %-13s[%s] ", "Question", ses_rec_question_name(d->question_code));
    e2e_print_safe(stdout, d->question, "               ");
    fputc('\n', stdout);
    field("Data basis", d->data_basis);
    field("Safety", d->safety);
    field("Diagnosis", d->diagnosis);
    print_items(d);
    field("Narrative", d->narrative);
    field("Contingency", d->contingency);
    printf("  %-13s%s\n", "Next review", next);
    print_state(x, r, rec, reason);
    printf("  Timeline\n");
    size_t i;
    json_t *ev;
    json_array_foreach(json_object_get(reply, "events"), i, ev)
    {
        char ts[32], by[SES_MAX_NAME_LEN + 32];
        cli_fmt_time(ts, sizeof ts, json_object_get(ev, "ts"));
        cli_name_of(x, r, json_object_get(ev, "by"), by, sizeof by);
        printf("    %s  %-12s %s\n", ts, cli_str(ev, "event", "?"), by);
    }
    field("Disclaimer", d->disclaimer);
}

/* An encoded body (rc: the encoder's result) as JSON, then wiped and freed; NULL on an error. */
static json_t *body_json(int rc, uint8_t *body, size_t len)
{
    json_error_t jerr;
    json_t *o = rc == 0 ? json_loadb((const char *)body, len, 0, &jerr) : NULL;
    if (body != NULL)
        sodium_memzero(body, len);
    free(body);
    return o;
}

/* The decrypted record as JSON (its canonical body), or NULL. */
static json_t *doc_json(const struct ses_rec_doc *d)
{
    uint8_t *body = NULL;
    size_t len = 0;
    int rc = ses_rec_doc_encode(d, &body, &len);
    return body_json(rc, body, len);
}

int cli_rec_show(struct cli *cli)
{
    const char *arg = NULL;
    int rc = e2e_args1(cli, NULL, 0, REC_SHOW_USAGE, "rec show needs an ID", &arg);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    struct ses_rec_doc *d = calloc(1, sizeof *d);
    if (d == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    struct e2e x;
    int status = e2e_begin(cli, &x);
    if (status == 0) {
        json_t *reply = NULL;
        struct e2e_roster *r = NULL;
        char *reason = NULL;
        if ((status = cli_rec_fetch(&x, arg, &reply, &r, d)) == 0)
            reason = read_reason(&x, r, json_object_get(reply, "rec"), &status);
        if (status == 0 && cli->json) {
            json_t *out =
                json_pack("{s:O, s:O, s:o?, s:s?}", "rec", json_object_get(reply, "rec"), "events",
                          json_object_get(reply, "events"), "doc", doc_json(d), "reason", reason);
            if (out != NULL)
                cli_print_json(out);
            json_decref(out);
        } else if (status == 0) {
            print_show(&x, r, reply, d, reason);
        }
        if (reason != NULL)
            sodium_memzero(reason, strlen(reason));
        free(reason);
        json_decref(reply);
        free(r);
        status = e2e_end(&x, status, 1);
    }
    sodium_memzero(d, sizeof *d);
    free(d);
    return status;
}

/* --- rec export ---------------------------------------------------------------------------- */

enum fmt { FMT_XDM, FMT_FHIR, FMT_PDF, FMT_EML };

struct party_names {
    char author[SES_MAX_NAME_LEN + 1], gp[SES_MAX_NAME_LEN + 1], nurse[SES_MAX_NAME_LEN + 1];
    char nurse_id[E2E_ID_LEN], site[128];
};

/* The people's names and the GP's practice (the GP's site in the directory). */
static void names_of(struct e2e *x, const struct e2e_roster *r, const json_t *rec,
                     struct party_names *n)
{
    char role[16];
    memset(n, 0, sizeof *n);
    e2e_user_label(x, r, cli_str(rec, "author", ""), n->author, sizeof n->author, role,
                   sizeof role);
    e2e_user_label(x, r, cli_str(rec, "gp", ""), n->gp, sizeof n->gp, role, sizeof role);
    for (size_t i = 0; i < r->n_members; i++)
        if (strcmp(r->members[i].role, "nurse") == 0) {
            snprintf(n->nurse, sizeof n->nurse, "%s", r->members[i].name);
            snprintf(n->nurse_id, sizeof n->nurse_id, "%s", r->members[i].text);
            break;
        }
    if (x->directory == NULL) { /* as e2e_user_label: ids only when it is not allowed */
        json_t *reply = NULL;
        if (ses_conn_request(x->conn, json_pack("{s:s}", "t", "directory"), x->cli->timeout_ms,
                             &reply) == 0)
            x->directory = reply;
        else
            json_decref(reply);
    }
    size_t i;
    json_t *u;
    json_array_foreach(json_object_get(x->directory, "users"), i, u)
    {
        if (strcmp(cli_str(u, "user", ""), cli_str(rec, "gp", "")) == 0)
            snprintf(n->site, sizeof n->site, "%s", cli_str(u, "site", ""));
    }
}

static int64_t ms_of(const json_t *rec, const char *key)
{
    const json_t *v = json_object_get(rec, key);
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* Builds the file of format f. Returns 0 with *out (*len bytes) or a SES_E* code. */
static int build(enum fmt f, const struct exp_input *in, const char *from, const char *to,
                 uint8_t **out, size_t *len)
{
    char *text = NULL;
    int rc;
    switch (f) {
    case FMT_XDM:
        return exp_xdm(in, out, len);
    case FMT_PDF:
        return exp_pdf(in, out, len);
    case FMT_EML:
        return exp_eml(in, from, to, (int64_t)ses_client_now_ms(), out, len);
    case FMT_FHIR:
        rc = exp_fhir(in, &text);
        if (rc == 0) {
            *out = (uint8_t *)text;
            *len = strlen(text);
        }
        return rc;
    }
    return SES_EINVALID_ARG;
}

/* Writes data to path (0600, atomically). Returns 0 or CLI_ELOCAL after the error. */
static int write_file(const char *path, const uint8_t *data, size_t len)
{
    char *a = strdup(path), *b = strdup(path);
    int rc = a && b ? ses_write_atomic(dirname(a), basename(b), data, len, 0600) : SES_ENOMEM;
    free(a);
    free(b);
    return rc == 0 ? 0 : cli_error(CLI_ELOCAL, "cannot write %s", path);
}

struct export_opts {
    const char *arg, *format, *out, *org_oid, *from, *to;
    enum fmt f;
};

static int export_run(struct e2e *x, const struct export_opts *o, struct ses_rec_doc *d)
{
    json_t *reply = NULL;
    struct e2e_roster *r = NULL;
    struct card_walk *w = calloc(1, sizeof *w);
    struct party_names *n = calloc(1, sizeof *n);
    char *reason = NULL;
    int status =
        w && n ? cli_rec_fetch(x, o->arg, &reply, &r, d) : cli_error(CLI_ELOCAL, "out of memory");
    const json_t *rec = json_object_get(reply, "rec");
    if (status == 0)
        status = read_card(x, r, w);
    if (status == 0)
        reason = read_reason(x, r, rec, &status);
    if (status == 0 && !w->found && o->f != FMT_PDF && o->f != FMT_FHIR)
        status = cli_error(CLI_EUSAGE,
                           "BAD_FIELD: the thread has no patient card: the GP's software files "
                           "the document by the patient's INS and identity (sesame thread card "
                           "THREAD ...)");
    if (status == 0 && w->found && w->card.ins_kind == SES_INS_NONE && o->f != FMT_PDF &&
        o->f != FMT_FHIR)
        status = cli_error(CLI_EUSAGE, "BAD_FIELD: the patient card has no INS: add it first "
                                       "(sesame thread card THREAD --ins N --ins-kind nir ...)");
    if (status == 0) {
        names_of(x, r, rec, n);
        struct exp_input in = {.doc = d,
                               .card = w->found ? &w->card : NULL,
                               .rec_id = cli_str(rec, "rec", ""),
                               .version = (int)json_integer_value(json_object_get(rec, "version")),
                               .thread_id = cli_str(rec, "thread", ""),
                               .patient_ref = cli_str(rec, "patient", ""),
                               .state = ses_rec_state_parse(cli_str(rec, "state", "")),
                               .decision = cli_str(rec, "decision", NULL),
                               .reason = reason,
                               .sent_ms = ms_of(rec, "sent"),
                               .acked_ms = ms_of(rec, "acked"),
                               .decided_ms = ms_of(rec, "decided"),
                               .implemented_ms = ms_of(rec, "implemented"),
                               .verified_ms = ms_of(rec, "verified"),
                               .author = {cli_str(rec, "author", ""), n->author},
                               .gp = {cli_str(rec, "gp", ""), n->gp},
                               .nurse = {n->nurse_id, n->nurse},
                               .site = n->site,
                               .org_oid = o->org_oid ? o->org_oid : REC_DEFAULT_ORG_OID};
        uint8_t *data = NULL;
        size_t len = 0;
        int rc = build(o->f, &in, o->from, o->to, &data, &len);
        if (rc != 0)
            status = cli_error(rc == SES_EBAD_FIELD ? CLI_EUSAGE : CLI_ELOCAL,
                               "%s: cannot build the %s file: %s", ses_err_name(rc), o->format,
                               ses_err_msg(rc));
        else if ((status = write_file(o->out, data, len)) == 0 && x->cli->json) {
            json_t *j = json_pack("{s:s, s:s, s:s, s:I}", "rec", in.rec_id, "format", o->format,
                                  "out", o->out, "bytes", (json_int_t)len);
            if (j != NULL)
                cli_print_json(j);
            json_decref(j);
        } else if (status == 0) {
            printf("Recommendation %.8s v%d for %s written to %s (%s, %zu bytes)\n", in.rec_id,
                   in.version, in.patient_ref, o->out, o->format, len);
        }
        if (data != NULL)
            sodium_memzero(data, len);
        free(data);
    }
    if (reason != NULL)
        sodium_memzero(reason, strlen(reason));
    free(reason);
    if (w != NULL)
        sodium_memzero(w, sizeof *w);
    free(w);
    free(n);
    json_decref(reply);
    free(r);
    return status;
}

int cli_rec_export(struct cli *cli)
{
    struct export_opts o = {0};
    const struct e2e_opt opts[] = {{"format", &o.format, NULL, NULL, 0},
                                   {"out", &o.out, NULL, NULL, 0},
                                   {"org-oid", &o.org_oid, NULL, NULL, 0},
                                   {"from", &o.from, NULL, NULL, 0},
                                   {"to", &o.to, NULL, NULL, 0}};
    int rc = e2e_args1(cli, opts, 5, REC_EXPORT_USAGE, "rec export needs an ID", &o.arg);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    static const char *const names[] = {"xdm", "fhir", "pdf", "eml"};
    int f = -1;
    for (int i = 0; o.format != NULL && i < 4; i++)
        if (strcmp(o.format, names[i]) == 0)
            f = i;
    if (f < 0)
        return cli_usage_error(REC_EXPORT_USAGE, "BAD_FIELD: --format is xdm, fhir, pdf or eml");
    o.f = (enum fmt)f;
    if (o.out == NULL || o.out[0] == '\0')
        return cli_usage_error(REC_EXPORT_USAGE, "--out FILE is required");
    if (o.f == FMT_EML && (o.from == NULL || o.to == NULL))
        return cli_usage_error(REC_EXPORT_USAGE,
                               "--format eml needs --from and --to (the MSSanté addresses)");
    struct ses_rec_doc *d = calloc(1, sizeof *d);
    if (d == NULL)
        return cli_error(CLI_ELOCAL, "out of memory");
    struct e2e x;
    int status = e2e_begin(cli, &x);
    if (status == 0)
        status = e2e_end(&x, export_run(&x, &o, d), 1);
    sodium_memzero(d, sizeof *d);
    free(d);
    return status;
}

/* --- thread card --------------------------------------------------------------------------- */

struct card_opts {
    const char *thread, *birth_name, *given, *first, *used, *birth_date, *sex, *ins, *kind, *place;
};

static int copy_trait(const char *usage, const char *opt, const char *v, char *out, size_t cap)
{
    if (v == NULL)
        return 0;
    if (strlen(v) >= cap || !e2e_utf8_valid(v, strlen(v)))
        return cli_usage_error(usage, "BAD_FIELD: --%s is at most %zu bytes of UTF-8 text", opt,
                               cap - 1);
    snprintf(out, cap, "%s", v);
    return 0;
}

/* The card of the options. Returns 0 or CLI_EUSAGE after the error. */
static int card_of(const struct card_opts *o, struct ses_patient_card *c)
{
    memset(c, 0, sizeof *c);
    c->day = cli_today();
    if (o->birth_name == NULL || o->given == NULL || o->birth_date == NULL || o->sex == NULL)
        return cli_usage_error(CARD_USAGE,
                               "a patient card needs --birth-name, --given-names, --birth-date "
                               "and --sex");
    int rc =
        copy_trait(CARD_USAGE, "birth-name", o->birth_name, c->birth_name, sizeof c->birth_name);
    rc =
        rc ? rc
           : copy_trait(CARD_USAGE, "given-names", o->given, c->given_names, sizeof c->given_names);
    if (rc == 0 && o->first == NULL) { /* the first of the given names */
        size_t k = strcspn(o->given, " ,");
        snprintf(c->first_given, sizeof c->first_given, "%.*s", (int)k, o->given);
    }
    rc =
        rc ? rc
           : copy_trait(CARD_USAGE, "first-given", o->first, c->first_given, sizeof c->first_given);
    rc = rc ? rc : copy_trait(CARD_USAGE, "used-name", o->used, c->used_name, sizeof c->used_name);
    rc =
        rc ? rc
           : copy_trait(CARD_USAGE, "birth-place", o->place, c->birth_place, sizeof c->birth_place);
    rc = rc ? rc : copy_trait(CARD_USAGE, "ins", o->ins, c->ins, sizeof c->ins);
    if (rc != 0)
        return rc;
    if (ses_day_parse(o->birth_date, &c->birth_day) != 0)
        return cli_usage_error(CARD_USAGE, "BAD_FIELD: --birth-date needs YYYY-MM-DD");
    if (strlen(o->sex) != 1 || strchr("FMU", o->sex[0]) == NULL)
        return cli_usage_error(CARD_USAGE, "BAD_FIELD: --sex is F, M or U");
    c->sex = o->sex[0];
    static const char *const kinds[] = {"", "nir", "nia", "nir-test", "nia-test"};
    for (int i = 1; o->kind != NULL && i <= 4; i++)
        if (strcmp(o->kind, kinds[i]) == 0)
            c->ins_kind = (enum ses_ins_kind)i;
    if (o->ins != NULL && o->kind == NULL)
        c->ins_kind = SES_INS_NIR;
    if ((o->kind != NULL && c->ins_kind == SES_INS_NONE) || (o->kind != NULL && o->ins == NULL))
        return cli_usage_error(
            CARD_USAGE, "BAD_FIELD: --ins-kind is nir, nia, nir-test or nia-test, with --ins");
    if (o->ins != NULL && !ses_ins_valid(o->ins))
        return cli_usage_error(CARD_USAGE,
                               "BAD_FIELD: --ins is not a valid INS: 13 characters and the 2-digit "
                               "key (97 minus the number modulo 97; 2A/2B for Corsica)");
    if (ses_patient_card_check(c) != 0)
        return cli_usage_error(CARD_USAGE, "BAD_FIELD: the patient card is incomplete");
    return 0;
}

static json_t *card_json(const struct ses_patient_card *c)
{
    uint8_t *body = NULL;
    size_t len = 0;
    int rc = ses_patient_card_encode(c, &body, &len);
    return body_json(rc, body, len);
}

static void print_card(const struct e2e_roster *r, const struct ses_patient_card *c)
{
    char bd[11], day[11];
    ses_day_format(c->birth_day, bd);
    ses_day_format(c->day, day);
    printf("Patient card of %s (thread %.8s), entered %s\n", r->patient, r->text, day);
    field("Birth name", c->birth_name);
    field("Given names", c->given_names);
    field("First given", c->first_given);
    field("Used name", c->used_name);
    printf("  %-13s%s\n  %-12s%c\n", "Born", bd, "Sex", c->sex);
    field("Birth place", c->birth_place);
    if (c->ins_kind != SES_INS_NONE)
        printf("  %-13s%s (OID %s)\n", "INS", c->ins, ses_ins_oid(c->ins_kind));
    else
        printf("  %-13s(none: the identity is not qualified, exports to the GP's record refuse)\n",
               "INS");
}

static int card_run(struct e2e *x, const struct card_opts *o, struct ses_patient_card *c, int set)
{
    char tid[E2E_ID_LEN];
    struct e2e_roster *r = NULL;
    struct card_walk *w = calloc(1, sizeof *w);
    json_t *sent = NULL;
    int status = w ? e2e_resolve_thread(x, o->thread, tid) : cli_error(CLI_ELOCAL, "out of memory");
    if (status == 0)
        status = e2e_roster_fetch(x, tid, &r);
    if (status == 0 && set) {
        uint8_t *body = NULL;
        size_t len = 0;
        int rc = ses_patient_card_encode(c, &body, &len);
        status = rc ? cli_error(CLI_ELOCAL, "%s: cannot encode the card", ses_err_name(rc))
                    : e2e_send(x, &r, SES_CONTENT_PATIENT_CARD, body, len, &sent);
        if (body != NULL)
            sodium_memzero(body, len);
        free(body);
        w->card = *c;
        w->found = 1;
    } else if (status == 0) {
        status = read_card(x, r, w);
    }
    if (status == 0 && x->cli->json) {
        json_t *out = json_pack("{s:s, s:s, s:o?, s:O?}", "thread", r->text, "patient", r->patient,
                                "card", w->found ? card_json(&w->card) : json_null(), "seq",
                                json_object_get(sent, "seq"));
        if (out != NULL)
            cli_print_json(out);
        json_decref(out);
    } else if (status == 0 && w->found) {
        print_card(r, &w->card);
        if (set)
            printf("Sent encrypted (seq %lld): the server never sees it\n",
                   (long long)json_integer_value(json_object_get(sent, "seq")));
    } else if (status == 0) {
        printf("(no patient card for %s: sesame thread card THREAD --birth-name ... to add one)\n",
               r->patient);
    }
    if (w != NULL)
        sodium_memzero(w, sizeof *w);
    free(w);
    json_decref(sent);
    free(r);
    return status;
}

int cmd_thread_card(struct cli *cli)
{
    struct card_opts o = {0};
    const struct e2e_opt opts[] = {{"birth-name", &o.birth_name, NULL, NULL, 0},
                                   {"given-names", &o.given, NULL, NULL, 0},
                                   {"first-given", &o.first, NULL, NULL, 0},
                                   {"used-name", &o.used, NULL, NULL, 0},
                                   {"birth-date", &o.birth_date, NULL, NULL, 0},
                                   {"sex", &o.sex, NULL, NULL, 0},
                                   {"ins", &o.ins, NULL, NULL, 0},
                                   {"ins-kind", &o.kind, NULL, NULL, 0},
                                   {"birth-place", &o.place, NULL, NULL, 0}};
    int rc = e2e_args1(cli, opts, 9, CARD_USAGE, "thread card needs a THREAD", &o.thread);
    if (rc != 0)
        return rc < 0 ? CLI_OK : rc;
    int set = o.birth_name || o.given || o.first || o.used || o.birth_date || o.sex || o.ins ||
              o.kind || o.place;
    struct ses_patient_card c;
    if (set && (rc = card_of(&o, &c)) != 0)
        return rc;
    struct e2e x;
    int status = e2e_begin(cli, &x);
    if (status == 0)
        status = e2e_end(&x, card_run(&x, &o, &c, set), 1);
    sodium_memzero(&c, sizeof c);
    return status;
}
