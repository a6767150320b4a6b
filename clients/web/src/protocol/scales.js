// scales.js - PHQ-2 / PHQ-9 / GAD-7 scoring, change metrics, dates as day numbers, the
// content-type-2 record codec and the client-side alert rules (PROTOCOL.md §14), ported from
// protocol/src/scales.c so that the web client scores, encodes, parses and raises exactly as the
// CLI; protocol/vectors/scales.json pins it. Integer arithmetic only; pure, no DOM.
//
// A record is an object with the body's own keys (no `v`, no `text`):
//   {kind: 'scales', date: 'YYYY-MM-DD', phq2?: ITEMS, phq9?: ITEMS, gad7?: ITEMS}
//   {kind: 'plan', date, antidepressant: boolean}
//   {kind: 'rp_plan', date, triggers, warning_signs, coping, supports, emergency}  (strings)
// ITEMS is an array of exactly 2 / 9 / 7 answers, each an integer 0..3 or null (unanswered,
// SES_ITEM_MISSING in C). Errors are SesError with the C library's code (errors.js).

import { SesError, check } from './errors.js';
import { bodyBytes, strictJsonParse, utf8Encode, utf8Length, wellFormed } from './json.js';

export const SES_PHQ2_ITEMS = 2;
export const SES_PHQ9_ITEMS = 9;
export const SES_GAD7_ITEMS = 7;
export const SES_PHQ2_CUTOFF_DEFAULT = 3; // PHQ-2 >= 3: complete the PHQ-9 and the GAD-7
export const SES_RECORD_MAX = 4096; // bytes of an encoded record body
export const SES_RECORD_TEXT_MAX = 512; // bytes of a record's plain-text fallback line
export const SES_TRIGGERS_MAX = 8; // triggers one evaluation can produce
export const SES_ITEM_MAX = 3; // an item's answer is 0..3
export const SES_DAY_MIN = 0; // 1970-01-01: the earliest date a record may carry
export const SES_DAY_MAX = 2932896; // 9999-12-31: the latest
export const SES_PHQ9_PRORATE_MAX_MISSING = 2; // a PHQ-9 with 1 or 2 unanswered items is prorated
export const SES_NOT_IMPROVING_WEEKS_DEFAULT = 10; // A06 from 10 weeks on the plan (AIMS)
export const SES_EARLY_WEEKS_MIN_DEFAULT = 4; // A06b window: weeks 4..6
export const SES_EARLY_WEEKS_MAX_DEFAULT = 6;
export const SES_RULES_WEEKS_MAX = 520; // largest week count a rules config may name
export const SES_RP_TEXT_MAX = 600; // bytes of each part of a relapse-prevention plan
/** The parts of a relapse-prevention plan, in body order (ses_rp_part_key). */
export const SES_RP_PARTS = Object.freeze([
  'triggers', 'warning_signs', 'coping', 'supports', 'emergency',
]);

const PHQ9_ITEM9 = 8; // index of PHQ-9 item 9 (thoughts of death or self-harm)
const PHQ_SEVERE = 20;
const GAD_SEVERE = 15;
const PHQ_MCID = 5; // worsening: PHQ-9 up 5 or more
const GAD_MCID = 4; // worsening: GAD-7 up 4 or more
const CROSSING = 15;
const PHQ_RELAPSE = 10;
const APPLICABLE_ABOVE = 9; // response/remission only for a baseline > 9
const REMISSION_BELOW = 5;
const IMPROVED_BELOW = 10;
const TOTAL_MAX = 27;
const PHQ2_CUTOFF_MAX = 6;

/** The scales: wire name, record key and item count, in the text's order. */
export const SCALES = Object.freeze([
  Object.freeze({ name: 'PHQ-2', key: 'phq2', items: SES_PHQ2_ITEMS }),
  Object.freeze({ name: 'PHQ-9', key: 'phq9', items: SES_PHQ9_ITEMS }),
  Object.freeze({ name: 'GAD-7', key: 'gad7', items: SES_GAD7_ITEMS }),
]);

/** Band codes and their labels (ses_band_code, ses_band_label). */
export const BANDS = Object.freeze({
  INCOMPLETE: 'incomplete',
  PHQ_MINIMAL: 'minimal',
  PHQ_MILD: 'mild',
  PHQ_MODERATE: 'moderate',
  PHQ_MODSEVERE: 'moderately severe',
  PHQ_SEVERE: 'severe',
  GAD_MINIMAL: 'minimal',
  GAD_MILD: 'mild',
  GAD_MODERATE: 'moderate',
  GAD_SEVERE: 'severe',
  PHQ2_NEGATIVE: 'negative',
  PHQ2_POSITIVE: 'positive',
});

