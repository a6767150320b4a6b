// alerts.js - the structured clinical alert catalogue of PROTOCOL.md §13 (protocol/src/alerts.c):
// type codes and variants, severities, who raises, owns, is copied, acknowledgement windows,
// escalation chains, who closes; the checks the daemon applies to a raise, an acknowledgement, a
// resolution and a cancellation (daemon/alert_logic.c, daemon/authz.c) so the web client refuses
// before sending what the server would refuse, as the CLI does (clients/cli/cmd_alert.c); the
// alert note (content type 3) body; and how the CLI shows deadlines and the P0 banner. Pure.

import { check } from './errors.js';
import { utf8Decode, utf8Encode, wellFormed } from './json.js';
import {
  CLINICAL_ROLES, SES_ROLE_ADMIN, SES_ROLE_GP, SES_ROLE_NURSE, SES_ROLE_PSYCHIATRIST,
  roleFromName,
} from './roles.js';

/* --- severities, origins, parties ---------------------------------------------------------- */

export const SES_SEV_INFO = 0; // status notification, no acknowledgement
export const SES_SEV_P3 = 1; // routine: task for the next scheduled contact
export const SES_SEV_P2 = 2; // high: before the next weekly case review
export const SES_SEV_P1 = 3; // urgent: same business day (30 min for A01 item 9 >= 2)
export const SES_SEV_P0 = 4; // critical: possible imminent danger to life
export const SES_SEV_COUNT = 5;
const SEV_NAMES = Object.freeze(['INFO', 'P3', 'P2', 'P1', 'P0']);

export const SES_ORIGIN_MANUAL = 1; // a user, by hand (optional encrypted note)
export const SES_ORIGIN_CLIENT = 2; // a client, from scale records it scored
export const SES_ORIGIN_DAEMON = 3; // the daemon, from thread metadata and time
export const SES_ORIGIN_LATER = 4; // catalogued, raised by a later feature
const ORIGIN_NAMES = Object.freeze(['', 'manual', 'client', 'daemon', 'later']);

export const SES_PARTY_NURSE = 1 << 0; // the thread's nurse members
export const SES_PARTY_GP = 1 << 1; // the thread's GP members
export const SES_PARTY_PSYCHIATRIST = 1 << 2; // the thread's psychiatrist members
export const SES_PARTY_BACKUP = 1 << 3; // each current owner's designated backup (config)
export const SES_PARTY_ON_DUTY = 1 << 4; // the on-duty psychiatrist (config; else the thread's)
export const SES_PARTY_LEAD = 1 << 5; // the program lead (config)
export const SES_PARTY_OWNER = 1 << 6; // the alert's current owners (closers only)
export const SES_PARTY_FORMER_OWNER = 1 << 7; // everyone who owned the alert before (closers)
const PARTY_NAMES = Object.freeze(['nurse', 'gp', 'psychiatrist', 'backup', 'on_duty', 'lead',
  'owner', 'former_owner']);

export const SES_ALERT_CHAIN_MAX = 4; // escalation steps after the first owners
export const SES_RENOTIFY_P0_MS = 15 * 60000; // an exhausted P0 is told again every 15 minutes
export const SES_RENOTIFY_P1_MS = 60 * 60000; // an exhausted P1 every hour
export const SES_CONTENT_ALERT_NOTE = 3; // the content type of an alert's note (§10)
export const SES_ENVELOPE_BODY_MAX = 65535; // bytes of a message body

/**
 * "INFO", "P3", "P2", "P1", "P0"; "?" out of range (ses_severity_name).
 * @param {number} sev SES_SEV_*
 * @returns {string}
 */
export function severityName(sev) {
  return Number.isInteger(sev) && sev >= 0 && sev < SES_SEV_COUNT ? SEV_NAMES[sev] : '?';
}

/**
 * The severity of a wire name, or -1 (ses_severity_from_name).
 * @param {string} name
 * @returns {number}
 */
export function severityFromName(name) {
  return SEV_NAMES.indexOf(name);
}

/**
 * The wire origin of a catalogue origin: "manual", "client", "daemon" (or "later").
 * @param {number} origin SES_ORIGIN_*
 * @returns {string}
 */
export function originName(origin) {
  return ORIGIN_NAMES[origin] || '?';
}

/**
 * The party of the thread's members of a role (ses_party_of_role): nurse, gp, psychiatrist;
 * 0 for admin, auditor, none.
 * @param {number} role SES_ROLE_*
 * @returns {number}
 */
