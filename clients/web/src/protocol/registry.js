// registry.js - the caseload registry of PROTOCOL.md §15 "Registry (client-side)" and its
// quality indicators, ported from protocol/src/registry.c, and the caseload rows, order and
// cells `sesame caseload` shows (clients/cli/cmd_caseload.c), computed on the device from a
// thread's decrypted records (scales.js shape) and what the server says of the thread (META,
// its open alerts, its queue entry, its recommendations). The server never sees a score. Pure.
//
// Days are days since 1970-01-01 (UTC); a day that is not an integer >= 0 (null) means none.

import { check } from './errors.js';
import { isSafetyAlert, severityFromName, severityName } from './alerts.js';
import {
  bandLabel, changeCompute, dayFormat, recordCheck, recordDayOf, rules, scaleUsable, scoreScale,
} from './scales.js';

export const SES_REGISTRY_TREND_MAX = 26; // PHQ-9 totals a row's trend keeps (the latest)
export const SES_REGISTRY_CONTACT_DAYS = 21; // active phase: a contact is overdue after 14 + 7
export const SES_REGISTRY_RP_CONTACT_DAYS = 44; // relapse prevention: after 30 + 14 days
export const SES_REGISTRY_NEW_REVIEW_DAYS = 28; // a new patient is reviewed within 28 days
export const SES_REGISTRY_CADENCE_DAYS = 14; // active phase: a contact every two weeks
export const SES_REGISTRY_RP_CADENCE_DAYS = 30; // relapse prevention: monthly
export const SES_REGISTRY_REVIEW_WEEKS = 12; // nobody active goes 12 weeks without a review
export const SES_INDICATORS = 15;
export const DAY_MS = 86400000;

/** The "needs attention" classes, most urgent first (SES_ATTN_SAFETY .. SES_ATTN_CLOSED). */
export const ATTENTION = Object.freeze(['safety', 'not_improving', 'overdue', 'rest', 'closed']);

const isDay = (d) => Number.isInteger(d) && d >= 0;
const orNull = (d) => (isDay(d) ? d : null);

/* The records with their days, in date order (same-day ones in entry order). */
function dateOrder(records) {
  return records.map((r, entry) => ({ r, day: recordDayOf(r), entry }))
    .sort((a, b) => a.day - b.day || a.entry - b.entry);
}

/* A record's usable score of key ('phq9', 'gad7'), or null. */
function usable(r, key) {
  if (r.kind !== 'scales' || !Array.isArray(r[key])) return null;
  const sc = scoreScale(key, r[key]);
  return scaleUsable(sc) ? sc : null;
}

/* Walks the records in date order: PHQ-9 baseline, latest, trend; GAD-7; item 9; the last
 * relapse-prevention plan; the entry index of the last scales record by date (-1: none). */
function scoresInOrder(records, row) {
  let last = -1;
  for (const { r, day, entry } of dateOrder(records)) {
    if (r.kind === 'scales') last = entry;
    if (r.kind === 'rp_plan') row.rp_plan_day = day;
    if (r.kind === 'scales' && Array.isArray(r.phq9)) row.item9 = { value: r.phq9[8], day };
    const p = usable(r, 'phq9');
    if (p !== null) {
      if (row.phq9_baseline === null) [row.phq9_baseline, row.phq9_baseline_day] = [p.total, day];
      [row.phq9_latest, row.phq9_latest_day, row.phq9_band] = [p.total, day, p.band];
      row.trend = [...row.trend, p.total].slice(-SES_REGISTRY_TREND_MAX);
    }
    const g = usable(r, 'gad7');
    if (g !== null) [row.gad7_latest, row.gad7_day] = [g.total, day];
  }
  return last;
}

/* The episode's figures at its latest scales record, the other records as its history. */
function episodeAt(f, last, row) {
  const history = f.records.filter((_, i) => i !== last);
  const { triggers, episode } = rules(history, f.records[last], f.relapse_prevention === true);
  row.weeks_on_plan = episode.weeks_on_plan;
  row.not_improving = triggers.some((t) => t.type === 'A06');
}

