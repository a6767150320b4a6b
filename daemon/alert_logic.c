/*
 * alert_logic.c - the pure rules of the alert engine (alert_logic.h).
 */
#include <stdio.h>
#include <string.h>

#include "sesame/err.h"

#include "ids.h"
#include "alert_logic.h"

/* The override line for t: the one naming its variant wins over one naming only its code. */
static const struct ses_alert_override *find_override(const struct ses_config *cfg,
                                                      const struct ses_alert_type *t, bool chain)
{
    const struct ses_alert_override *best = NULL;
    int best_rank = 0;
    for (int i = 0; cfg != NULL && i < cfg->n_overrides; i++) {
        const struct ses_alert_override *o = &cfg->overrides[i];
        if (strcmp(o->code, t->code) != 0 || (chain ? !o->has_chain : o->window_ms <= 0))
            continue;
        int rank = 1;
        if (o->variant[0] != '\0') {
            if (strcmp(o->variant, t->variant) != 0)
                continue;
            rank = 2; /* a line naming the variant beats one naming only the code */
        }
        if (rank >= best_rank) { /* and a later line an earlier one */
            best = o;
            best_rank = rank;
        }
    }
    return best;
}

int64_t ses_alert_window(const struct ses_config *cfg, const struct ses_alert_type *t)
{
    if (t->ack_ms == 0)
        return 0; /* INFO: no acknowledgement, whatever the site says */
    const struct ses_alert_override *o = find_override(cfg, t, false);
    return o != NULL ? o->window_ms : t->ack_ms;
}

void ses_alert_chain(const struct ses_config *cfg, const struct ses_alert_type *t,
                     unsigned chain[SES_ALERT_CHAIN_MAX + 1])
{
    const struct ses_alert_override *o = find_override(cfg, t, true);
    memset(chain, 0, sizeof(unsigned) * (SES_ALERT_CHAIN_MAX + 1));
    for (int i = 0; i < SES_ALERT_CHAIN_MAX; i++)
        chain[i] = o != NULL ? o->chain[i] : t->chain[i];
}

bool ses_id_is_set(const uint8_t id[SES_ID_BYTES])
{
    static const uint8_t zero[SES_ID_BYTES];
    return memcmp(id, zero, SES_ID_BYTES) != 0;
}

static void add_backup(struct ses_chain_roles *out, const uint8_t user[SES_ID_BYTES],
                       const uint8_t backup[SES_ID_BYTES])
{
    if (out->n_backups >= SES_CHAIN_BACKUPS_MAX)
        return;
    memcpy(out->backups[out->n_backups].user, user, SES_ID_BYTES);
    memcpy(out->backups[out->n_backups].backup, backup, SES_ID_BYTES);
    out->n_backups++;
}

/* The stored row for user's backup, or NULL. */
static const struct ses_oncall_backup *db_backup(const struct ses_oncall *db,
                                                 const uint8_t user[SES_ID_BYTES])
{
    for (int i = 0; db != NULL && i < db->n_backups; i++)
        if (memcmp(db->backups[i].user, user, SES_ID_BYTES) == 0)
            return &db->backups[i];
    return NULL;
}

void ses_chain_roles_resolve(const struct ses_config *cfg, const struct ses_oncall *db,
                             struct ses_chain_roles *out)
{
    memset(out, 0, sizeof *out);
    memcpy(out->on_duty, db && db->on_duty_set ? db->on_duty : cfg->on_duty_psychiatrist,
           SES_ID_BYTES);
    memcpy(out->lead, db && db->lead_set ? db->lead : cfg->program_lead, SES_ID_BYTES);
    for (int i = 0; i < cfg->n_backups; i++)
        if (db_backup(db, cfg->backups[i].user) == NULL)
            add_backup(out, cfg->backups[i].user, cfg->backups[i].backup);
    for (int i = 0; db != NULL && i < db->n_backups; i++)
        if (!db->backups[i].cleared)
            add_backup(out, db->backups[i].user, db->backups[i].backup);
}