export function partyOfRole(role) {
  if (role === SES_ROLE_NURSE) return SES_PARTY_NURSE;
  if (role === SES_ROLE_GP) return SES_PARTY_GP;
  if (role === SES_ROLE_PSYCHIATRIST) return SES_PARTY_PSYCHIATRIST;
  return 0;
}

/**
 * The names of the parties in a mask ("nurse", "gp", "psychiatrist", "backup", "on_duty",
 * "lead", "owner", "former_owner"), in bit order.
 * @param {number} mask SES_PARTY_* bits
 * @returns {string[]}
 */
export function partyNames(mask) {
  return PARTY_NAMES.filter((_, k) => (mask & (1 << k)) !== 0);
}

/* --- the catalogue ------------------------------------------------------------------------- */

const MIN = 60 * 1000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const R_NURSE = 1 << SES_ROLE_NURSE;
const R_PSY = 1 << SES_ROLE_PSYCHIATRIST;
const R_GP = 1 << SES_ROLE_GP;
const R_CLIN = CLINICAL_ROLES;
const [P_NURSE, P_GP, P_PSY, P_BACKUP, P_DUTY, P_LEAD, P_OWNER, P_FORMER] = [SES_PARTY_NURSE,
  SES_PARTY_GP, SES_PARTY_PSYCHIATRIST, SES_PARTY_BACKUP, SES_PARTY_ON_DUTY, SES_PARTY_LEAD,
  SES_PARTY_OWNER, SES_PARTY_FORMER_OWNER];
/* Who may resolve: a safety alert only its current owners, the thread's psychiatrists and the
 * on-duty psychiatrist; any other its current and former owners, the thread's members in its
 * owning roles and its psychiatrists. */
const CL_SAFETY = P_OWNER | P_PSY | P_DUTY;
const clTask = (owningRoles) => P_OWNER | P_FORMER | owningRoles | P_PSY;
const [S0, S1, S2, S3, SI] = [SES_SEV_P0, SES_SEV_P1, SES_SEV_P2, SES_SEV_P3, SES_SEV_INFO];
const [O_M, O_C, O_D, O_L] = [SES_ORIGIN_MANUAL, SES_ORIGIN_CLIENT, SES_ORIGIN_DAEMON,
  SES_ORIGIN_LATER];

function row(code, variant, name, severity, origin, raisers, owners, cc, ackMs, chain, safety,
  closers) {
  return Object.freeze({ code, variant, name, severity, origin, raisers, owners, cc,
    ack_ms: ackMs, chain: Object.freeze(chain), safety, closers });
}

/**
 * The catalogue rows in table order (alerts.c): {code, variant ('' for a one-row type), name,
 * severity (SES_SEV_*, the default and minimum), origin (SES_ORIGIN_*), raisers (1 << role
 * mask), owners, cc (SES_PARTY_* masks), ack_ms (0: none), chain (party masks, one per step),
 * safety (closed only with a risk outcome and a note), closers (SES_PARTY_* mask)}. A type's
 * first row is its default variant.
 */