function overdue(f, row) {
  const lc = orNull(f.last_contact_day);
  const rp = f.relapse_prevention === true;
  const anchor = lc !== null ? lc : f.enrolled_day;
  const limit = lc === null ? SES_REGISTRY_NEW_REVIEW_DAYS
    : rp ? SES_REGISTRY_RP_CONTACT_DAYS : SES_REGISTRY_CONTACT_DAYS;
  row.contact_overdue = f.closed !== true && f.today - anchor > limit; // an ended episode: none
  row.next_contact_day = f.closed === true ? null
    : anchor + (rp ? SES_REGISTRY_RP_CADENCE_DAYS : SES_REGISTRY_CADENCE_DAYS);
  if (f.closed === true) row.review_overdue = false;
  else if (isDay(f.next_review_day)) row.review_overdue = f.today > f.next_review_day;
  else if (!isDay(f.last_review_day)) {
    row.review_overdue = f.today - f.enrolled_day > SES_REGISTRY_NEW_REVIEW_DAYS;
  } else row.review_overdue = f.today - f.last_review_day > 7 * SES_REGISTRY_REVIEW_WEEKS;
}

function attentionOf(f, row) {
  if (f.closed === true) return 'closed';
  if (f.open_safety === true) return 'safety';
  if (row.not_improving) return 'not_improving';
  return row.contact_overdue || row.review_overdue ? 'overdue' : 'rest';
}

/**
 * One row of the caseload registry (ses_registry_row).
 * @param {{records: object[], today: number, enrolled_day: number,
 *   relapse_prevention?: boolean, closed?: boolean, last_contact_day?: number|null,
 *   last_review_day?: number|null, first_review_day?: number|null,
 *   next_review_day?: number|null, open_safety?: boolean}} facts records in entry order
 *   (scales.js shape); open_safety: an open A01, A02, A03 or A19/psychiatric
 * @returns {{weeks_in_care: number, phq9_baseline: number|null,
 *   phq9_baseline_day: number|null, phq9_latest: number|null, phq9_latest_day: number|null,
 *   phq9_band: string|null, change: object|null, trend: number[], gad7_latest: number|null,
 *   gad7_day: number|null, item9: {value: number|null, day: number}|null,
 *   weeks_on_plan: number, rp_plan_day: number|null, not_improving: boolean,
 *   contact_overdue: boolean, review_overdue: boolean, next_contact_day: number|null,
 *   attention: string}} change: baseline -> latest when they are two records (different
 *   days); trend: the last 26 usable PHQ-9 totals by date; item9: the last PHQ-9's (value null:
 *   unanswered); attention one of ATTENTION
 * @throws {SesError} INVALID_ARG (no facts, records not an array, today or enrolled_day not
 *   days), BAD_SCALE (a malformed record; the C library only notices one when the thread has a
 *   scales record)
 */
export function registryRow(facts) {
  check(facts != null && Array.isArray(facts.records) && isDay(facts.today)
    && isDay(facts.enrolled_day), 'INVALID_ARG', 'facts need records, today and enrolled_day');
  const row = { weeks_in_care: 0, phq9_baseline: null, phq9_baseline_day: null,
    phq9_latest: null, phq9_latest_day: null, phq9_band: null, change: null, trend: [],
    gad7_latest: null, gad7_day: null, item9: null, weeks_on_plan: 0, rp_plan_day: null,
    not_improving: false, contact_overdue: false, review_overdue: false,
    next_contact_day: null, attention: 'rest' };
  const last = scoresInOrder(facts.records, row);
  if (last >= 0) episodeAt(facts, last, row);
  if (row.phq9_baseline !== null && row.phq9_baseline_day !== row.phq9_latest_day) {
    row.change = changeCompute(row.phq9_baseline, row.phq9_latest);
  }
  const d = facts.today - facts.enrolled_day;
  row.weeks_in_care = d > 0 ? Math.trunc(d / 7) : 0;
  overdue(facts, row);
  row.attention = attentionOf(facts, row);
  return row;
}

/* strcmp of the UTF-8 of two strings: code point order */
function cmpCodePoints(a, b) {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < x.length && i < y.length; i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return x.length === y.length ? 0 : x.length < y.length ? -1 : 1;
}

/**
 * The "needs attention" order (ses_registry_attention_cmp): by class, then the higher latest
 * PHQ-9 first (none last), then by name (byte order).
 * @param {{attention: string, phq9_latest: number|null}} a
 * @param {string} nameA
 * @param {{attention: string, phq9_latest: number|null}} b
 * @param {string} nameB
 * @returns {number} negative, 0 or positive
 */