const PHQ9_BANDS = [[4, 'PHQ_MINIMAL'], [9, 'PHQ_MILD'], [14, 'PHQ_MODERATE'],
  [19, 'PHQ_MODSEVERE'], [TOTAL_MAX, 'PHQ_SEVERE']];
const GAD7_BANDS = [[4, 'GAD_MINIMAL'], [9, 'GAD_MILD'], [14, 'GAD_MODERATE'],
  [Infinity, 'GAD_SEVERE']];

/* --- scoring ------------------------------------------------------------------------------- */

function scaleOf(name) {
  return SCALES.find((s) => s.name === name || s.key === name);
}

function bandFrom(table, total) {
  return table.find(([top]) => total <= top)[1];
}

/**
 * The label of a band code ("moderate", ..., "incomplete"); "incomplete" for an unknown code.
 * @param {string} code e.g. 'PHQ_MODERATE'
 * @returns {string}
 */
export function bandLabel(code) {
  return Object.hasOwn(BANDS, code) ? BANDS[code] : BANDS.INCOMPLETE;
}

/**
 * Scores one questionnaire (ses_scale_score): every item answered: complete, total = sum; a
 * PHQ-9 with 1 or 2 unanswered: prorated, total = (2*sum*9 + answered) / (2*answered) in
 * integers (sum * 9 / answered rounded half up); anything else unanswered: neither, total = sum,
 * band INCOMPLETE.
 * @param {string} scale 'PHQ-2', 'PHQ-9' or 'GAD-7' (or the record key 'phq2', ...)
 * @param {Array<number|null>} items exactly the scale's item count, each 0..3 or null
 * @param {number} [phq2Cutoff] PHQ-2 cut-off 1..6, 0 for the default (3)
 * @returns {{complete: boolean, prorated: boolean, answered: number, sum: number,
 *   total: number, band: string, label: string}}
 * @throws {SesError} BAD_SCALE (unknown scale, wrong count, an item not 0..3 or null),
 *   INVALID_ARG (items not an array, cutoff outside 0..6)
 */
export function scoreScale(scale, items, phq2Cutoff = 0) {
  check(Array.isArray(items), 'INVALID_ARG', 'items must be an array');
  check(Number.isInteger(phq2Cutoff) && phq2Cutoff >= 0 && phq2Cutoff <= PHQ2_CUTOFF_MAX,
    'INVALID_ARG', 'PHQ-2 cut-off outside 0..6');
  const s = scaleOf(scale);
  check(s !== undefined && items.length === s.items, 'BAD_SCALE', `${scale}: wrong item count`);
  let sum = 0;
  let answered = 0;
  for (const v of items) {
    if (v === null) continue;
    check(Number.isInteger(v) && v >= 0 && v <= SES_ITEM_MAX, 'BAD_SCALE', 'an item is not 0..3');
    sum += v;
    answered++;
  }
  const missing = items.length - answered;
  const complete = missing === 0;
  const prorated = s.key === 'phq9' && missing >= 1 && missing <= SES_PHQ9_PRORATE_MAX_MISSING;
  const total = prorated
    ? Math.trunc((2 * sum * SES_PHQ9_ITEMS + answered) / (2 * answered)) : sum;
  let band = 'INCOMPLETE';
  if (complete || prorated) {
    const cut = phq2Cutoff || SES_PHQ2_CUTOFF_DEFAULT;
    if (s.key === 'phq2') band = total >= cut ? 'PHQ2_POSITIVE' : 'PHQ2_NEGATIVE';
    else band = bandFrom(s.key === 'phq9' ? PHQ9_BANDS : GAD7_BANDS, total);
  }
  return { complete, prorated, answered, sum, total, band, label: BANDS[band] };
}

/**
 * Whether a score may take part in the totals-based rules: complete or prorated
 * (ses_scale_usable). An unusable PHQ-9 still counts for its item 9.
 * @param {{complete: boolean, prorated: boolean}|null} score
 * @returns {boolean}
 */
export function scaleUsable(score) {
  return score != null && (score.complete || score.prorated);
}