export const ALERT_TYPES = Object.freeze([
  row('A01', 'item9_1', 'SAFETY_ITEM9_POSITIVE', S1, O_C, R_CLIN, P_NURSE, P_GP, 4 * HOUR,
    [P_BACKUP, P_GP, P_DUTY], true, CL_SAFETY),
  row('A01', 'item9_2', 'SAFETY_ITEM9_POSITIVE', S1, O_C, R_CLIN, P_NURSE, P_GP | P_PSY, 30 * MIN,
    [P_BACKUP, P_GP, P_DUTY], true, CL_SAFETY),
  row('A01', 'item9_unanswered', 'SAFETY_ITEM9_UNANSWERED', S3, O_C, R_CLIN, P_NURSE, 0, 7 * DAY,
    [P_BACKUP, P_GP], true, CL_SAFETY),
  row('A02', '', 'SAFETY_IMMINENT', S0, O_M, R_CLIN, P_GP | P_PSY, P_NURSE, 15 * MIN, [P_LEAD],
    true, CL_SAFETY),
  row('A03', '', 'SAFETY_MODERATE', S1, O_M, R_CLIN, P_PSY, P_GP, 4 * HOUR, [P_DUTY, P_LEAD], true,
    CL_SAFETY),
  row('A04', '', 'SEVERE_SYMPTOMS', S2, O_C, R_CLIN, P_NURSE, P_PSY | P_GP, 7 * DAY, [P_PSY],
    false, clTask(P_NURSE)),
  row('A05', '', 'WORSENING', S2, O_C, R_CLIN, P_NURSE, P_PSY, 7 * DAY, [P_PSY], false,
    clTask(P_NURSE)),
  row('A06', '', 'NOT_IMPROVING', S2, O_C, R_CLIN, P_NURSE, P_PSY, 7 * DAY, [P_PSY | P_LEAD],
    false, clTask(P_NURSE)),
  row('A06b', '', 'EARLY_NONRESPONSE', SI, O_C, R_CLIN, P_NURSE, 0, 0, [], false,
    clTask(P_NURSE)),
  row('A07', '', 'NEW_PATIENT_UNREVIEWED', S3, O_D, 0, P_NURSE, P_PSY, 14 * DAY, [P_PSY, P_LEAD],
    false, clTask(P_NURSE)),
  row('A08', 'first_followup', 'FOLLOWUP_OVERDUE', S2, O_D, 0, P_NURSE, P_GP, 7 * DAY, [P_LEAD],
    false, clTask(P_NURSE)),
  row('A08', 'active', 'FOLLOWUP_OVERDUE', S3, O_D, 0, P_NURSE, 0, 7 * DAY, [P_LEAD], false,
    clTask(P_NURSE)),
  row('A08', 'relapse_prevention', 'FOLLOWUP_OVERDUE', S3, O_D, 0, P_NURSE, 0, 7 * DAY, [P_LEAD],
    false, clTask(P_NURSE)),
  row('A09', '', 'LOST_TO_FOLLOW_UP', S2, O_D, 0, P_NURSE | P_GP, 0, 7 * DAY, [P_LEAD], false,
    clTask(P_NURSE | P_GP)),
  row('A09b', '', 'EPISODE_AUTO_CLOSE', SI, O_D, 0, P_NURSE, P_GP | P_PSY, 0, [], false,
    clTask(P_NURSE)),
  row('A10', 'response', 'RESPONSE_REACHED', SI, O_C, R_CLIN, P_NURSE, P_GP | P_PSY, 0, [], false,
    clTask(P_NURSE)),
  row('A10', 'remission', 'REMISSION_REACHED', S3, O_C, R_CLIN, P_NURSE, P_GP | P_PSY, 14 * DAY,
    [], false, clTask(P_NURSE)),
  row('A11', '', 'RELAPSE_SUSPECTED', S2, O_C, R_CLIN, P_NURSE, P_GP | P_PSY, 7 * DAY, [P_PSY],
    false, clTask(P_NURSE)),
  row('A12', '', 'EPISODE_DECISION_DUE', S3, O_D, 0, P_NURSE | P_PSY, P_GP, 7 * DAY, [P_LEAD],
    false, clTask(P_NURSE | P_PSY)),
  row('A13', 'routine', 'CONSULT_REQUEST', S2, O_M, R_NURSE, P_PSY, 0, 7 * DAY, [P_DUTY], false,
    clTask(P_PSY)),
  row('A13', 'urgent', 'CONSULT_REQUEST', S1, O_M, R_NURSE, P_PSY, 0, 4 * HOUR, [P_DUTY], false,
    clTask(P_PSY)),
  row('A14', 'routine', 'RECOMMENDATION_ISSUED', S3, O_D, 0, P_GP, P_NURSE, 7 * DAY, [], false,
    clTask(P_GP)),
  row('A14', 'urgent', 'RECOMMENDATION_ISSUED', S1, O_D, 0, P_GP, P_NURSE, 1 * DAY, [], false,
    clTask(P_GP)),
  row('A15', '', 'RECOMMENDATION_UNACKED', S2, O_D, 0, P_NURSE, 0, 7 * DAY, [P_PSY | P_LEAD],
    false, clTask(P_NURSE)),
  row('A16', '', 'GP_DECISION_RECORDED', SI, O_D, 0, P_NURSE | P_PSY, 0, 0, [], false,
    clTask(P_NURSE | P_PSY)),
  row('A17', '', 'MEDICATION_ISSUE', S2, O_M, R_NURSE, P_GP, P_PSY, 3 * DAY, [P_PSY], false,
    clTask(P_GP)),
  row('A18', '', 'SPECIALTY_REFERRAL_RECOMMENDED', S2, O_M, R_PSY, P_GP, P_NURSE, 7 * DAY,
    [P_LEAD], false, clTask(P_GP)),
  row('A19', 'routine', 'GP_EVENT', S2, O_M, R_GP, P_NURSE, P_PSY, 7 * DAY, [], false,
    clTask(P_NURSE)),
  row('A19', 'psychiatric', 'GP_EVENT', S1, O_M, R_GP, P_NURSE, P_PSY, 4 * HOUR,
    [P_PSY, P_DUTY, P_LEAD], true, CL_SAFETY),
  row('A22', '', 'PHQ9_OVERDUE', S3, O_D, 0, P_NURSE, 0, 7 * DAY, [P_LEAD], false,
    clTask(P_NURSE)),
  row('A20', '', 'CAPACITY_ALERT', SI, O_D, 0, P_LEAD, 0, 0, [], false, clTask(P_LEAD)),
  row('A21', '', 'TIME_THRESHOLD', SI, O_L, 0, P_NURSE, 0, 0, [], false, clTask(P_NURSE)),
]);