export function attentionCompare(a, nameA, b, nameB) {
  const ca = ATTENTION.indexOf(a.attention);
  const cb = ATTENTION.indexOf(b.attention);
  if (ca !== cb) return ca < cb ? -1 : 1;
  const ha = a.phq9_latest !== null && a.phq9_latest !== undefined;
  const hb = b.phq9_latest !== null && b.phq9_latest !== undefined;
  if (ha !== hb) return ha ? -1 : 1;
  if (ha && a.phq9_latest !== b.phq9_latest) return a.phq9_latest > b.phq9_latest ? -1 : 1;
  return cmpCodePoints(nameA || '', nameB || '');
}

const BLOCKS = '\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588';

/**
 * The trend as blocks "▁▂▃▄▅▆▇█" (0..27 scaled to 8 levels; ses_registry_sparkline).
 * @param {number[]} trend PHQ-9 totals
 * @param {number} [maxBlocks] at most this many (the first ones)
 * @returns {string}
 */
export function sparkline(trend, maxBlocks = Infinity) {
  return trend.slice(0, maxBlocks).map((t) => {
    const v = Math.min(Math.max(t, 0), 27);
    return BLOCKS[Math.trunc((v * 8) / 28)];
  }).join('');
}

/* --- quality indicators -------------------------------------------------------------------- */

const Q_NAMES = Object.freeze([
  'Early follow-up (a second assessment within 4 weeks of the first)',
  'Engagement (3 contacts or more)',
  'Contact recency (a contact in the last 30 days)',
  'PHQ-9 monitoring (a PHQ-9 in the last 4 months)',
  'Psychiatric review of non-improvers at 10 weeks',
  'Treatment change in non-improvers at 10 weeks',
  'Improvement at 10 weeks (PHQ-9 < 10 or 50 % better)',
  'Response at 6 months (50 % better, baseline > 9)',
  'Remission at 6 months (PHQ-9 < 5, baseline > 9)',
  'New-patient review within 28 days',
  'Recommendation loop (implemented; median hours to acknowledgement)',
  'Drop-out (no contact for 60 days)',
  'Relapse-prevention plan on leaving active care',
  'Caseload size (active patients)',
  "Case-review capacity use (slots used of the held sessions' slots)",
]);
const PHQ9_KEPT = SES_REGISTRY_TREND_MAX * 4; // usable PHQ-9s the indicators read per patient

function indicator(k) {
  return { code: `Q${k + 1}`, name: Q_NAMES[k], available: true, why_not: null, num: 0, den: 0,
    median_hours: -1 };
}

/* What the indicators read of one patient's records (history_of): usable PHQ-9s by date, the
 * first two scales records' days, the last plan's day, a relapse-prevention plan. */
function historyOf(records) {
  const h = { phq9: [], first: null, second: null, lastPlan: null, rpPlan: false };
  for (const { r, day } of dateOrder(records)) {
    recordCheck(r);
    if (r.kind === 'plan') h.lastPlan = day;
    h.rpPlan = h.rpPlan || r.kind === 'rp_plan';
    if (r.kind !== 'scales') continue;
    if (h.first === null) h.first = day;
    else if (h.second === null && day > h.first) h.second = day;
    const p = usable(r, 'phq9');
    if (p !== null && h.phq9.length < PHQ9_KEPT) h.phq9.push({ day, total: p.total });
  }
  return h;
}

const inWindow = (lo, hi) => (p) => p.day >= lo && p.day <= hi;

function count(q, inDen, inNum) {
  if (!inDen) return;
  q.den++;
  if (inNum) q.num++;
}