/* --- change -------------------------------------------------------------------------------- */

const NO_CHANGE = Object.freeze({
  applicable: false, pct: 0, response: false, partial: false, remission: false, improved: false,
});

/**
 * Change of a total from a baseline (ses_change_compute), integers only, `/` truncating toward
 * zero. Totals outside 0..27 give the all-false, pct 0 result.
 * @param {number} baseline
 * @param {number} latest
 * @returns {{applicable: boolean, pct: number, response: boolean, partial: boolean,
 *   remission: boolean, improved: boolean}}
 */
export function changeCompute(baseline, latest) {
  const inRange = (t) => Number.isInteger(t) && t >= 0 && t <= TOTAL_MAX;
  if (!inRange(baseline) || !inRange(latest)) return { ...NO_CHANGE };
  const applicable = baseline > APPLICABLE_ABOVE;
  const pct = baseline > 0 ? Math.trunc(((baseline - latest) * 100) / baseline) : 0;
  const response = applicable && 2 * latest <= baseline;
  const partial = applicable && 4 * latest <= 3 * baseline && !response;
  const remission = applicable && latest < REMISSION_BELOW;
  return { applicable, pct, response, partial, remission,
    improved: latest < IMPROVED_BELOW || response };
}

/* --- dates --------------------------------------------------------------------------------- */

const DATE = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/;