/**
 * The catalogue row of a code and variant; no variant (undefined, null or '') gives the type's
 * first (default) row (ses_alert_type_find).
 * @param {string} code e.g. 'A01'
 * @param {string|null} [variant] e.g. 'item9_2'
 * @returns {object|null} a row of ALERT_TYPES, or null
 */
export function alertTypeFind(code, variant) {
  return ALERT_TYPES.find((t) => t.code === code && (!variant || t.variant === variant)) || null;
}

/**
 * The number of catalogue rows (ses_alert_type_count).
 * @returns {number}
 */
export function alertTypeCount() {
  return ALERT_TYPES.length;
}

/**
 * The catalogue row at index i in table order, or null (ses_alert_type_at).
 * @param {number} i
 * @returns {object|null}
 */
export function alertTypeAt(i) {
  return ALERT_TYPES[i] || null;
}

/* --- codes --------------------------------------------------------------------------------- */

/** Risk-assessment outcomes, least to most severe: an outcome's rank is its index. */
export const RISK_OUTCOMES = Object.freeze(['none', 'low', 'moderate', 'high', 'imminent']);
/** The resolution codes a user may give (CONDITION_CLEARED is the daemon's own). */
export const RESOLUTION_CODES = Object.freeze(['ADDRESSED', 'RISK_ASSESSED', 'NO_ACTION_NEEDED',
  'REVIEWED', 'REFERRED', 'DUPLICATE']);
/** The cancellation codes. */
export const CANCEL_CODES = Object.freeze(['RAISED_IN_ERROR', 'DUPLICATE', 'WRONG_PATIENT']);
/** The resolution codes that dismiss an alert: never with a risk above low. */
const DISMISSALS = Object.freeze(['DUPLICATE', 'NO_ACTION_NEEDED']);

/**
 * Whether name is a risk outcome (ses_risk_outcome_valid; case-sensitive).
 * @param {string} name
 * @returns {boolean}
 */
export function riskOutcomeValid(name) {
  return RISK_OUTCOMES.includes(name);
}

/**
 * The rank of a risk outcome: none 0, low 1, moderate 2, high 3, imminent 4; -1 if not one.
 * @param {string} name
 * @returns {number}
 */
export function riskOutcomeRank(name) {
  return RISK_OUTCOMES.indexOf(name);
}

/**
 * Whether name is a resolution code a user may give (ses_resolution_valid).
 * @param {string} name
 * @returns {boolean}
 */
export function resolutionValid(name) {
  return RESOLUTION_CODES.includes(name);
}

/**
 * Whether name is a cancellation code (ses_cancel_code_valid).
 * @param {string} name
 * @returns {boolean}
 */
export function cancelCodeValid(name) {
  return CANCEL_CODES.includes(name);
}

/**
 * The follow-up a safety assessment's outcome raises at once (ses_alert_followup_code): an A03
 * (owned by the thread's psychiatrist) for "high", an A02 P0 for "imminent"; null otherwise.
 * @param {string|null} outcome
 * @returns {'A03'|'A02'|null}
 */
export function alertFollowupCode(outcome) {
  if (outcome === 'high') return 'A03';
  if (outcome === 'imminent') return 'A02';
  return null;
}

/**
 * How often an exhausted alert is told again until acknowledged (ses_alert_renotify_ms):
 * 15 minutes for P0, an hour for P1, never (0) below.
 * @param {number} severity SES_SEV_*
 * @returns {number} milliseconds
 */
export function alertRenotifyMs(severity) {
  if (severity === SES_SEV_P0) return SES_RENOTIFY_P0_MS;
  return severity === SES_SEV_P1 ? SES_RENOTIFY_P1_MS : 0;
}

/* --- the daemon's checks (alert_logic.c) --------------------------------------------------- */

