/*
 * handle_oncall.c - the escalation roles an admin sets through the server (PROTOCOL.md §13
 * "On call"): oncall_show, oncall_set (on-duty psychiatrist, program lead) and backup_set. A
 * stored role overrides sesamed.conf's; each change is one writer job with its audit record
 * (oncall.set, backup.set), replied to after the commit. Also the warnings shown while no on-duty
 * psychiatrist or program lead is in force (an escalation chain could end with nobody).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sesame/codec.h"
#include "sesame/encode.h"
#include "sesame/err.h"

#include "alert_engine.h"
#include "alert_logic.h"
#include "session.h"
#include "writer.h"

/* An active user of one of the roles in mask (1u << enum ses_role). */
static bool active_in(struct ses_store *st, const uint8_t id[SES_ID_BYTES], unsigned mask)
{
    struct ses_user u;
    return ses_id_is_set(id) && ses_store_user_get(st, id, &u) == 0 && !u.revoked &&
           (mask & (1u << u.role)) != 0;
}

#define CLINICIANS ((1u << SES_ROLE_NURSE) | (1u << SES_ROLE_PSYCHIATRIST) | (1u << SES_ROLE_GP))

json_t *ses_oncall_warnings_json(struct ses_daemon *d)
{
    json_t *w = json_array();
    struct ses_chain_roles *r = malloc(sizeof *r);
    if (w == NULL || r == NULL || ses_alert_roles_load(d->store, &d->cfg, r) != 0) {
        free(r);
        return w;
    }
    if (!active_in(d->store, r->on_duty, 1u << SES_ROLE_PSYCHIATRIST))
        json_array_append_new(w, json_string("NO_ON_DUTY_PSYCHIATRIST"));
    if (!active_in(d->store, r->lead, CLINICIANS))
        json_array_append_new(w, json_string("NO_PROGRAM_LEAD"));
    free(r);
    return w;
}

static json_t *opt_id_json(const uint8_t id[SES_ID_BYTES])
{
    char t[SES_ID_TEXT_LEN + 1];
    if (!ses_id_is_set(id))
        return json_null();
    ses_id_to_text(t, id);
    return json_string(t);
}

/* The `oncall` reply body: the roles in force, the emergency routes, the warnings. */
static json_t *oncall_json(struct ses_daemon *d)
{
    struct ses_chain_roles *r = malloc(sizeof *r);
    if (r == NULL || ses_alert_roles_load(d->store, &d->cfg, r) != 0) {
        free(r);
        return NULL;
    }
    json_t *backups = json_array();
    for (int i = 0; backups != NULL && i < r->n_backups; i++)
        json_array_append_new(backups,
                              json_pack("{s:o, s:o}", "user", opt_id_json(r->backups[i].user),
                                        "backup", opt_id_json(r->backups[i].backup)));
    json_t *o =
        json_pack("{s:o, s:o, s:o, s:o, s:o}", "on_duty_psychiatrist", opt_id_json(r->on_duty),
                  "program_lead", opt_id_json(r->lead), "backups", backups ? backups : json_array(),
                  "emergency",
                  d->cfg.emergency_routes[0] ? json_string(d->cfg.emergency_routes) : json_null(),
                  "warnings", ses_oncall_warnings_json(d));
    free(r);
    return o;
}

int ses_handle_oncall_show(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    int rc = ses_fields_only(f->root, NULL);
    if (rc != 0)
        return rc;
    json_t *o = oncall_json(s->d);
    if (o == NULL)
        return SES_ENOMEM;
    json_object_set_new(o, "t", json_string("oncall"));
    *reply = o;
    return 0;
}

/* --- changes ------------------------------------------------------------------------------------
 */

enum { SET_ON_DUTY = 1u << 0, SET_LEAD = 1u << 1, SET_BACKUP = 1u << 2 };

struct oncall_job {
    struct ses_req req;
    unsigned what;
    bool clear_on_duty, clear_lead, clear_backup;
    uint8_t on_duty[SES_ID_BYTES], lead[SES_ID_BYTES];
    uint8_t user[SES_ID_BYTES], backup[SES_ID_BYTES];
};

static int audit_change(struct ses_store *st, const struct oncall_job *j, const char *action,
                        const char *object)
{
    return ses_req_audit(st, &j->req, action, object, 0);
}

static void id_or_none(char out[SES_ID_TEXT_LEN + 1], bool clear, const uint8_t id[SES_ID_BYTES])
{
    if (clear)
        snprintf(out, SES_ID_TEXT_LEN + 1, "none");
    else
        ses_id_to_text(out, id);
}

static int set_role(struct ses_store *st, const struct oncall_job *j, const char *role, bool clear,
                    const uint8_t id[SES_ID_BYTES])
{
    char t[SES_ID_TEXT_LEN + 1], object[96];
    id_or_none(t, clear, id);
    snprintf(object, sizeof object, "oncall:%s user:%s", role, t);
    int rc = ses_store_oncall_put(st, role, clear ? NULL : id, j->req.user, j->req.now);
    return rc != 0 ? rc : audit_change(st, j, "oncall.set", object);
}

