// recommend.js - the psychiatrist's structured recommendation (content type 5) and the patient
// card (content type 6) of PROTOCOL.md §16, ported from protocol/src/recommend.c so that the web
// client writes byte for byte the bodies the CLI writes and accepts and refuses exactly the bodies
// it accepts and refuses; protocol/vectors/recommend.json pins it. Pure, no DOM.
//
// A RecDoc is struct ses_rec_doc: {day, reviewDay (-1: ad hoc), urgent, questionCode, question,
// dataBasis, safety, diagnosis, items: [{type, drug, dose, titration, monitoring, text}],
// narrative, contingency, nextReviewDay, disclaimer}; a PatientCard is struct ses_patient_card:
// {day, birthName, givenNames, firstGiven, usedName, birthDay, sex, insKind, ins, birthPlace}.
// Days are days since 1970-01-01 (UTC); codes and types are their wire names; strings are ''
// when absent (undefined is read as ''). Lengths are counted in UTF-8 bytes, as in C.

import { SesError } from './errors.js';
import { bodyBytes, strictJsonParse, utf8Encode, utf8Length, wellFormed } from './json.js';
import { SES_DAY_MAX, SES_DAY_MIN, dayFormat, dayParse } from './scales.js';

export const REC_BODY_MAX = 16384; // bytes of an encoded recommendation or card body
export const REC_ITEMS_MAX = 20; // numbered items of one recommendation
export const REC_TEXT_MAX = 1000; // question, safety, diagnosis, contingency, item texts
export const REC_LONG_MAX = 2000; // data basis, narrative, disclaimer
export const REC_SHORT_MAX = 120; // drug, dose; card names
export const REC_LIST_MAX = 500; // recommendations one `recs` reply lists
export const INS_LEN = 15; // characters of an INS

/** Item types (enum ses_rec_item_type), wire names in enum order (1..10). */
export const ITEM_TYPES = Object.freeze([
  'MED_START', 'MED_DOSE_CHANGE', 'MED_SWITCH', 'MED_AUGMENT', 'MED_STOP', 'LAB',
  'PSYCHOTHERAPY', 'REFERRAL', 'GP_VISIT', 'MONITORING',
]);
/** Question codes (enum ses_rec_question), wire names in enum order (1..6). */
export const QUESTION_CODES = Object.freeze([
  'new_patient', 'not_improving', 'safety', 'request', 'decision_point', 'other',
]);
/** The loop's states (enum ses_rec_state), wire names in enum order (1..8). */
export const REC_STATES = Object.freeze([
  'sent', 'acknowledged', 'accepted', 'modified', 'declined', 'implemented', 'verified',
  'superseded',
]);
/** INS kinds (enum ses_ins_kind) in enum order: 'none' is no INS. */
export const INS_KINDS = Object.freeze(['none', 'nir', 'nia', 'nir_test', 'nia_test']);

const INS_OIDS = Object.freeze({
  nir: '1.2.250.1.213.1.4.8',
  nia: '1.2.250.1.213.1.4.9',
  nir_test: '1.2.250.1.213.1.4.10',
  nia_test: '1.2.250.1.213.1.4.11',
});

/** The standard disclaimer (ses_rec_disclaimer_default), for a form to fill in. */
export const DISCLAIMER_DEFAULT = 'These recommendations rest on the care manager\'s presentation '
  + 'and the registry information; the psychiatric consultant has not examined the patient. This '
  + 'indirect consultation creates no physician-patient relationship: the treating physician '
  + 'decides and prescribes.';

/* ses_rec_body_problem's words for a body that is not one object, and for a part missing or of
 * the wrong type. */
const NOT_OBJECT = 'it is not one JSON object within 16384 bytes';
const BAD_PART = 'a part is missing or of the wrong type (v 1, kind "recommendation", texts are '
  + 'strings, dates YYYY-MM-DD, urgency routine or urgent, items an array of objects with a '
  + 'known type)';
const TOO_LARGE = 'the body would be over 16384 bytes';

/** What this module throws: `code` is the err.h name the C function returns, `problem` its
 * words (null when C has none), `field` the RecDoc or PatientCard field at fault, when known. */