/**
 * The roles (1 << role mask) that may raise t (ses_alert_raisers): its raisers for the types
 * raised by hand or by a client, none for the daemon's own and the later ones.
 * @param {object} t a catalogue row
 * @returns {number}
 */
export function alertRaisers(t) {
  return t.origin === SES_ORIGIN_MANUAL || t.origin === SES_ORIGIN_CLIENT ? t.raisers : 0;
}

/**
 * Checks a raise of t at a severity, the raiser being allowed (ses_alert_raise_check).
 * @param {object|null} t a catalogue row
 * @param {number} [severity] SES_SEV_*, -1 for the type's default
 * @returns {string|null} 'UNKNOWN_ALERT_TYPE', 'BAD_FIELD', 'SEVERITY_TOO_LOW', or null
 */
export function alertRaiseCheck(t, severity = -1) {
  if (t === null || t === undefined) return 'UNKNOWN_ALERT_TYPE';
  if (!Number.isInteger(severity) || severity < -1 || severity >= SES_SEV_COUNT) return 'BAD_FIELD';
  return severity >= 0 && severity < t.severity ? 'SEVERITY_TOO_LOW' : null;
}

export const SES_REPEAT_COUNT = 0; // counted only
export const SES_REPEAT_UPGRADE = 1; // more urgent: re-opened at step 0
export const SES_REPEAT_REOPEN = 2; // a new positive item 9 on an acknowledged A01

/**
 * What a raise of newT at newSev does to the open alert of its type (ses_alert_repeat_kind,
 * "New signal, new obligation"): UPGRADE when more urgent (a higher severity, or the same with
 * a shorter window), REOPEN for a positive item 9 (A01 item9_1 / item9_2) on an acknowledged
 * A01, else COUNT.
 * @param {{type: string, variant: string, state: string, severity: number}} alert the open
 *   alert (severity as SES_SEV_*)
 * @param {object} newT the catalogue row raised
 * @param {number} newSev SES_SEV_*
 * @param {(t: object) => number} [windowOf] the site's window of a row (default its ack_ms)
 * @returns {number} SES_REPEAT_*
 */
export function alertRepeatKind(alert, newT, newSev, windowOf = (t) => t.ack_ms) {
  const cur = alertTypeFind(alert.type, alert.variant);
  const wb = windowOf(newT);
  const wa = cur ? windowOf(cur) : 0;
  const urgent = newSev !== alert.severity
    ? newSev > alert.severity : wb > 0 && (wa === 0 || wb < wa);
  if (urgent) return SES_REPEAT_UPGRADE;
  const item9 = newT.code === 'A01' && newT.variant !== 'item9_unanswered';
  return item9 && alert.state === 'acked' ? SES_REPEAT_REOPEN : SES_REPEAT_COUNT;
}

function isOpen(alert) {
  return alert.state === 'raised' || alert.state === 'acked';
}

/**
 * Checks an acknowledgement (ses_alert_ack_check): only a raised alert.
 * @param {{state: string}} alert
 * @returns {string|null} 'BAD_STATE' or null
 */
export function alertAckCheck(alert) {
  return alert.state === 'raised' ? null : 'BAD_STATE';
}

/**
 * Checks a resolution (ses_alert_resolve_check), in the daemon's order.
 * @param {{state: string}} alert
 * @param {object|null} t its catalogue row
 * @param {string} code a resolution code
 * @param {string|null} outcome a risk outcome, or null
 * @param {boolean} hasNote a note message (msg_seq) comes with it
 * @returns {string|null} 'BAD_STATE', 'BAD_FIELD', 'OUTCOME_REQUIRED', 'NOTE_REQUIRED',
 *   'OUTCOME_CONFLICT', or null
 */
export function alertResolveCheck(alert, t, code, outcome, hasNote) {
  if (!isOpen(alert)) return 'BAD_STATE';
  const given = outcome !== null && outcome !== undefined;
  if (!resolutionValid(code) || (given && !riskOutcomeValid(outcome))) return 'BAD_FIELD';
  const safety = t != null && t.safety;
  if (safety && !given) return 'OUTCOME_REQUIRED';
  if (safety && !hasNote) return 'NOTE_REQUIRED';
  if (DISMISSALS.includes(code) && given && riskOutcomeRank(outcome) > 1) {
    return 'OUTCOME_CONFLICT'; // a risk above low is never dismissed
  }
  return null;
}