/* The indicators of one patient, added to out (indicators_one). */
function indicatorsOne(p, h, from, to, out) {
  const f = p.facts;
  const e = f.enrolled_day;
  const lc = orNull(f.last_contact_day);
  const fr = orNull(f.first_review_day);
  const enrolled = e >= from && e <= to;
  const active = f.closed !== true && e <= to;
  const base = h.phq9.length > 0 ? h.phq9[0].total : -1;
  count(out[0], enrolled && h.first !== null && h.first + 28 <= to,
    h.second !== null && h.second <= h.first + 28);
  count(out[1], enrolled, p.contacts >= 3);
  count(out[2], active, lc !== null && to - lc <= 30);
  count(out[3], active && to - e >= 120, h.phq9.some(inWindow(to - 120, to)));
  /* Q5-Q7: at 10 weeks (the first PHQ-9 from day 70 on) */
  const at10 = enrolled && to - e >= 70 ? h.phq9.find(inWindow(e + 70, to)) : undefined;
  const improved10 = at10 !== undefined && (at10.total < 10 || 2 * at10.total <= base);
  const nonImprover = at10 !== undefined && !improved10;
  count(out[4], nonImprover, isDay(f.last_review_day) && f.last_review_day >= e);
  count(out[5], nonImprover, h.lastPlan !== null && h.lastPlan > h.phq9[0].day);
  count(out[6], at10 !== undefined, improved10);
  /* Q8, Q9: the last PHQ-9 of months 5-7 */
  const at6 = enrolled && base > 9 && to - e >= 182
    ? h.phq9.filter(inWindow(e + 152, e + 212)).pop() : undefined;
  count(out[7], at6 !== undefined, at6 !== undefined && 2 * at6.total <= base);
  count(out[8], at6 !== undefined, at6 !== undefined && at6.total < 5);
  count(out[9], enrolled && (to - e >= 28 || fr !== null), fr !== null && fr - e <= 28);
  count(out[11], active, (lc !== null ? to - lc : to - e) > 60);
  /* Q13: those who left active care (relapse prevention, or the episode ended) with a plan */
  count(out[12], (f.relapse_prevention === true || f.closed === true) && e <= to, h.rpPlan);
  if (active) out[13].num++;
}

/**
 * The quality indicators Q1..Q15 (ses_registry_indicators) over a caseload and the window
 * [from, to] (days): enrolment-based ones count the patients enrolled in it, status ones their
 * state on day to. Q11 is left at 0/0 here: fill it with registryQ11.
 * @param {Array<{facts: object, contacts: number}>} patients facts as registryRow's (today is
 *   ignored); contacts: the server's count
 * @param {Array<{slots: number, used: number}>} sessions the case-review sessions held in the
 *   window (Q15)
 * @param {number} from day
 * @param {number} to day
 * @returns {Array<{code: string, name: string, available: boolean, why_not: string|null,
 *   num: number, den: number, median_hours: number}>} 15 indicators; Q14 is a count
 *   (den 1 when there is an active patient)
 * @throws {SesError} INVALID_ARG (not arrays, from > to), BAD_SCALE (a malformed record)
 */
export function registryIndicators(patients, sessions, from, to) {
  check(Array.isArray(patients) && Array.isArray(sessions) && Number.isInteger(from)
    && Number.isInteger(to) && from <= to, 'INVALID_ARG', 'patients, sessions, from <= to');
  const out = Q_NAMES.map((_, k) => indicator(k));
  for (const p of patients) indicatorsOne(p, historyOf(p.facts.records), from, to, out);
  out[13].den = out[13].num > 0 ? 1 : 0; // a count, not a share
  for (const s of sessions) {
    out[14].num += s.used;
    out[14].den += s.slots;
  }
  return out;
}

/**
 * Q11, the recommendation loop (ses_registry_q11): of the recommendations sent in [from, to]
 * (days) that are not superseded, those implemented; the median hours from sending to the
 * GP's acknowledgement of the acknowledged ones (-1: none).
 * @param {Array<{sent_ms: number, acked_ms: number, implemented_ms: number,
 *   superseded: boolean}>} recs times in ms, 0 = not yet
 * @param {number} from day
 * @param {number} to day
 * @returns {{code: 'Q11', name: string, available: true, why_not: null, num: number,
 *   den: number, median_hours: number}}
 * @throws {SesError} INVALID_ARG (recs not an array, from > to)
 */
export function registryQ11(recs, from, to) {
  check(Array.isArray(recs) && from <= to, 'INVALID_ARG', 'recs must be an array, from <= to');
  const q = indicator(10);
  const [lo, hi] = [from * DAY_MS, (to + 1) * DAY_MS];
  const acks = [];
  for (const r of recs) {
    if (r.superseded || r.sent_ms < lo || r.sent_ms >= hi) continue;
    count(q, true, r.implemented_ms !== 0);
    if (r.acked_ms >= r.sent_ms && r.acked_ms !== 0) acks.push(r.acked_ms - r.sent_ms);
  }
  if (acks.length > 0) {
    acks.sort((a, b) => a - b);
    const n = acks.length;
    const mid = n % 2 ? acks[(n - 1) / 2] : Math.trunc((acks[n / 2 - 1] + acks[n / 2]) / 2);
    q.median_hours = Math.trunc(mid / 3600000);
  }
  return q;
}

/* --- what `sesame caseload` shows (cmd_caseload.c) ----------------------------------------- */

/**
 * The UTC day of a time in ms, rounding down (day_of); null for a non-integer.
 * @param {number|null} ms
 * @returns {number|null}
 */