export class RecError extends SesError {
  /**
   * @param {string} code e.g. 'BAD_FIELD', 'TOO_LARGE', 'INVALID_ARG'
   * @param {string|null} [problem] the reason in words
   * @param {string} [field] e.g. 'question', 'items[2].drug'
   */
  constructor(code, problem = null, field = undefined) {
    super(code, problem ?? undefined);
    this.name = 'RecError';
    this.problem = problem;
    if (field !== undefined) this.field = field;
  }
}

/* --- names ------------------------------------------------------------------------------- */

/**
 * Whether an item type is a medication item (MED_*): drug required, and dose but for MED_STOP.
 * @param {string} type a wire name
 * @returns {boolean}
 */
export function isMedItem(type) {
  return ITEM_TYPES.indexOf(type) >= 0 && ITEM_TYPES.indexOf(type) <= 4;
}

/**
 * The OID of an INS kind (ses_ins_oid), e.g. 'nir' -> '1.2.250.1.213.1.4.8'.
 * @param {string} kind a name of INS_KINDS
 * @returns {string|null} null for 'none' or an unknown kind
 */
export function insOid(kind) {
  return Object.hasOwn(INS_OIDS, kind) ? INS_OIDS[kind] : null;
}

/**
 * The INS kind of an OID (ses_ins_kind_of_oid).
 * @param {string} oid
 * @returns {string} a name of INS_KINDS; 'none' for an unknown OID
 */
export function insKindOfOid(oid) {
  return Object.keys(INS_OIDS).find((k) => INS_OIDS[k] === oid) ?? 'none';
}

/**
 * Whether ins is an INS with a valid key (ses_ins_valid): 15 digits (2A/2B allowed in positions
 * 6-7 for Corsica, read as 19 and 18) whose last two are 97 - (the first 13 mod 97).
 * @param {string} ins
 * @returns {boolean}
 */
export function insValid(ins) {
  if (typeof ins !== 'string' || ins.length !== INS_LEN) return false;
  let d = ins;
  if (d[5] === '2' && (d[6] === 'A' || d[6] === 'B')) {
    d = `${d.slice(0, 5)}1${d[6] === 'A' ? '9' : '8'}${d.slice(7)}`;
  }
  if (!/^[0-9]{15}$/.test(d)) return false;
  let mod = 0;
  for (let i = 0; i < 13; i++) mod = (mod * 10 + Number(d[i])) % 97;
  return Number(d.slice(13)) === 97 - mod;
}

/* --- checks ------------------------------------------------------------------------------ */

const str = (v) => (v === undefined ? '' : v);

/* text_ok: a string of 0..max UTF-8 bytes (at least one when required), without U+0000 or a
 * lone surrogate (what C cannot hold as UTF-8). */
function textOk(v, max, required) {
  const s = str(v);
  if (typeof s !== 'string' || !wellFormed(s) || s.includes('\0')) return false;
  const n = utf8Length(s);
  return n <= max && (!required || n > 0);
}

function dayOk(day) {
  return Number.isInteger(day) && day >= SES_DAY_MIN && day <= SES_DAY_MAX;
}

const bad = (problem, field) => ({ code: 'BAD_FIELD', problem, field });

/* item_problem, with the field at fault. */
function itemProblem(it, i) {
  const f = (k) => `items[${i}].${k}`;
  if (it === null || typeof it !== 'object' || !ITEM_TYPES.includes(it.type)) {
    return bad('an item has an unknown type', f('type'));
  }
  for (const k of ['drug', 'dose']) {
    if (!textOk(it[k], REC_SHORT_MAX, false)) {
      return bad('an item\'s drug or dose is too long (120 bytes at most) or not UTF-8', f(k));
    }
  }
  for (const k of ['titration', 'monitoring', 'text']) {
    if (!textOk(it[k], REC_TEXT_MAX, false)) {
      return bad('an item\'s titration, monitoring or text is too long (1000 bytes at most) or '
        + 'not UTF-8', f(k));
    }
  }
  const med = isMedItem(it.type);
  if (med && str(it.drug) === '') return bad('a medication item has no drug', f('drug'));
  if (med && it.type !== 'MED_STOP' && str(it.dose) === '') {
    return bad('a medication item (but MED_STOP) has no dose', f('dose'));
  }
  if (!med && str(it.text) === '') {
    return bad('an item that is not a medication has no text', f('text'));
  }
  return null;
}