/**
 * Checks a cancellation (ses_alert_cancel_check): never a closed or a safety alert.
 * @param {{state: string}} alert
 * @param {object|null} t its catalogue row
 * @param {string} code a cancellation code
 * @returns {string|null} 'BAD_STATE', 'BAD_FIELD', or null
 */
export function alertCancelCheck(alert, t, code) {
  if (!isOpen(alert) || (t != null && t.safety)) return 'BAD_STATE';
  return cancelCodeValid(code) ? null : 'BAD_FIELD';
}

/**
 * The escalation step after fromStep (steps are 1-based, chain[step - 1]) whose party has
 * somebody to notify (ses_escalation_next); passed-over steps are set in skipped
 * (bit k - 1 = step k).
 * @param {number[]} chain party masks
 * @param {number} fromStep 0 for the first owners
 * @param {(party: number) => boolean} hasUsers
 * @returns {{step: number, skipped: number}} step 0 when the chain is exhausted
 */
export function escalationNext(chain, fromStep, hasUsers) {
  let skipped = 0;
  for (let step = fromStep + 1; step >= 1 && step <= SES_ALERT_CHAIN_MAX; step++) {
    const party = chain[step - 1] || 0;
    if (party === 0) break;
    if (hasUsers(party)) return { step, skipped };
    skipped |= 1 << (step - 1);
  }
  return { step: 0, skipped };
}

/* --- the policy on alert actions (authz.c) ------------------------------------------------- */

const ALERT_ACTIONS = Object.freeze({
  alert_raise: CLINICAL_ROLES,
  alert_show: CLINICAL_ROLES | (1 << SES_ROLE_ADMIN),
  alert_ack: CLINICAL_ROLES | (1 << SES_ROLE_ADMIN),
  alert_resolve: CLINICAL_ROLES | (1 << SES_ROLE_ADMIN),
  alert_cancel: CLINICAL_ROLES | (1 << SES_ROLE_ADMIN),
});

/**
 * How a user stands to an alert (ses_resource_of_alert).
 * @param {{type: string, variant: string, owners: string[], former?: string[], cc: string[],
 *   raised_by: string|null}} alert ids as the wire gives them; former: every earlier owner
 *   (not on the wire: from the timeline when known)
 * @param {string} user the user id
 * @param {{member?: boolean, onDuty?: boolean}} [how] a member of the thread; the on-duty
 *   psychiatrist
 * @returns {{exists: true, member: boolean, on_duty: boolean, owner: boolean, former: boolean,
 *   cc: boolean, raiser: boolean, closers: number}}
 */
export function alertRelation(alert, user, { member = false, onDuty = false } = {}) {
  const t = alertTypeFind(alert.type, alert.variant);
  const owner = (alert.owners || []).includes(user);
  return { exists: true, member, on_duty: onDuty, owner,
    former: !owner && (alert.former || []).includes(user),
    cc: (alert.cc || []).includes(user), raiser: alert.raised_by === user,
    closers: t !== null ? t.closers : P_OWNER | P_FORMER };
}

function closes(role, r) {
  const c = r.closers;
  return ((c & P_OWNER) !== 0 && r.owner) || ((c & P_FORMER) !== 0 && r.former)
    || ((c & P_DUTY) !== 0 && r.on_duty) || (r.member && (c & partyOfRole(role)) !== 0);
}

/**
 * The server's decision on an alert action by a user of a role (ses_authz_check for
 * alert_show, alert_ack, alert_resolve, alert_cancel; for alert_raise the relation is to the
 * thread: {exists, member, raisers}).
 * @param {number} role SES_ROLE_*
 * @param {string} action 'alert_raise', 'alert_show', 'alert_ack', 'alert_resolve' or
 *   'alert_cancel'
 * @param {object|null} r alertRelation(...), or for a raise {exists, member, raisers}
 * @returns {string|null} 'DENIED', 'NOT_OWNER', or null (allowed)
 */
export function alertDecide(role, action, r) {
  if (!Object.hasOwn(ALERT_ACTIONS, action) || (ALERT_ACTIONS[action] & (1 << role)) === 0) {
    return 'DENIED';
  }
  const admin = role === SES_ROLE_ADMIN;
  if (action === 'alert_raise') {
    if (!r || !r.exists || !r.member) return 'DENIED';
    return (r.raisers & (1 << role)) !== 0 ? null : 'DENIED';
  }
  if (!r || !r.exists || !(admin || r.member || r.owner || r.former || r.cc)) return 'DENIED';
  if (action === 'alert_ack') return r.owner || r.former ? null : 'NOT_OWNER';
  if (action === 'alert_resolve') {
    if (admin || !(r.member || r.owner || r.on_duty)) return 'DENIED';
    return closes(role, r) ? null : 'NOT_OWNER';
  }
  if (action === 'alert_cancel') return r.raiser || admin ? null : 'DENIED';
  return null;
}

