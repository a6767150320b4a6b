/*
 * export_fhir.c - exp_fhir: the recommendation as a FHIR R4 Bundle (type collection, jansson):
 * Patient, the psychiatrist's and the GP's Practitioner, a Task that tracks the loop, one
 * MedicationRequest (MED_* items) or ServiceRequest (other items) per item and the contingency
 * plan as a CommunicationRequest, every request of intent proposal. Full URLs are urn:uuid:
 * UUIDs derived from the recommendation's id, version and entry index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sesame/err.h"
#include "sesame/scales.h"
#include "export_int.h"

/* Builder state: the first failure (SES_ENOMEM) sticks. */
struct fb {
    const struct exp_input *in;
    int err;
    char sys_patient[160], sys_user[160], sys_rec[160];
};

/* Sets key of o to v (stolen; NULL records ENOMEM). */
static void set(struct fb *b, json_t *o, const char *key, json_t *v)
{
    if (o == NULL) {
        json_decref(v);
        b->err = SES_ENOMEM;
    } else if (v == NULL || json_object_set_new(o, key, v) != 0) {
        b->err = SES_ENOMEM; /* json_object_set_new released v */
    }
}

static void set_str(struct fb *b, json_t *o, const char *key, const char *s)
{
    set(b, o, key, json_string(s));
}

static void push(struct fb *b, json_t *a, json_t *v)
{
    if (a == NULL) {
        json_decref(v);
        b->err = SES_ENOMEM;
    } else if (v == NULL || json_array_append_new(a, v) != 0) {
        b->err = SES_ENOMEM; /* json_array_append_new released v */
    }
}

static json_t *reference(struct fb *b, const char *full_url)
{
    json_t *r = json_object();
    set_str(b, r, "reference", full_url);
    return r;
}

static json_t *identifier(struct fb *b, const char *system, const char *value)
{
    json_t *i = json_object();
    set_str(b, i, "system", system);
    set_str(b, i, "value", value);
    return i;
}

static json_t *text_concept(struct fb *b, const char *text)
{
    json_t *c = json_object();
    set_str(b, c, "text", text);
    return c;
}

static json_t *annotation(struct fb *b, const char *text)
{
    json_t *a = json_object();
    set_str(b, a, "text", text);
    return a;
}

static void full_url(const struct exp_input *in, size_t index, char out[46])
{
    char text[256], uuid[37];
    snprintf(text, sizeof text, "sesame-fhir|%s|%d|%zu", in->rec_id, in->version, index);
    exp_uuid(text, uuid);
    snprintf(out, 46, "urn:uuid:%s", uuid);
}

static json_t *patient(struct fb *b)
{
    const struct exp_input *in = b->in;
    const struct ses_patient_card *c = in->card;
    json_t *r = json_object();
    set_str(b, r, "resourceType", "Patient");
    json_t *ids = json_array();
    if (exp_has_ins(c)) {
        char sys[64];
        snprintf(sys, sizeof sys, "urn:oid:%s", ses_ins_oid(c->ins_kind));
        push(b, ids, identifier(b, sys, c->ins));
    }
    if (in->patient_ref != NULL && in->patient_ref[0] != '\0')
        push(b, ids, identifier(b, b->sys_patient, in->patient_ref));
    set(b, r, "identifier", ids);
    if (c != NULL) {
        json_t *names = json_array();
        json_t *official = json_object();
        set_str(b, official, "use", "official");
        set_str(b, official, "family", c->birth_name);
        json_t *given = json_array();
        push(b, given, json_string(c->first_given[0] != '\0' ? c->first_given : c->given_names));
        set(b, official, "given", given);
        push(b, names, official);
        if (c->used_name[0] != '\0') {
            json_t *usual = json_object();
            set_str(b, usual, "use", "usual");
            set_str(b, usual, "family", c->used_name);
            push(b, names, usual);
        }
        set(b, r, "name", names);
        set_str(b, r, "gender", c->sex == 'F' ? "female" : c->sex == 'M' ? "male" : "unknown");
        char day[11];
        ses_day_format(c->birth_day, day);
        set_str(b, r, "birthDate", day);
    }
    return r;
}

static json_t *practitioner(struct fb *b, const struct exp_party *p)
{
    json_t *r = json_object();
    set_str(b, r, "resourceType", "Practitioner");
    json_t *ids = json_array();
    push(b, ids, identifier(b, b->sys_user, exp_str(p->id)));
    set(b, r, "identifier", ids);
    json_t *names = json_array();
    json_t *n = json_object();
    set_str(b, n, "text", exp_party_label(p));
    push(b, names, n);
    set(b, r, "name", names);
    return r;
}