static int run_oncall(struct ses_store *st, void *arg)
{
    struct oncall_job *j = arg;
    int rc = 0;
    if (j->what & SET_ON_DUTY)
        rc = set_role(st, j, "on_duty_psychiatrist", j->clear_on_duty, j->on_duty);
    if (rc == 0 && (j->what & SET_LEAD))
        rc = set_role(st, j, "program_lead", j->clear_lead, j->lead);
    if (rc == 0 && (j->what & SET_BACKUP)) {
        int64_t n = 0; /* the other users' rows: this user's own row is replaced */
        if ((rc = ses_store_backup_count(st, j->user, &n)) == 0 && n >= SES_ONCALL_MAX_BACKUPS)
            rc = SES_ETOO_LARGE;
        char u[SES_ID_TEXT_LEN + 1], b[SES_ID_TEXT_LEN + 1], object[96];
        ses_id_to_text(u, j->user);
        id_or_none(b, j->clear_backup, j->backup);
        snprintf(object, sizeof object, "user:%s backup:%s", u, b);
        if (rc == 0)
            rc = ses_store_backup_put(st, j->user, j->clear_backup ? NULL : j->backup, j->req.user,
                                      j->req.now);
        if (rc == 0)
            rc = audit_change(st, j, "backup.set", object);
    }
    return rc;
}

static void done_oncall(void *arg, int rc)
{
    struct oncall_job *j = arg;
    struct ses_session *s = ses_req_session(&j->req);
    if (s != NULL && rc != 0) {
        ses_session_reply_error(s, j->req.id, rc);
    } else if (s != NULL) {
        json_t *o = oncall_json(j->req.d);
        if (o != NULL)
            (void)ses_session_reply(s, "oncall", j->req.id, o);
        else
            ses_session_reply_error(s, j->req.id, SES_ENOMEM);
    }
    if (rc == 0)
        ses_alerts_kick(j->req.d);
    free(j);
}

static struct oncall_job *job_new(struct ses_session *s, const struct ses_frame *f)
{
    struct oncall_job *j = calloc(1, sizeof *j);
    if (j == NULL)
        return NULL;
    ses_req_init(&j->req, s, f->id);
    return j;
}

static int submit(struct oncall_job *j)
{
    return ses_req_submit(&j->req, run_oncall, done_oncall, j);
}

/* Reads key as a user id, or null (*clear). Absent: *present false. */
static int get_user_or_null(const json_t *root, const char *key, uint8_t out[SES_ID_BYTES],
                            bool *present, bool *clear)
{
    const json_t *v = json_object_get(root, key);
    *present = v != NULL;
    *clear = v != NULL && json_is_null(v);
    if (v == NULL || *clear)
        return 0;
    return ses_get_id(root, key, true, out, NULL);
}

int ses_handle_oncall_set(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"on_duty_psychiatrist", "program_lead", NULL};
    uint8_t duty[SES_ID_BYTES], lead[SES_ID_BYTES];
    bool has_duty, clear_duty, has_lead, clear_lead;
    int rc;
    (void)reply;
    if ((rc = ses_fields_only(f->root, keys)) != 0 ||
        (rc = get_user_or_null(f->root, "on_duty_psychiatrist", duty, &has_duty, &clear_duty)) !=
            0 ||
        (rc = get_user_or_null(f->root, "program_lead", lead, &has_lead, &clear_lead)) != 0)
        return rc;
    if (!has_duty && !has_lead)
        return SES_EMISSING_FIELD;
    if ((has_duty && !clear_duty && !active_in(s->d->store, duty, 1u << SES_ROLE_PSYCHIATRIST)) ||
        (has_lead && !clear_lead && !active_in(s->d->store, lead, CLINICIANS)))
        return SES_EBAD_FIELD; /* the on-duty is an active psychiatrist, the lead a clinician */
    struct oncall_job *j = job_new(s, f);
    if (j == NULL)
        return SES_ENOMEM;
    j->what = (has_duty ? SET_ON_DUTY : 0) | (has_lead ? SET_LEAD : 0);
    j->clear_on_duty = clear_duty;
    j->clear_lead = clear_lead;
    memcpy(j->on_duty, duty, SES_ID_BYTES);
    memcpy(j->lead, lead, SES_ID_BYTES);
    return submit(j);
}

int ses_handle_backup_set(struct ses_session *s, const struct ses_frame *f, json_t **reply)
{
    static const char *const keys[] = {"user", "backup", NULL};
    uint8_t user[SES_ID_BYTES], backup[SES_ID_BYTES];
    bool has_backup, clear;
    int rc;
    (void)reply;
    if ((rc = ses_fields_only(f->root, keys)) != 0 ||
        (rc = ses_get_id(f->root, "user", true, user, NULL)) != 0 ||
        (rc = get_user_or_null(f->root, "backup", backup, &has_backup, &clear)) != 0)
        return rc;
    if (!has_backup)
        return SES_EMISSING_FIELD;
    if (!active_in(s->d->store, user, CLINICIANS) ||
        (!clear &&
         (!active_in(s->d->store, backup, CLINICIANS) || memcmp(user, backup, SES_ID_BYTES) == 0)))
        return SES_EBAD_FIELD;
    struct oncall_job *j = job_new(s, f);
    if (j == NULL)
        return SES_ENOMEM;
    j->what = SET_BACKUP;
    j->clear_backup = clear;
    memcpy(j->user, user, SES_ID_BYTES);
    memcpy(j->backup, backup, SES_ID_BYTES);
    return submit(j);
}