/* --- the CLI's checks before anything is sent (cmd_alert.c) -------------------------------- */

/**
 * What a client checks before raising by hand (precheck_raise), so that a refused raise leaves
 * no orphan note: the row, the minimum severity, the origin and the user's role.
 * @param {object|null} t the catalogue row asked for
 * @param {number} severity SES_SEV_*, -1 for the default
 * @param {string} role the user's role name
 * @returns {string|null} 'UNKNOWN_ALERT_TYPE', 'SEVERITY_TOO_LOW', 'DENIED', or null
 */
export function alertPrecheckRaise(t, severity, role) {
  if (t === null || t === undefined) return 'UNKNOWN_ALERT_TYPE';
  if (severity >= 0 && severity < t.severity) return 'SEVERITY_TOO_LOW';
  if (t.origin === SES_ORIGIN_DAEMON || t.origin === SES_ORIGIN_LATER) return 'DENIED';
  return (t.raisers & (1 << roleFromName(role))) !== 0 ? null : 'DENIED';
}

/**
 * What a client refuses from a resolution's options alone (resolve_check_opts): an unknown code
 * or outcome, a dismissal of a risk above low, a bad note.
 * @param {string} code
 * @param {string|null} outcome
 * @param {string|null} note the note's text, or null
 * @returns {string|null} 'BAD_FIELD', 'OUTCOME_CONFLICT', 'INVALID_ARG' (the note), or null
 */
export function alertResolveOptsCheck(code, outcome, note) {
  const given = outcome !== null && outcome !== undefined;
  if (!resolutionValid(code) || (given && !riskOutcomeValid(outcome))) return 'BAD_FIELD';
  if (given && riskOutcomeRank(outcome) > riskOutcomeRank('low') && DISMISSALS.includes(code)) {
    return 'OUTCOME_CONFLICT';
  }
  if (note === null || note === undefined) return null;
  try {
    encodeAlertNote(note);
    return null;
  } catch (e) {
    return e.code;
  }
}

/**
 * Whether a user surely is not among an alert's closers (surely_not_closer): false when the
 * client cannot tell (closers that include former owners, a backup or the lead: the server
 * decides).
 * @param {object} t the alert's catalogue row
 * @param {string} role the user's role name
 * @param {boolean} isOwner the user is among the alert's current owners
 * @returns {boolean}
 */
export function alertSurelyNotCloser(t, role, isOwner) {
  const c = t.closers;
  if ((c & (P_FORMER | P_BACKUP | P_LEAD)) !== 0) return false;
  if ((c & P_OWNER) !== 0 && isOwner) return false;
  const r = roleFromName(role);
  if (r === SES_ROLE_PSYCHIATRIST && (c & (P_PSY | P_DUTY)) !== 0) return false;
  const byRole = (r === SES_ROLE_NURSE && (c & P_NURSE) !== 0)
    || (r === SES_ROLE_GP && (c & P_GP) !== 0);
  return !byRole;
}

/**
 * What a client checks on the alert before resolving it (resolve_precheck), in the CLI's order.
 * @param {{state: string, type: string, variant: string}} alert as alert_show gives it
 * @param {string} role the user's role name
 * @param {boolean} isOwner the user is among its current owners
 * @param {string|null} outcome
 * @param {boolean} hasNote
 * @returns {string|null} 'BAD_STATE', 'NOT_OWNER', 'OUTCOME_REQUIRED', 'NOTE_REQUIRED', or null
 */
export function alertResolvePrecheck(alert, role, isOwner, outcome, hasNote) {
  const t = alertTypeFind(alert.type, alert.variant);
  if (!isOpen(alert)) return 'BAD_STATE';
  if (t !== null && alertSurelyNotCloser(t, role, isOwner)) return 'NOT_OWNER';
  if (t !== null && t.safety && (outcome === null || outcome === undefined)) {
    return 'OUTCOME_REQUIRED';
  }
  return t !== null && t.safety && !hasNote ? 'NOTE_REQUIRED' : null;
}

/* --- the alert note (content type 3) ------------------------------------------------------- */