static const char *task_status(enum ses_rec_state s)
{
    switch (s) {
    case SES_REC_SENT:
        return "requested";
    case SES_REC_ACKNOWLEDGED:
        return "received";
    case SES_REC_ACCEPTED:
        return "accepted";
    case SES_REC_MODIFIED:
        return "accepted";
    case SES_REC_DECLINED:
        return "rejected";
    case SES_REC_IMPLEMENTED:
        return "in-progress";
    case SES_REC_VERIFIED:
        return "completed";
    case SES_REC_SUPERSEDED:
        return "cancelled";
    }
    return "draft";
}

/* Entry full URLs: 0 Patient, 1 author, 2 GP, 3 Task, 4.. the items, then the contingency. */
struct urls {
    char patient[46], author[46], gp[46], task[46], contingency[46];
    char items[SES_REC_ITEMS_MAX][46];
};

static json_t *task(struct fb *b, const struct urls *u)
{
    const struct exp_input *in = b->in;
    const struct ses_rec_doc *d = in->doc;
    json_t *r = json_object();
    set_str(b, r, "resourceType", "Task");
    json_t *ids = json_array();
    char value[160];
    snprintf(value, sizeof value, "%s.%d", in->rec_id, in->version);
    push(b, ids, identifier(b, b->sys_rec, value));
    set(b, r, "identifier", ids);
    set_str(b, r, "status", task_status(in->state));
    if ((in->state == SES_REC_DECLINED || in->state == SES_REC_MODIFIED) && in->reason != NULL &&
        in->reason[0] != '\0')
        set(b, r, "statusReason", text_concept(b, in->reason));
    set(b, r, "businessStatus", text_concept(b, exp_state_name(in->state)));
    set_str(b, r, "intent", "proposal");
    set_str(b, r, "priority", d->urgent ? "urgent" : "routine");
    set_str(b, r, "description", "Psychiatric case-review recommendation");
    set(b, r, "focus", reference(b, d->n_items > 0 ? u->items[0] : u->contingency));
    set(b, r, "for", reference(b, u->patient));
    char t[24];
    exp_time_iso(in->sent_ms, t, sizeof t);
    set_str(b, r, "authoredOn", t);
    int64_t last = in->sent_ms;
    const int64_t dates[] = {in->acked_ms, in->decided_ms, in->implemented_ms, in->verified_ms};
    for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++)
        if (dates[i] > last)
            last = dates[i];
    exp_time_iso(last, t, sizeof t);
    set_str(b, r, "lastModified", t);
    set(b, r, "requester", reference(b, u->author));
    set(b, r, "owner", reference(b, u->gp));
    json_t *notes = json_array();
    char *s = NULL;
    if (asprintf(&s, "Safety assessment: %s", d->safety) < 0)
        s = NULL;
    push(b, notes, s != NULL ? annotation(b, s) : NULL);
    free(s);
    if (asprintf(&s, "Contingency plan: %s", d->contingency) < 0)
        s = NULL;
    push(b, notes, s != NULL ? annotation(b, s) : NULL);
    free(s);
    set(b, r, "note", notes);
    if (d->n_items > 0) {
        json_t *inputs = json_array();
        for (size_t i = 0; i < d->n_items; i++) {
            json_t *x = json_object();
            char label[48];
            snprintf(label, sizeof label, "recommendation item %zu", i + 1);
            set(b, x, "type", text_concept(b, label));
            set(b, x, "valueReference", reference(b, u->items[i]));
            push(b, inputs, x);
        }
        set(b, r, "input", inputs);
    }
    return r;
}