/* The texts of a RecDoc in the order ses_rec_doc_problem checks them. */
const DOC_TEXTS = [
  ['question', REC_TEXT_MAX, true,
    'the question addressed is missing or too long (1000 bytes at most)'],
  ['dataBasis', REC_LONG_MAX, true, 'the data basis is missing or too long (2000 bytes at most)'],
  ['safety', REC_TEXT_MAX, true,
    'the safety statement is missing or too long (1000 bytes at most)'],
  ['diagnosis', REC_TEXT_MAX, false, 'the diagnosis is too long (1000 bytes at most)'],
  ['narrative', REC_LONG_MAX, false, 'the narrative is too long (2000 bytes at most)'],
  ['contingency', REC_TEXT_MAX, true,
    'the contingency plan is missing or too long (1000 bytes at most)'],
  ['disclaimer', REC_LONG_MAX, true, 'the disclaimer is missing or too long (2000 bytes at most)'],
];

/**
 * Whether a recommendation may be sent (ses_rec_doc_check / ses_rec_doc_problem): null, or the
 * first reason in C's words with the field at fault. What C cannot hold is refused too: a
 * document that is not an object, items that are not an array and an urgent that is not a
 * boolean are INVALID_ARG.
 * @param {object} doc a RecDoc
 * @returns {null|{code: string, problem: string, field: string}}
 */
export function recDocCheck(doc) {
  if (doc === null || typeof doc !== 'object') {
    return { code: 'INVALID_ARG', problem: 'no recommendation', field: '' };
  }
  if (typeof doc.urgent !== 'boolean') {
    return { code: 'INVALID_ARG', problem: 'urgent is true or false', field: 'urgent' };
  }
  if (!Array.isArray(doc.items)) {
    return { code: 'INVALID_ARG', problem: 'the items are an array', field: 'items' };
  }
  if (!dayOk(doc.day)) return bad('its date or review date is out of range', 'day');
  if (doc.reviewDay !== -1 && !dayOk(doc.reviewDay)) {
    return bad('its date or review date is out of range', 'reviewDay');
  }
  if (!dayOk(doc.nextReviewDay) || doc.nextReviewDay < doc.day) {
    return bad('the next review date is missing or before the recommendation\'s date',
      'nextReviewDay');
  }
  if (!QUESTION_CODES.includes(doc.questionCode)) {
    return bad('the question code is not one of new_patient, not_improving, safety, request, '
      + 'decision_point, other', 'questionCode');
  }
  for (const [k, max, required, words] of DOC_TEXTS) {
    if (!textOk(doc[k], max, required)) return bad(words, k);
  }
  if (doc.items.length > REC_ITEMS_MAX) return bad('more than 20 items', 'items');
  if (doc.items.length === 0 && str(doc.narrative) === '') {
    return bad('no item and no narrative', 'items');
  }
  for (let i = 0; i < doc.items.length; i++) {
    const why = itemProblem(doc.items[i], i);
    if (why !== null) return why;
  }
  return null;
}

/* The card's checks in the order of ses_patient_card_check (C has no words for them: these are
 * the web client's). */
const CARD_NAMES = [
  ['birthName', true, 'the birth name is missing or too long (120 bytes at most)'],
  ['givenNames', true, 'the birth given names are missing or too long (120 bytes at most)'],
  ['firstGiven', true, 'the first given name is missing or too long (120 bytes at most)'],
  ['usedName', false, 'the used name is too long (120 bytes at most)'],
];

/**
 * Whether a patient card may be sent (ses_patient_card_check): null, or the first reason with
 * the field at fault (C has only the code; the words are the web client's).
 * @param {object} card a PatientCard
 * @returns {null|{code: string, problem: string, field: string}}
 */