/**
 * The body of an alert's note (content type 3): its UTF-8, 1..SES_ENVELOPE_BODY_MAX bytes,
 * without U+0000 (check_note).
 * @param {string} text
 * @returns {Uint8Array}
 * @throws {SesError} INVALID_ARG (empty, not well-formed, a U+0000), TOO_LARGE
 */
export function encodeAlertNote(text) {
  check(typeof text === 'string' && text.length > 0, 'INVALID_ARG', 'the note is empty');
  check(wellFormed(text) && !text.includes('\0'), 'INVALID_ARG', 'the note is not valid UTF-8');
  const bytes = utf8Encode(text);
  check(bytes.length <= SES_ENVELOPE_BODY_MAX, 'TOO_LARGE',
    `the note is longer than ${SES_ENVELOPE_BODY_MAX} bytes`);
  return bytes;
}

/**
 * The text of a received alert note body, as the CLI opens it: strict UTF-8 without a NUL
 * byte; anything else is not shown as text.
 * @param {Uint8Array} bytes
 * @returns {string|null} the text, or null ("the text is not valid UTF-8")
 */
export function decodeAlertNote(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.includes(0)) return null;
  return utf8Decode(bytes);
}

/* --- how the CLI shows alerts (cli_alert.c) ------------------------------------------------ */

/**
 * Whether a wire alert is a safety alert as the caseload counts it (an A01 of any variant, an
 * A02, an A03 or an A19/psychiatric).
 * @param {{type: string, variant?: string}} alert
 * @returns {boolean}
 */
export function isSafetyAlert(alert) {
  return ['A01', 'A02', 'A03'].includes(alert.type)
    || (alert.type === 'A19' && alert.variant === 'psychiatric');
}

/**
 * "A01/item9_2" or "A04" (cli_alert_type_text).
 * @param {{type?: string, variant?: string}} alert
 * @returns {string}
 */
export function alertTypeText(alert) {
  const v = alert.variant || '';
  return `${alert.type || '?'}${v ? '/' : ''}${v}`;
}

/**
 * A duration as the CLI writes it (cli_fmt_dur): "25 min", "3 h 20 min", "6 d 23 h".
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  const min = Math.trunc(ms / MIN);
  if (min < 60) return `${min} min`;
  if (min < 24 * 60) return `${Math.trunc(min / 60)} h ${min % 60} min`;
  return `${Math.trunc(min / 1440)} d ${Math.trunc((min % 1440) / 60)} h`;
}

/**
 * An alert's deadline cell (cli_alert_deadline): "-" unless raised; "UNACKNOWLEDGED, chain
 * exhausted (renotified K[, next in D])" past its chain; "none"; "in D"; "overdue D".
 * @param {{state: string, deadline: number|null, exhausted?: boolean, renotified?: number}} alert
 * @param {number} now ms
 * @returns {string}
 */
export function alertDeadline(alert, now) {
  const dl = alert.deadline;
  const at = Number.isInteger(dl);
  if (alert.state !== 'raised') return '-';
  if (alert.exhausted === true) {
    const k = Number.isInteger(alert.renotified) ? alert.renotified : 0;
    const next = at && dl >= now ? `, next in ${formatDuration(dl - now + MIN - 1)}` : '';
    return `UNACKNOWLEDGED, chain exhausted (renotified ${k}${next})`;
  }
  if (!at) return 'none';
  if (dl >= now) return `in ${formatDuration(dl - now + MIN - 1)}`;
  return `overdue ${formatDuration(now - dl)}`;
}

/**
 * The P0 banner every client shows when a P0 is raised, upgraded or re-notified
 * (cli_alert_p0_banner): the daemon is never the only channel, the user must phone.
 * @param {{severity: string, name?: string, patient?: string, emergency?: string|null}} alert
 * @param {string} owners the owners' names, e.g. "Anne Martin (nurse), Paul Roux (gp)"
 * @returns {string[]} the banner's lines; [] for an alert that is not P0
 */
export function alertP0Banner(alert, owners) {
  if (alert.severity !== 'P0') return [];
  const routes = typeof alert.emergency === 'string'
    ? alert.emergency.replace(/[\n\t]/g, ' ') : '';
  return [
    `!!! P0 ${alert.name || '?'} on ${alert.patient || '?'}: possible imminent danger to life.`,
    routes !== ''
      ? `!!! phone now: ${routes} \u2014 the daemon is not the only channel.`
      : '!!! No emergency routes are configured on this server: phone the on-duty psychiatrist '
        + 'or the emergency services now \u2014 the daemon is not the only channel.',
    `!!! PHONE the owners NOW (emergency pathway): ${owners}`,
  ];
}