static json_t *item_request(struct fb *b, const struct urls *u, size_t i)
{
    const struct exp_input *in = b->in;
    const struct ses_rec_item *it = &in->doc->items[i];
    json_t *r = json_object();
    char t[24];
    exp_time_iso(in->sent_ms, t, sizeof t);
    if (ses_rec_item_is_med(it->type)) {
        set_str(b, r, "resourceType", "MedicationRequest");
        set_str(b, r, "status", "active");
        set_str(b, r, "intent", "proposal");
        json_t *cat = json_array();
        push(b, cat, text_concept(b, exp_item_type_words(it->type)));
        set(b, r, "category", cat);
        set(b, r, "medicationCodeableConcept", text_concept(b, it->drug));
        set(b, r, "subject", reference(b, u->patient));
        set_str(b, r, "authoredOn", t);
        set(b, r, "requester", reference(b, u->author));
        if (it->dose[0] != '\0' || it->titration[0] != '\0') {
            char *dose = NULL;
            if (asprintf(&dose, "%s%s%s", it->dose,
                         it->dose[0] != '\0' && it->titration[0] != '\0' ? "; " : "",
                         it->titration) < 0)
                dose = NULL;
            json_t *di = json_array();
            json_t *x = json_object();
            set_str(b, x, "text", dose);
            free(dose);
            push(b, di, x);
            set(b, r, "dosageInstruction", di);
        }
        json_t *notes = json_array();
        if (it->monitoring[0] != '\0') {
            char *m = NULL;
            if (asprintf(&m, "Monitoring: %s", it->monitoring) < 0)
                m = NULL;
            push(b, notes, m != NULL ? annotation(b, m) : NULL);
            free(m);
        }
        if (it->text[0] != '\0')
            push(b, notes, annotation(b, it->text));
        if (json_array_size(notes) > 0)
            set(b, r, "note", notes);
        else
            json_decref(notes);
    } else {
        set_str(b, r, "resourceType", "ServiceRequest");
        set_str(b, r, "status", "active");
        set_str(b, r, "intent", "proposal");
        char *code = NULL;
        if (asprintf(&code, "%s: %s", exp_item_type_words(it->type), it->text) < 0)
            code = NULL;
        set(b, r, "code", code != NULL ? text_concept(b, code) : NULL);
        free(code);
        set(b, r, "subject", reference(b, u->patient));
        set_str(b, r, "authoredOn", t);
        set(b, r, "requester", reference(b, u->author));
        if (it->type == SES_REC_GP_VISIT) {
            json_t *perf = json_array();
            push(b, perf, reference(b, u->gp));
            set(b, r, "performer", perf);
        }
        if (it->monitoring[0] != '\0') {
            json_t *notes = json_array();
            push(b, notes, annotation(b, it->monitoring));
            set(b, r, "note", notes);
        }
    }
    return r;
}

static json_t *contingency(struct fb *b, const struct urls *u)
{
    const struct exp_input *in = b->in;
    json_t *r = json_object();
    set_str(b, r, "resourceType", "CommunicationRequest");
    set_str(b, r, "status", "active");
    set(b, r, "category", json_pack("[{s:s}]", "text", "contingency plan"));
    set_str(b, r, "priority", in->doc->urgent ? "urgent" : "routine");
    set(b, r, "subject", reference(b, u->patient));
    json_t *payload = json_array();
    json_t *p = json_object();
    set_str(b, p, "contentString", in->doc->contingency);
    push(b, payload, p);
    set(b, r, "payload", payload);
    char t[24];
    exp_time_iso(in->sent_ms, t, sizeof t);
    set_str(b, r, "authoredOn", t);
    set(b, r, "requester", reference(b, u->author));
    json_t *rec = json_array();
    push(b, rec, reference(b, u->gp));
    set(b, r, "recipient", rec);
    return r;
}

static void entry(struct fb *b, json_t *entries, const char *url, json_t *resource)
{
    json_t *e = json_object();
    set_str(b, e, "fullUrl", url);
    set(b, e, "resource", resource);
    push(b, entries, e);
}

int exp_fhir(const struct exp_input *in, char **out)
{
    if (out == NULL)
        return SES_EINVALID_ARG;
    *out = NULL;
    int rc = exp_input_check(in, false);
    if (rc != 0)
        return rc;
    struct fb b = {.in = in};
    snprintf(b.sys_patient, sizeof b.sys_patient, "urn:oid:%s.1", in->org_oid);
    snprintf(b.sys_user, sizeof b.sys_user, "urn:oid:%s.2", in->org_oid);
    snprintf(b.sys_rec, sizeof b.sys_rec, "urn:oid:%s.3", in->org_oid);
    struct urls u;
    full_url(in, 0, u.patient);
    full_url(in, 1, u.author);
    full_url(in, 2, u.gp);
    full_url(in, 3, u.task);
    for (size_t i = 0; i < in->doc->n_items; i++)
        full_url(in, 4 + i, u.items[i]);
    full_url(in, 4 + in->doc->n_items, u.contingency);

    json_t *root = json_object();
    set_str(&b, root, "resourceType", "Bundle");
    char text[256], uuid[37];
    snprintf(text, sizeof text, "sesame-fhir|%s|%d", in->rec_id, in->version);
    exp_uuid(text, uuid);
    set_str(&b, root, "id", uuid);
    set_str(&b, root, "type", "collection");
    char t[24];
    exp_time_iso(in->sent_ms, t, sizeof t);
    set_str(&b, root, "timestamp", t);
    json_t *entries = json_array();
    entry(&b, entries, u.patient, patient(&b));
    entry(&b, entries, u.author, practitioner(&b, &in->author));
    entry(&b, entries, u.gp, practitioner(&b, &in->gp));
    entry(&b, entries, u.task, task(&b, &u));
    for (size_t i = 0; i < in->doc->n_items; i++)
        entry(&b, entries, u.items[i], item_request(&b, &u, i));
    entry(&b, entries, u.contingency, contingency(&b, &u));
    set(&b, root, "entry", entries);
    if (b.err != 0) {
        json_decref(root);
        return b.err;
    }
    *out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return *out != NULL ? 0 : SES_ENOMEM;
}