export function patientCardCheck(card) {
  if (card === null || typeof card !== 'object') {
    return { code: 'INVALID_ARG', problem: 'no patient card', field: '' };
  }
  if (!dayOk(card.day)) return bad('the date entered is out of range', 'day');
  if (!dayOk(card.birthDay) || card.birthDay > card.day) {
    return bad('the birth date is missing, out of range or after the date entered', 'birthDay');
  }
  for (const [k, required, words] of CARD_NAMES) {
    if (!textOk(card[k], REC_SHORT_MAX, required)) return bad(words, k);
  }
  if (!['F', 'M', 'U'].includes(card.sex)) return bad('the sex is not F, M or U', 'sex');
  const ins = str(card.ins);
  if (card.insKind === 'none') {
    if (ins !== '') return bad('an INS needs its kind (its OID)', 'ins');
  } else if (insOid(card.insKind) === null) {
    return bad('the INS kind is not one of none, nir, nia, nir_test, nia_test', 'insKind');
  } else if (!insValid(ins)) {
    return bad('the INS is not 15 characters with a valid key', 'ins');
  }
  const bp = str(card.birthPlace);
  if (typeof bp !== 'string' || !/^(?:[0-9][0-9AB][0-9]{3})?$/.test(bp)) {
    return bad('the birth place is not a 5-character INSEE code', 'birthPlace');
  }
  return null;
}

/* --- encoding ---------------------------------------------------------------------------- */

const SHORT_ESCAPES = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };

/* A JSON string as jansson's json_dumps writes it: '"' and '\' escaped, control characters as
 * \b \t \n \f \r or \u00XX (upper-case hex), everything else (DEL, U+2028, non-ASCII) as is. */
function jsonString(s) {
  return `"${s.replace(/["\\\u0000-\u001f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (c === '"' || c === '\\') return `\\${c}`;
    return SHORT_ESCAPES[code] ?? `\\u${code.toString(16).toUpperCase().padStart(4, '0')}`;
  })}"`;
}

const member = (key, s) => `,"${key}":${jsonString(s)}`;
const optional = (key, s) => (str(s) === '' ? '' : member(key, s));

/**
 * The one-line summary of a recommendation (ses_rec_doc_line), e.g.
 * "Recommendation of 2026-12-03 (urgent): 2 items".
 * @param {object} doc a RecDoc
 * @returns {string}
 */
export function recDocLine(doc) {
  const n = doc.items.length;
  return `Recommendation of ${dayFormat(doc.day)}${doc.urgent ? ' (urgent)' : ''}: ${n} item${
    n === 1 ? '' : 's'}`;
}

function checked(why) {
  if (why !== null) throw new RecError(why.code, why.problem, why.field);
}

function sized(body) {
  const bytes = utf8Encode(body);
  if (bytes.length > REC_BODY_MAX) throw new RecError('TOO_LARGE', TOO_LARGE);
  return bytes;
}

function itemBody(it) {
  return `{"type":${jsonString(it.type)}${optional('drug', it.drug)}${optional('dose', it.dose)}${
    optional('titration', it.titration)}${optional('monitoring', it.monitoring)}${
    optional('text', it.text)}}`;
}

/**
 * Encodes a recommendation as its content-type-5 body (ses_rec_doc_encode): compact JSON, keys
 * in the order of PROTOCOL.md §16, absent optional parts left out, and the "text" summary line;
 * byte for byte the C encoder's.
 * @param {object} doc a RecDoc
 * @returns {Uint8Array}
 * @throws {RecError} BAD_FIELD (recDocCheck, with problem and field), TOO_LARGE (over
 *   REC_BODY_MAX bytes), INVALID_ARG
 */