export function dayOfMs(ms) {
  return Number.isInteger(ms) ? Math.floor(ms / DAY_MS) : null;
}

const dateOf = (day) => (isDay(day) ? dayFormat(day) : null);
const ofThread = (list, thread) => (Array.isArray(list) ? list : [])
  .filter((x) => x && x.thread === thread);

/**
 * The facts of a thread as the CLI's load_patient fills them, from its META, its records, its
 * open alerts (absent: none) and the time now.
 * @param {{thread: string, meta: object, records: object[], today_ms: number, alerts?: object[]}} input
 * @returns {object} the facts registryRow reads
 */
export function threadFacts(input) {
  const meta = input.meta || {};
  return {
    records: input.records,
    today: Math.trunc(input.today_ms / DAY_MS),
    enrolled_day: dayOfMs(meta.enrolled),
    relapse_prevention: meta.phase === 'relapse_prevention',
    closed: Number.isInteger(meta.closed),
    last_contact_day: dayOfMs(meta.last_contact),
    last_review_day: dayOfMs(meta.last_review),
    first_review_day: dayOfMs(meta.first_review),
    next_review_day: dayOfMs(meta.next_review),
    open_safety: ofThread(input.alerts, input.thread).filter(isOpenAlert).some(isSafetyAlert),
  };
}

function isOpenAlert(a) {
  return a.state === 'raised' || a.state === 'acked';
}

function alertsCell(alerts, thread) {
  const open = ofThread(alerts, thread).filter(isOpenAlert);
  const max = Math.max(-1, ...open.map((a) => severityFromName(a.severity)));
  return { count: open.length, highest: max >= 0 ? severityName(max) : null };
}

function recCell(recs, thread) {
  const r = ofThread(recs, thread).find((x) => x.state !== 'superseded');
  return r === undefined ? null : { rec: r.rec ?? null, state: r.state ?? null,
    urgent: r.urgent ?? null, sent: r.sent ?? null, overdue: r.overdue ?? null };
}

function phq9Cell(row) {
  if (row.phq9_latest === null) return null;
  return { baseline: row.phq9_baseline, baseline_date: dateOf(row.phq9_baseline_day),
    latest: row.phq9_latest, latest_date: dateOf(row.phq9_latest_day),
    pct: row.change !== null ? row.change.pct : null, band: row.phq9_band, trend: row.trend };
}

function nurseOf(members) {
  const n = (Array.isArray(members) ? members : []).find((m) => m && m.role === 'nurse');
  return n === undefined ? { user: '', name: '' } : { user: n.user || '', name: n.name || '' };
}

/**
 * One caseload row exactly as `sesame caseload --json` prints it (row_json).
 * @param {{thread: string, patient: string, members?: Array<{user: string, name: string,
 *   role: string}>, meta: object, records: object[], title?: string|null,
 *   alerts?: object[], queue?: object[], recs?: object[], directory?: Array<{user: string,
 *   site: string|null}>, today_ms: number}} input members: thread_info's (the first nurse is
 *   the patient's); meta: META; records: the thread's decrypted records in entry order;
 *   title: its latest title; alerts: the user's open ALERTs; queue: the queue's entries; recs:
 *   REC list newest first; directory: the nurses (their sites)
 * @returns {object} {thread, patient, nurse, nurse_name, weeks, phase, last_contact,
 *   next_contact, phq9: {baseline, baseline_date, latest, latest_date, pct, band, trend}|null,
 *   gad7: {latest, date}|null, item9: {value, date}|null, open_alerts: {count, highest},
 *   attention, not_improving, contact_overdue, review_overdue, weeks_on_plan,
 *   queue: {tier, due}|null, next_review, recommendation: {rec, state, urgent, sent,
 *   overdue}|null, rp_plan, name, site}; dates 'YYYY-MM-DD' or null
 * @throws {SesError} as registryRow
 */