function isLeap(y) {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function monthDays(y, m) {
  const days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return m === 2 && isLeap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (H. Hinnant's days_from_civil). */
function daysFromCivil(y0, m, d) {
  const y = y0 - (m <= 2 ? 1 : 0);
  const era = Math.trunc(y / 400);
  const yoe = y - era * 400;
  const doy = Math.trunc((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.trunc(yoe / 4) - Math.trunc(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * A date "YYYY-MM-DD" (exactly; a real Gregorian date from 1970-01-01 to 9999-12-31) as days
 * since 1970-01-01 (ses_day_parse).
 * @param {string} iso
 * @returns {number}
 * @throws {SesError} BAD_FIELD
 */
export function dayParse(iso) {
  const m = typeof iso === 'string' ? DATE.exec(iso) : null;
  check(m !== null, 'BAD_FIELD', 'a date is YYYY-MM-DD');
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  check(y >= 1970 && mo >= 1 && mo <= 12 && d >= 1 && d <= monthDays(y, mo), 'BAD_FIELD',
    `no such date ${iso}`);
  return daysFromCivil(y, mo, d);
}

/**
 * Days since 1970-01-01 as "YYYY-MM-DD" (ses_day_format); "0000-00-00" outside
 * SES_DAY_MIN..SES_DAY_MAX.
 * @param {number} day
 * @returns {string}
 */
export function dayFormat(day) {
  if (!Number.isInteger(day) || day < SES_DAY_MIN || day > SES_DAY_MAX) return '0000-00-00';
  const z = day + 719468;
  const era = Math.trunc(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.trunc((doe - Math.trunc(doe / 1460) + Math.trunc(doe / 36524)
    - Math.trunc(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.trunc(yoe / 4) - Math.trunc(yoe / 100));
  const mp = Math.trunc((5 * doy + 2) / 153);
  const d = doy - Math.trunc((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  const pad = (v, w) => String(v).padStart(w, '0');
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

/**
 * "HH:MM" (00:00..23:59, exactly five characters) as minutes after midnight
 * (ses_time_of_day_parse).
 * @param {string} hhmm
 * @returns {number} minutes, or -1
 */
export function timeOfDayParse(hhmm) {
  const m = typeof hhmm === 'string' ? /^([0-9]{2}):([0-9]{2})$/.exec(hhmm) : null;
  if (m === null) return -1;
  const h = Number(m[1]);
  const min = Number(m[2]);
  return h < 24 && min < 60 ? h * 60 + min : -1;
}

/* --- records ------------------------------------------------------------------------------- */

const KINDS = ['scales', 'plan', 'rp_plan'];
const SCALE_KEYS = SCALES.map((s) => s.key);

/* Items 0..3 or null, exactly n of them; needAnswer: at least one answered. */
function itemsValid(items, n, needAnswer) {
  if (!Array.isArray(items) || items.length !== n) return false;
  const ok = items.every((v) => v === null || (Number.isInteger(v) && v >= 0 && v <= SES_ITEM_MAX));
  return ok && (!needAnswer || items.some((v) => v !== null));
}

/* 1..SES_RP_TEXT_MAX bytes of UTF-8 without U+0000 */
function rpTextValid(s) {
  if (typeof s !== 'string' || !wellFormed(s) || s.includes('\0')) return false;
  const n = utf8Length(s);
  return n > 0 && n <= SES_RP_TEXT_MAX;
}

function has(r, key) {
  return r[key] !== undefined;
}

/* The record's day, or -1 when it is not a record the codec (needAnswer) or the rules accept
 * (record_valid); keys of another kind are refused too. */
function recordDay(r, needAnswer) {
  if (r === null || typeof r !== 'object' || !KINDS.includes(r.kind)) return -1;
  let day;
  try {
    day = dayParse(r.date);
  } catch {
    return -1;
  }
  const foreign = (keys) => keys.some((k) => has(r, k));
  let ok;
  if (r.kind === 'plan') {
    ok = typeof r.antidepressant === 'boolean' && !foreign(SCALE_KEYS) && !foreign(SES_RP_PARTS);
  } else if (r.kind === 'rp_plan') {
    ok = SES_RP_PARTS.every((k) => rpTextValid(r[k])) && !foreign(SCALE_KEYS)
      && !has(r, 'antidepressant');
  } else {
    ok = SCALES.some((s) => has(r, s.key)) && !has(r, 'antidepressant') && !foreign(SES_RP_PARTS)
      && SCALES.every((s) => !has(r, s.key) || itemsValid(r[s.key], s.items, needAnswer));
  }
  return ok ? day : -1;
}

/**
 * Whether a record may be encoded and sent (ses_record_check): a known kind, a valid date, a
 * scales record with at least one scale, each of exactly its item count, answers 0..3 or null,
 * at least one answered; a plan with a boolean antidepressant; an rp_plan with its five parts
 * (1..600 bytes of UTF-8 each, no U+0000); no key of another kind.
 * @param {object} record
 * @returns {void}
 * @throws {SesError} BAD_SCALE
 */
export function recordCheck(record) {
  check(recordDay(record, true) >= 0, 'BAD_SCALE', 'not a valid record');
}

/* " 14 (moderate)", " 14 (moderate, prorated from 8 of 9 items)", " incomplete (6 of 9
 * answered)", then for the PHQ-9 ", item 9: K" or ", item 9: not answered" */
function scaleText(s, items) {
  const sc = scoreScale(s.name, items);
  let out = s.name;
  if (!scaleUsable(sc)) {
    out += ` incomplete (${sc.answered} of ${s.items} answered)`;
  } else {
    out += ` ${sc.total} (${sc.label}`;
    if (sc.band === 'PHQ2_POSITIVE') out += ': complete PHQ-9 and GAD-7';
    if (sc.prorated) out += `, prorated from ${sc.answered} of ${s.items} items`;
    out += ')';
  }
  if (s.key === 'phq9') {
    const item9 = items[PHQ9_ITEM9];
    out += `, item 9: ${item9 === null ? 'not answered' : item9}`;
  }
  return out;
}

/**
 * The plain-text fallback line of a record (ses_record_text), e.g.
 * "PHQ-9 14 (moderate), item 9: 1; GAD-7 8 (mild)" or
 * "Treatment plan changed on 2026-11-01 (antidepressant)".
 * @param {object} record a record recordCheck accepts
 * @returns {string}
 * @throws {SesError} BAD_SCALE
 */
export function recordText(record) {
  recordCheck(record);
  if (record.kind === 'plan') {
    return `Treatment plan changed on ${record.date}${record.antidepressant
      ? ' (antidepressant)' : ''}`;
  }
  if (record.kind === 'rp_plan') return `Relapse-prevention plan written on ${record.date}`;
  return SCALES.filter((s) => has(record, s.key))
    .map((s) => scaleText(s, record[s.key])).join('; ');
}

/**
 * The body of a content-type-2 message as text (ses_record_encode): compact JSON, keys in the
 * order v, kind, date, phq2, phq9, gad7 | antidepressant | the rp_plan parts, text; unanswered
 * items as null; strings as JSON.stringify writes them. Deterministic.
 * @param {object} record
 * @returns {string}
 * @throws {SesError} BAD_SCALE (recordCheck refuses it), TOO_LARGE (over SES_RECORD_MAX bytes)
 */
export function recordBody(record) {
  const text = recordText(record);
  let body = `{"v":1,"kind":"${record.kind}","date":"${record.date}"`;
  if (record.kind === 'scales') {
    for (const s of SCALES.filter((x) => has(record, x.key))) {
      body += `,"${s.key}":[${record[s.key].map((v) => (v === null ? 'null' : v)).join(',')}]`;
    }
  } else if (record.kind === 'plan') {
    body += `,"antidepressant":${record.antidepressant}`;
  } else {
    for (const k of SES_RP_PARTS) body += `,"${k}":${JSON.stringify(record[k])}`;
  }
  body += `,"text":${JSON.stringify(text)}}`;
  check(utf8Length(body) <= SES_RECORD_MAX, 'TOO_LARGE', 'the record body is over 4096 bytes');
  return body;
}

/**
 * The body bytes of a content-type-2 message: the UTF-8 of recordBody(record).
 * @param {object} record
 * @returns {Uint8Array}
 * @throws {SesError} BAD_SCALE, TOO_LARGE
 */
export function encodeRecord(record) {
  return utf8Encode(recordBody(record));
}

/* One scale key of the parsed body: absent, or exactly n items each null or an integer token
 * 0..3, at least one answered. */
function parsedItems(root, s) {
  if (!root.has(s.key)) return undefined;
  const a = root.get(s.key);
  check(Array.isArray(a) && a.length === s.items, 'BAD_SCALE', `${s.key}: not ${s.items} items`);
  const items = a.map((v) => {
    check(v === null || (typeof v === 'bigint' && v >= 0n && v <= BigInt(SES_ITEM_MAX)),
      'BAD_SCALE', `${s.key}: an item is not an integer 0..3 or null`);
    return v === null ? null : Number(v);
  });
  check(items.some((v) => v !== null), 'BAD_SCALE', `${s.key}: no item answered`);
  return items;
}

/* The record of a parsed root object (parse_root). */
function recordOfRoot(root) {
  check(root instanceof Map, 'BAD_SCALE', 'not one JSON object');
  check(root.get('v') === 1n, 'BAD_SCALE', 'v must be the integer 1');
  const [kind, date, text] = ['kind', 'date', 'text'].map((k) => root.get(k));
  check(typeof kind === 'string' && typeof date === 'string' && typeof text === 'string',
    'BAD_SCALE', 'kind, date and text must be strings');
  try {
    dayParse(date);
  } catch {
    check(false, 'BAD_SCALE', `no such date ${date}`);
  }
  const anyScale = SCALE_KEYS.some((k) => root.has(k));
  const record = { kind, date };
  if (kind === 'scales') {
    check(!root.has('antidepressant'), 'BAD_SCALE', 'antidepressant in a scales record');
    for (const s of SCALES) {
      const items = parsedItems(root, s);
      if (items !== undefined) record[s.key] = items;
    }
    check(anyScale, 'BAD_SCALE', 'a scales record without a scale');
  } else if (kind === 'plan') {
    check(typeof root.get('antidepressant') === 'boolean' && !anyScale, 'BAD_SCALE',
      'a plan needs a boolean antidepressant and no scale');
    record.antidepressant = root.get('antidepressant');
  } else if (kind === 'rp_plan') {
    check(!root.has('antidepressant') && !anyScale, 'BAD_SCALE', 'a key of another kind');
    for (const k of SES_RP_PARTS) {
      const part = root.get(k);
      check(typeof part === 'string' && part.length > 0 && utf8Length(part) <= SES_RP_TEXT_MAX,
        'BAD_SCALE', `${k} must be a text of 1..${SES_RP_TEXT_MAX} bytes`);
      record[k] = part;
    }
  } else {
    check(false, 'BAD_SCALE', `unknown kind ${kind}`);
  }
  return { record, text };
}

/**
 * Parses a content-type-2 body strictly (ses_record_parse): any layout and key order, unknown
 * keys ignored; refused: empty or over SES_RECORD_MAX bytes, not UTF-8, not one JSON object,
 * nested deeper than 16, a duplicate key, U+0000 or a lone surrogate anywhere, a number that is
 * not an integer token where an integer is due, v not 1, an unknown kind, a bad date, a bad
 * scale, a kind's missing or foreign keys, a missing or non-string text.
 * @param {Uint8Array|ArrayBuffer|string} body the body bytes (text is taken as its UTF-8)
 * @returns {{record: object, text: string}} the record and its unverified fallback line
 * @throws {SesError} BAD_SCALE
 */
export function parseRecord(body) {
  const bytes = bodyBytes(body);
  check(bytes !== null, 'BAD_SCALE', 'not bytes or well-formed text');
  check(bytes.length > 0 && bytes.length <= SES_RECORD_MAX, 'BAD_SCALE', 'empty or too large');
  return recordOfRoot(strictJsonParse(bytes, 'BAD_SCALE'));
}

/**
 * The scales of a record whose score is usable, as named in contact_record's `scales` (the
 * order the CLI sends: phq9, gad7, phq2).
 * @param {object} record a scales record
 * @returns {string[]}
 */
export function contactScales(record) {
  return ['phq9', 'gad7', 'phq2'].filter((k) => Array.isArray(record[k])
    && scaleUsable(scoreScale(k, record[k])));
}

/* --- rules --------------------------------------------------------------------------------- */

const WHY = Object.freeze({
  item9_unanswered: 'PHQ-9 item 9 not answered: ask it directly',
  item9_1: "PHQ-9 item 9 (thoughts of death or self-harm) answered 'several days'",
  item9_2: "PHQ-9 item 9 answered 'more than half the days' or more",
  A04: 'PHQ-9 20 or more, or GAD-7 15 or more (severe range)',
  A05: 'PHQ-9 up 5 or more (from the previous score or the episode low), GAD-7 up 4 or more, '
    + 'or a rise to 15 or more',
  A05gad: 'GAD-7 up 4 or more from the previous GAD-7, or a rise to 15 or more',
  A11: 'relapse prevention: PHQ-9 10 or more, or up 5 or more from the previous score or the '
    + 'episode low',
  A06: 'weeks on the current plan without improvement: PHQ-9 less than 50% below its score at '
    + "the plan's start, and not in remission",
  remission: 'PHQ-9 below 5: remission reached',
  response: 'PHQ-9 at least 50% below the episode baseline: response reached',
  A06b: "early weeks on an antidepressant with less than 25% reduction from the plan's start",
});

function trigger(type, variant, why) {
  return { type, variant, why };
}

/**
 * The A01 trigger of a PHQ-9's item 9, whatever else is unanswered (the rules' first, and what
 * the form shows at once): item 9 unanswered -> item9_unanswered ("ask it directly"), 1 ->
 * item9_1, 2 or 3 -> item9_2, 0 -> none.
 * @param {Array<number|null>} phq9 the PHQ-9 answers (item 9 is phq9[8]; missing = unanswered)
 * @returns {{type: 'A01', variant: string, why: string}|null}
 * @throws {SesError} BAD_SCALE when item 9 is neither null nor an integer 0..3
 */
export function item9Trigger(phq9) {
  check(Array.isArray(phq9), 'INVALID_ARG', 'phq9 must be an array');
  const v = phq9[PHQ9_ITEM9] === undefined ? null : phq9[PHQ9_ITEM9];
  check(v === null || (Number.isInteger(v) && v >= 0 && v <= SES_ITEM_MAX), 'BAD_SCALE',
    'item 9 is not 0..3');
  if (v === 0) return null;
  const variant = v === null ? 'item9_unanswered' : v === 1 ? 'item9_1' : 'item9_2';
  return trigger('A01', variant, WHY[variant]);
}

/* The usable total of a record's scale key, or -1 (absent, unusable, not a scales record). */
function usableTotal(r, key) {
  if (r.kind !== 'scales' || !has(r, key)) return -1;
  const sc = scoreScale(key, r[key]);
  return scaleUsable(sc) ? sc.total : -1;
}

/* History then latest in date order (stable: same-day records in entry order). */
function timeline(history, latest) {
  const all = [...history, latest].map((r, entry) => ({ r, day: recordDay(r, false), entry }));
  all.sort((a, b) => a.day - b.day || a.entry - b.entry);
  return { rec: all, latest: all.findIndex((d) => d.entry === history.length) };
}

/* previous, nadir, gad_previous and the recorded plan, from the records before the latest */
function scanEarlier(tl, ep) {
  for (const { r, day } of tl.rec.slice(0, tl.latest)) {
    const s = usableTotal(r, 'phq9');
    const g = usableTotal(r, 'gad7');
    if (s >= 0) {
      ep.previous = s;
      ep.nadir = ep.nadir === null || s < ep.nadir ? s : ep.nadir;
    }
    if (g >= 0) ep.gad_previous = g;
    if (r.kind === 'plan') {
      ep.plan_recorded = true;
      ep.planDay = day;
      ep.plan_antidepressant = r.antidepressant;
    }
  }
}

/* plan_start_score: the last earlier PHQ-9 on or before the plan day, else the first earlier
 * one after it, else p (the latest's own, if usable) */
function planStart(tl, p, planDay) {
  let before = -1;
  let after = -1;
  for (const { r, day } of tl.rec.slice(0, tl.latest)) {
    const s = usableTotal(r, 'phq9');
    if (s < 0) continue;
    if (day <= planDay) before = s;
    else if (after < 0) after = s;
  }
  const pss = before >= 0 ? before : after >= 0 ? after : p;
  return pss >= 0 ? pss : null;
}

/* The episode figures (episode_build); planDay and baselineDay are internal day numbers. */
function episodeBuild(tl, p) {
  const latestDay = tl.rec[tl.latest].day;
  const ep = { baseline: null, previous: null, nadir: null, gad_previous: null, planDay: null,
    plan_recorded: false, plan_antidepressant: false, plan_start_score: null, weeks_on_plan: 0 };
  const first = tl.rec.find(({ r }) => usableTotal(r, 'phq9') >= 0);
  if (first !== undefined) ep.baseline = usableTotal(first.r, 'phq9');
  scanEarlier(tl, ep);
  if (!ep.plan_recorded && first !== undefined && first.day <= latestDay) ep.planDay = first.day;
  if (ep.planDay !== null) {
    ep.plan_start_score = planStart(tl, p, ep.planDay);
    const d = latestDay - ep.planDay;
    ep.weeks_on_plan = d > 0 ? Math.trunc(d / 7) : 0;
  }
  return ep;
}

function phq9Worse(ep, p) {
  return p >= 0 && ((ep.previous !== null && p >= ep.previous + PHQ_MCID)
    || (ep.nadir !== null && p >= ep.nadir + PHQ_MCID)
    || (ep.previous !== null && ep.previous < CROSSING && p >= CROSSING));
}

function gad7Worse(ep, g) {
  return g >= 0 && ep.gad_previous !== null
    && (g >= ep.gad_previous + GAD_MCID || (ep.gad_previous < CROSSING && g >= CROSSING));
}

/* A05 (worsening; in relapse prevention the GAD-7 part only) and A11 (relapse) */
function ruleWorse(ep, p, g, rp, out) {
  if (!rp && phq9Worse(ep, p)) out.push(trigger('A05', '', WHY.A05));
  else if (gad7Worse(ep, g)) out.push(trigger('A05', '', WHY.A05gad));
  if (rp && p >= 0 && (p >= PHQ_RELAPSE || (ep.previous !== null && p >= ep.previous + PHQ_MCID)
    || (ep.nadir !== null && p >= ep.nadir + PHQ_MCID))) {
    out.push(trigger('A11', '', WHY.A11));
  }
}

function ruleA10(ep, p, out) {
  if (p < 0 || ep.baseline === null || ep.baseline <= APPLICABLE_ABOVE || ep.previous === null) {
    return;
  }
  if (p < REMISSION_BELOW && ep.previous >= REMISSION_BELOW) {
    out.push(trigger('A10', 'remission', WHY.remission));
  } else if (2 * p <= ep.baseline && 2 * ep.previous > ep.baseline) {
    out.push(trigger('A10', 'response', WHY.response));
  }
}

/* A06 (AIMS): on the plan long enough, less than 50 % better than at its start, not in
 * remission */
function ruleA06(ep, onPlan, p, cfg, out) {
  if (onPlan && p >= REMISSION_BELOW && ep.weeks_on_plan >= cfg.not_improving_weeks
    && 2 * p > ep.plan_start_score) {
    out.push(trigger('A06', '', WHY.A06));
  }
}

/* A06b: early weeks on an antidepressant with less than 25 % reduction from the plan's start */
function ruleA06b(ep, onPlan, p, cfg, out) {
  if (onPlan && p >= 0 && ep.plan_antidepressant && ep.weeks_on_plan >= cfg.early_weeks_min
    && ep.weeks_on_plan <= cfg.early_weeks_max && 4 * p > 3 * ep.plan_start_score) {
    out.push(trigger('A06b', '', WHY.A06b));
  }
}

const RULES_DEFAULTS = Object.freeze({
  not_improving_weeks: SES_NOT_IMPROVING_WEEKS_DEFAULT,
  early_weeks_min: SES_EARLY_WEEKS_MIN_DEFAULT,
  early_weeks_max: SES_EARLY_WEEKS_MAX_DEFAULT,
});

function rulesConfig(config) {
  const cfg = { ...RULES_DEFAULTS, ...(config || {}) };
  const weeks = (w) => Number.isInteger(w) && w >= 0 && w <= SES_RULES_WEEKS_MAX;
  check(weeks(cfg.not_improving_weeks) && weeks(cfg.early_weeks_min)
    && weeks(cfg.early_weeks_max) && cfg.early_weeks_min <= cfg.early_weeks_max,
  'INVALID_ARG', 'rules config weeks outside 0..520 or min > max');
  return cfg;
}

/**
 * The client-side rules of PROTOCOL.md §14 on a new scales record (ses_rules_evaluate).
 * Records are read in date order (by date, same-day ones in entry order, latest after all of
 * history); only usable scores count, an unusable PHQ-9 counts for its item 9 alone; unanswered
 * items are accepted here, even a scale with none answered.
 * @param {object[]} history the thread's earlier-entered records (scales, plan, rp_plan) in
 *   entry order, any date order
 * @param {object} latest the new scales record, entered after all of history
 * @param {boolean} relapsePrevention the thread's phase is relapse_prevention
 * @param {{not_improving_weeks?: number, early_weeks_min?: number, early_weeks_max?: number}}
 *   [config] absent fields take the defaults (10, 4, 6)
 * @returns {{triggers: Array<{type: string, variant: string, why: string}>, episode: {
 *   baseline: number|null, previous: number|null, nadir: number|null,
 *   gad_previous: number|null, plan_day: string|null, plan_recorded: boolean,
 *   plan_antidepressant: boolean, plan_start_score: number|null, weeks_on_plan: number,
 *   change: object}}} triggers most urgent first: A01, A04, A05, A11, A06, A10, A06b; change is
 *   changeCompute(baseline, P), all false with pct 0 when P is unusable or there is no baseline
 * @throws {SesError} INVALID_ARG (history not an array, latest not a scales record,
 *   relapsePrevention not a boolean, a bad config), BAD_SCALE (a malformed record)
 */
export function rules(history, latest, relapsePrevention, config) {
  check(Array.isArray(history) && typeof relapsePrevention === 'boolean', 'INVALID_ARG',
    'history must be an array and relapsePrevention a boolean');
  const cfg = rulesConfig(config);
  check(latest !== null && typeof latest === 'object' && latest.kind === 'scales', 'INVALID_ARG',
    'latest must be a scales record');
  check(recordDay(latest, false) >= 0, 'BAD_SCALE', 'latest is not a valid record');
  check(history.every((r) => recordDay(r, false) >= 0), 'BAD_SCALE', 'a record is not valid');
  const p = usableTotal(latest, 'phq9');
  const g = usableTotal(latest, 'gad7');
  const { planDay, ...ep } = episodeBuild(timeline(history, latest), p);
  const episode = { ...ep, plan_day: planDay === null ? null : dayFormat(planDay),
    change: p >= 0 && ep.baseline !== null ? changeCompute(ep.baseline, p) : { ...NO_CHANGE } };
  const triggers = [];
  const a01 = has(latest, 'phq9') ? item9Trigger(latest.phq9) : null;
  if (a01 !== null) triggers.push(a01);
  if (p >= PHQ_SEVERE || g >= GAD_SEVERE) triggers.push(trigger('A04', '', WHY.A04));
  ruleWorse(episode, p, g, relapsePrevention, triggers);
  const onPlan = planDay !== null && episode.plan_start_score !== null;
  ruleA06(episode, onPlan, p, cfg, triggers);
  ruleA10(episode, p, triggers);
  ruleA06b(episode, onPlan, p, cfg, triggers);
  return { triggers: triggers.slice(0, SES_TRIGGERS_MAX), episode };
}

/**
 * A record's day number (days since 1970-01-01), for callers that order records.
 * @param {object} record
 * @returns {number}
 * @throws {SesError} BAD_SCALE when it is not a record the rules accept
 */
export function recordDayOf(record) {
  const day = recordDay(record, false);
  if (day < 0) throw new SesError('BAD_SCALE', 'not a valid record');
  return day;
}