export function encodeRecDoc(doc) {
  checked(recDocCheck(doc));
  let b = `{"v":1,"kind":"recommendation","date":"${dayFormat(doc.day)}"`;
  if (doc.reviewDay >= 0) b += `,"review_date":"${dayFormat(doc.reviewDay)}"`;
  b += `,"urgency":"${doc.urgent ? 'urgent' : 'routine'}","question_code":"${doc.questionCode}"`;
  b += member('question', doc.question) + member('data_basis', doc.dataBasis)
    + member('safety', doc.safety) + optional('diagnosis', doc.diagnosis);
  b += `,"items":[${doc.items.map(itemBody).join(',')}]`;
  b += optional('narrative', doc.narrative) + member('contingency', doc.contingency);
  b += `,"next_review":"${dayFormat(doc.nextReviewDay)}"${member('disclaimer', doc.disclaimer)}`;
  b += `${member('text', recDocLine(doc))}}`;
  return sized(b);
}

/**
 * Encodes a patient card as its content-type-6 body (ses_patient_card_encode), byte for byte.
 * @param {object} card a PatientCard
 * @returns {Uint8Array}
 * @throws {RecError} BAD_FIELD (patientCardCheck, with problem and field), TOO_LARGE,
 *   INVALID_ARG
 */
export function encodePatientCard(card) {
  checked(patientCardCheck(card));
  const withIns = card.insKind !== 'none';
  let b = `{"v":1,"kind":"patient_card","date":"${dayFormat(card.day)}"`;
  b += member('birth_name', card.birthName) + member('given_names', card.givenNames)
    + member('first_given', card.firstGiven) + optional('used_name', card.usedName);
  b += `,"birth_date":"${dayFormat(card.birthDay)}","sex":"${card.sex}"`;
  if (withIns) b += `${member('ins', card.ins)}${member('ins_oid', insOid(card.insKind))}`;
  b += optional('birth_place', card.birthPlace);
  b += `${member('text', withIns ? 'Patient card (with INS)' : 'Patient card (no INS)')}}`;
  return sized(b);
}

/* --- parsing ----------------------------------------------------------------------------- */

/* Signals a part missing or of the wrong type inside the readers below. */
class PartError extends Error {}

const part = (ok) => {
  if (!ok) throw new PartError();
};

/* get_text: absent: '' (refused when required); present: a string of at most max bytes (and at
 * least one when required). */
function getText(o, key, max, required) {
  if (!o.has(key)) {
    part(!required);
    return '';
  }
  const v = o.get(key);
  part(typeof v === 'string' && utf8Length(v) <= max && (!required || v.length > 0));
  return v;
}

/* get_day: absent: -1 (refused when required); present: a string ses_day_parse accepts. */
function getDay(o, key, required) {
  if (!o.has(key)) {
    part(!required);
    return -1;
  }
  const v = o.get(key);
  part(typeof v === 'string');
  try {
    return dayParse(v);
  } catch {
    throw new PartError();
  }
}

function header(root, kind) {
  part(root.get('v') === 1n && root.get('kind') === kind && typeof root.get('text') === 'string');
}

/* load_body: one JSON object within REC_BODY_MAX bytes, read as jansson reads it. */
function loadBody(body, problem) {
  const bytes = bodyBytes(body);
  let root = null;
  if (bytes !== null && bytes.length > 0 && bytes.length <= REC_BODY_MAX) {
    try {
      root = strictJsonParse(bytes, 'BAD_FIELD');
    } catch {
      root = null;
    }
  }
  if (!(root instanceof Map)) throw new RecError('BAD_FIELD', problem);
  return root;
}

function parseItem(o) {
  part(o instanceof Map && typeof o.get('type') === 'string' && ITEM_TYPES.includes(o.get('type')));
  return {
    type: o.get('type'),
    drug: getText(o, 'drug', REC_SHORT_MAX, false),
    dose: getText(o, 'dose', REC_SHORT_MAX, false),
    titration: getText(o, 'titration', REC_TEXT_MAX, false),
    monitoring: getText(o, 'monitoring', REC_TEXT_MAX, false),
    text: getText(o, 'text', REC_TEXT_MAX, false),
  };
}