export function caseloadRow(input) {
  const meta = input.meta || {};
  const row = registryRow(threadFacts(input));
  const nurse = nurseOf(input.members);
  const dir = (input.directory || []).find((u) => u && u.user === nurse.user);
  const site = dir && typeof dir.site === 'string' ? dir.site : '';
  const q = ofThread(input.queue, input.thread)[0];
  return {
    thread: input.thread, patient: input.patient, nurse: nurse.user, nurse_name: nurse.name,
    weeks: row.weeks_in_care, phase: typeof meta.phase === 'string' ? meta.phase : 'active',
    last_contact: dateOf(dayOfMs(meta.last_contact)), next_contact: dateOf(row.next_contact_day),
    phq9: phq9Cell(row),
    gad7: row.gad7_latest === null ? null : { latest: row.gad7_latest, date: dateOf(row.gad7_day) },
    item9: row.item9 === null ? null : { value: row.item9.value, date: dateOf(row.item9.day) },
    open_alerts: alertsCell(input.alerts, input.thread), attention: row.attention,
    not_improving: row.not_improving, contact_overdue: row.contact_overdue,
    review_overdue: row.review_overdue, weeks_on_plan: row.weeks_on_plan,
    queue: q === undefined ? null : { tier: q.tier ?? null, due: q.due ?? null },
    next_review: dateOf(dayOfMs(meta.next_review)),
    recommendation: recCell(input.recs, input.thread), rp_plan: dateOf(row.rp_plan_day),
    name: typeof input.title === 'string' && input.title !== '' ? input.title : null,
    site: site !== '' ? site : null,
  };
}

/**
 * Sorts caseload rows as `sesame caseload --sort` does (cmp_patients): 'attention' (the
 * default: attentionCompare by patient reference), 'name' (the patient reference), 'weeks'
 * (the longest in care first, then the reference). Returns a new array.
 * @param {object[]} rows caseloadRow results
 * @param {'attention'|'name'|'weeks'} [mode]
 * @returns {object[]}
 * @throws {SesError} BAD_FIELD for another mode
 */
export function sortCaseload(rows, mode = 'attention') {
  check(['attention', 'name', 'weeks'].includes(mode), 'BAD_FIELD',
    '--sort is attention, name or weeks');
  const key = (r) => ({ attention: r.attention, phq9_latest: r.phq9 ? r.phq9.latest : null });
  const cmp = {
    attention: (a, b) => attentionCompare(key(a), a.patient, key(b), b.patient),
    name: (a, b) => cmpCodePoints(a.patient, b.patient),
    weeks: (a, b) => (a.weeks !== b.weeks ? (a.weeks > b.weeks ? -1 : 1)
      : cmpCodePoints(a.patient, b.patient)),
  }[mode];
  return [...rows].sort(cmp);
}

/** The columns of the `sesame caseload` table. */
export const CASELOAD_COLUMNS = Object.freeze(['PATIENT', 'NURSE', 'SITE', 'WEEKS', 'PHASE',
  'LAST CONTACT', 'NEXT CONTACT', 'PHQ-9', 'CHANGE', 'BAND', 'TREND', 'GAD-7', 'ITEM 9',
  'ALERTS', 'QUEUE', 'NEXT REVIEW', 'LAST REC', 'ATTENTION']);

function item9Text(item9) {
  if (item9 === null) return '-';
  return item9.value === null ? 'unanswered' : String(item9.value);
}

/**
 * The table cells of a caseload row, one per CASELOAD_COLUMNS (row_text): "-" for nothing,
 * " overdue" after an overdue contact, review or recommendation, the change as "%+d %" of the
 * improvement's opposite (-55 % is 55 % better), item 9 "unanswered" when it was not answered.
 * @param {object} row a caseloadRow result
 * @returns {string[]}
 */
export function caseloadCells(row) {
  const p = row.phq9;
  const signed = (v) => (v >= 0 ? `+${v}` : String(v));
  const a = row.open_alerts;
  return [
    row.patient, row.nurse_name || '-', row.site || '-', String(row.weeks), row.phase,
    `${row.last_contact || '-'}${row.contact_overdue ? ' overdue' : ''}`,
    row.next_contact || '-',
    p ? `${p.baseline} -> ${p.latest} (${p.latest_date})` : '-',
    p && p.pct !== null ? `${signed(-p.pct)} %` : '-',
    p ? bandLabel(p.band) : '-',
    p && p.trend.length > 0 ? sparkline(p.trend) : '-',
    row.gad7 ? String(row.gad7.latest) : '-',
    item9Text(row.item9),
    a.count > 0 ? `${a.count} (${a.highest || '?'})` : '-',
    row.queue ? row.queue.tier || '?' : '-',
    `${row.next_review || '-'}${row.review_overdue ? ' overdue' : ''}`,
    row.recommendation ? `${row.recommendation.state || '?'}${row.recommendation.overdue === true
      ? ' overdue' : ''}` : '-',
    row.attention,
  ];
}