int64_t ses_alert_renotify_ms(int severity)
{
    return severity == SES_SEV_P0   ? SES_RENOTIFY_P0_MS
           : severity == SES_SEV_P1 ? SES_RENOTIFY_P1_MS
                                    : 0;
}

unsigned ses_alert_raisers(const struct ses_alert_type *t)
{
    bool by_hand = t->origin == SES_ORIGIN_MANUAL || t->origin == SES_ORIGIN_CLIENT;
    return by_hand ? t->raisers : 0;
}

int ses_alert_raise_check(const struct ses_alert_type *t, int severity)
{
    if (t == NULL)
        return SES_EUNKNOWN_ALERT_TYPE;
    if (severity < -1 || severity >= SES_SEV_COUNT)
        return SES_EBAD_FIELD;
    if (severity >= 0 && severity < (int)t->severity)
        return SES_ESEVERITY_TOO_LOW;
    return 0;
}

/* Whether row b (at severity sev_b) is more urgent than row a (at sev_a). */
static bool more_urgent(const struct ses_config *cfg, const struct ses_alert_type *b, int sev_b,
                        const struct ses_alert_type *a, int sev_a)
{
    if (sev_b != sev_a)
        return sev_b > sev_a;
    int64_t wb = ses_alert_window(cfg, b), wa = a ? ses_alert_window(cfg, a) : 0;
    return wb > 0 && (wa == 0 || wb < wa);
}

enum ses_repeat_kind ses_alert_repeat_kind(const struct ses_config *cfg, const struct ses_alert *a,
                                           const struct ses_alert_type *new_t, int new_sev)
{
    const struct ses_alert_type *cur = ses_alert_type_find(a->type, a->variant);
    if (more_urgent(cfg, new_t, new_sev, cur, a->severity))
        return SES_REPEAT_UPGRADE;
    bool item9 = strcmp(new_t->code, "A01") == 0 && strcmp(new_t->variant, "item9_unanswered") != 0;
    if (item9 && strcmp(a->state, "acked") == 0)
        return SES_REPEAT_REOPEN;
    return SES_REPEAT_COUNT;
}

bool ses_alert_owned_by(const struct ses_alert *a, const uint8_t user[SES_ID_BYTES])
{
    return ses_id_among(a->owners, (size_t)a->n_owners, user);
}

bool ses_alert_is_owner(const struct ses_alert *a, const uint8_t user[SES_ID_BYTES])
{
    return ses_alert_owned_by(a, user) || ses_id_among(a->former, (size_t)a->n_former, user);
}

static bool is_open(const struct ses_alert *a)
{
    return strcmp(a->state, "raised") == 0 || strcmp(a->state, "acked") == 0;
}

int ses_alert_ack_check(const struct ses_alert *a)
{
    return strcmp(a->state, "raised") == 0 ? 0 : SES_EBAD_STATE;
}

const char *ses_alert_followup_code(const char *outcome)
{
    if (outcome != NULL && strcmp(outcome, "high") == 0)
        return "A03";
    if (outcome != NULL && strcmp(outcome, "imminent") == 0)
        return "A02";
    return NULL;
}

int ses_alert_resolve_check(const struct ses_alert *a, const struct ses_alert_type *t,
                            const char *code, const char *outcome, bool has_note)
{
    if (!is_open(a))
        return SES_EBAD_STATE;
    if (!ses_resolution_valid(code) || (outcome != NULL && !ses_risk_outcome_valid(outcome)))
        return SES_EBAD_FIELD;
    bool safety = t != NULL && t->safety;
    if (safety && outcome == NULL)
        return SES_EOUTCOME_REQUIRED;
    if (safety && !has_note)
        return SES_ENOTE_REQUIRED;
    bool dismissal = strcmp(code, "DUPLICATE") == 0 || strcmp(code, "NO_ACTION_NEEDED") == 0;
    if (dismissal && outcome != NULL && ses_risk_outcome_rank(outcome) > 1)
        return SES_EOUTCOME_CONFLICT; /* a risk above low is never dismissed */
    return 0;
}