/* parse_doc: the RecDoc of a root object, or PartError. */
function docOfRoot(root) {
  header(root, 'recommendation');
  const urgency = root.get('urgency');
  const questionCode = root.get('question_code');
  part(typeof urgency === 'string' && typeof questionCode === 'string');
  part(urgency === 'urgent' || urgency === 'routine');
  const doc = {
    day: getDay(root, 'date', true),
    reviewDay: getDay(root, 'review_date', false),
    urgent: urgency === 'urgent',
    questionCode,
  };
  const nextReviewDay = getDay(root, 'next_review', true);
  doc.question = getText(root, 'question', REC_TEXT_MAX, true);
  doc.dataBasis = getText(root, 'data_basis', REC_LONG_MAX, true);
  doc.safety = getText(root, 'safety', REC_TEXT_MAX, true);
  doc.diagnosis = getText(root, 'diagnosis', REC_TEXT_MAX, false);
  const narrative = getText(root, 'narrative', REC_LONG_MAX, false);
  const contingency = getText(root, 'contingency', REC_TEXT_MAX, true);
  const disclaimer = getText(root, 'disclaimer', REC_LONG_MAX, true);
  const items = root.get('items');
  part(Array.isArray(items) && items.length <= REC_ITEMS_MAX);
  doc.items = items.map(parseItem);
  Object.assign(doc, { narrative, contingency, nextReviewDay, disclaimer });
  return doc;
}

/**
 * Parses a content-type-5 body (ses_rec_doc_parse): any key order and layout, unknown keys
 * ignored; refused, as by C: empty or over REC_BODY_MAX bytes, not one strict JSON object
 * (json.js), nested deeper than 16, a duplicate key, a part missing or of the wrong type, or a
 * document recDocCheck refuses.
 * @param {Uint8Array|ArrayBuffer|string} bytes the body (text is taken as its UTF-8)
 * @returns {object} the RecDoc, every string present ('' when absent)
 * @throws {RecError} BAD_FIELD with problem = ses_rec_body_problem's words (and field, when
 *   recDocCheck names one)
 */
export function parseRecDoc(bytes) {
  const root = loadBody(bytes, NOT_OBJECT);
  let doc;
  try {
    doc = docOfRoot(root);
  } catch (e) {
    if (e instanceof PartError) throw new RecError('BAD_FIELD', BAD_PART);
    throw e;
  }
  const why = recDocCheck(doc);
  if (why !== null) throw new RecError('BAD_FIELD', why.problem, why.field);
  return doc;
}

/* parse_card: the PatientCard of a root object, or PartError. */
function cardOfRoot(root) {
  header(root, 'patient_card');
  const card = { day: getDay(root, 'date', true) };
  const birthDay = getDay(root, 'birth_date', true);
  card.birthName = getText(root, 'birth_name', REC_SHORT_MAX, true);
  card.givenNames = getText(root, 'given_names', REC_SHORT_MAX, true);
  card.firstGiven = getText(root, 'first_given', REC_SHORT_MAX, true);
  card.usedName = getText(root, 'used_name', REC_SHORT_MAX, false);
  const sex = getText(root, 'sex', 3, true);
  const ins = getText(root, 'ins', INS_LEN, false);
  const oid = getText(root, 'ins_oid', 31, false);
  const birthPlace = getText(root, 'birth_place', 5, false);
  part(utf8Length(sex) === 1);
  const insKind = insKindOfOid(oid);
  part((oid === '') === (ins === '') && (oid === '' || insKind !== 'none'));
  return Object.assign(card, { birthDay, sex, insKind, ins, birthPlace });
}

/**
 * Parses a content-type-6 body (ses_patient_card_parse): as parseRecDoc, with `ins` and
 * `ins_oid` together or neither, and a card patientCardCheck accepts.
 * @param {Uint8Array|ArrayBuffer|string} bytes the body
 * @returns {object} the PatientCard
 * @throws {RecError} BAD_FIELD (problem null but for what patientCardCheck refuses: its words
 *   and field)
 */
export function parsePatientCard(bytes) {
  const root = loadBody(bytes, null);
  let card;
  try {
    card = cardOfRoot(root);
  } catch (e) {
    if (e instanceof PartError) throw new RecError('BAD_FIELD', null);
    throw e;
  }
  const why = patientCardCheck(card);
  if (why !== null) throw new RecError('BAD_FIELD', why.problem, why.field);
  return card;
}