int ses_alert_cancel_check(const struct ses_alert *a, const struct ses_alert_type *t,
                           const char *code)
{
    if (!is_open(a) || (t != NULL && t->safety))
        return SES_EBAD_STATE; /* only a risk assessment closes a safety alert */
    return ses_cancel_code_valid(code) ? 0 : SES_EBAD_FIELD;
}

int ses_escalation_next(const unsigned chain[SES_ALERT_CHAIN_MAX + 1], int from_step,
                        ses_party_has_users_fn has_users, void *ud, unsigned *skipped)
{
    for (int step = from_step + 1; step >= 1 && step <= SES_ALERT_CHAIN_MAX; step++) {
        unsigned party = chain[step - 1];
        if (party == 0)
            break; /* end of the chain */
        if (has_users(ud, party))
            return step;
        *skipped |= 1u << (step - 1);
    }
    return 0;
}

struct rules_acc {
    const struct ses_thread_meta *m;
    int64_t now;
    ses_cond_seen_fn seen;
    void *ud;
    struct ses_rule_hit *out;
    size_t n;
    int64_t next;
};

/* One rule: due at `at` (anchored at anchor) unless already raised for that anchor. */
static void consider(struct rules_acc *r, const char *code, const char *variant, const char *key,
                     int64_t anchor, int64_t at, int64_t deadline)
{
    char cond[SES_ALERT_COND_KEY_MAX];
    snprintf(cond, sizeof cond, "%s:%lld", key, (long long)anchor);
    if (r->seen(r->ud, cond))
        return;
    if (at > r->now) {
        if (r->next < 0 || at < r->next)
            r->next = at;
        return;
    }
    if (r->n >= SES_TIME_RULES_MAX)
        return;
    struct ses_rule_hit *h = &r->out[r->n];
    h->type = ses_alert_type_find(code, variant);
    if (h->type == NULL)
        return;
    snprintf(h->cond_key, sizeof h->cond_key, "%s", cond);
    h->deadline_ms = deadline;
    r->n++;
}

size_t ses_time_rules(const struct ses_thread_meta *m, int64_t now, ses_cond_seen_fn seen, void *ud,
                      struct ses_rule_hit out[SES_TIME_RULES_MAX], int64_t *next_ms)
{
    struct rules_acc r = {.m = m, .now = now, .seen = seen, .ud = ud, .out = out, .next = -1};
    const int64_t D = SES_DAY_MS;
    bool contacted = m->last_contact_ms >= m->enrolled_ms && m->contacts > 0;
    int64_t last_activity = contacted ? m->last_contact_ms : m->enrolled_ms;
    bool rp = strcmp(m->phase, "relapse_prevention") == 0;
    if (m->last_review_ms == 0)
        consider(&r, "A07", "", "A07", m->enrolled_ms, m->enrolled_ms + SES_RULE_A07_DAYS * D, 0);
    if (!contacted)
        consider(&r, "A08", "first_followup", "A08a", m->enrolled_ms,
                 m->enrolled_ms + SES_RULE_A08_FIRST_DAYS * D, 0);
    else if (!rp)
        consider(&r, "A08", "active", "A08b", m->last_contact_ms,
                 m->last_contact_ms + SES_RULE_A08_ACTIVE_DAYS * D, 0);
    else
        consider(&r, "A08", "relapse_prevention", "A08c", m->last_contact_ms,
                 m->last_contact_ms + SES_RULE_A08_RP_DAYS * D, 0);
    consider(&r, "A09", "", "A09", last_activity, last_activity + SES_RULE_A09_DAYS * D, 0);
    consider(&r, "A09b", "", "A09b", last_activity, last_activity + SES_RULE_A09B_DAYS * D, 0);
    if (!rp) {
        int64_t phq9 = m->last_phq9_ms > 0 ? m->last_phq9_ms : m->enrolled_ms;
        consider(&r, "A22", "", "A22", phq9, phq9 + SES_RULE_A22_DAYS * D, 0);
    }
    if (m->sequence_due_ms > 0)
        consider(&r, "A12", "", "A12", m->sequence_due_ms,
                 m->sequence_due_ms - SES_RULE_A12_LEAD_DAYS * D, m->sequence_due_ms);
    *next_ms = r.next;
    return r.n;
}
